/*
 * sema_optim.c - the optimizer statement: `optimizer NAME(lr, key = v, ...)`
 * checked against optim.def's row for NAME (its keys, their ranges and
 * defaults), filling Model.optim.
 *
 * Also the table's view for the rest of the compiler, optim_info[]: each
 * optimizer's name and keys, in optim.def's order.
 */
#include "nnc.h"

#include <math.h>
#include <string.h>

/* ---- the table ---------------------------------------------------- */

#define IN(lo, hi) lo, hi, false
#define BELOW(lo, hi) lo, hi, true
#define AT_LEAST(lo) lo, INFINITY, false
#define REQUIRED NAN
#define KEY(field, range, dflt) \
	{#field, offsetof(Optim, field), false, range, dflt},
#define FLAG(field, dflt) \
	{#field, offsetof(Optim, field), true, 0, 1, false, dflt},
#define OPTIM(id, name, slots, scalars, emit, ...) \
	static const OptimKey keys_##id[] = {__VA_ARGS__};
#include "optim.def"
#undef OPTIM

const OptimInfo optim_info[OPT_COUNT] = {
#define OPTIM(id, name, slots, scalars, emit, ...) \
	[OPT_##id] = {name, keys_##id, \
		      sizeof(keys_##id) / sizeof(keys_##id[0])},
#include "optim.def"
#undef OPTIM
};

#undef KEY
#undef FLAG
#undef REQUIRED
#undef AT_LEAST
#undef BELOW
#undef IN

/* ---- checking ----------------------------------------------------- */

static const OptimKey *find_key(const OptimInfo *info, const char *name)
{
	for (int i = 0; i < info->nkeys; i++)
		if (strcmp(info->keys[i].name, name) == 0)
			return &info->keys[i];
	return NULL;
}

static void set_defaults(Optim *o, const OptimInfo *info)
{
	for (int i = 0; i < info->nkeys; i++) {
		const OptimKey *k = &info->keys[i];
		char *field = (char *)o + k->offset;
		if (k->flag)
			*(bool *)field = k->dflt != 0;
		else
			*(double *)field = k->dflt;
	}
}

static void set_key(Sema *s, const OptimInfo *info, Optim *o,
		    const OptimKey *k, Ast *value)
{
	char *field = (char *)o + k->offset;
	double v;
	if (k->flag) {
		sema_bool(s, value, (bool *)field);
		return;
	}
	if (!sema_const(s, value, &v))
		return;
	*(double *)field = v;
	if (!isfinite(v))
		sema_error(s, value->loc, "%s(): %s must be a finite number",
			   info->name, k->name);
	else if (v >= k->lo && (k->hi_open ? v < k->hi : v <= k->hi))
		return;
	else if (isinf(k->hi))
		sema_error(s, value->loc, "%s(): %s must be >= %g, found %g",
			   info->name, k->name, k->lo, v);
	else
		sema_error(s, value->loc, "%s(): %s must be in [%g, %g%s, "
			   "found %g", info->name, k->name, k->lo, k->hi,
			   k->hi_open ? ")" : "]", v);
}

/* "a, b, c": for the errors */
static const char *join(Sema *s, const char **names, int n)
{
	const char *list = "";
	for (int i = 0; i < n; i++)
		list = arena_printf(s->a, "%s%s%s", list, i ? ", " : "",
				    names[i]);
	return list;
}

static const OptimInfo *lookup(Sema *s, Ast *c, OptKind *kind)
{
	for (int i = 0; i < OPT_COUNT; i++)
		if (strcmp(optim_info[i].name, c->str) == 0) {
			*kind = (OptKind)i;
			return &optim_info[i];
		}
	const char *names[OPT_COUNT];
	for (int i = 0; i < OPT_COUNT; i++)
		names[i] = optim_info[i].name;
	sema_error(s, c->loc, "unknown optimizer '%s'; the optimizers are %s",
		   c->str, join(s, names, OPT_COUNT));
	return NULL;
}

static void unknown_key(Sema *s, const OptimInfo *info, Kwarg *kw)
{
	const char **names = arena_alloc(s->a, info->nkeys * sizeof(*names));
	for (int i = 0; i < info->nkeys; i++)
		names[i] = info->keys[i].name;
	sema_error(s, kw->loc, "%s() has no argument '%s'; its arguments are "
		   "%s", info->name, kw->name, join(s, names, info->nkeys));
}

/* Matches the positional lr and the keyword arguments to the row's keys,
 * each at most once; a key without a default must be given. */
static void check_args(Sema *s, const OptimInfo *info, Ast *c, Optim *o)
{
	bool *given = arena_alloc(s->a, info->nkeys * sizeof(*given));
	if (c->nargs > 1) {
		sema_error(s, c->args[1]->loc, "%s() takes the learning rate "
			   "as its only positional argument", c->str);
		return;
	}
	if (c->nargs == 1) {
		const OptimKey *lr = find_key(info, "lr");
		if (!lr)
			ice("optim.def: %s has no lr", info->name);
		given[lr - info->keys] = true;
		set_key(s, info, o, lr, c->args[0]);
	}
	for (int i = 0; i < c->nkw; i++) {
		Kwarg *kw = &c->kw[i];
		const OptimKey *k = find_key(info, kw->name);
		if (!k)
			unknown_key(s, info, kw);
		else if (given[k - info->keys])
			sema_error(s, kw->loc, "%s(): argument '%s' given "
				   "twice", c->str, kw->name);
		else {
			given[k - info->keys] = true;
			set_key(s, info, o, k, kw->value);
		}
	}
	for (int i = 0; i < info->nkeys; i++)
		if (!given[i] && isnan(info->keys[i].dflt))
			sema_error(s, c->loc, "%s() needs '%s', which has no "
				   "default: %s(%s = ...)", c->str,
				   info->keys[i].name, c->str,
				   info->keys[i].name);
}

void sema_optimizer(Sema *s, Stmt *st)
{
	Ast *c = st->value;
	Optim *o = &s->m->optim;
	if (!c || c->kind != A_CALL) {
		sema_error(s, c ? c->loc : st->loc, "expected an optimizer, "
			   "e.g. sgd(lr = 0.1) or adam()");
		return;
	}
	*o = (Optim){.loc = c->loc};
	const OptimInfo *info = lookup(s, c, &o->kind);
	if (!info)
		return;
	set_defaults(o, info);
	check_args(s, info, c, o);
	/* the one rule between keys (PyTorch's SGD's); only sgd has nesterov */
	if (o->nesterov && (o->momentum <= 0 || o->dampening != 0))
		sema_error(s, c->loc, "nesterov needs momentum > 0 and zero "
			   "dampening");
}
