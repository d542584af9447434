/*
 * @file met_prom.h
 * Live metrics in the Prometheus text exposition format (version 0.0.4):
 * a HELP and a TYPE line per family, counters named *_total, label values
 * escaped.  Rendering is a pure function of a snapshot the caller fills
 * (merged worker counters, per-worker load, state table figures, event-log
 * counts, the simulated clock), so it is tested with hand-made numbers.
 *
 * Families: mxsim_replies_total{provider,code,enhanced,reason},
 * mxsim_transactions_total{provider,outcome,reason} (outcome accepted,
 * deferred, refused or abandoned; reason the deciding reply kind, "none"
 * for abandoned),
 * mxsim_connections_total{provider}, mxsim_messages_accepted_total{provider},
 * mxsim_recipients_accepted_total{provider}, mxsim_open_connections,
 * mxsim_worker_connections{worker}, mxsim_worker_sessions_total{worker},
 * mxsim_tracked_identities{kind}, mxsim_state_exhausted_total,
 * mxsim_reputation{provider,kind} (histogram of scores),
 * mxsim_evlog_events_total, mxsim_evlog_dropped_total,
 * mxsim_tls_handshakes_total{result="ok"|"failed"} (socket backend),
 * mxsim_sim_time_seconds, mxsim_time_scale.
 */
#ifndef MET_PROM_H
#define MET_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prof_world.h"
#include "sim_state.h"
#include "sim_stats.h"

#define MET_REP_BUCKETS	10	/* score buckets: le = max/10 .. max */
#define MET_REP_KINDS	2	/* reputation is kept for IPs and domains */
#define MET_NO_MX	"(no MX)" /* provider label of the no-MX row */

/* Scores of one (provider, kind): counts per bucket, not cumulative. */
struct met_rep_hist {
	uint64_t	 bucket[MET_REP_BUCKETS]; /* [k]: score in
					 * (max*k/10, max*(k+1)/10];
					 * [0] from 0 */
	uint64_t	 count;
	double		 sum;
};

/* One worker's load. */
struct met_worker {
	uint64_t	 open;		/* connections open now */
	uint64_t	 sessions;	/* sessions started */
};

/* Everything one scrape shows; the caller owns every pointer. */
struct met_snapshot {
	const struct prof_world *world;	/* names, reply codes, reputation max */
	const struct sim_stats *stats;	/* merged counters of all workers */
	uint64_t	 open_conns;
	const struct met_worker *workers; /* [nworkers] */
	unsigned	 nworkers;
	uint64_t	 tracked[SIM_KEY__COUNT]; /* identities by kind */
	uint64_t	 state_exhausted; /* times the state table was full */
	const struct met_rep_hist *rep;	/* [nprofiles * MET_REP_KINDS]
					 * (ip, domain); NULL = leave out */
	bool		 have_evlog;	/* false: no event-log families */
	uint64_t	 evlog_written;
	uint64_t	 evlog_dropped;
	bool		 have_tls;	/* false: no TLS family (backend
					 * without STARTTLS) */
	uint64_t	 tls_done;	/* STARTTLS handshakes completed */
	uint64_t	 tls_failed;	/* ... failed */
	uint64_t	 sim_ms;	/* simulated Unix ms now */
	double		 time_scale;
};

/**
 * Count one score into a histogram.
 * @param max  the profile's reputation ceiling (> 0); scores above it go
 *             into the last bucket, below 0 into the first.
 */
void met_rep_add(struct met_rep_hist *h, double score, double max);

/**
 * Render a snapshot.  Reply rows with a zero count are left out; the
 * per-provider families list every provider (and the no-MX row when it
 * is not zero).
 * @param len  set to the text's length.
 * @return the text, NUL-terminated, to be freed by the caller; NULL when
 * out of memory.
 */
char *met_prom_render(const struct met_snapshot *m, size_t *len);

/**
 * Escape a label value: backslash, double quote and line feed become
 * \\, \" and \n.
 * @param out     at least 2 * strlen(in) + 1 bytes for a full copy.
 * @param outlen  size of @p out; the result is truncated (never in the
 *                middle of an escape) and always NUL-terminated.
 * @return the length of the full escaped value (as snprintf does).
 */
size_t met_prom_escape(char *out, size_t outlen, const char *in);

#endif /* MET_PROM_H */
