/*
 * @file auth_spf.h
 * SPF (RFC 7208) with libspf2, against the records of an auth_zone only:
 * the zone is copied into libspf2's zone DNS layer (SPF_dns_zone) with no
 * layer below it, so no query ever leaves the process.
 *
 * libspf2 passes any client on 127.0.0.0/8 without looking at the record
 * ("localhost free ride").  mxsim's clients are on loopback, so auth_spf
 * runs libspf2's record fetch and interpreter itself and skips that
 * shortcut: 127.x clients are judged by the record like any other.
 *
 * An auth_spf is not thread-safe: use one per worker thread (they may
 * share the read-only auth_zone).  Each check allocates inside libspf2.
 */
#ifndef AUTH_SPF_H
#define AUTH_SPF_H

#include "auth_zone.h"

/** SPF results (RFC 7208 section 2.6). */
enum auth_spf_result {
	AUTH_SPF_NONE = 0,
	AUTH_SPF_NEUTRAL,
	AUTH_SPF_PASS,
	AUTH_SPF_FAIL,
	AUTH_SPF_SOFTFAIL,
	AUTH_SPF_TEMPERROR,
	AUTH_SPF_PERMERROR,
};

struct auth_spf;

/**
 * Create an SPF checker over the records of @p z (copied: @p z may be
 * freed afterwards).
 * @return the checker, or NULL when libspf2 failed or out of memory.
 */
struct auth_spf *auth_spf_create(const struct auth_zone *z);

/** Free @p sp; NULL is a no-op. */
void auth_spf_free(struct auth_spf *sp);

/**
 * Check the MAIL FROM identity, or the HELO identity when @p mail_from is
 * empty or NULL (RFC 7208 section 2.4: postmaster@helo).
 * @param ip         client IPv4 or IPv6 address, text form.
 * @param helo       EHLO/HELO argument.
 * @param mail_from  reverse-path without <>, "" for the null sender.
 * @param res        receives the result.
 * @return 0; -EINVAL for a bad address or missing helo; -ENOMEM.
 */
int auth_spf_check(struct auth_spf *sp, const char *ip, const char *helo,
    const char *mail_from, enum auth_spf_result *res);

/** @return "pass", "fail", "softfail", "neutral", "none", "temperror" or
 *  "permerror". */
const char *auth_spf_result_str(enum auth_spf_result r);

#endif /* AUTH_SPF_H */
