/*
 * sema_layer.c - the builtins that create tensors or act on whole
 * layers: dense, conv2d and the pools, flatten, batchnorm, layernorm,
 * dropout, and the l1/l2 regularizers over collections of tensors. Each
 * checker is named in builtins.def; sema_call.c matches the arguments
 * and calls it.
 */
#include "nnc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- dense ------------------------------------------------------------ */

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

Expr *sema_dense(Sema *s, Ast *e, const Builtin *b, Ast **a,
		 Ast *parent)
{
	char buf[64];
	int units;
	bool bias = true;
	Expr *x = sema_value_arg(s, a[0], e, false);
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
	Expr *r = sema_new_call(s, e, b, x->shape, 1, &x);
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
	Expr *x = sema_value_arg(s, a[0], e, false);
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
Expr *sema_conv2d(Sema *s, Ast *e, const Builtin *b, Ast **a,
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
	Expr *r = sema_new_call(s, e, b, y, 1, &x);
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
Expr *sema_pool(Sema *s, Ast *e, const Builtin *b, Ast **a,
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
	Expr *r = sema_new_call(s, e, b, y, 1, &x);
	r->opt[1] = size;
	r->opt[2] = stride;
	sema_add_layer(s, b->name, y, 0, (double)shape_numel(y) * size * size);
	return r;
}

/* flatten(x): [d..] -> [prod d], a view */
Expr *sema_flatten(Sema *s, Ast *e, const Builtin *b, Ast **a,
		   Ast *parent)
{
	Expr *x = sema_value_arg(s, a[0], e, false);
	if (!x)
		return NULL;
	int n = (int)shape_numel(x->shape);
	return sema_new_call(s, e, b, shape_make(x->shape.batched, 1, &n), 1, &x);
}

/* ---- normalization ---------------------------------------------------- */

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

/* A normalization's affine tensors: gamma (ones) and beta (zeros), [n] */
static void affine_tensors(Sema *s, Expr *r, int n)
{
	layer_tensor(s, r, "gamma", n, NNRT_INIT_ONES, true);
	layer_tensor(s, r, "#beta", n, NNRT_INIT_ZEROS, true);
}

/* batchnorm and layernorm normalize per-sample values of rank >= 1 */
static Expr *norm_input(Sema *s, Ast *e, const Builtin *b, Ast **a)
{
	char buf[64];
	Expr *x = sema_value_arg(s, a[0], e, false);
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
Expr *sema_batchnorm(Sema *s, Ast *e, const Builtin *b, Ast **a,
		     Ast *parent)
{
	Expr *x = norm_input(s, e, b, a);
	if (!x)
		return NULL;
	Expr *r = sema_new_call(s, e, b, x->shape, 1, &x);
	if (!sema_num_opt(s, r, a, 1, "momentum", 0.1, 0, false, 1) ||
	    !sema_num_opt(s, r, a, 2, "eps", 1e-5, 0, true, 1))
		return NULL;
	int c = x->shape.dim[0];
	affine_tensors(s, r, c);
	layer_tensor(s, r, "#running_mean", c, NNRT_INIT_ZEROS, false);
	layer_tensor(s, r, "#running_var", c, NNRT_INIT_ONES, false);
	sema_add_layer(s, "batchnorm", r->shape, 2L * c,
		       4.0 * shape_numel(x->shape));
	return r;
}

/* layernorm(x, eps = 1e-5): over the last axis of each sample. opt[1]
 * eps; tensors gamma, beta, each the size of the last axis. */
Expr *sema_layernorm(Sema *s, Ast *e, const Builtin *b, Ast **a,
		     Ast *parent)
{
	Expr *x = norm_input(s, e, b, a);
	if (!x)
		return NULL;
	Expr *r = sema_new_call(s, e, b, x->shape, 1, &x);
	if (!sema_num_opt(s, r, a, 1, "eps", 1e-5, 0, true, 1))
		return NULL;
	int d = x->shape.dim[x->shape.rank - 1];
	affine_tensors(s, r, d);
	sema_add_layer(s, "layernorm", r->shape, 2L * d,
		       8.0 * shape_numel(x->shape));
	return r;
}

/* dropout(x, p): opt[1] p in [0, 1); each call its own random stream */
Expr *sema_dropout(Sema *s, Ast *e, const Builtin *b, Ast **a,
		   Ast *parent)
{
	Expr *x = sema_value_arg(s, a[0], e, false);
	if (!x)
		return NULL;
	Expr *r = sema_new_call(s, e, b, x->shape, 1, &x);
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
Expr *sema_regularizer(Sema *s, Ast *e, const Builtin *b, Ast **a,
		       Ast *parent)
{
	Expr *r = sema_new_call(s, e, b, shape_scalar(false), 0, NULL);
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
