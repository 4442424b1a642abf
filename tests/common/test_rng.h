/* test_rng.h — the deterministic randomness of the test programs
 * (splitmix64: tiny, good enough, and the same on every machine), so a
 * seed names the same inputs in every test and on every run. Header-only. */
#ifndef DRIVE_TEST_RNG_H
#define DRIVE_TEST_RNG_H

#include <stdint.h>

typedef struct rng {
    uint64_t s;
} rng;

static inline uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static inline double rng_unit(rng *r) { return (double)(rng_next(r) >> 11) * 0x1p-53; }

/* Uniform in [0, n), n > 0. */
static inline unsigned rng_below(rng *r, unsigned n) { return (unsigned)(rng_next(r) % n); }

#endif
