/*
 * check_alloc.c: allocation failures. With the hook of src/core/util.c
 * (gfuse_i_alloc_fail_after) each public call below is run once counting its allocations, then
 * again with the k-th allocation failing, for every k (or an evenly strided sample of them,
 * GFUSE_ALLOC_SAMPLE): loading the example cohort (data/example), building its graph, a short
 * training (classification and regression), prediction and imputation (on the training cohort
 * and on new samples), saving and loading a model. Each failing run must return an error
 * status with a message, leave its result empty, remove any temporary file and, in a sanitizer
 * build, leak nothing.
 * GFUSE_ALLOC_SAMPLE sets a sample size (default: every allocation, about 4,000 failing runs;
 * 200 in a sanitizer build).
 */
#include "testutil.h"

#include "core/util.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define TU_LEAK_CHECK() __lsan_do_recoverable_leak_check()
#define TU_SANITIZED 1
#else
#define TU_LEAK_CHECK() 0
#define TU_SANITIZED 0
#endif

/* One call under test: run makes its result (kept in the state), check says on failure that
 * nothing was left (ck_assert), undo frees what a successful run made. */
typedef struct {
    const char *what;
    gfuse_status (*run)(void *state);
    void (*check)(void *state);
    void (*undo)(void *state);
    void *state;
} alloc_call;

static long sample_size(void)
{
    const char *s = getenv("GFUSE_ALLOC_SAMPLE");
    /* every allocation natively (a few seconds); a sample under the sanitizers, whose leak
     * check after each failing run costs far more */
    return s && *s ? strtol(s, NULL, 10) : TU_SANITIZED ? 200 : 0;
}

/* Runs the call once counting, then with each sampled allocation failing. */
static void sweep(const alloc_call *c)
{
    int files = tu_n_entries(tu_tmp_root);
    gfuse_i_alloc_fail_after(0);
    gfuse_status st = c->run(c->state);
    long n = gfuse_i_alloc_fail_after(-1);
    ck_assert_msg(st == GFUSE_OK, "%s: %s", c->what, gfuse_last_error());
    c->undo(c->state);
    ck_assert_msg(n > 0, "%s: no allocation counted", c->what);
    ck_assert_int_eq(TU_LEAK_CHECK(), 0);

    long want = sample_size();
    long steps = want <= 0 || n <= want ? n : want;
    long n_absorbed = 0, n_nomem = 0;
    for (long j = 0; j < steps; j++) {
        long k = steps == n ? j + 1 : 1 + (long)((double)j * (double)(n - 1) / (double)(steps - 1));
        gfuse_i_clear_error();
        gfuse_i_alloc_fail_after(k);
        st = c->run(c->state);
        long seen = gfuse_i_alloc_fail_after(-1);
        if (st == GFUSE_OK) {
            /* The failed allocation was not needed after all (or was not reached). */
            n_absorbed += seen >= k;
            c->undo(c->state);
        } else {
            ck_assert_msg(gfuse_last_error()[0] != '\0',
                          "%s: allocation %ld of %ld failed with status %s and no message",
                          c->what, k, n, gfuse_status_string(st));
            ck_assert_msg(st == GFUSE_ERR_NOMEM,
                          "%s: allocation %ld of %ld failed, status %s: %s", c->what, k, n,
                          gfuse_status_string(st), gfuse_last_error());
            n_nomem++;
            c->check(c->state);
        }
        ck_assert_msg(tu_n_entries(tu_tmp_root) <= files,
                      "%s: allocation %ld of %ld failed and left a file behind", c->what, k, n);
        ck_assert_msg(TU_LEAK_CHECK() == 0, "%s: allocation %ld of %ld failed and leaked",
                      c->what, k, n);
    }
    fprintf(stderr, "check_alloc: %s: %ld allocations, %ld failed in turn: %ld out of memory, "
            "%ld absorbed\n", c->what, n, steps, n_nomem, n_absorbed);
}

/* ---- the calls -------------------------------------------------------------------------- */

typedef struct {
    gfuse_cohort_options opts;
    gfuse_cohort *cohort;   /* the example cohort (or the result of loading it) */
    gfuse_cohort *fresh;    /* new samples for prediction */
    gfuse_graph *graph;
    gfuse_train_options train;
    gfuse_model *model;
    gfuse_model *loaded;
    gfuse_predictions pred;
    gfuse_imputation imp;
    const gfuse_cohort *predict_on;
    const char *model_path;
    char dir[1024];
} alloc_state;

static alloc_state S;

static void state_init(void)
{
    ck_assert_int_eq(gfuse_set_threads(1), GFUSE_OK); /* the same allocations every run */
    memset(&S, 0, sizeof S);
    const char *top = getenv("top_srcdir");
    snprintf(S.dir, sizeof S.dir, "%s/data/example", top && *top ? top : ".");
    gfuse_cohort_options_init(&S.opts);
    S.opts.dir = S.dir;
    gfuse_train_options_init(&S.train);
    S.train.layers = 1;
    S.train.heads = 2;
    S.train.hidden = 8;
    S.train.k = 5;
    S.train.epochs = 2;
    S.train.graph_variants = 2;
    S.train.ensemble = 1;
    S.train.seed = 3;
    S.model_path = tu_path("model.gfm");
}

static void state_free(void)
{
    gfuse_imputation_free(&S.imp);
    gfuse_predictions_free(&S.pred);
    gfuse_model_free(&S.loaded);
    gfuse_model_free(&S.model);
    gfuse_graph_free(&S.graph);
    gfuse_cohort_free(&S.fresh);
    gfuse_cohort_free(&S.cohort);
    gfuse_set_threads(0);
}

static void load_example(void)
{
    ck_assert_msg(gfuse_cohort_load(&S.cohort, &S.opts) == GFUSE_OK, "%s", gfuse_last_error());
}

static void train_example(void)
{
    ck_assert_msg(gfuse_train(&S.model, S.cohort, &S.train) == GFUSE_OK, "%s",
                  gfuse_last_error());
}

static gfuse_status run_load(void *u)
{
    (void)u;
    return gfuse_cohort_load(&S.cohort, &S.opts);
}
static void check_load(void *u)
{
    (void)u;
    ck_assert_ptr_null(S.cohort);
}
static void undo_load(void *u)
{
    (void)u;
    gfuse_cohort_free(&S.cohort);
}

static gfuse_status run_graph(void *u)
{
    (void)u;
    return gfuse_graph_build(&S.graph, S.cohort, NULL);
}
static void check_graph(void *u)
{
    (void)u;
    ck_assert_ptr_null(S.graph);
}
static void undo_graph(void *u)
{
    (void)u;
    gfuse_graph_free(&S.graph);
}

static gfuse_status run_train(void *u)
{
    (void)u;
    return gfuse_train(&S.model, S.cohort, &S.train);
}
static void check_model(void *u)
{
    (void)u;
    ck_assert_ptr_null(S.model);
}
static void undo_model(void *u)
{
    (void)u;
    gfuse_model_free(&S.model);
}

static gfuse_status run_predict(void *u)
{
    (void)u;
    return gfuse_predict(S.model, S.predict_on, &S.pred);
}
static void check_predict(void *u)
{
    (void)u;
    ck_assert_ptr_null(S.pred.output);
    ck_assert_ptr_null(S.pred.predicted);
    ck_assert_ptr_null(S.pred.fusion);
    ck_assert_ptr_null(S.pred.new_sample);
}
static void undo_predict(void *u)
{
    (void)u;
    gfuse_predictions_free(&S.pred);
}

static gfuse_status run_impute(void *u)
{
    (void)u;
    return gfuse_impute(S.model, S.predict_on, &S.imp);
}
static void check_impute(void *u)
{
    (void)u;
    ck_assert_ptr_null(S.imp.n_features);
    ck_assert_ptr_null(S.imp.values);
    ck_assert_ptr_null(S.imp.filled);
}
static void undo_impute(void *u)
{
    (void)u;
    gfuse_imputation_free(&S.imp);
}

static gfuse_status run_save(void *u)
{
    (void)u;
    remove(S.model_path);
    return gfuse_model_save(S.model, S.model_path);
}
static void check_save(void *u)
{
    (void)u;
    ck_assert_msg(access(S.model_path, F_OK) != 0, "a failed save left %s", S.model_path);
}
static void undo_save(void *u)
{
    (void)u;
    remove(S.model_path);
}

static gfuse_status run_model_load(void *u)
{
    (void)u;
    return gfuse_model_load(&S.loaded, S.model_path);
}
static void check_model_load(void *u)
{
    (void)u;
    ck_assert_ptr_null(S.loaded);
}
static void undo_model_load(void *u)
{
    (void)u;
    gfuse_model_free(&S.loaded);
}

/* ---- tests ------------------------------------------------------------------------------ */

START_TEST(test_alloc_cohort_load)
{
    state_init();
    sweep(&(alloc_call){"gfuse_cohort_load", run_load, check_load, undo_load, NULL});
    state_free();
}
END_TEST

START_TEST(test_alloc_graph_build)
{
    state_init();
    load_example();
    sweep(&(alloc_call){"gfuse_graph_build", run_graph, check_graph, undo_graph, NULL});
    state_free();
}
END_TEST

START_TEST(test_alloc_train)
{
    state_init();
    load_example();
    sweep(&(alloc_call){"gfuse_train", run_train, check_model, undo_model, NULL});
    state_free();
}
END_TEST

/* Regression: the example cohort with numeric targets (the class index plus a step). */
START_TEST(test_alloc_train_regression)
{
    state_init();
    load_example();
    int64_t n = gfuse_cohort_n_samples(S.cohort);
    double *target = malloc((size_t)n * sizeof *target);
    ck_assert_ptr_nonnull(target);
    for (int64_t i = 0; i < n; i++) {
        int32_t k = gfuse_cohort_label(S.cohort, i);
        target[i] = k < 0 ? NAN : 2.0 * k + 0.01 * (double)(i % 7);
    }
    ck_assert_msg(gfuse_cohort_set_targets(S.cohort, target) == GFUSE_OK, "%s",
                  gfuse_last_error());
    free(target);
    S.train.task = GFUSE_TASK_REGRESS;
    sweep(&(alloc_call){"gfuse_train (regression)", run_train, check_model, undo_model, NULL});
    train_example();
    sweep(&(alloc_call){"gfuse_model_save (regression)", run_save, check_save, undo_save, NULL});
    ck_assert_int_eq(gfuse_model_save(S.model, S.model_path), GFUSE_OK);
    sweep(&(alloc_call){"gfuse_model_load (regression)", run_model_load, check_model_load,
                        undo_model_load, NULL});
    state_free();
}
END_TEST

/* Three new samples: the first three of the example cohort under other ids, so that they are
 * new nodes attached to the model's reference samples. */
static void make_fresh(void)
{
    const int64_t n = 3;
    const char *const ids[3] = {"new1", "new2", "new3"};
    ck_assert_int_eq(gfuse_cohort_new(&S.fresh, n, ids), GFUSE_OK);
    for (int m = 0; m < gfuse_cohort_n_modalities(S.cohort); m++) {
        int64_t d = gfuse_cohort_n_features(S.cohort, m);
        float *x = malloc((size_t)(n * d) * sizeof *x);
        const char **names = malloc((size_t)d * sizeof *names);
        ck_assert(x && names);
        for (int64_t f = 0; f < d; f++) names[f] = gfuse_cohort_feature_name(S.cohort, m, f);
        for (int64_t i = 0; i < n; i++) {
            const float *v = gfuse_cohort_values(S.cohort, i, m);
            for (int64_t f = 0; f < d; f++) x[i * d + f] = v ? v[f] : NAN;
        }
        ck_assert_int_eq(gfuse_cohort_add_modality(S.fresh, gfuse_cohort_modality_name(S.cohort, m),
                                                   d, names, x),
                         GFUSE_OK);
        free(x);
        free(names);
    }
}

START_TEST(test_alloc_predict)
{
    state_init();
    load_example();
    train_example();
    S.predict_on = S.cohort;
    sweep(&(alloc_call){"gfuse_predict (the training cohort)", run_predict, check_predict,
                        undo_predict, NULL});
    make_fresh();
    S.predict_on = S.fresh;
    sweep(&(alloc_call){"gfuse_predict (new samples)", run_predict, check_predict, undo_predict,
                        NULL});
    sweep(&(alloc_call){"gfuse_impute (new samples)", run_impute, check_impute, undo_impute,
                        NULL});
    state_free();
}
END_TEST

START_TEST(test_alloc_model_save_load)
{
    state_init();
    load_example();
    train_example();
    sweep(&(alloc_call){"gfuse_model_save", run_save, check_save, undo_save, NULL});
    ck_assert_int_eq(gfuse_model_save(S.model, S.model_path), GFUSE_OK);
    sweep(&(alloc_call){"gfuse_model_load", run_model_load, check_model_load, undo_model_load,
                        NULL});
    state_free();
}
END_TEST

static Suite *alloc_suite(void)
{
    Suite *s = suite_create("alloc");
    TCase *tc = TU_TCASE(s, "allocation failures", tu_tmp_setup, tu_tmp_teardown,
                         test_alloc_cohort_load, test_alloc_graph_build, test_alloc_train,
                         test_alloc_train_regression, test_alloc_predict,
                         test_alloc_model_save_load);
    tcase_set_timeout(tc, 600);
    return s;
}

int main(void) { return tu_run_suite(alloc_suite()); }
