/*
 * sema_call.c - the builtin functions: argument matching, shapes, the
 * parameters layers create, and initializer specs.
 *
 * The table is builtins.def: every builtin has its checker here and its
 * lowering in lower.c.
 */
#include "nnc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAXARGS 8

typedef struct Builtin Builtin;
typedef Expr *CheckFn(Sema *s, Ast *e, const Builtin *b, Ast **a,
		      Ast *parent);

struct Builtin {
	const char *name;
	BuiltinKind kind;
	int required;                 /* leading arguments with no default */
	const char *params[MAXARGS];  /* names, for keywords and messages */
	CheckFn *check;
};

static CheckFn check_dense, check_unary, check_last_axis, check_reduce,
	check_where, check_pair_loss, check_cross_entropy, check_batchnorm,
	check_layernorm, check_dropout, check_regularizer, check_conv2d,
	check_pool, check_flatten, check_binary, check_clamp, check_leaky_relu,
	check_elu, check_huber;

#define PARAMS(...) {__VA_ARGS__}
static const Builtin builtins[] = {
#define BUILTIN(id, name, req, params, check, lower, op) \
	{name, B_##id, req, params, check},
#include "builtins.def"
#undef BUILTIN
};
#undef PARAMS

static const Builtin *find_builtin(const char *name)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (strcmp(builtins[i].name, name) == 0)
			return &builtins[i];
	return NULL;
}

static int nparams(const Builtin *b)
{
	int n = 0;
	while (n < MAXARGS && b->params[n])
		n++;
	return n;
}

/* Matches positional then keyword arguments to the builtin's parameters. */
static bool match_args(Sema *s, const Builtin *b, Ast *e, Ast **slot)
{
	int n = nparams(b);
	memset(slot, 0, MAXARGS * sizeof(*slot));
	if (e->nargs > n) {
		sema_error(s, e->args[n]->loc, "%s() takes at most %d argument%s, "
			   "given %d", b->name, n, n == 1 ? "" : "s", e->nargs);
		return false;
	}
	for (int i = 0; i < e->nargs; i++)
		slot[i] = e->args[i];
	for (int k = 0; k < e->nkw; k++) {
		int i = 0;
		while (i < n && strcmp(b->params[i], e->kw[k].name) != 0)
			i++;
		if (i == n) {
			sema_error(s, e->kw[k].loc, "%s() has no argument '%s'",
				   b->name, e->kw[k].name);
			return false;
		}
		if (slot[i]) {
			sema_error(s, e->kw[k].loc, "%s(): argument '%s' given "
				   "twice", b->name, e->kw[k].name);
			return false;
		}
		slot[i] = e->kw[k].value;
	}
	for (int i = 0; i < b->required; i++)
		if (!slot[i]) {
			sema_error(s, e->loc, "%s() is missing argument '%s'",
				   b->name, b->params[i]);
			return false;
		}
	return true;
}

static Expr *value_arg(Sema *s, Ast *a, Ast *parent, bool class_ok)
{
	Expr *x = sema_expr_arg(s, a, parent);
	if (x && !class_ok && sema_is_class(s, x)) {
		sema_error(s, a->loc, "'%s' is a class label; it can only be "
			   "the target of cross_entropy", s->m->target_name);
		return NULL;
	}
	return x;
}

/* A checked call of b with operands args[0..n) and room for an option
 * per parameter. */
static Expr *new_call(Sema *s, Ast *e, const Builtin *b, Shape sh, int n,
		      Expr **args)
{
	Expr *x = sema_new_expr(s, E_CALL, e->loc);
	x->fn = b->kind;
	x->shape = sh;
	x->opt = arena_alloc(s->a, nparams(b) * sizeof(double));
	sema_set_args(s, x, n, args);
	return x;
}

/* ---- initializers ----------------------------------------------------- */

/* runtime/nnrt.h lists the initializers: names and argument counts */
static const struct {
	const char *name;
	int nargs;
} inits[] = {
#define INIT_ROW(id, name, nargs) {name, nargs},
	NNRT_INITS(INIT_ROW)
#undef INIT_ROW
};

/* The initializer called `name` with (nargs > 0) or without arguments,
 * or -1. */
static int find_init(const char *name, bool call)
{
	for (int i = 0; i < NNRT_INIT_COUNT; i++)
		if (strcmp(inits[i].name, name) == 0 &&
		    (inits[i].nargs > 0) == call)
			return i;
	return -1;
}

static bool init_call(Sema *s, Ast *e, Tensor *t)
{
	int i = find_init(e->str, true);
	if (i < 0) {
		sema_error(s, e->loc, "unknown initializer '%s'", e->str);
		return false;
	}
	if (e->nargs != inits[i].nargs || e->nkw) {
		sema_error(s, e->loc, "%s() takes %d positional argument%s",
			   e->str, inits[i].nargs, inits[i].nargs == 1 ? "" : "s");
		return false;
	}
	t->init = (NnrtInit)i;
	if (!sema_const(s, e->args[0], &t->init_a))
		return false;
	return e->nargs < 2 || sema_const(s, e->args[1], &t->init_b);
}

bool sema_init_spec(Sema *s, Ast *e, Tensor *t)
{
	const char *id = sema_ident(e);
	if (e && e->kind == A_CALL)
		return init_call(s, e, t);
	int i = id ? find_init(id, false) : -1;
	if (i >= 0) {
		t->init = (NnrtInit)i;
		return true;
	}
	if (id && strcmp(id, "auto") == 0)
		sema_error(s, e->loc, "init = auto is for layers; a param needs "
			   "an explicit initializer");
	else
		sema_error(s, e ? e->loc : (Loc){0}, "expected an initializer "
			   "(zeros, ones, constant(v), normal(std), uniform(lo, "
			   "hi), xavier_uniform, xavier_normal, he_uniform, "
			   "he_normal)");
	return false;
}

/* ---- layers ----------------------------------------------------------- */

/* init = auto: He when the layer feeds a ReLU-family activation directly,
 * else Xavier (contract, "Pinned details"). */
static bool relu_parent(Ast *parent)
{
	static const char *relus[] = {"relu", "leaky_relu", "elu"};
	if (!parent || parent->kind != A_CALL)
		return false;
	for (size_t i = 0; i < 3; i++)
		if (strcmp(parent->str, relus[i]) == 0)
			return true;
	return false;
}

/* dense(x, units, init, bias): opt[1] units; flag: bias; tensors W, b */
/* A layer's kernel W, in the `weights` collection, initialized by the
 * init argument (init = auto when absent); -1 after an error. */
static int layer_kernel(Sema *s, Ast *e, Ast *init, Ast *parent, Shape sh)
{
	int w = sema_new_tensor(s, "W", sh, e->loc);
	Tensor *tw = &s->m->tensors[w];
	tw->is_weight = true;
	const char *id = sema_ident(init);
	if (!init || (id && strcmp(id, "auto") == 0))
		tw->init = relu_parent(parent) ? NNRT_INIT_HE_NORMAL
					       : NNRT_INIT_XAVIER_UNIFORM;
	else if (!sema_init_spec(s, init, tw))
		return -1;
	return w;
}

static Expr *check_dense(Sema *s, Ast *e, const Builtin *b, Ast **a,
			 Ast *parent)
{
	char buf[64];
	int units;
	bool bias = true;
	Expr *x = value_arg(s, a[0], e, false);
	if (!x || !sema_int(s, a[1], "dense units", 1, &units))
		return NULL;
	if (a[3] && !sema_bool(s, a[3], &bias))
		return NULL;
	if (x->shape.rank == 0) {
		sema_error(s, a[0]->loc, "dense() needs a vector input, found "
			   "shape %s", shape_user_str(x->shape, buf, 64));
		return NULL;
	}
	int n = x->shape.dim[x->shape.rank - 1];
	int wd[2] = {n, units};
	int w = layer_kernel(s, e, a[2], parent, shape_make(false, 2, wd));
	if (w < 0)
		return NULL;
	Expr *r = new_call(s, e, b, x->shape, 1, &x);
	r->shape.dim[r->shape.rank - 1] = units;
	r->opt[1] = units;
	r->flag = bias;
	r->tensor = w;
	r->ntensors = 1;
	if (bias) {
		sema_new_tensor(s, "#b", shape_make(false, 1, &units), e->loc);
		r->ntensors = 2;
	}
	long rows = shape_numel(x->shape) / n;
	sema_add_layer(s, "dense", r->shape, (long)n * units + (bias ? units : 0),
		       2.0 * rows * n * units + (bias ? rows * units : 0));
	return r;
}

/* ---- convolution and pooling ------------------------------------------ */

/* A [C, H, W] per-sample image for f() */
static Expr *image_arg(Sema *s, Ast *e, const Builtin *b, Ast **a)
{
	char buf[64];
	Expr *x = value_arg(s, a[0], e, false);
	if (x && (x->shape.rank != 3 || !x->shape.batched)) {
		sema_error(s, a[0]->loc, "%s() needs a per-sample image [C, H, W], "
			   "found %s%s", b->name, x->shape.batched ? "shape " :
			   "an unbatched ", shape_user_str(x->shape, buf, 64));
		return NULL;
	}
	return x;
}

/* The output [F, OH, OW] of windows of k (stride, pad) over x [C, H, W],
 * or an error at the call saying the sizes. */
static bool window_shape(Sema *s, Ast *e, const Builtin *b, Shape x, int f,
			 int k, int stride, int pad, Shape *out)
{
	char buf[64];
	long oh = ops_window_out(x.dim[1], k, stride, pad);
	long ow = ops_window_out(x.dim[2], k, stride, pad);
	if (oh < 1 || ow < 1) {
		/* what the floor formula gives, as the user would compute it */
		long h = x.dim[1] + 2L * pad - k, w = x.dim[2] + 2L * pad - k;
		char padding[32] = "";
		if (b->kind == B_CONV2D)
			snprintf(padding, sizeof(padding), " with pad %d", pad);
		sema_error(s, e->loc, "%s: %s %d does not fit input %s%s (output "
			   "would be %ld x %ld)", b->name,
			   b->kind == B_CONV2D ? "kernel" : "window", k,
			   shape_user_str(x, buf, 64), padding,
			   (h < 0 ? (h - stride + 1) / stride : h / stride) + 1,
			   (w < 0 ? (w - stride + 1) / stride : w / stride) + 1);
		return false;
	}
	int d[3] = {f, (int)oh, (int)ow};
	*out = shape_make(true, 3, d);
	return true;
}

/* conv2d(x, filters, kernel, stride = 1, pad = 0, bias = true, init =
 * auto): opt[1] filters, opt[2] kernel, opt[3] stride, opt[4] pad; flag
 * bias; tensors W [F, C, k, k] (fans C k k and F k k, as PyTorch) and b */
static Expr *check_conv2d(Sema *s, Ast *e, const Builtin *b, Ast **a,
			  Ast *parent)
{
	int f, k, stride = 1, pad = 0;
	bool bias = true;
	Expr *x = image_arg(s, e, b, a);
	if (!x || !sema_int(s, a[1], "conv2d filters", 1, &f) ||
	    !sema_int(s, a[2], "conv2d kernel", 1, &k) ||
	    (a[3] && !sema_int(s, a[3], "conv2d stride", 1, &stride)) ||
	    (a[4] && !sema_int(s, a[4], "conv2d pad", 0, &pad)) ||
	    (a[5] && !sema_bool(s, a[5], &bias)))
		return NULL;
	Shape y;
	if (!window_shape(s, e, b, x->shape, f, k, stride, pad, &y))
		return NULL;
	int c = x->shape.dim[0], wd[4] = {f, c, k, k};
	int w = layer_kernel(s, e, a[6], parent, shape_make(false, 4, wd));
	if (w < 0)
		return NULL;
	s->m->tensors[w].fan_in = c * k * k;
	s->m->tensors[w].fan_out = f * k * k;
	Expr *r = new_call(s, e, b, y, 1, &x);
	r->opt[1] = f;
	r->opt[2] = k;
	r->opt[3] = stride;
	r->opt[4] = pad;
	r->flag = bias;
	r->tensor = w;
	r->ntensors = 1;
	if (bias) {
		sema_new_tensor(s, "#b", shape_make(false, 1, &f), e->loc);
		r->ntensors = 2;
	}
	long p = shape_numel(y) / f, ckk = (long)c * k * k;
	sema_add_layer(s, "conv2d", y, (long)f * ckk + (bias ? f : 0),
		       2.0 * f * ckk * p + (bias ? (double)f * p : 0));
	return r;
}

/* maxpool(x, size, stride = size), avgpool(...): opt[1] size, opt[2]
 * stride */
static Expr *check_pool(Sema *s, Ast *e, const Builtin *b, Ast **a,
			Ast *parent)
{
	int size, stride;
	Expr *x = image_arg(s, e, b, a);
	if (!x || !sema_int(s, a[1], "pool size", 1, &size))
		return NULL;
	stride = size;
	if (a[2] && !sema_int(s, a[2], "pool stride", 1, &stride))
		return NULL;
	Shape y;
	if (!window_shape(s, e, b, x->shape, x->shape.dim[0], size, stride, 0,
			  &y))
		return NULL;
	Expr *r = new_call(s, e, b, y, 1, &x);
	r->opt[1] = size;
	r->opt[2] = stride;
	sema_add_layer(s, b->name, y, 0, (double)shape_numel(y) * size * size);
	return r;
}

/* flatten(x): [d..] -> [prod d], a view */
static Expr *check_flatten(Sema *s, Ast *e, const Builtin *b, Ast **a,
			   Ast *parent)
{
	Expr *x = value_arg(s, a[0], e, false);
	if (!x)
		return NULL;
	int n = (int)shape_numel(x->shape);
	return new_call(s, e, b, shape_make(x->shape.batched, 1, &n), 1, &x);
}

/* ---- normalization ---------------------------------------------------- */

/* A numeric option of a layer: opt[i] = the argument, or def; false (after
 * an error) when it is not a constant in [lo, hi] ((lo, hi] if open; hi
 * may be HUGE_VAL). */
static bool layer_opt(Sema *s, Expr *r, Ast **a, int i, const char *name,
		      double def, double lo, bool open, double hi)
{
	r->opt[i] = def;
	if (!a[i])
		return true;
	if (!sema_const(s, a[i], &r->opt[i]))
		return false;
	double v = r->opt[i];
	if (v < lo || (open && v == lo) || v > hi) {
		if (hi == HUGE_VAL)
			sema_error(s, a[i]->loc, "%s must be %s %g, found %g",
				   name, open ? ">" : ">=", lo, v);
		else
			sema_error(s, a[i]->loc, "%s must be in %c%g, %g], "
				   "found %g", name, open ? '(' : '[', lo, hi, v);
		return false;
	}
	return true;
}

/* A layer's tensor: trainable with init, or a buffer (running statistic) */
static void layer_tensor(Sema *s, Expr *r, const char *suffix, int n,
			 NnrtInit init, bool trainable)
{
	int t = sema_new_tensor(s, suffix, shape_make(false, 1, &n), r->loc);
	s->m->tensors[t].init = init;
	s->m->tensors[t].trainable = trainable;
	if (r->ntensors++ == 0)
		r->tensor = t;
}

/* batchnorm and layernorm normalize per-sample values of rank >= 1 */
static Expr *norm_input(Sema *s, Ast *e, const Builtin *b, Ast **a)
{
	char buf[64];
	Expr *x = value_arg(s, a[0], e, false);
	if (!x)
		return NULL;
	if (x->shape.rank == 0)
		sema_error(s, a[0]->loc, "%s() needs a vector or an image per "
			   "sample, found shape %s", b->name,
			   shape_user_str(x->shape, buf, 64));
	else if (!x->shape.batched)
		sema_error(s, a[0]->loc, "%s() normalizes per-sample values; "
			   "this one does not depend on the input", b->name);
	else
		return x;
	return NULL;
}

/* batchnorm(x, momentum = 0.1, eps = 1e-5): per feature of a [n] value,
 * per channel (the first axis) of [C, ...]. opt[1] momentum, opt[2] eps;
 * tensors gamma, beta, running_mean, running_var, each [n] or [C]. */
static Expr *check_batchnorm(Sema *s, Ast *e, const Builtin *b, Ast **a,
			     Ast *parent)
{
	Expr *x = norm_input(s, e, b, a);
	if (!x)
		return NULL;
	Expr *r = new_call(s, e, b, x->shape, 1, &x);
	if (!layer_opt(s, r, a, 1, "momentum", 0.1, 0, false, 1) ||
	    !layer_opt(s, r, a, 2, "eps", 1e-5, 0, true, 1))
		return NULL;
	int c = x->shape.dim[0];
	layer_tensor(s, r, "gamma", c, NNRT_INIT_ONES, true);
	layer_tensor(s, r, "#beta", c, NNRT_INIT_ZEROS, true);
	layer_tensor(s, r, "#running_mean", c, NNRT_INIT_ZEROS, false);
	layer_tensor(s, r, "#running_var", c, NNRT_INIT_ONES, false);
	sema_add_layer(s, "batchnorm", r->shape, 2L * c,
		       4.0 * shape_numel(x->shape));
	return r;
}

/* layernorm(x, eps = 1e-5): over the last axis of each sample. opt[1]
 * eps; tensors gamma, beta, each the size of the last axis. */
static Expr *check_layernorm(Sema *s, Ast *e, const Builtin *b, Ast **a,
			     Ast *parent)
{
	Expr *x = norm_input(s, e, b, a);
	if (!x)
		return NULL;
	Expr *r = new_call(s, e, b, x->shape, 1, &x);
	if (!layer_opt(s, r, a, 1, "eps", 1e-5, 0, true, 1))
		return NULL;
	int d = x->shape.dim[x->shape.rank - 1];
	layer_tensor(s, r, "gamma", d, NNRT_INIT_ONES, true);
	layer_tensor(s, r, "#beta", d, NNRT_INIT_ZEROS, true);
	sema_add_layer(s, "layernorm", r->shape, 2L * d,
		       8.0 * shape_numel(x->shape));
	return r;
}

/* dropout(x, p): opt[1] p in [0, 1); each call its own random stream */
static Expr *check_dropout(Sema *s, Ast *e, const Builtin *b, Ast **a,
			   Ast *parent)
{
	Expr *x = value_arg(s, a[0], e, false);
	if (!x)
		return NULL;
	Expr *r = new_call(s, e, b, x->shape, 1, &x);
	if (!sema_const(s, a[1], &r->opt[1]))
		return NULL;
	if (r->opt[1] < 0 || r->opt[1] >= 1) {
		sema_error(s, a[1]->loc, "dropout probability must be in [0, 1), "
			   "found %g", r->opt[1]);
		return NULL;
	}
	if (!x->shape.batched) {
		sema_error(s, a[0]->loc, "dropout() drops per-sample values; "
			   "this one does not depend on the input");
		return NULL;
	}
	r->stream = s->nstreams++;
	sema_add_layer(s, "dropout", r->shape, 0, shape_numel(r->shape));
	return r;
}

/* ---- regularizers ----------------------------------------------------- */

/* Adds tensor t to the regularizer's operands, once. */
static void reg_add(Sema *s, Expr *r, int t, Expr ***args, int *n)
{
	for (int i = 0; i < *n; i++)
		if ((*args)[i]->tensor == t)
			return;
	Expr *p = sema_new_expr(s, E_PARAM, r->loc);
	p->tensor = t;
	p->ntensors = 1;
	p->shape = s->m->tensors[t].shape;
	*args = xrealloc(*args, (*n + 1) * sizeof(**args));
	(*args)[(*n)++] = p;
}

/* One item of a collection: `weights`, `params`, a param's name or a
 * tensor's name as a string ("h.W"). */
static bool reg_item(Sema *s, const Builtin *b, Expr *r, Ast *a,
		     Expr ***args, int *n)
{
	Model *m = s->m;
	const char *id = sema_ident(a);
	bool weights = id && strcmp(id, "weights") == 0;
	bool params = id && strcmp(id, "params") == 0;
	const char *name = a->kind == A_STR ? a->str : id;
	int found = 0;
	for (int t = 0; t < m->ntensors; t++) {
		Tensor *tt = &m->tensors[t];
		bool in = weights ? tt->is_weight : params ? tt->trainable
			: t < s->stmt_first_tensor && strcmp(tt->name, name) == 0;
		if (in && !tt->trainable && !weights && !params) {
			sema_error(s, a->loc, "'%s' is a running statistic, not "
				   "a trainable tensor", name);
			return false;
		}
		if (in && tt->trainable) {
			reg_add(s, r, t, args, n);
			found++;
		}
	}
	if (!found && !weights && !params) {
		sema_error(s, a->loc, "%s(): no tensor '%s' (a collection is "
			   "weights, params, a param or a tensor name such as "
			   "\"h.W\" of an earlier statement)",
			   b->name, name ? name : "?");
		return false;
	}
	return true;
}

/* l1(S), l2(S): S a collection or a list of them; the operands become the
 * collection's tensors (those of earlier statements and of this one so
 * far), each once. An unbatched scalar. */
static Expr *check_regularizer(Sema *s, Ast *e, const Builtin *b, Ast **a,
			       Ast *parent)
{
	Expr *r = new_call(s, e, b, shape_scalar(false), 0, NULL);
	Expr **args = NULL;
	int n = 0;
	bool ok = true;
	if (a[0]->kind == A_LIST)
		for (int i = 0; i < a[0]->nargs; i++)
			ok &= reg_item(s, b, r, a[0]->args[i], &args, &n);
	else if (a[0]->kind == A_NAME || a[0]->kind == A_STR)
		ok = reg_item(s, b, r, a[0], &args, &n);
	else {
		sema_error(s, a[0]->loc, "%s() takes a collection: weights, "
			   "params, a param, a tensor name or a list of them",
			   b->name);
		ok = false;
	}
	if (ok)
		sema_set_args(s, r, n, args);
	free(args);
	return ok ? r : NULL;
}

/* ---- math and losses -------------------------------------------------- */

/* f(x): pointwise, the shape of x */
static Expr *check_unary(Sema *s, Ast *e, const Builtin *b, Ast **a,
			 Ast *parent)
{
	Expr *x = value_arg(s, a[0], e, false);
	if (!x)
		return NULL;
	Expr *r = new_call(s, e, b, x->shape, 1, &x);
	sema_add_layer(s, b->name, r->shape, 0, shape_numel(r->shape));
	return r;
}

/* softmax(x), log_softmax(x): over the last axis of a vector or more */
static Expr *check_last_axis(Sema *s, Ast *e, const Builtin *b, Ast **a,
			     Ast *parent)
{
	char buf[64];
	Expr *r = check_unary(s, e, b, a, parent);
	if (r && r->shape.rank == 0) {
		sema_error(s, a[0]->loc, "%s() works over the last axis and "
			   "needs a vector, found shape %s", b->name,
			   shape_user_str(r->shape, buf, 64));
		return NULL;
	}
	return r;
}

/* sum(x, axis), mean(x, axis): opt[1] the axis; flag: axis given */
static Expr *check_reduce(Sema *s, Ast *e, const Builtin *b, Ast **a,
			  Ast *parent)
{
	Expr *x = value_arg(s, a[0], e, false);
	if (!x)
		return NULL;
	Expr *r = new_call(s, e, b, shape_scalar(x->shape.batched), 1, &x);
	if (a[1]) {
		double ax;
		int rank = x->shape.rank;
		if (!sema_const(s, a[1], &ax))
			return NULL;
		if (ax < 0)
			ax += rank;
		if (ax != (int)ax || ax < 0 || ax >= rank) {
			sema_error(s, a[1]->loc, "axis out of range for a value "
				   "of %d dimension%s", rank,
				   rank == 1 ? "" : "s");
			return NULL;
		}
		r->flag = true;
		r->opt[1] = ax;
		r->shape = x->shape;
		for (int i = (int)ax; i + 1 < rank; i++)
			r->shape.dim[i] = r->shape.dim[i + 1];
		r->shape.rank--;
	}
	return r;
}

static Expr *check_where(Sema *s, Ast *e, const Builtin *b, Ast **a,
			 Ast *parent)
{
	char b1[64], b2[64];
	Ast *c = a[0];
	if (c->kind != A_BINOP || c->op < AOP_LT || c->op > AOP_NE) {
		sema_error(s, c->loc, "where() needs a comparison as its "
			   "condition, e.g. where(x > 0, x, 0)");
		return NULL;
	}
	Expr *l = value_arg(s, c->lhs, e, false);
	Expr *rr = value_arg(s, c->rhs, e, false);
	Expr *x = value_arg(s, a[1], e, false), *y = value_arg(s, a[2], e, false);
	if (!l || !rr || !x || !y)
		return NULL;
	Expr *cond = sema_new_expr(s, E_BINOP, c->loc);
	cond->op = c->op;
	sema_set_args(s, cond, 2, (Expr *[]){l, rr});
	if (!shape_broadcast(l->shape, rr->shape, &cond->shape)) {
		sema_error(s, c->loc, "shape mismatch in '%s': %s and %s",
			   ast_op_name(c->op), shape_user_str(l->shape, b1, 64),
			   shape_user_str(rr->shape, b2, 64));
		return NULL;
	}
	Shape xy, all;
	if (!shape_broadcast(x->shape, y->shape, &xy) ||
	    !shape_broadcast(cond->shape, xy, &all)) {
		sema_error(s, e->loc, "where(): shapes %s and %s do not "
			   "broadcast", shape_user_str(x->shape, b1, 64),
			   shape_user_str(y->shape, b2, 64));
		return NULL;
	}
	return new_call(s, e, b, all, 3, (Expr *[]){cond, x, y});
}

/* f(x, v = def): pointwise with one numeric option, any number, in
 * opt[1] */
static Expr *unary_opt(Sema *s, Ast *e, const Builtin *b, Ast **a,
		       Ast *parent, double def)
{
	Expr *r = check_unary(s, e, b, a, parent);
	if (r && !layer_opt(s, r, a, 1, b->params[1], def, -HUGE_VAL, false,
			    HUGE_VAL))
		return NULL;
	return r;
}

/* leaky_relu(x, slope = 0.01): opt[1] slope */
static Expr *check_leaky_relu(Sema *s, Ast *e, const Builtin *b, Ast **a,
			      Ast *parent)
{
	return unary_opt(s, e, b, a, parent, 0.01);
}

/* elu(x, alpha = 1): opt[1] alpha */
static Expr *check_elu(Sema *s, Ast *e, const Builtin *b, Ast **a,
		       Ast *parent)
{
	return unary_opt(s, e, b, a, parent, 1);
}

/* min(a, b), max(a, b): pointwise, the broadcast of both shapes */
static Expr *check_binary(Sema *s, Ast *e, const Builtin *b, Ast **a,
			  Ast *parent)
{
	char b1[64], b2[64];
	Expr *x = value_arg(s, a[0], e, false), *y = value_arg(s, a[1], e, false);
	Shape sh;
	if (!x || !y)
		return NULL;
	if (!shape_broadcast(x->shape, y->shape, &sh)) {
		sema_error(s, e->loc, "%s(): shapes %s and %s do not broadcast",
			   b->name, shape_user_str(x->shape, b1, 64),
			   shape_user_str(y->shape, b2, 64));
		return NULL;
	}
	return new_call(s, e, b, sh, 2, (Expr *[]){x, y});
}

/* clamp(x, lo, hi): pointwise, lo <= hi constants in opt[1], opt[2] */
static Expr *check_clamp(Sema *s, Ast *e, const Builtin *b, Ast **a,
			 Ast *parent)
{
	Expr *r = check_unary(s, e, b, a, parent);
	if (!r || !sema_const(s, a[1], &r->opt[1]) ||
	    !sema_const(s, a[2], &r->opt[2]))
		return NULL;
	if (r->opt[1] > r->opt[2]) {
		sema_error(s, a[2]->loc, "clamp(): hi = %g is below lo = %g",
			   r->opt[2], r->opt[1]);
		return NULL;
	}
	return r;
}

/* mse(yhat, y), mae, bce(p, y), bce_logits(z, y): elementwise over equal
 * shapes, then a mean */
static Expr *check_pair_loss(Sema *s, Ast *e, const Builtin *b, Ast **a,
			     Ast *parent)
{
	char b1[64], b2[64];
	Expr *p = value_arg(s, a[0], e, false), *y = value_arg(s, a[1], e, false);
	if (!p || !y)
		return NULL;
	Shape ps = p->shape, ys = y->shape;
	ps.batched = ys.batched = false;
	if (!shape_eq(ps, ys)) {
		sema_error(s, e->loc, "%s(): the prediction has shape %s but "
			   "the target has shape %s", b->name,
			   shape_user_str(p->shape, b1, 64),
			   shape_user_str(y->shape, b2, 64));
		return NULL;
	}
	return new_call(s, e, b, shape_scalar(true), 2, (Expr *[]){p, y});
}

/* huber(yhat, y, delta = 1): a pair loss; opt[2] delta > 0 */
static Expr *check_huber(Sema *s, Ast *e, const Builtin *b, Ast **a,
			 Ast *parent)
{
	Expr *r = check_pair_loss(s, e, b, a, parent);
	if (r && !layer_opt(s, r, a, 2, "delta", 1, 0, true, HUGE_VAL))
		return NULL;
	return r;
}

/* cross_entropy(logits, y): y a class label or a distribution over the
 * logits' classes; log-softmax is fused in. opt[2]: label_smoothing. */
static Expr *check_cross_entropy(Sema *s, Ast *e, const Builtin *b, Ast **a,
				 Ast *parent)
{
	char b1[64], b2[64];
	Expr *z = value_arg(s, a[0], e, false), *y = value_arg(s, a[1], e, true);
	double ls = 0;
	if (!z || !y || (a[2] && !sema_const(s, a[2], &ls)))
		return NULL;
	if (ls < 0 || ls >= 1) {
		sema_error(s, a[2]->loc, "label_smoothing must be in [0, 1), "
			   "found %g", ls);
		return NULL;
	}
	if (z->shape.rank != 1) {
		sema_error(s, a[0]->loc, "cross_entropy() needs logits of shape "
			   "[K], found %s", shape_user_str(z->shape, b1, 64));
		return NULL;
	}
	int k = z->shape.dim[0];
	if (sema_is_class(s, y)) {
		if (s->m->nclasses != k) {
			sema_error(s, e->loc, "cross_entropy(): the logits have "
				   "%d classes but '%s' is class(%d)", k,
				   s->m->target_name, s->m->nclasses);
			return NULL;
		}
	} else if (y->shape.rank != 1 || y->shape.dim[0] != k) {
		sema_error(s, a[1]->loc, "cross_entropy(): the target must be a "
			   "class label or a distribution of shape %s, found %s",
			   shape_user_str(z->shape, b1, 64),
			   shape_user_str(y->shape, b2, 64));
		return NULL;
	}
	Expr *r = new_call(s, e, b, shape_scalar(true), 2, (Expr *[]){z, y});
	r->opt[2] = ls;
	return r;
}

Expr *sema_call(Sema *s, Ast *e, Ast *parent)
{
	Ast *a[MAXARGS];
	const Builtin *b = find_builtin(e->str);
	if (!b) {
		sema_error(s, e->loc, "unknown function '%s'", e->str);
		return NULL;
	}
	if (!match_args(s, b, e, a))
		return NULL;
	return b->check(s, e, b, a, parent);
}
