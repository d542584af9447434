/*
 * DESCRIPTION
 *	Prometheus text rendering of a metrics snapshot.  The text is built
 *	in a memory stream (open_memstream); every family gets its HELP and
 *	TYPE lines even when it has no sample, so a scraper sees the same
 *	families from the first scrape on.
 *
 * DIAGNOSTICS
 *	Out of memory returns NULL.  Nothing panics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "met_prom.h"

static void	family(FILE *, const char *, const char *, const char *);
static void	put_label(FILE *, const char *);
static const char *row_name(const struct met_snapshot *, size_t);
static void	put_replies(FILE *, const struct met_snapshot *);
static void	put_txn(FILE *, const struct met_snapshot *, size_t,
		    enum sim_txn_outcome, const char *, uint64_t);
static void	put_txns(FILE *, const struct met_snapshot *);
static void	put_rows(FILE *, const struct met_snapshot *);
static void	put_workers(FILE *, const struct met_snapshot *);
static void	put_state(FILE *, const struct met_snapshot *);
static void	put_rep(FILE *, const struct met_snapshot *);

static const char *const key_kind_names[SIM_KEY__COUNT] = {
	[SIM_KEY_IP] = "ip",
	[SIM_KEY_DOMAIN] = "domain",
	[SIM_KEY_RCPT] = "rcpt",
	[SIM_KEY_NETBLOCK] = "netblock",
	[SIM_KEY_HELO] = "helo",
	[SIM_KEY_DKIM] = "dkim",
	[SIM_KEY_ORG] = "org",
	[SIM_KEY_URL] = "url",
	[SIM_KEY_MSGID] = "msgid",
	[SIM_KEY_PAIR] = "pair",
};


/* family - the HELP and TYPE lines of one metric family */
static void
family(FILE *fp, const char *name, const char *type, const char *help)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* put_label - a quoted, escaped label value (values here are names and
 * codes well below the buffer) */
static void
put_label(FILE *fp, const char *v)
{
	char buf[512];

	met_prom_escape(buf, sizeof(buf), v);
	fprintf(fp, "\"%s\"", buf);
}

/* met_prom_escape - escape a label value into a buffer */
size_t
met_prom_escape(char *out, size_t outlen, const char *in)
{
	size_t n = 0, done = 0, w;
	bool full = false;
	char esc[2];

	for (; *in != '\0'; in++) {
		w = 1;
		esc[0] = *in;
		if (*in == '\\' || *in == '"' || *in == '\n') {
			esc[0] = '\\';
			esc[1] = *in == '\n' ? 'n' : *in;
			w = 2;
		}
		if (!full && done + w < outlen) {
			memcpy(out + done, esc, w);
			done += w;
		} else
			full = true;	/* no half escapes after this */
		n += w;
	}
	if (outlen > 0)
		out[done] = '\0';
	return n;
}

/* row_name - provider label of a stats row */
static const char *
row_name(const struct met_snapshot *m, size_t row)
{
	return row < m->world->nprofiles ? m->world->profiles[row]->name :
	    MET_NO_MX;
}

/* put_replies - mxsim_replies_total, one sample per non-zero row */
static void
put_replies(FILE *fp, const struct met_snapshot *m)
{
	const struct sim_stats *s = m->stats;
	uint64_t n;
	unsigned code;
	const char *enh;
	size_t row;
	int rk;

	family(fp, "mxsim_replies_total", "counter", "SMTP replies sent, by "
	    "provider, reply code, enhanced code and reason (reply kind).");
	for (row = 0; row <= s->nprof; row++)
		for (rk = 0; rk < SIM_RK__COUNT; rk++) {
			if ((n = sim_stats_get(s, row, rk)) == 0)
				continue;
			sim_stats_code(m->world, row, rk, &code, &enh);
			fputs("mxsim_replies_total{provider=", fp);
			put_label(fp, row_name(m, row));
			fprintf(fp, ",code=\"%u\",enhanced=", code);
			put_label(fp, enh);
			fputs(",reason=", fp);
			put_label(fp, sim_kind_info(rk)->name);
			fprintf(fp, "} %llu\n", (unsigned long long)n);
		}
}

/* put_txn - one sample of mxsim_transactions_total (none when zero) */
static void
put_txn(FILE *fp, const struct met_snapshot *m, size_t row,
    enum sim_txn_outcome o, const char *reason, uint64_t n)
{
	if (n == 0)
		return;
	fputs("mxsim_transactions_total{provider=", fp);
	put_label(fp, row_name(m, row));
	fprintf(fp, ",outcome=\"%s\",reason=", sim_stats_outcome_name(o));
	put_label(fp, reason);
	fprintf(fp, "} %llu\n", (unsigned long long)n);
}

/* put_txns - mxsim_transactions_total: accepted, deferred and refused
 * per reason, abandoned; non-zero samples only */
static void
put_txns(FILE *fp, const struct met_snapshot *m)
{
	struct sim_stats_reason rs[SIM_STATS_MAX_REASONS];
	const struct sim_stats *s = m->stats;
	const struct sim_stats_row *r;
	size_t row, i, n;

	family(fp, "mxsim_transactions_total", "counter", "Mail "
	    "transactions (MAIL to its end), by provider, outcome (accepted, "
	    "deferred: ended on a 4xx, refused: on a 5xx, abandoned by the "
	    "client) and reason (the reply kind that decided it; none when "
	    "abandoned).");
	for (row = 0; row <= s->nprof; row++) {
		r = &s->rows[row];
		put_txn(fp, m, row, SIM_TXN_ACCEPTED,
		    sim_kind_info(SIM_RK_DATA_OK)->name,
		    r->txn[SIM_TXN_ACCEPTED]);
		n = sim_stats_txn_reasons(s, row, rs);
		for (i = 0; i < n; i++)
			put_txn(fp, m, row, rs[i].outcome,
			    sim_kind_info(rs[i].rk)->name, rs[i].n);
		put_txn(fp, m, row, SIM_TXN_ABANDONED, "none",
		    r->txn[SIM_TXN_ABANDONED]);
	}
}

/* put_rows - per-provider sessions, messages and recipients */
static void
put_rows(FILE *fp, const struct met_snapshot *m)
{
	static const struct {
		const char	*name;
		const char	*help;
		size_t		 off;
	} fams[] = {
		{ "mxsim_connections_total", "Sessions started (each gets "
		    "one reply at connect), by provider.",
		    offsetof(struct sim_stats_row, connections) },
		{ "mxsim_messages_accepted_total", "Messages accepted "
		    "(250 at end of DATA), by provider.",
		    offsetof(struct sim_stats_row, messages) },
		{ "mxsim_recipients_accepted_total", "Recipients of accepted "
		    "messages, by provider.",
		    offsetof(struct sim_stats_row, recipients) },
	};
	const struct sim_stats *s = m->stats;
	uint64_t n;
	size_t f, row;

	for (f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		family(fp, fams[f].name, "counter", fams[f].help);
		for (row = 0; row <= s->nprof; row++) {
			memcpy(&n, (const char *)&s->rows[row] + fams[f].off,
			    sizeof(n));
			if (row == s->nprof && n == 0)
				continue;
			fprintf(fp, "%s{provider=", fams[f].name);
			put_label(fp, row_name(m, row));
			fprintf(fp, "} %llu\n", (unsigned long long)n);
		}
	}
}

/* put_workers - open connections, in all and per worker */
static void
put_workers(FILE *fp, const struct met_snapshot *m)
{
	unsigned i;

	family(fp, "mxsim_open_connections", "gauge",
	    "SMTP connections open now.");
	fprintf(fp, "mxsim_open_connections %llu\n",
	    (unsigned long long)m->open_conns);
	family(fp, "mxsim_worker_connections", "gauge",
	    "SMTP connections open now, by worker thread.");
	for (i = 0; i < m->nworkers; i++)
		fprintf(fp, "mxsim_worker_connections{worker=\"%u\"} %llu\n", i,
		    (unsigned long long)m->workers[i].open);
	family(fp, "mxsim_worker_sessions_total", "counter",
	    "Sessions started, by worker thread.");
	for (i = 0; i < m->nworkers; i++)
		fprintf(fp, "mxsim_worker_sessions_total{worker=\"%u\"} %llu\n",
		    i, (unsigned long long)m->workers[i].sessions);
}

/* put_state - identities tracked by the policy engine */
static void
put_state(FILE *fp, const struct met_snapshot *m)
{
	int k;

	family(fp, "mxsim_tracked_identities", "gauge", "Identities the "
	    "policy engine tracks now (sending IPs, sender domains, "
	    "recipients).");
	for (k = 0; k < SIM_KEY__COUNT; k++)
		fprintf(fp, "mxsim_tracked_identities{kind=\"%s\"} %llu\n",
		    key_kind_names[k], (unsigned long long)m->tracked[k]);
	family(fp, "mxsim_state_exhausted_total", "counter", "Times the "
	    "state table was full and an identity went untracked.");
	fprintf(fp, "mxsim_state_exhausted_total %llu\n",
	    (unsigned long long)m->state_exhausted);
}

/* put_rep - reputation score histograms by provider and kind */
static void
put_rep(FILE *fp, const struct met_snapshot *m)
{
	const struct met_rep_hist *h;
	uint64_t cum;
	double max;
	size_t p;
	int k, b;

	family(fp, "mxsim_reputation", "histogram", "Reputation scores of "
	    "tracked sending IPs and sender domains, brought forward to now; "
	    "buckets are tenths of the provider's maximum score.");
	if (m->rep == NULL)
		return;
	for (p = 0; p < m->world->nprofiles; p++) {
		max = m->world->profiles[p]->rep.max;
		for (k = 0; k < MET_REP_KINDS; k++) {
			h = &m->rep[p * MET_REP_KINDS + k];
			cum = 0;
			for (b = 0; b < MET_REP_BUCKETS; b++) {
				cum += h->bucket[b];
				fputs("mxsim_reputation_bucket{provider=", fp);
				put_label(fp, m->world->profiles[p]->name);
				fprintf(fp, ",kind=\"%s\",le=\"%g\"} %llu\n",
				    key_kind_names[k],
				    max * (b + 1) / MET_REP_BUCKETS,
				    (unsigned long long)cum);
			}
			fputs("mxsim_reputation_bucket{provider=", fp);
			put_label(fp, m->world->profiles[p]->name);
			fprintf(fp, ",kind=\"%s\",le=\"+Inf\"} %llu\n",
			    key_kind_names[k], (unsigned long long)h->count);
			fputs("mxsim_reputation_sum{provider=", fp);
			put_label(fp, m->world->profiles[p]->name);
			fprintf(fp, ",kind=\"%s\"} %.17g\n", key_kind_names[k],
			    h->sum);
			fputs("mxsim_reputation_count{provider=", fp);
			put_label(fp, m->world->profiles[p]->name);
			fprintf(fp, ",kind=\"%s\"} %llu\n", key_kind_names[k],
			    (unsigned long long)h->count);
		}
	}
}

/* met_rep_add - count one score */
void
met_rep_add(struct met_rep_hist *h, double score, double max)
{
	int b;

	for (b = 0; b < MET_REP_BUCKETS - 1; b++)
		if (score <= max * (b + 1) / MET_REP_BUCKETS)
			break;
	h->bucket[b]++;
	h->count++;
	h->sum += score;
}

/* met_prom_render - the whole exposition */
char *
met_prom_render(const struct met_snapshot *m, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *fp;

	if ((fp = open_memstream(&buf, &n)) == NULL)
		return NULL;
	put_replies(fp, m);
	put_txns(fp, m);
	put_rows(fp, m);
	put_workers(fp, m);
	put_state(fp, m);
	put_rep(fp, m);
	if (m->have_tls) {
		family(fp, "mxsim_tls_handshakes_total", "counter",
		    "STARTTLS handshakes, completed (ok) or failed (the "
		    "connection was closed).");
		fprintf(fp, "mxsim_tls_handshakes_total{result=\"ok\"} %llu\n"
		    "mxsim_tls_handshakes_total{result=\"failed\"} %llu\n",
		    (unsigned long long)m->tls_done,
		    (unsigned long long)m->tls_failed);
	}
	if (m->have_evlog) {
		family(fp, "mxsim_evlog_events_total", "counter",
		    "Events written to the event log.");
		fprintf(fp, "mxsim_evlog_events_total %llu\n",
		    (unsigned long long)m->evlog_written);
		family(fp, "mxsim_evlog_dropped_total", "counter",
		    "Events dropped because every event-log buffer was in "
		    "flight.");
		fprintf(fp, "mxsim_evlog_dropped_total %llu\n",
		    (unsigned long long)m->evlog_dropped);
	}
	family(fp, "mxsim_sim_time_seconds", "gauge",
	    "Simulated time, Unix seconds.");
	fprintf(fp, "mxsim_sim_time_seconds %llu.%03u\n",
	    (unsigned long long)(m->sim_ms / 1000),
	    (unsigned)(m->sim_ms % 1000));
	family(fp, "mxsim_time_scale", "gauge",
	    "Simulated seconds per real second.");
	fprintf(fp, "mxsim_time_scale %g\n", m->time_scale);
	if (ferror(fp)) {
		fclose(fp);
		free(buf);
		return NULL;
	}
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}
