/*
 * DESCRIPTION
 *	Log-linear histogram (see hx_hist.h).  Bucket i < HX_HIST_SUB holds
 *	the value i; above, with e the index of the highest set bit, the
 *	bucket is (e - SUB_BITS + 1) * SUB + the SUB_BITS bits below the
 *	highest one.  Quantiles walk the buckets in order.
 *
 * DIAGNOSTICS
 *	None: every uint64_t has a bucket and nothing allocates.
 */
#include <string.h>

#include "hx_hist.h"

/* hx_hist_reset - empty the histogram */
void
hx_hist_reset(struct hx_hist *h)
{
	memset(h, 0, sizeof(*h));
}

/* hx_hist_index - bucket of a value */
unsigned
hx_hist_index(uint64_t v)
{
	unsigned e;

	if (v < HX_HIST_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);
	return (e - HX_HIST_SUB_BITS + 1) * HX_HIST_SUB +
	    (unsigned)((v >> (e - HX_HIST_SUB_BITS)) & (HX_HIST_SUB - 1));
}

/* hx_hist_bounds - smallest and largest value of bucket i */
void
hx_hist_bounds(unsigned i, uint64_t *lo, uint64_t *hi)
{
	unsigned e, sub;
	uint64_t width;

	if (i < HX_HIST_SUB) {
		*lo = *hi = i;
		return;
	}
	e = i / HX_HIST_SUB + HX_HIST_SUB_BITS - 1;
	sub = i % HX_HIST_SUB;
	width = (uint64_t)1 << (e - HX_HIST_SUB_BITS);
	*lo = (uint64_t)(HX_HIST_SUB + sub) << (e - HX_HIST_SUB_BITS);
	*hi = *lo + (width - 1);
}

/* hx_hist_add - count one value */
void
hx_hist_add(struct hx_hist *h, uint64_t v)
{
	h->bucket[hx_hist_index(v)]++;
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
}

/* hx_hist_merge - add src's counts to dst */
void
hx_hist_merge(struct hx_hist *dst, const struct hx_hist *src)
{
	unsigned i;

	if (src->count == 0)
		return;
	for (i = 0; i < HX_HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
}

/* hx_hist_quantile - approximate q-quantile */
uint64_t
hx_hist_quantile(const struct hx_hist *h, double q)
{
	uint64_t want, seen, lo, hi, mid;
	unsigned i;

	if (h->count == 0)
		return 0;
	if (!(q > 0))
		q = 0;
	if (q > 1)
		q = 1;
	want = (uint64_t)(q * (double)h->count + 0.999999);
	if (want == 0)
		want = 1;
	if (want >= h->count)
		return h->max;
	seen = 0;
	for (i = 0; i < HX_HIST_BUCKETS - 1; i++) {
		seen += h->bucket[i];
		if (seen >= want)
			break;
	}
	hx_hist_bounds(i, &lo, &hi);
	mid = lo + (hi - lo) / 2;
	if (mid > h->max)
		return h->max;
	if (mid < h->min)
		return h->min;
	return mid;
}
