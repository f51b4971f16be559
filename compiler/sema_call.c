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

static CheckFn check_unary, check_last_axis, check_reduce, check_where,
	check_pair_loss, check_cross_entropy, check_binary, check_clamp,
	check_leaky_relu, check_elu, check_huber;

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

Expr *sema_value_arg(Sema *s, Ast *a, Ast *parent, bool class_ok)
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
Expr *sema_new_call(Sema *s, Ast *e, const Builtin *b, Shape sh, int n,
		     Expr **args)
{
	Expr *x = sema_new_expr(s, E_CALL, e->loc);
	x->fn = b->kind;
	x->shape = sh;
	x->opt = arena_alloc(s->a, nparams(b) * sizeof(double));
	sema_set_args(s, x, n, args);
	return x;
}

/* A numeric option of a call: opt[i] = the argument, or def; false (after
 * an error) when it is not a constant in [lo, hi] ((lo, hi] if open; hi
 * may be HUGE_VAL). */
bool sema_num_opt(Sema *s, Expr *r, Ast **a, int i, const char *name,
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

/* ---- math and losses -------------------------------------------------- */

/* f(x): pointwise, the shape of x */
static Expr *check_unary(Sema *s, Ast *e, const Builtin *b, Ast **a,
			 Ast *parent)
{
	Expr *x = sema_value_arg(s, a[0], e, false);
	if (!x)
		return NULL;
	Expr *r = sema_new_call(s, e, b, x->shape, 1, &x);
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
	Expr *x = sema_value_arg(s, a[0], e, false);
	if (!x)
		return NULL;
	Expr *r = sema_new_call(s, e, b, shape_scalar(x->shape.batched), 1, &x);
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
	Expr *l = sema_value_arg(s, c->lhs, e, false);
	Expr *rr = sema_value_arg(s, c->rhs, e, false);
	Expr *x = sema_value_arg(s, a[1], e, false);
	Expr *y = sema_value_arg(s, a[2], e, false);
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
	return sema_new_call(s, e, b, all, 3, (Expr *[]){cond, x, y});
}

/* f(x, v = def): pointwise with one numeric option, any number, in
 * opt[1] */
static Expr *unary_opt(Sema *s, Ast *e, const Builtin *b, Ast **a,
		       Ast *parent, double def)
{
	Expr *r = check_unary(s, e, b, a, parent);
	if (r && !sema_num_opt(s, r, a, 1, b->params[1], def, -HUGE_VAL, false,
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
	Expr *x = sema_value_arg(s, a[0], e, false);
	Expr *y = sema_value_arg(s, a[1], e, false);
	Shape sh;
	if (!x || !y)
		return NULL;
	if (!shape_broadcast(x->shape, y->shape, &sh)) {
		sema_error(s, e->loc, "%s(): shapes %s and %s do not broadcast",
			   b->name, shape_user_str(x->shape, b1, 64),
			   shape_user_str(y->shape, b2, 64));
		return NULL;
	}
	return sema_new_call(s, e, b, sh, 2, (Expr *[]){x, y});
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
	Expr *p = sema_value_arg(s, a[0], e, false);
	Expr *y = sema_value_arg(s, a[1], e, false);
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
	return sema_new_call(s, e, b, shape_scalar(true), 2, (Expr *[]){p, y});
}

/* huber(yhat, y, delta = 1): a pair loss; opt[2] delta > 0 */
static Expr *check_huber(Sema *s, Ast *e, const Builtin *b, Ast **a,
			 Ast *parent)
{
	Expr *r = check_pair_loss(s, e, b, a, parent);
	if (r && !sema_num_opt(s, r, a, 2, "delta", 1, 0, true, HUGE_VAL))
		return NULL;
	return r;
}

/* cross_entropy(logits, y): y a class label or a distribution over the
 * logits' classes; log-softmax is fused in. opt[2]: label_smoothing. */
static Expr *check_cross_entropy(Sema *s, Ast *e, const Builtin *b, Ast **a,
				 Ast *parent)
{
	char b1[64], b2[64];
	Expr *z = sema_value_arg(s, a[0], e, false);
	Expr *y = sema_value_arg(s, a[1], e, true);
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
	Expr *r = sema_new_call(s, e, b, shape_scalar(true), 2, (Expr *[]){z, y});
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
