/*
 * DESCRIPTION
 *	Tests of sim_place: the placement decision over the shipped
 *	profiles' tables (gmail, microsoft, yahoo, icloud), table-driven
 *	for the rules that always apply, and by counting over many
 *	messages for the rules that apply with a chance; then the
 *	mechanism itself over hand-made tables (first folder wins,
 *	categories apart, spam clears the category, defaults, every
 *	condition), and that a decision replays for the same seed and key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "prof_load.h"
#include "sim_place.h"
#include "test_suites.h"

#define PDIR	MXSIM_PROFILES_DIR

/* Changes to a clean message, as flags of a case. */
#define F_SPF_FAIL	0x001u
#define F_DKIM_FAIL	0x002u
#define F_DMARC_FAIL	0x004u	/* DMARC not pass and not aligned */
#define F_BULK		0x008u
#define F_LISTUNSUB	0x010u	/* List-Unsubscribe, no one-click */
#define F_ONECLICK	0x020u	/* List-Unsubscribe with one-click */
#define F_NO_TLS	0x040u

/* One message and where a profile must file it. */
struct place_case {
	const char	*profile;
	const char	*what;
	unsigned	 flags;		/* F_* */
	uint8_t		 comp;		/* enum sim_place_comp */
	double		 ip_rep;
	const char	*want;		/* folder; NULL = drawn, any */
	const char	*cat;		/* category, NULL = none */
	const char	*rules;		/* rules that must apply, "a,b" */
	const char	*may;		/* rules that may also apply */
};

static const struct place_case cases[] = {
	{ "gmail", "clean", 0, 0, 100, "inbox", "primary", "", "" },
	{ "gmail", "no TLS is no reason", F_NO_TLS, 0, 100, "inbox",
	    "primary", "", "" },
	{ "gmail", "newsletter", F_LISTUNSUB | F_ONECLICK, 0, 100,
	    "promotions", "promotions", "tab.promotions", "" },
	{ "gmail", "blocked", 0, SIM_PLACE_COMP_BLOCK, 100, "spam", NULL,
	    "complaints.blocked", "" },
	{ "gmail", "holding, newsletter", F_LISTUNSUB | F_ONECLICK,
	    SIM_PLACE_COMP_HOLDING, 100, "spam", NULL,
	    "complaints.blocked,tab.promotions", "" },
	{ "gmail", "bulk without one-click", F_BULK | F_LISTUNSUB, 0, 100,
	    NULL, NULL, "tab.promotions", "bulk.no_one_click" },
	{ "microsoft", "clean", 0, 0, 100, "inbox", "focused", "", "" },
	{ "microsoft", "bulk newsletter", F_BULK | F_LISTUNSUB | F_ONECLICK,
	    0, 100, "inbox", "other", "other.bulk,other.list", "" },
	{ "microsoft", "list mail", F_LISTUNSUB, 0, 100, "inbox", "other",
	    "other.list", "" },
	{ "microsoft", "holding", 0, SIM_PLACE_COMP_HOLDING, 100, "spam",
	    NULL, "complaints.blocked", "" },
	{ "microsoft", "warned is not blocked", 0, SIM_PLACE_COMP_WARN, 100,
	    "inbox", "focused", "", "" },
	{ "yahoo", "clean", 0, 0, 100, "inbox", NULL, "", "" },
	{ "yahoo", "bulk with one-click", F_BULK | F_LISTUNSUB | F_ONECLICK,
	    0, 100, "inbox", NULL, "", "" },
	{ "yahoo", "blocked", 0, SIM_PLACE_COMP_BLOCK, 100, "spam", NULL,
	    "complaints.blocked", "" },
	{ "yahoo", "reputation at the line", 0, 0, 50, "inbox", NULL, "",
	    "" },
	{ "icloud", "clean", 0, 0, 100, "inbox", NULL, "", "" },
	{ "icloud", "unauthenticated", F_SPF_FAIL | F_DKIM_FAIL |
	    F_DMARC_FAIL, 0, 100, "spam", NULL, "auth.none",
	    "auth.dmarc_fail" },
	{ "icloud", "SPF alone failing", F_SPF_FAIL, 0, 100, "inbox", NULL,
	    "", "" },
	{ "icloud", "holding", 0, SIM_PLACE_COMP_HOLDING, 100, "spam", NULL,
	    "complaints.blocked", "" },
};

/* One chance: the share of messages a profile files as spam. */
struct chance_case {
	const char	*profile;
	const char	*what;
	double		 comp_rate;
	double		 ip_rep;
	uint32_t	 spam_score;
	double		 want;		/* expected share of spam */
};

/* Shares follow from the profiles' chances: rules whose conditions hold
 * together draw independently, e.g. gmail at 0.4 % complaints applies
 * over_0.3 (0.6) and over_0.1 (0.2): 1 - 0.4 x 0.8 = 0.68. */
static const struct chance_case chances[] = {
	{ "gmail", "complaints 0.4 %", 0.004, 100, 0, 0.68 },
	{ "gmail", "complaints 0.2 %", 0.002, 100, 0, 0.20 },
	{ "gmail", "complaints 0.05 %", 0.0005, 100, 0, 0.0 },
	{ "gmail", "IP reputation 30", 0, 30, 0, 0.50 },
	{ "gmail", "spam score 4", 0, 100, 4, 0.50 },
	{ "gmail", "spam score 3", 0, 100, 3, 0.0 },
	{ "microsoft", "complaints 0.4 %", 0.004, 100, 0, 0.575 },
	{ "microsoft", "IP reputation 39", 0, 39, 0, 0.60 },
	{ "yahoo", "complaints 0.4 %", 0.004, 100, 0, 0.575 },
	{ "icloud", "complaints 0.4 %", 0.004, 100, 0, 0.50 },
	{ "icloud", "spam score 3", 0, 100, 3, 0.60 },
};

#define NMSG	4000	/* messages per chance case */

static uint32_t	rules_of(const struct sim_place_table *, const char *);
static void	clean_in(struct sim_place_in *);
static void	test_bundled(void);
static void	test_chances(void);
static void	test_mechanism(void);
static void	test_conditions(void);
static void	test_replay(void);

/* rules_of - bit set of comma-separated rule names; a name the table
 * lacks sets bit 31 past its rules, so the comparison fails */
static uint32_t
rules_of(const struct sim_place_table *t, const char *names)
{
	const char *p = names, *e;
	uint32_t bits = 0;
	size_t i, len;

	while (*p != '\0') {
		e = strchr(p, ',');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		for (i = 0; i < t->nrules; i++)
			if (strlen(t->rules[i].name) == len &&
			    strncmp(t->rules[i].name, p, len) == 0)
				break;
		bits |= i < t->nrules ? 1u << i : 1u << 31;
		p += len + (e != NULL);
	}
	return bits;
}

/* clean_in - an authenticated message from a good sender */
static void
clean_in(struct sim_place_in *in)
{
	memset(in, 0, sizeof(*in));
	in->ip_rep = 100;
	in->domain_rep = 100;
	in->spf_pass = in->dkim_pass = in->dmarc_pass = in->aligned = true;
	in->tls = true;
	in->good_days = 30;
	in->seed = 42;
	in->key = 0x1234;
}

/* test_bundled - each case filed as the shipped profile says */
static void
test_bundled(void)
{
	const struct place_case *c;
	struct prof_profile *p;
	struct sim_place_in in;
	struct sim_place_out out;
	const char *cat;
	uint32_t must, may;
	size_t i;
	bool ok;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = &cases[i];
		p = test_bundled_profile(c->profile);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		clean_in(&in);
		in.spf_pass = (c->flags & F_SPF_FAIL) == 0;
		in.dkim_pass = (c->flags & F_DKIM_FAIL) == 0;
		in.dmarc_pass = in.aligned = (c->flags & F_DMARC_FAIL) == 0;
		in.bulk = (c->flags & F_BULK) != 0;
		in.listunsub = (c->flags & F_LISTUNSUB) != 0;
		in.oneclick = (c->flags & F_ONECLICK) != 0;
		in.tls = (c->flags & F_NO_TLS) == 0;
		in.comp_status = c->comp;
		in.ip_rep = c->ip_rep;
		sim_place_decide(&p->place, &in, &out);
		must = rules_of(&p->place, c->rules);
		may = rules_of(&p->place, c->may);
		cat = out.category == 0 ? NULL :
		    p->place.cats[out.category - 1];
		/* want NULL: the folder (and so the category) is drawn */
		ok = (c->want == NULL ||
		    (strcmp(sim_place_name(out.place), c->want) == 0 &&
		    (cat == NULL ? c->cat == NULL : c->cat != NULL &&
		    strcmp(cat, c->cat) == 0))) &&
		    (out.rules & must) == must && (out.rules & ~(must | may)) == 0;
		if (!ok)
			fprintf(stderr, "\n  %s, %s: got %s/%s rules %#x\n",
			    c->profile, c->what, sim_place_name(out.place),
			    cat != NULL ? cat : "-", out.rules);
		CU_ASSERT(ok);
		prof_profile_free(p);
	}
}

/* test_chances - spam shares over many messages within 4 points of what
 * the profiles' chances give */
static void
test_chances(void)
{
	const struct chance_case *c;
	struct prof_profile *p;
	struct sim_place_in in;
	struct sim_place_out out;
	unsigned spam;
	double share;
	size_t i, k;

	for (i = 0; i < sizeof(chances) / sizeof(chances[0]); i++) {
		c = &chances[i];
		p = test_bundled_profile(c->profile);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		clean_in(&in);
		in.comp_rate = c->comp_rate;
		in.ip_rep = c->ip_rep;
		in.spam_score = c->spam_score;
		for (k = 0, spam = 0; k < NMSG; k++) {
			in.key = 0x9e3779b97f4a7c15ULL * (k + 1);
			sim_place_decide(&p->place, &in, &out);
			spam += out.place == SIM_PLACE_SPAM;
		}
		share = (double)spam / NMSG;
		if (share < c->want - 0.04 || share > c->want + 0.04)
			fprintf(stderr, "\n  %s, %s: spam %.3f, want %.3f\n",
			    c->profile, c->what, share, c->want);
		CU_ASSERT(share >= c->want - 0.04 && share <= c->want + 0.04);
		prof_profile_free(p);
	}
}

/* test_mechanism - first folder wins, categories apart, spam has none,
 * defaults, an empty table */
static void
test_mechanism(void)
{
	struct sim_place_table t;
	struct sim_place_in in;
	struct sim_place_out out;

	memset(&t, 0, sizeof(t));
	clean_in(&in);
	/* empty table: inbox, no category, no rules */
	sim_place_decide(&t, &in, &out);
	CU_ASSERT_EQUAL(out.place, SIM_PLACE_INBOX);
	CU_ASSERT_EQUAL(out.category, 0);
	CU_ASSERT_EQUAL(out.rules, 0);

	t.ncats = 2;
	strcpy(t.cats[0], "a");
	strcpy(t.cats[1], "b");
	t.dflt = SIM_PLACE_PROMOTIONS;
	t.dflt_category = 1;
	t.nrules = 4;
	/* 0: bulk -> category b only */
	strcpy(t.rules[0].name, "cat");
	t.rules[0].when = SIM_PLACE_C_BULK;
	t.rules[0].category = 2;
	t.rules[0].chance = 1;
	/* 1: bulk -> inbox */
	strcpy(t.rules[1].name, "inbox");
	t.rules[1].when = SIM_PLACE_C_BULK;
	t.rules[1].place = SIM_PLACE_INBOX;
	t.rules[1].chance = 1;
	/* 2: bulk -> spam (too late: 1 decided) */
	strcpy(t.rules[2].name, "spam");
	t.rules[2].when = SIM_PLACE_C_BULK;
	t.rules[2].place = SIM_PLACE_SPAM;
	t.rules[2].chance = 1;
	/* 3: no TLS -> spam */
	strcpy(t.rules[3].name, "notls");
	t.rules[3].when = SIM_PLACE_C_NO_TLS;
	t.rules[3].place = SIM_PLACE_SPAM;
	t.rules[3].chance = 1;

	/* nothing holds: the defaults */
	sim_place_decide(&t, &in, &out);
	CU_ASSERT_EQUAL(out.place, SIM_PLACE_PROMOTIONS);
	CU_ASSERT_EQUAL(out.category, 1);
	CU_ASSERT_EQUAL(out.rules, 0);
	/* bulk: category from rule 0, folder from rule 1, all three apply */
	in.bulk = true;
	sim_place_decide(&t, &in, &out);
	CU_ASSERT_EQUAL(out.place, SIM_PLACE_INBOX);
	CU_ASSERT_EQUAL(out.category, 2);
	CU_ASSERT_EQUAL(out.rules, 0x7u);
	/* no TLS alone: spam, and spam has no category */
	in.bulk = false;
	in.tls = false;
	sim_place_decide(&t, &in, &out);
	CU_ASSERT_EQUAL(out.place, SIM_PLACE_SPAM);
	CU_ASSERT_EQUAL(out.category, 0);
	CU_ASSERT_EQUAL(out.rules, 0x8u);
	/* a default of spam files everything else as spam */
	in.tls = true;
	t.dflt = SIM_PLACE_SPAM;
	sim_place_decide(&t, &in, &out);
	CU_ASSERT_EQUAL(out.place, SIM_PLACE_SPAM);
	CU_ASSERT_EQUAL(out.category, 0);

	CU_ASSERT_STRING_EQUAL(sim_place_name(SIM_PLACE_PROMOTIONS),
	    "promotions");
	CU_ASSERT_PTR_NULL(sim_place_name(SIM_PLACE_NONE));
	CU_ASSERT_PTR_NULL(sim_place_name(99));
	CU_ASSERT_EQUAL(sim_place_by_name("spam"), SIM_PLACE_SPAM);
	CU_ASSERT_EQUAL(sim_place_by_name("junk"), -1);
	CU_ASSERT_EQUAL(sim_place_comp_by_name("holding"),
	    SIM_PLACE_COMP_HOLDING);
	CU_ASSERT_EQUAL(sim_place_comp_by_name("blocked"), -1);
}

/* test_conditions - each condition alone, just inside and just outside */
static void
test_conditions(void)
{
	struct sim_place_table t;
	struct sim_place_rule *r = &t.rules[0];
	struct sim_place_in in;
	struct sim_place_out out;

	memset(&t, 0, sizeof(t));
	t.nrules = 1;
	strcpy(r->name, "r");
	r->place = SIM_PLACE_SPAM;
	r->chance = 1;
#define HOLDS(expr, want) do {						\
		clean_in(&in);						\
		expr;							\
		sim_place_decide(&t, &in, &out);			\
		CU_ASSERT_EQUAL(out.place == SIM_PLACE_SPAM, want);	\
	} while (0)

	r->when = SIM_PLACE_C_IP_REP;
	r->ip_rep_below = 50;
	HOLDS(in.ip_rep = 49.9, true);
	HOLDS(in.ip_rep = 50, false);
	r->when = SIM_PLACE_C_DOMAIN_REP;
	r->domain_rep_below = 50;
	HOLDS(in.domain_rep = 10, true);
	HOLDS(in.domain_rep = -1, false);	/* no sender domain */
	HOLDS(in.domain_rep = 50, false);
	r->when = SIM_PLACE_C_SPF | SIM_PLACE_C_DKIM;
	HOLDS((in.spf_pass = false, in.dkim_pass = false), true);
	HOLDS(in.spf_pass = false, false);
	r->when = SIM_PLACE_C_DMARC | SIM_PLACE_C_UNALIGNED;
	HOLDS((in.dmarc_pass = false, in.aligned = false), true);
	HOLDS(in.dmarc_pass = false, false);
	r->when = SIM_PLACE_C_COMP_STATUS;
	r->comp_status = 1u << SIM_PLACE_COMP_WARN;
	HOLDS(in.comp_status = SIM_PLACE_COMP_WARN, true);
	HOLDS(in.comp_status = SIM_PLACE_COMP_BLOCK, false);
	HOLDS(in.comp_status = SIM_PLACE_COMP__COUNT, false);
	r->when = SIM_PLACE_C_COMP_RATE;
	r->comp_rate = 0.003;
	HOLDS(in.comp_rate = 0.003, true);
	HOLDS(in.comp_rate = 0.0029, false);
	r->when = SIM_PLACE_C_BULK | SIM_PLACE_C_NO_ONECLICK;
	HOLDS(in.bulk = true, true);
	HOLDS((in.bulk = true, in.oneclick = true), false);
	r->when = SIM_PLACE_C_NOT_BULK | SIM_PLACE_C_LISTUNSUB;
	HOLDS(in.listunsub = true, true);
	HOLDS((in.listunsub = true, in.bulk = true), false);
	r->when = SIM_PLACE_C_SPAM_SCORE | SIM_PLACE_C_LINKS;
	r->spam_score_min = 4;
	r->links_min = 10;
	HOLDS((in.spam_score = 4, in.links = 10), true);
	HOLDS((in.spam_score = 4, in.links = 9), false);
	r->when = SIM_PLACE_C_NEW;
	r->new_days = 3;
	HOLDS(in.good_days = 2, true);
	HOLDS(in.good_days = 3, false);
	r->when = SIM_PLACE_C_NO_TLS;
	HOLDS(in.tls = false, true);
	HOLDS(in.tls = true, false);
#undef HOLDS
}

/* test_replay - the same seed and key give the same decision; another
 * seed gives other draws */
static void
test_replay(void)
{
	struct prof_profile *p;
	struct sim_place_in in;
	struct sim_place_out a, b;
	unsigned same = 0, differ = 0;
	uint64_t k;

	p = test_bundled_profile("gmail");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	clean_in(&in);
	in.comp_rate = 0.002;		/* one rule at chance 0.2 */
	for (k = 1; k <= 1000; k++) {
		in.key = k;
		in.seed = 42;
		sim_place_decide(&p->place, &in, &a);
		sim_place_decide(&p->place, &in, &b);
		same += a.place == b.place && a.rules == b.rules &&
		    a.category == b.category;
		in.seed = 43;
		sim_place_decide(&p->place, &in, &b);
		differ += a.place != b.place;
	}
	CU_ASSERT_EQUAL(same, 1000);
	/* two independent 0.2 draws differ about 32 % of the time */
	CU_ASSERT(differ > 250 && differ < 400);
	prof_profile_free(p);
}

int
test_sim_place_register(void)
{
	static const struct {
		const char	*name;
		CU_TestFunc	 fn;
	} tests[] = {
		{ "shipped profiles, rules that always apply", test_bundled },
		{ "shipped profiles, spam shares of chance rules",
		    test_chances },
		{ "first folder wins, categories, defaults", test_mechanism },
		{ "every condition at its edge", test_conditions },
		{ "replay", test_replay },
	};
	CU_pSuite s;
	size_t i;

	if ((s = CU_add_suite("sim_place", NULL, NULL)) == NULL)
		return -1;
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL)
			return -1;
	return 0;
}
