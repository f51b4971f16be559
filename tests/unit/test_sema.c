/*
 * test_sema.c - semantic analysis: shapes, layer tensors and their names
 * and initializers, def inlining, and the errors users see.
 */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define HEAD "model t\ninput x[4]\ntarget y : class(3)\n"
#define TAIL "optimizer adam()\ntrain {\n  data = csv(\"d.csv\", x = 0:4, y = 4)\n}\n"

static Tensor *tensor(Model *m, const char *name)
{
	for (int i = 0; i < m->ntensors; i++)
		if (strcmp(m->tensors[i].name, name) == 0)
			return &m->tensors[i];
	return NULL;
}

static void test_mlp_tensors(void)
{
	UnitSema r;
	Model *m = unit_sema(&r, HEAD "h = relu(dense(x, 16))\n"
			     "z = dense(h, 3)\n"
			     "output p = softmax(z)\n"
			     "loss = cross_entropy(z, y)\n"
			     TAIL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(m->ntensors, 4);
	Tensor *w = tensor(m, "h.W"), *b = tensor(m, "h.b");
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(w->shape.rank, 2);
	CU_ASSERT_EQUAL(w->shape.dim[0], 4);
	CU_ASSERT_EQUAL(w->shape.dim[1], 16);
	CU_ASSERT_EQUAL(w->init, NNRT_INIT_HE_NORMAL);       /* feeds relu */
	CU_ASSERT_EQUAL(tensor(m, "z.W")->init, NNRT_INIT_XAVIER_UNIFORM);
	CU_ASSERT_EQUAL(b->init, NNRT_INIT_ZEROS);
	CU_ASSERT_EQUAL(w->fan_in, 4);
	CU_ASSERT_EQUAL(m->nparams, 4 * 16 + 16 + 16 * 3 + 3);
	CU_ASSERT_EQUAL(tensor(m, "z.W")->offset, 80);
	CU_ASSERT_EQUAL(m->noutputs, 1);
	CU_ASSERT_EQUAL(m->outputs[0].shape.dim[0], 3);
	CU_ASSERT_EQUAL(r.c.loss->shape.rank, 0);
	CU_ASSERT_TRUE(r.c.loss->shape.batched);
	unit_sema_free(&r);
}

static void test_numbered_layers(void)
{
	UnitSema r;
	Model *m = unit_sema(&r, HEAD "z = dense(relu(dense(x, 5)), 3)\n"
			     "output p = softmax(z)\n"
			     "loss = cross_entropy(z, y)\n"
			     TAIL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_PTR_NOT_NULL(tensor(m, "z.1.W"));
	CU_ASSERT_PTR_NOT_NULL(tensor(m, "z.1.b"));
	CU_ASSERT_PTR_NOT_NULL(tensor(m, "z.2.W"));
	CU_ASSERT_EQUAL(tensor(m, "z.2.W")->shape.dim[0], 5);
	CU_ASSERT_EQUAL(tensor(m, "z.1.W")->init, NNRT_INIT_HE_NORMAL);
	unit_sema_free(&r);
}

/* init = auto: He for a layer directly inside relu, leaky_relu or elu;
 * Xavier inside another activation, or with a layer in between */
static void test_init_auto(void)
{
	UnitSema r;
	Model *m = unit_sema(&r, HEAD "a = leaky_relu(dense(x, 4), 0.2)\n"
			     "b = elu(dense(a, 4), alpha = 2)\n"
			     "c = softplus(dense(b, 4)) + gelu(dense(b, 4))\n"
			     "d = leaky_relu(layernorm(dense(c, 4)))\n"
			     "z = dense(d, 3)\n"
			     "output p = softmax(z)\n"
			     "loss = cross_entropy(z, y)\n"
			     TAIL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(tensor(m, "a.W")->init, NNRT_INIT_HE_NORMAL);
	CU_ASSERT_EQUAL(tensor(m, "b.W")->init, NNRT_INIT_HE_NORMAL);
	CU_ASSERT_EQUAL(tensor(m, "c.1.W")->init, NNRT_INIT_XAVIER_UNIFORM);
	CU_ASSERT_EQUAL(tensor(m, "c.2.W")->init, NNRT_INIT_XAVIER_UNIFORM);
	CU_ASSERT_EQUAL(tensor(m, "d.1.W")->init, NNRT_INIT_XAVIER_UNIFORM);
	/* the options: given, by keyword, by default */
	Expr *d = r.c.outputs[0]->arg[0]->arg[0];  /* softmax(dense(d)) */
	CU_ASSERT_EQUAL(d->fn, B_LEAKY_RELU);
	CU_ASSERT_EQUAL(d->opt[1], 0.01);
	Expr *b = d->arg[0]->arg[0]->arg[0]->arg[0]->arg[0]->arg[0];
	CU_ASSERT_EQUAL(b->fn, B_ELU);
	CU_ASSERT_EQUAL(b->opt[1], 2);
	unit_sema_free(&r);
}

static void test_shapes(void)
{
	UnitSema r;
	Model *m = unit_sema(&r, HEAD "param P[4, 2, 3] = zeros\n"
			     "param W[5, 4] = ones\n"
			     "a = x @ P\nb = W @ x\ns = sum(a, axis = 1)\n"
			     "t = mean(a)\nz = dense(s * t, 3) + sum(b)\n"
			     "output p = softmax(z)\n"
			     "loss = cross_entropy(z, y)\n"
			     TAIL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	Expr *z = r.c.outputs[0]->arg[0];
	CU_ASSERT_EQUAL(z->shape.rank, 1);
	CU_ASSERT_EQUAL(z->shape.dim[0], 3);
	Expr *plus = z->arg[1]; /* sum(b): a per-sample scalar */
	CU_ASSERT_EQUAL(plus->shape.rank, 0);
	CU_ASSERT_TRUE(plus->shape.batched);
	unit_sema_free(&r);
}

static void test_def_inlining(void)
{
	UnitSema r;
	Model *m = unit_sema(&r, HEAD "def sq(a) = a * a\n"
			     "def f(a, b) = sq(a) + b\n"
			     "z = f(dense(x, 3), 1)\noutput p = softmax(z)\n"
			     "loss = cross_entropy(z, y)\n" TAIL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	Expr *z = r.c.outputs[0]->arg[0];
	CU_ASSERT_EQUAL(z->kind, E_BINOP);
	CU_ASSERT_EQUAL(z->op, AOP_ADD);
	CU_ASSERT_EQUAL(z->arg[0]->op, AOP_MUL);
	/* both operands of a*a are the one dense layer */
	CU_ASSERT_PTR_EQUAL(z->arg[0]->arg[0], z->arg[0]->arg[1]);
	CU_ASSERT_EQUAL(m->ntensors, 2);
	unit_sema_free(&r);
}

static void test_errors(void)
{
	expect_error(HEAD "z = dense(x, 3) + dense(x, 2)\n",
		     "t.nn:4:17: error: shape mismatch in '+': [3] and [2]");
	expect_error(HEAD "param W[3, 3] = zeros\nz = x @ W\n",
		     "t.nn:5:7: error: shape mismatch in '@': [4] @ [3, 3]");
	expect_error(HEAD "z = dense(x, 3)\nloss = z\n",
		     "error: the loss must be a per-sample scalar, found shape "
		     "[3] (use sum(...) or mean(...))");
	expect_error(HEAD "z = dense(q, 3)\n", "t.nn:4:11: error: unknown "
		     "name 'q'");
	expect_error(HEAD "z = 1\nz = 2\n", "t.nn:5:1: error: 'z' is already "
		     "defined");
	expect_error(HEAD "z = 1\nz = 2\n", "t.nn:4:1: note: previous "
		     "definition of 'z' is here");
	expect_error(HEAD "def f(a) = f(a)\nz = f(x)\n",
		     "error: recursive call to 'f'");
	expect_error(HEAD "def f(a) = f(a)\nz = f(x)\n",
		     "note: in 'f', inlined here");
	expect_error(HEAD "z = max(x, dense(x, 3))\n", "t.nn:4:5: error: "
		     "max(): shapes [4] and [3] do not broadcast");
	expect_error(HEAD "z = conv2d(x, 3, kernel = 1)\n", "t.nn:4:12: error: "
		     "conv2d() needs a per-sample image [C, H, W], found shape "
		     "[4]");
	expect_error(HEAD "z = y * 2\n", "error: 'y' is a class label; it can "
		     "only be the target of cross_entropy");
	expect_error(HEAD "z = dense(x, 3, units = 2)\n",
		     "error: dense(): argument 'units' given twice");
	expect_error(HEAD "z = dense(x)\n",
		     "error: dense() is missing argument 'units'");
	expect_error(HEAD "z = dense(x, 3)\nloss = cross_entropy(z, y)\n"
		     "output z\noptimizer adam()\ntrain {\n  data = csv(\"d.csv\", "
		     "x = 0:3, y = 4)\n}\n", "error: csv(): x = 0:3 gives 3 "
		     "columns but 'x' needs 4");
	expect_error(HEAD "z = dense(x, 4)\nloss = cross_entropy(z, y)\n",
		     "error: cross_entropy(): the logits have 4 classes but 'y' "
		     "is class(3)");
	expect_error(HEAD "z = x > 1\n", "error: comparison '>' outside "
		     "where()");
	expect_error(HEAD "output p = dense(x, 3) * y\n", "class label");
	expect_error("model t\n", "t.nn: error: the program has no "
		     "'input' statement");
}

static void test_missing_statements(void)
{
	UnitSema r;
	unit_sema(&r, "model t\ninput x[2]\n");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "the program has no 'target' "
				      "statement"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "the program has no 'loss' "
				      "statement"));
	CU_ASSERT_EQUAL(r.diag.nerrors, 5);
	unit_sema_free(&r);
}

static void test_train_sources(void)
{
	UnitSema r;
	Model *m = unit_sema(&r, HEAD "z = dense(x, 3)\n"
			     "output p = softmax(z)\n"
			     "loss = cross_entropy(z, y)\n"
			     "optimizer adam()\ntrain {\n"
			     "  data = idx(\"i.gz\", \"l.gz\", scale = 1/255)\n"
			     "  validation = csv(\"v.csv\", skip = 1, x = 1:5, y = 0)\n"
			     "  test = idx(\"ti\", \"tl\")\n}\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	DataSrc *d = &m->train.data, *v = &m->train.val, *t = &m->train.test;
	CU_ASSERT_EQUAL(d->kind, NNRT_SRC_IDX);
	CU_ASSERT_STRING_EQUAL(d->path, "i.gz");
	CU_ASSERT_STRING_EQUAL(d->labels, "l.gz");
	CU_ASSERT_DOUBLE_EQUAL(d->scale, 1.0 / 255, 1e-15);
	CU_ASSERT_EQUAL(v->kind, NNRT_SRC_CSV);
	CU_ASSERT_STRING_EQUAL(v->path, "v.csv");
	CU_ASSERT_EQUAL(v->skip, 1);
	CU_ASSERT_EQUAL(v->x_lo[0], 1);
	CU_ASSERT_EQUAL(v->x_hi[0], 5);
	CU_ASSERT_EQUAL(v->y_lo, 0);
	CU_ASSERT_EQUAL(m->train.validation, 0);
	CU_ASSERT_EQUAL(t->kind, NNRT_SRC_IDX);
	CU_ASSERT_DOUBLE_EQUAL(t->scale, 1.0, 0);
	unit_sema_free(&r);
}

void suite_sema(void)
{
	CU_pSuite s = CU_add_suite("sema", NULL, NULL);
	CU_add_test(s, "mlp tensors, init = auto, layout", test_mlp_tensors);
	CU_add_test(s, "layers numbered within a statement",
		    test_numbered_layers);
	CU_add_test(s, "init = auto by activation; options", test_init_auto);
	CU_add_test(s, "shapes of @, sum, mean, broadcasting", test_shapes);
	CU_add_test(s, "def inlining shares arguments", test_def_inlining);
	CU_add_test(s, "error messages", test_errors);
	CU_add_test(s, "missing statements", test_missing_statements);
	CU_add_test(s, "train sources: idx(), validation, test",
		    test_train_sources);
}
