/*
 * sgemm_bound.c - the GEMM-only bound of an MLP's training step.
 *
 *   sgemm_bound BATCH N0 N1 ... Nk
 *
 * times cblas_sgemm on exactly the products one training step of the
 * dense network N0-N1-...-Nk at batch BATCH needs, and prints
 *
 *   <samples/s> <seconds a step> <GFLOP/s>
 *
 * For layer i (n_in -> n_out): the forward Y[B, out] = X[B, in] @ W, the
 * weight gradient dW[in, out] = X^T @ dY, and (not for the first layer,
 * whose input needs no gradient) dX[B, in] = dY @ W^T. Everything else a
 * step does (bias, activation, loss, the optimizer) is left out, so no
 * trainer built on this BLAS can beat BATCH / (seconds a step): that is
 * the bound bench/run.py puts beside each MLP's samples/s. The thread
 * count is OpenBLAS's own (OPENBLAS_NUM_THREADS).
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static float *randbuf(size_t n)
{
	float *p = malloc(n * sizeof(*p));

	if (!p) {
		fprintf(stderr, "sgemm_bound: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		p[i] = (float)rand() / RAND_MAX - 0.5f;
	return p;
}

/* One step's products, in the order a trainer issues them. */
static void step(int b, int nl, const int *n, float **x, float **w,
		 float **dy, float **dw, float **dx)
{
	for (int i = 0; i < nl; i++)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b,
			    n[i + 1], n[i], 1.0f, x[i], n[i], w[i], n[i + 1],
			    0.0f, x[i + 1], n[i + 1]);
	for (int i = nl - 1; i >= 0; i--) {
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n[i],
			    n[i + 1], b, 1.0f, x[i], n[i], dy[i], n[i + 1],
			    0.0f, dw[i], n[i + 1]);
		if (i > 0)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b,
				    n[i], n[i + 1], 1.0f, dy[i], n[i + 1],
				    w[i], n[i + 1], 0.0f, dx[i], n[i]);
	}
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: sgemm_bound BATCH N0 N1 [N2 ...]\n");
		return 2;
	}
	int b = atoi(argv[1]), nl = argc - 3;
	int *n = malloc((nl + 1) * sizeof(*n));
	float **x = malloc((nl + 1) * sizeof(*x)), **w = malloc(nl * sizeof(*w));
	float **dy = malloc(nl * sizeof(*dy)), **dw = malloc(nl * sizeof(*dw));
	float **dx = malloc(nl * sizeof(*dx));
	double flops = 0;

	for (int i = 0; i <= nl; i++) {
		n[i] = atoi(argv[i + 2]);
		if (b <= 0 || n[i] <= 0) {
			fprintf(stderr, "sgemm_bound: sizes must be positive\n");
			return 2;
		}
		x[i] = randbuf((size_t)b * n[i]);
	}
	for (int i = 0; i < nl; i++) {
		w[i] = randbuf((size_t)n[i] * n[i + 1]);
		dw[i] = randbuf((size_t)n[i] * n[i + 1]);
		dy[i] = randbuf((size_t)b * n[i + 1]);
		dx[i] = randbuf((size_t)b * n[i]);
		flops += 2.0 * b * n[i] * n[i + 1] * (i > 0 ? 3 : 2);
	}

	/* warm up (thread start, page faults), then at least 0.5 s */
	for (int r = 0; r < 3; r++)
		step(b, nl, n, x, w, dy, dw, dx);
	long reps = 0;
	double t0 = now(), t;
	do {
		step(b, nl, n, x, w, dy, dw, dx);
		reps++;
		t = now() - t0;
	} while (t < 0.5 || reps < 5);

	double per = t / reps;
	printf("%.1f %.9f %.2f\n", b / per, per, flops / per * 1e-9);
	return 0;
}
