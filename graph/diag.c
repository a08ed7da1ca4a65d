/*
 * diag.c: graph diagnostics with igraph: edges per relation, in-degree per node kind, weakly
 * connected components, and how far missing nodes are from observed information.
 *
 * Reachability: a missing node learns only from what reaches it along directed edges. A
 * virtual source is joined to every observed modality node, and one breadth-first search from
 * it (igraph_distances) gives each missing node its hop count to the nearest observed node.
 * igraph runs with the non-aborting handler gfuse_init installs; every igraph_error_t is
 * checked, and nothing here runs inside an OpenMP region.
 */
#include "graph/graph.h"
#include "core/util.h"

#include <igraph.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Node kinds of gfuse_graph_stats: observed modality node, missing modality node, hub. */
static int node_kind(const struct gfuse_graph *g, int64_t v)
{
    if (v >= (int64_t)g->n_mod * g->n_samples) return 2;
    return g->observed[v] ? 0 : 1;
}

/* The status of an igraph call: GFUSE_OK, or its error recorded (what names the call). */
static gfuse_status ig_status(igraph_error_t err, const char *what)
{
    if (err == IGRAPH_SUCCESS) return GFUSE_OK;
    if (err == IGRAPH_ENOMEM) return gfuse_i_nomem(what);
    return gfuse_i_error(GFUSE_ERR_RUNTIME, "igraph failed in %s: %s", what,
                         igraph_strerror(err));
}

/* GFUSE_TRY for an igraph call. */
#define IG_TRY(call, what) GFUSE_TRY(ig_status((call), what))

gfuse_status gfuse_graph_stats_compute(const gfuse_graph *g, int max_hops, gfuse_graph_stats *out)
{
    GFUSE_CHECK_ARG(out != NULL, "out must not be NULL");
    memset(out, 0, sizeof *out);
    GFUSE_CHECK_ARG(g != NULL, "graph must not be NULL");
    GFUSE_CHECK_ARG(max_hops >= 1 && max_hops <= 1000, "max_hops must be between 1 and 1000, "
                    "got %d", max_hops);
    if (!gfuse_i_initialised())
        return gfuse_i_error(GFUSE_ERR_STATE, "gfuse_init must be called before "
                             "gfuse_graph_stats_compute");
    gfuse_status st = GFUSE_OK;
    int64_t nn = g->n_nodes, ne = g->n_edges;
    igraph_t ig;
    int have_graph = 0, have_edges = 0, have_deg = 0, have_memb = 0, have_csize = 0,
        have_dist = 0;
    igraph_vector_int_t edges, deg, memb, csize;
    igraph_matrix_t dist;

    out->n_nodes = nn;
    out->n_edges = ne;
    out->max_hops = max_hops;
    out->n_isolated_missing = g->n_isolated_missing;
    out->reachable_within = gfuse_i_zalloc(max_hops, sizeof *out->reachable_within);
    GFUSE_TRY_MEM(out->reachable_within, "the graph statistics");
    for (int64_t e = 0; e < ne; e++) out->edges_by_relation[g->in_rel[e]]++;

    IG_TRY(igraph_vector_int_init(&edges, 2 * ne), "igraph_vector_int_init");
    have_edges = 1;
    for (int64_t v = 0; v < nn; v++)
        for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++) {
            VECTOR(edges)[2 * e] = g->in_src[e];
            VECTOR(edges)[2 * e + 1] = v;
        }
    IG_TRY(igraph_create(&ig, &edges, nn, IGRAPH_DIRECTED), "igraph_create");
    have_graph = 1;

    /* In-degree (self loops counted once) per node kind. */
    IG_TRY(igraph_vector_int_init(&deg, 0), "igraph_vector_int_init");
    have_deg = 1;
    IG_TRY(igraph_degree(&ig, &deg, igraph_vss_all(), IGRAPH_IN, IGRAPH_LOOPS), "igraph_degree");
    double deg_sum[3] = {0, 0, 0};
    for (int64_t v = 0; v < nn; v++) {
        int kind = node_kind(g, v);
        int64_t d = VECTOR(deg)[v];
        if (out->nodes_by_kind[kind] == 0 || d < out->in_degree_min[kind])
            out->in_degree_min[kind] = d;
        if (d > out->in_degree_max[kind]) out->in_degree_max[kind] = d;
        out->nodes_by_kind[kind]++;
        deg_sum[kind] += (double)d;
    }
    for (int kind = 0; kind < 3; kind++)
        out->in_degree_mean[kind] =
            out->nodes_by_kind[kind] ? deg_sum[kind] / (double)out->nodes_by_kind[kind] : 0.0;

    /* Weakly connected components. */
    IG_TRY(igraph_vector_int_init(&memb, 0), "igraph_vector_int_init");
    have_memb = 1;
    IG_TRY(igraph_vector_int_init(&csize, 0), "igraph_vector_int_init");
    have_csize = 1;
    igraph_integer_t n_comp = 0;
    IG_TRY(igraph_connected_components(&ig, &memb, &csize, &n_comp, IGRAPH_WEAK),
           "igraph_connected_components");
    out->n_components = n_comp;
    for (igraph_integer_t t = 0; t < n_comp; t++)
        if (VECTOR(csize)[t] > out->largest_component) out->largest_component = VECTOR(csize)[t];

    /* Hops from observed information: a virtual source -> every observed modality node. */
    int64_t n_obs = 0, n_mod_nodes = (int64_t)g->n_mod * g->n_samples;
    for (int64_t v = 0; v < n_mod_nodes; v++) n_obs += g->observed[v];
    IG_TRY(igraph_vector_int_resize(&edges, 2 * n_obs), "igraph_vector_int_resize");
    for (int64_t v = 0, t = 0; v < n_mod_nodes; v++)
        if (g->observed[v]) {
            VECTOR(edges)[2 * t] = nn;
            VECTOR(edges)[2 * t + 1] = v;
            t++;
        }
    IG_TRY(igraph_add_vertices(&ig, 1, NULL), "igraph_add_vertices");
    IG_TRY(igraph_add_edges(&ig, &edges, NULL), "igraph_add_edges");
    IG_TRY(igraph_matrix_init(&dist, 0, 0), "igraph_matrix_init");
    have_dist = 1;
    IG_TRY(igraph_distances(&ig, &dist, igraph_vss_1(nn), igraph_vss_all(), IGRAPH_OUT),
           "igraph_distances");
    for (int64_t v = 0; v < n_mod_nodes; v++) {
        if (g->observed[v]) continue;
        double d = MATRIX(dist, 0, v);
        if (!isfinite(d)) {
            out->missing_unreachable++;
            continue;
        }
        int64_t hops = (int64_t)d - 1; /* minus the virtual edge */
        for (int64_t h = hops; h <= max_hops; h++)
            if (h >= 1) out->reachable_within[h - 1]++;
    }
done:
    if (have_dist) igraph_matrix_destroy(&dist);
    if (have_csize) igraph_vector_int_destroy(&csize);
    if (have_memb) igraph_vector_int_destroy(&memb);
    if (have_deg) igraph_vector_int_destroy(&deg);
    if (have_graph) igraph_destroy(&ig);
    if (have_edges) igraph_vector_int_destroy(&edges);
    if (st != GFUSE_OK) gfuse_graph_stats_free(out);
    return st;
}

void gfuse_graph_stats_free(gfuse_graph_stats *s)
{
    if (!s) return;
    free(s->reachable_within);
    memset(s, 0, sizeof *s);
}
