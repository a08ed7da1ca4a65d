/* cohort.c: the cohort handle: allocation, the in-memory builder, accessors, warnings, free. */
#include "cohort/cohort.h"
#include "core/csv.h"
#include "core/utf8.h"
#include "core/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- allocation and shared helpers -------------------------------------------------------- */

gfuse_status gfuse_i_cohort_alloc(gfuse_cohort **out, int64_t n)
{
    *out = NULL;
    gfuse_cohort *c = gfuse_i_zalloc(1, sizeof *c);
    if (!c) return gfuse_i_nomem("a cohort");
    c->n = n;
    c->id = gfuse_i_zalloc(n, sizeof *c->id);
    c->label = gfuse_i_alloc(n, sizeof *c->label);
    c->target = gfuse_i_alloc(n, sizeof *c->target);
    c->split = gfuse_i_zalloc(n, sizeof *c->split);
    c->strings = gfuse_i_strpool_new();
    if (!c->id || !c->label || !c->target || !c->split || !c->strings) {
        gfuse_cohort_free(&c);
        return gfuse_i_nomem("a cohort");
    }
    for (int64_t i = 0; i < n; i++) {
        c->label[i] = -1;
        c->target[i] = NAN;
    }
    c->task = GFUSE_TASK_AUTO;
    *out = c;
    return GFUSE_OK;
}

gfuse_status gfuse_i_cohort_view(gfuse_i_view *v, const gfuse_cohort *c)
{
    memset(v, 0, sizeof *v);
    int64_t n = c->n;
    int nm = c->m;
    size_t m1 = (size_t)(nm > 0 ? nm : 1);
    /* One block: d, then the x and row pointers, then the presence bytes. */
    size_t head = m1 * (sizeof(int64_t) + sizeof(float *) + sizeof(int64_t *));
    char *block = gfuse_i_alloc(head + (size_t)(n * nm), 1);
    if (!block) return gfuse_i_nomem("the cohort's view");
    int64_t *d = (int64_t *)block;
    const float **x = (const float **)(block + m1 * sizeof(int64_t));
    const int64_t **row = (const int64_t **)(block + m1 * (sizeof(int64_t) + sizeof(float *)));
    uint8_t *has = (uint8_t *)(block + head);
    for (int m = 0; m < nm; m++) {
        const gfuse_i_modality *cm = &c->mod[m];
        d[m] = cm->d;
        x[m] = cm->x;
        row[m] = cm->row;
        for (int64_t i = 0; i < n; i++)
            has[(int64_t)m * n + i] = cm->present[i] && cm->row[i] >= 0 ? 1 : 0;
    }
    v->n = n;
    v->M = nm;
    v->d = d;
    v->x = x;
    v->row = row;
    v->has = has;
    v->id = (const char *const *)c->id;
    v->owned = block;
    return GFUSE_OK;
}

gfuse_status gfuse_i_cohort_add_slot(gfuse_cohort *c, int *m)
{
    gfuse_i_modality *mod = gfuse_i_realloc(c->mod, c->m + 1, sizeof *mod);
    if (!mod) return gfuse_i_nomem("a modality");
    c->mod = mod;
    memset(&c->mod[c->m], 0, sizeof *c->mod);
    *m = c->m++;
    return GFUSE_OK;
}

int gfuse_i_row_all_missing(const float *x, int64_t d)
{
    for (int64_t j = 0; j < d; j++)
        if (!isnan(x[j])) return 0;
    return 1;
}

int gfuse_i_cohort_labelled(const gfuse_cohort *c, gfuse_task task, int64_t i)
{
    if (task == GFUSE_TASK_REGRESS) return c->target && !isnan(c->target[i]);
    return c->label && c->label[i] >= 0;
}

void gfuse_i_modality_recount(const gfuse_cohort *c, gfuse_i_modality *mod)
{
    int64_t missing = 0;
    for (int64_t i = 0; i < c->n; i++) {
        if (!mod->present[i]) continue;
        const float *x = mod->x + mod->row[i] * mod->d;
        for (int64_t j = 0; j < mod->d; j++) missing += isnan(x[j]) != 0;
    }
    mod->n_missing_cells = missing;
}

gfuse_status gfuse_i_cohort_warn(gfuse_cohort *c, const char *fmt, ...)
{
    char **grown = gfuse_i_realloc(c->warning, c->n_warnings + 1, sizeof *grown);
    if (!grown) return gfuse_i_nomem("a warning");
    c->warning = grown;
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *msg = len >= 0 ? gfuse_i_alloc((size_t)len + 1, 1) : NULL;
    if (!msg) return gfuse_i_nomem("a warning");
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)len + 1, fmt, ap);
    va_end(ap);
    c->warning[c->n_warnings++] = msg;
    return GFUSE_OK;
}

enum { IDLIST_SHOWN = 5 };

void gfuse_i_idlist_add(gfuse_i_idlist *l, const char *id)
{
    if (l->count < IDLIST_SHOWN) {
        size_t used = strlen(l->text);
        snprintf(l->text + used, sizeof l->text - used, "%s\"%.40s\"", used ? ", " : "", id);
    }
    l->count++;
}

gfuse_status gfuse_i_cohort_warn_ids(gfuse_cohort *c, const gfuse_i_idlist *l, const char *head)
{
    if (l->count == 0) return GFUSE_OK;
    if (l->count <= IDLIST_SHOWN) return gfuse_i_cohort_warn(c, "%s: %s", head, l->text);
    return gfuse_i_cohort_warn(c, "%s: %s, ... (%lld in all)", head, l->text, (long long)l->count);
}

/* Frees the arrays of one modality (its feature name strings live in the cohort's pool). */
static void modality_free(gfuse_i_modality *mod)
{
    free(mod->name);
    free(mod->file);
    free(mod->feature);
    free(mod->x);
    free(mod->row);
    free(mod->present);
}

void gfuse_cohort_free(gfuse_cohort **cp)
{
    if (!cp || !*cp) return;
    gfuse_cohort *c = *cp;
    for (int m = 0; m < c->m; m++) {
        modality_free(&c->mod[m]);
    }
    free(c->mod);
    free(c->id);
    gfuse_i_idmap_free(c->index);
    gfuse_i_strpool_free(c->strings);
    gfuse_i_free_strings(c->class_name, c->n_classes);
    free(c->label);
    free(c->target);
    free(c->split);
    gfuse_i_free_strings(c->warning, c->n_warnings);
    free(c);
    *cp = NULL;
}

void gfuse_cohort_options_init(gfuse_cohort_options *opts)
{
    if (!opts) return;
    memset(opts, 0, sizeof *opts);
    opts->task = GFUSE_TASK_AUTO;
}

/* ---- builder -------------------------------------------------------------------------------- */

gfuse_status gfuse_cohort_new(gfuse_cohort **out, int64_t n_samples, const char *const *ids)
{
    GFUSE_CHECK_ARG(out, "out must not be NULL");
    *out = NULL;
    GFUSE_CHECK_ARG(n_samples >= 1, "n_samples must be at least 1, got %lld",
                    (long long)n_samples);
    GFUSE_CHECK_ARG(ids, "ids must not be NULL");
    gfuse_cohort *c = NULL;
    gfuse_status st = gfuse_i_cohort_alloc(&c, n_samples);
    if (st != GFUSE_OK) return st;
    c->index = gfuse_i_idmap_new(n_samples);
    GFUSE_TRY_MEM(c->index, "the sample index");
    for (int64_t i = 0; i < n_samples; i++) {
        if (!ids[i] || !ids[i][0])
            GFUSE_FAIL(gfuse_i_error(GFUSE_ERR_ARG, "ids[%lld] must be a non-empty string",
                                     (long long)i));
        c->id[i] = gfuse_i_strpool_add(c->strings, ids[i], strlen(ids[i]));
        GFUSE_TRY_MEM(c->id[i], "sample ids");
        int64_t first = -1;
        int ins = gfuse_i_idmap_insert(c->index, c->id[i], i, &first);
        GFUSE_TRY_MEM(ins >= 0, "the sample index");
        if (ins == 0)
            GFUSE_FAIL(gfuse_i_error(GFUSE_ERR_ARG, "ids[%lld] \"%s\" repeats ids[%lld]",
                                     (long long)i, ids[i], (long long)first));
    }
done:
    if (st != GFUSE_OK) gfuse_cohort_free(&c);
    *out = c;
    return st;
}

/* Checks the arguments of gfuse_cohort_add_modality before anything is allocated. */
static gfuse_status check_new_modality(const gfuse_cohort *c, const char *name, int64_t d,
                                       const char *const *feature_names, const float *values)
{
    GFUSE_CHECK_ARG(c, "cohort must not be NULL");
    GFUSE_CHECK_ARG(name && name[0], "the modality name must be a non-empty string");
    GFUSE_CHECK_ARG(gfuse_i_utf8_valid(name), "the modality name is not valid UTF-8");
    GFUSE_CHECK_ARG(d >= 1, "d must be at least 1, got %lld", (long long)d);
    GFUSE_CHECK_ARG(values, "values must not be NULL");
    GFUSE_CHECK_ARG(c->m < 64 * 1024, "too many modalities (%d)", c->m);
    for (int m = 0; m < c->m; m++)
        GFUSE_CHECK_ARG(strcmp(c->mod[m].name, name) != 0, "the cohort already has a modality "
                        "named \"%s\"", name);
    for (int64_t j = 0; feature_names && j < d; j++)
        GFUSE_CHECK_ARG(feature_names[j] && feature_names[j][0],
                        "feature_names[%lld] must be a non-empty string", (long long)j);
    for (int64_t k = 0; k < c->n * d; k++)
        GFUSE_CHECK_ARG(!isinf(values[k]), "values[%lld] is infinite (sample %lld, feature %lld)",
                        (long long)k, (long long)(k / d), (long long)(k % d));
    return GFUSE_OK;
}

/* Feature names of a new modality: copies of the given ones (unique), or f1..fd. */
static gfuse_status set_feature_names(gfuse_cohort *c, gfuse_i_modality *mod,
                                      const char *const *names)
{
    gfuse_status st = GFUSE_OK;
    gfuse_i_idmap *seen = gfuse_i_idmap_new(mod->d);
    mod->feature = gfuse_i_alloc(mod->d, sizeof *mod->feature);
    if (!seen || !mod->feature) {
        st = gfuse_i_nomem("feature names");
        goto done;
    }
    for (int64_t j = 0; j < mod->d; j++) {
        char made[32];
        const char *name = names ? names[j] : made;
        if (!names) snprintf(made, sizeof made, "f%lld", (long long)j + 1);
        mod->feature[j] = gfuse_i_strpool_add(c->strings, name, strlen(name));
        if (!mod->feature[j]) {
            st = gfuse_i_nomem("feature names");
            goto done;
        }
        int64_t first = -1;
        int ins = gfuse_i_idmap_insert(seen, mod->feature[j], j, &first);
        if (ins < 0) {
            st = gfuse_i_nomem("feature names");
            goto done;
        }
        if (ins == 0) {
            st = gfuse_i_error(GFUSE_ERR_ARG, "feature_names[%lld] \"%s\" repeats "
                               "feature_names[%lld]", (long long)j, name, (long long)first);
            goto done;
        }
    }
done:
    gfuse_i_idmap_free(seen);
    return st;
}

gfuse_status gfuse_cohort_add_modality(gfuse_cohort *c, const char *name, int64_t d,
                                       const char *const *feature_names, const float *values)
{
    gfuse_status st = check_new_modality(c, name, d, feature_names, values);
    if (st != GFUSE_OK) return st;
    GFUSE_CHECK_ARG((uint64_t)c->n <= SIZE_MAX / sizeof(float) / (uint64_t)d,
                    "%lld x %lld values do not fit in memory", (long long)c->n, (long long)d);
    int m;
    st = gfuse_i_cohort_add_slot(c, &m);
    if (st != GFUSE_OK) return st;
    gfuse_i_modality *mod = &c->mod[m];
    mod->d = d;
    mod->n_rows = c->n;
    mod->name = gfuse_i_strdup(name);
    mod->file = gfuse_i_strdup("");
    mod->x = gfuse_i_alloc((size_t)c->n * (size_t)d, sizeof *mod->x);
    mod->row = gfuse_i_alloc(c->n, sizeof *mod->row);
    mod->present = gfuse_i_alloc(c->n, 1);
    GFUSE_TRY_MEM(mod->name && mod->file && mod->x && mod->row && mod->present, "a modality");
    GFUSE_TRY(set_feature_names(c, mod, feature_names));
    memcpy(mod->x, values, (size_t)c->n * (size_t)d * sizeof *mod->x);
    for (int64_t i = 0; i < c->n; i++) {
        mod->row[i] = i;
        mod->present[i] = !gfuse_i_row_all_missing(mod->x + i * d, d);
    }
    gfuse_i_modality_recount(c, mod);
done:
    if (st != GFUSE_OK) {
        /* Feature name strings stay in the pool until the cohort is freed; the slot goes. */
        modality_free(mod);
        c->m--;
    }
    return st;
}

/* Makes c a cohort of task with the classes names (n_classes; NULL, 0 for regression), whose
 * labels or targets are already copied in: the other array is emptied (NaN targets, -1 labels). */
static gfuse_status set_task(gfuse_cohort *c, gfuse_task task, char **names, int n_classes)
{
    gfuse_i_free_strings(c->class_name, c->n_classes);
    c->class_name = names;
    c->n_classes = n_classes;
    if (task == GFUSE_TASK_CLASSIFY)
        for (int64_t i = 0; i < c->n; i++) c->target[i] = NAN;
    else
        for (int64_t i = 0; i < c->n; i++) c->label[i] = -1;
    c->task = task;
    return GFUSE_OK;
}

gfuse_status gfuse_cohort_set_classes(gfuse_cohort *c, int n_classes,
                                      const char *const *class_names, const int32_t *label)
{
    GFUSE_CHECK_ARG(c, "cohort must not be NULL");
    GFUSE_CHECK_ARG(n_classes >= 1, "n_classes must be at least 1, got %d", n_classes);
    GFUSE_CHECK_ARG(class_names, "class_names must not be NULL");
    GFUSE_CHECK_ARG(label, "label must not be NULL");
    for (int k = 0; k < n_classes; k++) {
        GFUSE_CHECK_ARG(class_names[k] && class_names[k][0],
                        "class_names[%d] must be a non-empty string", k);
        for (int q = 0; q < k; q++)
            GFUSE_CHECK_ARG(strcmp(class_names[q], class_names[k]) != 0,
                            "class_names[%d] \"%s\" repeats class_names[%d]", k, class_names[k], q);
    }
    for (int64_t i = 0; i < c->n; i++)
        GFUSE_CHECK_ARG(label[i] >= -1 && label[i] < n_classes,
                        "label[%lld] must be -1 or in [0, %d), got %d", (long long)i, n_classes,
                        (int)label[i]);
    char **names = gfuse_i_zalloc(n_classes, sizeof *names);
    if (!names) return gfuse_i_nomem("class names");
    for (int k = 0; k < n_classes; k++) {
        names[k] = gfuse_i_strdup(class_names[k]);
        if (!names[k]) {
            gfuse_i_free_strings(names, n_classes);
            return gfuse_i_nomem("class names");
        }
    }
    memcpy(c->label, label, (size_t)c->n * sizeof *label);
    return set_task(c, GFUSE_TASK_CLASSIFY, names, n_classes);
}

gfuse_status gfuse_cohort_set_targets(gfuse_cohort *c, const double *target)
{
    GFUSE_CHECK_ARG(c, "cohort must not be NULL");
    GFUSE_CHECK_ARG(target, "target must not be NULL");
    for (int64_t i = 0; i < c->n; i++)
        GFUSE_CHECK_ARG(!isinf(target[i]), "target[%lld] is infinite", (long long)i);
    memcpy(c->target, target, (size_t)c->n * sizeof *target);
    return set_task(c, GFUSE_TASK_REGRESS, NULL, 0);
}

gfuse_status gfuse_cohort_set_split(gfuse_cohort *c, const gfuse_split *split)
{
    GFUSE_CHECK_ARG(c, "cohort must not be NULL");
    GFUSE_CHECK_ARG(split, "split must not be NULL");
    for (int64_t i = 0; i < c->n; i++)
        GFUSE_CHECK_ARG(split[i] >= GFUSE_SPLIT_NONE && split[i] <= GFUSE_SPLIT_TEST,
                        "split[%lld] must be a gfuse_split value, got %d", (long long)i,
                        (int)split[i]);
    for (int64_t i = 0; i < c->n; i++) c->split[i] = (uint8_t)split[i];
    c->has_split = 1;
    return GFUSE_OK;
}

gfuse_status gfuse_cohort_hide(gfuse_cohort *c, int64_t i, int m)
{
    GFUSE_CHECK_ARG(c, "cohort must not be NULL");
    GFUSE_CHECK_ARG(i >= 0 && i < c->n, "sample index must be in [0, %lld), got %lld",
                    (long long)c->n, (long long)i);
    GFUSE_CHECK_ARG(m >= 0 && m < c->m, "modality index must be in [0, %d), got %d", c->m, m);
    gfuse_i_modality *mod = &c->mod[m];
    if (!mod->present[i]) return GFUSE_OK;
    const float *x = mod->x + mod->row[i] * mod->d;
    for (int64_t j = 0; j < mod->d; j++) mod->n_missing_cells -= isnan(x[j]) != 0;
    mod->present[i] = 0;
    return GFUSE_OK;
}

/* ---- accessors -------------------------------------------------------------------------------- */

static int valid_sample(const gfuse_cohort *c, int64_t i) { return c && i >= 0 && i < c->n; }
static int valid_modality(const gfuse_cohort *c, int m) { return c && m >= 0 && m < c->m; }

int64_t gfuse_cohort_n_samples(const gfuse_cohort *c) { return c ? c->n : 0; }
int gfuse_cohort_n_modalities(const gfuse_cohort *c) { return c ? c->m : 0; }

const char *gfuse_cohort_sample_id(const gfuse_cohort *c, int64_t i)
{
    return valid_sample(c, i) ? c->id[i] : NULL;
}

int64_t gfuse_cohort_find_sample(const gfuse_cohort *c, const char *id)
{
    if (!c || !id || !c->index) return -1;
    return gfuse_i_idmap_find(c->index, id);
}

const char *gfuse_cohort_modality_name(const gfuse_cohort *c, int m)
{
    return valid_modality(c, m) ? c->mod[m].name : NULL;
}

const char *gfuse_cohort_modality_file(const gfuse_cohort *c, int m)
{
    return valid_modality(c, m) ? c->mod[m].file : NULL;
}

int64_t gfuse_cohort_n_features(const gfuse_cohort *c, int m)
{
    return valid_modality(c, m) ? c->mod[m].d : 0;
}

const char *gfuse_cohort_feature_name(const gfuse_cohort *c, int m, int64_t j)
{
    if (!valid_modality(c, m) || j < 0 || j >= c->mod[m].d) return NULL;
    return c->mod[m].feature[j];
}

int gfuse_cohort_has_modality(const gfuse_cohort *c, int64_t i, int m)
{
    return valid_sample(c, i) && valid_modality(c, m) && c->mod[m].present[i];
}

const float *gfuse_cohort_values(const gfuse_cohort *c, int64_t i, int m)
{
    if (!gfuse_cohort_has_modality(c, i, m)) return NULL;
    return c->mod[m].x + c->mod[m].row[i] * c->mod[m].d;
}

const float *gfuse_cohort_values_unmasked(const gfuse_cohort *c, int64_t i, int m)
{
    if (!valid_sample(c, i) || !valid_modality(c, m) || c->mod[m].row[i] < 0) return NULL;
    return c->mod[m].x + c->mod[m].row[i] * c->mod[m].d;
}

int64_t gfuse_cohort_n_missing_cells(const gfuse_cohort *c, int m)
{
    return valid_modality(c, m) ? c->mod[m].n_missing_cells : 0;
}

gfuse_task gfuse_cohort_task(const gfuse_cohort *c) { return c ? c->task : GFUSE_TASK_AUTO; }
int gfuse_cohort_n_classes(const gfuse_cohort *c) { return c ? c->n_classes : 0; }

const char *gfuse_cohort_class_name(const gfuse_cohort *c, int k)
{
    return c && k >= 0 && k < c->n_classes ? c->class_name[k] : NULL;
}

int32_t gfuse_cohort_label(const gfuse_cohort *c, int64_t i)
{
    return valid_sample(c, i) ? c->label[i] : -1;
}

double gfuse_cohort_target(const gfuse_cohort *c, int64_t i)
{
    return valid_sample(c, i) ? c->target[i] : NAN;
}

gfuse_split gfuse_cohort_split(const gfuse_cohort *c, int64_t i)
{
    return valid_sample(c, i) ? (gfuse_split)c->split[i] : GFUSE_SPLIT_NONE;
}

int gfuse_cohort_has_split(const gfuse_cohort *c) { return c ? c->has_split : 0; }

int64_t gfuse_cohort_n_warnings(const gfuse_cohort *c) { return c ? c->n_warnings : 0; }

const char *gfuse_cohort_warning(const gfuse_cohort *c, int64_t k)
{
    return c && k >= 0 && k < c->n_warnings ? c->warning[k] : NULL;
}
