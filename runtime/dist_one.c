/*
 * dist_one.c - the primitives of dist.c for one process: libnnrt's.
 * Rank 0 of 1; every reduction is the identity. libnnrt_mpi has
 * dist_mpi.c in this file's place.
 */
#include <stdlib.h>

#include "rt.h"

void nnrt_dist_start(const Rt *rt)
{
}

int nnrt_dist_end(int status)
{
	return status;
}

_Noreturn void nnrt_dist_exit(int status)
{
	exit(status);
}

int nnrt_dist_rank(void)
{
	return 0;
}

int nnrt_dist_size(void)
{
	return 1;
}

const char *nnrt_dist_who(void)
{
	return "";
}

void nnrt_dist_sum_reals(void *buf, long n, int real_size)
{
}

void nnrt_dist_sum(double *v, int n)
{
}

long nnrt_dist_max(long v)
{
	return v;
}

void nnrt_dist_bcast(long *v, int n)
{
}

/* One process sums nothing: the gradient is an ordinary buffer. */
void *nnrt_dist_alloc_grads(const Rt *rt, size_t n, size_t size)
{
	return nnrt_base_alloc(rt, n, size);
}
