/*
 * DESCRIPTION
 *	Loads one provider profile from YAML.  The profile starts from
 *	prof_profile_new() defaults and the file overrides them through the
 *	key tables below (walked by ld_map() in prof_yaml.c); the limits:
 *	block follows its schema (prof_limits.c, walked by ld_set_limits()),
 *	which the control API shares.  Values are checked as they are
 *	stored; checks that need several keys (reply codes against enhanced
 *	codes and stages, reputation thresholds, warm-up days) run once the
 *	mapping is read.
 *
 *	Every error names the file, the 1-based line and column of the
 *	offending node and what was expected.
 *
 * DIAGNOSTICS
 *	Aborts when out of memory (control plane: see STYLE section 7).
 *	Every other failure is returned as NULL plus a struct prof_error.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "prof_load_priv.h"
#include "sim_policy.h"

#define LD_TEXT_MAX	900	/* bytes of a reply text */
#define LD_TEXT_LINES	8	/* lines of a multi-line reply text */
#define LD_WRAP_MIN	20	/* narrowest useful wrap width */
#define LD_WRAP_MAX	500	/* RFC 5321 reply line limit is 512 */

/* Value nodes of one reply entry, checked together. */
struct ld_reply {
	yaml_node_t	*code;
	yaml_node_t	*enhanced;
	yaml_node_t	*text;
	yaml_node_t	*stage;
	yaml_node_t	*close;
	yaml_node_t	*escalate;
};

/* Value nodes of one escalate entry. */
struct ld_esc {
	yaml_node_t	*to;
	yaml_node_t	*after;
	yaml_node_t	*hours;
	yaml_node_t	*below;
	yaml_node_t	*days;
};

/* Value nodes of one placement rule. */
struct ld_prule {
	yaml_node_t	*name;
	yaml_node_t	*when;
	yaml_node_t	*place;
	yaml_node_t	*category;
	yaml_node_t	*chance;
};

/* Value nodes of a placement section. */
struct ld_placement {
	yaml_node_t	*categories;
	yaml_node_t	*dflt;
	yaml_node_t	*dflt_category;
	yaml_node_t	*rules;
};

/* A rule while its conditions are read: flag keys store their node in
 * `flag` (ld_place_when() reads them back from the mapping). */
struct ld_when {
	struct sim_place_rule r;
	yaml_node_t	*flag;
};

/* Placement conditions written `key: true` (bulk also takes false). */
#define LD_PLACE_FLAGS	(SIM_PLACE_C_SPF | SIM_PLACE_C_DKIM | \
			    SIM_PLACE_C_DMARC | SIM_PLACE_C_UNALIGNED | \
			    SIM_PLACE_C_BULK | SIM_PLACE_C_NO_ONECLICK | \
			    SIM_PLACE_C_LISTUNSUB | SIM_PLACE_C_NO_TLS)

/* A placement condition key and its bit. */
struct ld_flag_cond {
	const char	*name;
	uint32_t	 bit;
};

/* Stages at which a policy kind may answer. */
struct ld_stage_rule {
	unsigned	 mask;		/* 1 << enum sim_stage */
	const char	*fact;		/* "the sender domain is known from "
	    "mail" */
};

/* profile */
static int	 ld_template(struct ld *, yaml_node_t *, const char *);
static int	 set_provider(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_extensions(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_trailer(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_wrap(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_reputation(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 set_greylist(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 ld_text_lines(struct ld *, yaml_node_t *, const char **);
static int	 ld_greylist_check(struct ld *, yaml_node_t *,
		    const struct prof_profile *);
static int	 set_complaints(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 ld_set_removed(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 ld_escalate(struct ld *, enum sim_rk, yaml_node_t *,
		    struct prof_escalate *);
static int	 ld_escalate_check(struct ld *, const struct prof_profile *,
		    yaml_node_t *const *);
static int	 set_replies(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 ld_reply_apply(struct ld *, struct prof_profile *,
		    enum sim_rk, yaml_node_t *, const struct ld_reply *,
		    const char *);
static int	 ld_reply_stage(struct ld *, enum sim_rk, yaml_node_t *,
		    enum sim_stage *);
static int	 ld_enhanced(struct ld *, yaml_node_t *, const char *);
static int	 ld_reply_code(struct ld *, enum sim_rk, yaml_node_t *, bool,
		    uint64_t *);
static int	 ld_reply_enhanced(struct ld *, const struct ld_reply *,
		    uint64_t, const char **);
static int	 ld_reply_text(struct ld *, yaml_node_t *, const char **);
static int	 ld_reply_close(struct ld *, yaml_node_t *, uint64_t, bool *);
static int	 set_placement(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	 ld_place_name(struct ld *, yaml_node_t *, const char *,
		    char *);
static int	 ld_place_cat(struct ld *, const struct sim_place_table *,
		    yaml_node_t *, uint8_t *);
static int	 ld_place_rule(struct ld *, struct sim_place_table *,
		    yaml_node_t *, size_t);
static int	 ld_place_when(struct ld *, struct sim_place_rule *,
		    yaml_node_t *, const char *);

/*
 * Key tables.  Offsets are relative to the object the enclosing mapping
 * fills; a nested mapping (ld_set_map) moves the object by its own offset.
 */
static const struct ld_key penalties_keys[] = {
	{ "user_unknown", ld_set_nonneg,
	    offsetof(struct prof_reputation, pen_user_unknown) },
	{ "auth_fail", ld_set_nonneg,
	    offsetof(struct prof_reputation, pen_auth_fail) },
	{ "spike", ld_set_nonneg, offsetof(struct prof_reputation, pen_spike) },
	{ "rate_limited", ld_set_removed, 0 },
	{ "spam_trap", ld_set_nonneg,
	    offsetof(struct prof_reputation, pen_spam_trap) },
	{ "complaint", ld_set_nonneg,
	    offsetof(struct prof_reputation, pen_complaint) },
	{ NULL }
};

static const struct ld_key complaints_keys[] = {
	{ "warn_rate", ld_set_fraction,
	    offsetof(struct prof_complaints, warn_rate) },
	{ "block_rate", ld_set_fraction,
	    offsetof(struct prof_complaints, block_rate) },
	{ "recovery_days", ld_set_u32,
	    offsetof(struct prof_complaints, recovery_days) },
	{ "min_messages", ld_set_u32,
	    offsetof(struct prof_complaints, min_messages) },
	{ NULL }
};

static const struct ld_key spike_keys[] = {
	{ "factor", ld_set_atleast1,
	    offsetof(struct prof_reputation, spike_factor) },
	{ "min_per_minute", ld_set_u32,
	    offsetof(struct prof_reputation, spike_min) },
	{ NULL }
};

static const struct ld_key reputation_keys[] = {
	{ "initial", ld_set_nonneg, offsetof(struct prof_reputation, initial) },
	{ "max", ld_set_positive, offsetof(struct prof_reputation, max) },
	{ "recover_per_hour", ld_set_nonneg,
	    offsetof(struct prof_reputation, recover_per_hour) },
	{ "temp_below", ld_set_nonneg,
	    offsetof(struct prof_reputation, temp_below) },
	{ "block_below", ld_set_nonneg,
	    offsetof(struct prof_reputation, block_below) },
	{ "penalties", ld_set_map, 0, penalties_keys },
	{ "spike", ld_set_map, 0, spike_keys },
	{ "complaints", set_complaints,
	    offsetof(struct prof_reputation, complaints), complaints_keys },
	{ NULL }
};

static const struct ld_key smtp_keys[] = {
	{ "extensions", set_extensions, 0 },
	{ "trailer", set_trailer, 0 },
	{ "wrap", set_wrap, 0 },
	{ NULL }
};

/* greylist: triplet greylisting (sim_grey.h), simulated seconds */
static const struct ld_key greylist_keys[] = {
	{ "delay", ld_set_u32, offsetof(struct prof_greylist, delay_s), NULL,
	    LD_REQUIRED | LD_NONZERO },
	{ "window", ld_set_u32, offsetof(struct prof_greylist, window_s), NULL,
	    LD_REQUIRED | LD_NONZERO },
	{ "keep", ld_set_u32, offsetof(struct prof_greylist, keep_s), NULL,
	    LD_REQUIRED | LD_NONZERO },
	{ NULL }
};

static const struct ld_key profile_keys[] = {
	{ "provider", set_provider, 0, NULL, LD_REQUIRED },
	LD_STRLIST("domains", struct prof_profile, domains, ndomains,
	    LD_LIST_HOST | LD_LIST_LOWER),
	LD_STRLIST("mx_hosts", struct prof_profile, mx_hosts, nmx_hosts,
	    LD_REQUIRED | LD_NONZERO | LD_LIST_HOST),
	{ "smtp", ld_set_map, 0, smtp_keys },
	{ "limits", ld_set_limits, offsetof(struct prof_profile, limits) },
	{ "reputation", set_reputation, offsetof(struct prof_profile, rep),
	    reputation_keys },
	{ "replies", set_replies, 0 },
	{ "placement", set_placement, offsetof(struct prof_profile, place) },
	{ "submission", prof_ld_set_submission,
	    offsetof(struct prof_profile, submit) },
	{ "greylist", set_greylist, offsetof(struct prof_profile, grey),
	    greylist_keys },
	LD_STRLIST("blocked_extensions", struct prof_profile, blocked_ext,
	    nblocked_ext, LD_LIST_LOWER),
	{ NULL }
};

static const struct ld_key placement_keys[] = {
	{ "categories", ld_set_node, offsetof(struct ld_placement, categories) },
	{ "default", ld_set_node, offsetof(struct ld_placement, dflt) },
	{ "default_category", ld_set_node,
	    offsetof(struct ld_placement, dflt_category) },
	{ "rules", ld_set_node, offsetof(struct ld_placement, rules) },
	{ NULL }
};

static const struct ld_key prule_keys[] = {
	{ "name", ld_set_node, offsetof(struct ld_prule, name), NULL,
	    LD_REQUIRED },
	{ "when", ld_set_node, offsetof(struct ld_prule, when), NULL,
	    LD_REQUIRED },
	{ "place", ld_set_node, offsetof(struct ld_prule, place) },
	{ "category", ld_set_node, offsetof(struct ld_prule, category) },
	{ "chance", ld_set_node, offsetof(struct ld_prule, chance) },
	{ NULL }
};

/* Placement conditions: thresholds (stored in the rule), then flags. */
static const struct ld_key when_keys[] = {
	{ "ip_rep_below", ld_set_nonneg,
	    offsetof(struct ld_when, r.ip_rep_below) },
	{ "domain_rep_below", ld_set_nonneg,
	    offsetof(struct ld_when, r.domain_rep_below) },
	{ "complaint_rate_at_least", ld_set_fraction,
	    offsetof(struct ld_when, r.comp_rate) },
	{ "spam_score_at_least", ld_set_u32,
	    offsetof(struct ld_when, r.spam_score_min) },
	{ "links_at_least", ld_set_u32,
	    offsetof(struct ld_when, r.links_min) },
	{ "new_days_below", ld_set_u32,
	    offsetof(struct ld_when, r.new_days), NULL, LD_NONZERO },
	{ "complaint_status", ld_set_node, offsetof(struct ld_when, flag) },
	{ "bulk", ld_set_node, offsetof(struct ld_when, flag) },
	{ "spf_not_pass", ld_set_node, offsetof(struct ld_when, flag) },
	{ "dkim_not_pass", ld_set_node, offsetof(struct ld_when, flag) },
	{ "dmarc_not_pass", ld_set_node, offsetof(struct ld_when, flag) },
	{ "unaligned", ld_set_node, offsetof(struct ld_when, flag) },
	{ "no_one_click", ld_set_node, offsetof(struct ld_when, flag) },
	{ "list_unsubscribe", ld_set_node, offsetof(struct ld_when, flag) },
	{ "no_tls", ld_set_node, offsetof(struct ld_when, flag) },
	{ NULL }
};

/* when_keys names -> condition bit (threshold keys first, same order). */
static const struct ld_flag_cond when_bits[] = {
	{ "ip_rep_below", SIM_PLACE_C_IP_REP },
	{ "domain_rep_below", SIM_PLACE_C_DOMAIN_REP },
	{ "complaint_rate_at_least", SIM_PLACE_C_COMP_RATE },
	{ "spam_score_at_least", SIM_PLACE_C_SPAM_SCORE },
	{ "links_at_least", SIM_PLACE_C_LINKS },
	{ "new_days_below", SIM_PLACE_C_NEW },
	{ "complaint_status", SIM_PLACE_C_COMP_STATUS },
	{ "bulk", SIM_PLACE_C_BULK },
	{ "spf_not_pass", SIM_PLACE_C_SPF },
	{ "dkim_not_pass", SIM_PLACE_C_DKIM },
	{ "dmarc_not_pass", SIM_PLACE_C_DMARC },
	{ "unaligned", SIM_PLACE_C_UNALIGNED },
	{ "no_one_click", SIM_PLACE_C_NO_ONECLICK },
	{ "list_unsubscribe", SIM_PLACE_C_LISTUNSUB },
	{ "no_tls", SIM_PLACE_C_NO_TLS },
	{ NULL, 0 }
};

static const struct ld_key reply_keys[] = {
	{ "code", ld_set_node, offsetof(struct ld_reply, code) },
	{ "enhanced", ld_set_node, offsetof(struct ld_reply, enhanced) },
	{ "text", ld_set_node, offsetof(struct ld_reply, text) },
	{ "stage", ld_set_node, offsetof(struct ld_reply, stage) },
	{ "close", ld_set_node, offsetof(struct ld_reply, close) },
	{ "escalate", ld_set_node, offsetof(struct ld_reply, escalate) },
	{ NULL }
};

static const struct ld_key escalate_keys[] = {
	{ "to", ld_set_node, offsetof(struct ld_esc, to), NULL, LD_REQUIRED },
	{ "after", ld_set_node, offsetof(struct ld_esc, after) },
	{ "hours", ld_set_node, offsetof(struct ld_esc, hours) },
	{ "below", ld_set_node, offsetof(struct ld_esc, below) },
	{ "days", ld_set_node, offsetof(struct ld_esc, days) },
	{ NULL }
};

#define ST(s)		(1u << SIM_STAGE_##s)
#define ST_ANY		(ST(CONNECT) | ST(EHLO) | ST(MAIL) | ST(RCPT) | \
			    ST(DATA) | ST(EOD))
#define ST_FROM_MAIL	(ST(MAIL) | ST(RCPT) | ST(DATA) | ST(EOD))
#define ST_FROM_EHLO	(ST(EHLO) | ST_FROM_MAIL)
#define FACT_EOD	"headers, body and DKIM are known at eod"
#define FACT_IP		"the client IP is known from connect"
#define FACT_DOMAIN	"the sender domain is known from mail"
#define FACT_RCPT	"the recipient is known from rcpt"

/* Earliest stage at which the facts behind each policy kind exist. */
static const struct ld_stage_rule stage_rules[SIM_RK__COUNT] = {
	[SIM_RK_OUTAGE] = { ST(CONNECT), "an outage refuses connections" },
	[SIM_RK_CONN_LIMIT] = { ST(CONNECT) | ST(EHLO), "connections are "
	    "counted at connect (ehlo: decided at connect, answered to "
	    "EHLO/HELO after the greeting)" },
	[SIM_RK_CONN_RATE] = { ST(CONNECT), "connections are counted at "
	    "connect" },
	[SIM_RK_BLOCKLIST] = { ST_ANY, FACT_IP },
	[SIM_RK_REP_TEMP] = { ST_ANY, FACT_IP },
	[SIM_RK_REP_BLOCK] = { ST_ANY, FACT_IP },
	[SIM_RK_WARMUP] = { ST_ANY, FACT_IP },
	[SIM_RK_DAILY_CAP] = { ST_ANY, FACT_IP },
	[SIM_RK_RATE_IP] = { ST_ANY, FACT_IP },
	[SIM_RK_RATE_DOMAIN] = { ST_FROM_MAIL, FACT_DOMAIN },
	[SIM_RK_AUTH_MISSING] = { ST_FROM_MAIL, FACT_DOMAIN },
	[SIM_RK_REP_DOMAIN_TEMP] = { ST_FROM_MAIL, FACT_DOMAIN },
	[SIM_RK_AUTH_BLOCK] = { ST_FROM_MAIL, FACT_DOMAIN },
	[SIM_RK_CONN_MESSAGES] = { ST(MAIL) | ST(DATA) | ST(EOD),
	    "a new message starts at mail" },
	[SIM_RK_RATE_RECIPIENT] = { ST(RCPT), FACT_RCPT },
	[SIM_RK_USER_UNKNOWN] = { ST(RCPT), FACT_RCPT },
	[SIM_RK_USER_INACTIVE] = { ST(RCPT), FACT_RCPT },
	[SIM_RK_USER_FULL] = { ST(RCPT), FACT_RCPT },
	[SIM_RK_TLS_REQUIRED] = { ST(RCPT), FACT_RCPT },
	[SIM_RK_RCPTS_TOO_MANY] = { ST(RCPT),
	    "recipients are counted from rcpt" },
	[SIM_RK_SIZE] = { ST(MAIL) | ST(EOD),
	    "the size is known from mail (SIZE=) or eod" },
	[SIM_RK_AUTH_SPF_FAIL] = { ST_FROM_MAIL, "SPF is known from mail" },
	[SIM_RK_AUTH_SPF_SUSPICIOUS] = { ST_FROM_MAIL,
	    "the SPF record is known from mail" },
	[SIM_RK_AUTH_DMARC_REJECT] = { ST(EOD), FACT_EOD },
	[SIM_RK_AUTH_DMARC_TEMP] = { ST(EOD), FACT_EOD },
	[SIM_RK_AUTH_HIGH_VOLUME] = { ST(EOD), FACT_EOD },
	[SIM_RK_BULK_SPF] = { ST_FROM_MAIL, "SPF is known from mail" },
	[SIM_RK_BULK_SPF_BLOCK] = { ST_FROM_MAIL, "SPF is known from mail" },
	[SIM_RK_BULK_DKIM] = { ST(EOD), FACT_EOD },
	[SIM_RK_BULK_DKIM_BLOCK] = { ST(EOD), FACT_EOD },
	[SIM_RK_BULK_DMARC] = { ST(EOD), FACT_EOD },
	[SIM_RK_BULK_DMARC_BLOCK] = { ST(EOD), FACT_EOD },
	[SIM_RK_BULK_ALIGN] = { ST(EOD), FACT_EOD },
	[SIM_RK_BULK_ALIGN_BLOCK] = { ST(EOD), FACT_EOD },
	[SIM_RK_BULK_TLS] = { ST_FROM_MAIL, FACT_DOMAIN },
	[SIM_RK_BULK_TLS_BLOCK] = { ST_FROM_MAIL, FACT_DOMAIN },
	[SIM_RK_BULK_UNSUB] = { ST(EOD), FACT_EOD },
	[SIM_RK_MSGID_MISSING] = { ST(EOD), FACT_EOD },
	[SIM_RK_FROM_MISSING] = { ST(EOD), FACT_EOD },
	[SIM_RK_HOPS] = { ST(EOD), FACT_EOD },
	[SIM_RK_ATTACHMENTS] = { ST(EOD), FACT_EOD },
	[SIM_RK_HEADER_SIZE] = { ST(EOD), FACT_EOD },
	[SIM_RK_CONTENT_SPAM] = { ST(EOD), FACT_EOD },
	[SIM_RK_CONTENT_LINKS] = { ST(EOD), FACT_EOD },
	[SIM_RK_COMPLAINT_TEMP] = { ST_FROM_MAIL, FACT_DOMAIN },
	[SIM_RK_COMPLAINT_BLOCK] = { ST_FROM_MAIL, FACT_DOMAIN },
	[SIM_RK_RATE_NETBLOCK] = { ST_ANY, FACT_IP },
	[SIM_RK_RATE_HELO] = { ST_FROM_EHLO, "the EHLO name is known from "
	    "ehlo" },
	[SIM_RK_RATE_DKIM] = { ST(EOD), FACT_EOD },
	[SIM_RK_RATE_URL] = { ST(EOD), FACT_EOD },
	[SIM_RK_MSGID_RATE] = { ST(EOD), FACT_EOD },
	[SIM_RK_RATE_BLOCK] = { ST_ANY, FACT_IP },
	[SIM_RK_RATE_RCPT_BLOCK] = { ST(RCPT), FACT_RCPT },
	[SIM_RK_RCPT_DOMAINS] = { ST(RCPT) | ST(EOD), FACT_RCPT },
	[SIM_RK_PTR_MISSING] = { ST_ANY, FACT_IP },
	[SIM_RK_PTR_BLOCK] = { ST_ANY, FACT_IP },
	[SIM_RK_GREYLIST] = { ST(RCPT), "the (IP, sender, recipient) triplet "
	    "is known from rcpt" },
	[SIM_RK_CLIENT_DIALUP] = { ST_ANY, FACT_IP },
	[SIM_RK_CLIENT_NOREP] = { ST_ANY, FACT_IP },
	[SIM_RK_IPV6_PTR] = { ST_ANY, FACT_IP },
	[SIM_RK_IPV6_AUTH] = { ST(EOD), FACT_EOD },
	[SIM_RK_IPV6_REFUSED] = { ST(RCPT), FACT_RCPT },
	[SIM_RK_RATE_PAIR] = { ST(RCPT), FACT_RCPT },
	[SIM_RK_HELO_BAD] = { ST_FROM_EHLO, "the EHLO name is known from "
	    "ehlo" },
	[SIM_RK_SENDER_UNRESOLVABLE] = { ST_FROM_MAIL, FACT_DOMAIN },
	[SIM_RK_HELO_LISTED] = { ST_FROM_EHLO, "the EHLO name is known from "
	    "ehlo" },
	[SIM_RK_CONTENT_LISTED] = { ST(EOD), FACT_EOD },
	[SIM_RK_USER_MOVED] = { ST(RCPT), FACT_RCPT },
	[SIM_RK_CONTENT_MALFORMED] = { ST(EOD), FACT_EOD },
	[SIM_RK_CONTENT_FILETYPE] = { ST(EOD), FACT_EOD },
	[SIM_RK_STARTTLS_PIPELINED] = { ST(OTHER), "answered by the session "
	    "to STARTTLS" },
	[SIM_RK_HELO_CHANGES] = { ST(EHLO), "the client's EHLO names are "
	    "counted at ehlo" },
};

/* EHLO extensions mxsim implements (SIZE comes from max_message_size). */
static const char *const known_ext[] = {
	"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "STARTTLS"
};

/* Placeholders smtp_reply_expand() knows. */
static const char *const known_vars[] = {
	"ip", "netblock", "host", "mx", "session", "domain", "addr",
	"rcpt_domain", "size", "limit", "helo", "from_domain", "dkim_domain"
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

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
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
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
			    "{size}, {limit}, {helo}, {from_domain}, "
			    "{dkim_domain})", (int)(len + 2), p);
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
	p->name = ld_xstrdup(s);
	return 0;
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
		p->ext[p->next++] = ld_xstrdup(s);
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
	p->trailer = ld_xstrdup(s);
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

/* set_complaints - complaint model; warn_rate <= block_rate */
static int
set_complaints(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_complaints *c = field;
	int rc;

	if ((rc = ld_map(ld, n, path, k->sub, field)) != 0)
		return rc;
	if (c->warn_rate > 0 && c->block_rate > 0 &&
	    c->warn_rate > c->block_rate)
		return ld_err(ld, n, "%s.warn_rate (%g) must not be above "
		    "block_rate (%g)", path, c->warn_rate, c->block_rate);
	return 0;
}

/* ld_set_removed - a key the schema no longer has: say why */
static int
ld_set_removed(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	(void)field;
	(void)k;
	return ld_err(ld, n, "%s was removed: a rate-limited, warm-up or "
	    "per-recipient reply costs no reputation (providers lower it for "
	    "complaints, unknown users, spam traps, failed authentication and "
	    "volume spikes: the other penalties); delete the key", path);
}

/* ld_escalate - {to, after, hours, below, days}: the ladder of one reply */
static int
ld_escalate(struct ld *ld, enum sim_rk rk, yaml_node_t *n,
    struct prof_escalate *out)
{
	struct ld_esc en;
	const char *s;
	uint64_t after = 0, hours = 0, days = 0;
	double below = 0;
	int rc, to;

	memset(&en, 0, sizeof(en));
	if ((rc = ld_map(ld, n, "escalate", escalate_keys, &en)) != 0)
		return rc;
	if ((rc = ld_string(ld, en.to, &s)) != 0)
		return rc;
	to = sim_kind_by_name(s);
	if (to < SIM_RK__POLICY_FIRST || to > SIM_RK__POLICY_LAST ||
	    to == SIM_RK_OUTAGE)
		return ld_err(ld, en.to, "escalate.to must name a policy reply "
		    "kind other than outage, got %s", ld_got(ld, en.to));
	if ((enum sim_rk)to == rk)
		return ld_err(ld, en.to, "a reply cannot escalate to itself");
	if (en.hours != NULL && ld_uint(ld, en.hours, 1, PROF_ESC_MAX_HOURS,
	    &hours) != 0)
		return ld_err(ld, en.hours, "escalate.hours (simulated clock "
		    "hours in a row) must be an integer 1..%d, got %s",
		    PROF_ESC_MAX_HOURS, ld_got(ld, en.hours));
	if (en.hours != NULL && en.after == NULL)
		return ld_err(ld, en.hours, "escalate.hours needs \"after\" "
		    "(refusals in each of those hours)");
	if (en.hours != NULL && ld_uint(ld, en.after, 1, PROF_ESC_MAX_HOURLY,
	    &after) != 0)
		return ld_err(ld, en.after, "escalate.after with hours "
		    "(refusals in an hour) must be an integer 1..%d, got %s",
		    PROF_ESC_MAX_HOURLY, ld_got(ld, en.after));
	if (en.hours == NULL && en.after != NULL &&
	    (rc = ld_uint(ld, en.after, 1, UINT32_MAX, &after)) != 0)
		return rc;
	if (en.below != NULL &&
	    (rc = ld_set_nonneg(ld, en.below, &below, NULL, "below")) != 0)
		return rc;
	if (en.days != NULL &&
	    (rc = ld_uint(ld, en.days, 1, 365, &days)) != 0)
		return rc;
	if (en.after == NULL && en.below == NULL)
		return ld_err(ld, n, "escalate needs \"after\" (refusals a "
		    "day, or an hour with \"hours\") or \"below\" "
		    "(reputation score), or both");
	out->to = (enum sim_rk)to;
	out->after = (uint32_t)after;
	out->hours = (uint32_t)hours;
	out->below = below;
	out->days = (uint32_t)days;
	return 0;
}

/* ld_escalate_check - every ladder names a reply the profile enables */
static int
ld_escalate_check(struct ld *ld, const struct prof_profile *p,
    yaml_node_t *const *at)
{
	const struct prof_reply *r;
	int rk;

	for (rk = SIM_RK__POLICY_FIRST; rk <= SIM_RK__POLICY_LAST; rk++) {
		r = &p->replies[rk];
		if (at[rk] == NULL || r->esc.to == 0)
			continue;
		if (!sim_policy_counted((enum sim_rk)rk))
			return ld_err(ld, at[rk], "%s cannot escalate: its "
			    "refusals are not counted on any identity (it "
			    "needs no state), so the ladder would never climb",
			    sim_kind_info(rk)->name);
		if (!p->replies[r->esc.to].enabled)
			return ld_err(ld, at[rk], "escalate.to %s is not a "
			    "reply of this profile (add replies.%s)",
			    sim_kind_info(r->esc.to)->name,
			    sim_kind_info(r->esc.to)->name);
		if (p->replies[r->esc.to].esc.to != 0)
			return ld_err(ld, at[rk], "escalate.to %s escalates "
			    "itself; ladders have one step",
			    sim_kind_info(r->esc.to)->name);
	}
	return 0;
}

/* set_replies - reply kind name -> reply entry */
static int
set_replies(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_profile *p = field;
	yaml_node_t *esc_at[SIM_RK__COUNT] = { NULL };
	struct ld_reply rn;
	yaml_node_pair_t *pr;
	yaml_node_t *vn;
	const char *name;
	char sub[96], list[320];
	size_t len;
	int rc, rk, i;

	(void)k;
	for (pr = NULL; (rc = ld_next_pair(ld, n, path, &pr, &name)) == 0 &&
	    pr != NULL;) {
		if ((rk = sim_kind_by_name(name)) < 0) {
			/* all names do not fit: policy kinds, then families */
			len = 0;
			list[0] = '\0';
			for (i = SIM_RK__POLICY_FIRST; i <= SIM_RK__POLICY_LAST &&
			    len < sizeof(list) - 40; i++)
				len += (size_t)snprintf(list + len,
				    sizeof(list) - len, "%s%s",
				    len == 0 ? "" : ", ",
				    sim_kind_info(i)->name);
			if (i <= SIM_RK__POLICY_LAST)
				snprintf(list + len, sizeof(list) - len,
				    ", ...");
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
		esc_at[rk] = rn.escalate;
	}
	return rc != 0 ? rc : ld_escalate_check(ld, p, esc_at);
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

/* ld_reply_code - 200..599; 4xx or 5xx for a policy kind, else the
 * class of the kind's default */
static int
ld_reply_code(struct ld *ld, enum sim_rk rk, yaml_node_t *n, bool policy,
    uint64_t *code)
{
	const struct sim_kind_info *ki = sim_kind_info(rk);
	int rc;

	if ((rc = ld_uint(ld, n, 200, 599, code)) != 0)
		return rc;
	if (policy && *code < 400)
		return ld_err(ld, n, "code %ju is not valid for %s (policy "
		    "replies need 4xx or 5xx)", (uintmax_t)*code, ki->name);
	if (!policy && *code / 100 != ki->code / 100)
		return ld_err(ld, n, "code %ju is not valid for %s (expected "
		    "%uxx like its default %u)", (uintmax_t)*code, ki->name,
		    ki->code / 100, ki->code);
	return 0;
}

/* ld_reply_enhanced - the enhanced code (given, or kept): its class is
 * 2, 4 or 5 and the reply code's; reported at the code when not given */
static int
ld_reply_enhanced(struct ld *ld, const struct ld_reply *rn, uint64_t code,
    const char **enh)
{
	yaml_node_t *at;
	int rc;

	if (rn->enhanced != NULL &&
	    ((rc = ld_string(ld, rn->enhanced, enh)) != 0 ||
	    (rc = ld_enhanced(ld, rn->enhanced, *enh)) != 0))
		return rc;
	if (**enh == '\0')
		return 0;
	at = rn->enhanced != NULL ? rn->enhanced : rn->code;
	if (**enh != '2' && **enh != '4' && **enh != '5')
		return ld_err(ld, at, "enhanced code \"%s\" class %c is not "
		    "valid (RFC 3463 classes are 2, 4 and 5)", *enh, **enh);
	if ((uint64_t)(**enh - '0') != code / 100)
		return ld_err(ld, at, "enhanced code \"%s\" class %c does not "
		    "match reply code %ju", *enh, **enh, (uintmax_t)code);
	return 0;
}

/* ld_text_lines - a reply text given as a list of lines (a multi-line
 * reply, GMX's form): 1..LD_TEXT_LINES lines, each checked as a text,
 * joined with LF (smtp_reply.c breaks the reply there).  The joined text
 * lives in ld->lines until the next one or ld_close(); the caller copies
 * it like any text of the document. */
static int
ld_text_lines(struct ld *ld, yaml_node_t *n, const char **text)
{
	yaml_node_item_t *it;
	yaml_node_t *ln;
	const char *s;
	size_t len = 0, l;
	char *buf;
	int rc;

	if ((rc = ld_seq(ld, n, "text", 1)) != 0)
		return rc;
	if (n->data.sequence.items.top - n->data.sequence.items.start >
	    LD_TEXT_LINES)
		return ld_err(ld, n, "a reply text has at most %d lines",
		    LD_TEXT_LINES);
	buf = ld_xrealloc(NULL, LD_TEXT_MAX + 1);
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	    it++) {
		ln = ld_node(ld, *it);
		if ((rc = ld_string(ld, ln, &s)) != 0 ||
		    (rc = ld_template(ld, ln, s)) != 0)
			goto out;
		l = strlen(s);
		if (l == 0 || len + l + (len > 0) > LD_TEXT_MAX) {
			rc = ld_err(ld, ln, l == 0 ? "a reply text line must "
			    "not be empty" : "reply text is over %d bytes",
			    LD_TEXT_MAX);
			goto out;
		}
		if (len > 0)
			buf[len++] = '\n';
		memcpy(buf + len, s, l);
		len += l;
	}
	buf[len] = '\0';
	free(ld->lines);
	ld->lines = buf;
	*text = buf;
	return 0;
out:
	free(buf);
	return rc;
}

/* ld_reply_text - one line of 1..LD_TEXT_MAX bytes, known placeholders;
 * or a list of such lines (ld_text_lines) */
static int
ld_reply_text(struct ld *ld, yaml_node_t *n, const char **text)
{
	int rc;

	if (n->type == YAML_SEQUENCE_NODE)
		return ld_text_lines(ld, n, text);
	if ((rc = ld_string(ld, n, text)) != 0)
		return rc;
	if (**text == '\0')
		return ld_err(ld, n, "reply text must not be empty");
	if (strlen(*text) > LD_TEXT_MAX)
		return ld_err(ld, n, "reply text is %zu bytes (at most %d)",
		    strlen(*text), LD_TEXT_MAX);
	return ld_template(ld, n, *text);
}

/* ld_reply_close - close after the reply; a 421 always does */
static int
ld_reply_close(struct ld *ld, yaml_node_t *n, uint64_t code, bool *close)
{
	int rc;

	*close = code == 421;
	if (n == NULL)
		return 0;
	if ((rc = ld_bool(ld, n, close)) != 0)
		return rc;
	if (code == 421 && !*close)
		return ld_err(ld, n, "421 always closes the connection (RFC "
		    "5321 3.8)");
	return 0;
}

/* ld_reply_apply - check one reply entry and store it in the profile */
static int
ld_reply_apply(struct ld *ld, struct prof_profile *p, enum sim_rk rk,
    yaml_node_t *map, const struct ld_reply *rn, const char *name)
{
	struct prof_reply *r = &p->replies[rk];
	const char *enh = r->enhanced, *text = r->text;
	enum sim_stage stage = r->stage;
	uint64_t code = r->code;
	bool policy, close;
	int rc;

	policy = rk >= SIM_RK__POLICY_FIRST && rk <= SIM_RK__POLICY_LAST;
	if (policy && (rn->code == NULL || rn->enhanced == NULL ||
	    rn->text == NULL))
		return ld_err(ld, map, "missing required key \"%s\" in "
		    "replies.%s (policy replies need code, enhanced and text)",
		    rn->code == NULL ? "code" : rn->enhanced == NULL ?
		    "enhanced" : "text", name);
	if ((rn->code != NULL &&
	    (rc = ld_reply_code(ld, rk, rn->code, policy, &code)) != 0) ||
	    (rc = ld_reply_enhanced(ld, rn, code, &enh)) != 0 ||
	    (rn->text != NULL &&
	    (rc = ld_reply_text(ld, rn->text, &text)) != 0) ||
	    (rn->stage != NULL &&
	    (rc = ld_reply_stage(ld, rk, rn->stage, &stage)) != 0))
		return rc;
	if (rn->escalate != NULL) {
		if (!policy)
			return ld_err(ld, rn->escalate, "only policy replies "
			    "escalate");
		if ((rc = ld_escalate(ld, rk, rn->escalate, &r->esc)) != 0)
			return rc;
	}
	if ((rc = ld_reply_close(ld, rn->close, code, &close)) != 0)
		return rc;
	/* all checked: store (enh and text may point into the document) */
	if (enh != r->enhanced) {
		free(r->enhanced);
		r->enhanced = ld_xstrdup(enh);
	}
	if (text != r->text) {
		free(r->text);
		r->text = ld_xstrdup(text);
	}
	r->code = (uint16_t)code;
	r->stage = stage;
	r->close = close;
	if (policy)
		r->enabled = true;
	return 0;
}

/* ld_place_name - a rule or category name: 1..31 of [a-z0-9_.-] */
static int
ld_place_name(struct ld *ld, yaml_node_t *n, const char *what, char *out)
{
	const char *s, *c;
	int rc;

	if ((rc = ld_string(ld, n, &s)) != 0)
		return rc;
	for (c = s; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
		    *c == '_' || *c == '.' || *c == '-'))
			break;
	if (*s == '\0' || *c != '\0' || strlen(s) >= SIM_PLACE_NAME_MAX)
		return ld_err(ld, n, "expected a %s name of 1..%d characters "
		    "[a-z0-9_.-], got %s", what, SIM_PLACE_NAME_MAX - 1,
		    ld_got(ld, n));
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/* ld_place_cat - a category named in placement.categories */
static int
ld_place_cat(struct ld *ld, const struct sim_place_table *t, yaml_node_t *n,
    uint8_t *out)
{
	char name[SIM_PLACE_NAME_MAX];
	size_t i;
	int rc;

	if ((rc = ld_place_name(ld, n, "category", name)) != 0)
		return rc;
	for (i = 0; i < t->ncats; i++)
		if (strcmp(t->cats[i], name) == 0) {
			*out = (uint8_t)(i + 1);
			return 0;
		}
	return ld_err(ld, n, "category \"%s\" is not in placement.categories",
	    name);
}

/* ld_place_when - the conditions of one rule */
static int
ld_place_when(struct ld *ld, struct sim_place_rule *r, yaml_node_t *n,
    const char *path)
{
	const struct ld_flag_cond *fc;
	yaml_node_item_t *it;
	yaml_node_pair_t *pr;
	yaml_node_t *kn, *vn, *in;
	struct ld_when lw;
	const char *key, *s;
	bool on;
	int rc, st;

	lw.r = *r;
	lw.flag = NULL;
	if ((rc = ld_map(ld, n, path, when_keys, &lw)) != 0)
		return rc;
	*r = lw.r;
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
	    pr++) {
		kn = ld_node(ld, pr->key);
		vn = ld_node(ld, pr->value);
		key = (const char *)kn->data.scalar.value;
		for (fc = when_bits; fc->name != NULL; fc++)
			if (strcmp(fc->name, key) == 0)
				break;
		if (fc->bit == SIM_PLACE_C_COMP_STATUS) {
			if ((rc = ld_seq(ld, vn, "complaint_status", 1)) != 0)
				return rc;
			for (it = vn->data.sequence.items.start;
			    it < vn->data.sequence.items.top; it++) {
				in = ld_node(ld, *it);
				if ((rc = ld_string(ld, in, &s)) != 0)
					return rc;
				if ((st = sim_place_comp_by_name(s)) < 0)
					return ld_err(ld, in, "expected a "
					    "complaint status (ok, warn, "
					    "block, holding), got %s",
					    ld_got(ld, in));
				r->comp_status |= (uint8_t)(1u << st);
			}
		} else if (fc->bit & LD_PLACE_FLAGS) {
			if ((rc = ld_bool(ld, vn, &on)) != 0)
				return rc;
			if (!on && fc->bit != SIM_PLACE_C_BULK)
				return ld_err(ld, vn, "%s.%s only takes true "
				    "(leave it out for false)", path, key);
			if (!on) {
				r->when |= SIM_PLACE_C_NOT_BULK;
				continue;
			}
		}
		r->when |= fc->bit;
	}
	if (r->when == 0)
		return ld_err(ld, n, "%s needs at least one condition", path);
	return 0;
}

/* ld_place_rule - one entry of placement.rules */
static int
ld_place_rule(struct ld *ld, struct sim_place_table *t, yaml_node_t *n,
    size_t i)
{
	struct sim_place_rule *r = &t->rules[i];
	struct ld_prule rn;
	const char *s;
	char path[80];
	size_t j;
	int rc, pl;

	memset(&rn, 0, sizeof(rn));
	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "placement.rules[%zu]", i);
	if ((rc = ld_map(ld, n, path, prule_keys, &rn)) != 0)
		return rc;
	if ((rc = ld_place_name(ld, rn.name, "rule", r->name)) != 0)
		return rc;
	for (j = 0; j < i; j++)
		if (strcmp(t->rules[j].name, r->name) == 0)
			return ld_err(ld, rn.name, "placement rule \"%s\" is "
			    "listed twice", r->name);
	snprintf(path, sizeof(path), "placement.rules[%zu].when", i);
	if ((rc = ld_place_when(ld, r, rn.when, path)) != 0)
		return rc;
	if (rn.place != NULL) {
		if ((rc = ld_string(ld, rn.place, &s)) != 0)
			return rc;
		if ((pl = sim_place_by_name(s)) < 0)
			return ld_err(ld, rn.place, "expected a folder (inbox, "
			    "spam, promotions), got %s", ld_got(ld, rn.place));
		r->place = (uint8_t)pl;
	}
	if (rn.category != NULL &&
	    (rc = ld_place_cat(ld, t, rn.category, &r->category)) != 0)
		return rc;
	if (rn.place == NULL && rn.category == NULL)
		return ld_err(ld, n, "placement rule \"%s\" needs \"place\" "
		    "or \"category\" (or both)", r->name);
	r->chance = 1.0;
	if (rn.chance != NULL) {
		if ((rc = ld_set_fraction(ld, rn.chance, &r->chance, NULL,
		    "chance")) != 0)
			return rc;
		if (r->chance <= 0)
			return ld_err(ld, rn.chance, "chance must be above 0 "
			    "(leave the rule out instead)");
	}
	return 0;
}

/* set_placement - the placement section: categories, default, rules */
static int
set_placement(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct sim_place_table *t = field;
	struct ld_placement pn;
	yaml_node_item_t *it;
	const char *s;
	size_t i;
	int rc, pl;

	(void)k;
	memset(&pn, 0, sizeof(pn));
	memset(t, 0, sizeof(*t));
	if ((rc = ld_map(ld, n, path, placement_keys, &pn)) != 0)
		return rc;
	if (pn.categories != NULL) {
		if ((rc = ld_seq(ld, pn.categories, "placement.categories",
		    0)) != 0)
			return rc;
		for (it = pn.categories->data.sequence.items.start;
		    it < pn.categories->data.sequence.items.top; it++) {
			if (t->ncats == SIM_PLACE_MAX_CATS)
				return ld_err(ld, ld_node(ld, *it), "at most %d "
				    "categories", SIM_PLACE_MAX_CATS);
			if ((rc = ld_place_name(ld, ld_node(ld, *it),
			    "category", t->cats[t->ncats])) != 0)
				return rc;
			for (i = 0; i < t->ncats; i++)
				if (strcmp(t->cats[i], t->cats[t->ncats]) == 0)
					return ld_err(ld, ld_node(ld, *it),
					    "category \"%s\" is listed twice",
					    t->cats[i]);
			t->ncats++;
		}
	}
	if (pn.dflt != NULL) {
		if ((rc = ld_string(ld, pn.dflt, &s)) != 0)
			return rc;
		if ((pl = sim_place_by_name(s)) < 0)
			return ld_err(ld, pn.dflt, "expected a folder (inbox, "
			    "spam, promotions), got %s", ld_got(ld, pn.dflt));
		t->dflt = (uint8_t)pl;
	}
	if (pn.dflt_category != NULL && (rc = ld_place_cat(ld, t,
	    pn.dflt_category, &t->dflt_category)) != 0)
		return rc;
	if (pn.rules == NULL)
		return 0;
	if ((rc = ld_seq(ld, pn.rules, "placement.rules", 0)) != 0)
		return rc;
	for (it = pn.rules->data.sequence.items.start;
	    it < pn.rules->data.sequence.items.top; it++) {
		if (t->nrules == SIM_PLACE_MAX_RULES)
			return ld_err(ld, ld_node(ld, *it), "at most %d "
			    "placement rules", SIM_PLACE_MAX_RULES);
		if ((rc = ld_place_rule(ld, t, ld_node(ld, *it),
		    t->nrules)) != 0)
			return rc;
		t->nrules++;
	}
	return 0;
}

/* set_greylist - the greylist section: window at least the delay */
static int
set_greylist(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	struct prof_greylist *g = field;
	int rc;

	if ((rc = ld_map(ld, n, path, k->sub, g)) != 0)
		return rc;
	if (g->window_s < g->delay_s)
		return ld_err(ld, n, "greylist.window (%u s) is shorter than "
		    "greylist.delay (%u s): no retry could pass", g->window_s,
		    g->delay_s);
	return 0;
}

/* ld_greylist_check - replies.greylist and the greylist section go
 * together */
static int
ld_greylist_check(struct ld *ld, yaml_node_t *root,
    const struct prof_profile *p)
{
	bool on = p->replies[SIM_RK_GREYLIST].enabled;

	if (on == (p->grey.delay_s != 0))
		return 0;
	return ld_err(ld, root, on ? "replies.greylist needs a greylist "
	    "section (delay, window, keep)" : "a greylist section needs "
	    "replies.greylist");
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
	p->file = ld_xstrdup(path);
	if (ld_map(&ld, root, "", profile_keys, p) != 0 ||
	    ld_greylist_check(&ld, root, p) != 0) {
		prof_profile_free(p);
		p = NULL;
	}
out:
	ld_close(&ld);
	return p;
}
