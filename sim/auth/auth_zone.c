/*
 * DESCRIPTION
 *	In-memory DNS data of the simulated world: a chained hash table of
 *	name nodes (lower-case, no trailing dot), each with a small array of
 *	records.  Adding a name also adds its ancestors down to its apex as
 *	empty nodes, which makes empty non-terminals and the set of apexes
 *	plain lookups.  Allocation happens only while loading.
 *
 * DIAGNOSTICS
 *	None: errors are returned.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_zone.h"
#include "msg_scan.h"

struct auth_node {
	struct auth_node	*next;		/* hash chain */
	struct auth_node	*all;		/* every node, for foreach */
	char			*name;
	uint64_t		 hash;
	bool			 apex;
	size_t			 nrr, cap;
	struct auth_rr		*rr;
};

struct auth_zone {
	struct auth_node	**tab;
	size_t			 size;		/* power of two */
	size_t			 nnodes;
	size_t			 nrr;
	uint32_t		 ttl;
	struct auth_node	*all;
};

static int	norm(const char *, char *);
static uint64_t	name_hash(const char *);
static struct auth_node *find(const struct auth_zone *, const char *);
static struct auth_node *get(struct auth_zone *, const char *);
static int	grow(struct auth_zone *);

/* norm - validate and lower-case a name into buf */
static int
norm(const char *in, char *buf)
{
	size_t n = strlen(in), i, label = 0;

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n >= AUTH_NAME_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		char c = in[i];

		if (c >= 'A' && c <= 'Z')
			c += 32;
		if (c == '.') {
			if (label == 0)
				return -EINVAL;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_') {
			if (++label > 63)
				return -EINVAL;
		} else
			return -EINVAL;
		buf[i] = c;
	}
	buf[n] = '\0';
	return 0;
}

/* name_hash - FNV-1a of a normalised name */
static uint64_t
name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* auth_zone_create - empty zone */
struct auth_zone *
auth_zone_create(uint32_t ttl)
{
	struct auth_zone *z;

	z = calloc(1, sizeof(*z));
	if (z == NULL)
		return NULL;
	z->size = 64;
	z->tab = calloc(z->size, sizeof(*z->tab));
	if (z->tab == NULL) {
		free(z);
		return NULL;
	}
	z->ttl = ttl;
	return z;
}

/* auth_zone_free - free nodes, records and table */
void
auth_zone_free(struct auth_zone *z)
{
	struct auth_node *nd, *next;
	size_t i;

	if (z == NULL)
		return;
	for (nd = z->all; nd != NULL; nd = next) {
		next = nd->all;
		for (i = 0; i < nd->nrr; i++)
			free((char *)(uintptr_t)nd->rr[i].data);
		free(nd->rr);
		free(nd->name);
		free(nd);
	}
	free(z->tab);
	free(z);
}

/* find - node of a normalised name */
static struct auth_node *
find(const struct auth_zone *z, const char *name)
{
	uint64_t h = name_hash(name);
	struct auth_node *nd;

	for (nd = z->tab[h & (z->size - 1)]; nd != NULL; nd = nd->next)
		if (nd->hash == h && strcmp(nd->name, name) == 0)
			return nd;
	return NULL;
}

/* grow - double the table */
static int
grow(struct auth_zone *z)
{
	struct auth_node **tab, *nd;
	size_t size = z->size * 2;

	tab = calloc(size, sizeof(*tab));
	if (tab == NULL)
		return -ENOMEM;
	for (nd = z->all; nd != NULL; nd = nd->all) {
		nd->next = tab[nd->hash & (size - 1)];
		tab[nd->hash & (size - 1)] = nd;
	}
	free(z->tab);
	z->tab = tab;
	z->size = size;
	return 0;
}

/* get - node of a normalised name, created with its ancestors */
static struct auth_node *
get(struct auth_zone *z, const char *name)
{
	struct auth_node *nd;
	const char *apex, *p;
	size_t b;

	nd = find(z, name);
	if (nd != NULL)
		return nd;
	if (z->nnodes + 1 > z->size - z->size / 4 && grow(z) != 0)
		return NULL;
	nd = calloc(1, sizeof(*nd));
	if (nd == NULL)
		return NULL;
	nd->name = strdup(name);
	if (nd->name == NULL) {
		free(nd);
		return NULL;
	}
	nd->hash = name_hash(name);
	apex = msg_org_domain(name);
	nd->apex = apex == name;
	b = nd->hash & (z->size - 1);
	nd->next = z->tab[b];
	z->tab[b] = nd;
	nd->all = z->all;
	z->all = nd;
	z->nnodes++;
	/* The parent, down to the apex. */
	if (!nd->apex) {
		p = strchr(name, '.');
		if (p != NULL && p + 1 <= apex && get(z, p + 1) == NULL)
			return NULL;
	}
	return nd;
}

/* auth_zone_add - add one record */
int
auth_zone_add(struct auth_zone *z, const char *name, enum auth_rr_type type,
    const char *data, unsigned pref)
{
	char nm[AUTH_NAME_MAX], host[AUTH_NAME_MAX];
	struct auth_node *nd;
	struct auth_rr *rr;
	struct in_addr a;
	struct in6_addr a6;
	const char *d = data;

	if (data == NULL || norm(name, nm) != 0)
		return -EINVAL;
	switch (type) {
	case AUTH_RR_A:
		if (inet_pton(AF_INET, data, &a) != 1)
			return -EINVAL;
		break;
	case AUTH_RR_AAAA:
		if (inet_pton(AF_INET6, data, &a6) != 1)
			return -EINVAL;
		break;
	case AUTH_RR_MX:
		if (pref > UINT16_MAX || norm(data, host) != 0)
			return -EINVAL;
		d = host;
		break;
	case AUTH_RR_PTR:
		if (norm(data, host) != 0)
			return -EINVAL;
		d = host;
		break;
	case AUTH_RR_TXT:
		if (strlen(data) >= AUTH_TXT_MAX)
			return -E2BIG;
		break;
	default:
		return -EINVAL;
	}
	nd = get(z, nm);
	if (nd == NULL)
		return -ENOMEM;
	if (nd->nrr == nd->cap) {
		size_t cap = nd->cap == 0 ? 2 : nd->cap * 2;

		rr = realloc(nd->rr, cap * sizeof(*rr));
		if (rr == NULL)
			return -ENOMEM;
		nd->rr = rr;
		nd->cap = cap;
	}
	rr = &nd->rr[nd->nrr];
	memset(rr, 0, sizeof(*rr));
	rr->data = strdup(d);
	if (rr->data == NULL)
		return -ENOMEM;
	rr->type = type;
	rr->ttl = z->ttl;
	rr->pref = (uint16_t)pref;
	if (type == AUTH_RR_A)
		rr->addr = a.s_addr;
	if (type == AUTH_RR_AAAA)
		memcpy(rr->addr6, &a6, sizeof(rr->addr6));
	nd->nrr++;
	z->nrr++;
	return 0;
}

/* auth_zone_add_spf - TXT v=spf1 at the domain */
int
auth_zone_add_spf(struct auth_zone *z, const char *domain, const char *rec)
{
	if (rec == NULL || strncasecmp(rec, "v=spf1", 6) != 0 ||
	    (rec[6] != ' ' && rec[6] != '\0'))
		return -EINVAL;
	return auth_zone_add(z, domain, AUTH_RR_TXT, rec, 0);
}

/* auth_zone_add_dkim - TXT key record at selector._domainkey.domain */
int
auth_zone_add_dkim(struct auth_zone *z, const char *domain,
    const char *selector, const char *pubkey_b64)
{
	char name[AUTH_NAME_MAX], *txt;
	size_t n;
	int rc;

	if (selector == NULL || pubkey_b64 == NULL || domain == NULL ||
	    (size_t)snprintf(name, sizeof(name), "%s._domainkey.%s", selector,
	    domain) >= sizeof(name))
		return -EINVAL;
	n = strlen(pubkey_b64) + 32;
	if (n >= AUTH_TXT_MAX)
		return -E2BIG;
	txt = malloc(n);
	if (txt == NULL)
		return -ENOMEM;
	snprintf(txt, n, "v=DKIM1; k=rsa; p=%s", pubkey_b64);
	rc = auth_zone_add(z, name, AUTH_RR_TXT, txt, 0);
	free(txt);
	return rc;
}

/* auth_zone_add_dmarc - TXT at _dmarc.domain */
int
auth_zone_add_dmarc(struct auth_zone *z, const char *domain, const char *rec)
{
	char name[AUTH_NAME_MAX];

	if (rec == NULL || domain == NULL ||
	    strncasecmp(rec, "v=DMARC1", 8) != 0 ||
	    (size_t)snprintf(name, sizeof(name), "_dmarc.%s", domain) >=
	    sizeof(name))
		return -EINVAL;
	return auth_zone_add(z, name, AUTH_RR_TXT, rec, 0);
}

/* auth_zone_add_mx - MX at the domain */
int
auth_zone_add_mx(struct auth_zone *z, const char *domain, unsigned pref,
    const char *host)
{
	return auth_zone_add(z, domain, AUTH_RR_MX, host, pref);
}

/* auth_zone_add_ptr - PTR at the reverse name of an IPv4 address */
int
auth_zone_add_ptr(struct auth_zone *z, uint32_t ipv4, const char *host)
{
	char name[32];

	snprintf(name, sizeof(name), "%u.%u.%u.%u.in-addr.arpa",
	    ipv4 & 0xff, ipv4 >> 8 & 0xff, ipv4 >> 16 & 0xff, ipv4 >> 24);
	return auth_zone_add(z, name, AUTH_RR_PTR, host, 0);
}

/* auth_zone_add_a - A at the host */
int
auth_zone_add_a(struct auth_zone *z, const char *host, const char *ipv4)
{
	return auth_zone_add(z, host, AUTH_RR_A, ipv4, 0);
}

/* auth_zone_add_aaaa - AAAA at the host */
int
auth_zone_add_aaaa(struct auth_zone *z, const char *host, const char *ipv6)
{
	return auth_zone_add(z, host, AUTH_RR_AAAA, ipv6, 0);
}

/* auth_zone_name - exists, NXDOMAIN in a zone, or outside every zone */
enum auth_zone_where
auth_zone_name(const struct auth_zone *z, const char *name, const char **apex)
{
	char nm[AUTH_NAME_MAX];
	struct auth_node *nd;

	if (apex != NULL)
		*apex = NULL;
	if (norm(name, nm) != 0)
		return AUTH_ZONE_OUTSIDE;
	nd = find(z, msg_org_domain(nm));
	if (nd == NULL || !nd->apex)
		return AUTH_ZONE_OUTSIDE;
	if (apex != NULL)
		*apex = nd->name;
	return find(z, nm) != NULL ? AUTH_ZONE_EXISTS : AUTH_ZONE_NXDOMAIN;
}

/* auth_zone_lookup - records of one type at a name */
size_t
auth_zone_lookup(const struct auth_zone *z, const char *name,
    enum auth_rr_type type, const struct auth_rr **out, size_t max)
{
	char nm[AUTH_NAME_MAX];
	struct auth_node *nd;
	size_t i, n = 0;

	if (norm(name, nm) != 0 || (nd = find(z, nm)) == NULL)
		return 0;
	for (i = 0; i < nd->nrr; i++)
		if (nd->rr[i].type == type) {
			if (n < max)
				out[n] = &nd->rr[i];
			n++;
		}
	return n;
}

/* auth_zone_txt - first TXT with a prefix */
const char *
auth_zone_txt(const struct auth_zone *z, const char *name, const char *prefix)
{
	char nm[AUTH_NAME_MAX];
	struct auth_node *nd;
	size_t i, n = strlen(prefix);

	if (norm(name, nm) != 0 || (nd = find(z, nm)) == NULL)
		return NULL;
	for (i = 0; i < nd->nrr; i++)
		if (nd->rr[i].type == AUTH_RR_TXT &&
		    strncasecmp(nd->rr[i].data, prefix, n) == 0)
			return nd->rr[i].data;
	return NULL;
}

/* auth_zone_foreach - visit every record */
int
auth_zone_foreach(const struct auth_zone *z, auth_zone_fn fn, void *ctx)
{
	struct auth_node *nd;
	size_t i;
	int rc;

	for (nd = z->all; nd != NULL; nd = nd->all)
		for (i = 0; i < nd->nrr; i++) {
			rc = fn(ctx, nd->name, &nd->rr[i]);
			if (rc != 0)
				return rc;
		}
	return 0;
}

/* auth_zone_count - number of records */
size_t
auth_zone_count(const struct auth_zone *z)
{
	return z->nrr;
}
