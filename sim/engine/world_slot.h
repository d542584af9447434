/*
 * @file world_slot.h
 * World lifetime: reference counts on worlds, and the slot through which
 * the control API publishes a new world to the workers or lcores.
 *
 * Whoever keeps a world pointer past the moment it fetched it holds a
 * reference: the slot holds the current world, each worker or lcore the
 * world it serves now (world_swap()), each SMTP session the world it
 * opened in (its reply texts and profile point into it), the control API
 * the world of the request it answers.  The last world_drop() frees the
 * world, on whichever thread drops it.
 *
 * Cost: world_swap() is one acquire load and a compare while nothing was
 * published; the slot's lock is taken only to publish and to take the new
 * world (once per change per worker), never per command.  A session adds
 * one atomic increment at open and one decrement at close.
 *
 * A world made by prof_world_new() or prof_world_clone() starts with one
 * reference, its maker's.  prof_world_free() frees regardless of
 * references: only for a world nobody else can reach.
 */
#ifndef WORLD_SLOT_H
#define WORLD_SLOT_H

#include <pthread.h>
#include <stdbool.h>

#include "prof_world.h"

/* Where the current world is published; embed it, init before use. */
struct world_slot {
	pthread_mutex_t	 lock;		/* publish and take; never per command */
	const struct prof_world *cur;	/* atomic; the slot holds a reference */
};

/** Add a reference to @p w (the caller already holds one); returns @p w.
 *  NULL is accepted and returned. */
const struct prof_world *world_hold(const struct prof_world *w);

/** Drop a reference; the last one frees the world.  NULL is accepted. */
void world_drop(const struct prof_world *w);

/** Make @p first current; the slot takes a reference of its own. */
void world_slot_init(struct world_slot *s, const struct prof_world *first);

/** Drop the slot's reference to the current world. */
void world_slot_fini(struct world_slot *s);

/**
 * Make @p w current.  The slot takes over the caller's reference to
 * @p w and drops its reference to the world it replaces (freed here when
 * nothing else holds it).
 */
void world_slot_publish(struct world_slot *s, const struct prof_world *w);

/** @return a new reference to the current world (drop it when done). */
const struct prof_world *world_slot_take(struct world_slot *s);

/**
 * Worker refresh: when @p s publishes another world than *@p held, take
 * the new one and drop *@p held.  *@p held must be a reference the caller
 * holds (which is what makes the pointer compare safe: a held world
 * cannot be freed and its address reused).
 * @return true when *@p held changed.
 */
bool world_swap(const struct prof_world **held, struct world_slot *s);

#endif /* WORLD_SLOT_H */
