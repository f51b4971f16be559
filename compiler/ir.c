/*
 * ir.c - the tensor IR: graphs of primitive ops in SSA form.
 *
 * A Graph holds its nodes in topological order (every node after its
 * inputs), which is also the order code is emitted in. Nodes are created
 * through ir_node(), which runs the op's shape rule from ops.c; a shape
 * that does not fit here is a compiler bug, since sema has already checked
 * the user's program. Every new node inherits g->cur_loc, the location of
 * the .nn construct being lowered or differentiated.
 */
#include "nnc.h"

#include <stdlib.h>
#include <string.h>

Graph *ir_new(void)
{
	Graph *g = xcalloc(1, sizeof(*g));
	return g;
}

void ir_free(Graph *g)
{
	if (!g)
		return;
	free(g->nodes);
	free(g->roots);
	arena_free(&g->arena);
	free(g);
}

const OpInfo *ir_info(const Node *n)
{
	return &op_info[n->op];
}

bool ir_nin_ok(OpKind op, int nin)
{
	int want = op_info[op].nin;
	return want < 0 ? nin >= 1 : nin == want;
}

/* A node of op with a copy of its inputs, not yet in the graph: the
 * caller sets its attributes (and shape, if the rule does not compute
 * it), then appends it. */
static Node *new_node(Graph *g, OpKind op, int nin, Node **in)
{
	if (!ir_nin_ok(op, nin))
		ice("%s takes %d inputs, given %d", op_info[op].name,
		    op_info[op].nin, nin);
	Node *n = arena_alloc(&g->arena, sizeof(*n));
	n->id = g->next_id++;
	n->op = op;
	n->nin = nin;
	if (nin > 0)
		n->in = arena_alloc(&g->arena, nin * sizeof(*n->in));
	for (int i = 0; i < nin; i++) {
		if (!in[i])
			ice("%s: input %d is NULL", op_info[op].name, i);
		n->in[i] = in[i];
	}
	n->group = -1;
	n->loc = g->cur_loc;
	n->origin = g->cur_origin;
	return n;
}

static Node *append(Graph *g, Node *n)
{
	char msg[256] = "";
	if (!op_info[n->op].shape(n, msg, sizeof(msg)))
		ice("bad shape for %s: %s", op_info[n->op].name, msg);
	if (g->nnodes == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 64;
		g->nodes = xrealloc(g->nodes, g->cap * sizeof(*g->nodes));
	}
	g->nodes[g->nnodes++] = n;
	return n;
}

Node *ir_node(Graph *g, OpKind op, int nin, Node **in)
{
	return append(g, new_node(g, op, nin, in));
}

Node *ir_like(Graph *g, const Node *like, int nin, Node **in)
{
	Node *n = new_node(g, like->op, nin, in);
	n->attr = like->attr;
	n->shape = like->shape;
	return append(g, n);
}

Node *ir_op1(Graph *g, OpKind op, Node *a)
{
	return ir_node(g, op, 1, &a);
}

Node *ir_op2(Graph *g, OpKind op, Node *a, Node *b)
{
	Node *in[2] = {a, b};
	return ir_node(g, op, 2, in);
}

Node *ir_op3(Graph *g, OpKind op, Node *a, Node *b, Node *c)
{
	Node *in[3] = {a, b, c};
	return ir_node(g, op, 3, in);
}

/* A leaf of shape s. */
static Node *leaf(Graph *g, OpKind op, Shape s)
{
	Node *n = new_node(g, op, 0, NULL);
	n->shape = s;
	return n;
}

Node *ir_const(Graph *g, double v)
{
	Node *n = leaf(g, OP_CONST, shape_scalar(false));
	n->attr.constant.value = v;
	return append(g, n);
}

Node *ir_input(Graph *g, const char *name, int which, Shape s)
{
	Node *n = leaf(g, OP_INPUT, s);
	n->name = name;
	n->attr.input.which = which;
	return append(g, n);
}

Node *ir_param(Graph *g, const char *name, int tensor, Shape s)
{
	Node *n = leaf(g, OP_PARAM, s);
	n->name = name;
	n->attr.param.tensor = tensor;
	return append(g, n);
}

Node *ir_batchsize(Graph *g)
{
	return append(g, leaf(g, OP_BATCHSIZE, shape_scalar(false)));
}

Node *ir_matmul(Graph *g, Node *a, Node *b, bool ta, bool tb, int ca,
		int cb, Shape out)
{
	Node *in[2] = {a, b};
	Node *n = new_node(g, OP_MATMUL, 2, in);
	n->attr.matmul = (Attr_matmul){ta, tb, ca, cb};
	n->shape = out;
	return append(g, n);
}

static Node *shaped(Graph *g, OpKind op, Node *x, Shape to)
{
	Node *n = new_node(g, op, 1, &x);
	n->shape = to;
	return append(g, n);
}

Node *ir_sum_to(Graph *g, Node *x, Shape to)
{
	if (shape_eq(x->shape, to))
		return x;
	return shaped(g, OP_SUM_TO, x, to);
}

Node *ir_broadcast(Graph *g, Node *x, Shape to)
{
	if (shape_eq(x->shape, to))
		return x;
	return shaped(g, OP_BROADCAST, x, to);
}

Node *ir_reshape(Graph *g, Node *x, Shape to)
{
	if (shape_eq(x->shape, to))
		return x;
	return shaped(g, OP_RESHAPE, x, to);
}

Node *ir_onehot(Graph *g, Node *y, int k)
{
	Node *n = new_node(g, OP_ONEHOT, 1, &y);
	n->attr.onehot.k = k;
	return append(g, n);
}

Node *ir_dropmask(Graph *g, Shape s, double p, int stream)
{
	Node *n = leaf(g, OP_DROPMASK, s);
	n->attr.rand = (Attr_rand){p, stream};
	return append(g, n);
}

Node *ir_bmm(Graph *g, Node *a, Node *b, bool ta, bool tb, int m, int k,
	     int n, Shape out)
{
	Node *in[2] = {a, b};
	Node *x = new_node(g, OP_BMM, 2, in);
	x->attr.bmm = (Attr_bmm){ta, tb, m, k, n};
	x->shape = out;
	return append(g, x);
}

Node *ir_shaped(Graph *g, OpKind op, int nin, Node **in, Attr at, Shape s)
{
	Node *n = new_node(g, op, nin, in);
	n->attr = at;
	n->shape = s;
	return append(g, n);
}

Node *ir_conv2d(Graph *g, Node *x, Node *w, int k, int stride, int pad)
{
	Node *in[2] = {x, w};
	Node *n = new_node(g, OP_CONV2D, 2, in);
	n->attr.conv = (Attr_conv){k, stride, pad};
	return append(g, n);
}

Node *ir_pool(Graph *g, OpKind op, Node *x, int size, int stride)
{
	Node *n = new_node(g, op, 1, &x);
	n->attr.pool = (Attr_pool){size, stride};
	return append(g, n);
}

void ir_add_root(Graph *g, int kind, const char *name, int index, Node *n)
{
	if (g->nroots == g->rootcap) {
		g->rootcap = g->rootcap ? 2 * g->rootcap : 16;
		g->roots = xrealloc(g->roots, g->rootcap * sizeof(*g->roots));
	}
	g->roots[g->nroots++] = (Root){name, n, kind, index};
}

void ir_replace(Graph *g, Node *from, Node *to)
{
	if (from == to)
		return;
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		for (int j = 0; j < n->nin; j++)
			if (n->in[j] == from)
				n->in[j] = to;
	}
	for (int i = 0; i < g->nroots; i++)
		if (g->roots[i].node == from)
			g->roots[i].node = to;
	from->dead = true;
}

void ir_count_uses(Graph *g)
{
	for (int i = 0; i < g->nnodes; i++)
		g->nodes[i]->nuses = 0;
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		for (int j = 0; j < n->nin; j++)
			n->in[j]->nuses++;
	}
	for (int i = 0; i < g->nroots; i++)
		if (g->roots[i].node)
			g->roots[i].node->nuses++;
}

void ir_compact(Graph *g)
{
	int k = 0;
	for (int i = 0; i < g->nnodes; i++)
		if (!g->nodes[i]->dead)
			g->nodes[k++] = g->nodes[i];
	g->nnodes = k;
	ir_count_uses(g);
}

bool ir_is_const(const Node *n, double v)
{
	return n->op == OP_CONST && n->attr.constant.value == v;
}
