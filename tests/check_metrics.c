/* check_metrics.c: accuracy, F1, AUROC (ties, one-vs-rest), log-loss, RMSE and the confusion
 * matrix against values worked out by hand (and agreeing with scikit-learn's), and AUROC
 * against a brute-force count over all positive/negative pairs. */
#include "core/metrics.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>

#define TOL 1e-12

START_TEST(test_auroc_binary_by_hand)
{
    /* pairs (pos, neg): 0.35 beats 0.1, loses to 0.4; 0.8 beats both: 3 of 4 */
    const float s1[] = {0.1f, 0.4f, 0.35f, 0.8f};
    const uint8_t p1[] = {0, 0, 1, 1};
    ck_assert_double_eq_tol(gfuse_i_auroc_binary(s1, p1, NULL, 4), 0.75, TOL);
    /* a tie between a positive and a negative counts one half: (1 + 0.5 + 2) / 4 */
    const float s2[] = {0.1f, 0.5f, 0.5f, 0.9f};
    ck_assert_double_eq_tol(gfuse_i_auroc_binary(s2, p1, NULL, 4), 0.875, TOL);
    /* all tied: 0.5 */
    const float s3[] = {0.5f, 0.5f, 0.5f, 0.5f};
    const uint8_t p3[] = {0, 1, 0, 1};
    ck_assert_double_eq_tol(gfuse_i_auroc_binary(s3, p3, NULL, 4), 0.5, TOL);
    /* perfectly wrong: 0 */
    const uint8_t p4[] = {1, 1, 0, 0};
    ck_assert_double_eq_tol(gfuse_i_auroc_binary(s1, p4, NULL, 4), 0.25, TOL);
    const float s5[] = {0.9f, 0.8f, 0.2f, 0.1f};
    ck_assert_double_eq_tol(gfuse_i_auroc_binary(s5, p1, NULL, 4), 0.0, TOL);
    /* a subset: rows 0, 3 and 2 only: positives 0.35, 0.8 against 0.1: 1 */
    const int64_t idx[] = {0, 3, 2};
    ck_assert_double_eq_tol(gfuse_i_auroc_binary(s1, p1, idx, 3), 1.0, TOL);
    /* one group empty, or no rows: undefined */
    const uint8_t none[] = {0, 0, 0, 0};
    ck_assert(isnan(gfuse_i_auroc_binary(s1, none, NULL, 4)));
    ck_assert(isnan(gfuse_i_auroc_binary(s1, p1, NULL, 0)));
    /* NaN scores are left out */
    const float s6[] = {0.1f, NAN, 0.35f, 0.8f};
    ck_assert_double_eq_tol(gfuse_i_auroc_binary(s6, p1, NULL, 4), 1.0, TOL);
}
END_TEST

/* AUROC by counting every (positive, negative) pair: 1 if the positive scores higher, 1/2 on a
 * tie. The plain definition the rank formula must equal. */
static double auroc_pairs(const float *s, const uint8_t *pos, int64_t n)
{
    double wins = 0;
    int64_t pairs = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) {
            if (!pos[i] || pos[j]) continue;
            pairs++;
            wins += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
        }
    return wins / (double)pairs;
}

START_TEST(test_auroc_equals_pair_count)
{
    uint64_t x = 0x9e3779b97f4a7c15ull + (uint64_t)_i;
    for (int trial = 0; trial < 40; trial++) {
        int64_t n = 2 + trial * 7;
        float *s = malloc((size_t)n * sizeof *s);
        uint8_t *pos = malloc((size_t)n);
        ck_assert(s && pos);
        int levels = 1 + trial % 9; /* few score levels: many ties */
        for (int64_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            s[i] = (float)(x % (uint64_t)levels) / (float)levels;
            pos[i] = (x >> 20) & 1;
        }
        pos[0] = 1;
        pos[1] = 0;
        ck_assert_double_eq_tol(gfuse_i_auroc_binary(s, pos, NULL, n), auroc_pairs(s, pos, n),
                                1e-12);
        free(s);
        free(pos);
    }
}
END_TEST

START_TEST(test_auroc_classes)
{
    /* binary classifier: the AUROC of p_1; unlabelled rows (-1) are skipped */
    const int32_t y2[] = {0, 0, 1, 1, -1};
    const float prob2[] = {0.9f, 0.1f, 0.6f, 0.4f, 0.65f, 0.35f, 0.2f, 0.8f, 0.0f, 1.0f};
    ck_assert_double_eq_tol(gfuse_i_auroc(y2, prob2, NULL, 5, 2), 0.75, TOL);

    /* three classes, one-vs-rest macro:
     *   class 0: positives 0.6, 0.3 vs 0.2 0.1 0.4 0.3 -> (4 + 2.5) / 8 = 0.8125
     *   class 1: positives 0.5, 0.2 vs 0.3 0.3 0.4 0.3 -> (4 + 0) / 8   = 0.5
     *   class 2: positives 0.6, 0.4 vs 0.1 0.3 0.3 0.4 -> (4 + 3.5) / 8 = 0.9375
     *   mean 0.75 (scikit-learn: roc_auc_score(y, P, multi_class="ovr") = 0.75) */
    const int32_t y3[] = {0, 1, 2, 0, 1, 2};
    const float prob3[] = {0.6f, 0.3f, 0.1f, 0.2f, 0.5f, 0.3f, 0.1f, 0.3f, 0.6f,
                           0.3f, 0.4f, 0.3f, 0.4f, 0.2f, 0.4f, 0.3f, 0.3f, 0.4f};
    ck_assert_double_eq_tol(gfuse_i_auroc(y3, prob3, NULL, 6, 3), 0.75, TOL);
    /* a class without samples in the subset: undefined */
    const int64_t idx[] = {0, 1, 3, 4};
    ck_assert(isnan(gfuse_i_auroc(y3, prob3, idx, 4, 3)));
}
END_TEST

START_TEST(test_accuracy_f1_confusion)
{
    /* binary F1 of class 1: tp 2, fp 1, fn 1 -> 4 / 6 */
    const int32_t yb[] = {1, 1, 0, 0, 1};
    const int32_t pb[] = {1, 0, 0, 1, 1};
    ck_assert_double_eq_tol(gfuse_i_f1(yb, pb, NULL, 5, 2), 2.0 / 3.0, TOL);
    ck_assert_double_eq_tol(gfuse_i_accuracy(yb, pb, NULL, 5), 0.6, TOL);

    /* macro F1: class 0 2*1/(2+1+2) = 0.4, class 1 4/5 = 0.8, class 2 2/4 = 0.5 -> 1.7 / 3 */
    const int32_t y[] = {0, 0, 1, 1, 2, 2, 0, -1};
    const int32_t p[] = {0, 1, 1, 1, 0, 2, 2, 2};
    ck_assert_double_eq_tol(gfuse_i_f1(y, p, NULL, 8, 3), 1.7 / 3.0, TOL);
    ck_assert_double_eq_tol(gfuse_i_accuracy(y, p, NULL, 8), 4.0 / 7.0, TOL);
    /* a class neither true nor predicted counts 0: (1 + 2/3 + 0 + 0) / 4 */
    const int32_t y4[] = {0, 1, 2, 0};
    const int32_t p4[] = {0, 1, 1, 0};
    ck_assert_double_eq_tol(gfuse_i_f1(y4, p4, NULL, 4, 4), (1.0 + 2.0 / 3.0) / 4.0, TOL);

    int64_t cm[9];
    gfuse_i_confusion(cm, 3, y, p, NULL, 8);
    const int64_t expected[9] = {1, 1, 1, /* true 0 */ 0, 2, 0, /* true 1 */ 1, 0, 1};
    for (int c = 0; c < 9; c++) ck_assert_int_eq(cm[c], expected[c]);
    const int64_t idx[] = {2, 3, 5};
    gfuse_i_confusion(cm, 3, y, p, idx, 3);
    ck_assert_int_eq(cm[4], 2);
    ck_assert_int_eq(cm[8], 1);
    ck_assert_int_eq(cm[0] + cm[1] + cm[2] + cm[3] + cm[5] + cm[6] + cm[7], 0);
    ck_assert_double_eq_tol(gfuse_i_accuracy(y, p, idx, 3), 1.0, TOL);

    const int32_t unlabelled[] = {-1, -1};
    ck_assert(isnan(gfuse_i_accuracy(unlabelled, p, NULL, 2)));
    ck_assert(isnan(gfuse_i_f1(unlabelled, p, NULL, 2, 3)));
}
END_TEST

START_TEST(test_argmax_logloss_rmse)
{
    const float prob[] = {0.5f, 0.25f, 0.25f, /* */ 0.25f, 0.25f, 0.5f, /* */ 0.4f, 0.4f, 0.2f,
                          0.0f, 1.0f, 0.0f};
    int32_t pred[4];
    gfuse_i_argmax_rows(pred, prob, 4, 3);
    ck_assert_int_eq(pred[0], 0);
    ck_assert_int_eq(pred[1], 2);
    ck_assert_int_eq(pred[2], 0); /* the first of tied maxima */
    ck_assert_int_eq(pred[3], 1);

    /* -(ln 0.5 + ln 0.25) / 2 = 1.5 ln 2 */
    const int32_t y[] = {0, 1, -1, 1};
    const int64_t idx[] = {0, 1};
    ck_assert_double_eq_tol(gfuse_i_log_loss(y, prob, idx, 2, 3), 1.5 * log(2.0), 1e-7);
    /* a zero probability for the truth is clipped at 1e-15; row 3 is right with p = 1 */
    const int32_t yz[] = {1, 1, -1, 1};
    const int64_t idx2[] = {3, 0};
    ck_assert_double_eq_tol(gfuse_i_log_loss(yz, prob, idx2, 2, 3), -log(0.25) / 2.0, 1e-7);
    const int32_t ywrong[] = {2, 2, 2, 2};
    const int64_t idx3[] = {3};
    ck_assert_double_eq_tol(gfuse_i_log_loss(ywrong, prob, idx3, 1, 3), -log(1e-15), 1e-9);

    /* sqrt((1 + 0 + 4) / 3); NaN truth is skipped */
    const double truth[] = {1.0, 2.0, NAN, 4.0};
    const double guess[] = {2.0, 2.0, 5.0, 2.0};
    ck_assert_double_eq_tol(gfuse_i_rmse(truth, guess, NULL, 4), sqrt(5.0 / 3.0), TOL);
    const int64_t one[] = {3};
    ck_assert_double_eq_tol(gfuse_i_rmse(truth, guess, one, 1), 2.0, TOL);
    const int64_t nan_only[] = {2};
    ck_assert(isnan(gfuse_i_rmse(truth, guess, nan_only, 1)));
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *auroc = tcase_create("auroc");
    tcase_add_test(auroc, test_auroc_binary_by_hand);
    tcase_add_loop_test(auroc, test_auroc_equals_pair_count, 0, 5);
    tcase_add_test(auroc, test_auroc_classes);
    suite_add_tcase(s, auroc);
    TCase *other = tcase_create("classification and regression");
    tcase_add_test(other, test_accuracy_f1_confusion);
    tcase_add_test(other, test_argmax_logloss_rmse);
    suite_add_tcase(s, other);
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
