/**
 * @file hx_hist.h
 * A log-linear latency histogram in the HDR style: values below
 * HX_HIST_SUB are counted exactly; above, every power of two is split
 * into HX_HIST_SUB equal buckets, so a bucket is at most 1/HX_HIST_SUB
 * of its lower bound wide and the middle of a bucket is within
 * 1/(2 * HX_HIST_SUB) (about 1.6 %) of any value in it.  The whole
 * uint64_t range fits in a fixed array: no allocation, O(1) add, and two
 * histograms merge by adding their buckets.
 */
#ifndef HX_HIST_H
#define HX_HIST_H

#include <stdint.h>

#define HX_HIST_SUB_BITS	5	/* 32 buckets per power of two */
#define HX_HIST_SUB		(1u << HX_HIST_SUB_BITS)
#define HX_HIST_BUCKETS		((64 - HX_HIST_SUB_BITS + 1) * HX_HIST_SUB)

/** The histogram; all-zero (memset or static init) is an empty one. */
struct hx_hist {
	uint64_t	 count;			/* values added */
	uint64_t	 min;			/* valid when count > 0 */
	uint64_t	 max;
	uint64_t	 bucket[HX_HIST_BUCKETS];
};

/**
 * Empty a histogram.
 * @param h histogram
 */
void hx_hist_reset(struct hx_hist *h);

/**
 * Add one value.
 * @param h histogram
 * @param v value (microseconds for latencies)
 */
void hx_hist_add(struct hx_hist *h, uint64_t v);

/**
 * Add every value of @p src to @p dst.
 * @param dst histogram that receives the counts
 * @param src histogram added (unchanged)
 */
void hx_hist_merge(struct hx_hist *dst, const struct hx_hist *src);

/**
 * @param v a value
 * @return the index of the bucket that counts @p v, < HX_HIST_BUCKETS
 */
unsigned hx_hist_index(uint64_t v);

/**
 * Bounds of a bucket.
 * @param i  bucket index < HX_HIST_BUCKETS
 * @param lo out: smallest value of the bucket
 * @param hi out: largest value of the bucket
 */
void hx_hist_bounds(unsigned i, uint64_t *lo, uint64_t *hi);

/**
 * The q-quantile: the smallest value v such that at least q * count
 * values are <= v, approximated by the middle of its bucket (exact
 * below HX_HIST_SUB) and clamped to [min, max].
 * @param h histogram
 * @param q quantile, clamped to [0, 1]; 1 gives the maximum
 * @return the value; 0 when the histogram is empty
 */
uint64_t hx_hist_quantile(const struct hx_hist *h, double q);

#endif /* HX_HIST_H */
