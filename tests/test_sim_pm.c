/*
 * Tests of sim_pm, the Postmaster view's aggregator: every figure of a
 * row from synthetic events, the day split, the reputation of the day
 * whatever the order of reports, filters, bands, the row bound with its
 * overflow count, exact totals from two threads, and the seed table.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "sim_pm.h"
#include "sim_policy.h"
#include "test_suites.h"

#define DAY0	(20454ULL * SIM_PM_DAY_MS)	/* 2026-01-01 */
#define IP_A	0x7f000a01u			/* 127.0.10.1 */
#define IP_B	0x7f000a02u

/* ev_eod - an end-of-DATA event */
static struct sim_event
ev_eod(uint64_t sim_ms, uint32_t ip, const char *dom, uint16_t code,
    uint32_t nrcpts)
{
	struct sim_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.sim_ms = sim_ms;
	ev.prof = 0;
	ev.client_ip = ip;
	ev.sender_domain = dom;
	ev.stage = SIM_STAGE_EOD;
	ev.code = code;
	ev.enhanced = code >= 400 ? "4.7.28" : "2.0.0";
	ev.nrcpts = nrcpts;
	ev.domain_rep = -1;
	return ev;
}

/* find - the row of a key in a sorted copy, or NULL */
static const struct sim_pm_row *
find(const struct sim_pm_row *rows, long n, unsigned kind, uint64_t day,
    uint32_t ip, const char *dom)
{
	long i;

	for (i = 0; i < n; i++)
		if (rows[i].kind == kind && rows[i].day == day &&
		    rows[i].ip == ip && strcmp(rows[i].domain, dom) == 0)
			return &rows[i];
	return NULL;
}

/* every figure of one domain row and one IP row */
static void
test_figures(void)
{
	struct sim_pm *pm = sim_pm_new(0);
	struct sim_pm_row *rows;
	const struct sim_pm_row *d, *ip;
	struct sim_event ev;
	long n;

	CU_ASSERT_FATAL(pm != NULL);
	/* accepted, inbox, SPF+DKIM pass, TLS, 3 rcpts, 1 complaint, 2 seeds */
	ev = ev_eod(DAY0 + 1000, IP_A, "a.example", 250, 3);
	ev.spf = SIM_AUTH_PASS;
	ev.dkim = SIM_AUTH_PASS;
	ev.dmarc = SIM_AUTH_FAIL;
	ev.tls = true;
	ev.placement = SIM_PLACE_INBOX;
	ev.complaints = 1;
	ev.nseeds = 2;
	ev.ip_rep = 91.234;
	ev.domain_rep = 55.555;
	sim_pm_event(pm, &ev);
	/* accepted into spam, all pass, no TLS */
	ev = ev_eod(DAY0 + 2000, IP_A, "a.example", 250, 1);
	ev.spf = ev.dkim = ev.dmarc = SIM_AUTH_PASS;
	ev.placement = SIM_PLACE_SPAM;
	ev.nseeds = 1;
	ev.ip_rep = 80;
	ev.domain_rep = 50;
	sim_pm_event(pm, &ev);
	/* refused at end of DATA: counts in eod, auth, errors, not messages */
	ev = ev_eod(DAY0 + 3000, IP_A, "a.example", 451, 4);
	ev.spf = SIM_AUTH_PASS;
	ev.tls = true;
	ev.ip_rep = 1;			/* no folder: not a reputation */
	sim_pm_event(pm, &ev);
	/* a RCPT refusal: errors only */
	ev = ev_eod(DAY0 + 4000, IP_A, "a.example", 550, 0);
	ev.stage = SIM_STAGE_RCPT;
	ev.enhanced = "5.1.1";
	sim_pm_event(pm, &ev);
	/* a connect refusal: no domain, IP row only */
	ev = ev_eod(DAY0 + 5000, IP_A, NULL, 421, 0);
	ev.stage = SIM_STAGE_CONNECT;
	sim_pm_event(pm, &ev);
	/* a 2xx before end of DATA changes nothing */
	ev = ev_eod(DAY0 + 6000, IP_A, "a.example", 250, 0);
	ev.stage = SIM_STAGE_RCPT;
	sim_pm_event(pm, &ev);
	/* no MX: ignored */
	ev = ev_eod(DAY0 + 7000, IP_A, "a.example", 250, 1);
	ev.prof = UINT32_MAX;
	sim_pm_event(pm, &ev);
	/* the next day */
	ev = ev_eod(DAY0 + SIM_PM_DAY_MS, IP_A, "a.example", 250, 1);
	ev.placement = SIM_PLACE_PROMOTIONS;
	ev.ip_rep = 70;
	sim_pm_event(pm, &ev);

	n = sim_pm_rows(pm, NULL, &rows);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	d = find(rows, n, SIM_PM_DOMAIN, DAY0 / SIM_PM_DAY_MS, 0, "a.example");
	ip = find(rows, n, SIM_PM_IP, DAY0 / SIM_PM_DAY_MS, IP_A, "");
	CU_ASSERT_FATAL(d != NULL && ip != NULL);
	CU_ASSERT_EQUAL(d->messages, 2);
	CU_ASSERT_EQUAL(d->recipients, 4);
	CU_ASSERT_EQUAL(d->complaints, 1);
	CU_ASSERT_EQUAL(d->eod, 3);
	CU_ASSERT_EQUAL(d->spf_pass, 3);
	CU_ASSERT_EQUAL(d->dkim_pass, 2);
	CU_ASSERT_EQUAL(d->dmarc_pass, 1);
	CU_ASSERT_EQUAL(d->tls, 2);
	CU_ASSERT_EQUAL(d->placement[SIM_PLACE_INBOX], 1);
	CU_ASSERT_EQUAL(d->placement[SIM_PLACE_SPAM], 1);
	CU_ASSERT_EQUAL(d->placement[SIM_PLACE_PROMOTIONS], 0);
	CU_ASSERT_EQUAL(d->seeds[SIM_PLACE_INBOX], 2);
	CU_ASSERT_EQUAL(d->seeds[SIM_PLACE_SPAM], 1);
	CU_ASSERT_EQUAL(d->nerrors, 2);
	CU_ASSERT_EQUAL(d->errors[0].code, 451);
	CU_ASSERT_STRING_EQUAL(d->errors[0].enhanced, "4.7.28");
	CU_ASSERT_EQUAL(d->errors[0].count, 1);
	CU_ASSERT_EQUAL(d->errors[1].code, 550);
	CU_ASSERT_STRING_EQUAL(d->errors[1].enhanced, "5.1.1");
	/* the last folder-carrying event of the day, rounded as the log */
	CU_ASSERT_EQUAL(d->rep, 5000);
	CU_ASSERT_EQUAL(ip->rep, 8000);
	CU_ASSERT_EQUAL(ip->messages, 2);
	CU_ASSERT_EQUAL(ip->nerrors, 3);	/* + the connect refusal */
	CU_ASSERT_EQUAL(ip->errors[2].code, 421);
	/* day two: sorted after day one; its own figures */
	CU_ASSERT_EQUAL(rows[1].day, DAY0 / SIM_PM_DAY_MS + 1);
	CU_ASSERT_EQUAL(rows[1].placement[SIM_PLACE_PROMOTIONS], 1);
	CU_ASSERT_EQUAL(rows[1].rep, SIM_PM_NO_REP);	/* domain_rep -1 */
	CU_ASSERT_EQUAL(rows[3].rep, 7000);
	CU_ASSERT_EQUAL(sim_pm_overflow(pm), 0);
	free(rows);
	sim_pm_free(pm);
}

/* the day's reputation does not depend on the order of reports */
static void
test_rep_order(void)
{
	static const uint64_t ms[] = { 30, 10, 20, 20 };
	static const double rep[] = { 5.004, 4.996, 99, 60 };
	static const unsigned order[2][4] = { { 0, 1, 2, 3 }, { 3, 2, 1, 0 } };
	struct sim_pm *pm;
	struct sim_pm_row *rows;
	struct sim_event ev;
	unsigned o, i;

	for (o = 0; o < 2; o++) {
		pm = sim_pm_new(64);
		CU_ASSERT_FATAL(pm != NULL);
		for (i = 0; i < 4; i++) {
			ev = ev_eod(DAY0 + ms[order[o][i]], IP_B, NULL, 250, 1);
			ev.placement = SIM_PLACE_INBOX;
			ev.ip_rep = rep[order[o][i]];
			sim_pm_event(pm, &ev);
		}
		CU_ASSERT_EQUAL_FATAL(sim_pm_rows(pm, NULL, &rows), 1);
		/* the lowest of the day, where it was first seen: 5.004
		 * and 4.996 both print as 5.00 */
		CU_ASSERT_EQUAL(rows[0].rep, 500);
		CU_ASSERT_EQUAL(rows[0].rep_ms, DAY0 + 10);
		free(rows);
		sim_pm_free(pm);
	}
}

/* provider, day, domain and IP filters */
static void
test_filter(void)
{
	struct sim_pm *pm = sim_pm_new(0);
	struct sim_pm_filter f;
	struct sim_pm_row *rows;
	struct sim_event ev;
	long n;

	CU_ASSERT_FATAL(pm != NULL);
	ev = ev_eod(DAY0, IP_A, "a.example", 250, 1);
	sim_pm_event(pm, &ev);
	ev = ev_eod(DAY0 + SIM_PM_DAY_MS, IP_B, "b.example", 250, 1);
	ev.prof = 1;
	sim_pm_event(pm, &ev);
	CU_ASSERT_EQUAL(sim_pm_rows(pm, NULL, &rows), 4);
	free(rows);
	memset(&f, 0, sizeof(f));
	f.by_prof = true;
	f.prof = 1;
	n = sim_pm_rows(pm, &f, &rows);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT(n == 2 && rows[0].kind == SIM_PM_DOMAIN &&
	    strcmp(rows[0].domain, "b.example") == 0 && rows[1].ip == IP_B);
	free(rows);
	memset(&f, 0, sizeof(f));
	f.domain = "a.example";
	n = sim_pm_rows(pm, &f, &rows);
	CU_ASSERT(n == 1 && rows[0].kind == SIM_PM_DOMAIN);
	free(rows);
	f.by_ip = true;
	f.ip = IP_B;
	CU_ASSERT_EQUAL(sim_pm_rows(pm, &f, &rows), 2);
	free(rows);
	f.by_day = true;
	f.day = DAY0 / SIM_PM_DAY_MS;
	CU_ASSERT_EQUAL(sim_pm_rows(pm, &f, &rows), 1);
	free(rows);
	f.domain = "c.example";
	f.by_ip = false;
	CU_ASSERT_EQUAL(sim_pm_rows(pm, &f, &rows), 0);
	CU_ASSERT_PTR_NULL(rows);
	sim_pm_free(pm);
}

/* bands from the profile's thresholds */
static void
test_band(void)
{
	struct prof_reputation r;

	memset(&r, 0, sizeof(r));
	r.max = 100;
	r.temp_below = 40;
	r.block_below = 15;
	CU_ASSERT_EQUAL(sim_pm_high_from(&r), 70);
	CU_ASSERT_EQUAL(sim_pm_band(&r, 0), SIM_PM_BAND_BAD);
	CU_ASSERT_EQUAL(sim_pm_band(&r, 14.99), SIM_PM_BAND_BAD);
	CU_ASSERT_EQUAL(sim_pm_band(&r, 15), SIM_PM_BAND_LOW);
	CU_ASSERT_EQUAL(sim_pm_band(&r, 39.99), SIM_PM_BAND_LOW);
	CU_ASSERT_EQUAL(sim_pm_band(&r, 40), SIM_PM_BAND_MEDIUM);
	CU_ASSERT_EQUAL(sim_pm_band(&r, 69.99), SIM_PM_BAND_MEDIUM);
	CU_ASSERT_EQUAL(sim_pm_band(&r, 70), SIM_PM_BAND_HIGH);
	CU_ASSERT_EQUAL(sim_pm_band(&r, 100), SIM_PM_BAND_HIGH);
	CU_ASSERT_STRING_EQUAL(sim_pm_band_name(SIM_PM_BAND_MEDIUM), "Medium");
	CU_ASSERT_STRING_EQUAL(sim_pm_band_name((enum sim_pm_band)9), "?");
}

/* a fixed bound on rows; what finds no row is counted; errors per row
 * are bounded too */
static void
test_bound(void)
{
	struct sim_pm *pm = sim_pm_new(16);	/* one row per stripe */
	struct sim_pm_row *rows;
	struct sim_event ev;
	char dom[SIM_PM_DOMAIN_MAX + 8];
	long n, i, recorded = 0;
	uint64_t total = 0;

	CU_ASSERT_FATAL(pm != NULL);
	CU_ASSERT_EQUAL(sim_pm_max_rows(pm), 16);
	for (i = 0; i < 200; i++) {
		snprintf(dom, sizeof(dom), "d%ld.example", i);
		ev = ev_eod(DAY0, IP_A, dom, 250, 1);
		sim_pm_event(pm, &ev);
	}
	n = sim_pm_rows(pm, NULL, &rows);
	CU_ASSERT(n > 0 && n <= 16);
	for (i = 0; i < n; i++) {
		recorded += rows[i].kind == SIM_PM_DOMAIN;
		total += rows[i].messages;
	}
	/* 200 domain events and 200 IP events, each recorded or counted */
	CU_ASSERT_EQUAL(total + sim_pm_overflow(pm), 400);
	CU_ASSERT(sim_pm_overflow(pm) >= 200 - (uint64_t)recorded);
	free(rows);
	sim_pm_free(pm);

	pm = sim_pm_new(0);
	CU_ASSERT_FATAL(pm != NULL);
	memset(dom, 'x', SIM_PM_DOMAIN_MAX);
	dom[SIM_PM_DOMAIN_MAX] = '\0';
	ev = ev_eod(DAY0, IP_A, dom, 250, 1);
	sim_pm_event(pm, &ev);
	CU_ASSERT_EQUAL(sim_pm_overflow(pm), 1);	/* IP row still kept */
	for (i = 0; i < SIM_PM_MAX_ERRORS + 3; i++) {
		ev = ev_eod(DAY0, IP_A, NULL, (uint16_t)(400 + i), 0);
		sim_pm_event(pm, &ev);
	}
	CU_ASSERT_EQUAL_FATAL(sim_pm_rows(pm, NULL, &rows), 1);
	CU_ASSERT_EQUAL(rows[0].messages, 1);
	CU_ASSERT_EQUAL(rows[0].nerrors, SIM_PM_MAX_ERRORS);
	CU_ASSERT_EQUAL(rows[0].errors_other, 3);
	free(rows);
	sim_pm_free(pm);
}

#define THR_EVENTS	20000

/* feed - one thread's events */
static void *
feed(void *arg)
{
	struct sim_pm *pm = arg;
	struct sim_event ev;
	unsigned i;

	for (i = 0; i < THR_EVENTS; i++) {
		ev = ev_eod(DAY0 + i, IP_A + i % 7, i % 2 ? "a.example" :
		    "b.example", i % 5 ? 250 : 421, 2);
		ev.placement = ev.code == 250 ? SIM_PLACE_INBOX : 0;
		sim_pm_event(pm, &ev);
	}
	return NULL;
}

/* two threads: every event counted once */
static void
test_threads(void)
{
	struct sim_pm *pm = sim_pm_new(0);
	struct sim_pm_row *rows;
	pthread_t t[2];
	uint64_t msgs = 0, eod = 0, errs = 0;
	long n, i;

	CU_ASSERT_FATAL(pm != NULL);
	CU_ASSERT_FATAL(pthread_create(&t[0], NULL, feed, pm) == 0);
	CU_ASSERT_FATAL(pthread_create(&t[1], NULL, feed, pm) == 0);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	n = sim_pm_rows(pm, NULL, &rows);
	CU_ASSERT_EQUAL(n, 2 + 7);
	for (i = 0; i < n; i++) {
		if (rows[i].kind != SIM_PM_DOMAIN)
			continue;
		msgs += rows[i].messages;
		eod += rows[i].eod;
		errs += rows[i].errors[0].count;
	}
	CU_ASSERT_EQUAL(eod, 2 * THR_EVENTS);
	CU_ASSERT_EQUAL(msgs, 2 * THR_EVENTS * 4 / 5);
	CU_ASSERT_EQUAL(errs, 2 * THR_EVENTS / 5);
	free(rows);
	sim_pm_free(pm);
}

/* the seed-placement table */
static void
test_seeds(void)
{
	struct prof_world *w = prof_world_new();
	struct sim_pm *pm = sim_pm_new(0);
	struct sim_event ev;
	char buf[2048];
	FILE *fp;
	size_t len;

	CU_ASSERT_FATAL(w != NULL && pm != NULL);
	CU_ASSERT_FATAL(prof_world_add_profile(w,
	    prof_profile_new("gmail")) == 0);
	fp = tmpfile();
	CU_ASSERT_FATAL(fp != NULL);
	CU_ASSERT_EQUAL(sim_pm_print_seeds(pm, w, fp), 0);	/* no seeds */
	CU_ASSERT_EQUAL(ftell(fp), 0);
	ev = ev_eod(DAY0, IP_A, "s.example", 250, 4);
	ev.placement = SIM_PLACE_INBOX;
	ev.nseeds = 3;
	sim_pm_event(pm, &ev);
	ev = ev_eod(DAY0 + SIM_PM_DAY_MS, IP_A, "s.example", 250, 4);
	ev.placement = SIM_PLACE_SPAM;
	ev.nseeds = 1;
	sim_pm_event(pm, &ev);
	ev = ev_eod(DAY0, IP_A, "noseed.example", 250, 4);
	ev.placement = SIM_PLACE_INBOX;
	sim_pm_event(pm, &ev);
	CU_ASSERT_EQUAL(sim_pm_print_seeds(pm, w, fp), 1);
	rewind(fp);
	len = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[len] = '\0';
	fclose(fp);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "seed placement"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "gmail        s.example"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "   4    75.0%    25.0%"));
	CU_ASSERT_PTR_NULL(strstr(buf, "noseed"));
	sim_pm_free(pm);
	prof_world_free(w);
}

int
test_sim_pm_register(void)
{
	CU_pSuite s = CU_add_suite("sim_pm", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "figures", test_figures) == NULL ||
	    CU_add_test(s, "reputation order", test_rep_order) == NULL ||
	    CU_add_test(s, "filters", test_filter) == NULL ||
	    CU_add_test(s, "bands", test_band) == NULL ||
	    CU_add_test(s, "bound", test_bound) == NULL ||
	    CU_add_test(s, "threads", test_threads) == NULL ||
	    CU_add_test(s, "seed table", test_seeds) == NULL)
		return -1;
	return 0;
}
