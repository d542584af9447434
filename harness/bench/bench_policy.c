/*
 * DESCRIPTION
 *	Policy engine micro-benchmark: decisions per second on one core and
 *	bytes per tracked identity, with a million distinct sending IPs and
 *	100,000 sender domains against a bundled profile, on a manual
 *	simulated clock.  Then every idle entry is expired.  Prints one JSON
 *	object (and a human line on stderr).
 *
 *	usage: bench_policy [-p PROFILE.yaml] [-i IPS] [-d DOMAINS]
 *	           [-m MESSAGES] [-s SEED]
 *
 * DIAGNOSTICS
 *	Exit 1 when the profile does not load or memory runs out.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prof_load.h"
#include "sim_policy.h"
#include "sim_rng.h"

#ifndef MXSIM_PROFILES_DIR
#define MXSIM_PROFILES_DIR "profiles"
#endif

#define T0	(20000ULL * 86400000ULL)
#define NUSERS	10000	/* distinct recipients */

static double	now_s(void);
static long	rss_kib(void);

/* now_s - monotonic seconds */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* rss_kib - resident set size of this process */
static long
rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *fp;

	if ((fp = fopen("/proc/self/status", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(fp);
	return kib;
}

int
main(int argc, char **argv)
{
	const char *path = MXSIM_PROFILES_DIR "/gmail.yaml";
	unsigned long nips = 1000000, ndom = 100000, nmsg = 3000000;
	unsigned long long seed = 1;
	struct prof_error err;
	struct prof_profile *p;
	struct prof_world *w;
	struct sim_state *st;
	struct sim_facts f;
	struct sim_verdict v;
	struct sim_rng rng;
	char (*domains)[32], (*users)[32];
	const char *rcpts[1];
	const char *rcpt;
	char ebuf[1200];
	unsigned long i, decisions = 0, accepted = 0;
	uint64_t t;
	long rss0, rss1;
	double t0, el;
	size_t tracked, expired;
	int ch;

	while ((ch = getopt(argc, argv, "p:i:d:m:s:")) != -1) {
		switch (ch) {
		case 'p': path = optarg; break;
		case 'i': nips = strtoul(optarg, NULL, 10); break;
		case 'd': ndom = strtoul(optarg, NULL, 10); break;
		case 'm': nmsg = strtoul(optarg, NULL, 10); break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: bench_policy [-p PROFILE] [-i IPS] "
			    "[-d DOMAINS] [-m MESSAGES] [-s SEED]\n");
			return 2;
		}
	}
	if (nips == 0 || ndom == 0 || nmsg == 0)
		return 2;
	memset(&err, 0, sizeof(err));
	if ((p = prof_load_profile(path, &err)) == NULL) {
		fprintf(stderr, "%s\n", prof_error_str(&err, ebuf, sizeof(ebuf)));
		return 1;
	}
	w = prof_world_new();
	if (w == NULL || prof_world_add_profile(w, p) != 0)
		return 1;
	/* raise the limits: measure the whole engine, not refusals */
	memset(&p->limits.per_ip, 0, sizeof(p->limits.per_ip));
	memset(&p->limits.per_domain, 0, sizeof(p->limits.per_domain));
	memset(&p->limits.per_recipient, 0, sizeof(p->limits.per_recipient));
	if ((domains = calloc(ndom, sizeof(*domains))) == NULL)
		return 1;
	for (i = 0; i < ndom; i++)
		snprintf(domains[i], sizeof(domains[i]), "d%lu.example", i);
	if ((users = calloc(NUSERS, sizeof(*users))) == NULL)
		return 1;
	for (i = 0; i < NUSERS; i++)
		snprintf(users[i], sizeof(users[i]), "u%lu@gmail.com", i);
	rss0 = rss_kib();
	/* 50% headroom: stripes fill unevenly */
	st = sim_state_new((nips + ndom + NUSERS) * 3 / 2,
	    2ULL * 86400000ULL);
	if (st == NULL)
		return 1;
	sim_rng_seed(&rng, seed, 0);
	memset(&f, 0, sizeof(f));
	f.mx_ip = 0x7f010001;
	t = T0;
	t0 = now_s();
	for (i = 0; i < nmsg; i++) {
		/* every IP and domain is seen: walk them, then at random */
		f.client_ip = 0x0a000000u + (uint32_t)(i < nips ? i :
		    sim_rng_below(&rng, nips));
		f.sender_domain = domains[i < ndom ? i :
		    sim_rng_below(&rng, ndom)];
		rcpt = users[sim_rng_below(&rng, NUSERS)];
		t += 1;
		f.rcpt = NULL;
		f.rcpts = NULL;
		f.nrcpts = 0;
		f.size = 1024;
		sim_policy_decide(w, st, SIM_STAGE_MAIL, &f, t, &v);
		f.rcpt = rcpt;
		sim_policy_decide(w, st, SIM_STAGE_RCPT, &f, t, &v);
		rcpts[0] = rcpt;
		f.rcpt = NULL;
		f.rcpts = rcpts;
		f.nrcpts = 1;
		sim_policy_decide(w, st, SIM_STAGE_EOD, &f, t, &v);
		decisions += 3;
		accepted += v.rk == SIM_RK_ACCEPT;
	}
	el = now_s() - t0;
	rss1 = rss_kib();
	tracked = sim_state_count(st);
	expired = sim_state_expire(st, t + 3ULL * 86400000ULL);
	printf("{\"profile\":\"%s\",\"ips\":%lu,\"domains\":%lu,"
	    "\"messages\":%lu,\"decisions\":%lu,\"accepted\":%lu,"
	    "\"seconds\":%.3f,\"decisions_per_s\":%.0f,\"tracked\":%zu,"
	    "\"entry_bytes\":%zu,\"rss_kib_state\":%ld,"
	    "\"bytes_per_key\":%.1f,\"expired\":%zu,\"left\":%zu,"
	    "\"exhausted\":%llu}\n", p->name, nips, ndom, nmsg, decisions,
	    accepted, el, decisions / el, tracked, sim_state_entry_size(),
	    rss1 - rss0, (double)(rss1 - rss0) * 1024.0 / (double)tracked,
	    expired, sim_state_count(st),
	    (unsigned long long)sim_state_exhausted(st));
	fprintf(stderr, "bench_policy: %.2f M decisions/s on one core, %zu "
	    "identities tracked, %.0f bytes each, %zu expired after 3 idle "
	    "days\n", decisions / el / 1e6, tracked,
	    (double)(rss1 - rss0) * 1024.0 / (double)tracked, expired);
	sim_state_free(st);
	prof_world_free(w);
	free(domains);
	free(users);
	return 0;
}
