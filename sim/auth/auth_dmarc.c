/*
 * DESCRIPTION
 *	DMARC with libopendmarc.  We find the record in the auth_zone (the
 *	From domain, then its organizational domain) and hand it to
 *	libopendmarc with the From domain, the SPF result and every DKIM
 *	result, in the order the library needs (From and record first: its
 *	DKIM bookkeeping compares with the From domain).  The library parses
 *	the record, picks the best DKIM signature and decides relaxed
 *	alignment; we then apply the strict rule and derive the disposition
 *	from p= / sp=.
 *
 * DIAGNOSTICS
 *	None.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <opendmarc/dmarc.h>

#include "auth_dmarc.h"
#include "msg_scan.h"

struct auth_dmarc {
	OPENDMARC_LIB_T		 lib;	/* libopendmarc keeps a pointer */
	const struct auth_zone	*zone;
};

static enum auth_dmarc_policy map_policy(int);
static int	spf_outcome(enum auth_spf_result);
static int	dkim_outcome(enum auth_dkim_result);

/* auth_dmarc_create - initialise libopendmarc */
struct auth_dmarc *
auth_dmarc_create(const struct auth_zone *z, const char *psl)
{
	struct auth_dmarc *dm;

	dm = calloc(1, sizeof(*dm));
	if (dm == NULL)
		return NULL;
	dm->zone = z;
	dm->lib.tld_type = OPENDMARC_TLD_TYPE_NONE;
	if (psl != NULL) {
		if (strlen(psl) >= sizeof(dm->lib.tld_source_file)) {
			free(dm);
			return NULL;
		}
		dm->lib.tld_type = OPENDMARC_TLD_TYPE_MOZILLA;
		memcpy(dm->lib.tld_source_file, psl, strlen(psl) + 1);
	}
	if (opendmarc_policy_library_init(&dm->lib) != DMARC_PARSE_OKAY) {
		free(dm);
		return NULL;
	}
	return dm;
}

/* auth_dmarc_free - shut libopendmarc down */
void
auth_dmarc_free(struct auth_dmarc *dm)
{
	if (dm == NULL)
		return;
	(void)opendmarc_policy_library_shutdown(&dm->lib);
	free(dm);
}

/* map_policy - libopendmarc p=/sp= letter to ours */
static enum auth_dmarc_policy
map_policy(int p)
{
	switch (p) {
	case DMARC_RECORD_P_NONE:
		return AUTH_DMARC_P_NONE;
	case DMARC_RECORD_P_QUARANTINE:
		return AUTH_DMARC_P_QUARANTINE;
	case DMARC_RECORD_P_REJECT:
		return AUTH_DMARC_P_REJECT;
	default:
		return AUTH_DMARC_P_ABSENT;
	}
}

/* spf_outcome - only pass counts for DMARC */
static int
spf_outcome(enum auth_spf_result r)
{
	switch (r) {
	case AUTH_SPF_PASS:
		return DMARC_POLICY_SPF_OUTCOME_PASS;
	case AUTH_SPF_NONE:
		return DMARC_POLICY_SPF_OUTCOME_NONE;
	case AUTH_SPF_TEMPERROR:
		return DMARC_POLICY_SPF_OUTCOME_TMPFAIL;
	default:
		return DMARC_POLICY_SPF_OUTCOME_FAIL;
	}
}

/* dkim_outcome - DKIM result for libopendmarc */
static int
dkim_outcome(enum auth_dkim_result r)
{
	switch (r) {
	case AUTH_DKIM_PASS:
		return DMARC_POLICY_DKIM_OUTCOME_PASS;
	case AUTH_DKIM_NONE:
		return DMARC_POLICY_DKIM_OUTCOME_NONE;
	case AUTH_DKIM_TEMPERROR:
		return DMARC_POLICY_DKIM_OUTCOME_TMPFAIL;
	default:
		return DMARC_POLICY_DKIM_OUTCOME_FAIL;
	}
}

/* auth_dmarc_check - discovery, alignment, disposition */
int
auth_dmarc_check(struct auth_dmarc *dm, const struct auth_dmarc_in *in,
    struct auth_dmarc_res *res)
{
	char name[AUTH_NAME_MAX], from[AUTH_NAME_MAX];
	const char *rec, *org;
	DMARC_POLICY_T *pc;
	int st, da = 0, sa = 0, p = 0, sp = 0, adkim = 0, aspf = 0, pct = 100;
	size_t i, n;
	bool exact;

	if (dm == NULL || in == NULL || res == NULL)
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	res->adkim = res->aspf = 'r';
	if (in->from_domain == NULL || in->from_domain[0] == '\0')
		return 0;
	n = strlen(in->from_domain);
	if (n >= sizeof(from) - 8)
		return 0;
	for (i = 0; i <= n; i++)
		from[i] = (char)(in->from_domain[i] >= 'A' &&
		    in->from_domain[i] <= 'Z' ? in->from_domain[i] + 32 :
		    in->from_domain[i]);
	if (n > 0 && from[n - 1] == '.')
		from[--n] = '\0';

	/* Discovery: _dmarc.<from>, then _dmarc.<organizational domain>. */
	org = msg_org_domain(from);
	memcpy(name, "_dmarc.", 7);
	memcpy(name + 7, from, n + 1);
	rec = auth_zone_txt(dm->zone, name, "v=DMARC1");
	if (rec == NULL && org != from) {
		memcpy(name + 7, org, strlen(org) + 1);
		rec = auth_zone_txt(dm->zone, name, "v=DMARC1");
		res->org_record = rec != NULL;
	}
	if (rec == NULL)
		return 0;

	pc = opendmarc_policy_connect_init((u_char *)(uintptr_t)
	    (in->client_ip != NULL ? in->client_ip : "0.0.0.0"),
	    in->client_ip != NULL && strchr(in->client_ip, ':') != NULL);
	if (pc == NULL)
		return -ENOMEM;
	if (opendmarc_policy_store_from_domain(pc, (u_char *)from) !=
	    DMARC_PARSE_OKAY ||
	    opendmarc_policy_store_dmarc(pc, (u_char *)(uintptr_t)rec,
	    (u_char *)from, res->org_record ? (u_char *)(uintptr_t)org : NULL)
	    != DMARC_PARSE_OKAY) {
		opendmarc_policy_connect_shutdown(pc);
		res->result = AUTH_DMARC_PERMERROR;
		return 0;
	}
	if (in->spf_domain != NULL && in->spf_domain[0] != '\0')
		(void)opendmarc_policy_store_spf(pc,
		    (u_char *)(uintptr_t)in->spf_domain, spf_outcome(in->spf),
		    in->spf_helo ? DMARC_POLICY_SPF_ORIGIN_HELO :
		    DMARC_POLICY_SPF_ORIGIN_MAILFROM, NULL);
	for (i = 0; in->dkim != NULL && i < in->ndkim; i++)
		if (in->dkim[i].domain[0] != '\0')
			(void)opendmarc_policy_store_dkim(pc,
			    (u_char *)(uintptr_t)in->dkim[i].domain,
			    (u_char *)(uintptr_t)in->dkim[i].selector,
			    dkim_outcome(in->dkim[i].result), NULL);
	st = opendmarc_get_policy_to_enforce(pc);
	(void)opendmarc_policy_fetch_alignment(pc, &da, &sa);
	(void)opendmarc_policy_fetch_p(pc, &p);
	(void)opendmarc_policy_fetch_sp(pc, &sp);
	(void)opendmarc_policy_fetch_adkim(pc, &adkim);
	(void)opendmarc_policy_fetch_aspf(pc, &aspf);
	(void)opendmarc_policy_fetch_pct(pc, &pct);
	res->sp_used = opendmarc_get_policy_token_used(pc) ==
	    DMARC_USED_POLICY_IS_SP;
	opendmarc_policy_connect_shutdown(pc);
	if (st == DMARC_POLICY_ABSENT || st == DMARC_FROM_DOMAIN_ABSENT) {
		res->result = AUTH_DMARC_PERMERROR;
		return 0;
	}

	res->adkim = adkim == DMARC_RECORD_A_STRICT ? 's' : 'r';
	res->aspf = aspf == DMARC_RECORD_A_STRICT ? 's' : 'r';
	res->pct = pct < 0 ? 100 : (unsigned)pct;
	res->spf_aligned = sa == DMARC_POLICY_SPF_ALIGNMENT_PASS;
	res->dkim_aligned = da == DMARC_POLICY_DKIM_ALIGNMENT_PASS;
	/* RFC 7489 3.1: strict means the very same name. */
	if (res->aspf == 's' && res->spf_aligned)
		res->spf_aligned = strcasecmp(in->spf_domain, from) == 0;
	if (res->adkim == 's' && res->dkim_aligned) {
		for (exact = false, i = 0; i < in->ndkim; i++)
			if (in->dkim[i].result == AUTH_DKIM_PASS &&
			    strcasecmp(in->dkim[i].domain, from) == 0)
				exact = true;
		res->dkim_aligned = exact;
	}
	res->policy = map_policy(res->sp_used ? sp : p);
	if (res->spf_aligned || res->dkim_aligned) {
		res->result = AUTH_DMARC_PASS;
		res->disposition = AUTH_DMARC_P_NONE;
	} else {
		res->result = AUTH_DMARC_FAIL;
		res->disposition = res->policy;
	}
	return 0;
}

/* auth_dmarc_result_str - RFC 8601 name */
const char *
auth_dmarc_result_str(enum auth_dmarc_result r)
{
	switch (r) {
	case AUTH_DMARC_NONE:
		return "none";
	case AUTH_DMARC_PASS:
		return "pass";
	case AUTH_DMARC_FAIL:
		return "fail";
	case AUTH_DMARC_PERMERROR:
		return "permerror";
	default:
		return "permerror";
	}
}

/* auth_dmarc_policy_str - policy name */
const char *
auth_dmarc_policy_str(enum auth_dmarc_policy p)
{
	switch (p) {
	case AUTH_DMARC_P_NONE:
		return "none";
	case AUTH_DMARC_P_QUARANTINE:
		return "quarantine";
	case AUTH_DMARC_P_REJECT:
		return "reject";
	case AUTH_DMARC_P_ABSENT:
	default:
		return "absent";
	}
}
