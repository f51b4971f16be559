/*
 * plan.c - kernels and memory of one entry function: the last pass, run
 * on each of a model's three graphs after the optimizations and before
 * the emitter, which only prints what it decided.
 *
 * requires: a graph in topological order with fuse groups set (at -O0
 * every group is -1); ids are renumbered here.
 * produces: the kernels in call order (a fused group, or one kernel op,
 * with the operands they read and the results they store), the C name of
 * every stored value (x, y or their f64 copies tx, ty; with several
 * inputs, input k's copy x<k> out of the rows of x; w<t> for tensor t;
 * g<t> for a gradient written straight into its slice of the gradient
 * buffer; t<id> for the rest) and the workspace offset of every value
 * that lives in the workspace, the scratch of every kernel whose op asks
 * for working memory (reserved for that kernel alone), and the workspace
 * size for the largest batch. Views alias what they view.
 */
#include "nnc.h"

#include <stdlib.h>
#include <string.h>

/* ---- kernels of a graph ------------------------------------------- */

static bool is_leaf(const Node *n)
{
	return op_info[n->op].cls == OK_LEAF;
}

static void add_unique(Node **list, int *n, Node *x)
{
	for (int i = 0; i < *n; i++)
		if (list[i] == x)
			return;
	if (*n == KMAX)
		ice("kernel has more than %d operands", KMAX);
	list[(*n)++] = x;
}

static bool in_members(Kernel *k, Node *x)
{
	for (int i = 0; i < k->nmembers; i++)
		if (k->members[i] == x)
			return true;
	return false;
}

/* Groups the nodes into kernels: a fused group's members are contiguous
 * but for leaves, which compute nothing. */
static int collect(Plan *P, int i, Kernel *k)
{
	Graph *g = P->g;
	Node *n = g->nodes[i];
	memset(k, 0, sizeof(*k));
	k->members[k->nmembers++] = n;
	if (op_info[n->op].scratch)
		k->scratch = op_info[n->op].scratch(n, P->batch);
	bool group = op_info[n->op].cls == OK_ELEMWISE && n->group >= 0;
	int j = i + 1;
	for (; group && j < g->nnodes; j++) {
		Node *x = g->nodes[j];
		if (is_leaf(x))
			continue;
		if (x->group != n->group)
			break;
		if (k->nmembers == (int)(sizeof(k->members) /
					 sizeof(k->members[0])))
			ice("group %d has more members than a kernel holds "
			    "(fuse.c caps groups at KMAX)", n->group);
		k->members[k->nmembers++] = x;
	}
	for (int m = 0; m < k->nmembers; m++) {
		Node *x = k->members[m];
		for (int a = 0; a < x->nin; a++) {
			Node *in = x->in[a];
			if (in->op == OP_CONST || in->op == OP_BATCHSIZE)
				continue;
			if (!in_members(k, in))
				add_unique(k->ins, &k->nins, in);
		}
		bool elem = op_info[x->op].cls == OK_ELEMWISE;
		if (!elem || x->group < 0 || x->keep)
			add_unique(k->outs, &k->nouts, x);
	}
	if (op_info[n->op].cls != OK_ELEMWISE && op_info[n->op].cls != OK_KERNEL)
		ice("collect: %s is not computed", op_info[n->op].name);
	return group ? j : i + 1;
}

static void build_kernels(Plan *P)
{
	Graph *g = P->g;
	P->k = xcalloc(g->nnodes + 1, sizeof(Kernel));
	for (int i = 0; i < g->nnodes;) {
		Node *n = g->nodes[i];
		if (is_leaf(n) || op_info[n->op].cls == OK_VIEW) {
			i++;
			continue;
		}
		i = collect(P, i, &P->k[P->nk++]);
	}
}

/* ---- memory plan -------------------------------------------------- */

static long buf_size(const Plan *P, Shape s)
{
	long n = shape_numel(s) * (s.batched ? P->batch : 1);
	return (n + 15) / 16 * 16;
}

/*
 * Workspace allocation by liveness: a stored value occupies its slice
 * from the kernel that writes it to the last kernel that reads it (roots
 * and the f64 input copies: to the end). A slice whose value is dead is
 * reused, best fit, by a later kernel's results. A kernel's results never
 * share memory with its operands, which are live while it runs.
 */
typedef struct Block {
	long off, size;
	int last;        /* index of the last kernel reading it */
	bool free;
} Block;

typedef struct Pool {
	Block *b;
	int n;
	long top;        /* workspace elements used */
} Pool;

static Node *base_of(Node *x)
{
	while (op_info[x->op].cls == OK_VIEW)
		x = x->in[0];
	return x;
}

/* last[id]: the last kernel reading node id (P->nk for roots) */
static int *last_uses(Plan *P)
{
	int *last = xcalloc(P->g->nnodes, sizeof(int));
	for (int i = 0; i < P->g->nnodes; i++)
		last[i] = -1;
	for (int k = 0; k < P->nk; k++)
		for (int a = 0; a < P->k[k].nins; a++)
			last[base_of(P->k[k].ins[a])->id] = k;
	for (int r = 0; r < P->g->nroots; r++)
		if (P->g->roots[r].node)
			last[base_of(P->g->roots[r].node)->id] = P->nk;
	return last;
}

static long pool_take(Pool *p, long size, int last)
{
	int best = -1;
	for (int i = 0; i < p->n; i++)
		if (p->b[i].free && p->b[i].size >= size &&
		    (best < 0 || p->b[i].size < p->b[best].size))
			best = i;
	if (best < 0) {
		p->b = xrealloc(p->b, (p->n + 1) * sizeof(Block));
		p->b[p->n] = (Block){p->top, size, last, false};
		p->top += size;
		return p->b[p->n++].off;
	}
	p->b[best].free = false;
	p->b[best].last = last;
	return p->b[best].off;
}

/* Frees the blocks no kernel from k on reads. */
static void pool_release(Pool *p, int k)
{
	for (int i = 0; i < p->n; i++)
		if (p->b[i].last < k)
			p->b[i].free = true;
}

static void assign_ws(Plan *P, Node *x, const char *name, Pool *p, int last)
{
	P->cname[x->id] = name;
	P->offset[x->id] = pool_take(p, buf_size(P, x->shape), last);
}

/* Whether an INPUT node is a workspace copy: in f64 builds, and for
 * each of several inputs (the target's rows are always whole). */
bool plan_copies(const Plan *P, const Node *x)
{
	return P->f64 || (P->gather && x->attr.input.which == 0);
}

static void allocate(Plan *P)
{
	Graph *g = P->g;
	int *last = last_uses(P);
	Pool p = {0};
	for (int i = 0; i < g->nnodes; i++) {
		Node *x = g->nodes[i];
		if (x->op == OP_INPUT && plan_copies(P, x))
			assign_ws(P, x, x->attr.input.which ? "ty"
				  : P->gather ? arena_printf(&P->arena, "x%d",
						x->attr.input.index)
				  : "tx", &p, P->nk);
	}
	for (int k = 0; k < P->nk; k++) {
		pool_release(&p, k);
		Kernel *kk = &P->k[k];
		if (kk->scratch)	/* live while the kernel runs */
			kk->scratch_off = pool_take(&p, (kk->scratch + 15) / 16 * 16,
						    k);
		for (int o = 0; o < P->k[k].nouts; o++) {
			Node *x = P->k[k].outs[o];
			if (P->cname[x->id])
				continue;
			int end = last[x->id] > k ? last[x->id] : k;
			assign_ws(P, x, arena_printf(&P->arena, "t%d", x->id),
				  &p, end);
		}
	}
	P->ws = p.top;
	free(p.b);
	free(last);
}

static void name_values(Plan *P)
{
	Graph *g = P->g;
	int nn = g->nnodes;
	P->cname = xcalloc(nn, sizeof(char *));
	P->offset = xcalloc(nn, sizeof(long));
	P->grad_of = xcalloc(nn, sizeof(int));
	for (int i = 0; i < nn; i++) {
		P->offset[i] = -1;
		P->grad_of[i] = -1;
	}
	for (int r = 0; r < g->nroots; r++) {
		Root *rt = &g->roots[r];
		Node *x = rt->node;
		int cls = x ? op_info[x->op].cls : OK_LEAF;
		if (rt->kind == ROOT_GRAD && x && P->grad_of[x->id] < 0 &&
		    (cls == OK_ELEMWISE || cls == OK_KERNEL))
			P->grad_of[x->id] = rt->index;
	}
	for (int i = 0; i < nn; i++) {
		Node *x = g->nodes[i];
		if (x->op == OP_INPUT && !plan_copies(P, x))
			P->cname[i] = x->attr.input.which ? "y" : "x";
		else if (x->op == OP_PARAM)
			P->cname[i] = arena_printf(&P->arena, "w%d",
						   x->attr.param.tensor);
		else if (P->grad_of[i] >= 0)
			P->cname[i] = arena_printf(&P->arena, "g%d",
						   P->grad_of[i]);
	}
	allocate(P);
	for (int i = 0; i < nn; i++) /* views alias what they view */
		if (op_info[g->nodes[i]->op].cls == OK_VIEW)
			P->cname[i] = P->cname[g->nodes[i]->in[0]->id];
}

static void plan_graph(Plan *P, Graph *g, int batch, bool f64, bool gather)
{
	P->g = g;
	P->batch = batch;
	P->f64 = f64;
	P->gather = gather;
	for (int i = 0; i < g->nnodes; i++)
		g->nodes[i]->id = i;
	build_kernels(P);
	name_values(P);
}

static void plan_free(Plan *P)
{
	free(P->k);
	free(P->cname);
	free(P->offset);
	free(P->grad_of);
	arena_free(&P->arena);
	free(P);
}

void plan(Model *m, bool f64)
{
	Graph *g[3] = {m->train_g, m->eval_g, m->pred_g};
	m->ws_size = 0;
	for (int i = 0; i < 3; i++) {
		m->plans[i] = xcalloc(1, sizeof(Plan));
		plan_graph(m->plans[i], g[i], m->train.batch, f64,
			   m->ninputs > 1);
		if (m->plans[i]->ws > m->ws_size)
			m->ws_size = m->plans[i]->ws;
	}
}

void plan_free_all(Model *m)
{
	for (int i = 0; i < 3; i++) {
		if (m->plans[i])
			plan_free(m->plans[i]);
		m->plans[i] = NULL;
	}
}
