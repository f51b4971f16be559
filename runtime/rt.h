/*
 * rt.h - the one internal header of libnnrt.
 *
 * Sectioned by the file that owns each declaration, as compiler/nnc.h is.
 * The public interface is nnrt.h; nothing here is seen by generated code.
 * All state lives in one Rt context that nnrt_main() builds and passes
 * down: there are no mutable globals.
 */
#ifndef RT_H
#define RT_H

#include <stdint.h>
#include <stdio.h>
#include <zlib.h>

#include "nnrt.h"

/* ------------------------------------------------------------------ */
/* Types shared between files */

/* The command line, after parsing. Unset values are NULL, 0 or < 0. */
typedef struct Opts {
	const char *data, *test, *resume, *checkpoint, *log;
	const char *input, *output, *npy;
	int has_test;             /* --test given; test NULL: the block's */
	long epochs;              /* 0: the train block's */
	double lr;                /* < 0: the optimizer's */
	int has_seed;
	unsigned long seed;
	long samples;             /* gradcheck rows; 0: default */
	double tol;               /* gradcheck tolerance; < 0: default */
	const char *report;       /* train: the HTML report to keep */
	double ckpt_every;        /* seconds between checkpoints; < 0: default */
	long threads;             /* OpenBLAS threads; 0: the default */
	int no_ftz;               /* --no-ftz */
} Opts;

/* Class labels. Numeric files keep n == 0; files whose labels are
 * strings map them to 0..n-1 in strcmp order of the distinct labels. */
typedef struct Labels {
	int known;                /* 0 until the first file decides */
	int n;
	char **names;             /* sorted */
} Labels;

/* Rows of one data file: x [n, nx] and y [n, ny] floats. */
typedef struct Data {
	const char *path;
	long n, nx, ny;
	float *x, *y;             /* y is NULL for predict inputs */
} Data;

/* Feature scaling: x' = (x - shift) / scale, per feature. */
typedef struct Norm {
	NnrtNorm kind;
	long n;                   /* features; 0 when kind is NONE */
	double *shift, *scale;
} Norm;

typedef struct Rng {
	uint64_t state, inc;
} Rng;

/* A file written as PATH.tmp and renamed over PATH when complete. */
typedef struct AtomicFile {
	FILE *f;
	char *path, *tmp;
} AtomicFile;

/* Metrics of a set of rows: which (NNRT_METRIC_BIT bits) were
 * measured, and each one's value by NnrtMetric. */
typedef struct Metrics {
	unsigned which;
	double v[NNRT_METRIC_COUNT];
} Metrics;

/* Loss and metrics of a set of rows. */
typedef struct Score {
	long n;
	double loss;
	Metrics m;
} Score;

/* Early stopping's memory of the best epoch. */
typedef struct Best {
	int epoch;                /* 0: none yet */
	int wait;                 /* epochs since the last improvement */
	double value;
	int has_params;           /* Rt.best holds that epoch's params */
	int restored;             /* swapped at the end of the run: Rt.params
				     holds the best epoch's, Rt.best the last */
} Best;

/* One epoch's numbers, as printed and logged: the metrics on the
 * training rows (train.which says which are measured) and on the
 * validation rows. */
typedef struct EpochStats {
	int epoch, epochs;
	double loss, lr;
	int has_val;
	double val_loss;
	Metrics train, val;
	double seconds;           /* wall time of the epoch's steps */
	long samples;             /* training rows the steps took */
} EpochStats;

typedef struct Rt {
	const NnrtModel *m;
	const char *prog;         /* m->name: every message starts with it */
	const char *cmd;          /* the subcommand */
	Opts opt;
	AtomicFile *pending;      /* removed if we die while writing it */
	struct Report *report;    /* train's live report: a fatal error
				   * rewrites it as failed (report.c) */

	unsigned long seed;
	double validation;
	const char *data_spec;    /* the run's data source as --data spells
				   * it; NULL until known */
	Rng rng;

	void *params, *grads, *state, *ws;
	double *sched;            /* the schedule's state: n_sched doubles */
	void *best;               /* best epoch's params, or NULL */
	long step;                /* optimizer steps taken */
	int epoch;                /* epochs completed */
	Best es;

	Data data;                /* the data source's rows, normalised */
	Data vdata;               /* validation = SOURCE: its rows */
	Data tdata;               /* the test set's rows (when has_test) */
	int has_test;
	Labels labels;
	Norm norm;
	Norm tnorm;               /* normalize_target: y' = (y - shift) / scale */
	long *perm;               /* [0, n_val) validation, then training */
	const Data *val;          /* val_rows index it: &data or &vdata */
	long *val_rows, *train_rows;
	long n_val, n_train;

	/* Batch and chunk buffers: max_batch rows each. */
	float *bx, *by, *out;
	double *loss;
} Rt;

typedef enum { DATA_TRAIN, DATA_INPUT } DataMode;

/* ------------------------------------------------------------------ */
/* base.c: errors, memory, real buffers, atomic files */

_Noreturn void nnrt_base_die(const Rt *rt, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void nnrt_base_warn(const Rt *rt, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void *nnrt_base_alloc(const Rt *rt, size_t n, size_t size); /* zeroed */
void *nnrt_base_grow(const Rt *rt, void *p, size_t n, size_t size);
char *nnrt_base_strdup(const Rt *rt, const char *s);
char *nnrt_base_printf(const Rt *rt, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
double nnrt_base_get_real(const Rt *rt, const void *buf, long i);
void nnrt_base_set_real(const Rt *rt, void *buf, long i, double v);
long nnrt_base_nonfinite(const Rt *rt, const void *buf, long n);
FILE *nnrt_base_create(Rt *rt, AtomicFile *af, const char *path);
void nnrt_base_commit(Rt *rt, AtomicFile *af);
void nnrt_base_mkdirs(const Rt *rt, const char *dir);
int nnrt_base_exists(const char *path);
void nnrt_base_shape(char *buf, size_t n, int rank, const int *dims);
/* A step over rt's buffers with the batch (x, y, n); step rt->step + 1. */
NnrtStep nnrt_base_step(const Rt *rt, const float *x, const float *y, int n);

/* ------------------------------------------------------------------ */
/* rng.c: PCG32 */

void nnrt_rng_seed(Rng *r, uint64_t seed);
uint32_t nnrt_rng_u32(Rng *r);
double nnrt_rng_uniform(Rng *r);             /* [0, 1) */
double nnrt_rng_normal(Rng *r);              /* N(0, 1) */
uint64_t nnrt_rng_below(Rng *r, uint64_t n); /* [0, n), unbiased */
void nnrt_rng_shuffle(Rng *r, long *a, long n);

/* ------------------------------------------------------------------ */
/* init.c: tensor initialisers */

void nnrt_init_tensors(Rt *rt, void *dst);
void nnrt_init_describe(const NnrtTensor *t, char *buf, size_t n);

/* ------------------------------------------------------------------ */
/* data.c: CSV files, and reading any source; idx.c: IDX files */

NnrtSource nnrt_data_source(const Rt *rt);
gzFile nnrt_data_open(Rt *rt, const char *path);
void nnrt_data_load(Rt *rt, const NnrtSource *src, DataMode mode, Data *d);
void nnrt_idx_load(Rt *rt, const NnrtSource *src, DataMode mode, Data *d);

/* ------------------------------------------------------------------ */
/* prep.c: buffers, the run's sources, the validation split,
 * normalisation */

void nnrt_prep_buffers(Rt *rt);
NnrtSource nnrt_prep_source(const Rt *rt, const NnrtSource *like,
			    const char *spec);
NnrtSource nnrt_prep_test_like(const Rt *rt);
NnrtSource nnrt_prep_data_source(const Rt *rt);
void nnrt_prep_data(Rt *rt, int fit, void *init_dst);
void nnrt_prep_load(Rt *rt, const NnrtSource *src, Data *d);
void nnrt_prep_test(Rt *rt);
long *nnrt_prep_rows(const Rt *rt, long n);
void nnrt_prep_apply(const Rt *rt, Data *d);
void nnrt_prep_fit(Rt *rt);
double nnrt_prep_target(const Rt *rt, long j, double v); /* y in its units */
const char *nnrt_prep_ckpt_path(const Rt *rt);

/* ------------------------------------------------------------------ */
/* infer.c: loss and metrics over rows; eval and predict */

unsigned nnrt_infer_can(const NnrtModel *m);
void nnrt_infer_gather(const Data *d, const long *rows, long n,
		       float *bx, float *by);
void nnrt_infer_score(Rt *rt, const Data *d, const long *rows, long n,
		      unsigned want, Score *s);
void nnrt_infer_print_metrics(FILE *f, const char *prefix,
			      const Metrics *mt);
void nnrt_infer_print(const char *label, const Score *s);
void nnrt_infer_test(Rt *rt, Score *out);   /* prints it; out may be NULL */
int nnrt_infer_eval(Rt *rt);
int nnrt_infer_predict(Rt *rt);

/* ------------------------------------------------------------------ */
/* progress.c: what training prints and logs */

typedef struct Progress {
	int tty;
	FILE *log;
	const char *log_path;
	long total, done;         /* batches in the run, and done so far */
	double t0, t_last;
	double t_flush;           /* when stdout and the log were flushed */
} Progress;

void nnrt_progress_open(Rt *rt, Progress *p, const EpochStats *keys,
			long batches_left);
void nnrt_progress_batch(Progress *p, const EpochStats *s, long b,
			 long nb, double running_loss);
void nnrt_progress_epoch(Rt *rt, Progress *p, const EpochStats *s);
void nnrt_progress_close(Rt *rt, Progress *p);
double nnrt_progress_now(void);   /* CLOCK_MONOTONIC, in seconds */

/* ------------------------------------------------------------------ */
/* report.c: the training report's rows; page.c: its HTML; chart.c: its
 * SVG charts */

#define REPORT_MAX_COLS 16

typedef enum {
	REPORT_RUNNING, REPORT_FINISHED, REPORT_INTERRUPTED, REPORT_FROM_LOG,
	REPORT_FAILED
} ReportState;

/* The run as the report shows it: the columns of the log (epoch first)
 * and one row of them per epoch, and what else is known of the run
 * (unknown: 0, NULL or < 0). */
typedef struct Report {
	const char *path;         /* NULL: no report */
	const char *log;          /* the log it was rebuilt from, or NULL */
	const char *ckpt;         /* the run's checkpoint path */
	ReportState state;
	int ncols;
	char col[REPORT_MAX_COLS][24];
	long nrows, cap;
	double *v;                /* nrows x ncols */
	long *samples;            /* training rows of each row's epoch */
	int epochs;               /* the run's last epoch, as planned */
	long first_epoch;         /* of a resumed run without its log */
	double base_lr;           /* < 0: the optimizer's */
	long batch, n_train, n_val;
	int has_run;              /* seed and data_spec are the run's */
	double load_seconds;      /* reading and preparing the data */
	double written, cost;     /* CPU time at the last write's end; its own */
	AtomicFile af;
	char failure[512];        /* REPORT_FAILED: the error that ended the run */
	int has_test;             /* the test set was measured: test */
	Score test;
} Report;

/* A chart's line: one value per row of the report (NaN: no point). */
typedef struct Series {
	const char *name;         /* the log's column, or a derived name */
	const char *color;
	double *y;
	const double *seconds;    /* timing: each point's seconds too */
} Series;

void nnrt_report_open(Rt *rt, Report *r, const EpochStats *keys,
		      int epochs, long batch, double load_seconds);
void nnrt_report_epoch(Rt *rt, Report *r, const EpochStats *s);
void nnrt_report_close(Rt *rt, Report *r, ReportState state);
void nnrt_report_fail(const Rt *rt, const char *msg);
int nnrt_report_run(Rt *rt);
int nnrt_report_col(const Report *r, const char *name);
double nnrt_report_cell(const Report *r, long row, int col); /* NaN: col < 0 */
/* the best epoch (0: none) and that of an early stop (0: none) */
void nnrt_report_best(const Rt *rt, const Report *r, int *best, int *stop);
void nnrt_page_write(FILE *f, const Rt *rt, const Report *r);
void nnrt_chart_si(char *buf, size_t n, double v);  /* "6.13M" */
/* best: the best epoch (0: none); stop: the early stop's (0: none) */
void nnrt_chart_svg(FILE *f, const Report *r, const char *id,
		    const char *title, const Series *s, int n, int best,
		    int stop);

/* ------------------------------------------------------------------ */
/* ckpt.c: checkpoints */

void nnrt_ckpt_save(Rt *rt, const char *path, const void *best);
void nnrt_ckpt_load(Rt *rt, const char *path);

/* ------------------------------------------------------------------ */
/* Subcommands: train.c, gradcheck.c, summary.c, npy.c */

int nnrt_train_run(Rt *rt);
int nnrt_train_init(Rt *rt);
int nnrt_gradcheck_run(Rt *rt);
int nnrt_summary_run(Rt *rt);
int nnrt_npy_export(Rt *rt);
int nnrt_npy_import(Rt *rt);

/* summary.c also names enums for other files */
const char *nnrt_summary_norm_name(NnrtNorm n);
const char *nnrt_summary_monitor_name(NnrtMonitor mon);
const char *nnrt_summary_metric_name(NnrtMetric k);
void nnrt_summary_bytes(char *buf, size_t n, double b); /* "1.5 KiB" */

/* A model's totals, as `summary` and the report show them: forward
 * FLOPs a sample, and the bytes of each buffer (MEM_PARAMS ...) and of
 * all of them. */
enum { MEM_PARAMS, MEM_GRADS, MEM_STATE, MEM_WS, MEM_COUNT };
typedef struct Totals {
	double flops;
	double bytes[MEM_COUNT];
	double total;
} Totals;
void nnrt_summary_totals(const NnrtModel *m, Totals *t);

/* ------------------------------------------------------------------ */
/* dist.c: data-parallel training over the ranks of a job. The
 * primitives under it come from dist_one.c (one process: libnnrt) or
 * dist_mpi.c (MPI: libnnrt_mpi), which define the same functions. */

void nnrt_dist_start(const Rt *rt);     /* after the command line */
int nnrt_dist_end(int status);          /* returns status */
_Noreturn void nnrt_dist_exit(int status); /* ends every rank */
int nnrt_dist_rank(void);
int nnrt_dist_size(void);
const char *nnrt_dist_who(void);        /* "rank 1 of 2: ", or "" */
void nnrt_dist_sum_reals(void *buf, long n, int real_size);
void nnrt_dist_sum(double *v, int n);
long nnrt_dist_max(long v);
void nnrt_dist_bcast(long *v, int n);   /* every rank gets rank 0's */
void *nnrt_dist_alloc_grads(const Rt *rt, size_t n, size_t size);

void nnrt_dist_part(long n, long *first, long *len);
double nnrt_dist_grad(Rt *rt, NnrtStep *st, const long *rows);
void nnrt_dist_check(const Rt *rt, long steps_per_epoch);

#endif
