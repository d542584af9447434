/*
 * @file sim_kinds.h
 * Enumerations shared by every part of the engine: SMTP stages, rate
 * windows and reply kinds.  A reply kind names *why* a reply is sent
 * ("rate.ip", "user.unknown", "ok.mail", ...).  Each profile holds one
 * reply (code, enhanced code, text, stage) per kind, so replies are keyed
 * by provider and reason, never by code alone.  The static table behind
 * sim_kind_info() gives each kind its YAML name and built-in default.
 */
#ifndef SIM_KINDS_H
#define SIM_KINDS_H

#include <stdint.h>

/* SMTP stages at which the policy is asked, in session order. */
enum sim_stage {
	SIM_STAGE_CONNECT = 0,	/* before the greeting */
	SIM_STAGE_EHLO,		/* EHLO or HELO */
	SIM_STAGE_MAIL,		/* MAIL FROM */
	SIM_STAGE_RCPT,		/* RCPT TO */
	SIM_STAGE_DATA,		/* DATA command (before 354) */
	SIM_STAGE_EOD,		/* end of DATA (the final dot) */
	SIM_STAGE_OTHER,	/* RSET, NOOP, QUIT, VRFY, HELP, protocol errors */
	SIM_STAGE_AUTH,		/* SMTP AUTH (RFC 4954) on a submission profile */
	SIM_STAGE__COUNT
};

/* Sliding windows over which rates are counted (simulated time). */
enum sim_window {
	SIM_WIN_SECOND = 0,
	SIM_WIN_MINUTE,
	SIM_WIN_HOUR,
	SIM_WIN_DAY,
	SIM_WIN__COUNT
};

/*
 * Reply kinds.  Order matters only in that SIM_RK__POLICY_FIRST ..
 * SIM_RK__POLICY_LAST are the kinds the policy engine can return.
 */
enum sim_rk {
	/* success and informational replies */
	SIM_RK_GREETING = 0,	/* 220 banner */
	SIM_RK_EHLO,		/* 250 first line of the EHLO reply */
	SIM_RK_HELO,		/* 250 HELO reply */
	SIM_RK_MAIL_OK,		/* 250 2.1.0 */
	SIM_RK_RCPT_OK,		/* 250 2.1.5 */
	SIM_RK_DATA_GO,		/* 354 */
	SIM_RK_DATA_OK,		/* 250 2.0.0 message accepted */
	SIM_RK_QUIT,		/* 221 2.0.0 */
	SIM_RK_RSET,		/* 250 2.0.0 */
	SIM_RK_NOOP,		/* 250 2.0.0 */
	SIM_RK_VRFY,		/* 252 2.5.0 */
	SIM_RK_HELP,		/* 214 2.0.0 */
	SIM_RK_STARTTLS,	/* 220 2.0.0 ready to start TLS (RFC 3207) */

	/* protocol errors (RFC 5321) */
	SIM_RK_UNKNOWN_CMD,	/* 500 5.5.1 command unrecognized */
	SIM_RK_UNIMPL_CMD,	/* 502 5.5.1 command not implemented */
	SIM_RK_SYNTAX,		/* 501 5.5.4 syntax error in parameters */
	SIM_RK_BAD_SEQ,		/* 503 5.5.1 bad sequence of commands */
	SIM_RK_BAD_PARAM,	/* 555 5.5.4 MAIL/RCPT parameter not recognized */
	SIM_RK_LINE_TOO_LONG,	/* 500 5.5.2 command line too long */
	SIM_RK_DATA_LINE_TOO_LONG, /* 500 5.5.2 text line too long (at EOD) */
	SIM_RK_NO_VALID_RCPT,	/* 554 5.5.1 DATA without valid recipients */
	SIM_RK_TIMEOUT,		/* 421 4.4.2 idle timeout, closes */
	SIM_RK_EXPIRED,		/* 421 4.4.2 session time limit, closes */
	SIM_RK_TOO_MANY_ERRORS,	/* 421 4.7.0 too many errors, closes */
	SIM_RK_SHUTDOWN,	/* 421 4.3.2 server shutting down, closes */
	SIM_RK_NO_MX,		/* 554 5.3.2 no MX configured at this address */
	SIM_RK_BUSY,		/* 421 4.3.2 the backend's connection pool is
				 * full, closes (answered by the backend) */
	SIM_RK_BAD_HELO,	/* 501 5.5.4 EHLO/HELO without an argument */
	SIM_RK_BAD_SENDER,	/* 501 5.5.4 MAIL FROM path not an address */
	SIM_RK_BAD_RCPT,	/* 501 5.5.4 RCPT TO path not an address */

	/* submission profiles (SMTP AUTH, per-account quotas): always on
	 * where the profile has a submission section, fixed stages */
	SIM_RK_AUTH_OK,		/* "ok.auth" 235 2.7.0 */
	SIM_RK_SUBMIT_TLS,	/* "submit.tls_required": AUTH before STARTTLS */
	SIM_RK_SUBMIT_AUTH_REQ,	/* "submit.auth_required": MAIL without AUTH */
	SIM_RK_SUBMIT_BAD_CRED,	/* "submit.bad_credentials" */
	SIM_RK_SUBMIT_LOCKED,	/* "submit.locked": too many failed logins */
	SIM_RK_SUBMIT_MECH,	/* "submit.mechanism": mechanism not offered */
	SIM_RK_SUBMIT_CANCEL,	/* "submit.cancelled": the client sent "*" */
	SIM_RK_SUBMIT_BASE64,	/* "submit.bad_base64": undecodable response */
	SIM_RK_SUBMIT_MESSAGES,	/* "submit.messages": per-user day messages */
	SIM_RK_SUBMIT_RATE,	/* "submit.rate": per-user shorter windows */
	SIM_RK_SUBMIT_RCPTS,	/* "submit.recipients": per-user recipients */

	/* policy verdicts */
	SIM_RK_OUTAGE,		/* "outage": the provider is down (control API) */
	SIM_RK_CONN_LIMIT,	/* "conn.limit": concurrent connections per IP */
	SIM_RK_CONN_RATE,	/* "conn.rate": connection rate per IP */
	SIM_RK_CONN_MESSAGES,	/* "conn.messages": messages per connection */
	SIM_RK_BLOCKLIST,	/* "blocklist": client IP on the scenario list */
	SIM_RK_REP_BLOCK,	/* "reputation.block" */
	SIM_RK_REP_TEMP,	/* "reputation.temp" */
	SIM_RK_REP_DOMAIN_TEMP,	/* "reputation.domain_temp": the sender
				 * domain's score (else reputation.temp) */
	SIM_RK_AUTH_BLOCK,	/* "auth.block": unauthenticated, reputation gone */
	SIM_RK_AUTH_MISSING,	/* "auth.missing": neither SPF nor DKIM passes */
	SIM_RK_WARMUP,		/* "warmup": new IP above its ramp-up volume */
	SIM_RK_DAILY_CAP,	/* "daily_cap": a day window exceeded */
	SIM_RK_RATE_IP,		/* "rate.ip": per sending IP */
	SIM_RK_RATE_DOMAIN,	/* "rate.domain": per sender domain */
	SIM_RK_RATE_RECIPIENT,	/* "rate.recipient": per recipient mailbox */
	SIM_RK_RCPTS_TOO_MANY,	/* "rcpts.too_many": recipients per message */
	SIM_RK_SIZE,		/* "size": message larger than the limit */
	SIM_RK_USER_UNKNOWN,	/* "user.unknown": recipient does not exist */
	SIM_RK_USER_INACTIVE,	/* "user.inactive": a disabled account */
	SIM_RK_USER_FULL,	/* "user.over_quota": a mailbox over quota */
	SIM_RK_TLS_REQUIRED,	/* "tls.required": the recipient's domain
				 * requires TLS and the session has none */

	/* provider fidelity (issue 5): authentication */
	SIM_RK_AUTH_SPF_FAIL,	/* "auth.spf_fail": SPF -all fail */
	SIM_RK_AUTH_SPF_SUSPICIOUS, /* "auth.spf_suspicious": the SPF record
				 * is too broad (+all, or declared so) */
	SIM_RK_AUTH_DMARC_REJECT, /* "auth.dmarc_reject": DMARC p=reject fail */
	SIM_RK_AUTH_DMARC_TEMP,	/* "auth.dmarc_temp": p=reject, DNS temperror */
	SIM_RK_AUTH_HIGH_VOLUME, /* "auth.high_volume": bulk domain not fully
				 * authenticated (Microsoft 5.7.515) */
	/* bulk senders (an org domain over limits.bulk_threshold a day) */
	SIM_RK_BULK_SPF,	/* "bulk.spf": SPF did not pass */
	SIM_RK_BULK_SPF_BLOCK,	/* "bulk.spf_block" */
	SIM_RK_BULK_DKIM,	/* "bulk.dkim": DKIM did not pass */
	SIM_RK_BULK_DKIM_BLOCK,	/* "bulk.dkim_block" */
	SIM_RK_BULK_DMARC,	/* "bulk.dmarc": no DMARC record / policy */
	SIM_RK_BULK_DMARC_BLOCK, /* "bulk.dmarc_block" */
	SIM_RK_BULK_ALIGN,	/* "bulk.alignment": From not aligned */
	SIM_RK_BULK_ALIGN_BLOCK, /* "bulk.alignment_block" */
	SIM_RK_BULK_TLS,	/* "bulk.tls": not over TLS */
	SIM_RK_BULK_TLS_BLOCK,	/* "bulk.tls_block" */
	SIM_RK_BULK_UNSUB,	/* "bulk.unsubscribe": no one-click unsubscribe */
	/* content and format, at end of DATA */
	SIM_RK_MSGID_MISSING,	/* "msgid.missing": no valid Message-ID */
	SIM_RK_FROM_MISSING,	/* "from.missing": no valid From address */
	SIM_RK_HOPS,		/* "hops": too many Received headers */
	SIM_RK_ATTACHMENTS,	/* "attachments": too many MIME attachments */
	SIM_RK_HEADER_SIZE,	/* "header.size": header section too large */
	SIM_RK_CONTENT_SPAM,	/* "content.spam": spam-word score */
	SIM_RK_CONTENT_LINKS,	/* "content.links": link density */
	/* engagement */
	SIM_RK_COMPLAINT_TEMP,	/* "complaints.temp": complaint rate >= warn */
	SIM_RK_COMPLAINT_BLOCK,	/* "complaints.block": >= block, or in hold */
	/* more identities */
	SIM_RK_RATE_NETBLOCK,	/* "rate.netblock": per client /24 */
	SIM_RK_RATE_HELO,	/* "rate.helo": per EHLO name */
	SIM_RK_RATE_DKIM,	/* "rate.dkim_domain": per DKIM d= */
	SIM_RK_RATE_URL,	/* "rate.url_domain": per URL domain */
	SIM_RK_MSGID_RATE,	/* "msgid.rate": copies of one Message-ID */
	SIM_RK_RATE_BLOCK,	/* "rate.block": escalated rate limit */
	SIM_RK_RATE_RCPT_BLOCK,	/* "rate.recipient_block": escalated 4.2.1 */
	SIM_RK_RCPT_DOMAINS,	/* "rcpts.domains": recipient domains per
				 * transaction */
	/* reverse DNS of the client (scenario senders.reverse_dns) */
	SIM_RK_PTR_MISSING,	/* "ptr.missing": no PTR, or its forward A
				 * does not point back to the client */
	SIM_RK_PTR_BLOCK,	/* "ptr.block": escalated ptr.missing */
	/* receivers of issue 16 (sim_grey.h; scenario clients:) */
	SIM_RK_GREYLIST,	/* "greylist": first attempt of an (IP,
				 * sender, recipient) triplet */
	SIM_RK_CLIENT_DIALUP,	/* "client.dialup": client IP declared
				 * dial-up / residential */
	SIM_RK_CLIENT_NOREP,	/* "client.no_reputation": client IP
				 * declared unknown to the receiver */
	/* IPv6 senders (issue 16): only for a client connected over IPv6 */
	SIM_RK_IPV6_PTR,	/* "ipv6.ptr": no valid reverse DNS */
	SIM_RK_IPV6_AUTH,	/* "ipv6.auth": neither SPF nor DKIM passes */
	SIM_RK_IPV6_REFUSED,	/* "ipv6.refused": the recipient takes no
				 * mail over IPv6 (recipients.ipv4_only) */
	SIM_RK_RATE_PAIR,	/* "rate.pair": per sender domain and
				 * recipient (Exchange Online's
				 * sender-recipient pair limit) */
	SIM_RK_HELO_BAD,	/* "helo.bad": the EHLO/HELO name claims to
				 * be the receiving server */
	SIM_RK_SENDER_UNRESOLVABLE, /* "sender.unresolvable": the MAIL FROM
				 * domain does not resolve */
	SIM_RK_HELO_LISTED,	/* "helo.blocklisted": the EHLO name is on
				 * the domain blocklist */
	SIM_RK_CONTENT_LISTED,	/* "content.blocklisted": a URL or From
				 * domain is on the domain blocklist */
	SIM_RK_USER_MOVED,	/* "user.moved": a mailbox moved away */
	SIM_RK_CONTENT_MALFORMED, /* "content.malformed": broken MIME
				 * structure (msg_scan MSG_F_MIME_BAD) */
	SIM_RK_CONTENT_FILETYPE, /* "content.blocked_type": an attachment
				 * name's extension is in the profile's
				 * blocked_extensions */
	SIM_RK_STARTTLS_PIPELINED, /* "protocol.starttls_pipelined": a
				 * command pipelined after STARTTLS (the
				 * session answers it instead of 220) */
	SIM_RK_HELO_CHANGES,	/* "helo.changes": more distinct EHLO names
				 * from one client IP than
				 * limits.helo_names_per_ip */
	SIM_RK__COUNT
};

#define SIM_RK__POLICY_FIRST	SIM_RK_OUTAGE
#define SIM_RK__POLICY_LAST	SIM_RK_HELO_CHANGES

/* Static description of a reply kind: its name and built-in default. */
struct sim_kind_info {
	const char	*name;		/* YAML key and event-log reason */
	uint16_t	 code;		/* default reply code */
	const char	*enhanced;	/* default enhanced code, "" for none */
	const char	*text;		/* default text template */
	enum sim_stage	 stage;		/* default stage (policy kinds) */
};

/**
 * Describe a reply kind.
 * @param rk  a kind below SIM_RK__COUNT (anything else panics).
 * @return    the static description; never NULL.
 */
const struct sim_kind_info *sim_kind_info(enum sim_rk rk);

/**
 * Find a reply kind by its YAML name ("rate.ip", "ok.mail", ...).
 * @return the kind, or -1 when no kind has that name.
 */
int sim_kind_by_name(const char *name);

/** @return the stage's name ("connect", "ehlo", "mail", "rcpt", "data",
 *  "eod", "other"). */
const char *sim_stage_name(enum sim_stage st);

/** @return the stage named @p name, or -1. */
int sim_stage_by_name(const char *name);

/** @return the window's name ("second", "minute", "hour", "day"). */
const char *sim_window_name(enum sim_window w);

/** @return the window's length in simulated milliseconds. */
uint64_t sim_window_ms(enum sim_window w);

#endif /* SIM_KINDS_H */
