/*
 * DESCRIPTION
 *	mxload's connection slots: the slot state machine (hx_conn_state()
 *	is the only place that assigns c->state), the reply timers, and the
 *	socket's life: a non-blocking connect from the next source address
 *	to the next target address, epoll events (errors and input first),
 *	reading and splitting replies, closing.
 *
 *	Reply timeouts use one TAILQ ordered by deadline: every deadline is
 *	now + the same timeout, so appending keeps it sorted and expiry is
 *	O(1).
 *
 * DIAGNOSTICS
 *	Network failures are counted as rows with code 0 ("connect
 *	refused", "timeout", "reset", "closed", "bad reply").  A state
 *	switch reaching an impossible state aborts (internal bug), as does
 *	a failing epoll_ctl(EPOLL_CTL_MOD) on a registered socket.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "hx_load_priv.h"

#define CASE(x)		case x: return #x

static const char	*conn_strstate(enum hx_cstate);
static void		conn_disarm(struct hx_load *, struct hx_conn *);
static void		conn_established(struct hx_load *, struct hx_conn *);
static void		conn_read(struct hx_load *, struct hx_conn *);
static int		conn_parse(struct hx_load *, struct hx_conn *);

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

/* hx_conn_state - the one place that changes a slot's state; arms timers */
void
hx_conn_state(struct hx_load *ld, struct hx_conn *c, enum hx_cstate s)
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
		hx_conn_arm(ld, c);
		break;
	default:
		abort();
	}
}

/* hx_conn_arm - (re)start the reply timer */
void
hx_conn_arm(struct hx_load *ld, struct hx_conn *c)
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

/* hx_conn_stage - the stage whose reply the slot is waiting for */
enum hx_stage
hx_conn_stage(const struct hx_load *ld, const struct hx_conn *c)
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

/* hx_conn_open - open a new connection for the slot's reserved message */
void
hx_conn_open(struct hx_load *ld, struct hx_conn *c)
{
	const struct hx_load_conf *cf = ld->conf;
	const struct hx_target *t;
	struct sockaddr_in sa, src;
	struct epoll_event ev;
	uint64_t k;
	size_t i;
	int fd, one, rc;
	char why[96];

	if (c->flags & HX_CF_RETRY)
		c->target = c->rm.target;	/* where it went first */
	else
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
		hx_conn_fail(ld, c, HX_STAGE_CONNECT, why);
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
		hx_conn_fail(ld, c, HX_STAGE_CONNECT, why);
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLOUT;
	ev.data.u64 = ((uint64_t)c->gen << 32) | c->id;
	if (epoll_ctl(ld->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		snprintf(why, sizeof(why), "epoll: %s", strerror(errno));
		hx_conn_fail(ld, c, HX_STAGE_CONNECT, why);
		return;
	}
	c->flags |= HX_CF_WANTOUT;
	c->cmd_us = hx_mono_us();
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc == 0) {
		conn_established(ld, c);
		return;
	}
	if (errno == EINPROGRESS) {
		hx_conn_state(ld, c, HX_CS_CONNECTING);
		return;
	}
	hx_conn_state(ld, c, HX_CS_CONNECTING);
	hx_conn_neterr(ld, c, errno);
}

/* conn_established - TCP is up: wait for the greeting */
static void
conn_established(struct hx_load *ld, struct hx_conn *c)
{
	ld->sum->established++;
	hx_conn_want_out(ld, c, 0);
	hx_conn_state(ld, c, HX_CS_GREETING);
}

/* hx_conn_close - close the socket; the slot queues for new work */
void
hx_conn_close(struct hx_load *ld, struct hx_conn *c)
{
	if (c->flags & HX_CF_INMSG) {
		ld->sum->aborted++;	/* only when abandoning the run */
		hx_txn_log(ld, c, "abandoned", hx_conn_stage(ld, c), 0,
		    (c->flags & HX_CF_EODSENT) != 0);
		hx_txn_abandon(ld, c);
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
	hx_conn_state(ld, c, HX_CS_IDLE);
	if (!ld->stopping)
		hx_load_queue(ld, c);
}

/* hx_conn_fail - count a connection-level error and drop the connection */
void
hx_conn_fail(struct hx_load *ld, struct hx_conn *c, enum hx_stage stage,
    const char *why)
{
	if (ld->conf->verbose)
		fprintf(stderr, "mxload: conn %u msg %llu: %s: %s\n", c->id,
		    (unsigned long long)c->seq, hx_stage_name(stage), why);
	(void)hx_tally_add(ld->tally, c->target, stage, 0, NULL, why);
	hx_txn_decide(ld, c, HX_OUT_ERROR, stage, 0);
	hx_conn_close(ld, c);
}

/* hx_conn_neterr - a socket error: expected after QUIT, an error otherwise */
void
hx_conn_neterr(struct hx_load *ld, struct hx_conn *c, int err)
{
	char why[96];

	if (c->state == HX_CS_QUIT) {
		hx_conn_close(ld, c);
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
	hx_conn_fail(ld, c, hx_conn_stage(ld, c), why);
}

/* hx_conn_timeouts - fail every slot whose reply timer expired */
void
hx_conn_timeouts(struct hx_load *ld)
{
	struct hx_conn *c;

	while ((c = TAILQ_FIRST(&ld->timers)) != NULL &&
	    c->deadline <= ld->now_us) {
		conn_disarm(ld, c);
		if (c->state == HX_CS_QUIT) {
			(void)hx_tally_add(ld->tally, c->target,
			    HX_STAGE_QUIT, 0, NULL, "timeout");
			hx_conn_close(ld, c);
		} else
			hx_conn_fail(ld, c, hx_conn_stage(ld, c), "timeout");
	}
}

/* hx_conn_event - dispatch one epoll event: errors and input first */
void
hx_conn_event(struct hx_load *ld, struct hx_conn *c, uint32_t events)
{
	socklen_t len;
	int err;

	if (c->state == HX_CS_CONNECTING) {
		err = 0;
		len = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (err != 0)
			hx_conn_neterr(ld, c, err);
		else
			conn_established(ld, c);
		return;
	}
	if (c->state == HX_CS_TLSHS) {
		hx_tls_step(ld, c);
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
		conn_read(ld, c);
		if (c->state == HX_CS_IDLE)
			return;
	}
	if (events & EPOLLOUT)
		(void)hx_out_pump(ld, c);
}

/* conn_read - drain the socket and handle every complete reply */
static void
conn_read(struct hx_load *ld, struct hx_conn *c)
{
	ssize_t n;

	for (;;) {
		if (c->in_len == sizeof(c->in)) {
			hx_conn_fail(ld, c, hx_conn_stage(ld, c), "reply too long");
			return;
		}
		n = hx_tls_recv(c, c->in + c->in_len, sizeof(c->in) - c->in_len);
		if (n > 0) {
			c->in_len += (size_t)n;
			if (conn_parse(ld, c) != 0)
				return;
			if (c->state == HX_CS_TLSHS) {
				hx_tls_step(ld, c);	/* after the 220 */
				return;
			}
			continue;
		}
		if (n == 0) {
			if (c->state == HX_CS_QUIT || c->state == HX_CS_READY)
				hx_conn_close(ld, c);
			else
				hx_conn_fail(ld, c, hx_conn_stage(ld, c), "closed");
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			hx_conn_neterr(ld, c, errno);
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
			hx_conn_fail(ld, c, hx_conn_stage(ld, c), "bad reply");
			return -1;
		}
		hx_smtp_reply(ld, c);
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

/* hx_conn_want_out - register or drop interest in EPOLLOUT */
void
hx_conn_want_out(struct hx_load *ld, struct hx_conn *c, int on)
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
