/*
 * DESCRIPTION
 *	Counters as JSON (ctl_stats.h): rows per provider and the no-MX
 *	row, each with its replies per reply kind (the profile's code and
 *	enhanced code) and its transactions per outcome and reason, then
 *	the totals.  The exit table (sim_stats_print) walks the same
 *	counters with the same accessors.
 *
 * DIAGNOSTICS
 *	NULL when jansson cannot allocate.
 */
#include <jansson.h>

#include "ctl_stats.h"

/* txn_json - transactions by outcome: {"accepted": n, ...}, with
 * "reasons" (deferred and refused per reason) when @p s is given */
static json_t *
txn_json(const uint64_t *txn, const struct sim_stats *s,
    const struct prof_world *w, size_t row)
{
	struct sim_stats_reason rs[SIM_STATS_MAX_REASONS];
	json_t *o, *reasons;
	const char *enh;
	unsigned code;
	size_t i, n;

	if ((o = json_object()) == NULL)
		return NULL;
	for (i = 0; i < SIM_TXN__COUNT; i++)
		json_object_set_new(o, sim_stats_outcome_name(i),
		    json_integer((json_int_t)txn[i]));
	if (s == NULL || (reasons = json_array()) == NULL)
		return o;
	n = sim_stats_txn_reasons(s, row, rs);
	for (i = 0; i < n; i++) {
		sim_stats_code(w, row, rs[i].rk, &code, &enh);
		json_array_append_new(reasons, json_pack(
		    "{s:s,s:s,s:i,s:s?,s:I}",
		    "outcome", sim_stats_outcome_name(rs[i].outcome),
		    "reason", sim_kind_info(rs[i].rk)->name, "code", code,
		    "enhanced", enh[0] != '\0' ? enh : NULL,
		    "count", (json_int_t)rs[i].n));
	}
	json_object_set_new(o, "reasons", reasons);
	return o;
}

/* row_json - one stats row: totals, transactions and non-zero replies */
static json_t *
row_json(const struct sim_stats *s, const struct prof_world *w, size_t row)
{
	const struct sim_stats_row *r = &s->rows[row];
	json_t *replies;
	const char *enh;
	unsigned code;
	uint64_t n;
	int rk;

	if ((replies = json_array()) == NULL)
		return NULL;
	for (rk = 0; rk < SIM_RK__COUNT; rk++) {
		if ((n = sim_stats_get(s, row, rk)) == 0)
			continue;
		sim_stats_code(w, row, rk, &code, &enh);
		/* as in the event log: null when the reply has none */
		json_array_append_new(replies, json_pack("{s:s,s:i,s:s?,s:I}",
		    "reason", sim_kind_info(rk)->name, "code", code,
		    "enhanced", enh[0] != '\0' ? enh : NULL,
		    "count", (json_int_t)n));
	}
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:o*,s:o}",
	    "connections", (json_int_t)r->connections,
	    "messages", (json_int_t)r->messages,
	    "recipients", (json_int_t)r->recipients,
	    "replies_4xx", (json_int_t)r->deferred,
	    "replies_5xx", (json_int_t)r->rejected,
	    "transactions", txn_json(r->txn, s, w, row),
	    "replies", replies);
}

/* ctl_stats_json - providers, the no-MX row and the totals */
json_t *
ctl_stats_json(const struct sim_stats *s, const struct prof_world *w)
{
	json_t *provs, *totals;
	size_t i;

	provs = json_object();
	for (i = 0; provs != NULL && i < w->nprofiles; i++)
		json_object_set_new(provs, w->profiles[i]->name,
		    row_json(s, w, i));
	totals = json_pack("{s:I,s:I,s:I,s:I,s:I,s:o*}",
	    "connections", (json_int_t)s->connections,
	    "messages", (json_int_t)s->messages,
	    "recipients", (json_int_t)s->recipients,
	    "replies_4xx", (json_int_t)s->deferred,
	    "replies_5xx", (json_int_t)s->rejected,
	    "transactions", txn_json(s->txn, NULL, w, 0));
	return json_pack("{s:o*,s:o*,s:o*}", "providers", provs,
	    "no_mx", row_json(s, w, w->nprofiles), "totals", totals);
}
