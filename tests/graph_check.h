/* graph_check.h: the invariants every built graph must hold, checked by the graph, GAT and
 * bench tests: node count N * (M + 1), row pointers spanning the edges and never decreasing,
 * sources in range and strictly ascending in each row, relations known, and the transposed
 * (out-edge) index an exact mirror of the in-edges in edge order. GFUSE_ERR_RUNTIME with a
 * message naming the first violation. */
#ifndef GFUSE_TESTS_GRAPH_CHECK_H
#define GFUSE_TESTS_GRAPH_CHECK_H

#include "graph/graph.h"

static gfuse_status tu_graph_validate(const struct gfuse_graph *g)
{
    int64_t nn = g->n_nodes, ne = g->n_edges;
    if (nn != g->n_samples * (g->n_mod + 1))
        return gfuse_i_error(GFUSE_ERR_RUNTIME, "graph: %lld nodes, expected %lld",
                             (long long)nn, (long long)(g->n_samples * (g->n_mod + 1)));
    if (g->in_ptr[0] != 0 || g->in_ptr[nn] != ne || g->out_ptr[0] != 0 || g->out_ptr[nn] != ne)
        return gfuse_i_error(GFUSE_ERR_RUNTIME, "graph: row pointers do not span the %lld edges",
                             (long long)ne);
    for (int64_t v = 0; v < nn; v++) {
        if (g->in_ptr[v + 1] < g->in_ptr[v] || g->out_ptr[v + 1] < g->out_ptr[v])
            return gfuse_i_error(GFUSE_ERR_RUNTIME, "graph: row pointers decrease at node %lld",
                                 (long long)v);
        for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++) {
            if (g->in_src[e] < 0 || g->in_src[e] >= nn || g->in_rel[e] >= GFUSE_I_N_REL)
                return gfuse_i_error(GFUSE_ERR_RUNTIME, "graph: edge %lld is out of range",
                                     (long long)e);
            if (e > g->in_ptr[v] && g->in_src[e] <= g->in_src[e - 1])
                return gfuse_i_error(GFUSE_ERR_RUNTIME,
                                     "graph: sources of node %lld are not strictly ascending",
                                     (long long)v);
        }
        for (int64_t t = g->out_ptr[v]; t < g->out_ptr[v + 1]; t++) {
            int64_t e = g->out_eid[t], dst = g->out_dst[t];
            if (e < 0 || e >= ne || dst < 0 || dst >= nn || g->in_src[e] != v ||
                e < g->in_ptr[dst] || e >= g->in_ptr[dst + 1])
                return gfuse_i_error(GFUSE_ERR_RUNTIME,
                                     "graph: transpose entry %lld does not match edge %lld",
                                     (long long)t, (long long)e);
            if (t > g->out_ptr[v] && e <= g->out_eid[t - 1])
                return gfuse_i_error(GFUSE_ERR_RUNTIME,
                                     "graph: out-edges of node %lld are not in edge order",
                                     (long long)v);
        }
    }
    return GFUSE_OK;
}

#endif
