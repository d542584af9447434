/*
 * DESCRIPTION
 *	Accounts of submission profiles (sim_acct.c): the rolling windows
 *	(a message counts for the whole window and leaves within its last
 *	bucket), the day before the shorter windows, recipients with the
 *	transaction's own, logins with unknown users, the lockout and its
 *	end.
 *
 * DIAGNOSTICS
 *	CUnit assertions.
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "sim_acct.h"
#include "test_suites.h"

#define T0	1700000000000ULL	/* simulated ms */
#define DAY	86400000ULL
#define SLOT	(DAY / SIM_ACCT_SLOTS)	/* a bucket of the day window */

/* acct_world - one profile with lockout after 2 failures for 5 minutes,
 * one account u / p */
static struct prof_world *
acct_world(void)
{
	struct prof_world *w;
	struct prof_profile *p;

	CU_ASSERT_FATAL((w = prof_world_new()) != NULL);
	CU_ASSERT_FATAL((p = prof_profile_new("sub")) != NULL);
	CU_ASSERT_FATAL(prof_world_add_profile(w, p) == 0);
	p->submit.mechs = PROF_MECH_PLAIN;
	p->submit.lockout_after = 2;
	p->submit.lockout_minutes = 5;
	CU_ASSERT_FATAL((w->accounts = calloc(1, sizeof(*w->accounts))) !=
	    NULL);
	w->accounts[0].user = strdup("u");
	w->accounts[0].password = strdup("p");
	w->naccounts = 1;
	return w;
}

/* test_rolling_day - a day window is rolling, to a bucket */
static void
test_rolling_day(void)
{
	struct sim_acct *a;
	struct prof_limits lim;
	enum sim_rk rk = SIM_RK_GREETING;
	uint64_t limit = 0;

	memset(&lim, 0, sizeof(lim));
	lim.per_user.messages.max[SIM_WIN_DAY] = 3;
	CU_ASSERT_FATAL((a = sim_acct_new(1)) != NULL);
	sim_acct_commit(a, 0, 1, T0);
	sim_acct_commit(a, 0, 1, T0 + 6 * 3600000ULL);
	CU_ASSERT(sim_acct_may_send(a, 0, &lim, T0 + 12 * 3600000ULL, &rk,
	    &limit));
	sim_acct_commit(a, 0, 1, T0 + 12 * 3600000ULL);
	CU_ASSERT(!sim_acct_may_send(a, 0, &lim, T0 + 12 * 3600000ULL, &rk,
	    &limit));
	CU_ASSERT_EQUAL(rk, SIM_RK_SUBMIT_MESSAGES);
	CU_ASSERT_EQUAL(limit, 3);
	/* still full just before the first message's day ends ... */
	CU_ASSERT(!sim_acct_may_send(a, 0, &lim, T0 + DAY - SLOT - 1, &rk,
	    &limit));
	/* ... and one free once its bucket left the window */
	CU_ASSERT(sim_acct_may_send(a, 0, &lim, T0 + DAY + SLOT, &rk,
	    &limit));
	sim_acct_commit(a, 0, 1, T0 + DAY + SLOT);
	CU_ASSERT(!sim_acct_may_send(a, 0, &lim, T0 + DAY + SLOT, &rk,
	    &limit));
	/* a long silence empties every bucket */
	CU_ASSERT(sim_acct_may_send(a, 0, &lim, T0 + 5 * DAY, &rk, &limit));
	sim_acct_free(a);
}

/* test_minute_and_recipients - a shorter window answers submit.rate; the
 * recipients count the transaction's own */
static void
test_minute_and_recipients(void)
{
	struct sim_acct *a;
	struct prof_limits lim;
	enum sim_rk rk = SIM_RK_GREETING;
	uint64_t limit = 0;

	memset(&lim, 0, sizeof(lim));
	lim.per_user.messages.max[SIM_WIN_MINUTE] = 2;
	lim.per_user.messages.max[SIM_WIN_DAY] = 100;
	lim.per_user.recipients.max[SIM_WIN_DAY] = 10;
	CU_ASSERT_FATAL((a = sim_acct_new(1)) != NULL);
	sim_acct_commit(a, 0, 4, T0);
	sim_acct_commit(a, 0, 4, T0 + 1000);
	CU_ASSERT(!sim_acct_may_send(a, 0, &lim, T0 + 2000, &rk, &limit));
	CU_ASSERT_EQUAL(rk, SIM_RK_SUBMIT_RATE);
	CU_ASSERT_EQUAL(limit, 2);
	CU_ASSERT(sim_acct_may_send(a, 0, &lim, T0 + 61000, &rk, &limit));
	CU_ASSERT(sim_acct_may_rcpt(a, 0, &lim, 1, T0 + 61000, &limit));
	CU_ASSERT(!sim_acct_may_rcpt(a, 0, &lim, 2, T0 + 61000, &limit));
	CU_ASSERT_EQUAL(limit, 10);
	sim_acct_free(a);
}

/* test_login_lockout - unknown users are not counted; two failures lock
 * for five minutes whatever the password; a success resets the count */
static void
test_login_lockout(void)
{
	struct prof_world *w = acct_world();
	struct sim_acct *a;

	CU_ASSERT_FATAL((a = sim_acct_new(1)) != NULL);
	CU_ASSERT_EQUAL(prof_world_account(w, 0, "u", 1), 0);
	CU_ASSERT_EQUAL(prof_world_account(w, 0, "U", 1), -1);
	CU_ASSERT_EQUAL(prof_world_account(w, 1, "u", 1), -1);
	CU_ASSERT_EQUAL(sim_acct_login(a, w, -1, "p", 1, T0), SIM_ACCT_BAD);
	CU_ASSERT_EQUAL(sim_acct_login(NULL, w, 0, "p", 1, T0), SIM_ACCT_BAD);
	CU_ASSERT_EQUAL(sim_acct_login(a, w, 0, "x", 1, T0), SIM_ACCT_BAD);
	CU_ASSERT_EQUAL(sim_acct_login(a, w, 0, "p", 1, T0), SIM_ACCT_OK);
	CU_ASSERT_EQUAL(sim_acct_login(a, w, 0, "x", 1, T0), SIM_ACCT_BAD);
	CU_ASSERT_EQUAL(sim_acct_login(a, w, 0, "pp", 2, T0), SIM_ACCT_BAD);
	CU_ASSERT_EQUAL(sim_acct_login(a, w, 0, "p", 1, T0), SIM_ACCT_LOCKED);
	CU_ASSERT_EQUAL(sim_acct_login(a, w, 0, "p", 1, T0 + 5 * 60000ULL -
	    1), SIM_ACCT_LOCKED);
	CU_ASSERT_EQUAL(sim_acct_login(a, w, 0, "p", 1, T0 + 5 * 60000ULL),
	    SIM_ACCT_OK);
	sim_acct_free(a);
	prof_world_free(w);
}

int
test_sim_acct_register(void)
{
	CU_pSuite s = CU_add_suite("sim_acct", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "rolling day", test_rolling_day) == NULL ||
	    CU_add_test(s, "minute and recipients",
	    test_minute_and_recipients) == NULL ||
	    CU_add_test(s, "login and lockout", test_login_lockout) == NULL)
		return -1;
	return 0;
}
