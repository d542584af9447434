/*
 * @file sim_fmt.h
 * Number and address formatting for the reply and event-log fast paths:
 * no locale, no printf, no NUL written.  Each function writes into @p buf
 * and returns the number of bytes written.
 */
#ifndef SIM_FMT_H
#define SIM_FMT_H

#include <stddef.h>
#include <stdint.h>

/** Decimal digits of @p v (at most 20 bytes). */
static inline size_t
sim_fmt_u64(char *buf, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

/** 16 lower-case hex digits of @p v (16 bytes). */
static inline size_t
sim_fmt_hex16(char *buf, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 15; i >= 0; i--) {
		buf[i] = hex[v & 15];
		v >>= 4;
	}
	return 16;
}

/** Dotted quad of @p ip, host byte order (at most 15 bytes). */
static inline size_t
sim_fmt_ipv4(char *buf, uint32_t ip)
{
	size_t n = 0;
	int shift;

	for (shift = 24; shift >= 0; shift -= 8) {
		n += sim_fmt_u64(buf + n, (ip >> shift) & 255);
		if (shift != 0)
			buf[n++] = '.';
	}
	return n;
}

#endif /* SIM_FMT_H */
