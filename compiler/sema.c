/*
 * sema.c - semantic analysis: names, def inlining, shapes.
 *
 * Walks the statements in order, resolving every name to what it means
 * (the input, the target, a param, a named value, a def parameter),
 * inlining each def at its call, creating the parameters of layers, and
 * computing the shape of every expression. The result is a DAG of Expr
 * (see nnc.h) that lower.c turns into IR, and a Model with the tensors,
 * outputs, optimizer and train settings.
 *
 * Errors are counted, not fatal: a statement that fails records nothing
 * and checking goes on with the next, so one run reports several errors.
 */
#include "nnc.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { SYM_INPUT, SYM_TARGET, SYM_PARAM, SYM_VALUE, SYM_DEF };

/* Inlining recurses, so a chain of defs each calling the previous one
 * is limited (docs/language.md). */
enum { MAX_INLINE_DEPTH = 100 };

struct Sym {
	const char *name;
	int kind;
	Loc loc;
	Expr *value;   /* input, target, param, value, def argument */
	Stmt *def;     /* SYM_DEF */
	Sym *next;     /* def parameters: the next one */
};

struct Expansion {
	Stmt *def;
	Loc call;
	Expansion *next;
};

/* ---- diagnostics ------------------------------------------------------ */

void sema_error(Sema *s, Loc loc, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_error(s->d, loc, "%s", msg);
	for (Expansion *x = s->expanding; x; x = x->next)
		diag_note(s->d, x->call, "in '%s', inlined here", x->def->name);
}

/* ---- names ------------------------------------------------------------ */

static Sym *lookup(Sym *list, const char *name)
{
	for (Sym *y = list; y; y = y->next)
		if (strcmp(y->name, name) == 0)
			return y;
	return NULL;
}

/* FNV-1a */
static unsigned hash(const char *name)
{
	unsigned h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

/* The global names are a hash table of open addressing (a program of
 * 100,000 statements has as many names); the table never holds more
 * than half its slots. */
static Sym **global_slot(Sema *s, const char *name)
{
	unsigned mask = (unsigned)s->symcap - 1;
	unsigned i = hash(name) & mask;
	while (s->syms[i] && strcmp(s->syms[i]->name, name) != 0)
		i = (i + 1) & mask;
	return &s->syms[i];
}

static Sym *lookup_global(Sema *s, const char *name)
{
	return s->symcap ? *global_slot(s, name) : NULL;
}

static void add_global(Sema *s, Sym *y)
{
	if (2 * (s->nsyms + 1) > s->symcap) {
		Sym **old = s->syms;
		int oldcap = s->symcap;
		s->symcap = oldcap ? 2 * oldcap : 64;
		s->syms = xcalloc(s->symcap, sizeof(*s->syms));
		for (int i = 0; i < oldcap; i++)
			if (old[i])
				*global_slot(s, old[i]->name) = old[i];
		free(old);
	}
	*global_slot(s, y->name) = y;
	s->nsyms++;
}

static bool declare(Sema *s, const char *name, Loc loc, int kind,
		    Expr *value, Stmt *def)
{
	Sym *old = lookup_global(s, name);
	if (old) {
		diag_error(s->d, loc, "'%s' is already defined", name);
		diag_note(s->d, old->loc, "previous definition of '%s' is here",
			  name);
		return false;
	}
	Sym *y = arena_alloc(s->a, sizeof(*y));
	*y = (Sym){name, kind, loc, value, def, NULL};
	add_global(s, y);
	return true;
}

const char *sema_ident(const Ast *e)
{
	return e && e->kind == A_NAME ? e->str : NULL;
}

Expr *sema_new_expr(Sema *s, ExprKind k, Loc loc)
{
	Expr *e = arena_alloc(s->a, sizeof(*e));
	e->kind = k;
	e->loc = loc;
	e->text = s->stmt_text;
	e->tensor = -1;
	e->depends = k == E_INPUT ? EXPR_INPUT : k == E_TARGET ? EXPR_TARGET : 0;
	return e;
}

void sema_set_args(Sema *s, Expr *e, int n, Expr **args)
{
	e->arg = arena_alloc(s->a, n * sizeof(*e->arg));
	for (int i = 0; i < n; i++) {
		e->arg[i] = args[i];
		e->depends |= args[i]->depends;
	}
	e->nargs = n;
}

bool sema_is_class(Sema *s, const Expr *e)
{
	return e->kind == E_TARGET && s->m->nclasses > 0;
}

/* ---- constants -------------------------------------------------------- */

/* The chain `a + b * c - d ...` nests to the left as deep as it is long
 * (30,000 terms is 30,000 levels): its arithmetic operators, innermost
 * first (those up to `last` in AstOp), so that it is walked with a loop. Only right operands recurse,
 * and the parser bounds their nesting (YYMAXDEPTH in parser.y). */
static Ast **left_chain(Ast *e, AstOp last, int *n)
{
	int k = 0;
	for (Ast *p = e; p->kind == A_BINOP && p->op <= last; p = p->lhs)
		k++;
	Ast **chain = xmalloc((k ? k : 1) * sizeof(*chain));
	*n = k;
	for (Ast *p = e; k > 0; p = p->lhs)
		chain[--k] = p;
	return chain;
}

static bool fold(Sema *s, Ast *e, double a, double b, double *v)
{
	switch (e->op) {
	case AOP_ADD: *v = a + b; break;
	case AOP_SUB: *v = a - b; break;
	case AOP_MUL: *v = a * b; break;
	case AOP_DIV:
		if (b == 0) {
			sema_error(s, e->loc, "division by zero");
			return false;
		}
		*v = a / b;
		break;
	default: *v = pow(a, b); break;
	}
	return true;
}

static bool const_leaf(Sema *s, Ast *e, double *v)
{
	switch (e->kind) {
	case A_NUM:
		*v = e->num;
		return true;
	case A_UNOP:
		if (!sema_const(s, e->lhs, v))
			return false;
		*v = -*v;
		return true;
	case A_BINOP:
		sema_error(s, e->loc, "expected a number, found '%s'",
			   ast_op_name(e->op));
		return false;
	default:
		sema_error(s, e->loc, "expected a number");
		return false;
	}
}

bool sema_const(Sema *s, Ast *e, double *v)
{
	int n;
	Ast **chain = left_chain(e, AOP_POW, &n);
	bool ok = const_leaf(s, n ? chain[0]->lhs : e, v);
	for (int i = 0; ok && i < n; i++) {
		double b;
		ok = sema_const(s, chain[i]->rhs, &b) &&
		     fold(s, chain[i], *v, b, v);
		if (ok && !isfinite(*v)) {
			sema_error(s, chain[i]->loc, "the result of '%s' is out of "
				   "range (%g)", ast_op_name(chain[i]->op), *v);
			ok = false;
		}
	}
	free(chain);
	return ok;
}

/* An integer constant in [lo, hi], range-checked as a double: converting
 * a double beyond the integer type's range is undefined. */
bool sema_long(Sema *s, Ast *e, const char *what, long lo, long hi, long *v)
{
	double d;
	if (!sema_const(s, e, &d))
		return false;
	if (!(d >= lo) || d != floor(d)) {
		sema_error(s, e->loc, "%s must be an integer >= %ld, found %g",
			   what, lo, d);
		return false;
	}
	if (d > hi) {
		sema_error(s, e->loc, "%s must be at most %ld, found %.17g", what,
			   hi, d);
		return false;
	}
	*v = (long)d;
	return true;
}

bool sema_int(Sema *s, Ast *e, const char *what, int lo, int *v)
{
	long l;
	if (!sema_long(s, e, what, lo, INT_MAX, &l))
		return false;
	*v = (int)l;
	return true;
}

bool sema_bool(Sema *s, Ast *e, bool *v)
{
	const char *id = sema_ident(e);
	if (id && strcmp(id, "true") == 0)
		*v = true;
	else if (id && strcmp(id, "false") == 0)
		*v = false;
	else {
		sema_error(s, e->loc, "expected true or false");
		return false;
	}
	return true;
}

/* ---- tensors and layers ----------------------------------------------- */

int sema_new_tensor(Sema *s, const char *suffix, Shape sh, Loc loc)
{
	Model *m = s->m;
	if (m->ntensors == m->tensorcap) {
		m->tensorcap = m->tensorcap ? 2 * m->tensorcap : 16;
		m->tensors = xrealloc(m->tensors,
				      m->tensorcap * sizeof(*m->tensors));
	}
	Tensor *t = &m->tensors[m->ntensors];
	memset(t, 0, sizeof(*t));
	t->name = suffix; /* provisional: see name_tensors() */
	t->shape = sh;
	t->trainable = true;
	t->loc = loc;
	t->fan_in = sh.rank ? sh.dim[0] : 1;
	t->fan_out = 1;
	for (int i = 1; i < sh.rank; i++)
		t->fan_out *= sh.dim[i];
	return m->ntensors++;
}

void sema_add_layer(Sema *s, const char *kind, Shape sh, long params,
		    double flops)
{
	Model *m = s->m;
	if (m->nlayers == m->layercap) {
		m->layercap = m->layercap ? 2 * m->layercap : 16;
		m->layers = xrealloc(m->layers,
				     m->layercap * sizeof(*m->layers));
	}
	m->layers[m->nlayers++] = (Layer){s->stmt_name, kind, sh, params,
					  flops};
}

/* Layers name their tensors after the statement: NAME.W with one layer,
 * NAME.1.W, NAME.2.W ... with several (numbered in evaluation order,
 * counting only layers that have tensors). */
static void name_tensors(Sema *s)
{
	Model *m = s->m;
	int first = s->stmt_first_tensor, layers = 0;
	for (int i = first; i < m->ntensors; i++)
		if (strchr(m->tensors[i].name, '#') == NULL)
			layers++;
	int k = 0;
	for (int i = first; i < m->ntensors; i++) {
		Tensor *t = &m->tensors[i];
		bool cont = t->name[0] == '#'; /* same layer as the previous */
		const char *suffix = cont ? t->name + 1 : t->name;
		if (!cont)
			k++;
		if (layers == 1)
			t->name = arena_printf(s->a, "%s.%s", s->stmt_name,
					       suffix);
		else
			t->name = arena_printf(s->a, "%s.%d.%s", s->stmt_name,
					       k, suffix);
	}
}

/* ---- expressions ------------------------------------------------------ */

static Expr *check_name(Sema *s, Ast *e)
{
	Sym *y = lookup(s->env, e->str);
	if (!y)
		y = lookup_global(s, e->str);
	if (!y) {
		sema_error(s, e->loc, "unknown name '%s'", e->str);
		return NULL;
	}
	if (!y->value && y->kind != SYM_DEF)
		return NULL; /* its definition failed and was reported */
	if (y->kind == SYM_DEF) {
		sema_error(s, e->loc, "'%s' is a function; call it as %s(...)",
			   e->str, e->str);
		return NULL;
	}
	return y->value;
}

static bool check_not_class(Sema *s, Expr *x, Loc loc)
{
	if (x && sema_is_class(s, x)) {
		sema_error(s, loc, "'%s' is a class label; it can only be the "
			   "target of cross_entropy", s->m->target_name);
		return false;
	}
	return true;
}

/* Points at where a named operand got its shape. */
static void note_decl(Sema *s, const Expr *x)
{
	char buf[64];
	const char *what = x->kind == E_PARAM ? s->m->tensors[x->tensor].name
		: x->kind == E_INPUT ? s->m->inputs[x->input].name
		: x->kind == E_TARGET ? s->m->target_name : NULL;
	if (what)
		diag_note(s->d, x->loc, "'%s' declared here with shape %s", what,
			  shape_user_str(x->shape, buf, sizeof(buf)));
}

/* One operator of a chain: l is its left operand, already checked (NULL
 * when that failed). */
static Expr *check_binop1(Sema *s, Ast *e, Expr *l)
{
	char a[64], b[64];
	Expr *r = sema_expr(s, e->rhs);
	if (!l || !r || !check_not_class(s, l, e->lhs->loc) ||
	    !check_not_class(s, r, e->rhs->loc))
		return NULL;
	Expr *x = sema_new_expr(s, E_BINOP, e->loc);
	x->op = e->op;
	sema_set_args(s, x, 2, (Expr *[]){l, r});
	if (e->op != AOP_MATMUL) {
		if (!shape_broadcast(l->shape, r->shape, &x->shape)) {
			sema_error(s, e->loc, "shape mismatch in '%s': %s and %s",
				   ast_op_name(e->op),
				   shape_user_str(l->shape, a, 64),
				   shape_user_str(r->shape, b, 64));
			note_decl(s, l);
			note_decl(s, r);
			return NULL;
		}
		return x;
	}
	Shape ls = l->shape, rs = r->shape;
	if (ls.rank == 0 || rs.rank == 0 ||
	    ls.dim[ls.rank - 1] != rs.dim[0]) {
		sema_error(s, e->loc, "shape mismatch in '@': %s @ %s",
			   shape_user_str(ls, a, 64), shape_user_str(rs, b, 64));
		note_decl(s, l);
		note_decl(s, r);
		return NULL;
	}
	if (ls.rank - 1 + rs.rank - 1 > MAXRANK) {
		sema_error(s, e->loc, "'@' result has more than %d dimensions",
			   MAXRANK);
		return NULL;
	}
	Shape o = {0};
	o.batched = ls.batched || rs.batched;
	for (int i = 0; i < ls.rank - 1; i++)
		o.dim[o.rank++] = ls.dim[i];
	for (int i = 1; i < rs.rank; i++)
		o.dim[o.rank++] = rs.dim[i];
	x->shape = o;
	return x;
}

static Expr *check_binop(Sema *s, Ast *e)
{
	if (e->op >= AOP_LT && e->op <= AOP_NE) {
		sema_error(s, e->loc, "comparison '%s' outside where(): "
			   "comparisons are only the condition of where",
			   ast_op_name(e->op));
		return NULL;
	}
	if (e->op == AOP_THEN) {
		sema_error(s, e->loc, "'then' is only for schedules");
		return NULL;
	}
	int n;
	Ast **chain = left_chain(e, AOP_MATMUL, &n);
	Expr *x = sema_expr(s, chain[0]->lhs);
	for (int i = 0; i < n; i++)
		x = check_binop1(s, chain[i], x);
	free(chain);
	return x;
}

/* Inlines a def: its parameters name the (already checked) arguments. */
static Expr *inline_def(Sema *s, Ast *e, Sym *def)
{
	Stmt *st = def->def;
	int depth = 0;
	for (Expansion *x = s->expanding; x; x = x->next, depth++)
		if (x->def == st) {
			sema_error(s, e->loc, "recursive call to '%s'",
				   st->name);
			return NULL;
		}
	if (depth == MAX_INLINE_DEPTH) {
		sema_error(s, e->loc, "defs calling defs more than %d deep",
			   MAX_INLINE_DEPTH);
		return NULL;
	}
	if (e->nkw) {
		sema_error(s, e->kw[0].loc, "'%s' takes positional arguments "
			   "only", st->name);
		return NULL;
	}
	if (e->nargs != st->nparams) {
		sema_error(s, e->loc, "'%s' takes %d argument%s, given %d",
			   st->name, st->nparams, st->nparams == 1 ? "" : "s",
			   e->nargs);
		return NULL;
	}
	Sym *env = NULL;
	for (int i = 0; i < e->nargs; i++) {
		Expr *v = sema_expr(s, e->args[i]);
		if (!v)
			return NULL;
		Sym *y = arena_alloc(s->a, sizeof(*y));
		*y = (Sym){st->params[i], SYM_VALUE, st->param_locs[i], v, NULL,
			   env};
		env = y;
	}
	Sym *saved = s->env;
	Expansion ex = {st, e->loc, s->expanding};
	s->env = env;
	s->expanding = &ex;
	Expr *r = sema_expr(s, st->value);
	s->env = saved;
	s->expanding = ex.next;
	return r;
}

static Expr *check_call(Sema *s, Ast *e, Ast *parent)
{
	Sym *y = lookup(s->env, e->str);
	if (!y)
		y = lookup_global(s, e->str);
	if (y && y->kind == SYM_DEF)
		return inline_def(s, e, y);
	if (y) {
		sema_error(s, e->loc, "'%s' is not a function", e->str);
		return NULL;
	}
	return sema_call(s, e, parent);
}

static Expr *expr_in(Sema *s, Ast *e, Ast *parent)
{
	Expr *x;
	switch (e->kind) {
	case A_NUM:
		if (e->num != 0 && (fabs(e->num) > FLT_MAX ||
				    fabs(e->num) < FLT_TRUE_MIN)) {
			sema_error(s, e->loc, "number %g is outside the range of "
				   "a float (%g to %g)", e->num, FLT_TRUE_MIN,
				   FLT_MAX);
			return NULL;
		}
		x = sema_new_expr(s, E_NUM, e->loc);
		x->num = e->num;
		x->shape = shape_scalar(false);
		return x;
	case A_NAME:
		return check_name(s, e);
	case A_UNOP: {
		Expr *a = sema_expr(s, e->lhs);
		if (!a || !check_not_class(s, a, e->lhs->loc))
			return NULL;
		x = sema_new_expr(s, E_NEG, e->loc);
		sema_set_args(s, x, 1, &a);
		x->shape = a->shape;
		return x;
	}
	case A_BINOP:
		return check_binop(s, e);
	case A_CALL:
		return check_call(s, e, parent);
	case A_STR:
		sema_error(s, e->loc, "a string is not a value here");
		return NULL;
	case A_LIST:
		sema_error(s, e->loc, "a list is not a value here");
		return NULL;
	case A_SLICE:
		sema_error(s, e->loc, "a column range is not a value here");
		return NULL;
	}
	return NULL;
}

/* The parser bounds the nesting of one expression; inlined defs nest
 * theirs inside it, up to MAX_INLINE_DEPTH deep. */
static Expr *nested(Sema *s, Ast *e, Ast *parent)
{
	if (s->depth == 2 * NN_MAX_NESTING) {
		sema_error(s, e->loc, "nested too deeply: more than %d levels, "
			   "counting the bodies of inlined defs",
			   2 * NN_MAX_NESTING);
		return NULL;
	}
	s->depth++;
	Expr *x = expr_in(s, e, parent);
	s->depth--;
	return x;
}

Expr *sema_expr(Sema *s, Ast *e)
{
	return nested(s, e, NULL);
}

/* sema_call() needs to know a layer's direct parent for init = auto. */
Expr *sema_expr_arg(Sema *s, Ast *e, Ast *parent)
{
	return nested(s, e, parent);
}

/* ---- statements ------------------------------------------------------- */

static bool shape_of_dims(Sema *s, Stmt *st, Shape *sh, bool batched)
{
	*sh = shape_scalar(batched);
	if (st->ndims > MAXRANK) {
		sema_error(s, st->dims[MAXRANK]->loc,
			   "at most %d dimensions are supported", MAXRANK);
		return false;
	}
	for (int i = 0; i < st->ndims; i++)
		if (!sema_int(s, st->dims[i], "a dimension", 1,
			      &sh->dim[sh->rank++]))
			return false;
	return true;
}

/* input NAME[dims]: the next place in a row of x */
static void check_input(Sema *s, Stmt *st)
{
	Model *m = s->m;
	if (m->ninputs == NNRT_MAX_INPUTS) {
		sema_error(s, st->loc, "more than %d inputs", NNRT_MAX_INPUTS);
		return;
	}
	Expr *x = sema_new_expr(s, E_INPUT, st->name_loc);
	if (!shape_of_dims(s, st, &x->shape, true) ||
	    !declare(s, st->name, st->name_loc, SYM_INPUT, x, NULL))
		return;
	Input *in = &m->inputs[m->ninputs];
	x->input = m->ninputs++;
	in->name = st->name;
	in->shape = x->shape;
	in->offset = m->input_size;
	m->input_size += shape_numel(x->shape);
}

static void check_target(Sema *s, Stmt *st)
{
	Model *m = s->m;
	if (s->target) {
		sema_error(s, st->loc, "only one target is supported yet");
		return;
	}
	Expr *y = sema_new_expr(s, E_TARGET, st->name_loc);
	if (st->cls) {
		Ast *c = st->cls;
		if (c->kind != A_CALL || strcmp(c->str, "class") != 0 ||
		    c->nargs != 1 || c->nkw) {
			sema_error(s, c->loc, "expected class(K) after ':'");
			return;
		}
		if (!sema_int(s, c->args[0], "the number of classes", 2,
			      &m->nclasses))
			return;
		y->shape = shape_scalar(true);
	} else if (!shape_of_dims(s, st, &y->shape, true)) {
		return;
	}
	m->target = y->shape;
	m->target_name = st->name;
	if (declare(s, st->name, st->name_loc, SYM_TARGET, y, NULL))
		s->target = y;
}

static void check_param(Sema *s, Stmt *st)
{
	Shape sh;
	if (!shape_of_dims(s, st, &sh, false))
		return;
	int t = sema_new_tensor(s, "", sh, st->name_loc);
	Tensor *tt = &s->m->tensors[t];
	tt->name = st->name;
	tt->is_weight = true;
	if (!sema_init_spec(s, st->value, tt))
		return;
	Expr *x = sema_new_expr(s, E_PARAM, st->name_loc);
	x->shape = sh;
	x->tensor = t;
	x->ntensors = 1;
	declare(s, st->name, st->name_loc, SYM_PARAM, x, NULL);
	sema_add_layer(s, "param", sh, shape_numel(sh), 0);
}

/* A named value, an output or the loss. Layers inside name their tensors
 * after the statement. */
static Expr *check_value(Sema *s, Stmt *st, const char *name)
{
	s->stmt_name = name;
	s->stmt_first_tensor = s->m->ntensors;
	Expr *x = sema_expr(s, st->value);
	if (x)
		name_tensors(s);
	return x;
}

static void check_output(Sema *s, Stmt *st, Expr ***outs)
{
	Model *m = s->m;
	Expr *x;
	if (st->value) {
		x = check_value(s, st, st->name);
		if (!declare(s, st->name, st->name_loc, SYM_VALUE, x, NULL) ||
		    !x)
			return;
	} else {
		Sym *y = lookup_global(s, st->name);
		if (!y || y->kind == SYM_DEF) {
			sema_error(s, st->name_loc, "unknown name '%s'",
				   st->name);
			return;
		}
		if (!(x = y->value))
			return;
	}
	int d = x->depends;
	if (d & EXPR_TARGET) {
		sema_error(s, st->name_loc, "output '%s' depends on the target "
			   "'%s', which predict does not have", st->name,
			   m->target_name);
		return;
	}
	if (!(d & EXPR_INPUT) || sema_is_class(s, x)) {
		sema_error(s, st->name_loc, "output '%s' does not depend on the "
			   "input", st->name);
		return;
	}
	m->outputs = xrealloc(m->outputs, (m->noutputs + 1) * sizeof(Output));
	*outs = xrealloc(*outs, (m->noutputs + 1) * sizeof(Expr *));
	m->outputs[m->noutputs] = (Output){st->name, x->shape};
	(*outs)[m->noutputs++] = x;
}

static void check_loss(Sema *s, Stmt *st, Checked *c)
{
	char buf[64];
	if (c->loss) {
		sema_error(s, st->loc, "a second 'loss' statement");
		return;
	}
	Expr *x = check_value(s, st, "loss");
	if (!x)
		return;
	if (x->shape.rank != 0) {
		sema_error(s, st->value->loc, "the loss must be a per-sample "
			   "scalar, found shape %s (use sum(...) or mean(...))",
			   shape_user_str(x->shape, buf, sizeof(buf)));
		return;
	}
	if (sema_is_class(s, x)) {
		sema_error(s, st->value->loc, "the loss cannot be the class "
			   "label itself");
		return;
	}
	c->loss = x;
}

static void check_stmt(Sema *s, Stmt *st, Checked *c, bool *seen)
{
	s->stmt_text = st->text;
	s->stmt_name = st->name;
	if (seen[st->kind] && (st->kind == S_MODEL || st->kind == S_OPTIMIZER ||
			       st->kind == S_TRAIN || st->kind == S_SCHEDULE)) {
		sema_error(s, st->loc, "a second '%s' statement",
			   st->kind == S_MODEL ? "model" :
			   st->kind == S_OPTIMIZER ? "optimizer" :
			   st->kind == S_TRAIN ? "train" : "schedule");
		return;
	}
	seen[st->kind] = true;
	switch (st->kind) {
	case S_MODEL:
		s->m->name = st->name;
		break;
	case S_INPUT:
		check_input(s, st);
		break;
	case S_TARGET:
		check_target(s, st);
		break;
	case S_PARAM:
		check_param(s, st);
		break;
	case S_DEF:
		declare(s, st->name, st->name_loc, SYM_DEF, NULL, st);
		break;
	case S_LET:
		/* declared even when it fails, so uses report nothing more */
		declare(s, st->name, st->name_loc, SYM_VALUE,
			check_value(s, st, st->name), NULL);
		break;
	case S_OUTPUT:
		check_output(s, st, &c->outputs);
		break;
	case S_LOSS:
		check_loss(s, st, c);
		break;
	case S_OPTIMIZER:
		sema_optimizer(s, st);
		break;
	case S_SCHEDULE:
		sema_schedule(s, st);
		break;
	case S_TRAIN:
		sema_train(s, st);
		break;
	}
}

static void check_missing(Sema *s, Program *p, Checked *c, bool *seen)
{
	Loc top = {p->file, 0, 0, 0, 0}; /* the whole file */
	static const struct { int kind; const char *what; } need[] = {
		{S_MODEL, "'model NAME' statement"},
		{S_INPUT, "'input' statement"},
		{S_TARGET, "'target' statement"},
		{S_OUTPUT, "'output' statement"},
		{S_LOSS, "'loss' statement"},
		{S_OPTIMIZER, "'optimizer' statement"},
		{S_TRAIN, "'train { ... }' block"},
	};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!seen[need[i].kind])
			diag_error(s->d, top, "the program has no %s",
				   need[i].what);
	if (p->stmts && p->stmts->kind != S_MODEL && seen[S_MODEL])
		diag_error(s->d, p->stmts->loc, "'model NAME' must be the first "
			   "statement");
	(void)c;
}

/* The flat parameter buffer: the trainable tensors first, in statement
 * order, then the buffers (running statistics), so gradients and the
 * optimizer cover one prefix [0, ntrainable). */
static void layout_tensors(Model *m)
{
	long off = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < m->ntensors; i++) {
			Tensor *t = &m->tensors[i];
			if (t->trainable != (pass == 0))
				continue;
			t->offset = off;
			off += shape_numel(t->shape);
		}
		if (pass == 0)
			m->ntrainable = off;
	}
	m->nparams = off;
}

Model *sema(Program *p, Arena *a, Diag *d, Checked *out)
{
	Model *m = arena_alloc(a, sizeof(*m));
	Sema s = {0};
	bool seen[S_TRAIN + 1] = {0};
	s.a = a;
	s.d = d;
	s.m = m;
	m->file = p->file;
	memset(out, 0, sizeof(*out));
	sema_train_defaults(m);
	for (Stmt *st = p->stmts; st; st = st->next)
		check_stmt(&s, st, out, seen);
	check_missing(&s, p, out, seen);
	sema_train_finish(&s);
	layout_tensors(m);
	free(s.syms);
	if (d->nerrors) {
		sema_free(m, out);
		return NULL;
	}
	return m;
}

void sema_free(Model *m, Checked *c)
{
	free(m->tensors);
	free(m->layers);
	free(m->outputs);
	free(c->outputs);
	m->tensors = NULL;
	m->layers = NULL;
	m->outputs = NULL;
	c->outputs = NULL;
}
