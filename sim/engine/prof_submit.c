/*
 * DESCRIPTION
 *	The loader's part for submission services: a profile's
 *	`submission` section (SASL mechanisms offered after STARTTLS, the
 *	lockout after failed logins) and a scenario server entry's
 *	`accounts` (user name and password of each account of that
 *	profile).  Called from the key tables of prof_load.c and
 *	prof_scenario.c; the per-account counters live in sim_acct.c.
 *
 * DIAGNOSTICS
 *	Errors name the file, line and column (struct prof_error): an
 *	unknown mechanism (at the list), a mechanism listed twice, an empty
 *	mechanism list, accounts on a profile without a submission section, an
 *	account listed twice, a user name or password that is empty or
 *	longer than PROF_ACCOUNT_MAX bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "prof_load_priv.h"
#include "prof_world.h"

/* Value nodes of one accounts entry. */
struct ld_account {
	yaml_node_t	*user;
	yaml_node_t	*password;
};

static int	set_mechanisms(struct ld *, yaml_node_t *, void *,
		    const struct ld_key *, const char *);
static int	ld_account_str(struct ld *, yaml_node_t *, const char *,
		    const char **);

static const struct ld_key lockout_keys[] = {
	{ "after", ld_set_u32, offsetof(struct prof_submit, lockout_after) },
	{ "minutes", ld_set_u32,
	    offsetof(struct prof_submit, lockout_minutes) },
	{ NULL }
};

static const struct ld_key submission_keys[] = {
	{ "mechanisms", set_mechanisms, offsetof(struct prof_submit, mechs),
	    NULL, LD_REQUIRED },
	{ "lockout", ld_set_map, 0, lockout_keys },
	{ NULL }
};

static const struct ld_key account_keys[] = {
	{ "user", ld_set_node, offsetof(struct ld_account, user), NULL,
	    LD_REQUIRED },
	{ "password", ld_set_node, offsetof(struct ld_account, password),
	    NULL, LD_REQUIRED },
	{ NULL }
};

/* Mechanism names and bits, in the order EHLO lists them. */
static const struct {
	const char	*name;
	unsigned	 bit;
} mechs[] = {
	{ "PLAIN", PROF_MECH_PLAIN },
	{ "LOGIN", PROF_MECH_LOGIN },
};

/* Mechanism names as read (ld_set_strlist), before they become bits. */
struct ld_mechs {
	char		**names;
	size_t		 n;
};

/* set_mechanisms - list of PLAIN and LOGIN, at least one, each once */
static int
set_mechanisms(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	static const struct ld_key names_key = LD_STRLIST("mechanisms",
	    struct ld_mechs, names, n, LD_NONZERO);
	struct ld_mechs m = { NULL, 0 };
	unsigned *out = field;
	size_t i, j;
	int rc;

	(void)k;
	rc = ld_set_strlist(ld, n, &m.names, &names_key, path);
	for (i = 0; rc == 0 && i < m.n; i++) {
		for (j = 0; j < sizeof(mechs) / sizeof(mechs[0]); j++)
			if (strcasecmp(m.names[i], mechs[j].name) == 0)
				break;
		if (j == sizeof(mechs) / sizeof(mechs[0]))
			rc = ld_err(ld, n, "mechanism %.60s is not implemented "
			    "by mxsim (expected PLAIN or LOGIN)", m.names[i]);
		else
			*out |= mechs[j].bit;
	}
	for (i = 0; i < m.n; i++)
		free(m.names[i]);
	free(m.names);
	return rc;
}

/* prof_ld_set_submission - a profile's submission section */
int
prof_ld_set_submission(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	(void)k;
	return ld_map(ld, n, path, submission_keys, field);
}

/* ld_account_str - a user name or password: 1..PROF_ACCOUNT_MAX bytes */
static int
ld_account_str(struct ld *ld, yaml_node_t *n, const char *what,
    const char **out)
{
	int rc;

	if ((rc = ld_string(ld, n, out)) != 0)
		return rc;
	if (**out == '\0' || strlen(*out) > PROF_ACCOUNT_MAX)
		return ld_err(ld, n, "%s must be 1..%d bytes", what,
		    PROF_ACCOUNT_MAX);
	return 0;
}

/* prof_ld_accounts - the accounts of one server entry's profile */
int
prof_ld_accounts(struct ld *ld, yaml_node_t *n, const char *path,
    uint32_t prof)
{
	struct prof_world *w = ld->w;
	struct ld_account a;
	struct prof_account *na;
	yaml_node_item_t *it;
	const char *user, *pass;
	char sub[64];
	size_t i;
	int rc;

	if (w->profiles[prof]->submit.mechs == 0)
		return ld_err(ld, n, "accounts need a submission profile "
		    "(profile %s has no submission section)",
		    w->profiles[prof]->name);
	if ((rc = ld_seq(ld, n, path, 1)) != 0)
		return rc;
	for (i = 0, it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top; it++, i++) {
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		memset(&a, 0, sizeof(a));
		if ((rc = ld_map(ld, ld_node(ld, *it), sub, account_keys,
		    &a)) != 0 ||
		    (rc = ld_account_str(ld, a.user, "user", &user)) != 0 ||
		    (rc = ld_account_str(ld, a.password, "password",
		    &pass)) != 0)
			return rc;
		if (prof_world_account(w, prof, user, strlen(user)) >= 0)
			return ld_err(ld, a.user, "account %.60s is listed "
			    "twice", user);
		w->accounts = ld_xrealloc(w->accounts, (w->naccounts + 1) *
		    sizeof(*w->accounts));
		na = &w->accounts[w->naccounts++];
		na->user = ld_xstrdup(user);
		na->password = ld_xstrdup(pass);
		na->profile = prof;
	}
	return 0;
}
