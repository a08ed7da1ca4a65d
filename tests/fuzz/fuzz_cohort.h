/*
 * fuzz_cohort.h: the small in-memory cohort the label, split and mask harnesses read their
 * files against: samples s1..s6, modality mod1 (2 features; s5 and s6 lack it) and mod2
 * (1 feature; s1 lacks it), and the checks every cohort must pass after a read.
 */
#ifndef GFUSE_FUZZ_COHORT_H
#define GFUSE_FUZZ_COHORT_H

#include "tests/fuzz/fuzz.h"

#include <math.h>

static inline gfuse_cohort *fuzz_cohort(void)
{
    static const char *const ids[] = {"s1", "s2", "s3", "s4", "s5", "s6"};
    const float x1[] = {1, 2, 3, NAN, 5, 6, 7, 8, NAN, NAN, NAN, NAN};
    const float x2[] = {NAN, 1, 2, 3, 4, 5};
    gfuse_cohort *c = NULL;
    if (gfuse_cohort_new(&c, 6, ids) != GFUSE_OK ||
        gfuse_cohort_add_modality(c, "mod1", 2, NULL, x1) != GFUSE_OK ||
        gfuse_cohort_add_modality(c, "mod2", 1, NULL, x2) != GFUSE_OK) {
        fprintf(stderr, "fuzz: cannot build the cohort: %s\n", gfuse_last_error());
        abort();
    }
    return c;
}

/* Everything the accessors return is in range and readable. */
static inline void fuzz_check_cohort(const gfuse_cohort *c)
{
    int64_t n = gfuse_cohort_n_samples(c);
    int K = gfuse_cohort_n_classes(c), M = gfuse_cohort_n_modalities(c);
    if (n != 6 || M != 2 || K < 0) abort();
    for (int k = 0; k < K; k++) fuzz_touch(gfuse_cohort_class_name(c, k));
    for (int64_t i = 0; i < n; i++) {
        int32_t y = gfuse_cohort_label(c, i);
        if (y < -1 || y >= K) abort();
        (void)gfuse_cohort_target(c, i);
        gfuse_split s = gfuse_cohort_split(c, i);
        if ((int)s < (int)GFUSE_SPLIT_NONE || (int)s > (int)GFUSE_SPLIT_TEST) abort();
        for (int m = 0; m < M; m++) {
            const float *v = gfuse_cohort_values(c, i, m);
            if (gfuse_cohort_has_modality(c, i, m) != (v != NULL)) abort();
            if (v) (void)v[gfuse_cohort_n_features(c, m) - 1];
        }
    }
    for (int64_t k = 0; k < gfuse_cohort_n_warnings(c); k++) fuzz_touch(gfuse_cohort_warning(c, k));
}

/* The end of a read into c: a failure has its message (fuzz_expect), a success leaves a cohort
 * that passes fuzz_check_cohort. Returns 1 after a success. */
static inline int fuzz_cohort_read(const gfuse_cohort *c, gfuse_status st)
{
    fuzz_expect(st);
    if (st != GFUSE_OK) return 0;
    fuzz_check_cohort(c);
    return 1;
}

#endif
