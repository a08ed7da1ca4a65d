/* graph.c: building the sample-modality graph from the kNN lists, options, accessors, free. */
#include "graph/graph.h"
#include "core/util.h"
#include "cohort/cohort.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Largest k accepted: keeps the per-node lists and heaps addressable with int. */
#define K_MAX 100000

void gfuse_graph_options_init(gfuse_graph_options *opts)
{
    if (!opts) return;
    memset(opts, 0, sizeof *opts);
    opts->k = 10;
    opts->metric = GFUSE_METRIC_COSINE;
    opts->standardize = 1;
    opts->weighted = 1;
    opts->reorder = GFUSE_ORDER_NATURAL;
}

gfuse_status gfuse_i_graph_check_options(const gfuse_graph_options *o)
{
    GFUSE_CHECK_ARG(o->k >= 1 && o->k <= K_MAX, "k must be between 1 and %d, got %d", K_MAX,
                    o->k);
    GFUSE_CHECK_ARG(o->metric == GFUSE_METRIC_COSINE || o->metric == GFUSE_METRIC_EUCLIDEAN,
                    "metric must be GFUSE_METRIC_COSINE or GFUSE_METRIC_EUCLIDEAN, got %d",
                    (int)o->metric);
    GFUSE_CHECK_ARG(o->reorder == GFUSE_ORDER_NATURAL || o->reorder == GFUSE_ORDER_RCM ||
                        o->reorder == GFUSE_ORDER_AMD,
                    "reorder must be natural, RCM or AMD, got %d", (int)o->reorder);
    return GFUSE_OK;
}

void gfuse_i_graph_clear(struct gfuse_graph *g)
{
    free(g->observed);
    free(g->in_ptr);
    free(g->in_src);
    free(g->in_rel);
    free(g->in_w);
    free(g->out_ptr);
    free(g->out_dst);
    free(g->out_eid);
    free(g->row_order);
    memset(g, 0, sizeof *g);
}

void gfuse_i_graph_release(struct gfuse_graph *g)
{
    if (!g) return;
    gfuse_i_graph_clear(g);
    free(g);
}

gfuse_status gfuse_i_graph_done(gfuse_graph **out, struct gfuse_graph *g, gfuse_row_order reorder,
                                gfuse_status st)
{
    if (st == GFUSE_OK) st = gfuse_i_graph_finish(g, reorder);
    if (st == GFUSE_OK) {
        *out = g;
        return GFUSE_OK;
    }
    gfuse_i_graph_release(g);
    return st;
}

void gfuse_graph_free(gfuse_graph **g)
{
    if (!g) return;
    gfuse_i_graph_release(*g);
    *g = NULL;
}

void gfuse_i_graph_sort_row(struct gfuse_graph *g, int64_t e0, int64_t e1)
{
    for (int64_t a = e0 + 1; a < e1; a++) {
        int64_t src = g->in_src[a];
        uint8_t rel = g->in_rel[a];
        float w = g->in_w[a];
        int64_t b = a;
        while (b > e0 && g->in_src[b - 1] > src) {
            g->in_src[b] = g->in_src[b - 1];
            g->in_rel[b] = g->in_rel[b - 1];
            g->in_w[b] = g->in_w[b - 1];
            b--;
        }
        g->in_src[b] = src;
        g->in_rel[b] = rel;
        g->in_w[b] = w;
    }
}

/* Fills modality node v's in-edges: its count knn sources (sample indices nbr within v's
 * modality block, weights sim when weighted, else 1), its self loop, sorted ascending, then the
 * member edge from its sample's hub. */
void gfuse_i_graph_fill_mod_row(struct gfuse_graph *g, int64_t v, int count, const int64_t *nbr,
                                const float *sim, int weighted)
{
    int64_t n = g->n_samples, n_mod_nodes = n * g->n_mod;
    int64_t e = g->in_ptr[v];
    int64_t i = v % n, base = v - i;
    for (int t = 0; t < count; t++, e++) {
        g->in_src[e] = base + nbr[t];
        g->in_rel[e] = GFUSE_I_REL_KNN;
        g->in_w[e] = weighted ? sim[t] : 1.0f;
    }
    g->in_src[e] = v;
    g->in_rel[e] = GFUSE_I_REL_SELF;
    g->in_w[e] = 1.0f;
    e++;
    gfuse_i_graph_sort_row(g, g->in_ptr[v], e);
    g->in_src[e] = n_mod_nodes + i;
    g->in_rel[e] = GFUSE_I_REL_MEMBER;
    g->in_w[e] = 1.0f;
}

/* Fills the destination CSR from the kNN lists. Sources within a row end up ascending:
 * knn sources and the self loop lie in the node's modality block (sorted here), the hub comes
 * after every modality block; a hub's sources are its modality nodes (ascending m), then
 * itself. */
static void fill_rows(struct gfuse_graph *g, const gfuse_i_knn *knn, int weighted)
{
    int64_t n = g->n_samples;
    int nm = g->n_mod, k = knn->k;
    int64_t n_mod_nodes = n * nm;
#pragma omp parallel for schedule(static) if (g->n_edges > 65536)
    for (int64_t v = 0; v < g->n_nodes; v++) {
        if (v < n_mod_nodes) {
            gfuse_i_graph_fill_mod_row(g, v, knn->count[v], knn->nbr + v * k, knn->sim + v * k,
                                       weighted);
        } else {
            int64_t e = g->in_ptr[v];
            int64_t i = v - n_mod_nodes;
            for (int m = 0; m < nm; m++) {
                if (!g->observed[(int64_t)m * n + i]) continue;
                g->in_src[e] = (int64_t)m * n + i;
                g->in_rel[e] = GFUSE_I_REL_MEMBER;
                g->in_w[e] = 1.0f;
                e++;
            }
            g->in_src[e] = v;
            g->in_rel[e] = GFUSE_I_REL_SELF;
            g->in_w[e] = 1.0f;
        }
    }
}

int gfuse_i_graph_alloc_nodes(struct gfuse_graph *g)
{
    int64_t nn = g->n_nodes;
    g->observed = gfuse_i_alloc(nn, 1);
    g->in_ptr = gfuse_i_alloc(nn + 1, sizeof *g->in_ptr);
    g->out_ptr = gfuse_i_alloc(nn + 1, sizeof *g->out_ptr);
    return !g->observed || !g->in_ptr || !g->out_ptr ? -1 : 0;
}

int gfuse_i_graph_alloc_edges(struct gfuse_graph *g)
{
    gfuse_i_prefix_sum(g->in_ptr, g->n_nodes);
    g->n_edges = g->in_ptr[g->n_nodes];
    size_t ne = (size_t)g->n_edges;
    g->in_src = gfuse_i_alloc(ne, sizeof *g->in_src);
    g->in_rel = gfuse_i_alloc(ne, sizeof *g->in_rel);
    g->in_w = gfuse_i_alloc(ne, sizeof *g->in_w);
    g->out_dst = gfuse_i_alloc(ne, sizeof *g->out_dst);
    g->out_eid = gfuse_i_alloc(ne, sizeof *g->out_eid);
    return !g->in_src || !g->in_rel || !g->in_w || !g->out_dst || !g->out_eid ? -1 : 0;
}

gfuse_status gfuse_i_graph_finish(struct gfuse_graph *g, gfuse_row_order reorder)
{
    gfuse_status st = gfuse_i_graph_transpose(g);
    if (st == GFUSE_OK && reorder != GFUSE_ORDER_NATURAL) st = gfuse_i_graph_order(g, reorder);
    return st;
}

gfuse_status gfuse_i_graph_build(struct gfuse_graph **out, const gfuse_i_view *view,
                                 const gfuse_graph_options *opts, const uint8_t *sender)
{
    GFUSE_CHECK_ARG(out != NULL, "out must not be NULL");
    *out = NULL;
    GFUSE_CHECK_ARG(view != NULL, "the view must not be NULL");
    gfuse_graph_options defaults;
    gfuse_graph_options_init(&defaults);
    const gfuse_graph_options *o = opts ? opts : &defaults;
    gfuse_status st = gfuse_i_graph_check_options(o);
    if (st != GFUSE_OK) return st;
    GFUSE_CHECK_ARG(view->n >= 1, "the cohort has no sample");
    GFUSE_CHECK_ARG(view->M >= 1, "the cohort has no modality");

    int64_t n = view->n;
    int nm = view->M;
    gfuse_i_knn knn;
    memset(&knn, 0, sizeof knn);
    struct gfuse_graph *g = gfuse_i_zalloc(1, sizeof *g);
    if (!g) return gfuse_i_nomem("the graph");
    g->n_samples = n;
    g->n_mod = nm;
    g->n_nodes = n * (nm + 1);
    g->k = o->k;
    GFUSE_TRY_MEM(gfuse_i_graph_alloc_nodes(g) == 0, "the graph");
    memcpy(g->observed, view->has, (size_t)(n * nm)); /* the view's layout is the node ids' */
    memset(g->observed + (int64_t)nm * n, 1, (size_t)n);

    GFUSE_TRY(gfuse_i_knn_build(&knn, view, o, sender));

    for (int64_t v = 0; v < n * nm; v++) {
        g->in_ptr[v] = knn.count[v] + 2;
        if (!g->observed[v] && knn.count[v] == 0) g->n_isolated_missing++;
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t deg = 1;
        for (int m = 0; m < nm; m++) deg += g->observed[(int64_t)m * n + i];
        g->in_ptr[n * nm + i] = deg;
    }
    GFUSE_TRY_MEM(gfuse_i_graph_alloc_edges(g) == 0, "the graph");
    fill_rows(g, &knn, o->weighted);
done:
    gfuse_i_knn_free(&knn);
    return gfuse_i_graph_done(out, g, o->reorder, st);
}

gfuse_status gfuse_graph_build(gfuse_graph **out, const gfuse_cohort *c,
                               const gfuse_graph_options *opts)
{
    GFUSE_CHECK_ARG(out != NULL, "out must not be NULL");
    *out = NULL;
    GFUSE_CHECK_ARG(c != NULL, "cohort must not be NULL");
    gfuse_i_view v;
    gfuse_status st = gfuse_i_cohort_view(&v, c);
    if (st != GFUSE_OK) return st;
    st = gfuse_i_graph_build(out, &v, opts, NULL);
    gfuse_i_view_release(&v);
    return st;
}

int64_t gfuse_graph_n_nodes(const gfuse_graph *g) { return g ? g->n_nodes : 0; }
int64_t gfuse_graph_n_edges(const gfuse_graph *g) { return g ? g->n_edges : 0; }
int64_t gfuse_graph_n_samples(const gfuse_graph *g) { return g ? g->n_samples : 0; }
int gfuse_graph_n_modalities(const gfuse_graph *g) { return g ? g->n_mod : 0; }
int gfuse_graph_k(const gfuse_graph *g) { return g ? g->k : 0; }
int64_t gfuse_graph_n_isolated_missing(const gfuse_graph *g)
{
    return g ? g->n_isolated_missing : 0;
}

int64_t gfuse_graph_node(const gfuse_graph *g, int64_t sample, int modality)
{
    if (!g || sample < 0 || sample >= g->n_samples || modality < -1 || modality >= g->n_mod)
        return -1;
    return modality < 0 ? gfuse_i_hub_of(g, sample) : gfuse_i_node_of(g, sample, modality);
}

int gfuse_graph_node_info(const gfuse_graph *g, int64_t node, int64_t *sample, int *modality)
{
    if (!g || node < 0 || node >= g->n_nodes) return -1;
    int64_t m = node / g->n_samples;
    if (sample) *sample = node % g->n_samples;
    if (modality) *modality = m < g->n_mod ? (int)m : -1;
    return g->observed[node];
}

void gfuse_graph_csr(const gfuse_graph *g, const int64_t **ptr, const int64_t **src,
                     const uint8_t **rel, const float **w)
{
    if (ptr) *ptr = g ? g->in_ptr : NULL;
    if (src) *src = g ? g->in_src : NULL;
    if (rel) *rel = g ? g->in_rel : NULL;
    if (w) *w = g ? g->in_w : NULL;
}

void gfuse_graph_csr_by_source(const gfuse_graph *g, const int64_t **ptr, const int64_t **dst,
                               const int64_t **eid)
{
    if (ptr) *ptr = g ? g->out_ptr : NULL;
    if (dst) *dst = g ? g->out_dst : NULL;
    if (eid) *eid = g ? g->out_eid : NULL;
}

const int64_t *gfuse_graph_row_order(const gfuse_graph *g) { return g ? g->row_order : NULL; }
