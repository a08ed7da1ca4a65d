/* cmd_report.c: `gfuse report`: one self-contained HTML page (inline SVG and CSS, no script,
 * no external resource) with the charts an analyst shows: the cohort's missing-modality
 * patterns, the training curves of --log, the performance on the labelled test samples, the
 * fusion attention, the completion against a known truth and, with --cv, the robustness to
 * missing modalities. Every chart has its numbers in a table beneath. This file holds the
 * command, the page and the cohort, training and robustness sections; report_model.c the
 * sections drawn from the predictions. */
#include "model_cmd.h"
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The first max_chars characters of UTF-8 text s (with "..." when cut) into buf. */
void report_utf8_prefix(const char *s, int max_chars, char *buf, size_t size)
{
    size_t k = 0;
    int chars = 0;
    while (s[k] && chars < max_chars) {
        k++;
        while (((unsigned char)s[k] & 0xC0) == 0x80) k++;
        chars++;
    }
    if (k + 4 > size) k = size > 4 ? size - 4 : 0;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
    memcpy(buf, s, k);
    snprintf(buf + k, size - k, "%s", s[k] ? "..." : "");
}

void *report_alloc(size_t n, size_t size) { return malloc((n ? n : 1) * size); }

int report_out_of_memory(void)
{
    cli_error("report", "out of memory");
    return CLI_EXIT_FAILURE;
}

const char *report_chart_id(report *r, char *buf, size_t size)
{
    snprintf(buf, size, "chart-%d", ++r->chart_count);
    return buf;
}

void report_pattern_label(const report *r, uint64_t bits, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int j = 0; j < r->M && j < 64; j++) {
        if (!((bits >> j) & 1)) continue;
        int n = snprintf(buf + len, size - len, "%s%s", len ? " + " : "",
                         gfuse_model_modality_name(r->model, j));
        if (n < 0 || (size_t)n >= size - len) {
            if (size > 4) snprintf(buf + size - 4, 4, "...");
            return;
        }
        len += (size_t)n;
    }
    if (len == 0) snprintf(buf, size, "none");
}

int report_compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double report_quantile(const double *sorted, int64_t n, double q)
{
    if (n <= 0) return NAN;
    double pos = q * (double)(n - 1);
    int64_t lo = (int64_t)floor(pos);
    if (lo >= n - 1) return sorted[n - 1];
    double frac = pos - (double)lo;
    return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

/* ---- the page ---------------------------------------------------------------------------- */

static const char page_style[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "margin:0 auto;max-width:1180px;padding:0 24px 48px;color:#1a1a1a;background:#fff;"
    "line-height:1.45}\n"
    "header{border-bottom:2px solid #0072B2;margin-bottom:8px}\n"
    "h1{font-size:1.7em;margin:18px 0 4px}h2{font-size:1.3em;margin-top:32px;"
    "border-bottom:1px solid #ccc}h3{font-size:1.05em;margin:20px 0 6px}\n"
    "nav a{margin-right:14px;color:#0072B2}\n"
    ".facts{display:flex;flex-wrap:wrap;gap:8px 20px;margin:10px 0}\n"
    ".facts div{min-width:96px}.facts b{display:block;font-size:1.35em}\n"
    ".row{display:flex;flex-wrap:wrap;gap:12px 24px;align-items:flex-start}\n"
    "figure.chart{margin:8px 0}figure.chart svg{max-width:100%;height:auto;"
    "font-size:12px;background:#fff}\n"
    "svg .ctitle{font-size:15px;font-weight:600}svg .axis{font-size:13px}"
    "svg .tick{fill:#444}svg .grid line{stroke:#e4e4e4}"
    "svg .frame{fill:none;stroke:#888}svg .cell{font-size:12px}\n"
    ".table{overflow-x:auto;margin:4px 0 14px}\n"
    "table{border-collapse:collapse;font-size:13px}caption{text-align:left;font-weight:600;"
    "padding:4px 0}\n"
    "th,td{border:1px solid #d0d0d0;padding:3px 8px;text-align:left}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}thead th{background:#f2f5f8}\n"
    ".note{color:#555;font-size:0.95em}\n"
    "@media print{nav{display:none}body{max-width:none;padding:0}"
    "section{break-before:auto}figure,.table{break-inside:avoid}h2,h3{break-after:avoid}"
    "a{color:inherit;text-decoration:none}}\n";

static void page_begin(report *r, const char *model_path, const char *source)
{
    FILE *f = r->f;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"generator\" content=\"gfuse " GFUSE_VERSION_STRING "\">\n<title>gfuse "
          "report: ",
          f);
    cli_html_escape(f, source);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n<h1>gfuse report</h1>\n",
            page_style);
    fputs("<p class=\"note\">Model <code>", f);
    cli_html_escape(f, model_path);
    fputs("</code> on cohort <code>", f);
    cli_html_escape(f, source);
    fputs("</code>, written by gfuse " GFUSE_VERSION_STRING ".</p>\n", f);
    int64_t n = gfuse_cohort_n_samples(r->cohort), labelled = 0, tests = 0;
    for (int64_t i = 0; i < n; i++) {
        int has = r->classify ? r->label[i] >= 0 : !isnan(r->target[i]);
        labelled += has;
        tests += has && gfuse_cohort_split(r->cohort, i) == GFUSE_SPLIT_TEST;
    }
    fprintf(f, "<div class=\"facts\"><div><b>%lld</b>samples</div><div><b>%d</b>modalities</div>"
               "<div><b>%lld</b>labelled</div><div><b>%lld</b>labelled test</div>",
            (long long)n, gfuse_cohort_n_modalities(r->cohort), (long long)labelled,
            (long long)tests);
    if (r->classify) fprintf(f, "<div><b>%d</b>classes</div>", r->K);
    else fputs("<div><b>regression</b>task</div>", f);
    const char *scope = r->eval_test ? "test" : "labelled";
    const char *names[2][2] = {{"AUROC", "accuracy"}, {"RMSE", "R\xC2\xB2"}};
    for (int k = 0; k < 2 && r->n_eval > 0; k++) {
        fputs("<div><b>", f);
        cli_html_number(f, r->headline[k], 3);
        fprintf(f, "</b>%s %s</div>", scope, names[!r->classify][k]);
    }
    fprintf(f, "<div><b>%d</b>ensemble members</div><div><b>%lld</b>parameters</div></div>\n",
            gfuse_model_n_members(r->model), (long long)gfuse_model_n_parameters(r->model));
    fputs("<nav><a href=\"#cohort\">Cohort</a><a href=\"#training\">Training</a>"
          "<a href=\"#performance\">Performance</a><a href=\"#attention\">Fusion attention</a>"
          "<a href=\"#completion\">Completion</a><a href=\"#robustness\">Robustness</a></nav>\n"
          "</header>\n",
          f);
}

static void page_end(report *r)
{
    fputs("<footer class=\"note\"><p>Every chart is drawn from the numbers in the table beneath "
          "it. Written by <code>gfuse report</code>; the page needs no network and runs no "
          "script.</p></footer>\n</body>\n</html>\n",
          r->f);
}

/* ---- cohort: md.pattern and missingness per modality ------------------------------------- */

static void cohort_patterns_chart(report *r, const gfuse_patterns *pt)
{
    const gfuse_cohort *c = r->cohort;
    int M = gfuse_cohort_n_modalities(c);
    int64_t n = gfuse_cohort_n_samples(c);
    int64_t P = pt->n_patterns;
    int shown = P > 40 ? 40 : (int)P;
    double cell_w = M > 12 ? 40 : 64, cell_h = 22;
    double width = 100 + cell_w * M + 80 + 110, height = 40 + 60 + cell_h * (shown + 1) + 56;
    if (width < 440) width = 440;
    cli_chart ch;
    char id[32];
    cli_chart_begin(&ch, r->f, report_chart_id(r, id, sizeof id), width, height,
                    "Missing-modality patterns (as mice's md.pattern)");
    double x0 = 100, y0 = 100;
    char text[64];
    for (int m = 0; m < M; m++) {
        double cx = x0 + cell_w * (m + 0.5);
        fprintf(r->f, "<text class=\"axis\" text-anchor=\"start\" transform=\"translate(%.1f %.1f) "
                      "rotate(-35)\">",
                cx - 4, y0 - 8);
        cli_html_escape(r->f, gfuse_cohort_modality_name(c, m));
        fputs("</text>\n", r->f);
    }
    cli_chart_text(&ch, x0 - 8, y0 - 8, "end", "axis", "samples");
    cli_chart_text(&ch, x0 + cell_w * M + 8, y0 - 8, "start", "axis", "missing");
    for (int p = 0; p < shown; p++) {
        double y = y0 + p * cell_h;
        int missing = 0;
        for (int m = 0; m < M; m++) {
            int has = m < 64 && ((pt->pattern[p] >> m) & 1);
            missing += !has;
            snprintf(text, sizeof text, "%lld samples: %s %s", (long long)pt->count[p],
                     gfuse_cohort_modality_name(c, m), has ? "present" : "missing");
            cli_chart_rect(&ch, x0 + cell_w * m + 1, y + 1, cell_w - 2, cell_h - 2,
                           has ? "#0072B2" : "#E69F00", text);
        }
        snprintf(text, sizeof text, "%lld", (long long)pt->count[p]);
        cli_chart_text(&ch, x0 - 8, y + cell_h * 0.68, "end", "cell", text);
        snprintf(text, sizeof text, "%d", missing);
        cli_chart_text(&ch, x0 + cell_w * M + 8, y + cell_h * 0.68, "start", "cell", text);
    }
    double y = y0 + shown * cell_h;
    int64_t total = 0;
    for (int m = 0; m < M; m++) {
        int64_t lack = 0;
        for (int64_t i = 0; i < n; i++) lack += !gfuse_cohort_has_modality(c, i, m);
        total += lack;
        snprintf(text, sizeof text, "%lld", (long long)lack);
        cli_chart_text(&ch, x0 + cell_w * (m + 0.5), y + cell_h * 0.68, "middle", "cell", text);
    }
    snprintf(text, sizeof text, "%lld", (long long)total);
    cli_chart_text(&ch, x0 + cell_w * M + 8, y + cell_h * 0.68, "start", "cell", text);
    cli_chart_text(&ch, x0 - 8, y + cell_h * 0.68, "end", "cell", "missing");
    ch.px1 = x0 + cell_w * M + 60;
    const char *names[] = {"present", "missing"};
    int colors[] = {0, 1};
    fprintf(r->f, "<g class=\"legend\">");
    for (int k = 0; k < 2; k++) {
        double lx = ch.px1 + 24, ly = y0 + 4 + 22 * k;
        cli_chart_rect(&ch, lx, ly, 16, 14, cli_chart_color(colors[k]), NULL);
        cli_chart_text(&ch, lx + 22, ly + 12, "start", "legend", names[k]);
    }
    fputs("</g>\n", r->f);
    cli_chart_axis_titles(&ch, "modality (blue: present, orange: missing)",
                          "pattern (rows by sample count)");
    cli_chart_end(&ch);
    if (shown < P)
        fprintf(r->f, "<p class=\"note\">The %d most frequent of %lld patterns are drawn; the "
                      "table lists all.</p>\n",
                shown, (long long)P);
    /* the table: one row per pattern, 1 = present */
    const char **head = malloc((size_t)(M + 2) * sizeof *head);
    if (!head) return;
    head[0] = "samples";
    for (int m = 0; m < M; m++) head[m + 1] = gfuse_cohort_modality_name(c, m);
    head[M + 1] = "missing modalities";
    cli_html_table_begin(r->f, "Missing-modality patterns: 1 = present, 0 = missing", head,
                         M + 2);
    for (int64_t p = 0; p < P; p++) {
        cli_html_row_begin(r->f);
        cli_html_cell_int(r->f, pt->count[p]);
        int missing = 0;
        for (int m = 0; m < M; m++) {
            int has = m < 64 && ((pt->pattern[p] >> m) & 1);
            missing += !has;
            cli_html_cell_int(r->f, has);
        }
        cli_html_cell_int(r->f, missing);
        cli_html_row_end(r->f);
    }
    cli_html_table_end(r->f);
    free(head);
}

static void cohort_missing_chart(report *r)
{
    const gfuse_cohort *c = r->cohort;
    int M = gfuse_cohort_n_modalities(c);
    int64_t n = gfuse_cohort_n_samples(c);
    cli_chart ch;
    char id[32], text[160];
    double width = 170 + 70 + (M > 20 ? 28 : 56) * M + 40;
    if (width < 480) width = 480;
    cli_chart_begin(&ch, r->f, report_chart_id(r, id, sizeof id), width, 320,
                    "Samples lacking each modality");
    ch.py1 -= 20;
    ch.no_x_ticks = 1;
    cli_chart_axes(&ch, 0, M, 0, 100, "", "samples lacking the modality (%)");
    double bw = (ch.px1 - ch.px0) / M;
    for (int m = 0; m < M; m++) {
        int64_t lack = 0;
        for (int64_t i = 0; i < n; i++) lack += !gfuse_cohort_has_modality(c, i, m);
        double pct = n ? 100.0 * (double)lack / (double)n : 0;
        double top = cli_chart_y(&ch, pct);
        snprintf(text, sizeof text, "%s: %lld of %lld samples (%.1f%%)",
                 gfuse_cohort_modality_name(c, m), (long long)lack, (long long)n, pct);
        cli_chart_rect(&ch, ch.px0 + bw * m + bw * 0.15, top, bw * 0.7, ch.py1 - top,
                       cli_chart_color(1), text);
        cli_chart_text(&ch, ch.px0 + bw * (m + 0.5), ch.py1 + 16, "middle", "tick",
                       gfuse_cohort_modality_name(c, m));
    }
    cli_chart_text(&ch, (ch.px0 + ch.px1) / 2, ch.height - 14, "middle", "axis", "modality");
    const char *names[] = {"lacking (%)"};
    int colors[] = {1};
    cli_chart_legend(&ch, names, colors, NULL, 1);
    cli_chart_end(&ch);
    const char *head[] = {"modality", "features", "present", "lacking", "lacking (%)",
                          "missing cells"};
    cli_html_table_begin(r->f, "Samples with and without each modality (missing cells: empty "
                               "cells in the rows present)", head, 6);
    for (int m = 0; m < M; m++) {
        int64_t lack = 0;
        for (int64_t i = 0; i < n; i++) lack += !gfuse_cohort_has_modality(c, i, m);
        cli_html_row_begin(r->f);
        cli_html_cell_text(r->f, gfuse_cohort_modality_name(c, m));
        cli_html_cell_int(r->f, gfuse_cohort_n_features(c, m));
        cli_html_cell_int(r->f, n - lack);
        cli_html_cell_int(r->f, lack);
        cli_html_cell_number(r->f, n ? 100.0 * (double)lack / (double)n : NAN, 4);
        cli_html_cell_int(r->f, gfuse_cohort_n_missing_cells(c, m));
        cli_html_row_end(r->f);
    }
    cli_html_table_end(r->f);
}

static int section_cohort(report *r)
{
    FILE *f = r->f;
    fputs("<section id=\"cohort\">\n<h2>Cohort</h2>\n", f);
    int M = gfuse_cohort_n_modalities(r->cohort);
    fprintf(f, "<p>%lld samples in %d modalities. Each row of the pattern matrix is one "
               "combination of present (blue) and missing (orange) modalities with the number "
               "of samples that show it; the last row counts the samples lacking each "
               "modality.</p>\n",
            (long long)gfuse_cohort_n_samples(r->cohort), M);
    if (M <= 64) {
        gfuse_patterns pt;
        gfuse_status st = gfuse_cohort_patterns(r->cohort, &pt);
        if (st != GFUSE_OK) return cli_fail("report", st);
        fputs("<div class=\"row\">\n<div>\n", f);
        cohort_patterns_chart(r, &pt);
        fputs("</div>\n<div>\n", f);
        gfuse_patterns_free(&pt);
    } else {
        fputs("<p class=\"note\">More than 64 modalities: the pattern matrix is left out.</p>\n",
              f);
    }
    cohort_missing_chart(r);
    if (M <= 64) fputs("</div>\n</div>\n", f);
    fputs("</section>\n", f);
    return 0;
}

/* ---- training: the curves of --log ------------------------------------------------------- */

/* The log rows of member (1-based) as x (epoch) and y (the field at offset) arrays. */
static int64_t log_series(const report_log *log, int member, size_t offset, double *x,
                          double *y)
{
    int64_t n = 0;
    for (int64_t k = 0; k < log->n; k++) {
        if (log->row[k].member != member) continue;
        x[n] = log->row[k].epoch;
        memcpy(&y[n], (const char *)&log->row[k] + offset, sizeof(double));
        n++;
    }
    return n;
}

/* One chart of two fields (solid and dashed) per member, with the chosen epoch marked. */
static void training_chart(report *r, const char *title, const char *ylabel, size_t solid,
                           const char *solid_name, size_t dashed, const char *dashed_name,
                           double *x, double *y)
{
    const report_log *log = r->log;
    int members = log->n_members;
    double xmax = 1, ymin = INFINITY, ymax = -INFINITY;
    for (int64_t k = 0; k < log->n; k++) {
        const report_log_row *row = &log->row[k];
        if (row->epoch > xmax) xmax = row->epoch;
        double v[2];
        memcpy(&v[0], (const char *)row + solid, sizeof(double));
        memcpy(&v[1], (const char *)row + (dashed ? dashed : solid), sizeof(double));
        for (int t = 0; t < 2; t++)
            if (isfinite(v[t])) {
                if (v[t] < ymin) ymin = v[t];
                if (v[t] > ymax) ymax = v[t];
            }
    }
    if (!(ymax >= ymin)) ymin = 0, ymax = 1;
    if (ymin > 0 && ymin < 0.25 * ymax) ymin = 0;
    double pad = (ymax - ymin) * 0.05 + 1e-12;
    double ticks[16], step;
    int nt = cli_nice_ticks(ymin - pad, ymax + pad, 7, ticks, &step);
    double lo = nt > 0 && step > 0 ? floor((ymin - pad) / step) * step : ymin - pad;
    if (ymin >= 0 && lo < 0) lo = 0;
    double hi = nt > 0 && step > 0 ? ceil((ymax + pad) / step) * step : ymax + pad;
    cli_chart ch;
    char id[32];
    cli_chart_begin(&ch, r->f, report_chart_id(r, id, sizeof id), 570, 380, title);
    cli_chart_axes(&ch, 1, xmax > 1 ? xmax : 2, lo, hi, "epoch", ylabel);
    int shown = members > 8 ? 8 : members;
    for (int mb = 1; mb <= shown; mb++) {
        int64_t n = log_series(log, mb, solid, x, y);
        cli_chart_line(&ch, x, y, n, mb - 1, 0);
        if (dashed) {
            n = log_series(log, mb, dashed, x, y);
            cli_chart_line(&ch, x, y, n, mb - 1, 1);
        }
        /* the chosen epoch, on the validation curve (or the solid one) */
        if (mb <= gfuse_model_n_members(r->model)) {
            int best = gfuse_model_best_epoch(r->model, mb - 1);
            n = log_series(log, mb, dashed ? dashed : solid, x, y);
            for (int64_t k = 0; k < n; k++)
                if ((int)x[k] == best && isfinite(y[k])) {
                    fprintf(r->f,
                            "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"6\" fill=\"none\" stroke=\"%s\" "
                            "stroke-width=\"2.5\"><title>member %d: chosen epoch %d</title>"
                            "</circle>\n",
                            cli_chart_x(&ch, x[k]), cli_chart_y(&ch, y[k]),
                            cli_chart_color(mb - 1), mb, best);
                }
        }
    }
    const char *names[10];
    int colors[10], dash[10], nl = 0;
    char label[8][48];
    for (int mb = 1; mb <= shown; mb++) {
        snprintf(label[mb - 1], sizeof label[0], "member %d", mb);
        names[nl] = label[mb - 1];
        colors[nl] = mb - 1;
        dash[nl++] = 0;
    }
    names[nl] = solid_name, colors[nl] = 7, dash[nl++] = 0;
    if (dashed) names[nl] = dashed_name, colors[nl] = 7, dash[nl++] = 1;
    cli_chart_legend(&ch, names, colors, dash, nl);
    cli_chart_text(&ch, ch.px1 + 14, ch.py0 + 10 + 20 * nl + 4, "start", "legend",
                   "\xE2\x97\x8B chosen epoch");
    cli_chart_end(&ch);
    if (members > shown)
        fprintf(r->f, "<p class=\"note\">The first %d of %d members are drawn; the tables list "
                      "all.</p>\n",
                shown, members);
}

static int section_training(report *r)
{
    FILE *f = r->f;
    int members = gfuse_model_n_members(r->model);
    fputs("<section id=\"training\">\n<h2>Training</h2>\n", f);
    if (!r->log) {
        fputs("<p class=\"note\">No training log given: <code>gfuse train --log FILE</code> "
              "writes one, <code>gfuse report --log FILE</code> draws its curves.</p>\n",
              f);
        const char *head[] = {"member", "chosen epoch"};
        cli_html_table_begin(f, "Epoch whose weights each member kept", head, 2);
        for (int m = 0; m < members; m++) {
            cli_html_row_begin(f);
            cli_html_cell_int(f, m + 1);
            cli_html_cell_int(f, gfuse_model_best_epoch(r->model, m));
            cli_html_row_end(f);
        }
        cli_html_table_end(f);
        fputs("</section>\n", f);
        return 0;
    }
    const report_log *log = r->log;
    if (log->n_members != members)
        cli_warning("the training log has %d members, the model %d: the log may come from "
                    "another training",
                    log->n_members, members);
    double *x = malloc((size_t)log->n * sizeof *x), *y = malloc((size_t)log->n * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        cli_error("report", "out of memory for the training curves");
        return CLI_EXIT_FAILURE;
    }
    fprintf(f, "<p>%lld epochs over %d ensemble member%s. Solid lines: the training loss (task "
               "loss plus the weighted reconstruction loss); dashed: the task loss on the "
               "validation samples. A ring marks the epoch whose weights each member kept.</p>\n",
            (long long)log->n, log->n_members, log->n_members == 1 ? "" : "s");
    fputs("<div class=\"row\">\n", f);
    training_chart(r, "Loss per epoch", "loss (nats; MSE for regression)",
                   offsetof(report_log_row, train_loss), "training loss",
                   offsetof(report_log_row, val_loss), "validation loss", x, y);
    training_chart(r, r->classify ? "Validation accuracy per epoch" : "Validation RMSE per epoch",
                   r->classify ? "validation accuracy (share correct)"
                               : "validation RMSE (label units)",
                   offsetof(report_log_row, val_metric),
                   r->classify ? "validation accuracy" : "validation RMSE", 0, NULL, x, y);
    fputs("</div>\n", f);
    free(x);
    free(y);
    const char *head[] = {"member",          "epochs run",      "chosen epoch",
                          "training loss",   "validation loss", r->classify ? "validation accuracy"
                                                                            : "validation RMSE"};
    cli_html_table_begin(f, "Each member at its chosen epoch", head, 6);
    for (int mb = 1; mb <= log->n_members; mb++) {
        int best = mb <= members ? gfuse_model_best_epoch(r->model, mb - 1) : -1;
        int64_t runs = 0;
        const report_log_row *at = NULL;
        for (int64_t k = 0; k < log->n; k++)
            if (log->row[k].member == mb) {
                runs++;
                if (log->row[k].epoch == best) at = &log->row[k];
            }
        cli_html_row_begin(f);
        cli_html_cell_int(f, mb);
        cli_html_cell_int(f, runs);
        if (best > 0) cli_html_cell_int(f, best);
        else cli_html_cell_text(f, "not in the model");
        cli_html_cell_number(f, at ? at->train_loss : NAN, 4);
        cli_html_cell_number(f, at ? at->val_loss : NAN, 4);
        cli_html_cell_number(f, at ? at->val_metric : NAN, 4);
        cli_html_row_end(f);
    }
    cli_html_table_end(f);
    fputs("<details><summary>Every epoch of the log</summary>\n", f);
    const char *all[] = {"member",   "epoch",    "train_loss", "task_loss",
                         "rec_loss", "val_loss", "val_metric", "seconds"};
    cli_html_table_begin(f, NULL, all, 8);
    for (int64_t k = 0; k < log->n; k++) {
        const report_log_row *row = &log->row[k];
        cli_html_row_begin(f);
        cli_html_cell_int(f, row->member);
        cli_html_cell_int(f, row->epoch);
        cli_html_cell_number(f, row->train_loss, 5);
        cli_html_cell_number(f, row->task_loss, 5);
        cli_html_cell_number(f, row->rec_loss, 5);
        cli_html_cell_number(f, row->val_loss, 5);
        cli_html_cell_number(f, row->val_metric, 5);
        cli_html_cell_number(f, row->seconds, 4);
        cli_html_row_end(f);
    }
    cli_html_table_end(f);
    fputs("</details>\n</section>\n", f);
    return 0;
}

/* ---- robustness: the metrics of --cv against the missing rate ---------------------------- */

/* The distinct methods of the cv results, in order of appearance (at most max). */
static int cv_methods(const report_cv *cv, const char **methods, int max)
{
    int n = 0;
    for (int64_t k = 0; k < cv->n_results; k++) {
        const char *m = cli_jv_get(cv->result[k], "method")->string;
        int found = 0;
        for (int t = 0; t < n; t++) found |= strcmp(methods[t], m) == 0;
        if (!found && n < max) methods[n++] = m;
    }
    return n;
}

static void robustness_chart(report *r, const char *metric, const char *title,
                             const char *ylabel)
{
    const report_cv *cv = r->cv;
    const char *methods[8];
    int nm = cv_methods(cv, methods, 8);
    double rmax = 0, ymin = INFINITY, ymax = -INFINITY;
    for (int64_t k = 0; k < cv->n_results; k++) {
        const cli_jv *res = cv->result[k];
        double rate = cli_jv_get(res, "rate")->number;
        double mean = report_cv_metric(cli_jv_get(res, "pooled_mean"), metric);
        double sd = report_cv_metric(cli_jv_get(res, "pooled_sd"), metric);
        if (rate > rmax) rmax = rate;
        if (!isfinite(sd)) sd = 0;
        if (isfinite(mean)) {
            if (mean - sd < ymin) ymin = mean - sd;
            if (mean + sd > ymax) ymax = mean + sd;
        }
    }
    if (!(ymax >= ymin)) ymin = 0, ymax = 1;
    double pad = (ymax - ymin) * 0.1 + 0.01;
    double lo = ymin - pad, hi = ymax + pad;
    if (strcmp(metric, "accuracy") == 0 || strcmp(metric, "auroc") == 0) {
        if (lo < 0) lo = 0;
        if (hi > 1) hi = 1;
    }
    cli_chart ch;
    char id[32];
    cli_chart_begin(&ch, r->f, report_chart_id(r, id, sizeof id), 560, 380, title);
    double xr = rmax > 0 ? rmax * 1.05 : 0.1;
    cli_chart_axes(&ch, 0, xr, lo, hi, "missing rate (share of modality cells hidden)", ylabel);
    double *x = malloc((size_t)cv->n_results * sizeof *x);
    double *y = malloc((size_t)cv->n_results * sizeof *y);
    for (int t = 0; x && y && t < nm; t++) {
        int64_t n = 0;
        for (int64_t k = 0; k < cv->n_results; k++) {
            const cli_jv *res = cv->result[k];
            if (strcmp(cli_jv_get(res, "method")->string, methods[t]) != 0) continue;
            x[n] = cli_jv_get(res, "rate")->number;
            y[n] = report_cv_metric(cli_jv_get(res, "pooled_mean"), metric);
            double sd = report_cv_metric(cli_jv_get(res, "pooled_sd"), metric);
            if (isfinite(sd) && sd > 0)
                cli_chart_segment(&ch, x[n], y[n] - sd, x[n], y[n] + sd, t, 0);
            n++;
        }
        cli_chart_line(&ch, x, y, n, t, strcmp(methods[t], "gfuse") != 0);
        cli_chart_points(&ch, x, y, n, t, 4);
    }
    free(x);
    free(y);
    int colors[8], dash[8];
    for (int t = 0; t < nm; t++) colors[t] = t, dash[t] = strcmp(methods[t], "gfuse") != 0;
    cli_chart_legend(&ch, methods, colors, dash, nm);
    cli_chart_end(&ch);
}

static int section_robustness(report *r)
{
    FILE *f = r->f;
    fputs("<section id=\"robustness\">\n<h2>Robustness to missing modalities</h2>\n", f);
    if (!r->cv) {
        fputs("<p class=\"note\">No cross-validation given: <code>gfuse cv --rates 0,0.1,0.3,0.5 "
              "--baselines --out cv.json</code> measures gfuse and the baselines at several "
              "missing rates, <code>gfuse report --cv cv.json</code> draws them.</p>\n</section>\n",
              f);
        return 0;
    }
    const report_cv *cv = r->cv;
    fprintf(f, "<p>Cross-validation, %d folds, %d repeat%s: the metrics of each repeat's folds "
               "pooled, mean over the repeats, bars one standard deviation. Baselines (dashed) "
               "were scored on the same folds: <i>mean</i> is mean imputation with logistic "
               "regression, <i>late</i> late fusion of per-modality logistic regressions.</p>\n",
            cv->folds, cv->repeats, cv->repeats == 1 ? "" : "s");
    fputs("<div class=\"row\">\n", f);
    if (cv->classify) {
        robustness_chart(r, "accuracy", "Accuracy against missing rate",
                         "accuracy (share correct)");
        robustness_chart(r, "auroc", "AUROC against missing rate", "AUROC (macro one-vs-rest)");
    } else {
        robustness_chart(r, "rmse", "RMSE against missing rate", "RMSE (label units)");
        robustness_chart(r, "mae", "MAE against missing rate", "MAE (label units)");
    }
    fputs("</div>\n", f);
    const char *m1 = cv->classify ? "accuracy" : "rmse", *m2 = cv->classify ? "auroc" : "mae";
    const char *head[] = {"missing rate", "method",        "pooled samples (first repeat)",
                          cv->classify ? "accuracy mean" : "RMSE mean",
                          cv->classify ? "accuracy sd" : "RMSE sd",
                          cv->classify ? "AUROC mean" : "MAE mean",
                          cv->classify ? "AUROC sd" : "MAE sd"};
    cli_html_table_begin(f, "Pooled metrics per missing rate and method (mean and sd over repeats)",
                         head, 7);
    for (int64_t k = 0; k < cv->n_results; k++) {
        const cli_jv *res = cv->result[k];
        const cli_jv *pooled = cli_jv_get(res, "pooled");
        cli_html_row_begin(f);
        cli_html_cell_number(f, cli_jv_get(res, "rate")->number, 6);
        cli_html_cell_text(f, cli_jv_get(res, "method")->string);
        if (pooled->n > 0) cli_html_cell_int(f, (int64_t)report_cv_metric(&pooled->items[0], "n"));
        else cli_html_cell_text(f, "");
        cli_html_cell_number(f, report_cv_metric(cli_jv_get(res, "pooled_mean"), m1), 4);
        cli_html_cell_number(f, report_cv_metric(cli_jv_get(res, "pooled_sd"), m1), 3);
        cli_html_cell_number(f, report_cv_metric(cli_jv_get(res, "pooled_mean"), m2), 4);
        cli_html_cell_number(f, report_cv_metric(cli_jv_get(res, "pooled_sd"), m2), 3);
        cli_html_row_end(f);
    }
    cli_html_table_end(f);
    fputs("</section>\n", f);
    return 0;
}

/* ---- the command --------------------------------------------------------------------------- */

typedef struct {
    const char *log;
    const char *cv;
    const char *model_path; /* set by check_report */
    const char *cohort_dir; /* --cohort DIR, or NULL */
} report_paths;

static void report_free(report *r)
{
    gfuse_predictions_free(&r->pred);
    free(r->cohort_mod);
    free(r->label);
    free(r->target);
    free(r->present);
    free(r->eval);
}

/* Labels as the model's classes (matched by name, as predict --metrics does), presence of the
 * model's modalities. */
static int report_prepare(report *r)
{
    const gfuse_cohort *c = r->cohort;
    int64_t n = gfuse_cohort_n_samples(c);
    size_t rows = (size_t)(n ? n : 1);
    r->cohort_mod = malloc((size_t)(r->M ? r->M : 1) * sizeof *r->cohort_mod);
    r->label = malloc(rows * sizeof *r->label);
    r->target = malloc(rows * sizeof *r->target);
    r->present = calloc(rows, sizeof *r->present);
    int nc = gfuse_cohort_n_classes(c);
    int *class_of = malloc((size_t)(nc + 1) * sizeof *class_of);
    if (!r->cohort_mod || !r->label || !r->target || !r->present || !class_of) {
        free(class_of);
        cli_error("report", "out of memory");
        return CLI_EXIT_FAILURE;
    }
    for (int j = 0; j < r->M; j++) {
        r->cohort_mod[j] = -1;
        for (int m = 0; m < gfuse_cohort_n_modalities(c); m++)
            if (strcmp(gfuse_cohort_modality_name(c, m), gfuse_model_modality_name(r->model, j)) ==
                0)
                r->cohort_mod[j] = m;
    }
    for (int k = 0; k < nc; k++) {
        class_of[k] = -1;
        for (int t = 0; r->classify && t < r->K; t++)
            if (strcmp(gfuse_cohort_class_name(c, k), gfuse_model_class_name(r->model, t)) == 0)
                class_of[k] = t;
    }
    for (int64_t i = 0; i < n; i++) {
        int32_t lab = r->classify ? gfuse_cohort_label(c, i) : -1;
        r->label[i] = lab >= 0 ? class_of[lab] : -1;
        r->target[i] = r->classify ? NAN : gfuse_cohort_target(c, i);
        for (int j = 0; j < r->M && j < 64; j++)
            if (r->cohort_mod[j] >= 0 && gfuse_cohort_has_modality(c, i, r->cohort_mod[j]))
                r->present[i] |= (uint64_t)1 << j;
    }
    free(class_of);
    return 0;
}

static int run_report(const char *out, const gfuse_model *model, const gfuse_cohort *cohort,
                      int quiet, void *ctx)
{
    const report_paths *paths = ctx;
    report r;
    memset(&r, 0, sizeof r);
    r.model = model;
    r.cohort = cohort;
    r.classify = gfuse_model_task(model) == GFUSE_TASK_CLASSIFY;
    r.K = gfuse_model_n_classes(model);
    r.M = gfuse_model_n_modalities(model);
    report_log log;
    report_cv cv;
    memset(&log, 0, sizeof log);
    memset(&cv, 0, sizeof cv);
    cli_outfile o;
    memset(&o, 0, sizeof o);
    int rc;
    if (paths->log && (rc = report_log_read(paths->log, &log)) != 0) goto done;
    if (paths->cv && (rc = report_cv_read(paths->cv, &cv)) != 0) goto done;
    r.log = paths->log ? &log : NULL;
    r.cv = paths->cv ? &cv : NULL;
    if (r.M > 64) {
        rc = cli_usage_error("report", "the report draws models of at most 64 modalities, this "
                                       "one has %d",
                             r.M);
        goto done;
    }
    if ((rc = cli_check("report", gfuse_predict(model, cohort, &r.pred))) != 0) goto done;
    if ((rc = report_prepare(&r)) != 0) goto done;
    if ((rc = report_evaluate(&r)) != 0) goto done;
    if ((rc = cli_outfile_open(&o, "report", out)) != 0) goto done;
    r.f = o.f;
    page_begin(&r, paths->model_path, paths->cohort_dir ? paths->cohort_dir : "(modality files)");
    if ((rc = section_cohort(&r)) != 0) goto done;
    if ((rc = section_training(&r)) != 0) goto done;
    if ((rc = report_performance(&r)) != 0) goto done;
    if ((rc = report_attention(&r)) != 0) goto done;
    if ((rc = report_completion(&r)) != 0) goto done;
    if ((rc = section_robustness(&r)) != 0) goto done;
    page_end(&r);
    if ((rc = cli_outfile_commit(&o, "report")) != 0) goto done;
    if (!quiet) fprintf(stderr, "report: %d charts written to %s\n", r.chart_count, out);
done:
    cli_outfile_abort(&o);
    report_free(&r);
    report_log_free(&log);
    report_cv_free(&cv);
    return rc;
}

static int check_report(const char *out, const cli_cohort_args *ca, const gfuse_cohort *cohort,
                        const char *model_path, void *ctx)
{
    report_paths *paths = ctx;
    paths->model_path = model_path;
    paths->cohort_dir = ca->dir;
    const char *inputs[] = {model_path, paths->log, paths->cv};
    const char *outs[] = {out};
    return cli_outputs_check("report", ca, cohort, inputs, 3, outs, 1);
}

int cmd_report(int argc, char **argv)
{
    report_paths paths = {NULL, NULL, NULL, NULL};
    cli_model_cmd cmd = {
        .name = "report",
        .synopsis = "--model FILE --cohort DIR --out FILE.html [--log FILE] [--cv FILE]",
        .description =
            "Writes one self-contained HTML page (inline SVG charts, no script, no network) about\n"
            "a model on a cohort: the missing-modality patterns; the training curves of --log;\n"
            "ROC, precision-recall, confusion and calibration on the labelled test samples (all\n"
            "labelled samples without a test split), or predicted against true values for\n"
            "regression; the fusion attention per modality and missing-modality pattern; the\n"
            "completion against truth/ (gfuse synth) or a --mask's hidden values; and with --cv\n"
            "the cross-validated metrics against the missing rate. Every chart has its numbers\n"
            "in a table beneath.",
        .out_metavar = "FILE.html",
        .out_help = "the HTML page (required; - = stdout)",
        .extra = {{.name = "log", .kind = CLI_STRING, .dest = &paths.log, .metavar = "FILE",
                   .help = "training log of gfuse train --log: loss and validation curves",
                   .def = "none"},
                  {.name = "cv", .kind = CLI_STRING, .dest = &paths.cv, .metavar = "FILE",
                   .help = "JSON of gfuse cv --out: cross-validated metrics, robustness curves",
                   .def = "none"}},
        .run = run_report,
        .ctx = &paths,
        .check = check_report};
    return cli_model_command(&cmd, argc, argv);
}
