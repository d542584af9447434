/*
 * DESCRIPTION
 *	Kernel-socket backend: listeners per MX address, one epoll loop per
 *	worker thread, level-triggered, non-blocking.  Every listener is in
 *	every worker's epoll set with EPOLLEXCLUSIVE, so an incoming
 *	connection wakes one worker, which then owns it until it closes.
 *	Connections come from a fixed per-worker pool, and so do their
 *	sessions' structs, buffers and transaction arenas (struct smtp_pool:
 *	max_conns sessions, 2 x max_conns buffers, max_conns arenas and
 *	2 x max_conns arena growth chunks, each capped (smtp_conns.h);
 *	resident only as far as ever used at once).
 *	An empty input buffer goes back to the pool after every read, so an
 *	idle connection holds no buffer.  Idle and total
 *	session timeouts are kept with two lists ordered by last activity and
 *	by start time, checked once a second.  At every loop iteration a
 *	worker loads the current world (nb_publish()) into its own session
 *	environment (nb_worker_refresh()), so a world swap needs no lock.
 *	The per-worker glue (counters, event log, Postmaster view, notices,
 *	session ids, auth context) is nb_worker.c's, shared with DPDK.
 *
 * DIAGNOSTICS
 *	Setup errors are returned with a message.  At run time, accept
 *	errors other than EAGAIN are counted and retried at the next event;
 *	a full connection pool answers the new connection with the
 *	profile's "protocol.busy" (counted and logged) and closes it.  A session
 *	whose pool has no buffer or arena left answers "421 4.3.2" and
 *	closes (ev_server_pool_stats() counts them).  A failed TLS handshake
 *	(garbage instead of a ClientHello, a TLS 1.1 client, no common
 *	cipher) or a TLS error later closes the connection; handshakes
 *	completed and failed are counted (nb_tls()).
 *
 * STARTTLS
 *	With conf.tls the sessions' env has tls_ok, so profiles that list
 *	STARTTLS advertise it.  When a session answered STARTTLS (its 220 is
 *	sent and smtp_session_tls_wanted() holds) the connection gets an SSL
 *	object and runs a non-blocking SSL_accept, polling for read or write
 *	as OpenSSL asks; bytes sent after the STARTTLS line and before the
 *	handshake are read by OpenSSL as the handshake (garbage fails it).
 *	From then on SSL_read and SSL_write replace recv and send.  A write
 *	that would block is repeated with the same length (the session only
 *	appends to its output).  Records already read from the socket but
 *	not yet given to the session (SSL_has_pending()) wake no epoll
 *	event, so such a connection goes on the worker's "again" list and is
 *	run once more after the next epoll_wait, which then does not sleep.
 *	Closing a TLS connection sends close_notify (SSL_shutdown, once,
 *	non-blocking) before the FIN.  The idle and session timeouts apply
 *	during the handshake too.
 *
 * SYSTEM CALLS
 *	What a plain one-message connection costs beyond the kernel's floor
 *	(accept, a read per client flight, a write per reply flight, close)
 *	is kept to one epoll_ctl: the listeners carry TCP_NODELAY and
 *	SO_SNDBUF, which accepted sockets inherit; a connection is added
 *	once with EPOLLIN | EPOLLRDHUP (level-triggered) and modified only
 *	while its output is blocked.  A read shorter than the room offered
 *	took everything queued (level-triggered epoll reports what comes
 *	later), so no read is spent on EAGAIN.  Replies to pipelined
 *	commands leave in one send (the session queues them all before the
 *	output is sent).  The end: when the client said QUIT, or closed its
 *	side, and its input is drained, the connection is closed at once; any other end by the server (421, a refusal) sends
 *	FIN first (shutdown) and drains the input until the client closes
 *	(at most EV_LINGER_MS), so that unread input does not turn the close
 *	into an RST that could destroy the last reply.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ev_server.h"
#include "nb_worker.h"
#include "smtp_conns.h"
#include "smtp_session.h"
#include "tls_srv.h"

#define EV_MAX_EVENTS	256
#define EV_ACCEPT_BURST	64
#define EV_RUN_ROUNDS	64
#define EV_BIND_EACH_MAX 4096	/* above: one wildcard listener on lo */
#define EV_LINGER_MS	2000	/* drain a closed session's input */
#define EV_SNDBUF	32768	/* kernel send buffer per connection
				 * (the kernel doubles it) */
#define EV_MAX_LISTENERS (1u << 20)

enum ev_tag_kind {
	EV_TAG_LISTEN = 1,
	EV_TAG_CONN,
	EV_TAG_STOP
};

struct ev_tag {
	enum ev_tag_kind kind;
};

struct ev_listener {
	struct ev_tag	 tag;
	int		 fd;
	uint32_t	 addr;
	uint16_t	 port;
	bool		 any;		/* 0.0.0.0 on lo: the MX is the
					 * connection's local address */
	bool		 v6;		/* an IPv6 MX address, in addr6 */
	struct sim_addr6 addr6;
};

struct ev_conn {
	struct ev_tag	 tag;
	TAILQ_ENTRY(ev_conn) idle_link;	/* by last activity */
	TAILQ_ENTRY(ev_conn) age_link;	/* by start time */
	int		 fd;		/* -1 when the slot is free */
	uint32_t	 events;	/* epoll interest now */
	struct smtp_session *s;		/* NULL while lingering */
	uint64_t	 last_ms;	/* monotonic */
	uint64_t	 start_ms;
	bool		 lingering;	/* session over, FIN sent, draining
					 * input until EOF (on the linger list,
					 * through idle_link) */
	bool		 drained;	/* the last read took all there was */
	bool		 peer_fin;	/* the client closed its side
					 * (EPOLLRDHUP, or a read of 0) */
	/* STARTTLS; all zero on the plain path */
	SSL		*ssl;		/* after STARTTLS, or NULL */
	bool		 tls_hs;	/* handshake under way */
	bool		 again;		/* on the worker's again list */
	uint32_t	 tls_want;	/* epoll events OpenSSL waits for */
	size_t		 tls_wpend;	/* a blocked SSL_write's length */
	TAILQ_ENTRY(ev_conn) again_link; /* TLS input buffered in OpenSSL */
	struct ev_conn	*next_free;
};

TAILQ_HEAD(ev_conn_list, ev_conn);

struct ev_worker {
	struct ev_server *srv;
	unsigned	 idx;
	pthread_t	 thread;
	int		 epfd;
	struct ev_conn	*conns;		/* pool */
	struct ev_conn	*free;
	struct ev_conn_list idle;
	struct ev_conn_list age;
	struct ev_conn_list linger;	/* by linger start */
	struct ev_conn_list again;	/* to run again without an event */
	uint64_t	 tls_done;	/* TLS handshakes completed */
	uint64_t	 tls_failed;	/* ... failed (connection closed) */
	uint64_t	 nconns;	/* open now (read by others) */
	uint64_t	 refused;	/* pool full */
	uint64_t	 stray;		/* wildcard listener: address not served */
	struct smtp_pool *pool;		/* sessions, buffers, arenas */
	struct nb_worker nw;		/* env, counters, event log, auth */
	bool		 draining;
};

struct ev_server {
	struct nb_backend nb;		/* first: the backend contract */
	struct ev_server_conf conf;
	struct ev_listener *listeners;
	size_t		 nlisteners;
	struct ev_tag	 stop_tag;
	int		 stopfd;
	struct ev_worker *workers;
};

#define EV_SRV(b)	((struct ev_server *)(b))
#define EV_CSRV(b)	((const struct ev_server *)(b))

static int	listen_one(struct ev_server *, uint32_t, uint16_t, bool, char *,
		    size_t);
static void	listen_opts(int);
static void	*worker_main(void *);
static void	do_accept(struct ev_worker *, struct ev_listener *);
static int	listen_one6(struct ev_server *, const struct sim_addr6 *,
		    uint16_t, char *, size_t);
static int	ev_listen_all6(struct ev_server *, char *, size_t);
static void	ev_conn_addrs(const struct ev_listener *, uint32_t,
		    const struct sockaddr_storage *, struct smtp_conn_info *);
static void	conn_run(struct ev_worker *, struct ev_conn *, bool);
static void	conn_close(struct ev_worker *, struct ev_conn *);
static void	conn_linger(struct ev_worker *, struct ev_conn *);
static void	linger_read(struct ev_worker *, struct ev_conn *);
static void	conn_interest(struct ev_worker *, struct ev_conn *);
static void	check_timers(struct ev_worker *, uint64_t);
static void	start_drain(struct ev_worker *);
static ssize_t	conn_send(struct ev_conn *, const uint8_t *, size_t);
static ssize_t	conn_recv(struct ev_conn *, uint8_t *, size_t);
static int	conn_tls_step(struct ev_worker *, struct ev_conn *);
static void	conn_tls_end(struct ev_worker *, struct ev_conn *, bool);
static void	run_again(struct ev_worker *);
static void	ev_stop(struct nb_backend *);
static void	ev_free(struct nb_backend *);

static const struct nb_ops ev_ops;

/* listen_opts - the options every accepted socket inherits from its
 * listener (no setsockopt per connection): replies leave at once
 * (TCP_NODELAY), and the kernel send buffer is bounded (EV_SNDBUF) */
static void
listen_opts(int fd)
{
	int one = 1, sndbuf = EV_SNDBUF;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
}

/* listen_one - bind and listen on one address */
static int
listen_one(struct ev_server *srv, uint32_t addr, uint16_t port, bool any,
    char *err, size_t errlen)
{
	struct ev_listener *l = &srv->listeners[srv->nlisteners];
	struct sockaddr_in sin;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	listen_opts(fd);
	/* the wildcard listener hears only the loopback interface */
	if (any && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3) != 0)
		goto fail;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(addr);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fd, 1024) != 0)
		goto fail;
	l->tag.kind = EV_TAG_LISTEN;
	l->fd = fd;
	l->addr = addr;
	l->port = port;
	l->any = any;
	srv->nlisteners++;
	return 0;
fail:
	snprintf(err, errlen, "listen on %u.%u.%u.%u:%u: %s", addr >> 24,
	    (addr >> 16) & 255, (addr >> 8) & 255, addr & 255, port,
	    strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* listen_one6 - bind and listen on one IPv6 address (IPv6 only) */
static int
listen_one6(struct ev_server *srv, const struct sim_addr6 *addr,
    uint16_t port, char *err, size_t errlen)
{
	struct ev_listener *l = &srv->listeners[srv->nlisteners];
	struct sockaddr_in6 sin6;
	char t[SIM_ADDR_TEXT_MAX];
	int fd, one = 1;

	fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	listen_opts(fd);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(port);
	memcpy(&sin6.sin6_addr, addr->b, 16);
	if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) != 0 ||
	    listen(fd, 1024) != 0)
		goto fail;
	l->tag.kind = EV_TAG_LISTEN;
	l->fd = fd;
	l->v6 = true;
	l->addr6 = *addr;
	l->port = port;
	srv->nlisteners++;
	return 0;
fail:
	snprintf(err, errlen, "listen on [%s]:%u: %s%s",
	    sim_addr6_fmt(addr, t, sizeof(t)), port, strerror(errno),
	    errno == EADDRNOTAVAIL ? " (an IPv6 MX address must be "
	    "assigned to an interface, or routed to lo: ip -6 route add "
	    "local BLOCK dev lo)" : "");
	if (fd >= 0)
		close(fd);
	return -1;
}

/* ev_listen_all6 - a socket per IPv6 MX address */
static int
ev_listen_all6(struct ev_server *srv, char *err, size_t errlen)
{
	const struct prof_world *w = srv->conf.nb.world;
	struct sim_addr6 a;
	uint64_t k, n;
	size_t i;

	for (i = 0; i < w->nblocks6; i++) {
		n = (uint64_t)1 << (128 - w->blocks6[i].prefix);
		for (k = 0; k < n; k++) {
			a = w->blocks6[i].addr;
			sim_addr6_add(&a, k);
			if (listen_one6(srv, &a, w->port, err, errlen) != 0)
				return -1;
		}
	}
	return 0;
}

/* ev_listen_all - a socket per MX address, or one wildcard on lo; a
 * socket per IPv6 MX address */
static int
ev_listen_all(struct ev_server *srv, char *err, size_t errlen)
{
	const struct prof_world *w = srv->conf.nb.world;
	uint64_t n = 0, a;
	size_t i;

	if (ev_listen_all6(srv, err, errlen) != 0)
		return -1;
	for (i = 0; i < w->nblocks; i++)
		n += (uint64_t)(~w->blocks[i].mask) + 1;
	if (n == 0)
		return 0;
	if (n <= EV_BIND_EACH_MAX) {
		for (i = 0; i < w->nblocks; i++)
			for (a = 0; a <= (uint64_t)(~w->blocks[i].mask); a++)
				if (listen_one(srv, w->blocks[i].addr +
				    (uint32_t)a, prof_world_port(w,
				    w->blocks[i].profile),
				    false, err, errlen) != 0)
					return -1;
		return 0;
	}
	/* too many addresses for a socket each (descriptor limits): one
	 * listener on 0.0.0.0 bound to the loopback device; the accept path
	 * drops connections to addresses not served */
	for (i = 0; i < w->nblocks; i++)
		if ((w->blocks[i].addr & 0xff000000u) != 0x7f000000u) {
			snprintf(err, errlen, "the scenario serves %llu "
			    "addresses: more than %u are served only inside "
			    "127.0.0.0/8, through one listener",
			    (unsigned long long)n, EV_BIND_EACH_MAX);
			return -1;
		}
	if (prof_world_has_submission(w) &&
	    listen_one(srv, 0, w->submission_port, true, err, errlen) != 0)
		return -1;
	return listen_one(srv, 0, w->port, true, err, errlen);
}

/* ev_server_new - bind every MX address */
struct nb_backend *
ev_server_new(const struct ev_server_conf *conf, char *err, size_t errlen)
{
	struct ev_server *srv;
	uint64_t n;

	n = conf->nb.world != NULL ? prof_world_naddrs(conf->nb.world) : 0;
	if (n == 0 || n > EV_MAX_LISTENERS || conf->workers == 0) {
		if (conf->workers == 0)
			snprintf(err, errlen, "no worker thread (expected "
			    "1 or more)");
		else
			snprintf(err, errlen, "the scenario serves %llu "
			    "addresses (expected 1..%u)",
			    (unsigned long long)n, EV_MAX_LISTENERS);
		tls_srv_free(conf->tls);
		return NULL;
	}
	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		tls_srv_free(conf->tls);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->conf = *conf;
	srv->stopfd = -1;
	if (nb_backend_init(&srv->nb, &ev_ops, &conf->nb) != 0 ||
	    (srv->listeners = calloc(n + 1, sizeof(*srv->listeners))) ==
	    NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (ev_listen_all(srv, err, errlen) != 0)
		goto fail;
	if ((srv->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	srv->stop_tag.kind = EV_TAG_STOP;
	return &srv->nb;
fail:
	ev_free(&srv->nb);
	return NULL;
}

/* conn_interest - set epoll interest from the session's wishes */
static void
conn_interest(struct ev_worker *wk, struct ev_conn *c)
{
	struct epoll_event ee;
	const uint8_t *p;
	size_t len;
	uint32_t want = 0;

	smtp_session_outbuf(c->s, &p, &len);
	if (len > 0)
		want |= EPOLLOUT;
	if (smtp_session_wants_input(c->s))
		want |= EPOLLIN;
	want |= EPOLLRDHUP | c->tls_want;
	if (want == c->events)
		return;
	ee.events = want;
	ee.data.ptr = c;
	epoll_ctl(wk->epfd, EPOLL_CTL_MOD, c->fd, &ee);
	c->events = want;
}

/* conn_close - close a connection and free its slot */
static void
conn_close(struct ev_worker *wk, struct ev_conn *c)
{
	conn_tls_end(wk, c, false);
	close(c->fd);
	c->fd = -1;
	if (c->lingering) {
		TAILQ_REMOVE(&wk->linger, c, idle_link);
		c->lingering = false;
	} else {
		TAILQ_REMOVE(&wk->idle, c, idle_link);
		TAILQ_REMOVE(&wk->age, c, age_link);
		smtp_session_free(c->s);
		c->s = NULL;
		__atomic_fetch_sub(&wk->nconns, 1, __ATOMIC_RELAXED);
	}
	c->next_free = wk->free;
	wk->free = c;
}

/* conn_linger - the session ended and its last reply is queued in the
 * kernel.  Closed at once when nothing more is expected that would turn
 * the close into an RST: the client said QUIT or closed its side, and its
 * input is drained.  Otherwise send FIN, then read and discard until the
 * peer closes (at most EV_LINGER_MS), so that unread input does not turn
 * close() into an RST that could destroy the last reply */
static void
conn_linger(struct ev_worker *wk, struct ev_conn *c)
{
	struct epoll_event ee;
	bool quit = smtp_session_quit(c->s);

	conn_tls_end(wk, c, true);
	if ((c->peer_fin || quit) && c->drained) {
		conn_close(wk, c);
		return;
	}
	TAILQ_REMOVE(&wk->idle, c, idle_link);
	TAILQ_REMOVE(&wk->age, c, age_link);
	smtp_session_free(c->s);
	c->s = NULL;
	__atomic_fetch_sub(&wk->nconns, 1, __ATOMIC_RELAXED);
	if (shutdown(c->fd, SHUT_WR) != 0) {
		close(c->fd);
		c->fd = -1;
		c->next_free = wk->free;
		wk->free = c;
		return;
	}
	c->lingering = true;
	c->last_ms = sim_clock_mono_ms();
	TAILQ_INSERT_TAIL(&wk->linger, c, idle_link);
	if (c->events != (EPOLLIN | EPOLLRDHUP)) {
		ee.events = EPOLLIN | EPOLLRDHUP;
		ee.data.ptr = c;
		epoll_ctl(wk->epfd, EPOLL_CTL_MOD, c->fd, &ee);
		c->events = ee.events;
	}
	linger_read(wk, c);
}

/* linger_read - discard input of a lingering connection; close at EOF */
static void
linger_read(struct ev_worker *wk, struct ev_conn *c)
{
	char sink[4096];
	ssize_t n;
	int i;

	for (i = 0; i < EV_RUN_ROUNDS; i++) {
		n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR))
			return;
		conn_close(wk, c);	/* EOF or error */
		return;
	}
}

/* conn_run - move bytes between socket and session until stuck */
static void
conn_run(struct ev_worker *wk, struct ev_conn *c, bool readable)
{
	const uint8_t *op;
	uint8_t *ip;
	size_t olen, room;
	ssize_t n;
	bool progress, active = false;
	int round;

	for (round = 0; round < EV_RUN_ROUNDS; round++) {
		progress = false;
		smtp_session_outbuf(c->s, &op, &olen);
		if (olen > 0) {
			n = conn_send(c, op, olen);
			if (n > 0) {
				smtp_session_consume(c->s, (size_t)n);
				progress = true;
				if ((size_t)n == olen) {
					olen = 0;
					smtp_session_input(c->s, 0);
				}
			} else if (n < 0) {
				smtp_session_eof(c->s);
				conn_close(wk, c);
				return;
			}
		}
		if (smtp_session_done(c->s)) {
			conn_linger(wk, c);
			return;
		}
		if (olen == 0 && (c->tls_hs ||
		    smtp_session_tls_wanted(c->s))) {
			switch (conn_tls_step(wk, c)) {
			case 1:
				progress = active = readable = true;
				continue;	/* under TLS: greet anew */
			case 0:
				readable = false;
				active = true;
				break;
			default:
				smtp_session_eof(c->s);
				conn_linger(wk, c);	/* let the alert out */
				return;
			}
		}
		if (c->ssl != NULL && !c->tls_hs && SSL_has_pending(c->ssl))
			readable = true;
		if (readable && smtp_session_wants_input(c->s)) {
			smtp_session_inbuf(c->s, &ip, &room);
			if (room == 0) {
				/* no buffer: the session queued its 421 */
				progress = smtp_session_closing(c->s);
				readable = false;
				if (!progress)
					break;
				continue;
			}
			n = conn_recv(c, ip, room);
			if (n > 0) {
				/* plain: a short read took all there was */
				c->drained = c->ssl == NULL && (size_t)n < room;
				if (c->drained)
					readable = false;
				smtp_session_input(c->s, (size_t)n);
				progress = active = true;
			} else if (n < 0) {
				smtp_session_eof(c->s);
				conn_close(wk, c);
				return;
			} else {
				readable = false;
				c->drained = true;
				smtp_session_input(c->s, 0);	/* buffer back */
			}
		}
		if (!progress)
			break;
	}
	if (active) {
		c->last_ms = sim_clock_mono_ms();
		TAILQ_REMOVE(&wk->idle, c, idle_link);
		TAILQ_INSERT_TAIL(&wk->idle, c, idle_link);
	}
	if (c->ssl != NULL && !c->tls_hs && !c->again &&
	    SSL_has_pending(c->ssl) && smtp_session_wants_input(c->s)) {
		c->again = true;
		TAILQ_INSERT_TAIL(&wk->again, c, again_link);
	}
	conn_interest(wk, c);
}

/* conn_send - write output; @return bytes, 0 when it would block, -1 when
 * the connection is dead */
static ssize_t
conn_send(struct ev_conn *c, const uint8_t *p, size_t len)
{
	ssize_t n;
	int rc;

	if (c->ssl == NULL) {
		n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0)
			return n;
		return errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR ? 0 : -1;
	}
	if (c->tls_wpend != 0 && len > c->tls_wpend)
		len = c->tls_wpend;	/* repeat the blocked write */
	if (len > INT32_MAX)
		len = INT32_MAX;
	ERR_clear_error();
	c->tls_want = 0;
	if ((rc = SSL_write(c->ssl, p, (int)len)) > 0) {
		c->tls_wpend = 0;
		return rc;
	}
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_WRITE:
		c->tls_wpend = len;
		c->tls_want = EPOLLOUT;
		return 0;
	case SSL_ERROR_WANT_READ:
		c->tls_wpend = len;
		c->tls_want = EPOLLIN;
		return 0;
	default:
		return -1;
	}
}

/* conn_recv - read input; @return bytes, 0 when nothing is there now, -1
 * at EOF or on an error */
static ssize_t
conn_recv(struct ev_conn *c, uint8_t *p, size_t room)
{
	ssize_t n;
	int rc;

	if (c->ssl == NULL) {
		n = recv(c->fd, p, room, MSG_DONTWAIT);
		if (n > 0)
			return n;
		return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR) ? 0 : -1;
	}
	if (room > INT32_MAX)
		room = INT32_MAX;
	ERR_clear_error();
	c->tls_want = 0;
	if ((rc = SSL_read(c->ssl, p, (int)room)) > 0)
		return rc;
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		return 0;
	case SSL_ERROR_WANT_WRITE:
		c->tls_want = EPOLLOUT;
		return 0;
	default:
		return -1;	/* close_notify, EOF, a bad record */
	}
}

/* conn_tls_step - start or continue the server handshake; @return 1 when
 * it completed, 0 when it waits for the socket, -1 when it failed */
static int
conn_tls_step(struct ev_worker *wk, struct ev_conn *c)
{
	int rc;

	if (c->ssl == NULL) {
		if ((c->ssl = tls_srv_conn_new(wk->srv->conf.tls, c->fd)) ==
		    NULL) {
			__atomic_fetch_add(&wk->tls_failed, 1, __ATOMIC_RELAXED);
			return -1;
		}
		c->tls_hs = true;
	}
	ERR_clear_error();
	if ((rc = SSL_accept(c->ssl)) == 1) {
		c->tls_hs = false;
		c->tls_want = 0;
		__atomic_fetch_add(&wk->tls_done, 1, __ATOMIC_RELAXED);
		smtp_session_tls_started(c->s);
		return 1;
	}
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		c->tls_want = EPOLLIN;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		c->tls_want = EPOLLOUT;
		return 0;
	default:
		__atomic_fetch_add(&wk->tls_failed, 1, __ATOMIC_RELAXED);
		ERR_clear_error();
		return -1;
	}
}

/* conn_tls_end - free the connection's SSL object, first sending
 * close_notify when @notify and the handshake had completed */
static void
conn_tls_end(struct ev_worker *wk, struct ev_conn *c, bool notify)
{
	if (c->again) {
		TAILQ_REMOVE(&wk->again, c, again_link);
		c->again = false;
	}
	if (c->ssl == NULL)
		return;
	if (notify && !c->tls_hs)
		(void)SSL_shutdown(c->ssl);	/* non-blocking, once */
	SSL_free(c->ssl);
	ERR_clear_error();
	c->ssl = NULL;
	c->tls_hs = false;
	c->tls_want = 0;
	c->tls_wpend = 0;
}

/* run_again - connections whose input waits inside OpenSSL */
static void
run_again(struct ev_worker *wk)
{
	struct ev_conn_list list;
	struct ev_conn *c;

	TAILQ_INIT(&list);
	TAILQ_CONCAT(&list, &wk->again, again_link);
	while ((c = TAILQ_FIRST(&list)) != NULL) {
		TAILQ_REMOVE(&list, c, again_link);
		c->again = false;
		if (c->fd >= 0 && !c->lingering)
			conn_run(wk, c, true);
	}
}

/* ev_conn_addrs - the MX and client addresses of an accepted connection */
static void
ev_conn_addrs(const struct ev_listener *l, uint32_t mx,
    const struct sockaddr_storage *peer, struct smtp_conn_info *ci)
{
	const struct sockaddr_in6 *p6;
	const struct sockaddr_in *p4;

	ci->mx_port = l->port;
	if (l->v6) {
		p6 = (const struct sockaddr_in6 *)(const void *)peer;
		ci->v6 = true;
		ci->mx6 = l->addr6;
		memcpy(ci->client6.b, &p6->sin6_addr, 16);
		ci->client_port = ntohs(p6->sin6_port);
		return;
	}
	p4 = (const struct sockaddr_in *)(const void *)peer;
	ci->mx_ip = mx;
	ci->client_ip = ntohl(p4->sin_addr.s_addr);
	ci->client_port = ntohs(p4->sin_port);
}

/* do_accept - accept a burst of connections from one listener */
static void
do_accept(struct ev_worker *wk, struct ev_listener *l)
{
	struct ev_server *srv = wk->srv;
	struct smtp_conn_info ci;
	struct sockaddr_storage peer, local;
	struct epoll_event ee;
	struct ev_conn *c;
	socklen_t plen, llen;
	const struct prof_world *w;
	uint32_t mx;
	int prof;
	char busy[SMTP_CONNS_BUSY_MAX];
	ssize_t n;
	int i, fd;

	for (i = 0; i < EV_ACCEPT_BURST; i++) {
		plen = sizeof(peer);
		fd = accept4(l->fd, (struct sockaddr *)&peer, &plen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		mx = l->addr;
		if (l->any) {
			/* which fake MX was called: served, or dropped */
			/* ... on the port of its role (MX or submission) */
			w = srv->conf.nb.world;
			llen = sizeof(local);
			if (getsockname(fd, (struct sockaddr *)&local,
			    &llen) != 0 || (mx = ntohl(((struct sockaddr_in *)
			    (void *)&local)->sin_addr.s_addr),
			    prof = prof_world_lookup(w, mx)) < 0 ||
			    prof_world_port(w, (uint32_t)prof) != l->port) {
				wk->stray++;
				close(fd);
				continue;
			}
		}
		memset(&ci, 0, sizeof(ci));
		ev_conn_addrs(l, mx, &peer, &ci);
		ci.session_id = nb_worker_session_id(&wk->nw);
		/* a burst may run past a control change published after
		 * the epoll_wait: a new session starts in the newest world */
		nb_worker_refresh(&wk->nw);
		if ((c = wk->free) == NULL) {
			/* pool full: the profile's protocol.busy, then close */
			wk->refused++;
			sim_stats_connection(wk->nw.stats);
			n = (ssize_t)smtp_conns_busy(&wk->nw.env, &ci, busy,
			    sizeof(busy));
			n = send(fd, busy, (size_t)n, MSG_NOSIGNAL |
			    MSG_DONTWAIT);
			(void)n;
			close(fd);
			continue;
		}
		if ((c->s = smtp_session_new_pool(&wk->nw.env, wk->pool, &ci)) ==
		    NULL) {
			close(fd);
			continue;
		}
		wk->free = c->next_free;
		c->fd = fd;
		c->drained = c->peer_fin = false;
		c->events = EPOLLIN | EPOLLRDHUP;
		c->start_ms = c->last_ms = sim_clock_mono_ms();
		TAILQ_INSERT_TAIL(&wk->idle, c, idle_link);
		TAILQ_INSERT_TAIL(&wk->age, c, age_link);
		__atomic_fetch_add(&wk->nconns, 1, __ATOMIC_RELAXED);
		ee.events = c->events;
		ee.data.ptr = c;
		epoll_ctl(wk->epfd, EPOLL_CTL_ADD, fd, &ee);
		sim_stats_connection(wk->nw.stats);
		smtp_session_start(c->s);
		if (wk->draining)
			smtp_session_shutdown(c->s);
		conn_run(wk, c, false);
	}
}

/* check_timers - idle and total-session time limits */
static void
check_timers(struct ev_worker *wk, uint64_t now)
{
	const struct prof_world *w = wk->srv->conf.nb.world;
	uint64_t idle_ms = (uint64_t)w->idle_timeout_s * 1000;
	uint64_t sess_ms = (uint64_t)w->session_timeout_s * 1000;
	struct ev_conn *c;

	while ((c = TAILQ_FIRST(&wk->linger)) != NULL &&
	    c->last_ms + EV_LINGER_MS <= now)
		conn_close(wk, c);
	while ((c = TAILQ_FIRST(&wk->idle)) != NULL && idle_ms != 0 &&
	    c->last_ms + idle_ms <= now) {
		smtp_session_timeout(c->s);
		conn_run(wk, c, false);
		if (c->fd >= 0 && !c->lingering)
			conn_close(wk, c);	/* peer does not read */
	}
	while ((c = TAILQ_FIRST(&wk->age)) != NULL && sess_ms != 0 &&
	    c->start_ms + sess_ms <= now) {
		smtp_session_expired(c->s);
		conn_run(wk, c, false);
		if (c->fd >= 0 && !c->lingering)
			conn_close(wk, c);
	}
}

/* start_drain - stop accepting, ask every session to end */
static void
start_drain(struct ev_worker *wk)
{
	struct ev_server *srv = wk->srv;
	struct ev_conn *c, *tmp;
	size_t i;

	wk->draining = true;
	for (i = 0; i < srv->nlisteners; i++)
		epoll_ctl(wk->epfd, EPOLL_CTL_DEL, srv->listeners[i].fd, NULL);
	epoll_ctl(wk->epfd, EPOLL_CTL_DEL, srv->stopfd, NULL);
	for (c = TAILQ_FIRST(&wk->age); c != NULL; c = tmp) {
		tmp = TAILQ_NEXT(c, age_link);
		smtp_session_shutdown(c->s);
		conn_run(wk, c, false);
	}
}

/* worker_main - one epoll loop */
static void *
worker_main(void *arg)
{
	struct ev_worker *wk = arg;
	struct ev_server *srv = wk->srv;
	struct epoll_event evs[EV_MAX_EVENTS];
	struct ev_tag *tag;
	struct ev_conn *c;
	uint64_t now, last_timer = 0, deadline = 0;
	int i, n;

	for (;;) {
		n = epoll_wait(wk->epfd, evs, EV_MAX_EVENTS,
		    TAILQ_EMPTY(&wk->again) ? 200 : 0);
		nb_worker_refresh(&wk->nw);
		for (i = 0; i < n; i++) {
			tag = evs[i].data.ptr;
			switch (tag->kind) {
			case EV_TAG_LISTEN:
				do_accept(wk, (struct ev_listener *)tag);
				break;
			case EV_TAG_CONN:
				c = (struct ev_conn *)tag;
				if (c->fd < 0)
					break;	/* closed earlier in this batch */
				if (c->lingering) {
					linger_read(wk, c);
					break;
				}
				if (evs[i].events & (EPOLLRDHUP | EPOLLHUP))
					c->peer_fin = true;
				conn_run(wk, c, (evs[i].events & (EPOLLIN |
				    EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
				break;
			case EV_TAG_STOP:
				if (!wk->draining) {
					start_drain(wk);
					deadline = sim_clock_mono_ms() +
					    (uint64_t)srv->conf.nb.grace_s * 1000;
				}
				break;
			default:
				abort();
			}
		}
		if (!TAILQ_EMPTY(&wk->again))
			run_again(wk);
		now = sim_clock_mono_ms();
		if (now - last_timer >= 1000) {
			check_timers(wk, now);
			last_timer = now;
		}
		nb_worker_flush(&wk->nw, 200);
		if (wk->draining && (wk->nconns == 0 || now >= deadline))
			break;
	}
	while ((c = TAILQ_FIRST(&wk->age)) != NULL) {
		smtp_session_eof(c->s);
		conn_close(wk, c);
	}
	while ((c = TAILQ_FIRST(&wk->linger)) != NULL)
		conn_close(wk, c);
	nb_worker_flush(&wk->nw, 0);
	return NULL;
}

/* worker_setup - one worker's pools, glue and epoll set; 0 or -errno */
static int
worker_setup(struct ev_server *srv, struct ev_worker *wk, unsigned idx)
{
	const struct ev_server_conf *cf = &srv->conf;
	struct epoll_event ee;
	unsigned j;
	size_t k;

	wk->srv = srv;
	wk->idx = idx;
	TAILQ_INIT(&wk->idle);
	TAILQ_INIT(&wk->age);
	TAILQ_INIT(&wk->linger);
	TAILQ_INIT(&wk->again);
	wk->conns = calloc(cf->nb.max_conns, sizeof(*wk->conns));
	wk->epfd = epoll_create1(EPOLL_CLOEXEC);
	wk->pool = smtp_conns_pool_new(cf->nb.max_conns);
	if (wk->conns == NULL || wk->epfd < 0 || wk->pool == NULL ||
	    nb_worker_init(&wk->nw, &srv->nb) != 0)
		return -ENOMEM;
	wk->nw.env.tls_ok = cf->tls != NULL;
	for (j = cf->nb.max_conns; j-- > 0;) {
		wk->conns[j].tag.kind = EV_TAG_CONN;
		wk->conns[j].fd = -1;
		wk->conns[j].next_free = wk->free;
		wk->free = &wk->conns[j];
	}
	for (k = 0; k < srv->nlisteners; k++) {
		ee.events = EPOLLIN | EPOLLEXCLUSIVE;
		ee.data.ptr = &srv->listeners[k];
		if (epoll_ctl(wk->epfd, EPOLL_CTL_ADD, srv->listeners[k].fd,
		    &ee) != 0)
			return -errno;
	}
	ee.events = EPOLLIN;
	ee.data.ptr = &srv->stop_tag;
	epoll_ctl(wk->epfd, EPOLL_CTL_ADD, srv->stopfd, &ee);
	return 0;
}

/* ev_run - serve until stopped */
static int
ev_run(struct nb_backend *b)
{
	struct ev_server *srv = EV_SRV(b);
	struct ev_worker *workers;
	unsigned i, started = 0;
	int rc = 0;

	/* readers (stats, metrics) may look at srv->workers from other
	 * threads: it is published once every worker is set up */
	if ((workers = calloc(srv->conf.workers, sizeof(*workers))) == NULL)
		return -ENOMEM;
	for (i = 0; i < srv->conf.workers; i++)
		workers[i].epfd = -1;
	for (i = 0; i < srv->conf.workers && rc == 0; i++)
		rc = worker_setup(srv, &workers[i], i);
	__atomic_store_n(&srv->workers, workers, __ATOMIC_RELEASE);
	if (rc != 0)
		return rc;
	for (i = 0; i < srv->conf.workers; i++) {
		if ((rc = -pthread_create(&srv->workers[i].thread, NULL,
		    worker_main, &srv->workers[i])) != 0) {
			ev_stop(b);
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(srv->workers[i].thread, NULL);
	return rc;
}

/* ev_stop - wake every worker into draining (signal-safe) */
static void
ev_stop(struct nb_backend *b)
{
	uint64_t one = 1;
	ssize_t n;

	n = write(EV_SRV(b)->stopfd, &one, sizeof(one));
	(void)n;
}

/* ev_workers - the workers once set up (any thread), or NULL */
static const struct ev_worker *
ev_workers(const struct ev_server *srv)
{
	return __atomic_load_n(&srv->workers, __ATOMIC_ACQUIRE);
}

/* ev_stats - merge every worker's counters */
static void
ev_stats(const struct nb_backend *b, struct sim_stats *out)
{
	const struct ev_server *srv = EV_CSRV(b);
	const struct ev_worker *wks;
	unsigned i;

	if ((wks = ev_workers(srv)) == NULL)
		return;
	for (i = 0; i < srv->conf.workers; i++)
		if (wks[i].nw.stats != NULL)
			sim_stats_merge(out, wks[i].nw.stats);
}

/* ev_server_pool_stats - sum of the workers' session pool counters */
void
ev_server_pool_stats(const struct nb_backend *b, struct smtp_pool_stats *out)
{
	const struct ev_server *srv = EV_CSRV(b);
	const struct ev_worker *wks;
	struct smtp_pool_stats one;
	unsigned i;

	memset(out, 0, sizeof(*out));
	if (b->ops != &ev_ops || (wks = ev_workers(srv)) == NULL)
		return;
	for (i = 0; i < srv->conf.workers; i++) {
		if (wks[i].pool == NULL)
			continue;
		smtp_pool_stats(wks[i].pool, &one);
		out->sessions += one.sessions;
		out->sessions_peak += one.sessions_peak;
		out->bufs += one.bufs;
		out->bufs_peak += one.bufs_peak;
		out->txns += one.txns;
		out->txns_peak += one.txns_peak;
		out->chunks += one.chunks;
		out->chunks_peak += one.chunks_peak;
		out->exhausted += one.exhausted;
		out->arena_exhausted += one.arena_exhausted;
		out->arena_full += one.arena_full;
	}
}

/* ev_tls - TLS handshakes completed and failed */
static void
ev_tls(const struct nb_backend *b, uint64_t *done, uint64_t *failed)
{
	const struct ev_server *srv = EV_CSRV(b);
	const struct ev_worker *wks;
	unsigned i;

	if ((wks = ev_workers(srv)) == NULL)
		return;
	for (i = 0; i < srv->conf.workers; i++) {
		*done += __atomic_load_n(&wks[i].tls_done, __ATOMIC_RELAXED);
		*failed += __atomic_load_n(&wks[i].tls_failed,
		    __ATOMIC_RELAXED);
	}
}

/* ev_open_conns - open connections now */
static uint64_t
ev_open_conns(const struct nb_backend *b)
{
	const struct ev_server *srv = EV_CSRV(b);
	const struct ev_worker *wks;
	uint64_t n = 0;
	unsigned i;

	if ((wks = ev_workers(srv)) == NULL)
		return 0;
	for (i = 0; i < srv->conf.workers; i++)
		n += __atomic_load_n(&wks[i].nconns, __ATOMIC_RELAXED);
	return n;
}

/* ev_nworkers - worker threads */
static unsigned
ev_nworkers(const struct nb_backend *b)
{
	return EV_CSRV(b)->conf.workers;
}

/* ev_worker_load - open and started sessions of one worker */
static void
ev_worker_load(const struct nb_backend *b, unsigned worker, uint64_t *open,
    uint64_t *accepted)
{
	const struct ev_server *srv = EV_CSRV(b);
	const struct ev_worker *wks, *wk;

	wks = ev_workers(srv);
	if (wks == NULL || worker >= srv->conf.workers)
		return;
	wk = &wks[worker];
	*open = __atomic_load_n(&wk->nconns, __ATOMIC_RELAXED);
	if (wk->nw.stats != NULL)
		*accepted = __atomic_load_n(&wk->nw.stats->connections,
		    __ATOMIC_RELAXED);
}

/* ev_describe - the banner's fragment */
static void
ev_describe(const struct nb_backend *b, char *buf, size_t len)
{
	const struct ev_server *srv = EV_CSRV(b);
	const struct prof_world *w = srv->conf.nb.world;
	char sub[40] = "";

	if (prof_world_has_submission(w))
		snprintf(sub, sizeof(sub), " (submission %u)",
		    w->submission_port);
	snprintf(buf, len, "(%zu listening sockets) on port %u%s, %u workers",
	    srv->nlisteners, w->port, sub, srv->conf.workers);
}

/* ev_banner - the STARTTLS line */
static void
ev_banner(const struct nb_backend *b, FILE *fp)
{
	const struct tls_srv *tls = EV_CSRV(b)->conf.tls;

	if (tls != NULL)
		fprintf(fp, "  STARTTLS: %s\n", tls_srv_generated(tls) ?
		    "self-signed certificate generated at start" :
		    "certificate from --tls-cert");
	else
		fprintf(fp, "  STARTTLS: off\n");
}

/* ev_summary - the STARTTLS handshakes, when offered */
static void
ev_summary(const struct nb_backend *b, FILE *out, FILE *diag)
{
	uint64_t done = 0, failed = 0;

	(void)diag;
	if (EV_CSRV(b)->conf.tls == NULL)
		return;
	ev_tls(b, &done, &failed);
	fprintf(out, "STARTTLS: %llu handshakes, %llu failed\n",
	    (unsigned long long)done, (unsigned long long)failed);
}

/* ev_free - close listeners, free workers */
static void
ev_free(struct nb_backend *b)
{
	struct ev_server *srv = EV_SRV(b);
	size_t i;

	for (i = 0; i < srv->nlisteners; i++)
		close(srv->listeners[i].fd);
	if (srv->workers != NULL)
		for (i = 0; i < srv->conf.workers; i++) {
			free(srv->workers[i].conns);
			smtp_pool_free(srv->workers[i].pool);
			nb_worker_fini(&srv->workers[i].nw);
			if (srv->workers[i].epfd >= 0)
				close(srv->workers[i].epfd);
		}
	if (srv->stopfd >= 0)
		close(srv->stopfd);
	tls_srv_free(srv->conf.tls);
	nb_backend_fini(&srv->nb);
	free(srv->workers);
	free(srv->listeners);
	free(srv);
}

static const struct nb_ops ev_ops = {
	.run = ev_run,
	.stop = ev_stop,
	.free = ev_free,
	.describe = ev_describe,
	.banner = ev_banner,
	.summary = ev_summary,
	.stats = ev_stats,
	.open_conns = ev_open_conns,
	.nworkers = ev_nworkers,
	.worker_load = ev_worker_load,
	.tls = ev_tls,
};
