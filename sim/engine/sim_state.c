/*
 * DESCRIPTION
 *	The policy engine's state table: fixed pool of entries, split into
 *	lock stripes, each stripe a chained hash table with its own free
 *	list.  Keys are 128-bit hashes of (kind, profile, IP or string), so
 *	entries have a fixed size whatever the key length.
 *
 * DIAGNOSTICS
 *	Pool exhaustion is counted and reported by returning NULL.
 *	pthread errors on a stripe lock abort (broken invariant).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sim_grey.h"
#include "sim_rng.h"
#include "sim_state.h"

#define STATE_STRIPES	64

struct state_stripe {
	pthread_spinlock_t lock;	/* held for a few hundred ns at most */
	struct sim_entry **buckets;
	size_t		 nbuckets;	/* power of two */
	struct sim_entry *free;		/* free list */
	size_t		 used;
	uint64_t	 exhausted;
} __attribute__((aligned(64)));

struct sim_state {
	struct state_stripe stripes[STATE_STRIPES];
	struct sim_entry *pool;
	size_t		 pool_bytes;
	size_t		 max_entries;
	uint64_t	 idle_ms;
	struct sim_grey	*grey;		/* greylisting triplets (sim_grey.h) */
};

static void	*pool_alloc(size_t);
static void	pool_free(void *, size_t);
static void	key_hash(enum sim_key_kind, uint32_t, uint32_t, const char *,
		    uint64_t[2]);
static struct state_stripe *stripe_of(struct sim_state *, const uint64_t[2]);
static struct sim_entry **bucket_of(struct state_stripe *, const uint64_t[2]);
static size_t	stripe_expire(struct sim_state *, struct state_stripe *,
		    uint64_t);
static struct sim_entry *lookup_key(struct sim_state *, const uint64_t[2],
		    enum sim_key_kind, uint32_t, struct sim_entry *, uint64_t,
		    int);
static struct sim_entry *lookup(struct sim_state *, enum sim_key_kind,
		    uint32_t, uint32_t, const char *, uint64_t, int);

/* kind of a free entry: a hint pointing at it never matches */
#define KIND_FREE	0xff

/* pool_alloc - zeroed memory for the entry pool, on transparent huge pages
 * where the kernel offers them (random access over hundreds of MB is
 * otherwise dominated by TLB misses) */
static void *
pool_alloc(size_t bytes)
{
	void *p;

	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, bytes, MADV_HUGEPAGE);
	return p;
}

/* pool_free - release the entry pool */
static void
pool_free(void *p, size_t bytes)
{
	if (p != NULL)
		munmap(p, bytes);
}

/* key_hash - 128-bit hash of an identity, 8 bytes of a string a step */
static void
key_hash(enum sim_key_kind kind, uint32_t prof, uint32_t ip, const char *str,
    uint64_t out[2])
{
	uint64_t a, b, chunk;
	size_t len, i;

	a = 0xcbf29ce484222325ULL ^ ((uint64_t)kind << 48) ^
	    ((uint64_t)prof << 32);
	b = 0x84222325cbf29ce4ULL ^ ((uint64_t)kind << 40) ^ prof;
	if (kind == SIM_KEY_IP || kind == SIM_KEY_NETBLOCK) {
		a ^= ip;
		b ^= (uint64_t)ip << 17;
	}
	/* an IPv6 client's IP and netblock are keyed by text (ip 0) */
	if (str != NULL) {
		len = strlen(str);
		for (i = 0; i + 8 <= len; i += 8) {
			memcpy(&chunk, str + i, 8);
			a = (a ^ chunk) * 0x9e3779b97f4a7c15ULL;
			a ^= a >> 29;
			b = (b + chunk) * 0xbf58476d1ce4e5b9ULL;
			b ^= b >> 31;
		}
		chunk = 0;
		memcpy(&chunk, str + i, len - i);
		a = (a ^ chunk ^ len) * 0x9e3779b97f4a7c15ULL;
		b = (b + chunk + len) * 0xbf58476d1ce4e5b9ULL;
	}
	out[0] = sim_mix64(a);
	out[1] = sim_mix64(b ^ out[0]);
}

/* stripe_of - stripe holding a key */
static struct state_stripe *
stripe_of(struct sim_state *st, const uint64_t key[2])
{
	return &st->stripes[key[0] & (STATE_STRIPES - 1)];
}

/* bucket_of - hash chain head of a key within its stripe */
static struct sim_entry **
bucket_of(struct state_stripe *s, const uint64_t key[2])
{
	return &s->buckets[(key[0] >> 8) & (s->nbuckets - 1)];
}

/* sim_state_new - create a table with a fixed pool */
struct sim_state *
sim_state_new(size_t max_entries, uint64_t idle_ms)
{
	struct sim_state *st;
	struct state_stripe *s;
	size_t per, nb, i, j;

	if (max_entries < STATE_STRIPES)
		max_entries = STATE_STRIPES;
	if ((st = aligned_alloc(64, sizeof(*st))) == NULL)
		return NULL;
	memset(st, 0, sizeof(*st));
	st->max_entries = max_entries;
	st->idle_ms = idle_ms;
	if ((st->pool = pool_alloc(max_entries * sizeof(*st->pool))) == NULL) {
		free(st);
		return NULL;
	}
	st->pool_bytes = max_entries * sizeof(*st->pool);
	if ((st->grey = sim_grey_new(max_entries / SIM_STATE_GREY_SHARE)) ==
	    NULL) {
		sim_state_free(st);
		return NULL;
	}
	per = max_entries / STATE_STRIPES;
	for (nb = 16; nb < per; nb <<= 1)
		;
	for (i = 0; i < STATE_STRIPES; i++) {
		s = &st->stripes[i];
		pthread_spin_init(&s->lock, PTHREAD_PROCESS_PRIVATE);
		s->nbuckets = nb;
		if ((s->buckets = calloc(nb, sizeof(*s->buckets))) == NULL) {
			sim_state_free(st);
			return NULL;
		}
		/* stripe i gets pool entries i, i + STRIPES, ... */
		for (j = i; j < max_entries; j += STATE_STRIPES) {
			st->pool[j].next = s->free;
			s->free = &st->pool[j];
		}
	}
	return st;
}

/* sim_state_free - free a table */
void
sim_state_free(struct sim_state *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < STATE_STRIPES; i++) {
		free(st->stripes[i].buckets);
		pthread_spin_destroy(&st->stripes[i].lock);
	}
	pool_free(st->pool, st->pool_bytes);
	sim_grey_free(st->grey);
	free(st);
}

/* sim_state_grey - the greylisting table */
struct sim_grey *
sim_state_grey(struct sim_state *st)
{
	return st->grey;
}

/* stripe_expire - free idle entries of one stripe (lock held) */
static size_t
stripe_expire(struct sim_state *st, struct state_stripe *s, uint64_t now)
{
	struct sim_entry **pp, *e;
	size_t i, n = 0;

	for (i = 0; i < s->nbuckets; i++) {
		pp = &s->buckets[i];
		while ((e = *pp) != NULL) {
			if (e->conns == 0 && e->last_ms + st->idle_ms <= now) {
				*pp = e->next;
				e->key[0] = 0;
				e->key[1] = 0;
				e->kind = KIND_FREE;
				e->next = s->free;
				s->free = e;
				s->used--;
				n++;
			} else
				pp = &e->next;
		}
	}
	return n;
}

/* lookup_key - find, or create when asked, and lock the entry of a
 * hashed key; hint, when not NULL, is tried before the chain (it may be
 * stale: it counts only while it holds the key, which a free entry never
 * does, and entries never leave their stripe) */
static struct sim_entry *
lookup_key(struct sim_state *st, const uint64_t key[2], enum sim_key_kind kind,
    uint32_t prof, struct sim_entry *hint, uint64_t now, int create)
{
	struct state_stripe *s;
	struct sim_entry **b, *e;

	s = stripe_of(st, key);
	if (pthread_spin_lock(&s->lock) != 0)
		abort();
	if (hint != NULL && hint->kind != KIND_FREE &&
	    hint->key[0] == key[0] && hint->key[1] == key[1]) {
		e = hint;
		goto found;
	}
	b = bucket_of(s, key);
	for (e = *b; e != NULL; e = e->next)
		if (e->key[0] == key[0] && e->key[1] == key[1])
			goto found;
	if (!create)
		goto none;
	if (s->free == NULL && stripe_expire(st, s, now) == 0) {
		s->exhausted++;
		goto none;
	}
	e = s->free;
	s->free = e->next;
	memset(e, 0, sizeof(*e));
	e->key[0] = key[0];
	e->key[1] = key[1];
	e->prof = (uint16_t)prof;
	e->kind = (uint8_t)kind;
	e->first_ms = now;
	e->last_ms = now;
	e->rep = -1.0;
	e->rep_ms = now;
	e->next = *b;
	*b = e;
	s->used++;
	return e;
found:
	e->last_ms = now > e->last_ms ? now : e->last_ms;
	return e;
none:
	pthread_spin_unlock(&s->lock);
	return NULL;
}

/* lookup - find, or create when asked, and lock an entry */
static struct sim_entry *
lookup(struct sim_state *st, enum sim_key_kind kind, uint32_t prof,
    uint32_t ip, const char *str, uint64_t now, int create)
{
	uint64_t key[2];

	key_hash(kind, prof, ip, str, key);
	return lookup_key(st, key, kind, prof, NULL, now, create);
}

/* sim_state_ref - hash an identity once and prefetch its bucket (the
 * bucket's address depends only on the key and the stripe's fixed size,
 * so no lock is needed to compute it) */
void
sim_state_ref(struct sim_state *st, struct sim_ref *r, enum sim_key_kind kind,
    uint32_t prof, uint32_t ip, const char *str)
{
	key_hash(kind, prof, ip, str, r->key);
	r->hint = NULL;
	r->prof = (uint16_t)prof;
	r->kind = (uint8_t)kind;
	__builtin_prefetch(bucket_of(stripe_of(st, r->key), r->key));
}

/* sim_state_get_ref - find (or create) the entry of a reference */
struct sim_entry *
sim_state_get_ref(struct sim_state *st, struct sim_ref *r, uint64_t now,
    bool create)
{
	struct sim_entry *e;

	e = lookup_key(st, r->key, (enum sim_key_kind)r->kind, r->prof,
	    r->hint, now, create ? 1 : 0);
	if (e != NULL)
		r->hint = e;
	return e;
}

/* sim_state_get - find or create, and lock */
struct sim_entry *
sim_state_get(struct sim_state *st, enum sim_key_kind kind, uint32_t prof,
    uint32_t ip, const char *str, uint64_t now)
{
	return lookup(st, kind, prof, ip, str, now, 1);
}

/* sim_state_find - find and lock, never create */
struct sim_entry *
sim_state_find(struct sim_state *st, enum sim_key_kind kind, uint32_t prof,
    uint32_t ip, const char *str, uint64_t now)
{
	return lookup(st, kind, prof, ip, str, now, 0);
}

/* sim_state_put - unlock an entry */
void
sim_state_put(struct sim_state *st, struct sim_entry *e)
{
	if (pthread_spin_unlock(&stripe_of(st, e->key)->lock) != 0)
		abort();
}

/* sim_state_expire - free idle entries everywhere */
size_t
sim_state_expire(struct sim_state *st, uint64_t now)
{
	struct state_stripe *s;
	size_t i, n = 0;

	for (i = 0; i < STATE_STRIPES; i++) {
		s = &st->stripes[i];
		pthread_spin_lock(&s->lock);
		n += stripe_expire(st, s, now);
		pthread_spin_unlock(&s->lock);
	}
	return n;
}

/* sim_state_foreach - visit every entry in use, stripe by stripe */
void
sim_state_foreach(struct sim_state *st, sim_state_visit_fn *fn, void *ctx)
{
	struct state_stripe *s;
	struct sim_entry *e;
	size_t i, b;

	for (i = 0; i < STATE_STRIPES; i++) {
		s = &st->stripes[i];
		if (pthread_spin_lock(&s->lock) != 0)
			abort();
		for (b = 0; b < s->nbuckets; b++)
			for (e = s->buckets[b]; e != NULL; e = e->next)
				fn(ctx, e->kind, e->prof, e);
		pthread_spin_unlock(&s->lock);
	}
}

/* sim_state_count - entries in use */
size_t
sim_state_count(const struct sim_state *st)
{
	size_t i, n = 0;

	for (i = 0; i < STATE_STRIPES; i++)
		n += __atomic_load_n(&st->stripes[i].used, __ATOMIC_RELAXED);
	return n;
}

/* sim_state_exhausted - how often the pool was found full */
uint64_t
sim_state_exhausted(const struct sim_state *st)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < STATE_STRIPES; i++)
		n += __atomic_load_n(&st->stripes[i].exhausted,
		    __ATOMIC_RELAXED);
	return n;
}

/* sim_state_entry_size - bytes per entry */
size_t
sim_state_entry_size(void)
{
	return sizeof(struct sim_entry);
}

/* sim_wnow_init - window indices and weights of now (constant divisors,
 * so the compiler turns the divisions into multiplications) */
void
sim_wnow_init(struct sim_wnow *wn, uint64_t now)
{
	wn->ms = now;
	wn->idx[SIM_WIN_SECOND] = (uint32_t)(now / 1000ULL);
	wn->idx[SIM_WIN_MINUTE] = (uint32_t)(now / 60000ULL);
	wn->idx[SIM_WIN_HOUR] = (uint32_t)(now / 3600000ULL);
	wn->idx[SIM_WIN_DAY] = (uint32_t)(now / 86400000ULL);
	wn->keep[SIM_WIN_SECOND] = 1.0 - (double)(now % 1000ULL) / 1000.0;
	wn->keep[SIM_WIN_MINUTE] = 1.0 - (double)(now % 60000ULL) / 60000.0;
	wn->keep[SIM_WIN_HOUR] = 1.0 - (double)(now % 3600000ULL) / 3600000.0;
	wn->keep[SIM_WIN_DAY] = 1.0 - (double)(now % 86400000ULL) / 86400000.0;
}

/* sim_win_count_at - sliding-window estimate */
uint32_t
sim_win_count_at(const struct sim_win *w, enum sim_window win,
    const struct sim_wnow *wn)
{
	uint32_t idx = wn->idx[win];

	if (w->idx == idx)
		return w->cur + (uint32_t)((double)w->prev * wn->keep[win]);
	if (w->idx + 1 == idx)
		return (uint32_t)((double)w->cur * wn->keep[win]);
	return 0;
}

/* sim_win_add_at - count n (negative rolls back) */
void
sim_win_add_at(struct sim_win *w, enum sim_window win,
    const struct sim_wnow *wn, int32_t n)
{
	uint32_t idx = wn->idx[win];

	if (w->idx != idx) {
		w->prev = w->idx + 1 == idx ? w->cur : 0;
		w->cur = 0;
		w->idx = idx;
	}
	if (n < 0 && (uint32_t)-n > w->cur)
		w->cur = 0;
	else
		w->cur = (uint32_t)((int64_t)w->cur + n);
}

/* sim_win_count - sliding-window estimate at now */
uint32_t
sim_win_count(const struct sim_win *w, enum sim_window win, uint64_t now)
{
	struct sim_wnow wn;

	sim_wnow_init(&wn, now);
	return sim_win_count_at(w, win, &wn);
}

/* sim_win_add - count n at now (negative rolls back) */
void
sim_win_add(struct sim_win *w, enum sim_window win, uint64_t now, int32_t n)
{
	struct sim_wnow wn;

	sim_wnow_init(&wn, now);
	sim_win_add_at(w, win, &wn, n);
}
