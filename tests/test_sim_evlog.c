/*
 * Tests of sim_evlog: the exact JSON line for an event, escaping of
 * client-supplied strings, nulls, and that close writes everything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "sim_evlog.h"
#include "test_suites.h"

/* read_all - a file's contents (caller frees) */
static char *
read_all(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	long n;

	if (fp == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = calloc(1, (size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	return buf;
}

/* one accepted message and one refusal with hostile strings */
static void
test_lines(void)
{
	char path[] = "/tmp/mxsim-evlog-XXXXXX";
	struct prof_world *w = prof_world_new();
	struct prof_profile *p = prof_profile_new("gmail");
	struct sim_evlog *log;
	struct sim_evlog_local *l;
	struct sim_event ev;
	uint64_t written = 0, dropped = 1;
	char *got;
	int fd, err = 0;

	CU_ASSERT_FATAL(w != NULL && p != NULL);
	CU_ASSERT_FATAL(prof_world_add_profile(w, p) == 0);
	CU_ASSERT_FATAL((fd = mkstemp(path)) >= 0);
	close(fd);
	log = sim_evlog_open(path, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(log);
	l = sim_evlog_local_new(log, w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);

	memset(&ev, 0, sizeof(ev));
	ev.wall_ms = 1767225600123ULL;	/* 2026-01-01T00:00:00.123Z */
	ev.sim_ms = 1767312000009ULL;	/* 2026-01-02T00:00:00.009Z */
	ev.session_id = 0xa1ULL;
	ev.prof = 0;
	ev.mx_ip = 0x7f010005;
	ev.client_ip = 0x7f000a01;
	ev.sender_domain = "auth.example";
	ev.stage = SIM_STAGE_EOD;
	ev.rk = SIM_RK_DATA_OK;
	ev.code = 250;
	ev.enhanced = "2.0.0";
	ev.nrcpts = 3;
	sim_evlog_write(l, &ev);
	ev.sender_domain = NULL;
	ev.rcpt = "a\"b\\c\x01\xff@x";
	ev.stage = SIM_STAGE_RCPT;
	ev.rk = SIM_RK_USER_UNKNOWN;
	ev.code = 550;
	ev.enhanced = "";
	ev.nrcpts = 0;
	ev.session_id = UINT64_MAX;
	ev.prof = UINT32_MAX;
	sim_evlog_write(l, &ev);
	sim_evlog_local_free(l);
	CU_ASSERT_EQUAL(sim_evlog_close(log, &written, &dropped), 0);
	CU_ASSERT_EQUAL(written, 2);
	CU_ASSERT_EQUAL(dropped, 0);

	got = read_all(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(got,
	    "{\"wall\":\"2026-01-01T00:00:00.123Z\","
	    "\"sim\":\"2026-01-02T00:00:00.009Z\","
	    "\"wall_ms\":1767225600123,\"sim_ms\":1767312000009,"
	    "\"session\":\"00000000000000a1\",\"provider\":\"gmail\","
	    "\"mx\":\"127.1.0.5\",\"client\":\"127.0.10.1\","
	    "\"sender_domain\":\"auth.example\",\"rcpt\":null,"
	    "\"stage\":\"eod\",\"code\":250,\"enhanced\":\"2.0.0\","
	    "\"reason\":\"ok.message\",\"nrcpts\":3}\n"
	    "{\"wall\":\"2026-01-01T00:00:00.123Z\","
	    "\"sim\":\"2026-01-02T00:00:00.009Z\","
	    "\"wall_ms\":1767225600123,\"sim_ms\":1767312000009,"
	    "\"session\":\"ffffffffffffffff\",\"provider\":null,"
	    "\"mx\":\"127.1.0.5\",\"client\":\"127.0.10.1\","
	    "\"sender_domain\":null,"
	    "\"rcpt\":\"a\\\"b\\\\c\\u0001\\u00ff@x\","
	    "\"stage\":\"rcpt\",\"code\":550,\"enhanced\":null,"
	    "\"reason\":\"user.unknown\",\"nrcpts\":0}\n");
	free(got);
	unlink(path);
	prof_world_free(w);
}

int
test_sim_evlog_register(void)
{
	CU_pSuite s = CU_add_suite("sim_evlog", NULL, NULL);

	if (s == NULL || CU_add_test(s, "exact lines", test_lines) == NULL)
		return -1;
	return 0;
}
