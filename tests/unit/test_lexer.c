/*
 * test_lexer.c - the tokens of grammar/lexer.l: kinds, values, locations,
 * newlines inside brackets, comments, numbers, strings and lexical
 * errors (their diagnostics captured through a memory stream).
 */
#include "nnc.h"
#include "parser.h"

#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

enum { MAXTOK = 64 };

/* One scanned input: its tokens and what the diagnostics printed. */
typedef struct Scan {
	int kind[MAXTOK];
	NNSTYPE val[MAXTOK];
	Loc loc[MAXTOK];
	int n;              /* tokens before the end of file */
	Loc eof;
	char *diag;         /* diagnostic output, malloc'ed */
	int nerrors;
	Arena arena;
} Scan;

static void scan(Scan *s, const char *text)
{
	memset(s, 0, sizeof *s);
	size_t len;
	FILE *out = open_memstream(&s->diag, &len);
	Diag d;
	diag_init(&d, out);
	diag_add_source(&d, "t.nn", text);
	ParseCtx c;
	lex_begin(&c, "t.nn", text, &s->arena, &d);
	for (;;) {
		NNSTYPE v;
		Loc loc;
		int k = lex_token(&c, &v, &loc);
		if (k == NNEOF || s->n == MAXTOK) {
			s->eof = loc;
			break;
		}
		s->kind[s->n] = k;
		s->val[s->n] = v;
		s->loc[s->n++] = loc;
	}
	lex_end(&c);
	fclose(out);
	s->nerrors = d.nerrors;
	diag_free(&d);
}

static void scan_free(Scan *s)
{
	free(s->diag);
	arena_free(&s->arena);
}

/* The token kinds match `want`, which ends with NNEOF. */
static bool kinds_are(const Scan *s, const int *want)
{
	int i = 0;
	for (; want[i] != NNEOF; i++)
		if (i >= s->n || s->kind[i] != want[i])
			return false;
	return i == s->n;
}

static bool loc_is(Loc l, int line, int col, int end_line, int end_col)
{
	return l.line == line && l.col == col && l.end_line == end_line &&
	       l.end_col == end_col && l.file && strcmp(l.file, "t.nn") == 0;
}

static void test_tokens_and_locations(void)
{
	Scan s;
	scan(&s, "model xor\ninput  x[2, 16]\n");
	int want[] = { MODEL, IDENT, NEWLINE, INPUT, IDENT, '[', NUMBER, ',',
		       NUMBER, ']', NEWLINE, NNEOF };
	CU_ASSERT(kinds_are(&s, want));
	CU_ASSERT_EQUAL(s.nerrors, 0);
	CU_ASSERT(loc_is(s.loc[0], 1, 1, 1, 6));
	CU_ASSERT(loc_is(s.loc[1], 1, 7, 1, 10));
	CU_ASSERT_STRING_EQUAL(s.val[1].str, "xor");
	CU_ASSERT(loc_is(s.loc[2], 1, 10, 1, 11));  /* the '\n' itself */
	CU_ASSERT(loc_is(s.loc[3], 2, 1, 2, 6));
	CU_ASSERT(loc_is(s.loc[4], 2, 8, 2, 9));
	CU_ASSERT(loc_is(s.loc[5], 2, 9, 2, 10));
	CU_ASSERT(loc_is(s.loc[8], 2, 13, 2, 15));
	CU_ASSERT_DOUBLE_EQUAL(s.val[8].num, 16, 0);
	CU_ASSERT(loc_is(s.loc[10], 2, 16, 2, 17));
	scan_free(&s);
}

static void test_keywords_and_operators(void)
{
	Scan s;
	scan(&s, "model input target param def output loss optimizer "
		 "schedule train then models _x1\n"
		 "( ) [ ] { } , = : + - * / ^ @ < <= > >= == !=\n");
	int want[] = { MODEL, INPUT, TARGET, PARAM, DEF, OUTPUT, LOSS,
		       OPTIMIZER, SCHEDULE, TRAIN, THEN, IDENT, IDENT, NEWLINE,
		       '(', ')', '[', ']', '{', '}', ',', '=', ':', '+', '-',
		       '*', '/', '^', '@', '<', LE, '>', GE, EQ, NE, NEWLINE,
		       NNEOF };
	CU_ASSERT(kinds_are(&s, want));
	CU_ASSERT_STRING_EQUAL(s.val[11].str, "models");
	CU_ASSERT_STRING_EQUAL(s.val[12].str, "_x1");
	CU_ASSERT(loc_is(s.loc[30], 2, 33, 2, 35)); /* "<=" */
	CU_ASSERT_EQUAL(s.nerrors, 0);
	scan_free(&s);
}

static void test_numbers(void)
{
	Scan s;
	scan(&s, "3 0.5 .5 1e-3 2.5E+4 1. 7e2 0");
	double want[] = { 3, 0.5, 0.5, 1e-3, 2.5e4, 1, 700, 0 };
	CU_ASSERT_EQUAL(s.n, 9); /* and the final NEWLINE */
	for (int i = 0; i < 8 && i < s.n; i++) {
		CU_ASSERT_EQUAL(s.kind[i], NUMBER);
		CU_ASSERT_DOUBLE_EQUAL(s.val[i].num, want[i], 0);
	}
	CU_ASSERT(loc_is(s.loc[3], 1, 10, 1, 14));
	CU_ASSERT_EQUAL(s.nerrors, 0);
	scan_free(&s);
}

static void test_malformed_number(void)
{
	Scan s;
	scan(&s, "a = 1e + 2x\n");
	CU_ASSERT_EQUAL(s.nerrors, 2);
	CU_ASSERT_STRING_EQUAL(s.diag,
		"t.nn:1:5: error: malformed number '1e'\n"
		"    1 | a = 1e + 2x\n"
		"      |     ^~\n"
		"t.nn:1:10: error: malformed number '2x'\n"
		"    1 | a = 1e + 2x\n"
		"      |          ^~\n");
	int want[] = { IDENT, '=', NUMBER, '+', NUMBER, NEWLINE, NNEOF };
	CU_ASSERT(kinds_are(&s, want));
	scan_free(&s);
}

static void test_newlines_inside_brackets(void)
{
	Scan s;
	scan(&s, "h = f(a,\n      b)\nl = [1,\n 2]\ntrain {\n  k = 1\n}\n");
	int want[] = { IDENT, '=', IDENT, '(', IDENT, ',', IDENT, ')', NEWLINE,
		       IDENT, '=', '[', NUMBER, ',', NUMBER, ']', NEWLINE,
		       TRAIN, '{', NEWLINE, IDENT, '=', NUMBER, NEWLINE, '}',
		       NEWLINE, NNEOF };
	CU_ASSERT(kinds_are(&s, want));
	CU_ASSERT(loc_is(s.loc[6], 2, 7, 2, 8));
	CU_ASSERT(loc_is(s.loc[8], 2, 9, 2, 10));
	scan_free(&s);
}

static void test_comments_and_blank_lines(void)
{
	Scan s;
	scan(&s, "# heading\n\n  # more\nmodel m   # trailing\n\n\n"
		 "   \t\n# between\n\nloss # x\n# the end");
	int want[] = { MODEL, IDENT, NEWLINE, LOSS, NEWLINE, NNEOF };
	CU_ASSERT(kinds_are(&s, want));
	CU_ASSERT(loc_is(s.loc[0], 4, 1, 4, 6));
	CU_ASSERT(loc_is(s.loc[2], 4, 21, 4, 22));
	CU_ASSERT(loc_is(s.loc[3], 10, 1, 10, 5));
	CU_ASSERT_EQUAL(s.nerrors, 0);
	scan_free(&s);
}

static void test_final_newline(void)
{
	Scan s;
	scan(&s, "model m");
	int want[] = { MODEL, IDENT, NEWLINE, NNEOF };
	CU_ASSERT(kinds_are(&s, want));
	CU_ASSERT(loc_is(s.loc[2], 1, 8, 1, 8));
	scan_free(&s);

	scan(&s, "");
	CU_ASSERT_EQUAL(s.n, 0);
	scan_free(&s);

	scan(&s, "# only a comment\n\n");
	CU_ASSERT_EQUAL(s.n, 0);
	scan_free(&s);
}

static void test_strings(void)
{
	Scan s;
	scan(&s, "p = \"a/b.csv\" \"q\\\"x\\\\y\\nz\" \"\"\n");
	int want[] = { IDENT, '=', STRING, STRING, STRING, NEWLINE, NNEOF };
	CU_ASSERT(kinds_are(&s, want));
	CU_ASSERT_STRING_EQUAL(s.val[2].str, "a/b.csv");
	CU_ASSERT_STRING_EQUAL(s.val[3].str, "q\"x\\y\nz");
	CU_ASSERT_STRING_EQUAL(s.val[4].str, "");
	CU_ASSERT(loc_is(s.loc[2], 1, 5, 1, 14));
	CU_ASSERT_EQUAL(s.nerrors, 0);
	scan_free(&s);
}

static void test_unterminated_string(void)
{
	Scan s;
	scan(&s, "x = \"abc\ny = 1\n");
	CU_ASSERT_EQUAL(s.nerrors, 1);
	CU_ASSERT_STRING_EQUAL(s.diag,
		"t.nn:1:5: error: unterminated string\n"
		"    1 | x = \"abc\n"
		"      |     ^\n");
	int want[] = { IDENT, '=', STRING, NEWLINE, IDENT, '=', NUMBER,
		       NEWLINE, NNEOF };
	CU_ASSERT(kinds_are(&s, want));
	CU_ASSERT_STRING_EQUAL(s.val[2].str, "abc");
	scan_free(&s);

	scan(&s, "x = \"abc\\");   /* at the end of the file */
	CU_ASSERT_EQUAL(s.nerrors, 1);
	CU_ASSERT_STRING_EQUAL(s.diag,
		"t.nn:1:5: error: unterminated string\n"
		"    1 | x = \"abc\\\n"
		"      |     ^\n");
	int want2[] = { IDENT, '=', STRING, NEWLINE, NNEOF };
	CU_ASSERT(kinds_are(&s, want2));
	scan_free(&s);
}

static void test_bad_escape(void)
{
	Scan s;
	scan(&s, "\"a\\tb\"");
	CU_ASSERT_EQUAL(s.nerrors, 1);
	CU_ASSERT_STRING_EQUAL(s.diag,
		"t.nn:1:3: error: unknown escape sequence '\\t'\n"
		"    1 | \"a\\tb\"\n"
		"      |   ^~\n");
	scan_free(&s);
}

static void test_unexpected_character(void)
{
	Scan s;
	scan(&s, "a $ b;\n\tc ! d\n");
	int want[] = { IDENT, IDENT, NEWLINE, IDENT, IDENT, NEWLINE, NNEOF };
	CU_ASSERT(kinds_are(&s, want));
	CU_ASSERT_EQUAL(s.nerrors, 3);
	CU_ASSERT_STRING_EQUAL(s.diag,
		"t.nn:1:3: error: unexpected character '$'\n"
		"    1 | a $ b;\n"
		"      |   ^\n"
		"t.nn:1:6: error: unexpected character ';'\n"
		"    1 | a $ b;\n"
		"      |      ^\n"
		"t.nn:2:4: error: unexpected character '!'\n"
		"    2 | \tc ! d\n"
		"      | \t  ^\n");
	scan_free(&s);
}

static void test_unclosed_bracket_at_eof(void)
{
	Scan s;
	scan(&s, "f(a,\n");
	/* no NEWLINE inside the bracket, not even at the end */
	int want[] = { IDENT, '(', IDENT, ',', NNEOF };
	CU_ASSERT(kinds_are(&s, want));
	CU_ASSERT(loc_is(s.eof, 1, 5, 1, 6));
	scan_free(&s);
}

void suite_lexer(void)
{
	CU_pSuite s = CU_add_suite("lexer", NULL, NULL);
	CU_add_test(s, "tokens and locations", test_tokens_and_locations);
	CU_add_test(s, "keywords and operators", test_keywords_and_operators);
	CU_add_test(s, "numbers", test_numbers);
	CU_add_test(s, "malformed number", test_malformed_number);
	CU_add_test(s, "newlines inside brackets",
		    test_newlines_inside_brackets);
	CU_add_test(s, "comments and blank lines",
		    test_comments_and_blank_lines);
	CU_add_test(s, "final newline", test_final_newline);
	CU_add_test(s, "strings", test_strings);
	CU_add_test(s, "unterminated string", test_unterminated_string);
	CU_add_test(s, "bad escape", test_bad_escape);
	CU_add_test(s, "unexpected character", test_unexpected_character);
	CU_add_test(s, "unclosed bracket at end of file",
		    test_unclosed_bracket_at_eof);
}
