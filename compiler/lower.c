/*
 * lower.c - checked expressions to IR.
 *
 * Layers and losses become primitive ops here: dense is a matmul and a
 * broadcast add, mse a subtract, square and mean, cross_entropy a
 * log_softmax against a one-hot target. Three graphs come out:
 *
 *   train  the batch-mean loss (autodiff then adds the gradients)
 *   eval   the per-sample loss and the outputs
 *   pred   the outputs only
 *
 * Every node inherits the location of the expression it comes from, so
 * comments in the C and diagnostics still name the user's line.
 */
#include "nnc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct Lower {
	Graph *g;
	Model *m;
	bool training;   /* the train graph: batch statistics, buffer roots */
} Lower;

/* Each builtin's lowering (named in builtins.def) gets the call and its
 * operands, already lowered. */
typedef Node *LowerFn(Lower *L, Expr *e, Node **a);
static LowerFn lower_dense, lower_pointwise, lower_gelu, lower_silu,
	lower_square, lower_reduce, lower_where, lower_mse, lower_mae,
	lower_huber, lower_mean_of, lower_cross_entropy, lower_batchnorm,
	lower_layernorm, lower_dropout, lower_regularizer, lower_conv2d,
	lower_pool, lower_flatten;

#define NO_OP OP_COUNT
static const struct {
	LowerFn *lower;
	OpKind op;
} builtin_ir[B_COUNT] = {
#define BUILTIN(id, name, req, params, check, lower, op) [B_##id] = {lower, op},
#include "builtins.def"
#undef BUILTIN
};

static Node *cst(Lower *L, double v) { return ir_const(L->g, v); }
static Node *op1(Lower *L, OpKind k, Node *a) { return ir_op1(L->g, k, a); }
static Node *op2(Lower *L, OpKind k, Node *a, Node *b) { return ir_op2(L->g, k, a, b); }
static Node *add(Lower *L, Node *a, Node *b) { return op2(L, OP_ADD, a, b); }
static Node *sub(Lower *L, Node *a, Node *b) { return op2(L, OP_SUB, a, b); }
static Node *mul(Lower *L, Node *a, Node *b) { return op2(L, OP_MUL, a, b); }

/* The mean over all of one sample's elements. */
static Node *sample_mean(Lower *L, Node *x)
{
	long n = shape_numel(x->shape);
	Node *s = ir_sum_to(L->g, x, shape_scalar(x->shape.batched));
	return n == 1 ? s : op2(L, OP_MUL, s, cst(L, 1.0 / n));
}

/* A per-sample "@": matrix product over the last axis of the left and
 * the first axis of the right. A batched left with a parameter on the
 * right (X @ W) folds the batch into one GEMM, as does a parameter matrix
 * times a batched vector (W @ x, computed as X @ W^T); two per-sample
 * operands, or a parameter times a per-sample matrix, are one GEMM a
 * sample (bmm). */
static Node *lower_matmul(Lower *L, Expr *e, Node *l, Node *r)
{
	Shape ls = l->shape, rs = r->shape;
	int n = ls.dim[ls.rank - 1];
	int cols = (int)(shape_numel(rs) / rs.dim[0]);
	if (!rs.batched)
		return ir_matmul(L->g, l, r, false, false, n, cols, e->shape);
	if (!ls.batched && rs.rank == 1)
		return ir_matmul(L->g, r, l, false, true, n, n, e->shape);
	return ir_bmm(L->g, l, r, false, false, (int)(shape_numel(ls) / n), n,
		      cols, e->shape);
}

static Node *lower_binop(Lower *L, Expr *e)
{
	static const OpKind ops[] = {
		[AOP_ADD] = OP_ADD, [AOP_SUB] = OP_SUB, [AOP_MUL] = OP_MUL,
		[AOP_DIV] = OP_DIV, [AOP_POW] = OP_POW, [AOP_LT] = OP_LT,
		[AOP_LE] = OP_LE, [AOP_GT] = OP_GT, [AOP_GE] = OP_GE,
		[AOP_EQ] = OP_EQ, [AOP_NE] = OP_NE,
	};
	Node *l = e->arg[0]->memo, *r = e->arg[1]->memo;
	if (e->op == AOP_MATMUL)
		return lower_matmul(L, e, l, r);
	if (e->op >= sizeof(ops) / sizeof(ops[0]) || !ops[e->op])
		ice("no IR op for '%s'", ast_op_name(e->op));
	return op2(L, ops[e->op], l, r);
}

static Node *tensor(Lower *L, int t)
{
	Tensor *tt = &L->m->tensors[t];
	return ir_param(L->g, tt->name, t, tt->shape);
}

/* dense(x) = x @ W + b */
static Node *lower_dense(Lower *L, Expr *e, Node **a)
{
	Node *x = a[0];
	int n = x->shape.dim[x->shape.rank - 1];
	Node *y = ir_matmul(L->g, x, tensor(L, e->tensor), false, false, n,
			    (int)e->opt[1], e->shape);
	if (e->flag)
		y = op2(L, OP_ADD, y, tensor(L, e->tensor + 1));
	return y;
}

/* A pointwise builtin is its primitive op, on the call's operands and
 * then its numeric options (by parameter index) as constants:
 * clamp(x, lo, hi) is clamp(x, const opt[1], const opt[2]). */
static Node *lower_pointwise(Lower *L, Expr *e, Node **a)
{
	OpKind op = builtin_ir[e->fn].op;
	int nin = op_info[op].nin;
	if (nin < e->nargs)
		ice("%s: %d operands for %d inputs", op_info[op].name, e->nargs,
		    nin);
	Node **in = arena_alloc(&L->g->arena, nin * sizeof(*in));
	for (int i = 0; i < nin; i++)
		in[i] = i < e->nargs ? a[i] : cst(L, e->opt[i]);
	return ir_node(L->g, op, nin, in);
}

static Node *lower_where(Lower *L, Expr *e, Node **a)
{
	return ir_op3(L->g, OP_WHERE, a[0], a[1], a[2]);
}

/* gelu(x) = x 0.5 (1 + erf(x sqrt(1/2))), the exact form, as PyTorch's
 * kernel computes it; its derivative comes from the ops' rules:
 * 0.5 (1 + erf(x / sqrt(2))) + x exp(-x^2 / 2) / sqrt(2 pi) */
static Node *lower_gelu(Lower *L, Expr *e, Node **a)
{
	Node *x = a[0];
	Node *erf = op1(L, OP_ERF, mul(L, x, cst(L, sqrt(0.5))));
	return mul(L, mul(L, x, cst(L, 0.5)), add(L, cst(L, 1), erf));
}

/* silu(x) = x sigmoid(x); derivative sigmoid(x) (1 + x (1 - sigmoid(x))) */
static Node *lower_silu(Lower *L, Expr *e, Node **a)
{
	return mul(L, a[0], op1(L, OP_SIGMOID, a[0]));
}

/* square(x) = x * x, as torch.square (whose derivative 2 x dy the two
 * uses' dy x + dy x give exactly) */
static Node *lower_square(Lower *L, Expr *e, Node **a)
{
	return mul(L, a[0], a[0]);
}

/* mse(p, y) = mean((p - y)^2) */
static Node *lower_mse(Lower *L, Expr *e, Node **a)
{
	Node *d = op2(L, OP_SUB, a[0], a[1]);
	return sample_mean(L, op2(L, OP_MUL, d, d));
}

static Node *lower_reduce(Lower *L, Expr *e, Node **a)
{
	Node *x = a[0];
	if (!e->flag) {
		if (e->fn == B_MEAN)
			return sample_mean(L, x);
		return ir_sum_to(L->g, x, shape_scalar(x->shape.batched));
	}
	int axis = (int)e->opt[1];
	Shape keep = x->shape;
	keep.dim[axis] = 1;
	Node *s = ir_reshape(L->g, ir_sum_to(L->g, x, keep), e->shape);
	if (e->fn == B_MEAN)
		s = op2(L, OP_MUL, s, cst(L, 1.0 / x->shape.dim[axis]));
	return s;
}

/* bce(p, y), bce_logits(z, y): the elementwise op (PyTorch's BCELoss,
 * each log clamped at -100; BCEWithLogitsLoss in its stable form; each
 * with PyTorch's derivative) averaged over the sample's elements. */
static Node *lower_mean_of(Lower *L, Expr *e, Node **a)
{
	return sample_mean(L, op2(L, builtin_ir[e->fn].op, a[0], a[1]));
}

/* mae(p, y) = mean(|p - y|), PyTorch's L1Loss: its derivative at p = y
 * is abs's, 0 */
static Node *lower_mae(Lower *L, Expr *e, Node **a)
{
	return sample_mean(L, op1(L, OP_ABS, sub(L, a[0], a[1])));
}

/* huber(p, y, delta), PyTorch's HuberLoss averaged over the sample's
 * elements: with d = |p - y|, 0.5 d d where d < delta, else
 * delta (d - 0.5 delta), as torch computes it. The ops' rules give
 * torch's derivative, (p - y) where |p - y| <= delta, else
 * delta sign(p - y) (the two agree at |p - y| = delta). */
static Node *lower_huber(Lower *L, Expr *e, Node **a)
{
	double delta = e->opt[2];
	Node *d = op1(L, OP_ABS, sub(L, a[0], a[1]));
	Node *quad = mul(L, mul(L, cst(L, 0.5), d), d);
	Node *lin = mul(L, cst(L, delta), sub(L, d, cst(L, 0.5 * delta)));
	Node *small = op2(L, OP_LT, d, cst(L, delta));
	return sample_mean(L, ir_op3(L->g, OP_WHERE, small, quad, lin));
}

/* cross_entropy(z, y) = -sum(t * log_softmax(z)), t the one-hot class (or
 * the given distribution), smoothed as (1 - eps) t + eps / K. */
static Node *lower_cross_entropy(Lower *L, Expr *e, Node **a)
{
	Node *z = a[0], *y = a[1];
	int k = z->shape.dim[0];
	Node *t = L->m->nclasses && e->arg[1]->kind == E_TARGET
			  ? ir_onehot(L->g, y, k) : y;
	double eps = e->opt[2];
	if (eps > 0)
		t = op2(L, OP_ADD, op2(L, OP_MUL, t, cst(L, 1 - eps)),
			cst(L, eps / k));
	Node *ls = op1(L, OP_LOGSOFTMAX, z);
	Node *s = ir_sum_to(L->g, op2(L, OP_MUL, t, ls),
			    shape_scalar(z->shape.batched || y->shape.batched));
	return op1(L, OP_NEG, s);
}

/* ---- normalization ------------------------------------------------ */

/* tensor t viewed with shape s (a [C] vector as [C, 1, 1]) */
static Node *tensor_as(Lower *L, int t, Shape s)
{
	Node *p = tensor(L, t);
	return shape_eq(p->shape, s) ? p : ir_reshape(L->g, p, s);
}

/* (x - mean) / sqrt(var + eps) * gamma + beta, with mean and var of
 * shape st broadcasting over x; 1 / sqrt is pow(., -0.5). */
static Node *normalize(Lower *L, Node *x, Node *mean, Node *var, double eps,
		       int gamma, Shape gs)
{
	Node *inv = op2(L, OP_POW, add(L, var, cst(L, eps)), cst(L, -0.5));
	Node *xhat = mul(L, op2(L, OP_SUB, x, mean), inv);
	return add(L, mul(L, xhat, tensor_as(L, gamma, gs)),
		   tensor_as(L, gamma + 1, gs));
}

/* The mean and biased variance of x over the batch and every axis
 * where st is 1, and the count of values each is taken over. */
static void moments(Lower *L, Node *x, Shape st, Node **mean, Node **var,
		    Node **cnt)
{
	long per = shape_numel(x->shape) / shape_numel(st);
	*cnt = mul(L, ir_batchsize(L->g), cst(L, (double)per));
	*mean = op2(L, OP_DIV, ir_sum_to(L->g, x, st), *cnt);
	Node *d = op2(L, OP_SUB, x, *mean);
	*var = op2(L, OP_DIV, ir_sum_to(L->g, mul(L, d, d), st), *cnt);
}

/* running = (1 - momentum) * running + momentum * v, a ROOT_BUFFER */
static void update_running(Lower *L, int t, Node *v, double momentum)
{
	Tensor *tt = &L->m->tensors[t];
	Node *old = tensor(L, t);
	Node *now = add(L, mul(L, old, cst(L, 1 - momentum)),
			mul(L, ir_reshape(L->g, v, tt->shape),
			    cst(L, momentum)));
	ir_add_root(L->g, ROOT_BUFFER,
		    arena_printf(&L->g->arena, "buffer:%s", tt->name), t, now);
}

/*
 * batchnorm, as torch.nn.BatchNorm1d/2d: in training the batch mean and
 * biased variance over the batch (and the spatial axes), and the running
 * statistics updated with the unbiased variance, var * N / (N - 1) (N
 * the count per channel; a batch with N = 1 uses factor 1); outside
 * training the running statistics.
 */
static Node *lower_batchnorm(Lower *L, Expr *e, Node **a)
{
	Node *x = a[0], *mean, *var, *cnt;
	Shape st = shape_scalar(false);
	st.rank = x->shape.rank;
	for (int i = 0; i < st.rank; i++)
		st.dim[i] = i == 0 ? x->shape.dim[0] : 1;
	int t = e->tensor;
	if (!L->training)
		return normalize(L, x, tensor_as(L, t + 2, st),
				 tensor_as(L, t + 3, st), e->opt[2], t, st);
	moments(L, x, st, &mean, &var, &cnt);
	Node *less = op2(L, OP_MAX, op2(L, OP_SUB, cnt, cst(L, 1)),
			 cst(L, 1));
	update_running(L, t + 2, mean, e->opt[1]);
	update_running(L, t + 3, mul(L, var, op2(L, OP_DIV, cnt, less)),
		       e->opt[1]);
	return normalize(L, x, mean, var, e->opt[2], t, st);
}

/* layernorm, as torch.nn.LayerNorm(last axis): the mean and biased
 * variance of each sample's last axis, in training and outside it. */
static Node *lower_layernorm(Lower *L, Expr *e, Node **a)
{
	Node *x = a[0];
	Shape st = x->shape, gs = shape_scalar(false);
	long d = st.dim[st.rank - 1];
	st.dim[st.rank - 1] = 1;
	gs.rank = 1;
	gs.dim[0] = (int)d;
	Node *mean = mul(L, ir_sum_to(L->g, x, st), cst(L, 1.0 / d));
	Node *dx = op2(L, OP_SUB, x, mean);
	Node *var = mul(L, ir_sum_to(L->g, mul(L, dx, dx), st),
			cst(L, 1.0 / d));
	return normalize(L, x, mean, var, e->opt[1], e->tensor, gs);
}

/* dropout, as torch.nn.Dropout: in training x * mask, the mask 0 with
 * probability p and 1 / (1 - p) otherwise (counter-based on the step);
 * the identity outside training. */
static Node *lower_dropout(Lower *L, Expr *e, Node **a)
{
	if (!L->training || e->opt[1] == 0)
		return a[0];
	return mul(L, a[0], ir_dropmask(L->g, a[0]->shape, e->opt[1],
					e->stream));
}

/* l1(S) = sum over S of sum(|w|), l2(S) = sum over S of sum(w * w) */
static Node *lower_regularizer(Lower *L, Expr *e, Node **a)
{
	Node *r = NULL;
	for (int i = 0; i < e->nargs; i++) {
		Node *w = e->fn == B_L1 ? op1(L, OP_ABS, a[i]) : mul(L, a[i], a[i]);
		Node *t = ir_sum_to(L->g, w, shape_scalar(false));
		r = r ? add(L, r, t) : t;
	}
	return r ? r : cst(L, 0);
}

/* conv2d(x) = conv2d op (+ b viewed as [F, 1, 1]) */
static Node *lower_conv2d(Lower *L, Expr *e, Node **a)
{
	Node *y = ir_conv2d(L->g, a[0], tensor(L, e->tensor), (int)e->opt[2],
			    (int)e->opt[3], (int)e->opt[4]);
	if (!e->flag)
		return y;
	int f = y->shape.dim[0];
	Shape bs = shape_scalar(false);
	bs.rank = 3;
	bs.dim[0] = f;
	bs.dim[1] = bs.dim[2] = 1;
	return add(L, y, tensor_as(L, e->tensor + 1, bs));
}

static Node *lower_pool(Lower *L, Expr *e, Node **a)
{
	return ir_pool(L->g, builtin_ir[e->fn].op, a[0], (int)e->opt[1],
		       (int)e->opt[2]);
}

static Node *lower_flatten(Lower *L, Expr *e, Node **a)
{
	return ir_reshape(L->g, a[0], e->shape);
}

static Node *lower_call(Lower *L, Expr *e)
{
	Node **a = arena_alloc(&L->g->arena, (e->nargs + 1) * sizeof(Node *));
	for (int i = 0; i < e->nargs; i++)
		a[i] = e->arg[i]->memo;
	if (e->fn <= B_NONE || e->fn >= B_COUNT || !builtin_ir[e->fn].lower)
		ice("no lowering for builtin %d", e->fn);
	return builtin_ir[e->fn].lower(L, e, a);
}

/* One expression whose operands are lowered (their memo is set). */
static Node *lower_one(Lower *L, Expr *e)
{
	Graph *g = L->g;
	switch (e->kind) {
	case E_NUM:
		return cst(L, e->num);
	case E_INPUT:
	case E_TARGET: {
		Node *n = ir_input(g, e->kind == E_INPUT
					  ? L->m->inputs[e->input].name
					  : L->m->target_name,
				   e->kind == E_TARGET, e->shape);
		n->attr.input.index = e->kind == E_INPUT ? e->input : 0;
		return n;
	}
	case E_PARAM:
		return tensor(L, e->tensor);
	case E_NEG:
		return op1(L, OP_NEG, e->arg[0]->memo);
	case E_BINOP:
		return lower_binop(L, e);
	case E_CALL:
		return lower_call(L, e);
	}
	ice("unknown expression kind %d", e->kind);
}

typedef struct Frame {
	Expr *e;
	int next;      /* the next operand to lower */
} Frame;

/* Lowers e after its operands, depth first in operand order, with an
 * explicit stack: a chain of 50,000 statements is a DAG that deep. Each
 * expression is lowered once per graph (the memo). */
static Node *lower_expr(Lower *L, Expr *e)
{
	Graph *g = L->g;
	if (e->memo_graph == g)
		return e->memo;
	Loc saved = g->cur_loc;
	const char *saved_origin = g->cur_origin;
	int n = 0, cap = 64;
	Frame *st = xmalloc(cap * sizeof(*st));
	st[n++] = (Frame){e, 0};
	while (n > 0) {
		Frame *f = &st[n - 1];
		if (f->next < f->e->nargs) {
			Expr *x = f->e->arg[f->next++];
			if (x->memo_graph == g)
				continue;
			if (n == cap)
				st = xrealloc(st, (cap *= 2) * sizeof(*st));
			st[n++] = (Frame){x, 0};
			continue;
		}
		g->cur_loc = f->e->loc;
		g->cur_origin = f->e->text;
		f->e->memo = lower_one(L, f->e);
		f->e->memo_graph = g;
		n--;
	}
	free(st);
	g->cur_loc = saved;
	g->cur_origin = saved_origin;
	return e->memo;
}

static Node *sample_loss(Lower *L, Checked *c)
{
	Node *l = lower_expr(L, c->loss);
	return ir_broadcast(L->g, l, shape_scalar(true));
}

static void add_outputs(Lower *L, Checked *c)
{
	for (int i = 0; i < L->m->noutputs; i++) {
		Node *o = lower_expr(L, c->outputs[i]);
		const char *name = arena_printf(&L->g->arena, "out:%s",
						L->m->outputs[i].name);
		ir_add_root(L->g, ROOT_OUTPUT, name, i, o);
	}
}

void lower(Model *m, Checked *c)
{
	Lower L = {ir_new(), m, true};
	m->train_g = L.g;
	Node *l = sample_loss(&L, c);
	L.g->cur_loc = c->loss->loc;
	L.g->cur_origin = c->loss->text;
	Node *sum = ir_sum_to(L.g, l, shape_scalar(false));
	ir_add_root(L.g, ROOT_LOSS, "loss", 0,
		    ir_op2(L.g, OP_DIV, sum, ir_batchsize(L.g)));

	L.g = m->eval_g = ir_new();
	L.training = false;
	ir_add_root(L.g, ROOT_SAMPLE_LOSS, "sample_loss", 0,
		    sample_loss(&L, c));
	add_outputs(&L, c);

	L.g = m->pred_g = ir_new();
	add_outputs(&L, c);
}
