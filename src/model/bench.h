/*
 * bench.h: the benchmark's internals shared with the kernel benchmark (bench/gat_bench.c): the
 * PyTorch Geometric peer's graph and data (gfuse.h, benchmark section) and the traffic model of
 * the GAT forward kernel.
 */
#ifndef GFUSE_BENCH_H
#define GFUSE_BENCH_H

#include "graph/graph.h"

/* The peer's problem: V = N + N * M nodes, sample i = node i, modality m of sample i =
 * N + m * N + i. The graph is a struct gfuse_graph over these ids (n_samples = V, n_mod = 0:
 * the node layout helpers of graph/graph.h do not apply) with one relation (0) on every edge,
 * a self loop on every node, weights 1, sources ascending in every row and its transpose. */
typedef struct {
    int64_t N;
    int M;
    int64_t d;           /* raw features per modality */
    int C;               /* classes */
    float **x;           /* M arrays of N x d, i.i.d. N(0, 1) */
    int32_t *label;      /* N, in 0 .. C-1 */
    struct gfuse_graph *g;
    int64_t knn_edges;   /* directed kNN edges (both directions of every undirected one) */
} gfuse_i_peer_problem;

/* Makes the features and labels and either reads the graph the peer exported (stem != NULL:
 * STEM.edges.i32 holds E sources then E destinations as little-endian int32, STEM.labels.i32
 * N labels) or builds the same recipe: a member edge each way between every sample node and
 * its modality nodes, and per modality the union of every node's k nearest nodes by Euclidean
 * distance on the raw features (exact, ties to the smaller index), stored in both directions.
 * Self loops are then added (a self loop in the input is dropped first, as GATConv does).
 * *graph_s gets the seconds spent on the graph. Errors: GFUSE_ERR_ARG, GFUSE_ERR_IO,
 * GFUSE_ERR_DATA (an export that does not fit N, M or C), GFUSE_ERR_NOMEM. */
gfuse_status gfuse_i_peer_problem_make(gfuse_i_peer_problem *p, int64_t N, int M, int64_t d,
                                       int C, int k, uint64_t seed, const char *stem,
                                       double *graph_s);
void gfuse_i_peer_problem_free(gfuse_i_peer_problem *p);

/* The bytes one gfuse_i_gat_forward call over g must move at least with H heads of width D:
 * the CSR (64-bit pointers and sources, 8-bit relations), the node states read by the score
 * pass and again by the aggregation, the per-node score halves written and read, the
 * attention written and the output written. */
double gfuse_i_gat_forward_bytes(const struct gfuse_graph *g, int H, int D);

#endif
