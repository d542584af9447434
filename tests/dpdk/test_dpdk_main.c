/*
 * DESCRIPTION
 *	Tier-1 DPDK tests (no root, no network): starts EAL without
 *	hugepages, PCI or shared config, makes the ring port, runs the
 *	suites (all, or those named: dpdk_tests [suite ...]), prints
 *	"dpdk tier1: N passed, N failed" and exits non-zero on a failure.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "dp_test_helper.h"
#include "test_dpdk_suites.h"

struct suite_reg {
	const char	*name;
	int		(*reg)(void);
};

static const struct suite_reg suites[] = {
	{ "dp_net", test_dp_net_register },
	{ "utcp", test_utcp_register },
	{ "dp_world", test_dp_world_register },
	{ "dp_alloc", test_dp_alloc_register },
};

int
main(int argc, char **argv)
{
	char a_l[] = "-l", a_0[] = "0", a_nohuge[] = "--no-huge",
	    a_m[] = "-m", a_128[] = "128", a_nopci[] = "--no-pci",
	    a_noshconf[] = "--no-shconf", a_log[] = "--log-level=error";
	char *eal[] = { argv[0], a_l, a_0, a_nohuge, a_m, a_128, a_nopci,
	    a_noshconf, a_log, NULL };
	unsigned failed, run;
	size_t i;
	int j, want;

	if (dpt_eal_start(9, eal) != 0) {
		printf("dpdk tier1: 0 passed, 1 failed (EAL)\n");
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		want = argc < 2;
		for (j = 1; j < argc; j++)
			if (strcmp(argv[j], suites[i].name) == 0)
				want = 1;
		if (want && suites[i].reg() != 0) {
			fprintf(stderr, "cannot register suite %s\n",
			    suites[i].name);
			CU_cleanup_registry();
			return 2;
		}
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	run = CU_get_number_of_tests_run();
	failed = CU_get_number_of_tests_failed();
	printf("dpdk tier1: %u passed, %u failed\n", run - failed, failed);
	failed += CU_get_number_of_failures() > 0 && failed == 0;
	CU_cleanup_registry();
	return failed != 0 ? 1 : 0;
}
