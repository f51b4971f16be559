/*
 * constfold.c - constant folding.
 *
 * An elementwise node whose inputs are all CONST, and whose own shape is
 * an unbatched scalar (the only shape a CONST has), becomes a CONST in
 * place: same node, same position, same location, so its users need no
 * rewiring and a chain folds in one walk. The value is op_eval's: the
 * op's math in ops.def, the very expression the emitter prints, computed
 * in double. A result that is not finite (log(0), 1/0) is left to run
 * time, so the emitter never has to print inf or nan. An impure op (a
 * random mask) never folds.
 *
 * requires: topological order;
 * preserves: topological order, shapes, roots; recounts uses. The folded
 * nodes' inputs may become unused: dce removes them.
 */
#include "nnc.h"

#include <math.h>
#include <stdlib.h>

/* Whether n can fold: elementwise and pure, a scalar CONST's shape,
 * CONST inputs. */
static bool foldable(const Node *n)
{
	if (op_info[n->op].cls != OK_ELEMWISE || op_info[n->op].impure)
		return false;
	if (n->shape.rank != 0 || n->shape.batched)
		return false;
	for (int i = 0; i < n->nin; i++)
		if (n->in[i]->op != OP_CONST)
			return false;
	return true;
}

static double fold(const Node *n)
{
	double *v = xmalloc(n->nin * sizeof(*v));
	for (int i = 0; i < n->nin; i++)
		v[i] = n->in[i]->attr.constant.value;
	double r = op_eval(n->op, v);
	free(v);
	return r;
}

/* Turns n into CONST v, keeping its identity, position and location. */
static void make_const(Node *n, double v)
{
	n->op = OP_CONST;
	n->nin = 0;
	n->in = NULL;
	n->attr = (Attr){.constant = {v}};
	n->name = NULL;
}

void constfold(Graph *g)
{
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		if (!foldable(n))
			continue;
		double v = fold(n);
		if (isfinite(v))
			make_const(n, v);
	}
	ir_count_uses(g);
}
