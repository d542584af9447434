/*
 * @file smtp_arena.h
 * A mail transaction's memory: the copied sender domain and recipients,
 * and the list of accepted recipients the policy reads.  It grows in
 * fixed-size chunks taken from a per-worker chunk pool (not thread-safe)
 * and gives them all back at once when the transaction ends (RSET, end of
 * DATA, EHLO, close).  Nothing is allocated after the pool is made.
 *
 * Bounds: a chunk is SMTP_ARENA_CHUNK bytes; a transaction holds at most
 * SMTP_ARENA_TXN_CHUNKS of them (128 KiB: 1,000 recipients of up to 120
 * characters) and at most SMTP_ARENA_MAX_RCPTS recipients in its list.
 * A pool holds nfirst chunks that only open transactions take (one each:
 * a transaction that grows never keeps another from opening) and ngrow
 * chunks that transactions grow into.  A copy that would pass the
 * transaction's bound fails with -ENOSPC, one that finds the growth
 * chunks all in use with -ENOBUFS; both are counted in the pool and leave
 * the arena as it was.
 *
 * Lifetime: strings and the list stay valid until smtp_arena_open() or
 * smtp_arena_close() is called on the arena.
 */
#ifndef SMTP_ARENA_H
#define SMTP_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtp_slab.h"

#define SMTP_ARENA_CHUNK	8192	/* bytes per chunk (a whole small
					 * transaction) */
#define SMTP_ARENA_TXN_CHUNKS	16	/* chunks one transaction holds at
					 * most (128 KiB) */
#define SMTP_ARENA_HDR		sizeof(void *) /* chunk link */
#define SMTP_ARENA_INLINE_RCPTS	100	/* list entries kept in the first
					 * chunk (Gmail's 100 recipients of
					 * up to 70 characters fit in it);
					 * more move to a chunk of their own */
#define SMTP_ARENA_MAX_RCPTS	\
	((SMTP_ARENA_CHUNK - SMTP_ARENA_HDR) / sizeof(const char *))
#define SMTP_ARENA_STR_MAX	\
	(SMTP_ARENA_CHUNK - SMTP_ARENA_HDR - \
	SMTP_ARENA_INLINE_RCPTS * sizeof(const char *) - 1)
					/* longest string copied */

/** A worker's chunk pool (fields read-only outside smtp_arena.c). */
struct smtp_arena_pool {
	struct smtp_slab chunks;	/* nfirst + ngrow chunks */
	uint32_t	 nfirst;	/* first chunks: open transactions */
	uint32_t	 ngrow;		/* growth chunks */
	uint32_t	 first_used;	/* open transactions now */
	uint32_t	 first_peak;
	uint32_t	 grow_used;	/* growth chunks in use now */
	uint32_t	 grow_peak;
	uint64_t	 exhausted;	/* copies refused: no growth chunk */
	uint64_t	 full;		/* copies refused: transaction bound */
};

/** One transaction's arena (embedded in the session; zeroed = closed). */
struct smtp_arena {
	struct smtp_arena_pool *pool;
	uint8_t		*head;		/* first chunk, or NULL: closed */
	uint8_t		*cur;		/* chunk strings go into */
	const char	**rcpts;	/* list: head's tail or own chunk */
	uint32_t	 used;		/* bytes used in cur (with link) */
	uint32_t	 end;		/* string room ends here in cur */
	uint32_t	 nrcpts;	/* entries in the list */
	uint32_t	 rcap;		/* room in the list */
	uint32_t	 nchunks;	/* chunks held */
};

/**
 * Make a pool of @p nfirst first chunks and @p ngrow growth chunks
 * (address space reserved now, resident as first used).
 * @return 0, -EINVAL (nfirst 0), or -ENOMEM.
 */
int smtp_arena_pool_init(struct smtp_arena_pool *pool, uint32_t nfirst,
    uint32_t ngrow);

/** Release a pool (every arena using it closed first). */
void smtp_arena_pool_fini(struct smtp_arena_pool *pool);

/** An empty, closed arena drawing from @p pool. */
void smtp_arena_init(struct smtp_arena *a, struct smtp_arena_pool *pool);

/**
 * Open (or empty, keeping its first chunk) the arena for a transaction.
 * @return 0, or -ENOBUFS when no first chunk is left (not counted: the
 * caller answers it).
 */
int smtp_arena_open(struct smtp_arena *a);

/** Give every chunk back; the arena is closed (idempotent). */
void smtp_arena_close(struct smtp_arena *a);

/** @return true while the arena holds its first chunk. */
bool smtp_arena_is_open(const struct smtp_arena *a);

/**
 * Copy @p len bytes at @p p, NUL-terminated, lower-cased (ASCII) when
 * @p lower, into the arena; the copy is *out.
 * @return 0; -EINVAL (closed, or len > SMTP_ARENA_STR_MAX); -ENOSPC (the
 * transaction holds SMTP_ARENA_TXN_CHUNKS); -ENOBUFS (no growth chunk).
 */
int smtp_arena_copy(struct smtp_arena *a, const char *p, size_t len,
    bool lower, const char **out);

/**
 * smtp_arena_copy() (lower-cased) of a recipient, after making room for
 * one more list entry, so that smtp_arena_rcpt_keep() cannot fail.
 * @return as smtp_arena_copy(), and -ENOSPC when the list holds
 * SMTP_ARENA_MAX_RCPTS.
 */
int smtp_arena_rcpt_copy(struct smtp_arena *a, const char *p, size_t len,
    const char **out);

/** Append @p rcpt, the last smtp_arena_rcpt_copy(), to the list. */
void smtp_arena_rcpt_keep(struct smtp_arena *a, const char *rcpt);

/** Give back the bytes of @p str, the last copy made (not kept). */
void smtp_arena_unwind(struct smtp_arena *a, const char *str);

/** @return the list of kept recipients (valid while open; NULL when
 *  closed), with their count in *n. */
const char *const *smtp_arena_rcpts(const struct smtp_arena *a,
    uint32_t *n);

#endif /* SMTP_ARENA_H */
