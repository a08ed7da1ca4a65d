/* knn_prep.c: standardisation statistics, row lists and double-precision pair similarities
 * shared by the kNN kernel (knn.c), its serial reference (knn_ref.c) and the modality-dropout
 * variants (variant.c). */
#include "graph/knn_prep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Mean and 1/sd of every feature over the candidate rows (NaN cells skipped). A feature with
 * no value or zero spread gets inv_sd = 0, so it contributes nothing. Rows are read in order
 * (row-major data), each feature summing its rows in ascending order. */
static int feature_statistics(gfuse_i_knn_mod *md, int standardize)
{
    int64_t d = md->d;
    for (int64_t f = 0; f < d; f++) {
        md->mean[f] = 0.0;
        md->inv_sd[f] = 1.0;
    }
    if (!standardize) return 0;
    int64_t *cnt = calloc((size_t)(d > 0 ? d : 1), sizeof *cnt);
    double *ss = calloc((size_t)(d > 0 ? d : 1), sizeof *ss);
    if (!cnt || !ss) {
        free(cnt);
        free(ss);
        return -1;
    }
    for (int64_t f = 0; f < d; f++) md->mean[f] = 0.0;
    for (int64_t t = 0; t < md->n_cand; t++) {
        const float *x = md->x + md->row[md->cand[t]] * d;
        for (int64_t f = 0; f < d; f++)
            if (x[f] == x[f]) {
                md->mean[f] += x[f];
                cnt[f]++;
            }
    }
    for (int64_t f = 0; f < d; f++) md->mean[f] = cnt[f] > 0 ? md->mean[f] / (double)cnt[f] : 0.0;
    for (int64_t t = 0; t < md->n_cand; t++) {
        const float *x = md->x + md->row[md->cand[t]] * d;
        for (int64_t f = 0; f < d; f++)
            if (x[f] == x[f]) ss[f] += ((double)x[f] - md->mean[f]) * ((double)x[f] - md->mean[f]);
    }
    for (int64_t f = 0; f < d; f++) {
        double sd = cnt[f] > 0 ? sqrt(ss[f] / (double)cnt[f]) : 0.0;
        md->inv_sd[f] = sd > 0.0 ? 1.0 / sd : 0.0;
    }
    free(cnt);
    free(ss);
    return 0;
}

/* The prep from per-modality rows: modality s has d[s] features, row[s][i] is sample i's row of
 * x[s], and present[s * n + i] says whether sample i has modality s. */
static gfuse_status prep_init(gfuse_i_knn_prep *p, int64_t n, int nm, const int64_t *d,
                              const float *const *x, const int64_t *const *row,
                              const uint8_t *present, const gfuse_graph_options *o,
                              const uint8_t *sender)
{
    p->n = n;
    p->n_mod = nm;
    p->k = o->k;
    p->metric = o->metric;
    p->mod = calloc((size_t)(nm > 0 ? nm : 1), sizeof *p->mod);
    p->has = calloc((size_t)(n * nm > 0 ? n * nm : 1), 1);
    if (!p->mod || !p->has) goto nomem;
    for (int s = 0; s < nm; s++) {
        gfuse_i_knn_mod *md = &p->mod[s];
        md->d = d[s];
        md->x = x[s];
        md->row = row[s];
        int64_t d1 = d[s] > 0 ? d[s] : 1;
        md->mean = malloc((size_t)d1 * sizeof *md->mean);
        md->inv_sd = malloc((size_t)d1 * sizeof *md->inv_sd);
        md->present = malloc((size_t)(n > 0 ? n : 1) * sizeof *md->present);
        md->cand = malloc((size_t)(n > 0 ? n : 1) * sizeof *md->cand);
        md->norm = calloc((size_t)(n > 0 ? n : 1), sizeof *md->norm);
        md->zrow = malloc((size_t)(n > 0 ? n : 1) * sizeof *md->zrow);
        if (!md->mean || !md->inv_sd || !md->present || !md->cand || !md->norm || !md->zrow)
            goto nomem;
        for (int64_t i = 0; i < n; i++) {
            md->zrow[i] = -1;
            if (!present[(int64_t)s * n + i]) continue;
            p->has[i * nm + s] = 1;
            md->zrow[i] = md->n_present;
            md->present[md->n_present++] = i;
            if (!sender || sender[i]) md->cand[md->n_cand++] = i;
        }
        if (feature_statistics(md, o->standardize) != 0) goto nomem;
        int64_t np = md->n_present, dm = md->d;
        md->z = malloc((size_t)(np * dm > 0 ? np * dm : 1) * sizeof *md->z);
        if (!md->z) goto nomem;
#pragma omp parallel for schedule(static) if (np * dm > 65536)
        for (int64_t t = 0; t < np; t++) {
            int64_t i = md->present[t];
            const float *xr = md->x + md->row[i] * dm;
            float *z = md->z + t * dm;
            double ss = 0.0;
            for (int64_t f = 0; f < dm; f++) {
                z[f] = gfuse_i_knn_z(md, xr[f], f);
                ss += (double)z[f] * (double)z[f];
            }
            md->norm[i] = sqrt(ss);
        }
    }
    return GFUSE_OK;
nomem:
    gfuse_i_knn_prep_free(p);
    return gfuse_i_nomem("the kNN statistics");
}

gfuse_status gfuse_i_knn_prep_init(gfuse_i_knn_prep *p, const gfuse_cohort *c,
                                   const gfuse_graph_options *o, const uint8_t *sender)
{
    memset(p, 0, sizeof *p);
    int64_t n = c->n;
    int nm = c->m;
    size_t nm1 = (size_t)(nm > 0 ? nm : 1);
    int64_t *d = malloc(nm1 * sizeof *d);
    const float **x = malloc(nm1 * sizeof *x);
    const int64_t **row = malloc(nm1 * sizeof *row);
    uint8_t *present = malloc((size_t)(n * nm > 0 ? n * nm : 1));
    gfuse_status st;
    if (!d || !x || !row || !present) {
        st = gfuse_i_nomem("the kNN statistics");
    } else {
        for (int s = 0; s < nm; s++) {
            const gfuse_i_modality *cm = &c->mod[s];
            d[s] = cm->d;
            x[s] = cm->x;
            row[s] = cm->row;
            for (int64_t i = 0; i < n; i++)
                present[(int64_t)s * n + i] = cm->present[i] && cm->row[i] >= 0;
        }
        st = prep_init(p, n, nm, d, x, row, present, o, sender);
    }
    free(d);
    free(x);
    free(row);
    free(present);
    return st;
}

gfuse_status gfuse_i_knn_prep_init_rows(gfuse_i_knn_prep *p, int64_t n, int nm,
                                        const int64_t *d, const float *const *x,
                                        const uint8_t *present, const gfuse_graph_options *o)
{
    memset(p, 0, sizeof *p);
    size_t nm1 = (size_t)(nm > 0 ? nm : 1);
    const int64_t **row = malloc(nm1 * sizeof *row);
    p->identity = malloc((size_t)(n > 0 ? n : 1) * sizeof *p->identity);
    if (!row || !p->identity) {
        free(row);
        gfuse_i_knn_prep_free(p);
        return gfuse_i_nomem("the kNN statistics");
    }
    for (int64_t i = 0; i < n; i++) p->identity[i] = i;
    for (int s = 0; s < nm; s++) row[s] = p->identity;
    gfuse_status st = prep_init(p, n, nm, d, x, row, present, o, NULL);
    free(row);
    return st;
}

void gfuse_i_knn_prep_free(gfuse_i_knn_prep *p)
{
    if (p->mod) {
        for (int s = 0; s < p->n_mod; s++) {
            free(p->mod[s].mean);
            free(p->mod[s].inv_sd);
            free(p->mod[s].present);
            free(p->mod[s].cand);
            free(p->mod[s].norm);
            free(p->mod[s].z);
            free(p->mod[s].zrow);
        }
    }
    free(p->mod);
    free(p->has);
    free(p->identity);
    memset(p, 0, sizeof *p);
}

double gfuse_i_knn_pair_sim(const gfuse_i_knn_prep *p, int s, int64_t i, int64_t j)
{
    const gfuse_i_knn_mod *md = &p->mod[s];
    if (md->d == 0) return 0.0;
    const float *zi = gfuse_i_knn_zrow(md, i), *zj = gfuse_i_knn_zrow(md, j);
    if (p->metric == GFUSE_METRIC_COSINE) {
        double ni = md->norm[i], nj = md->norm[j];
        if (ni == 0.0 || nj == 0.0) return 0.0;
        double dot = 0.0;
        for (int64_t f = 0; f < md->d; f++) dot += (double)zi[f] * (double)zj[f];
        return dot / (ni * nj);
    }
    double ss = 0.0;
    for (int64_t f = 0; f < md->d; f++) {
        double diff = (double)zi[f] - (double)zj[f];
        ss += diff * diff;
    }
    return 1.0 / (1.0 + ss / (double)md->d);
}

double gfuse_i_knn_node_sim(const gfuse_i_knn_prep *p, int m, int64_t i, int64_t j, int *shared)
{
    int nm = p->n_mod;
    if (p->has[i * nm + m]) {
        *shared = 1;
        return gfuse_i_knn_pair_sim(p, m, i, j);
    }
    double sum = 0.0;
    int cnt = 0;
    for (int s = 0; s < nm; s++) {
        if (!p->has[i * nm + s] || !p->has[j * nm + s]) continue;
        sum += gfuse_i_knn_pair_sim(p, s, i, j);
        cnt++;
    }
    *shared = cnt;
    return cnt > 0 ? sum / cnt : 0.0;
}

void gfuse_i_knn_sort(double *sim, int64_t *idx, int64_t n)
{
    /* Insertion sort: n is a few dozen at most. */
    for (int64_t a = 1; a < n; a++) {
        double s = sim[a];
        int64_t j = idx[a];
        int64_t b = a;
        while (b > 0 && (sim[b - 1] < s || (sim[b - 1] == s && idx[b - 1] > j))) {
            sim[b] = sim[b - 1];
            idx[b] = idx[b - 1];
            b--;
        }
        sim[b] = s;
        idx[b] = j;
    }
}

gfuse_status gfuse_i_knn_alloc(gfuse_i_knn *out, const gfuse_i_knn_prep *p)
{
    memset(out, 0, sizeof *out);
    int64_t nodes = p->n * p->n_mod;
    size_t slots = (size_t)(nodes > 0 ? nodes : 1) * (size_t)p->k;
    out->n_samples = p->n;
    out->n_mod = p->n_mod;
    out->k = p->k;
    out->count = calloc((size_t)(nodes > 0 ? nodes : 1), sizeof *out->count);
    out->nbr = malloc(slots * sizeof *out->nbr);
    out->sim = malloc(slots * sizeof *out->sim);
    if (!out->count || !out->nbr || !out->sim) {
        gfuse_i_knn_free(out);
        return gfuse_i_nomem("the kNN lists");
    }
    return GFUSE_OK;
}

void gfuse_i_knn_free(gfuse_i_knn *knn)
{
    if (!knn) return;
    free(knn->count);
    free(knn->nbr);
    free(knn->sim);
    memset(knn, 0, sizeof *knn);
}
