/*
 * fuse.c - groups runs of elementwise ops into single loops.
 *
 * First g->nodes is reordered, still topologically: the leaves (inputs,
 * params, constants, batch size: no code) move to the front in their
 * relative order, so that computing nodes are adjacent; the rest keep
 * their order except that a ready elementwise node moves up to join an
 * open run of its shape (list scheduling, ties broken by position).
 * Then each maximal run of consecutive OK_ELEMWISE nodes of one shape
 * (shape_eq) becomes a group, numbered 0, 1, 2, ... in order; a run of one
 * node is a group too. Anything else (kernels, views, shape changes) ends
 * the run, and so does the emitter's kernel size: a group has at most
 * KMAX members and reads at most KMAX operands from memory. One kernel
 * joins a run without ending it: a sum_to over the batch alone of a
 * member (a bias gradient), accumulated in the group's loop; no later
 * member of the run reads it.
 *
 * The contract the emitter relies on, after fuse (which runs last):
 *   - Node.group >= 0 exactly for elementwise nodes and batch sums of a
 *     member (their shape the group's without the batch, keep true);
 *     leaves, other kernels and views have group -1.
 *   - A group's members are contiguous in g->nodes (no leaf in between)
 *     and all have the group's shape, so the group is one loop over that
 *     shape's elements, its members' templates in node order inside it.
 *   - A group has at most KMAX members and at most KMAX distinct operands
 *     that are neither members nor CONST / BATCHSIZE (Kernel's arrays);
 *     so the emitter never has to split a group, which would strand a
 *     member that is not kept.
 *   - An input from outside the group precedes the group's first member
 *     and is read with broadcasting, as the op's template expects.
 *   - keep is true for a member used by a node outside its group or by a
 *     root: it is stored to its buffer. A member with keep false lives in
 *     a local variable of the loop body only. Non-members have keep false.
 *
 * requires: topological order, shapes (run after every other pass);
 * preserves: topological order, shapes, roots; sets group and keep.
 */
#include "nnc.h"

#include <stdlib.h>
#include <string.h>

static bool is_leaf(const Node *n)
{
	return op_info[n->op].cls == OK_LEAF;
}

/* The schedule being built: nodes in their new order, and for the nodes
 * not yet placed, how many input edges still wait. */
typedef struct Sched {
	Graph *g;
	Node **order;
	int norder;
	int *pos;      /* per node, its position in the old order (aux) */
	int *pending;  /* per position: inputs not yet placed */
	int *ufirst;   /* users of position i: users[ufirst[i] .. ufirst[i+1]) */
	int *users;
	int *ready;    /* positions of ready computing nodes, ascending */
	int nready;
} Sched;

static int pos_of(const Node *n)
{
	return *(int *)n->aux;
}

/* Who uses whom, by position, in compressed rows. */
static void index_users(Sched *s)
{
	Graph *g = s->g;
	int n = g->nnodes;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < g->nodes[i]->nin; j++)
			s->ufirst[pos_of(g->nodes[i]->in[j]) + 1]++;
	for (int i = 0; i < n; i++)
		s->ufirst[i + 1] += s->ufirst[i];
	int *fill = xcalloc(n + 1, sizeof(*fill));
	for (int i = 0; i < n; i++) {
		Node *u = g->nodes[i];
		s->pending[i] = u->nin;
		for (int j = 0; j < u->nin; j++) {
			int x = pos_of(u->in[j]);
			s->users[s->ufirst[x] + fill[x]++] = i;
		}
	}
	free(fill);
}

/* Node u is ready: it joins the ready list in position order. */
static void make_ready(Sched *s, int u)
{
	int at = s->nready;
	while (at > 0 && s->ready[at - 1] > u)
		at--;
	memmove(&s->ready[at + 1], &s->ready[at],
		(s->nready - at) * sizeof(*s->ready));
	s->ready[at] = u;
	s->nready++;
}

/* Places the node at position i; users left with nothing pending become
 * ready. */
static void place(Sched *s, int i)
{
	s->order[s->norder++] = s->g->nodes[i];
	for (int k = s->ufirst[i]; k < s->ufirst[i + 1]; k++)
		if (--s->pending[s->users[k]] == 0)
			make_ready(s, s->users[k]);
}

/* Whether x is in memory whatever fuse decides: a leaf, a kernel's
 * result, or an elementwise value that a kernel or a view reads. */
static bool stored_anyway(Sched *s, const Node *x)
{
	if (op_info[x->op].cls != OK_ELEMWISE)
		return true;
	int i = pos_of(x);
	for (int k = s->ufirst[i]; k < s->ufirst[i + 1]; k++)
		if (op_info[s->g->nodes[s->users[k]]->op].cls != OK_ELEMWISE)
			return true;
	return false;
}

/* A backward node that reads only values stored anyway stays out of a
 * forward run: there it would be one more buffer written for the
 * backward and read again (relu's y > 0 beside the y the next layer
 * reads), where the backward's own loop recomputes it from y for free. */
static bool stays_back(Sched *s, const Node *last, const Node *n)
{
	if (last->backward || !n->backward)
		return false;
	for (int j = 0; j < n->nin; j++)
		if (!stored_anyway(s, n->in[j]))
			return false;
	return true;
}

/* The next node: the first ready one that extends the open run of
 * elementwise ops (same shape), else the first ready one; see
 * stays_back for the exception. */
static int pick(Sched *s)
{
	int k = 0;
	Node *last = s->norder ? s->order[s->norder - 1] : NULL;
	if (last && op_info[last->op].cls == OK_ELEMWISE)
		for (int i = 0; i < s->nready; i++) {
			Node *n = s->g->nodes[s->ready[i]];
			if (op_info[n->op].cls == OK_ELEMWISE &&
			    shape_eq(n->shape, last->shape) &&
			    !stays_back(s, last, n)) {
				k = i;
				break;
			}
		}
	int r = s->ready[k];
	s->nready--;
	memmove(&s->ready[k], &s->ready[k + 1],
		(s->nready - k) * sizeof(*s->ready));
	return r;
}

/* Reorders g->nodes: the leaves first, in their order, then the
 * computing nodes by list scheduling, which keeps the old order except
 * that a ready elementwise node of the open run's shape moves up to join
 * it. Deterministic: positions decide every tie. */
static void schedule(Graph *g)
{
	int n = g->nnodes;
	if (n == 0)
		return;
	Sched s = {.g = g};
	s.order = xmalloc(n * sizeof(*s.order));
	s.pos = xmalloc(n * sizeof(*s.pos));
	s.pending = xmalloc(n * sizeof(*s.pending));
	s.ufirst = xcalloc(n + 1, sizeof(*s.ufirst));
	size_t nedges = 0;
	for (int i = 0; i < n; i++)
		nedges += g->nodes[i]->nin;
	s.users = xmalloc(nedges * sizeof(*s.users));
	s.ready = xmalloc(n * sizeof(*s.ready));
	for (int i = 0; i < n; i++) {
		s.pos[i] = i;
		g->nodes[i]->aux = &s.pos[i];
	}
	index_users(&s);
	for (int i = 0; i < n; i++)
		if (is_leaf(g->nodes[i]))
			place(&s, i);
		else if (g->nodes[i]->nin == 0) /* computed from nothing: a mask */
			make_ready(&s, i);
	while (s.nready > 0)
		place(&s, pick(&s));
	if (s.norder != n)
		ice("fuse: scheduled %d of %d nodes", s.norder, n);
	for (int i = 0; i < n; i++) {
		g->nodes[i] = s.order[i];
		g->nodes[i]->aux = NULL;
	}
	free(s.order);
	free(s.pos);
	free(s.pending);
	free(s.ufirst);
	free(s.users);
	free(s.ready);
}

/* The open run: the group being filled, and the operands it reads from
 * memory (as the emitter counts them: not members, CONST, BATCHSIZE). */
typedef struct Run {
	int group;      /* its id; -1 when no run is open */
	Shape shape;
	int nmembers;
	Node *ins[KMAX];
	int nins;
} Run;

/* Whether x costs the run nothing to read. */
static bool is_free(const Run *r, const Node *x)
{
	if (x->op == OP_CONST || x->op == OP_BATCHSIZE || x->group == r->group)
		return true;
	for (int i = 0; i < r->nins; i++)
		if (r->ins[i] == x)
			return true;
	return false;
}

/* Appends n's new operands to r->ins; returns false, appending nothing,
 * when they do not fit in KMAX. */
static bool add_ins(Run *r, const Node *n)
{
	int nins = r->nins;
	for (int j = 0; j < n->nin; j++) {
		Node *x = n->in[j];
		if (is_free(r, x))
			continue;
		if (r->nins == KMAX) {
			r->nins = nins;
			return false;
		}
		r->ins[r->nins++] = x;
	}
	return true;
}

/* A sum over the batch (a bias gradient: [B, ...] to [...]) of a member
 * of the open run: it joins the run as an accumulation in its loop. */
static bool batch_sum_of_run(const Run *r, const Node *n)
{
	Shape s = r->shape;
	s.batched = false;
	return r->group >= 0 && n->op == OP_SUM_TO && r->shape.batched &&
	       n->in[0]->group == r->group && shape_eq(n->shape, s) &&
	       r->nmembers < KMAX;
}

/* Whether n joins the open run: same shape, room left, and no operand
 * that is a sum of the run (complete only after its loop). */
static bool joins(Run *r, const Node *n)
{
	if (r->group < 0 || !shape_eq(r->shape, n->shape) ||
	    r->nmembers >= KMAX)
		return false;
	for (int j = 0; j < n->nin; j++)
		if (n->in[j]->op == OP_SUM_TO && n->in[j]->group == r->group)
			return false;
	return add_ins(r, n);
}

/* Numbers the runs of same-shaped elementwise nodes, capped so that a
 * group fits the emitter's kernel: at most KMAX members, at most KMAX
 * operands read from memory. */
static void assign_groups(Graph *g)
{
	Run r = {.group = -1};
	int ngroups = 0;
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		n->group = -1;
		n->keep = false;
		if (is_leaf(n))
			continue;
		if (batch_sum_of_run(&r, n)) {
			n->group = r.group;
			r.nmembers++;
			continue;
		}
		if (op_info[n->op].cls != OK_ELEMWISE) {
			r.group = -1;
			continue;
		}
		if (!joins(&r, n)) {
			r = (Run){.group = ngroups++, .shape = n->shape};
			add_ins(&r, n);
		}
		n->group = r.group;
		r.nmembers++;
	}
}

/* A member must be stored when something outside its group reads it. */
static void mark_kept(Graph *g)
{
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = g->nodes[i];
		for (int j = 0; j < n->nin; j++) {
			Node *x = n->in[j];
			if (x->group >= 0 && x->group != n->group)
				x->keep = true;
		}
	}
	for (int i = 0; i < g->nroots; i++) {
		Node *r = g->roots[i].node;
		if (r && r->group >= 0)
			r->keep = true;
	}
	for (int i = 0; i < g->nnodes; i++)
		if (g->nodes[i]->op == OP_SUM_TO && g->nodes[i]->group >= 0)
			g->nodes[i]->keep = true;
}

/* ---- fused ops, before autodiff ------------------------------------ */

/* -sum_last(t * log_softmax(z)), t of z's shape, as lower.c writes
 * cross_entropy: the per-row loss as one softmax_xent(z, t); NULL when n
 * is not that pattern or a part of it has another use. */
static Node *match_xent(Graph *g, Node *n)
{
	if (n->op != OP_NEG || n->nuses == 0)
		return NULL;
	Node *s = n->in[0];
	if (s->op != OP_SUM_TO || s->nuses != 1)
		return NULL;
	Node *m = s->in[0];
	if (m->op != OP_MUL || m->nuses != 1)
		return NULL;
	int l = m->in[0]->op == OP_LOGSOFTMAX ? 0 : 1;
	Node *ls = m->in[l], *t = m->in[1 - l];
	if (ls->op != OP_LOGSOFTMAX || ls->nuses != 1)
		return NULL;
	Node *z = ls->in[0];
	Shape row = z->shape;
	row.rank--;
	row.batched |= t->shape.batched;
	if (!shape_eq(t->shape, z->shape) || !shape_eq(row, s->shape))
		return NULL;
	Loc loc = g->cur_loc;
	const char *origin = g->cur_origin;
	g->cur_loc = n->loc;
	g->cur_origin = n->origin;
	Node *r = ir_op2(g, OP_SOFTMAX_XENT, z, t);
	g->cur_loc = loc;
	g->cur_origin = origin;
	return r;
}

/*
 * fuse_ops: rewrites patterns of lowered ops into the fused ops that
 * compute the same value with fewer passes and have a cheaper derivative
 * rule of their own, so it runs before autodiff (at -O1 and up; -O0
 * keeps the plain ops as the reference):
 *   -sum_last(t * log_softmax(z)) -> softmax_xent(z, t)
 *     (cross_entropy: d/dz = dy * (softmax(z) - t) for a one-hot t)
 * requires: topological order, shapes; preserves both and every root's
 * value; the replaced nodes are removed.
 */
void fuse_ops(Graph *g)
{
	bool changed = false;
	ir_count_uses(g);
	for (int i = 0, n = g->nnodes; i < n; i++) {
		Node *x = g->nodes[i], *r;
		if (!x->dead && (r = match_xent(g, x))) {
			ir_replace(g, x, r);
			changed = true;
		}
	}
	if (!changed)
		return;
	ir_toposort(g);
	dce(g);
}

void fuse(Graph *g)
{
	schedule(g);
	assign_groups(g);
	mark_kept(g);
}
