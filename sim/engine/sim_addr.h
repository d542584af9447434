/*
 * @file sim_addr.h
 * IPv6 addresses as the engine keeps them: 16 bytes in network order
 * (struct sim_addr6).  IPv4 stays a host-order uint32_t everywhere it was;
 * an IPv6 client or MX carries a struct sim_addr6 beside it.  Parsing and
 * printing of "a.b.c.d[/n]" and "x:x::x[/n]", prefix masks and matching,
 * and the text key an IPv6 client's limits and reputation are kept under
 * (its network at a configurable prefix, scenario key ipv6_prefix).
 * No allocation; thread-safe.
 */
#ifndef SIM_ADDR_H
#define SIM_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for any address or "address/prefix" text, with its NUL. */
#define SIM_ADDR_TEXT_MAX	52

/* An IPv6 address, network byte order. */
struct sim_addr6 {
	uint8_t		 b[16];
};

/**
 * Parse "a.b.c.d", "a.b.c.d/n", "x:x::x" or "x:x::x/n".
 * @param v6      set true for IPv6, false for IPv4.
 * @param v4      IPv4 address, host order (IPv6: untouched).
 * @param a6      IPv6 address (IPv4: untouched).
 * @param prefix  the /n, or 32 or 128 when none is given.
 * @return 0, or -EINVAL (bad syntax, prefix over 32 or 128).
 */
int sim_addr_parse(const char *s, bool *v6, uint32_t *v4,
    struct sim_addr6 *a6, unsigned *prefix);

/** Clear the bits of @p a past the first @p prefix (0..128). */
void sim_addr6_mask(struct sim_addr6 *a, unsigned prefix);

/** @return true when @p a lies inside @p net / @p prefix. */
bool sim_addr6_in(const struct sim_addr6 *a, const struct sim_addr6 *net,
    unsigned prefix);

/** @return true when @p a has bits set past the first @p prefix. */
bool sim_addr6_host_bits(const struct sim_addr6 *a, unsigned prefix);

/**
 * @p a plus @p n (the low 64 bits carry into the high 64).
 */
void sim_addr6_add(struct sim_addr6 *a, uint64_t n);

/**
 * Print @p a in RFC 5952 text ("2001:db8::1") into @p buf.
 * @return @p buf (always NUL-terminated; "?" when @p cap is too small).
 */
const char *sim_addr6_fmt(const struct sim_addr6 *a, char *buf, size_t cap);

/**
 * The identity key of @p a at @p prefix: its network in text with the
 * prefix ("2001:db8:1:2::/64"), the string the state table keys IPv6
 * clients and netblocks by.
 * @return @p buf (always NUL-terminated).
 */
const char *sim_addr6_key(const struct sim_addr6 *a, unsigned prefix,
    char *buf, size_t cap);

#endif /* SIM_ADDR_H */
