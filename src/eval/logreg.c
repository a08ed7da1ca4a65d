/* logreg.c: L2-penalised logistic regression (logreg.h), solved by Newton's method with a
 * Cholesky solve, or by L-BFGS when the Newton system would be too large.
 *
 * Unknowns: n_w rows of P = d + 1 values (weights, then the intercept), theta (n_w x P). The
 * samples are kept with a trailing 1 (xt, n x P), so the scores are Z = xt theta^T (n x n_w)
 * and the gradient is C R^T xt + (theta without its intercept column), R = P - Y the residuals
 * of the probabilities. The Hessian block of rows k and l is
 *     C xt^T diag(w_kl) xt + [k = l] diag(1, ..., 1, 0),
 * w_kl = p (1 - p) for the binary model and p_k ([k = l] - p_l) for the multinomial one. The
 * multinomial Hessian is singular along a common shift of the intercepts (the softmax does not
 * see it and it is not penalised); the gradient is orthogonal to that direction, so adding
 * alpha u u^T (u = 1 on every intercept) changes nothing else and makes the solve definite. */
#include "eval/logreg.h"
#include "core/util.h"
#include "nn/layers.h"

#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NEWTON_MAX_ITER 200
#define NEWTON_TOL 1e-10
#define LBFGS_MAX_ITER 20000
#define LBFGS_TOL 1e-8
#define LBFGS_MEMORY 10
#define ARMIJO 1e-4
#define MAX_HALVINGS 60

typedef struct {
    const double *xt; /* n x P: the features, then 1 */
    const int32_t *y; /* n: indices into the modelled classes */
    int64_t n, d, P;
    int nw;           /* 1: binary, else the number of classes */
    double C;
    double *prob;     /* n x nw: the probabilities at the last evaluation */
    double *res;      /* n x nw: probabilities minus the one-hot labels */
} problem;

static double softplus(double z) { return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)); }

static double sigmoid(double z)
{
    if (z >= 0) return 1.0 / (1.0 + exp(-z));
    const double e = exp(z);
    return e / (1.0 + e);
}

static double max_abs(const double *v, int64_t N)
{
    double m = 0;
    for (int64_t j = 0; j < N; j++) m = fmax(m, fabs(v[j]));
    return m;
}

static double dot(const double *a, const double *b, int64_t N)
{
    double s = 0;
    for (int64_t j = 0; j < N; j++) s += a[j] * b[j];
    return s;
}

/* The objective at theta; its gradient into grad; pb->prob and pb->res at theta. */
static double evaluate(problem *pb, const double *theta, double *grad)
{
    const int64_t n = pb->n, P = pb->P, d = pb->d;
    const int nw = pb->nw;
    double *z = pb->prob;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, nw, (int)P, 1.0, pb->xt,
                (int)P, theta, (int)P, 0.0, z, nw);
    double loss = 0;
    for (int64_t i = 0; i < n; i++) {
        double *zi = z + i * nw, *ri = pb->res + i * nw;
        if (nw == 1) {
            const double yi = pb->y[i];
            loss += softplus(zi[0]) - yi * zi[0];
            zi[0] = sigmoid(zi[0]);
            ri[0] = zi[0] - yi;
            continue;
        }
        double top = zi[0];
        for (int k = 1; k < nw; k++) top = fmax(top, zi[k]);
        double sum = 0;
        for (int k = 0; k < nw; k++) sum += exp(zi[k] - top);
        const double lse = top + log(sum);
        loss += lse - zi[pb->y[i]];
        for (int k = 0; k < nw; k++) {
            zi[k] = exp(zi[k] - lse);
            ri[k] = zi[k] - (k == pb->y[i]);
        }
    }
    double penalty = 0;
    for (int k = 0; k < nw; k++)
        for (int64_t j = 0; j < d; j++) penalty += theta[k * P + j] * theta[k * P + j];
    if (grad) {
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nw, (int)P, (int)n, pb->C, pb->res,
                    nw, pb->xt, (int)P, 0.0, grad, (int)P);
        for (int k = 0; k < nw; k++)
            for (int64_t j = 0; j < d; j++) grad[k * P + j] += theta[k * P + j];
    }
    return pb->C * loss + 0.5 * penalty;
}

/* H (N x N, N = nw P, symmetric, full) at the point of the last evaluation; T is n x P scratch. */
static void hessian(const problem *pb, double *H, double *T)
{
    const int64_t n = pb->n, P = pb->P, d = pb->d, N = pb->nw * P;
    const int nw = pb->nw;
    for (int k = 0; k < nw; k++)
        for (int l = k; l < nw; l++) {
            for (int64_t i = 0; i < n; i++) {
                const double *p = pb->prob + i * nw;
                const double w = nw == 1 ? p[0] * (1 - p[0]) : p[k] * ((k == l) - p[l]);
                for (int64_t a = 0; a < P; a++) T[i * P + a] = w * pb->xt[i * P + a];
            }
            double *blk = H + k * P * N + l * P;
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)P, (int)P, (int)n, pb->C,
                        pb->xt, (int)P, T, (int)P, 0.0, blk, (int)N);
            if (l == k) continue;
            for (int64_t a = 0; a < P; a++)
                for (int64_t c = 0; c < P; c++)
                    H[(l * P + a) * N + k * P + c] = blk[c * N + a];
        }
    for (int k = 0; k < nw; k++)
        for (int64_t j = 0; j < d; j++) H[(k * P + j) * (N + 1)] += 1.0;
    if (nw > 1) {
        const double alpha = pb->C * (double)n / nw;
        for (int k = 0; k < nw; k++)
            for (int l = 0; l < nw; l++) H[(k * P + d) * N + l * P + d] += alpha;
    }
}

/* step = -H^-1 g by Cholesky; H is overwritten. 0, or -1 when H is not positive definite. */
static int newton_step(double *H, const double *g, double *step, int64_t N)
{
    for (int64_t j = 0; j < N; j++) step[j] = -g[j];
    return LAPACKE_dposv_work(LAPACK_COL_MAJOR, 'L', (int)N, 1, H, (int)N, step, (int)N) == 0
               ? 0
               : -1;
}

/* Backtracking along dir from theta (objective f, directional derivative gd < 0): the first
 * step length 1, 1/2, ... meeting the Armijo condition (with a rounding allowance) is taken;
 * trial and gtrial receive the new point and its gradient. Returns the new objective, or NaN
 * when no step length decreases it. */
static double line_search(problem *pb, const double *theta, double f, const double *dir, double gd,
                          double *trial, double *gtrial, int64_t N)
{
    double t = 1.0;
    const double slack = 4 * DBL_EPSILON * fabs(f);
    for (int h = 0; h < MAX_HALVINGS; h++, t *= 0.5) {
        for (int64_t j = 0; j < N; j++) trial[j] = theta[j] + t * dir[j];
        const double ft = evaluate(pb, trial, gtrial);
        if (ft <= f + ARMIJO * t * gd + slack) return ft;
    }
    return NAN;
}

/* Newton's method from theta = 0. work: 3 N + N * N + n * P doubles. */
static int newton(problem *pb, double *theta, double *work, double *grad_max)
{
    const int64_t N = pb->nw * pb->P;
    double *g = work, *step = g + N, *gt = step + N, *H = gt + N, *T = H + N * N;
    double f = evaluate(pb, theta, g);
    const double tol = NEWTON_TOL * fmax(1.0, max_abs(g, N));
    int it = 0;
    for (; it < NEWTON_MAX_ITER; it++) {
        const double gm = max_abs(g, N);
        if (gm <= tol) break;
        hessian(pb, H, T);
        if (newton_step(H, g, step, N) != 0) {
            hessian(pb, H, T);
            for (int64_t j = 0; j < N; j++) H[j * (N + 1)] += 1e-8 * fmax(1.0, H[j * (N + 1)]);
            if (newton_step(H, g, step, N) != 0)
                for (int64_t j = 0; j < N; j++) step[j] = -g[j];
        }
        double gd = dot(g, step, N);
        if (!(gd < 0)) {
            for (int64_t j = 0; j < N; j++) step[j] = -g[j];
            gd = -dot(g, g, N);
        }
        /* the trial point goes into H's first N entries: H is rebuilt next iteration */
        double *trial = H;
        const double ft = line_search(pb, theta, f, step, gd, trial, gt, N);
        if (isnan(ft)) {
            evaluate(pb, theta, g); /* leaves prob and res at theta */
            break;
        }
        memcpy(theta, trial, (size_t)N * sizeof(double));
        memcpy(g, gt, (size_t)N * sizeof(double));
        f = ft;
        /* at the rounding floor the gradient stops shrinking */
        if (max_abs(g, N) > 0.9 * gm && max_abs(g, N) <= 1e-6 * tol / NEWTON_TOL) {
            it++;
            break;
        }
    }
    *grad_max = max_abs(g, N);
    return it;
}

/* L-BFGS from theta = 0. work: (4 + 2 LBFGS_MEMORY) N + LBFGS_MEMORY doubles. */
static int lbfgs(problem *pb, double *theta, double *work, double *grad_max)
{
    const int64_t N = pb->nw * pb->P;
    const int m = LBFGS_MEMORY;
    double *g = work, *dir = g + N, *trial = dir + N, *gt = trial + N;
    double *S = gt + N, *Y = S + m * N, *rho = Y + m * N, alpha[LBFGS_MEMORY];
    int stored = 0, head = 0, it = 0;
    double f = evaluate(pb, theta, g);
    const double tol = LBFGS_TOL * fmax(1.0, max_abs(g, N));
    for (; it < LBFGS_MAX_ITER; it++) {
        if (max_abs(g, N) <= tol) break;
        /* two-loop recursion: dir = -H g */
        for (int64_t j = 0; j < N; j++) dir[j] = -g[j];
        for (int s = 0; s < stored; s++) {
            const int r = (head - 1 - s + m) % m;
            alpha[r] = rho[r] * dot(S + r * N, dir, N);
            for (int64_t j = 0; j < N; j++) dir[j] -= alpha[r] * Y[r * N + j];
        }
        double gamma = 1.0 / fmax(1.0, sqrt(dot(g, g, N)));
        if (stored) {
            const int r = (head - 1 + m) % m;
            gamma = dot(S + r * N, Y + r * N, N) / dot(Y + r * N, Y + r * N, N);
        }
        for (int64_t j = 0; j < N; j++) dir[j] *= gamma;
        for (int s = stored - 1; s >= 0; s--) {
            const int r = (head - 1 - s + m) % m;
            const double beta = rho[r] * dot(Y + r * N, dir, N);
            for (int64_t j = 0; j < N; j++) dir[j] += (alpha[r] - beta) * S[r * N + j];
        }
        double gd = dot(g, dir, N);
        if (!(gd < 0)) {
            for (int64_t j = 0; j < N; j++) dir[j] = -g[j] / fmax(1.0, sqrt(dot(g, g, N)));
            gd = dot(g, dir, N);
            stored = 0;
        }
        const double ft = line_search(pb, theta, f, dir, gd, trial, gt, N);
        if (isnan(ft)) {
            evaluate(pb, theta, g);
            break;
        }
        double *s = S + head * N, *y = Y + head * N;
        for (int64_t j = 0; j < N; j++) {
            s[j] = trial[j] - theta[j];
            y[j] = gt[j] - g[j];
        }
        const double sy = dot(s, y, N);
        if (sy > 1e-12 * sqrt(dot(s, s, N) * dot(y, y, N))) {
            rho[head] = 1.0 / sy;
            head = (head + 1) % m;
            if (stored < m) stored++;
        }
        memcpy(theta, trial, (size_t)N * sizeof(double));
        memcpy(g, gt, (size_t)N * sizeof(double));
        f = ft;
    }
    *grad_max = max_abs(g, N);
    return it;
}

/* xt (n x (d + 1)) = x with a trailing 1; NULL when out of memory. */
static double *with_ones(const double *x, int64_t n, int64_t d)
{
    double *xt = gfuse_i_alloc((size_t)(n * (d + 1)), sizeof(double));
    if (!xt) return NULL;
    for (int64_t i = 0; i < n; i++) {
        memcpy(xt + i * (d + 1), x + i * d, (size_t)d * sizeof(double));
        xt[i * (d + 1) + d] = 1.0;
    }
    return xt;
}

/* The index of label c among lr->cls, or -1. */
static int class_index(const gfuse_i_logreg *lr, int32_t c)
{
    for (int r = 0; r < lr->n_present; r++)
        if (lr->cls[r] == c) return r;
    return -1;
}

gfuse_status gfuse_i_logreg_fit(gfuse_i_logreg *lr, const double *x, const int32_t *y, int64_t n,
                                int64_t d, int k, double C)
{
    gfuse_status st = GFUSE_OK;
    int64_t *count = NULL;
    int32_t *yi = NULL;
    double *xt = NULL, *prob = NULL, *res = NULL, *work = NULL;
    memset(lr, 0, sizeof *lr);
    if (n < 1 || d < 0 || k < 1 || !(C > 0) || !isfinite(C) || !x || !y)
        return gfuse_i_error(GFUSE_ERR_ARG, "logistic regression: bad arguments (n %lld, d %lld, "
                                            "k %d, C %g)", (long long)n, (long long)d, k, C);
    count = gfuse_i_zalloc((size_t)k, sizeof(int64_t));
    GFUSE_TRY_MEM(count, "the class counts");
    for (int64_t i = 0; i < n; i++) {
        if (y[i] < 0 || y[i] >= k)
            GFUSE_FAIL(gfuse_i_error(GFUSE_ERR_ARG, "logistic regression: label %d of sample %lld "
                                     "is not in [0, %d)", (int)y[i], (long long)i, k));
        count[y[i]]++;
    }
    lr->d = d;
    lr->k = k;
    lr->cls = gfuse_i_alloc((size_t)k, sizeof(int32_t));
    GFUSE_TRY_MEM(lr->cls, "the classes");
    for (int c = 0; c < k; c++)
        if (count[c]) lr->cls[lr->n_present++] = c;
    lr->n_w = lr->n_present == 1 ? 0 : lr->n_present == 2 ? 1 : lr->n_present;
    const int64_t P = d + 1, N = lr->n_w * P;
    lr->coef = gfuse_i_zalloc((size_t)N, sizeof(double));
    GFUSE_TRY_MEM(lr->coef, "the coefficients");
    if (lr->n_w == 0) goto done;

    yi = gfuse_i_alloc((size_t)n, sizeof(int32_t));
    GFUSE_TRY_MEM(yi, "the labels");
    for (int64_t i = 0; i < n; i++) yi[i] = class_index(lr, y[i]);
    xt = with_ones(x, n, d);
    prob = gfuse_i_alloc((size_t)(n * lr->n_w), sizeof(double));
    res = gfuse_i_alloc((size_t)(n * lr->n_w), sizeof(double));
    GFUSE_TRY_MEM(xt && prob && res, "the logistic regression's samples");
    const int use_newton = N <= GFUSE_I_LOGREG_NEWTON_MAX;
    const int64_t n_work = use_newton ? 3 * N + N * N + n * P
                                      : (4 + 2 * LBFGS_MEMORY) * N + LBFGS_MEMORY;
    work = gfuse_i_alloc((size_t)n_work, sizeof(double));
    GFUSE_TRY_MEM(work, "the logistic regression's solver");

    problem pb = {.xt = xt, .y = yi, .n = n, .d = d, .P = P, .nw = lr->n_w, .C = C,
                  .prob = prob, .res = res};
    const int blas = gfuse_i_blas_serial_begin();
    lr->iterations = use_newton ? newton(&pb, lr->coef, work, &lr->grad_max)
                                : lbfgs(&pb, lr->coef, work, &lr->grad_max);
    gfuse_i_blas_serial_end(blas);
    if (lr->n_w > 1) { /* the intercepts' free common shift: centred */
        double mean = 0;
        for (int r = 0; r < lr->n_w; r++) mean += lr->coef[r * P + d];
        mean /= lr->n_w;
        for (int r = 0; r < lr->n_w; r++) lr->coef[r * P + d] -= mean;
    }
done:
    free(count);
    free(yi);
    free(xt);
    free(prob);
    free(res);
    free(work);
    if (st != GFUSE_OK) gfuse_i_logreg_free(lr);
    return st;
}

void gfuse_i_logreg_proba(const gfuse_i_logreg *lr, const double *x, int64_t n, double *prob)
{
    const int64_t d = lr->d, P = d + 1;
    const int nw = lr->n_w, k = lr->k;
    for (int64_t i = 0; i < n; i++) {
        const double *xi = x + i * d;
        double *pi = prob + i * k;
        for (int c = 0; c < k; c++) pi[c] = 0;
        if (nw == 0) {
            pi[lr->cls[0]] = 1;
            continue;
        }
        /* the scores go where their probabilities will be */
        for (int r = 0; r < nw; r++) {
            const double *w = lr->coef + r * P;
            double s = w[d];
            for (int64_t j = 0; j < d; j++) s += w[j] * xi[j];
            pi[lr->cls[nw == 1 ? 1 : r]] = s;
        }
        if (nw == 1) {
            const double p1 = sigmoid(pi[lr->cls[1]]);
            pi[lr->cls[1]] = p1;
            pi[lr->cls[0]] = 1 - p1;
            continue;
        }
        double top = pi[lr->cls[0]], sum = 0;
        for (int r = 1; r < nw; r++) top = fmax(top, pi[lr->cls[r]]);
        for (int r = 0; r < nw; r++) sum += exp(pi[lr->cls[r]] - top);
        for (int r = 0; r < nw; r++) pi[lr->cls[r]] = exp(pi[lr->cls[r]] - top) / sum;
    }
}

void gfuse_i_logreg_free(gfuse_i_logreg *lr)
{
    if (!lr) return;
    free(lr->cls);
    free(lr->coef);
    memset(lr, 0, sizeof *lr);
}
