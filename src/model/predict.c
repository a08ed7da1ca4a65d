/* predict.c: gfuse_predict and gfuse_impute: the cohort is matched to the model (modalities
 * and features by name, samples to the reference samples by id), the graph is built over the
 * references and the new samples (only references send knn edges), and every member of the
 * model runs its forward pass on it. */
#include "model/model.h"

#include "core/metrics.h"
#include "core/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The cohort in the model's terms. */
typedef struct {
    gfuse_i_samples set;  /* references first (stored order), then the new samples */
    uint8_t *sender;      /* set.n: 1 for references */
    int64_t *where;       /* per cohort sample: its row in set */
    int64_t n_new;
} matched;

static void matched_free(matched *mt)
{
    gfuse_i_samples_free(&mt->set);
    free(mt->sender);
    free(mt->where);
    memset(mt, 0, sizeof *mt);
}

/* cohort modality of every model modality (-1 when the cohort lacks it), and for each of
 * those the cohort feature of every model feature. */
static gfuse_status match_columns(const gfuse_model *m, const gfuse_cohort *c, int *cmod,
                                  int64_t **cfeat)
{
    int M = m->arch.M;
    for (int cm = 0; cm < c->m; cm++) {
        int found = 0;
        for (int j = 0; j < M; j++) found |= strcmp(m->mod_name[j], c->mod[cm].name) == 0;
        if (!found)
            return gfuse_i_error(GFUSE_ERR_DATA,
                                 "%s: modality \"%s\" is not one the model was trained on",
                                 c->mod[cm].file && *c->mod[cm].file ? c->mod[cm].file : "cohort",
                                 c->mod[cm].name);
    }
    for (int j = 0; j < M; j++) {
        cmod[j] = -1;
        for (int cm = 0; cm < c->m; cm++)
            if (strcmp(m->mod_name[j], c->mod[cm].name) == 0) cmod[j] = cm;
        if (cmod[j] < 0) continue;
        const gfuse_i_modality *mod = &c->mod[cmod[j]];
        const char *file = mod->file && *mod->file ? mod->file : mod->name;
        if (mod->d != m->arch.d[j])
            return gfuse_i_error(GFUSE_ERR_DATA,
                                 "%s: modality \"%s\" has %lld features, the model %lld", file,
                                 mod->name, (long long)mod->d, (long long)m->arch.d[j]);
        gfuse_i_idmap *idx = gfuse_i_idmap_new(mod->d);
        if (!idx) return gfuse_i_nomem("the feature index");
        for (int64_t f = 0; f < mod->d; f++)
            if (gfuse_i_idmap_insert(idx, mod->feature[f], f, NULL) < 0) {
                gfuse_i_idmap_free(idx);
                return gfuse_i_nomem("the feature index");
            }
        gfuse_status st = GFUSE_OK;
        for (int64_t f = 0; f < mod->d && st == GFUSE_OK; f++) {
            cfeat[j][f] = gfuse_i_idmap_find(idx, m->feat_name[j][f]);
            if (cfeat[j][f] < 0)
                st = gfuse_i_error(GFUSE_ERR_DATA,
                                   "%s: modality \"%s\" lacks feature \"%s\" of the model", file,
                                   mod->name, m->feat_name[j][f]);
        }
        gfuse_i_idmap_free(idx);
        if (st != GFUSE_OK) return st;
    }
    return GFUSE_OK;
}

/* Copies what cohort sample i has into row r of the set (features in model order). */
static void take_sample(gfuse_i_samples *set, int64_t r, const gfuse_cohort *c, int64_t i,
                        const int *cmod, int64_t *const *cfeat)
{
    for (int j = 0; j < set->M; j++) {
        int64_t d = set->d[j], v = (int64_t)j * set->n + r;
        float *dst = set->x[j] + r * d;
        set->has[v] = 0;
        for (int64_t f = 0; f < d; f++) dst[f] = NAN;
        if (cmod[j] < 0) continue;
        const gfuse_i_modality *mod = &c->mod[cmod[j]];
        if (!mod->present[i] || mod->row[i] < 0) continue;
        const float *src = mod->x + mod->row[i] * mod->d;
        for (int64_t f = 0; f < d; f++) dst[f] = src[cfeat[j][f]];
        set->has[v] = 1;
    }
}

static gfuse_status match_cohort(matched *mt, const gfuse_model *m, const gfuse_cohort *c)
{
    memset(mt, 0, sizeof *mt);
    const gfuse_i_samples *ref = &m->ref;
    int M = m->arch.M;
    int *cmod = gfuse_i_zalloc(M, sizeof *cmod);
    int64_t **cfeat = gfuse_i_zalloc(M, sizeof *cfeat);
    gfuse_i_idmap *refidx = gfuse_i_idmap_new(ref->n);
    gfuse_status st = GFUSE_OK;
    mt->where = gfuse_i_alloc(c->n, sizeof(int64_t));
    GFUSE_TRY_MEM(cmod && cfeat && refidx && mt->where, "the matched cohort");
    for (int j = 0; j < M; j++) {
        cfeat[j] = gfuse_i_alloc(m->arch.d[j], sizeof(int64_t));
        GFUSE_TRY_MEM(cfeat[j], "the matched cohort");
    }
    GFUSE_TRY(match_columns(m, c, cmod, cfeat));
    for (int64_t r = 0; r < ref->n; r++)
        GFUSE_TRY_MEM(gfuse_i_idmap_insert(refidx, ref->id[r], r, NULL) >= 0, "the matched cohort");
    for (int64_t i = 0; i < c->n; i++) {
        int64_t r = gfuse_i_idmap_find(refidx, c->id[i]);
        mt->where[i] = r >= 0 ? r : ref->n + mt->n_new++;
    }
    GFUSE_TRY(gfuse_i_samples_alloc(&mt->set, ref->n + mt->n_new, M, m->arch.d));
    mt->sender = gfuse_i_zalloc(mt->set.n, 1);
    GFUSE_TRY_MEM(mt->sender, "the matched cohort");
    /* the references as stored ... */
    for (int64_t r = 0; r < ref->n; r++) {
        mt->sender[r] = 1;
        mt->set.id[r] = gfuse_i_strdup(ref->id[r]);
        GFUSE_TRY_MEM(mt->set.id[r], "the matched cohort");
        for (int j = 0; j < M; j++) {
            int64_t d = m->arch.d[j];
            mt->set.has[(int64_t)j * mt->set.n + r] = ref->has[(int64_t)j * ref->n + r];
            memcpy(mt->set.x[j] + r * d, ref->x[j] + r * d, (size_t)d * sizeof(float));
        }
    }
    /* ... then what the cohort has: its values replace a reference's, new samples follow */
    for (int64_t i = 0; i < c->n; i++) {
        int64_t r = mt->where[i];
        if (r >= ref->n) {
            mt->set.id[r] = gfuse_i_strdup(c->id[i]);
            GFUSE_TRY_MEM(mt->set.id[r], "the matched cohort");
        }
        take_sample(&mt->set, r, c, i, cmod, cfeat);
    }
done:
    for (int j = 0; cfeat && j < M; j++) free(cfeat[j]);
    free(cfeat);
    free(cmod);
    gfuse_i_idmap_free(refidx);
    if (st != GFUSE_OK) matched_free(mt);
    return st;
}

/* Matches the cohort, builds the graph and runs the model: probs, fusion and (optionally) rec
 * over the matched set. */
static gfuse_status run(const gfuse_model *m, const gfuse_cohort *c, matched *mt, float **probs,
                        float **fusion, float ***rec)
{
    int M = m->arch.M;
    struct gfuse_graph *g = NULL;
    gfuse_status st = GFUSE_OK;
    GFUSE_TRY(match_cohort(mt, m, c));
    int64_t N = mt->set.n;
    *probs = gfuse_i_alloc(N * m->arch.K, sizeof(float));
    *fusion = gfuse_i_alloc(N * (M + 1), sizeof(float));
    GFUSE_TRY_MEM(*probs && *fusion, "the predictions");
    if (rec) {
        *rec = gfuse_i_zalloc(M, sizeof **rec);
        GFUSE_TRY_MEM(*rec, "the completed values");
        for (int j = 0; j < M; j++) {
            (*rec)[j] = gfuse_i_alloc(N * m->arch.d[j], sizeof(float));
            GFUSE_TRY_MEM((*rec)[j], "the completed values");
        }
    }
    GFUSE_TRY(gfuse_i_samples_graph(&g, &mt->set, NULL, mt->n_new > 0 ? mt->sender : NULL,
                                    m->opts.k));
    GFUSE_TRY(gfuse_i_model_infer(m, g, &mt->set, *probs, *fusion, rec ? *rec : NULL));
done: /* the outputs belong to the caller, which frees them on failure too */
    gfuse_graph_free(&g);
    return st;
}

static void free_rec(float **rec, int M)
{
    for (int j = 0; rec && j < M; j++) free(rec[j]);
    free(rec);
}

gfuse_status gfuse_predict(const gfuse_model *m, const gfuse_cohort *c, gfuse_predictions *out)
{
    GFUSE_CHECK_ARG(out != NULL, "out must not be NULL");
    memset(out, 0, sizeof *out);
    GFUSE_CHECK_ARG(m != NULL, "model must not be NULL");
    GFUSE_CHECK_ARG(c != NULL, "cohort must not be NULL");
    int M = m->arch.M, K = m->arch.K, J = M + 1;
    matched mt;
    float *probs = NULL, *fusion = NULL;
    gfuse_status st = GFUSE_OK;
    GFUSE_TRY(run(m, c, &mt, &probs, &fusion, NULL));
    int64_t n = c->n;
    out->n = n;
    out->n_outputs = K;
    out->n_slots = J;
    out->output = gfuse_i_alloc(n * K, sizeof(float));
    out->predicted = gfuse_i_alloc(n, sizeof(int32_t));
    out->fusion = gfuse_i_alloc(n * J, sizeof(float));
    out->new_sample = gfuse_i_alloc(n, 1);
    GFUSE_TRY_MEM(out->output && out->predicted && out->fusion && out->new_sample,
                  "the predictions");
    for (int64_t i = 0; i < n; i++) {
        int64_t r = mt.where[i];
        memcpy(out->output + i * K, probs + r * K, (size_t)K * sizeof(float));
        memcpy(out->fusion + i * J, fusion + r * J, (size_t)J * sizeof(float));
        out->new_sample[i] = r >= m->ref.n;
        out->predicted[i] = m->task == GFUSE_TASK_CLASSIFY ? gfuse_i_argmax(out->output + i * K, K)
                                                           : -1;
    }
done:
    free(probs);
    free(fusion);
    matched_free(&mt);
    if (st != GFUSE_OK) gfuse_predictions_free(out);
    return st;
}

void gfuse_predictions_free(gfuse_predictions *p)
{
    if (!p) return;
    free(p->output);
    free(p->predicted);
    free(p->fusion);
    free(p->new_sample);
    memset(p, 0, sizeof *p);
}

gfuse_status gfuse_impute(const gfuse_model *m, const gfuse_cohort *c, gfuse_imputation *out)
{
    GFUSE_CHECK_ARG(out != NULL, "out must not be NULL");
    memset(out, 0, sizeof *out);
    GFUSE_CHECK_ARG(m != NULL, "model must not be NULL");
    GFUSE_CHECK_ARG(c != NULL, "cohort must not be NULL");
    int M = m->arch.M;
    matched mt;
    float *probs = NULL, *fusion = NULL, **rec = NULL;
    gfuse_status st = GFUSE_OK;
    GFUSE_TRY(run(m, c, &mt, &probs, &fusion, &rec));
    int64_t n = c->n;
    out->n = n;
    out->n_modalities = M;
    out->n_features = gfuse_i_zalloc(M, sizeof *out->n_features);
    out->values = gfuse_i_zalloc(M, sizeof *out->values);
    out->filled = gfuse_i_zalloc(n * M, 1);
    GFUSE_TRY_MEM(out->n_features && out->values && out->filled, "the completed cohort");
    for (int j = 0; j < M; j++) {
        int64_t d = m->arch.d[j];
        out->n_features[j] = d;
        out->values[j] = gfuse_i_alloc(n * d, sizeof(float));
        GFUSE_TRY_MEM(out->values[j], "the completed cohort");
        for (int64_t i = 0; i < n; i++) {
            int64_t r = mt.where[i];
            int has = mt.set.has[(int64_t)j * mt.set.n + r];
            const float *src = has ? mt.set.x[j] + r * d : rec[j] + r * d;
            memcpy(out->values[j] + i * d, src, (size_t)d * sizeof(float));
            out->filled[i * M + j] = (uint8_t)!has;
        }
    }
done:
    free(probs);
    free(fusion);
    free_rec(rec, M);
    matched_free(&mt);
    if (st != GFUSE_OK) gfuse_imputation_free(out);
    return st;
}

void gfuse_imputation_free(gfuse_imputation *p)
{
    if (!p) return;
    for (int j = 0; p->values && j < p->n_modalities; j++) free(p->values[j]);
    free(p->values);
    free(p->n_features);
    free(p->filled);
    memset(p, 0, sizeof *p);
}
