/*
 * test_optim.c - the optimizer table (optim.def) and the optimizer
 * statement (sema_optim.c): every row well formed, every optimizer's
 * defaults and state size, the clipping keys, and the errors. The rows
 * are read from optim_info[], so a new optimizer is checked here without
 * a new test.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"

/* Model z = dense(x, 3): 15 trainable elements. */
#define HEAD "model t\ninput x[4]\ntarget y : class(3)\nz = dense(x, 3)\n" \
	"output p = softmax(z)\nloss = cross_entropy(z, y)\n"
#define TRAIN "train {\n  data = csv(\"d.csv\", x = 0:4, y = 4)\n}\n"
#define N 15

static double key_value(const Optim *o, const OptimKey *k)
{
	const char *field = (const char *)o + k->offset;
	return k->flag ? *(const bool *)field : *(const double *)field;
}

static bool in_range(const OptimKey *k, double v)
{
	return v >= k->lo && (k->hi_open ? v < k->hi : v <= k->hi);
}

/* Names unique, an lr everywhere, defaults inside their ranges. */
static void test_table(void)
{
	for (int i = 0; i < OPT_COUNT; i++) {
		const OptimInfo *info = &optim_info[i];
		bool has_lr = false;
		CU_ASSERT_PTR_NOT_NULL_FATAL(info->name);
		for (int j = 0; j < i; j++)
			CU_ASSERT_STRING_NOT_EQUAL(info->name,
						   optim_info[j].name);
		for (int k = 0; k < info->nkeys; k++) {
			const OptimKey *key = &info->keys[k];
			has_lr |= strcmp(key->name, "lr") == 0;
			for (int j = 0; j < k; j++)
				CU_ASSERT_STRING_NOT_EQUAL(key->name,
							   info->keys[j].name);
			CU_ASSERT_TRUE(key->lo <= key->hi);
			CU_ASSERT_TRUE(isnan(key->dflt) ||
				       in_range(key, key->dflt));
			if (key->flag)
				CU_ASSERT_TRUE(key->dflt == 0 ||
					       key->dflt == 1);
		}
		CU_ASSERT_TRUE(has_lr);
	}
}

/* NAME(lr = 0.5) checks, and every other key takes its default. */
static void test_defaults(void)
{
	for (int i = 0; i < OPT_COUNT; i++) {
		const OptimInfo *info = &optim_info[i];
		char src[512];
		UnitSema r;
		snprintf(src, sizeof(src),
			 HEAD "optimizer %s(lr = 0.5)\n" TRAIN, info->name);
		Model *m = unit_sema(&r, src);
		CU_ASSERT_PTR_NOT_NULL(m);
		if (!m) {
			fprintf(stderr, "\n%s", r.err);
			unit_sema_free(&r);
			continue;
		}
		CU_ASSERT_EQUAL(m->optim.kind, (OptKind)i);
		CU_ASSERT_EQUAL(m->optim.lr, 0.5);
		for (int k = 0; k < info->nkeys; k++)
			if (strcmp(info->keys[k].name, "lr") != 0)
				CU_ASSERT_EQUAL(key_value(&m->optim,
							  &info->keys[k]),
						info->keys[k].dflt);
		CU_ASSERT_TRUE(emit_state_size(m) >= 0);
		unit_sema_free(&r);
	}
}

/* The state an optimizer call needs, in elements. */
static long state_of(const char *call)
{
	char src[512];
	UnitSema r;
	snprintf(src, sizeof(src), HEAD "optimizer %s\n" TRAIN, call);
	Model *m = unit_sema(&r, src);
	long n = m ? emit_state_size(m) : -1;
	if (!m)
		fprintf(stderr, "\n%s", r.err);
	unit_sema_free(&r);
	return n;
}

static void test_state_size(void)
{
	CU_ASSERT_EQUAL(state_of("sgd(lr = 0.1)"), 0);
	CU_ASSERT_EQUAL(state_of("sgd(0.1, momentum = 0.9)"), N);
	CU_ASSERT_EQUAL(state_of("adam()"), 2 * N);
	CU_ASSERT_EQUAL(state_of("adam(amsgrad = true)"), 3 * N);
	CU_ASSERT_EQUAL(state_of("adamw(amsgrad = true)"), 3 * N);
	CU_ASSERT_EQUAL(state_of("adagrad()"), N);
	CU_ASSERT_EQUAL(state_of("rmsprop()"), N);
	CU_ASSERT_EQUAL(state_of("rmsprop(centered = true, momentum = 0.9)"),
			3 * N);
	CU_ASSERT_EQUAL(state_of("nadam()"), 2 * N + 1); /* mu_product */
	CU_ASSERT_EQUAL(state_of("radam()"), 2 * N);
	CU_ASSERT_EQUAL(state_of("adadelta()"), 2 * N);
}

/* clip_value and clip_norm reach the model (emit_optim.c applies them). */
static void test_clip_keys(void)
{
	UnitSema r;
	Model *m = unit_sema(&r, HEAD "optimizer adam()\ntrain {\n"
			     "  data = csv(\"d.csv\", x = 0:4, y = 4)\n"
			     "  clip_value = 0.5\n  clip_norm = 2\n}\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(m->train.clip_value, 0.5);
	CU_ASSERT_EQUAL(m->train.clip_norm, 2);
	unit_sema_free(&r);
	expect_error(HEAD "optimizer adam()\ntrain {\n  data = csv(\"d.csv\", "
		     "x = 0:4, y = 4)\n  clip_norm = 0\n}\n",
		     "t.nn:10:15: error: clip_norm must be a positive number, "
		     "found 0");
}

static void test_errors(void)
{
	expect_error(HEAD "optimizer sgd(momentum = 0.9)\n" TRAIN,
		     "t.nn:7:11: error: sgd() needs 'lr', which has no "
		     "default: sgd(lr = ...)");
	expect_error(HEAD "optimizer sgd(0.1, 0.9)\n" TRAIN,
		     "t.nn:7:20: error: sgd() takes the learning rate as its "
		     "only positional argument");
	expect_error(HEAD "optimizer adam(lr = -1)\n" TRAIN,
		     "error: adam(): lr must be >= 0, found -1");
	expect_error(HEAD "optimizer adam(eps = 1e300 * 1e300)\n" TRAIN,
		     "t.nn:7:28: error: the result of '*' is out of range (inf)");
	expect_error(HEAD "optimizer sgd(0.1, momentum = 1.5)\n" TRAIN,
		     "error: sgd(): momentum must be in [0, 1], found 1.5");
	expect_error(HEAD "optimizer sgd(0.1, nesterov = 1)\n" TRAIN,
		     "error: expected true or false");
	expect_error(HEAD "optimizer sgd(0.1, nesterov = true)\n" TRAIN,
		     "error: nesterov needs momentum > 0 and zero dampening");
	expect_error(HEAD "optimizer sgd(0.1, lr = 0.2)\n" TRAIN,
		     "t.nn:7:20: error: sgd(): argument 'lr' given twice");
	expect_error(HEAD "optimizer adam\n" TRAIN,
		     "error: expected an optimizer");
}

void suite_optim(void)
{
	CU_pSuite s = CU_add_suite("optim", NULL, NULL);
	CU_add_test(s, "optim.def rows well formed", test_table);
	CU_add_test(s, "every optimizer's defaults", test_defaults);
	CU_add_test(s, "state sizes", test_state_size);
	CU_add_test(s, "clipping keys", test_clip_keys);
	CU_add_test(s, "optimizer errors", test_errors);
}
