/*
 * cse.c - common subexpression elimination.
 *
 * Two nodes are the same value when they have the same op, the same
 * inputs (after earlier merges), the same attributes (field by field, as
 * ops.def lists the op's family; a double bit for bit: 0 and -0 differ),
 * the same shape and the same name. The later one is replaced by the
 * first, so leaves merge too: two CONST 1, two PARAM of one tensor, two
 * INPUT of one index, two BATCHSIZE. add, mul, eq and ne are commutative
 * in IEEE arithmetic: a + b matches b + a. An impure op (ops.def) is
 * never merged: two random masks of the same input are two masks.
 *
 * One walk in topological order: a node's inputs have already been mapped
 * to their representatives when the node is looked up. The hash table is
 * keyed on node positions and contents, never on pointers, and only finds
 * the first equal node, so the result is deterministic.
 *
 * requires: topological order;
 * preserves: topological order, shapes, the value of every root;
 * recounts uses.
 */
#include "nnc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct Slot {
	int pos;   /* position in g->nodes */
	Node *rep; /* the first node equal to this one */
} Slot;

typedef struct Table {
	int *pos;  /* open addressing: position + 1, 0 = empty */
	unsigned mask;
	Graph *g;
} Table;

static Slot *slot(const Node *n)
{
	return n->aux;
}

static bool commutative(OpKind op)
{
	return op == OP_ADD || op == OP_MUL || op == OP_EQ || op == OP_NE;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
	return h;
}

/* ---- attributes, by field type; the families are in ops.def ---------- */

static bool same_bool(bool a, bool b) { return a == b; }
static bool same_int(int a, int b) { return a == b; }
/* bit for bit: 0 and -0 differ */
static bool same_double(double a, double b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

static uint64_t mix_bool(uint64_t h, bool v) { return mix(h, v); }
static uint64_t mix_int(uint64_t h, int v) { return mix(h, (unsigned)v); }
static uint64_t mix_double(uint64_t h, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	return mix(h, bits);
}

/* a and b have one op, so one attribute family */
static bool same_attrs(const Node *a, const Node *b)
{
	switch (op_info[a->op].attrs) {
	case AT_NONE:
		return true;
#define F(type, field, shown) && same_##type(x->field, y->field)
#define ATTR(family, member, fields)					\
	case AT_##family: {						\
		const Attr_##member *x = &a->attr.member;		\
		const Attr_##member *y = &b->attr.member;		\
		return true fields;					\
	}
#include "ops.def"
#undef F
	case AT_COUNT:
		break;
	}
	ice("cse: %s has no attribute family", op_info[a->op].name);
}

static uint64_t mix_attrs(uint64_t h, const Node *n)
{
	switch (op_info[n->op].attrs) {
	case AT_NONE:
		return h;
#define F(type, field, shown) h = mix_##type(h, x->field);
#define ATTR(family, member, fields)					\
	case AT_##family: {						\
		const Attr_##member *x = &n->attr.member;		\
		fields							\
		return h;						\
	}
#include "ops.def"
#undef F
	case AT_COUNT:
		break;
	}
	ice("cse: %s has no attribute family", op_info[n->op].name);
}

/* ---- nodes ------------------------------------------------------------ */

static uint64_t hash(const Node *n)
{
	uint64_t h = mix(0, (uint64_t)n->op);
	/* a commutative op's two inputs in position order: a + b and b + a
	 * hash alike */
	bool swap = commutative(n->op) &&
		    slot(n->in[1])->pos < slot(n->in[0])->pos;
	for (int i = 0; i < n->nin; i++)
		h = mix(h, (uint64_t)slot(n->in[swap && i < 2 ? 1 - i : i])->pos);
	h = mix_attrs(h, n);
	h = mix(h, (uint64_t)n->shape.rank * 2 + n->shape.batched);
	for (int i = 0; i < n->shape.rank; i++)
		h = mix(h, (uint64_t)(unsigned)n->shape.dim[i]);
	for (const char *s = n->name; s && *s; s++)
		h = mix(h, (unsigned char)*s);
	return h;
}

static bool same_inputs(const Node *a, const Node *b)
{
	bool eq = true;
	for (int i = 0; i < a->nin; i++)
		eq = eq && a->in[i] == b->in[i];
	if (!eq && commutative(a->op))
		eq = a->in[0] == b->in[1] && a->in[1] == b->in[0];
	return eq;
}

static bool same(const Node *a, const Node *b)
{
	if (a->op != b->op || a->nin != b->nin || !same_inputs(a, b))
		return false;
	if (!same_attrs(a, b) || !shape_eq(a->shape, b->shape))
		return false;
	if (!a->name || !b->name)
		return a->name == b->name;
	return strcmp(a->name, b->name) == 0;
}

/* The first node equal to g->nodes[i]; adds it to the table if none.
 * An impure node equals no other: it stands for itself. */
static Node *lookup(Table *t, int i)
{
	Node *n = t->g->nodes[i];
	if (op_info[n->op].impure)
		return n;
	unsigned k = (unsigned)hash(n) & t->mask;
	for (; t->pos[k]; k = (k + 1) & t->mask) {
		Node *m = t->g->nodes[t->pos[k] - 1];
		if (same(m, n))
			return m;
	}
	t->pos[k] = i + 1;
	return n;
}

static Node *rep(const Node *n)
{
	return slot(n)->rep;
}

void cse(Graph *g)
{
	int n = g->nnodes;
	unsigned size = 16;
	while (size < 2u * (unsigned)n)
		size *= 2;
	Table t = {xcalloc(size, sizeof(int)), size - 1, g};
	Slot *slots = xcalloc(n ? n : 1, sizeof(*slots));
	for (int i = 0; i < n; i++) {
		slots[i] = (Slot){i, g->nodes[i]};
		g->nodes[i]->aux = &slots[i];
	}
	for (int i = 0; i < n; i++) {
		Node *x = g->nodes[i];
		for (int j = 0; j < x->nin; j++)
			x->in[j] = rep(x->in[j]);
		slots[i].rep = lookup(&t, i);
		if (slots[i].rep != x)
			x->dead = true;
	}
	for (int i = 0; i < g->nroots; i++)
		if (g->roots[i].node)
			g->roots[i].node = rep(g->roots[i].node);
	for (int i = 0; i < n; i++)
		g->nodes[i]->aux = NULL;
	free(slots);
	free(t.pos);
	ir_compact(g);
}
