/*
 * knn.c: exact k nearest neighbours per modality, the cost of graph construction that grows
 * fastest with the cohort (O(M N^2 d)).
 *
 * Per modality the standardised rows are packed into float matrices: Z (every present row)
 * and C (the rows allowed to send, i.e. candidates). Similarities are computed tile by tile,
 * S = Z[query block] . C[candidate block]^T with BLAS sgemm, so memory is bounded by the tile
 * (QUERY_BLOCK x CAND_BLOCK floats per thread), never N x N. Each query row keeps a small
 * min-heap of its best k + KEEP_EXTRA candidates; candidates arrive in ascending sample order,
 * so a tie never displaces an earlier (smaller) index. The kept candidates that float rounding
 * could place among the best k (a rigorous error bound decides) are then rescored in double
 * precision (the same formula as the serial reference, knn_ref.c) and the best k taken, so
 * rounding cannot reorder near-ties and the result equals the reference; when the bound cannot
 * rule out a candidate the heap left out, the node is scanned exactly.
 *
 * Missing nodes (i,m) rank candidates j by the mean similarity over the modalities both have:
 * for a block of such samples and a range of candidate samples, per-modality tiles are summed
 * into a (block x range) sum and count, then each missing node offers the range's candidates of
 * its modality with count > 0 to its heap; memory stays bounded by the tile here too.
 *
 * When every present row is a candidate (no sender restriction) the similarity matrix is
 * symmetric and each pair of blocks is multiplied once, its tile feeding both blocks' heaps
 * (knn_observed_symmetric): half the arithmetic.
 *
 * Threads split the query blocks or block pairs (each writes only its own nodes' heaps and
 * lists); tile shapes do not depend on the thread count, BLAS runs single-threaded inside, and
 * a heap keeps the best entries under a strict order whatever the order of the offers, so
 * results are identical for any number of threads.
 */
#include "graph/knn_prep.h"
#include "core/util.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define QUERY_BLOCK 512   /* query rows per tile */
#define CAND_BLOCK 512    /* candidate rows per tile */
#define MISSING_BLOCK 128 /* samples per block when linking missing nodes */
#define SAMPLE_RANGE 1024 /* candidate samples per tile when linking missing nodes */
#define KEEP_EXTRA 16     /* candidates kept beyond k, so that rescanning is rare */
#define SCAN_CHUNK 16     /* keys tested against the heap threshold at once */

typedef struct {
    float key;
    int64_t j;
} heap_entry;

/* The root holds the worst entry: lowest key, then highest index. */
static inline int heap_worse(const heap_entry *a, const heap_entry *b)
{
    return a->key < b->key || (a->key == b->key && a->j > b->j);
}

static void heap_sift_down(heap_entry *h, int len, int at)
{
    for (;;) {
        int l = 2 * at + 1, r = l + 1, w = at;
        if (l < len && heap_worse(&h[l], &h[w])) w = l;
        if (r < len && heap_worse(&h[r], &h[w])) w = r;
        if (w == at) return;
        heap_entry t = h[at];
        h[at] = h[w];
        h[w] = t;
        at = w;
    }
}

/* Offers (key, j). The heap keeps the best cap entries under the strict order (key
 * descending, j ascending), whatever the order of the offers. */
static inline void heap_offer(heap_entry *h, int *len, int cap, float key, int64_t j)
{
    if (*len == cap) {
        if (!(key > h[0].key || (key == h[0].key && j < h[0].j))) return;
        h[0].key = key;
        h[0].j = j;
        heap_sift_down(h, cap, 0);
        return;
    }
    int at = (*len)++;
    h[at].key = key;
    h[at].j = j;
    while (at > 0) {
        int up = (at - 1) / 2;
        if (!heap_worse(&h[at], &h[up])) break;
        heap_entry t = h[at];
        h[at] = h[up];
        h[up] = t;
        at = up;
    }
}

/* The float side of one modality: C (candidate rows; aliases the prep's z when every present
 * row is a candidate), per-row norms, and the ranking key of a tile entry S = z_i . z_j as
 * key = S * key_mul[j] - key_sub[j]: cosine S / |z_j| (|z_i| is constant along a query row),
 * euclidean 2 S - |z_j|^2 = |z_i|^2 - |z_i - z_j|^2 (likewise). */
typedef struct {
    int64_t d;
    float *cmat;
    int cmat_owned;
    float *z_inv;    /* per present row: 1/|z| (0 for a zero row) */
    float *z_sq;     /* per present row: |z|^2 */
    float *c_inv;    /* per candidate row */
    float *c_sq;
    float *key_mul;  /* per candidate row */
    float *key_sub;
    double c_max;    /* largest candidate norm */
    int64_t *range_lo; /* per block of SAMPLE_RANGE samples: its first candidate row (+ end) */
} float_mod;

/* Per-thread scratch. */
typedef struct {
    float *tile;       /* max(QUERY_BLOCK x CAND_BLOCK, MISSING_BLOCK x SAMPLE_RANGE) */
    float *tile_t;     /* QUERY_BLOCK x QUERY_BLOCK: a transposed tile */
    heap_entry *heap;  /* max(QUERY_BLOCK, MISSING_BLOCK x M) heaps of cap entries */
    int *len;          /* as many heap lengths */
    double *rs_sim;    /* cap */
    int64_t *rs_idx;   /* cap */
    float *keys;       /* cap */
    float *qz;         /* MISSING_BLOCK x sum of d: the block's rows, modality by modality */
    int64_t *qrow;     /* M x MISSING_BLOCK: block position of each gathered row */
    int64_t *nq;       /* M: rows gathered per modality */
    float *q_inv;      /* M x MISSING_BLOCK: 1/|z| of each gathered row */
    float *q_sq;       /* M x MISSING_BLOCK: |z|^2 of each gathered row */
    float *acc;        /* MISSING_BLOCK x SAMPLE_RANGE */
    uint16_t *acc_n;   /* MISSING_BLOCK x SAMPLE_RANGE */
} scratch;

static void float_mod_free(float_mod *f)
{
    if (f->cmat_owned) free(f->cmat);
    free(f->z_inv);
    free(f->z_sq);
    free(f->c_inv);
    free(f->c_sq);
    free(f->key_mul);
    free(f->key_sub);
    free(f->range_lo);
    memset(f, 0, sizeof *f);
}

static int float_mod_init(float_mod *f, const gfuse_i_knn_mod *md, int64_t n, gfuse_metric metric)
{
    memset(f, 0, sizeof *f);
    int64_t d = md->d, np = md->n_present, nc = md->n_cand;
    int64_t n_ranges = (n + SAMPLE_RANGE - 1) / SAMPLE_RANGE;
    f->d = d;
    f->z_inv = gfuse_i_alloc(np, sizeof *f->z_inv);
    f->z_sq = gfuse_i_alloc(np, sizeof *f->z_sq);
    f->c_inv = gfuse_i_alloc(nc, sizeof *f->c_inv);
    f->c_sq = gfuse_i_alloc(nc, sizeof *f->c_sq);
    f->key_mul = gfuse_i_alloc(nc, sizeof *f->key_mul);
    f->key_sub = gfuse_i_alloc(nc, sizeof *f->key_sub);
    f->range_lo = gfuse_i_alloc(n_ranges + 1, sizeof *f->range_lo);
    if (!f->z_inv || !f->z_sq || !f->c_inv || !f->c_sq || !f->key_mul || !f->key_sub ||
        !f->range_lo)
        return -1;
    for (int64_t t = 0; t < np; t++) {
        double nrm = md->norm[md->present[t]];
        f->z_inv[t] = nrm > 0.0 ? (float)(1.0 / nrm) : 0.0f;
        f->z_sq[t] = (float)(nrm * nrm);
    }
    if (nc == np) {
        f->cmat = md->z;
    } else {
        f->cmat = gfuse_i_alloc(nc * d, sizeof *f->cmat);
        if (!f->cmat) return -1;
        f->cmat_owned = 1;
        for (int64_t t = 0; t < nc; t++)
            memcpy(f->cmat + t * d, gfuse_i_knn_zrow(md, md->cand[t]), (size_t)d * sizeof *f->cmat);
    }
    for (int64_t t = 0; t < nc; t++) {
        int64_t r = md->zrow[md->cand[t]];
        f->c_inv[t] = f->z_inv[r];
        f->c_sq[t] = f->z_sq[r];
        f->key_mul[t] = metric == GFUSE_METRIC_COSINE ? f->c_inv[t] : 2.0f;
        f->key_sub[t] = metric == GFUSE_METRIC_COSINE ? 0.0f : f->c_sq[t];
        if (md->norm[md->cand[t]] > f->c_max) f->c_max = md->norm[md->cand[t]];
    }
    for (int64_t b = 0, t = 0; b <= n_ranges; b++) {
        while (t < nc && md->cand[t] < b * SAMPLE_RANGE) t++;
        f->range_lo[b] = t;
    }
    return 0;
}

/* S (nq x nc, row-major) = A (nq x d) . B (nc x d)^T */
static void tile_product(float *s, const float *a, int64_t nq, const float *b, int64_t nc,
                         int64_t d)
{
    if (d == 0) {
        memset(s, 0, (size_t)(nq * nc) * sizeof *s);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nq, (int)nc, (int)d, 1.0f, a,
                (int)d, b, (int)d, 0.0f, s, (int)nc);
}

/* Offers one tile row to a query's heap. Keys are computed SCAN_CHUNK at a time and a chunk
 * none of whose keys reaches the heap's worst is skipped (the common case once the heap is
 * full): that test vectorises. self is the query's own sample, never its neighbour (-1: none
 * in this tile). */
static void scan_row(heap_entry *h, int *len_io, int cap, const float *srow, const float *mul,
                     const float *sub, const int64_t *cj, int64_t ncb, int64_t self)
{
    int len = *len_io;
    int64_t c0 = 0;
    float kb[SCAN_CHUNK];
    for (; c0 + SCAN_CHUNK <= ncb; c0 += SCAN_CHUNK) {
        for (int t = 0; t < SCAN_CHUNK; t++) kb[t] = srow[c0 + t] * mul[c0 + t] - sub[c0 + t];
        if (len == cap) {
            float thr = h[0].key;
            int any = 0;
            for (int t = 0; t < SCAN_CHUNK; t++) any |= kb[t] >= thr;
            if (!any) continue;
        }
        for (int t = 0; t < SCAN_CHUNK; t++) {
            if (len == cap && kb[t] < h[0].key) continue;
            if (cj[c0 + t] == self) continue;
            heap_offer(h, &len, cap, kb[t], cj[c0 + t]);
        }
    }
    for (; c0 < ncb; c0++) {
        float key = srow[c0] * mul[c0] - sub[c0];
        if (len == cap && key < h[0].key) continue;
        if (cj[c0] == self) continue;
        heap_offer(h, &len, cap, key, cj[c0]);
    }
    *len_io = len;
}

/* The exact scan of one node: every candidate scored in double (as the serial reference). */
static void exact_node(gfuse_i_knn *out, const gfuse_i_knn_prep *p, int m, int64_t i,
                       scratch *w)
{
    const gfuse_i_knn_mod *md = &p->mod[m];
    int k = p->k, len = 0;
    for (int64_t t = 0; t < md->n_cand; t++) {
        int64_t j = md->cand[t];
        if (j == i) continue;
        int shared;
        double s = gfuse_i_knn_node_sim(p, m, i, j, &shared);
        if (shared == 0 || (len == k && !(s > w->rs_sim[k - 1]))) continue;
        int b = len < k ? len : k - 1;
        while (b > 0 && w->rs_sim[b - 1] < s) {
            w->rs_sim[b] = w->rs_sim[b - 1];
            w->rs_idx[b] = w->rs_idx[b - 1];
            b--;
        }
        w->rs_sim[b] = s;
        w->rs_idx[b] = j;
        if (len < k) len++;
    }
    int64_t v = (int64_t)m * p->n + i;
    out->count[v] = len;
    for (int t = 0; t < len; t++) {
        out->nbr[v * k + t] = w->rs_idx[t];
        out->sim[v * k + t] = (float)w->rs_sim[t];
    }
}

/* Finishes node (i, m) from its heap of float keys (len entries of cap). eps bounds the error
 * of a float key against its double value. Let F be the k-th best key. A candidate whose key
 * is below F - 2 eps is strictly worse than k kept ones, so only the keys from F - 2 eps up are
 * rescored in double and sorted. When the heap is full and its worst key is not below
 * F - 2 eps, a candidate left out of the heap could tie with or beat the k-th: the node is then
 * scanned exactly (rare, with cap well above k). */
static void finish_node(gfuse_i_knn *out, const gfuse_i_knn_prep *p, int m, int64_t i,
                        const heap_entry *h, int len, int cap, float eps, scratch *w)
{
    int k = p->k;
    double floor = -INFINITY;
    if (len > k) {
        /* the k-th largest key (a few dozen keys: insertion sort of a copy) */
        float *keys = w->keys;
        for (int t = 0; t < len; t++) {
            float key = h[t].key;
            int b = t;
            while (b > 0 && keys[b - 1] < key) {
                keys[b] = keys[b - 1];
                b--;
            }
            keys[b] = key;
        }
        floor = (double)keys[k - 1] - 2.0 * (double)eps;
        if (len == cap && !((double)h[0].key < floor)) {
            exact_node(out, p, m, i, w);
            return;
        }
    }
    int n_rs = 0;
    for (int t = 0; t < len; t++) {
        if ((double)h[t].key < floor) continue;
        int shared;
        w->rs_idx[n_rs] = h[t].j;
        w->rs_sim[n_rs++] = gfuse_i_knn_node_sim(p, m, i, h[t].j, &shared);
    }
    gfuse_i_knn_sort(w->rs_sim, w->rs_idx, n_rs);
    int keep = n_rs < k ? n_rs : k;
    int64_t v = (int64_t)m * p->n + i;
    out->count[v] = keep;
    for (int t = 0; t < keep; t++) {
        out->nbr[v * k + t] = w->rs_idx[t];
        out->sim[v * k + t] = (float)w->rs_sim[t];
    }
}

/* Rounding errors, with u = 2^-24 the unit roundoff of float. A float dot product of length d,
 * summed in any order (with or without FMA), is off by at most gamma_d sum |a_f b_f| <=
 * gamma_d |a| |b|, gamma_d = d u / (1 - d u); (d + 4) u covers it with a margin. */
#define UNIT_ROUNDOFF 0x1p-24
static inline double dot_error(int64_t d) { return (double)(d + 4) * UNIT_ROUNDOFF; }

/* Observed nodes of modality m: neighbours among m's candidates, on m itself. */
static void knn_observed(gfuse_i_knn *out, const gfuse_i_knn_prep *p, int m, const float_mod *f,
                         scratch *ws, int cap)
{
    const gfuse_i_knn_mod *md = &p->mod[m];
    int64_t np = md->n_present, nc = md->n_cand, d = f->d;
    int64_t n_blocks = (np + QUERY_BLOCK - 1) / QUERY_BLOCK;
    int cosine = p->metric == GFUSE_METRIC_COSINE;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t b = 0; b < n_blocks; b++) {
        scratch *w = &ws[omp_get_thread_num()];
        int64_t q0 = b * QUERY_BLOCK;
        int64_t nq = np - q0 < QUERY_BLOCK ? np - q0 : QUERY_BLOCK;
        for (int64_t r = 0; r < nq; r++) w->len[r] = 0;
        for (int64_t c0 = 0; c0 < nc; c0 += CAND_BLOCK) {
            int64_t ncb = nc - c0 < CAND_BLOCK ? nc - c0 : CAND_BLOCK;
            tile_product(w->tile, md->z + q0 * d, nq, f->cmat + c0 * d, ncb, d);
            for (int64_t r = 0; r < nq; r++)
                scan_row(w->heap + r * cap, &w->len[r], cap, w->tile + r * ncb, f->key_mul + c0,
                         f->key_sub + c0, md->cand + c0, ncb, md->present[q0 + r]);
        }
        for (int64_t r = 0; r < nq; r++) {
            /* cosine: key = S / |z_j| with S off by dot_error |z_i| |z_j|, plus the rounding
             * of 1/|z_j| and of the product. euclidean: key = 2 S - |z_j|^2, 2 S off by
             * 2 dot_error |z_i| |z_j|, plus the rounding of |z_j|^2 and of the difference. */
            double zi = sqrt((double)f->z_sq[q0 + r]), cm = f->c_max;
            double e = cosine ? (dot_error(d) + 4.0 * UNIT_ROUNDOFF) * zi
                              : 2.0 * dot_error(d) * zi * cm +
                                    4.0 * UNIT_ROUNDOFF * (2.0 * zi * cm + cm * cm);
            float eps = (float)(e * 1.01) + 1e-30f;
            finish_node(out, p, m, md->present[q0 + r], w->heap + r * cap, w->len[r], cap, eps,
                        w);
        }
    }
}

/* t (nc x nr) = s (nr x nc)^T, in 32 x 32 blocks so that reads and writes stay in cache. */
static void transpose_tile(float *t, const float *s, int64_t nr, int64_t nc)
{
    for (int64_t r0 = 0; r0 < nr; r0 += 32)
        for (int64_t c0 = 0; c0 < nc; c0 += 32) {
            int64_t r1 = r0 + 32 < nr ? r0 + 32 : nr, c1 = c0 + 32 < nc ? c0 + 32 : nc;
            for (int64_t c = c0; c < c1; c++)
                for (int64_t r = r0; r < r1; r++) t[c * nr + r] = s[r * nc + c];
        }
}

/* Observed nodes of modality m when every present row is a candidate: the similarity matrix
 * is symmetric, so each pair of blocks is multiplied once and the tile feeds the heaps of both
 * blocks (the second through its transpose). Pairs are scheduled in rounds (the circle method
 * of round-robin tournaments) in which no block appears twice, so within a round every thread
 * touches only the heaps of its own two blocks: no atomics. The heaps keep the best entries
 * under a strict order whatever the order of the offers, so the result does not depend on the
 * schedule. heaps and lens hold one heap per present row. */
static void knn_observed_symmetric(gfuse_i_knn *out, const gfuse_i_knn_prep *p, int m,
                                   const float_mod *f, scratch *ws, int cap, heap_entry *heaps,
                                   int *lens)
{
    const gfuse_i_knn_mod *md = &p->mod[m];
    int64_t np = md->n_present, d = f->d;
    int64_t nb = (np + QUERY_BLOCK - 1) / QUERY_BLOCK;
    int cosine = p->metric == GFUSE_METRIC_COSINE;
    for (int64_t r = 0; r < np; r++) lens[r] = 0;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t b = 0; b < nb; b++) {
        scratch *w = &ws[omp_get_thread_num()];
        int64_t r0 = b * QUERY_BLOCK, nr = np - r0 < QUERY_BLOCK ? np - r0 : QUERY_BLOCK;
        tile_product(w->tile, md->z + r0 * d, nr, f->cmat + r0 * d, nr, d);
        for (int64_t r = 0; r < nr; r++)
            scan_row(heaps + (r0 + r) * cap, &lens[r0 + r], cap, w->tile + r * nr,
                     f->key_mul + r0, f->key_sub + r0, md->cand + r0, nr, md->present[r0 + r]);
    }
    int64_t players = nb + (nb & 1); /* an odd count gets a dummy block, nb, which sits out */
    for (int64_t round = 0; round + 1 < players; round++) {
#pragma omp parallel for schedule(dynamic, 1)
        for (int64_t t = 0; t < players / 2; t++) {
            int64_t a = t == 0 ? players - 1 : (round + t) % (players - 1);
            int64_t b = (round - t + players - 1) % (players - 1);
            if (a >= nb || b >= nb) continue;
            int64_t lo = a < b ? a : b, hi = a < b ? b : a;
            scratch *w = &ws[omp_get_thread_num()];
            int64_t r0 = lo * QUERY_BLOCK, nr = np - r0 < QUERY_BLOCK ? np - r0 : QUERY_BLOCK;
            int64_t c0 = hi * QUERY_BLOCK, nc = np - c0 < QUERY_BLOCK ? np - c0 : QUERY_BLOCK;
            tile_product(w->tile, md->z + r0 * d, nr, f->cmat + c0 * d, nc, d);
            for (int64_t r = 0; r < nr; r++)
                scan_row(heaps + (r0 + r) * cap, &lens[r0 + r], cap, w->tile + r * nc,
                         f->key_mul + c0, f->key_sub + c0, md->cand + c0, nc, -1);
            transpose_tile(w->tile_t, w->tile, nr, nc);
            for (int64_t c = 0; c < nc; c++)
                scan_row(heaps + (c0 + c) * cap, &lens[c0 + c], cap, w->tile_t + c * nr,
                         f->key_mul + r0, f->key_sub + r0, md->cand + r0, nr, -1);
        }
    }
#pragma omp parallel for schedule(dynamic, 64)
    for (int64_t r = 0; r < np; r++) {
        scratch *w = &ws[omp_get_thread_num()];
        double zi = sqrt((double)f->z_sq[r]), cm = f->c_max;
        double e = cosine ? (dot_error(d) + 4.0 * UNIT_ROUNDOFF) * zi
                          : 2.0 * dot_error(d) * zi * cm +
                                4.0 * UNIT_ROUNDOFF * (2.0 * zi * cm + cm * cm);
        finish_node(out, p, m, md->present[r], heaps + r * cap, lens[r], cap,
                    (float)(e * 1.01) + 1e-30f, w);
    }
}

/* Whether sample i lacks a modality that has candidates (so it has missing nodes to link). */
static int needs_missing_links(const gfuse_i_knn_prep *p, int64_t i)
{
    for (int m = 0; m < p->n_mod; m++)
        if (!p->has[(int64_t)m * p->n + i] && p->mod[m].n_cand > 0) return 1;
    return 0;
}

/* The error bound of a missing node's float key (a mean of per-modality similarities): the
 * largest bound over the modalities sample i has, plus the rounding of the sum and the mean.
 * A float cosine S / (|z_i| |z_j|) is off by dot_error plus three roundings. The euclidean
 * similarity 1 / (1 + x), x = |z_i - z_j|^2 / d, is 1-Lipschitz in x, and x is off by the
 * error of |z_i|^2 + |z_j|^2 - 2 S over d. */
static float eps_missing(const gfuse_i_knn_prep *p, const float_mod *fm, int64_t i)
{
    double eps = 0.0;
    for (int s = 0; s < p->n_mod; s++) {
        const float_mod *f = &fm[s];
        int64_t zr = p->mod[s].zrow[i];
        if (zr < 0) continue;
        double e = dot_error(f->d) + 6.0 * UNIT_ROUNDOFF;
        if (p->metric == GFUSE_METRIC_EUCLIDEAN) {
            double zi = sqrt((double)f->z_sq[zr]), cm = f->c_max;
            double dist2_err = 2.0 * dot_error(f->d) * zi * cm +
                               6.0 * UNIT_ROUNDOFF * (zi + cm) * (zi + cm);
            e = dist2_err / (double)(f->d > 0 ? f->d : 1) + 6.0 * UNIT_ROUNDOFF;
        }
        if (e > eps) eps = e;
    }
    return (float)((eps + 4.0 * (double)p->n_mod * UNIT_ROUNDOFF) * 1.01) + 1e-30f;
}

/* Adds the similarities of one tile (the block's rows present in s against the candidates of s
 * in the current sample range) into the block's sums and counts. */
static void accumulate_tile(scratch *w, const gfuse_i_knn_prep *p, int s, const float_mod *f,
                            int64_t lo, int64_t hi, int64_t j0)
{
    const gfuse_i_knn_mod *md = &p->mod[s];
    int64_t nq = w->nq[s], nc = hi - lo, d = f->d;
    const int64_t *qrow = w->qrow + (int64_t)s * MISSING_BLOCK;
    const int64_t *cj = md->cand + lo;
    const float *qz = w->qz;
    for (int t = 0; t < s; t++) qz += MISSING_BLOCK * p->mod[t].d;
    tile_product(w->tile, qz, nq, f->cmat + lo * d, nc, d);
    float inv_d = 1.0f / (float)d;
    for (int64_t r = 0; r < nq; r++) {
        int64_t t = qrow[r];
        float *acc = w->acc + t * SAMPLE_RANGE - j0;
        uint16_t *accn = w->acc_n + t * SAMPLE_RANGE - j0;
        const float *srow = w->tile + r * nc;
        if (p->metric == GFUSE_METRIC_COSINE) {
            float qi = w->q_inv[s * MISSING_BLOCK + r];
            for (int64_t c = 0; c < nc; c++) {
                acc[cj[c]] += srow[c] * qi * f->c_inv[lo + c];
                accn[cj[c]]++;
            }
        } else {
            float qs = w->q_sq[s * MISSING_BLOCK + r];
            for (int64_t c = 0; c < nc; c++) {
                float dist2 = qs + f->c_sq[lo + c] - 2.0f * srow[c];
                if (dist2 < 0.0f) dist2 = 0.0f;
                acc[cj[c]] += 1.0f / (1.0f + dist2 * inv_d);
                accn[cj[c]]++;
            }
        }
    }
}

/* Missing nodes: mean similarity over shared modalities. A block of samples is compared with
 * the candidates one range of SAMPLE_RANGE samples at a time; the per-modality tiles of a range
 * are summed (in modality order) into a (block x range) tile, then every missing node of the
 * block offers that range's candidates of its modality to its heap. */
static void knn_missing(gfuse_i_knn *out, const gfuse_i_knn_prep *p, const float_mod *fm,
                        const int64_t *qlist, int64_t n_q, scratch *ws, int cap)
{
    int64_t n = p->n;
    int nm = p->n_mod;
    int64_t n_blocks = (n_q + MISSING_BLOCK - 1) / MISSING_BLOCK;
    int64_t n_ranges = (n + SAMPLE_RANGE - 1) / SAMPLE_RANGE;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t b = 0; b < n_blocks; b++) {
        scratch *w = &ws[omp_get_thread_num()];
        int64_t b0 = b * MISSING_BLOCK;
        int64_t nb = n_q - b0 < MISSING_BLOCK ? n_q - b0 : MISSING_BLOCK;
        /* gather the block's rows per modality */
        float *qz = w->qz;
        for (int s = 0; s < nm; s++) {
            const gfuse_i_knn_mod *md = &p->mod[s];
            const float_mod *f = &fm[s];
            int64_t cnt = 0;
            for (int64_t t = 0; t < nb; t++) {
                int64_t zr = md->zrow[qlist[b0 + t]];
                if (zr < 0) continue;
                memcpy(qz + cnt * f->d, md->z + zr * f->d, (size_t)f->d * sizeof *qz);
                w->q_inv[s * MISSING_BLOCK + cnt] = f->z_inv[zr];
                w->q_sq[s * MISSING_BLOCK + cnt] = f->z_sq[zr];
                w->qrow[(int64_t)s * MISSING_BLOCK + cnt++] = t;
            }
            w->nq[s] = cnt;
            qz += MISSING_BLOCK * f->d;
        }
        for (int64_t t = 0; t < nb * nm; t++) w->len[t] = 0;
        for (int64_t rg = 0; rg < n_ranges; rg++) {
            int64_t j0 = rg * SAMPLE_RANGE;
            memset(w->acc, 0, (size_t)(nb * SAMPLE_RANGE) * sizeof *w->acc);
            memset(w->acc_n, 0, (size_t)(nb * SAMPLE_RANGE) * sizeof *w->acc_n);
            for (int s = 0; s < nm; s++) {
                int64_t lo = fm[s].range_lo[rg], hi = fm[s].range_lo[rg + 1];
                if (w->nq[s] > 0 && hi > lo) accumulate_tile(w, p, s, &fm[s], lo, hi, j0);
            }
            for (int64_t t = 0; t < nb; t++) {
                int64_t i = qlist[b0 + t];
                const float *acc = w->acc + t * SAMPLE_RANGE - j0;
                const uint16_t *accn = w->acc_n + t * SAMPLE_RANGE - j0;
                for (int m = 0; m < nm; m++) {
                    if (p->has[(int64_t)m * p->n + i]) continue;
                    const int64_t *cand = p->mod[m].cand;
                    heap_entry *h = w->heap + (t * nm + m) * cap;
                    int len = w->len[t * nm + m];
                    for (int64_t c = fm[m].range_lo[rg]; c < fm[m].range_lo[rg + 1]; c++) {
                        int64_t j = cand[c];
                        if (accn[j] == 0) continue;
                        heap_offer(h, &len, cap, acc[j] / (float)accn[j], j);
                    }
                    w->len[t * nm + m] = len;
                }
            }
        }
        for (int64_t t = 0; t < nb; t++) {
            int64_t i = qlist[b0 + t];
            float eps = eps_missing(p, fm, i);
            for (int m = 0; m < nm; m++)
                if (!p->has[(int64_t)m * p->n + i])
                    finish_node(out, p, m, i, w->heap + (t * nm + m) * cap, w->len[t * nm + m],
                                cap, eps, w);
        }
    }
}

static void scratch_free(scratch *ws, int nt)
{
    if (!ws) return;
    for (int t = 0; t < nt; t++) {
        free(ws[t].tile);
        free(ws[t].tile_t);
        free(ws[t].heap);
        free(ws[t].len);
        free(ws[t].rs_sim);
        free(ws[t].rs_idx);
        free(ws[t].keys);
        free(ws[t].qz);
        free(ws[t].qrow);
        free(ws[t].acc);
        free(ws[t].acc_n);
        free(ws[t].nq);
        free(ws[t].q_inv);
        free(ws[t].q_sq);
    }
    free(ws);
}

gfuse_status gfuse_i_knn_build(gfuse_i_knn *out, const gfuse_i_view *view,
                               const gfuse_graph_options *o, const uint8_t *sender)
{
    memset(out, 0, sizeof *out);
    gfuse_i_knn_prep p;
    gfuse_status st = gfuse_i_knn_prep_init(&p, view, o, sender);
    if (st != GFUSE_OK) return st;
    int nt = omp_get_max_threads();
    int nm = p.n_mod;
    int64_t n = p.n;
    int cap = o->k + KEEP_EXTRA;
    float_mod *fm = gfuse_i_zalloc(nm, sizeof *fm);
    scratch *ws = gfuse_i_zalloc(nt, sizeof *ws);
    int64_t *qlist = gfuse_i_alloc(n, sizeof *qlist);
    heap_entry *heaps = NULL; /* one heap per present row, for the symmetric path */
    int *lens = NULL;
#ifdef HAVE_OPENBLAS
    int blas_threads = openblas_get_num_threads();
#endif
    GFUSE_TRY_MEM(fm && ws && qlist, "the kNN tiles");
    GFUSE_TRY(gfuse_i_knn_alloc(out, &p));

    int64_t dsum = 0;
    for (int s = 0; s < nm; s++) {
        GFUSE_TRY_MEM(float_mod_init(&fm[s], &p.mod[s], n, p.metric) == 0, "the kNN tiles");
        dsum += p.mod[s].d;
    }
    int64_t n_q = 0;
    for (int64_t i = 0; i < n; i++)
        if (needs_missing_links(&p, i)) qlist[n_q++] = i;
    int64_t np_max = 1;
    for (int s = 0; s < nm; s++)
        if (p.mod[s].n_present > np_max) np_max = p.mod[s].n_present;
    heaps = gfuse_i_alloc((size_t)np_max * (size_t)cap, sizeof *heaps);
    lens = gfuse_i_alloc(np_max, sizeof *lens);
    GFUSE_TRY_MEM(heaps && lens, "the kNN tiles");
    size_t tile = (size_t)QUERY_BLOCK * CAND_BLOCK;
    if (tile < (size_t)MISSING_BLOCK * SAMPLE_RANGE) tile = (size_t)MISSING_BLOCK * SAMPLE_RANGE;
    size_t n_heaps = QUERY_BLOCK;
    if (n_q > 0 && n_heaps < (size_t)MISSING_BLOCK * (size_t)nm)
        n_heaps = (size_t)MISSING_BLOCK * (size_t)nm;
    for (int t = 0; t < nt; t++) {
        scratch *w = &ws[t];
        w->tile = gfuse_i_alloc(tile, sizeof *w->tile);
        w->tile_t = gfuse_i_alloc((size_t)QUERY_BLOCK * QUERY_BLOCK, sizeof *w->tile_t);
        w->heap = gfuse_i_alloc(n_heaps * (size_t)cap, sizeof *w->heap);
        w->len = gfuse_i_alloc(n_heaps, sizeof *w->len);
        w->rs_sim = gfuse_i_alloc(cap, sizeof *w->rs_sim);
        w->rs_idx = gfuse_i_alloc(cap, sizeof *w->rs_idx);
        w->keys = gfuse_i_alloc(cap, sizeof *w->keys);
        GFUSE_TRY_MEM(w->tile && w->tile_t && w->heap && w->len && w->rs_sim && w->rs_idx &&
                          w->keys,
                      "the kNN tiles");
        if (n_q > 0) {
            w->qz = gfuse_i_alloc(MISSING_BLOCK * dsum, sizeof *w->qz);
            w->qrow = gfuse_i_alloc((size_t)MISSING_BLOCK * (size_t)nm, sizeof *w->qrow);
            w->q_inv = gfuse_i_alloc((size_t)MISSING_BLOCK * (size_t)nm, sizeof *w->q_inv);
            w->q_sq = gfuse_i_alloc((size_t)MISSING_BLOCK * (size_t)nm, sizeof *w->q_sq);
            w->nq = gfuse_i_alloc(nm, sizeof *w->nq);
            w->acc = gfuse_i_alloc((size_t)MISSING_BLOCK * SAMPLE_RANGE, sizeof *w->acc);
            w->acc_n = gfuse_i_alloc((size_t)MISSING_BLOCK * SAMPLE_RANGE, sizeof *w->acc_n);
            GFUSE_TRY_MEM(w->qz && w->qrow && w->q_inv && w->q_sq && w->nq && w->acc &&
                              w->acc_n,
                          "the kNN tiles");
        }
    }

    /* Each thread runs its own sgemm calls; BLAS must not start threads of its own. */
#ifdef HAVE_OPENBLAS
    openblas_set_num_threads(1);
#endif
    for (int m = 0; m < nm; m++) {
        if (p.mod[m].n_cand == p.mod[m].n_present && p.mod[m].n_present > QUERY_BLOCK)
            knn_observed_symmetric(out, &p, m, &fm[m], ws, cap, heaps, lens);
        else
            knn_observed(out, &p, m, &fm[m], ws, cap);
    }
    if (n_q > 0) knn_missing(out, &p, fm, qlist, n_q, ws, cap);
#ifdef HAVE_OPENBLAS
    openblas_set_num_threads(blas_threads);
#endif
done:
    if (st != GFUSE_OK) gfuse_i_knn_free(out);
    if (fm)
        for (int s = 0; s < nm; s++) float_mod_free(&fm[s]);
    free(fm);
    scratch_free(ws, nt);
    free(qlist);
    free(heaps);
    free(lens);
    gfuse_i_knn_prep_free(&p);
    return st;
}
