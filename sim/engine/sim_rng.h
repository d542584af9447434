/*
 * @file sim_rng.h
 * Seeded pseudo-random numbers (xoshiro256**, seeded through splitmix64).
 * Every random choice of the engine comes from one of these, derived from
 * the scenario seed, so a run replays.  Never rand().
 */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <stdint.h>

struct sim_rng {
	uint64_t	 s[4];
};

/** Seed @p r from @p seed and a stream number (worker index, ...). */
void sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t stream);

/** @return the next 64 random bits. */
uint64_t sim_rng_next(struct sim_rng *r);

/** @return a uniform integer in [0, n); n > 0. */
uint64_t sim_rng_below(struct sim_rng *r, uint64_t n);

/** @return a uniform double in [0, 1). */
double sim_rng_double(struct sim_rng *r);

/** @return splitmix64 of @p x: a fast 64-bit mixing hash. */
uint64_t sim_mix64(uint64_t x);

#endif /* SIM_RNG_H */
