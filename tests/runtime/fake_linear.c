/*
 * fake_linear.c - a hand-written model for testing libnnrt: logistic
 * regression, written as nnc would generate it.
 *
 *   model fake
 *   input  x[2]
 *   target y[1]
 *   yhat = sigmoid(dense(x, 1))        # lin.W [2, 1], lin.b [1]
 *   output yhat
 *   loss = bce(yhat, y)
 *   optimizer sgd(lr = 0.5, momentum = 0.9)
 *   train { data = csv("data/sep.csv", x = 0:2, y = 2)  batch = 8
 *           epochs = 30  seed = 3  metrics = [accuracy] }
 *
 * Build variants:
 *   -DFAKE_F32     real is float (an f32 build)
 *   -DWRONG_GRAD   d(loss)/d(lin.W) is off by half: gradcheck must fail
 *   -DNAN_GRAD     step 7's gradient of lin.b is NaN (the loss finite)
 *   -DINF_PARAM    step 7's update makes lin.W[1] infinite, and the loss
 *                  ignores lin.W[1] as a relu would hide it
 */
#include <math.h>
#include <string.h>

#include "nnrt.h"

#ifdef FAKE_F32
typedef float real;
#else
typedef double real;
#endif

enum { MAX_BATCH = 8, N_PARAMS = 3 };

static const NnrtTensor tensors[] = {
	{ "lin.W", 2, { 2, 1 }, 0, 2, NNRT_INIT_XAVIER_UNIFORM, 0, 0, 2, 1, 1 },
	{ "lin.b", 1, { 1 }, 2, 1, NNRT_INIT_ZEROS, 0, 0, 0, 0, 1 },
};

static const NnrtInput inputs[] = {
	{ "x", 1, { 2 }, 2, 0 },
};

static const NnrtLayer layers[] = {
	{ "x", "input", 1, { 2 }, 0, 0 },
	{ "yhat", "dense", 1, { 1 }, 3, 4 },
	{ "yhat", "sigmoid", 1, { 1 }, 0, 4 },
};

static const char *const output_names[] = { "yhat" };
static const long output_sizes[] = { 1 };

/* z = x . W + b for sample i */
static double logit(const real *p, const float *x)
{
#ifdef INF_PARAM
	if (isinf(p[1]))
		return (double)p[0] * x[0] + (double)p[2];
#endif
	return (double)p[0] * x[0] + (double)p[1] * x[1] + (double)p[2];
}

/* bce(sigmoid(z), y), computed stably from the logit */
static double bce_logit(double z, double y)
{
	return fmax(z, 0) - z * y + log1p(exp(-fabs(z)));
}

static double sigmoid(double z)
{
	return 1 / (1 + exp(-z));
}

static double fake_grad(const NnrtStep *s)
{
	const real *p = s->params;
	real *g = s->grads;
	const float *x = s->x, *y = s->y;
	double loss = 0, g0 = 0, g1 = 0, g2 = 0;
	int i, n = s->n;

	for (i = 0; i < n; i++) {
		double z = logit(p, x + 2 * i);
		double d = (sigmoid(z) - y[i]) / n;
		loss += bce_logit(z, y[i]);
		g0 += d * x[2 * i];
		g1 += d * x[2 * i + 1];
		g2 += d;
	}
#ifdef WRONG_GRAD
	g0 *= 1.5;
#endif
#ifdef NAN_GRAD
	if (s->step == 7)
		g2 = NAN;
#endif
	g[0] = (real)g0;
	g[1] = (real)g1;
	g[2] = (real)g2;
	return loss / n;
}

/* torch.optim.SGD with momentum: v = mu v + g; p -= lr v */
static int fake_update(const NnrtStep *s)
{
	real *p = s->params, *v = s->state;
	const real *g = s->grads;
	int i, bad = 0;

	for (i = 0; i < N_PARAMS; i++) {
		v[i] = (real)(0.9 * v[i] + g[i]);
		p[i] = (real)(p[i] - s->lr * v[i]);
	}
#ifdef INF_PARAM
	if (s->step == 7)
		p[1] = (real)INFINITY;
#endif
	for (i = 0; i < N_PARAMS; i++)
		bad |= !isfinite(g[i]) || !isfinite(p[i]);
	return bad;
}

static void fake_eval(const NnrtStep *s, double *loss, float *out)
{
	const float *x = s->x, *y = s->y;
	int i;

	for (i = 0; i < s->n; i++) {
		double z = logit(s->params, x + 2 * i);
		if (loss)
			loss[i] = bce_logit(z, y[i]);
		if (out)
			out[i] = (float)sigmoid(z);
	}
}

static void fake_predict(const NnrtStep *s, float *out)
{
	int i;

	for (i = 0; i < s->n; i++)
		out[i] = (float)sigmoid(logit(s->params, s->x + 2 * i));
}

/* a constant rate */
static double fake_lr_at(double *sched, const NnrtClock *c)
{
	(void)sched;
	return c->base_lr;
}

static void fake_lr_epoch(double *sched, const NnrtClock *c, double loss)
{
	(void)sched;
	(void)c;
	(void)loss;
}

static const NnrtModel model = {
	.name = "fake",
	.source = "tests/runtime/fake_linear.c",
	.nnc_version = "hand-written",
	.real_size = sizeof(real),
	.max_batch = MAX_BATCH,
	.n_inputs = 1,
	.inputs = inputs,
	.input_size = 2,
	.n_classes = 0,
	.target_size = 1,
	.n_outputs = 1,
	.output_names = output_names,
	.output_sizes = output_sizes,
	.output_size = 1,
	.n_tensors = 2,
	.tensors = tensors,
	.n_layers = 3,
	.layers = layers,
	.n_params = N_PARAMS,
	.n_trainable = N_PARAMS,
	.n_state = N_PARAMS,
	.ws_size = 1,
	.optimizer = "sgd(lr = 0.5, momentum = 0.9)",
	.lr = 0.5,
	.train = {
		.data = { .kind = NNRT_SRC_CSV, .path = "data/sep.csv", .skip = 0,
			  .x_lo = { 0 }, .x_hi = { 2 }, .y_lo = 2, .y_hi = 3 },
		.validation = 0,
		.batch = MAX_BATCH,
		.epochs = 30,
		.shuffle = 1,
		.drop_last = 0,
		.seed = 3,
		.normalize = NNRT_NORM_NONE,
		.metrics = NNRT_METRIC_BIT(ACCURACY),
		.early_stop = 0,
		.checkpoint = NULL,
		.log = NULL,
	},
	.grad = fake_grad,
	.update = fake_update,
	.eval = fake_eval,
	.predict = fake_predict,
	.lr_at = fake_lr_at,
	.lr_epoch = fake_lr_epoch,
};

int main(int argc, char **argv)
{
	return nnrt_main(&model, argc, argv);
}
