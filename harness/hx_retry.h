/**
 * @file hx_retry.h
 * mxload's retry queue and per-message outcomes (--retry).  The queue
 * is a binary min-heap of messages ordered by the time their next
 * attempt is due, allocated once with room for every message of the
 * run (a message is queued at most once); push and pop never allocate.
 * Each message ends with one final outcome: delivered (2xx at end of
 * DATA), bounced (5xx), expired (a temporary failure after the
 * schedule's lifetime), deferred (still queued when the run ended) or
 * aborted (a planned client abort, --abort-prob).  Times are
 * microseconds since the start of the run.
 */
#ifndef HX_RETRY_H
#define HX_RETRY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hx_tally.h"

#define HX_RETRY_HIST	16	/* attempts histogram: 1..15, 16 or more */
#define HX_RETRY_ROWS	256	/* distinct bounce/expiry reply rows */

/** One message between attempts, or the one a connection attempts. */
struct hx_retry_msg {
	uint64_t	 due_us;	/* next attempt (while queued) */
	uint64_t	 seq;		/* message number */
	uint64_t	 first_us;	/* its first attempt */
	uint64_t	 last_delay_us;	/* the previous wait, 0: none */
	uint32_t	 attempts;	/* attempts made so far */
	uint32_t	 target;	/* target index it goes to */
};

/** The queue: a min-heap on due_us (then seq), fixed capacity. */
struct hx_retry_queue {
	struct hx_retry_msg	*v;
	size_t			 len;
	size_t			 cap;
};

/** Final outcome of one message. */
enum hx_final {
	HX_FIN_DELIVERED = 0,
	HX_FIN_BOUNCED,
	HX_FIN_EXPIRED,
	HX_FIN_DEFERRED,
	HX_FIN_ABORTED,
	HX_FIN_COUNT
};

/** Per-message results of a run with --retry. */
struct hx_retry_stats {
	uint64_t	 final[HX_FIN_COUNT];
	uint64_t	 attempts;		/* over all messages */
	uint32_t	 attempts_max;
	uint64_t	 hist[HX_RETRY_HIST];	/* [k]: k+1 attempts; last:
						   HX_RETRY_HIST or more */
	int		 started;		/* first_us is set */
	uint64_t	 first_us;		/* first attempt of the run */
	uint64_t	 last_us;		/* last final outcome other
						   than deferred */
	struct hx_tally	*bounced;		/* the replies that bounced */
	struct hx_tally	*expired;		/* the last temporary reply
						   of expired messages */
};

/**
 * Allocate the queue.
 * @param q   queue (zeroed by the caller)
 * @param cap most messages queued at once, >= 1
 * @return 0; -ENOMEM
 */
int hx_retry_queue_init(struct hx_retry_queue *q, size_t cap);

/** Free the queue's array (q may be zeroed or initialised). */
void hx_retry_queue_free(struct hx_retry_queue *q);

/**
 * Queue a message.
 * @return 0; -ENOSPC when full
 */
int hx_retry_queue_push(struct hx_retry_queue *q,
    const struct hx_retry_msg *m);

/** @return the message due first, or NULL when empty (stays queued) */
const struct hx_retry_msg *hx_retry_queue_top(const struct hx_retry_queue *q);

/**
 * Take the message due first.
 * @return 0; -ENOENT when empty
 */
int hx_retry_queue_pop(struct hx_retry_queue *q, struct hx_retry_msg *out);

/**
 * Make empty statistics with their two reply tables.
 * @param st       statistics (overwritten)
 * @param ntargets number of targets
 * @return 0; -ENOMEM
 */
int hx_retry_stats_init(struct hx_retry_stats *st, size_t ntargets);

/** Free the reply tables. */
void hx_retry_stats_free(struct hx_retry_stats *st);

/**
 * Count a message's final outcome.
 * @param st  statistics
 * @param m   the message (attempts made)
 * @param fin its outcome
 * @param now_us when (run-relative)
 */
void hx_retry_final(struct hx_retry_stats *st, const struct hx_retry_msg *m,
    enum hx_final fin, uint64_t now_us);

/** @return the outcome's name ("delivered"), "?" when out of range */
const char *hx_final_name(enum hx_final fin);

/**
 * Print the per-message lines: outcomes, attempts, time to drain and
 * the delivered rate over it, and the bounce and expiry reply tables.
 * @param st    statistics
 * @param names target names
 * @param fp    output
 * @return 0; -ENOMEM; -EIO
 */
int hx_retry_print(const struct hx_retry_stats *st,
    const char *const *names, FILE *fp);

/**
 * The same as one JSON object: final outcomes, attempts, "bounced_by" and
 * "expired_after" rows (hx_tally_json_rows()).
 * @return the object, or NULL (no memory)
 */
json_t *hx_retry_json(const struct hx_retry_stats *st,
    const char *const *names);

#endif /* HX_RETRY_H */
