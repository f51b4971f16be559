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
 * the domain's own shape or one scalar; otherwise the loop is nested, `b`
 * over the batch and d0, d1, ... over the per-sample dimensions (j their
 * flat index), and an operand broadcast on the per-sample dimensions
 * (numpy rules, right-aligned) is indexed by the loop variables of the
 * dimensions it has: no division in the loop.
 */
static bool flat_ok(Shape op, Shape dom)
{
	return shape_eq(op, dom) || (!op.batched && shape_numel(op) == 1);
}

static void sample_index(char *buf, size_t n, Shape op, Shape dom)
{
	long on = shape_numel(op), stride = 1;
	size_t len = 0;
	if (on == 1) {
		snprintf(buf, n, "0");
		return;
	}
	if (on == shape_numel(dom)) {
		snprintf(buf, n, "j");
		return;
	}
	int lead = dom.rank - op.rank;
	buf[0] = 0;
	for (int d = dom.rank - 1; d >= 0; d--) {
		int od = d - lead >= 0 ? op.dim[d - lead] : 1;
		if (od == 1)
			continue;
		len += snprintf(buf + len, n - len, "%sd%d", len ? " + " : "", d);
		if (stride != 1)
			len += snprintf(buf + len, n - len, " * %ld", stride);
		stride *= od;
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

/* The loops of a nested walk: the batch's (if any) and one per dimension */
static int loop_levels(Shape dom, bool flat)
{
	return flat ? 1 : dom.batched + (dom.rank ? dom.rank : 1);
}

/* need_i: the body reads or writes element i (the flat index of the
 * domain's element), so the nested walk defines it */
static void open_loop_i(Emitter *E, Shape dom, bool flat, bool need_i)
{
	long s = shape_numel(dom);
	char j[128] = "0";
	if (flat) {
		if (dom.batched)
			emit(E, "for (long i = 0; i < (long)n * %ld; i++) {", s);
		else
			emit(E, "for (long i = 0; i < %ld; i++) {", s);
		E->indent++;
		return;
	}
	if (dom.batched) {
		emit(E, "for (long b = 0; b < n; b++) {");
		E->indent++;
	}
	if (dom.rank == 0) {
		emit(E, "for (long d0 = 0; d0 < 1; d0++) {");
		E->indent++;
	}
	for (int d = 0; d < dom.rank; d++) {
		emit(E, "for (long d%d = 0; d%d < %d; d%d++) {", d, d, dom.dim[d],
		     d);
		E->indent++;
		if (d == 0)
			snprintf(j, sizeof(j), "d0");
		else {
			char t[128];
			snprintf(t, sizeof(t), "%s%s%s * %d + d%d", d > 1 ? "(" : "",
				 j, d > 1 ? ")" : "", dom.dim[d], d);
			snprintf(j, sizeof(j), "%s", t);
		}
	}
	emit(E, "const long j = %s;", j);
	if (!need_i)
		return;
	if (dom.batched)
		emit(E, "const long i = b * %ld + j;", s);
	else
		emit(E, "const long i = j;");
}

static void open_loop(Emitter *E, Shape dom, bool flat)
{
	open_loop_i(E, dom, flat, true);
}

static void close_loop(Emitter *E, Shape dom, bool flat)
{
	for (int i = loop_levels(dom, flat); i > 0; i--) {
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

/* A group's sums over the batch (fuse.c) start at zero before its loop
 * and are added to in it, in the order emit_sum_to adds. Returns whether
 * there are any. */
static bool zero_sums(Emitter *E, Kernel *k)
{
	bool any = false;
	for (int o = 0; o < k->nouts; o++)
		if (k->outs[o]->op == OP_SUM_TO) {
			emit(E, "for (long i = 0; i < %ld; i++) {",
			     shape_numel(k->outs[o]->shape));
			emit(E, "\to%d[i] = 0;", o);
			emit(E, "}");
			any = true;
		}
	return any;
}

static void group_body(Emitter *E, Kernel *k)
{
	Shape dom = k->members[0]->shape;
	bool flat = !zero_sums(E, k);
	for (int i = 0; i < k->nins; i++)
		flat &= flat_ok(k->ins[i]->shape, dom);
	/* the body first, to know whether it uses i */
	const char **line = arena_alloc(&E->arena,
					(k->nmembers + k->nouts) * sizeof(*line));
	int nl = 0;
	bool need_i = false;
	for (int m = 0; m < k->nmembers; m++) {
		Node *x = k->members[m];
		if (x->op == OP_SUM_TO) {
			line[nl++] = arena_printf(&E->arena, "o%d[j] += v%d;",
				find(k->outs, k->nouts, x),
				find(k->members, k->nmembers, x->in[0]));
			continue;
		}
		const char **ops = arena_alloc(&E->arena,
					       x->nin * sizeof(*ops));
		if (!op_info[x->op].math)
			ice("elementwise %s has no math", op_info[x->op].name);
		for (int i = 0; i < x->nin; i++) {
			ops[i] = operand(E, k, x->in[i], dom, flat);
			need_i |= strstr(ops[i], "[i]") != NULL;
		}
		line[nl++] = arena_printf(&E->arena, "const %s v%d = %s;",
			E->real, m, expand(E, op_info[x->op].math, ops, x->nin));
	}
	for (int o = 0; o < k->nouts; o++)
		if (k->outs[o]->op != OP_SUM_TO) {
			line[nl++] = arena_printf(&E->arena, "o%d[i] = v%d;", o,
				find(k->members, k->nmembers, k->outs[o]));
			need_i = true;
		}
	open_loop_i(E, dom, flat, need_i);
	for (int l = 0; l < nl; l++)
		emit(E, "%s", line[l]);
	close_loop(E, dom, flat);
}

/* ---- kernel ops --------------------------------------------------- */

/* One axis of a reduction's input: the batch or a per-sample dimension,
 * its size (0 for the batch: n), its stride in the input and, when the
 * output keeps it, in the output. */
typedef struct Axis {
	long size, in_stride, out_stride;
	bool kept;
} Axis;

/* The axes of sum_to's input x, outermost first; returns their count. */
static int reduce_axes(Shape x, Shape y, Axis *ax)
{
	int n = 0, lead = x.rank - y.rank;
	long in_stride = shape_numel(x), out_stride = shape_numel(y);
	if (x.batched)
		ax[n++] = (Axis){0, in_stride, out_stride, y.batched};
	for (int d = 0; d < x.rank; d++) {
		int od = d >= lead ? y.dim[d - lead] : 1;
		in_stride /= x.dim[d];
		if (d >= lead)
			out_stride /= od;
		ax[n++] = (Axis){x.dim[d], in_stride, out_stride,
				 od != 1 || x.dim[d] == 1};
	}
	return n;
}

/* The flat index into the input (out false) or the output (out true) of
 * the loop nest whose axis i has the variable v<i>: "v0 * 512 + v1". */
static void index_terms(char *buf, size_t n, const Axis *ax, int na,
			bool out)
{
	size_t len = strlen(buf);
	for (int i = 0; i < na; i++) {
		long st = out ? ax[i].out_stride : ax[i].in_stride;
		if ((out && !ax[i].kept) || ax[i].size == 1)
			continue;
		len += snprintf(buf + len, n - len, "%sv%d", len ? " + " : "", i);
		if (st != 1)
			len += snprintf(buf + len, n - len, " * %ld", st);
	}
	if (!len)
		snprintf(buf, n, "0");
}

static void axis_loop(Emitter *E, const Axis *a, int i)
{
	if (a->size == 0)
		emit(E, "for (long v%d = 0; v%d < n; v%d++) {", i, i, i);
	else
		emit(E, "for (long v%d = 0; v%d < %ld; v%d++) {", i, i, a->size, i);
	E->indent++;
}

/* Partial sums of a long contiguous run (sum_to_rows) */
#define SUM_LANES 8

/*
 * sum_to when the input's innermost axis is summed away: a loop nest over
 * the kept axes, each output element summed in a register over the
 * reduced axes (no store-to-load chain through memory). When the
 * innermost reduced axes are a contiguous run of at least 2 SUM_LANES
 * elements (a channel's plane in a bias gradient), the run is summed
 * into SUM_LANES partial sums, added pairwise at the end: independent
 * chains instead of one latency-bound one, and no less accurate.
 */
static void sum_to_rows(Emitter *E, Shape x, Shape y)
{
	Axis ax[MAXRANK + 1];
	char in[256] = "", out[256] = "";
	int na = reduce_axes(x, y, ax), open = 0, t = na;
	long run = 1;
	while (t > 0 && !ax[t - 1].kept && ax[t - 1].size > 0)
		run *= ax[--t].size;
	bool lanes = run >= 2 * SUM_LANES;
	index_terms(in, sizeof(in), ax, lanes ? t : na, false);
	index_terms(out, sizeof(out), ax, na, true);
	for (int i = 0; i < na; i++)
		if (ax[i].kept && ax[i].size != 1) {
			axis_loop(E, &ax[i], i);
			open++;
		}
	if (lanes)
		emit(E, "%s acc[%d] = {0};", E->real, SUM_LANES);
	else
		emit(E, "%s acc = 0;", E->real);
	for (int i = 0; i < (lanes ? t : na); i++)
		if (!ax[i].kept) {
			axis_loop(E, &ax[i], i);
			open++;
		}
	if (lanes) {
		emit(E, "const %s *restrict run = a0 + %s;", E->real, in);
		emit(E, "for (long j = 0; j < %ld; j += %d) {",
		     run / SUM_LANES * SUM_LANES, SUM_LANES);
		emit(E, "\tfor (long u = 0; u < %d; u++) {", SUM_LANES);
		emit(E, "\t\tacc[u] += run[j + u];");
		emit(E, "\t}");
		emit(E, "}");
		for (long j = run / SUM_LANES * SUM_LANES; j < run; j++)
			emit(E, "acc[%ld] += run[%ld];", j % SUM_LANES, j);
	} else {
		emit(E, "acc += a0[%s];", in);
	}
	for (int i = 0; i < (lanes ? t : na); i++)
		if (!ax[i].kept) {
			E->indent--;
			emit(E, "}");
			open--;
		}
	if (lanes)
		emit(E, "o0[%s] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + "
		     "((acc[4] + acc[5]) + (acc[6] + acc[7]));", out);
	else
		emit(E, "o0[%s] = acc;", out);
	while (open-- > 0) {
		E->indent--;
		emit(E, "}");
	}
}

/* sum_to: the input summed down to the output's shape. When the input's
 * innermost axis is kept, the input is walked in order and added into
 * the output (contiguous, vectorizable); else see sum_to_rows. */
void emit_sum_to(Emitter *E, Kernel *k)
{
	Node *x = k->members[0];
	Shape dom = x->in[0]->shape;
	char idx[256];
	long on = shape_numel(x->shape);
	Axis ax[MAXRANK + 1];
	int na = reduce_axes(dom, x->shape, ax);
	if (!ax[na - 1].kept) {
		sum_to_rows(E, dom, x->shape);
		return;
	}
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

/* mx = the largest of row[0, kd) */
static void row_max(Emitter *E, const char *row, long kd)
{
	emit(E, "%s mx = %s[0];", E->real, row);
	emit(E, "for (long c = 1; c < %ld; c++) {", kd);
	emit(E, "\tmx = %s[c] > mx ? %s[c] : mx;", row, row);
	emit(E, "}");
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
	row_max(E, "xr", kd);
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

/*
 * softmax_xent: per row, -sum_c t_c ((z_c - m) - log(sum)) in one pass
 * for the sum: the same rounding as log_softmax, then multiply and sum.
 */
void emit_softmax_xent(Emitter *E, Kernel *k)
{
	Node *x = k->members[0];
	Node *z = x->in[0];
	long kd = z->shape.dim[z->shape.rank - 1];
	emit(E, "for (long r = 0; r < %s%ld; r++) {",
	     x->shape.batched ? "(long)n * " : "", shape_numel(x->shape));
	E->indent++;
	emit(E, "const %s *restrict zr = a0 + r * %ld;", E->real, kd);
	emit(E, "const %s *restrict tr = a1 + r * %ld;", E->real, kd);
	row_max(E, "zr", kd);
	emit(E, "%s sum = 0;", E->real);
	emit(E, "for (long c = 0; c < %ld; c++) {", kd);
	emit(E, "\tsum += exp%s(zr[c] - mx);", E->fs);
	emit(E, "}");
	emit(E, "const %s logsum = log%s(sum);", E->real, E->fs);
	emit(E, "%s acc = 0;", E->real);
	emit(E, "for (long c = 0; c < %ld; c++) {", kd);
	emit(E, "\tacc += tr[c] * ((zr[c] - mx) - logsum);");
	emit(E, "}");
	emit(E, "o0[r] = -acc;");
	E->indent--;
	emit(E, "}");
}

/*
 * softmax_xent_dx: per row, d * (softmax(z) * sum(t) - t), the softmax
 * as the softmax kernel computes it, in the output: one exp a logit.
 */
void emit_softmax_xent_dx(Emitter *E, Kernel *k)
{
	Node *x = k->members[0];
	Node *d = x->in[2];
	long kd = x->shape.dim[x->shape.rank - 1];
	bool one = !d->shape.batched && shape_numel(d->shape) == 1;
	rows_loop(E, x, kd);
	emit(E, "const %s *restrict tr = a1 + r * %ld;", E->real, kd);
	emit(E, "const %s d = a2[%s];", E->real, one ? "0" : "r");
	row_max(E, "xr", kd);
	emit(E, "%s sum = 0, st = 0;", E->real);
	emit(E, "for (long c = 0; c < %ld; c++) {", kd);
	emit(E, "\tyr[c] = exp%s(xr[c] - mx);", E->fs);
	emit(E, "\tsum += yr[c];");
	emit(E, "\tst += tr[c];");
	emit(E, "}");
	emit(E, "for (long c = 0; c < %ld; c++) {", kd);
	emit(E, "\tyr[c] = (yr[c] / sum * st - tr[c]) * d;");
	emit(E, "}");
	E->indent--;
	emit(E, "}");
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
	if (x->shape.batched)	/* element i of the whole batch's mask */
		emit(E, "\to0[i] = nnrt_rand_uniform(key, row0 * %ld + i) < "
		     "%.17g ? 0 : %s;", shape_numel(x->shape), at->p,
		     emit_lit(E, 1 / (1 - at->p)));
	else
		emit(E, "\to0[i] = nnrt_rand_uniform(key, i) < %.17g ? 0 : %s;",
		     at->p, emit_lit(E, 1 / (1 - at->p)));
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

/*
 * The cost model of a small GEMM. OpenBLAS (0.3.21, small-matrix
 * kernels) takes 20-100 ns for a call of up to ~1000 multiply-adds and
 * then ~0.02 ns each; the loops below, their sizes literals, run at -O2
 * in 0.1-0.5 ns per multiply-add (measured on a Cooper Lake core: 4x8x2
 * 7 ns against 26 ns, 16x16x4 113 ns against 48 ns). So a product of at
 * most GEMM_LOOP_MACS multiply-adds, at the largest batch, is loops.
 */
enum { GEMM_LOOP_MACS = 256 };

static long dim_max(Dim d, int batch)
{
	return d.b ? d.c * batch : d.c;
}

/* "(n * 3)" for a product, so that it can be a factor */
static const char *factor(Emitter *E, const char *s)
{
	return strchr(s, ' ') ? arena_printf(&E->arena, "(%s)", s) : s;
}

/* C = op(A) @ op(B) as loops: rows of C as sums of rows of B scaled by
 * A (contiguous, vectorizable), or, when B is transposed or C has fewer
 * than 4 columns, each element a dot product. */
static void matmul_loops(Emitter *E, const Attr_matmul *at, Dim nn,
			 const char *ms, const char *ns, const char *ks)
{
	const char *n = factor(E, ns);
	const char *ai = at->ta ? arena_printf(&E->arena, "a0[p * %d + i]", at->ca)
				: arena_printf(&E->arena, "a0[i * %d + p]", at->ca);
	const char *bj = at->tb ? arena_printf(&E->arena, "a1[j * %d + p]", at->cb)
				: arena_printf(&E->arena, "a1[p * %d + j]", at->cb);
	emit(E, "for (long i = 0; i < %s; i++) {", ms);
	E->indent++;
	if (at->tb || (!nn.b && nn.c < 4)) {
		emit(E, "for (long j = 0; j < %s; j++) {", ns);
		emit(E, "\t%s acc = 0;", E->real);
		emit(E, "\tfor (long p = 0; p < %s; p++) {", ks);
		emit(E, "\t\tacc += %s * %s;", ai, bj);
		emit(E, "\t}");
		emit(E, "\to0[i * %s + j] = acc;", n);
		emit(E, "}");
	} else {
		emit(E, "for (long j = 0; j < %s; j++) {", ns);
		emit(E, "\to0[i * %s + j] = 0;", n);
		emit(E, "}");
		emit(E, "for (long p = 0; p < %s; p++) {", ks);
		emit(E, "\tconst %s a = %s;", E->real, ai);
		emit(E, "\tfor (long j = 0; j < %s; j++) {", ns);
		emit(E, "\t\to0[i * %s + j] += a * %s;", n, bj);
		emit(E, "\t}");
		emit(E, "}");
	}
	E->indent--;
	emit(E, "}");
}

/* C = op(A) @ op(B): row-major GEMM, transposes as flags; loops for a
 * small one at -O1 (see GEMM_LOOP_MACS) */
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
	int b = E->m->train.batch;
	if (E->o->opt > 0 &&
	    dim_max(m, b) * dim_max(kk, b) * dim_max(nn, b) <= GEMM_LOOP_MACS) {
		matmul_loops(E, at, nn, ms, ns, ks);
		return;
	}
	emit(E, "cblas_%sgemm(CblasRowMajor, %s, %s,",
	     E->o->f64 ? "d" : "s", at->ta ? "CblasTrans" : "CblasNoTrans",
	     at->tb ? "CblasTrans" : "CblasNoTrans");
	emit(E, "            %s, %s, %s,", ms, ns, ks);
	emit(E, "            1, a0, %d, a1, %d, 0, o0, %s);", at->ca, at->cb,
	     ns);
}

/* per sample C = op(A) @ op(B): one GEMM a sample; an unbatched operand
 * is the same matrix for every sample */
void emit_bmm(Emitter *E, Kernel *k)
{
	Node *x = k->members[0];
	const Attr_bmm *at = &x->attr.bmm;
	long sa = x->in[0]->shape.batched ? (long)at->m * at->k : 0;
	long sb = x->in[1]->shape.batched ? (long)at->k * at->n : 0;
	emit(E, "for (long b = 0; b < n; b++) {");
	emit(E, "\tcblas_%sgemm(CblasRowMajor, %s, %s,", E->o->f64 ? "d" : "s",
	     at->ta ? "CblasTrans" : "CblasNoTrans",
	     at->tb ? "CblasTrans" : "CblasNoTrans");
	emit(E, "\t            %d, %d, %d,", at->m, at->n, at->k);
	emit(E, "\t            1, a0 + b * %ld, %d, a1 + b * %ld, %d, 0, "
	     "o0 + b * %ld, %d);", sa, at->ta ? at->m : at->k, sb,
	     at->tb ? at->k : at->n, (long)at->m * at->n, at->n);
	emit(E, "}");
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
	 * number, and the batch's first row in the whole batch (a rank's
	 * slice, under MPI): its value is a function of them; a kernel with
	 * scratch takes it last, as s0 */
	int nargs = k->nins + k->nouts + (k->scratch > 0);
	if (op_info[k->members[0]->op].impure)
		emit(E, "static void @(int n, unsigned long seed, long step, "
		     "long row0%s", nargs ? "," : ")");
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
			emit_comment_text(E, emit_basename(x->loc.file)),
			x->loc.line, emit_comment_text(E, x->origin));
	for (const char *p = body; *p; p++) {
		if (*p == '@')
			fputs(k->name, E->f);
		else
			fputc(*p, E->f);
	}
	fputc('\n', E->f);
}
