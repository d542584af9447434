/*
 * @file sim_event.h
 * One reply sent to a client, as the session reports it to the backend's
 * event hook (event log, counters).  Pointers are valid only during the
 * hook call.
 */
#ifndef SIM_EVENT_H
#define SIM_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "sim_addr.h"
#include "sim_kinds.h"

struct sim_event {
	uint64_t	 wall_ms;	/* real Unix ms */
	uint64_t	 sim_ms;	/* simulated Unix ms */
	uint64_t	 session_id;
	uint32_t	 prof;		/* profile index; UINT32_MAX = no MX */
	uint32_t	 mx_ip;		/* local address (host order) */
	uint32_t	 client_ip;	/* peer address (host order) */
	const struct sim_addr6 *mx6;	/* IPv6 connection: the addresses */
	const struct sim_addr6 *client6; /* (mx_ip, client_ip 0); else NULL */
	const char	*sender_domain;	/* NULL before MAIL or for <> */
	const char	*rcpt;		/* RCPT stage only, else NULL */
	enum sim_stage	 stage;
	enum sim_rk	 rk;		/* reason: sim_kind_info(rk)->name */
	uint16_t	 code;
	const char	*enhanced;	/* "" when the reply has none */
	uint32_t	 nrcpts;	/* EOD: recipients of the message */
	/* What the provider learnt about the sender (issue 9, Postmaster
	 * view and placement).  Zero when unknown or not at this stage. */
	bool		 tls;		/* the session runs over TLS (every
					 * stage) */
	uint8_t		 spf;		/* MAIL, RCPT, EOD: enum sim_auth_res */
	uint8_t		 dkim;		/* EOD: enum sim_auth_res */
	uint8_t		 dmarc;		/* EOD: enum sim_auth_res */
	uint8_t		 placement;	/* EOD, accepted: enum sim_place
					 * (sim_place.h); 0 = none */
	uint8_t		 category;	/* EOD, accepted: 1 + index into the
					 * profile's placement categories;
					 * 0 = none */
	uint32_t	 place_rules;	/* EOD, accepted: bit i set when the
					 * profile's placement rule i matched */
	uint32_t	 complaints;	/* EOD, accepted: recipients who
					 * marked the message as spam */
	uint32_t	 nseeds;	/* EOD, accepted: recipients the
					 * scenario marks as seed addresses */
	/* Scores after the decision, for an accepted message at EOD and
	 * for every refusal the policy decided (rep_set true). */
	bool		 rep_set;	/* ip_rep and domain_rep are set */
	double		 ip_rep;	/* reputation of the client IP
					 * (0..100) */
	double		 domain_rep;	/* reputation of the sender domain;
					 * -1 when there is no sender domain */
};

/* Called once per reply the session sends (see smtp_session.h). */
typedef void smtp_event_fn(void *ctx, const struct sim_event *ev);

/* How a mail transaction ended; smtp_session.h says when each applies. */
enum sim_txn_outcome {
	SIM_TXN_ACCEPTED = 0,	/* the message was accepted */
	SIM_TXN_DEFERRED,	/* ended on a 4xx: the sender retries */
	SIM_TXN_REFUSED,	/* ended on a 5xx: the sender bounces */
	SIM_TXN_ABANDONED,	/* the client gave up: no message, no refusal */
	SIM_TXN__COUNT
};

/* One ended mail transaction, as the session reports it. */
struct sim_txn {
	uint64_t	 session_id;
	uint32_t	 prof;		/* profile index; UINT32_MAX = no MX */
	enum sim_txn_outcome outcome;
	enum sim_rk	 rk;		/* the reply that decided it; for
					 * abandoned, SIM_RK__COUNT (none) */
	uint16_t	 code;		/* its code; 0 for abandoned */
};

/* Called once per ended mail transaction (see smtp_session.h). */
typedef void smtp_txn_fn(void *ctx, const struct sim_txn *t);

#endif /* SIM_EVENT_H */
