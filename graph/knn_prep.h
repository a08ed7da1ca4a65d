/*
 * knn_prep.h: the per-modality data the kNN kernel and its reference share: standardisation
 * statistics, the rows each modality has, and the similarity of one pair in double precision.
 *
 * Similarity of samples i and j on modality s (both present), with z = (x - mean) / sd per
 * feature rounded to float32 (mean 0, sd 1 when standardisation is off; a missing cell gives
 * z = 0; a constant feature gives z = 0), products and sums accumulated in double in
 * GFUSE_I_SIM_LANES lanes: lane l sums the terms of features l, l + 8, l + 16, ... in feature
 * order, and the lanes are added as ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)), so the
 * vector kernels (variant.c) give the same bits as the plain loop (a product of two floats is
 * exact in double, so a fused multiply-add changes nothing in the cosine sums):
 *   cosine:    z_i . z_j / (|z_i| |z_j|), and 0 when either vector is zero;
 *   euclidean: 1 / (1 + |z_i - z_j|^2 / d), i.e. 1 / (1 + mean squared difference).
 * The similarity for a missing node (i,m) to an observed (j,m) is the mean of the pair
 * similarities over the modalities both i and j have.
 */
#ifndef GFUSE_KNN_PREP_H
#define GFUSE_KNN_PREP_H

#include "core/view.h"
#include "graph/graph.h"

typedef struct {
    int64_t d;
    double *mean;         /* d */
    double *inv_sd;       /* d */
    int64_t n_present;    /* samples that have the modality */
    int64_t *present;     /* n_present sample indices, ascending */
    int64_t n_cand;       /* present samples allowed to send */
    int64_t *cand;        /* n_cand sample indices, ascending */
    float *z;             /* n_present x d: the z rows of the present samples, in order */
    int64_t *zrow;        /* per sample (N): its row of z, or -1 when absent */
    double *norm;         /* per sample (N): |z| in double, 0 when absent */
} gfuse_i_knn_mod;

typedef struct {
    int64_t n;
    int n_mod;
    int k;
    gfuse_metric metric;
    gfuse_i_knn_mod *mod;
    const uint8_t *has;   /* M x N: has[s * N + i] = sample i has modality s (the view's) */
} gfuse_i_knn_prep;

/* The prep of view v: sender (NULL = every sample) marks the candidates, and the statistics
 * are taken over them. v's rows are read while p is made (the similarities read only p's z
 * rows); v's presence is borrowed by p->has and must outlive p. */
gfuse_status gfuse_i_knn_prep_init(gfuse_i_knn_prep *p, const gfuse_i_view *v,
                                   const gfuse_graph_options *o, const uint8_t *sender);
void gfuse_i_knn_prep_free(gfuse_i_knn_prep *p);

/* The standardised value of one cell, rounded to float. */
static inline float gfuse_i_knn_z(const gfuse_i_knn_mod *md, float x, int64_t f)
{
    if (x != x) return 0.0f;
    return (float)(((double)x - md->mean[f]) * md->inv_sd[f]);
}

/* The z row of sample i (present) on a modality. */
static inline const float *gfuse_i_knn_zrow(const gfuse_i_knn_mod *md, int64_t i)
{
    return md->z + md->zrow[i] * md->d;
}

/* Lanes of the pair-similarity sums (above). */
#define GFUSE_I_SIM_LANES 8

/* The similarity of samples i and j (both present) on modality s, in double: the plain loop
 * that defines it. */
double gfuse_i_knn_pair_sim(const gfuse_i_knn_prep *p, int s, int64_t i, int64_t j);
/* The similarity that ranks candidate j for node (i, m): the pair similarity on m when i has
 * m, else the mean over shared modalities. *shared receives the number of modalities the
 * similarity was measured on (0: j is no candidate). */
double gfuse_i_knn_node_sim(const gfuse_i_knn_prep *p, int m, int64_t i, int64_t j, int *shared);
/* Sorts n (similarity, sample) pairs best first: similarity descending, then sample ascending. */
void gfuse_i_knn_sort(double *sim, int64_t *idx, int64_t n);
/* Allocates the result arrays for p's shape, counts zeroed. */
gfuse_status gfuse_i_knn_alloc(gfuse_i_knn *out, const gfuse_i_knn_prep *p);

/* Inserts (s, j) into the sorted top list (best first) of length *len <= k. Candidates arrive
 * in ascending j, so an equal similarity never displaces an earlier (smaller) index. */
static inline void gfuse_i_top_insert(double *top_sim, int64_t *top_idx, int *len, int k,
                                      double s, int64_t j)
{
    int n = *len;
    if (n == k && !(s > top_sim[k - 1])) return;
    int b = n < k ? n : k - 1;
    while (b > 0 && top_sim[b - 1] < s) {
        top_sim[b] = top_sim[b - 1];
        top_idx[b] = top_idx[b - 1];
        b--;
    }
    top_sim[b] = s;
    top_idx[b] = j;
    if (n < k) *len = n + 1;
}

#endif
