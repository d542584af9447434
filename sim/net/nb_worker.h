/*
 * @file nb_worker.h
 * What every worker of a network backend does the same way, whether it is
 * an epoll thread (ev_server.c) or a DPDK lcore (dpdk/dp_lcore.c): its
 * sessions' environment, its reply counters, its event-log buffer, its
 * SPF/DKIM/DMARC context, session ids, picking up the current world, and
 * what happens to each reply (count it, log it, feed the Postmaster view,
 * print the first of its kind).  A worker embeds one struct nb_worker;
 * only its own thread touches it, except the counters (relaxed atomics,
 * read by nb_stats()).
 */
#ifndef NB_WORKER_H
#define NB_WORKER_H

#include <stdint.h>

#include "nb_backend.h"
#include "smtp_session.h"

struct nb_worker {
	struct nb_backend *nb;		/* the backend's shared part */
	struct smtp_env	 env;		/* handed to every session */
	struct sim_stats *stats;	/* this worker's reply counters */
	struct sim_evlog_local *evl;	/* its event-log buffer, or NULL */
	struct smtp_auth *auth;		/* its SPF/DKIM/DMARC, or NULL */
};

/**
 * Set up a worker of @p nb (zeroed first; env.tls_ok stays false).
 * @return 0, or -ENOMEM (what was made is freed by nb_worker_fini()).
 */
int nb_worker_init(struct nb_worker *wk, struct nb_backend *nb);

/** Free what the worker owns, after its sessions; a zeroed one is fine. */
void nb_worker_fini(struct nb_worker *wk);

/** Take the world published last into the sessions' environment (once
 *  per loop iteration, and before a session starts). */
void nb_worker_refresh(struct nb_worker *wk);

/** @return a new session id, unique in the process, from the seed. */
uint64_t nb_worker_session_id(struct nb_worker *wk);

/** Hand the event-log buffer to the writer if older than @p max_age_ms
 *  (0: now). */
void nb_worker_flush(struct nb_worker *wk, uint64_t max_age_ms);

#endif /* NB_WORKER_H */
