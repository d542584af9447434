/*
 * @file smtp_slab.h
 * A fixed set of same-sized objects for one worker (not thread-safe):
 * address space for all of them is reserved at creation, an object's
 * pages become resident when it is first handed out, and a given-back
 * object is reused before untouched memory is.  Getting and putting are
 * O(1) and never allocate; the set never grows.
 */
#ifndef SMTP_SLAB_H
#define SMTP_SLAB_H

#include <stddef.h>
#include <stdint.h>

/* The set: a free list through objects already used, then a bump
 * pointer over reserved, not yet touched memory. */
struct smtp_slab {
	uint8_t		*base;
	size_t		 objsz;		/* object size, 64-byte multiple */
	size_t		 mapsz;
	uint32_t	 cap;		/* objects in the set */
	uint32_t	 bump;		/* objects ever handed out */
	uint32_t	 used;		/* objects out now */
	uint32_t	 peak;		/* most ever out at once */
	void		*free;		/* next pointer in the object */
};

/**
 * Reserve @p cap objects of @p objsz bytes (rounded up to 64); @p cap 0
 * makes an empty set.
 * @return 0, or -ENOMEM (address space not reserved).
 */
int smtp_slab_init(struct smtp_slab *sl, size_t objsz, uint32_t cap);

/** @return an object (contents undefined), or NULL when all are out. */
void *smtp_slab_get(struct smtp_slab *sl);

/** Give back @p o, an object of @p sl that is out. */
void smtp_slab_put(struct smtp_slab *sl, void *o);

/** Release the reserved memory (objects still out become invalid). */
void smtp_slab_fini(struct smtp_slab *sl);

#endif /* SMTP_SLAB_H */
