/* check_gat.c: the multi-head GAT kernels (src/nn/gat.c) on small random graphs with missing nodes,
 * all three relations, self-only nodes and an empty row: gradients against central finite
 * differences, the optimised kernels against their serial twins, thread-count independence,
 * softmax and sender-mask semantics, attention dropout. */
#include <check.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn/gat.h"
#include "grb_ref.h"
#include "nn/layers.h"
#include "gradcheck.h"
#include "randgraph.h"
#include "graph_check.h"

#define NR GFUSE_I_N_REL

/* One GAT problem: graph, parameters, caches, gradients and the probe's upstream gradient. */
typedef struct {
    struct gfuse_graph g;
    int H, D;
    float drop;
    uint64_t seed;
    uint8_t *mask; /* sender mask or NULL */
    float *z, *a_src, *a_dst, *G;
    float *out, *alpha, *s_src, *s_dst, *work;
    float *dz, *da_src, *da_dst;
} gat_case;

static void gat_case_make(gat_case *c, const randgraph_spec *sp, int H, int D, float drop,
                          int use_mask)
{
    memset(c, 0, sizeof *c);
    randgraph_make(&c->g, sp);
    c->H = H;
    c->D = D;
    c->drop = drop;
    c->seed = sp->seed * 7919 + 17;
    const int64_t V = c->g.n_nodes, E = c->g.n_edges, F = (int64_t)H * D, P = NR * F;
    gfuse_i_rng r;
    gfuse_i_rng_seed_stream(&r, sp->seed, 1);
    c->z = gc_alloc(V * F);
    c->a_src = gc_alloc(P);
    c->a_dst = gc_alloc(P);
    c->G = gc_alloc(V * F);
    gc_fill(c->z, V * F, &r, -1.0f, 1.0f);
    gc_fill(c->a_src, P, &r, -1.0f, 1.0f);
    gc_fill(c->a_dst, P, &r, -1.0f, 1.0f);
    gc_fill(c->G, V * F, &r, -1.0f, 1.0f);
    if (use_mask) { /* hide about a third of the observed modality nodes, as modality dropout does */
        c->mask = malloc((size_t)V);
        ck_assert_ptr_nonnull(c->mask);
        for (int64_t v = 0; v < V; v++)
            c->mask[v] = c->g.observed[v] && !(v < c->g.n_mod * c->g.n_samples &&
                                              gfuse_i_rng_uniform(&r) < 0.33);
    }
    c->out = gc_alloc(V * F);
    c->alpha = gc_alloc(E * H);
    c->s_src = gc_alloc(V * NR * H);
    c->s_dst = gc_alloc(V * NR * H);
    c->work = gc_alloc(gfuse_i_gat_work_floats(&c->g, H, D));
    c->dz = gc_alloc(V * F);
    c->da_src = gc_alloc(P);
    c->da_dst = gc_alloc(P);
}

static void gat_case_free(gat_case *c)
{
    gfuse_i_graph_clear(&c->g);
    free(c->mask);
    free(c->z);
    free(c->a_src);
    free(c->a_dst);
    free(c->G);
    free(c->out);
    free(c->alpha);
    free(c->s_src);
    free(c->s_dst);
    free(c->work);
    free(c->dz);
    free(c->da_src);
    free(c->da_dst);
}

static void gat_case_forward(gat_case *c)
{
    gfuse_i_gat_forward(c->out, c->alpha, c->s_src, c->s_dst, c->z, c->a_src, c->a_dst, c->mask,
                        &c->g, c->H, c->D, c->drop, c->seed);
}

static void gat_case_backward(gat_case *c)
{
    gfuse_i_gat_backward(c->dz, c->da_src, c->da_dst, c->work, c->G, c->alpha, c->s_src, c->s_dst,
                         c->z, c->a_src, c->a_dst, c->mask, &c->g, c->H, c->D, c->drop, c->seed);
}

static double gat_loss(void *ctx)
{
    gat_case *c = ctx;
    gat_case_forward(c);
    return gc_probe(c->out, c->G, c->g.n_nodes * c->H * c->D);
}

/* Fingerprint of the LeakyReLU branch taken by every unmasked (edge, head) score. */
static uint64_t gat_kink(void *ctx)
{
    gat_case *c = ctx;
    uint64_t fp = 1469598103934665603ULL;
    for (int64_t v = 0; v < c->g.n_nodes; v++)
        for (int64_t e = c->g.in_ptr[v]; e < c->g.in_ptr[v + 1]; e++) {
            int64_t u = c->g.in_src[e];
            int r = c->g.in_rel[e];
            for (int h = 0; h < c->H; h++) {
                float pre = c->s_src[(u * NR + r) * c->H + h] + c->s_dst[(v * NR + r) * c->H + h];
                fp = (fp ^ (uint64_t)(pre > 0.0f)) * 1099511628211ULL;
            }
        }
    return fp;
}

typedef struct {
    randgraph_spec sp;
    int H, D;
    float drop;
    int mask;
} gat_config;

/* Shapes and seeds of the loop tests: missing nodes everywhere, self-only nodes, an empty row,
 * a random row order, the sender mask and attention dropout in some of them. */
static const gat_config configs[] = {
    {{6, 2, 3, 0.4, 0.1, 0, 0, 1}, 1, 1, 0.0f, 0},
    {{8, 3, 4, 0.4, 0.1, 1, 0, 2}, 2, 3, 0.0f, 0},
    {{7, 2, 5, 0.5, 0.2, 0, 1, 3}, 3, 2, 0.0f, 1},
    {{10, 3, 3, 0.3, 0.05, 1, 1, 4}, 2, 4, 0.0f, 1},
    {{9, 2, 4, 0.4, 0.1, 0, 0, 5}, 2, 2, 0.3f, 0},
    {{6, 4, 2, 0.6, 0.1, 1, 1, 6}, 4, 2, 0.25f, 1},
    {{8, 2, 4, 0.4, 0.1, 0, 1, 7}, 4, 8, 0.1f, 1},
};
#define N_CONFIGS ((int)(sizeof configs / sizeof configs[0]))
#define SEEDS 3

/* Gradients of z, a_src and a_dst against central differences (attention dropout is a fixed
 * mask for a given seed, so configurations with dropout are differentiable too). Backward
 * accumulates: the gradients start from random values that are subtracted afterwards.
 * Tolerance: |analytic - numeric| <= 1e-2 relative + 1e-3 * max|gradient| (+1e-4). */
START_TEST(test_gat_gradients)
{
    const gat_config *cf = &configs[_i % N_CONFIGS];
    randgraph_spec sp = cf->sp;
    sp.seed += 1000 * (uint64_t)(_i / N_CONFIGS); /* each shape with SEEDS seeds */
    gat_case c;
    gat_case_make(&c, &sp, cf->H, cf->D, cf->drop, cf->mask);
    const int64_t V = c.g.n_nodes, F = (int64_t)c.H * c.D, P = NR * F;
    float *init = gc_alloc(V * F + 2 * P);
    gfuse_i_rng r;
    gfuse_i_rng_seed(&r, 99);
    gc_fill(init, V * F + 2 * P, &r, -1.0f, 1.0f);
    memcpy(c.dz, init, sizeof(float) * (size_t)(V * F));
    memcpy(c.da_src, init + V * F, sizeof(float) * (size_t)P);
    memcpy(c.da_dst, init + V * F + P, sizeof(float) * (size_t)P);
    gat_case_forward(&c);
    gat_case_backward(&c);
    for (int64_t t = 0; t < V * F; t++) c.dz[t] -= init[t];
    for (int64_t t = 0; t < P; t++) {
        c.da_src[t] -= init[V * F + t];
        c.da_dst[t] -= init[V * F + P + t];
    }
    gc_model m = {gat_loss, gat_kink, &c};
    int64_t n = gc_check("dz", m, c.z, c.dz, V * F, 80, 1e-2, 1e-3);
    n += gc_check("da_src", m, c.a_src, c.da_src, P, P, 1e-2, 1e-3);
    n += gc_check("da_dst", m, c.a_dst, c.da_dst, P, P, 1e-2, 1e-3);
    ck_assert_int_gt(n, 0);
    free(init);
    gat_case_free(&c);
}
END_TEST

/* The optimised kernels against the serial twins: the forward (out and alpha) computes the same
 * sums in the same order, but the compiler may fuse different multiply-adds in the two (FMA on
 * CPUs that have it), so it must agree within 1e-6 of the largest magnitude (normwise); the
 * backward sums in another order, so it must agree within 1e-5. */
static void compare_with_twins(gat_case *c)
{
    const int64_t V = c->g.n_nodes, E = c->g.n_edges, F = (int64_t)c->H * c->D, P = NR * F;
    float *out = gc_alloc(V * F), *alpha = gc_alloc(E * c->H);
    float *dz = gc_alloc(V * F), *da_src = gc_alloc(P), *da_dst = gc_alloc(P);
    gat_case_forward(c);
    gfuse_i_gat_forward_ref(out, alpha, c->z, c->a_src, c->a_dst, c->mask, &c->g, c->H, c->D,
                            c->drop, c->seed);
    ck_assert_msg(gc_normdiff(c->out, out, V * F) <= 1e-6, "forward out differs from the twin");
    ck_assert_msg(gc_normdiff(c->alpha, alpha, E * c->H) <= 1e-6,
                  "forward alpha differs from the twin");
    memset(c->dz, 0, sizeof(float) * (size_t)(V * F));
    memset(c->da_src, 0, sizeof(float) * (size_t)P);
    memset(c->da_dst, 0, sizeof(float) * (size_t)P);
    gat_case_backward(c);
    gfuse_i_gat_backward_ref(dz, da_src, da_dst, c->G, alpha, c->z, c->a_src, c->a_dst, c->mask,
                             &c->g, c->H, c->D, c->drop, c->seed);
    double ddz = gc_normdiff(c->dz, dz, V * F), ds = gc_normdiff(c->da_src, da_src, P),
           dd = gc_normdiff(c->da_dst, da_dst, P);
    ck_assert_msg(ddz <= 1e-5 && ds <= 1e-5 && dd <= 1e-5,
                  "backward vs twin: dz %g, da_src %g, da_dst %g (tolerance 1e-5)", ddz, ds, dd);
    free(out);
    free(alpha);
    free(dz);
    free(da_src);
    free(da_dst);
}

START_TEST(test_gat_twins)
{
    const gat_config *cf = &configs[_i % N_CONFIGS];
    randgraph_spec sp = cf->sp;
    sp.seed += 1000 * (uint64_t)(_i / N_CONFIGS);
    gat_case c;
    gat_case_make(&c, &sp, cf->H, cf->D, cf->drop, cf->mask);
    compare_with_twins(&c);
    gat_case_free(&c);
}
END_TEST

/* A graph big enough for the kernels' parallel paths. */
static const randgraph_spec big_spec = {2000, 3, 10, 0.4, 0.02, 1, 1, 11};

/* The same on a graph where the parallel paths run (with two threads). */
START_TEST(test_gat_twins_parallel)
{
    gat_case c;
    gat_case_make(&c, &big_spec, 4, 16, _i ? 0.2f : 0.0f, _i);
    omp_set_num_threads(2);
    compare_with_twins(&c);
    gat_case_free(&c);
}
END_TEST

/* Bitwise identical forward and backward with 1 and 2 threads, dropout and mask on. */
START_TEST(test_gat_threads)
{
    gat_case c;
    gat_case_make(&c, &big_spec, 4, 16, 0.2f, 1);
    const int64_t V = c.g.n_nodes, E = c.g.n_edges, F = 64, P = NR * F;
    float *res[2][5];
    for (int run = 0; run < 2; run++) {
        omp_set_num_threads(run + 1);
        memset(c.dz, 0, sizeof(float) * (size_t)(V * F));
        memset(c.da_src, 0, sizeof(float) * (size_t)P);
        memset(c.da_dst, 0, sizeof(float) * (size_t)P);
        gat_case_forward(&c);
        gat_case_backward(&c);
        const float *src[5] = {c.out, c.alpha, c.dz, c.da_src, c.da_dst};
        const int64_t len[5] = {V * F, E * 4, V * F, P, P};
        for (int t = 0; t < 5; t++) {
            res[run][t] = gc_alloc(len[t]);
            memcpy(res[run][t], src[t], sizeof(float) * (size_t)len[t]);
        }
    }
    const char *name[5] = {"out", "alpha", "dz", "da_src", "da_dst"};
    const int64_t len[5] = {V * F, E * 4, V * F, P, P};
    for (int t = 0; t < 5; t++) {
        ck_assert_msg(gc_same(res[0][t], res[1][t], len[t]), "%s differs between 1 and 2 threads",
                      name[t]);
        free(res[0][t]);
        free(res[1][t]);
    }
    omp_set_num_threads(2);
    gat_case_free(&c);
}
END_TEST

/* The forward pass at a subset of the destination rows (in a scrambled order, on 1 and 2
 * threads, dropout and mask on): those rows' outputs and attention weights are the whole
 * pass's bit for bit, the other rows are left as they were. */
START_TEST(test_gat_forward_rows)
{
    gat_case c;
    gat_case_make(&c, &big_spec, 4, 16, 0.2f, 1);
    const int64_t V = c.g.n_nodes, E = c.g.n_edges, F = 64;
    gat_case_forward(&c);
    float *out = gc_alloc(V * F), *alpha = gc_alloc(E * 4);
    memcpy(out, c.out, sizeof(float) * (size_t)(V * F));
    memcpy(alpha, c.alpha, sizeof(float) * (size_t)(E * 4));
    int64_t *rows = malloc(sizeof *rows * (size_t)V);
    uint8_t *listed = calloc((size_t)V, 1);
    ck_assert(rows && listed);
    int64_t n = 0;
    for (int64_t t = 0; t < V; t++) {
        int64_t v = (t * 7919) % V; /* V = 8000 is prime to 7919: a permutation */
        if (v % 3 == 1) continue;
        rows[n++] = v;
        listed[v] = 1;
    }
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);
        for (int64_t t = 0; t < V * F; t++) c.out[t] = 5.0f;
        for (int64_t t = 0; t < E * 4; t++) c.alpha[t] = 5.0f;
        gfuse_i_gat_forward_rows(c.out, c.alpha, c.s_src, c.s_dst, c.z, c.a_src, c.a_dst, c.mask,
                                 &c.g, c.H, c.D, c.drop, c.seed, rows, n);
        for (int64_t v = 0; v < V; v++) {
            if (listed[v]) {
                ck_assert(gc_same(c.out + v * F, out + v * F, F));
            } else {
                for (int64_t f = 0; f < F; f++) ck_assert_float_eq(c.out[v * F + f], 5.0f);
            }
            for (int64_t e = c.g.in_ptr[v]; e < c.g.in_ptr[v + 1]; e++) {
                if (listed[v])
                    ck_assert(gc_same(c.alpha + e * 4, alpha + e * 4, 4));
                else
                    ck_assert_float_eq(c.alpha[e * 4], 5.0f);
            }
        }
    }
    omp_set_num_threads(2);
    free(out);
    free(alpha);
    free(rows);
    free(listed);
    gat_case_free(&c);
}
END_TEST

/* Attention weights: each (row, head) sums to 1 over the edges that take part, masked edges get
 * 0, a node with only a self loop attends to itself alone, an empty row outputs 0. */
START_TEST(test_gat_softmax)
{
    const gat_config *cf = &configs[_i];
    gat_case c;
    gat_case_make(&c, &cf->sp, cf->H, cf->D, 0.0f, cf->mask);
    gat_case_forward(&c);
    const int H = c.H, F = c.H * c.D;
    int saw_self_only = 0;
    for (int64_t v = 0; v < c.g.n_nodes; v++) {
        int64_t e0 = c.g.in_ptr[v], e1 = c.g.in_ptr[v + 1], active = 0;
        for (int64_t e = e0; e < e1; e++) active += !c.mask || c.mask[c.g.in_src[e]] || c.g.in_src[e] == v;
        for (int h = 0; h < H; h++) {
            double sum = 0.0;
            for (int64_t e = e0; e < e1; e++) {
                int64_t u = c.g.in_src[e];
                float a = c.alpha[e * H + h];
                if (c.mask && !c.mask[u] && u != v) ck_assert_float_eq(a, 0.0f);
                ck_assert(a >= 0.0f && a <= 1.0f);
                sum += a;
            }
            if (active) ck_assert_double_eq_tol(sum, 1.0, 1e-5);
        }
        if (e1 - e0 == 1) { /* only the self loop: out_v = z_v */
            saw_self_only = 1;
            for (int f = 0; f < F; f++) ck_assert_float_eq(c.out[v * F + f], c.z[v * F + f]);
        }
        if (e1 == e0)
            for (int f = 0; f < F; f++) ck_assert_float_eq(c.out[v * F + f], 0.0f);
    }
    ck_assert(saw_self_only || cf->sp.self_only < 0.1);
    gat_case_free(&c);
}
END_TEST

/* The sender mask acts exactly like removing the masked senders' edges from the graph. */
START_TEST(test_gat_sender_mask)
{
    gat_case c;
    randgraph_spec sp = {12, 3, 4, 0.3, 0.05, 0, 1, 40 + (uint64_t)_i};
    gat_case_make(&c, &sp, 2, 3, 0.0f, 1);
    const int64_t V = c.g.n_nodes, F = 6, P = NR * F;
    gat_case d = c; /* same tensors on the pruned graph, no mask */
    randgraph_drop_senders(&d.g, &c.g, c.mask);
    d.mask = NULL;
    ck_assert_int_lt(d.g.n_edges, c.g.n_edges);
    d.out = gc_alloc(V * F);
    d.alpha = gc_alloc(d.g.n_edges * 2);
    d.s_src = gc_alloc(V * NR * 2);
    d.s_dst = gc_alloc(V * NR * 2);
    d.work = gc_alloc(gfuse_i_gat_work_floats(&d.g, 2, 3));
    d.dz = gc_alloc(V * F);
    d.da_src = gc_alloc(P);
    d.da_dst = gc_alloc(P);
    gat_case_forward(&c);
    gat_case_forward(&d);
    ck_assert(gc_same(c.out, d.out, V * F));
    gat_case_backward(&c);
    gat_case_backward(&d);
    ck_assert(gc_same(c.dz, d.dz, V * F));
    ck_assert(gc_same(c.da_src, d.da_src, P));
    ck_assert(gc_same(c.da_dst, d.da_dst, P));
    gfuse_i_graph_clear(&d.g);
    free(d.out);
    free(d.alpha);
    free(d.s_src);
    free(d.s_dst);
    free(d.work);
    free(d.dz);
    free(d.da_src);
    free(d.da_dst);
    gat_case_free(&c);
}
END_TEST

/* Attention dropout: the same seed gives the same output, another seed another output, and
 * (inverted dropout being unbiased) the mean output over many seeds approaches the output
 * without dropout: mean |difference| below 0.05 for p = 0.3 over 400 seeds. */
START_TEST(test_gat_dropout)
{
    gat_case c;
    randgraph_spec sp = {10, 2, 5, 0.3, 0.0, 0, 0, 77};
    gat_case_make(&c, &sp, 2, 2, 0.0f, 0);
    const int64_t n = c.g.n_nodes * 4;
    float *plain = gc_alloc(n), *first = gc_alloc(n);
    double *mean = calloc((size_t)n, sizeof(double));
    ck_assert_ptr_nonnull(mean);
    gat_case_forward(&c);
    memcpy(plain, c.out, sizeof(float) * (size_t)n);
    c.drop = 0.3f;
    const int seeds = 400;
    for (int s = 0; s < seeds; s++) {
        c.seed = 1000 + (uint64_t)s;
        gat_case_forward(&c);
        if (s == 0) memcpy(first, c.out, sizeof(float) * (size_t)n);
        if (s == 1) ck_assert(!gc_same(first, c.out, n));
        for (int64_t t = 0; t < n; t++) mean[t] += c.out[t] / (double)seeds;
    }
    c.seed = 1000;
    gat_case_forward(&c);
    ck_assert(gc_same(first, c.out, n));
    double diff = 0.0;
    for (int64_t t = 0; t < n; t++) diff += fabs(mean[t] - plain[t]) / (double)n;
    ck_assert_msg(diff < 0.05, "mean output under dropout is off by %g on average", diff);
    free(plain);
    free(first);
    free(mean);
    gat_case_free(&c);
}
END_TEST

/* The work size covers what the backward uses: a guard word after it stays untouched. */
START_TEST(test_gat_work_size)
{
    gat_case c;
    gat_case_make(&c, &configs[1].sp, 2, 3, 0.0f, 0);
    int64_t w = gfuse_i_gat_work_floats(&c.g, 2, 3);
    float *work = gc_alloc(w + 1);
    work[w] = 12345.0f;
    gat_case_forward(&c);
    gfuse_i_gat_backward(c.dz, c.da_src, c.da_dst, work, c.G, c.alpha, c.s_src, c.s_dst, c.z,
                         c.a_src, c.a_dst, NULL, &c.g, 2, 3, 0.0f, 0);
    ck_assert_float_eq(work[w], 12345.0f);
    /* dz may be NULL: the parameter gradients are the same */
    float *da_src = gc_alloc(NR * 6), *da_dst = gc_alloc(NR * 6);
    memset(c.da_src, 0, sizeof(float) * NR * 6);
    memset(c.da_dst, 0, sizeof(float) * NR * 6);
    gfuse_i_gat_backward(c.dz, c.da_src, c.da_dst, work, c.G, c.alpha, c.s_src, c.s_dst, c.z,
                         c.a_src, c.a_dst, NULL, &c.g, 2, 3, 0.0f, 0);
    gfuse_i_gat_backward(NULL, da_src, da_dst, work, c.G, c.alpha, c.s_src, c.s_dst, c.z, c.a_src,
                         c.a_dst, NULL, &c.g, 2, 3, 0.0f, 0);
    ck_assert(gc_same(c.da_src, da_src, NR * 6));
    ck_assert(gc_same(c.da_dst, da_dst, NR * 6));
    free(da_src);
    free(da_dst);
    free(work);
    gat_case_free(&c);
}
END_TEST

#if HAVE_GRAPHBLAS
/* The aggregation against GraphBLAS: for each head h, out[:, h] equals GrB_mxm of the graph
 * with edge values drop_e,h * alpha_e,h times z[:, h] (GraphBLAS sums in its own order:
 * within 1e-5 of the largest magnitude). */
START_TEST(test_gat_vs_graphblas)
{
    const gat_config *cf = &configs[_i];
    gat_case c;
    gat_case_make(&c, &cf->sp, cf->H, cf->D, cf->drop, cf->mask);
    gat_case_forward(&c);
    const int64_t V = c.g.n_nodes, F = (int64_t)c.H * c.D;
    const float scale = c.drop > 0.0f ? 1.0f / (1.0f - c.drop) : 1.0f;
    float *zh = gc_alloc(V * c.D), *got = gc_alloc(V * c.D), *want = gc_alloc(V * c.D);
    for (int h = 0; h < c.H; h++) {
        for (int64_t e = 0; e < c.g.n_edges; e++)
            c.g.in_w[e] = c.alpha[e * c.H + h] *
                          (gfuse_i_dropout_keep(c.seed, (uint64_t)(e * c.H + h), c.drop) ? scale : 0.0f);
        for (int64_t v = 0; v < V; v++)
            for (int d = 0; d < c.D; d++) {
                zh[v * c.D + d] = c.z[v * F + h * c.D + d];
                want[v * c.D + d] = c.out[v * F + h * c.D + d];
            }
        ck_assert_msg(gfuse_i_graph_spmm_graphblas(&c.g, zh, c.D, got) == GFUSE_OK, "%s",
                      gfuse_last_error());
        ck_assert_double_le(gc_normdiff(got, want, V * c.D), 1e-5);
    }
    free(zh);
    free(got);
    free(want);
    gat_case_free(&c);
}
END_TEST
#endif

/* The random test graphs keep the invariants of graph/graph.h that the graph builder checks. */
START_TEST(test_gat_random_graphs_valid)
{
    for (int t = 0; t < N_CONFIGS; t++) {
        struct gfuse_graph g;
        randgraph_make(&g, &configs[t].sp);
        ck_assert_msg(tu_graph_validate(&g) == GFUSE_OK, "config %d: %s", t,
                      gfuse_last_error());
        gfuse_i_graph_clear(&g);
    }
}
END_TEST

/* On a graph built by gfuse_graph_build from a random in-memory cohort (3 modalities, a third
 * of the rows missing, k = 6, reverse Cuthill-McKee row order): the kernels equal their twins
 * (forward bitwise, backward within 1e-5 normwise) and do not depend on the thread count. */
START_TEST(test_gat_built_graph)
{
    const int64_t N = 400;
    const int M = 3, dims[3] = {6, 9, 4};
    gfuse_i_rng r;
    gfuse_i_rng_seed(&r, 500);
    char **ids = malloc(sizeof(char *) * (size_t)N);
    ck_assert_ptr_nonnull(ids);
    for (int64_t i = 0; i < N; i++) {
        ids[i] = malloc(16);
        ck_assert_ptr_nonnull(ids[i]);
        snprintf(ids[i], 16, "s%lld", (long long)i);
    }
    gfuse_cohort *co = NULL;
    ck_assert_int_eq(gfuse_cohort_new(&co, N, (const char *const *)ids), GFUSE_OK);
    for (int m = 0; m < M; m++) {
        float *x = gc_alloc(N * dims[m]);
        gc_fill(x, N * dims[m], &r, -1, 1);
        for (int64_t i = 0; i < N; i++) /* sample i always keeps modality i % M */
            if (m != i % M && gfuse_i_rng_uniform(&r) < 0.33)
                for (int f = 0; f < dims[m]; f++) x[i * dims[m] + f] = NAN;
        char name[8];
        snprintf(name, sizeof name, "m%d", m);
        ck_assert_int_eq(gfuse_cohort_add_modality(co, name, dims[m], NULL, x), GFUSE_OK);
        free(x);
    }
    gfuse_graph_options o;
    gfuse_graph_options_init(&o);
    o.k = 6;
    o.reorder = GFUSE_ORDER_RCM;
    gfuse_graph *built = NULL;
    ck_assert_msg(gfuse_graph_build(&built, co, &o) == GFUSE_OK, "%s", gfuse_last_error());
    ck_assert_ptr_nonnull(built->row_order);

    gat_case c;
    randgraph_spec unused = {4, 1, 1, 0.0, 0.0, 0, 0, 501};
    gat_case_make(&c, &unused, 2, 8, 0.15f, 0); /* tensors sized below for the built graph */
    gfuse_i_graph_clear(&c.g);
    c.g = *built; /* borrowed: restored before the graph is freed */
    const int64_t V = c.g.n_nodes, E = c.g.n_edges, F = 16, P = NR * F;
    free(c.z);
    free(c.G);
    free(c.out);
    free(c.alpha);
    free(c.s_src);
    free(c.s_dst);
    free(c.work);
    free(c.dz);
    c.z = gc_alloc(V * F);
    c.G = gc_alloc(V * F);
    gc_fill(c.z, V * F, &r, -1, 1);
    gc_fill(c.G, V * F, &r, -1, 1);
    c.out = gc_alloc(V * F);
    c.alpha = gc_alloc(E * 2);
    c.s_src = gc_alloc(V * NR * 2);
    c.s_dst = gc_alloc(V * NR * 2);
    c.work = gc_alloc(gfuse_i_gat_work_floats(&c.g, 2, 8));
    c.dz = gc_alloc(V * F);
    omp_set_num_threads(2);
    compare_with_twins(&c);
    float *out2 = gc_alloc(V * F), *dz2 = gc_alloc(V * F), *da2 = gc_alloc(P);
    memcpy(out2, c.out, sizeof(float) * (size_t)(V * F));
    memcpy(dz2, c.dz, sizeof(float) * (size_t)(V * F));
    memcpy(da2, c.da_src, sizeof(float) * (size_t)P);
    omp_set_num_threads(1);
    memset(c.dz, 0, sizeof(float) * (size_t)(V * F));
    memset(c.da_src, 0, sizeof(float) * (size_t)P);
    memset(c.da_dst, 0, sizeof(float) * (size_t)P);
    gat_case_forward(&c);
    gat_case_backward(&c);
    ck_assert(gc_same(out2, c.out, V * F));
    ck_assert(gc_same(dz2, c.dz, V * F));
    ck_assert(gc_same(da2, c.da_src, P));
    omp_set_num_threads(2);
    memset(&c.g, 0, sizeof c.g); /* the graph belongs to built */
    gat_case_free(&c);
    free(out2);
    free(dz2);
    free(da2);
    gfuse_graph_free(&built);
    gfuse_cohort_free(&co);
    for (int64_t i = 0; i < N; i++) free(ids[i]);
    free(ids);
}
END_TEST

static Suite *gat_suite(void)
{
    Suite *s = suite_create("gat");
    TCase *grad = tcase_create("gradients");
    tcase_add_loop_test(grad, test_gat_gradients, 0, N_CONFIGS * SEEDS);
    tcase_set_timeout(grad, 120);
    suite_add_tcase(s, grad);
    TCase *twins = tcase_create("twins");
    tcase_add_loop_test(twins, test_gat_twins, 0, N_CONFIGS * SEEDS);
    tcase_add_loop_test(twins, test_gat_twins_parallel, 0, 2);
    tcase_add_test(twins, test_gat_threads);
    tcase_add_test(twins, test_gat_forward_rows);
    tcase_set_timeout(twins, 120);
    suite_add_tcase(s, twins);
    TCase *core = tcase_create("core");
    tcase_add_loop_test(core, test_gat_softmax, 0, N_CONFIGS);
    tcase_add_loop_test(core, test_gat_sender_mask, 0, 3);
    tcase_add_test(core, test_gat_dropout);
    tcase_add_test(core, test_gat_work_size);
    tcase_add_test(core, test_gat_random_graphs_valid);
#if HAVE_GRAPHBLAS
    tcase_add_loop_test(core, test_gat_vs_graphblas, 0, N_CONFIGS);
#else
    printf("GraphBLAS absent: the GrB_mxm comparison of the aggregation is skipped\n");
#endif
    tcase_add_test(core, test_gat_built_graph);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    if (gfuse_init() != GFUSE_OK) return EXIT_FAILURE;
    SRunner *sr = srunner_create(gat_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    gfuse_finalize();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
