/*
 * DESCRIPTION
 *	Client-side SMTP reply parser.  Works on whole lines of the caller's
 *	receive buffer and keeps only the joined text (bounded, truncated)
 *	and the code in struct hx_reply, so the caller can discard each line
 *	as soon as it is parsed.  The enhanced status code is taken from the
 *	first line and stripped from the continuation lines before their
 *	text is joined with single spaces.
 *
 * DIAGNOSTICS
 *	Malformed lines return HX_REPLY_INVALID; nothing panics.
 */
#include <string.h>
#include <strings.h>

#include "hx_reply.h"

static enum hx_reply_rc	reply_line(struct hx_reply *, const char *, size_t);
static size_t		enh_len(const char *, size_t);
static void		text_append(struct hx_reply *, const char *, size_t);
static unsigned		keyword_flags(const char *, size_t);

/* hx_reply_reset - forget any partial reply */
void
hx_reply_reset(struct hx_reply *rp)
{
	rp->code = 0;
	rp->nlines = 0;
	rp->flags = 0;
	rp->textlen = 0;
	rp->enh[0] = '\0';
	rp->text[0] = '\0';
}

/* hx_reply_parse - consume lines until one reply is complete */
enum hx_reply_rc
hx_reply_parse(struct hx_reply *rp, const char *buf, size_t len, size_t *used)
{
	const char *lf;
	size_t off, linelen;
	enum hx_reply_rc rc;

	off = 0;
	for (;;) {
		lf = memchr(buf + off, '\n', len - off);
		if (lf == NULL) {
			*used = off;
			return HX_REPLY_AGAIN;
		}
		linelen = (size_t)(lf - (buf + off));
		if (linelen > 0 && buf[off + linelen - 1] == '\r')
			linelen--;
		rc = reply_line(rp, buf + off, linelen);
		off = (size_t)(lf - buf) + 1;
		if (rc != HX_REPLY_AGAIN) {
			*used = off;
			return rc;
		}
	}
	/* NOTREACHED */
}

/* reply_line - parse one line; AGAIN means a continuation line */
static enum hx_reply_rc
reply_line(struct hx_reply *rp, const char *p, size_t len)
{
	unsigned code;
	size_t el, tl;
	const char *t;
	int last;

	if (len < 3 || p[0] < '1' || p[0] > '5' || p[1] < '0' ||
	    p[1] > '9' || p[2] < '0' || p[2] > '9')
		return HX_REPLY_INVALID;
	if (len > 3 && p[3] != ' ' && p[3] != '-')
		return HX_REPLY_INVALID;
	code = (unsigned)(p[0] - '0') * 100 + (unsigned)(p[1] - '0') * 10 +
	    (unsigned)(p[2] - '0');
	if (rp->nlines > 0 && code != rp->code)
		return HX_REPLY_INVALID;
	rp->code = code;
	last = len == 3 || p[3] == ' ';
	t = len > 4 ? p + 4 : p + len;
	tl = len > 4 ? len - 4 : 0;

	rp->flags |= keyword_flags(t, tl);
	el = enh_len(t, tl);
	if (el > 0) {
		if (rp->nlines == 0 && el < HX_REPLY_ENH_MAX) {
			memcpy(rp->enh, t, el);
			rp->enh[el] = '\0';
		}
		t += el;
		tl -= el;
		while (tl > 0 && *t == ' ') {
			t++;
			tl--;
		}
	}
	text_append(rp, t, tl);
	rp->nlines++;
	return last ? HX_REPLY_OK : HX_REPLY_AGAIN;
}

/* enh_len - length of a leading "c.sss.ddd" enhanced code, or 0 */
static size_t
enh_len(const char *t, size_t tl)
{
	size_t i, n;
	int part;

	if (tl < 5 || (t[0] != '2' && t[0] != '4' && t[0] != '5') ||
	    t[1] != '.')
		return 0;
	i = 2;
	for (part = 0; part < 2; part++) {
		n = 0;
		while (i < tl && t[i] >= '0' && t[i] <= '9' && n < 3) {
			i++;
			n++;
		}
		if (n == 0)
			return 0;
		if (part == 0) {
			if (i >= tl || t[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < tl && t[i] != ' ')
		return 0;
	return i;
}

/* text_append - join a line's text to the reply text, truncating */
static void
text_append(struct hx_reply *rp, const char *t, size_t tl)
{
	size_t room;

	if (tl == 0)
		return;
	if (rp->textlen > 0 && rp->textlen + 1 < HX_REPLY_TEXT_MAX)
		rp->text[rp->textlen++] = ' ';
	room = HX_REPLY_TEXT_MAX - 1 - rp->textlen;
	if (tl > room)
		tl = room;
	memcpy(rp->text + rp->textlen, t, tl);
	rp->textlen += tl;
	rp->text[rp->textlen] = '\0';
}

/* keyword_flags - HX_REPLY_F_* for an EHLO keyword line */
static unsigned
keyword_flags(const char *t, size_t tl)
{
	size_t kl;

	for (kl = 0; kl < tl && t[kl] != ' '; kl++)
		;
	if (kl == 10 && strncasecmp(t, "PIPELINING", 10) == 0)
		return HX_REPLY_F_PIPELINING;
	if (kl == 4 && strncasecmp(t, "SIZE", 4) == 0)
		return HX_REPLY_F_SIZE;
	if (kl == 8 && strncasecmp(t, "STARTTLS", 8) == 0)
		return HX_REPLY_F_STARTTLS;
	return 0;
}
