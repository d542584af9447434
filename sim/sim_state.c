/*
 * DESCRIPTION
 *	The policy engine's state table: fixed pool of entries, split into
 *	lock stripes, each stripe a chained hash table with its own free
 *	list.  Keys are 128-bit hashes of (kind, profile, IP or string), so
 *	entries have a fixed size whatever the key length.
 *
 * DIAGNOSTICS
 *	Pool exhaustion is counted and reported by returning NULL.
 *	pthread errors on a mutex abort (broken invariant).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sim_rng.h"
#include "sim_state.h"

#define STATE_STRIPES	64

struct state_stripe {
	pthread_mutex_t	 lock;
	struct sim_entry **buckets;
	size_t		 nbuckets;	/* power of two */
	struct sim_entry *free;		/* free list */
	size_t		 used;
	uint64_t	 exhausted;
} __attribute__((aligned(64)));

struct sim_state {
	struct state_stripe stripes[STATE_STRIPES];
	struct sim_entry *pool;
	size_t		 max_entries;
	uint64_t	 idle_ms;
};

static void	key_hash(enum sim_key_kind, uint32_t, uint32_t, const char *,
		    uint64_t[2]);
static struct state_stripe *stripe_of(struct sim_state *, const uint64_t[2]);
static struct sim_entry **bucket_of(struct state_stripe *, const uint64_t[2]);
static size_t	stripe_expire(struct sim_state *, struct state_stripe *,
		    uint64_t);
static struct sim_entry *lookup(struct sim_state *, enum sim_key_kind,
		    uint32_t, uint32_t, const char *, uint64_t, int);

/* key_hash - 128-bit hash of an identity */
static void
key_hash(enum sim_key_kind kind, uint32_t prof, uint32_t ip, const char *str,
    uint64_t out[2])
{
	uint64_t a, b;
	const unsigned char *p;

	a = 0xcbf29ce484222325ULL ^ ((uint64_t)kind << 48) ^
	    ((uint64_t)prof << 32);
	b = 0x84222325cbf29ce4ULL ^ ((uint64_t)kind << 40) ^ prof;
	if (kind == SIM_KEY_IP) {
		a ^= ip;
		b ^= (uint64_t)ip << 17;
	} else if (str != NULL) {
		for (p = (const unsigned char *)str; *p != '\0'; p++) {
			a = (a ^ *p) * 0x100000001b3ULL;
			b = (b ^ *p) * 0x9e3779b97f4a7c15ULL;
		}
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
	if ((st->pool = calloc(max_entries, sizeof(*st->pool))) == NULL) {
		free(st);
		return NULL;
	}
	per = max_entries / STATE_STRIPES;
	for (nb = 16; nb < per; nb <<= 1)
		;
	for (i = 0; i < STATE_STRIPES; i++) {
		s = &st->stripes[i];
		pthread_mutex_init(&s->lock, NULL);
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
		pthread_mutex_destroy(&st->stripes[i].lock);
	}
	free(st->pool);
	free(st);
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

/* lookup - find, or create when asked, and lock an entry */
static struct sim_entry *
lookup(struct sim_state *st, enum sim_key_kind kind, uint32_t prof,
    uint32_t ip, const char *str, uint64_t now, int create)
{
	uint64_t key[2];
	struct state_stripe *s;
	struct sim_entry **b, *e;

	key_hash(kind, prof, ip, str, key);
	s = stripe_of(st, key);
	if (pthread_mutex_lock(&s->lock) != 0)
		abort();
	b = bucket_of(s, key);
	for (e = *b; e != NULL; e = e->next)
		if (e->key[0] == key[0] && e->key[1] == key[1]) {
			e->last_ms = now > e->last_ms ? now : e->last_ms;
			return e;
		}
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
	e->first_ms = now;
	e->last_ms = now;
	e->rep = -1.0;
	e->rep_ms = now;
	e->next = *b;
	*b = e;
	s->used++;
	return e;
none:
	pthread_mutex_unlock(&s->lock);
	return NULL;
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
	if (pthread_mutex_unlock(&stripe_of(st, e->key)->lock) != 0)
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
		pthread_mutex_lock(&s->lock);
		n += stripe_expire(st, s, now);
		pthread_mutex_unlock(&s->lock);
	}
	return n;
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

/* sim_win_count - sliding-window estimate */
uint32_t
sim_win_count(const struct sim_win *w, enum sim_window win, uint64_t now)
{
	uint64_t len = sim_window_ms(win);
	uint32_t idx = (uint32_t)(now / len);
	double frac;

	if (w->idx == idx) {
		frac = (double)(now % len) / (double)len;
		return w->cur + (uint32_t)((double)w->prev * (1.0 - frac));
	}
	if (w->idx + 1 == idx) {
		frac = (double)(now % len) / (double)len;
		return (uint32_t)((double)w->cur * (1.0 - frac));
	}
	return 0;
}

/* sim_win_add - count n at now (negative rolls back) */
void
sim_win_add(struct sim_win *w, enum sim_window win, uint64_t now, int32_t n)
{
	uint64_t len = sim_window_ms(win);
	uint32_t idx = (uint32_t)(now / len);

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
