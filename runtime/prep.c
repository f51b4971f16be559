/*
 * prep.c - getting a run ready: the buffers, the run's data sources
 * (data, validation, test: the train block's, or what the command line
 * and the checkpoint name), the validation split and the feature
 * normalisation.
 *
 * Buffers are allocated once, before any step: params, grads, optimizer
 * state (zeroed) and workspace in the model's real type, and float
 * batch buffers of max_batch rows for x, y and outputs.
 *
 * The split (contract, "Pinned details"): a seeded permutation of the N
 * rows (Fisher-Yates, drawn right after the initial tensors); its first
 * round(f * N) rows are validation, the rest training. Both parts are
 * then sorted back into file order, so an unshuffled run visits rows as
 * the file has them. With f = 0 nothing is drawn.
 *
 * Normalisation is fitted on the training rows only:
 *   standard  shift = mean, scale = population std
 *   minmax    shift = min,  scale = max - min
 * and applied as x' = (x - shift) / scale; a constant feature gets
 * scale 1. normalize_target = standard scales a real target's columns
 * the same way (y' = (y - mean) / std); the model trains on y', and
 * nnrt_prep_target maps a value back to the target's units.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

void nnrt_prep_buffers(Rt *rt)
{
	const NnrtModel *m = rt->m;
	size_t rs = (size_t)m->real_size;
	size_t b = (size_t)m->max_batch;
	size_t ny = (size_t)(m->n_classes > 0 ? 1 : m->target_size);

	rt->params = nnrt_base_alloc(rt, (size_t)m->n_params, rs);
	rt->grads = nnrt_dist_alloc_grads(rt, (size_t)m->n_trainable, rs);
	rt->state = nnrt_base_alloc(rt, (size_t)m->n_state, rs);
	rt->sched = nnrt_base_alloc(rt, (size_t)m->n_sched, sizeof(double));
	rt->ws = nnrt_base_alloc(rt, (size_t)m->ws_size, rs);
	rt->bx = nnrt_base_alloc(rt, b * (size_t)m->input_size, sizeof(float));
	rt->by = nnrt_base_alloc(rt, b * ny, sizeof(float));
	rt->out = nnrt_base_alloc(rt, b * (size_t)m->output_size,
				  sizeof(float));
	rt->loss = nnrt_base_alloc(rt, b, sizeof(double));
}

/*
 * A spec names a source as the command line and checkpoints spell it:
 * a CSV path, or IMAGES,LABELS for IDX files (split at the first
 * comma). The source it names has like's kind, columns and scale.
 */
NnrtSource nnrt_prep_source(const Rt *rt, const NnrtSource *like,
			    const char *spec)
{
	NnrtSource s = *like;
	const char *comma = strchr(spec, ',');
	char *images;

	s.path = spec;
	if (s.kind != NNRT_SRC_IDX)
		return s;
	if (!comma || comma == spec || !comma[1])
		nnrt_base_die(rt, "data source '%s' is not IMAGES,LABELS "
			      "(this model reads idx files)", spec);
	images = nnrt_base_alloc(rt, (size_t)(comma - spec) + 1, 1);
	memcpy(images, spec, (size_t)(comma - spec));
	s.path = images;
	s.labels = comma + 1;
	return s;
}

static const char *spec_of(const Rt *rt, const NnrtSource *s)
{
	if (s->kind == NNRT_SRC_IDX)
		return nnrt_base_printf(rt, "%s,%s", s->path, s->labels);
	return s->path;
}

/* What --test names: a source like the train block's test source, or
 * without one like its data source. */
NnrtSource nnrt_prep_test_like(const Rt *rt)
{
	if (rt->m->train.test.kind != NNRT_SRC_NONE)
		return rt->m->train.test;
	return nnrt_data_source(rt);
}

/* The data source: --data, else the one the loaded checkpoint was
 * trained on, else the train block's. */
NnrtSource nnrt_prep_data_source(const Rt *rt)
{
	NnrtSource like = nnrt_data_source(rt);

	if (rt->opt.data)
		return nnrt_prep_source(rt, &like, rt->opt.data);
	if (rt->data_spec)
		return nnrt_prep_source(rt, &like, rt->data_spec);
	if (like.path)
		return like;
	nnrt_base_die(rt, "the train block names no data file; pass --data "
		      "PATH");
}

/* The checkpoint: --checkpoint, else the train block's, else
 * "<model>.ckpt". */
const char *nnrt_prep_ckpt_path(const Rt *rt)
{
	if (rt->opt.checkpoint)
		return rt->opt.checkpoint;
	if (rt->m->train.checkpoint)
		return rt->m->train.checkpoint;
	return nnrt_base_printf(rt, "%s.ckpt", rt->m->name);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* Rows 0..n-1 in order. */
long *nnrt_prep_rows(const Rt *rt, long n)
{
	long *rows = nnrt_base_alloc(rt, (size_t)n, sizeof(long));
	long i;

	for (i = 0; i < n; i++)
		rows[i] = i;
	return rows;
}

static void split(Rt *rt)
{
	long n = rt->data.n, i;

	rt->perm = nnrt_base_alloc(rt, (size_t)n, sizeof(long));
	for (i = 0; i < n; i++)
		rt->perm[i] = i;
	rt->n_val = 0;
	if (rt->validation > 0) {
		nnrt_rng_shuffle(&rt->rng, rt->perm, n);
		rt->n_val = (long)round(rt->validation * (double)n);
		if (rt->n_val >= n)
			nnrt_base_die(rt, "validation = %g of %ld rows leaves "
				      "no training rows", rt->validation, n);
	}
	rt->n_train = n - rt->n_val;
	rt->val = &rt->data;
	rt->val_rows = rt->perm;
	rt->train_rows = rt->perm + rt->n_val;
	qsort(rt->val_rows, (size_t)rt->n_val, sizeof(long), cmp_long);
	qsort(rt->train_rows, (size_t)rt->n_train, sizeof(long), cmp_long);
}

/* Fits column j of rows [n, stride] v over the training rows into
 * z->shift[j], z->scale[j]. */
static void fit_column(const Rt *rt, Norm *z, const float *v, long stride,
		       long j)
{
	double sum = 0, var = 0, lo = INFINITY, hi = -INFINITY, mean;
	long i;

	for (i = 0; i < rt->n_train; i++) {
		double a = v[rt->train_rows[i] * stride + j];
		sum += a;
		lo = a < lo ? a : lo;
		hi = a > hi ? a : hi;
	}
	mean = sum / (double)rt->n_train;
	for (i = 0; i < rt->n_train; i++) {
		double a = v[rt->train_rows[i] * stride + j] - mean;
		var += a * a;
	}
	if (z->kind == NNRT_NORM_STANDARD) {
		z->shift[j] = mean;
		z->scale[j] = sqrt(var / (double)rt->n_train);
	} else {
		z->shift[j] = lo;
		z->scale[j] = hi - lo;
	}
	if (hi == lo || !(z->scale[j] > 0))
		z->scale[j] = 1.0;
}

/* Fits z (kind) on the training rows of the columns [n, stride] v. */
static void fit(Rt *rt, Norm *z, NnrtNorm kind, const float *v, long stride)
{
	long j;

	z->kind = kind;
	z->n = 0;
	if (kind == NNRT_NORM_NONE)
		return;
	z->n = stride;
	free(z->shift);
	free(z->scale);
	z->shift = nnrt_base_alloc(rt, (size_t)z->n, sizeof(double));
	z->scale = nnrt_base_alloc(rt, (size_t)z->n, sizeof(double));
	for (j = 0; j < z->n; j++)
		fit_column(rt, z, v, stride, j);
}

/* Fits rt->norm (normalize) and rt->tnorm (normalize_target) on the
 * training rows of rt->data (not yet scaled). */
void nnrt_prep_fit(Rt *rt)
{
	const NnrtTrainConfig *t = &rt->m->train;

	fit(rt, &rt->norm, t->normalize, rt->data.x, rt->data.nx);
	fit(rt, &rt->tnorm, t->normalize_target, rt->data.y, rt->data.ny);
}

static void apply(const Norm *z, float *v, long n, long stride)
{
	long i, j;

	if (z->kind == NNRT_NORM_NONE || z->n != stride)
		return;
	for (i = 0; i < n; i++)
		for (j = 0; j < stride; j++)
			v[i * stride + j] = (float)((v[i * stride + j] -
						     z->shift[j]) / z->scale[j]);
}

/* Scales d's features, and its targets if it has them. */
void nnrt_prep_apply(const Rt *rt, Data *d)
{
	apply(&rt->norm, d->x, d->n, d->nx);
	if (d->y)
		apply(&rt->tnorm, d->y, d->n, d->ny);
}

/* Element j of a (scaled) target or output of the target's shape, back
 * in the target's own units. */
double nnrt_prep_target(const Rt *rt, long j, double v)
{
	const Norm *z = &rt->tnorm;

	if (z->kind == NNRT_NORM_NONE || j >= z->n)
		return v;
	return v * z->scale[j] + z->shift[j];
}

/* Reads a whole source with targets and normalises it. */
void nnrt_prep_load(Rt *rt, const NnrtSource *src, Data *d)
{
	nnrt_data_load(rt, src, DATA_TRAIN, d);
	nnrt_prep_apply(rt, d);
}

/*
 * Seeds the generator, draws the initial tensors into init_dst (the
 * params, or NULL when a checkpoint provides them: the draws must still
 * happen for the split to come out the same), reads the data source,
 * splits it, fits the normalisation if `fit` (else uses rt->norm as a
 * checkpoint left it) and applies it. A validation source (validation
 * = SOURCE) is read after the fit and takes the place of the split.
 */
void nnrt_prep_data(Rt *rt, int fit, void *init_dst)
{
	const NnrtSource *val = &rt->m->train.val;
	NnrtSource src = nnrt_prep_data_source(rt);

	nnrt_rng_seed(&rt->rng, rt->seed);
	nnrt_init_tensors(rt, init_dst);
	rt->data_spec = spec_of(rt, &src);
	nnrt_data_load(rt, &src, DATA_TRAIN, &rt->data);
	split(rt);
	if (fit)
		nnrt_prep_fit(rt);
	nnrt_prep_apply(rt, &rt->data);
	if (val->kind == NNRT_SRC_NONE)
		return;
	nnrt_prep_load(rt, val, &rt->vdata);
	rt->val = &rt->vdata;
	rt->n_val = rt->vdata.n;
	rt->val_rows = nnrt_prep_rows(rt, rt->n_val);
}

/* Reads the test set, if the run has one: --test PATH, else the train
 * block's test source. `--test` without a path names the block's. */
void nnrt_prep_test(Rt *rt)
{
	const NnrtSource *t = &rt->m->train.test;
	NnrtSource like = nnrt_prep_test_like(rt), src;

	if (rt->opt.test)
		src = nnrt_prep_source(rt, &like, rt->opt.test);
	else if (t->kind != NNRT_SRC_NONE)
		src = *t;
	else if (rt->opt.has_test)
		nnrt_base_die(rt, "the train block names no test source; "
			      "pass --test PATH");
	else
		return;
	nnrt_prep_load(rt, &src, &rt->tdata);
	rt->has_test = 1;
}
