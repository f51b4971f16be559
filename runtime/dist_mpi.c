/*
 * dist_mpi.c - the primitives of dist.c over MPI: libnnrt_mpi's, in
 * place of dist_one.c (`make mpi`, compiled with mpicc).
 *
 * The communicator is MPI_COMM_WORLD. Where the process is in it is
 * the one piece of process-wide state, as MPI's own is: kept here and
 * read through functions, set once by nnrt_dist_start.
 *
 * Failure ends the job, never hangs it: a fatal error on any rank
 * (nnrt_base_die) prints its message prefixed by "rank R of P: " and
 * calls MPI_Abort, which makes mpirun end every rank; a rank killed
 * by a signal is noticed by mpirun, which does the same. Communication
 * errors are fatal (MPI_ERRORS_ARE_FATAL, MPI's default).
 *
 * Only rank 0 speaks: the other ranks' stdout goes to /dev/null (their
 * warnings are dropped by nnrt_base_warn, their errors are kept), and
 * only rank 0 writes checkpoints and logs.
 */
#define _DEFAULT_SOURCE 1       /* MAP_ANONYMOUS, madvise */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>

#include <mpi.h>

#include "rt.h"

static struct {
	int on;                   /* MPI_Init done, MPI_Finalize not */
	int rank, size;
	char who[48];
} comm = { 0, 0, 1, "" };

/* Only train and eval are divided between the ranks; the other
 * commands would each do the same work and write the same files. */
void nnrt_dist_start(const Rt *rt)
{
	if (MPI_Init(NULL, NULL) != MPI_SUCCESS)
		nnrt_base_die(rt, "MPI_Init failed");
	comm.on = 1;
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
	MPI_Comm_rank(MPI_COMM_WORLD, &comm.rank);
	MPI_Comm_size(MPI_COMM_WORLD, &comm.size);
	if (comm.size == 1)
		return;
	snprintf(comm.who, sizeof comm.who, "rank %d of %d: ", comm.rank,
		 comm.size);
	if (strcmp(rt->cmd, "train") != 0 && strcmp(rt->cmd, "eval") != 0)
		nnrt_base_die(rt, "'%s' runs in one process: start it without "
			      "mpirun (train and eval run on several ranks)",
			      rt->cmd);
	if (comm.rank > 0 && !freopen("/dev/null", "w", stdout))
		nnrt_base_die(rt, "cannot open /dev/null");
}

int nnrt_dist_end(int status)
{
	if (comm.on) {
		fflush(stdout);
		MPI_Finalize();
		comm.on = 0;
	}
	return status;
}

_Noreturn void nnrt_dist_exit(int status)
{
	fflush(stdout);
	fflush(stderr);
	if (comm.on && comm.size > 1)
		MPI_Abort(MPI_COMM_WORLD, status);
	nnrt_dist_end(status);
	exit(status);
}

int nnrt_dist_rank(void)
{
	return comm.rank;
}

int nnrt_dist_size(void)
{
	return comm.size;
}

const char *nnrt_dist_who(void)
{
	return comm.who;
}

/* MPI counts are int: a buffer past INT_MAX elements goes in pieces. */
void nnrt_dist_sum_reals(void *buf, long n, int real_size)
{
	MPI_Datatype t = real_size == 8 ? MPI_DOUBLE : MPI_FLOAT;
	char *p = buf;
	long k;

	if (comm.size == 1)
		return;
	for (; n > 0; n -= k, p += (size_t)k * (size_t)real_size) {
		k = n < INT_MAX ? n : INT_MAX;
		MPI_Allreduce(MPI_IN_PLACE, p, (int)k, t, MPI_SUM,
			      MPI_COMM_WORLD);
	}
}

void nnrt_dist_sum(double *v, int n)
{
	if (comm.size > 1)
		MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM,
			      MPI_COMM_WORLD);
}

long nnrt_dist_max(long v)
{
	if (comm.size > 1)
		MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_LONG, MPI_MAX,
			      MPI_COMM_WORLD);
	return v;
}

void nnrt_dist_bcast(long *v, int n)
{
	if (comm.size > 1)
		MPI_Bcast(v, n, MPI_LONG, 0, MPI_COMM_WORLD);
}

/*
 * The gradient buffer, which every step's allreduce reads from the
 * other ranks: in transparent huge pages (Linux, where the system
 * allows them on request), so that shared memory's single-copy
 * transfer (CMA) pins a few 2 MB pages, not hundreds of 4 KB ones.
 * Measured on the bench MLP's 0.94 MB gradient between 2 ranks: the
 * allreduce takes 75 us in place of 107 (8 pairs of runs alternating;
 * lower in every pair). A buffer under 512 KB, or a system without
 * MADV_HUGEPAGE, gets ordinary memory. Like the runtime's other
 * buffers it lives as long as the process.
 */
void *nnrt_dist_alloc_grads(const Rt *rt, size_t n, size_t size)
{
#ifdef MADV_HUGEPAGE
	const size_t huge = (size_t)2 << 20;

	if (size > 0 && n <= SIZE_MAX / size / 2 && n * size >= huge / 4) {
		size_t len = (n * size + huge - 1) / huge * huge;
		char *p = mmap(NULL, len + huge, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED) {
			p += (huge - (uintptr_t)p % huge) % huge;
			madvise(p, len, MADV_HUGEPAGE);
			return p;       /* zeroed, as calloc's */
		}
	}
#endif
	return nnrt_base_alloc(rt, n, size);
}
