/*
 * check_baseline.c: the logistic regression of src/eval (the gradient at the solution, solutions
 * known in closed form, classes missing from training, the L-BFGS path) and the baselines of
 * gfuse_baseline_predict (a solution known in closed form, thread-count independence, errors,
 * and, when ../shared/data/rosmap is there, the ROSMAP rows of
 * ../shared/bench/results/rosmap-baselines.csv).
 *
 * Run as `check_baseline --probs DIR METHOD C [MASK]` it is the helper of baseline_sklearn.sh
 * instead: it loads the cohort folder DIR (with MASK), fits METHOD on its "train" split and
 * prints the probabilities of its "test" samples as CSV (id, then one column per class name).
 */
#include "config.h"
#include "testutil.h"

#include "eval/logreg.h"

#include <math.h>

/* ---- random data ------------------------------------------------------------------------ */

static uint64_t rng_state;
static const char *const class_names[] = {"c0", "c1", "c2", "c3"};

static double uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return ((rng_state >> 11) + 0.5) / 9007199254740992.0;
}

static double gaussian(void) { return sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform()); }

/* n x d features around a class-dependent centre; labels in [0, k). */
static void random_problem(double *x, int32_t *y, int64_t n, int64_t d, int k, uint64_t seed)
{
    rng_state = seed * 2654435761u + 1;
    for (int64_t i = 0; i < n; i++) {
        y[i] = (int32_t)(i % k);
        for (int64_t j = 0; j < d; j++)
            x[i * d + j] = gaussian() + (j % k == y[i] ? 1.0 : 0.0) + 0.3 * j;
    }
}

/* A cohort of n samples, M modalities of d[m] features, k classes; each (sample, modality) cell
 * hidden with probability hide (keeping one modality per sample), each value NaN with
 * probability nan_rate. */
static gfuse_cohort *random_cohort(int64_t n, int M, const int64_t *d, int k, double hide,
                                   double nan_rate, uint64_t seed)
{
    gfuse_cohort *c = NULL;
    char **ids = malloc((size_t)n * sizeof *ids);
    int32_t *y = malloc((size_t)n * sizeof *y);
    ck_assert(ids && y);
    for (int64_t i = 0; i < n; i++) {
        ids[i] = malloc(16);
        snprintf(ids[i], 16, "s%lld", (long long)i);
    }
    ck_assert_int_eq(gfuse_cohort_new(&c, n, (const char *const *)ids), GFUSE_OK);
    rng_state = seed * 0x9E3779B97F4A7C15ull + 7;
    for (int64_t i = 0; i < n; i++) y[i] = (int32_t)(uniform() * k);
    for (int m = 0; m < M; m++) {
        float *v = malloc((size_t)(n * d[m]) * sizeof *v);
        ck_assert_ptr_nonnull(v);
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < d[m]; j++)
                v[i * d[m] + j] = uniform() < nan_rate ? NAN
                                  : (float)(gaussian() + 0.7 * ((j + m) % k == y[i]) + 0.1 * j);
        char name[16];
        snprintf(name, sizeof name, "m%d", m);
        ck_assert_int_eq(gfuse_cohort_add_modality(c, name, d[m], NULL, v), GFUSE_OK);
        free(v);
    }
    ck_assert_int_eq(gfuse_cohort_set_classes(c, k, class_names, y), GFUSE_OK);
    for (int64_t i = 0; i < n; i++)
        for (int m = 0; m < M; m++) {
            int left = 0;
            for (int o = 0; o < M; o++) left += o != m && gfuse_cohort_has_modality(c, i, o);
            if (left && uniform() < hide) ck_assert_int_eq(gfuse_cohort_hide(c, i, m), GFUSE_OK);
        }
    for (int64_t i = 0; i < n; i++) free(ids[i]);
    free(ids);
    free(y);
    return c;
}

/* ---- logistic regression ---------------------------------------------------------------- */

/* The gradient of C * sum_i loss_i + 0.5 * ||W||^2 at coef (lr's layout), written out
 * plainly: grad_r = C sum_i (p_ir - [y_i = cls_r]) (x_i, 1) + (w_r, 0), p the probabilities of
 * the modelled classes (of cls[1] alone for the binary model). */
static void objective_gradient(const gfuse_i_logreg *lr, const double *coef, const double *x,
                               const int32_t *y, int64_t n, double C, double *grad)
{
    const int64_t d = lr->d, P = d + 1;
    const int nw = lr->n_w;
    double z[8];
    ck_assert_int_le(nw, 8);
    for (int64_t j = 0; j < nw * P; j++) grad[j] = (j % P) < d ? coef[j] : 0.0;
    for (int64_t i = 0; i < n; i++) {
        for (int r = 0; r < nw; r++) {
            z[r] = coef[r * P + d];
            for (int64_t j = 0; j < d; j++) z[r] += coef[r * P + j] * x[i * d + j];
        }
        double top = z[0], sum = 0;
        for (int r = 0; r < nw; r++) top = fmax(top, z[r]);
        for (int r = 0; r < nw; r++) sum += exp(z[r] - top);
        for (int r = 0; r < nw; r++) {
            const double p = nw == 1 ? 1 / (1 + exp(-z[0])) : exp(z[r] - top) / sum;
            const double res = p - (y[i] == lr->cls[nw == 1 ? 1 : r]);
            for (int64_t j = 0; j < d; j++) grad[r * P + j] += C * res * x[i * d + j];
            grad[r * P + d] += C * res;
        }
    }
}

/* The max-norm of the objective's gradient at lr and at zero. */
static void gradients(const gfuse_i_logreg *lr, const double *x, const int32_t *y, int64_t n,
                      double C, double *at_solution, double *at_zero)
{
    const int64_t N = lr->n_w * (lr->d + 1);
    double *g = malloc((size_t)N * sizeof *g), *zero = calloc((size_t)N, sizeof *zero);
    ck_assert(g && zero);
    objective_gradient(lr, lr->coef, x, y, n, C, g);
    *at_solution = 0;
    for (int64_t j = 0; j < N; j++) *at_solution = fmax(*at_solution, fabs(g[j]));
    objective_gradient(lr, zero, x, y, n, C, g);
    *at_zero = 0;
    for (int64_t j = 0; j < N; j++) *at_zero = fmax(*at_zero, fabs(g[j]));
    free(zero);
    free(g);
}

START_TEST(test_logreg_gradient)
{
    const int64_t n = 80, d = 6;
    double x[80 * 6];
    int32_t y[80];
    const double Cs[] = {0.01, 0.1, 1.0, 100.0};
    for (int k = 2; k <= 4; k++)
        for (size_t a = 0; a < sizeof Cs / sizeof *Cs; a++) {
            random_problem(x, y, n, d, k, 11 + k);
            gfuse_i_logreg lr = {0};
            ck_assert_int_eq(gfuse_i_logreg_fit(&lr, x, y, n, d, k, Cs[a]), GFUSE_OK);
            ck_assert_int_eq(lr.n_w, k == 2 ? 1 : k);
            double g, g0;
            gradients(&lr, x, y, n, Cs[a], &g, &g0);
            ck_assert_msg(g <= 1e-9 * fmax(1.0, g0), "k %d C %g: gradient %g (at zero %g)", k,
                          Cs[a], g, g0);
            ck_assert_double_le(fabs(g - lr.grad_max), 1e-11 * fmax(1.0, g0));
            if (k > 2) { /* the intercepts are centred */
                double sum = 0;
                for (int r = 0; r < k; r++) sum += lr.coef[r * (d + 1) + d];
                ck_assert_double_le(fabs(sum), 1e-12);
            }
            double p[80 * 4];
            gfuse_i_logreg_proba(&lr, x, n, p);
            for (int64_t i = 0; i < n; i++) {
                double s = 0;
                for (int c = 0; c < k; c++) s += p[i * k + c];
                ck_assert_double_eq_tol(s, 1.0, 1e-12);
            }
            gfuse_i_logreg_free(&lr);
            ck_assert_ptr_null(lr.coef);
        }
}
END_TEST

/* More unknowns than Newton takes: the L-BFGS path, to its tolerance. */
START_TEST(test_logreg_lbfgs)
{
    const int64_t n = 60, d = GFUSE_I_LOGREG_NEWTON_MAX / 3 + 10;
    double *x = malloc((size_t)(n * d) * sizeof *x);
    int32_t y[60];
    ck_assert_ptr_nonnull(x);
    random_problem(x, y, n, d, 3, 5);
    for (int64_t j = 0; j < n * d; j++) x[j] /= 1 + 0.3 * (double)(j % d); /* tame the scales */
    gfuse_i_logreg lr = {0};
    ck_assert_int_eq(gfuse_i_logreg_fit(&lr, x, y, n, d, 3, 0.1), GFUSE_OK);
    ck_assert_int_gt(lr.n_w * (d + 1), GFUSE_I_LOGREG_NEWTON_MAX);
    double g, g0;
    gradients(&lr, x, y, n, 0.1, &g, &g0);
    ck_assert_msg(g <= 1e-7 * fmax(1.0, g0), "gradient %g (at zero %g)", g, g0);
    gfuse_i_logreg_free(&lr);
    free(x);
}
END_TEST

/* w = 2 C sigmoid(-w): the optimum of x = -1 (class 0), x = +1 (class 1), by bisection. */
static double symmetric_pair_weight(double C)
{
    double lo = 0, hi = 2 * C;
    for (int it = 0; it < 200; it++) {
        const double w = 0.5 * (lo + hi);
        if (w - 2 * C / (1 + exp(w)) > 0) hi = w; else lo = w;
    }
    return 0.5 * (lo + hi);
}

START_TEST(test_logreg_known)
{
    /* the symmetric pair: b = 0 and w from its stationarity condition */
    const double x2[] = {-1, 1};
    const int32_t y2[] = {0, 1};
    for (double C = 0.05; C < 100; C *= 3) {
        gfuse_i_logreg lr = {0};
        ck_assert_int_eq(gfuse_i_logreg_fit(&lr, x2, y2, 2, 1, 2, C), GFUSE_OK);
        ck_assert_double_eq_tol(lr.coef[0], symmetric_pair_weight(C), 1e-10);
        ck_assert_double_eq_tol(lr.coef[1], 0.0, 1e-10);
        gfuse_i_logreg_free(&lr);
    }
    /* no feature: the unpenalised intercepts give the class shares */
    const int32_t yb[] = {0, 0, 1, 0};
    gfuse_i_logreg lr = {0};
    ck_assert_int_eq(gfuse_i_logreg_fit(&lr, x2, yb, 4, 0, 2, 0.3), GFUSE_OK);
    ck_assert_double_eq_tol(lr.coef[0], log(1.0 / 3.0), 1e-10);
    gfuse_i_logreg_free(&lr);
    const int32_t ym[] = {2, 1, 2, 0, 2, 1};
    double p[3];
    ck_assert_int_eq(gfuse_i_logreg_fit(&lr, x2, ym, 6, 0, 3, 0.3), GFUSE_OK);
    gfuse_i_logreg_proba(&lr, x2, 1, p);
    ck_assert_double_eq_tol(p[0], 1.0 / 6, 1e-10);
    ck_assert_double_eq_tol(p[1], 2.0 / 6, 1e-10);
    ck_assert_double_eq_tol(p[2], 3.0 / 6, 1e-10);
    gfuse_i_logreg_free(&lr);
}
END_TEST

/* Classes absent from training get probability 0, as scikit-learn does not know them. */
START_TEST(test_logreg_absent_classes)
{
    const double x[] = {-1, 1, -2, 2};
    const int32_t y[] = {0, 2, 0, 2};
    gfuse_i_logreg lr = {0};
    double p[2 * 3];
    ck_assert_int_eq(gfuse_i_logreg_fit(&lr, x, y, 4, 1, 3, 1.0), GFUSE_OK);
    ck_assert_int_eq(lr.n_w, 1); /* binary between classes 0 and 2 */
    gfuse_i_logreg_proba(&lr, x, 2, p);
    ck_assert_double_eq(p[1], 0.0);
    ck_assert_double_eq(p[4], 0.0);
    ck_assert_double_gt(p[0], 0.5);
    ck_assert_double_gt(p[5], 0.5);
    ck_assert_double_eq_tol(p[3] + p[5], 1.0, 1e-15);
    gfuse_i_logreg_free(&lr);
    const int32_t one[] = {1, 1, 1, 1};
    ck_assert_int_eq(gfuse_i_logreg_fit(&lr, x, one, 4, 1, 3, 1.0), GFUSE_OK);
    ck_assert_int_eq(lr.n_w, 0);
    gfuse_i_logreg_proba(&lr, x, 2, p);
    ck_assert_double_eq(p[0], 0.0);
    ck_assert_double_eq(p[1], 1.0);
    ck_assert_double_eq(p[5], 0.0);
    gfuse_i_logreg_free(&lr);
    const int32_t bad[] = {0, 3, 0, 1};
    ck_assert_int_eq(gfuse_i_logreg_fit(&lr, x, bad, 4, 1, 3, 1.0), GFUSE_ERR_ARG);
    ck_assert_int_eq(gfuse_i_logreg_fit(&lr, x, y, 4, 1, 3, 0.0), GFUSE_ERR_ARG);
}
END_TEST

/* ---- baselines -------------------------------------------------------------------------- */

/* A modality of one feature: training values 0 (class 0) and 2 (class 1) standardise to -1
 * and +1, the symmetric pair (sample c is unlabelled, so no training sample); a test value of
 * 2 is +1 again, and a test sample without the modality is the mean (0) for "mean" and the
 * class shares for "late". A NaN cell is the training mean as well. A second modality is
 * constant on the training samples: weight 0, so it changes no probability. */
START_TEST(test_baseline_known)
{
    const char *ids[] = {"a", "b", "c", "d", "e"};
    const float v[] = {0, 2, 2, 5, NAN};
    const int32_t y[] = {0, 1, -1, 1, 0};
    const int64_t train[] = {0, 1, 2}, test[] = {2, 3, 4};
    gfuse_cohort *c = NULL;
    ck_assert_int_eq(gfuse_cohort_new(&c, 5, ids), GFUSE_OK);
    const float two[] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 1};
    ck_assert_int_eq(gfuse_cohort_add_modality(c, "x", 1, NULL, v), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_add_modality(c, "constant", 2, NULL, two), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_set_classes(c, 2, class_names, y), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_hide(c, 3, 0), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_hide(c, 2, 1), GFUSE_OK);
    const double C = 0.7, w = symmetric_pair_weight(C), p1 = 1 / (1 + exp(-w));
    double prob[3 * 2];
    for (int method = 0; method < 2; method++) {
        ck_assert_int_eq(gfuse_baseline_predict(c, (gfuse_baseline)method, C, train, 3, test, 3,
                                                prob),
                         GFUSE_OK);
        ck_assert_double_eq_tol(prob[1], p1, 1e-9); /* sample c: x = 2 */
        ck_assert_double_eq_tol(prob[0] + prob[1], 1.0, 1e-15);
        ck_assert_double_eq_tol(prob[3], 0.5, 1e-9); /* d: x hidden */
        /* e: x NaN is the mean; "late" averages x's model there with the constant one's */
        ck_assert_double_eq_tol(prob[5], 0.5, 1e-9);
    }
    ck_assert_str_eq(gfuse_baseline_name(GFUSE_BASELINE_MEAN), "mean");
    ck_assert_str_eq(gfuse_baseline_name(GFUSE_BASELINE_LATE), "late");
    ck_assert_ptr_null(gfuse_baseline_name((gfuse_baseline)7));
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_baseline_threads)
{
    const int64_t d[] = {40, 25, 12}, n = 360, n_train = 250;
    for (int k = 2; k <= 3; k++) {
        gfuse_cohort *c = random_cohort(n, 3, d, k, 0.3, 0.02, 3 + k);
        int64_t train[360], test[360];
        for (int64_t i = 0; i < n; i++) *(i < n_train ? &train[i] : &test[i - n_train]) = i;
        const int64_t n_test = n - n_train;
        for (int method = 0; method < 2; method++) {
            double *ref = malloc((size_t)(n_test * k) * sizeof *ref);
            double *prob = malloc((size_t)(n_test * k) * sizeof *prob);
            ck_assert(ref && prob);
            const int threads[] = {1, 2, 4};
            for (int t = 0; t < 3; t++) {
                ck_assert_int_eq(gfuse_set_threads(threads[t]), GFUSE_OK);
                ck_assert_int_eq(gfuse_baseline_predict(c, (gfuse_baseline)method, 0.5, train,
                                                        n_train, test, n_test,
                                                        t ? prob : ref),
                                 GFUSE_OK);
                if (t)
                    ck_assert_msg(memcmp(ref, prob, (size_t)(n_test * k) * sizeof *ref) == 0,
                                  "%s, %d classes: %d threads differ from 1",
                                  gfuse_baseline_name((gfuse_baseline)method), k, threads[t]);
            }
            for (int64_t i = 0; i < n_test; i++) {
                double s = 0;
                for (int j = 0; j < k; j++) s += ref[i * k + j];
                ck_assert_double_eq_tol(s, 1.0, 1e-12);
            }
            free(ref);
            free(prob);
        }
        gfuse_cohort_free(&c);
    }
    ck_assert_int_eq(gfuse_set_threads(0), GFUSE_OK);
}
END_TEST

START_TEST(test_baseline_errors)
{
    const int64_t d[] = {3, 2};
    gfuse_cohort *c = random_cohort(20, 2, d, 2, 0.2, 0.0, 1);
    const int64_t train[] = {0, 1, 2, 3, 4, 5}, test[] = {6, 7}, outside[] = {20};
    double prob[4];
    ck_assert_int_eq(gfuse_baseline_predict(c, GFUSE_BASELINE_MEAN, 0.0, train, 6, test, 2, prob),
                     GFUSE_ERR_ARG);
    ck_assert_int_eq(gfuse_baseline_predict(c, GFUSE_BASELINE_LATE, -1, train, 6, test, 2, prob),
                     GFUSE_ERR_ARG);
    ck_assert_int_eq(gfuse_baseline_predict(c, GFUSE_BASELINE_LATE, NAN, train, 6, test, 2, prob),
                     GFUSE_ERR_ARG);
    ck_assert_int_eq(gfuse_baseline_predict(c, GFUSE_BASELINE_MEAN, 1, train, 0, test, 2, prob),
                     GFUSE_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(gfuse_last_error(), "training sample"));
    ck_assert_int_eq(gfuse_baseline_predict(c, (gfuse_baseline)2, 1, train, 6, test, 2, prob),
                     GFUSE_ERR_ARG);
    ck_assert_int_eq(gfuse_baseline_predict(c, GFUSE_BASELINE_MEAN, 1, outside, 1, test, 2, prob),
                     GFUSE_ERR_ARG);
    ck_assert_int_eq(gfuse_baseline_predict(c, GFUSE_BASELINE_MEAN, 1, train, 6, outside, 1, prob),
                     GFUSE_ERR_ARG);
    ck_assert_int_eq(gfuse_baseline_predict(NULL, GFUSE_BASELINE_MEAN, 1, train, 6, test, 2, prob),
                     GFUSE_ERR_ARG);
    /* labelled training samples only: unlabelled ones are no training sample */
    int32_t none[20];
    for (int i = 0; i < 20; i++) none[i] = i < 10 ? -1 : i % 2;
    ck_assert_int_eq(gfuse_cohort_set_classes(c, 2, class_names, none), GFUSE_OK);
    ck_assert_int_eq(gfuse_baseline_predict(c, GFUSE_BASELINE_LATE, 1, train, 6, test, 2, prob),
                     GFUSE_ERR_ARG);
    /* no test sample is fine */
    const int64_t labelled[] = {10, 11, 12};
    ck_assert_int_eq(gfuse_baseline_predict(c, GFUSE_BASELINE_LATE, 1, labelled, 3, NULL, 0, NULL),
                     GFUSE_OK);
    gfuse_cohort_free(&c);

    /* a regression cohort */
    const char *ids[] = {"a", "b", "c"};
    const float v[] = {1, 2, 3};
    const double target[] = {0.5, 1.5, 2.5};
    ck_assert_int_eq(gfuse_cohort_new(&c, 3, ids), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_add_modality(c, "x", 1, NULL, v), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_set_targets(c, target), GFUSE_OK);
    ck_assert_int_eq(gfuse_baseline_predict(c, GFUSE_BASELINE_MEAN, 1, train, 2, test, 0, prob),
                     GFUSE_ERR_DATA);
    gfuse_cohort_free(&c);
}
END_TEST

/* ---- ROSMAP: the rows of ../shared/bench/results/rosmap-baselines.csv --------------------- */

/* roc_auc_score of class 1 for two classes: the share of (positive, negative) pairs ranked
 * right, ties counting one half. */
static double auroc_binary(const int32_t *y, const double *prob, int64_t n)
{
    double right = 0, pairs = 0;
    for (int64_t a = 0; a < n; a++) {
        if (y[a] != 1) continue;
        for (int64_t b = 0; b < n; b++) {
            if (y[b] != 0) continue;
            const double pa = prob[a * 2 + 1], pb = prob[b * 2 + 1];
            right += pa > pb ? 1.0 : pa == pb ? 0.5 : 0.0;
            pairs += 1;
        }
    }
    return right / pairs;
}

static double accuracy(const int32_t *y, const double *prob, int64_t n, int k)
{
    int64_t hit = 0;
    for (int64_t i = 0; i < n; i++) {
        int best = 0;
        for (int c = 1; c < k; c++)
            if (prob[i * k + c] > prob[i * k + best]) best = c;
        hit += best == y[i];
    }
    return (double)hit / n;
}

static gfuse_cohort *load(const char *dir, const char *mask)
{
    gfuse_cohort_options co;
    gfuse_cohort_options_init(&co);
    co.dir = dir;
    co.mask_file = mask;
    gfuse_cohort *c = NULL;
    ck_assert_msg(gfuse_cohort_load(&c, &co) == GFUSE_OK, "%s", gfuse_last_error());
    return c;
}

/* The mean ACC and AUROC of method over the masks of rate (5 seeds; the cohort as it is for 0). */
static void rosmap_scores(const char *dir, gfuse_baseline method, int rate, double *acc,
                          double *auc)
{
    const int seeds = rate ? 5 : 1;
    *acc = *auc = 0;
    for (int s = 1; s <= seeds; s++) {
        char mask[1200];
        snprintf(mask, sizeof mask, "%s/mask_r%02d_s%d.csv", dir, rate, s);
        gfuse_cohort *c = load(dir, rate ? mask : NULL);
        const int64_t n = gfuse_cohort_n_samples(c);
        int64_t *train = malloc((size_t)n * sizeof *train), *test = malloc((size_t)n * sizeof *test);
        int32_t *y = malloc((size_t)n * sizeof *y);
        double *prob = malloc((size_t)(2 * n) * sizeof *prob);
        ck_assert(train && test && y && prob);
        int64_t n_train = 0, n_test = 0;
        for (int64_t i = 0; i < n; i++) {
            if (gfuse_cohort_split(c, i) == GFUSE_SPLIT_TRAIN) train[n_train++] = i;
            if (gfuse_cohort_split(c, i) == GFUSE_SPLIT_TEST) {
                y[n_test] = gfuse_cohort_label(c, i);
                test[n_test++] = i;
            }
        }
        ck_assert_int_eq(n_train, 245);
        ck_assert_int_eq(n_test, 106);
        ck_assert_int_eq(gfuse_cohort_n_classes(c), 2);
        ck_assert_int_eq(gfuse_baseline_predict(c, method, 0.1, train, n_train, test, n_test, prob),
                         GFUSE_OK);
        *acc += accuracy(y, prob, n_test, 2) / seeds;
        *auc += auroc_binary(y, prob, n_test) / seeds;
        free(train);
        free(test);
        free(y);
        free(prob);
        gfuse_cohort_free(&c);
    }
}

START_TEST(test_rosmap)
{
    const char *dir = tu_shared_data("rosmap");
    if (!dir) return;
    char data[1024], csv[1100];
    snprintf(data, sizeof data, "%s", dir);
    snprintf(csv, sizeof csv, "%s/bench/results/rosmap-baselines.csv", getenv("GFUSE_SHARED"));
    FILE *f = fopen(csv, "r");
    if (!f) {
        fprintf(stderr, "skipped: %s is not there\n", csv);
        return;
    }
    char line[512];
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        char method[16];
        int rate;
        double acc, acc_sd, f1, f1_sd, auc, auc_sd, C;
        if (sscanf(line, "%15[^,],%d,%lf,%lf,%lf,%lf,%lf,%lf,%lf", method, &rate, &acc, &acc_sd,
                   &f1, &f1_sd, &auc, &auc_sd, &C) != 9 || C != 0.1)
            continue;
        gfuse_baseline b;
        if (strcmp(method, "mean") == 0) b = GFUSE_BASELINE_MEAN;
        else if (strcmp(method, "late") == 0) b = GFUSE_BASELINE_LATE;
        else continue;
        double my_acc, my_auc;
        rosmap_scores(data, b, rate, &my_acc, &my_auc);
        printf("rosmap %s rate %2d: ACC %.4f (csv %.3f), AUROC %.4f (csv %.3f)\n", method, rate,
               my_acc, acc, my_auc, auc);
        ck_assert_msg(fabs(my_acc - acc) <= 0.01 && fabs(my_auc - auc) <= 0.01,
                      "%s rate %d: ACC %.4f vs %.3f, AUROC %.4f vs %.3f", method, rate, my_acc,
                      acc, my_auc, auc);
        rows++;
    }
    fclose(f);
    ck_assert_int_eq(rows, 10);
}
END_TEST

/* ---- the helper of baseline_sklearn.sh ------------------------------------------------------ */

static int print_probabilities(const char *dir, const char *method, double C, const char *mask)
{
    gfuse_cohort_options co;
    gfuse_cohort_options_init(&co);
    co.dir = dir;
    co.mask_file = mask;
    gfuse_cohort *c = NULL;
    if (gfuse_init() != GFUSE_OK || gfuse_cohort_load(&c, &co) != GFUSE_OK) {
        fprintf(stderr, "check_baseline: %s\n", gfuse_last_error());
        return 1;
    }
    const gfuse_baseline b = strcmp(method, "late") == 0 ? GFUSE_BASELINE_LATE : GFUSE_BASELINE_MEAN;
    const int64_t n = gfuse_cohort_n_samples(c);
    const int k = gfuse_cohort_n_classes(c);
    int64_t *train = malloc((size_t)n * sizeof *train), *test = malloc((size_t)n * sizeof *test);
    double *prob = malloc((size_t)(n * (k > 0 ? k : 1)) * sizeof *prob);
    int64_t n_train = 0, n_test = 0;
    int rc = 1;
    if (!train || !test || !prob) goto done;
    for (int64_t i = 0; i < n; i++) {
        if (gfuse_cohort_split(c, i) == GFUSE_SPLIT_TRAIN) train[n_train++] = i;
        if (gfuse_cohort_split(c, i) == GFUSE_SPLIT_TEST) test[n_test++] = i;
    }
    if (gfuse_baseline_predict(c, b, C, train, n_train, test, n_test, prob) != GFUSE_OK) {
        fprintf(stderr, "check_baseline: %s\n", gfuse_last_error());
        goto done;
    }
    printf("id");
    for (int j = 0; j < k; j++) printf(",%s", gfuse_cohort_class_name(c, j));
    printf("\n");
    for (int64_t t = 0; t < n_test; t++) {
        printf("%s", gfuse_cohort_sample_id(c, test[t]));
        for (int j = 0; j < k; j++) printf(",%.17g", prob[t * k + j]);
        printf("\n");
    }
    rc = 0;
done:
    free(train);
    free(test);
    free(prob);
    gfuse_cohort_free(&c);
    gfuse_finalize();
    return rc;
}

static Suite *baseline_suite(void)
{
    Suite *s = suite_create("baseline");
    TU_TCASE(s, "logreg", NULL, NULL, test_logreg_gradient, test_logreg_lbfgs, test_logreg_known,
             test_logreg_absent_classes);
    TU_TCASE(s, "baseline", tu_tmp_setup, tu_tmp_teardown, test_baseline_known,
             test_baseline_threads, test_baseline_errors);
    TCase *tc = TU_TCASE(s, "rosmap", tu_tmp_setup, tu_tmp_teardown, test_rosmap);
    tcase_set_timeout(tc, 300);
    return s;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "--probs") == 0)
        return print_probabilities(argv[2], argv[3], argc > 4 ? atof(argv[4]) : 1.0,
                                   argc > 5 ? argv[5] : NULL);
    return tu_run_suite(baseline_suite());
}
