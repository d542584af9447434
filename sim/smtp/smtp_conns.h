/*
 * @file smtp_conns.h
 * A worker's connection budget, shared by both backends: the session pool
 * sized from its connection limit (struct smtp_pool, smtp_session.h), and
 * the reply to a connection the budget has no room for.  That reply is the
 * profile's kind "protocol.busy" (421 4.3.2 by default), rendered for the
 * called MX and reported through the worker's event hook like any other
 * reply (counted, logged, in /metrics); the backend sends it and closes.
 */
#ifndef SMTP_CONNS_H
#define SMTP_CONNS_H

#include <stddef.h>
#include <stdint.h>

#include "smtp_arena.h"
#include "smtp_session.h"

#define SMTP_CONNS_POOL_BYTES	(256u << 20)	/* cap per buffer kind */
#define SMTP_CONNS_GROW_MIN	(2 * SMTP_ARENA_TXN_CHUNKS) /* growth
					 * chunks: two largest transactions */
#define SMTP_CONNS_BUSY_MAX	512	/* longest busy reply sent */

/**
 * The session pool of one worker serving at most @p max_conns sessions:
 * max_conns sessions, 2 x max_conns buffers, max_conns arenas (their
 * first chunks) and 2 x max_conns arena growth chunks (at least
 * SMTP_CONNS_GROW_MIN), each kind capped at SMTP_CONNS_POOL_BYTES (the
 * growth chunks: 32,768 of SMTP_ARENA_CHUNK bytes, shared by the open
 * transactions; about 3,600 of 1,000 recipients of 64 characters).
 * @return the pool, or NULL (max_conns 0, out of memory).
 */
struct smtp_pool *smtp_conns_pool_new(uint32_t max_conns);

/**
 * Render the "protocol.busy" reply for connection @p ci (profile looked up
 * from ci->mx_ip in env->world; no MX: the built-in default) into @p out
 * and report it to env->on_event (stage connect).
 * @return bytes written (0 when @p cap is too small: nothing reported).
 */
size_t smtp_conns_busy(const struct smtp_env *env,
    const struct smtp_conn_info *ci, char *out, size_t cap);

#endif /* SMTP_CONNS_H */
