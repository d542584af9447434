/*
 * DESCRIPTION
 *	Reference counts on worlds and the publication slot (world_slot.h).
 *
 *	Why counts and not epoch-based reclamation (liburcu): a session
 *	holds its world for its whole life (up to session_timeout_s, half an
 *	hour by default), far longer than a read-side critical section, so
 *	sessions would need counts under RCU as well.  What RCU would add is
 *	a lock-free way to take the slot's current world; here that happens
 *	once per change per worker, so a mutex costs nothing measurable,
 *	needs no thread registration in every worker and lcore, and no
 *	reclamation thread.
 *
 *	The one race counts alone leave open - a worker loads the slot's
 *	pointer, the publisher replaces it and drops the last reference,
 *	then the worker increments freed memory - is closed by taking the
 *	reference under the slot's lock, the lock the publisher holds while
 *	it swaps the pointer.
 *
 *	A world is read-only for everyone but its reference count, so the
 *	count is changed through a pointer whose const is removed here, and
 *	only here (DECONST).
 */
#include <stdint.h>

#include "world_slot.h"

/* the world behind a const pointer, for its reference count only */
#define DECONST(w)	((struct prof_world *)(uintptr_t)(const void *)(w))

/* world_hold - one more reference */
const struct prof_world *
world_hold(const struct prof_world *w)
{
	if (w != NULL)
		__atomic_fetch_add(&DECONST(w)->refs, 1, __ATOMIC_RELAXED);
	return w;
}

/* world_drop - one reference less; the last frees */
void
world_drop(const struct prof_world *w)
{
	if (w != NULL &&
	    __atomic_sub_fetch(&DECONST(w)->refs, 1, __ATOMIC_ACQ_REL) == 0)
		prof_world_free(DECONST(w));
}

/* world_slot_init - the first world, held by the slot */
void
world_slot_init(struct world_slot *s, const struct prof_world *first)
{
	pthread_mutex_init(&s->lock, NULL);
	s->cur = world_hold(first);
}

/* world_slot_fini - drop the current world */
void
world_slot_fini(struct world_slot *s)
{
	world_drop(s->cur);
	s->cur = NULL;
	pthread_mutex_destroy(&s->lock);
}

/* world_slot_publish - swap under the lock, drop the old one outside */
void
world_slot_publish(struct world_slot *s, const struct prof_world *w)
{
	const struct prof_world *old;

	pthread_mutex_lock(&s->lock);
	old = s->cur;
	__atomic_store_n(&s->cur, w, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->lock);
	world_drop(old);
}

/* world_slot_take - a reference to the current world */
const struct prof_world *
world_slot_take(struct world_slot *s)
{
	const struct prof_world *w;

	pthread_mutex_lock(&s->lock);
	w = world_hold(s->cur);
	pthread_mutex_unlock(&s->lock);
	return w;
}

/* world_swap - follow the slot when it moved on */
bool
world_swap(const struct prof_world **held, struct world_slot *s)
{
	const struct prof_world *w;

	if (__atomic_load_n(&s->cur, __ATOMIC_ACQUIRE) == *held)
		return false;
	w = world_slot_take(s);
	world_drop(*held);
	*held = w;
	return true;
}
