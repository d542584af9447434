/*
 * @file sim_place.h
 * Where a simulated provider files an accepted message.  The decision is
 * made at end of DATA from the profile's placement rules and reaches the
 * event log and the Postmaster view, never the SMTP reply.
 *
 * A placement table is an ordered list of rules.  Each rule has a name,
 * conditions over what the policy knows of the message (struct
 * sim_place_in) and an outcome: a folder, a category, or both, applied
 * with a probability.  Every rule whose conditions hold and whose draw
 * succeeds "applies" and sets its bit in the result; the first applying
 * rule with a folder decides the folder, the first with a category
 * decides the category.  Nothing applying: the table's default folder and
 * category.  A message filed as spam has no category.
 *
 * sim_place_decide() is a pure function of (table, inputs): the draws
 * come from a PRNG seeded with the inputs' seed and key, so a run replays.
 * No provider publishes its filing rules; the rules are the simulation's.
 */
#ifndef SIM_PLACE_H
#define SIM_PLACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The folder of an accepted message (event log "placement"). */
enum sim_place {
	SIM_PLACE_NONE = 0,	/* not accepted, or no decision */
	SIM_PLACE_INBOX,	/* "inbox" */
	SIM_PLACE_SPAM,		/* "spam" (junk, bulk folder) */
	SIM_PLACE_PROMOTIONS,	/* "promotions" (a tab beside the inbox) */
	SIM_PLACE_COUNT
};

#define SIM_PLACE_MAX_RULES	32	/* bits of sim_place_out.rules */
#define SIM_PLACE_MAX_CATS	8	/* categories per profile */
#define SIM_PLACE_NAME_MAX	32	/* bytes of a rule or category name */

/* Complaint status of the header-From organizational domain, as the
 * placement rules see it (bit values, for sim_place_rule.comp_status). */
enum sim_place_comp {
	SIM_PLACE_COMP_OK = 0,
	SIM_PLACE_COMP_WARN,	/* yesterday at or above the warn rate */
	SIM_PLACE_COMP_BLOCK,	/* the day just closed was at or above the
				 * block rate */
	SIM_PLACE_COMP_HOLDING,	/* blocked earlier, not yet the profile's
				 * recovery_days clean days in a row */
	SIM_PLACE_COMP__COUNT
};

/* Condition bits of a rule (sim_place_rule.when); all set ones must hold. */
#define SIM_PLACE_C_IP_REP	0x0001u	/* ip_rep < ip_rep_below */
#define SIM_PLACE_C_DOMAIN_REP	0x0002u	/* domain_rep known and below */
#define SIM_PLACE_C_SPF		0x0004u	/* SPF did not pass */
#define SIM_PLACE_C_DKIM	0x0008u	/* DKIM did not pass */
#define SIM_PLACE_C_DMARC	0x0010u	/* DMARC did not pass */
#define SIM_PLACE_C_UNALIGNED	0x0020u	/* From aligned with no pass */
#define SIM_PLACE_C_COMP_STATUS	0x0040u	/* status in comp_status */
#define SIM_PLACE_C_COMP_RATE	0x0080u	/* today's rate >= comp_rate */
#define SIM_PLACE_C_BULK	0x0100u	/* a bulk sender */
#define SIM_PLACE_C_NOT_BULK	0x0200u	/* not a bulk sender */
#define SIM_PLACE_C_NO_ONECLICK	0x0400u	/* no RFC 8058 one-click unsub */
#define SIM_PLACE_C_LISTUNSUB	0x0800u	/* a List-Unsubscribe header */
#define SIM_PLACE_C_SPAM_SCORE	0x1000u	/* spam_score >= spam_score_min */
#define SIM_PLACE_C_LINKS	0x2000u	/* links >= links_min */
#define SIM_PLACE_C_NEW		0x4000u	/* good_days < new_days */
#define SIM_PLACE_C_NO_TLS	0x8000u	/* the session is not over TLS */

/* One placement rule (profile data, see profiles/README.md). */
struct sim_place_rule {
	char		 name[SIM_PLACE_NAME_MAX];
	uint32_t	 when;		/* SIM_PLACE_C_* */
	double		 ip_rep_below;
	double		 domain_rep_below;
	uint8_t		 comp_status;	/* bit (1 << enum sim_place_comp) */
	double		 comp_rate;	/* fraction, 0.003 = 0.3 % */
	uint32_t	 spam_score_min;
	uint32_t	 links_min;
	uint32_t	 new_days;
	uint8_t		 place;		/* enum sim_place; NONE = no folder */
	uint8_t		 category;	/* 1 + category index; 0 = none */
	double		 chance;	/* 0 < chance <= 1 */
};

/* A profile's placement rules; zeroed = everything in the inbox. */
struct sim_place_table {
	struct sim_place_rule rules[SIM_PLACE_MAX_RULES];
	size_t		 nrules;
	char		 cats[SIM_PLACE_MAX_CATS][SIM_PLACE_NAME_MAX];
	size_t		 ncats;
	uint8_t		 dflt;		/* default folder; NONE = inbox */
	uint8_t		 dflt_category;	/* 1 + index; 0 = none */
};

/* What the policy knows of an accepted message at end of DATA. */
struct sim_place_in {
	double		 ip_rep;	/* client IP score */
	double		 domain_rep;	/* sender domain score, < 0 unknown */
	bool		 spf_pass;
	bool		 dkim_pass;
	bool		 dmarc_pass;
	bool		 aligned;
	bool		 bulk;		/* the org domain is a bulk sender */
	bool		 oneclick;	/* RFC 8058 one-click unsubscribe */
	bool		 listunsub;	/* a List-Unsubscribe header */
	bool		 tls;
	uint8_t		 comp_status;	/* enum sim_place_comp */
	double		 comp_rate;	/* org domain's complaint rate today
					 * (0 below the profile's minimum) */
	uint32_t	 spam_score;
	uint32_t	 links;
	uint32_t	 good_days;	/* org domain's days of clean history */
	uint64_t	 seed;		/* scenario seed */
	uint64_t	 key;		/* message stream (sim_policy) */
};

/* The decision. */
struct sim_place_out {
	uint8_t		 place;		/* enum sim_place, never NONE */
	uint8_t		 category;	/* 1 + index; 0 = none */
	uint32_t	 rules;		/* bit i: rule i applied */
};

/**
 * File one message.
 * @param t    the profile's table (a zeroed table files into the inbox).
 * @param in   the inputs.
 * @param out  the decision.
 */
void sim_place_decide(const struct sim_place_table *t,
    const struct sim_place_in *in, struct sim_place_out *out);

/**
 * @return "inbox", "spam", "promotions", or NULL for SIM_PLACE_NONE and
 * out-of-range values.
 */
const char *sim_place_name(unsigned place);

/** @return the folder named @p s, or -1 (SIM_PLACE_NONE is not named). */
int sim_place_by_name(const char *s);

/**
 * @return the complaint status named @p s ("ok", "warn", "block",
 * "holding"), or -1.
 */
int sim_place_comp_by_name(const char *s);

#endif /* SIM_PLACE_H */
