/* check_bench.c: the benchmark's parts: the in-memory synthetic cohort against the files
 * gfuse_synth_write writes, the PyG peer's graph recipe (exact kNN, symmetric union, member
 * edges, self loops, valid CSR and transpose), and gfuse_bench_run on both models. */
#include "testutil.h"
#include "graph_check.h"

#include "model/bench.h"
#include "core/internal.h"

#include <math.h>

START_TEST(test_synth_memory_equals_files)
{
    const int64_t nf[2] = {5, 4};
    gfuse_synth_options so;
    gfuse_synth_options_init(&so);
    so.n_samples = 60;
    so.n_modalities = 2;
    so.n_features = nf;
    so.missing_rate = 0.3;
    so.seed = 3;
    ck_assert_int_eq(gfuse_synth_write(tu_path("c"), &so), GFUSE_OK);
    gfuse_cohort_options co;
    gfuse_cohort_options_init(&co);
    co.dir = tu_path("c");
    gfuse_cohort *f = NULL, *m = NULL;
    ck_assert_int_eq(gfuse_cohort_load(&f, &co), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_synth_cohort(&m, &so), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_n_samples(m), gfuse_cohort_n_samples(f));
    ck_assert_int_eq(gfuse_cohort_n_modalities(m), 2);
    ck_assert_int_eq(gfuse_cohort_n_classes(m), gfuse_cohort_n_classes(f));
    for (int k = 0; k < gfuse_cohort_n_classes(m); k++)
        ck_assert_str_eq(gfuse_cohort_class_name(m, k), gfuse_cohort_class_name(f, k));
    for (int64_t i = 0; i < 60; i++) { /* the loader orders samples as the files list them */
        int64_t fi = gfuse_cohort_find_sample(f, gfuse_cohort_sample_id(m, i));
        ck_assert_int_ge(fi, 0);
        ck_assert_int_eq(gfuse_cohort_label(m, i), gfuse_cohort_label(f, fi));
        ck_assert_int_eq(gfuse_cohort_split(m, i), gfuse_cohort_split(f, fi));
        for (int q = 0; q < 2; q++) {
            ck_assert_str_eq(gfuse_cohort_modality_name(m, q), gfuse_cohort_modality_name(f, q));
            ck_assert_int_eq(gfuse_cohort_has_modality(m, i, q),
                             gfuse_cohort_has_modality(f, fi, q));
            const float *a = gfuse_cohort_values(m, i, q), *b = gfuse_cohort_values(f, fi, q);
            if (!a) continue;
            for (int64_t j = 0; j < nf[q]; j++) ck_assert_float_eq(a[j], b[j]);
        }
    }
    gfuse_cohort_free(&f);
    gfuse_cohort_free(&m);
}
END_TEST

/* 1 when g has the edge u -> v. */
static int has_edge(const struct gfuse_graph *g, int64_t u, int64_t v)
{
    for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++)
        if (g->in_src[e] == u) return 1;
    return 0;
}

START_TEST(test_peer_recipe)
{
    const int64_t N = 50, d = 6;
    const int M = 2, k = 4;
    gfuse_i_peer_problem p;
    double graph_s = -1.0;
    ck_assert_int_eq(gfuse_i_peer_problem_make(&p, N, M, d, 3, k, 9, NULL, &graph_s), GFUSE_OK);
    const struct gfuse_graph *g = p.g;
    ck_assert(graph_s >= 0.0);
    ck_assert_int_eq(g->n_nodes, N + N * M);
    ck_assert_int_eq(tu_graph_validate(g), GFUSE_OK);
    ck_assert_int_eq(g->n_edges, p.knn_edges + 2 * N * M + g->n_nodes);
    for (int64_t i = 0; i < N; i++) ck_assert(p.label[i] >= 0 && p.label[i] < 3);
    for (int64_t v = 0; v < g->n_nodes; v++) {
        ck_assert(has_edge(g, v, v));
        for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++) {
            ck_assert_int_eq(g->in_rel[e], 0);
            ck_assert(has_edge(g, v, g->in_src[e])); /* symmetric */
        }
    }
    for (int m = 0; m < M; m++)
        for (int64_t i = 0; i < N; i++) {
            const int64_t v = N + m * N + i;
            ck_assert(has_edge(g, i, v) && has_edge(g, v, i));
            /* the k nearest rows by brute force are all neighbours */
            double dist[50];
            for (int64_t j = 0; j < N; j++) {
                double s = 0.0;
                for (int64_t c = 0; c < d; c++) {
                    double t = (double)p.x[m][i * d + c] - (double)p.x[m][j * d + c];
                    s += t * t;
                }
                dist[j] = j == i ? INFINITY : s;
            }
            for (int t = 0; t < k; t++) {
                int64_t best = 0;
                for (int64_t j = 1; j < N; j++)
                    if (dist[j] < dist[best]) best = j;
                ck_assert_msg(has_edge(g, N + m * N + best, v), "neighbour %d of %lld missing", t,
                              (long long)i);
                dist[best] = INFINITY;
            }
            /* no edge between modalities or from another sample's sample node */
            for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++) {
                int64_t u = g->in_src[e];
                ck_assert(u == i || (u >= N + m * N && u < N + (m + 1) * N));
            }
        }
    gfuse_i_peer_problem_free(&p);
    ck_assert_ptr_null(p.g);
}
END_TEST

/* Bench options for a short run: n samples of nf features, epochs epochs after one warm-up,
 * kernel_reps timings of the GAT kernel. */
static gfuse_bench_options short_bench(int64_t n, int64_t nf, int epochs, int kernel_reps)
{
    gfuse_bench_options o;
    gfuse_bench_options_init(&o);
    o.n_samples = n;
    o.n_features = nf;
    o.epochs = epochs;
    o.warmup = 1;
    o.kernel_reps = kernel_reps;
    return o;
}

START_TEST(test_bench_peer_model)
{
    gfuse_bench_options o = short_bench(80, 12, 4, 1);
    o.like_peer = 1;
    gfuse_bench_result r1, r2;
    ck_assert_int_eq(gfuse_set_threads(1), GFUSE_OK);
    ck_assert_int_eq(gfuse_bench_run(&o, &r1), GFUSE_OK);
    ck_assert_int_eq(gfuse_set_threads(2), GFUSE_OK);
    ck_assert_int_eq(gfuse_bench_run(&o, &r2), GFUSE_OK);
    ck_assert_int_eq(r1.threads, 1);
    ck_assert_int_eq(r2.threads, 2);
    /* results do not depend on the thread count */
    ck_assert(r1.loss_last == r2.loss_last);
    ck_assert(r1.params_digest == r2.params_digest);
    ck_assert(r1.loss_last < r1.loss_first); /* Adam makes progress on the training loss */
    ck_assert_int_eq(r1.nodes, 80 + 3 * 80);
    ck_assert_int_eq(r1.parameters, 64 + 3 * (12 * 64 + 64) + 64 * 64 + 3 * 64 + 2 * 64 + 3 * 2);
    ck_assert(r1.epoch_min_s <= r1.epoch_median_s && r1.epoch_median_s <= r1.epoch_max_s);
    ck_assert(r1.kernel_bytes > 0 && r1.kernel_forward_s > 0);
    gfuse_bench_result_free(&r1);
    gfuse_bench_result_free(&r2);
    ck_assert_ptr_null(r2.epoch_s);
}
END_TEST

START_TEST(test_bench_gfuse_model)
{
    gfuse_bench_options o = short_bench(60, 8, 3, 0);
    o.train.graph_variants = 1;
    gfuse_bench_result r, r2;
    ck_assert_int_eq(gfuse_set_threads(1), GFUSE_OK);
    ck_assert_int_eq(gfuse_bench_run(&o, &r), GFUSE_OK);
    ck_assert_int_eq(gfuse_set_threads(2), GFUSE_OK);
    ck_assert_int_eq(gfuse_bench_run(&o, &r2), GFUSE_OK);
    /* the trained parameters do not depend on the thread count, and training moved them */
    ck_assert(r.params_digest == r2.params_digest);
    o.epochs += 1;
    gfuse_bench_result r3;
    ck_assert_int_eq(gfuse_bench_run(&o, &r3), GFUSE_OK);
    ck_assert(r3.params_digest != r.params_digest);
    gfuse_bench_result_free(&r2);
    gfuse_bench_result_free(&r3);
    ck_assert_int_eq(r.nodes, 60 * 4);
    ck_assert(r.parameters > 0);
    ck_assert(r.setup_s >= r.graph_build_s && r.graph_build_s > 0);
    ck_assert(r.forward_s > 0 && r.backward_s > 0);
    for (int e = 0; e < 4; e++) ck_assert(r.epoch_s[e] > 0);
    ck_assert(isnan(r.kernel_forward_s));
    gfuse_bench_result_free(&r);
}
END_TEST

START_TEST(test_bench_bad_options)
{
    gfuse_bench_options o;
    gfuse_bench_options_init(&o);
    gfuse_bench_result r;
    o.n_samples = 1;
    ck_assert_int_eq(gfuse_bench_run(&o, &r), GFUSE_ERR_ARG);
    ck_assert_ptr_null(r.epoch_s);
    gfuse_bench_options_init(&o);
    o.peer_graph = "x";
    ck_assert_int_eq(gfuse_bench_run(&o, &r), GFUSE_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(gfuse_last_error(), "like_peer"));
    gfuse_bench_options_init(&o);
    o.like_peer = 1;
    o.train.hidden = 10;
    ck_assert_int_eq(gfuse_bench_run(&o, &r), GFUSE_ERR_ARG);
    ck_assert_int_eq(gfuse_bench_run(&o, NULL), GFUSE_ERR_ARG);
}
END_TEST

Suite *bench_suite(void)
{
    Suite *s = suite_create("bench");
    TCase *tc = TU_TCASE(s, "core", tu_tmp_setup, tu_tmp_teardown,
        test_synth_memory_equals_files, test_peer_recipe, test_bench_peer_model,
        test_bench_gfuse_model, test_bench_bad_options);
    tcase_set_timeout(tc, 120);
    return s;
}

int main(void) { return tu_run_suite(bench_suite()); }
