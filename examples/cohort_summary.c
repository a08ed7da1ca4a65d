/*
 * cohort_summary.c: a small program that embeds libgfuse. It loads a cohort folder (and an
 * optional mask), then prints, per modality, how many samples of each class have it and the
 * class means of its first feature, and the missing-modality patterns.
 *
 * Build against an installed gfuse:  cc cohort_summary.c $(pkg-config --cflags --libs gfuse)
 * Run:                               ./cohort_summary data/example [mask.csv]
 */
#include <gfuse.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int summarise(const gfuse_cohort *c)
{
    int64_t n = gfuse_cohort_n_samples(c);
    int M = gfuse_cohort_n_modalities(c);
    int K = gfuse_cohort_n_classes(c);
    printf("%lld samples, %d modalities, %d classes\n", (long long)n, M, K);

    double *sum = calloc((size_t)K + 1, sizeof *sum);
    int64_t *count = calloc((size_t)K + 1, sizeof *count);
    if (!sum || !count) {
        free(sum);
        free(count);
        return 1;
    }
    for (int m = 0; m < M; m++) {
        for (int k = 0; k <= K; k++) sum[k] = 0, count[k] = 0;
        for (int64_t i = 0; i < n; i++) {
            const float *x = gfuse_cohort_values(c, i, m); /* NULL when the sample lacks m */
            if (!x || isnan(x[0])) continue;
            int32_t y = gfuse_cohort_label(c, i);
            int k = y >= 0 ? y : K; /* the last slot collects unlabelled samples */
            sum[k] += x[0];
            count[k]++;
        }
        printf("%s (%lld features, first \"%s\"):\n", gfuse_cohort_modality_name(c, m),
               (long long)gfuse_cohort_n_features(c, m), gfuse_cohort_feature_name(c, m, 0));
        for (int k = 0; k <= K; k++) {
            if (k == K && count[k] == 0) continue;
            printf("  %-12s %6lld samples, mean %.4f\n",
                   k < K ? gfuse_cohort_class_name(c, k) : "(unlabelled)", (long long)count[k],
                   count[k] ? sum[k] / (double)count[k] : NAN);
        }
    }
    free(sum);
    free(count);

    gfuse_patterns p;
    if (gfuse_cohort_patterns(c, &p) != GFUSE_OK) return 1;
    printf("patterns (present modalities: count):\n");
    for (int64_t t = 0; t < p.n_patterns; t++) {
        printf("  ");
        for (int m = 0; m < M; m++)
            if ((p.pattern[t] >> m) & 1) printf("%s ", gfuse_cohort_modality_name(c, m));
        printf(": %lld\n", (long long)p.count[t]);
    }
    gfuse_patterns_free(&p);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s COHORT_DIR [MASK_FILE]\n", argv[0]);
        return 2;
    }
    if (gfuse_init() != GFUSE_OK) {
        fprintf(stderr, "%s\n", gfuse_last_error());
        return 1;
    }
    gfuse_cohort_options co;
    gfuse_cohort_options_init(&co);
    co.dir = argv[1];
    co.mask_file = argc > 2 ? argv[2] : NULL;
    gfuse_cohort *cohort = NULL;
    gfuse_status st = gfuse_cohort_load(&cohort, &co);
    int rc;
    if (st != GFUSE_OK) {
        fprintf(stderr, "%s: %s\n", argv[0], gfuse_last_error());
        rc = st == GFUSE_ERR_DATA ? 3 : 1;
    } else {
        for (int64_t k = 0; k < gfuse_cohort_n_warnings(cohort); k++)
            fprintf(stderr, "warning: %s\n", gfuse_cohort_warning(cohort, k));
        rc = summarise(cohort);
    }
    gfuse_cohort_free(&cohort);
    gfuse_finalize();
    return rc;
}
