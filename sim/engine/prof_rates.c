/*
 * DESCRIPTION
 *	The time-scale table.  The limits schema (prof_limits_keys) is
 *	walked: a mapping whose keys are window names (second, minute, hour,
 *	day: sim_window_name()) is one counter, printed as one row named by
 *	its path ("per_ip.messages", "connection_rate_per_ip").  The walk
 *	runs twice: once to find the windows any row limits (the columns)
 *	and count the flags, once to print.
 *
 * DIAGNOSTICS
 *	None: the text goes to the stream as it is.
 */
#include <string.h>

#include "prof_limits.h"
#include "prof_rates.h"

#define RATES_PATH_MAX	96	/* "per_dkim_domain.recipients" and more */

/* What one walk collects or prints. */
struct rates_walk {
	FILE		*fp;		/* NULL: collect only */
	const char	*prof;		/* profile being walked */
	double		 scale;
	unsigned	 used;		/* bit w: some row limits window w */
	size_t		 nflag[2];	/* limits flagged SHORT, FAST */
	size_t		 nany;		/* limits flagged at all */
};

static int	window_of(const char *);
static void	walk(struct rates_walk *, const struct prof_lim_key *,
		    const void *, const char *);
static void	row(struct rates_walk *, const char *,
		    const struct prof_lim_key *, const void *);
static void	put_cell(const struct rates_walk *, int, const char *);
static void	fmt_rate(char *, size_t, double);
static void	fmt_span(char *, size_t, double);

/* window_of - the window a key name is, or -1 */
static int
window_of(const char *name)
{
	int w;

	for (w = 0; w < SIM_WIN__COUNT; w++)
		if (strcmp(sim_window_name(w), name) == 0)
			return w;
	return -1;
}

/* prof_rates_real - limit per simulated window as a rate per real second */
double
prof_rates_real(uint32_t limit, enum sim_window w, double scale)
{
	return (double)limit * scale * 1000.0 / (double)sim_window_ms(w);
}

/* prof_rates_flags - window under a real second, rate out of reach */
unsigned
prof_rates_flags(uint32_t limit, enum sim_window w, double scale)
{
	unsigned f = 0;

	if (limit == 0)
		return 0;
	if ((double)sim_window_ms(w) / scale < 1000.0)
		f |= PROF_RATES_SHORT;
	if (prof_rates_real(limit, w, scale) > PROF_RATES_MTA_PER_S)
		f |= PROF_RATES_FAST;
	return f;
}

/* put_cell - one column of a row: padded, but for the last one */
static void
put_cell(const struct rates_walk *rw, int w, const char *text)
{
	if (rw->used >> (w + 1) != 0)
		fprintf(rw->fp, " %-16s", text);
	else
		fprintf(rw->fp, " %s", text);
}

/* fmt_rate - a rate per real second in the unit that keeps it >= 1:
 * "100/s", "2.5/min", "1/h", "0.5/day" */
static void
fmt_rate(char *buf, size_t len, double per_s)
{
	static const struct {
		const char	*unit;
		double		 s;
	} units[] = { { "s", 1 }, { "min", 60 }, { "h", 3600 },
	    { "day", 86400 } };
	size_t i;
	double v = per_s;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		v = per_s * units[i].s;
		if (v >= 1.0 || i + 1 == sizeof(units) / sizeof(units[0]))
			break;
	}
	snprintf(buf, len, v >= 1000.0 ? "%.0f/%s" : "%.3g/%s", v,
	    units[i].unit);
}

/* fmt_span - a real duration in seconds: "16.7 ms", "1 s", "24 min" */
static void
fmt_span(char *buf, size_t len, double s)
{
	if (s < 1.0)
		snprintf(buf, len, "%.3g ms", s * 1000.0);
	else if (s < 60.0)
		snprintf(buf, len, "%.3g s", s);
	else if (s < 3600.0)
		snprintf(buf, len, "%.3g min", s / 60.0);
	else if (s < 86400.0)
		snprintf(buf, len, "%.3g h", s / 3600.0);
	else
		snprintf(buf, len, "%.3g day%s", s / 86400.0,
		    s == 86400.0 ? "" : "s");
}

/* row - one counter (a mapping of windows): collect or print */
static void
row(struct rates_walk *rw, const char *path, const struct prof_lim_key *sub,
    const void *obj)
{
	const struct prof_lim_key *k;
	uint32_t lim[SIM_WIN__COUNT];
	char cell[48], rate[24];
	unsigned f;
	int w, any = 0;

	for (w = 0; w < SIM_WIN__COUNT; w++) {
		k = prof_lim_find(sub, sim_window_name(w));
		lim[w] = k != NULL ? (uint32_t)prof_lim_get_int(k, obj) : 0;
		any |= lim[w] != 0;
	}
	if (!any)
		return;
	if (rw->fp != NULL)
		fprintf(rw->fp, "  %-10s %-26s", rw->prof, path);
	for (w = 0; w < SIM_WIN__COUNT; w++) {
		f = prof_rates_flags(lim[w], w, rw->scale);
		if (rw->fp == NULL) {
			if (lim[w] != 0)
				rw->used |= 1u << w;
			rw->nflag[0] += (f & PROF_RATES_SHORT) != 0;
			rw->nflag[1] += (f & PROF_RATES_FAST) != 0;
			rw->nany += f != 0;
			continue;
		}
		if ((rw->used & (1u << w)) == 0)
			continue;
		fmt_rate(rate, sizeof(rate), prof_rates_real(lim[w], w,
		    rw->scale));
		snprintf(cell, sizeof(cell), "%u = %s%s%s", lim[w], rate,
		    f & PROF_RATES_FAST ? " !" : "",
		    f & PROF_RATES_SHORT ? " <" : "");
		put_cell(rw, w, lim[w] != 0 ? cell : "-");
	}
	if (rw->fp != NULL)
		fputc('\n', rw->fp);
}

/* walk - every counter below a table of keys; @path names @obj */
static void
walk(struct rates_walk *rw, const struct prof_lim_key *keys, const void *obj,
    const char *path)
{
	const struct prof_lim_key *k;
	char sub[RATES_PATH_MAX];

	for (k = keys; k->name != NULL; k++) {
		if (k->type != PROF_LIM_MAP)
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "",
		    k->name);
		if (window_of(k->sub[0].name) >= 0)
			row(rw, sub, k->sub, (const char *)obj + k->off);
		else
			walk(rw, k->sub, (const char *)obj + k->off, sub);
	}
}

/* prof_rates_print - window lengths, the table, the warnings */
size_t
prof_rates_print(FILE *fp, const struct prof_profile *const *profiles,
    size_t nprofiles, double scale)
{
	struct rates_walk rw;
	char span[24];
	size_t i;
	int w;

	memset(&rw, 0, sizeof(rw));
	rw.scale = scale;
	for (i = 0; i < nprofiles; i++) {
		rw.prof = profiles[i]->name;
		walk(&rw, prof_limits_keys, &profiles[i]->limits, "");
	}
	fprintf(fp, "time scale %g (real time of a simulated", scale);
	for (w = 0; w < SIM_WIN__COUNT; w++) {
		fmt_span(span, sizeof(span), (double)sim_window_ms(w) /
		    1000.0 / scale);
		fprintf(fp, "%s %s %s", w == 0 ? "" : ",", sim_window_name(w),
		    span);
	}
	fputs(")\n", fp);
	if (rw.used == 0) {
		fputs("  no rate limits\n", fp);
		return 0;
	}
	fputs("  each limit per simulated window = the rate it allows in "
	    "real time\n", fp);
	fprintf(fp, "  %-10s %-26s", "provider", "counter");
	rw.fp = fp;
	for (w = 0; w < SIM_WIN__COUNT; w++)
		if (rw.used & (1u << w))
			put_cell(&rw, w, sim_window_name(w));
	fputc('\n', fp);
	for (i = 0; i < nprofiles; i++) {
		rw.prof = profiles[i]->name;
		walk(&rw, prof_limits_keys, &profiles[i]->limits, "");
	}
	if (rw.nflag[1] > 0)
		fprintf(fp, "  warning (!): %zu limit%s need%s more than "
		    "%g/s of real time, beyond what one MTA sends one "
		    "provider (simulator choice): not reached at this scale\n",
		    rw.nflag[1], rw.nflag[1] == 1 ? "" : "s",
		    rw.nflag[1] == 1 ? "s" : "", PROF_RATES_MTA_PER_S);
	if (rw.nflag[0] > 0)
		fprintf(fp, "  warning (<): %zu limit%s count%s over a window "
		    "shorter than a second of real time: a burst, not a "
		    "rate\n", rw.nflag[0], rw.nflag[0] == 1 ? "" : "s",
		    rw.nflag[0] == 1 ? "s" : "");
	return rw.nany;
}
