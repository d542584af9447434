/*
 * @file sim_clock.h
 * Simulated time: start + scale x (real time elapsed since start), in Unix
 * milliseconds.  A scale of 1440 makes a simulated day last one real
 * minute.  A clock can also be put in manual mode, where it only moves when
 * told (tests, replay).  Reading the clock is thread-safe; changing a
 * manual clock is not.
 */
#ifndef SIM_CLOCK_H
#define SIM_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct sim_clock {
	uint64_t	 mono_start_ns;	/* CLOCK_MONOTONIC at init */
	uint64_t	 sim_start_ms;	/* simulated Unix ms at init */
	double		 scale;		/* simulated seconds per real second */
	bool		 manual;	/* true: only sim_clock_set() moves it */
	uint64_t	 manual_ms;	/* current time in manual mode */
};

/**
 * Start a running clock.
 * @param sim_start_ms  simulated Unix ms now; 0 means the real wall time.
 * @param scale         > 0.
 */
void sim_clock_init(struct sim_clock *c, uint64_t sim_start_ms, double scale);

/** Start a manual clock at @p ms; it moves only with sim_clock_set(). */
void sim_clock_init_manual(struct sim_clock *c, uint64_t ms);

/** Set a manual clock (panics on a running clock). */
void sim_clock_set(struct sim_clock *c, uint64_t ms);

/** @return simulated Unix milliseconds now. */
uint64_t sim_clock_now(const struct sim_clock *c);

/** @return real wall-clock Unix milliseconds now. */
uint64_t sim_clock_wall_ms(void);

/** @return CLOCK_MONOTONIC in milliseconds. */
uint64_t sim_clock_mono_ms(void);

/** Format Unix ms as ISO 8601 UTC ("2026-11-23T18:31:09.123Z").
 *  @return @p buf (at least 25 bytes). */
char *sim_clock_iso(uint64_t ms, char *buf, unsigned len);

#endif /* SIM_CLOCK_H */
