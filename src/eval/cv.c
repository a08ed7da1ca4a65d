/* cv.c: gfuse_cv_run: stratified folds, gfuse and the baselines trained and scored on the same
 * folds of every rate and repeat, per-fold and pooled metrics (include/gfuse.h). */
#include "cohort/cohort.h"
#include "core/rng.h"
#include "core/util.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Random streams of the fold deal (the masks and trainings use their own seeds). */
enum { STREAM_FOLDS = 0xC5F01D5u };

#define N_METHODS 3 /* gfuse, mean, late */

void gfuse_cv_options_init(gfuse_cv_options *o)
{
    memset(o, 0, sizeof *o);
    o->folds = 5;
    o->repeats = 1;
    o->model = 1;
    o->baseline_c = 0.1;
    o->seed = 1;
    gfuse_train_options_init(&o->train);
}

const char *gfuse_cv_method_name(int method)
{
    if (method == 0) return "gfuse";
    if (method >= 1 && method < N_METHODS) return gfuse_baseline_name((gfuse_baseline)(method - 1));
    return NULL;
}

/* The cohort's presence and split, to give back at the end. */
typedef struct {
    uint8_t **present; /* per modality, n */
    uint8_t *split;
    int has_split;
} saved_state;

static gfuse_status state_save(saved_state *s, const gfuse_cohort *c)
{
    memset(s, 0, sizeof *s);
    s->present = gfuse_i_zalloc((size_t)c->m, sizeof *s->present);
    s->split = gfuse_i_alloc((size_t)c->n, 1);
    if (!s->present || !s->split) return gfuse_i_nomem("the cohort's saved state");
    for (int m = 0; m < c->m; m++) {
        s->present[m] = gfuse_i_alloc((size_t)c->n, 1);
        if (!s->present[m]) return gfuse_i_nomem("the cohort's saved state");
        memcpy(s->present[m], c->mod[m].present, (size_t)c->n);
    }
    memcpy(s->split, c->split, (size_t)c->n);
    s->has_split = c->has_split;
    return GFUSE_OK;
}

static void state_restore_presence(const saved_state *s, gfuse_cohort *c)
{
    for (int m = 0; m < c->m; m++) {
        if (!s->present || !s->present[m]) continue;
        memcpy(c->mod[m].present, s->present[m], (size_t)c->n);
        gfuse_i_modality_recount(c, &c->mod[m]);
    }
}

static void state_free(saved_state *s, gfuse_cohort *c)
{
    if (s->present) {
        state_restore_presence(s, c);
        for (int m = 0; m < c->m; m++) free(s->present[m]);
    }
    if (s->split) {
        memcpy(c->split, s->split, (size_t)c->n);
        c->has_split = s->has_split;
    }
    free(s->present);
    free(s->split);
    memset(s, 0, sizeof *s);
}

/* fold[i] of every labelled sample (-1 for the others): k stratified folds. The samples of
 * each class in a seeded random order are dealt in turn, the deal going on from class to class,
 * so fold sizes differ by one at most and every class is spread evenly. */
static gfuse_status deal_folds(const gfuse_cohort *c, int k, uint64_t seed, int32_t *fold)
{
    gfuse_status st = GFUSE_OK;
    int64_t *order = gfuse_i_alloc((size_t)c->n, sizeof *order);
    GFUSE_TRY_MEM(order, "the folds");
    gfuse_i_rng rng;
    gfuse_i_rng_seed_stream(&rng, seed, STREAM_FOLDS);
    int groups = c->task == GFUSE_TASK_REGRESS ? 1 : c->n_classes;
    int64_t next = 0;
    for (int64_t i = 0; i < c->n; i++) fold[i] = -1;
    for (int g = 0; g < groups; g++) {
        int64_t n = 0;
        for (int64_t i = 0; i < c->n; i++)
            if (gfuse_i_cohort_labelled(c, c->task, i) &&
                (c->task == GFUSE_TASK_REGRESS || c->label[i] == g))
                order[n++] = i;
        if (c->task != GFUSE_TASK_REGRESS && n < k)
            GFUSE_FAIL(gfuse_i_error(GFUSE_ERR_ARG,
                                     "%d folds need at least %d labelled samples of each class; "
                                     "class \"%s\" has %lld",
                                     k, k, c->class_name[g], (long long)n));
        gfuse_i_rng_shuffle(&rng, order, n);
        for (int64_t r = 0; r < n; r++) fold[order[r]] = (int32_t)(next++ % k);
    }
    if (next < k)
        GFUSE_FAIL(gfuse_i_error(GFUSE_ERR_ARG, "%d folds need at least %d labelled samples; the "
                                                "cohort has %lld",
                                 k, k, (long long)next));
done:
    free(order);
    return st;
}

/* Scores entry e (its sample and output filled) against the cohort's labels. */
static gfuse_status score(const gfuse_cohort *c, int n_outputs, gfuse_cv_fold *e)
{
    gfuse_status st = GFUSE_OK;
    if (c->task == GFUSE_TASK_REGRESS) {
        double *t = gfuse_i_alloc((size_t)(e->n ? e->n : 1), sizeof *t);
        if (!t) return gfuse_i_nomem("the fold's targets");
        for (int64_t r = 0; r < e->n; r++) t[r] = c->target[e->sample[r]];
        st = gfuse_regress_metrics_compute(t, e->output, e->n, &e->regress_metrics);
        free(t);
        return st;
    }
    int32_t *y = gfuse_i_alloc((size_t)(e->n ? e->n : 1), sizeof *y);
    if (!y) return gfuse_i_nomem("the fold's labels");
    for (int64_t r = 0; r < e->n; r++) y[r] = c->label[e->sample[r]];
    st = gfuse_class_metrics_compute(y, e->output, e->n, n_outputs, &e->class_metrics);
    free(y);
    return st;
}

/* gfuse trained on the cohort's split train/val and applied to the samples of e. */
static gfuse_status run_model(gfuse_cohort *c, const gfuse_train_options *to, int n_outputs,
                              gfuse_cv_fold *e)
{
    gfuse_model *model = NULL;
    gfuse_predictions pred;
    memset(&pred, 0, sizeof pred);
    gfuse_status st = GFUSE_OK;
    GFUSE_TRY(gfuse_train(&model, c, to));
    GFUSE_TRY(gfuse_predict(model, c, &pred));
    for (int64_t r = 0; r < e->n; r++)
        for (int k = 0; k < n_outputs; k++)
            e->output[r * n_outputs + k] = pred.output[e->sample[r] * pred.n_outputs + k];
done:
    gfuse_predictions_free(&pred);
    gfuse_model_free(&model);
    return st;
}

/* The pooled entry of the n_folds entries before it. */
static gfuse_status pool(const gfuse_cohort *c, int n_outputs, const gfuse_cv_fold *first,
                         int n_folds, gfuse_cv_fold *e)
{
    int64_t n = 0;
    for (int f = 0; f < n_folds; f++) n += first[f].n;
    e->n = n;
    e->sample = gfuse_i_alloc((size_t)(n ? n : 1), sizeof *e->sample);
    e->output = gfuse_i_alloc((size_t)(n ? n : 1) * (size_t)n_outputs, sizeof *e->output);
    if (!e->sample || !e->output) return gfuse_i_nomem("the pooled predictions");
    int64_t at = 0;
    for (int f = 0; f < n_folds; f++) {
        memcpy(e->sample + at, first[f].sample, (size_t)first[f].n * sizeof *e->sample);
        memcpy(e->output + at * n_outputs, first[f].output,
               (size_t)first[f].n * (size_t)n_outputs * sizeof *e->output);
        at += first[f].n;
    }
    return score(c, n_outputs, e);
}

static gfuse_status check_options(const gfuse_cohort *c, const gfuse_cv_options *o)
{
    GFUSE_CHECK_ARG(c, "cohort must not be NULL");
    GFUSE_CHECK_ARG(o, "options must not be NULL");
    GFUSE_CHECK_ARG(o->use_split || (o->folds >= 2 && o->folds <= 1000),
                    "folds must be in [2, 1000], got %d", o->folds);
    GFUSE_CHECK_ARG(o->repeats >= 1 && o->repeats <= 1000, "repeats must be in [1, 1000], got %d",
                    o->repeats);
    GFUSE_CHECK_ARG(o->model || o->baselines, "nothing to score: neither the model nor baselines");
    GFUSE_CHECK_ARG(!o->baselines || (isfinite(o->baseline_c) && o->baseline_c > 0),
                    "baseline C must be positive, got %g", o->baseline_c);
    GFUSE_CHECK_ARG(o->n_rates >= 0 && (o->n_rates == 0 || o->rates),
                    "rates must be given with their count");
    for (int r = 0; r < o->n_rates; r++)
        GFUSE_CHECK_ARG(o->rates[r] >= 0 && o->rates[r] < 1, "rates must be in [0, 1), got %g",
                        o->rates[r]);
    if (c->task != GFUSE_TASK_CLASSIFY && c->task != GFUSE_TASK_REGRESS)
        return gfuse_i_error(GFUSE_ERR_DATA, "cross-validation needs labels; the cohort has none");
    GFUSE_CHECK_ARG(!o->baselines || c->task == GFUSE_TASK_CLASSIFY,
                    "the baselines are classifiers; the cohort's task is regression");
    return GFUSE_OK;
}

gfuse_status gfuse_cv_run(gfuse_cohort *c, const gfuse_cv_options *o, gfuse_cv_result *out)
{
    if (out) memset(out, 0, sizeof *out);
    GFUSE_CHECK_ARG(out, "out must not be NULL");
    gfuse_status st = check_options(c, o);
    if (st != GFUSE_OK) return st;

    const double no_rate = 0;
    const double *rates = o->n_rates ? o->rates : &no_rate;
    int n_rates = o->n_rates ? o->n_rates : 1;
    int n_outputs = c->task == GFUSE_TASK_REGRESS ? 1 : c->n_classes;
    int n_folds = o->use_split ? 1 : o->folds;
    int methods[N_METHODS], n_methods = 0;
    if (o->model) methods[n_methods++] = 0;
    if (o->baselines) {
        methods[n_methods++] = 1 + GFUSE_BASELINE_MEAN;
        methods[n_methods++] = 1 + GFUSE_BASELINE_LATE;
    }
    int64_t per_repeat = (int64_t)n_methods * (n_folds + 1);
    int64_t n_entries = (int64_t)n_rates * o->repeats * per_repeat;
    int64_t total_fits = (int64_t)n_rates * o->repeats * n_methods * n_folds, fits = 0;

    saved_state saved;
    memset(&saved, 0, sizeof saved);
    int32_t *fold = gfuse_i_alloc((size_t)c->n, sizeof *fold);
    int64_t *train = gfuse_i_alloc((size_t)c->n, sizeof *train);
    uint8_t *keep = gfuse_i_alloc((size_t)c->n * (size_t)c->m, 1);
    gfuse_cv_fold *entry = gfuse_i_zalloc((size_t)n_entries, sizeof *entry);
    GFUSE_TRY_MEM(fold && train && keep && entry, "the cross-validation");
    out->entry = entry;
    out->task = c->task;
    out->n_outputs = n_outputs;
    out->n_folds = n_folds;
    GFUSE_TRY(state_save(&saved, c));

    if (o->use_split) {
        int64_t n_test = 0;
        for (int64_t i = 0; i < c->n; i++) {
            fold[i] =
                gfuse_i_cohort_labelled(c, c->task, i) && c->split[i] == GFUSE_SPLIT_TEST ? 0 : -1;
            n_test += fold[i] == 0;
        }
        if (!c->has_split || n_test == 0)
            GFUSE_FAIL(gfuse_i_error(GFUSE_ERR_DATA,
                                     "the split has no labelled test sample to score"));
    }

    int64_t at = 0;
    for (int ri = 0; ri < n_rates; ri++) {
        for (int rep = 0; rep < o->repeats; rep++) {
            uint64_t seed = o->seed + (uint64_t)rep;
            state_restore_presence(&saved, c);
            if (rates[ri] > 0) {
                GFUSE_TRY(gfuse_mask_protocol(c, rates[ri], seed, keep));
                for (int64_t i = 0; i < c->n; i++)
                    for (int m = 0; m < c->m; m++)
                        if (!keep[i * c->m + m]) GFUSE_TRY(gfuse_cohort_hide(c, i, m));
            }
            if (!o->use_split) GFUSE_TRY(deal_folds(c, n_folds, seed, fold));
            for (int f = 0; f < n_folds; f++) {
                /* The fold's samples, and the labelled samples that train. */
                int64_t n_test = 0, n_train = 0;
                for (int64_t i = 0; i < c->n; i++) n_test += fold[i] == f;
                if (!o->use_split) {
                    for (int64_t i = 0; i < c->n; i++)
                        c->split[i] = (uint8_t)(fold[i] == f   ? GFUSE_SPLIT_TEST
                                                : fold[i] >= 0 ? GFUSE_SPLIT_TRAIN
                                                               : GFUSE_SPLIT_NONE);
                    c->has_split = 1;
                }
                for (int64_t i = 0; i < c->n; i++)
                    if (gfuse_i_cohort_labelled(c, c->task, i) && fold[i] != f &&
                        (c->split[i] == GFUSE_SPLIT_TRAIN || c->split[i] == GFUSE_SPLIT_VAL))
                        train[n_train++] = i;
                for (int mi = 0; mi < n_methods; mi++) {
                    gfuse_cv_fold *e = &entry[at + (int64_t)mi * (n_folds + 1) + f];
                    e->rate = rates[ri];
                    e->method = methods[mi];
                    e->repeat = rep;
                    e->fold = f;
                    e->n = n_test;
                    e->sample = gfuse_i_alloc((size_t)n_test, sizeof *e->sample);
                    e->output =
                        gfuse_i_alloc((size_t)n_test * (size_t)n_outputs, sizeof *e->output);
                    GFUSE_TRY_MEM(e->sample && e->output, "the fold's predictions");
                    int64_t r = 0;
                    for (int64_t i = 0; i < c->n; i++)
                        if (fold[i] == f) e->sample[r++] = i;
                    if (o->on_fit &&
                        o->on_fit(e->rate, e->method, rep, f, fits, total_fits, o->user))
                        GFUSE_FAIL(gfuse_i_error(GFUSE_ERR_INTERRUPTED,
                                                 "cross-validation stopped"));
                    if (gfuse_interrupted())
                        GFUSE_FAIL(gfuse_i_error(GFUSE_ERR_INTERRUPTED,
                                                 "cross-validation interrupted"));
                    double t0 = omp_get_wtime();
                    if (e->method == 0) {
                        gfuse_train_options to = o->train;
                        to.seed = o->train.seed + (uint64_t)rep;
                        GFUSE_TRY(run_model(c, &to, n_outputs, e));
                    } else {
                        GFUSE_TRY(gfuse_baseline_predict(c, (gfuse_baseline)(e->method - 1),
                                                         o->baseline_c, train, n_train,
                                                         e->sample, e->n, e->output));
                    }
                    e->seconds = omp_get_wtime() - t0;
                    GFUSE_TRY(score(c, n_outputs, e));
                    fits++;
                }
            }
            for (int mi = 0; mi < n_methods; mi++) {
                gfuse_cv_fold *first = &entry[at + (int64_t)mi * (n_folds + 1)];
                gfuse_cv_fold *e = first + n_folds;
                e->rate = rates[ri];
                e->method = methods[mi];
                e->repeat = rep;
                e->fold = -1;
                GFUSE_TRY(pool(c, n_outputs, first, n_folds, e));
            }
            at += per_repeat;
        }
    }
    out->n = n_entries;
done:
    state_free(&saved, c);
    free(fold);
    free(train);
    free(keep);
    if (st != GFUSE_OK) {
        out->n = n_entries;
        gfuse_cv_result_free(out);
    }
    return st;
}

void gfuse_cv_result_free(gfuse_cv_result *r)
{
    if (!r) return;
    for (int64_t k = 0; r->entry && k < r->n; k++) {
        free(r->entry[k].sample);
        free(r->entry[k].output);
        gfuse_class_metrics_free(&r->entry[k].class_metrics);
    }
    free(r->entry);
    memset(r, 0, sizeof *r);
}
