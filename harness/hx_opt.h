/**
 * @file hx_opt.h
 * Parsers for mxload's option values: target specs, source CIDR ranges,
 * domain lists and bounded numbers.  Pure functions of their input, so
 * they are unit-tested; each one rejects the whole value on any error
 * and writes a one-line reason into the caller's buffer.
 */
#ifndef HX_OPT_H
#define HX_OPT_H

#include <stddef.h>
#include <stdint.h>

#define HX_NAME_MAX		64	/* target name, incl. NUL */
#define HX_DOMAIN_MAX		254	/* domain text, incl. NUL */
#define HX_LOCAL_MAX		65	/* local part, incl. NUL */
#define HX_PREFIX_MIN		16	/* widest range: 65536 addresses */
#define HX_DEFAULT_PORT		2525
#define HX_DEFAULT_RCPT_DOMAIN	"example.net"

/** One -t target: an IPv4 range of SMTP servers. */
struct hx_target {
	uint32_t	 addr;		/* first address, host order */
	uint32_t	 naddr;		/* addresses in the range, >= 1 */
	uint16_t	 port;
	char		 name[HX_NAME_MAX];	/* table label */
	char		 rcpt_domain[HX_DOMAIN_MAX];
};

/** One -s range of local source addresses. */
struct hx_cidr {
	uint32_t	 addr;		/* first address, host order */
	uint32_t	 naddr;
};

/**
 * Parse "[NAME=]ADDR[/PREFIX][:PORT][@RCPTDOMAIN]".  ADDR is IPv4; with
 * a prefix the range is every address of ADDR/PREFIX (host bits of ADDR
 * are cleared), PREFIX in [HX_PREFIX_MIN, 32].
 * @param spec the option value
 * @param t    out: the target (name defaults to "ADDR[/PREFIX]")
 * @param err  out: reason on failure
 * @param errlen size of @p err
 * @return 0; -EINVAL when malformed
 */
int hx_target_parse(const char *spec, struct hx_target *t, char *err,
    size_t errlen);

/**
 * Parse "ADDR[/PREFIX]" (IPv4, PREFIX in [HX_PREFIX_MIN, 32], default 32).
 * @param spec the option value
 * @param c    out: the range
 * @param err  out: reason on failure
 * @param errlen size of @p err
 * @return 0; -EINVAL when malformed
 */
int hx_cidr_parse(const char *spec, struct hx_cidr *c, char *err,
    size_t errlen);

/**
 * Check a domain: 1..253 characters of letters, digits, '-' and '.'.
 * @param d domain text
 * @return 0; -EINVAL
 */
int hx_domain_check(const char *d);

/**
 * Check a local part: 1..64 printable characters, none of
 * space, '<', '>', '@', '"', '\\'.
 * @param l local part text
 * @return 0; -EINVAL
 */
int hx_local_check(const char *l);

/**
 * Split a comma-separated domain list in place.
 * @param list text, modified: commas become NULs
 * @param out  out: pointers into @p list
 * @param max  capacity of @p out
 * @param n    out: number of domains
 * @return 0; -EINVAL for an empty or invalid domain; -E2BIG for more
 *         than @p max domains
 */
int hx_domain_list(char *list, const char **out, size_t max, size_t *n);

/**
 * Parse an unsigned decimal integer in [lo, hi], whole string.
 * @param s  text
 * @param lo smallest accepted value
 * @param hi largest accepted value
 * @param v  out: the value
 * @return 0; -EINVAL when not a number; -ERANGE when outside [lo, hi]
 */
int hx_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *v);

/**
 * Parse a finite decimal number in [lo, hi], whole string.
 * @param s  text
 * @param lo smallest accepted value
 * @param hi largest accepted value
 * @param v  out: the value
 * @return 0; -EINVAL when not a number; -ERANGE when outside [lo, hi]
 */
int hx_parse_double(const char *s, double lo, double hi, double *v);

/**
 * Write a one-line reason into a parser's error buffer.
 * @param err    out: the reason (vsnprintf of @p fmt)
 * @param errlen size of @p err
 * @return -EINVAL, for the parser to return
 */
int hx_opt_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* HX_OPT_H */
