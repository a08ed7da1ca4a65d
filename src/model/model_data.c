/* model_data.c: sample sets (the model's view of a cohort), their graphs, and the
 * standardised inputs of the network. */
#include "model/model.h"

#include "cohort/cohort.h"
#include "core/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Frees the M arrays of x (NULL ones too) and x itself. */
static void free_per_modality(float **x, int M)
{
    if (x)
        for (int m = 0; m < M; m++) free(x[m]);
    free(x);
}

gfuse_status gfuse_i_samples_alloc(gfuse_i_samples *s, int64_t n, int M, const int64_t *d)
{
    gfuse_status st = GFUSE_OK;
    memset(s, 0, sizeof *s);
    s->n = n;
    s->M = M;
    s->d = gfuse_i_zalloc(M, sizeof *s->d);
    s->id = gfuse_i_zalloc(n, sizeof *s->id);
    s->has = gfuse_i_zalloc(n * M, 1);
    s->x = gfuse_i_zalloc(M, sizeof *s->x);
    GFUSE_TRY_MEM(s->d && s->id && s->has && s->x, "a sample set");
    for (int m = 0; m < M; m++) {
        s->d[m] = d[m];
        size_t cells = (size_t)(n * d[m]);
        s->x[m] = gfuse_i_alloc(cells, sizeof(float));
        GFUSE_TRY_MEM(s->x[m] != NULL, "a sample set");
        for (size_t t = 0; t < cells; t++) s->x[m][t] = NAN;
    }
done:
    if (st != GFUSE_OK) gfuse_i_samples_free(s);
    return st;
}

void gfuse_i_samples_free(gfuse_i_samples *s)
{
    free_per_modality(s->x, s->M);
    if (s->id) gfuse_i_free_strings(s->id, s->n);
    free(s->has);
    free(s->d);
    memset(s, 0, sizeof *s);
}

void gfuse_i_samples_view(gfuse_i_view *v, const gfuse_i_samples *s)
{
    memset(v, 0, sizeof *v);
    v->n = s->n;
    v->M = s->M;
    v->d = s->d;
    v->x = (const float *const *)s->x;
    v->has = s->has;
    v->id = (const char *const *)s->id;
}

/* Training and prediction build their graphs through this one path, so the graph of the
 * training samples is the same both times. A node is observed when the sample has the
 * modality, it is not hidden and its row holds a value (a cohort's presence rule). */
gfuse_status gfuse_i_samples_graph(struct gfuse_graph **g, const gfuse_i_samples *s,
                                   const uint8_t *hidden, const uint8_t *sender, int k)
{
    *g = NULL;
    int64_t nodes = s->n * s->M;
    uint8_t *has = gfuse_i_alloc(nodes, 1);
    if (!has) return gfuse_i_nomem("the graph's input");
    for (int m = 0; m < s->M; m++)
        for (int64_t i = 0; i < s->n; i++) {
            int64_t v = (int64_t)m * s->n + i;
            has[v] = s->has[v] && !(hidden && hidden[v]) &&
                     !gfuse_i_row_all_missing(s->x[m] + i * s->d[m], s->d[m]);
        }
    gfuse_i_view view;
    gfuse_i_samples_view(&view, s);
    view.has = has;
    gfuse_graph_options o;
    gfuse_graph_options_init(&o);
    o.k = k;
    gfuse_status st = gfuse_i_graph_build(g, &view, &o, sender);
    free(has);
    return st;
}

gfuse_status gfuse_i_samples_variant_base(gfuse_i_variant_base **b,
                                          const struct gfuse_graph *full,
                                          const gfuse_i_samples *s, int k)
{
    *b = NULL;
    GFUSE_CHECK_ARG(full != NULL && full->n_samples == s->n && full->n_mod == s->M,
                    "the full graph is not the sample set's");
    gfuse_graph_options o;
    gfuse_graph_options_init(&o);
    o.k = k;
    return gfuse_i_variant_base_new(b, full, s->d, (const float *const *)s->x, &o);
}

gfuse_status gfuse_i_standard_stats(float **mean, float **sd, const gfuse_i_samples *s)
{
    gfuse_status st = GFUSE_OK;
    gfuse_i_view view;
    gfuse_i_samples_view(&view, s);
    int64_t dmax = 1;
    for (int m = 0; m < s->M; m++)
        if (s->d[m] > dmax) dmax = s->d[m];
    double *mu = gfuse_i_alloc(dmax, sizeof *mu), *sdv = gfuse_i_alloc(dmax, sizeof *sdv);
    GFUSE_TRY_MEM(mu && sdv, "the standardisation statistics");
    for (int m = 0; m < s->M; m++) {
        int64_t d = s->d[m];
        mean[m] = gfuse_i_alloc(d, sizeof(float));
        sd[m] = gfuse_i_alloc(d, sizeof(float));
        GFUSE_TRY_MEM(mean[m] && sd[m] && gfuse_i_view_stats(&view, m, NULL, mu, sdv) == 0,
                      "the standardisation statistics");
        for (int64_t f = 0; f < d; f++) {
            mean[m][f] = (float)mu[f];
            sd[m][f] = sdv[f] > 0.0 && (float)sdv[f] > 0.0f ? (float)sdv[f] : 1.0f;
        }
    }
done:
    free(mu);
    free(sdv);
    return st;
}

gfuse_status gfuse_i_data_make(gfuse_i_data *data, const gfuse_i_samples *s,
                               float *const *mean, float *const *sd)
{
    gfuse_status st = GFUSE_OK;
    memset(data, 0, sizeof *data);
    data->n = s->n;
    data->M = s->M;
    data->d = s->d;
    data->has = s->has;
    data->x = gfuse_i_zalloc(s->M, sizeof *data->x);
    GFUSE_TRY_MEM(data->x != NULL, "the standardised features");
    for (int m = 0; m < s->M; m++) {
        int64_t d = s->d[m];
        size_t cells = (size_t)(s->n * d);
        data->x[m] = gfuse_i_alloc(cells, sizeof(float));
        GFUSE_TRY_MEM(data->x[m] != NULL, "the standardised features");
        for (int64_t i = 0; i < s->n; i++) {
            const float *src = s->x[m] + i * d;
            float *dst = data->x[m] + i * d;
            int has = s->has[(int64_t)m * s->n + i];
            for (int64_t f = 0; f < d; f++)
                dst[f] = has && src[f] == src[f] ? (src[f] - mean[m][f]) / sd[m][f] : NAN;
        }
    }
done:
    if (st != GFUSE_OK) gfuse_i_data_free(data);
    return st;
}

void gfuse_i_data_free(gfuse_i_data *data)
{
    free_per_modality(data->x, data->M);
    memset(data, 0, sizeof *data);
}
