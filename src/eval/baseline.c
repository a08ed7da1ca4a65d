/* baseline.c: the classical references of `gfuse cv --baselines` (gfuse.h), the recipes of
 * bench/baselines.py in ../shared with scikit-learn's defaults:
 *   mean: SimpleImputer(strategy="mean") on the concatenated modalities (a missing modality
 *         and a NaN cell alike), StandardScaler, LogisticRegression(C);
 *   late: per modality StandardScaler and LogisticRegression(C) on the training samples that
 *         have it, the probabilities averaged over the modalities a test sample has.
 * Only labelled training samples are used. Imputation means are over the training cells that
 * have a value; a feature with no training value is dropped, as SimpleImputer drops it (it is
 * kept as a zero column, which the penalty gives weight zero). Standardisation uses the
 * population sd over the training rows, and leaves a constant column unscaled with
 * StandardScaler's test of constancy. Late fusion imputes the NaN cells of an observed row with
 * that modality's training means; a test sample that has none of the modalities a model could
 * be fitted for gets the class shares of the training samples. */
#include "core/util.h"
#include "eval/logreg.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *gfuse_baseline_name(gfuse_baseline method)
{
    switch (method) {
    case GFUSE_BASELINE_MEAN: return "mean";
    case GFUSE_BASELINE_LATE: return "late";
    }
    return NULL;
}

/* The features of modalities mods[0 .. nm) side by side. */
static int64_t width(const gfuse_cohort *c, const int *mods, int nm)
{
    int64_t D = 0;
    for (int t = 0; t < nm; t++) D += gfuse_cohort_n_features(c, mods[t]);
    return D;
}

/* mean (D) of each feature of mods over the samples s[0 .. n) that have a value for it; NaN
 * for a feature without any. */
static void train_means(const gfuse_cohort *c, const int *mods, int nm, const int64_t *s,
                        int64_t n, double *mean, int64_t *count)
{
    const int64_t D = width(c, mods, nm);
    memset(count, 0, (size_t)D * sizeof(int64_t));
    for (int64_t j = 0; j < D; j++) mean[j] = 0;
    for (int64_t r = 0; r < n; r++) {
        int64_t off = 0;
        for (int t = 0; t < nm; t++) {
            const int64_t d = gfuse_cohort_n_features(c, mods[t]);
            const float *v = gfuse_cohort_values(c, s[r], mods[t]);
            for (int64_t j = 0; v && j < d; j++)
                if (!isnan(v[j])) {
                    mean[off + j] += v[j];
                    count[off + j]++;
                }
            off += d;
        }
    }
    for (int64_t j = 0; j < D; j++) mean[j] = count[j] ? mean[j] / count[j] : NAN;
}

/* x (n x D): the values of samples s[0 .. n) in mods side by side, a missing cell replaced by
 * the training mean, a feature without training values 0. */
static void gather(const gfuse_cohort *c, const int *mods, int nm, const int64_t *s, int64_t n,
                   const double *mean, double *x)
{
    const int64_t D = width(c, mods, nm);
    for (int64_t r = 0; r < n; r++) {
        double *row = x + r * D;
        int64_t off = 0;
        for (int t = 0; t < nm; t++) {
            const int64_t d = gfuse_cohort_n_features(c, mods[t]);
            const float *v = gfuse_cohort_values(c, s[r], mods[t]);
            for (int64_t j = 0; j < d; j++) {
                const double mu = mean[off + j];
                row[off + j] = isnan(mu) ? 0.0 : v && !isnan(v[j]) ? (double)v[j] : mu;
            }
            off += d;
        }
    }
}

/* StandardScaler.fit on x (n x D): column means and population sd, 1 for a column its test
 * finds constant (a variance within the rounding error of computing it). */
static void scaler_fit(const double *x, int64_t n, int64_t D, double *mean, double *scale)
{
    for (int64_t j = 0; j < D; j++) {
        double s = 0, ss = 0;
        for (int64_t i = 0; i < n; i++) s += x[i * D + j];
        const double mu = s / n;
        for (int64_t i = 0; i < n; i++) ss += (x[i * D + j] - mu) * (x[i * D + j] - mu);
        const double var = ss / n, eps = DBL_EPSILON;
        const double bound = n * eps * var + (n * mu * eps) * (n * mu * eps);
        mean[j] = mu;
        scale[j] = var <= bound ? 1.0 : sqrt(var);
    }
}

static void scaler_apply(double *x, int64_t n, int64_t D, const double *mean, const double *scale)
{
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < D; j++) x[i * D + j] = (x[i * D + j] - mean[j]) / scale[j];
}

/* One model on modalities mods: imputed and standardised on the training samples tr[0 .. n_tr)
 * (labels y), then the probabilities of the samples te[0 .. n_te) into prob (n_te x K). */
static gfuse_status fit_predict(const gfuse_cohort *c, const int *mods, int nm, double C,
                                const int64_t *tr, const int32_t *y, int64_t n_tr,
                                const int64_t *te, int64_t n_te, int K, double *prob)
{
    gfuse_status st = GFUSE_OK;
    gfuse_i_logreg lr = {0};
    const int64_t D = width(c, mods, nm);
    double *mean = gfuse_i_alloc((size_t)D, sizeof(double));
    double *smean = gfuse_i_alloc((size_t)D, sizeof(double));
    double *scale = gfuse_i_alloc((size_t)D, sizeof(double));
    int64_t *count = gfuse_i_alloc((size_t)D, sizeof(int64_t));
    double *x = gfuse_i_alloc((size_t)((n_tr > n_te ? n_tr : n_te) * D), sizeof(double));
    GFUSE_TRY_MEM(mean && smean && scale && count && x, "the baseline's features");
    train_means(c, mods, nm, tr, n_tr, mean, count);
    gather(c, mods, nm, tr, n_tr, mean, x);
    scaler_fit(x, n_tr, D, smean, scale);
    scaler_apply(x, n_tr, D, smean, scale);
    GFUSE_TRY(gfuse_i_logreg_fit(&lr, x, y, n_tr, D, K, C));
    gather(c, mods, nm, te, n_te, mean, x);
    scaler_apply(x, n_te, D, smean, scale);
    gfuse_i_logreg_proba(&lr, x, n_te, prob);
done:
    gfuse_i_logreg_free(&lr);
    free(mean);
    free(smean);
    free(scale);
    free(count);
    free(x);
    return st;
}

/* Late fusion: a model per modality, averaged; prob is zeroed by the caller. */
static gfuse_status late_fusion(const gfuse_cohort *c, double C, const int64_t *tr,
                                const int32_t *y, int64_t n_tr, const int64_t *test,
                                int64_t n_test, int K, double *prob)
{
    gfuse_status st = GFUSE_OK;
    const int M = gfuse_cohort_n_modalities(c);
    int64_t *rows = gfuse_i_alloc((size_t)n_tr, sizeof(int64_t));
    int32_t *ym = gfuse_i_alloc((size_t)n_tr, sizeof(int32_t));
    int64_t *have = gfuse_i_alloc((size_t)n_test, sizeof(int64_t));
    int *n_models = gfuse_i_zalloc((size_t)n_test, sizeof(int));
    double *pm = gfuse_i_alloc((size_t)(n_test * K), sizeof(double));
    GFUSE_TRY_MEM(rows && ym && have && n_models && pm, "the late fusion's samples");
    for (int m = 0; m < M; m++) {
        int64_t n_m = 0, n_h = 0;
        for (int64_t r = 0; r < n_tr; r++)
            if (gfuse_cohort_has_modality(c, tr[r], m)) {
                rows[n_m] = tr[r];
                ym[n_m++] = y[r];
            }
        for (int64_t t = 0; t < n_test; t++)
            if (gfuse_cohort_has_modality(c, test[t], m)) have[n_h++] = t;
        if (n_m == 0 || n_h == 0) continue;
        int64_t *te = gfuse_i_alloc((size_t)n_h, sizeof(int64_t));
        GFUSE_TRY_MEM(te, "the late fusion's test samples");
        for (int64_t h = 0; h < n_h; h++) te[h] = test[have[h]];
        st = fit_predict(c, &m, 1, C, rows, ym, n_m, te, n_h, K, pm);
        free(te);
        if (st != GFUSE_OK) goto done;
        for (int64_t h = 0; h < n_h; h++) {
            for (int k = 0; k < K; k++) prob[have[h] * K + k] += pm[h * K + k];
            n_models[have[h]]++;
        }
    }
    for (int64_t t = 0; t < n_test; t++) {
        double *p = prob + t * K;
        if (n_models[t]) {
            for (int k = 0; k < K; k++) p[k] /= n_models[t];
            continue;
        }
        for (int64_t r = 0; r < n_tr; r++) p[y[r]] += 1.0 / n_tr;
    }
done:
    free(rows);
    free(ym);
    free(have);
    free(n_models);
    free(pm);
    return st;
}

gfuse_status gfuse_baseline_predict(const gfuse_cohort *c, gfuse_baseline method, double C,
                                    const int64_t *train, int64_t n_train, const int64_t *test,
                                    int64_t n_test, double *prob)
{
    gfuse_status st = GFUSE_OK;
    int64_t *tr = NULL;
    int32_t *y = NULL;
    int *mods = NULL;
    GFUSE_CHECK_ARG(c != NULL, "the cohort is NULL");
    GFUSE_CHECK_ARG(gfuse_baseline_name(method) != NULL, "unknown baseline method %d",
                    (int)method);
    GFUSE_CHECK_ARG(C > 0 && isfinite(C), "C must be a positive number, got %g", C);
    GFUSE_CHECK_ARG(n_train >= 0 && n_test >= 0, "sample counts must not be negative");
    GFUSE_CHECK_ARG(n_train == 0 || train, "the training samples are NULL");
    GFUSE_CHECK_ARG(n_test == 0 || (test && prob), "the test samples or prob are NULL");
    if (gfuse_cohort_task(c) != GFUSE_TASK_CLASSIFY || gfuse_cohort_n_classes(c) < 1)
        return gfuse_i_error(GFUSE_ERR_DATA, "the baselines need a classification cohort");
    const int64_t n = gfuse_cohort_n_samples(c);
    const int K = gfuse_cohort_n_classes(c), M = gfuse_cohort_n_modalities(c);
    for (int64_t r = 0; r < n_train; r++)
        GFUSE_CHECK_ARG(train[r] >= 0 && train[r] < n, "training sample %lld is not in [0, %lld)",
                        (long long)train[r], (long long)n);
    for (int64_t t = 0; t < n_test; t++)
        GFUSE_CHECK_ARG(test[t] >= 0 && test[t] < n, "test sample %lld is not in [0, %lld)",
                        (long long)test[t], (long long)n);

    tr = gfuse_i_alloc((size_t)n_train, sizeof(int64_t));
    y = gfuse_i_alloc((size_t)n_train, sizeof(int32_t));
    mods = gfuse_i_alloc((size_t)M, sizeof(int));
    GFUSE_TRY_MEM(tr && y && mods, "the baseline's training samples");
    int64_t n_tr = 0;
    for (int64_t r = 0; r < n_train; r++) {
        const int32_t label = gfuse_cohort_label(c, train[r]);
        if (label < 0) continue;
        tr[n_tr] = train[r];
        y[n_tr++] = label;
    }
    if (n_tr == 0) GFUSE_FAIL(gfuse_i_error(GFUSE_ERR_ARG, "the baseline has no labelled "
                                                           "training sample"));
    for (int64_t j = 0; j < n_test * K; j++) prob[j] = 0;
    if (n_test == 0) goto done;
    for (int m = 0; m < M; m++) mods[m] = m;
    if (method == GFUSE_BASELINE_MEAN)
        st = fit_predict(c, mods, M, C, tr, y, n_tr, test, n_test, K, prob);
    else
        st = late_fusion(c, C, tr, y, n_tr, test, n_test, K, prob);
done:
    free(tr);
    free(y);
    free(mods);
    return st;
}
