/*
 * @file auth_dmarc.h
 * DMARC (RFC 7489) with libopendmarc, against the _dmarc records of an
 * auth_zone: record discovery (the From domain, then its organizational
 * domain), record parsing, identifier alignment and the policy to apply.
 *
 * Alignment: libopendmarc decides relaxed alignment with the Public Suffix
 * List it is given (Debian package "publicsuffix",
 * AUTH_DMARC_PSL_DEFAULT); without one, sibling subdomains of one
 * organizational domain do not align.  libopendmarc 1.4.2 also accepts a
 * parent of the From domain under strict alignment (adkim=s / aspf=s);
 * auth_dmarc applies RFC 7489's strict rule (exact match) itself.
 *
 * The percentage (pct=) is reported, not applied: the caller samples with
 * its seeded generator.  libopendmarc keeps its settings and the suffix
 * list in process-wide state: create one auth_dmarc per process.  Checks
 * may run from several threads (each allocates its own libopendmarc
 * context).
 */
#ifndef AUTH_DMARC_H
#define AUTH_DMARC_H

#include <stdbool.h>
#include <stddef.h>

#include "auth_dkim.h"
#include "auth_spf.h"
#include "auth_zone.h"

#define AUTH_DMARC_PSL_DEFAULT "/usr/share/publicsuffix/effective_tld_names.dat"

/** A DMARC policy (p= / sp=). */
enum auth_dmarc_policy {
	AUTH_DMARC_P_ABSENT = 0,	/* no usable record */
	AUTH_DMARC_P_NONE,
	AUTH_DMARC_P_QUARANTINE,
	AUTH_DMARC_P_REJECT,
};

/** The DMARC result (RFC 8601 dmarc= values). */
enum auth_dmarc_result {
	AUTH_DMARC_NONE = 0,		/* no record, or no From domain */
	AUTH_DMARC_PASS,
	AUTH_DMARC_FAIL,
	AUTH_DMARC_PERMERROR,		/* the record does not parse */
};

/** What the receiver knows about one message. */
struct auth_dmarc_in {
	const char			*client_ip;	/* may be NULL */
	const char			*from_domain;	/* header From */
	enum auth_spf_result		 spf;
	const char			*spf_domain;	/* MAIL FROM domain,
							   or HELO when
							   spf_helo */
	bool				 spf_helo;
	const struct auth_dkim_sig	*dkim;		/* may be NULL */
	size_t				 ndkim;
};

/** The verdict. */
struct auth_dmarc_res {
	enum auth_dmarc_result	 result;
	enum auth_dmarc_policy	 policy;	/* p=, or sp= for a subdomain */
	enum auth_dmarc_policy	 disposition;	/* NONE on pass, else policy */
	bool			 spf_aligned;	/* SPF passed and aligned */
	bool			 dkim_aligned;	/* a DKIM pass aligned */
	bool			 org_record;	/* found at the org domain */
	bool			 sp_used;	/* policy came from sp= */
	char			 adkim, aspf;	/* 'r' or 's' */
	unsigned		 pct;		/* 0..100 */
};

struct auth_dmarc;

/**
 * Create the DMARC checker.
 * @param z    the records; must outlive the checker (not copied).
 * @param psl  a Public Suffix List file (Mozilla format), or NULL.
 * @return the checker, or NULL when libopendmarc failed (unreadable
 *	@p psl) or out of memory.
 */
struct auth_dmarc *auth_dmarc_create(const struct auth_zone *z,
    const char *psl);

/** Free @p dm and libopendmarc's state; NULL is a no-op. */
void auth_dmarc_free(struct auth_dmarc *dm);

/**
 * Evaluate DMARC for one message.
 * @return 0 (@p res filled, also for NONE and PERMERROR); -EINVAL for a
 *	NULL argument; -ENOMEM.
 */
int auth_dmarc_check(struct auth_dmarc *dm, const struct auth_dmarc_in *in,
    struct auth_dmarc_res *res);

/** @return "none", "pass", "fail" or "permerror". */
const char *auth_dmarc_result_str(enum auth_dmarc_result r);

/** @return "absent", "none", "quarantine" or "reject". */
const char *auth_dmarc_policy_str(enum auth_dmarc_policy p);

#endif /* AUTH_DMARC_H */
