/*
 * DESCRIPTION
 *	Loads provider profiles and scenarios from YAML into a prof_world.
 *	The file is read with libyaml's document API; every mapping is
 *	walked through a key table (struct ld_key: name, setter, offset,
 *	nested table), so unknown and duplicate keys are rejected in one
 *	place.  Values are checked as they are stored; checks that need
 *	several keys (reply codes against enhanced codes, reputation
 *	thresholds, overlapping address blocks) run once the mapping is
 *	read.  Profiles start from prof_profile_new() defaults and the
 *	file overrides them.
 *
 *	Every error names the file, the 1-based line and column of the
 *	offending node (libyaml marks are 0-based) and what was expected.
 *	An error inside a profile named by a scenario names the profile's
 *	own file.
 *
 * DIAGNOSTICS
 *	Aborts when out of memory (control plane: see STYLE section 7).
 *	Every other failure is returned as NULL plus a struct prof_error.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <yaml.h>

#include "prof_load.h"

#define LD_REQUIRED	0x01u	/* key must be present */
#define LD_NONZERO	0x02u	/* integer must be >= 1 */

#define LD_LIST_HOST	0x01u	/* ld_strlist: host-name characters */
#define LD_LIST_LOWER	0x02u	/* ld_strlist: lower-case the copies */

#define LD_TEXT_MAX	900	/* bytes of a reply text */
#define LD_NAME_MAX	64	/* bytes of a provider name */
#define LD_WRAP_MIN	20	/* narrowest useful wrap width */
#define LD_WRAP_MAX	500	/* RFC 5321 reply line limit is 512 */

/* Loader state for one YAML file. */
struct ld {
	const char	*file;		/* path as named in errors */
	const char	*top;		/* "profile" or "scenario" */
	struct prof_error *err;
	yaml_document_t	 doc;
	bool		 have_doc;
	char		 got[96];	/* ld_got() scratch */

	/* scenario only */
	struct prof_world *w;
	char		*dir;		/* scenario directory, NULL = cwd */
	const char	*datadir;	/* bundled profiles, or NULL */
	char		**loaded;	/* realpath of w->profiles[i] */
	struct ld_blk	*blk;		/* where each w->blocks[i] came from */
};

/* Origin of one MX address block, for overlap messages. */
struct ld_blk {
	size_t		 server;	/* index in servers */
	unsigned	 line;		/* 1-based */
	char		 cidr[24];
};

struct ld_key;
typedef int (*ld_set_fn)(struct ld *, yaml_node_t *, void *,
    const struct ld_key *, const char *);

/* One key of a mapping: how to store its value into the object. */
struct ld_key {
	const char		*name;
	ld_set_fn		 set;
	size_t			 off;	/* field offset in the object */
	const struct ld_key	*sub;	/* keys of a nested mapping */
	unsigned		 flags;	/* LD_* */
};

/* Value nodes of one reply entry, checked together. */
struct ld_reply {
	yaml_node_t	*code;
	yaml_node_t	*enhanced;
	yaml_node_t	*text;
	yaml_node_t	*stage;
	yaml_node_t	*close;
};

/* Value nodes of one servers entry. */
struct ld_server {
	yaml_node_t	*profile;
	yaml_node_t	*addresses;
};

/* Stages at which a policy kind may answer. */
struct ld_stage_rule {
	unsigned	 mask;		/* 1 << enum sim_stage */
	const char	*fact;		/* "the sender domain is known from "
	    "mail" */
};

/* memory */
static void	*xrealloc(void *, size_t);
static char	*xstrdup(const char *);
static char	*xjoin(const char *, const char *, const char *);
static char	*ld_path(const char *, const char *, const char *);

/* errors and YAML access */
static int	 ld_err(struct ld *, const yaml_node_t *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static const char *ld_got(struct ld *, const yaml_node_t *);
static const char *ld_what(const struct ld *, const char *);
static int	 ld_open(struct ld *, const char *, struct prof_error *,
		    const char *, yaml_node_t **);
static void	 ld_close(struct ld *);
static yaml_node_t *ld_node(struct ld *, int);
static bool	 ld_is_null(const yaml_node_t *);
static int	 ld_string(struct ld *, yaml_node_t *, const char **);
static int	 ld_uint(struct ld *, yaml_node_t *, uint64_t, uint64_t,
		    uint64_t *);
static int	 ld_double(struct ld *, yaml_node_t *, double, bool, double *);
static int	 ld_bool(struct ld *, yaml_node_t *, bool *);
static int	 ld_seq(struct ld *, yaml_node_t *, const char *, size_t);
static int	 ld_pair_key(struct ld *, yaml_node_t *, yaml_node_pair_t *,
		    const char *, const char **);
static int	 ld_map(struct ld *, yaml_node_t *, const char *,
		    const struct ld_key *, void *);

/* generic setters */
static int	 set_map(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_node(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_u32(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_u64(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_nonneg(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_positive(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_atleast1(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);

/* profile */
static bool	 ld_name_ok(const char *);
static bool	 ld_domain_ok(const char *);
static int	 ld_strlist(struct ld *, yaml_node_t *, const char *, size_t,
		    unsigned, char ***, size_t *);
static int	 ld_template(struct ld *, yaml_node_t *, const char *);
static int	 set_provider(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_domains(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_mx_hosts(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_extensions(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_trailer(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_wrap(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_warmup(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_reputation(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_replies(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 ld_reply_apply(struct ld *, struct prof_profile *,
		    enum sim_rk, yaml_node_t *, const struct ld_reply *,
		    const char *);
static int	 ld_reply_stage(struct ld *, enum sim_rk, yaml_node_t *,
		    enum sim_stage *);
static int	 ld_enhanced(struct ld *, yaml_node_t *, const char *);

/* scenario */
static int	 ld_cidr(struct ld *, yaml_node_t *, uint32_t *, unsigned *);
static int	 set_start(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_port(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_event_log(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_auth(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_sender_domains(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_blocklist(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_unknown(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_servers(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 ld_profile_ref(struct ld *, yaml_node_t *, uint32_t *);
static int	 ld_add_block(struct ld *, yaml_node_t *, size_t, uint32_t);

/*
 * Key tables.  Offsets are relative to the object the enclosing mapping
 * fills; a nested mapping (set_map) moves the object by its own offset.
 */
static const struct ld_key windows_keys[] = {
	{ "second", set_u32,
	    offsetof(struct prof_windows, max[SIM_WIN_SECOND]) },
	{ "minute", set_u32,
	    offsetof(struct prof_windows, max[SIM_WIN_MINUTE]) },
	{ "hour", set_u32, offsetof(struct prof_windows, max[SIM_WIN_HOUR]) },
	{ "day", set_u32, offsetof(struct prof_windows, max[SIM_WIN_DAY]) },
	{ NULL }
};

static const struct ld_key rate_keys[] = {
	{ "messages", set_map, offsetof(struct prof_rate, messages),
	    windows_keys },
	{ "recipients", set_map, offsetof(struct prof_rate, recipients),
	    windows_keys },
	{ NULL }
};

static const struct ld_key per_recipient_keys[] = {
	{ "messages", set_map, 0, windows_keys },
	{ NULL }
};

static const struct ld_key warmup_keys[] = {
	{ "days", set_u32, offsetof(struct prof_warmup, days) },
	{ "first_day", set_u32, offsetof(struct prof_warmup, first_day) },
	{ "growth", set_atleast1, offsetof(struct prof_warmup, growth) },
	{ NULL }
};

static const struct ld_key limits_keys[] = {
	{ "connections_per_ip", set_u32,
	    offsetof(struct prof_limits, conns_per_ip) },
	{ "connection_rate_per_ip", set_map,
	    offsetof(struct prof_limits, conn_rate), windows_keys },
	{ "messages_per_connection", set_u32,
	    offsetof(struct prof_limits, msgs_per_conn) },
	{ "recipients_per_message", set_u32,
	    offsetof(struct prof_limits, rcpts_per_msg) },
	{ "max_message_size", set_u64, offsetof(struct prof_limits, max_size) },
	{ "per_ip", set_map, offsetof(struct prof_limits, per_ip), rate_keys },
	{ "per_domain", set_map, offsetof(struct prof_limits, per_domain),
	    rate_keys },
	{ "per_recipient", set_map, offsetof(struct prof_limits, per_recipient),
	    per_recipient_keys },
	{ "warmup", set_warmup, offsetof(struct prof_limits, warmup),
	    warmup_keys },
	{ NULL }
};

static const struct ld_key penalties_keys[] = {
	{ "user_unknown", set_nonneg,
	    offsetof(struct prof_reputation, pen_user_unknown) },
	{ "auth_fail", set_nonneg,
	    offsetof(struct prof_reputation, pen_auth_fail) },
	{ "spike", set_nonneg, offsetof(struct prof_reputation, pen_spike) },
	{ "rate_limited", set_nonneg,
	    offsetof(struct prof_reputation, pen_rate) },
	{ NULL }
};

static const struct ld_key spike_keys[] = {
	{ "factor", set_atleast1,
	    offsetof(struct prof_reputation, spike_factor) },
	{ "min_per_minute", set_u32,
	    offsetof(struct prof_reputation, spike_min) },
	{ NULL }
};

static const struct ld_key reputation_keys[] = {
	{ "initial", set_nonneg, offsetof(struct prof_reputation, initial) },
	{ "max", set_positive, offsetof(struct prof_reputation, max) },
	{ "recover_per_hour", set_nonneg,
	    offsetof(struct prof_reputation, recover_per_hour) },
	{ "temp_below", set_nonneg,
	    offsetof(struct prof_reputation, temp_below) },
	{ "block_below", set_nonneg,
	    offsetof(struct prof_reputation, block_below) },
	{ "penalties", set_map, 0, penalties_keys },
	{ "spike", set_map, 0, spike_keys },
	{ NULL }
};

static const struct ld_key smtp_keys[] = {
	{ "extensions", set_extensions, 0 },
	{ "trailer", set_trailer, 0 },
	{ "wrap", set_wrap, 0 },
	{ NULL }
};

static const struct ld_key profile_keys[] = {
	{ "provider", set_provider, 0, NULL, LD_REQUIRED },
	{ "domains", set_domains, 0 },
	{ "mx_hosts", set_mx_hosts, 0, NULL, LD_REQUIRED },
	{ "smtp", set_map, 0, smtp_keys },
	{ "limits", set_map, offsetof(struct prof_profile, limits),
	    limits_keys },
	{ "reputation", set_reputation, offsetof(struct prof_profile, rep),
	    reputation_keys },
	{ "replies", set_replies, 0 },
	{ NULL }
};

static const struct ld_key reply_keys[] = {
	{ "code", set_node, offsetof(struct ld_reply, code) },
	{ "enhanced", set_node, offsetof(struct ld_reply, enhanced) },
	{ "text", set_node, offsetof(struct ld_reply, text) },
	{ "stage", set_node, offsetof(struct ld_reply, stage) },
	{ "close", set_node, offsetof(struct ld_reply, close) },
	{ NULL }
};

static const struct ld_key timeouts_keys[] = {
	{ "idle", set_u32, offsetof(struct prof_world, idle_timeout_s), NULL,
	    LD_NONZERO },
	{ "session", set_u32, offsetof(struct prof_world, session_timeout_s),
	    NULL, LD_NONZERO },
	{ NULL }
};

static const struct ld_key sender_keys[] = {
	{ "spf", set_auth, offsetof(struct prof_sender, spf) },
	{ "dkim", set_auth, offsetof(struct prof_sender, dkim) },
	{ "dmarc", set_auth, offsetof(struct prof_sender, dmarc) },
	{ NULL }
};

static const struct ld_key senders_keys[] = {
	{ "default", set_map, offsetof(struct prof_world, default_sender),
	    sender_keys },
	{ "domains", set_sender_domains, 0, sender_keys },
	{ NULL }
};

static const struct ld_key recipients_keys[] = {
	{ "unknown", set_unknown, 0 },
	{ NULL }
};

static const struct ld_key server_keys[] = {
	{ "profile", set_node, offsetof(struct ld_server, profile), NULL,
	    LD_REQUIRED },
	{ "addresses", set_node, offsetof(struct ld_server, addresses), NULL,
	    LD_REQUIRED },
	{ NULL }
};

static const struct ld_key scenario_keys[] = {
	{ "seed", set_u64, offsetof(struct prof_world, seed) },
	{ "time_scale", set_positive, offsetof(struct prof_world, time_scale) },
	{ "start", set_start, offsetof(struct prof_world, start_ms) },
	{ "port", set_port, offsetof(struct prof_world, port) },
	{ "workers", set_u32, offsetof(struct prof_world, workers) },
	{ "timeouts", set_map, 0, timeouts_keys },
	{ "max_errors", set_u32, offsetof(struct prof_world, max_errors), NULL,
	    LD_NONZERO },
	{ "event_log", set_event_log, 0 },
	{ "servers", set_servers, 0, NULL, LD_REQUIRED },
	{ "senders", set_map, 0, senders_keys },
	{ "blocklist", set_blocklist, 0 },
	{ "recipients", set_map, 0, recipients_keys },
	{ NULL }
};

#define ST(s)		(1u << SIM_STAGE_##s)
#define ST_ANY		(ST(CONNECT) | ST(EHLO) | ST(MAIL) | ST(RCPT) | \
			    ST(DATA) | ST(EOD))
#define ST_FROM_MAIL	(ST(MAIL) | ST(RCPT) | ST(DATA) | ST(EOD))
#define FACT_IP		"the client IP is known from connect"
#define FACT_DOMAIN	"the sender domain is known from mail"
#define FACT_RCPT	"the recipient is known from rcpt"

/* Earliest stage at which the facts behind each policy kind exist. */
static const struct ld_stage_rule stage_rules[SIM_RK__COUNT] = {
	[SIM_RK_CONN_LIMIT] = { ST_ANY, FACT_IP },
	[SIM_RK_CONN_RATE] = { ST_ANY, FACT_IP },
	[SIM_RK_BLOCKLIST] = { ST_ANY, FACT_IP },
	[SIM_RK_REP_TEMP] = { ST_ANY, FACT_IP },
	[SIM_RK_REP_BLOCK] = { ST_ANY, FACT_IP },
	[SIM_RK_WARMUP] = { ST_ANY, FACT_IP },
	[SIM_RK_DAILY_CAP] = { ST_ANY, FACT_IP },
	[SIM_RK_RATE_IP] = { ST_ANY, FACT_IP },
	[SIM_RK_RATE_DOMAIN] = { ST_FROM_MAIL, FACT_DOMAIN },
	[SIM_RK_AUTH_MISSING] = { ST_FROM_MAIL, FACT_DOMAIN },
	[SIM_RK_AUTH_BLOCK] = { ST_FROM_MAIL, FACT_DOMAIN },
	[SIM_RK_CONN_MESSAGES] = { ST(MAIL) | ST(DATA) | ST(EOD),
	    "a new message starts at mail" },
	[SIM_RK_RATE_RECIPIENT] = { ST(RCPT), FACT_RCPT },
	[SIM_RK_USER_UNKNOWN] = { ST(RCPT), FACT_RCPT },
	[SIM_RK_RCPTS_TOO_MANY] = { ST(RCPT),
	    "recipients are counted from rcpt" },
	[SIM_RK_SIZE] = { ST(MAIL) | ST(EOD),
	    "the size is known from mail (SIZE=) or eod" },
};

/* EHLO extensions mxsim implements (SIZE comes from max_message_size). */
static const char *const known_ext[] = {
	"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"
};

/* Placeholders smtp_reply_expand() knows. */
static const char *const known_vars[] = {
	"ip", "netblock", "host", "mx", "session", "domain", "addr",
	"rcpt_domain", "size", "limit", "helo"
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* xrealloc - realloc that aborts when out of memory */
static void *
xrealloc(void *p, size_t n)
{
	void *q;

	if ((q = realloc(p, n == 0 ? 1 : n)) == NULL)
		abort();
	return q;
}

/* xstrdup - strdup that aborts when out of memory */
static char *
xstrdup(const char *s)
{
	char *d;

	if ((d = strdup(s)) == NULL)
		abort();
	return d;
}

/* ld_path - dir/name+ext; dir NULL is the current directory */
static char *
ld_path(const char *dir, const char *name, const char *ext)
{
	char *a, *b;

	if (*name == '/' || dir == NULL)
		return xjoin(name, ext, "");
	a = xjoin(dir, "/", name);
	b = xjoin(a, ext, "");
	free(a);
	return b;
}

/* xjoin - concatenate three strings into a new one */
static char *
xjoin(const char *a, const char *b, const char *c)
{
	size_t la, lb, lc;
	char *d;

	la = strlen(a);
	lb = strlen(b);
	lc = strlen(c);
	d = xrealloc(NULL, la + lb + lc + 1);
	memcpy(d, a, la);
	memcpy(d + la, b, lb);
	memcpy(d + la + lb, c, lc + 1);
	return d;
}

/* prof_error_str - "file:line:column: message" */
char *
prof_error_str(const struct prof_error *e, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	if (e->line != 0)
		snprintf(buf, len, "%s:%u:%u: %s", e->file, e->line, e->column,
		    e->msg);
	else
		snprintf(buf, len, "%s: %s", e->file, e->msg);
	return buf;
}

/* ld_err - record an error at a node (NULL: about the whole file) */
static int
ld_err(struct ld *ld, const yaml_node_t *n, const char *fmt, ...)
{
	struct prof_error *e = ld->err;
	va_list ap;

	snprintf(e->file, sizeof(e->file), "%s", ld->file);
	e->line = n == NULL ? 0 : (unsigned)n->start_mark.line + 1;
	e->column = n == NULL ? 0 : (unsigned)n->start_mark.column + 1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ld_got - describe a node for "got ..." (one use per message) */
static const char *
ld_got(struct ld *ld, const yaml_node_t *n)
{
	const char *s;

	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a sequence";
	case YAML_SCALAR_NODE:
		if (ld_is_null(n))
			return "null";
		s = (const char *)n->data.scalar.value;
		snprintf(ld->got, sizeof(ld->got), "\"%.60s%s\"", s,
		    strlen(s) > 60 ? "..." : "");
		return ld->got;
	default:
		return "nothing";
	}
}

/* ld_what - human name of a key path ("" is the whole file) */
static const char *
ld_what(const struct ld *ld, const char *path)
{
	return *path == '\0' ? ld->top : path;
}

/* ld_open - read a single-document YAML file; root is a mapping */
static int
ld_open(struct ld *ld, const char *path, struct prof_error *err,
    const char *top, yaml_node_t **root)
{
	yaml_parser_t parser;
	yaml_document_t extra;
	yaml_node_t *n;
	FILE *fp;
	int rc = 0;

	memset(ld, 0, sizeof(*ld));
	ld->file = path;
	ld->top = top;
	ld->err = err;
	memset(err, 0, sizeof(*err));
	if ((fp = fopen(path, "rb")) == NULL)
		return ld_err(ld, NULL, "cannot open: %s", strerror(errno));
	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input_file(&parser, fp);
	if (!yaml_parser_load(&parser, &ld->doc))
		goto syntax;
	ld->have_doc = true;
	if ((*root = yaml_document_get_root_node(&ld->doc)) == NULL) {
		rc = ld_err(ld, NULL, "empty file (expected a %s mapping)",
		    top);
		goto out;
	}
	if (!yaml_parser_load(&parser, &extra))
		goto syntax;
	n = yaml_document_get_root_node(&extra);
	if (n != NULL)
		rc = ld_err(ld, n, "expected a single YAML document");
	yaml_document_delete(&extra);
	if (rc == 0 && (*root)->type != YAML_MAPPING_NODE)
		rc = ld_err(ld, *root, "expected a %s mapping, got %s", top,
		    ld_got(ld, *root));
	goto out;
syntax:
	err->line = 0;
	if (parser.error == YAML_MEMORY_ERROR)
		abort();
	snprintf(err->file, sizeof(err->file), "%s", path);
	if (parser.error == YAML_READER_ERROR) {
		snprintf(err->msg, sizeof(err->msg),
		    "YAML error: %s at byte %zu", parser.problem,
		    parser.problem_offset);
	} else {
		err->line = (unsigned)parser.problem_mark.line + 1;
		err->column = (unsigned)parser.problem_mark.column + 1;
		snprintf(err->msg, sizeof(err->msg),
		    "YAML syntax error: %s%s%s",
		    parser.problem != NULL ? parser.problem : "unknown",
		    parser.context != NULL ? " " : "",
		    parser.context != NULL ? parser.context : "");
	}
	rc = -EINVAL;
out:
	yaml_parser_delete(&parser);
	fclose(fp);
	return rc;
}

/* ld_close - release the document and scenario scratch state */
static void
ld_close(struct ld *ld)
{
	size_t i;

	if (ld->have_doc)
		yaml_document_delete(&ld->doc);
	ld->have_doc = false;
	if (ld->w != NULL && ld->loaded != NULL)
		for (i = 0; i < ld->w->nprofiles; i++)
			free(ld->loaded[i]);
	free(ld->loaded);
	free(ld->blk);
	free(ld->dir);
}

/* ld_node - node by index */
static yaml_node_t *
ld_node(struct ld *ld, int idx)
{
	yaml_node_t *n;

	if ((n = yaml_document_get_node(&ld->doc, idx)) == NULL)
		abort();
	return n;
}

/* ld_is_null - plain "", "~" or "null" */
static bool
ld_is_null(const yaml_node_t *n)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = (const char *)n->data.scalar.value;
	return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* ld_string - a non-null scalar without NUL bytes */
static int
ld_string(struct ld *ld, yaml_node_t *n, const char **out)
{
	if (n->type != YAML_SCALAR_NODE || ld_is_null(n))
		return ld_err(ld, n, "expected a string, got %s",
		    ld_got(ld, n));
	*out = (const char *)n->data.scalar.value;
	if (strlen(*out) != n->data.scalar.length)
		return ld_err(ld, n, "string contains a NUL byte");
	return 0;
}

/* ld_uint - decimal integer in min..max */
static int
ld_uint(struct ld *ld, yaml_node_t *n, uint64_t min, uint64_t max,
    uint64_t *out)
{
	const char *s;
	uint64_t v = 0;
	unsigned d;

	if (n->type != YAML_SCALAR_NODE || ld_is_null(n))
		goto bad;
	s = (const char *)n->data.scalar.value;
	if (*s == '\0')
		goto bad;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			goto bad;
		d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			goto bad;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	return ld_err(ld, n, "expected an integer %ju..%ju, got %s",
	    (uintmax_t)min, (uintmax_t)max, ld_got(ld, n));
}

/* ld_double - finite number >= lo (> lo when strict) */
static int
ld_double(struct ld *ld, yaml_node_t *n, double lo, bool strict, double *out)
{
	const char *s;
	char *end;
	double v;

	if (n->type != YAML_SCALAR_NODE || ld_is_null(n))
		goto bad;
	s = (const char *)n->data.scalar.value;
	if (*s != '-' && *s != '+' && *s != '.' && (*s < '0' || *s > '9'))
		goto bad;
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0' || errno != 0 || !isfinite(v))
		goto bad;
	if (strict ? v <= lo : v < lo)
		goto bad;
	*out = v;
	return 0;
bad:
	return ld_err(ld, n, "expected a number %s %g, got %s",
	    strict ? ">" : ">=", lo, ld_got(ld, n));
}

/* ld_bool - true or false */
static int
ld_bool(struct ld *ld, yaml_node_t *n, bool *out)
{
	const char *s;

	if (n->type == YAML_SCALAR_NODE && !ld_is_null(n)) {
		s = (const char *)n->data.scalar.value;
		if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
		    strcmp(s, "TRUE") == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 ||
		    strcmp(s, "FALSE") == 0) {
			*out = false;
			return 0;
		}
	}
	return ld_err(ld, n, "expected true or false, got %s", ld_got(ld, n));
}

/* ld_seq - a sequence with at least min items */
static int
ld_seq(struct ld *ld, yaml_node_t *n, const char *path, size_t min)
{
	size_t cnt;

	if (n->type != YAML_SEQUENCE_NODE)
		return ld_err(ld, n, "expected a sequence for %s, got %s", path,
		    ld_got(ld, n));
	cnt = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
	if (cnt < min)
		return ld_err(ld, n, "%s needs at least %zu entr%s", path, min,
		    min == 1 ? "y" : "ies");
	return 0;
}

/* ld_pair_key - key of a mapping pair: a string, not seen before */
static int
ld_pair_key(struct ld *ld, yaml_node_t *map, yaml_node_pair_t *pr,
    const char *path, const char **out)
{
	yaml_node_pair_t *prev;
	yaml_node_t *kn, *pn;

	kn = ld_node(ld, pr->key);
	if (kn->type != YAML_SCALAR_NODE || ld_is_null(kn))
		return ld_err(ld, kn, "expected a key name in %s, got %s",
		    ld_what(ld, path), ld_got(ld, kn));
	*out = (const char *)kn->data.scalar.value;
	for (prev = map->data.mapping.pairs.start; prev < pr; prev++) {
		pn = ld_node(ld, prev->key);
		if (pn->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)pn->data.scalar.value, *out) == 0)
			return ld_err(ld, kn,
			    "duplicate key \"%s\" in %s (first at line %u)",
			    *out, ld_what(ld, path),
			    (unsigned)pn->start_mark.line + 1);
	}
	return 0;
}

/* ld_map - walk a mapping through a key table */
static int
ld_map(struct ld *ld, yaml_node_t *n, const char *path,
    const struct ld_key *keys, void *obj)
{
	yaml_node_pair_t *pr;
	const struct ld_key *k;
	const char *name;
	char sub[160], list[400];
	uint64_t seen = 0;
	size_t i, len;
	int rc;

	if (n->type != YAML_MAPPING_NODE)
		return ld_err(ld, n, "expected a mapping for %s, got %s",
		    ld_what(ld, path), ld_got(ld, n));
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
	    pr++) {
		if ((rc = ld_pair_key(ld, n, pr, path, &name)) != 0)
			return rc;
		for (i = 0, k = keys; k->name != NULL; k++, i++)
			if (strcmp(k->name, name) == 0)
				break;
		if (k->name == NULL) {
			list[0] = '\0';
			for (len = 0, k = keys; k->name != NULL; k++)
				len += (size_t)snprintf(list + len,
				    len < sizeof(list) ? sizeof(list) - len : 0,
				    "%s%s", len == 0 ? "" : ", ", k->name);
			return ld_err(ld, ld_node(ld, pr->key),
			    "unknown key \"%s\" in %s (expected one of: %s)",
			    name, ld_what(ld, path), list);
		}
		seen |= 1ull << i;
		if (*path == '\0')
			snprintf(sub, sizeof(sub), "%s", k->name);
		else
			snprintf(sub, sizeof(sub), "%s.%s", path, k->name);
		rc = k->set(ld, ld_node(ld, pr->value), (char *)obj + k->off, k,
		    sub);
		if (rc != 0)
			return rc;
	}
	for (i = 0, k = keys; k->name != NULL; k++, i++)
		if ((k->flags & LD_REQUIRED) && !(seen & (1ull << i)))
			return ld_err(ld, n,
			    "missing required key \"%s\" in %s", k->name,
			    ld_what(ld, path));
	return 0;
}

/* set_map - nested mapping described by k->sub */
static int
set_map(struct ld *ld, yaml_node_t *n, void *field, const struct ld_key *k,
    const char *path)
{
	return ld_map(ld, n, path, k->sub, field);
}

/* set_node - keep the value node for a later combined check */
static int
set_node(struct ld *ld, yaml_node_t *n, void *field, const struct ld_key *k,
    const char *path)
{
	(void)ld;
	(void)k;
	(void)path;
	*(yaml_node_t **)field = n;
	return 0;
}

/* set_u32 - integer 0..UINT32_MAX (1.. with LD_NONZERO) */
static int
set_u32(struct ld *ld, yaml_node_t *n, void *field, const struct ld_key *k,
    const char *path)
{
	uint64_t v;
	int rc;

	(void)path;
	rc = ld_uint(ld, n, (k->flags & LD_NONZERO) ? 1 : 0, UINT32_MAX, &v);
	if (rc == 0)
		*(uint32_t *)field = (uint32_t)v;
	return rc;
}

/* set_u64 - integer 0..UINT64_MAX */
static int
set_u64(struct ld *ld, yaml_node_t *n, void *field, const struct ld_key *k,
    const char *path)
{
	uint64_t v;
	int rc;

	(void)k;
	(void)path;
	if ((rc = ld_uint(ld, n, 0, UINT64_MAX, &v)) == 0)
		*(uint64_t *)field = v;
	return rc;
}

/* set_nonneg - number >= 0 */
static int
set_nonneg(struct ld *ld, yaml_node_t *n, void *field, const struct ld_key *k,
    const char *path)
{
	(void)k;
	(void)path;
	return ld_double(ld, n, 0.0, false, field);
}

/* set_positive - number > 0 */
static int
set_positive(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	(void)k;
	(void)path;
	return ld_double(ld, n, 0.0, true, field);
}

/* set_atleast1 - number >= 1 (growth and spike factors) */
static int
set_atleast1(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	(void)k;
	(void)path;
	return ld_double(ld, n, 1.0, false, field);
}

/* ld_name_ok - provider name: [a-z0-9_-]+ */
static bool
ld_name_ok(const char *s)
{
	size_t len;

	len = strlen(s);
	if (len == 0 || len > LD_NAME_MAX)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_' || *s == '-'))
			return false;
	return true;
}

/* ld_domain_ok - host or domain name characters, 1..253 bytes */
static bool
ld_domain_ok(const char *s)
{
	size_t len;

	len = strlen(s);
	if (len == 0 || len > 253 || *s == '.' || *s == '-')
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-' &&
		    *s != '_')
			return false;
	return true;
}

/*
 * ld_strlist - sequence of strings into an array the caller owns
 * (counted as they are added, so a failure leaves nothing unowned);
 * how is LD_LIST_* flags.
 */
static int
ld_strlist(struct ld *ld, yaml_node_t *n, const char *path, size_t min,
    unsigned how, char ***arr, size_t *cnt)
{
	yaml_node_item_t *it;
	yaml_node_t *in;
	const char *s;
	char *d, *c;
	size_t i;
	int rc;

	if ((rc = ld_seq(ld, n, path, min)) != 0)
		return rc;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	    it++) {
		in = ld_node(ld, *it);
		if ((rc = ld_string(ld, in, &s)) != 0)
			return rc;
		if (*s == '\0')
			return ld_err(ld, in, "empty string in %s", path);
		if ((how & LD_LIST_HOST) && !ld_domain_ok(s))
			return ld_err(ld, in, "expected a host or domain name "
			    "in %s, got %s", path, ld_got(ld, in));
		d = xstrdup(s);
		for (c = d; (how & LD_LIST_LOWER) && *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
		for (i = 0; i < *cnt; i++)
			if (strcasecmp((*arr)[i], d) == 0) {
				free(d);
				return ld_err(ld, in, "\"%s\" is listed twice "
				    "in %s", s, path);
			}
		*arr = xrealloc(*arr, (*cnt + 1) * sizeof(**arr));
		(*arr)[(*cnt)++] = d;
	}
	return 0;
}

/* ld_template - reply text or trailer: placeholders must be known */
static int
ld_template(struct ld *ld, yaml_node_t *n, const char *s)
{
	const char *p, *q;
	size_t i, len;

	for (p = s; *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n')
			return ld_err(ld, n, "reply text must be one line "
			    "(no CR or LF; long texts are wrapped by "
			    "smtp.wrap)");
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return ld_err(ld, n, "reply text contains a control "
			    "character");
		if (*p != '{')
			continue;
		for (q = p + 1; (*q >= 'a' && *q <= 'z') || *q == '_'; q++)
			;
		if (*q != '}' || q == p + 1)
			continue;
		len = (size_t)(q - p - 1);
		for (i = 0; i < NELEM(known_vars); i++)
			if (strlen(known_vars[i]) == len &&
			    strncmp(known_vars[i], p + 1, len) == 0)
				break;
		if (i == NELEM(known_vars))
			return ld_err(ld, n, "unknown placeholder \"%.*s\" "
			    "(expected one of: {ip}, {netblock}, {host}, {mx}, "
			    "{session}, {domain}, {addr}, {rcpt_domain}, "
			    "{size}, {limit}, {helo})", (int)(len + 2), p);
	}
	return 0;
}

/* set_provider - profile name */
static int
set_provider(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_profile *p = field;
	const char *s;
	int rc;

	(void)k;
	(void)path;
	if ((rc = ld_string(ld, n, &s)) != 0)
		return rc;
	if (!ld_name_ok(s))
		return ld_err(ld, n, "expected a provider name of 1..%d "
		    "characters [a-z0-9_-], got %s", LD_NAME_MAX,
		    ld_got(ld, n));
	free(p->name);
	p->name = xstrdup(s);
	return 0;
}

/* set_domains - recipient domains served, lower case */
static int
set_domains(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_profile *p = field;

	(void)k;
	return ld_strlist(ld, n, path, 0, LD_LIST_HOST | LD_LIST_LOWER,
	    &p->domains, &p->ndomains);
}

/* set_mx_hosts - MX host names, at least one */
static int
set_mx_hosts(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_profile *p = field;

	(void)k;
	return ld_strlist(ld, n, path, 1, LD_LIST_HOST, &p->mx_hosts,
	    &p->nmx_hosts);
}

/* set_extensions - EHLO keywords mxsim implements */
static int
set_extensions(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_profile *p = field;
	yaml_node_item_t *it;
	yaml_node_t *in;
	const char *s;
	size_t i;
	int rc;

	(void)k;
	if ((rc = ld_seq(ld, n, path, 0)) != 0)
		return rc;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	    it++) {
		in = ld_node(ld, *it);
		if ((rc = ld_string(ld, in, &s)) != 0)
			return rc;
		if (strcasecmp(s, "SIZE") == 0)
			return ld_err(ld, in, "extension SIZE is added "
			    "automatically from limits.max_message_size");
		for (i = 0; i < NELEM(known_ext); i++)
			if (strcasecmp(s, known_ext[i]) == 0)
				break;
		if (i == NELEM(known_ext))
			return ld_err(ld, in, "extension %.60s is not "
			    "implemented by mxsim (expected one of: "
			    "PIPELINING, 8BITMIME, ENHANCEDSTATUSCODES)", s);
		s = known_ext[i];
		for (i = 0; i < p->next; i++)
			if (strcmp(p->ext[i], s) == 0)
				return ld_err(ld, in, "extension %s is listed "
				    "twice", s);
		if (p->next >= PROF_MAX_EXT)
			return ld_err(ld, in, "too many extensions");
		p->ext[p->next++] = xstrdup(s);
	}
	return 0;
}

/* set_trailer - template appended to every reply but EHLO */
static int
set_trailer(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_profile *p = field;
	const char *s;
	int rc;

	(void)k;
	(void)path;
	if ((rc = ld_string(ld, n, &s)) != 0)
		return rc;
	if (strlen(s) > 200)
		return ld_err(ld, n, "trailer is longer than 200 characters");
	if ((rc = ld_template(ld, n, s)) != 0)
		return rc;
	free(p->trailer);
	p->trailer = xstrdup(s);
	return 0;
}

/* set_wrap - 0 or LD_WRAP_MIN..LD_WRAP_MAX columns */
static int
set_wrap(struct ld *ld, yaml_node_t *n, void *field, const struct ld_key *k,
    const char *path)
{
	struct prof_profile *p = field;
	uint64_t v;
	int rc;

	(void)k;
	(void)path;
	if ((rc = ld_uint(ld, n, 0, LD_WRAP_MAX, &v)) != 0)
		return rc;
	if (v != 0 && v < LD_WRAP_MIN)
		return ld_err(ld, n, "wrap must be 0 (single line) or %d..%d, "
		    "got %ju", LD_WRAP_MIN, LD_WRAP_MAX, (uintmax_t)v);
	p->wrap = (uint32_t)v;
	return 0;
}

/* set_warmup - warm-up ramp; days > 0 needs first_day > 0 */
static int
set_warmup(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_warmup *wu = field;
	int rc;

	if ((rc = ld_map(ld, n, path, k->sub, field)) != 0)
		return rc;
	if (wu->days > 0 && wu->first_day == 0)
		return ld_err(ld, n, "%s.first_day must be >= 1 when days > 0",
		    path);
	if (wu->growth < 1.0)
		wu->growth = 1.0;
	return 0;
}

/* set_reputation - reputation model; thresholds checked together */
static int
set_reputation(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_reputation *r = field;
	yaml_node_pair_t *pr;
	yaml_node_t *at = n, *kn;
	const char *bad = NULL;
	double v = 0.0;
	int rc;

	if ((rc = ld_map(ld, n, path, k->sub, field)) != 0)
		return rc;
	if (r->initial > r->max) {
		bad = "initial";
		v = r->initial;
	} else if (r->temp_below > r->max) {
		bad = "temp_below";
		v = r->temp_below;
	} else if (r->block_below > r->max) {
		bad = "block_below";
		v = r->block_below;
	}
	if (bad == NULL && (r->temp_below != 0.0 || r->block_below != 0.0) &&
	    r->temp_below <= r->block_below)
		bad = "temp_below";
	if (bad == NULL)
		return 0;
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
	    pr++) {
		kn = ld_node(ld, pr->key);
		if (strcmp((const char *)kn->data.scalar.value, bad) == 0)
			at = ld_node(ld, pr->value);
	}
	if (v != 0.0)
		return ld_err(ld, at, "%s.%s %g is above max %g (scores are "
		    "0..max)", path, bad, v, r->max);
	return ld_err(ld, at, "%s.temp_below (%g) must be above block_below "
	    "(%g)", path, r->temp_below, r->block_below);
}

/* set_replies - reply kind name -> reply entry */
static int
set_replies(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_profile *p = field;
	struct ld_reply rn;
	yaml_node_pair_t *pr;
	yaml_node_t *vn;
	const char *name;
	char sub[96], list[320];
	size_t len;
	int rc, rk, i;

	(void)k;
	if (n->type != YAML_MAPPING_NODE)
		return ld_err(ld, n, "expected a mapping for %s, got %s", path,
		    ld_got(ld, n));
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
	    pr++) {
		if ((rc = ld_pair_key(ld, n, pr, path, &name)) != 0)
			return rc;
		if ((rk = sim_kind_by_name(name)) < 0) {
			/* all names do not fit: policy kinds, then families */
			len = 0;
			list[0] = '\0';
			for (i = SIM_RK__POLICY_FIRST; i <= SIM_RK__POLICY_LAST;
			    i++)
				len += (size_t)snprintf(list + len,
				    len < sizeof(list) ? sizeof(list) - len : 0,
				    "%s%s", len == 0 ? "" : ", ",
				    sim_kind_info(i)->name);
			return ld_err(ld, ld_node(ld, pr->key),
			    "unknown reply kind \"%.60s\" (expected one of: "
			    "%s; or an ok.* or protocol.* kind, see "
			    "profiles/README.md)", name, list);
		}
		snprintf(sub, sizeof(sub), "%s.%s", path, name);
		memset(&rn, 0, sizeof(rn));
		vn = ld_node(ld, pr->value);
		if ((rc = ld_map(ld, vn, sub, reply_keys, &rn)) != 0)
			return rc;
		if ((rc = ld_reply_apply(ld, p, rk, vn, &rn, name)) != 0)
			return rc;
	}
	return 0;
}

/* ld_enhanced - "" or N.N.N, each N 1..3 digits */
static int
ld_enhanced(struct ld *ld, yaml_node_t *n, const char *s)
{
	const char *p = s;
	int part, digits;

	if (*s == '\0')
		return 0;
	for (part = 0; part < 3; part++) {
		for (digits = 0; *p >= '0' && *p <= '9'; p++)
			digits++;
		if (digits < 1 || digits > 3)
			goto bad;
		if (part < 2 && *p++ != '.')
			goto bad;
	}
	if (*p == '\0')
		return 0;
bad:
	return ld_err(ld, n, "expected an enhanced status code like \"4.7.28\" "
	    "(or \"\" for none), got %s", ld_got(ld, n));
}

/* ld_reply_stage - stage of a reply, checked against the kind */
static int
ld_reply_stage(struct ld *ld, enum sim_rk rk, yaml_node_t *n,
    enum sim_stage *out)
{
	const struct sim_kind_info *ki;
	const struct ld_stage_rule *r = &stage_rules[rk];
	char list[96];
	const char *s;
	size_t len;
	int st, i;
	int rc;

	ki = sim_kind_info(rk);
	if ((rc = ld_string(ld, n, &s)) != 0)
		return rc;
	if ((st = sim_stage_by_name(s)) < 0)
		return ld_err(ld, n, "expected a stage (connect, ehlo, mail, "
		    "rcpt, data, eod), got %s", ld_got(ld, n));
	if (rk < SIM_RK__POLICY_FIRST) {
		if ((enum sim_stage)st != ki->stage)
			return ld_err(ld, n, "stage \"%s\" is not valid for %s "
			    "(its stage is fixed: %s)", s, ki->name,
			    sim_stage_name(ki->stage));
		*out = (enum sim_stage)st;
		return 0;
	}
	if (r->mask & (1u << st)) {
		*out = (enum sim_stage)st;
		return 0;
	}
	if (st < SIM_STAGE_OTHER && (r->mask & ((1u << st) - 1)) == 0)
		return ld_err(ld, n, "stage \"%s\" is too early for %s (%s)", s,
		    ki->name, r->fact);
	len = 0;
	list[0] = '\0';
	for (i = 0; i < SIM_STAGE__COUNT; i++)
		if (r->mask & (1u << i))
			len += (size_t)snprintf(list + len,
			    len < sizeof(list) ? sizeof(list) - len : 0, "%s%s",
			    len == 0 ? "" : ", ", sim_stage_name(i));
	return ld_err(ld, n, "stage \"%s\" is not valid for %s (expected one "
	    "of: %s)", s, ki->name, list);
}

/* ld_reply_apply - check one reply entry and store it in the profile */
static int
ld_reply_apply(struct ld *ld, struct prof_profile *p, enum sim_rk rk,
    yaml_node_t *map, const struct ld_reply *rn, const char *name)
{
	struct prof_reply *r = &p->replies[rk];
	const struct sim_kind_info *ki;
	const char *enh = r->enhanced, *text = r->text;
	enum sim_stage stage = r->stage;
	yaml_node_t *at;
	uint64_t code = r->code;
	bool policy, close;
	int rc;

	ki = sim_kind_info(rk);
	policy = rk >= SIM_RK__POLICY_FIRST && rk <= SIM_RK__POLICY_LAST;
	if (policy && (rn->code == NULL || rn->enhanced == NULL ||
	    rn->text == NULL))
		return ld_err(ld, map, "missing required key \"%s\" in "
		    "replies.%s (policy replies need code, enhanced and text)",
		    rn->code == NULL ? "code" : rn->enhanced == NULL ?
		    "enhanced" : "text", name);
	if (rn->code != NULL) {
		if ((rc = ld_uint(ld, rn->code, 200, 599, &code)) != 0)
			return rc;
		if (policy && code < 400)
			return ld_err(ld, rn->code, "code %ju is not valid for "
			    "%s (policy replies need 4xx or 5xx)",
			    (uintmax_t)code, name);
		if (!policy && code / 100 != ki->code / 100)
			return ld_err(ld, rn->code, "code %ju is not valid for "
			    "%s (expected %uxx like its default %u)",
			    (uintmax_t)code, name, ki->code / 100, ki->code);
	}
	if (rn->enhanced != NULL) {
		if ((rc = ld_string(ld, rn->enhanced, &enh)) != 0)
			return rc;
		if ((rc = ld_enhanced(ld, rn->enhanced, enh)) != 0)
			return rc;
	}
	if (*enh != '\0') {
		at = rn->enhanced != NULL ? rn->enhanced : rn->code;
		if (*enh != '2' && *enh != '4' && *enh != '5')
			return ld_err(ld, at, "enhanced code \"%s\" class %c "
			    "is not valid (RFC 3463 classes are 2, 4 and 5)",
			    enh, *enh);
		if ((uint64_t)(*enh - '0') != code / 100)
			return ld_err(ld, at, "enhanced code \"%s\" class %c "
			    "does not match reply code %ju", enh, *enh,
			    (uintmax_t)code);
	}
	if (rn->text != NULL) {
		if ((rc = ld_string(ld, rn->text, &text)) != 0)
			return rc;
		if (*text == '\0')
			return ld_err(ld, rn->text, "reply text must not be "
			    "empty");
		if (strlen(text) > LD_TEXT_MAX)
			return ld_err(ld, rn->text, "reply text is %zu bytes "
			    "(at most %d)", strlen(text), LD_TEXT_MAX);
		if ((rc = ld_template(ld, rn->text, text)) != 0)
			return rc;
	}
	if (rn->stage != NULL &&
	    (rc = ld_reply_stage(ld, rk, rn->stage, &stage)) != 0)
		return rc;
	close = code == 421;
	if (rn->close != NULL) {
		if ((rc = ld_bool(ld, rn->close, &close)) != 0)
			return rc;
		if (code == 421 && !close)
			return ld_err(ld, rn->close, "421 always closes the "
			    "connection (RFC 5321 3.8)");
	}
	/* all checked: store (enh and text may point into the document) */
	if (enh != r->enhanced) {
		free(r->enhanced);
		r->enhanced = xstrdup(enh);
	}
	if (text != r->text) {
		free(r->text);
		r->text = xstrdup(text);
	}
	r->code = (uint16_t)code;
	r->stage = stage;
	r->close = close;
	if (policy)
		r->enabled = true;
	return 0;
}

/* prof_load_profile - load and check one provider profile */
struct prof_profile *
prof_load_profile(const char *path, struct prof_error *err)
{
	struct prof_profile *p = NULL;
	yaml_node_t *root;
	struct ld ld;

	if (ld_open(&ld, path, err, "profile", &root) != 0)
		goto out;
	if ((p = prof_profile_new("")) == NULL)
		abort();
	p->file = xstrdup(path);
	if (ld_map(&ld, root, "", profile_keys, p) != 0) {
		prof_profile_free(p);
		p = NULL;
	}
out:
	ld_close(&ld);
	return p;
}

/* ld_cidr - address block, host bits clear */
static int
ld_cidr(struct ld *ld, yaml_node_t *n, uint32_t *addr, unsigned *prefix)
{
	const char *s;
	uint32_t mask;
	int rc;

	if ((rc = ld_string(ld, n, &s)) != 0)
		return rc;
	if (prof_parse_cidr(s, addr, prefix) != 0)
		return ld_err(ld, n, "expected an IPv4 address or CIDR block "
		    "like 127.1.0.0/24, got %s", ld_got(ld, n));
	mask = *prefix == 0 ? 0 : 0xffffffffu << (32 - *prefix);
	if ((*addr & mask) != *addr)
		return ld_err(ld, n, "%s has host bits set (the block starts "
		    "at %u.%u.%u.%u/%u)", s, (*addr & mask) >> 24,
		    (*addr & mask) >> 16 & 0xff, (*addr & mask) >> 8 & 0xff,
		    *addr & mask & 0xff, *prefix);
	return 0;
}

/* set_start - ISO 8601 UTC time "YYYY-MM-DDTHH:MM:SS[.fff]Z", or null */
static int
set_start(struct ld *ld, yaml_node_t *n, void *field, const struct ld_key *k,
    const char *path)
{
	static const int mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	const char *s;
	int64_t y, mo, d, h, mi, sec, ms = 0, days, era, yoe, doy;
	int i, scale;

	(void)k;
	(void)path;
	if (ld_is_null(n)) {
		*(uint64_t *)field = 0;
		return 0;
	}
	if (n->type != YAML_SCALAR_NODE)
		goto bad;
	s = (const char *)n->data.scalar.value;
	for (i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) :
		    s[i] != shape[i])
			goto bad;
	y = atoi(s);
	mo = atoi(s + 5);
	d = atoi(s + 8);
	h = atoi(s + 11);
	mi = atoi(s + 14);
	sec = atoi(s + 17);
	s += 19;
	if (*s == '.') {
		for (s++, scale = 100, i = 0; isdigit((unsigned char)*s); s++,
		    i++, scale /= 10)
			ms += (*s - '0') * scale;
		if (i == 0)
			goto bad;
	}
	if (strcmp(s, "Z") != 0 || y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    h > 23 || mi > 59 || sec > 59)
		goto bad;
	if (d > mdays[mo - 1] + (mo == 2 && (y % 4 == 0 &&
	    (y % 100 != 0 || y % 400 == 0))))
		goto bad;
	/* days since 1970-01-01 (proleptic Gregorian, March-based years) */
	y -= mo <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
	*(uint64_t *)field = (uint64_t)(((days * 24 + h) * 60 + mi) * 60 +
	    sec) * 1000 + (uint64_t)ms;
	return 0;
bad:
	return ld_err(ld, n, "expected an ISO 8601 UTC time like "
	    "\"2026-01-01T00:00:00Z\", got %s", ld_got(ld, n));
}

/* set_port - TCP port 1..65535 */
static int
set_port(struct ld *ld, yaml_node_t *n, void *field, const struct ld_key *k,
    const char *path)
{
	uint64_t v;
	int rc;

	(void)k;
	(void)path;
	if ((rc = ld_uint(ld, n, 1, 65535, &v)) == 0)
		*(uint16_t *)field = (uint16_t)v;
	return rc;
}

/* set_event_log - JSON Lines path, or null for none */
static int
set_event_log(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_world *w = field;
	const char *s;
	int rc;

	(void)k;
	(void)path;
	free(w->event_log);
	w->event_log = NULL;
	if (ld_is_null(n))
		return 0;
	if ((rc = ld_string(ld, n, &s)) != 0)
		return rc;
	if (*s == '\0')
		return ld_err(ld, n, "event_log must be a path or null");
	w->event_log = xstrdup(s);
	return 0;
}

/* set_auth - pass | fail | none */
static int
set_auth(struct ld *ld, yaml_node_t *n, void *field, const struct ld_key *k,
    const char *path)
{
	const char *s = "";

	(void)k;
	(void)path;
	if (n->type == YAML_SCALAR_NODE && !ld_is_null(n))
		s = (const char *)n->data.scalar.value;
	if (strcmp(s, "pass") == 0)
		*(enum prof_auth *)field = PROF_AUTH_PASS;
	else if (strcmp(s, "fail") == 0)
		*(enum prof_auth *)field = PROF_AUTH_FAIL;
	else if (strcmp(s, "none") == 0)
		*(enum prof_auth *)field = PROF_AUTH_NONE;
	else
		return ld_err(ld, n, "expected pass, fail or none, got %s",
		    ld_got(ld, n));
	return 0;
}

/*
 * set_sender_domains - domain -> {spf, dkim, dmarc}; omitted fields take
 * the built-in default (pass, pass, none), whatever senders.default says.
 */
static int
set_sender_domains(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_world *w = field;
	struct prof_sender *sd;
	yaml_node_pair_t *pr;
	yaml_node_t *kn;
	const char *name;
	char sub[300], *c;
	size_t i;
	int rc;

	if (n->type != YAML_MAPPING_NODE)
		return ld_err(ld, n, "expected a mapping for %s, got %s", path,
		    ld_got(ld, n));
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
	    pr++) {
		if ((rc = ld_pair_key(ld, n, pr, path, &name)) != 0)
			return rc;
		kn = ld_node(ld, pr->key);
		if (!ld_domain_ok(name))
			return ld_err(ld, kn, "expected a domain name in %s, "
			    "got %s", path, ld_got(ld, kn));
		for (i = 0; i < w->nsenders; i++)
			if (strcasecmp(w->senders[i].domain, name) == 0)
				return ld_err(ld, kn, "sender domain \"%s\" is "
				    "listed twice", name);
		w->senders = xrealloc(w->senders,
		    (w->nsenders + 1) * sizeof(*w->senders));
		sd = &w->senders[w->nsenders++];
		sd->domain = xstrdup(name);
		for (c = sd->domain; *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
		sd->spf = PROF_AUTH_PASS;
		sd->dkim = PROF_AUTH_PASS;
		sd->dmarc = PROF_AUTH_NONE;
		snprintf(sub, sizeof(sub), "%s.%s", path, sd->domain);
		if ((rc = ld_map(ld, ld_node(ld, pr->value), sub, k->sub,
		    sd)) != 0)
			return rc;
	}
	return 0;
}

/* set_blocklist - client CIDRs */
static int
set_blocklist(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_world *w = field;
	yaml_node_item_t *it;
	unsigned prefix;
	uint32_t addr;
	int rc;

	(void)k;
	if ((rc = ld_seq(ld, n, path, 0)) != 0)
		return rc;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	    it++) {
		if ((rc = ld_cidr(ld, ld_node(ld, *it), &addr, &prefix)) != 0)
			return rc;
		w->blocklist = xrealloc(w->blocklist,
		    (w->nblocklist + 1) * sizeof(*w->blocklist));
		w->blocklist[w->nblocklist].addr = addr;
		w->blocklist[w->nblocklist].mask = prefix == 0 ? 0 :
		    0xffffffffu << (32 - prefix);
		w->nblocklist++;
	}
	return 0;
}

/* set_unknown - fnmatch patterns of unknown recipients, lower case */
static int
set_unknown(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_world *w = field;

	(void)k;
	return ld_strlist(ld, n, path, 0, LD_LIST_LOWER, &w->unknown_rcpts,
	    &w->nunknown_rcpts);
}

/* ld_profile_ref - resolve, load (once) and index a servers[].profile */
static int
ld_profile_ref(struct ld *ld, yaml_node_t *n, uint32_t *idx)
{
	struct prof_world *w = ld->w;
	struct prof_profile *p;
	char *path = NULL, *real;
	const char *s;
	size_t i, len;
	int rc;

	if ((rc = ld_string(ld, n, &s)) != 0)
		return rc;
	len = strlen(s);
	if (strchr(s, '/') != NULL ||
	    (len > 5 && strcmp(s + len - 5, ".yaml") == 0)) {
		path = ld_path(ld->dir, s, "");
		if (access(path, R_OK) != 0) {
			rc = ld_err(ld, n, "cannot open profile %s: %s", path,
			    strerror(errno));
			free(path);
			return rc;
		}
	} else {
		if (!ld_name_ok(s))
			return ld_err(ld, n, "expected a profile name "
			    "[a-z0-9_-] or a path ending in .yaml, got %s",
			    ld_got(ld, n));
		path = ld_path(ld->dir, s, ".yaml");
		if (access(path, R_OK) != 0 && ld->datadir != NULL) {
			free(path);
			path = ld_path(ld->datadir, s, ".yaml");
		}
		if (access(path, R_OK) != 0) {
			free(path);
			return ld_err(ld, n, "unknown profile \"%s\" (no "
			    "%s.yaml beside the scenario%s%s)", s, s,
			    ld->datadir != NULL ? " or in " : "",
			    ld->datadir != NULL ? ld->datadir : "");
		}
	}
	if ((real = realpath(path, NULL)) == NULL)
		real = xstrdup(path);
	for (i = 0; i < w->nprofiles; i++)
		if (strcmp(ld->loaded[i], real) == 0) {
			free(real);
			free(path);
			*idx = (uint32_t)i;
			return 0;
		}
	if (w->nprofiles >= PROF_MAX_PROFILES) {
		free(real);
		free(path);
		return ld_err(ld, n, "too many profiles (at most %d)",
		    PROF_MAX_PROFILES);
	}
	/* the profile's own errors name its file, line and column */
	if ((p = prof_load_profile(path, ld->err)) == NULL) {
		free(real);
		free(path);
		return -EINVAL;
	}
	for (i = 0; i < w->nprofiles; i++)
		if (strcmp(w->profiles[i]->name, p->name) == 0) {
			rc = ld_err(ld, n, "provider \"%s\" of %s is already "
			    "defined by %s", p->name, path,
			    w->profiles[i]->file);
			prof_profile_free(p);
			free(real);
			free(path);
			return rc;
		}
	free(path);
	ld->loaded = xrealloc(ld->loaded,
	    (w->nprofiles + 1) * sizeof(*ld->loaded));
	ld->loaded[w->nprofiles] = real;
	if ((rc = prof_world_add_profile(w, p)) < 0)
		abort();	/* room was checked above */
	*idx = (uint32_t)rc;
	return 0;
}

/* ld_add_block - serve one CIDR with a profile; blocks must not overlap */
static int
ld_add_block(struct ld *ld, yaml_node_t *n, size_t server, uint32_t profile)
{
	struct prof_world *w = ld->w;
	const struct prof_block *b;
	struct ld_blk *o;
	uint32_t addr, mask;
	unsigned prefix;
	size_t i;
	int rc;

	if ((rc = ld_cidr(ld, n, &addr, &prefix)) != 0)
		return rc;
	mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
	for (i = 0; i < w->nblocks; i++) {
		b = &w->blocks[i];
		if ((addr & b->mask & mask) != (b->addr & b->mask & mask))
			continue;
		o = &ld->blk[i];
		return ld_err(ld, n, "address block %s of servers[%zu] (%s) "
		    "overlaps %s of servers[%zu] (%s, line %u)",
		    (const char *)n->data.scalar.value, server,
		    w->profiles[profile]->name, o->cidr, o->server,
		    w->profiles[b->profile]->name, o->line);
	}
	if (prof_world_add_block(w, addr, prefix, profile) != 0)
		abort();	/* prefix and index were checked */
	ld->blk = xrealloc(ld->blk, w->nblocks * sizeof(*ld->blk));
	o = &ld->blk[w->nblocks - 1];
	o->server = server;
	o->line = (unsigned)n->start_mark.line + 1;
	snprintf(o->cidr, sizeof(o->cidr), "%s",
	    (const char *)n->data.scalar.value);
	return 0;
}

/* set_servers - profiles and the address blocks they serve */
static int
set_servers(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct ld_server srv;
	yaml_node_item_t *it, *ai;
	char sub[32], apath[48];
	uint32_t idx = 0;
	size_t i;
	int rc;

	(void)field;
	(void)k;
	if ((rc = ld_seq(ld, n, path, 1)) != 0)
		return rc;
	for (i = 0, it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++, i++) {
		snprintf(sub, sizeof(sub), "servers[%zu]", i);
		memset(&srv, 0, sizeof(srv));
		if ((rc = ld_map(ld, ld_node(ld, *it), sub, server_keys,
		    &srv)) != 0)
			return rc;
		snprintf(apath, sizeof(apath), "%s.addresses", sub);
		if ((rc = ld_seq(ld, srv.addresses, apath, 1)) != 0)
			return rc;
		if ((rc = ld_profile_ref(ld, srv.profile, &idx)) != 0)
			return rc;
		for (ai = srv.addresses->data.sequence.items.start;
		    ai < srv.addresses->data.sequence.items.top; ai++)
			if ((rc = ld_add_block(ld, ld_node(ld, *ai), i,
			    idx)) != 0)
				return rc;
	}
	return 0;
}

/* prof_load_scenario - load a scenario and every profile it names */
struct prof_world *
prof_load_scenario(const char *path, const char *datadir,
    struct prof_error *err)
{
	struct prof_world *w = NULL;
	yaml_node_t *root;
	struct ld ld;
	char *slash;

	if (ld_open(&ld, path, err, "scenario", &root) != 0)
		goto out;
	if ((w = prof_world_new()) == NULL)
		abort();
	w->file = xstrdup(path);
	ld.w = w;
	ld.datadir = datadir;
	/* profiles are relative to the scenario's directory (NULL: cwd) */
	if ((slash = strrchr(path, '/')) != NULL) {
		ld.dir = xstrdup(path);
		ld.dir[slash == path ? 1 : slash - path] = '\0';
	}
	if (ld_map(&ld, root, "", scenario_keys, w) != 0) {
		ld_close(&ld);
		prof_world_free(w);
		return NULL;
	}
out:
	ld_close(&ld);
	return w;
}
