/* check_layers.c: the dense and element-wise layers, dropout, the fusion head and the losses
 * (src/nn/layers.c): every backward against central finite differences over several seeds and
 * shapes, backward accumulation, dropout masks, and thread-count independence. */
#include <check.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "gradcheck.h"
#include "nn/layers.h"

#ifdef HAVE_OPENBLAS
#include <cblas.h>
#endif

/* Gradient tolerance of every test here unless stated: |analytic - numeric| <= 1e-2 relative
 * + 1e-3 * max|gradient| + 1e-4. */
#define RTOL 1e-2
#define ATOL 1e-3

/* Backward accumulates: gradients start from random values that are subtracted afterwards. */
static float *random_start(float *grad, int64_t n, uint64_t seed)
{
    float *init = gc_alloc(n);
    gfuse_i_rng r;
    gfuse_i_rng_seed(&r, seed);
    gc_fill(init, n, &r, -1.0f, 1.0f);
    memcpy(grad, init, sizeof(float) * (size_t)n);
    return init;
}

static void subtract_start(float *grad, float *init, int64_t n)
{
    for (int64_t t = 0; t < n; t++) grad[t] -= init[t];
    free(init);
}

/* ---- linear ---------------------------------------------------------------------------- */

typedef struct {
    int64_t B;
    int C, OC;
    float *inp, *w, *b, *out, *G;
} linear_ctx;

static double linear_loss(void *ctx)
{
    linear_ctx *c = ctx;
    gfuse_i_linear_forward(c->out, c->inp, c->w, c->b, c->B, c->C, c->OC);
    return gc_probe(c->out, c->G, c->B * c->OC);
}

static const int linear_shapes[][3] = {{1, 1, 1}, {4, 3, 5}, {13, 7, 2}, {33, 19, 20}, {6, 40, 3}};

START_TEST(test_linear_gradients)
{
    const int *sh = linear_shapes[_i % 5];
    linear_ctx c = {sh[0], sh[1], sh[2], NULL, NULL, NULL, NULL, NULL};
    gfuse_i_rng r;
    gfuse_i_rng_seed(&r, 100 + (uint64_t)_i);
    int64_t B = c.B, C = c.C, OC = c.OC;
    c.inp = gc_alloc(B * C);
    c.w = gc_alloc(OC * C);
    c.b = gc_alloc(OC);
    c.out = gc_alloc(B * OC);
    c.G = gc_alloc(B * OC);
    gc_fill(c.inp, B * C, &r, -1, 1);
    gc_fill(c.w, OC * C, &r, -1, 1);
    gc_fill(c.b, OC, &r, -1, 1);
    gc_fill(c.G, B * OC, &r, -1, 1);
    float *dinp = gc_alloc(B * C), *dw = gc_alloc(OC * C), *db = gc_alloc(OC);
    float *i1 = random_start(dinp, B * C, 1), *i2 = random_start(dw, OC * C, 2),
          *i3 = random_start(db, OC, 3);
    linear_loss(&c);
    gfuse_i_linear_backward(dinp, dw, db, c.G, c.inp, c.w, B, (int)C, (int)OC);
    subtract_start(dinp, i1, B * C);
    subtract_start(dw, i2, OC * C);
    subtract_start(db, i3, OC);
    gc_model m = {linear_loss, NULL, &c};
    gc_check("dinp", m, c.inp, dinp, B * C, 60, RTOL, ATOL);
    gc_check("dweight", m, c.w, dw, OC * C, 60, RTOL, ATOL);
    gc_check("dbias", m, c.b, db, OC, 60, RTOL, ATOL);

    /* no bias: the same as a zero bias; NULL dinp and dbias are skipped */
    float *out0 = gc_alloc(B * OC), *dw2 = gc_alloc(OC * C), *dw3 = gc_alloc(OC * C);
    gfuse_i_linear_forward(out0, c.inp, c.w, NULL, B, (int)C, (int)OC);
    memset(c.b, 0, sizeof(float) * (size_t)OC);
    linear_loss(&c);
    ck_assert(gc_same(out0, c.out, B * OC));
    gfuse_i_linear_backward(NULL, dw2, NULL, c.G, c.inp, c.w, B, (int)C, (int)OC);
    gfuse_i_linear_backward(dinp, dw3, db, c.G, c.inp, c.w, B, (int)C, (int)OC);
    ck_assert(gc_same(dw2, dw3, OC * C));
    free(out0);
    free(dw2);
    free(dw3);
    free(dinp);
    free(dw);
    free(db);
    free(c.inp);
    free(c.w);
    free(c.b);
    free(c.out);
    free(c.G);
}
END_TEST

/* The blocked products against plain loops in double, on shapes that span several row blocks
 * and dweight tiles (within 1e-5 of the largest magnitude of each result). */
START_TEST(test_linear_blocks)
{
    static const int shapes[][3] = {{600, 70, 40}, {257, 129, 33}, {1000, 3, 65}};
    const int64_t B = shapes[_i][0];
    const int C = shapes[_i][1], OC = shapes[_i][2];
    gfuse_i_rng r;
    gfuse_i_rng_seed(&r, 150 + (uint64_t)_i);
    float *inp = gc_alloc(B * C), *w = gc_alloc((int64_t)OC * C), *b = gc_alloc(OC);
    float *G = gc_alloc(B * OC), *out = gc_alloc(B * OC);
    float *dinp = gc_alloc(B * C), *dw = gc_alloc((int64_t)OC * C), *db = gc_alloc(OC);
    float *want_out = gc_alloc(B * OC), *want_dinp = gc_alloc(B * C);
    float *want_dw = gc_alloc((int64_t)OC * C), *want_db = gc_alloc(OC);
    gc_fill(inp, B * C, &r, -1, 1);
    gc_fill(w, (int64_t)OC * C, &r, -1, 1);
    gc_fill(b, OC, &r, -1, 1);
    gc_fill(G, B * OC, &r, -1, 1);
    gfuse_i_linear_forward(out, inp, w, b, B, C, OC);
    gfuse_i_linear_backward(dinp, dw, db, G, inp, w, B, C, OC);
    for (int64_t i = 0; i < B; i++)
        for (int o = 0; o < OC; o++) {
            double s = b[o];
            for (int c = 0; c < C; c++) s += (double)inp[i * C + c] * w[(int64_t)o * C + c];
            want_out[i * OC + o] = (float)s;
        }
    for (int64_t i = 0; i < B; i++)
        for (int c = 0; c < C; c++) {
            double s = 0.0;
            for (int o = 0; o < OC; o++) s += (double)G[i * OC + o] * w[(int64_t)o * C + c];
            want_dinp[i * C + c] = (float)s;
        }
    for (int o = 0; o < OC; o++) {
        double sb = 0.0;
        for (int c = 0; c < C; c++) {
            double s = 0.0;
            for (int64_t i = 0; i < B; i++) s += (double)G[i * OC + o] * inp[i * C + c];
            want_dw[(int64_t)o * C + c] = (float)s;
        }
        for (int64_t i = 0; i < B; i++) sb += G[i * OC + o];
        want_db[o] = (float)sb;
    }
    ck_assert_double_le(gc_normdiff(out, want_out, B * OC), 1e-5);
    ck_assert_double_le(gc_normdiff(dinp, want_dinp, B * C), 1e-5);
    ck_assert_double_le(gc_normdiff(dw, want_dw, (int64_t)OC * C), 1e-5);
    ck_assert_double_le(gc_normdiff(db, want_db, OC), 1e-5);
    free(inp);
    free(w);
    free(b);
    free(G);
    free(out);
    free(dinp);
    free(dw);
    free(db);
    free(want_out);
    free(want_dinp);
    free(want_dw);
    free(want_db);
}
END_TEST

/* ---- row placement ---------------------------------------------------------------------- */

typedef struct {
    int64_t S, rows_out;
    int C;
    int64_t *rows;
    float *inp, *vec, *out, *G;
} rows_ctx;

static double place_loss(void *ctx)
{
    rows_ctx *c = ctx;
    for (int64_t t = 0; t < c->rows_out * c->C; t++) c->out[t] = 0.25f; /* rows not placed */
    gfuse_i_place_rows_forward(c->out, c->inp, c->vec, c->rows, c->S, c->C);
    return gc_probe(c->out, c->G, c->rows_out * c->C);
}

static void rows_ctx_make(rows_ctx *c, int64_t S, int64_t rows_out, int C, int distinct,
                          uint64_t seed)
{
    gfuse_i_rng r;
    gfuse_i_rng_seed(&r, seed);
    c->S = S;
    c->rows_out = rows_out;
    c->C = C;
    c->rows = malloc(sizeof(int64_t) * (size_t)(rows_out > S ? rows_out : S));
    ck_assert_ptr_nonnull(c->rows);
    if (distinct) {
        int64_t *perm = malloc(sizeof(int64_t) * (size_t)rows_out);
        ck_assert_ptr_nonnull(perm);
        for (int64_t t = 0; t < rows_out; t++) perm[t] = t;
        gfuse_i_rng_shuffle(&r, perm, rows_out);
        memcpy(c->rows, perm, sizeof(int64_t) * (size_t)S);
        free(perm);
    } else {
        for (int64_t s = 0; s < S; s++) c->rows[s] = (int64_t)gfuse_i_rng_below(&r, (uint64_t)rows_out);
    }
    int64_t big = (S > rows_out ? S : rows_out) * C;
    c->inp = gc_alloc(big);
    c->vec = gc_alloc(C);
    c->out = gc_alloc(big);
    c->G = gc_alloc(big);
    gc_fill(c->inp, big, &r, -1, 1);
    gc_fill(c->vec, C, &r, -1, 1);
    gc_fill(c->G, big, &r, -1, 1);
}

static void rows_ctx_free(rows_ctx *c)
{
    free(c->rows);
    free(c->inp);
    free(c->vec);
    free(c->out);
    free(c->G);
}

START_TEST(test_place_rows_gradients)
{
    rows_ctx c;
    int64_t S = 3 + _i * 4, rows_out = S + 5;
    int C = 1 + _i * 7;
    rows_ctx_make(&c, S, rows_out, C, 1, 200 + (uint64_t)_i);
    for (int token = 0; token < 2; token++) { /* token: inp NULL, out[rows] = vec */
        float *keep_inp = c.inp;
        if (token) c.inp = NULL;
        float *dinp = gc_alloc(S * C), *dvec = gc_alloc(C);
        float *i1 = random_start(dinp, S * C, 4), *i2 = random_start(dvec, C, 5);
        place_loss(&c);
        /* the rows not listed keep their value */
        for (int64_t v = 0, s; v < rows_out; v++) {
            for (s = 0; s < S && c.rows[s] != v; s++) continue;
            if (s == S) ck_assert_float_eq(c.out[v * C], 0.25f);
        }
        gfuse_i_place_rows_backward(token ? NULL : dinp, dvec, c.G, c.rows, S, C);
        subtract_start(dinp, i1, S * C);
        subtract_start(dvec, i2, C);
        gc_model m = {place_loss, NULL, &c};
        if (!token) gc_check("dinp", m, keep_inp, dinp, S * C, 60, RTOL, ATOL);
        gc_check("dvec", m, c.vec, dvec, C, 60, RTOL, ATOL);
        c.inp = keep_inp;
        free(dinp);
        free(dvec);
    }
    rows_ctx_free(&c);
}
END_TEST

/* The gather of the encoder inputs: the listed rows in order, a NaN as 0, every other value
 * as it was bit for bit (-0 and the denormals included), serially and in parallel. */
START_TEST(test_gather_rows_finite)
{
    const int64_t n = 700, C = 211, rows_n[2] = {5, 600};
    float *inp = malloc((size_t)(n * C) * sizeof *inp);
    float *out = malloc((size_t)(600 * C) * sizeof *out);
    int64_t *rows = malloc(600 * sizeof *rows);
    ck_assert(inp && out && rows);
    for (int64_t t = 0; t < n * C; t++)
        inp[t] = t % 7 == 0 ? NAN : t % 11 == 0 ? -0.0f : t % 13 == 0 ? 1e-42f : (float)t - 3e4f;
    for (int64_t s = 0; s < 600; s++) rows[s] = (s * 37 + 11) % n;
    for (int k = 0; k < 2; k++) {
        gfuse_i_gather_rows_finite(out, inp, rows, rows_n[k], C);
        for (int64_t s = 0; s < rows_n[k]; s++)
            for (int64_t c = 0; c < C; c++) {
                float x = inp[rows[s] * C + c], y = out[s * C + c];
                if (isnan(x))
                    ck_assert(y == 0.0f && !signbit(y));
                else
                    ck_assert_int_eq(memcmp(&x, &y, sizeof x), 0);
            }
    }
    free(inp);
    free(out);
    free(rows);
}
END_TEST

/* ---- activations, residual add --------------------------------------------------------- */

enum { ACT_ELU, ACT_TANH, ACT_ADD, N_ACT };

typedef struct {
    int kind;
    int64_t n;
    float *x, *y, *out, *G;
} act_ctx;

static void act_forward(act_ctx *c)
{
    switch (c->kind) {
    case ACT_ELU: gfuse_i_elu_forward(c->out, c->x, c->n); break;
    case ACT_TANH: gfuse_i_tanh_forward(c->out, c->x, c->n); break;
    default: gfuse_i_add_forward(c->out, c->x, c->y, c->n); break;
    }
}

static double act_loss(void *ctx)
{
    act_ctx *c = ctx;
    act_forward(c);
    return gc_probe(c->out, c->G, c->n);
}

/* Inputs are kept at least 0.05 away from 0 (ELU's derivative is continuous there anyway).
 * tanh is checked forward only: the fusion head, its one user, differentiates it itself. */
START_TEST(test_activation_gradients)
{
    for (int kind = 0; kind < N_ACT; kind++) {
        act_ctx c = {kind, 7 + 13 * _i, NULL, NULL, NULL, NULL};
        gfuse_i_rng r;
        gfuse_i_rng_seed_stream(&r, 400 + (uint64_t)_i, (uint64_t)kind);
        c.x = gc_alloc(c.n);
        c.y = gc_alloc(c.n);
        c.out = gc_alloc(c.n);
        c.G = gc_alloc(c.n);
        gc_fill_away(c.x, c.n, &r, 0.05f, 2.0f);
        gc_fill(c.y, c.n, &r, -1, 1);
        gc_fill(c.G, c.n, &r, -1, 1);
        float *dx = gc_alloc(c.n), *dy = gc_alloc(c.n);
        float *i1 = random_start(dx, c.n, 7), *i2 = random_start(dy, c.n, 8);
        act_forward(&c);
        for (int64_t t = 0; t < c.n; t++) { /* the forward formulas, from the definitions */
            float x = c.x[t], want = 0.0f;
            switch (kind) {
            case ACT_ELU: want = x > 0 ? x : (float)(exp(x) - 1.0); break;
            case ACT_TANH: want = (float)tanh(x); break;
            default: want = x + c.y[t]; break;
            }
            ck_assert_float_eq_tol(c.out[t], want, 1e-6f * (1.0f + fabsf(want)));
        }
        switch (kind) {
        case ACT_ELU: gfuse_i_elu_backward(dx, c.G, c.x, c.n); break;
        case ACT_TANH: break;
        default: gfuse_i_add_backward(dx, dy, c.G, c.n); break;
        }
        subtract_start(dx, i1, c.n);
        subtract_start(dy, i2, c.n);
        gc_model m = {act_loss, NULL, &c};
        if (kind != ACT_TANH) gc_check("dx", m, c.x, dx, c.n, 100, RTOL, ATOL);
        if (kind == ACT_ADD) gc_check("dy", m, c.y, dy, c.n, 100, RTOL, ATOL);
        free(dx);
        free(dy);
        free(c.x);
        free(c.y);
        free(c.out);
        free(c.G);
    }
}
END_TEST

/* ---- dropout --------------------------------------------------------------------------- */

typedef struct {
    int64_t n;
    float p;
    uint64_t seed;
    uint8_t *mask;
    float *x, *out, *G;
} drop_ctx;

static double drop_loss(void *ctx)
{
    drop_ctx *c = ctx;
    gfuse_i_dropout_forward(c->out, c->mask, c->x, c->p, c->seed, c->n);
    return gc_probe(c->out, c->G, c->n);
}

START_TEST(test_dropout_gradients)
{
    drop_ctx c = {50 + 20 * _i, 0.1f + 0.2f * (float)_i, 500 + (uint64_t)_i, NULL, NULL, NULL,
                  NULL};
    gfuse_i_rng r;
    gfuse_i_rng_seed(&r, c.seed);
    c.mask = malloc((size_t)c.n);
    c.x = gc_alloc(c.n);
    c.out = gc_alloc(c.n);
    c.G = gc_alloc(c.n);
    ck_assert_ptr_nonnull(c.mask);
    gc_fill(c.x, c.n, &r, -1, 1);
    gc_fill(c.G, c.n, &r, -1, 1);
    float *dx = gc_alloc(c.n);
    float *i1 = random_start(dx, c.n, 9);
    drop_loss(&c);
    for (int64_t t = 0; t < c.n; t++) /* kept: scaled by 1 / (1 - p); dropped: 0 */
        ck_assert_float_eq(c.out[t], c.mask[t] ? c.x[t] * (1.0f / (1.0f - c.p)) : 0.0f);
    gfuse_i_dropout_backward(dx, c.G, c.mask, c.p, c.n);
    subtract_start(dx, i1, c.n);
    gc_model m = {drop_loss, NULL, &c};
    gc_check("dx", m, c.x, dx, c.n, 100, RTOL, ATOL);
    /* p = 0: a copy, all kept */
    gfuse_i_dropout_forward(c.out, c.mask, c.x, 0.0f, c.seed, c.n);
    ck_assert(gc_same(c.out, c.x, c.n));
    for (int64_t t = 0; t < c.n; t++) ck_assert_int_eq(c.mask[t], 1);
    free(dx);
    free(c.mask);
    free(c.x);
    free(c.out);
    free(c.G);
}
END_TEST

/* Masks depend only on (seed, index, p): the same for 1 and 2 threads and on repeat, different
 * for another seed, and drop a fraction p of the elements (within 0.01 over 300000). */
/* The vector-friendly exp, ELU and tanh of the hot loops against libm in double precision. */
START_TEST(test_fastmath_accuracy)
{
    double worst_exp = 0.0, worst_elu = 0.0, worst_tanh = 0.0;
    for (int k = -870000; k <= 880000; k++) {
        float x = (float)k * 1e-4f;
        double e = exp((double)x);
        double r = fabs((double)gfuse_i_expf(x) - e) / e;
        if (r > worst_exp) worst_exp = r;
        double elu = x > 0.0f ? (double)x : expm1((double)x);
        double a = fabs((double)gfuse_i_elu(x) - elu);
        if (a > worst_elu) worst_elu = a;
        double t = fabs((double)gfuse_i_tanhf(x) - tanh((double)x));
        if (t > worst_tanh) worst_tanh = t;
    }
    ck_assert_double_lt(worst_exp, 2e-7);
    ck_assert_double_lt(worst_elu, 2e-7);
    ck_assert_double_lt(worst_tanh, 3e-7);
    /* the clamps: ELU reaches -1, exp of very negative numbers is (almost) 0, no overflow */
    ck_assert_float_eq_tol(gfuse_i_elu(-1000.0f), -1.0f, 1e-7f);
    ck_assert_float_lt(gfuse_i_expf(-1000.0f), 1e-37f);
    ck_assert(isfinite(gfuse_i_expf(1000.0f)));
    ck_assert_float_eq(gfuse_i_tanhf(50.0f), 1.0f);
    ck_assert_float_eq(gfuse_i_tanhf(-50.0f), -1.0f);
}
END_TEST

START_TEST(test_dropout_masks)
{
    const int64_t n = 300000; /* above the parallel threshold */
    const float p = 0.3f;
    float *x = gc_alloc(n), *out = gc_alloc(n);
    uint8_t *m1 = malloc((size_t)n), *m2 = malloc((size_t)n), *m3 = malloc((size_t)n);
    ck_assert(m1 && m2 && m3);
    for (int64_t t = 0; t < n; t++) x[t] = 1.0f;
    omp_set_num_threads(1);
    gfuse_i_dropout_forward(out, m1, x, p, 42, n);
    omp_set_num_threads(2);
    gfuse_i_dropout_forward(out, m2, x, p, 42, n);
    ck_assert(memcmp(m1, m2, (size_t)n) == 0);
    gfuse_i_dropout_forward(out, m3, x, p, 43, n);
    int64_t dropped = 0, differ = 0;
    for (int64_t t = 0; t < n; t++) {
        dropped += !m1[t];
        differ += m1[t] != m3[t];
        ck_assert_int_eq(m1[t], gfuse_i_dropout_keep(42, (uint64_t)t, p));
    }
    ck_assert_double_eq_tol((double)dropped / n, p, 0.01);
    ck_assert_int_gt(differ, n / 4);
    free(x);
    free(out);
    free(m1);
    free(m2);
    free(m3);
}
END_TEST

/* Without a mask (in place too) the forward pass gives the output with one, and the seeded
 * backward pass, drawing the mask again, gives the backward pass that reads it, bit for bit,
 * with 1 and 2 threads. */
START_TEST(test_dropout_seeded)
{
    const int64_t n = 300001; /* above the parallel threshold, not a multiple of a block */
    const float p = 0.35f;
    float *x = gc_alloc(n), *out = gc_alloc(n), *out2 = gc_alloc(n), *dout = gc_alloc(n);
    float *d1 = gc_alloc(n), *d2 = gc_alloc(n);
    uint8_t *mask = malloc((size_t)n);
    ck_assert(mask);
    for (int64_t t = 0; t < n; t++) {
        x[t] = (float)((t * 7919) % 1000) / 250.0f - 2.0f;
        dout[t] = (float)((t * 104729) % 997) / 300.0f - 1.5f;
        d1[t] = d2[t] = 0.5f;
    }
    gfuse_i_dropout_forward(out, mask, x, p, 9, n);
    gfuse_i_dropout_backward(d1, dout, mask, p, n);
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);
        gfuse_i_dropout_forward(out2, NULL, x, p, 9, n);
        ck_assert(memcmp(out, out2, (size_t)n * sizeof(float)) == 0);
        memcpy(out2, x, (size_t)n * sizeof(float));
        gfuse_i_dropout_forward(out2, NULL, out2, p, 9, n);
        ck_assert(memcmp(out, out2, (size_t)n * sizeof(float)) == 0);
        for (int64_t t = 0; t < n; t++) d2[t] = 0.5f;
        gfuse_i_dropout_backward_seeded(d2, dout, p, 9, n);
        ck_assert(memcmp(d1, d2, (size_t)n * sizeof(float)) == 0);
    }
    free(x);
    free(out);
    free(out2);
    free(dout);
    free(d1);
    free(d2);
    free(mask);
}
END_TEST

/* ---- fusion head ----------------------------------------------------------------------- */

typedef struct {
    int64_t N;
    int M, F, A;
    uint8_t *mask;
    float *h, *U, *c, *w, *fused, *weights, *proj, *score, *G;
} fusion_ctx;

static double fusion_loss(void *ctx)
{
    fusion_ctx *f = ctx;
    gfuse_i_fusion_forward(f->fused, f->weights, f->proj, f->score, f->h, f->mask, f->U, f->c,
                           f->w, f->N, f->M, f->F, f->A);
    return gc_probe(f->fused, f->G, f->N * f->F);
}

static void fusion_make(fusion_ctx *f, int64_t N, int M, int F, int A, int masked, uint64_t seed)
{
    gfuse_i_rng r;
    gfuse_i_rng_seed(&r, seed);
    int64_t V = N * (M + 1);
    *f = (fusion_ctx){N, M, F, A, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    f->h = gc_alloc(V * F);
    f->U = gc_alloc((int64_t)A * F);
    f->c = gc_alloc(A);
    f->w = gc_alloc(A);
    f->fused = gc_alloc(N * F);
    f->weights = gc_alloc(V);
    f->proj = gc_alloc(V * A);
    f->score = gc_alloc(V);
    f->G = gc_alloc(N * F);
    gc_fill(f->h, V * F, &r, -1, 1);
    gc_fill(f->U, (int64_t)A * F, &r, -1, 1);
    gc_fill(f->c, A, &r, -0.5f, 0.5f);
    gc_fill(f->w, A, &r, -1, 1);
    gc_fill(f->G, N * F, &r, -1, 1);
    if (masked) { /* like graph->observed: some modality nodes out, hubs in; sample 0 all out */
        f->mask = malloc((size_t)V);
        ck_assert_ptr_nonnull(f->mask);
        for (int64_t v = 0; v < V; v++)
            f->mask[v] = v >= (int64_t)M * N || gfuse_i_rng_uniform(&r) >= 0.4;
        for (int j = 0; j <= M; j++) f->mask[(int64_t)j * N] = 0;
    }
}

static void fusion_free(fusion_ctx *f)
{
    free(f->mask);
    free(f->h);
    free(f->U);
    free(f->c);
    free(f->w);
    free(f->fused);
    free(f->weights);
    free(f->proj);
    free(f->score);
    free(f->G);
}

START_TEST(test_fusion_gradients)
{
    static const int shapes[][4] = {{1, 1, 1, 1}, {4, 2, 3, 5}, {7, 3, 6, 4}, {5, 4, 20, 18}};
    const int *sh = shapes[_i % 4];
    fusion_ctx f;
    fusion_make(&f, sh[0], sh[1], sh[2], sh[3], _i >= 4, 600 + (uint64_t)_i);
    const int64_t N = f.N, V = N * (f.M + 1), F = f.F, A = f.A;
    float *dh = gc_alloc(V * F), *dU = gc_alloc(A * F), *dc = gc_alloc(A), *dw = gc_alloc(A);
    float *work = gc_alloc(V * (A + 1));
    float *i1 = random_start(dh, V * F, 10), *i2 = random_start(dU, A * F, 11),
          *i3 = random_start(dc, A, 12), *i4 = random_start(dw, A, 13);
    fusion_loss(&f);
    for (int64_t i = 0; i < N; i++) { /* weights sum to 1, or are all 0 when every slot is masked */
        double sum = 0.0;
        int any = 0;
        for (int j = 0; j <= f.M; j++) {
            sum += f.weights[i * (f.M + 1) + j];
            any |= !f.mask || f.mask[(int64_t)j * N + i];
            if (f.mask && !f.mask[(int64_t)j * N + i])
                ck_assert_float_eq(f.weights[i * (f.M + 1) + j], 0.0f);
        }
        ck_assert_double_eq_tol(sum, any ? 1.0 : 0.0, 1e-6);
    }
    gfuse_i_fusion_backward(dh, dU, dc, dw, work, f.G, f.weights, f.proj, f.h, f.mask, f.U, f.w,
                            N, f.M, (int)F, (int)A);
    subtract_start(dh, i1, V * F);
    subtract_start(dU, i2, A * F);
    subtract_start(dc, i3, A);
    subtract_start(dw, i4, A);
    gc_model m = {fusion_loss, NULL, &f};
    gc_check("dh", m, f.h, dh, V * F, 80, RTOL, ATOL);
    gc_check("dU", m, f.U, dU, A * F, 60, RTOL, ATOL);
    gc_check("dc", m, f.c, dc, A, 60, RTOL, ATOL);
    gc_check("dw", m, f.w, dw, A, 60, RTOL, ATOL);
    free(dh);
    free(dU);
    free(dc);
    free(dw);
    free(work);
    fusion_free(&f);
}
END_TEST

/* ---- losses ---------------------------------------------------------------------------- */

typedef struct {
    int64_t B, S;
    int K, C;
    int64_t *rows, *trows;
    int32_t *labels;
    float *cw, *x, *probs, *target;
    float dloss;
    int kind; /* 0 cross-entropy, 1 mse, 2 reconstruction */
} loss_ctx;

static double loss_value(void *ctx)
{
    loss_ctx *c = ctx;
    switch (c->kind) {
    case 0:
        gfuse_i_softmax_forward(c->probs, c->x, c->B, c->K);
        return c->dloss * gfuse_i_xent_forward(c->probs, c->labels, c->rows, c->S, c->cw, c->K);
    case 1: return c->dloss * gfuse_i_mse_forward(c->x, c->target, c->rows, c->S);
    default:
        return c->dloss *
               gfuse_i_recon_forward(c->x, c->target, c->rows, c->trows, c->S, c->C, NULL);
    }
}

static void loss_make(loss_ctx *c, int kind, int64_t B, int K, int weighted, uint64_t seed)
{
    gfuse_i_rng r;
    gfuse_i_rng_seed(&r, seed);
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->B = B;
    c->K = K;
    c->C = K;
    c->dloss = 0.7f;
    c->S = B / 2 + 1;
    c->rows = malloc(sizeof(int64_t) * (size_t)B);
    c->trows = malloc(sizeof(int64_t) * (size_t)B);
    c->labels = malloc(sizeof(int32_t) * (size_t)B);
    ck_assert(c->rows && c->trows && c->labels);
    for (int64_t t = 0; t < B; t++) c->rows[t] = t;
    gfuse_i_rng_shuffle(&r, c->rows, B); /* a subset of the rows, in random order */
    for (int64_t t = 0; t < B; t++) {
        c->trows[t] = B - 1 - c->rows[t]; /* target rows differ from prediction rows */
        c->labels[t] = (int32_t)gfuse_i_rng_below(&r, (uint64_t)K);
    }
    c->cw = weighted ? gc_alloc(K) : NULL;
    if (weighted) gc_fill(c->cw, K, &r, 0.2f, 3.0f);
    int64_t width = kind == 1 ? 1 : K;
    c->x = gc_alloc(B * width);
    c->probs = gc_alloc(B * K);
    c->target = gc_alloc(B * width);
    gc_fill(c->x, B * width, &r, -2, 2);
    gc_fill(c->target, B * width, &r, -2, 2);
    if (kind == 2)
        for (int64_t t = 0; t < B * width; t++)
            if (gfuse_i_rng_uniform(&r) < 0.3) c->target[t] = NAN;
}

static void loss_free(loss_ctx *c)
{
    free(c->rows);
    free(c->trows);
    free(c->labels);
    free(c->cw);
    free(c->x);
    free(c->probs);
    free(c->target);
}

/* Each loss against central differences, and its value against a direct double-precision
 * evaluation of its definition (relative 1e-6). */
START_TEST(test_loss_gradients)
{
    for (int kind = 0; kind < 3; kind++) {
        loss_ctx c;
        int64_t B = 3 + 5 * (_i % 3);
        int K = 2 + _i;
        loss_make(&c, kind, B, K, _i % 2, 700 + (uint64_t)(_i * 3 + kind));
        int64_t width = kind == 1 ? 1 : K;
        float *dx = gc_alloc(B * width);
        float *i1 = random_start(dx, B * width, 14);
        double got = loss_value(&c) / c.dloss, want = 0.0, wsum = 0.0;
        int64_t cnt = 0;
        for (int64_t s = 0; s < c.S; s++) {
            int64_t row = c.rows[s];
            if (kind == 0) {
                double mx = -INFINITY, z = 0.0, cwy = c.cw ? c.cw[c.labels[row]] : 1.0;
                for (int k = 0; k < K; k++) mx = fmax(mx, c.x[row * K + k]);
                for (int k = 0; k < K; k++) z += exp(c.x[row * K + k] - mx);
                want += cwy * -(c.x[row * K + c.labels[row]] - mx - log(z));
                wsum += cwy;
            } else if (kind == 1) {
                want += pow((double)c.x[row] - c.target[row], 2);
                wsum += 1.0;
            } else {
                for (int k = 0; k < K; k++) {
                    double t = c.target[c.trows[s] * K + k];
                    if (isnan(t)) continue;
                    want += pow((double)c.x[row * K + k] - t, 2);
                    cnt++;
                }
                wsum = (double)cnt;
            }
        }
        want = wsum > 0 ? want / wsum : 0.0;
        ck_assert_msg(fabs(got - want) <= 1e-6 * (1.0 + fabs(want)), "loss %d: %.9g vs %.9g",
                      kind, got, want);
        if (kind == 2) {
            int64_t count = -1;
            gfuse_i_recon_forward(c.x, c.target, c.rows, c.trows, c.S, c.C, &count);
            ck_assert_int_eq(count, cnt);
        }
        switch (kind) {
        case 0: gfuse_i_xent_backward(dx, c.probs, c.labels, c.rows, c.S, c.cw, K, c.dloss); break;
        case 1: gfuse_i_mse_backward(dx, c.x, c.target, c.rows, c.S, c.dloss); break;
        default:
            gfuse_i_recon_backward(dx, c.x, c.target, c.rows, c.trows, c.S, K, c.dloss);
            break;
        }
        subtract_start(dx, i1, B * width);
        gc_model m = {loss_value, NULL, &c};
        gc_check("dx", m, c.x, dx, B * width, 100, RTOL, ATOL);
        free(dx);
        loss_free(&c);
    }
}
END_TEST

/* Softmax rows sum to 1; an empty subset gives loss 0 and no gradient. */
START_TEST(test_loss_limits)
{
    loss_ctx c;
    loss_make(&c, 0, 9, 4, 1, 800);
    gfuse_i_softmax_forward(c.probs, c.x, c.B, c.K);
    for (int64_t b = 0; b < c.B; b++) {
        double s = 0.0;
        for (int k = 0; k < c.K; k++) s += c.probs[b * c.K + k];
        ck_assert_double_eq_tol(s, 1.0, 1e-6);
    }
    float *dx = gc_alloc(c.B * c.K);
    ck_assert_double_eq(gfuse_i_xent_forward(c.probs, c.labels, c.rows, 0, c.cw, c.K), 0.0);
    gfuse_i_xent_backward(dx, c.probs, c.labels, c.rows, 0, c.cw, c.K, 1.0f);
    ck_assert_double_eq(gfuse_i_mse_forward(c.x, c.target, c.rows, 0), 0.0);
    gfuse_i_mse_backward(dx, c.x, c.target, c.rows, 0, 1.0f);
    for (int64_t t = 0; t < c.B * c.K; t++) c.target[t] = NAN;
    int64_t count = -1;
    ck_assert_double_eq(gfuse_i_recon_forward(c.x, c.target, c.rows, c.trows, c.S, c.K, &count), 0.0);
    ck_assert_int_eq(count, 0);
    gfuse_i_recon_backward(dx, c.x, c.target, c.rows, c.trows, c.S, c.K, 1.0f);
    ck_assert_float_eq(gc_maxabs(dx, c.B * c.K), 0.0f);
    free(dx);
    loss_free(&c);
}
END_TEST

/* ---- thread-count independence --------------------------------------------------------- */

/* Every layer with a parallel path, on inputs big enough to take it, gives bitwise identical
 * results with 1 and 2 threads (OpenMP and, with OpenBLAS, BLAS threads): the encoder-sized
 * linear layer (12000 x 200 -> 64) checks that sgemm does not split its sums by thread count. */
START_TEST(test_layers_threads)
{
    const int64_t B = 12000, N = 4000; /* every loop above its parallel threshold */
    const int C = 24, OC = 40, M = 2, F = 24, A = 24;
    const int64_t V = N * (M + 1);
    fusion_ctx f;
    fusion_make(&f, N, M, F, A, 1, 900);
    gfuse_i_rng r;
    gfuse_i_rng_seed(&r, 901);
    float *inp = gc_alloc(B * C), *w = gc_alloc((int64_t)OC * C), *b = gc_alloc(OC);
    float *G = gc_alloc(B * OC), *tgt = gc_alloc(B * OC);
    int64_t *rows = malloc(sizeof(int64_t) * (size_t)B);
    ck_assert_ptr_nonnull(rows);
    gc_fill(inp, B * C, &r, -1, 1);
    gc_fill(w, (int64_t)OC * C, &r, -1, 1);
    gc_fill(b, OC, &r, -1, 1);
    gc_fill(G, B * OC, &r, -1, 1);
    gc_fill(tgt, B * OC, &r, -1, 1);
    for (int64_t t = 0; t < B * OC; t += 7) tgt[t] = NAN;
    for (int64_t s = 0; s < B; s++) rows[s] = (s * 7919) % B; /* a permutation: 7919 is prime */

    const int C2 = 200, OC2 = 64;
    float *inp2 = gc_alloc(B * C2), *w2 = gc_alloc((int64_t)OC2 * C2), *G2 = gc_alloc(B * OC2);
    float *b2 = gc_alloc(OC2);
    gc_fill(b2, OC2, &r, -1, 1);
    gc_fill(inp2, B * C2, &r, -1, 1);
    gc_fill(w2, (int64_t)OC2 * C2, &r, -1, 1);
    gc_fill(G2, B * OC2, &r, -1, 1);
    float *tgt2 = gc_alloc(B * C2);
    gc_fill(tgt2, B * C2, &r, -1, 1);
    for (int64_t t = 0; t < B * C2; t += 5) tgt2[t] = NAN;
    enum { N_OUT = 17 };
    const int64_t len[N_OUT] = {B * OC, OC, B * C, OC, V * F, (int64_t)A * F, A, A, 2,
                                (int64_t)OC * C, B * OC2, B * C2, (int64_t)OC2 * C2, OC2, 1,
                                B * C2, B * C2};
    float *res[2][N_OUT];
    for (int run = 0; run < 2; run++) {
        omp_set_num_threads(run + 1);
#ifdef HAVE_OPENBLAS
        openblas_set_num_threads(run + 1);
#endif
        for (int t = 0; t < N_OUT; t++) res[run][t] = gc_alloc(len[t]);
        float **o = res[run];
        gfuse_i_linear_forward(o[0], inp, w, b, B, C, OC);
        gfuse_i_linear_backward(o[2], o[9], o[1], G, inp, w, B, C, OC);
        gfuse_i_place_rows_backward(NULL, o[3], G, rows, B, OC);    /* column sums */
        float *work = gc_alloc(V * (A + 1));
        fusion_loss(&f);
        gfuse_i_fusion_backward(o[4], o[5], o[6], o[7], work, f.G, f.weights, f.proj, f.h, f.mask,
                                f.U, f.w, N, M, F, A);
        free(work);
        o[8][0] = (float)gfuse_i_recon_forward(o[0], tgt, rows, rows, B, OC, NULL);
        float *dpred = gc_alloc(B * OC);
        gfuse_i_recon_backward(dpred, o[0], tgt, rows, rows, B, OC, 1.0f);
        o[8][1] = (float)gc_probe(dpred, G, B * OC);
        free(dpred);
        gfuse_i_linear_forward(o[10], inp2, w2, b2, B, C2, OC2);
        gfuse_i_linear_backward(o[11], o[12], o[13], G2, inp2, w2, B, C2, OC2);
        o[14][0] = (float)gfuse_i_recon_forward(inp2, tgt2, rows, rows, B, C2, NULL);
        uint8_t *mask = malloc((size_t)(B * C2));
        ck_assert_ptr_nonnull(mask);
        gfuse_i_dropout_forward(o[15], mask, inp2, 0.3f, 77, B * C2);
        gfuse_i_dropout_backward(o[16], inp2, mask, 0.3f, B * C2);
        free(mask);
    }
    for (int t = 0; t < N_OUT; t++) {
        ck_assert_msg(gc_same(res[0][t], res[1][t], len[t]), "output %d differs between 1 and 2 threads", t);
        free(res[0][t]);
        free(res[1][t]);
    }
    omp_set_num_threads(2);
#ifdef HAVE_OPENBLAS
    openblas_set_num_threads(2);
#endif
    free(inp2);
    free(w2);
    free(b2);
    free(tgt2);
    free(G2);
    free(inp);
    free(w);
    free(b);
    free(G);
    free(tgt);
    free(rows);
    fusion_free(&f);
}
END_TEST

static Suite *layers_suite(void)
{
    Suite *s = suite_create("layers");
    TCase *grad = tcase_create("gradients");
    tcase_add_loop_test(grad, test_linear_gradients, 0, 10);
    tcase_add_loop_test(grad, test_linear_blocks, 0, 3);
    tcase_add_loop_test(grad, test_place_rows_gradients, 0, 4);
    tcase_add_test(grad, test_gather_rows_finite);
    tcase_add_loop_test(grad, test_activation_gradients, 0, 4);
    tcase_add_loop_test(grad, test_dropout_gradients, 0, 4);
    tcase_add_loop_test(grad, test_fusion_gradients, 0, 8);
    tcase_add_loop_test(grad, test_loss_gradients, 0, 6);
    tcase_set_timeout(grad, 120);
    suite_add_tcase(s, grad);
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_fastmath_accuracy);
    tcase_add_test(core, test_dropout_masks);
    tcase_add_test(core, test_dropout_seeded);
    tcase_add_test(core, test_loss_limits);
    tcase_add_test(core, test_layers_threads);
    tcase_set_timeout(core, 120);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(layers_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
