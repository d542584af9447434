/*
 * DESCRIPTION
 *	Triplet greylisting table (sim_grey.h).  Keys are 64-bit hashes of
 *	(profile, client IP, sender, recipient); a collision merges two
 *	triplets, which at 2^-64 per pair is no concern for a simulator.
 *	GREY_WAYS ways per bucket, the buckets split over GREY_STRIPES
 *	spin locks; a bucket is only touched under its stripe's lock.
 *
 * DIAGNOSTICS
 *	None: a full bucket evicts (counted), nothing fails after
 *	sim_grey_new().
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sim_grey.h"
#include "sim_rng.h"

#define GREY_WAYS	4	/* triplets per bucket */
#define GREY_STRIPES	64	/* lock stripes (power of two) */
#define GREY_MIN_SLOTS	(GREY_WAYS * GREY_STRIPES)

/* One triplet: key 0 is a free way. */
struct grey_way {
	uint64_t	 key;
	uint64_t	 first_ms;	/* the attempt that started the delay */
	uint64_t	 seen_ms;	/* the last attempt */
	uint32_t	 passed;	/* a retry passed: accepted from now */
	uint32_t	 pad;
};

struct grey_bucket {
	struct grey_way	 way[GREY_WAYS];
};

struct sim_grey {
	pthread_spinlock_t lock[GREY_STRIPES];
	struct grey_bucket *buckets;
	size_t		 nbuckets;	/* power of two */
	size_t		 used;		/* ways holding a key (atomic) */
	uint64_t	 evicted;	/* atomic */
};

static struct grey_way *way_pick(struct grey_bucket *, uint64_t, int *);

/* sim_grey_new - a table of at least @slots triplets */
struct sim_grey *
sim_grey_new(size_t slots)
{
	struct sim_grey *g;
	size_t nb, i;

	if (slots < GREY_MIN_SLOTS)
		slots = GREY_MIN_SLOTS;
	for (nb = GREY_STRIPES; nb * GREY_WAYS < slots; nb <<= 1)
		;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	if ((g->buckets = calloc(nb, sizeof(*g->buckets))) == NULL) {
		free(g);
		return NULL;
	}
	g->nbuckets = nb;
	for (i = 0; i < GREY_STRIPES; i++)
		pthread_spin_init(&g->lock[i], PTHREAD_PROCESS_PRIVATE);
	return g;
}

/* sim_grey_free - free a table */
void
sim_grey_free(struct sim_grey *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < GREY_STRIPES; i++)
		pthread_spin_destroy(&g->lock[i]);
	free(g->buckets);
	free(g);
}

/* sim_grey_hash - FNV-1a of the lower-cased bytes, mixed; never 0 */
uint64_t
sim_grey_hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h = (h ^ c) * 0x100000001b3ULL;
	}
	h = sim_mix64(h);
	return h != 0 ? h : 1;
}

/* sim_grey_key - key of a triplet of one profile */
uint64_t
sim_grey_key(uint32_t prof, uint32_t ip, uint64_t sender, const char *rcpt)
{
	uint64_t h;

	h = sim_mix64(((uint64_t)prof << 32 | ip) ^ sim_mix64(sender));
	h = sim_mix64(h ^ sim_grey_hash(rcpt, strlen(rcpt)));
	return h != 0 ? h : 1;
}

/* way_pick - the way holding @key, else a free one, else the least
 * recently seen (*fresh set when the way does not hold @key) */
static struct grey_way *
way_pick(struct grey_bucket *b, uint64_t key, int *fresh)
{
	struct grey_way *w, *free_w = NULL, *old = &b->way[0];
	size_t i;

	for (i = 0; i < GREY_WAYS; i++) {
		w = &b->way[i];
		if (w->key == key) {
			*fresh = 0;
			return w;
		}
		if (w->key == 0 && free_w == NULL)
			free_w = w;
		if (w->seen_ms < old->seen_ms)
			old = w;
	}
	*fresh = 1;
	return free_w != NULL ? free_w : old;
}

/* sim_grey_check - record one attempt of a triplet and judge it */
enum sim_grey_res
sim_grey_check(struct sim_grey *g, const struct prof_greylist *cfg,
    uint64_t key, uint64_t now_ms)
{
	struct grey_way *w;
	size_t bi;
	uint64_t delay = (uint64_t)cfg->delay_s * 1000;
	uint64_t window = (uint64_t)cfg->window_s * 1000;
	uint64_t keep = (uint64_t)cfg->keep_s * 1000;
	enum sim_grey_res res;
	int fresh;

	bi = (size_t)(sim_mix64(key) & (g->nbuckets - 1));
	pthread_spin_lock(&g->lock[bi & (GREY_STRIPES - 1)]);
	w = way_pick(&g->buckets[bi], key, &fresh);
	if (!fresh && w->passed && now_ms - w->seen_ms > keep)
		fresh = 1;		/* idle past keep: forgotten */
	else if (!fresh && !w->passed && now_ms - w->first_ms > window)
		fresh = 1;		/* the retry came too late */
	if (fresh) {
		if (w->key == 0)
			__atomic_add_fetch(&g->used, 1, __ATOMIC_RELAXED);
		else if (w->key != key)
			__atomic_add_fetch(&g->evicted, 1, __ATOMIC_RELAXED);
		w->key = key;
		w->first_ms = now_ms;
		w->passed = 0;
		res = SIM_GREY_NEW;
	} else if (w->passed) {
		res = SIM_GREY_PASS;
	} else if (now_ms - w->first_ms < delay) {
		res = SIM_GREY_EARLY;
	} else {
		w->passed = 1;
		res = SIM_GREY_PASS;
	}
	w->seen_ms = now_ms;
	pthread_spin_unlock(&g->lock[bi & (GREY_STRIPES - 1)]);
	return res;
}

/* sim_grey_count - triplets held */
size_t
sim_grey_count(const struct sim_grey *g)
{
	return __atomic_load_n(&g->used, __ATOMIC_RELAXED);
}

/* sim_grey_evicted - triplets evicted from full buckets */
uint64_t
sim_grey_evicted(const struct sim_grey *g)
{
	return __atomic_load_n(&g->evicted, __ATOMIC_RELAXED);
}
