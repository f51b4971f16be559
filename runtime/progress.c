/*
 * progress.c - what training prints while it runs, and the CSV log.
 *
 * Not a terminal (a pipe, a file, CI): exactly one line per epoch,
 *
 *   epoch 3/200 loss 0.4123 val_loss 0.3921 val_accuracy 0.9000 lr 0.01
 *
 * keys in this order and only when they exist: loss (mean training
 * batch loss, weighted by batch size), the metrics on the training rows
 * (accuracy, mae, rmse, in that order: the train block's metrics when
 * there is no validation split, and accuracy when early stopping
 * monitors it), val_loss, the metrics on the validation rows
 * (val_accuracy, val_mae, val_rmse), lr. Losses and metrics print as
 * %.4f, lr as %g. Losses are in the units the model trains on (with
 * normalize_target, the scaled target's); mae and rmse in the target's. Nothing in these lines depends on time, so the same seed gives
 * the same output byte for byte.
 *
 * A terminal: the same epoch lines, and while an epoch runs a line
 * rewritten in place with \r: epoch, a bar of the batches done, the
 * running loss and the estimated time left for the whole run.
 *
 * The log (--log or train.log) is a CSV file with a header of the same
 * keys, epoch first, then `seconds` (the wall time of the epoch's
 * training steps, the only column that depends on the clock), one row
 * per epoch. A resumed run appends to it. Epoch lines and log rows are
 * flushed at most ten times a second (FLUSH_EVERY), and at the end.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rt.h"

#define BAR_WIDTH 24

double nnrt_progress_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void header_metrics(FILE *f, const char *prefix, const Metrics *mt)
{
	int k;

	for (k = 0; k < NNRT_METRIC_COUNT; k++)
		if (mt->which & 1u << k)
			fprintf(f, ",%s%s", prefix,
				nnrt_summary_metric_name(k));
}

static void write_header(FILE *f, const EpochStats *k)
{
	fputs("epoch,loss", f);
	header_metrics(f, "", &k->train);
	if (k->has_val)
		fputs(",val_loss", f);
	header_metrics(f, "val_", &k->val);
	fputs(",lr,seconds\n", f);
}

void nnrt_progress_open(Rt *rt, Progress *p, const EpochStats *keys,
			long batches_left)
{
	memset(p, 0, sizeof *p);
	p->tty = isatty(STDOUT_FILENO);
	p->total = batches_left;
	p->t0 = nnrt_progress_now();
	p->t_last = p->t0;
	p->log_path = rt->opt.log ? rt->opt.log : rt->m->train.log;
	if (!p->log_path || nnrt_dist_rank() > 0)
		return;
	p->log = fopen(p->log_path, rt->opt.resume ? "a" : "w");
	if (!p->log)
		nnrt_base_die(rt, "cannot create log '%s': %s", p->log_path,
			      strerror(errno));
	if (ftell(p->log) == 0)
		write_header(p->log, keys);
	fflush(p->log);
}

static void format_eta(char *buf, size_t n, double secs)
{
	long s = secs > 0 && secs < 1e8 ? (long)(secs + 0.5) : 0;

	if (s >= 3600)
		snprintf(buf, n, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60,
			 s % 60);
	else
		snprintf(buf, n, "%ld:%02ld", s / 60, s % 60);
}

/* Called after every step; draws at most ten times a second. */
void nnrt_progress_batch(Progress *p, const EpochStats *s, long b, long nb,
			 double running_loss)
{
	char bar[BAR_WIDTH + 1], eta[32];
	double t;
	long i, filled;

	p->done++;
	if (!p->tty)
		return;
	t = nnrt_progress_now();
	if (b + 1 < nb && t - p->t_last < 0.1)
		return;
	p->t_last = t;
	filled = (b + 1) * BAR_WIDTH / nb;
	for (i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < filled ? '=' : (i == filled ? '>' : '.');
	bar[BAR_WIDTH] = '\0';
	format_eta(eta, sizeof eta,
		   (t - p->t0) / (double)p->done * (double)(p->total - p->done));
	printf("\r\033[Kepoch %d/%d [%s] %ld/%ld loss %.4f eta %s", s->epoch,
	       s->epochs, bar, b + 1, nb, running_loss, eta);
	fflush(stdout);
}

static void print_line(FILE *f, const EpochStats *s)
{
	fprintf(f, "epoch %d/%d loss %.4f", s->epoch, s->epochs, s->loss);
	nnrt_infer_print_metrics(f, "", &s->train);
	if (s->has_val)
		fprintf(f, " val_loss %.4f", s->val_loss);
	nnrt_infer_print_metrics(f, "val_", &s->val);
	fprintf(f, " lr %g\n", s->lr);
}

static void row_metrics(FILE *f, const Metrics *mt)
{
	int k;

	for (k = 0; k < NNRT_METRIC_COUNT; k++)
		if (mt->which & 1u << k)
			fprintf(f, ",%.9g", mt->v[k]);
}

static void log_row(FILE *f, const EpochStats *s)
{
	fprintf(f, "%d,%.9g", s->epoch, s->loss);
	row_metrics(f, &s->train);
	if (s->has_val)
		fprintf(f, ",%.9g", s->val_loss);
	row_metrics(f, &s->val);
	fprintf(f, ",%g,%.6g\n", s->lr, s->seconds);
}

/* Flushing after every epoch costs a write(2) for each stream, more than
 * a whole epoch of a tiny net (xor: 0.6 us): a stdout that is not a
 * terminal, and the log, are flushed at most this often (seconds), and
 * at the end of the run (nnrt_progress_close, exit). */
#define FLUSH_EVERY 0.1

void nnrt_progress_epoch(Rt *rt, Progress *p, const EpochStats *s)
{
	double t = nnrt_progress_now();
	int flush = p->tty || t - p->t_flush >= FLUSH_EVERY;

	if (p->tty)
		fputs("\r\033[K", stdout);
	print_line(stdout, s);
	if (flush) {
		fflush(stdout);
		p->t_flush = t;
	}
	if (!p->log)
		return;
	log_row(p->log, s);
	if ((flush && fflush(p->log) != 0) || ferror(p->log))
		nnrt_base_die(rt, "cannot write log '%s': %s", p->log_path,
			      strerror(errno));
}

void nnrt_progress_close(Rt *rt, Progress *p)
{
	fflush(stdout);
	if (p->log && fclose(p->log) != 0)
		nnrt_base_die(rt, "cannot write log '%s': %s", p->log_path,
			      strerror(errno));
	p->log = NULL;
}
