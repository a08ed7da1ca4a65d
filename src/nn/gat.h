/*
 * gat.h: multi-head graph attention over the sample-modality graph (README.md, "The model").
 *
 * Dimension letters: V nodes, E edges, R = GFUSE_I_N_REL relations (knn, member, self),
 * H heads, D width per head, F = H * D. z_u,h is the h-th D-wide slice of row u of z.
 *
 * Forward, for every destination v and head h, over v's in-edges e = (u -> v) with relation r:
 *   s_src[u, r, h] = a_src[r, h] · z_u,h          s_dst[v, r, h] = a_dst[r, h] · z_v,h
 *   score_e,h      = LeakyReLU_0.2(s_src[u, r, h] + s_dst[v, r, h])
 *   alpha_e,h      = softmax over v's in-edges of score_e,h
 *   out_v,h        = sum_e drop_e,h * alpha_e,h * z_u,h        (heads concatenated: out is V x F)
 * where drop_e,h = gfuse_i_dropout_keep(seed, e * H + h, attn_drop) / (1 - attn_drop) is the
 * attention dropout (1 when attn_drop <= 0). Edge weights (g->in_w) are not used: the attention
 * learns how much each neighbour counts. A node with no (unmasked) in-edge gets out_v = 0.
 *
 * Sender mask: src_mask (V) or NULL. When given, an edge u -> v with u != v and src_mask[u] == 0
 * takes no part (alpha 0): the node then sends only its self loop, exactly like a missing node
 * (graph/graph.h). This is how modality dropout hides an observed node from its neighbours without
 * rebuilding the graph.
 *
 * Tensors:
 *   z (V x F) projected node states (the projection is a gfuse_i_linear layer);
 *   a_src, a_dst (R x H x D) attention parameters;
 *   out (V x F);
 *   cache: alpha (E x H) by in-edge index (before dropout), s_src, s_dst (V x R x H);
 *   gradients: dz (V x F), da_src, da_dst (R x H x D), accumulated (+=); dz may be NULL;
 *   work: gfuse_i_gat_work_floats(g, H, D) floats of scratch for the backward, overwritten.
 *
 * The optimised kernels fuse scores, softmax and aggregation per destination row (OpenMP over
 * rows in g->row_order when set, dynamic scheduling for skewed degrees); the backward runs a
 * destination pass then a source pass over the transpose, each thread writing only rows it
 * owns, and reduces the attention parameter gradients over fixed blocks of nodes in a fixed
 * order: bitwise identical results for any thread count. The _ref twins are plain serial loops
 * over edges that the tests compare against.
 */
#ifndef GFUSE_GAT_H
#define GFUSE_GAT_H

#include <stdint.h>

#include "graph/graph.h"

#define GFUSE_I_GAT_SLOPE 0.2f
/* Most heads the kernels take (H <= 64). */
#define GFUSE_I_GAT_MAX_HEADS 64

int64_t gfuse_i_gat_work_floats(const struct gfuse_graph *g, int H, int D);

void gfuse_i_gat_forward(float *out, float *alpha, float *s_src, float *s_dst, const float *z,
                         const float *a_src, const float *a_dst, const uint8_t *src_mask,
                         const struct gfuse_graph *g, int H, int D, float attn_drop,
                         uint64_t seed);
/* The forward pass at the destination rows rows[t], t < n_rows, only (distinct; rows NULL:
 * every row, in g->row_order when set): out and alpha of the other rows are left as they were,
 * s_src and s_dst are computed for every node (the sources). Each listed row's results are
 * those of the whole pass bit for bit. */
void gfuse_i_gat_forward_rows(float *out, float *alpha, float *s_src, float *s_dst,
                              const float *z, const float *a_src, const float *a_dst,
                              const uint8_t *src_mask, const struct gfuse_graph *g, int H, int D,
                              float attn_drop, uint64_t seed, const int64_t *rows,
                              int64_t n_rows);
void gfuse_i_gat_backward(float *dz, float *da_src, float *da_dst, float *work, const float *dout,
                          const float *alpha, const float *s_src, const float *s_dst,
                          const float *z, const float *a_src, const float *a_dst,
                          const uint8_t *src_mask, const struct gfuse_graph *g, int H, int D,
                          float attn_drop, uint64_t seed);

/* Serial reference twins: same arguments and results (up to float rounding order); the
 * reference backward needs no work array and no s_src/s_dst cache. */
void gfuse_i_gat_forward_ref(float *out, float *alpha, const float *z, const float *a_src,
                             const float *a_dst, const uint8_t *src_mask,
                             const struct gfuse_graph *g, int H, int D, float attn_drop,
                             uint64_t seed);
void gfuse_i_gat_backward_ref(float *dz, float *da_src, float *da_dst, const float *dout,
                              const float *alpha, const float *z, const float *a_src,
                              const float *a_dst, const uint8_t *src_mask,
                              const struct gfuse_graph *g, int H, int D, float attn_drop,
                              uint64_t seed);

#endif
