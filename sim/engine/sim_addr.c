/*
 * DESCRIPTION
 *	IPv6 addresses for the engine: parsing (IPv4 and IPv6, with an
 *	optional prefix length), masks, containment, printing and the text
 *	key of a client's network.  Uses inet_pton/inet_ntop for the text
 *	forms, so the output is the canonical RFC 5952 form.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_addr.h"

/* sim_addr_parse - "addr" or "addr/n", IPv4 or IPv6 */
int
sim_addr_parse(const char *s, bool *v6, uint32_t *v4, struct sim_addr6 *a6,
    unsigned *prefix)
{
	char buf[SIM_ADDR_TEXT_MAX], *slash, *end;
	struct in_addr in;
	struct in6_addr in6;
	unsigned long n, max;
	bool six;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	six = strchr(buf, ':') != NULL;
	max = six ? 128 : 32;
	n = max;
	if ((slash = strchr(buf, '/')) != NULL) {
		*slash++ = '\0';
		if (*slash < '0' || *slash > '9')
			return -EINVAL;
		n = strtoul(slash, &end, 10);
		if (*end != '\0' || n > max)
			return -EINVAL;
	}
	if (six) {
		if (inet_pton(AF_INET6, buf, &in6) != 1)
			return -EINVAL;
		memcpy(a6->b, &in6, 16);
	} else {
		if (inet_pton(AF_INET, buf, &in) != 1)
			return -EINVAL;
		*v4 = ntohl(in.s_addr);
	}
	*v6 = six;
	*prefix = (unsigned)n;
	return 0;
}

/* sim_addr6_mask - keep the first prefix bits */
void
sim_addr6_mask(struct sim_addr6 *a, unsigned prefix)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		if (prefix >= 8) {
			prefix -= 8;
			continue;
		}
		a->b[i] &= (uint8_t)(0xff00u >> prefix);
		prefix = 0;
	}
}

/* sim_addr6_in - is a inside net/prefix */
bool
sim_addr6_in(const struct sim_addr6 *a, const struct sim_addr6 *net,
    unsigned prefix)
{
	struct sim_addr6 x = *a, y = *net;

	sim_addr6_mask(&x, prefix);
	sim_addr6_mask(&y, prefix);
	return memcmp(x.b, y.b, 16) == 0;
}

/* sim_addr6_host_bits - any bit set past the prefix */
bool
sim_addr6_host_bits(const struct sim_addr6 *a, unsigned prefix)
{
	struct sim_addr6 x = *a;

	sim_addr6_mask(&x, prefix);
	return memcmp(x.b, a->b, 16) != 0;
}

/* sim_addr6_add - add n to the address, big-endian with carry */
void
sim_addr6_add(struct sim_addr6 *a, uint64_t n)
{
	unsigned carry = 0, sum;
	int i;

	for (i = 15; i >= 0; i--) {
		sum = a->b[i] + (unsigned)(n & 0xff) + carry;
		a->b[i] = (uint8_t)sum;
		carry = sum >> 8;
		n >>= 8;
	}
}

/* sim_addr6_fmt - canonical text */
const char *
sim_addr6_fmt(const struct sim_addr6 *a, char *buf, size_t cap)
{
	struct in6_addr in6;

	memcpy(&in6, a->b, 16);
	if (cap == 0)
		return buf;
	if (inet_ntop(AF_INET6, &in6, buf, (socklen_t)cap) == NULL)
		snprintf(buf, cap, "?");
	return buf;
}

/* sim_addr6_key - the network of a at prefix, "net/prefix" */
const char *
sim_addr6_key(const struct sim_addr6 *a, unsigned prefix, char *buf,
    size_t cap)
{
	struct sim_addr6 net = *a;
	char t[SIM_ADDR_TEXT_MAX];

	if (prefix > 128)
		prefix = 128;
	sim_addr6_mask(&net, prefix);
	snprintf(buf, cap, "%s/%u", sim_addr6_fmt(&net, t, sizeof(t)), prefix);
	return buf;
}
