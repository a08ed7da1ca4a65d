/*
 * metrics.h: evaluation metrics (the public ones are declared in include/gfuse.h:
 * gfuse_class_metrics_compute, gfuse_regress_metrics_compute) and the entry points the model
 * uses on its float activations.
 *
 * Conventions: n samples; classification labels y[i] in [0, K) or negative for "no label"
 * (skipped by every metric); probabilities prob are n x K row-major. Samples may be restricted
 * to a subset with idx (n_idx indices into 0..n-1); idx == NULL means all n samples.
 * A metric that is undefined on the given data (no labelled sample) is NAN; callers
 * decide what that means.
 */
#ifndef GFUSE_METRICS_H
#define GFUSE_METRICS_H

#include "core/internal.h"

/* The predicted class of one row p (k): its first arg max. */
int32_t gfuse_i_argmax(const float *p, int k);

/* Share of labelled samples whose predicted class (the arg max of their row of prob, n x k)
 * equals the label: the accuracy of gfuse_class_metrics, without allocating. */
double gfuse_i_accuracy(const int32_t *y, const float *prob, const int64_t *idx, int64_t n,
                        int k);

#endif
