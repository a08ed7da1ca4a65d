/*
 * layers.h: the model's layers, each a forward/backward pair (README.md, "The model").
 *
 * Shape of every layer (after llm.c):
 *   X_forward(out, cache..., inp, weights..., dims)
 *   X_backward(dinp, dweights..., dout, cache..., inp, weights..., dims)
 * Backward passes ACCUMULATE (+=) into every gradient they are given, so the caller zeroes the
 * gradient arrays once per step. A gradient pointer documented as "may be NULL" is skipped (an
 * input layer needs no dinp). Forward outputs are overwritten, never accumulated. Input and
 * output arrays must not overlap unless a layer says so. Float32, row-major everywhere.
 *
 * Dimension letters:
 *   B   rows of a dense block (nodes, samples, or the observed rows of one modality)
 *   C   input width;   OC  output width
 *   S   length of a row index list (a subset of the rows of a larger array)
 *   n   element count of an element-wise layer
 *   V   graph nodes = N * (M + 1);   E  graph edges;   R  relations (3: knn, member, self)
 *   N   samples;   M  modalities;   J = M + 1 nodes per sample (its M modality nodes and hub)
 *   H   attention heads;   D  width per head;   F = H * D node state width
 *   A   width of the fusion head's attention projection
 *   K   classes
 * Node ids follow graph/graph.h: node (sample i, modality m) = m * N + i, hub of i = M * N + i,
 * so "slot" j of sample i (j < M a modality, j = M the hub) is node j * N + i.
 *
 * Parallelism: every layer runs OpenMP over the rows (or elements) it writes, with a serial
 * path for small inputs; reductions over rows (bias and token gradients, attention parameter
 * gradients) run in a fixed order, so results are bitwise identical for any thread count.
 * Dense products go through BLAS sgemm, cut into calls over a fixed tiling that depends on the
 * shapes only and run on OpenMP threads with BLAS single-threaded for the call (BLAS's own
 * threading splits sums differently for different thread counts); the BLAS thread count is
 * restored afterwards. Do not call the layers from inside an OpenMP parallel region.
 */
#ifndef GFUSE_LAYERS_H
#define GFUSE_LAYERS_H

#include <stdint.h>

#include "core/fastmath.h"
#include "core/internal.h"


/* ---- BLAS threads --------------------------------------------------------------------------
 * gfuse_i_blas_serial_begin makes BLAS (and the LAPACK that ships with it) single-threaded and
 * returns the thread count that gfuse_i_blas_serial_end restores; code between the two
 * parallelises over its own fixed tiling. */
int gfuse_i_blas_serial_begin(void);
void gfuse_i_blas_serial_end(int n);

/* ---- linear --------------------------------------------------------------------------------
 * out = inp · weight^T + bias
 *   inp (B x C), weight (OC x C) (PyTorch/llm.c layout), bias (OC) or NULL, out (B x OC).
 * Backward: dinp (B x C) += dout · weight, dweight (OC x C) += dout^T · inp,
 *   dbias (OC) += column sums of dout. dinp and dbias may be NULL. */
void gfuse_i_linear_forward(float *out, const float *inp, const float *weight, const float *bias,
                            int64_t B, int C, int OC);
void gfuse_i_linear_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                             const float *inp, const float *weight, int64_t B, int C, int OC);

/* ---- row placement: encoder outputs, missing tokens and hub tokens ------------------------
 * out[rows[s], :] = inp[s, :] + vec[:]      for s < S
 *   out (any number of rows x C): rows not listed are left untouched;
 *   inp (S x C) or NULL (then out[rows[s]] = vec: a learned token);
 *   vec (C) or NULL (then a plain scatter): a per-modality embedding e_m, token t_m or hub token;
 *   rows (S): distinct row indices of out.
 * Backward: dinp[s, :] += dout[rows[s], :];  dvec += sum over s of dout[rows[s], :] (in order of
 *   s). dinp and dvec may be NULL. */
void gfuse_i_place_rows_forward(float *out, const float *inp, const float *vec,
                                const int64_t *rows, int64_t S, int C);
void gfuse_i_place_rows_backward(float *dinp, float *dvec, const float *dout, const int64_t *rows,
                                 int64_t S, int C);

/* ---- row gather of the encoder inputs -------------------------------------------------------
 * out[s, :] = inp[rows[s], :] with NaN (a missing feature) as 0, for s < S; inp (any rows x C). */
void gfuse_i_gather_rows_finite(float *out, const float *inp, const int64_t *rows, int64_t S,
                                int64_t C);

/* ---- element-wise activations: out, inp, dout, dinp all (n) ---------------------------------
 * ELU:        out = x > 0 ? x : exp(x) - 1            (alpha = 1)
 * tanh:       out = tanh(x)            (forward only: the fusion head differentiates it itself)
 * Forward may run in place (out == inp) only when the backward is not needed. */
void gfuse_i_elu_forward(float *out, const float *inp, int64_t n);
/* out[v] = ELU(pre[v]) + res[v] at the rows v = rows[s], s < n (F values each), as
 * gfuse_i_elu_forward then gfuse_i_add_forward would give them; other rows untouched. */
void gfuse_i_elu_add_rows(float *out, const float *pre, const float *res, const int64_t *rows,
                          int64_t n, int F);
void gfuse_i_elu_backward(float *dinp, const float *dout, const float *inp, int64_t n);
void gfuse_i_tanh_forward(float *out, const float *inp, int64_t n);

/* ---- residual add ---------------------------------------------------------------------------
 * out = a + b   (n);  backward: da += dout, db += dout (either may be NULL).
 * out may equal a or b. */
void gfuse_i_add_forward(float *out, const float *a, const float *b, int64_t n);
void gfuse_i_add_backward(float *da, float *db, const float *dout, int64_t n);

/* ---- dropout (inverted) ---------------------------------------------------------------------
 * Element t is kept when gfuse_i_dropout_keep(seed, t, p), i.e. when a counter-based 32-bit hash
 * of (seed, t) (src/core/fastmath.h) is at least p * 2^32; kept elements are scaled by
 * 1 / (1 - p), dropped ones are 0. The mask depends only on (seed, t, p), never on the thread
 * count or visiting order. The caller draws
 * a fresh seed per step and per layer from its gfuse_i_rng (src/core/rng.h).
 *   out, inp (n; out may be inp); mask (n) cache: 1 kept, 0 dropped (all 1 when p <= 0), or
 *   NULL. 0 <= p < 1; p <= 0 copies inp to out (inference).
 * Backward: dinp += dout * mask / (1 - p); the seeded backward draws the forward's mask again
 * from (seed, t, p) instead of reading it (the same result bit for bit). */
void gfuse_i_dropout_forward(float *out, uint8_t *mask, const float *inp, float p, uint64_t seed,
                             int64_t n);
void gfuse_i_dropout_backward(float *dinp, const float *dout, const uint8_t *mask, float p,
                              int64_t n);
void gfuse_i_dropout_backward_seeded(float *dinp, const float *dout, float p, uint64_t seed,
                                     int64_t n);
/* The dropout key of a seed and the high half of an index: the 64-bit seed folded to 32 bits
 * by a splitmix64 finaliser, so every seed's masks differ. */
static inline uint32_t gfuse_i_dropout_key(uint64_t seed, uint64_t index)
{
    uint64_t z = seed ^ ((index >> 32) * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (uint32_t)(z ^ (z >> 31) ^ (z >> 32));
}
/* The drop threshold of probability p: element t is dropped when its hash is below it. */
static inline uint32_t gfuse_i_dropout_threshold(float p)
{
    double t = (double)p * 4294967296.0;
    return p <= 0.0f ? 0u : t >= 4294967295.0 ? 4294967295u : (uint32_t)t;
}
static inline int gfuse_i_dropout_keep(uint64_t seed, uint64_t index, float p)
{
    return p <= 0.0f ||
           gfuse_i_hash32(gfuse_i_dropout_key(seed, index), (uint32_t)index) >=
               gfuse_i_dropout_threshold(p);
}

/* ---- fusion attention head over each sample's J = M + 1 nodes -------------------------------
 * For node v (V = N * J rows of h):
 *   proj[v]  = tanh(U · h[v] + c)                  (A)
 *   score[v] = w · proj[v]                         (scalar)
 * For sample i, over its slots j (node v = j * N + i) with mask[v] != 0:
 *   weights[i, j] = softmax_j(score[v])            (masked slots get weight 0)
 *   fused[i]      = sum_j weights[i, j] * h[v]     (F)
 * The weights of a sample sum to 1 (all 0 when every slot is masked; fused is then 0): they are
 * what `gfuse predict --attention` writes, column j = modality j, column M = hub.
 *   fused (N x F), weights (N x J) outputs; proj (V x A), score (V) cache;
 *   h (V x F) node states; mask (V) or NULL (all take part), e.g. graph->observed to keep
 *   missing nodes out; U (A x F), c (A), w (A) parameters.
 * Backward: dh (V x F), dU (A x F), dc (A), dw (A) accumulated (+=); dh may be NULL.
 *   dfused (N x F); work (V x (A + 1)) scratch, overwritten. */
void gfuse_i_fusion_forward(float *fused, float *weights, float *proj, float *score,
                            const float *h, const uint8_t *mask, const float *U, const float *c,
                            const float *w, int64_t N, int M, int F, int A);
/* The forward pass for the samples rows[s], s < n_rows, only (distinct): their fused vectors
 * and weights, those of the whole pass to rounding (the projection's sgemm runs on another set
 * of rows, and OpenBLAS's result for a row can differ in the last bit with the rows beside it);
 * the other samples' are left as they were.
 * hrows (n_rows J x F) is scratch; proj (n_rows J x A) and score (n_rows J) hold the listed
 * samples' slots in order (row s J + j: slot j of sample rows[s]), not by node. */
void gfuse_i_fusion_forward_rows(float *fused, float *weights, float *proj, float *score,
                                 float *hrows, const float *h, const uint8_t *mask,
                                 const float *U, const float *c, const float *w, int64_t N,
                                 int M, int F, int A, const int64_t *rows, int64_t n_rows);
void gfuse_i_fusion_backward(float *dh, float *dU, float *dc, float *dw, float *work,
                             const float *dfused, const float *weights, const float *proj,
                             const float *h, const uint8_t *mask, const float *U, const float *w,
                             int64_t N, int M, int F, int A);

/* ---- losses ---------------------------------------------------------------------------------
 * Each loss is computed over a subset of rows (rows: S indices, e.g. the labelled training
 * samples) and returns a scalar L; its backward adds dloss * dL/dinput to the gradient (dloss is
 * the weight of L in the total loss, 1 for a plain loss, lambda_rec for reconstruction).
 * Sums run in double, in order of s. */

/* Row softmax: probs (B x K) = softmax(logits (B x K)) per row, for all B rows. */
void gfuse_i_softmax_forward(float *probs, const float *logits, int64_t B, int K);
/* Cross-entropy from softmax probabilities, optional class weights cw (K) or NULL:
 *   L = sum_s cw[y_s] * -log(probs[r_s, y_s]) / sum_s cw[y_s],  r_s = rows[s], y_s = labels[r_s]
 * (the weighted mean, as PyTorch's weighted cross_entropy). labels (B): classes 0..K-1 (rows
 * not listed may hold -1). Returns 0 when S == 0 or the weights sum to 0.
 * Backward: dlogits[r_s, k] += dloss * cw[y_s] * (probs[r_s, k] - [k == y_s]) / sum cw. */
double gfuse_i_xent_forward(const float *probs, const int32_t *labels, const int64_t *rows,
                            int64_t S, const float *cw, int K);
void gfuse_i_xent_backward(float *dlogits, const float *probs, const int32_t *labels,
                           const int64_t *rows, int64_t S, const float *cw, int K, float dloss);

/* Mean squared error for regression: pred (B), target (B).
 *   L = sum_s (pred[r_s] - target[r_s])^2 / S.   Backward: dpred[r_s] += dloss * 2 (p - t) / S. */
double gfuse_i_mse_forward(const float *pred, const float *target, const int64_t *rows, int64_t S);
void gfuse_i_mse_backward(float *dpred, const float *pred, const float *target,
                          const int64_t *rows, int64_t S, float dloss);

/* Reconstruction MSE over the observed cells of listed (prediction row, target row) pairs:
 *   pred (any rows x C): decoder output, e.g. the N rows of one modality's node block;
 *   target (any rows x C): the standardised observed features, NaN = missing cell (ignored);
 *   pred_rows (S), target_rows (S): pair s compares pred[pred_rows[s]] with target[target_rows[s]];
 *   pred_rows are distinct.
 *   L = sum of (pred - target)^2 over non-NaN cells / their count (*count, may be NULL);
 *   0 when there is no such cell.
 * Backward: dpred[pred_rows[s], c] += dloss * 2 (pred - target) / count for non-NaN cells. */
double gfuse_i_recon_forward(const float *pred, const float *target, const int64_t *pred_rows,
                             const int64_t *target_rows, int64_t S, int C, int64_t *count);
void gfuse_i_recon_backward(float *dpred, const float *pred, const float *target,
                            const int64_t *pred_rows, const int64_t *target_rows, int64_t S,
                            int C, float dloss);

#endif
