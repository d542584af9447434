/*
 * DESCRIPTION
 *	Tier-1 tests of utcp, packet by packet through the ring port and
 *	the lcore: handshake (ISN from the seed, MSS), SMTP data both ways,
 *	retransmission on loss (data and SYN-ACK), the retry limit, RST and
 *	FIN from either side, TIME_WAIT, out-of-order segments, resets for
 *	closed ports and unknown connections, the half-open bound, the pool
 *	bounds (protocol.busy, then SYNs dropped), idle timeout and drain.  Every test checks that no control
 *	block, session or mbuf is left behind.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "dp_smtp.h"
#include "dp_test_helper.h"
#include "smtp_session.h"
#include "test_dpdk_suites.h"

#define CIP	DPT_CLIENT_IP
#define GMAIL	DPT_GMAIL_MX
#define SINK	DPT_SINK_MX

static struct dpt T;	/* the fixture of the running test */

/* tcp_setup - fresh lcore, 64 connections */
static void
tcp_setup(void)
{
	CU_ASSERT_FATAL(dpt_setup(&T, 64, 0) == 0);
}

/* tcp_teardown - no leaks of sessions or mbufs */
static void
tcp_teardown(void)
{
	dpt_teardown(&T);
	CU_ASSERT_EQUAL(dpt_pool_in_use(), 0);
}

/* stack - the lcore's TCP */
static struct utcp_stack *
stack(void)
{
	return dp_lcore_tcp(T.lc);
}

/* cnt - the TCP counters */
static const struct utcp_counters *
cnt(void)
{
	return utcp_counters(stack());
}

/* state_of - the server's state of @p c */
static enum utcp_state
state_of(const struct dpt_conn *c)
{
	return utcp_lookup_state(stack(), c->cip, c->cport, c->mip, c->mport);
}

/* greet - connect and read the greeting */
static void
greet(struct dpt_conn *c, uint16_t cport, uint32_t mip, char *buf,
    size_t len)
{
	CU_ASSERT_FATAL(dpt_connect(&T, c, CIP, cport, mip) == 0);
	CU_ASSERT(dpt_collect(&T, c, buf, len, NULL) > 0);
}

/* close_by_quit - QUIT, 221 with FIN, client ACK and FIN, TIME_WAIT */
static void
close_by_quit(struct dpt_conn *c)
{
	char buf[2048];
	uint8_t fl;
	int i;

	dpt_tcp(&T, c->cip, c->cport, c->mip, c->mport, c->snd_nxt,
	    c->rcv_nxt, 0x18, 64240, "QUIT\r\n", 6, 0);
	c->snd_nxt += 6;
	dpt_poll(&T, 0);
	dpt_collect(&T, c, buf, sizeof(buf), &fl);
	CU_ASSERT(strncmp(buf, "221 ", 4) == 0);
	CU_ASSERT(fl & 0x01);			/* our FIN came */
	CU_ASSERT_EQUAL(state_of(c), UTCP_FIN_WAIT_2);
	CU_ASSERT_EQUAL(utcp_nsessions(stack()), 0);
	dpt_tcp(&T, c->cip, c->cport, c->mip, c->mport, c->snd_nxt,
	    c->rcv_nxt, 0x11, 64240, NULL, 0, 0);
	c->snd_nxt++;
	dpt_poll(&T, 0);
	CU_ASSERT_EQUAL(state_of(c), UTCP_TIME_WAIT);
	dpt_drain_tx();				/* the ACK of our FIN */
	for (i = 0; i < UTCP_TIME_WAIT_MS + 20 &&
	    state_of(c) == UTCP_TIME_WAIT; i += 7)
		dpt_poll(&T, 7);		/* a clock off the tick grid */
	CU_ASSERT(i >= UTCP_TIME_WAIT_MS - 7);
	CU_ASSERT_EQUAL(state_of(c), UTCP_CLOSED);
}

/* test_handshake - SYN-ACK, greeting, ESTABLISHED, one connection */
static void
test_handshake(void)
{
	struct dpt_conn c;
	char buf[2048];

	greet(&c, 40000, GMAIL, buf, sizeof(buf));
	CU_ASSERT(strncmp(buf, "220 ", 4) == 0);
	CU_ASSERT_EQUAL(state_of(&c), UTCP_ESTABLISHED);
	CU_ASSERT_EQUAL(utcp_nsessions(stack()), 1);
	CU_ASSERT_EQUAL(dp_lcore_stats(T.lc)->connections, 1);
	CU_ASSERT_EQUAL(cnt()->established, 1);
	close_by_quit(&c);
	CU_ASSERT_EQUAL(utcp_nconns(stack()), 0);
}

/* test_isn - a keyed hash of the tuple and the seed */
static void
test_isn(void)
{
	uint32_t a, b, c, d;

	a = utcp_isn(7, CIP, 40000, GMAIL, 25);
	b = utcp_isn(7, CIP, 40000, GMAIL, 25);
	c = utcp_isn(7, CIP, 40001, GMAIL, 25);
	d = utcp_isn(8, CIP, 40000, GMAIL, 25);
	CU_ASSERT_EQUAL(a, b);
	CU_ASSERT_NOT_EQUAL(a, c);
	CU_ASSERT_NOT_EQUAL(a, d);
}

/* test_transaction - a whole message to the sink */
static void
test_transaction(void)
{
	struct dpt_conn c;
	char buf[2048];

	greet(&c, 40002, SINK, buf, sizeof(buf));
	dpt_talk(&T, &c, "EHLO client.test\r\n", buf, sizeof(buf));
	CU_ASSERT(strncmp(buf, "250-", 4) == 0);
	dpt_talk(&T, &c, "MAIL FROM:<a@auth.example>\r\n", buf, sizeof(buf));
	CU_ASSERT(strncmp(buf, "250 ", 4) == 0);
	dpt_talk(&T, &c, "RCPT TO:<b@sink.test>\r\n", buf, sizeof(buf));
	CU_ASSERT(strncmp(buf, "250 ", 4) == 0);
	dpt_talk(&T, &c, "DATA\r\n", buf, sizeof(buf));
	CU_ASSERT(strncmp(buf, "354 ", 4) == 0);
	dpt_talk(&T, &c, "Subject: t\r\n\r\nhello\r\n.\r\n", buf, sizeof(buf));
	CU_ASSERT(strncmp(buf, "250 ", 4) == 0);
	CU_ASSERT_EQUAL(dp_lcore_stats(T.lc)->messages, 1);
	close_by_quit(&c);
}

/* test_pipelined - several commands in one segment, replies in order */
static void
test_pipelined(void)
{
	struct dpt_conn c;
	char buf[2048];

	greet(&c, 40003, SINK, buf, sizeof(buf));
	dpt_talk(&T, &c, "EHLO x\r\nMAIL FROM:<a@auth.example>\r\n"
	    "RCPT TO:<b@sink.test>\r\nNOOP\r\n", buf, sizeof(buf));
	CU_ASSERT(strstr(buf, "250-") == buf);
	CU_ASSERT(strstr(buf, "\r\n250 ") != NULL);
	CU_ASSERT_EQUAL(cnt()->ooo_dropped, 0);
	close_by_quit(&c);
}

/* test_retransmit_data - the greeting is resent until acknowledged */
static void
test_retransmit_data(void)
{
	struct dpt_conn c;
	struct dpt_frame f, g;

	CU_ASSERT_FATAL(dpt_connect(&T, &c, CIP, 40004, GMAIL) == 0);
	CU_ASSERT_FATAL(dpt_recv(&T, &f) == 0);	/* greeting: "lost" */
	CU_ASSERT(f.len > 0);
	dpt_poll(&T, UTCP_RTO_INIT_MS / 2);
	CU_ASSERT_EQUAL(dpt_recv(&T, &g), -1);		/* not yet */
	dpt_poll(&T, UTCP_RTO_INIT_MS);
	CU_ASSERT_FATAL(dpt_recv(&T, &g) == 0);
	CU_ASSERT_EQUAL(g.seq, f.seq);
	CU_ASSERT_EQUAL(g.len, f.len);
	CU_ASSERT(memcmp(g.data, f.data, f.len) == 0);
	CU_ASSERT_EQUAL(cnt()->retransmits, 1);
	dpt_tcp(&T, CIP, 40004, GMAIL, 25, c.snd_nxt, f.seq + f.len, 0x10,
	    64240, NULL, 0, 0);
	c.rcv_nxt = f.seq + f.len;
	dpt_poll(&T, 0);
	dpt_poll(&T, 5000);
	CU_ASSERT_EQUAL(dpt_recv(&T, &g), -1);		/* nothing more */
	CU_ASSERT_EQUAL(cnt()->retransmits, 1);
	close_by_quit(&c);
}

/* test_fine_clock - a 1 ms clock: the RTO fires on time, not a wheel
 * turn later */
static void
test_fine_clock(void)
{
	struct dpt_conn c;
	struct dpt_frame f, g;
	int ms;

	CU_ASSERT_FATAL(dpt_connect(&T, &c, CIP, 40020, GMAIL) == 0);
	CU_ASSERT_FATAL(dpt_recv(&T, &f) == 0);	/* greeting: "lost" */
	dpt_poll(&T, 3);			/* off the tick grid */
	for (ms = 0; ms < UTCP_RTO_INIT_MS + 20; ms++) {
		dpt_poll(&T, 1);
		if (dpt_recv(&T, &g) == 0)
			break;
	}
	CU_ASSERT(ms + 4 >= UTCP_RTO_INIT_MS);	/* 3 ms already passed */
	CU_ASSERT(ms < UTCP_RTO_INIT_MS + 20);
	CU_ASSERT_EQUAL(g.seq, f.seq);
	CU_ASSERT_EQUAL(cnt()->retransmits, 1);
	dpt_tcp(&T, CIP, 40020, GMAIL, 25, c.snd_nxt, f.seq + f.len, 0x10,
	    64240, NULL, 0, 0);
	c.rcv_nxt = f.seq + f.len;
	dpt_poll(&T, 0);
	close_by_quit(&c);		/* TIME_WAIT with the coarse clock */
	CU_ASSERT_EQUAL(cnt()->closed, 1);
}

/* test_retransmit_synack - a lost SYN-ACK comes again; a repeated SYN
 * is answered at once */
static void
test_retransmit_synack(void)
{
	struct dpt_frame f, g;

	dpt_tcp(&T, CIP, 40005, GMAIL, 25, 500, 0, 0x02, 64240, NULL, 0, 1460);
	dpt_poll(&T, 0);
	CU_ASSERT_FATAL(dpt_recv(&T, &f) == 0);
	CU_ASSERT_EQUAL(f.flags, 0x12);
	dpt_poll(&T, UTCP_RTO_INIT_MS + 20);
	CU_ASSERT_FATAL(dpt_recv(&T, &g) == 0);
	CU_ASSERT_EQUAL(g.flags, 0x12);
	CU_ASSERT_EQUAL(g.seq, f.seq);
	dpt_tcp(&T, CIP, 40005, GMAIL, 25, 500, 0, 0x02, 64240, NULL, 0, 1460);
	dpt_poll(&T, 0);
	CU_ASSERT_FATAL(dpt_recv(&T, &g) == 0);
	CU_ASSERT_EQUAL(g.flags, 0x12);
	CU_ASSERT_EQUAL(g.seq, f.seq);
	/* never completed: given up after the retries */
	dpt_poll(&T, 60000);
	dpt_poll(&T, 60000);
	dpt_poll(&T, 60000);
	dpt_poll(&T, 60000);
	dpt_poll(&T, 60000);
	dpt_poll(&T, 60000);
	dpt_drain_tx();
	CU_ASSERT_EQUAL(utcp_nconns(stack()), 0);
}

/* test_retry_limit - a peer that never ACKs is reset */
static void
test_retry_limit(void)
{
	struct dpt_conn c;
	struct dpt_frame f;
	bool rst = false;
	int i;

	CU_ASSERT_FATAL(dpt_connect(&T, &c, CIP, 40006, GMAIL) == 0);
	for (i = 0; i < 40 && utcp_nconns(stack()) > 0; i++) {
		dpt_poll(&T, UTCP_RTO_MAX_MS);
		while (dpt_recv(&T, &f) == 0)
			rst |= (f.flags & 0x04) != 0;
	}
	CU_ASSERT(rst);
	CU_ASSERT_EQUAL(cnt()->aborted, 1);
	CU_ASSERT_EQUAL(cnt()->retransmits, UTCP_MAX_RETRIES);
	CU_ASSERT_EQUAL(utcp_nconns(stack()), 0);
	CU_ASSERT_EQUAL(utcp_nsessions(stack()), 0);
}

/* test_rst_from_client - the connection and its session go away */
static void
test_rst_from_client(void)
{
	struct dpt_conn c;
	char buf[2048];

	greet(&c, 40007, GMAIL, buf, sizeof(buf));
	/* out of window: ignored */
	dpt_tcp(&T, CIP, 40007, GMAIL, 25, c.snd_nxt + 100000, 0, 0x04, 0,
	    NULL, 0, 0);
	dpt_poll(&T, 0);
	CU_ASSERT_EQUAL(state_of(&c), UTCP_ESTABLISHED);
	dpt_tcp(&T, CIP, 40007, GMAIL, 25, c.snd_nxt, 0, 0x04, 0, NULL, 0, 0);
	dpt_poll(&T, 0);
	CU_ASSERT_EQUAL(state_of(&c), UTCP_CLOSED);
	CU_ASSERT_EQUAL(utcp_nsessions(stack()), 0);
	CU_ASSERT_EQUAL(cnt()->rst_rcvd, 1);
	CU_ASSERT_EQUAL(dpt_drain_tx(), 0);
}

/* test_fin_from_client - client closes first: FIN ACKed, ours follows */
static void
test_fin_from_client(void)
{
	struct dpt_conn c;
	char buf[2048];
	uint8_t fl;

	greet(&c, 40008, GMAIL, buf, sizeof(buf));
	dpt_tcp(&T, CIP, 40008, GMAIL, 25, c.snd_nxt, c.rcv_nxt, 0x11, 64240,
	    NULL, 0, 0);
	c.snd_nxt++;
	dpt_poll(&T, 0);
	dpt_collect(&T, &c, buf, sizeof(buf), &fl);
	CU_ASSERT(fl & 0x01);
	CU_ASSERT_EQUAL(utcp_nsessions(stack()), 0);
	/* dpt_collect ACKed our FIN: LAST_ACK -> CLOSED */
	CU_ASSERT_EQUAL(state_of(&c), UTCP_CLOSED);
	CU_ASSERT_EQUAL(utcp_nconns(stack()), 0);
}

/* test_half_close_after_quit - data and FIN together: replies still come */
static void
test_half_close_after_quit(void)
{
	struct dpt_conn c;
	char buf[2048];
	uint8_t fl;

	greet(&c, 40009, SINK, buf, sizeof(buf));
	dpt_tcp(&T, CIP, 40009, SINK, 25, c.snd_nxt, c.rcv_nxt, 0x19, 64240,
	    "NOOP\r\nQUIT\r\n", 12, 0);
	c.snd_nxt += 13;
	dpt_poll(&T, 0);
	dpt_collect(&T, &c, buf, sizeof(buf), &fl);
	CU_ASSERT(strncmp(buf, "250 ", 4) == 0);
	CU_ASSERT(strstr(buf, "\r\n221 ") != NULL);
	CU_ASSERT(fl & 0x01);
	CU_ASSERT_EQUAL(utcp_nconns(stack()), 0);
}

/* test_rst_closed - segments without a connection get RST */
static void
test_rst_closed(void)
{
	struct dpt_frame f;

	dpt_tcp(&T, CIP, 40010, GMAIL, 25, 1234, 98765, 0x10, 1000, NULL, 0, 0);
	dpt_poll(&T, 0);
	CU_ASSERT_FATAL(dpt_recv(&T, &f) == 0);
	CU_ASSERT_EQUAL(f.flags, 0x04);
	CU_ASSERT_EQUAL(f.seq, 98765);
	/* SYN to another port: RST|ACK acknowledging the SYN */
	dpt_tcp(&T, CIP, 40011, GMAIL, 587, 777, 0, 0x02, 1000, NULL, 0, 1460);
	dpt_poll(&T, 0);
	CU_ASSERT_FATAL(dpt_recv(&T, &f) == 0);
	CU_ASSERT_EQUAL(f.flags, 0x14);
	CU_ASSERT_EQUAL(f.ack, 778);
	CU_ASSERT(f.csum_ok);
	CU_ASSERT_EQUAL(cnt()->bad_port, 1);
	/* a RST is never answered */
	dpt_tcp(&T, CIP, 40012, GMAIL, 25, 1, 0, 0x04, 0, NULL, 0, 0);
	dpt_poll(&T, 0);
	CU_ASSERT_EQUAL(dpt_recv(&T, &f), -1);
	CU_ASSERT_EQUAL(utcp_nconns(stack()), 0);
}

/* test_syn_outside - a SYN to an address in no range: silence */
static void
test_syn_outside(void)
{
	struct dpt_frame f;

	dpt_tcp(&T, CIP, 40013, DPT_OUTSIDE_IP, 25, 1, 0, 0x02, 1000, NULL, 0,
	    1460);
	dpt_poll(&T, 0);
	CU_ASSERT_EQUAL(dpt_recv(&T, &f), -1);
	CU_ASSERT_EQUAL(dp_lcore_counters(T.lc)->not_ours, 1);
	CU_ASSERT_EQUAL(cnt()->syn, 0);
}

/* test_out_of_order - a gap: dropped, duplicate ACK, data not seen */
static void
test_out_of_order(void)
{
	struct dpt_conn c;
	struct dpt_frame f;
	char buf[2048];

	greet(&c, 40014, SINK, buf, sizeof(buf));
	dpt_tcp(&T, CIP, 40014, SINK, 25, c.snd_nxt + 6, c.rcv_nxt, 0x18,
	    64240, "NOOP\r\n", 6, 0);
	dpt_poll(&T, 0);
	CU_ASSERT_FATAL(dpt_recv(&T, &f) == 0);
	CU_ASSERT_EQUAL(f.flags, 0x10);
	CU_ASSERT_EQUAL(f.ack, c.snd_nxt);
	CU_ASSERT_EQUAL(f.len, 0);
	CU_ASSERT_EQUAL(cnt()->ooo_dropped, 1);
	/* the gap filled (old bytes again plus new): one reply per NOOP */
	dpt_talk(&T, &c, "RSET\r\nNOOP\r\n", buf, sizeof(buf));
	CU_ASSERT(strncmp(buf, "250 ", 4) == 0);
	CU_ASSERT(strstr(buf + 4, "\r\n250 ") != NULL);
	/* a retransmission of old data is acknowledged, not delivered */
	dpt_tcp(&T, CIP, 40014, SINK, 25, c.snd_nxt - 6, c.rcv_nxt, 0x18,
	    64240, "NOOP\r\n", 6, 0);
	dpt_poll(&T, 0);
	CU_ASSERT_FATAL(dpt_recv(&T, &f) == 0);
	CU_ASSERT_EQUAL(f.len, 0);
	CU_ASSERT_EQUAL(f.ack, c.snd_nxt);
	close_by_quit(&c);
}

/* test_window - the advertised window is the session's input room */
static void
test_window(void)
{
	struct dpt_conn c;
	struct dpt_frame f;
	char buf[2048];

	greet(&c, 40015, SINK, buf, sizeof(buf));
	dpt_tcp(&T, CIP, 40015, SINK, 25, c.snd_nxt, c.rcv_nxt, 0x10, 64240,
	    "EHLO", 4, 0);			/* an incomplete line stays */
	c.snd_nxt += 4;
	dpt_poll(&T, 0);
	CU_ASSERT_FATAL(dpt_recv(&T, &f) == 0);
	CU_ASSERT_EQUAL(f.ack, c.snd_nxt);
	CU_ASSERT_EQUAL(f.win, SMTP_INBUF_SIZE - 4);
	dpt_talk(&T, &c, " x\r\n", buf, sizeof(buf));
	CU_ASSERT(strncmp(buf, "250", 3) == 0);
	close_by_quit(&c);
}

/* test_half_open_bound - beyond max_half_open, SYNs are dropped */
static void
test_half_open_bound(void)
{
	struct dpt_frame f;
	int n = 0;

	dpt_teardown(&T);
	CU_ASSERT_FATAL(dpt_setup(&T, 64, 2) == 0);
	dpt_tcp(&T, CIP, 41000, GMAIL, 25, 1, 0, 0x02, 1000, NULL, 0, 1460);
	dpt_tcp(&T, CIP, 41001, GMAIL, 25, 1, 0, 0x02, 1000, NULL, 0, 1460);
	dpt_tcp(&T, CIP, 41002, GMAIL, 25, 1, 0, 0x02, 1000, NULL, 0, 1460);
	dpt_poll(&T, 0);
	while (dpt_recv(&T, &f) == 0)
		n += f.flags == 0x12;
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(cnt()->syn_dropped, 1);
	CU_ASSERT_EQUAL(utcp_nconns(stack()), 2);
}

/* test_pool_bound - beyond the sessions, the profile's protocol.busy;
 * beyond the control blocks (twice the sessions), SYNs are dropped */
static void
test_pool_bound(void)
{
	const struct dp_smtp_counters *sc;
	struct dpt_conn c, d, e;
	struct dpt_frame f;
	char buf[2048];
	uint8_t fl = 0;
	int prof;

	dpt_teardown(&T);
	CU_ASSERT_FATAL(dpt_setup(&T, 1, 1) == 0);
	greet(&c, 41100, GMAIL, buf, sizeof(buf));
	CU_ASSERT(strncmp(buf, "220 ", 4) == 0);
	/* no session left: the busy reply, then our FIN */
	CU_ASSERT_FATAL(dpt_connect(&T, &d, CIP, 41101, GMAIL) == 0);
	dpt_collect(&T, &d, buf, sizeof(buf), &fl);
	CU_ASSERT(strncmp(buf, "421 4.4.5 Server busy", 21) == 0);
	CU_ASSERT(strstr(buf, " - gsmtp\r\n") != NULL);
	CU_ASSERT(fl & 0x01);
	sc = dp_lcore_smtp_counters(T.lc);
	CU_ASSERT_EQUAL(sc->busy, 1);
	prof = prof_world_lookup(T.world, GMAIL);
	CU_ASSERT_FATAL(prof >= 0);
	CU_ASSERT_EQUAL(sim_stats_get(dp_lcore_stats(T.lc), (size_t)prof,
	    SIM_RK_BUSY), 1);
	CU_ASSERT_EQUAL(utcp_nsessions(stack()), 1);
	/* both control blocks in use: a SYN is dropped */
	dpt_tcp(&T, CIP, 41102, GMAIL, 25, 1, 0, 0x02, 1000, NULL, 0, 1460);
	dpt_poll(&T, 0);
	CU_ASSERT_EQUAL(dpt_recv(&T, &f), -1);
	CU_ASSERT_EQUAL(cnt()->syn_dropped, 1);
	dpt_tcp(&T, d.cip, d.cport, d.mip, d.mport, d.snd_nxt, 0, 0x04, 0,
	    NULL, 0, 0);
	dpt_poll(&T, 0);
	CU_ASSERT_EQUAL(utcp_nconns(stack()), 1);
	close_by_quit(&c);
	/* the session is back: a new connection is greeted */
	greet(&e, 41103, GMAIL, buf, sizeof(buf));
	CU_ASSERT(strncmp(buf, "220 ", 4) == 0);
	CU_ASSERT_EQUAL(sc->busy, 1);
}

/* test_idle_timeout - the profile's timeout reply (Gmail's 451 4.4.2)
 * and FIN after the idle limit */
static void
test_idle_timeout(void)
{
	struct dpt_conn c;
	char buf[2048];
	uint8_t fl;
	int i;

	greet(&c, 40016, GMAIL, buf, sizeof(buf));
	for (i = 0; i < 31; i++)
		dpt_poll(&T, 1000);
	dpt_collect(&T, &c, buf, sizeof(buf), &fl);
	CU_ASSERT(strncmp(buf, "451", 3) == 0);
	CU_ASSERT(strstr(buf, "451 4.4.2 ") != NULL);
	CU_ASSERT(fl & 0x01);
	CU_ASSERT_EQUAL(cnt()->timeouts, 1);
	CU_ASSERT_EQUAL(utcp_nsessions(stack()), 0);
}

/* test_drain - stop: the profile's shutdown reply (Gmail's 421 4.3.0)
 * to the session, RST to new SYNs */
static void
test_drain(void)
{
	struct dpt_conn c;
	struct dpt_frame f;
	char buf[2048];
	uint8_t fl;

	greet(&c, 40017, GMAIL, buf, sizeof(buf));
	dp_lcore_drain(T.lc, T.now);
	dpt_collect(&T, &c, buf, sizeof(buf), &fl);
	CU_ASSERT(strncmp(buf, "421", 3) == 0);
	CU_ASSERT(strstr(buf, "421 4.3.0 ") != NULL);
	CU_ASSERT(fl & 0x01);
	dpt_tcp(&T, CIP, 40018, GMAIL, 25, 1, 0, 0x02, 1000, NULL, 0, 1460);
	dpt_poll(&T, 0);
	CU_ASSERT_FATAL(dpt_recv(&T, &f) == 0);
	CU_ASSERT_EQUAL(f.flags, 0x14);
	CU_ASSERT_EQUAL(utcp_nsessions(stack()), 0);
	dp_lcore_finish(T.lc, T.now);
}

/* test_replay - the same client segments give the same server bytes */
static void
test_replay(void)
{
	struct dpt_conn c;
	char a[2048], b[2048];

	greet(&c, 40019, GMAIL, a, sizeof(a));
	dpt_talk(&T, &c, "EHLO x\r\n", a + strlen(a), sizeof(a) - strlen(a));
	dpt_teardown(&T);
	CU_ASSERT_FATAL(dpt_setup(&T, 64, 0) == 0);
	greet(&c, 40019, GMAIL, b, sizeof(b));
	dpt_talk(&T, &c, "EHLO x\r\n", b + strlen(b), sizeof(b) - strlen(b));
	CU_ASSERT_STRING_EQUAL(a, b);
}

/* test_utcp_register - the suite */
int
test_utcp_register(void)
{
	static const struct {
		const char	*name;
		void		(*fn)(void);
	} tests[] = {
		{ "handshake and close by QUIT", test_handshake },
		{ "ISN keyed by tuple and seed", test_isn },
		{ "whole transaction", test_transaction },
		{ "pipelined commands", test_pipelined },
		{ "data retransmitted on loss", test_retransmit_data },
		{ "timers on time with a 1 ms clock", test_fine_clock },
		{ "SYN-ACK retransmitted", test_retransmit_synack },
		{ "retry limit resets", test_retry_limit },
		{ "RST from the client", test_rst_from_client },
		{ "FIN from the client", test_fin_from_client },
		{ "half close after QUIT", test_half_close_after_quit },
		{ "RST for closed port and no connection", test_rst_closed },
		{ "SYN outside the ranges", test_syn_outside },
		{ "out-of-order dropped", test_out_of_order },
		{ "window is the input room", test_window },
		{ "half-open bound", test_half_open_bound },
		{ "pool bound", test_pool_bound },
		{ "idle timeout", test_idle_timeout },
		{ "drain", test_drain },
		{ "replay", test_replay },
	};
	CU_pSuite s;
	size_t i;

	s = CU_add_suite_with_setup_and_teardown("utcp", NULL, NULL,
	    tcp_setup, tcp_teardown);
	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL)
			return -1;
	return 0;
}
