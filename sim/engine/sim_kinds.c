/*
 * DESCRIPTION
 *	Names and built-in defaults of stages, windows and reply kinds.
 *	Defaults are plain RFC 5321 / RFC 3463 replies; profiles override
 *	them with their provider's own texts.
 *
 * DIAGNOSTICS
 *	Panics (abort) on an out-of-range kind, stage or window.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim_kinds.h"

#define POL(name, code, enh, text, stage) { name, code, enh, text, stage }

static const struct sim_kind_info kinds[SIM_RK__COUNT] = {
	[SIM_RK_GREETING] = { "ok.greeting", 220, "", "{host} ESMTP ready",
	    SIM_STAGE_CONNECT },
	[SIM_RK_EHLO] = { "ok.ehlo", 250, "", "{host} Hello [{ip}]",
	    SIM_STAGE_EHLO },
	[SIM_RK_HELO] = { "ok.helo", 250, "", "{host} Hello [{ip}]",
	    SIM_STAGE_EHLO },
	[SIM_RK_MAIL_OK] = { "ok.mail", 250, "2.1.0", "Sender OK",
	    SIM_STAGE_MAIL },
	[SIM_RK_RCPT_OK] = { "ok.rcpt", 250, "2.1.5", "Recipient OK",
	    SIM_STAGE_RCPT },
	[SIM_RK_DATA_GO] = { "ok.data", 354, "",
	    "Start mail input; end with <CRLF>.<CRLF>", SIM_STAGE_DATA },
	[SIM_RK_DATA_OK] = { "ok.message", 250, "2.0.0", "OK: queued",
	    SIM_STAGE_EOD },
	[SIM_RK_QUIT] = { "ok.quit", 221, "2.0.0", "{host} closing connection",
	    SIM_STAGE_OTHER },
	[SIM_RK_RSET] = { "ok.rset", 250, "2.0.0", "OK", SIM_STAGE_OTHER },
	[SIM_RK_NOOP] = { "ok.noop", 250, "2.0.0", "OK", SIM_STAGE_OTHER },
	[SIM_RK_VRFY] = { "ok.vrfy", 252, "2.5.0",
	    "Cannot VRFY user, but will accept message and attempt delivery",
	    SIM_STAGE_OTHER },
	[SIM_RK_HELP] = { "ok.help", 214, "2.0.0",
	    "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP",
	    SIM_STAGE_OTHER },
	[SIM_RK_STARTTLS] = { "ok.starttls", 220, "2.0.0",
	    "Ready to start TLS", SIM_STAGE_OTHER },
	[SIM_RK_UNKNOWN_CMD] = { "protocol.unknown_command", 500, "5.5.1",
	    "Command unrecognized", SIM_STAGE_OTHER },
	[SIM_RK_UNIMPL_CMD] = { "protocol.not_implemented", 502, "5.5.1",
	    "Command not implemented", SIM_STAGE_OTHER },
	[SIM_RK_SYNTAX] = { "protocol.syntax", 501, "5.5.4",
	    "Syntax error in parameters or arguments", SIM_STAGE_OTHER },
	[SIM_RK_BAD_SEQ] = { "protocol.bad_sequence", 503, "5.5.1",
	    "Bad sequence of commands", SIM_STAGE_OTHER },
	[SIM_RK_BAD_PARAM] = { "protocol.bad_parameter", 555, "5.5.4",
	    "MAIL FROM/RCPT TO parameters not recognized or not implemented",
	    SIM_STAGE_OTHER },
	[SIM_RK_LINE_TOO_LONG] = { "protocol.line_too_long", 500, "5.5.2",
	    "Line too long", SIM_STAGE_OTHER },
	[SIM_RK_DATA_LINE_TOO_LONG] = { "protocol.text_line_too_long", 500,
	    "5.5.2", "Message text line longer than 1000 octets",
	    SIM_STAGE_EOD },
	[SIM_RK_NO_VALID_RCPT] = { "protocol.no_valid_recipients", 554,
	    "5.5.1", "No valid recipients", SIM_STAGE_DATA },
	[SIM_RK_TIMEOUT] = { "protocol.timeout", 421, "4.4.2",
	    "{host} Timeout - closing connection", SIM_STAGE_OTHER },
	[SIM_RK_EXPIRED] = { "protocol.expired", 421, "4.4.2",
	    "{host} Timeout - closing connection", SIM_STAGE_OTHER },
	[SIM_RK_TOO_MANY_ERRORS] = { "protocol.too_many_errors", 421, "4.7.0",
	    "{host} Too many errors, closing connection", SIM_STAGE_OTHER },
	[SIM_RK_SHUTDOWN] = { "protocol.shutdown", 421, "4.3.2",
	    "{host} Service shutting down, closing connection",
	    SIM_STAGE_OTHER },
	[SIM_RK_NO_MX] = { "protocol.no_mx", 554, "5.3.2",
	    "No mail service at this address", SIM_STAGE_CONNECT },
	[SIM_RK_BUSY] = { "protocol.busy", 421, "4.3.2",
	    "{host} Too many connections, try again later",
	    SIM_STAGE_CONNECT },
	[SIM_RK_AUTH_OK] = { "ok.auth", 235, "2.7.0",
	    "Authentication successful", SIM_STAGE_AUTH },
	[SIM_RK_SUBMIT_TLS] = { "submit.tls_required", 530, "5.7.0",
	    "Must issue a STARTTLS command first", SIM_STAGE_AUTH },
	[SIM_RK_SUBMIT_AUTH_REQ] = { "submit.auth_required", 530, "5.7.0",
	    "Authentication required", SIM_STAGE_MAIL },
	[SIM_RK_SUBMIT_BAD_CRED] = { "submit.bad_credentials", 535, "5.7.8",
	    "Authentication credentials invalid", SIM_STAGE_AUTH },
	[SIM_RK_SUBMIT_LOCKED] = { "submit.locked", 454, "4.7.0",
	    "Too many failed login attempts, try again later",
	    SIM_STAGE_AUTH },
	[SIM_RK_SUBMIT_MECH] = { "submit.mechanism", 504, "5.5.4",
	    "Unrecognized authentication type", SIM_STAGE_AUTH },
	[SIM_RK_SUBMIT_CANCEL] = { "submit.cancelled", 501, "5.7.0",
	    "Authentication cancelled", SIM_STAGE_AUTH },
	[SIM_RK_SUBMIT_BASE64] = { "submit.bad_base64", 501, "5.5.2",
	    "Cannot decode response", SIM_STAGE_AUTH },
	[SIM_RK_SUBMIT_MESSAGES] = { "submit.messages", 550, "5.4.5",
	    "Daily sending quota of {limit} messages exceeded",
	    SIM_STAGE_MAIL },
	[SIM_RK_SUBMIT_RATE] = { "submit.rate", 451, "4.7.0",
	    "Sending rate limit of {limit} messages exceeded, try again later",
	    SIM_STAGE_MAIL },
	[SIM_RK_SUBMIT_RCPTS] = { "submit.recipients", 550, "5.4.5",
	    "Recipient quota of {limit} exceeded", SIM_STAGE_RCPT },

	/* issue 16: told apart from protocol.syntax so that a provider can
	 * give its own replies; the defaults are protocol.syntax's */
	[SIM_RK_BAD_HELO] = { "protocol.bad_helo", 501, "5.5.4",
	    "Syntax error in parameters or arguments", SIM_STAGE_OTHER },
	[SIM_RK_BAD_SENDER] = { "protocol.bad_sender", 501, "5.5.4",
	    "Syntax error in parameters or arguments", SIM_STAGE_OTHER },
	[SIM_RK_BAD_RCPT] = { "protocol.bad_recipient", 501, "5.5.4",
	    "Syntax error in parameters or arguments", SIM_STAGE_OTHER },
	[SIM_RK_OUTAGE] = POL("outage", 421, "4.3.2",
	    "Service temporarily unavailable, try again later",
	    SIM_STAGE_CONNECT),
	[SIM_RK_CONN_LIMIT] = POL("conn.limit", 421, "4.7.0",
	    "Too many concurrent connections from {ip}, closing connection",
	    SIM_STAGE_CONNECT),
	[SIM_RK_CONN_RATE] = POL("conn.rate", 421, "4.7.0",
	    "Too many connections from {ip}, try again later",
	    SIM_STAGE_CONNECT),
	[SIM_RK_CONN_MESSAGES] = POL("conn.messages", 421, "4.7.0",
	    "Too many messages in this connection, closing transmission channel",
	    SIM_STAGE_MAIL),
	[SIM_RK_BLOCKLIST] = POL("blocklist", 554, "5.7.1",
	    "Service unavailable; client host [{ip}] blocked",
	    SIM_STAGE_CONNECT),
	[SIM_RK_REP_BLOCK] = POL("reputation.block", 550, "5.7.1",
	    "Message blocked due to sender reputation", SIM_STAGE_MAIL),
	[SIM_RK_REP_TEMP] = POL("reputation.temp", 421, "4.7.0",
	    "Try again later, closing connection", SIM_STAGE_MAIL),
	[SIM_RK_REP_DOMAIN_TEMP] = POL("reputation.domain_temp", 421, "4.7.0",
	    "Try again later, closing connection", SIM_STAGE_MAIL),
	[SIM_RK_AUTH_BLOCK] = POL("auth.block", 550, "5.7.26",
	    "Unauthenticated email is not accepted", SIM_STAGE_EOD),
	[SIM_RK_AUTH_MISSING] = POL("auth.missing", 421, "4.7.26",
	    "Unauthenticated email is rate limited, try again later",
	    SIM_STAGE_EOD),
	[SIM_RK_WARMUP] = POL("warmup", 451, "4.7.500",
	    "Server busy, please try again later from [{ip}]", SIM_STAGE_MAIL),
	[SIM_RK_DAILY_CAP] = POL("daily_cap", 421, "4.7.0",
	    "Daily sending limit of {limit} exceeded, try again later",
	    SIM_STAGE_MAIL),
	[SIM_RK_RATE_IP] = POL("rate.ip", 421, "4.7.26",
	    "Email rate limit exceeded, try again later", SIM_STAGE_MAIL),
	[SIM_RK_RATE_DOMAIN] = POL("rate.domain", 421, "4.7.26",
	    "Email rate limit exceeded, try again later", SIM_STAGE_MAIL),
	[SIM_RK_RATE_RECIPIENT] = POL("rate.recipient", 450, "4.2.1",
	    "The recipient is receiving mail too quickly, try again later",
	    SIM_STAGE_RCPT),
	[SIM_RK_RCPTS_TOO_MANY] = POL("rcpts.too_many", 452, "4.5.3",
	    "Too many recipients", SIM_STAGE_RCPT),
	[SIM_RK_SIZE] = POL("size", 552, "5.3.4",
	    "Message size exceeds fixed maximum message size of {limit} bytes",
	    SIM_STAGE_MAIL),
	[SIM_RK_USER_UNKNOWN] = POL("user.unknown", 550, "5.1.1",
	    "{addr}: Recipient address rejected: User unknown",
	    SIM_STAGE_RCPT),
	[SIM_RK_USER_INACTIVE] = POL("user.inactive", 550, "5.2.1",
	    "{addr}: Recipient address rejected: Account disabled",
	    SIM_STAGE_RCPT),
	[SIM_RK_USER_FULL] = POL("user.over_quota", 452, "4.2.2",
	    "{addr}: Recipient address rejected: Mailbox full",
	    SIM_STAGE_RCPT),
	[SIM_RK_TLS_REQUIRED] = POL("tls.required", 421, "4.7.0",
	    "TLS required for {rcpt_domain}", SIM_STAGE_RCPT),

	[SIM_RK_AUTH_SPF_FAIL] = POL("auth.spf_fail", 550, "5.7.26",
	    "SPF check failed for {domain} with a hard fail policy",
	    SIM_STAGE_EOD),
	[SIM_RK_AUTH_SPF_SUSPICIOUS] = POL("auth.spf_suspicious", 451, "4.7.24",
	    "The SPF record of {domain} has suspicious entries",
	    SIM_STAGE_EOD),
	[SIM_RK_AUTH_DMARC_REJECT] = POL("auth.dmarc_reject", 550, "5.7.26",
	    "Message rejected by the DMARC policy of the sender domain",
	    SIM_STAGE_EOD),
	[SIM_RK_AUTH_DMARC_TEMP] = POL("auth.dmarc_temp", 451, "4.7.26",
	    "DMARC check failed temporarily, try again later", SIM_STAGE_EOD),
	[SIM_RK_AUTH_HIGH_VOLUME] = POL("auth.high_volume", 550, "5.7.515",
	    "Sending domain does not meet the required authentication level",
	    SIM_STAGE_EOD),
	[SIM_RK_BULK_SPF] = POL("bulk.spf", 421, "4.7.27",
	    "Bulk mail must pass SPF, try again later", SIM_STAGE_EOD),
	[SIM_RK_BULK_SPF_BLOCK] = POL("bulk.spf_block", 550, "5.7.27",
	    "Bulk mail must pass SPF", SIM_STAGE_EOD),
	[SIM_RK_BULK_DKIM] = POL("bulk.dkim", 421, "4.7.30",
	    "Bulk mail must pass DKIM, try again later", SIM_STAGE_EOD),
	[SIM_RK_BULK_DKIM_BLOCK] = POL("bulk.dkim_block", 550, "5.7.30",
	    "Bulk mail must pass DKIM", SIM_STAGE_EOD),
	[SIM_RK_BULK_DMARC] = POL("bulk.dmarc", 421, "4.7.40",
	    "Bulk mail needs a DMARC policy, try again later", SIM_STAGE_EOD),
	[SIM_RK_BULK_DMARC_BLOCK] = POL("bulk.dmarc_block", 550, "5.7.40",
	    "Bulk mail needs a DMARC policy", SIM_STAGE_EOD),
	[SIM_RK_BULK_ALIGN] = POL("bulk.alignment", 421, "4.7.32",
	    "From domain not aligned with SPF or DKIM, try again later",
	    SIM_STAGE_EOD),
	[SIM_RK_BULK_ALIGN_BLOCK] = POL("bulk.alignment_block", 550, "5.7.32",
	    "From domain not aligned with SPF or DKIM", SIM_STAGE_EOD),
	[SIM_RK_BULK_TLS] = POL("bulk.tls", 421, "4.7.29",
	    "Bulk mail must use TLS, try again later", SIM_STAGE_EOD),
	[SIM_RK_BULK_TLS_BLOCK] = POL("bulk.tls_block", 550, "5.7.29",
	    "Bulk mail must use TLS", SIM_STAGE_EOD),
	[SIM_RK_BULK_UNSUB] = POL("bulk.unsubscribe", 550, "5.7.1",
	    "Bulk mail needs one-click unsubscribe", SIM_STAGE_EOD),
	[SIM_RK_MSGID_MISSING] = POL("msgid.missing", 550, "5.7.1",
	    "Messages missing a valid Message-ID header are not accepted",
	    SIM_STAGE_EOD),
	[SIM_RK_FROM_MISSING] = POL("from.missing", 550, "5.7.1",
	    "Messages missing a valid address in the From header are not "
	    "accepted", SIM_STAGE_EOD),
	[SIM_RK_HOPS] = POL("hops", 554, "5.4.6",
	    "Message exceeded {limit} hops, this may indicate a mail loop",
	    SIM_STAGE_EOD),
	[SIM_RK_ATTACHMENTS] = POL("attachments", 552, "5.3.4",
	    "Too many attachments (the limit is {limit})", SIM_STAGE_EOD),
	[SIM_RK_HEADER_SIZE] = POL("header.size", 552, "5.3.4",
	    "Message header size exceeds the limit of {limit} bytes",
	    SIM_STAGE_EOD),
	[SIM_RK_CONTENT_SPAM] = POL("content.spam", 550, "5.7.1",
	    "Message content rejected as likely unsolicited", SIM_STAGE_EOD),
	[SIM_RK_CONTENT_LINKS] = POL("content.links", 421, "4.7.0",
	    "Message deferred due to its content or links", SIM_STAGE_EOD),
	[SIM_RK_COMPLAINT_TEMP] = POL("complaints.temp", 421, "4.7.0",
	    "Messages deferred due to user complaints", SIM_STAGE_MAIL),
	[SIM_RK_COMPLAINT_BLOCK] = POL("complaints.block", 550, "5.7.1",
	    "Messages blocked due to user complaints", SIM_STAGE_MAIL),
	[SIM_RK_RATE_NETBLOCK] = POL("rate.netblock", 421, "4.7.28",
	    "Rate limit exceeded for network {netblock}, try again later",
	    SIM_STAGE_MAIL),
	[SIM_RK_RATE_HELO] = POL("rate.helo", 421, "4.7.28",
	    "Rate limit exceeded for {helo}, try again later",
	    SIM_STAGE_MAIL),
	[SIM_RK_RATE_DKIM] = POL("rate.dkim_domain", 421, "4.7.28",
	    "Rate limit exceeded for the DKIM domain, try again later",
	    SIM_STAGE_EOD),
	[SIM_RK_RATE_URL] = POL("rate.url_domain", 421, "4.7.28",
	    "Rate limit exceeded for a URL domain, try again later",
	    SIM_STAGE_EOD),
	[SIM_RK_MSGID_RATE] = POL("msgid.rate", 421, "4.7.28",
	    "Too many copies of this Message-ID, try again later",
	    SIM_STAGE_EOD),
	[SIM_RK_RATE_BLOCK] = POL("rate.block", 550, "5.7.28",
	    "Mail from {ip} blocked after repeated rate limiting",
	    SIM_STAGE_MAIL),
	[SIM_RK_RATE_RCPT_BLOCK] = POL("rate.recipient_block", 550, "5.2.1",
	    "The recipient is receiving mail at a rate that prevents "
	    "additional messages from being delivered", SIM_STAGE_RCPT),
	[SIM_RK_RCPT_DOMAINS] = POL("rcpts.domains", 451, "4.3.0",
	    "Multiple destination domains per transaction is unsupported",
	    SIM_STAGE_RCPT),
	[SIM_RK_PTR_MISSING] = POL("ptr.missing", 451, "4.7.23",
	    "Client host [{ip}] has no valid reverse DNS, try again later",
	    SIM_STAGE_MAIL),
	[SIM_RK_PTR_BLOCK] = POL("ptr.block", 550, "5.7.25",
	    "Client host [{ip}] has no valid reverse DNS", SIM_STAGE_MAIL),
	[SIM_RK_GREYLIST] = POL("greylist", 451, "4.7.1",
	    "Greylisted, please try again later", SIM_STAGE_RCPT),
	[SIM_RK_CLIENT_DIALUP] = POL("client.dialup", 554, "5.7.1",
	    "Client host [{ip}] is a dynamic or residential address",
	    SIM_STAGE_CONNECT),
	[SIM_RK_CLIENT_NOREP] = POL("client.no_reputation", 554, "5.7.1",
	    "Client host [{ip}] has no reputation with this service",
	    SIM_STAGE_CONNECT),
	[SIM_RK_IPV6_PTR] = POL("ipv6.ptr", 550, "5.7.25",
	    "The sending IPv6 address [{ip}] has no valid reverse DNS",
	    SIM_STAGE_RCPT),
	[SIM_RK_IPV6_AUTH] = POL("ipv6.auth", 451, "4.7.26",
	    "Mail over IPv6 must pass SPF or DKIM", SIM_STAGE_EOD),
	[SIM_RK_IPV6_REFUSED] = POL("ipv6.refused", 550, "5.7.510",
	    "{rcpt_domain} does not accept email over IPv6", SIM_STAGE_RCPT),
	[SIM_RK_RATE_PAIR] = POL("rate.pair", 450, "4.2.1",
	    "The recipient is receiving too much mail from this sender, try "
	    "again later", SIM_STAGE_RCPT),
	[SIM_RK_HELO_BAD] = POL("helo.bad", 550, "5.7.1",
	    "HELO/EHLO name {helo} is this server's own name", SIM_STAGE_EHLO),
	[SIM_RK_SENDER_UNRESOLVABLE] = POL("sender.unresolvable", 450, "4.1.8",
	    "Sender address rejected: Domain {domain} not found",
	    SIM_STAGE_MAIL),
	[SIM_RK_HELO_LISTED] = POL("helo.blocklisted", 550, "5.7.1",
	    "HELO/EHLO name {helo} is on a domain blocklist", SIM_STAGE_EHLO),
	[SIM_RK_CONTENT_LISTED] = POL("content.blocklisted", 550, "5.7.1",
	    "Message rejected: it names a domain on a domain blocklist",
	    SIM_STAGE_EOD),
	[SIM_RK_USER_MOVED] = POL("user.moved", 550, "5.1.6",
	    "{addr}: mailbox has moved", SIM_STAGE_RCPT),
	[SIM_RK_CONTENT_MALFORMED] = POL("content.malformed", 554, "5.6.0",
	    "Message has a malformed MIME structure", SIM_STAGE_EOD),
	[SIM_RK_CONTENT_FILETYPE] = POL("content.blocked_type", 552, "5.7.0",
	    "Message blocked: an attachment has a blocked file type",
	    SIM_STAGE_EOD),
	[SIM_RK_STARTTLS_PIPELINED] = POL("protocol.starttls_pipelined", 554,
	    "5.5.1", "Commands pipelined after STARTTLS", SIM_STAGE_OTHER),
	[SIM_RK_HELO_CHANGES] = POL("helo.changes", 421, "4.7.0",
	    "Too many different HELO names from [{ip}], try again later",
	    SIM_STAGE_EHLO),
};

static const char *const stage_names[SIM_STAGE__COUNT] = {
	"connect", "ehlo", "mail", "rcpt", "data", "eod", "other", "auth"
};

static const char *const window_names[SIM_WIN__COUNT] = {
	"second", "minute", "hour", "day"
};

static const uint64_t window_ms[SIM_WIN__COUNT] = {
	1000ULL, 60000ULL, 3600000ULL, 86400000ULL
};

/* sim_kind_info - static description of a reply kind */
const struct sim_kind_info *
sim_kind_info(enum sim_rk rk)
{
	if ((unsigned)rk >= SIM_RK__COUNT)
		abort();
	return &kinds[rk];
}

/* sim_kind_by_name - reply kind from its YAML name */
int
sim_kind_by_name(const char *name)
{
	int i;

	for (i = 0; i < SIM_RK__COUNT; i++)
		if (strcmp(kinds[i].name, name) == 0)
			return i;
	return -1;
}

/* sim_stage_name - name of a stage */
const char *
sim_stage_name(enum sim_stage st)
{
	if ((unsigned)st >= SIM_STAGE__COUNT)
		abort();
	return stage_names[st];
}

/* sim_stage_by_name - stage from its name */
int
sim_stage_by_name(const char *name)
{
	int i;

	for (i = 0; i < SIM_STAGE__COUNT; i++)
		if (strcmp(stage_names[i], name) == 0)
			return i;
	return -1;
}

/* sim_window_name - name of a window */
const char *
sim_window_name(enum sim_window w)
{
	if ((unsigned)w >= SIM_WIN__COUNT)
		abort();
	return window_names[w];
}

/* sim_window_ms - length of a window in simulated ms */
uint64_t
sim_window_ms(enum sim_window w)
{
	if ((unsigned)w >= SIM_WIN__COUNT)
		abort();
	return window_ms[w];
}
