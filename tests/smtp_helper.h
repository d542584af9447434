/*
 * @file smtp_helper.h
 * Fixture for the SMTP tests: a hand-built world with one profile
 * ("testmx", MX host mx.test.example, PIPELINING/8BITMIME/
 * ENHANCEDSTATUSCODES, SIZE 10485760, trailer " - sim") serving
 * 10.0.0.0/24, a manual clock, a real policy state, and an event hook that
 * copies every event.  Transcripts are fed in chunks and the replies
 * collected into one string.
 */
#ifndef SMTP_HELPER_H
#define SMTP_HELPER_H

#include <stddef.h>
#include <stdint.h>

#include "prof_world.h"
#include "sim_clock.h"
#include "sim_event.h"
#include "sim_state.h"
#include "smtp_session.h"

#define SMTP_FIX_MX		0x0a000001u	/* 10.0.0.1, served */
#define SMTP_FIX_NO_MX		0x0a090909u	/* 10.9.9.9, not served */
#define SMTP_FIX_CLIENT		0xc000020au	/* 192.0.2.10 */
#define SMTP_FIX_SESSION	0x1234u
#define SMTP_FIX_MAX_EVENTS	64
#define SMTP_FIX_OUT_MAX	65536

/* An event as copied out of the hook (its strings live only there). */
struct smtp_fix_event {
	enum sim_stage	 stage;
	enum sim_rk	 rk;
	uint16_t	 code;
	char		 enhanced[16];
	char		 domain[64];	/* "" when NULL */
	char		 rcpt[64];	/* "" when NULL */
	uint32_t	 nrcpts;
	uint32_t	 prof;
	uint64_t	 session_id;
	uint64_t	 sim_ms;
};

struct smtp_fix {
	struct prof_world *w;
	struct prof_profile *p;		/* the world's profile 0 */
	struct sim_clock clock;
	struct sim_state *st;
	struct smtp_env	 env;
	struct smtp_pool *pool;		/* set: sessions come from it */
	struct smtp_fix_event ev[SMTP_FIX_MAX_EVENTS];
	size_t		 nev;		/* events seen (may exceed the array) */
};

/** Build the fixture. @return 0, or -ENOMEM. */
int smtp_fix_init(struct smtp_fix *fx);

/** Free the world and the state. */
void smtp_fix_free(struct smtp_fix *fx);

/** @return open connections the state holds for SMTP_FIX_CLIENT. */
uint32_t smtp_fix_conns(struct smtp_fix *fx);

/** New session to @p mx_ip from SMTP_FIX_CLIENT, started (from fx->pool
 *  when the test set one). */
struct smtp_session *smtp_fix_session(struct smtp_fix *fx, uint32_t mx_ip);

/**
 * Append all pending output of @p s to @p out (NUL-terminated, @p *len
 * bytes used of @p cap), resuming input processing after each drain.
 */
void smtp_fix_drain(struct smtp_session *s, char *out, size_t *len,
    size_t cap);

/**
 * Feed @p in (@p n bytes) in pieces: cut at offset @p cut when 0 < cut <
 * n, else in @p chunk-byte pieces (0 = all at once), draining the output
 * after each piece.  @return output length in @p out.
 */
size_t smtp_fix_feed(struct smtp_session *s, const char *in, size_t n,
    size_t cut, size_t chunk, char *out, size_t cap);

#endif /* SMTP_HELPER_H */
