/* mask.c: masks of the shared missing-modality protocol (gfuse_mask_protocol, `gfuse mask`).
 *
 * Of the n x M (sample, modality) cells, round(rate * n * M) end up hidden (halves to even, as
 * the protocol's Python script rounds). The cells are put in a random order (a Fisher-Yates
 * permutation of the cell numbers i * M + m from the project's generator) and visited once: an
 * observed cell is hidden unless it is the last modality its sample keeps, until the target is
 * reached. Cells the cohort lacks already are part of the count. One pass always reaches any
 * target up to n * M minus the samples that have a modality (each of them keeps exactly one at
 * the end of a full pass). */
#include "cohort/cohort.h"
#include "core/rng.h"
#include "core/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* x rounded to the nearest integer, halves to even: Python's round(), which the protocol's
 * script uses (round(0.5 * 351 * 3) is 526). */
static int64_t round_half_even(double x)
{
    double f = floor(x), d = x - f;
    if (d > 0.5 || (d == 0.5 && fmod(f, 2.0) != 0)) f += 1;
    return (int64_t)f;
}

/* The rate in whole percent, as the protocol's file names write it (mask_r67_s1.csv). */
static int64_t percent_of(double rate) { return round_half_even(100.0 * rate); }

gfuse_status gfuse_mask_protocol(const gfuse_cohort *c, double rate, uint64_t seed,
                                 uint8_t *keep)
{
    GFUSE_CHECK_ARG(c, "cohort must not be NULL");
    GFUSE_CHECK_ARG(keep, "keep must not be NULL");
    GFUSE_CHECK_ARG(rate >= 0 && rate < 1, "the rate must be in [0, 1), got %g", rate);
    const int64_t n = c->n;
    const int M = c->m;
    const int64_t cells = n * (int64_t)M;
    GFUSE_CHECK_ARG(M == 0 || n <= INT64_MAX / M, "the cohort has too many cells for a mask");

    /* keep starts as what the cohort has; count what it lacks and what can still be hidden. */
    int64_t lacking = 0, with_modality = 0;
    for (int64_t i = 0; i < n; i++) {
        int kept = 0;
        for (int m = 0; m < M; m++) {
            uint8_t k = c->mod[m].present[i] ? 1 : 0;
            keep[i * M + m] = k;
            kept += k;
        }
        lacking += M - kept;
        with_modality += kept > 0;
    }
    if (cells == 0) return GFUSE_OK;
    const int64_t reachable = cells - with_modality; /* every sample down to one modality */
    /* rate * n * M in the script's order of operations, so the count agrees to the bit. */
    int64_t target = round_half_even(rate * (double)n * (double)M);
    if (lacking > target)
        return gfuse_i_error(GFUSE_ERR_DATA,
                             "the cohort lacks %lld of its %lld (sample, modality) cells already "
                             "(%.2f%%), more than rate %g hides (%lld cells): use a rate of at "
                             "least %.4f, or a cohort without a --mask",
                             (long long)lacking, (long long)cells,
                             100.0 * (double)lacking / (double)cells, rate, (long long)target,
                             ceil(1e4 * (double)lacking / (double)cells) / 1e4);
    if (target > reachable) {
        /* The highest rate is (M - 1) / M: one modality left per sample. A rate that equals it
         * in whole percent (0.67 for M = 3) means that mask; anything above is an error. */
        double top = (double)reachable / (double)cells;
        if (percent_of(rate) > percent_of(top))
            return gfuse_i_error(GFUSE_ERR_DATA,
                                 "rate %g hides %lld of the %lld (sample, modality) cells, but at "
                                 "most %lld (rate %.4f) can be hidden while every sample keeps "
                                 "one of its %d modalities",
                                 rate, (long long)target, (long long)cells,
                                 (long long)reachable, top, M);
        target = reachable;
    }

    int64_t hidden = lacking;
    if (hidden == target) return GFUSE_OK;
    int64_t *order = gfuse_i_alloc((size_t)cells, sizeof *order);
    int *left = gfuse_i_alloc((size_t)n, sizeof *left); /* modalities each sample still keeps */
    if (!order || !left) {
        free(order);
        free(left);
        return gfuse_i_nomem("the protocol mask");
    }
    for (int64_t i = 0; i < n; i++) {
        int kept = 0;
        for (int m = 0; m < M; m++) kept += keep[i * M + m];
        left[i] = kept;
    }
    for (int64_t k = 0; k < cells; k++) order[k] = k;
    /* The stream is keyed like the protocol's numpy one (seed * 1000 + rate in percent), so
     * two rates of one seed are drawn independently; the generator is gfuse's own. */
    gfuse_i_rng rng;
    gfuse_i_rng_seed(&rng, seed * UINT64_C(1000) + (uint64_t)percent_of(rate));
    gfuse_i_rng_shuffle(&rng, order, cells);
    for (int64_t k = 0; k < cells && hidden < target; k++) {
        int64_t i = order[k] / M;
        if (!keep[order[k]] || left[i] <= 1) continue;
        keep[order[k]] = 0;
        left[i]--;
        hidden++;
    }
    free(order);
    free(left);
    return GFUSE_OK;
}
