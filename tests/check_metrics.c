/* check_metrics.c: the predicted class (arg max, first of ties) and accuracy against values
 * worked out by hand. */
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

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("classification");
    tcase_add_test(tc, test_accuracy);
    tcase_add_test(tc, test_argmax);
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
