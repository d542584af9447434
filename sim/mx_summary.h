/*
 * @file mx_summary.h
 * mxsim --summary-json: the exit summary as one JSON object, written to
 * a temporary file beside the target and renamed over it (a reader sees
 * the old file or the whole new one).  Internal to the mxsim command.
 *   {"version", "scenario", "stopped_by" ("SIGTERM", "SIGINT",
 *    "duration", "end"), "time_scale", "sim_start", "sim_start_ms",
 *    "sim_end", "sim_end_ms", "providers", "no_mx", "totals" (the
 *    counters: ctl_stats.h), "event_log": {"path", "written", "dropped"}
 *    or null}
 */
#ifndef MX_SUMMARY_H
#define MX_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prof_world.h"
#include "sim_stats.h"

/* What the summary reports, gathered by sim/main.c at exit. */
struct mx_summary {
	const char	*version;
	const struct prof_world *world;
	const struct sim_stats *stats;	/* merged once the workers stopped */
	const char	*stopped_by;
	double		 time_scale;
	uint64_t	 sim_start_ms, sim_end_ms;
	bool		 evlog;		/* an event log was written */
	uint64_t	 ev_written, ev_dropped;
};

/**
 * Write @p s as JSON to @p path atomically (PATH.XXXXXX, then rename).
 * @return 0, or -1 with the cause in @p err.
 */
int mx_summary_write(const char *path, const struct mx_summary *s, char *err,
    size_t errlen);

#endif /* MX_SUMMARY_H */
