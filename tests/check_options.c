/*
 * check_options.c: the table of training options (src/model/options.c): every default passes
 * its own check, values out of range are rejected with the option and the value named, the
 * class-weights parser, the shortest number form, and a model file that stores every entry of
 * the table, in table order, and reads every option back.
 */
#include "testutil.h"

#include "model/model.h"
#include "model/options.h"

#include <math.h>
#include <stdint.h>

static void *field(gfuse_train_options *o, const gfuse_train_option *t)
{
    return (char *)o + t->offset;
}

static int is_option(const gfuse_train_option *t)
{
    return t->type != GFUSE_OPT_MODEL_INT && t->type != GFUSE_OPT_MODEL_INT64 &&
           t->type != GFUSE_OPT_CONST;
}

START_TEST(test_table_well_formed)
{
    int n = gfuse_train_option_count();
    ck_assert_int_gt(n, 20);
    ck_assert_ptr_null(gfuse_train_option_at(-1));
    ck_assert_ptr_null(gfuse_train_option_at(n));
    for (int k = 0; k < n; k++) {
        const gfuse_train_option *t = gfuse_train_option_at(k);
        ck_assert_ptr_nonnull(t->key);
        ck_assert_ptr_nonnull(t->what);
        for (int j = 0; j < k; j++) {
            const gfuse_train_option *u = gfuse_train_option_at(j);
            ck_assert_msg(strcmp(t->key, u->key) != 0, "key %s twice", t->key);
            ck_assert_msg(!t->flag || !u->flag || strcmp(t->flag, u->flag) != 0, "flag %s twice",
                          t->flag);
        }
        if (is_option(t)) {
            ck_assert_msg(t->flag && t->help && *t->help, "%s has no flag or help", t->key);
            ck_assert_msg(t->offset < sizeof(gfuse_train_options), "%s", t->key);
        } else {
            ck_assert_ptr_null(t->flag);
        }
    }
}
END_TEST

/* The defaults: each numeric default lies in its own range, and the whole set passes. */
START_TEST(test_defaults_pass_their_checks)
{
    gfuse_train_options o;
    gfuse_train_options_init(&o);
    ck_assert_int_eq(gfuse_train_options_check(&o, GFUSE_OPT_BY_NAME), GFUSE_OK);
    ck_assert_int_eq(gfuse_train_options_check(&o, GFUSE_OPT_BY_FLAG), GFUSE_OK);
    for (int k = 0; k < gfuse_train_option_count(); k++) {
        const gfuse_train_option *t = gfuse_train_option_at(k);
        const void *p = field(&o, t);
        switch (t->type) {
        case GFUSE_OPT_INT:
            ck_assert_int_eq(*(const int *)p, (int)t->def);
            ck_assert_msg(gfuse_i_option_in_range(t, t->def), "%s", t->key);
            break;
        case GFUSE_OPT_DOUBLE:
            ck_assert(*(const double *)p == t->def);
            ck_assert_msg(gfuse_i_option_in_range(t, t->def), "%s", t->key);
            break;
        case GFUSE_OPT_UINT64: ck_assert(*(const uint64_t *)p == (uint64_t)t->def); break;
        default: break;
        }
    }
    ck_assert_int_eq(o.task, GFUSE_TASK_AUTO);
    ck_assert_int_eq(o.class_weight_mode, GFUSE_CLASS_WEIGHTS_NONE);
    ck_assert_ptr_null(o.class_weights);
    ck_assert_ptr_null(o.on_epoch);
}
END_TEST

/* Sets entry t of o to v (a number). */
static void set_number(gfuse_train_options *o, const gfuse_train_option *t, double v)
{
    if (t->type == GFUSE_OPT_INT)
        *(int *)field(o, t) = (int)v;
    else
        *(double *)field(o, t) = v;
}

static void expect_rejected(const gfuse_train_option *t, double v)
{
    gfuse_train_options o;
    gfuse_train_options_init(&o);
    set_number(&o, t, v);
    ck_assert_msg(gfuse_train_options_check(&o, GFUSE_OPT_BY_NAME) == GFUSE_ERR_ARG,
                  "%s = %g accepted", t->key, v);
    char want[64];
    snprintf(want, sizeof want, "%s must be ", t->what);
    ck_assert_msg(strstr(gfuse_last_error(), want) && strstr(gfuse_last_error(), ", got "),
                  "%s: %s", t->key, gfuse_last_error());
    ck_assert_int_eq(gfuse_train_options_check(&o, GFUSE_OPT_BY_FLAG), GFUSE_ERR_ARG);
    snprintf(want, sizeof want, "--%s must be ", t->flag);
    ck_assert_msg(strstr(gfuse_last_error(), want), "%s: %s", t->key, gfuse_last_error());
}

static void expect_accepted(const gfuse_train_option *t, double v)
{
    gfuse_train_options o;
    gfuse_train_options_init(&o);
    set_number(&o, t, v);
    if (t->offset == offsetof(gfuse_train_options, heads)) o.hidden = o.heads * 8;
    if (t->offset == offsetof(gfuse_train_options, hidden)) o.heads = 1;
    ck_assert_msg(gfuse_train_options_check(&o, GFUSE_OPT_BY_NAME) == GFUSE_OK, "%s = %g: %s",
                  t->key, v, gfuse_last_error());
}

/* Every bound of every numeric option: the bound itself in or out as the range says, the
 * values beyond it out, NaN and infinities out for doubles. */
START_TEST(test_out_of_range_rejected)
{
    int bounded = 0;
    for (int k = 0; k < gfuse_train_option_count(); k++) {
        const gfuse_train_option *t = gfuse_train_option_at(k);
        if (t->type != GFUSE_OPT_INT && t->type != GFUSE_OPT_DOUBLE) continue;
        double step = t->type == GFUSE_OPT_INT ? 1.0 : 1e-9 * fmax(1.0, fabs(t->min));
        if (t->range & (GFUSE_OPT_MIN | GFUSE_OPT_MIN_OPEN)) {
            bounded++;
            expect_rejected(t, t->min - step);
            if (t->range & GFUSE_OPT_MIN_OPEN)
                expect_rejected(t, t->min);
            else
                expect_accepted(t, t->min);
        }
        if (t->range & (GFUSE_OPT_MAX | GFUSE_OPT_MAX_OPEN)) {
            step = t->type == GFUSE_OPT_INT ? 1.0 : 1e-9 * fmax(1.0, fabs(t->max));
            expect_rejected(t, t->max + step);
            if (t->range & GFUSE_OPT_MAX_OPEN)
                expect_rejected(t, t->max);
            else
                expect_accepted(t, t->max);
        }
        if (t->type == GFUSE_OPT_DOUBLE) {
            expect_rejected(t, NAN);
            expect_rejected(t, INFINITY);
        }
    }
    ck_assert_int_gt(bounded, 15);
}
END_TEST

/* The messages name the option and its value, by name or by flag. */
static const struct {
    int field; /* 0 dropout, 1 layers, 2 lr, 3 val_fraction, 4 hidden, 5 task */
    double value;
    int naming;
    const char *message;
} messages[] = {
    {0, 1.5, GFUSE_OPT_BY_NAME, "dropout must be in [0, 1), got 1.5"},
    {1, 0, GFUSE_OPT_BY_FLAG, "--layers must be in 1..64, got 0"},
    {2, 0, GFUSE_OPT_BY_NAME, "lr must be positive, got 0"},
    {3, 0.9, GFUSE_OPT_BY_NAME, "validation fraction must be in [0, 0.5], got 0.9"},
    {4, 10, GFUSE_OPT_BY_NAME, "hidden (10) must be a multiple of heads (4)"},
    {4, 10, GFUSE_OPT_BY_FLAG, "--hidden (10) must be a multiple of --heads (4)"},
    {5, 7, GFUSE_OPT_BY_NAME, "task must be auto, classify or regress, got 7"},
};

START_TEST(test_messages)
{
    gfuse_train_options o;
    gfuse_train_options_init(&o);
    double v = messages[_i].value;
    switch (messages[_i].field) {
    case 0: o.dropout = v; break;
    case 1: o.layers = (int)v; break;
    case 2: o.lr = v; break;
    case 3: o.val_fraction = v; break;
    case 4: o.hidden = (int)v; break;
    default: o.task = (gfuse_task)(int)v;
    }
    ck_assert_int_eq(gfuse_train_options_check(&o, messages[_i].naming), GFUSE_ERR_ARG);
    ck_assert_str_eq(gfuse_last_error(), messages[_i].message);
}
END_TEST

START_TEST(test_class_weights_parser)
{
    gfuse_train_options o;
    gfuse_train_options_init(&o);
    double *w = NULL;
    ck_assert_int_eq(gfuse_train_options_parse_class_weights(&o, "balanced", "cw", &w), GFUSE_OK);
    ck_assert_int_eq(o.class_weight_mode, GFUSE_CLASS_WEIGHTS_BALANCED);
    ck_assert_ptr_null(w);
    ck_assert_int_eq(gfuse_train_options_parse_class_weights(&o, "none", "cw", &w), GFUSE_OK);
    ck_assert_int_eq(o.class_weight_mode, GFUSE_CLASS_WEIGHTS_NONE);
    ck_assert_int_eq(gfuse_train_options_parse_class_weights(&o, "1,2.5,0.1", "cw", &w),
                     GFUSE_OK);
    ck_assert_int_eq(o.class_weight_mode, GFUSE_CLASS_WEIGHTS_GIVEN);
    ck_assert_int_eq(o.n_class_weights, 3);
    ck_assert_ptr_eq(o.class_weights, w);
    ck_assert(w[1] == 2.5 && w[2] == 0.1);
    ck_assert_int_eq(gfuse_train_options_check(&o, GFUSE_OPT_BY_NAME), GFUSE_OK);
    char *text = gfuse_i_class_weights_text(&o);
    ck_assert_str_eq(text, "1,2.5,0.10000000000000001");
    free(text);
    free(w);
    const char *bad[] = {"", "1,", ",1", "1,abc", "0", "-1", "1,inf", "nan", "1;2", "balance"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ck_assert_msg(gfuse_train_options_parse_class_weights(&o, bad[k], "--cw", &w) ==
                          GFUSE_ERR_ARG,
                      "'%s' accepted", bad[k]);
        ck_assert_ptr_null(w);
        char want[128];
        snprintf(want, sizeof want, "--cw must be none, balanced or positive numbers");
        ck_assert_ptr_nonnull(strstr(gfuse_last_error(), want));
        snprintf(want, sizeof want, "got '%s'", bad[k]);
        ck_assert_ptr_nonnull(strstr(gfuse_last_error(), want));
    }
}
END_TEST

START_TEST(test_shortest_double)
{
    const double v[] = {0.005, 0.05, 0.1, 0.2, 0.3, 0.99, 1.0, 3.0, 1e-12, 0.0, -2.5,
                        1.0 / 3.0, 123456789.125, 5e-324, 1.7976931348623157e308};
    const char *want[] = {"0.005", "0.05", "0.1", "0.2", "0.3", "0.99", "1", "3", "1e-12", "0",
                          "-2.5", "0.3333333333333333", "123456789.125", "5e-324",
                          "1.7976931348623157e+308"};
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
        char buf[32];
        gfuse_format_double(buf, sizeof buf, v[k]);
        ck_assert_str_eq(buf, want[k]);
        ck_assert(strtod(buf, NULL) == v[k]);
    }
}
END_TEST

/* A small cohort: 3 classes, 2 modalities, one of them missing for every 5th sample. */
static gfuse_cohort *small_cohort(void)
{
    const int64_t n = 36, d[2] = {4, 3};
    char *ids[36];
    int32_t label[36];
    for (int64_t i = 0; i < n; i++) {
        ids[i] = malloc(16);
        snprintf(ids[i], 16, "s%02d", (int)i);
        label[i] = (int32_t)(i % 3);
    }
    gfuse_cohort *c = NULL;
    ck_assert_int_eq(gfuse_cohort_new(&c, n, (const char *const *)ids), GFUSE_OK);
    for (int m = 0; m < 2; m++) {
        float *x = malloc((size_t)(n * d[m]) * sizeof *x);
        for (int64_t i = 0; i < n; i++)
            for (int64_t f = 0; f < d[m]; f++)
                x[i * d[m] + f] = m == 1 && i % 5 == 0
                                      ? NAN
                                      : (float)(label[i] == f % 3) + 0.1f * (float)((i * 7 + f) % 5);
        ck_assert_int_eq(gfuse_cohort_add_modality(c, m ? "beta" : "alpha", d[m], NULL, x),
                         GFUSE_OK);
        free(x);
    }
    const char *classes[3] = {"A", "B", "C"};
    ck_assert_int_eq(gfuse_cohort_set_classes(c, 3, classes, label), GFUSE_OK);
    for (int64_t i = 0; i < n; i++) free(ids[i]);
    return c;
}

/* Non-default values for every option that keep training short; numbers not exactly
 * representable where they may be, so the 17 digits of the file matter. */
static void odd_options(gfuse_train_options *o, double *w)
{
    gfuse_train_options_init(o);
    for (int k = 0; k < gfuse_train_option_count(); k++) {
        const gfuse_train_option *t = gfuse_train_option_at(k);
        if (t->type == GFUSE_OPT_DOUBLE) *(double *)field(o, t) = 0.1 + 0.01 * k;
        if (t->type == GFUSE_OPT_INT) *(int *)field(o, t) = (int)t->min;
    }
    o->task = GFUSE_TASK_CLASSIFY;
    o->layers = 1;
    o->heads = 2;
    o->hidden = 6;
    o->k = 3;
    o->epochs = 3;
    o->graph_variants = 2;
    o->patience = 2;
    o->ensemble = 2;
    o->seed = 18446744073709551557ull;
    o->mix_step = 0; /* the given linear mix is kept (test_mix_choice chooses one) */
    w[0] = 1.0;
    w[1] = 0.3;
    w[2] = 2.0 / 3.0;
    o->class_weight_mode = GFUSE_CLASS_WEIGHTS_GIVEN;
    o->class_weights = w;
    o->n_class_weights = 3;
}

/* With mix_step, the model keeps a linear mix of the grid (gfuse_i_mix_choice),
 * and keeps mix_step itself. */
START_TEST(test_mix_choice)
{
    gfuse_cohort *c = small_cohort();
    gfuse_train_options o, back;
    double w[3];
    odd_options(&o, w);
    o.mix_step = 0.25;
    o.linear_mix = 0.33;
    gfuse_model *m = NULL;
    ck_assert_msg(gfuse_train(&m, c, &o) == GFUSE_OK, "%s", gfuse_last_error());
    gfuse_model_options(m, &back);
    ck_assert(back.mix_step == 0.25);
    int on_grid = 0;
    for (int j = 0; j <= 4; j++) on_grid |= back.linear_mix == 0.25 * j;
    ck_assert_msg(on_grid, "linear mix %.17g is not on the grid", back.linear_mix);
    gfuse_model_free(&m);
    gfuse_cohort_free(&c);
}
END_TEST

/* The one-standard-error rule of the mix choice: the least loss wins when the candidates after
 * it are worse beyond one standard error of the paired difference; otherwise the last
 * candidate within it (towards the linear path); weights count as in the loss. */
START_TEST(test_mix_choice_rule)
{
    /* 3 candidates x 4 rows: 1 differs from 0 by noise of mean 0, 2 is 0 plus 0.5 everywhere */
    const double noisy[] = {0.0, 1.0, 0.0, 1.0, /**/ 0.1, 0.9, 0.2, 0.8, /**/ 0.5, 1.5, 0.5, 1.5};
    ck_assert_int_eq(gfuse_i_mix_choice(noisy, NULL, 4, 3), 1);
    /* without candidate 1, candidate 2's constant excess has no spread: 0 stays */
    const double clear[] = {0.0, 1.0, 0.0, 1.0, /**/ 0.5, 1.5, 0.5, 1.5};
    ck_assert_int_eq(gfuse_i_mix_choice(clear, NULL, 4, 2), 0);
    /* the least is not the first: candidates before it never count */
    const double later[] = {0.9, 0.9, 0.9, 0.9, /**/ 0.1, 0.1, 0.1, 0.1, /**/ 0.6, 0.6, 0.6, 0.6};
    ck_assert_int_eq(gfuse_i_mix_choice(later, NULL, 4, 3), 1);
    /* equal candidates: the last */
    const double same[] = {0.3, 0.7, 0.3, 0.7, 0.3, 0.7};
    ck_assert_int_eq(gfuse_i_mix_choice(same, NULL, 2, 3), 2);
    /* 2 rows: unweighted, 1 is within one standard error of 0; with the first row weighted 0,
     * 0 is better by 1.2 with no spread */
    const double two[] = {1.0, 0.0, /**/ 0.0, 1.2};
    ck_assert_int_eq(gfuse_i_mix_choice(two, NULL, 2, 2), 1);
    const double w[] = {0.0, 1.0};
    ck_assert_int_eq(gfuse_i_mix_choice(two, w, 2, 2), 0);
    /* nothing to choose from */
    ck_assert_int_eq(gfuse_i_mix_choice(two, NULL, 0, 2), 0);
    ck_assert_int_eq(gfuse_i_mix_choice(two, NULL, 2, 1), 0);
}
END_TEST

/* Every entry of the table is in the file once, in table order, and every option comes back
 * exactly as it was given. */
START_TEST(test_model_file_round_trip)
{
    gfuse_cohort *c = small_cohort();
    gfuse_train_options o, back;
    double w[3];
    odd_options(&o, w);
    gfuse_model *m = NULL;
    ck_assert_msg(gfuse_train(&m, c, &o) == GFUSE_OK, "%s", gfuse_last_error());
    const char *path = tu_path("options.gfm");
    ck_assert_int_eq(gfuse_model_save(m, path), GFUSE_OK);
    gfuse_model_free(&m);

    gfuse_modelfile *mf = NULL;
    ck_assert_int_eq(gfuse_modelfile_open(&mf, path), GFUSE_OK);
    int64_t s = gfuse_modelfile_find_section(mf, "hparams");
    ck_assert_int_ge(s, 0);
    int stored = 0; /* every entry but the settings of the run (checkpoints) */
    for (int k = 0; k < gfuse_train_option_count(); k++)
        stored += !(gfuse_train_option_at(k)->flags & GFUSE_OPT_RUN);
    ck_assert_int_lt(stored, gfuse_train_option_count());
    ck_assert_int_eq(gfuse_modelfile_section_count(mf, s), stored);
    for (int k = 0, j = 0; k < gfuse_train_option_count(); k++) {
        const gfuse_train_option *t = gfuse_train_option_at(k);
        if (t->flags & GFUSE_OPT_RUN) {
            ck_assert_ptr_null(gfuse_modelfile_hparam(mf, t->key));
            continue;
        }
        const char *kv = gfuse_modelfile_section_string(mf, s, j++);
        size_t len = strlen(t->key);
        ck_assert_msg(strncmp(kv, t->key, len) == 0 && kv[len] == '=', "entry %d: %s", k, kv);
    }
    ck_assert_str_eq(gfuse_modelfile_hparam(mf, "metric"), "cosine");
    ck_assert_str_eq(gfuse_modelfile_hparam(mf, "references"), "36");
    ck_assert_str_eq(gfuse_modelfile_hparam(mf, "attention_dim"), "6");
    ck_assert_str_eq(gfuse_modelfile_hparam(mf, "seed"), "18446744073709551557");
    gfuse_modelfile_free(&mf);

    ck_assert_int_eq(gfuse_model_load(&m, path), GFUSE_OK);
    gfuse_model_options(m, &back);
    for (int k = 0; k < gfuse_train_option_count(); k++) {
        const gfuse_train_option *t = gfuse_train_option_at(k);
        const void *a = field(&o, t), *b = field(&back, t);
        if (t->flags & GFUSE_OPT_RUN) continue; /* not stored */
        switch (t->type) {
        case GFUSE_OPT_INT: ck_assert_int_eq(*(const int *)a, *(const int *)b); break;
        case GFUSE_OPT_DOUBLE:
            ck_assert_msg(*(const double *)a == *(const double *)b, "%s: %.17g != %.17g", t->key,
                          *(const double *)a, *(const double *)b);
            break;
        case GFUSE_OPT_UINT64: ck_assert(*(const uint64_t *)a == *(const uint64_t *)b); break;
        case GFUSE_OPT_TASK:
            ck_assert_int_eq(*(const gfuse_task *)a, *(const gfuse_task *)b);
            break;
        case GFUSE_OPT_CLASS_WEIGHTS:
            ck_assert_int_eq(back.class_weight_mode, GFUSE_CLASS_WEIGHTS_GIVEN);
            ck_assert_int_eq(back.n_class_weights, 3);
            for (int j = 0; j < 3; j++) ck_assert(back.class_weights[j] == w[j]);
            break;
        default: break;
        }
    }
    ck_assert_int_eq(gfuse_model_n_members(m), 2);
    gfuse_model_free(&m);
    gfuse_cohort_free(&c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("options");
    TCase *t = tcase_create("table");
    tcase_add_checked_fixture(t, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_table_well_formed);
    tcase_add_test(t, test_defaults_pass_their_checks);
    tcase_add_test(t, test_out_of_range_rejected);
    tcase_add_loop_test(t, test_messages, 0, (int)(sizeof messages / sizeof messages[0]));
    tcase_add_test(t, test_class_weights_parser);
    tcase_add_test(t, test_shortest_double);
    tcase_add_test(t, test_model_file_round_trip);
    tcase_add_test(t, test_mix_choice);
    tcase_add_test(t, test_mix_choice_rule);
    suite_add_tcase(s, t);
    return tu_run_suite(s);
}
