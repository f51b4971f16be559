/*
 * nnrt.h - the nnc runtime library (libnnrt).
 *
 * A trainer is one generated C file plus this library. The generated code
 * does the math: it fills in one NnrtModel descriptor (shapes, tensors,
 * the train block's settings) and provides its entry points (grad,
 * update, eval, predict, and the learning-rate schedule). Every math entry
 * point takes one NnrtStep. The runtime does everything else: command line,
 * data loading, RNG, initializers, the epoch loop, metrics, early
 * stopping, checkpoints, progress, export/import and gradient checks. It
 * knows nothing about a particular model.
 *
 * Buffers of model numbers (params, grads, optimizer state, workspace)
 * hold `real` elements, float or double as the descriptor's real_size
 * says. Data (x, y, outputs) always crosses the interface as float.
 *
 * The parameter buffer holds every tensor: the trainable ones first, in
 * [0, n_trainable), then the buffers (batchnorm's running statistics) in
 * [n_trainable, n_params). Gradients and the optimizer cover only the
 * trainable prefix; checkpoints, export and import carry all of it.
 */
#ifndef NNRT_H
#define NNRT_H

#include <stddef.h>

#define NNRT_VERSION "0.1.0"
#define NNRT_MAX_RANK 4
#define NNRT_MAX_INPUTS 8

/*
 * The initializers, one line each: X(ID, name, arguments). The compiler
 * reads names and argument counts from this list; init.c draws them.
 */
#define NNRT_INITS(X) \
	X(ZEROS, "zeros", 0) \
	X(ONES, "ones", 0) \
	X(CONSTANT, "constant", 1)             /* init_a */ \
	X(NORMAL, "normal", 1)                 /* mean 0, std init_a */ \
	X(UNIFORM, "uniform", 2)               /* [init_a, init_b) */ \
	X(XAVIER_UNIFORM, "xavier_uniform", 0) /* U(-a, a), a = sqrt(6 / (fan_in + fan_out)) */ \
	X(XAVIER_NORMAL, "xavier_normal", 0)   /* N(0, sqrt(2 / (fan_in + fan_out))) */ \
	X(HE_UNIFORM, "he_uniform", 0)         /* U(-a, a), a = sqrt(6 / fan_in) */ \
	X(HE_NORMAL, "he_normal", 0)           /* N(0, sqrt(2 / fan_in)) */

typedef enum {
#define NNRT_INIT_ENUM(id, name, nargs) NNRT_INIT_##id,
	NNRT_INITS(NNRT_INIT_ENUM)
#undef NNRT_INIT_ENUM
	NNRT_INIT_COUNT
} NnrtInit;

/* One named tensor in the flat parameter buffer. */
typedef struct NnrtTensor {
	const char *name;         /* "h.W": as in summary, checkpoints, .npy */
	int rank;
	int dims[NNRT_MAX_RANK];
	long offset;              /* in elements */
	long size;                /* elements */
	NnrtInit init;
	double init_a, init_b;
	int fan_in, fan_out;
	int trainable;            /* 0 for running statistics */
} NnrtTensor;

/* One `input` statement. A sample's x row holds every input's floats
 * side by side, in statement order: input k at [offset, offset + size). */
typedef struct NnrtInput {
	const char *name;
	int rank;
	int dims[NNRT_MAX_RANK];
	long size;                /* floats per sample */
	long offset;              /* in a row of x */
} NnrtInput;

/* One row of `summary`. */
typedef struct NnrtLayer {
	const char *name;         /* statement name: "h1" */
	const char *kind;         /* "dense", "relu", "input", ... */
	int rank;
	int dims[NNRT_MAX_RANK];  /* per-sample output shape */
	long params;
	double flops;             /* per sample, forward */
} NnrtLayer;

typedef enum { NNRT_SRC_NONE, NNRT_SRC_CSV, NNRT_SRC_IDX } NnrtSrcKind;

/*
 * A data source from the train block: a CSV file (columns a:b are
 * half-open; input k's columns are x_lo[k]:x_hi[k], gathered into its
 * place in the x row), or a pair of IDX files, images and class labels,
 * whose bytes are multiplied by scale (one input only). Fields a kind
 * does not use are zero.
 */
typedef struct NnrtSource {
	NnrtSrcKind kind;
	const char *path;         /* the CSV file, or the IDX images */
	int skip;                 /* CSV: header lines to skip */
	int x_lo[NNRT_MAX_INPUTS]; /* CSV: input k's columns */
	int x_hi[NNRT_MAX_INPUTS];
	int y_lo, y_hi;           /* CSV: target columns */
	const char *labels;       /* IDX: the labels file */
	double scale;             /* IDX: feature = byte * scale */
} NnrtSource;

/* Feature scaling and early stopping's monitors, X(ID, name): the
 * compiler reads the names as the .nn file spells them from these lists,
 * the runtime prints them. */
#define NNRT_NORMS(X) X(NONE, "none") X(STANDARD, "standard") X(MINMAX, "minmax")
#define NNRT_MONITORS(X) \
	X(VAL_LOSS, "val_loss") X(VAL_ACCURACY, "val_accuracy") \
	X(LOSS, "loss") X(ACCURACY, "accuracy")

typedef enum {
#define NNRT_NORM_ENUM(id, name) NNRT_NORM_##id,
	NNRT_NORMS(NNRT_NORM_ENUM)
#undef NNRT_NORM_ENUM
	NNRT_NORM_COUNT
} NnrtNorm;
typedef enum {
#define NNRT_MON_ENUM(id, name) NNRT_MON_##id,
	NNRT_MONITORS(NNRT_MON_ENUM)
#undef NNRT_MON_ENUM
	NNRT_MON_COUNT
} NnrtMonitor;

/* The metrics, X(ID, name): metric i is bit 1 << i of
 * NnrtTrainConfig.metrics. accuracy compares the first output with the
 * target (argmax for a class, > 0.5 for a [1] target); mae and rmse are
 * the mean absolute and root mean squared error of the first output
 * against a real target, over every element, in the target's units. */
#define NNRT_METRICS(X) X(ACCURACY, "accuracy") X(MAE, "mae") X(RMSE, "rmse")
typedef enum {
#define NNRT_METRIC_ENUM(id, name) NNRT_METRIC_##id,
	NNRT_METRICS(NNRT_METRIC_ENUM)
#undef NNRT_METRIC_ENUM
	NNRT_METRIC_COUNT
} NnrtMetric;
#define NNRT_METRIC_BIT(id) (1u << NNRT_METRIC_##id)

typedef struct NnrtTrainConfig {
	NnrtSource data;
	NnrtSource val;           /* validation = SOURCE (kind NONE: none) */
	NnrtSource test;          /* test = SOURCE (kind NONE: none) */
	double validation;        /* fraction split off; 0 = none */
	int batch;                /* == the model's max_batch */
	int epochs;
	int shuffle;
	int drop_last;
	unsigned long seed;
	NnrtNorm normalize;
	NnrtNorm normalize_target; /* NONE or STANDARD: a real target's
				   * scaling; the loss sees the scaled target */
	unsigned metrics;         /* NNRT_METRIC_BIT(...) bits */
	int early_stop;           /* 0 = off */
	NnrtMonitor monitor;
	int patience;
	double min_delta;
	int restore_best;
	const char *checkpoint;   /* NULL = "<model>.ckpt" */
	const char *log;          /* NULL = no CSV log */
	const char *report;       /* NULL = no HTML report */
} NnrtTrainConfig;

/*
 * One call of a generated entry point. grad runs the model in training
 * mode (batch statistics, dropout) and, when update_buffers is set, writes
 * the new running statistics into the buffers region of params; eval and
 * predict run in inference mode (running statistics, no dropout) and read
 * only params, ws and x (and y). Randomness inside a step is a pure
 * function of (seed, step, element), so a step can be repeated exactly.
 */
typedef struct NnrtStep {
	void *params;             /* n_params reals */
	void *grads;              /* n_trainable reals: grad writes them */
	void *state;              /* n_state reals: update's optimizer state */
	void *ws;                 /* ws_size reals */
	const float *x;           /* [n, input_size]: the inputs side by side */
	const float *y;           /* [n, target_size] (NULL for predict) */
	int n;                    /* rows, 1..max_batch */
	int update_buffers;       /* grad: write new running statistics */
	long step;                /* the optimizer step this batch feeds, from 1 */
	unsigned long seed;       /* the run's seed */
	double lr;                /* update: this step's learning rate */
	long row0;                /* x's first row in the whole batch: 0, or
				   * a rank's slice under MPI (random masks
				   * are drawn by the whole batch's element) */
} NnrtStep;

/* Where training is, for the learning-rate schedule. */
typedef struct NnrtClock {
	long step;                /* optimizer steps taken before this one */
	long epoch;               /* epochs completed before this one */
	long steps_per_epoch;
	long total_steps;         /* epochs x steps_per_epoch of the run */
	double base_lr;           /* the optimizer's lr, or --lr */
} NnrtClock;

typedef struct NnrtModel {
	const char *name;         /* model name */
	const char *source;       /* the .nn file it came from */
	const char *nnc_version;
	int real_size;            /* sizeof(real): 4 or 8 */
	int max_batch;            /* entry points take n <= max_batch */

	int n_inputs;             /* 1..NNRT_MAX_INPUTS */
	const NnrtInput *inputs;
	long input_size;          /* floats per sample: every input's */
	int n_classes;            /* > 0: y is one float holding the class */
	long target_size;         /* floats of y per sample */

	int n_outputs;
	const char *const *output_names;
	const long *output_sizes; /* floats per sample, each output */
	long output_size;         /* their sum: one row of `out` */

	int n_tensors;
	const NnrtTensor *tensors;
	int n_layers;
	const NnrtLayer *layers;
	long n_params;            /* elements of params: tensors and buffers */
	long n_trainable;         /* the trainable prefix: elements of grads */
	long n_state;             /* elements of optimizer state */
	long ws_size;             /* elements of workspace */
	int n_sched;              /* doubles of schedule state (checkpointed) */

	const char *optimizer;    /* "adam(lr = 0.01)": for summary */
	const char *schedule;     /* "constant", ...: for summary */
	double lr;                /* the optimizer's learning rate */
	NnrtTrainConfig train;

	/* Forward and backward on s->n samples in training mode: returns the
	 * batch-mean loss and writes d(loss)/d(params) into s->grads. */
	double (*grad)(const NnrtStep *s);
	/* One optimizer step with s->lr; s->step counts updates from 1.
	 * Returns nonzero when a gradient or an updated parameter of the
	 * trainable prefix is NaN or infinite (the runtime then finds and
	 * names it), 0 otherwise. */
	int (*update)(const NnrtStep *s);
	/* Forward in inference mode: per-sample loss [n] and outputs
	 * [n, output_size] (either may be NULL). */
	void (*eval)(const NnrtStep *s, double *loss, float *out);
	/* Outputs only: [n, output_size]. */
	void (*predict)(const NnrtStep *s, float *out);
	/* The learning rate of the step c->step + 1. sched (n_sched doubles,
	 * zero at the start of a run) is the schedule's own state. */
	double (*lr_at)(double *sched, const NnrtClock *c);
	/* After each epoch, with its validation loss (the training loss
	 * without a validation split): plateau schedules react here. */
	void (*lr_epoch)(double *sched, const NnrtClock *c, double val_loss);
} NnrtModel;

/*
 * Randomness inside a step (dropout masks), counter-based: a pure function
 * of (seed, step, stream, element), so a step can be repeated exactly
 * (gradcheck, resume) and every element is independent of the order of
 * computation. With mix() SplitMix64's finalizer (Steele et al.):
 *   key = mix(mix(mix(seed) ^ step) ^ stream)
 *   u   = (mix(key ^ element) >> 11) * 2^-53, uniform in [0, 1)
 */
unsigned long long nnrt_rand_key(unsigned long seed, long step, int stream);
double nnrt_rand_uniform(unsigned long long key, long element);

/* The trainer's main: `return nnrt_main(&model, argc, argv);` */
int nnrt_main(const NnrtModel *m, int argc, char **argv);

#endif
