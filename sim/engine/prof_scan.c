/*
 * DESCRIPTION
 *	What a profile reads of a message, from its settings: the reply
 *	kinds it has enabled that sim_policy.c decides from the scanned
 *	message (msg_kinds[], with what each reads), the organizational
 *	domain's rules and counting (keyed by the header From's
 *	organizational domain), placement rules (their inputs, and the
 *	Message-ID that keys their draws), complaint draws (keyed by the
 *	Message-ID) and reply texts naming {from_domain} or {dkim_domain}.
 *	A kind whose rule in sim_policy.c starts reading the message must be
 *	listed here, or a profile using only it scans nothing.
 *
 * DIAGNOSTICS
 *	None.
 */
#include <string.h>

#include "prof_scan.h"
#include "sim_place.h"

/* Reply kinds decided from message facts (sim_policy.c), and what of
 * the message each reads. */
static const struct {
	enum sim_rk	 rk;
	enum prof_scan	 reads;
} msg_kinds[] = {
	{ SIM_RK_CONTENT_LISTED, PROF_SCAN_ALL },	/* URL domains */
	{ SIM_RK_ATTACHMENTS, PROF_SCAN_ALL },
	{ SIM_RK_CONTENT_MALFORMED, PROF_SCAN_ALL },	/* MIME structure */
	{ SIM_RK_CONTENT_FILETYPE, PROF_SCAN_ALL },	/* file names */
	{ SIM_RK_CONTENT_SPAM, PROF_SCAN_ALL },		/* spam words */
	{ SIM_RK_CONTENT_LINKS, PROF_SCAN_ALL },
	{ SIM_RK_RATE_URL, PROF_SCAN_ALL },
	{ SIM_RK_HOPS, PROF_SCAN_HEADERS },		/* Received */
	{ SIM_RK_MSGID_MISSING, PROF_SCAN_HEADERS },
	{ SIM_RK_FROM_MISSING, PROF_SCAN_HEADERS },
	{ SIM_RK_HEADER_SIZE, PROF_SCAN_HEADERS },
	{ SIM_RK_BULK_UNSUB, PROF_SCAN_HEADERS },	/* List-Unsubscribe */
	{ SIM_RK_RATE_DKIM, PROF_SCAN_HEADERS },	/* DKIM d= */
	{ SIM_RK_MSGID_RATE, PROF_SCAN_HEADERS },
	/* the organizational domain's rules (org_rules()) */
	{ SIM_RK_COMPLAINT_BLOCK, PROF_SCAN_HEADERS },
	{ SIM_RK_COMPLAINT_TEMP, PROF_SCAN_HEADERS },
	{ SIM_RK_AUTH_DMARC_REJECT, PROF_SCAN_HEADERS },
	{ SIM_RK_AUTH_DMARC_TEMP, PROF_SCAN_HEADERS },
	{ SIM_RK_AUTH_SPF_FAIL, PROF_SCAN_HEADERS },
	{ SIM_RK_AUTH_SPF_SUSPICIOUS, PROF_SCAN_HEADERS },
	{ SIM_RK_AUTH_HIGH_VOLUME, PROF_SCAN_HEADERS },
	{ SIM_RK_BULK_SPF, PROF_SCAN_HEADERS },
	{ SIM_RK_BULK_DKIM, PROF_SCAN_HEADERS },
	{ SIM_RK_BULK_DMARC, PROF_SCAN_HEADERS },
	{ SIM_RK_BULK_ALIGN, PROF_SCAN_HEADERS },
	{ SIM_RK_BULK_TLS, PROF_SCAN_HEADERS },
	{ SIM_RK_WARMUP, PROF_SCAN_HEADERS },
};

static bool	names_message(const char *);
static enum prof_scan more(enum prof_scan, enum prof_scan);

/* more - the wider of two needs (ALL < HEADERS < NONE as values) */
static enum prof_scan
more(enum prof_scan a, enum prof_scan b)
{
	return a < b ? a : b;
}

/* names_message - does a reply template name a scanned fact */
static bool
names_message(const char *text)
{
	return text != NULL && (strstr(text, "{from_domain}") != NULL ||
	    strstr(text, "{dkim_domain}") != NULL);
}

/* prof_scan_need - the widest need of the profile's settings */
enum prof_scan
prof_scan_need(const struct prof_world *w, const struct prof_profile *p)
{
	const struct prof_limits *l = &p->limits;
	const struct prof_complaints *c = &p->rep.complaints;
	enum prof_scan need = PROF_SCAN_NONE;
	size_t i;

	for (i = 0; i < sizeof(msg_kinds) / sizeof(msg_kinds[0]); i++)
		if (p->replies[msg_kinds[i].rk].enabled)
			need = more(need, msg_kinds[i].reads);
	for (i = 0; i < p->place.nrules; i++)
		need = more(need, (p->place.rules[i].when &
		    (SIM_PLACE_C_SPAM_SCORE | SIM_PLACE_C_LINKS)) != 0 ?
		    PROF_SCAN_ALL : PROF_SCAN_HEADERS);
	/* the org entry counts accepted mail (bulk, complaints, warm-up,
	 * placement); complaint draws are keyed by the Message-ID */
	if (l->bulk_threshold != 0 || c->block_rate > 0 || c->warn_rate > 0 ||
	    l->warmup_domain.days != 0 || p->place.nrules != 0 ||
	    !w->no_complaints)
		need = more(need, PROF_SCAN_HEADERS);
	for (i = 0; i < SIM_RK__COUNT && need == PROF_SCAN_NONE; i++)
		if (names_message(p->replies[i].text))
			need = PROF_SCAN_HEADERS;
	if (names_message(p->trailer))
		need = more(need, PROF_SCAN_HEADERS);
	return need;
}

/* prof_scan_decide - every profile's need */
void
prof_scan_decide(struct prof_world *w)
{
	size_t i;

	for (i = 0; i < w->nprofiles; i++)
		w->profiles[i]->scan = prof_scan_need(w, w->profiles[i]);
}
