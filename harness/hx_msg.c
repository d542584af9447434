/*
 * DESCRIPTION
 *	Formats test message headers and streams bodies.  Body line k is a
 *	slice of a fixed pattern; every 11th line (k % 11 == 5) starts with
 *	a dot and goes out stuffed ("..").  Line lengths are chosen so the
 *	body hits the wanted size exactly: a line is shortened by one byte
 *	when the remainder would otherwise be a single byte, which cannot
 *	hold a CRLF.  The one unreachable size (one body byte) is rounded up
 *	to two.
 *
 *	DKIM signing (hx_msg_sign()) renders the whole message once, without
 *	dot-stuffing, into a temporary buffer and signs it with libopendkim
 *	(auth_dkim_sign()): a per-message cost (about 2 ms with a 2048-bit
 *	key) paid only when asked.
 *
 * DIAGNOSTICS
 *	hx_msg_header() and hx_msg_sign() return -ENOSPC when the header does
 *	not fit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef MXSIM_HAVE_AUTH
#include "auth_dkim.h"
#endif
#include "hx_msg.h"

#define HX_SIG_MAX	4096	/* a DKIM-Signature header */

/* 64 + HX_MSG_LINE_MAX characters of printable ASCII, no leading dot. */
static const char body_pattern[] =
    "The quick brown fox jumps over the lazy dog; pack my box with five "
    "dozen liquor jugs. Sphinx of black quartz, judge my vow! 0123456789 "
    "How vexingly quick daft zebras jump.";

/* hx_msg_header - format one message's header block */
int
hx_msg_header(char *buf, size_t cap, const struct hx_msg_hdr *h)
{
	char local[32], unsub[512];
	const char *lp, *fd;
	int n;

	lp = h->rcpt_local;
	if (lp == NULL) {
		snprintf(local, sizeof(local), "user%llu",
		    (unsigned long long)h->rcpt_user);
		lp = local;
	}
	fd = h->from_header != NULL ? h->from_header : h->from_domain;
	unsub[0] = '\0';
	if (h->list_unsub)
		snprintf(unsub, sizeof(unsub),
		    "List-Unsubscribe: <https://unsubscribe.%s/u/%llu>, "
		    "<mailto:unsubscribe@%s?subject=%llu>\r\n"
		    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
		    fd, (unsigned long long)h->seq, fd,
		    (unsigned long long)h->seq);
	n = snprintf(buf, cap,
	    "From: <sender%llu@%s>\r\n"
	    "To: <%s@%s>\r\n"
	    "Subject: mxload test message %llu\r\n"
	    "Date: %s\r\n"
	    "Message-ID: <%llu.%llx@%s>\r\n"
	    "%s"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "\r\n",
	    (unsigned long long)h->seq, fd, lp, h->rcpt_domain,
	    (unsigned long long)h->seq, h->date, (unsigned long long)h->seq,
	    (unsigned long long)h->seed, h->helo, unsub);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}

/* hx_msg_sign - prepend a DKIM-Signature for the message to come */
int
hx_msg_sign(struct auth_dkim *adk, const char *key_pem, const char *domain,
    const char *selector, char *hdr, size_t cap, size_t hdrlen,
    uint64_t size)
{
#ifdef MXSIM_HAVE_AUTH
	struct hx_msg m;
	char *buf, *sig;
	size_t bcap, len, n, i, o, siglen;
	int bol, rc;

	hx_msg_start(&m, hdr, hdrlen, size);
	bcap = 2 * (size_t)m.size + 4 * HX_MSG_FILL_MIN;
	if ((buf = malloc(bcap + HX_SIG_MAX)) == NULL)
		return -ENOMEM;
	sig = buf + bcap;
	len = 0;
	while (!m.done && (n = hx_msg_fill(&m, buf + len, bcap - len)) > 0)
		len += n;
	/* undo the stuffing and drop the final "." line */
	for (i = o = 0, bol = 0; i < len; i++) {
		if (i == hdrlen)
			bol = 1;
		if (bol && buf[i] == '.') {
			bol = 0;
			if (i + 3 == len)
				break;		/* ".\r\n": the end */
			continue;		/* stuffing */
		}
		bol = i >= hdrlen && buf[i] == '\n';
		buf[o++] = buf[i];
	}
	rc = auth_dkim_sign(adk, key_pem, domain, selector, buf, o, sig,
	    HX_SIG_MAX);
	if (rc == 0) {
		siglen = strlen(sig);
		if (siglen + hdrlen > cap)
			rc = -ENOSPC;
		else {
			memmove(hdr + siglen, hdr, hdrlen);
			memcpy(hdr, sig, siglen);
			rc = (int)(siglen + hdrlen);
		}
	}
	free(buf);
	return rc;
#else
	(void)adk;
	(void)key_pem;
	(void)domain;
	(void)selector;
	(void)hdr;
	(void)cap;
	(void)hdrlen;
	(void)size;
	return -ENOTSUP;
#endif
}

/* hx_msg_start - begin streaming a message */
void
hx_msg_start(struct hx_msg *m, const char *hdr, size_t hdrlen, uint64_t size)
{
	m->hdr = hdr;
	m->hdrlen = hdrlen;
	m->hdroff = 0;
	m->remain = size > hdrlen ? size - hdrlen : 0;
	if (m->remain == 1)
		m->remain = 2;
	m->size = hdrlen + m->remain;
	m->line = 0;
	m->done = 0;
}

/* hx_msg_fill - emit header bytes, stuffed body lines and the dot */
size_t
hx_msg_fill(struct hx_msg *m, char *out, size_t cap)
{
	size_t w, n, len;
	const char *p;

	w = 0;
	if (m->done)
		return 0;
	if (m->hdroff < m->hdrlen) {
		n = m->hdrlen - m->hdroff;
		if (n > cap)
			n = cap;
		memcpy(out, m->hdr + m->hdroff, n);
		m->hdroff += n;
		w += n;
		if (m->hdroff < m->hdrlen)
			return w;
	}
	while (m->remain > 0 && cap - w >= HX_MSG_LINE_MAX + 3) {
		len = m->remain - 2 < HX_MSG_LINE_MAX ?
		    (size_t)(m->remain - 2) : HX_MSG_LINE_MAX;
		if (m->remain - (len + 2) == 1)
			len--;
		p = body_pattern + m->line % 64;
		if (len > 0 && m->line % 11 == 5) {
			out[w++] = '.';
			out[w++] = '.';
			memcpy(out + w, p, len - 1);
			w += len - 1;
		} else {
			memcpy(out + w, p, len);
			w += len;
		}
		out[w++] = '\r';
		out[w++] = '\n';
		m->remain -= len + 2;
		m->line++;
	}
	if (m->remain == 0 && cap - w >= 3) {
		memcpy(out + w, ".\r\n", 3);
		w += 3;
		m->done = 1;
	}
	return w;
}
