/*
 * @file dp_smtp.h
 * SMTP over utcp for one lcore: the layer above the TCP (struct utcp_ops).
 * Each accepted connection gets a session from the lcore's fixed session
 * pool (smtp_conns_pool_new(), the socket backend's pool code); input,
 * acknowledged output, limits and the end of the connection drive it.
 * When the pool has no session left, the connection is answered with the
 * profile's "protocol.busy" (smtp_conns_busy(): rendered, counted, logged)
 * from a small fixed set of reply buffers and closed; with no buffer left
 * either, it is reset (counted).  Internal to dpdk/ and its tests.
 */
#ifndef DP_SMTP_H
#define DP_SMTP_H

#include <stdint.h>

#include "nb_worker.h"
#include "sim_stats.h"
#include "smtp_session.h"
#include "utcp.h"

/* What the layer is given; the pointers stay owned by the caller. */
struct dp_smtp_conf {
	struct nb_worker *nw;		/* the lcore's glue: sessions' env (its
					 * world may change), counters,
					 * session ids (nb_worker.h) */
	uint32_t	 max_sessions;	/* session pool size (>= 1) */
};

/* Counters of the layer (owner lcore writes). */
struct dp_smtp_counters {
	uint64_t	 busy;		/* answered "protocol.busy" */
	uint64_t	 refused;	/* no session and no busy buffer: reset */
};

struct dp_smtp;

/** The hooks to put in utcp_conf.ops, with the dp_smtp as ops_ctx. */
extern const struct utcp_ops dp_smtp_ops;

/**
 * Create the layer: session pool and busy-reply buffers.
 * @return it, or NULL (incomplete conf, out of memory).
 */
struct dp_smtp *dp_smtp_new(const struct dp_smtp_conf *conf);

/** Free it, after the utcp stack that used it. */
void dp_smtp_free(struct dp_smtp *ds);

/** @return the layer's counters. */
const struct dp_smtp_counters *dp_smtp_counters(const struct dp_smtp *ds);

/** Copy the session pool's counters into @p out. */
void dp_smtp_pool_stats(const struct dp_smtp *ds,
    struct smtp_pool_stats *out);

#endif /* DP_SMTP_H */
