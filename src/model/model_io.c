/* model_io.c: gfuse_model_save / gfuse_model_load in the model-file container (modelfile.h).
 *
 * Sections of a model file:
 *   hparams                   every entry of the option table (model/options.h) as key=value,
 *                             in table order (doubles with 17 digits, so a loaded model has
 *                             the very options it was trained with)
 *   modality_names            M names;  feature_names/<m>: its feature names
 *   class_names               classification only
 *   stats/mean/<m>, stats/std/<m>   f32 standardisation statistics
 *   stats/target              f64 [mean, sd] of the regression target (0, 1 when classifying)
 *   reference/ids             the reference samples (graph order)
 *   reference/has             bytes, M x n: 1 where reference i has modality m
 *   reference/values/<m>      f32, the raw rows of the references that have modality m
 *   best_epoch                i32, per ensemble member
 *   param/<k>/<tensor>        f32, the weights of member k, one section per tensor
 */
#include "model/model.h"

#include "model/modelfile.h"
#include "model/options.h"
#include "core/util.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *task_name(gfuse_task t) { return t == GFUSE_TASK_REGRESS ? "regress" : "classify"; }

/* Where entry t's value lives: the options, or the model for its facts. */
static const void *hparam_place(const gfuse_model *m, const gfuse_train_option *t)
{
    int fact = t->type == GFUSE_OPT_MODEL_INT || t->type == GFUSE_OPT_MODEL_INT64 ||
               t->type == GFUSE_OPT_CONST;
    return (fact ? (const char *)m : (const char *)&m->opts) + t->offset;
}

/* Entry t as "key=value" (malloc-ed; NULL when out of memory). */
static char *hparam_text(const gfuse_model *m, const gfuse_train_option *t)
{
    const void *p = hparam_place(m, t);
    switch (t->type) {
    case GFUSE_OPT_INT:
    case GFUSE_OPT_MODEL_INT: return gfuse_i_asprintf("%s=%d", t->key, *(const int *)p);
    case GFUSE_OPT_DOUBLE: return gfuse_i_asprintf("%s=%.17g", t->key, *(const double *)p);
    case GFUSE_OPT_UINT64: return gfuse_i_asprintf("%s=%" PRIu64, t->key, *(const uint64_t *)p);
    case GFUSE_OPT_TASK:
        return gfuse_i_asprintf("%s=%s", t->key, task_name(*(const gfuse_task *)p));
    case GFUSE_OPT_MODEL_INT64:
        return gfuse_i_asprintf("%s=%lld", t->key, (long long)*(const int64_t *)p);
    case GFUSE_OPT_CONST: return gfuse_i_asprintf("%s=%s", t->key, t->constant);
    case GFUSE_OPT_STRING:
    case GFUSE_OPT_FLAG: return NULL; /* settings of the run (GFUSE_OPT_RUN), never stored */
    case GFUSE_OPT_CLASS_WEIGHTS: break;
    }
    char *cw = gfuse_i_class_weights_text(&m->opts);
    char *kv = cw ? gfuse_i_asprintf("%s=%s", t->key, cw) : NULL;
    free(cw);
    return kv;
}

/* Every entry of the option table but the settings of the run (GFUSE_OPT_RUN), in table
 * order, into kv (room for gfuse_train_option_count()); *n_kv: how many. */
static gfuse_status hparams_text(const gfuse_model *m, char **kv, int *n_kv)
{
    *n_kv = 0;
    for (int k = 0; k < gfuse_train_option_count(); k++) {
        const gfuse_train_option *t = gfuse_train_option_at(k);
        if (t->flags & GFUSE_OPT_RUN) continue;
        kv[*n_kv] = hparam_text(m, t);
        if (!kv[*n_kv]) return gfuse_i_nomem("the hyperparameters");
        ++*n_kv;
    }
    return GFUSE_OK;
}

gfuse_status gfuse_i_model_hparams(const gfuse_model *m, char ***kv, int *n_kv)
{
    *n_kv = 0;
    *kv = gfuse_i_zalloc((size_t)gfuse_train_option_count(), sizeof **kv);
    gfuse_status st = *kv ? hparams_text(m, *kv, n_kv) : gfuse_i_nomem("the hyperparameters");
    if (st != GFUSE_OK) {
        gfuse_i_free_strings(*kv, gfuse_train_option_count());
        *kv = NULL;
        *n_kv = 0;
    }
    return st;
}

gfuse_status gfuse_model_save(const gfuse_model *m, const char *path)
{
    GFUSE_CHECK_ARG(m != NULL, "model must not be NULL");
    GFUSE_CHECK_ARG(path != NULL && *path, "path must not be empty");
    int M = m->arch.M;
    int64_t n = m->ref.n;
    int n_kv = 0;
    char **kv = gfuse_i_zalloc(gfuse_train_option_count(), sizeof *kv);
    char name[1100];
    gfuse_i_mfile_writer w;
    gfuse_status st = kv ? hparams_text(m, kv, &n_kv) : gfuse_i_nomem("the hyperparameters");
    if (st != GFUSE_OK) goto done;
    st = gfuse_i_mfile_writer_open(&w, path);
    if (st != GFUSE_OK) goto done;
    gfuse_i_mfile_put_strings(&w, GFUSE_I_MFILE_HPARAMS, (const char *const *)kv, n_kv);
    gfuse_i_mfile_put_strings(&w, GFUSE_I_MFILE_MODALITIES, (const char *const *)m->mod_name, M);
    for (int j = 0; j < M; j++) {
        snprintf(name, sizeof name, "%s%s", GFUSE_I_MFILE_FEATURES_PREFIX, m->mod_name[j]);
        gfuse_i_mfile_put_strings(&w, name, (const char *const *)m->feat_name[j], m->arch.d[j]);
    }
    if (m->task == GFUSE_TASK_CLASSIFY)
        gfuse_i_mfile_put_strings(&w, GFUSE_I_MFILE_CLASSES, (const char *const *)m->class_name,
                                  m->n_classes);
    for (int j = 0; j < M; j++) {
        snprintf(name, sizeof name, "%s%s", GFUSE_I_MFILE_MEAN_PREFIX, m->mod_name[j]);
        gfuse_i_mfile_put_f32(&w, name, m->mean[j], m->arch.d[j]);
        snprintf(name, sizeof name, "%s%s", GFUSE_I_MFILE_STD_PREFIX, m->mod_name[j]);
        gfuse_i_mfile_put_f32(&w, name, m->sd[j], m->arch.d[j]);
    }
    double target[2] = {m->target_mean, m->target_sd};
    gfuse_i_mfile_put_f64(&w, "stats/target", target, 2);
    gfuse_i_mfile_put_strings(&w, GFUSE_I_MFILE_REFERENCE_IDS, (const char *const *)m->ref.id, n);
    gfuse_i_mfile_put_bytes(&w, "reference/has", m->ref.has, n * M);
    for (int j = 0; j < M; j++) {
        int64_t d = m->arch.d[j], nh = 0;
        for (int64_t i = 0; i < n; i++) nh += m->ref.has[(int64_t)j * n + i];
        snprintf(name, sizeof name, "reference/values/%s", m->mod_name[j]);
        gfuse_i_mfile_begin_section(&w, name, GFUSE_I_MFILE_F32, nh * d, 0);
        for (int64_t i = 0; i < n; i++)
            if (m->ref.has[(int64_t)j * n + i])
                gfuse_i_mfile_write_data(&w, m->ref.x[j] + i * d, (size_t)d * sizeof(float));
        gfuse_i_mfile_end_section(&w);
    }
    gfuse_i_mfile_put_i32(&w, "best_epoch", m->best_epoch, m->n_members);
    for (int k = 0; k < m->n_members; k++)
        for (int t = 0; t < m->layout.n_tensors; t++) {
            const gfuse_i_tensor *ts = &m->layout.tensors[t];
            snprintf(name, sizeof name, "%s%d/%s", GFUSE_I_MFILE_PARAM_PREFIX, k, ts->name);
            gfuse_i_mfile_put_f32(&w, name, m->params[k] + ts->offset, ts->count);
        }
    st = gfuse_i_mfile_writer_commit(&w);
done:
    for (int j = 0; kv && j < n_kv; j++) free(kv[j]);
    free(kv);
    return st;
}

/* ---- load ------------------------------------------------------------------------------------ */

/* Reads entry t into the options (facts into the model); numbers are checked against the
 * entry's range. Stored-only facts are not read; an OPTIONAL key the file lacks keeps the
 * default. */
static gfuse_status read_hparam(gfuse_model *m, const gfuse_i_mfile *r, const gfuse_train_option *t)
{
    void *p = (void *)hparam_place(m, t);
    const char *s = NULL;
    if (t->flags & GFUSE_OPT_RUN) return GFUSE_OK; /* never stored */
    if ((t->flags & GFUSE_OPT_OPTIONAL) && gfuse_i_mfile_hparam(r, t->key, &s) != GFUSE_OK)
        return GFUSE_OK; /* a file from before the option: its default */
    char *end = NULL;
    int64_t iv = 0;
    double v = 0.0;
    gfuse_status st;
    switch (t->type) {
    case GFUSE_OPT_MODEL_INT64:
    case GFUSE_OPT_STRING:
    case GFUSE_OPT_FLAG: return GFUSE_OK;
    case GFUSE_OPT_CONST: /* one value only (the metric): another is a name gfuse does not know */
        if (gfuse_i_mfile_hparam(r, t->key, &s) != GFUSE_OK) return GFUSE_OK;
        if (t->constant && strcmp(s, t->constant) != 0)
            return gfuse_i_mfile_error(r, "unknown %s \"%.100s\" (this gfuse knows \"%s\")",
                                       t->what, s, t->constant);
        return GFUSE_OK;
    case GFUSE_OPT_INT:
    case GFUSE_OPT_MODEL_INT:
        if ((st = gfuse_i_mfile_hparam_int(r, t->key, &iv)) != GFUSE_OK) return st;
        if (iv < INT_MIN || iv > INT_MAX || !gfuse_i_option_in_range(t, (double)iv))
            return gfuse_i_mfile_error(r, "hyperparameter %s = %lld is out of range", t->key,
                                       (long long)iv);
        *(int *)p = (int)iv;
        return GFUSE_OK;
    case GFUSE_OPT_DOUBLE:
        if ((st = gfuse_i_mfile_hparam_double(r, t->key, &v)) != GFUSE_OK) return st;
        if (!gfuse_i_option_in_range(t, v))
            return gfuse_i_mfile_error(r, "hyperparameter %s = %.17g is out of range", t->key, v);
        *(double *)p = v;
        return GFUSE_OK;
    case GFUSE_OPT_UINT64:
        if ((st = gfuse_i_mfile_hparam(r, t->key, &s)) != GFUSE_OK) return st;
        *(uint64_t *)p = strtoull(s, &end, 10);
        if (!*s || *end)
            return gfuse_i_mfile_error(r, "hyperparameter %s = \"%s\" is no number", t->key, s);
        return GFUSE_OK;
    case GFUSE_OPT_TASK:
        if ((st = gfuse_i_mfile_hparam(r, t->key, &s)) != GFUSE_OK) return st;
        if (strcmp(s, "classify") == 0)
            *(gfuse_task *)p = GFUSE_TASK_CLASSIFY;
        else if (strcmp(s, "regress") == 0)
            *(gfuse_task *)p = GFUSE_TASK_REGRESS;
        else
            return gfuse_i_mfile_error(r, "unknown task \"%s\"", s);
        return GFUSE_OK;
    case GFUSE_OPT_CLASS_WEIGHTS:
        if ((st = gfuse_i_mfile_hparam(r, t->key, &s)) != GFUSE_OK) return st;
        st = gfuse_train_options_parse_class_weights(&m->opts, s, "hyperparameter class_weights",
                                                     &m->class_w_opt);
        if (st == GFUSE_ERR_ARG) return gfuse_i_mfile_error(r, "%s", gfuse_last_error());
        return st;
    }
    return GFUSE_OK;
}

static gfuse_status read_hparams(gfuse_model *m, const gfuse_i_mfile *r)
{
    gfuse_train_options *o = &m->opts;
    gfuse_train_options_init(o);
    gfuse_status st = GFUSE_OK;
    for (int k = 0; k < gfuse_train_option_count() && st == GFUSE_OK; k++)
        st = read_hparam(m, r, gfuse_train_option_at(k));
    if (st != GFUSE_OK) return st;
    m->task = o->task;
    m->n_members = o->ensemble;
    if (gfuse_train_options_check(o, GFUSE_OPT_BY_NAME) != GFUSE_OK)
        return gfuse_i_mfile_error(r, "%s", gfuse_last_error());
    return GFUSE_OK;
}

static gfuse_status copy_string_list(char ***dst, const char *const *src, int64_t n)
{
    *dst = gfuse_i_zalloc(n, sizeof **dst);
    if (!*dst) return gfuse_i_nomem("the model's names");
    for (int64_t t = 0; t < n; t++) {
        (*dst)[t] = gfuse_i_strdup(src[t]);
        if (!(*dst)[t]) return gfuse_i_nomem("the model's names");
    }
    return GFUSE_OK;
}

static gfuse_status read_names(gfuse_model *m, const gfuse_i_mfile *r)
{
    const char *const *names = NULL;
    int64_t M = 0;
    char name[1100];
    gfuse_status st = gfuse_i_mfile_get_strings(r, GFUSE_I_MFILE_MODALITIES, &names, &M);
    if (st != GFUSE_OK) return st;
    if (M < 1 || M > 4096) return gfuse_i_mfile_error(r, "%lld modalities", (long long)M);
    m->arch.M = (int)M;
    m->arch.d = gfuse_i_zalloc(M, sizeof *m->arch.d);
    m->feat_name = gfuse_i_zalloc(M, sizeof *m->feat_name);
    m->mean = gfuse_i_zalloc(M, sizeof *m->mean);
    m->sd = gfuse_i_zalloc(M, sizeof *m->sd);
    if (!m->arch.d || !m->feat_name || !m->mean || !m->sd) return gfuse_i_nomem("the model");
    if ((st = copy_string_list(&m->mod_name, names, M)) != GFUSE_OK) return st;
    for (int j = 0; j < M; j++) {
        const char *const *feat = NULL;
        int64_t d = 0;
        const float *v = NULL;
        snprintf(name, sizeof name, "%s%s", GFUSE_I_MFILE_FEATURES_PREFIX, names[j]);
        if ((st = gfuse_i_mfile_get_strings(r, name, &feat, &d)) != GFUSE_OK) return st;
        if (d < 1 || d > INT32_MAX)
            return gfuse_i_mfile_error(r, "modality %s has %lld features", names[j], (long long)d);
        m->arch.d[j] = d;
        if ((st = copy_string_list(&m->feat_name[j], feat, d)) != GFUSE_OK) return st;
        m->mean[j] = gfuse_i_alloc(d, sizeof(float));
        m->sd[j] = gfuse_i_alloc(d, sizeof(float));
        if (!m->mean[j] || !m->sd[j]) return gfuse_i_nomem("the statistics");
        snprintf(name, sizeof name, "%s%s", GFUSE_I_MFILE_MEAN_PREFIX, names[j]);
        if ((st = gfuse_i_mfile_get_f32_n(r, name, d, &v)) != GFUSE_OK) return st;
        memcpy(m->mean[j], v, (size_t)d * sizeof(float));
        snprintf(name, sizeof name, "%s%s", GFUSE_I_MFILE_STD_PREFIX, names[j]);
        if ((st = gfuse_i_mfile_get_f32_n(r, name, d, &v)) != GFUSE_OK) return st;
        memcpy(m->sd[j], v, (size_t)d * sizeof(float));
    }
    if (m->task == GFUSE_TASK_CLASSIFY) {
        int64_t K = 0;
        if ((st = gfuse_i_mfile_get_strings(r, GFUSE_I_MFILE_CLASSES, &names, &K)) != GFUSE_OK)
            return st;
        if (K < 2 || K > 1 << 20) return gfuse_i_mfile_error(r, "%lld classes", (long long)K);
        m->n_classes = (int)K; /* before the copy, so that a partial copy is freed */
        if ((st = copy_string_list(&m->class_name, names, K)) != GFUSE_OK) return st;
    }
    const double *target = NULL;
    int64_t nt = 0;
    if ((st = gfuse_i_mfile_get_f64(r, "stats/target", &target, &nt)) != GFUSE_OK) return st;
    if (nt != 2) return gfuse_i_mfile_error(r, "section \"stats/target\" has %lld values", (long long)nt);
    m->target_mean = target[0];
    m->target_sd = target[1];
    return GFUSE_OK;
}

static gfuse_status read_references(gfuse_model *m, const gfuse_i_mfile *r)
{
    const char *const *ids = NULL;
    int64_t n = 0, nb = 0;
    int M = m->arch.M;
    const void *has = NULL;
    char name[1100];
    gfuse_status st = gfuse_i_mfile_get_strings(r, GFUSE_I_MFILE_REFERENCE_IDS, &ids, &n);
    if (st != GFUSE_OK) return st;
    if (n < 1) return gfuse_i_mfile_error(r, "no reference sample");
    if ((st = gfuse_i_mfile_get_bytes(r, "reference/has", &has, &nb)) != GFUSE_OK) return st;
    if (nb != n * M)
        return gfuse_i_mfile_error(r, "section \"reference/has\" has %lld bytes, expected %lld",
                                   (long long)nb, (long long)(n * M));
    if ((st = gfuse_i_samples_alloc(&m->ref, n, M, m->arch.d)) != GFUSE_OK) return st;
    memcpy(m->ref.has, has, (size_t)(n * M));
    for (int64_t i = 0; i < n; i++) {
        m->ref.id[i] = gfuse_i_strdup(ids[i]);
        if (!m->ref.id[i]) return gfuse_i_nomem("the reference ids");
    }
    for (int j = 0; j < M; j++) {
        int64_t d = m->arch.d[j], nh = 0;
        for (int64_t i = 0; i < n; i++) {
            uint8_t h = m->ref.has[(int64_t)j * n + i];
            if (h > 1) return gfuse_i_mfile_error(r, "section \"reference/has\" is malformed");
            nh += h;
        }
        const float *v = NULL;
        snprintf(name, sizeof name, "reference/values/%s", m->mod_name[j]);
        if ((st = gfuse_i_mfile_get_f32_n(r, name, nh * d, &v)) != GFUSE_OK) return st;
        for (int64_t i = 0; i < n; i++) {
            if (!m->ref.has[(int64_t)j * n + i]) continue;
            memcpy(m->ref.x[j] + i * d, v, (size_t)d * sizeof(float));
            v += d;
        }
    }
    return GFUSE_OK;
}

static gfuse_status read_params(gfuse_model *m, const gfuse_i_mfile *r)
{
    char name[1100];
    const int32_t *best = NULL;
    int64_t nb = 0;
    gfuse_status st = gfuse_i_mfile_get_i32(r, "best_epoch", &best, &nb);
    if (st != GFUSE_OK) return st;
    if (nb != m->n_members)
        return gfuse_i_mfile_error(r, "section \"best_epoch\" has %lld values for %d members",
                                   (long long)nb, m->n_members);
    m->params = gfuse_i_zalloc(m->n_members, sizeof *m->params);
    m->best_epoch = gfuse_i_alloc(m->n_members, sizeof *m->best_epoch);
    if (!m->params || !m->best_epoch) return gfuse_i_nomem("the parameters");
    memcpy(m->best_epoch, best, (size_t)m->n_members * sizeof *best);
    for (int k = 0; k < m->n_members; k++) {
        m->params[k] = gfuse_i_alloc(m->layout.total, sizeof(float));
        if (!m->params[k]) return gfuse_i_nomem("the parameters");
        for (int t = 0; t < m->layout.n_tensors; t++) {
            const gfuse_i_tensor *ts = &m->layout.tensors[t];
            const float *v = NULL;
            snprintf(name, sizeof name, "%s%d/%s", GFUSE_I_MFILE_PARAM_PREFIX, k, ts->name);
            if (strncmp(ts->name, "linear.", 7) == 0 && !gfuse_i_mfile_find(r, name)) {
                /* a file from before the linear path: none (its output is the rest's) */
                memset(m->params[k] + ts->offset, 0, (size_t)ts->count * sizeof(float));
                m->opts.linear_mix = 0.0;
                continue;
            }
            if ((st = gfuse_i_mfile_get_f32_n(r, name, ts->count, &v)) != GFUSE_OK) return st;
            memcpy(m->params[k] + ts->offset, v, (size_t)ts->count * sizeof(float));
        }
    }
    return GFUSE_OK;
}

/* Names must be unique within a list: the first repeat is a GFUSE_ERR_MODEL naming it. */
static gfuse_status check_unique(const gfuse_i_mfile *r, char *const *names, int64_t n,
                                 const char *what)
{
    gfuse_i_idmap *seen = gfuse_i_idmap_new(n);
    if (!seen) return gfuse_i_nomem("the model's names");
    gfuse_status st = GFUSE_OK;
    for (int64_t k = 0; k < n && st == GFUSE_OK; k++) {
        int ins = gfuse_i_idmap_insert(seen, names[k], k, NULL);
        if (ins < 0) st = gfuse_i_nomem("the model's names");
        else if (ins == 0)
            st = gfuse_i_mfile_error(r, "%s \"%.100s\" appears twice", what, names[k]);
    }
    gfuse_i_idmap_free(seen);
    return st;
}

/* What the checksum cannot vouch for: a file written with a recomputed CRC, or by a broken
 * training, may hold values no model has. Finite statistics and weights, positive standard
 * deviations, unique modality, feature and class names; GFUSE_ERR_MODEL naming the first
 * problem. */
static gfuse_status validate(const gfuse_model *m, const gfuse_i_mfile *r)
{
    gfuse_status st = check_unique(r, m->mod_name, m->arch.M, "modality");
    for (int j = 0; j < m->arch.M && st == GFUSE_OK; j++) {
        st = check_unique(r, m->feat_name[j], m->arch.d[j], "feature");
        for (int64_t f = 0; f < m->arch.d[j] && st == GFUSE_OK; f++) {
            float mu = m->mean[j][f], sd = m->sd[j][f];
            if (!isfinite(mu))
                st = gfuse_i_mfile_error(r, "the mean of feature \"%.100s\" of modality %s is "
                                         "%g", m->feat_name[j][f], m->mod_name[j], (double)mu);
            else if (!isfinite(sd) || !(sd > 0.0f))
                st = gfuse_i_mfile_error(r, "the standard deviation of feature \"%.100s\" of "
                                         "modality %s is %g; it must be positive and finite",
                                         m->feat_name[j][f], m->mod_name[j], (double)sd);
        }
    }
    if (st == GFUSE_OK && m->task == GFUSE_TASK_CLASSIFY)
        st = check_unique(r, m->class_name, m->n_classes, "class");
    if (st == GFUSE_OK && (!isfinite(m->target_mean) || !isfinite(m->target_sd) ||
                           !(m->target_sd > 0.0)))
        st = gfuse_i_mfile_error(r, "the target's mean and standard deviation are %g and %g",
                                 m->target_mean, m->target_sd);
    for (int k = 0; k < m->n_members && st == GFUSE_OK; k++)
        for (int t = 0; t < m->layout.n_tensors && st == GFUSE_OK; t++) {
            const gfuse_i_tensor *ts = &m->layout.tensors[t];
            const float *v = m->params[k] + ts->offset;
            for (int64_t e = 0; e < ts->count; e++)
                if (!isfinite(v[e])) {
                    st = gfuse_i_mfile_error(r, "member %d: weight %lld of %s is %g", k + 1,
                                             (long long)e, ts->name, (double)v[e]);
                    break;
                }
        }
    return st;
}

gfuse_status gfuse_model_load(gfuse_model **out, const char *path)
{
    GFUSE_CHECK_ARG(out != NULL, "out must not be NULL");
    *out = NULL;
    GFUSE_CHECK_ARG(path != NULL && *path, "path must not be empty");
    gfuse_i_mfile *r = NULL;
    gfuse_model *m = NULL;
    gfuse_status st = gfuse_i_mfile_read(&r, path);
    if (st != GFUSE_OK) return st;
    st = gfuse_i_model_new(&m);
    if (st == GFUSE_OK) st = read_hparams(m, r);
    if (st == GFUSE_OK) st = read_names(m, r);
    if (st == GFUSE_OK) {
        m->arch.F = m->opts.hidden;
        m->arch.H = m->opts.heads;
        m->arch.D = m->opts.hidden / m->opts.heads;
        m->arch.L = m->opts.layers;
        m->arch.K = m->task == GFUSE_TASK_CLASSIFY ? m->n_classes : 1;
        st = gfuse_i_layout_init(&m->layout, &m->arch);
    }
    if (st == GFUSE_OK) st = read_references(m, r);
    if (st == GFUSE_OK) st = read_params(m, r);
    if (st == GFUSE_OK) st = validate(m, r);
    gfuse_i_mfile_free(&r);
    if (st != GFUSE_OK) {
        gfuse_model_free(&m);
        return st;
    }
    *out = m;
    return GFUSE_OK;
}
