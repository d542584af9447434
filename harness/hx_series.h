/**
 * @file hx_series.h
 * mxload's time series: one CSV row per period (one second by default)
 * with the messages started, the outcomes decided and latency
 * percentiles per SMTP stage during that period.  Each row has its own
 * hx_hist per stage, reset when the row is written, so memory is fixed
 * whatever the run's length.  The caller passes every time in (a
 * monotonic microsecond clock), which keeps the module free of clocks
 * and testable.
 *
 * Columns: time (Unix seconds at the start of the row, 3 decimals),
 * elapsed (seconds since the run started, at the row's start), sent,
 * accepted, deferred, rejected, errors, then for each stage of
 * connect, ehlo, mail, rcpt, data, eod: &lt;stage&gt;_n (replies timed)
 * and &lt;stage&gt;_p50_ms, _p90_ms, _p99_ms, _p999_ms (empty when n is
 * 0).  Rows with no activity are written too (all zero), so the time
 * axis has no holes.  The last row covers a partial period.
 */
#ifndef HX_SERIES_H
#define HX_SERIES_H

#include <stdint.h>
#include <stdio.h>

#include "hx_hist.h"
#include "hx_tally.h"

#define HX_SERIES_STAGES	(HX_STAGE_EOD + 1)	/* connect..eod */

/** The open row and where rows go. */
struct hx_series {
	FILE		*fp;		/* not owned */
	uint64_t	 period_us;	/* row length */
	uint64_t	 start_us;	/* monotonic time of elapsed 0 */
	uint64_t	 wall_ms;	/* Unix time of elapsed 0, ms */
	uint64_t	 row;		/* index of the open row */
	uint64_t	 sent;		/* messages started in the row */
	uint64_t	 out[HX_OUT_COUNT]; /* outcomes decided in the row */
	int		 started;	/* hx_series_start() called */
	int		 err;		/* first write error, -errno */
	struct hx_hist	 lat[HX_SERIES_STAGES]; /* us, per stage */
};

/**
 * Create a series writing to @p fp.
 * @param fp        output stream (the caller closes it after
 *                  hx_series_free())
 * @param period_us row length in microseconds, >= 1000
 * @return the series, to be freed with hx_series_free(); NULL when
 *         @p period_us is too small or memory is short
 */
struct hx_series *hx_series_create(FILE *fp, uint64_t period_us);

/**
 * Free a series (does not close its stream).
 * @param s series, or NULL
 */
void hx_series_free(struct hx_series *s);

/**
 * Write the header line and open row 0.
 * @param s       series
 * @param now_us  monotonic time of elapsed 0
 * @param wall_ms Unix time of elapsed 0 in milliseconds
 * @return 0; -EIO on a write error
 */
int hx_series_start(struct hx_series *s, uint64_t now_us, uint64_t wall_ms);

/**
 * Write every row that ended at or before @p now_us; call it at least
 * once per period to get rows on time (records call it too).
 * @param s      series
 * @param now_us monotonic time
 * @return 0; -EIO once a write failed (later rows are dropped)
 */
int hx_series_tick(struct hx_series *s, uint64_t now_us);

/**
 * @param s series
 * @return the monotonic time at which the open row ends
 */
uint64_t hx_series_next(const struct hx_series *s);

/**
 * Count one started message.
 * @param s      series
 * @param now_us monotonic time of the start
 */
void hx_series_sent(struct hx_series *s, uint64_t now_us);

/**
 * Count one decided message.
 * @param s      series
 * @param now_us monotonic time of the decision
 * @param o      outcome (ignored when out of range)
 */
void hx_series_outcome(struct hx_series *s, uint64_t now_us,
    enum hx_outcome o);

/**
 * Time one reply.
 * @param s      series
 * @param now_us monotonic time of the reply
 * @param stage  stage it answered; stages after eod are ignored
 * @param us     latency in microseconds
 */
void hx_series_latency(struct hx_series *s, uint64_t now_us,
    enum hx_stage stage, uint64_t us);

/**
 * Write the open row (covering a partial period) and flush the stream.
 * @param s      series
 * @param now_us monotonic end of the run
 * @return 0; -EIO when any write failed
 */
int hx_series_finish(struct hx_series *s, uint64_t now_us);

#endif /* HX_SERIES_H */
