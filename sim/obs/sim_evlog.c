/*
 * DESCRIPTION
 *	JSON Lines event log: per-worker buffers, a fixed pool of buffers,
 *	one writer thread.  Strings that come from clients (sender domain,
 *	recipient) are escaped so every line is valid JSON.
 *
 * DIAGNOSTICS
 *	Write errors are remembered and returned by sim_evlog_close(); the
 *	buffers of a failed write are counted as dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim_clock.h"
#include "sim_evlog.h"
#include "sim_fmt.h"
#include "sim_place.h"

struct evbuf {
	struct evbuf	*next;
	size_t		 len;
	uint64_t	 nevents;
	char		 data[SIM_EVLOG_BUF_SIZE];
};

struct sim_evlog {
	int		 fd;
	int		 next_fd;	/* reopened file; -1: none */
	struct evbuf	*switch_after;	/* last buffer for the old file,
					 * NULL: switch to next_fd now */
	char		*path;
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	struct evbuf	*free;		/* pool */
	struct evbuf	*head, *tail;	/* handed over, in order */
	bool		 stopping;
	int		 error;		/* first -errno */
	uint64_t	 written;
	uint64_t	 dropped;
	struct evbuf	*bufs;		/* the pool's memory */
};

struct sim_evlog_local {
	struct sim_evlog *log;
	const struct prof_world *world;
	struct evbuf	*cur;
	uint64_t	 first_ms;	/* monotonic ms of the oldest event */
	uint64_t	 wall_sec;	/* cached second of wall_iso */
	char		 wall_iso[32];
	uint64_t	 sim_sec;
	char		 sim_iso[32];
};

static void	*writer_main(void *);
static void	take_next_fd(struct sim_evlog *);
static struct evbuf *buf_get(struct sim_evlog *);
static void	buf_submit(struct sim_evlog *, struct evbuf *);
static size_t	put_str(char *, size_t, const char *);
static size_t	put_lit(char *, const char *);
static size_t	put_ip(char *, uint32_t, const struct sim_addr6 *);
static void	iso_cached(uint64_t, uint64_t *, char *);
static size_t	put_auth(char *, unsigned);
static size_t	put_rep(char *, double);
static size_t	put_eod(char *, const struct prof_profile *,
		    const struct sim_event *);

/* copy a string literal; its length is known at compile time */
#define PUT_C(o, lit)	(memcpy((o), (lit), sizeof(lit) - 1), sizeof(lit) - 1)

/* enum sim_auth_res names; 0 (not checked, or no record) is null */
static const char *const auth_names[] = {
	NULL, "\"pass\"", "\"fail\"", "\"softfail\"", "\"neutral\"",
	"\"temperror\"", "\"permerror\""
};

/* take_next_fd - switch to the reopened file once the buffers handed
 * over before the reopen are written (lock held; the writer only, between
 * whole buffers: no line is split across files) */
static void
take_next_fd(struct sim_evlog *log)
{
	if (log->next_fd < 0 || log->switch_after != NULL)
		return;
	if (close(log->fd) != 0 && log->error == 0)
		log->error = -errno;
	log->fd = log->next_fd;
	log->next_fd = -1;
}

/* writer_main - write handed-over buffers until stopped */
static void *
writer_main(void *arg)
{
	struct sim_evlog *log = arg;
	struct evbuf *b;
	size_t off;
	ssize_t n;

	pthread_mutex_lock(&log->lock);
	for (;;) {
		while (log->head == NULL && !log->stopping &&
		    (log->next_fd < 0 || log->switch_after != NULL))
			pthread_cond_wait(&log->cond, &log->lock);
		take_next_fd(log);
		if ((b = log->head) == NULL) {
			if (log->stopping)
				break;
			continue;
		}
		log->head = b->next;
		if (log->head == NULL)
			log->tail = NULL;
		pthread_mutex_unlock(&log->lock);
		for (off = 0; off < b->len; off += (size_t)n) {
			n = write(log->fd, b->data + off, b->len - off);
			if (n < 0 && errno == EINTR) {
				n = 0;
				continue;
			}
			if (n <= 0)
				break;
		}
		pthread_mutex_lock(&log->lock);
		if (off < b->len) {
			if (log->error == 0)
				log->error = -errno;
			log->dropped += b->nevents;
		} else
			log->written += b->nevents;
		if (log->switch_after == b)
			log->switch_after = NULL;
		b->len = 0;
		b->nevents = 0;
		b->next = log->free;
		log->free = b;
	}
	pthread_mutex_unlock(&log->lock);
	return NULL;
}

/* sim_evlog_open - open the file, start the writer */
struct sim_evlog *
sim_evlog_open(const char *path, int *err)
{
	struct sim_evlog *log;
	size_t i;

	if ((log = calloc(1, sizeof(*log))) == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	if ((log->bufs = calloc(SIM_EVLOG_NBUFS, sizeof(*log->bufs))) == NULL) {
		free(log);
		*err = -ENOMEM;
		return NULL;
	}
	for (i = 0; i < SIM_EVLOG_NBUFS; i++) {
		log->bufs[i].next = log->free;
		log->free = &log->bufs[i];
	}
	log->next_fd = -1;
	log->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (log->fd < 0 || (log->path = strdup(path)) == NULL) {
		*err = log->fd < 0 ? -errno : -ENOMEM;
		if (log->fd >= 0)
			close(log->fd);
		free(log->bufs);
		free(log);
		return NULL;
	}
	pthread_mutex_init(&log->lock, NULL);
	pthread_cond_init(&log->cond, NULL);
	if ((*err = -pthread_create(&log->thread, NULL, writer_main, log))) {
		close(log->fd);
		free(log->path);
		free(log->bufs);
		free(log);
		return NULL;
	}
	return log;
}

/* sim_evlog_reopen - open the path anew; the writer switches to it */
int
sim_evlog_reopen(struct sim_evlog *log)
{
	int fd;

	/* append: a file someone else created at the path is kept */
	fd = open(log->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	pthread_mutex_lock(&log->lock);
	if (log->next_fd >= 0)
		close(log->next_fd);	/* two reopens before a switch */
	log->next_fd = fd;
	log->switch_after = log->tail;
	pthread_cond_signal(&log->cond);
	pthread_mutex_unlock(&log->lock);
	return 0;
}

/* buf_get - a free buffer, or NULL when all are in flight */
static struct evbuf *
buf_get(struct sim_evlog *log)
{
	struct evbuf *b;

	pthread_mutex_lock(&log->lock);
	if ((b = log->free) != NULL)
		log->free = b->next;
	pthread_mutex_unlock(&log->lock);
	return b;
}

/* buf_submit - hand a buffer to the writer */
static void
buf_submit(struct sim_evlog *log, struct evbuf *b)
{
	pthread_mutex_lock(&log->lock);
	b->next = NULL;
	if (log->tail != NULL)
		log->tail->next = b;
	else
		log->head = b;
	log->tail = b;
	pthread_cond_signal(&log->cond);
	pthread_mutex_unlock(&log->lock);
}

/* sim_evlog_local_new - a worker's buffer */
struct sim_evlog_local *
sim_evlog_local_new(struct sim_evlog *log, const struct prof_world *w)
{
	struct sim_evlog_local *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->log = log;
	l->world = w;
	l->wall_sec = UINT64_MAX;
	l->sim_sec = UINT64_MAX;
	return l;
}

/* put_str - a JSON string (or null), escaped; returns length */
static size_t
put_str(char *o, size_t cap, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	size_t n = 0;

	if (s == NULL) {
		memcpy(o, "null", 4);
		return 4;
	}
	o[n++] = '"';
	for (p = (const unsigned char *)s; *p != '\0' && n + 8 < cap; p++) {
		if (*p == '"' || *p == '\\') {
			o[n++] = '\\';
			o[n++] = (char)*p;
		} else if (*p < 0x20 || *p >= 0x7f) {
			o[n++] = '\\';
			o[n++] = 'u';
			o[n++] = '0';
			o[n++] = '0';
			o[n++] = hex[*p >> 4];
			o[n++] = hex[*p & 15];
		} else
			o[n++] = (char)*p;
	}
	o[n++] = '"';
	return n;
}

/* put_lit - a literal; returns length */
static size_t
put_lit(char *o, const char *lit)
{
	size_t n = strlen(lit);

	memcpy(o, lit, n);
	return n;
}

/* put_ip - dotted quad, or the IPv6 address when @a6, in quotes; returns
 * length */
static size_t
put_ip(char *o, uint32_t ip, const struct sim_addr6 *a6)
{
	size_t n = 1;

	o[0] = '"';
	if (a6 != NULL)
		n += strlen(sim_addr6_fmt(a6, o + 1, SIM_ADDR_TEXT_MAX));
	else
		n += sim_fmt_ipv4(o + 1, ip);
	o[n++] = '"';
	return n;
}

/* iso_cached - ISO time, reformatting the date part once a second */
static void
iso_cached(uint64_t ms, uint64_t *sec, char *iso)
{
	if (ms / 1000 != *sec) {
		*sec = ms / 1000;
		sim_clock_iso(ms, iso, 32);	/* 24 characters and the NUL */
	}
	iso[20] = (char)('0' + ms % 1000 / 100);
	iso[21] = (char)('0' + ms % 100 / 10);
	iso[22] = (char)('0' + ms % 10);
}

/* put_auth - an authentication result (enum sim_auth_res) or null */
static size_t
put_auth(char *o, unsigned res)
{
	return put_lit(o, res < sizeof(auth_names) / sizeof(auth_names[0]) &&
	    auth_names[res] != NULL ? auth_names[res] : "null");
}

/* put_rep - a reputation score with two decimals (0..1e9) */
static size_t
put_rep(char *o, double v)
{
	uint64_t c;
	size_t n;

	if (!(v >= 0) || v > 1e9)
		return put_lit(o, "null");
	c = (uint64_t)(v * 100 + 0.5);
	n = sim_fmt_u64(o, c / 100);
	o[n++] = '.';
	o[n++] = (char)('0' + c % 100 / 10);
	o[n++] = (char)('0' + c % 10);
	return n;
}

/* put_eod - the placement keys: values for an accepted message at end of
 * DATA (profile p may be NULL), nulls elsewhere but for the scores of a
 * refusal; returns length */
static size_t
put_eod(char *o, const struct prof_profile *p, const struct sim_event *ev)
{
	const char *name;
	size_t n = 0;
	unsigned i;
	bool first = true;

	if (ev->stage != SIM_STAGE_EOD || ev->placement == 0 ||
	    (name = sim_place_name(ev->placement)) == NULL) {
		n += PUT_C(o, ",\"placement\":null,\"category\":null,"
		    "\"place_rules\":null,\"complaints\":null,\"seeds\":null,"
		    "\"ip_rep\":");
		n += ev->rep_set ? put_rep(o + n, ev->ip_rep) :
		    put_lit(o + n, "null");
		n += PUT_C(o + n, ",\"domain_rep\":");
		n += ev->rep_set ? put_rep(o + n, ev->domain_rep) :
		    put_lit(o + n, "null");
		return n;
	}
	n += PUT_C(o + n, ",\"placement\":\"");
	n += put_lit(o + n, name);
	n += PUT_C(o + n, "\",\"category\":");
	if (p != NULL && ev->category != 0 && ev->category <= p->place.ncats) {
		o[n++] = '"';
		n += put_lit(o + n, p->place.cats[ev->category - 1]);
		o[n++] = '"';
	} else
		n += PUT_C(o + n, "null");
	n += PUT_C(o + n, ",\"place_rules\":[");
	for (i = 0; p != NULL && i < p->place.nrules &&
	    i < SIM_PLACE_MAX_RULES; i++) {
		if ((ev->place_rules & (1u << i)) == 0)
			continue;
		if (!first)
			o[n++] = ',';
		first = false;
		o[n++] = '"';
		n += put_lit(o + n, p->place.rules[i].name);
		o[n++] = '"';
	}
	n += PUT_C(o + n, "],\"complaints\":");
	n += sim_fmt_u64(o + n, ev->complaints);
	n += PUT_C(o + n, ",\"seeds\":");
	n += sim_fmt_u64(o + n, ev->nseeds);
	n += PUT_C(o + n, ",\"ip_rep\":");
	n += put_rep(o + n, ev->ip_rep);
	n += PUT_C(o + n, ",\"domain_rep\":");
	n += put_rep(o + n, ev->domain_rep);
	return n;
}

/* sim_evlog_write - format one event */
void
sim_evlog_write(struct sim_evlog_local *l, const struct sim_event *ev)
{
	const struct prof_profile *p = NULL;
	char line[4096];
	const char *prov;
	size_t n = 0;

	if (ev->prof < l->world->nprofiles)
		p = l->world->profiles[ev->prof];
	prov = p != NULL ? p->name : NULL;
	iso_cached(ev->wall_ms, &l->wall_sec, l->wall_iso);
	iso_cached(ev->sim_ms, &l->sim_sec, l->sim_iso);
	/* hand-formatted: this runs once per reply on the fast path */
	n += put_lit(line + n, "{\"wall\":\"");
	n += put_lit(line + n, l->wall_iso);
	n += put_lit(line + n, "\",\"sim\":\"");
	n += put_lit(line + n, l->sim_iso);
	n += put_lit(line + n, "\",\"wall_ms\":");
	n += sim_fmt_u64(line + n, ev->wall_ms);
	n += put_lit(line + n, ",\"sim_ms\":");
	n += sim_fmt_u64(line + n, ev->sim_ms);
	n += put_lit(line + n, ",\"session\":\"");
	n += sim_fmt_hex16(line + n, ev->session_id);
	n += put_lit(line + n, "\",\"provider\":");
	n += put_str(line + n, 64, prov);
	n += put_lit(line + n, ",\"mx\":");
	n += put_ip(line + n, ev->mx_ip, ev->mx6);
	n += put_lit(line + n, ",\"client\":");
	n += put_ip(line + n, ev->client_ip, ev->client6);
	n += put_lit(line + n, ",\"sender_domain\":");
	n += put_str(line + n, 700, ev->sender_domain);
	n += put_lit(line + n, ",\"rcpt\":");
	n += put_str(line + n, 700, ev->rcpt);
	n += put_lit(line + n, ",\"stage\":\"");
	n += put_lit(line + n, sim_stage_name(ev->stage));
	n += put_lit(line + n, "\",\"code\":");
	n += sim_fmt_u64(line + n, ev->code);
	n += put_lit(line + n, ",\"enhanced\":");
	n += put_str(line + n, 32, ev->enhanced[0] ? ev->enhanced : NULL);
	n += put_lit(line + n, ",\"reason\":\"");
	n += put_lit(line + n, sim_kind_info(ev->rk)->name);
	n += put_lit(line + n, "\",\"nrcpts\":");
	n += sim_fmt_u64(line + n, ev->nrcpts);
	n += ev->tls ? PUT_C(line + n, ",\"tls\":true,\"spf\":") :
	    PUT_C(line + n, ",\"tls\":false,\"spf\":");
	n += put_auth(line + n, ev->spf);
	n += PUT_C(line + n, ",\"dkim\":");
	n += put_auth(line + n, ev->dkim);
	n += PUT_C(line + n, ",\"dmarc\":");
	n += put_auth(line + n, ev->dmarc);
	n += put_eod(line + n, p, ev);
	n += put_lit(line + n, "}\n");

	if (l->cur != NULL && l->cur->len + n > SIM_EVLOG_BUF_SIZE) {
		buf_submit(l->log, l->cur);
		l->cur = NULL;
	}
	if (l->cur == NULL) {
		if ((l->cur = buf_get(l->log)) == NULL) {
			__atomic_fetch_add(&l->log->dropped, 1,
			    __ATOMIC_RELAXED);
			return;
		}
		l->first_ms = sim_clock_mono_ms();
	}
	memcpy(l->cur->data + l->cur->len, line, n);
	l->cur->len += n;
	l->cur->nevents++;
}

/* sim_evlog_flush - hand over the buffer when old enough */
void
sim_evlog_flush(struct sim_evlog_local *l, uint64_t max_age_ms)
{
	if (l->cur == NULL || l->cur->len == 0)
		return;
	if (max_age_ms != 0 && sim_clock_mono_ms() - l->first_ms < max_age_ms)
		return;
	buf_submit(l->log, l->cur);
	l->cur = NULL;
}

/* sim_evlog_local_free - flush and free a worker's buffer */
void
sim_evlog_local_free(struct sim_evlog_local *l)
{
	if (l == NULL)
		return;
	sim_evlog_flush(l, 0);
	free(l);
}

/* sim_evlog_close - drain, stop, close */
int
sim_evlog_close(struct sim_evlog *log, uint64_t *written, uint64_t *dropped)
{
	int rc;

	pthread_mutex_lock(&log->lock);
	log->stopping = true;
	pthread_cond_signal(&log->cond);
	pthread_mutex_unlock(&log->lock);
	pthread_join(log->thread, NULL);
	log->switch_after = NULL;	/* every buffer is written */
	take_next_fd(log);
	if (close(log->fd) != 0 && log->error == 0)
		log->error = -errno;
	rc = log->error;
	if (written != NULL)
		*written = log->written;
	if (dropped != NULL)
		*dropped = log->dropped;
	pthread_mutex_destroy(&log->lock);
	pthread_cond_destroy(&log->cond);
	free(log->path);
	free(log->bufs);
	free(log);
	return rc;
}

/* sim_evlog_written - events written */
uint64_t
sim_evlog_written(const struct sim_evlog *log)
{
	return __atomic_load_n(&log->written, __ATOMIC_RELAXED);
}

/* sim_evlog_dropped - events dropped */
uint64_t
sim_evlog_dropped(const struct sim_evlog *log)
{
	return __atomic_load_n(&log->dropped, __ATOMIC_RELAXED);
}
