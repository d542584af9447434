/*
 * DESCRIPTION
 *	Tests for world lifetime (world_slot.c): reference counts, publish
 *	and take, the worker's world_swap(), an SMTP session that keeps the
 *	world it opened in across a publish and frees it at its end, and
 *	threads swapping worlds while another publishes.  A world freed too
 *	early is a use-after-free and one never freed a leak: ASan and
 *	LeakSanitizer judge both in the sanitizer build.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "smtp_helper.h"
#include "test_suites.h"
#include "world_slot.h"

#define WS_THREADS	2
#define WS_PUBLISHES	2000

/* A worker thread of the concurrent test. */
struct ws_worker {
	pthread_t	 thread;
	struct world_slot *slot;
	const struct prof_world *held;	/* the worker's reference */
	int		*stop;		/* atomic */
	unsigned long	 reads;		/* turns that read the world */
};

static unsigned	refs(const struct prof_world *);
static struct prof_world *one_profile_world(const char *);
static void	*ws_worker_main(void *);

/* refs - a world's reference count (the caller holds one) */
static unsigned
refs(const struct prof_world *w)
{
	return __atomic_load_n(&w->refs, __ATOMIC_ACQUIRE);
}

/* one_profile_world - a world with one profile called @p name */
static struct prof_world *
one_profile_world(const char *name)
{
	struct prof_world *w;
	struct prof_profile *p;

	if ((w = prof_world_new()) == NULL)
		return NULL;
	if ((p = prof_profile_new(name)) == NULL ||
	    prof_world_add_profile(w, p) < 0) {
		prof_profile_free(p);
		prof_world_free(w);
		return NULL;
	}
	return w;
}

/* holds and drops; the slot holds its current world and drops the one it
 * replaces; world_swap follows the slot */
static void
test_world_refs(void)
{
	struct world_slot slot;
	const struct prof_world *a, *b, *held, *t;

	a = one_profile_world("a");
	b = one_profile_world("b");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(refs(a), 1);
	CU_ASSERT_PTR_EQUAL(world_hold(a), a);
	CU_ASSERT_EQUAL(refs(a), 2);
	world_drop(a);
	CU_ASSERT_EQUAL(refs(a), 1);
	CU_ASSERT_PTR_NULL(world_hold(NULL));
	world_drop(NULL);

	world_slot_init(&slot, a);
	CU_ASSERT_EQUAL(refs(a), 2);
	held = world_slot_take(&slot);
	CU_ASSERT_PTR_EQUAL(held, a);
	CU_ASSERT_EQUAL(refs(a), 3);
	CU_ASSERT_FALSE(world_swap(&held, &slot));
	CU_ASSERT_EQUAL(refs(a), 3);
	world_drop(a);			/* the maker lets go */

	/* publish b: the slot takes over b's reference, drops a's */
	world_slot_publish(&slot, b);
	CU_ASSERT_EQUAL(refs(b), 1);
	CU_ASSERT_EQUAL(refs(a), 1);	/* the worker still holds a */
	CU_ASSERT_STRING_EQUAL(held->profiles[0]->name, "a");
	CU_ASSERT_TRUE(world_swap(&held, &slot));	/* a is freed here */
	CU_ASSERT_PTR_EQUAL(held, b);
	CU_ASSERT_EQUAL(refs(b), 2);
	CU_ASSERT_FALSE(world_swap(&held, &slot));

	t = world_slot_take(&slot);
	CU_ASSERT_PTR_EQUAL(t, b);
	CU_ASSERT_EQUAL(refs(b), 3);
	world_drop(t);
	world_drop(held);
	CU_ASSERT_EQUAL(refs(b), 1);
	world_slot_fini(&slot);		/* b is freed here */
}

/* A session keeps the world it opened in (its reply texts) across a
 * publish; the worker moves on at once; the old world is freed when the
 * session ends, and not before. */
static void
test_world_session(void)
{
	static const char mail[] = "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n";
	struct smtp_fix fx;
	struct world_slot slot;
	struct prof_world *old, *neu;
	struct smtp_session *s1, *s2;
	char out[4096];

	CU_ASSERT_EQUAL_FATAL(smtp_fix_init(&fx), 0);
	old = prof_world_clone(fx.w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(old);
	world_slot_init(&slot, old);
	world_drop(old);			/* the slot's alone now */
	fx.env.world = world_slot_take(&slot);	/* the worker's */
	s1 = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s1);
	CU_ASSERT_EQUAL(refs(old), 3);		/* slot, worker, session */

	/* the control API: clone, change a reply text, publish */
	neu = prof_world_clone(old);
	CU_ASSERT_PTR_NOT_NULL_FATAL(neu);
	CU_ASSERT_EQUAL_FATAL(prof_set_reply(neu->profiles[0],
	    SIM_RK_MAIL_OK, 250, "2.1.0", "Changed ({domain})",
	    SIM_STAGE_MAIL), 0);
	world_slot_publish(&slot, neu);
	CU_ASSERT_TRUE(world_swap(&fx.env.world, &slot));
	CU_ASSERT_PTR_EQUAL(fx.env.world, neu);
	CU_ASSERT_EQUAL(refs(old), 1);		/* the session alone */

	/* the open session answers with its own world's texts; a new
	 * session with the new world's */
	smtp_fix_feed(s1, mail, sizeof(mail) - 1, 0, 0, out, sizeof(out));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "250 2.1.0 Sender OK (b.example)"));
	s2 = smtp_fix_session(&fx, SMTP_FIX_MX);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s2);
	smtp_fix_feed(s2, mail, sizeof(mail) - 1, 0, 0, out, sizeof(out));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "250 2.1.0 Changed (b.example)"));
	CU_ASSERT_EQUAL(refs(neu), 3);		/* slot, worker, s2 */

	smtp_session_free(s1);		/* old is freed here (LSan: no leak;
					 * ASan: nothing reads it after) */
	smtp_session_free(s2);
	CU_ASSERT_EQUAL(refs(neu), 2);
	world_drop(fx.env.world);
	fx.env.world = fx.w;
	world_slot_fini(&slot);		/* neu is freed here */
	smtp_fix_free(&fx);
}

/* ws_worker_main - swap at every turn (at least one), open and close a
 * "session" on the held world, read a profile name */
static void *
ws_worker_main(void *arg)
{
	struct ws_worker *wk = arg;
	const struct prof_world *sess;

	do {
		world_swap(&wk->held, wk->slot);
		sess = world_hold(wk->held);
		if (sess->profiles[0]->name[0] == 'w')
			wk->reads++;
		world_drop(sess);
	} while (!__atomic_load_n(wk->stop, __ATOMIC_ACQUIRE));
	return NULL;
}

/* threads follow the slot while it publishes; every world but the last
 * is freed, none too early */
static void
test_world_threads(void)
{
	struct ws_worker wks[WS_THREADS];
	struct world_slot slot;
	struct prof_world *w, *c;
	const struct prof_world *cur;
	int stop = 0, i;

	w = one_profile_world("w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	world_slot_init(&slot, w);
	world_drop(w);
	for (i = 0; i < WS_THREADS; i++) {
		memset(&wks[i], 0, sizeof(wks[i]));
		wks[i].slot = &slot;
		wks[i].held = world_slot_take(&slot);
		wks[i].stop = &stop;
		CU_ASSERT_EQUAL_FATAL(pthread_create(&wks[i].thread, NULL,
		    ws_worker_main, &wks[i]), 0);
	}
	for (i = 0; i < WS_PUBLISHES; i++) {
		cur = world_slot_take(&slot);
		c = prof_world_clone(cur);
		world_drop(cur);
		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		world_slot_publish(&slot, c);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	cur = world_slot_take(&slot);
	for (i = 0; i < WS_THREADS; i++) {
		pthread_join(wks[i].thread, NULL);
		CU_ASSERT(wks[i].reads > 0);
		world_swap(&wks[i].held, &slot);
		CU_ASSERT_PTR_EQUAL(wks[i].held, cur);
		world_drop(wks[i].held);
	}
	CU_ASSERT_EQUAL(refs(cur), 2);		/* the slot and this test */
	world_drop(cur);
	world_slot_fini(&slot);
}

int
test_world_slot_register(void)
{
	CU_pSuite s = CU_add_suite("world_slot", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "refs and slot", test_world_refs) == NULL ||
	    CU_add_test(s, "session keeps its world", test_world_session) ==
	    NULL ||
	    CU_add_test(s, "threads and publishes", test_world_threads) ==
	    NULL)
		return -1;
	return 0;
}
