/*
 * DESCRIPTION
 *	Option value parsers for mxload.  Addresses are kept in host byte
 *	order; ranges are expanded lazily by the caller (first address plus
 *	count), never into arrays.
 *
 * DIAGNOSTICS
 *	Every parser returns -EINVAL (or -ERANGE, -E2BIG) and a reason;
 *	nothing panics.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hx_opt.h"

static int	addr_prefix(char *, uint32_t *, uint32_t *, char *, size_t);

/* hx_opt_fail - format a reason and return -EINVAL */
int
hx_opt_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* addr_prefix - parse "ADDR[/PREFIX]" in place into a range */
static int
addr_prefix(char *s, uint32_t *addr, uint32_t *naddr, char *err,
    size_t errlen)
{
	struct in_addr in;
	uint64_t plen;
	uint32_t mask;
	char *slash;

	plen = 32;
	slash = strchr(s, '/');
	if (slash != NULL) {
		*slash = '\0';
		if (hx_parse_u64(slash + 1, HX_PREFIX_MIN, 32, &plen) != 0)
			return hx_opt_fail(err, errlen,
			    "bad prefix length \"%s\" "
			    "(want %d..32)", slash + 1, HX_PREFIX_MIN);
	}
	if (inet_pton(AF_INET, s, &in) != 1)
		return hx_opt_fail(err, errlen, "bad IPv4 address \"%s\"", s);
	mask = plen == 32 ? 0xffffffffu : ~(0xffffffffu >> plen);
	*addr = ntohl(in.s_addr) & mask;
	*naddr = (uint32_t)(1ull << (32 - plen));
	return 0;
}

/* hx_target_parse - parse a -t target spec */
int
hx_target_parse(const char *spec, struct hx_target *t, char *err,
    size_t errlen)
{
	char buf[512];
	char *p, *eq, *at, *colon;
	uint64_t port;
	int rc;

	if (strlen(spec) >= sizeof(buf))
		return hx_opt_fail(err, errlen, "target too long");
	memcpy(buf, spec, strlen(spec) + 1);
	memset(t, 0, sizeof(*t));
	t->port = HX_DEFAULT_PORT;
	snprintf(t->rcpt_domain, sizeof(t->rcpt_domain), "%s",
	    HX_DEFAULT_RCPT_DOMAIN);
	p = buf;
	eq = strchr(p, '=');
	if (eq != NULL) {
		*eq = '\0';
		if (*p == '\0' || strlen(p) >= sizeof(t->name))
			return hx_opt_fail(err, errlen,
			    "target name must be 1..%d "
			    "characters", HX_NAME_MAX - 1);
		if (strpbrk(p, " \t\"\\") != NULL)
			return hx_opt_fail(err, errlen,
			    "bad target name \"%s\"", p);
		memcpy(t->name, p, strlen(p) + 1);
		p = eq + 1;
	}
	at = strchr(p, '@');
	if (at != NULL) {
		*at = '\0';
		if (hx_domain_check(at + 1) != 0)
			return hx_opt_fail(err, errlen,
			    "bad recipient domain \"%s\"",
			    at + 1);
		snprintf(t->rcpt_domain, sizeof(t->rcpt_domain), "%s",
		    at + 1);
	}
	colon = strchr(p, ':');
	if (colon != NULL) {
		*colon = '\0';
		if (hx_parse_u64(colon + 1, 1, 65535, &port) != 0)
			return hx_opt_fail(err, errlen,
			    "bad port \"%s\"", colon + 1);
		t->port = (uint16_t)port;
	}
	if (t->name[0] == '\0') {
		if (strlen(p) >= sizeof(t->name))
			return hx_opt_fail(err, errlen,
			    "bad address \"%s\"", p);
		memcpy(t->name, p, strlen(p) + 1);
	}
	rc = addr_prefix(p, &t->addr, &t->naddr, err, errlen);
	return rc;
}

/* hx_cidr_parse - parse a -s source range */
int
hx_cidr_parse(const char *spec, struct hx_cidr *c, char *err, size_t errlen)
{
	char buf[64];

	if (strlen(spec) >= sizeof(buf))
		return hx_opt_fail(err, errlen,
		    "bad source range \"%s\"", spec);
	memcpy(buf, spec, strlen(spec) + 1);
	return addr_prefix(buf, &c->addr, &c->naddr, err, errlen);
}

/* hx_domain_check - letters, digits, '-' and '.' only */
int
hx_domain_check(const char *d)
{
	size_t n;

	n = strlen(d);
	if (n == 0 || n >= HX_DOMAIN_MAX)
		return -EINVAL;
	if (strspn(d, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != n)
		return -EINVAL;
	return 0;
}

/* hx_local_check - a safe, unquoted local part */
int
hx_local_check(const char *l)
{
	size_t n, i;

	n = strlen(l);
	if (n == 0 || n >= HX_LOCAL_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (l[i] <= ' ' || l[i] >= 0x7f || strchr("<>@\"\\", l[i]))
			return -EINVAL;
	return 0;
}

/* hx_domain_list - split and check a comma-separated domain list */
int
hx_domain_list(char *list, const char **out, size_t max, size_t *n)
{
	char *p, *comma;

	*n = 0;
	p = list;
	for (;;) {
		comma = strchr(p, ',');
		if (comma != NULL)
			*comma = '\0';
		if (hx_domain_check(p) != 0)
			return -EINVAL;
		if (*n == max)
			return -E2BIG;
		out[(*n)++] = p;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
	/* NOTREACHED */
}

/* hx_parse_u64 - bounded unsigned decimal */
int
hx_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *v)
{
	unsigned long long x;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || x < lo || x > hi)
		return -ERANGE;
	*v = x;
	return 0;
}

/* hx_parse_double - bounded finite decimal number */
int
hx_parse_double(const char *s, double lo, double hi, double *v)
{
	double x;
	char *end;

	if ((*s < '0' || *s > '9') && *s != '.')
		return -EINVAL;
	errno = 0;
	x = strtod(s, &end);
	if (*end != '\0' || !isfinite(x))
		return -EINVAL;
	if (errno == ERANGE || x < lo || x > hi)
		return -ERANGE;
	*v = x;
	return 0;
}
