/*
 * view.h: the neutral data view the graph builder and the model read: samples x modalities,
 * per modality a matrix of raw values and its feature count, one presence array, optional ids.
 * A cohort (cohort.h: gfuse_i_cohort_view) and a model's sample set (model.h:
 * gfuse_i_samples_view) both produce one, borrowing their value matrices.
 *
 * Presence layout (the one the view, the model and the kNN preparation use): modality-major,
 *   has[m * n + i] = 1 when sample i has modality m,
 * which is the graph's node id of (sample i, modality m) (graph.h), so a graph's observed flags
 * are a view's presence as they stand, and the per-modality loops (standardisation, the dense
 * encoders, the kNN candidate lists) scan one contiguous block.
 *
 * Rows: x[m] holds the rows of modality m (d[m] floats each, NaN = missing cell); row[m][i] is
 * sample i's row of x[m] when row is given, else row i of x[m] is sample i (n x d[m]). Only the
 * rows of present samples are read.
 */
#ifndef GFUSE_VIEW_H
#define GFUSE_VIEW_H

#include <stdint.h>

typedef struct {
    int64_t n;                 /* samples */
    int M;                     /* modalities */
    const int64_t *d;          /* M feature counts */
    const float *const *x;     /* M value matrices, borrowed */
    const int64_t *const *row; /* M sample -> row maps, or NULL: row i is sample i */
    const uint8_t *has;        /* M x n presence, index m * n + i */
    const char *const *id;     /* n sample ids, or NULL */
    void *owned;               /* what the producer allocated for the arrays above, or NULL */
} gfuse_i_view;

/* The row of sample i on modality m. */
static inline const float *gfuse_i_view_row(const gfuse_i_view *v, int m, int64_t i)
{
    int64_t r = v->row ? v->row[m][i] : i;
    return v->x[m] + r * v->d[m];
}

/* Frees what the producer allocated (owned) and clears the view. */
void gfuse_i_view_release(gfuse_i_view *v);

/* The standardiser: mean and population sd of each of the d[m] features of modality m over the
 * samples that have m and (sel NULL or sel[i] = 1), NaN cells skipped. Each feature sums its
 * values in double in ascending sample order, first the values (mean = sum / count), then the
 * squared deviations from that mean (sd = sqrt(sum / count)); a feature with no value gets
 * mean 0, sd 0. Returns 0, or -1 when out of memory. */
int gfuse_i_view_stats(const gfuse_i_view *v, int m, const uint8_t *sel, double *mean,
                       double *sd);

#endif
