/*
 * DESCRIPTION
 *	Tier-1 test of world lifetime on an lcore (dp_lcore_refresh()),
 *	through the ring port: a session open when a new world is published
 *	answers with the texts of the world it opened in, a session opened
 *	after answers with the new world's, the lcore lets go of the old
 *	world at its next turn and the open session holds it alone until it
 *	ends.  ASan judges the rest (no read of a freed world, no leak).
 */
#include <string.h>

#include <CUnit/CUnit.h>

#include "dp_test_helper.h"
#include "test_dpdk_suites.h"
#include "world_slot.h"

#define CIP	DPT_CLIENT_IP
#define SINK	DPT_SINK_MX
#define MAIL	"EHLO client.test\r\nMAIL FROM:<a@auth.example>\r\n"

/* refs - a world's reference count (the caller holds one) */
static unsigned
refs(const struct prof_world *w)
{
	return __atomic_load_n(&w->refs, __ATOMIC_ACQUIRE);
}

/* open_session - handshake, greeting read */
static void
open_session(struct dpt *t, struct dpt_conn *c, uint16_t cport)
{
	char buf[2048];

	CU_ASSERT_FATAL(dpt_connect(t, c, CIP, cport, SINK) == 0);
	CU_ASSERT(dpt_collect(t, c, buf, sizeof(buf), NULL) > 0);
	CU_ASSERT(strncmp(buf, "220 ", 4) == 0);
}

/* test_world_swap - publish while a session is open */
static void
test_world_swap(void)
{
	struct prof_world *neu;
	struct dpt t;
	struct dpt_conn c1, c2;
	char buf[2048];
	int sink;

	CU_ASSERT_FATAL(dpt_setup(&t, 8, 0) == 0);
	dp_lcore_refresh(t.lc);			/* nothing new */
	open_session(&t, &c1, 41000);
	CU_ASSERT_EQUAL(refs(t.world), 4);	/* maker, lcore, slot, c1 */

	/* the control API: a clone with another MAIL reply, published */
	neu = prof_world_clone(t.world);
	CU_ASSERT_PTR_NOT_NULL_FATAL(neu);
	sink = prof_world_lookup(neu, SINK);
	CU_ASSERT_FATAL(sink >= 0);
	CU_ASSERT_EQUAL_FATAL(prof_set_reply(neu->profiles[sink],
	    SIM_RK_MAIL_OK, 250, "2.1.0", "Changed", SIM_STAGE_MAIL), 0);
	nb_publish(&t.nb, neu);
	dp_lcore_refresh(t.lc);
	CU_ASSERT_EQUAL(refs(t.world), 2);	/* maker, c1 */
	CU_ASSERT_EQUAL(refs(neu), 2);		/* slot, lcore */

	dpt_talk(&t, &c1, MAIL, buf, sizeof(buf));
	CU_ASSERT(strstr(buf, "\r\n250 ") != NULL);
	CU_ASSERT(strstr(buf, "Changed") == NULL);
	open_session(&t, &c2, 41001);
	CU_ASSERT_EQUAL(refs(neu), 3);
	dpt_talk(&t, &c2, MAIL, buf, sizeof(buf));
	CU_ASSERT(strstr(buf, "\r\n250 2.1.0 Changed") != NULL);

	/* resets end both sessions: each lets go of its world */
	dpt_tcp(&t, CIP, 41000, SINK, DPT_SMTP_PORT, c1.snd_nxt, 0, 0x04, 0,
	    NULL, 0, 0);
	dpt_tcp(&t, CIP, 41001, SINK, DPT_SMTP_PORT, c2.snd_nxt, 0, 0x04, 0,
	    NULL, 0, 0);
	dpt_poll(&t, 0);
	CU_ASSERT_EQUAL(utcp_nsessions(dp_lcore_tcp(t.lc)), 0);
	CU_ASSERT_EQUAL(refs(t.world), 1);	/* the maker alone */
	CU_ASSERT_EQUAL(refs(neu), 2);
	dpt_teardown(&t);			/* lcore and slot drop neu */
	CU_ASSERT_EQUAL(dpt_pool_in_use(), 0);
}

/* test_dp_world_register - the suite */
int
test_dp_world_register(void)
{
	CU_pSuite s = CU_add_suite("dp_world", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "world swap under a session", test_world_swap) ==
	    NULL)
		return -1;
	return 0;
}
