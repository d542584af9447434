/*
 * DESCRIPTION
 *	mxsim: load a scenario and its provider profiles, bind every MX
 *	address, serve SMTP until SIGINT/SIGTERM (or --duration), then print
 *	the per-provider table of replies.  --check validates files only.
 *	--control and --metrics start an HTTP daemon (one when both name the
 *	same address) for the control API and the Prometheus metrics.
 *
 *	Authentication and content (issue 5): every message is scanned
 *	(msg_scan) for the policy's header and content rules.  When the
 *	scenario declares DNS records (a sender's dns.spf, dns.dmarc,
 *	dns.dkim, dns.records, or dns.listen), one auth_zone is built from
 *	them at start (DKIM keys generated or read), every worker gets its
 *	own SPF/DKIM/DMARC context, and --dkim-keys-dir receives the private
 *	keys as DOMAIN.SELECTOR.pem; dns.listen starts the authoritative DNS
 *	server over the same zone.  Without records the policy keeps using
 *	the scenario's declared facts.
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
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <fcntl.h>

#include "auth_zone.h"
#include "ctl_api.h"
#include "ctl_http.h"
#include "ev_server.h"
#include "msg_scan.h"
#include "prof_load.h"
#include "sim_clock.h"
#include "sim_evlog.h"
#include "sim_pm.h"
#include "sim_state.h"
#include "sim_stats.h"
#include "smtp_auth.h"
#include "tls_srv.h"
#ifdef MXSIM_HAVE_AUTH
#include "auth_dkim.h"
#include "auth_dmarc.h"
#include "dns_server.h"
#endif
#ifdef MXSIM_HAVE_DPDK
#include "dp_backend.h"
#endif

#ifndef MXSIM_PROFILES_DIR
#define MXSIM_PROFILES_DIR "profiles"
#endif
#ifndef MXSIM_VERSION
#define MXSIM_VERSION "dev"
#endif

#define STATE_IDLE_MS	(30ULL * 86400000ULL)	/* 30 simulated days: bulk status
						 * and week-long holds outlive
						 * quiet spells */

struct opts {
	const char	*config;
	const char	*check;
	const char	*event_log;
	const char	*ready_file;
	const char	*control;	/* control API address, NULL = none */
	const char	*metrics;	/* /metrics address, NULL = none */
	long		 workers;	/* -1 = scenario's */
	long		 port;		/* -1 = scenario's */
	double		 time_scale;	/* 0 = scenario's */
	long long	 seed;		/* -1 = scenario's */
	double		 duration;	/* 0 = until a signal */
	double		 status;	/* seconds between status lines */
	long		 state_entries;
	long		 max_conns;
	const char	*backend;	/* "socket" or "dpdk" */
	const char	*dkim_keys_dir;	/* write DKIM private keys here */
	long		 idle_us;	/* dpdk: sleep after empty polls */
	const char	*user;		/* run as this user after binding */
	int		 eal_argc;	/* --backend dpdk: arguments after -- */
	char		**eal_argv;
	bool		 quiet;
	bool		 seed_set;
	const char	*tls_cert;	/* STARTTLS certificate PEM, or NULL */
	const char	*tls_key;	/* ... its key; both or neither */
	bool		 no_tls;	/* never advertise STARTTLS */
};

/* The network backend in use: exactly one of the two is set. */
struct backend {
	struct ev_server *ev;		/* kernel sockets (epoll) */
	struct tls_srv	*tls;		/* its STARTTLS context, or NULL */
#ifdef MXSIM_HAVE_DPDK
	struct dp_backend *dp;		/* DPDK poll-mode pipeline */
#endif
};

/* The scenario's DNS world and what serves from it. */
struct authset {
	struct auth_zone *zone;		/* NULL: no records declared */
	struct smtp_auth_world *aw;
	struct msg_wordlist *words;	/* spam words for the scanner */
#ifdef MXSIM_HAVE_AUTH
	struct dns_server *dns;
#endif
};

struct monitor {
	struct backend	*be;
	struct sim_state *state;
	const struct sim_clock *clock;
	const struct prof_world *world;
	const struct opts *o;
	sigset_t	 sigs;
	volatile bool	 done;		/* set by main when the server ended */
};

static void	usage(FILE *, const char *);
static int	parse_args(int, char **, struct opts *);
static const char *datadir(void);
static int	do_check(const char *);
static void	*monitor_main(void *);
static void	print_banner(const struct prof_world *, const struct backend *,
		    unsigned);
static void	raise_nofile(void);
static void	backend_stop(struct backend *);
static void	backend_stats(const struct backend *, struct sim_stats *);
static uint64_t	backend_open_conns(const struct backend *);
static void	api_backend(struct backend *, struct ctl_backend *);
static int	drop_privileges(const struct prof_world *, const struct opts *);
static int	check_http_addrs(const struct opts *);
static int	start_http(const struct opts *, struct ctl_api *,
		    struct ctl_http **, struct ctl_http **);
static bool	has_records(const struct prof_world *);
static int	auth_setup(struct prof_world *, const struct opts *,
		    struct authset *);
static int	write_keys(const struct prof_world *, const char *);
static void	auth_teardown(struct authset *);
static struct tls_srv *tls_setup(const struct opts *);

/* usage - the truth about the options */
static void
usage(FILE *fp, const char *prog)
{
	fprintf(fp,
"usage: %s [options]\n"
"Simulate the MX servers of mailbox providers (Gmail, Microsoft, Yahoo, ...)\n"
"on many local addresses, answering SMTP with each provider's throttling.\n"
"\n"
"  -c, --config FILE      scenario YAML (default: %s/default.yaml)\n"
"      --check FILE       validate a scenario or a profile file and exit\n"
"  -w, --workers N        worker threads (default: scenario, else one per core)\n"
"  -p, --port N           TCP port of every MX (default: scenario, 2525)\n"
"  -t, --time-scale X     simulated seconds per real second (1440: a day per\n"
"                         minute; default: scenario, 1)\n"
"  -s, --seed N           seed of every random choice (default: scenario)\n"
"  -e, --event-log FILE   write one JSON line per reply (default: scenario)\n"
"  -d, --duration S       stop after S real seconds (default: run until\n"
"                         SIGINT/SIGTERM)\n"
"      --status S         print a status line every S seconds\n"
"      --state-entries N  tracked identities (IPs, domains, recipients;\n"
"                         default 262144)\n"
"      --max-conns N      open connections per worker (default 16384)\n"
"      --ready-file FILE  write \"ready\" to FILE once listening\n"
"      --control ADDR     serve the control API (JSON over HTTP) on ADDR,\n"
"                         a loopback IPv4:PORT or [::1]:PORT\n"
"      --metrics ADDR     serve Prometheus metrics at ADDR/metrics (may be\n"
"                         the --control address)\n"
"      --backend NAME     socket (default) or dpdk: mxsim --backend dpdk\n"
"                         [options] -- EAL arguments (see dpdk/README.md)\n"
"      --idle-us N        dpdk: sleep N microseconds after 1024 empty\n"
"                         polls (default 0: pure busy polling)\n"
"      --dkim-keys-dir DIR  write the scenario's DKIM private keys (generated\n"
"                         or read) to DIR/DOMAIN.SELECTOR.pem, for signers\n"
"      --user NAME        after binding, run as NAME (as root, the default\n"
"                         is nobody when a port below 1024 is bound)\n"
"      --tls-cert FILE    STARTTLS certificate (chain) in PEM; with --tls-key\n"
"      --tls-key FILE     its private key in PEM (default for both: a\n"
"                         self-signed certificate generated at start)\n"
"      --no-tls           no STARTTLS, even where a profile lists it\n"
"  -q, --quiet            no banner and no first-reply notices\n"
"  -V, --version          print the version\n"
"  -h, --help             this text\n"
"\n"
"Bundled profiles are in %s (MXSIM_DATADIR overrides).\n",
	    prog, datadir(), datadir());
}

/* datadir - where bundled profiles live */
static const char *
datadir(void)
{
	const char *d = getenv("MXSIM_DATADIR");

	return d != NULL && d[0] != '\0' ? d : MXSIM_PROFILES_DIR;
}

/* parse_num - strict number parsing for options */
static int
parse_num(const char *opt, const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "mxsim: %s: expected a number in %g..%g, "
		    "got \"%s\"\n", opt, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* parse_args - command line into opts; 0, 1 (exit 0) or -1 (usage) */
static int
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", required_argument, NULL, 'C' },
		{ "workers", required_argument, NULL, 'w' },
		{ "port", required_argument, NULL, 'p' },
		{ "time-scale", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 's' },
		{ "event-log", required_argument, NULL, 'e' },
		{ "duration", required_argument, NULL, 'd' },
		{ "status", required_argument, NULL, 'S' },
		{ "state-entries", required_argument, NULL, 'E' },
		{ "max-conns", required_argument, NULL, 'M' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ "control", required_argument, NULL, 'A' },
		{ "metrics", required_argument, NULL, 'P' },
		{ "backend", required_argument, NULL, 'B' },
		{ "user", required_argument, NULL, 'U' },
		{ "idle-us", required_argument, NULL, 'I' },
		{ "dkim-keys-dir", required_argument, NULL, 'K' },
		{ "tls-cert", required_argument, NULL, 'T' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "no-tls", no_argument, NULL, 'N' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	double v;
	int ch;

	memset(o, 0, sizeof(*o));
	o->workers = -1;
	o->port = -1;
	o->seed = -1;
	o->state_entries = 262144;
	o->max_conns = 16384;
	while ((ch = getopt_long(argc, argv, "c:w:p:t:s:e:d:qVh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'C':
			o->check = optarg;
			break;
		case 'w':
			if (parse_num("--workers", optarg, 1, 256, &v) != 0)
				return -1;
			o->workers = (long)v;
			break;
		case 'p':
			if (parse_num("--port", optarg, 1, 65535, &v) != 0)
				return -1;
			o->port = (long)v;
			break;
		case 't':
			if (parse_num("--time-scale", optarg, 1e-6, 1e9, &v) != 0)
				return -1;
			o->time_scale = v;
			break;
		case 's':
			if (parse_num("--seed", optarg, 0, 1.8e19, &v) != 0)
				return -1;
			o->seed = strtoll(optarg, NULL, 10);
			o->seed_set = true;
			break;
		case 'e':
			o->event_log = optarg;
			break;
		case 'd':
			if (parse_num("--duration", optarg, 0.001, 1e9, &v) != 0)
				return -1;
			o->duration = v;
			break;
		case 'S':
			if (parse_num("--status", optarg, 0.1, 1e6, &v) != 0)
				return -1;
			o->status = v;
			break;
		case 'E':
			if (parse_num("--state-entries", optarg, 64, 1e8, &v) != 0)
				return -1;
			o->state_entries = (long)v;
			break;
		case 'M':
			if (parse_num("--max-conns", optarg, 1, 1e7, &v) != 0)
				return -1;
			o->max_conns = (long)v;
			break;
		case 'r':
			o->ready_file = optarg;
			break;
		case 'A':
			o->control = optarg;
			break;
		case 'P':
			o->metrics = optarg;
			break;
		case 'B':
			if (strcmp(optarg, "socket") != 0 &&
			    strcmp(optarg, "dpdk") != 0) {
				fprintf(stderr, "mxsim: --backend: expected "
				    "socket or dpdk, got \"%s\"\n", optarg);
				return -1;
			}
#ifndef MXSIM_HAVE_DPDK
			if (strcmp(optarg, "dpdk") == 0) {
				fprintf(stderr, "mxsim: --backend dpdk: this "
				    "mxsim was built without DPDK (install "
				    "libdpdk-dev and rebuild)\n");
				return -1;
			}
#endif
			o->backend = optarg;
			break;
		case 'U':
			o->user = optarg;
			break;
		case 'I':
			if (parse_num("--idle-us", optarg, 0, 1e6, &v) != 0)
				return -1;
			o->idle_us = (long)v;
			break;
		case 'K':
			o->dkim_keys_dir = optarg;
			break;
		case 'T':
			o->tls_cert = optarg;
			break;
		case 'k':
			o->tls_key = optarg;
			break;
		case 'N':
			o->no_tls = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'V':
			printf("mxsim %s\n", MXSIM_VERSION);
			return 1;
		case 'h':
			usage(stdout, argv[0]);
			return 1;
		default:
			usage(stderr, argv[0]);
			return -1;
		}
	}
	if ((o->tls_cert == NULL) != (o->tls_key == NULL)) {
		fprintf(stderr, "mxsim: --tls-cert and --tls-key go "
		    "together\n");
		return -1;
	}
	if (o->no_tls && o->tls_cert != NULL) {
		fprintf(stderr, "mxsim: --no-tls contradicts --tls-cert\n");
		return -1;
	}
	if (o->backend == NULL)
		o->backend = "socket";
	if (strcmp(o->backend, "dpdk") == 0) {
		/* EAL arguments follow "--"; EAL wants a program name first */
		o->eal_argc = argc - optind + 1;
		o->eal_argv = argv + optind - 1;
		o->eal_argv[0] = argv[0];
	} else if (optind < argc) {
		fprintf(stderr, "mxsim: unexpected argument \"%s\"\n",
		    argv[optind]);
		return -1;
	}
	return 0;
}

/* backend_stop - ask the backend to stop (signal-safe) */
static void
backend_stop(struct backend *b)
{
	if (b->ev != NULL)
		ev_server_stop(b->ev);
#ifdef MXSIM_HAVE_DPDK
	if (b->dp != NULL)
		dp_backend_stop(b->dp);
#endif
}

/* backend_stats - add the backend's reply counters into out */
static void
backend_stats(const struct backend *b, struct sim_stats *out)
{
	if (b->ev != NULL)
		ev_server_stats(b->ev, out);
#ifdef MXSIM_HAVE_DPDK
	if (b->dp != NULL)
		dp_backend_stats(b->dp, out);
#endif
}

/* backend_open_conns - open sessions now */
static uint64_t
backend_open_conns(const struct backend *b)
{
	if (b->ev != NULL)
		return ev_server_open_conns(b->ev);
#ifdef MXSIM_HAVE_DPDK
	if (b->dp != NULL)
		return dp_backend_open_conns(b->dp);
#endif
	return 0;
}

#ifdef MXSIM_HAVE_DPDK
/* dp_publish, dp_world, dp_stats, dp_open, dp_nlcores, dp_load - the DPDK
 * backend behind struct ctl_backend (per-lcore metrics lines) */
static void
dp_publish(void *ctx, const struct prof_world *w)
{
	dp_backend_publish_world(ctx, w);
}

static const struct prof_world *
dp_world(void *ctx)
{
	return dp_backend_world(ctx);
}

static void
dp_stats(void *ctx, struct sim_stats *out)
{
	dp_backend_stats(ctx, out);
}

static uint64_t
dp_open(void *ctx)
{
	return dp_backend_open_conns(ctx);
}

static unsigned
dp_nlcores(void *ctx)
{
	return dp_backend_nlcores(ctx);
}

static void
dp_load(void *ctx, unsigned idx, uint64_t *open, uint64_t *sessions)
{
	dp_backend_lcore_load(ctx, idx, open, sessions);
}
#endif

/* api_backend - the control API's view of the backend in use */
static void
api_backend(struct backend *b, struct ctl_backend *cb)
{
	memset(cb, 0, sizeof(*cb));
	if (b->ev != NULL)
		ctl_backend_ev_server(cb, b->ev);
#ifdef MXSIM_HAVE_DPDK
	if (b->dp != NULL) {
		cb->ctx = b->dp;
		cb->publish = dp_publish;
		cb->world = dp_world;
		cb->stats = dp_stats;
		cb->open_conns = dp_open;
		cb->nworkers = dp_nlcores;
		cb->worker_load = dp_load;
	}
#endif
}

/* drop_privileges - as root, become --user (or nobody when a port below
 * 1024 is bound); 0, or -1 with a message */
static int
drop_privileges(const struct prof_world *w, const struct opts *o)
{
	const char *name = o->user;
	struct passwd *pw;

	if (geteuid() != 0) {
		if (name != NULL) {
			fprintf(stderr, "mxsim: --user %s: only root can "
			    "change user\n", name);
			return -1;
		}
		return 0;
	}
	if (name == NULL && w->port < 1024 &&
	    strcmp(o->backend, "socket") == 0)
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
	if (!o->quiet)
		fprintf(stderr, "mxsim: running as %s (uid %u)\n", name,
		    (unsigned)pw->pw_uid);
	return 0;
}

/* is_profile_file - does the file's top level name a provider */
static bool
is_profile_file(const char *path)
{
	char line[512];
	FILE *fp;
	bool yes = false;

	if ((fp = fopen(path, "r")) == NULL)
		return false;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "provider:", 9) == 0) {
			yes = true;
			break;
		}
	fclose(fp);
	return yes;
}

/* do_check - validate a scenario or profile; exit status */
static int
do_check(const char *path)
{
	struct prof_error err;
	struct prof_profile *p;
	struct prof_world *w;
	char buf[1200];

	memset(&err, 0, sizeof(err));
	if (is_profile_file(path)) {
		if ((p = prof_load_profile(path, &err)) == NULL) {
			fprintf(stderr, "%s\n",
			    prof_error_str(&err, buf, sizeof(buf)));
			return 1;
		}
		printf("%s: OK (profile %s)\n", path, p->name);
		prof_profile_free(p);
		return 0;
	}
	if ((w = prof_load_scenario(path, datadir(), &err)) == NULL) {
		fprintf(stderr, "%s\n", prof_error_str(&err, buf, sizeof(buf)));
		return 1;
	}
	printf("%s: OK (%zu profiles, %llu MX addresses, port %u)\n", path,
	    w->nprofiles, (unsigned long long)prof_world_naddrs(w), w->port);
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

/* monitor_main - signals, duration, status lines, state expiry */
static void *
monitor_main(void *arg)
{
	struct monitor *m = arg;
	struct timespec tick = { 0, 100000000 };
	struct sim_stats *st;
	uint64_t start = sim_clock_mono_ms(), now, last_status, last_expire;
	char iso[32];
	bool stopping = false;
	int sig;

	last_status = last_expire = start;
	st = sim_stats_new(m->world->nprofiles);
	while (!m->done) {
		sig = sigtimedwait(&m->sigs, NULL, &tick);
		now = sim_clock_mono_ms();
		if (!stopping && (sig > 0 || (m->o->duration > 0 &&
		    now - start >= (uint64_t)(m->o->duration * 1000)))) {
			if (sig > 0 && !m->o->quiet)
				fprintf(stderr, "mxsim: %s, stopping\n",
				    strsignal(sig));
			backend_stop(m->be);
			stopping = true;
		}
		if (m->o->status > 0 && st != NULL &&
		    now - last_status >= (uint64_t)(m->o->status * 1000)) {
			sim_stats_reset(st);
			backend_stats(m->be, st);
			fprintf(stderr, "mxsim: [sim %s] open %llu, connections "
			    "%llu, accepted %llu, 4xx %llu, 5xx %llu, tracked "
			    "%zu\n", sim_clock_iso(sim_clock_now(m->clock), iso,
			    sizeof(iso)),
			    (unsigned long long)backend_open_conns(m->be),
			    (unsigned long long)st->connections,
			    (unsigned long long)st->messages,
			    (unsigned long long)st->deferred,
			    (unsigned long long)st->rejected,
			    sim_state_count(m->state));
			last_status = now;
		}
		if (now - last_expire >= 10000) {
			sim_state_expire(m->state, sim_clock_now(m->clock));
			last_expire = now;
		}
	}
	sim_stats_free(st);
	return NULL;
}

/* check_http_addrs - --control and --metrics must be loopback; 0 or -1 */
static int
check_http_addrs(const struct opts *o)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256];

	if (o->control != NULL && ctl_http_parse_addr(o->control, &ss, &len,
	    err, sizeof(err)) != 0) {
		fprintf(stderr, "mxsim: --control %s\n", err);
		return -1;
	}
	if (o->metrics != NULL && ctl_http_parse_addr(o->metrics, &ss, &len,
	    err, sizeof(err)) != 0) {
		fprintf(stderr, "mxsim: --metrics %s\n", err);
		return -1;
	}
	return 0;
}

/* start_http - one daemon, or two when the addresses differ; 0 or -1 */
static int
start_http(const struct opts *o, struct ctl_api *api, struct ctl_http **ch,
    struct ctl_http **mh)
{
	struct sockaddr_storage a, b;
	struct ctl_http_conf hc;
	socklen_t len;
	char err[512];
	bool same;

	same = o->control != NULL && o->metrics != NULL &&
	    ctl_http_parse_addr(o->control, &a, &len, err, sizeof(err)) == 0 &&
	    ctl_http_parse_addr(o->metrics, &b, &len, err, sizeof(err)) == 0 &&
	    ctl_http_same_addr(&a, &b);
	memset(&hc, 0, sizeof(hc));
	if (o->control != NULL) {
		hc.addr = o->control;
		hc.api = ctl_api_handle;
		hc.api_ctx = api;
		if (same) {
			hc.metrics = ctl_api_metrics;
			hc.metrics_ctx = api;
		}
		if ((*ch = ctl_http_start(&hc, err, sizeof(err))) == NULL) {
			fprintf(stderr, "mxsim: --control %s\n", err);
			return -1;
		}
	}
	if (o->metrics != NULL && !same) {
		memset(&hc, 0, sizeof(hc));
		hc.addr = o->metrics;
		hc.metrics = ctl_api_metrics;
		hc.metrics_ctx = api;
		if ((*mh = ctl_http_start(&hc, err, sizeof(err))) == NULL) {
			fprintf(stderr, "mxsim: --metrics %s\n", err);
			return -1;
		}
	}
	if (!o->quiet && *ch != NULL)
		fprintf(stderr, "  control API: http://%s/%s\n", o->control,
		    same ? " (and /metrics)" : "");
	if (!o->quiet && *mh != NULL)
		fprintf(stderr, "  metrics: http://%s/metrics\n", o->metrics);
	return 0;
}

/* has_records - does the scenario declare a DNS world */
static bool
has_records(const struct prof_world *w)
{
	const struct prof_sender *sd;
	size_t i;

	if (w->dns_listen != NULL)
		return true;
	for (i = 0; i <= w->nsenders; i++) {
		sd = i < w->nsenders ? &w->senders[i] : &w->default_sender;
		if (sd->spf_record != NULL || sd->dmarc_record != NULL ||
		    sd->ndkim_keys > 0 || sd->nrecords > 0)
			return true;
	}
	return false;
}

/* write_keys - every DKIM private key to DIR/DOMAIN.SELECTOR.pem (0600);
 * 0 or -1 */
static int
write_keys(const struct prof_world *w, const char *dir)
{
	const struct prof_sender *sd;
	const struct prof_dkim_key *k;
	char path[4096];
	size_t i, j, len;
	ssize_t n;
	int fd;

	for (i = 0; i < w->nsenders; i++) {
		sd = &w->senders[i];
		for (j = 0; j < sd->ndkim_keys; j++) {
			k = &sd->dkim_keys[j];
			if (k->key_pem == NULL)
				continue;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s.%s.pem",
			    dir, sd->domain, k->selector) >= sizeof(path)) {
				fprintf(stderr, "mxsim: --dkim-keys-dir: path "
				    "too long\n");
				return -1;
			}
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC |
			    O_CLOEXEC, 0600);
			if (fd < 0) {
				fprintf(stderr, "mxsim: %s: %s\n", path,
				    strerror(errno));
				return -1;
			}
			len = strlen(k->key_pem);
			n = write(fd, k->key_pem, len);
			if (close(fd) != 0 || n != (ssize_t)len) {
				fprintf(stderr, "mxsim: %s: short write\n",
				    path);
				return -1;
			}
		}
	}
	return 0;
}

/* auth_setup - scanner word list; with declared records the zone, the
 * authentication contexts, the key files and the DNS server; 0 or -1 */
static int
auth_setup(struct prof_world *w, const struct opts *o, struct authset *as)
{
#ifdef MXSIM_HAVE_AUTH
	struct in_addr ia;
	char why[256], err[300], addr[INET_ADDRSTRLEN];
	const char *psl;
	int rc;
#endif

	if ((as->words = malloc(sizeof(*as->words))) == NULL) {
		fprintf(stderr, "mxsim: out of memory\n");
		return -1;
	}
	msg_wordlist_init(as->words);
	(void)msg_wordlist_add_defaults(as->words);
	if (!has_records(w)) {
		if (o->dkim_keys_dir != NULL)
			fprintf(stderr, "mxsim: --dkim-keys-dir: the scenario "
			    "declares no DKIM keys\n");
		return 0;
	}
#ifdef MXSIM_HAVE_AUTH
	if ((as->zone = auth_zone_create(300)) == NULL) {
		fprintf(stderr, "mxsim: out of memory\n");
		return -1;
	}
	why[0] = '\0';
	if ((rc = prof_world_build_zone(w, as->zone, auth_dkim_keygen,
	    auth_dkim_pubkey, why, sizeof(why))) != 0) {
		fprintf(stderr, "mxsim: %s: DNS records: %s%s%s\n", w->file,
		    strerror(-rc), why[0] != '\0' ? ": " : "", why);
		return -1;
	}
	if (o->dkim_keys_dir != NULL && write_keys(w, o->dkim_keys_dir) != 0)
		return -1;
	psl = access(AUTH_DMARC_PSL_DEFAULT, R_OK) == 0 ?
	    AUTH_DMARC_PSL_DEFAULT : NULL;
	if (smtp_auth_world_new(&as->aw, as->zone, psl, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "mxsim: authentication: %s\n", err);
		return -1;
	}
	if (w->dns_listen != NULL) {
		ia.s_addr = htonl(w->dns_addr);
		inet_ntop(AF_INET, &ia, addr, sizeof(addr));
		if ((rc = dns_server_open(&as->dns, as->zone, addr,
		    w->dns_port)) != 0 || (rc = dns_server_start(as->dns)) !=
		    0) {
			fprintf(stderr, "mxsim: DNS server %s: %s\n",
			    w->dns_listen, strerror(-rc));
			return -1;
		}
	}
	if (!o->quiet)
		fprintf(stderr, "mxsim: %zu DNS records; SPF, DKIM and DMARC "
		    "computed%s%s%s\n", auth_zone_count(as->zone),
		    w->dns_listen != NULL ? "; DNS server on " : "",
		    w->dns_listen != NULL ? w->dns_listen : "",
		    psl == NULL ? " (no Public Suffix List)" : "");
	return 0;
#else
	fprintf(stderr, "mxsim: %s declares DNS records but mxsim was built "
	    "without libspf2/libopendkim/libopendmarc/ldns\n", w->file);
	return -1;
#endif
}

/* auth_teardown - stop the DNS server, free the contexts (after the
 * workers that used them) */
static void
auth_teardown(struct authset *as)
{
#ifdef MXSIM_HAVE_AUTH
	dns_server_close(as->dns);
	as->dns = NULL;
#endif
	smtp_auth_world_free(as->aw);
	as->aw = NULL;
	auth_zone_free(as->zone);
	as->zone = NULL;
	free(as->words);
	as->words = NULL;
}

/* tls_setup - the STARTTLS context: from --tls-cert/--tls-key, or a
 * self-signed certificate for this host's name; NULL on failure (said) */
static struct tls_srv *
tls_setup(const struct opts *o)
{
	struct tls_srv *t;
	char host[256], err[1200];

	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	if ((t = tls_srv_new(o->tls_cert, o->tls_key, host, err,
	    sizeof(err))) == NULL)
		fprintf(stderr, "mxsim: STARTTLS: %s\n", err);
	return t;
}

/* print_banner - what is served where */
static void
print_banner(const struct prof_world *w, const struct backend *be,
    unsigned workers)
{
	const struct prof_block *b;
	const struct prof_profile *p;
	unsigned prefix;
	size_t i;

	if (be->ev != NULL)
		fprintf(stderr, "mxsim %s: %s, %llu MX addresses (%zu "
		    "listening sockets) on port %u, %u workers, time scale "
		    "%g, seed %llu\n", MXSIM_VERSION, w->file,
		    (unsigned long long)prof_world_naddrs(w),
		    ev_server_nlisteners(be->ev), w->port, workers,
		    w->time_scale, (unsigned long long)w->seed);
#ifdef MXSIM_HAVE_DPDK
	if (be->dp != NULL)
		fprintf(stderr, "mxsim %s: %s, %llu MX addresses on port %u "
		    "over DPDK (%s), time scale %g, seed %llu\n",
		    MXSIM_VERSION, w->file,
		    (unsigned long long)prof_world_naddrs(w), w->port,
		    dp_backend_describe(be->dp), w->time_scale,
		    (unsigned long long)w->seed);
#endif
	for (i = 0; i < w->nblocks; i++) {
		b = &w->blocks[i];
		p = w->profiles[b->profile];
		prefix = (unsigned)__builtin_popcount(b->mask);
		fprintf(stderr, "  %-10s %u.%u.%u.%u/%u%s%s\n", p->name,
		    b->addr >> 24, (b->addr >> 16) & 255, (b->addr >> 8) & 255,
		    b->addr & 255, prefix, p->ndomains > 0 ? "  serving " : "",
		    p->ndomains > 0 ? p->domains[0] : "");
	}
	if (w->event_log != NULL)
		fprintf(stderr, "  event log: %s\n", w->event_log);
	if (be->ev != NULL && be->tls != NULL)
		fprintf(stderr, "  STARTTLS: %s\n",
		    tls_srv_generated(be->tls) ? "self-signed certificate "
		    "generated at start" : "certificate from --tls-cert");
	else
		fprintf(stderr, "  STARTTLS: off\n");
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct prof_error perr;
	struct prof_world *w;
	struct sim_state *state = NULL;
	struct sim_evlog *evlog = NULL;
	struct sim_pm *pm = NULL;	/* Postmaster view (issue 9) */
	struct backend be;
	struct authset as;
	struct ev_server_conf conf;
#ifdef MXSIM_HAVE_DPDK
	struct dp_backend_conf dconf;
#endif
	struct ctl_api_conf acf;
	struct ctl_api *api = NULL;
	struct ctl_http *ctl_h = NULL, *met_h = NULL;
	struct sim_stats *total = NULL;
	struct sim_clock clock;
	struct monitor mon;
	pthread_t mon_thread;
	uint64_t written = 0, dropped = 0, tls_done, tls_failed;
	char path[4096], err[1200];
	long ncpu;
	int rc, status = 1;
	FILE *fp;

	/* signals go to the monitor thread only: block them before any
	 * thread (event-log writer, workers) starts */
	memset(&mon, 0, sizeof(mon));
	memset(&be, 0, sizeof(be));
	memset(&as, 0, sizeof(as));
	sigemptyset(&mon.sigs);
	sigaddset(&mon.sigs, SIGINT);
	sigaddset(&mon.sigs, SIGTERM);
	sigaddset(&mon.sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mon.sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((rc = parse_args(argc, argv, &o)) != 0)
		return rc > 0 ? 0 : 2;
	if (o.check != NULL)
		return do_check(o.check);
	if (check_http_addrs(&o) != 0)
		return 2;
	if (o.config == NULL) {
		snprintf(path, sizeof(path), "%s/default.yaml", datadir());
		o.config = path;
	}
	memset(&perr, 0, sizeof(perr));
	if ((w = prof_load_scenario(o.config, datadir(), &perr)) == NULL) {
		fprintf(stderr, "mxsim: %s\n", prof_error_str(&perr, err,
		    sizeof(err)));
		return 1;
	}
	if (o.port > 0)
		w->port = (uint16_t)o.port;
	if (o.time_scale > 0)
		w->time_scale = o.time_scale;
	if (o.seed_set)
		w->seed = (uint64_t)o.seed;
	if (o.workers > 0)
		w->workers = (uint32_t)o.workers;
	if (w->workers == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		w->workers = ncpu > 0 ? (uint32_t)ncpu : 1;
	}
	if (o.event_log != NULL) {
		free(w->event_log);
		w->event_log = strdup(o.event_log);
	}
	raise_nofile();
	if (auth_setup(w, &o, &as) != 0)
		goto out;

	sim_clock_init(&clock, w->start_ms, w->time_scale);
	if ((state = sim_state_new((size_t)o.state_entries, STATE_IDLE_MS)) ==
	    NULL) {
		fprintf(stderr, "mxsim: cannot allocate the state table\n");
		goto out;
	}
	if ((pm = sim_pm_new(0)) == NULL) {
		fprintf(stderr, "mxsim: cannot allocate the Postmaster view\n");
		goto out;
	}
	if (w->event_log != NULL &&
	    (evlog = sim_evlog_open(w->event_log, &rc)) == NULL) {
		fprintf(stderr, "mxsim: event log %s: %s\n", w->event_log,
		    strerror(-rc));
		goto out;
	}
	if (strcmp(o.backend, "dpdk") == 0) {
#ifdef MXSIM_HAVE_DPDK
		memset(&dconf, 0, sizeof(dconf));
		dconf.world = w;
		dconf.state = state;
		dconf.clock = &clock;
		dconf.evlog = evlog;
		dconf.pm = pm;
		dconf.max_conns = (unsigned)o.max_conns;
		dconf.grace_s = 10;
		dconf.idle_sleep_us = (unsigned)o.idle_us;
		dconf.scan = true;
		dconf.words = as.words;
		dconf.auth_world = as.aw;
		dconf.notices = !o.quiet;
		dconf.notice_fp = stderr;
		if ((be.dp = dp_backend_new(&dconf, o.eal_argc, o.eal_argv,
		    err, sizeof(err))) == NULL) {
			fprintf(stderr, "mxsim: %s\n", err);
			goto out;
		}
#endif
	} else {
		memset(&conf, 0, sizeof(conf));
		if (!o.no_tls && (be.tls = tls_setup(&o)) == NULL)
			goto out;
		conf.tls = be.tls;
		conf.world = w;
		conf.state = state;
		conf.clock = &clock;
		conf.evlog = evlog;
		conf.pm = pm;
		conf.workers = w->workers;
		conf.max_conns = (unsigned)o.max_conns;
		conf.grace_s = 10;
		conf.notices = !o.quiet;
		conf.notice_fp = stderr;
		conf.scan = true;
		conf.words = as.words;
		conf.auth_world = as.aw;
		if ((be.ev = ev_server_new(&conf, err, sizeof(err))) == NULL) {
			fprintf(stderr, "mxsim: %s\n", err);
			goto out;
		}
	}
	if (!o.quiet)
		print_banner(w, &be, w->workers);
	if (o.control != NULL || o.metrics != NULL) {
		memset(&acf, 0, sizeof(acf));
		api_backend(&be, &acf.be);
		acf.state = state;
		acf.clock = &clock;
		acf.evlog = evlog;
		acf.pm = pm;
		if ((api = ctl_api_new(&acf)) == NULL) {
			fprintf(stderr, "mxsim: out of memory\n");
			goto out;
		}
		if (start_http(&o, api, &ctl_h, &met_h) != 0)
			goto out;
	}
	/* everything is bound and open: tell whoever waits, then give up
	 * root if asked (or if a privileged port was bound) */
	if (o.ready_file != NULL) {
		if ((fp = fopen(o.ready_file, "w")) != NULL) {
			fprintf(fp, "ready\n");
			fclose(fp);
		} else
			fprintf(stderr, "mxsim: %s: %s\n", o.ready_file,
			    strerror(errno));
	}
	if (drop_privileges(w, &o) != 0)
		goto out;

	mon.be = &be;
	mon.state = state;
	mon.clock = &clock;
	mon.world = w;
	mon.o = &o;
	if (pthread_create(&mon_thread, NULL, monitor_main, &mon) != 0) {
		fprintf(stderr, "mxsim: cannot start the monitor thread\n");
		goto out;
	}
	if (be.ev != NULL)
		rc = ev_server_run(be.ev);
#ifdef MXSIM_HAVE_DPDK
	else
		rc = dp_backend_run(be.dp);
#endif
	mon.done = true;
	pthread_join(mon_thread, NULL);
	ctl_http_stop(ctl_h);
	ctl_http_stop(met_h);
	ctl_h = met_h = NULL;
	if (rc != 0) {
		fprintf(stderr, "mxsim: workers: %s\n", strerror(-rc));
		goto out;
	}

	if ((total = sim_stats_new(w->nprofiles)) != NULL) {
		backend_stats(&be, total);
		printf("mxsim summary (%s):\n", w->file);
		sim_stats_print(total, w, stdout);
	}
	if (w->nseeds > 0)
		sim_pm_print_seeds(pm, w, stdout);
	if (be.tls != NULL) {
		ev_server_tls_stats(be.ev, &tls_done, &tls_failed);
		printf("STARTTLS: %llu handshakes, %llu failed\n",
		    (unsigned long long)tls_done,
		    (unsigned long long)tls_failed);
	}
#ifdef MXSIM_HAVE_DPDK
	if (be.dp != NULL)
		dp_backend_print(be.dp, stderr);
#endif
	status = 0;
out:
	ctl_http_stop(ctl_h);
	ctl_http_stop(met_h);
	ev_server_free(be.ev);
	tls_srv_free(be.tls);
#ifdef MXSIM_HAVE_DPDK
	dp_backend_free(be.dp);
#endif
	auth_teardown(&as);
	if (evlog != NULL) {
		rc = sim_evlog_close(evlog, &written, &dropped);
		if (rc != 0) {
			fprintf(stderr, "mxsim: event log %s: %s\n",
			    w->event_log, strerror(-rc));
			status = 1;
		} else if (!o.quiet || dropped != 0)
			fprintf(stderr, "mxsim: event log %s: %llu events "
			    "written, %llu dropped\n", w->event_log,
			    (unsigned long long)written,
			    (unsigned long long)dropped);
	}
	sim_stats_free(total);
	ctl_api_free(api);
	sim_pm_free(pm);
	sim_state_free(state);
	prof_world_free(w);
	return status;
}
