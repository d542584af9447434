/*
 * @file sim_acct.h
 * State of the accounts of submission profiles (scenario
 * servers[].accounts, world.accounts): failed logins and the lockout they
 * lead to, and the messages and recipients each account submitted over
 * the four windows of limits.per_user.  One entry per account, indexed as
 * world.accounts (a cloned world keeps the same accounts and order), each
 * with its own mutex; every call locks one entry and returns.
 *
 * Windows are rolling: each keeps SIM_ACCT_SLOTS buckets of 1/100 of the
 * window (the day: 14.4 simulated minutes), so a submission leaves the
 * count between 99/100 of the window and the whole window after it (the
 * day: between 23 h 45.6 min and 24 h).  Checks happen at MAIL (messages)
 * and RCPT (recipients); counts are added at an accepted end of DATA, so
 * concurrent sessions of one account may pass a limit by the messages in
 * flight.  Memory: about 3.3 KB per account, allocated at creation.
 */
#ifndef SIM_ACCT_H
#define SIM_ACCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prof_world.h"
#include "sim_kinds.h"

#define SIM_ACCT_SLOTS	100	/* buckets per rolling window */

/* Outcome of a login. */
enum sim_acct_login {
	SIM_ACCT_OK = 0,	/* user and password match */
	SIM_ACCT_BAD,		/* unknown user or wrong password */
	SIM_ACCT_LOCKED		/* locked after too many failures */
};

struct sim_acct;

/**
 * Create the state of @p naccounts accounts (0 is allowed).
 * @return the table, or NULL when out of memory.
 */
struct sim_acct *sim_acct_new(size_t naccounts);

/** Free the table; NULL is accepted. */
void sim_acct_free(struct sim_acct *a);

/**
 * Check a login to account @p idx of world @p w (prof_world_account(), -1
 * for an unknown user: SIM_ACCT_BAD, not counted, no account to lock).  A
 * locked account answers SIM_ACCT_LOCKED whatever the password; a wrong
 * password counts a failure, and the profile's lockout_after-th failure in
 * a row locks the account for lockout_minutes (a success resets the
 * count).  @p a may be NULL (no accounts: SIM_ACCT_BAD).
 */
enum sim_acct_login sim_acct_login(struct sim_acct *a,
    const struct prof_world *w, int idx, const char *pass, size_t plen,
    uint64_t now);

/**
 * May account @p idx start one more message (limits.per_user.messages)?
 * @param rk     receives submit.messages (day) or submit.rate (shorter).
 * @param limit  receives the limit that was reached.
 * @return true when it may.
 */
bool sim_acct_may_send(struct sim_acct *a, int idx,
    const struct prof_limits *lim, uint64_t now, enum sim_rk *rk,
    uint64_t *limit);

/**
 * May account @p idx add one recipient to a transaction that holds
 * @p in_txn accepted recipients (limits.per_user.recipients)?
 * @return true when it may; else @p limit receives the limit.
 */
bool sim_acct_may_rcpt(struct sim_acct *a, int idx,
    const struct prof_limits *lim, uint32_t in_txn, uint64_t now,
    uint64_t *limit);

/** Count one accepted message of @p nrcpts recipients for account @p idx. */
void sim_acct_commit(struct sim_acct *a, int idx, uint32_t nrcpts,
    uint64_t now);

#endif /* SIM_ACCT_H */
