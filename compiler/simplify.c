/*
 * simplify.c - algebraic simplification, repeated to a fixed point.
 *
 * A node is replaced by a cheaper value of exactly its shape, so no root
 * and no user ever sees a shape change. A "constant" below is a CONST or
 * a broadcast of one; when the replacement is smaller than the node (x in
 * x + broadcast(0)) it is broadcast back to the node's shape.
 *
 *   x + 0, 0 + x, x - 0, x * 1, 1 * x, x / 1, x ^ 1    -> x
 *   x * 0, 0 * x                  -> 0 (the zero operand, broadcast)
 *   x ^ 0                         -> 1 (C's pow(x, 0) is 1 for every x)
 *   x ^ 2                         -> x * x
 *   0 - x, x * -1, -1 * x, x / -1 -> -x
 *   --x                           -> x
 *   a + -b -> a - b      -a + b -> b - a      a - -b -> a + b
 *   -a * -b -> a * b     -a / -b -> a / b
 *   -(a - b) -> b - a                      if a - b has no other use
 *   a + x*-y -> a - x*y, a - x*-y -> a + x*y, -(x*-y) -> x*y (and -x*y,
 *     x/-y, -x/y)                          if x*-y has no other use
 *   sum_to, broadcast, reshape to their input's shape   -> the input
 *   reshape(reshape(x)), broadcast(broadcast(x)) -> one reshape / broadcast
 *   sum_to(sum_to(x)) -> one sum_to        if the inner one has no other use
 *   where(c, a, b) with a constant c -> a or b;  where(c, a, a) -> a
 *   op(.., broadcast(y), ..) -> op(.., y, ..)   if the shape stays the same
 *                                 (elementwise ops broadcast by themselves)
 *   f(broadcast(y)) -> broadcast(f(y))   f unary elementwise, if the
 *                                 broadcast has no other use
 *   softmax_xent_dx(z, t, broadcast(s)) -> softmax_xent_dx(z, t, s)
 *                                 s one unbatched scalar
 *
 * x * 0 -> 0 assumes x is finite (inf * 0 is a NaN); the other rewrites
 * are exact up to the sign of a zero. No rule rewrites an impure node
 * (ops.def); a rebuilt node keeps the attributes of the one it stands for.
 * New nodes inherit the location of the node they replace.
 *
 * requires: topological order, shapes;
 * preserves: topological order (restored with ir_toposort), shapes, the
 * value of every root; unused nodes are left for dce.
 */
#include "nnc.h"

#include <stdlib.h>

enum { MAX_SWEEPS = 1000 };

/* ---- operands ------------------------------------------------------- */

/* The value of a constant operand: a CONST or a broadcast CONST. */
static bool const_val(const Node *x, double *v)
{
	if (x->op == OP_BROADCAST)
		x = x->in[0];
	if (x->op != OP_CONST)
		return false;
	*v = x->attr.constant.value;
	return true;
}

static bool is_val(const Node *x, double v)
{
	double c;
	return const_val(x, &c) && c == v;
}

/* x as a value of n's shape: x itself, or x broadcast; NULL if x is not
 * of a shape that broadcasts to n's. */
static Node *fit(Graph *g, Node *n, Node *x)
{
	if (shape_eq(x->shape, n->shape))
		return x;
	if (x->op == OP_BROADCAST)
		x = x->in[0];
	if (!shape_broadcasts_to(x->shape, n->shape))
		return NULL;
	return ir_broadcast(g, x, n->shape);
}

/* A new elementwise node op(a[, b]) standing for `like`, or NULL (and
 * nothing built) when its shape would differ from like's. */
static Node *mk(Graph *g, Node *like, OpKind op, Node *a, Node *b)
{
	Shape s = a->shape;
	if (b && !shape_broadcast(a->shape, b->shape, &s))
		return NULL;
	if (!shape_eq(s, like->shape))
		return NULL;
	return b ? ir_op2(g, op, a, b) : ir_op1(g, op, a);
}

/* m = x * -y (or -x * y, x / -y, -x / y) used only once: x * y (x / y),
 * so that the sign can be absorbed by m's one user; else NULL. */
static Node *unneg(Graph *g, Node *m)
{
	if ((m->op != OP_MUL && m->op != OP_DIV) || m->nuses != 1)
		return NULL;
	Node *a = m->in[0], *b = m->in[1];
	bool na = a->op == OP_NEG, nb = b->op == OP_NEG;
	if (na == nb)
		return NULL;
	return mk(g, m, m->op, na ? a->in[0] : a, nb ? b->in[0] : b);
}

/* ---- the rules, one function per op ------------------------------------ */

static Node *simp_add(Graph *g, Node *n)
{
	Node *a = n->in[0], *b = n->in[1], *m;
	if (is_val(b, 0))
		return fit(g, n, a);
	if (is_val(a, 0))
		return fit(g, n, b);
	if (b->op == OP_NEG)
		return mk(g, n, OP_SUB, a, b->in[0]);
	if (a->op == OP_NEG)
		return mk(g, n, OP_SUB, b, a->in[0]);
	if ((m = unneg(g, b)))
		return mk(g, n, OP_SUB, a, m);
	if ((m = unneg(g, a)))
		return mk(g, n, OP_SUB, b, m);
	return NULL;
}

static Node *simp_sub(Graph *g, Node *n)
{
	Node *a = n->in[0], *b = n->in[1], *m;
	if (is_val(b, 0))
		return fit(g, n, a);
	if (is_val(a, 0))
		return mk(g, n, OP_NEG, b, NULL);
	if (b->op == OP_NEG)
		return mk(g, n, OP_ADD, a, b->in[0]);
	if ((m = unneg(g, b)))
		return mk(g, n, OP_ADD, a, m);
	return NULL;
}

static Node *simp_mul(Graph *g, Node *n)
{
	Node *a = n->in[0], *b = n->in[1], *r;
	for (int i = 0; i < 2; i++) {
		Node *k = n->in[i], *x = n->in[1 - i];
		if (is_val(k, 1))
			return fit(g, n, x);
		if (is_val(k, 0))
			return fit(g, n, k);
		if (is_val(k, -1) && (r = mk(g, n, OP_NEG, x, NULL)))
			return r;
	}
	if (a->op == OP_NEG && b->op == OP_NEG)
		return mk(g, n, OP_MUL, a->in[0], b->in[0]);
	return NULL;
}

static Node *simp_div(Graph *g, Node *n)
{
	Node *a = n->in[0], *b = n->in[1];
	if (is_val(b, 1))
		return fit(g, n, a);
	if (is_val(b, -1))
		return mk(g, n, OP_NEG, a, NULL);
	if (a->op == OP_NEG && b->op == OP_NEG)
		return mk(g, n, OP_DIV, a->in[0], b->in[0]);
	return NULL;
}

static Node *simp_pow(Graph *g, Node *n)
{
	Node *x = n->in[0], *e = n->in[1];
	if (is_val(e, 1))
		return fit(g, n, x);
	if (is_val(e, 0))
		return fit(g, n, ir_const(g, 1));
	if (is_val(e, 2))
		return mk(g, n, OP_MUL, x, x);
	return NULL;
}

static Node *simp_neg(Graph *g, Node *n)
{
	Node *a = n->in[0], *m;
	if (a->op == OP_NEG)
		return fit(g, n, a->in[0]);
	if (a->op == OP_SUB && a->nuses == 1)
		return mk(g, n, OP_SUB, a->in[1], a->in[0]);
	if ((m = unneg(g, a)))
		return m;
	return NULL;
}

static Node *simp_where(Graph *g, Node *n)
{
	double c;
	if (n->in[1] == n->in[2])
		return fit(g, n, n->in[1]);
	if (const_val(n->in[0], &c))
		return fit(g, n, n->in[c != 0 ? 1 : 2]);
	return NULL;
}

/* To the input's own shape: the input. Over size-1 dimensions only: a
 * reshape. Twice in a row: once, since reshapes compose, broadcasting is
 * transitive and sums associate. */
static Node *simp_shape(Graph *g, Node *n)
{
	Node *x = n->in[0];
	if (shape_eq(x->shape, n->shape))
		return x;
	/* summing or broadcasting over dimensions of size 1 moves nothing */
	if (n->op != OP_RESHAPE && x->shape.batched == n->shape.batched &&
	    shape_numel(x->shape) == shape_numel(n->shape))
		return ir_reshape(g, x, n->shape);
	/* a reshaped broadcast of one value per sample (or of one value) is
	 * that value broadcast to the new shape */
	if (n->op == OP_RESHAPE && x->op == OP_BROADCAST &&
	    shape_numel(x->in[0]->shape) == 1 &&
	    shape_broadcasts_to(x->in[0]->shape, n->shape))
		return ir_broadcast(g, x->in[0], n->shape);
	if (x->op != n->op)
		return NULL;
	switch (n->op) {
	case OP_RESHAPE:
		return ir_reshape(g, x->in[0], n->shape);
	case OP_BROADCAST:
		return ir_broadcast(g, x->in[0], n->shape);
	case OP_SUM_TO: /* summing x twice costs more than summing x once */
		return x->nuses == 1 ? ir_sum_to(g, x->in[0], n->shape) : NULL;
	default:
		ice("simplify: %s is not a shape op", op_info[n->op].name);
	}
}

/* The shape of an elementwise op on these operands (they broadcast:
 * each one's shape broadcasts to the shape it replaces). */
static Shape bcast_shape(Node **in, int nin)
{
	Shape s = in[0]->shape;
	for (int j = 1; j < nin; j++)
		if (!shape_broadcast(s, in[j]->shape, &s))
			ice("simplify: operands do not broadcast");
	return s;
}

/* Elementwise ops broadcast their operands themselves: an explicit
 * broadcast operand is dropped when the result keeps its shape without
 * it, and a unary op is moved before a broadcast used only by it, so it
 * runs on fewer elements. */
static Node *simp_bcast(Graph *g, Node *n)
{
	bool changed = false;
	if (n->nin == 1) {
		Node *b = n->in[0];
		if (b->op != OP_BROADCAST || b->nuses != 1)
			return NULL;
		return ir_broadcast(g, ir_like(g, n, 1, &b->in[0]), n->shape);
	}
	Node **in = xmalloc(n->nin * sizeof(*in));
	for (int i = 0; i < n->nin; i++)
		in[i] = n->in[i];
	for (int i = 0; i < n->nin; i++) {
		if (in[i]->op != OP_BROADCAST)
			continue;
		in[i] = in[i]->in[0];
		if (shape_eq(bcast_shape(in, n->nin), n->shape))
			changed = true;
		else
			in[i] = n->in[i];
	}
	Node *r = changed ? ir_like(g, n, n->nin, in) : NULL;
	free(in);
	return r;
}

/* softmax_xent_dx(z, t, broadcast(s)), s one unbatched scalar (the 1/n
 * of a batch mean) -> softmax_xent_dx(z, t, s): no [B] buffer of copies */
static Node *simp_xent_dx(Graph *g, Node *n)
{
	Node *d = n->in[2];
	if (d->op != OP_BROADCAST || d->in[0]->shape.batched ||
	    shape_numel(d->in[0]->shape) != 1)
		return NULL;
	return ir_like(g, n, 3, (Node *[]){n->in[0], n->in[1], d->in[0]});
}

static Node *rewrite_op(Graph *g, Node *n)
{
	switch (n->op) {
	case OP_ADD:
		return simp_add(g, n);
	case OP_SUB:
		return simp_sub(g, n);
	case OP_MUL:
		return simp_mul(g, n);
	case OP_DIV:
		return simp_div(g, n);
	case OP_POW:
		return simp_pow(g, n);
	case OP_NEG:
		return simp_neg(g, n);
	case OP_WHERE:
		return simp_where(g, n);
	case OP_SOFTMAX_XENT_DX:
		return simp_xent_dx(g, n);
	case OP_RESHAPE:
	case OP_BROADCAST:
	case OP_SUM_TO:
		return simp_shape(g, n);
	case OP_INPUT:
	case OP_PARAM:
	case OP_CONST:
	case OP_BATCHSIZE:
	case OP_EXP:
	case OP_LOG:
	case OP_RELU:
	case OP_SIGMOID:
	case OP_TANH:
	case OP_ABS:
	case OP_SQRT:
	case OP_ERF:
	case OP_SOFTPLUS:
	case OP_MAX:
	case OP_MIN:
	case OP_LEAKY_RELU:
	case OP_ELU:
	case OP_BCE:
	case OP_BCE_LOGITS:
	case OP_LT:
	case OP_LE:
	case OP_GT:
	case OP_GE:
	case OP_EQ:
	case OP_NE:
	case OP_CLAMP:
	case OP_MATMUL:
	case OP_SOFTMAX:
	case OP_LOGSOFTMAX:
	case OP_SOFTMAX_XENT:
	case OP_ONEHOT:
	case OP_DROPMASK:
	case OP_BMM:
	case OP_CONV2D:
	case OP_CONV2D_DX:
	case OP_CONV2D_DW:
	case OP_MAXPOOL:
	case OP_MAXPOOL_DX:
	case OP_AVGPOOL:
	case OP_AVGPOOL_DX:
		return NULL; /* no algebraic rule */
	case OP_COUNT:
		break;
	}
	ice("simplify: bad op %d", n->op);
}

/* An impure node is left alone: rebuilding it elsewhere or in another
 * shape would change how often its value is drawn. */
static Node *rewrite(Graph *g, Node *n)
{
	if (op_info[n->op].impure)
		return NULL;
	Node *r = rewrite_op(g, n);
	if (!r && op_info[n->op].cls == OK_ELEMWISE && n->op != OP_BROADCAST)
		r = simp_bcast(g, n);
	return r;
}

/* ---- the driver ---------------------------------------------------------- */

/* A replaced node forwards to its replacement through aux, so that a
 * sweep rewires each use once instead of scanning the graph per rewrite. */
static Node *resolve(Node *x)
{
	while (x->aux)
		x = x->aux;
	return x;
}

/* Rewrites n if a rule applies; returns whether it did. New nodes take
 * n's location; use counts stay exact enough for the "no other use"
 * rules (they may only overcount, which only forgoes a rewrite). */
static bool rewrite_at(Graph *g, Node *n)
{
	Loc loc = g->cur_loc;
	const char *origin = g->cur_origin;
	int first_new = g->nnodes;
	for (int j = 0; j < n->nin; j++)
		n->in[j] = resolve(n->in[j]);
	g->cur_loc = n->loc;
	g->cur_origin = n->origin;
	Node *r = rewrite(g, n);
	g->cur_loc = loc;
	g->cur_origin = origin;
	for (int i = first_new; i < g->nnodes; i++)
		for (int j = 0; j < g->nodes[i]->nin; j++)
			g->nodes[i]->in[j]->nuses++;
	if (!r || (r = resolve(r)) == n)
		return false;
	if (!shape_eq(r->shape, n->shape))
		ice("simplify: %s rewritten to a different shape",
		    op_info[n->op].name);
	r->nuses += n->nuses;
	n->aux = r;
	n->dead = true;
	return true;
}

/* Every use of a replaced node, roots included, to its replacement. */
static void rewire(Graph *g)
{
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		for (int j = 0; j < n->nin; j++)
			n->in[j] = resolve(n->in[j]);
	}
	for (int i = 0; i < g->nroots; i++)
		if (g->roots[i].node)
			g->roots[i].node = resolve(g->roots[i].node);
	for (int i = 0; i < g->nnodes; i++)
		g->nodes[i]->aux = NULL;
}

/* One pass over the graph, new nodes included; returns whether anything
 * changed. */
static bool sweep(Graph *g)
{
	bool changed = false;
	ir_count_uses(g);
	for (int i = 0; i < g->nnodes; i++)
		g->nodes[i]->aux = NULL;
	for (int i = 0; i < g->nnodes; i++)
		if (!g->nodes[i]->dead && rewrite_at(g, g->nodes[i]))
			changed = true;
	rewire(g);
	ir_compact(g);
	ir_toposort(g);
	return changed;
}

void simplify(Graph *g)
{
	int n = 0;
	while (sweep(g))
		if (++n == MAX_SWEEPS)
			ice("simplify: no fixed point after %d sweeps", n);
}
