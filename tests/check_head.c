/* check_head.c: the prediction head and the completion decoders' input (src/nn/head.c): each
 * backward against central finite differences over several shapes, with and without dropout,
 * backward accumulation, the forward against its definition, and thread-count independence. */
#include <check.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "gradcheck.h"
#include "nn/head.h"

/* Gradient tolerance: |analytic - numeric| <= 1e-2 relative + 1e-3 * max|gradient| + 1e-4. */
#define RTOL 1e-2
#define ATOL 1e-3

/* Backward accumulates: gradients start at START, which is subtracted afterwards. */
#define START 0.5f

static float *start_at(int64_t n)
{
    float *g = gc_alloc(n);
    for (int64_t t = 0; t < n; t++) g[t] = START;
    return g;
}

static void unstart(float *g, int64_t n)
{
    for (int64_t t = 0; t < n; t++) g[t] -= START;
}

/* ---- prediction head --------------------------------------------------------------------- */

typedef struct {
    int64_t B, cap; /* rows run, rows the caches hold */
    int F, K;
    float p;
    uint64_t seed_in, seed_hidden;
    float *inp, *W1, *b1, *W2, *b2, *G; /* G: B x K probe weights = dlogits */
    int64_t *rows, S; /* rows not NULL: the head runs on the S rows rows[s] of inp only */
    gfuse_i_head hd;
} head_ctx;

static void head_make(head_ctx *c, int64_t B, int F, int K, float p, uint64_t seed)
{
    gfuse_i_rng r;
    gfuse_i_rng_seed(&r, seed);
    memset(c, 0, sizeof *c);
    c->B = B;
    c->cap = B + 3;
    c->F = F;
    c->K = K;
    c->p = p;
    c->seed_in = seed * 31 + 1;
    c->seed_hidden = seed * 31 + 2;
    int64_t bf = c->cap * F, bk = c->cap * K;
    c->inp = gc_alloc(B * F);
    c->W1 = gc_alloc((int64_t)F * F);
    c->b1 = gc_alloc(F);
    c->W2 = gc_alloc((int64_t)K * F);
    c->b2 = gc_alloc(K);
    c->G = gc_alloc(B * K);
    gc_fill(c->inp, B * F, &r, -1, 1);
    gc_fill(c->W1, (int64_t)F * F, &r, -1, 1);
    gc_fill(c->b1, F, &r, -0.5f, 0.5f);
    gc_fill(c->W2, (int64_t)K * F, &r, -1, 1);
    gc_fill(c->b2, K, &r, -0.5f, 0.5f);
    gc_fill(c->G, B * K, &r, -1, 1);
    gfuse_i_head *hd = &c->hd;
    hd->B = c->cap;
    hd->in_drop = gc_alloc(bf);
    hd->in_mask = calloc((size_t)bf, 1);
    hd->pre = gc_alloc(bf);
    hd->act = gc_alloc(bf);
    hd->drop = gc_alloc(bf);
    hd->mask = calloc((size_t)bf, 1);
    hd->logits = gc_alloc(bk);
    hd->probs = gc_alloc(bk);
    hd->dlogits = gc_alloc(bk);
    hd->d1 = gc_alloc(bf);
    hd->d2 = gc_alloc(bf);
    hd->cl = gc_alloc(bk);
    hd->cp = gc_alloc(bk);
    ck_assert(hd->in_mask && hd->mask);
    for (int64_t t = B * K; t < bk; t++) hd->logits[t] = hd->probs[t] = 7.0f; /* past row B */
}

static void head_free(head_ctx *c)
{
    gfuse_i_head *hd = &c->hd;
    float *f[] = {c->inp,   c->W1,     c->b1,        c->W2,     c->b2,     c->G,
                  hd->in_drop, hd->pre, hd->act, hd->drop, hd->logits, hd->probs,
                  hd->dlogits, hd->d1,  hd->d2, hd->cl, hd->cp};
    for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) free(f[k]);
    free(c->rows);
    free(hd->in_mask);
    free(hd->mask);
}

static double head_loss(void *ctx)
{
    head_ctx *c = ctx;
    gfuse_i_head_forward(&c->hd, c->inp, c->rows, c->W1, c->b1, c->W2, c->b2,
                         c->rows ? c->S : c->B, c->F, c->K, c->p, c->seed_in, c->seed_hidden);
    /* with rows, the rows not listed keep their values: constants of the probe */
    return gc_probe(c->hd.logits, c->G, c->B * c->K);
}

/* The signs of the ELU inputs: a difference that moves one across 0 is skipped. */
static uint64_t head_kink(void *ctx)
{
    head_ctx *c = ctx;
    uint64_t h = 1469598103934665603ULL;
    for (int64_t t = 0; t < (c->rows ? c->S : c->B) * c->F; t++)
        h = (h ^ (uint64_t)(c->hd.pre[t] > 0.0f)) * 1099511628211ULL;
    return h;
}

/* The head's backward pass (on c->rows when set) from gradients starting at START, against
 * central finite differences of head_loss. */
static void head_backward_check(head_ctx *c)
{
    int64_t B = c->B, F = c->F, K = c->K;
    float *dinp = start_at(B * F), *dW1 = start_at(F * F), *db1 = start_at(F),
          *dW2 = start_at(K * F), *db2 = start_at(K);
    gfuse_i_head_backward(dinp, dW1, db1, dW2, db2, &c->hd, c->G, c->rows, c->W1, c->W2,
                          c->rows ? c->S : B, (int)F, (int)K, c->p);
    unstart(dinp, B * F);
    unstart(dW1, F * F);
    unstart(db1, F);
    unstart(dW2, K * F);
    unstart(db2, K);
    gc_model m = {head_loss, head_kink, c};
    gc_check("dinp", m, c->inp, dinp, B * F, 80, RTOL, ATOL);
    gc_check("dW1", m, c->W1, dW1, F * F, 60, RTOL, ATOL);
    gc_check("db1", m, c->b1, db1, F, 60, RTOL, ATOL);
    gc_check("dW2", m, c->W2, dW2, K * F, 60, RTOL, ATOL);
    gc_check("db2", m, c->b2, db2, K, 60, RTOL, ATOL);
    free(dinp);
    free(dW1);
    free(db1);
    free(dW2);
    free(db2);
}

/* {B, F, K}: K = 1 is the regression head (probs a copy of logits). */
static const int head_shapes[][3] = {{1, 1, 2}, {5, 3, 1}, {9, 6, 3}, {17, 12, 4}, {4, 20, 1}};

START_TEST(test_head_gradients)
{
    const int *sh = head_shapes[_i % 5];
    head_ctx c;
    head_make(&c, sh[0], sh[1], sh[2], _i >= 5 ? 0.3f : 0.0f, 700 + (uint64_t)_i);
    int64_t B = c.B, F = c.F, K = c.K;
    head_loss(&c);
    /* the forward against its definition: probs a row softmax (a copy for K = 1), rows past B
     * untouched, dropout masks all kept without dropout */
    for (int64_t b = 0; b < B; b++) {
        if (K == 1) {
            ck_assert(gc_same(c.hd.probs + b, c.hd.logits + b, 1));
            continue;
        }
        double sum = 0.0, mx = -INFINITY;
        for (int k = 0; k < K; k++) mx = fmax(mx, c.hd.logits[b * K + k]);
        for (int k = 0; k < K; k++) sum += exp(c.hd.logits[b * K + k] - mx);
        for (int k = 0; k < K; k++)
            ck_assert_double_eq_tol(c.hd.probs[b * K + k], exp(c.hd.logits[b * K + k] - mx) / sum,
                                    1e-6);
    }
    for (int64_t t = B * K; t < c.cap * K; t++) {
        ck_assert_float_eq(c.hd.logits[t], 7.0f);
        ck_assert_float_eq(c.hd.probs[t], 7.0f);
    }
    if (c.p <= 0.0f)
        for (int64_t t = 0; t < B * F; t++) ck_assert(c.hd.in_mask[t] && c.hd.mask[t]);
    head_backward_check(&c);
    head_free(&c);
}
END_TEST

/* The head on a subset of the rows: the listed rows' logits as the whole head gives them
 * (without dropout), the others untouched, and the backward pass against finite differences
 * (the input rows not listed get no gradient), with and without dropout. */
START_TEST(test_head_rows)
{
    const float p = _i ? 0.3f : 0.0f;
    head_ctx c, full;
    head_make(&c, 13, 6, 3, p, 950);
    head_make(&full, 13, 6, 3, p, 950);
    int64_t B = c.B, K = c.K;
    c.S = 5;
    c.rows = malloc((size_t)c.S * sizeof *c.rows);
    ck_assert_ptr_nonnull(c.rows);
    const int64_t pick[5] = {11, 2, 7, 0, 5};
    for (int64_t s = 0; s < c.S; s++) c.rows[s] = pick[s];
    for (int64_t t = 0; t < B * K; t++) c.hd.logits[t] = c.hd.probs[t] = 7.0f;
    head_loss(&c);
    head_loss(&full);
    for (int64_t i = 0; i < B; i++) {
        int listed = 0;
        for (int64_t s = 0; s < c.S; s++) listed |= c.rows[s] == i;
        for (int64_t k = 0; k < K; k++) {
            if (!listed) {
                ck_assert_float_eq(c.hd.logits[i * K + k], 7.0f);
                ck_assert_float_eq(c.hd.probs[i * K + k], 7.0f);
            } else if (p <= 0.0f) {
                ck_assert_float_eq_tol(c.hd.logits[i * K + k], full.hd.logits[i * K + k], 1e-5f);
                ck_assert_float_eq_tol(c.hd.probs[i * K + k], full.hd.probs[i * K + k], 1e-6f);
            }
        }
    }
    head_backward_check(&c);
    head_free(&c);
    head_free(&full);
}
END_TEST

/* ---- completion decoders' input ------------------------------------------------------------ */

typedef struct {
    int64_t N, S;
    int M, F;
    float *h, **enc, *u, *G;     /* h (V x F); enc[m] (n_obs x F); u, G (S x U) */
    int64_t **obs_pos, *rows;    /* rows NULL: samples 0..S-1 */
    int64_t *n_obs;
} dec_ctx;

static void dec_make(dec_ctx *c, int64_t N, int M, int F, int64_t S, int subset, uint64_t seed)
{
    gfuse_i_rng r;
    gfuse_i_rng_seed(&r, seed);
    memset(c, 0, sizeof *c);
    c->N = N;
    c->M = M;
    c->F = F;
    c->S = subset ? S : N;
    int64_t V = N * (M + 1), U = (int64_t)(2 * M + 1) * F;
    c->h = gc_alloc(V * F);
    gc_fill(c->h, V * F, &r, -1, 1);
    c->enc = calloc((size_t)M, sizeof *c->enc);
    c->obs_pos = calloc((size_t)M, sizeof *c->obs_pos);
    c->n_obs = calloc((size_t)M, sizeof *c->n_obs);
    ck_assert(c->enc && c->obs_pos && c->n_obs);
    for (int m = 0; m < M; m++) {
        c->obs_pos[m] = malloc(sizeof(int64_t) * (size_t)N);
        ck_assert_ptr_nonnull(c->obs_pos[m]);
        for (int64_t i = 0; i < N; i++)
            c->obs_pos[m][i] = gfuse_i_rng_uniform(&r) < 0.3 ? -1 : c->n_obs[m]++;
        c->enc[m] = gc_alloc(c->n_obs[m] * F);
        gc_fill(c->enc[m], c->n_obs[m] * F, &r, -1, 1);
    }
    if (subset) { /* distinct samples in random order */
        c->rows = malloc(sizeof(int64_t) * (size_t)N);
        ck_assert_ptr_nonnull(c->rows);
        for (int64_t i = 0; i < N; i++) c->rows[i] = i;
        gfuse_i_rng_shuffle(&r, c->rows, N);
    }
    c->u = gc_alloc(c->S * U);
    c->G = gc_alloc(c->S * U);
    gc_fill(c->G, c->S * U, &r, -1, 1);
}

static void dec_free(dec_ctx *c)
{
    for (int m = 0; m < c->M; m++) {
        free(c->enc[m]);
        free(c->obs_pos[m]);
    }
    free(c->enc);
    free(c->obs_pos);
    free(c->n_obs);
    free(c->rows);
    free(c->h);
    free(c->u);
    free(c->G);
}

static void dec_forward(dec_ctx *c)
{
    gfuse_i_decoder_input_forward(c->u, c->h, (const float *const *)c->enc,
                                  (const int64_t *const *)c->obs_pos, c->rows, c->S, c->N, c->M,
                                  c->F);
}

static double dec_loss(void *ctx)
{
    dec_ctx *c = ctx;
    dec_forward(c);
    return gc_probe(c->u, c->G, c->S * (int64_t)(2 * c->M + 1) * c->F);
}

/* {N, M, F, S}; odd loop indices take a random subset of S rows, even ones every sample. */
static const int dec_shapes[][4] = {{1, 1, 1, 1}, {6, 2, 3, 4}, {11, 3, 5, 7}, {20, 4, 8, 9}};

START_TEST(test_decoder_input_gradients)
{
    const int *sh = dec_shapes[(_i / 2) % 4];
    dec_ctx c;
    dec_make(&c, sh[0], sh[1], sh[2], sh[3], _i % 2, 800 + (uint64_t)_i);
    int64_t N = c.N, S = c.S, V = N * (c.M + 1), F = c.F, J = c.M + 1;
    int64_t U = (2 * J - 1) * F;
    dec_forward(&c);
    /* the forward against its definition, exactly */
    for (int64_t s = 0; s < S; s++) {
        int64_t i = c.rows ? c.rows[s] : s;
        for (int64_t j = 0; j < J; j++)
            ck_assert(gc_same(c.u + s * U + j * F, c.h + (j * N + i) * F, F));
        for (int m = 0; m < c.M; m++) {
            const float *x = c.u + s * U + (J + m) * F;
            int64_t pos = c.obs_pos[m][i];
            if (pos >= 0)
                ck_assert(gc_same(x, c.enc[m] + pos * F, F));
            else
                for (int64_t f = 0; f < F; f++) ck_assert_float_eq(x[f], 0.0f);
        }
    }
    float *dh = start_at(V * F);
    float **denc = calloc((size_t)c.M, sizeof *denc);
    ck_assert_ptr_nonnull(denc);
    for (int m = 0; m < c.M; m++) denc[m] = start_at(c.n_obs[m] * F);
    gfuse_i_decoder_input_backward(dh, denc, c.G, (const int64_t *const *)c.obs_pos, c.rows, S, N,
                                   c.M, (int)F);
    unstart(dh, V * F);
    gc_model m = {dec_loss, NULL, &c};
    gc_check("dh", m, c.h, dh, V * F, 80, RTOL, ATOL);
    for (int k = 0; k < c.M; k++) {
        unstart(denc[k], c.n_obs[k] * F);
        if (c.n_obs[k] > 0) gc_check("denc", m, c.enc[k], denc[k], c.n_obs[k] * F, 60, RTOL, ATOL);
        free(denc[k]);
    }
    free(denc);
    free(dh);
    dec_free(&c);
}
END_TEST

/* ---- threads ------------------------------------------------------------------------------- */

/* Forward and backward on blocks large enough for the threaded paths: bitwise the same on 1
 * and 2 threads. */
START_TEST(test_head_threads)
{
    int keep = omp_get_max_threads();
    float *out[2][3] = {{NULL}};
    for (int run = 0; run < 2; run++) {
        omp_set_num_threads(run + 1);
        head_ctx c;
        head_make(&c, 3000, 24, 3, 0.2f, 900);
        int64_t B = c.B, F = c.F, K = c.K;
        float *dinp = start_at(B * F), *dW1 = start_at(F * F), *db1 = start_at(F),
              *dW2 = start_at(K * F), *db2 = start_at(K);
        head_loss(&c);
        gfuse_i_head_backward(dinp, dW1, db1, dW2, db2, &c.hd, c.G, NULL, c.W1, c.W2, B, (int)F,
                              (int)K, c.p);
        out[run][0] = gc_alloc(B * K);
        memcpy(out[run][0], c.hd.probs, sizeof(float) * (size_t)(B * K));
        out[run][1] = dinp;
        out[run][2] = dW1;
        free(db1);
        free(dW2);
        free(db2);
        head_free(&c);
    }
    ck_assert(gc_same(out[0][0], out[1][0], 3000 * 3));
    ck_assert(gc_same(out[0][1], out[1][1], 3000 * 24));
    ck_assert(gc_same(out[0][2], out[1][2], 24 * 24));
    dec_ctx d[2];
    float *dh[2];
    for (int run = 0; run < 2; run++) {
        omp_set_num_threads(run + 1);
        dec_make(&d[run], 2000, 3, 16, 1500, 1, 901);
        dec_forward(&d[run]);
        dh[run] = start_at(d[run].N * 4 * 16);
        float *denc[3];
        for (int m = 0; m < 3; m++) denc[m] = start_at(d[run].n_obs[m] * 16);
        gfuse_i_decoder_input_backward(dh[run], denc, d[run].G,
                                       (const int64_t *const *)d[run].obs_pos, d[run].rows,
                                       d[run].S, d[run].N, 3, 16);
        for (int m = 0; m < 3; m++) free(denc[m]);
    }
    ck_assert(gc_same(d[0].u, d[1].u, d[0].S * 7 * 16));
    ck_assert(gc_same(dh[0], dh[1], d[0].N * 4 * 16));
    for (int run = 0; run < 2; run++) {
        for (int k = 0; k < 3; k++) free(out[run][k]);
        free(dh[run]);
        dec_free(&d[run]);
    }
    omp_set_num_threads(keep);
}
END_TEST

/* The fills, on sizes around their block boundaries. */
START_TEST(test_fills)
{
    int64_t sizes[] = {0, 1, 65535, 65536, 300000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int64_t n = sizes[k];
        float *x = gc_alloc(n + 1), *y = gc_alloc(n + 1);
        for (int64_t t = 0; t <= n; t++) x[t] = (float)t + 1.0f;
        gfuse_i_copy(y, x, n);
        ck_assert(gc_same(x, y, n));
        ck_assert_float_eq(y[n], 0.0f);
        gfuse_i_zero(x, n);
        for (int64_t t = 0; t < n; t++) ck_assert_float_eq(x[t], 0.0f);
        ck_assert_float_eq(x[n], (float)n + 1.0f);
        free(x);
        free(y);
    }
}
END_TEST

static Suite *head_suite(void)
{
    Suite *s = suite_create("head");
    TCase *grad = tcase_create("gradients");
    tcase_add_loop_test(grad, test_head_gradients, 0, 10);
    tcase_add_loop_test(grad, test_head_rows, 0, 2);
    tcase_add_loop_test(grad, test_decoder_input_gradients, 0, 8);
    tcase_set_timeout(grad, 120);
    suite_add_tcase(s, grad);
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_head_threads);
    tcase_add_test(core, test_fills);
    tcase_set_timeout(core, 120);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(head_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
