/*
 * check_train.c: gfuse_train (src/model/train.c): option checks, learning on a structured toy
 * cohort (classification and regression), reproducibility (same seed, any thread count),
 * test labels never read, validation and early stopping, the epoch callback, class weights,
 * ensembles, and the errors of cohorts that cannot be trained on.
 */
#include "testutil.h"

#include "core/rng.h"
#include "core/util.h"
#include "model/model.h"

#include <math.h>

/* A toy cohort: K classes in an L-dimensional latent space seen by 3 modalities; a third of
 * the samples miss one modality, a quarter are "test" (every 4th), targets are a linear
 * function of the latent point (regression) or the class (classification). test_label_shift
 * changes the labels of the test samples only. */
static gfuse_cohort *toy(int64_t n, uint64_t seed, int regress, int with_split,
                         int test_label_shift)
{
    const int M = 3, K = 3, L = 4;
    const int64_t d[3] = {6, 5, 4};
    const char *const names[3] = {"alpha", "beta", "gamma"};
    gfuse_i_rng r, wr;
    gfuse_i_rng_seed(&r, seed);
    gfuse_i_rng_seed(&wr, 4242);
    char **ids = calloc((size_t)n, sizeof *ids);
    int32_t *label = calloc((size_t)n, sizeof *label);
    double *target = calloc((size_t)n, sizeof *target);
    gfuse_split *split = calloc((size_t)n, sizeof *split);
    double *z = calloc((size_t)(n * L), sizeof *z);
    for (int64_t i = 0; i < n; i++) {
        ids[i] = gfuse_i_asprintf("s%03lld", (long long)i);
        label[i] = (int32_t)(i % K);
        split[i] = i % 4 == 3 ? GFUSE_SPLIT_TEST : GFUSE_SPLIT_TRAIN;
        for (int l = 0; l < L; l++)
            z[i * L + l] = (l == label[i] ? 2.0 : 0.0) + gfuse_i_rng_normal(&r);
        target[i] = 10.0 + 3.0 * z[i * L] - 2.0 * z[i * L + 1];
        if (split[i] == GFUSE_SPLIT_TEST && test_label_shift) {
            label[i] = (label[i] + test_label_shift) % K;
            target[i] += 100.0 * test_label_shift;
        }
    }
    gfuse_cohort *c = NULL;
    ck_assert_int_eq(gfuse_cohort_new(&c, n, (const char *const *)ids), GFUSE_OK);
    for (int m = 0; m < M; m++) {
        float *x = calloc((size_t)(n * d[m]), sizeof *x);
        double *w = calloc((size_t)(d[m] * L), sizeof *w);
        for (int64_t t = 0; t < d[m] * L; t++) w[t] = gfuse_i_rng_normal(&wr);
        for (int64_t i = 0; i < n; i++) {
            int missing = i % 3 == 1 && (int64_t)(i / 3) % M == m;
            for (int64_t f = 0; f < d[m]; f++) {
                double s = 0.0;
                for (int l = 0; l < L; l++) s += w[f * L + l] * z[i * L + l];
                x[i * d[m] + f] = missing ? NAN : (float)(s + 0.5 * gfuse_i_rng_normal(&r));
            }
        }
        ck_assert_int_eq(gfuse_cohort_add_modality(c, names[m], d[m], NULL, x), GFUSE_OK);
        free(x);
        free(w);
    }
    if (regress) {
        ck_assert_int_eq(gfuse_cohort_set_targets(c, target), GFUSE_OK);
    } else {
        const char *classes[3] = {"A", "B", "C"};
        ck_assert_int_eq(gfuse_cohort_set_classes(c, K, classes, label), GFUSE_OK);
    }
    if (with_split) ck_assert_int_eq(gfuse_cohort_set_split(c, split), GFUSE_OK);
    for (int64_t i = 0; i < n; i++) free(ids[i]);
    free(ids);
    free(label);
    free(target);
    free(split);
    free(z);
    return c;
}

static void small_options(gfuse_train_options *o)
{
    gfuse_train_options_init(o);
    o->hidden = 16;
    o->heads = 2;
    o->k = 5;
    o->epochs = 60;
    o->graph_variants = 3;
    o->ensemble = 1; /* one member, raw weights: the tests follow one training run's epochs */
    o->ema = 0.0;
    o->seed = 7;
}

/* small_options running the given number of epochs. */
static gfuse_train_options small_epochs(int epochs)
{
    gfuse_train_options o;
    small_options(&o);
    o.epochs = epochs;
    return o;
}

static gfuse_model *train_ok(const gfuse_cohort *c, const gfuse_train_options *o)
{
    gfuse_model *m = NULL;
    gfuse_status st = gfuse_train(&m, c, o);
    ck_assert_msg(st == GFUSE_OK, "train: %s", gfuse_last_error());
    ck_assert_ptr_nonnull(m);
    return m;
}

/* The fixture of most tests: a toy cohort (toy's arguments), small_epochs options the test
 * may change, and the model it trains (NULL until then); toy_end frees both. */
typedef struct {
    gfuse_cohort *c;
    gfuse_train_options o;
    gfuse_model *m;
} toy_run;

static toy_run toy_begin(int64_t n, uint64_t seed, int regress, int epochs)
{
    toy_run t = {toy(n, seed, regress, 1, 0), small_epochs(epochs), NULL};
    return t;
}

static void toy_end(toy_run *t)
{
    gfuse_model_free(&t->m);
    gfuse_cohort_free(&t->c);
}

/* Share of the test samples predicted right. */
static double test_accuracy(const gfuse_model *m, const gfuse_cohort *c)
{
    gfuse_predictions p;
    ck_assert_int_eq(gfuse_predict(m, c, &p), GFUSE_OK);
    int64_t hit = 0, n = 0;
    for (int64_t i = 0; i < p.n; i++) {
        if (gfuse_cohort_split(c, i) != GFUSE_SPLIT_TEST) continue;
        n++;
        hit += p.predicted[i] == gfuse_cohort_label(c, i);
    }
    gfuse_predictions_free(&p);
    return (double)hit / (double)n;
}

START_TEST(test_train_defaults)
{
    gfuse_train_options o;
    gfuse_train_options_init(&o);
    ck_assert_int_eq(o.layers, 2);
    ck_assert_int_eq(o.heads, 4);
    ck_assert_int_eq(o.hidden, 64);
    ck_assert_int_eq(o.k, 10);
    ck_assert_int_eq(o.hidden % o.heads, 0);
    ck_assert(o.lr > 0.0 && o.patience >= 1 && o.epochs >= 1 && o.ensemble >= 1);
    ck_assert(o.dropout >= 0.0 && o.dropout < 1.0 && o.modality_dropout < 1.0);
    ck_assert_ptr_null(o.on_epoch);
}
END_TEST

/* Out-of-range options are usage errors naming the option and the value. */
START_TEST(test_train_bad_options)
{
    gfuse_cohort *c = toy(40, 1, 0, 1, 0);
    const char *words[] = {"layers",   "heads",    "multiple",            "k must",
                           "lr",       "dropout",  "modality dropout",    "patience",
                           "validation fraction", "ensemble", "class weight"};
    for (size_t t = 0; t < sizeof words / sizeof words[0]; t++) {
        gfuse_train_options o;
        small_options(&o);
        double w[1] = {-1.0};
        switch (t) {
        case 0: o.layers = 0; break;
        case 1: o.heads = 0; break;
        case 2: o.hidden = 10; o.heads = 4; break;
        case 3: o.k = 0; break;
        case 4: o.lr = 0.0; break;
        case 5: o.dropout = 1.0; break;
        case 6: o.modality_dropout = -0.1; break;
        case 7: o.patience = 0; break;
        case 8: o.val_fraction = 0.9; break;
        case 9: o.ensemble = 0; break;
        default:
            o.class_weight_mode = GFUSE_CLASS_WEIGHTS_GIVEN;
            o.class_weights = w;
            o.n_class_weights = 1;
        }
        gfuse_model *m = NULL;
        ck_assert_int_eq(gfuse_train(&m, c, &o), GFUSE_ERR_ARG);
        ck_assert_ptr_null(m);
        ck_assert_msg(strstr(gfuse_last_error(), words[t]) != NULL, "case %d: %s", (int)t,
                      gfuse_last_error());
    }
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_train_learns)
{
    toy_run t = toy_begin(120, 2, 0, 150);
    t.m = train_ok(t.c, &t.o);
    double acc = test_accuracy(t.m, t.c);
    ck_assert_msg(acc >= 0.8, "test accuracy %.3f on a well separated toy", acc);
    ck_assert_int_eq(gfuse_model_task(t.m), GFUSE_TASK_CLASSIFY);
    toy_end(&t);
}
END_TEST

START_TEST(test_train_regression)
{
    toy_run t = toy_begin(120, 3, 1, 150);
    t.m = train_ok(t.c, &t.o);
    ck_assert_int_eq(gfuse_model_task(t.m), GFUSE_TASK_REGRESS);
    ck_assert_int_eq(gfuse_model_n_classes(t.m), 0);
    gfuse_predictions p;
    ck_assert_int_eq(gfuse_predict(t.m, t.c, &p), GFUSE_OK);
    ck_assert_int_eq(p.n_outputs, 1);
    double ss = 0.0, sum = 0.0, ss0 = 0.0;
    int64_t n = 0;
    for (int64_t i = 0; i < p.n; i++) {
        if (gfuse_cohort_split(t.c, i) != GFUSE_SPLIT_TEST) continue;
        sum += gfuse_cohort_target(t.c, i);
        n++;
    }
    for (int64_t i = 0; i < p.n; i++) {
        if (gfuse_cohort_split(t.c, i) != GFUSE_SPLIT_TEST) continue;
        double y = gfuse_cohort_target(t.c, i);
        ss += (p.output[i] - y) * (p.output[i] - y);
        ss0 += (y - sum / n) * (y - sum / n);
        ck_assert_int_eq(p.predicted[i], -1);
    }
    ck_assert_msg(ss < 0.5 * ss0, "test MSE %.3f is not well below the variance %.3f", ss / n,
                  ss0 / n);
    gfuse_predictions_free(&p);
    toy_end(&t);
}
END_TEST

static int same_outputs(const gfuse_model *a, const gfuse_model *b, const gfuse_cohort *c)
{
    gfuse_predictions pa, pb;
    ck_assert_int_eq(gfuse_predict(a, c, &pa), GFUSE_OK);
    ck_assert_int_eq(gfuse_predict(b, c, &pb), GFUSE_OK);
    int same = memcmp(pa.output, pb.output, (size_t)(pa.n * pa.n_outputs) * sizeof(float)) == 0 &&
               memcmp(pa.fusion, pb.fusion, (size_t)(pa.n * pa.n_slots) * sizeof(float)) == 0;
    gfuse_predictions_free(&pa);
    gfuse_predictions_free(&pb);
    return same;
}

/* The same seed gives the same model bit for bit, with 1 or 2 threads; another seed does not. */
START_TEST(test_train_reproducible)
{
    gfuse_cohort *c = toy(90, 4, 0, 1, 0);
    gfuse_train_options o = small_epochs(30);
    ck_assert_int_eq(gfuse_set_threads(1), GFUSE_OK);
    gfuse_model *a = train_ok(c, &o);
    ck_assert_int_eq(gfuse_set_threads(2), GFUSE_OK);
    gfuse_model *b = train_ok(c, &o);
    ck_assert_msg(same_outputs(a, b, c), "1 and 2 threads trained different models");
    o.seed = 8;
    gfuse_model *other = train_ok(c, &o);
    ck_assert_msg(!same_outputs(a, other, c), "another seed trained the same model");
    gfuse_set_threads(0);
    gfuse_model_free(&a);
    gfuse_model_free(&b);
    gfuse_model_free(&other);
    gfuse_cohort_free(&c);
}
END_TEST

/* Changing the labels of the test samples changes nothing: they are never read. */
START_TEST(test_train_ignores_test_labels)
{
    gfuse_cohort *c = toy(90, 5, 0, 1, 0), *shifted = toy(90, 5, 0, 1, 1);
    gfuse_cohort *rc = toy(90, 5, 1, 1, 0), *rshifted = toy(90, 5, 1, 1, 1);
    gfuse_train_options o = small_epochs(25);
    gfuse_model *a = train_ok(c, &o), *b = train_ok(shifted, &o);
    ck_assert_msg(same_outputs(a, b, c), "test labels changed the classifier");
    gfuse_model *ra = train_ok(rc, &o), *rb = train_ok(rshifted, &o);
    ck_assert_msg(same_outputs(ra, rb, rc), "test targets changed the regression");
    gfuse_model_free(&a);
    gfuse_model_free(&b);
    gfuse_model_free(&ra);
    gfuse_model_free(&rb);
    gfuse_cohort_free(&c);
    gfuse_cohort_free(&shifted);
    gfuse_cohort_free(&rc);
    gfuse_cohort_free(&rshifted);
}
END_TEST

typedef struct {
    int calls;
    int stop_at;
    int last_epoch, last_best;
    int members_seen;
    int val_nan, val_finite;
    int bad;
} monitor;

static int on_epoch(const gfuse_epoch_report *r, void *user)
{
    monitor *mo = user;
    mo->calls++;
    if (r->epoch == 1) mo->members_seen++;
    if (r->epoch < 1 || r->epoch > r->max_epochs || r->best_epoch > r->epoch ||
        !isfinite(r->train_loss) || !(r->seconds >= 0.0) || r->member >= r->n_members)
        mo->bad++;
    if (r->task_loss < 0.0 || r->rec_loss < 0.0 || r->train_loss < r->task_loss - 1e-9)
        mo->bad++;
    if (isnan(r->val_loss))
        mo->val_nan++;
    else
        mo->val_finite++;
    mo->last_epoch = r->epoch;
    mo->last_best = r->best_epoch;
    return mo->stop_at > 0 && r->epoch >= mo->stop_at;
}

/* train_ok with o reporting every epoch to mo (o keeps the callback). */
static gfuse_model *train_watched(const gfuse_cohort *c, gfuse_train_options *o, monitor *mo)
{
    o->on_epoch = on_epoch;
    o->user = mo;
    return train_ok(c, o);
}

/* Early stopping: training ends patience epochs after the best validation loss (or at the
 * last epoch), and the model keeps the best epoch's weights. */
START_TEST(test_train_early_stopping)
{
    toy_run t = toy_begin(90, 6, 0, 400);
    t.o.patience = 5;
    monitor mo = {0};
    t.m = train_watched(t.c, &t.o, &mo);
    ck_assert_int_eq(mo.bad, 0);
    ck_assert_int_eq(mo.val_nan, 0);
    ck_assert_msg(mo.last_epoch == mo.last_best + t.o.patience || mo.last_epoch == t.o.epochs,
                  "stopped at %d with best %d", mo.last_epoch, mo.last_best);
    ck_assert_int_lt(mo.last_epoch, t.o.epochs);
    ck_assert_int_eq(gfuse_model_best_epoch(t.m, 0), mo.last_best);
    toy_end(&t);
}
END_TEST

/* No validation samples: every epoch runs and the last one is kept; a callback returning
 * nonzero stops training at once. */
START_TEST(test_train_no_validation_and_stop)
{
    toy_run t = {toy(60, 7, 0, 0, 0), small_epochs(12), NULL};
    t.o.val_fraction = 0.0;
    monitor mo = {0};
    t.m = train_watched(t.c, &t.o, &mo);
    ck_assert_int_eq(mo.calls, 12);
    ck_assert_int_eq(mo.val_finite, 0);
    ck_assert_int_eq(gfuse_model_best_epoch(t.m, 0), 12);
    gfuse_model_free(&t.m);
    monitor stop = {0};
    stop.stop_at = 4;
    t.o.epochs = 50;
    t.o.val_fraction = 0.2;
    t.o.user = &stop;
    t.m = train_ok(t.c, &t.o);
    ck_assert_int_eq(stop.calls, 4);
    ck_assert_int_eq(stop.val_nan, 0);
    toy_end(&t);
}
END_TEST

/* An ensemble trains every member (each on its own validation fold) and averages them. */
START_TEST(test_train_ensemble)
{
    toy_run t = toy_begin(90, 8, 0, 20);
    t.o.ensemble = 3;
    monitor mo = {0};
    t.m = train_watched(t.c, &t.o, &mo);
    ck_assert_int_eq(gfuse_model_n_members(t.m), 3);
    ck_assert_int_eq(mo.members_seen, 3);
    ck_assert_int_eq(mo.bad, 0);
    for (int k = 0; k < 3; k++) ck_assert_int_ge(gfuse_model_best_epoch(t.m, k), 1);
    t.o.ensemble = 1;
    t.o.on_epoch = NULL;
    gfuse_model *one = train_ok(t.c, &t.o);
    ck_assert_int_eq(gfuse_model_n_parameters(t.m), 3 * gfuse_model_n_parameters(one));
    gfuse_model_free(&one);
    toy_end(&t);
}
END_TEST

START_TEST(test_train_class_weights)
{
    toy_run t = toy_begin(60, 9, 0, 10);
    t.o.class_weight_mode = GFUSE_CLASS_WEIGHTS_BALANCED;
    t.m = train_ok(t.c, &t.o);
    gfuse_model_free(&t.m);
    double w2[2] = {1.0, 2.0}, w3[3] = {1.0, 2.0, 0.5};
    t.o.class_weight_mode = GFUSE_CLASS_WEIGHTS_GIVEN;
    t.o.class_weights = w2;
    t.o.n_class_weights = 2;
    ck_assert_int_eq(gfuse_train(&t.m, t.c, &t.o), GFUSE_ERR_DATA);
    ck_assert_msg(strstr(gfuse_last_error(), "2 class weights") != NULL, "%s",
                  gfuse_last_error());
    t.o.class_weights = w3;
    t.o.n_class_weights = 3;
    t.m = train_ok(t.c, &t.o);
    gfuse_train_options back;
    gfuse_model_options(t.m, &back);
    ck_assert_int_eq(back.class_weight_mode, GFUSE_CLASS_WEIGHTS_GIVEN);
    ck_assert_int_eq(back.n_class_weights, 3);
    ck_assert(back.class_weights[2] == 0.5);
    toy_end(&t);
}
END_TEST

/* Cohorts that cannot be trained on. */
START_TEST(test_train_bad_cohorts)
{
    const char *ids[4] = {"a", "b", "c", "d"};
    float x[4 * 2] = {1, 2, 3, 4, 5, 6, 7, 8};
    gfuse_cohort *c = NULL;
    gfuse_model *m = NULL;
    gfuse_train_options o;
    small_options(&o);
    o.k = 2;
    ck_assert_int_eq(gfuse_cohort_new(&c, 4, ids), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_add_modality(c, "m", 2, NULL, x), GFUSE_OK);
    ck_assert_int_eq(gfuse_train(&m, c, &o), GFUSE_ERR_DATA); /* no labels */
    ck_assert_msg(strstr(gfuse_last_error(), "label") != NULL, "%s", gfuse_last_error());
    const char *one[1] = {"only"};
    int32_t lab[4] = {0, 0, 0, 0};
    ck_assert_int_eq(gfuse_cohort_set_classes(c, 1, one, lab), GFUSE_OK);
    ck_assert_int_eq(gfuse_train(&m, c, &o), GFUSE_ERR_DATA); /* a single class */
    ck_assert_msg(strstr(gfuse_last_error(), "2 classes") != NULL, "%s", gfuse_last_error());
    const char *two[2] = {"x", "y"};
    int32_t lab2[4] = {0, 1, -1, -1};
    gfuse_split sp[4] = {GFUSE_SPLIT_TEST, GFUSE_SPLIT_TEST, GFUSE_SPLIT_TRAIN,
                         GFUSE_SPLIT_TRAIN};
    ck_assert_int_eq(gfuse_cohort_set_classes(c, 2, two, lab2), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_set_split(c, sp), GFUSE_OK);
    ck_assert_int_eq(gfuse_train(&m, c, &o), GFUSE_ERR_DATA); /* only test samples labelled */
    ck_assert_msg(strstr(gfuse_last_error(), "training sample") != NULL, "%s",
                  gfuse_last_error());
    o.task = GFUSE_TASK_REGRESS;
    ck_assert_int_eq(gfuse_train(&m, c, &o), GFUSE_ERR_ARG); /* labels read as classes */
    ck_assert_ptr_null(m);
    ck_assert_int_eq(gfuse_train(&m, NULL, &o), GFUSE_ERR_ARG);
    ck_assert_int_eq(gfuse_train(&m, c, NULL), GFUSE_ERR_ARG);
    gfuse_cohort_free(&c);
}
END_TEST

/* ---- checkpoints ---------------------------------------------------------------------------- */

/* The bytes of a file (malloc-ed; *n its size). */
static char *slurp(const char *path, long *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *n = ftell(f);
    rewind(f);
    char *b = malloc((size_t)*n + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq((long)fread(b, 1, (size_t)*n, f), *n);
    fclose(f);
    return b;
}

static int same_file(const char *a, const char *b)
{
    long na, nb;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    int same = na == nb && memcmp(x, y, (size_t)na) == 0;
    free(x);
    free(y);
    return same;
}

/* Interrupts the training when member 'member' reports epoch 'epoch'; counts the reports. */
typedef struct {
    int member, epoch, calls;
} stopper;

static int interrupt_at(const gfuse_epoch_report *r, void *user)
{
    stopper *s = user;
    s->calls++;
    if (r->member == s->member && r->epoch == s->epoch) gfuse_interrupt(15);
    return 0;
}

/* The state round trip: a training interrupted (gfuse_interrupt) at an epoch of either member,
 * with members one after the other or side by side, saves its checkpoint and returns
 * GFUSE_ERR_INTERRUPTED; resumed (with another thread count), it ends with the model file of
 * the training never interrupted, and the reports of the first part are passed on again. */
START_TEST(test_train_checkpoint_resume)
{
    gfuse_cohort *c = toy(90, 4, 0, 1, 0);
    gfuse_train_options o = small_epochs(12);
    o.ensemble = 2;
    o.ema = 0.9;
    o.patience = 4;
    stopper ref = {-1, 0, 0};
    o.on_epoch = interrupt_at;
    o.user = &ref;
    gfuse_model *m = train_ok(c, &o);
    const char *ref_path = tu_path("ref.gfm"), *path = tu_path("run.gfm");
    ck_assert_int_eq(gfuse_model_save(m, ref_path), GFUSE_OK);
    gfuse_model_free(&m);
    /* threads, member, epoch (side by side, member 1 reports only once member 0 is done) */
    const int cases[4][3] = {{1, 0, 5}, {2, 0, 3}, {1, 1, 2}, {2, 0, 1}};
    for (int k = 0; k < 4; k++) {
        o.checkpoint = tu_path("state.ckpt");
        o.checkpoint_every = 3;
        o.resume = 0;
        stopper st = {cases[k][1], cases[k][2], 0};
        o.user = &st;
        ck_assert_int_eq(gfuse_set_threads(cases[k][0]), GFUSE_OK);
        ck_assert_int_eq(gfuse_train(&m, c, &o), GFUSE_ERR_INTERRUPTED);
        ck_assert_ptr_null(m);
        ck_assert_msg(strstr(gfuse_last_error(), "checkpoint saved to"), "%s", gfuse_last_error());
        gfuse_interrupt(0);
        stopper count = {-1, 0, 0};
        o.user = &count;
        o.resume = 1;
        ck_assert_int_eq(gfuse_set_threads(3 - cases[k][0]), GFUSE_OK);
        m = train_ok(c, &o);
        ck_assert_int_eq(gfuse_model_save(m, path), GFUSE_OK);
        gfuse_model_free(&m);
        ck_assert_msg(same_file(ref_path, path), "case %d: the resumed model differs", k);
        ck_assert_int_eq(count.calls, ref.calls);
    }
    /* other options are refused, naming the option */
    o.patience = 5;
    ck_assert_int_eq(gfuse_train(&m, c, &o), GFUSE_ERR_ARG);
    ck_assert_msg(strstr(gfuse_last_error(), "with --patience 4, this run has --patience 5"), "%s",
                  gfuse_last_error());
    gfuse_set_threads(0);
    gfuse_cohort_free(&c);
}
END_TEST

/* One AdamW step against a double-precision reference of the update, with and without the
 * moving average in the same pass: the parameters come out the same bit for bit either way, and
 * the average is ema_decay ema + (1 - ema_decay) p of the updated p. */
START_TEST(test_train_adamw_step)
{
    enum { N = 70001 }; /* above the step's parallel threshold */
    float *p = malloc(N * sizeof *p), *q = malloc(N * sizeof *q), *g = malloc(N * sizeof *g);
    float *m1 = calloc(N, sizeof *m1), *v1 = calloc(N, sizeof *v1);
    float *m2 = calloc(N, sizeof *m2), *v2 = calloc(N, sizeof *v2);
    float *ema = malloc(N * sizeof *ema);
    uint8_t *decay = malloc(N);
    double *rp = malloc(N * sizeof *rp), *rm = calloc(N, sizeof *rm), *rv = calloc(N, sizeof *rv);
    double *re = malloc(N * sizeof *re);
    ck_assert(p && q && g && m1 && v1 && m2 && v2 && ema && decay && rp && rm && rv && re);
    gfuse_i_rng rng;
    gfuse_i_rng_seed(&rng, 7);
    for (int j = 0; j < N; j++) {
        p[j] = q[j] = (float)gfuse_i_rng_normal(&rng);
        ema[j] = p[j];
        rp[j] = re[j] = p[j];
        decay[j] = (uint8_t)(j % 3 != 0);
    }
    const double lr = 0.01, wd = 0.05, keep = 0.9;
    ck_assert_int_eq(gfuse_set_threads(2), GFUSE_OK);
    for (int t = 1; t <= 3; t++) {
        for (int j = 0; j < N; j++) g[j] = (float)gfuse_i_rng_normal(&rng);
        gfuse_i_adamw_step(p, g, m1, v1, decay, N, lr, wd, t, NULL, 0.0f);
        gfuse_i_adamw_step(q, g, m2, v2, decay, N, lr, wd, t, ema, (float)keep);
        for (int j = 0; j < N; j++) {
            rm[j] = 0.9 * rm[j] + 0.1 * g[j];
            rv[j] = 0.999 * rv[j] + 0.001 * (double)g[j] * g[j];
            double mh = rm[j] / (1.0 - pow(0.9, t)), vh = rv[j] / (1.0 - pow(0.999, t));
            rp[j] -= lr * wd * decay[j] * rp[j];
            rp[j] -= lr * mh / (sqrt(vh) + 1e-8);
            re[j] = keep * re[j] + (1.0 - keep) * rp[j];
        }
    }
    gfuse_set_threads(0);
    ck_assert_int_eq(memcmp(p, q, N * sizeof *p), 0);
    ck_assert_int_eq(memcmp(m1, m2, N * sizeof *m1), 0);
    ck_assert_int_eq(memcmp(v1, v2, N * sizeof *v1), 0);
    double worst_p = 0.0, worst_e = 0.0;
    for (int j = 0; j < N; j++) {
        worst_p = fmax(worst_p, fabs(p[j] - rp[j]) / (1.0 + fabs(rp[j])));
        worst_e = fmax(worst_e, fabs(ema[j] - re[j]) / (1.0 + fabs(re[j])));
    }
    ck_assert_msg(worst_p < 1e-5, "parameters off the reference by %g", worst_p);
    ck_assert_msg(worst_e < 1e-5, "average off the reference by %g", worst_e);
    free(p); free(q); free(g); free(m1); free(v1); free(m2); free(v2); free(ema); free(decay);
    free(rp); free(rm); free(rv); free(re);
}
END_TEST

static Suite *train_suite(void)
{
    Suite *s = suite_create("train");
    TU_TCASE(s, "options and errors", tu_tmp_setup, tu_tmp_teardown,
        test_train_defaults, test_train_bad_options, test_train_bad_cohorts,
        test_train_class_weights, test_train_adamw_step);
    TCase *core = TU_TCASE(s, "training", tu_tmp_setup, tu_tmp_teardown,
        test_train_learns, test_train_regression, test_train_reproducible,
        test_train_ignores_test_labels, test_train_early_stopping,
        test_train_no_validation_and_stop, test_train_ensemble, test_train_checkpoint_resume);
    tcase_set_timeout(core, 300);
    return s;
}

int main(void) { return tu_run_suite(train_suite()); }
