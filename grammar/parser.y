/*
 * parser.y - the grammar of a .nn program, building the AST (ast.c).
 *
 * Pure, with locations, no globals: the context (ParseCtx) carries the
 * arena, the diagnostics, the program being built and the scanner.
 * Actions are one-liners calling ast_* constructors or the small list
 * helpers at the end of this file.
 *
 * Syntax errors are reported by yyreport_syntax_error as
 * "unexpected TOKEN, expected A, B or C", with the expected tokens
 * summarized ("expression", "statement") and operators left out when a
 * closing token would do (`f(x y)`: "expected ',' or ')'"). An error right after a newline that was
 * skipped inside ( ) or [ ] is reported at that newline, with a note at
 * the unclosed bracket: usually a ')' is missing at the end of the line.
 * A syntax error on a line where the lexer has already reported one (a
 * bad character, an unterminated string) is taken as its echo and not
 * reported. `error NEWLINE` resynchronizes at the next statement, so one
 * run reports every syntax error.
 */

%define api.pure full
%define api.prefix {nn}
%define api.location.type {Loc}
%define parse.error custom
%define parse.lac full
%locations
%expect 0
%parse-param {ParseCtx *ctx}
%lex-param {ParseCtx *ctx}

%code requires {
#include "nnc.h"

/* Growing arrays built by the grammar actions, in the arena. */
typedef struct AstVec {
	Ast **v;
	int n, cap;
} AstVec;

typedef struct NameVec {
	const char **v;
	Loc *locs;
	int n, cap;
} NameVec;

/* Call arguments: positional ones, then keyword ones. */
typedef struct Args {
	AstVec pos;
	Kwarg *kw;
	int nkw, capkw;
} Args;

typedef struct Bracket {
	char ch;      /* '(' '[' '{' */
	Loc loc;
} Bracket;

typedef struct ParseCtx ParseCtx;
}

%code provides {
struct ParseCtx {
	Arena *arena;
	Diag *diag;
	const char *file;     /* the arena copy every Loc points to */
	const char *text;
	void *scanner;
	Program *prog;
	Stmt **tail;          /* where the next statement goes */
	int *line_start;      /* offsets of the lines of text */
	int nlines;

	/* lexer state (lexer.l) */
	int line, col;        /* position of the next character */
	Loc eof_loc;          /* the last newline, or the end of the text */
	int last_tok;         /* 0 before the first token */
	Bracket *open;        /* unclosed brackets, innermost last */
	int nopen, capopen;
	int depth;            /* unclosed ( and [: newlines are skipped */
	int error_line;       /* line of the last error the lexer reported */
	bool skipped_nl;      /* a newline was skipped since the last token */
	Loc skipped_loc;      /* the first such newline */

	/* parser state (parser.y) */
	bool line_start_tok;  /* the next token starts a line */
	int stmt_col;         /* column of the current line's first token */
	bool la_after_nl;     /* the lookahead followed a skipped newline */
	Loc la_nl_loc;
	bool recovering;      /* between a syntax error and the next NEWLINE */
	int replay;           /* 1: give NEWLINE, 2: give the saved token */
	int saved_tok;
	NNSTYPE saved_val;
	Loc saved_loc;
};

/* lexer.l */
void lex_begin(ParseCtx *c, const char *file, const char *text, Arena *a,
	       Diag *d);
void lex_end(ParseCtx *c);
int lex_token(ParseCtx *c, NNSTYPE *val, Loc *loc);
void lex_close_all(ParseCtx *c);
}

%code {
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define YYLLOC_DEFAULT(Cur, Rhs, N)					\
	do {								\
		if (N) {						\
			(Cur) = YYRHSLOC(Rhs, 1);			\
			(Cur).end_line = YYRHSLOC(Rhs, N).end_line;	\
			(Cur).end_col = YYRHSLOC(Rhs, N).end_col;	\
		} else {						\
			(Cur) = YYRHSLOC(Rhs, 0);			\
			(Cur).line = (Cur).end_line;			\
			(Cur).col = (Cur).end_col;			\
		}							\
	} while (0)

#define A (ctx->arena)

/* The parser's stack grows with each open bracket, call, unary '-' and
 * '^' (right-associative) not yet closed; chains of left-associative
 * operators (`x + x + ... + x`) do not grow it. Deeper nesting is an
 * error at the token that overflows it (nnerror), so every later stage
 * may recurse over an expression's operands (docs/language.md). */
#define YYMAXDEPTH NN_MAX_NESTING

static int nnlex(NNSTYPE *val, Loc *loc, ParseCtx *ctx);
static void nnerror(Loc *loc, ParseCtx *ctx, const char *msg);
static void add_stmt(ParseCtx *ctx, Stmt *s);
static Stmt *stmt(ParseCtx *ctx, StmtKind k, Loc loc, const char *name,
		  Loc name_loc);
static Stmt *with_dims(Stmt *s, AstVec dims);
static Stmt *with_value(Stmt *s, Ast *value);
static Stmt *with_cls(Stmt *s, Ast *cls);
static Stmt *with_params(Stmt *s, NameVec params);
static Stmt *with_keys(Stmt *s, Args keys);
static AstVec vec_add(ParseCtx *ctx, AstVec v, Ast *e);
static NameVec names_add(ParseCtx *ctx, NameVec v, const char *s, Loc loc);
static Args args_add(ParseCtx *ctx, Args a, Kwarg arg);
static Args keys_add(ParseCtx *ctx, Args a, Kwarg arg);
static Ast *call(ParseCtx *ctx, Loc loc, const char *name, Args a);
}

%union {
	double num;
	const char *str;
	Ast *ast;
	Stmt *stmt;
	AstVec vec;
	NameVec names;
	Kwarg arg;
	Args args;
}

%token NEWLINE "end of line"
%token <str> IDENT "name"
%token <num> NUMBER "number"
%token <str> STRING "string"
%token MODEL "'model'" INPUT "'input'" TARGET "'target'" PARAM "'param'"
%token DEF "'def'" OUTPUT "'output'" LOSS "'loss'"
%token OPTIMIZER "'optimizer'" SCHEDULE "'schedule'" TRAIN "'train'"
%token THEN "'then'"
%token LE "'<='" GE "'>='" EQ "'=='" NE "'!='"
%token ',' ')' ']' '}' /* listed first in "expected ..." */

%type <stmt> stmt
%type <ast> expr primary value
%type <vec> dims exprs exprs_opt
%type <names> names names_opt
%type <arg> arg key
%type <args> args args_opt keys block
%type <str> name softkw

%left THEN
%nonassoc '<' LE '>' GE EQ NE
%left '+' '-'
%left '*' '/' '@'
%precedence NEG
%right '^'

%%

program
	: %empty
	| program line
	;

line
	: stmt NEWLINE                 { add_stmt(ctx, $1); }
	| NEWLINE
	| error NEWLINE                { yyerrok; }
	;

stmt
	: MODEL IDENT                  { $$ = stmt(ctx, S_MODEL, @1, $2, @2); }
	| INPUT IDENT dims             { $$ = with_dims(stmt(ctx, S_INPUT, @1, $2, @2), $3); }
	| TARGET IDENT dims            { $$ = with_dims(stmt(ctx, S_TARGET, @1, $2, @2), $3); }
	| TARGET IDENT ':' expr        { $$ = with_cls(stmt(ctx, S_TARGET, @1, $2, @2), $4); }
	| PARAM IDENT dims '=' expr    { $$ = with_value(with_dims(stmt(ctx, S_PARAM, @1, $2, @2), $3), $5); }
	| DEF IDENT '(' names_opt ')' '=' expr
	                               { $$ = with_value(with_params(stmt(ctx, S_DEF, @1, $2, @2), $4), $7); }
	| IDENT '=' expr               { $$ = with_value(stmt(ctx, S_LET, @1, $1, @1), $3); }
	| OUTPUT IDENT                 { $$ = stmt(ctx, S_OUTPUT, @1, $2, @2); }
	| OUTPUT IDENT '=' expr        { $$ = with_value(stmt(ctx, S_OUTPUT, @1, $2, @2), $4); }
	| LOSS '=' expr                { $$ = with_value(stmt(ctx, S_LOSS, @1, NULL, @1), $3); }
	| OPTIMIZER expr               { $$ = with_value(stmt(ctx, S_OPTIMIZER, @1, NULL, @1), $2); }
	| SCHEDULE expr                { $$ = with_value(stmt(ctx, S_SCHEDULE, @1, NULL, @1), $2); }
	| TRAIN '{' block '}'          { $$ = with_keys(stmt(ctx, S_TRAIN, @1, NULL, @1), $3); }
	| TRAIN '{' NEWLINE block '}'  { $$ = with_keys(stmt(ctx, S_TRAIN, @1, NULL, @1), $4); }
	;

dims
	: '[' exprs_opt ']'            { $$ = $2; }
	;

names_opt
	: %empty                       { $$ = (NameVec){ 0 }; }
	| names
	;

names
	: IDENT                        { $$ = names_add(ctx, (NameVec){ 0 }, $1, @1); }
	| names ',' IDENT              { $$ = names_add(ctx, $1, $3, @3); }
	;

/* The keys of a train block, one per line; the last one may share the
 * line of the '}'. After an error the block still ends at its '}'. */
block
	: keys
	| keys key                     { $$ = keys_add(ctx, $1, $2); }
	| keys error                   { $$ = $1; yyerrok; }
	;

keys
	: %empty                       { $$ = (Args){ 0 }; }
	| keys key NEWLINE             { $$ = keys_add(ctx, $1, $2); }
	| keys error NEWLINE           { $$ = $1; yyerrok; }
	;

key
	: name '=' expr                { $$ = (Kwarg){ $1, @1, $3 }; }
	;

expr
	: expr THEN expr               { $$ = ast_binop(A, @2, AOP_THEN, $1, $3); }
	| expr '<' expr                { $$ = ast_binop(A, @2, AOP_LT, $1, $3); }
	| expr LE expr                 { $$ = ast_binop(A, @2, AOP_LE, $1, $3); }
	| expr '>' expr                { $$ = ast_binop(A, @2, AOP_GT, $1, $3); }
	| expr GE expr                 { $$ = ast_binop(A, @2, AOP_GE, $1, $3); }
	| expr EQ expr                 { $$ = ast_binop(A, @2, AOP_EQ, $1, $3); }
	| expr NE expr                 { $$ = ast_binop(A, @2, AOP_NE, $1, $3); }
	| expr '+' expr                { $$ = ast_binop(A, @2, AOP_ADD, $1, $3); }
	| expr '-' expr                { $$ = ast_binop(A, @2, AOP_SUB, $1, $3); }
	| expr '*' expr                { $$ = ast_binop(A, @2, AOP_MUL, $1, $3); }
	| expr '/' expr                { $$ = ast_binop(A, @2, AOP_DIV, $1, $3); }
	| expr '@' expr                { $$ = ast_binop(A, @2, AOP_MATMUL, $1, $3); }
	| expr '^' expr                { $$ = ast_binop(A, @2, AOP_POW, $1, $3); }
	| '-' expr %prec NEG           { $$ = ast_unop(A, @1, AOP_NEG, $2); }
	| primary
	;

primary
	: NUMBER                       { $$ = ast_num(A, @1, $1); }
	| STRING                       { $$ = ast_str(A, @1, $1); }
	| name                         { $$ = ast_name(A, @1, $1); }
	| name '(' args_opt ')'        { $$ = call(ctx, @1, $1, $3); }
	| '[' exprs_opt ']'            { $$ = ast_list(A, @$, $2.v, $2.n); }
	| '(' expr ')'                 { $$ = $2; }
	;

exprs_opt
	: %empty                       { $$ = (AstVec){ 0 }; }
	| exprs
	;

exprs
	: expr                         { $$ = vec_add(ctx, (AstVec){ 0 }, $1); }
	| exprs ',' expr               { $$ = vec_add(ctx, $1, $3); }
	;

args_opt
	: %empty                       { $$ = (Args){ 0 }; }
	| args
	;

args
	: arg                          { $$ = args_add(ctx, (Args){ 0 }, $1); }
	| args ',' arg                 { $$ = args_add(ctx, $1, $3); }
	;

arg
	: value                        { $$ = (Kwarg){ NULL, @1, $1 }; }
	| name '=' value               { $$ = (Kwarg){ $1, @1, $3 }; }
	;

value
	: expr
	| expr ':' expr                { $$ = ast_slice(A, @2, $1, $3); }
	;

/* Keywords other than 'then' also serve as plain names inside
 * expressions, e.g. early_stop(monitor = loss). */
name
	: IDENT
	| softkw
	;

softkw
	: MODEL                        { $$ = "model"; }
	| INPUT                        { $$ = "input"; }
	| TARGET                       { $$ = "target"; }
	| PARAM                        { $$ = "param"; }
	| DEF                          { $$ = "def"; }
	| OUTPUT                       { $$ = "output"; }
	| LOSS                         { $$ = "loss"; }
	| OPTIMIZER                    { $$ = "optimizer"; }
	| SCHEDULE                     { $$ = "schedule"; }
	| TRAIN                        { $$ = "train"; }
	;

%%

/* ------------------------------------------------------------------ */
/* Building statements and lists */

/* Makes room for one more element in an arena array of n elements. */
static void *grow(ParseCtx *ctx, void *v, int n, int *cap, size_t size)
{
	if (n < *cap)
		return v;
	*cap = *cap ? 2 * *cap : 4;
	void *p = arena_alloc(ctx->arena, (size_t)*cap * size);
	if (n)
		memcpy(p, v, (size_t)n * size);
	return p;
}

static AstVec vec_add(ParseCtx *ctx, AstVec v, Ast *e)
{
	v.v = grow(ctx, v.v, v.n, &v.cap, sizeof *v.v);
	v.v[v.n++] = e;
	return v;
}

static NameVec names_add(ParseCtx *ctx, NameVec v, const char *s, Loc loc)
{
	int cap = v.cap;
	v.v = grow(ctx, v.v, v.n, &v.cap, sizeof *v.v);
	v.locs = grow(ctx, v.locs, v.n, &cap, sizeof *v.locs);
	v.v[v.n] = s;
	v.locs[v.n++] = loc;
	return v;
}

static Args keys_add(ParseCtx *ctx, Args a, Kwarg arg)
{
	a.kw = grow(ctx, a.kw, a.nkw, &a.capkw, sizeof *a.kw);
	a.kw[a.nkw++] = arg;
	return a;
}

/* Appends one call argument: a keyword one (arg.name set) or a
 * positional one, which must come before every keyword one. */
static Args args_add(ParseCtx *ctx, Args a, Kwarg arg)
{
	if (arg.name)
		return keys_add(ctx, a, arg);
	if (a.nkw > 0) {
		diag_error(ctx->diag, arg.loc,
			   "positional argument after keyword argument '%s'",
			   a.kw[a.nkw - 1].name);
		diag_note(ctx->diag, a.kw[a.nkw - 1].loc,
			  "positional arguments go before keyword arguments");
	}
	a.pos = vec_add(ctx, a.pos, arg.value);
	return a;
}

static Ast *call(ParseCtx *ctx, Loc loc, const char *name, Args a)
{
	return ast_call(ctx->arena, loc, name, a.pos.v, a.pos.n, a.kw, a.nkw);
}

static Stmt *stmt(ParseCtx *ctx, StmtKind k, Loc loc, const char *name,
		  Loc name_loc)
{
	Stmt *s = ast_stmt(ctx->arena, k, loc);
	s->name = name;
	s->name_loc = name_loc;
	return s;
}

static Stmt *with_dims(Stmt *s, AstVec dims)
{
	s->dims = dims.v;
	s->ndims = dims.n;
	s->has_dims = true;
	return s;
}

static Stmt *with_value(Stmt *s, Ast *value)
{
	s->value = value;
	return s;
}

static Stmt *with_cls(Stmt *s, Ast *cls)
{
	s->cls = cls;
	return s;
}

static Stmt *with_params(Stmt *s, NameVec params)
{
	s->params = params.v;
	s->param_locs = params.locs;
	s->nparams = params.n;
	return s;
}

static Stmt *with_keys(Stmt *s, Args keys)
{
	s->keys = keys.kw;
	s->nkeys = keys.nkw;
	return s;
}

/* Line `line` of the source, without its comment and surrounding
 * blanks. */
static const char *line_text(ParseCtx *ctx, int line)
{
	if (line < 1 || line > ctx->nlines)
		return "";
	const char *p = ctx->text + ctx->line_start[line - 1];
	size_t n = 0;
	bool in_str = false;
	for (; p[n] && p[n] != '\n'; n++) {
		if (in_str && p[n] == '\\' && p[n + 1] && p[n + 1] != '\n')
			n++;
		else if (p[n] == '"')
			in_str = !in_str;
		else if (p[n] == '#' && !in_str)
			break;
	}
	while (n > 0 && strchr(" \t\r", p[n - 1]))
		n--;
	while (n > 0 && strchr(" \t", *p)) {
		p++;
		n--;
	}
	return arena_strndup(ctx->arena, p, n);
}

static void add_stmt(ParseCtx *ctx, Stmt *s)
{
	s->text = line_text(ctx, s->loc.line);
	*ctx->tail = s;
	ctx->tail = &s->next;
}

/* ------------------------------------------------------------------ */
/* Tokens for the parser, and resynchronizing after errors */

/* Hands out the tokens of lexer.l. After a syntax error inside an
 * unclosed bracket, a token that follows a skipped newline and starts at
 * or left of the broken statement's column is taken to begin the next
 * statement: the brackets are forgotten and a NEWLINE is given first. */
static int nnlex(NNSTYPE *val, Loc *loc, ParseCtx *ctx)
{
	int tok;
	if (ctx->replay) {
		/* a replayed token has had its skipped newline handled */
		ctx->la_after_nl = false;
	}
	if (ctx->replay == 1) {
		*loc = ctx->la_nl_loc;
		ctx->replay = 2;
		tok = NEWLINE;
	} else if (ctx->replay == 2) {
		*val = ctx->saved_val;
		*loc = ctx->saved_loc;
		ctx->replay = 0;
		tok = ctx->saved_tok;
	} else {
		tok = lex_token(ctx, val, loc);
		ctx->la_after_nl = ctx->skipped_nl;
		ctx->la_nl_loc = ctx->skipped_loc;
		ctx->skipped_nl = false;
		ctx->saved_tok = tok;
		ctx->saved_val = *val;
		ctx->saved_loc = *loc;
		if (ctx->recovering && ctx->la_after_nl &&
		    loc->col <= ctx->stmt_col && tok != NNEOF) {
			lex_close_all(ctx);
			*loc = ctx->la_nl_loc;
			ctx->la_after_nl = false;
			ctx->replay = 2;
			tok = NEWLINE;
		}
	}
	if (tok == NEWLINE) {
		ctx->recovering = false;
		ctx->line_start_tok = true;
	} else if (ctx->line_start_tok) {
		ctx->line_start_tok = false;
		ctx->stmt_col = loc->col;
	}
	return tok;
}

/* With parse.error custom, bison calls this only when its stack is
 * full ("memory exhausted"). */
static void nnerror(Loc *loc, ParseCtx *ctx, const char *msg)
{
	if (strstr(msg, "exhausted"))
		diag_error(ctx->diag, *loc, "nested too deeply: more than %d "
			   "open brackets, calls, '-' and '^' at once",
			   NN_MAX_NESTING);
	else
		diag_error(ctx->diag, *loc, "%s", msg);
}

/* ------------------------------------------------------------------ */
/* Syntax error messages */

/* Token classes by their readable names (char tokens have no
 * stable symbol constant). */
static bool sym_in(yysymbol_kind_t k, const char *set)
{
	const char *name = yysymbol_name(k);
	size_t n = strlen(name);
	for (const char *p = set; (p = strstr(p, name)); p += n)
		if ((p == set || p[-1] == '|') && (p[n] == '|' || !p[n]))
			return true;
	return false;
}

/* What may continue a complete operand: binary operators, a call's
 * '(', a keyword argument's '=', a slice's ':'. */
static bool is_continuation(yysymbol_kind_t k)
{
	return sym_in(k, "'then'|'<='|'>='|'=='|'!='|'<'|'>'|'+'|'-'|'*'|"
			 "'/'|'@'|'^'|'('|'='|':'");
}

static bool is_keyword(yysymbol_kind_t k)
{
	return k >= YYSYMBOL_MODEL && k <= YYSYMBOL_TRAIN;
}

static bool is_expr_start(yysymbol_kind_t k)
{
	return is_keyword(k) ||
	       sym_in(k, "name|number|string|'('|'['|'-'");
}

static bool is_stmt_start(yysymbol_kind_t k)
{
	return k == YYSYMBOL_IDENT || k == YYSYMBOL_NEWLINE ||
	       k == YYSYMBOL_YYEOF || is_keyword(k);
}

static bool is_closer(yysymbol_kind_t k)
{
	return sym_in(k, "')'|']'|','|'}'|end of line");
}

/* The expected tokens as a reader wants them: expression and statement
 * starters summarized, keywords that only stand for names left out,
 * operators left out when something closing is expected. Returns the
 * number of names written to out. */
static int expected_names(const yypcontext_t *yyctx, const char **out)
{
	yysymbol_kind_t k[YYNTOKENS];
	int n = yypcontext_expected_tokens(yyctx, k, YYNTOKENS);
	bool num = false, kw = false, nl = false, closer = false;
	for (int i = 0; i < n; i++) {
		num |= k[i] == YYSYMBOL_NUMBER;
		kw |= k[i] == YYSYMBOL_MODEL;
		nl |= k[i] == YYSYMBOL_NEWLINE;
		closer |= is_closer(k[i]);
	}
	bool stmt = kw && nl && !num;
	int m = 0;
	if (stmt)
		out[m++] = "statement";
	if (num)
		out[m++] = "expression";
	for (int i = 0; i < n; i++) {
		if ((stmt && is_stmt_start(k[i])) ||
		    (num && is_expr_start(k[i])) ||
		    (!stmt && is_keyword(k[i])) ||
		    (closer && is_continuation(k[i])))
			continue;
		out[m++] = yysymbol_name(k[i]);
	}
	return m;
}

/* The innermost bracket still open before the lookahead. */
static const Bracket *open_bracket_before(ParseCtx *ctx, Loc la)
{
	for (int i = ctx->nopen - 1; i >= 0; i--) {
		Loc b = ctx->open[i].loc;
		if (b.line < la.line || (b.line == la.line && b.col < la.col))
			return &ctx->open[i];
	}
	return NULL;
}

static void note_bracket(ParseCtx *ctx, Loc la, const char **exp, int n)
{
	const Bracket *b = open_bracket_before(ctx, la);
	if (!b)
		return;
	const char *closer = b->ch == '(' ? "')'" : b->ch == '[' ? "']'" : "'}'";
	for (int i = 0; i < n; i++) {
		if (strcmp(exp[i], closer) == 0) {
			diag_note(ctx->diag, b->loc, "to match this '%c'", b->ch);
			return;
		}
	}
}

static int yyreport_syntax_error(const yypcontext_t *yyctx, ParseCtx *ctx)
{
	const char *exp[YYNTOKENS + 2];
	int n = expected_names(yyctx, exp);
	yysymbol_kind_t tok = yypcontext_token(yyctx);
	Loc loc = *yypcontext_location(yyctx);
	const char *what = yysymbol_name(tok);
	bool at_eol = tok == YYSYMBOL_YYEOF || tok == YYSYMBOL_NEWLINE;
	if (ctx->la_after_nl && tok != YYSYMBOL_YYEOF) {
		what = "end of line";
		loc = ctx->la_nl_loc;
		at_eol = true;
	}
	char msg[512];
	int len = snprintf(msg, sizeof msg, "unexpected %s", what);
	for (int i = 0; i < n && n <= 6 && len < (int)sizeof msg; i++)
		len += snprintf(msg + len, sizeof msg - (size_t)len, "%s%s",
				i == 0 ? ", expected " : i == n - 1 ? " or " : ", ",
				exp[i]);
	/* On a line where the lexer already reported an error, a syntax
	 * error is most likely its echo: leave it out. */
	if (loc.line != ctx->error_line) {
		diag_error(ctx->diag, loc, "%s", msg);
		if (at_eol)
			note_bracket(ctx, loc, exp, n);
	}
	/* The lookahead starts a line no further right than the broken
	 * statement: it most likely begins the next one. Recovery will
	 * drop it; nnlex gives a NEWLINE to resynchronize on, then the
	 * lookahead again. */
	ctx->recovering = true;
	if (ctx->la_after_nl && tok != YYSYMBOL_YYEOF &&
	    ctx->saved_loc.col <= ctx->stmt_col) {
		lex_close_all(ctx);
		ctx->replay = 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Entry points */

static void index_lines(ParseCtx *ctx)
{
	int cap = 64;
	ctx->line_start = xmalloc((size_t)cap * sizeof *ctx->line_start);
	ctx->nlines = 0;
	for (const char *p = ctx->text; *p; ) {
		if (ctx->nlines == cap) {
			cap *= 2;
			ctx->line_start = xrealloc(ctx->line_start,
				(size_t)cap * sizeof *ctx->line_start);
		}
		ctx->line_start[ctx->nlines++] = (int)(p - ctx->text);
		const char *nl = strchr(p, '\n');
		p = nl ? nl + 1 : p + strlen(p);
	}
}

Program *parse_string(const char *name, const char *text, Arena *a,
		      Diag *d)
{
	diag_add_source(d, name, text);
	ParseCtx ctx;
	lex_begin(&ctx, name, text, a, d);
	ctx.prog = arena_alloc(a, sizeof *ctx.prog);
	ctx.prog->file = ctx.file;
	ctx.tail = &ctx.prog->stmts;
	ctx.line_start_tok = true;
	index_lines(&ctx);
	nnparse(&ctx);
	free(ctx.line_start);
	lex_end(&ctx);
	return ctx.prog;
}

/* A NUL byte would end the text early and silently: an error at its
 * place instead. */
static bool check_nul(const char *name, const char *text, size_t len,
		      Arena *a, Diag *d)
{
	const char *nul = memchr(text, '\0', len);
	if (!nul)
		return true;
	int line = 1, col = 1;
	for (const char *p = text; p < nul; p++) {
		col = *p == '\n' ? 1 : col + 1;
		line += *p == '\n';
	}
	diag_add_source(d, name, text);
	Loc loc = { arena_strdup(a, name), line, col, line, col + 1 };
	diag_error(d, loc, "NUL byte in source");
	return false;
}

Program *parse_buffer(const char *name, const char *text, size_t len,
		      Arena *a, Diag *d)
{
	if (!check_nul(name, text, len, a, d))
		return NULL;
	return parse_string(name, text, a, d);
}

/* The file's bytes with a NUL after them; their number in *len. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap);
	size_t got;
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n - 1 == 0)
			buf = xrealloc(buf, cap *= 2);
	}
	int err = ferror(f) ? errno : 0;
	fclose(f);
	if (err) {
		free(buf);
		errno = err;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

Program *parse_file(const char *path, Arena *a, Diag *d)
{
	size_t len;
	char *text = read_file(path, &len);
	if (!text) {
		diag_plain(d, "cannot read '%s': %s", path, strerror(errno));
		return NULL;
	}
	Program *p = parse_buffer(path, text, len, a, d);
	free(text);
	return p;
}
