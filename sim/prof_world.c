/*
 * DESCRIPTION
 *	Construction, lookup and destruction of the world: profiles, MX
 *	address blocks, sender facts, blocklist and unknown recipients.
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

#include "prof_world.h"

static uint32_t	prefix_mask(unsigned);
static int	dup_str(char **, const char *);
static int	dup_strv(char ***, size_t *, char *const *, size_t);
static void	*dup_mem(const void *, size_t, size_t);

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

/* prof_world_new - empty world with scenario defaults */
struct prof_world *
prof_world_new(void)
{
	struct prof_world *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->seed = 1;
	w->time_scale = 1.0;
	w->port = 2525;
	w->idle_timeout_s = 300;
	w->session_timeout_s = 1800;
	w->max_errors = 10;
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
		free(w->senders[i].domain);
	for (i = 0; i < w->nunknown_rcpts; i++)
		free(w->unknown_rcpts[i]);
	free(w->unknown_rcpts);
	free(w->senders);
	free(w->blocks);
	free(w->blocklist);
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
	c->seed = w->seed;
	c->time_scale = w->time_scale;
	c->start_ms = w->start_ms;
	c->port = w->port;
	c->workers = w->workers;
	c->idle_timeout_s = w->idle_timeout_s;
	c->session_timeout_s = w->session_timeout_s;
	c->max_errors = w->max_errors;
	c->default_sender = w->default_sender;	/* its domain is never set */
	if (dup_str(&c->file, w->file) != 0 ||
	    dup_str(&c->event_log, w->event_log) != 0 ||
	    dup_strv(&c->unknown_rcpts, &c->nunknown_rcpts, w->unknown_rcpts,
	    w->nunknown_rcpts) != 0)
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
	if ((w->nblocks > 0 && c->blocks == NULL) ||
	    (w->nblocklist > 0 && c->blocklist == NULL))
		goto fail;
	c->nblocks = w->nblocks;
	c->nblocklist = w->nblocklist;
	if (w->nsenders > 0 &&
	    (c->senders = calloc(w->nsenders, sizeof(*c->senders))) == NULL)
		goto fail;
	for (i = 0; i < w->nsenders; i++) {
		c->senders[i] = w->senders[i];
		if (dup_str(&c->senders[i].domain, w->senders[i].domain) != 0)
			goto fail;
		c->nsenders++;
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
	c->outage_until_ms = p->outage_until_ms;
	if (dup_str(&c->name, p->name) != 0 ||
	    dup_str(&c->file, p->file) != 0 ||
	    dup_str(&c->trailer, p->trailer) != 0 ||
	    dup_strv(&c->domains, &c->ndomains, p->domains, p->ndomains) != 0 ||
	    dup_strv(&c->mx_hosts, &c->nmx_hosts, p->mx_hosts,
	    p->nmx_hosts) != 0)
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
	}
	for (i = 0; i < p->ndomains; i++)
		free(p->domains[i]);
	for (i = 0; i < p->nmx_hosts; i++)
		free(p->mx_hosts[i]);
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

/* prof_world_rcpt_unknown - does a recipient match an unknown pattern */
bool
prof_world_rcpt_unknown(const struct prof_world *w, const char *addr)
{
	size_t i;

	for (i = 0; i < w->nunknown_rcpts; i++)
		if (fnmatch(w->unknown_rcpts[i], addr, 0) == 0)
			return true;
	return false;
}

/* prof_world_naddrs - addresses covered by all blocks */
uint64_t
prof_world_naddrs(const struct prof_world *w)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < w->nblocks; i++)
		n += (uint64_t)(~w->blocks[i].mask) + 1;
	return n;
}

/* prof_parse_cidr - "a.b.c.d[/n]" to address and prefix */
int
prof_parse_cidr(const char *s, uint32_t *addr, unsigned *prefix)
{
	char buf[32], *slash, *end;
	struct in_addr in;
	unsigned long n = 32;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) != NULL) {
		*slash++ = '\0';
		if (*slash < '0' || *slash > '9')
			return -EINVAL;
		n = strtoul(slash, &end, 10);
		if (*end != '\0' || n > 32)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, buf, &in) != 1)
		return -EINVAL;
	*addr = ntohl(in.s_addr);
	*prefix = (unsigned)n;
	return 0;
}
