/* head.c: the prediction head and the completion decoders' input (head.h). */
#include "nn/head.h"

#include <string.h>

#include "nn/layers.h"

/* ---- fills ------------------------------------------------------------------------------------ */

#define FILL_BLOCK ((int64_t)1 << 16)

void gfuse_i_zero(float *x, int64_t n)
{
#pragma omp parallel for schedule(static) if (n > 4 * FILL_BLOCK)
    for (int64_t b = 0; b < n; b += FILL_BLOCK)
        memset(x + b, 0, (size_t)(n - b < FILL_BLOCK ? n - b : FILL_BLOCK) * sizeof(float));
}

void gfuse_i_copy(float *dst, const float *src, int64_t n)
{
#pragma omp parallel for schedule(static) if (n > 4 * FILL_BLOCK)
    for (int64_t b = 0; b < n; b += FILL_BLOCK)
        memcpy(dst + b, src + b, (size_t)(n - b < FILL_BLOCK ? n - b : FILL_BLOCK) * sizeof(float));
}

/* ---- prediction head -------------------------------------------------------------------------- */

void gfuse_i_head_forward(gfuse_i_head *hd, const float *inp, const int64_t *rows,
                          const float *W1, const float *b1, const float *W2, const float *b2,
                          int64_t B, int F, int K, float p, uint64_t seed_in,
                          uint64_t seed_hidden)
{
    const int64_t BF = B * F;
    if (rows) { /* the listed rows, gathered */
        size_t row_bytes = (size_t)F * sizeof(float);
#pragma omp parallel for schedule(static) if (BF > 65536)
        for (int64_t s = 0; s < B; s++) memcpy(hd->d2 + s * F, inp + rows[s] * F, row_bytes);
        inp = hd->d2;
    }
    float *logits = rows ? hd->cl : hd->logits, *probs = rows ? hd->cp : hd->probs;
    gfuse_i_dropout_forward(hd->in_drop, hd->in_mask, inp, p, seed_in, BF);
    gfuse_i_linear_forward(hd->pre, hd->in_drop, W1, b1, B, F, F);
    gfuse_i_elu_forward(hd->act, hd->pre, BF);
    gfuse_i_dropout_forward(hd->drop, hd->mask, hd->act, p, seed_hidden, BF);
    gfuse_i_linear_forward(logits, hd->drop, W2, b2, B, F, K);
    if (K > 1)
        gfuse_i_softmax_forward(probs, logits, B, K);
    else
        memcpy(probs, logits, (size_t)B * sizeof(float));
    if (rows) {
        size_t kb = (size_t)K * sizeof(float);
        for (int64_t s = 0; s < B; s++) {
            memcpy(hd->logits + rows[s] * K, logits + s * K, kb);
            memcpy(hd->probs + rows[s] * K, probs + s * K, kb);
        }
    }
}

void gfuse_i_head_backward(float *dinp, float *dW1, float *db1, float *dW2, float *db2,
                           gfuse_i_head *hd, const float *dlogits, const int64_t *rows,
                           const float *W1, const float *W2, int64_t B, int F, int K, float p)
{
    const int64_t BF = B * F;
    if (rows) { /* the gradients of the listed rows, gathered */
        size_t kb = (size_t)K * sizeof(float);
        for (int64_t s = 0; s < B; s++) memcpy(hd->cl + s * K, dlogits + rows[s] * K, kb);
        dlogits = hd->cl;
    }
    gfuse_i_zero(hd->d1, BF);
    gfuse_i_linear_backward(hd->d1, dW2, db2, dlogits, hd->drop, W2, B, F, K);
    gfuse_i_zero(hd->d2, BF);
    gfuse_i_dropout_backward(hd->d2, hd->d1, hd->mask, p, BF);
    gfuse_i_zero(hd->d1, BF);
    gfuse_i_elu_backward(hd->d1, hd->d2, hd->pre, BF);
    gfuse_i_zero(hd->d2, BF);
    gfuse_i_linear_backward(hd->d2, dW1, db1, hd->d1, hd->in_drop, W1, B, F, F);
    if (!rows) {
        gfuse_i_dropout_backward(dinp, hd->d2, hd->in_mask, p, BF);
        return;
    }
    /* compactly, then added into the listed rows (distinct: no two rows meet) */
    gfuse_i_zero(hd->d1, BF);
    gfuse_i_dropout_backward(hd->d1, hd->d2, hd->in_mask, p, BF);
#pragma omp parallel for schedule(static) if (BF > 65536)
    for (int64_t s = 0; s < B; s++) {
        float *dst = dinp + rows[s] * F;
        const float *src = hd->d1 + s * F;
        for (int f = 0; f < F; f++) dst[f] += src[f];
    }
}

/* ---- completion decoders' input --------------------------------------------------------------- */

void gfuse_i_decoder_input_forward(float *u, const float *h, const float *const *enc_pre,
                                   const int64_t *const *obs_pos, const int64_t *rows,
                                   int64_t S, int64_t N, int M, int F)
{
    int J = M + 1;
    int64_t U = (int64_t)(2 * M + 1) * F;
    size_t row_bytes = (size_t)F * sizeof(float);
#pragma omp parallel for schedule(static) if (S * U > 65536)
    for (int64_t s = 0; s < S; s++) {
        int64_t i = rows ? rows[s] : s;
        float *us = u + s * U;
        for (int j = 0; j < J; j++)
            memcpy(us + (int64_t)j * F, h + ((int64_t)j * N + i) * F, row_bytes);
        for (int m = 0; m < M; m++) {
            int64_t pos = obs_pos[m][i];
            if (pos >= 0)
                memcpy(us + (int64_t)(J + m) * F, enc_pre[m] + pos * F, row_bytes);
            else
                memset(us + (int64_t)(J + m) * F, 0, row_bytes);
        }
    }
}

void gfuse_i_decoder_input_backward(float *dh, float *const *denc_pre, const float *du,
                                    const int64_t *const *obs_pos, const int64_t *rows,
                                    int64_t S, int64_t N, int M, int F)
{
    int J = M + 1;
    int64_t U = (int64_t)(2 * M + 1) * F;
#pragma omp parallel for schedule(static) if (S * U > 65536)
    for (int64_t s = 0; s < S; s++) {
        int64_t i = rows ? rows[s] : s;
        const float *dus = du + s * U;
        for (int j = 0; j < J; j++) {
            float *dst = dh + ((int64_t)j * N + i) * F;
            const float *src = dus + (int64_t)j * F;
            for (int f = 0; f < F; f++) dst[f] += src[f];
        }
        for (int m = 0; m < M; m++) {
            int64_t pos = obs_pos[m][i];
            if (pos < 0) continue;
            float *dst = denc_pre[m] + pos * F;
            const float *src = dus + (int64_t)(J + m) * F;
            for (int f = 0; f < F; f++) dst[f] += src[f];
        }
    }
}
