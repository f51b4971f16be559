/*
 * emit_kernel.c - one static C function per kernel.
 *
 * A kernel is either a fused group of elementwise ops (one loop over the
 * group's shape, each op a local variable, the kept results stored) or one
 * kernel op: matmul (a cblas_?gemm call, transposes as flags), sum_to,
 * softmax, log_softmax or onehot. Every kernel takes the batch size n,
 * then its operands (a0, a1, ...), then its results (o0, o1, ...).
 *
 * Elementwise ops come from their math in ops.def, a C expression over
 * the operands X(0), X(1), ... (see expand). Operands are loaded with the
 * index of the broadcast (see index_expr). Identical kernels are defined
 * once and shared, whichever function calls them.
 */
#include "nnc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- indexing ----------------------------------------------------- */

/*
 * The index into an operand of shape `op` for the element of a loop over
 * `dom`. Flat loops (`i` over everything) are used when every operand is
 * the domain's own shape or one scalar; otherwise the loop is nested,
 * `b` over the batch and `j` over one sample, and an operand broadcast on
 * the per-sample dimensions (numpy rules, right-aligned) is indexed by
 * decomposing j.
 */
static bool flat_ok(Shape op, Shape dom)
{
	return shape_eq(op, dom) || (!op.batched && shape_numel(op) == 1);
}

static void sample_index(char *buf, size_t n, Shape op, Shape dom)
{
	long on = shape_numel(op), dn = shape_numel(dom);
	size_t len = 0;
	if (on == 1) {
		snprintf(buf, n, "0");
		return;
	}
	if (on == dn) {
		snprintf(buf, n, "j");
		return;
	}
	/* a suffix of the domain's dimensions: j % on */
	int lead = dom.rank - op.rank;
	bool suffix = true;
	long tail = 1;
	for (int d = dom.rank - 1; d >= 0; d--) {
		int od = d - lead >= 0 ? op.dim[d - lead] : 1;
		if (tail < on && od != dom.dim[d])
			suffix = false;
		if (tail < on)
			tail *= od;
	}
	if (suffix && tail == on) {
		snprintf(buf, n, "j %% %ld", on);
		return;
	}
	long inner = 1, stride = 1;
	buf[0] = 0;
	for (int d = dom.rank - 1; d >= 0; d--) {
		int od = d - lead >= 0 ? op.dim[d - lead] : 1;
		if (od != 1) {
			len += snprintf(buf + len, n - len, "%s(j / %ld %% %d) * %ld",
					len ? " + " : "", inner, dom.dim[d],
					stride);
			stride *= od;
		}
		inner *= dom.dim[d];
	}
}

static void index_expr(char *buf, size_t n, Shape op, Shape dom, bool flat)
{
	char s[256];
	long on = shape_numel(op);
	if (flat || shape_eq(op, dom)) {
		snprintf(buf, n, "%s", shape_eq(op, dom) ? "i" : "0");
		return;
	}
	sample_index(s, sizeof(s), op, dom);
	if (!op.batched || !dom.batched)
		snprintf(buf, n, "%s", s);
	else if (on == 1)
		snprintf(buf, n, "b");
	else if (strcmp(s, "0") == 0)
		snprintf(buf, n, "b * %ld", on);
	else
		snprintf(buf, n, "b * %ld + %s", on, s);
}

/* ---- loops -------------------------------------------------------- */

static void open_loop(Emitter *E, Shape dom, bool flat)
{
	long s = shape_numel(dom);
	if (!dom.batched) {
		emit(E, "for (long %s = 0; %s < %ld; %s++) {", flat ? "i" : "j",
		     flat ? "i" : "j", s, flat ? "i" : "j");
		E->indent++;
		if (!flat)
			emit(E, "const long i = j;");
		return;
	}
	if (flat) {
		emit(E, "for (long i = 0; i < (long)n * %ld; i++) {", s);
		E->indent++;
		return;
	}
	emit(E, "for (long b = 0; b < n; b++) {");
	E->indent++;
	emit(E, "for (long j = 0; j < %ld; j++) {", s);
	E->indent++;
	emit(E, "const long i = b * %ld + j;", s);
}

static void close_loop(Emitter *E, Shape dom, bool flat)
{
	int levels = dom.batched && !flat ? 2 : 1;
	for (int i = 0; i < levels; i++) {
		E->indent--;
		emit(E, "}");
	}
}

static int find(Node **list, int n, const Node *x)
{
	for (int i = 0; i < n; i++)
		if (list[i] == x)
			return i;
	return -1;
}

/* ---- elementwise groups ------------------------------------------- */

/* The C text of operand x inside the loop over dom. */
static const char *operand(Emitter *E, Kernel *k, Node *x, Shape dom,
			   bool flat)
{
	char idx[256];
	int a;
	if (x->op == OP_CONST)
		return emit_lit(E, x->attr.constant.value);
	if (x->op == OP_BATCHSIZE)
		return arena_printf(&E->arena, "(%s)n", E->real);
	if ((a = find(k->members, k->nmembers, x)) >= 0)
		return arena_printf(&E->arena, "v%d", a);
	if ((a = find(k->ins, k->nins, x)) < 0)
		ice("kernel operand %%%d is not an input", x->id);
	index_expr(idx, sizeof(idx), x->shape, dom, flat);
	return arena_printf(&E->arena, "a%d[%s]", a, idx);
}

/* A character of an identifier or a number (1e-12 is "1e", '-', "12"). */
static bool is_word(char c)
{
	return c == '_' || c == '.' || isalnum((unsigned char)c);
}

/* An op's math (ops.def) as C in the emitter's precision: X(i) becomes
 * operand i, and every function called gets the math suffix (exp ->
 * expf in single precision). Everything else is copied. */
static const char *expand(Emitter *E, const char *math, const char **ops,
			  int nops)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	for (const char *p = math; *p;) {
		const char *q = p;
		while (is_word(*q))
			q++;
		if (q == p) {
			fputc(*p++, f);
			continue;
		}
		bool ident = !isdigit((unsigned char)*p) && *p != '.';
		if (ident && q - p == 1 && *p == 'X' && *q == '(') {
			char *end;
			long i = strtol(q + 1, &end, 10);
			if (end == q + 1 || *end != ')' || i < 0 || i >= nops)
				ice("math %s: bad operand at %s", math, p);
			fputs(ops[i], f);
			p = end + 1;
			continue;
		}
		fwrite(p, 1, q - p, f);
		if (ident && *q == '(')
			fputs(E->fs, f);
		p = q;
	}
	fclose(f);
	const char *r = arena_strdup(&E->arena, buf);
	free(buf);
	return r;
}

static void group_body(Emitter *E, Kernel *k)
{
	Shape dom = k->members[0]->shape;
	bool flat = true;
	for (int i = 0; i < k->nins; i++)
		flat &= flat_ok(k->ins[i]->shape, dom);
	open_loop(E, dom, flat);
	for (int m = 0; m < k->nmembers; m++) {
		Node *x = k->members[m];
		const char **ops = arena_alloc(&E->arena,
					       x->nin * sizeof(*ops));
		if (!op_info[x->op].math)
			ice("elementwise %s has no math", op_info[x->op].name);
		for (int i = 0; i < x->nin; i++)
			ops[i] = operand(E, k, x->in[i], dom, flat);
		emit(E, "const %s v%d = %s;", E->real, m,
		     expand(E, op_info[x->op].math, ops, x->nin));
	}
	for (int o = 0; o < k->nouts; o++)
		emit(E, "o%d[i] = v%d;", o,
		     find(k->members, k->nmembers, k->outs[o]));
	close_loop(E, dom, flat);
}

/* ---- kernel ops --------------------------------------------------- */

void emit_sum_to(Emitter *E, Kernel *k)
{
	Node *x = k->members[0];
	Shape dom = x->in[0]->shape;
	char idx[256];
	long on = shape_numel(x->shape);
	emit(E, "for (long i = 0; i < %s%ld; i++) {",
	     x->shape.batched ? "(long)n * " : "", on);
	emit(E, "\to0[i] = 0;");
	emit(E, "}");
	open_loop(E, dom, false);
	index_expr(idx, sizeof(idx), x->shape, dom, false);
	emit(E, "o0[%s] += a0[i];", idx);
	close_loop(E, dom, false);
}

static void rows_loop(Emitter *E, Node *x, long kdim)
{
	long rows = shape_numel(x->shape) / kdim;
	emit(E, "for (long r = 0; r < %s%ld; r++) {",
	     x->shape.batched ? "(long)n * " : "", rows);
	E->indent++;
	emit(E, "const %s *restrict xr = a0 + r * %ld;", E->real, kdim);
	emit(E, "%s *restrict yr = o0 + r * %ld;", E->real, kdim);
}

/*
 * softmax / log_softmax over the last axis, shifted by the row max m, as
 * PyTorch computes them:
 *   softmax(x)_c     = exp(x_c - m) / sum
 *   log_softmax(x)_c = (x_c - m) - log(sum),  sum = sum_c exp(x_c - m)
 * not x_c - (m + log(sum)): rounding m + log(sum) loses up to half an ulp
 * of m, a large part of a confident prediction's log-probability when
 * log(sum) is tiny.
 */
static void softmax_rows(Emitter *E, Kernel *k, bool logsm)
{
	Node *x = k->members[0];
	long kd = x->shape.dim[x->shape.rank - 1];
	rows_loop(E, x, kd);
	emit(E, "%s mx = xr[0];", E->real);
	emit(E, "for (long c = 1; c < %ld; c++) {", kd);
	emit(E, "\tmx = xr[c] > mx ? xr[c] : mx;");
	emit(E, "}");
	emit(E, "%s sum = 0;", E->real);
	emit(E, "for (long c = 0; c < %ld; c++) {", kd);
	if (logsm) {
		emit(E, "\tsum += exp%s(xr[c] - mx);", E->fs);
		emit(E, "}");
		emit(E, "const %s logsum = log%s(sum);", E->real, E->fs);
		emit(E, "for (long c = 0; c < %ld; c++) {", kd);
		emit(E, "\tyr[c] = (xr[c] - mx) - logsum;");
	} else {
		emit(E, "\tyr[c] = exp%s(xr[c] - mx);", E->fs);
		emit(E, "\tsum += yr[c];");
		emit(E, "}");
		emit(E, "for (long c = 0; c < %ld; c++) {", kd);
		emit(E, "\tyr[c] /= sum;");
	}
	emit(E, "}");
	E->indent--;
	emit(E, "}");
}

void emit_softmax(Emitter *E, Kernel *k)
{
	softmax_rows(E, k, false);
}

void emit_logsoftmax(Emitter *E, Kernel *k)
{
	softmax_rows(E, k, true);
}

/* inverted dropout's mask: element i is dropped when its uniform draw
 * (runtime/nnrt.h, counter-based on the step) is below p */
void emit_dropmask(Emitter *E, Kernel *k)
{
	Node *x = k->members[0];
	const Attr_rand *at = &x->attr.rand;
	emit(E, "const unsigned long long key = nnrt_rand_key(seed, step, %d);",
	     at->stream);
	emit(E, "for (long i = 0; i < %s%ld; i++) {",
	     x->shape.batched ? "(long)n * " : "", shape_numel(x->shape));
	emit(E, "	o0[i] = nnrt_rand_uniform(key, i) < %.17g ? 0 : %s;", at->p,
	     emit_lit(E, 1 / (1 - at->p)));
	emit(E, "}");
}

void emit_onehot(Emitter *E, Kernel *k)
{
	Node *x = k->members[0];
	int kd = x->attr.onehot.k;
	emit(E, "for (long b = 0; b < %s; b++) {",
	     x->shape.batched ? "n" : "1");
	emit(E, "\tfor (long c = 0; c < %d; c++) {", kd);
	emit(E, "\t\to0[b * %d + c] = c == (long)a0[b];", kd);
	emit(E, "\t}");
	emit(E, "}");
}

static void dim_str(char *buf, size_t n, Dim d)
{
	if (d.b)
		snprintf(buf, n, d.c == 1 ? "n" : "n * %ld", d.c);
	else
		snprintf(buf, n, "%ld", d.c);
}

/* C = op(A) @ op(B): row-major GEMM, transposes as flags */
void emit_matmul(Emitter *E, Kernel *k)
{
	Node *x = k->members[0];
	const Attr_matmul *at = &x->attr.matmul;
	Dim m, kk, nn;
	char ms[32], ks[32], ns[32];
	mm_dims(x, &m, &kk, &nn);
	dim_str(ms, sizeof(ms), m);
	dim_str(ks, sizeof(ks), kk);
	dim_str(ns, sizeof(ns), nn);
	emit(E, "cblas_%sgemm(CblasRowMajor, %s, %s,",
	     E->o->f64 ? "d" : "s", at->ta ? "CblasTrans" : "CblasNoTrans",
	     at->tb ? "CblasTrans" : "CblasNoTrans");
	emit(E, "            %s, %s, %s,", ms, ns, ks);
	emit(E, "            1, a0, %d, a1, %d, 0, o0, %s);", at->ca, at->cb,
	     ns);
}

static bool uses_n(Kernel *k)
{
	for (int i = 0; i < k->nmembers; i++) {
		Node *x = k->members[i];
		if (x->shape.batched)
			return true;
		for (int j = 0; j < x->nin; j++)
			if (x->in[j]->shape.batched ||
			    x->in[j]->op == OP_BATCHSIZE)
				return true;
	}
	return false;
}

static void kernel_body(Emitter *E, Kernel *k)
{
	Node *x = k->members[0];
	const OpInfo *info = &op_info[x->op];
	if (!uses_n(k))
		emit(E, "(void)n;");
	if (info->cls == OK_ELEMWISE)
		group_body(E, k);
	else if (info->emit)
		info->emit(E, k);
	else
		ice("no kernel for op %s", info->name);
}

/* ---- definition and reuse ----------------------------------------- */

static char *render(Emitter *E, Kernel *k)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *saved = E->f;
	int saved_indent = E->indent;
	E->f = open_memstream(&buf, &len);
	E->indent = 0;
	/* an impure kernel (a random mask) also takes the step's seed and
	 * number: its value is a function of them; a kernel with scratch
	 * takes it last, as s0 */
	int nargs = k->nins + k->nouts + (k->scratch > 0);
	if (op_info[k->members[0]->op].impure)
		emit(E, "static void @(int n, unsigned long seed, long step%s",
		     nargs ? "," : ")");
	else
		emit(E, "static void @(int n%s", nargs ? "," : ")");
	E->indent = 2;
	for (int i = 0; i < k->nins; i++)
		emit(E, "const %s *restrict a%d%s", E->real, i,
		     --nargs ? "," : ")");
	for (int i = 0; i < k->nouts; i++)
		emit(E, "%s *restrict o%d%s", E->real, i, --nargs ? "," : ")");
	if (k->scratch)
		emit(E, "%s *restrict s0)", E->real);
	E->indent = 0;
	emit(E, "{");
	E->indent = 1;
	kernel_body(E, k);
	E->indent = 0;
	emit(E, "}");
	fclose(E->f);
	E->f = saved;
	E->indent = saved_indent;
	return buf;
}

static const char *kernel_name(Emitter *E, Kernel *k)
{
	char buf[128];
	size_t len = snprintf(buf, sizeof(buf), "k%02d", E->kcount++);
	for (int i = 0; i < k->nmembers && i < 4; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "_%s",
				op_info[k->members[i]->op].name);
	if (k->nmembers > 4)
		snprintf(buf + len, sizeof(buf) - len, "_etc");
	return arena_strdup(&E->arena, buf);
}

void emit_kernel_def(Emitter *E, Kernel *k)
{
	char *body = render(E, k);
	for (int i = 0; i < E->nk; i++)
		if (strcmp(E->kbody[i], body) == 0) {
			k->name = E->kname[i];
			free(body);
			return;
		}
	k->name = kernel_name(E, k);
	if (E->nk == E->kcap) {
		E->kcap = E->kcap ? 2 * E->kcap : 32;
		E->kbody = xrealloc(E->kbody, E->kcap * sizeof(char *));
		E->kname = xrealloc(E->kname, E->kcap * sizeof(char *));
	}
	E->kbody[E->nk] = body;
	E->kname[E->nk++] = k->name;
	Node *x = k->members[0];
	if (x->loc.line)
		fprintf(E->f, "/* %s%s:%d  %s */\n", x->backward ? "backward of " : "",
			emit_basename(x->loc.file), x->loc.line,
			x->origin ? x->origin : "");
	for (const char *p = body; *p; p++) {
		if (*p == '@')
			fputs(k->name, E->f);
		else
			fputc(*p, E->f);
	}
	fputc('\n', E->f);
}
