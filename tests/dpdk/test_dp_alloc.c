/*
 * DESCRIPTION
 *	Tier-1 proof that the DPDK packet path allocates nothing from the
 *	heap (issue 19): an lcore with the event log on and every message
 *	scanned, as mxsim --backend dpdk runs it, serves whole sessions
 *	(handshake, EHLO, MAIL, RCPT, DATA, a message, QUIT, FIN) to Gmail
 *	and the sink from distinct client addresses.  The first
 *	DPT_ALLOC_COLD sessions (every pooled object used for the first
 *	time, the event log's first timestamps) and DPT_ALLOC_SESSIONS more,
 *	with event-log flushes, must make no malloc, calloc, realloc or free
 *	on the lcore's thread
 *	(dp_alloc.h counts them).  Sessions, buffers, transaction arenas,
 *	DATA contexts, control blocks, policy state and event lines all
 *	come from pools sized at start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "dp_alloc.h"
#include "dp_test_helper.h"
#include "prof_load.h"
#include "sim_evlog.h"
#include "test_dpdk_suites.h"

#define DPT_ALLOC_COLD		64	/* first sessions, counted apart */
#define DPT_ALLOC_SESSIONS	256	/* sessions counted once warm */
#define DPT_ALLOC_BATCH		32	/* sessions between TIME_WAIT ends */
#define DPT_ALLOC_CLIENTS	0xc6120600u	/* 198.18.6.0: in no range */

/* The step a session reached; DPT_STEP_DONE when all went as wanted. */
enum dpt_step {
	DPT_STEP_CONNECT, DPT_STEP_GREETING, DPT_STEP_EHLO, DPT_STEP_MAIL,
	DPT_STEP_RCPT, DPT_STEP_DATA, DPT_STEP_MESSAGE, DPT_STEP_QUIT,
	DPT_STEP_DONE
};

/* The message every session sends, with its own Message-ID (Gmail
 * limits copies of one Message-ID: limits.per_message_id). */
#define DPT_ALLOC_MSG \
    "From: <a@auth.example>\r\nTo: <u@gmail.com>\r\n" \
    "Subject: pools\r\nMessage-ID: <%u.%u@auth.example>\r\n" \
    "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n" \
    "A plain message for the allocation check.\r\n.\r\n"

/* reply_is - @p buf's last reply line starts with @p code */
static bool
reply_is(const char *buf, size_t n, const char *code)
{
	const char *p = buf + n;

	if (n < 5)
		return false;
	p -= 2;				/* the final CRLF */
	while (p > buf && p[-1] != '\n')
		p--;
	return strncmp(p, code, 3) == 0 && p[3] == ' ';
}

/* one_session - a whole transaction from @p cip; @return the step reached
 * (no CUnit call in it: the counter is armed around it) */
static enum dpt_step
one_session(struct dpt *t, uint32_t cip, uint16_t cport, uint32_t mip)
{
	char msg[512], rcpt[64];
	const struct {
		const char	*text;
		const char	*want;
	} steps[] = {
		{ "EHLO client.test\r\n", "250" },
		{ "MAIL FROM:<a@auth.example>\r\n", "250" },
		{ rcpt, "250" },
		{ "DATA\r\n", "354" },
		{ msg, "250" },
		{ "QUIT\r\n", "221" },
	};
	struct dpt_conn c;
	char buf[2048];
	size_t i, n;
	uint8_t fl = 0;

	/* one recipient and Message-ID per session: Gmail's per_recipient
	 * and per_message_id windows stay far from their limits */
	snprintf(rcpt, sizeof(rcpt), "RCPT TO:<u%u@gmail.com>\r\n", cip);
	snprintf(msg, sizeof(msg), DPT_ALLOC_MSG, cip, cport);
	if (dpt_connect(t, &c, cip, cport, mip) != 0)
		return DPT_STEP_CONNECT;
	n = dpt_collect(t, &c, buf, sizeof(buf), NULL);
	if (!reply_is(buf, n, "220"))
		return DPT_STEP_GREETING;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		n = dpt_talk(t, &c, steps[i].text, buf, sizeof(buf));
		if (!reply_is(buf, n, steps[i].want))
			return (enum dpt_step)(DPT_STEP_EHLO + i);
	}
	dpt_collect(t, &c, buf, sizeof(buf), &fl);	/* our FIN, if late */
	dpt_tcp(t, c.cip, c.cport, c.mip, c.mport, c.snd_nxt, c.rcv_nxt, 0x11,
	    64240, NULL, 0, 0);
	dpt_poll(t, 0);
	dpt_drain_tx();
	return DPT_STEP_DONE;
}

/* run_sessions - @p n sessions alternating Gmail and the sink, clients
 * from @p first on; TIME_WAIT ends every DPT_ALLOC_BATCH; @return
 * sessions that did not complete, *@p worst the first step one stopped */
static unsigned
run_sessions(struct dpt *t, uint32_t first, unsigned n, enum dpt_step *worst)
{
	unsigned i, bad = 0;
	enum dpt_step s;

	*worst = DPT_STEP_DONE;
	for (i = 0; i < n; i++) {
		s = one_session(t, first + i, (uint16_t)(40000 + i % 20000),
		    i % 2 == 0 ? DPT_GMAIL_MX : DPT_SINK_MX);
		if (s != DPT_STEP_DONE) {
			bad++;
			if (s < *worst)
				*worst = s;
		}
		if ((i + 1) % DPT_ALLOC_BATCH == 0) {
			dpt_poll(t, UTCP_TIME_WAIT_MS + 10);
			dp_lcore_evlog_flush(t->lc, 0);
		}
	}
	dpt_poll(t, UTCP_TIME_WAIT_MS + 10);
	dp_lcore_evlog_flush(t->lc, 0);
	return bad;
}

/* report - say what was counted when it is not nothing */
static void
report(const char *phase, const struct dp_alloc_counts *ac, unsigned n)
{
	if (ac->allocs != 0 || ac->frees != 0)
		fprintf(stderr, "dp_alloc: %llu allocations, %llu frees in %u "
		    "%s sessions\n", (unsigned long long)ac->allocs,
		    (unsigned long long)ac->frees, n, phase);
}

/* test_no_heap - count heap calls over whole sessions, from the first */
static void
test_no_heap(void)
{
	struct prof_world *w;
	struct prof_error perr;
	struct dp_alloc_counts ac;
	struct sim_evlog *ev;
	struct dpt t;
	enum dpt_step worst;
	char path[] = "/tmp/dpt_alloc_XXXXXX", err[1200];
	unsigned bad;
	uint64_t msgs;
	int fd, rc;

	memset(&perr, 0, sizeof(perr));
	w = prof_load_scenario(MXSIM_TESTDATA "/dpdk_scenario.yaml",
	    MXSIM_PROFILES_DIR, &perr);
	if (w == NULL)
		fprintf(stderr, "%s\n", prof_error_str(&perr, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	ev = sim_evlog_open(path, &rc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	CU_ASSERT_FATAL(dpt_setup_full(&t, w, 64, 0, 4096, ev, true) == 0);

	/* cold: the first sessions take every pooled object for the first
	 * time (and the event log its first timestamps) */
	dp_alloc_arm();
	bad = run_sessions(&t, DPT_ALLOC_CLIENTS, DPT_ALLOC_COLD, &worst);
	dp_alloc_disarm(&ac);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(worst, DPT_STEP_DONE);
	report("cold", &ac, DPT_ALLOC_COLD);
	CU_ASSERT_EQUAL(ac.allocs, 0);
	CU_ASSERT_EQUAL(ac.frees, 0);
	msgs = dp_lcore_stats(t.lc)->messages;

	dp_alloc_arm();
	bad = run_sessions(&t, DPT_ALLOC_CLIENTS + DPT_ALLOC_COLD,
	    DPT_ALLOC_SESSIONS, &worst);
	dp_alloc_disarm(&ac);

	if (bad != 0)
		fprintf(stderr, "dp_alloc: %u sessions failed, one at step "
		    "%d\n", bad, (int)worst);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(worst, DPT_STEP_DONE);
	CU_ASSERT_EQUAL(dp_lcore_stats(t.lc)->messages,
	    msgs + DPT_ALLOC_SESSIONS);
	report("warm", &ac, DPT_ALLOC_SESSIONS);
	CU_ASSERT_EQUAL(ac.allocs, 0);
	CU_ASSERT_EQUAL(ac.frees, 0);
	CU_ASSERT_EQUAL(utcp_nsessions(dp_lcore_tcp(t.lc)), 0);

	dpt_teardown(&t);
	CU_ASSERT_EQUAL(dpt_pool_in_use(), 0);
	CU_ASSERT_EQUAL(sim_evlog_close(ev, NULL, NULL), 0);
	unlink(path);
	prof_world_free(w);
}

/* test_counter_counts - the counter sees a heap call (no false pass) */
static void
test_counter_counts(void)
{
	struct dp_alloc_counts ac;
	char *volatile p;

	dp_alloc_arm();
	p = malloc(100);
	free(p);
	dp_alloc_disarm(&ac);
	CU_ASSERT_EQUAL(ac.allocs, 1);
	CU_ASSERT_EQUAL(ac.frees, 1);
}

/* test_dp_alloc_register - the suite */
int
test_dp_alloc_register(void)
{
	CU_pSuite s;

	if ((s = CU_add_suite("dp_alloc", NULL, NULL)) == NULL)
		return -1;
	if (CU_add_test(s, "the counter counts", test_counter_counts) == NULL ||
	    CU_add_test(s, "no heap call on the packet path",
	    test_no_heap) == NULL)
		return -1;
	return 0;
}
