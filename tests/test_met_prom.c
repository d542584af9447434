/*
 * Tests of met_prom: the Prometheus text of a hand-made snapshot (exact
 * lines), label escaping, reputation buckets, and the state-table walk
 * that feeds them (sim_state_foreach).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "met_prom.h"
#include "sim_state.h"
#include "test_suites.h"

static struct prof_world *mini_world(void);
static void	feed(struct sim_stats *, uint32_t, enum sim_rk, uint16_t,
		    const char *, enum sim_stage, uint32_t, int);
static void	feed_txn(struct sim_stats *, uint32_t, enum sim_txn_outcome,
		    enum sim_rk, uint16_t, int);

/* mini_world - "gmail" with a 421 4.7.28 rate.ip, and a profile whose
 * name needs escaping (the YAML loader would refuse it; a label must
 * still come out right) */
static struct prof_world *
mini_world(void)
{
	struct prof_world *w = prof_world_new();
	struct prof_profile *p;

	if (w == NULL)
		return NULL;
	p = prof_profile_new("gmail");
	prof_set_reply(p, SIM_RK_RATE_IP, 421, "4.7.28", "slow down",
	    SIM_STAGE_EOD);
	prof_world_add_profile(w, p);
	p = prof_profile_new("we\"ird\\one\n");
	p->rep.max = 50;
	prof_world_add_profile(w, p);
	return w;
}

/* feed - count n events of one kind through the real counter */
static void
feed(struct sim_stats *s, uint32_t prof, enum sim_rk rk, uint16_t code,
    const char *enh, enum sim_stage stage, uint32_t nrcpts, int n)
{
	struct sim_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.prof = prof;
	ev.rk = rk;
	ev.code = code;
	ev.enhanced = enh;
	ev.stage = stage;
	ev.nrcpts = nrcpts;
	while (n-- > 0)
		sim_stats_event(s, &ev);
}

/* feed_txn - count n ended transactions through the real counter */
static void
feed_txn(struct sim_stats *s, uint32_t prof, enum sim_txn_outcome o,
    enum sim_rk rk, uint16_t code, int n)
{
	struct sim_txn t;

	memset(&t, 0, sizeof(t));
	t.prof = prof;
	t.outcome = o;
	t.rk = rk;
	t.code = code;
	while (n-- > 0)
		sim_stats_txn(s, &t);
}

/* a whole snapshot renders to the exact expected lines */
static void
test_render(void)
{
	struct prof_world *w = mini_world();
	struct sim_stats *s;
	struct met_snapshot m;
	struct met_worker wk[2] = { { 3, 10 }, { 1, 7 } };
	struct met_rep_hist rep[2 * MET_REP_KINDS];
	const char *want[] = {
		"# HELP mxsim_replies_total SMTP replies sent, by provider, "
		    "reply code, enhanced code and reason (reply kind).",
		"# TYPE mxsim_replies_total counter",
		"mxsim_replies_total{provider=\"gmail\",code=\"220\","
		    "enhanced=\"\",reason=\"ok.greeting\"} 4",
		"mxsim_replies_total{provider=\"gmail\",code=\"250\","
		    "enhanced=\"2.0.0\",reason=\"ok.message\"} 2",
		"mxsim_replies_total{provider=\"gmail\",code=\"421\","
		    "enhanced=\"4.7.28\",reason=\"rate.ip\"} 1",
		"mxsim_replies_total{provider=\"we\\\"ird\\\\one\\n\","
		    "code=\"220\",enhanced=\"\",reason=\"ok.greeting\"} 1",
		"mxsim_replies_total{provider=\"(no MX)\",code=\"554\","
		    "enhanced=\"5.3.2\",reason=\"protocol.no_mx\"} 2",
		"# TYPE mxsim_connections_total counter",
		"mxsim_connections_total{provider=\"gmail\"} 4",
		"mxsim_connections_total{provider=\"(no MX)\"} 2",
		"mxsim_messages_accepted_total{provider=\"gmail\"} 2",
		"mxsim_messages_accepted_total{provider="
		    "\"we\\\"ird\\\\one\\n\"} 0",
		"mxsim_recipients_accepted_total{provider=\"gmail\"} 6",
		"# TYPE mxsim_open_connections gauge",
		"mxsim_open_connections 4",
		"mxsim_worker_connections{worker=\"0\"} 3",
		"mxsim_worker_connections{worker=\"1\"} 1",
		"mxsim_worker_sessions_total{worker=\"1\"} 7",
		"mxsim_tracked_identities{kind=\"ip\"} 5",
		"mxsim_tracked_identities{kind=\"domain\"} 2",
		"mxsim_tracked_identities{kind=\"rcpt\"} 9",
		"mxsim_state_exhausted_total 1",
		"# TYPE mxsim_reputation histogram",
		"mxsim_reputation_bucket{provider=\"gmail\",kind=\"ip\","
		    "le=\"10\"} 1",
		"mxsim_reputation_bucket{provider=\"gmail\",kind=\"ip\","
		    "le=\"70\"} 1",
		"mxsim_reputation_bucket{provider=\"gmail\",kind=\"ip\","
		    "le=\"80\"} 2",
		"mxsim_reputation_bucket{provider=\"gmail\",kind=\"ip\","
		    "le=\"+Inf\"} 2",
		"mxsim_reputation_sum{provider=\"gmail\",kind=\"ip\"} 85",
		"mxsim_reputation_count{provider=\"gmail\",kind=\"ip\"} 2",
		"mxsim_reputation_bucket{provider=\"we\\\"ird\\\\one\\n\","
		    "kind=\"domain\",le=\"5\"} 0",
		"# TYPE mxsim_tls_handshakes_total counter",
		"mxsim_tls_handshakes_total{result=\"ok\"} 17",
		"mxsim_tls_handshakes_total{result=\"failed\"} 2",
		"mxsim_evlog_events_total 123",
		"mxsim_evlog_dropped_total 0",
		"mxsim_sim_time_seconds 1795459403.377",
		"mxsim_time_scale 1440",
	};
	char *text;
	size_t len, i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	s = sim_stats_new(w->nprofiles);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	feed(s, 0, SIM_RK_GREETING, 220, "", SIM_STAGE_CONNECT, 0, 4);
	feed(s, 0, SIM_RK_DATA_OK, 250, "2.0.0", SIM_STAGE_EOD, 3, 2);
	feed(s, 0, SIM_RK_RATE_IP, 421, "4.7.28", SIM_STAGE_EOD, 1, 1);
	feed(s, 1, SIM_RK_GREETING, 220, "", SIM_STAGE_CONNECT, 0, 1);
	feed(s, UINT32_MAX, SIM_RK_NO_MX, 554, "5.3.2", SIM_STAGE_CONNECT, 0,
	    2);
	memset(rep, 0, sizeof(rep));
	met_rep_add(&rep[0], 5, 100);
	met_rep_add(&rep[0], 80, 100);	/* exactly on le="80" */
	memset(&m, 0, sizeof(m));
	m.world = w;
	m.stats = s;
	m.open_conns = 4;
	m.workers = wk;
	m.nworkers = 2;
	m.tracked[SIM_KEY_IP] = 5;
	m.tracked[SIM_KEY_DOMAIN] = 2;
	m.tracked[SIM_KEY_RCPT] = 9;
	m.state_exhausted = 1;
	m.rep = rep;
	m.have_evlog = true;
	m.evlog_written = 123;
	m.have_tls = true;
	m.tls_done = 17;
	m.tls_failed = 2;
	m.sim_ms = 1795459403377ULL;
	m.time_scale = 1440;
	text = met_prom_render(&m, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(strlen(text), len);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!test_has_line(text, want[i])) {
			CU_FAIL("line missing");
			fprintf(stderr, "\nmissing: %s\n", want[i]);
		}
	/* zero rows are left out */
	CU_ASSERT_PTR_NULL(strstr(text, "reason=\"ok.quit\""));
	CU_ASSERT_FALSE(test_has_line(text, "mxsim_messages_accepted_total"
	    "{provider=\"(no MX)\"} 0"));
	CU_ASSERT_EQUAL(text[len - 1], '\n');
	free(text);
	/* without an event log, TLS and histograms */
	m.have_evlog = false;
	m.have_tls = false;
	m.rep = NULL;
	text = met_prom_render(&m, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NULL(strstr(text, "mxsim_evlog"));
	CU_ASSERT_PTR_NULL(strstr(text, "mxsim_tls"));
	CU_ASSERT_PTR_NULL(strstr(text, "mxsim_reputation_bucket"));
	CU_ASSERT(test_has_line(text, "# TYPE mxsim_reputation histogram"));
	free(text);
	sim_stats_free(s);
	prof_world_free(w);
}

/* transactions: one sample per (provider, outcome, reason), merged
 * across workers, and the exit summary's table and totals */
static void
test_transactions(void)
{
	struct prof_world *w = mini_world();
	struct sim_stats *a, *b, *sum;
	struct met_snapshot m;
	char *text = NULL;
	size_t len = 0;
	FILE *fp;
	const char *want[] = {
		"# TYPE mxsim_transactions_total counter",
		"mxsim_transactions_total{provider=\"gmail\",outcome="
		    "\"accepted\",reason=\"ok.message\"} 3",
		"mxsim_transactions_total{provider=\"gmail\",outcome="
		    "\"deferred\",reason=\"rate.ip\"} 2",
		"mxsim_transactions_total{provider=\"gmail\",outcome="
		    "\"refused\",reason=\"rate.block\"} 1",
		"mxsim_transactions_total{provider=\"gmail\",outcome="
		    "\"abandoned\",reason=\"none\"} 1",
		"mxsim_transactions_total{provider=\"(no MX)\",outcome="
		    "\"refused\",reason=\"protocol.no_mx\"} 1",
	};
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	a = sim_stats_new(w->nprofiles);
	b = sim_stats_new(w->nprofiles);
	sum = sim_stats_new(w->nprofiles);
	CU_ASSERT_FATAL(a != NULL && b != NULL && sum != NULL);
	feed_txn(a, 0, SIM_TXN_ACCEPTED, SIM_RK_DATA_OK, 250, 2);
	feed_txn(b, 0, SIM_TXN_ACCEPTED, SIM_RK_DATA_OK, 250, 1);
	feed_txn(a, 0, SIM_TXN_DEFERRED, SIM_RK_RATE_IP, 421, 1);
	feed_txn(b, 0, SIM_TXN_DEFERRED, SIM_RK_RATE_IP, 421, 1);
	feed_txn(b, 0, SIM_TXN_REFUSED, SIM_RK_RATE_BLOCK, 550, 1);
	feed_txn(a, 0, SIM_TXN_ABANDONED, SIM_RK__COUNT, 0, 1);
	feed_txn(a, UINT32_MAX, SIM_TXN_REFUSED, SIM_RK_NO_MX, 554, 1);
	/* three replies of a refused MAIL with pipelined RCPT and DATA */
	feed(b, 0, SIM_RK_RATE_BLOCK, 550, "5.7.28", SIM_STAGE_MAIL, 0, 1);
	feed(b, 0, SIM_RK_BAD_SEQ, 503, "5.5.1", SIM_STAGE_RCPT, 0, 1);
	feed(b, 0, SIM_RK_BAD_SEQ, 503, "5.5.1", SIM_STAGE_DATA, 0, 1);
	sim_stats_merge(sum, a);
	sim_stats_merge(sum, b);
	CU_ASSERT_EQUAL(sum->txn[SIM_TXN_ACCEPTED], 3);
	CU_ASSERT_EQUAL(sum->txn[SIM_TXN_DEFERRED], 2);
	CU_ASSERT_EQUAL(sum->txn[SIM_TXN_REFUSED], 2);
	CU_ASSERT_EQUAL(sum->txn[SIM_TXN_ABANDONED], 1);
	CU_ASSERT_EQUAL(sum->rows[0].txn[SIM_TXN_REFUSED], 1);
	CU_ASSERT_EQUAL(sum->rows[2].txn[SIM_TXN_REFUSED], 1);
	CU_ASSERT_EQUAL(sim_stats_txn_get(sum, 0, SIM_TXN_DEFERRED,
	    SIM_RK_RATE_IP), 2);
	CU_ASSERT_EQUAL(sim_stats_txn_get(sum, 0, SIM_TXN_ACCEPTED,
	    SIM_RK_DATA_OK), 0);		/* per reason: 4xx/5xx only */
	CU_ASSERT_EQUAL(sum->rejected, 3);

	memset(&m, 0, sizeof(m));
	m.world = w;
	m.stats = sum;
	text = met_prom_render(&m, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!test_has_line(text, want[i])) {
			CU_FAIL("line missing");
			fprintf(stderr, "\nmissing: %s\n", want[i]);
		}
	CU_ASSERT_PTR_NULL(strstr(text, "mxsim_transactions_total{provider="
	    "\"we"));
	free(text);

	text = NULL;
	fp = open_memstream(&text, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	sim_stats_print(sum, w, fp);
	fclose(fp);
	CU_ASSERT(test_has_line(text, "gmail      refused   rate.block"
	    "                550 5.7.28              1"));
	CU_ASSERT(test_has_line(text, "gmail      deferred  rate.ip"
	    "                   421 4.7.28              2"));
	CU_ASSERT(test_has_line(text, "gmail      abandoned -"
	    "                           - -                   1"));
	CU_ASSERT(test_has_line(text, "transactions: 3 accepted, 2 deferred "
	    "(4xx), 2 refused (5xx), 1 abandoned"));
	CU_ASSERT(strstr(text, "5xx replies 3\n") != NULL);
	free(text);
	sim_stats_free(a);
	sim_stats_free(b);
	sim_stats_free(sum);
	prof_world_free(w);
}

/* every sample follows its family's TYPE line */
static void
test_render_families(void)
{
	struct prof_world *w = mini_world();
	struct sim_stats *s = sim_stats_new(2);
	struct met_snapshot m;
	char *text, *line, *sp, fam[128], typed[4096] = "";
	size_t len, n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	feed(s, 0, SIM_RK_GREETING, 220, "", SIM_STAGE_CONNECT, 0, 1);
	memset(&m, 0, sizeof(m));
	m.world = w;
	m.stats = s;
	text = met_prom_render(&m, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	for (line = strtok_r(text, "\n", &sp); line != NULL;
	    line = strtok_r(NULL, "\n", &sp)) {
		if (sscanf(line, "# TYPE %127s", fam) == 1) {
			snprintf(typed + strlen(typed), sizeof(typed) -
			    strlen(typed), " %s", fam);
			continue;
		}
		if (line[0] == '#')
			continue;
		n = strcspn(line, "{ ");
		snprintf(fam, sizeof(fam), " %.*s", (int)n, line);
		/* histogram samples belong to the family without suffix */
		if (strstr(fam, "_bucket") || strstr(fam, "_sum") ||
		    strstr(fam, "_count"))
			*strrchr(fam, '_') = '\0';
		CU_ASSERT_PTR_NOT_NULL(strstr(typed, fam));
	}
	free(text);
	sim_stats_free(s);
	prof_world_free(w);
}

/* label escaping: \ " and LF; truncation never splits an escape */
static void
test_escape(void)
{
	static const struct {
		const char	*in;
		size_t		 outlen;
		const char	*want;
		size_t		 want_n;
	} cases[] = {
		{ "gmail", 64, "gmail", 5 },
		{ "", 64, "", 0 },
		{ "a\"b", 64, "a\\\"b", 4 },
		{ "a\\b", 64, "a\\\\b", 4 },
		{ "a\nb", 64, "a\\nb", 4 },
		{ "x\"\\\n", 64, "x\\\"\\\\\\n", 7 },
		{ "ab\"c", 4, "ab", 5 },	/* the escape does not fit */
		{ "ab\"c", 5, "ab\\\"", 5 },
		{ "abc", 1, "", 3 },
	};
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 'X', sizeof(out));
		CU_ASSERT_EQUAL(met_prom_escape(out, cases[i].outlen,
		    cases[i].in), cases[i].want_n);
		CU_ASSERT_STRING_EQUAL(out, cases[i].want);
	}
	CU_ASSERT_EQUAL(met_prom_escape(NULL, 0, "a\""), 3);
}

/* bucket k holds (max*k/10, max*(k+1)/10]; out-of-range scores clamp */
static void
test_rep_buckets(void)
{
	static const struct {
		double		 score;
		int		 bucket;
	} cases[] = {
		{ -1, 0 }, { 0, 0 }, { 10, 0 }, { 10.01, 1 }, { 55, 5 },
		{ 90, 8 }, { 99.9, 9 }, { 100, 9 }, { 250, 9 },
	};
	struct met_rep_hist h;
	size_t i;
	int b;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&h, 0, sizeof(h));
		met_rep_add(&h, cases[i].score, 100);
		for (b = 0; b < MET_REP_BUCKETS; b++)
			CU_ASSERT_EQUAL(h.bucket[b], b == cases[i].bucket);
		CU_ASSERT_EQUAL(h.count, 1);
		CU_ASSERT_DOUBLE_EQUAL(h.sum, cases[i].score, 1e-9);
	}
}

struct walk {
	size_t		 n[SIM_KEY__COUNT];
	uint32_t	 profs;		/* bit per profile seen */
	double		 rep_sum;
};

/* walk_visit - count what sim_state_foreach shows */
static void
walk_visit(void *ctx, enum sim_key_kind kind, uint32_t prof,
    const struct sim_entry *e)
{
	struct walk *wk = ctx;

	wk->n[kind]++;
	wk->profs |= 1u << prof;
	if (e->rep >= 0)
		wk->rep_sum += e->rep;
}

/* sim_state_foreach visits each entry once, with its kind and profile */
static void
test_state_foreach(void)
{
	struct sim_state *st = sim_state_new(1024, 1000);
	struct sim_entry *e;
	struct walk wk;
	char name[32];
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	for (i = 0; i < 40; i++) {
		e = sim_state_get(st, SIM_KEY_IP, (uint32_t)(i % 3),
		    0x7f000100u + (uint32_t)i, NULL, 10);
		CU_ASSERT_PTR_NOT_NULL_FATAL(e);
		if (i < 2)
			e->rep = 7.5;
		sim_state_put(st, e);
	}
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "d%d.example", i);
		sim_state_put(st, sim_state_get(st, SIM_KEY_DOMAIN, 4, 0, name,
		    10));
	}
	sim_state_put(st, sim_state_get(st, SIM_KEY_RCPT, 1, 0, "u@x", 10));
	memset(&wk, 0, sizeof(wk));
	sim_state_foreach(st, walk_visit, &wk);
	CU_ASSERT_EQUAL(wk.n[SIM_KEY_IP], 40);
	CU_ASSERT_EQUAL(wk.n[SIM_KEY_DOMAIN], 5);
	CU_ASSERT_EQUAL(wk.n[SIM_KEY_RCPT], 1);
	CU_ASSERT_EQUAL(wk.profs, 0x17u);	/* profiles 0, 1, 2 and 4 */
	CU_ASSERT_DOUBLE_EQUAL(wk.rep_sum, 15.0, 1e-9);
	CU_ASSERT_EQUAL(sim_state_count(st), 46);
	/* expired entries are not visited */
	sim_state_expire(st, 5000);
	memset(&wk, 0, sizeof(wk));
	sim_state_foreach(st, walk_visit, &wk);
	CU_ASSERT_EQUAL(wk.n[SIM_KEY_IP] + wk.n[SIM_KEY_DOMAIN] +
	    wk.n[SIM_KEY_RCPT], 0);
	sim_state_free(st);
}

int
test_met_prom_register(void)
{
	CU_pSuite s = CU_add_suite("met_prom", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "render exact lines", test_render) == NULL ||
	    CU_add_test(s, "every sample has a TYPE",
	    test_render_families) == NULL ||
	    CU_add_test(s, "transactions", test_transactions) == NULL ||
	    CU_add_test(s, "label escaping", test_escape) == NULL ||
	    CU_add_test(s, "reputation buckets", test_rep_buckets) == NULL ||
	    CU_add_test(s, "state walk", test_state_foreach) == NULL)
		return -1;
	return 0;
}
