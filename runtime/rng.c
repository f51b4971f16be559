/*
 * rng.c - the trainer's one random number generator.
 *
 * PCG32 (O'Neill, pcg-random.org, "pcg32_random_r"): 64-bit LCG state,
 * 32-bit xorshift-rotate output, on a fixed stream. Everything random in
 * a run draws from one Rng seeded with train.seed (or --seed), in this
 * order: initial tensors (descriptor order, elements in order), then the
 * validation permutation, then one shuffle per epoch. Same seed, same
 * draws, on every machine: nothing here depends on the C library's rand.
 *
 * Randomness inside a training step (dropout) does not draw from it: it
 * is counter-based (nnrt_rand_key, nnrt_rand_uniform; nnrt.h has the
 * formula), a function of (seed, step, stream, element) alone.
 */
#include <math.h>

#include "rt.h"

#define PCG_MULT 6364136223846793005ULL
#define PCG_STREAM 0x4e4e5254ULL /* "NNRT" */
#define TWO_PI 6.283185307179586476925

uint32_t nnrt_rng_u32(Rng *r)
{
	uint64_t old = r->state;
	uint32_t xorshifted, rot;

	r->state = old * PCG_MULT + r->inc;
	xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
	rot = (uint32_t)(old >> 59);
	return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

/* pcg32_srandom_r(seed, PCG_STREAM) */
void nnrt_rng_seed(Rng *r, uint64_t seed)
{
	r->state = 0;
	r->inc = (PCG_STREAM << 1) | 1;
	nnrt_rng_u32(r);
	r->state += seed;
	nnrt_rng_u32(r);
}

/* 53 random bits from two draws: a double in [0, 1). */
double nnrt_rng_uniform(Rng *r)
{
	uint64_t hi = nnrt_rng_u32(r) >> 5;  /* 27 bits */
	uint64_t lo = nnrt_rng_u32(r) >> 6;  /* 26 bits */

	return (double)(hi << 26 | lo) * (1.0 / 9007199254740992.0);
}

/* Box-Muller, one value per pair of uniforms (no cached second value, so
 * every normal draw consumes exactly four 32-bit outputs). */
double nnrt_rng_normal(Rng *r)
{
	double u1 = 1.0 - nnrt_rng_uniform(r);  /* (0, 1]: log is finite */
	double u2 = nnrt_rng_uniform(r);

	return sqrt(-2.0 * log(u1)) * cos(TWO_PI * u2);
}

/* Uniform in [0, n) by rejection of the biased low range (Lemire's
 * threshold): unbiased for every n > 0. */
uint64_t nnrt_rng_below(Rng *r, uint64_t n)
{
	if (n <= 1)
		return 0;
	if (n <= UINT32_MAX) {
		uint32_t bound = (uint32_t)n;
		uint32_t threshold = (uint32_t)(-bound) % bound;
		for (;;) {
			uint32_t x = nnrt_rng_u32(r);
			if (x >= threshold)
				return x % bound;
		}
	}
	for (;;) {
		uint64_t x = (uint64_t)nnrt_rng_u32(r) << 32 | nnrt_rng_u32(r);
		uint64_t threshold = (-n) % n;
		if (x >= threshold)
			return x % n;
	}
}

/* Fisher-Yates from the end: a[i] swaps with a[j], j uniform in [0, i]. */
void nnrt_rng_shuffle(Rng *r, long *a, long n)
{
	long i;

	for (i = n - 1; i > 0; i--) {
		long j = (long)nnrt_rng_below(r, (uint64_t)i + 1);
		long t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}

/* SplitMix64's finalizer (Steele, Lea, Flood 2014) */
static uint64_t mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

unsigned long long nnrt_rand_key(unsigned long seed, long step, int stream)
{
	return mix(mix(mix((uint64_t)seed) ^ (uint64_t)step) ^
		   (uint64_t)stream);
}

double nnrt_rand_uniform(unsigned long long key, long element)
{
	return (double)(mix(key ^ (uint64_t)element) >> 11) *
	       (1.0 / 9007199254740992.0);
}
