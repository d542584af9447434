/*
 * @file sim_stats.h
 * Exact reply counters: per profile and reply kind, with the code and
 * enhanced code the profile gave that kind; and mail transactions by
 * outcome (accepted, deferred, refused, abandoned: smtp_session.h defines
 * them), deferred and refused ones per reason, so a refused MAIL with
 * pipelined RCPT and DATA is one refusal (and three replies).  Each
 * worker owns one sim_stats and counts without locks; readers merge
 * them.  Counters are updated with relaxed atomics so a reader (status
 * line, metrics) may sum them while workers run; totals after the
 * workers stop are exact.
 */
#ifndef SIM_STATS_H
#define SIM_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "prof_world.h"
#include "sim_event.h"

#define SIM_STATS_MAX_REASONS	(2 * SIM_RK__COUNT)

/* Transactions of one row that ended deferred or refused for one reason. */
struct sim_stats_reason {
	enum sim_txn_outcome outcome;	/* deferred or refused */
	enum sim_rk	 rk;
	uint64_t	 n;		/* > 0 */
};

/* Totals of one row (a profile, or the "no MX" row). */
struct sim_stats_row {
	uint64_t	 connections;	/* sessions: their one connect-stage reply */
	uint64_t	 messages;	/* messages accepted (250 at EOD) */
	uint64_t	 recipients;	/* recipients of accepted messages */
	uint64_t	 deferred;	/* 4xx replies */
	uint64_t	 rejected;	/* 5xx replies */
	uint64_t	 txn[SIM_TXN__COUNT]; /* transactions by outcome */
};

struct sim_stats {
	size_t		 nprof;		/* rows: profiles, then one "no MX" row */
	uint64_t	*replies;	/* [(nprof + 1) * SIM_RK__COUNT] */
	struct sim_stats_row *rows;	/* [nprof + 1] */
	uint64_t	*txn_reasons;	/* [(row * 2 + d) * SIM_RK__COUNT +
					 * rk], rows 0..nprof; d 0 deferred,
					 * 1 refused */
	uint64_t	 connections;	/* sessions started */
	uint64_t	 messages;	/* messages accepted (250 at EOD) */
	uint64_t	 recipients;	/* recipients of accepted messages */
	uint64_t	 deferred;	/* 4xx replies */
	uint64_t	 rejected;	/* 5xx replies */
	uint64_t	 txn[SIM_TXN__COUNT]; /* transactions by outcome */
};

/** @return zeroed counters for @p nprof profiles, or NULL (no memory). */
struct sim_stats *sim_stats_new(size_t nprof);

/** Free counters; NULL accepted. */
void sim_stats_free(struct sim_stats *s);

/** Count one reply event (owner thread only). */
void sim_stats_event(struct sim_stats *s, const struct sim_event *ev);

/** Count one ended mail transaction (owner thread only). */
void sim_stats_txn(struct sim_stats *s, const struct sim_txn *t);

/** Count one session start (owner thread only). */
void sim_stats_connection(struct sim_stats *s);

/** Zero every counter (the owner's, or a private snapshot's). */
void sim_stats_reset(struct sim_stats *s);

/** Add @p src into @p dst (any thread; reads @p src atomically).  Both
 *  must have the same number of profiles. */
void sim_stats_merge(struct sim_stats *dst, const struct sim_stats *src);

/** @return the count of (profile, kind); prof == nprof is the no-MX row. */
uint64_t sim_stats_get(const struct sim_stats *s, size_t prof, enum sim_rk rk);

/** @return transactions of (profile, outcome, reason); outcome deferred
 *  or refused (others: 0); prof == nprof is the no-MX row. */
uint64_t sim_stats_txn_get(const struct sim_stats *s, size_t prof,
    enum sim_txn_outcome o, enum sim_rk rk);

/** List the non-zero deferred, then refused, reasons of row @p prof (in
 *  reply-kind order) into @p out[SIM_STATS_MAX_REASONS].
 *  @return how many. */
size_t sim_stats_txn_reasons(const struct sim_stats *s, size_t prof,
    struct sim_stats_reason *out);

/** @return the outcome's name: "accepted", "deferred", "refused",
 *  "abandoned". */
const char *sim_stats_outcome_name(enum sim_txn_outcome o);

/** The code and enhanced code ("" for none) a row answers kind @p rk
 *  with: the profile's, or the built-in one on the no-MX row. */
void sim_stats_code(const struct prof_world *w, size_t prof, enum sim_rk rk,
    unsigned *code, const char **enh);

/**
 * Print the per-provider table of replies, the table of transactions
 * (accepted, then deferred and refused per reason, abandoned) and the
 * totals of both.  Rows with a zero count are left out.
 */
void sim_stats_print(const struct sim_stats *s, const struct prof_world *w,
    FILE *fp);

/**
 * Print a one-line notice the first time a (profile, reply kind) answers
 * with a 4xx or 5xx ("mxsim: [sim ...] gmail: first 421 4.7.28 rate.ip
 * (stage eod, client ...)").  Any thread may call it.
 * @param seen  one byte per (profile + 1) x SIM_RK__COUNT, zeroed at start;
 *              set atomically so each notice prints once.
 */
void sim_stats_notice(unsigned char *seen, const struct prof_world *w,
    const struct sim_event *ev, FILE *fp);

/**
 * Remember when each (profile, reply kind) first answered with a 4xx or
 * 5xx: @p first_ms[(row) * SIM_RK__COUNT + rk], 0 until then, set once
 * (atomically) to the event's simulated ms.  Any thread may call it.
 */
void sim_stats_first(uint64_t *first_ms, const struct prof_world *w,
    const struct sim_event *ev);

#endif /* SIM_STATS_H */
