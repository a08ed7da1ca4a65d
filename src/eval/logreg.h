/*
 * logreg.h: L2-penalised logistic regression with scikit-learn's meaning of the penalty C.
 *
 * Dimensions: n samples, d features, k classes (labels in [0, k)). x is n x d row-major in
 * double. The objective is scikit-learn's LogisticRegression(penalty="l2", C) one:
 *     C * sum_i loss_i + 0.5 * ||W||^2        (intercepts not penalised)
 * Only the classes that occur among the n labels are modelled, as scikit-learn knows only
 * those (the others get probability 0):
 *   - one class: a constant model (probability 1 for it);
 *   - two classes: binary logistic regression, one weight vector w and intercept b, the
 *     log-odds of the larger class against the smaller; loss_i = log(1 + exp(z_i)) - [y_i] z_i;
 *   - more: multinomial (softmax) regression, one weight vector and intercept per class;
 *     loss_i = log sum_k exp(z_ik) - z_i,y_i. The optimum is unique in W; the intercepts are
 *     unique up to a common shift, fixed by centring them (sum zero).
 * The fit is Newton's method with a backtracking line search and a Cholesky solve of the full
 * (d + 1) x n_w system (the multinomial one made definite along the intercepts' common shift),
 * run to a gradient max-norm of 1e-10 relative to the one at zero; problems of more than
 * GFUSE_I_LOGREG_NEWTON_MAX unknowns use L-BFGS to 1e-8 relative instead. BLAS runs
 * single-threaded inside the fit, so the result does not depend on the thread count.
 */
#ifndef GFUSE_LOGREG_H
#define GFUSE_LOGREG_H

#include "core/internal.h"

/* The most unknowns (weights and intercepts) solved by Newton's method (its Hessian is that
 * squared in doubles: 72 MiB). */
#define GFUSE_I_LOGREG_NEWTON_MAX 3072

typedef struct {
    int64_t d;       /* features */
    int k;           /* classes: the columns of the probabilities */
    int n_present;   /* classes seen in training */
    int32_t *cls;    /* n_present classes seen in training, ascending */
    int n_w;         /* weight vectors: 0 (one class), 1 (binary: log-odds of cls[1]), n_present */
    double *coef;    /* n_w x (d + 1) row-major: row r = weights of row r, then its intercept */
    int iterations;  /* Newton or L-BFGS iterations of the fit */
    double grad_max; /* max |gradient| of the objective at the solution */
} gfuse_i_logreg;

/* Fits lr (any previous content is not freed: start from zeroed memory) to x (n x d) and
 * labels y (n, each in [0, k)) with inverse penalty C > 0. n >= 1, k >= 1, d >= 0.
 * Errors: GFUSE_ERR_ARG (a bad argument or label), GFUSE_ERR_NOMEM. */
gfuse_status gfuse_i_logreg_fit(gfuse_i_logreg *lr, const double *x, const int32_t *y, int64_t n,
                                int64_t d, int k, double C);

/* prob (n x k, row-major) = the class probabilities of the rows of x (n x lr->d). */
void gfuse_i_logreg_proba(const gfuse_i_logreg *lr, const double *x, int64_t n, double *prob);

/* Frees what fit allocated and zeroes lr (NULL-safe). */
void gfuse_i_logreg_free(gfuse_i_logreg *lr);

#endif
