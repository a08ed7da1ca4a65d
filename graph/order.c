/*
 * order.c: row visiting orders that improve memory locality of the sparse kernels. Rows that
 * share sources are visited close together, so the source feature rows they gather stay in
 * cache. Node ids are never renamed: g->row_order only changes the order kernels visit rows.
 */
#include "graph/graph.h"
#include "core/util.h"

#include <amd.h>
#include <stdlib.h>
#include <string.h>

/* Reverse Cuthill-McKee: breadth-first search over the symmetrised pattern, each component
 * started from a node of minimum degree, neighbours queued by ascending degree (then id);
 * the visit order reversed. */
static gfuse_status order_rcm(const struct gfuse_graph *g, int64_t *order)
{
    int64_t nn = g->n_nodes;
    gfuse_status st = GFUSE_OK;
    int64_t *deg = gfuse_i_alloc(nn, sizeof *deg);
    int64_t *by_deg = gfuse_i_alloc(nn, sizeof *by_deg);
    uint8_t *seen = gfuse_i_zalloc(nn, 1);
    int64_t *bucket = NULL;
    GFUSE_TRY_MEM(deg && by_deg && seen, "the row order");
    int64_t max_deg = 0;
    for (int64_t v = 0; v < nn; v++) {
        deg[v] = (g->in_ptr[v + 1] - g->in_ptr[v]) + (g->out_ptr[v + 1] - g->out_ptr[v]);
        if (deg[v] > max_deg) max_deg = deg[v];
    }
    /* Nodes by ascending degree, then id (a counting sort). */
    bucket = gfuse_i_zalloc((size_t)max_deg + 2, sizeof *bucket);
    GFUSE_TRY_MEM(bucket, "the row order");
    for (int64_t v = 0; v < nn; v++) bucket[deg[v] + 1]++;
    for (int64_t d = 0; d <= max_deg; d++) bucket[d + 1] += bucket[d];
    for (int64_t v = 0; v < nn; v++) by_deg[bucket[deg[v]]++] = v;

    int64_t head = 0, tail = 0;
    for (int64_t s = 0; s < nn; s++) {
        int64_t start = by_deg[s];
        if (seen[start]) continue;
        seen[start] = 1;
        order[tail++] = start;
        while (head < tail) {
            int64_t v = order[head++];
            int64_t first = tail;
            for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++) {
                int64_t u = g->in_src[e];
                if (!seen[u]) {
                    seen[u] = 1;
                    order[tail++] = u;
                }
            }
            for (int64_t t = g->out_ptr[v]; t < g->out_ptr[v + 1]; t++) {
                int64_t u = g->out_dst[t];
                if (!seen[u]) {
                    seen[u] = 1;
                    order[tail++] = u;
                }
            }
            /* The newly queued neighbours by (degree, id): few per node, insertion sort. */
            for (int64_t a = first + 1; a < tail; a++) {
                int64_t u = order[a], b = a;
                while (b > first && (deg[order[b - 1]] > deg[u] ||
                                     (deg[order[b - 1]] == deg[u] && order[b - 1] > u))) {
                    order[b] = order[b - 1];
                    b--;
                }
                order[b] = u;
            }
        }
    }
    for (int64_t a = 0, b = nn - 1; a < b; a++, b--) {
        int64_t t = order[a];
        order[a] = order[b];
        order[b] = t;
    }
done:
    free(deg);
    free(by_deg);
    free(seen);
    free(bucket);
    return st;
}

static gfuse_status order_amd(const struct gfuse_graph *g, int64_t *order)
{
    /* SuiteSparse_long is the 64-bit integer of the int64_t arrays on LP64 systems. */
    _Static_assert(sizeof(SuiteSparse_long) == sizeof(int64_t), "SuiteSparse_long is not 64-bit");
    double control[AMD_CONTROL], info[AMD_INFO];
    amd_l_defaults(control);
    SuiteSparse_long r = amd_l_order((SuiteSparse_long)g->n_nodes,
                                     (const SuiteSparse_long *)g->in_ptr,
                                     (const SuiteSparse_long *)g->in_src,
                                     (SuiteSparse_long *)order, control, info);
    if (r == AMD_OUT_OF_MEMORY) return gfuse_i_nomem("the AMD ordering");
    if (r != AMD_OK && r != AMD_OK_BUT_JUMBLED)
        return gfuse_i_error(GFUSE_ERR_RUNTIME, "AMD ordering failed (status %ld)", (long)r);
    return GFUSE_OK;
}

gfuse_status gfuse_i_graph_order(struct gfuse_graph *g, gfuse_row_order kind)
{
    int64_t *order = gfuse_i_alloc(g->n_nodes, sizeof *order);
    if (!order) return gfuse_i_nomem("the row order");
    gfuse_status st = GFUSE_OK;
    if (kind == GFUSE_ORDER_RCM) st = order_rcm(g, order);
    else if (kind == GFUSE_ORDER_AMD) st = order_amd(g, order);
    else st = gfuse_i_error(GFUSE_ERR_ARG, "unknown row order %d", (int)kind);
    if (st != GFUSE_OK) {
        free(order);
        return st;
    }
    free(g->row_order);
    g->row_order = order;
    return GFUSE_OK;
}
