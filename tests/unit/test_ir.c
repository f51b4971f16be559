/*
 * test_ir.c - the IR core: shapes and broadcasting, the shape rules of
 * ops.c called directly on hand-made nodes, graph construction, replace
 * and compact, the stable topological sort and the printed text form.
 */
#include "unit.h"

#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

/* Whether s prints as `want`; shows both when not. */
static bool shape_is(Shape s, const char *want)
{
	char buf[64];
	shape_str(s, buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		fprintf(stderr, "\nshape %s, expected %s\n", buf, want);
	return strcmp(buf, want) == 0;
}

/* A node's inputs: an array that lives as long as the enclosing block. */
#define INS(...) ((Node *[]){__VA_ARGS__})

/* A node made by hand, not through ir_node, so that its shape rule can
 * be asked about operands that ir_node would refuse. */
static Node hand(OpKind op, Node **in, Shape out)
{
	Node n = {0};
	n.op = op;
	n.nin = op_info[op].nin;
	n.in = in;
	n.shape = out;
	return n;
}

static Node leaf(Shape s)
{
	Node n = {0};
	n.op = OP_INPUT;
	n.shape = s;
	return n;
}

/* ---- shapes ------------------------------------------------------------- */

static void test_shape_basics(void)
{
	CU_ASSERT_TRUE(shape_is(s3(true, 4, 3, 2), "[B, 4, 3, 2]"));
	CU_ASSERT_TRUE(shape_is(s1(false, 7), "[7]"));
	CU_ASSERT_TRUE(shape_is(s0(true), "[B]"));
	CU_ASSERT_TRUE(shape_is(s0(false), "[]"));
	char buf[64];
	CU_ASSERT_STRING_EQUAL(shape_user_str(s2(true, 4, 3), buf, 64),
			       "[4, 3]");
	CU_ASSERT_EQUAL(shape_numel(s3(true, 4, 3, 2)), 24);
	CU_ASSERT_EQUAL(shape_numel(s0(true)), 1);
	CU_ASSERT_TRUE(shape_eq(s2(false, 4, 3), s2(false, 4, 3)));
	CU_ASSERT_FALSE(shape_eq(s2(false, 4, 3), s2(true, 4, 3)));
	CU_ASSERT_FALSE(shape_eq(s2(false, 4, 3), s2(false, 3, 4)));
	CU_ASSERT_FALSE(shape_eq(s1(false, 3), s2(false, 1, 3)));
}

static void test_shape_broadcast(void)
{
	Shape r;
	CU_ASSERT_TRUE(shape_broadcast(s2(false, 4, 3), s1(false, 3), &r));
	CU_ASSERT_TRUE(shape_is(r, "[4, 3]"));
	CU_ASSERT_TRUE(shape_broadcast(s1(false, 3), s2(true, 4, 1), &r));
	CU_ASSERT_TRUE(shape_is(r, "[B, 4, 3]"));
	CU_ASSERT_TRUE(shape_broadcast(s0(false), s1(true, 5), &r));
	CU_ASSERT_TRUE(shape_is(r, "[B, 5]"));
	CU_ASSERT_TRUE(shape_broadcast(s0(true), s0(false), &r));
	CU_ASSERT_TRUE(shape_is(r, "[B]"));
	CU_ASSERT_TRUE(shape_broadcast(s2(false, 1, 3), s2(false, 4, 1), &r));
	CU_ASSERT_TRUE(shape_is(r, "[4, 3]"));
	CU_ASSERT_FALSE(shape_broadcast(s1(false, 4), s1(false, 3), &r));
	CU_ASSERT_FALSE(shape_broadcast(s2(true, 2, 3), s2(false, 4, 3), &r));

	CU_ASSERT_TRUE(shape_broadcasts_to(s1(false, 3), s3(true, 2, 4, 3)));
	CU_ASSERT_TRUE(shape_broadcasts_to(s0(false), s1(true, 3)));
	CU_ASSERT_TRUE(shape_broadcasts_to(s2(true, 4, 1), s2(true, 4, 3)));
	CU_ASSERT_FALSE(shape_broadcasts_to(s1(true, 3), s1(false, 3)));
	CU_ASSERT_FALSE(shape_broadcasts_to(s2(false, 4, 3), s1(false, 3)));
	CU_ASSERT_FALSE(shape_broadcasts_to(s1(false, 3), s1(false, 1)));
}

/* ---- shape rules, called directly --------------------------------------- */

static void test_rule_elementwise(void)
{
	char msg[256] = "";
	Node a = leaf(s1(true, 4)), b = leaf(s1(false, 3));
	Node n = hand(OP_ADD, INS(&a, &b), s0(false));
	CU_ASSERT_FALSE(op_info[OP_ADD].shape(&n, msg, sizeof(msg)));
	CU_ASSERT_STRING_EQUAL(msg, "cannot broadcast [B, 4] with [3]");

	Node c = leaf(s2(false, 2, 1));
	b = leaf(s1(false, 4));
	n = hand(OP_MUL, INS(&b, &c), s0(false));
	CU_ASSERT_TRUE(op_info[OP_MUL].shape(&n, msg, sizeof(msg)));
	CU_ASSERT_TRUE(shape_is(n.shape, "[2, 4]"));

	n = hand(OP_RELU, INS(&a), s0(false));
	CU_ASSERT_TRUE(op_info[OP_RELU].shape(&n, msg, sizeof(msg)));
	CU_ASSERT_TRUE(shape_is(n.shape, "[B, 4]"));

	Node k = leaf(s1(false, 3));
	n = hand(OP_WHERE, INS(&k, &a, &b), s0(false));
	CU_ASSERT_FALSE(op_info[OP_WHERE].shape(&n, msg, sizeof(msg)));
	CU_ASSERT_STRING_EQUAL(msg,
			       "condition [3] does not broadcast with [B, 4]");
}

static Node mm(Node **in, bool ta, bool tb, int ca, int cb, Shape out)
{
	Node n = hand(OP_MATMUL, in, out);
	n.attr.matmul = (Attr_matmul){ta, tb, ca, cb};
	return n;
}

static void test_rule_matmul(void)
{
	char msg[256] = "";
	Node x = leaf(s1(true, 4)), w = leaf(s2(false, 4, 3));
	Node n = mm(INS(&x, &w), 0, 0, 4, 3, s1(true, 3));
	CU_ASSERT_TRUE(op_info[OP_MATMUL].shape(&n, msg, sizeof(msg)));

	Node w5 = leaf(s2(false, 5, 3));
	n = mm(INS(&x, &w5), 0, 0, 4, 3, s1(true, 3));
	CU_ASSERT_FALSE(op_info[OP_MATMUL].shape(&n, msg, sizeof(msg)));
	CU_ASSERT_STRING_EQUAL(msg, "inner dimensions differ: [B, 4] @ [5, 3]");

	n = mm(INS(&x, &w), 0, 0, 3, 3, s1(true, 3));
	CU_ASSERT_FALSE(op_info[OP_MATMUL].shape(&n, msg, sizeof(msg)));
	CU_ASSERT_STRING_EQUAL(msg, "operand 0 [B, 4] has no 3 columns");

	n = mm(INS(&x, &w), 0, 0, 4, 3, s1(false, 3));
	CU_ASSERT_FALSE(op_info[OP_MATMUL].shape(&n, msg, sizeof(msg)));
	CU_ASSERT_STRING_EQUAL(msg, "result [3] is not [1, 3]");

	/* dW = x^T @ dy: [4, B] @ [B, 3] -> [4, 3], unbatched */
	Node dy = leaf(s1(true, 3));
	n = mm(INS(&x, &dy), 1, 0, 4, 3, s2(false, 4, 3));
	CU_ASSERT_TRUE(op_info[OP_MATMUL].shape(&n, msg, sizeof(msg)));
	Dim m, k, nn;
	mm_dims(&n, &m, &k, &nn);
	CU_ASSERT(m.c == 4 && !m.b && k.c == 1 && k.b && nn.c == 3 && !nn.b);

	/* [2, 4] @ x^T would make the batch dimension a result column */
	Node v = leaf(s2(false, 2, 4));
	n = mm(INS(&v, &x), 0, 1, 4, 4, s1(false, 2));
	CU_ASSERT_FALSE(op_info[OP_MATMUL].shape(&n, msg, sizeof(msg)));
	CU_ASSERT_STRING_EQUAL(msg,
			       "the batch dimension cannot be a result column");
}

static void test_rule_shape_ops(void)
{
	char msg[256] = "";
	Node x = leaf(s2(true, 4, 3));
	Node n = hand(OP_SUM_TO, INS(&x), s1(false, 3));
	CU_ASSERT_TRUE(op_info[OP_SUM_TO].shape(&n, msg, sizeof(msg)));
	n = hand(OP_SUM_TO, INS(&x), s1(false, 4));
	CU_ASSERT_FALSE(op_info[OP_SUM_TO].shape(&n, msg, sizeof(msg)));
	CU_ASSERT_STRING_EQUAL(msg, "[B, 4, 3] does not sum to [4]");

	Node b = leaf(s1(false, 3));
	n = hand(OP_BROADCAST, INS(&b), s2(true, 4, 3));
	CU_ASSERT_TRUE(op_info[OP_BROADCAST].shape(&n, msg, sizeof(msg)));
	n = hand(OP_BROADCAST, INS(&x), s1(true, 3));
	CU_ASSERT_FALSE(op_info[OP_BROADCAST].shape(&n, msg, sizeof(msg)));
	CU_ASSERT_STRING_EQUAL(msg, "[B, 4, 3] does not broadcast to [B, 3]");

	n = hand(OP_RESHAPE, INS(&x), s1(true, 12));
	CU_ASSERT_TRUE(op_info[OP_RESHAPE].shape(&n, msg, sizeof(msg)));
	n = hand(OP_RESHAPE, INS(&x), s1(false, 12));
	CU_ASSERT_FALSE(op_info[OP_RESHAPE].shape(&n, msg, sizeof(msg)));
	CU_ASSERT_STRING_EQUAL(msg, "cannot reshape [B, 4, 3] to [12]");

	Node y = leaf(s0(true));
	n = hand(OP_ONEHOT, INS(&y), s0(false));
	n.attr.onehot.k = 10;
	CU_ASSERT_TRUE(op_info[OP_ONEHOT].shape(&n, msg, sizeof(msg)));
	CU_ASSERT_TRUE(shape_is(n.shape, "[B, 10]"));
	n = hand(OP_ONEHOT, INS(&x), s0(false));
	CU_ASSERT_FALSE(op_info[OP_ONEHOT].shape(&n, msg, sizeof(msg)));
	CU_ASSERT_STRING_EQUAL(msg,
			       "onehot of [B, 4, 3]: expected a per-sample scalar");
}

/* ---- the op table ------------------------------------------------------- */

/* Elementwise ops, and only they, have math; kernels have an emitter. The
 * math evaluates in double as written in ops.def. */
static void test_op_table(void)
{
	for (int op = 0; op < OP_COUNT; op++) {
		const OpInfo *info = &op_info[op];
		CU_ASSERT_EQUAL(info->cls == OK_ELEMWISE, info->math != NULL);
		CU_ASSERT_EQUAL(info->cls == OK_KERNEL, info->emit != NULL);
	}
	CU_ASSERT_STRING_EQUAL(op_info[OP_SIGMOID].math, "1 / (1 + exp(-X(0)))");
	CU_ASSERT_STRING_EQUAL(op_info[OP_WHERE].math,
			       "(X(0) != 0 ? X(1) : X(2))");
	CU_ASSERT_EQUAL(op_eval(OP_WHERE, (double[]){0, 1, 2}), 2);
	CU_ASSERT_EQUAL(op_eval(OP_SUB, (double[]){5, 7}), -2);
	CU_ASSERT_EQUAL(op_eval(OP_LE, (double[]){7, 7}), 1);
	CU_ASSERT_EQUAL(op_eval(OP_RELU, (double[]){-3}), 0);
	CU_ASSERT_EQUAL(op_eval(OP_BCE, (double[]){0, 1}), 100);
	/* tests/regress/nan_loss_fails.sh's bug: bce's clamp of log at -100
	 * once turned a NaN probability into a finite loss; op_eval compiles
	 * the same MATH expression as the emitted C */
	CU_ASSERT(isnan(op_eval(OP_BCE, (double[]){NAN, 1})));
	CU_ASSERT(isnan(op_eval(OP_BCE, (double[]){NAN, 0})));
	CU_ASSERT_DOUBLE_EQUAL(op_eval(OP_SIGMOID, (double[]){0}), 0.5, 0);
	CU_ASSERT_EQUAL(op_eval(OP_MAX, (double[]){1, -2}), 1);
	CU_ASSERT_EQUAL(op_eval(OP_SOFTPLUS, (double[]){20.5}), 20.5);
	/* the stable form: finite for any logit */
	CU_ASSERT_EQUAL(op_eval(OP_BCE_LOGITS, (double[]){1000, 0}), 1000);
	CU_ASSERT_EQUAL(op_eval(OP_BCE_LOGITS, (double[]){-1000, 0}), 0);
	CU_ASSERT_DOUBLE_EQUAL(op_eval(OP_BCE_LOGITS, (double[]){0, 1}),
			       0.69314718055994531, 1e-16);
	CU_ASSERT_DOUBLE_EQUAL(op_eval(OP_SOFTPLUS, (double[]){0}),
			       0.69314718055994531, 1e-16);
	CU_ASSERT_EQUAL(op_eval(OP_LEAKY_RELU, (double[]){-2, 0.25}), -0.5);
	CU_ASSERT_EQUAL(op_eval(OP_ELU, (double[]){0, 2}), 0);
	CU_ASSERT_EQUAL(op_eval(OP_ELU, (double[]){3, 2}), 3);
	CU_ASSERT_EQUAL(op_eval(OP_MIN, (double[]){1, -2}), -2);
	CU_ASSERT_EQUAL(op_eval(OP_CLAMP, (double[]){-3, -1, 2}), -1);
	CU_ASSERT_EQUAL(op_eval(OP_CLAMP, (double[]){3, -1, 2}), 2);
	CU_ASSERT_EQUAL(op_eval(OP_CLAMP, (double[]){0.5, -1, 2}), 0.5);
}

/* ---- graphs ------------------------------------------------------------- */

static void test_build(void)
{
	Graph *g = ir_new();
	Node *x = ir_input(g, "x", 0, s1(true, 4));
	Node *w = ir_param(g, "h.W", 0, s2(false, 4, 3));
	Node *b = ir_param(g, "h.b", 1, s1(false, 3));
	Node *h = ir_matmul(g, x, w, false, false, 4, 3, s1(true, 3));
	Node *a = ir_op2(g, OP_ADD, h, b);
	Node *r = ir_op1(g, OP_RELU, a);
	CU_ASSERT_EQUAL(g->nnodes, 6);
	CU_ASSERT_PTR_EQUAL(g->nodes[5], r);
	CU_ASSERT_TRUE(shape_is(a->shape, "[B, 3]"));
	CU_ASSERT_EQUAL(r->group, -1);
	CU_ASSERT_EQUAL(ir_info(a)->cls, OK_ELEMWISE);
	CU_ASSERT_EQUAL(ir_info(h)->cls, OK_KERNEL);
	/* shape ops to the same shape build nothing */
	CU_ASSERT_PTR_EQUAL(ir_sum_to(g, a, a->shape), a);
	CU_ASSERT_PTR_EQUAL(ir_broadcast(g, a, a->shape), a);
	CU_ASSERT_PTR_EQUAL(ir_reshape(g, a, a->shape), a);
	CU_ASSERT_EQUAL(g->nnodes, 6);
	Node *k = ir_const(g, 2);
	CU_ASSERT_TRUE(ir_is_const(k, 2));
	CU_ASSERT_FALSE(ir_is_const(k, 3));
	CU_ASSERT_FALSE(ir_is_const(x, 0));
	CU_ASSERT_TRUE(shape_is(k->shape, "[]"));
	ir_add_root(g, ROOT_OUTPUT, "out:h", 0, r);
	ir_verify(g);
	ir_count_uses(g);
	CU_ASSERT_EQUAL(r->nuses, 1);
	CU_ASSERT_EQUAL(k->nuses, 0);
	CU_ASSERT_EQUAL(x->nuses, 1);
	ir_free(g);
}

/* Nodes own their input arrays; ir_like keeps op and attributes. */
static void test_constructors(void)
{
	Graph *g = ir_new();
	Node *x = ir_input(g, "x", 0, s1(true, 4));
	Node *w = ir_param(g, "W", 0, s2(false, 2, 4));
	Node *v = ir_param(g, "V", 1, s2(false, 2, 4));
	Node *in[2] = {x, x};
	Node *sq = ir_node(g, OP_MUL, 2, in);
	in[1] = w;
	CU_ASSERT_PTR_EQUAL(sq->in[1], x);
	Node *m = ir_matmul(g, x, w, false, true, 4, 4, s1(true, 2));
	in[1] = v;
	Node *mv = ir_like(g, m, 2, in);
	CU_ASSERT_EQUAL(mv->op, OP_MATMUL);
	CU_ASSERT(!mv->attr.matmul.ta && mv->attr.matmul.tb);
	CU_ASSERT(mv->attr.matmul.ca == 4 && mv->attr.matmul.cb == 4);
	CU_ASSERT_PTR_EQUAL(mv->in[1], v);
	CU_ASSERT_TRUE(shape_is(mv->shape, "[B, 2]"));
	CU_ASSERT_TRUE(ir_nin_ok(OP_WHERE, 3));
	CU_ASSERT_FALSE(ir_nin_ok(OP_WHERE, 2));
	CU_ASSERT_TRUE(ir_nin_ok(OP_CONST, 0));
	ir_verify(g);
	ir_free(g);
}

static void test_print(void)
{
	Graph *g = ir_new();
	Node *x = ir_input(g, "x", 0, s1(true, 4));
	Node *w = ir_param(g, "W", 0, s2(false, 4, 2));
	g->cur_loc.line = 3;
	Node *h = ir_matmul(g, x, w, false, false, 4, 2, s1(true, 2));
	Node *k = ir_const(g, 0.5);
	Node *m = ir_op2(g, OP_MUL, h, k);
	Node *y = ir_input(g, "y", 1, s0(true));
	Node *o = ir_onehot(g, y, 2);
	g->cur_loc.line = 4;
	Node *s = ir_sum_to(g, ir_op2(g, OP_SUB, m, o), s0(false));
	ir_add_root(g, ROOT_LOSS, "loss", 0, s);
	ir_add_root(g, ROOT_GRAD, "grad:W", 0, NULL);
	ir_verify(g);
	CU_ASSERT(ir_text_is(g,
		"  %0 = input x : [B, 4]\n"
		"  %1 = param W : [4, 2]\n"
		"  %2 = matmul %0, %1 ta=0 tb=0 ca=4 cb=2 : [B, 2]  ; line 3\n"
		"  %3 = const 0.5 : []  ; line 3\n"
		"  %4 = mul %2, %3 : [B, 2]  ; line 3\n"
		"  %5 = input y : [B]  ; line 3\n"
		"  %6 = onehot %5 k=2 : [B, 2]  ; line 3\n"
		"  %7 = sub %4, %6 : [B, 2]  ; line 4\n"
		"  %8 = sum_to %7 : []  ; line 4\n"
		"  root loss = %8\n"
		"  root grad:W = zero\n"));
	m->group = 0;
	m->keep = true;
	k->attr.constant.value = 0.1;
	CU_ASSERT(ir_text_is(g,
		"  %0 = input x : [B, 4]\n"
		"  %1 = param W : [4, 2]\n"
		"  %2 = matmul %0, %1 ta=0 tb=0 ca=4 cb=2 : [B, 2]  ; line 3\n"
		"  %3 = const 0.10000000000000001 : []  ; line 3\n"
		"  %4 = mul %2, %3 : [B, 2] group=0*  ; line 3\n"
		"  %5 = input y : [B]  ; line 3\n"
		"  %6 = onehot %5 k=2 : [B, 2]  ; line 3\n"
		"  %7 = sub %4, %6 : [B, 2]  ; line 4\n"
		"  %8 = sum_to %7 : []  ; line 4\n"
		"  root loss = %8\n"
		"  root grad:W = zero\n"));
	ir_free(g);
}

static void test_replace_compact(void)
{
	Graph *g = ir_new();
	Node *x = ir_input(g, "x", 0, s1(true, 3));
	Node *a = ir_op1(g, OP_EXP, x);
	Node *b = ir_op1(g, OP_EXP, x);
	Node *c = ir_op2(g, OP_ADD, a, b);
	ir_add_root(g, ROOT_OUTPUT, "out:b", 0, b);
	ir_add_root(g, ROOT_OUTPUT, "out:c", 1, c);
	ir_replace(g, b, a);
	CU_ASSERT_TRUE(b->dead);
	CU_ASSERT_PTR_EQUAL(c->in[1], a);
	CU_ASSERT_PTR_EQUAL(g->roots[0].node, a);
	ir_compact(g);
	ir_verify(g);
	CU_ASSERT_EQUAL(g->nnodes, 3);
	CU_ASSERT_EQUAL(a->nuses, 3);
	CU_ASSERT(ir_text_is(g,
		"  %0 = input x : [B, 3]\n"
		"  %1 = exp %0 : [B, 3]\n"
		"  %2 = add %1, %1 : [B, 3]\n"
		"  root out:b = %1\n"
		"  root out:c = %2\n"));
	ir_free(g);
}

/* Nodes appended after their users move up to just before the first
 * user; the rest keep their order. */
static void test_toposort(void)
{
	Graph *g = ir_new();
	Node *x = ir_input(g, "x", 0, s1(true, 3));
	Node *e = ir_op1(g, OP_EXP, x);
	Node *t = ir_op1(g, OP_TANH, e);
	Node *r = ir_op1(g, OP_RELU, t);
	Node *k = ir_const(g, 2);
	Node *m = ir_op2(g, OP_MUL, x, k);
	ir_add_root(g, ROOT_OUTPUT, "out", 0, r);
	char *before = ir_text(g);
	ir_toposort(g);
	CU_ASSERT(ir_text_is(g, before));
	free(before);
	/* tanh now reads m, built after it */
	t->in[0] = m;
	ir_toposort(g);
	ir_verify(g);
	CU_ASSERT(ir_text_is(g,
		"  %0 = input x : [B, 3]\n"
		"  %1 = exp %0 : [B, 3]\n"
		"  %2 = const 2 : []\n"
		"  %3 = mul %0, %2 : [B, 3]\n"
		"  %4 = tanh %3 : [B, 3]\n"
		"  %5 = relu %4 : [B, 3]\n"
		"  root out = %5\n"));
	CU_ASSERT_PTR_EQUAL(g->nodes[1], e);
	ir_free(g);
}

void suite_ir(void)
{
	CU_pSuite s = CU_add_suite("ir", NULL, NULL);
	CU_add_test(s, "shape basics", test_shape_basics);
	CU_add_test(s, "shape broadcast", test_shape_broadcast);
	CU_add_test(s, "elementwise shape rules", test_rule_elementwise);
	CU_add_test(s, "matmul shape rule", test_rule_matmul);
	CU_add_test(s, "sum_to, broadcast, reshape, onehot", test_rule_shape_ops);
	CU_add_test(s, "op table and math", test_op_table);
	CU_add_test(s, "build", test_build);
	CU_add_test(s, "constructors", test_constructors);
	CU_add_test(s, "print", test_print);
	CU_add_test(s, "replace and compact", test_replace_compact);
	CU_add_test(s, "toposort", test_toposort);
}
