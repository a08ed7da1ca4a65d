/* model_decoder.c: the closing fit of the completion decoders.
 *
 * Early stopping keeps the weights of the epoch with the best validation task loss, which
 * comes long before the reconstruction has converged (it keeps improving for many epochs
 * after the task starts to overfit). The decoders are linear maps from the final node state,
 * so once the rest of the network is fixed their best fit is a least-squares problem: every
 * modality-dropout graph is run in inference mode (no dropout, the states imputation sees),
 * and each decoder is refitted by ridge regression from the input it reads (u(i): the states
 * and encodings of the sample's nodes side by side, model.h) for the nodes that graph hides to their
 * standardised values:
 *     min_W,b  sum over hidden (i,m), observed cells f  (u(i) . W_f + b_f - x(i,m,f))^2
 *              + ridge * sum_a c_a W_fa^2               (the bias is not penalised)
 * where c_a is column a's centred sum of squares over the rows (at least a thousandth of
 * their mean): the ridge of standardised columns, since u mixes node states and encodings of
 * very different scales; ridge is relative to the data, so it means the same for any number
 * of rows. It is solved through the normal equations in double precision (Cholesky). Cells
 * missing in the data drop out of their feature's equations only. Sums run in a fixed order
 * (OpenMP over the entries of the normal matrices), so the result does not depend on the
 * thread count. */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* In-place Cholesky factorisation of the n x n matrix a (lower triangle); 0 on success. */
static int cholesky(double *a, int n)
{
    for (int j = 0; j < n; j++) {
        double s = a[(int64_t)j * n + j];
        for (int k = 0; k < j; k++) s -= a[(int64_t)j * n + k] * a[(int64_t)j * n + k];
        if (!(s > 0.0)) return -1;
        double l = sqrt(s);
        a[(int64_t)j * n + j] = l;
        for (int i = j + 1; i < n; i++) {
            double t = a[(int64_t)i * n + j];
            for (int k = 0; k < j; k++) t -= a[(int64_t)i * n + k] * a[(int64_t)j * n + k];
            a[(int64_t)i * n + j] = t / l;
        }
    }
    return 0;
}

/* Solves L L^T x = b in place (b has n entries). */
static void cholesky_solve(const double *l, int n, double *b)
{
    for (int i = 0; i < n; i++) {
        double t = b[i];
        for (int k = 0; k < i; k++) t -= l[(int64_t)i * n + k] * b[k];
        b[i] = t / l[(int64_t)i * n + i];
    }
    for (int i = n - 1; i >= 0; i--) {
        double t = b[i];
        for (int k = i + 1; k < n; k++) t -= l[(int64_t)k * n + i] * b[k];
        b[i] = t / l[(int64_t)i * n + i];
    }
}

/* The rows (states with a trailing 1) and targets of one modality's hidden nodes, gathered
 * over every graph. */
typedef struct {
    int64_t n, cap;
    double *h;      /* n x (F + 1) */
    const float **y;/* n target rows (d values, NaN = missing cell) */
} rows;

static int rows_push(rows *r, const float *state, int F, const float *y)
{
    if (r->n == r->cap) {
        int64_t cap = r->cap ? 2 * r->cap : 256;
        double *h = realloc(r->h, (size_t)(cap * (F + 1)) * sizeof(double));
        if (!h) return -1;
        r->h = h;
        const float **yy = realloc(r->y, (size_t)cap * sizeof(*yy));
        if (!yy) return -1;
        r->y = yy;
        r->cap = cap;
    }
    double *dst = r->h + r->n * (F + 1);
    for (int f = 0; f < F; f++) dst[f] = state[f];
    dst[F] = 1.0;
    r->y[r->n++] = y;
    return 0;
}

/* G = sum_rows h h^T over rows whose target cell `feature` is present (all rows when feature
 * < 0), parallel over the entries of G, each summed in row order. */
static void normal_matrix(double *G, const rows *r, int P, int64_t feature)
{
#pragma omp parallel for schedule(dynamic, 4) if ((int64_t)P * P * r->n > (1 << 20))
    for (int a = 0; a < P; a++)
        for (int b = 0; b <= a; b++) {
            double s = 0.0;
            for (int64_t t = 0; t < r->n; t++) {
                if (feature >= 0 && r->y[t][feature] != r->y[t][feature]) continue;
                s += r->h[t * P + a] * r->h[t * P + b];
            }
            G[(int64_t)a * P + b] = s;
            G[(int64_t)b * P + a] = s;
        }
}

/* Fits decoder m from the gathered rows; leaves it unchanged when there are none. */
static gfuse_status fit_one(float *params, const gfuse_i_layout *lay, int m, int F, int64_t d,
                            const rows *r, double ridge)
{
    int P = F + 1;
    if (r->n == 0) return GFUSE_OK;
    double *G = malloc((size_t)P * P * sizeof(double));
    double *L = malloc((size_t)P * P * sizeof(double));
    double *B = malloc((size_t)(d * P) * sizeof(double)); /* right-hand sides by feature */
    uint8_t *has_nan = calloc((size_t)d, 1);
    double *pen = malloc((size_t)(F > 0 ? F : 1) * sizeof(double));
    if (!G || !L || !B || !has_nan || !pen) {
        free(G);
        free(L);
        free(B);
        free(has_nan);
        free(pen);
        return gfuse_i_nomem("the decoder fit");
    }
#pragma omp parallel for schedule(static) if (d * P * r->n > (1 << 20))
    for (int64_t f = 0; f < d; f++)
        for (int a = 0; a < P; a++) {
            double s = 0.0;
            for (int64_t t = 0; t < r->n; t++) {
                float y = r->y[t][f];
                if (y != y) {
                    has_nan[f] = 1;
                    continue;
                }
                s += r->h[t * P + a] * y;
            }
            B[f * P + a] = s;
        }
    normal_matrix(G, r, P, -1);
    /* the penalty of each weight: ridge times its column's centred sum of squares */
    double pen_mean = 0.0;
    for (int a = 0; a < F; a++) {
        double sum = G[(int64_t)a * P + F], n = G[(int64_t)F * P + F];
        double c = G[(int64_t)a * P + a] - (n > 0.0 ? sum * sum / n : 0.0);
        pen[a] = c > 0.0 ? c : 0.0;
        pen_mean += pen[a] / F;
    }
    for (int a = 0; a < F; a++) /* (almost) constant columns are held like the others */
        pen[a] = ridge * fmax(pen[a], 1e-3 * pen_mean) + 1e-9;
    int ok = 1;
    memcpy(L, G, (size_t)P * P * sizeof(double));
    for (int a = 0; a < F; a++) L[(int64_t)a * P + a] += pen[a];
    if (cholesky(L, P) != 0) ok = 0;
    float *W = params + lay->dec_W[m], *bias = params + lay->dec_b[m];
    for (int64_t f = 0; f < d && ok; f++) {
        double *x = B + f * P;
        if (has_nan[f]) { /* this feature's own normal matrix, without its missing cells */
            double *Lf = malloc((size_t)P * P * sizeof(double));
            if (!Lf) {
                ok = -1;
                break;
            }
            normal_matrix(Lf, r, P, f);
            for (int a = 0; a < F; a++) Lf[(int64_t)a * P + a] += pen[a];
            int fine = cholesky(Lf, P) == 0;
            if (fine) cholesky_solve(Lf, P, x);
            free(Lf);
            if (!fine) continue; /* too few cells: keep the trained decoder for f */
        } else {
            cholesky_solve(L, P, x);
        }
        for (int a = 0; a < F; a++) W[f * F + a] = (float)x[a];
        bias[f] = (float)x[F];
    }
    free(G);
    free(L);
    free(B);
    free(has_nan);
    free(pen);
    return ok < 0 ? gfuse_i_nomem("the decoder fit") : GFUSE_OK;
}

gfuse_status gfuse_i_fit_decoders(float *params, const gfuse_i_arch *arch,
                                  const gfuse_i_layout *lay, struct gfuse_graph *const *graphs,
                                  int n_graphs, const gfuse_i_data *data, gfuse_i_acts *a,
                                  double ridge)
{
    int M = arch->M, F = (2 * arch->M + 1) * arch->F; /* the decoders' input width */
    int64_t N = data->n;
    gfuse_status st = GFUSE_OK;
    rows *r = calloc((size_t)M, sizeof *r);
    if (!r) return gfuse_i_nomem("the decoder fit");
    gfuse_i_pass eval = {.decoders = GFUSE_I_DEC_ALL};
    for (int v = 0; v < n_graphs && st == GFUSE_OK; v++) {
        const struct gfuse_graph *g = graphs[v];
        gfuse_i_model_forward(a, arch, lay, params, g, data, &eval);
        for (int m = 0; m < M && st == GFUSE_OK; m++)
            for (int64_t i = 0; i < N; i++) {
                int64_t node = (int64_t)m * N + i;
                if (!data->has[node] || g->observed[node]) continue;
                if (rows_push(&r[m], a->dec_in + i * F, F, data->x[m] + i * arch->d[m]) != 0) {
                    st = gfuse_i_nomem("the decoder fit");
                    break;
                }
            }
    }
    for (int m = 0; m < M && st == GFUSE_OK; m++)
        st = fit_one(params, lay, m, F, arch->d[m], &r[m], ridge);
    for (int m = 0; m < M; m++) {
        free(r[m].h);
        free(r[m].y);
    }
    free(r);
    return st;
}
