/* report_performance.c: the performance section of `gfuse report`: ROC and precision-recall
 * curves, the confusion matrix and a reliability diagram of the scored samples (predicted
 * against true values for regression), the folds of --cv, and the headline numbers. Metrics
 * come from the library (gfuse_class_metrics_compute, gfuse_regress_metrics_compute), as in
 * `gfuse predict --metrics`. */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- ROC and precision-recall curves ---------------------------------------------------- */

typedef struct {
    double score;
    int positive;
} scored;

static int by_score_desc(const void *a, const void *b)
{
    double x = ((const scored *)a)->score, y = ((const scored *)b)->score;
    return (x < y) - (x > y);
}

typedef struct {
    int64_t n;                        /* points */
    double *fpr, *tpr;                /* ROC, from (0, 0) to (1, 1) */
    double *recall, *precision;       /* precision-recall, one point per threshold */
} curves;

static void curves_free(curves *c)
{
    free(c->fpr);
    free(c->tpr);
    free(c->recall);
    free(c->precision);
    memset(c, 0, sizeof *c);
}

enum { CURVE_POINTS = 1000, SCATTER_POINTS = 5000 };

/* One point per distinct score threshold (ties move together, as scikit-learn's roc_curve
 * and precision_recall_curve). */
static int curves_compute(const scored *in, int64_t n, curves *c)
{
    memset(c, 0, sizeof *c);
    scored *s = report_alloc((size_t)n, sizeof *s);
    c->fpr = report_alloc((size_t)n + 1, sizeof(double));
    c->tpr = report_alloc((size_t)n + 1, sizeof(double));
    c->recall = report_alloc((size_t)n + 1, sizeof(double));
    c->precision = report_alloc((size_t)n + 1, sizeof(double));
    if (!s || !c->fpr || !c->tpr || !c->recall || !c->precision) {
        free(s);
        curves_free(c);
        return -1;
    }
    memcpy(s, in, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, by_score_desc);
    int64_t P = 0;
    for (int64_t i = 0; i < n; i++) P += s[i].positive;
    int64_t N = n - P, tp = 0, fp = 0, k = 1;
    c->fpr[0] = 0, c->tpr[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        tp += s[i].positive;
        fp += !s[i].positive;
        if (i + 1 < n && s[i + 1].score == s[i].score) continue;
        c->fpr[k] = N ? (double)fp / (double)N : NAN;
        c->tpr[k] = P ? (double)tp / (double)P : NAN;
        c->recall[k] = P ? (double)tp / (double)P : NAN;
        c->precision[k] = (double)tp / (double)(tp + fp);
        k++;
    }
    /* the precision-recall curve starts at recall 0 with the first threshold's precision */
    c->recall[0] = 0;
    c->precision[0] = k > 1 ? c->precision[1] : 1;
    c->n = k;
    /* Beyond CURVE_POINTS points the curves are thinned (every step-th point and the last):
     * the areas come from the library, not from the points drawn. */
    if (k > CURVE_POINTS) {
        int64_t step = (k + CURVE_POINTS - 1) / CURVE_POINTS, m = 0;
        for (int64_t q = 0; q < k; q++)
            if (q % step == 0 || q == k - 1) {
                c->fpr[m] = c->fpr[q], c->tpr[m] = c->tpr[q];
                c->recall[m] = c->recall[q], c->precision[m] = c->precision[q];
                m++;
            }
        c->n = m;
    }
    free(s);
    return 0;
}

/* AUROC and AUPRC of class k against the rest, from the library's binary metrics. */
static int one_vs_rest(const int32_t *label, const double *prob, int64_t n, int K, int k,
                       double *auroc, double *auprc)
{
    int32_t *bin = report_alloc((size_t)n, sizeof *bin);
    double *p2 = report_alloc((size_t)n * 2, sizeof *p2);
    if (!bin || !p2) {
        free(bin);
        free(p2);
        return report_out_of_memory();
    }
    for (int64_t i = 0; i < n; i++) {
        bin[i] = label[i] == k;
        p2[2 * i + 1] = prob[i * K + k];
        p2[2 * i] = 1 - p2[2 * i + 1];
    }
    gfuse_class_metrics m;
    gfuse_status st = gfuse_class_metrics_compute(bin, p2, n, 2, &m);
    free(bin);
    free(p2);
    if (st != GFUSE_OK) return cli_fail("report", st);
    *auroc = m.auroc;
    *auprc = m.auprc;
    gfuse_class_metrics_free(&m);
    return 0;
}

/* The classes drawn as curves: class 1 alone for two classes, every class otherwise. */
static int first_curve_class(int K) { return K == 2 ? 1 : 0; }

static int roc_pr_charts(report *r, const int32_t *label, const double *prob, int64_t n,
                         const gfuse_class_metrics *m)
{
    int K = r->K, k0 = first_curve_class(K), nk = K - k0;
    curves *cv = calloc((size_t)nk, sizeof *cv);
    double *auroc = report_alloc((size_t)nk, sizeof *auroc);
    double *auprc = report_alloc((size_t)nk, sizeof *auprc);
    scored *s = report_alloc((size_t)n, sizeof *s);
    char **names = calloc((size_t)nk + 2, sizeof *names);
    int rc = 0;
    if (!cv || !auroc || !auprc || !s || !names) {
        rc = report_out_of_memory();
        goto done;
    }
    for (int t = 0; t < nk; t++) {
        int k = k0 + t;
        for (int64_t i = 0; i < n; i++) s[i] = (scored){prob[i * K + k], label[i] == k};
        if (curves_compute(s, n, &cv[t]) != 0) {
            rc = report_out_of_memory();
            goto done;
        }
        if ((rc = one_vs_rest(label, prob, n, K, k, &auroc[t], &auprc[t])) != 0) goto done;
    }
    int colors[64], dash[64];
    int shown = nk > 8 ? 8 : nk;
    char id[32], text[200];
    for (int pr = 0; pr < 2; pr++) {
        cli_chart ch;
        cli_chart_begin(&ch, r->f, report_chart_id(r, id, sizeof id), 560, 440,
                        pr ? "Precision-recall curve" : "ROC curve");
        cli_chart_axes(&ch, 0, 1, 0, 1, pr ? "recall (share of positives found)"
                                           : "false positive rate (share of negatives)",
                       pr ? "precision (share of calls correct)"
                          : "true positive rate (share of positives)");
        if (!pr) cli_chart_segment(&ch, 0, 0, 1, 1, 6, 1);
        for (int t = 0; t < shown; t++) {
            cli_chart_line(&ch, pr ? cv[t].recall : cv[t].fpr, pr ? cv[t].precision : cv[t].tpr,
                           cv[t].n, t, 0);
            const char *cname = gfuse_model_class_name(r->model, k0 + t);
            char cut[64];
            report_utf8_prefix(cname, 10, cut, sizeof cut);
            snprintf(text, sizeof text, "%s %s %.3f", cut, pr ? "AP" : "AUC",
                     pr ? auprc[t] : auroc[t]);
            free(names[t]);
            names[t] = strdup(text);
            if (!names[t]) {
                cli_chart_end(&ch);
                rc = report_out_of_memory();
                goto done;
            }
            colors[t] = t, dash[t] = 0;
        }
        int nl = shown;
        if (!pr) {
            names[nl] = strdup("chance");
            colors[nl] = 6, dash[nl] = 1;
            if (names[nl]) nl++;
        }
        cli_chart_legend(&ch, (const char *const *)names, colors, dash, nl);
        if (!pr) {
            free(names[shown]);
            names[shown] = NULL;
        }
        cli_chart_end(&ch);
    }
    if (nk > shown)
        fprintf(r->f, "<p class=\"note\">Curves of the first %d of %d classes are drawn; the "
                      "table lists all.</p>\n",
                shown, nk);
    const char *head[] = {"class (positive)", "positives", "AUROC", "AUPRC (average precision)",
                          "ROC points"};
    cli_html_table_begin(r->f, K == 2 ? "ROC and precision-recall of the second class"
                                      : "ROC and precision-recall, each class against the rest "
                                        "(the macro average is in the metrics table)",
                         head, 5);
    for (int t = 0; t < nk; t++) {
        int64_t pos = 0;
        for (int64_t i = 0; i < n; i++) pos += label[i] == k0 + t;
        cli_html_row_begin(r->f);
        cli_html_cell_text(r->f, gfuse_model_class_name(r->model, k0 + t));
        cli_html_cell_int(r->f, pos);
        cli_html_cell_number(r->f, auroc[t], 4);
        cli_html_cell_number(r->f, auprc[t], 4);
        cli_html_cell_int(r->f, cv[t].n);
        cli_html_row_end(r->f);
    }
    cli_html_table_end(r->f);
    fprintf(r->f, "<details><summary>The points of the curves (at most %d per class, every "
                  "k-th beyond)</summary>\n",
            CURVE_POINTS);
    const char *ph[] = {"class", "false positive rate", "true positive rate", "recall",
                        "precision"};
    cli_html_table_begin(r->f, NULL, ph, 5);
    for (int t = 0; t < nk; t++)
        for (int64_t q = 0; q < cv[t].n; q++) {
            cli_html_row_begin(r->f);
            cli_html_cell_text(r->f, gfuse_model_class_name(r->model, k0 + t));
            cli_html_cell_number(r->f, cv[t].fpr[q], 4);
            cli_html_cell_number(r->f, cv[t].tpr[q], 4);
            cli_html_cell_number(r->f, cv[t].recall[q], 4);
            cli_html_cell_number(r->f, cv[t].precision[q], 4);
            cli_html_row_end(r->f);
        }
    cli_html_table_end(r->f);
    fputs("</details>\n", r->f);
    (void)m;
done:
    for (int t = 0; cv && t < nk; t++) curves_free(&cv[t]);
    for (int t = 0; names && t < nk + 2; t++) free(names[t]);
    free(names);
    free(cv);
    free(auroc);
    free(auprc);
    free(s);
    return rc;
}

/* ---- confusion matrix -------------------------------------------------------------------- */

static void confusion_chart(report *r, const char *title, const char *table_id,
                            const char *const *classes, int K, const int64_t *count)
{
    int shown = K > 20 ? 20 : K;
    double cell = shown > 8 ? 36 : 64;
    double width = 150 + cell * shown + 200, height = 40 + 40 + cell * shown + 80;
    if (width < 520) width = 520;
    cli_chart ch;
    char id[32], text[256];
    cli_chart_begin(&ch, r->f, report_chart_id(r, id, sizeof id), width, height, title);
    double x0 = 150, y0 = 70;
    ch.px0 = x0, ch.px1 = x0 + cell * shown, ch.py0 = y0, ch.py1 = y0 + cell * shown;
    for (int a = 0; a < shown; a++) {
        int64_t row = 0;
        for (int b = 0; b < K; b++) row += count[a * K + b];
        char cut[64];
        report_utf8_prefix(classes[a], 16, cut, sizeof cut);
        cli_chart_text(&ch, x0 - 8, y0 + cell * (a + 0.5) + 4, "end", "tick", cut);
        report_utf8_prefix(classes[a], shown > 8 ? 4 : 9, cut, sizeof cut);
        cli_chart_text(&ch, x0 + cell * (a + 0.5), y0 + cell * shown + 16, "middle", "tick", cut);
        for (int b = 0; b < shown; b++) {
            int64_t v = count[a * K + b];
            double share = row ? (double)v / (double)row : 0;
            /* white to the palette's blue by the share of the true class's row */
            int red = (int)lround(255 - share * (255 - 0x00));
            int green = (int)lround(255 - share * (255 - 0x72));
            int blue = (int)lround(255 - share * (255 - 0xB2));
            char fill[16];
            snprintf(fill, sizeof fill, "#%02X%02X%02X", red, green, blue);
            snprintf(text, sizeof text, "true %.100s, predicted %.100s: %lld", classes[a],
                     classes[b], (long long)v);
            cli_chart_rect(&ch, x0 + cell * b + 1, y0 + cell * a + 1, cell - 2, cell - 2, fill,
                           text);
            snprintf(text, sizeof text, "%lld", (long long)v);
            fprintf(r->f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"cell\" "
                          "fill=\"%s\">%s</text>\n",
                    x0 + cell * (b + 0.5), y0 + cell * (a + 0.5) + 4,
                    share > 0.55 ? "#fff" : "#000", text);
        }
    }
    fputs("<text class=\"axis\" text-anchor=\"middle\"", r->f);
    fprintf(r->f, " x=\"%.1f\" y=\"%.1f\">predicted class</text>\n", x0 + cell * shown / 2,
            y0 + cell * shown + 40);
    fprintf(r->f, "<text class=\"axis\" text-anchor=\"middle\" transform=\"translate(16 %.1f) "
                  "rotate(-90)\">true class (samples)</text>\n",
            y0 + cell * shown / 2);
    double lx = x0 + cell * shown + 24;
    for (int k = 0; k < 3; k++) {
        double share = k / 2.0;
        char fill[16];
        snprintf(fill, sizeof fill, "#%02X%02X%02X", (int)lround(255 - share * 255),
                 (int)lround(255 - share * (255 - 0x72)), (int)lround(255 - share * (255 - 0xB2)));
        cli_chart_rect(&ch, lx, y0 + 22 * k, 16, 14, fill, NULL);
        snprintf(text, sizeof text, "%.0f%% of its row", share * 100);
        cli_chart_text(&ch, lx + 22, y0 + 22 * k + 12, "start", "legend", text);
    }
    cli_chart_end(&ch);
    fprintf(r->f, "<div id=\"%s\">", table_id);
    const char **head = report_alloc((size_t)K + 1, sizeof *head);
    char **own = calloc((size_t)K, sizeof *own);
    if (head && own) {
        head[0] = "true \\ predicted";
        for (int b = 0; b < K; b++) {
            size_t len = strlen(classes[b]) + 12;
            own[b] = malloc(len);
            if (own[b]) snprintf(own[b], len, "predicted %s", classes[b]);
            head[b + 1] = own[b] ? own[b] : classes[b];
        }
        cli_html_table_begin(r->f, "Confusion matrix: rows the true class, columns the predicted",
                             head, K + 1);
        for (int a = 0; a < K; a++) {
            cli_html_row_begin(r->f);
            cli_html_cell_text(r->f, classes[a]);
            for (int b = 0; b < K; b++) cli_html_cell_int(r->f, count[a * K + b]);
            cli_html_row_end(r->f);
        }
        cli_html_table_end(r->f);
    }
    fputs("</div>\n", r->f);
    for (int b = 0; own && b < K; b++) free(own[b]);
    free(own);
    free(head);
}

/* ---- calibration ------------------------------------------------------------------------- */

enum { CAL_BINS = 10 };

/* Two classes: the probability of the second class against the share that is of it; more:
 * the top-class probability against the share predicted right (reliability diagram). */
static void calibration_chart(report *r, const int32_t *label, const double *prob, int64_t n,
                              double brier)
{
    int K = r->K;
    int64_t count[CAL_BINS] = {0};
    double sum_p[CAL_BINS] = {0}, sum_hit[CAL_BINS] = {0};
    for (int64_t i = 0; i < n; i++) {
        double p;
        int hit;
        if (K == 2) {
            p = prob[i * K + 1];
            hit = label[i] == 1;
        } else {
            int best = 0;
            for (int k = 1; k < K; k++)
                if (prob[i * K + k] > prob[i * K + best]) best = k;
            p = prob[i * K + best];
            hit = label[i] == best;
        }
        int b = (int)floor(p * CAL_BINS);
        if (b >= CAL_BINS) b = CAL_BINS - 1;
        if (b < 0) b = 0;
        count[b]++;
        sum_p[b] += p;
        sum_hit[b] += hit;
    }
    double x[CAL_BINS], y[CAL_BINS];
    int nb = 0;
    for (int b = 0; b < CAL_BINS; b++)
        if (count[b]) {
            x[nb] = sum_p[b] / (double)count[b];
            y[nb] = sum_hit[b] / (double)count[b];
            nb++;
        }
    cli_chart ch;
    char id[32], title[128];
    snprintf(title, sizeof title, "Calibration (reliability), Brier score %.3f", brier);
    cli_chart_begin(&ch, r->f, report_chart_id(r, id, sizeof id), 560, 440, title);
    const char *xl = K == 2 ? "predicted probability of the second class (bin mean)"
                            : "probability of the predicted class (bin mean)";
    const char *yl = K == 2 ? "observed share of the second class" : "observed share correct";
    cli_chart_axes(&ch, 0, 1, 0, 1, xl, yl);
    cli_chart_segment(&ch, 0, 0, 1, 1, 6, 1);
    cli_chart_line(&ch, x, y, nb, 0, 0);
    cli_chart_points(&ch, x, y, nb, 0, 4.5);
    const char *names[] = {"gfuse", "perfect calibration"};
    int colors[] = {0, 6}, dash[] = {0, 1};
    cli_chart_legend(&ch, names, colors, dash, 2);
    cli_chart_end(&ch);
    const char *head[] = {"bin", "samples", "mean predicted", "observed"};
    cli_html_table_begin(r->f, "Calibration bins (10 equal-width bins of the probability)", head,
                         4);
    for (int b = 0; b < CAL_BINS; b++) {
        char bin[48];
        snprintf(bin, sizeof bin, "%.1f-%.1f", b / 10.0, (b + 1) / 10.0);
        cli_html_row_begin(r->f);
        cli_html_cell_text(r->f, bin);
        cli_html_cell_int(r->f, count[b]);
        cli_html_cell_number(r->f, count[b] ? sum_p[b] / (double)count[b] : NAN, 4);
        cli_html_cell_number(r->f, count[b] ? sum_hit[b] / (double)count[b] : NAN, 4);
        cli_html_row_end(r->f);
    }
    cli_html_table_end(r->f);
}

/* ---- performance --------------------------------------------------------------------------- */

static void metrics_table(report *r, const char *table_id, const char *caption, const void *m,
                          int classify)
{
    fprintf(r->f, "<div id=\"%s\">", table_id);
    const char *head[] = {"metric", "value"};
    cli_html_table_begin(r->f, caption, head, 2);
    int64_t n;
    memcpy(&n, m, sizeof n); /* both metric structs start with n */
    cli_html_row_begin(r->f);
    cli_html_cell_text(r->f, "n");
    cli_html_cell_int(r->f, n);
    cli_html_row_end(r->f);
    const cli_metric *list = classify ? cli_class_metrics : cli_regress_metrics;
    int count = classify ? cli_n_class_metrics : cli_n_regress_metrics;
    for (int k = 0; k < count; k++) {
        cli_html_row_begin(r->f);
        cli_html_cell_text(r->f, list[k].name);
        cli_html_cell_number(r->f, cli_metric_value(&list[k], m), 4);
        cli_html_row_end(r->f);
    }
    cli_html_table_end(r->f);
    fputs("</div>\n", r->f);
}

static int class_performance(report *r, const int64_t *idx, int64_t n)
{
    int K = r->K, rc = 0;
    int32_t *label = report_alloc((size_t)n, sizeof *label);
    double *prob = report_alloc((size_t)n * (size_t)K, sizeof *prob);
    if (!label || !prob) {
        free(label);
        free(prob);
        return report_out_of_memory();
    }
    for (int64_t t = 0; t < n; t++) {
        label[t] = r->label[idx[t]];
        for (int k = 0; k < K; k++) prob[t * K + k] = r->pred.output[idx[t] * K + k];
    }
    gfuse_class_metrics m;
    gfuse_status st = gfuse_class_metrics_compute(label, prob, n, K, &m);
    if (st != GFUSE_OK) {
        free(label);
        free(prob);
        return cli_fail("report", st);
    }
    metrics_table(r, "metrics-eval", "Metrics (the library's, as gfuse predict --metrics)", &m,
                  1);
    fputs("<div class=\"row\">\n", r->f);
    rc = roc_pr_charts(r, label, prob, n, &m);
    fputs("</div>\n", r->f);
    if (rc == 0) {
        const char **classes = report_alloc((size_t)K, sizeof *classes);
        if (!classes) {
            rc = report_out_of_memory();
        } else {
            for (int k = 0; k < K; k++) classes[k] = gfuse_model_class_name(r->model, k);
            fputs("<div class=\"row\">\n<div>\n", r->f);
            confusion_chart(r, "Confusion matrix", "confusion-eval", classes, K, m.confusion);
            fputs("</div>\n<div>\n", r->f);
            calibration_chart(r, label, prob, n, m.brier);
            fputs("</div>\n</div>\n", r->f);
            free(classes);
        }
    }
    gfuse_class_metrics_free(&m);
    free(label);
    free(prob);
    return rc;
}

static const char *split_name(gfuse_split s)
{
    return s == GFUSE_SPLIT_TRAIN ? "train"
           : s == GFUSE_SPLIT_VAL ? "val"
           : s == GFUSE_SPLIT_TEST ? "test"
                                   : "";
}

static int regress_performance(report *r, const int64_t *idx, int64_t n)
{
    double *y = report_alloc((size_t)n, sizeof *y), *p = report_alloc((size_t)n, sizeof *p);
    int64_t *idx_shown = report_alloc((size_t)n, sizeof *idx_shown);
    if (!y || !p || !idx_shown) {
        free(y);
        free(p);
        free(idx_shown);
        return report_out_of_memory();
    }
    double lo = INFINITY, hi = -INFINITY;
    for (int64_t t = 0; t < n; t++) {
        y[t] = r->target[idx[t]];
        p[t] = r->pred.output[idx[t]];
        double v[2] = {y[t], p[t]};
        for (int k = 0; k < 2; k++) {
            if (v[k] < lo) lo = v[k];
            if (v[k] > hi) hi = v[k];
        }
    }
    gfuse_regress_metrics m;
    gfuse_status st = gfuse_regress_metrics_compute(y, p, n, &m);
    if (st != GFUSE_OK) {
        free(y);
        free(p);
        free(idx_shown);
        return cli_fail("report", st);
    }
    metrics_table(r, "metrics-eval", "Metrics (the library's, as gfuse predict --metrics)", &m,
                  0);
    if (!(hi > lo)) lo -= 1, hi += 1;
    double pad = (hi - lo) * 0.05;
    cli_chart ch;
    char id[32], title[128];
    snprintf(title, sizeof title, "Predicted against true value (RMSE %.3g, R\xC2\xB2 %.3f)",
             m.rmse, m.r2);
    cli_chart_begin(&ch, r->f, report_chart_id(r, id, sizeof id), 600, 480, title);
    cli_chart_axes(&ch, lo - pad, hi + pad, lo - pad, hi + pad, "true value (label units)",
                   "predicted value (label units)");
    cli_chart_segment(&ch, lo - pad, lo - pad, hi + pad, hi + pad, 6, 1);
    /* at most SCATTER_POINTS samples drawn (every step-th); the metrics use all */
    int64_t step = (n + SCATTER_POINTS - 1) / SCATTER_POINTS, shown = 0;
    for (int64_t t = 0; t < n; t += step) {
        y[shown] = y[t], p[shown] = p[t];
        idx_shown[shown++] = idx[t];
    }
    cli_chart_points(&ch, y, p, shown, 0, 3);
    const char *names[] = {"samples", "predicted = true"};
    int colors[] = {0, 6}, dash[] = {0, 1};
    cli_chart_legend(&ch, names, colors, dash, 2);
    cli_chart_end(&ch);
    if (shown < n)
        fprintf(r->f, "<p class=\"note\">%lld of the %lld samples are drawn (every %lld-th); the "
                      "metrics score all.</p>\n",
                (long long)shown, (long long)n, (long long)step);
    fputs("<details><summary>Every sample of the chart</summary>\n", r->f);
    const char *head[] = {"id", "split", "true", "predicted"};
    cli_html_table_begin(r->f, NULL, head, 4);
    for (int64_t t = 0; t < shown; t++) {
        cli_html_row_begin(r->f);
        cli_html_cell_text(r->f, gfuse_cohort_sample_id(r->cohort, idx_shown[t]));
        cli_html_cell_text(r->f, split_name(gfuse_cohort_split(r->cohort, idx_shown[t])));
        cli_html_cell_number(r->f, y[t], 6);
        cli_html_cell_number(r->f, p[t], 6);
        cli_html_row_end(r->f);
    }
    cli_html_table_end(r->f);
    fputs("</details>\n", r->f);
    free(y);
    free(p);
    free(idx_shown);
    return 0;
}

/* The folds of the cv result of gfuse (or the first method) at the lowest rate. */
static void cv_performance(report *r)
{
    const report_cv *cv = r->cv;
    int64_t k = report_cv_find(cv, "gfuse", -1);
    if (k < 0) k = report_cv_find(cv, cli_jv_get(cv->result[0], "method")->string, -1);
    const cli_jv *res = cv->result[k];
    const char *method = cli_jv_get(res, "method")->string;
    double rate = cli_jv_get(res, "rate")->number;
    const cli_jv *folds = cli_jv_get(res, "folds"), *pooled = cli_jv_get(res, "pooled");
    fputs("<h3>Cross-validation (--cv)</h3>\n<p>", r->f);
    fprintf(r->f, "%d folds, %d repeat%s, method <b>", cv->folds, cv->repeats,
            cv->repeats == 1 ? "" : "s");
    cli_html_escape(r->f, method);
    fprintf(r->f, "</b> at missing rate %g: every fold's metrics, and the folds of each repeat "
                  "pooled.</p>\n",
            rate);
    const char *m1 = cv->classify ? "accuracy" : "rmse", *m2 = cv->classify ? "auroc" : "r2";
    double *x = report_alloc((size_t)folds->n, sizeof *x);
    double *y1 = report_alloc((size_t)folds->n, sizeof *y1);
    double *y2 = report_alloc((size_t)folds->n, sizeof *y2);
    if (x && y1 && y2 && folds->n > 0) {
        double lo = INFINITY, hi = -INFINITY;
        for (int64_t q = 0; q < folds->n; q++) {
            x[q] = (double)q + 1;
            y1[q] = report_cv_metric(&folds->items[q], m1);
            y2[q] = report_cv_metric(&folds->items[q], m2);
            double v[2] = {y1[q], y2[q]};
            for (int t = 0; t < 2; t++)
                if (isfinite(v[t])) {
                    if (v[t] < lo) lo = v[t];
                    if (v[t] > hi) hi = v[t];
                }
        }
        if (!(hi >= lo)) lo = 0, hi = 1;
        double pad = (hi - lo) * 0.15 + 0.02;
        double ylo = lo - pad, yhi = hi + pad;
        if (cv->classify) {
            if (ylo < 0) ylo = 0;
            if (yhi > 1) yhi = 1;
        }
        cli_chart ch;
        char id[32];
        cli_chart_begin(&ch, r->f, report_chart_id(r, id, sizeof id), 640, 380,
                        cv->classify ? "Accuracy and AUROC per cross-validation fold"
                                     : "RMSE and R\xC2\xB2 per cross-validation fold");
        cli_chart_axes(&ch, 0.5, (double)folds->n + 0.5, ylo, yhi,
                       "fold (repeats one after the other)",
                       cv->classify ? "accuracy, AUROC (0 to 1)" : "RMSE (label units), R\xC2\xB2");
        cli_chart_points(&ch, x, y1, folds->n, 0, 5);
        cli_chart_points(&ch, x, y2, folds->n, 1, 5);
        if (pooled->n > 0) {
            double p1 = report_cv_metric(&pooled->items[0], m1);
            double p2 = report_cv_metric(&pooled->items[0], m2);
            cli_chart_segment(&ch, 0.5, p1, (double)folds->n + 0.5, p1, 0, 1);
            cli_chart_segment(&ch, 0.5, p2, (double)folds->n + 0.5, p2, 1, 1);
        }
        const char *names[4] = {m1, m2, "pooled (first repeat)", "pooled (first repeat)"};
        int colors[] = {0, 1, 0, 1}, dash[] = {0, 0, 1, 1};
        cli_chart_legend(&ch, names, colors, dash, pooled->n > 0 ? 4 : 2);
        cli_chart_end(&ch);
    }
    free(x);
    free(y1);
    free(y2);
    const char *cls[] = {"repeat", "fold", "n", "accuracy", "balanced_accuracy", "f1", "auroc",
                         "auprc", "brier", "log_loss"};
    const char *reg[] = {"repeat", "fold", "n", "rmse", "mae", "r2"};
    const char *const *head = cv->classify ? cls : reg;
    int nh = cv->classify ? 10 : 6;
    fputs("<div id=\"cv-folds\">", r->f);
    cli_html_table_begin(r->f, "Cross-validation folds and pools (from the --cv file)", head, nh);
    for (int pool = 0; pool <= 1; pool++) {
        const cli_jv *list = pool ? pooled : folds;
        for (int64_t q = 0; q < list->n; q++) {
            const cli_jv *e = &list->items[q];
            cli_html_row_begin(r->f);
            cli_html_cell_int(r->f, (int64_t)report_cv_metric(e, "repeat") + 1);
            if (pool) cli_html_cell_text(r->f, "pooled");
            else cli_html_cell_int(r->f, (int64_t)report_cv_metric(e, "fold") + 1);
            cli_html_cell_int(r->f, (int64_t)report_cv_metric(e, "n"));
            for (int h = 3; h < nh; h++) cli_html_cell_number(r->f, report_cv_metric(e, head[h]), 4);
            cli_html_row_end(r->f);
        }
    }
    cli_html_table_end(r->f);
    fputs("</div>\n", r->f);
    if (cv->classify && pooled->n > 0) {
        int K = cv->n_classes;
        int64_t *count = report_alloc((size_t)K * (size_t)K, sizeof *count);
        if (!count) return;
        const cli_jv *conf = cli_jv_get(&pooled->items[0], "confusion");
        for (int a = 0; a < K; a++)
            for (int b = 0; b < K; b++) count[a * K + b] = (int64_t)conf->items[a].items[b].number;
        confusion_chart(r, "Confusion matrix of the pooled folds (first repeat)", "confusion-cv",
                        cv->classes, K, count);
        free(count);
    }
}

int report_evaluate(report *r)
{
    int64_t n = gfuse_cohort_n_samples(r->cohort), m = 0;
    r->eval = report_alloc((size_t)n, sizeof *r->eval);
    if (!r->eval) return report_out_of_memory();
    r->headline[0] = r->headline[1] = NAN;
    /* the labelled test samples, or every labelled sample when there is none */
    for (int pass = 0; pass < 2 && m == 0; pass++) {
        r->eval_test = pass == 0;
        for (int64_t i = 0; i < n; i++) {
            int has = r->classify ? r->label[i] >= 0 : !isnan(r->target[i]);
            if (has && (!r->eval_test || gfuse_cohort_split(r->cohort, i) == GFUSE_SPLIT_TEST))
                r->eval[m++] = i;
        }
    }
    r->n_eval = m;
    if (m == 0) return 0;
    int K = r->classify ? r->K : 1;
    double *out = report_alloc((size_t)m * (size_t)K, sizeof *out);
    double *target = report_alloc((size_t)m, sizeof *target);
    int32_t *label = report_alloc((size_t)m, sizeof *label);
    if (!out || !target || !label) {
        free(out);
        free(target);
        free(label);
        return report_out_of_memory();
    }
    for (int64_t t = 0; t < m; t++) {
        label[t] = r->label[r->eval[t]];
        target[t] = r->target[r->eval[t]];
        for (int k = 0; k < K; k++) out[t * K + k] = r->pred.output[r->eval[t] * K + k];
    }
    gfuse_status st;
    if (r->classify) {
        gfuse_class_metrics cm;
        st = gfuse_class_metrics_compute(label, out, m, K, &cm);
        if (st == GFUSE_OK) {
            r->headline[0] = cm.auroc;
            r->headline[1] = cm.accuracy;
            gfuse_class_metrics_free(&cm);
        }
    } else {
        gfuse_regress_metrics rm;
        st = gfuse_regress_metrics_compute(target, out, m, &rm);
        if (st == GFUSE_OK) {
            r->headline[0] = rm.rmse;
            r->headline[1] = rm.r2;
        }
    }
    free(out);
    free(target);
    free(label);
    return cli_check("report", st);
}

int report_performance(report *r)
{
    FILE *f = r->f;
    int64_t m = r->n_eval;
    fputs("<section id=\"performance\">\n<h2>Performance</h2>\n", f);
    int rc = 0;
    if (m == 0) {
        fputs("<p class=\"note\">No labelled sample the model knows the class of: nothing to "
              "score.</p>\n",
              f);
    } else {
        if (r->eval_test)
            fprintf(f, "<p>The %lld labelled <b>test</b> samples (their labels were never read in "
                       "training).</p>\n",
                    (long long)m);
        else
            fprintf(f, "<p class=\"note\">The cohort has no labelled test sample: these are all "
                       "%lld labelled samples, the training samples included, so the numbers "
                       "are optimistic. <code>gfuse cv</code> scores held-out folds.</p>\n",
                    (long long)m);
        rc = r->classify ? class_performance(r, r->eval, m) : regress_performance(r, r->eval, m);
    }
    if (rc == 0 && r->cv) cv_performance(r);
    fputs("</section>\n", f);
    return rc;
}

