/*
 * DESCRIPTION
 *	Fixed sets of same-sized objects (smtp_slab.h): one anonymous,
 *	unreserved mapping per set, a bump pointer over its untouched part
 *	and a free list threaded through the first word of given-back
 *	objects.  The session pool (smtp_session.c) and the transaction
 *	arena's chunk pool (smtp_arena.c) are built on it.
 *
 * DIAGNOSTICS
 *	None: a full set is the caller's normal outcome (NULL).
 */
#include <sys/mman.h>

#include <errno.h>
#include <string.h>

#include "smtp_slab.h"

/* smtp_slab_init - reserve @cap objects of @objsz bytes (untouched) */
int
smtp_slab_init(struct smtp_slab *sl, size_t objsz, uint32_t cap)
{
	void *m;

	memset(sl, 0, sizeof(*sl));
	if (cap == 0)
		return 0;
	sl->objsz = (objsz + 63) & ~(size_t)63;
	sl->mapsz = sl->objsz * cap;
	m = mmap(NULL, sl->mapsz, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return -ENOMEM;
	sl->base = m;
	sl->cap = cap;
	return 0;
}

/* smtp_slab_get - an object, or NULL when all are in use */
void *
smtp_slab_get(struct smtp_slab *sl)
{
	void *o;

	if ((o = sl->free) != NULL)
		memcpy(&sl->free, o, sizeof(void *));
	else if (sl->bump < sl->cap)
		o = sl->base + (size_t)sl->bump++ * sl->objsz;
	else
		return NULL;
	if (++sl->used > sl->peak)
		sl->peak = sl->used;
	return o;
}

/* smtp_slab_put - give an object back */
void
smtp_slab_put(struct smtp_slab *sl, void *o)
{
	memcpy(o, &sl->free, sizeof(void *));
	sl->free = o;
	sl->used--;
}

/* smtp_slab_fini - unmap */
void
smtp_slab_fini(struct smtp_slab *sl)
{
	if (sl->base != NULL)
		munmap(sl->base, sl->mapsz);
	sl->base = NULL;
}
