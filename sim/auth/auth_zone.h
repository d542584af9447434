/*
 * @file auth_zone.h
 * The DNS records of the simulated world, in memory: SPF, DKIM and DMARC
 * TXT records of the sender domains, MX and A records of the provider
 * domains, PTR and forward A records of the clients' reverse DNS.  auth_spf, auth_dkim, auth_dmarc and dns_server answer from it;
 * nothing here ever touches the network.
 *
 * A zone is built at configuration time (auth_zone_add*(), which allocate)
 * and is read-only afterwards: concurrent lookups from several threads are
 * safe once loading is finished, adding while others read is not.
 *
 * Names are case-insensitive, stored lower-case without the trailing dot.
 * Each name belongs to the zone whose apex is its organizational domain
 * (msg_org_domain()); the ancestors of a name down to its apex exist as
 * empty nodes, so "_domainkey.example.com" is an empty non-terminal
 * (NODATA, not NXDOMAIN) when "s1._domainkey.example.com" has a key.
 */
#ifndef AUTH_ZONE_H
#define AUTH_ZONE_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_NAME_MAX	254	/* longest name, with NUL */
#define AUTH_TXT_MAX	4096	/* longest TXT text, with NUL */

/** Record types, numbered as in DNS. */
enum auth_rr_type {
	AUTH_RR_A = 1,
	AUTH_RR_PTR = 12,
	AUTH_RR_MX = 15,
	AUTH_RR_TXT = 16,
	AUTH_RR_AAAA = 28,
};

/** One record.  Owned by the zone; valid until auth_zone_free(). */
struct auth_rr {
	enum auth_rr_type	 type;
	uint16_t		 pref;		/* MX preference */
	uint32_t		 ttl;		/* seconds */
	uint32_t		 addr;		/* A: IPv4, network order */
	uint8_t			 addr6[16];	/* AAAA: IPv6, network order */
	const char		*data;		/* A, AAAA: address text; MX,
						   PTR: host; TXT: the text */
};

struct auth_zone;

/** What auth_zone_name() found. */
enum auth_zone_where {
	AUTH_ZONE_OUTSIDE = 0,	/* no zone holds this name: REFUSED */
	AUTH_ZONE_NXDOMAIN,	/* in a zone, the name does not exist */
	AUTH_ZONE_EXISTS,	/* the name exists (maybe without records) */
};

/** Callback of auth_zone_foreach(); return non-zero to stop. */
typedef int (*auth_zone_fn)(void *ctx, const char *name,
    const struct auth_rr *rr);

/**
 * Create an empty zone whose records get @p ttl seconds.
 * @return the zone, or NULL when out of memory.
 */
struct auth_zone *auth_zone_create(uint32_t ttl);

/** Free @p z and every record; NULL is a no-op. */
void auth_zone_free(struct auth_zone *z);

/**
 * Add one record.
 * @param name  owner name, case-insensitive, trailing dot allowed.
 * @param data  A: dotted quad; MX, PTR: target host name; TXT: the text
 *		(split into 255-byte strings on the wire by dns_server).
 * @param pref  MX preference, ignored otherwise.
 * @return 0; -EINVAL for a bad name, type or data; -E2BIG for a text
 *	longer than AUTH_TXT_MAX - 1; -ENOMEM.
 */
int auth_zone_add(struct auth_zone *z, const char *name,
    enum auth_rr_type type, const char *data, unsigned pref);

/** Add the SPF TXT record of @p domain ("v=spf1 ...").
 *  @return as auth_zone_add(), -EINVAL if @p rec is not "v=spf1...". */
int auth_zone_add_spf(struct auth_zone *z, const char *domain,
    const char *rec);

/** Add the DKIM key TXT at @p selector._domainkey.@p domain:
 *  "v=DKIM1; k=rsa; p=@p pubkey_b64".  @return as auth_zone_add(). */
int auth_zone_add_dkim(struct auth_zone *z, const char *domain,
    const char *selector, const char *pubkey_b64);

/** Add the DMARC TXT at _dmarc.@p domain ("v=DMARC1; p=...").
 *  @return as auth_zone_add(), -EINVAL if @p rec is not "v=DMARC1...". */
int auth_zone_add_dmarc(struct auth_zone *z, const char *domain,
    const char *rec);

/** Add MX @p pref @p host at @p domain.  @return as auth_zone_add(). */
int auth_zone_add_mx(struct auth_zone *z, const char *domain, unsigned pref,
    const char *host);

/** Add A @p ipv4 at @p host.  @return as auth_zone_add(). */
int auth_zone_add_a(struct auth_zone *z, const char *host, const char *ipv4);

/** Add AAAA @p ipv6 (text) at @p host.  @return as auth_zone_add(). */
int auth_zone_add_aaaa(struct auth_zone *z, const char *host,
    const char *ipv6);

/**
 * Add PTR @p host at the in-addr.arpa name of @p ipv4 (host order):
 * 127.0.90.5 -> 5.90.0.127.in-addr.arpa.
 * @return as auth_zone_add().
 */
int auth_zone_add_ptr(struct auth_zone *z, uint32_t ipv4, const char *host);

/**
 * Where @p name stands.
 * @param apex  if not NULL, receives the zone apex (for a SOA), valid
 *		until auth_zone_free(); NULL when OUTSIDE.
 */
enum auth_zone_where auth_zone_name(const struct auth_zone *z,
    const char *name, const char **apex);

/**
 * Records of @p type at @p name.
 * @param out  receives up to @p max pointers, in insertion order.
 * @return the number of records of that type (may exceed @p max).
 */
size_t auth_zone_lookup(const struct auth_zone *z, const char *name,
    enum auth_rr_type type, const struct auth_rr **out, size_t max);

/**
 * The first TXT at @p name that starts with @p prefix (case-insensitive,
 * e.g. "v=spf1", "v=DKIM1", "v=DMARC1").
 * @return its text, or NULL.
 */
const char *auth_zone_txt(const struct auth_zone *z, const char *name,
    const char *prefix);

/** Call @p fn for every record.  @return 0, or the first non-zero value
 *  returned by @p fn. */
int auth_zone_foreach(const struct auth_zone *z, auth_zone_fn fn, void *ctx);

/** @return the number of records. */
size_t auth_zone_count(const struct auth_zone *z);

#endif /* AUTH_ZONE_H */
