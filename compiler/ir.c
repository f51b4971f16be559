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

static Node *new_node(Graph *g, OpKind op)
{
	Node *n = arena_alloc(&g->arena, sizeof(*n));
	n->id = g->next_id++;
	n->op = op;
	n->group = -1;
	n->loc = g->cur_loc;
	n->origin = g->cur_origin;
	return n;
}

static void append(Graph *g, Node *n)
{
	char msg[256] = "";
	if (!op_info[n->op].shape(n, msg, sizeof(msg)))
		ice("bad shape for %s: %s", op_info[n->op].name, msg);
	if (g->nnodes == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 64;
		g->nodes = xrealloc(g->nodes, g->cap * sizeof(*g->nodes));
	}
	g->nodes[g->nnodes++] = n;
}

Node *ir_node(Graph *g, OpKind op, int nin, Node **in)
{
	if (nin != op_info[op].nin)
		ice("%s takes %d inputs, given %d", op_info[op].name,
		    op_info[op].nin, nin);
	Node *n = new_node(g, op);
	n->nin = nin;
	for (int i = 0; i < nin; i++) {
		if (!in[i])
			ice("%s: input %d is NULL", op_info[op].name, i);
		n->in[i] = in[i];
	}
	append(g, n);
	return n;
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

Node *ir_const(Graph *g, double v)
{
	Node *n = new_node(g, OP_CONST);
	n->fval = v;
	n->shape = shape_scalar(false);
	append(g, n);
	return n;
}

Node *ir_input(Graph *g, const char *name, int index, Shape s)
{
	Node *n = new_node(g, OP_INPUT);
	n->name = name;
	n->attr[0] = index;
	n->shape = s;
	append(g, n);
	return n;
}

Node *ir_param(Graph *g, const char *name, int tensor, Shape s)
{
	Node *n = new_node(g, OP_PARAM);
	n->name = name;
	n->attr[0] = tensor;
	n->shape = s;
	append(g, n);
	return n;
}

Node *ir_batchsize(Graph *g)
{
	Node *n = new_node(g, OP_BATCHSIZE);
	n->shape = shape_scalar(false);
	append(g, n);
	return n;
}

Node *ir_matmul(Graph *g, Node *a, Node *b, bool ta, bool tb, int ca,
		int cb, Shape out)
{
	Node *n = new_node(g, OP_MATMUL);
	n->nin = 2;
	n->in[0] = a;
	n->in[1] = b;
	n->attr[0] = ta;
	n->attr[1] = tb;
	n->attr[2] = ca;
	n->attr[3] = cb;
	n->shape = out;
	append(g, n);
	return n;
}

static Node *shaped(Graph *g, OpKind op, Node *x, Shape to)
{
	Node *n = new_node(g, op);
	n->nin = 1;
	n->in[0] = x;
	n->shape = to;
	append(g, n);
	return n;
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
	Node *n = new_node(g, OP_ONEHOT);
	n->nin = 1;
	n->in[0] = y;
	n->attr[0] = k;
	append(g, n);
	return n;
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
	return n->op == OP_CONST && n->fval == v;
}
