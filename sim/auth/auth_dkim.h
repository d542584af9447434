/*
 * @file auth_dkim.h
 * DKIM (RFC 6376) verification and signing with libopendkim.  Public keys
 * come from an auth_zone through libopendkim's key-lookup callback: no DNS
 * query is ever sent.  Signing (for tests and the load generator) uses
 * libopendkim too; auth_dkim_keygen() makes RSA keys with OpenSSL.
 *
 * One struct auth_dkim (a libopendkim library handle) may be shared by
 * threads; each message gets its own struct auth_dkim_verify.  Both
 * allocate inside libopendkim: verification is a per-message cost, to be
 * enabled only where a profile needs DKIM results.
 */
#ifndef AUTH_DKIM_H
#define AUTH_DKIM_H

#include <stddef.h>

#include "auth_zone.h"

#define AUTH_DKIM_SIGS_MAX	4	/* signatures reported per message */
#define AUTH_DKIM_DOMAIN_MAX	128	/* d=, with NUL */
#define AUTH_DKIM_SEL_MAX	64	/* s=, with NUL */

/** Result of one signature (RFC 8601 dkim= values). */
enum auth_dkim_result {
	AUTH_DKIM_NONE = 0,	/* message not signed (message level only) */
	AUTH_DKIM_PASS,
	AUTH_DKIM_FAIL,		/* signature or body hash mismatch */
	AUTH_DKIM_PERMERROR,	/* no key, bad syntax, expired, ... */
	AUTH_DKIM_TEMPERROR,	/* key lookup failed for now */
};

/** One verified signature. */
struct auth_dkim_sig {
	enum auth_dkim_result	 result;
	char			 domain[AUTH_DKIM_DOMAIN_MAX];	/* d= */
	char			 selector[AUTH_DKIM_SEL_MAX];	/* s= */
	const char		*why;	/* libopendkim's text, static */
};

struct auth_dkim;
struct auth_dkim_verify;

/**
 * Create a DKIM context.
 * @param z  keys for verification; may be NULL for a signing-only
 *	     context.  Must outlive the context (not copied).
 * @return the context, or NULL when libopendkim failed to initialise.
 */
struct auth_dkim *auth_dkim_create(const struct auth_zone *z);

/** Free @p adk (after every verify handle made from it); NULL is a no-op. */
void auth_dkim_free(struct auth_dkim *adk);

/**
 * Start verifying one message.
 * @param id  a printable id for libopendkim's logs (session id, ...).
 * @return the handle, or NULL when out of memory.
 */
struct auth_dkim_verify *auth_dkim_verify_begin(struct auth_dkim *adk,
    const char *id);

/**
 * Feed message bytes (headers, empty line, body; CRLF line ends) in any
 * chunking, as msg_scan_feed() gets them.
 * @return 0; -EINVAL when the message is not valid for libopendkim (the
 *	handle then reports PERMERROR at the end).
 */
int auth_dkim_verify_feed(struct auth_dkim_verify *v, const void *p,
    size_t n);

/**
 * The message is complete: verify every signature.
 * @param sigs   receives up to @p max signatures in header order.
 * @param nsigs  receives how many were stored.
 * @return the message result: PASS when one signature passed, NONE when
 *	unsigned, else the result of the first signature.
 */
enum auth_dkim_result auth_dkim_verify_end(struct auth_dkim_verify *v,
    struct auth_dkim_sig *sigs, size_t max, size_t *nsigs);

/** Free a verify handle; NULL is a no-op. */
void auth_dkim_verify_free(struct auth_dkim_verify *v);

/**
 * Sign a message (relaxed/relaxed, rsa-sha256, the library's default
 * header list).
 * @param key_pem   the private key, PEM.
 * @param msg       the whole message, CRLF line ends.
 * @param out       receives "DKIM-Signature: ...\r\n" (folded with CRLF
 *		    TAB), ready to prepend to @p msg; NUL-terminated.
 * @return 0; -EINVAL for a bad key or message; -ENOSPC when @p out is too
 *	small; -ENOMEM.
 */
int auth_dkim_sign(struct auth_dkim *adk, const char *key_pem,
    const char *domain, const char *selector, const void *msg, size_t len,
    char *out, size_t outmax);

/**
 * Generate an RSA key pair with OpenSSL.
 * @param bits     1024 to 4096.
 * @param priv     receives the private key, PEM (about 1.7 KB for 2048).
 * @param pub      receives the public key, base64 DER SubjectPublicKeyInfo
 *		   (the p= value of the DNS record).
 * @return 0; -EINVAL for bad bits; -ENOSPC when a buffer is too small;
 *	-ENOMEM when OpenSSL failed.
 */
int auth_dkim_keygen(unsigned bits, char *priv, size_t privmax,
    char *pub, size_t pubmax);

/**
 * The public key of a private key, for a scenario that names only PEM
 * files.
 * @param priv  the private key, PEM.
 * @param pub   receives the base64 DER public key (the p= value).
 * @return 0; -EINVAL when @p priv does not parse; -ENOSPC; -ENOMEM.
 */
int auth_dkim_pubkey(const char *priv, char *pub, size_t pubmax);

/** @return "none", "pass", "fail", "permerror" or "temperror". */
const char *auth_dkim_result_str(enum auth_dkim_result r);

#endif /* AUTH_DKIM_H */
