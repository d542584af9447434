/*
 * DESCRIPTION
 *	SPF checks with libspf2 over a private SPF_dns_zone loaded from an
 *	auth_zone.  auth_spf_check() does what SPF_request_query_mailfrom()
 *	does (choose the current domain, fetch and compile the record,
 *	interpret it) minus its unconditional pass for loopback clients.
 *
 * DIAGNOSTICS
 *	None of its own; libspf2 reports internal errors through its error
 *	handler (stderr).
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <spf2/spf.h>
#include <spf2/spf_dns_zone.h>

#include "auth_spf.h"

struct auth_spf {
	SPF_dns_server_t	*dns;		/* zone layer, nothing below */
	SPF_server_t		*server;
};

static int	load_rr(void *, const char *, const struct auth_rr *);
static enum auth_spf_result map_result(SPF_result_t);

/* load_rr - copy one record into the libspf2 zone */
static int
load_rr(void *ctx, const char *name, const struct auth_rr *rr)
{
	SPF_dns_server_t *dns = ctx;
	ns_type t;

	switch (rr->type) {
	case AUTH_RR_A:
		t = ns_t_a;
		break;
	case AUTH_RR_MX:
		t = ns_t_mx;
		break;
	case AUTH_RR_TXT:
		t = ns_t_txt;
		break;
	default:
		return 0;
	}
	return SPF_dns_zone_add_str(dns, name, t, NETDB_SUCCESS, rr->data) ==
	    SPF_E_SUCCESS ? 0 : -EINVAL;
}

/* auth_spf_create - zone layer and server */
struct auth_spf *
auth_spf_create(const struct auth_zone *z)
{
	struct auth_spf *sp;

	sp = calloc(1, sizeof(*sp));
	if (sp == NULL)
		return NULL;
	sp->dns = SPF_dns_zone_new(NULL, "mxsim", 0);
	if (sp->dns == NULL)
		goto fail;
	if (auth_zone_foreach(z, load_rr, sp->dns) != 0)
		goto fail;
	sp->server = SPF_server_new_dns(sp->dns, 0);
	if (sp->server == NULL)
		goto fail;
	return sp;
fail:
	auth_spf_free(sp);
	return NULL;
}

/* auth_spf_free - server, then the zone it does not own */
void
auth_spf_free(struct auth_spf *sp)
{
	if (sp == NULL)
		return;
	if (sp->server != NULL)
		SPF_server_free(sp->server);
	if (sp->dns != NULL)
		SPF_dns_free(sp->dns);
	free(sp);
}

/* map_result - libspf2 result to ours */
static enum auth_spf_result
map_result(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS:
		return AUTH_SPF_PASS;
	case SPF_RESULT_FAIL:
		return AUTH_SPF_FAIL;
	case SPF_RESULT_SOFTFAIL:
		return AUTH_SPF_SOFTFAIL;
	case SPF_RESULT_NEUTRAL:
		return AUTH_SPF_NEUTRAL;
	case SPF_RESULT_NONE:
		return AUTH_SPF_NONE;
	case SPF_RESULT_TEMPERROR:
		return AUTH_SPF_TEMPERROR;
	case SPF_RESULT_PERMERROR:
	case SPF_RESULT_INVALID:
	default:
		return AUTH_SPF_PERMERROR;
	}
}

/* auth_spf_check - evaluate one identity */
int
auth_spf_check(struct auth_spf *sp, const char *ip, const char *helo,
    const char *mail_from, enum auth_spf_result *res)
{
	SPF_request_t *req;
	SPF_response_t *resp;
	SPF_record_t *rec = NULL;
	SPF_errcode_t err;
	int rc = 0;

	if (ip == NULL || helo == NULL || helo[0] == '\0')
		return -EINVAL;
	req = SPF_request_new(sp->server);
	if (req == NULL)
		return -ENOMEM;
	if (strchr(ip, ':') != NULL)
		err = SPF_request_set_ipv6_str(req, ip);
	else
		err = SPF_request_set_ipv4_str(req, ip);
	if (err != SPF_E_SUCCESS) {
		SPF_request_free(req);
		return -EINVAL;
	}
	/* HELO first: an empty MAIL FROM then becomes postmaster@helo. */
	if (SPF_request_set_helo_dom(req, helo) != SPF_E_SUCCESS ||
	    SPF_request_set_env_from(req, mail_from != NULL ? mail_from : "")
	    != SPF_E_SUCCESS) {
		SPF_request_free(req);
		return -ENOMEM;
	}
	resp = SPF_response_new(req);
	if (resp == NULL) {
		SPF_request_free(req);
		return -ENOMEM;
	}
	req->cur_dom = req->env_from_dp;
	err = SPF_server_get_record(sp->server, req, resp, &rec);
	if (err == SPF_E_SUCCESS) {
		resp->spf_record_exp = rec;
		(void)SPF_record_interpret(rec, req, resp, 0);
		resp->spf_record_exp = NULL;
		SPF_record_free(rec);
	} else if (rec != NULL)
		SPF_record_free(rec);
	*res = map_result(SPF_response_result(resp));
	if (err == SPF_E_NO_MEMORY)
		rc = -ENOMEM;
	SPF_response_free(resp);
	SPF_request_free(req);
	return rc;
}

/* auth_spf_result_str - result name as in Received-SPF */
const char *
auth_spf_result_str(enum auth_spf_result r)
{
	switch (r) {
	case AUTH_SPF_NONE:
		return "none";
	case AUTH_SPF_NEUTRAL:
		return "neutral";
	case AUTH_SPF_PASS:
		return "pass";
	case AUTH_SPF_FAIL:
		return "fail";
	case AUTH_SPF_SOFTFAIL:
		return "softfail";
	case AUTH_SPF_TEMPERROR:
		return "temperror";
	case AUTH_SPF_PERMERROR:
		return "permerror";
	default:
		return "permerror";
	}
}
