/* check_metrics.c: the predicted class (arg max, first of ties), accuracy and the
 * classification and regression metrics against values worked out by hand. */
#include "core/metrics.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>

#define TOL 1e-12

/* prob (n x k): one-hot rows of the classes pred, which the arg max then gives back. */
static float *one_hot(const int32_t *pred, int64_t n, int k)
{
    float *prob = calloc((size_t)(n * k), sizeof(float));
    ck_assert_ptr_nonnull(prob);
    for (int64_t i = 0; i < n; i++) prob[i * k + pred[i]] = 1.0f;
    return prob;
}

START_TEST(test_accuracy)
{
    const int32_t yb[] = {1, 1, 0, 0, 1};
    const int32_t pb[] = {1, 0, 0, 1, 1};
    float *probb = one_hot(pb, 5, 2);
    ck_assert_double_eq_tol(gfuse_i_accuracy(yb, probb, NULL, 5, 2), 0.6, TOL);
    free(probb);

    const int32_t y[] = {0, 0, 1, 1, 2, 2, 0, -1};
    const int32_t p[] = {0, 1, 1, 1, 0, 2, 2, 2};
    float *prob = one_hot(p, 8, 3);
    ck_assert_double_eq_tol(gfuse_i_accuracy(y, prob, NULL, 8, 3), 4.0 / 7.0, TOL);
    const int64_t idx[] = {2, 3, 5};
    ck_assert_double_eq_tol(gfuse_i_accuracy(y, prob, idx, 3, 3), 1.0, TOL);

    const int32_t unlabelled[] = {-1, -1};
    ck_assert(isnan(gfuse_i_accuracy(unlabelled, prob, NULL, 2, 3)));
    free(prob);
}
END_TEST

START_TEST(test_argmax)
{
    const float prob[] = {0.5f, 0.25f, 0.25f, /* */ 0.25f, 0.25f, 0.5f, /* */ 0.4f, 0.4f, 0.2f,
                          0.0f, 1.0f, 0.0f};
    int32_t pred[4];
    for (int i = 0; i < 4; i++) pred[i] = gfuse_i_argmax(prob + i * 3, 3);
    ck_assert_int_eq(pred[0], 0);
    ck_assert_int_eq(pred[1], 2);
    ck_assert_int_eq(pred[2], 0); /* the first of tied maxima */
    ck_assert_int_eq(pred[3], 1);
    ck_assert_int_eq(gfuse_i_argmax(prob + 6, 3), 0);
    ck_assert_int_eq(gfuse_i_argmax(prob, 1), 0);

    /* the arg max of tied rows decides accuracy: row 2 predicts class 0 */
    const int32_t y[] = {0, 2, 1, 1};
    ck_assert_double_eq_tol(gfuse_i_accuracy(y, prob, NULL, 4, 3), 0.75, TOL);
}
END_TEST


/* Two classes: p rows (1 - s, s) of the scores s. */
static double *binary(const double *score, int n)
{
    double *p = malloc((size_t)n * 2 * sizeof *p);
    ck_assert_ptr_nonnull(p);
    for (int i = 0; i < n; i++) {
        p[2 * i] = 1 - score[i];
        p[2 * i + 1] = score[i];
    }
    return p;
}

START_TEST(test_binary)
{
    /* the textbook example: AUROC 0.75, average precision (1 + 2/3) / 2 */
    const int32_t y[] = {0, 0, 1, 1};
    const double s[] = {0.1, 0.4, 0.35, 0.8};
    double *p = binary(s, 4);
    gfuse_class_metrics m;
    ck_assert_int_eq(gfuse_class_metrics_compute(y, p, 4, 2, &m), GFUSE_OK);
    ck_assert_int_eq(m.n, 4);
    ck_assert_double_eq_tol(m.auroc, 0.75, TOL);
    ck_assert_double_eq_tol(m.auprc, (1.0 + 2.0 / 3.0) / 2.0, TOL);
    /* predicted 0, 0, 0, 1: one of the two positives found, no false positive */
    ck_assert_double_eq_tol(m.accuracy, 0.75, TOL);
    ck_assert_double_eq_tol(m.f1, 2.0 / 3.0, TOL);
    ck_assert_double_eq_tol(m.balanced_accuracy, (1.0 + 0.5) / 2, TOL);
    ck_assert_double_eq_tol(m.f1_macro, (0.8 + 2.0 / 3.0) / 2, TOL);
    ck_assert_int_eq(m.confusion[0], 2);
    ck_assert_int_eq(m.confusion[1], 0);
    ck_assert_int_eq(m.confusion[2], 1);
    ck_assert_int_eq(m.confusion[3], 1);
    double brier = (0.01 + 0.16 + 0.65 * 0.65 + 0.04) / 4;
    ck_assert_double_eq_tol(m.brier, brier, TOL);
    double loss = -(log(0.9) + log(0.6) + log(0.35) + log(0.8)) / 4;
    ck_assert_double_eq_tol(m.log_loss, loss, 1e-9);
    gfuse_class_metrics_free(&m);
    free(p);

    /* a tie between a positive and a negative counts half: (0.5 + 1 + 1 + 1) / 4 */
    const double tied[] = {0.5, 0.2, 0.5, 0.9};
    p = binary(tied, 4);
    ck_assert_int_eq(gfuse_class_metrics_compute(y, p, 4, 2, &m), GFUSE_OK);
    ck_assert_double_eq_tol(m.auroc, 0.875, TOL);
    gfuse_class_metrics_free(&m);

    /* unlabelled samples are skipped; one class only: AUROC undefined */
    const int32_t some[] = {-1, 0, -1, -1};
    ck_assert_int_eq(gfuse_class_metrics_compute(some, p, 4, 2, &m), GFUSE_OK);
    ck_assert_int_eq(m.n, 1);
    ck_assert(isnan(m.auroc));
    ck_assert(isnan(m.auprc));
    gfuse_class_metrics_free(&m);
    const int32_t none[] = {-1, -1, -1, -1};
    ck_assert_int_eq(gfuse_class_metrics_compute(none, p, 4, 2, &m), GFUSE_OK);
    ck_assert_int_eq(m.n, 0);
    ck_assert(isnan(m.accuracy));
    gfuse_class_metrics_free(&m);

    /* labels out of range and too few classes are argument errors */
    const int32_t wrong[] = {0, 2, 1, 1};
    ck_assert_int_eq(gfuse_class_metrics_compute(wrong, p, 4, 2, &m), GFUSE_ERR_ARG);
    ck_assert_int_eq(gfuse_class_metrics_compute(y, p, 4, 1, &m), GFUSE_ERR_ARG);
    free(p);
}
END_TEST

START_TEST(test_multiclass)
{
    /* three classes, one-vs-rest: class 0 ranks perfectly, class 1 has one swapped pair */
    const int32_t y[] = {0, 1, 2, 1};
    const double p[] = {0.8, 0.1, 0.1, /* */ 0.1, 0.6, 0.3, /* */ 0.1, 0.5, 0.4,
                        /* */ 0.2, 0.3, 0.5};
    gfuse_class_metrics m;
    ck_assert_int_eq(gfuse_class_metrics_compute(y, p, 4, 3, &m), GFUSE_OK);
    /* predicted 0, 1, 1, 2 */
    ck_assert_double_eq_tol(m.accuracy, 0.5, TOL);
    /* recalls 1, 1/2, 0 */
    ck_assert_double_eq_tol(m.balanced_accuracy, 0.5, TOL);
    /* F1 per class 1, 1/2, 0; weights 1, 2, 1 */
    ck_assert_double_eq_tol(m.f1_macro, 0.5, TOL);
    ck_assert_double_eq_tol(m.f1, m.f1_macro, TOL);
    ck_assert_double_eq_tol(m.f1_weighted, (1 + 2 * 0.5) / 4.0, TOL);
    /* AUROC: class 0: 1; class 1 (positives 0.6, 0.3 vs 0.1, 0.5): 3/4; class 2 (0.4 vs 0.1,
     * 0.3, 0.5): 2/3 */
    ck_assert_double_eq_tol(m.auroc, (1 + 0.75 + 2.0 / 3.0) / 3, TOL);
    ck_assert_int_eq(m.confusion[1 * 3 + 1], 1);
    ck_assert_int_eq(m.confusion[1 * 3 + 2], 1);
    ck_assert_int_eq(m.confusion[2 * 3 + 1], 1);
    gfuse_class_metrics_free(&m);
}
END_TEST

START_TEST(test_regression)
{
    const double t[] = {1, 2, 3, NAN, 6};
    const double v[] = {1, 3, 1, 100, 6};
    gfuse_regress_metrics m;
    ck_assert_int_eq(gfuse_regress_metrics_compute(t, v, 5, &m), GFUSE_OK);
    ck_assert_int_eq(m.n, 4);
    ck_assert_double_eq_tol(m.rmse, sqrt(5.0 / 4), TOL);
    ck_assert_double_eq_tol(m.mae, 3.0 / 4, TOL);
    /* mean 3: SST 4 + 1 + 0 + 9 = 14 */
    ck_assert_double_eq_tol(m.r2, 1 - 5.0 / 14, TOL);
    /* constant targets: 1 for a perfect fit, 0 otherwise (as scikit-learn) */
    const double c[] = {2, 2};
    ck_assert_int_eq(gfuse_regress_metrics_compute(c, c, 2, &m), GFUSE_OK);
    ck_assert_double_eq_tol(m.r2, 1, TOL);
    ck_assert_int_eq(gfuse_regress_metrics_compute(c, v, 2, &m), GFUSE_OK);
    ck_assert_double_eq_tol(m.r2, 0, TOL);
    /* one sample: R2 undefined, as scikit-learn */
    ck_assert_int_eq(gfuse_regress_metrics_compute(c, v, 1, &m), GFUSE_OK);
    ck_assert(isnan(m.r2));
    const double gone[] = {NAN};
    ck_assert_int_eq(gfuse_regress_metrics_compute(gone, v, 1, &m), GFUSE_OK);
    ck_assert(isnan(m.rmse));
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("classification");
    tcase_add_test(tc, test_accuracy);
    tcase_add_test(tc, test_argmax);
    tcase_add_test(tc, test_binary);
    tcase_add_test(tc, test_multiclass);
    tcase_add_test(tc, test_regression);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(metrics_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
