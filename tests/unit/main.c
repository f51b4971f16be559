/*
 * The CUnit runner for every compiler unit test. Each suite lives in
 * tests/unit/test_<name>.c and is listed in suites.h.
 *
 * CU_basic_run_tests() returns success even when asserts fail, so the exit
 * status comes from the failure count, read before cleanup.
 */
#include <CUnit/Basic.h>
#include <stdio.h>

#define SUITE(name) void suite_##name(void);
#include "suites.h"
#undef SUITE

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "unit: cannot initialize CUnit\n");
		return 2;
	}
#define SUITE(name) suite_##name();
#include "suites.h"
#undef SUITE
	CU_basic_set_mode(CU_BRM_NORMAL);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	unsigned tests_failed = CU_get_number_of_tests_failed();
	unsigned run = CU_get_number_of_tests_run();
	CU_cleanup_registry();
	printf("unit: %u passed, %u failed\n", run - tests_failed, tests_failed);
	return failed != 0;
}
