/*
 * DESCRIPTION
 *	CUnit suite of smtp_arena.c: a small transaction in one chunk,
 *	1,000 recipients of 64 characters in one transaction, the
 *	transaction's bound, the pool's growth chunks running out (and a
 *	transaction still opening meanwhile), and unwinding a copy.  Every
 *	test ends with the pool's counters at zero (nothing leaked).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "smtp_arena.h"
#include "test_suites.h"

/* addr64 - a 64-character address numbered @i, upper case in part */
static void
addr64(char *buf, size_t cap, unsigned i)
{
	snprintf(buf, cap, "Recipient.Number.%05u.xxxxxxxxxxxxxxxxxxxxxxx@"
	    "Bulk-Example.test", i);
}

/* fill - keep recipients @i.. (up to 1,000) until a copy fails; @return
 * that copy's error (0: all kept), the next number in *@i */
static int
fill(struct smtp_arena *a, uint32_t *i)
{
	const char *r;
	char buf[80];
	int rc;

	for (; *i < 1000; (*i)++) {
		addr64(buf, sizeof(buf), *i);
		if ((rc = smtp_arena_rcpt_copy(a, buf, 64, &r)) != 0)
			return rc;
		smtp_arena_rcpt_keep(a, r);
	}
	return 0;
}

/* pool_idle - no chunk is out */
static void
pool_idle(const struct smtp_arena_pool *p)
{
	CU_ASSERT_EQUAL(p->first_used, 0);
	CU_ASSERT_EQUAL(p->grow_used, 0);
	CU_ASSERT_EQUAL(p->chunks.used, 0);
}

/* test_small - sender and a few recipients: one chunk, given back */
static void
test_small(void)
{
	struct smtp_arena_pool p;
	struct smtp_arena a;
	const char *const *v;
	const char *s, *r;
	uint32_t n;

	CU_ASSERT_FATAL(smtp_arena_pool_init(&p, 1, 4) == 0);
	smtp_arena_init(&a, &p);
	CU_ASSERT(smtp_arena_copy(&a, "x", 1, false, &s) == -EINVAL);
	CU_ASSERT_FATAL(smtp_arena_open(&a) == 0);
	CU_ASSERT(smtp_arena_open(&a) == 0);	/* empties, keeps it */
	CU_ASSERT_EQUAL(p.first_used, 1);
	CU_ASSERT(smtp_arena_copy(&a, "Sender.EXAMPLE", 14, true, &s) == 0);
	CU_ASSERT_STRING_EQUAL(s, "sender.example");
	CU_ASSERT(smtp_arena_rcpt_copy(&a, "Bob@T.Example", 13, &r) == 0);
	smtp_arena_rcpt_keep(&a, r);
	v = smtp_arena_rcpts(&a, &n);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_STRING_EQUAL(v[0], "bob@t.example");
	CU_ASSERT_EQUAL(a.nchunks, 1);
	CU_ASSERT_EQUAL(p.grow_used, 0);
	/* a refused recipient gives its bytes back */
	CU_ASSERT(smtp_arena_rcpt_copy(&a, "Eve@T.Example", 13, &r) == 0);
	smtp_arena_unwind(&a, r);
	CU_ASSERT(smtp_arena_rcpt_copy(&a, "Al@T.Example", 12, &s) == 0);
	CU_ASSERT(s == r);
	smtp_arena_close(&a);
	smtp_arena_close(&a);
	CU_ASSERT(!smtp_arena_is_open(&a));
	pool_idle(&p);
	smtp_arena_pool_fini(&p);
}

/* test_thousand - 1,000 recipients of 64 characters, in order */
static void
test_thousand(void)
{
	struct smtp_arena_pool p;
	struct smtp_arena a;
	const char *const *v;
	const char *r;
	char buf[80], low[80];
	uint32_t n, i, j;

	CU_ASSERT_FATAL(smtp_arena_pool_init(&p, 1,
	    SMTP_ARENA_TXN_CHUNKS - 1) == 0);
	smtp_arena_init(&a, &p);
	CU_ASSERT_FATAL(smtp_arena_open(&a) == 0);
	CU_ASSERT(smtp_arena_copy(&a, "bulk.example", 12, true, &r) == 0);
	addr64(buf, sizeof(buf), 0);
	CU_ASSERT_EQUAL_FATAL(strlen(buf), 64);
	i = 0;
	CU_ASSERT_FATAL(fill(&a, &i) == 0);
	v = smtp_arena_rcpts(&a, &n);
	CU_ASSERT_EQUAL(n, 1000);
	for (i = 0; i < n; i++) {
		addr64(buf, sizeof(buf), i);
		for (j = 0; buf[j] != '\0'; j++)
			low[j] = buf[j] >= 'A' && buf[j] <= 'Z' ?
			    (char)(buf[j] - 'A' + 'a') : buf[j];
		low[j] = '\0';
		if (strcmp(v[i], low) != 0) {
			CU_FAIL("recipient list out of order");
			break;
		}
	}
	/* strings, the list's own chunk: 10 of the 16 */
	CU_ASSERT(a.nchunks <= 10);
	CU_ASSERT_EQUAL(p.grow_used, a.nchunks - 1);
	CU_ASSERT_EQUAL(p.exhausted + p.full, 0);
	/* emptied for the next transaction: growth chunks go back */
	CU_ASSERT(smtp_arena_open(&a) == 0);
	CU_ASSERT_EQUAL(p.grow_used, 0);
	CU_ASSERT_EQUAL(a.nchunks, 1);
	smtp_arena_close(&a);
	pool_idle(&p);
	smtp_arena_pool_fini(&p);
}

/* test_bound - long addresses meet the transaction's bound: -ENOSPC,
 * counted, the arena unchanged */
static void
test_bound(void)
{
	struct smtp_arena_pool p;
	struct smtp_arena a;
	const char *const *v;
	const char *r;
	char buf[SMTP_ARENA_STR_MAX + 2];
	uint32_t n, i;
	int rc = 0;

	memset(buf, 'a', sizeof(buf));
	CU_ASSERT_FATAL(smtp_arena_pool_init(&p, 1, 100) == 0);
	smtp_arena_init(&a, &p);
	CU_ASSERT_FATAL(smtp_arena_open(&a) == 0);
	CU_ASSERT(smtp_arena_copy(&a, buf, SMTP_ARENA_STR_MAX + 1, false, &r)
	    == -EINVAL);
	for (i = 0; i < 1000; i++) {
		if ((rc = smtp_arena_rcpt_copy(&a, buf, 500, &r)) != 0)
			break;
		smtp_arena_rcpt_keep(&a, r);
	}
	CU_ASSERT_EQUAL(rc, -ENOSPC);
	CU_ASSERT_EQUAL(p.full, 1);
	CU_ASSERT_EQUAL(a.nchunks, SMTP_ARENA_TXN_CHUNKS);
	v = smtp_arena_rcpts(&a, &n);
	CU_ASSERT_EQUAL(n, i);
	CU_ASSERT(n > 200 && strlen(v[n - 1]) == 500);
	smtp_arena_close(&a);
	pool_idle(&p);
	smtp_arena_pool_fini(&p);
}

/* test_exhausted - growth chunks run out: -ENOBUFS, counted; another
 * transaction still opens; chunks given back are grown into again */
static void
test_exhausted(void)
{
	struct smtp_arena_pool p;
	struct smtp_arena a, b, c;
	uint32_t i = 0, na;

	CU_ASSERT_FATAL(smtp_arena_pool_init(&p, 2, 3) == 0);
	smtp_arena_init(&a, &p);
	smtp_arena_init(&b, &p);
	smtp_arena_init(&c, &p);
	CU_ASSERT_FATAL(smtp_arena_open(&a) == 0);
	CU_ASSERT_EQUAL(fill(&a, &i), -ENOBUFS);
	CU_ASSERT_EQUAL(p.exhausted, 1);
	CU_ASSERT_EQUAL(p.grow_used, 3);
	na = a.nrcpts;
	CU_ASSERT(na > 200 && na < 1000);
	/* b opens on its first chunk, but cannot grow; c cannot open */
	CU_ASSERT_FATAL(smtp_arena_open(&b) == 0);
	i = 0;
	CU_ASSERT_EQUAL(fill(&b, &i), -ENOBUFS);
	CU_ASSERT_EQUAL(b.nrcpts, SMTP_ARENA_INLINE_RCPTS);
	CU_ASSERT(smtp_arena_open(&c) == -ENOBUFS);
	/* a ends: b grows as far as a did */
	smtp_arena_close(&a);
	CU_ASSERT_EQUAL(fill(&b, &i), -ENOBUFS);
	CU_ASSERT_EQUAL(b.nrcpts, na);
	smtp_arena_close(&b);
	pool_idle(&p);
	CU_ASSERT_EQUAL(p.first_peak, 2);
	CU_ASSERT_EQUAL(p.grow_peak, 3);
	smtp_arena_pool_fini(&p);
}

/* test_smtp_arena_register - the suite */
int
test_smtp_arena_register(void)
{
	CU_pSuite s = CU_add_suite("smtp_arena", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "small transaction", test_small) == NULL ||
	    CU_add_test(s, "1,000 recipients", test_thousand) == NULL ||
	    CU_add_test(s, "transaction bound", test_bound) == NULL ||
	    CU_add_test(s, "pool exhausted", test_exhausted) == NULL)
		return -1;
	return 0;
}
