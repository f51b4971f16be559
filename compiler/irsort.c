/*
 * irsort.c - restores the topological order of g->nodes after a pass has
 * appended nodes that earlier nodes now use.
 *
 * The sort is stable: nodes are taken in their current order and each is
 * preceded only by those of its inputs not yet placed, depth first, in
 * input order. A graph already in order comes out unchanged, and a node
 * appended at the end lands right before its first user. Deterministic:
 * it depends on the array order and input order only, never on pointers.
 *
 * requires: every input of a listed node is listed, no cycles (ice());
 * preserves: the node set, shapes, roots, uses.
 */
#include "nnc.h"

#include <stdlib.h>

enum { UNLISTED, LISTED, ON_STACK, PLACED };

typedef struct Sort {
	Node **out;     /* the new order */
	int nout;
	Node **stack;   /* nodes whose inputs are being placed */
	int *next;      /* per stack entry: the next input to visit */
	int depth;
	int *state;     /* per node, by its position in the old order */
} Sort;

static int *state_of(Node *n)
{
	return n->aux;
}

static void push(Sort *s, Node *n)
{
	*state_of(n) = ON_STACK;
	s->stack[s->depth] = n;
	s->next[s->depth] = 0;
	s->depth++;
}

/* Places n after every input it (transitively) needs. */
static void place(Sort *s, Node *n)
{
	push(s, n);
	while (s->depth > 0) {
		Node *t = s->stack[s->depth - 1];
		int j = s->next[s->depth - 1]++;
		if (j == t->nin) {
			*state_of(t) = PLACED;
			s->out[s->nout++] = t;
			s->depth--;
			continue;
		}
		Node *x = t->in[j];
		if (!x->aux || *state_of(x) == UNLISTED)
			ice("irsort: input %d of %s is not in the graph", j,
			    op_info[t->op].name);
		if (*state_of(x) == ON_STACK)
			ice("irsort: cycle through %s", op_info[x->op].name);
		if (*state_of(x) == LISTED)
			push(s, x);
	}
}

void ir_toposort(Graph *g)
{
	int n = g->nnodes;
	if (n == 0)
		return;
	Sort s = {0};
	s.out = xmalloc(n * sizeof(*s.out));
	s.stack = xmalloc(n * sizeof(*s.stack));
	s.next = xmalloc(n * sizeof(*s.next));
	s.state = xmalloc(n * sizeof(*s.state));
	for (int i = 0; i < n; i++)
		g->nodes[i]->aux = NULL;
	for (int i = 0; i < n; i++) {
		s.state[i] = LISTED;
		g->nodes[i]->aux = &s.state[i];
	}
	for (int i = 0; i < n; i++)
		if (*state_of(g->nodes[i]) == LISTED)
			place(&s, g->nodes[i]);
	if (s.nout != n)
		ice("irsort: placed %d of %d nodes", s.nout, n);
	for (int i = 0; i < n; i++) {
		g->nodes[i] = s.out[i];
		g->nodes[i]->aux = NULL;
	}
	free(s.out);
	free(s.stack);
	free(s.next);
	free(s.state);
}
