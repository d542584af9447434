/*
 * Tests of sim_kinds: names round-trip, defaults are valid replies.
 */
#include <string.h>

#include <CUnit/CUnit.h>

#include "sim_kinds.h"
#include "test_suites.h"

/* every kind has a unique name that maps back to it */
static void
test_names_roundtrip(void)
{
	int i, j;

	for (i = 0; i < SIM_RK__COUNT; i++) {
		CU_ASSERT_EQUAL(sim_kind_by_name(sim_kind_info(i)->name), i);
		for (j = i + 1; j < SIM_RK__COUNT; j++)
			CU_ASSERT_NOT_EQUAL(strcmp(sim_kind_info(i)->name,
			    sim_kind_info(j)->name), 0);
	}
	CU_ASSERT_EQUAL(sim_kind_by_name("no.such.kind"), -1);
	CU_ASSERT_EQUAL(sim_kind_by_name("rate.ip"), SIM_RK_RATE_IP);
}

/* defaults: codes in range; enhanced class matches; policy kinds fail */
static void
test_defaults_valid(void)
{
	const struct sim_kind_info *k;
	int i;

	for (i = 0; i < SIM_RK__COUNT; i++) {
		k = sim_kind_info(i);
		CU_ASSERT(k->code >= 200 && k->code <= 599);
		CU_ASSERT(k->text != NULL && k->text[0] != '\0');
		if (k->enhanced[0] != '\0')
			CU_ASSERT_EQUAL(k->enhanced[0] - '0', k->code / 100);
		if (i >= SIM_RK__POLICY_FIRST && i <= SIM_RK__POLICY_LAST)
			CU_ASSERT(k->code >= 400);
	}
}

/* stage and window names and lengths */
static void
test_stages_windows(void)
{
	int i;

	for (i = 0; i < SIM_STAGE__COUNT; i++)
		CU_ASSERT_EQUAL(sim_stage_by_name(sim_stage_name(i)), i);
	CU_ASSERT_EQUAL(sim_stage_by_name("eod"), SIM_STAGE_EOD);
	CU_ASSERT_EQUAL(sim_stage_by_name("later"), -1);
	CU_ASSERT_STRING_EQUAL(sim_window_name(SIM_WIN_HOUR), "hour");
	CU_ASSERT_EQUAL(sim_window_ms(SIM_WIN_SECOND), 1000);
	CU_ASSERT_EQUAL(sim_window_ms(SIM_WIN_DAY), 86400000ULL);
}

int
test_sim_kinds_register(void)
{
	CU_pSuite s = CU_add_suite("sim_kinds", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "names round-trip", test_names_roundtrip) == NULL ||
	    CU_add_test(s, "defaults valid", test_defaults_valid) == NULL ||
	    CU_add_test(s, "stages and windows", test_stages_windows) == NULL)
		return -1;
	return 0;
}
