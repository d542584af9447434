/*
 * @file ctl_stats.h
 * The reply and transaction counters (struct sim_stats) as JSON: the one
 * shape GET /counters answers with and mxsim --summary-json writes.
 *   {"providers": {NAME: ROW, ...}, "no_mx": ROW, "totals": {
 *     "connections", "messages", "recipients", "replies_4xx",
 *     "replies_5xx": n, "transactions": {"accepted", "deferred",
 *     "refused", "abandoned": n}}}
 *   ROW: the same totals, "transactions" with "reasons" [{"outcome",
 *     "reason", "code", "enhanced", "count"}] (deferred and refused per
 *     reply kind), and "replies" [{"reason", "code", "enhanced", "count"}]
 *     (non-zero kinds only; "enhanced" null when the reply has none).
 */
#ifndef CTL_STATS_H
#define CTL_STATS_H

#include <jansson.h>

#include "prof_world.h"
#include "sim_stats.h"

/** @return the object above for counters @p s of world @p w, or NULL (no
 *  memory).  The caller may add keys to "totals". */
json_t *ctl_stats_json(const struct sim_stats *s, const struct prof_world *w);

#endif /* CTL_STATS_H */
