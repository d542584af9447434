/*
 * DESCRIPTION
 *	mxload - SMTP load generator for mxsim.  Parses the command line
 *	into a struct hx_load_conf, runs the engine (hx_load.h) and prints
 *	the tally (hx_tally.c) to stdout and optionally as JSON, and with
 *	--csv a per-second time series (hx_series.c).  Every deciding
 *	reply is counted by target, stage, code and enhanced code.  With
 *	--retry SCHEDULE (hx_sched.h) it retries each temporarily failed
 *	message like an MTA's queue and also reports each message's final
 *	outcome (hx_retry.h).
 *
 *	With --abort-prob it also drops connections on purpose (see
 *	hx_abort.h) and prints what it dropped; --msg-log and --tag-rcpt let
 *	a script match every message with mxsim's event log
 *	(harness/bench/mxsoak).
 *
 *	Exit status: 0 when the run took place (whatever the replies), 1
 *	when no connection could be established at all or the run could
 *	not be set up, 2 on a usage error.
 *
 * DIAGNOSTICS
 *	Bad option values print "mxload: <option>: <reason>" and exit 2.
 */
#include <sys/resource.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef MXSIM_HAVE_AUTH
#include "auth_dkim.h"
#endif
#include "hx_load.h"
#include "hx_opt.h"
#include "hx_tally.h"

#define MX_TARGETS_MAX	256	/* -t options */
#define MX_SOURCES_MAX	64	/* -s options */
#define MX_FROM_MAX	64	/* -f domains */
#define MX_ROWS_MAX	8192	/* distinct table rows */

/* Option results that are not engine configuration. */
struct mx_opts {
	struct hx_load_conf	 lc;
	struct hx_target	 targets[MX_TARGETS_MAX];
	struct hx_cidr		 sources[MX_SOURCES_MAX];
	const char		*from[MX_FROM_MAX];
	char			*from_buf;	/* -f text, split in place */
	const char		*json;		/* --json FILE or NULL */
	const char		*csv;		/* --csv FILE or NULL */
	const char		*msg_log;	/* --msg-log FILE or NULL */
	const char		*dkim_key;	/* --dkim-key FILE or NULL */
	char			*dkim_pem;	/* its contents */
	struct hx_aborts	 aborts;	/* --abort-prob counts */
	struct hx_tls_stats	 tls;		/* --starttls counts */
	struct hx_sched		 sched;		/* --retry */
	struct hx_retry_stats	 rstats;	/* its per-message outcomes */
	int			 quiet;
	int			 messages_set;	/* -n given */
};

/* The output files of a run, NULL when not asked for. */
struct mx_files {
	FILE	*json;		/* --json */
	FILE	*csv;		/* --csv */
	FILE	*msg_log;	/* --msg-log */
};

/* How an option's value is stored (struct mx_optdef). */
enum mx_kind {
	MX_U64,		/* uint64_t, bounds lo..hi */
	MX_UNS,		/* unsigned, bounds lo..hi */
	MX_DBL,		/* double, bounds dlo..dhi */
	MX_SET,		/* int set to 1, no value */
	MX_CLEAR,	/* int set to 0, no value */
	MX_STR,		/* const char *, the value as given */
	MX_FN		/* fn(o, value) checks and stores */
};

/* One command-line option: what getopt_long needs, and where it goes. */
struct mx_optdef {
	const char	*name;		/* long name */
	int		 letter;	/* short option, 0: long only */
	enum mx_kind	 kind;
	size_t		 off;		/* field in struct mx_opts */
	uint64_t	 lo, hi;	/* MX_U64, MX_UNS */
	double		 dlo, dhi;	/* MX_DBL */
	void		(*fn)(struct mx_opts *, const char *); /* MX_FN */
};

#define MX_OPTS_MAX	48	/* entries of mx_optdefs */
#define OFF(f)		offsetof(struct mx_opts, f)

static void	usage(FILE *);
static void	usage_error(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static void	opt_target(struct mx_opts *, const char *);
static void	opt_source(struct mx_opts *, const char *);
static void	opt_messages(struct mx_opts *, const char *);
static void	opt_from(struct mx_opts *, const char *);
static void	opt_rcpt(struct mx_opts *, const char *);
static void	opt_helo(struct mx_opts *, const char *);
static void	opt_help(struct mx_opts *, const char *);
static void	opt_version(struct mx_opts *, const char *);
static void	opt_retry(struct mx_opts *, const char *);
static void	opt_store(struct mx_opts *, const struct mx_optdef *,
		    const char *);
static void	opts_defaults(struct mx_opts *);
static void	opts_check(struct mx_opts *);
static void	parse_args(int, char **, struct mx_opts *);
static int	raise_nofile(unsigned);
static int	write_json(const struct hx_tally *, const struct hx_summary *,
		    const char *const *, const struct mx_opts *, FILE *);
static void	load_key(struct mx_opts *);
static int	open_outputs(struct mx_opts *, struct mx_files *);
static void	start_line(const struct mx_opts *);
static int	report(struct mx_opts *, struct hx_tally *,
		    const struct hx_summary *, const char *const *,
		    struct mx_files *);

/* Every option, in --help order; value bounds are the checks. */
static const struct mx_optdef mx_optdefs[] = {
	{ "target", 't', MX_FN, 0, 0, 0, 0, 0, opt_target },
	{ "source", 's', MX_FN, 0, 0, 0, 0, 0, opt_source },
	{ "concurrency", 'c', MX_UNS, OFF(lc.concurrency), 1, 100000, 0, 0,
	    NULL },
	{ "messages", 'n', MX_FN, 0, 0, 0, 0, 0, opt_messages },
	{ "duration", 'd', MX_DBL, OFF(lc.duration), 0, 0, 0.001, 1e7, NULL },
	{ "rate", 'r', MX_DBL, OFF(lc.rate), 0, 0, 0, 1e7, NULL },
	{ "per-connection", 'm', MX_UNS, OFF(lc.per_conn), 1, 1000000, 0, 0,
	    NULL },
	{ "recipients", 'R', MX_UNS, OFF(lc.rcpts), 1, 1000, 0, 0, NULL },
	{ "size", 'z', MX_U64, OFF(lc.size), 0, UINT64_C(1) << 30, 0, 0,
	    NULL },
	{ "from-domains", 'f', MX_FN, 0, 0, 0, 0, 0, opt_from },
	{ "users", 'u', MX_U64, OFF(lc.users), 1, UINT64_C(1) << 40, 0, 0,
	    NULL },
	{ "rcpt", 0, MX_FN, 0, 0, 0, 0, 0, opt_rcpt },
	{ "no-pipelining", 'P', MX_CLEAR, OFF(lc.pipelining), 0, 0, 0, 0,
	    NULL },
	{ "helo", 0, MX_FN, 0, 0, 0, 0, 0, opt_helo },
	{ "timeout", 0, MX_DBL, OFF(lc.timeout), 0, 0, 0.001, 86400, NULL },
	{ "seed", 0, MX_U64, OFF(lc.seed), 0, UINT64_MAX, 0, 0, NULL },
	{ "json", 0, MX_STR, OFF(json), 0, 0, 0, 0, NULL },
	{ "csv", 0, MX_STR, OFF(csv), 0, 0, 0, 0, NULL },
	{ "abort-prob", 0, MX_DBL, OFF(lc.abort_prob), 0, 0, 0, 1, NULL },
	{ "tag-rcpt", 0, MX_SET, OFF(lc.tag_rcpt), 0, 0, 0, 0, NULL },
	{ "msg-log", 0, MX_STR, OFF(msg_log), 0, 0, 0, 0, NULL },
	{ "dkim-key", 0, MX_STR, OFF(dkim_key), 0, 0, 0, 0, NULL },
	{ "dkim-selector", 0, MX_STR, OFF(lc.dkim_selector), 0, 0, 0, 0,
	    NULL },
	{ "from-header", 0, MX_STR, OFF(lc.from_header), 0, 0, 0, 0, NULL },
	{ "list-unsubscribe", 0, MX_SET, OFF(lc.list_unsub), 0, 0, 0, 0,
	    NULL },
	{ "starttls", 0, MX_SET, OFF(lc.starttls), 0, 0, 0, 0, NULL },
	{ "retry", 0, MX_FN, 0, 0, 0, 0, 0, opt_retry },
	{ "retry-until", 0, MX_DBL, OFF(lc.retry_until), 0, 0, 0.001, 1e9,
	    NULL },
	{ "quiet", 'q', MX_SET, OFF(quiet), 0, 0, 0, 0, NULL },
	{ "verbose", 'v', MX_SET, OFF(lc.verbose), 0, 0, 0, 0, NULL },
	{ "version", 'V', MX_FN, 0, 0, 0, 0, 0, opt_version },
	{ "help", 'h', MX_FN, 0, 0, 0, 0, 0, opt_help },
};

#define MX_NOPTS	(sizeof(mx_optdefs) / sizeof(mx_optdefs[0]))

/* What --help says after the options. */
static const char mx_usage_notes[] =
"\n"
"Per connection: greeting, EHLO (HELO after a 5xx), then per message MAIL\n"
"[SIZE=n when offered], RCPT x N, DATA, body, \".\", then the next message\n"
"or QUIT.  A 4xx/5xx ends the message (RSET follows when the connection\n"
"stays open); a 421 or a server close ends the connection and the slot\n"
"opens a new one.  Outcome per message: accepted (2xx at end of DATA),\n"
"deferred (first failing reply 4xx), rejected (5xx), error (refused,\n"
"reset, timeout, garbage).  The table counts the greeting (if not 2xx),\n"
"EHLO/HELO (if not 2xx), MAIL/RCPT/DATA (if not 2xx/354), every end of\n"
"DATA reply, and connection-level errors as code 0.\n"
"\n"
"SIGINT/SIGTERM: stop starting messages, let those in flight finish, print\n"
"the results; a second signal abandons the ones in flight.\n"
"\n"
"With --retry, a message ends delivered (2xx at end of DATA), bounced\n"
"(5xx; a message with several recipients is one message: delivered when\n"
"its DATA is accepted for the recipients that were), expired, deferred\n"
"(still queued when the run ended) or aborted (--abort-prob); the summary\n"
"adds these, attempts per message, the time to drain, and the replies\n"
"that bounced or expired messages.  The first line, the outcome line and\n"
"--msg-log count attempts.\n"
"Retries are not paced by -r.\n"
"\n"
"Exit status: 0 the run completed (whatever the replies), 1 nothing could\n"
"connect (or setup failed), 2 usage error.\n";

/* usage - the complete option summary */
static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: mxload -t [NAME=]ADDR[/PREFIX][:PORT][@RCPTDOMAIN] [options]\n"
"\n"
"SMTP load generator.  Every deciding reply is counted by target, stage,\n"
"code and enhanced code; with --retry each temporarily failed message is\n"
"retried like an MTA would, and each message's final outcome is counted.\n"
"\n"
"  -t, --target [NAME=]ADDR[/PREFIX][:PORT][@RCPTDOMAIN]\n"
"                        server(s) to load; repeatable (up to %d).\n"
"                        Connections go round-robin over targets and over\n"
"                        every address of ADDR/PREFIX (prefix %d..32).\n"
"                        PORT defaults to %d, NAME (the table label) to\n"
"                        \"ADDR[/PREFIX]\", RCPTDOMAIN to \"%s\"\n"
"  -s, --source CIDR     local source addresses bound before connect,\n"
"                        round-robin (prefix %d..32); repeatable (up to %d);\n"
"                        default 127.0.0.1/32\n"
"  -c, --concurrency N   concurrent connections (default 10)\n"
"  -n, --messages N      messages to attempt; 0 = no limit (default 1000,\n"
"                        or no limit when only -d is given)\n"
"  -d, --duration S      stop starting messages after S seconds (decimal);\n"
"                        whichever of -n and -d comes first ends the run\n"
"  -r, --rate N          message starts per second overall (decimal);\n"
"                        0 = as fast as possible (default 0)\n"
"  -m, --per-connection N  messages per connection before QUIT (default 1)\n"
"  -R, --recipients N    recipients per message, 1..1000 (default 1)\n"
"  -z, --size BYTES      message size including headers (default 1024);\n"
"                        body lines <= %d characters, dot-stuffed; when\n"
"                        BYTES is below the header size the message is\n"
"                        the headers alone\n"
"  -f, --from-domains LIST  comma-separated sender domains, round-robin per\n"
"                        message (default example.com); senders are\n"
"                        sender<message number>@domain\n"
"  -u, --users N         recipients user0..user<N-1>, picked by the seeded\n"
"                        PRNG; a message's recipients are consecutive\n"
"                        users (default 1000)\n"
"      --rcpt LOCALPART  fixed recipient local part instead of user<N>\n"
"                        (e.g. unknown1 to provoke unknown-user replies)\n"
"  -P, --no-pipelining   one command at a time (default: MAIL, RCPTs and\n"
"                        DATA in one write when the server offers\n"
"                        PIPELINING)\n"
"      --helo NAME       EHLO/HELO name (default mxload.test)\n"
"      --timeout S       per-reply timeout in seconds (decimal, default\n"
"                        30); counted as error \"timeout\"\n"
"      --seed N          PRNG seed (default 1)\n"
"      --json FILE       also write the result as JSON to FILE\n"
"      --csv FILE        write one CSV row per second to FILE: time (Unix\n"
"                        s), elapsed, sent, accepted, deferred, rejected,\n"
"                        errors, then per stage (connect, ehlo, mail,\n"
"                        rcpt, data, eod) replies timed and latency\n"
"                        p50/p90/p99/p99.9 in ms (log-linear histogram,\n"
"                        within 1.6%%); rows are flushed as they end\n"
"      --abort-prob P    drop the connection on purpose for a fraction P\n"
"                        (0..1) of the messages, chosen by the seeded PRNG:\n"
"                        before MAIL, after MAIL and the first RCPT (reply\n"
"                        unread), halfway through the message text, or\n"
"                        right after the final dot (reply unread: outcome\n"
"                        unknown), by RST (SO_LINGER 0) or close, each\n"
"                        equally likely; counted as errors (\"client\n"
"                        abort\") and listed by stage and mode\n"
"      --tag-rcpt        recipients m<N> (m<N>.<i> with -R > 1), N the\n"
"                        message number, to find messages in mxsim's log\n"
"      --msg-log FILE    one tab-separated line per message: number,\n"
"                        target, outcome (accepted deferred rejected error\n"
"                        abort unknown), stage, code, abort, dot written,\n"
"                        recipient\n"
"      --from-header DOMAIN  header From domain (sender<N>@DOMAIN) instead\n"
"                        of the envelope's -f domain\n"
"      --list-unsubscribe  add RFC 8058 one-click List-Unsubscribe and\n"
"                        List-Unsubscribe-Post headers\n"
"      --starttls        after EHLO, STARTTLS when the server offers it\n"
"                        (OpenSSL, TLS 1.2 or later, no certificate\n"
"                        verification), then EHLO again; handshakes are\n"
"                        counted in the summary\n"
"      --retry SCHEDULE  retry each message that fails temporarily (4xx at\n"
"                        the greeting, EHLO, MAIL, RCPT, DATA or end of\n"
"                        DATA, or a connection error) on SCHEDULE, real\n"
"                        time (mxload does not know mxsim's time scale):\n"
"                          5s,10s,20s,40s  the n-th retry waits the n-th\n"
"                                     delay, the last one repeats\n"
"                          min=5s,max=40s  Postfix: a retry waits the\n"
"                                     message's age, min..max (doubling)\n"
"                          F,2h,15m;G,16h,1h,1.5  Exim rules: F fixed, G\n"
"                                     geometric, each until its cutoff\n"
"                          postfix[/N], exim[/N]  the MTA's defaults, N\n"
"                                     times faster (postfix/60)\n"
"                        append ,lifetime=D (default 5d) and ,run=D\n"
"                        (queue scans every D; a scan takes retries due\n"
"                        up to 1 s later, as Postfix); units ms s m h d.  A\n"
"                        temporary failure of a message older than the\n"
"                        lifetime expires it (bounce \"expired\").  Needs\n"
"                        -n; -d ends new messages, not retries\n"
"      --retry-until S   with --retry: start no attempt after S seconds;\n"
"                        messages still queued end \"deferred\"\n"
"      --dkim-key FILE   sign every message with this RSA private key (PEM,\n"
"                        e.g. from mxsim --dkim-keys-dir); d= is the header\n"
"                        From domain (libopendkim, relaxed/relaxed,\n"
"                        rsa-sha256; about 2 ms per message at 2048 bits)\n"
"      --dkim-selector S  the s= of the signature (required with\n"
"                        --dkim-key)\n"
"  -q, --quiet           print only the final tables (no progress line,\n"
"                        no start line)\n"
"  -v, --verbose         trace every state change and reply on stderr\n"
"  -V, --version         print the version\n"
"  -h, --help            this text\n",
	    MX_TARGETS_MAX, HX_PREFIX_MIN, HX_DEFAULT_PORT,
	    HX_DEFAULT_RCPT_DOMAIN, HX_PREFIX_MIN, MX_SOURCES_MAX, 76);
	fputs(mx_usage_notes, fp);
}

/* usage_error - report a bad command line and exit 2 */
static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("mxload: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'mxload --help'.\n", stderr);
	exit(2);
}

/* opt_target - one -t target */
static void
opt_target(struct mx_opts *o, const char *v)
{
	char err[160];

	if (o->lc.ntargets == MX_TARGETS_MAX)
		usage_error("--target: more than %d targets", MX_TARGETS_MAX);
	if (hx_target_parse(v, &o->targets[o->lc.ntargets], err,
	    sizeof(err)) != 0)
		usage_error("--target \"%s\": %s", v, err);
	o->lc.ntargets++;
}

/* opt_source - one -s source range */
static void
opt_source(struct mx_opts *o, const char *v)
{
	char err[160];

	if (o->lc.nsources == MX_SOURCES_MAX)
		usage_error("--source: more than %d ranges", MX_SOURCES_MAX);
	if (hx_cidr_parse(v, &o->sources[o->lc.nsources], err,
	    sizeof(err)) != 0)
		usage_error("--source \"%s\": %s", v, err);
	o->lc.nsources++;
}

/* opt_messages - -n, remembered as given (-d alone means no limit) */
static void
opt_messages(struct mx_opts *o, const char *v)
{
	static const struct mx_optdef d = { "messages", 'n', MX_U64,
	    OFF(lc.messages), 0, UINT64_C(1) << 48, 0, 0, NULL };

	opt_store(o, &d, v);
	o->messages_set = 1;
}

/* opt_from - -f domain list, split in a copy */
static void
opt_from(struct mx_opts *o, const char *v)
{
	size_t nf;
	int rc;

	free(o->from_buf);
	o->from_buf = strdup(v);
	if (o->from_buf == NULL)
		usage_error("out of memory");
	rc = hx_domain_list(o->from_buf, o->from, MX_FROM_MAX, &nf);
	if (rc == -E2BIG)
		usage_error("--from-domains: more than %d domains",
		    MX_FROM_MAX);
	if (rc != 0)
		usage_error("--from-domains \"%s\": want domain[,domain...]",
		    v);
	o->lc.from = o->from;
	o->lc.nfrom = nf;
}

/* opt_rcpt - --rcpt local part */
static void
opt_rcpt(struct mx_opts *o, const char *v)
{
	if (hx_local_check(v) != 0)
		usage_error("--rcpt \"%s\": want 1..%d printable characters "
		    "without space, <>@\"\\", v, HX_LOCAL_MAX - 1);
	o->lc.rcpt_local = v;
}

/* opt_helo - --helo name */
static void
opt_helo(struct mx_opts *o, const char *v)
{
	if (hx_domain_check(v) != 0)
		usage_error("--helo \"%s\": not a domain name", v);
	o->lc.helo = v;
}

/* opt_retry - --retry SCHEDULE */
static void
opt_retry(struct mx_opts *o, const char *v)
{
	char err[160];

	if (hx_sched_parse(v, &o->sched, err, sizeof(err)) != 0)
		usage_error("--retry \"%s\": %s", v, err);
	o->lc.retry = &o->sched;
}

/* opt_help - -h: the summary on stdout, exit 0 */
static void
opt_help(struct mx_opts *o, const char *v)
{
	(void)o;
	(void)v;
	usage(stdout);
	exit(0);
}

/* opt_version - -V: the version (mxsim's, meson.build), exit 0 */
static void
opt_version(struct mx_opts *o, const char *v)
{
	(void)o;
	(void)v;
	printf("mxload %s\n", MXSIM_VERSION);
	exit(0);
}

/* opt_store - check one option's value against its entry and store it,
 * or exit 2 */
static void
opt_store(struct mx_opts *o, const struct mx_optdef *d, const char *v)
{
	char *field = (char *)o + d->off;
	uint64_t u;
	double x;
	int rc;

	switch (d->kind) {
	case MX_U64:
	case MX_UNS:
		rc = hx_parse_u64(v, d->lo, d->hi, &u);
		if (rc == -ERANGE)
			usage_error("--%s: \"%s\" out of range %llu..%llu",
			    d->name, v, (unsigned long long)d->lo,
			    (unsigned long long)d->hi);
		if (rc != 0)
			usage_error("--%s: \"%s\" is not a whole number",
			    d->name, v);
		if (d->kind == MX_U64)
			memcpy(field, &u, sizeof(u));
		else
			*(unsigned *)(void *)field = (unsigned)u;
		break;
	case MX_DBL:
		rc = hx_parse_double(v, d->dlo, d->dhi, &x);
		if (rc == -ERANGE)
			usage_error("--%s: \"%s\" out of range %g..%g",
			    d->name, v, d->dlo, d->dhi);
		if (rc != 0)
			usage_error("--%s: \"%s\" is not a number", d->name, v);
		memcpy(field, &x, sizeof(x));
		break;
	case MX_SET:
	case MX_CLEAR:
		*(int *)(void *)field = d->kind == MX_SET;
		break;
	case MX_STR:
		memcpy(field, &v, sizeof(v));
		break;
	case MX_FN:
		d->fn(o, v);
		break;
	default:
		abort();
	}
}

/* opts_defaults - every value before the command line */
static void
opts_defaults(struct mx_opts *o)
{
	struct hx_load_conf *lc = &o->lc;

	lc->concurrency = 10;
	lc->messages = 1000;
	lc->per_conn = 1;
	lc->rcpts = 1;
	lc->size = 1024;
	lc->users = 1000;
	lc->pipelining = 1;
	lc->helo = "mxload.test";
	lc->timeout = 30;
	lc->seed = 1;
	lc->targets = o->targets;
	lc->sources = o->sources;
}

/* opts_check - what no single option decides, or exit 2 */
static void
opts_check(struct mx_opts *o)
{
	struct hx_load_conf *lc = &o->lc;
	char err[160];

	if (lc->ntargets == 0)
		usage_error("at least one --target is required");
	if (lc->nsources == 0) {
		if (hx_cidr_parse("127.0.0.1/32", &o->sources[0], err,
		    sizeof(err)) != 0)
			abort();
		lc->nsources = 1;
	}
	if (lc->nfrom == 0) {
		o->from[0] = "example.com";
		lc->from = o->from;
		lc->nfrom = 1;
	}
	if ((o->dkim_key != NULL) != (lc->dkim_selector != NULL))
		usage_error("--dkim-key and --dkim-selector go together");
	if (lc->dkim_selector != NULL && (lc->dkim_selector[0] == '\0' ||
	    strpbrk(lc->dkim_selector, " ;\t\r\n") != NULL))
		usage_error("--dkim-selector \"%s\": want a DNS label",
		    lc->dkim_selector);
	if (lc->from_header != NULL && (lc->from_header[0] == '\0' ||
	    strpbrk(lc->from_header, " <>@;\t\r\n") != NULL ||
	    strlen(lc->from_header) > 200))
		usage_error("--from-header \"%s\": want a domain",
		    lc->from_header);
	if (lc->duration > 0 && !o->messages_set)
		lc->messages = 0;
	if (lc->retry != NULL && lc->messages == 0)
		usage_error("--retry needs a message count (-n N, N > 0): "
		    "the retry queue holds every message");
	if (lc->retry_until > 0 && lc->retry == NULL)
		usage_error("--retry-until goes with --retry");
}

/* parse_args - the command line into @p o through mx_optdefs, or exit 2 */
static void
parse_args(int argc, char **argv, struct mx_opts *o)
{
	struct option lo[MX_OPTS_MAX + 1];
	char so[2 * MX_OPTS_MAX + 2];
	size_t i, k;
	int ch;

	_Static_assert(MX_NOPTS <= MX_OPTS_MAX, "raise MX_OPTS_MAX");
	memset(lo, 0, sizeof(lo));
	k = 0;
	so[k++] = ':';
	for (i = 0; i < MX_NOPTS; i++) {
		lo[i].name = mx_optdefs[i].name;
		lo[i].has_arg = mx_optdefs[i].kind == MX_SET ||
		    mx_optdefs[i].kind == MX_CLEAR ||
		    mx_optdefs[i].fn == opt_help ||
		    mx_optdefs[i].fn == opt_version ? no_argument :
		    required_argument;
		lo[i].val = 256 + (int)i;
		if (mx_optdefs[i].letter != 0) {
			so[k++] = (char)mx_optdefs[i].letter;
			if (lo[i].has_arg == required_argument)
				so[k++] = ':';
		}
	}
	so[k] = '\0';
	opts_defaults(o);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		if (ch == ':')
			usage_error("option %s needs a value",
			    argv[optind - 1]);
		for (i = 0; i < MX_NOPTS; i++)
			if (ch == 256 + (int)i || (ch < 256 &&
			    ch == mx_optdefs[i].letter && ch != 0))
				break;
		if (ch == '?' || i == MX_NOPTS) {
			if (optopt != 0 && optopt < 256)
				usage_error("unknown option -%c", optopt);
			usage_error("unknown option %s", argv[optind - 1]);
		}
		opt_store(o, &mx_optdefs[i], optarg);
	}
	if (optind < argc)
		usage_error("unexpected argument \"%s\"", argv[optind]);
	opts_check(o);
}

/* raise_nofile - make room for the connections; -EMFILE if impossible */
static int
raise_nofile(unsigned conns)
{
	struct rlimit rl;
	rlim_t want;

	want = (rlim_t)conns + 32;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -errno;
	if (rl.rlim_cur >= want)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		return -EMFILE;
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -errno;
	return 0;
}

/* write_json - the tally's JSON, with "aborts" added when aborting and
 * "retry" with --retry; numbers keep the text report's decimals */
static int
write_json(const struct hx_tally *t, const struct hx_summary *sum,
    const char *const *names, const struct mx_opts *o, FILE *fp)
{
	json_t *j;
	int rc = 0;

	if ((j = hx_tally_json(t, sum, names)) == NULL)
		return -ENOMEM;
	if (o->lc.abort_prob > 0 && json_object_set_new(j, "aborts",
	    hx_aborts_json(&o->aborts)) != 0)
		rc = -ENOMEM;
	if (o->lc.retry != NULL && json_object_set_new(j, "retry",
	    hx_retry_json(&o->rstats, names)) != 0)
		rc = -ENOMEM;
	if (rc == 0 && (json_dumpf(j, fp, JSON_INDENT(2) | JSON_ENSURE_ASCII |
	    JSON_REAL_PRECISION(15)) != 0 || fputc('\n', fp) == EOF))
		rc = -EIO;
	json_decref(j);
	return rc;
}

/* load_key - read the --dkim-key file and make a signing context; exits
 * on failure */
static void
load_key(struct mx_opts *o)
{
#ifdef MXSIM_HAVE_AUTH
	char *pem;
	FILE *fp;
	size_t n;

	if ((fp = fopen(o->dkim_key, "r")) == NULL)
		usage_error("--dkim-key %s: %s", o->dkim_key, strerror(errno));
	if ((pem = calloc(1, 16384)) == NULL) {
		fprintf(stderr, "mxload: out of memory\n");
		exit(1);
	}
	n = fread(pem, 1, 16383, fp);
	fclose(fp);
	if (n == 0 || n == 16383 || strstr(pem, "PRIVATE KEY") == NULL)
		usage_error("--dkim-key %s: not a PEM private key", o->dkim_key);
	if ((o->lc.dkim = auth_dkim_create(NULL)) == NULL) {
		fprintf(stderr, "mxload: libopendkim failed to initialise\n");
		exit(1);
	}
	o->dkim_pem = pem;
	o->lc.dkim_key = pem;
#else
	usage_error("--dkim-key: built without libopendkim");
#endif
}

/* open_outputs - the files asked for (exit 2 when one cannot be
 * created); 0, or -ENOMEM */
static int
open_outputs(struct mx_opts *o, struct mx_files *f)
{
	memset(f, 0, sizeof(*f));
	if (o->json != NULL && (f->json = fopen(o->json, "w")) == NULL)
		usage_error("--json %s: %s", o->json, strerror(errno));
	if (o->csv != NULL) {
		if ((f->csv = fopen(o->csv, "w")) == NULL)
			usage_error("--csv %s: %s", o->csv, strerror(errno));
		setvbuf(f->csv, NULL, _IOLBF, 0);
		o->lc.series = hx_series_create(f->csv, 1000000);
		if (o->lc.series == NULL)
			return -ENOMEM;
	}
	if (o->msg_log != NULL) {
		if ((f->msg_log = fopen(o->msg_log, "w")) == NULL)
			usage_error("--msg-log %s: %s", o->msg_log,
			    strerror(errno));
		o->lc.msg_log = f->msg_log;
	}
	return 0;
}

/* start_line - what the run will do, on stderr */
static void
start_line(const struct mx_opts *o)
{
	char lim[48];
	char sched[HX_SCHED_TEXT_MAX];

	if (o->lc.messages == 0)
		snprintf(lim, sizeof(lim), "no message limit");
	else
		snprintf(lim, sizeof(lim), "%llu messages",
		    (unsigned long long)o->lc.messages);
	fprintf(stderr, "mxload: %zu target(s), %u connections, %s, "
	    "%u per connection, %u rcpt, %llu bytes, pipelining %s%s\n",
	    o->lc.ntargets, o->lc.concurrency, lim, o->lc.per_conn,
	    o->lc.rcpts, (unsigned long long)o->lc.size,
	    o->lc.pipelining ? "if offered" : "off",
	    o->lc.starttls ? ", STARTTLS if offered" : "");
	if (o->lc.retry != NULL) {
		(void)hx_sched_format(o->lc.retry, sched, sizeof(sched));
		fprintf(stderr, "mxload: --retry %s (real time)\n", sched);
	}
}

/* report - print the tables, close the output files; the exit status */
static int
report(struct mx_opts *o, struct hx_tally *t, const struct hx_summary *sum,
    const char *const *names, struct mx_files *f)
{
	int status = 0;

	if (hx_tally_print(t, sum, names, stdout) != 0)
		status = 1;
	if (o->lc.retry != NULL &&
	    hx_retry_print(&o->rstats, names, stdout) != 0)
		status = 1;
	if (o->lc.abort_prob > 0)
		hx_aborts_print(&o->aborts, hx_tally_messages(t), stdout);
	if (o->lc.starttls)
		printf("STARTTLS: %llu handshakes (%.1f/s), %llu failed, "
		    "%llu refused, %llu sessions not offered it\n",
		    (unsigned long long)o->tls.done, sum->elapsed > 0 ?
		    (double)o->tls.done / sum->elapsed : 0.0,
		    (unsigned long long)o->tls.failed,
		    (unsigned long long)o->tls.refused,
		    (unsigned long long)o->tls.not_offered);
	if (f->msg_log != NULL && (ferror(f->msg_log) ||
	    fclose(f->msg_log) != 0)) {
		fprintf(stderr, "mxload: --msg-log %s: write failed\n",
		    o->msg_log);
		status = 1;
	}
	if (f->json != NULL && (write_json(t, sum, names, o, f->json) != 0 ||
	    fclose(f->json) != 0)) {
		fprintf(stderr, "mxload: --json %s: write failed\n", o->json);
		status = 1;
	}
	if (f->csv != NULL) {
		if (o->lc.series->err != 0 || fclose(f->csv) != 0) {
			fprintf(stderr, "mxload: --csv %s: write failed\n",
			    o->csv);
			status = 1;
		}
		hx_series_free(o->lc.series);
	}
	if (sum->connections > 0 && sum->established == 0) {
		fprintf(stderr, "mxload: no connection could be "
		    "established\n");
		status = 1;
	}
	return status;
}

/* main - parse, run, report */
int
main(int argc, char **argv)
{
	struct mx_opts *o;
	struct mx_files f;
	struct hx_tally *t;
	struct hx_summary sum;
	const char *names[MX_TARGETS_MAX];
	size_t i;
	int rc, status;

	o = calloc(1, sizeof(*o));
	if (o == NULL) {
		fprintf(stderr, "mxload: out of memory\n");
		return 1;
	}
	parse_args(argc, argv, o);
	if (o->dkim_key != NULL)
		load_key(o);
	if (raise_nofile(o->lc.concurrency) != 0)
		usage_error("--concurrency %u: exceeds the open-file limit "
		    "(ulimit -n)", o->lc.concurrency);
	t = hx_tally_create(o->lc.ntargets, MX_ROWS_MAX);
	if (open_outputs(o, &f) != 0 || t == NULL ||
	    hx_retry_stats_init(&o->rstats, o->lc.ntargets) != 0) {
		fprintf(stderr, "mxload: out of memory\n");
		return 1;
	}
	o->lc.aborts = &o->aborts;
	o->lc.tls = &o->tls;
	o->lc.rstats = &o->rstats;
	o->lc.progress = !o->quiet && !o->lc.verbose && isatty(STDERR_FILENO);
	for (i = 0; i < o->lc.ntargets; i++)
		names[i] = o->targets[i].name;
	rc = hx_load_block_signals();
	if (rc == 0 && !o->quiet)
		start_line(o);
	if (rc == 0)
		rc = hx_load_run(&o->lc, t, &sum);
	if (rc != 0) {
		fprintf(stderr, "mxload: %s\n", strerror(-rc));
		return 1;
	}
	status = report(o, t, &sum, names, &f);
	hx_tally_free(t);
	hx_retry_stats_free(&o->rstats);
#ifdef MXSIM_HAVE_AUTH
	auth_dkim_free(o->lc.dkim);
#endif
	free(o->dkim_pem);
	free(o->from_buf);
	free(o);
	return status;
}
