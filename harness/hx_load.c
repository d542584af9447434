/*
 * DESCRIPTION
 *	The mxload engine.  A fixed array of connection slots, each with
 *	fixed input, output and header buffers, is driven by one epoll
 *	loop.  A slot that needs a message (a fresh slot, a slot whose
 *	connection ended, a connection between messages) waits in a FIFO
 *	start queue; the loop pops slots while the rate limit allows and
 *	the message limit and duration are not reached.  Each start
 *	reserves one message, so every attempted message ends with exactly
 *	one outcome even when its connection never gets to MAIL FROM.
 *
 *	Per connection: connect, greeting, EHLO (HELO after a 5xx), then
 *	per message MAIL, RCPT x R, DATA, body, "." (MAIL..DATA written in
 *	one go when the server offers PIPELINING), then the next message
 *	or QUIT.  A failing MAIL, all RCPTs failing, or a failing DATA end
 *	the message and are followed by RSET; a 421 or a server close ends
 *	the connection.  Only deciding replies are counted (see
 *	hx_tally.h); replies that merely follow an earlier failure of the
 *	same pipelined group (503 after a refused MAIL) are consumed
 *	without counting.
 *
 *	With conf->series set, message starts, outcomes and reply
 *	latencies also go to the per-second CSV (hx_series.c), and the
 *	loop never sleeps past the end of its open row.
 *
 *	With conf->abort_prob, each message may carry an abort plan
 *	(hx_abort_plan()): the engine then drops the connection, by RST or
 *	by close, at the planned point -- before MAIL, after writing MAIL
 *	and the first RCPT (MAIL's reply read first, never pipelined),
 *	halfway through the message text, or right
 *	after the final dot -- and gives the message the outcome "error"
 *	with a code 0 row "client abort ...".  Only an abort after the dot
 *	leaves the server's decision unknown; conf->msg_log says which
 *	message that was.
 *
 *	With conf->starttls, a connection whose EHLO reply lists STARTTLS
 *	sends STARTTLS, runs a non-blocking OpenSSL client handshake (no
 *	certificate verification: the peer is a test sink) and sends EHLO
 *	again; SSL_read and SSL_write then replace recv and send.  Each
 *	handshake allocates one SSL object; the plain path allocates
 *	nothing and only tests c->ssl.  A refused STARTTLS goes on in clear
 *	text; a failed handshake is an error "TLS handshake failed" at the
 *	ehlo stage.  conf->tls receives the counts.
 *
 *	Reply timeouts use one TAILQ ordered by deadline: every deadline is
 *	now + the same timeout, so appending keeps it sorted and expiry is
 *	O(1).
 *
 * DIAGNOSTICS
 *	Network failures are counted as rows with code 0 ("connect
 *	refused", "timeout", "reset", "closed", "bad reply").  A state
 *	switch reaching an impossible state aborts (internal bug).
 */
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <inttypes.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "hx_load.h"
#include "hx_msg.h"
#include "hx_reply.h"
#include "sim_rng.h"

#define HX_IBUF		4096	/* receive buffer; longest reply line */
#define HX_OBUF		4096	/* send buffer */
#define HX_HDR_MAX	2048	/* message header block (with a DKIM
				   signature) */
#define HX_CMD_MAX	(16 + HX_LOCAL_MAX + HX_DOMAIN_MAX + 32) /* 1 cmd */
#define HX_EVENTS	256	/* epoll_wait batch */
#define HX_TICK_MS	1000	/* longest sleep; progress period */
#define HX_SIG_TAG	UINT64_MAX /* epoll tag of the signalfd */
#define HX_AB_STREAM	UINT64_C(0xab0f7ab0f7ab0f7a) /* abort PRNG stream */
#define HX_LOG_LINE	256	/* one --msg-log line */

#define HX_CF_PIPE	0x01	/* pipelining in use on this connection */
#define HX_CF_SIZE	0x02	/* server offered SIZE */
#define HX_CF_QUEUED	0x04	/* slot is in the start queue */
#define HX_CF_TIMED	0x08	/* slot is in the timeout queue */
#define HX_CF_WANTOUT	0x10	/* EPOLLOUT registered */
#define HX_CF_INMSG	0x20	/* a message is reserved, no outcome yet */
#define HX_CF_EODSENT	0x40	/* the final dot has been sent */
#define HX_CF_TLS	0x80	/* STARTTLS done: the session is under TLS */

#define CASE(x)		case x: return #x

/* Connection states; only conn_state() assigns c->state. */
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
	SSL_CTX		*tls_ctx;	/* with conf->starttls, else NULL */
	struct hx_tls_stats tls;	/* STARTTLS counts */
	char		 date[64];	/* Date: header text */
};

/* helpers */
static uint64_t		mono_us(void);
static const char	*conn_strstate(enum hx_cstate);
static void		conn_state(struct hx_load *, struct hx_conn *,
			    enum hx_cstate);
static void		conn_arm(struct hx_load *, struct hx_conn *);
static void		conn_disarm(struct hx_load *, struct hx_conn *);
static enum hx_stage	conn_stage(const struct hx_load *,
			    const struct hx_conn *);
static enum hx_outcome	outcome_of(unsigned);

/* start queue and work admission */
static void		queue_push(struct hx_load *, struct hx_conn *);
static struct hx_conn	*queue_pop(struct hx_load *);
static void		start_work(struct hx_load *);
static void		set_stopping(struct hx_load *);
static int		rate_allows(const struct hx_load *);

/* connection lifecycle */
static void		conn_open(struct hx_load *, struct hx_conn *);
static void		conn_established(struct hx_load *, struct hx_conn *);
static void		conn_close(struct hx_load *, struct hx_conn *);
static void		conn_fail(struct hx_load *, struct hx_conn *,
			    enum hx_stage, const char *);
static void		conn_neterr(struct hx_load *, struct hx_conn *, int);
static void		conn_event(struct hx_load *, struct hx_conn *,
			    uint32_t);
static void		conn_timeouts(struct hx_load *);

/* input */
static void		conn_read(struct hx_load *, struct hx_conn *);
static int		conn_parse(struct hx_load *, struct hx_conn *);
static void		on_reply(struct hx_load *, struct hx_conn *);
static void		env_reply(struct hx_load *, struct hx_conn *);
static void		eod_reply(struct hx_load *, struct hx_conn *);

/* output */
static int		conn_cmd(struct hx_load *, struct hx_conn *,
			    const char *, ...)
			    __attribute__((format(printf, 3, 4)));
static void		conn_fill(struct hx_load *, struct hx_conn *);
static int		conn_pump(struct hx_load *, struct hx_conn *);
static void		conn_want_out(struct hx_load *, struct hx_conn *, int);
static void		tls_start(struct hx_load *, struct hx_conn *);
static void		tls_step(struct hx_load *, struct hx_conn *);
static ssize_t		conn_recv(struct hx_conn *, char *, size_t);
static ssize_t		conn_send(struct hx_conn *, const char *, size_t);
static ssize_t		tls_result(struct hx_conn *, int);

/* messages */
static void		msg_reserve(struct hx_load *, struct hx_conn *);
static void		msg_begin(struct hx_load *, struct hx_conn *);
static void		msg_decide(struct hx_load *, struct hx_conn *,
			    enum hx_outcome, enum hx_stage, unsigned);
static void		msg_log(struct hx_load *, struct hx_conn *,
			    const char *, enum hx_stage, unsigned, int);
static void		msg_abort(struct hx_load *, struct hx_conn *);
static void		msg_next(struct hx_load *, struct hx_conn *);
static void		tally_reply(struct hx_load *, struct hx_conn *,
			    enum hx_stage);
static void		send_rset(struct hx_load *, struct hx_conn *);
static void		send_quit(struct hx_load *, struct hx_conn *);
static void		end_after_failure(struct hx_load *, struct hx_conn *);

/* loop */
static void		handle_signal(struct hx_load *);
static void		progress(struct hx_load *, int);
static void		time_reply(struct hx_load *, struct hx_conn *);
static int		wait_ms(const struct hx_load *);

/* mono_us - monotonic clock in microseconds */
static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* conn_strstate - state name */
static const char *
conn_strstate(enum hx_cstate s)
{
	switch (s) {
	CASE(HX_CS_IDLE);
	CASE(HX_CS_CONNECTING);
	CASE(HX_CS_GREETING);
	CASE(HX_CS_EHLO);
	CASE(HX_CS_HELO);
	CASE(HX_CS_STARTTLS);
	CASE(HX_CS_TLSHS);
	CASE(HX_CS_READY);
	CASE(HX_CS_ENVELOPE);
	CASE(HX_CS_BODY);
	CASE(HX_CS_DISCARD);
	CASE(HX_CS_RSET);
	CASE(HX_CS_QUIT);
	default:
		return "HX_CS_???";
	}
}

/* conn_state - the one place that changes a slot's state; arms timers */
static void
conn_state(struct hx_load *ld, struct hx_conn *c, enum hx_cstate s)
{
	if (ld->conf->verbose)
		fprintf(stderr, "mxload: conn %u msg %llu: %s -> %s\n", c->id,
		    (unsigned long long)c->seq, conn_strstate(c->state),
		    conn_strstate(s));
	c->state = s;
	switch (s) {
	case HX_CS_IDLE:
	case HX_CS_READY:
		conn_disarm(ld, c);
		break;
	case HX_CS_CONNECTING:
	case HX_CS_GREETING:
	case HX_CS_EHLO:
	case HX_CS_HELO:
	case HX_CS_STARTTLS:
	case HX_CS_TLSHS:
	case HX_CS_ENVELOPE:
	case HX_CS_BODY:
	case HX_CS_DISCARD:
	case HX_CS_RSET:
	case HX_CS_QUIT:
		conn_arm(ld, c);
		break;
	default:
		abort();
	}
}

/* conn_arm - (re)start the reply timer */
static void
conn_arm(struct hx_load *ld, struct hx_conn *c)
{
	if (c->flags & HX_CF_TIMED)
		TAILQ_REMOVE(&ld->timers, c, tq);
	c->deadline = ld->now_us + ld->timeout_us;
	TAILQ_INSERT_TAIL(&ld->timers, c, tq);
	c->flags |= HX_CF_TIMED;
}

/* conn_disarm - stop the reply timer */
static void
conn_disarm(struct hx_load *ld, struct hx_conn *c)
{
	if (c->flags & HX_CF_TIMED) {
		TAILQ_REMOVE(&ld->timers, c, tq);
		c->flags &= ~HX_CF_TIMED;
	}
}

/* conn_stage - the stage whose reply the slot is waiting for */
static enum hx_stage
conn_stage(const struct hx_load *ld, const struct hx_conn *c)
{
	switch (c->state) {
	case HX_CS_IDLE:
	case HX_CS_CONNECTING:
	case HX_CS_GREETING:
		return HX_STAGE_CONNECT;
	case HX_CS_EHLO:
	case HX_CS_HELO:
	case HX_CS_STARTTLS:
	case HX_CS_TLSHS:
		return HX_STAGE_EHLO;
	case HX_CS_READY:
		return HX_STAGE_MAIL;
	case HX_CS_ENVELOPE:
		if (c->env_replied == 0)
			return HX_STAGE_MAIL;
		if (c->env_replied <= ld->conf->rcpts)
			return HX_STAGE_RCPT;
		return HX_STAGE_DATA;
	case HX_CS_BODY:
	case HX_CS_DISCARD:
		return HX_STAGE_EOD;
	case HX_CS_RSET:
		return HX_STAGE_RSET;
	case HX_CS_QUIT:
		return HX_STAGE_QUIT;
	default:
		abort();
	}
}

/* outcome_of - message outcome for a deciding reply code */
static enum hx_outcome
outcome_of(unsigned code)
{
	switch (code / 100) {
	case 2:
		return HX_OUT_ACCEPTED;
	case 4:
		return HX_OUT_DEFERRED;
	case 5:
		return HX_OUT_REJECTED;
	default:
		return HX_OUT_ERROR;
	}
}

/* queue_push - put a slot in the start queue, once */
static void
queue_push(struct hx_load *ld, struct hx_conn *c)
{
	size_t cap;

	if (c->flags & HX_CF_QUEUED)
		return;
	cap = ld->conf->concurrency;
	if (ld->qlen >= cap)
		abort();	/* each slot is queued at most once */
	ld->queue[(ld->qhead + ld->qlen) % cap] = c->id;
	ld->qlen++;
	c->flags |= HX_CF_QUEUED;
}

/* queue_pop - oldest queued slot, or NULL */
static struct hx_conn *
queue_pop(struct hx_load *ld)
{
	struct hx_conn *c;

	if (ld->qlen == 0)
		return NULL;
	c = &ld->conns[ld->queue[ld->qhead]];
	ld->qhead = (ld->qhead + 1) % ld->conf->concurrency;
	ld->qlen--;
	c->flags &= ~HX_CF_QUEUED;
	return c;
}

/* rate_allows - may another message start now? */
static int
rate_allows(const struct hx_load *ld)
{
	double allowed;

	if (ld->conf->rate <= 0)
		return 1;
	allowed = (double)(ld->now_us - ld->start_us) / 1e6 * ld->conf->rate +
	    1.0;
	return (double)ld->started < allowed;
}

/* set_stopping - start nothing new; idle connections say QUIT */
static void
set_stopping(struct hx_load *ld)
{
	struct hx_conn *c;

	ld->stopping = 1;
	while ((c = queue_pop(ld)) != NULL)
		if (c->state == HX_CS_READY)
			send_quit(ld, c);
}

/*
 * start_work - start queued messages while the limits allow; at most one
 * per slot per call, so slots failing at once cannot starve the loop
 */
static void
start_work(struct hx_load *ld)
{
	struct hx_conn *c;
	unsigned budget;

	if (!ld->stopping && ld->end_us != 0 && ld->now_us >= ld->end_us)
		set_stopping(ld);
	budget = ld->conf->concurrency;
	while (!ld->stopping && ld->qlen > 0 && budget-- > 0 &&
	    rate_allows(ld)) {
		c = queue_pop(ld);
		msg_reserve(ld, c);
		if (c->state == HX_CS_IDLE)
			conn_open(ld, c);
		else if (c->state == HX_CS_READY)
			msg_begin(ld, c);
		else
			abort();	/* only idle or ready slots queue */
		if (ld->conf->messages != 0 &&
		    ld->started >= ld->conf->messages)
			set_stopping(ld);
	}
}

/* msg_reserve - count a message start on this slot */
static void
msg_reserve(struct hx_load *ld, struct hx_conn *c)
{
	c->seq = ld->started++;
	c->flags |= HX_CF_INMSG;
	if (ld->conf->series != NULL)
		hx_series_sent(ld->conf->series, ld->now_us);
}

/* conn_open - open a new connection for the slot's reserved message */
static void
conn_open(struct hx_load *ld, struct hx_conn *c)
{
	const struct hx_load_conf *cf = ld->conf;
	const struct hx_target *t;
	struct sockaddr_in sa, src;
	struct epoll_event ev;
	uint64_t k;
	size_t i;
	int fd, one, rc;
	char why[96];

	c->target = (uint32_t)(ld->next_target++ % cf->ntargets);
	t = &cf->targets[c->target];
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(t->port);
	sa.sin_addr.s_addr = htonl(t->addr +
	    (uint32_t)(ld->tcursor[c->target]++ % t->naddr));
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	k = ld->next_source++ % ld->nsrcaddr;
	for (i = 0; i < cf->nsources && k >= cf->sources[i].naddr; i++)
		k -= cf->sources[i].naddr;
	src.sin_addr.s_addr = htonl(cf->sources[i].addr + (uint32_t)k);

	c->gen++;
	c->flags &= HX_CF_INMSG;
	c->msgs = 1;
	c->in_len = c->out_off = c->out_len = 0;
	hx_reply_reset(&c->reply);
	ld->sum->connections++;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, sizeof(why), "socket: %s", strerror(errno));
		conn_fail(ld, c, HX_STAGE_CONNECT, why);
		return;
	}
	c->fd = fd;
	ld->open++;
	one = 1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
#ifdef IP_BIND_ADDRESS_NO_PORT
	(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one));
#endif
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0) {
		snprintf(why, sizeof(why), "bind: %s", strerror(errno));
		conn_fail(ld, c, HX_STAGE_CONNECT, why);
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLOUT;
	ev.data.u64 = ((uint64_t)c->gen << 32) | c->id;
	if (epoll_ctl(ld->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		snprintf(why, sizeof(why), "epoll: %s", strerror(errno));
		conn_fail(ld, c, HX_STAGE_CONNECT, why);
		return;
	}
	c->flags |= HX_CF_WANTOUT;
	c->cmd_us = mono_us();
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc == 0) {
		conn_established(ld, c);
		return;
	}
	if (errno == EINPROGRESS) {
		conn_state(ld, c, HX_CS_CONNECTING);
		return;
	}
	conn_state(ld, c, HX_CS_CONNECTING);
	conn_neterr(ld, c, errno);
}

/* conn_established - TCP is up: wait for the greeting */
static void
conn_established(struct hx_load *ld, struct hx_conn *c)
{
	ld->sum->established++;
	conn_want_out(ld, c, 0);
	conn_state(ld, c, HX_CS_GREETING);
}

/* conn_close - close the socket; the slot queues for new work */
static void
conn_close(struct hx_load *ld, struct hx_conn *c)
{
	if (c->flags & HX_CF_INMSG) {
		ld->sum->aborted++;	/* only when abandoning the run */
		msg_log(ld, c, "abandoned", conn_stage(ld, c), 0,
		    (c->flags & HX_CF_EODSENT) != 0);
		c->flags &= ~HX_CF_INMSG;
	}
	if (c->ssl != NULL) {
		if (c->state == HX_CS_QUIT)
			(void)SSL_shutdown(c->ssl);	/* close_notify */
		SSL_free(c->ssl);
		ERR_clear_error();
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
		ld->open--;
	}
	c->flags &= ~(HX_CF_WANTOUT | HX_CF_PIPE | HX_CF_SIZE | HX_CF_TLS);
	conn_state(ld, c, HX_CS_IDLE);
	if (!ld->stopping)
		queue_push(ld, c);
}

/* conn_fail - count a connection-level error and drop the connection */
static void
conn_fail(struct hx_load *ld, struct hx_conn *c, enum hx_stage stage,
    const char *why)
{
	if (ld->conf->verbose)
		fprintf(stderr, "mxload: conn %u msg %llu: %s: %s\n", c->id,
		    (unsigned long long)c->seq, hx_stage_name(stage), why);
	(void)hx_tally_add(ld->tally, c->target, stage, 0, NULL, why);
	msg_decide(ld, c, HX_OUT_ERROR, stage, 0);
	conn_close(ld, c);
}

/* conn_neterr - a socket error: expected after QUIT, an error otherwise */
static void
conn_neterr(struct hx_load *ld, struct hx_conn *c, int err)
{
	char why[96];

	if (c->state == HX_CS_QUIT) {
		conn_close(ld, c);
		return;
	}
	switch (err) {
	case ECONNREFUSED:
		snprintf(why, sizeof(why), "connect refused");
		break;
	case ETIMEDOUT:
		snprintf(why, sizeof(why), "timeout");
		break;
	case ECONNRESET:
	case EPIPE:
		snprintf(why, sizeof(why), "reset");
		break;
	default:
		snprintf(why, sizeof(why), "%s", strerror(err));
		break;
	}
	conn_fail(ld, c, conn_stage(ld, c), why);
}

/* conn_timeouts - fail every slot whose reply timer expired */
static void
conn_timeouts(struct hx_load *ld)
{
	struct hx_conn *c;

	while ((c = TAILQ_FIRST(&ld->timers)) != NULL &&
	    c->deadline <= ld->now_us) {
		conn_disarm(ld, c);
		if (c->state == HX_CS_QUIT) {
			(void)hx_tally_add(ld->tally, c->target,
			    HX_STAGE_QUIT, 0, NULL, "timeout");
			conn_close(ld, c);
		} else
			conn_fail(ld, c, conn_stage(ld, c), "timeout");
	}
}

/* conn_event - dispatch one epoll event: errors and input first */
static void
conn_event(struct hx_load *ld, struct hx_conn *c, uint32_t events)
{
	socklen_t len;
	int err;

	if (c->state == HX_CS_CONNECTING) {
		err = 0;
		len = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (err != 0)
			conn_neterr(ld, c, err);
		else
			conn_established(ld, c);
		return;
	}
	if (c->state == HX_CS_TLSHS) {
		tls_step(ld, c);
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
		conn_read(ld, c);
		if (c->state == HX_CS_IDLE)
			return;
	}
	if (events & EPOLLOUT)
		(void)conn_pump(ld, c);
}

/* conn_read - drain the socket and handle every complete reply */
static void
conn_read(struct hx_load *ld, struct hx_conn *c)
{
	ssize_t n;

	for (;;) {
		if (c->in_len == sizeof(c->in)) {
			conn_fail(ld, c, conn_stage(ld, c), "reply too long");
			return;
		}
		n = conn_recv(c, c->in + c->in_len, sizeof(c->in) - c->in_len);
		if (n > 0) {
			c->in_len += (size_t)n;
			if (conn_parse(ld, c) != 0)
				return;
			if (c->state == HX_CS_TLSHS) {
				tls_step(ld, c);	/* after the 220 */
				return;
			}
			continue;
		}
		if (n == 0) {
			if (c->state == HX_CS_QUIT || c->state == HX_CS_READY)
				conn_close(ld, c);
			else
				conn_fail(ld, c, conn_stage(ld, c), "closed");
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			conn_neterr(ld, c, errno);
		return;
	}
}

/* conn_parse - feed buffered lines to the reply parser; -1: closed */
static int
conn_parse(struct hx_load *ld, struct hx_conn *c)
{
	enum hx_reply_rc rc;
	size_t off, used;
	uint32_t gen;

	off = 0;
	gen = c->gen;
	while (off < c->in_len) {
		rc = hx_reply_parse(&c->reply, c->in + off, c->in_len - off,
		    &used);
		off += used;
		if (rc == HX_REPLY_AGAIN)
			break;
		if (rc == HX_REPLY_INVALID) {
			conn_fail(ld, c, conn_stage(ld, c), "bad reply");
			return -1;
		}
		on_reply(ld, c);
		hx_reply_reset(&c->reply);
		if (c->state == HX_CS_IDLE || c->gen != gen)
			return -1;
		if (c->state == HX_CS_TLSHS) {
			off = c->in_len;	/* clear text after the 220 */
			break;
		}
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	return 0;
}

/* tally_reply - count the current reply under a stage */
static void
tally_reply(struct hx_load *ld, struct hx_conn *c, enum hx_stage stage)
{
	(void)hx_tally_add(ld->tally, c->target, stage, c->reply.code,
	    c->reply.enh, c->reply.text);
}

/* msg_decide - give the reserved message its outcome, once; stage and
 * code of the deciding reply (code 0: none) go to the message log */
static void
msg_decide(struct hx_load *ld, struct hx_conn *c, enum hx_outcome o,
    enum hx_stage stage, unsigned code)
{
	static const char *const names[HX_OUT_COUNT] = {
		"accepted", "deferred", "rejected", "error"
	};

	if (!(c->flags & HX_CF_INMSG))
		return;
	c->flags &= ~HX_CF_INMSG;
	msg_log(ld, c, names[o], stage, code, 0);
	hx_tally_outcome(ld->tally, c->target, o);
	if (ld->conf->series != NULL)
		hx_series_outcome(ld->conf->series, mono_us(), o);
}

/* msg_log - one --msg-log line for the slot's message */
static void
msg_log(struct hx_load *ld, struct hx_conn *c, const char *outcome,
    enum hx_stage stage, unsigned code, int abort)
{
	const struct hx_load_conf *cf = ld->conf;
	static const struct hx_abort_plan none = { HX_AB_NONE, HX_AB_RST };
	char line[HX_LOG_LINE], user[32];
	const char *rcpt;
	int n;

	if (cf->msg_log == NULL)
		return;
	rcpt = cf->tag_rcpt ? c->rcpt : cf->rcpt_local;
	if (rcpt == NULL) {
		snprintf(user, sizeof(user), "user%" PRIu64, c->user0);
		rcpt = user;
	}
	n = hx_msg_log_line(line, sizeof(line), c->seq,
	    cf->targets[c->target].name, outcome, stage, code,
	    abort ? &c->ab : &none, (c->flags & HX_CF_EODSENT) != 0, rcpt);
	if (n > 0)
		(void)fwrite(line, 1, (size_t)n, cf->msg_log);
}

/*
 * msg_abort - carry out the message's abort plan: count it, give the
 * message its outcome (error; "unknown" in the log after the dot), drop
 * the connection by RST or close
 */
static void
msg_abort(struct hx_load *ld, struct hx_conn *c)
{
	static const enum hx_stage stage_of[HX_AB__COUNT] = {
		HX_STAGE_MAIL, HX_STAGE_MAIL, HX_STAGE_RCPT, HX_STAGE_DATA,
		HX_STAGE_EOD
	};
	struct linger lg;
	char why[HX_TALLY_TEXT_MAX];
	enum hx_stage st = stage_of[c->ab.stage];

	if (ld->conf->aborts != NULL)
		hx_aborts_add(ld->conf->aborts, &c->ab);
	/* one row per stage (rows keep their first text): modes are in
	 * the abort table */
	snprintf(why, sizeof(why), "client abort %s%s",
	    hx_abort_stage_name(c->ab.stage),
	    c->ab.stage == HX_AB_AFTER_DOT ? " (outcome unknown)" : "");
	if (ld->conf->verbose)
		fprintf(stderr, "mxload: conn %u msg %llu: %s\n", c->id,
		    (unsigned long long)c->seq, why);
	(void)hx_tally_add(ld->tally, c->target, st, 0, NULL, why);
	msg_log(ld, c, c->ab.stage == HX_AB_AFTER_DOT ? "unknown" : "abort",
	    st, 0, 1);
	c->flags &= ~HX_CF_INMSG;
	hx_tally_outcome(ld->tally, c->target, HX_OUT_ERROR);
	if (ld->conf->series != NULL)
		hx_series_outcome(ld->conf->series, mono_us(), HX_OUT_ERROR);
	if (c->ab.mode == HX_AB_RST && c->fd >= 0) {
		lg.l_onoff = 1;
		lg.l_linger = 0;
		(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg,
		    sizeof(lg));
	}
	conn_close(ld, c);
}

/* end_after_failure - 421 closes at once; anything else says QUIT */
static void
end_after_failure(struct hx_load *ld, struct hx_conn *c)
{
	if (c->reply.code == 421)
		conn_close(ld, c);
	else
		send_quit(ld, c);
}

/* on_reply - one complete reply arrived */
static void
on_reply(struct hx_load *ld, struct hx_conn *c)
{
	const struct hx_load_conf *cf = ld->conf;
	unsigned cls;

	cls = hx_reply_class(&c->reply);
	time_reply(ld, c);
	if (ld->conf->verbose)
		fprintf(stderr, "mxload: conn %u msg %llu: <- %u %s %s\n",
		    c->id, (unsigned long long)c->seq, c->reply.code,
		    c->reply.enh, c->reply.text);
	switch (c->state) {
	case HX_CS_GREETING:
		if (cls == 2) {
			if (conn_cmd(ld, c, "EHLO %s\r\n", cf->helo) == 0)
				conn_state(ld, c, HX_CS_EHLO);
			return;
		}
		tally_reply(ld, c, HX_STAGE_CONNECT);
		msg_decide(ld, c, outcome_of(c->reply.code), HX_STAGE_CONNECT,
		    c->reply.code);
		end_after_failure(ld, c);
		break;
	case HX_CS_EHLO:
		if (cls == 2 && cf->starttls && !(c->flags & HX_CF_TLS)) {
			if (c->reply.flags & HX_REPLY_F_STARTTLS) {
				if (conn_cmd(ld, c, "STARTTLS\r\n") == 0)
					conn_state(ld, c, HX_CS_STARTTLS);
				return;
			}
			ld->tls.not_offered++;
		}
		if (cls == 2) {
			if (cf->pipelining &&
			    (c->reply.flags & HX_REPLY_F_PIPELINING))
				c->flags |= HX_CF_PIPE;
			if (c->reply.flags & HX_REPLY_F_SIZE)
				c->flags |= HX_CF_SIZE;
			msg_begin(ld, c);
			return;
		}
		tally_reply(ld, c, HX_STAGE_EHLO);
		if (cls == 5) {
			if (conn_cmd(ld, c, "HELO %s\r\n", cf->helo) == 0)
				conn_state(ld, c, HX_CS_HELO);
			return;
		}
		msg_decide(ld, c, outcome_of(c->reply.code), HX_STAGE_EHLO,
		    c->reply.code);
		end_after_failure(ld, c);
		break;
	case HX_CS_HELO:
		if (cls == 2) {
			msg_begin(ld, c);
			return;
		}
		tally_reply(ld, c, HX_STAGE_EHLO);
		msg_decide(ld, c, outcome_of(c->reply.code), HX_STAGE_EHLO,
		    c->reply.code);
		end_after_failure(ld, c);
		break;
	case HX_CS_STARTTLS:
		if (c->reply.code == 220) {
			tls_start(ld, c);
			return;
		}
		ld->tls.refused++;
		tally_reply(ld, c, HX_STAGE_EHLO);
		if (c->reply.code == 421) {
			msg_decide(ld, c, HX_OUT_DEFERRED, HX_STAGE_EHLO, 421);
			end_after_failure(ld, c);
			return;
		}
		c->flags |= HX_CF_TLS;		/* do not ask again */
		if (conn_cmd(ld, c, "EHLO %s\r\n", cf->helo) == 0)
			conn_state(ld, c, HX_CS_EHLO);
		break;
	case HX_CS_ENVELOPE:
		env_reply(ld, c);
		break;
	case HX_CS_BODY:
		eod_reply(ld, c);
		break;
	case HX_CS_DISCARD:
		if (c->reply.code == 421)
			conn_close(ld, c);
		else
			msg_next(ld, c);
		break;
	case HX_CS_RSET:
		if (c->reply.code == 421)
			conn_close(ld, c);
		else if (cls == 2)
			msg_next(ld, c);
		else {
			tally_reply(ld, c, HX_STAGE_RSET);
			send_quit(ld, c);
		}
		break;
	case HX_CS_QUIT:
		if (cls != 2)
			tally_reply(ld, c, HX_STAGE_QUIT);
		conn_close(ld, c);
		break;
	case HX_CS_READY:
		/* Unsolicited: an idle timeout 421 is normal, else odd. */
		if (c->reply.code != 421)
			(void)hx_tally_add(ld->tally, c->target, HX_STAGE_MAIL,
			    0, NULL, "unexpected reply");
		conn_close(ld, c);
		break;
	case HX_CS_TLSHS:
	case HX_CS_IDLE:
	case HX_CS_CONNECTING:
	default:
		abort();
	}
}

/* tls_start - STARTTLS was answered 220: begin the client handshake */
static void
tls_start(struct hx_load *ld, struct hx_conn *c)
{
	if ((c->ssl = SSL_new(ld->tls_ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1) {
		ld->tls.failed++;
		ERR_clear_error();
		conn_fail(ld, c, HX_STAGE_EHLO, "TLS: out of memory");
		return;
	}
	SSL_set_connect_state(c->ssl);
	c->out_off = c->out_len = 0;
	c->cmd_us = mono_us();
	conn_state(ld, c, HX_CS_TLSHS);
}

/* tls_step - continue the handshake; when done, EHLO again under TLS */
static void
tls_step(struct hx_load *ld, struct hx_conn *c)
{
	int rc;

	ERR_clear_error();
	if ((rc = SSL_connect(c->ssl)) == 1) {
		ld->tls.done++;
		c->flags |= HX_CF_TLS;
		conn_want_out(ld, c, 0);
		if (conn_cmd(ld, c, "EHLO %s\r\n", ld->conf->helo) == 0)
			conn_state(ld, c, HX_CS_EHLO);
		return;
	}
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		conn_want_out(ld, c, 0);
		return;
	case SSL_ERROR_WANT_WRITE:
		conn_want_out(ld, c, 1);
		return;
	default:
		ld->tls.failed++;
		ERR_clear_error();
		conn_fail(ld, c, HX_STAGE_EHLO, "TLS handshake failed");
		return;
	}
}

/* conn_recv - recv() or SSL_read(); <0 with errno as recv() would set
 * it (EAGAIN: nothing now; 0 returned: closed) */
static ssize_t
conn_recv(struct hx_conn *c, char *p, size_t room)
{
	int rc;

	if (c->ssl == NULL)
		return recv(c->fd, p, room, 0);
	ERR_clear_error();
	rc = SSL_read(c->ssl, p, room > INT32_MAX ? INT32_MAX : (int)room);
	return rc > 0 ? rc : tls_result(c, rc);
}

/* tls_result - a failed SSL_read/SSL_write as a socket call's result: -1
 * with errno EAGAIN (try later) or ECONNRESET, or 0 (closed) */
static ssize_t
tls_result(struct hx_conn *c, int rc)
{
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno == 0 || errno == EAGAIN)
			return 0;	/* EOF without close_notify */
		return -1;
	default:
		errno = ECONNRESET;	/* a bad record */
		return -1;
	}
}

/* conn_send - send() or SSL_write(), errno as send() would set it (0:
 * the peer closed the TLS session) */
static ssize_t
conn_send(struct hx_conn *c, const char *p, size_t len)
{
	int rc;

	if (c->ssl == NULL)
		return send(c->fd, p, len, MSG_NOSIGNAL);
	ERR_clear_error();
	rc = SSL_write(c->ssl, p, len > INT32_MAX ? INT32_MAX : (int)len);
	return rc > 0 ? rc : tls_result(c, rc);
}

/* env_reply - a reply to MAIL, RCPT or DATA (in command order) */
static void
env_reply(struct hx_load *ld, struct hx_conn *c)
{
	unsigned i, r, cls, code;
	int pipe;

	r = ld->conf->rcpts;
	/* a mid-RCPT abort reads the MAIL reply first (see msg_begin) */
	pipe = (c->flags & HX_CF_PIPE) != 0 &&
	    c->ab.stage != HX_AB_MID_RCPT;
	code = c->reply.code;
	cls = code / 100;
	i = c->env_replied;
	if (code == 421) {
		if (c->flags & HX_CF_INMSG)
			tally_reply(ld, c, conn_stage(ld, c));
		msg_decide(ld, c, HX_OUT_DEFERRED, conn_stage(ld, c), code);
		conn_close(ld, c);
		return;
	}
	c->env_replied++;
	conn_arm(ld, c);
	if (i == 0) {				/* MAIL */
		if (cls != 2) {
			tally_reply(ld, c, HX_STAGE_MAIL);
			msg_decide(ld, c, outcome_of(code), HX_STAGE_MAIL,
			    code);
			if (!pipe)
				send_rset(ld, c);
		} else if (!pipe) {
			c->env_allowed++;
			(void)conn_pump(ld, c);
		}
		return;
	}
	if (i <= r) {				/* RCPT i */
		if (cls == 2)
			c->rcpt_ok++;
		else if (c->flags & HX_CF_INMSG) {
			tally_reply(ld, c, HX_STAGE_RCPT);
			if (c->rcpt_fail == 0)
				c->rcpt_fail = code;
		}
		if (i == r && c->rcpt_ok == 0)
			msg_decide(ld, c, outcome_of(c->rcpt_fail),
			    HX_STAGE_RCPT, c->rcpt_fail);
		if (pipe)
			return;
		if (i == r && c->rcpt_ok == 0) {
			send_rset(ld, c);
			return;
		}
		c->env_allowed++;		/* next RCPT or DATA */
		(void)conn_pump(ld, c);
		return;
	}
	/* DATA */
	if (cls == 3) {
		if (c->flags & HX_CF_INMSG) {
			conn_state(ld, c, HX_CS_BODY);
			(void)conn_pump(ld, c);
		} else if (conn_cmd(ld, c, ".\r\n") == 0)
			conn_state(ld, c, HX_CS_DISCARD);
		return;
	}
	if (c->flags & HX_CF_INMSG) {
		tally_reply(ld, c, HX_STAGE_DATA);
		msg_decide(ld, c, outcome_of(code), HX_STAGE_DATA, code);
	}
	send_rset(ld, c);
}

/* eod_reply - the reply to the final dot decides the message */
static void
eod_reply(struct hx_load *ld, struct hx_conn *c)
{
	uint64_t now;
	int early;

	early = !(c->flags & HX_CF_EODSENT);
	if (!early) {
		now = mono_us();
		hx_hist_add(&ld->tally->eod_lat, now - c->eod_sent);
		if (ld->conf->series != NULL)
			hx_series_latency(ld->conf->series, now, HX_STAGE_EOD,
			    now - c->eod_sent);
	}
	tally_reply(ld, c, HX_STAGE_EOD);
	msg_decide(ld, c, outcome_of(c->reply.code), HX_STAGE_EOD,
	    c->reply.code);
	if (c->reply.code == 421 || early)
		conn_close(ld, c);	/* early: stream state unknown */
	else
		msg_next(ld, c);
}

/* msg_next - after a message: another on this connection, or QUIT */
static void
msg_next(struct hx_load *ld, struct hx_conn *c)
{
	if (!ld->stopping && c->msgs < ld->conf->per_conn) {
		conn_state(ld, c, HX_CS_READY);
		queue_push(ld, c);
	} else
		send_quit(ld, c);
}

/* send_rset - end a failed transaction */
static void
send_rset(struct hx_load *ld, struct hx_conn *c)
{
	if (conn_cmd(ld, c, "RSET\r\n") == 0)
		conn_state(ld, c, HX_CS_RSET);
}

/* send_quit - end the session */
static void
send_quit(struct hx_load *ld, struct hx_conn *c)
{
	if (conn_cmd(ld, c, "QUIT\r\n") == 0)
		conn_state(ld, c, HX_CS_QUIT);
}

/* msg_begin - start the reserved message on an established session */
static void
msg_begin(struct hx_load *ld, struct hx_conn *c)
{
	const struct hx_load_conf *cf = ld->conf;
	struct hx_msg_hdr h;
	struct sim_rng rng;
	uint64_t size;
	int n, sn;

	if (c->state == HX_CS_READY)
		c->msgs++;
	sim_rng_seed(&rng, cf->seed, c->seq);
	c->user0 = sim_rng_below(&rng, cf->users);
	hx_abort_plan(cf->seed, c->seq, cf->abort_prob, &c->ab);
	if (c->ab.stage != HX_AB_NONE && cf->aborts != NULL)
		cf->aborts->planned++;
	c->body_sent = 0;
	c->rcpt[0] = '\0';
	if (cf->tag_rcpt)
		snprintf(c->rcpt, sizeof(c->rcpt), "m%" PRIu64, c->seq);
	if (c->ab.stage == HX_AB_PRE_MAIL) {
		msg_abort(ld, c);
		return;
	}
	h.seq = c->seq;
	h.seed = cf->seed;
	h.from_domain = cf->from[c->seq % cf->nfrom];
	h.rcpt_local = cf->tag_rcpt ? c->rcpt : cf->rcpt_local;
	h.rcpt_user = c->user0;
	h.rcpt_domain = cf->targets[c->target].rcpt_domain;
	h.helo = cf->helo;
	h.date = ld->date;
	h.from_header = cf->from_header;
	h.list_unsub = cf->list_unsub;
	n = hx_msg_header(c->hdr, sizeof(c->hdr), &h);
	if (n < 0)
		abort();	/* bounded inputs always fit */
	size = cf->size;
	if (cf->dkim != NULL) {
		/* d= is the header From domain; the body stays the same */
		sn = hx_msg_sign(cf->dkim, cf->dkim_key, cf->from_header != NULL ?
		    cf->from_header : h.from_domain, cf->dkim_selector, c->hdr,
		    sizeof(c->hdr), (size_t)n, cf->size);
		if (sn < 0) {
			fprintf(stderr, "mxload: DKIM signing: %s\n",
			    strerror(-sn));
			exit(1);
		}
		size += (uint64_t)(sn - n);
		n = sn;
	}
	hx_msg_start(&c->msg, c->hdr, (size_t)n, size);
	c->env_sent = c->env_replied = 0;
	/* A mid-RCPT abort sends MAIL alone and reads its reply, so that
	 * every MAIL reply mxsim sends is read: then the first RCPT */
	c->env_allowed = (c->flags & HX_CF_PIPE) &&
	    c->ab.stage != HX_AB_MID_RCPT ? cf->rcpts + 2 : 1;
	c->rcpt_ok = c->rcpt_fail = 0;
	c->flags &= ~HX_CF_EODSENT;
	conn_state(ld, c, HX_CS_ENVELOPE);
	(void)conn_pump(ld, c);
}

/* conn_cmd - append one command and send; -1: connection dropped */
static int
conn_cmd(struct hx_load *ld, struct hx_conn *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	va_start(ap, fmt);
	n = vsnprintf(c->out + c->out_len, sizeof(c->out) - c->out_len, fmt,
	    ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(c->out) - c->out_len) {
		conn_fail(ld, c, conn_stage(ld, c), "output overflow");
		return -1;
	}
	c->out_len += (size_t)n;
	c->cmd_us = mono_us();
	return conn_pump(ld, c);
}

/* conn_fill - generate pending envelope commands or body bytes */
static void
conn_fill(struct hx_load *ld, struct hx_conn *c)
{
	const struct hx_load_conf *cf = ld->conf;
	char *p, local[HX_LOCAL_MAX + 16];
	const char *lp;
	size_t room;
	unsigned i;
	int n;

	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	else if (c->out_off > 0 &&
	    sizeof(c->out) - c->out_len < HX_CMD_MAX + HX_MSG_FILL_MIN) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->state == HX_CS_ENVELOPE) {
		while (c->env_sent < c->env_allowed &&
		    !(c->ab.stage == HX_AB_MID_RCPT && c->env_sent >= 2) &&
		    sizeof(c->out) - c->out_len >= HX_CMD_MAX) {
			p = c->out + c->out_len;
			room = sizeof(c->out) - c->out_len;
			i = c->env_sent++;
			if (i == 0 && (c->flags & HX_CF_SIZE))
				n = snprintf(p, room,
				    "MAIL FROM:<sender%llu@%s> SIZE=%llu\r\n",
				    (unsigned long long)c->seq,
				    cf->from[c->seq % cf->nfrom],
				    (unsigned long long)c->msg.size);
			else if (i == 0)
				n = snprintf(p, room,
				    "MAIL FROM:<sender%llu@%s>\r\n",
				    (unsigned long long)c->seq,
				    cf->from[c->seq % cf->nfrom]);
			else if (i <= cf->rcpts) {
				lp = cf->rcpt_local;
				if (cf->tag_rcpt && cf->rcpts > 1) {
					snprintf(local, sizeof(local),
					    "%s.%u", c->rcpt, i);
					lp = local;
				} else if (cf->tag_rcpt) {
					lp = c->rcpt;
				} else if (lp == NULL) {
					snprintf(local, sizeof(local),
					    "user%llu", (unsigned long long)
					    ((c->user0 + i - 1) % cf->users));
					lp = local;
				}
				n = snprintf(p, room, "RCPT TO:<%s@%s>\r\n", lp,
				    cf->targets[c->target].rcpt_domain);
			} else
				n = snprintf(p, room, "DATA\r\n");
			if (n < 0 || (size_t)n >= room)
				abort();	/* HX_CMD_MAX bounds it */
			c->out_len += (size_t)n;
			c->cmd_us = mono_us();
		}
	} else if (c->state == HX_CS_BODY && !c->msg.done)
		c->out_len += hx_msg_fill(&c->msg, c->out + c->out_len,
		    sizeof(c->out) - c->out_len);
}

/* conn_pump - fill and send until done or EAGAIN; -1: dropped */
static int
conn_pump(struct hx_load *ld, struct hx_conn *c)
{
	ssize_t n;
	size_t len;
	uint64_t cap;
	int progressed, cut;

	progressed = 0;
	cut = c->state == HX_CS_BODY && (c->flags & HX_CF_INMSG) &&
	    c->ab.stage == HX_AB_MID_DATA;
	cap = c->msg.size / 2 > 0 ? c->msg.size / 2 : 1;
	for (;;) {
		if (cut && c->body_sent >= cap) {
			msg_abort(ld, c);	/* half the text, no dot */
			return -1;
		}
		conn_fill(ld, c);
		if (c->out_off == c->out_len)
			break;
		len = c->out_len - c->out_off;
		if (cut && len > cap - c->body_sent)
			len = (size_t)(cap - c->body_sent);
		n = conn_send(c, c->out + c->out_off, len);
		if (n > 0) {
			c->out_off += (size_t)n;
			if (c->state == HX_CS_BODY)
				c->body_sent += (uint64_t)n;
			progressed = 1;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (progressed && c->state == HX_CS_BODY)
				conn_arm(ld, c);
			conn_want_out(ld, c, 1);
			return 0;
		}
		conn_neterr(ld, c, n < 0 ? errno : EPIPE);
		return -1;
	}
	conn_want_out(ld, c, 0);
	if (c->state == HX_CS_ENVELOPE && (c->flags & HX_CF_INMSG) &&
	    c->ab.stage == HX_AB_MID_RCPT && c->env_sent >= 2) {
		msg_abort(ld, c);	/* MAIL and RCPT out, reply unread */
		return -1;
	}
	if (c->state == HX_CS_BODY && c->msg.done &&
	    !(c->flags & HX_CF_EODSENT)) {
		c->flags |= HX_CF_EODSENT;
		c->eod_sent = mono_us();
		conn_arm(ld, c);
		if ((c->flags & HX_CF_INMSG) &&
		    c->ab.stage == HX_AB_AFTER_DOT) {
			msg_abort(ld, c);	/* dot out, reply unread */
			return -1;
		}
	}
	return 0;
}

/* conn_want_out - register or drop interest in EPOLLOUT */
static void
conn_want_out(struct hx_load *ld, struct hx_conn *c, int on)
{
	struct epoll_event ev;

	if (on == ((c->flags & HX_CF_WANTOUT) != 0))
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (on ? EPOLLOUT : 0);
	ev.data.u64 = ((uint64_t)c->gen << 32) | c->id;
	if (epoll_ctl(ld->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
		abort();	/* fd is registered while open */
	if (on)
		c->flags |= HX_CF_WANTOUT;
	else
		c->flags &= ~HX_CF_WANTOUT;
}

/* handle_signal - first signal: stop starting; second: abandon */
static void
handle_signal(struct hx_load *ld)
{
	struct signalfd_siginfo si;

	while (read(ld->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (ld->conf->progress)
			fputc('\n', stderr);
		if (ld->sum->interrupted) {
			fprintf(stderr, "mxload: %s again: abandoning %u "
			    "connections\n", strsignal((int)si.ssi_signo),
			    ld->open);
			ld->aborting = 1;
			continue;
		}
		ld->sum->interrupted = 1;
		fprintf(stderr, "mxload: %s: finishing %u connections "
		    "(again to abandon them)\n",
		    strsignal((int)si.ssi_signo), ld->open);
		if (!ld->stopping)
			set_stopping(ld);
	}
}

/*
 * time_reply - per-stage latency of a reply for the CSV: from the last
 * command written (connect() for the greeting) to the reply.  Pipelined
 * MAIL/RCPT/DATA all count from the group's write.  End-of-DATA replies
 * are timed in eod_reply() from the final dot.
 */
static void
time_reply(struct hx_load *ld, struct hx_conn *c)
{
	uint64_t now;

	if (ld->conf->series == NULL)
		return;
	switch (c->state) {
	case HX_CS_GREETING:
	case HX_CS_EHLO:
	case HX_CS_HELO:
	case HX_CS_STARTTLS:
	case HX_CS_ENVELOPE:
	case HX_CS_RSET:
	case HX_CS_QUIT:
		now = mono_us();
		hx_series_latency(ld->conf->series, now, conn_stage(ld, c),
		    now - c->cmd_us);
		break;
	default:
		break;
	}
}

/* progress - one status line on stderr, overwritten in place */
static void
progress(struct hx_load *ld, int last)
{
	const struct hx_tally *t = ld->tally;
	double secs;

	if (!ld->conf->progress)
		return;
	if (!last && ld->now_us < ld->next_progress)
		return;
	ld->next_progress = ld->now_us + HX_TICK_MS * 1000u;
	secs = (double)(ld->now_us - ld->start_us) / 1e6;
	fprintf(stderr, "\r%6.1fs started %llu  acc %llu def %llu rej %llu "
	    "err %llu  open %u  %.0f msg/s   ", secs,
	    (unsigned long long)ld->started,
	    (unsigned long long)t->total[HX_OUT_ACCEPTED],
	    (unsigned long long)t->total[HX_OUT_DEFERRED],
	    (unsigned long long)t->total[HX_OUT_REJECTED],
	    (unsigned long long)t->total[HX_OUT_ERROR], ld->open,
	    secs > 0 ? (double)hx_tally_messages(t) / secs : 0.0);
	if (last)
		fputc('\n', stderr);
}

/* wait_ms - how long epoll_wait may sleep */
static int
wait_ms(const struct hx_load *ld)
{
	const struct hx_conn *c;
	uint64_t until, t;

	until = ld->now_us + HX_TICK_MS * 1000u;
	c = TAILQ_FIRST(&ld->timers);
	if (c != NULL && c->deadline < until)
		until = c->deadline;
	if (!ld->stopping && ld->end_us != 0 && ld->end_us < until)
		until = ld->end_us;
	if (ld->conf->series != NULL &&
	    hx_series_next(ld->conf->series) < until)
		until = hx_series_next(ld->conf->series);
	if (!ld->stopping && ld->qlen > 0 && ld->conf->rate > 0) {
		t = ld->start_us + (uint64_t)((double)ld->started /
		    ld->conf->rate * 1e6);
		if (t < until)
			until = t;
	}
	if (until <= ld->now_us)
		return 0;
	return (int)((until - ld->now_us + 999) / 1000);
}

/* hx_load_block_signals - route SIGINT/SIGTERM to the signalfd */
int
hx_load_block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -errno;
	return 0;
}

/* hx_load_run - the event loop */
int
hx_load_run(const struct hx_load_conf *conf, struct hx_tally *tally,
    struct hx_summary *sum)
{
	struct epoll_event evs[HX_EVENTS], ev;
	struct hx_load ld;
	struct hx_conn *c;
	sigset_t set;
	struct timespec ts;
	struct tm tm;
	time_t wall;
	size_t i;
	uint32_t id, gen;
	int n, k, rc;

	memset(&ld, 0, sizeof(ld));
	memset(sum, 0, sizeof(*sum));
	ld.conf = conf;
	ld.tally = tally;
	ld.sum = sum;
	ld.epfd = ld.sigfd = -1;
	TAILQ_INIT(&ld.timers);
	rc = 0;
	ld.conns = calloc(conf->concurrency, sizeof(*ld.conns));
	ld.queue = calloc(conf->concurrency, sizeof(*ld.queue));
	ld.tcursor = calloc(conf->ntargets, sizeof(*ld.tcursor));
	if (ld.conns == NULL || ld.queue == NULL || ld.tcursor == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (conf->starttls) {
		/* a test sink: no verification, no session reuse */
		if ((ld.tls_ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		SSL_CTX_set_min_proto_version(ld.tls_ctx, TLS1_2_VERSION);
		SSL_CTX_set_verify(ld.tls_ctx, SSL_VERIFY_NONE, NULL);
		SSL_CTX_set_session_cache_mode(ld.tls_ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_mode(ld.tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
		    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	}
	for (i = 0; i < conf->nsources; i++)
		ld.nsrcaddr += conf->sources[i].naddr;
	ld.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ld.epfd < 0) {
		rc = -errno;
		goto out;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	ld.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (ld.sigfd < 0) {
		rc = -errno;
		goto out;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = HX_SIG_TAG;
	if (epoll_ctl(ld.epfd, EPOLL_CTL_ADD, ld.sigfd, &ev) != 0) {
		rc = -errno;
		goto out;
	}
	wall = time(NULL);
	gmtime_r(&wall, &tm);
	strftime(ld.date, sizeof(ld.date), "%a, %d %b %Y %H:%M:%S +0000",
	    &tm);

	ld.now_us = ld.start_us = mono_us();
	ld.timeout_us = (uint64_t)(conf->timeout * 1e6);
	if (conf->duration > 0)
		ld.end_us = ld.start_us + (uint64_t)(conf->duration * 1e6);
	ld.next_progress = ld.start_us + HX_TICK_MS * 1000u;
	if (conf->series != NULL) {
		clock_gettime(CLOCK_REALTIME, &ts);
		(void)hx_series_start(conf->series, ld.start_us,
		    (uint64_t)ts.tv_sec * 1000u +
		    (uint64_t)ts.tv_nsec / 1000000u);
	}
	for (i = 0; i < conf->concurrency; i++) {
		ld.conns[i].id = (uint32_t)i;
		ld.conns[i].fd = -1;
		queue_push(&ld, &ld.conns[i]);
	}

	for (;;) {
		ld.now_us = mono_us();
		conn_timeouts(&ld);
		start_work(&ld);
		progress(&ld, 0);
		if (conf->series != NULL)
			(void)hx_series_tick(conf->series, ld.now_us);
		if (ld.aborting || (ld.stopping && ld.open == 0))
			break;
		n = epoll_wait(ld.epfd, evs, HX_EVENTS, wait_ms(&ld));
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		ld.now_us = mono_us();
		for (k = 0; k < n; k++) {
			if (evs[k].data.u64 == HX_SIG_TAG) {
				handle_signal(&ld);
				continue;
			}
			id = (uint32_t)evs[k].data.u64;
			gen = (uint32_t)(evs[k].data.u64 >> 32);
			c = &ld.conns[id];
			if (c->gen != gen || c->state == HX_CS_IDLE)
				continue;	/* event for a closed socket */
			conn_event(&ld, c, evs[k].events);
		}
	}
	ld.stopping = 1;
	for (i = 0; i < conf->concurrency; i++)
		if (ld.conns[i].state != HX_CS_IDLE)
			conn_close(&ld, &ld.conns[i]);
	ld.now_us = mono_us();
	progress(&ld, 1);
	if (conf->series != NULL)
		(void)hx_series_finish(conf->series, ld.now_us);
	sum->elapsed = (double)(ld.now_us - ld.start_us) / 1e6;
	if (conf->tls != NULL)
		*conf->tls = ld.tls;
out:
	SSL_CTX_free(ld.tls_ctx);
	if (ld.sigfd >= 0)
		close(ld.sigfd);
	if (ld.epfd >= 0)
		close(ld.epfd);
	free(ld.conns);
	free(ld.queue);
	free(ld.tcursor);
	return rc;
}

/* hx_abort_plan - a message's abort plan from its own PRNG stream */
void
hx_abort_plan(uint64_t seed, uint64_t seq, double prob,
    struct hx_abort_plan *p)
{
	struct sim_rng rng;

	p->stage = HX_AB_NONE;
	p->mode = HX_AB_RST;
	if (!(prob > 0))
		return;
	sim_rng_seed(&rng, seed ^ HX_AB_STREAM, seq);
	if (sim_rng_double(&rng) >= prob)
		return;
	p->stage = (enum hx_abort_stage)(HX_AB_PRE_MAIL +
	    sim_rng_below(&rng, HX_AB__COUNT - 1));
	p->mode = (enum hx_abort_mode)sim_rng_below(&rng, HX_AB__MODES);
}

/* hx_aborts_add - count one abort carried out */
void
hx_aborts_add(struct hx_aborts *a, const struct hx_abort_plan *p)
{
	if (p->stage <= HX_AB_NONE || p->stage >= HX_AB__COUNT ||
	    p->mode >= HX_AB__MODES)
		return;
	a->n[p->stage][p->mode]++;
}

/* hx_aborts_total - aborts at one stage, or at every stage */
uint64_t
hx_aborts_total(const struct hx_aborts *a, enum hx_abort_stage stage)
{
	uint64_t n = 0;
	int s, m;

	for (s = HX_AB_PRE_MAIL; s < HX_AB__COUNT; s++)
		if (stage == HX_AB_NONE || stage == (enum hx_abort_stage)s)
			for (m = 0; m < HX_AB__MODES; m++)
				n += a->n[s][m];
	return n;
}

/* hx_abort_stage_name - stage name for tables and logs */
const char *
hx_abort_stage_name(enum hx_abort_stage s)
{
	static const char *const names[HX_AB__COUNT] = {
		"none", "pre_mail", "mid_rcpt", "mid_data", "after_dot"
	};

	return (unsigned)s < HX_AB__COUNT ? names[s] : "?";
}

/* hx_abort_mode_name - mode name */
const char *
hx_abort_mode_name(enum hx_abort_mode m)
{
	return m == HX_AB_RST ? "rst" : m == HX_AB_CLOSE ? "close" : "?";
}

/* hx_msg_log_line - one tab-separated --msg-log line */
int
hx_msg_log_line(char *buf, size_t cap, uint64_t seq, const char *target,
    const char *outcome, enum hx_stage stage, unsigned code,
    const struct hx_abort_plan *ab, int dot, const char *rcpt)
{
	char abuf[32];
	int n;

	if (ab->stage == HX_AB_NONE)
		snprintf(abuf, sizeof(abuf), "-");
	else
		snprintf(abuf, sizeof(abuf), "%s/%s",
		    hx_abort_stage_name(ab->stage),
		    hx_abort_mode_name(ab->mode));
	n = snprintf(buf, cap, "%" PRIu64 "\t%s\t%s\t%s\t%u\t%s\t%d\t%s\n",
	    seq, target, outcome, hx_stage_name(stage), code, abuf, dot != 0,
	    rcpt);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}

/* hx_aborts_print - the abort table */
void
hx_aborts_print(const struct hx_aborts *a, uint64_t messages, FILE *fp)
{
	uint64_t total = hx_aborts_total(a, HX_AB_NONE);
	int s;

	fprintf(fp, "client aborts: %" PRIu64 " of %" PRIu64 " messages "
	    "(%" PRIu64 " planned)\n", total, messages, a->planned);
	for (s = HX_AB_PRE_MAIL; s < HX_AB__COUNT; s++)
		fprintf(fp, "  %-10s rst %8" PRIu64 "  close %8" PRIu64 "%s\n",
		    hx_abort_stage_name((enum hx_abort_stage)s),
		    a->n[s][HX_AB_RST], a->n[s][HX_AB_CLOSE],
		    s == HX_AB_AFTER_DOT ? "  (outcome unknown)" : "");
}

/* hx_aborts_json - the abort counts as one JSON object */
void
hx_aborts_json(const struct hx_aborts *a, FILE *fp)
{
	int s;

	fprintf(fp, "{\"planned\":%" PRIu64, a->planned);
	for (s = HX_AB_PRE_MAIL; s < HX_AB__COUNT; s++)
		fprintf(fp, ",\"%s\":{\"rst\":%" PRIu64 ",\"close\":%" PRIu64
		    "}", hx_abort_stage_name((enum hx_abort_stage)s),
		    a->n[s][HX_AB_RST], a->n[s][HX_AB_CLOSE]);
	fprintf(fp, ",\"unknown\":%" PRIu64 "}",
	    hx_aborts_total(a, HX_AB_AFTER_DOT));
}
