/*
 * cse.c - common subexpression elimination.
 *
 * Two nodes are the same value when they have the same op, the same
 * inputs (after earlier merges), the same attributes, the same constant
 * (bit for bit: 0 and -0 differ), the same shape and the same name. The
 * later one is replaced by the first, so leaves merge too: two CONST 1,
 * two PARAM of one tensor, two INPUT of one index, two BATCHSIZE. add,
 * mul, eq and ne are commutative in IEEE arithmetic: a + b matches b + a.
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

static uint64_t hash(const Node *n)
{
	uint64_t h = mix(0, (uint64_t)n->op);
	uint64_t p[3] = {0, 0, 0};
	for (int i = 0; i < n->nin; i++)
		p[i] = (uint64_t)slot(n->in[i])->pos;
	if (commutative(n->op) && p[0] > p[1]) {
		uint64_t t = p[0];
		p[0] = p[1];
		p[1] = t;
	}
	for (int i = 0; i < n->nin; i++)
		h = mix(h, p[i]);
	for (int i = 0; i < 4; i++)
		h = mix(h, (uint64_t)(unsigned)n->attr[i]);
	uint64_t bits;
	memcpy(&bits, &n->fval, sizeof(bits));
	h = mix(h, bits);
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
	if (memcmp(a->attr, b->attr, sizeof(a->attr)) != 0 ||
	    memcmp(&a->fval, &b->fval, sizeof(a->fval)) != 0 ||
	    !shape_eq(a->shape, b->shape))
		return false;
	if (!a->name || !b->name)
		return a->name == b->name;
	return strcmp(a->name, b->name) == 0;
}

/* The first node equal to g->nodes[i]; adds it to the table if none. */
static Node *lookup(Table *t, int i)
{
	Node *n = t->g->nodes[i];
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
