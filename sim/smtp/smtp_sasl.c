/*
 * DESCRIPTION
 *	SASL PLAIN and LOGIN for SMTP AUTH.  smtp_sasl_start() reads the
 *	mechanism and an optional initial response ("=" is an empty one,
 *	RFC 4954 section 4); without one PLAIN answers an empty challenge
 *	and LOGIN asks for the user name.  smtp_sasl_step() takes each
 *	response line: "*" cancels, anything else must be strict base64.
 *	A PLAIN response is authzid NUL authcid NUL password (RFC 4616):
 *	both NULs required, authcid and password not empty; the authzid is
 *	ignored.  LOGIN's user name and password are one base64 line each.
 *
 *	States: IDLE -> PLAIN -> IDLE, IDLE -> LOGIN_USER -> LOGIN_PASS ->
 *	IDLE; sasl_enter() is the only place that assigns the state.
 *
 * DIAGNOSTICS
 *	Nothing is logged; results name what went wrong.  Aborts on a state
 *	outside the enum (a broken caller).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "prof_world.h"
#include "smtp_sasl.h"

#define LOGIN_USER_PROMPT	"VXNlcm5hbWU6"	/* "Username:" */
#define LOGIN_PASS_PROMPT	"UGFzc3dvcmQ6"	/* "Password:" */

static void	sasl_enter(uint8_t *, enum smtp_sasl_state);
static int	b64val(unsigned char);
static enum smtp_sasl_res sasl_plain(uint8_t *, const char *, size_t,
		    char *, struct smtp_sasl_out *);
static enum smtp_sasl_res sasl_login_user(uint8_t *, const char *, size_t,
		    char *, struct smtp_sasl_out *);

/* sasl_enter - assign the state */
static void
sasl_enter(uint8_t *st, enum smtp_sasl_state next)
{
	*st = (uint8_t)next;
}

/* b64val - value of a base64 character, or -1 */
static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* smtp_sasl_b64decode - strict base64 */
long
smtp_sasl_b64decode(const char *in, size_t len, char *out, size_t cap)
{
	size_t i, n = 0, pad = 0;
	int v[4], k;

	if (len % 4 != 0)
		return -1;
	for (i = 0; i < len; i += 4) {
		for (k = 0; k < 4; k++) {
			if (in[i + k] == '=' && i + 4 == len && k >= 2 &&
			    (k == 3 || in[i + 3] == '=')) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0 || (v[k] = b64val((unsigned char)
			    in[i + k])) < 0)
				return -1;
		}
		if (n + 3 - pad > cap)
			return -1;
		out[n++] = (char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[n++] = (char)((v[1] & 15) << 4 | v[2] >> 2);
		if (pad < 1)
			out[n++] = (char)((v[2] & 3) << 6 | v[3]);
	}
	return (long)n;
}

/* sasl_plain - decode a PLAIN response into user and password */
static enum smtp_sasl_res
sasl_plain(uint8_t *st, const char *p, size_t len, char *buf,
    struct smtp_sasl_out *out)
{
	const char *nul1, *nul2;
	long n;

	sasl_enter(st, SMTP_SASL_IDLE);
	if ((n = smtp_sasl_b64decode(p, len, buf, SMTP_SASL_BUF)) < 0 ||
	    (nul1 = memchr(buf, '\0', (size_t)n)) == NULL ||
	    (nul2 = memchr(nul1 + 1, '\0', (size_t)(buf + n - nul1 - 1))) ==
	    NULL || nul2 == nul1 + 1 || nul2 + 1 == buf + n)
		return SMTP_SASL_BASE64;
	out->user = nul1 + 1;
	out->ulen = (size_t)(nul2 - nul1 - 1);
	out->pass = nul2 + 1;
	out->plen = (size_t)(buf + n - nul2 - 1);
	return SMTP_SASL_CREDS;
}

/* sasl_login_user - decode LOGIN's user name, ask for the password */
static enum smtp_sasl_res
sasl_login_user(uint8_t *st, const char *p, size_t len, char *buf,
    struct smtp_sasl_out *out)
{
	long n;

	if ((n = smtp_sasl_b64decode(p, len, buf, SMTP_SASL_BUF)) <= 0) {
		sasl_enter(st, SMTP_SASL_IDLE);
		return SMTP_SASL_BASE64;
	}
	out->user = buf;
	out->ulen = (size_t)n;
	out->challenge = LOGIN_PASS_PROMPT;
	sasl_enter(st, SMTP_SASL_LOGIN_PASS);
	return SMTP_SASL_CHALLENGE;
}

/* smtp_sasl_start - the AUTH command */
enum smtp_sasl_res
smtp_sasl_start(uint8_t *st, unsigned mechs, const char *arg, size_t len,
    char *buf, struct smtp_sasl_out *out)
{
	const char *ir;
	size_t mlen, irlen;

	memset(out, 0, sizeof(*out));
	sasl_enter(st, SMTP_SASL_IDLE);
	for (mlen = 0; mlen < len && arg[mlen] != ' '; mlen++)
		;
	if (mlen == 0)
		return SMTP_SASL_SYNTAX;
	for (ir = arg + mlen; ir < arg + len && *ir == ' '; ir++)
		;
	irlen = (size_t)(arg + len - ir);
	if (irlen == 1 && *ir == '=')
		irlen = 0;		/* an empty initial response */
	if (mlen == 5 && strncasecmp(arg, "PLAIN", 5) == 0 &&
	    (mechs & PROF_MECH_PLAIN)) {
		if (ir == arg + len) {
			out->challenge = "";
			sasl_enter(st, SMTP_SASL_PLAIN);
			return SMTP_SASL_CHALLENGE;
		}
		return sasl_plain(st, ir, irlen, buf, out);
	}
	if (mlen == 5 && strncasecmp(arg, "LOGIN", 5) == 0 &&
	    (mechs & PROF_MECH_LOGIN)) {
		if (ir == arg + len) {
			out->challenge = LOGIN_USER_PROMPT;
			sasl_enter(st, SMTP_SASL_LOGIN_USER);
			return SMTP_SASL_CHALLENGE;
		}
		return sasl_login_user(st, ir, irlen, buf, out);
	}
	return SMTP_SASL_MECH;
}

/* smtp_sasl_step - one response line */
enum smtp_sasl_res
smtp_sasl_step(uint8_t *st, const char *line, size_t len, char *buf,
    struct smtp_sasl_out *out)
{
	long n;

	memset(out, 0, sizeof(*out));
	if (len == 1 && line[0] == '*') {
		sasl_enter(st, SMTP_SASL_IDLE);
		return SMTP_SASL_CANCEL;
	}
	switch ((enum smtp_sasl_state)*st) {
	case SMTP_SASL_PLAIN:
		return sasl_plain(st, line, len, buf, out);
	case SMTP_SASL_LOGIN_USER:
		return sasl_login_user(st, line, len, buf, out);
	case SMTP_SASL_LOGIN_PASS:
		sasl_enter(st, SMTP_SASL_IDLE);
		if ((n = smtp_sasl_b64decode(line, len, buf,
		    SMTP_SASL_BUF)) < 0)
			return SMTP_SASL_BASE64;
		out->pass = buf;
		out->plen = (size_t)n;
		return SMTP_SASL_CREDS;
	case SMTP_SASL_IDLE:
	default:
		abort();
	}
}
