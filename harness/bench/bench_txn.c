/*
 * DESCRIPTION
 *	Transaction-size micro-benchmark: one pooled SMTP session (the
 *	worker pool of smtp_conns.h) on the bundled scenario, one transaction
 *	of N recipients of 64 characters (EHLO, MAIL, N x RCPT, DATA, a
 *	one-line message), fed as a pipelining client would.  Prints one JSON
 *	object: replies, the session struct's size and the arena memory the
 *	transaction held.  Under callgrind, --toggle-collect=smtp_session_input
 *	counts the session's instructions only (BENCHMARKS.md).
 *
 *	usage: bench_txn [-n RCPTS] [-m MX_IP]   (default 1000, 127.0.0.1:
 *	           the sink profile; 127.2.0.5 is microsoft)
 *
 * DIAGNOSTICS
 *	Exit 1 when the scenario does not load, memory runs out or the MX
 *	address is not served.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prof_load.h"
#include "sim_clock.h"
#include "sim_state.h"
#include "smtp_arena.h"
#include "smtp_conns.h"

#ifndef MXSIM_PROFILES_DIR
#define MXSIM_PROFILES_DIR "profiles"
#endif

struct bt_out {
	unsigned	 n2xx, n4xx, n5xx;
	struct smtp_pool *pool;
};

static void	bt_drain(struct smtp_session *, struct bt_out *);
static void	bt_feed(struct smtp_session *, const char *, size_t,
		    struct bt_out *);

/* bt_drain - count and drop pending replies, resuming input */
static void
bt_drain(struct smtp_session *s, struct bt_out *o)
{
	const uint8_t *p;
	size_t n, i;

	for (;;) {
		smtp_session_outbuf(s, &p, &n);
		if (n == 0)
			return;
		for (i = 0; i + 4 <= n; i++)
			if ((i == 0 || p[i - 1] == '\n') && p[i + 3] == ' ') {
				o->n2xx += p[i] == '2';
				o->n4xx += p[i] == '4';
				o->n5xx += p[i] == '5';
			}
		smtp_session_consume(s, n);
		smtp_session_input(s, 0);
	}
}

/* bt_feed - write @n bytes of input as room allows */
static void
bt_feed(struct smtp_session *s, const char *in, size_t n, struct bt_out *o)
{
	uint8_t *p;
	size_t room;

	while (n > 0 && !smtp_session_closing(s)) {
		smtp_session_inbuf(s, &p, &room);
		if (room == 0) {
			bt_drain(s, o);
			continue;
		}
		if (room > n)
			room = n;
		memcpy(p, in, room);
		smtp_session_input(s, room);
		in += room;
		n -= room;
		bt_drain(s, o);
	}
	bt_drain(s, o);
}

int
main(int argc, char **argv)
{
	static char in[1 << 20];
	struct prof_error err;
	struct smtp_pool_stats ps;
	struct smtp_conn_info ci;
	struct smtp_env env;
	struct sim_clock clock;
	struct smtp_session *s;
	struct prof_world *w;
	struct bt_out o;
	struct in_addr mx;
	const char *mxs = "127.0.0.1";
	unsigned nrcpts = 1000, i;
	size_t len;
	int c;

	while ((c = getopt(argc, argv, "n:m:")) != -1) {
		if (c == 'n')
			nrcpts = (unsigned)strtoul(optarg, NULL, 10);
		else if (c == 'm')
			mxs = optarg;
		else
			return 2;
	}
	if (nrcpts > 10000 || inet_pton(AF_INET, mxs, &mx) != 1)
		return 2;
	memset(&env, 0, sizeof(env));
	memset(&o, 0, sizeof(o));
	w = prof_load_scenario(MXSIM_PROFILES_DIR "/default.yaml",
	    MXSIM_PROFILES_DIR, &err);
	env.world = w;
	sim_clock_init_manual(&clock, 1767225600000ULL);
	env.clock = &clock;
	env.state = sim_state_new(4096, SIM_STATE_IDLE_MS);
	o.pool = smtp_conns_pool_new(64);
	if (env.world == NULL || env.state == NULL || o.pool == NULL)
		return 1;
	memset(&ci, 0, sizeof(ci));
	ci.mx_ip = ntohl(mx.s_addr);
	ci.client_ip = 0x7f006401;	/* 127.0.100.1 */
	ci.session_id = 1;
	if ((s = smtp_session_new_pool(&env, o.pool, &ci)) == NULL ||
	    smtp_session_profile(s) == UINT32_MAX)
		return 1;
	smtp_session_start(s);
	len = (size_t)snprintf(in, sizeof(in), "EHLO bench.auth.example\r\n"
	    "MAIL FROM:<bulk@auth.example>\r\n");
	for (i = 0; i < nrcpts; i++)
		len += (size_t)snprintf(in + len, sizeof(in) - len, "RCPT TO:<"
		    "bulk.recipient.%05u.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx@"
		    "outlook.com>\r\n", i);
	len += (size_t)snprintf(in + len, sizeof(in) - len, "DATA\r\n"
	    "Subject: t\r\n\r\nhello\r\n.\r\nQUIT\r\n");
	bt_feed(s, in, len, &o);
	smtp_pool_stats(o.pool, &ps);	/* a fresh pool: its peaks are ours */
	printf("{\"mx\":\"%s\",\"rcpts\":%u,\"replies_2xx\":%u,"
	    "\"replies_4xx\":%u,\"replies_5xx\":%u,\"session_bytes\":%zu,"
	    "\"arena_bytes\":%zu}\n", mxs, nrcpts, o.n2xx, o.n4xx, o.n5xx,
	    smtp_session_size(), (size_t)(ps.txns_peak + ps.chunks_peak) *
	    SMTP_ARENA_CHUNK);
	smtp_session_free(s);
	smtp_pool_free(o.pool);
	sim_state_free(env.state);
	prof_world_free(w);
	return 0;
}
