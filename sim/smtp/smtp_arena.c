/*
 * DESCRIPTION
 *	Transaction arenas in fixed-size chunks (smtp_arena.h).  A chunk
 *	starts with the link to the next chunk the arena holds; strings are
 *	bumped into the current chunk and a string that does not fit starts
 *	a new one (the old chunk's tail stays unused).  The first chunk
 *	keeps SMTP_ARENA_INLINE_RCPTS list entries at its end, so a small
 *	transaction holds one chunk; the entry after those moves the list
 *	to a chunk of its own (one copy of the inline entries), which holds
 *	SMTP_ARENA_MAX_RCPTS: the list stays one array for the policy, and
 *	appending to it is O(1).
 *
 *	Pool accounting: a first chunk is counted against nfirst, every
 *	other chunk against ngrow; both come from one slab of nfirst +
 *	ngrow chunks, so a first chunk is always there while fewer than
 *	nfirst transactions are open, however much the open ones grew.
 *
 * DIAGNOSTICS
 *	Panics (abort) when a list entry is kept without the room
 *	smtp_arena_rcpt_copy() made for it, or a string unwound is not the
 *	last one copied.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_arena.h"

_Static_assert(SMTP_ARENA_STR_MAX >= 1024,
    "a chunk must hold any command-line argument");
_Static_assert(SMTP_ARENA_INLINE_RCPTS < SMTP_ARENA_MAX_RCPTS,
    "the list's own chunk holds more than the inline entries");

static uint8_t	*smtp_arena_chunk(struct smtp_arena *);
static void	 smtp_arena_link(struct smtp_arena *, uint8_t *);

/* smtp_arena_pool_init - reserve nfirst + ngrow chunks */
int
smtp_arena_pool_init(struct smtp_arena_pool *pool, uint32_t nfirst,
    uint32_t ngrow)
{
	memset(pool, 0, sizeof(*pool));
	if (nfirst == 0 || (uint64_t)nfirst + ngrow > UINT32_MAX)
		return -EINVAL;
	pool->nfirst = nfirst;
	pool->ngrow = ngrow;
	return smtp_slab_init(&pool->chunks, SMTP_ARENA_CHUNK, nfirst + ngrow);
}

/* smtp_arena_pool_fini - unmap the chunks */
void
smtp_arena_pool_fini(struct smtp_arena_pool *pool)
{
	smtp_slab_fini(&pool->chunks);
}

/* smtp_arena_init - a closed arena on @pool */
void
smtp_arena_init(struct smtp_arena *a, struct smtp_arena_pool *pool)
{
	memset(a, 0, sizeof(*a));
	a->pool = pool;
}

/* smtp_arena_is_open - does the arena hold its first chunk */
bool
smtp_arena_is_open(const struct smtp_arena *a)
{
	return a->head != NULL;
}

/* smtp_arena_link - chain @c after the arena's first chunk */
static void
smtp_arena_link(struct smtp_arena *a, uint8_t *c)
{
	memcpy(c, a->head, SMTP_ARENA_HDR);
	memcpy(a->head, &c, SMTP_ARENA_HDR);
	a->nchunks++;
}

/* smtp_arena_chunk - a growth chunk linked into the arena, or NULL
 * (counted: the transaction's bound or an empty pool) */
static uint8_t *
smtp_arena_chunk(struct smtp_arena *a)
{
	struct smtp_arena_pool *pool = a->pool;
	uint8_t *c;

	if (a->nchunks >= SMTP_ARENA_TXN_CHUNKS) {
		pool->full++;
		return NULL;
	}
	if (pool->grow_used >= pool->ngrow ||
	    (c = smtp_slab_get(&pool->chunks)) == NULL) {
		pool->exhausted++;
		return NULL;
	}
	if (++pool->grow_used > pool->grow_peak)
		pool->grow_peak = pool->grow_used;
	smtp_arena_link(a, c);
	return c;
}

/* smtp_arena_trim - give back every chunk but the first */
static void
smtp_arena_trim(struct smtp_arena *a)
{
	struct smtp_arena_pool *pool = a->pool;
	uint8_t *c, *next;

	memcpy(&c, a->head, SMTP_ARENA_HDR);
	for (; c != NULL; c = next) {
		memcpy(&next, c, SMTP_ARENA_HDR);
		smtp_slab_put(&pool->chunks, c);
		pool->grow_used--;
	}
	memset(a->head, 0, SMTP_ARENA_HDR);
	a->nchunks = 1;
}

/* smtp_arena_open - take the first chunk, or empty the arena */
int
smtp_arena_open(struct smtp_arena *a)
{
	struct smtp_arena_pool *pool = a->pool;
	uint8_t *c;

	if (a->head != NULL)
		smtp_arena_trim(a);
	else {
		if (pool == NULL || pool->first_used >= pool->nfirst ||
		    (c = smtp_slab_get(&pool->chunks)) == NULL)
			return -ENOBUFS;
		if (++pool->first_used > pool->first_peak)
			pool->first_peak = pool->first_used;
		memset(c, 0, SMTP_ARENA_HDR);
		a->head = c;
		a->nchunks = 1;
	}
	a->cur = a->head;
	a->used = SMTP_ARENA_HDR;
	a->end = SMTP_ARENA_CHUNK -
	    SMTP_ARENA_INLINE_RCPTS * sizeof(const char *);
	a->rcpts = (const char **)(void *)(a->head + a->end);
	a->rcap = SMTP_ARENA_INLINE_RCPTS;
	a->nrcpts = 0;
	return 0;
}

/* smtp_arena_close - every chunk back to the pool */
void
smtp_arena_close(struct smtp_arena *a)
{
	if (a->head == NULL)
		return;
	smtp_arena_trim(a);
	smtp_slab_put(&a->pool->chunks, a->head);
	a->pool->first_used--;
	a->head = a->cur = NULL;
	a->rcpts = NULL;
	a->used = a->end = a->nrcpts = a->rcap = a->nchunks = 0;
}

/* smtp_arena_copy - a NUL-terminated, optionally lower-cased copy */
int
smtp_arena_copy(struct smtp_arena *a, const char *p, size_t len, bool lower,
    const char **out)
{
	uint8_t *c;
	char *d;
	size_t i;

	if (a->head == NULL || len > SMTP_ARENA_STR_MAX)
		return -EINVAL;
	if (len + 1 > a->end - a->used) {
		if ((c = smtp_arena_chunk(a)) == NULL)
			return a->nchunks >= SMTP_ARENA_TXN_CHUNKS ? -ENOSPC :
			    -ENOBUFS;
		a->cur = c;
		a->used = SMTP_ARENA_HDR;
		a->end = SMTP_ARENA_CHUNK;
	}
	d = (char *)a->cur + a->used;
	if (lower) {
		for (i = 0; i < len; i++)
			d[i] = p[i] >= 'A' && p[i] <= 'Z' ?
			    (char)(p[i] - 'A' + 'a') : p[i];
	} else
		memcpy(d, p, len);
	d[len] = '\0';
	a->used += (uint32_t)len + 1;
	*out = d;
	return 0;
}

/* smtp_arena_rcpt_copy - room for one more list entry, then the copy */
int
smtp_arena_rcpt_copy(struct smtp_arena *a, const char *p, size_t len,
    const char **out)
{
	uint8_t *c;

	if (a->head == NULL)
		return -EINVAL;
	if (a->nrcpts == a->rcap) {
		if (a->rcap >= SMTP_ARENA_MAX_RCPTS) {
			a->pool->full++;
			return -ENOSPC;
		}
		if ((c = smtp_arena_chunk(a)) == NULL)
			return a->nchunks >= SMTP_ARENA_TXN_CHUNKS ? -ENOSPC :
			    -ENOBUFS;
		memcpy(c + SMTP_ARENA_HDR, a->rcpts,
		    a->nrcpts * sizeof(const char *));
		a->rcpts = (const char **)(void *)(c + SMTP_ARENA_HDR);
		a->rcap = SMTP_ARENA_MAX_RCPTS;
	}
	return smtp_arena_copy(a, p, len, true, out);
}

/* smtp_arena_rcpt_keep - append the recipient just copied */
void
smtp_arena_rcpt_keep(struct smtp_arena *a, const char *rcpt)
{
	if (a->nrcpts >= a->rcap)
		abort();
	a->rcpts[a->nrcpts++] = rcpt;
}

/* smtp_arena_unwind - give back the last copy's bytes */
void
smtp_arena_unwind(struct smtp_arena *a, const char *str)
{
	const uint8_t *q = (const uint8_t *)str;

	if (a->cur == NULL || q < a->cur + SMTP_ARENA_HDR ||
	    q >= a->cur + a->used ||
	    (size_t)(q - a->cur) + strlen(str) + 1 != a->used)
		abort();
	a->used = (uint32_t)(q - a->cur);
}

/* smtp_arena_rcpts - the kept recipients */
const char *const *
smtp_arena_rcpts(const struct smtp_arena *a, uint32_t *n)
{
	*n = a->nrcpts;
	return (const char *const *)a->rcpts;
}
