/*
 * grb_ref.h: reference kernels for the tests and benchmarks, not part of the library. The
 * aggregation product out = A . H (A: destinations x sources, weights in_w) three ways: a
 * plain serial loop, an OpenMP kernel, and, when configure found SuiteSparse:GraphBLAS
 * (HAVE_GRAPHBLAS), GrB_mxm on the graph's CSR handed over without copying.
 */
#ifndef GFUSE_TESTS_GRB_REF_H
#define GFUSE_TESTS_GRB_REF_H

#include "graph/graph.h"

/* out (n_nodes x f, row-major) = A . h (n_nodes x f): out[v] = sum over in-edges e of v of
 * in_w[e] * h[in_src[e]], edges in CSR order. The serial reference: */
void gfuse_i_graph_spmm_serial(const struct gfuse_graph *g, const float *h, int64_t f,
                               float *out);
/* The OpenMP kernel: rows visited in g->row_order when set, each row summed in CSR order, so
 * the result is bitwise equal to the serial reference for any thread count. */
void gfuse_i_graph_spmm(const struct gfuse_graph *g, const float *h, int64_t f, float *out);

#if HAVE_GRAPHBLAS
#include <GraphBLAS.h>

/* Initialises GraphBLAS on first use (finalised at exit) and sets its thread count to
 * gfuse_get_threads(). The functions below call it themselves; a caller that uses GraphBLAS
 * directly calls it first. */
gfuse_status grb_ref_init(void);

/* Moves in_ptr, in_src and in_w into a new GraphBLAS matrix *A (n_nodes x n_nodes, FP32,
 * sparse by row; A(v, u) = weight of edge u -> v) with GxB_Matrix_pack_CSR: no copy. Until
 * gfuse_i_graph_unpack returns them, the graph's in_ptr, in_src and in_w are NULL and the
 * graph must not be used by anything but *A. On failure the graph keeps its arrays. */
gfuse_status gfuse_i_graph_pack(struct gfuse_graph *g, GrB_Matrix *A);
/* Gives the arrays back to the graph (GxB_Matrix_unpack_CSR, no copy) and frees *A. */
gfuse_status gfuse_i_graph_unpack(struct gfuse_graph *g, GrB_Matrix *A);

/* The same product by GraphBLAS (GrB_mxm, PLUS_TIMES over FP32) on the packed graph; the
 * graph is unpacked again before returning. Summation order is GraphBLAS's own. */
gfuse_status gfuse_i_graph_spmm_graphblas(struct gfuse_graph *g, const float *h, int64_t f,
                                          float *out);
#endif

#endif
