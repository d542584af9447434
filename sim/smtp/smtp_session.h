/*
 * @file smtp_session.h
 * One server-side SMTP session (RFC 5321), transport-agnostic: bytes in,
 * reply bytes out.  It owns no socket and no timer; the backend (epoll
 * server, DPDK pipeline, tests) moves bytes and tells it about timeouts.
 * It asks the policy engine at connect, EHLO, MAIL, RCPT, DATA and end of
 * DATA and renders the chosen reply with the profile's texts.
 *
 * Driving it:
 *   s = smtp_session_new(env, ci);  smtp_session_start(s);
 *   (or smtp_session_new_pool(env, pool, ci) with a per-worker pool)
 *   loop: smtp_session_inbuf(s, &p, &room); n = read(..., p, room);
 *         smtp_session_input(s, n);   (n == 0 resumes after output drained)
 *         smtp_session_outbuf(s, &q, &len); sent = write(..., q, len);
 *         smtp_session_consume(s, sent);
 *         when smtp_session_done(s): close the transport.
 *   smtp_session_free(s);
 *
 * Input is processed only while the output buffer has room for a full
 * reply, so a client that pipelines without reading replies is held back
 * by the transport (bounded buffering).  Limits: command line 512 octets,
 * text line 1000 octets, both counting CRLF (RFC 5321 4.5.3.1).
 *
 * Content and authentication: with env->scan the message text goes
 * through a msg_scan and the policy sees facts->msg at end of DATA; with
 * env->auth SPF is checked at MAIL (facts->auth from MAIL on) and DKIM
 * and DMARC at end of DATA.  Both live in a DATA context (about 5.6 KB)
 * attached from the 354 to the end of the message.
 *
 * Memory: a session from smtp_session_new() carries its own input and
 * output buffers, transaction arena chunks (reserved address space for
 * one transaction at its bound) and, when env->scan or env->auth is
 * set, DATA context.  A session from
 * smtp_session_new_pool() is a small struct (see smtp_session_size())
 * that borrows an input buffer while input is buffered, an output buffer
 * while output is pending, a transaction arena from MAIL to the end
 * of the transaction (one chunk, more as its recipients need them:
 * smtp_arena.h) and a DATA context during DATA, all from the worker's
 * struct smtp_pool, and gives them back when empty: an idle session
 * holds no buffer.  A RCPT the arena has no room for (the transaction's
 * bound, or no growth chunk left in the pool) is answered rcpts.too_many
 * (452 4.5.3) and the transaction goes on with the recipients it has.  When a pool
 * runs dry the session answers "421 4.3.2" (the profile's shutdown text
 * if an output buffer is at hand, a fixed text otherwise) and closes;
 * smtp_pool_stats() counts these.
 *
 * Transactions: a mail transaction opens when a MAIL command is put to
 * the policy (syntax and sequence passed) and ends at the end-of-DATA
 * reply, a refused MAIL, RSET, EHLO/HELO, or when the session closes
 * (QUIT, a closing reply, timeout, shutdown, the peer's EOF).  Its
 * outcome is decided once, when it ends, and reported to env->on_txn:
 * the end-of-DATA reply decides alone (2xx accepted, 4xx deferred, 5xx
 * refused); otherwise the first 4xx reply sent inside it makes it
 * deferred, else the first 5xx refused, each with that reply's kind as
 * the reason; with neither it was abandoned.  Replies outside a
 * transaction (the 503s to RCPT and DATA pipelined after a refused MAIL,
 * connect and EHLO refusals) count as replies only.
 *
 * STARTTLS (RFC 3207): EHLO lists STARTTLS only when the profile's
 * extensions name it, env->tls_ok is set and the session is not under TLS
 * yet.  STARTTLS with an argument is answered 501 5.5.4, when not offered
 * 502 5.5.1 (503 5.5.1 once under TLS), outside the READY state (before
 * EHLO, in a transaction) 503 5.5.1.  Otherwise the session answers
 * "220 2.0.0" (kind ok.starttls), discards every byte received after the
 * STARTTLS line (clear text must not be executed under TLS) and waits:
 * smtp_session_tls_wanted() turns true, input is neither wanted nor
 * processed.  The backend sends the 220, runs the TLS handshake on the
 * transport and calls smtp_session_tls_started(); the session is then
 * back to the state before EHLO, with no HELO name and no transaction,
 * and facts->tls and each event's tls are true from there on.  A timeout
 * or shutdown while the handshake is awaited closes without a reply.  If
 * the handshake fails the backend closes the connection
 * (smtp_session_eof()).
 *
 * SMTP AUTH (RFC 4954), on a submission profile only (p->submit.mechs; an
 * MX profile answers AUTH 502 5.5.1): EHLO under TLS lists AUTH with the
 * profile's mechanisms; AUTH before STARTTLS is submit.tls_required, before
 * EHLO, in a transaction or once logged in 503 5.5.1; the SASL exchange
 * (smtp_sasl.h) checks the credentials against the world's accounts and
 * env->acct (sim_acct.h: lockout, per-user limits).  Logged in, MAIL and
 * RCPT the policy accepted are checked against limits.per_user; without a
 * login MAIL is submit.auth_required.
 */
#ifndef SMTP_SESSION_H
#define SMTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prof_world.h"
#include "sim_clock.h"
#include "sim_event.h"
#include "sim_state.h"

#define SMTP_INBUF_SIZE		4096	/* input buffer per session */
#define SMTP_OUTBUF_SIZE	4096	/* output buffer per session */
#define SMTP_CMD_LINE_MAX	512	/* RFC 5321 4.5.3.1.4, with CRLF */
#define SMTP_TEXT_LINE_MAX	1000	/* RFC 5321 4.5.3.1.6, with CRLF */
#define SMTP_MAX_RCPTS		1000	/* hard cap on recipients kept
					 * (Postfix's smtpd_recipient_limit
					 * default; twice Microsoft's 500) */

struct smtp_auth;
struct msg_wordlist;
struct sim_acct;

/* Everything a session needs from its backend; shared, read-only (but
 * for auth, which belongs to the backend's worker thread). */
struct smtp_env {
	const struct prof_world *world;	/* current; the backend holds a
					 * reference (world_slot.h) and may
					 * swap it between calls.  A session
					 * holds the world it opened in (reply
					 * texts) until smtp_session_free() */
	struct sim_state *state;
	struct sim_acct	*acct;		/* submission accounts (sim_acct.h),
					 * or NULL: every login fails */
	const struct sim_clock *clock;
	smtp_event_fn	*on_event;	/* called once per logged reply; may be NULL */
	void		*event_ctx;
	smtp_txn_fn	*on_txn;	/* called once per ended mail
					 * transaction, with event_ctx; may
					 * be NULL */
	/* issue 5: message content and authentication */
	bool		 scan;		/* scan each message (msg_scan) and
					 * give the policy facts->msg */
	const struct msg_wordlist *words; /* spam words for the scan, or NULL */
	struct smtp_auth *auth;		/* this worker's SPF/DKIM/DMARC
					 * (smtp_auth.h), or NULL: the policy
					 * uses the scenario's declared facts */
	bool		 tls_ok;	/* the backend can run STARTTLS (see
					 * smtp_session_tls_wanted()) */
};

/* The connection as the backend sees it.  IPv4 addresses in host order;
 * an IPv6 connection (v6 true) has its addresses in mx6 and client6 and
 * mx_ip, client_ip 0. */
struct smtp_conn_info {
	uint32_t	 mx_ip;		/* local address: which fake MX */
	uint16_t	 mx_port;
	uint32_t	 client_ip;	/* peer address: which sender */
	uint16_t	 client_port;
	uint64_t	 session_id;	/* unique per process; shown as {session} */
	bool		 v6;		/* an IPv6 connection (issue 16) */
	struct sim_addr6 mx6;		/* v6: the local address */
	struct sim_addr6 client6;	/* v6: the peer address */
};

struct smtp_session;
struct smtp_pool;

/** Pool counters (objects in use now, the most ever in use, refusals). */
struct smtp_pool_stats {
	uint32_t	 sessions;	/* sessions in use */
	uint32_t	 sessions_peak;
	uint32_t	 bufs;		/* input + output buffers in use */
	uint32_t	 bufs_peak;
	uint32_t	 txns;		/* transaction arenas in use (open
					 * transactions, a first chunk each) */
	uint32_t	 txns_peak;
	uint32_t	 chunks;	/* arena growth chunks in use */
	uint32_t	 chunks_peak;
	uint32_t	 dctxs;		/* DATA contexts (scanner, DKIM) */
	uint32_t	 dctxs_peak;
	uint64_t	 exhausted;	/* sessions ended "421 4.3.2" for want
					 * of a buffer or an arena */
	uint64_t	 arena_exhausted; /* RCPTs answered rcpts.too_many
					 * for want of a growth chunk */
	uint64_t	 arena_full;	/* ... at a transaction's arena bound */
};

/**
 * Fixed pools for one worker (not thread-safe): @p nsessions session
 * structs, @p nbufs buffers of SMTP_INBUF_SIZE bytes (input and output
 * alike), @p ntxns transaction arenas (a first chunk each) and as many
 * DATA contexts, and @p nchunks arena growth chunks (smtp_arena.h) that
 * the open transactions share.  Address space is reserved at once; pages
 * become resident only when first used.
 * @return the pool, or NULL (bad sizes, out of memory).
 */
struct smtp_pool *smtp_pool_new_chunks(uint32_t nsessions, uint32_t nbufs,
    uint32_t ntxns, uint32_t nchunks);

/** smtp_pool_new_chunks() with growth chunks for every one of the @p ntxns
 *  transactions to reach its bound (SMTP_ARENA_TXN_CHUNKS).
 *  @return the pool, or NULL (bad sizes, out of memory). */
struct smtp_pool *smtp_pool_new(uint32_t nsessions, uint32_t nbufs,
    uint32_t ntxns);

/** Free a pool (after every session taken from it was freed). */
void smtp_pool_free(struct smtp_pool *pool);

/** Copy the pool's counters into @p out. */
void smtp_pool_stats(const struct smtp_pool *pool,
    struct smtp_pool_stats *out);

/** @return bytes of one pooled session struct (without buffers). */
size_t smtp_session_size(void);

/**
 * Create a session.  The profile is looked up from ci->mx_ip; a connection
 * to an address no profile serves is answered "554 5.3.2" and closed.
 * @return the session, or NULL when out of memory.
 */
struct smtp_session *smtp_session_new(const struct smtp_env *env,
    const struct smtp_conn_info *ci);

/**
 * Create a session whose struct, buffers and arena come from @p pool.
 * @return the session, or NULL when the pool has no session left.
 */
struct smtp_session *smtp_session_new_pool(const struct smtp_env *env,
    struct smtp_pool *pool, const struct smtp_conn_info *ci);

/** Ask the policy at connect and queue the greeting (or the refusal). */
void smtp_session_start(struct smtp_session *s);

/** Where the backend may write up to @p room input bytes (room may be 0:
 *  input held back, or, for a pooled session, no buffer left, in which
 *  case the session now closes with "421 4.3.2" pending). */
void smtp_session_inbuf(struct smtp_session *s, uint8_t **p, size_t *room);

/** @p n bytes were written at the inbuf pointer; process what can be
 *  processed.  Call with 0 to resume after output was drained, or after
 *  a read that found nothing (a pooled session then returns its empty
 *  input buffer). */
void smtp_session_input(struct smtp_session *s, size_t n);

/** Pending output: @p len bytes at @p p (len may be 0). */
void smtp_session_outbuf(const struct smtp_session *s, const uint8_t **p,
    size_t *len);

/** @p n bytes of output were sent. */
void smtp_session_consume(struct smtp_session *s, size_t n);

/** The idle (or, where the backend cannot tell, session) time limit
 * passed: queue protocol.timeout ("421 4.4.2") and close. */
void smtp_session_timeout(struct smtp_session *s);

/** The session time limit passed: queue protocol.expired (by default the
 * same reply as protocol.timeout) and close. */
void smtp_session_expired(struct smtp_session *s);

/** The server is stopping: queue "421 4.3.2" and close (at a command
 *  boundary; a message in DATA is not cut short by this call). */
void smtp_session_shutdown(struct smtp_session *s);

/** The peer closed or reset the connection. */
void smtp_session_eof(struct smtp_session *s);

/** @return true once the session decided to close (after its last reply). */
bool smtp_session_closing(const struct smtp_session *s);

/** @return true when closing and all output has been consumed. */
bool smtp_session_done(const struct smtp_session *s);

/** @return true when the session ended on the client's QUIT (answered
 *  221): the client sends nothing more. */
bool smtp_session_quit(const struct smtp_session *s);

/** @return true when the session waits for input it can accept now
 *  (not closing, input room available, output not full). */
bool smtp_session_wants_input(const struct smtp_session *s);

/** @return true when STARTTLS was answered 220 and the backend should
 *  now, once the output is sent, run the TLS handshake (the session reads
 *  no input meanwhile). */
bool smtp_session_tls_wanted(const struct smtp_session *s);

/** The backend completed the TLS handshake that smtp_session_tls_wanted()
 *  asked for (panics when it did not ask, or output is pending): forget
 *  EHLO and the transaction, run under TLS from now on. */
void smtp_session_tls_started(struct smtp_session *s);

/** @return true once the session runs over TLS. */
bool smtp_session_tls(const struct smtp_session *s);

/** @return the profile index, or UINT32_MAX when no MX is at the address. */
uint32_t smtp_session_profile(const struct smtp_session *s);

/** @return the state name ("GREETING", "READY", "MAIL", "RCPT", "DATA",
 *  "TLS", "QUIT"), for logs and tests. */
const char *smtp_session_strstate(const struct smtp_session *s);

/** Release the connection in the policy and free the session. */
void smtp_session_free(struct smtp_session *s);

#endif /* SMTP_SESSION_H */
