/*
 * infer.c - the model run forward over data: the loss and accuracy of a
 * set of rows (for train, eval and --test), and the `eval` and
 * `predict` subcommands.
 *
 * Rows are gathered into the float batch buffers max_batch at a time
 * and passed to m->eval (inference mode). The loss of a set is the mean
 * of the per-sample losses, summed in row order in double.
 *
 * Accuracy (contract): for a class target, the argmax of the FIRST
 * output (its first output_sizes[0] floats; the first maximum wins)
 * equals the class; for a real-valued target of size 1,
 * (out > 0.5) == (y > 0.5) with out the first output's first float.
 * Other models have no accuracy.
 *
 * eval: loss and accuracy of the checkpoint's tensors on the validation
 * rows: the split of the data source (the checkpoint's seed and
 * fraction give the same split as training; without a split, all rows)
 * or the validation source; or with --data on every row of that
 * source. One line, and with --test a second one for the test set:
 *
 *   eval loss 0.1234 accuracy 0.9667 (30 samples)
 *   test loss 0.1311 accuracy 0.9500 (40 samples)
 *
 * predict: the model's outputs for every row of a CSV file, read with
 * the train block's `skip`, or every image of an IDX file (default: the
 * data source's file or images). A CSV row has either exactly
 * input_size columns or the training layout. The stored normalisation
 * is applied. Output, as CSV to stdout or --output:
 * a header naming the outputs (`yhat` for a size-1 output, else
 * `probs_0,probs_1,...`), one row per sample with %.6g values, and for a
 * class model a last column `class`, the argmax of the first output.
 */
#include <stdlib.h>
#include <string.h>

#include "rt.h"

int nnrt_infer_can_accuracy(const NnrtModel *m)
{
	if (m->n_outputs < 1 || m->output_sizes[0] < 1)
		return 0;
	if (m->n_classes > 0)
		return 1;
	return m->target_size == 1;
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

static long count_correct(const NnrtModel *m, const float *out,
			  const float *y, long n)
{
	long i, j, right = 0;

	for (i = 0; i < n; i++) {
		const float *o = out + i * m->output_size;
		if (m->n_classes > 0) {
			long best = 0;
			for (j = 1; j < m->output_sizes[0]; j++)
				if (o[j] > o[best])
					best = j;
			right += best == (long)y[i];
		} else {
			right += (o[0] > 0.5f) == (y[i] > 0.5f);
		}
	}
	return right;
}

/* Loss (and accuracy, if want_acc) of rows[0..n) of d under rt->params. */
void nnrt_infer_score(Rt *rt, const Data *d, const long *rows, long n,
		      int want_acc, Score *s)
{
	const NnrtModel *m = rt->m;
	long lo, i, right = 0;
	double sum = 0;

	want_acc = want_acc && nnrt_infer_can_accuracy(m);
	for (lo = 0; lo < n; lo += m->max_batch) {
		long k = n - lo < m->max_batch ? n - lo : m->max_batch;
		nnrt_infer_gather(d, rows + lo, k, rt->bx, rt->by);
		NnrtStep st = nnrt_base_step(rt, rt->bx, rt->by, (int)k);
		m->eval(&st, rt->loss, want_acc ? rt->out : NULL);
		for (i = 0; i < k; i++)
			sum += rt->loss[i];
		if (want_acc)
			right += count_correct(m, rt->out, rt->by, k);
	}
	s->n = n;
	s->loss = n > 0 ? sum / (double)n : 0.0;
	s->has_acc = want_acc;
	s->acc = n > 0 ? (double)right / (double)n : 0.0;
}

/* "eval loss 0.1234 accuracy 0.9667 (30 samples)" */
void nnrt_infer_print(const char *label, const Score *s)
{
	printf("%s loss %.4f", label, s->loss);
	if (s->has_acc)
		printf(" accuracy %.4f", s->acc);
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
void nnrt_infer_test(Rt *rt)
{
	long *rows = nnrt_prep_rows(rt, rt->tdata.n);
	Score sc;

	nnrt_infer_score(rt, &rt->tdata, rows, rt->tdata.n, 1, &sc);
	nnrt_infer_print("test", &sc);
	free(rows);
}

int nnrt_infer_eval(Rt *rt)
{
	NnrtSource src;
	Score sc;
	long *rows;

	load(rt);
	if (rt->opt.data) {
		src = nnrt_prep_data_source(rt);
		nnrt_prep_load(rt, &src, &rt->data);
		rows = nnrt_prep_rows(rt, rt->data.n);
		nnrt_infer_score(rt, &rt->data, rows, rt->data.n, 1, &sc);
		free(rows);
	} else {
		/* params come from the checkpoint: the initial tensors are
		 * drawn (and dropped) only to reach the split's draws */
		nnrt_prep_data(rt, 0, NULL);
		if (rt->n_val > 0)
			nnrt_infer_score(rt, rt->val, rt->val_rows,
					 rt->n_val, 1, &sc);
		else
			nnrt_infer_score(rt, &rt->data, rt->train_rows,
					 rt->n_train, 1, &sc);
	}
	nnrt_infer_print("eval", &sc);
	if (rt->opt.has_test) {
		nnrt_prep_test(rt);
		nnrt_infer_test(rt);
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

static void write_rows(FILE *f, const NnrtModel *m, const float *out,
		       long n)
{
	long i, k, best;

	for (i = 0; i < n; i++) {
		const float *o = out + i * m->output_size;
		for (k = 0; k < m->output_size; k++)
			fprintf(f, "%s%.6g", k ? "," : "", o[k]);
		if (m->n_classes > 0) {
			best = 0;
			for (k = 1; k < m->output_sizes[0]; k++)
				if (o[k] > o[best])
					best = k;
			fprintf(f, ",%ld", best);
		}
		fputc('\n', f);
	}
}

int nnrt_infer_predict(Rt *rt)
{
	const NnrtModel *m = rt->m;
	NnrtSource src;
	AtomicFile af;
	Data d;
	FILE *f = stdout;
	long lo;

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
		write_rows(f, m, rt->out, k);
	}
	if (rt->opt.output)
		nnrt_base_commit(rt, &af);
	else if (fflush(stdout) != 0 || ferror(stdout))
		nnrt_base_die(rt, "cannot write the predictions to stdout");
	return 0;
}
