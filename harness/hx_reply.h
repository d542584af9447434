/**
 * @file hx_reply.h
 * Incremental parser for SMTP server replies (RFC 5321 4.2), as seen by a
 * client.  It consumes complete lines from a receive buffer, joins the
 * text of multi-line replies ("421-4.7.28 ..." continuation lines), splits
 * off the enhanced status code (RFC 3463) and notes the EHLO keywords the
 * load generator cares about.  A reply split across reads is resumed where
 * it stopped; several pipelined replies in one buffer are returned one per
 * call.  The parser never allocates and never reads past @c len.
 */
#ifndef HX_REPLY_H
#define HX_REPLY_H

#include <stddef.h>

#define HX_REPLY_TEXT_MAX	128	/* joined text kept, incl. NUL */
#define HX_REPLY_ENH_MAX	12	/* "5.999.999" + NUL */

#define HX_REPLY_F_PIPELINING	0x01	/* a line's keyword is PIPELINING */
#define HX_REPLY_F_SIZE		0x02	/* a line's keyword is SIZE */
#define HX_REPLY_F_STARTTLS	0x04	/* a line's keyword is STARTTLS */

/** Result of hx_reply_parse(). */
enum hx_reply_rc {
	HX_REPLY_OK = 0,	/* a complete reply is in the struct */
	HX_REPLY_AGAIN,		/* need more bytes; partial state kept */
	HX_REPLY_INVALID	/* not an SMTP reply line */
};

/** One reply, filled line by line. */
struct hx_reply {
	unsigned	 code;		/* 3-digit code; 0 before line 1 */
	unsigned	 nlines;	/* lines consumed so far */
	unsigned	 flags;		/* HX_REPLY_F_* */
	size_t		 textlen;	/* strlen(text) */
	char		 enh[HX_REPLY_ENH_MAX];	/* "4.7.28" or "" */
	char		 text[HX_REPLY_TEXT_MAX]; /* joined, truncated */
};

/**
 * Forget any partial reply; call before the first parse and after each
 * HX_REPLY_OK or HX_REPLY_INVALID.
 * @param rp reply to clear
 */
void hx_reply_reset(struct hx_reply *rp);

/**
 * Consume complete lines from @p buf until one reply is complete.
 * Lines end in LF with an optional CR before it.
 * @param rp   reply being built (state carried across calls)
 * @param buf  received bytes, need not be NUL-terminated
 * @param len  number of bytes in @p buf
 * @param used out: bytes of @p buf consumed (whole lines only); the
 *             caller discards them before the next call
 * @return HX_REPLY_OK when @p rp holds a complete reply;
 *         HX_REPLY_AGAIN when no complete reply is in @p buf yet (an
 *         unterminated line is left unconsumed; the caller bounds it);
 *         HX_REPLY_INVALID when a line is not "DDD", "DDD text" or
 *         "DDD-text", or a continuation changes the code
 */
enum hx_reply_rc hx_reply_parse(struct hx_reply *rp, const char *buf,
    size_t len, size_t *used);

/**
 * @param rp a reply
 * @return the code class: 2, 3, 4, 5 (or 1); 0 when no code
 */
static inline unsigned
hx_reply_class(const struct hx_reply *rp)
{
	return rp->code / 100;
}

#endif /* HX_REPLY_H */
