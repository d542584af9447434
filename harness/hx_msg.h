/**
 * @file hx_msg.h
 * Test message generation for mxload: one formatted header block per
 * message and a resumable body generator that streams the rest of the
 * message straight into a connection's fixed output buffer, already
 * dot-stuffed and followed by the terminating "." line.  Body lines are
 * at most HX_MSG_LINE_MAX characters before CRLF; some start with "." so
 * that dot-stuffing is exercised.  The message (headers + body, counted
 * before stuffing, with CRLFs) has exactly the requested size whenever
 * the size exceeds the headers; otherwise it is the headers alone.
 *
 * Headers: From (sender<N>@domain), To, Subject, Date, Message-ID (unique
 * per message and run seed), MIME headers and, on request, RFC 8058
 * one-click List-Unsubscribe / List-Unsubscribe-Post.  hx_msg_sign()
 * prepends a DKIM-Signature over the header block and the body the
 * generator will produce.
 */
#ifndef HX_MSG_H
#define HX_MSG_H

#include <stddef.h>
#include <stdint.h>

#define HX_MSG_LINE_MAX		76	/* body line text, without CRLF */
#define HX_MSG_FILL_MIN		(2 * HX_MSG_LINE_MAX + 8) /* fill space */

/** What one message's headers say. */
struct hx_msg_hdr {
	uint64_t	 seq;		/* message sequence number */
	uint64_t	 seed;		/* run seed, part of the Message-ID */
	const char	*from_domain;
	const char	*rcpt_local;	/* first recipient */
	uint64_t	 rcpt_user;	/* used when rcpt_local is NULL */
	const char	*rcpt_domain;
	const char	*helo;		/* Message-ID right-hand side */
	const char	*date;		/* RFC 5322 date text */
	const char	*from_header;	/* header From domain; NULL: from_domain */
	int		 list_unsub;	/* add List-Unsubscribe(-Post) */
};

struct auth_dkim;

/** Resumable body generator state; valid until hx_msg_start() again. */
struct hx_msg {
	const char	*hdr;		/* header block, owned by the caller */
	size_t		 hdrlen;
	size_t		 hdroff;	/* header bytes already emitted */
	uint64_t	 remain;	/* unstuffed body bytes still due */
	uint64_t	 size;		/* hdrlen + body bytes (SIZE=) */
	uint32_t	 line;		/* body line number */
	int		 done;		/* final "." line emitted */
};

/**
 * Format the header block, ending in the empty line.
 * @param buf out: header text (not NUL-terminated beyond the length)
 * @param cap size of @p buf
 * @param h   header fields
 * @return the length; -ENOSPC when it does not fit in @p cap
 */
int hx_msg_header(char *buf, size_t cap, const struct hx_msg_hdr *h);

/**
 * Sign the message that hx_msg_start(@p hdr, @p hdrlen, @p size) would
 * produce and prepend the DKIM-Signature header to @p hdr.  Start the
 * generator with the new length and @p size plus the growth, so that the
 * body stays the one that was signed.
 * @param adk       a DKIM context (auth_dkim_create(NULL) is enough)
 * @param key_pem   private key, PEM
 * @param domain    d=
 * @param selector  s=
 * @param hdr       header block, rewritten in place
 * @param cap       size of @p hdr
 * @return the new header length; -ENOSPC when it does not fit; -EINVAL
 *	for a bad key; -ENOMEM; -ENOTSUP when built without libopendkim
 */
int hx_msg_sign(struct auth_dkim *adk, const char *key_pem,
    const char *domain, const char *selector, char *hdr, size_t cap,
    size_t hdrlen, uint64_t size);

/**
 * Start generating a message.
 * @param m      generator state to (re)initialise
 * @param hdr    header block from hx_msg_header(); must stay valid and
 *               unchanged until @c m->done
 * @param hdrlen its length
 * @param size   wanted message size in bytes
 */
void hx_msg_start(struct hx_msg *m, const char *hdr, size_t hdrlen,
    uint64_t size);

/**
 * Emit the next part of the message: header bytes, then whole stuffed
 * body lines, then ".\r\n".  Writes nothing for body lines when fewer
 * than HX_MSG_FILL_MIN bytes are free, so pass at least that much.
 * @param m   generator
 * @param out output area
 * @param cap free bytes at @p out
 * @return bytes written (0 when done or @p cap too small)
 */
size_t hx_msg_fill(struct hx_msg *m, char *out, size_t cap);

#endif /* HX_MSG_H */
