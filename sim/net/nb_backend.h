/*
 * @file nb_backend.h
 * What a network backend is.  A backend owns connections and drives SMTP
 * sessions (smtp_session.h); it never decides a reply.  Two exist: the
 * kernel-socket backend (ev_server.h) and the DPDK backend
 * (dpdk/dp_backend.h).  Each embeds a struct nb_backend as its first member
 * and fills its operations table; mxsim, the control API and /metrics use
 * a backend only through the nb_*() functions below.
 *
 * The struct also holds what every worker of a backend shares (the
 * current world, the session-id counter, the first-notice flags); each
 * worker thread or lcore embeds a struct nb_worker (nb_worker.h) over it.
 *
 * Threads: nb_stop() is async-signal-safe; nb_publish(), nb_world(),
 * nb_stats(), nb_open_conns(), nb_worker_load() and nb_tls() may be called
 * from any thread while nb_run() serves (they take no lock the data path
 * takes); the rest from the thread that created the backend.
 */
#ifndef NB_BACKEND_H
#define NB_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "prof_world.h"
#include "sim_clock.h"
#include "sim_evlog.h"
#include "sim_state.h"
#include "sim_stats.h"
#include "world_slot.h"

struct msg_wordlist;
struct sim_pm;
struct smtp_auth_world;

/* What both backends are given; the pointers stay owned by the caller. */
struct nb_conf {
	const struct prof_world *world;	/* the first world; addresses, port,
					 * seed and timeouts are read from it */
	struct sim_state *state;
	struct sim_acct	*acct;		/* submission accounts, or NULL */
	const struct sim_clock *clock;
	struct sim_evlog *evlog;	/* NULL = no event log */
	struct sim_pm	*pm;		/* Postmaster view (sim_pm.h), or NULL */
	unsigned	 max_conns;	/* connections per worker (>= 1) */
	unsigned	 grace_s;	/* at stop: seconds for sessions to end */
	bool		 notices;	/* print the first of each reply kind */
	FILE		*notice_fp;	/* where notices go (NULL: stderr) */
	bool		 scan;		/* scan messages (smtp_env.scan) */
	const struct msg_wordlist *words; /* spam words, or NULL */
	struct smtp_auth_world *auth_world; /* each worker makes its own
					 * smtp_auth from it; NULL = the
					 * scenario's declared facts */
};

struct nb_backend;

/* The operations a backend implements (every one but tls is required). */
struct nb_ops {
	/* serve until stop, drain, return 0 or -errno */
	int	(*run)(struct nb_backend *b);
	void	(*stop)(struct nb_backend *b);
	void	(*free)(struct nb_backend *b);
	/* how it serves, for the banner's first line ("on port 25, ...") */
	void	(*describe)(const struct nb_backend *b, char *buf, size_t len);
	/* the banner's lines of this backend (STARTTLS) */
	void	(*banner)(const struct nb_backend *b, FILE *fp);
	/* the exit summary's lines of this backend */
	void	(*summary)(const struct nb_backend *b, FILE *out, FILE *diag);
	void	(*stats)(const struct nb_backend *b, struct sim_stats *out);
	uint64_t (*open_conns)(const struct nb_backend *b);
	unsigned (*nworkers)(const struct nb_backend *b);
	void	(*worker_load)(const struct nb_backend *b, unsigned worker,
		    uint64_t *open, uint64_t *sessions);
	/* STARTTLS handshakes; NULL: the backend offers no TLS */
	void	(*tls)(const struct nb_backend *b, uint64_t *done,
		    uint64_t *failed);
};

/* The part every backend embeds first (fields: nb_backend.c and
 * nb_worker.c only). */
struct nb_backend {
	const struct nb_ops *ops;
	struct nb_conf	 conf;
	struct world_slot worlds;	/* the current world (world_slot.h) */
	bool		 have_worlds;	/* worlds initialised (fini is safe) */
	uint64_t	 next_session;	/* session ids; atomic */
	unsigned char	*seen;		/* [nprof + 1][SIM_RK__COUNT] notices,
					 * NULL when notices are off */
	uint64_t	*first_ms;	/* [nprof + 1][SIM_RK__COUNT] first
					 * 4xx/5xx, simulated ms (0: none) */
};

/** Set up the shared part (@p ops may be NULL for a bare pipeline in a
 *  test).  @return 0, -EINVAL (no world) or -ENOMEM. */
int nb_backend_init(struct nb_backend *b, const struct nb_ops *ops,
    const struct nb_conf *conf);

/** Release the shared part (not @p b itself). */
void nb_backend_fini(struct nb_backend *b);

/** Serve until nb_stop(); then stop accepting, end sessions (421 4.3.2 at
 *  the next command; a message in DATA is finished), wait at most grace_s
 *  seconds, close what is left.  @return 0, or -errno. */
int nb_run(struct nb_backend *b);

/** Ask the backend to stop; async-signal-safe. */
void nb_stop(struct nb_backend *b);

/** Free the backend (after nb_run() returned); NULL accepted. */
void nb_free(struct nb_backend *b);

/** The banner's fragment saying how it serves. */
void nb_describe(const struct nb_backend *b, char *buf, size_t len);

/** The backend's own banner lines. */
void nb_banner(const struct nb_backend *b, FILE *fp);

/** The backend's own exit-summary lines (@p out: the table's stream,
 *  @p diag: diagnostics). */
void nb_summary(const struct nb_backend *b, FILE *out, FILE *diag);

/**
 * Publish a new world; workers use it from their next loop iteration.  It
 * must have the same profiles, in the same order, and the same MX ranges
 * as the first world.  The backend takes over the caller's reference to
 * @p w; the world it replaces is freed once no worker or session holds
 * it (world_slot.h).
 */
void nb_publish(struct nb_backend *b, const struct prof_world *w);

/** @return a reference to the world published last (the first world
 *  until then); release it with world_drop(). */
const struct prof_world *nb_world(struct nb_backend *b);

/** @return the simulated ms at which (profile @p prof, kind @p rk) first
 *  answered 4xx/5xx, 0 when it has not; @p prof == nprofiles is the
 *  no-MX row. */
uint64_t nb_first_ms(const struct nb_backend *b, size_t prof,
    enum sim_rk rk);

/** Add every worker's reply counters into @p out (exact after nb_run). */
void nb_stats(const struct nb_backend *b, struct sim_stats *out);

/** @return connections (sessions) open now, over all workers. */
uint64_t nb_open_conns(const struct nb_backend *b);

/** @return workers (threads or packet lcores) shown by /metrics. */
unsigned nb_nworkers(const struct nb_backend *b);

/** Load of one worker, read live: open now, sessions started so far. */
void nb_worker_load(const struct nb_backend *b, unsigned worker,
    uint64_t *open, uint64_t *sessions);

/** STARTTLS handshakes completed and failed so far.  @return false (and
 *  zeros) when the backend offers no TLS. */
bool nb_tls(const struct nb_backend *b, uint64_t *done, uint64_t *failed);

#endif /* NB_BACKEND_H */
