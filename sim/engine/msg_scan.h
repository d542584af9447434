/*
 * @file msg_scan.h
 * Incremental, allocation-free scanner of one message as received in DATA
 * (after dot-unstuffing, without the terminating ".CRLF").
 *
 * The caller owns a struct msg_scan (about 5.3 KB, all buffers inline), calls
 * msg_scan_init() at the start of DATA, msg_scan_feed() with the message
 * bytes in any chunking (a byte at a time gives the same result as the
 * whole message at once), and msg_scan_end() at end of DATA; it then reads
 * sc->info.  Memory is fixed: every extracted string is truncated to its
 * buffer and the truncation is flagged.
 *
 * Headers: From (address, domain, organizational domain), Message-ID,
 * Subject (raw, RFC 2047 words are not decoded), DKIM-Signature d= and s=,
 * List-Unsubscribe / List-Unsubscribe-Post (RFC 8058 one-click), Received
 * count, header count and bytes, duplicate From/Subject/Message-ID.
 * Body: http/https URL host names (distinct, lower-cased), link count,
 * spam-word score from a caller-owned word list (whole words and phrases of
 * up to three words, case-insensitive, ASCII case folding only), body and
 * text bytes.  Quoted-printable is decoded when the top-level header or a
 * MIME part header says so (part headers are recognised by line prefix, not
 * by a MIME parser); base64 parts are not decoded.  MIME structure: a
 * top-level multipart/ needs a boundary parameter and its close delimiter
 * (compared case-insensitively; nested multiparts are not followed).
 * Attachment names: the extension after the last dot of a name= or
 * filename= parameter on a part header line (within its first
 * MSG_LINEPFX_MAX bytes; RFC 2231 and RFC 2047 encoded names are not
 * decoded).  Bytes inside HTML tags
 * count for URLs but not for words or text bytes.
 *
 * Organizational domain: the last two labels, or the last three when the
 * last two form a known second-level public suffix (co.uk, com.au, ...; see
 * msg_org_domain()).  This is not the Public Suffix List: private suffixes
 * (github.io, ...) and deeper public suffixes are not known.
 */
#ifndef MSG_SCAN_H
#define MSG_SCAN_H

#include <stddef.h>
#include <stdint.h>

#define MSG_ADDR_MAX		256	/* From address, with NUL */
#define MSG_DOMAIN_MAX		128	/* any domain kept, with NUL */
#define MSG_SELECTOR_MAX	64	/* DKIM s=, with NUL */
#define MSG_MSGID_MAX		256	/* Message-ID, with NUL */
#define MSG_SUBJECT_MAX		256	/* Subject, with NUL */
#define MSG_DKIM_MAX		4	/* DKIM signatures kept */
#define MSG_URL_MAX		8	/* distinct URL domains kept */
#define MSG_HDRVAL_MAX		2048	/* unfolded value of a parsed header */
#define MSG_HDRNAME_MAX		32	/* header names longer are not parsed */
#define MSG_WORD_MAX		32	/* longest word or phrase in a list */
#define MSG_WORDLIST_MAX	256	/* entries in a word list */
#define MSG_LINEPFX_MAX		80	/* body line prefix kept (MIME headers,
					   "--" boundary "--") */
#define MSG_BOUNDARY_MAX	72	/* RFC 2046 boundary (1..70), with NUL */
#define MSG_FILEEXT_MAX		16	/* file-name extension kept, with NUL */
#define MSG_FILEEXTS_MAX	8	/* distinct extensions kept */

/* info.flags */
#define MSG_F_FROM		0x0001	/* a From: header was seen */
#define MSG_F_MSGID		0x0002	/* a Message-ID: header was seen */
#define MSG_F_SUBJECT		0x0004	/* a Subject: header was seen */
#define MSG_F_DATE		0x0008	/* a Date: header was seen */
#define MSG_F_LISTUNSUB		0x0010	/* List-Unsubscribe: present */
#define MSG_F_LISTUNSUB_HTTPS	0x0020	/* ... with an https: URI */
#define MSG_F_LISTUNSUB_MAILTO	0x0040	/* ... with a mailto: URI */
#define MSG_F_LISTUNSUB_POST	0x0080	/* List-Unsubscribe-Post is exactly
					   "List-Unsubscribe=One-Click" */
#define MSG_F_ONECLICK		0x0100	/* RFC 8058: POST + https URI */
#define MSG_F_EOH		0x0200	/* the empty line ending headers seen */
#define MSG_F_TRUNCATED		0x0400	/* some value did not fit */
#define MSG_F_BADHEADER		0x0800	/* a header line without a colon */
#define MSG_F_URL_OVERFLOW	0x1000	/* more than MSG_URL_MAX URL domains */
#define MSG_F_FROM_NOADDR	0x2000	/* From: present, no addr-spec in it */
#define MSG_F_MIME_BAD		0x4000	/* top-level multipart/ without a
					   boundary of 1..70 characters, or
					   its close delimiter never seen */

/* info.dup: headers seen more than once */
#define MSG_DUP_FROM		0x1
#define MSG_DUP_SUBJECT		0x2
#define MSG_DUP_MSGID		0x4

/** One word-list entry: a lower-case word or phrase and its weight. */
struct msg_word {
	uint64_t	 hash;			/* FNV-1a of w */
	uint16_t	 weight;
	char		 w[MSG_WORD_MAX];	/* words separated by one space */
};

/** A spam-word list, built at configuration time, read-only afterwards
 *  and shareable between threads and sessions. */
struct msg_wordlist {
	unsigned	 n;
	unsigned	 maxwords;		/* longest phrase, in words */
	uint64_t	 filter[16];		/* a bit per entry hash */
	uint64_t	 head[16];		/* a bit per phrase's first word */
	uint64_t	 pre[16];		/* a bit per (length, first and
						   last letter) of every word of
						   every entry: a text word
						   without its bit is in no
						   entry (no hash needed) */
	struct msg_word	 e[MSG_WORDLIST_MAX];	/* sorted by hash */
};

/** What the scanner found; valid after msg_scan_end(). */
struct msg_info {
	char		 from_addr[MSG_ADDR_MAX];	/* local@domain, as written */
	char		 from_domain[MSG_DOMAIN_MAX];	/* lower-cased */
	char		 from_org[MSG_DOMAIN_MAX];	/* organizational domain */
	char		 message_id[MSG_MSGID_MAX];	/* trimmed, with <> */
	char		 subject[MSG_SUBJECT_MAX];	/* unfolded, trimmed */
	struct {
		char	 d[MSG_DOMAIN_MAX];		/* lower-cased d= */
		char	 s[MSG_SELECTOR_MAX];		/* s= */
	}		 dkim[MSG_DKIM_MAX];
	unsigned	 ndkim;		/* entries in dkim[] */
	unsigned	 ndkim_seen;	/* DKIM-Signature headers, all */
	unsigned	 flags;		/* MSG_F_* */
	unsigned	 dup;		/* MSG_DUP_* */
	unsigned	 received;	/* Received: headers (hops) */
	unsigned	 attachments;	/* MIME part headers "Content-Disposition:
					 * attachment" (multipart only) */
	char		 file_ext[MSG_FILEEXTS_MAX][MSG_FILEEXT_MAX];
	unsigned	 nfile_ext;	/* entries in file_ext[]: lower-cased
					 * extensions of the name= / filename=
					 * parameters of part headers */
	unsigned	 nheaders;	/* header fields */
	uint64_t	 header_bytes;	/* bytes up to and with the empty line */
	char		 url_domains[MSG_URL_MAX][MSG_DOMAIN_MAX];
	unsigned	 nurl_domains;	/* entries in url_domains[] */
	unsigned	 links;		/* http/https URLs, all */
	unsigned	 spam_score;	/* sum of the weights of the hits */
	unsigned	 spam_hits;	/* word-list matches */
	uint64_t	 body_bytes;	/* bytes after the empty line */
	uint64_t	 text_bytes;	/* decoded body bytes outside tags */
};

/** Scanner state; the caller allocates it (no malloc inside). */
struct msg_scan {
	struct msg_info			 info;
	const struct msg_wordlist	*words;	/* may be NULL */
	/* header state */
	uint8_t		 hstate;
	uint8_t		 hfield;		/* which header is being read */
	uint16_t	 namelen;
	char		 name[MSG_HDRNAME_MAX];
	size_t		 vallen;
	char		 val[MSG_HDRVAL_MAX];
	/* body state */
	uint8_t		 hdr_only;		/* msg_scan_headers_only() */
	uint8_t		 multipart;		/* top-level multipart/ */
	uint8_t		 blen;			/* boundary length, 0 none */
	uint8_t		 bclosed;		/* "--boundary--" seen */
	char		 boundary[MSG_BOUNDARY_MAX];	/* lower-cased */
	uint8_t		 parthdr;		/* in a part's header lines */
	uint8_t		 qp_top;		/* top-level QP */
	uint8_t		 qp;			/* QP in the current part */
	uint8_t		 qpstate;
	char		 qpc1;			/* first hex digit */
	uint16_t	 linelen;
	char		 line[MSG_LINEPFX_MAX];
	uint8_t		 lineskip;		/* this line's prefix cannot
						   matter: not kept */
	uint8_t		 tag;			/* 0 text, 1 '<' seen, 2 tag */
	uint64_t	 tail;			/* last 8 bytes, lower case */
	uint8_t		 tail_out;		/* the byte before them */
	uint8_t		 inhost;		/* 1 host, 2 after ':' */
	uint16_t	 hostlen;
	char		 host[MSG_DOMAIN_MAX];
	uint8_t		 cur;			/* word being read */
	uint8_t		 wordlong;		/* it is too long */
	uint8_t		 wlen[3];		/* ring of the last words */
	uint64_t	 whash[3];
	char		 wbuf[3][MSG_WORD_MAX];
};

/** Empty @p wl. */
void msg_wordlist_init(struct msg_wordlist *wl);

/**
 * Add a word or phrase (up to three words) with a weight.
 * Case and runs of blanks are normalised.
 * @return 0; -EINVAL when empty, longer than MSG_WORD_MAX - 1, more than
 *	three words, or made of something else than letters, digits, bytes
 *	>= 0x80 and blanks; -EEXIST when already present; -ENOSPC when full.
 */
int msg_wordlist_add(struct msg_wordlist *wl, const char *phrase,
    unsigned weight);

/** Add a small built-in list of classic spam words (weight 1 each).
 *  @return 0, or the first error of msg_wordlist_add(). */
int msg_wordlist_add_defaults(struct msg_wordlist *wl);

/** Start scanning a message; @p words (may be NULL) must outlive @p sc. */
void msg_scan_init(struct msg_scan *sc, const struct msg_wordlist *words);

/** Read the headers only (after msg_scan_init()): body bytes are
 *  counted, every body fact (URLs, links, words, MIME, attachments,
 *  text bytes) stays zero. */
void msg_scan_headers_only(struct msg_scan *sc);

/** Feed @p n more bytes of the message. */
void msg_scan_feed(struct msg_scan *sc, const void *p, size_t n);

/** The message is complete: flush pending header, word and URL. */
void msg_scan_end(struct msg_scan *sc);

/**
 * Organizational domain of a lower- or mixed-case domain name.
 * @return a pointer into @p dom at the start of its organizational domain
 *	(@p dom itself when it has two labels or fewer).
 */
const char *msg_org_domain(const char *dom);

#endif /* MSG_SCAN_H */
