/*
 * train.c - the `train` subcommand: the epoch loop.
 *
 * Per epoch: shuffle the training rows (train.shuffle), then for each
 * batch of train.batch rows (the last one partial unless drop_last)
 * gather the rows, ask the schedule for the step's rate (m->lr_at), call
 * m->grad (which also updates running statistics) and m->update, step
 * counting from 1 across the run (and across --resume). After the epoch:
 * the validation loss and metrics, the schedule's epoch hook
 * (m->lr_epoch, for plateau), early stopping, one printed line (with the
 * rate of the epoch's last step), a log row, the report (report.c) and a
 * checkpoint when --checkpoint-every seconds (default 30; 0: every
 * epoch) have passed since the last one. At the end: restore_best puts
 * back the best epoch's tensors (swapping the buffers: the final
 * checkpoint keeps the last epoch's too, so a resume of it continues the
 * run), the kept tensors are measured once more for the `final` line,
 * the final checkpoint is written, and the test set (the train block's
 * test source, or --test) is measured for the `test` line.
 *
 * The validation and test sources are read before the first epoch, so
 * a bad file fails the run before it trains (and before any checkpoint
 * is written).
 *
 * Nothing is allocated inside the loop: the batch buffers, the copy of
 * the best params and every scratch buffer come from prep.c and setup.
 *
 * --resume replays the run's random draws (initial tensors, split and
 * the shuffles of the epochs already done), so a resumed run takes the
 * same batches as one that never stopped.
 *
 * SIGINT and SIGTERM stop the loop after the current step: the
 * checkpoint of the unfinished epoch is written (its step says how many
 * of the epoch's batches were taken, and a resume starts at the next
 * one), the place is said on stderr, and the exit status is 128 + the
 * signal. A second signal ends the program at once.
 *
 * Under MPI (dist.c) each step's batch is divided between the ranks,
 * and the ranks agree before each step whether one of them was
 * signalled, so that all stop after the same step.
 *
 * Speed, each part a helper below: an f32 run flushes subnormal floats
 * to zero inside the training steps (ftz_enter), a small model runs
 * OpenBLAS on one thread (set_threads), and checkpoints are written by
 * time (epoch_ckpt).
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt.h"

typedef struct Loop {
	long batch;               /* rows per step */
	long nb;                  /* steps per epoch */
	int epochs;               /* the last epoch of the run */
	double lr;                /* the base rate: --lr or the optimizer's */
	int early;
	NnrtMonitor monitor;
	long first;               /* the first batch of the next epoch */
	const char *ckpt;
	int stop;                 /* the signal every rank stops on, or 0 */
	EpochStats keys;          /* which numbers each epoch reports */
	Progress prog;
	double load_seconds;      /* reading and preparing the data */
	Report report;
	double ckpt_every;        /* seconds; 0: a checkpoint every epoch */
	double ckpt_last;         /* when the last one was written */
	int ftz;                  /* flush subnormals to zero in the steps */
} Loop;

/* The signal that asked training to stop, 0 if none: set by on_signal,
 * read after each step. */
static volatile sig_atomic_t stop_signal;

/* A second signal exits at once; a checkpoint being written then stays
 * as PATH.tmp, which the next run removes. */
static void on_signal(int sig)
{
	static const char msg[] = "interrupted again: exiting at once\n";
	ssize_t n;

	if (stop_signal) {
		n = write(2, msg, sizeof msg - 1);
		(void)n;
		_exit(128 + sig);
	}
	stop_signal = sig;
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int monitors_accuracy(NnrtMonitor mon)
{
	return mon == NNRT_MON_VAL_ACCURACY || mon == NNRT_MON_ACCURACY;
}

/* Warns about metrics the train block asks for that this model cannot
 * measure (the compiler rejects them; a hand-written descriptor may
 * not). */
static void warn_metrics(const Rt *rt, unsigned missing)
{
	int k;

	for (k = 0; k < NNRT_METRIC_COUNT; k++)
		if (missing & 1u << k)
			nnrt_base_warn(rt, "%s needs %s; not reported",
				       nnrt_summary_metric_name(k),
				       k == NNRT_METRIC_ACCURACY
				       ? "a class target or a [1] target"
				       : "a real target and a first output "
					 "of its size");
}

/* Decides what each epoch measures: the train block's metrics on the
 * validation rows, or without a split on the training rows; and what
 * early stopping monitors. Without a validation split a val_* monitor
 * falls back to its training counterpart (with a warning). */
static void choose_keys(Rt *rt, Loop *L)
{
	const NnrtModel *m = rt->m;
	unsigned can = nnrt_infer_can(m);
	unsigned want = m->train.metrics & can;
	unsigned acc = can & NNRT_METRIC_BIT(ACCURACY);
	int has_val = rt->n_val > 0;

	warn_metrics(rt, m->train.metrics & ~can);
	L->early = m->train.early_stop;
	L->monitor = m->train.monitor;
	if (L->early && !has_val && (L->monitor == NNRT_MON_VAL_LOSS ||
				     L->monitor == NNRT_MON_VAL_ACCURACY)) {
		NnrtMonitor to = L->monitor == NNRT_MON_VAL_LOSS
				 ? NNRT_MON_LOSS : NNRT_MON_ACCURACY;
		nnrt_base_warn(rt, "no validation split: early stopping "
			       "monitors %s instead of %s",
			       nnrt_summary_monitor_name(to),
			       nnrt_summary_monitor_name(L->monitor));
		L->monitor = to;
	}
	if (L->early && monitors_accuracy(L->monitor) && !acc)
		nnrt_base_die(rt, "early stopping monitors accuracy, which "
			      "this model has not (it needs a class target "
			      "or a [1] target)");
	L->keys.epochs = L->epochs;
	L->keys.lr = L->lr;
	L->keys.has_val = has_val;
	if (has_val)
		L->keys.val.which = want | (L->monitor == NNRT_MON_VAL_ACCURACY
					    ? acc : 0);
	else
		L->keys.train.which = want;
	if (L->early && L->monitor == NNRT_MON_ACCURACY)
		L->keys.train.which |= acc;
}

/* Fails now rather than after the first epoch if the checkpoint cannot
 * be written; removes a PATH.tmp a killed run left. */
static void probe_ckpt(const Rt *rt, const char *path)
{
	char *tmp;
	FILE *f;

	if (nnrt_dist_rank() > 0)
		return;         /* rank 0 writes it */
	tmp = nnrt_base_printf(rt, "%s.tmp", path);
	f = fopen(tmp, "ab");
	if (!f)
		nnrt_base_die(rt, "cannot write checkpoint '%s': cannot "
			      "create '%s': %s", path, tmp, strerror(errno));
	fclose(f);
	remove(tmp);
	free(tmp);
}

/* Fresh: initial tensors, data, split, normalisation. Resumed: all of
 * it from the checkpoint, its data file (unless --data) split again. */
static void load_state(Rt *rt)
{
	const NnrtModel *m = rt->m;
	int k;

	rt->seed = rt->opt.has_seed ? rt->opt.seed : m->train.seed;
	rt->validation = m->train.validation;
	rt->es.value = monitors_accuracy(m->train.monitor) ? -INFINITY
							   : INFINITY;
	if (!rt->opt.resume) {
		nnrt_prep_data(rt, 1, rt->params);
		return;
	}
	if (rt->opt.has_seed)
		nnrt_base_die(rt, "--seed cannot be combined with --resume: "
			      "the checkpoint fixes the seed");
	nnrt_ckpt_load(rt, rt->opt.resume);
	nnrt_prep_data(rt, 0, NULL);
	if (m->train.shuffle)
		for (k = 0; k < rt->epoch; k++)
			nnrt_rng_shuffle(&rt->rng, rt->train_rows, rt->n_train);
}

/* A checkpoint written on a signal is of an unfinished epoch: its step
 * counts the batches of that epoch already taken. */
static void say_resume(const Rt *rt, Loop *L)
{
	long off = rt->step - (long)rt->epoch * L->nb;

	L->first = off > 0 && off < L->nb ? off : 0;
	printf("resume %s from %s at epoch %d (step %ld", rt->m->name,
	       rt->opt.resume, rt->epoch, rt->step);
	if (L->first)
		printf(", batch %ld of epoch %d", L->first + 1, rt->epoch + 1);
	printf(")\n");
}

/* ---- speed: flush-to-zero, threads, the checkpoint policy ---------- */

/*
 * Flush-to-zero: subnormal floats (below 1.2e-38 in f32) take a slow
 * path in the FPU. Adam's moments of an input that is always zero decay
 * into them (0.9^t), and then every step pays for them. Inside the
 * training steps of an f32 model the FPU flushes results to zero (FTZ)
 * and reads subnormal inputs as zero (DAZ); the mode is restored after
 * each pass, so evaluation, checkpoints and the user's code never see it.
 * The change is below f32 rounding (tests/tools/speed.sh compares the
 * losses of a run with and without). f64 models keep IEEE arithmetic
 * (their parity with PyTorch is to 1e-15). --no-ftz or NNRT_FTZ=0 turns
 * it off. OpenBLAS's worker threads keep their own mode.
 */
#if defined(__x86_64__) || defined(__SSE__)
#include <xmmintrin.h>
#define FTZ_BITS 0x8040u          /* MXCSR: FTZ (bit 15), DAZ (bit 6) */
static unsigned fp_mode(void) { return _mm_getcsr(); }
static void set_fp_mode(unsigned m) { _mm_setcsr(m); }
#elif defined(__aarch64__)
#define FTZ_BITS (1u << 24)       /* FPCR.FZ */
static unsigned fp_mode(void)
{
	unsigned long v;

	__asm__ volatile("mrs %0, fpcr" : "=r"(v));
	return (unsigned)v;
}
static void set_fp_mode(unsigned m)
{
	__asm__ volatile("msr fpcr, %0" : : "r"((unsigned long)m));
}
#else
#define FTZ_BITS 0u               /* no known control: IEEE throughout */
static unsigned fp_mode(void) { return 0; }
static void set_fp_mode(unsigned m) { (void)m; }
#endif

static int want_ftz(const Rt *rt)
{
	const char *env = getenv("NNRT_FTZ");

	return FTZ_BITS && rt->m->real_size == 4 && !rt->opt.no_ftz &&
	       !(env && strcmp(env, "0") == 0);
}

/* Returns the mode to give ftz_leave. */
static unsigned ftz_enter(const Loop *L)
{
	unsigned old = fp_mode();

	if (L->ftz)
		set_fp_mode(old | FTZ_BITS);
	return old;
}

static void ftz_leave(const Loop *L, unsigned old)
{
	if (L->ftz)
		set_fp_mode(old);
}

/*
 * Threads: OpenBLAS's workers spin, then sleep, between calls; a step of
 * a small model is a few short GEMMs around a serial update, so the
 * workers cost more in waking than they save, and next to a busy
 * process they can make a step several times slower. A model below
 * THREAD_FLOPS forward FLOPs per batch trains on one thread unless
 * --threads or OPENBLAS_NUM_THREADS says otherwise; above it OpenBLAS
 * picks (its default: every core). docs/trainer.md has the numbers.
 * openblas_set_num_threads is weak: another CBLAS links too.
 */
#define THREAD_FLOPS 2e8

extern void openblas_set_num_threads(int n) __attribute__((weak));

static void set_threads(const Rt *rt, long batch)
{
	Totals t;

	if (!openblas_set_num_threads)
		return;
	if (rt->opt.threads > 0) {
		openblas_set_num_threads((int)rt->opt.threads);
		return;
	}
	if (getenv("OPENBLAS_NUM_THREADS") || getenv("OMP_NUM_THREADS"))
		return;
	nnrt_summary_totals(rt->m, &t);
	if (t.flops * (double)batch < THREAD_FLOPS)
		openblas_set_num_threads(1);
}

/* The checkpoint policy: after an epoch, a checkpoint when ckpt_every
 * seconds have passed since the last one (0: always). The end of the run
 * (finish) and a signal (interrupted) always write one; a new best of
 * early stopping needs none, since the best tensors are kept in memory
 * and go into every checkpoint. Each is atomic and fsynced (ckpt.c). */
#define CKPT_EVERY_DEFAULT 30.0

static void epoch_ckpt(Rt *rt, Loop *L)
{
	if (L->ckpt_every > 0 &&
	    nnrt_progress_now() - L->ckpt_last < L->ckpt_every)
		return;
	nnrt_ckpt_save(rt, L->ckpt, rt->es.has_params ? rt->best : NULL);
	L->ckpt_last = nnrt_progress_now();
}

static void setup(Rt *rt, Loop *L)
{
	const NnrtModel *m = rt->m;

	memset(L, 0, sizeof *L);
	L->ckpt = nnrt_prep_ckpt_path(rt);
	nnrt_prep_buffers(rt);
	if (m->train.early_stop && m->train.restore_best)
		rt->best = nnrt_base_alloc(rt, (size_t)m->n_params,
					   (size_t)m->real_size);
	L->load_seconds = nnrt_progress_now();
	load_state(rt);
	nnrt_prep_test(rt);
	L->load_seconds = nnrt_progress_now() - L->load_seconds;
	L->batch = m->train.batch > 0 ? m->train.batch : m->max_batch;
	L->nb = m->train.drop_last ? rt->n_train / L->batch
				   : (rt->n_train + L->batch - 1) / L->batch;
	if (L->nb == 0)
		nnrt_base_die(rt, "%ld training rows make no full batch of "
			      "%ld (drop_last)", rt->n_train, L->batch);
	nnrt_dist_check(rt, L->nb);
	L->epochs = rt->opt.epochs > 0 ? (int)rt->opt.epochs : m->train.epochs;
	L->lr = rt->opt.lr > 0 ? rt->opt.lr : m->lr;
	choose_keys(rt, L);
	probe_ckpt(rt, L->ckpt);
	L->ckpt_every = rt->opt.ckpt_every >= 0 ? rt->opt.ckpt_every
						: CKPT_EVERY_DEFAULT;
	L->ckpt_last = nnrt_progress_now();
	L->ftz = want_ftz(rt);
	set_threads(rt, L->batch);
	if (rt->opt.resume)
		say_resume(rt, L);
	printf("train %s: %ld rows (%ld train, %ld validation), batch %ld, "
	       "%d epochs, seed %lu\n", m->name, rt->n_train + rt->n_val,
	       rt->n_train, rt->n_val, L->batch, L->epochs, rt->seed);
	fflush(stdout);
	nnrt_report_open(rt, &L->report, &L->keys, L->epochs, L->batch,
			 L->load_seconds);
	nnrt_progress_open(rt, &L->prog, &L->keys,
			   L->epochs > rt->epoch
			   ? (long)(L->epochs - rt->epoch) * L->nb : 0);
}

static NnrtClock clock_at(const Rt *rt, const Loop *L)
{
	NnrtClock c;

	c.step = rt->step;
	c.epoch = rt->epoch;
	c.steps_per_epoch = L->nb;
	c.total_steps = (long)L->epochs * L->nb;
	c.base_lr = L->lr;
	return c;
}

/* The tensor that holds element i of the parameter layout. */
static const NnrtTensor *tensor_at(const NnrtModel *m, long i)
{
	int k;

	for (k = 0; k < m->n_tensors; k++)
		if (i >= m->tensors[k].offset &&
		    i < m->tensors[k].offset + m->tensors[k].size)
			return &m->tensors[k];
	return NULL;
}

/* A NaN or infinite gradient or parameter stops the run, even when the
 * loss hides it (a relu zeroes a NaN input, and the loss stays finite):
 * both buffers are checked after every step, naming the first bad
 * tensor. The update says whether the trainable prefix has one (it
 * reads and writes both anyway), so the scan here runs only then, and
 * over the buffers (running statistics) after the prefix every step. */
static void check_finite(const Rt *rt, int bad, int e, long step)
{
	const NnrtModel *m = rt->m;
	const char *bufs = (const char *)rt->params +
			   (size_t)m->n_trainable * (size_t)m->real_size;
	const char *what = "gradient of";
	const void *buf = rt->grads;
	const NnrtTensor *t;
	long i;

	if (!bad && nnrt_base_nonfinite(rt, bufs, m->n_params -
					m->n_trainable) < 0)
		return;
	i = nnrt_base_nonfinite(rt, rt->grads, m->n_trainable);
	if (i < 0) {
		i = nnrt_base_nonfinite(rt, rt->params, m->n_params);
		what = "parameter";
		buf = rt->params;
	}
	if (i < 0)
		return;
	t = tensor_at(m, i);
	nnrt_base_die(rt, "%s '%s' is %g at epoch %d, step %ld (element "
		      "%ld); try a smaller --lr", what, t ? t->name : "?",
		      nnrt_base_get_real(rt, buf, i), e, step,
		      t ? i - t->offset : i);
}

/* Whether to stop now: a signal on any rank stops them all. */
static int stopping(Loop *L)
{
	L->stop = (int)nnrt_dist_max(stop_signal);
	return L->stop;
}

/* One pass over the training rows; returns the mean batch loss and
 * leaves the last step's rate in s->lr. */
static double steps(Rt *rt, Loop *L, EpochStats *s)
{
	const NnrtModel *m = rt->m;
	double sum = 0, t0 = nnrt_progress_now();
	long seen = 0, b;
	unsigned mode = ftz_enter(L);

	for (b = L->first; b < L->nb && !stopping(L); b++) {
		long lo = b * L->batch;
		long n = rt->n_train - lo < L->batch ? rt->n_train - lo
						     : L->batch;
		NnrtClock c = clock_at(rt, L);
		NnrtStep st = nnrt_base_step(rt, rt->bx, rt->by, (int)n);
		double loss;
		st.update_buffers = 1;
		st.lr = m->lr_at(rt->sched, &c);
		loss = nnrt_dist_grad(rt, &st, rt->train_rows + lo);
		if (!isfinite(loss))
			nnrt_base_die(rt, "loss is %g at epoch %d, step %ld; "
				      "try a smaller --lr", loss, s->epoch,
				      st.step);
		check_finite(rt, m->update(&st), s->epoch, st.step);
		rt->step++;
		s->lr = st.lr;
		sum += loss * (double)n;
		seen += n;
		nnrt_progress_batch(&L->prog, s, b, L->nb, sum / (double)seen);
	}
	ftz_leave(L, mode);
	L->first = 0;
	s->seconds = nnrt_progress_now() - t0;
	s->samples = seen;
	return seen ? sum / (double)seen : 0;
}

/* The schedule's end-of-epoch hook sees the validation loss (the
 * training loss without a split) and the clock before the epoch counts. */
static void schedule_epoch(Rt *rt, const Loop *L, const EpochStats *s)
{
	NnrtClock c = clock_at(rt, L);

	rt->m->lr_epoch(rt->sched, &c, s->has_val ? s->val_loss : s->loss);
}

static void measure(Rt *rt, EpochStats *s)
{
	Score sc;

	if (s->has_val) {
		nnrt_infer_score(rt, rt->val, rt->val_rows, rt->n_val,
				 s->val.which, &sc);
		s->val_loss = sc.loss;
		s->val = sc.m;
	}
	if (s->train.which) {
		nnrt_infer_score(rt, &rt->data, rt->train_rows, rt->n_train,
				 s->train.which, &sc);
		s->train = sc.m;
	}
}

/* Returns 1 when training should stop. */
static int early_stop(Rt *rt, const Loop *L, const EpochStats *s)
{
	Best *es = &rt->es;
	double v;
	int better;

	if (!L->early)
		return 0;
	switch (L->monitor) {
	case NNRT_MON_VAL_LOSS:     v = s->val_loss; break;
	case NNRT_MON_VAL_ACCURACY: v = s->val.v[NNRT_METRIC_ACCURACY]; break;
	case NNRT_MON_ACCURACY:     v = s->train.v[NNRT_METRIC_ACCURACY]; break;
	default:                    v = s->loss;     break;
	}
	if (es->epoch == 0)
		better = !isnan(v);
	else if (monitors_accuracy(L->monitor))
		better = v > es->value + rt->m->train.min_delta;
	else
		better = v < es->value - rt->m->train.min_delta;
	if (better) {
		es->value = v;
		es->epoch = s->epoch;
		es->wait = 0;
		if (rt->best) {
			memcpy(rt->best, rt->params, (size_t)rt->m->n_params *
			       (size_t)rt->m->real_size);
			es->has_params = 1;
		}
		return 0;
	}
	es->wait++;
	return es->wait >= rt->m->train.patience;
}

/* 1 when training should stop, -1 on a signal (the epoch unfinished). */
static int epoch(Rt *rt, Loop *L, int e)
{
	EpochStats s = L->keys;
	int stop;

	s.epoch = e;
	if (rt->m->train.shuffle)
		nnrt_rng_shuffle(&rt->rng, rt->train_rows, rt->n_train);
	s.loss = steps(rt, L, &s);
	if (stopping(L))
		return -1;
	measure(rt, &s);
	schedule_epoch(rt, L, &s);
	rt->epoch = e;
	stop = early_stop(rt, L, &s);
	nnrt_progress_epoch(rt, &L->prog, &s);
	nnrt_report_epoch(rt, &L->report, &s);
	epoch_ckpt(rt, L);
	if (stop) {
		printf("early stop at epoch %d (best epoch %d)\n", e,
		       rt->es.epoch);
		fflush(stdout);
	}
	return stop;
}

/* "final val_loss 0.0612 val_accuracy 0.9667 (epoch 57, best)": the
 * numbers of the tensors the run keeps, measured again. */
static void finish(Rt *rt, Loop *L)
{
	const EpochStats *k = &L->keys;
	int kept = rt->epoch, restored = 0;
	unsigned want = k->has_val ? k->val.which : k->train.which;
	Score sc;

	if (rt->best && rt->es.has_params) {
		void *last = rt->params;
		rt->params = rt->best;
		rt->best = last;
		rt->es.restored = 1;
		kept = rt->es.epoch;
		restored = 1;
	}
	if (k->has_val)
		nnrt_infer_score(rt, rt->val, rt->val_rows, rt->n_val, want,
				 &sc);
	else
		nnrt_infer_score(rt, &rt->data, rt->train_rows, rt->n_train,
				 want, &sc);
	printf("final %s %.4f", k->has_val ? "val_loss" : "loss", sc.loss);
	nnrt_infer_print_metrics(stdout, k->has_val ? "val_" : "", &sc.m);
	printf(" (epoch %d%s)\n", kept, restored ? ", best" : "");
	nnrt_ckpt_save(rt, L->ckpt, rt->es.has_params ? rt->best : NULL);
	nnrt_progress_close(rt, &L->prog);
	if (rt->has_test) {
		nnrt_infer_test(rt, &L->report.test);
		L->report.has_test = 1;
	}
	nnrt_report_close(rt, &L->report, REPORT_FINISHED);
	printf("checkpoint %s\n", L->ckpt);
}

/* After a signal: the unfinished epoch's checkpoint, and where. */
static int interrupted(Rt *rt, Loop *L)
{
	int sig = L->stop;

	nnrt_progress_close(rt, &L->prog);
	nnrt_report_close(rt, &L->report, REPORT_INTERRUPTED);
	nnrt_ckpt_save(rt, L->ckpt, rt->es.has_params ? rt->best : NULL);
	if (nnrt_dist_rank() == 0)      /* the rank that wrote it */
		fprintf(stderr, "%s: interrupted by %s in epoch %d after "
			"step %ld: checkpoint %s written (train --resume %s "
			"continues)\n", rt->prog, sig == SIGINT ? "SIGINT"
			: "SIGTERM", rt->epoch + 1, rt->step, L->ckpt,
			L->ckpt);
	return 128 + sig;
}

int nnrt_train_run(Rt *rt)
{
	Loop L;
	int e, stop = 0;

	setup(rt, &L);
	catch_signals();
	for (e = rt->epoch + 1; e <= L.epochs && !stop; e++)
		stop = epoch(rt, &L, e);
	if (stop < 0)
		return interrupted(rt, &L);
	finish(rt, &L);
	return 0;
}

/* `init`: the checkpoint `train` would start from (initial tensors and
 * buffers, the split, the normalisation), written without training. */
int nnrt_train_init(Rt *rt)
{
	const char *path = nnrt_prep_ckpt_path(rt);

	nnrt_prep_buffers(rt);
	rt->opt.resume = NULL;
	load_state(rt);
	nnrt_ckpt_save(rt, path, NULL);
	printf("init %s: %ld rows (%ld train, %ld validation), seed %lu\n",
	       rt->m->name, rt->n_train + rt->n_val, rt->n_train, rt->n_val,
	       rt->seed);
	printf("checkpoint %s\n", path);
	return 0;
}
