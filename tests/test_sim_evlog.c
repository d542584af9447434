/*
 * Tests of sim_evlog: the exact JSON line for an event, escaping of
 * client-supplied strings, nulls, the authentication and placement keys
 * (issue 9), that close writes everything, and reopen (SIGHUP) after a
 * rename.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "sim_evlog.h"
#include "sim_place.h"
#include "sim_policy.h"
#include "test_suites.h"

/* read_all - a file's contents (caller frees) */
static char *
read_all(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	long n;

	if (fp == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = calloc(1, (size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	return buf;
}

/* A log in a temporary file, over a world of one profile "gmail". */
struct evfx {
	char		 path[32];
	struct prof_world *w;
	struct prof_profile *p;
	struct sim_evlog *log;
	struct sim_evlog_local *l;
};

/* evfx_open - the world, the file, the log and one worker's buffer */
static void
evfx_open(struct evfx *x)
{
	int fd, err = 0;

	snprintf(x->path, sizeof(x->path), "/tmp/mxsim-evlog-XXXXXX");
	x->w = prof_world_new();
	x->p = prof_profile_new("gmail");
	CU_ASSERT_FATAL(x->w != NULL && x->p != NULL);
	CU_ASSERT_FATAL(prof_world_add_profile(x->w, x->p) == 0);
	CU_ASSERT_FATAL((fd = mkstemp(x->path)) >= 0);
	close(fd);
	x->log = sim_evlog_open(x->path, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x->log);
	x->l = sim_evlog_local_new(x->log, x->w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x->l);
}

/* evfx_close - close the log; @return the file's text (caller frees) */
static char *
evfx_close(struct evfx *x, uint64_t *written, uint64_t *dropped)
{
	char *got;

	sim_evlog_local_free(x->l);
	CU_ASSERT_EQUAL(sim_evlog_close(x->log, written, dropped), 0);
	got = read_all(x->path);
	unlink(x->path);
	prof_world_free(x->w);
	return got;
}

/* two accepted messages, a refusal with hostile strings, two policy
 * refusals with their scores */
static void
test_lines(void)
{
	struct evfx x;
	struct prof_profile *p;
	struct sim_event ev;
	uint64_t written = 0, dropped = 1;
	char *got;

	evfx_open(&x);
	p = x.p;
	p->place.nrules = 3;
	strcpy(p->place.rules[0].name, "complaints.rate");
	strcpy(p->place.rules[1].name, "unused");
	strcpy(p->place.rules[2].name, "bulk.promotions");
	p->place.ncats = 2;
	strcpy(p->place.cats[0], "primary");
	strcpy(p->place.cats[1], "promotions");

	memset(&ev, 0, sizeof(ev));
	ev.wall_ms = 1767225600123ULL;	/* 2026-01-01T00:00:00.123Z */
	ev.sim_ms = 1767312000009ULL;	/* 2026-01-02T00:00:00.009Z */
	ev.session_id = 0xa1ULL;
	ev.prof = 0;
	ev.mx_ip = 0x7f010005;
	ev.client_ip = 0x7f000a01;
	ev.sender_domain = "auth.example";
	ev.stage = SIM_STAGE_EOD;
	ev.rk = SIM_RK_DATA_OK;
	ev.code = 250;
	ev.enhanced = "2.0.0";
	ev.nrcpts = 3;
	ev.tls = true;
	ev.spf = SIM_AUTH_PASS;
	ev.dkim = SIM_AUTH_FAIL;
	ev.placement = SIM_PLACE_SPAM;
	ev.place_rules = 0x5;
	ev.complaints = 1;
	ev.nseeds = 2;
	ev.ip_rep = 97.5;
	ev.domain_rep = -1;
	sim_evlog_write(x.l, &ev);
	ev.tls = false;
	ev.spf = SIM_AUTH_SOFTFAIL;
	ev.dkim = SIM_AUTH_PERMERROR;
	ev.dmarc = SIM_AUTH_TEMPERROR;
	ev.placement = SIM_PLACE_PROMOTIONS;
	ev.category = 2;
	ev.place_rules = 0;
	ev.complaints = 0;
	ev.nseeds = 0;
	ev.ip_rep = 0.004;
	ev.domain_rep = 100;
	sim_evlog_write(x.l, &ev);
	ev.sender_domain = NULL;
	ev.spf = SIM_AUTH_NEUTRAL;
	ev.dkim = 0;
	ev.dmarc = 0;
	ev.rcpt = "a\"b\\c\x01\xff@x";
	ev.stage = SIM_STAGE_RCPT;
	ev.rk = SIM_RK_USER_UNKNOWN;
	ev.code = 550;
	ev.enhanced = "";
	ev.nrcpts = 0;
	ev.session_id = UINT64_MAX;
	ev.prof = UINT32_MAX;
	sim_evlog_write(x.l, &ev);
	/* policy refusals carry the scores after the decision */
	ev.session_id = 0xa2ULL;
	ev.prof = 0;
	ev.rcpt = NULL;
	ev.sender_domain = "auth.example";
	ev.stage = SIM_STAGE_EOD;
	ev.rk = SIM_RK_RATE_IP;
	ev.code = 421;
	ev.enhanced = "4.7.28";
	ev.nrcpts = 1;
	ev.spf = 0;
	ev.placement = 0;
	ev.category = 0;
	ev.rep_set = true;
	ev.ip_rep = 41.5;
	ev.domain_rep = 63.254;
	sim_evlog_write(x.l, &ev);
	ev.sender_domain = NULL;
	ev.stage = SIM_STAGE_CONNECT;
	ev.rk = SIM_RK_REP_TEMP;
	ev.enhanced = "4.7.0";
	ev.nrcpts = 0;
	ev.domain_rep = -1;
	sim_evlog_write(x.l, &ev);
	got = evfx_close(&x, &written, &dropped);
	CU_ASSERT_EQUAL(written, 5);
	CU_ASSERT_EQUAL(dropped, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(got,
	    "{\"wall\":\"2026-01-01T00:00:00.123Z\","
	    "\"sim\":\"2026-01-02T00:00:00.009Z\","
	    "\"wall_ms\":1767225600123,\"sim_ms\":1767312000009,"
	    "\"session\":\"00000000000000a1\",\"provider\":\"gmail\","
	    "\"mx\":\"127.1.0.5\",\"client\":\"127.0.10.1\","
	    "\"sender_domain\":\"auth.example\",\"rcpt\":null,"
	    "\"stage\":\"eod\",\"code\":250,\"enhanced\":\"2.0.0\","
	    "\"reason\":\"ok.message\",\"nrcpts\":3,"
	    "\"tls\":true,\"spf\":\"pass\",\"dkim\":\"fail\",\"dmarc\":null,"
	    "\"placement\":\"spam\",\"category\":null,"
	    "\"place_rules\":[\"complaints.rate\",\"bulk.promotions\"],"
	    "\"complaints\":1,\"seeds\":2,\"ip_rep\":97.50,"
	    "\"domain_rep\":null}\n"
	    "{\"wall\":\"2026-01-01T00:00:00.123Z\","
	    "\"sim\":\"2026-01-02T00:00:00.009Z\","
	    "\"wall_ms\":1767225600123,\"sim_ms\":1767312000009,"
	    "\"session\":\"00000000000000a1\",\"provider\":\"gmail\","
	    "\"mx\":\"127.1.0.5\",\"client\":\"127.0.10.1\","
	    "\"sender_domain\":\"auth.example\",\"rcpt\":null,"
	    "\"stage\":\"eod\",\"code\":250,\"enhanced\":\"2.0.0\","
	    "\"reason\":\"ok.message\",\"nrcpts\":3,"
	    "\"tls\":false,\"spf\":\"softfail\",\"dkim\":\"permerror\","
	    "\"dmarc\":\"temperror\","
	    "\"placement\":\"promotions\",\"category\":\"promotions\","
	    "\"place_rules\":[],\"complaints\":0,\"seeds\":0,"
	    "\"ip_rep\":0.00,\"domain_rep\":100.00}\n"
	    "{\"wall\":\"2026-01-01T00:00:00.123Z\","
	    "\"sim\":\"2026-01-02T00:00:00.009Z\","
	    "\"wall_ms\":1767225600123,\"sim_ms\":1767312000009,"
	    "\"session\":\"ffffffffffffffff\",\"provider\":null,"
	    "\"mx\":\"127.1.0.5\",\"client\":\"127.0.10.1\","
	    "\"sender_domain\":null,"
	    "\"rcpt\":\"a\\\"b\\\\c\\u0001\\u00ff@x\","
	    "\"stage\":\"rcpt\",\"code\":550,\"enhanced\":null,"
	    "\"reason\":\"user.unknown\",\"nrcpts\":0,"
	    "\"tls\":false,\"spf\":\"neutral\",\"dkim\":null,\"dmarc\":null,"
	    "\"placement\":null,\"category\":null,\"place_rules\":null,"
	    "\"complaints\":null,\"seeds\":null,\"ip_rep\":null,"
	    "\"domain_rep\":null}\n"
	    "{\"wall\":\"2026-01-01T00:00:00.123Z\","
	    "\"sim\":\"2026-01-02T00:00:00.009Z\","
	    "\"wall_ms\":1767225600123,\"sim_ms\":1767312000009,"
	    "\"session\":\"00000000000000a2\",\"provider\":\"gmail\","
	    "\"mx\":\"127.1.0.5\",\"client\":\"127.0.10.1\","
	    "\"sender_domain\":\"auth.example\",\"rcpt\":null,"
	    "\"stage\":\"eod\",\"code\":421,\"enhanced\":\"4.7.28\","
	    "\"reason\":\"rate.ip\",\"nrcpts\":1,"
	    "\"tls\":false,\"spf\":null,\"dkim\":null,\"dmarc\":null,"
	    "\"placement\":null,\"category\":null,\"place_rules\":null,"
	    "\"complaints\":null,\"seeds\":null,\"ip_rep\":41.50,"
	    "\"domain_rep\":63.25}\n"
	    "{\"wall\":\"2026-01-01T00:00:00.123Z\","
	    "\"sim\":\"2026-01-02T00:00:00.009Z\","
	    "\"wall_ms\":1767225600123,\"sim_ms\":1767312000009,"
	    "\"session\":\"00000000000000a2\",\"provider\":\"gmail\","
	    "\"mx\":\"127.1.0.5\",\"client\":\"127.0.10.1\","
	    "\"sender_domain\":null,\"rcpt\":null,"
	    "\"stage\":\"connect\",\"code\":421,\"enhanced\":\"4.7.0\","
	    "\"reason\":\"reputation.temp\",\"nrcpts\":0,"
	    "\"tls\":false,\"spf\":null,\"dkim\":null,\"dmarc\":null,"
	    "\"placement\":null,\"category\":null,\"place_rules\":null,"
	    "\"complaints\":null,\"seeds\":null,\"ip_rep\":41.50,"
	    "\"domain_rep\":null}\n");
	free(got);
}

/* the longest line: 32 rules of the longest name, hostile 700-byte
 * strings; one line, whole, valid length */
static void
test_long(void)
{
	struct evfx x;
	struct prof_profile *p;
	struct sim_event ev;
	char big[1000], *got, *nl;
	size_t i, commas = 0;

	evfx_open(&x);
	p = x.p;
	p->place.nrules = SIM_PLACE_MAX_RULES;
	for (i = 0; i < SIM_PLACE_MAX_RULES; i++) {
		memset(p->place.rules[i].name, 'r', SIM_PLACE_NAME_MAX - 1);
		p->place.rules[i].name[SIM_PLACE_NAME_MAX - 1] = '\0';
	}
	memset(big, '"', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memset(&ev, 0, sizeof(ev));
	ev.sender_domain = big;
	ev.rcpt = big;
	ev.stage = SIM_STAGE_EOD;
	ev.rk = SIM_RK_DATA_OK;
	ev.code = 250;
	ev.enhanced = "2.0.0";
	ev.placement = SIM_PLACE_SPAM;
	ev.place_rules = UINT32_MAX;
	ev.complaints = UINT32_MAX;
	ev.nseeds = UINT32_MAX;
	ev.ip_rep = 1e9;
	ev.domain_rep = 1e12;		/* out of range: null */
	sim_evlog_write(x.l, &ev);
	got = evfx_close(&x, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	nl = strchr(got, '\n');
	CU_ASSERT_PTR_NOT_NULL(nl);
	CU_ASSERT(nl != NULL && nl[1] == '\0');
	CU_ASSERT(strlen(got) < 4096);
	CU_ASSERT_PTR_NOT_NULL(strstr(got, "\"domain_rep\":null}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(got, "\"ip_rep\":1000000000.00,"));
	for (nl = strstr(got, "\"place_rules\":["); nl != NULL && *nl != ']';
	    nl++)
		commas += *nl == ',';
	CU_ASSERT_EQUAL(commas, SIM_PLACE_MAX_RULES - 1);
	free(got);
}

/* count_lines - newlines in a file's text; -1 when it cannot be read */
static int
count_lines(const char *path)
{
	char *t = read_all(path), *p;
	int n = 0;

	if (t == NULL)
		return -1;
	for (p = t; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	free(t);
	return n;
}

/* reopen after a rename (logrotate): what was handed over before stays
 * in the renamed file, even if the writer had not written it yet; what
 * follows goes to a new file at the path; the counts add up */
static void
test_reopen(void)
{
	struct evfx x;
	struct sim_event ev;
	char old[48];
	uint64_t written = 0, dropped = 0;
	char *got;
	int i;

	evfx_open(&x);
	snprintf(old, sizeof(old), "%s.1", x.path);
	memset(&ev, 0, sizeof(ev));
	ev.stage = SIM_STAGE_CONNECT;
	ev.rk = SIM_RK_GREETING;
	ev.code = 220;
	ev.enhanced = "";
	for (i = 0; i < 3; i++)
		sim_evlog_write(x.l, &ev);
	sim_evlog_flush(x.l, 0);
	CU_ASSERT_EQUAL_FATAL(rename(x.path, old), 0);
	CU_ASSERT_EQUAL(sim_evlog_reopen(x.log), 0);
	for (i = 0; i < 2; i++)
		sim_evlog_write(x.l, &ev);
	got = evfx_close(&x, &written, &dropped);
	CU_ASSERT_PTR_NOT_NULL(got);
	CU_ASSERT(got != NULL && strchr(got, '\n') != NULL &&
	    strchr(strchr(got, '\n') + 1, '\n') != NULL);
	CU_ASSERT_EQUAL(count_lines(old), 3);
	CU_ASSERT_EQUAL(written, 5u);
	CU_ASSERT_EQUAL(dropped, 0u);
	free(got);
	unlink(old);
}

int
test_sim_evlog_register(void)
{
	CU_pSuite s = CU_add_suite("sim_evlog", NULL, NULL);

	if (s == NULL || CU_add_test(s, "exact lines", test_lines) == NULL ||
	    CU_add_test(s, "longest line", test_long) == NULL ||
	    CU_add_test(s, "reopen after rename", test_reopen) == NULL)
		return -1;
	return 0;
}
