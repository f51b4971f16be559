/*
 * emit.c - the generated C file.
 *
 * requires: the three graphs of a Model, optimized (fuse.c sets the
 * groups at -O1; at -O0 every elementwise op is its own loop).
 *
 * Layout of the output: header comment, includes, the parameter table as
 * a comment, then for each graph (train, eval, pred) its kernels and its
 * entry function, then the optimizer update, the descriptor the runtime
 * reads, and main(). Entry functions plan their memory once: parameters
 * and gradients are slices of the flat buffers the runtime passes, every
 * other stored value a slice of the workspace sized for the maximum batch,
 * shared by values whose lifetimes do not overlap. Nothing is allocated
 * while training.
 */
#include "nnc.h"

#include <stdlib.h>
#include <string.h>

typedef struct Fn {
	Emitter *E;
	Graph *g;
	const char *name;     /* "grad", "eval", "predict" */
	const char **cname;   /* by node id: the C pointer holding it */
	long *offset;         /* by node id: workspace offset, or -1 */
	int *grad_of;         /* by node id: tensor whose grad it is, or -1 */
	Kernel *k;
	int nk;
	long ws;
} Fn;

/* ---- text helpers ------------------------------------------------- */

void emit(Emitter *E, const char *fmt, ...)
{
	va_list ap;
	for (int i = 0; i < E->indent; i++)
		fputc('\t', E->f);
	va_start(ap, fmt);
	vfprintf(E->f, fmt, ap);
	va_end(ap);
	fputc('\n', E->f);
}

const char *emit_lit(Emitter *E, double v)
{
	char buf[64];
	if (v == (long)v && v > -1e15 && v < 1e15)
		snprintf(buf, sizeof(buf), "%ld.0", (long)v);
	else
		snprintf(buf, sizeof(buf), E->o->f64 ? "%.17g" : "%.9g", v);
	if (!strpbrk(buf, ".en"))
		strcat(buf, ".0");
	if (!E->o->f64)
		strcat(buf, "f");
	if (v < 0)
		return arena_printf(&E->arena, "(%s)", buf);
	return arena_strdup(&E->arena, buf);
}

const char *emit_basename(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static const char *shape_c(Emitter *E, Shape s)
{
	char buf[64];
	return arena_strdup(&E->arena, shape_str(s, buf, sizeof(buf)));
}

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
static int collect(Fn *F, int i, Kernel *k)
{
	Graph *g = F->g;
	Node *n = g->nodes[i];
	memset(k, 0, sizeof(*k));
	k->members[k->nmembers++] = n;
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

static void build_kernels(Fn *F)
{
	Graph *g = F->g;
	F->k = xcalloc(g->nnodes + 1, sizeof(Kernel));
	for (int i = 0; i < g->nnodes;) {
		Node *n = g->nodes[i];
		if (is_leaf(n) || op_info[n->op].cls == OK_VIEW) {
			i++;
			continue;
		}
		i = collect(F, i, &F->k[F->nk++]);
	}
}

/* ---- memory plan -------------------------------------------------- */

static long buf_size(Emitter *E, Shape s)
{
	long n = shape_numel(s) * (s.batched ? E->m->train.batch : 1);
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

/* last[id]: the last kernel reading node id (F->nk for roots) */
static int *last_uses(Fn *F)
{
	int *last = xcalloc(F->g->nnodes, sizeof(int));
	for (int i = 0; i < F->g->nnodes; i++)
		last[i] = -1;
	for (int k = 0; k < F->nk; k++)
		for (int a = 0; a < F->k[k].nins; a++)
			last[base_of(F->k[k].ins[a])->id] = k;
	for (int r = 0; r < F->g->nroots; r++)
		if (F->g->roots[r].node)
			last[base_of(F->g->roots[r].node)->id] = F->nk;
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

static void assign_ws(Fn *F, Node *x, const char *name, Pool *p, int last)
{
	Emitter *E = F->E;
	F->cname[x->id] = name;
	F->offset[x->id] = pool_take(p, buf_size(E, x->shape), last);
}

static void allocate(Fn *F)
{
	Emitter *E = F->E;
	Graph *g = F->g;
	int *last = last_uses(F);
	Pool p = {0};
	for (int i = 0; i < g->nnodes; i++) {
		Node *x = g->nodes[i];
		if (x->op == OP_INPUT && E->o->f64)
			assign_ws(F, x, x->attr[0] ? "ty" : "tx", &p, F->nk);
	}
	for (int k = 0; k < F->nk; k++) {
		pool_release(&p, k);
		for (int o = 0; o < F->k[k].nouts; o++) {
			Node *x = F->k[k].outs[o];
			if (F->cname[x->id])
				continue;
			int end = last[x->id] > k ? last[x->id] : k;
			assign_ws(F, x, arena_printf(&E->arena, "t%d", x->id),
				  &p, end);
		}
	}
	F->ws = p.top;
	free(p.b);
	free(last);
}

static void plan(Fn *F)
{
	Graph *g = F->g;
	Emitter *E = F->E;
	int nn = g->nnodes;
	F->cname = xcalloc(nn, sizeof(char *));
	F->offset = xcalloc(nn, sizeof(long));
	F->grad_of = xcalloc(nn, sizeof(int));
	for (int i = 0; i < nn; i++) {
		F->offset[i] = -1;
		F->grad_of[i] = -1;
	}
	for (int r = 0; r < g->nroots; r++) {
		Root *rt = &g->roots[r];
		Node *x = rt->node;
		int cls = x ? op_info[x->op].cls : OK_LEAF;
		if (rt->kind == ROOT_GRAD && x && F->grad_of[x->id] < 0 &&
		    (cls == OK_ELEMWISE || cls == OK_KERNEL))
			F->grad_of[x->id] = rt->index;
	}
	for (int i = 0; i < nn; i++) {
		Node *x = g->nodes[i];
		if (x->op == OP_INPUT && !E->o->f64)
			F->cname[i] = x->attr[0] ? "y" : "x";
		else if (x->op == OP_PARAM)
			F->cname[i] = arena_printf(&E->arena, "w%d", x->attr[0]);
		else if (F->grad_of[i] >= 0)
			F->cname[i] = arena_printf(&E->arena, "g%d",
						   F->grad_of[i]);
	}
	allocate(F);
	for (int i = 0; i < nn; i++) /* views alias what they view */
		if (op_info[g->nodes[i]->op].cls == OK_VIEW)
			F->cname[i] = F->cname[g->nodes[i]->in[0]->id];
}

/* ---- entry functions ---------------------------------------------- */

static bool graph_has(Graph *g, OpKind op, int attr0)
{
	for (int i = 0; i < g->nnodes; i++)
		if (g->nodes[i]->op == op && g->nodes[i]->attr[0] == attr0)
			return true;
	return false;
}

static void declare_pointers(Fn *F)
{
	Emitter *E = F->E;
	Graph *g = F->g;
	Model *m = E->m;
	for (int t = 0; t < m->ntensors; t++)
		if (graph_has(g, OP_PARAM, t))
			emit(E, "const %s *w%d = p + %ld;\t/* %s %s */", E->real,
			     t, m->tensors[t].offset, m->tensors[t].name,
			     shape_c(E, m->tensors[t].shape));
	for (int i = 0; i < g->nnodes; i++) {
		Node *x = g->nodes[i];
		if (F->grad_of[i] >= 0) {
			Tensor *t = &m->tensors[F->grad_of[i]];
			emit(E, "%s *g%d = g + %ld;\t/* d loss / d %s */", E->real,
			     F->grad_of[i], t->offset, t->name);
		} else if (F->offset[i] >= 0) {
			emit(E, "%s *%s = ws + %ld;\t/* %s */", E->real,
			     F->cname[i], F->offset[i], shape_c(E, x->shape));
		}
	}
	for (int i = 0; i < g->nnodes; i++) {
		Node *x = g->nodes[i];
		if (x->op != OP_INPUT || !E->o->f64)
			continue;
		emit(E, "for (long i = 0; i < (long)n * %ld; i++) {",
		     shape_numel(x->shape));
		emit(E, "\t%s[i] = %s[i];", F->cname[i], x->attr[0] ? "y" : "x");
		emit(E, "}");
	}
}

static void emit_calls(Fn *F)
{
	Emitter *E = F->E;
	const char *last = NULL;
	for (int i = 0; i < F->nk; i++) {
		Kernel *k = &F->k[i];
		Node *x = k->members[0];
		if (x->origin && x->origin != last && x->loc.line)
			emit(E, "/* %s%s:%d  %s */", x->backward ? "backward of " : "",
			     emit_basename(x->loc.file), x->loc.line, x->origin);
		last = x->origin;
		char args[2048];
		size_t len = snprintf(args, sizeof(args), "n");
		for (int a = 0; a < k->nins; a++)
			len += snprintf(args + len, sizeof(args) - len, ", %s",
					F->cname[k->ins[a]->id]);
		for (int o = 0; o < k->nouts; o++)
			len += snprintf(args + len, sizeof(args) - len, ", %s",
					F->cname[k->outs[o]->id]);
		emit(E, "%s(%s);", k->name, args);
	}
}

static const char *value_of(Fn *F, Node *x, const char *idx)
{
	if (x->op == OP_CONST)
		return emit_lit(F->E, x->fval);
	return arena_printf(&F->E->arena, "%s[%s]", F->cname[x->id], idx);
}

static long out_size(const Model *m)
{
	long n = 0;
	for (int i = 0; i < m->noutputs; i++)
		n += shape_numel(m->outputs[i].shape);
	return n;
}

static void emit_roots(Fn *F)
{
	Emitter *E = F->E;
	Model *m = E->m;
	long off = 0;
	for (int r = 0; r < F->g->nroots; r++) {
		Root *rt = &F->g->roots[r];
		Node *x = rt->node;
		if (rt->kind == ROOT_GRAD) {
			Tensor *t = &m->tensors[rt->index];
			long sz = shape_numel(t->shape);
			if (!x)
				emit(E, "memset(g + %ld, 0, %ld * sizeof(%s));\t"
				     "/* %s: no dependence */", t->offset, sz,
				     E->real, t->name);
			else if (F->grad_of[x->id] != rt->index)
				emit(E, "memcpy(g + %ld, %s, %ld * sizeof(%s));",
				     t->offset, F->cname[x->id], sz, E->real);
		} else if (rt->kind == ROOT_SAMPLE_LOSS) {
			emit(E, "if (loss) {");
			emit(E, "\tfor (long b = 0; b < n; b++) {");
			emit(E, "\t\tloss[b] = %s;", value_of(F, x, "b"));
			emit(E, "\t}");
			emit(E, "}");
		} else if (rt->kind == ROOT_OUTPUT) {
			long sz = shape_numel(x->shape);
			const char *idx = arena_printf(&E->arena, "b * %ld + j", sz);
			emit(E, "if (out) {\t/* output %s */",
			     m->outputs[rt->index].name);
			emit(E, "\tfor (long b = 0; b < n; b++) {");
			emit(E, "\t\tfor (long j = 0; j < %ld; j++) {", sz);
			emit(E, "\t\t\tout[b * %ld + %ld + j] = %s;", out_size(m),
			     off, value_of(F, x, idx));
			emit(E, "\t\t}");
			emit(E, "\t}");
			emit(E, "}");
			off += sz;
		}
	}
}

static Node *root_node(Graph *g, int kind)
{
	for (int r = 0; r < g->nroots; r++)
		if (g->roots[r].kind == kind)
			return g->roots[r].node;
	return NULL;
}

static void signature(Fn *F)
{
	Emitter *E = F->E;
	const char *mn = E->m->name;
	if (strcmp(F->name, "grad") == 0) {
		emit(E, "static double %s_grad(const void *params, void *grads, "
		     "void *work,", mn);
		emit(E, "\t\tconst float *x, const float *y, int n)");
	} else if (strcmp(F->name, "eval") == 0) {
		emit(E, "static void %s_eval(const void *params, void *work, "
		     "const float *x,", mn);
		emit(E, "\t\tconst float *y, int n, double *loss, float *out)");
	} else {
		emit(E, "static void %s_predict(const void *params, void *work, "
		     "const float *x,", mn);
		emit(E, "\t\tint n, float *out)");
	}
	emit(E, "{");
	E->indent++;
	emit(E, "const %s *p = params;", E->real);
	if (strcmp(F->name, "grad") == 0)
		emit(E, "%s *g = grads;", E->real);
	emit(E, "%s *ws = work;", E->real);
	if (!F->ws)
		emit(E, "(void)ws;");
	bool hasx = false, hasy = false;
	for (int i = 0; i < F->g->nnodes; i++)
		if (F->g->nodes[i]->op == OP_INPUT) {
			hasx |= F->g->nodes[i]->attr[0] == 0;
			hasy |= F->g->nodes[i]->attr[0] == 1;
		}
	if (!hasx)
		emit(E, "(void)x;");
	if (!hasy && strcmp(F->name, "predict") != 0)
		emit(E, "(void)y;");
}

static void emit_function(Emitter *E, Graph *g, const char *name)
{
	Fn F = {.E = E, .g = g, .name = name};
	for (int i = 0; i < g->nnodes; i++)
		g->nodes[i]->id = i;
	build_kernels(&F);
	plan(&F);
	for (int i = 0; i < F.nk; i++)
		emit_kernel_def(E, &F.k[i]);
	signature(&F);
	bool uses_p = false;
	for (int i = 0; i < g->nnodes; i++)
		uses_p |= g->nodes[i]->op == OP_PARAM;
	if (!uses_p)
		emit(E, "(void)p;");
	declare_pointers(&F);
	emit_calls(&F);
	emit_roots(&F);
	if (strcmp(name, "grad") == 0) {
		Node *l = root_node(g, ROOT_LOSS);
		emit(E, "return %s;", value_of(&F, l, "0"));
	}
	E->indent--;
	emit(E, "}");
	emit(E, "%s", "");
	if (F.ws > E->m->ws_size)
		E->m->ws_size = F.ws;
	free(F.k);
	free(F.cname);
	free(F.offset);
	free(F.grad_of);
}

/* ---- descriptor --------------------------------------------------- */

static const char *init_names[] = {
	"NNRT_INIT_ZEROS", "NNRT_INIT_ONES", "NNRT_INIT_CONSTANT",
	"NNRT_INIT_NORMAL", "NNRT_INIT_UNIFORM", "NNRT_INIT_XAVIER_UNIFORM",
	"NNRT_INIT_XAVIER_NORMAL", "NNRT_INIT_HE_UNIFORM", "NNRT_INIT_HE_NORMAL",
};

static const char *dims_init(Emitter *E, Shape s)
{
	char buf[96];
	size_t len = snprintf(buf, sizeof(buf), "%d, {", s.rank);
	for (int i = 0; i < s.rank; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%d", i ? ", " : "",
				s.dim[i]);
	snprintf(buf + len, sizeof(buf) - len, "}");
	return arena_strdup(&E->arena, buf);
}

/* A C string literal. */
static const char *cstr(Emitter *E, const char *s)
{
	if (!s)
		return "NULL";
	size_t n = strlen(s);
	char *b = arena_alloc(&E->arena, 2 * n + 3), *p = b;
	*p++ = '"';
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			*p++ = '\\';
		*p++ = *s;
	}
	*p++ = '"';
	return b;
}

static void emit_tables(Emitter *E)
{
	Model *m = E->m;
	const char *mn = m->name;
	emit(E, "static const NnrtTensor %s_tensors[] = {", mn);
	for (int i = 0; i < m->ntensors; i++) {
		Tensor *t = &m->tensors[i];
		emit(E, "\t{%s, %s, %ld, %ld, %s, %.17g, %.17g, %d, %d, %d},",
		     cstr(E, t->name), dims_init(E, t->shape), t->offset,
		     shape_numel(t->shape), init_names[t->init], t->init_a,
		     t->init_b, t->fan_in, t->fan_out, t->trainable);
	}
	emit(E, "};");
	emit(E, "%s", "");
	emit(E, "static const NnrtLayer %s_layers[] = {", mn);
	emit(E, "\t{%s, \"input\", %s, 0, 0},", cstr(E, m->input_name),
	     dims_init(E, m->input));
	for (int i = 0; i < m->nlayers; i++) {
		Layer *l = &m->layers[i];
		emit(E, "\t{%s, %s, %s, %ld, %.17g},", cstr(E, l->name),
		     cstr(E, l->kind), dims_init(E, l->shape), l->params,
		     l->flops);
	}
	emit(E, "};");
	emit(E, "%s", "");
	emit(E, "static const char *const %s_output_names[] = {", mn);
	for (int i = 0; i < m->noutputs; i++)
		emit(E, "\t%s,", cstr(E, m->outputs[i].name));
	emit(E, "};");
	emit(E, "static const long %s_output_sizes[] = {", mn);
	for (int i = 0; i < m->noutputs; i++)
		emit(E, "\t%ld,", shape_numel(m->outputs[i].shape));
	emit(E, "};");
	emit(E, "%s", "");
}

static void emit_train_config(Emitter *E)
{
	static const char *norms[] = {"NNRT_NORM_NONE", "NNRT_NORM_STANDARD",
				      "NNRT_NORM_MINMAX"};
	static const char *mons[] = {"NNRT_MON_VAL_LOSS", "NNRT_MON_VAL_ACCURACY",
				     "NNRT_MON_LOSS", "NNRT_MON_ACCURACY"};
	TrainCfg *t = &E->m->train;
	DataSrc *d = &t->data;
	emit(E, "\t.train = {");
	emit(E, "\t\t.data = {NNRT_SRC_CSV, %s, %d, %d, %d, %d, %d},",
	     cstr(E, d->path), d->skip, d->x_lo, d->x_hi, d->y_lo, d->y_hi);
	emit(E, "\t\t.validation = %.17g,", t->validation);
	emit(E, "\t\t.batch = %d,", t->batch);
	emit(E, "\t\t.epochs = %d,", t->epochs);
	emit(E, "\t\t.shuffle = %d,", t->shuffle);
	emit(E, "\t\t.drop_last = %d,", t->drop_last);
	emit(E, "\t\t.seed = %ldUL,", t->seed);
	emit(E, "\t\t.normalize = %s,", norms[t->normalize]);
	emit(E, "\t\t.metrics = %u,", t->metrics);
	emit(E, "\t\t.early_stop = %d,", t->early_stop);
	emit(E, "\t\t.monitor = %s,", mons[t->es_monitor]);
	emit(E, "\t\t.patience = %d,", t->es_patience);
	emit(E, "\t\t.min_delta = %.17g,", t->es_min_delta);
	emit(E, "\t\t.restore_best = %d,", t->es_restore_best);
	emit(E, "\t\t.checkpoint = %s,", cstr(E, t->checkpoint));
	emit(E, "\t\t.log = %s,", cstr(E, t->log));
	emit(E, "\t},");
}

static void emit_descriptor(Emitter *E)
{
	Model *m = E->m;
	const char *mn = m->name;
	long outs = out_size(m);
	emit(E, "static const NnrtModel %s_model = {", mn);
	emit(E, "\t.name = %s,", cstr(E, mn));
	emit(E, "\t.source = %s,", cstr(E, emit_basename(m->file)));
	emit(E, "\t.nnc_version = \"%s\",", NNC_VERSION);
	emit(E, "\t.real_size = %d,", E->o->f64 ? 8 : 4);
	emit(E, "\t.max_batch = %d,", m->train.batch);
	emit(E, "\t.input_rank = %d,", m->input.rank);
	emit(E, "\t.input_dims = %s,", strchr(dims_init(E, m->input), '{'));
	emit(E, "\t.input_size = %ld,", shape_numel(m->input));
	emit(E, "\t.n_classes = %d,", m->nclasses);
	emit(E, "\t.target_size = %ld,", m->nclasses ? 1 : shape_numel(m->target));
	emit(E, "\t.n_outputs = %d,", m->noutputs);
	emit(E, "\t.output_names = %s_output_names,", mn);
	emit(E, "\t.output_sizes = %s_output_sizes,", mn);
	emit(E, "\t.output_size = %ld,", outs);
	emit(E, "\t.n_tensors = %d,", m->ntensors);
	emit(E, "\t.tensors = %s_tensors,", mn);
	emit(E, "\t.n_layers = %d,", m->nlayers + 1);
	emit(E, "\t.layers = %s_layers,", mn);
	emit(E, "\t.n_params = %ld,", m->nparams);
	emit(E, "\t.n_state = %ld,", emit_state_size(m));
	emit(E, "\t.ws_size = %ld,", m->ws_size);
	emit(E, "\t.optimizer = %s,", cstr(E, emit_optim_str(E)));
	emit(E, "\t.lr = %.17g,", m->optim.lr);
	emit_train_config(E);
	emit(E, "\t.grad = %s_grad,", mn);
	emit(E, "\t.update = %s_update,", mn);
	emit(E, "\t.eval = %s_eval,", mn);
	emit(E, "\t.predict = %s_predict,", mn);
	emit(E, "};");
	emit(E, "%s", "");
	emit(E, "int main(int argc, char **argv)");
	emit(E, "{");
	emit(E, "\treturn nnrt_main(&%s_model, argc, argv);", mn);
	emit(E, "}");
}

static void emit_header(Emitter *E)
{
	Model *m = E->m;
	emit(E, "/*");
	emit(E, " * %s.c - a trainer for model '%s', generated by nnc %s", m->name,
	     m->name, NNC_VERSION);
	emit(E, " * from %s (%s). Do not edit: edit the .nn file.",
	     emit_basename(m->file), E->o->flags ? E->o->flags : "");
	emit(E, " *");
	emit(E, " * Build: cc -O2 %s.c $(pkg-config --cflags --libs nnrt)", m->name);
	emit(E, " */");
	emit(E, "#include <math.h>");
	emit(E, "#include <string.h>");
	emit(E, "#include <cblas.h>");
	emit(E, "#include <nnrt.h>");
	emit(E, "%s", "");
	emit(E, "/* ==== parameters: one flat buffer of %ld %ss ====", m->nparams,
	     E->real);
	emit(E, " *");
	for (int i = 0; i < m->ntensors; i++) {
		Tensor *t = &m->tensors[i];
		emit(E, " *   w%-3d %-16s %-12s offset %-8ld %s:%d", i, t->name,
		     shape_c(E, t->shape), t->offset, emit_basename(t->loc.file),
		     t->loc.line);
	}
	emit(E, " */");
	emit(E, "%s", "");
}

void emit_c(FILE *f, Model *m, const EmitOpts *o)
{
	Emitter E = {0};
	E.f = f;
	E.m = m;
	E.o = o;
	E.real = o->f64 ? "double" : "float";
	E.fs = o->f64 ? "" : "f";
	m->ws_size = 0;
	emit_header(&E);
	emit(&E, "/* ==== training: forward, backward (autodiff) ==== */");
	emit(&E, "%s", "");
	emit_function(&E, m->train_g, "grad");
	emit(&E, "/* ==== inference: loss and outputs ==== */");
	emit(&E, "%s", "");
	emit_function(&E, m->eval_g, "eval");
	emit(&E, "/* ==== prediction: outputs only ==== */");
	emit(&E, "%s", "");
	emit_function(&E, m->pred_g, "predict");
	emit(&E, "/* ==== optimizer ==== */");
	emit(&E, "%s", "");
	emit_update(&E);
	emit(&E, "/* ==== descriptor for the runtime ==== */");
	emit(&E, "%s", "");
	emit_tables(&E);
	emit_descriptor(&E);
	for (int i = 0; i < E.nk; i++)
		free(E.kbody[i]);
	free(E.kbody);
	free(E.kname);
	arena_free(&E.arena);
}
