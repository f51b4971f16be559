/*
 * fake_softmax.c - a second hand-written model for testing libnnrt:
 * softmax regression on three string-labelled classes, with a
 * validation split, standard normalisation, early stopping and a
 * non-trainable tensor.
 *
 *   model soft
 *   input  x[2]
 *   target y : class(3)
 *   logits = dense(x, 3, init = xavier_normal)   # out.W [2, 3], out.b [3]
 *   output probs = softmax(logits)
 *   loss = cross_entropy(logits, y)
 *   optimizer sgd(lr = 0.3)
 *   train { data = csv("data/blobs.csv", skip = 1, x = 0:2, y = 2)
 *           normalize = standard  validation = 0.25  batch = 16
 *           epochs = 200  seed = 42  metrics = [accuracy]
 *           early_stop = early_stop(monitor = val_loss, patience = 3,
 *                                   min_delta = 0.002) }
 *
 * plus stat.count [1], a running statistic (not trainable, in the
 * buffers region after the trainable tensors) that counts training
 * steps and that the math ignores: it must survive checkpoints, export
 * and import. Its schedule decays the rate by 0.999 per epoch, counted
 * in one double of schedule state that checkpoints carry.
 */
#include <math.h>
#include <string.h>

#include "nnrt.h"

typedef double real;

enum { MAX_BATCH = 16, K = 3, N_TRAINABLE = 9, N_PARAMS = 10 };

static const NnrtTensor tensors[] = {
	{ "out.W", 2, { 2, 3 }, 0, 6, NNRT_INIT_XAVIER_NORMAL, 0, 0, 2, 3, 1 },
	{ "out.b", 1, { 3 }, 6, 3, NNRT_INIT_ZEROS, 0, 0, 0, 0, 1 },
	{ "stat.count", 1, { 1 }, 9, 1, NNRT_INIT_CONSTANT, 5, 0, 0, 0, 0 },
};

static const NnrtInput inputs[] = {
	{ "x", 1, { 2 }, 2, 0 },
};

static const NnrtLayer layers[] = {
	{ "x", "input", 1, { 2 }, 0, 0 },
	{ "logits", "dense", 1, { 3 }, 9, 15 },
	{ "probs", "softmax", 1, { 3 }, 0, 12 },
};

static const char *const output_names[] = { "probs" };
static const long output_sizes[] = { K };

/* log-softmax of the logits of one sample into lp[K] */
static void log_probs(const real *p, const float *x, double *lp)
{
	double z[K], mx, s = 0;
	int k;

	for (k = 0; k < K; k++)
		z[k] = p[k] * x[0] + p[K + k] * x[1] + p[6 + k];
	mx = fmax(z[0], fmax(z[1], z[2]));
	for (k = 0; k < K; k++)
		s += exp(z[k] - mx);
	for (k = 0; k < K; k++)
		lp[k] = z[k] - mx - log(s);
}

static double soft_grad(const NnrtStep *s)
{
	real *p = s->params;
	real *g = s->grads;
	const float *x = s->x, *y = s->y;
	double lp[K], loss = 0;
	int i, k, n = s->n;

	memset(g, 0, N_TRAINABLE * sizeof(real));
	for (i = 0; i < n; i++) {
		const float *xi = x + 2 * i;
		int c = (int)y[i];
		log_probs(p, xi, lp);
		loss -= lp[c];
		for (k = 0; k < K; k++) {
			double d = (exp(lp[k]) - (k == c)) / n;
			g[k] += d * xi[0];
			g[K + k] += d * xi[1];
			g[6 + k] += d;
		}
	}
	if (s->update_buffers)
		p[9] += 1;      /* stat.count: a running statistic */
	return loss / n;
}

static int soft_update(const NnrtStep *s)
{
	real *p = s->params;
	const real *g = s->grads;
	int i, bad = 0;

	for (i = 0; i < N_TRAINABLE; i++) {
		p[i] -= s->lr * g[i];
		bad |= !isfinite(g[i]) || !isfinite(p[i]);
	}
	return bad;
}

static void soft_eval(const NnrtStep *s, double *loss, float *out)
{
	const float *x = s->x, *y = s->y;
	double lp[K];
	int i, k;

	for (i = 0; i < s->n; i++) {
		log_probs(s->params, x + 2 * i, lp);
		if (loss)
			loss[i] = -lp[(int)y[i]];
		if (out)
			for (k = 0; k < K; k++)
				out[K * i + k] = (float)exp(lp[k]);
	}
}

static void soft_predict(const NnrtStep *s, float *out)
{
	double lp[K];
	int i, k;

	for (i = 0; i < s->n; i++) {
		log_probs(s->params, s->x + 2 * i, lp);
		for (k = 0; k < K; k++)
			out[K * i + k] = (float)exp(lp[k]);
	}
}

static double soft_lr_at(double *sched, const NnrtClock *c)
{
	return c->base_lr * pow(0.999, sched[0]);
}

static void soft_lr_epoch(double *sched, const NnrtClock *c,
			  double val_loss)
{
	(void)c;
	(void)val_loss;
	sched[0] += 1;
}

static const NnrtModel model = {
	.name = "soft",
	.source = "tests/runtime/fake_softmax.c",
	.nnc_version = "hand-written",
	.real_size = sizeof(real),
	.max_batch = MAX_BATCH,
	.n_inputs = 1,
	.inputs = inputs,
	.input_size = 2,
	.n_classes = K,
	.target_size = 1,
	.n_outputs = 1,
	.output_names = output_names,
	.output_sizes = output_sizes,
	.output_size = K,
	.n_tensors = 3,
	.tensors = tensors,
	.n_layers = 3,
	.layers = layers,
	.n_params = N_PARAMS,
	.n_trainable = N_TRAINABLE,
	.n_state = 0,
	.ws_size = 0,
	.n_sched = 1,
	.optimizer = "sgd(lr = 0.3)",
	.schedule = "exponential(gamma = 0.999)",
	.lr = 0.3,
	.train = {
		.data = { .kind = NNRT_SRC_CSV, .path = "data/blobs.csv", .skip = 1,
			  .x_lo = { 0 }, .x_hi = { 2 }, .y_lo = 2, .y_hi = 3 },
		.validation = 0.25,
		.batch = MAX_BATCH,
		.epochs = 200,
		.shuffle = 1,
		.drop_last = 0,
		.seed = 42,
		.normalize = NNRT_NORM_STANDARD,
		.metrics = NNRT_METRIC_BIT(ACCURACY),
		.early_stop = 1,
		.monitor = NNRT_MON_VAL_LOSS,
		.patience = 3,
		.min_delta = 0.002,
		.restore_best = 1,
		.checkpoint = NULL,
		.log = NULL,
	},
	.grad = soft_grad,
	.update = soft_update,
	.eval = soft_eval,
	.predict = soft_predict,
	.lr_at = soft_lr_at,
	.lr_epoch = soft_lr_epoch,
};

int main(int argc, char **argv)
{
	return nnrt_main(&model, argc, argv);
}
