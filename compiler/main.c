/*
 * main.c - the nnc driver. The pipeline reads like a recipe:
 *
 *   parse -> sema -> lower -> autodiff -> passes -> emit
 *
 * Nothing is written unless every stage succeeded; the output file is
 * written to a temporary name and renamed into place, so a failed run
 * never leaves a half-written file.
 */
#include "nnc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct Opts {
	const char *input;
	const char *output;
	const char *emit;       /* c, ir, grad, dot */
	const char *dump_after; /* a pass name, or "all" */
	int opt;
	bool f64;
	bool check;
	bool summary;
	char flags[256];
} Opts;

typedef struct Pass {
	const char *name;
	void (*run)(Graph *g);
} Pass;

static const Pass passes[] = {
	{"simplify", simplify},
	{"constfold", constfold},
	{"cse", cse},
	{"dce", dce},
	{"simplify", simplify},
	{"cse", cse},
	{"dce", dce},
	{"fuse", fuse},
};

static void usage(FILE *f)
{
	fputs("usage: nnc [options] MODEL.nn\n"
	      "  -o FILE            write the output to FILE (default: stdout)\n"
	      "  -O0, -O1, -O2      optimization level (default -O1; -O2 is -O1 "
	      "for now)\n"
	      "  --emit=c|ir|grad|dot  C (default), the forward IR, the IR with "
	      "gradients,\n"
	      "                     or the training graph as Graphviz\n"
	      "  --precision=f32|f64  the C type of every tensor (f64 for "
	      "gradient checks)\n"
	      "  --check            diagnostics only, write nothing\n"
	      "  --summary          print the model's layers and tensors\n"
	      "  --dump-after=PASS  print the training IR after PASS (or 'all') "
	      "to stderr\n"
	      "  --version, --help\n", f);
}

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "nnc: error: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(see nnc --help)\n");
	return 2;
}

/* --dump-after takes a pass's name or "all"; anything else is an error
 * that lists them. */
static int check_dump_after(const char *name)
{
	char list[256] = "all";
	size_t n = strlen(list);
	bool known = !strcmp(name, "all");
	for (size_t i = 0; i < sizeof(passes) / sizeof(passes[0]); i++) {
		known |= !strcmp(name, passes[i].name);
		bool seen = false;
		for (size_t j = 0; j < i; j++)
			seen |= !strcmp(passes[j].name, passes[i].name);
		if (!seen)
			n += snprintf(list + n, sizeof(list) - n, ", %s",
				      passes[i].name);
	}
	if (known)
		return 0;
	fprintf(stderr, "nnc: error: unknown pass '%s' for --dump-after (%s)\n"
		"(see nnc --help)\n", name, list);
	return 2;
}

static int parse_args(Opts *o, int argc, char **argv)
{
	size_t fl = 0;
	o->opt = 1;
	o->emit = "c";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-o")) {
			if (++i == argc)
				return bad_usage("-o needs a file name%s", "");
			o->output = argv[i];
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		}
		if (!strcmp(a, "--version")) {
			printf("nnc %s\n", NNC_VERSION);
			exit(0);
		}
		if (!strcmp(a, "-O0") || !strcmp(a, "-O1") || !strcmp(a, "-O2"))
			o->opt = a[2] - '0';
		else if (!strncmp(a, "--emit=", 7))
			o->emit = a + 7;
		else if (!strcmp(a, "--precision=f64") || !strcmp(a, "--precision=f32"))
			o->f64 = !strcmp(a + 12, "f64");
		else if (!strcmp(a, "--check"))
			o->check = true;
		else if (!strcmp(a, "--summary"))
			o->summary = true;
		else if (!strncmp(a, "--dump-after=", 13))
			o->dump_after = a + 13;
		else if (a[0] == '-' && a[1])
			return bad_usage("unknown option '%s'", a);
		else if (o->input)
			return bad_usage("more than one input file ('%s')", a);
		else
			o->input = a;
		if (a[0] == '-' && fl + strlen(a) + 2 < sizeof(o->flags))
			fl += snprintf(o->flags + fl, sizeof(o->flags) - fl, "%s%s",
				       fl ? " " : "", a);
	}
	if (!o->input)
		return bad_usage("no input file%s", "");
	if (strcmp(o->emit, "c") && strcmp(o->emit, "ir") &&
	    strcmp(o->emit, "grad") && strcmp(o->emit, "dot"))
		return bad_usage("unknown --emit kind '%s' (c, ir, grad or dot)",
				 o->emit);
	if (o->dump_after && check_dump_after(o->dump_after))
		return 2;
	snprintf(o->flags + fl, sizeof(o->flags) - fl, "%s-O%d --precision=%s",
		 fl ? "; effective " : "", o->opt, o->f64 ? "f64" : "f32");
	return 0;
}

static void optimize(Graph *g, const Opts *o, const char *gname)
{
	ir_verify(g);
	if (o->opt == 0)
		return;
	for (size_t i = 0; i < sizeof(passes) / sizeof(passes[0]); i++) {
		passes[i].run(g);
		ir_verify(g);
		if (o->dump_after && (!strcmp(o->dump_after, passes[i].name) ||
				      !strcmp(o->dump_after, "all"))) {
			fprintf(stderr, "; graph %s after %s\n", gname,
				passes[i].name);
			ir_print(stderr, g);
		}
	}
}

static void print_summary(FILE *f, Model *m)
{
	char buf[64];
	fprintf(f, "model %s (%s)\n", m->name, m->file);
	fprintf(f, "  %-12s %-12s %-14s %10s\n", "layer", "kind", "shape",
		"params");
	for (int i = 0; i < m->nlayers; i++) {
		Layer *l = &m->layers[i];
		fprintf(f, "  %-12s %-12s %-14s %10ld\n", l->name, l->kind,
			shape_user_str(l->shape, buf, sizeof(buf)), l->params);
	}
	fprintf(f, "  tensors:\n");
	for (int i = 0; i < m->ntensors; i++)
		fprintf(f, "    %-16s %-12s\n", m->tensors[i].name,
			shape_user_str(m->tensors[i].shape, buf, sizeof(buf)));
	fprintf(f, "  %ld parameters\n", m->nparams);
}

/* Writes the generated text to path through a temporary file. */
static int write_output(const char *path, const char *text, size_t len)
{
	if (!path || !strcmp(path, "-")) {
		fwrite(text, 1, len, stdout);
		return fflush(stdout) ? 1 : 0;
	}
	size_t n = strlen(path) + 16;
	char *tmp = xmalloc(n);
	snprintf(tmp, n, "%s.tmpXXXXXX", path);
	int fd = mkstemp(tmp);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	bool ok = f && fwrite(text, 1, len, f) == len;
	ok = f && fclose(f) == 0 && ok;
	if (ok && rename(tmp, path) != 0)
		ok = false;
	if (!ok) {
		fprintf(stderr, "nnc: error: cannot write '%s': %s\n", path,
			strerror(errno));
		if (fd >= 0)
			unlink(tmp);
	}
	free(tmp);
	return ok ? 0 : 1;
}

/* The output text of a checked model, from a memory stream (malloc'd;
 * its length in *len). */
static char *generate(Model *m, const Opts *o, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	EmitOpts eo = {o->opt, o->f64, o->flags};
	if (!strcmp(o->emit, "c")) {
		emit_c(f, m, &eo);
	} else if (!strcmp(o->emit, "ir")) {
		fprintf(f, "; graph eval: per-sample loss and outputs\n");
		ir_print(f, m->eval_g);
		fprintf(f, "; graph predict: outputs only\n");
		ir_print(f, m->pred_g);
	} else if (!strcmp(o->emit, "dot")) {
		dot_print(f, m->train_g, arena_printf(&m->train_g->arena,
			  "%s: training graph (forward, backward shaded, fused "
			  "groups boxed)", m->name));
	} else {
		fprintf(f, "; graph train: batch-mean loss and its gradients\n");
		ir_print(f, m->train_g);
	}
	fclose(f);
	return text;
}

/* Everything after parsing: sema -> lower -> autodiff -> passes -> plan
 * -> emit. Returns the output text (malloc'd), or NULL after errors and
 * with --check. */
static char *translate(Program *p, const Opts *o, Arena *a, Diag *d,
		       size_t *len)
{
	Checked c;
	Model *m = sema(p, a, d, &c);
	if (m && o->summary)
		print_summary(stdout, m);
	if (!m || o->check) {
		if (m)
			sema_free(m, &c);
		return NULL;
	}
	lower(m, &c);
	if (o->opt > 0) {
		fuse_ops(m->train_g);
		fuse_ops(m->eval_g);
	}
	autodiff(m->train_g, m);
	optimize(m->train_g, o, "train");
	optimize(m->eval_g, o, "eval");
	optimize(m->pred_g, o, "predict");
	plan(m, o->f64);
	char *text = generate(m, o, len);
	plan_free_all(m);
	ir_free(m->train_g);
	ir_free(m->eval_g);
	ir_free(m->pred_g);
	sema_free(m, &c);
	return text;
}

static int compile(const Opts *o)
{
	Arena a = {0};
	Diag d;
	size_t len = 0;
	diag_init(&d, stderr);
	Program *p = parse_file(o->input, &a, &d);
	char *text = p && !d.nerrors ? translate(p, o, &a, &d, &len) : NULL;
	int rc = text ? write_output(o->output, text, len)
		      : o->check && !d.nerrors && p ? 0 : 1;
	free(text);
	if (d.nerrors)
		fprintf(stderr, "%d error%s generated.\n", d.nerrors,
			d.nerrors == 1 ? "" : "s");
	diag_free(&d);
	arena_free(&a);
	return rc;
}

int main(int argc, char **argv)
{
	Opts o = {0};
	int rc = parse_args(&o, argc, argv);
	if (rc)
		return rc;
	return compile(&o);
}
