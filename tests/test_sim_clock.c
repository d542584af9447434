/*
 * Tests of sim_clock and sim_rng: scaling, manual mode, ISO format,
 * reproducible seeded sequences.
 */
#include <time.h>

#include <CUnit/CUnit.h>

#include "sim_clock.h"
#include "sim_rng.h"
#include "test_suites.h"

/* a scaled clock runs scale times faster than real time */
static void
test_scaled(void)
{
	struct sim_clock c;
	struct timespec ts = { 0, 50 * 1000000 };
	uint64_t t0, t1;

	sim_clock_init(&c, 1000000000000ULL, 1440.0);
	t0 = sim_clock_now(&c);
	CU_ASSERT(t0 >= 1000000000000ULL && t0 < 1000000000000ULL + 60000);
	nanosleep(&ts, NULL);
	t1 = sim_clock_now(&c);
	/* 50 ms real = 72 simulated seconds at 1440x */
	CU_ASSERT(t1 - t0 >= 70000);
	CU_ASSERT(t1 - t0 < 72000 * 20);
}

/* a manual clock moves only when set */
static void
test_manual(void)
{
	struct sim_clock c;

	sim_clock_init_manual(&c, 5000);
	CU_ASSERT_EQUAL(sim_clock_now(&c), 5000);
	sim_clock_set(&c, 86400000);
	CU_ASSERT_EQUAL(sim_clock_now(&c), 86400000);
}

/* ISO 8601 formatting */
static void
test_iso(void)
{
	char buf[32];

	CU_ASSERT_STRING_EQUAL(sim_clock_iso(1767225600123ULL, buf,
	    sizeof(buf)), "2026-01-01T00:00:00.123Z");
}

/* same seed, same stream: same numbers; other stream: different */
static void
test_rng(void)
{
	struct sim_rng a, b, c;
	int i, same = 1, differ = 0, inrange = 1;

	sim_rng_seed(&a, 42, 0);
	sim_rng_seed(&b, 42, 0);
	sim_rng_seed(&c, 42, 1);
	for (i = 0; i < 1000; i++) {
		uint64_t x = sim_rng_next(&a), y = sim_rng_next(&b);

		same &= x == y;
		differ += x != sim_rng_next(&c);
		inrange &= sim_rng_below(&a, 7) < 7;
		inrange &= sim_rng_double(&b) < 1.0;
	}
	CU_ASSERT(same);
	CU_ASSERT(differ > 990);
	CU_ASSERT(inrange);
	sim_rng_seed(&a, 7, 3);
	CU_ASSERT_EQUAL(sim_rng_next(&a), (sim_rng_seed(&b, 7, 3),
	    sim_rng_next(&b)));
}

int
test_sim_clock_register(void)
{
	CU_pSuite s = CU_add_suite("sim_clock", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "scaled clock", test_scaled) == NULL ||
	    CU_add_test(s, "manual clock", test_manual) == NULL ||
	    CU_add_test(s, "iso format", test_iso) == NULL ||
	    CU_add_test(s, "seeded rng", test_rng) == NULL)
		return -1;
	return 0;
}
