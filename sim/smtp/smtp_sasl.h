/*
 * @file smtp_sasl.h
 * Server side of SMTP AUTH (RFC 4954) for the SASL mechanisms PLAIN (RFC
 * 4616) and LOGIN: an explicit state machine over the AUTH command and
 * the client's response lines.  Pure: no I/O, no account lookup, no
 * allocation.  Decoded user names and passwords are written into a
 * caller's buffer (at least SMTP_SASL_BUF bytes) and are valid until the
 * next call that uses it; the state is one byte the caller keeps.
 * Replies are the caller's: the result says which (a 334 challenge, a
 * credential check, or an error kind).
 */
#ifndef SMTP_SASL_H
#define SMTP_SASL_H

#include <stddef.h>
#include <stdint.h>

#define SMTP_SASL_BUF	768	/* decoded PLAIN response: authzid, user,
				 * password, two NULs */

/* Where the exchange is. */
enum smtp_sasl_state {
	SMTP_SASL_IDLE = 0,	/* no exchange */
	SMTP_SASL_PLAIN,	/* "334 " sent: waiting for the PLAIN response */
	SMTP_SASL_LOGIN_USER,	/* "334 VXNlcm5hbWU6" sent: the user name */
	SMTP_SASL_LOGIN_PASS	/* "334 UGFzc3dvcmQ6" sent: the password */
};

/* What the caller answers. */
enum smtp_sasl_res {
	SMTP_SASL_CHALLENGE = 0, /* "334 " + out.challenge; for LOGIN's
				 * password prompt, out.user holds the user */
	SMTP_SASL_CREDS,	/* out.user and out.pass hold credentials */
	SMTP_SASL_CANCEL,	/* the client sent "*" (RFC 4954: 501) */
	SMTP_SASL_BASE64,	/* not base64, or not a PLAIN response */
	SMTP_SASL_MECH,		/* mechanism unknown or not offered (504) */
	SMTP_SASL_SYNTAX	/* AUTH without a mechanism (501) */
};

struct smtp_sasl_out {
	const char	*challenge;	/* base64 text after "334 " */
	const char	*user;		/* decoded, not NUL-terminated */
	size_t		 ulen;
	const char	*pass;
	size_t		 plen;
};

/**
 * The AUTH command's argument @p arg ("PLAIN [initial-response]" or
 * "LOGIN [initial-response]"); @p st must be SMTP_SASL_IDLE.  @p mechs are
 * the offered mechanisms (PROF_MECH_* bits of prof_world.h).  On every result but SMTP_SASL_CHALLENGE the
 * state is back to SMTP_SASL_IDLE.
 */
enum smtp_sasl_res smtp_sasl_start(uint8_t *st, unsigned mechs,
    const char *arg, size_t len, char *buf, struct smtp_sasl_out *out);

/**
 * One response line (without CRLF) while @p st is not SMTP_SASL_IDLE.
 * LOGIN's SMTP_SASL_CREDS carries the password only (out.user NULL): the
 * user name came with the password prompt, and the caller keeps what it
 * needs of it (mxsim: the account it names).
 */
enum smtp_sasl_res smtp_sasl_step(uint8_t *st, const char *line, size_t len,
    char *buf, struct smtp_sasl_out *out);

/**
 * Strict base64 (RFC 4648, padding required, no whitespace) of @p len
 * bytes into @p out of @p cap bytes.
 * @return the decoded length, or -1 (bad input or no room).
 */
long smtp_sasl_b64decode(const char *in, size_t len, char *out, size_t cap);

#endif /* SMTP_SASL_H */
