/*
 * @file smtp_auth.h
 * Message authentication for the SMTP session: SPF at MAIL, DKIM over
 * the message text during DATA, DMARC at end of DATA, all against the
 * scenario's auth_zone (auth_spf, auth_dkim, auth_dmarc), turned into the
 * policy's struct sim_auth.
 *
 * Two levels:
 *  - struct smtp_auth_world: one per process, over one read-only zone: the
 *    DKIM library handle (shareable) and the DMARC checker (libopendmarc
 *    keeps process-wide state: exactly one per process);
 *  - struct smtp_auth: one per worker thread (auth_spf is not
 *    thread-safe), handed to sessions through smtp_env.auth.
 * Per message the session owns a struct smtp_auth_msg (no allocation of
 * its own; DKIM verification allocates inside libopendkim).
 *
 * Without the authentication libraries (built without MXSIM_HAVE_AUTH)
 * smtp_auth_world_new() fails with -ENOTSUP and nothing else is called.
 */
#ifndef SMTP_AUTH_H
#define SMTP_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "auth_dkim.h"
#include "auth_zone.h"
#include "sim_policy.h"

struct smtp_auth_world;
struct smtp_auth;
struct msg_info;

/** Authentication state of one message (from DATA to its end). */
struct smtp_auth_msg {
	struct auth_dkim_verify	*dv;		/* NULL: not verifying */
	struct auth_dkim_sig	 sigs[AUTH_DKIM_SIGS_MAX];
	size_t			 nsigs;
	enum auth_dkim_result	 dkim;		/* message-level result */
};

/**
 * Create the process-wide part over @p z (which must outlive it).
 * @param psl  Public Suffix List for DMARC alignment, or NULL.
 * @return 0 and *@p out; -ENOTSUP without the libraries; -ENOMEM or
 *	-EINVAL when a library failed to initialise (@p err says which).
 */
int smtp_auth_world_new(struct smtp_auth_world **out,
    const struct auth_zone *z, const char *psl, char *err, size_t errlen);

/** Free the process-wide part (after every smtp_auth); NULL is a no-op. */
void smtp_auth_world_free(struct smtp_auth_world *aw);

/**
 * Create one worker's context.
 * @return the context, or NULL (out of memory, libspf2 failed).
 */
struct smtp_auth *smtp_auth_new(struct smtp_auth_world *aw);

/** Free a worker's context; NULL is a no-op. */
void smtp_auth_free(struct smtp_auth *a);

/**
 * SPF of the MAIL FROM identity, or of the HELO identity when
 * @p mail_from is empty.  Fills out->spf and out->spf_hardfail only.
 * @param client_ip  the client's address in text, IPv4 or IPv6.
 * @param helo       EHLO/HELO name, or NULL.
 */
void smtp_auth_spf(struct smtp_auth *a, const char *client_ip,
    const char *helo, const char *mail_from, struct sim_auth *out);

/**
 * Start a message: prepare DKIM verification.
 * @param id  session id, for libopendkim's logs.
 */
void smtp_auth_msg_begin(struct smtp_auth *a, struct smtp_auth_msg *m,
    uint64_t id);

/** Feed message text (dot-unstuffed), in any chunking. */
void smtp_auth_msg_feed(struct smtp_auth_msg *m, const void *p, size_t n);

/**
 * The message is complete: finish DKIM and evaluate DMARC for the
 * scanned header From.  out->spf must hold the SPF result already.
 * out->dkim_domain points into @p m (valid until the next begin).
 * @param spf_domain  the MAIL FROM domain, or the HELO name for <>.
 */
void smtp_auth_msg_end(struct smtp_auth *a, struct smtp_auth_msg *m,
    const char *client_ip, const char *spf_domain, bool spf_helo,
    const struct msg_info *mi, struct sim_auth *out);

/** Drop a message's DKIM state (abandoned transaction); idempotent. */
void smtp_auth_msg_free(struct smtp_auth_msg *m);

#endif /* SMTP_AUTH_H */
