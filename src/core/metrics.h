/*
 * metrics.h: evaluation metrics for classification and regression: accuracy, macro F1,
 * AUROC (binary and one-vs-rest macro), log-loss, RMSE and the confusion matrix.
 *
 * Conventions: n samples; classification labels y[i] in [0, K) or negative for "no label"
 * (skipped by every metric); probabilities prob are n x K row-major. Samples may be restricted
 * to a subset with idx (n_idx indices into 0..n-1); idx == NULL means all n samples.
 * A metric that is undefined on the given data (no labelled sample, AUROC with one class
 * absent) returns NAN; callers decide what that means.
 */
#ifndef GFUSE_METRICS_H
#define GFUSE_METRICS_H

#include "core/internal.h"

/* The predicted class of each row: the first arg max of prob (n x K). */
void gfuse_i_argmax_rows(int32_t *pred, const float *prob, int64_t n, int k);

/* Share of labelled samples whose predicted class equals the label. */
double gfuse_i_accuracy(const int32_t *y, const int32_t *pred, const int64_t *idx, int64_t n);

/* counts[t * k + p] += number of labelled samples of true class t predicted as p. counts has
 * k * k entries and is zeroed first. */
void gfuse_i_confusion(int64_t *counts, int k, const int32_t *y, const int32_t *pred,
                       const int64_t *idx, int64_t n);

/* F1 score: for k == 2 the binary F1 of class 1 (the positive class); for k > 2 the
 * unweighted mean of the per-class F1 scores (a class with no true and no predicted sample has
 * F1 0, as scikit-learn's f1_score(average="macro", zero_division=0) counts it). */
double gfuse_i_f1(const int32_t *y, const int32_t *pred, const int64_t *idx, int64_t n, int k);

/* Area under the ROC curve of scores s for the positives (pos[i] != 0) against the negatives,
 * by the Mann-Whitney rank statistic with tied scores given their average rank (the same
 * value as the trapezoidal ROC area). Samples with a NaN score are left out. NAN when either
 * group is empty. */
double gfuse_i_auroc_binary(const float *score, const uint8_t *pos, const int64_t *idx, int64_t n);

/* AUROC of a classifier: k == 2: binary AUROC of prob[:, 1] for class 1; k > 2: one-vs-rest
 * macro average over classes (scikit-learn's roc_auc_score(multi_class="ovr",
 * average="macro")). NAN if a class has no labelled sample or all labelled samples are of
 * one class. */
double gfuse_i_auroc(const int32_t *y, const float *prob, const int64_t *idx, int64_t n, int k);

/* Mean negative log-likelihood of the true class, -log(max(prob[i, y[i]], 1e-15)), over the
 * labelled samples. */
double gfuse_i_log_loss(const int32_t *y, const float *prob, const int64_t *idx, int64_t n, int k);

/* Root mean squared error over the samples whose truth is not NaN. */
double gfuse_i_rmse(const double *truth, const double *pred, const int64_t *idx, int64_t n);

#endif
