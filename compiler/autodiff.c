/*
 * autodiff.c - reverse-mode differentiation of the IR, producing IR.
 *
 * requires: a graph with a ROOT_LOSS root (an unbatched scalar: the batch
 * mean of the loss) and PARAM leaves; produces: one ROOT_GRAD root per
 * trainable tensor, the gradient of the loss with respect to it (NULL
 * when the loss does not depend on it).
 *
 * The sweep visits the forward nodes in reverse topological order. Each
 * node's gradient is complete when it is visited (all its uses come after
 * it), so it hands a contribution to each input through the op's
 * derivative rule in ops.c, and contributions to one input are summed.
 * Only nodes between a parameter and the loss are differentiated.
 */
#include "nnc.h"

#include <stdlib.h>

typedef struct AD {
	Graph *g;
	Model *m;
	bool *need;    /* by node id: on a path from a parameter */
	bool *reach;   /* by node id: the loss depends on it */
	Node **grad;   /* by node id: accumulated gradient */
} AD;

static void mark_need(AD *a, int nforward)
{
	for (int i = 0; i < nforward; i++) {
		Node *n = a->g->nodes[i];
		bool need = n->op == OP_PARAM &&
			    a->m->tensors[n->attr.param.tensor].trainable;
		for (int j = 0; j < n->nin; j++)
			need |= a->need[n->in[j]->id];
		a->need[n->id] = need;
	}
}

static void mark_reach(AD *a, Node *loss, int nforward)
{
	a->reach[loss->id] = true;
	for (int i = nforward - 1; i >= 0; i--) {
		Node *n = a->g->nodes[i];
		if (!a->reach[n->id])
			continue;
		for (int j = 0; j < n->nin; j++)
			a->reach[n->in[j]->id] = true;
	}
}

static void accumulate(AD *a, Node *x, Node *v)
{
	Node **slot = &a->grad[x->id];
	*slot = *slot ? ir_op2(a->g, OP_ADD, *slot, v) : v;
}

static void backprop(AD *a, Node *n)
{
	Graph *g = a->g;
	Node *dy = a->grad[n->id];
	const OpInfo *info = ir_info(n);
	if (!dy || !a->need[n->id] || !a->reach[n->id])
		return;
	for (int i = 0; i < n->nin; i++) {
		Node *x = n->in[i];
		if (!a->need[x->id])
			continue;
		if (!info->grad)
			ice("op %s has no derivative rule", info->name);
		g->cur_loc = n->loc;
		g->cur_origin = n->origin;
		Node *v = info->grad(g, n, dy, i);
		if (v)
			accumulate(a, x, v);
	}
}

static Node *find_loss(Graph *g)
{
	for (int i = 0; i < g->nroots; i++)
		if (g->roots[i].kind == ROOT_LOSS)
			return g->roots[i].node;
	ice("autodiff: the graph has no loss root");
}

void autodiff(Graph *g, Model *m)
{
	Node *loss = find_loss(g);
	int nforward = g->nnodes;
	int ids = g->next_id;
	AD a = {g, m, xcalloc(ids, sizeof(bool)), xcalloc(ids, sizeof(bool)),
		NULL};
	mark_need(&a, nforward);
	mark_reach(&a, loss, nforward);
	/* gradients are new nodes; their ids are past `ids` and never
	 * looked up in the tables */
	a.grad = xcalloc(ids, sizeof(Node *));
	g->cur_loc = loss->loc;
	g->cur_origin = loss->origin;
	a.grad[loss->id] = ir_const(g, 1);
	for (int i = nforward - 1; i >= 0; i--)
		backprop(&a, g->nodes[i]);
	for (int t = 0; t < m->ntensors; t++) {
		if (!m->tensors[t].trainable)
			continue;
		Node *sum = NULL;
		for (int i = 0; i < nforward; i++) {
			Node *n = g->nodes[i];
			if (n->op == OP_PARAM && n->attr.param.tensor == t &&
			    a.grad[n->id])
				sum = sum ? ir_op2(g, OP_ADD, sum, a.grad[n->id])
					  : a.grad[n->id];
		}
		ir_add_root(g, ROOT_GRAD,
			    arena_printf(&g->arena, "grad:%s",
					 m->tensors[t].name), t, sum);
	}
	for (int i = nforward; i < g->nnodes; i++)
		g->nodes[i]->backward = true;
	free(a.need);
	free(a.reach);
	free(a.grad);
}
