/*
 * dist.c - data-parallel training: what a step does over the ranks of
 * an MPI job (mpirun -np P ./model train). With one process (libnnrt,
 * or one rank) every function here is the plain step.
 *
 * Every rank holds the whole model, reads the data file itself and
 * draws the same split and shuffles, so all of them know the same
 * batches. Each batch of `batch` rows (the global batch) is cut into P
 * contiguous slices in rank order, the first n*r/P .. n*(r+1)/P rows
 * to rank r (sizes differ by at most one; a short last batch may leave
 * a rank none). Rank r runs m->grad on its slice, which returns the
 * slice's mean loss and gradient; weighted by the slice's share
 * len/n they sum to the batch's mean over all ranks:
 *
 *   g = sum_r (len_r / n) * (1 / len_r) * sum_{i in slice r} g_i
 *     = (1 / n) * sum_i g_i
 *
 * The weighted gradients are summed with one allreduce over the flat
 * gradient buffer (and the loss with one over a double), so every rank
 * then runs the same m->update on the same numbers: clipping and weight
 * decay, inside update, see the batch's gradient. A loss term that does
 * not depend on the batch (a regularizer) comes out whole, as the
 * shares sum to 1. The result equals the one-process step up to the
 * order of the summation.
 *
 * Batch normalization normalizes each slice with its own statistics
 * (PyTorch's DistributedDataParallel without SyncBatchNorm); the running
 * statistics each rank then computes are averaged with the same weights
 * and the same allreduce, so every rank keeps the same buffers.
 *
 * Dropout masks are drawn from (seed, step, element), the element
 * counted in the whole batch: the step says where the slice starts
 * (NnrtStep.row0), so every number of ranks draws the one-process
 * run's masks.
 *
 * Validation and test scores are reduced the same way: each rank
 * scores its slice of the rows (nnrt_infer_score) and the sums are
 * added.
 */
#include <stdint.h>
#include <string.h>

#include "rt.h"

/* Rank r's rows of n: [first, first + len). */
void nnrt_dist_part(long n, long *first, long *len)
{
	long r = nnrt_dist_rank(), p = nnrt_dist_size();

	*first = n * r / p;
	*len = n * (r + 1) / p - *first;
}

/*
 * buf[0, n) *= w, once a step over the whole gradient under MPI, so
 * written to vectorize at -O2 (gcc 12 and clang 14): blocks of 16
 * elements, whose fixed-length inner loop becomes vector multiplies,
 * then a tail. As a plain loop it took 65 us of a 3 ms step for the
 * bench's 235k floats; now 18 us.
 */
static void scale(const Rt *rt, void *buf, long n, double w)
{
	long i = 0, blocks = n / 16 * 16;
	int j;

	if (rt->m->real_size == 8) {
		double *restrict d = buf;
		for (; i < blocks; i += 16)
			for (j = 0; j < 16; j++)
				d[i + j] *= w;
		for (; i < n; i++)
			d[i] *= w;
	} else {
		float *restrict f = buf;
		float wf = (float)w;
		for (; i < blocks; i += 16)
			for (j = 0; j < 16; j++)
				f[i + j] *= wf;
		for (; i < n; i++)
			f[i] *= wf;
	}
}

/*
 * Gathers this rank's slice of the batch rows[0, st->n) into st->x and
 * st->y, runs m->grad on it and returns the batch's mean loss, leaving
 * the batch's mean gradient in st->grads (and, with update_buffers, the
 * averaged running statistics in st->params) on every rank.
 */
double nnrt_dist_grad(Rt *rt, NnrtStep *st, const long *rows)
{
	const NnrtModel *m = rt->m;
	long n = st->n, first, len;
	long nb = m->n_params - m->n_trainable;
	size_t rs = (size_t)m->real_size;
	char *bufs = (char *)st->params + (size_t)m->n_trainable * rs;
	double w, loss = 0;

	if (nnrt_dist_size() == 1) {
		nnrt_infer_gather(&rt->data, rows, n, rt->bx, rt->by);
		return m->grad(st);
	}
	nnrt_dist_part(n, &first, &len);
	w = (double)len / (double)n;
	if (len > 0) {
		nnrt_infer_gather(&rt->data, rows + first, len, rt->bx,
				  rt->by);
		st->n = (int)len;
		st->row0 = first;
		loss = m->grad(st) * w;
		st->n = (int)n;
		st->row0 = 0;
		scale(rt, st->grads, m->n_trainable, w);
		if (st->update_buffers)
			scale(rt, bufs, nb, w);
	} else {
		/* no rows: this rank adds nothing, its buffers included */
		memset(st->grads, 0, (size_t)m->n_trainable * rs);
		if (st->update_buffers)
			memset(bufs, 0, (size_t)nb * rs);
	}
	nnrt_dist_sum_reals(st->grads, m->n_trainable, m->real_size);
	if (st->update_buffers && nb > 0)
		nnrt_dist_sum_reals(bufs, nb, m->real_size);
	nnrt_dist_sum(&loss, 1);
	return loss;
}

/* FNV-1a over the training rows' bytes: two ranks that read different
 * files of the same length would otherwise train on a mix of both. */
static long checksum(const Data *d)
{
	const unsigned char *p[2] = { (const void *)d->x, (const void *)d->y };
	size_t n[2], i;
	uint64_t h = 14695981039346656037ull;
	int k;

	n[0] = d->x ? (size_t)d->n * (size_t)d->nx * sizeof(float) : 0;
	n[1] = d->y ? (size_t)d->n * (size_t)d->ny * sizeof(float) : 0;
	for (k = 0; k < 2; k++)
		for (i = 0; i < n[k]; i++)
			h = (h ^ p[k][i]) * 1099511628211ull;
	return (long)(h >> 1);
}

/* Every rank must take the same steps over the same rows, or the
 * allreduces would pair different steps (or wait forever): a rank
 * whose data or checkpoint differ from rank 0's stops the job. */
void nnrt_dist_check(const Rt *rt, long steps_per_epoch)
{
	static const char *const what[] = {
		"training rows", "validation rows", "steps per epoch",
		"step", "epoch", "seed", "data checksum",
	};
	enum { N = sizeof what / sizeof what[0] };
	long mine[N], r0[N];
	int k;

	if (nnrt_dist_size() == 1)
		return;
	mine[0] = rt->n_train;
	mine[1] = rt->n_val;
	mine[2] = steps_per_epoch;
	mine[3] = rt->step;
	mine[4] = rt->epoch;
	mine[5] = (long)rt->seed;
	mine[6] = checksum(&rt->data);
	memcpy(r0, mine, sizeof r0);
	nnrt_dist_bcast(r0, N);
	for (k = 0; k < N; k++)
		if (mine[k] != r0[k])
			nnrt_base_die(rt, "%s %ld, rank 0 has %ld: every rank "
				      "must read the same data (and "
				      "checkpoint)", what[k], mine[k], r0[k]);
}
