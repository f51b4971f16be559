/*
 * test_passes.c - simplify, constfold, cse, dce and fuse, each on a small
 * graph: the printed IR after the pass is compared with the exact text
 * expected, and ir_verify() must accept the result.
 */
#include "unit.h"

#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

/* Verifies g and compares its text form with `want`. */
static bool ir_is(Graph *g, const char *want)
{
	ir_verify(g);
	return ir_text_is(g, want);
}

static Node *in(Graph *g, const char *name, int index, Shape s)
{
	return ir_input(g, name, index, s);
}

static Node *op1(Graph *g, OpKind op, Node *a)
{
	return ir_op1(g, op, a);
}

static Node *op2(Graph *g, OpKind op, Node *a, Node *b)
{
	return ir_op2(g, op, a, b);
}

static void root(Graph *g, const char *name, Node *n)
{
	ir_add_root(g, ROOT_OUTPUT, name, g->nroots, n);
}

/* ---- simplify ----------------------------------------------------------- */

static void test_simplify_identities(void)
{
	Graph *g = ir_new();
	Node *x = in(g, "x", 0, s1(true, 4));
	Node *z = ir_const(g, 0), *o = ir_const(g, 1);
	Node *e = op2(g, OP_ADD, x, z);
	e = op2(g, OP_MUL, o, e);
	e = op2(g, OP_SUB, e, z);
	e = op2(g, OP_DIV, e, o);
	e = op2(g, OP_POW, e, o);
	e = op2(g, OP_ADD, z, e);
	e = op2(g, OP_MUL, e, o);
	root(g, "out", e);
	simplify(g);
	CU_ASSERT(ir_is(g,
		"  %0 = input x : [B, 4]\n"
		"  %1 = const 0 : []\n"
		"  %2 = const 1 : []\n"
		"  root out = %0\n"));
	ir_free(g);
}

/* x * 0 keeps x's shape: a scalar zero is broadcast unless the product
 * is an unbatched scalar itself. */
static void test_simplify_zeros(void)
{
	Graph *g = ir_new();
	Node *x = in(g, "x", 0, s1(true, 4));
	Node *p = ir_param(g, "p", 0, s0(false));
	Node *z = ir_const(g, 0);
	Node *m1 = op2(g, OP_MUL, x, z);
	Node *m2 = op2(g, OP_MUL, z, p);
	Node *a = op2(g, OP_ADD, m1, x);
	root(g, "m1", m1);
	root(g, "m2", m2);
	root(g, "a", a);
	simplify(g);
	CU_ASSERT(ir_is(g,
		"  %0 = input x : [B, 4]\n"
		"  %1 = param p : []\n"
		"  %2 = const 0 : []\n"
		"  %3 = broadcast %2 : [B, 4]\n"
		"  root m1 = %3\n"
		"  root m2 = %2\n"
		"  root a = %0\n"));
	ir_free(g);
}

static void test_simplify_signs(void)
{
	Graph *g = ir_new();
	Node *a = in(g, "a", 0, s1(true, 3));
	Node *b = in(g, "b", 1, s1(true, 3));
	Node *nb = op1(g, OP_NEG, b);
	root(g, "--a", op1(g, OP_NEG, op1(g, OP_NEG, a)));
	root(g, "0-b", op2(g, OP_SUB, ir_const(g, 0), b));
	root(g, "a--b", op2(g, OP_SUB, a, nb));
	root(g, "a+-b", op2(g, OP_ADD, a, nb));
	root(g, "-b+a", op2(g, OP_ADD, nb, a));
	root(g, "-a*-b", op2(g, OP_MUL, op1(g, OP_NEG, a), nb));
	root(g, "a*-1", op2(g, OP_MUL, a, ir_const(g, -1)));
	simplify(g);
	CU_ASSERT(ir_is(g,
		"  %0 = input a : [B, 3]\n"
		"  %1 = input b : [B, 3]\n"
		"  %2 = neg %1 : [B, 3]\n"
		"  %3 = neg %0 : [B, 3]\n"
		"  %4 = const 0 : []\n"
		"  %5 = neg %0 : [B, 3]\n"
		"  %6 = const -1 : []\n"
		"  %7 = neg %1 : [B, 3]\n"
		"  %8 = add %0, %1 : [B, 3]\n"
		"  %9 = sub %0, %1 : [B, 3]\n"
		"  %10 = sub %0, %1 : [B, 3]\n"
		"  %11 = mul %0, %1 : [B, 3]\n"
		"  %12 = neg %0 : [B, 3]\n"
		"  root --a = %0\n"
		"  root 0-b = %7\n"
		"  root a--b = %8\n"
		"  root a+-b = %9\n"
		"  root -b+a = %10\n"
		"  root -a*-b = %11\n"
		"  root a*-1 = %12\n"));
	ir_free(g);
}

/* A negated factor moves out of a product only when the product has no
 * other use, so that the sign disappears into the product's user. The
 * products left unused (%4 to %7) are dce's to remove. */
static void test_simplify_absorb(void)
{
	Graph *g = ir_new();
	Node *x = in(g, "x", 0, s1(true, 3));
	Node *y = in(g, "y", 1, s1(true, 3));
	Node *a = in(g, "a", 2, s1(true, 3));
	Node *ny = op1(g, OP_NEG, y);
	root(g, "a+x*-y", op2(g, OP_ADD, a, op2(g, OP_MUL, x, ny)));
	root(g, "a-x/-y", op2(g, OP_SUB, a, op2(g, OP_DIV, x, ny)));
	root(g, "-(-y*x)", op1(g, OP_NEG, op2(g, OP_MUL, ny, x)));
	root(g, "-(x-y)", op1(g, OP_NEG, op2(g, OP_SUB, x, y)));
	Node *shared = op2(g, OP_MUL, x, ny);
	root(g, "shared", shared);
	root(g, "a+shared", op2(g, OP_ADD, a, shared));
	simplify(g);
	CU_ASSERT(ir_is(g,
		"  %0 = input x : [B, 3]\n"
		"  %1 = input y : [B, 3]\n"
		"  %2 = input a : [B, 3]\n"
		"  %3 = neg %1 : [B, 3]\n"
		"  %4 = mul %0, %3 : [B, 3]\n"
		"  %5 = div %0, %3 : [B, 3]\n"
		"  %6 = mul %3, %0 : [B, 3]\n"
		"  %7 = sub %0, %1 : [B, 3]\n"
		"  %8 = mul %0, %3 : [B, 3]\n"
		"  %9 = add %2, %8 : [B, 3]\n"
		"  %10 = mul %0, %1 : [B, 3]\n"
		"  %11 = sub %2, %10 : [B, 3]\n"
		"  %12 = div %0, %1 : [B, 3]\n"
		"  %13 = add %2, %12 : [B, 3]\n"
		"  %14 = mul %1, %0 : [B, 3]\n"
		"  %15 = sub %1, %0 : [B, 3]\n"
		"  root a+x*-y = %11\n"
		"  root a-x/-y = %13\n"
		"  root -(-y*x) = %14\n"
		"  root -(x-y) = %15\n"
		"  root shared = %8\n"
		"  root a+shared = %9\n"));
	ir_free(g);
}

static void test_simplify_pow(void)
{
	Graph *g = ir_new();
	Node *x = in(g, "x", 0, s1(true, 3));
	g->cur_loc.line = 7;
	root(g, "x^2", op2(g, OP_POW, x, ir_const(g, 2)));
	g->cur_loc.line = 8;
	root(g, "x^0", op2(g, OP_POW, x, ir_const(g, 0)));
	root(g, "x^3", op2(g, OP_POW, x, ir_const(g, 3)));
	g->cur_loc.line = 0;
	simplify(g);
	CU_ASSERT(ir_is(g,
		"  %0 = input x : [B, 3]\n"
		"  %1 = const 2 : []  ; line 7\n"
		"  %2 = const 0 : []  ; line 8\n"
		"  %3 = const 3 : []  ; line 8\n"
		"  %4 = pow %0, %3 : [B, 3]  ; line 8\n"
		"  %5 = mul %0, %0 : [B, 3]  ; line 7\n"
		"  %6 = const 1 : []  ; line 8\n"
		"  %7 = broadcast %6 : [B, 3]  ; line 8\n"
		"  root x^2 = %5\n"
		"  root x^0 = %7\n"
		"  root x^3 = %4\n"));
	CU_ASSERT_EQUAL(g->cur_loc.line, 0);
	ir_free(g);
}

/* Summing or broadcasting over size-1 dimensions is a reshape; a reshaped
 * broadcast of one value is a broadcast (so it still fuses). */
static void test_simplify_unit_dims(void)
{
	Graph *g = ir_new();
	Node *x = in(g, "x", 0, s2(true, 1, 3));
	Node *c = in(g, "c", 1, s0(false));
	root(g, "sum", ir_sum_to(g, x, s1(true, 3)));
	root(g, "bc", ir_broadcast(g, x, s3(true, 1, 1, 3)));
	root(g, "rb", ir_reshape(g, ir_broadcast(g, c, s0(true)), s1(true, 1)));
	simplify(g);
	CU_ASSERT(ir_is(g,
		"  %0 = input x : [B, 1, 3]\n"
		"  %1 = input c : []\n"
		"  %2 = broadcast %1 : [B]\n"	/* dead: dce's job */
		"  %3 = reshape %0 : [B, 3]\n"
		"  %4 = reshape %0 : [B, 1, 1, 3]\n"
		"  %5 = broadcast %1 : [B, 1]\n"
		"  root sum = %3\n"
		"  root bc = %4\n"
		"  root rb = %5\n"));
	ir_free(g);
}

static void test_simplify_shape_ops(void)
{
	Graph *g = ir_new();
	Node *x = in(g, "x", 0, s2(true, 4, 3));
	Node *p = ir_param(g, "p", 0, s1(false, 3));
	Node *r = ir_reshape(g, x, s1(true, 12));
	root(g, "back", ir_reshape(g, r, x->shape));
	root(g, "rr", ir_reshape(g, r, s2(true, 2, 6)));
	Node *b = ir_broadcast(g, p, s2(false, 4, 3));
	root(g, "bb", ir_broadcast(g, b, s3(true, 2, 4, 3)));
	Node *s = ir_sum_to(g, x, s2(false, 4, 3));
	root(g, "ss", ir_sum_to(g, s, s1(false, 3)));
	/* the inner sum is needed anyway; summing away its size-1
	 * dimension moves nothing: a reshape */
	Node *s43 = ir_sum_to(g, x, s2(true, 1, 3));
	root(g, "s43", s43);
	root(g, "s43s", ir_sum_to(g, s43, s1(true, 3)));
	/* a sum_to left with its input's shape by an earlier rewrite */
	Node *same = ir_sum_to(g, x, s1(false, 3));
	same->in[0] = p;
	root(g, "same", same);
	simplify(g);
	CU_ASSERT(ir_is(g,
		"  %0 = input x : [B, 4, 3]\n"
		"  %1 = param p : [3]\n"
		"  %2 = reshape %0 : [B, 12]\n"
		"  %3 = broadcast %1 : [4, 3]\n"
		"  %4 = sum_to %0 : [4, 3]\n"
		"  %5 = sum_to %0 : [B, 1, 3]\n"
		"  %6 = reshape %0 : [B, 2, 6]\n"
		"  %7 = broadcast %1 : [B, 2, 4, 3]\n"
		"  %8 = sum_to %0 : [3]\n"
		"  %9 = reshape %5 : [B, 3]\n"
		"  root back = %0\n"
		"  root rr = %6\n"
		"  root bb = %7\n"
		"  root ss = %8\n"
		"  root s43 = %5\n"
		"  root s43s = %9\n"
		"  root same = %1\n"));
	ir_free(g);
}

/* A root never changes shape: p + broadcast(0) is p broadcast back. */
static void test_simplify_where_and_roots(void)
{
	Graph *g = ir_new();
	Node *x = in(g, "x", 0, s1(true, 3));
	Node *p = ir_param(g, "p", 0, s1(false, 3));
	Node *c = op2(g, OP_GT, x, ir_const(g, 0));
	Node *one = ir_const(g, 1), *zero = ir_const(g, 0);
	root(g, "w1", ir_op3(g, OP_WHERE, one, p, x));
	root(g, "w0", ir_op3(g, OP_WHERE, zero, p, x));
	root(g, "waa", ir_op3(g, OP_WHERE, c, x, x));
	root(g, "wc", ir_op3(g, OP_WHERE, c, p, x));
	Node *bz = ir_broadcast(g, zero, s1(true, 3));
	root(g, "p+0", op2(g, OP_ADD, p, bz));
	simplify(g);
	CU_ASSERT(ir_is(g,
		"  %0 = input x : [B, 3]\n"
		"  %1 = param p : [3]\n"
		"  %2 = const 0 : []\n"
		"  %3 = gt %0, %2 : [B, 3]\n"
		"  %4 = const 1 : []\n"
		"  %5 = const 0 : []\n"
		"  %6 = where %3, %1, %0 : [B, 3]\n"
		"  %7 = broadcast %5 : [B, 3]\n"
		"  %8 = broadcast %1 : [B, 3]\n"
		"  %9 = broadcast %1 : [B, 3]\n"
		"  root w1 = %8\n"
		"  root w0 = %0\n"
		"  root waa = %0\n"
		"  root wc = %6\n"
		"  root p+0 = %9\n"));
	ir_free(g);
}

/* Elementwise ops broadcast by themselves: an explicit broadcast goes
 * when the result keeps its shape, and a unary op moves before one. */
static void test_simplify_broadcasts(void)
{
	Graph *g = ir_new();
	Node *x = in(g, "x", 0, s1(true, 3));
	Node *s = in(g, "s", 1, s0(true));
	Node *p = ir_param(g, "p", 0, s0(false));
	root(g, "bs*x", op2(g, OP_MUL, ir_broadcast(g, s, x->shape), x));
	Node *bp = ir_broadcast(g, p, s0(true));
	root(g, "-bp", op1(g, OP_NEG, bp));
	root(g, "bp+s", op2(g, OP_ADD, ir_broadcast(g, p, x->shape), s));
	Node *shared = ir_broadcast(g, p, s1(false, 3));
	root(g, "shared", shared);
	root(g, "exp shared", op1(g, OP_EXP, shared));
	simplify(g);
	CU_ASSERT(ir_is(g,
		"  %0 = input x : [B, 3]\n"
		"  %1 = input s : [B]\n"
		"  %2 = param p : []\n"
		"  %3 = broadcast %1 : [B, 3]\n"
		"  %4 = broadcast %2 : [B]\n"
		"  %5 = broadcast %2 : [B, 3]\n"
		"  %6 = add %5, %1 : [B, 3]\n"
		"  %7 = broadcast %2 : [3]\n"
		"  %8 = exp %7 : [3]\n"
		"  %9 = mul %1, %0 : [B, 3]\n"
		"  %10 = neg %2 : []\n"
		"  %11 = broadcast %10 : [B]\n"
		"  root bs*x = %9\n"
		"  root -bp = %11\n"
		"  root bp+s = %6\n"
		"  root shared = %7\n"
		"  root exp shared = %8\n"));
	ir_free(g);
}

static void test_simplify_nothing_to_do(void)
{
	Graph *g = ir_new();
	Node *x = in(g, "x", 0, s1(true, 3));
	Node *e = op2(g, OP_SUB, op1(g, OP_EXP, x), ir_const(g, 2));
	root(g, "out", op2(g, OP_MUL, e, e));
	char *before = ir_text(g);
	simplify(g);
	CU_ASSERT(ir_is(g, before));
	free(before);
	ir_free(g);
}

/* ---- constfold ---------------------------------------------------------- */

static void test_constfold(void)
{
	Graph *g = ir_new();
	Node *k2 = ir_const(g, 2), *k3 = ir_const(g, 3);
	Node *sum = op2(g, OP_ADD, k2, k3);
	Node *half = op1(g, OP_SIGMOID, ir_const(g, 0));
	Node *t = op2(g, OP_MUL, sum, half);
	root(g, "t", t);
	root(g, "where", ir_op3(g, OP_WHERE, op2(g, OP_LT, k2, k3), k2, k3));
	root(g, "relu", op1(g, OP_RELU, op1(g, OP_NEG, k3)));
	root(g, "pow", op2(g, OP_POW, k2, ir_const(g, 10)));
	root(g, "max", op2(g, OP_MAX, k2, k3));
	root(g, "log0", op1(g, OP_LOG, ir_const(g, 0)));
	root(g, "bcast", ir_broadcast(g, k2, s1(false, 3)));
	Node *x = in(g, "x", 0, s0(true));
	root(g, "batched", op2(g, OP_MUL, x, t));
	constfold(g);
	CU_ASSERT(ir_is(g,
		"  %0 = const 2 : []\n"
		"  %1 = const 3 : []\n"
		"  %2 = const 5 : []\n"
		"  %3 = const 0 : []\n"
		"  %4 = const 0.5 : []\n"
		"  %5 = const 2.5 : []\n"
		"  %6 = const 1 : []\n"
		"  %7 = const 2 : []\n"
		"  %8 = const -3 : []\n"
		"  %9 = const 0 : []\n"
		"  %10 = const 10 : []\n"
		"  %11 = const 1024 : []\n"
		"  %12 = const 3 : []\n"
		"  %13 = const 0 : []\n"
		"  %14 = log %13 : []\n"
		"  %15 = broadcast %0 : [3]\n"
		"  %16 = input x : [B]\n"
		"  %17 = mul %16, %5 : [B]\n"
		"  root t = %5\n"
		"  root where = %7\n"
		"  root relu = %9\n"
		"  root pow = %11\n"
		"  root max = %12\n"
		"  root log0 = %14\n"
		"  root bcast = %15\n"
		"  root batched = %17\n"));
	CU_ASSERT_EQUAL(g->nodes[5]->nin, 0);
	CU_ASSERT_EQUAL(g->nodes[2]->nuses, 0);
	CU_ASSERT_EQUAL(g->nodes[5]->nuses, 2);
	ir_free(g);
}

/* ---- cse ---------------------------------------------------------------- */

static void test_cse(void)
{
	Graph *g = ir_new();
	Node *x = in(g, "x", 0, s1(true, 3)), *x2 = in(g, "x", 0, s1(true, 3));
	Node *y = in(g, "y", 1, s1(true, 3));
	Node *w = ir_param(g, "W", 0, s1(false, 3));
	Node *w2 = ir_param(g, "W", 0, s1(false, 3));
	Node *c1 = ir_const(g, 1), *c1b = ir_const(g, 1);
	Node *z = ir_const(g, 0), *nz = ir_const(g, -0.0);
	Node *bs = ir_batchsize(g), *bs2 = ir_batchsize(g);
	Node *a1 = op2(g, OP_ADD, x, w), *a2 = op2(g, OP_ADD, w2, x2);
	root(g, "m1", op2(g, OP_MUL, op1(g, OP_RELU, a1), c1));
	root(g, "m2", op2(g, OP_MUL, op1(g, OP_RELU, a2), c1b));
	root(g, "s1", op2(g, OP_SUB, x, w));
	root(g, "s2", op2(g, OP_SUB, w2, x2));
	root(g, "y", op2(g, OP_ADD, y, w));
	root(g, "z", op2(g, OP_ADD, z, bs));
	root(g, "nz", op2(g, OP_ADD, nz, bs2));
	root(g, "none", NULL);
	cse(g);
	CU_ASSERT(ir_is(g,
		"  %0 = input x : [B, 3]\n"
		"  %1 = input y : [B, 3]\n"
		"  %2 = param W : [3]\n"
		"  %3 = const 1 : []\n"
		"  %4 = const 0 : []\n"
		"  %5 = const -0 : []\n"
		"  %6 = batchsize : []\n"
		"  %7 = add %0, %2 : [B, 3]\n"
		"  %8 = relu %7 : [B, 3]\n"
		"  %9 = mul %8, %3 : [B, 3]\n"
		"  %10 = sub %0, %2 : [B, 3]\n"
		"  %11 = sub %2, %0 : [B, 3]\n"
		"  %12 = add %1, %2 : [B, 3]\n"
		"  %13 = add %4, %6 : []\n"
		"  %14 = add %5, %6 : []\n"
		"  root m1 = %9\n"
		"  root m2 = %9\n"
		"  root s1 = %10\n"
		"  root s2 = %11\n"
		"  root y = %12\n"
		"  root z = %13\n"
		"  root nz = %14\n"
		"  root none = zero\n"));
	CU_ASSERT_EQUAL(g->nodes[9]->nuses, 2);
	ir_free(g);
}

/* Attributes, shapes and names tell nodes apart. */
static void test_cse_distinct(void)
{
	Graph *g = ir_new();
	Node *x = in(g, "x", 0, s1(true, 4));
	Node *t = in(g, "t", 1, s1(true, 4));
	Node *w = ir_param(g, "W", 0, s2(false, 4, 4));
	Node *v = ir_param(g, "V", 1, s2(false, 4, 4));
	root(g, "xw", ir_matmul(g, x, w, false, false, 4, 4, s1(true, 4)));
	root(g, "xwt", ir_matmul(g, x, w, false, true, 4, 4, s1(true, 4)));
	root(g, "xv", ir_matmul(g, x, v, false, false, 4, 4, s1(true, 4)));
	root(g, "s4", ir_sum_to(g, x, s1(false, 4)));
	root(g, "s1", ir_sum_to(g, x, s1(false, 1)));
	root(g, "xw2", ir_matmul(g, x, w, false, false, 4, 4, s1(true, 4)));
	root(g, "t", t);
	cse(g);
	CU_ASSERT(ir_is(g,
		"  %0 = input x : [B, 4]\n"
		"  %1 = input t : [B, 4]\n"
		"  %2 = param W : [4, 4]\n"
		"  %3 = param V : [4, 4]\n"
		"  %4 = matmul %0, %2 ta=0 tb=0 ca=4 cb=4 : [B, 4]\n"
		"  %5 = matmul %0, %2 ta=0 tb=1 ca=4 cb=4 : [B, 4]\n"
		"  %6 = matmul %0, %3 ta=0 tb=0 ca=4 cb=4 : [B, 4]\n"
		"  %7 = sum_to %0 : [4]\n"
		"  %8 = sum_to %0 : [1]\n"
		"  root xw = %4\n"
		"  root xwt = %5\n"
		"  root xv = %6\n"
		"  root s4 = %7\n"
		"  root s1 = %8\n"
		"  root xw2 = %4\n"
		"  root t = %1\n"));
	ir_free(g);
}

/* Two dropout masks of one shape and probability are never merged (they
 * are impure), even with the same stream; the scheduler places a kernel
 * with no inputs. */
static void test_impure_masks(void)
{
	Graph *g = ir_new();
	Node *x = in(g, "x", 0, s1(true, 4));
	Node *m1 = ir_dropmask(g, s1(true, 4), 0.5, 0);
	Node *m2 = ir_dropmask(g, s1(true, 4), 0.5, 0);
	root(g, "a", op2(g, OP_MUL, x, m1));
	root(g, "b", op2(g, OP_MUL, x, m2));
	cse(g);
	dce(g);
	fuse(g);
	CU_ASSERT(ir_is(g,
		"  %0 = input x : [B, 4]\n"
		"  %1 = dropmask p=0.5 stream=0 : [B, 4]\n"
		"  %2 = dropmask p=0.5 stream=0 : [B, 4]\n"
		"  %3 = mul %0, %1 : [B, 4] group=0*\n"
		"  %4 = mul %0, %2 : [B, 4] group=0*\n"
		"  root a = %3\n"
		"  root b = %4\n"));
	ir_free(g);
}

/* ---- dce ---------------------------------------------------------------- */

static void test_dce(void)
{
	Graph *g = ir_new();
	Node *x = in(g, "x", 0, s1(true, 3));
	ir_param(g, "unused", 0, s1(false, 3));
	Node *e = op1(g, OP_EXP, x);
	op1(g, OP_TANH, e);
	Node *k = ir_const(g, 2);
	op2(g, OP_MUL, op1(g, OP_RELU, e), k);
	root(g, "e", op2(g, OP_ADD, e, k));
	root(g, "none", NULL);
	dce(g);
	CU_ASSERT(ir_is(g,
		"  %0 = input x : [B, 3]\n"
		"  %1 = exp %0 : [B, 3]\n"
		"  %2 = const 2 : []\n"
		"  %3 = add %1, %2 : [B, 3]\n"
		"  root e = %3\n"
		"  root none = zero\n"));
	CU_ASSERT_EQUAL(g->nodes[1]->nuses, 1);
	ir_free(g);
}

/* ---- fuse --------------------------------------------------------------- */

/* matmul -> add bias -> relu -> mul: the matmul is a kernel, the three
 * elementwise ops one loop; only the last is stored. */
static void test_fuse_dense(void)
{
	Graph *g = ir_new();
	Node *x = in(g, "x", 0, s1(true, 4));
	Node *w = ir_param(g, "W", 0, s2(false, 4, 16));
	Node *b = ir_param(g, "b", 1, s1(false, 16));
	Node *h = ir_matmul(g, x, w, false, false, 4, 16, s1(true, 16));
	Node *a = op2(g, OP_ADD, h, b);
	Node *r = op1(g, OP_RELU, a);
	Node *m = op2(g, OP_MUL, r, ir_const(g, 2));
	root(g, "out", m);
	fuse(g);
	CU_ASSERT(ir_is(g,
		"  %0 = input x : [B, 4]\n"
		"  %1 = param W : [4, 16]\n"
		"  %2 = param b : [16]\n"
		"  %3 = const 2 : []\n"
		"  %4 = matmul %0, %1 ta=0 tb=0 ca=4 cb=16 : [B, 16]\n"
		"  %5 = add %4, %2 : [B, 16] group=0\n"
		"  %6 = relu %5 : [B, 16] group=0\n"
		"  %7 = mul %6, %3 : [B, 16] group=0*\n"
		"  root out = %7\n"));
	CU_ASSERT(h->group == -1 && a->group == 0 && r->group == 0 &&
		  m->group == 0);
	CU_ASSERT(!h->keep && !a->keep && !r->keep && m->keep);
	CU_ASSERT(x->group == -1 && w->group == -1 && b->group == -1);
	ir_free(g);
}

/* cross_entropy as lower.c writes it, -sum_last(t * log_softmax(z)),
 * becomes one softmax_xent(z, t), whose derivative is one
 * softmax_xent_dx(z, t, dy) kernel; with log_softmax used elsewhere too, nothing changes. */
static Node *xent_graph(Graph *g, bool shared)
{
	Node *z = in(g, "z", 0, s1(true, 3));
	Node *t = ir_onehot(g, in(g, "y", 1, s0(true)), 3);
	Node *ls = op1(g, OP_LOGSOFTMAX, z);
	Node *l = op1(g, OP_NEG, ir_sum_to(g, op2(g, OP_MUL, t, ls), s0(true)));
	root(g, "loss", l);
	if (shared)
		root(g, "ls", ls);
	return l;
}

static void test_fuse_ops_xent(void)
{
	Graph *g = ir_new();
	xent_graph(g, false);
	fuse_ops(g);
	CU_ASSERT(ir_is(g,
		"  %0 = input z : [B, 3]\n"
		"  %1 = input y : [B]\n"
		"  %2 = onehot %1 k=3 : [B, 3]\n"
		"  %3 = softmax_xent %0, %2 : [B]\n"
		"  root loss = %3\n"));
	Node *x = g->roots[0].node;
	Node *dz = op_info[x->op].grad(g, x, in(g, "dy", 0, s0(true)), 0);
	CU_ASSERT(dz->op == OP_SOFTMAX_XENT_DX && dz->in[0] == x->in[0] &&
		  dz->in[1] == x->in[1] && shape_eq(dz->shape, x->in[0]->shape));
	ir_free(g);
	g = ir_new();
	xent_graph(g, true);
	int before = g->nnodes;
	fuse_ops(g);
	CU_ASSERT(g->nnodes == before && g->roots[0].node->op == OP_NEG);
	ir_free(g);
}

/* Kernels and shape changes end a group; a member read by another group,
 * a kernel or a root is kept. */
static void test_fuse_groups(void)
{
	Graph *g = ir_new();
	Node *x = in(g, "x", 0, s1(true, 4));
	Node *a = op1(g, OP_NEG, x);
	Node *b = op1(g, OP_EXP, a);
	Node *s = op1(g, OP_SOFTMAX, b);
	Node *c = op2(g, OP_MUL, s, ir_const(g, 2));
	Node *d = ir_sum_to(g, c, s1(true, 1));
	Node *e = op2(g, OP_ADD, d, ir_const(g, 1));
	Node *f = op2(g, OP_MUL, e, c);
	Node *r = ir_reshape(g, f, s2(true, 2, 2));
	Node *t = op1(g, OP_TANH, r);
	root(g, "t", t);
	root(g, "a", a);
	fuse(g);
	CU_ASSERT(ir_is(g,
		"  %0 = input x : [B, 4]\n"
		"  %1 = const 2 : []\n"
		"  %2 = const 1 : []\n"
		"  %3 = neg %0 : [B, 4] group=0*\n"
		"  %4 = exp %3 : [B, 4] group=0*\n"
		"  %5 = softmax %4 : [B, 4]\n"
		"  %6 = mul %5, %1 : [B, 4] group=1*\n"
		"  %7 = sum_to %6 : [B, 1]\n"
		"  %8 = add %7, %2 : [B, 1] group=2*\n"
		"  %9 = mul %8, %6 : [B, 4] group=3*\n"
		"  %10 = reshape %9 : [B, 2, 2]\n"
		"  %11 = tanh %10 : [B, 2, 2] group=4*\n"
		"  root t = %11\n"
		"  root a = %3\n"));
	CU_ASSERT(!s->keep && !d->keep && !r->keep && s->group == -1);
	CU_ASSERT(b->keep && c->keep && e->keep && f->keep);
	ir_free(g);
}

/* A group never outgrows the emitter's kernel: KMAX members, KMAX
 * operands read from memory. */
static void test_fuse_limits(void)
{
	Graph *g = ir_new();
	Node *x = in(g, "x", 0, s1(true, 4));
	Node *chain[KMAX + 8];
	Node *e = x;
	for (int i = 0; i < KMAX + 8; i++)
		e = chain[i] = op1(g, OP_TANH, e);
	root(g, "chain", e);
	/* another shape, so that the sums start a group of their own */
	Node *sum[KMAX + 8], *acc = in(g, "z", 2, s1(true, 5));
	for (int i = 0; i < KMAX + 8; i++)
		acc = sum[i] = op2(g, OP_ADD, acc, in(g, "y", i, s1(true, 5)));
	root(g, "sum", acc);
	fuse(g);
	ir_verify(g);
	for (int i = 0; i < KMAX + 8; i++) {
		CU_ASSERT_EQUAL(chain[i]->group, i < KMAX ? 0 : 1);
		CU_ASSERT_EQUAL(chain[i]->keep, i == KMAX - 1 || i == KMAX + 7);
	}
	/* z and y0 ... y30 fill group 2; y31 opens group 3 */
	for (int i = 0; i < KMAX + 8; i++) {
		CU_ASSERT_EQUAL(sum[i]->group, i < KMAX - 1 ? 2 : 3);
		CU_ASSERT_EQUAL(sum[i]->keep, i == KMAX - 2 || i == KMAX + 7);
	}
	ir_free(g);
}

/* ---- all passes, in the pipeline's order -------------------------------- */

/*
 * loss = sum(relu(x * w)) per sample, with d loss / d w built by the
 * derivative rules of ops.c: sum_to(broadcast(broadcast(1)) * (r > 0) * x),
 * r = relu(z). simplify drops the multiplication by ones, dce the ones
 * themselves, and fuse moves the mask and product up into the forward's
 * loop (they are ready as soon as r is), ahead of the loss's sum. With
 * back set (autodiff's nodes), the mask reads only values stored anyway
 * (r, read by the sum; x), so it stays in a backward loop of its own,
 * which also sums the product over the batch: the product itself is not
 * stored.
 */
static void pipeline(bool back)
{
	Graph *g = ir_new();
	Node *x = in(g, "x", 0, s1(true, 3));
	Node *w = ir_param(g, "w", 0, s1(false, 3));
	Node *z = op2(g, OP_MUL, x, w);
	Node *r = op1(g, OP_RELU, z);
	Node *l = ir_sum_to(g, r, s0(true));
	ir_add_root(g, ROOT_SAMPLE_LOSS, "loss", 0, l);
	Node *dl = ir_broadcast(g, ir_const(g, 1), l->shape);
	Node *dr = op_info[OP_SUM_TO].grad(g, l, dl, 0);
	int first = g->nnodes;
	Node *dz = op_info[OP_RELU].grad(g, r, dr, 0);
	Node *dw = op_info[OP_MUL].grad(g, z, dz, 1);
	for (int i = first; i < g->nnodes; i++)
		g->nodes[i]->backward = back;
	ir_add_root(g, ROOT_GRAD, "grad:w", 0, dw);
	simplify(g);
	ir_verify(g);
	constfold(g);
	ir_verify(g);
	cse(g);
	ir_verify(g);
	dce(g);
	ir_verify(g);
	fuse(g);
	if (!back) {
		CU_ASSERT(ir_is(g,
			"  %0 = input x : [B, 3]\n"
			"  %1 = param w : [3]\n"
			"  %2 = const 0 : []\n"
			"  %3 = mul %0, %1 : [B, 3] group=0\n"
			"  %4 = relu %3 : [B, 3] group=0*\n"
			"  %5 = gt %4, %2 : [B, 3] group=0\n"
			"  %6 = mul %5, %0 : [B, 3] group=0*\n"
			"  %7 = sum_to %4 : [B]\n"
			"  %8 = sum_to %6 : [3]\n"
			"  root loss = %7\n"
			"  root grad:w = %8\n"));
	} else {
		CU_ASSERT(ir_is(g,
			"  %0 = input x : [B, 3]\n"
			"  %1 = param w : [3]\n"
			"  %2 = const 0 : []\n"
			"  %3 = mul %0, %1 : [B, 3] group=0\n"
			"  %4 = relu %3 : [B, 3] group=0*\n"
			"  %5 = sum_to %4 : [B]\n"
			"  %6 = gt %4, %2 : [B, 3] group=1\n"
			"  %7 = mul %6, %0 : [B, 3] group=1\n"
			"  %8 = sum_to %7 : [3] group=1*\n"
			"  root loss = %5\n"
			"  root grad:w = %8\n"));
	}
	ir_free(g);
}

static void test_pipeline(void)
{
	pipeline(false);
}

static void test_pipeline_backward(void)
{
	pipeline(true);
}

void suite_passes(void)
{
	CU_pSuite s = CU_add_suite("passes", NULL, NULL);
	CU_add_test(s, "simplify identities", test_simplify_identities);
	CU_add_test(s, "simplify zeros", test_simplify_zeros);
	CU_add_test(s, "simplify signs", test_simplify_signs);
	CU_add_test(s, "simplify sign absorption", test_simplify_absorb);
	CU_add_test(s, "simplify pow", test_simplify_pow);
	CU_add_test(s, "simplify shape ops", test_simplify_shape_ops);
	CU_add_test(s, "simplify size-1 dimensions", test_simplify_unit_dims);
	CU_add_test(s, "simplify where, root shapes",
		    test_simplify_where_and_roots);
	CU_add_test(s, "simplify broadcasts", test_simplify_broadcasts);
	CU_add_test(s, "simplify leaves others alone",
		    test_simplify_nothing_to_do);
	CU_add_test(s, "constfold", test_constfold);
	CU_add_test(s, "cse", test_cse);
	CU_add_test(s, "cse keeps distinct nodes", test_cse_distinct);
	CU_add_test(s, "impure masks: cse and fuse", test_impure_masks);
	CU_add_test(s, "dce", test_dce);
	CU_add_test(s, "fuse matmul bias relu mul", test_fuse_dense);
	CU_add_test(s, "fuse_ops: cross_entropy to softmax_xent", test_fuse_ops_xent);
	CU_add_test(s, "fuse groups and keep", test_fuse_groups);
	CU_add_test(s, "fuse respects kernel limits", test_fuse_limits);
	CU_add_test(s, "all passes", test_pipeline);
	CU_add_test(s, "all passes, backward nodes", test_pipeline_backward);
}
