/*
 * DESCRIPTION
 *	utcp control blocks: a fixed pool (free list), a chained hash table
 *	on the 4-tuple, the single place that changes a connection's state,
 *	a hashed timer wheel (one deadline per connection: retransmission,
 *	SYN-ACK, FIN_WAIT_2 or TIME_WAIT, by state), the idle and session
 *	limits (two lists ordered by last input and by start, as in the
 *	socket backend), and the hand-over to the layer above (accept,
 *	notify, closed: struct utcp_ops).
 *
 * DIAGNOSTICS
 *	Nothing is allocated after utcp_new().  An unknown state in a switch
 *	aborts (an internal invariant).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim_rng.h"
#include "utcp_priv.h"

#define UTCP_ISN_SALT	0x7574637069736e31ULL	/* "utcpisn1" */

static uint32_t	tuple_hash(uint32_t, uint16_t, uint32_t, uint16_t);
static void	timeout_fire(struct utcp_stack *, struct utcp_tcb *, uint64_t);
static void	check_limits(struct utcp_stack *, uint64_t);
static void	limit_fire(struct utcp_stack *, struct utcp_tcb *,
		    enum utcp_note, uint64_t);
static void	lists_remove(struct utcp_stack *, struct utcp_tcb *);

/* utcp_isn - server ISN: keyed hash of the 4-tuple and the seed */
uint32_t
utcp_isn(uint64_t seed, uint32_t cip, uint16_t cport, uint32_t mip,
    uint16_t mport)
{
	uint64_t h;

	h = sim_mix64(seed ^ UTCP_ISN_SALT);
	h = sim_mix64(h ^ (((uint64_t)cip << 32) | mip));
	h = sim_mix64(h ^ (((uint64_t)cport << 16) | mport));
	return (uint32_t)(h ^ (h >> 32));
}

/* tuple_hash - bucket hash of a 4-tuple */
static uint32_t
tuple_hash(uint32_t cip, uint16_t cport, uint32_t mip, uint16_t mport)
{
	uint64_t h;

	h = sim_mix64((((uint64_t)cip << 32) | mip) ^
	    ((uint64_t)cport << 17) ^ mport);
	return (uint32_t)h;
}

/* utcp_strstate - a state's name */
const char *
utcp_strstate(enum utcp_state s)
{
#define CASE(x) case UTCP_##x: return #x
	switch (s) {
	CASE(CLOSED);
	CASE(SYN_RCVD);
	CASE(ESTABLISHED);
	CASE(CLOSE_WAIT);
	CASE(LAST_ACK);
	CASE(FIN_WAIT_1);
	CASE(FIN_WAIT_2);
	CASE(CLOSING);
	CASE(TIME_WAIT);
	default:
		abort();
	}
#undef CASE
}

/* utcp_new - allocate the pool, table and wheel */
struct utcp_stack *
utcp_new(const struct utcp_conf *conf)
{
	struct utcp_stack *st;
	uint32_t i, nb;

	if (conf->max_conns == 0 || conf->pool == NULL || conf->tx == NULL ||
	    conf->ops == NULL || conf->max_conns > (1u << 26))
		return NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	st->conf = *conf;
	if (st->conf.mss == 0)
		st->conf.mss = UTCP_DEF_MSS;
	if (st->conf.rcv_wnd == 0)
		st->conf.rcv_wnd = UTCP_DEF_WND;
	if (st->conf.rcv_wnd > 65535)
		st->conf.rcv_wnd = 65535;	/* no window scaling */
	if (st->conf.time_wait_ms == 0)
		st->conf.time_wait_ms = UTCP_TIME_WAIT_MS;
	if (st->conf.max_half_open == 0)
		st->conf.max_half_open = conf->max_conns / 4 > 0 ?
		    conf->max_conns / 4 : 1;
	for (nb = 64; nb < 2 * conf->max_conns; nb <<= 1)
		;
	st->tcbs = calloc(conf->max_conns, sizeof(*st->tcbs));
	st->buckets = malloc(nb * sizeof(*st->buckets));
	if (st->tcbs == NULL || st->buckets == NULL) {
		utcp_free(st);
		return NULL;
	}
	st->bmask = nb - 1;
	for (i = 0; i < nb; i++)
		st->buckets[i] = UTCP_NIL;
	for (i = 0; i < conf->max_conns; i++)
		st->tcbs[i].hnext = i + 1 < conf->max_conns ? i + 1 : UTCP_NIL;
	st->free = 0;
	for (i = 0; i < UTCP_WHEEL_SLOTS; i++)
		TAILQ_INIT(&st->wheel[i]);
	TAILQ_INIT(&st->idle);
	TAILQ_INIT(&st->age);
	return st;
}

/* utcp_free - close upwards and release memory */
void
utcp_free(struct utcp_stack *st)
{
	uint32_t i;

	if (st == NULL)
		return;
	if (st->tcbs != NULL)
		for (i = 0; i < st->conf.max_conns; i++)
			if (st->tcbs[i].app != NULL)
				utcp_app_close(st, &st->tcbs[i], true);
	free(st->tcbs);
	free(st->buckets);
	free(st);
}

/* utcp_tcb_find - look a 4-tuple up */
struct utcp_tcb *
utcp_tcb_find(const struct utcp_stack *st, uint32_t cip, uint16_t cport,
    uint32_t mip, uint16_t mport)
{
	struct utcp_tcb *t;
	uint32_t i;

	i = st->buckets[tuple_hash(cip, cport, mip, mport) & st->bmask];
	while (i != UTCP_NIL) {
		t = &st->tcbs[i];
		if (t->cip == cip && t->mip == mip && t->cport == cport &&
		    t->mport == mport)
			return t;
		i = t->hnext;
	}
	return NULL;
}

/* utcp_tcb_alloc - take a block from the pool and hash it in */
struct utcp_tcb *
utcp_tcb_alloc(struct utcp_stack *st, uint32_t cip, uint16_t cport,
    uint32_t mip, uint16_t mport)
{
	struct utcp_tcb *t;
	uint32_t idx, b;

	if ((idx = st->free) == UTCP_NIL)
		return NULL;
	t = &st->tcbs[idx];
	st->free = t->hnext;
	memset(t, 0, sizeof(*t));
	t->cip = cip;
	t->cport = cport;
	t->mip = mip;
	t->mport = mport;
	t->state = UTCP_CLOSED;
	t->rto_ms = UTCP_RTO_INIT_MS;
	b = tuple_hash(cip, cport, mip, mport) & st->bmask;
	t->hnext = st->buckets[b];
	st->buckets[b] = idx;
	st->nconns++;
	return t;
}

/* utcp_tcb_release - unhash, stop timers, back to the pool */
void
utcp_tcb_release(struct utcp_stack *st, struct utcp_tcb *t)
{
	uint32_t idx = (uint32_t)(t - st->tcbs), *pp;

	if (t->app != NULL)
		utcp_app_close(st, t, true);
	utcp_timer_stop(st, t);
	utcp_enter_state(st, t, UTCP_CLOSED);
	pp = &st->buckets[tuple_hash(t->cip, t->cport, t->mip, t->mport) &
	    st->bmask];
	while (*pp != idx) {
		if (*pp == UTCP_NIL)
			abort();	/* not in its chain */
		pp = &st->tcbs[*pp].hnext;
	}
	*pp = t->hnext;
	t->hnext = st->free;
	st->free = idx;
	st->nconns--;
	st->cnt.closed++;
}

/* utcp_enter_state - the only place a state changes */
void
utcp_enter_state(struct utcp_stack *st, struct utcp_tcb *t,
    enum utcp_state ns)
{
	if (t->state == UTCP_SYN_RCVD)
		st->nhalf--;
	if (ns == UTCP_SYN_RCVD)
		st->nhalf++;
	t->state = ns;
}

/* utcp_timer_set - (re)arm the connection's one deadline */
void
utcp_timer_set(struct utcp_stack *st, struct utcp_tcb *t, uint64_t at)
{
	uint64_t tick = (at + UTCP_TICK_MS - 1) / UTCP_TICK_MS;

	if (t->tmo != 0)
		TAILQ_REMOVE(&st->wheel[(t->tmo / UTCP_TICK_MS) &
		    (UTCP_WHEEL_SLOTS - 1)], t, wlink);
	if (tick <= st->wheel_tick)
		tick = st->wheel_tick + 1;	/* never in a passed slot */
	/* on a tick boundary: due exactly when its slot comes round */
	t->tmo = tick * UTCP_TICK_MS;
	TAILQ_INSERT_TAIL(&st->wheel[tick & (UTCP_WHEEL_SLOTS - 1)], t, wlink);
}

/* utcp_timer_stop - disarm */
void
utcp_timer_stop(struct utcp_stack *st, struct utcp_tcb *t)
{
	if (t->tmo == 0)
		return;
	TAILQ_REMOVE(&st->wheel[(t->tmo / UTCP_TICK_MS) &
	    (UTCP_WHEEL_SLOTS - 1)], t, wlink);
	t->tmo = 0;
}

/* timeout_fire - a connection's deadline passed: act by state */
static void
timeout_fire(struct utcp_stack *st, struct utcp_tcb *t, uint64_t now)
{
	switch (t->state) {
	case UTCP_SYN_RCVD:
		if (++t->retries > UTCP_SYN_RETRIES) {
			utcp_tcb_release(st, t);
			return;
		}
		t->rto_ms = t->rto_ms * 2 > UTCP_RTO_MAX_MS ?
		    UTCP_RTO_MAX_MS : t->rto_ms * 2;
		st->cnt.retransmits++;
		utcp_send_synack(st, t);
		utcp_timer_set(st, t, now + t->rto_ms);
		break;
	case UTCP_FIN_WAIT_2:
	case UTCP_TIME_WAIT:
		utcp_tcb_release(st, t);
		break;
	case UTCP_ESTABLISHED:
	case UTCP_CLOSE_WAIT:
	case UTCP_FIN_WAIT_1:
	case UTCP_CLOSING:
	case UTCP_LAST_ACK:
		if (++t->retries > UTCP_MAX_RETRIES) {
			st->cnt.aborted++;
			utcp_abort(st, t);
			return;
		}
		utcp_retransmit(st, t, now);
		break;
	case UTCP_CLOSED:
	default:
		abort();
	}
}

/* lists_remove - off the idle and age lists */
static void
lists_remove(struct utcp_stack *st, struct utcp_tcb *t)
{
	if ((t->flags & UTCP_F_ON_LISTS) == 0)
		return;
	TAILQ_REMOVE(&st->idle, t, idle_link);
	TAILQ_REMOVE(&st->age, t, age_link);
	t->flags &= ~UTCP_F_ON_LISTS;
}

/* limit_fire - idle or lifetime limit: tell the layer above */
static void
limit_fire(struct utcp_stack *st, struct utcp_tcb *t, enum utcp_note what,
    uint64_t now)
{
	lists_remove(st, t);
	t->flags |= UTCP_F_TIMED_OUT;
	st->cnt.timeouts++;
	st->conf.ops->notify(st->conf.ops_ctx, t, t->app, what, now);
	utcp_service(st, t, now);
}

/* check_limits - idle and lifetime limits */
static void
check_limits(struct utcp_stack *st, uint64_t now)
{
	uint64_t idle = st->conf.idle_ms, sess = st->conf.session_ms;
	struct utcp_tcb *t;

	while (idle != 0 && (t = TAILQ_FIRST(&st->idle)) != NULL &&
	    t->last_ms + idle <= now)
		limit_fire(st, t, UTCP_NOTE_IDLE, now);
	while (sess != 0 && (t = TAILQ_FIRST(&st->age)) != NULL &&
	    t->start_ms + sess <= now)
		limit_fire(st, t, UTCP_NOTE_LIFETIME, now);
}

/* utcp_timers - fire what is due */
void
utcp_timers(struct utcp_stack *st, uint64_t now)
{
	struct utcp_tcb_list *slot;
	struct utcp_tcb *t, *next;
	uint64_t cur = now / UTCP_TICK_MS, tick, end;

	if (st->wheel_tick == 0)
		st->wheel_tick = cur > 0 ? cur - 1 : 0;
	end = cur;
	tick = st->wheel_tick + 1;
	if (end >= tick + UTCP_WHEEL_SLOTS)
		tick = end - UTCP_WHEEL_SLOTS + 1;	/* every slot once */
	for (; tick <= end; tick++) {
		st->wheel_tick = tick;
		slot = &st->wheel[tick & (UTCP_WHEEL_SLOTS - 1)];
		for (t = TAILQ_FIRST(slot); t != NULL; t = next) {
			next = TAILQ_NEXT(t, wlink);
			if (t->tmo > now)
				continue;	/* a later round */
			TAILQ_REMOVE(slot, t, wlink);
			t->tmo = 0;
			timeout_fire(st, t, now);
		}
	}
	if (st->wheel_tick < cur)
		st->wheel_tick = cur;
	if (now - st->last_limits >= UTCP_LIMIT_CHECK_MS) {
		st->last_limits = now;
		check_limits(st, now);
	}
}

/* utcp_touch - input arrived: move to the idle list's tail */
void
utcp_touch(struct utcp_stack *st, struct utcp_tcb *t, uint64_t now)
{
	t->last_ms = now;
	if ((t->flags & UTCP_F_ON_LISTS) == 0)
		return;
	TAILQ_REMOVE(&st->idle, t, idle_link);
	TAILQ_INSERT_TAIL(&st->idle, t, idle_link);
}

/* utcp_app_open - handshake done: hand the connection upwards */
void
utcp_app_open(struct utcp_stack *st, struct utcp_tcb *t, uint64_t now)
{
	struct utcp_tuple tu;

	tu.cip = t->cip;
	tu.mip = t->mip;
	tu.cport = t->cport;
	tu.mport = t->mport;
	t->start_ms = t->last_ms = now;
	if ((t->app = st->conf.ops->accept(st->conf.ops_ctx, t, &tu, now)) ==
	    NULL)
		return;
	st->napp++;
	TAILQ_INSERT_TAIL(&st->idle, t, idle_link);
	TAILQ_INSERT_TAIL(&st->age, t, age_link);
	t->flags |= UTCP_F_ON_LISTS;
	if (st->draining)
		st->conf.ops->notify(st->conf.ops_ctx, t, t->app,
		    UTCP_NOTE_DRAIN, now);
}

/* utcp_app_close - the connection leaves the layer above */
void
utcp_app_close(struct utcp_stack *st, struct utcp_tcb *t, bool reset)
{
	void *app = t->app;

	lists_remove(st, t);
	t->app = NULL;
	st->napp--;
	st->conf.ops->closed(st->conf.ops_ctx, t, app, reset);
}

/* utcp_close - the layer above ends the connection after its output */
void
utcp_close(struct utcp_tcb *c)
{
	c->flags |= UTCP_F_APP_CLOSE;
}

/* utcp_send - output from the layer above outside a hook */
void
utcp_send(struct utcp_stack *st, struct utcp_tcb *c, uint64_t now)
{
	if (c->state != UTCP_CLOSED)
		utcp_service(st, c, now);
}

/* utcp_drain - stop accepting; tell every connection */
void
utcp_drain(struct utcp_stack *st, uint64_t now)
{
	uint32_t i;

	st->draining = true;
	for (i = 0; i < st->conf.max_conns; i++)
		if (st->tcbs[i].state != UTCP_CLOSED &&
		    st->tcbs[i].app != NULL) {
			st->conf.ops->notify(st->conf.ops_ctx, &st->tcbs[i],
			    st->tcbs[i].app, UTCP_NOTE_DRAIN, now);
			utcp_service(st, &st->tcbs[i], now);
		}
}

/* utcp_abort_all - reset what the layer above still holds */
void
utcp_abort_all(struct utcp_stack *st, uint64_t now)
{
	uint32_t i;

	(void)now;
	for (i = 0; i < st->conf.max_conns; i++)
		if (st->tcbs[i].state != UTCP_CLOSED &&
		    st->tcbs[i].app != NULL)
			utcp_abort(st, &st->tcbs[i]);
}

/* utcp_nsessions - connections the layer above holds */
uint32_t
utcp_nsessions(const struct utcp_stack *st)
{
	return st->napp;
}

/* utcp_nconns - blocks in use */
uint32_t
utcp_nconns(const struct utcp_stack *st)
{
	return st->nconns;
}

/* utcp_counters - the stack's counters */
const struct utcp_counters *
utcp_counters(const struct utcp_stack *st)
{
	return &st->cnt;
}

/* utcp_lookup_state - state of a 4-tuple */
enum utcp_state
utcp_lookup_state(const struct utcp_stack *st, uint32_t cip, uint16_t cport,
    uint32_t mip, uint16_t mport)
{
	const struct utcp_tcb *t;

	t = utcp_tcb_find(st, cip, cport, mip, mport);
	return t != NULL ? t->state : UTCP_CLOSED;
}
