/* check_view.c: the neutral data view (core/view.h): the standardiser against the two plain
 * loops it stands for (to the bit, on data where summation order shows), a cohort's view, and
 * the graph of a model sample set's view against the graph of the same data as a cohort. */
#include "cohort/cohort.h"
#include "core/rng.h"
#include "core/util.h"
#include "core/view.h"
#include "graph/graph.h"
#include "model/model.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Values of very different magnitudes, so that a different summation order changes bits. */
static float wild(gfuse_i_rng *rng)
{
    double u = gfuse_i_rng_uniform(rng);
    if (u < 0.15) return NAN;
    if (u < 0.4) return (float)(1e9 * gfuse_i_rng_normal(rng));
    if (u < 0.7) return (float)(1e-6 * gfuse_i_rng_normal(rng));
    return (float)(gfuse_i_rng_normal(rng) - 11.0);
}

/* The per-feature loop over samples in order (sum, then squared deviations). */
static void stats_by_feature(const gfuse_i_view *v, int m, const uint8_t *sel, double *mean,
                             double *sd)
{
    int64_t d = v->d[m];
    for (int64_t f = 0; f < d; f++) {
        double sum = 0.0, ss = 0.0;
        int64_t cnt = 0;
        for (int64_t i = 0; i < v->n; i++) {
            double x = gfuse_i_view_row(v, m, i)[f];
            if (!v->has[(int64_t)m * v->n + i] || (sel && !sel[i]) || x != x) continue;
            sum += x;
            cnt++;
        }
        double mu = cnt > 0 ? sum / (double)cnt : 0.0;
        for (int64_t i = 0; i < v->n; i++) {
            double x = gfuse_i_view_row(v, m, i)[f];
            if (!v->has[(int64_t)m * v->n + i] || (sel && !sel[i]) || x != x) continue;
            ss += (x - mu) * (x - mu);
        }
        mean[f] = mu;
        sd[f] = cnt > 0 ? sqrt(ss / (double)cnt) : 0.0;
    }
}

/* The same sums taken in reverse sample order: must differ somewhere on wild data, or the
 * comparison above proves nothing about order. */
static double reverse_mean(const gfuse_i_view *v, int m, int64_t f)
{
    double sum = 0.0;
    int64_t cnt = 0;
    for (int64_t i = v->n - 1; i >= 0; i--) {
        double x = gfuse_i_view_row(v, m, i)[f];
        if (!v->has[(int64_t)m * v->n + i] || x != x) continue;
        sum += x;
        cnt++;
    }
    return cnt > 0 ? sum / (double)cnt : 0.0;
}

START_TEST(test_standardiser_order)
{
    gfuse_i_rng rng;
    gfuse_i_rng_seed(&rng, 41 + (uint64_t)_i);
    const int64_t n = 300 + 59 * _i;
    const int M = 2;
    int64_t d[2] = {5, 9};
    float *x[2];
    int64_t *row[2];
    uint8_t *has = malloc((size_t)(n * M));
    uint8_t *sel = malloc((size_t)n);
    for (int m = 0; m < M; m++) {
        /* rows stored in a scrambled order behind a row map */
        x[m] = malloc((size_t)(n * d[m]) * sizeof(float));
        row[m] = malloc((size_t)n * sizeof(int64_t));
        for (int64_t i = 0; i < n; i++) row[m][i] = (i * 7 + m) % n;
        for (int64_t t = 0; t < n * d[m]; t++) x[m][t] = wild(&rng);
        for (int64_t i = 0; i < n; i++) has[(int64_t)m * n + i] = gfuse_i_rng_uniform(&rng) < 0.8;
    }
    for (int64_t i = 0; i < n; i++) sel[i] = i % 3 != 1;
    /* n and 7 share no factor for these n, so row[m] is a permutation */
    gfuse_i_view v = {.n = n, .M = M, .d = d, .x = (const float *const *)x,
                      .row = (const int64_t *const *)row, .has = has};
    int order_shows = 0;
    for (int m = 0; m < M; m++) {
        double a_mu[9], a_sd[9], b_mu[9], b_sd[9];
        for (int pass = 0; pass < 2; pass++) {
            const uint8_t *s = pass ? sel : NULL;
            ck_assert_int_eq(gfuse_i_view_stats(&v, m, s, a_mu, a_sd), 0);
            stats_by_feature(&v, m, s, b_mu, b_sd);
            ck_assert_mem_eq(a_mu, b_mu, (size_t)d[m] * sizeof(double));
            ck_assert_mem_eq(a_sd, b_sd, (size_t)d[m] * sizeof(double));
            if (!s)
                for (int64_t f = 0; f < d[m]; f++) order_shows |= reverse_mean(&v, m, f) != a_mu[f];
        }
    }
    ck_assert(order_shows);
    /* a modality no sample has: mean 0, sd 0 */
    memset(has, 0, (size_t)n);
    double mu[5], sdv[5];
    ck_assert_int_eq(gfuse_i_view_stats(&v, 0, NULL, mu, sdv), 0);
    for (int f = 0; f < 5; f++) ck_assert(mu[f] == 0.0 && sdv[f] == 0.0);
    for (int m = 0; m < M; m++) {
        free(x[m]);
        free(row[m]);
    }
    free(has);
    free(sel);
}
END_TEST

/* A cohort's view borrows the value matrices and row maps; presence is present-and-has-a-row in
 * the modality-major layout, hidden modalities and empty rows absent. */
START_TEST(test_cohort_view)
{
    const char *ids[] = {"a", "b", "c", "d"};
    gfuse_cohort *c = NULL;
    ck_assert_int_eq(gfuse_cohort_new(&c, 4, ids), GFUSE_OK);
    const float x1[] = {1, 2, NAN, NAN, 5, 6, 7, NAN};
    const float x2[] = {1, 2, 3, 4};
    ck_assert_int_eq(gfuse_cohort_add_modality(c, "one", 2, NULL, x1), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_add_modality(c, "two", 1, NULL, x2), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_hide(c, 2, 1), GFUSE_OK);
    gfuse_i_view v;
    ck_assert_int_eq(gfuse_i_cohort_view(&v, c), GFUSE_OK);
    ck_assert_int_eq(v.n, 4);
    ck_assert_int_eq(v.M, 2);
    const uint8_t want[] = {1, 0, 1, 1, 1, 1, 0, 1};
    ck_assert_mem_eq(v.has, want, sizeof want);
    for (int m = 0; m < 2; m++) {
        ck_assert_int_eq(v.d[m], c->mod[m].d);
        ck_assert_ptr_eq(v.x[m], c->mod[m].x);
        ck_assert_ptr_eq(v.row[m], c->mod[m].row);
    }
    ck_assert_str_eq(v.id[3], "d");
    ck_assert(gfuse_i_view_row(&v, 0, 3)[0] == 7.0f);
    gfuse_i_view_release(&v);
    ck_assert_ptr_null(v.has);
    gfuse_cohort_free(&c);
}
END_TEST

static void graphs_equal(const struct gfuse_graph *a, const struct gfuse_graph *b)
{
    ck_assert_int_eq(a->n_nodes, b->n_nodes);
    ck_assert_int_eq(a->n_edges, b->n_edges);
    ck_assert_mem_eq(a->observed, b->observed, (size_t)a->n_nodes);
    ck_assert_mem_eq(a->in_ptr, b->in_ptr, (size_t)(a->n_nodes + 1) * sizeof(int64_t));
    ck_assert_mem_eq(a->in_src, b->in_src, (size_t)a->n_edges * sizeof(int64_t));
    ck_assert_mem_eq(a->in_rel, b->in_rel, (size_t)a->n_edges);
    ck_assert_mem_eq(a->in_w, b->in_w, (size_t)a->n_edges * sizeof(float));
}

/* The model's sample-set graph (its view, hidden nodes left out) is the cohort graph of the same
 * values with the hidden rows blanked. */
START_TEST(test_samples_graph_matches_cohort)
{
    gfuse_i_rng rng;
    gfuse_i_rng_seed(&rng, 9);
    const int64_t n = 90;
    const int M = 3;
    const int64_t d[3] = {4, 7, 2};
    gfuse_i_samples s;
    ck_assert_int_eq(gfuse_i_samples_alloc(&s, n, M, d), GFUSE_OK);
    uint8_t *hidden = calloc((size_t)(n * M), 1);
    char name[16];
    for (int64_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "s%lld", (long long)i);
        s.id[i] = gfuse_i_strdup(name);
    }
    for (int m = 0; m < M; m++)
        for (int64_t i = 0; i < n; i++) {
            int64_t v = (int64_t)m * n + i;
            s.has[v] = gfuse_i_rng_uniform(&rng) < 0.75 || m == (int)(i % M);
            hidden[v] = s.has[v] && gfuse_i_rng_uniform(&rng) < 0.1;
            if (!s.has[v]) continue;
            for (int64_t f = 0; f < d[m]; f++)
                s.x[m][i * d[m] + f] = (float)(gfuse_i_rng_normal(&rng) + (double)(i % 5));
        }
    gfuse_cohort *c = NULL;
    ck_assert_int_eq(gfuse_cohort_new(&c, n, (const char *const *)s.id), GFUSE_OK);
    const char *names[] = {"m1", "m2", "m3"};
    for (int m = 0; m < M; m++) {
        float *vals = malloc((size_t)(n * d[m]) * sizeof(float));
        memcpy(vals, s.x[m], (size_t)(n * d[m]) * sizeof(float));
        for (int64_t i = 0; i < n; i++)
            if (hidden[(int64_t)m * n + i])
                for (int64_t f = 0; f < d[m]; f++) vals[i * d[m] + f] = NAN;
        ck_assert_int_eq(gfuse_cohort_add_modality(c, names[m], d[m], NULL, vals), GFUSE_OK);
        free(vals);
    }
    gfuse_graph_options o;
    gfuse_graph_options_init(&o);
    o.k = 4;
    struct gfuse_graph *a = NULL, *b = NULL;
    ck_assert_int_eq(gfuse_i_samples_graph(&a, &s, hidden, NULL, 4), GFUSE_OK);
    ck_assert_int_eq(gfuse_graph_build(&b, c, &o), GFUSE_OK);
    graphs_equal(a, b);
    gfuse_graph_free(&a);
    gfuse_graph_free(&b);
    gfuse_cohort_free(&c);
    free(hidden);
    gfuse_i_samples_free(&s);
}
END_TEST

static Suite *view_suite(void)
{
    Suite *s = suite_create("view");
    TCase *t = tcase_create("view");
    tcase_add_loop_test(t, test_standardiser_order, 0, 3);
    tcase_add_test(t, test_cohort_view);
    tcase_add_test(t, test_samples_graph_matches_cohort);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(view_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
