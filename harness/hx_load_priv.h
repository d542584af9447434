/*
 * @file hx_load_priv.h
 * Private to the mxload engine (hx_load.c, hx_conn.c, hx_smtp.c,
 * hx_txn.c, hx_out.c, hx_tls.c); never included elsewhere.  The run
 * context, the connection slot and its states, and the functions the
 * engine's files call in one another.  Every function takes the run
 * context and a slot of its pool; none can fail in a way the caller
 * must handle: failures end the slot's connection (hx_conn_fail()) and
 * the callers check c->state or c->gen afterwards.
 */
#ifndef HX_LOAD_PRIV_H
#define HX_LOAD_PRIV_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdint.h>

#include <openssl/ssl.h>

#include "hx_load.h"
#include "hx_msg.h"
#include "hx_reply.h"

#define HX_IBUF		4096	/* receive buffer; longest reply line */
#define HX_OBUF		4096	/* send buffer */
#define HX_HDR_MAX	2048	/* message header block (with a DKIM
				   signature) */
#define HX_CMD_MAX	(16 + HX_LOCAL_MAX + HX_DOMAIN_MAX + 32) /* 1 cmd */

#define HX_CF_PIPE	0x01	/* pipelining in use on this connection */
#define HX_CF_SIZE	0x02	/* server offered SIZE */
#define HX_CF_QUEUED	0x04	/* slot is in the start queue */
#define HX_CF_TIMED	0x08	/* slot is in the timeout queue */
#define HX_CF_WANTOUT	0x10	/* EPOLLOUT registered */
#define HX_CF_INMSG	0x20	/* a message is reserved, no outcome yet */
#define HX_CF_EODSENT	0x40	/* the final dot has been sent */
#define HX_CF_TLS	0x80	/* STARTTLS done: the session is under TLS */
#define HX_CF_RETRY	0x100	/* the reserved message is a retry: it goes
				   to c->rm.target */

/* Connection states; only hx_conn_state() assigns c->state. */
enum hx_cstate {
	HX_CS_IDLE = 0,		/* no socket */
	HX_CS_CONNECTING,	/* non-blocking connect in progress */
	HX_CS_GREETING,		/* waiting for the banner */
	HX_CS_EHLO,
	HX_CS_HELO,
	HX_CS_STARTTLS,		/* STARTTLS sent, waiting for its 220 */
	HX_CS_TLSHS,		/* TLS handshake under way */
	HX_CS_READY,		/* between messages, waiting to start one */
	HX_CS_ENVELOPE,		/* MAIL/RCPT/DATA replies outstanding */
	HX_CS_BODY,		/* sending the body, then the eod reply */
	HX_CS_DISCARD,		/* sent a lone "." after an unwanted 354 */
	HX_CS_RSET,
	HX_CS_QUIT
};

/* One connection slot; buffers are fixed, reused for every connection. */
struct hx_conn {
	TAILQ_ENTRY(hx_conn) tq;	/* timeout queue */
	uint64_t	 deadline;	/* us, valid with HX_CF_TIMED */
	uint64_t	 seq;		/* current message number */
	uint64_t	 user0;		/* first recipient's user number */
	uint64_t	 eod_sent;	/* us when the final dot left */
	uint64_t	 cmd_us;	/* us of the last command written
					   (connect(): the greeting's) */
	uint64_t	 body_sent;	/* message bytes written (BODY) */
	struct hx_abort_plan ab;	/* this message's abort plan */
	struct hx_retry_msg rm;		/* with conf->retry: the reserved
					   message's attempts and times */
	int		 fd;		/* -1 when idle */
	SSL		*ssl;		/* after STARTTLS's 220, or NULL */
	uint32_t	 id;		/* slot index */
	uint32_t	 gen;		/* per connection: drops stale events */
	uint32_t	 target;	/* target index */
	uint32_t	 flags;		/* HX_CF_* */
	enum hx_cstate	 state;
	unsigned	 msgs;		/* messages started on this conn */
	unsigned	 env_sent;	/* envelope commands written */
	unsigned	 env_allowed;	/* envelope commands that may be */
	unsigned	 env_replied;	/* envelope replies received */
	unsigned	 rcpt_ok;	/* RCPTs accepted */
	unsigned	 rcpt_fail;	/* first failing RCPT code */
	size_t		 in_len;
	size_t		 out_off;	/* first unsent byte */
	size_t		 out_len;
	struct hx_reply	 reply;		/* reply being parsed */
	struct hx_msg	 msg;		/* body generator */
	char		 in[HX_IBUF];
	char		 out[HX_OBUF];
	char		 hdr[HX_HDR_MAX];
	char		 rcpt[HX_LOCAL_MAX];	/* --tag-rcpt: "m<seq>" */
};

TAILQ_HEAD(hx_conn_tq, hx_conn);

/* The run context: all engine state lives here. */
struct hx_load {
	const struct hx_load_conf *conf;
	struct hx_tally	*tally;
	struct hx_summary *sum;
	struct hx_conn	*conns;		/* conf->concurrency slots */
	uint32_t	*queue;		/* start queue ring, slot ids */
	size_t		 qhead;
	size_t		 qlen;
	struct hx_conn_tq timers;	/* ordered by deadline */
	uint64_t	*tcursor;	/* next address per target */
	uint64_t	 start_us;
	uint64_t	 now_us;
	uint64_t	 timeout_us;
	uint64_t	 end_us;	/* duration deadline; 0: none */
	uint64_t	 next_progress;
	uint64_t	 started;	/* messages reserved */
	uint64_t	 next_target;
	uint64_t	 next_source;
	uint64_t	 nsrcaddr;	/* addresses over all sources */
	uint32_t	 open;		/* sockets open */
	int		 epfd;
	int		 sigfd;
	int		 stopping;	/* start nothing new */
	int		 aborting;	/* second signal: give up now */
	int		 fresh_done;	/* with retry: no new message starts,
					   queued retries still do */
	uint64_t	 until_us;	/* conf->retry_until deadline; 0 */
	uint64_t	 inflight;	/* messages reserved, no outcome */
	struct hx_retry_queue rq;	/* messages waiting for a retry */
	SSL_CTX		*tls_ctx;	/* with conf->starttls, else NULL */
	struct hx_tls_stats tls;	/* STARTTLS counts */
	char		 date[64];	/* Date: header text */
};

/* hx_load.c: clock, start queue */

/** @return the monotonic clock in microseconds. */
uint64_t	hx_mono_us(void);

/** Put a slot in the start queue, once (a slot already queued stays). */
void		hx_load_queue(struct hx_load *ld, struct hx_conn *c);

/** @return microseconds since the start of the run */
uint64_t	hx_load_rel(const struct hx_load *ld);

/* hx_conn.c: slot states, timers, socket lifecycle */

/** The one place that changes c->state; arms or stops the reply timer. */
void		hx_conn_state(struct hx_load *ld, struct hx_conn *c,
		    enum hx_cstate s);

/** (Re)start the slot's reply timer. */
void		hx_conn_arm(struct hx_load *ld, struct hx_conn *c);

/** @return the stage whose reply the slot is waiting for. */
enum hx_stage	hx_conn_stage(const struct hx_load *ld,
		    const struct hx_conn *c);

/** Open a connection for the slot's reserved message. */
void		hx_conn_open(struct hx_load *ld, struct hx_conn *c);

/** Close the socket (and TLS); the slot queues for new work. */
void		hx_conn_close(struct hx_load *ld, struct hx_conn *c);

/** Count a connection-level error (code 0, @p why) and close. */
void		hx_conn_fail(struct hx_load *ld, struct hx_conn *c,
		    enum hx_stage stage, const char *why);

/** A socket error @p err: expected after QUIT, a failure otherwise. */
void		hx_conn_neterr(struct hx_load *ld, struct hx_conn *c, int err);

/** Dispatch one epoll event of the slot's socket. */
void		hx_conn_event(struct hx_load *ld, struct hx_conn *c,
		    uint32_t events);

/** Fail every slot whose reply timer expired. */
void		hx_conn_timeouts(struct hx_load *ld);

/** Register (@p on) or drop interest in EPOLLOUT. */
void		hx_conn_want_out(struct hx_load *ld, struct hx_conn *c,
		    int on);

/* hx_smtp.c: replies drive the dialogue */

/** One complete reply (c->reply) arrived. */
void		hx_smtp_reply(struct hx_load *ld, struct hx_conn *c);

/** Send RSET (end a failed transaction). */
void		hx_smtp_rset(struct hx_load *ld, struct hx_conn *c);

/** Send QUIT (end the session). */
void		hx_smtp_quit(struct hx_load *ld, struct hx_conn *c);

/** After a message: queue for another on this connection, or QUIT. */
void		hx_smtp_next(struct hx_load *ld, struct hx_conn *c);

/* hx_txn.c: one message's transaction */

/** Start the reserved message on an established session. */
void		hx_txn_begin(struct hx_load *ld, struct hx_conn *c);

/** Give the reserved message outcome @p o, once (deciding @p stage and
 *  @p code, 0: none). */
void		hx_txn_decide(struct hx_load *ld, struct hx_conn *c,
		    enum hx_outcome o, enum hx_stage stage, unsigned code);

/** The slot's message leaves the connection without an outcome
 *  (abandoned): with conf->retry it ends deferred. */
void		hx_txn_abandon(struct hx_load *ld, struct hx_conn *c);

/** One --msg-log line for the slot's message (@p abort: show the plan). */
void		hx_txn_log(struct hx_load *ld, struct hx_conn *c,
		    const char *outcome, enum hx_stage stage, unsigned code,
		    int abort);

/** Carry out the message's abort plan: count, decide, drop the
 *  connection by RST or close. */
void		hx_txn_abort(struct hx_load *ld, struct hx_conn *c);

/* hx_out.c: commands and message text written */

/** Append one command and send.  @return 0; -1: connection dropped. */
int		hx_out_cmd(struct hx_load *ld, struct hx_conn *c,
		    const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

/** Fill and send until done or EAGAIN.  @return 0; -1: dropped. */
int		hx_out_pump(struct hx_load *ld, struct hx_conn *c);

/* hx_tls.c: the transport, plain or TLS */

/** @return the client context (no verification, no session reuse), or
 *  NULL when out of memory. */
SSL_CTX		*hx_tls_ctx_new(void);

/** STARTTLS was answered 220: begin the client handshake. */
void		hx_tls_start(struct hx_load *ld, struct hx_conn *c);

/** Continue the handshake; when done, EHLO again under TLS. */
void		hx_tls_step(struct hx_load *ld, struct hx_conn *c);

/** recv() or SSL_read().  @return bytes; 0: closed; -1 with errno as
 *  recv() sets it (EAGAIN: nothing now). */
ssize_t		hx_tls_recv(struct hx_conn *c, char *p, size_t room);

/** send() or SSL_write().  @return bytes; 0: the peer closed the TLS
 *  session; -1 with errno as send() sets it. */
ssize_t		hx_tls_send(struct hx_conn *c, const char *p, size_t len);

#endif /* HX_LOAD_PRIV_H */
