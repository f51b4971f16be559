/*
 * sema_sched.c - the schedule statement: `schedule A then B then C`.
 *
 * Each schedule of the chain is checked against one table: sched.def
 * gives its name, when it ends and how much state it keeps, the key
 * arrays below its arguments (types, ranges, defaults). Then the chain:
 * only a schedule that ends after its steps (warmup) may be followed by
 * `then`; one that lasts to the end of the run (cosine, poly, one_cycle)
 * or never ends (constant, step, multistep, exponential, plateau) must be
 * last. `A then B then C` parses left-associative; any nesting means the
 * same sequence.
 *
 * The result is Model.sched: the pieces in the order they run, each with
 * every key's value (its default when not given), the step it starts at
 * (the steps of the warmups before it) and its slice of the checkpointed
 * state. emit_sched.c turns it into C; docs/language.md has the formulas.
 */
#include "nnc.h"

#include <math.h>
#include <string.h>

#define NODEF NAN   /* a key without a default */
#define BIG 1e9     /* no upper bound */

/* {name, type, lo, hi, lo_open, hi_open, default, alternative, positional} */
static const SchedKey constant_keys[] = {
	{0},
};
static const SchedKey step_keys[] = {
	{"epochs", KEY_INT, 1, BIG, false, false, NODEF, "steps", false},
	{"steps", KEY_INT, 1, BIG, false, false, NODEF, "epochs", false},
	{"gamma", KEY_NUM, 0, 1, true, false, 0.1, NULL, false},
	{0},
};
static const SchedKey multistep_keys[] = {
	{"epochs", KEY_INTS, 1, BIG, false, false, NODEF, "steps", false},
	{"steps", KEY_INTS, 1, BIG, false, false, NODEF, "epochs", false},
	{"gamma", KEY_NUM, 0, 1, true, false, 0.1, NULL, false},
	{0},
};
static const SchedKey exponential_keys[] = {
	{"gamma", KEY_NUM, 0, 1, true, false, NODEF, NULL, true},
	{"epochs", KEY_INT, 1, BIG, false, false, 1, "steps", false},
	{"steps", KEY_INT, 1, BIG, false, false, NODEF, "epochs", false},
	{0},
};
static const SchedKey cosine_keys[] = {
	{"min_lr", KEY_NUM, 0, BIG, false, false, 0, NULL, false},
	{0},
};
static const SchedKey warmup_keys[] = {
	{"steps", KEY_INT, 1, BIG, false, false, NODEF, NULL, false},
	{0},
};
static const SchedKey one_cycle_keys[] = {
	{"max_lr", KEY_NUM, 0, BIG, true, false, NODEF, NULL, true},
	{"pct_start", KEY_NUM, 0, 1, false, true, 0.3, NULL, false},
	{0},
};
static const SchedKey poly_keys[] = {
	{"power", KEY_NUM, 0, BIG, false, false, 1, NULL, false},
	{0},
};
static const SchedKey plateau_keys[] = {
	{"factor", KEY_NUM, 0, 1, true, true, 0.1, NULL, false},
	{"patience", KEY_INT, 0, BIG, false, false, 10, NULL, false},
	{0},
};

#define SCHED(id, name, ends, state, keys) [SCHED_##id] = {name, ends, state, keys},
const SchedInfo sched_info[SCHED_COUNT] = {
#include "sched.def"
};
#undef SCHED

/* ---- the table -------------------------------------------------------- */

static int key_index(const SchedInfo *si, const char *name)
{
	for (int i = 0; si->keys[i].name; i++)
		if (strcmp(si->keys[i].name, name) == 0)
			return i;
	return -1;
}

static int must_index(const SchedPiece *p, const char *key)
{
	int i = key_index(&sched_info[p->kind], key);
	if (i < 0)
		ice("schedule '%s' has no key '%s'", sched_info[p->kind].name,
		    key);
	return i;
}

double sema_sched_val(const SchedPiece *p, const char *key)
{
	return p->val[must_index(p, key)];
}

bool sema_sched_given(const SchedPiece *p, const char *key)
{
	return p->given[must_index(p, key)];
}

/* "epochs, steps, gamma": for messages */
static const char *key_names(Sema *s, const SchedInfo *si)
{
	const char *out = "";
	for (int i = 0; si->keys[i].name; i++)
		out = arena_printf(s->a, "%s%s%s", out, i ? ", " : "",
				   si->keys[i].name);
	return out;
}

/* Whether key i of the piece is in effect: given, or defaulted while
 * its alternative was not given. */
static bool in_effect(const SchedPiece *p, int i)
{
	const SchedKey *k = &sched_info[p->kind].keys[i];
	int a = k->alt ? key_index(&sched_info[p->kind], k->alt) : -1;
	if (p->given[i])
		return true;
	return !isnan(k->def) && (a < 0 || !p->given[a]);
}

const char *sema_sched_str(Arena *a, const SchedPiece *p)
{
	const SchedInfo *si = &sched_info[p->kind];
	const char *args = "";
	int n = 0;
	for (int i = 0; si->keys[i].name; i++) {
		const char *v;
		if (!in_effect(p, i))
			continue;
		if (si->keys[i].type == KEY_INTS) {
			v = "";
			for (int j = 0; j < p->nlist; j++)
				v = arena_printf(a, "%s%s%ld", v, j ? ", " : "",
						 p->list[j]);
			v = arena_printf(a, "[%s]", v);
		} else {
			v = arena_printf(a, "%g", p->val[i]);
		}
		args = arena_printf(a, "%s%s%s = %s", args, n++ ? ", " : "",
				    si->keys[i].name, v);
	}
	if (!si->keys[0].name)
		return si->name;
	return arena_printf(a, "%s(%s)", si->name, args);
}

/* ---- values ----------------------------------------------------------- */

/* "an integer >= 1", "in (0, 1]", ">= 0" */
static const char *range_str(Sema *s, const SchedKey *k)
{
	if (k->type != KEY_NUM)
		return k->hi >= BIG ? arena_printf(s->a, "an integer >= %g", k->lo)
			: arena_printf(s->a, "an integer in [%g, %g]", k->lo,
				       k->hi);
	if (k->hi >= BIG)
		return arena_printf(s->a, "%s %g", k->lo_open ? ">" : ">=", k->lo);
	return arena_printf(s->a, "in %c%g, %g%c", k->lo_open ? '(' : '[',
			    k->lo, k->hi, k->hi_open ? ')' : ']');
}

static bool in_range(const SchedKey *k, double v)
{
	if (k->type != KEY_NUM && v != floor(v))
		return false;
	return (k->lo_open ? v > k->lo : v >= k->lo) &&
	       (k->hi_open ? v < k->hi : v <= k->hi);
}

static bool check_number(Sema *s, const SchedKey *k, Ast *e, double *v)
{
	if (!sema_const(s, e, v))
		return false;
	if (in_range(k, *v))
		return true;
	sema_error(s, e->loc, "%s must be %s, found %g", k->name,
		   range_str(s, k), *v);
	return false;
}

/* A KEY_INTS value: [a, b, ...], increasing, each in range. */
static bool check_list(Sema *s, const SchedKey *k, Ast *e, SchedPiece *p)
{
	if (e->kind != A_LIST || e->nargs == 0) {
		sema_error(s, e->loc, "%s must be a list of increasing "
			   "integers, e.g. [30, 60]", k->name);
		return false;
	}
	long *list = arena_alloc(s->a, (size_t)e->nargs * sizeof(*list));
	for (int i = 0; i < e->nargs; i++) {
		double v;
		if (!check_number(s, k, e->args[i], &v))
			return false;
		list[i] = (long)v;
		if (i > 0 && list[i] <= list[i - 1]) {
			sema_error(s, e->args[i]->loc, "%s must increase: %ld "
				   "after %ld", k->name, list[i], list[i - 1]);
			return false;
		}
	}
	p->list = list;
	p->nlist = e->nargs;
	return true;
}

/* ---- one schedule ----------------------------------------------------- */

static bool set_key(Sema *s, SchedPiece *p, int i, Ast *v, Loc loc)
{
	const SchedInfo *si = &sched_info[p->kind];
	const SchedKey *k = &si->keys[i];
	int a = k->alt ? key_index(si, k->alt) : -1;
	if (p->given[i]) {
		sema_error(s, loc, "%s(): argument '%s' given twice", si->name,
			   k->name);
		return false;
	}
	if (a >= 0 && p->given[a]) {
		sema_error(s, loc, "%s() takes %s or %s, not both", si->name,
			   si->keys[a].name, k->name);
		return false;
	}
	p->given[i] = true;
	if (k->type == KEY_INTS)
		return check_list(s, k, v, p);
	return check_number(s, k, v, &p->val[i]);
}

static int positional_key(const SchedInfo *si)
{
	for (int i = 0; si->keys[i].name; i++)
		if (si->keys[i].positional)
			return i;
	return -1;
}

static bool check_args(Sema *s, Ast *e, SchedPiece *p)
{
	const SchedInfo *si = &sched_info[p->kind];
	int pos = positional_key(si);
	bool ok = true;
	if (e->nargs > (pos >= 0)) {
		Ast *extra = e->args[pos >= 0];
		if (!si->keys[0].name)
			sema_error(s, extra->loc, "%s takes no arguments",
				   si->name);
		else
			sema_error(s, extra->loc, "%s() takes its arguments by "
				   "name: %s", si->name, key_names(s, si));
		return false;
	}
	if (e->nargs == 1)
		ok = set_key(s, p, pos, e->args[0], e->args[0]->loc);
	for (int i = 0; i < e->nkw; i++) {
		Kwarg *k = &e->kw[i];
		int j = key_index(si, k->name);
		if (j >= 0) {
			ok = set_key(s, p, j, k->value, k->loc) && ok;
		} else if (!si->keys[0].name) {
			sema_error(s, k->loc, "%s takes no arguments", si->name);
			ok = false;
		} else {
			sema_error(s, k->loc, "%s() has no argument '%s' (it "
				   "takes %s)", si->name, k->name,
				   key_names(s, si));
			ok = false;
		}
	}
	return ok;
}

/* Every key without a default is given, or its alternative is (or has
 * a default); a pair with neither is reported once. */
static bool check_missing(Sema *s, Ast *e, SchedPiece *p)
{
	const SchedInfo *si = &sched_info[p->kind];
	bool ok = true;
	for (int i = 0; si->keys[i].name; i++) {
		const SchedKey *k = &si->keys[i];
		int a = k->alt ? key_index(si, k->alt) : -1;
		if (p->given[i] || !isnan(k->def))
			continue;
		if (a >= 0 && (p->given[a] || !isnan(si->keys[a].def) || a < i))
			continue;
		if (a >= 0)
			sema_error(s, e->loc, "%s() is missing argument '%s' or "
				   "'%s'", si->name, k->name, si->keys[a].name);
		else
			sema_error(s, e->loc, "%s() is missing argument '%s'",
				   si->name, k->name);
		ok = false;
	}
	return ok;
}

/* "constant, step, ...": the schedules that end as `ends` says, or
 * all of them (ends < 0) */
static const char *schedule_names(Sema *s, int ends)
{
	const char *out = "";
	for (int k = 0; k < SCHED_COUNT; k++)
		if (ends < 0 || sched_info[k].ends == (SchedEnd)ends)
			out = arena_printf(s->a, "%s%s%s", out, *out ? ", " : "",
					   sched_info[k].name);
	return out;
}

/* One schedule: a name (`cosine`) or a call (`step(epochs = 2)`). */
static bool check_piece(Sema *s, Ast *e, SchedPiece *p)
{
	const char *name = e->kind == A_CALL ? e->str : sema_ident(e);
	int k = 0;
	if (!name) {
		sema_error(s, e->loc, "expected a schedule, e.g. cosine() or "
			   "warmup(steps = 100) then cosine()");
		return false;
	}
	while (k < SCHED_COUNT && strcmp(sched_info[k].name, name) != 0)
		k++;
	if (k == SCHED_COUNT) {
		sema_error(s, e->loc, "unknown schedule '%s' (the schedules: "
			   "%s)", name, schedule_names(s, -1));
		return false;
	}
	memset(p, 0, sizeof(*p));
	p->kind = (SchedKind)k;
	p->loc = e->loc;
	for (int i = 0; sched_info[k].keys[i].name; i++) {
		if (i == SCHED_MAXKEYS)
			ice("schedule '%s' has more than %d keys", name,
			    SCHED_MAXKEYS);
		p->val[i] = sched_info[k].keys[i].def;
	}
	if (e->kind == A_CALL && !check_args(s, e, p))
		return false;
	return check_missing(s, e, p);
}

/* ---- the chain -------------------------------------------------------- */

static bool is_then(const Ast *e)
{
	return e->kind == A_BINOP && e->op == AOP_THEN;
}

/* `A then B then C` nests to the left, as deep as the chain is long:
 * walked with a loop. Only a parenthesized right side recurses, as deep
 * as the parser allows. */
static int chain_length(const Ast *e)
{
	int n = 1;
	for (; is_then(e); e = e->lhs)
		n += chain_length(e->rhs);
	return n;
}

/* The n schedules of the chain e in order, into items[0 .. n). */
static void flatten(Ast *e, Ast **items, int n)
{
	for (; is_then(e); e = e->lhs) {
		int k = chain_length(e->rhs);
		flatten(e->rhs, items + n - k, k);
		n -= k;
	}
	items[0] = e;
}

static const char *end_phrase(SchedEnd e)
{
	switch (e) {
	case SEND_STEPS:
		return "ends after its steps";
	case SEND_RUN:
		return "lasts until the end of the run";
	case SEND_NEVER:
		return "never ends";
	}
	ice("no such way for a schedule to end: %d", (int)e);
}

/* What the piece before a `then` must be: one that ends after its
 * steps. */
static bool check_followed(Sema *s, const SchedPiece *p)
{
	const SchedInfo *si = &sched_info[p->kind];
	if (si->ends == SEND_STEPS)
		return true;
	sema_error(s, p->loc, "%s %s, so 'then' cannot follow it; only a "
		   "schedule that %s can (%s)", si->name, end_phrase(si->ends),
		   end_phrase(SEND_STEPS), schedule_names(s, SEND_STEPS));
	return false;
}

void sema_schedule(Sema *s, Stmt *st)
{
	int n = chain_length(st->value);
	Ast **items = arena_alloc(s->a, (size_t)n * sizeof(*items));
	SchedPiece *pieces = arena_alloc(s->a, (size_t)n * sizeof(*pieces));
	long start = 0;
	int state = 0;
	bool ok = true;
	flatten(st->value, items, n);
	for (int i = 0; i < n; i++) {
		SchedPiece *p = &pieces[i];
		if (!check_piece(s, items[i], p)) {
			ok = false;
			continue;
		}
		p->start = start;
		p->state = state;
		state += sched_info[p->kind].nstate;
		if (i < n - 1 && !check_followed(s, p))
			ok = false;
		else if (i < n - 1)
			start += (long)sema_sched_val(p, "steps");
	}
	if (!ok)
		return;
	s->m->sched = (Schedule){pieces, n, state};
}
