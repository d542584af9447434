/*
 * DESCRIPTION
 *	mxload - SMTP load generator for mxsim.  Parses the command line
 *	into a struct hx_load_conf, runs the engine (hx_load.c) and prints
 *	the tally (hx_tally.c) to stdout and optionally as JSON, and with
 *	--csv a per-second time series (hx_series.c).  It never
 *	retries: every deciding reply is counted by target, stage, code and
 *	enhanced code.
 *
 *	With --abort-prob it also drops connections on purpose (see
 *	hx_load.h) and prints what it dropped; --msg-log and --tag-rcpt let
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
	int			 quiet;
	int			 messages_set;	/* -n given */
};

enum {
	OPT_RCPT = 256,
	OPT_HELO,
	OPT_TIMEOUT,
	OPT_SEED,
	OPT_JSON,
	OPT_CSV,
	OPT_ABORT,
	OPT_TAG_RCPT,
	OPT_MSG_LOG,
	OPT_DKIM_KEY,
	OPT_DKIM_SEL,
	OPT_FROM_HEADER,
	OPT_LIST_UNSUB,
	OPT_STARTTLS
};

static const struct option long_opts[] = {
	{ "target",		required_argument, NULL, 't' },
	{ "source",		required_argument, NULL, 's' },
	{ "concurrency",	required_argument, NULL, 'c' },
	{ "messages",		required_argument, NULL, 'n' },
	{ "duration",		required_argument, NULL, 'd' },
	{ "rate",		required_argument, NULL, 'r' },
	{ "per-connection",	required_argument, NULL, 'm' },
	{ "recipients",		required_argument, NULL, 'R' },
	{ "size",		required_argument, NULL, 'z' },
	{ "from-domains",	required_argument, NULL, 'f' },
	{ "users",		required_argument, NULL, 'u' },
	{ "rcpt",		required_argument, NULL, OPT_RCPT },
	{ "no-pipelining",	no_argument,	   NULL, 'P' },
	{ "helo",		required_argument, NULL, OPT_HELO },
	{ "timeout",		required_argument, NULL, OPT_TIMEOUT },
	{ "seed",		required_argument, NULL, OPT_SEED },
	{ "json",		required_argument, NULL, OPT_JSON },
	{ "csv",		required_argument, NULL, OPT_CSV },
	{ "abort-prob",		required_argument, NULL, OPT_ABORT },
	{ "tag-rcpt",		no_argument,	   NULL, OPT_TAG_RCPT },
	{ "msg-log",		required_argument, NULL, OPT_MSG_LOG },
	{ "dkim-key",		required_argument, NULL, OPT_DKIM_KEY },
	{ "dkim-selector",	required_argument, NULL, OPT_DKIM_SEL },
	{ "from-header",	required_argument, NULL, OPT_FROM_HEADER },
	{ "list-unsubscribe",	no_argument,	   NULL, OPT_LIST_UNSUB },
	{ "starttls",		no_argument,	   NULL, OPT_STARTTLS },
	{ "quiet",		no_argument,	   NULL, 'q' },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL,			0,		   NULL, 0 }
};

static void	usage(FILE *);
static void	usage_error(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static uint64_t	opt_u64(const char *, const char *, uint64_t, uint64_t);
static double	opt_double(const char *, const char *, double, double);
static void	parse_args(int, char **, struct mx_opts *);
static int	raise_nofile(unsigned);
static int	write_json(const struct hx_tally *, const struct hx_summary *,
		    const char *const *, const struct mx_opts *, FILE *);

/* usage - the complete option summary */
static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: mxload -t [NAME=]ADDR[/PREFIX][:PORT][@RCPTDOMAIN] [options]\n"
"\n"
"SMTP load generator.  Never retries; every deciding reply is counted by\n"
"target, stage, code and enhanced code.\n"
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
"      --dkim-key FILE   sign every message with this RSA private key (PEM,\n"
"                        e.g. from mxsim --dkim-keys-dir); d= is the header\n"
"                        From domain (libopendkim, relaxed/relaxed,\n"
"                        rsa-sha256; about 2 ms per message at 2048 bits)\n"
"      --dkim-selector S  the s= of the signature (required with\n"
"                        --dkim-key)\n"
"  -q, --quiet           print only the final tables (no progress line,\n"
"                        no start line)\n"
"  -v, --verbose         trace every state change and reply on stderr\n"
"  -h, --help            this text\n"
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
"Exit status: 0 the run completed (whatever the replies), 1 nothing could\n"
"connect (or setup failed), 2 usage error.\n",
	    MX_TARGETS_MAX, HX_PREFIX_MIN, HX_DEFAULT_PORT,
	    HX_DEFAULT_RCPT_DOMAIN, HX_PREFIX_MIN, MX_SOURCES_MAX, 76);
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

/* opt_u64 - bounded integer option or exit 2 */
static uint64_t
opt_u64(const char *name, const char *s, uint64_t lo, uint64_t hi)
{
	uint64_t v;
	int rc;

	rc = hx_parse_u64(s, lo, hi, &v);
	if (rc == -ERANGE)
		usage_error("%s: \"%s\" out of range %llu..%llu", name, s,
		    (unsigned long long)lo, (unsigned long long)hi);
	if (rc != 0)
		usage_error("%s: \"%s\" is not a whole number", name, s);
	return v;
}

/* opt_double - bounded decimal option or exit 2 */
static double
opt_double(const char *name, const char *s, double lo, double hi)
{
	double v;
	int rc;

	rc = hx_parse_double(s, lo, hi, &v);
	if (rc == -ERANGE)
		usage_error("%s: \"%s\" out of range %g..%g", name, s, lo, hi);
	if (rc != 0)
		usage_error("%s: \"%s\" is not a number", name, s);
	return v;
}

/* parse_args - the command line into @p o, or exit 2 */
static void
parse_args(int argc, char **argv, struct mx_opts *o)
{
	struct hx_load_conf *lc = &o->lc;
	char err[160];
	size_t nt, ns, nf;
	int ch, rc;

	nt = ns = 0;
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
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":t:s:c:n:d:r:m:R:z:f:u:Pqvh",
	    long_opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (nt == MX_TARGETS_MAX)
				usage_error("--target: more than %d targets",
				    MX_TARGETS_MAX);
			if (hx_target_parse(optarg, &o->targets[nt], err,
			    sizeof(err)) != 0)
				usage_error("--target \"%s\": %s", optarg, err);
			nt++;
			break;
		case 's':
			if (ns == MX_SOURCES_MAX)
				usage_error("--source: more than %d ranges",
				    MX_SOURCES_MAX);
			if (hx_cidr_parse(optarg, &o->sources[ns], err,
			    sizeof(err)) != 0)
				usage_error("--source \"%s\": %s", optarg, err);
			ns++;
			break;
		case 'c':
			lc->concurrency = (unsigned)opt_u64("--concurrency",
			    optarg, 1, 100000);
			break;
		case 'n':
			lc->messages = opt_u64("--messages", optarg, 0,
			    UINT64_C(1) << 48);
			o->messages_set = 1;
			break;
		case 'd':
			lc->duration = opt_double("--duration", optarg, 0.001,
			    1e7);
			break;
		case 'r':
			lc->rate = opt_double("--rate", optarg, 0, 1e7);
			break;
		case 'm':
			lc->per_conn = (unsigned)opt_u64("--per-connection",
			    optarg, 1, 1000000);
			break;
		case 'R':
			lc->rcpts = (unsigned)opt_u64("--recipients", optarg,
			    1, 1000);
			break;
		case 'z':
			lc->size = opt_u64("--size", optarg, 0,
			    UINT64_C(1) << 30);
			break;
		case 'f':
			free(o->from_buf);
			o->from_buf = strdup(optarg);
			if (o->from_buf == NULL)
				usage_error("out of memory");
			rc = hx_domain_list(o->from_buf, o->from, MX_FROM_MAX,
			    &nf);
			if (rc == -E2BIG)
				usage_error("--from-domains: more than %d "
				    "domains", MX_FROM_MAX);
			if (rc != 0)
				usage_error("--from-domains \"%s\": want "
				    "domain[,domain...]", optarg);
			lc->from = o->from;
			lc->nfrom = nf;
			break;
		case 'u':
			lc->users = opt_u64("--users", optarg, 1,
			    UINT64_C(1) << 40);
			break;
		case OPT_RCPT:
			if (hx_local_check(optarg) != 0)
				usage_error("--rcpt \"%s\": want 1..%d "
				    "printable characters without space, "
				    "<>@\"\\", optarg, HX_LOCAL_MAX - 1);
			lc->rcpt_local = optarg;
			break;
		case 'P':
			lc->pipelining = 0;
			break;
		case OPT_HELO:
			if (hx_domain_check(optarg) != 0)
				usage_error("--helo \"%s\": not a domain name",
				    optarg);
			lc->helo = optarg;
			break;
		case OPT_TIMEOUT:
			lc->timeout = opt_double("--timeout", optarg, 0.001,
			    86400);
			break;
		case OPT_SEED:
			lc->seed = opt_u64("--seed", optarg, 0, UINT64_MAX);
			break;
		case OPT_JSON:
			o->json = optarg;
			break;
		case OPT_CSV:
			o->csv = optarg;
			break;
		case OPT_ABORT:
			lc->abort_prob = opt_double("--abort-prob", optarg, 0,
			    1);
			break;
		case OPT_TAG_RCPT:
			lc->tag_rcpt = 1;
			break;
		case OPT_MSG_LOG:
			o->msg_log = optarg;
			break;
		case OPT_DKIM_KEY:
			o->dkim_key = optarg;
			break;
		case OPT_DKIM_SEL:
			lc->dkim_selector = optarg;
			break;
		case OPT_FROM_HEADER:
			lc->from_header = optarg;
			break;
		case OPT_LIST_UNSUB:
			lc->list_unsub = 1;
			break;
		case OPT_STARTTLS:
			lc->starttls = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'v':
			lc->verbose = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			usage_error("option %s needs a value",
			    argv[optind - 1]);
		case '?':
		default:
			if (optopt != 0)
				usage_error("unknown option -%c", optopt);
			usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument \"%s\"", argv[optind]);
	if (nt == 0)
		usage_error("at least one --target is required");
	if (ns == 0) {
		if (hx_cidr_parse("127.0.0.1/32", &o->sources[0], err,
		    sizeof(err)) != 0)
			abort();
		ns = 1;
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
	lc->targets = o->targets;
	lc->ntargets = nt;
	lc->sources = o->sources;
	lc->nsources = ns;
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

/* write_json - the tally's JSON, with "aborts" added when aborting */
static int
write_json(const struct hx_tally *t, const struct hx_summary *sum,
    const char *const *names, const struct mx_opts *o, FILE *fp)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *ms;
	int rc;

	if (o->lc.abort_prob <= 0)
		return hx_tally_json(t, sum, names, fp);
	if ((ms = open_memstream(&buf, &len)) == NULL)
		return -ENOMEM;
	rc = hx_tally_json(t, sum, names, ms);
	if (fclose(ms) != 0 && rc == 0)
		rc = -ENOMEM;
	/* the object ends in "\n}\n": add one member before it */
	if (rc == 0 && (len < 3 || memcmp(buf + len - 3, "\n}\n", 3) != 0))
		rc = -EIO;
	if (rc == 0) {
		fwrite(buf, 1, len - 3, fp);
		fputs(",\n  \"aborts\": ", fp);
		hx_aborts_json(&o->aborts, fp);
		fputs("\n}\n", fp);
		rc = ferror(fp) ? -EIO : 0;
	}
	free(buf);
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

/* main - parse, run, report */
int
main(int argc, char **argv)
{
	struct mx_opts *o;
	struct hx_tally *t;
	struct hx_summary sum;
	const char *names[MX_TARGETS_MAX];
	char lim[48];
	FILE *jf, *cf, *lf;
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
	jf = NULL;
	if (o->json != NULL) {
		jf = fopen(o->json, "w");
		if (jf == NULL)
			usage_error("--json %s: %s", o->json, strerror(errno));
	}
	cf = NULL;
	if (o->csv != NULL) {
		cf = fopen(o->csv, "w");
		if (cf == NULL)
			usage_error("--csv %s: %s", o->csv, strerror(errno));
		setvbuf(cf, NULL, _IOLBF, 0);
		o->lc.series = hx_series_create(cf, 1000000);
		if (o->lc.series == NULL) {
			fprintf(stderr, "mxload: out of memory\n");
			return 1;
		}
	}
	lf = NULL;
	if (o->msg_log != NULL) {
		lf = fopen(o->msg_log, "w");
		if (lf == NULL)
			usage_error("--msg-log %s: %s", o->msg_log,
			    strerror(errno));
		o->lc.msg_log = lf;
	}
	o->lc.aborts = &o->aborts;
	o->lc.tls = &o->tls;
	o->lc.progress = !o->quiet && !o->lc.verbose && isatty(STDERR_FILENO);
	for (i = 0; i < o->lc.ntargets; i++)
		names[i] = o->targets[i].name;
	t = hx_tally_create(o->lc.ntargets, MX_ROWS_MAX);
	if (t == NULL) {
		fprintf(stderr, "mxload: out of memory\n");
		return 1;
	}
	rc = hx_load_block_signals();
	if (rc == 0 && !o->quiet) {
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
	}
	if (rc == 0)
		rc = hx_load_run(&o->lc, t, &sum);
	if (rc != 0) {
		fprintf(stderr, "mxload: %s\n", strerror(-rc));
		return 1;
	}
	status = 0;
	if (hx_tally_print(t, &sum, names, stdout) != 0)
		status = 1;
	if (o->lc.abort_prob > 0)
		hx_aborts_print(&o->aborts, hx_tally_messages(t), stdout);
	if (o->lc.starttls)
		printf("STARTTLS: %llu handshakes (%.1f/s), %llu failed, "
		    "%llu refused, %llu sessions not offered it\n",
		    (unsigned long long)o->tls.done, sum.elapsed > 0 ?
		    (double)o->tls.done / sum.elapsed : 0.0,
		    (unsigned long long)o->tls.failed,
		    (unsigned long long)o->tls.refused,
		    (unsigned long long)o->tls.not_offered);
	if (lf != NULL && (ferror(lf) || fclose(lf) != 0)) {
		fprintf(stderr, "mxload: --msg-log %s: write failed\n",
		    o->msg_log);
		status = 1;
	}
	if (jf != NULL) {
		if (write_json(t, &sum, names, o, jf) != 0 ||
		    fclose(jf) != 0) {
			fprintf(stderr, "mxload: --json %s: write failed\n",
			    o->json);
			status = 1;
		}
	}
	if (cf != NULL) {
		if (o->lc.series->err != 0 || fclose(cf) != 0) {
			fprintf(stderr, "mxload: --csv %s: write failed\n",
			    o->csv);
			status = 1;
		}
		hx_series_free(o->lc.series);
	}
	if (sum.connections > 0 && sum.established == 0) {
		fprintf(stderr, "mxload: no connection could be "
		    "established\n");
		status = 1;
	}
	hx_tally_free(t);
#ifdef MXSIM_HAVE_AUTH
	auth_dkim_free(o->lc.dkim);
#endif
	free(o->dkim_pem);
	free(o->from_buf);
	free(o);
	return status;
}
