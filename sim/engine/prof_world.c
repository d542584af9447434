/*
 * DESCRIPTION
 *	Construction, lookup and destruction of the world: profiles, MX
 *	address blocks, sender facts and DNS records, blocklist, client
 *	reverse DNS, unknown recipients and spam traps;
 *	prof_world_build_zone() turns the scenario's DNS world into an
 *	auth_zone.
 *	The loader (prof_load.c) and tests build worlds with these calls.
 *
 * DIAGNOSTICS
 *	Functions return -errno or NULL; nothing panics.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_zone.h"
#include "prof_world.h"

#define KEY_PEM_MAX	8192	/* a 4096-bit RSA private key, PEM */
#define KEY_PUB_MAX	1024	/* its base64 DER public key */

static uint32_t	prefix_mask(unsigned);
static int	dup_str(char **, const char *);
static int	dup_strv(char ***, size_t *, char *const *, size_t);
static void	free_strv(char **, size_t);
static void	*dup_mem(const void *, size_t, size_t);
static void	sender_free(struct prof_sender *);
static int	sender_copy(struct prof_sender *, const struct prof_sender *);
static bool	match_any(char *const *, size_t, const char *);
static int	clone6(struct prof_world *, const struct prof_world *);
static int	zone_provider6(const struct prof_world *, size_t,
		    struct auth_zone *, char *, size_t);
static int	zone_sender(struct prof_sender *, struct auth_zone *,
		    prof_keygen_fn *, prof_pubkey_fn *, char *, size_t);
static int	zone_provider(const struct prof_world *, size_t,
		    struct auth_zone *, char *, size_t);
static int	zone_rdns(const struct prof_rdns *, struct auth_zone *, char *,
		    size_t);

/* prefix_mask - netmask of a prefix length (0..32) */
static uint32_t
prefix_mask(unsigned prefix)
{
	return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

/* dup_str - copy a string that may be NULL; 0 or -ENOMEM */
static int
dup_str(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	return (*dst = strdup(src)) == NULL ? -ENOMEM : 0;
}

/* free_strv - free an array of n strings and the array */
static void
free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* dup_strv - copy an array of n strings; *dstn counts what was copied so
 * that a failure leaves something the owner's free function releases */
static int
dup_strv(char ***dst, size_t *dstn, char *const *src, size_t n)
{
	size_t i;

	*dst = NULL;
	*dstn = 0;
	if (n == 0)
		return 0;
	if ((*dst = calloc(n, sizeof(**dst))) == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (dup_str(&(*dst)[i], src[i]) != 0)
			return -ENOMEM;
		(*dstn)++;
	}
	return 0;
}

/* dup_mem - copy an array of n elements of size sz; NULL when n is 0 */
static void *
dup_mem(const void *src, size_t n, size_t sz)
{
	void *d;

	if (n == 0 || (d = calloc(n, sz)) == NULL)
		return NULL;
	return memcpy(d, src, n * sz);
}

/* sender_free - free what a sender entry owns */
static void
sender_free(struct prof_sender *sd)
{
	size_t i;

	for (i = 0; i < sd->ndkim_keys; i++) {
		free(sd->dkim_keys[i].selector);
		free(sd->dkim_keys[i].key_path);
		free(sd->dkim_keys[i].key_pem);
	}
	for (i = 0; i < sd->nrecords; i++) {
		free(sd->records[i].name);
		free(sd->records[i].data);
	}
	free(sd->dkim_keys);
	free(sd->records);
	free(sd->spf_record);
	free(sd->dmarc_record);
	free(sd->domain);
}

/* sender_copy - deep copy of a sender entry; on failure *dst holds what
 * was copied (counts included) so that sender_free() releases it */
static int
sender_copy(struct prof_sender *dst, const struct prof_sender *src)
{
	const struct prof_dkim_key *k;
	const struct prof_record *r;
	size_t i;

	*dst = *src;
	dst->domain = dst->spf_record = dst->dmarc_record = NULL;
	dst->dkim_keys = NULL;
	dst->records = NULL;
	dst->ndkim_keys = dst->nrecords = 0;
	if (dup_str(&dst->domain, src->domain) != 0 ||
	    dup_str(&dst->spf_record, src->spf_record) != 0 ||
	    dup_str(&dst->dmarc_record, src->dmarc_record) != 0)
		return -ENOMEM;
	if (src->ndkim_keys > 0 && (dst->dkim_keys = calloc(src->ndkim_keys,
	    sizeof(*dst->dkim_keys))) == NULL)
		return -ENOMEM;
	for (i = 0; i < src->ndkim_keys; i++) {
		k = &src->dkim_keys[i];
		dst->ndkim_keys++;
		dst->dkim_keys[i].generate = k->generate;
		if (dup_str(&dst->dkim_keys[i].selector, k->selector) != 0 ||
		    dup_str(&dst->dkim_keys[i].key_path, k->key_path) != 0 ||
		    dup_str(&dst->dkim_keys[i].key_pem, k->key_pem) != 0)
			return -ENOMEM;
	}
	if (src->nrecords > 0 && (dst->records = calloc(src->nrecords,
	    sizeof(*dst->records))) == NULL)
		return -ENOMEM;
	for (i = 0; i < src->nrecords; i++) {
		r = &src->records[i];
		dst->nrecords++;
		dst->records[i].type = r->type;
		dst->records[i].pref = r->pref;
		if (dup_str(&dst->records[i].name, r->name) != 0 ||
		    dup_str(&dst->records[i].data, r->data) != 0)
			return -ENOMEM;
	}
	return 0;
}

/* clone6 - the IPv6 blocks and reverse DNS of w into c */
static int
clone6(struct prof_world *c, const struct prof_world *w)
{
	size_t i;

	if (w->nblocks6 > 0 && (c->blocks6 = dup_mem(w->blocks6, w->nblocks6,
	    sizeof(*w->blocks6))) == NULL)
		return -ENOMEM;
	c->nblocks6 = w->nblocks6;
	if (w->nblocklist6 > 0 && (c->blocklist6 = dup_mem(w->blocklist6,
	    w->nblocklist6, sizeof(*w->blocklist6))) == NULL)
		return -ENOMEM;
	c->nblocklist6 = w->nblocklist6;
	if (w->nrdns6 > 0 &&
	    (c->rdns6 = calloc(w->nrdns6, sizeof(*c->rdns6))) == NULL)
		return -ENOMEM;
	for (i = 0; i < w->nrdns6; i++) {
		c->rdns6[i] = w->rdns6[i];
		c->rdns6[i].ptr = NULL;
		c->nrdns6++;
		if (dup_str(&c->rdns6[i].ptr, w->rdns6[i].ptr) != 0)
			return -ENOMEM;
	}
	return 0;
}

/* prof_world_new - empty world with scenario defaults */
struct prof_world *
prof_world_new(void)
{
	struct prof_world *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->refs = 1;
	w->seed = 1;
	w->time_scale = 1.0;
	w->port = 2525;
	w->submission_port = 587;
	w->idle_timeout_s = 300;
	w->session_timeout_s = 1800;
	w->max_errors = 10;
	w->ipv6_prefix = PROF_IPV6_PREFIX_DEFAULT;
	w->ipv6_netblock = PROF_IPV6_NETBLOCK_DEFAULT;
	w->default_sender.spf = PROF_AUTH_PASS;
	w->default_sender.dkim = PROF_AUTH_PASS;
	w->default_sender.dmarc = PROF_AUTH_NONE;
	return w;
}

/* prof_world_free - free a world and all it owns */
void
prof_world_free(struct prof_world *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->nprofiles; i++)
		prof_profile_free(w->profiles[i]);
	for (i = 0; i < w->nsenders; i++)
		sender_free(&w->senders[i]);
	free_strv(w->unknown_rcpts, w->nunknown_rcpts);
	free_strv(w->spam_traps, w->nspam_traps);
	free_strv(w->inactive_rcpts, w->ninactive_rcpts);
	free_strv(w->full_rcpts, w->nfull_rcpts);
	free_strv(w->tls_rcpts, w->ntls_rcpts);
	free_strv(w->seeds, w->nseeds);
	free_strv(w->ipv4_only, w->nipv4_only);
	for (i = 0; i < w->nrdns6; i++)
		free(w->rdns6[i].ptr);
	free(w->rdns6);
	free(w->blocks6);
	free(w->blocklist6);
	free_strv(w->unresolvable, w->nunresolvable);
	free_strv(w->dbl, w->ndbl);
	free_strv(w->moved_rcpts, w->nmoved_rcpts);
	free(w->dns_listen);
	free(w->senders);
	free(w->blocks);
	free(w->blocklist);
	free(w->clients);
	for (i = 0; i < w->nrdns; i++)
		free(w->rdns[i].ptr);
	free(w->rdns);
	for (i = 0; i < w->naccounts; i++) {
		free(w->accounts[i].user);
		free(w->accounts[i].password);
	}
	free(w->accounts);
	free(w->event_log);
	free(w->file);
	free(w);
}

/* prof_world_clone - deep copy of a world */
struct prof_world *
prof_world_clone(const struct prof_world *w)
{
	struct prof_world *c;
	size_t i;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->refs = 1;
	c->seed = w->seed;
	c->time_scale = w->time_scale;
	c->start_ms = w->start_ms;
	c->port = w->port;
	c->submission_port = w->submission_port;
	c->workers = w->workers;
	c->idle_timeout_s = w->idle_timeout_s;
	c->session_timeout_s = w->session_timeout_s;
	c->max_errors = w->max_errors;
	c->default_sender = w->default_sender;	/* it owns no strings */
	c->dns_addr = w->dns_addr;
	c->dns_port = w->dns_port;
	c->no_complaints = w->no_complaints;
	c->ipv6_prefix = w->ipv6_prefix;
	c->ipv6_netblock = w->ipv6_netblock;
	if (dup_str(&c->file, w->file) != 0 ||
	    dup_str(&c->event_log, w->event_log) != 0 ||
	    dup_str(&c->dns_listen, w->dns_listen) != 0 ||
	    dup_strv(&c->unknown_rcpts, &c->nunknown_rcpts, w->unknown_rcpts,
	    w->nunknown_rcpts) != 0 ||
	    dup_strv(&c->spam_traps, &c->nspam_traps, w->spam_traps,
	    w->nspam_traps) != 0 ||
	    dup_strv(&c->inactive_rcpts, &c->ninactive_rcpts,
	    w->inactive_rcpts, w->ninactive_rcpts) != 0 ||
	    dup_strv(&c->full_rcpts, &c->nfull_rcpts, w->full_rcpts,
	    w->nfull_rcpts) != 0 ||
	    dup_strv(&c->tls_rcpts, &c->ntls_rcpts, w->tls_rcpts,
	    w->ntls_rcpts) != 0 ||
	    dup_strv(&c->seeds, &c->nseeds, w->seeds, w->nseeds) != 0 ||
	    dup_strv(&c->ipv4_only, &c->nipv4_only, w->ipv4_only,
	    w->nipv4_only) != 0 || clone6(c, w) != 0 ||
	    dup_strv(&c->moved_rcpts, &c->nmoved_rcpts, w->moved_rcpts,
	    w->nmoved_rcpts) != 0 ||
	    dup_strv(&c->unresolvable, &c->nunresolvable, w->unresolvable,
	    w->nunresolvable) != 0 ||
	    dup_strv(&c->dbl, &c->ndbl, w->dbl, w->ndbl) != 0)
		goto fail;
	for (i = 0; i < w->nprofiles; i++) {
		if ((c->profiles[i] = prof_profile_clone(w->profiles[i])) ==
		    NULL)
			goto fail;
		c->nprofiles++;
	}
	c->blocks = dup_mem(w->blocks, w->nblocks, sizeof(*w->blocks));
	c->blocklist = dup_mem(w->blocklist, w->nblocklist,
	    sizeof(*w->blocklist));
	c->clients = dup_mem(w->clients, w->nclients, sizeof(*w->clients));
	if ((w->nblocks > 0 && c->blocks == NULL) ||
	    (w->nblocklist > 0 && c->blocklist == NULL) ||
	    (w->nclients > 0 && c->clients == NULL))
		goto fail;
	c->nblocks = w->nblocks;
	c->nblocklist = w->nblocklist;
	c->nclients = w->nclients;
	if (w->nrdns > 0 &&
	    (c->rdns = calloc(w->nrdns, sizeof(*c->rdns))) == NULL)
		goto fail;
	for (i = 0; i < w->nrdns; i++) {
		c->rdns[i] = w->rdns[i];
		c->rdns[i].ptr = NULL;
		c->nrdns++;
		if (dup_str(&c->rdns[i].ptr, w->rdns[i].ptr) != 0)
			goto fail;
	}
	if (w->nsenders > 0 &&
	    (c->senders = calloc(w->nsenders, sizeof(*c->senders))) == NULL)
		goto fail;
	for (i = 0; i < w->nsenders; i++) {
		c->nsenders++;
		if (sender_copy(&c->senders[i], &w->senders[i]) != 0)
			goto fail;
	}
	if (w->naccounts > 0 && (c->accounts = calloc(w->naccounts,
	    sizeof(*c->accounts))) == NULL)
		goto fail;
	for (i = 0; i < w->naccounts; i++) {
		c->naccounts++;
		c->accounts[i].profile = w->accounts[i].profile;
		if (dup_str(&c->accounts[i].user, w->accounts[i].user) != 0 ||
		    dup_str(&c->accounts[i].password,
		    w->accounts[i].password) != 0)
			goto fail;
	}
	return c;
fail:
	prof_world_free(c);
	return NULL;
}

/* prof_profile_clone - deep copy of a profile */
struct prof_profile *
prof_profile_clone(const struct prof_profile *p)
{
	struct prof_profile *c;
	size_t i;

	/* scalars by value; every pointer is filled one at a time, so a
	 * failure leaves a profile prof_profile_free() releases */
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->wrap = p->wrap;
	c->limits = p->limits;
	c->rep = p->rep;
	c->place = p->place;	/* fixed arrays, no pointers */
	c->grey = p->grey;
	c->outage_until_ms = p->outage_until_ms;
	c->submit = p->submit;
	c->scan = p->scan;
	if (dup_str(&c->name, p->name) != 0 ||
	    dup_str(&c->file, p->file) != 0 ||
	    dup_str(&c->trailer, p->trailer) != 0 ||
	    dup_strv(&c->domains, &c->ndomains, p->domains, p->ndomains) != 0 ||
	    dup_strv(&c->mx_hosts, &c->nmx_hosts, p->mx_hosts,
	    p->nmx_hosts) != 0 ||
	    dup_strv(&c->blocked_ext, &c->nblocked_ext, p->blocked_ext,
	    p->nblocked_ext) != 0)
		goto fail;
	for (i = 0; i < p->next; i++) {
		if (dup_str(&c->ext[i], p->ext[i]) != 0)
			goto fail;
		c->next++;
	}
	for (i = 0; i < SIM_RK__COUNT; i++) {
		c->replies[i] = p->replies[i];
		if (dup_str(&c->replies[i].enhanced, p->replies[i].enhanced) ||
		    dup_str(&c->replies[i].text, p->replies[i].text)) {
			c->replies[i].text = NULL;
			goto fail;
		}
	}
	return c;
fail:
	prof_profile_free(c);
	return NULL;
}

/* prof_profile_new - profile with every default filled in */
struct prof_profile *
prof_profile_new(const char *name)
{
	struct prof_profile *p;
	const struct sim_kind_info *ki;
	int i;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((p->name = strdup(name)) == NULL)
		goto fail;
	if ((p->trailer = strdup("")) == NULL)
		goto fail;
	p->rep.initial = 100.0;
	p->rep.max = 100.0;
	for (i = 0; i < SIM_RK__COUNT; i++) {
		ki = sim_kind_info(i);
		p->replies[i].code = ki->code;
		p->replies[i].stage = ki->stage;
		p->replies[i].enabled = i < SIM_RK__POLICY_FIRST ||
		    i == SIM_RK_OUTAGE;
		p->replies[i].close = ki->code == 421;
		p->replies[i].enhanced = strdup(ki->enhanced);
		p->replies[i].text = strdup(ki->text);
		if (p->replies[i].enhanced == NULL || p->replies[i].text == NULL)
			goto fail;
	}
	return p;
fail:
	prof_profile_free(p);
	return NULL;
}

/* prof_profile_free - free a profile */
void
prof_profile_free(struct prof_profile *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < SIM_RK__COUNT; i++) {
		free(p->replies[i].enhanced);
		free(p->replies[i].text);
		free(p->fixed[i]);
	}
	for (i = 0; i < p->ndomains; i++)
		free(p->domains[i]);
	for (i = 0; i < p->nmx_hosts; i++)
		free(p->mx_hosts[i]);
	free_strv(p->blocked_ext, p->nblocked_ext);
	for (i = 0; i < p->next; i++)
		free(p->ext[i]);
	free(p->domains);
	free(p->mx_hosts);
	free(p->trailer);
	free(p->file);
	free(p->name);
	free(p);
}

/* prof_set_reply - set and enable one reply of a profile */
int
prof_set_reply(struct prof_profile *p, enum sim_rk rk, uint16_t code,
    const char *enhanced, const char *text, enum sim_stage stage)
{
	char *e, *t;

	if ((unsigned)rk >= SIM_RK__COUNT)
		return -EINVAL;
	e = strdup(enhanced);
	t = strdup(text);
	if (e == NULL || t == NULL) {
		free(e);
		free(t);
		return -ENOMEM;
	}
	free(p->replies[rk].enhanced);
	free(p->replies[rk].text);
	p->replies[rk].code = code;
	p->replies[rk].enhanced = e;
	p->replies[rk].text = t;
	p->replies[rk].stage = stage;
	p->replies[rk].enabled = true;
	p->replies[rk].close = code == 421;
	return 0;
}

/* prof_world_add_profile - world takes a profile */
int
prof_world_add_profile(struct prof_world *w, struct prof_profile *p)
{
	if (w->nprofiles >= PROF_MAX_PROFILES)
		return -ENOSPC;
	w->profiles[w->nprofiles] = p;
	return (int)w->nprofiles++;
}

/* prof_world_add_block - serve an address block with a profile */
int
prof_world_add_block(struct prof_world *w, uint32_t addr, unsigned prefix,
    uint32_t profile)
{
	struct prof_block *nb;

	if (prefix > 32 || profile >= w->nprofiles)
		return -EINVAL;
	nb = realloc(w->blocks, (w->nblocks + 1) * sizeof(*nb));
	if (nb == NULL)
		return -ENOMEM;
	w->blocks = nb;
	nb[w->nblocks].mask = prefix_mask(prefix);
	nb[w->nblocks].addr = addr & nb[w->nblocks].mask;
	nb[w->nblocks].profile = profile;
	w->nblocks++;
	return 0;
}

/* prof_world_lookup - profile serving a local address (longest prefix) */
int
prof_world_lookup(const struct prof_world *w, uint32_t addr)
{
	const struct prof_block *b, *best = NULL;
	size_t i;

	for (i = 0; i < w->nblocks; i++) {
		b = &w->blocks[i];
		if ((addr & b->mask) != b->addr)
			continue;
		if (best == NULL || b->mask > best->mask)
			best = b;
	}
	return best == NULL ? -1 : (int)best->profile;
}

/* prof_world_port - the port a profile's addresses listen on */
uint16_t
prof_world_port(const struct prof_world *w, uint32_t prof)
{
	return w->profiles[prof]->submit.mechs != 0 ? w->submission_port :
	    w->port;
}

/* prof_world_has_submission - is any profile a submission service */
bool
prof_world_has_submission(const struct prof_world *w)
{
	size_t i;

	for (i = 0; i < w->nprofiles; i++)
		if (w->profiles[i]->submit.mechs != 0)
			return true;
	return false;
}

/* prof_world_add_block6 - serve an IPv6 block with a profile */
int
prof_world_add_block6(struct prof_world *w, const struct sim_addr6 *addr,
    unsigned prefix, uint32_t profile)
{
	struct prof_block6 *nb;

	if (prefix > 128 || profile >= w->nprofiles)
		return -EINVAL;
	nb = realloc(w->blocks6, (w->nblocks6 + 1) * sizeof(*nb));
	if (nb == NULL)
		return -ENOMEM;
	w->blocks6 = nb;
	nb[w->nblocks6].addr = *addr;
	sim_addr6_mask(&nb[w->nblocks6].addr, prefix);
	nb[w->nblocks6].prefix = prefix;
	nb[w->nblocks6].profile = profile;
	w->nblocks6++;
	return 0;
}

/* prof_world_lookup6 - profile serving a local IPv6 address */
int
prof_world_lookup6(const struct prof_world *w, const struct sim_addr6 *a)
{
	const struct prof_block6 *b, *best = NULL;
	size_t i;

	for (i = 0; i < w->nblocks6; i++) {
		b = &w->blocks6[i];
		if (sim_addr6_in(a, &b->addr, b->prefix) &&
		    (best == NULL || b->prefix > best->prefix))
			best = b;
	}
	return best == NULL ? -1 : (int)best->profile;
}

/* prof_world_blocklisted6 - is an IPv6 client on the blocklist */
bool
prof_world_blocklisted6(const struct prof_world *w, const struct sim_addr6 *a)
{
	size_t i;

	for (i = 0; i < w->nblocklist6; i++)
		if (sim_addr6_in(a, &w->blocklist6[i].addr,
		    w->blocklist6[i].prefix))
			return true;
	return false;
}

/* prof_world_account - an account of a profile by its exact user name */
int
prof_world_account(const struct prof_world *w, uint32_t prof,
    const char *user, size_t ulen)
{
	size_t i;

	for (i = 0; i < w->naccounts; i++)
		if (w->accounts[i].profile == prof &&
		    strlen(w->accounts[i].user) == ulen &&
		    memcmp(w->accounts[i].user, user, ulen) == 0)
			return (int)i;
	return -1;
}

/* prof_world_rdns6 - reverse DNS of an IPv6 client (valid when
 * undeclared) */
enum prof_rdns_state
prof_world_rdns6(const struct prof_world *w, const struct sim_addr6 *a,
    const struct prof_rdns6 **rd)
{
	size_t i;

	for (i = 0; i < w->nrdns6; i++)
		if (sim_addr6_in(a, &w->rdns6[i].addr, w->rdns6[i].prefix)) {
			if (rd != NULL)
				*rd = &w->rdns6[i];
			return w->rdns6[i].state;
		}
	if (rd != NULL)
		*rd = NULL;
	return PROF_RDNS_VALID;
}

/* prof_world_sender - facts of a sender domain, or the default */
const struct prof_sender *
prof_world_sender(const struct prof_world *w, const char *domain)
{
	size_t i;

	if (domain != NULL)
		for (i = 0; i < w->nsenders; i++)
			if (strcmp(w->senders[i].domain, domain) == 0)
				return &w->senders[i];
	return &w->default_sender;
}

/* prof_world_blocklisted - is a client IP on the blocklist */
bool
prof_world_blocklisted(const struct prof_world *w, uint32_t addr)
{
	size_t i;

	for (i = 0; i < w->nblocklist; i++)
		if ((addr & w->blocklist[i].mask) == w->blocklist[i].addr)
			return true;
	return false;
}

/* prof_world_client - does the scenario declare a fact of a client IP */
bool
prof_world_client(const struct prof_world *w, uint32_t addr,
    enum prof_client_fact fact)
{
	size_t i;

	for (i = 0; i < w->nclients; i++)
		if (w->clients[i].fact == fact &&
		    (addr & w->clients[i].mask) == w->clients[i].addr)
			return true;
	return false;
}

/* prof_world_rdns - reverse DNS of a client IP (valid when undeclared) */
enum prof_rdns_state
prof_world_rdns(const struct prof_world *w, uint32_t addr,
    const struct prof_rdns **rd)
{
	size_t i;

	for (i = 0; i < w->nrdns; i++)
		if ((addr & w->rdns[i].mask) == w->rdns[i].addr) {
			if (rd != NULL)
				*rd = &w->rdns[i];
			return w->rdns[i].state;
		}
	if (rd != NULL)
		*rd = NULL;
	return PROF_RDNS_VALID;
}

/* match_any - does an address match one of n fnmatch(3) patterns */
static bool
match_any(char *const *pats, size_t n, const char *addr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fnmatch(pats[i], addr, 0) == 0)
			return true;
	return false;
}

/* prof_world_rcpt_unknown - does a recipient match an unknown pattern */
bool
prof_world_rcpt_unknown(const struct prof_world *w, const char *addr)
{
	return match_any(w->unknown_rcpts, w->nunknown_rcpts, addr);
}

/* prof_world_rcpt_inactive - does a recipient match an inactive pattern */
bool
prof_world_rcpt_inactive(const struct prof_world *w, const char *addr)
{
	return match_any(w->inactive_rcpts, w->ninactive_rcpts, addr);
}

/* prof_world_rcpt_full - does a recipient match an over-quota pattern */
bool
prof_world_rcpt_full(const struct prof_world *w, const char *addr)
{
	return match_any(w->full_rcpts, w->nfull_rcpts, addr);
}

/* prof_world_rcpt_moved - does a recipient match a moved pattern */
bool
prof_world_rcpt_moved(const struct prof_world *w, const char *addr)
{
	return match_any(w->moved_rcpts, w->nmoved_rcpts, addr);
}

/* prof_world_rcpt_tls - does a recipient's domain require TLS */
bool
prof_world_rcpt_tls(const struct prof_world *w, const char *addr)
{
	return match_any(w->tls_rcpts, w->ntls_rcpts, addr);
}

/* prof_world_unresolvable - does a sender domain match an unresolvable
 * pattern */
bool
prof_world_unresolvable(const struct prof_world *w, const char *domain)
{
	return match_any(w->unresolvable, w->nunresolvable, domain);
}

/* prof_world_domain_listed - is a domain on the domain blocklist */
bool
prof_world_domain_listed(const struct prof_world *w, const char *domain)
{
	return match_any(w->dbl, w->ndbl, domain);
}

/* prof_world_spam_trap - does a recipient match a spam-trap pattern */
bool
prof_world_spam_trap(const struct prof_world *w, const char *addr)
{
	return match_any(w->spam_traps, w->nspam_traps, addr);
}

/* prof_world_ipv4_only - does the recipient refuse mail over IPv6 */
bool
prof_world_ipv4_only(const struct prof_world *w, const char *addr)
{
	return match_any(w->ipv4_only, w->nipv4_only, addr);
}

/* prof_world_seed - does a recipient match a seed-address pattern */
bool
prof_world_seed(const struct prof_world *w, const char *addr)
{
	return match_any(w->seeds, w->nseeds, addr);
}

/* prof_sender_complaint_rate - a sender's complaint rate on a day */
double
prof_sender_complaint_rate(const struct prof_sender *s, uint32_t day)
{
	double rate = s->complaint_rate;
	size_t i;

	for (i = 0; i < s->ncomplaint_steps &&
	    s->complaint_steps[i].day <= day; i++)
		rate = s->complaint_steps[i].rate;
	return rate;
}

/* zone_sender - the DNS records of one sender domain */
static int
zone_sender(struct prof_sender *sd, struct auth_zone *z,
    prof_keygen_fn *keygen, prof_pubkey_fn *pubkey, char *why, size_t whylen)
{
	struct prof_dkim_key *k;
	struct prof_record *r;
	char *priv, pub[KEY_PUB_MAX];
	size_t i;
	int rc;

	if (sd->spf_record != NULL &&
	    (rc = auth_zone_add_spf(z, sd->domain, sd->spf_record)) != 0) {
		snprintf(why, whylen, "SPF record of %s", sd->domain);
		return rc;
	}
	if (sd->dmarc_record != NULL &&
	    (rc = auth_zone_add_dmarc(z, sd->domain, sd->dmarc_record)) != 0) {
		snprintf(why, whylen, "DMARC record of %s", sd->domain);
		return rc;
	}
	for (i = 0; i < sd->ndkim_keys; i++) {
		k = &sd->dkim_keys[i];
		snprintf(why, whylen, "DKIM key %s._domainkey.%s", k->selector,
		    sd->domain);
		if (keygen == NULL || pubkey == NULL)
			return -ENOTSUP;
		if (k->key_pem == NULL) {
			if ((priv = malloc(KEY_PEM_MAX)) == NULL)
				return -ENOMEM;
			if ((rc = keygen(k->generate, priv, KEY_PEM_MAX, pub,
			    sizeof(pub))) != 0) {
				free(priv);
				return rc;
			}
			k->key_pem = priv;
		} else if ((rc = pubkey(k->key_pem, pub, sizeof(pub))) != 0)
			return rc;
		if ((rc = auth_zone_add_dkim(z, sd->domain, k->selector,
		    pub)) != 0)
			return rc;
	}
	for (i = 0; i < sd->nrecords; i++) {
		r = &sd->records[i];
		if ((rc = auth_zone_add(z, r->name, (enum auth_rr_type)r->type,
		    r->data, r->pref)) != 0) {
			snprintf(why, whylen, "record %s of %s", r->name,
			    sd->domain);
			return rc;
		}
	}
	return 0;
}

/* zone_provider - MX records of a profile's domains, A records of its MX
 * hosts inside the first block it serves */
static int
zone_provider(const struct prof_world *w, size_t pi, struct auth_zone *z,
    char *why, size_t whylen)
{
	const struct prof_profile *p = w->profiles[pi];
	const struct prof_block *b = NULL;
	char a[INET_ADDRSTRLEN];
	struct in_addr in;
	uint32_t addr;
	size_t i, j;
	int rc;

	for (i = 0; i < w->nblocks && b == NULL; i++)
		if (w->blocks[i].profile == pi)
			b = &w->blocks[i];
	for (i = 0; i < w->nblocks6 && b == NULL; i++)
		if (w->blocks6[i].profile == pi)
			break;
	if (b == NULL && i == w->nblocks6)
		return 0;	/* a profile serving nothing has no MX */
	for (i = 0; i < p->ndomains; i++)
		for (j = 0; j < p->nmx_hosts; j++)
			if ((rc = auth_zone_add_mx(z, p->domains[i],
			    (unsigned)(j + 1) * 5, p->mx_hosts[j])) != 0) {
				snprintf(why, whylen, "MX of %s", p->domains[i]);
				return rc;
			}
	for (j = 0; j < p->nmx_hosts && b != NULL; j++) {
		/* host j answers on the (j+1)-th address of the block, or
		 * on the block's only address */
		addr = b->mask == 0xffffffffu ? b->addr :
		    b->addr + (uint32_t)((j + 1) & ~b->mask);
		in.s_addr = htonl(addr);
		inet_ntop(AF_INET, &in, a, sizeof(a));
		if ((rc = auth_zone_add_a(z, p->mx_hosts[j], a)) != 0) {
			snprintf(why, whylen, "A of %s", p->mx_hosts[j]);
			return rc;
		}
	}
	return 0;
}

/* zone_provider6 - AAAA records of a profile's MX hosts inside the first
 * IPv6 block it serves, as zone_provider() places its A records */
static int
zone_provider6(const struct prof_world *w, size_t pi, struct auth_zone *z,
    char *why, size_t whylen)
{
	const struct prof_profile *p = w->profiles[pi];
	const struct prof_block6 *b = NULL;
	struct sim_addr6 a;
	char t[SIM_ADDR_TEXT_MAX];
	size_t i, j;
	int rc;

	for (i = 0; i < w->nblocks6 && b == NULL; i++)
		if (w->blocks6[i].profile == pi)
			b = &w->blocks6[i];
	for (j = 0; b != NULL && j < p->nmx_hosts; j++) {
		a = b->addr;
		if (b->prefix < 128)
			sim_addr6_add(&a, (uint64_t)(j + 1) &
			    (b->prefix <= 64 ? UINT64_MAX :
			    (UINT64_MAX >> (b->prefix - 64))));
		sim_addr6_fmt(&a, t, sizeof(t));
		if ((rc = auth_zone_add_aaaa(z, p->mx_hosts[j], t)) != 0) {
			snprintf(why, whylen, "AAAA of %s", p->mx_hosts[j]);
			return rc;
		}
	}
	return 0;
}

/* zone_rdns - PTR of every address of a named reverse_dns block, and the
 * name's forward A: the block's addresses (match) or an address outside
 * every client range (mismatch, 192.0.2.1 of TEST-NET-1) */
static int
zone_rdns(const struct prof_rdns *rd, struct auth_zone *z, char *why,
    size_t whylen)
{
	char a[INET_ADDRSTRLEN];
	struct in_addr in;
	uint64_t i, n;
	int rc;

	if (rd->ptr == NULL)
		return 0;	/* no PTR: the reverse name does not exist */
	snprintf(why, whylen, "reverse DNS %s", rd->ptr);
	n = (uint64_t)(~rd->mask) + 1;
	for (i = 0; i < n; i++)
		if ((rc = auth_zone_add_ptr(z, rd->addr + (uint32_t)i,
		    rd->ptr)) != 0)
			return rc;
	if (rd->state == PROF_RDNS_MISMATCH)
		return auth_zone_add_a(z, rd->ptr, "192.0.2.1");
	for (i = 0; i < n; i++) {
		in.s_addr = htonl(rd->addr + (uint32_t)i);
		inet_ntop(AF_INET, &in, a, sizeof(a));
		if ((rc = auth_zone_add_a(z, rd->ptr, a)) != 0)
			return rc;
	}
	return 0;
}

/* prof_world_build_zone - the scenario's DNS world into a zone */
int
prof_world_build_zone(struct prof_world *w, struct auth_zone *z,
    prof_keygen_fn *keygen, prof_pubkey_fn *pubkey, char *why, size_t whylen)
{
	char scratch[8];
	size_t i;
	int rc;

	if (why == NULL || whylen == 0) {
		why = scratch;
		whylen = sizeof(scratch);
	}
	*why = '\0';
	for (i = 0; i < w->nsenders; i++)
		if ((rc = zone_sender(&w->senders[i], z, keygen, pubkey, why,
		    whylen)) != 0)
			return rc;
	for (i = 0; i < w->nprofiles; i++)
		if ((rc = zone_provider(w, i, z, why, whylen)) != 0 ||
		    (rc = zone_provider6(w, i, z, why, whylen)) != 0)
			return rc;
	for (i = 0; i < w->nrdns; i++)
		if ((rc = zone_rdns(&w->rdns[i], z, why, whylen)) != 0)
			return rc;
	*why = '\0';
	return 0;
}

/* prof_world_naddrs - addresses covered by all blocks */
uint64_t
prof_world_naddrs(const struct prof_world *w)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < w->nblocks; i++)
		n += (uint64_t)(~w->blocks[i].mask) + 1;
	for (i = 0; i < w->nblocks6; i++)
		n += w->blocks6[i].prefix <= 96 ? (uint64_t)1 << 32 :
		    (uint64_t)1 << (128 - w->blocks6[i].prefix);
	return n;
}

/* prof_parse_cidr - "a.b.c.d[/n]" to address and prefix */
int
prof_parse_cidr(const char *s, uint32_t *addr, unsigned *prefix)
{
	struct sim_addr6 a6;
	bool v6;

	if (sim_addr_parse(s, &v6, addr, &a6, prefix) != 0 || v6)
		return -EINVAL;
	return 0;
}
