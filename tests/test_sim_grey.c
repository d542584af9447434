/*
 * Tests of sim_grey: triplet greylisting (first attempt deferred, retry
 * after the delay accepted, window and keep expiry, bounded table), and
 * its use by the policy at RCPT, with the scenario's client facts at
 * connect.
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "prof_world.h"
#include "sim_grey.h"
#include "sim_policy.h"
#include "sim_state.h"
#include "test_suites.h"

#define SEC	1000ULL
#define MIN	(60 * SEC)
#define HOUR	(60 * MIN)
#define DAY	(24 * HOUR)

/* Mimecast's numbers (profiles/mimecast.yaml): 1 minute, 12 hours. */
static const struct prof_greylist cfg = { 60, 43200, 30 * 86400 };

/* first attempt deferred, early retry deferred, retry after the delay
 * passes, and the triplet passes from then on */
static void
test_triplet_cycle(void)
{
	struct sim_grey *g = sim_grey_new(1024);
	uint64_t k = sim_grey_key(0, 0x7f000001, sim_grey_hash("a@x", 3),
	    "bob@y");

	CU_ASSERT_FATAL(g != NULL);
	CU_ASSERT_EQUAL(sim_grey_check(g, &cfg, k, 10 * SEC), SIM_GREY_NEW);
	CU_ASSERT_EQUAL(sim_grey_check(g, &cfg, k, 30 * SEC), SIM_GREY_EARLY);
	/* an early retry does not restart the delay */
	CU_ASSERT_EQUAL(sim_grey_check(g, &cfg, k, 70 * SEC), SIM_GREY_PASS);
	CU_ASSERT_EQUAL(sim_grey_check(g, &cfg, k, 71 * SEC), SIM_GREY_PASS);
	CU_ASSERT_EQUAL(sim_grey_check(g, &cfg, k, 20 * DAY), SIM_GREY_PASS);
	/* idle past keep: forgotten, greylisted again */
	CU_ASSERT_EQUAL(sim_grey_check(g, &cfg, k, 51 * DAY), SIM_GREY_NEW);
	CU_ASSERT_EQUAL(sim_grey_count(g), 1);
	sim_grey_free(g);
}

/* a retry after the window starts over */
static void
test_window(void)
{
	struct sim_grey *g = sim_grey_new(1024);
	uint64_t k = sim_grey_key(0, 1, sim_grey_hash("a@x", 3), "bob@y");

	CU_ASSERT_FATAL(g != NULL);
	CU_ASSERT_EQUAL(sim_grey_check(g, &cfg, k, 0), SIM_GREY_NEW);
	CU_ASSERT_EQUAL(sim_grey_check(g, &cfg, k, 13 * HOUR), SIM_GREY_NEW);
	CU_ASSERT_EQUAL(sim_grey_check(g, &cfg, k, 13 * HOUR + MIN),
	    SIM_GREY_PASS);
	sim_grey_free(g);
}

/* every part of the triplet counts; the sender address is case-blind */
static void
test_key_parts(void)
{
	uint64_t s = sim_grey_hash("a@x", 3);
	uint64_t k = sim_grey_key(0, 1, s, "bob@y");

	CU_ASSERT_EQUAL(sim_grey_hash("A@X", 3), s);
	CU_ASSERT_NOT_EQUAL(sim_grey_hash("", 0), 0);
	CU_ASSERT_NOT_EQUAL(sim_grey_key(0, 2, s, "bob@y"), k);
	CU_ASSERT_NOT_EQUAL(sim_grey_key(0, 1, sim_grey_hash("b@x", 3),
	    "bob@y"), k);
	CU_ASSERT_NOT_EQUAL(sim_grey_key(0, 1, s, "eve@y"), k);
	CU_ASSERT_NOT_EQUAL(sim_grey_key(1, 1, s, "bob@y"), k);
}

/* the table never grows: a flood evicts, the count stays bounded */
static void
test_bounded(void)
{
	struct sim_grey *g = sim_grey_new(256);
	uint32_t i;

	CU_ASSERT_FATAL(g != NULL);
	for (i = 0; i < 10000; i++)
		CU_ASSERT_EQUAL(sim_grey_check(g, &cfg, sim_grey_key(0, i,
		    1, "bob@y"), i * SEC), SIM_GREY_NEW);
	CU_ASSERT(sim_grey_count(g) <= 256);
	CU_ASSERT(sim_grey_evicted(g) >= 10000 - 256);
	sim_grey_free(g);
}

/* policy: greylist at RCPT by triplet; client facts at connect */
static void
test_policy(void)
{
	struct prof_world *w = prof_world_new();
	struct prof_profile *p = prof_profile_new("mimecast");
	struct sim_state *st = sim_state_new(4096, 2 * DAY);
	struct sim_facts fa;
	struct sim_verdict v;

	CU_ASSERT_FATAL(w != NULL && p != NULL && st != NULL);
	CU_ASSERT_FATAL(prof_set_reply(p, SIM_RK_GREYLIST, 451, "",
	    "Internal resource temporarily unavailable", SIM_STAGE_RCPT) == 0);
	CU_ASSERT_FATAL(prof_set_reply(p, SIM_RK_CLIENT_DIALUP, 554, "",
	    "dial-up", SIM_STAGE_CONNECT) == 0);
	p->grey = cfg;
	CU_ASSERT_FATAL(prof_world_add_profile(w, p) == 0);
	w->clients = calloc(1, sizeof(*w->clients));
	CU_ASSERT_FATAL(w->clients != NULL);
	w->clients[0] = (struct prof_client){ 0x7f004200, 0xffffff00,
	    PROF_CLIENT_DIALUP };
	w->nclients = 1;

	memset(&fa, 0, sizeof(fa));
	fa.client_ip = 0x7f004201;
	sim_policy_decide(w, st, SIM_STAGE_CONNECT, &fa, 0, &v);
	CU_ASSERT_EQUAL(v.rk, SIM_RK_CLIENT_DIALUP);
	CU_ASSERT_FALSE(sim_policy_counted(SIM_RK_CLIENT_DIALUP));

	fa.client_ip = 0x7f000001;
	fa.sender_domain = "x";
	fa.sender_key = sim_grey_hash("a@x", 3);
	fa.rcpt = "bob@y";
	sim_policy_decide(w, st, SIM_STAGE_RCPT, &fa, MIN, &v);
	CU_ASSERT_EQUAL(v.rk, SIM_RK_GREYLIST);
	CU_ASSERT_EQUAL(v.limit, 60);
	fa.rcpt = "eve@y";		/* another recipient: its own triplet */
	sim_policy_decide(w, st, SIM_STAGE_RCPT, &fa, 3 * MIN, &v);
	CU_ASSERT_EQUAL(v.rk, SIM_RK_GREYLIST);
	fa.rcpt = "bob@y";
	sim_policy_decide(w, st, SIM_STAGE_RCPT, &fa, 3 * MIN, &v);
	CU_ASSERT_EQUAL(v.rk, SIM_RK_ACCEPT);
	fa.client_ip = 0x7f000002;	/* another IP: greylisted again */
	sim_policy_decide(w, st, SIM_STAGE_RCPT, &fa, 3 * MIN, &v);
	CU_ASSERT_EQUAL(v.rk, SIM_RK_GREYLIST);
	sim_state_free(st);
	prof_world_free(w);
}

int
test_sim_grey_register(void)
{
	CU_pSuite s = CU_add_suite("sim_grey", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "triplet cycle", test_triplet_cycle) == NULL ||
	    CU_add_test(s, "window", test_window) == NULL ||
	    CU_add_test(s, "key parts", test_key_parts) == NULL ||
	    CU_add_test(s, "bounded", test_bounded) == NULL ||
	    CU_add_test(s, "policy", test_policy) == NULL)
		return -1;
	return 0;
}
