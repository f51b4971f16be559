/*
 * ops.c - every primitive op's shape rule and derivative rule, side by
 * side, in the order of ops.def, and the op table. The math of
 * elementwise ops is written once in ops.def and compiled here twice: as
 * text, the emitter's template, and as C, their value on constants
 * (op_eval); kernels (matmul, sum_to, softmax, log_softmax, onehot) name
 * their emitter there, defined in emit_kernel.c.
 *
 * A derivative rule receives dy, the gradient of the loss with respect to
 * the op's output (same shape as the output), and returns the contribution
 * to the gradient of input i, already summed down to that input's shape.
 * It is expressed as IR, so the backward pass is optimized and emitted
 * like the forward pass.
 */
#include "nnc.h"

#include <math.h>
#include <string.h>

#define FAIL(...) (snprintf(msg, msgsz, __VA_ARGS__), false)
#define TWO_OVER_SQRT_PI 1.12837916709551257390 /* 2 / sqrt(pi), erf' at 0 */

/* ---- helpers ------------------------------------------------------ */

static Node *c(Graph *g, double v)
{
	return ir_const(g, v);
}

static Node *add(Graph *g, Node *a, Node *b) { return ir_op2(g, OP_ADD, a, b); }
static Node *sub(Graph *g, Node *a, Node *b) { return ir_op2(g, OP_SUB, a, b); }
static Node *mul(Graph *g, Node *a, Node *b) { return ir_op2(g, OP_MUL, a, b); }
static Node *dvd(Graph *g, Node *a, Node *b) { return ir_op2(g, OP_DIV, a, b); }

/* Sums x over its last axis, keeping it as a 1. */
static Node *sum_last(Graph *g, Node *x)
{
	Shape s = x->shape;
	if (s.rank == 0)
		return x;
	s.dim[s.rank - 1] = 1;
	return ir_sum_to(g, x, s);
}

/* The gradient flowing to input i of an elementwise op: v summed down to
 * the input's (possibly broadcast) shape. */
static Node *to_input(Graph *g, Node *n, int i, Node *v)
{
	return ir_sum_to(g, v, n->in[i]->shape);
}

static char *sstr(Shape s, char *buf)
{
	return shape_str(s, buf, 64);
}

/* ---- leaves --------------------------------------------------------- */

/* input, param, const, batchsize: the constructor sets the shape */
static bool shape_leaf(Node *n, char *msg, size_t msgsz)
{
	return true;
}

/* ---- unary elementwise ---------------------------------------------- */

static bool shape_same(Node *n, char *msg, size_t msgsz)
{
	n->shape = n->in[0]->shape;
	return true;
}

/* d(-x) = -dy */
static Node *grad_neg(Graph *g, Node *n, Node *dy, int i)
{
	return ir_op1(g, OP_NEG, dy);
}

/* d exp(x) = dy * exp(x) = dy * y */
static Node *grad_exp(Graph *g, Node *n, Node *dy, int i)
{
	return mul(g, dy, n);
}

/* d log(x) = dy / x */
static Node *grad_log(Graph *g, Node *n, Node *dy, int i)
{
	return dvd(g, dy, n->in[0]);
}

/* d relu(x) = dy * (x > 0) = dy * (y > 0): from the output, which the
 * next layer keeps anyway, so the backward needs no mask of its own */
static Node *grad_relu(Graph *g, Node *n, Node *dy, int i)
{
	return mul(g, dy, ir_op2(g, OP_GT, n, c(g, 0)));
}

/* d sigmoid(x) = dy * y * (1 - y) */
static Node *grad_sigmoid(Graph *g, Node *n, Node *dy, int i)
{
	return mul(g, mul(g, dy, n), sub(g, c(g, 1), n));
}

/* d tanh(x) = dy * (1 - y^2) */
static Node *grad_tanh(Graph *g, Node *n, Node *dy, int i)
{
	return mul(g, dy, sub(g, c(g, 1), mul(g, n, n)));
}

/* d |x| = dy * sign(x), sign(0) = 0 as PyTorch: dy * ((x > 0) - (x < 0)) */
static Node *grad_abs(Graph *g, Node *n, Node *dy, int i)
{
	Node *x = n->in[0];
	return mul(g, dy, sub(g, ir_op2(g, OP_GT, x, c(g, 0)),
			      ir_op2(g, OP_LT, x, c(g, 0))));
}

/* d sqrt(x) = dy / (2 y), PyTorch's formula: infinite at 0 */
static Node *grad_sqrt(Graph *g, Node *n, Node *dy, int i)
{
	return dvd(g, dy, mul(g, c(g, 2), n));
}

/* d erf(x) = dy 2 / sqrt(pi) exp(-x^2) */
static Node *grad_erf(Graph *g, Node *n, Node *dy, int i)
{
	Node *x = n->in[0];
	Node *e = ir_op1(g, OP_EXP, ir_op1(g, OP_NEG, mul(g, x, x)));
	return mul(g, dy, mul(g, c(g, TWO_OVER_SQRT_PI), e));
}

/* PyTorch's Softplus (beta 1, threshold 20): x where x > 20, else
 * log(1 + exp(x)). d/dx = dy where x > 20, else dy z / (z + 1) with
 * z = exp(x) (torch's formula) */
static Node *grad_softplus(Graph *g, Node *n, Node *dy, int i)
{
	Node *x = n->in[0], *z = ir_op1(g, OP_EXP, x);
	Node *big = ir_op2(g, OP_GT, x, c(g, 20));
	Node *sig = dvd(g, mul(g, dy, z), add(g, z, c(g, 1)));
	return ir_op3(g, OP_WHERE, big, dy, sig);
}

/* ---- binary elementwise, with broadcasting -------------------------- */

/* the operands broadcast together (numpy rules), two or more */
static bool shape_bcast(Node *n, char *msg, size_t msgsz)
{
	char a[64], b[64];
	n->shape = n->in[0]->shape;
	for (int i = 1; i < n->nin; i++)
		if (!shape_broadcast(n->shape, n->in[i]->shape, &n->shape))
			return FAIL("cannot broadcast %s with %s",
				    sstr(n->shape, a), sstr(n->in[i]->shape, b));
	return true;
}

/* d(a + b)/da = dy ; d/db = dy */
static Node *grad_add(Graph *g, Node *n, Node *dy, int i)
{
	return to_input(g, n, i, dy);
}

/* d(a - b)/da = dy ; d/db = -dy */
static Node *grad_sub(Graph *g, Node *n, Node *dy, int i)
{
	return to_input(g, n, i, i == 0 ? dy : ir_op1(g, OP_NEG, dy));
}

/* d(a * b)/da = dy * b ; d/db = dy * a */
static Node *grad_mul(Graph *g, Node *n, Node *dy, int i)
{
	return to_input(g, n, i, mul(g, dy, n->in[1 - i]));
}

/* d(a / b)/da = dy / b ; d/db = -dy * a / b^2 = -dy * y / b */
static Node *grad_div(Graph *g, Node *n, Node *dy, int i)
{
	Node *b = n->in[1];
	if (i == 0)
		return to_input(g, n, 0, dvd(g, dy, b));
	return to_input(g, n, 1, ir_op1(g, OP_NEG, dvd(g, mul(g, dy, n), b)));
}

/* d(a ^ b)/da = dy * b * a^(b-1) ; d/db = dy * y * log(a) */
static Node *grad_pow(Graph *g, Node *n, Node *dy, int i)
{
	Node *a = n->in[0], *b = n->in[1];
	if (i == 0) {
		Node *p = ir_op2(g, OP_POW, a, sub(g, b, c(g, 1)));
		return to_input(g, n, 0, mul(g, dy, mul(g, b, p)));
	}
	return to_input(g, n, 1, mul(g, dy, mul(g, n, ir_op1(g, OP_LOG, a))));
}

/* The gradient of max (gt = OP_GT, ge = OP_GE) or min (OP_LT, OP_LE) to
 * input i, p, against the other one, q: dy * ((p > q) + (p >= q)) / 2,
 * all of dy to the one chosen, half to each of equal arguments
 * (torch.maximum and torch.minimum; exact: the factor is 0, 1/2 or 1). */
static Node *grad_extreme(Graph *g, Node *n, Node *dy, int i, OpKind gt,
			  OpKind ge)
{
	Node *p = n->in[i], *q = n->in[1 - i];
	Node *share = add(g, ir_op2(g, gt, p, q), ir_op2(g, ge, p, q));
	return to_input(g, n, i, mul(g, dy, mul(g, share, c(g, 0.5))));
}

/* d max(a, b)/da = dy * ((a > b) + (a >= b)) / 2 ; d/db likewise */
static Node *grad_max(Graph *g, Node *n, Node *dy, int i)
{
	return grad_extreme(g, n, dy, i, OP_GT, OP_GE);
}

/* d min(a, b)/da = dy * ((a < b) + (a <= b)) / 2 ; d/db likewise */
static Node *grad_min(Graph *g, Node *n, Node *dy, int i)
{
	return grad_extreme(g, n, dy, i, OP_LT, OP_LE);
}

/* leaky_relu(x, s) = x where x > 0, else s x (s a constant):
 * d/dx = dy where x > 0, else dy s (so s at 0, as PyTorch) ;
 * d/ds = 0 where x > 0, else dy x */
static Node *grad_leaky_relu(Graph *g, Node *n, Node *dy, int i)
{
	Node *x = n->in[0], *pos = ir_op2(g, OP_GT, x, c(g, 0));
	if (i == 0)
		return to_input(g, n, 0, ir_op3(g, OP_WHERE, pos, dy,
						mul(g, dy, n->in[1])));
	return to_input(g, n, 1, ir_op3(g, OP_WHERE, pos, c(g, 0),
					mul(g, dy, x)));
}

/* elu(x, a) = x where x > 0, else a (exp(x) - 1) (a a constant):
 * d/dx = dy where x > 0, else dy a exp(x) (so a at 0, as PyTorch) ;
 * d/da = 0 where x > 0, else dy (exp(x) - 1) */
static Node *grad_elu(Graph *g, Node *n, Node *dy, int i)
{
	Node *x = n->in[0], *ex = ir_op1(g, OP_EXP, x);
	Node *pos = ir_op2(g, OP_GT, x, c(g, 0));
	if (i == 0)
		return to_input(g, n, 0, ir_op3(g, OP_WHERE, pos, dy,
						mul(g, mul(g, dy, n->in[1]), ex)));
	return to_input(g, n, 1, ir_op3(g, OP_WHERE, pos, c(g, 0),
					mul(g, dy, sub(g, ex, c(g, 1)))));
}

/* PyTorch's BCELoss, elementwise, each log clamped at -100:
 *   bce(p, y) = -(y max(log p, -100) + (1 - y) max(log(1 - p), -100))
 * d/dp = dy (p - y) / max(p (1 - p), 1e-12)   (PyTorch's backward: finite
 *        where p is exactly 0 or 1, so a saturated sigmoid gets 0)
 * d/dy = dy (max(log(1 - p), -100) - max(log p, -100)) */
static Node *grad_bce(Graph *g, Node *n, Node *dy, int i)
{
	Node *p = n->in[0], *y = n->in[1];
	if (i == 0) {
		Node *pq = mul(g, p, sub(g, c(g, 1), p));
		Node *den = ir_op2(g, OP_MAX, pq, c(g, 1e-12));
		return to_input(g, n, 0, mul(g, dy, dvd(g, sub(g, p, y), den)));
	}
	Node *lq = ir_op2(g, OP_MAX, ir_op1(g, OP_LOG, sub(g, c(g, 1), p)),
			  c(g, -100));
	Node *lp = ir_op2(g, OP_MAX, ir_op1(g, OP_LOG, p), c(g, -100));
	return to_input(g, n, 1, mul(g, dy, sub(g, lq, lp)));
}

/* PyTorch's BCEWithLogitsLoss, elementwise, in the stable form
 *   bce_logits(z, y) = max(z, 0) - z y + log(1 + exp(-|z|))
 * d/dz = dy (sigmoid(z) - y) (torch's backward) ; d/dy = -dy z */
static Node *grad_bce_logits(Graph *g, Node *n, Node *dy, int i)
{
	Node *z = n->in[0], *y = n->in[1];
	if (i == 0)
		return to_input(g, n, 0, mul(g, dy, sub(g, ir_op1(g, OP_SIGMOID,
								  z), y)));
	return to_input(g, n, 1, ir_op1(g, OP_NEG, mul(g, dy, z)));
}

static bool shape_where(Node *n, char *msg, size_t msgsz)
{
	Shape ab;
	char a[64], b[64];
	if (!shape_broadcast(n->in[1]->shape, n->in[2]->shape, &ab))
		return FAIL("cannot broadcast %s with %s",
			    sstr(n->in[1]->shape, a), sstr(n->in[2]->shape, b));
	if (!shape_broadcast(n->in[0]->shape, ab, &n->shape))
		return FAIL("condition %s does not broadcast with %s",
			    sstr(n->in[0]->shape, a), sstr(ab, b));
	return true;
}

/* d where(c, a, b)/da = where(c, dy, 0) ; d/db = where(c, 0, dy) */
static Node *grad_where(Graph *g, Node *n, Node *dy, int i)
{
	if (i == 0)
		return NULL;
	Node *zero = c(g, 0);
	Node *v = i == 1 ? ir_op3(g, OP_WHERE, n->in[0], dy, zero)
			 : ir_op3(g, OP_WHERE, n->in[0], zero, dy);
	return to_input(g, n, i, v);
}

/* clamp(x, lo, hi) = min(max(x, lo), hi) (sema keeps lo <= hi):
 * d/dx = dy * (x >= lo) * (x <= hi), the bounds included as PyTorch's ;
 * d/dlo = dy * (x < lo) ; d/dhi = dy * (x > hi) */
static Node *grad_clamp(Graph *g, Node *n, Node *dy, int i)
{
	Node *x = n->in[0], *lo = n->in[1], *hi = n->in[2], *mask;
	if (i == 0)
		mask = mul(g, ir_op2(g, OP_GE, x, lo), ir_op2(g, OP_LE, x, hi));
	else if (i == 1)
		mask = ir_op2(g, OP_LT, x, lo);
	else
		mask = ir_op2(g, OP_GT, x, hi);
	return to_input(g, n, i, mul(g, dy, mask));
}

/* broadcast(x) to the node's shape */
static bool shape_to(Node *n, char *msg, size_t msgsz)
{
	char a[64], b[64];
	if (!shape_broadcasts_to(n->in[0]->shape, n->shape))
		return FAIL("%s does not broadcast to %s",
			    sstr(n->in[0]->shape, a), sstr(n->shape, b));
	return true;
}

/* d broadcast(x) = sum_to(dy, shape(x)) */
static Node *grad_broadcast(Graph *g, Node *n, Node *dy, int i)
{
	return ir_sum_to(g, dy, n->in[0]->shape);
}

/* ---- matmul --------------------------------------------------------- */

/*
 * C = op(A) @ op(B), op = transpose when ta / tb. A is stored as a
 * row-major matrix of ca columns (rows = its elements / ca, including the
 * batch dimension when A is batched); likewise B with cb columns.
 *   !ta: op(A) = [rows(A), ca]    ta: op(A) = [ca, rows(A)]
 *   !tb: op(B) = [rows(B), cb]    tb: op(B) = [cb, rows(B)]
 * C is [M, N] row-major, in whatever per-sample shape the node has.
 */
static Dim rows(const Node *x, long cols)
{
	Dim d = {shape_numel(x->shape) / cols, x->shape.batched};
	return d;
}

void mm_dims(const Node *n, Dim *m, Dim *k, Dim *nn)
{
	const Attr_matmul *at = &n->attr.matmul;
	bool ta = at->ta, tb = at->tb;
	Dim ca = {at->ca, false}, cb = {at->cb, false};
	Dim ra = rows(n->in[0], ca.c), rb = rows(n->in[1], cb.c);
	*m = ta ? ca : ra;
	Dim ka = ta ? ra : ca;
	*k = tb ? cb : rb;
	*nn = tb ? rb : cb;
	if (ka.c != k->c || ka.b != k->b)
		k->c = -1; /* signals a mismatch to shape_matmul */
}

static bool shape_matmul(Node *n, char *msg, size_t msgsz)
{
	Dim m, k, nn;
	char a[64], b[64];
	int cols[2] = {n->attr.matmul.ca, n->attr.matmul.cb};
	for (int i = 0; i < 2; i++)
		if (cols[i] <= 0 || shape_numel(n->in[i]->shape) % cols[i])
			return FAIL("operand %d %s has no %d columns", i,
				    sstr(n->in[i]->shape, a), cols[i]);
	mm_dims(n, &m, &k, &nn);
	if (k.c < 0)
		return FAIL("inner dimensions differ: %s @ %s",
			    sstr(n->in[0]->shape, a), sstr(n->in[1]->shape, b));
	if (nn.b || (m.b && nn.b))
		return FAIL("the batch dimension cannot be a result column");
	if (shape_numel(n->shape) != m.c * nn.c || n->shape.batched != m.b)
		return FAIL("result %s is not [%ld, %ld]", sstr(n->shape, a),
			    m.c, nn.c);
	return true;
}

/*
 * Y = op(A) @ op(B):
 *   !ta: dA = dY @ op(B)^T          ta: dA = op(B) @ dY^T
 *   !tb: dB = op(A)^T @ dY          tb: dB = dY^T @ op(A)
 */
static Node *grad_matmul(Graph *g, Node *n, Node *dy, int i)
{
	bool ta = n->attr.matmul.ta, tb = n->attr.matmul.tb;
	int ca = n->attr.matmul.ca, cb = n->attr.matmul.cb;
	Dim m, k, nn;
	mm_dims(n, &m, &k, &nn);
	Node *A = n->in[0], *B = n->in[1];
	if (i == 0) {
		if (!ta)
			return ir_matmul(g, dy, B, false, !tb, nn.c, cb,
					 A->shape);
		return ir_matmul(g, B, dy, tb, true, cb, nn.c, A->shape);
	}
	if (!tb)
		return ir_matmul(g, A, dy, !ta, false, ca, nn.c, B->shape);
	return ir_matmul(g, dy, A, true, ta, nn.c, ca, B->shape);
}

/* ---- reductions ----------------------------------------------------- */

/* sum_to(x): sums x down to the node's shape, which broadcasts to x's */
static bool shape_sum_to(Node *n, char *msg, size_t msgsz)
{
	char a[64], b[64];
	if (!shape_broadcasts_to(n->shape, n->in[0]->shape))
		return FAIL("%s does not sum to %s", sstr(n->in[0]->shape, a),
			    sstr(n->shape, b));
	return true;
}

/* d sum_to(x) = broadcast(dy, shape(x)) */
static Node *grad_sum_to(Graph *g, Node *n, Node *dy, int i)
{
	return ir_broadcast(g, dy, n->in[0]->shape);
}

/* softmax over the last axis: d/dx = y * (dy - sum_last(dy * y)) */
static Node *grad_softmax(Graph *g, Node *n, Node *dy, int i)
{
	Node *s = sum_last(g, mul(g, dy, n));
	return mul(g, n, sub(g, dy, s));
}

/* log_softmax over the last axis: d/dx = dy - exp(y) * sum_last(dy) */
static Node *grad_logsoftmax(Graph *g, Node *n, Node *dy, int i)
{
	Node *p = ir_op1(g, OP_EXP, n);
	return sub(g, dy, mul(g, p, sum_last(g, dy)));
}

/* softmax_xent(z, t): t of z's shape; one value per row of the last axis */
static bool shape_xent(Node *n, char *msg, size_t msgsz)
{
	char a[64], b[64];
	Shape z = n->in[0]->shape, t = n->in[1]->shape;
	if (z.rank == 0 || !shape_eq(z, t))
		return FAIL("softmax_xent of %s and %s: expected logits and a "
			    "target of one shape", sstr(z, a), sstr(t, b));
	n->shape = z;
	n->shape.rank--;
	return true;
}

/* softmax_xent_dx(z, t, d): of z's shape; d has the rows' shape, or is
 * one unbatched scalar for every row */
static bool shape_xent_dx(Node *n, char *msg, size_t msgsz)
{
	char a[64], b[64];
	Shape z = n->in[0]->shape, d = n->in[2]->shape, row = z;
	row.rank--;
	if (z.rank == 0 || !shape_eq(z, n->in[1]->shape) ||
	    !(shape_eq(d, row) || (!d.batched && shape_numel(d) == 1)))
		return FAIL("softmax_xent_dx of %s with %s per row", sstr(z, a),
			    sstr(d, b));
	n->shape = z;
	return true;
}

/*
 * y = -sum_c t_c log_softmax(z)_c = sum_c t_c (lse(z) - z_c):
 *   d/dz = dy * (softmax(z) sum_c t_c - t): softmax_xent_dx, one loop
 *          over the logits (sum_c t_c is 1 for a one-hot t);
 *   d/dt = -dy * log_softmax(z).
 */
static Node *grad_xent(Graph *g, Node *n, Node *dy, int i)
{
	Node *z = n->in[0], *t = n->in[1];
	if (i == 0)
		return ir_op3(g, OP_SOFTMAX_XENT_DX, z, t, dy);
	Shape s = z->shape;
	Node *d = dy;
	if (dy->shape.rank > 0) {
		s.dim[s.rank - 1] = 1;
		d = ir_reshape(g, dy, s);
	}
	return mul(g, ir_op1(g, OP_NEG, d), ir_op1(g, OP_LOGSOFTMAX, z));
}

/* onehot(y, K): a per-sample class index to a [K] indicator vector; the
 * target is data, so it has no derivative. */
static bool shape_onehot(Node *n, char *msg, size_t msgsz)
{
	char a[64];
	if (n->in[0]->shape.rank != 0)
		return FAIL("onehot of %s: expected a per-sample scalar",
			    sstr(n->in[0]->shape, a));
	int k = n->attr.onehot.k;
	n->shape = shape_make(n->in[0]->shape.batched, 1, &k);
	return true;
}

/* ---- views ---------------------------------------------------------- */

static bool shape_reshape(Node *n, char *msg, size_t msgsz)
{
	char a[64], b[64];
	if (shape_numel(n->shape) != shape_numel(n->in[0]->shape) ||
	    n->shape.batched != n->in[0]->shape.batched)
		return FAIL("cannot reshape %s to %s", sstr(n->in[0]->shape, a),
			    sstr(n->shape, b));
	return true;
}

/* d reshape(x) = reshape(dy, shape(x)) */
static Node *grad_reshape(Graph *g, Node *n, Node *dy, int i)
{
	return ir_reshape(g, dy, n->in[0]->shape);
}

/* ---- values on constants --------------------------------------------- */

/* ---- per-sample matrix products ----------------------------------- */

/*
 * bmm: per sample, C [m, n] = op(A) [m, k] @ op(B) [k, n], A stored as
 * [m, k] (or [k, m] when ta), B as [k, n] (or [n, k] when tb). Either
 * operand may be unbatched (the same matrix for every sample); the result
 * is batched.
 */
static bool shape_bmm(Node *n, char *msg, size_t msgsz)
{
	char a[64], b[64];
	const Attr_bmm *at = &n->attr.bmm;
	Shape x = n->in[0]->shape, y = n->in[1]->shape;
	if (shape_numel(x) != (long)at->m * at->k ||
	    shape_numel(y) != (long)at->k * at->n ||
	    shape_numel(n->shape) != (long)at->m * at->n ||
	    !n->shape.batched || !(x.batched || y.batched))
		return FAIL("%s @ %s is not [%d, %d] @ [%d, %d] per sample",
			    sstr(x, a), sstr(y, b), at->m, at->k, at->k, at->n);
	return true;
}

/* v (a batched [r, c] gradient) as input i's shape, summed over the batch
 * if that input is the same for every sample */
static Node *as_input(Graph *g, Node *n, int i, Node *v)
{
	Shape s = n->in[i]->shape;
	s.batched = true;
	v = ir_reshape(g, v, s);
	return n->in[i]->shape.batched ? v : ir_sum_to(g, v, n->in[i]->shape);
}

static Node *bmm(Graph *g, Node *a, Node *b, bool ta, bool tb, int m, int k,
		 int nn)
{
	int d[2] = {m, nn};
	return ir_bmm(g, a, b, ta, tb, m, k, nn, shape_make(true, 2, d));
}

/*
 * C = op(A) @ op(B):
 *   dA = dC @ op(B)^T        stored transposed (ta): op(B) @ dC^T
 *   dB = op(A)^T @ dC        stored transposed (tb): dC^T @ op(A)
 */
static Node *grad_bmm(Graph *g, Node *n, Node *dy, int i)
{
	const Attr_bmm *at = &n->attr.bmm;
	Node *a = n->in[0], *b = n->in[1], *r;
	if (i == 0)
		r = at->ta ? bmm(g, b, dy, at->tb, true, at->k, at->n, at->m)
			   : bmm(g, dy, b, false, !at->tb, at->m, at->n, at->k);
	else
		r = at->tb ? bmm(g, dy, a, true, at->ta, at->n, at->m, at->k)
			   : bmm(g, a, dy, !at->ta, false, at->k, at->m, at->n);
	return as_input(g, n, i, r);
}

/* ---- convolution ---------------------------------------------------- */

/* The output size of a window of k with stride s and padding p sliding
 * over n, floor mode (PyTorch's): floor((n + 2p - k) / s) + 1; below 1 when
 * the window does not fit. */
long ops_window_out(long n, int k, int s, int p)
{
	long span = n + 2L * p - k;
	return span < 0 ? 0 : span / s + 1;
}

/* [C, H, W] under a conv of F filters (or a pool: F = C, pad 0), into out */
static bool conv_out(Shape x, int f, int k, int s, int p, Shape *out)
{
	if (x.rank != 3 || !x.batched)
		return false;
	long oh = ops_window_out(x.dim[1], k, s, p);
	long ow = ops_window_out(x.dim[2], k, s, p);
	int d[3] = {f, (int)oh, (int)ow};
	*out = shape_make(true, 3, d);
	return oh >= 1 && ow >= 1;
}

/* conv2d(x, w): x [B, C, H, W], w [F, C, k, k] -> [B, F, OH, OW] */
static bool shape_conv(Node *n, char *msg, size_t msgsz)
{
	char a[64], b[64];
	const Attr_conv *at = &n->attr.conv;
	Shape x = n->in[0]->shape, w = n->in[1]->shape;
	if (w.batched || w.rank != 4 || w.dim[2] != at->k || w.dim[3] != at->k ||
	    x.rank != 3 || w.dim[1] != x.dim[0])
		return FAIL("input %s and weight %s do not fit k=%d", sstr(x, a),
			    sstr(w, b), at->k);
	if (!conv_out(x, w.dim[0], at->k, at->stride, at->pad, &n->shape))
		return FAIL("kernel %d does not fit %s", at->k, sstr(x, a));
	return true;
}

/* conv2d_dx(dy, w) has the shape of the forward's x, set by the
 * constructor: the forward of that shape must give dy's */
static bool shape_conv_dx(Node *n, char *msg, size_t msgsz)
{
	char a[64], b[64];
	const Attr_conv *at = &n->attr.conv;
	Shape y, w = n->in[1]->shape;
	if (!conv_out(n->shape, w.dim[0], at->k, at->stride, at->pad, &y) ||
	    !shape_eq(y, n->in[0]->shape) || w.dim[1] != n->shape.dim[0])
		return FAIL("dx %s does not give dy %s", sstr(n->shape, a),
			    sstr(n->in[0]->shape, b));
	return true;
}

/* conv2d_dw(x, dy) has the weight's shape [F, C, k, k] */
static bool shape_conv_dw(Node *n, char *msg, size_t msgsz)
{
	char a[64], b[64];
	const Attr_conv *at = &n->attr.conv;
	Shape y, x = n->in[0]->shape, w = n->shape;
	if (w.batched || w.rank != 4 || w.dim[1] != x.dim[0] ||
	    !conv_out(x, w.dim[0], at->k, at->stride, at->pad, &y) ||
	    !shape_eq(y, n->in[1]->shape))
		return FAIL("dw %s does not fit x %s", sstr(w, a), sstr(x, b));
	return true;
}

/*
 * y = conv2d(x, w):
 *   dx = conv2d_dx(dy, w)   the transposed convolution (col2im of w^T dy)
 *   dw = conv2d_dw(x, dy)   the sum over the batch of dy im2col(x)^T
 */
static Node *grad_conv(Graph *g, Node *n, Node *dy, int i)
{
	Node *in[2] = {i == 0 ? dy : n->in[0], i == 0 ? n->in[1] : dy};
	return ir_shaped(g, i == 0 ? OP_CONV2D_DX : OP_CONV2D_DW, 2, in,
			 n->attr, n->in[i]->shape);
}

/* The im2col matrix of one sample, [C k k, OH OW]: the forward and dw
 * read x through it, dx is added up from it (col2im). x [C, H, W] and
 * y [F, OH, OW] are the forward's. */
static long conv_scratch(Shape x, Shape y, int k)
{
	return x.dim[0] * k * k * y.dim[1] * y.dim[2];
}

static long scratch_conv(const Node *n, int batch)
{
	return conv_scratch(n->in[0]->shape, n->shape, n->attr.conv.k);
}

static long scratch_conv_dx(const Node *n, int batch)
{
	return conv_scratch(n->shape, n->in[0]->shape, n->attr.conv.k);
}

/* dw also sums dw^T [C k k, F] and, for many input channels, lays out
 * each sample's dy^T [OH OW, F] (see emit_conv2d_dw) */
static long scratch_conv_dw(const Node *n, int batch)
{
	Shape x = n->in[0]->shape, y = n->in[1]->shape;
	long ckk = x.dim[0] * n->attr.conv.k * n->attr.conv.k;
	return conv_scratch(x, y, n->attr.conv.k) +
	       (ckk + y.dim[1] * y.dim[2]) * y.dim[0];
}

/* ---- pooling -------------------------------------------------------- */

/* maxpool(x), avgpool(x): [B, C, H, W] -> [B, C, OH, OW] */
static bool shape_pool(Node *n, char *msg, size_t msgsz)
{
	char a[64];
	const Attr_pool *at = &n->attr.pool;
	Shape x = n->in[0]->shape;
	if (!conv_out(x, x.dim[0], at->size, at->stride, 0, &n->shape))
		return FAIL("window %d does not fit %s", at->size, sstr(x, a));
	return true;
}

/* maxpool_dx(x, dy), avgpool_dx(dy): the forward's x's shape, set by the
 * constructor; dy is the last input */
static bool shape_pool_dx(Node *n, char *msg, size_t msgsz)
{
	char a[64], b[64];
	const Attr_pool *at = &n->attr.pool;
	Shape y;
	Node *dy = n->in[n->nin - 1];
	if (!conv_out(n->shape, n->shape.dim[0], at->size, at->stride, 0, &y) ||
	    !shape_eq(y, dy->shape) ||
	    (n->nin == 2 && !shape_eq(n->in[0]->shape, n->shape)))
		return FAIL("dx %s does not give dy %s", sstr(n->shape, a),
			    sstr(dy->shape, b));
	return true;
}

/* d maxpool(x) = maxpool_dx(x, dy): each window's dy goes to the first
 * position of its maximum (PyTorch's choice among equal values) */
static Node *grad_maxpool(Graph *g, Node *n, Node *dy, int i)
{
	Node *in[2] = {n->in[0], dy};
	return ir_shaped(g, OP_MAXPOOL_DX, 2, in, n->attr, n->in[0]->shape);
}

/* d avgpool(x) = avgpool_dx(dy): each window's dy / size^2 to each of its
 * positions */
static Node *grad_avgpool(Graph *g, Node *n, Node *dy, int i)
{
	return ir_shaped(g, OP_AVGPOOL_DX, 1, &dy, n->attr, n->in[0]->shape);
}

/* An elementwise op's value on constant operands, in double: its MATH
 * expression from ops.def, compiled here with operand i as v[i]. */
double op_eval(OpKind op, const double *v)
{
#define X(i) v[i]
#define MATH(expr) return (expr);
#define NO_MATH break;
#define OP(id, nm, nin, cls, attrs, impure, shape, grad, math, emit, scratch) \
	case OP_##id: math
	switch (op) {
#include "ops.def"
	case OP_COUNT:
		break;
	}
#undef X
#undef MATH
#undef NO_MATH
	ice("op_eval: %s is not elementwise", op_info[op].name);
}

/* ---- the table ------------------------------------------------------ */

/* an elementwise op's math as text, the emitter's template */
#define MATH(expr) #expr
#define NO_MATH NULL
const OpInfo op_info[OP_COUNT] = {
#define OP(id, nm, nin, cls, attrs, impure, shape, grad, math, emit, scratch) \
	[OP_##id] = {nm, nin, cls, attrs, impure, shape, grad, math, emit, scratch},
#include "ops.def"
};
#undef MATH
#undef NO_MATH
