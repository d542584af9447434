/*
 * Tests of the backend contract's shared part (nb_backend.c) and the
 * per-worker glue (nb_worker.c), with no network: the world published
 * and picked up, session ids from the seed and one shared counter, every
 * reply counted, written to the event log, folded into the Postmaster
 * view and, the first of its kind only, printed; a backend without TLS
 * says so.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "nb_backend.h"
#include "nb_worker.h"
#include "world_slot.h"
#include "sim_pm.h"
#include "sim_rng.h"
#include "test_suites.h"

#define NB_T0	1772445600000ULL	/* 2026-03-02T10:00:00Z */

struct nb_fix {
	struct prof_world *w;
	struct sim_state *st;
	struct sim_clock clock;
	struct sim_pm	*pm;
	struct nb_conf	 nc;
};

/* fix_open - one "gmail" profile on 127.9.1.1, seed 77 */
static int
fix_open(struct nb_fix *f)
{
	memset(f, 0, sizeof(*f));
	if ((f->w = prof_world_new()) == NULL ||
	    prof_world_add_profile(f->w, prof_profile_new("gmail")) < 0 ||
	    prof_world_add_block(f->w, 0x7f090101, 32, 0) != 0)
		return -1;
	f->w->seed = 77;
	if ((f->st = sim_state_new(64, 3600000)) == NULL ||
	    (f->pm = sim_pm_new(64)) == NULL)
		return -1;
	sim_clock_init_manual(&f->clock, NB_T0);
	f->nc.world = f->w;
	f->nc.state = f->st;
	f->nc.clock = &f->clock;
	f->nc.pm = f->pm;
	f->nc.max_conns = 4;
	return 0;
}

static void
fix_close(struct nb_fix *f)
{
	sim_pm_free(f->pm);
	sim_state_free(f->st);
	prof_world_free(f->w);
}

/* no_stats - the operations a worker-less test backend has */
static void
no_stats(const struct nb_backend *b, struct sim_stats *out)
{
	(void)b;
	(void)out;
}

static const struct nb_ops no_tls_ops = {
	.stats = no_stats,
};

/* the shared part: world publish and read, notices, no TLS */
static void
test_shared(void)
{
	struct nb_fix f;
	struct nb_backend b;
	struct nb_conf bad;
	struct prof_world *w2;
	const struct prof_world *cur;
	uint64_t done = 9, failed = 9;

	CU_ASSERT_EQUAL_FATAL(fix_open(&f), 0);
	memset(&bad, 0, sizeof(bad));
	CU_ASSERT_EQUAL(nb_backend_init(&b, &no_tls_ops, &bad), -EINVAL);
	CU_ASSERT_EQUAL_FATAL(nb_backend_init(&b, &no_tls_ops, &f.nc), 0);
	CU_ASSERT_PTR_NULL(b.seen);	/* notices off */
	CU_ASSERT_PTR_EQUAL(b.conf.notice_fp, stderr);
	cur = nb_world(&b);
	CU_ASSERT_PTR_EQUAL(cur, f.w);
	world_drop(cur);
	w2 = prof_world_clone(f.w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w2);
	nb_publish(&b, w2);			/* b takes the maker's ref */
	cur = nb_world(&b);
	CU_ASSERT_PTR_EQUAL(cur, w2);
	world_drop(cur);
	CU_ASSERT_PTR_EQUAL(b.conf.world, f.w);	/* the first stays */
	CU_ASSERT_FALSE(nb_tls(&b, &done, &failed));
	CU_ASSERT_EQUAL(done, 0);
	CU_ASSERT_EQUAL(failed, 0);
	nb_backend_fini(&b);
	f.nc.notices = true;
	CU_ASSERT_EQUAL_FATAL(nb_backend_init(&b, NULL, &f.nc), 0);
	CU_ASSERT_PTR_NOT_NULL(b.seen);
	nb_backend_fini(&b);		/* frees w2 */
	fix_close(&f);
}

/* session ids: seed mixed with one counter over the workers; refresh */
static void
test_worker_ids_world(void)
{
	struct nb_fix f;
	struct nb_backend b;
	struct nb_worker w1, w2;
	struct prof_world *nw;

	CU_ASSERT_EQUAL_FATAL(fix_open(&f), 0);
	f.nc.scan = true;
	CU_ASSERT_EQUAL_FATAL(nb_backend_init(&b, NULL, &f.nc), 0);
	CU_ASSERT_EQUAL_FATAL(nb_worker_init(&w1, &b), 0);
	CU_ASSERT_EQUAL_FATAL(nb_worker_init(&w2, &b), 0);
	CU_ASSERT_PTR_EQUAL(w1.env.world, f.w);
	CU_ASSERT_PTR_EQUAL(w1.env.state, f.st);
	CU_ASSERT_PTR_EQUAL(w1.env.clock, &f.clock);
	CU_ASSERT_TRUE(w1.env.scan);
	CU_ASSERT_FALSE(w1.env.tls_ok);
	CU_ASSERT_PTR_NULL(w1.env.auth);	/* no auth world */
	CU_ASSERT_PTR_NULL(w1.evl);		/* no event log */
	CU_ASSERT_EQUAL(nb_worker_session_id(&w1), sim_mix64(77 ^ 0));
	CU_ASSERT_EQUAL(nb_worker_session_id(&w2), sim_mix64(77 ^ 1));
	CU_ASSERT_EQUAL(nb_worker_session_id(&w1), sim_mix64(77 ^ 2));
	nw = prof_world_clone(f.w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(nw);
	nw->seed = 5;		/* ids keep the first world's seed */
	nb_publish(&b, nw);
	CU_ASSERT_PTR_EQUAL(w1.env.world, f.w);	/* until its next turn */
	nb_worker_refresh(&w1);
	CU_ASSERT_PTR_EQUAL(w1.env.world, nw);
	CU_ASSERT_PTR_EQUAL(w2.env.world, f.w);
	CU_ASSERT_EQUAL(nb_worker_session_id(&w2), sim_mix64(77 ^ 3));
	nb_worker_fini(&w1);
	nb_worker_fini(&w2);
	nb_worker_fini(&w2);	/* twice: harmless */
	nb_backend_fini(&b);		/* frees nw */
	fix_close(&f);
}

/* a reply: counted, logged, in the Postmaster view, first one printed */
static void
test_worker_reply(void)
{
	struct nb_fix f;
	struct nb_backend b;
	struct nb_worker wk;
	struct sim_event ev;
	struct sim_pm_row *rows = NULL;
	struct sim_evlog *log;
	char path[] = "/tmp/test_nb_XXXXXX", text[4096];
	uint64_t written = 0, dropped = 0;
	FILE *notes;
	size_t n;
	int fd, rc;

	CU_ASSERT_EQUAL_FATAL(fix_open(&f), 0);
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	log = sim_evlog_open(path, &rc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	notes = tmpfile();
	CU_ASSERT_PTR_NOT_NULL_FATAL(notes);
	f.nc.evlog = log;
	f.nc.notices = true;
	f.nc.notice_fp = notes;
	CU_ASSERT_EQUAL_FATAL(nb_backend_init(&b, NULL, &f.nc), 0);
	CU_ASSERT_EQUAL_FATAL(nb_worker_init(&wk, &b), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(wk.evl);
	memset(&ev, 0, sizeof(ev));
	ev.sim_ms = NB_T0;
	ev.prof = 0;
	ev.client_ip = 0x7f0a0001;
	ev.mx_ip = 0x7f090101;
	ev.stage = SIM_STAGE_MAIL;
	ev.rk = SIM_RK_RATE_IP;
	ev.code = 421;
	ev.enhanced = "4.7.28";
	ev.domain_rep = -1;
	wk.env.on_event(wk.env.event_ctx, &ev);
	wk.env.on_event(wk.env.event_ctx, &ev);
	CU_ASSERT_EQUAL(wk.stats->deferred, 2);
	CU_ASSERT_EQUAL(wk.stats->rows[0].deferred, 2);
	CU_ASSERT_EQUAL(sim_pm_rows(f.pm, NULL, &rows), 1);
	CU_ASSERT_EQUAL(rows[0].errors[0].count, 2);
	free(rows);
	nb_worker_flush(&wk, 0);
	nb_worker_fini(&wk);
	nb_backend_fini(&b);
	CU_ASSERT_EQUAL(sim_evlog_close(log, &written, &dropped), 0);
	CU_ASSERT_EQUAL(written, 2);
	CU_ASSERT_EQUAL(dropped, 0);
	rewind(notes);
	n = fread(text, 1, sizeof(text) - 1, notes);
	text[n] = '\0';
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "gmail: first 421 4.7.28 rate.ip"));
	CU_ASSERT_PTR_NULL(strstr(strstr(text, "first") + 1, "first"));
	fclose(notes);
	unlink(path);
	fix_close(&f);
}

int
test_nb_backend_register(void)
{
	CU_pSuite s = CU_add_suite("nb_backend", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "shared part", test_shared) == NULL ||
	    CU_add_test(s, "worker: ids, world", test_worker_ids_world) ==
	    NULL ||
	    CU_add_test(s, "worker: a reply", test_worker_reply) == NULL)
		return -1;
	return 0;
}
