/*
 * DESCRIPTION
 *	CUnit tests of the I/O-free harness modules: the reply parser
 *	(multi-line, split and pipelined input, garbage), the tally table
 *	and its printer, the latency histogram (known distributions against
 *	exact quantiles, bucket bounds, merge), the per-second CSV series,
 *	the message generator
 *	(exact size, line length, dot-stuffing), the option parsers, and
 *	the client aborts of --abort-prob: plans, counts, message log, and
 *	the engine carrying them out against a real mxsim server on
 *	127.9.1.1 (sink profile, a free port), and --retry: the schedule
 *	grammar, presets and delays, the retry queue's order, the
 *	per-message outcome counts and their reports.
 *	Run as "hx_tests"; exits non-zero when a test fails.
 *
 * DIAGNOSTICS
 *	Failures are reported by CUnit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "test_suites.h"

#include <math.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ev_server.h"
#include "hx_hist.h"
#include "hx_load.h"
#include "hx_msg.h"
#include "hx_opt.h"
#include "hx_reply.h"
#include "hx_retry.h"
#include "hx_sched.h"
#include "hx_series.h"
#include "hx_tally.h"
#include "prof_load.h"
#include "sim_rng.h"

#define HIST_N		200000	/* values per known distribution */

/* One whole-buffer parser case. */
struct reply_case {
	const char	*in;
	int		 rc;		/* enum hx_reply_rc of the first call */
	unsigned	 code;
	const char	*enh;
	const char	*text;
	unsigned	 flags;
};

static const struct reply_case reply_cases[] = {
	{ "250 OK\r\n", HX_REPLY_OK, 250, "", "OK", 0 },
	{ "220\r\n", HX_REPLY_OK, 220, "", "", 0 },
	{ "250 2.0.0 OK <x> - gsmtp\n", HX_REPLY_OK, 250, "2.0.0",
	    "OK <x> - gsmtp", 0 },
	{ "421-4.7.28 Gmail has detected\r\n421-4.7.28 an unusual rate\r\n"
	    "421 4.7.28 of mail. - gsmtp\r\n", HX_REPLY_OK, 421, "4.7.28",
	    "Gmail has detected an unusual rate of mail. - gsmtp", 0 },
	{ "451 4.7.650 The mail server [1.2.3.4] has been temporarily rate "
	    "limited\r\n", HX_REPLY_OK, 451, "4.7.650",
	    "The mail server [1.2.3.4] has been temporarily rate limited", 0 },
	{ "421 4.7.0 [TSS04] Messages deferred\r\n", HX_REPLY_OK, 421,
	    "4.7.0", "[TSS04] Messages deferred", 0 },
	{ "250-mx hello\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"
	    "250 8BITMIME\r\n", HX_REPLY_OK, 250, "",
	    "mx hello PIPELINING SIZE 1000 8BITMIME",
	    HX_REPLY_F_PIPELINING | HX_REPLY_F_SIZE },
	{ "550 5.1.1\r\n", HX_REPLY_OK, 550, "5.1.1", "", 0 },
	{ "550 5.1.1x text\r\n", HX_REPLY_OK, 550, "", "5.1.1x text", 0 },
	{ "250-a\r\n", HX_REPLY_AGAIN, 250, "", "a", 0 },
	{ "250 partial", HX_REPLY_AGAIN, 0, "", "", 0 },
	{ "hello\r\n", HX_REPLY_INVALID, 0, "", "", 0 },
	{ "25\r\n", HX_REPLY_INVALID, 0, "", "", 0 },
	{ "250x\r\n", HX_REPLY_INVALID, 0, "", "", 0 },
	{ "250-a\r\n251 b\r\n", HX_REPLY_INVALID, 250, "", "a", 0 },
};

/* test_reply_cases - table of whole-buffer parses */
static void
test_reply_cases(void)
{
	const struct reply_case *c;
	struct hx_reply rp;
	size_t i, used;
	int rc;

	for (i = 0; i < sizeof(reply_cases) / sizeof(reply_cases[0]); i++) {
		c = &reply_cases[i];
		hx_reply_reset(&rp);
		rc = hx_reply_parse(&rp, c->in, strlen(c->in), &used);
		CU_ASSERT_EQUAL(rc, c->rc);
		if (rc == HX_REPLY_INVALID)
			continue;
		CU_ASSERT_EQUAL(rp.code, c->code);
		CU_ASSERT_STRING_EQUAL(rp.enh, c->enh);
		CU_ASSERT_STRING_EQUAL(rp.text, c->text);
		CU_ASSERT_EQUAL(rp.flags, c->flags);
		if (rc == HX_REPLY_OK)
			CU_ASSERT_EQUAL(used, strlen(c->in));
	}
}

/* test_reply_split - every split point of a multi-line reply */
static void
test_reply_split(void)
{
	static const char in[] = "421-4.7.28 one\r\n421-4.7.28 two\r\n"
	    "421 4.7.28 three\r\n";
	char buf[sizeof(in)];
	struct hx_reply rp;
	size_t cut, len, used, fed;
	int rc;

	for (cut = 0; cut < sizeof(in) - 1; cut++) {
		hx_reply_reset(&rp);
		/* first read: bytes [0, cut); second: the rest */
		memcpy(buf, in, cut);
		len = cut;
		rc = hx_reply_parse(&rp, buf, len, &used);
		CU_ASSERT_EQUAL(rc, HX_REPLY_AGAIN);
		memmove(buf, buf + used, len - used);
		len -= used;
		fed = sizeof(in) - 1 - cut;
		memcpy(buf + len, in + cut, fed);
		len += fed;
		rc = hx_reply_parse(&rp, buf, len, &used);
		CU_ASSERT_EQUAL(rc, HX_REPLY_OK);
		CU_ASSERT_EQUAL(used, len);
		CU_ASSERT_EQUAL(rp.code, 421);
		CU_ASSERT_STRING_EQUAL(rp.enh, "4.7.28");
		CU_ASSERT_STRING_EQUAL(rp.text, "one two three");
	}
}

/* test_reply_pipelined - several replies in one buffer, one per call */
static void
test_reply_pipelined(void)
{
	static const char in[] = "250 2.1.0 OK\r\n550-5.1.1 no\r\n"
	    "550 5.1.1 such user\r\n354 go\r\n";
	static const unsigned want[] = { 250, 550, 354 };
	struct hx_reply rp;
	size_t off, used, i;
	int rc;

	off = 0;
	for (i = 0; i < 3; i++) {
		hx_reply_reset(&rp);
		rc = hx_reply_parse(&rp, in + off, sizeof(in) - 1 - off, &used);
		CU_ASSERT_EQUAL_FATAL(rc, HX_REPLY_OK);
		CU_ASSERT_EQUAL(rp.code, want[i]);
		off += used;
	}
	CU_ASSERT_EQUAL(off, sizeof(in) - 1);
	CU_ASSERT_STRING_EQUAL(rp.text, "go");
}

/* test_reply_truncate - long joined text is cut, never overflowed */
static void
test_reply_truncate(void)
{
	char in[2048];
	struct hx_reply rp;
	size_t used, n;
	int i;

	n = 0;
	for (i = 0; i < 20; i++)
		n += (size_t)snprintf(in + n, sizeof(in) - n,
		    "421-4.7.0 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n");
	n += (size_t)snprintf(in + n, sizeof(in) - n, "421 4.7.0 end\r\n");
	hx_reply_reset(&rp);
	CU_ASSERT_EQUAL(hx_reply_parse(&rp, in, n, &used), HX_REPLY_OK);
	CU_ASSERT_EQUAL(rp.textlen, HX_REPLY_TEXT_MAX - 1);
	CU_ASSERT_EQUAL(strlen(rp.text), HX_REPLY_TEXT_MAX - 1);
	CU_ASSERT_EQUAL(rp.nlines, 21);
}

/* test_tally_rows - counting, first text kept, print order */
static void
test_tally_rows(void)
{
	static const char *const names[] = { "gmail", "yahoo" };
	struct hx_summary s;
	struct hx_tally *t;
	char *out, *p[6];
	size_t len;
	FILE *fp;
	int i;

	t = hx_tally_create(2, 16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(hx_tally_add(t, 1, HX_STAGE_MAIL, 421, "4.7.0",
	    "[TSS04] Messages deferred"), 0);
	CU_ASSERT_EQUAL(hx_tally_add(t, 0, HX_STAGE_EOD, 421, "4.7.28",
	    "first"), 0);
	CU_ASSERT_EQUAL(hx_tally_add(t, 0, HX_STAGE_EOD, 421, "4.7.28",
	    "second"), 0);
	CU_ASSERT_EQUAL(hx_tally_add(t, 0, HX_STAGE_RCPT, 550, "5.1.1",
	    "no such user"), 0);
	CU_ASSERT_EQUAL(hx_tally_add(t, 0, HX_STAGE_EOD, 250, "2.0.0", "OK"),
	    0);
	CU_ASSERT_EQUAL(hx_tally_add(t, 0, HX_STAGE_CONNECT, 0, NULL,
	    "connect refused"), 0);
	CU_ASSERT_EQUAL(hx_tally_add(t, 2, HX_STAGE_EOD, 250, "", ""),
	    -EINVAL);
	CU_ASSERT_EQUAL(t->nrows, 5);
	CU_ASSERT_EQUAL(t->errors, 1);
	hx_tally_outcome(t, 0, HX_OUT_ACCEPTED);
	hx_tally_outcome(t, 1, HX_OUT_DEFERRED);
	CU_ASSERT_EQUAL(hx_tally_messages(t), 2);

	memset(&s, 0, sizeof(s));
	s.elapsed = 2.0;
	s.connections = 2;
	out = NULL;
	fp = open_memstream(&out, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	CU_ASSERT_EQUAL(hx_tally_print(t, &s, names, fp), 0);
	fclose(fp);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "mxload: 2 messages in 2.00 s "
	    "(1.0 msg/s), 2 connections, 1 errors"));
	p[0] = strstr(out, "gmail   connect");
	p[1] = strstr(out, "gmail   rcpt");
	p[2] = strstr(out, "gmail   eod     250");
	p[3] = strstr(out, "gmail   eod     421  4.7.28            2  first");
	p[4] = strstr(out, "yahoo   mail    421  4.7.0");
	p[5] = out + len;
	for (i = 0; i < 5; i++) {
		CU_ASSERT_PTR_NOT_NULL(p[i]);
		if (p[i] != NULL && p[i + 1] != NULL)
			CU_ASSERT_TRUE(p[i] < p[i + 1]);
	}
	free(out);
	hx_tally_free(t);
}

/* test_tally_full - a full table refuses and counts, never grows */
static void
test_tally_full(void)
{
	struct hx_tally *t;
	unsigned code;
	int full;

	t = hx_tally_create(1, 4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	full = 0;
	for (code = 400; code < 500; code++)
		if (hx_tally_add(t, 0, HX_STAGE_EOD, code, "", "x") == -ENOSPC)
			full++;
	CU_ASSERT_TRUE(full > 0);
	CU_ASSERT_EQUAL(t->dropped, (uint64_t)full);
	CU_ASSERT_EQUAL(t->nrows + (size_t)full, 100);
	CU_ASSERT_TRUE(t->nrows <= t->cap * 3 / 4);
	hx_tally_free(t);
}

/* test_hist - quantiles within the bucket error */
static void
test_hist(void)
{
	struct hx_hist *h;
	uint64_t v, q;

	h = calloc(1, sizeof(*h));
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL(hx_hist_quantile(h, 0.5), 0);
	for (v = 1; v <= 10000; v++)
		hx_hist_add(h, v);
	CU_ASSERT_EQUAL(h->count, 10000);
	CU_ASSERT_EQUAL(h->min, 1);
	q = hx_hist_quantile(h, 0.5);
	CU_ASSERT_TRUE(q >= 5000 * 98 / 100 && q <= 5000 * 102 / 100);
	q = hx_hist_quantile(h, 0.99);
	CU_ASSERT_TRUE(q >= 9900 * 98 / 100 && q <= 10000);
	CU_ASSERT_EQUAL(hx_hist_quantile(h, 1.0), 10000);
	CU_ASSERT_EQUAL(hx_hist_quantile(h, 0.0), 1);
	hx_hist_reset(h);
	CU_ASSERT_EQUAL(h->count, 0);
	hx_hist_add(h, 7);
	CU_ASSERT_EQUAL(hx_hist_quantile(h, 0.9), 7);
	hx_hist_add(h, UINT64_MAX);
	CU_ASSERT_EQUAL(hx_hist_quantile(h, 1.0), UINT64_MAX);
	CU_ASSERT_EQUAL(hx_hist_index(UINT64_MAX), HX_HIST_BUCKETS - 1);
	free(h);
}

/* test_hist_bounds - buckets tile the uint64_t range, values inside */
static void
test_hist_bounds(void)
{
	struct sim_rng rng;
	uint64_t lo, hi, plo, phi, v;
	unsigned i, bits;
	int bad;

	bad = 0;
	hx_hist_bounds(0, &plo, &phi);
	CU_ASSERT_EQUAL(plo, 0);
	for (i = 1; i < HX_HIST_BUCKETS; i++) {
		hx_hist_bounds(i, &lo, &hi);
		if (lo != phi + 1 || hi < lo || hx_hist_index(lo) != i ||
		    hx_hist_index(hi) != i)
			bad++;
		/* width <= lo / SUB: the relative error bound */
		if (i >= HX_HIST_SUB && (hi - lo + 1) > lo / HX_HIST_SUB)
			bad++;
		phi = hi;
	}
	CU_ASSERT_EQUAL(phi, UINT64_MAX);
	sim_rng_seed(&rng, 7, 1);
	for (i = 0; i < 100000; i++) {
		bits = (unsigned)sim_rng_below(&rng, 64) + 1;
		v = sim_rng_next(&rng) >> (64 - bits);
		hx_hist_bounds(hx_hist_index(v), &lo, &hi);
		if (v < lo || v > hi)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* u64_cmp - qsort order of uint64_t */
static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * hist_check - fill a histogram with @p v (n values), compare every
 * quantile with the exact one from the sorted values: the estimate must
 * lie in the exact value's bucket widened by half a bucket (<= 1/64
 * relative), and the count of failures is returned.
 */
static int
hist_check(uint64_t *v, size_t n)
{
	static const double qs[] = { 0.001, 0.25, 0.5, 0.9, 0.99, 0.999,
	    0.9999 };
	struct hx_hist *h;
	uint64_t exact, est, lo, hi;
	size_t i, k;
	int bad;

	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -1;
	for (i = 0; i < n; i++)
		hx_hist_add(h, v[i]);
	qsort(v, n, sizeof(*v), u64_cmp);
	bad = 0;
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		k = (size_t)ceil(qs[i] * (double)n);
		exact = v[k - 1];
		est = hx_hist_quantile(h, qs[i]);
		hx_hist_bounds(hx_hist_index(exact), &lo, &hi);
		if (est < lo || est > hi)
			bad++;
		if (fabs((double)est - (double)exact) >
		    (double)exact / (2.0 * HX_HIST_SUB) + 1)
			bad++;
	}
	if (hx_hist_quantile(h, 1.0) != v[n - 1] ||
	    hx_hist_quantile(h, 0.0) != v[0])
		bad++;
	free(h);
	return bad;
}

/* test_hist_known - uniform, exponential, log-normal and bimodal data */
static void
test_hist_known(void)
{
	struct sim_rng rng;
	uint64_t *v;
	double u, g;
	size_t i;

	v = calloc(HIST_N, sizeof(*v));
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	sim_rng_seed(&rng, 42, 3);
	for (i = 0; i < HIST_N; i++)		/* uniform 0..1e6 us */
		v[i] = sim_rng_below(&rng, 1000001);
	CU_ASSERT_EQUAL(hist_check(v, HIST_N), 0);
	for (i = 0; i < HIST_N; i++) {		/* exponential, mean 2 ms */
		u = sim_rng_double(&rng);
		v[i] = (uint64_t)(-2000.0 * log(1.0 - u));
	}
	CU_ASSERT_EQUAL(hist_check(v, HIST_N), 0);
	for (i = 0; i < HIST_N; i++) {		/* log-normal, heavy tail */
		u = sim_rng_double(&rng);
		g = sqrt(-2.0 * log(1.0 - u)) *
		    cos(2.0 * M_PI * sim_rng_double(&rng));
		v[i] = (uint64_t)exp(7.0 + 1.5 * g);
	}
	CU_ASSERT_EQUAL(hist_check(v, HIST_N), 0);
	for (i = 0; i < HIST_N; i++)		/* 99% ~100 us, 1% ~1 s */
		v[i] = i % 100 == 0 ? 1000000 + sim_rng_below(&rng, 1000) :
		    100 + sim_rng_below(&rng, 10);
	CU_ASSERT_EQUAL(hist_check(v, HIST_N), 0);
	free(v);
}

/* test_hist_merge - merging halves equals adding everything to one */
static void
test_hist_merge(void)
{
	struct hx_hist *a, *b, *all;
	struct sim_rng rng;
	uint64_t v;
	unsigned i;

	a = calloc(1, sizeof(*a));
	b = calloc(1, sizeof(*b));
	all = calloc(1, sizeof(*all));
	CU_ASSERT_FATAL(a != NULL && b != NULL && all != NULL);
	sim_rng_seed(&rng, 9, 9);
	for (i = 0; i < 50000; i++) {
		v = sim_rng_below(&rng, i % 2 ? 5000 : 5000000);
		hx_hist_add(i % 3 ? a : b, v);
		hx_hist_add(all, v);
	}
	hx_hist_merge(a, b);
	CU_ASSERT_EQUAL(a->count, all->count);
	CU_ASSERT_EQUAL(a->min, all->min);
	CU_ASSERT_EQUAL(a->max, all->max);
	CU_ASSERT_EQUAL(memcmp(a->bucket, all->bucket, sizeof(a->bucket)), 0);
	CU_ASSERT_EQUAL(hx_hist_quantile(a, 0.999),
	    hx_hist_quantile(all, 0.999));
	hx_hist_reset(b);
	hx_hist_merge(b, all);			/* into an empty one */
	CU_ASSERT_EQUAL(b->min, all->min);
	free(a);
	free(b);
	free(all);
}

/* starts - does s begin with prefix */
static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* test_series - rows per second, empty rows, percentiles, header */
static void
test_series(void)
{
	struct hx_series *s;
	char *out, *line, *save, *rows[8];
	size_t len, n;
	FILE *fp;
	int cols;
	const char *p;

	out = NULL;
	fp = open_memstream(&out, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	CU_ASSERT_PTR_NULL(hx_series_create(fp, 10));
	s = hx_series_create(fp, 1000000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(hx_series_start(s, 5000000, 1700000000123ULL), 0);
	CU_ASSERT_EQUAL(hx_series_next(s), 6000000);
	hx_series_sent(s, 5100000);
	hx_series_sent(s, 5150000);
	hx_series_latency(s, 5200000, HX_STAGE_CONNECT, 250);
	hx_series_latency(s, 5250000, HX_STAGE_EOD, 1500);
	hx_series_outcome(s, 5300000, HX_OUT_ACCEPTED);
	hx_series_outcome(s, 5400000, HX_OUT_DEFERRED);
	hx_series_latency(s, 5400000, HX_STAGE_RSET, 99);  /* not a column */
	CU_ASSERT_EQUAL(hx_series_tick(s, 5999999), 0);
	hx_series_outcome(s, 7500000, HX_OUT_REJECTED);   /* row 1 empty */
	hx_series_outcome(s, 7600000, HX_OUT_ERROR);
	CU_ASSERT_EQUAL(hx_series_finish(s, 7700000), 0);
	hx_series_free(s);
	fclose(fp);
	n = 0;
	for (line = strtok_r(out, "\n", &save); line != NULL && n < 8;
	    line = strtok_r(NULL, "\n", &save))
		rows[n++] = line;
	CU_ASSERT_EQUAL_FATAL(n, 4);
	cols = 1;
	for (p = rows[0]; *p != '\0'; p++)
		cols += *p == ',';
	CU_ASSERT_EQUAL(cols, 7 + 5 * HX_SERIES_STAGES);
	CU_ASSERT_PTR_NOT_NULL(strstr(rows[0], "time,elapsed,sent,accepted,"
	    "deferred,rejected,errors,connect_n,connect_p50_ms,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(rows[0], ",eod_p999_ms"));
	CU_ASSERT_TRUE(starts(rows[1], "1700000000.123,0.000,2,1,1,0,0,"
	    "1,0.250,0.250,0.250,0.250,0,,,,,0,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(rows[1], ",1,1.500,1.500,1.500,1.500"));
	CU_ASSERT_TRUE(starts(rows[2], "1700000001.123,1.000,0,0,0,0,0,"
	    "0,,,,,"));
	CU_ASSERT_TRUE(starts(rows[3], "1700000002.123,2.000,0,0,0,1,1,"));
	free(out);
}

/* msg_check - generate a message and check size, lines and stuffing */
static void
msg_check(uint64_t size, size_t chunk)
{
	struct hx_msg_hdr h;
	struct hx_msg m;
	char hdr[1024], *wire, *line;
	size_t wlen, cap, n, i, start, ll;
	uint64_t unstuffed;
	int hl, dots;

	memset(&h, 0, sizeof(h));
	h.seq = 42;
	h.from_domain = "example.com";
	h.rcpt_user = 7;
	h.rcpt_domain = "example.net";
	h.helo = "mxload.test";
	h.date = "Mon, 01 Jan 2024 00:00:00 +0000";
	hl = hx_msg_header(hdr, sizeof(hdr), &h);
	CU_ASSERT_FATAL(hl > 0);
	hx_msg_start(&m, hdr, (size_t)hl, size);
	cap = size * 2 + 4096;
	wire = malloc(cap);
	CU_ASSERT_PTR_NOT_NULL_FATAL(wire);
	wlen = 0;
	while (!m.done) {
		n = hx_msg_fill(&m, wire + wlen, chunk);
		CU_ASSERT_FATAL(n > 0 && wlen + chunk <= cap);
		wlen += n;
	}
	/* ends with CRLF . CRLF; unstuff and count */
	CU_ASSERT_TRUE(wlen >= 5 &&
	    memcmp(wire + wlen - 5, "\r\n.\r\n", 5) == 0);
	unstuffed = 0;
	dots = 0;
	for (start = 0; start < wlen - 3; start = i + 1) {
		for (i = start; wire[i] != '\n'; i++)
			;
		line = wire + start;
		ll = i + 1 - start;
		CU_ASSERT_TRUE(ll >= 2 && line[ll - 2] == '\r');
		if (line[0] == '.') {
			CU_ASSERT_TRUE(ll >= 4 && line[1] == '.');
			line++;
			ll--;
			dots++;
		}
		CU_ASSERT_TRUE(start < (size_t)hl || ll - 2 <= 78);
		unstuffed += ll;
	}
	CU_ASSERT_EQUAL(unstuffed, m.size);
	if (size > (uint64_t)hl + 1)
		CU_ASSERT_EQUAL(m.size, size);
	if (size > (uint64_t)hl + 1000)
		CU_ASSERT_TRUE(dots > 0);
	free(wire);
}

/* test_msg_sizes - exact sizes, tiny and huge, any output chunking */
static void
test_msg_sizes(void)
{
	static const uint64_t sizes[] = { 0, 10, 200, 250, 251, 252, 253,
	    300, 331, 1024, 4095, 4096, 65537, 1000003 };
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		msg_check(sizes[i], HX_MSG_FILL_MIN);
		msg_check(sizes[i], 4096);
	}
}

/* test_opt_target - target spec forms and errors */
static void
test_opt_target(void)
{
	struct hx_target t;
	struct hx_cidr c;
	char err[128];

	CU_ASSERT_EQUAL(hx_target_parse("gmail=127.1.0.0/24:2526@gmail.com",
	    &t, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(t.name, "gmail");
	CU_ASSERT_EQUAL(t.addr, 0x7f010000u);
	CU_ASSERT_EQUAL(t.naddr, 256);
	CU_ASSERT_EQUAL(t.port, 2526);
	CU_ASSERT_STRING_EQUAL(t.rcpt_domain, "gmail.com");
	CU_ASSERT_EQUAL(hx_target_parse("127.0.0.1", &t, err, sizeof(err)),
	    0);
	CU_ASSERT_STRING_EQUAL(t.name, "127.0.0.1");
	CU_ASSERT_EQUAL(t.naddr, 1);
	CU_ASSERT_EQUAL(t.port, HX_DEFAULT_PORT);
	CU_ASSERT_STRING_EQUAL(t.rcpt_domain, HX_DEFAULT_RCPT_DOMAIN);
	CU_ASSERT_EQUAL(hx_target_parse("127.4.0.9/24", &t, err, sizeof(err)),
	    0);
	CU_ASSERT_EQUAL(t.addr, 0x7f040000u);
	CU_ASSERT_STRING_EQUAL(t.name, "127.4.0.9/24");
	CU_ASSERT_EQUAL(hx_target_parse("127.0.0.1/8", &t, err, sizeof(err)),
	    -EINVAL);
	CU_ASSERT_EQUAL(hx_target_parse("127.0.0.1:0", &t, err, sizeof(err)),
	    -EINVAL);
	CU_ASSERT_EQUAL(hx_target_parse("=127.0.0.1", &t, err, sizeof(err)),
	    -EINVAL);
	CU_ASSERT_EQUAL(hx_target_parse("x=host", &t, err, sizeof(err)),
	    -EINVAL);
	CU_ASSERT_EQUAL(hx_target_parse("127.0.0.1@bad domain", &t, err,
	    sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(hx_cidr_parse("127.0.10.0/29", &c, err, sizeof(err)),
	    0);
	CU_ASSERT_EQUAL(c.addr, 0x7f000a00u);
	CU_ASSERT_EQUAL(c.naddr, 8);
}

/* test_opt_numbers - bounded numbers and domain lists */
static void
test_opt_numbers(void)
{
	const char *d[4];
	char list[] = "a.com,b.org";
	char bad[] = "a.com,";
	uint64_t u;
	double x;
	size_t n;

	CU_ASSERT_EQUAL(hx_parse_u64("10", 1, 10, &u), 0);
	CU_ASSERT_EQUAL(u, 10);
	CU_ASSERT_EQUAL(hx_parse_u64("11", 1, 10, &u), -ERANGE);
	CU_ASSERT_EQUAL(hx_parse_u64("-1", 0, 10, &u), -EINVAL);
	CU_ASSERT_EQUAL(hx_parse_u64("1x", 0, 10, &u), -EINVAL);
	CU_ASSERT_EQUAL(hx_parse_u64("", 0, 10, &u), -EINVAL);
	CU_ASSERT_EQUAL(hx_parse_double("2.5", 0, 10, &x), 0);
	CU_ASSERT_DOUBLE_EQUAL(x, 2.5, 1e-9);
	CU_ASSERT_EQUAL(hx_parse_double("nan", 0, 10, &x), -EINVAL);
	CU_ASSERT_EQUAL(hx_parse_double("0", 0.001, 10, &x), -ERANGE);
	CU_ASSERT_EQUAL(hx_domain_list(list, d, 4, &n), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_STRING_EQUAL(d[1], "b.org");
	CU_ASSERT_EQUAL(hx_domain_list(bad, d, 4, &n), -EINVAL);
	CU_ASSERT_EQUAL(hx_local_check("unknown1"), 0);
	CU_ASSERT_EQUAL(hx_local_check("a<b"), -EINVAL);
}

/* Test table: name and function. */
struct hx_test {
	const char	*name;
	void		(*fn)(void);
};

/* abort plans: none at 0, always at 1, deterministic, evenly spread */
static void
test_abort_plan(void)
{
	struct hx_abort_plan p, q;
	uint64_t st[HX_AB__COUNT] = { 0 }, md[HX_AB__MODES] = { 0 };
	uint64_t seq, n = 40000, diff = 0;
	int s;

	for (seq = 0; seq < 1000; seq++) {
		hx_abort_plan(7, seq, 0, &p);
		CU_ASSERT_EQUAL(p.stage, HX_AB_NONE);
		hx_abort_plan(7, seq, 1, &p);
		CU_ASSERT(p.stage > HX_AB_NONE && p.stage < HX_AB__COUNT);
		CU_ASSERT(p.mode == HX_AB_RST || p.mode == HX_AB_CLOSE);
		hx_abort_plan(7, seq, 1, &q);
		CU_ASSERT(p.stage == q.stage && p.mode == q.mode);
		hx_abort_plan(8, seq, 1, &q);
		diff += p.stage != q.stage || p.mode != q.mode;
	}
	CU_ASSERT(diff > 500);		/* another seed, other plans */
	for (seq = 0; seq < n; seq++) {
		hx_abort_plan(1, seq, 0.25, &p);
		st[p.stage]++;
		if (p.stage != HX_AB_NONE)
			md[p.mode]++;
	}
	/* 25 % abort (+-1 %), each stage and mode evenly (+-5 % of it) */
	CU_ASSERT(st[HX_AB_NONE] > n * 74 / 100 && st[HX_AB_NONE] < n * 76 / 100);
	for (s = HX_AB_PRE_MAIL; s < HX_AB__COUNT; s++)
		CU_ASSERT(fabs((double)st[s] / (double)(n - st[HX_AB_NONE]) -
		    0.25) < 0.0125);
	CU_ASSERT(fabs((double)md[HX_AB_RST] / (double)(md[0] + md[1]) - 0.5) <
	    0.025);
	CU_ASSERT_STRING_EQUAL(hx_abort_stage_name(HX_AB_AFTER_DOT),
	    "after_dot");
	CU_ASSERT_STRING_EQUAL(hx_abort_stage_name(HX_AB__COUNT), "?");
	CU_ASSERT_STRING_EQUAL(hx_abort_mode_name(HX_AB_CLOSE), "close");
}

/* abort counts, the message log line and the JSON object */
static void
test_abort_counts(void)
{
	struct hx_aborts a;
	struct hx_abort_plan p = { HX_AB_MID_DATA, HX_AB_CLOSE };
	struct hx_abort_plan none = { HX_AB_NONE, HX_AB_RST };
	char line[128], *buf = NULL;
	json_t *j;

	memset(&a, 0, sizeof(a));
	hx_aborts_add(&a, &p);
	hx_aborts_add(&a, &p);
	hx_aborts_add(&a, &none);		/* ignored */
	p.stage = HX_AB_AFTER_DOT;
	p.mode = HX_AB_RST;
	hx_aborts_add(&a, &p);
	CU_ASSERT_EQUAL(a.n[HX_AB_MID_DATA][HX_AB_CLOSE], 2);
	CU_ASSERT_EQUAL(a.n[HX_AB_NONE][HX_AB_RST], 0);
	CU_ASSERT_EQUAL(hx_aborts_total(&a, HX_AB_NONE), 3);
	CU_ASSERT_EQUAL(hx_aborts_total(&a, HX_AB_AFTER_DOT), 1);
	CU_ASSERT_EQUAL(hx_aborts_total(&a, HX_AB_PRE_MAIL), 0);

	CU_ASSERT_EQUAL(hx_msg_log_line(line, sizeof(line), 42, "gmail",
	    "unknown", HX_STAGE_EOD, 0, &p, 1, "m42"), (int)strlen(line));
	CU_ASSERT_STRING_EQUAL(line,
	    "42\tgmail\tunknown\teod\t0\tafter_dot/rst\t1\tm42\n");
	CU_ASSERT(hx_msg_log_line(line, sizeof(line), 7, "sink", "accepted",
	    HX_STAGE_EOD, 250, &none, 1, "user3") > 0);
	CU_ASSERT_STRING_EQUAL(line, "7\tsink\taccepted\teod\t250\t-\t1\tuser3\n");
	CU_ASSERT_EQUAL(hx_msg_log_line(line, 20, 42, "gmail", "unknown",
	    HX_STAGE_EOD, 0, &p, 1, "m42"), -ENOSPC);

	a.planned = 5;
	CU_ASSERT_PTR_NOT_NULL_FATAL(j = hx_aborts_json(&a));
	buf = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	CU_ASSERT_STRING_EQUAL(buf, "{\"planned\":5,\"pre_mail\":{\"rst\":0,"
	    "\"close\":0},\"mid_rcpt\":{\"rst\":0,\"close\":0},\"mid_data\":"
	    "{\"rst\":0,\"close\":2},\"after_dot\":{\"rst\":1,\"close\":0},"
	    "\"unknown\":1}");
	free(buf);
}

/* ld_serve - run a server until stopped (thread body) */
static void *
ld_serve(void *arg)
{
	(void)nb_run(arg);
	return NULL;
}

/* ld_free_port - a TCP port free on 127.0.0.1 just now */
static uint16_t
ld_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	uint16_t port = 0;
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/*
 * The engine against a real mxsim server (sink profile, 127.9.1.1): every
 * planned abort is carried out at its stage and mode, counted once, gives
 * its message the outcome "error" and a log line; the server accepted
 * every message mxload saw accepted, and of the unknown ones at most all.
 */
static void
test_abort_engine(void)
{
	static const double probs[] = { 1.0, 0.5 };
	struct prof_world *w;
	struct prof_profile *p;
	struct prof_error perr;
	struct sim_state *st;
	struct sim_clock clock;
	struct ev_server_conf sc;
	struct nb_backend *srv;
	struct sim_stats *stats;
	struct hx_load_conf lc;
	struct hx_target tgt;
	struct hx_cidr src;
	struct hx_tally *t;
	struct hx_summary sum;
	struct hx_aborts ab, want;
	struct hx_abort_plan plan;
	const char *from[] = { "example.com" };
	char err[256], spec[64], *log = NULL, *l, *e;
	char oc[16], stg[8], abs[32];
	uint64_t seq, n = 400, lines, unknown, accepted;
	uint64_t tot_acc = 0, tot_unk = 0;
	unsigned code;
	int dot;
	size_t loglen = 0;
	pthread_t th;
	uint16_t port;
	FILE *lf;
	size_t k;

	memset(&perr, 0, sizeof(perr));
	w = prof_world_new();
	p = prof_load_profile(MXSIM_PROFILES_DIR "/sink.yaml", &perr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL_FATAL(prof_world_add_profile(w, p), 0);
	CU_ASSERT_EQUAL_FATAL(prof_world_add_block(w, 0x7f090101, 32, 0), 0);
	CU_ASSERT_FATAL((port = ld_free_port()) != 0);
	w->port = port;
	st = sim_state_new(4096, 3600000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	sim_clock_init_manual(&clock, 1767225600000ULL);
	memset(&sc, 0, sizeof(sc));
	sc.nb.world = w;
	sc.nb.state = st;
	sc.nb.clock = &clock;
	sc.nb.max_conns = 64;
	sc.nb.grace_s = 1;
	sc.workers = 1;
	srv = ev_server_new(&sc, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(srv);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, ld_serve, srv), 0);

	snprintf(spec, sizeof(spec), "sink=127.9.1.1:%u", port);
	CU_ASSERT_EQUAL_FATAL(hx_target_parse(spec, &tgt, err, sizeof(err)),
	    0);
	CU_ASSERT_EQUAL_FATAL(hx_cidr_parse("127.0.0.1", &src, err,
	    sizeof(err)), 0);
	for (k = 0; k < sizeof(probs) / sizeof(probs[0]); k++) {
		memset(&lc, 0, sizeof(lc));
		lc.targets = &tgt;
		lc.ntargets = 1;
		lc.sources = &src;
		lc.nsources = 1;
		lc.from = from;
		lc.nfrom = 1;
		lc.helo = "mxload.test";
		lc.messages = n;
		lc.users = 10;
		lc.size = 3000;
		lc.seed = 5 + k;
		lc.timeout = 10;
		lc.concurrency = 8;
		lc.per_conn = 3;
		lc.rcpts = 1;
		lc.pipelining = 1;
		lc.abort_prob = probs[k];
		lc.tag_rcpt = 1;
		memset(&ab, 0, sizeof(ab));
		lc.aborts = &ab;
		lf = open_memstream(&log, &loglen);
		CU_ASSERT_PTR_NOT_NULL_FATAL(lf);
		lc.msg_log = lf;
		t = hx_tally_create(1, 64);
		CU_ASSERT_PTR_NOT_NULL_FATAL(t);
		CU_ASSERT_EQUAL(hx_load_run(&lc, t, &sum), 0);
		fclose(lf);

		/* what the plans say, message by message */
		memset(&want, 0, sizeof(want));
		for (seq = 0; seq < n; seq++) {
			hx_abort_plan(lc.seed, seq, lc.abort_prob, &plan);
			want.planned += plan.stage != HX_AB_NONE;
			hx_aborts_add(&want, &plan);
		}
		CU_ASSERT(memcmp(&ab, &want, sizeof(ab)) == 0);
		CU_ASSERT_EQUAL(hx_tally_messages(t), n);
		CU_ASSERT_EQUAL(t->total[HX_OUT_ERROR],
		    hx_aborts_total(&ab, HX_AB_NONE));
		CU_ASSERT_EQUAL(t->total[HX_OUT_ACCEPTED] +
		    t->total[HX_OUT_ERROR], n);
		CU_ASSERT_EQUAL(sum.aborted, 0);
		for (lines = unknown = accepted = 0, l = log;
		    (e = strchr(l, '\n')) != NULL; l = e + 1) {
			lines++;
			CU_ASSERT_EQUAL(sscanf(l, "%*u\t%*s\t%15s\t%7s\t%u\t"
			    "%31s\t%d\t", oc, stg, &code, abs, &dot), 5);
			unknown += strcmp(oc, "unknown") == 0 &&
			    strncmp(abs, "after_dot/", 10) == 0 && dot == 1;
			accepted += strcmp(oc, "accepted") == 0 &&
			    code == 250 && strcmp(abs, "-") == 0;
		}
		CU_ASSERT_EQUAL(lines, n);
		CU_ASSERT_EQUAL(unknown, hx_aborts_total(&ab, HX_AB_AFTER_DOT));
		CU_ASSERT_EQUAL(accepted, t->total[HX_OUT_ACCEPTED]);
		tot_acc += accepted;
		tot_unk += unknown;
		free(log);
		log = NULL;
		hx_tally_free(t);
	}
	nb_stop(srv);
	pthread_join(th, NULL);
	stats = sim_stats_new(1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(stats);
	nb_stats(srv, stats);
	/* the sink accepts what reaches its end of DATA: at least what
	 * mxload saw, at most that and the unknown ones */
	CU_ASSERT(stats->messages >= tot_acc);
	CU_ASSERT(stats->messages <= tot_acc + tot_unk);
	sim_stats_free(stats);
	nb_free(srv);
	sim_state_free(st);
	prof_world_free(w);
}

#define SEC	1000000ull	/* microseconds */

/* sched_ok - parse @p text, which must succeed */
static void
sched_ok(const char *text, struct hx_sched *s)
{
	char err[160] = "";

	CU_ASSERT_EQUAL(hx_sched_parse(text, s, err, sizeof(err)), 0);
	if (err[0] != '\0')
		fprintf(stderr, "%s: %s\n", text, err);
}

static void
test_sched_durations(void)
{
	uint64_t us;

	CU_ASSERT_EQUAL(hx_duration_parse("250ms", &us), 0);
	CU_ASSERT_EQUAL(us, 250000u);
	CU_ASSERT_EQUAL(hx_duration_parse("5s", &us), 0);
	CU_ASSERT_EQUAL(us, 5 * SEC);
	CU_ASSERT_EQUAL(hx_duration_parse("1.5m", &us), 0);
	CU_ASSERT_EQUAL(us, 90 * SEC);
	CU_ASSERT_EQUAL(hx_duration_parse("2h", &us), 0);
	CU_ASSERT_EQUAL(us, 7200 * SEC);
	CU_ASSERT_EQUAL(hx_duration_parse("5d", &us), 0);
	CU_ASSERT_EQUAL(us, 432000 * SEC);
	CU_ASSERT_EQUAL(hx_duration_parse("5", &us), -EINVAL);
	CU_ASSERT_EQUAL(hx_duration_parse("0s", &us), -EINVAL);
	CU_ASSERT_EQUAL(hx_duration_parse("-1s", &us), -EINVAL);
	CU_ASSERT_EQUAL(hx_duration_parse("5 s", &us), -EINVAL);
	CU_ASSERT_EQUAL(hx_duration_parse("5w", &us), -EINVAL);
	CU_ASSERT_EQUAL(hx_duration_parse("s", &us), -EINVAL);
	CU_ASSERT_EQUAL(hx_duration_parse("99999d", &us), -EINVAL);
}

static void
test_sched_list(void)
{
	struct hx_sched s;
	char buf[HX_SCHED_TEXT_MAX];

	sched_ok("5s,10s,20s,40s", &s);
	CU_ASSERT_EQUAL(s.kind, HX_SCHED_LIST);
	CU_ASSERT_EQUAL(s.n, 4u);
	CU_ASSERT_EQUAL(s.lifetime_us, HX_SCHED_LIFETIME);
	CU_ASSERT_EQUAL(hx_sched_delay(&s, 1, 0, 0), 5 * SEC);
	CU_ASSERT_EQUAL(hx_sched_delay(&s, 2, 5 * SEC, 5 * SEC), 10 * SEC);
	CU_ASSERT_EQUAL(hx_sched_delay(&s, 4, 0, 0), 40 * SEC);
	CU_ASSERT_EQUAL(hx_sched_delay(&s, 9, 0, 0), 40 * SEC);
	CU_ASSERT_EQUAL(hx_sched_due(&s, 7 * SEC + 1), 7 * SEC + 1);
	CU_ASSERT(!hx_sched_expired(&s, 4 * 86400 * SEC));
	CU_ASSERT(hx_sched_expired(&s, 5 * 86400 * SEC));
	hx_sched_format(&s, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "5s,10s,20s,40s,lifetime=5d");

	sched_ok("500ms,lifetime=3s,run=2s", &s);
	CU_ASSERT_EQUAL(s.lifetime_us, 3 * SEC);
	CU_ASSERT_EQUAL(hx_sched_due(&s, 1), 2 * SEC);
	CU_ASSERT_EQUAL(hx_sched_due(&s, 2 * SEC), 2 * SEC);
	/* up to a second early, as Postfix */
	CU_ASSERT_EQUAL(hx_sched_due(&s, 3 * SEC), 2 * SEC);
	CU_ASSERT_EQUAL(hx_sched_due(&s, 3 * SEC + 1), 4 * SEC);
	CU_ASSERT_EQUAL(hx_sched_due(&s, 5 * SEC + 1), 6 * SEC);
	CU_ASSERT(!hx_sched_expired(&s, 3 * SEC - 1));
	CU_ASSERT(hx_sched_expired(&s, 3 * SEC));
	hx_sched_format(&s, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "500ms,run=2s,lifetime=3s");
}

static void
test_sched_age(void)
{
	struct hx_sched s;
	char buf[HX_SCHED_TEXT_MAX];

	/* Postfix: the wait is the message's age, clamped to min..max */
	sched_ok("min=5s,max=40s,lifetime=5m", &s);
	CU_ASSERT_EQUAL(s.kind, HX_SCHED_AGE);
	CU_ASSERT_EQUAL(hx_sched_delay(&s, 1, 0, 0), 5 * SEC);
	CU_ASSERT_EQUAL(hx_sched_delay(&s, 2, 5 * SEC, 5 * SEC), 5 * SEC);
	CU_ASSERT_EQUAL(hx_sched_delay(&s, 3, 10 * SEC, 5 * SEC), 10 * SEC);
	CU_ASSERT_EQUAL(hx_sched_delay(&s, 4, 20 * SEC, 10 * SEC), 20 * SEC);
	CU_ASSERT_EQUAL(hx_sched_delay(&s, 5, 40 * SEC, 20 * SEC), 40 * SEC);
	CU_ASSERT_EQUAL(hx_sched_delay(&s, 6, 80 * SEC, 40 * SEC), 40 * SEC);
	hx_sched_format(&s, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "min=5s,max=40s,lifetime=5m");

	/* the preset: postconf(5) defaults, 60 times faster */
	sched_ok("postfix", &s);
	hx_sched_format(&s, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "min=5m,max=4000s,run=5m,lifetime=5d");
	sched_ok("postfix/60", &s);
	CU_ASSERT_EQUAL(s.min_us, 5 * SEC);
	CU_ASSERT_EQUAL(s.run_us, 5 * SEC);
	CU_ASSERT_EQUAL(s.lifetime_us, 2 * 3600 * SEC);
	hx_sched_format(&s, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf,
	    "min=5s,max=66.667s,run=5s,lifetime=2h");
}

static void
test_sched_rules(void)
{
	struct hx_sched s;
	char buf[HX_SCHED_TEXT_MAX];
	uint64_t d;

	/* Exim's default rule */
	sched_ok("exim", &s);
	CU_ASSERT_EQUAL(s.kind, HX_SCHED_RULES);
	CU_ASSERT_EQUAL(s.n, 3u);
	CU_ASSERT_EQUAL(s.lifetime_us, 4 * 86400 * SEC);
	hx_sched_format(&s, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "F,2h,15m;G,16h,1h,1.5;F,4d,6h");
	/* every 15 minutes for the first two hours */
	CU_ASSERT_EQUAL(hx_sched_delay(&s, 1, 0, 0), 900 * SEC);
	CU_ASSERT_EQUAL(hx_sched_delay(&s, 8, 7199 * SEC, 900 * SEC),
	    900 * SEC);
	/* then 1h, 1.5h, 2.25h ... until 16h */
	d = hx_sched_delay(&s, 9, 7200 * SEC, 900 * SEC);
	CU_ASSERT_EQUAL(d, 3600 * SEC);
	d = hx_sched_delay(&s, 10, 3 * 3600 * SEC, d);
	CU_ASSERT_EQUAL(d, 5400 * SEC);
	d = hx_sched_delay(&s, 11, 5 * 3600 * SEC, d);
	CU_ASSERT_EQUAL(d, 8100 * SEC);
	/* then every 6 hours until 4 days */
	CU_ASSERT_EQUAL(hx_sched_delay(&s, 20, 16 * 3600 * SEC, d),
	    6 * 3600 * SEC);
	CU_ASSERT(!hx_sched_expired(&s, 4 * 86400 * SEC - 1));
	CU_ASSERT(hx_sched_expired(&s, 4 * 86400 * SEC));

	sched_ok("exim/3600", &s);
	CU_ASSERT_EQUAL(s.rule[0].interval_us, 250000u);
	CU_ASSERT_EQUAL(s.lifetime_us, 96 * SEC);
	sched_ok("F,10s,1s;G,1m,2s,2", &s);
	CU_ASSERT_EQUAL(s.lifetime_us, 60 * SEC);
	CU_ASSERT_EQUAL(hx_sched_delay(&s, 3, 11 * SEC, 1 * SEC), 2 * SEC);
	CU_ASSERT_EQUAL(hx_sched_delay(&s, 4, 13 * SEC, 2 * SEC), 4 * SEC);
}

static void
test_sched_errors(void)
{
	static const char *const bad[] = {
		"", "5", "5s,", "5s,x", "min=5s", "max=5s", "min=9s,max=5s",
		"5s,min=1s,max=2s", "5s,lifetime=0s", "5s,life=1d",
		"postfix/0", "postfix/x", "postfix/", "5s/2", "gmail",
		"F,1h", "F,1h,1m,2", "G,1h,1m", "G,1h,1m,0.5", "X,1h,1m",
		"F,2h,1m;F,1h,1m", "F,1h,1m;", "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,"
		"1s,1s,1s,1s,1s,1s,1s",
	};
	struct hx_sched s;
	char err[160];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CU_ASSERT_EQUAL(hx_sched_parse(bad[i], &s, err, sizeof(err)),
		    -EINVAL);
		CU_ASSERT(err[0] != '\0');
	}
}

static void
test_retry_queue(void)
{
	struct hx_retry_queue q;
	struct hx_retry_msg m, prev;
	struct sim_rng rng;
	size_t i, n = 1000;

	memset(&q, 0, sizeof(q));
	CU_ASSERT_EQUAL_FATAL(hx_retry_queue_init(&q, n), 0);
	CU_ASSERT_PTR_NULL(hx_retry_queue_top(&q));
	CU_ASSERT_EQUAL(hx_retry_queue_pop(&q, &m), -ENOENT);
	sim_rng_seed(&rng, 7, 0);
	memset(&m, 0, sizeof(m));
	for (i = 0; i < n; i++) {
		m.seq = i;
		m.due_us = sim_rng_below(&rng, 100);	/* many equal */
		CU_ASSERT_EQUAL(hx_retry_queue_push(&q, &m), 0);
	}
	CU_ASSERT_EQUAL(hx_retry_queue_push(&q, &m), -ENOSPC);
	/* interleave: pop half, push them back later */
	for (i = 0; i < n / 2; i++) {
		CU_ASSERT_EQUAL(hx_retry_queue_pop(&q, &m), 0);
		m.due_us += 100;
		CU_ASSERT_EQUAL(hx_retry_queue_push(&q, &m), 0);
	}
	memset(&prev, 0, sizeof(prev));
	for (i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(hx_retry_queue_top(&q)->due_us,
		    q.v[0].due_us);
		CU_ASSERT_EQUAL_FATAL(hx_retry_queue_pop(&q, &m), 0);
		if (i > 0)
			CU_ASSERT(m.due_us > prev.due_us ||
			    (m.due_us == prev.due_us && m.seq > prev.seq));
		prev = m;
	}
	CU_ASSERT_EQUAL(q.len, 0u);
	hx_retry_queue_free(&q);
}

static void
test_retry_stats(void)
{
	static const char *const names[] = { "gmail" };
	struct hx_retry_stats st;
	struct hx_retry_msg m;
	char *buf = NULL;
	size_t len = 0;
	json_t *j;
	FILE *fp;

	CU_ASSERT_EQUAL_FATAL(hx_retry_stats_init(&st, 1), 0);
	memset(&m, 0, sizeof(m));
	m.attempts = 1;
	hx_retry_final(&st, &m, HX_FIN_DELIVERED, 2 * SEC);
	m.attempts = 3;
	hx_retry_final(&st, &m, HX_FIN_BOUNCED, 5 * SEC);
	(void)hx_tally_add(st.bounced, 0, HX_STAGE_EOD, 550, "5.7.26",
	    "unauthenticated");
	m.attempts = 40;
	hx_retry_final(&st, &m, HX_FIN_DEFERRED, 9 * SEC);
	CU_ASSERT_EQUAL(st.final[HX_FIN_DELIVERED], 1u);
	CU_ASSERT_EQUAL(st.final[HX_FIN_BOUNCED], 1u);
	CU_ASSERT_EQUAL(st.final[HX_FIN_DEFERRED], 1u);
	CU_ASSERT_EQUAL(st.attempts, 44u);
	CU_ASSERT_EQUAL(st.attempts_max, 40u);
	CU_ASSERT_EQUAL(st.hist[0], 1u);
	CU_ASSERT_EQUAL(st.hist[2], 1u);
	CU_ASSERT_EQUAL(st.hist[HX_RETRY_HIST - 1], 1u);
	CU_ASSERT_EQUAL(st.last_us, 5 * SEC);	/* deferred is not final */
	CU_ASSERT_STRING_EQUAL(hx_final_name(HX_FIN_EXPIRED), "expired");

	fp = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	CU_ASSERT_EQUAL(hx_retry_print(&st, names, fp), 0);
	fclose(fp);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "delivered 1 bounced 1 expired 0 "
	    "deferred 1 aborted 0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "1:1 3:1 16+:1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "not drained"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "550  5.7.26"));
	free(buf);
	buf = NULL;
	CU_ASSERT_PTR_NOT_NULL_FATAL(j = hx_retry_json(&st, names));
	buf = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"delivered\":1,\"bounced\":1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"attempts_max\":40"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"enhanced\":\"5.7.26\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"expired_after\":[]"));
	free(buf);
	hx_retry_stats_free(&st);
}

static const struct hx_test tests[] = {
	{ "reply cases", test_reply_cases },
	{ "reply split at every byte", test_reply_split },
	{ "reply pipelined", test_reply_pipelined },
	{ "reply text truncation", test_reply_truncate },
	{ "tally rows and order", test_tally_rows },
	{ "tally full", test_tally_full },
	{ "histogram quantiles", test_hist },
	{ "histogram bucket bounds", test_hist_bounds },
	{ "histogram known distributions", test_hist_known },
	{ "histogram merge", test_hist_merge },
	{ "csv series rows", test_series },
	{ "message sizes and stuffing", test_msg_sizes },
	{ "target and source specs", test_opt_target },
	{ "numbers and domain lists", test_opt_numbers },
	{ "abort plans", test_abort_plan },
	{ "abort counts, log line, JSON", test_abort_counts },
	{ "aborts against a real server", test_abort_engine },
	{ "retry durations", test_sched_durations },
	{ "retry list schedules", test_sched_list },
	{ "retry age schedules (Postfix)", test_sched_age },
	{ "retry rules (Exim)", test_sched_rules },
	{ "retry schedule errors", test_sched_errors },
	{ "retry queue order", test_retry_queue },
	{ "retry outcomes and reports", test_retry_stats },
};

int
test_hx_register(void)
{
	CU_pSuite s;
	size_t i;

	if ((s = CU_add_suite("hx", NULL, NULL)) == NULL)
		return -1;
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL)
			return -1;
	return 0;
}
