/* metrics.c: classification and regression metrics (metrics.h, include/gfuse.h). One tally of
 * predicted against true classes serves accuracy and the confusion matrix, one ranking serves
 * AUROC and average precision; probabilities are read as float (the model's activations) or
 * double (predictions handed in by a caller) through one accessor. */
#include "core/metrics.h"
#include "core/util.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Probabilities n x k, float or double. */
typedef struct {
    const float *f;
    const double *d;
    int k;
} probs;

static double prob_at(const probs *p, int64_t i, int c)
{
    return p->f ? (double)p->f[i * p->k + c] : p->d[i * p->k + c];
}

/* Row r of the evaluated subset: idx[r], or r itself when idx is NULL. */
static int64_t row_at(const int64_t *idx, int64_t r) { return idx ? idx[r] : r; }

static int32_t argmax_of(const probs *p, int64_t i)
{
    int32_t best = 0;
    for (int c = 1; c < p->k; c++)
        if (prob_at(p, i, c) > prob_at(p, i, best)) best = c;
    return best;
}

int32_t gfuse_i_argmax(const float *p, int k)
{
    probs pr = {p, NULL, k};
    return argmax_of(&pr, 0);
}

/* Counts the labelled samples (total) and those whose arg max is their label (right), and
 * when confusion (k x k) is given, adds each to its (true, predicted) cell. */
static void tally(const int32_t *y, const probs *p, const int64_t *idx, int64_t n,
                  int64_t *confusion, int64_t *right, int64_t *total)
{
    *right = *total = 0;
    for (int64_t r = 0; r < n; r++) {
        int64_t i = row_at(idx, r);
        if (y[i] < 0) continue;
        int32_t pred = argmax_of(p, i);
        (*total)++;
        *right += pred == y[i];
        if (confusion) confusion[(int64_t)y[i] * p->k + pred]++;
    }
}

double gfuse_i_accuracy(const int32_t *y, const float *prob, const int64_t *idx, int64_t n,
                        int k)
{
    probs p = {prob, NULL, k};
    int64_t right, total;
    tally(y, &p, idx, n, NULL, &right, &total);
    return total ? (double)right / (double)total : NAN;
}

/* ---- ranking metrics of one class against the rest ----------------------------------------- */

typedef struct {
    double score;
    int64_t at; /* position among the labelled samples: the tie-break that makes sorting stable */
    uint8_t positive;
} scored;

/* Descending score (NaN last), then ascending position. */
static int by_score_desc(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    int xn = isnan(x->score), yn = isnan(y->score);
    if (xn != yn) return xn - yn;
    if (!xn && x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->at > y->at) - (x->at < y->at);
}

/* AUROC (the area under the ROC curve, ties counted half: the Mann-Whitney statistic, which is
 * scikit-learn's trapezoid over the distinct thresholds) and average precision (sum over the
 * distinct thresholds, highest first, of the recall gained times the precision there) of the
 * n scores s, sorted in place. NaN when the positives or the negatives are missing (average
 * precision only needs positives). */
static void rank_metrics(scored *s, int64_t n, double *auroc, double *ap)
{
    qsort(s, (size_t)n, sizeof *s, by_score_desc);
    int64_t pos = 0;
    for (int64_t r = 0; r < n; r++) pos += s[r].positive;
    int64_t neg = n - pos;
    double area = 0, prec_sum = 0;
    int64_t tp = 0, fp = 0;
    for (int64_t r = 0; r < n;) {
        int64_t end = r, tp_tie = 0, fp_tie = 0;
        while (end < n && s[end].score == s[r].score) {
            tp_tie += s[end].positive;
            fp_tie += !s[end].positive;
            end++;
        }
        /* negatives above this group beat its positives; the group's own pairs count half */
        area += (double)tp_tie * ((double)fp + 0.5 * (double)fp_tie);
        tp += tp_tie;
        fp += fp_tie;
        if (tp_tie) prec_sum += (double)tp_tie * ((double)tp / (double)(tp + fp));
        r = end;
    }
    /* area counted negatives ranked above positives */
    *auroc = pos && neg ? 1.0 - area / ((double)pos * (double)neg) : NAN;
    *ap = pos ? prec_sum / (double)pos : NAN;
}

/* ---- everything ---------------------------------------------------------------------------- */

static gfuse_status class_metrics(const int32_t *y, const probs *p, const int64_t *idx,
                                  int64_t n, gfuse_class_metrics *out)
{
    int k = p->k;
    memset(out, 0, sizeof *out);
    out->n_classes = k;
    out->confusion = gfuse_i_zalloc((size_t)k * (size_t)k, sizeof *out->confusion);
    if (!out->confusion) return gfuse_i_nomem("the confusion matrix");
    int64_t right, total;
    tally(y, p, idx, n, out->confusion, &right, &total);
    out->n = total;
    if (total == 0) {
        out->accuracy = out->balanced_accuracy = out->f1 = out->f1_macro = out->f1_weighted =
            out->auroc = out->auprc = out->brier = out->log_loss = NAN;
        return GFUSE_OK;
    }
    out->accuracy = (double)right / (double)total;

    /* recall and F1 per class from the confusion matrix: classes present in the labels count
     * for balanced accuracy; classes present in the labels or the predictions for macro F1
     * (scikit-learn's unique_labels), weighted by their support for weighted F1 */
    double recall_sum = 0, f1_sum = 0, f1_weighted = 0;
    int n_true = 0, n_seen = 0;
    for (int c = 0; c < k; c++) {
        int64_t tp = out->confusion[(int64_t)c * k + c], support = 0, predicted = 0;
        for (int j = 0; j < k; j++) {
            support += out->confusion[(int64_t)c * k + j];
            predicted += out->confusion[(int64_t)j * k + c];
        }
        double f1 = support + predicted ? 2.0 * (double)tp / (double)(support + predicted) : 0.0;
        if (support) {
            recall_sum += (double)tp / (double)support;
            n_true++;
            f1_weighted += f1 * (double)support;
        }
        if (support || predicted) {
            f1_sum += f1;
            n_seen++;
        }
        if (c == 1 && k == 2) out->f1 = f1;
    }
    out->balanced_accuracy = recall_sum / n_true;
    out->f1_macro = f1_sum / n_seen;
    out->f1_weighted = f1_weighted / (double)total;
    if (k != 2) out->f1 = out->f1_macro;

    /* Brier score and log-loss (probabilities clipped to [eps, 1 - eps] with eps the double
     * machine epsilon and each row renormalised, as scikit-learn 1.2 does) */
    double brier = 0, loss = 0;
    for (int64_t r = 0; r < n; r++) {
        int64_t i = row_at(idx, r);
        if (y[i] < 0) continue;
        if (k == 2) {
            double e = prob_at(p, i, 1) - (y[i] == 1);
            brier += e * e;
        } else {
            for (int c = 0; c < k; c++) {
                double e = prob_at(p, i, c) - (y[i] == c);
                brier += e * e;
            }
        }
        double sum = 0, own = 0;
        for (int c = 0; c < k; c++) {
            double v = fmin(fmax(prob_at(p, i, c), DBL_EPSILON), 1.0 - DBL_EPSILON);
            sum += v;
            if (c == y[i]) own = v;
        }
        loss -= log(own / sum);
    }
    out->brier = brier / (double)total;
    out->log_loss = loss / (double)total;

    /* AUROC and average precision: class 1 for two classes, one-vs-rest macro otherwise */
    scored *s = gfuse_i_alloc((size_t)total, sizeof *s);
    if (!s) {
        gfuse_class_metrics_free(out);
        return gfuse_i_nomem("the ranking of the predictions");
    }
    double auroc_sum = 0, ap_sum = 0;
    int c_first = k == 2 ? 1 : 0;
    for (int c = c_first; c < k; c++) {
        int64_t m = 0;
        for (int64_t r = 0; r < n; r++) {
            int64_t i = row_at(idx, r);
            if (y[i] < 0) continue;
            s[m] = (scored){prob_at(p, i, c), m, (uint8_t)(y[i] == c)};
            m++;
        }
        double auroc = NAN, ap = NAN;
        int any_nan = 0;
        for (int64_t r = 0; r < m; r++) any_nan |= isnan(s[r].score);
        if (!any_nan) rank_metrics(s, m, &auroc, &ap);
        auroc_sum += auroc;
        ap_sum += ap;
    }
    free(s);
    out->auroc = auroc_sum / (k - c_first);
    out->auprc = ap_sum / (k - c_first);
    return GFUSE_OK;
}

gfuse_status gfuse_class_metrics_compute(const int32_t *label, const double *prob, int64_t n,
                                         int n_classes, gfuse_class_metrics *out)
{
    if (out) memset(out, 0, sizeof *out);
    GFUSE_CHECK_ARG(out, "out must not be NULL");
    GFUSE_CHECK_ARG(n >= 0, "n must not be negative, got %lld", (long long)n);
    GFUSE_CHECK_ARG(n_classes >= 2, "n_classes must be at least 2, got %d", n_classes);
    GFUSE_CHECK_ARG(n == 0 || (label && prob), "label and prob must not be NULL");
    for (int64_t i = 0; i < n; i++)
        GFUSE_CHECK_ARG(label[i] < n_classes, "label[%lld] is %d, not below %d classes",
                        (long long)i, (int)label[i], n_classes);
    probs p = {NULL, prob, n_classes};
    return class_metrics(label, &p, NULL, n, out);
}

void gfuse_class_metrics_free(gfuse_class_metrics *m)
{
    if (!m) return;
    free(m->confusion);
    m->confusion = NULL;
}

gfuse_status gfuse_regress_metrics_compute(const double *target, const double *value, int64_t n,
                                           gfuse_regress_metrics *out)
{
    if (out) memset(out, 0, sizeof *out);
    GFUSE_CHECK_ARG(out, "out must not be NULL");
    GFUSE_CHECK_ARG(n >= 0, "n must not be negative, got %lld", (long long)n);
    GFUSE_CHECK_ARG(n == 0 || (target && value), "target and value must not be NULL");
    double sum = 0;
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (!isnan(target[i])) {
            sum += target[i];
            m++;
        }
    out->n = m;
    if (m == 0) {
        out->rmse = out->mae = out->r2 = NAN;
        return GFUSE_OK;
    }
    double mean = sum / (double)m, sse = 0, sst = 0, sae = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(target[i])) continue;
        double e = value[i] - target[i], d = target[i] - mean;
        sse += e * e;
        sae += fabs(e);
        sst += d * d;
    }
    out->rmse = sqrt(sse / (double)m);
    out->mae = sae / (double)m;
    /* scikit-learn's r2_score: undefined for one sample; 1 for a perfect fit of constant
     * targets, 0 for an imperfect one */
    out->r2 = m < 2 ? NAN : sst > 0 ? 1.0 - sse / sst : (sse == 0 ? 1.0 : 0.0);
    return GFUSE_OK;
}
