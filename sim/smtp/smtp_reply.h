/*
 * @file smtp_reply.h
 * Rendering a profile's reply into SMTP reply lines.  Templates take
 * placeholders in braces, replaced at render time:
 *   {ip} client IP, {netblock} its /24 ("198.51.100.0/24"; IPv6: its
 *   network at the scenario's ipv6_netblock, "2001:db8::/48"), {host} the
 *   profile's first MX host name, {mx} the MX address, {session} the
 *   session id (16 hex digits), {domain} sender domain, {addr} recipient,
 *   {rcpt_domain} recipient domain, {size} message size, {limit} the limit
 *   that fired, {helo} the EHLO name, {from_domain} the header From
 *   domain and {dkim_domain} the d= of a passing DKIM signature (else of
 *   the first signature), both at end of DATA only.
 * An unknown placeholder is kept literally.  The profile's trailer is
 * appended to the text (not to EHLO).  Text longer than the profile's wrap
 * width is split at spaces into "421-4.7.28 ..." / "421 4.7.28 ..." lines;
 * the trailer is never split (it ends the last line whole).  A LF in the
 * template (a text given as a list of lines) always starts a new line.
 */
#ifndef SMTP_REPLY_H
#define SMTP_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "prof_world.h"

/* Values for the placeholders; NULL or 0 renders as empty. */
struct smtp_reply_vars {
	uint32_t	 client_ip;
	uint32_t	 mx_ip;
	const struct sim_addr6 *client6; /* IPv6 connection: {ip} and {mx} */
	const struct sim_addr6 *mx6;	/* print these; else NULL */
	unsigned	 netblock6;	/* IPv6 {netblock} prefix (0 = 48) */
	uint64_t	 session_id;
	const char	*helo;
	const char	*domain;
	const char	*addr;
	uint64_t	 size;
	uint64_t	 limit;
	const char	*from_domain;	/* header From domain (end of DATA) */
	const char	*dkim_domain;	/* DKIM d= (end of DATA) */
};

/**
 * Render @p rk of profile @p p into @p out.  A NULL @p p renders the
 * built-in default of sim_kind_info() (no trailer, no wrap).
 * @return bytes written, or 0 when it does not fit in @p cap (nothing
 * written then).
 */
size_t smtp_reply_render(const struct prof_profile *p, enum sim_rk rk,
    const struct smtp_reply_vars *v, char *out, size_t cap);

/**
 * Render once, into prof_profile.fixed, every reply of every profile of
 * @p w whose text names nothing that varies with the session or the
 * message (two renderings with different values agree), so that
 * smtp_reply_render() copies it.  Call before the world is published (at
 * load, after a change); a world without it renders every reply.
 * @return 0, or -ENOMEM (the replies left unfixed are rendered).
 */
int smtp_reply_fix(struct prof_world *w);

/**
 * Expand a template (placeholders only, no code, no wrapping).  @p p may
 * be NULL ({host} is then "localhost").
 * @return length written (always NUL-terminated, truncated to fit).
 */
size_t smtp_reply_expand(const struct prof_profile *p, const char *tmpl,
    const struct smtp_reply_vars *v, char *out, size_t cap);

#endif /* SMTP_REPLY_H */
