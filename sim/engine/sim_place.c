/*
 * DESCRIPTION
 *	Inbox placement: walks a profile's ordered placement rules over the
 *	facts of one accepted message and returns the folder, the category
 *	and the bit set of rules that applied.  Pure: no state, no
 *	allocation; the only randomness is a PRNG stream per rule derived
 *	from the scenario seed and the message key, so a run replays.
 *
 * DIAGNOSTICS
 *	None; out-of-range folders in a table are filed as inbox.
 */
#include <string.h>

#include "sim_place.h"
#include "sim_rng.h"

static bool	rule_holds(const struct sim_place_rule *,
		    const struct sim_place_in *);
static bool	rule_draw(const struct sim_place_rule *, size_t,
		    const struct sim_place_in *);

static const char *const place_names[SIM_PLACE_COUNT] = {
	[SIM_PLACE_INBOX] = "inbox",
	[SIM_PLACE_SPAM] = "spam",
	[SIM_PLACE_PROMOTIONS] = "promotions"
};

static const char *const comp_names[SIM_PLACE_COMP__COUNT] = {
	[SIM_PLACE_COMP_OK] = "ok",
	[SIM_PLACE_COMP_WARN] = "warn",
	[SIM_PLACE_COMP_BLOCK] = "block",
	[SIM_PLACE_COMP_HOLDING] = "holding"
};

/* rule_holds - do all the conditions of a rule hold */
static bool
rule_holds(const struct sim_place_rule *r, const struct sim_place_in *in)
{
	uint32_t c = r->when;

	if ((c & SIM_PLACE_C_IP_REP) && !(in->ip_rep < r->ip_rep_below))
		return false;
	if ((c & SIM_PLACE_C_DOMAIN_REP) && (in->domain_rep < 0 ||
	    !(in->domain_rep < r->domain_rep_below)))
		return false;
	if ((c & SIM_PLACE_C_SPF) && in->spf_pass)
		return false;
	if ((c & SIM_PLACE_C_DKIM) && in->dkim_pass)
		return false;
	if ((c & SIM_PLACE_C_DMARC) && in->dmarc_pass)
		return false;
	if ((c & SIM_PLACE_C_UNALIGNED) && in->aligned)
		return false;
	if ((c & SIM_PLACE_C_COMP_STATUS) && (in->comp_status >=
	    SIM_PLACE_COMP__COUNT ||
	    (r->comp_status & (1u << in->comp_status)) == 0))
		return false;
	if ((c & SIM_PLACE_C_COMP_RATE) && !(in->comp_rate >= r->comp_rate))
		return false;
	if ((c & SIM_PLACE_C_BULK) && !in->bulk)
		return false;
	if ((c & SIM_PLACE_C_NOT_BULK) && in->bulk)
		return false;
	if ((c & SIM_PLACE_C_NO_ONECLICK) && in->oneclick)
		return false;
	if ((c & SIM_PLACE_C_LISTUNSUB) && !in->listunsub)
		return false;
	if ((c & SIM_PLACE_C_SPAM_SCORE) && in->spam_score < r->spam_score_min)
		return false;
	if ((c & SIM_PLACE_C_LINKS) && in->links < r->links_min)
		return false;
	if ((c & SIM_PLACE_C_NEW) && in->good_days >= r->new_days)
		return false;
	if ((c & SIM_PLACE_C_NO_TLS) && in->tls)
		return false;
	return true;
}

/* rule_draw - does a rule whose conditions hold apply to this message:
 * always at chance 1, else one draw from the rule's own stream */
static bool
rule_draw(const struct sim_place_rule *r, size_t i,
    const struct sim_place_in *in)
{
	struct sim_rng rng;

	if (r->chance >= 1.0)
		return true;
	sim_rng_seed(&rng, in->seed, in->key ^ sim_mix64(0x706c616365ULL +
	    i));
	return sim_rng_double(&rng) < r->chance;
}

/* sim_place_decide - file one message */
void
sim_place_decide(const struct sim_place_table *t,
    const struct sim_place_in *in, struct sim_place_out *out)
{
	const struct sim_place_rule *r;
	bool have_place = false, have_cat = false;
	size_t i;

	out->place = SIM_PLACE_NONE;
	out->category = 0;
	out->rules = 0;
	for (i = 0; i < t->nrules && i < SIM_PLACE_MAX_RULES; i++) {
		r = &t->rules[i];
		if (!rule_holds(r, in) || !rule_draw(r, i, in))
			continue;
		out->rules |= 1u << i;
		if (!have_place && r->place != SIM_PLACE_NONE) {
			out->place = r->place;
			have_place = true;
		}
		if (!have_cat && r->category != 0) {
			out->category = r->category;
			have_cat = true;
		}
	}
	if (!have_place)
		out->place = t->dflt;
	if (out->place == SIM_PLACE_NONE || out->place >= SIM_PLACE_COUNT)
		out->place = SIM_PLACE_INBOX;
	if (!have_cat)
		out->category = t->dflt_category;
	if (out->place == SIM_PLACE_SPAM || out->category > t->ncats)
		out->category = 0;
}

/* sim_place_name - folder name for the event log */
const char *
sim_place_name(unsigned place)
{
	return place < SIM_PLACE_COUNT ? place_names[place] : NULL;
}

/* sim_place_by_name - folder by name */
int
sim_place_by_name(const char *s)
{
	int i;

	for (i = SIM_PLACE_INBOX; i < SIM_PLACE_COUNT; i++)
		if (strcmp(place_names[i], s) == 0)
			return i;
	return -1;
}

/* sim_place_comp_by_name - complaint status by name */
int
sim_place_comp_by_name(const char *s)
{
	int i;

	for (i = 0; i < SIM_PLACE_COMP__COUNT; i++)
		if (strcmp(comp_names[i], s) == 0)
			return i;
	return -1;
}
