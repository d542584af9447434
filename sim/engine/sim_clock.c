/*
 * DESCRIPTION
 *	Simulated time: a start instant plus the scaled real time elapsed
 *	since, read from CLOCK_MONOTONIC so wall-clock jumps do not move it.
 *
 * DIAGNOSTICS
 *	sim_clock_set() on a running clock panics (abort).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sim_clock.h"

static uint64_t	mono_ns(void);

/* mono_ns - CLOCK_MONOTONIC in nanoseconds */
static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* sim_clock_wall_ms - real Unix time in ms */
uint64_t
sim_clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000ULL + (uint64_t)ts.tv_nsec / 1000000ULL;
}

/* sim_clock_mono_ms - CLOCK_MONOTONIC in ms */
uint64_t
sim_clock_mono_ms(void)
{
	return mono_ns() / 1000000ULL;
}

/* sim_clock_init - start a running clock */
void
sim_clock_init(struct sim_clock *c, uint64_t sim_start_ms, double scale)
{
	c->mono_start_ns = mono_ns();
	c->sim_start_ms = sim_start_ms != 0 ? sim_start_ms : sim_clock_wall_ms();
	c->scale = scale > 0 ? scale : 1.0;
	c->manual = false;
	c->manual_ms = 0;
}

/* sim_clock_init_manual - start a clock that moves only when set */
void
sim_clock_init_manual(struct sim_clock *c, uint64_t ms)
{
	c->mono_start_ns = 0;
	c->sim_start_ms = ms;
	c->scale = 1.0;
	c->manual = true;
	c->manual_ms = ms;
}

/* sim_clock_set - move a manual clock */
void
sim_clock_set(struct sim_clock *c, uint64_t ms)
{
	if (!c->manual)
		abort();
	c->manual_ms = ms;
}

/* sim_clock_now - simulated Unix ms */
uint64_t
sim_clock_now(const struct sim_clock *c)
{
	double elapsed_ms;

	if (c->manual)
		return c->manual_ms;
	elapsed_ms = (double)(mono_ns() - c->mono_start_ns) / 1e6;
	return c->sim_start_ms + (uint64_t)(elapsed_ms * c->scale);
}

/* sim_clock_iso - format Unix ms as ISO 8601 UTC */
char *
sim_clock_iso(uint64_t ms, char *buf, unsigned len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
	return buf;
}
