/*
 * irprint.c - the IR's one text form, used by --emit=ir, --emit=grad,
 * --dump-after and the golden tests.
 *
 * One node a line, in topological order, with dense ids (%0, %1, ...),
 * the op, its operands and attributes, the result shape and the .nn line
 * it came from. No pointers, no hash order: the text is deterministic.
 *
 *   %4 = matmul %0, %2 ta=0 tb=0 ca=4 cb=16 : [B, 16]  ; line 9
 *   root loss = %12
 */
#include "nnc.h"

static void print_attrs(FILE *f, const Node *n)
{
	switch (n->op) {
	case OP_INPUT:
	case OP_PARAM:
		fprintf(f, " %s", n->name);
		break;
	case OP_CONST:
		fprintf(f, " %.17g", n->fval);
		break;
	case OP_MATMUL:
		fprintf(f, " ta=%d tb=%d ca=%d cb=%d", n->attr[0], n->attr[1],
			n->attr[2], n->attr[3]);
		break;
	case OP_ONEHOT:
		fprintf(f, " k=%d", n->attr[0]);
		break;
	default:
		break;
	}
}

static void print_node(FILE *f, const Node *n)
{
	char buf[64];
	fprintf(f, "  %%%d = %s", n->id, op_info[n->op].name);
	for (int i = 0; i < n->nin; i++)
		fprintf(f, "%s%%%d", i ? ", " : " ", n->in[i]->id);
	print_attrs(f, n);
	fprintf(f, " : %s", shape_str(n->shape, buf, sizeof(buf)));
	if (n->group >= 0)
		fprintf(f, " group=%d%s", n->group, n->keep ? "*" : "");
	if (n->loc.line)
		fprintf(f, "  ; line %d", n->loc.line);
	fputc('\n', f);
}

void ir_print(FILE *f, Graph *g)
{
	for (int i = 0; i < g->nnodes; i++)
		g->nodes[i]->id = i;
	for (int i = 0; i < g->nnodes; i++)
		print_node(f, g->nodes[i]);
	for (int i = 0; i < g->nroots; i++) {
		const Root *r = &g->roots[i];
		if (r->node)
			fprintf(f, "  root %s = %%%d\n", r->name, r->node->id);
		else
			fprintf(f, "  root %s = zero\n", r->name);
	}
}
