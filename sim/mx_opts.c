/*
 * DESCRIPTION
 *	mxsim's options from one table (opt_defs[]): getopt_long's long and
 *	short options are built from it, each value is parsed by its kind
 *	and bounds, and --help is printed from its names and help lines.
 *
 * DIAGNOSTICS
 *	A bad value names the option, the range expected and what was given;
 *	options that contradict each other are named together.
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mx_data.h"
#include "mx_opts.h"

#ifndef MXSIM_VERSION
#define MXSIM_VERSION "dev"
#endif

/* How an option's argument is read (struct opt_def). */
enum opt_kind {
	OPT_STR,		/* const char * at off */
	OPT_LONG,		/* long at off, in lo..hi */
	OPT_DBL,		/* double at off, in lo..hi */
	OPT_FLAG,		/* bool at off, set */
	OPT_SEED,		/* long long seed, and seed_set */
	OPT_VERSION,
	OPT_HELP
};

/* One command-line option: getopt_long's entry, parsing and --help. */
struct opt_def {
	const char	*name;
	int		 ch;		/* short option, or a code above 255 */
	enum opt_kind	 kind;
	size_t		 off;		/* offsetof(struct mx_opts, ...) */
	double		 lo, hi;	/* OPT_LONG, OPT_DBL, OPT_SEED bounds */
	const char	*arg;		/* argument's name, NULL: none */
	const char	*help;		/* lines after the first indented */
};

#define OFF(f)	offsetof(struct mx_opts, f)

static const struct opt_def opt_defs[] = {
	{ "config", 'c', OPT_STR, OFF(config), 0, 0, "FILE",
	    "scenario YAML (default: the bundled default.yaml)" },
	{ "check", 256, OPT_STR, OFF(check), 0, 0, "FILE",
	    "validate a scenario or a profile file, print its limits\n"
	    "as real-time rates at the time scale, and exit" },
	{ "workers", 'w', OPT_LONG, OFF(workers), 1, 256, "N",
	    "worker threads (default: scenario, else one per core)" },
	{ "port", 'p', OPT_LONG, OFF(port), 1, 65535, "N",
	    "TCP port of every MX (default: scenario, 2525)" },
	{ "submission-port", 257, OPT_LONG, OFF(submission_port), 1, 65535,
	    "N", "TCP port of every submission profile's addresses\n"
	    "(default: scenario, 587)" },
	{ "time-scale", 't', OPT_DBL, OFF(time_scale), 1e-6, 1e9, "X",
	    "simulated seconds per real second (1440: a day per\n"
	    "minute; default: scenario, 1)" },
	{ "seed", 's', OPT_SEED, OFF(seed), 0, 1.8e19, "N",
	    "seed of every random choice (default: scenario)" },
	{ "event-log", 'e', OPT_STR, OFF(event_log), 0, 0, "FILE",
	    "write one JSON line per reply (default: scenario)" },
	{ "duration", 'd', OPT_DBL, OFF(duration), 0.001, 1e9, "S",
	    "stop after S real seconds (default: run until\n"
	    "SIGINT/SIGTERM)" },
	{ "status", 282, OPT_DBL, OFF(status), 0.1, 1e6, "S",
	    "print a status line every S seconds" },
	{ "state-entries", 258, OPT_LONG, OFF(state_entries), 64, 1e8, "N",
	    "tracked identities (IPs, domains, recipients;\n"
	    "default 262144)" },
	{ "max-conns", 259, OPT_LONG, OFF(max_conns), 1, 1e7, "N",
	    "open connections per worker (default 16384)" },
	{ "ready-file", 260, OPT_STR, OFF(ready_file), 0, 0, "FILE",
	    "write \"ready\" to FILE once listening" },
	{ "summary-json", 280, OPT_STR, OFF(summary_json), 0, 0, "FILE",
	    "at exit, write the summary as JSON to FILE\n"
	    "(atomically: a temporary file renamed)" },
	{ "control", 261, OPT_STR, OFF(control), 0, 0, "ADDR",
	    "serve the control API (JSON over HTTP) on ADDR,\n"
	    "IPv4:PORT or [IPv6]:PORT; loopback only unless\n"
	    "--control-token-file is given" },
	{ "control-token-file", 281, OPT_STR, OFF(control_token_file), 0, 0,
	    "FILE", "require \"Authorization: Bearer TOKEN\" on every\n"
	    "control request (TOKEN: the file's line; others\n"
	    "may not read the file); allows any --control ADDR" },
	{ "metrics", 262, OPT_STR, OFF(metrics), 0, 0, "ADDR",
	    "serve Prometheus metrics at ADDR/metrics, any\n"
	    "address (may be the --control address)" },
	{ "backend", 263, OPT_STR, OFF(backend), 0, 0, "NAME",
	    "socket (default) or dpdk: mxsim --backend dpdk\n"
	    "[options] -- EAL arguments (see dpdk/README.md)" },
	{ "idle-us", 264, OPT_LONG, OFF(idle_us), 0, 1e6, "N",
	    "dpdk: sleep N microseconds after 1024 empty\n"
	    "polls (default 0: pure busy polling)" },
	{ "dkim-keys-dir", 265, OPT_STR, OFF(dkim_keys_dir), 0, 0, "DIR",
	    "write the scenario's DKIM private keys (generated\n"
	    "or read) to DIR/DOMAIN.SELECTOR.pem, for signers" },
	{ "user", 266, OPT_STR, OFF(user), 0, 0, "NAME",
	    "after binding, run as NAME (as root, the default\n"
	    "is nobody when a port below 1024 is bound)" },
	{ "tls-cert", 267, OPT_STR, OFF(tls_cert), 0, 0, "FILE",
	    "STARTTLS certificate (chain) in PEM; with --tls-key" },
	{ "tls-key", 268, OPT_STR, OFF(tls_key), 0, 0, "FILE",
	    "its private key in PEM (default for both: a\n"
	    "self-signed certificate generated at start)" },
	{ "no-tls", 269, OPT_FLAG, OFF(no_tls), 0, 0, NULL,
	    "no STARTTLS, even where a profile lists it" },
	{ "quiet", 'q', OPT_FLAG, OFF(quiet), 0, 0, NULL,
	    "no banner and no first-reply notices" },
	{ "version", 'V', OPT_VERSION, 0, 0, 0, NULL, "print the version" },
	{ "help", 'h', OPT_HELP, 0, 0, 0, NULL, "this text" },
};

#define NOPTS	(sizeof(opt_defs) / sizeof(opt_defs[0]))

/* usage - the truth about the options, from opt_defs[] */
static void
usage(FILE *fp, const char *prog)
{
	const struct opt_def *d;
	const char *h, *nl;
	char left[64];
	size_t i;
	int n;

	fprintf(fp, "usage: %s [options]\n"
	    "Simulate the MX servers of mailbox providers (Gmail, Microsoft, "
	    "Yahoo, ...)\non many local addresses, answering SMTP with each "
	    "provider's throttling.\n\n", prog);
	for (i = 0; i < NOPTS; i++) {
		d = &opt_defs[i];
		n = snprintf(left, sizeof(left), "%c%c%c --%s%s%s",
		    d->ch < 256 ? '-' : ' ', d->ch < 256 ? d->ch : ' ',
		    d->ch < 256 ? ',' : ' ', d->name, d->arg != NULL ? " " : "",
		    d->arg != NULL ? d->arg : "");
		fprintf(fp, "  %s%*s", left, n < 23 ? 23 - n : 2, "");
		for (h = d->help; (nl = strchr(h, '\n')) != NULL; h = nl + 1)
			fprintf(fp, "%.*s\n%25s", (int)(nl - h), h, "");
		fprintf(fp, "%s\n", h);
	}
	fprintf(fp, "\nBundled profiles are in %s (MXSIM_DATADIR names the "
	    "data folder holding profiles/).\n", mx_data_profiles());
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
		fprintf(stderr, "mxsim: --%s: expected a number in %g..%g, "
		    "got \"%s\"\n", opt, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* set_opt - one option's argument into @p o; 0, 1 (exit 0) or -1 */
static int
set_opt(const struct opt_def *d, const char *arg, struct mx_opts *o,
    const char *prog)
{
	char *base = (char *)o;
	double v = 0;

	if ((d->kind == OPT_LONG || d->kind == OPT_DBL ||
	    d->kind == OPT_SEED) && parse_num(d->name, arg, d->lo, d->hi,
	    &v) != 0)
		return -1;
	switch (d->kind) {
	case OPT_STR:
		memcpy(base + d->off, &arg, sizeof(arg));
		return 0;
	case OPT_LONG:
		*(long *)(void *)(base + d->off) = (long)v;
		return 0;
	case OPT_DBL:
		*(double *)(void *)(base + d->off) = v;
		return 0;
	case OPT_FLAG:
		*(bool *)(void *)(base + d->off) = true;
		return 0;
	case OPT_SEED:
		o->seed = strtoll(arg, NULL, 10);
		o->seed_set = true;
		return 0;
	case OPT_VERSION:
		printf("mxsim %s\n", MXSIM_VERSION);
		return 1;
	case OPT_HELP:
		usage(stdout, prog);
		return 1;
	default:
		abort();
	}
}

/* check_opts - what options say together; 0 or -1 */
static int
check_opts(int argc, char **argv, struct mx_opts *o)
{
	if ((o->tls_cert == NULL) != (o->tls_key == NULL)) {
		fprintf(stderr, "mxsim: --tls-cert and --tls-key go "
		    "together\n");
		return -1;
	}
	if (o->no_tls && o->tls_cert != NULL) {
		fprintf(stderr, "mxsim: --no-tls contradicts --tls-cert\n");
		return -1;
	}
	/* what follows the options (after "--") belongs to the backend
	 * (EAL's arguments for dpdk), which wants a program name first */
	o->rest_argc = argc - optind + 1;
	o->rest_argv = argv + optind - 1;
	o->rest_argv[0] = argv[0];
	return 0;
}

/* mx_opts_parse - command line into @p o; 0, 1 (exit 0) or -1 (usage) */
int
mx_opts_parse(int argc, char **argv, struct mx_opts *o)
{
	struct option longopts[NOPTS + 1];
	char shorts[2 * NOPTS + 1], *sp = shorts;
	size_t i;
	int ch, rc;

	memset(o, 0, sizeof(*o));
	memset(longopts, 0, sizeof(longopts));
	o->workers = o->port = o->seed = o->submission_port = -1;
	o->state_entries = 262144;
	o->max_conns = 16384;
	o->backend = "socket";
	for (i = 0; i < NOPTS; i++) {
		longopts[i].name = opt_defs[i].name;
		longopts[i].has_arg = opt_defs[i].arg != NULL ?
		    required_argument : no_argument;
		longopts[i].val = opt_defs[i].ch;
		if (opt_defs[i].ch < 256) {
			*sp++ = (char)opt_defs[i].ch;
			if (opt_defs[i].arg != NULL)
				*sp++ = ':';
		}
	}
	*sp = '\0';
	while ((ch = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
		for (i = 0; i < NOPTS && opt_defs[i].ch != ch; i++)
			;
		if (i == NOPTS) {
			usage(stderr, argv[0]);
			return -1;
		}
		if ((rc = set_opt(&opt_defs[i], optarg, o, argv[0])) != 0)
			return rc;
	}
	return check_opts(argc, argv, o);
}
