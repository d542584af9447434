/**
 * @file hx_tally.h
 * Result bookkeeping for mxload, kept apart from any I/O so it can be
 * unit-tested: a bounded table of reply counts keyed by (target, stage,
 * code, enhanced code) that remembers the first text seen for each key,
 * per-target message outcomes, the end-of-DATA latency histogram (hx_hist.h),
 * and the printers for the final text table and the JSON file.
 *
 * The table is an open-addressing hash of fixed capacity chosen at
 * creation; it never grows.  Keys beyond the capacity are counted in
 * @c dropped and reported, never lost silently.
 */
#ifndef HX_TALLY_H
#define HX_TALLY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "hx_hist.h"

#define HX_TALLY_TEXT_MAX	64	/* text kept per row, incl. NUL */
#define HX_TALLY_ENH_MAX	12	/* enhanced code, incl. NUL */
#define HX_TALLY_SHOW_TEXT	60	/* text column width when printed */


/** SMTP stages, in the order rows are printed. */
enum hx_stage {
	HX_STAGE_CONNECT = 0,	/* TCP connect and the greeting */
	HX_STAGE_EHLO,		/* EHLO, or HELO after an EHLO 5xx */
	HX_STAGE_MAIL,
	HX_STAGE_RCPT,
	HX_STAGE_DATA,		/* the DATA command (354 expected) */
	HX_STAGE_EOD,		/* the reply to the final dot */
	HX_STAGE_RSET,
	HX_STAGE_QUIT,
	HX_STAGE_COUNT
};

/** Final outcome of one attempted message. */
enum hx_outcome {
	HX_OUT_ACCEPTED = 0,	/* 2xx at end of DATA */
	HX_OUT_DEFERRED,	/* first failing reply was 4xx */
	HX_OUT_REJECTED,	/* first failing reply was 5xx */
	HX_OUT_ERROR,		/* refused, reset, timeout, garbage */
	HX_OUT_COUNT
};

/** One counted (target, stage, code, enhanced) key. */
struct hx_row {
	uint64_t	 count;
	uint32_t	 target;		/* index into the name array */
	uint16_t	 code;			/* 0: connection-level error */
	uint8_t		 stage;			/* enum hx_stage */
	uint8_t		 used;			/* slot holds a row */
	char		 enh[HX_TALLY_ENH_MAX];	/* "" when none */
	char		 text[HX_TALLY_TEXT_MAX]; /* first text seen */
};

/** Everything counted during one run. */
struct hx_tally {
	struct hx_row	*rows;		/* cap slots */
	size_t		 cap;		/* power of two */
	size_t		 nrows;		/* used slots, <= cap * 3 / 4 */
	uint64_t	 dropped;	/* adds refused: table full */
	uint64_t	 errors;	/* adds with code 0 */
	size_t		 ntargets;
	uint64_t	(*outcome)[HX_OUT_COUNT]; /* per target */
	uint64_t	 total[HX_OUT_COUNT];
	struct hx_hist	 eod_lat;	/* end-of-DATA latency, us */
};

/** Run-wide numbers the reports print besides the tally. */
struct hx_summary {
	double		 elapsed;	/* seconds */
	uint64_t	 connections;	/* connection attempts */
	uint64_t	 established;	/* of which reached TCP established */
	uint64_t	 aborted;	/* messages started, never finished */
	int		 interrupted;	/* stopped by a signal */
};

/**
 * Create an empty tally.
 * @param ntargets number of targets (row target indexes < ntargets)
 * @param cap      maximum distinct rows; rounded up to a power of two
 *                 of at least 4/3 * cap
 * @return the tally, to be freed with hx_tally_free(); NULL when
 *         ntargets or cap is 0 or memory is short
 */
struct hx_tally *hx_tally_create(size_t ntargets, size_t cap);

/**
 * Free a tally from hx_tally_create().
 * @param t tally, or NULL
 */
void hx_tally_free(struct hx_tally *t);

/**
 * Count one reply (or connection-level error when @p code is 0).
 * @param t      tally
 * @param target target index
 * @param stage  stage the reply answered
 * @param code   3-digit reply code, 0 for connection-level errors
 * @param enh    enhanced code or NULL/"" (truncated to fit)
 * @param text   reply text or error name; copied only for a new row
 * @return 0; -EINVAL for a bad target or stage; -ENOSPC when the table
 *         is full (counted in t->dropped)
 */
int hx_tally_add(struct hx_tally *t, uint32_t target, enum hx_stage stage,
    unsigned code, const char *enh, const char *text);

/**
 * Count one message outcome.
 * @param t       tally
 * @param target  target index (ignored if out of range, totals still count)
 * @param outcome the outcome
 */
void hx_tally_outcome(struct hx_tally *t, uint32_t target,
    enum hx_outcome outcome);

/**
 * @param t tally
 * @return number of message outcomes counted
 */
uint64_t hx_tally_messages(const struct hx_tally *t);

/**
 * @param s stage
 * @return its lower-case name ("eod"), or "?" when out of range
 */
const char *hx_stage_name(enum hx_stage s);

/**
 * Print the summary line, the outcome line, the latency line and the
 * table, rows ordered by target index, stage, code, enhanced code.
 * @param t     tally (rows are sorted in a temporary copy)
 * @param s     run-wide numbers
 * @param names target names, t->ntargets of them
 * @param fp    output stream
 * @return 0; -ENOMEM when the sort copy cannot be allocated; -EIO on a
 *         write error
 */
int hx_tally_print(const struct hx_tally *t, const struct hx_summary *s,
    const char *const *names, FILE *fp);

/**
 * Print the table alone (header line and rows), as hx_tally_print().
 * @param t     tally
 * @param names target names
 * @param fp    output stream
 * @return 0; -ENOMEM; -EIO
 */
int hx_tally_print_rows(const struct hx_tally *t, const char *const *names,
    FILE *fp);

/**
 * The rows as a JSON array of {"target", "stage", "code", "enhanced",
 * "count", "text"}; bytes above 0x7f of a reply are U+0080..U+00FF.
 * @return the array, or NULL (no memory)
 */
json_t *hx_tally_json_rows(const struct hx_tally *t, const char *const *names);

/**
 * The same result as the text report as one JSON object: totals, latency,
 * per-target outcomes and rows (jansson; mxload --json dumps it).
 * @param t     tally
 * @param s     run-wide numbers
 * @param names target names
 * @return the object, or NULL (no memory)
 */
json_t *hx_tally_json(const struct hx_tally *t, const struct hx_summary *s,
    const char *const *names);

/** @return @p v rounded to @p places decimals as a JSON real (as the text
 *  report prints it), or JSON null when not finite. */
json_t *hx_json_fixed(double v, int places);

#endif /* HX_TALLY_H */
