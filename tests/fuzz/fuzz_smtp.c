/*
 * DESCRIPTION
 *	libFuzzer harness for the SMTP session (smtp_session.c, with the
 *	policy, the state table and reply rendering underneath).  The
 *	world is fuzz_world.yaml: the bundled profiles plus a profile with
 *	tiny limits and the gmail-submission service with one account
 *	(fuzz@gmail.com / fuzz; SMTP AUTH once STARTTLS ran).  Input layout:
 *	  byte 0: MX (bits 0-2), client (bits 3-4), how it ends (bits 5-7);
 *	  byte 1: seed of the chunking, draining and clock steps; its top
 *	          bit offers STARTTLS (env.tls_ok): a session asking for
 *	          the handshake has its output drained and is told the
 *	          handshake succeeded, and the bytes that follow stand for
 *	          the decrypted stream;
 *	  rest:   the bytes the client sends.
 *	Each run builds a fresh state table and manual clock, optionally
 *	holds a second session from the same client open (connection
 *	limits), feeds the bytes in random chunks while draining the output
 *	in random amounts, and then ends with EOF, a timeout, a shutdown or
 *	a QUIT-less drain.
 *
 *	Invariants checked (abort on violation):
 *	- every output line is "DDD" (2xx..5xx) then ' ' or '-', then text
 *	  without control bytes but HT (RFC 5321 textstring), then CRLF;
 *	  lines of a multi-line reply share their code; no reply is left
 *	  unfinished at the end;
 *	- pending output never exceeds SMTP_OUTBUF_SIZE;
 *	- a session whose output is drained always accepts input or closes
 *	  (no stall with a full input buffer);
 *	- once closing, the session is done as soon as its output is drained;
 *	- every event has a code 200..599 and a valid stage;
 *	- after freeing every session, the state holds no open connection
 *	  for the client under any profile.
 *
 * DIAGNOSTICS
 *	Aborts (so libFuzzer keeps the input) on any invariant violation,
 *	and at start-up when fuzz_world.yaml does not load.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "prof_load.h"
#include "sim_acct.h"
#include "sim_rng.h"
#include "sim_state.h"
#include "smtp_session.h"

#define FZ_START_MS	1767225600000ULL	/* 2026-01-01 */
#define FZ_LINE_MAX	2048			/* longest reply line */
#define FZ_STEPS_MAX	100000			/* bound on the feed loop */

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Reply checker: one per session, fed the bytes as they are consumed. */
struct fz_out {
	char		 line[FZ_LINE_MAX];
	size_t		 len;
	int		 multi;		/* code of an open multi-line reply */
	unsigned	 nreplies;
};

static struct prof_world *fz_world;

static const uint32_t fz_mx[8] = {
	0x7f010005u,	/* gmail 127.1.0.5 */
	0x7f020005u,	/* microsoft */
	0x7f030005u,	/* yahoo */
	0x7f040005u,	/* generic */
	0x7f000001u,	/* sink */
	0x0a000001u,	/* tiny 10.0.0.1 */
	0x7f570105u,	/* gmail-submission 127.87.1.5 (AUTH under TLS) */
	0x0a090909u,	/* no MX */
};

static const uint32_t fz_client[4] = {
	0x7f000a01u,	/* 127.0.10.1 */
	0x7f004201u,	/* 127.0.66.1, blocklisted */
	0xc0000201u,	/* 192.0.2.1 */
	0x7f000a02u,
};

/* fz_out_line - check one complete reply line */
static void
fz_out_line(struct fz_out *o)
{
	const char *l = o->line;
	size_t i;
	int code;

	FUZZ_CHECK(o->len >= 6 && l[o->len - 2] == '\r',
	    "short or bare-LF line (%zu bytes)", o->len);
	FUZZ_CHECK(l[0] >= '2' && l[0] <= '5' && l[1] >= '0' &&
	    l[1] <= '9' && l[2] >= '0' && l[2] <= '9', "code \"%.3s\"", l);
	FUZZ_CHECK(l[3] == ' ' || l[3] == '-', "separator 0x%02x",
	    (unsigned char)l[3]);
	for (i = 4; i < o->len - 2; i++)
		FUZZ_CHECK(((unsigned char)l[i] >= 0x20 &&
		    (unsigned char)l[i] != 0x7f) || l[i] == '\t',
		    "control byte 0x%02x at column %zu: %.*s",
		    (unsigned char)l[i], i, (int)o->len, l);
	code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	FUZZ_CHECK(o->multi == 0 || o->multi == code,
	    "multi-line reply %d continued with %d", o->multi, code);
	if (l[3] == '-')
		o->multi = code;
	else {
		o->multi = 0;
		o->nreplies++;
	}
	o->len = 0;
}

/* fz_out_take - consume @n bytes of the session's output, checking them */
static void
fz_out_take(struct smtp_session *s, struct fz_out *o, size_t n)
{
	const uint8_t *p;
	size_t len, i;

	smtp_session_outbuf(s, &p, &len);
	FUZZ_CHECK(len <= SMTP_OUTBUF_SIZE, "%zu bytes pending", len);
	if (n > len)
		n = len;
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(o->len < sizeof(o->line), "reply line over %d",
		    FZ_LINE_MAX);
		o->line[o->len++] = (char)p[i];
		if (p[i] == '\n')
			fz_out_line(o);
	}
	smtp_session_consume(s, n);
}

/* fz_drain - consume all output, resume input, until nothing is left */
static void
fz_drain(struct smtp_session *s, struct fz_out *o)
{
	const uint8_t *p;
	size_t len;
	int round;

	for (round = 0; round < 64; round++) {
		smtp_session_outbuf(s, &p, &len);
		if (len == 0)
			break;
		fz_out_take(s, o, len);
		smtp_session_input(s, 0);
	}
	smtp_session_outbuf(s, &p, &len);
	FUZZ_CHECK(len == 0, "output keeps growing (%zu)", len);
	if (smtp_session_closing(s))
		FUZZ_CHECK(smtp_session_done(s), "closing, drained, not done");
}

/* fz_on_event - every event must be well-formed */
static void
fz_on_event(void *ctx, const struct sim_event *ev)
{
	unsigned *n = ctx;

	FUZZ_CHECK(ev->code >= 200 && ev->code <= 599, "event code %u",
	    ev->code);
	FUZZ_CHECK((unsigned)ev->stage < SIM_STAGE__COUNT, "stage %d",
	    (int)ev->stage);
	FUZZ_CHECK((unsigned)ev->rk < SIM_RK__COUNT, "kind %d", (int)ev->rk);
	(*n)++;
}

/* LLVMFuzzerInitialize - load the fuzzing world once */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct prof_error err;
	char buf[1200];

	(void)argc;
	(void)argv;
	fz_world = prof_load_scenario(FUZZ_DIR "/fuzz_world.yaml",
	    MXSIM_PROFILES_DIR, &err);
	if (fz_world == NULL) {
		fprintf(stderr, "fuzz_smtp: %s\n",
		    prof_error_str(&err, buf, sizeof(buf)));
		abort();
	}
	return 0;
}

/* LLVMFuzzerTestOneInput - one client against one MX */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_conn_info ci;
	struct smtp_session *s, *other = NULL;
	struct sim_entry *e;
	struct sim_clock clk;
	struct smtp_env env;
	struct fz_out out, oout;
	struct sim_state *st;
	struct sim_rng rng;
	uint8_t *ip;
	size_t pos, room, n, len, steps;
	const uint8_t *op;
	unsigned nevents = 0, ending, i;

	if (size < 2)
		return 0;
	memset(&out, 0, sizeof(out));
	memset(&oout, 0, sizeof(oout));
	sim_rng_seed(&rng, data[1], data[0]);
	sim_clock_init_manual(&clk, FZ_START_MS);
	if ((st = sim_state_new(256, 3600000)) == NULL)
		abort();
	memset(&env, 0, sizeof(env));
	env.world = fz_world;
	env.state = st;
	env.clock = &clk;
	env.on_event = fz_on_event;
	env.event_ctx = &nevents;
	env.tls_ok = (data[1] & 0x80) != 0;
	if ((env.acct = sim_acct_new(fz_world->naccounts)) == NULL)
		abort();
	memset(&ci, 0, sizeof(ci));
	ci.mx_ip = fz_mx[data[0] & 7];
	ci.mx_port = 25;
	ci.client_ip = fz_client[(data[0] >> 3) & 3];
	ci.client_port = 40000;
	ci.session_id = 0xf022;
	ending = data[0] >> 5;

	if (ending & 4) {
		/* Another open session from the same client first. */
		ci.session_id++;
		if ((other = smtp_session_new(&env, &ci)) == NULL)
			abort();
		smtp_session_start(other);
		fz_drain(other, &oout);
	}
	ci.session_id++;
	if ((s = smtp_session_new(&env, &ci)) == NULL)
		abort();
	smtp_session_start(s);

	pos = 2;
	for (steps = 0; pos < size && steps < FZ_STEPS_MAX &&
	    !smtp_session_closing(s); steps++) {
		if (smtp_session_tls_wanted(s)) {
			FUZZ_CHECK(env.tls_ok, "TLS wanted but not offered");
			fz_drain(s, &out);
			smtp_session_tls_started(s);
			continue;
		}
		smtp_session_inbuf(s, &ip, &room);
		switch (sim_rng_below(&rng, 8)) {
		case 6:		/* the peer reads part of the output */
			smtp_session_outbuf(s, &op, &len);
			fz_out_take(s, &out, sim_rng_below(&rng, len + 1));
			smtp_session_input(s, 0);
			continue;
		case 7:		/* reads everything; time passes */
			fz_drain(s, &out);
			sim_clock_set(&clk, sim_clock_now(&clk) +
			    sim_rng_below(&rng, 90000));
			continue;
		default:
			break;
		}
		if (room == 0 || !smtp_session_wants_input(s)) {
			fz_drain(s, &out);
			smtp_session_inbuf(s, &ip, &room);
			FUZZ_CHECK(room > 0 || smtp_session_closing(s),
			    "stalled: input full, output drained, state %s",
			    smtp_session_strstate(s));
			if (smtp_session_closing(s))
				break;
		}
		n = 1 + sim_rng_below(&rng, room < 700 ? room : 700);
		if (n > size - pos)
			n = size - pos;
		memcpy(ip, data + pos, n);
		pos += n;
		smtp_session_input(s, n);
		smtp_session_outbuf(s, &op, &len);
		FUZZ_CHECK(len <= SMTP_OUTBUF_SIZE, "%zu pending", len);
	}
	switch (ending & 3) {
	case 0:
		smtp_session_eof(s);
		smtp_session_outbuf(s, &op, &len);
		FUZZ_CHECK(len == 0 && smtp_session_done(s), "eof left %zu",
		    len);
		out.len = 0;	/* nothing more is sent to a gone peer */
		out.multi = 0;
		break;
	case 1:
		smtp_session_timeout(s);
		break;
	case 2:
		smtp_session_shutdown(s);
		break;
	default:
		break;
	}
	fz_drain(s, &out);
	FUZZ_CHECK(out.len == 0 && out.multi == 0,
	    "reply left unfinished (%zu bytes, multi %d)", out.len, out.multi);
	if ((ending & 3) == 1)
		FUZZ_CHECK(smtp_session_done(s), "timeout did not close (%s)",
		    smtp_session_strstate(s));
	smtp_session_free(s);
	if (other != NULL) {
		fz_drain(other, &oout);
		smtp_session_free(other);
	}
	for (i = 0; i < fz_world->nprofiles; i++) {
		e = sim_state_find(st, SIM_KEY_IP, i, ci.client_ip, NULL,
		    sim_clock_now(&clk));
		if (e == NULL)
			continue;
		FUZZ_CHECK(e->conns == 0, "profile %u: %u connections left",
		    i, e->conns);
		sim_state_put(st, e);
	}
	sim_state_free(st);
	sim_acct_free(env.acct);
	return 0;
}
