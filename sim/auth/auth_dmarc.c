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

/* What libopendmarc decided for one message. */
struct dmarc_lib_out {
	int	 st;		/* policy to enforce */
	int	 da, sa;	/* DKIM, SPF alignment */
	int	 p, sp;		/* p=, sp= */
	int	 adkim, aspf;	/* alignment modes */
	int	 pct;
};

static enum auth_dmarc_policy map_policy(int);
static int	spf_outcome(enum auth_spf_result);
static int	dkim_outcome(enum auth_dkim_result);
static size_t	from_lower(const char *, char *);
static const char *discover(const struct auth_dmarc *, const char *, size_t,
		    const char **, struct auth_dmarc_res *);
static void	store_results(DMARC_POLICY_T *, const struct auth_dmarc_in *);
static int	lib_evaluate(const struct auth_dmarc_in *, const char *,
		    const char *, const char *, struct auth_dmarc_res *,
		    struct dmarc_lib_out *);
static void	decide(const struct auth_dmarc_in *, const char *,
		    const struct dmarc_lib_out *, struct auth_dmarc_res *);

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

/* from_lower - the From domain in lower case without a final dot into
 * @from (AUTH_NAME_MAX); returns its length, 0 when absent or too long */
static size_t
from_lower(const char *domain, char *from)
{
	size_t i, n;

	if (domain == NULL || domain[0] == '\0')
		return 0;
	n = strlen(domain);
	if (n >= AUTH_NAME_MAX - 8)
		return 0;
	for (i = 0; i <= n; i++)
		from[i] = (char)(domain[i] >= 'A' && domain[i] <= 'Z' ?
		    domain[i] + 32 : domain[i]);
	if (n > 0 && from[n - 1] == '.')
		from[--n] = '\0';
	return n;
}

/* discover - _dmarc.<from>, then _dmarc.<organizational domain>; the
 * record text or NULL, *org the organizational domain */
static const char *
discover(const struct auth_dmarc *dm, const char *from, size_t n,
    const char **org, struct auth_dmarc_res *res)
{
	char name[AUTH_NAME_MAX];
	const char *rec;

	*org = msg_org_domain(from);
	memcpy(name, "_dmarc.", 7);
	memcpy(name + 7, from, n + 1);
	rec = auth_zone_txt(dm->zone, name, "v=DMARC1");
	if (rec == NULL && *org != from) {
		memcpy(name + 7, *org, strlen(*org) + 1);
		rec = auth_zone_txt(dm->zone, name, "v=DMARC1");
		res->org_record = rec != NULL;
	}
	return rec;
}

/* store_results - the SPF result and every DKIM result, for the library */
static void
store_results(DMARC_POLICY_T *pc, const struct auth_dmarc_in *in)
{
	size_t i;

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
}

/*
 * lib_evaluate - hand record and results to libopendmarc and fetch what
 * it decided; -ENOMEM, 1 when the record or From is unusable (permerror),
 * else 0
 */
static int
lib_evaluate(const struct auth_dmarc_in *in, const char *from,
    const char *rec, const char *org, struct auth_dmarc_res *res,
    struct dmarc_lib_out *o)
{
	DMARC_POLICY_T *pc;

	pc = opendmarc_policy_connect_init((u_char *)(uintptr_t)
	    (in->client_ip != NULL ? in->client_ip : "0.0.0.0"),
	    in->client_ip != NULL && strchr(in->client_ip, ':') != NULL);
	if (pc == NULL)
		return -ENOMEM;
	if (opendmarc_policy_store_from_domain(pc, (u_char *)(uintptr_t)from)
	    != DMARC_PARSE_OKAY ||
	    opendmarc_policy_store_dmarc(pc, (u_char *)(uintptr_t)rec,
	    (u_char *)(uintptr_t)from, res->org_record ?
	    (u_char *)(uintptr_t)org : NULL) != DMARC_PARSE_OKAY) {
		opendmarc_policy_connect_shutdown(pc);
		return 1;
	}
	store_results(pc, in);
	o->st = opendmarc_get_policy_to_enforce(pc);
	(void)opendmarc_policy_fetch_alignment(pc, &o->da, &o->sa);
	(void)opendmarc_policy_fetch_p(pc, &o->p);
	(void)opendmarc_policy_fetch_sp(pc, &o->sp);
	(void)opendmarc_policy_fetch_adkim(pc, &o->adkim);
	(void)opendmarc_policy_fetch_aspf(pc, &o->aspf);
	(void)opendmarc_policy_fetch_pct(pc, &o->pct);
	res->sp_used = opendmarc_get_policy_token_used(pc) ==
	    DMARC_USED_POLICY_IS_SP;
	opendmarc_policy_connect_shutdown(pc);
	return o->st == DMARC_POLICY_ABSENT ||
	    o->st == DMARC_FROM_DOMAIN_ABSENT ? 1 : 0;
}

/* decide - strict alignment (RFC 7489 3.1: the very same name), result
 * and disposition from the library's findings */
static void
decide(const struct auth_dmarc_in *in, const char *from,
    const struct dmarc_lib_out *o, struct auth_dmarc_res *res)
{
	size_t i;
	bool exact;

	res->adkim = o->adkim == DMARC_RECORD_A_STRICT ? 's' : 'r';
	res->aspf = o->aspf == DMARC_RECORD_A_STRICT ? 's' : 'r';
	res->pct = o->pct < 0 ? 100 : (unsigned)o->pct;
	res->spf_aligned = o->sa == DMARC_POLICY_SPF_ALIGNMENT_PASS;
	res->dkim_aligned = o->da == DMARC_POLICY_DKIM_ALIGNMENT_PASS;
	if (res->aspf == 's' && res->spf_aligned)
		res->spf_aligned = strcasecmp(in->spf_domain, from) == 0;
	if (res->adkim == 's' && res->dkim_aligned) {
		for (exact = false, i = 0; i < in->ndkim; i++)
			if (in->dkim[i].result == AUTH_DKIM_PASS &&
			    strcasecmp(in->dkim[i].domain, from) == 0)
				exact = true;
		res->dkim_aligned = exact;
	}
	res->policy = map_policy(res->sp_used ? o->sp : o->p);
	if (res->spf_aligned || res->dkim_aligned) {
		res->result = AUTH_DMARC_PASS;
		res->disposition = AUTH_DMARC_P_NONE;
	} else {
		res->result = AUTH_DMARC_FAIL;
		res->disposition = res->policy;
	}
}

/* auth_dmarc_check - discovery, alignment, disposition */
int
auth_dmarc_check(struct auth_dmarc *dm, const struct auth_dmarc_in *in,
    struct auth_dmarc_res *res)
{
	char from[AUTH_NAME_MAX];
	struct dmarc_lib_out o = { 0, 0, 0, 0, 0, 0, 0, 100 };
	const char *rec, *org;
	size_t n;
	int rc;

	if (dm == NULL || in == NULL || res == NULL)
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	res->adkim = res->aspf = 'r';
	if ((n = from_lower(in->from_domain, from)) == 0)
		return 0;
	if ((rec = discover(dm, from, n, &org, res)) == NULL)
		return 0;
	rc = lib_evaluate(in, from, rec, org, res, &o);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		res->result = AUTH_DMARC_PERMERROR;
		return 0;
	}
	decide(in, from, &o, res);
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
