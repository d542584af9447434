/*
 * @file dp_alloc.h
 * Heap-call counter for tests and benchmarks (never linked into mxsim):
 * counts malloc, calloc, realloc, the aligned allocators and free made by
 * the calling thread between dp_alloc_arm() and dp_alloc_disarm(), with
 * no LD_PRELOAD.  Under AddressSanitizer it uses the sanitizer's malloc
 * and free hooks; otherwise the linking program defines the allocator
 * entry points and forwards them to glibc's (__libc_malloc, ...).
 */
#ifndef DP_ALLOC_H
#define DP_ALLOC_H

#include <stdint.h>

/** Heap calls counted between arm and disarm. */
struct dp_alloc_counts {
	uint64_t	 allocs;	/* blocks handed out (realloc counts) */
	uint64_t	 frees;		/* non-NULL blocks given back */
};

/** Start counting the calling thread's heap calls from zero. */
void dp_alloc_arm(void);

/** Stop counting and copy the counts into @p out. */
void dp_alloc_disarm(struct dp_alloc_counts *out);

#endif /* DP_ALLOC_H */
