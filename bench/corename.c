/*
 * corename.c - the OpenBLAS kernel in use, for the benchmark's table.
 *
 * OpenBLAS picks its kernels at run time from the CPU (or from
 * OPENBLAS_CORETYPE); the name it chose says which GEMM every number in
 * bench/results.md went through.
 */
#include <stdio.h>

char *openblas_get_corename(void);
int openblas_get_num_threads(void);

int main(void)
{
	printf("%s %d\n", openblas_get_corename(), openblas_get_num_threads());
	return 0;
}
