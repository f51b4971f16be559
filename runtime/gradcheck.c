/*
 * gradcheck.c - the `gradcheck` subcommand: analytic gradients against
 * central differences.
 *
 * The tensors are initialised as train would (same seed, same draws),
 * the data split and normalised, and the first min(--samples, max_batch,
 * training rows) training rows form one batch. m->grad gives the
 * analytic gradient; then for each checked element p of each trainable
 * tensor
 *
 *   numeric = (loss(p + h) - loss(p - h)) / ((p + h) - (p - h))
 *
 * with the loss from m->grad into a scratch buffer and the denominator
 * the perturbation actually stored (it differs from 2h in a float
 * build). h = 1e-6 for f64 builds and 1e-3 for f32. All elements of a
 * tensor are checked if it has at most 64, else 64 distinct elements
 * drawn from the generator after the split (in index order).
 *
 *   abs = |a - n|    rel = |a - n| / max(|a|, |n|, 1e-6)
 *
 * An element passes when rel <= tol or abs <= tol / 100 (the second
 * keeps the rounding noise of gradients near zero from failing).
 * Default tol: 1e-6 for f64, 2e-2 for f32; --tol overrides. Output:
 *
 *   gradcheck xor: 4 samples, h 1e-06, tol 1e-06
 *   h.W  [2, 8]  max_abs 3.1e-11  max_rel 2.0e-09  ok
 *   gradcheck: ok (4 tensors)
 *
 * The exit status is 1 if any tensor failed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

#define MAX_CHECKED 64
#define DEFAULT_SAMPLES 8

typedef struct Check {
	void *scratch;            /* grads of the perturbed calls */
	int n;                    /* batch rows */
	double h, tol;
	int name_w, shape_w;
	long idx[MAX_CHECKED];
} Check;

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* Which elements of a tensor of `size` to check; returns how many.
 * Floyd's sampling without replacement for large tensors. */
static int pick(Rt *rt, Check *c, long size)
{
	long j;
	int n = 0, i, dup;

	if (size <= MAX_CHECKED) {
		for (j = 0; j < size; j++)
			c->idx[n++] = j;
		return n;
	}
	for (j = size - MAX_CHECKED; j < size; j++) {
		long t = (long)nnrt_rng_below(&rt->rng, (uint64_t)j + 1);
		dup = 0;
		for (i = 0; i < n; i++)
			dup |= c->idx[i] == t;
		c->idx[n++] = dup ? j : t;
	}
	qsort(c->idx, (size_t)n, sizeof(long), cmp_long);
	return n;
}

/* The loss of the checked batch; the gradient goes to `grads`. Every
 * call is the same step (step 1, the run's seed), so dropout draws the
 * same masks, and running statistics are left alone. */
static double batch_loss(Rt *rt, const Check *c, void *grads)
{
	NnrtStep s = nnrt_base_step(rt, rt->bx, rt->by, c->n);

	s.grads = grads;
	s.step = 1;
	return rt->m->grad(&s);
}

/* Checks one tensor and prints its line; returns 1 if it passed. */
static int check_tensor(Rt *rt, Check *c, const NnrtTensor *t)
{
	double max_abs = 0, max_rel = 0;
	int k, n = pick(rt, c, t->size), ok = 1;
	char shape[64];

	for (k = 0; k < n; k++) {
		long i = t->offset + c->idx[k];
		double p = nnrt_base_get_real(rt, rt->params, i);
		double hi, lo, lp, lm, num, ana, abs_err, rel;
		nnrt_base_set_real(rt, rt->params, i, p + c->h);
		hi = nnrt_base_get_real(rt, rt->params, i);
		lp = batch_loss(rt, c, c->scratch);
		nnrt_base_set_real(rt, rt->params, i, p - c->h);
		lo = nnrt_base_get_real(rt, rt->params, i);
		lm = batch_loss(rt, c, c->scratch);
		nnrt_base_set_real(rt, rt->params, i, p);
		num = (lp - lm) / (hi - lo);
		ana = nnrt_base_get_real(rt, rt->grads, i);
		abs_err = fabs(ana - num);
		rel = abs_err / fmax(fmax(fabs(ana), fabs(num)), 1e-6);
		if (!(rel <= c->tol || abs_err <= c->tol / 100))
			ok = 0;
		max_abs = fmax(max_abs, abs_err);
		max_rel = fmax(max_rel, rel);
		if (isnan(abs_err))
			max_abs = max_rel = NAN;
	}
	nnrt_base_shape(shape, sizeof shape, t->rank, t->dims);
	printf("%-*s  %-*s  max_abs %.1e  max_rel %.1e  %s\n", c->name_w,
	       t->name, c->shape_w, shape, max_abs, max_rel,
	       ok ? "ok" : "FAILED");
	return ok;
}

static void setup(Rt *rt, Check *c)
{
	const NnrtModel *m = rt->m;
	long want = rt->opt.samples > 0 ? rt->opt.samples : DEFAULT_SAMPLES;
	char shape[64];
	int i, w;

	memset(c, 0, sizeof *c);
	rt->seed = rt->opt.has_seed ? rt->opt.seed : m->train.seed;
	rt->validation = m->train.validation;
	nnrt_prep_buffers(rt);
	c->scratch = nnrt_base_alloc(rt, (size_t)m->n_trainable,
				     (size_t)m->real_size);
	nnrt_prep_data(rt, 1, rt->params);
	want = want < m->max_batch ? want : m->max_batch;
	c->n = (int)(want < rt->n_train ? want : rt->n_train);
	c->h = m->real_size == 8 ? 1e-6 : 1e-3;
	c->tol = rt->opt.tol > 0 ? rt->opt.tol
				 : (m->real_size == 8 ? 1e-6 : 2e-2);
	nnrt_infer_gather(&rt->data, rt->train_rows, c->n, rt->bx,
			  rt->by);
	for (i = 0; i < m->n_tensors; i++) {
		if (!m->tensors[i].trainable)
			continue;
		w = (int)strlen(m->tensors[i].name);
		c->name_w = w > c->name_w ? w : c->name_w;
		nnrt_base_shape(shape, sizeof shape, m->tensors[i].rank,
				m->tensors[i].dims);
		w = (int)strlen(shape);
		c->shape_w = w > c->shape_w ? w : c->shape_w;
	}
}

int nnrt_gradcheck_run(Rt *rt)
{
	const NnrtModel *m = rt->m;
	Check c;
	int i, checked = 0, failed = 0;
	double loss;

	setup(rt, &c);
	printf("gradcheck %s: %d samples, h %g, tol %g\n", m->name, c.n, c.h,
	       c.tol);
	loss = batch_loss(rt, &c, rt->grads);
	if (!isfinite(loss))
		nnrt_base_die(rt, "gradcheck: the loss is %g", loss);
	for (i = 0; i < m->n_tensors; i++) {
		if (!m->tensors[i].trainable)
			continue;
		checked++;
		failed += !check_tensor(rt, &c, &m->tensors[i]);
	}
	if (failed) {
		printf("gradcheck: FAILED (%d of %d tensors)\n", failed,
		       checked);
		return 1;
	}
	printf("gradcheck: ok (%d tensors)\n", checked);
	return 0;
}
