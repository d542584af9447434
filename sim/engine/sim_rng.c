/*
 * DESCRIPTION
 *	xoshiro256** seeded through splitmix64: fast, small, and the same
 *	sequence for the same (seed, stream) on every machine.
 *
 * DIAGNOSTICS
 *	None.
 */
#include "sim_rng.h"

static uint64_t	rotl(uint64_t, int);

/* rotl - rotate left */
static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* sim_mix64 - splitmix64 finalizer */
uint64_t
sim_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* sim_rng_seed - seed a generator from a seed and a stream number */
void
sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = sim_mix64(seed) ^ sim_mix64(stream + 0x51ed270b);
	int i;

	for (i = 0; i < 4; i++) {
		x = sim_mix64(x);
		r->s[i] = x;
	}
	if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
		r->s[0] = 1;
}

/* sim_rng_next - next 64 bits */
uint64_t
sim_rng_next(struct sim_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* sim_rng_below - uniform integer in [0, n) without modulo bias */
uint64_t
sim_rng_below(struct sim_rng *r, uint64_t n)
{
	uint64_t x, lim;

	if (n <= 1)
		return 0;
	lim = -n % n;	/* 2^64 mod n */
	do {
		x = sim_rng_next(r);
	} while (x < lim);
	return x % n;
}

/* sim_rng_double - uniform double in [0, 1) */
double
sim_rng_double(struct sim_rng *r)
{
	return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53;
}
