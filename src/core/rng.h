/* rng.h: a small, fast, seedable random generator (xoshiro256** seeded by splitmix64).
 * Every random choice in gfuse goes through it, so a seed reproduces a run exactly. */
#ifndef GFUSE_RNG_H
#define GFUSE_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} gfuse_i_rng;

void gfuse_i_rng_seed(gfuse_i_rng *r, uint64_t seed);
/* An independent stream derived from (seed, stream): for per-thread or per-purpose generators. */
void gfuse_i_rng_seed_stream(gfuse_i_rng *r, uint64_t seed, uint64_t stream);
uint64_t gfuse_i_rng_u64(gfuse_i_rng *r);
/* Uniform in [0, 1). */
double gfuse_i_rng_uniform(gfuse_i_rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t gfuse_i_rng_below(gfuse_i_rng *r, uint64_t n);
/* Standard normal (Box-Muller, no cached second value so the stream is position-independent). */
double gfuse_i_rng_normal(gfuse_i_rng *r);
/* Fisher-Yates shuffle of n int64 values. */
void gfuse_i_rng_shuffle(gfuse_i_rng *r, int64_t *a, int64_t n);

#endif
