/* randgraph.h: small random sample-modality graphs for the kernel and model tests, laid out as
 * graph/graph.h says (CSR by destination with sources ascending, transpose by source) and
 * shaped like the real graph (README.md, "Graph"):
 *   - every node has a self loop;
 *   - a modality node (i, m) receives knn edges from up to k random observed nodes (j, m),
 *     j != i; missing nodes receive but never send knn edges, and some get none;
 *   - member edges: hub i -> (i, m) for every m, (i, m) -> hub i for observed m;
 *   - a fraction of the nodes keep only their self loop, and (optionally) one node has no
 *     in-edge at all, so the kernels' edge cases are exercised. */
#ifndef GFUSE_TESTS_RANDGRAPH_H
#define GFUSE_TESTS_RANDGRAPH_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "core/rng.h"

typedef struct {
    int64_t n_samples;
    int n_mod;
    int k;
    double missing;      /* probability that a modality node is missing (>= 1 observed/sample) */
    double self_only;    /* probability that a node keeps only its self loop */
    int empty_row;       /* 1: node 0 gets no in-edge at all */
    int row_order;       /* 1: a random row processing order */
    uint64_t seed;
} randgraph_spec;

typedef struct {
    int64_t u, v;
    int rel;
} randgraph_edge;

static inline int randgraph_cmp(const void *a, const void *b)
{
    const randgraph_edge *x = a, *y = b;
    if (x->v != y->v) return x->v < y->v ? -1 : 1;
    if (x->u != y->u) return x->u < y->u ? -1 : 1;
    return x->rel - y->rel;
}

/* Fills g's CSR and transpose from an edge list (sorted here). */
static inline void randgraph_from_edges(struct gfuse_graph *g, randgraph_edge *edges, int64_t E)
{
    const int64_t V = g->n_nodes;
    qsort(edges, (size_t)E, sizeof *edges, randgraph_cmp);
    g->n_edges = E;
    g->in_ptr = calloc((size_t)V + 1, sizeof(int64_t));
    g->out_ptr = calloc((size_t)V + 1, sizeof(int64_t));
    g->in_src = malloc(sizeof(int64_t) * (size_t)(E + 1));
    g->in_rel = malloc((size_t)E + 1);
    g->in_w = malloc(sizeof(float) * (size_t)(E + 1));
    g->out_dst = malloc(sizeof(int64_t) * (size_t)(E + 1));
    g->out_eid = malloc(sizeof(int64_t) * (size_t)(E + 1));
    int64_t *fill = calloc((size_t)V + 1, sizeof(int64_t));
    ck_assert(g->in_ptr && g->out_ptr && g->in_src && g->in_rel && g->in_w && g->out_dst &&
              g->out_eid && fill);
    for (int64_t e = 0; e < E; e++) {
        g->in_ptr[edges[e].v + 1]++;
        g->out_ptr[edges[e].u + 1]++;
        g->in_src[e] = edges[e].u;
        g->in_rel[e] = (uint8_t)edges[e].rel;
        g->in_w[e] = edges[e].rel == GFUSE_I_REL_KNN ? 0.5f : 1.0f;
    }
    for (int64_t v = 0; v < V; v++) {
        g->in_ptr[v + 1] += g->in_ptr[v];
        g->out_ptr[v + 1] += g->out_ptr[v];
    }
    for (int64_t e = 0; e < E; e++) { /* edges in order of e: out rows by ascending destination */
        int64_t u = edges[e].u, o = g->out_ptr[u] + fill[u]++;
        g->out_dst[o] = edges[e].v;
        g->out_eid[o] = e;
    }
    free(fill);
}

static inline void randgraph_make(struct gfuse_graph *g, const randgraph_spec *sp)
{
    gfuse_i_rng r;
    gfuse_i_rng_seed(&r, sp->seed);
    const int64_t N = sp->n_samples;
    const int M = sp->n_mod;
    memset(g, 0, sizeof *g);
    g->n_samples = N;
    g->n_mod = M;
    g->n_nodes = N * (M + 1);
    g->k = sp->k;
    const int64_t V = g->n_nodes;
    g->observed = malloc((size_t)V);
    ck_assert_ptr_nonnull(g->observed);
    for (int64_t i = 0; i < N; i++) {
        int any = 0;
        for (int m = 0; m < M; m++) {
            int obs = gfuse_i_rng_uniform(&r) >= sp->missing;
            g->observed[m * N + i] = (uint8_t)obs;
            any |= obs;
        }
        if (!any) g->observed[(int64_t)gfuse_i_rng_below(&r, (uint64_t)M) * N + i] = 1;
        g->observed[(int64_t)M * N + i] = 1;
    }
    uint8_t *self_only = calloc((size_t)V, 1);
    ck_assert_ptr_nonnull(self_only);
    for (int64_t v = 0; v < V; v++) self_only[v] = gfuse_i_rng_uniform(&r) < sp->self_only;

    int64_t cap = V * (sp->k + M + 3) + 1, E = 0;
    randgraph_edge *edges = malloc(sizeof *edges * (size_t)cap);
    uint8_t *taken = calloc((size_t)N, 1);
    ck_assert(edges && taken);
    for (int64_t v = 0; v < V; v++) {
        if (sp->empty_row && v == 0) continue;
        edges[E++] = (randgraph_edge){v, v, GFUSE_I_REL_SELF};
        if (self_only[v]) continue;
        if (v >= (int64_t)M * N) { /* hub: members from its observed modality nodes */
            int64_t i = v - (int64_t)M * N;
            for (int m = 0; m < M; m++)
                if (g->observed[m * N + i]) edges[E++] = (randgraph_edge){m * N + i, v, GFUSE_I_REL_MEMBER};
            continue;
        }
        int m = (int)(v / N);
        int64_t i = v % N;
        edges[E++] = (randgraph_edge){(int64_t)M * N + i, v, GFUSE_I_REL_MEMBER};
        /* missing nodes: a quarter of them get no knn edge */
        if (!g->observed[v] && gfuse_i_rng_uniform(&r) < 0.25) continue;
        memset(taken, 0, (size_t)N);
        for (int t = 0; t < sp->k; t++) {
            int64_t j = (int64_t)gfuse_i_rng_below(&r, (uint64_t)N);
            if (j == i || taken[j] || !g->observed[m * N + j]) continue;
            taken[j] = 1;
            edges[E++] = (randgraph_edge){m * N + j, v, GFUSE_I_REL_KNN};
        }
    }
    randgraph_from_edges(g, edges, E);
    free(edges);
    free(taken);
    free(self_only);
    if (sp->row_order) {
        g->row_order = malloc(sizeof(int64_t) * (size_t)V);
        ck_assert_ptr_nonnull(g->row_order);
        for (int64_t v = 0; v < V; v++) g->row_order[v] = v;
        gfuse_i_rng_shuffle(&r, g->row_order, V);
    }
}

/* A copy of g without the edges u -> v (u != v) whose source has mask[u] == 0. */
static inline void randgraph_drop_senders(struct gfuse_graph *out, const struct gfuse_graph *g,
                                   const uint8_t *mask)
{
    memset(out, 0, sizeof *out);
    out->n_samples = g->n_samples;
    out->n_mod = g->n_mod;
    out->n_nodes = g->n_nodes;
    out->k = g->k;
    out->observed = malloc((size_t)g->n_nodes);
    randgraph_edge *edges = malloc(sizeof *edges * (size_t)(g->n_edges + 1));
    ck_assert(out->observed && edges);
    memcpy(out->observed, g->observed, (size_t)g->n_nodes);
    int64_t E = 0;
    for (int64_t v = 0; v < g->n_nodes; v++)
        for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++) {
            int64_t u = g->in_src[e];
            if (u == v || mask[u]) edges[E++] = (randgraph_edge){u, v, g->in_rel[e]};
        }
    randgraph_from_edges(out, edges, E);
    free(edges);
}

#endif
