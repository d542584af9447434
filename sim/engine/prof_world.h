/*
 * @file prof_world.h
 * The world: every provider profile, the scenario that maps profiles to MX
 * addresses, and the sender/recipient facts the scenario declares.  Built
 * once by prof_load_scenario() (or by hand in tests), then shared read-only
 * by every worker.  A world never changes once workers see it: the
 * control API changes a deep copy (prof_world_clone()) and publishes the
 * copy in its place (world_slot.h).
 *
 * Ownership: a world owns all its strings and arrays; prof_world_free()
 * releases everything.  A shared world is reference-counted
 * (world_hold()/world_drop() in world_slot.h): new and cloned worlds
 * start with one reference, their maker's.  IPv4 addresses are in host
 * byte order; IPv6 ones (MX blocks6, reverse DNS rdns6, socket backend
 * only) are struct sim_addr6 (sim_addr.h).
 */
#ifndef PROF_WORLD_H
#define PROF_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_addr.h"
#include "sim_kinds.h"
#include "sim_place.h"

#define PROF_MAX_PROFILES	64	/* profiles per scenario */
#define PROF_MAX_EXT		16	/* EHLO extensions per profile */
#define PROF_MAX_STEPS		16	/* complaint schedule steps per sender */
#define PROF_ESC_MAX_HOURS	24	/* escalate.hours: at most a day */
#define PROF_ACCOUNT_MAX	255	/* bytes of an account's user name or
					 * password */
#define PROF_ESC_MAX_HOURLY	65535	/* escalate.after with hours (the
					 * per-hour count is 16 bits) */

/*
 * Escalation ladder of one reply: the policy answers kind `to` instead (a
 * deferral becomes a block), for `days` days when set, once the identity
 * the reply is about was refused `after` times in the simulated day, or
 * with `hours` set, `after` times in each of `hours` consecutive simulated
 * clock hours (the current one counts once it reaches `after`: sustained
 * pressure, so a burst that stops within `hours` hours never climbs), or
 * once its reputation score fell below `below`.  `to` 0 (ok.greeting,
 * never a target) means no ladder; `after` 0 and `below` 0 disable that
 * trigger.
 */
struct prof_escalate {
	enum sim_rk	 to;
	uint32_t	 after;		/* refusals of the identity that day,
					 * or in each hour with `hours` */
	uint32_t	 hours;		/* 0 = per day; 1..24 hours in a row */
	double		 below;		/* reputation score */
	uint32_t	 days;		/* once reached, `to` holds this many
					 * days (0 = while the trigger lasts) */
};

/* One reply of a profile: what to answer for one reply kind. */
struct prof_reply {
	uint16_t	 code;		/* 200..599 */
	char		*enhanced;	/* "4.7.28", or "" for none */
	char		*text;		/* template, see smtp_reply.h */
	enum sim_stage	 stage;		/* where a policy kind is answered */
	bool		 enabled;	/* policy kinds: false = never fires */
	bool		 close;		/* close after sending (421 always does) */
	struct prof_escalate esc;	/* ladder to a harder reply */
};

/* Limits over the four windows; 0 means unlimited. */
struct prof_windows {
	uint32_t	 max[SIM_WIN__COUNT];
};

/* Counters kept per identity: messages and recipients over windows. */
struct prof_rate {
	struct prof_windows messages;
	struct prof_windows recipients;
};

/* New-IP warm-up: allowed messages per simulated day grow with age. */
struct prof_warmup {
	uint32_t	 days;		/* 0 = no warm-up; ramp lasts this long */
	uint32_t	 first_day;	/* messages allowed on day 0 */
	double		 growth;	/* factor per day (>= 1.0) */
};

/* Complaint-rate model (computed once per simulated day per header-From
 * organizational domain; rates are fractions: 0.001 = 0.1 %). */
struct prof_complaints {
	double		 warn_rate;	/* at or above: complaints.temp */
	double		 block_rate;	/* at or above: complaints.block */
	uint32_t	 recovery_days;	/* clean days (below block_rate) in a
					 * row before a block lifts */
	uint32_t	 min_messages;	/* a day with fewer messages is not
					 * rated (but counts as clean) */
};

/* Content thresholds at end of DATA; 0 = off. */
struct prof_content {
	uint32_t	 spam_score;	/* msg_info.spam_score at or above:
					 * content.spam */
	uint32_t	 max_links;	/* more links than this: content.links */
};

/* Reputation model: one score per (provider, IP) and (provider, domain). */
struct prof_reputation {
	double		 initial;	/* score of a new sender (0..max) */
	double		 max;		/* ceiling */
	double		 recover_per_hour; /* simulated-hour recovery */
	double		 temp_below;	/* score below this: reputation.temp */
	double		 block_below;	/* score below this: reputation.block */
	double		 pen_user_unknown; /* per recipient to an unknown user */
	double		 pen_auth_fail;	/* per message failing SPF and DKIM */
	double		 pen_spike;	/* per message beyond the spike line */
	double		 pen_spam_trap;	/* per message delivered to a trap */
	double		 pen_complaint;	/* per recipient who complained */
	double		 spike_factor;	/* minute volume above factor x hourly
					 * average per minute is a spike */
	uint32_t	 spike_min;	/* ... and above this many per minute */
	struct prof_complaints complaints;
};

struct prof_limits {
	uint32_t	 conns_per_ip;	/* concurrent connections per IP */
	struct prof_windows conn_rate;	/* new connections per IP */
	uint32_t	 msgs_per_conn;	/* messages per connection */
	uint32_t	 rcpts_per_msg;	/* recipients per message */
	uint64_t	 max_size;	/* bytes; also EHLO SIZE */
	struct prof_rate per_ip;	/* per (provider, sending IP) */
	struct prof_rate per_domain;	/* per (provider, sender domain) */
	struct prof_windows per_recipient; /* messages per recipient */
	struct prof_warmup warmup;
	/* provider fidelity (issue 5) */
	struct prof_warmup warmup_domain; /* the same ramp for a new header-From
					 * organizational domain */
	uint32_t	 bulk_threshold; /* messages per rolling day from one
					 * organizational domain that make it
					 * a bulk sender for good; 0 = never */
	uint32_t	 rcpt_domains;	/* distinct recipient domains per
					 * transaction -> rcpts.domains */
	uint32_t	 max_hops;	/* Received headers -> hops */
	uint32_t	 max_attachments; /* MIME attachments -> attachments */
	uint32_t	 max_header_bytes; /* -> header.size */
	struct prof_content content;
	struct prof_rate per_netblock;	/* per client /24 */
	struct prof_rate per_helo;	/* per EHLO name */
	struct prof_rate per_dkim;	/* per DKIM d= domain */
	struct prof_windows per_url;	/* messages per URL domain */
	struct prof_windows per_msgid;	/* copies per Message-ID */
	struct prof_rate per_user;	/* per authenticated account of a
					 * submission profile (sim_acct.h) */
	struct prof_windows per_pair;	/* messages per (sender domain,
					 * recipient) -> rate.pair */
	struct prof_windows helo_names;	/* distinct EHLO names per client IP
					 * -> helo.changes */
	uint32_t	 count_refused;	/* nonzero: an attempt the IP entry
					 * refuses after MAIL FROM counts as a
					 * message in the per_ip windows */
};

/* SASL mechanisms a submission profile offers (bits). */
#define PROF_MECH_PLAIN		0x1u
#define PROF_MECH_LOGIN		0x2u

/* A submission service (port 587, SMTP AUTH after STARTTLS); off when
 * mechs is 0 (an MX profile). */
struct prof_submit {
	unsigned	 mechs;		/* PROF_MECH_* offered after TLS */
	uint32_t	 lockout_after;	/* failed logins in a row that lock
					 * the account; 0 = never */
	uint32_t	 lockout_minutes; /* simulated minutes it stays locked */
};

/* An account of a submission profile (scenario servers[].accounts). */
struct prof_account {
	char		*user;		/* as the client sends it, exact */
	char		*password;
	uint32_t	 profile;	/* index into world.profiles */
};

/* Triplet greylisting (sim_grey.h): the first attempt of an (IP, sender,
 * recipient) triplet is answered `greylist`; a retry after `delay_s` and
 * within `window_s` of that attempt passes, and the triplet then passes
 * until `keep_s` pass without mail from it.  Simulated seconds; delay_s 0
 * = off. */
struct prof_greylist {
	uint32_t	 delay_s;
	uint32_t	 window_s;
	uint32_t	 keep_s;
};

/* How much of a message the message scanner reads for a profile
 * (prof_scan.h); ALL is the default. */
enum prof_scan {
	PROF_SCAN_ALL = 0,	/* headers and body */
	PROF_SCAN_HEADERS,	/* headers only */
	PROF_SCAN_NONE		/* nothing: the policy gets no message facts */
};

struct prof_profile {
	char		*name;		/* "gmail" */
	char		*file;		/* where it was loaded from */
	char		**domains;	/* recipient domains served */
	size_t		 ndomains;
	char		**mx_hosts;	/* MX host names; [0] is the greeting name */
	size_t		 nmx_hosts;
	char		*ext[PROF_MAX_EXT]; /* EHLO extensions, e.g. "PIPELINING";
					 * SIZE is added from limits.max_size */
	size_t		 next;
	char		*trailer;	/* template appended to every reply text
					 * except EHLO, e.g. " {session} - gsmtp" */
	uint32_t	 wrap;		/* wrap reply text at this many columns
					 * into a multi-line reply; 0 = never */
	struct prof_limits limits;
	struct prof_reputation rep;
	struct prof_reply replies[SIM_RK__COUNT];
	struct sim_place_table place;	/* placement rules (issue 9); none =
					 * every accepted message in the inbox */
	struct prof_submit submit;	/* submission service, or mechs 0 */
	struct prof_greylist grey;	/* triplet greylisting, delay_s 0 = off */
	char		**blocked_ext;	/* attachment file-name extensions
					 * (lower case, no dot) that
					 * content.blocked_type refuses */
	size_t		 nblocked_ext;
	uint64_t	 outage_until_ms; /* simulated ms; "outage" answers
					 * until then (set by the control API) */
	enum prof_scan	 scan;		/* what the rules read of a message
					 * (prof_scan.h) */
	char		*fixed[SIM_RK__COUNT]; /* a reply's lines as sent when
					 * its text names nothing that varies
					 * (smtp_reply_fix()), or NULL; freed
					 * with the profile, never cloned */
};

/* Authentication facts the scenario declares for a sender domain. */
enum prof_auth {
	PROF_AUTH_NONE = 0,
	PROF_AUTH_PASS,
	PROF_AUTH_FAIL,
	PROF_AUTH_TEMPERROR	/* the DNS lookup failed (a scenario choice) */
};

/* DMARC policy a scenario declares (when it gives no record text). */
enum prof_dmarc_policy {
	PROF_DMARC_NONE = 0,
	PROF_DMARC_QUARANTINE,
	PROF_DMARC_REJECT
};

/* One DKIM selector of a sender domain: a key from a PEM file or one
 * generated at start (prof_world_build_zone()). */
struct prof_dkim_key {
	char		*selector;
	char		*key_path;	/* PEM file as named, or NULL */
	char		*key_pem;	/* the private key, once read/made */
	unsigned	 generate;	/* RSA bits to generate, 0 = key_path */
};

/* An extra DNS record of the scenario. */
struct prof_record {
	char		*name;
	unsigned	 type;		/* enum auth_rr_type: 1 A, 15 MX, 16 TXT */
	char		*data;
	unsigned	 pref;		/* MX preference */
};

/* One step of a sender's complaint schedule: from simulated day `day`
 * (days since the scenario start) the complaint rate is `rate`; before
 * the first step it is complaint_rate.  Steps ascend by day. */
struct prof_complaint_step {
	uint32_t	 day;
	double		 rate;
};

struct prof_sender {
	char		*domain;	/* lower case */
	enum prof_auth	 spf;
	enum prof_auth	 dkim;
	enum prof_auth	 dmarc;
	enum prof_dmarc_policy dmarc_policy; /* when dmarc is pass or fail */
	bool		 spf_hardfail;	/* the declared SPF record ends -all */
	bool		 spf_suspicious; /* the record is too broad (+all) */
	double		 complaint_rate; /* chance a recipient complains */
	struct prof_complaint_step complaint_steps[PROF_MAX_STEPS];
	size_t		 ncomplaint_steps; /* 0 = complaint_rate every day */
	/* the DNS world of the domain (all optional) */
	char		*spf_record;	/* "v=spf1 ..." */
	char		*dmarc_record;	/* "v=DMARC1; p=..." */
	struct prof_dkim_key *dkim_keys;
	size_t		 ndkim_keys;
	struct prof_record *records;	/* extra records */
	size_t		 nrecords;
};

/* An address block served by one profile. */
struct prof_block {
	uint32_t	 addr;		/* network address */
	uint32_t	 mask;		/* netmask */
	uint32_t	 profile;	/* index into world.profiles */
};

/* An IPv6 address block served by one profile (issue 16: the socket
 * backend binds each address; DPDK serves IPv4 only). */
struct prof_block6 {
	struct sim_addr6 addr;		/* network address */
	unsigned	 prefix;	/* 0..128 */
	uint32_t	 profile;	/* index into world.profiles */
};

/* IPv6 senders are keyed by their network at this prefix (scenario
 * ipv6_prefix), and their "netblock" (the /24 of IPv4) at
 * PROF_IPV6_NETBLOCK_DEFAULT (scenario ipv6_netblock).  Simulator
 * choice: /64 is one IPv6 subnet (RFC 4291 section 2.5.1: 64-bit
 * interface identifiers; RFC 7421), so a host rotating addresses inside
 * its subnet stays one identity; /48 is the classic end-site allocation
 * (RFC 6177 section 1). */
#define PROF_IPV6_PREFIX_DEFAULT	64
#define PROF_IPV6_NETBLOCK_DEFAULT	48

struct prof_cidr {
	uint32_t	 addr;
	uint32_t	 mask;
};

/* What the scenario declares about a client address block (clients:). */
enum prof_client_fact {
	PROF_CLIENT_DIALUP = 0,	/* dial-up / residential / dynamic space */
	PROF_CLIENT_NOREP	/* unknown to the receiver (not allowlisted) */
};

/* One declared client block (scenario clients:). */
struct prof_client {
	uint32_t	 addr;
	uint32_t	 mask;
	enum prof_client_fact fact;
};

/* What the reverse DNS of a client address says (scenario
 * senders.reverse_dns); undeclared addresses are PROF_RDNS_VALID. */
enum prof_rdns_state {
	PROF_RDNS_VALID = 0,	/* PTR name whose A points back (FCrDNS) */
	PROF_RDNS_NONE,		/* no PTR record */
	PROF_RDNS_MISMATCH	/* PTR name whose A points elsewhere */
};

/* Reverse DNS of one client address block. */
struct prof_rdns {
	uint32_t	 addr;		/* network address, host order */
	uint32_t	 mask;		/* netmask */
	enum prof_rdns_state state;
	char		*ptr;		/* PTR name, lower case; NULL for NONE */
};

/* An IPv6 client block (scenario blocklist). */
struct prof_cidr6 {
	struct sim_addr6 addr;
	unsigned	 prefix;
};

/* Reverse DNS of one IPv6 client block (scenario senders.reverse_dns). */
struct prof_rdns6 {
	struct sim_addr6 addr;		/* network address */
	unsigned	 prefix;
	enum prof_rdns_state state;
	char		*ptr;		/* PTR name, lower case; NULL for NONE */
};

struct prof_world {
	char		*file;		/* scenario path, "" when built by hand */
	uint64_t	 seed;
	double		 time_scale;	/* simulated seconds per real second */
	uint64_t	 start_ms;	/* simulated epoch at start (Unix ms) */
	uint16_t	 port;		/* TCP port of every MX */
	uint16_t	 submission_port; /* TCP port of every submission
					 * profile's addresses (587) */
	uint32_t	 workers;	/* 0 = one per core */
	uint32_t	 idle_timeout_s; /* real seconds without input -> 421 4.4.2 */
	uint32_t	 session_timeout_s; /* real seconds per session, total */
	uint32_t	 max_errors;	/* protocol errors before 421 */
	char		*event_log;	/* JSON Lines path, NULL = none */

	struct prof_profile *profiles[PROF_MAX_PROFILES];
	size_t		 nprofiles;
	struct prof_block *blocks;	/* MX address blocks, most specific wins */
	size_t		 nblocks;

	struct prof_sender *senders;	/* declared sender domains */
	size_t		 nsenders;
	struct prof_sender default_sender; /* for undeclared domains */
	struct prof_cidr *blocklist;	/* blocklisted client IPs */
	size_t		 nblocklist;
	struct prof_client *clients;	/* declared client facts */
	size_t		 nclients;
	struct prof_rdns *rdns;		/* declared reverse DNS; blocks do
					 * not overlap */
	size_t		 nrdns;
	char		**unknown_rcpts; /* fnmatch(3) patterns, lower case */
	size_t		 nunknown_rcpts;
	char		**spam_traps;	/* fnmatch(3) patterns, lower case */
	size_t		 nspam_traps;
	char		**seeds;	/* seed-list recipients (placement
					 * tests): fnmatch(3), lower case */
	size_t		 nseeds;
	char		**inactive_rcpts; /* disabled mailboxes: fnmatch(3),
					 * lower case -> user.inactive */
	size_t		 ninactive_rcpts;
	char		**full_rcpts;	/* mailboxes over quota: fnmatch(3),
					 * lower case -> user.over_quota */
	size_t		 nfull_rcpts;
	char		**moved_rcpts;	/* mailboxes moved or deleted from the
					 * server: fnmatch(3), lower case ->
					 * user.moved */
	size_t		 nmoved_rcpts;
	char		**tls_rcpts;	/* recipients whose domain requires
					 * TLS: fnmatch(3), lower case ->
					 * tls.required */
	size_t		 ntls_rcpts;
	char		**unresolvable;	/* sender domains that do not resolve:
					 * fnmatch(3), lower case ->
					 * sender.unresolvable */
	size_t		 nunresolvable;
	char		**dbl;		/* domain blocklist (DBL): fnmatch(3),
					 * lower case -> helo.blocklisted,
					 * content.blocklisted */
	size_t		 ndbl;
	bool		 no_complaints;	/* no sender can draw a complaint (set
					 * by the loader; false = look each
					 * message's sender up) */
	char		*dns_listen;	/* "ADDR:PORT" of the scenario's DNS
					 * server, NULL = none */
	uint32_t	 dns_addr;	/* ... parsed, host order */
	uint16_t	 dns_port;
	struct prof_account *accounts;	/* submission accounts; the index is
					 * the account's id in sim_acct */
	size_t		 naccounts;
	/* IPv6 (issue 16) */
	struct prof_block6 *blocks6;	/* IPv6 MX blocks; never overlap */
	size_t		 nblocks6;
	struct prof_cidr6 *blocklist6;	/* blocklisted IPv6 clients */
	size_t		 nblocklist6;
	struct prof_rdns6 *rdns6;	/* declared IPv6 reverse DNS */
	size_t		 nrdns6;
	unsigned	 ipv6_prefix;	/* client identity prefix, 1..128 */
	unsigned	 ipv6_netblock;	/* client netblock prefix, 1..128 */
	char		**ipv4_only;	/* recipients whose domain takes no
					 * mail over IPv6: fnmatch(3), lower
					 * case (scenario recipients.ipv4_only) */
	size_t		 nipv4_only;
	unsigned	 refs;		/* holders; atomic, world_slot.c only */
};

/**
 * Allocate an empty world with the scenario defaults (seed 1, scale 1,
 * port 2525, idle 300 s, session 1800 s, 10 errors, everything passes
 * authentication by default).
 * @return a world, or NULL when out of memory.
 */
struct prof_world *prof_world_new(void);

/** Free a world and everything it owns, whatever its references (for a
 *  world nobody else reaches; shared worlds: world_drop()); NULL is
 *  accepted. */
void prof_world_free(struct prof_world *w);

/**
 * Deep copy of a world: every profile, string and array is copied, so the
 * copy can be changed and freed without touching the original.  Profile
 * indices and counts are the same in both; the copy has one reference.
 * @return the copy (free it with prof_world_free()), or NULL when out of
 * memory.
 */
struct prof_world *prof_world_clone(const struct prof_world *w);

/**
 * Allocate a profile filled with defaults: no limits, the reputation model
 * off (initial = max = 100, no penalties), every reply kind at its
 * sim_kind_info() default, policy kinds disabled except "outage" (which
 * fires only while outage_until_ms is in the future).
 * @param name  profile name, copied.
 * @return a profile, or NULL when out of memory.
 */
struct prof_profile *prof_profile_new(const char *name);

/** Free a profile; NULL is accepted. */
void prof_profile_free(struct prof_profile *p);

/**
 * Deep copy of a profile (limits, reputation, replies, texts, outage).
 * @return the copy (free it with prof_profile_free()), or NULL when out of
 * memory.
 */
struct prof_profile *prof_profile_clone(const struct prof_profile *p);

/**
 * Set one reply of a profile (copies the strings) and enable it.
 * @return 0, or -ENOMEM.
 */
int prof_set_reply(struct prof_profile *p, enum sim_rk rk, uint16_t code,
    const char *enhanced, const char *text, enum sim_stage stage);

/**
 * Add a profile to the world (the world takes ownership).
 * @return the profile's index, or -ENOSPC when PROF_MAX_PROFILES are in.
 */
int prof_world_add_profile(struct prof_world *w, struct prof_profile *p);

/**
 * Serve @p addr/@p prefix with profile @p profile.
 * @return 0, -EINVAL (bad prefix or profile index), or -ENOMEM.
 */
int prof_world_add_block(struct prof_world *w, uint32_t addr, unsigned prefix,
    uint32_t profile);

/** @return the profile index serving local address @p addr, or -1. */
int prof_world_lookup(const struct prof_world *w, uint32_t addr);

/** @return the TCP port profile @p prof's addresses listen on:
 *  submission_port for a submission profile, port for an MX. */
uint16_t prof_world_port(const struct prof_world *w, uint32_t prof);

/** @return true when some profile of the world is a submission service. */
bool prof_world_has_submission(const struct prof_world *w);

/** @return the index of account @p user (exact) of profile @p prof in
 *  world.accounts, or -1. */
int prof_world_account(const struct prof_world *w, uint32_t prof,
    const char *user, size_t ulen);
/**
 * Serve IPv6 @p addr/@p prefix with profile @p profile.
 * @return 0, -EINVAL (bad prefix or profile index), or -ENOMEM.
 */
int prof_world_add_block6(struct prof_world *w, const struct sim_addr6 *addr,
    unsigned prefix, uint32_t profile);

/** @return the profile index serving local IPv6 address @p a, or -1. */
int prof_world_lookup6(const struct prof_world *w, const struct sim_addr6 *a);

/** @return true when IPv6 client @p a is on the scenario's blocklist. */
bool prof_world_blocklisted6(const struct prof_world *w,
    const struct sim_addr6 *a);

/** Reverse DNS of IPv6 client @p a, as prof_world_rdns(). */
enum prof_rdns_state prof_world_rdns6(const struct prof_world *w,
    const struct sim_addr6 *a, const struct prof_rdns6 **rd);

/** @return true when recipient @p addr (lower case) takes no IPv6 mail. */
bool prof_world_ipv4_only(const struct prof_world *w, const char *addr);

/** @return the facts for @p domain (lower case), or the default sender. */
const struct prof_sender *prof_world_sender(const struct prof_world *w,
    const char *domain);

/** @return true when client @p addr is on the scenario's blocklist. */
bool prof_world_blocklisted(const struct prof_world *w, uint32_t addr);

/** @return true when the scenario declares @p fact of client @p addr. */
bool prof_world_client(const struct prof_world *w, uint32_t addr,
    enum prof_client_fact fact);

/**
 * Reverse DNS of client @p addr.
 * @param rd  when not NULL, receives the declared block, or NULL when
 *	      the address is undeclared.
 * @return the block's state; PROF_RDNS_VALID for undeclared addresses.
 */
enum prof_rdns_state prof_world_rdns(const struct prof_world *w,
    uint32_t addr, const struct prof_rdns **rd);

/** @return true when recipient @p addr (lower case) is declared unknown. */
bool prof_world_rcpt_unknown(const struct prof_world *w, const char *addr);

/** @return true when recipient @p addr (lower case) is declared inactive
 *  (a disabled or deactivated mailbox). */
bool prof_world_rcpt_inactive(const struct prof_world *w, const char *addr);

/** @return true when recipient @p addr (lower case) is declared over its
 *  quota. */
bool prof_world_rcpt_full(const struct prof_world *w, const char *addr);

/** @return true when recipient @p addr (lower case) is declared moved or
 *  deleted from the server. */
bool prof_world_rcpt_moved(const struct prof_world *w, const char *addr);

/** @return true when recipient @p addr (lower case) is in a domain the
 *  scenario declares TLS-only (recipients.tls_required). */
bool prof_world_rcpt_tls(const struct prof_world *w, const char *addr);

/** @return true when sender domain @p domain (lower case) is declared not
 *  to resolve (no A, MX or SOA). */
bool prof_world_unresolvable(const struct prof_world *w, const char *domain);

/** @return true when @p domain (lower case) is on the scenario's domain
 *  blocklist. */
bool prof_world_domain_listed(const struct prof_world *w, const char *domain);

/** @return true when recipient @p addr (lower case) is a spam trap. */
bool prof_world_spam_trap(const struct prof_world *w, const char *addr);

/** @return true when recipient @p addr (lower case) is a seed address. */
bool prof_world_seed(const struct prof_world *w, const char *addr);

/**
 * @return the complaint rate of sender @p s on simulated day @p day
 * (days since the scenario start): the last schedule step at or before
 * that day, else s->complaint_rate.
 */
double prof_sender_complaint_rate(const struct prof_sender *s, uint32_t day);

/** Key operations prof_world_build_zone() needs for DKIM (auth_dkim.h's
 *  auth_dkim_keygen() and auth_dkim_pubkey() fit). */
typedef int prof_keygen_fn(unsigned bits, char *priv, size_t privmax,
    char *pub, size_t pubmax);
typedef int prof_pubkey_fn(const char *priv, char *pub, size_t pubmax);

struct auth_zone;

/**
 * Fill @p z with the scenario's DNS world: for every sender domain its
 * SPF, DMARC and DKIM TXT records and extra records; for every provider
 * domain MX records naming its mx_hosts, and for each MX host an A record
 * inside the first address block the profile serves; for every named
 * reverse_dns block a PTR per address and the name's A records (the
 * block's addresses, or 192.0.2.1 for a forward mismatch).  DKIM keys with
 * `generate` get a new key (stored in the world's key_pem so a signer can
 * use it); keys read from PEM files get their public key derived.
 * @param keygen, pubkey  may be NULL when no sender has DKIM keys.
 * @return 0; -EINVAL for a bad key or record (@p why, when not NULL,
 * names the record); -ENOTSUP when a DKIM key exists and @p keygen or
 * @p pubkey is NULL; -ENOMEM.
 */
int prof_world_build_zone(struct prof_world *w, struct auth_zone *z,
    prof_keygen_fn *keygen, prof_pubkey_fn *pubkey, char *why, size_t whylen);

/** @return number of addresses all blocks cover, IPv4 and IPv6 (overlaps
 *  counted twice; an IPv6 block counts at most 2^32). */
uint64_t prof_world_naddrs(const struct prof_world *w);

/**
 * Parse "a.b.c.d" or "a.b.c.d/n" into address and prefix length.
 * @return 0, or -EINVAL.
 */
int prof_parse_cidr(const char *s, uint32_t *addr, unsigned *prefix);

#endif /* PROF_WORLD_H */
