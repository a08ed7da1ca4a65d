/*
 * head.h: the network pieces on either side of the completion decoders and after the fusion,
 * each a forward/backward pair in the shape and conventions of layers.h (backward passes
 * accumulate, forward outputs are overwritten, float32 row-major, dimension letters as there):
 *   - the prediction head, a two-layer MLP with dropout on B rows;
 *   - the completion decoders' input, a gather of each sample's node states and encodings.
 */
#ifndef GFUSE_HEAD_H
#define GFUSE_HEAD_H

#include <stdint.h>

/* ---- fills of activation-sized arrays ------------------------------------------------------
 * x (n) = 0;  dst (n) = src (n). Shared out among the threads in blocks for large n. */
void gfuse_i_zero(float *x, int64_t n);
void gfuse_i_copy(float *dst, const float *src, int64_t n);

/* ---- prediction head -----------------------------------------------------------------------
 * On B rows of width F with K outputs:
 *   in_drop = dropout(inp, p, seed_in)                          (B x F)
 *   pre     = in_drop · W1^T + b1                               (B x F)
 *   act     = ELU(pre)                                          (B x F)
 *   drop    = dropout(act, p, seed_hidden)                      (B x F)
 *   logits  = drop · W2^T + b2                                  (B x K)
 *   probs   = row softmax of logits for K > 1; a copy of logits for K = 1 (regression)
 *   inp (B x F); W1 (F x F), b1 (F), W2 (K x F), b2 (K); 0 <= p < 1 (p <= 0: inference).
 * hd holds the caches and outputs above, every array sized for hd->B >= B rows.
 * Backward: from dlogits (B x K) (the loss's gradient in the logits: the softmax is folded into
 *   the cross-entropy's backward), dinp (B x F), dW1 (F x F), db1 (F), dW2 (K x F), db2 (K)
 *   accumulated (+=); hd->d1 and hd->d2 are scratch, overwritten.
 * With rows (S distinct row indices of inp, S <= hd->B) instead of NULL, the head runs on those
 *   rows only: the caches hold them compactly (row s of the caches is input row rows[s], and
 *   the dropout masks are drawn over the compact rows), logits and probs get rows rows[s] (the
 *   other rows are left as they were), and the backward pass reads dlogits at rows rows[s] and
 *   adds into dinp at those rows only; B is then S. hd->d2 holds the gathered input during the
 *   forward pass, hd->cl and hd->cp (hd->B x K) the compact logits and probabilities. */
typedef struct {
    int64_t B;                        /* rows the arrays hold */
    float *in_drop; uint8_t *in_mask; /* B x F: dropout of the input */
    float *pre, *act, *drop;          /* B x F: W1 x + b1, ELU, dropout */
    uint8_t *mask;
    float *logits, *probs;            /* B x K (probs = logits for regression) */
    float *dlogits;                   /* B x K, filled by the loss */
    float *d1, *d2;                   /* B x F scratch of the backward */
    float *cl, *cp;                   /* B x K: compact logits and probabilities (rows) */
} gfuse_i_head;

void gfuse_i_head_forward(gfuse_i_head *hd, const float *inp, const int64_t *rows,
                          const float *W1, const float *b1, const float *W2, const float *b2,
                          int64_t B, int F, int K, float p, uint64_t seed_in,
                          uint64_t seed_hidden);
void gfuse_i_head_backward(float *dinp, float *dW1, float *db1, float *dW2, float *db2,
                           gfuse_i_head *hd, const float *dlogits, const int64_t *rows,
                           const float *W1, const float *W2, int64_t B, int F, int K, float p);

/* ---- completion decoders' input ------------------------------------------------------------
 * u (S x U, U = (2M + 1) F) for samples i = rows[s], s < S (rows NULL: i = s, S <= N):
 *   u[s, j F .. (j+1) F)       = h[j N + i]                     j < J = M + 1: the sample's
 *                                                               modality nodes, then its hub
 *   u[s, (J+m) F .. (J+m+1) F) = enc_pre[m][obs_pos[m][i]]      m < M: modality m's encoder
 *                                                               pre-activation, or 0 when
 *                                                               obs_pos[m][i] < 0 (not observed)
 *   h (V x F) node states; enc_pre per modality (observed rows x F); obs_pos per modality (N):
 *   the row of sample i in enc_pre, -1 when not observed.
 * Backward: dh[j N + i] += du[s, j F ..], denc_pre[m][obs_pos[m][i]] += du[s, (J+m) F ..] for
 *   the observed ones; the rows must be distinct (each place of dh and denc_pre receives from
 *   one row s at most, so the rows run in parallel without conflicts). */
void gfuse_i_decoder_input_forward(float *u, const float *h, const float *const *enc_pre,
                                   const int64_t *const *obs_pos, const int64_t *rows,
                                   int64_t S, int64_t N, int M, int F);
void gfuse_i_decoder_input_backward(float *dh, float *const *denc_pre, const float *du,
                                    const int64_t *const *obs_pos, const int64_t *rows,
                                    int64_t S, int64_t N, int M, int F);

#endif
