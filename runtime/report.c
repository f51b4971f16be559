/*
 * report.c - the HTML training report's rows: `train --report PATH` (or
 * the train block's report = "PATH") and the `report` subcommand.
 *
 * The report (page.c draws it, chart.c its charts) is the log in
 * another form, with the model and the settings around it. Its columns
 * are the log's (epoch, loss, metrics, val_loss, val_ metrics, lr,
 * seconds) and each epoch adds one row. So `train` keeps the same rows
 * in memory and rewrites the report atomically (PATH.tmp, fsync,
 * rename: AtomicFile) before the first epoch, after each epoch (short
 * epochs: see nnrt_report_epoch) and at the end, and `report --log CSV`
 * rebuilds it from a log.
 *
 * The best epoch follows train.c's rule (early stopping's monitor and
 * min_delta; without early stopping the lowest val_loss, or loss); an
 * early stop is a last row `patience` epochs past the best one. Samples
 * per second need the training rows of an epoch: `train` knows them, a
 * rebuild knows them when --checkpoint names the run's checkpoint (its
 * data is read again, which also times loading it); without, the
 * timing chart shows seconds per epoch.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rt.h"

/* ---- the rows ---- */

int nnrt_report_col(const Report *r, const char *name)
{
	int c;

	for (c = 0; c < r->ncols; c++)
		if (!strcmp(r->col[c], name))
			return c;
	return -1;
}

static void add_col(Report *r, const char *prefix, const char *name)
{
	snprintf(r->col[r->ncols++], sizeof r->col[0], "%s%s", prefix, name);
}

static void add_metric_cols(Report *r, const char *prefix, const Metrics *mt)
{
	int k;

	for (k = 0; k < NNRT_METRIC_COUNT; k++)
		if (mt->which & 1u << k)
			add_col(r, prefix, nnrt_summary_metric_name(k));
}

/* The log's columns, in progress.c's order (write_header). */
static void columns_of(Report *r, const EpochStats *k)
{
	r->ncols = 0;
	add_col(r, "", "epoch");
	add_col(r, "", "loss");
	add_metric_cols(r, "", &k->train);
	if (k->has_val)
		add_col(r, "", "val_loss");
	add_metric_cols(r, "val_", &k->val);
	add_col(r, "", "lr");
	add_col(r, "", "seconds");
}

static double *new_row(const Rt *rt, Report *r)
{
	if (r->nrows == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->v = nnrt_base_grow(rt, r->v, (size_t)(r->cap * r->ncols),
				      sizeof(double));
		r->samples = nnrt_base_grow(rt, r->samples, (size_t)r->cap,
					    sizeof(long));
	}
	r->samples[r->nrows] = 0;
	return r->v + r->nrows++ * r->ncols;
}

static void put_metrics(double **p, const Metrics *mt)
{
	int k;

	for (k = 0; k < NNRT_METRIC_COUNT; k++)
		if (mt->which & 1u << k)
			*(*p)++ = mt->v[k];
}

/* One epoch's row, in columns_of's order (progress.c's log_row). */
static void add_row(const Rt *rt, Report *r, const EpochStats *s)
{
	double *row = new_row(rt, r), *p = row;

	*p++ = s->epoch;
	*p++ = s->loss;
	put_metrics(&p, &s->train);
	if (s->has_val)
		*p++ = s->val_loss;
	put_metrics(&p, &s->val);
	*p++ = s->lr;
	*p++ = s->seconds;
	r->samples[r->nrows - 1] = s->samples;
}

/* ---- reading a log ---- */

static int known_column(const char *name)
{
	static const char *const fixed[] = {
		"epoch", "loss", "val_loss", "lr", "seconds"
	};
	const char *base = strncmp(name, "val_", 4) ? name : name + 4;
	size_t i;

	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (!strcmp(name, fixed[i]))
			return 1;
	for (i = 0; i < NNRT_METRIC_COUNT; i++)
		if (!strcmp(base, nnrt_summary_metric_name((NnrtMetric)i)))
			return 1;
	return 0;
}

/* Splits a line at commas in place; returns the number of fields. */
static int split(char *line, char **field, int max)
{
	int n = 0;

	for (;;) {
		if (n == max)
			return max + 1;
		field[n++] = line;
		line = strchr(line, ',');
		if (!line)
			return n;
		*line++ = '\0';
	}
}

static int header(Report *r, char *line, char *err, size_t n)
{
	char *f[REPORT_MAX_COLS];
	int k, nf = split(line, f, REPORT_MAX_COLS);

	if (nf > REPORT_MAX_COLS) {
		snprintf(err, n, "more than %d columns", REPORT_MAX_COLS);
		return 0;
	}
	r->ncols = 0;
	for (k = 0; k < nf; k++) {
		if (!known_column(f[k]) || strlen(f[k]) >= sizeof r->col[0]) {
			snprintf(err, n, "unknown column '%.40s' (a log has "
				 "epoch, loss, metrics, val_loss, lr, seconds)",
				 f[k]);
			return 0;
		}
		if (nnrt_report_col(r, f[k]) >= 0) {
			snprintf(err, n, "column '%s' twice", f[k]);
			return 0;
		}
		add_col(r, "", f[k]);
	}
	if (strcmp(r->col[0], "epoch") || nnrt_report_col(r, "loss") < 0) {
		snprintf(err, n, "not a training log: the header must start "
			 "with 'epoch' and have a 'loss' column");
		return 0;
	}
	return 1;
}

/* A row's numbers; an epoch not after the previous row's is a resume
 * from an earlier checkpoint, whose rows replace the ones it re-ran. */
static int row(const Rt *rt, Report *r, char *line, char *err, size_t n)
{
	char *f[REPORT_MAX_COLS], *end;
	int k, nf = split(line, f, r->ncols);
	double v[REPORT_MAX_COLS];

	if (nf != r->ncols) {
		snprintf(err, n, "%s%d fields, expected %d as in the header",
			 nf > r->ncols ? "more than " : "", nf > r->ncols
			 ? r->ncols : nf, r->ncols);
		return 0;
	}
	for (k = 0; k < nf; k++) {
		v[k] = strtod(f[k], &end);   /* an underflow is a 0: fine */
		if (!*f[k] || *end) {
			snprintf(err, n, "column '%s': '%.40s' is not a "
				 "number", r->col[k], f[k]);
			return 0;
		}
	}
	if (!(v[0] >= 1 && v[0] <= 16777216 && v[0] == floor(v[0]))) {
		snprintf(err, n, "epoch '%s' is not a positive integer", f[0]);
		return 0;
	}
	while (r->nrows > 0 && r->v[(r->nrows - 1) * r->ncols] >= v[0])
		r->nrows--;
	memcpy(new_row(rt, r), v, (size_t)r->ncols * sizeof v[0]);
	return 1;
}

/* Reads a log's rows up to epoch max (0: all). Returns the line of an
 * error, with its text in err; 0 on success. */
static long read_log(const Rt *rt, Report *r, const char *path, long max,
		     char *err, size_t n)
{
	char *line = NULL, *hdr = NULL;
	size_t cap = 0;
	ssize_t len;
	long no = 0, bad = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, n, "cannot open: %s", strerror(errno));
		return 1;
	}
	r->nrows = 0;
	while (!bad && (len = getline(&line, &cap, f)) >= 0) {
		no++;
		while (len > 0 && (line[len - 1] == '\n' ||
				   line[len - 1] == '\r'))
			line[--len] = '\0';
		if ((size_t)len != strlen(line)) {
			snprintf(err, n, "a NUL byte: not a text file");
			bad = no;
		} else if (no == 1) {
			hdr = nnrt_base_strdup(rt, line);
			bad = header(r, line, err, n) ? 0 : no;
		} else if (!strcmp(line, hdr)) {
			continue;         /* a resumed run's header again */
		} else if (!row(rt, r, line, err, n)) {
			bad = no;
		} else if (max && r->v[(r->nrows - 1) * r->ncols] > max) {
			r->nrows--;
		}
	}
	if (!bad && ferror(f)) {
		snprintf(err, n, "cannot read: %s", strerror(errno));
		bad = no + 1;
	}
	if (!bad && no == 0) {
		snprintf(err, n, "the file is empty: no header");
		bad = 1;
	}
	fclose(f);
	free(line);
	free(hdr);
	return bad;
}

/* ---- what the rows say ---- */

double nnrt_report_cell(const Report *r, long i, int c)
{
	return c < 0 ? NAN : r->v[i * r->ncols + c];
}

/* The monitor's column: early stopping's (val_ falls back to the
 * training column without a split, as in train.c), else val_loss or
 * loss. */
static int monitor_col(const Rt *rt, const Report *r, int *higher)
{
	const NnrtTrainConfig *t = &rt->m->train;
	const char *name = t->early_stop ? nnrt_summary_monitor_name(t->monitor)
					 : "val_loss";
	int c = nnrt_report_col(r, name);

	if (c < 0 && !strncmp(name, "val_", 4))
		c = nnrt_report_col(r, name + 4);
	*higher = c >= 0 && strstr(r->col[c], "accuracy") != NULL;
	return c;
}

/* train.c's early_stop() over the rows. */
void nnrt_report_best(const Rt *rt, const Report *r, int *best, int *stop)
{
	const NnrtTrainConfig *t = &rt->m->train;
	double delta = t->early_stop ? t->min_delta : 0, bv = 0;
	int higher, c = monitor_col(rt, r, &higher), wait = 0;
	long i;

	*best = *stop = 0;
	for (i = 0; c >= 0 && i < r->nrows; i++) {
		double v = nnrt_report_cell(r, i, c);
		int better = !*best ? !isnan(v) : higher ? v > bv + delta
							 : v < bv - delta;
		if (better) {
			bv = v;
			*best = (int)nnrt_report_cell(r, i, 0);
			wait = 0;
		} else {
			wait++;
		}
	}
	if (t->early_stop && *best && wait >= t->patience &&
	    r->state != REPORT_INTERRUPTED && r->state != REPORT_FAILED)
		*stop = (int)nnrt_report_cell(r, r->nrows - 1, 0);
}

/* This thread's CPU time: what writing the page costs and what the
 * epochs between two writes cost, whatever share of the machine the
 * run gets. */
static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void write_report(Rt *rt, Report *r)
{
	double t0 = cpu_now();

	nnrt_page_write(nnrt_base_create(rt, &r->af, r->path), rt, r);
	nnrt_base_commit(rt, &r->af);
	r->written = cpu_now();
	r->cost = r->written - t0;
}

/* ---- train's hooks ---- */

/* Starts the report of a run (nothing without --report or a report
 * key) and writes it once before the first epoch, so a path that
 * cannot be written fails the run before it trains. A resumed run
 * takes its earlier epochs from its log when it has one. */
void nnrt_report_open(Rt *rt, Report *r, const EpochStats *keys,
		      int epochs, long batch, double load_seconds)
{
	const char *log = rt->opt.log ? rt->opt.log : rt->m->train.log;
	char err[256];
	Report old;

	memset(r, 0, sizeof *r);
	r->path = rt->opt.report ? rt->opt.report : rt->m->train.report;
	if (!r->path)
		return;
	if (log && !strcmp(log, r->path))
		nnrt_base_die(rt, "the report and the log are both '%s'",
			      r->path);
	if (nnrt_dist_rank() != 0) {	/* rank 0 writes it, as the log */
		r->path = NULL;
		return;
	}
	columns_of(r, keys);
	r->ckpt = nnrt_prep_ckpt_path(rt);
	r->epochs = epochs;
	r->base_lr = keys->lr;
	r->batch = batch;
	r->n_train = rt->n_train;
	r->n_val = rt->n_val;
	r->has_run = 1;
	r->load_seconds = load_seconds;
	r->first_epoch = rt->epoch + 1;
	if (rt->epoch > 0 && log && nnrt_base_exists(log)) {
		memset(&old, 0, sizeof old);
		if (read_log(rt, &old, log, rt->epoch, err, sizeof err) == 0 &&
		    old.ncols == r->ncols &&
		    !memcmp(old.col, r->col, sizeof r->col)) {
			long i, full = rt->m->train.drop_last
				       ? rt->n_train / batch * batch
				       : rt->n_train;
			for (i = 0; i < old.nrows; i++)
				memcpy(new_row(rt, r), old.v + i * old.ncols,
				       (size_t)old.ncols * sizeof(double));
			for (i = 0; i < r->nrows; i++)
				r->samples[i] = full;
			r->first_epoch = r->nrows ? (long)nnrt_report_cell(r, 0, 0) : 1;
		}
		free(old.v);
		free(old.samples);
	}
	r->state = REPORT_RUNNING;
	write_report(rt, r);
	rt->report = r;
}

/* A page grows with the epochs: rewriting it after each of many short
 * epochs would cost more than they do (500 epochs of xor: 5 times the
 * run). So an epoch's rewrite waits until the run has spent four times
 * the CPU time the last one took, which keeps the report under a fifth
 * of the run's CPU time; an epoch of a real model takes far longer, and
 * each one is written. */
void nnrt_report_epoch(Rt *rt, Report *r, const EpochStats *s)
{
	if (!r->path)
		return;
	add_row(rt, r, s);
	if (cpu_now() - r->written >= 4 * r->cost)
		write_report(rt, r);
}

void nnrt_report_close(Rt *rt, Report *r, ReportState state)
{
	if (!r->path)
		return;
	rt->report = NULL;
	r->state = state;
	write_report(rt, r);
	free(r->v);
	free(r->samples);
	r->v = NULL;
	r->samples = NULL;
}

/* A fatal error during training (nnrt_base_die): the page says the run
 * failed, and why, and stops reloading itself, instead of showing a run
 * that seems to go on. Once: an error while writing it leaves the last
 * page (the report is forgotten before the write). */
void nnrt_report_fail(const Rt *rt, const char *msg)
{
	Rt *w = (Rt *)rt;         /* the run is ending: nothing else reads it */
	Report *r = rt ? rt->report : NULL;

	if (!r || !r->path)
		return;
	w->report = NULL;
	r->state = REPORT_FAILED;
	snprintf(r->failure, sizeof r->failure, "%s", msg);
	write_report(w, r);
}

/* ---- the `report` subcommand ---- */

/* --checkpoint: the run's seed and data, and its rows read again (for
 * samples per second, and the time loading them takes). */
static void run_of_checkpoint(Rt *rt, Report *r)
{
	const NnrtModel *m = rt->m;
	long batch = m->train.batch > 0 ? m->train.batch : m->max_batch;
	double t0;
	long i;

	nnrt_prep_buffers(rt);
	nnrt_ckpt_load(rt, rt->opt.checkpoint);
	t0 = nnrt_progress_now();
	nnrt_prep_data(rt, 0, NULL);
	r->load_seconds = nnrt_progress_now() - t0;
	r->has_run = 1;
	r->n_train = rt->n_train;
	r->n_val = rt->n_val;
	for (i = 0; i < r->nrows; i++)
		r->samples[i] = m->train.drop_last ? rt->n_train / batch * batch
						   : rt->n_train;
}

int nnrt_report_run(Rt *rt)
{
	Report r;
	char err[256];
	long line;
	int last;

	memset(&r, 0, sizeof r);
	r.log = rt->opt.log;
	r.ckpt = nnrt_prep_ckpt_path(rt);
	r.path = rt->opt.output;
	r.state = REPORT_FROM_LOG;
	r.base_lr = -1;
	r.load_seconds = -1;
	line = read_log(rt, &r, r.log, 0, err, sizeof err);
	if (line)
		nnrt_base_die(rt, "%s:%ld: %s", r.log, line, err);
	if (r.nrows == 0)
		nnrt_base_die(rt, "%s:1: no epochs after the header", r.log);
	last = (int)nnrt_report_cell(&r, r.nrows - 1, 0);
	r.epochs = last > rt->m->train.epochs ? last : rt->m->train.epochs;
	r.first_epoch = (long)nnrt_report_cell(&r, 0, 0);
	if (rt->opt.checkpoint)
		run_of_checkpoint(rt, &r);
	if (r.path) {
		if (!strcmp(r.path, r.log))
			nnrt_base_die(rt, "the report would overwrite its log "
				      "'%s'", r.log);
		write_report(rt, &r);
	} else {
		nnrt_page_write(stdout, rt, &r);
		if (fflush(stdout) != 0 || ferror(stdout))
			nnrt_base_die(rt, "cannot write the report: %s",
				      strerror(errno));
	}
	free(r.v);
	free(r.samples);
	return 0;
}
