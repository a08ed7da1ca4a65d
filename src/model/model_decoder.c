/* model_decoder.c: the closing fit of the completion decoders.
 *
 * Early stopping keeps the weights of the epoch with the best validation task loss, which
 * comes long before the reconstruction has converged (it keeps improving for many epochs
 * after the task starts to overfit). The decoders are linear maps from u(i), the final states
 * of all of the sample's nodes and the linear encodings of its observed modalities (model.h),
 * so once the rest of the network is fixed their best fit is a least-squares problem: every
 * modality-dropout graph is run in inference mode (no dropout, the states imputation sees),
 * and each decoder is refitted by ridge regression from u(i) for the nodes that graph hides
 * to their standardised values:
 *     min_W,b  sum over hidden (i,m), observed cells f  (u(i) . W_f + b_f - x(i,m,f))^2
 *              + ridge * sum_a c_a W_fa^2               (the bias is not penalised)
 * where c_a is column a's centred sum of squares over the rows (at least a thousandth of
 * their mean): the ridge of standardised columns, since u mixes node states and encodings of
 * very different scales; ridge is relative to the data, so it means the same for any number
 * of rows. It is solved through the normal equations in double precision: the normal matrix by
 * BLAS dsyrk and the right-hand sides by dgemm, then one Cholesky factorisation (LAPACK dpotrf)
 * and one solve with every feature of the modality as a right-hand side (dpotrs). Cells
 * missing in the data drop out of their feature's equations only: the features with missing
 * cells are grouped by the set of rows they miss, and each group is solved with the normal
 * matrix of its own rows (the penalties stay those of all rows). Only the decoders' input u(i)
 * at the hidden nodes is gathered (the decoders themselves do not run), and a modality without
 * missing cells adds its rows to the normal matrix and right-hand sides a chunk at a time and
 * drops them, so the fit holds one chunk whatever the number of rows (as many rows as a chunk
 * give the one-pass sums exactly; more are summed chunk by chunk). Every product is cut into BLAS
 * calls over a fixed tiling that depends on the shapes only, run on OpenMP threads with BLAS
 * single-threaded, so the result does not depend on the thread count. */
#include "nn/layers.h"
#include "core/util.h"
#include "model/model.h"

#include <cblas.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The rows (states with a trailing 1) and targets of one modality's hidden nodes, gathered
 * over every graph. A modality with no missing cell in its rows streams them: every chunk of
 * rows is added to its normal matrix and right-hand sides and dropped, so the fit holds one
 * chunk at a time whatever the number of rows (a fit of at most one chunk of rows is the same
 * arithmetic as one that holds them all). A modality with missing cells keeps every row for
 * the normal matrices of its groups of features. */
typedef struct {
    int stream;     /* 1: no missing cell: rows go into G and B chunk by chunk */
    int64_t n, cap; /* rows held */
    double *h;      /* cap x (F + 1) */
    const float **y;/* cap target rows (d values, NaN = missing cell) */
    int64_t n_done; /* stream: rows already in G and B */
    double *G;      /* stream: (F + 1) x (F + 1), the lower triangle */
    double *B;      /* stream: (F + 1) x d */
    double *Y;      /* stream: the targets of one chunk, cap x d */
} rows;

static void gram(double *G, const double *A, int P, int n, double beta);
static void cross(double *B, const double *A, const double *Y, int P, int n, int d, double beta);

/* Adds the rows held by a streaming r to its G and B and drops them. */
static void rows_flush(rows *r, int F, int64_t d)
{
    const int P = F + 1, n = (int)r->n;
    if (n == 0) return;
    for (int64_t f = 0; f < d; f++)
        for (int t = 0; t < n; t++) r->Y[f * n + t] = r->y[t][f];
    const double beta = r->n_done > 0 ? 1.0 : 0.0;
    int blas = gfuse_i_blas_serial_begin(); /* the tiles run on OpenMP threads */
    gram(r->G, r->h, P, n, beta);
    cross(r->B, r->h, r->Y, P, n, (int)d, beta);
    gfuse_i_blas_serial_end(blas);
    r->n_done += n;
    r->n = 0;
}

static int rows_push(rows *r, const float *state, int F, int64_t d, const float *y)
{
    if (r->n == r->cap) {
        if (r->stream) {
            rows_flush(r, F, d);
        } else {
            int64_t cap = r->cap ? 2 * r->cap : 256;
            double *h = gfuse_i_realloc(r->h, cap * (F + 1), sizeof(double));
            if (!h) return -1;
            r->h = h;
            const float **yy = gfuse_i_realloc(r->y, cap, sizeof(*yy));
            if (!yy) return -1;
            r->y = yy;
            r->cap = cap;
        }
    }
    double *dst = r->h + r->n * (F + 1);
    for (int f = 0; f < F; f++) dst[f] = state[f];
    dst[F] = 1.0;
    r->y[r->n++] = y;
    return 0;
}

/* Sets r up for modality m: streaming, with room for chunk rows, when no row of the samples
 * that have m misses a cell. */
static int rows_init(rows *r, const gfuse_i_data *data, int m, int F, int64_t chunk)
{
    memset(r, 0, sizeof *r);
    int64_t N = data->n, d = data->d[m];
    const float *x = data->x[m];
    int missing = 0;
    for (int64_t i = 0; i < N && !missing; i++) {
        if (!data->has[(int64_t)m * N + i]) continue;
        for (int64_t f = 0; f < d; f++)
            if (x[i * d + f] != x[i * d + f]) missing = 1;
    }
    if (missing || d == 0) return 0;
    const int64_t P = F + 1;
    r->stream = 1;
    r->cap = chunk;
    r->h = gfuse_i_alloc((size_t)(chunk * P), sizeof(double));
    r->y = gfuse_i_alloc((size_t)chunk, sizeof *r->y);
    r->G = gfuse_i_zalloc((size_t)(P * P), sizeof(double));
    r->B = gfuse_i_alloc((size_t)(P * d), sizeof(double));
    r->Y = gfuse_i_alloc((size_t)(chunk * d), sizeof(double));
    return r->h && r->y && r->G && r->B && r->Y ? 0 : -1;
}

static void rows_free(rows *r)
{
    free(r->h);
    free(r->y);
    free(r->G);
    free(r->B);
    free(r->Y);
}

/* Edge of the tiles of the blocked products: each tile of an output is one BLAS call. */
#define DEC_TILE 128
/* Below this many multiply-adds a product runs on the calling thread alone. */
#define DEC_PAR_MIN (1 << 20)

static int imin(int a, int b) { return a < b ? a : b; }

/* G = A A^T + beta G, lower triangle, for A (P x n, column-major, leading dimension P: a row
 * of the gathered states per column); G is P x P column-major. Parallel over the tiles of G's
 * lower triangle, the diagonal ones by dsyrk and the others by dgemm. */
static void gram(double *G, const double *A, int P, int n, double beta)
{
    const int nb = (P + DEC_TILE - 1) / DEC_TILE, nt = nb * (nb + 1) / 2;
#pragma omp parallel for schedule(dynamic) if ((int64_t)P * P * n > 2 * DEC_PAR_MIN && nt > 1)
    for (int t = 0; t < nt; t++) {
        int bi = 0;
        while ((bi + 1) * (bi + 2) / 2 <= t) bi++;
        const int bj = t - bi * (bi + 1) / 2;
        const int i0 = bi * DEC_TILE, j0 = bj * DEC_TILE;
        const int ni = imin(DEC_TILE, P - i0), nj = imin(DEC_TILE, P - j0);
        double *c = G + i0 + (int64_t)j0 * P;
        if (bi == bj)
            cblas_dsyrk(CblasColMajor, CblasLower, CblasNoTrans, ni, n, 1.0, A + i0, P, beta, c,
                        P);
        else
            cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, ni, nj, n, 1.0, A + i0, P,
                        A + j0, P, beta, c, P);
    }
}

/* B = A Y + beta B for A as in gram and Y (n x d, column-major, leading dimension n); B is
 * P x d column-major. Parallel over tiles of B. */
static void cross(double *B, const double *A, const double *Y, int P, int n, int d, double beta)
{
    const int bp = (P + DEC_TILE - 1) / DEC_TILE, bd = (d + DEC_TILE - 1) / DEC_TILE;
#pragma omp parallel for schedule(dynamic) if ((int64_t)P * d * n > DEC_PAR_MIN && bp * bd > 1)
    for (int t = 0; t < bp * bd; t++) {
        const int i0 = (t / bd) * DEC_TILE, f0 = (t % bd) * DEC_TILE;
        const int ni = imin(DEC_TILE, P - i0), nf = imin(DEC_TILE, d - f0);
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, ni, nf, n, 1.0, A + i0, P,
                    Y + (int64_t)f0 * n, n, beta, B + i0 + (int64_t)f0 * P, P);
    }
}

/* Whether features f and g miss the same rows. */
static int same_missing(const rows *r, int64_t f, int64_t g)
{
    for (int64_t t = 0; t < r->n; t++)
        if ((r->y[t][f] != r->y[t][f]) != (r->y[t][g] != r->y[t][g])) return 0;
    return 1;
}

/* Factorises L (= the normal matrix G plus the penalties) and solves for the features
 * feat[0..k) whose right-hand sides are the columns of B, writing their weights and biases;
 * 0 on success, 1 when L is not positive definite (the decoder is left as it was for them).
 * X holds P x k doubles. */
static int solve_group(double *L, const double *G, const double *pen, const double *B,
                       const int64_t *feat, int k, int P, double *X, float *W, float *bias)
{
    const int F = P - 1;
    memcpy(L, G, (size_t)P * P * sizeof(double));
    for (int a = 0; a < F; a++) L[(int64_t)a * P + a] += pen[a];
    if (LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'L', P, L, P) != 0) return 1;
    for (int j = 0; j < k; j++)
        memcpy(X + (int64_t)j * P, B + feat[j] * P, (size_t)P * sizeof(double));
    if (LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'L', P, k, L, P, X, P) != 0) return 1;
    for (int j = 0; j < k; j++) {
        const double *x = X + (int64_t)j * P;
        for (int a = 0; a < F; a++) W[feat[j] * F + a] = (float)x[a];
        bias[feat[j]] = (float)x[F];
    }
    return 0;
}

/* Fits decoder m from the gathered rows; leaves it unchanged when there are none. */
static gfuse_status fit_one(float *params, const gfuse_i_layout *lay, int m, int F, int64_t d,
                            rows *r, double ridge)
{
    const int P = F + 1;
    if (r->stream) rows_flush(r, F, d);
    const int64_t n_rows = r->stream ? r->n_done : r->n;
    if (n_rows == 0 || d == 0) return GFUSE_OK;
    if (n_rows > INT_MAX || d > INT_MAX)
        return gfuse_i_error(GFUSE_ERR_RUNTIME, "the decoder fit: %lld rows of %lld features "
                             "are too many for BLAS", (long long)n_rows, (long long)d);
    const int n = (int)r->n; /* rows held: all of them unless streamed */
    /* a streamed modality has its G and B already; the lower triangle of G is used */
    double *Gown = r->stream ? NULL : gfuse_i_zalloc((size_t)P * P, sizeof(double));
    double *Bown = r->stream ? NULL : gfuse_i_alloc((size_t)P * (size_t)d, sizeof(double));
    double *G = r->stream ? r->G : Gown, *B = r->stream ? r->B : Bown; /* B: by feature */
    double *L = gfuse_i_alloc((size_t)P * P, sizeof(double));
    double *Y = r->stream ? NULL : gfuse_i_alloc((size_t)n * (size_t)d, sizeof(double));
    double *X = gfuse_i_alloc((size_t)P * (size_t)d, sizeof(double));
    double *pen = gfuse_i_alloc(P, sizeof(double));
    /* per feature: the first feature that misses the same rows, -1 when none are missing */
    int64_t *group = gfuse_i_alloc(d, sizeof(int64_t));
    int64_t *feat = gfuse_i_alloc(d, sizeof(int64_t));
    uint64_t *key = gfuse_i_alloc(d, sizeof(uint64_t)); /* hash of the rows a feature misses */
    double *Hg = NULL; /* the rows of one group */
    gfuse_status st = GFUSE_OK;
    GFUSE_TRY_MEM(G && L && (Y || r->stream) && B && X && pen && group && feat && key,
                  "the decoder fit");
    int64_t n_missing = 0; /* features with missing cells */
    for (int64_t f = 0; f < d && r->stream; f++) group[f] = -1;
    for (int64_t f = 0; f < d && !r->stream; f++) {
        uint64_t h = 1469598103934665603ULL;
        int any = 0;
        double *y = Y + f * n;
        for (int t = 0; t < n; t++) {
            float v = r->y[t][f];
            if (v == v) {
                y[t] = v;
            } else {
                y[t] = 0.0;
                h = (h ^ (uint64_t)t) * 1099511628211ULL;
                any = 1;
            }
        }
        key[f] = h;
        group[f] = any ? f : -1;
        for (int64_t g = 0; any && g < f; g++)
            if (group[g] == g && key[g] == h && same_missing(r, g, f)) {
                group[f] = g;
                break;
            }
        n_missing += any;
    }
    const double *A = r->h;
    if (!r->stream) {
        gram(G, A, P, n, 0.0);
        cross(B, A, Y, P, n, (int)d, 0.0);
    }
    /* the penalty of each weight: ridge times its column's centred sum of squares */
    double pen_mean = 0.0;
    for (int a = 0; a < F; a++) {
        double sum = G[(int64_t)a * P + F], cnt = G[(int64_t)F * P + F];
        double c = G[(int64_t)a * P + a] - (cnt > 0.0 ? sum * sum / cnt : 0.0);
        pen[a] = c > 0.0 ? c : 0.0;
        pen_mean += pen[a] / F;
    }
    for (int a = 0; a < F; a++) /* (almost) constant columns are held like the others */
        pen[a] = ridge * fmax(pen[a], 1e-3 * pen_mean) + 1e-9;
    float *W = params + lay->dec_W[m], *bias = params + lay->dec_b[m];
    /* the features without missing cells share the normal matrix of all rows; when it cannot
     * be factorised the whole decoder is left as trained */
    int k = 0;
    for (int64_t f = 0; f < d; f++)
        if (group[f] < 0) feat[k++] = f;
    if (solve_group(L, G, pen, B, feat, k, P, X, W, bias) != 0 || n_missing == 0) goto done;
    /* each group of features missing the same rows: the normal matrix of its present rows */
    Hg = gfuse_i_alloc((size_t)n * (size_t)P, sizeof(double));
    GFUSE_TRY_MEM(Hg, "the decoder fit");
    for (int64_t g = 0; g < d; g++) {
        if (group[g] != g) continue;
        int ng = 0;
        for (int t = 0; t < n; t++)
            if (r->y[t][g] == r->y[t][g])
                memcpy(Hg + (int64_t)ng++ * P, A + (int64_t)t * P, (size_t)P * sizeof(double));
        if (ng == 0) continue; /* no cells: the trained decoder stays for these features */
        k = 0;
        for (int64_t f = g; f < d; f++)
            if (group[f] == g) feat[k++] = f;
        gram(G, Hg, P, ng, 0.0);
        solve_group(L, G, pen, B, feat, k, P, X, W, bias); /* too few cells: left as trained */
    }
done:
    free(Gown);
    free(L);
    free(Y);
    free(Bown);
    free(X);
    free(pen);
    free(group);
    free(feat);
    free(key);
    free(Hg);
    return st;
}

gfuse_status gfuse_i_fit_decoders_from(float *params, const gfuse_i_arch *arch,
                                       const gfuse_i_layout *lay, gfuse_i_graph_source source,
                                       void *user, int n_graphs, const gfuse_i_data *data,
                                       gfuse_i_acts *a, double ridge, int64_t chunk,
                                       int64_t max_rows)
{
    int M = arch->M, F = (2 * arch->M + 1) * arch->F; /* the decoders' input width */
    int64_t N = data->n;
    gfuse_status st = GFUSE_OK;
    GFUSE_CHECK_ARG(chunk >= 1, "the chunk of the decoder fit must be positive, got %lld",
                    (long long)chunk);
    rows *r = gfuse_i_zalloc(M, sizeof *r);
    GFUSE_TRY_MEM(r, "the decoder fit");
    for (int m = 0; m < M; m++)
        GFUSE_TRY_MEM(rows_init(&r[m], data, m, F, chunk) == 0, "the decoder fit");
    /* the decoders themselves do not run: only their input at the hidden nodes is read */
    gfuse_i_pass eval = {.decoders = GFUSE_I_DEC_NONE};
    for (int v = 0; v < n_graphs; v++) {
        const struct gfuse_graph *g = NULL;
        GFUSE_TRY(source(user, v, &g));
        gfuse_i_model_forward(a, arch, lay, params, g, data, &eval);
        for (int m = 0; m < M; m++) {
            /* the hidden nodes of m (the first ones in sample order, up to max_rows over all
             * graphs), then their decoder input, as many rows as a->dec_in holds at a time */
            int64_t *hid = a->rec_rows[m], nh = 0;
            int64_t room = max_rows > 0 ? max_rows - (r[m].n_done + r[m].n) : N;
            for (int64_t i = 0; i < N && nh < room; i++) {
                int64_t node = (int64_t)m * N + i;
                if (data->has[node] && !g->observed[node]) hid[nh++] = i;
            }
            for (int64_t s0 = 0; s0 < nh; s0 += a->dec_cap) {
                int64_t S = nh - s0 < a->dec_cap ? nh - s0 : a->dec_cap;
                gfuse_i_decoder_input_forward(a->dec_in, a->h[arch->L],
                                              (const float *const *)a->enc_pre,
                                              (const int64_t *const *)a->obs_pos, hid + s0, S, N,
                                              M, arch->F);
                for (int64_t s = 0; s < S; s++) {
                    GFUSE_TRY_MEM(rows_push(&r[m], a->dec_in + s * F, F, arch->d[m],
                                            data->x[m] + hid[s0 + s] * arch->d[m]) == 0,
                                  "the decoder fit");
                }
            }
            a->rec_n[m] = 0;
        }
        a->dec_in_of = -1;
    }
    int blas = gfuse_i_blas_serial_begin();
    for (int m = 0; m < M && st == GFUSE_OK; m++)
        st = fit_one(params, lay, m, F, arch->d[m], &r[m], ridge);
    gfuse_i_blas_serial_end(blas);
done:
    for (int m = 0; r && m < M; m++) rows_free(&r[m]);
    free(r);
    return st;
}
