/* layers.c: dense and element-wise layers, the fusion head and the losses (layers.h). */
#include "nn/layers.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* Below this many elements a loop runs serially: thread start-up would cost more than it saves. */
#define PAR_MIN (1 << 15)
/* Elements per block of the element-wise loops: OpenMP shares out blocks, each block runs as
 * one vector loop (the same code with one thread or many). */
#define EW_BLOCK 4096
/* EW_LOOP(lo, hi, t, body): the element-wise loop over t in [lo, hi) in EW_BLOCK blocks, in
 * parallel above PAR_MIN elements; body is one statement (or block) on element t. */
#define EW_LOOP(lo, hi, t, ...)                                                                    \
    do {                                                                                           \
        const int64_t ew_lo = (lo), ew_hi = (hi);                                                  \
        _Pragma("omp parallel for schedule(static) if (ew_hi - ew_lo > PAR_MIN)")                  \
        for (int64_t ew_b0 = ew_lo; ew_b0 < ew_hi; ew_b0 += EW_BLOCK) {                            \
            const int64_t ew_b1 = ew_b0 + EW_BLOCK < ew_hi ? ew_b0 + EW_BLOCK : ew_hi;             \
            _Pragma("omp simd") for (int64_t t = ew_b0; t < ew_b1; t++) __VA_ARGS__;               \
        }                                                                                          \
    } while (0)
/* Column block of the fixed-order column reductions (a thread owns whole columns). */
#define COL_BLOCK 16
/* Rows whose partial sums a loss computes in parallel before adding them up in order. */
#define LOSS_CHUNK 4096

/* sum[c] += sum over s of x[row(s), c] for c < C, s in order: parallel over column blocks, so
 * each column's sum runs in the same order whatever the thread count. rows NULL means row s. */
GFUSE_I_HOT
static void column_sums(float *sum, const float *x, const int64_t *rows, int64_t S, int C)
{
    int nblk = (C + COL_BLOCK - 1) / COL_BLOCK;
#pragma omp parallel for schedule(static) if (S * (int64_t)C > PAR_MIN && nblk > 1)
    for (int b = 0; b < nblk; b++) {
        int c0 = b * COL_BLOCK, c1 = c0 + COL_BLOCK < C ? c0 + COL_BLOCK : C;
        float acc[COL_BLOCK];
        for (int c = c0; c < c1; c++) acc[c - c0] = sum[c];
        for (int64_t s = 0; s < S; s++) {
            const float *row = x + (rows ? rows[s] : s) * (int64_t)C;
            for (int c = c0; c < c1; c++) acc[c - c0] += row[c];
        }
        for (int c = c0; c < c1; c++) sum[c] = acc[c - c0];
    }
}

/* ---- linear ----------------------------------------------------------------------------
 * BLAS sums differ with BLAS's own thread count (it splits products differently), so every
 * product here is cut into sgemm calls over a fixed tiling that depends on the shapes only,
 * the calls run on OpenMP threads with BLAS single-threaded, and each output element comes
 * from one call: bitwise identical results for any thread count. */

/* Rows of inp / out per sgemm call of the row-parallel products: 240 keeps a block times the
 * common 64 x 64 weight under a million multiply-adds, where OpenBLAS's AVX-512 kernels take
 * their small-matrix path without packing (about 1.4x faster for the input gradient's product
 * on the measured machine, the same for the forward). */
#define LIN_ROWS 240
/* Tile of dweight (output rows x input columns) per sgemm call of the weight gradient. */
#define LIN_TILE_OC 32
#define LIN_TILE_C 64
/* Below this many multiply-adds a product runs on the calling thread alone. */
#define LIN_PAR_MIN (1 << 20)

/* BLAS thread control (layers.h) */
int gfuse_i_blas_serial_begin(void)
{
#ifdef HAVE_OPENBLAS
    int n = openblas_get_num_threads();
    if (n != 1) openblas_set_num_threads(1);
    return n;
#else
    return 1;
#endif
}

void gfuse_i_blas_serial_end(int n)
{
#ifdef HAVE_OPENBLAS
    if (n != 1) openblas_set_num_threads(n);
#else
    (void)n;
#endif
}

void gfuse_i_linear_forward(float *out, const float *inp, const float *weight, const float *bias,
                            int64_t B, int C, int OC)
{
    if (B <= 0 || OC <= 0) return;
    const int64_t nblk = (B + LIN_ROWS - 1) / LIN_ROWS;
    const int par = B * (int64_t)C * OC > LIN_PAR_MIN && nblk > 1;
    int blas = gfuse_i_blas_serial_begin();
#pragma omp parallel for schedule(static) if (par)
    for (int64_t k = 0; k < nblk; k++) {
        const int64_t b0 = k * LIN_ROWS;
        const int rows = (int)(B - b0 < LIN_ROWS ? B - b0 : LIN_ROWS);
        float *o = out + b0 * OC;
        for (int b = 0; b < rows; b++) {
            if (bias) memcpy(o + (int64_t)b * OC, bias, (size_t)OC * sizeof(float));
            else memset(o + (int64_t)b * OC, 0, (size_t)OC * sizeof(float));
        }
        /* out (rows x OC) += inp (rows x C) · weight^T (C x OC) */
        if (C > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, OC, C, 1.0f,
                        inp + b0 * C, C, weight, C, 1.0f, o, OC);
    }
    gfuse_i_blas_serial_end(blas);
}

void gfuse_i_linear_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                             const float *inp, const float *weight, int64_t B, int C, int OC)
{
    if (B <= 0 || OC <= 0) return;
    const int par = B * (int64_t)C * OC > LIN_PAR_MIN;
    int blas = gfuse_i_blas_serial_begin();
    /* in the forward pass this was: out = inp · weight^T + bias, so now we have: */
    if (dinp && C > 0) { /* dinp (B x C) += dout (B x OC) · weight (OC x C), by row blocks */
        const int64_t nblk = (B + LIN_ROWS - 1) / LIN_ROWS;
#pragma omp parallel for schedule(static) if (par && nblk > 1)
        for (int64_t k = 0; k < nblk; k++) {
            const int64_t b0 = k * LIN_ROWS;
            const int rows = (int)(B - b0 < LIN_ROWS ? B - b0 : LIN_ROWS);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, C, OC, 1.0f,
                        dout + b0 * OC, OC, weight, C, 1.0f, dinp + b0 * C, C);
        }
    }
    if (C > 0) { /* dweight (OC x C) += dout^T (OC x B) · inp (B x C), by tiles of dweight */
        const int to = (OC + LIN_TILE_OC - 1) / LIN_TILE_OC, tc = (C + LIN_TILE_C - 1) / LIN_TILE_C;
#pragma omp parallel for schedule(static) if (par && to * tc > 1)
        for (int t = 0; t < to * tc; t++) {
            const int o0 = (t / tc) * LIN_TILE_OC, c0 = (t % tc) * LIN_TILE_C;
            const int no = OC - o0 < LIN_TILE_OC ? OC - o0 : LIN_TILE_OC;
            const int nc = C - c0 < LIN_TILE_C ? C - c0 : LIN_TILE_C;
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, no, nc, (int)B, 1.0f,
                        dout + o0, OC, inp + c0, C, 1.0f, dweight + (int64_t)o0 * C + c0, C);
        }
    }
    gfuse_i_blas_serial_end(blas);
    if (dbias) column_sums(dbias, dout, NULL, B, OC);
}

/* ---- row placement ---------------------------------------------------------------------- */

GFUSE_I_HOT
void gfuse_i_place_rows_forward(float *out, const float *inp, const float *vec,
                                const int64_t *rows, int64_t S, int C)
{
#pragma omp parallel for schedule(static) if (S * (int64_t)C > PAR_MIN)
    for (int64_t s = 0; s < S; s++) {
        float *o = out + rows[s] * C;
        const float *x = inp ? inp + s * C : NULL;
        for (int c = 0; c < C; c++) o[c] = (x ? x[c] : 0.0f) + (vec ? vec[c] : 0.0f);
    }
}

void gfuse_i_place_rows_backward(float *dinp, float *dvec, const float *dout, const int64_t *rows,
                                 int64_t S, int C)
{
    /* in the forward pass this was: out[rows[s]] = inp[s] + vec, so now we have: */
    if (dinp) {
#pragma omp parallel for schedule(static) if (S * (int64_t)C > PAR_MIN)
        for (int64_t s = 0; s < S; s++) {
            const float *g = dout + rows[s] * C;
            float *d = dinp + s * C;
            for (int c = 0; c < C; c++) d[c] += g[c];
        }
    }
    if (dvec) column_sums(dvec, dout, rows, S, C);
}

GFUSE_I_HOT
void gfuse_i_gather_rows_finite(float *out, const float *inp, const int64_t *rows, int64_t S,
                                int64_t C)
{
#pragma omp parallel for schedule(static) if (S * C > PAR_MIN)
    for (int64_t s = 0; s < S; s++) {
        const float *x = inp + rows[s] * C;
        float *o = out + s * C;
#pragma omp simd
        for (int64_t c = 0; c < C; c++) o[c] = x[c] == x[c] ? x[c] : 0.0f;
    }
}

/* ---- activations ----------------------------------------------------------------------- */

GFUSE_I_HOT
void gfuse_i_elu_forward(float *out, const float *inp, int64_t n)
{
    EW_LOOP(0, n, t, out[t] = gfuse_i_elu(inp[t]));
}

GFUSE_I_HOT
void gfuse_i_elu_add_rows(float *out, const float *pre, const float *res, const int64_t *rows,
                          int64_t n, int F)
{
#pragma omp parallel for schedule(static) if (n * (int64_t)F > PAR_MIN)
    for (int64_t s = 0; s < n; s++) {
        const int64_t at = rows[s] * F;
        float *o = out + at;
        const float *x = pre + at, *r = res + at;
#pragma omp simd
        for (int f = 0; f < F; f++) o[f] = gfuse_i_elu(x[f]) + r[f];
    }
}

GFUSE_I_HOT
void gfuse_i_elu_backward(float *dinp, const float *dout, const float *inp, int64_t n)
{
    /* in the forward pass this was: out = x > 0 ? x : exp(x) - 1, so now we have: */
    EW_LOOP(0, n, t, dinp[t] += inp[t] > 0.0f ? dout[t] : dout[t] * gfuse_i_expf(inp[t]));
}

GFUSE_I_HOT
void gfuse_i_tanh_forward(float *out, const float *inp, int64_t n)
{
    EW_LOOP(0, n, t, out[t] = gfuse_i_tanhf(inp[t]));
}

/* ---- residual add ---------------------------------------------------------------------- */

GFUSE_I_HOT
void gfuse_i_add_forward(float *out, const float *a, const float *b, int64_t n)
{
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
    for (int64_t t = 0; t < n; t++) out[t] = a[t] + b[t];
}

void gfuse_i_add_backward(float *da, float *db, const float *dout, int64_t n)
{
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
    for (int64_t t = 0; t < n; t++) {
        if (da) da[t] += dout[t];
        if (db) db[t] += dout[t];
    }
}

/* ---- dropout --------------------------------------------------------------------------- */

/* DROPOUT_KEYED(n, seed, p, t, body): body on every element t < n of a dropout pass, p > 0,
 * where DK_FACTOR(t) is element t's factor, 1 / (1 - p) when gfuse_i_dropout_keep(seed, t, p),
 * else 0. In blocks of 2^32 elements, each with its key. A macro, so that the parallel loop is
 * compiled inside each caller and takes its target clones (GFUSE_I_HOT). */
#define DK_FACTOR(t) (gfuse_i_hash32(dk_key, (uint32_t)(t)) >= dk_thr ? dk_scale : 0.0f)
#define DROPOUT_KEYED(n, seed, p, t, ...)                                                          \
    do {                                                                                           \
        const float dk_scale = 1.0f / (1.0f - (p));                                                \
        const uint32_t dk_thr = gfuse_i_dropout_threshold(p);                                      \
        const int64_t dk_n = (n);                                                                  \
        for (int64_t dk_t0 = 0; dk_t0 < dk_n; dk_t0 += (int64_t)1 << 32) {                         \
            const uint32_t dk_key = gfuse_i_dropout_key((seed), (uint64_t)dk_t0);                  \
            const int64_t dk_t1 =                                                                  \
                dk_n - dk_t0 > ((int64_t)1 << 32) ? dk_t0 + ((int64_t)1 << 32) : dk_n;             \
            EW_LOOP(dk_t0, dk_t1, t, __VA_ARGS__);                                                 \
        }                                                                                          \
    } while (0)

GFUSE_I_HOT
void gfuse_i_dropout_forward(float *out, uint8_t *mask, const float *inp, float p, uint64_t seed,
                             int64_t n)
{
    if (p <= 0.0f) {
        if (out != inp) memcpy(out, inp, (size_t)n * sizeof(float));
        if (mask) memset(mask, 1, (size_t)n);
        return;
    }
    if (mask)
        DROPOUT_KEYED(n, seed, p, t, {
            float f = DK_FACTOR(t);
            mask[t] = f != 0.0f;
            out[t] = inp[t] * f;
        });
    else
        DROPOUT_KEYED(n, seed, p, t, out[t] = inp[t] * DK_FACTOR(t));
}

GFUSE_I_HOT
void gfuse_i_dropout_backward(float *dinp, const float *dout, const uint8_t *mask, float p,
                              int64_t n)
{
    /* in the forward pass this was: out = mask ? inp / (1 - p) : 0, so now we have: */
    if (p <= 0.0f) {
        gfuse_i_add_backward(dinp, NULL, dout, n);
        return;
    }
    float scale = 1.0f / (1.0f - p);
    EW_LOOP(0, n, t, dinp[t] += dout[t] * ((float)mask[t] * scale));
}

GFUSE_I_HOT
void gfuse_i_dropout_backward_seeded(float *dinp, const float *dout, float p, uint64_t seed,
                                     int64_t n)
{
    if (p <= 0.0f) {
        gfuse_i_add_backward(dinp, NULL, dout, n);
        return;
    }
    DROPOUT_KEYED(n, seed, p, t, dinp[t] += dout[t] * DK_FACTOR(t));
}

/* ---- fusion head ----------------------------------------------------------------------- */

/* The softmax over one sample's J slots and its fused vector: slot j's score at score[j * ss],
 * its node state at h + j * hs, its mask at mask[j * ms] (mask NULL: every slot). */
static inline void fuse_sample(float *wi, float *fi, const float *score, int64_t ss,
                               const float *h, int64_t hs, const uint8_t *mask, int64_t ms, int J,
                               int F)
{
    float mx = -INFINITY, sum = 0.0f;
    for (int j = 0; j < J; j++)
        if ((!mask || mask[j * ms]) && score[j * ss] > mx) mx = score[j * ss];
    for (int j = 0; j < J; j++) {
        wi[j] = (!mask || mask[j * ms]) ? gfuse_i_expf(score[j * ss] - mx) : 0.0f;
        sum += wi[j];
    }
    for (int f = 0; f < F; f++) fi[f] = 0.0f;
    if (sum <= 0.0f) return; /* every slot masked: weights and fused stay 0 */
    for (int j = 0; j < J; j++) {
        wi[j] /= sum;
        const float *hv = h + j * hs;
        for (int f = 0; f < F; f++) fi[f] += wi[j] * hv[f];
    }
}

/* score[r] = w · proj[r], r < R */
static void fusion_scores(float *score, const float *proj, const float *w, int64_t R, int A)
{
#pragma omp parallel for schedule(static) if (R * (int64_t)A > PAR_MIN)
    for (int64_t r = 0; r < R; r++) {
        float s = 0.0f;
        for (int a = 0; a < A; a++) s += w[a] * proj[r * A + a];
        score[r] = s;
    }
}

GFUSE_I_HOT
void gfuse_i_fusion_forward(float *fused, float *weights, float *proj, float *score,
                            const float *h, const uint8_t *mask, const float *U, const float *c,
                            const float *w, int64_t N, int M, int F, int A)
{
    int J = M + 1;
    int64_t V = N * J;
    gfuse_i_linear_forward(proj, h, U, c, V, F, A);
    gfuse_i_tanh_forward(proj, proj, V * A);
    fusion_scores(score, proj, w, V, A);
#pragma omp parallel for schedule(static) if (V * (int64_t)F > PAR_MIN)
    for (int64_t i = 0; i < N; i++)
        fuse_sample(weights + i * J, fused + i * F, score + i, N, h + i * F, N * F,
                    mask ? mask + i : NULL, N, J, F);
}

GFUSE_I_HOT
void gfuse_i_fusion_forward_rows(float *fused, float *weights, float *proj, float *score,
                                 float *hrows, const float *h, const uint8_t *mask,
                                 const float *U, const float *c, const float *w, int64_t N,
                                 int M, int F, int A, const int64_t *rows, int64_t n_rows)
{
    int J = M + 1;
    int64_t R = n_rows * J;
#pragma omp parallel for schedule(static) if (R * (int64_t)F > PAR_MIN)
    for (int64_t s = 0; s < n_rows; s++)
        for (int j = 0; j < J; j++)
            memcpy(hrows + (s * J + j) * F, h + ((int64_t)j * N + rows[s]) * F,
                   (size_t)F * sizeof(float));
    gfuse_i_linear_forward(proj, hrows, U, c, R, F, A);
    gfuse_i_tanh_forward(proj, proj, R * A);
    fusion_scores(score, proj, w, R, A);
#pragma omp parallel for schedule(static) if (R * (int64_t)F > PAR_MIN)
    for (int64_t s = 0; s < n_rows; s++) {
        int64_t i = rows[s];
        fuse_sample(weights + i * J, fused + i * F, score + s * J, 1, hrows + s * J * F, F,
                    mask ? mask + i : NULL, N, J, F);
    }
}

GFUSE_I_HOT
void gfuse_i_fusion_backward(float *dh, float *dU, float *dc, float *dw, float *work,
                             const float *dfused, const float *weights, const float *proj,
                             const float *h, const uint8_t *mask, const float *U, const float *w,
                             int64_t N, int M, int F, int A)
{
    int J = M + 1;
    int64_t V = N * J;
    float *dscore = work, *dproj = work + V;
    /* in the forward pass this was: fused_i = sum_j weights_ij h_v, weights_i = softmax(score),
     * so now we have: dweights_ij = dfused_i · h_v, dscore_v = w_ij (dweights_ij - sum w dw) */
#pragma omp parallel for schedule(static) if (V * (int64_t)F > PAR_MIN)
    for (int64_t i = 0; i < N; i++) {
        const float *wi = weights + i * J, *gi = dfused + i * F;
        float wsum = 0.0f;
        for (int j = 0; j < J; j++) {
            int64_t v = (int64_t)j * N + i;
            const float *hv = h + v * F;
            float d = 0.0f;
            for (int f = 0; f < F; f++) d += gi[f] * hv[f];
            dscore[v] = d; /* dweights for now */
            wsum += wi[j] * d;
            if (dh && wi[j] != 0.0f) {
                float *dhv = dh + v * F;
                for (int f = 0; f < F; f++) dhv[f] += wi[j] * gi[f];
            }
        }
        for (int j = 0; j < J; j++) {
            int64_t v = (int64_t)j * N + i;
            dscore[v] = wi[j] * (dscore[v] - wsum); /* 0 for masked slots (weight 0) */
        }
    }
    /* in the forward pass this was: score_v = w · proj_v, proj_v = tanh(U h_v + c), so: */
#pragma omp parallel for schedule(static) if (V * (int64_t)A > PAR_MIN)
    for (int64_t v = 0; v < V; v++) {
        const float *pv = proj + v * A;
        float *dp = dproj + v * A;
        for (int a = 0; a < A; a++) dp[a] = dscore[v] * w[a] * (1.0f - pv[a] * pv[a]);
    }
    /* dw += sum_v dscore_v proj_v, in order of v, columns owned by threads */
    int nblk = (A + COL_BLOCK - 1) / COL_BLOCK;
#pragma omp parallel for schedule(static) if (V * (int64_t)A > PAR_MIN && nblk > 1)
    for (int b = 0; b < nblk; b++) {
        int a0 = b * COL_BLOCK, a1 = a0 + COL_BLOCK < A ? a0 + COL_BLOCK : A;
        float acc[COL_BLOCK];
        for (int a = a0; a < a1; a++) acc[a - a0] = dw[a];
        for (int64_t v = 0; v < V; v++)
            for (int a = a0; a < a1; a++) acc[a - a0] += dscore[v] * proj[v * A + a];
        for (int a = a0; a < a1; a++) dw[a] = acc[a - a0];
    }
    gfuse_i_linear_backward(dh, dU, dc, dproj, h, U, V, F, A);
}

/* ---- losses ---------------------------------------------------------------------------- */

void gfuse_i_softmax_forward(float *probs, const float *logits, int64_t B, int K)
{
#pragma omp parallel for schedule(static) if (B * (int64_t)K > PAR_MIN)
    for (int64_t b = 0; b < B; b++) {
        const float *l = logits + b * K;
        float *p = probs + b * K;
        float mx = -INFINITY, sum = 0.0f;
        for (int k = 0; k < K; k++)
            if (l[k] > mx) mx = l[k];
        for (int k = 0; k < K; k++) {
            p[k] = gfuse_i_expf(l[k] - mx);
            sum += p[k];
        }
        for (int k = 0; k < K; k++) p[k] /= sum;
    }
}

static double class_weight_sum(const int32_t *labels, const int64_t *rows, int64_t S,
                               const float *cw)
{
    double wsum = 0.0;
    for (int64_t s = 0; s < S; s++) wsum += cw ? cw[labels[rows[s]]] : 1.0;
    return wsum;
}

double gfuse_i_xent_forward(const float *probs, const int32_t *labels, const int64_t *rows,
                            int64_t S, const float *cw, int K)
{
    double wsum = class_weight_sum(labels, rows, S, cw), loss = 0.0;
    if (wsum <= 0.0) return 0.0;
    for (int64_t s = 0; s < S; s++) {
        int32_t y = labels[rows[s]];
        double p = probs[rows[s] * K + y];
        loss -= (cw ? cw[y] : 1.0) * log(p > 1e-30 ? p : 1e-30);
    }
    return loss / wsum;
}

void gfuse_i_xent_backward(float *dlogits, const float *probs, const int32_t *labels,
                           const int64_t *rows, int64_t S, const float *cw, int K, float dloss)
{
    double wsum = class_weight_sum(labels, rows, S, cw);
    if (wsum <= 0.0) return;
    /* in the forward pass this was: L = sum_s cw_y -log softmax(logits)_y / wsum, so: */
    for (int64_t s = 0; s < S; s++) {
        int32_t y = labels[rows[s]];
        float g = (float)(dloss * (cw ? cw[y] : 1.0) / wsum);
        const float *p = probs + rows[s] * K;
        float *d = dlogits + rows[s] * K;
        for (int k = 0; k < K; k++) d[k] += g * (p[k] - (k == y ? 1.0f : 0.0f));
    }
}

double gfuse_i_mse_forward(const float *pred, const float *target, const int64_t *rows, int64_t S)
{
    if (S <= 0) return 0.0;
    double sum = 0.0;
    for (int64_t s = 0; s < S; s++) {
        double e = (double)pred[rows[s]] - target[rows[s]];
        sum += e * e;
    }
    return sum / S;
}

void gfuse_i_mse_backward(float *dpred, const float *pred, const float *target,
                          const int64_t *rows, int64_t S, float dloss)
{
    if (S <= 0) return;
    /* in the forward pass this was: L = sum_s (p - t)^2 / S, so now we have: */
    float g = (float)(2.0 * dloss / S);
    for (int64_t s = 0; s < S; s++) dpred[rows[s]] += g * (pred[rows[s]] - target[rows[s]]);
}

/* Squared error and observed-cell count of pair s. */
static double recon_row(const float *pred, const float *target, const int64_t *pred_rows,
                        const int64_t *target_rows, int64_t s, int C, int64_t *count)
{
    const float *p = pred + pred_rows[s] * C, *t = target + target_rows[s] * C;
    double sum = 0.0;
    int64_t cnt = 0;
    for (int c = 0; c < C; c++) {
        if (isnan(t[c])) continue;
        double e = (double)p[c] - t[c];
        sum += e * e;
        cnt++;
    }
    *count = cnt;
    return sum;
}

/* Total squared error and observed-cell count over all pairs: per-pair sums in parallel over
 * fixed chunks, added in order of s. */
static double recon_total(const float *pred, const float *target, const int64_t *pred_rows,
                          const int64_t *target_rows, int64_t S, int C, int64_t *count)
{
    double total = 0.0, part[LOSS_CHUNK];
    int64_t cnt = 0, pcnt[LOSS_CHUNK];
    for (int64_t s0 = 0; s0 < S; s0 += LOSS_CHUNK) {
        int64_t len = S - s0 < LOSS_CHUNK ? S - s0 : LOSS_CHUNK;
#pragma omp parallel for schedule(static) if (len * (int64_t)C > PAR_MIN)
        for (int64_t s = 0; s < len; s++)
            part[s] = recon_row(pred, target, pred_rows, target_rows, s0 + s, C, &pcnt[s]);
        for (int64_t s = 0; s < len; s++) {
            total += part[s];
            cnt += pcnt[s];
        }
    }
    *count = cnt;
    return total;
}

double gfuse_i_recon_forward(const float *pred, const float *target, const int64_t *pred_rows,
                             const int64_t *target_rows, int64_t S, int C, int64_t *count)
{
    int64_t cnt = 0;
    double total = recon_total(pred, target, pred_rows, target_rows, S, C, &cnt);
    if (count) *count = cnt;
    return cnt > 0 ? total / cnt : 0.0;
}

void gfuse_i_recon_backward(float *dpred, const float *pred, const float *target,
                            const int64_t *pred_rows, const int64_t *target_rows, int64_t S,
                            int C, float dloss)
{
    int64_t cnt = 0;
    for (int64_t s = 0; s < S; s++) {
        const float *t = target + target_rows[s] * C;
        for (int c = 0; c < C; c++) cnt += !isnan(t[c]);
    }
    if (cnt == 0) return;
    /* in the forward pass this was: L = sum over observed cells (p - t)^2 / count, so: */
    float g = (float)(2.0 * dloss / cnt);
#pragma omp parallel for schedule(static) if (S * (int64_t)C > PAR_MIN)
    for (int64_t s = 0; s < S; s++) {
        const float *p = pred + pred_rows[s] * C, *t = target + target_rows[s] * C;
        float *d = dpred + pred_rows[s] * C;
        for (int c = 0; c < C; c++)
            if (!isnan(t[c])) d[c] += g * (p[c] - t[c]);
    }
}
