/*
 * @file sim_pm.h
 * The Postmaster view (issue 9): what a mailbox provider would show a
 * sender about its mail, aggregated from the replies mxsim sends, per
 * provider x sender domain x simulated day and per provider x client IP
 * x simulated day.  Fed by both backends' event hooks (sim_pm_event());
 * read by the control API (GET /postmaster) and by the exit summary (the
 * seed-placement table).
 *
 * Definitions (each figure can be recomputed from the event log; see
 * README.md, "Placement and the Postmaster view"):
 *  - day: the simulated UTC day of the event's sim_ms.
 *  - an event counts only when its provider is known (prof != UINT32_MAX);
 *    domain rows need a sender domain (not before MAIL, not for <>), IP
 *    rows count every event.
 *  - messages, recipients, complaints: end-of-DATA events with a 2xx
 *    code: their count, the sum of nrcpts, the sum of complaints.
 *  - eod: every end-of-DATA event, whatever its code (accepted and
 *    refused messages); spf/dkim/dmarc_pass: those whose result is pass;
 *    tls: those sent over TLS.  The success rates and the TLS share are
 *    these counts over eod.
 *  - spam rate: complaints / recipients.
 *  - placement[f], seeds[f]: accepted end-of-DATA events with a folder
 *    (placement != 0): their count and the sum of nseeds, per folder.
 *  - errors: every event with a 4xx or 5xx code at any stage, per (code,
 *    enhanced code); SIM_PM_MAX_ERRORS distinct pairs per row, the rest
 *    in errors_other.
 *  - reputation: scores of the events that carry a folder (the event log
 *    writes ip_rep and domain_rep on exactly those lines), rounded to
 *    hundredths as the event log prints them.  The day's value is the
 *    lowest of the day (the worst standing the sender had; scores recover
 *    within hours, so the last one would hide the day's dips), with the
 *    earliest sim_ms it was seen at; neither depends on the order in which
 *    workers report.  IP rows take ip_rep, domain rows domain_rep (when
 *    >= 0).
 *
 * Memory is bounded: at most max_rows rows, fixed at creation, spread
 * over lock stripes by key hash.  An event whose row cannot be created
 * (its stripe is full, or the domain is longer than SIM_PM_DOMAIN_MAX - 1
 * bytes) is counted in sim_pm_overflow() and otherwise ignored.
 * Every function is thread-safe.
 */
#ifndef SIM_PM_H
#define SIM_PM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "prof_world.h"
#include "sim_event.h"
#include "sim_place.h"

#define SIM_PM_DAY_MS		86400000ULL
#define SIM_PM_DOMAIN_MAX	256	/* bytes of a domain, with the NUL */
#define SIM_PM_ENH_MAX		12	/* bytes of an enhanced code + NUL */
#define SIM_PM_MAX_ERRORS	8	/* distinct (code, enhanced) per row */
#define SIM_PM_NO_REP		UINT64_MAX /* no reputation seen that day */

/* What a row is about. */
enum sim_pm_kind {
	SIM_PM_DOMAIN = 0,		/* provider x sender domain x day */
	SIM_PM_IP,			/* provider x client IP x day */
	SIM_PM__KINDS
};

/* Reputation bands, as Postmaster tools show them. */
enum sim_pm_band {
	SIM_PM_BAND_BAD = 0,
	SIM_PM_BAND_LOW,
	SIM_PM_BAND_MEDIUM,
	SIM_PM_BAND_HIGH
};

/* Refusals with one (code, enhanced code). */
struct sim_pm_error {
	uint16_t	 code;
	char		 enhanced[SIM_PM_ENH_MAX]; /* "" when none */
	uint64_t	 count;
};

/* One row: one key, one simulated day. */
struct sim_pm_row {
	/* key */
	uint8_t		 kind;		/* enum sim_pm_kind */
	uint32_t	 prof;		/* profile index */
	uint64_t	 day;		/* sim_ms / SIM_PM_DAY_MS */
	uint32_t	 ip;		/* SIM_PM_IP: client IP, host order */
	char		 domain[SIM_PM_DOMAIN_MAX]; /* SIM_PM_DOMAIN; SIM_PM_IP
					 * of an IPv6 client: its address
					 * in text (ip 0) */
	/* figures (see the file comment) */
	uint64_t	 messages;
	uint64_t	 recipients;
	uint64_t	 complaints;
	uint64_t	 eod;
	uint64_t	 spf_pass;
	uint64_t	 dkim_pass;
	uint64_t	 dmarc_pass;
	uint64_t	 tls;
	uint64_t	 placement[SIM_PLACE_COUNT]; /* [SIM_PLACE_NONE] unused */
	uint64_t	 seeds[SIM_PLACE_COUNT];
	struct sim_pm_error errors[SIM_PM_MAX_ERRORS];
	unsigned	 nerrors;
	uint64_t	 errors_other;	/* refusals beyond SIM_PM_MAX_ERRORS */
	uint64_t	 rep;		/* hundredths; SIM_PM_NO_REP: none */
	uint64_t	 rep_ms;	/* earliest sim_ms of rep that day */
};

/* Which rows sim_pm_rows() returns; zeroed = all. */
struct sim_pm_filter {
	bool		 by_prof;
	uint32_t	 prof;
	bool		 by_day;
	uint64_t	 day;
	const char	*domain;	/* NULL = any; set: domain rows only,
					 * unless ip is set too */
	bool		 by_ip;		/* set: IP rows only, unless domain is
					 * set too */
	uint32_t	 ip;
};

struct sim_pm;

/**
 * Create an empty aggregator.
 * @param max_rows  the bound on rows (rounded up to a multiple of the
 *                  stripe count); 0 = 65536.
 * @return it, or NULL when out of memory.
 */
struct sim_pm *sim_pm_new(size_t max_rows) __attribute__((malloc));

/** Free an aggregator.  NULL accepted. */
void sim_pm_free(struct sim_pm *pm);

/**
 * Count one reply (a backend's event hook calls this for every event).
 * Events that change no figure return at once without a lock.
 */
void sim_pm_event(struct sim_pm *pm, const struct sim_event *ev);

/** @return events that found no row (stripe full or domain too long). */
uint64_t sim_pm_overflow(const struct sim_pm *pm);

/** @return the bound on rows, as rounded by sim_pm_new(). */
size_t sim_pm_max_rows(const struct sim_pm *pm);

/**
 * Copy the rows that match @p f, sorted by kind, provider, domain or IP,
 * then day.
 * @param f    the filter, or NULL for every row.
 * @param out  on success: a malloc()ed array the caller frees (NULL when
 *             no row matches).
 * @return the number of rows (>= 0), or -ENOMEM.
 */
long sim_pm_rows(struct sim_pm *pm, const struct sim_pm_filter *f,
    struct sim_pm_row **out);

/**
 * The band of a score under a profile's reputation thresholds: Bad below
 * block_below, Low below temp_below, Medium below the midpoint of
 * temp_below and max, High from there.
 */
enum sim_pm_band sim_pm_band(const struct prof_reputation *r, double score);

/** @return "High", "Medium", "Low", "Bad" (or "?" out of range). */
const char *sim_pm_band_name(enum sim_pm_band b);

/** @return the score the High band starts at under @p r. */
double sim_pm_high_from(const struct prof_reputation *r);

/**
 * Print the seed-placement table: per provider and sender domain, over
 * all days, seed recipients and their share in inbox, spam and
 * promotions.  Prints nothing when no seed was counted.
 * @param w   names the providers.
 * @return rows printed (>= 0), or -ENOMEM.
 */
long sim_pm_print_seeds(struct sim_pm *pm, const struct prof_world *w,
    FILE *fp);

#endif /* SIM_PM_H */
