/*
 * variant.c: modality-dropout graphs derived from the one full kNN build (DESIGN.md section 3).
 *
 * Training hides random observed modality nodes and needs the graph as it would be had those
 * modalities been missing. Rebuilding it costs a whole kNN build; here only the hidden nodes'
 * similarities are computed, O(#hidden samples * N * d):
 *   - a hidden node (i, m) is marked missing and stops sending: its knn out-edges and its member
 *     edge (i, m) -> hub i are dropped; its self loop and hub i -> (i, m) stay;
 *   - it is linked as a missing node: knn in-edges from the k observed, not hidden nodes (j, m),
 *     j != i, ranked by the mean similarity over the modalities i and j both still have. The
 *     features are standardised over the rows that remain observed, as a rebuild does, and the
 *     kNN kernel's own missing-node pass ranks them (gfuse_i_knn_link_missing: sgemm tiles,
 *     rescoring in double, ties by smaller j, similarity as the weight), so these in-edges are
 *     exactly those a rebuild with the same hidden mask gives;
 *   - every other row is the full graph's minus its edges from hidden nodes.
 * Where this differs from a rebuild: a node that is not hidden keeps its full-graph knn list
 * minus the hidden sources, with no replacement, so it may have fewer than k knn in-edges; its
 * similarities keep the full graph's standardisation, and a missing node of a sample with a
 * hidden modality keeps its ranking over the modalities of the full graph.
 *
 * Rows are counted and filled in parallel, each thread writing only its own rows, and the kNN
 * kernel gives the same lists for any thread count: the variant does not depend on it.
 */
#include "knn_prep.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Edges of the full graph below which rows are counted and filled serially. */
#define PARALLEL_EDGES 65536

/* Whether in-edge e of the full graph survives in the variant: its source is no hidden node. */
static inline int kept(const struct gfuse_graph *full, const uint8_t *hid, int64_t e)
{
    int64_t u = full->in_src[e];
    return u >= full->n_samples * full->n_mod || !hid[u];
}

/* Fills the variant's rows: hidden rows from their new knn lists (as the builder fills a row),
 * the others copied from the full graph without the edges from hidden nodes. Returns the
 * number of missing nodes left without a knn in-edge. */
static int64_t fill_variant(struct gfuse_graph *g, const struct gfuse_graph *full,
                            const uint8_t *hid, const gfuse_i_knn *knn, int weighted)
{
    int64_t n = g->n_samples, n_mod_nodes = n * g->n_mod;
    int k = knn->k;
    int64_t isolated = 0;
#pragma omp parallel for schedule(static) reduction(+ : isolated) \
    if (full->n_edges > PARALLEL_EDGES)
    for (int64_t v = 0; v < g->n_nodes; v++) {
        int64_t e = g->in_ptr[v];
        int64_t n_knn = 0;
        if (v < n_mod_nodes && hid[v]) {
            int64_t i = v % n, base = v - i;
            for (int t = 0; t < knn->count[v]; t++, e++) {
                g->in_src[e] = base + knn->nbr[v * k + t];
                g->in_rel[e] = GFUSE_I_REL_KNN;
                g->in_w[e] = weighted ? knn->sim[v * k + t] : 1.0f;
            }
            n_knn = knn->count[v];
            g->in_src[e] = v;
            g->in_rel[e] = GFUSE_I_REL_SELF;
            g->in_w[e] = 1.0f;
            e++;
            gfuse_i_graph_sort_row(g, g->in_ptr[v], e);
            g->in_src[e] = n_mod_nodes + i;
            g->in_rel[e] = GFUSE_I_REL_MEMBER;
            g->in_w[e] = 1.0f;
        } else {
            for (int64_t f = full->in_ptr[v]; f < full->in_ptr[v + 1]; f++) {
                if (!kept(full, hid, f)) continue;
                g->in_src[e] = full->in_src[f];
                g->in_rel[e] = full->in_rel[f];
                g->in_w[e] = full->in_w[f];
                n_knn += full->in_rel[f] == GFUSE_I_REL_KNN;
                e++;
            }
        }
        if (v < n_mod_nodes && !g->observed[v] && n_knn == 0) isolated++;
    }
    return isolated;
}

gfuse_status gfuse_i_graph_variant(struct gfuse_graph **out, const struct gfuse_graph *full,
                                   const int64_t *d, const float *const *x,
                                   const uint8_t *hidden, const gfuse_graph_options *opts)
{
    GFUSE_CHECK_ARG(out != NULL, "out must not be NULL");
    *out = NULL;
    GFUSE_CHECK_ARG(full != NULL, "the full graph must not be NULL");
    GFUSE_CHECK_ARG(d != NULL && x != NULL, "the feature rows must not be NULL");
    GFUSE_CHECK_ARG(hidden != NULL, "the hidden mask must not be NULL");
    gfuse_graph_options defaults;
    gfuse_graph_options_init(&defaults);
    const gfuse_graph_options *o = opts ? opts : &defaults;
    gfuse_status st = gfuse_i_graph_check_options(o);
    if (st != GFUSE_OK) return st;
    GFUSE_CHECK_ARG(o->k == full->k, "k (%d) must be the full graph's (%d)", o->k, full->k);

    int64_t n = full->n_samples, nmn = n * full->n_mod, nn = full->n_nodes;
    gfuse_i_knn_prep p;
    gfuse_i_knn knn;
    memset(&p, 0, sizeof p);
    memset(&knn, 0, sizeof knn);
    struct gfuse_graph *g = calloc(1, sizeof *g);
    uint8_t *hid = malloc((size_t)(nmn > 0 ? nmn : 1));     /* hidden observed nodes */
    uint8_t *present = malloc((size_t)(nmn > 0 ? nmn : 1)); /* observed in the variant */
    if (!g || !hid || !present) goto nomem;
    g->n_samples = n;
    g->n_mod = full->n_mod;
    g->n_nodes = nn;
    g->k = full->k;
    g->observed = malloc((size_t)nn);
    g->in_ptr = malloc((size_t)(nn + 1) * sizeof *g->in_ptr);
    g->out_ptr = malloc((size_t)(nn + 1) * sizeof *g->out_ptr);
    if (!g->observed || !g->in_ptr || !g->out_ptr) goto nomem;
    for (int64_t v = 0; v < nmn; v++) {
        hid[v] = full->observed[v] && hidden[v];
        present[v] = full->observed[v] && !hid[v];
    }
    memcpy(g->observed, present, (size_t)nmn);
    memcpy(g->observed + nmn, full->observed + nmn, (size_t)(nn - nmn));

    st = gfuse_i_knn_prep_init_rows(&p, n, full->n_mod, d, x, present, o);
    if (st != GFUSE_OK) goto fail;
    st = gfuse_i_knn_link_missing(&knn, &p, hid);
    gfuse_i_knn_prep_free(&p);
    if (st != GFUSE_OK) goto fail;

#pragma omp parallel for schedule(static) if (full->n_edges > PARALLEL_EDGES)
    for (int64_t v = 0; v < nn; v++) {
        if (v < nmn && hid[v]) {
            g->in_ptr[v] = knn.count[v] + 2;
            continue;
        }
        int64_t deg = 0;
        for (int64_t e = full->in_ptr[v]; e < full->in_ptr[v + 1]; e++) deg += kept(full, hid, e);
        g->in_ptr[v] = deg;
    }
    gfuse_i_prefix_sum(g->in_ptr, nn);
    g->n_edges = g->in_ptr[nn];
    size_t ne = (size_t)(g->n_edges > 0 ? g->n_edges : 1);
    g->in_src = malloc(ne * sizeof *g->in_src);
    g->in_rel = malloc(ne * sizeof *g->in_rel);
    g->in_w = malloc(ne * sizeof *g->in_w);
    g->out_dst = malloc(ne * sizeof *g->out_dst);
    g->out_eid = malloc(ne * sizeof *g->out_eid);
    if (!g->in_src || !g->in_rel || !g->in_w || !g->out_dst || !g->out_eid) goto nomem;
    g->n_isolated_missing = fill_variant(g, full, hid, &knn, o->weighted);
    gfuse_i_knn_free(&knn);

    st = gfuse_i_graph_transpose(g);
    if (st != GFUSE_OK) goto fail;
    if (o->reorder != GFUSE_ORDER_NATURAL) {
        st = gfuse_i_graph_order(g, o->reorder);
        if (st != GFUSE_OK) goto fail;
    }
    free(hid);
    free(present);
    *out = g;
    return GFUSE_OK;
nomem:
    st = gfuse_i_nomem("the modality-dropout graph");
fail:
    gfuse_i_knn_free(&knn);
    gfuse_i_graph_release(g);
    free(hid);
    free(present);
    return st;
}
