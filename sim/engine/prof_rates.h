/*
 * @file prof_rates.h
 * What the time scale does to a profile's rate limits: each limit over a
 * simulated window (the limits schema's second/minute/hour/day leaves,
 * prof_limits.h) as the rate it allows in real time at a time scale, in
 * a compact table for the start banner and `mxsim --check`.  A limit is
 * flagged when its window lasts under a second of real time, or when
 * reaching it takes more than PROF_RATES_MTA_PER_S messages a real
 * second.  Pure text: nothing here depends on the clock.
 */
#ifndef PROF_RATES_H
#define PROF_RATES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "prof_world.h"

/* Messages a real second one MTA typically delivers to one provider from
 * one IP: a simulator choice (the check behind issue 14 saw Exim send 33
 * a second).  A limit that needs more is out of reach at that scale. */
#define PROF_RATES_MTA_PER_S	50.0

#define PROF_RATES_SHORT	0x1	/* window under 1 s of real time */
#define PROF_RATES_FAST		0x2	/* needs > PROF_RATES_MTA_PER_S */

/** @return the real-time rate (per real second) that @p limit per
 *  simulated window @p w allows at time scale @p scale (> 0). */
double prof_rates_real(uint32_t limit, enum sim_window w, double scale);

/** @return PROF_RATES_* flags of @p limit per window @p w at @p scale;
 *  0 for an unlimited (0) limit. */
unsigned prof_rates_flags(uint32_t limit, enum sim_window w, double scale);

/**
 * Print how long each simulated window lasts in real time, then one row
 * per limited counter of each profile ("gmail  per_ip.messages  minute
 * 100 = 100/s !"), then a warning line per kind of flag raised.
 * @return the number of flagged limits.
 */
size_t prof_rates_print(FILE *fp, const struct prof_profile *const *profiles,
    size_t nprofiles, double scale);

#endif /* PROF_RATES_H */
