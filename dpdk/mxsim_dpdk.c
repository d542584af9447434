/*
 * DESCRIPTION
 *	mxsim-dpdk: mxsim over the DPDK backend, until mxsim's own
 *	--backend dpdk is wired.  mxsim-dpdk [options] -- EAL arguments.
 *	Loads the scenario, starts EAL and the port, serves until SIGINT or
 *	SIGTERM (or --duration), then prints the same per-provider summary
 *	as mxsim, and the pipeline counters on stderr.
 *
 * DIAGNOSTICS
 *	Exit 0 on success, 1 on a bad scenario or a setup failure, 2 on a
 *	usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dp_backend.h"
#include "prof_load.h"
#include "sim_clock.h"
#include "sim_evlog.h"
#include "sim_state.h"
#include "sim_stats.h"

#ifndef MXSIM_PROFILES_DIR
#define MXSIM_PROFILES_DIR "profiles"
#endif

#define STATE_IDLE_MS	(2ULL * 86400000ULL)

struct dopts {
	const char	*config;
	const char	*event_log;
	const char	*ready_file;
	double		 duration;
	long		 max_conns;
	long		 idle_us;
	long		 grace_s;
	long		 port;		/* TCP port; -1 = scenario's */
	bool		 quiet;
};

struct dmon {
	struct dp_backend *be;
	struct sim_state *state;
	const struct sim_clock *clock;
	const struct dopts *o;
	sigset_t	 sigs;
	volatile bool	 done;
};

static void	*mon_main(void *);
static int	parse(int, char **, struct dopts *);

/* mon_main - signals, duration, state expiry */
static void *
mon_main(void *arg)
{
	struct dmon *m = arg;
	struct timespec tick = { 0, 100000000 };
	uint64_t start = sim_clock_mono_ms(), now, last_expire = start;
	bool stopping = false;
	int sig;

	while (!m->done) {
		sig = sigtimedwait(&m->sigs, NULL, &tick);
		now = sim_clock_mono_ms();
		if (!stopping && (sig > 0 || (m->o->duration > 0 &&
		    now - start >= (uint64_t)(m->o->duration * 1000)))) {
			dp_backend_stop(m->be);
			stopping = true;
		}
		if (now - last_expire >= 10000) {
			sim_state_expire(m->state, sim_clock_now(m->clock));
			last_expire = now;
		}
	}
	return NULL;
}

/* parse - options before "--"; @return index of the EAL args, or -1 */
static int
parse(int argc, char **argv, struct dopts *o)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "event-log", required_argument, NULL, 'e' },
		{ "duration", required_argument, NULL, 'd' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ "max-conns", required_argument, NULL, 'M' },
		{ "idle-us", required_argument, NULL, 'I' },
		{ "grace", required_argument, NULL, 'g' },
		{ "port", required_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->max_conns = 16384;
	o->idle_us = 0;
	o->grace_s = 10;
	o->port = -1;
	while ((ch = getopt_long(argc, argv, "c:e:d:p:q", lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'e':
			o->event_log = optarg;
			break;
		case 'd':
			o->duration = strtod(optarg, NULL);
			break;
		case 'r':
			o->ready_file = optarg;
			break;
		case 'M':
			o->max_conns = strtol(optarg, NULL, 10);
			break;
		case 'I':
			o->idle_us = strtol(optarg, NULL, 10);
			break;
		case 'g':
			o->grace_s = strtol(optarg, NULL, 10);
			break;
		case 'p':
			o->port = strtol(optarg, NULL, 10);
			break;
		case 'q':
			o->quiet = true;
			break;
		default:
			return -1;
		}
	}
	if (o->config == NULL || o->max_conns < 1 || o->idle_us < 0 ||
	    o->grace_s < 0 || o->port == 0 || o->port > 65535 ||
	    optind < 1 || strcmp(argv[optind - 1], "--") != 0)
		return -1;
	return optind;
}

int
main(int argc, char **argv)
{
	struct dopts o;
	struct dmon mon;
	struct prof_error perr;
	struct prof_world *w;
	struct sim_state *state = NULL;
	struct sim_evlog *evlog = NULL;
	struct dp_backend *be = NULL;
	struct dp_backend_conf conf;
	struct sim_stats *total = NULL;
	struct sim_clock clock;
	pthread_t th;
	uint64_t written = 0, dropped = 0;
	char err[1200], **eargv;
	const char *dd;
	int ei, rc, status = 1, i;
	FILE *fp;

	memset(&mon, 0, sizeof(mon));
	sigemptyset(&mon.sigs);
	sigaddset(&mon.sigs, SIGINT);
	sigaddset(&mon.sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &mon.sigs, NULL);
	if ((ei = parse(argc, argv, &o)) < 0) {
		fprintf(stderr, "usage: %s -c SCENARIO [-e EVENTS] [-d SECONDS] "
		    "[-p PORT] [--ready-file F] [--max-conns N] [--idle-us US] "
		    "[--grace S] [-q] -- EAL-ARGS\n", argv[0]);
		return 2;
	}
	dd = getenv("MXSIM_DATADIR");
	memset(&perr, 0, sizeof(perr));
	if ((w = prof_load_scenario(o.config, dd != NULL && dd[0] != '\0' ?
	    dd : MXSIM_PROFILES_DIR, &perr)) == NULL) {
		fprintf(stderr, "mxsim-dpdk: %s\n", prof_error_str(&perr, err,
		    sizeof(err)));
		return 1;
	}
	if (o.port > 0)
		w->port = (uint16_t)o.port;
	if (o.event_log != NULL) {
		free(w->event_log);
		w->event_log = strdup(o.event_log);
	}
	sim_clock_init(&clock, w->start_ms, w->time_scale);
	if ((state = sim_state_new(262144, STATE_IDLE_MS)) == NULL)
		goto out;
	if (w->event_log != NULL &&
	    (evlog = sim_evlog_open(w->event_log, &rc)) == NULL) {
		fprintf(stderr, "mxsim-dpdk: event log %s: %s\n", w->event_log,
		    strerror(-rc));
		goto out;
	}
	memset(&conf, 0, sizeof(conf));
	conf.world = w;
	conf.state = state;
	conf.clock = &clock;
	conf.evlog = evlog;
	conf.max_conns = (unsigned)o.max_conns;
	conf.grace_s = (unsigned)o.grace_s;
	conf.idle_sleep_us = (unsigned)o.idle_us;
	conf.notices = !o.quiet;
	conf.notice_fp = stderr;
	/* EAL wants argv[0] first: reuse ours in front of the EAL args */
	if ((eargv = calloc((size_t)(argc - ei + 2), sizeof(*eargv))) == NULL)
		goto out;
	eargv[0] = argv[0];
	for (i = ei; i < argc; i++)
		eargv[i - ei + 1] = argv[i];
	be = dp_backend_new(&conf, argc - ei + 1, eargv, err, sizeof(err));
	if (be == NULL) {
		fprintf(stderr, "mxsim-dpdk: %s\n", err);
		free(eargv);
		goto out;
	}
	if (!o.quiet)
		fprintf(stderr, "mxsim-dpdk: %s: %llu MX addresses on TCP port "
		    "%u, seed %llu; %s\n", w->file,
		    (unsigned long long)prof_world_naddrs(w), w->port,
		    (unsigned long long)w->seed, dp_backend_describe(be));
	mon.be = be;
	mon.state = state;
	mon.clock = &clock;
	mon.o = &o;
	if (pthread_create(&th, NULL, mon_main, &mon) != 0) {
		free(eargv);
		goto out;
	}
	if (o.ready_file != NULL && (fp = fopen(o.ready_file, "w")) != NULL) {
		fprintf(fp, "ready\n");
		fclose(fp);
	}
	rc = dp_backend_run(be);
	mon.done = true;
	pthread_join(th, NULL);
	free(eargv);
	if (rc != 0) {
		fprintf(stderr, "mxsim-dpdk: lcores: %s\n", strerror(-rc));
		goto out;
	}
	if ((total = sim_stats_new(w->nprofiles)) != NULL) {
		dp_backend_stats(be, total);
		printf("mxsim summary (%s):\n", w->file);
		sim_stats_print(total, w, stdout);
	}
	dp_backend_print(be, stderr);
	status = 0;
out:
	dp_backend_free(be);
	if (evlog != NULL) {
		if (sim_evlog_close(evlog, &written, &dropped) != 0)
			status = 1;
		else if (!o.quiet || dropped != 0)
			fprintf(stderr, "mxsim-dpdk: event log %s: %llu events "
			    "written, %llu dropped\n", w->event_log,
			    (unsigned long long)written,
			    (unsigned long long)dropped);
	}
	sim_stats_free(total);
	sim_state_free(state);
	prof_world_free(w);
	return status;
}
