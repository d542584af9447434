/*
 * DESCRIPTION
 *	mxload's per-second CSV (see hx_series.h).  Every record first
 *	moves the open row forward to the row its time falls in, writing
 *	the rows it leaves behind; a time before the open row (a caller's
 *	clock read earlier in the same loop turn) counts in the open row.
 *
 * DIAGNOSTICS
 *	A failed write sets s->err to -EIO; later rows are not written and
 *	hx_series_tick()/hx_series_finish() return the error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hx_series.h"

static const double series_q[] = { 0.50, 0.90, 0.99, 0.999 };

static void	series_advance(struct hx_series *, uint64_t);
static void	series_write_row(struct hx_series *);

/* hx_series_create - an unstarted series */
struct hx_series *
hx_series_create(FILE *fp, uint64_t period_us)
{
	struct hx_series *s;

	if (fp == NULL || period_us < 1000)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->fp = fp;
	s->period_us = period_us;
	return s;
}

/* hx_series_free - release the series */
void
hx_series_free(struct hx_series *s)
{
	free(s);
}

/* hx_series_start - header and row 0 */
int
hx_series_start(struct hx_series *s, uint64_t now_us, uint64_t wall_ms)
{
	unsigned st, k;

	s->start_us = now_us;
	s->wall_ms = wall_ms;
	s->row = 0;
	s->started = 1;
	fputs("time,elapsed,sent,accepted,deferred,rejected,errors", s->fp);
	for (st = 0; st < HX_SERIES_STAGES; st++) {
		fprintf(s->fp, ",%s_n", hx_stage_name((enum hx_stage)st));
		for (k = 0; k < sizeof(series_q) / sizeof(series_q[0]); k++)
			fprintf(s->fp, ",%s_p%s_ms",
			    hx_stage_name((enum hx_stage)st),
			    k == 0 ? "50" : k == 1 ? "90" : k == 2 ? "99" :
			    "999");
	}
	fputc('\n', s->fp);
	if (ferror(s->fp))
		s->err = -EIO;
	return s->err;
}

/* hx_series_next - end of the open row */
uint64_t
hx_series_next(const struct hx_series *s)
{
	return s->start_us + (s->row + 1) * s->period_us;
}

/* series_write_row - the open row as one CSV line, then empty it */
static void
series_write_row(struct hx_series *s)
{
	const struct hx_hist *h;
	uint64_t ms;
	unsigned st, k;

	if (s->err == 0) {
		ms = s->wall_ms + s->row * s->period_us / 1000;
		fprintf(s->fp, "%llu.%03u,%.3f,%llu,%llu,%llu,%llu,%llu",
		    (unsigned long long)(ms / 1000), (unsigned)(ms % 1000),
		    (double)(s->row * s->period_us) / 1e6,
		    (unsigned long long)s->sent,
		    (unsigned long long)s->out[HX_OUT_ACCEPTED],
		    (unsigned long long)s->out[HX_OUT_DEFERRED],
		    (unsigned long long)s->out[HX_OUT_REJECTED],
		    (unsigned long long)s->out[HX_OUT_ERROR]);
		for (st = 0; st < HX_SERIES_STAGES; st++) {
			h = &s->lat[st];
			fprintf(s->fp, ",%llu", (unsigned long long)h->count);
			for (k = 0; k < sizeof(series_q) / sizeof(series_q[0]);
			    k++) {
				if (h->count == 0)
					fputc(',', s->fp);
				else
					fprintf(s->fp, ",%.3f", (double)
					    hx_hist_quantile(h, series_q[k]) /
					    1e3);
			}
		}
		fputc('\n', s->fp);
		if (ferror(s->fp))
			s->err = -EIO;
	}
	s->sent = 0;
	memset(s->out, 0, sizeof(s->out));
	for (st = 0; st < HX_SERIES_STAGES; st++)
		if (s->lat[st].count != 0)
			hx_hist_reset(&s->lat[st]);
}

/* series_advance - write the rows that ended before now */
static void
series_advance(struct hx_series *s, uint64_t now_us)
{
	if (!s->started)
		return;
	while (now_us >= hx_series_next(s)) {
		series_write_row(s);
		s->row++;
	}
}

/* hx_series_tick - rows that ended */
int
hx_series_tick(struct hx_series *s, uint64_t now_us)
{
	series_advance(s, now_us);
	return s->err;
}

/* hx_series_sent - one started message */
void
hx_series_sent(struct hx_series *s, uint64_t now_us)
{
	series_advance(s, now_us);
	s->sent++;
}

/* hx_series_outcome - one decided message */
void
hx_series_outcome(struct hx_series *s, uint64_t now_us, enum hx_outcome o)
{
	series_advance(s, now_us);
	if ((unsigned)o < HX_OUT_COUNT)
		s->out[o]++;
}

/* hx_series_latency - one timed reply */
void
hx_series_latency(struct hx_series *s, uint64_t now_us, enum hx_stage stage,
    uint64_t us)
{
	series_advance(s, now_us);
	if ((unsigned)stage < HX_SERIES_STAGES)
		hx_hist_add(&s->lat[stage], us);
}

/* hx_series_finish - the last, partial row */
int
hx_series_finish(struct hx_series *s, uint64_t now_us)
{
	if (!s->started)
		return s->err;
	series_advance(s, now_us);
	series_write_row(s);
	s->row++;
	if (fflush(s->fp) != 0 && s->err == 0)
		s->err = -EIO;
	return s->err;
}
