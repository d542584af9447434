/*
 * @file sim_policy.h
 * The policy and reputation engine: no I/O.  The SMTP session calls it at
 * connect, EHLO, MAIL, RCPT, DATA and end of DATA with the facts known then;
 * it answers which reply kind to send (the profile turns the kind into code,
 * enhanced code and text).  All provider behaviour is data in the profile:
 * a check fires only when its reply kind is enabled, and only at the stage
 * the profile gives that reply.
 *
 * Accepting commits the counts (connections at connect, messages and
 * recipients at end of DATA); a refusal commits nothing but the
 * reputation penalties the profile defines (never for a rate limit, a
 * warm-up or a per-recipient refusal) and its count on the identity's
 * escalation ladder.
 */
#ifndef SIM_POLICY_H
#define SIM_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "prof_world.h"
#include "sim_state.h"

/* Returned kind meaning "no objection": the session sends its success
 * reply for the stage. */
#define SIM_RK_ACCEPT	SIM_RK__COUNT

struct msg_info;

/* Outcome of an authentication check (SPF, DKIM, DMARC). */
enum sim_auth_res {
	SIM_AUTH_NONE = 0,	/* no record / no signature / not checked */
	SIM_AUTH_PASS,
	SIM_AUTH_FAIL,
	SIM_AUTH_SOFTFAIL,	/* SPF ~all */
	SIM_AUTH_NEUTRAL,	/* SPF ?all */
	SIM_AUTH_TEMPERROR,
	SIM_AUTH_PERMERROR
};

/* DMARC policy of the header-From domain. */
enum sim_dmarc_policy {
	SIM_DMARC_ABSENT = 0,	/* no record, or no p= */
	SIM_DMARC_NONE,
	SIM_DMARC_QUARANTINE,
	SIM_DMARC_REJECT
};

/*
 * Authentication computed for the message (SPF at MAIL, DKIM and DMARC at
 * end of DATA).  When a session cannot compute it (no DNS zone in the
 * scenario), it passes NULL and the policy uses the facts the scenario
 * declares for the sender domain (prof_world_sender()).
 */
struct sim_auth {
	enum sim_auth_res spf;		/* for the MAIL FROM domain */
	bool		 spf_hardfail;	/* the record ends in -all */
	enum sim_auth_res dkim;		/* PASS if any signature passed */
	const char	*dkim_domain;	/* d= of a passing signature */
	enum sim_auth_res dmarc;	/* EOD: PASS/FAIL, NONE = no record */
	enum sim_dmarc_policy dmarc_policy;
	bool		 aligned;	/* From aligned with SPF or DKIM pass */
};

/* What the session knows at a stage. */
struct sim_facts {
	uint32_t	 prof;		/* profile index */
	uint32_t	 mx_ip;		/* local address */
	uint32_t	 client_ip;	/* peer address (IPv4; 0 for IPv6) */
	const struct sim_addr6 *client6; /* IPv6 peer, NULL for IPv4 */
	const char	*client_key;	/* IPv6: the client's network at the
					 * scenario's ipv6_prefix, the key of
					 * its IP entry; NULL for IPv4 */
	const char	*netblock_key;	/* IPv6: ... at ipv6_netblock, the
					 * key of its netblock entry */
	const char	*helo;		/* EHLO/HELO argument, NULL before */
	const char	*sender_domain;	/* lower case; NULL before MAIL or <> */
	const char	*rcpt;		/* RCPT: the recipient, lower case */
	uint64_t	 sender_key;	/* MAIL..EOD: sim_grey_hash() of the
					 * MAIL FROM address ("" for <>) */
	const char *const *rcpts;	/* RCPT, DATA, EOD: recipients accepted
					 * so far in the transaction */
	size_t		 nrcpts;	/* their number */
	uint64_t	 size;		/* MAIL: declared SIZE (0 = none);
					 * EOD: bytes received */
	uint32_t	 msgs_in_conn;	/* messages accepted earlier on this
					 * connection */
	uint32_t	 rcpts_in_txn;	/* recipients accepted so far */
	const struct sim_auth *auth;	/* MAIL..EOD: computed results, or
					 * NULL (use the scenario's facts) */
	const struct msg_info *msg;	/* EOD: headers and content scanned
					 * from the message, or NULL */
	bool		 tls;		/* the session runs over TLS */
	bool		 no_tls;	/* the backend cannot offer STARTTLS
					 * (DPDK, --no-tls): TLS is not
					 * demanded even where the profile
					 * lists it */
};

struct sim_verdict {
	enum sim_rk	 rk;		/* SIM_RK_ACCEPT or a policy kind */
	uint64_t	 limit;		/* the limit that fired, for {limit} */
	/* End of DATA (zero elsewhere): what became of the message, for the
	 * event log and the Postmaster view, never for the reply. */
	uint8_t		 spf;		/* enum sim_auth_res the policy used: */
	uint8_t		 dkim;		/* computed, else the scenario's */
	uint8_t		 dmarc;		/* declared facts (with a sender) */
	uint8_t		 placement;	/* accepted: enum sim_place */
	uint8_t		 category;	/* accepted: 1 + category index, 0 none */
	uint32_t	 place_rules;	/* accepted: placement rules matched */
	uint32_t	 complaints;	/* accepted: recipients who complained */
	uint32_t	 nseeds;	/* accepted: seed-list recipients */
	/* Every refusal, and an accepted message at end of DATA: */
	double		 ip_rep;	/* client IP score after the decision */
	double		 domain_rep;	/* sender domain score, -1 for none */
};

/**
 * Decide the reply at a stage.  At SIM_STAGE_CONNECT an accepted
 * connection is counted as open (release it with sim_policy_release()).
 * At SIM_STAGE_EOD an accepted message is counted for the IP, the sender
 * domain and every recipient.  RCPT to an unknown user and messages failing
 * authentication cost reputation.  An accepted message at SIM_STAGE_EOD
 * also fills the verdict's complaints (drawn per recipient with the
 * sender's complaint rate of the day), nseeds, ip_rep, domain_rep and its
 * placement, category and place_rules from the profile's placement table
 * (sim_place.h; none = inbox); a refusal leaves them zero but for
 * ip_rep and domain_rep, the scores after the decision (domain_rep -1
 * without a sender domain).
 * No allocation.
 * @param now  simulated ms.
 */
void sim_policy_decide(const struct prof_world *w, struct sim_state *st,
    enum sim_stage stage, const struct sim_facts *f, uint64_t now,
    struct sim_verdict *v);

/**
 * @return whether a refusal of kind @p rk is counted on an identity (IP,
 * domain, recipient, ...), so that its escalation ladder can climb; false
 * for the checks that need no state (outage, blocklist, size, unknown
 * user, message format, ...).
 */
bool sim_policy_counted(enum sim_rk rk);

/** A connection accepted at SIM_STAGE_CONNECT has closed. */
void sim_policy_release(const struct prof_world *w, struct sim_state *st,
    const struct sim_facts *f, uint64_t now);

/**
 * @return the reputation score of an identity brought forward to @p now
 * (the profile's initial score when untracked).
 */
double sim_policy_reputation(const struct prof_world *w, struct sim_state *st,
    enum sim_key_kind kind, uint32_t prof, uint32_t ip, const char *str,
    uint64_t now);

/**
 * @return the score of entry @p e (locked by the caller, or visited by
 * sim_state_foreach()) brought forward to @p now under model @p r: linear
 * recovery per simulated hour up to the maximum; r->initial when the
 * entry has no score yet or @p e is NULL.
 */
double sim_policy_score(const struct prof_reputation *r,
    const struct sim_entry *e, uint64_t now);

/**
 * Set the reputation score of an identity (control API, tests).
 * @return 0, or -ENOMEM when the state is full.
 */
int sim_policy_set_reputation(const struct prof_world *w, struct sim_state *st,
    enum sim_key_kind kind, uint32_t prof, uint32_t ip, const char *str,
    uint64_t now, double score);

#endif /* SIM_POLICY_H */
