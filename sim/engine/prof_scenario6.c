/*
 * DESCRIPTION
 *	The IPv6 parts of a scenario (issue 16): IPv6 MX blocks in
 *	servers[].addresses, IPv6 client blocks in senders.reverse_dns and
 *	in the blocklist, and
 *	the prefixes IPv6 senders are keyed by (ipv6_prefix, ipv6_netblock).
 *	prof_scenario.c hands a node here when its text holds a ':'.
 *
 *	An IPv6 MX block is bound address by address by the socket backend,
 *	so it covers at most PROF6_MAX_BLOCK_BITS bits of addresses; the
 *	DPDK backend refuses IPv6 blocks at start (dpdk/README.md).
 *
 * DIAGNOSTICS
 *	Every failure is returned as -EINVAL with ld->err filled in; aborts
 *	when out of memory, as the rest of the loader.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "prof_load_priv.h"

/* at most 2^16 addresses per IPv6 MX block (a socket each) */
#define PROF6_MAX_BLOCK_BITS	16

static int	ld_cidr6(struct ld *, yaml_node_t *, struct sim_addr6 *,
		    unsigned *);

/* ld_cidr6 - an IPv6 address or block, host bits clear */
static int
ld_cidr6(struct ld *ld, yaml_node_t *n, struct sim_addr6 *a, unsigned *prefix)
{
	char t[SIM_ADDR_TEXT_MAX];
	const char *s;
	uint32_t v4;
	bool v6 = false;
	int rc;

	if ((rc = ld_string(ld, n, &s)) != 0)
		return rc;
	if (sim_addr_parse(s, &v6, &v4, a, prefix) != 0 || !v6)
		return ld_err(ld, n, "expected an IPv6 address or block like "
		    "2001:db8::/120, got %s", ld_got(ld, n));
	if (sim_addr6_host_bits(a, *prefix)) {
		sim_addr6_mask(a, *prefix);
		return ld_err(ld, n, "%s has host bits set (the block starts "
		    "at %s/%u)", s, sim_addr6_fmt(a, t, sizeof(t)), *prefix);
	}
	return 0;
}

/* ld_is_ipv6 - a scalar holding an IPv6 address or block */
bool
ld_is_ipv6(const yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE &&
	    memchr(n->data.scalar.value, ':', n->data.scalar.length) != NULL;
}

/* ld_add_block6 - serve one IPv6 block with a profile; no overlaps */
int
ld_add_block6(struct ld *ld, yaml_node_t *n, size_t server, uint32_t profile)
{
	struct prof_world *w = ld->w;
	const struct prof_block6 *b;
	struct sim_addr6 a;
	char t[SIM_ADDR_TEXT_MAX];
	unsigned prefix;
	size_t i;
	int rc;

	if ((rc = ld_cidr6(ld, n, &a, &prefix)) != 0)
		return rc;
	if (prefix < 128 - PROF6_MAX_BLOCK_BITS)
		return ld_err(ld, n, "IPv6 block %s of servers[%zu] is too "
		    "large: each address gets its own socket, so a block is "
		    "/%u or longer", ld_got(ld, n), server,
		    128 - PROF6_MAX_BLOCK_BITS);
	for (i = 0; i < w->nblocks6; i++) {
		b = &w->blocks6[i];
		if (sim_addr6_in(&a, &b->addr, b->prefix < prefix ? b->prefix :
		    prefix))
			return ld_err(ld, n, "address block %s of servers[%zu] "
			    "(%s) overlaps %s/%u (%s)", ld_got(ld, n), server,
			    w->profiles[profile]->name,
			    sim_addr6_fmt(&b->addr, t, sizeof(t)), b->prefix,
			    w->profiles[b->profile]->name);
	}
	if (prof_world_add_block6(w, &a, prefix, profile) != 0)
		abort();	/* prefix and index were checked */
	return 0;
}

/* ld_rdns6 - one IPv6 senders.reverse_dns block: @p ptr "none" or a name
 * (checked by the caller), @p mismatch for forward: mismatch */
int
ld_rdns6(struct ld *ld, yaml_node_t *n, const char *path, const char *ptr,
    bool mismatch)
{
	struct prof_world *w = ld->w;
	struct prof_rdns6 *rd;
	struct sim_addr6 a;
	unsigned prefix;
	size_t i;
	int rc;

	if ((rc = ld_cidr6(ld, n, &a, &prefix)) != 0)
		return rc;
	for (i = 0; i < w->nrdns6; i++)
		if (sim_addr6_in(&a, &w->rdns6[i].addr,
		    w->rdns6[i].prefix < prefix ? w->rdns6[i].prefix : prefix))
			return ld_err(ld, n, "%s.addresses %s overlaps an "
			    "earlier reverse_dns block (each client address "
			    "has one reverse DNS)", path, ld_got(ld, n));
	w->rdns6 = ld_xrealloc(w->rdns6, (w->nrdns6 + 1) * sizeof(*w->rdns6));
	rd = &w->rdns6[w->nrdns6++];
	memset(rd, 0, sizeof(*rd));
	rd->addr = a;
	rd->prefix = prefix;
	ld_rdns_name(ptr, mismatch, &rd->state, &rd->ptr);
	return 0;
}

/* ld_rdns_name - the state and lower-cased PTR name (NULL for "none") of
 * a reverse_dns entry, IPv4 or IPv6 */
void
ld_rdns_name(const char *ptr, bool mismatch, enum prof_rdns_state *state,
    char **name)
{
	char *c;

	*name = NULL;
	if (strcmp(ptr, "none") == 0) {
		*state = PROF_RDNS_NONE;
		return;
	}
	*state = mismatch ? PROF_RDNS_MISMATCH : PROF_RDNS_VALID;
	*name = ld_xstrdup(ptr);
	for (c = *name; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
}

/* ld_blocklist6 - one IPv6 entry of the scenario blocklist */
int
ld_blocklist6(struct ld *ld, yaml_node_t *n)
{
	struct prof_world *w = ld->w;
	struct sim_addr6 a;
	unsigned prefix;
	int rc;

	if ((rc = ld_cidr6(ld, n, &a, &prefix)) != 0)
		return rc;
	w->blocklist6 = ld_xrealloc(w->blocklist6, (w->nblocklist6 + 1) *
	    sizeof(*w->blocklist6));
	w->blocklist6[w->nblocklist6].addr = a;
	w->blocklist6[w->nblocklist6++].prefix = prefix;
	return 0;
}

/* ld_set_prefix6 - an IPv6 prefix length, 1..128 */
int
ld_set_prefix6(struct ld *ld, yaml_node_t *n, void *field,
    const struct ld_key *k, const char *path)
{
	uint64_t v;
	int rc;

	(void)k;
	(void)path;
	if ((rc = ld_uint(ld, n, 1, 128, &v)) == 0)
		*(unsigned *)field = (unsigned)v;
	return rc;
}
