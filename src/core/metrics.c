/* metrics.c: accuracy, F1, AUROC, log-loss, RMSE and the confusion matrix (see metrics.h). */
#include "core/metrics.h"

#include <math.h>
#include <stdlib.h>

/* Row r of the evaluated subset: idx[r], or r itself when idx is NULL. */
static int64_t row_at(const int64_t *idx, int64_t r) { return idx ? idx[r] : r; }

void gfuse_i_argmax_rows(int32_t *pred, const float *prob, int64_t n, int k)
{
    for (int64_t i = 0; i < n; i++) {
        const float *p = prob + i * k;
        int best = 0;
        for (int c = 1; c < k; c++)
            if (p[c] > p[best]) best = c;
        pred[i] = best;
    }
}

double gfuse_i_accuracy(const int32_t *y, const int32_t *pred, const int64_t *idx, int64_t n)
{
    int64_t right = 0, total = 0;
    for (int64_t r = 0; r < n; r++) {
        int64_t i = row_at(idx, r);
        if (y[i] < 0) continue;
        total++;
        right += pred[i] == y[i];
    }
    return total ? (double)right / (double)total : NAN;
}

void gfuse_i_confusion(int64_t *counts, int k, const int32_t *y, const int32_t *pred,
                       const int64_t *idx, int64_t n)
{
    for (int64_t c = 0; c < (int64_t)k * k; c++) counts[c] = 0;
    for (int64_t r = 0; r < n; r++) {
        int64_t i = row_at(idx, r);
        if (y[i] < 0 || y[i] >= k || pred[i] < 0 || pred[i] >= k) continue;
        counts[(int64_t)y[i] * k + pred[i]]++;
    }
}

/* F1 of class c: 2 tp / (2 tp + fp + fn), 0 when the class is neither true nor predicted. */
static double f1_of_class(const int32_t *y, const int32_t *pred, const int64_t *idx, int64_t n,
                          int c)
{
    int64_t tp = 0, fp = 0, fn = 0;
    for (int64_t r = 0; r < n; r++) {
        int64_t i = row_at(idx, r);
        if (y[i] < 0) continue;
        if (y[i] == c && pred[i] == c) tp++;
        else if (pred[i] == c) fp++;
        else if (y[i] == c) fn++;
    }
    int64_t denom = 2 * tp + fp + fn;
    return denom ? 2.0 * (double)tp / (double)denom : 0.0;
}

double gfuse_i_f1(const int32_t *y, const int32_t *pred, const int64_t *idx, int64_t n, int k)
{
    int64_t labelled = 0;
    for (int64_t r = 0; r < n; r++) labelled += y[row_at(idx, r)] >= 0;
    if (labelled == 0 || k < 2) return NAN;
    if (k == 2) return f1_of_class(y, pred, idx, n, 1);
    double sum = 0;
    for (int c = 0; c < k; c++) sum += f1_of_class(y, pred, idx, n, c);
    return sum / k;
}

/* ---- AUROC ------------------------------------------------------------------------------- */

typedef struct {
    float score;
    uint8_t pos;
} scored;

static int by_score(const void *a, const void *b)
{
    float x = ((const scored *)a)->score, y = ((const scored *)b)->score;
    return (x > y) - (x < y);
}

/* The Mann-Whitney AUROC of m scored items (sorted in place): the positives' rank sum with
 * tied scores sharing their average rank. NAN when either group is empty. */
static double mann_whitney(scored *items, int64_t m)
{
    qsort(items, (size_t)m, sizeof *items, by_score);
    double rank_sum = 0;
    int64_t n_pos = 0;
    for (int64_t a = 0; a < m;) {
        int64_t b = a;
        int64_t pos_in_tie = 0;
        while (b < m && items[b].score == items[a].score) pos_in_tie += items[b++].pos != 0;
        /* ranks a+1 .. b share their mean (a + 1 + b) / 2 */
        rank_sum += (double)pos_in_tie * (double)(a + 1 + b) / 2.0;
        n_pos += pos_in_tie;
        a = b;
    }
    int64_t n_neg = m - n_pos;
    if (n_pos == 0 || n_neg == 0) return NAN;
    double u = rank_sum - (double)n_pos * (double)(n_pos + 1) / 2.0;
    return u / ((double)n_pos * (double)n_neg);
}

double gfuse_i_auroc_binary(const float *score, const uint8_t *pos, const int64_t *idx, int64_t n)
{
    scored *items = malloc((size_t)(n > 0 ? n : 1) * sizeof *items);
    if (!items) return NAN;
    int64_t m = 0;
    for (int64_t r = 0; r < n; r++) {
        int64_t i = row_at(idx, r);
        if (isnan(score[i])) continue;
        items[m].score = score[i];
        items[m++].pos = pos[i] != 0;
    }
    double auc = mann_whitney(items, m);
    free(items);
    return auc;
}

double gfuse_i_auroc(const int32_t *y, const float *prob, const int64_t *idx, int64_t n, int k)
{
    if (k < 2) return NAN;
    scored *items = malloc((size_t)(n > 0 ? n : 1) * sizeof *items);
    if (!items) return NAN;
    double sum = 0;
    /* binary: class 1 against class 0; otherwise every class against the rest */
    int first = k == 2 ? 1 : 0;
    for (int c = first; c < k; c++) {
        int64_t m = 0;
        for (int64_t r = 0; r < n; r++) {
            int64_t i = row_at(idx, r);
            if (y[i] < 0 || y[i] >= k) continue;
            items[m].score = prob[i * k + c];
            items[m++].pos = y[i] == c;
        }
        sum += mann_whitney(items, m); /* NAN propagates */
    }
    free(items);
    return sum / (k - first);
}

/* ---- probabilistic and regression errors -------------------------------------------------- */

double gfuse_i_log_loss(const int32_t *y, const float *prob, const int64_t *idx, int64_t n, int k)
{
    double sum = 0;
    int64_t total = 0;
    for (int64_t r = 0; r < n; r++) {
        int64_t i = row_at(idx, r);
        if (y[i] < 0 || y[i] >= k) continue;
        double p = prob[i * k + y[i]];
        sum -= log(p > 1e-15 ? p : 1e-15);
        total++;
    }
    return total ? sum / (double)total : NAN;
}

double gfuse_i_rmse(const double *truth, const double *pred, const int64_t *idx, int64_t n)
{
    double sum = 0;
    int64_t total = 0;
    for (int64_t r = 0; r < n; r++) {
        int64_t i = row_at(idx, r);
        if (isnan(truth[i])) continue;
        double e = pred[i] - truth[i];
        sum += e * e;
        total++;
    }
    return total ? sqrt(sum / (double)total) : NAN;
}
