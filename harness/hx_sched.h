/**
 * @file hx_sched.h
 * mxload's retry schedules (--retry): the grammar, the MTA presets and
 * the delay before a message's next attempt.  Pure functions of their
 * input (unit-tested); times are real microseconds.
 *
 *   SCHEDULE := PRESET ['/' FACTOR] | LIST | AGE | RULES
 *   PRESET   := "postfix" | "exim"   (FACTOR > 0 divides every duration)
 *   LIST     := D {',' D} {',' KEY}  the n-th retry waits the n-th D;
 *                                    the last D repeats
 *   AGE      := "min=" D ",max=" D {',' KEY}  Postfix: a retry waits the
 *                                    message's age, clamped to min..max
 *   RULES    := RULE {';' RULE}      Exim: "F,CUTOFF,D" fixed interval,
 *                                    "G,CUTOFF,D,MULT" geometric, each
 *                                    until CUTOFF after the first attempt
 *   KEY      := "lifetime=" D | "run=" D
 *   D        := decimal number with unit ms, s, m, h or d
 *
 * A message that fails temporarily when its age (time since its first
 * attempt) has reached the lifetime expires (Postfix's
 * maximal_queue_lifetime; for RULES the last cutoff).  Default lifetime
 * 5d.  With run=D retries start only at queue scans, every D after the
 * run's start (Postfix's queue_run_delay); a scan takes a retry due up
 * to HX_SCHED_SLACK after it (Postfix compares whole-second time
 * stamps, with one second to spare).
 */
#ifndef HX_SCHED_H
#define HX_SCHED_H

#include <stddef.h>
#include <stdint.h>

#define HX_SCHED_MAX		16	/* delays of a LIST, rules of RULES */
#define HX_SCHED_TEXT_MAX	160	/* hx_sched_format() text, incl. NUL */
#define HX_SCHED_LIFETIME	(5ull * 86400 * 1000000) /* 5d, us */
#define HX_SCHED_SLACK		1000000ull	/* run=: 1 s, us */

/** Which form the schedule has. */
enum hx_sched_kind {
	HX_SCHED_LIST = 0,	/* explicit delays */
	HX_SCHED_AGE,		/* Postfix: age clamped to min..max */
	HX_SCHED_RULES		/* Exim: F and G rules with cutoffs */
};

/** One Exim-like rule: until @c cutoff_us of age, wait @c interval_us
 *  (mult 1: F) or the last delay times @c mult, at least interval (G). */
struct hx_sched_rule {
	uint64_t	 cutoff_us;
	uint64_t	 interval_us;
	double		 mult;
};

/** A parsed schedule; all times in microseconds. */
struct hx_sched {
	enum hx_sched_kind	 kind;
	size_t			 n;		/* delays or rules used */
	uint64_t		 delay_us[HX_SCHED_MAX];	/* LIST */
	struct hx_sched_rule	 rule[HX_SCHED_MAX];	/* RULES */
	uint64_t		 min_us, max_us;	/* AGE */
	uint64_t		 lifetime_us;	/* > 0 */
	uint64_t		 run_us;	/* queue scan period, 0: none */
};

/**
 * Parse a duration "<number><unit>", unit ms, s, m, h or d.
 * @param s  text (whole string)
 * @param us out: microseconds, > 0
 * @return 0; -EINVAL when malformed, zero or above 10 years
 */
int hx_duration_parse(const char *s, uint64_t *us);

/**
 * Parse a --retry value (grammar above).
 * @param s   text
 * @param out out: the schedule
 * @param err out: one-line reason on failure
 * @param errlen size of @p err
 * @return 0; -EINVAL
 */
int hx_sched_parse(const char *s, struct hx_sched *out, char *err,
    size_t errlen);

/**
 * The delay before a message's next attempt.
 * @param s        schedule
 * @param failures temporary failures so far, >= 1
 * @param age_us   time since the message's first attempt
 * @param last_us  the previous delay (0 before the first retry)
 * @return microseconds, > 0
 */
uint64_t hx_sched_delay(const struct hx_sched *s, uint32_t failures,
    uint64_t age_us, uint64_t last_us);

/**
 * When a retry due at @p due_us (run-relative) really starts: the first
 * queue scan (a multiple of s->run_us, not 0) at or after
 * @p due_us - HX_SCHED_SLACK; @p due_us itself without run=.
 * @return run-relative microseconds
 */
uint64_t hx_sched_due(const struct hx_sched *s, uint64_t due_us);

/**
 * @param s      schedule
 * @param age_us time since the message's first attempt
 * @return 1 when a temporary failure now expires the message
 */
int hx_sched_expired(const struct hx_sched *s, uint64_t age_us);

/**
 * Describe the schedule in the grammar's own form, each duration in the
 * largest unit that divides it exactly, else in seconds with three
 * decimals ("min=5s,max=66.667s,lifetime=2h").
 * @return length written (truncated at @p len - 1)
 */
int hx_sched_format(const struct hx_sched *s, char *buf, size_t len);

#endif /* HX_SCHED_H */
