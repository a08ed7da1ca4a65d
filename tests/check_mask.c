/* check_mask.c: masks of the shared missing-modality protocol (gfuse_mask_protocol): exact
 * hidden counts, one modality kept per sample, determinism, cells missing before, errors, and
 * on ../shared/data/rosmap (when GFUSE_SHARED points there) the counts of the shared masks. */
#include "testutil.h"

#include <math.h>

/* A cohort of n samples s0, s1, ... and M modalities of 2 features; sample i lacks modality m
 * when lack is not NULL and lack[i * M + m] is 1. */
static gfuse_cohort *make_cohort(int64_t n, int M, const uint8_t *lack)
{
    char **ids = calloc((size_t)n, sizeof *ids);
    ck_assert_ptr_nonnull(ids);
    for (int64_t i = 0; i < n; i++) {
        ids[i] = malloc(24);
        snprintf(ids[i], 24, "s%lld", (long long)i);
    }
    gfuse_cohort *c = NULL;
    ck_assert_int_eq(gfuse_cohort_new(&c, n, (const char *const *)ids), GFUSE_OK);
    float *x = malloc((size_t)n * 2 * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (int m = 0; m < M; m++) {
        char name[16];
        snprintf(name, sizeof name, "mod%d", m + 1);
        for (int64_t i = 0; i < n; i++) {
            int gone = lack && lack[i * M + m];
            x[2 * i] = gone ? NAN : (float)i;
            x[2 * i + 1] = gone ? NAN : (float)m;
        }
        ck_assert_int_eq(gfuse_cohort_add_modality(c, name, 2, NULL, x), GFUSE_OK);
    }
    free(x);
    for (int64_t i = 0; i < n; i++) free(ids[i]);
    free(ids);
    return c;
}

static int64_t count_hidden(const uint8_t *keep, int64_t cells)
{
    int64_t h = 0;
    for (int64_t k = 0; k < cells; k++) h += keep[k] == 0;
    return h;
}

/* The fewest modalities any sample keeps. */
static int min_kept(const uint8_t *keep, int64_t n, int M)
{
    int lo = M;
    for (int64_t i = 0; i < n; i++) {
        int k = 0;
        for (int m = 0; m < M; m++) k += keep[i * M + m];
        if (k < lo) lo = k;
    }
    return lo;
}

/* Python's round (halves to even) of rate * n * M, what the protocol's script computes. */
static int64_t py_round(double x)
{
    double f = floor(x), d = x - f;
    if (d > 0.5 || (d == 0.5 && fmod(f, 2.0) != 0)) f += 1;
    return (int64_t)f;
}

START_TEST(test_counts)
{
    const int64_t n = 351;
    const int M = 3;
    gfuse_cohort *c = make_cohort(n, M, NULL);
    uint8_t *keep = malloc((size_t)(n * M));
    const double rates[] = {0, 0.1, 0.3, 0.5, 0.6, 0.66};
    for (size_t k = 0; k < sizeof rates / sizeof rates[0]; k++) {
        ck_assert_int_eq(gfuse_mask_protocol(c, rates[k], 1, keep), GFUSE_OK);
        ck_assert_int_eq(count_hidden(keep, n * M), py_round(rates[k] * (double)n * M));
        ck_assert_int_ge(min_kept(keep, n, M), 1);
    }
    /* 0.5 * 1053 = 526.5: halves go to even, as in the shared mask_r50 files */
    ck_assert_int_eq(gfuse_mask_protocol(c, 0.5, 3, keep), GFUSE_OK);
    ck_assert_int_eq(count_hidden(keep, n * M), 526);
    ck_assert_int_eq(gfuse_mask_protocol(c, 0, 3, keep), GFUSE_OK);
    ck_assert_int_eq(count_hidden(keep, n * M), 0);
    free(keep);
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_top_rate_leaves_one)
{
    /* round(0.67 * 351 * 3) = 706 > 702 = 2n: 0.67 is 2/3 in whole percent, every sample keeps
     * exactly one modality; 0.68 asks for more than that and is an error. */
    const int64_t n = 351;
    const int M = 3;
    gfuse_cohort *c = make_cohort(n, M, NULL);
    uint8_t *keep = malloc((size_t)(n * M));
    ck_assert_int_eq(gfuse_mask_protocol(c, 0.67, 2, keep), GFUSE_OK);
    ck_assert_int_eq(count_hidden(keep, n * M), 2 * n);
    for (int64_t i = 0; i < n; i++)
        ck_assert_int_eq(keep[i * M] + keep[i * M + 1] + keep[i * M + 2], 1);
    ck_assert_int_eq(gfuse_mask_protocol(c, 0.68, 2, keep), GFUSE_ERR_DATA);
    ck_assert_ptr_nonnull(strstr(gfuse_last_error(), "0.68"));
    ck_assert_ptr_nonnull(strstr(gfuse_last_error(), "702"));
    ck_assert_int_eq(gfuse_mask_protocol(c, 0.9, 2, keep), GFUSE_ERR_DATA);
    gfuse_cohort_free(&c);

    /* two modalities: 0.5 leaves one each; a small cohort where 0.67 rounds up still works */
    c = make_cohort(50, 2, NULL);
    ck_assert_int_eq(gfuse_mask_protocol(c, 0.5, 1, keep), GFUSE_OK);
    ck_assert_int_eq(count_hidden(keep, 100), 50);
    ck_assert_int_eq(min_kept(keep, 50, 2), 1);
    ck_assert_int_eq(gfuse_mask_protocol(c, 0.6, 1, keep), GFUSE_ERR_DATA);
    gfuse_cohort_free(&c);
    c = make_cohort(50, 3, NULL);
    ck_assert_int_eq(gfuse_mask_protocol(c, 0.67, 1, keep), GFUSE_OK);
    ck_assert_int_eq(count_hidden(keep, 150), 100);
    gfuse_cohort_free(&c);

    /* one modality: nothing can be hidden */
    c = make_cohort(20, 1, NULL);
    ck_assert_int_eq(gfuse_mask_protocol(c, 0, 1, keep), GFUSE_OK);
    ck_assert_int_eq(count_hidden(keep, 20), 0);
    ck_assert_int_eq(gfuse_mask_protocol(c, 0.3, 1, keep), GFUSE_ERR_DATA);
    free(keep);
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_deterministic)
{
    const int64_t n = 200;
    const int M = 4;
    gfuse_cohort *c = make_cohort(n, M, NULL);
    uint8_t *a = malloc((size_t)(n * M)), *b = malloc((size_t)(n * M));
    ck_assert_int_eq(gfuse_mask_protocol(c, 0.3, 7, a), GFUSE_OK);
    gfuse_set_threads(1);
    ck_assert_int_eq(gfuse_mask_protocol(c, 0.3, 7, b), GFUSE_OK);
    ck_assert_mem_eq(a, b, (size_t)(n * M));
    gfuse_set_threads(0);
    ck_assert_int_eq(gfuse_mask_protocol(c, 0.3, 8, b), GFUSE_OK);
    ck_assert_int_eq(count_hidden(b, n * M), count_hidden(a, n * M));
    ck_assert_int_ne(memcmp(a, b, (size_t)(n * M)), 0);
    /* the rate is part of the stream, as in the protocol: 0.3 is not a prefix of 0.5 */
    ck_assert_int_eq(gfuse_mask_protocol(c, 0.5, 7, b), GFUSE_OK);
    ck_assert_int_eq(count_hidden(b, n * M), 400);
    free(a);
    free(b);
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_missing_before)
{
    /* 100 samples, 3 modalities; the first 30 samples lack modality 1, sample 99 lacks 2 and 3 */
    const int64_t n = 100;
    const int M = 3;
    uint8_t lack[300] = {0};
    for (int64_t i = 0; i < 30; i++) lack[i * M] = 1;
    lack[99 * M + 1] = lack[99 * M + 2] = 1;
    gfuse_cohort *c = make_cohort(n, M, lack);
    uint8_t keep[300];
    ck_assert_int_eq(gfuse_mask_protocol(c, 0.2, 5, keep), GFUSE_OK);
    ck_assert_int_eq(count_hidden(keep, n * M), 60);
    for (int k = 0; k < 300; k++)
        if (lack[k]) ck_assert_int_eq(keep[k], 0);
    ck_assert_int_ge(min_kept(keep, n, M), 1);
    ck_assert_int_eq(keep[99 * M], 1); /* its only modality */
    /* exactly as many missing as the rate hides: nothing more */
    ck_assert_int_eq(gfuse_mask_protocol(c, 32.0 / 300, 5, keep), GFUSE_OK);
    ck_assert_int_eq(count_hidden(keep, n * M), 32);
    for (int k = 0; k < 300; k++) ck_assert_int_eq(keep[k], !lack[k]);
    /* more missing than the rate hides */
    ck_assert_int_eq(gfuse_mask_protocol(c, 0.1, 5, keep), GFUSE_ERR_DATA);
    ck_assert_ptr_nonnull(strstr(gfuse_last_error(), "32"));
    ck_assert_int_eq(gfuse_mask_protocol(c, 0, 5, keep), GFUSE_ERR_DATA);
    /* the top rate still leaves every sample one modality */
    ck_assert_int_eq(gfuse_mask_protocol(c, 0.67, 5, keep), GFUSE_OK);
    ck_assert_int_eq(count_hidden(keep, n * M), 200);
    ck_assert_int_eq(min_kept(keep, n, M), 1);

    /* a sample hidden altogether (as a mask file can) counts all its cells and keeps none */
    ck_assert_int_eq(gfuse_cohort_hide(c, 50, 0), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_hide(c, 50, 1), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_hide(c, 50, 2), GFUSE_OK);
    ck_assert_int_eq(gfuse_mask_protocol(c, 0.3, 5, keep), GFUSE_OK);
    ck_assert_int_eq(count_hidden(keep, n * M), 90);
    ck_assert_int_eq(keep[150] + keep[151] + keep[152], 0);
    ck_assert_int_eq(gfuse_mask_protocol(c, 0.67, 5, keep), GFUSE_OK);
    ck_assert_int_eq(count_hidden(keep, n * M), 201);
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_errors)
{
    gfuse_cohort *c = make_cohort(10, 3, NULL);
    uint8_t keep[30];
    ck_assert_int_eq(gfuse_mask_protocol(c, -0.1, 1, keep), GFUSE_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(gfuse_last_error(), "-0.1"));
    ck_assert_int_eq(gfuse_mask_protocol(c, 1, 1, keep), GFUSE_ERR_ARG);
    ck_assert_int_eq(gfuse_mask_protocol(c, 1.5, 1, keep), GFUSE_ERR_ARG);
    ck_assert_int_eq(gfuse_mask_protocol(c, NAN, 1, keep), GFUSE_ERR_ARG);
    ck_assert_int_eq(gfuse_mask_protocol(NULL, 0.1, 1, keep), GFUSE_ERR_ARG);
    ck_assert_int_eq(gfuse_mask_protocol(c, 0.1, 1, NULL), GFUSE_ERR_ARG);
    gfuse_cohort_free(&c);
    /* a cohort with no modality has no cells: nothing to hide, no error */
    c = make_cohort(4, 0, NULL);
    ck_assert_int_eq(gfuse_mask_protocol(c, 0.5, 1, keep), GFUSE_OK);
    gfuse_cohort_free(&c);
}
END_TEST

/* The shared masks' counts: the cells differ (numpy's generator), the number hidden does not. */
START_TEST(test_rosmap_counts)
{
    const char *dir = tu_shared_data("rosmap");
    if (!dir) return;
    gfuse_cohort_options co;
    gfuse_cohort_options_init(&co);
    co.dir = dir;
    gfuse_cohort *c = NULL;
    ck_assert_msg(gfuse_cohort_load(&c, &co) == GFUSE_OK, "%s", gfuse_last_error());
    int64_t n = gfuse_cohort_n_samples(c);
    int M = gfuse_cohort_n_modalities(c);
    ck_assert_int_eq(n * M, 1053);
    uint8_t *keep = malloc((size_t)(n * M));
    const int rates[] = {10, 30, 50, 67};
    for (int r = 0; r < 4; r++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/mask_r%02d_s1.csv", dir, rates[r]);
        gfuse_cohort_options mo = co;
        mo.mask_file = path;
        gfuse_cohort *masked = NULL;
        ck_assert_msg(gfuse_cohort_load(&masked, &mo) == GFUSE_OK, "%s", gfuse_last_error());
        int64_t shared = 0;
        for (int64_t i = 0; i < n; i++)
            for (int m = 0; m < M; m++) shared += !gfuse_cohort_has_modality(masked, i, m);
        gfuse_cohort_free(&masked);
        for (uint64_t seed = 1; seed <= 5; seed++) {
            ck_assert_int_eq(gfuse_mask_protocol(c, rates[r] / 100.0, seed, keep), GFUSE_OK);
            ck_assert_int_eq(count_hidden(keep, n * M), shared);
            ck_assert_int_ge(min_kept(keep, n, M), 1);
        }
    }
    free(keep);
    gfuse_cohort_free(&c);
}
END_TEST

Suite *mask_suite(void)
{
    Suite *s = suite_create("mask");
    TU_TCASE(s, "protocol", NULL, NULL, test_counts, test_top_rate_leaves_one,
             test_deterministic, test_missing_before, test_errors);
    TCase *tc = TU_TCASE(s, "rosmap", NULL, NULL, test_rosmap_counts);
    tcase_set_timeout(tc, 120);
    return s;
}

int main(void) { return tu_run_suite(mask_suite()); }
