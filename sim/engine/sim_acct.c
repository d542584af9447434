/*
 * DESCRIPTION
 *	Per-account state of submission profiles.  Each account entry has a
 *	mutex, the failed logins in a row with the simulated time a lockout
 *	ends, and for each window (second, minute, hour, day) two rings of
 *	SIM_ACCT_SLOTS buckets, messages and recipients.  A ring knows the
 *	index of its newest bucket (now / bucket length); moving to a later
 *	index clears the buckets in between, so a count is the sum of the
 *	buckets of the last SIM_ACCT_SLOTS bucket lengths.  A clock reading
 *	older than the newest bucket counts in the newest bucket.
 *
 *	Password comparison is plain memcmp: this is a simulator, its
 *	passwords are test fixtures in the scenario file.
 *
 * DIAGNOSTICS
 *	Aborts on an account index outside the table (a broken caller).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sim_acct.h"

struct sim_acct_ring {
	uint64_t	 slot;		/* index of the newest bucket */
	uint32_t	 n[SIM_ACCT_SLOTS];
};

struct sim_acct_entry {
	pthread_mutex_t	 mu;
	uint32_t	 fails;		/* failed logins in a row */
	uint64_t	 locked_until;	/* simulated ms; 0 = not locked */
	struct sim_acct_ring msgs[SIM_WIN__COUNT];
	struct sim_acct_ring rcpts[SIM_WIN__COUNT];
};

struct sim_acct {
	size_t		 n;
	struct sim_acct_entry *e;
};

static struct sim_acct_entry *acct_entry(struct sim_acct *, int);
static void	ring_advance(struct sim_acct_ring *, enum sim_window,
		    uint64_t);
static uint32_t	ring_sum(struct sim_acct_ring *, enum sim_window, uint64_t);
static void	ring_add(struct sim_acct_ring *, enum sim_window, uint64_t,
		    uint32_t);
static int	acct_over(struct sim_acct_ring *, const struct prof_windows *,
		    uint32_t, uint64_t);

/* acct_entry - the entry of an index, locked */
static struct sim_acct_entry *
acct_entry(struct sim_acct *a, int idx)
{
	struct sim_acct_entry *e;

	if (idx < 0 || (size_t)idx >= a->n)
		abort();
	e = &a->e[idx];
	pthread_mutex_lock(&e->mu);
	return e;
}

/* ring_advance - move the ring's newest bucket to @now's */
static void
ring_advance(struct sim_acct_ring *r, enum sim_window w, uint64_t now)
{
	uint64_t slot = now / (sim_window_ms(w) / SIM_ACCT_SLOTS), k;

	if (slot <= r->slot)
		return;
	if (slot - r->slot >= SIM_ACCT_SLOTS)
		memset(r->n, 0, sizeof(r->n));
	else
		for (k = r->slot + 1; k <= slot; k++)
			r->n[k % SIM_ACCT_SLOTS] = 0;
	r->slot = slot;
}

/* ring_sum - the count over the rolling window ending now */
static uint32_t
ring_sum(struct sim_acct_ring *r, enum sim_window w, uint64_t now)
{
	uint64_t sum = 0;
	size_t i;

	ring_advance(r, w, now);
	for (i = 0; i < SIM_ACCT_SLOTS; i++)
		sum += r->n[i];
	return sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
}

/* ring_add - count @n now */
static void
ring_add(struct sim_acct_ring *r, enum sim_window w, uint64_t now, uint32_t n)
{
	ring_advance(r, w, now);
	r->n[r->slot % SIM_ACCT_SLOTS] += n;
}

/* sim_acct_new - the state of every account */
struct sim_acct *
sim_acct_new(size_t naccounts)
{
	struct sim_acct *a;
	size_t i;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	if (naccounts > 0 &&
	    (a->e = calloc(naccounts, sizeof(*a->e))) == NULL) {
		free(a);
		return NULL;
	}
	for (i = 0; i < naccounts; i++)
		pthread_mutex_init(&a->e[i].mu, NULL);
	a->n = naccounts;
	return a;
}

/* sim_acct_free - free the table */
void
sim_acct_free(struct sim_acct *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++)
		pthread_mutex_destroy(&a->e[i].mu);
	free(a->e);
	free(a);
}

/* sim_acct_login - check a password, count failures, lock out */
enum sim_acct_login
sim_acct_login(struct sim_acct *a, const struct prof_world *w, int idx,
    const char *pass, size_t plen, uint64_t now)
{
	const struct prof_submit *sub;
	const struct prof_account *pa;
	struct sim_acct_entry *e;
	enum sim_acct_login res;

	if (a == NULL || idx < 0 || (size_t)idx >= a->n ||
	    (size_t)idx >= w->naccounts)
		return SIM_ACCT_BAD;
	pa = &w->accounts[idx];
	sub = &w->profiles[pa->profile]->submit;
	e = acct_entry(a, idx);
	if (e->locked_until > now)
		res = SIM_ACCT_LOCKED;
	else if (strlen(pa->password) == plen &&
	    memcmp(pa->password, pass, plen) == 0) {
		e->fails = 0;
		res = SIM_ACCT_OK;
	} else {
		res = SIM_ACCT_BAD;
		if (sub->lockout_after > 0 && ++e->fails >= sub->lockout_after) {
			e->fails = 0;
			e->locked_until = now +
			    (uint64_t)sub->lockout_minutes * 60000ULL;
		}
	}
	pthread_mutex_unlock(&e->mu);
	return res;
}

/* acct_over - the longest window of @max whose count plus @extra has
 * reached its limit (the day first: its reply is the one the services
 * document), or -1 */
static int
acct_over(struct sim_acct_ring *rings, const struct prof_windows *max,
    uint32_t extra, uint64_t now)
{
	int w;

	for (w = SIM_WIN_DAY; w >= 0; w--)
		if (max->max[w] > 0 && (uint64_t)ring_sum(&rings[w],
		    (enum sim_window)w, now) + extra >= max->max[w])
			return w;
	return -1;
}

/* sim_acct_may_send - one more message within limits.per_user.messages */
bool
sim_acct_may_send(struct sim_acct *a, int idx, const struct prof_limits *lim,
    uint64_t now, enum sim_rk *rk, uint64_t *limit)
{
	struct sim_acct_entry *e;
	int w;

	e = acct_entry(a, idx);
	w = acct_over(e->msgs, &lim->per_user.messages, 0, now);
	pthread_mutex_unlock(&e->mu);
	if (w < 0)
		return true;
	*rk = w == SIM_WIN_DAY ? SIM_RK_SUBMIT_MESSAGES : SIM_RK_SUBMIT_RATE;
	*limit = lim->per_user.messages.max[w];
	return false;
}

/* sim_acct_may_rcpt - one more recipient within limits.per_user.recipients */
bool
sim_acct_may_rcpt(struct sim_acct *a, int idx, const struct prof_limits *lim,
    uint32_t in_txn, uint64_t now, uint64_t *limit)
{
	struct sim_acct_entry *e;
	int w;

	e = acct_entry(a, idx);
	w = acct_over(e->rcpts, &lim->per_user.recipients, in_txn, now);
	pthread_mutex_unlock(&e->mu);
	if (w < 0)
		return true;
	*limit = lim->per_user.recipients.max[w];
	return false;
}

/* sim_acct_commit - count an accepted message */
void
sim_acct_commit(struct sim_acct *a, int idx, uint32_t nrcpts, uint64_t now)
{
	struct sim_acct_entry *e;
	int w;

	e = acct_entry(a, idx);
	for (w = 0; w < SIM_WIN__COUNT; w++) {
		ring_add(&e->msgs[w], (enum sim_window)w, now, 1);
		ring_add(&e->rcpts[w], (enum sim_window)w, now, nrcpts);
	}
	pthread_mutex_unlock(&e->mu);
}
