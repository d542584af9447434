/*
 * DESCRIPTION
 *	The policy and reputation engine.  A decision runs four groups of
 *	checks, each only for the reply kinds the profile enables, each at
 *	the stage the profile gives it (or the stage its facts define):
 *
 *	  1. stateless: outage, blocklist, helo.bad, helo.blocklisted,
 *	     content.blocklisted, sender.unresolvable,
 *	     conn.messages, size, rcpts.too_many, user.unknown,
 *	     user.inactive, user.over_quota, user.moved;
 *	  2. the (provider, IP) entry, under its lock: conn.limit, conn.rate,
 *	     ptr.missing (the client's reverse DNS in the scenario; the IP's
 *	     day tally drives its ladder to ptr.block),
 *	     reputation.block/temp, warmup, daily_cap, rate.ip; an accepted
 *	     connect or message is counted in the same lock hold;
 *	  3. the (provider, sender domain) entry, likewise: auth.block,
 *	     auth.missing, reputation.block/temp, daily_cap, rate.domain; if
 *	     it refuses a message group 2 already counted, that count is
 *	     rolled back;
 *	  4. the (provider, recipient) entries: rate.recipient at RCPT, and
 *	     the per-recipient count of an accepted message; likewise the
 *	     (provider, sender domain, recipient) pair entries: rate.pair;
 *	     then, at RCPT, the greylisting triplet (sim_grey.h) of a
 *	     recipient every other check let pass.
 *	Group 1 also answers the scenario's client facts (clients.dialup,
 *	clients.no_reputation) with client.dialup / client.no_reputation.
 *
 *	Provider fidelity (issue 5) adds, between groups 1 and 2, format
 *	checks on the scanned message (msgid/from.missing, hops, header.size,
 *	content.malformed, content.blocked_type,
 *	rcpts.domains) and the (provider, organizational domain) entry:
 *	complaint status, DMARC reject, SPF -all, the bulk-sender rules
 *	(status set for good once the domain crosses limits.bulk_threshold in
 *	a rolling day), content scores and the domain warm-up; after group 3
 *	the /24, EHLO, DKIM d=, URL-domain and Message-ID windows.  An
 *	accepted message is then counted for those identities, simulated
 *	complaints are drawn per recipient, and spam traps cost reputation.
 *	Finally the accepted message is filed (inbox placement, issue 9):
 *	the verdict gets its complaints, seed recipients, the IP and domain
 *	scores after the decision (looked up only when the profile models
 *	reputation) and the folder, category and rules sim_place_decide()
 *	returns from the profile's placement table, decided under the
 *	organizational domain's lock with its complaint status and today's
 *	rate.  None of it changes the reply.
 *	Authentication comes from facts->auth, or the scenario's declared
 *	facts when it is NULL.  Every refusal on an identity's entry goes
 *	through refuse(): it counts on the entry's day tally and clock-hour
 *	count and may climb the reply's escalation ladder (prof_escalate:
 *	refusals that day, or in each of consecutive hours); every refusal's
 *	verdict carries the IP and sender-domain scores after the decision.
 *
 *	Reputation is a score per IP and per domain that falls by the
 *	profile's penalties (unknown users, failed authentication, volume
 *	spikes, spam traps, complaints) and recovers linearly with
 *	simulated time.  Rate limits, connection limits, warm-up and
 *	per-recipient refusals cost nothing.  Complaint rates and warm-up history are computed per
 *	simulated day (sim_tally), rolled over at an entry's first use in a
 *	new day.
 *
 *	A decision hashes each of the identities it may look up more than
 *	once (client IP, sender domain, organizational domain, netblock) a
 *	single time (struct dec_refs); the hash buckets of those the stage
 *	reads (and of the recipient at RCPT) are prefetched before the
 *	stateless checks, and a later lookup of the same identity in the
 *	decision goes straight to the entry it found first
 *	(sim_state_get_ref(), which checks the entry still holds the key).
 *	Locks are still taken one entry at a time.
 *
 * DIAGNOSTICS
 *	An out-of-range profile index aborts (broken invariant).  A full
 *	state table makes the identity untracked: checks that need its
 *	counters do not fire, and sim_state counts the event.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msg_scan.h"
#include "sim_grey.h"
#include "sim_place.h"
#include "sim_policy.h"
#include "sim_rng.h"

#define HOUR_MS		3600000ULL
#define DAY_MS		86400000ULL
/* longest domain or address part of a sender-recipient pair key */
#define SIM_PAIR_PART_MAX	320

/* the hour count (sim_tally.hr_refused) holds any hourly `after` */
_Static_assert(PROF_ESC_MAX_HOURLY <= UINT16_MAX, "sim_tally.hr_refused");

#define TALLY_BULK	0x1u	/* org entry: a bulk sender for good */

/* Complaint status of an organizational domain (sim_tally.status). */
enum comp_status {
	COMP_OK = 0,
	COMP_WARN,		/* yesterday at or above warn_rate */
	COMP_BLOCK		/* at or above block_rate, not yet recovered */
};

/* Authentication as the rules see it: computed, or declared. */
struct auth_view {
	enum sim_auth_res spf;
	enum sim_auth_res dkim;
	enum sim_auth_res dmarc;
	enum sim_dmarc_policy policy;
	bool		 spf_hardfail;
	bool		 spf_suspicious;	/* the record is too broad */
	bool		 dmarc_record;	/* a DMARC record with a policy */
	bool		 aligned;
	const char	*dkim_domain;	/* NULL when unknown */
};

/* The identities a decision looks up more than once (IP, sender domain):
 * hashed once, their buckets prefetched together, entries found again
 * through the state's hint (sim_state.h). */
struct dec_refs {
	const struct sim_facts *f;
	struct sim_ref	 ip;
	struct sim_ref	 dom;
	bool		 ip_set;	/* ip hashed */
	bool		 dom_set;	/* dom hashed (needs a sender domain) */
	bool		 need_ip;	/* the stage checks the IP entry */
	bool		 need_dom;	/* ... the sender domain's entry */
	struct sim_ref	 org;		/* the organizational domain */
	const char	*org_name;	/* org_of(f), once org_set */
	bool		 org_set;
	struct sim_ref	 nb;		/* the client's netblock */
	bool		 nb_set;
	struct sim_ref	 rcpt;		/* RCPT: the recipient */
	bool		 rcpt_set;
};

/* A rate group: which reply kinds answer for windows of one identity. */
struct rate_group {
	enum sim_rk	 rate_rk;	/* rate.ip or rate.domain */
	const struct prof_rate *lim;
};

static bool	at(const struct prof_profile *, enum sim_rk, enum sim_stage);
static double	rep_now(const struct prof_reputation *, const struct sim_entry *,
		    const struct sim_wnow *);
static void	rep_penalize(const struct prof_reputation *, struct sim_entry *,
		    const struct sim_wnow *, double);
static bool	fire(struct sim_verdict *, enum sim_rk, uint64_t);
static bool	check_stateless(const struct prof_world *,
		    const struct prof_profile *, enum sim_stage,
		    const struct sim_facts *, const struct sim_wnow *, struct sim_verdict *);
static bool	check_rep(const struct prof_profile *, enum sim_stage, double,
		    enum sim_rk, struct sim_verdict *);
static bool	check_rates(const struct prof_profile *, enum sim_stage,
		    const struct sim_entry *, const struct rate_group *,
		    const struct sim_facts *, const struct sim_wnow *, struct sim_verdict *);
static bool	check_ip(const struct prof_world *, const struct prof_profile *,
		    struct dec_refs *,
		    struct sim_state *, enum sim_stage, const struct sim_facts *,
		    const struct sim_wnow *, struct sim_verdict *, bool *);
static bool	check_domain(const struct prof_world *, struct dec_refs *,
		    const struct prof_profile *, struct sim_state *,
		    enum sim_stage, const struct sim_facts *, const struct sim_wnow *,
		    struct sim_verdict *, bool *);
static bool	check_grey(const struct prof_profile *, struct sim_state *,
		    enum sim_stage, const struct sim_facts *,
		    const struct sim_wnow *, struct sim_verdict *);
static bool	check_rcpt(const struct prof_profile *, struct sim_state *,
		    struct dec_refs *,
		    enum sim_stage, const struct sim_facts *, const struct sim_wnow *,
		    struct sim_verdict *);
static void	count_message(struct sim_entry *, const struct sim_facts *,
		    const struct sim_wnow *, int32_t);
static void	penalize(const struct prof_profile *, struct sim_state *,
		    struct dec_refs *,
		    enum sim_key_kind, const struct sim_facts *, const struct sim_wnow *,
		    double);
static bool	spike(const struct prof_reputation *, const struct sim_entry *,
		    const struct sim_wnow *);
static bool	needs_entry(const struct prof_profile *, const enum sim_rk *,
		    size_t, enum sim_stage);
static void	tally_roll(const struct prof_reputation *, struct sim_tally *,
		    uint32_t);
static enum sim_rk escalate(const struct prof_profile *, enum sim_rk,
		    const struct sim_tally *, double);
static void	hour_roll(struct sim_tally *, const struct sim_wnow *);
static void	refuse(const struct prof_profile *, struct sim_entry *, double,
		    const struct sim_wnow *, struct sim_verdict *);
static bool	held(const struct prof_profile *, const struct sim_entry *,
		    enum sim_stage, const struct sim_wnow *,
		    struct sim_verdict *);
static bool	check_warmup(const struct prof_warmup *,
		    const struct sim_entry *, struct sim_verdict *);
static void	auth_view(const struct prof_world *, const struct sim_facts *,
		    struct auth_view *);
static const char *org_of(const struct sim_facts *);
static bool	has_ext(const struct prof_profile *, const char *);
static bool	check_message(const struct prof_profile *, enum sim_stage,
		    const struct sim_facts *, struct sim_verdict *);
static bool	org_rules(const struct prof_world *, const struct prof_profile *,
		    enum sim_stage, const struct sim_facts *,
		    const struct sim_entry *, struct sim_verdict *);
static bool	check_org(const struct prof_world *, const struct prof_profile *,
		    struct dec_refs *, struct sim_state *, enum sim_stage,
		    const struct sim_facts *,		    const struct sim_wnow *, struct sim_verdict *);
static struct sim_entry *ident_get(struct sim_state *, struct sim_ref *,
		    enum sim_key_kind, uint32_t, uint32_t, const char *,
		    uint64_t, bool);
static bool	ident_check(const struct prof_profile *, struct sim_state *,
		    struct sim_ref *, enum sim_key_kind, uint32_t, const char *, enum sim_rk,
		    const struct prof_rate *, enum sim_stage,
		    const struct sim_facts *, const struct sim_wnow *,
		    struct sim_verdict *);
static bool	check_helo_names(const struct prof_profile *,
		    struct sim_state *, enum sim_stage,
		    const struct sim_facts *, const struct sim_wnow *,
		    struct sim_verdict *);
static bool	check_idents(const struct prof_profile *, struct sim_state *,
		    struct dec_refs *, enum sim_stage, const struct sim_facts *,
		    const struct sim_wnow *, struct sim_verdict *);
static void	ident_count(const struct prof_profile *, struct sim_state *,
		    struct sim_ref *, enum sim_key_kind, uint32_t, const char *,
		    const struct sim_facts *, const struct sim_wnow *);
static void	count_accepted(const struct prof_world *, struct dec_refs *,
		    const struct prof_profile *, struct sim_state *,
		    const struct sim_facts *, const struct sim_wnow *,
		    struct sim_verdict *);
static uint64_t	msg_key(const struct sim_facts *, uint64_t);
static uint32_t	complaints_of(const struct prof_world *,
		    const struct sim_facts *, uint64_t);
static bool	rep_on(const struct prof_reputation *);
static double	ref_score(const struct prof_profile *, struct sim_state *,
		    struct sim_ref *, const struct sim_wnow *);
static void	scores(const struct prof_world *, const struct prof_profile *,
		    struct dec_refs *,
		    struct sim_state *, const struct sim_facts *,
		    const struct sim_wnow *, struct sim_verdict *);
static struct sim_ref *ref_once(struct sim_state *, struct sim_ref *, bool *,
		    enum sim_key_kind, const struct sim_facts *, uint32_t,
		    const char *);
static struct sim_ref *ref_ip(struct sim_state *, struct dec_refs *);
static struct sim_ref *ref_dom(struct sim_state *, struct dec_refs *);
static const char *ref_org(struct sim_state *, struct dec_refs *,
		    struct sim_ref **);
static struct sim_ref *ref_nb(struct sim_state *, struct dec_refs *);
static struct sim_ref *ref_rcpt(struct sim_state *, struct dec_refs *);
static bool	org_counted(const struct prof_profile *);
static void	refs_init(struct dec_refs *, const struct prof_profile *,
		    struct sim_state *, enum sim_stage, const struct sim_facts *);
static bool	refused(const struct prof_world *, const struct prof_profile *,
		    struct dec_refs *,
		    struct sim_state *, enum sim_stage, const struct sim_facts *,
		    const struct sim_wnow *, struct sim_verdict *);
static void	place_in(const struct prof_world *,
		    const struct prof_profile *, const struct sim_facts *,
		    const struct sim_entry *, const struct sim_verdict *,
		    uint64_t, struct sim_place_in *);
static void	place(const struct prof_world *, const struct prof_profile *,
		    const struct sim_facts *, const struct sim_entry *,
		    uint64_t, struct sim_verdict *);
static bool	windows_hit(const struct prof_windows *, const struct sim_win *,
		    const struct sim_wnow *, uint32_t, uint32_t *);
static const char *dkim_of(const struct sim_facts *);
static uint64_t	str_hash(const char *);
static void	roll_back(struct sim_state *, struct dec_refs *, enum sim_stage,
		    const struct sim_facts *, const struct sim_wnow *, bool,
		    bool);
static enum prof_rdns_state client_rdns(const struct prof_world *,
		    const struct sim_facts *);
static bool	check_ipv6(const struct prof_world *,
		    const struct prof_profile *, enum sim_stage,
		    const struct sim_facts *, struct sim_verdict *);

/* Kinds answered from the (provider, IP) and (provider, domain) entries. */
static const enum sim_rk ip_kinds[] = {
	SIM_RK_REP_BLOCK, SIM_RK_REP_TEMP, SIM_RK_WARMUP, SIM_RK_DAILY_CAP,
	SIM_RK_RATE_IP, SIM_RK_PTR_MISSING
};
static const enum sim_rk domain_kinds[] = {
	SIM_RK_AUTH_BLOCK, SIM_RK_AUTH_MISSING, SIM_RK_REP_BLOCK,
	SIM_RK_REP_TEMP, SIM_RK_REP_DOMAIN_TEMP, SIM_RK_DAILY_CAP,
	SIM_RK_RATE_DOMAIN
};

/* Kinds decided without an identity's entry (check_stateless,
 * check_message): nothing counts their refusals. */
static const enum sim_rk uncounted_kinds[] = {
	SIM_RK_OUTAGE, SIM_RK_BLOCKLIST, SIM_RK_CONN_MESSAGES, SIM_RK_SIZE,
	SIM_RK_RCPTS_TOO_MANY, SIM_RK_USER_UNKNOWN, SIM_RK_USER_INACTIVE,
	SIM_RK_USER_FULL, SIM_RK_TLS_REQUIRED, SIM_RK_RCPT_DOMAINS,
	SIM_RK_HOPS, SIM_RK_ATTACHMENTS, SIM_RK_MSGID_MISSING,
	SIM_RK_FROM_MISSING,
	SIM_RK_HEADER_SIZE, SIM_RK_GREYLIST, SIM_RK_CLIENT_DIALUP,
	SIM_RK_CLIENT_NOREP, SIM_RK_IPV6_PTR, SIM_RK_IPV6_AUTH,
	SIM_RK_IPV6_REFUSED, SIM_RK_HELO_BAD, SIM_RK_SENDER_UNRESOLVABLE,
	SIM_RK_HELO_LISTED, SIM_RK_CONTENT_LISTED, SIM_RK_USER_MOVED,
	SIM_RK_CONTENT_MALFORMED, SIM_RK_CONTENT_FILETYPE,
	SIM_RK_STARTTLS_PIPELINED,
	SIM_RK_HELO_CHANGES
};

/* sim_policy_counted - is a refusal of kind rk counted on an entry */
bool
sim_policy_counted(enum sim_rk rk)
{
	size_t i;

	for (i = 0; i < sizeof(uncounted_kinds) / sizeof(uncounted_kinds[0]);
	    i++)
		if (uncounted_kinds[i] == rk)
			return false;
	return rk >= SIM_RK__POLICY_FIRST && rk <= SIM_RK__POLICY_LAST;
}

/* at - is kind rk enabled and answered at this stage */
static bool
at(const struct prof_profile *p, enum sim_rk rk, enum sim_stage stage)
{
	return p->replies[rk].enabled && p->replies[rk].stage == stage;
}

/* sim_policy_score - an entry's reputation score brought forward to now */
double
sim_policy_score(const struct prof_reputation *r, const struct sim_entry *e,
    uint64_t now)
{
	double score;

	if (e == NULL || e->rep < 0)
		return r->initial;
	score = e->rep;
	if (now > e->rep_ms)
		score += r->recover_per_hour * (double)(now - e->rep_ms) /
		    (double)HOUR_MS;
	return score > r->max ? r->max : score;
}

/* rep_now - reputation score brought forward to the decision's now */
static double
rep_now(const struct prof_reputation *r, const struct sim_entry *e,
    const struct sim_wnow *wn)
{
	return sim_policy_score(r, e, wn->ms);
}

/* rep_penalize - lower a score by amount (not below 0) */
static void
rep_penalize(const struct prof_reputation *r, struct sim_entry *e,
    const struct sim_wnow *wn, double amount)
{
	double score = rep_now(r, e, wn) - amount;

	e->rep = score < 0 ? 0 : score;
	e->rep_ms = wn->ms;
}

/* fire - set the verdict; always true */
static bool
fire(struct sim_verdict *v, enum sim_rk rk, uint64_t limit)
{
	v->rk = rk;
	v->limit = limit;
	return true;
}

/* helo_ours - does the EHLO/HELO name claim to be this server: one of
 * the profile's MX host names, or the MX address as a literal */
static bool
helo_ours(const struct prof_profile *p, const struct sim_facts *f)
{
	char lit[24];
	size_t i;

	for (i = 0; i < p->nmx_hosts; i++)
		if (strcasecmp(f->helo, p->mx_hosts[i]) == 0)
			return true;
	snprintf(lit, sizeof(lit), "[%u.%u.%u.%u]", f->mx_ip >> 24,
	    (f->mx_ip >> 16) & 0xff, (f->mx_ip >> 8) & 0xff, f->mx_ip & 0xff);
	return strcmp(f->helo, lit) == 0;
}

/* helo_listed - is the EHLO name (any case) on the domain blocklist */
static bool
helo_listed(const struct prof_world *w, const char *helo)
{
	char low[256];
	size_t i;

	if (w->ndbl == 0)
		return false;
	for (i = 0; helo[i] != '\0' && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)helo[i]);
	low[i] = '\0';
	return prof_world_domain_listed(w, low);
}

/* msg_listed - does the scanned message's From domain or one of its URL
 * domains stand on the domain blocklist */
static bool
msg_listed(const struct prof_world *w, const struct msg_info *m)
{
	unsigned i;

	if (m == NULL || w->ndbl == 0)
		return false;
	if (m->from_domain[0] != '\0' &&
	    prof_world_domain_listed(w, m->from_domain))
		return true;
	for (i = 0; i < m->nurl_domains; i++)
		if (prof_world_domain_listed(w, m->url_domains[i]))
			return true;
	return false;
}

/* Recipient states of the scenario's directory, in the order they are
 * checked at RCPT, with the reply kind each answers. */
static const struct {
	enum sim_rk	 rk;
	bool		(*is)(const struct prof_world *, const char *);
} rcpt_states[] = {
	{ SIM_RK_USER_UNKNOWN, prof_world_rcpt_unknown },
	{ SIM_RK_USER_INACTIVE, prof_world_rcpt_inactive },
	{ SIM_RK_USER_FULL, prof_world_rcpt_full },
	{ SIM_RK_USER_MOVED, prof_world_rcpt_moved }
};

/* check_stateless - checks that need no counters */
static bool
check_stateless(const struct prof_world *w, const struct prof_profile *p,
    enum sim_stage stage, const struct sim_facts *f, const struct sim_wnow *wn,
    struct sim_verdict *v)
{
	const struct prof_limits *l = &p->limits;
	size_t i;

	if (at(p, SIM_RK_OUTAGE, stage) && wn->ms < p->outage_until_ms)
		return fire(v, SIM_RK_OUTAGE, 0);
	if (at(p, SIM_RK_BLOCKLIST, stage) &&
	    (f->client6 != NULL ? prof_world_blocklisted6(w, f->client6) :
	    prof_world_blocklisted(w, f->client_ip)))
		return fire(v, SIM_RK_BLOCKLIST, 0);
	if (at(p, SIM_RK_CLIENT_DIALUP, stage) &&
	    prof_world_client(w, f->client_ip, PROF_CLIENT_DIALUP))
		return fire(v, SIM_RK_CLIENT_DIALUP, 0);
	if (at(p, SIM_RK_CLIENT_NOREP, stage) &&
	    prof_world_client(w, f->client_ip, PROF_CLIENT_NOREP))
		return fire(v, SIM_RK_CLIENT_NOREP, 0);
	if (at(p, SIM_RK_HELO_BAD, stage) && f->helo != NULL &&
	    helo_ours(p, f))
		return fire(v, SIM_RK_HELO_BAD, 0);
	if (at(p, SIM_RK_HELO_LISTED, stage) && f->helo != NULL &&
	    helo_listed(w, f->helo))
		return fire(v, SIM_RK_HELO_LISTED, 0);
	if (at(p, SIM_RK_CONTENT_LISTED, stage) && msg_listed(w, f->msg))
		return fire(v, SIM_RK_CONTENT_LISTED, 0);
	if (at(p, SIM_RK_SENDER_UNRESOLVABLE, stage) &&
	    f->sender_domain != NULL &&
	    prof_world_unresolvable(w, f->sender_domain))
		return fire(v, SIM_RK_SENDER_UNRESOLVABLE, 0);
	if (at(p, SIM_RK_CONN_MESSAGES, stage) && l->msgs_per_conn != 0 &&
	    f->msgs_in_conn >= l->msgs_per_conn)
		return fire(v, SIM_RK_CONN_MESSAGES, l->msgs_per_conn);
	if (p->replies[SIM_RK_SIZE].enabled && l->max_size != 0 &&
	    (stage == SIM_STAGE_MAIL || stage == SIM_STAGE_EOD) &&
	    f->size > l->max_size)
		return fire(v, SIM_RK_SIZE, l->max_size);
	if (stage != SIM_STAGE_RCPT)
		return false;
	if (p->replies[SIM_RK_RCPTS_TOO_MANY].enabled && l->rcpts_per_msg != 0 &&
	    f->rcpts_in_txn >= l->rcpts_per_msg)
		return fire(v, SIM_RK_RCPTS_TOO_MANY, l->rcpts_per_msg);
	for (i = 0; f->rcpt != NULL &&
	    i < sizeof(rcpt_states) / sizeof(rcpt_states[0]); i++)
		if (p->replies[rcpt_states[i].rk].enabled &&
		    rcpt_states[i].is(w, f->rcpt))
			return fire(v, rcpt_states[i].rk, 0);
	if (p->replies[SIM_RK_TLS_REQUIRED].enabled && f->rcpt != NULL &&
	    !f->tls && !f->no_tls && prof_world_rcpt_tls(w, f->rcpt))
		return fire(v, SIM_RK_TLS_REQUIRED, 0);
	return false;
}

/* client_rdns - the declared reverse DNS of the client, IPv4 or IPv6 */
static enum prof_rdns_state
client_rdns(const struct prof_world *w, const struct sim_facts *f)
{
	return f->client6 != NULL ? prof_world_rdns6(w, f->client6, NULL) :
	    prof_world_rdns(w, f->client_ip, NULL);
}

/* check_ipv6 - the stricter rules for a client over IPv6 (issue 16): a
 * recipient that takes no IPv6 mail, no valid PTR, neither SPF nor DKIM
 * passing; for an IPv6 client ipv6.ptr, when enabled, stands in for
 * ptr.missing.  Uncounted: nothing climbs a ladder on them */
static bool
check_ipv6(const struct prof_world *w, const struct prof_profile *p,
    enum sim_stage stage, const struct sim_facts *f, struct sim_verdict *v)
{
	struct auth_view a;

	if (f->client6 == NULL)
		return false;
	if (at(p, SIM_RK_IPV6_REFUSED, stage) && f->rcpt != NULL &&
	    prof_world_ipv4_only(w, f->rcpt))
		return fire(v, SIM_RK_IPV6_REFUSED, 0);
	if (at(p, SIM_RK_IPV6_PTR, stage) &&
	    client_rdns(w, f) != PROF_RDNS_VALID)
		return fire(v, SIM_RK_IPV6_PTR, 0);
	if (!at(p, SIM_RK_IPV6_AUTH, stage))
		return false;
	auth_view(w, f, &a);
	return a.spf != SIM_AUTH_PASS && a.dkim != SIM_AUTH_PASS &&
	    fire(v, SIM_RK_IPV6_AUTH, 0);
}

/* check_rep - reputation thresholds of one score (temp: the deferral's
 * kind, reputation.temp or the domain's own).  Below block_below,
 * a block answered at a later stage (Microsoft's 5.7.606 at RCPT after a
 * 250 to MAIL FROM) lets this stage pass rather than defer */
static bool
check_rep(const struct prof_profile *p, enum sim_stage stage, double score,
    enum sim_rk temp, struct sim_verdict *v)
{
	const struct prof_reply *blk = &p->replies[SIM_RK_REP_BLOCK];

	if (at(p, SIM_RK_REP_BLOCK, stage) && score < p->rep.block_below)
		return fire(v, SIM_RK_REP_BLOCK, 0);
	if (blk->enabled && blk->stage > stage && score < p->rep.block_below)
		return false;
	if (at(p, temp, stage) && score < p->rep.temp_below)
		return fire(v, temp, 0);
	return false;
}

/* check_rates - message/recipient windows of one identity */
static bool
check_rates(const struct prof_profile *p, enum sim_stage stage,
    const struct sim_entry *e, const struct rate_group *g,
    const struct sim_facts *f, const struct sim_wnow *wn, struct sim_verdict *v)
{
	bool rate_here = at(p, g->rate_rk, stage);
	bool cap_here = at(p, SIM_RK_DAILY_CAP, stage);
	bool cap_on = p->replies[SIM_RK_DAILY_CAP].enabled;
	uint32_t max, n, extra;
	enum sim_rk rk;
	int wi;

	if (!rate_here && !cap_here)
		return false;
	/* recipients this decision would add to the window */
	extra = stage == SIM_STAGE_RCPT ? f->rcpts_in_txn + 1 :
	    stage == SIM_STAGE_EOD ? (uint32_t)f->nrcpts : 1;
	for (wi = 0; wi < SIM_WIN__COUNT; wi++) {
		rk = wi == SIM_WIN_DAY && cap_on ? SIM_RK_DAILY_CAP :
		    g->rate_rk;
		if (!at(p, rk, stage))
			continue;
		max = g->lim->messages.max[wi];
		if (max != 0 && sim_win_count_at(&e->msgs[wi], wi, wn) >= max)
			return fire(v, rk, max);
		if ((max = g->lim->recipients.max[wi]) == 0)
			continue;
		n = sim_win_count_at(&e->rcpts[wi], wi, wn);
		if (stage == SIM_STAGE_MAIL ? n >= max : n + extra > max)
			return fire(v, rk, max);
	}
	return false;
}

/* count_message - add (or roll back) one message to an entry's windows */
static void
count_message(struct sim_entry *e, const struct sim_facts *f, const struct sim_wnow *wn,
    int32_t sign)
{
	int wi;

	for (wi = 0; wi < SIM_WIN__COUNT; wi++) {
		sim_win_add_at(&e->msgs[wi], wi, wn, sign);
		sim_win_add_at(&e->rcpts[wi], wi, wn, sign * (int32_t)f->nrcpts);
	}
	if (sign > 0 || e->tally.msgs > 0)
		e->tally.msgs += (uint32_t)sign;
	if (sign > 0)
		e->tally.rcpts += (uint32_t)f->nrcpts;
	else if (e->tally.rcpts >= f->nrcpts)
		e->tally.rcpts -= (uint32_t)f->nrcpts;
}

/* spike - did this message push the minute volume over the spike line
 * (spike_min, and spike_factor x the hour's average per minute)?  True
 * once per crossing, so a burst costs pen_spike once, not per message. */
static bool
spike(const struct prof_reputation *r, const struct sim_entry *e,
    const struct sim_wnow *wn)
{
	double minute, hour_avg, line;

	if (r->pen_spike <= 0 || r->spike_factor <= 0)
		return false;
	minute = sim_win_count_at(&e->msgs[SIM_WIN_MINUTE], SIM_WIN_MINUTE, wn);
	hour_avg = sim_win_count_at(&e->msgs[SIM_WIN_HOUR], SIM_WIN_HOUR, wn) /
	    60.0;
	line = r->spike_factor * hour_avg;
	if (line < r->spike_min)
		line = r->spike_min;
	return minute > line && minute - 1 <= line;
}

/* check_ip - checks on the (provider, IP) entry; counts accepted work */
static bool
check_ip(const struct prof_world *w, const struct prof_profile *p,
    struct dec_refs *r, struct sim_state *st, enum sim_stage stage,
    const struct sim_facts *f, const struct sim_wnow *wn, struct sim_verdict *v,
    bool *counted)
{
	const struct prof_limits *l = &p->limits;
	struct rate_group g = { SIM_RK_RATE_IP, &l->per_ip };
	struct sim_entry *e;
	bool hit = false;
	int wi;

	*counted = false;
	if ((e = sim_state_get_ref(st, ref_ip(st, r), wn->ms, true)) == NULL)
		return false;
	tally_roll(&p->rep, &e->tally, (uint32_t)(wn->ms / DAY_MS));
	if (stage == SIM_STAGE_CONNECT) {
		for (wi = 0; wi < SIM_WIN__COUNT; wi++)
			sim_win_add_at(&e->conn_rate[wi], wi, wn, 1);
		if (p->replies[SIM_RK_CONN_LIMIT].enabled &&
		    l->conns_per_ip != 0 && e->conns >= l->conns_per_ip) {
			hit = fire(v, SIM_RK_CONN_LIMIT, l->conns_per_ip);
			goto out;
		}
		if (p->replies[SIM_RK_CONN_RATE].enabled)
			for (wi = 0; wi < SIM_WIN__COUNT; wi++)
				if (l->conn_rate.max[wi] != 0 &&
				    sim_win_count_at(&e->conn_rate[wi], wi, wn) >
				    l->conn_rate.max[wi]) {
					hit = fire(v, SIM_RK_CONN_RATE,
					    l->conn_rate.max[wi]);
					goto out;
				}
	}
	if ((hit = held(p, e, stage, wn, v)))
		goto out;
	/* no PTR, or no forward match: the scenario's fact, looked up
	 * only when the profile answers it here */
	if (at(p, SIM_RK_PTR_MISSING, stage) && (f->client6 == NULL ||
	    !p->replies[SIM_RK_IPV6_PTR].enabled) &&
	    client_rdns(w, f) != PROF_RDNS_VALID) {
		hit = fire(v, SIM_RK_PTR_MISSING, 0);
		goto out;
	}
	if ((hit = check_rep(p, stage, rep_now(&p->rep, e, wn),
	    SIM_RK_REP_TEMP, v)))
		goto out;
	if (at(p, SIM_RK_WARMUP, stage) &&
	    (hit = check_warmup(&l->warmup, e, v)))
		goto out;
	if ((hit = check_rates(p, stage, e, &g, f, wn, v)))
		goto out;
	/* accepted: count it */
	if (stage == SIM_STAGE_CONNECT) {
		e->conns++;
		*counted = true;
	} else if (stage == SIM_STAGE_EOD) {
		count_message(e, f, wn, 1);
		if (spike(&p->rep, e, wn))
			rep_penalize(&p->rep, e, wn, p->rep.pen_spike);
		*counted = true;
	}
out:
	if (hit) {
		refuse(p, e, rep_now(&p->rep, e, wn), wn, v);
		/* limits.count_refused: an attempt refused at MAIL FROM or
		 * end of DATA (a retry) fills the per-IP message windows as
		 * an accepted message would */
		if (l->count_refused != 0 && (stage == SIM_STAGE_MAIL ||
		    stage == SIM_STAGE_EOD))
			for (wi = 0; wi < SIM_WIN__COUNT; wi++)
				sim_win_add_at(&e->msgs[wi], wi, wn, 1);
	}
	sim_state_put(st, e);
	return hit;
}

/* check_domain - checks on the (provider, sender domain) entry */
static bool
check_domain(const struct prof_world *w, struct dec_refs *r,
    const struct prof_profile *p, struct sim_state *st, enum sim_stage stage,
    const struct sim_facts *f, const struct sim_wnow *wn, struct sim_verdict *v,
    bool *counted)
{
	struct rate_group g = { SIM_RK_RATE_DOMAIN, &p->limits.per_domain };
	struct auth_view a;
	struct sim_entry *e;
	double score;
	bool unauth, hit = false;

	*counted = false;
	if (f->sender_domain == NULL || stage < SIM_STAGE_MAIL)
		return false;
	if ((e = sim_state_get_ref(st, ref_dom(st, r), wn->ms, true)) ==
	    NULL)
		return false;
	tally_roll(&p->rep, &e->tally, (uint32_t)(wn->ms / DAY_MS));
	score = rep_now(&p->rep, e, wn);
	auth_view(w, f, &a);
	unauth = a.spf != SIM_AUTH_PASS && a.dkim != SIM_AUTH_PASS;
	if ((hit = held(p, e, stage, wn, v)))
		goto out;
	if (unauth && at(p, SIM_RK_AUTH_BLOCK, stage) &&
	    score < p->rep.block_below) {
		hit = fire(v, SIM_RK_AUTH_BLOCK, 0);
		rep_penalize(&p->rep, e, wn, p->rep.pen_auth_fail);
		goto out;
	}
	if (unauth && at(p, SIM_RK_AUTH_MISSING, stage)) {
		hit = fire(v, SIM_RK_AUTH_MISSING, 0);
		rep_penalize(&p->rep, e, wn, p->rep.pen_auth_fail);
		goto out;
	}
	if ((hit = check_rep(p, stage, score,
	    p->replies[SIM_RK_REP_DOMAIN_TEMP].enabled ?
	    SIM_RK_REP_DOMAIN_TEMP : SIM_RK_REP_TEMP, v)))
		goto out;
	if ((hit = check_rates(p, stage, e, &g, f, wn, v)))
		goto out;
	if (stage == SIM_STAGE_EOD) {
		count_message(e, f, wn, 1);
		if (spike(&p->rep, e, wn))
			rep_penalize(&p->rep, e, wn, p->rep.pen_spike);
		*counted = true;
	}
out:
	if (hit)
		refuse(p, e, rep_now(&p->rep, e, wn), wn, v);
	sim_state_put(st, e);
	return hit;
}

/* pair_key - the sender-recipient pair's key, "domain\nrecipient", into
 * buf; false without a sender domain (null sender) or when too long */
static bool
pair_key(const char *dom, const char *rcpt, char *buf, size_t len)
{
	int n;

	if (dom == NULL || rcpt == NULL)
		return false;
	n = snprintf(buf, len, "%s\n%s", dom, rcpt);
	return n > 0 && (size_t)n < len;
}

/* rcpt_limit - the message windows of one per-recipient identity (the
 * mailbox, or a sender-recipient pair): refuse at RCPT when one is full */
static bool
rcpt_limit(const struct prof_profile *p, struct sim_state *st,
    struct sim_ref *ref, enum sim_key_kind kind, const char *key,
    enum sim_rk rk,
    const struct prof_windows *lim, const struct sim_facts *f,
    const struct sim_wnow *wn, struct sim_verdict *v)
{
	struct sim_entry *e;
	int wi;

	if ((e = ident_get(st, ref, kind, f->prof, 0, key, wn->ms, false)) ==
	    NULL)
		return false;
	tally_roll(&p->rep, &e->tally, (uint32_t)(wn->ms / DAY_MS));
	for (wi = 0; wi < SIM_WIN__COUNT; wi++)
		if (lim->max[wi] != 0 && sim_win_count_at(&e->msgs[wi], wi,
		    wn) >= lim->max[wi]) {
			fire(v, rk, lim->max[wi]);
			refuse(p, e, rep_now(&p->rep, e, wn), wn, v);
			sim_state_put(st, e);
			return true;
		}
	sim_state_put(st, e);
	return false;
}

/* rcpt_count - count an accepted message for a per-recipient identity */
static void
rcpt_count(struct sim_state *st, enum sim_key_kind kind, const char *key,
    const struct sim_facts *f, const struct sim_wnow *wn)
{
	struct sim_entry *e;
	int wi;

	if ((e = sim_state_get(st, kind, f->prof, 0, key, wn->ms)) == NULL)
		return;
	for (wi = 0; wi < SIM_WIN__COUNT; wi++)
		sim_win_add_at(&e->msgs[wi], wi, wn, 1);
	sim_state_put(st, e);
}

/* check_rcpt - per-recipient and per sender-recipient pair rates at
 * RCPT; counts the message for both at EOD */
static bool
check_rcpt(const struct prof_profile *p, struct sim_state *st,
    struct dec_refs *r, enum sim_stage stage, const struct sim_facts *f,
    const struct sim_wnow *wn, struct sim_verdict *v)
{
	bool mailbox = p->replies[SIM_RK_RATE_RECIPIENT].enabled;
	bool pair = p->replies[SIM_RK_RATE_PAIR].enabled;
	char key[2 * SIM_PAIR_PART_MAX];
	size_t i;

	if (stage == SIM_STAGE_RCPT && f->rcpt != NULL) {
		if (mailbox && rcpt_limit(p, st, ref_rcpt(st, r), SIM_KEY_RCPT,
		    f->rcpt,
		    SIM_RK_RATE_RECIPIENT, &p->limits.per_recipient, f, wn, v))
			return true;
		return pair && pair_key(f->sender_domain, f->rcpt, key,
		    sizeof(key)) && rcpt_limit(p, st, NULL, SIM_KEY_PAIR, key,
		    SIM_RK_RATE_PAIR, &p->limits.per_pair, f, wn, v);
	}
	if (stage != SIM_STAGE_EOD)
		return false;
	for (i = 0; i < f->nrcpts; i++) {
		if (mailbox)
			rcpt_count(st, SIM_KEY_RCPT, f->rcpts[i], f, wn);
		if (pair && pair_key(f->sender_domain, f->rcpts[i], key,
		    sizeof(key)))
			rcpt_count(st, SIM_KEY_PAIR, key, f, wn);
	}
	return false;
}

/* check_grey - triplet greylisting at RCPT (sim_grey.h), once every
 * other check let the recipient pass */
static bool
check_grey(const struct prof_profile *p, struct sim_state *st,
    enum sim_stage stage, const struct sim_facts *f, const struct sim_wnow *wn,
    struct sim_verdict *v)
{
	uint64_t key;

	if (!at(p, SIM_RK_GREYLIST, stage) || p->grey.delay_s == 0 ||
	    f->rcpt == NULL)
		return false;
	key = sim_grey_key(f->prof, f->client_ip, f->sender_key, f->rcpt);
	if (sim_grey_check(sim_state_grey(st), &p->grey, key, wn->ms) ==
	    SIM_GREY_PASS)
		return false;
	return fire(v, SIM_RK_GREYLIST, p->grey.delay_s);
}

/* penalize - lower the reputation of the IP or the sender domain */
static void
penalize(const struct prof_profile *p, struct sim_state *st,
    struct dec_refs *r, enum sim_key_kind kind, const struct sim_facts *f,
    const struct sim_wnow *wn, double amount)
{
	struct sim_entry *e;

	if (amount <= 0)
		return;
	if (kind == SIM_KEY_DOMAIN && f->sender_domain == NULL)
		return;
	e = sim_state_get_ref(st, kind == SIM_KEY_IP ? ref_ip(st, r) :
	    ref_dom(st, r),
	    wn->ms, true);
	if (e == NULL)
		return;
	rep_penalize(&p->rep, e, wn, amount);
	sim_state_put(st, e);
}

/* needs_entry - must this stage touch an identity's entry at all: a kind
 * of it answers here, or (end of DATA) its counts or spikes matter later */
static bool
needs_entry(const struct prof_profile *p, const enum sim_rk *kinds, size_t n,
    enum sim_stage stage)
{
	size_t i;

	if (stage == SIM_STAGE_EOD && p->rep.pen_spike > 0)
		return true;
	for (i = 0; i < n; i++) {
		if (!p->replies[kinds[i]].enabled)
			continue;
		if (stage == SIM_STAGE_EOD ||
		    p->replies[kinds[i]].stage == stage)
			return true;
	}
	return false;
}

/* tally_roll - close the day tallies of an entry when the day changed:
 * a day with mail and no refusal is a good warm-up day; the finished
 * day's complaint rate sets the complaint status, and a block lifts only
 * after recovery_days clean days in a row (days without mail are clean) */
static void
tally_roll(const struct prof_reputation *r, struct sim_tally *t, uint32_t day)
{
	const struct prof_complaints *c = &r->complaints;
	uint32_t clean, min;
	double rate = 0;

	if (t->day >= day)
		return;
	if (t->msgs > 0 && t->refused == 0 && t->good_days < UINT16_MAX)
		t->good_days++;
	min = c->min_messages > 0 ? c->min_messages : 1;
	if (t->msgs >= min && t->rcpts > 0)
		rate = (double)t->complaints / t->rcpts;
	if (c->block_rate > 0 && rate >= c->block_rate) {
		t->status = COMP_BLOCK;
		t->streak = 0;
		clean = day - t->day - 1;	/* idle days since */
	} else
		clean = day - t->day;
	t->streak = t->streak + clean > UINT8_MAX ? UINT8_MAX :
	    (uint8_t)(t->streak + clean);
	if (t->status == COMP_BLOCK && t->streak >= c->recovery_days)
		t->status = COMP_OK;
	if (t->status != COMP_BLOCK)
		t->status = c->warn_rate > 0 && rate >= c->warn_rate &&
		    clean == 1 ? COMP_WARN : COMP_OK;
	t->day = day;
	t->msgs = t->complaints = t->refused = t->rcpts = 0;
}

/* escalate - the reply's ladder: its harder form once the identity was
 * refused `after` times today (with `hours`: in each of the last `hours`
 * clock hours, this one included) or its score fell below `below` */
static enum sim_rk
escalate(const struct prof_profile *p, enum sim_rk rk,
    const struct sim_tally *t, double score)
{
	const struct prof_escalate *x = &p->replies[rk].esc;
	bool pushed;

	if (x->to == 0)
		return rk;
	pushed = x->hours != 0 ? t->hr_met && t->hr_run >= x->hours :
	    x->after != 0 && t->refused >= x->after;
	if (pushed || (x->below > 0 && score < x->below))
		return x->to;
	return rk;
}

/* hour_roll - move the hour count of a tally to the hour of now: the run
 * of hours that reached a ladder's `after` goes on only from the hour
 * just before (an hour short of it, or idle, ends the run) */
static void
hour_roll(struct sim_tally *t, const struct sim_wnow *wn)
{
	uint16_t h = (uint16_t)(wn->ms / HOUR_MS);

	if (h == t->hr)
		return;
	if (!t->hr_met || (uint16_t)(t->hr + 1) != h)
		t->hr_run = 0;
	t->hr = h;
	t->hr_refused = 0;
	t->hr_met = 0;
}

/* refuse - a check of entry e fired: climb its ladder (holding the top
 * for the ladder's days), count the refusal for the day and the hour; an
 * hour whose count reaches the fired reply's `after` extends the run */
static void
refuse(const struct prof_profile *p, struct sim_entry *e, double score,
    const struct sim_wnow *wn, struct sim_verdict *v)
{
	const struct prof_escalate *x = &p->replies[v->rk].esc;
	struct sim_tally *t = &e->tally;
	enum sim_rk to;

	hour_roll(t, wn);
	to = escalate(p, v->rk, t, score);
	if (to != v->rk && x->days != 0) {
		t->hold_day = (uint32_t)(wn->ms / DAY_MS) + x->days;
		t->hold_rk = (uint16_t)to;
	}
	if (t->refused < UINT32_MAX)
		t->refused++;
	if (t->hr_refused < UINT16_MAX)
		t->hr_refused++;
	if (x->hours != 0 && !t->hr_met && t->hr_refused >= x->after) {
		t->hr_met = 1;
		if (t->hr_run < UINT8_MAX)
			t->hr_run++;
	}
	v->rk = to;
}

/* held - a block an escalation put on the entry still holds */
static bool
held(const struct prof_profile *p, const struct sim_entry *e,
    enum sim_stage stage, const struct sim_wnow *wn, struct sim_verdict *v)
{
	if (e->tally.hold_rk == 0 || e->tally.hold_day <= wn->ms / DAY_MS ||
	    !at(p, (enum sim_rk)e->tally.hold_rk, stage))
		return false;
	return fire(v, (enum sim_rk)e->tally.hold_rk, 0);
}

/* check_warmup - a new identity may send first_day x growth^good_days
 * messages a day until it has `days` good days of history */
static bool
check_warmup(const struct prof_warmup *wu, const struct sim_entry *e,
    struct sim_verdict *v)
{
	double allowed;

	if (wu->days == 0 || e->tally.good_days >= wu->days)
		return false;
	allowed = wu->first_day * pow(wu->growth, (double)e->tally.good_days);
	if (e->tally.msgs >= allowed)
		return fire(v, SIM_RK_WARMUP, (uint64_t)allowed);
	return false;
}

/* auth_view - authentication from facts->auth, or the scenario's facts */
static void
auth_view(const struct prof_world *w, const struct sim_facts *f,
    struct auth_view *a)
{
	static const enum sim_auth_res res[] = {
		[PROF_AUTH_NONE] = SIM_AUTH_NONE,
		[PROF_AUTH_PASS] = SIM_AUTH_PASS,
		[PROF_AUTH_FAIL] = SIM_AUTH_FAIL,
		[PROF_AUTH_TEMPERROR] = SIM_AUTH_TEMPERROR
	};
	static const enum sim_dmarc_policy pol[] = {
		[PROF_DMARC_NONE] = SIM_DMARC_NONE,
		[PROF_DMARC_QUARANTINE] = SIM_DMARC_QUARANTINE,
		[PROF_DMARC_REJECT] = SIM_DMARC_REJECT
	};
	const struct prof_sender *s = prof_world_sender(w, f->sender_domain);

	/* a property of the record, not a result: declared for both */
	a->spf_suspicious = s->spf_suspicious;
	if (f->auth != NULL) {
		a->spf = f->auth->spf;
		a->dkim = f->auth->dkim;
		a->dmarc = f->auth->dmarc;
		a->policy = f->auth->dmarc_policy;
		a->spf_hardfail = f->auth->spf_hardfail;
		a->dmarc_record = f->auth->dmarc_policy != SIM_DMARC_ABSENT;
		a->aligned = f->auth->aligned;
		a->dkim_domain = f->auth->dkim_domain;
		return;
	}
	a->spf = res[s->spf];
	a->dkim = res[s->dkim];
	a->dmarc = res[s->dmarc];
	a->dmarc_record = s->dmarc != PROF_AUTH_NONE;
	a->policy = a->dmarc_record ? pol[s->dmarc_policy] : SIM_DMARC_ABSENT;
	a->spf_hardfail = s->spf_hardfail;
	/* declared facts speak of one domain: aligned when it authenticates */
	a->aligned = s->dmarc == PROF_AUTH_PASS || (s->dmarc == PROF_AUTH_NONE &&
	    (s->spf == PROF_AUTH_PASS || s->dkim == PROF_AUTH_PASS));
	a->dkim_domain = s->dkim == PROF_AUTH_PASS ? f->sender_domain : NULL;
}

/* org_of - the header-From organizational domain, or before the headers
 * (and without them) the MAIL FROM domain's */
static const char *
org_of(const struct sim_facts *f)
{
	if (f->msg != NULL && f->msg->from_org[0] != '\0')
		return f->msg->from_org;
	if (f->sender_domain == NULL)
		return NULL;
	return msg_org_domain(f->sender_domain);
}

/* has_ext - does the profile advertise an EHLO extension */
static bool
has_ext(const struct prof_profile *p, const char *ext)
{
	size_t i;

	for (i = 0; i < p->next; i++)
		if (strcmp(p->ext[i], ext) == 0)
			return true;
	return false;
}

/* check_message - format checks on the scanned message (end of DATA) and
 * the recipient domains of a transaction; no state */
static bool
check_message(const struct prof_profile *p, enum sim_stage stage,
    const struct sim_facts *f, struct sim_verdict *v)
{
	const struct prof_limits *l = &p->limits;
	const struct msg_info *m = f->msg;
	const char *d, *e;
	uint32_t ndom;
	size_t i, j;

	if (at(p, SIM_RK_RCPT_DOMAINS, stage) && l->rcpt_domains != 0) {
		ndom = 0;
		for (i = 0; i <= f->nrcpts; i++) {
			d = i < f->nrcpts ? f->rcpts[i] :
			    stage == SIM_STAGE_RCPT ? f->rcpt : NULL;
			if (d == NULL || (d = strrchr(d, '@')) == NULL)
				continue;
			for (j = 0; j < i; j++)
				if ((e = strrchr(f->rcpts[j], '@')) != NULL &&
				    strcmp(d, e) == 0)
					break;
			if (j == i && ++ndom > l->rcpt_domains)
				return fire(v, SIM_RK_RCPT_DOMAINS,
				    l->rcpt_domains);
		}
	}
	if (stage != SIM_STAGE_EOD || m == NULL)
		return false;
	if (at(p, SIM_RK_HOPS, stage) && l->max_hops != 0 &&
	    m->received > l->max_hops)
		return fire(v, SIM_RK_HOPS, l->max_hops);
	if (at(p, SIM_RK_ATTACHMENTS, stage) && l->max_attachments != 0 &&
	    m->attachments > l->max_attachments)
		return fire(v, SIM_RK_ATTACHMENTS, l->max_attachments);
	if (at(p, SIM_RK_CONTENT_MALFORMED, stage) &&
	    (m->flags & MSG_F_MIME_BAD) != 0)
		return fire(v, SIM_RK_CONTENT_MALFORMED, 0);
	if (at(p, SIM_RK_CONTENT_FILETYPE, stage))
		for (i = 0; i < m->nfile_ext; i++)
			for (j = 0; j < p->nblocked_ext; j++)
				if (strcmp(m->file_ext[i], p->blocked_ext[j])
				    == 0)
					return fire(v, SIM_RK_CONTENT_FILETYPE,
					    0);
	if (at(p, SIM_RK_MSGID_MISSING, stage) &&
	    ((m->flags & MSG_F_MSGID) == 0 || m->message_id[0] == '\0' ||
	    (m->dup & MSG_DUP_MSGID)))
		return fire(v, SIM_RK_MSGID_MISSING, 0);
	if (at(p, SIM_RK_FROM_MISSING, stage) &&
	    ((m->flags & MSG_F_FROM) == 0 || (m->flags & MSG_F_FROM_NOADDR) ||
	    (m->dup & MSG_DUP_FROM)))
		return fire(v, SIM_RK_FROM_MISSING, 0);
	if (at(p, SIM_RK_HEADER_SIZE, stage) && l->max_header_bytes != 0 &&
	    m->header_bytes > l->max_header_bytes)
		return fire(v, SIM_RK_HEADER_SIZE, l->max_header_bytes);
	return false;
}

/* org_rules - the rules of the organizational domain, in the order a
 * provider applies them: complaints, DMARC reject, SPF -all, then for a
 * bulk sender the stricter requirements, then content */
static bool
org_rules(const struct prof_world *w, const struct prof_profile *p,
    enum sim_stage stage, const struct sim_facts *f,
    const struct sim_entry *e, struct sim_verdict *v)
{
	const struct prof_content *c = &p->limits.content;
	const struct msg_info *m = f->msg;
	struct auth_view a;
	bool bulk = (e->tally.flags & TALLY_BULK) != 0;

	if (e->tally.status == COMP_BLOCK && at(p, SIM_RK_COMPLAINT_BLOCK, stage))
		return fire(v, SIM_RK_COMPLAINT_BLOCK, 0);
	if (e->tally.status != COMP_OK && at(p, SIM_RK_COMPLAINT_TEMP, stage))
		return fire(v, SIM_RK_COMPLAINT_TEMP, 0);
	auth_view(w, f, &a);
	if (a.policy == SIM_DMARC_REJECT && a.dmarc == SIM_AUTH_FAIL &&
	    at(p, SIM_RK_AUTH_DMARC_REJECT, stage))
		return fire(v, SIM_RK_AUTH_DMARC_REJECT, 0);
	if (a.policy == SIM_DMARC_REJECT && a.dmarc == SIM_AUTH_TEMPERROR &&
	    at(p, SIM_RK_AUTH_DMARC_TEMP, stage))
		return fire(v, SIM_RK_AUTH_DMARC_TEMP, 0);
	if (a.spf == SIM_AUTH_FAIL && a.spf_hardfail && a.dkim != SIM_AUTH_PASS &&
	    at(p, SIM_RK_AUTH_SPF_FAIL, stage))
		return fire(v, SIM_RK_AUTH_SPF_FAIL, 0);
	if (a.spf_suspicious && at(p, SIM_RK_AUTH_SPF_SUSPICIOUS, stage))
		return fire(v, SIM_RK_AUTH_SPF_SUSPICIOUS, 0);
	if (bulk) {
		if (at(p, SIM_RK_AUTH_HIGH_VOLUME, stage) &&
		    (a.spf != SIM_AUTH_PASS || a.dkim != SIM_AUTH_PASS ||
		    !a.dmarc_record || !a.aligned))
			return fire(v, SIM_RK_AUTH_HIGH_VOLUME, 0);
		if (a.spf != SIM_AUTH_PASS && at(p, SIM_RK_BULK_SPF, stage))
			return fire(v, SIM_RK_BULK_SPF, 0);
		if (a.dkim != SIM_AUTH_PASS && at(p, SIM_RK_BULK_DKIM, stage))
			return fire(v, SIM_RK_BULK_DKIM, 0);
		if (!a.dmarc_record && at(p, SIM_RK_BULK_DMARC, stage))
			return fire(v, SIM_RK_BULK_DMARC, 0);
		if (!a.aligned && at(p, SIM_RK_BULK_ALIGN, stage))
			return fire(v, SIM_RK_BULK_ALIGN, 0);
		if (!f->tls && !f->no_tls && has_ext(p, "STARTTLS") &&
		    at(p, SIM_RK_BULK_TLS, stage))
			return fire(v, SIM_RK_BULK_TLS, 0);
		if (m != NULL && (m->flags & MSG_F_ONECLICK) == 0 &&
		    at(p, SIM_RK_BULK_UNSUB, stage))
			return fire(v, SIM_RK_BULK_UNSUB, 0);
	}
	if (m == NULL)
		return false;
	if (c->spam_score != 0 && m->spam_score >= c->spam_score &&
	    at(p, SIM_RK_CONTENT_SPAM, stage))
		return fire(v, SIM_RK_CONTENT_SPAM, c->spam_score);
	if (c->max_links != 0 && m->links > c->max_links &&
	    at(p, SIM_RK_CONTENT_LINKS, stage))
		return fire(v, SIM_RK_CONTENT_LINKS, c->max_links);
	return false;
}

/* Kinds answered from the (provider, organizational domain) entry. */
static const enum sim_rk org_kinds[] = {
	SIM_RK_COMPLAINT_BLOCK, SIM_RK_COMPLAINT_TEMP, SIM_RK_AUTH_DMARC_REJECT,
	SIM_RK_AUTH_DMARC_TEMP, SIM_RK_AUTH_SPF_FAIL, SIM_RK_AUTH_SPF_SUSPICIOUS,
	SIM_RK_AUTH_HIGH_VOLUME,
	SIM_RK_BULK_SPF, SIM_RK_BULK_DKIM, SIM_RK_BULK_DMARC, SIM_RK_BULK_ALIGN,
	SIM_RK_BULK_TLS, SIM_RK_BULK_UNSUB, SIM_RK_CONTENT_SPAM,
	SIM_RK_CONTENT_LINKS
};

/* check_org - rules of the organizational domain, and its warm-up */
static bool
check_org(const struct prof_world *w, const struct prof_profile *p,
    struct dec_refs *r, struct sim_state *st, enum sim_stage stage,
    const struct sim_facts *f, const struct sim_wnow *wn,
    struct sim_verdict *v)
{
	struct sim_ref *oref;
	struct sim_entry *e;
	bool hit, wu;
	size_t i;

	wu = p->limits.warmup_domain.days != 0 && at(p, SIM_RK_WARMUP, stage);
	for (i = 0; !wu && i < sizeof(org_kinds) / sizeof(org_kinds[0]); i++)
		if (at(p, org_kinds[i], stage))
			break;
	if ((!wu && i == sizeof(org_kinds) / sizeof(org_kinds[0])) ||
	    ref_org(st, r, &oref) == NULL)
		return false;
	if ((e = sim_state_get_ref(st, oref, wn->ms, true)) == NULL)
		return false;
	tally_roll(&p->rep, &e->tally, (uint32_t)(wn->ms / DAY_MS));
	hit = held(p, e, stage, wn, v) || org_rules(w, p, stage, f, e, v) ||
	    (wu && check_warmup(&p->limits.warmup_domain, e, v));
	if (hit) {
		if (v->rk != SIM_RK_WARMUP && v->rk != SIM_RK_CONTENT_SPAM &&
		    v->rk != SIM_RK_CONTENT_LINKS)
			rep_penalize(&p->rep, e, wn, p->rep.pen_auth_fail);
		refuse(p, e, rep_now(&p->rep, e, wn), wn, v);
	}
	sim_state_put(st, e);
	return hit;
}

/* windows_hit - would `extra` more exceed a window's limit */
static bool
windows_hit(const struct prof_windows *lim, const struct sim_win *wins,
    const struct sim_wnow *wn, uint32_t extra, uint32_t *max)
{
	int wi;

	for (wi = 0; wi < SIM_WIN__COUNT; wi++)
		if (lim->max[wi] != 0 && sim_win_count_at(&wins[wi], wi, wn) +
		    extra > lim->max[wi]) {
			*max = lim->max[wi];
			return true;
		}
	return false;
}

/* ident_get - sim_state_get() or sim_state_find() of an identity, through
 * the decision's reference when it has one (ref not NULL) */
static struct sim_entry *
ident_get(struct sim_state *st, struct sim_ref *ref, enum sim_key_kind kind,
    uint32_t prof, uint32_t ip, const char *str, uint64_t now, bool create)
{
	if (ref != NULL)
		return sim_state_get_ref(st, ref, now, create);
	return create ? sim_state_get(st, kind, prof, ip, str, now) :
	    sim_state_find(st, kind, prof, ip, str, now);
}

/* ident_check - message and recipient windows of one more identity
 * (netblock, EHLO name, DKIM domain, URL domain, Message-ID) */
static bool
ident_check(const struct prof_profile *p, struct sim_state *st,
    struct sim_ref *ref, enum sim_key_kind kind, uint32_t ip, const char *str,
    enum sim_rk rk,    const struct prof_rate *lim, enum sim_stage stage,
    const struct sim_facts *f, const struct sim_wnow *wn,
    struct sim_verdict *v)
{
	struct sim_entry *e;
	uint32_t max, extra;
	bool hit;

	if (!at(p, rk, stage) || (e = ident_get(st, ref, kind, f->prof, ip,
	    str, wn->ms, false)) == NULL)
		return false;	/* never seen: nothing counted yet */
	tally_roll(&p->rep, &e->tally, (uint32_t)(wn->ms / DAY_MS));
	extra = stage == SIM_STAGE_RCPT ? f->rcpts_in_txn + 1 :
	    stage == SIM_STAGE_EOD ? (uint32_t)f->nrcpts : 1;
	hit = windows_hit(&lim->messages, e->msgs, wn, 1, &max) ||
	    windows_hit(&lim->recipients, e->rcpts, wn, extra, &max);
	if (hit) {
		fire(v, rk, max);
		refuse(p, e, rep_now(&p->rep, e, wn), wn, v);
	}
	sim_state_put(st, e);
	return hit;
}

/* dkim_of - the DKIM d= domain: computed, else the first signature seen */
static const char *
dkim_of(const struct sim_facts *f)
{
	if (f->auth != NULL && f->auth->dkim_domain != NULL)
		return f->auth->dkim_domain;
	if (f->msg != NULL && f->msg->ndkim > 0)
		return f->msg->dkim[0].d;
	return NULL;
}

/* check_helo_names - at EHLO: a name the client IP has not used within a
 * window of limits.helo_names_per_ip counts once in that window of the
 * IP's names (both kept as SIM_KEY_HELO entries keyed "client|name" and
 * "client|", where no EHLO name has a '|'); more names than the window allows answers
 * helo.changes (a changing HELO) */
static bool
check_helo_names(const struct prof_profile *p, struct sim_state *st,
    enum sim_stage stage, const struct sim_facts *f,
    const struct sim_wnow *wn, struct sim_verdict *v)
{
	const struct prof_windows *lim = &p->limits.helo_names;
	char key[2 * SIM_PAIR_PART_MAX];
	char ip4[9];
	const char *ik = f->client_key;
	struct sim_entry *e;
	bool fresh[SIM_WIN__COUNT] = { false };
	bool hit = false;
	int wi, n;

	if (stage != SIM_STAGE_EHLO || f->helo == NULL ||
	    !p->replies[SIM_RK_HELO_CHANGES].enabled)
		return false;
	if (ik == NULL) {
		snprintf(ip4, sizeof(ip4), "%08x", (unsigned)f->client_ip);
		ik = ip4;
	}
	/* the client is in the text: SIM_KEY_HELO keys on text only */
	n = snprintf(key, sizeof(key), "%s|%s", ik, f->helo);
	if (n < 0 || (size_t)n >= sizeof(key))
		return false;
	if ((e = sim_state_get(st, SIM_KEY_HELO, f->prof, f->client_ip, key,
	    wn->ms)) == NULL)
		return false;
	for (wi = 0; wi < SIM_WIN__COUNT; wi++) {
		fresh[wi] = sim_win_count_at(&e->msgs[wi], wi, wn) == 0;
		sim_win_add_at(&e->msgs[wi], wi, wn, 1);
	}
	sim_state_put(st, e);
	key[strlen(ik) + 1] = '\0';
	if ((e = sim_state_get(st, SIM_KEY_HELO, f->prof, f->client_ip, key,
	    wn->ms)) == NULL)
		return false;
	for (wi = 0; wi < SIM_WIN__COUNT && !hit; wi++) {
		if (fresh[wi])
			sim_win_add_at(&e->msgs[wi], wi, wn, 1);
		if (lim->max[wi] != 0 &&
		    sim_win_count_at(&e->msgs[wi], wi, wn) > lim->max[wi])
			hit = fire(v, SIM_RK_HELO_CHANGES, lim->max[wi]);
	}
	for (; wi < SIM_WIN__COUNT; wi++)
		if (fresh[wi])
			sim_win_add_at(&e->msgs[wi], wi, wn, 1);
	sim_state_put(st, e);
	return hit;
}

/* check_idents - windows of the netblock, EHLO name, DKIM domain, URL
 * domains and Message-ID */
static bool
check_idents(const struct prof_profile *p, struct sim_state *st,
    struct dec_refs *r, enum sim_stage stage, const struct sim_facts *f,
    const struct sim_wnow *wn, struct sim_verdict *v)
{
	const struct prof_limits *l = &p->limits;
	struct prof_rate url = { l->per_url, { { 0 } } };
	struct prof_rate mid = { l->per_msgid, { { 0 } } };
	const char *d;
	unsigned i;

	if (check_helo_names(p, st, stage, f, wn, v))
		return true;
	if (at(p, SIM_RK_RATE_NETBLOCK, stage) && ident_check(p, st,
	    ref_nb(st, r), SIM_KEY_NETBLOCK, f->client_ip & 0xffffff00u,
	    f->netblock_key, SIM_RK_RATE_NETBLOCK, &l->per_netblock, stage, f, wn, v))
		return true;
	if (f->helo != NULL && ident_check(p, st, NULL, SIM_KEY_HELO, 0, f->helo,
	    SIM_RK_RATE_HELO, &l->per_helo, stage, f, wn, v))
		return true;
	if ((d = dkim_of(f)) != NULL && ident_check(p, st, NULL, SIM_KEY_DKIM, 0, d,
	    SIM_RK_RATE_DKIM, &l->per_dkim, stage, f, wn, v))
		return true;
	if (f->msg == NULL)
		return false;
	for (i = 0; i < f->msg->nurl_domains; i++)
		if (ident_check(p, st, NULL, SIM_KEY_URL, 0, f->msg->url_domains[i],
		    SIM_RK_RATE_URL, &url, stage, f, wn, v))
			return true;
	return f->msg->message_id[0] != '\0' && ident_check(p, st,
	    NULL, SIM_KEY_MSGID, 0, f->msg->message_id, SIM_RK_MSGID_RATE, &mid,
	    stage, f, wn, v);
}

/* ident_count - count an accepted message for one more identity */
static void
ident_count(const struct prof_profile *p, struct sim_state *st,
    struct sim_ref *ref, enum sim_key_kind kind, uint32_t ip, const char *str,
    const struct sim_facts *f, const struct sim_wnow *wn)
{
	struct sim_entry *e;

	if ((e = ident_get(st, ref, kind, f->prof, ip, str, wn->ms, true)) ==
	    NULL)
		return;
	tally_roll(&p->rep, &e->tally, (uint32_t)(wn->ms / DAY_MS));
	count_message(e, f, wn, 1);
	sim_state_put(st, e);
}

/* str_hash - FNV-1a of a string, for PRNG streams */
static uint64_t
str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; s != NULL && *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* msg_key - PRNG stream of a message: its Message-ID, or the sender,
 * client and time */
static uint64_t
msg_key(const struct sim_facts *f, uint64_t now)
{
	if (f->msg != NULL && f->msg->message_id[0] != '\0')
		return str_hash(f->msg->message_id);
	return str_hash(f->sender_domain) ^ sim_mix64(now ^
	    ((uint64_t)f->client_ip << 32)) ^
	    (f->client_key != NULL ? str_hash(f->client_key) : 0);
}

/* complaints_of - simulated recipients who mark the message as spam: one
 * draw per recipient with the sender's complaint rate of the simulated
 * day (complaint_rate, or its schedule), from a PRNG stream derived from
 * the scenario seed, the message (msg_key) and the recipient, so a run
 * replays */
static uint32_t
complaints_of(const struct prof_world *w, const struct sim_facts *f,
    uint64_t now)
{
	const struct prof_sender *s;
	struct sim_rng rng;
	uint64_t msg;
	uint32_t n = 0;
	double rate;
	size_t i;

	if (w->no_complaints)
		return 0;
	s = prof_world_sender(w, f->sender_domain);
	if (s->complaint_rate <= 0 && s->ncomplaint_steps == 0)
		return 0;
	rate = prof_sender_complaint_rate(s, now > w->start_ms ?
	    (uint32_t)((now - w->start_ms) / DAY_MS) : 0);
	if (rate <= 0)
		return 0;
	msg = msg_key(f, now);
	for (i = 0; i < f->nrcpts; i++) {
		sim_rng_seed(&rng, w->seed, msg ^ sim_mix64(str_hash(f->rcpts[i])
		    + i));
		if (sim_rng_double(&rng) < rate)
			n++;
	}
	return n;
}

/* rep_on - does the profile model reputation at all (else every score
 * stays at the initial one and need not be looked up) */
static bool
rep_on(const struct prof_reputation *r)
{
	return r->initial < r->max || r->pen_user_unknown > 0 ||
	    r->pen_auth_fail > 0 || r->pen_spike > 0 ||
	    r->pen_spam_trap > 0 || r->pen_complaint > 0;
}

/* scores - the verdict's IP and sender-domain scores after the decision
 * (domain -1 without a sender domain), looked up only when the profile
 * models reputation */
static void
scores(const struct prof_world *w, const struct prof_profile *p,
    struct dec_refs *r, struct sim_state *st, const struct sim_facts *f,
    const struct sim_wnow *wn, struct sim_verdict *v)
{
	(void)w;
	v->ip_rep = p->rep.initial;
	v->domain_rep = f->sender_domain != NULL ? p->rep.initial : -1;
	if (!rep_on(&p->rep))
		return;
	v->ip_rep = ref_score(p, st, ref_ip(st, r), wn);
	if (f->sender_domain != NULL)
		v->domain_rep = ref_score(p, st, ref_dom(st, r), wn);
}

/* ref_score - sim_policy_reputation() of a decision's identity */
static double
ref_score(const struct prof_profile *p, struct sim_state *st,
    struct sim_ref *ref, const struct sim_wnow *wn)
{
	struct sim_entry *e;
	double score;

	if ((e = sim_state_get_ref(st, ref, wn->ms, false)) == NULL)
		return p->rep.initial;
	score = rep_now(&p->rep, e, wn);
	sim_state_put(st, e);
	return score;
}

/* place_in - the placement inputs of an accepted message; org is the
 * organizational domain's entry (locked), or NULL when untracked */
static void
place_in(const struct prof_world *w, const struct prof_profile *p,
    const struct sim_facts *f, const struct sim_entry *org,
    const struct sim_verdict *v, uint64_t now, struct sim_place_in *in)
{
	const struct prof_complaints *c = &p->rep.complaints;
	const struct msg_info *m = f->msg;
	struct auth_view a;
	uint32_t min;

	memset(in, 0, sizeof(*in));
	auth_view(w, f, &a);
	in->ip_rep = v->ip_rep;
	in->domain_rep = v->domain_rep;
	in->spf_pass = a.spf == SIM_AUTH_PASS;
	in->dkim_pass = a.dkim == SIM_AUTH_PASS;
	in->dmarc_pass = a.dmarc == SIM_AUTH_PASS;
	in->aligned = a.aligned;
	in->tls = f->tls;
	if (m != NULL) {
		in->oneclick = (m->flags & MSG_F_ONECLICK) != 0;
		in->listunsub = (m->flags & MSG_F_LISTUNSUB) != 0;
		in->spam_score = m->spam_score;
		in->links = m->links;
	}
	if (org != NULL) {
		in->bulk = (org->tally.flags & TALLY_BULK) != 0;
		in->good_days = org->tally.good_days;
		in->comp_status = org->tally.status == COMP_WARN ?
		    SIM_PLACE_COMP_WARN : org->tally.status != COMP_BLOCK ?
		    SIM_PLACE_COMP_OK : org->tally.streak == 0 ?
		    SIM_PLACE_COMP_BLOCK : SIM_PLACE_COMP_HOLDING;
		min = c->min_messages > 0 ? c->min_messages : 1;
		if (org->tally.msgs >= min && org->tally.rcpts > 0)
			in->comp_rate = (double)org->tally.complaints /
			    org->tally.rcpts;
	}
	in->seed = w->seed;
	in->key = msg_key(f, now);
}

/* place - file an accepted message (verdict placement, category, rules) */
static void
place(const struct prof_world *w, const struct prof_profile *p,
    const struct sim_facts *f, const struct sim_entry *org, uint64_t now,
    struct sim_verdict *v)
{
	struct sim_place_in in;
	struct sim_place_out out;

	if (p->place.nrules == 0) {
		v->placement = p->place.dflt != SIM_PLACE_NONE ?
		    p->place.dflt : SIM_PLACE_INBOX;
		v->category = v->placement == SIM_PLACE_SPAM ? 0 :
		    p->place.dflt_category;
		return;
	}
	place_in(w, p, f, org, v, now, &in);
	sim_place_decide(&p->place, &in, &out);
	v->placement = out.place;
	v->category = out.category;
	v->place_rules = out.rules;
}

/* count_accepted - an accepted message counts for the organizational
 * domain (bulk status, complaints, warm-up) and the other identities
 * whose limits are on; deliveries to spam traps cost reputation.  Fills
 * the verdict's end-of-DATA facts: complaints, seeds, reputation after
 * the decision and placement (decided under the org entry's lock) */
static void
count_accepted(const struct prof_world *w, struct dec_refs *r,
    const struct prof_profile *p, struct sim_state *st,
    const struct sim_facts *f, const struct sim_wnow *wn, struct sim_verdict *v)
{
	const struct prof_limits *l = &p->limits;
	struct sim_ref *oref;
	const char *d;
	struct sim_entry *e;
	size_t i, traps = 0;
	double cost;
	unsigned u;

	if (p->replies[SIM_RK_RATE_NETBLOCK].enabled)
		ident_count(p, st, ref_nb(st, r), SIM_KEY_NETBLOCK,
		    f->client_ip & 0xffffff00u,		    f->netblock_key, f, wn);
	if (p->replies[SIM_RK_RATE_HELO].enabled && f->helo != NULL)
		ident_count(p, st, NULL, SIM_KEY_HELO, 0, f->helo, f, wn);
	if (p->replies[SIM_RK_RATE_DKIM].enabled && (d = dkim_of(f)) != NULL)
		ident_count(p, st, NULL, SIM_KEY_DKIM, 0, d, f, wn);
	if (p->replies[SIM_RK_RATE_URL].enabled && f->msg != NULL)
		for (u = 0; u < f->msg->nurl_domains; u++)
			ident_count(p, st, NULL, SIM_KEY_URL, 0,
			    f->msg->url_domains[u], f, wn);
	if (p->replies[SIM_RK_MSGID_RATE].enabled && f->msg != NULL &&
	    f->msg->message_id[0] != '\0')
		ident_count(p, st, NULL, SIM_KEY_MSGID, 0, f->msg->message_id, f, wn);
	for (i = 0; i < f->nrcpts && w->nspam_traps > 0; i++)
		traps += prof_world_spam_trap(w, f->rcpts[i]);
	for (i = 0; i < f->nrcpts && w->nseeds > 0; i++)
		v->nseeds += prof_world_seed(w, f->rcpts[i]);
	v->complaints = complaints_of(w, f, wn->ms);
	/* deliveries to spam traps and recipients marking the message as
	 * spam cost the sending IP and domain, in one penalty each */
	cost = p->rep.pen_spam_trap * (double)traps +
	    p->rep.pen_complaint * (double)v->complaints;
	penalize(p, st, r, SIM_KEY_IP, f, wn, cost);
	penalize(p, st, r, SIM_KEY_DOMAIN, f, wn, cost);
	scores(w, p, r, st, f, wn, v);
	if (!org_counted(p) || ref_org(st, r, &oref) == NULL ||
	    (e = sim_state_get_ref(st, oref, wn->ms, true)) == NULL) {
		place(w, p, f, NULL, wn->ms, v);
		return;
	}
	tally_roll(&p->rep, &e->tally, (uint32_t)(wn->ms / DAY_MS));
	count_message(e, f, wn, 1);
	if (l->bulk_threshold != 0 && sim_win_count_at(&e->msgs[SIM_WIN_DAY],
	    SIM_WIN_DAY, wn) >= l->bulk_threshold)
		e->tally.flags |= TALLY_BULK;	/* for good */
	e->tally.complaints += v->complaints;
	if (traps > 0)
		rep_penalize(&p->rep, e, wn, p->rep.pen_spam_trap *
		    (double)traps);
	place(w, p, f, e, wn->ms, v);
	sim_state_put(st, e);
}

/* roll_back - a later check refused a message the IP and sender-domain
 * entries already counted at end of DATA */
static void
roll_back(struct sim_state *st, struct dec_refs *r, enum sim_stage stage,
    const struct sim_facts *f, const struct sim_wnow *wn, bool ip, bool dom)
{
	struct sim_entry *e;

	if (stage != SIM_STAGE_EOD)
		return;
	if (ip && (e = sim_state_get_ref(st, ref_ip(st, r), wn->ms,
	    true)) != NULL) {
		count_message(e, f, wn, -1);
		sim_state_put(st, e);
	}
	if (dom && (e = sim_state_get_ref(st, ref_dom(st, r), wn->ms,
	    true)) != NULL) {
		count_message(e, f, wn, -1);
		sim_state_put(st, e);
	}
}

/* refused - run the checks in order; true when one refused (undoing
 * what earlier groups counted for the message or connection) */
static bool
refused(const struct prof_world *w, const struct prof_profile *p,
    struct dec_refs *r, struct sim_state *st, enum sim_stage stage,
    const struct sim_facts *f, const struct sim_wnow *wn, struct sim_verdict *v)
{
	struct sim_entry *e;
	bool ip_counted = false, dom_counted = false;

	if (check_stateless(w, p, stage, f, wn, v) ||
	    check_ipv6(w, p, stage, f, v)) {
		if (v->rk == SIM_RK_USER_UNKNOWN) {
			penalize(p, st, r, SIM_KEY_IP, f, wn,
			    p->rep.pen_user_unknown);
			penalize(p, st, r, SIM_KEY_DOMAIN, f, wn,
			    p->rep.pen_user_unknown);
		}
		return true;
	}
	if (check_message(p, stage, f, v) ||
	    check_org(w, p, r, st, stage, f, wn, v))
		return true;
	if (r->need_ip && check_ip(w, p, r, st, stage, f, wn, v, &ip_counted))
		return true;
	if (r->need_dom && check_domain(w, r, p, st, stage, f, wn, v, &dom_counted)) {
		if (ip_counted && stage == SIM_STAGE_EOD &&
		    (e = sim_state_get_ref(st, ref_ip(st, r), wn->ms,
		    true)) != NULL) {
			count_message(e, f, wn, -1);
			sim_state_put(st, e);
		}
		if (ip_counted && stage == SIM_STAGE_CONNECT)
			sim_policy_release(w, st, f, wn->ms);
		return true;
	}
	/* refusals of another identity's window (/24, EHLO, DKIM, URL,
	 * Message-ID, recipient) cost the client IP and sender domain
	 * nothing */
	if (check_idents(p, st, r, stage, f, wn, v) ||
	    check_rcpt(p, st, r, stage, f, wn, v) ||
	    check_grey(p, st, stage, f, wn, v)) {
		roll_back(st, r, stage, f, wn, ip_counted, dom_counted);
		return true;
	}
	return false;
}

/* ref_once - the decision's reference to an identity, hashed the first
 * time it is asked for (*set records that) */
static struct sim_ref *
ref_once(struct sim_state *st, struct sim_ref *ref, bool *set,
    enum sim_key_kind kind, const struct sim_facts *f, uint32_t ip,
    const char *str)
{
	if (!*set)
		sim_state_ref(st, ref, kind, f->prof, ip, str);
	*set = true;
	return ref;
}

/* ref_ip - the decision's reference to the client IP */
static struct sim_ref *
ref_ip(struct sim_state *st, struct dec_refs *r)
{
	return ref_once(st, &r->ip, &r->ip_set, SIM_KEY_IP, r->f,
	    r->f->client_ip, r->f->client_key);
}

/* ref_dom - ... to the sender domain (callers check there is one) */
static struct sim_ref *
ref_dom(struct sim_state *st, struct dec_refs *r)
{
	return ref_once(st, &r->dom, &r->dom_set, SIM_KEY_DOMAIN, r->f, 0,
	    r->f->sender_domain);
}

/* ref_org - the organizational domain's name (NULL for none) and, in
 * *ref, the decision's reference to it, both worked out on first use */
static const char *
ref_org(struct sim_state *st, struct dec_refs *r, struct sim_ref **ref)
{
	if (!r->org_set) {
		r->org_name = org_of(r->f);
		if (r->org_name != NULL)
			sim_state_ref(st, &r->org, SIM_KEY_ORG, r->f->prof, 0,
			    r->org_name);
		r->org_set = true;
	}
	*ref = &r->org;
	return r->org_name;
}

/* ref_nb - ... to the client's netblock */
static struct sim_ref *
ref_nb(struct sim_state *st, struct dec_refs *r)
{
	return ref_once(st, &r->nb, &r->nb_set, SIM_KEY_NETBLOCK, r->f,
	    r->f->client_ip & 0xffffff00u, r->f->netblock_key);
}

/* ref_rcpt - ... to the recipient at RCPT */
static struct sim_ref *
ref_rcpt(struct sim_state *st, struct dec_refs *r)
{
	return ref_once(st, &r->rcpt, &r->rcpt_set, SIM_KEY_RCPT, r->f, 0,
	    r->f->rcpt);
}

/* org_counted - does an accepted message count for the organizational
 * domain (bulk status, complaints, domain warm-up, placement) */
static bool
org_counted(const struct prof_profile *p)
{
	const struct prof_limits *l = &p->limits;
	const struct prof_complaints *c = &p->rep.complaints;

	return l->bulk_threshold != 0 || c->block_rate > 0 ||
	    c->warn_rate > 0 || l->warmup_domain.days != 0 ||
	    p->place.nrules != 0;
}

/* refs_init - which of the IP and sender-domain entries the stage checks;
 * those are hashed now, so their buckets are fetched while the stateless
 * checks run (and at end of DATA, where the scores read both anyway) */
static void
refs_init(struct dec_refs *r, const struct prof_profile *p,
    struct sim_state *st, enum sim_stage stage, const struct sim_facts *f)
{
	struct sim_ref *oref;

	memset(r, 0, sizeof(*r));
	r->f = f;
	r->need_ip = needs_entry(p, ip_kinds, sizeof(ip_kinds) /
	    sizeof(ip_kinds[0]), stage) || (stage == SIM_STAGE_CONNECT &&
	    (p->replies[SIM_RK_CONN_LIMIT].enabled ||
	    p->replies[SIM_RK_CONN_RATE].enabled));
	r->need_dom = needs_entry(p, domain_kinds, sizeof(domain_kinds) /
	    sizeof(domain_kinds[0]), stage);
	if (r->need_ip || (stage == SIM_STAGE_EOD && rep_on(&p->rep)))
		(void)ref_ip(st, r);
	if (f->sender_domain != NULL && stage >= SIM_STAGE_MAIL &&
	    (r->need_dom || (stage == SIM_STAGE_EOD && rep_on(&p->rep))))
		(void)ref_dom(st, r);
	/* the identities later groups read at this stage, when the
	 * profile has them */
	if (stage == SIM_STAGE_RCPT && f->rcpt != NULL &&
	    p->replies[SIM_RK_RATE_RECIPIENT].enabled)
		(void)ref_rcpt(st, r);
	if (stage == SIM_STAGE_EOD && p->replies[SIM_RK_RATE_NETBLOCK].enabled)
		(void)ref_nb(st, r);
	if (stage == SIM_STAGE_EOD && org_counted(p))
		(void)ref_org(st, r, &oref);
}

/* sim_policy_decide - the reply kind for a stage */
void
sim_policy_decide(const struct prof_world *w, struct sim_state *st,
    enum sim_stage stage, const struct sim_facts *f, uint64_t now,
    struct sim_verdict *v)
{
	const struct prof_profile *p;
	struct sim_wnow wn;
	struct auth_view av;
	struct dec_refs r;

	if (f->prof >= w->nprofiles)
		abort();
	p = w->profiles[f->prof];
	refs_init(&r, p, st, stage, f);
	memset(v, 0, sizeof(*v));
	v->rk = SIM_RK_ACCEPT;
	v->domain_rep = -1;
	sim_wnow_init(&wn, now);
	if (stage == SIM_STAGE_EOD && f->sender_domain != NULL) {
		auth_view(w, f, &av);
		v->spf = (uint8_t)av.spf;
		v->dkim = (uint8_t)av.dkim;
		v->dmarc = (uint8_t)av.dmarc;
	}
	if (refused(w, p, &r, st, stage, f, &wn, v))
		scores(w, p, &r, st, f, &wn, v);
	else if (stage == SIM_STAGE_EOD)
		count_accepted(w, &r, p, st, f, &wn, v);
}

/* sim_policy_release - an accepted connection closed */
void
sim_policy_release(const struct prof_world *w, struct sim_state *st,
    const struct sim_facts *f, uint64_t now)
{
	struct sim_entry *e;

	(void)w;
	e = sim_state_find(st, SIM_KEY_IP, f->prof, f->client_ip,
	    f->client_key, now);
	if (e == NULL)
		return;
	if (e->conns > 0)
		e->conns--;
	sim_state_put(st, e);
}

/* sim_policy_reputation - current score of an identity */
double
sim_policy_reputation(const struct prof_world *w, struct sim_state *st,
    enum sim_key_kind kind, uint32_t prof, uint32_t ip, const char *str,
    uint64_t now)
{
	const struct prof_profile *p;
	struct sim_entry *e;
	struct sim_wnow wn;
	double score;

	if (prof >= w->nprofiles)
		abort();
	p = w->profiles[prof];
	if ((e = sim_state_find(st, kind, prof, ip, str, now)) == NULL)
		return p->rep.initial;
	sim_wnow_init(&wn, now);
	score = rep_now(&p->rep, e, &wn);
	sim_state_put(st, e);
	return score;
}

/* sim_policy_set_reputation - force the score of an identity */
int
sim_policy_set_reputation(const struct prof_world *w, struct sim_state *st,
    enum sim_key_kind kind, uint32_t prof, uint32_t ip, const char *str,
    uint64_t now, double score)
{
	const struct prof_profile *p;
	struct sim_entry *e;

	if (prof >= w->nprofiles)
		return -EINVAL;
	p = w->profiles[prof];
	if ((e = sim_state_get(st, kind, prof, ip, str, now)) == NULL)
		return -ENOMEM;
	e->rep = score < 0 ? 0 : score > p->rep.max ? p->rep.max : score;
	e->rep_ms = now;
	sim_state_put(st, e);
	return 0;
}
