/*
 * emit.c - the generated C file.
 *
 * requires: the three graphs of a Model, optimized and planned (plan.c:
 * the kernels in call order, the C name and workspace offset of every
 * stored value); this file only prints those decisions.
 *
 * Layout of the output: header comment, includes, the parameter table as
 * a comment, then for each graph (train, eval, pred) its kernels and its
 * entry function, then the optimizer update, the schedule, the descriptor
 * the runtime reads, and main(). Parameters and gradients are slices of
 * the flat buffers the runtime passes, every other stored value a slice
 * of the workspace. Nothing is allocated while training.
 */
#include "nnc.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct Fn {
	Emitter *E;
	Graph *g;
	const char *name;     /* "grad", "eval", "predict" */
	Plan *P;              /* its kernels and memory (plan.c) */
} Fn;

/* ---- text helpers ------------------------------------------------- */

void emit(Emitter *E, const char *fmt, ...)
{
	va_list ap;
	for (int i = 0; i < E->indent; i++)
		fputc('\t', E->f);
	va_start(ap, fmt);
	vfprintf(E->f, fmt, ap);
	va_end(ap);
	fputc('\n', E->f);
}

/* A literal of type real. The IR's constants come from the program, in
 * the range of a float (sema), or from folding them, which may leave
 * it: a result beyond the type's range is INFINITY, as the arithmetic
 * would give, and one that rounds to zero is zero, so no literal ever
 * overflows or underflows (-Werror). */
const char *emit_lit(Emitter *E, double v)
{
	char buf[64];
	double max = E->o->f64 ? DBL_MAX : FLT_MAX;
	if (isnan(v))
		return "NAN";
	if (fabs(v) > max)
		return v < 0 ? "(-INFINITY)" : "INFINITY";
	if (!E->o->f64 && (float)v == 0)
		v = 0;
	if (fabs(v) < 1e15 && v == (long)v)
		snprintf(buf, sizeof(buf), "%ld.0", (long)v);
	else
		snprintf(buf, sizeof(buf), E->o->f64 ? "%.17g" : "%.9g", v);
	if (!strpbrk(buf, ".en"))
		strcat(buf, ".0");
	if (!E->o->f64)
		strcat(buf, "f");
	if (v < 0)
		return arena_printf(&E->arena, "(%s)", buf);
	return arena_strdup(&E->arena, buf);
}

const char *emit_basename(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* User text (a path, a file name, a statement) made safe for C: every
 * byte outside printable ASCII as a three-digit octal escape, and no
 * trigraph (`??`). In a string literal (`literal`) '"', '\\' and '?' are
 * escaped; in a comment, '/' after '*' and '*' after '/' are set apart so
 * that the text can neither end the comment nor open one. */
static const char *escape(Emitter *E, const char *s, bool literal)
{
	char *b = arena_alloc(&E->arena, 4 * strlen(s) + 3), *p = b;
	if (literal)
		*p++ = '"';
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		bool split = !literal && p > b &&
			     ((*c == '/' && p[-1] == '*') ||
			      (*c == '*' && p[-1] == '/') ||
			      (*c == '?' && p[-1] == '?'));
		if (*c < 0x20 || *c > 0x7e) {
			p += sprintf(p, "\\%03o", *c);
			continue;
		}
		if (split)
			*p++ = ' ';
		else if (literal && (*c == '"' || *c == '\\' || *c == '?'))
			*p++ = '\\';
		*p++ = (char)*c;
	}
	if (literal)
		*p++ = '"';
	*p = '\0';
	return b;
}

/* A C string literal, or NULL. */
static const char *cstr(Emitter *E, const char *s)
{
	return s ? escape(E, s, true) : "NULL";
}

const char *emit_comment_text(Emitter *E, const char *s)
{
	return escape(E, s ? s : "", false);
}

static const char *shape_c(Emitter *E, Shape s)
{
	char buf[64];
	return arena_strdup(&E->arena, shape_str(s, buf, sizeof(buf)));
}

/* ---- entry functions ---------------------------------------------- */

static bool uses_tensor(Graph *g, int t)
{
	for (int i = 0; i < g->nnodes; i++)
		if (g->nodes[i]->op == OP_PARAM &&
		    g->nodes[i]->attr.param.tensor == t)
			return true;
	return false;
}

/* An input's workspace copy: the whole of x or y (f64), or with several
 * inputs input k's columns of each row of x. */
static void copy_input(Fn *F, Node *x)
{
	Emitter *E = F->E;
	const char *to = F->P->cname[x->id];
	long size = shape_numel(x->shape);
	if (x->attr.input.which || !F->P->gather) {
		emit(E, "for (long i = 0; i < (long)n * %ld; i++) {", size);
		emit(E, "\t%s[i] = %s[i];", to, x->attr.input.which ? "y" : "x");
		emit(E, "}");
		return;
	}
	Input *in = &E->m->inputs[x->attr.input.index];
	emit(E, "for (long i = 0; i < n; i++) {\t/* %s: columns %ld..%ld of "
	     "each row of x */", in->name, in->offset, in->offset + size - 1);
	emit(E, "\tfor (long j = 0; j < %ld; j++) {", size);
	emit(E, "\t\t%s[i * %ld + j] = x[i * %ld + %ld + j];", to, size,
	     E->m->input_size, in->offset);
	emit(E, "\t}");
	emit(E, "}");
}

static void declare_pointers(Fn *F)
{
	Emitter *E = F->E;
	Graph *g = F->g;
	Model *m = E->m;
	for (int t = 0; t < m->ntensors; t++)
		if (uses_tensor(g, t))
			emit(E, "const %s *w%d = p + %ld;\t/* %s %s */", E->real,
			     t, m->tensors[t].offset, m->tensors[t].name,
			     shape_c(E, m->tensors[t].shape));
	for (int i = 0; i < g->nnodes; i++) {
		Node *x = g->nodes[i];
		if (F->P->grad_of[i] >= 0) {
			Tensor *t = &m->tensors[F->P->grad_of[i]];
			emit(E, "%s *g%d = g + %ld;\t/* d loss / d %s */", E->real,
			     F->P->grad_of[i], t->offset, t->name);
		} else if (F->P->offset[i] >= 0) {
			emit(E, "%s *%s = ws + %ld;\t/* %s */", E->real,
			     F->P->cname[i], F->P->offset[i], shape_c(E, x->shape));
		}
	}
	for (int i = 0; i < g->nnodes; i++) {
		Node *x = g->nodes[i];
		if (x->op == OP_INPUT && plan_copies(F->P, x))
			copy_input(F, x);
	}
}

static void emit_calls(Fn *F)
{
	Emitter *E = F->E;
	const char *last = NULL;
	for (int i = 0; i < F->P->nk; i++) {
		Kernel *k = &F->P->k[i];
		Node *x = k->members[0];
		if (x->origin && x->origin != last && x->loc.line)
			emit(E, "/* %s%s:%d  %s */", x->backward ? "backward of " : "",
			     emit_comment_text(E, emit_basename(x->loc.file)),
			     x->loc.line, emit_comment_text(E, x->origin));
		last = x->origin;
		char args[2048];
		size_t len = snprintf(args, sizeof(args), "n%s",
				      op_info[x->op].impure
				      ? ", s->seed, s->step, s->row0" : "");
		for (int a = 0; a < k->nins; a++)
			len += snprintf(args + len, sizeof(args) - len, ", %s",
					F->P->cname[k->ins[a]->id]);
		for (int o = 0; o < k->nouts; o++)
			len += snprintf(args + len, sizeof(args) - len, ", %s",
					F->P->cname[k->outs[o]->id]);
		if (k->scratch)
			len += snprintf(args + len, sizeof(args) - len,
					", ws + %ld", k->scratch_off);
		emit(E, "%s(%s);", k->name, args);
	}
}

static const char *value_of(Fn *F, Node *x, const char *idx)
{
	if (x->op == OP_CONST)
		return emit_lit(F->E, x->attr.constant.value);
	return arena_printf(&F->E->arena, "%s[%s]", F->P->cname[x->id], idx);
}

static long out_size(const Model *m)
{
	long n = 0;
	for (int i = 0; i < m->noutputs; i++)
		n += shape_numel(m->outputs[i].shape);
	return n;
}

/* After a training step: the new running statistics, if asked. */
static void emit_buffer_roots(Fn *F)
{
	Emitter *E = F->E;
	bool any = false;
	for (int r = 0; r < F->g->nroots; r++) {
		Root *rt = &F->g->roots[r];
		if (rt->kind != ROOT_BUFFER)
			continue;
		if (!any)
			emit(E, "if (s->update_buffers) {\t/* running statistics */");
		any = true;
		Tensor *t = &E->m->tensors[rt->index];
		emit(E, "\t%s *restrict b%d = (%s *)s->params + %ld;\t/* %s */",
		     E->real, rt->index, E->real, t->offset, t->name);
		emit(E, "\tfor (long i = 0; i < %ld; i++) {",
		     shape_numel(t->shape));
		emit(E, "\t\tb%d[i] = %s;", rt->index, value_of(F, rt->node, "i"));
		emit(E, "\t}");
	}
	if (any)
		emit(E, "}");
}

static void emit_roots(Fn *F)
{
	Emitter *E = F->E;
	Model *m = E->m;
	long off = 0;
	emit_buffer_roots(F);
	for (int r = 0; r < F->g->nroots; r++) {
		Root *rt = &F->g->roots[r];
		Node *x = rt->node;
		if (rt->kind == ROOT_GRAD) {
			Tensor *t = &m->tensors[rt->index];
			long sz = shape_numel(t->shape);
			if (!x)
				emit(E, "memset(g + %ld, 0, %ld * sizeof(%s));\t"
				     "/* %s: no dependence */", t->offset, sz,
				     E->real, t->name);
			else if (F->P->grad_of[x->id] != rt->index)
				emit(E, "memcpy(g + %ld, %s, %ld * sizeof(%s));",
				     t->offset, F->P->cname[x->id], sz, E->real);
		} else if (rt->kind == ROOT_SAMPLE_LOSS) {
			emit(E, "if (loss) {");
			emit(E, "\tfor (long b = 0; b < n; b++) {");
			emit(E, "\t\tloss[b] = %s;", value_of(F, x, "b"));
			emit(E, "\t}");
			emit(E, "}");
		} else if (rt->kind == ROOT_OUTPUT) {
			long sz = shape_numel(x->shape);
			const char *idx = arena_printf(&E->arena, "b * %ld + j", sz);
			emit(E, "if (out) {\t/* output %s */",
			     m->outputs[rt->index].name);
			emit(E, "\tfor (long b = 0; b < n; b++) {");
			emit(E, "\t\tfor (long j = 0; j < %ld; j++) {", sz);
			emit(E, "\t\t\tout[b * %ld + %ld + j] = %s;", out_size(m),
			     off, value_of(F, x, idx));
			emit(E, "\t\t}");
			emit(E, "\t}");
			emit(E, "}");
			off += sz;
		}
	}
}

static Node *root_node(Graph *g, int kind)
{
	for (int r = 0; r < g->nroots; r++)
		if (g->roots[r].kind == kind)
			return g->roots[r].node;
	return NULL;
}

/* Every entry point takes one NnrtStep (runtime/nnrt.h) and names what
 * it uses of it as locals: p, g, ws, x, y, n. */
static void signature(Fn *F)
{
	Emitter *E = F->E;
	const char *mn = E->m->name;
	bool grad = strcmp(F->name, "grad") == 0;
	if (grad)
		emit(E, "static double %s_grad(const NnrtStep *s)", mn);
	else if (strcmp(F->name, "eval") == 0)
		emit(E, "static void %s_eval(const NnrtStep *s, double *loss, "
		     "float *out)", mn);
	else
		emit(E, "static void %s_predict(const NnrtStep *s, float *out)",
		     mn);
	emit(E, "{");
	E->indent++;
	bool uses_p = false, hasx = false, hasy = false;
	for (int i = 0; i < F->g->nnodes; i++) {
		Node *x = F->g->nodes[i];
		uses_p |= x->op == OP_PARAM;
		hasx |= x->op == OP_INPUT && x->attr.input.which == 0;
		hasy |= x->op == OP_INPUT && x->attr.input.which == 1;
	}
	if (uses_p)
		emit(E, "const %s *p = s->params;", E->real);
	if (grad)
		emit(E, "%s *g = s->grads;", E->real);
	if (F->P->ws)
		emit(E, "%s *ws = s->ws;", E->real);
	if (hasx)
		emit(E, "const float *x = s->x;");
	if (hasy)
		emit(E, "const float *y = s->y;");
	emit(E, "const int n = s->n;");
}

static void emit_function(Emitter *E, Plan *P, const char *name)
{
	Graph *g = P->g;
	Fn F = {.E = E, .g = g, .name = name, .P = P};
	for (int i = 0; i < P->nk; i++)
		emit_kernel_def(E, &P->k[i]);
	signature(&F);
	declare_pointers(&F);
	emit_calls(&F);
	emit_roots(&F);
	if (strcmp(name, "grad") == 0) {
		Node *l = root_node(g, ROOT_LOSS);
		emit(E, "return %s;", value_of(&F, l, "0"));
	}
	E->indent--;
	emit(E, "}");
	emit(E, "%s", "");
}

/* ---- descriptor --------------------------------------------------- */

static const char *init_names[] = {
#define INIT_NAME(id, name, nargs) "NNRT_INIT_" #id,
	NNRT_INITS(INIT_NAME)
#undef INIT_NAME
};

static const char *dims_init(Emitter *E, Shape s)
{
	char buf[96];
	size_t len = snprintf(buf, sizeof(buf), "%d, {", s.rank);
	for (int i = 0; i < s.rank; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%d", i ? ", " : "",
				s.dim[i]);
	snprintf(buf + len, sizeof(buf) - len, "}");
	return arena_strdup(&E->arena, buf);
}

static void emit_tables(Emitter *E)
{
	Model *m = E->m;
	const char *mn = m->name;
	emit(E, "static const NnrtTensor %s_tensors[] = {", mn);
	for (int i = 0; i < m->ntensors; i++) {
		Tensor *t = &m->tensors[i];
		emit(E, "\t{%s, %s, %ld, %ld, %s, %.17g, %.17g, %d, %d, %d},",
		     cstr(E, t->name), dims_init(E, t->shape), t->offset,
		     shape_numel(t->shape), init_names[t->init], t->init_a,
		     t->init_b, t->fan_in, t->fan_out, t->trainable);
	}
	emit(E, "};");
	emit(E, "%s", "");
	emit(E, "static const NnrtInput %s_inputs[] = {", mn);
	for (int i = 0; i < m->ninputs; i++)
		emit(E, "\t{%s, %s, %ld, %ld},", cstr(E, m->inputs[i].name),
		     dims_init(E, m->inputs[i].shape),
		     shape_numel(m->inputs[i].shape), m->inputs[i].offset);
	emit(E, "};");
	emit(E, "%s", "");
	emit(E, "static const NnrtLayer %s_layers[] = {", mn);
	for (int i = 0; i < m->ninputs; i++)
		emit(E, "\t{%s, \"input\", %s, 0, 0},",
		     cstr(E, m->inputs[i].name), dims_init(E, m->inputs[i].shape));
	for (int i = 0; i < m->nlayers; i++) {
		Layer *l = &m->layers[i];
		emit(E, "\t{%s, %s, %s, %ld, %.17g},", cstr(E, l->name),
		     cstr(E, l->kind), dims_init(E, l->shape), l->params,
		     l->flops);
	}
	emit(E, "};");
	emit(E, "%s", "");
	emit(E, "static const char *const %s_output_names[] = {", mn);
	for (int i = 0; i < m->noutputs; i++)
		emit(E, "\t%s,", cstr(E, m->outputs[i].name));
	emit(E, "};");
	emit(E, "static const long %s_output_sizes[] = {", mn);
	for (int i = 0; i < m->noutputs; i++)
		emit(E, "\t%ld,", shape_numel(m->outputs[i].shape));
	emit(E, "};");
	emit(E, "%s", "");
}

/* "{0, 3}": one column bound per input */
static const char *columns(Emitter *E, const int *v)
{
	char buf[128];
	size_t len = snprintf(buf, sizeof(buf), "{");
	for (int i = 0; i < E->m->ninputs; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%d",
				i ? ", " : "", v[i]);
	snprintf(buf + len, sizeof(buf) - len, "}");
	return arena_printf(&E->arena, "%s", buf);
}

/* One NnrtSource: only the fields its kind uses; none when unset. */
static void emit_source(Emitter *E, const char *key, const DataSrc *d)
{
	switch (d->kind) {
	case NNRT_SRC_NONE:
		break;
	case NNRT_SRC_CSV:
		emit(E, "\t\t.%s = {.kind = NNRT_SRC_CSV, .path = %s,", key,
		     cstr(E, d->path));
		emit(E, "\t\t\t.skip = %d, .x_lo = %s, .x_hi = %s,", d->skip,
		     columns(E, d->x_lo), columns(E, d->x_hi));
		emit(E, "\t\t\t.y_lo = %d, .y_hi = %d},", d->y_lo, d->y_hi);
		break;
	case NNRT_SRC_IDX:
		emit(E, "\t\t.%s = {.kind = NNRT_SRC_IDX, .path = %s,", key,
		     cstr(E, d->path));
		emit(E, "\t\t\t.labels = %s, .scale = %.17g},",
		     cstr(E, d->labels), d->scale);
		break;
	default:
		ice("source kind %d", (int)d->kind);
	}
}

static void emit_train_config(Emitter *E)
{
#define ENUM_NAME(prefix, id) prefix #id,
#define NORM_NAME(id, name) ENUM_NAME("NNRT_NORM_", id)
#define MON_NAME(id, name) ENUM_NAME("NNRT_MON_", id)
	static const char *norms[] = {NNRT_NORMS(NORM_NAME)};
	static const char *mons[] = {NNRT_MONITORS(MON_NAME)};
#undef MON_NAME
#undef NORM_NAME
#undef ENUM_NAME
	TrainCfg *t = &E->m->train;
	emit(E, "\t.train = {");
	emit_source(E, "data", &t->data);
	emit_source(E, "val", &t->val);
	emit_source(E, "test", &t->test);
	emit(E, "\t\t.validation = %.17g,", t->validation);
	emit(E, "\t\t.batch = %d,", t->batch);
	emit(E, "\t\t.epochs = %d,", t->epochs);
	emit(E, "\t\t.shuffle = %d,", t->shuffle);
	emit(E, "\t\t.drop_last = %d,", t->drop_last);
	emit(E, "\t\t.seed = %ldUL,", t->seed);
	emit(E, "\t\t.normalize = %s,", norms[t->normalize]);
	if (t->normalize_target != NNRT_NORM_NONE)
		emit(E, "\t\t.normalize_target = %s,",
		     norms[t->normalize_target]);
	emit(E, "\t\t.metrics = %u,", t->metrics);
	emit(E, "\t\t.early_stop = %d,", t->early_stop);
	emit(E, "\t\t.monitor = %s,", mons[t->es_monitor]);
	emit(E, "\t\t.patience = %d,", t->es_patience);
	emit(E, "\t\t.min_delta = %.17g,", t->es_min_delta);
	emit(E, "\t\t.restore_best = %d,", t->es_restore_best);
	emit(E, "\t\t.checkpoint = %s,", cstr(E, t->checkpoint));
	emit(E, "\t\t.log = %s,", cstr(E, t->log));
	if (t->report)
		emit(E, "\t\t.report = %s,", cstr(E, t->report));
	emit(E, "\t},");
}

static void emit_descriptor(Emitter *E)
{
	Model *m = E->m;
	const char *mn = m->name;
	long outs = out_size(m);
	emit(E, "static const NnrtModel %s_model = {", mn);
	emit(E, "\t.name = %s,", cstr(E, mn));
	emit(E, "\t.source = %s,", cstr(E, emit_basename(m->file)));
	emit(E, "\t.nnc_version = \"%s\",", NNC_VERSION);
	emit(E, "\t.real_size = %d,", E->o->f64 ? 8 : 4);
	emit(E, "\t.max_batch = %d,", m->train.batch);
	emit(E, "\t.n_inputs = %d,", m->ninputs);
	emit(E, "\t.inputs = %s_inputs,", mn);
	emit(E, "\t.input_size = %ld,", m->input_size);
	emit(E, "\t.n_classes = %d,", m->nclasses);
	emit(E, "\t.target_size = %ld,", m->nclasses ? 1 : shape_numel(m->target));
	emit(E, "\t.n_outputs = %d,", m->noutputs);
	emit(E, "\t.output_names = %s_output_names,", mn);
	emit(E, "\t.output_sizes = %s_output_sizes,", mn);
	emit(E, "\t.output_size = %ld,", outs);
	emit(E, "\t.n_tensors = %d,", m->ntensors);
	emit(E, "\t.tensors = %s_tensors,", mn);
	emit(E, "\t.n_layers = %d,", m->nlayers + m->ninputs);
	emit(E, "\t.layers = %s_layers,", mn);
	emit(E, "\t.n_params = %ld,", m->nparams);
	emit(E, "\t.n_trainable = %ld,", m->ntrainable);
	emit(E, "\t.n_state = %ld,", emit_state_size(m));
	emit(E, "\t.ws_size = %ld,", m->ws_size);
	emit(E, "\t.n_sched = %d,", emit_sched_size(m));
	emit(E, "\t.optimizer = %s,", cstr(E, emit_optim_str(E)));
	emit(E, "\t.schedule = %s,", cstr(E, emit_sched_str(E)));
	emit(E, "\t.lr = %.17g,", m->optim.lr);
	emit_train_config(E);
	emit(E, "\t.grad = %s_grad,", mn);
	emit(E, "\t.update = %s_update,", mn);
	emit(E, "\t.eval = %s_eval,", mn);
	emit(E, "\t.predict = %s_predict,", mn);
	emit(E, "\t.lr_at = %s_lr_at,", mn);
	emit(E, "\t.lr_epoch = %s_lr_epoch,", mn);
	emit(E, "};");
	emit(E, "%s", "");
	emit(E, "int main(int argc, char **argv)");
	emit(E, "{");
	emit(E, "\treturn nnrt_main(&%s_model, argc, argv);", mn);
	emit(E, "}");
}

static void emit_header(Emitter *E)
{
	Model *m = E->m;
	emit(E, "/*");
	emit(E, " * %s.c - a trainer for model '%s', generated by nnc %s", m->name,
	     m->name, NNC_VERSION);
	emit(E, " * from %s (%s). Do not edit: edit the .nn file.",
	     emit_comment_text(E, emit_basename(m->file)),
	     emit_comment_text(E, E->o->flags));
	emit(E, " *");
	emit(E, " * Build: cc -O2 %s.c $(pkg-config --cflags --libs nnrt)", m->name);
	emit(E, " */");
	emit(E, "#include <math.h>");
	emit(E, "#include <string.h>");
	emit(E, "#include <cblas.h>");
	emit(E, "#include <nnrt.h>");
	emit(E, "%s", "");
	emit(E, "/* ==== parameters: one flat buffer of %ld %ss, %ld trainable "
	     "====", m->nparams, E->real, m->ntrainable);
	emit(E, " *");
	for (int i = 0; i < m->ntensors; i++) {
		Tensor *t = &m->tensors[i];
		emit(E, " *   w%-3d %-16s %-12s offset %-8ld %s:%d", i, t->name,
		     shape_c(E, t->shape), t->offset, emit_basename(t->loc.file),
		     t->loc.line);
	}
	emit(E, " */");
	emit(E, "%s", "");
}

void emit_c(FILE *f, Model *m, const EmitOpts *o)
{
	Emitter E = {0};
	E.f = f;
	E.m = m;
	E.o = o;
	E.real = o->f64 ? "double" : "float";
	E.fs = o->f64 ? "" : "f";
	emit_header(&E);
	emit(&E, "/* ==== training: forward, backward (autodiff) ==== */");
	emit(&E, "%s", "");
	emit_function(&E, m->plans[0], "grad");
	emit(&E, "/* ==== inference: loss and outputs ==== */");
	emit(&E, "%s", "");
	emit_function(&E, m->plans[1], "eval");
	emit(&E, "/* ==== prediction: outputs only ==== */");
	emit(&E, "%s", "");
	emit_function(&E, m->plans[2], "predict");
	emit(&E, "/* ==== optimizer ==== */");
	emit(&E, "%s", "");
	emit_update(&E);
	emit(&E, "/* ==== learning-rate schedule ==== */");
	emit(&E, "%s", "");
	emit_schedule(&E);
	emit(&E, "/* ==== descriptor for the runtime ==== */");
	emit(&E, "%s", "");
	emit_tables(&E);
	emit_descriptor(&E);
	for (int i = 0; i < E.nk; i++)
		free(E.kbody[i]);
	free(E.kbody);
	free(E.kname);
	arena_free(&E.arena);
}
