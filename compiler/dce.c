/*
 * dce.c - dead code elimination.
 *
 * Keeps the nodes a root needs, transitively; drops the rest. One walk
 * backwards over the topological order is enough: when a node is reached
 * every user of it has been seen. Roots with no node (a gradient that is
 * identically zero) need nothing.
 *
 * requires: topological order;
 * preserves: topological order of the survivors, shapes, roots;
 * recounts uses.
 */
#include "nnc.h"

void dce(Graph *g)
{
	for (int i = 0; i < g->nnodes; i++)
		g->nodes[i]->dead = true;
	for (int i = 0; i < g->nroots; i++)
		if (g->roots[i].node)
			g->roots[i].node->dead = false;
	for (int i = g->nnodes - 1; i >= 0; i--) {
		Node *n = g->nodes[i];
		if (n->dead)
			continue;
		for (int j = 0; j < n->nin; j++)
			n->in[j]->dead = false;
	}
	ir_compact(g);
}
