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
 *	The connection slots are hx_conn.c, the dialogue hx_smtp.c, one
 *	message's transaction hx_txn.c, what is written hx_out.c, the
 *	transport (plain or TLS) hx_tls.c, client abort plans hx_abort.c;
 *	they share the run context of hx_load_priv.h.
 *
 *	With conf->series set, message starts, outcomes and reply
 *	latencies also go to the per-second CSV (hx_series.c), and the
 *	loop never sleeps past the end of its open row.
 *
 *	With conf->retry, a slot between messages takes the retry due
 *	first (hx_retry.h; an open connection only one for its own target)
 *	before a new message; when the message limit or the duration ends
 *	new starts, queued retries go on until the queue is empty and no
 *	message is in flight, or conf->retry_until passes; what is still
 *	queued then ends deferred.
 *
 *	SIGINT and SIGTERM arrive through a signalfd: the first stops
 *	starting messages and retries (idle connections say QUIT), the
 *	second abandons the open ones.
 *
 * DIAGNOSTICS
 *	A slot queued twice, or a queued slot neither idle nor ready,
 *	aborts (internal bug).
 */
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hx_load_priv.h"

#define HX_EVENTS	256	/* epoll_wait batch */
#define HX_TICK_MS	1000	/* longest sleep; progress period */
#define HX_SIG_TAG	UINT64_MAX /* epoll tag of the signalfd */

static struct hx_conn	*queue_pop(struct hx_load *);
static int		rate_allows(const struct hx_load *);
static void		set_stopping(struct hx_load *);
static void		start_work(struct hx_load *);
static void		msg_reserve(struct hx_load *, struct hx_conn *);
static void		retry_reserve(struct hx_load *, struct hx_conn *);
static void		fresh_stop(struct hx_load *);
static int		work_for(const struct hx_load *,
			    const struct hx_conn *);
static void		start_one(struct hx_load *, struct hx_conn *, int);
static void		start_retrying(struct hx_load *);
static void		handle_signal(struct hx_load *);
static void		progress(struct hx_load *, int);
static int		wait_ms(const struct hx_load *);
static int		ld_open(struct hx_load *);
static void		ld_start(struct hx_load *);
static int		ld_loop(struct hx_load *);
static void		ld_finish(struct hx_load *);
static void		ld_free(struct hx_load *);

/* hx_mono_us - monotonic clock in microseconds */
uint64_t
hx_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* hx_load_queue - put a slot in the start queue, once */
void
hx_load_queue(struct hx_load *ld, struct hx_conn *c)
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

/* hx_load_rel - microseconds since the start of the run */
uint64_t
hx_load_rel(const struct hx_load *ld)
{
	uint64_t now = hx_mono_us();

	return now > ld->start_us ? now - ld->start_us : 0;
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
			hx_smtp_quit(ld, c);
}

/* fresh_stop - no new message starts (retries go on with conf->retry) */
static void
fresh_stop(struct hx_load *ld)
{
	if (ld->conf->retry == NULL)
		set_stopping(ld);
	else
		ld->fresh_done = 1;
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
		fresh_stop(ld);
	if (ld->conf->retry != NULL) {
		start_retrying(ld);
		return;
	}
	budget = ld->conf->concurrency;
	while (!ld->stopping && ld->qlen > 0 && budget-- > 0 &&
	    rate_allows(ld)) {
		c = queue_pop(ld);
		start_one(ld, c, 0);
	}
}

/* start_one - reserve a new message (@p retry 0) or the retry due first
 * for the slot, and start it */
static void
start_one(struct hx_load *ld, struct hx_conn *c, int retry)
{
	if (retry)
		retry_reserve(ld, c);
	else
		msg_reserve(ld, c);
	if (c->state == HX_CS_IDLE)
		hx_conn_open(ld, c);
	else if (c->state == HX_CS_READY)
		hx_txn_begin(ld, c);
	else
		abort();	/* only idle or ready slots queue */
	if (ld->conf->messages != 0 && ld->started >= ld->conf->messages)
		fresh_stop(ld);
}

/* work_for - what the slot may start now: 1 the retry due first, 0 a new
 * message, -1 nothing */
static int
work_for(const struct hx_load *ld, const struct hx_conn *c)
{
	const struct hx_retry_msg *m;

	m = hx_retry_queue_top(&ld->rq);
	if (m != NULL && ld->start_us + m->due_us <= ld->now_us &&
	    (c->state == HX_CS_IDLE || c->target == m->target))
		return 1;
	if (!ld->fresh_done && rate_allows(ld))
		return 0;
	return -1;
}

/*
 * start_retrying - start_work() with conf->retry: each queued slot is
 * looked at once; one with nothing to do waits in the queue, or says
 * QUIT when it holds a connection and no new message will come.  Stop
 * when nothing is queued, nothing is in flight and no new message will
 * start, or at conf->retry_until.
 */
static void
start_retrying(struct hx_load *ld)
{
	struct hx_conn *c;
	size_t budget;
	int w;

	if (!ld->stopping && ld->until_us != 0 && ld->now_us >= ld->until_us)
		set_stopping(ld);
	budget = ld->qlen;
	while (!ld->stopping && ld->qlen > 0 && budget-- > 0) {
		c = queue_pop(ld);
		w = work_for(ld, c);
		if (w >= 0)
			start_one(ld, c, w);
		else if (c->state == HX_CS_READY && ld->fresh_done)
			hx_smtp_quit(ld, c);
		else
			hx_load_queue(ld, c);
	}
	if (!ld->stopping && ld->fresh_done && ld->rq.len == 0 &&
	    ld->inflight == 0)
		set_stopping(ld);
}

/* msg_reserve - count a new message's start on this slot */
static void
msg_reserve(struct hx_load *ld, struct hx_conn *c)
{
	c->seq = ld->started++;
	c->flags |= HX_CF_INMSG;
	c->flags &= ~HX_CF_RETRY;
	ld->inflight++;
	if (ld->conf->retry != NULL) {
		memset(&c->rm, 0, sizeof(c->rm));
		c->rm.seq = c->seq;
		c->rm.first_us = ld->now_us - ld->start_us;
		c->rm.attempts = 1;
		if (!ld->conf->rstats->started) {
			ld->conf->rstats->started = 1;
			ld->conf->rstats->first_us = c->rm.first_us;
		}
	}
	if (ld->conf->series != NULL)
		hx_series_sent(ld->conf->series, ld->now_us);
}

/* retry_reserve - the retry due first goes to this slot */
static void
retry_reserve(struct hx_load *ld, struct hx_conn *c)
{
	if (hx_retry_queue_pop(&ld->rq, &c->rm) != 0)
		abort();	/* work_for() saw it */
	c->rm.attempts++;
	c->seq = c->rm.seq;
	c->flags |= HX_CF_INMSG | HX_CF_RETRY;
	ld->inflight++;
	if (ld->conf->series != NULL)
		hx_series_sent(ld->conf->series, ld->now_us);
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
	if (!ld->stopping && !ld->fresh_done && ld->end_us != 0 &&
	    ld->end_us < until)
		until = ld->end_us;
	if (ld->conf->series != NULL &&
	    hx_series_next(ld->conf->series) < until)
		until = hx_series_next(ld->conf->series);
	/* a retry already due waits for a slot: a socket event frees one */
	if (!ld->stopping && ld->rq.len > 0) {
		t = ld->start_us + hx_retry_queue_top(&ld->rq)->due_us;
		if (t > ld->now_us && t < until)
			until = t;
	}
	if (!ld->stopping && ld->until_us != 0 && ld->until_us < until)
		until = ld->until_us;
	if (!ld->stopping && !ld->fresh_done && ld->qlen > 0 &&
	    ld->conf->rate > 0) {
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

/* ld_open - allocate the pool, the TLS context, epoll and the signalfd;
 * 0 or -ENOMEM / -errno (what is open is freed by ld_free()) */
static int
ld_open(struct hx_load *ld)
{
	const struct hx_load_conf *conf = ld->conf;
	struct epoll_event ev;
	sigset_t set;
	size_t i;

	ld->epfd = ld->sigfd = -1;
	TAILQ_INIT(&ld->timers);
	ld->conns = calloc(conf->concurrency, sizeof(*ld->conns));
	ld->queue = calloc(conf->concurrency, sizeof(*ld->queue));
	ld->tcursor = calloc(conf->ntargets, sizeof(*ld->tcursor));
	if (ld->conns == NULL || ld->queue == NULL || ld->tcursor == NULL)
		return -ENOMEM;
	if (conf->starttls && (ld->tls_ctx = hx_tls_ctx_new()) == NULL)
		return -ENOMEM;
	if (conf->retry != NULL && (conf->messages == 0 ||
	    conf->messages > SIZE_MAX / sizeof(struct hx_retry_msg) ||
	    hx_retry_queue_init(&ld->rq, (size_t)conf->messages) != 0))
		return -ENOMEM;
	for (i = 0; i < conf->nsources; i++)
		ld->nsrcaddr += conf->sources[i].naddr;
	ld->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ld->epfd < 0)
		return -errno;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	ld->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (ld->sigfd < 0)
		return -errno;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = HX_SIG_TAG;
	if (epoll_ctl(ld->epfd, EPOLL_CTL_ADD, ld->sigfd, &ev) != 0)
		return -errno;
	return 0;
}

/* ld_start - clocks, Date: header, series, every slot queued */
static void
ld_start(struct hx_load *ld)
{
	const struct hx_load_conf *conf = ld->conf;
	struct timespec ts;
	struct tm tm;
	time_t wall;
	size_t i;

	wall = time(NULL);
	gmtime_r(&wall, &tm);
	strftime(ld->date, sizeof(ld->date), "%a, %d %b %Y %H:%M:%S +0000",
	    &tm);
	ld->now_us = ld->start_us = hx_mono_us();
	ld->timeout_us = (uint64_t)(conf->timeout * 1e6);
	if (conf->duration > 0)
		ld->end_us = ld->start_us + (uint64_t)(conf->duration * 1e6);
	if (conf->retry_until > 0)
		ld->until_us = ld->start_us +
		    (uint64_t)(conf->retry_until * 1e6);
	ld->next_progress = ld->start_us + HX_TICK_MS * 1000u;
	if (conf->series != NULL) {
		clock_gettime(CLOCK_REALTIME, &ts);
		(void)hx_series_start(conf->series, ld->start_us,
		    (uint64_t)ts.tv_sec * 1000u +
		    (uint64_t)ts.tv_nsec / 1000000u);
	}
	for (i = 0; i < conf->concurrency; i++) {
		ld->conns[i].id = (uint32_t)i;
		ld->conns[i].fd = -1;
		hx_load_queue(ld, &ld->conns[i]);
	}
}

/* ld_loop - until stopped with nothing open, or abandoned; 0 or -errno
 * of epoll_wait() */
static int
ld_loop(struct hx_load *ld)
{
	const struct hx_load_conf *conf = ld->conf;
	struct epoll_event evs[HX_EVENTS];
	struct hx_conn *c;
	uint32_t id, gen;
	int n, k;

	for (;;) {
		ld->now_us = hx_mono_us();
		hx_conn_timeouts(ld);
		start_work(ld);
		progress(ld, 0);
		if (conf->series != NULL)
			(void)hx_series_tick(conf->series, ld->now_us);
		if (ld->aborting || (ld->stopping && ld->open == 0))
			return 0;
		n = epoll_wait(ld->epfd, evs, HX_EVENTS, wait_ms(ld));
		if (n < 0 && errno != EINTR)
			return -errno;
		ld->now_us = hx_mono_us();
		for (k = 0; k < n; k++) {
			if (evs[k].data.u64 == HX_SIG_TAG) {
				handle_signal(ld);
				continue;
			}
			id = (uint32_t)evs[k].data.u64;
			gen = (uint32_t)(evs[k].data.u64 >> 32);
			c = &ld->conns[id];
			if (c->gen != gen || c->state == HX_CS_IDLE)
				continue;	/* event for a closed socket */
			hx_conn_event(ld, c, evs[k].events);
		}
	}
}

/* ld_finish - close what is open, last progress line, summary */
static void
ld_finish(struct hx_load *ld)
{
	const struct hx_load_conf *conf = ld->conf;
	struct hx_retry_msg m;
	size_t i;

	ld->stopping = 1;
	for (i = 0; i < conf->concurrency; i++)
		if (ld->conns[i].state != HX_CS_IDLE)
			hx_conn_close(ld, &ld->conns[i]);
	ld->now_us = hx_mono_us();
	while (hx_retry_queue_pop(&ld->rq, &m) == 0)
		hx_retry_final(conf->rstats, &m, HX_FIN_DEFERRED,
		    ld->now_us - ld->start_us);
	progress(ld, 1);
	if (conf->series != NULL)
		(void)hx_series_finish(conf->series, ld->now_us);
	ld->sum->elapsed = (double)(ld->now_us - ld->start_us) / 1e6;
	if (conf->tls != NULL)
		*conf->tls = ld->tls;
}

/* ld_free - release what ld_open() got */
static void
ld_free(struct hx_load *ld)
{
	SSL_CTX_free(ld->tls_ctx);
	if (ld->sigfd >= 0)
		close(ld->sigfd);
	if (ld->epfd >= 0)
		close(ld->epfd);
	free(ld->conns);
	free(ld->queue);
	free(ld->tcursor);
	hx_retry_queue_free(&ld->rq);
}

/* hx_load_run - the event loop */
int
hx_load_run(const struct hx_load_conf *conf, struct hx_tally *tally,
    struct hx_summary *sum)
{
	struct hx_load ld;
	int rc;

	memset(&ld, 0, sizeof(ld));
	memset(sum, 0, sizeof(*sum));
	ld.conf = conf;
	ld.tally = tally;
	ld.sum = sum;
	rc = ld_open(&ld);
	if (rc == 0) {
		ld_start(&ld);
		rc = ld_loop(&ld);
		ld_finish(&ld);
	}
	ld_free(&ld);
	return rc;
}
