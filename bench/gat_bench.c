/* gat_bench.c: times the GAT kernels (src/nn/gat.c) against their serial twins and across thread
 * counts, on a random graph of gfuse's shape: N samples, M modalities and N hubs, a self loop on
 * every node, member edges between each modality node and its hub, and k knn in-edges per
 * modality node from random observed nodes of the same modality (a fraction of the modality
 * nodes missing: they receive knn edges but send none).
 *
 *   make bench/gat_bench && ./bench/gat_bench [N] [heads] [head width] [reps] [attention dropout]
 *
 * Prints one JSON object per line: graph sizes, then per thread count the median forward and
 * backward times, the twins' times, and whether the outputs equal those of one thread.
 *
 * With --peer STEM (the graph ../shared/bench/peer_pyg.py --export-dir wrote for N samples) or
 * --peer - (the same recipe built here: M = 3, k = 10, 200 features), the fused GAT kernels instead
 * run on the PyG peer's graph at the current thread count, beside the plain aggregation product
 * out = A . H at the same width F = heads x head width: GraphBLAS GrB_mxm (PLUS_TIMES, FP32) on the
 * graph's CSR handed over without a copy, and gfuse's own SpMM kernel; A's weights are the
 * attention of head 0, so all three aggregate the same neighbourhoods with the same weights. The
 * kernels take turns within every repetition. Built without GraphBLAS, the GrB_mxm comparison is
 * skipped with a message on stderr and its fields are null.
 *
 *   ./bench/gat_bench --peer STEM|- N [heads] [head width] [reps]
 *
 * prints one JSON object (kind "race") with the median times, their ratios and the achieved
 * bandwidths (bytes each call must move at least, over its median time). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/bench.h"
#include "nn/gat.h"
#include "graph/graph.h"
#include "tests/grb_ref.h"
#include "core/rng.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "gat_bench: out of memory\n");
        exit(1);
    }
    return p;
}

/* Edges are generated destination by destination with ascending sources, as graph/graph.h wants. */
static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void make_graph(struct gfuse_graph *g, int64_t N, int M, int k, double missing,
                       uint64_t seed)
{
    gfuse_i_rng r;
    gfuse_i_rng_seed(&r, seed);
    memset(g, 0, sizeof *g);
    g->n_samples = N;
    g->n_mod = M;
    g->k = k;
    const int64_t V = g->n_nodes = N * (M + 1);
    g->observed = xcalloc((size_t)V, 1);
    for (int64_t v = 0; v < V; v++)
        g->observed[v] = v >= (int64_t)M * N || gfuse_i_rng_uniform(&r) >= missing;
    const int64_t cap = V * (k + 2) + N * M;
    int64_t *src = xcalloc((size_t)cap, sizeof(int64_t));
    uint8_t *rel = xcalloc((size_t)cap, 1);
    g->in_ptr = xcalloc((size_t)V + 1, sizeof(int64_t));
    int64_t E = 0, row[64 + 2];
    uint8_t rrow[64 + 2];
    for (int64_t v = 0; v < V; v++) {
        int n = 0;
        row[n] = v;
        rrow[n++] = GFUSE_I_REL_SELF;
        if (v >= (int64_t)M * N) {
            int64_t i = v - (int64_t)M * N;
            for (int m = 0; m < M && n < 64; m++)
                if (g->observed[m * N + i]) {
                    row[n] = m * N + i;
                    rrow[n++] = GFUSE_I_REL_MEMBER;
                }
        } else {
            int m = (int)(v / N);
            int64_t i = v % N;
            row[n] = (int64_t)M * N + i;
            rrow[n++] = GFUSE_I_REL_MEMBER;
            for (int t = 0; t < k && n < 64; t++) {
                int64_t j = (int64_t)gfuse_i_rng_below(&r, (uint64_t)N), u = m * N + j;
                int dup = j == i || !g->observed[u];
                for (int q = 0; q < n && !dup; q++) dup = row[q] == u;
                if (dup) continue;
                row[n] = u;
                rrow[n++] = GFUSE_I_REL_KNN;
            }
        }
        /* sort the row by source, carrying relations */
        int64_t key[64 + 2];
        for (int q = 0; q < n; q++) key[q] = row[q] * 4 + rrow[q];
        qsort(key, (size_t)n, sizeof(int64_t), cmp_i64);
        for (int q = 0; q < n; q++) {
            src[E] = key[q] / 4;
            rel[E++] = (uint8_t)(key[q] % 4);
        }
        g->in_ptr[v + 1] = E;
    }
    g->n_edges = E;
    g->in_src = src;
    g->in_rel = rel;
    g->in_w = xcalloc((size_t)E, sizeof(float));
    g->out_ptr = xcalloc((size_t)V + 1, sizeof(int64_t));
    g->out_dst = xcalloc((size_t)E, sizeof(int64_t));
    g->out_eid = xcalloc((size_t)E, sizeof(int64_t));
    int64_t *fill = xcalloc((size_t)V, sizeof(int64_t));
    for (int64_t e = 0; e < E; e++) g->out_ptr[src[e] + 1]++;
    for (int64_t v = 0; v < V; v++) g->out_ptr[v + 1] += g->out_ptr[v];
    for (int64_t v = 0; v < V; v++)
        for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++) {
            int64_t o = g->out_ptr[src[e]] + fill[src[e]]++;
            g->out_dst[o] = v;
            g->out_eid[o] = e;
        }
    free(fill);
}

static void fill_normal(float *x, int64_t n, float scale, gfuse_i_rng *r)
{
    for (int64_t t = 0; t < n; t++) x[t] = scale * (float)gfuse_i_rng_normal(r);
}

static double median_of(double *t, int reps)
{
    qsort(t, (size_t)reps, sizeof(double), cmp_double);
    return t[reps / 2];
}

/* Whether GraphBLAS has not failed so far (always true without it). */
#if HAVE_GRAPHBLAS
#define GRB_OK (info == GrB_SUCCESS)
#else
#define GRB_OK 1
#endif

/* A JSON number, or null where GraphBLAS is absent (the GrB_mxm fields). */
static const char *grb_num(char *buf, size_t size, const char *fmt, double x)
{
#if HAVE_GRAPHBLAS
    snprintf(buf, size, fmt, x);
#else
    (void)fmt;
    (void)x;
    snprintf(buf, size, "null");
#endif
    return buf;
}

static int fail(const char *what, gfuse_status st)
{
    fprintf(stderr, "gat_bench: %s: %s\n", what, gfuse_last_error());
    return st == GFUSE_ERR_ARG ? 2 : 1;
}

/* The fused GAT kernels beside GrB_mxm and gfuse's SpMM on the peer's graph (see the top). */
static int race(const char *stem, int64_t N, int H, int D, int reps)
{
    const int M = 3, k = 10, F = H * D;
    gfuse_status st = gfuse_init();
    if (st == GFUSE_OK) st = gfuse_set_threads(omp_get_max_threads());
    if (st != GFUSE_OK) return fail("gfuse_init", st);
    gfuse_i_peer_problem p;
    double graph_s = 0.0;
    st = gfuse_i_peer_problem_make(&p, N, M, 200, 2, k, 1, strcmp(stem, "-") ? stem : NULL,
                                   &graph_s);
    if (st != GFUSE_OK) return fail("the peer graph", st);
    struct gfuse_graph *g = p.g;
    const int64_t V = g->n_nodes, E = g->n_edges, P = (int64_t)GFUSE_I_N_REL * F;
    gfuse_i_rng r;
    gfuse_i_rng_seed(&r, 2);
    float *z = xcalloc((size_t)(V * F), sizeof(float)), *G = xcalloc((size_t)(V * F), sizeof(float));
    float *att = xcalloc((size_t)(4 * P), sizeof(float));
    float *out = xcalloc((size_t)(V * F), sizeof(float)), *dz = xcalloc((size_t)(V * F), sizeof(float));
    float *sp = xcalloc((size_t)(V * F), sizeof(float));
    float *alpha = xcalloc((size_t)(E * H), sizeof(float));
    float *s_src = xcalloc((size_t)(V * GFUSE_I_N_REL * H), sizeof(float));
    float *s_dst = xcalloc((size_t)(V * GFUSE_I_N_REL * H), sizeof(float));
    float *work = xcalloc((size_t)gfuse_i_gat_work_floats(g, H, D), sizeof(float));
    double *tf = xcalloc((size_t)reps, sizeof(double)), *tb = xcalloc((size_t)reps, sizeof(double));
    double *tm = xcalloc((size_t)reps, sizeof(double)), *ts = xcalloc((size_t)reps, sizeof(double));
    fill_normal(z, V * F, 1.0f, &r);
    fill_normal(G, V * F, 1.0f, &r);
    fill_normal(att, 2 * P, 0.2f, &r);
    /* A's weights: the attention of head 0 */
    gfuse_i_gat_forward(out, alpha, s_src, s_dst, z, att, att + P, NULL, g, H, D, 0.0f, 0);
    for (int64_t e = 0; e < E; e++) g->in_w[e] = alpha[e * H];
#if HAVE_GRAPHBLAS
    /* GrB_mxm's operands: the dense one packed once, the CSR packed without a copy before each
     * product and unpacked after it (both O(1)), the output reused */
    GrB_Matrix A = NULL, Hm = NULL, C = NULL;
    void *hx = xcalloc((size_t)(V * F), sizeof(float));
    memcpy(hx, z, sizeof(float) * (size_t)(V * F));
    if ((st = grb_ref_init()) != GFUSE_OK) return fail("GraphBLAS", st);
    GrB_Info info = GrB_Matrix_new(&Hm, GrB_FP32, (GrB_Index)V, (GrB_Index)F);
    if (info == GrB_SUCCESS)
        info = GxB_Matrix_pack_FullR(Hm, &hx, sizeof(float) * (GrB_Index)(V * F), false, NULL);
    if (info == GrB_SUCCESS) info = GrB_Matrix_new(&C, GrB_FP32, (GrB_Index)V, (GrB_Index)F);
    if (info != GrB_SUCCESS) {
        fprintf(stderr, "gat_bench: GraphBLAS failed (GrB_Info %d)\n", (int)info);
        return 1;
    }
#else
    fprintf(stderr, "gat_bench: GraphBLAS absent (configured without it): the GrB_mxm "
                    "comparison is skipped\n");
#endif
    /* the kernels take turns within every repetition, so that the load of a shared machine
     * falls on all of them alike */
    for (int rep = 0; rep < reps && GRB_OK; rep++) {
        double t0 = now();
        gfuse_i_gat_forward(out, alpha, s_src, s_dst, z, att, att + P, NULL, g, H, D, 0.0f, 0);
        tf[rep] = now() - t0;
        memset(dz, 0, sizeof(float) * (size_t)(V * F));
        t0 = now();
        gfuse_i_gat_backward(dz, att + 2 * P, att + 3 * P, work, G, alpha, s_src, s_dst, z, att,
                             att + P, NULL, g, H, D, 0.0f, 0);
        tb[rep] = now() - t0;
        t0 = now();
        gfuse_i_graph_spmm(g, z, F, sp);
        ts[rep] = now() - t0;
#if HAVE_GRAPHBLAS
        if ((st = gfuse_i_graph_pack(g, &A)) != GFUSE_OK) return fail("packing the graph", st);
        t0 = now();
        info = GrB_mxm(C, NULL, NULL, GrB_PLUS_TIMES_SEMIRING_FP32, A, Hm, NULL);
        if (info == GrB_SUCCESS) info = GrB_Matrix_wait(C, GrB_MATERIALIZE);
        tm[rep] = now() - t0;
        if ((st = gfuse_i_graph_unpack(g, &A)) != GFUSE_OK) return fail("unpacking the graph", st);
#endif
    }
    double maxdiff = 0.0;
#if HAVE_GRAPHBLAS
    /* the products agree: C against gfuse's SpMM */
    for (int64_t v = 0; v < V && info == GrB_SUCCESS; v += 97)
        for (int f = 0; f < F; f++) {
            float c = 0.0f;
            if (GrB_Matrix_extractElement_FP32(&c, C, (GrB_Index)v, (GrB_Index)f) != GrB_SUCCESS)
                c = 0.0f;
            double dd = (double)c - (double)sp[v * F + f];
            if (dd < 0) dd = -dd;
            if (dd > maxdiff) maxdiff = dd;
        }
    if (info != GrB_SUCCESS) {
        fprintf(stderr, "gat_bench: GrB_mxm failed (GrB_Info %d)\n", (int)info);
        return 1;
    }
    GrB_Matrix_free(&Hm);
    GrB_Matrix_free(&C);
#endif

    const double fwd = median_of(tf, reps), bwd = median_of(tb, reps);
    const double mxm = median_of(tm, reps), spmm = median_of(ts, reps);
    /* SpMM traffic: the CSR with weights, H read once, out written once */
    const double spmm_bytes = (V + 1) * 8.0 + E * 12.0 + 2.0 * V * F * 4.0;
    const double gat_bytes = gfuse_i_gat_forward_bytes(g, H, D);
    char b_mxm[32], b_fwd_mxm[32], b_spmm_mxm[32], b_mxm_gbs[32], b_diff[32];
    printf("{\"kind\":\"race\",\"graph\":\"%s\",\"N\":%lld,\"V\":%lld,\"nnz\":%lld,"
           "\"heads\":%d,\"D\":%d,\"F\":%d,\"threads\":%d,\"reps\":%d,"
           "\"graph_s\":%.4f,\"gat_fwd_median_s\":%.6f,\"gat_bwd_median_s\":%.6f,"
           "\"grb_mxm_median_s\":%s,\"gfuse_spmm_median_s\":%.6f,"
           "\"gat_fwd_over_mxm\":%s,\"spmm_over_mxm\":%s,"
           "\"gat_fwd_bytes\":%.0f,\"spmm_bytes\":%.0f,\"gat_fwd_GBs\":%.2f,"
           "\"grb_mxm_GBs\":%s,\"gfuse_spmm_GBs\":%.2f,\"gat_fwd_GBs_gathered\":%.2f,"
           "\"mxm_vs_spmm_max_abs_diff\":%s}\n",
           strcmp(stem, "-") ? "export" : "recipe", (long long)N, (long long)V, (long long)E,
           H, D, F, omp_get_max_threads(), reps, graph_s, fwd, bwd,
           grb_num(b_mxm, sizeof b_mxm, "%.6f", mxm), spmm,
           grb_num(b_fwd_mxm, sizeof b_fwd_mxm, "%.3f", fwd / mxm),
           grb_num(b_spmm_mxm, sizeof b_spmm_mxm, "%.3f", spmm / mxm), gat_bytes, spmm_bytes,
           gat_bytes / fwd * 1e-9,
           grb_num(b_mxm_gbs, sizeof b_mxm_gbs, "%.2f", spmm_bytes / mxm * 1e-9),
           spmm_bytes / spmm * 1e-9, (double)E * (F * 4.0 + H * 4.0 + 9.0) / fwd * 1e-9,
           grb_num(b_diff, sizeof b_diff, "%.3g", maxdiff));
    free(z);
    free(G);
    free(att);
    free(out);
    free(sp);
    free(dz);
    free(alpha);
    free(s_src);
    free(s_dst);
    free(work);
    free(tf);
    free(tb);
    free(tm);
    free(ts);
    gfuse_i_peer_problem_free(&p);
    gfuse_finalize();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--peer") == 0) {
        if (argc < 4) {
            fprintf(stderr, "usage: gat_bench --peer STEM|- N [heads] [head width] [reps]\n");
            return 2;
        }
        int64_t N = atoll(argv[3]);
        int H = argc > 4 ? atoi(argv[4]) : 4, D = argc > 5 ? atoi(argv[5]) : 16;
        int reps = argc > 6 ? atoi(argv[6]) : 10;
        if (N < 11 || H < 1 || H > GFUSE_I_GAT_MAX_HEADS || D < 1 || reps < 1) {
            fprintf(stderr, "gat_bench: N must be above 10, heads in 1..%d, width and reps "
                            "positive\n", GFUSE_I_GAT_MAX_HEADS);
            return 2;
        }
        return race(argv[2], N, H, D, reps);
    }
    int64_t N = argc > 1 ? atoll(argv[1]) : 10000;
    int H = argc > 2 ? atoi(argv[2]) : 4, D = argc > 3 ? atoi(argv[3]) : 16;
    int reps = argc > 4 ? atoi(argv[4]) : 7;
    const int M = 3, k = 10, F = H * D;
    if (N < 2 || H < 1 || H > GFUSE_I_GAT_MAX_HEADS || D < 1 || reps < 1) {
        fprintf(stderr, "usage: gat_bench [N >= 2] [heads 1..%d] [head width] [reps]\n",
                GFUSE_I_GAT_MAX_HEADS);
        return 2;
    }
    struct gfuse_graph g;
    make_graph(&g, N, M, k, 0.3, 1);
    const int64_t V = g.n_nodes, E = g.n_edges, P = (int64_t)GFUSE_I_N_REL * F;
    printf("{\"kind\":\"graph\",\"N\":%lld,\"M\":%d,\"k\":%d,\"V\":%lld,\"E\":%lld,\"H\":%d,"
           "\"D\":%d}\n",
           (long long)N, M, k, (long long)V, (long long)E, H, D);

    gfuse_i_rng r;
    gfuse_i_rng_seed(&r, 2);
    float *z = xcalloc((size_t)(V * F), sizeof(float)), *G = xcalloc((size_t)(V * F), sizeof(float));
    float *a_src = xcalloc((size_t)P, sizeof(float)), *a_dst = xcalloc((size_t)P, sizeof(float));
    for (int64_t t = 0; t < V * F; t++) {
        z[t] = (float)gfuse_i_rng_normal(&r);
        G[t] = (float)gfuse_i_rng_normal(&r);
    }
    for (int64_t t = 0; t < P; t++) {
        a_src[t] = 0.2f * (float)gfuse_i_rng_normal(&r);
        a_dst[t] = 0.2f * (float)gfuse_i_rng_normal(&r);
    }
    float *out = xcalloc((size_t)(V * F), sizeof(float)), *alpha = xcalloc((size_t)(E * H), sizeof(float));
    float *s_src = xcalloc((size_t)(V * 3 * H), sizeof(float));
    float *s_dst = xcalloc((size_t)(V * 3 * H), sizeof(float));
    float *work = xcalloc((size_t)gfuse_i_gat_work_floats(&g, H, D), sizeof(float));
    float *dz = xcalloc((size_t)(V * F), sizeof(float));
    float *da_src = xcalloc((size_t)P, sizeof(float)), *da_dst = xcalloc((size_t)P, sizeof(float));
    float *out1 = xcalloc((size_t)(V * F), sizeof(float)), *dz1 = xcalloc((size_t)(V * F), sizeof(float));
    double *tf = xcalloc((size_t)reps, sizeof(double)), *tb = xcalloc((size_t)reps, sizeof(double));
    const float drop = argc > 5 ? (float)atof(argv[5]) : 0.1f;

    /* the serial twins, once */
    double t0 = now();
    gfuse_i_gat_forward_ref(out, alpha, z, a_src, a_dst, NULL, &g, H, D, drop, 7);
    double ref_fwd = now() - t0;
    t0 = now();
    gfuse_i_gat_backward_ref(dz, da_src, da_dst, G, alpha, z, a_src, a_dst, NULL, &g, H, D, drop, 7);
    double ref_bwd = now() - t0;

    int max_threads = omp_get_num_procs();
    for (int threads = 1; threads <= max_threads; threads *= 2) {
        omp_set_num_threads(threads);
        for (int rep = 0; rep < reps; rep++) {
            memset(dz, 0, sizeof(float) * (size_t)(V * F));
            t0 = now();
            gfuse_i_gat_forward(out, alpha, s_src, s_dst, z, a_src, a_dst, NULL, &g, H, D, drop, 7);
            tf[rep] = now() - t0;
            t0 = now();
            gfuse_i_gat_backward(dz, da_src, da_dst, work, G, alpha, s_src, s_dst, z, a_src, a_dst,
                                 NULL, &g, H, D, drop, 7);
            tb[rep] = now() - t0;
        }
        qsort(tf, (size_t)reps, sizeof(double), cmp_double);
        qsort(tb, (size_t)reps, sizeof(double), cmp_double);
        int same = 1;
        if (threads == 1) {
            memcpy(out1, out, sizeof(float) * (size_t)(V * F));
            memcpy(dz1, dz, sizeof(float) * (size_t)(V * F));
        } else {
            same = !memcmp(out1, out, sizeof(float) * (size_t)(V * F)) &&
                   !memcmp(dz1, dz, sizeof(float) * (size_t)(V * F));
        }
        /* bytes a pass must move at least: z gathered per edge, alpha, the CSR */
        double gbytes = (double)E * (F * 4.0 + H * 4.0 + 9.0) * 1e-9;
        printf("{\"kind\":\"gat\",\"threads\":%d,\"fwd_median_s\":%.6f,\"bwd_median_s\":%.6f,"
               "\"fwd_min_s\":%.6f,\"bwd_min_s\":%.6f,\"ref_fwd_s\":%.6f,\"ref_bwd_s\":%.6f,"
               "\"fwd_GBs_gathered\":%.2f,\"same_as_1_thread\":%s}\n",
               threads, tf[reps / 2], tb[reps / 2], tf[0], tb[0], ref_fwd, ref_bwd,
               gbytes / tf[reps / 2], same ? "true" : "false");
    }
    free(z);
    free(G);
    free(a_src);
    free(a_dst);
    free(out);
    free(alpha);
    free(s_src);
    free(s_dst);
    free(work);
    free(dz);
    free(da_src);
    free(da_dst);
    free(out1);
    free(dz1);
    free(tf);
    free(tb);
    gfuse_i_graph_clear(&g);
    return 0;
}
