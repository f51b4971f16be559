/*
 * infer.c - the model run forward over data: the loss and metrics of a
 * set of rows (for train, eval and --test), and the `eval` and
 * `predict` subcommands.
 *
 * Rows are gathered into the float batch buffers max_batch at a time
 * and passed to m->eval (inference mode). The loss of a set is the mean
 * of the per-sample losses, summed in row order in double.
 *
 * Metrics (nnrt.h's NNRT_METRICS), from the FIRST output (its first
 * output_sizes[0] floats) and the target:
 *   accuracy  for a class target, the argmax of the output (the first
 *             maximum wins) equals the class; for a real-valued target
 *             of size 1, (out > 0.5) == (y > 0.5) on the first float;
 *   mae       mean of |out - y| over every row and target element;
 *   rmse      sqrt of the mean of (out - y)^2, the same way;
 * mae and rmse need a real target and a first output of its size. With
 * normalize_target they (and accuracy) are computed in the target's own
 * units: out and y are mapped back (x * std + mean) first. The loss is
 * the model's, so it stays in the scaled units the model trained on.
 *
 * eval: loss and metrics of the checkpoint's tensors on the validation
 * rows: the split of the data source (the checkpoint's seed and
 * fraction give the same split as training; without a split, all rows)
 * or the validation source; or with --data on every row of that
 * source. One line, and with --test a second one for the test set; both
 * have the train block's metrics and accuracy whenever the model has it:
 *
 *   eval loss 0.1234 accuracy 0.9667 (30 samples)
 *   test loss 0.1311 mae 41.2 rmse 52.3 (40 samples)
 *
 * predict: the model's outputs for every row of a CSV file, read with
 * the train block's `skip`, or every image of an IDX file (default: the
 * data source's file or images). A CSV row has either exactly
 * input_size columns or the training layout. The stored normalisation
 * is applied. Output, as CSV to stdout or --output:
 * a header naming the outputs (`yhat` for a size-1 output, else
 * `probs_0,probs_1,...`), one row per sample with %.6g values, and for a
 * class model a last column `class`, the argmax of the first output (the
 * label itself when the training file's labels were strings). With
 * normalize_target, every output with as many elements as the target is
 * written in the target's units (element j mapped back with the target's
 * column j statistics); other outputs are written as computed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

/* The metrics this model can measure (NNRT_METRIC_BIT bits). */
unsigned nnrt_infer_can(const NnrtModel *m)
{
	unsigned can = 0;

	if (m->n_outputs < 1 || m->output_sizes[0] < 1)
		return 0;
	if (m->n_classes > 0 || m->target_size == 1)
		can |= NNRT_METRIC_BIT(ACCURACY);
	if (m->n_classes == 0 && m->output_sizes[0] == m->target_size)
		can |= NNRT_METRIC_BIT(MAE) | NNRT_METRIC_BIT(RMSE);
	return can;
}

/* Copies rows[0..n) of d into bx (and by, if d has targets). */
void nnrt_infer_gather(const Data *d, const long *rows, long n,
		       float *bx, float *by)
{
	size_t nx = (size_t)d->nx, ny = (size_t)d->ny;
	long i;

	for (i = 0; i < n; i++) {
		long r = rows[i];
		memcpy(bx + (size_t)i * nx, d->x + (size_t)r * nx,
		       nx * sizeof(float));
		if (by && d->y)
			memcpy(by + (size_t)i * ny, d->y + (size_t)r * ny,
			       ny * sizeof(float));
	}
}

static long argmax(const float *o, long n)
{
	long best = 0, j;

	for (j = 1; j < n; j++)
		if (o[j] > o[best])
			best = j;
	return best;
}

/* Sums of a batch, for the metrics: correct rows, |error| and error^2
 * over every target element, in the target's units. */
typedef struct Sums {
	double right, abs, sq;
} Sums;

static void add_batch(const Rt *rt, const float *out, const float *y,
		      long n, Sums *t)
{
	const NnrtModel *m = rt->m;
	long i, j, ny = m->target_size;

	for (i = 0; i < n; i++) {
		const float *o = out + i * m->output_size;
		const float *yi = y + i * ny;
		if (m->n_classes > 0) {
			t->right += argmax(o, m->output_sizes[0]) == (long)yi[0];
			continue;
		}
		t->right += (nnrt_prep_target(rt, 0, o[0]) > 0.5) ==
			    (nnrt_prep_target(rt, 0, yi[0]) > 0.5);
		for (j = 0; j < ny && j < m->output_sizes[0]; j++) {
			double e = nnrt_prep_target(rt, j, o[j]) -
				   nnrt_prep_target(rt, j, yi[j]);
			t->abs += fabs(e);
			t->sq += e * e;
		}
	}
}

/* Loss (and the metrics of want this model has) of rows[0..n) of d
 * under rt->params. */
void nnrt_infer_score(Rt *rt, const Data *d, const long *rows, long n,
		      unsigned want, Score *s)
{
	const NnrtModel *m = rt->m;
	double sum = 0, elems = (double)n * (double)m->target_size;
	Sums t = {0, 0, 0};
	long lo, i, first, len;
	double v[4];

	want &= nnrt_infer_can(m);
	/* under MPI each rank scores its part of the rows (dist.c) */
	nnrt_dist_part(n, &first, &len);
	for (lo = first; lo < first + len; lo += m->max_batch) {
		long k = first + len - lo < m->max_batch ? first + len - lo
							 : m->max_batch;
		nnrt_infer_gather(d, rows + lo, k, rt->bx, rt->by);
		NnrtStep st = nnrt_base_step(rt, rt->bx, rt->by, (int)k);
		m->eval(&st, rt->loss, want ? rt->out : NULL);
		for (i = 0; i < k; i++)
			sum += rt->loss[i];
		if (want)
			add_batch(rt, rt->out, rt->by, k, &t);
	}
	if (nnrt_dist_size() > 1) {
		v[0] = sum;
		v[1] = t.right;
		v[2] = t.abs;
		v[3] = t.sq;
		nnrt_dist_sum(v, 4);
		sum = v[0];
		t.right = v[1];
		t.abs = v[2];
		t.sq = v[3];
	}
	memset(s, 0, sizeof *s);
	s->n = n;
	s->loss = n > 0 ? sum / (double)n : 0.0;
	s->m.which = n > 0 ? want : 0;
	if (n == 0)
		return;
	s->m.v[NNRT_METRIC_ACCURACY] = t.right / (double)n;
	s->m.v[NNRT_METRIC_MAE] = t.abs / elems;
	s->m.v[NNRT_METRIC_RMSE] = sqrt(t.sq / elems);
}

/* " accuracy 0.9667 mae 1.2345": the metrics measured, each name after
 * prefix ("val_" or ""). */
void nnrt_infer_print_metrics(FILE *f, const char *prefix, const Metrics *mt)
{
	int k;

	for (k = 0; k < NNRT_METRIC_COUNT; k++)
		if (mt->which & 1u << k)
			fprintf(f, " %s%s %.4f", prefix,
				nnrt_summary_metric_name(k), mt->v[k]);
}

/* "eval loss 0.1234 accuracy 0.9667 (30 samples)" */
void nnrt_infer_print(const char *label, const Score *s)
{
	printf("%s loss %.4f", label, s->loss);
	nnrt_infer_print_metrics(stdout, "", &s->m);
	printf(" (%ld samples)\n", s->n);
}

/* ---- the subcommands ---- */

static void load(Rt *rt)
{
	nnrt_prep_buffers(rt);
	nnrt_ckpt_load(rt, nnrt_prep_ckpt_path(rt));
}

/* "test loss 0.3312 accuracy 0.8841 (10000 samples)": every row of the
 * test set (rt->tdata, read by nnrt_prep_test). */
void nnrt_infer_test(Rt *rt, Score *out)
{
	long *rows = nnrt_prep_rows(rt, rt->tdata.n);
	Score sc;

	nnrt_infer_score(rt, &rt->tdata, rows, rt->tdata.n,
			 rt->m->train.metrics | NNRT_METRIC_BIT(ACCURACY), &sc);
	nnrt_infer_print("test", &sc);
	free(rows);
	if (out)
		*out = sc;
}

int nnrt_infer_eval(Rt *rt)
{
	unsigned want = rt->m->train.metrics | NNRT_METRIC_BIT(ACCURACY);
	NnrtSource src;
	Score sc;
	long *rows;

	load(rt);
	if (rt->opt.data) {
		src = nnrt_prep_data_source(rt);
		nnrt_prep_load(rt, &src, &rt->data);
		rows = nnrt_prep_rows(rt, rt->data.n);
		nnrt_infer_score(rt, &rt->data, rows, rt->data.n, want, &sc);
		free(rows);
	} else {
		/* params come from the checkpoint: the initial tensors are
		 * drawn (and dropped) only to reach the split's draws */
		nnrt_prep_data(rt, 0, NULL);
		if (rt->n_val > 0)
			nnrt_infer_score(rt, rt->val, rt->val_rows,
					 rt->n_val, want, &sc);
		else
			nnrt_infer_score(rt, &rt->data, rt->train_rows,
					 rt->n_train, want, &sc);
	}
	nnrt_infer_print("eval", &sc);
	if (rt->opt.has_test) {
		nnrt_prep_test(rt);
		nnrt_infer_test(rt, NULL);
	}
	return 0;
}

static void write_header(FILE *f, const NnrtModel *m)
{
	int j;
	long k;

	for (j = 0; j < m->n_outputs; j++) {
		const char *name = m->output_names[j];
		if (m->output_sizes[j] == 1) {
			fprintf(f, "%s%s", j ? "," : "", name);
			continue;
		}
		for (k = 0; k < m->output_sizes[j]; k++)
			fprintf(f, "%s%s_%ld", j || k ? "," : "", name, k);
	}
	if (m->n_classes > 0)
		fputs(",class", f);
	fputc('\n', f);
}

/* One row of predict's output: outputs of the target's size back in
 * the target's units (normalize_target), then the class (its name for
 * string labels). */
static void write_row(FILE *f, const Rt *rt, const float *o)
{
	const NnrtModel *m = rt->m;
	long k, j, at = 0;
	int i;

	for (i = 0; i < m->n_outputs; i++) {
		int real = m->n_classes == 0 &&
			   m->output_sizes[i] == m->target_size;
		for (j = 0; j < m->output_sizes[i]; j++, at++)
			fprintf(f, "%s%.6g", at ? "," : "",
				real ? nnrt_prep_target(rt, j, o[at]) : o[at]);
	}
	if (m->n_classes > 0) {
		k = argmax(o, m->output_sizes[0]);
		if (rt->labels.n > 0)
			fprintf(f, ",%s", rt->labels.names[k]);
		else
			fprintf(f, ",%ld", k);
	}
	fputc('\n', f);
}

int nnrt_infer_predict(Rt *rt)
{
	const NnrtModel *m = rt->m;
	NnrtSource src;
	AtomicFile af;
	Data d;
	FILE *f = stdout;
	long lo, i;

	load(rt);
	src = nnrt_prep_data_source(rt);
	if (rt->opt.input)
		src.path = rt->opt.input;
	nnrt_data_load(rt, &src, DATA_INPUT, &d);
	nnrt_prep_apply(rt, &d);
	if (rt->opt.output)
		f = nnrt_base_create(rt, &af, rt->opt.output);
	write_header(f, m);
	for (lo = 0; lo < d.n; lo += m->max_batch) {
		long k = d.n - lo < m->max_batch ? d.n - lo : m->max_batch;
		NnrtStep st = nnrt_base_step(rt, d.x + lo * d.nx, NULL,
					     (int)k);
		m->predict(&st, rt->out);
		for (i = 0; i < k; i++)
			write_row(f, rt, rt->out + i * m->output_size);
	}
	if (rt->opt.output)
		nnrt_base_commit(rt, &af);
	else if (fflush(stdout) != 0 || ferror(stdout))
		nnrt_base_die(rt, "cannot write the predictions to stdout");
	return 0;
}
