/*
 * Tests of sim_state: sliding windows, lookup, expiry, bounded pool,
 * entry size.
 */
#include <stdio.h>

#include <CUnit/CUnit.h>

#include "sim_state.h"
#include "test_suites.h"

#define MIN	60000ULL

/* counts within one window are exact; the previous window fades */
static void
test_window_slide(void)
{
	struct sim_win w = { 0, 0, 0 };
	uint64_t t = 100 * MIN;	/* start of a minute window */

	sim_win_add(&w, SIM_WIN_MINUTE, t, 10);
	sim_win_add(&w, SIM_WIN_MINUTE, t + 30000, 5);
	CU_ASSERT_EQUAL(sim_win_count(&w, SIM_WIN_MINUTE, t + 59999), 15);
	/* half way through the next minute: half of 15 remains */
	CU_ASSERT_EQUAL(sim_win_count(&w, SIM_WIN_MINUTE, t + MIN + 30000), 7);
	sim_win_add(&w, SIM_WIN_MINUTE, t + MIN + 30000, 2);
	CU_ASSERT_EQUAL(sim_win_count(&w, SIM_WIN_MINUTE, t + MIN + 30000), 9);
	/* two windows later everything is gone */
	CU_ASSERT_EQUAL(sim_win_count(&w, SIM_WIN_MINUTE, t + 3 * MIN), 0);
	/* roll-back never goes below zero */
	sim_win_add(&w, SIM_WIN_MINUTE, t + 3 * MIN, 1);
	sim_win_add(&w, SIM_WIN_MINUTE, t + 3 * MIN, -5);
	CU_ASSERT_EQUAL(sim_win_count(&w, SIM_WIN_MINUTE, t + 3 * MIN), 0);
}

/* identities are distinct by kind, profile and key */
static void
test_lookup(void)
{
	struct sim_state *st = sim_state_new(1024, 1000);
	struct sim_entry *e;

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	e = sim_state_get(st, SIM_KEY_IP, 0, 0x7f000001, NULL, 10);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT(e->rep < 0);
	e->conns = 3;
	sim_state_put(st, e);
	e = sim_state_get(st, SIM_KEY_IP, 1, 0x7f000001, NULL, 10);
	CU_ASSERT_EQUAL(e->conns, 0);	/* other profile */
	sim_state_put(st, e);
	e = sim_state_get(st, SIM_KEY_DOMAIN, 0, 0, "a.example", 10);
	e->conns = 7;
	sim_state_put(st, e);
	CU_ASSERT_PTR_NULL(sim_state_find(st, SIM_KEY_RCPT, 0, 0, "a.example",
	    10));
	e = sim_state_find(st, SIM_KEY_IP, 0, 0x7f000001, NULL, 11);
	CU_ASSERT_EQUAL(e->conns, 3);
	CU_ASSERT_EQUAL(e->last_ms, 11);
	sim_state_put(st, e);
	e = sim_state_find(st, SIM_KEY_DOMAIN, 0, 0, "a.example", 11);
	CU_ASSERT_EQUAL(e->conns, 7);
	sim_state_put(st, e);
	CU_ASSERT_EQUAL(sim_state_count(st), 3);
	sim_state_free(st);
}

/* idle entries without connections expire; busy ones stay */
static void
test_expire(void)
{
	struct sim_state *st = sim_state_new(1024, 1000);
	struct sim_entry *e;
	char key[32];
	int i;

	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "r%d@x.example", i);
		e = sim_state_get(st, SIM_KEY_RCPT, 0, 0, key, 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(e);
		sim_state_put(st, e);
	}
	e = sim_state_get(st, SIM_KEY_IP, 0, 1, NULL, 0);
	e->conns = 1;
	sim_state_put(st, e);
	CU_ASSERT_EQUAL(sim_state_expire(st, 999), 0);
	CU_ASSERT_EQUAL(sim_state_expire(st, 1000), 100);
	CU_ASSERT_EQUAL(sim_state_count(st), 1);
	sim_state_free(st);
}

/* a full pool returns NULL and counts, never grows */
static void
test_bounded(void)
{
	struct sim_state *st = sim_state_new(64, 1000000);
	struct sim_entry *e;
	unsigned i, got = 0;

	for (i = 0; i < 1000; i++) {
		e = sim_state_get(st, SIM_KEY_IP, 0, i, NULL, 0);
		if (e != NULL) {
			got++;
			sim_state_put(st, e);
		}
	}
	CU_ASSERT(got <= 64);
	CU_ASSERT(sim_state_count(st) <= 64);
	CU_ASSERT_EQUAL(sim_state_exhausted(st), 1000 - got);
	/* once idle, the pool is reused */
	e = sim_state_get(st, SIM_KEY_IP, 0, 5000, NULL, 2000000);
	CU_ASSERT_PTR_NOT_NULL(e);
	if (e != NULL)
		sim_state_put(st, e);
	sim_state_free(st);
}

/* a reference finds its entry again through its hint, and a stale hint
 * (the entry expired, or was reused for another identity) is never
 * taken for the identity */
static void
test_ref(void)
{
	struct sim_state *st = sim_state_new(64, 1000);
	struct sim_entry *e, *first, *other = NULL;
	struct sim_ref r;
	unsigned i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	sim_state_ref(st, &r, SIM_KEY_DOMAIN, 0, 0, "a.example");
	CU_ASSERT_PTR_NULL(sim_state_get_ref(st, &r, 10, false));
	first = sim_state_get_ref(st, &r, 10, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(first);
	first->conns = 7;
	sim_state_put(st, first);
	e = sim_state_get_ref(st, &r, 20, false);
	CU_ASSERT_PTR_EQUAL(e, first);
	CU_ASSERT_EQUAL(e->last_ms, 20);
	e->conns = 0;
	sim_state_put(st, e);
	/* the same identity looked up by name is the same entry */
	e = sim_state_find(st, SIM_KEY_DOMAIN, 0, 0, "a.example", 20);
	CU_ASSERT_PTR_EQUAL(e, first);
	sim_state_put(st, e);
	/* expired: the hint points at a free entry */
	CU_ASSERT_EQUAL(sim_state_expire(st, 5000), 1);
	CU_ASSERT_PTR_NULL(sim_state_get_ref(st, &r, 5000, false));
	/* reused for another identity: still not ours */
	for (i = 0; i < 1000 && other == NULL; i++) {
		char key[32];

		snprintf(key, sizeof(key), "b%u.example", i);
		e = sim_state_get(st, SIM_KEY_DOMAIN, 0, 0, key, 5000);
		if (e == NULL)
			continue;
		if (e == first)
			other = e;
		sim_state_put(st, e);
	}
	CU_ASSERT_PTR_NOT_NULL(other);
	CU_ASSERT_PTR_NULL(sim_state_get_ref(st, &r, 5000, false));
	e = sim_state_get_ref(st, &r, 5000, true);
	if (e != NULL) {
		CU_ASSERT_PTR_NOT_EQUAL(e, first);
		CU_ASSERT_EQUAL(e->conns, 0);
		CU_ASSERT_EQUAL(e->first_ms, 5000);
		sim_state_put(st, e);
	}
	sim_state_free(st);
}

/* an entry stays small: the hourly ladder's count (sim_tally.hr*) sits
 * in what was padding, so on LP64 an entry is still 248 bytes, and a new
 * entry starts with no hour counted */
static void
test_entry_size(void)
{
	struct sim_state *st = sim_state_new(4, 1000);
	struct sim_entry *e;

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	if (sizeof(void *) == 8)
		CU_ASSERT_EQUAL(sim_state_entry_size(), 248);
	e = sim_state_get(st, SIM_KEY_IP, 0, 1, NULL, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->tally.hr_refused, 0);
	CU_ASSERT_EQUAL(e->tally.hr_run, 0);
	CU_ASSERT_EQUAL(e->tally.hr_met, 0);
	sim_state_put(st, e);
	sim_state_free(st);
}

int
test_sim_state_register(void)
{
	CU_pSuite s = CU_add_suite("sim_state", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "sliding window", test_window_slide) == NULL ||
	    CU_add_test(s, "lookup", test_lookup) == NULL ||
	    CU_add_test(s, "expiry", test_expire) == NULL ||
	    CU_add_test(s, "bounded pool", test_bounded) == NULL ||
	    CU_add_test(s, "references and stale hints", test_ref) == NULL ||
	    CU_add_test(s, "entry size", test_entry_size) == NULL)
		return -1;
	return 0;
}
