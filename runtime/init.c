/*
 * init.c - initial values of the tensors, as PyTorch's torch.nn.init
 * defines them:
 *
 *   xavier_uniform  U(-a, a), a = sqrt(6 / (fan_in + fan_out))
 *   xavier_normal   N(0, sqrt(2 / (fan_in + fan_out)))
 *   he_uniform      U(-a, a), a = sqrt(6 / fan_in)   (kaiming_uniform_, relu)
 *   he_normal       N(0, sqrt(2 / fan_in))           (kaiming_normal_, relu)
 *   normal(std)     N(0, std);  uniform(lo, hi)  U(lo, hi)
 *
 * Tensors are filled in descriptor order, elements in order, each
 * element taking its draws before the next; zeros, ones and constants
 * draw nothing. Fans come from the descriptor (the compiler knows the
 * layer); a fan below 1 is taken as 1.
 */
#include <math.h>
#include <string.h>

#include "rt.h"

static double fan(int f)
{
	return f > 0 ? (double)f : 1.0;
}

static double draw(Rng *r, const NnrtTensor *t)
{
	double a;

	switch (t->init) {
	case NNRT_INIT_ZEROS:
		return 0.0;
	case NNRT_INIT_ONES:
		return 1.0;
	case NNRT_INIT_CONSTANT:
		return t->init_a;
	case NNRT_INIT_NORMAL:
		return t->init_a * nnrt_rng_normal(r);
	case NNRT_INIT_UNIFORM:
		return t->init_a + (t->init_b - t->init_a) * nnrt_rng_uniform(r);
	case NNRT_INIT_XAVIER_UNIFORM:
		a = sqrt(6.0 / (fan(t->fan_in) + fan(t->fan_out)));
		return a * (2.0 * nnrt_rng_uniform(r) - 1.0);
	case NNRT_INIT_XAVIER_NORMAL:
		a = sqrt(2.0 / (fan(t->fan_in) + fan(t->fan_out)));
		return a * nnrt_rng_normal(r);
	case NNRT_INIT_HE_UNIFORM:
		a = sqrt(6.0 / fan(t->fan_in));
		return a * (2.0 * nnrt_rng_uniform(r) - 1.0);
	case NNRT_INIT_HE_NORMAL:
		a = sqrt(2.0 / fan(t->fan_in));
		return a * nnrt_rng_normal(r);
	case NNRT_INIT_COUNT:
		break;
	}
	return 0.0;
}

/* Fills dst (n_params reals) from rt->rng. Elements no tensor covers
 * are zero. With dst NULL the draws are taken and dropped: a checkpoint
 * provides the tensors, but the generator must stand where it would. */
void nnrt_init_tensors(Rt *rt, void *dst)
{
	const NnrtModel *m = rt->m;
	int i;
	long k;

	if (dst)
		memset(dst, 0, (size_t)m->n_params * (size_t)m->real_size);
	for (i = 0; i < m->n_tensors; i++) {
		const NnrtTensor *t = &m->tensors[i];
		for (k = 0; k < t->size; k++) {
			double v = draw(&rt->rng, t);
			if (dst)
				nnrt_base_set_real(rt, dst, t->offset + k, v);
		}
	}
}

/* The initialiser as the .nn source spells it: "he_normal",
 * "normal(0.01)", "uniform(-0.1, 0.1)". */
void nnrt_init_describe(const NnrtTensor *t, char *buf, size_t n)
{
	static const struct {
		const char *name;
		int nargs;
	} inits[] = {
#define NNRT_INIT_ROW(id, name, nargs) {name, nargs},
		NNRT_INITS(NNRT_INIT_ROW)
#undef NNRT_INIT_ROW
	};

	if ((unsigned)t->init >= NNRT_INIT_COUNT)
		snprintf(buf, n, "?");
	else if (inits[t->init].nargs == 2)
		snprintf(buf, n, "%s(%g, %g)", inits[t->init].name, t->init_a,
			 t->init_b);
	else if (inits[t->init].nargs == 1)
		snprintf(buf, n, "%s(%g)", inits[t->init].name, t->init_a);
	else
		snprintf(buf, n, "%s", inits[t->init].name);
}
