/*
 * @file sim_grey.h
 * Triplet greylisting (Mimecast's gateway, issue 16): the first delivery
 * attempt of an (client IP, sender address, recipient) triplet is
 * deferred; a retry at least the profile's delay later, and within its
 * window of that first attempt, passes, and the triplet then passes until
 * it has been idle for the profile's keep time (prof_greylist).  A retry
 * too early is deferred again without restarting the delay; a triplet
 * whose window ran out starts over.
 *
 * The table is fixed at creation (no allocation after it): buckets of a
 * few ways under lock stripes.  A full bucket gives its least recently
 * seen way to the new triplet (counted as an eviction), so a flood of
 * new triplets costs old ones their history, never memory.  Expiry is
 * lazy: a way past its window or keep time counts as absent when looked
 * up.  Thread-safe.
 */
#ifndef SIM_GREY_H
#define SIM_GREY_H

#include <stddef.h>
#include <stdint.h>

#include "prof_world.h"

/* What one attempt of a triplet met. */
enum sim_grey_res {
	SIM_GREY_NEW = 0,	/* first attempt (or its window ran out):
				 * defer */
	SIM_GREY_EARLY,		/* retried before the delay: defer */
	SIM_GREY_PASS		/* retried in time, or already passed */
};

struct sim_grey;

/**
 * Create a table of at least @p slots triplets (rounded up).
 * @return the table, or NULL when out of memory.
 */
struct sim_grey *sim_grey_new(size_t slots);

/** Free the table; NULL is accepted. */
void sim_grey_free(struct sim_grey *g);

/** @return the 64-bit hash of @p n bytes of @p s, lower-cased (an
 *  envelope address; never 0). */
uint64_t sim_grey_hash(const char *s, size_t n);

/** @return the key of a triplet of profile @p prof: client @p ip, the
 *  sim_grey_hash() of the sender address, and recipient @p rcpt. */
uint64_t sim_grey_key(uint32_t prof, uint32_t ip, uint64_t sender,
    const char *rcpt);

/**
 * One delivery attempt of triplet @p key at simulated @p now_ms under
 * @p cfg (delay_s > 0).  Records the attempt.
 * @return what the attempt met.
 */
enum sim_grey_res sim_grey_check(struct sim_grey *g,
    const struct prof_greylist *cfg, uint64_t key, uint64_t now_ms);

/** @return triplets held (expired ones included until reused). */
size_t sim_grey_count(const struct sim_grey *g);

/** @return triplets evicted from a full bucket. */
uint64_t sim_grey_evicted(const struct sim_grey *g);

#endif /* SIM_GREY_H */
