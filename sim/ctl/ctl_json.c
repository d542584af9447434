/*
 * DESCRIPTION
 *	JSON text of the control API.  jansson prints a real with a fixed
 *	number of significant digits (JSON_REAL_PRECISION); 17 keeps every
 *	double exact but shows 29.966 as 29.966000000000001, fewer lose
 *	exactness (1/3 at 15 digits reads back as another double).  So the
 *	text is made with 17 digits, then each real is printed again with
 *	the fewest digits (1 to 17) that read back as the same double.
 *
 * DIAGNOSTICS
 *	Only out of memory fails (NULL).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_json.h"

#define REAL_MAX	32	/* "-1.2345678901234567e-308" and ".0" */

static size_t	real_short(const char *, size_t, char *);

/* real_short - the shortest text of the real in tok[0..n) that reads
 * back as the same double: the fewest significant digits, in fixed
 * notation from 1e-4 to 1e16 and in exponent notation beyond (Python's
 * repr), with ".0" when it would read as an integer; its length in out
 * (REAL_MAX bytes), 0 when tok is not a number */
static size_t
real_short(const char *tok, size_t n, char *out)
{
	char in[REAL_MAX], *end;
	const char *e;
	double d;
	int prec, exp10, len;

	if (n >= sizeof(in))
		return 0;
	memcpy(in, tok, n);
	in[n] = '\0';
	d = strtod(in, &end);
	if (*end != '\0')
		return 0;
	for (prec = 1; prec < 17; prec++) {
		snprintf(out, REAL_MAX, "%.*e", prec - 1, d);
		if (strtod(out, NULL) == d)
			break;
	}
	snprintf(out, REAL_MAX, "%.*e", prec - 1, d);
	exp10 = (e = strchr(out, 'e')) != NULL ? atoi(e + 1) : 0;
	if (exp10 >= -4 && exp10 < 16 && prec < exp10 + 1)
		prec = exp10 + 1;	/* %g's fixed notation: every digit */
	len = snprintf(out, REAL_MAX - 2, "%.*g", prec, d);
	if (len <= 0 || len >= REAL_MAX - 2)
		return 0;
	if (strpbrk(out, ".eEn") == NULL) {	/* n: inf, nan */
		memcpy(out + len, ".0", 3);
		len += 2;
	}
	return (size_t)len;
}

/* ctl_json_short_reals - every real of a JSON text, shortest */
char *
ctl_json_short_reals(const char *text)
{
	size_t len = strlen(text), i = 0, o = 0, n, k;
	char *out, buf[REAL_MAX];
	bool in_str = false, real;

	/* a real of the input has at least 3 bytes ("1.5") and its output
	 * at most REAL_MAX */
	if ((out = malloc(len + len / 3 * REAL_MAX + 1)) == NULL)
		return NULL;
	while (i < len) {
		if (in_str) {
			if (text[i] == '\\' && i + 1 < len)
				out[o++] = text[i++];
			else if (text[i] == '"')
				in_str = false;
			out[o++] = text[i++];
			continue;
		}
		if (text[i] == '"' || (text[i] != '-' &&
		    (text[i] < '0' || text[i] > '9'))) {
			in_str = text[i] == '"';
			out[o++] = text[i++];
			continue;
		}
		real = false;
		for (n = i; n < len && strchr("+-.0123456789eE", text[n]) != NULL;
		    n++)
			real = real || strchr(".eE", text[n]) != NULL;
		if (real && (k = real_short(text + i, n - i, buf)) > 0) {
			memcpy(out + o, buf, k);
			o += k;
		} else {
			memcpy(out + o, text + i, n - i);
			o += n - i;
		}
		i = n;
	}
	out[o] = '\0';
	return out;
}

/* ctl_json_dumps - compact, reals shortest */
char *
ctl_json_dumps(const json_t *v)
{
	char *s, *t;

	if ((s = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(17))) ==
	    NULL)
		return NULL;
	t = ctl_json_short_reals(s);
	free(s);
	return t;
}
