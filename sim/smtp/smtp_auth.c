/*
 * DESCRIPTION
 *	The session's window on SPF, DKIM and DMARC: one process-wide part
 *	(DKIM library handle, the single DMARC checker) and one part per
 *	worker (the SPF checker, not thread-safe), and the translation of
 *	the libraries' results into the policy's struct sim_auth.
 *
 *	SPF FAIL is a hard fail: libspf2 answers "fail" only for a matching
 *	"-" mechanism, "-all" included, so spf_hardfail is set with it.
 *	DMARC alignment without a DMARC record (the policy's bulk rules ask
 *	for it anyway) is the relaxed one: the organizational domain of the
 *	header From equals that of a passing SPF or DKIM identity.
 *
 * DIAGNOSTICS
 *	smtp_auth_world_new() names the library that failed in its error
 *	text.  A library failure on one message leaves that message's result
 *	at "none" (SPF, DKIM) or "permerror" (DKIM input the library
 *	refuses); nothing is printed on the hot path.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msg_scan.h"
#include "smtp_auth.h"

#ifdef MXSIM_HAVE_AUTH

#include "auth_dmarc.h"
#include "auth_spf.h"

struct smtp_auth_world {
	const struct auth_zone	*zone;
	struct auth_dkim	*dkim;
	struct auth_dmarc	*dmarc;
};

struct smtp_auth {
	struct smtp_auth_world	*aw;
	struct auth_spf		*spf;
};

static enum sim_auth_res smtp_auth_spf_res(enum auth_spf_result);
static enum auth_spf_result smtp_auth_spf_back(enum sim_auth_res);
static enum sim_auth_res smtp_auth_dkim_res(enum auth_dkim_result);
static bool	smtp_auth_org_eq(const char *, const char *);

/* smtp_auth_world_new - the process-wide part over @z */
int
smtp_auth_world_new(struct smtp_auth_world **out, const struct auth_zone *z,
    const char *psl, char *err, size_t errlen)
{
	struct smtp_auth_world *aw;

	*out = NULL;
	if ((aw = calloc(1, sizeof(*aw))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	aw->zone = z;
	if ((aw->dkim = auth_dkim_create(z)) == NULL) {
		snprintf(err, errlen, "libopendkim failed to initialise");
		smtp_auth_world_free(aw);
		return -ENOMEM;
	}
	if ((aw->dmarc = auth_dmarc_create(z, psl)) == NULL) {
		snprintf(err, errlen, "libopendmarc failed to initialise%s%s",
		    psl != NULL ? " with " : "", psl != NULL ? psl : "");
		smtp_auth_world_free(aw);
		return -EINVAL;
	}
	*out = aw;
	return 0;
}

/* smtp_auth_world_free - free the process-wide part */
void
smtp_auth_world_free(struct smtp_auth_world *aw)
{
	if (aw == NULL)
		return;
	auth_dmarc_free(aw->dmarc);
	auth_dkim_free(aw->dkim);
	free(aw);
}

/* smtp_auth_new - one worker's SPF checker */
struct smtp_auth *
smtp_auth_new(struct smtp_auth_world *aw)
{
	struct smtp_auth *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->aw = aw;
	if ((a->spf = auth_spf_create(aw->zone)) == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

/* smtp_auth_free - free a worker's context */
void
smtp_auth_free(struct smtp_auth *a)
{
	if (a == NULL)
		return;
	auth_spf_free(a->spf);
	free(a);
}

/* SPF results: libspf2's (auth_spf) and the policy's, pair by pair. */
static const struct {
	enum auth_spf_result	 a;
	enum sim_auth_res	 s;
} smtp_auth_spf_map[] = {
	{ AUTH_SPF_NONE,	SIM_AUTH_NONE },
	{ AUTH_SPF_PASS,	SIM_AUTH_PASS },
	{ AUTH_SPF_FAIL,	SIM_AUTH_FAIL },
	{ AUTH_SPF_SOFTFAIL,	SIM_AUTH_SOFTFAIL },
	{ AUTH_SPF_NEUTRAL,	SIM_AUTH_NEUTRAL },
	{ AUTH_SPF_TEMPERROR,	SIM_AUTH_TEMPERROR },
	{ AUTH_SPF_PERMERROR,	SIM_AUTH_PERMERROR },
};

/* smtp_auth_spf_res - libspf2's result as the policy's */
static enum sim_auth_res
smtp_auth_spf_res(enum auth_spf_result r)
{
	size_t i;

	for (i = 0; i < sizeof(smtp_auth_spf_map) /
	    sizeof(smtp_auth_spf_map[0]); i++)
		if (smtp_auth_spf_map[i].a == r)
			return smtp_auth_spf_map[i].s;
	return SIM_AUTH_NONE;
}

/* smtp_auth_spf_back - the policy's SPF result as auth_spf's (DMARC) */
static enum auth_spf_result
smtp_auth_spf_back(enum sim_auth_res r)
{
	size_t i;

	for (i = 0; i < sizeof(smtp_auth_spf_map) /
	    sizeof(smtp_auth_spf_map[0]); i++)
		if (smtp_auth_spf_map[i].s == r)
			return smtp_auth_spf_map[i].a;
	return AUTH_SPF_NONE;
}

/* smtp_auth_dkim_res - libopendkim's message result as the policy's */
static enum sim_auth_res
smtp_auth_dkim_res(enum auth_dkim_result r)
{
	switch (r) {
	case AUTH_DKIM_PASS:
		return SIM_AUTH_PASS;
	case AUTH_DKIM_FAIL:
		return SIM_AUTH_FAIL;
	case AUTH_DKIM_PERMERROR:
		return SIM_AUTH_PERMERROR;
	case AUTH_DKIM_TEMPERROR:
		return SIM_AUTH_TEMPERROR;
	default:
		return SIM_AUTH_NONE;
	}
}

/* smtp_auth_org_eq - same organizational domain (case-insensitive) */
static bool
smtp_auth_org_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL || a[0] == '\0' || b[0] == '\0')
		return false;
	return strcasecmp(msg_org_domain(a), msg_org_domain(b)) == 0;
}

/* smtp_auth_spf - SPF of MAIL FROM (or HELO for <>) */
void
smtp_auth_spf(struct smtp_auth *a, const char *client_ip, const char *helo,
    const char *mail_from, struct sim_auth *out)
{
	enum auth_spf_result r = AUTH_SPF_NONE;

	if (auth_spf_check(a->spf, client_ip, helo != NULL && helo[0] != '\0' ?
	    helo : "unknown", mail_from != NULL ? mail_from : "", &r) != 0)
		r = AUTH_SPF_NONE;
	out->spf = smtp_auth_spf_res(r);
	out->spf_hardfail = r == AUTH_SPF_FAIL;
}

/* smtp_auth_msg_begin - start DKIM verification of one message */
void
smtp_auth_msg_begin(struct smtp_auth *a, struct smtp_auth_msg *m, uint64_t id)
{
	char ids[24];

	smtp_auth_msg_free(m);
	memset(m, 0, sizeof(*m));
	snprintf(ids, sizeof(ids), "%016llx", (unsigned long long)id);
	m->dv = auth_dkim_verify_begin(a->aw->dkim, ids);
}

/* smtp_auth_msg_feed - message text to the DKIM verifier */
void
smtp_auth_msg_feed(struct smtp_auth_msg *m, const void *p, size_t n)
{
	if (m->dv != NULL)
		(void)auth_dkim_verify_feed(m->dv, p, n);
}

/* smtp_auth_msg_end - finish DKIM, evaluate DMARC, fill @out */
void
smtp_auth_msg_end(struct smtp_auth *a, struct smtp_auth_msg *m,
    const char *client_ip, const char *spf_domain, bool spf_helo,
    const struct msg_info *mi, struct sim_auth *out)
{
	struct auth_dmarc_in in;
	struct auth_dmarc_res res;
	const char *from = mi != NULL ? mi->from_domain : NULL;
	size_t i;

	m->nsigs = 0;
	m->dkim = AUTH_DKIM_NONE;
	if (m->dv != NULL) {
		m->dkim = auth_dkim_verify_end(m->dv, m->sigs,
		    AUTH_DKIM_SIGS_MAX, &m->nsigs);
		auth_dkim_verify_free(m->dv);
		m->dv = NULL;
	}
	out->dkim = smtp_auth_dkim_res(m->dkim);
	out->dkim_domain = NULL;
	for (i = 0; i < m->nsigs; i++)
		if (m->sigs[i].result == AUTH_DKIM_PASS) {
			out->dkim_domain = m->sigs[i].domain;
			break;
		}

	memset(&in, 0, sizeof(in));
	in.client_ip = client_ip;
	in.from_domain = from;
	in.spf = smtp_auth_spf_back(out->spf);
	in.spf_domain = spf_domain;
	in.spf_helo = spf_helo;
	in.dkim = m->sigs;
	in.ndkim = m->nsigs;
	if (from == NULL || from[0] == '\0' ||
	    auth_dmarc_check(a->aw->dmarc, &in, &res) != 0)
		memset(&res, 0, sizeof(res));
	switch (res.result) {
	case AUTH_DMARC_PASS:
		out->dmarc = SIM_AUTH_PASS;
		break;
	case AUTH_DMARC_FAIL:
		out->dmarc = SIM_AUTH_FAIL;
		break;
	case AUTH_DMARC_PERMERROR:
		out->dmarc = SIM_AUTH_PERMERROR;
		break;
	default:
		out->dmarc = SIM_AUTH_NONE;
		break;
	}
	switch (res.policy) {
	case AUTH_DMARC_P_NONE:
		out->dmarc_policy = SIM_DMARC_NONE;
		break;
	case AUTH_DMARC_P_QUARANTINE:
		out->dmarc_policy = SIM_DMARC_QUARANTINE;
		break;
	case AUTH_DMARC_P_REJECT:
		out->dmarc_policy = SIM_DMARC_REJECT;
		break;
	default:
		out->dmarc_policy = SIM_DMARC_ABSENT;
		break;
	}
	if (res.result == AUTH_DMARC_PASS || res.result == AUTH_DMARC_FAIL)
		out->aligned = res.spf_aligned || res.dkim_aligned;
	else
		out->aligned = (out->spf == SIM_AUTH_PASS &&
		    smtp_auth_org_eq(from, spf_domain)) ||
		    (out->dkim_domain != NULL &&
		    smtp_auth_org_eq(from, out->dkim_domain));
}

/* smtp_auth_msg_free - drop a message's DKIM state */
void
smtp_auth_msg_free(struct smtp_auth_msg *m)
{
	if (m->dv != NULL) {
		auth_dkim_verify_free(m->dv);
		m->dv = NULL;
	}
}

#else /* !MXSIM_HAVE_AUTH */

/* smtp_auth_world_new - built without the authentication libraries */
int
smtp_auth_world_new(struct smtp_auth_world **out, const struct auth_zone *z,
    const char *psl, char *err, size_t errlen)
{
	(void)z;
	(void)psl;
	*out = NULL;
	snprintf(err, errlen, "built without libspf2/libopendkim/"
	    "libopendmarc/ldns");
	return -ENOTSUP;
}

/* smtp_auth_world_free - nothing to free */
void
smtp_auth_world_free(struct smtp_auth_world *aw)
{
	(void)aw;
}

/* smtp_auth_new - never called without a world */
struct smtp_auth *
smtp_auth_new(struct smtp_auth_world *aw)
{
	(void)aw;
	return NULL;
}

/* smtp_auth_free - nothing to free */
void
smtp_auth_free(struct smtp_auth *a)
{
	(void)a;
}

/* smtp_auth_spf - no checker: no result */
void
smtp_auth_spf(struct smtp_auth *a, const char *client_ip, const char *helo,
    const char *mail_from, struct sim_auth *out)
{
	(void)a;
	(void)client_ip;
	(void)helo;
	(void)mail_from;
	out->spf = SIM_AUTH_NONE;
	out->spf_hardfail = false;
}

/* smtp_auth_msg_begin - no verifier */
void
smtp_auth_msg_begin(struct smtp_auth *a, struct smtp_auth_msg *m, uint64_t id)
{
	(void)a;
	(void)id;
	memset(m, 0, sizeof(*m));
}

/* smtp_auth_msg_feed - nothing to feed */
void
smtp_auth_msg_feed(struct smtp_auth_msg *m, const void *p, size_t n)
{
	(void)m;
	(void)p;
	(void)n;
}

/* smtp_auth_msg_end - no results */
void
smtp_auth_msg_end(struct smtp_auth *a, struct smtp_auth_msg *m,
    const char *client_ip, const char *spf_domain, bool spf_helo,
    const struct msg_info *mi, struct sim_auth *out)
{
	(void)a;
	(void)m;
	(void)client_ip;
	(void)spf_domain;
	(void)spf_helo;
	(void)mi;
	out->dkim = SIM_AUTH_NONE;
	out->dkim_domain = NULL;
	out->dmarc = SIM_AUTH_NONE;
	out->dmarc_policy = SIM_DMARC_ABSENT;
	out->aligned = false;
}

/* smtp_auth_msg_free - nothing to free */
void
smtp_auth_msg_free(struct smtp_auth_msg *m)
{
	(void)m;
}

#endif /* MXSIM_HAVE_AUTH */
