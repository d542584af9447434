/*
 * DESCRIPTION
 *	mxsim: load a scenario and its provider profiles, bind every MX
 *	address, serve SMTP until SIGINT/SIGTERM (or --duration), then print
 *	the per-provider table of replies.  --check validates files only.
 *	--control and --metrics start an HTTP daemon (one when both name the
 *	same address) for the control API and the Prometheus metrics; the
 *	control address is loopback only unless --control-token-file gives
 *	the bearer token every control request must then carry.
 *
 *	This file only starts things, in order: options (mx_opts.c), the
 *	world, the authentication set (smtp_authset.h: DNS records, DKIM
 *	keys, DNS server), clock, state, Postmaster view and event log, the
 *	network backend chosen by name in backend_kinds[] (nb_backend.h;
 *	the only place that knows which backends exist), the control API,
 *	then the monitor thread (signals, --duration, status lines, state
 *	expiry) and the exit summary (the table, and --summary-json from
 *	the same counters: mx_summary.h).  SIGHUP reopens the event log.
 *
 *	STARTTLS: the socket backend gets a TLS context (tls_srv.h) from
 *	--tls-cert/--tls-key or a certificate generated at start for this
 *	host's name; --no-tls (and the DPDK backend) offer none.
 *
 * DIAGNOSTICS
 *	Exit 0 on success, 1 on a bad scenario or a setup failure, 2 on a
 *	usage error.  Every message names its cause.
 */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "auth_zone.h"
#include "ctl_api.h"
#include "ctl_http.h"
#include "ctl_web.h"
#include "ctl_token.h"
#include "ev_server.h"
#include "mx_data.h"
#include "mx_opts.h"
#include "mx_summary.h"
#include "nb_backend.h"
#include "prof_load.h"
#include "prof_rates.h"
#include "sim_clock.h"
#include "sim_evlog.h"
#include "sim_pm.h"
#include "sim_acct.h"
#include "sim_state.h"
#include "sim_stats.h"
#include "smtp_authset.h"
#include "smtp_reply.h"
#include "tls_srv.h"

#ifndef MXSIM_VERSION
#define MXSIM_VERSION "dev"
#endif

/* A network backend mxsim can start (nb_backend.h). */
struct backend_kind {
	const char	*name;		/* --backend NAME */
	bool		 binds_ports;	/* kernel ports: as root below 1024,
					 * become nobody after binding */
	bool		 takes_args;	/* the arguments after "--" */
	struct nb_backend *(*start)(const struct nb_conf *,
			    const struct mx_opts *, char *, size_t);
};

/* Everything mxsim starts, in start-up order (stopped in reverse). */
struct mxsim {
	struct mx_opts	 o;
	struct prof_world *w;
	struct smtp_authset as;
	struct sim_clock clock;
	struct sim_state *state;
	struct sim_acct	*acct;		/* submission accounts */
	struct sim_pm	*pm;		/* Postmaster view */
	struct sim_evlog *evlog;	/* NULL: no event log */
	const struct backend_kind *kind;
	struct nb_backend *be;
	struct ctl_api	*api;
	struct ctl_web	*web;		/* the dashboard's files, then the API */
	struct ctl_http	*ctl_h, *met_h;
	char		 token[CTL_HTTP_TOKEN_MAX]; /* --control-token-file's;
					 * wiped once the daemon has it */
	char		 config[4096];	/* the default scenario's path */
	const char	*stopped_by;	/* set by the monitor: signal or
					 * "duration" */
	struct sim_stats *total;	/* exit counters (print_summary) */
	uint64_t	 sim_end_ms;	/* simulated time they were taken */
};

/* The thread that takes signals, stops at --duration, prints status
 * lines and expires idle identities. */
struct monitor {
	struct mxsim	*m;
	sigset_t	 sigs;
	volatile bool	 done;		/* set by main when the server ended */
};

static struct nb_backend *start_socket(const struct nb_conf *,
		    const struct mx_opts *, char *, size_t);

/* The DPDK backend, when built: its include, start-up and registration. */
#ifdef MXSIM_HAVE_DPDK
#include "dp_backend.h"

/* start_dpdk - EAL, port and lcores from the options after "--" */
static struct nb_backend *
start_dpdk(const struct nb_conf *nc, const struct mx_opts *o, char *err,
    size_t errlen)
{
	struct dp_backend_conf dc;

	memset(&dc, 0, sizeof(dc));
	dc.nb = *nc;
	dc.idle_sleep_us = (unsigned)o->idle_us;
	return dp_backend_new(&dc, o->rest_argc, o->rest_argv, err, errlen);
}
#define MX_DPDK_KIND	{ "dpdk", false, true, start_dpdk },
#else
#define MX_DPDK_KIND
#endif

static const struct backend_kind backend_kinds[] = {
	{ "socket", true, false, start_socket },
	MX_DPDK_KIND
};

/* pick_backend - the backend --backend names, if the arguments after the
 * options suit it; NULL (said) otherwise */
static const struct backend_kind *
pick_backend(const struct mx_opts *o)
{
	const struct backend_kind *k;
	const char *name = o->backend;
	size_t i;

	for (i = 0; i < sizeof(backend_kinds) / sizeof(backend_kinds[0]); i++) {
		k = &backend_kinds[i];
		if (strcmp(k->name, name) != 0)
			continue;
		if (!k->takes_args && o->rest_argc > 1) {
			fprintf(stderr, "mxsim: unexpected argument \"%s\"\n",
			    o->rest_argv[1]);
			return NULL;
		}
		return k;
	}
	if (strcmp(name, "dpdk") == 0)
		fprintf(stderr, "mxsim: --backend dpdk: this mxsim was built "
		    "without DPDK (install libdpdk-dev and rebuild)\n");
	else
		fprintf(stderr, "mxsim: --backend: expected socket or dpdk, "
		    "got \"%s\"\n", name);
	return NULL;
}

/* tls_setup - the STARTTLS context: from --tls-cert/--tls-key, or a
 * self-signed certificate for this host's name; NULL on failure (said) */
static struct tls_srv *
tls_setup(const struct mx_opts *o, char *err, size_t errlen)
{
	struct tls_srv *t;
	char host[256], why[1200];

	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	if ((t = tls_srv_new(o->tls_cert, o->tls_key, host, why,
	    sizeof(why))) == NULL)
		snprintf(err, errlen, "STARTTLS: %s", why);
	return t;
}

/* start_socket - STARTTLS context, then every listener */
static struct nb_backend *
start_socket(const struct nb_conf *nc, const struct mx_opts *o, char *err,
    size_t errlen)
{
	struct ev_server_conf sc;

	memset(&sc, 0, sizeof(sc));
	sc.nb = *nc;
	sc.workers = nc->world->workers;
	if (!o->no_tls && (sc.tls = tls_setup(o, err, errlen)) == NULL)
		return NULL;
	return ev_server_new(&sc, err, errlen);
}

/* drop_privileges - as root, become --user (or nobody when a port below
 * 1024 is bound by the kernel); 0, or -1 with a message */
static int
drop_privileges(const struct mxsim *m)
{
	const char *name = m->o.user;
	struct passwd *pw;

	if (geteuid() != 0) {
		if (name != NULL) {
			fprintf(stderr, "mxsim: --user %s: only root can "
			    "change user\n", name);
			return -1;
		}
		return 0;
	}
	if (name == NULL && m->w->port < 1024 && m->kind->binds_ports)
		name = "nobody";
	if (name == NULL || strcmp(name, "root") == 0)
		return 0;
	if ((pw = getpwnam(name)) == NULL) {
		fprintf(stderr, "mxsim: --user %s: no such user\n", name);
		return -1;
	}
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		fprintf(stderr, "mxsim: cannot become %s: %s\n", name,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		fprintf(stderr, "mxsim: still root after becoming %s\n",
		    name);
		return -1;
	}
	if (!m->o.quiet)
		fprintf(stderr, "mxsim: running as %s (uid %u)\n", name,
		    (unsigned)pw->pw_uid);
	return 0;
}

/* do_check - validate a scenario or profile and show its limits as
 * real-time rates at the time scale (-t, else the scenario's, else 1);
 * exit status */
static int
do_check(const struct mx_opts *o)
{
	const struct prof_profile *one;
	struct prof_error err;
	struct prof_profile *p;
	struct prof_world *w;
	const char *path = o->check;
	char buf[1200];

	memset(&err, 0, sizeof(err));
	if (prof_file_is_profile(path)) {
		if ((p = prof_load_profile(path, &err)) == NULL) {
			fprintf(stderr, "%s\n",
			    prof_error_str(&err, buf, sizeof(buf)));
			return 1;
		}
		printf("%s: OK (profile %s)\n", path, p->name);
		one = p;
		prof_rates_print(stdout, &one, 1,
		    o->time_scale > 0 ? o->time_scale : 1.0);
		prof_profile_free(p);
		return 0;
	}
	if ((w = prof_load_scenario(path, mx_data_profiles(), &err)) == NULL) {
		fprintf(stderr, "%s\n", prof_error_str(&err, buf, sizeof(buf)));
		return 1;
	}
	printf("%s: OK (%zu profiles, %llu MX addresses, port %u", path,
	    w->nprofiles, (unsigned long long)prof_world_naddrs(w), w->port);
	if (prof_world_has_submission(w))
		printf(", submission port %u", w->submission_port);
	printf(")\n");
	prof_rates_print(stdout, (const struct prof_profile *const *)
	    w->profiles, w->nprofiles, o->time_scale > 0 ? o->time_scale :
	    w->time_scale);
	prof_world_free(w);
	return 0;
}

/* raise_nofile - soft RLIMIT_NOFILE up to the hard limit */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* status_line - one line of live figures */
static void
status_line(const struct mxsim *m, struct sim_stats *st)
{
	char iso[32];

	sim_stats_reset(st);
	nb_stats(m->be, st);
	fprintf(stderr, "mxsim: [sim %s] open %llu, connections %llu, "
	    "accepted %llu, deferred %llu, refused %llu (replies 4xx %llu, "
	    "5xx %llu), tracked %zu\n",
	    sim_clock_iso(sim_clock_now(&m->clock), iso, sizeof(iso)),
	    (unsigned long long)nb_open_conns(m->be),
	    (unsigned long long)st->connections,
	    (unsigned long long)st->messages,
	    (unsigned long long)st->txn[SIM_TXN_DEFERRED],
	    (unsigned long long)st->txn[SIM_TXN_REFUSED],
	    (unsigned long long)st->deferred,
	    (unsigned long long)st->rejected, sim_state_count(m->state));
}

/* reopen_log - SIGHUP: open the event log's path anew (logrotate) */
static void
reopen_log(const struct mxsim *m)
{
	int rc;

	if (m->evlog == NULL)
		return;
	if ((rc = sim_evlog_reopen(m->evlog)) != 0)
		fprintf(stderr, "mxsim: SIGHUP: event log %s: %s (still "
		    "writing the old file)\n", m->w->event_log, strerror(-rc));
	else if (!m->o.quiet)
		fprintf(stderr, "mxsim: SIGHUP: event log %s reopened\n",
		    m->w->event_log);
}

/* monitor_main - signals, duration, status lines, state expiry */
static void *
monitor_main(void *arg)
{
	struct monitor *mon = arg;
	struct mxsim *m = mon->m;
	struct timespec tick = { 0, 100000000 };
	struct sim_stats *st;
	uint64_t start = sim_clock_mono_ms(), now, last_status, last_expire;
	bool stopping = false;
	int sig;

	last_status = last_expire = start;
	st = sim_stats_new(m->w->nprofiles);
	while (!mon->done) {
		sig = sigtimedwait(&mon->sigs, NULL, &tick);
		if (sig == SIGHUP) {
			reopen_log(m);
			sig = 0;
		}
		now = sim_clock_mono_ms();
		if (!stopping && (sig > 0 || (m->o.duration > 0 &&
		    now - start >= (uint64_t)(m->o.duration * 1000)))) {
			if (sig > 0 && !m->o.quiet)
				fprintf(stderr, "mxsim: %s, stopping\n",
				    strsignal(sig));
			m->stopped_by = sig == SIGINT ? "SIGINT" :
			    sig == SIGTERM ? "SIGTERM" : "duration";
			nb_stop(m->be);
			stopping = true;
		}
		if (m->o.status > 0 && st != NULL &&
		    now - last_status >= (uint64_t)(m->o.status * 1000)) {
			status_line(m, st);
			last_status = now;
		}
		if (now - last_expire >= SIM_STATE_EXPIRE_EVERY_MS) {
			sim_state_expire(m->state, sim_clock_now(&m->clock));
			last_expire = now;
		}
	}
	sim_stats_free(st);
	return NULL;
}

/* check_http_addrs - --control loopback unless a token is given (read
 * here), --metrics any address; 0 or -1 */
static int
check_http_addrs(struct mxsim *m)
{
	const struct mx_opts *o = &m->o;
	struct sockaddr_storage ss;
	socklen_t len;
	char err[512];

	if (o->control_token_file != NULL && o->control == NULL) {
		fprintf(stderr, "mxsim: --control-token-file needs --control\n");
		return -1;
	}
	if (o->control_token_file != NULL &&
	    ctl_token_read(o->control_token_file, m->token, sizeof(m->token),
	    err, sizeof(err)) != 0) {
		fprintf(stderr, "mxsim: --control-token-file %s\n", err);
		return -1;
	}
	if (o->control != NULL && ctl_http_parse_addr(o->control,
	    o->control_token_file != NULL, &ss, &len, err, sizeof(err)) != 0) {
		fprintf(stderr, "mxsim: --control %s\n", err);
		return -1;
	}
	if (o->metrics != NULL && ctl_http_parse_addr(o->metrics, true, &ss,
	    &len, err, sizeof(err)) != 0) {
		fprintf(stderr, "mxsim: --metrics %s\n", err);
		return -1;
	}
	return 0;
}

/* start_http - one daemon, or two when the addresses differ; 0 or -1 */
static int
start_http(struct mxsim *m)
{
	const struct mx_opts *o = &m->o;
	struct sockaddr_storage a, b;
	struct ctl_http_conf hc;
	socklen_t len;
	char err[512];
	bool same;

	same = o->control != NULL && o->metrics != NULL &&
	    ctl_http_parse_addr(o->control, true, &a, &len, err,
	    sizeof(err)) == 0 &&
	    ctl_http_parse_addr(o->metrics, true, &b, &len, err,
	    sizeof(err)) == 0 &&
	    ctl_http_same_addr(&a, &b);
	memset(&hc, 0, sizeof(hc));
	if (o->control != NULL) {
		hc.addr = o->control;
		hc.any_peer = o->control_token_file != NULL;
		hc.token = hc.any_peer ? m->token : NULL;
		hc.api = ctl_api_handle;
		hc.api_ctx = m->api;
		if (ctl_web_dir(m->web) != NULL) {
			hc.web = ctl_web_handle;
			hc.web_ctx = m->web;
		}
		if (same) {
			hc.metrics = ctl_api_metrics;
			hc.metrics_ctx = m->api;
		}
		m->ctl_h = ctl_http_start(&hc, err, sizeof(err));
		explicit_bzero(m->token, sizeof(m->token));
		if (m->ctl_h == NULL) {
			fprintf(stderr, "mxsim: --control %s\n", err);
			return -1;
		}
	}
	if (o->metrics != NULL && !same) {
		memset(&hc, 0, sizeof(hc));
		hc.addr = o->metrics;
		hc.any_peer = true;	/* read-only data */
		hc.metrics = ctl_api_metrics;
		hc.metrics_ctx = m->api;
		if ((m->met_h = ctl_http_start(&hc, err, sizeof(err))) == NULL) {
			fprintf(stderr, "mxsim: --metrics %s\n", err);
			return -1;
		}
	}
	if (!o->quiet && m->ctl_h != NULL)
		fprintf(stderr, "  control API: http://%s/%s%s\n", o->control,
		    same ? " (and /metrics)" : "",
		    o->control_token_file != NULL ? " (bearer token)" : "");
	if (!o->quiet && m->ctl_h != NULL && ctl_web_dir(m->web) != NULL)
		fprintf(stderr, "  dashboard: http://%s/ (%s)\n", o->control,
		    ctl_web_dir(m->web));
	if (!o->quiet && m->met_h != NULL)
		fprintf(stderr, "  metrics: http://%s/metrics\n", o->metrics);
	return 0;
}

/* print_banner - what is served where */
static void
print_banner(const struct mxsim *m)
{
	const struct prof_world *w = m->w;
	const struct prof_block *b;
	const struct prof_profile *p;
	char how[400], a6[SIM_ADDR_TEXT_MAX];
	unsigned prefix;
	size_t i;

	nb_describe(m->be, how, sizeof(how));
	fprintf(stderr, "mxsim %s: %s, %llu MX addresses %s, time scale %g, "
	    "seed %llu\n", MXSIM_VERSION, w->file,
	    (unsigned long long)prof_world_naddrs(w), how, w->time_scale,
	    (unsigned long long)w->seed);
	for (i = 0; i < w->nblocks; i++) {
		b = &w->blocks[i];
		p = w->profiles[b->profile];
		prefix = (unsigned)__builtin_popcount(b->mask);
		fprintf(stderr, "  %-10s %u.%u.%u.%u/%u%s%s\n", p->name,
		    b->addr >> 24, (b->addr >> 16) & 255, (b->addr >> 8) & 255,
		    b->addr & 255, prefix, p->ndomains > 0 ? "  serving " : "",
		    p->ndomains > 0 ? p->domains[0] : "");
	}
	for (i = 0; i < w->nblocks6; i++) {
		p = w->profiles[w->blocks6[i].profile];
		fprintf(stderr, "  %-10s %s/%u%s%s\n", p->name,
		    sim_addr6_fmt(&w->blocks6[i].addr, a6, sizeof(a6)),
		    w->blocks6[i].prefix, p->ndomains > 0 ? "  serving " : "",
		    p->ndomains > 0 ? p->domains[0] : "");
	}
	if (w->event_log != NULL)
		fprintf(stderr, "  event log: %s\n", w->event_log);
	nb_banner(m->be, stderr);
	prof_rates_print(stderr, (const struct prof_profile *const *)
	    w->profiles, w->nprofiles, w->time_scale);
}

/* load_world - the scenario, with the command line's overrides; 0 or -1 */
static int
load_world(struct mxsim *m)
{
	const struct mx_opts *o = &m->o;
	struct prof_error perr;
	const char *path = o->config;
	char err[1200];
	long ncpu;

	if (path == NULL) {
		snprintf(m->config, sizeof(m->config), "%s/default.yaml",
		    mx_data_profiles());
		path = m->config;
	}
	memset(&perr, 0, sizeof(perr));
	if ((m->w = prof_load_scenario(path, mx_data_profiles(), &perr)) == NULL) {
		fprintf(stderr, "mxsim: %s\n", prof_error_str(&perr, err,
		    sizeof(err)));
		return -1;
	}
	if (smtp_reply_fix(m->w) != 0) {
		fprintf(stderr, "mxsim: out of memory\n");
		return -1;
	}
	if (o->port > 0)
		m->w->port = (uint16_t)o->port;
	if (o->submission_port > 0)
		m->w->submission_port = (uint16_t)o->submission_port;
	if (o->time_scale > 0)
		m->w->time_scale = o->time_scale;
	if (o->seed_set)
		m->w->seed = (uint64_t)o->seed;
	if (o->workers > 0)
		m->w->workers = (uint32_t)o->workers;
	if (m->w->workers == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		m->w->workers = ncpu > 0 ? (uint32_t)ncpu : 1;
	}
	if (o->event_log != NULL) {
		free(m->w->event_log);
		m->w->event_log = strdup(o->event_log);
	}
	return 0;
}

/* check_submission - submission profiles need STARTTLS (SMTP AUTH is
 * offered only under TLS): the socket backend without --no-tls; 0 or -1
 * (said) */
static int
check_submission(const struct mxsim *m)
{
	if (!prof_world_has_submission(m->w))
		return 0;
	if (strcmp(m->kind->name, "socket") != 0) {
		fprintf(stderr, "mxsim: --backend %s: the scenario has "
		    "submission profiles, which need STARTTLS; only the "
		    "socket backend runs TLS\n", m->kind->name);
		return -1;
	}
	if (m->o.no_tls) {
		fprintf(stderr, "mxsim: --no-tls: the scenario has submission "
		    "profiles, which offer AUTH only after STARTTLS\n");
		return -1;
	}
	return 0;
}

/* start_engine - authentication, clock, state, Postmaster view, event
 * log; 0 or -1 (said) */
static int
start_engine(struct mxsim *m)
{
	struct prof_world *w = m->w;
	char err[1200];
	int rc;

	if (smtp_authset_open(&m->as, w, m->o.dkim_keys_dir, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "mxsim: %s\n", err);
		return -1;
	}
	if (m->o.dkim_keys_dir != NULL && m->as.zone == NULL)
		fprintf(stderr, "mxsim: --dkim-keys-dir: the scenario declares "
		    "no DKIM keys\n");
	if (m->as.zone != NULL && !m->o.quiet)
		fprintf(stderr, "mxsim: %zu DNS records; SPF, DKIM and DMARC "
		    "computed%s%s%s\n", auth_zone_count(m->as.zone),
		    w->dns_listen != NULL ? "; DNS server on " : "",
		    w->dns_listen != NULL ? w->dns_listen : "",
		    m->as.psl ? "" : " (no Public Suffix List)");
	sim_clock_init(&m->clock, w->start_ms, w->time_scale);
	if ((m->state = sim_state_new((size_t)m->o.state_entries,
	    SIM_STATE_IDLE_MS)) == NULL) {
		fprintf(stderr, "mxsim: cannot allocate the state table\n");
		return -1;
	}
	if ((m->acct = sim_acct_new(w->naccounts)) == NULL) {
		fprintf(stderr, "mxsim: cannot allocate the account table\n");
		return -1;
	}
	if ((m->pm = sim_pm_new(0)) == NULL) {
		fprintf(stderr, "mxsim: cannot allocate the Postmaster view\n");
		return -1;
	}
	if (w->event_log != NULL &&
	    (m->evlog = sim_evlog_open(w->event_log, &rc)) == NULL) {
		fprintf(stderr, "mxsim: event log %s: %s\n", w->event_log,
		    strerror(-rc));
		return -1;
	}
	return 0;
}

/* start_network - the backend, the control API and the HTTP daemons;
 * 0 or -1 (said) */
static int
start_network(struct mxsim *m)
{
	struct ctl_api_conf acf;
	char webdir[PATH_MAX];
	struct nb_conf nc;
	char err[1200];

	memset(&nc, 0, sizeof(nc));
	nc.world = m->w;
	nc.state = m->state;
	nc.acct = m->acct;
	nc.clock = &m->clock;
	nc.evlog = m->evlog;
	nc.pm = m->pm;
	nc.max_conns = (unsigned)m->o.max_conns;
	nc.grace_s = 10;
	nc.notices = !m->o.quiet;
	nc.notice_fp = stderr;
	nc.scan = true;		/* as far as each profile reads (prof_scan.h) */
	nc.words = m->as.words;
	nc.auth_world = m->as.aw;
	if ((m->be = m->kind->start(&nc, &m->o, err, sizeof(err))) == NULL) {
		fprintf(stderr, "mxsim: %s\n", err);
		return -1;
	}
	if (!m->o.quiet)
		print_banner(m);
	if (m->o.control == NULL && m->o.metrics == NULL)
		return 0;
	memset(&acf, 0, sizeof(acf));
	acf.be = m->be;
	acf.state = m->state;
	acf.clock = &m->clock;
	acf.evlog = m->evlog;
	acf.pm = m->pm;
	if (mx_data_path("web", webdir, sizeof(webdir)) != 0)
		webdir[0] = '\0';
	if ((m->api = ctl_api_new(&acf)) == NULL ||
	    (m->web = ctl_web_new(&(struct ctl_web_conf){ .dir = webdir,
	    .next = ctl_api_handle, .next_ctx = m->api })) == NULL) {
		fprintf(stderr, "mxsim: out of memory\n");
		return -1;
	}
	return start_http(m);
}

/* write_ready - tell whoever waits that every address listens */
static void
write_ready(const char *path)
{
	FILE *fp;

	if ((fp = fopen(path, "w")) != NULL) {
		fprintf(fp, "ready\n");
		fclose(fp);
	} else
		fprintf(stderr, "mxsim: %s: %s\n", path, strerror(errno));
}

/* serve - the monitor thread, then the backend until it stops; 0 or -1 */
static int
serve(struct mxsim *m, struct monitor *mon)
{
	pthread_t thread;
	int rc;

	mon->m = m;
	if (pthread_create(&thread, NULL, monitor_main, mon) != 0) {
		fprintf(stderr, "mxsim: cannot start the monitor thread\n");
		return -1;
	}
	rc = nb_run(m->be);
	mon->done = true;
	pthread_join(thread, NULL);
	ctl_http_stop(m->ctl_h);
	ctl_http_stop(m->met_h);
	m->ctl_h = m->met_h = NULL;
	if (rc != 0) {
		fprintf(stderr, "mxsim: workers: %s\n", strerror(-rc));
		return -1;
	}
	return 0;
}

/* print_summary - the per-provider table, seed placement, the backend's;
 * the counters stay in m->total for --summary-json */
static void
print_summary(struct mxsim *m)
{
	struct sim_stats *total;

	m->sim_end_ms = sim_clock_now(&m->clock);
	if ((total = sim_stats_new(m->w->nprofiles)) != NULL) {
		nb_stats(m->be, total);
		printf("mxsim summary (%s):\n", m->w->file);
		sim_stats_print(total, m->w, stdout);
		m->total = total;
	}
	if (m->w->nseeds > 0)
		sim_pm_print_seeds(m->pm, m->w, stdout);
	nb_summary(m->be, stdout, stderr);
}

/* write_summary_json - --summary-json from the exit counters and the
 * event log's figures; 0 or -1 (said) */
static int
write_summary_json(const struct mxsim *m, uint64_t written,
    uint64_t dropped)
{
	struct mx_summary s;
	char err[1200];

	memset(&s, 0, sizeof(s));
	s.version = MXSIM_VERSION;
	s.world = m->w;
	s.stats = m->total;
	s.stopped_by = m->stopped_by != NULL ? m->stopped_by : "end";
	s.time_scale = m->clock.scale;
	s.sim_start_ms = m->clock.sim_start_ms;
	s.sim_end_ms = m->sim_end_ms;
	s.evlog = m->evlog != NULL;
	s.ev_written = written;
	s.ev_dropped = dropped;
	if (mx_summary_write(m->o.summary_json, &s, err, sizeof(err)) != 0) {
		fprintf(stderr, "mxsim: --summary-json %s\n", err);
		return -1;
	}
	return 0;
}

/* stop_all - everything started, in reverse; @return @p status, or 1
 * when the event log or --summary-json could not be completed */
static int
stop_all(struct mxsim *m, int status)
{
	uint64_t written = 0, dropped = 0;
	int rc;

	ctl_http_stop(m->ctl_h);
	ctl_http_stop(m->met_h);
	nb_free(m->be);
	smtp_authset_close(&m->as);
	if (m->evlog != NULL) {
		rc = sim_evlog_close(m->evlog, &written, &dropped);
		if (rc != 0) {
			fprintf(stderr, "mxsim: event log %s: %s\n",
			    m->w->event_log, strerror(-rc));
			status = 1;
		} else if (!m->o.quiet || dropped != 0)
			fprintf(stderr, "mxsim: event log %s: %llu events "
			    "written, %llu dropped\n", m->w->event_log,
			    (unsigned long long)written,
			    (unsigned long long)dropped);
	}
	if (m->o.summary_json != NULL && m->total != NULL &&
	    write_summary_json(m, written, dropped) != 0)
		status = 1;
	sim_stats_free(m->total);
	ctl_web_free(m->web);
	ctl_api_free(m->api);
	sim_pm_free(m->pm);
	sim_state_free(m->state);
	sim_acct_free(m->acct);
	world_drop(m->w);	/* the last reference: backend and API are gone */
	return status;
}

int
main(int argc, char **argv)
{
	struct mxsim m;
	struct monitor mon;
	int rc;

	memset(&m, 0, sizeof(m));
	/* signals go to the monitor thread only: block them before any
	 * thread (event-log writer, workers) starts */
	memset(&mon, 0, sizeof(mon));
	sigemptyset(&mon.sigs);
	sigaddset(&mon.sigs, SIGINT);
	sigaddset(&mon.sigs, SIGTERM);
	sigaddset(&mon.sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mon.sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((rc = mx_opts_parse(argc, argv, &m.o)) != 0)
		return rc > 0 ? 0 : 2;
	if ((m.kind = pick_backend(&m.o)) == NULL)
		return 2;
	if (m.o.check != NULL)
		return do_check(&m.o);
	if (check_http_addrs(&m) != 0)
		return 2;
	if (load_world(&m) != 0)
		return 1;
	if (check_submission(&m) != 0) {
		world_drop(m.w);
		return 2;
	}
	raise_nofile();
	if (start_engine(&m) != 0 || start_network(&m) != 0)
		return stop_all(&m, 1);
	/* everything is bound and open: tell whoever waits, then give up
	 * root if asked (or if a privileged port was bound) */
	if (m.o.ready_file != NULL)
		write_ready(m.o.ready_file);
	if (drop_privileges(&m) != 0 || serve(&m, &mon) != 0)
		return stop_all(&m, 1);
	print_summary(&m);
	return stop_all(&m, 0);
}
