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
#define SMTP_MAX_RCPTS		1000	/* hard cap on recipients kept */

/* Everything a session needs from its backend; shared, read-only. */
struct smtp_env {
	const struct prof_world *world;
	struct sim_state *state;
	const struct sim_clock *clock;
	smtp_event_fn	*on_event;	/* called once per logged reply; may be NULL */
	void		*event_ctx;
};

/* The connection as the backend sees it.  Addresses in host order. */
struct smtp_conn_info {
	uint32_t	 mx_ip;		/* local address: which fake MX */
	uint16_t	 mx_port;
	uint32_t	 client_ip;	/* peer address: which sender */
	uint16_t	 client_port;
	uint64_t	 session_id;	/* unique per process; shown as {session} */
};

struct smtp_session;

/**
 * Create a session.  The profile is looked up from ci->mx_ip; a connection
 * to an address no profile serves is answered "554 5.3.2" and closed.
 * @return the session, or NULL when out of memory.
 */
struct smtp_session *smtp_session_new(const struct smtp_env *env,
    const struct smtp_conn_info *ci);

/** Ask the policy at connect and queue the greeting (or the refusal). */
void smtp_session_start(struct smtp_session *s);

/** Where the backend may write up to @p room input bytes (room may be 0). */
void smtp_session_inbuf(struct smtp_session *s, uint8_t **p, size_t *room);

/** @p n bytes were written at the inbuf pointer; process what can be
 *  processed.  Call with 0 to resume after output was drained. */
void smtp_session_input(struct smtp_session *s, size_t n);

/** Pending output: @p len bytes at @p p (len may be 0). */
void smtp_session_outbuf(const struct smtp_session *s, const uint8_t **p,
    size_t *len);

/** @p n bytes of output were sent. */
void smtp_session_consume(struct smtp_session *s, size_t n);

/** The idle or session time limit passed: queue "421 4.4.2" and close. */
void smtp_session_timeout(struct smtp_session *s);

/** The server is stopping: queue "421 4.3.2" and close (at a command
 *  boundary; a message in DATA is not cut short by this call). */
void smtp_session_shutdown(struct smtp_session *s);

/** The peer closed or reset the connection. */
void smtp_session_eof(struct smtp_session *s);

/** @return true once the session decided to close (after its last reply). */
bool smtp_session_closing(const struct smtp_session *s);

/** @return true when closing and all output has been consumed. */
bool smtp_session_done(const struct smtp_session *s);

/** @return true when the session waits for input it can accept now
 *  (not closing, input room available, output not full). */
bool smtp_session_wants_input(const struct smtp_session *s);

/** @return the profile index, or UINT32_MAX when no MX is at the address. */
uint32_t smtp_session_profile(const struct smtp_session *s);

/** @return the state name ("GREETING", "READY", "MAIL", "RCPT", "DATA",
 *  "QUIT", ...), for logs and tests. */
const char *smtp_session_strstate(const struct smtp_session *s);

/** Release the connection in the policy and free the session. */
void smtp_session_free(struct smtp_session *s);

#endif /* SMTP_SESSION_H */
