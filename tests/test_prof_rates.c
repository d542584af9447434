/*
 * Tests of prof_rates: a limit per simulated window as a real-time rate
 * at a time scale, the flags (window under a real second, rate beyond
 * one MTA), and the table's rows and warnings for a hand-made profile and
 * the bundled gmail profile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "prof_rates.h"
#include "test_suites.h"

static char	*render(const struct prof_profile *, double, size_t *);

/* render - the table of one profile at @scale; *nflag: its return */
static char *
render(const struct prof_profile *p, double scale, size_t *nflag)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	if (fp == NULL)
		return NULL;
	*nflag = prof_rates_print(fp, &p, 1, scale);
	fclose(fp);
	return buf;
}

/* rates and flags of single limits */
static void
test_real(void)
{
	/* 100 a simulated minute at -t 60: 100 in one real second */
	CU_ASSERT_DOUBLE_EQUAL(prof_rates_real(100, SIM_WIN_MINUTE, 60), 100,
	    1e-9);
	CU_ASSERT_DOUBLE_EQUAL(prof_rates_real(100, SIM_WIN_MINUTE, 1),
	    100.0 / 60, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(prof_rates_real(20000, SIM_WIN_DAY, 1440),
	    20000.0 / 60, 1e-9);
	/* 1 s of real time is not "under a second" */
	CU_ASSERT_EQUAL(prof_rates_flags(30, SIM_WIN_MINUTE, 60), 0);
	CU_ASSERT_EQUAL(prof_rates_flags(20, SIM_WIN_MINUTE, 120),
	    PROF_RATES_SHORT);
	CU_ASSERT_EQUAL(prof_rates_flags(100, SIM_WIN_MINUTE, 60),
	    PROF_RATES_FAST);
	CU_ASSERT_EQUAL(prof_rates_flags(100, SIM_WIN_MINUTE, 120),
	    PROF_RATES_FAST | PROF_RATES_SHORT);
	/* exactly the MTA's rate is still in reach */
	CU_ASSERT_EQUAL(prof_rates_flags(50, SIM_WIN_SECOND, 1), 0);
	CU_ASSERT_EQUAL(prof_rates_flags(0, SIM_WIN_SECOND, 1e6), 0);
}

/* a hand-made profile: rows, cells, columns and warnings */
static void
test_table(void)
{
	struct prof_profile *p = prof_profile_new("gm");
	size_t n;
	char *t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p->limits.per_ip.messages.max[SIM_WIN_MINUTE] = 100;
	p->limits.per_ip.messages.max[SIM_WIN_DAY] = 20000;
	p->limits.conn_rate.max[SIM_WIN_MINUTE] = 30;

	t = render(p, 60, &n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT(test_has_line(t, "time scale 60 (real time of a simulated "
	    "second 16.7 ms, minute 1 s, hour 1 min, day 24 min)"));
	CU_ASSERT(test_has_line(t, "  provider   counter                    "
	    "minute           day"));
	CU_ASSERT(test_has_line(t, "  gm         connection_rate_per_ip     "
	    "30 = 30/s        -"));
	CU_ASSERT(test_has_line(t, "  gm         per_ip.messages            "
	    "100 = 100/s !    20000 = 13.9/s"));
	CU_ASSERT(strstr(t, "warning (!): 1 limit needs more than 50/s of "
	    "real time") != NULL);
	CU_ASSERT(strstr(t, "warning (<)") == NULL);
	free(t);

	/* -t 120: a minute lasts half a real second */
	t = render(p, 120, &n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT(test_has_line(t, "  gm         connection_rate_per_ip     "
	    "30 = 60/s ! <    -"));
	CU_ASSERT(test_has_line(t, "  gm         per_ip.messages            "
	    "100 = 200/s ! <  20000 = 27.8/s"));
	CU_ASSERT(strstr(t, "warning (<): 2 limits count over a window "
	    "shorter than a second of real time") != NULL);
	free(t);

	/* -t 1: rates under one a second take a longer unit */
	t = render(p, 1, &n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT(test_has_line(t, "  gm         per_ip.messages            "
	    "100 = 1.67/s     20000 = 13.9/min"));
	CU_ASSERT(strstr(t, "warning") == NULL);
	free(t);
	prof_profile_free(p);

	p = prof_profile_new("open");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	t = render(p, 1440, &n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT(test_has_line(t, "  no rate limits"));
	free(t);
	prof_profile_free(p);
}

/* the bundled gmail profile, its per-IP counter set to 100 a minute,
 * 3,000 an hour, 20,000 a day (the example; the file's own
 * numbers may be recalibrated): at -t 60 the minute limit is 100 real
 * messages a second, out of one MTA's reach; at -t 4 all are in reach */
static void
test_gmail(void)
{
	struct prof_profile *p = test_bundled_profile("gmail");
	struct prof_windows *ip;
	const char *row;
	size_t n;
	char *t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	ip = &p->limits.per_ip.messages;
	memset(ip, 0, sizeof(*ip));
	ip->max[SIM_WIN_MINUTE] = 100;
	ip->max[SIM_WIN_HOUR] = 3000;
	ip->max[SIM_WIN_DAY] = 20000;
	t = render(p, 60, &n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT(n > 0);
	row = strstr(t, "  gmail      per_ip.messages   ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(row);
	CU_ASSERT(strstr(row, " 100 = 100/s ! ") != NULL);
	CU_ASSERT(strstr(row, "3000 = 50/s ") != NULL);	/* not beyond */
	free(t);
	t = render(p, 4, &n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	row = strstr(t, "  gmail      per_ip.messages   ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(row);
	CU_ASSERT(strstr(row, " 100 = 6.67/s ") != NULL);
	CU_ASSERT(strstr(row, " 3000 = 3.33/s ") != NULL);
	CU_ASSERT(strstr(row, " 20000 = 55.6/min\n") != NULL);
	free(t);
	prof_profile_free(p);
}

int
test_prof_rates_register(void)
{
	CU_pSuite s = CU_add_suite("prof_rates", NULL, NULL);

	if (s == NULL ||
	    CU_add_test(s, "real rates and flags", test_real) == NULL ||
	    CU_add_test(s, "table of a profile", test_table) == NULL ||
	    CU_add_test(s, "gmail at -t 60 and -t 4", test_gmail) == NULL)
		return -1;
	return 0;
}
