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

/* How a field prints: F(type, field, shown) in ops.def */
enum { PR_SHOW, PR_BARE, PR_HIDE };

static void print_field(FILE *f, int shown, const char *field,
			const char *value)
{
	switch (shown) {
	case PR_SHOW:
		fprintf(f, " %s=%s", field, value);
		return;
	case PR_BARE:
		fprintf(f, " %s", value);
		return;
	case PR_HIDE:
		return;
	}
	ice("irprint: field %s: bad print style %d", field, shown);
}

static void print_int(FILE *f, int shown, const char *field, int v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%d", v);
	print_field(f, shown, field, buf);
}

static void print_bool(FILE *f, int shown, const char *field, bool v)
{
	print_int(f, shown, field, v);
}

static void print_double(FILE *f, int shown, const char *field, double v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%.17g", v);
	print_field(f, shown, field, buf);
}

/* The node's name (INPUT, PARAM), then its attributes as ops.def lists
 * its family's fields: " h.W", " ta=0 tb=1 ca=4 cb=16". */
void ir_print_attrs(FILE *f, const Node *n)
{
	if (n->name)
		fprintf(f, " %s", n->name);
	switch (op_info[n->op].attrs) {
	case AT_NONE:
		return;
#define F(type, field, shown) print_##type(f, PR_##shown, #field, x->field);
#define ATTR(family, member, fields)					\
	case AT_##family: {						\
		const Attr_##member *x = &n->attr.member;		\
		fields							\
		return;							\
	}
#include "ops.def"
#undef F
	case AT_COUNT:
		break;
	}
	ice("irprint: %s has no attribute family", op_info[n->op].name);
}

static void print_node(FILE *f, const Node *n)
{
	char buf[64];
	fprintf(f, "  %%%d = %s", n->id, op_info[n->op].name);
	for (int i = 0; i < n->nin; i++)
		fprintf(f, "%s%%%d", i ? ", " : " ", n->in[i]->id);
	ir_print_attrs(f, n);
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
