/*
 * DESCRIPTION
 *	Rendering of profile replies into SMTP reply lines: placeholder
 *	expansion ({ip}, {host}, {session}, ...), the profile's trailer and
 *	the optional multi-line wrap ("421-4.7.28 ..." / "421 4.7.28 ...",
 *	every line repeating the code and the enhanced code, as Gmail does).
 *	Wrapping never splits the trailer: Gmail's "<id> - gsmtp" ends the
 *	last line whole, as log parsers expect.  A text the profile gives
 *	as a list of lines (joined with LF by the loader) breaks at each
 *	LF, every line repeating the code (and the enhanced code, if any),
 *	as GMX's multi-line replies do.
 *
 *	A NULL profile renders the built-in defaults of sim_kind_info(),
 *	with no trailer and no wrap (used for addresses no profile serves).
 *
 *	Values that come from the peer ({helo}, {addr}, {domain},
 *	{from_domain}, {dkim_domain}) are
 *	sanitized: control characters become '?', so a client can never
 *	inject a reply line.  CR and LF in templates become spaces.
 *
 *	Hot path: no allocation, the text is expanded on the stack and
 *	rendered in two passes (measure, then write) so that nothing is
 *	written when the reply does not fit.
 *
 * DIAGNOSTICS
 *	sim_kind_info() panics on an out-of-range reply kind.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sim_fmt.h"
#include "smtp_reply.h"

#define SMTP_REPLY_TEXT_MAX	2048	/* expanded text + trailer */

enum smtp_ph_id {
	SMTP_PH_IP = 0,
	SMTP_PH_NETBLOCK,
	SMTP_PH_HOST,
	SMTP_PH_MX,
	SMTP_PH_SESSION,
	SMTP_PH_DOMAIN,
	SMTP_PH_ADDR,
	SMTP_PH_RCPT_DOMAIN,
	SMTP_PH_SIZE,
	SMTP_PH_LIMIT,
	SMTP_PH_HELO,
	SMTP_PH_FROM_DOMAIN,
	SMTP_PH_DKIM_DOMAIN
};

struct smtp_ph {
	const char	*name;
	size_t		 len;
	enum smtp_ph_id	 id;
};

#define PH(n, id)	{ n, sizeof(n) - 1, id }

static const struct smtp_ph smtp_phs[] = {
	PH("ip", SMTP_PH_IP),
	PH("netblock", SMTP_PH_NETBLOCK),
	PH("host", SMTP_PH_HOST),
	PH("mx", SMTP_PH_MX),
	PH("session", SMTP_PH_SESSION),
	PH("domain", SMTP_PH_DOMAIN),
	PH("addr", SMTP_PH_ADDR),
	PH("rcpt_domain", SMTP_PH_RCPT_DOMAIN),
	PH("size", SMTP_PH_SIZE),
	PH("limit", SMTP_PH_LIMIT),
	PH("helo", SMTP_PH_HELO),
	PH("from_domain", SMTP_PH_FROM_DOMAIN),
	PH("dkim_domain", SMTP_PH_DKIM_DOMAIN),
};

#define SMTP_PH_NAME_MAX	16	/* longest name we look for + 1 */

/* Bounded writer: keeps one byte for the terminating NUL. */
struct smtp_wbuf {
	char		*p;
	size_t		 len;
	size_t		 cap;
};

/* writing */
static void	smtp_wb_put(struct smtp_wbuf *, const char *, size_t, bool);
static void	smtp_wb_str(struct smtp_wbuf *, const char *, bool);
static size_t	smtp_fmt_ip(char *, uint32_t, bool);
static void	smtp_ph_put(struct smtp_wbuf *, const struct prof_profile *,
		    enum smtp_ph_id, const struct smtp_reply_vars *);

/* wrapping */
static bool	smtp_wrap_next(const char *, size_t, size_t, size_t *,
		    size_t, size_t *, size_t *);
static size_t	smtp_line_put(char *, size_t, uint16_t, char, const char *,
		    size_t, const char *, size_t);

/* smtp_wb_put - append bytes, truncating; optionally sanitize controls */
static void
smtp_wb_put(struct smtp_wbuf *wb, const char *s, size_t n, bool sanitize)
{
	size_t i;
	unsigned char c;

	if (wb->len + 1 >= wb->cap)
		return;
	if (n > wb->cap - 1 - wb->len)
		n = wb->cap - 1 - wb->len;
	memcpy(wb->p + wb->len, s, n);
	for (i = 0; sanitize && i < n; i++) {
		c = (unsigned char)wb->p[wb->len + i];
		if (c < 0x20 || c == 0x7f)
			wb->p[wb->len + i] = '?';
	}
	wb->len += n;
	wb->p[wb->len] = '\0';
}

/* smtp_wb_str - append a C string (NULL appends nothing) */
static void
smtp_wb_str(struct smtp_wbuf *wb, const char *s, bool sanitize)
{
	if (s != NULL)
		smtp_wb_put(wb, s, strlen(s), sanitize);
}

/* smtp_fmt_ip - dotted quad (or "a.b.c.0/24" for @net) into @buf (>= 19) */
static size_t
smtp_fmt_ip(char *buf, uint32_t ip, bool net)
{
	size_t n;

	if (!net)
		return sim_fmt_ipv4(buf, ip);
	n = sim_fmt_ipv4(buf, ip & 0xffffff00u);
	memcpy(buf + n, "/24", 3);
	return n + 3;
}

/* smtp_ph_put - append the value of one placeholder */
static void
smtp_ph_put(struct smtp_wbuf *wb, const struct prof_profile *p,
    enum smtp_ph_id id, const struct smtp_reply_vars *v)
{
	char num[32], a6[SIM_ADDR_TEXT_MAX];
	const char *at;

	switch (id) {
	case SMTP_PH_IP:
		if (v->client6 != NULL)
			smtp_wb_str(wb, sim_addr6_fmt(v->client6, a6,
			    sizeof(a6)), false);
		else
			smtp_wb_put(wb, num, smtp_fmt_ip(num, v->client_ip,
			    false), false);
		break;
	case SMTP_PH_NETBLOCK:
		if (v->client6 != NULL)
			smtp_wb_str(wb, sim_addr6_key(v->client6,
			    v->netblock6 != 0 ? v->netblock6 :
			    PROF_IPV6_NETBLOCK_DEFAULT, a6, sizeof(a6)), false);
		else
			smtp_wb_put(wb, num, smtp_fmt_ip(num, v->client_ip,
			    true), false);
		break;
	case SMTP_PH_HOST:
		smtp_wb_str(wb, p != NULL && p->nmx_hosts > 0 ?
		    p->mx_hosts[0] : "localhost", true);
		break;
	case SMTP_PH_MX:
		if (v->mx6 != NULL)
			smtp_wb_str(wb, sim_addr6_fmt(v->mx6, a6, sizeof(a6)),
			    false);
		else
			smtp_wb_put(wb, num, smtp_fmt_ip(num, v->mx_ip, false),
			    false);
		break;
	case SMTP_PH_SESSION:
		smtp_wb_put(wb, num, sim_fmt_hex16(num, v->session_id),
		    false);
		break;
	case SMTP_PH_DOMAIN:
		smtp_wb_str(wb, v->domain, true);
		break;
	case SMTP_PH_ADDR:
		smtp_wb_str(wb, v->addr, true);
		break;
	case SMTP_PH_RCPT_DOMAIN:
		if (v->addr != NULL && (at = strrchr(v->addr, '@')) != NULL)
			smtp_wb_str(wb, at + 1, true);
		break;
	case SMTP_PH_SIZE:
		smtp_wb_put(wb, num, sim_fmt_u64(num, v->size), false);
		break;
	case SMTP_PH_LIMIT:
		smtp_wb_put(wb, num, sim_fmt_u64(num, v->limit), false);
		break;
	case SMTP_PH_HELO:
		smtp_wb_str(wb, v->helo, true);
		break;
	case SMTP_PH_FROM_DOMAIN:
		smtp_wb_str(wb, v->from_domain, true);
		break;
	case SMTP_PH_DKIM_DOMAIN:
		smtp_wb_str(wb, v->dkim_domain, true);
		break;
	default:
		abort();
	}
}

/* smtp_reply_expand - replace placeholders in a template */
size_t
smtp_reply_expand(const struct prof_profile *p, const char *tmpl,
    const struct smtp_reply_vars *v, char *out, size_t cap)
{
	struct smtp_wbuf wb = { out, 0, cap };
	const char *s, *close;
	size_t i, n;

	if (cap == 0)
		return 0;
	out[0] = '\0';
	if (tmpl == NULL)
		return 0;
	for (s = tmpl; *s != '\0'; ) {
		/* Copy the literal run up to the next brace. */
		n = (size_t)(strchrnul(s, '{') - s);
		smtp_wb_put(&wb, s, n, false);
		s += n;
		if (*s == '\0')
			break;
		close = memchr(s + 1, '}', strnlen(s + 1, SMTP_PH_NAME_MAX));
		if (close != NULL) {
			n = (size_t)(close - s - 1);
			for (i = 0; i < sizeof(smtp_phs) / sizeof(smtp_phs[0]);
			    i++)
				if (smtp_phs[i].len == n &&
				    memcmp(smtp_phs[i].name, s + 1, n) == 0)
					break;
			if (i < sizeof(smtp_phs) / sizeof(smtp_phs[0])) {
				smtp_ph_put(&wb, p, smtp_phs[i].id, v);
				s = close + 1;
				continue;
			}
		}
		/* Unknown placeholder or lone brace: keep it literally. */
		smtp_wb_put(&wb, s, 1, false);
		s++;
	}
	return wb.len;
}

/*
 * smtp_wrap_next - next line of @t (length @n) starting at *@pos, at most
 * @avail columns, split at a space (the space is dropped) at or before
 * index @brk: the trailer after it is never split, so "<id> - gsmtp" ends
 * the last line whole.  A word longer than @avail makes a line of its own.
 * @return false when no text is left.
 */
static bool
smtp_wrap_next(const char *t, size_t n, size_t brk, size_t *pos,
    size_t avail, size_t *start, size_t *len)
{
	size_t i, p = *pos;
	const char *lf;

	if (p > n)
		return false;
	*start = p;
	/* a multi-line text's LF within reach ends the line */
	lf = memchr(t + p, '\n', n - p < avail + 1 ? n - p : avail + 1);
	if (lf != NULL) {
		*len = (size_t)(lf - (t + p));
		*pos = *len + p + 1;
		return true;
	}
	if (n - p <= avail) {
		*len = n - p;
		*pos = n + 1;
		return true;
	}
	for (i = p + avail; i > p; i--)
		if (t[i] == ' ' && i <= brk)
			break;
	if (i == p)
		for (i = p + avail + 1; i < n && t[i] != '\n' &&
		    (t[i] != ' ' || i > brk); i++)
			;
	*len = i - p;
	*pos = i + 1;		/* past the space, or n + 1 at the end */
	return true;
}

/* smtp_line_put - one reply line into @out (NULL: measure only) */
static size_t
smtp_line_put(char *out, size_t off, uint16_t code, char sep,
    const char *enh, size_t enhlen, const char *text, size_t len)
{
	size_t n = 0;

	if (out != NULL) {
		out += off;
		out[0] = (char)('0' + code / 100 % 10);
		out[1] = (char)('0' + code / 10 % 10);
		out[2] = (char)('0' + code % 10);
		out[3] = sep;
	}
	n = 4;
	if (enhlen > 0) {
		if (out != NULL) {
			memcpy(out + n, enh, enhlen);
			if (len > 0)
				out[n + enhlen] = ' ';
		}
		n += enhlen + (len > 0);
	}
	if (out != NULL) {
		memcpy(out + n, text, len);
		memcpy(out + n + len, "\r\n", 2);
	}
	return n + len + 2;
}

/* smtp_reply_render - one reply of a profile as SMTP reply lines */
size_t
smtp_reply_render(const struct prof_profile *p, enum sim_rk rk,
    const struct smtp_reply_vars *v, char *out, size_t cap)
{
	char text[SMTP_REPLY_TEXT_MAX];
	const struct sim_kind_info *ki;
	const char *enh, *tmpl;
	size_t n, i, enhlen, avail, prefix, pos, start, len, total, off, brk;
	uint16_t code;
	int pass;

	if (p != NULL && p->fixed[rk] != NULL) {
		/* the same for every session (smtp_reply_fix()) */
		n = strlen(p->fixed[rk]);
		if (n > cap)
			return 0;
		memcpy(out, p->fixed[rk], n);
		return n;
	}
	ki = sim_kind_info(rk);
	if (p != NULL) {
		code = p->replies[rk].code;
		enh = p->replies[rk].enhanced;
		tmpl = p->replies[rk].text;
	} else {
		code = ki->code;
		enh = ki->enhanced;
		tmpl = ki->text;
	}
	if (enh == NULL)
		enh = "";
	enhlen = strlen(enh);

	n = smtp_reply_expand(p, tmpl, v, text, sizeof(text));
	brk = n;		/* the trailer is not split */
	if (p != NULL && rk != SIM_RK_EHLO && p->trailer != NULL)
		n += smtp_reply_expand(p, p->trailer, v, text + n,
		    sizeof(text) - n);
	/* LF in the profile's template is a line break (a text given as a
	 * list of lines); peer values cannot carry one (sanitized) */
	if (memchr(text, '\r', n) != NULL || memchr(text, '\0', n) != NULL ||
	    memchr(text + brk, '\n', n - brk) != NULL)
		for (i = 0; i < n; i++)
			if (text[i] == '\r' || text[i] == '\0' ||
			    (text[i] == '\n' && i >= brk))
				text[i] = ' ';

	prefix = 4 + (enhlen > 0 ? enhlen + 1 : 0);
	if (p == NULL || p->wrap == 0)
		avail = n;
	else
		avail = p->wrap > prefix ? p->wrap - prefix : 0;

	/* One line (the common case): measured and written at once. */
	if (n <= avail && memchr(text, '\n', brk) == NULL) {
		total = smtp_line_put(NULL, 0, code, ' ', enh, enhlen, text, n);
		if (total > cap)
			return 0;
		return smtp_line_put(out, 0, code, ' ', enh, enhlen, text, n);
	}
	/* Pass 0 measures, pass 1 writes: nothing is written unless it fits. */
	total = 0;
	for (pass = 0; pass < 2; pass++) {
		off = 0;
		pos = 0;
		while (smtp_wrap_next(text, n, brk, &pos, avail, &start,
		    &len))
			off += smtp_line_put(pass == 0 ? NULL : out, off,
			    code, pos > n ? ' ' : '-', enh, enhlen,
			    text + start, len);
		if (pass == 0) {
			total = off;
			if (total > cap)
				return 0;
		}
	}
	return total;
}

/* smtp_reply_fix - the replies that do not vary, rendered once */
int
smtp_reply_fix(struct prof_world *w)
{
	static const struct smtp_reply_vars va = {
		0x0a000001u, 0x0a000002u, NULL, NULL, 0, 1, "a.example",
		"a.example", "a@a.example", 1, 1, "a.example", "a.example"
	};
	static const struct smtp_reply_vars vb = {
		0xc0000203u, 0xc0000204u, NULL, NULL, 0, 2, "b.test", "b.test",
		"b@b.test", 22, 22, "b.test", "b.test"
	};
	char a[SMTP_REPLY_TEXT_MAX * 2], b[SMTP_REPLY_TEXT_MAX * 2];
	struct prof_profile *p;
	size_t i, rk, na, nb;
	int rc = 0;

	for (i = 0; i < w->nprofiles; i++) {
		p = w->profiles[i];
		for (rk = 0; rk < SIM_RK__COUNT; rk++) {
			free(p->fixed[rk]);
			p->fixed[rk] = NULL;
			na = smtp_reply_render(p, (enum sim_rk)rk, &va, a,
			    sizeof(a) - 1);
			nb = smtp_reply_render(p, (enum sim_rk)rk, &vb, b,
			    sizeof(b) - 1);
			if (na == 0 || na != nb || memcmp(a, b, na) != 0)
				continue;
			if ((p->fixed[rk] = strndup(a, na)) == NULL)
				rc = -ENOMEM;
		}
	}
	return rc;
}
