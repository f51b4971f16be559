/*
 * constfold.c - constant folding.
 *
 * An elementwise node whose inputs are all CONST, and whose own shape is
 * an unbatched scalar (the only shape a CONST has), becomes a CONST in
 * place: same node, same position, same location, so its users need no
 * rewiring and a chain folds in one walk. The value is computed in double
 * with the math of the C templates in ops.def (relu is x > 0 ? x : 0,
 * sigmoid 1 / (1 + exp(-x)), max a >= b ? a : b, comparisons 0 or 1,
 * where c != 0 ? a : b). A result that is not finite (log(0), 1/0) is
 * left to run time, so the emitter never has to print inf or nan.
 *
 * requires: topological order;
 * preserves: topological order, shapes, roots; recounts uses. The folded
 * nodes' inputs may become unused: dce removes them.
 */
#include "nnc.h"

#include <math.h>
#include <string.h>

static double fold1(OpKind op, double x)
{
	switch (op) {
	case OP_NEG:
		return -x;
	case OP_EXP:
		return exp(x);
	case OP_LOG:
		return log(x);
	case OP_RELU:
		return x > 0 ? x : 0;
	case OP_SIGMOID:
		return 1 / (1 + exp(-x));
	case OP_TANH:
		return tanh(x);
	case OP_BROADCAST:
		return x;
	default:
		ice("constfold: %s is not unary elementwise", op_info[op].name);
	}
}

static double fold2(OpKind op, double a, double b)
{
	switch (op) {
	case OP_ADD:
		return a + b;
	case OP_SUB:
		return a - b;
	case OP_MUL:
		return a * b;
	case OP_DIV:
		return a / b;
	case OP_POW:
		return pow(a, b);
	case OP_MAX:
		return a >= b ? a : b;
	case OP_LT:
		return a < b;
	case OP_LE:
		return a <= b;
	case OP_GT:
		return a > b;
	case OP_GE:
		return a >= b;
	case OP_EQ:
		return a == b;
	case OP_NE:
		return a != b;
	default:
		ice("constfold: %s is not binary elementwise", op_info[op].name);
	}
}

/* Whether n can fold: elementwise, a scalar CONST's shape, CONST inputs. */
static bool foldable(const Node *n)
{
	if (op_info[n->op].cls != OK_ELEMWISE)
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
	double v[3] = {0, 0, 0};
	for (int i = 0; i < n->nin; i++)
		v[i] = n->in[i]->fval;
	switch (n->nin) {
	case 1:
		return fold1(n->op, v[0]);
	case 2:
		return fold2(n->op, v[0], v[1]);
	case 3:
		if (n->op != OP_WHERE)
			ice("constfold: %s is not where", op_info[n->op].name);
		return v[0] != 0 ? v[1] : v[2];
	default:
		ice("constfold: %s has %d inputs", op_info[n->op].name, n->nin);
	}
}

/* Turns n into CONST v, keeping its identity, position and location. */
static void make_const(Node *n, double v)
{
	n->op = OP_CONST;
	n->nin = 0;
	memset(n->in, 0, sizeof(n->in));
	memset(n->attr, 0, sizeof(n->attr));
	n->name = NULL;
	n->fval = v;
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
