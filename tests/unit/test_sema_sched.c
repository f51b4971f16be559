/*
 * test_sema_sched.c - the schedule statement: the table of schedules is
 * consistent, and a checked chain has its pieces in order with their
 * values, start steps and state. The error messages are error goldens
 * (tests/errors/sema_schedule_*).
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <string.h>

#include "unit.h"

#define HEAD "model t\ninput x[4]\ntarget y : class(3)\n" \
	"z = dense(x, 3)\noutput p = softmax(z)\nloss = cross_entropy(z, y)\n" \
	"optimizer sgd(lr = 0.1)\n"
#define TAIL "train {\n  data = csv(\"d.csv\", x = 0:4, y = 4)\n}\n"

static int nkeys(const SchedInfo *si)
{
	int n = 0;
	while (si->keys[n].name)
		n++;
	return n;
}

static int key_at(const SchedInfo *si, const char *name)
{
	for (int i = 0; si->keys[i].name; i++)
		if (strcmp(si->keys[i].name, name) == 0)
			return i;
	return -1;
}

/* Every default lies in its key's range; alternatives name each other;
 * a schedule that ends after its steps has an integer `steps`. */
static void test_table(void)
{
	for (int k = 0; k < SCHED_COUNT; k++) {
		const SchedInfo *si = &sched_info[k];
		int positional = 0;
		CU_ASSERT_PTR_NOT_NULL_FATAL(si->name);
		CU_ASSERT_TRUE(nkeys(si) <= SCHED_MAXKEYS);
		for (int i = 0; si->keys[i].name; i++) {
			const SchedKey *key = &si->keys[i];
			double d = key->def;
			positional += key->positional;
			CU_ASSERT_TRUE(key->lo < key->hi);
			if (!isnan(d)) {
				CU_ASSERT_TRUE(key->lo_open ? d > key->lo
					       : d >= key->lo);
				CU_ASSERT_TRUE(key->hi_open ? d < key->hi
					       : d <= key->hi);
			}
			if (key->alt) {
				int a = key_at(si, key->alt);
				CU_ASSERT_TRUE_FATAL(a >= 0);
				CU_ASSERT_STRING_EQUAL(si->keys[a].alt,
						       key->name);
			}
		}
		CU_ASSERT_TRUE(positional <= 1);
		if (si->ends == SEND_STEPS) {
			int s = key_at(si, "steps");
			CU_ASSERT_TRUE_FATAL(s >= 0);
			CU_ASSERT_EQUAL(si->keys[s].type, KEY_INT);
		}
	}
}

/* Pieces in order, each starting where the warmups before it end; the
 * plateau's state at the end of the (stateless) chain before it. */
static void test_chain(void)
{
	UnitSema r;
	Model *m = unit_sema(&r, HEAD "schedule warmup(steps = 10) then "
			    "(warmup(steps = 5) then plateau(factor = 0.5))\n"
			    TAIL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	Schedule *s = &m->sched;
	CU_ASSERT_EQUAL_FATAL(s->npieces, 3);
	CU_ASSERT_EQUAL(s->pieces[0].kind, SCHED_WARMUP);
	CU_ASSERT_EQUAL(s->pieces[1].kind, SCHED_WARMUP);
	CU_ASSERT_EQUAL(s->pieces[2].kind, SCHED_PLATEAU);
	CU_ASSERT_EQUAL(s->pieces[0].start, 0);
	CU_ASSERT_EQUAL(s->pieces[1].start, 10);
	CU_ASSERT_EQUAL(s->pieces[2].start, 15);
	CU_ASSERT_EQUAL(s->pieces[2].state, 0);
	CU_ASSERT_EQUAL(s->nstate, 4);
	CU_ASSERT_EQUAL(sema_sched_val(&s->pieces[2], "factor"), 0.5);
	CU_ASSERT_TRUE(sema_sched_given(&s->pieces[2], "factor"));
	CU_ASSERT_EQUAL(sema_sched_val(&s->pieces[2], "patience"), 10);
	CU_ASSERT_FALSE(sema_sched_given(&s->pieces[2], "patience"));
	CU_ASSERT_STRING_EQUAL(sema_sched_str(&r.arena, &s->pieces[2]),
			       "plateau(factor = 0.5, patience = 10)");
	unit_sema_free(&r);
}

/* A positional value, a bare name, a list; the text shows the defaults
 * in effect and leaves out the alternative not taken. */
static void test_forms(void)
{
	static const struct {
		const char *src, *text;
	} cases[] = {
		{"exponential(0.9)", "exponential(gamma = 0.9, epochs = 1)"},
		{"exponential(0.9, steps = 3)",
		 "exponential(gamma = 0.9, steps = 3)"},
		{"cosine", "cosine(min_lr = 0)"},
		{"constant", "constant"},
		{"multistep(steps = [3, 7])",
		 "multistep(steps = [3, 7], gamma = 0.1)"},
		{"one_cycle(0.2)", "one_cycle(max_lr = 0.2, pct_start = 0.3)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		UnitSema r;
		char src[512];
		snprintf(src, sizeof(src), HEAD "schedule %s\n" TAIL,
			 cases[i].src);
		Model *m = unit_sema(&r, src);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		CU_ASSERT_EQUAL_FATAL(m->sched.npieces, 1);
		CU_ASSERT_STRING_EQUAL(sema_sched_str(&r.arena,
						      &m->sched.pieces[0]),
				       cases[i].text);
		unit_sema_free(&r);
	}
}

/* Without a schedule statement there are no pieces: a constant rate. */
static void test_none(void)
{
	UnitSema r;
	Model *m = unit_sema(&r, HEAD TAIL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(m->sched.npieces, 0);
	CU_ASSERT_EQUAL(m->sched.nstate, 0);
	unit_sema_free(&r);
}

void suite_sema_sched(void)
{
	CU_pSuite s = CU_add_suite("sema_sched", NULL, NULL);
	CU_add_test(s, "the table of schedules", test_table);
	CU_add_test(s, "a chain: order, starts, state", test_chain);
	CU_add_test(s, "positional, bare, list forms", test_forms);
	CU_add_test(s, "no schedule statement", test_none);
}
