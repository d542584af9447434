/*
 * DESCRIPTION
 *	The SMTP binding above utcp: each hook of struct utcp_ops turns
 *	into session calls.  accept: a pooled session, counted, started
 *	(greeting or refusal); recv: bytes into the session's input buffer
 *	(NULL: the peer's FIN, smtp_session_eof()); room: the input room;
 *	pending/sent: the session's output buffer and its consumption;
 *	notify: idle or lifetime limit (421 4.4.2) or drain (421 4.3.2);
 *	closed: the session is freed.  After each session call, a session
 *	that decided to close asks the TCP for its FIN (utcp_close()).
 *
 *	A connection the session pool has no room for gets a busy reply
 *	buffer instead (a fixed array, a quarter of the session count, at
 *	least DP_SMTP_BUSY_MIN): the reply is rendered into it, sent, and
 *	the connection closed.  The hooks tell the two apart by address.
 *
 * DIAGNOSTICS
 *	Nothing is allocated after dp_smtp_new().  Busy answers and resets
 *	for want of a buffer are counted (struct dp_smtp_counters).
 */
#include <stdlib.h>
#include <string.h>

#include "dp_smtp.h"
#include "sim_rng.h"
#include "smtp_conns.h"

#define DP_SMTP_BUSY_MIN	16

/* A busy reply on its way out. */
struct dp_busy {
	struct dp_busy	*next;		/* free list */
	uint16_t	 len;		/* reply bytes */
	uint16_t	 off;		/* acknowledged so far */
	uint8_t		 text[SMTP_CONNS_BUSY_MAX];
};

struct dp_smtp {
	struct dp_smtp_conf conf;
	struct smtp_pool *pool;
	struct dp_busy	*busy;		/* [nbusy] */
	uint32_t	 nbusy;
	struct dp_busy	*busy_free;
	struct dp_smtp_counters cnt;
};

static void	*ds_accept(void *, struct utcp_tcb *, const struct utcp_tuple *,
		    uint64_t);
static uint32_t	 ds_room(void *, struct utcp_tcb *, void *);
static uint32_t	 ds_recv(void *, struct utcp_tcb *, void *, const uint8_t *,
		    uint32_t, uint64_t);
static void	 ds_pending(void *, struct utcp_tcb *, void *, const uint8_t **,
		    size_t *);
static void	 ds_sent(void *, struct utcp_tcb *, void *, uint32_t,
		    uint64_t);
static void	 ds_notify(void *, struct utcp_tcb *, void *, enum utcp_note,
		    uint64_t);
static void	 ds_closed(void *, struct utcp_tcb *, void *, bool);
static struct dp_busy *as_busy(const struct dp_smtp *, void *);
static void	 check_close(struct utcp_tcb *, const struct smtp_session *);

const struct utcp_ops dp_smtp_ops = {
	.accept = ds_accept,
	.room = ds_room,
	.recv = ds_recv,
	.pending = ds_pending,
	.sent = ds_sent,
	.notify = ds_notify,
	.closed = ds_closed,
};

/* dp_smtp_new - session pool and busy buffers */
struct dp_smtp *
dp_smtp_new(const struct dp_smtp_conf *conf)
{
	struct dp_smtp *ds;
	uint32_t i;

	if (conf->nw == NULL || conf->max_sessions == 0)
		return NULL;
	if ((ds = calloc(1, sizeof(*ds))) == NULL)
		return NULL;
	ds->conf = *conf;
	ds->nbusy = conf->max_sessions / 4 > DP_SMTP_BUSY_MIN ?
	    conf->max_sessions / 4 : DP_SMTP_BUSY_MIN;
	ds->pool = smtp_conns_pool_new(conf->max_sessions);
	ds->busy = calloc(ds->nbusy, sizeof(*ds->busy));
	if (ds->pool == NULL || ds->busy == NULL) {
		dp_smtp_free(ds);
		return NULL;
	}
	for (i = ds->nbusy; i-- > 0;) {
		ds->busy[i].next = ds->busy_free;
		ds->busy_free = &ds->busy[i];
	}
	return ds;
}

/* dp_smtp_free - pool and buffers (every session was closed) */
void
dp_smtp_free(struct dp_smtp *ds)
{
	if (ds == NULL)
		return;
	if (ds->pool != NULL)
		smtp_pool_free(ds->pool);
	free(ds->busy);
	free(ds);
}

/* dp_smtp_counters - the layer's counters */
const struct dp_smtp_counters *
dp_smtp_counters(const struct dp_smtp *ds)
{
	return &ds->cnt;
}

/* dp_smtp_pool_stats - the session pool's counters */
void
dp_smtp_pool_stats(const struct dp_smtp *ds, struct smtp_pool_stats *out)
{
	smtp_pool_stats(ds->pool, out);
}

/* as_busy - @app as a busy reply, or NULL when it is a session */
static struct dp_busy *
as_busy(const struct dp_smtp *ds, void *app)
{
	uintptr_t a = (uintptr_t)app, lo = (uintptr_t)ds->busy;

	if (a >= lo && a < lo + ds->nbusy * sizeof(*ds->busy))
		return app;
	return NULL;
}

/* check_close - a session that decided to close gets its FIN */
static void
check_close(struct utcp_tcb *c, const struct smtp_session *s)
{
	if (smtp_session_closing(s))
		utcp_close(c);
}

/* ds_accept - a session from the pool, else the busy reply */
static void *
ds_accept(void *ctx, struct utcp_tcb *c, const struct utcp_tuple *tu,
    uint64_t now)
{
	struct dp_smtp *ds = ctx;
	const struct smtp_env *env = &ds->conf.nw->env;
	struct smtp_conn_info ci;
	struct smtp_session *s;
	struct dp_busy *b;

	(void)now;
	memset(&ci, 0, sizeof(ci));
	ci.mx_ip = tu->mip;
	ci.mx_port = tu->mport;
	ci.client_ip = tu->cip;
	ci.client_port = tu->cport;
	ci.session_id = nb_worker_session_id(ds->conf.nw);
	if ((s = smtp_session_new_pool(env, ds->pool, &ci)) != NULL) {
		sim_stats_connection(ds->conf.nw->stats);
		smtp_session_start(s);
		check_close(c, s);
		return s;
	}
	if ((b = ds->busy_free) == NULL) {
		ds->cnt.refused++;
		return NULL;
	}
	ds->busy_free = b->next;
	ds->cnt.busy++;
	sim_stats_connection(ds->conf.nw->stats);
	b->len = (uint16_t)smtp_conns_busy(env, &ci, (char *)b->text,
	    sizeof(b->text));
	b->off = 0;
	utcp_close(c);
	return b;
}

/* ds_room - the session's input room (a busy reply discards input) */
static uint32_t
ds_room(void *ctx, struct utcp_tcb *c, void *app)
{
	struct smtp_session *s = app;
	uint8_t *p;
	size_t room;

	if (as_busy(ctx, app) != NULL)
		return SMTP_INBUF_SIZE;
	smtp_session_inbuf(s, &p, &room);
	check_close(c, s);
	return room > UINT32_MAX ? UINT32_MAX : (uint32_t)room;
}

/* ds_recv - in-order bytes into the session; NULL: the peer's FIN */
static uint32_t
ds_recv(void *ctx, struct utcp_tcb *c, void *app, const uint8_t *data,
    uint32_t len, uint64_t now)
{
	struct smtp_session *s = app;
	uint32_t taken;
	uint8_t *p;
	size_t room;

	(void)now;
	if (as_busy(ctx, app) != NULL)
		return len;
	if (data == NULL) {
		smtp_session_eof(s);
		check_close(c, s);
		return 0;
	}
	smtp_session_inbuf(s, &p, &room);
	taken = len < room ? len : (uint32_t)room;
	if (taken > 0) {
		memcpy(p, data, taken);
		smtp_session_input(s, taken);
	}
	check_close(c, s);
	return taken;
}

/* ds_pending - the output not yet acknowledged */
static void
ds_pending(void *ctx, struct utcp_tcb *c, void *app, const uint8_t **p,
    size_t *len)
{
	struct dp_busy *b;

	(void)c;
	if ((b = as_busy(ctx, app)) != NULL) {
		*p = b->text + b->off;
		*len = (size_t)(b->len - b->off);
		return;
	}
	smtp_session_outbuf(app, p, len);
}

/* ds_sent - @n bytes acknowledged; held input may go on */
static void
ds_sent(void *ctx, struct utcp_tcb *c, void *app, uint32_t n, uint64_t now)
{
	struct smtp_session *s = app;
	struct dp_busy *b;

	(void)now;
	if ((b = as_busy(ctx, app)) != NULL) {
		b->off = (uint16_t)(b->off + (n < (uint32_t)(b->len - b->off) ?
		    n : (uint32_t)(b->len - b->off)));
		return;
	}
	smtp_session_consume(s, n);
	smtp_session_input(s, 0);
	check_close(c, s);
}

/* ds_notify - limits answer 421 4.4.2, draining 421 4.3.2 */
static void
ds_notify(void *ctx, struct utcp_tcb *c, void *app, enum utcp_note what,
    uint64_t now)
{
	struct smtp_session *s = app;

	(void)now;
	if (as_busy(ctx, app) != NULL)
		return;
	if (what == UTCP_NOTE_DRAIN)
		smtp_session_shutdown(s);
	else
		smtp_session_timeout(s);
	check_close(c, s);
}

/* ds_closed - the connection is gone: free the session or buffer */
static void
ds_closed(void *ctx, struct utcp_tcb *c, void *app, bool reset)
{
	struct dp_smtp *ds = ctx;
	struct dp_busy *b;

	(void)c;
	if ((b = as_busy(ds, app)) != NULL) {
		b->next = ds->busy_free;
		ds->busy_free = b;
		return;
	}
	if (reset)
		smtp_session_eof(app);
	smtp_session_free(app);
}
