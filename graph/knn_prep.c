/* knn_prep.c: standardisation statistics, row lists and double-precision pair similarities
 * shared by the kNN kernel (knn.c), its serial reference (knn_ref.c) and the modality-dropout
 * variants (variant.c). */
#include "graph/knn_prep.h"
#include "core/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Mean and 1/sd of every feature over the candidate rows (the standardiser of view.h over the
 * senders that have the modality). A feature with no value or zero spread gets inv_sd = 0, so it
 * contributes nothing. */
static int feature_statistics(gfuse_i_knn_mod *md, const gfuse_i_view *v, int s,
                              const uint8_t *sender, int standardize)
{
    int64_t d = md->d;
    for (int64_t f = 0; f < d; f++) {
        md->mean[f] = 0.0;
        md->inv_sd[f] = 1.0;
    }
    if (!standardize) return 0;
    if (gfuse_i_view_stats(v, s, sender, md->mean, md->inv_sd) != 0) return -1;
    for (int64_t f = 0; f < d; f++) md->inv_sd[f] = md->inv_sd[f] > 0.0 ? 1.0 / md->inv_sd[f] : 0.0;
    return 0;
}

gfuse_status gfuse_i_knn_prep_init(gfuse_i_knn_prep *p, const gfuse_i_view *v,
                                   const gfuse_graph_options *o, const uint8_t *sender)
{
    memset(p, 0, sizeof *p);
    gfuse_status st = GFUSE_OK;
    int64_t n = v->n;
    int nm = v->M;
    p->n = n;
    p->n_mod = nm;
    p->k = o->k;
    p->metric = o->metric;
    p->has = v->has;
    p->mod = gfuse_i_zalloc(nm, sizeof *p->mod);
    GFUSE_TRY_MEM(p->mod, "the kNN statistics");
    for (int s = 0; s < nm; s++) {
        gfuse_i_knn_mod *md = &p->mod[s];
        const uint8_t *has = v->has + (int64_t)s * n;
        md->d = v->d[s];
        md->mean = gfuse_i_alloc(md->d, sizeof *md->mean);
        md->inv_sd = gfuse_i_alloc(md->d, sizeof *md->inv_sd);
        md->present = gfuse_i_alloc(n, sizeof *md->present);
        md->cand = gfuse_i_alloc(n, sizeof *md->cand);
        md->norm = gfuse_i_zalloc(n, sizeof *md->norm);
        md->zrow = gfuse_i_alloc(n, sizeof *md->zrow);
        GFUSE_TRY_MEM(md->mean && md->inv_sd && md->present && md->cand && md->norm && md->zrow,
                      "the kNN statistics");
        for (int64_t i = 0; i < n; i++) {
            md->zrow[i] = -1;
            if (!has[i]) continue;
            md->zrow[i] = md->n_present;
            md->present[md->n_present++] = i;
            if (!sender || sender[i]) md->cand[md->n_cand++] = i;
        }
        GFUSE_TRY_MEM(feature_statistics(md, v, s, sender, o->standardize) == 0, "the kNN statistics");
        int64_t np = md->n_present, dm = md->d;
        md->z = gfuse_i_alloc(np * dm, sizeof *md->z);
        GFUSE_TRY_MEM(md->z, "the kNN statistics");
#pragma omp parallel for schedule(static) if (np * dm > 65536)
        for (int64_t t = 0; t < np; t++) {
            int64_t i = md->present[t];
            const float *xr = gfuse_i_view_row(v, s, i);
            float *z = md->z + t * dm;
            double ss = 0.0;
            for (int64_t f = 0; f < dm; f++) {
                z[f] = gfuse_i_knn_z(md, xr[f], f);
                ss += (double)z[f] * (double)z[f];
            }
            md->norm[i] = sqrt(ss);
        }
    }
done:
    if (st != GFUSE_OK) gfuse_i_knn_prep_free(p);
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
    memset(p, 0, sizeof *p);
}

double gfuse_i_knn_pair_sim(const gfuse_i_knn_prep *p, int s, int64_t i, int64_t j)
{
    const gfuse_i_knn_mod *md = &p->mod[s];
    if (md->d == 0) return 0.0;
    const float *zi = gfuse_i_knn_zrow(md, i), *zj = gfuse_i_knn_zrow(md, j);
    int cosine = p->metric == GFUSE_METRIC_COSINE;
    double ni = md->norm[i], nj = md->norm[j];
    if (cosine && (ni == 0.0 || nj == 0.0)) return 0.0;
    double lane[GFUSE_I_SIM_LANES] = {0.0};
    for (int64_t f = 0; f < md->d; f++) {
        double term;
        if (cosine) {
            term = (double)zi[f] * (double)zj[f];
        } else {
            double diff = (double)zi[f] - (double)zj[f];
            term = diff * diff;
        }
        lane[f % GFUSE_I_SIM_LANES] += term;
    }
    double sum = ((lane[0] + lane[1]) + (lane[2] + lane[3])) +
                 ((lane[4] + lane[5]) + (lane[6] + lane[7]));
    return cosine ? sum / (ni * nj) : 1.0 / (1.0 + sum / (double)md->d);
}

double gfuse_i_knn_node_sim(const gfuse_i_knn_prep *p, int m, int64_t i, int64_t j, int *shared)
{
    int nm = p->n_mod;
    int64_t n = p->n;
    if (p->has[(int64_t)m * n + i]) {
        *shared = 1;
        return gfuse_i_knn_pair_sim(p, m, i, j);
    }
    double sum = 0.0;
    int cnt = 0;
    for (int s = 0; s < nm; s++) {
        if (!p->has[(int64_t)s * n + i] || !p->has[(int64_t)s * n + j]) continue;
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
    size_t slots = (size_t)nodes * (size_t)p->k;
    out->n_samples = p->n;
    out->n_mod = p->n_mod;
    out->k = p->k;
    out->count = gfuse_i_zalloc(nodes, sizeof *out->count);
    out->nbr = gfuse_i_alloc(slots, sizeof *out->nbr);
    out->sim = gfuse_i_alloc(slots, sizeof *out->sim);
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
