/*
 * test_autodiff.c - reverse mode on small hand-built graphs whose
 * derivatives are known; the gradient IR is compared as text after the
 * cleanup passes (simplify, cse, dce), so each expected text can be read
 * as the formula it computes.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

static Model *model_with(int n, Shape *shapes)
{
	Model *m = xcalloc(1, sizeof(*m));
	m->tensors = xcalloc(n, sizeof(Tensor));
	m->ntensors = n;
	for (int i = 0; i < n; i++) {
		m->tensors[i].shape = shapes[i];
		m->tensors[i].trainable = true;
		m->tensors[i].name = i == 0 ? "W" : "V";
	}
	return m;
}

/* loss = sum(batch mean of f) with the root as lowering makes it */
static void add_loss(Graph *g, Node *per_sample)
{
	Node *s = ir_sum_to(g, per_sample, shape_scalar(false));
	ir_add_root(g, ROOT_LOSS, "loss", 0,
		    ir_op2(g, OP_DIV, s, ir_batchsize(g)));
}

static void check(Graph *g, Model *m, const char *want)
{
	autodiff(g, m);
	ir_verify(g);
	simplify(g);
	cse(g);
	dce(g);
	ir_verify(g);
	CU_ASSERT(ir_text_is(g, want));
	ir_free(g);
	free(m->tensors);
	free(m);
}

/* L = mean_b sum_j x[b,j] * W[j]  =>  dL/dW[j] = mean_b x[b,j] */
static void test_linear(void)
{
	int d3 = 3;
	Shape w = shape_make(false, 1, &d3), x = shape_make(true, 1, &d3);
	Model *m = model_with(1, &w);
	Graph *g = ir_new();
	Node *xi = ir_input(g, "x", 0, x);
	Node *wp = ir_param(g, "W", 0, w);
	add_loss(g, ir_sum_to(g, ir_op2(g, OP_MUL, xi, wp), shape_scalar(true)));
	check(g, m,
	      "  %0 = input x : [B, 3]\n"
	      "  %1 = param W : [3]\n"
	      "  %2 = mul %0, %1 : [B, 3]\n"
	      "  %3 = batchsize : []\n"
	      "  %4 = sum_to %2 : []\n"
	      "  %5 = div %4, %3 : []\n"
	      "  %6 = const 1 : []\n"
	      "  %7 = div %6, %3 : []\n"
	      "  %8 = mul %7, %0 : [B, 3]\n"
	      "  %9 = sum_to %8 : [3]\n"
	      "  root loss = %5\n"
	      "  root grad:W = %9\n");
}

/* L = mean_b sum tanh(x W): dW = x^T ((1 - y^2) * dY), a transposed GEMM */
static void test_matmul_tanh(void)
{
	int wd[2] = {2, 3}, d2 = 2;
	Shape w = shape_make(false, 2, wd), x = shape_make(true, 1, &d2);
	int d3 = 3;
	Model *m = model_with(1, &w);
	Graph *g = ir_new();
	Node *xi = ir_input(g, "x", 0, x);
	Node *wp = ir_param(g, "W", 0, w);
	Node *mm = ir_matmul(g, xi, wp, false, false, 2, 3,
			     shape_make(true, 1, &d3));
	add_loss(g, ir_sum_to(g, ir_op1(g, OP_TANH, mm), shape_scalar(true)));
	check(g, m,
	      "  %0 = input x : [B, 2]\n"
	      "  %1 = param W : [2, 3]\n"
	      "  %2 = matmul %0, %1 ta=0 tb=0 ca=2 cb=3 : [B, 3]\n"
	      "  %3 = tanh %2 : [B, 3]\n"
	      "  %4 = batchsize : []\n"
	      "  %5 = sum_to %3 : []\n"
	      "  %6 = div %5, %4 : []\n"
	      "  %7 = const 1 : []\n"
	      "  %8 = div %7, %4 : []\n"
	      "  %9 = mul %3, %3 : [B, 3]\n"
	      "  %10 = sub %7, %9 : [B, 3]\n"
	      "  %11 = mul %8, %10 : [B, 3]\n"
	      "  %12 = matmul %0, %11 ta=1 tb=0 ca=2 cb=3 : [2, 3]\n"
	      "  root loss = %6\n"
	      "  root grad:W = %12\n");
}

/* L = sum W*W (used twice): dW = dy*W + dy*W; V unused: no gradient */
static void test_shared_and_unused(void)
{
	int d2 = 2;
	Shape s[2] = {shape_make(false, 1, &d2), shape_make(false, 1, &d2)};
	Model *m = model_with(2, s);
	Graph *g = ir_new();
	Node *wp = ir_param(g, "W", 0, s[0]);
	ir_param(g, "V", 1, s[1]);
	Node *x = ir_input(g, "x", 0, shape_scalar(true));
	Node *sq = ir_op2(g, OP_MUL, wp, wp);
	add_loss(g, ir_op2(g, OP_MUL, x,
			   ir_sum_to(g, sq, shape_scalar(false))));
	check(g, m,
	      "  %0 = param W : [2]\n"
	      "  %1 = input x : [B]\n"
	      "  %2 = mul %0, %0 : [2]\n"
	      "  %3 = sum_to %2 : []\n"
	      "  %4 = mul %1, %3 : [B]\n"
	      "  %5 = sum_to %4 : []\n"
	      "  %6 = batchsize : []\n"
	      "  %7 = div %5, %6 : []\n"
	      "  %8 = const 1 : []\n"
	      "  %9 = div %8, %6 : []\n"
	      "  %10 = mul %9, %1 : [B]\n"
	      "  %11 = sum_to %10 : []\n"
	      "  %12 = mul %11, %0 : [2]\n"
	      "  %13 = add %12, %12 : [2]\n"
	      "  root loss = %7\n"
	      "  root grad:W = %13\n"
	      "  root grad:V = zero\n");
}

/* d op(v[0], .., v[nin - 1]) / d input i for dy = 1, from the op's
 * derivative rule built on constants and folded by constfold. */
static double grad_at(OpKind op, int nin, const double *v, int i)
{
	Graph *g = ir_new();
	Node *in[3];
	for (int j = 0; j < nin; j++)
		in[j] = ir_const(g, v[j]);
	Node *n = ir_node(g, op, nin, in);
	Node *d = op_info[op].grad(g, n, ir_const(g, 1), i);
	constfold(g);
	double r = d->op == OP_CONST ? d->attr.constant.value : NAN;
	ir_free(g);
	return r;
}

/* PyTorch's derivatives at the kinks: relu'(0) = 0, leaky_relu's is the
 * slope, elu's alpha, abs'(0) = 0, softplus is x above 20, max and min
 * split dy half and half between equal arguments (torch.maximum), clamp
 * passes it at its bounds, both included (torch.clamp). */
static void test_kinks(void)
{
	CU_ASSERT_EQUAL(grad_at(OP_RELU, 1, (double[]){0}, 0), 0);
	CU_ASSERT_EQUAL(grad_at(OP_LEAKY_RELU, 2, (double[]){0, 0.25}, 0), 0.25);
	CU_ASSERT_EQUAL(grad_at(OP_LEAKY_RELU, 2, (double[]){-2, 0.25}, 1), -2);
	CU_ASSERT_EQUAL(grad_at(OP_ELU, 2, (double[]){0, 2}, 0), 2);
	CU_ASSERT_EQUAL(grad_at(OP_ELU, 2, (double[]){3, 2}, 0), 1);
	CU_ASSERT_EQUAL(grad_at(OP_ELU, 2, (double[]){0, 2}, 1), 0);
	CU_ASSERT_EQUAL(grad_at(OP_SOFTPLUS, 1, (double[]){20.5}, 0), 1);
	CU_ASSERT_DOUBLE_EQUAL(grad_at(OP_SOFTPLUS, 1, (double[]){20}, 0),
			       1 - exp(-20), 1e-15);   /* not yet above 20 */
	CU_ASSERT_DOUBLE_EQUAL(grad_at(OP_SOFTPLUS, 1, (double[]){0}, 0), 0.5,
			       1e-16);
	CU_ASSERT_EQUAL(grad_at(OP_ABS, 1, (double[]){0}, 0), 0);
	CU_ASSERT_EQUAL(grad_at(OP_ABS, 1, (double[]){-2}, 0), -1);
	CU_ASSERT_EQUAL(grad_at(OP_SQRT, 1, (double[]){4}, 0), 0.25);
	CU_ASSERT_EQUAL(grad_at(OP_BCE_LOGITS, 2, (double[]){0, 1}, 0), -0.5);
	CU_ASSERT_EQUAL(grad_at(OP_BCE_LOGITS, 2, (double[]){3, 1}, 1), -3);
	CU_ASSERT_EQUAL(grad_at(OP_MAX, 2, (double[]){2, 2}, 0), 0.5);
	CU_ASSERT_EQUAL(grad_at(OP_MAX, 2, (double[]){2, 2}, 1), 0.5);
	CU_ASSERT_EQUAL(grad_at(OP_MAX, 2, (double[]){3, 2}, 0), 1);
	CU_ASSERT_EQUAL(grad_at(OP_MAX, 2, (double[]){3, 2}, 1), 0);
	CU_ASSERT_EQUAL(grad_at(OP_MIN, 2, (double[]){-1, -1}, 1), 0.5);
	CU_ASSERT_EQUAL(grad_at(OP_MIN, 2, (double[]){3, 2}, 0), 0);
	CU_ASSERT_EQUAL(grad_at(OP_MIN, 2, (double[]){3, 2}, 1), 1);
	CU_ASSERT_EQUAL(grad_at(OP_CLAMP, 3, (double[]){-1, -1, 1}, 0), 1);
	CU_ASSERT_EQUAL(grad_at(OP_CLAMP, 3, (double[]){1, -1, 1}, 0), 1);
	CU_ASSERT_EQUAL(grad_at(OP_CLAMP, 3, (double[]){2, -1, 1}, 0), 0);
	CU_ASSERT_EQUAL(grad_at(OP_CLAMP, 3, (double[]){2, -1, 1}, 2), 1);
	CU_ASSERT_EQUAL(grad_at(OP_CLAMP, 3, (double[]){-2, -1, 1}, 1), 1);
}

void suite_autodiff(void)
{
	CU_pSuite s = CU_add_suite("autodiff", NULL, NULL);
	CU_add_test(s, "linear: dW = mean x", test_linear);
	CU_add_test(s, "matmul and tanh", test_matmul_tanh);
	CU_add_test(s, "shared use sums, unused is zero", test_shared_and_unused);
	CU_add_test(s, "derivatives at the kinks", test_kinks);
}
