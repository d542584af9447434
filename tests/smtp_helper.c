/*
 * DESCRIPTION
 *	Fixture for the SMTP session and reply tests (see smtp_helper.h).
 *
 * DIAGNOSTICS
 *	Aborts when output exceeds the collection buffer (a test bug).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_helper.h"

static void	fix_on_event(void *, const struct sim_event *);
static int	fix_strdup(char **, const char *);
static void	fix_copy(char *, size_t, const char *);

/* fix_strdup - strdup into *dst; @return 0 or -ENOMEM */
static int
fix_strdup(char **dst, const char *s)
{
	return (*dst = strdup(s)) == NULL ? -ENOMEM : 0;
}

/* fix_copy - bounded string copy, NULL copies "" */
static void
fix_copy(char *dst, size_t cap, const char *s)
{
	snprintf(dst, cap, "%s", s == NULL ? "" : s);
}

/* fix_on_event - copy an event out of the hook */
static void
fix_on_event(void *ctx, const struct sim_event *ev)
{
	struct smtp_fix *fx = ctx;
	struct smtp_fix_event *e;

	if (fx->nev < SMTP_FIX_MAX_EVENTS) {
		e = &fx->ev[fx->nev];
		e->stage = ev->stage;
		e->rk = ev->rk;
		e->code = ev->code;
		fix_copy(e->enhanced, sizeof(e->enhanced), ev->enhanced);
		fix_copy(e->domain, sizeof(e->domain), ev->sender_domain);
		fix_copy(e->rcpt, sizeof(e->rcpt), ev->rcpt);
		e->nrcpts = ev->nrcpts;
		e->prof = ev->prof;
		e->session_id = ev->session_id;
		e->sim_ms = ev->sim_ms;
	}
	fx->nev++;
}

/* smtp_fix_init - world, clock, state and env */
int
smtp_fix_init(struct smtp_fix *fx)
{
	static const char *const ext[] = {
		"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"
	};
	struct prof_profile *p;
	size_t i;

	memset(fx, 0, sizeof(*fx));
	if ((fx->w = prof_world_new()) == NULL)
		return -ENOMEM;
	if ((p = prof_profile_new("testmx")) == NULL)
		goto fail;
	if (prof_world_add_profile(fx->w, p) != 0) {
		prof_profile_free(p);
		goto fail;
	}
	fx->p = p;
	if ((p->mx_hosts = calloc(1, sizeof(*p->mx_hosts))) == NULL ||
	    fix_strdup(&p->mx_hosts[0], "mx.test.example") != 0)
		goto fail;
	p->nmx_hosts = 1;
	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		if (fix_strdup(&p->ext[i], ext[i]) != 0)
			goto fail;
		p->next++;
	}
	free(p->trailer);
	if (fix_strdup(&p->trailer, " - sim") != 0)
		goto fail;
	p->limits.max_size = 10485760;
	if (prof_set_reply(p, SIM_RK_MAIL_OK, 250, "2.1.0",
	    "Sender OK ({domain})", SIM_STAGE_MAIL) != 0 ||
	    prof_set_reply(p, SIM_RK_RCPT_OK, 250, "2.1.5",
	    "Recipient <{addr}> OK", SIM_STAGE_RCPT) != 0 ||
	    prof_set_reply(p, SIM_RK_DATA_OK, 250, "2.0.0",
	    "OK {size} bytes queued", SIM_STAGE_EOD) != 0)
		goto fail;
	if (prof_world_add_block(fx->w, SMTP_FIX_MX, 24, 0) != 0)
		goto fail;
	sim_clock_init_manual(&fx->clock, 1700000000000ULL);
	if ((fx->st = sim_state_new(1024, 3600000)) == NULL)
		goto fail;
	fx->env.world = fx->w;
	fx->env.state = fx->st;
	fx->env.clock = &fx->clock;
	fx->env.on_event = fix_on_event;
	fx->env.event_ctx = fx;
	return 0;
fail:
	smtp_fix_free(fx);
	return -ENOMEM;
}

/* smtp_fix_free - release the fixture */
void
smtp_fix_free(struct smtp_fix *fx)
{
	prof_world_free(fx->w);
	sim_state_free(fx->st);
	fx->w = NULL;
	fx->st = NULL;
}

/* smtp_fix_conns - open connections of the fixture's client */
uint32_t
smtp_fix_conns(struct smtp_fix *fx)
{
	struct sim_entry *e;
	uint32_t n;

	e = sim_state_find(fx->st, SIM_KEY_IP, 0, SMTP_FIX_CLIENT, NULL,
	    sim_clock_now(&fx->clock));
	if (e == NULL)
		return 0;
	n = e->conns;
	sim_state_put(fx->st, e);
	return n;
}

/* smtp_fix_session - a started session from the fixture's client */
struct smtp_session *
smtp_fix_session(struct smtp_fix *fx, uint32_t mx_ip)
{
	struct smtp_conn_info ci;
	struct smtp_session *s;

	memset(&ci, 0, sizeof(ci));
	ci.mx_ip = mx_ip;
	ci.mx_port = 25;
	ci.client_ip = SMTP_FIX_CLIENT;
	ci.client_port = 40000;
	ci.session_id = SMTP_FIX_SESSION;
	s = fx->pool != NULL ? smtp_session_new_pool(&fx->env, fx->pool, &ci) :
	    smtp_session_new(&fx->env, &ci);
	if (s != NULL)
		smtp_session_start(s);
	return s;
}

/* smtp_fix_drain - collect pending output, resuming input each time */
void
smtp_fix_drain(struct smtp_session *s, char *out, size_t *len, size_t cap)
{
	const uint8_t *p;
	size_t n;

	for (;;) {
		smtp_session_outbuf(s, &p, &n);
		if (n == 0)
			break;
		if (n >= cap - *len)
			abort();
		memcpy(out + *len, p, n);
		*len += n;
		smtp_session_consume(s, n);
		smtp_session_input(s, 0);
	}
	out[*len] = '\0';
}

/* smtp_fix_feed - feed a transcript in pieces, collect the replies */
size_t
smtp_fix_feed(struct smtp_session *s, const char *in, size_t n, size_t cut,
    size_t chunk, char *out, size_t cap)
{
	uint8_t *p;
	size_t len = 0, off = 0, piece, room, k;

	smtp_fix_drain(s, out, &len, cap);
	while (off < n) {
		if (cut > 0 && cut < n)
			piece = off < cut ? cut - off : n - off;
		else
			piece = chunk == 0 ? n - off : chunk;
		if (piece > n - off)
			piece = n - off;
		while (piece > 0) {
			smtp_session_inbuf(s, &p, &room);
			if (room == 0) {
				/* Held back: drain and let it resume. */
				smtp_fix_drain(s, out, &len, cap);
				smtp_session_inbuf(s, &p, &room);
				if (room == 0)
					abort();
			}
			k = piece < room ? piece : room;
			memcpy(p, in + off, k);
			smtp_session_input(s, k);
			off += k;
			piece -= k;
		}
		smtp_fix_drain(s, out, &len, cap);
	}
	return len;
}
