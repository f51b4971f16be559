/*
 * test_parser.c - grammar/parser.y through parse_string and parse_file:
 * precedence, calls, every statement kind, locations, the examples, and
 * the exact text of syntax errors. Also the diagnostic format (diag.c),
 * the tree printer (ast.c) and the arena (arena.c), each its own suite.
 *
 * Paths are relative to the project root, where the tests run.
 */
#include "nnc.h"

#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

/* One parse: the printed program and the diagnostics, both malloc'ed. */
typedef struct Parsed {
	Program *prog;
	char *tree;
	char *diag;
	int nerrors;
	Arena arena;
} Parsed;

static char *print_program(const Program *p)
{
	char *buf;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	if (p)
		ast_print_program(f, p);
	fclose(f);
	return buf;
}

static void parse(Parsed *r, const char *name, const char *text)
{
	memset(r, 0, sizeof *r);
	size_t len;
	FILE *out = open_memstream(&r->diag, &len);
	Diag d;
	diag_init(&d, out);
	if (text)
		r->prog = parse_string(name, text, &r->arena, &d);
	else
		r->prog = parse_file(name, &r->arena, &d);
	fclose(out);
	r->nerrors = d.nerrors;
	diag_free(&d);
	r->tree = print_program(r->prog);
}

static void parsed_free(Parsed *r)
{
	free(r->tree);
	free(r->diag);
	arena_free(&r->arena);
}

/* Parses `text` without errors and compares the printed program. */
static void check_tree(const char *text, const char *want)
{
	Parsed r;
	parse(&r, "t.nn", text);
	CU_ASSERT_EQUAL(r.nerrors, 0);
	CU_ASSERT_STRING_EQUAL(r.diag, "");
	CU_ASSERT_STRING_EQUAL(r.tree, want);
	if (strcmp(r.tree, want) != 0 || r.nerrors)
		fprintf(stderr, "\n--- got:\n%s%s--- want:\n%s", r.tree, r.diag,
			want);
	parsed_free(&r);
}

/* Parses `text` and compares the diagnostics exactly. */
static void check_errors(const char *text, int nerrors, const char *want)
{
	Parsed r;
	parse(&r, "t.nn", text);
	CU_ASSERT_EQUAL(r.nerrors, nerrors);
	CU_ASSERT_STRING_EQUAL(r.diag, want);
	if (strcmp(r.diag, want) != 0)
		fprintf(stderr, "\n--- got:\n%s--- want:\n%s", r.diag, want);
	parsed_free(&r);
}

static bool loc_is(Loc l, int line, int col, int end_line, int end_col)
{
	return l.line == line && l.col == col && l.end_line == end_line &&
	       l.end_col == end_col;
}

/* ------------------------------------------------------------------ */
/* parser */

static void test_precedence(void)
{
	check_tree("a = -x^2\n", "(let a (neg (^ x 2)))\n");
	check_tree("a = a+b*c\n", "(let a (+ a (* b c)))\n");
	check_tree("a = a@b+c\n", "(let a (+ (@ a b) c))\n");
	check_tree("a = a - b - c\n", "(let a (- (- a b) c))\n");
	check_tree("a = a / b * c\n", "(let a (* (/ a b) c))\n");
	check_tree("a = 2^3^4\n", "(let a (^ 2 (^ 3 4)))\n");
	check_tree("a = -a*b\n", "(let a (* (neg a) b))\n");
	check_tree("a = 2^-x\n", "(let a (^ 2 (neg x)))\n");
	check_tree("a = (a+b)*c\n", "(let a (* (+ a b) c))\n");
	check_tree("a = a < b + 1\n", "(let a (< a (+ b 1)))\n");
	check_tree("a = x <= 1 then y != 2\n",
		   "(let a (then (<= x 1) (!= y 2)))\n");
	check_tree("schedule a then b then c\n",
		   "(schedule (then (then a b) c))\n");
	check_tree("a = 1/255\n", "(let a (/ 1 255))\n");
}

static void test_comparison_is_nonassoc(void)
{
	check_errors("a = x < y < z\n", 1,
		"t.nn:1:11: error: unexpected '<', expected end of line\n"
		"    1 | a = x < y < z\n"
		"      |           ^\n");
}

static void test_calls(void)
{
	check_tree("h = dense(x, 16, init = auto)\n",
		   "(let h (call dense x 16 :init auto))\n");
	check_tree("o = adagrad()\n", "(let o (call adagrad))\n");
	check_tree("h = f(g(x), [1, 2], [], \"s\", k = [a])\n",
		   "(let h (call f (call g x) (list 1 2) (list) \"s\" "
		   ":k (list a)))\n");
	check_tree("d = csv(\"a.csv\", skip = 1, x = 0:4, y = 4)\n",
		   "(let d (call csv \"a.csv\" :skip 1 :x (slice 0 4) :y 4))\n");
	check_tree("e = early_stop(monitor = loss, restore_best = true)\n",
		   "(let e (call early_stop :monitor loss "
		   ":restore_best true))\n");
	check_tree("h = f(a,\n      b = 2)\n", "(let h (call f a :b 2))\n");
}

static void test_every_statement(void)
{
	check_tree(
		"model m\n"
		"input x[4]\n"
		"input img[1, 28, 28]\n"
		"target y[1]\n"
		"target c : class(3)\n"
		"param W1[10, 32] = he_normal\n"
		"def swish(z) = z * sigmoid(z)\n"
		"def f(a, b) = a - b\n"
		"def k() = 1\n"
		"h = relu(x)\n"
		"output h\n"
		"output p = softmax(h)\n"
		"loss = mse(p, y)\n"
		"optimizer sgd(lr = 0.5)\n"
		"schedule warmup(steps = 500) then cosine(min_lr = 1e-5)\n"
		"train {\n"
		"  data  = csv(\"a.csv\", x = 0:2, y = 2)\n"
		"  batch = 4\n"
		"  metrics = [accuracy]\n"
		"  checkpoint = \"m.ckpt\"\n"
		"}\n",
		"(model m)\n"
		"(input x [4])\n"
		"(input img [1 28 28])\n"
		"(target y [1])\n"
		"(target c (call class 3))\n"
		"(param W1 [10 32] he_normal)\n"
		"(def swish (z) (* z (call sigmoid z)))\n"
		"(def f (a b) (- a b))\n"
		"(def k () 1)\n"
		"(let h (call relu x))\n"
		"(output h)\n"
		"(output p (call softmax h))\n"
		"(loss (call mse p y))\n"
		"(optimizer (call sgd :lr 0.5))\n"
		"(schedule (then (call warmup :steps 500) "
		"(call cosine :min_lr 1e-05)))\n"
		"(train :data (call csv \"a.csv\" :x (slice 0 2) :y 2) "
		":batch 4 :metrics (list accuracy) :checkpoint \"m.ckpt\")\n");
}

static void test_train_block_forms(void)
{
	check_tree("train {}\n", "(train)\n");
	check_tree("train {\n}\n", "(train)\n");
	check_tree("train { batch = 4 }\n", "(train :batch 4)\n");
	check_tree("train {\n\n  # c\n  a = 1\n\n  b = 2 }\n",
		   "(train :a 1 :b 2)\n");
}

static void test_statement_fields(void)
{
	Parsed r;
	parse(&r, "t.nn",
	      "# header\n"
	      "model m\n"
	      "  h = relu(x @ W + b)   # comment \"q\"\n"
	      "def f(a, bb) = a\n"
	      "target y : class(3)\n"
	      "x = \"#x\" # y\n");
	CU_ASSERT_EQUAL_FATAL(r.nerrors, 0);
	Stmt *s = r.prog->stmts;
	CU_ASSERT_STRING_EQUAL(r.prog->file, "t.nn");
	CU_ASSERT_EQUAL(s->kind, S_MODEL);
	CU_ASSERT(loc_is(s->loc, 2, 1, 2, 6));
	CU_ASSERT(loc_is(s->name_loc, 2, 7, 2, 8));
	CU_ASSERT_STRING_EQUAL(s->loc.file, "t.nn");
	CU_ASSERT_STRING_EQUAL(s->text, "model m");

	s = s->next;
	CU_ASSERT_EQUAL(s->kind, S_LET);
	CU_ASSERT_STRING_EQUAL(s->name, "h");
	CU_ASSERT(loc_is(s->loc, 3, 3, 3, 4));
	CU_ASSERT(loc_is(s->name_loc, 3, 3, 3, 4));
	CU_ASSERT_STRING_EQUAL(s->text, "h = relu(x @ W + b)");
	Ast *call = s->value;
	CU_ASSERT_EQUAL(call->kind, A_CALL);
	CU_ASSERT(loc_is(call->loc, 3, 7, 3, 11));      /* the callee */
	Ast *add = call->args[0];
	CU_ASSERT_EQUAL(add->op, AOP_ADD);
	CU_ASSERT(loc_is(add->loc, 3, 18, 3, 19));      /* the '+' */
	CU_ASSERT(loc_is(add->lhs->loc, 3, 14, 3, 15)); /* the '@' */
	CU_ASSERT(loc_is(add->lhs->lhs->loc, 3, 12, 3, 13));

	s = s->next;
	CU_ASSERT_EQUAL(s->kind, S_DEF);
	CU_ASSERT_EQUAL_FATAL(s->nparams, 2);
	CU_ASSERT_STRING_EQUAL(s->params[1], "bb");
	CU_ASSERT(loc_is(s->param_locs[1], 4, 10, 4, 12));

	s = s->next;
	CU_ASSERT_EQUAL(s->kind, S_TARGET);
	CU_ASSERT(!s->has_dims);
	CU_ASSERT_EQUAL(s->cls->kind, A_CALL);
	CU_ASSERT_STRING_EQUAL(s->cls->str, "class");

	s = s->next;
	CU_ASSERT_STRING_EQUAL(s->text, "x = \"#x\"");
	CU_ASSERT_PTR_NULL(s->next);
	parsed_free(&r);
}

static void test_call_fields(void)
{
	Parsed r;
	parse(&r, "t.nn", "h = -conv2d(img, 8, kernel = 3)\n");
	CU_ASSERT_EQUAL_FATAL(r.nerrors, 0);
	Ast *neg = r.prog->stmts->value;
	CU_ASSERT_EQUAL(neg->kind, A_UNOP);
	CU_ASSERT_EQUAL(neg->op, AOP_NEG);
	CU_ASSERT(loc_is(neg->loc, 1, 5, 1, 6));
	Ast *c = neg->lhs;
	CU_ASSERT_EQUAL_FATAL(c->nargs, 2);
	CU_ASSERT_EQUAL_FATAL(c->nkw, 1);
	CU_ASSERT_STRING_EQUAL(c->kw[0].name, "kernel");
	CU_ASSERT(loc_is(c->kw[0].loc, 1, 21, 1, 27));
	CU_ASSERT_DOUBLE_EQUAL(c->kw[0].value->num, 3, 0);
	CU_ASSERT(loc_is(c->args[1]->loc, 1, 18, 1, 19));
	parsed_free(&r);
}

static void test_examples(void)
{
	static const char *const names[] = {
		"breast_cancer", "diabetes", "digits_cnn", "fashion_cnn",
		"fashion_mlp", "iris", "xor",
	};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char path[64];
		snprintf(path, sizeof path, "examples/%s.nn", names[i]);
		Parsed r;
		parse(&r, path, NULL);
		CU_ASSERT_PTR_NOT_NULL(r.prog);
		CU_ASSERT_EQUAL(r.nerrors, 0);
		if (r.nerrors)
			fprintf(stderr, "\n%s", r.diag);
		CU_ASSERT(r.prog && r.prog->stmts &&
			  r.prog->stmts->kind == S_MODEL);
		parsed_free(&r);
	}
}

static void test_cannot_read(void)
{
	Parsed r;
	parse(&r, "tests/no/such.nn", NULL);
	CU_ASSERT_PTR_NULL(r.prog);
	CU_ASSERT_EQUAL(r.nerrors, 1);
	CU_ASSERT_STRING_EQUAL(r.diag, "nnc: error: cannot read "
		"'tests/no/such.nn': No such file or directory\n");
	parsed_free(&r);
}

static void test_missing_paren(void)
{
	check_errors(
		"model xor\n"
		"h = tanh(dense(x, 8)\n"
		"yhat = sigmoid(dense(h, 1))\n"
		"output yhat\n", 1,
		"t.nn:2:21: error: unexpected end of line, expected ',' or ')'\n"
		"    2 | h = tanh(dense(x, 8)\n"
		"      |                     ^\n"
		"t.nn:2:9: note: to match this '('\n"
		"    2 | h = tanh(dense(x, 8)\n"
		"      |         ^\n");
}

static void test_recovery_keeps_statements(void)
{
	Parsed r;
	parse(&r, "t.nn",
	      "model m\n"
	      "h = relu(x\n"
	      "k = (1 +\n"
	      "      2\n"
	      "loss = f(x 1)\n"
	      "output k\n");
	CU_ASSERT_EQUAL(r.nerrors, 3);
	CU_ASSERT_STRING_EQUAL(r.tree, "(model m)\n(output k)\n");
	parsed_free(&r);
}

static void test_syntax_messages(void)
{
	check_errors("h = relu(x @ )\n", 1,
		"t.nn:1:14: error: unexpected ')', expected expression\n"
		"    1 | h = relu(x @ )\n"
		"      |              ^\n");
	check_errors("foo bar\n", 1,
		"t.nn:1:5: error: unexpected name, expected '='\n"
		"    1 | foo bar\n"
		"      |     ^~~\n");
	check_errors("model\n", 1,
		"t.nn:1:6: error: unexpected end of line, expected name\n"
		"    1 | model\n"
		"      |      ^\n");
	check_errors(") = 3\n", 1,
		"t.nn:1:1: error: unexpected ')', expected statement\n"
		"    1 | ) = 3\n"
		"      | ^\n");
	check_errors("target y\n", 1,
		"t.nn:1:9: error: unexpected end of line, expected ':' or '['\n"
		"    1 | target y\n"
		"      |         ^\n");
	check_errors("input x[2 3]\n", 1,
		"t.nn:1:11: error: unexpected number, expected ',' or ']'\n"
		"    1 | input x[2 3]\n"
		"      |           ^\n");
	check_errors("train {\n  data: 1\n", 2,
		"t.nn:2:7: error: unexpected ':', expected '='\n"
		"    2 |   data: 1\n"
		"      |       ^\n"
		"t.nn:2:10: error: unexpected end of file, expected name or '}'\n"
		"    2 |   data: 1\n"
		"      |          ^\n"
		"t.nn:1:7: note: to match this '{'\n"
		"    1 | train {\n"
		"      |       ^\n");
}

static void test_positional_after_keyword(void)
{
	check_errors("h = dense(x, init = auto, 8)\n", 1,
		"t.nn:1:27: error: positional argument after keyword "
		"argument 'init'\n"
		"    1 | h = dense(x, init = auto, 8)\n"
		"      |                           ^\n"
		"t.nn:1:14: note: positional arguments go before keyword "
		"arguments\n"
		"    1 | h = dense(x, init = auto, 8)\n"
		"      |              ^~~~\n");
}

static void test_lexer_error_not_echoed(void)
{
	check_errors("z = 1 $ 2\nw = 3\n", 1,
		"t.nn:1:7: error: unexpected character '$'\n"
		"    1 | z = 1 $ 2\n"
		"      |       ^\n");
	check_errors("d = f(\"abc, x = 1)\n  y = 2\n", 1,
		"t.nn:1:7: error: unterminated string\n"
		"    1 | d = f(\"abc, x = 1)\n"
		"      |       ^\n");
}

/* The text of a golden .err file without the driver's last line,
 * "N error(s) generated.", whose count is checked against nerrors. */
static char *golden_diag(const char *path, int nerrors)
{
	FILE *f = fopen(path, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	char *text;
	size_t len;
	FILE *out = open_memstream(&text, &len);
	int ch;
	while ((ch = fgetc(f)) != EOF)
		fputc(ch, out);
	fclose(f);
	fclose(out);
	char want[64];
	snprintf(want, sizeof want, "%d error%s generated.\n", nerrors,
		 nerrors == 1 ? "" : "s");
	size_t n = strlen(want);
	CU_ASSERT(len >= n && strcmp(text + len - n, want) == 0);
	if (len >= n && strcmp(text + len - n, want) == 0)
		text[len - n] = '\0';
	return text;
}

/* Each tests/errors/syntax_*.nn golden, as the driver prints it. */
static void test_error_goldens(void)
{
	static const char *const names[] = {
		"syntax_bad_char", "syntax_missing_brace", "syntax_missing_name",
		"syntax_missing_paren", "syntax_positional_after_keyword",
		"syntax_train_key", "syntax_two_errors",
		"syntax_unclosed_bracket", "syntax_unterminated_string",
	};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char path[128], err[128];
		snprintf(path, sizeof path, "tests/errors/%s.nn", names[i]);
		snprintf(err, sizeof err, "tests/errors/%s.err", names[i]);
		Parsed r;
		parse(&r, path, NULL);
		CU_ASSERT(r.nerrors > 0);
		char *want = golden_diag(err, r.nerrors);
		CU_ASSERT_STRING_EQUAL(r.diag, want);
		if (strcmp(r.diag, want) != 0)
			fprintf(stderr, "\n%s: got\n%s", path, r.diag);
		free(want);
		parsed_free(&r);
	}
}

/* ------------------------------------------------------------------ */
/* diag */

typedef struct Captured {
	Diag d;
	FILE *out;
	char *buf;
	size_t len;
} Captured;

static void capture(Captured *c)
{
	c->out = open_memstream(&c->buf, &c->len);
	diag_init(&c->d, c->out);
}

static char *captured(Captured *c)
{
	fclose(c->out);
	diag_free(&c->d);
	return c->buf;
}

static void test_diag_format(void)
{
	Captured c;
	capture(&c);
	diag_add_source(&c.d, "mlp.nn", "model m\n\n  h = relu(x @ W1 + b1)\r\n");
	Loc at = { "mlp.nn", 3, 14, 3, 15 };
	diag_error(&c.d, at, "shape mismatch in '%s': %s", "@", "[784] @ [128, 10]");
	Loc span = { "mlp.nn", 3, 7, 3, 11 };
	diag_note(&c.d, span, "here");
	Loc multi = { "mlp.nn", 3, 7, 4, 2 };
	diag_note(&c.d, multi, "several lines");
	char *s = captured(&c);
	CU_ASSERT_STRING_EQUAL(s,
		"mlp.nn:3:14: error: shape mismatch in '@': [784] @ [128, 10]\n"
		"    3 |   h = relu(x @ W1 + b1)\n"
		"      |              ^\n"
		"mlp.nn:3:7: note: here\n"
		"    3 |   h = relu(x @ W1 + b1)\n"
		"      |       ^~~~\n"
		"mlp.nn:3:7: note: several lines\n"
		"    3 |   h = relu(x @ W1 + b1)\n"
		"      |       ^\n");
	CU_ASSERT_EQUAL(c.d.nerrors, 1);
	free(s);
}

static void test_diag_tabs_and_unknown_source(void)
{
	Captured c;
	capture(&c);
	diag_add_source(&c.d, "t.nn", "\tx =\t1 +\n");
	Loc tab = { "t.nn", 1, 6, 1, 7 };
	diag_error(&c.d, tab, "tabbed");
	Loc unknown = { "other.nn", 2, 3, 2, 4 };
	diag_error(&c.d, unknown, "no source");
	Loc noline = { "t.nn", 0, 0, 0, 0 };
	diag_error(&c.d, noline, "no line");
	Loc past = { "t.nn", 9, 1, 9, 2 };
	diag_error(&c.d, past, "past the end");
	diag_plain(&c.d, "cannot read '%s'", "x");
	char *s = captured(&c);
	CU_ASSERT_STRING_EQUAL(s,
		"t.nn:1:6: error: tabbed\n"
		"    1 | \tx =\t1 +\n"
		"      | \t   \t^\n"
		"other.nn:2:3: error: no source\n"
		"t.nn: error: no line\n"
		"t.nn:9:1: error: past the end\n"
		"nnc: error: cannot read 'x'\n");
	CU_ASSERT_EQUAL(c.d.nerrors, 5);
	free(s);
}

static void test_diag_limit(void)
{
	Captured c;
	capture(&c);
	Loc at = { "t.nn", 1, 1, 1, 2 };
	for (int i = 1; i <= 25; i++) {
		diag_error(&c.d, at, "e%d", i);
		diag_note(&c.d, at, "n%d", i);
	}
	char *s = captured(&c);
	CU_ASSERT_EQUAL(c.d.nerrors, 25);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "t.nn:1:1: error: e20\n"
					 "t.nn:1:1: note: n20\n"
					 "nnc: too many errors, giving up\n"));
	CU_ASSERT_PTR_NULL(strstr(s, "e21"));
	CU_ASSERT_PTR_NULL(strstr(s, "n21"));
	const char *giving = strstr(s, "giving up");
	CU_ASSERT(giving && !strstr(giving + 1, "giving up"));
	free(s);
}

/* ------------------------------------------------------------------ */
/* ast and arena */

static void test_ast_print(void)
{
	Arena a = { 0 };
	Loc l = { "t.nn", 1, 1, 1, 2 };
	Ast *args[] = { ast_num(&a, l, 0.1), ast_num(&a, l, 1e-5),
			ast_num(&a, l, -30), ast_str(&a, l, "a\"b\\c\nd"),
			ast_slice(&a, l, ast_num(&a, l, 0), ast_num(&a, l, 4)) };
	Kwarg kw[] = { { "k", l, ast_list(&a, l, NULL, 0) } };
	Ast *e = ast_binop(&a, l, AOP_GE,
			   ast_call(&a, l, "f", args, 5, kw, 1),
			   ast_unop(&a, l, AOP_NEG, ast_name(&a, l, "x")));
	char *buf;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	ast_print(f, e);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(buf, "(>= (call f 0.1 1e-05 -30 \"a\\\"b\\\\c\\nd\" "
			       "(slice 0 4) :k (list)) (neg x))");
	free(buf);
	CU_ASSERT_STRING_EQUAL(ast_op_name(AOP_MATMUL), "@");
	CU_ASSERT_STRING_EQUAL(ast_op_name(AOP_NE), "!=");
	CU_ASSERT_STRING_EQUAL(ast_op_name(AOP_THEN), "then");
	arena_free(&a);
}

static void test_arena(void)
{
	Arena a = { 0 };
	char *p = arena_alloc(&a, 3);
	char *q = arena_alloc(&a, 100000); /* a block of its own */
	char *r = arena_alloc(&a, 1);
	CU_ASSERT_EQUAL((size_t)p % 16, 0);
	CU_ASSERT_EQUAL((size_t)q % 16, 0);
	CU_ASSERT_EQUAL((size_t)r % 16, 0);
	CU_ASSERT(q[0] == 0 && q[99999] == 0 && r[0] == 0);
	CU_ASSERT(r == p + 16);
	for (int i = 0; i < 10000; i++) {
		long *x = arena_alloc(&a, sizeof *x);
		CU_ASSERT_EQUAL_FATAL(*x, 0);
		*x = i;
	}
	CU_ASSERT_STRING_EQUAL(arena_strndup(&a, "abcdef", 3), "abc");
	CU_ASSERT_STRING_EQUAL(arena_strdup(&a, "xyz"), "xyz");
	CU_ASSERT_STRING_EQUAL(arena_printf(&a, "%s.%d", "h", 2), "h.2");
	arena_free(&a);
	CU_ASSERT_PTR_NULL(a.head);
	char *s = xstrdup("dup");
	CU_ASSERT_STRING_EQUAL(s, "dup");
	free(s);
}

void suite_parser(void)
{
	CU_pSuite s = CU_add_suite("parser", NULL, NULL);
	CU_add_test(s, "precedence", test_precedence);
	CU_add_test(s, "comparisons do not chain",
		    test_comparison_is_nonassoc);
	CU_add_test(s, "calls", test_calls);
	CU_add_test(s, "every statement kind", test_every_statement);
	CU_add_test(s, "train block forms", test_train_block_forms);
	CU_add_test(s, "statement fields and locations",
		    test_statement_fields);
	CU_add_test(s, "call fields and locations", test_call_fields);
	CU_add_test(s, "examples parse", test_examples);
	CU_add_test(s, "cannot read", test_cannot_read);
	CU_add_test(s, "missing paren", test_missing_paren);
	CU_add_test(s, "recovery keeps statements",
		    test_recovery_keeps_statements);
	CU_add_test(s, "syntax messages", test_syntax_messages);
	CU_add_test(s, "positional after keyword",
		    test_positional_after_keyword);
	CU_add_test(s, "lexer errors are not echoed",
		    test_lexer_error_not_echoed);
	CU_add_test(s, "error goldens", test_error_goldens);

	s = CU_add_suite("diag", NULL, NULL);
	CU_add_test(s, "format", test_diag_format);
	CU_add_test(s, "tabs and unknown source",
		    test_diag_tabs_and_unknown_source);
	CU_add_test(s, "error limit", test_diag_limit);

	s = CU_add_suite("ast and arena", NULL, NULL);
	CU_add_test(s, "ast_print", test_ast_print);
	CU_add_test(s, "arena", test_arena);
}
