/*
 * ast.c - syntax tree constructors and the tree printer.
 *
 * ast_print writes one expression as an s-expression, deterministic and
 * free of pointers, for tests and debugging:
 *
 *     number        integers as integers, else the shortest "%.*g" that
 *                   reads back exactly: 3  30  0.5  1e-05  2.5e+20
 *     string        "text" with \" \\ \n escaped
 *     name          x
 *     call          (call dense x 16 :init auto)   keywords as :name value
 *     list          (list 30 60)   (list) when empty
 *     binary op     (+ a b)  (@ x W)  (<= a b)  (then a b)
 *     unary minus   (neg x)
 *     slice         (slice 0 4)
 *
 * ast_print_program writes one line per statement:
 *
 *     (model xor)
 *     (input x [2])          (target y [1])     (target y (call class 3))
 *     (param W1 [10 32] he_normal)
 *     (def swish (z) (* z (call sigmoid z)))
 *     (let h (call relu x))  (output yhat)      (output p (call sigmoid z))
 *     (loss EXPR)            (optimizer EXPR)   (schedule EXPR)
 *     (train :data (call csv "a.csv" :x (slice 0 2)) :batch 4)
 */
#include "nnc.h"

#include <stdlib.h>

static Ast *ast_new(Arena *a, AstKind kind, Loc loc)
{
	Ast *e = arena_alloc(a, sizeof *e);
	e->kind = kind;
	e->loc = loc;
	return e;
}

Ast *ast_num(Arena *a, Loc loc, double v)
{
	Ast *e = ast_new(a, A_NUM, loc);
	e->num = v;
	return e;
}

Ast *ast_str(Arena *a, Loc loc, const char *s)
{
	Ast *e = ast_new(a, A_STR, loc);
	e->str = s;
	return e;
}

Ast *ast_name(Arena *a, Loc loc, const char *s)
{
	Ast *e = ast_new(a, A_NAME, loc);
	e->str = s;
	return e;
}

Ast *ast_binop(Arena *a, Loc loc, AstOp op, Ast *lhs, Ast *rhs)
{
	Ast *e = ast_new(a, A_BINOP, loc);
	e->op = op;
	e->lhs = lhs;
	e->rhs = rhs;
	return e;
}

Ast *ast_unop(Arena *a, Loc loc, AstOp op, Ast *x)
{
	Ast *e = ast_new(a, A_UNOP, loc);
	e->op = op;
	e->lhs = x;
	return e;
}

Ast *ast_slice(Arena *a, Loc loc, Ast *lo, Ast *hi)
{
	Ast *e = ast_new(a, A_SLICE, loc);
	e->lhs = lo;
	e->rhs = hi;
	return e;
}

Ast *ast_call(Arena *a, Loc loc, const char *name, Ast **args, int nargs,
	      Kwarg *kw, int nkw)
{
	Ast *e = ast_new(a, A_CALL, loc);
	e->str = name;
	e->args = args;
	e->nargs = nargs;
	e->kw = kw;
	e->nkw = nkw;
	return e;
}

Ast *ast_list(Arena *a, Loc loc, Ast **elems, int n)
{
	Ast *e = ast_new(a, A_LIST, loc);
	e->args = elems;
	e->nargs = n;
	return e;
}

Stmt *ast_stmt(Arena *a, StmtKind kind, Loc loc)
{
	Stmt *s = arena_alloc(a, sizeof *s);
	s->kind = kind;
	s->loc = loc;
	s->name_loc = loc;
	return s;
}

const char *ast_op_name(AstOp op)
{
	switch (op) {
	case AOP_ADD: return "+";
	case AOP_SUB: return "-";
	case AOP_MUL: return "*";
	case AOP_DIV: return "/";
	case AOP_POW: return "^";
	case AOP_MATMUL: return "@";
	case AOP_LT: return "<";
	case AOP_LE: return "<=";
	case AOP_GT: return ">";
	case AOP_GE: return ">=";
	case AOP_EQ: return "==";
	case AOP_NE: return "!=";
	case AOP_NEG: return "-";
	case AOP_THEN: return "then";
	}
	ice("ast_op_name: bad op %d", (int)op);
}

/* Integers as integers, anything else in the shortest %g form that
 * reads back as the same double. */
static void print_num(FILE *f, double v)
{
	char buf[32];
	if (v > -1e15 && v < 1e15 && v == (double)(long long)v) {
		fprintf(f, "%lld", (long long)v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	fputs(buf, f);
}

static void print_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void print_kwargs(FILE *f, const Kwarg *kw, int n)
{
	for (int i = 0; i < n; i++) {
		fprintf(f, " :%s ", kw[i].name);
		ast_print(f, kw[i].value);
	}
}

void ast_print(FILE *f, const Ast *e)
{
	if (!e) {
		fputs("<null>", f);
		return;
	}
	switch (e->kind) {
	case A_NUM:
		print_num(f, e->num);
		return;
	case A_STR:
		print_str(f, e->str);
		return;
	case A_NAME:
		fputs(e->str, f);
		return;
	case A_CALL:
	case A_LIST:
		fputs(e->kind == A_CALL ? "(call " : "(list", f);
		if (e->kind == A_CALL)
			fputs(e->str, f);
		for (int i = 0; i < e->nargs; i++) {
			fputc(' ', f);
			ast_print(f, e->args[i]);
		}
		print_kwargs(f, e->kw, e->nkw);
		fputc(')', f);
		return;
	case A_BINOP:
	case A_SLICE:
		fprintf(f, "(%s ",
			e->kind == A_SLICE ? "slice" : ast_op_name(e->op));
		ast_print(f, e->lhs);
		fputc(' ', f);
		ast_print(f, e->rhs);
		fputc(')', f);
		return;
	case A_UNOP:
		if (e->op == AOP_NEG)
			fputs("(neg ", f);
		else
			fprintf(f, "(%s ", ast_op_name(e->op));
		ast_print(f, e->lhs);
		fputc(')', f);
		return;
	}
	ice("ast_print: bad kind %d", (int)e->kind);
}

static const char *const stmt_names[] = {
	[S_MODEL] = "model", [S_INPUT] = "input", [S_TARGET] = "target",
	[S_PARAM] = "param", [S_DEF] = "def", [S_LET] = "let",
	[S_OUTPUT] = "output", [S_LOSS] = "loss",
	[S_OPTIMIZER] = "optimizer", [S_SCHEDULE] = "schedule",
	[S_TRAIN] = "train",
};

static void print_dims(FILE *f, const Stmt *s)
{
	fputs(" [", f);
	for (int i = 0; i < s->ndims; i++) {
		if (i)
			fputc(' ', f);
		ast_print(f, s->dims[i]);
	}
	fputc(']', f);
}

static void print_stmt(FILE *f, const Stmt *s)
{
	fprintf(f, "(%s", stmt_names[s->kind]);
	if (s->name)
		fprintf(f, " %s", s->name);
	if (s->has_dims)
		print_dims(f, s);
	if (s->kind == S_DEF) {
		fputs(" (", f);
		for (int i = 0; i < s->nparams; i++)
			fprintf(f, i ? " %s" : "%s", s->params[i]);
		fputc(')', f);
	}
	if (s->cls) {
		fputc(' ', f);
		ast_print(f, s->cls);
	}
	if (s->value) {
		fputc(' ', f);
		ast_print(f, s->value);
	}
	print_kwargs(f, s->keys, s->nkeys);
	fputs(")\n", f);
}

void ast_print_program(FILE *f, const Program *p)
{
	for (const Stmt *s = p->stmts; s; s = s->next)
		print_stmt(f, s);
}
