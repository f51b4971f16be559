/*
 * irverify.c - checks the IR's invariants after every transform (debug
 * builds and tests): nodes in topological order, no dead node reachable,
 * inputs counted as the op says, shapes as the op's rule computes them.
 * A failure is a compiler bug: ice().
 */
#include "nnc.h"

#include <string.h>

void ir_verify(Graph *g)
{
	for (int i = 0; i < g->nnodes; i++)
		g->nodes[i]->aux = NULL;
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		const OpInfo *info = &op_info[n->op];
		if (n->dead)
			ice("node %d (%s) is dead but listed", i, info->name);
		if (!ir_nin_ok(n->op, n->nin))
			ice("node %d (%s) has %d inputs, expected %d", i,
			    info->name, n->nin, info->nin);
		for (int j = 0; j < n->nin; j++)
			if (n->in[j]->aux != (void *)g)
				ice("node %d (%s): input %d is not defined "
				    "before it", i, info->name, j);
		Shape s = n->shape;
		char msg[256] = "";
		if (!info->shape(n, msg, sizeof(msg)) || !shape_eq(s, n->shape))
			ice("node %d (%s): shape rule fails: %s", i,
			    info->name, msg);
		n->aux = g;
	}
	for (int i = 0; i < g->nroots; i++)
		if (g->roots[i].node && g->roots[i].node->aux != (void *)g)
			ice("root %s is not in the graph", g->roots[i].name);
	for (int i = 0; i < g->nnodes; i++)
		g->nodes[i]->aux = NULL;
}
