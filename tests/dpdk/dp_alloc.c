/*
 * DESCRIPTION
 *	Heap-call counter (dp_alloc.h).  The state is per thread: only the
 *	thread that armed the counter is counted, so EAL's service threads
 *	cannot disturb a test.  Without AddressSanitizer the program that
 *	links this file interposes glibc's allocator entry points (glibc
 *	supports replacing malloc this way, and its own internal calls then
 *	come here too) and forwards each to glibc's allocator; under
 *	AddressSanitizer, which owns those symbols, the sanitizer's hooks
 *	count instead.
 *
 * DIAGNOSTICS
 *	None: the forwarders behave as glibc's functions do.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "dp_alloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define DP_ALLOC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DP_ALLOC_ASAN 1
#endif
#endif

/* The counter of the calling thread. */
static _Thread_local bool dp_armed;
static _Thread_local struct dp_alloc_counts dp_counts;

#ifdef DP_ALLOC_ASAN
/* From the sanitizer runtime (its header is not always installed). */
int __sanitizer_install_malloc_and_free_hooks(
    void (*)(const volatile void *, size_t), void (*)(const volatile void *));

static void
dp_malloc_hook(const volatile void *p, size_t n)
{
	(void)n;
	if (dp_armed && p != NULL)
		dp_counts.allocs++;
}

static void
dp_free_hook(const volatile void *p)
{
	if (dp_armed && p != NULL)
		dp_counts.frees++;
}

/* dp_hooks_once - install the sanitizer hooks on first use */
static void
dp_hooks_once(void)
{
	static _Thread_local bool done;	/* per thread is enough: the
					 * hooks are process-wide and
					 * installing twice is harmless */
	if (!done)
		__sanitizer_install_malloc_and_free_hooks(dp_malloc_hook,
		    dp_free_hook);
	done = true;
}
#else
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);
extern void __libc_free(void *);

void *memalign(size_t, size_t);
void *valloc(size_t);
void *pvalloc(size_t);

/* dp_count - one block handed out */
static inline void *
dp_count(void *p)
{
	if (dp_armed && p != NULL)
		dp_counts.allocs++;
	return p;
}

void *
malloc(size_t n)
{
	return dp_count(__libc_malloc(n));
}

void *
calloc(size_t k, size_t n)
{
	return dp_count(__libc_calloc(k, n));
}

void *
realloc(void *p, size_t n)
{
	return dp_count(__libc_realloc(p, n));
}

void *
memalign(size_t a, size_t n)
{
	return dp_count(__libc_memalign(a, n));
}

void *
aligned_alloc(size_t a, size_t n)
{
	return dp_count(__libc_memalign(a, n));
}

int
posix_memalign(void **out, size_t a, size_t n)
{
	void *p;

	if (a < sizeof(void *) || (a & (a - 1)) != 0)
		return EINVAL;
	if ((p = dp_count(__libc_memalign(a, n))) == NULL)
		return ENOMEM;
	*out = p;
	return 0;
}

void *
valloc(size_t n)
{
	return dp_count(__libc_valloc(n));
}

void *
pvalloc(size_t n)
{
	return dp_count(__libc_pvalloc(n));
}

void
free(void *p)
{
	if (dp_armed && p != NULL)
		dp_counts.frees++;
	__libc_free(p);
}

static void
dp_hooks_once(void)
{
}
#endif

/* dp_alloc_arm - count this thread's heap calls from zero */
void
dp_alloc_arm(void)
{
	dp_hooks_once();
	dp_counts.allocs = 0;
	dp_counts.frees = 0;
	dp_armed = true;
}

/* dp_alloc_disarm - stop counting, hand the counts out */
void
dp_alloc_disarm(struct dp_alloc_counts *out)
{
	dp_armed = false;
	*out = dp_counts;
}
