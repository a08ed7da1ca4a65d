/* metrics_tool.c: the library's metrics of predictions read from standard input, for
 * tests/metrics_sklearn.sh. Input: a first line "classify K" then rows "label,p_0,...,p_K-1"
 * (label -1 = unlabelled), or "regress" then rows "target,value". Output: "name value" lines,
 * values with 17 significant digits (nan when undefined). */
#include <gfuse.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS 100000

int main(void)
{
    char kind[16];
    int K = 0;
    if (scanf("%15s", kind) != 1) return 2;
    int classify = strcmp(kind, "classify") == 0;
    if (classify && scanf("%d", &K) != 1) return 2;
    if (classify && (K < 2 || K > 64)) return 2;
    int cols = classify ? K : 1;
    int32_t *label = malloc(MAX_ROWS * sizeof *label);
    double *target = malloc(MAX_ROWS * sizeof *target);
    double *p = malloc((size_t)MAX_ROWS * (size_t)cols * sizeof *p);
    if (!label || !target || !p) return 1;
    int64_t n = 0;
    double first;
    while (n < MAX_ROWS && scanf(" %lf", &first) == 1) {
        if (classify) label[n] = (int32_t)first;
        else target[n] = first;
        for (int k = 0; k < cols; k++)
            if (scanf(" ,%lf", &p[n * cols + k]) != 1) return 2;
        n++;
    }
    gfuse_status st;
    if (classify) {
        gfuse_class_metrics m;
        st = gfuse_class_metrics_compute(label, p, n, K, &m);
        if (st != GFUSE_OK) {
            fprintf(stderr, "%s\n", gfuse_last_error());
            return 1;
        }
        printf("n %lld\naccuracy %.17g\nbalanced_accuracy %.17g\nf1 %.17g\nf1_macro %.17g\n"
               "f1_weighted %.17g\nauroc %.17g\nauprc %.17g\nbrier %.17g\nlog_loss %.17g\n",
               (long long)m.n, m.accuracy, m.balanced_accuracy, m.f1, m.f1_macro, m.f1_weighted,
               m.auroc, m.auprc, m.brier, m.log_loss);
        printf("confusion");
        for (int k = 0; k < K * K; k++) printf(" %lld", (long long)m.confusion[k]);
        printf("\n");
        gfuse_class_metrics_free(&m);
    } else {
        gfuse_regress_metrics m;
        st = gfuse_regress_metrics_compute(target, p, n, &m);
        if (st != GFUSE_OK) {
            fprintf(stderr, "%s\n", gfuse_last_error());
            return 1;
        }
        printf("n %lld\nrmse %.17g\nmae %.17g\nr2 %.17g\n", (long long)m.n, m.rmse, m.mae, m.r2);
    }
    free(label);
    free(target);
    free(p);
    return 0;
}
