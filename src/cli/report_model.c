/* report_model.c: the sections of `gfuse report` drawn from what the model says about each
 * sample besides its prediction: the fusion attention per modality and missing-modality
 * pattern, and the completion of missing modalities against the values the cohort hides. */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- fusion attention ---------------------------------------------------------------------- */

/* A missing-modality pattern: its samples are order[start .. start + count). */
typedef struct {
    uint64_t bits;
    int64_t start, count;
} pattern_group;

typedef struct {
    uint64_t bits;
    int64_t sample;
} sample_bits;

static int by_bits(const void *a, const void *b)
{
    const sample_bits *x = a, *y = b;
    if (x->bits != y->bits) return (x->bits > y->bits) - (x->bits < y->bits);
    return (x->sample > y->sample) - (x->sample < y->sample);
}

static int by_count_desc(const void *a, const void *b)
{
    const pattern_group *x = a, *y = b;
    if (x->count != y->count) return (x->count < y->count) - (x->count > y->count);
    return (x->bits > y->bits) - (x->bits < y->bits);
}

/* The samples in order of their pattern (order, n entries) and the patterns by sample count,
 * most frequent first (groups); returns the number of patterns, or -1 when out of memory.
 * O(n log n). */
static int64_t pattern_groups(const report *r, int64_t **order_out, pattern_group **groups_out)
{
    int64_t n = r->pred.n, P = 0;
    sample_bits *sb = report_alloc((size_t)n, sizeof *sb);
    int64_t *order = report_alloc((size_t)n, sizeof *order);
    pattern_group *g = report_alloc((size_t)n, sizeof *g);
    if (!sb || !order || !g) {
        free(sb);
        free(order);
        free(g);
        return -1;
    }
    for (int64_t i = 0; i < n; i++) sb[i] = (sample_bits){r->present[i], i};
    qsort(sb, (size_t)n, sizeof *sb, by_bits);
    for (int64_t i = 0; i < n; i++) {
        order[i] = sb[i].sample;
        if (i == 0 || sb[i].bits != sb[i - 1].bits) g[P++] = (pattern_group){sb[i].bits, i, 0};
        g[P - 1].count++;
    }
    qsort(g, (size_t)P, sizeof *g, by_count_desc);
    free(sb);
    *order_out = order;
    *groups_out = g;
    return P;
}

typedef struct {
    int64_t n;
    double min, q1, median, q3, max, mean;
} box_stats;

static void box_of(double *v, int64_t n, box_stats *b)
{
    qsort(v, (size_t)n, sizeof *v, report_compare_doubles);
    double sum = 0;
    for (int64_t k = 0; k < n; k++) sum += v[k];
    b->n = n;
    b->min = n ? v[0] : NAN;
    b->max = n ? v[n - 1] : NAN;
    b->q1 = report_quantile(v, n, 0.25);
    b->median = report_quantile(v, n, 0.5);
    b->q3 = report_quantile(v, n, 0.75);
    b->mean = n ? sum / (double)n : NAN;
}

static const char *slot_name(const report *r, int s)
{
    return s < r->M ? gfuse_model_modality_name(r->model, s) : "hub";
}

/* The legend of the fusion slots: the first modalities (at most 11) and the hub. */
static void slot_legend(const report *r, cli_chart *ch)
{
    const char *names[12];
    int colors[12];
    int shown = r->M + 1 > 12 ? 12 : r->M + 1;
    for (int s = 0; s < shown; s++) {
        int slot = s == shown - 1 ? r->M : s;
        names[s] = slot_name(r, slot);
        colors[s] = slot == r->M ? 7 : slot;
    }
    cli_chart_legend(ch, names, colors, NULL, shown);
}

static int attention_boxes(report *r, const int64_t *order, const pattern_group *pc, int64_t P)
{
    int S = r->M + 1, G = P > 8 ? 8 : (int)P;
    int64_t n = r->pred.n;
    double *v = report_alloc((size_t)n, sizeof *v);
    box_stats *box = report_alloc((size_t)P * (size_t)S, sizeof *box);
    if (!v || !box) {
        free(v);
        free(box);
        return report_out_of_memory();
    }
    for (int64_t g = 0; g < P; g++)
        for (int s = 0; s < S; s++) {
            int64_t k = 0;
            int present = s == r->M || ((pc[g].bits >> s) & 1);
            for (int64_t t = 0; present && t < pc[g].count; t++)
                v[k++] = r->pred.fusion[order[pc[g].start + t] * S + s];
            box_of(v, k, &box[g * S + s]);
        }
    cli_chart ch;
    char id[32], text[300], label[200];
    double width = 70 + G * (S + 1) * 26 + 170;
    if (width < 640) width = 640;
    if (width > 1120) width = 1120;
    cli_chart_begin(&ch, r->f, report_chart_id(r, id, sizeof id), width, 440,
                    "Fusion weight of each modality, by missing-modality pattern");
    ch.py1 -= 24;
    ch.no_x_ticks = 1;
    cli_chart_axes(&ch, 0, G, 0, 1, "", "fusion attention weight (0 to 1; a sample's sum is 1)");
    double gw = (ch.px1 - ch.px0) / G, bw = gw / (S + 1);
    for (int g = 0; g < G; g++) {
        report_pattern_label(r, pc[g].bits, label, sizeof label);
        char cut[64];
        report_utf8_prefix(label, (int)(gw / 7), cut, sizeof cut);
        cli_chart_text(&ch, ch.px0 + gw * (g + 0.5), ch.py1 + 16, "middle", "tick", cut);
        snprintf(text, sizeof text, "n = %lld", (long long)pc[g].count);
        cli_chart_text(&ch, ch.px0 + gw * (g + 0.5), ch.py1 + 30, "middle", "tick", text);
        for (int s = 0; s < S; s++) {
            const box_stats *b = &box[g * S + s];
            if (b->n == 0) continue;
            double cx = ch.px0 + gw * g + bw * (s + 1);
            const char *col = cli_chart_color(s == r->M ? 7 : s);
            double ytop = cli_chart_y(&ch, b->q3), ybot = cli_chart_y(&ch, b->q1);
            fputs("<g><title>", r->f);
            cli_html_escape(r->f, slot_name(r, s));
            fprintf(r->f, ": n %lld, min %.3f, q1 %.3f, median %.3f, q3 %.3f, max %.3f</title>",
                    (long long)b->n, b->min, b->q1, b->median, b->q3, b->max);
            fprintf(r->f,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>"
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                    "fill-opacity=\"0.35\" stroke=\"%s\"/>"
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                    "stroke-width=\"2.5\"/></g>\n",
                    cx, cli_chart_y(&ch, b->max), cx, cli_chart_y(&ch, b->min), col,
                    cx - bw * 0.4, ytop, bw * 0.8, ybot - ytop > 1 ? ybot - ytop : 1, col, col,
                    cx - bw * 0.4, cli_chart_y(&ch, b->median), cx + bw * 0.4,
                    cli_chart_y(&ch, b->median), col);
        }
    }
    cli_chart_text(&ch, (ch.px0 + ch.px1) / 2, ch.height - 10, "middle", "axis",
                   "missing-modality pattern (modalities present; boxes: quartiles, whiskers: "
                   "range)");
    slot_legend(r, &ch);
    cli_chart_end(&ch);
    if (G < P)
        fprintf(r->f, "<p class=\"note\">The %d most frequent of %lld patterns are drawn; the "
                      "table lists all.</p>\n",
                G, (long long)P);
    const char *head[] = {"pattern (present)", "samples", "slot", "min",    "q1",
                          "median",            "q3",      "max",  "mean"};
    fputs("<div id=\"attention-table\">", r->f);
    cli_html_table_begin(r->f, "Fusion weights per pattern and slot (the hub included)", head, 9);
    for (int64_t g = 0; g < P; g++)
        for (int s = 0; s < S; s++) {
            const box_stats *b = &box[g * S + s];
            if (b->n == 0) continue;
            report_pattern_label(r, pc[g].bits, label, sizeof label);
            cli_html_row_begin(r->f);
            cli_html_cell_text(r->f, label);
            cli_html_cell_int(r->f, pc[g].count);
            cli_html_cell_text(r->f, slot_name(r, s));
            cli_html_cell_number(r->f, b->min, 4);
            cli_html_cell_number(r->f, b->q1, 4);
            cli_html_cell_number(r->f, b->median, 4);
            cli_html_cell_number(r->f, b->q3, 4);
            cli_html_cell_number(r->f, b->max, 4);
            cli_html_cell_number(r->f, b->mean, 4);
            cli_html_row_end(r->f);
        }
    cli_html_table_end(r->f);
    fputs("</div>\n", r->f);
    free(v);
    free(box);
    return 0;
}

typedef struct {
    int64_t sample;
    int slot;
    double weight;
} dominant;

static int by_weight_desc(const void *a, const void *b)
{
    const dominant *x = a, *y = b;
    if (x->weight != y->weight) return (x->weight < y->weight) - (x->weight > y->weight);
    return (x->sample > y->sample) - (x->sample < y->sample);
}

enum { TOP_SAMPLES = 12 };

/* The samples whose prediction rests most on one modality: stacked bars of their weights. */
static int attention_top(report *r)
{
    int S = r->M + 1;
    int64_t n = r->pred.n;
    dominant *d = report_alloc((size_t)n, sizeof *d);
    if (!d) return report_out_of_memory();
    for (int64_t i = 0; i < n; i++) {
        d[i] = (dominant){i, 0, r->pred.fusion[i * S]};
        for (int s = 1; s < r->M; s++)
            if (r->pred.fusion[i * S + s] > d[i].weight)
                d[i] = (dominant){i, s, r->pred.fusion[i * S + s]};
    }
    qsort(d, (size_t)n, sizeof *d, by_weight_desc);
    int top = n < TOP_SAMPLES ? (int)n : TOP_SAMPLES;
    cli_chart ch;
    char id[32], text[400], cut[96];
    double bar = 24;
    cli_chart_begin(&ch, r->f, report_chart_id(r, id, sizeof id), 720, 40 + 30 + bar * top + 56,
                    "Samples whose prediction rests most on one modality");
    ch.px0 = 190;
    ch.py0 = 50;
    ch.py1 = ch.py0 + bar * top;
    ch.no_y_ticks = 1;
    cli_chart_axes(&ch, 0, 1, 0, top, "fusion attention weight (stacked, sums to 1)", "");
    for (int t = 0; t < top; t++) {
        int64_t i = d[t].sample;
        const char *sid = gfuse_cohort_sample_id(r->cohort, i);
        double y = ch.py0 + bar * t;
        report_utf8_prefix(sid, 24, cut, sizeof cut);
        cli_chart_text(&ch, ch.px0 - 6, y + bar * 0.65, "end", "tick", cut);
        double acc = 0;
        for (int s = 0; s < S; s++) {
            double w = r->pred.fusion[i * S + s];
            if (!(w > 0)) continue;
            snprintf(text, sizeof text, "%.150s: %.150s %.3f", sid, slot_name(r, s), w);
            cli_chart_rect(&ch, cli_chart_x(&ch, acc), y + 3, cli_chart_x(&ch, acc + w) -
                           cli_chart_x(&ch, acc), bar - 6, cli_chart_color(s == r->M ? 7 : s),
                           text);
            acc += w;
        }
    }
    slot_legend(r, &ch);
    cli_chart_end(&ch);
    /* id, pattern, dominant modality and weight, every slot's weight, predicted, label */
    const char **head = report_alloc((size_t)S + 6, sizeof *head);
    char **own = calloc((size_t)S, sizeof *own);
    if (!head || !own) {
        free(head);
        free(own);
        free(d);
        return report_out_of_memory();
    }
    const char *fixed[] = {"id", "modalities present", "dominant modality", "its weight"};
    for (int k = 0; k < 4; k++) head[k] = fixed[k];
    for (int s = 0; s < S; s++) {
        size_t len = strlen(slot_name(r, s)) + 8;
        own[s] = malloc(len);
        if (own[s]) snprintf(own[s], len, "weight %s", slot_name(r, s));
        head[4 + s] = own[s] ? own[s] : slot_name(r, s);
    }
    head[4 + S] = "predicted";
    head[5 + S] = "label";
    fputs("<div id=\"attention-top\">", r->f);
    cli_html_table_begin(r->f, "The samples with the largest single-modality weight", head,
                         S + 6);
    for (int t = 0; t < top; t++) {
        int64_t i = d[t].sample;
        char label[200];
        report_pattern_label(r, r->present[i], label, sizeof label);
        cli_html_row_begin(r->f);
        cli_html_cell_text(r->f, gfuse_cohort_sample_id(r->cohort, i));
        cli_html_cell_text(r->f, label);
        cli_html_cell_text(r->f, slot_name(r, d[t].slot));
        cli_html_cell_number(r->f, d[t].weight, 4);
        for (int sl = 0; sl < S; sl++) cli_html_cell_number(r->f, r->pred.fusion[i * S + sl], 4);
        if (r->classify) {
            cli_html_cell_text(r->f, gfuse_model_class_name(r->model, r->pred.predicted[i]));
            cli_html_cell_text(r->f,
                               r->label[i] >= 0 ? gfuse_model_class_name(r->model, r->label[i])
                                                : "");
        } else {
            cli_html_cell_number(r->f, r->pred.output[i], 5);
            cli_html_cell_number(r->f, r->target[i], 5);
        }
        cli_html_row_end(r->f);
    }
    cli_html_table_end(r->f);
    fputs("</div>\n", r->f);
    for (int sl = 0; sl < S; sl++) free(own[sl]);
    free(own);
    free(head);
    free(d);
    return 0;
}

int report_attention(report *r)
{
    FILE *f = r->f;
    int64_t n = r->pred.n;
    fputs("<section id=\"attention\">\n<h2>Fusion attention</h2>\n<p>The fusion head weighs each "
          "sample's modality nodes and its hub; the weights sum to 1 and say which modality "
          "drove the prediction (a modality the sample lacks gets none). One group of boxes per "
          "missing-modality pattern.</p>\n",
          f);
    int64_t *order = NULL;
    pattern_group *pc = NULL;
    int64_t P = pattern_groups(r, &order, &pc);
    if (P < 0) return report_out_of_memory();
    int rc = P > 0 ? attention_boxes(r, order, pc, P) : 0;
    if (rc == 0 && n > 0) rc = attention_top(r);
    free(order);
    free(pc);
    fputs("</section>\n", f);
    return rc;
}

/* ---- completion ---------------------------------------------------------------------------- */

/* The truth file of a modality file: DIR/truth/BASE (what gfuse synth writes), or NULL. */
static char *truth_path(const char *file)
{
    if (!file || !*file) return NULL;
    const char *slash = strrchr(file, '/');
    size_t dir = slash ? (size_t)(slash - file) + 1 : 0;
    size_t len = strlen(file) + 8;
    char *p = malloc(len);
    if (!p) return NULL;
    snprintf(p, len, "%.*struth/%s", (int)dir, file, file + dir);
    FILE *t = fopen(p, "rb");
    if (!t) {
        free(p);
        return NULL;
    }
    fclose(t);
    return p;
}

typedef struct {
    int64_t samples, cells;
    double sse, sae, sse_mean;
    double sx, sy, sxx, syy, sxy;
} completion_stats;

enum { SCATTER_MAX = 500 };

int report_completion(report *r)
{
    FILE *f = r->f;
    const gfuse_cohort *c = r->cohort;
    int M = r->M, rc = 0;
    fputs("<section id=\"completion\">\n<h2>Completion</h2>\n", f);
    /* the truth files, loaded as one cohort of their modalities */
    char **path = calloc((size_t)M, sizeof *path);
    const char **names = calloc((size_t)M, sizeof *names);
    int *truth_mod = report_alloc((size_t)M, sizeof *truth_mod);
    completion_stats *st = calloc((size_t)M, sizeof *st);
    double **sx = calloc((size_t)M, sizeof *sx), **sy = calloc((size_t)M, sizeof *sy);
    int64_t **spt = calloc((size_t)M, sizeof *spt); /* per drawn point: sample, feature */
    int64_t *ns = calloc((size_t)M, sizeof *ns);
    gfuse_cohort *truth = NULL;
    gfuse_imputation imp;
    memset(&imp, 0, sizeof imp);
    if (!path || !names || !truth_mod || !st || !sx || !sy || !spt || !ns) {
        rc = report_out_of_memory();
        goto done;
    }
    int nt = 0, hidden = 0;
    const char *files[64];
    for (int j = 0; j < M; j++) {
        truth_mod[j] = -1;
        int cm = r->cohort_mod[j];
        if (cm < 0) continue;
        path[j] = truth_path(gfuse_cohort_modality_file(c, cm));
        if (path[j]) {
            names[nt] = gfuse_model_modality_name(r->model, j);
            files[nt] = path[j];
            truth_mod[j] = nt++;
        }
        for (int64_t i = 0; i < gfuse_cohort_n_samples(c) && !hidden; i++)
            hidden |= !gfuse_cohort_has_modality(c, i, cm) &&
                      gfuse_cohort_values_unmasked(c, i, cm) != NULL;
    }
    if (nt > 0) {
        gfuse_cohort_options co;
        gfuse_cohort_options_init(&co);
        co.modality_names = names;
        co.modality_files = files;
        co.n_modality_files = nt;
        gfuse_status s = gfuse_cohort_load(&truth, &co);
        if (s != GFUSE_OK) {
            cli_warning("the truth files are not used: %s", gfuse_last_error());
            nt = 0;
            for (int j = 0; j < M; j++) truth_mod[j] = -1;
        }
    }
    if (nt == 0 && !hidden) {
        fputs("<p class=\"note\">No truth to score the completion against: a cohort written by "
              "<code>gfuse synth</code> keeps the complete values in <code>truth/</code>, and a "
              "<code>--mask</code> hides values the cohort has.</p>\n",
              f);
        goto done;
    }
    gfuse_status s = gfuse_impute(r->model, c, &imp);
    if (s != GFUSE_OK) {
        rc = cli_fail("report", s);
        goto done;
    }
    int64_t n = imp.n;
    for (int j = 0; j < M; j++) {
        int cm = r->cohort_mod[j];
        int64_t d = imp.n_features[j];
        if (cm < 0) continue;
        /* column means of the present rows: the mean-imputation reference */
        double *mean = calloc((size_t)(d ? d : 1), sizeof *mean);
        int64_t *cnt = calloc((size_t)(d ? d : 1), sizeof *cnt);
        int64_t *tcol = report_alloc((size_t)d, sizeof *tcol);
        sx[j] = report_alloc(SCATTER_MAX, sizeof(double));
        sy[j] = report_alloc(SCATTER_MAX, sizeof(double));
        spt[j] = report_alloc(2 * SCATTER_MAX, sizeof(int64_t));
        if (!mean || !cnt || !tcol || !sx[j] || !sy[j] || !spt[j]) {
            free(mean);
            free(cnt);
            free(tcol);
            rc = report_out_of_memory();
            goto done;
        }
        for (int64_t i = 0; i < n; i++) {
            const float *row = gfuse_cohort_values(c, i, cm);
            for (int64_t k = 0; row && k < d; k++)
                if (!isnan(row[k])) mean[k] += row[k], cnt[k]++;
        }
        for (int64_t k = 0; k < d; k++) mean[k] = cnt[k] ? mean[k] / (double)cnt[k] : 0;
        int tm = truth_mod[j];
        for (int64_t k = 0; k < d; k++) {
            tcol[k] = -1;
            if (tm < 0) continue;
            const char *fname = gfuse_model_feature_name(r->model, j, k);
            int64_t td = gfuse_cohort_n_features(truth, tm);
            if (k < td && strcmp(gfuse_cohort_feature_name(truth, tm, k), fname) == 0) {
                tcol[k] = k;
                continue;
            }
            for (int64_t q = 0; q < td; q++)
                if (strcmp(gfuse_cohort_feature_name(truth, tm, q), fname) == 0) tcol[k] = q;
        }
        /* every filled cell with a true value; a deterministic stride for the scatter */
        int64_t total = 0;
        for (int64_t i = 0; i < n; i++) total += imp.filled[i * M + j];
        int64_t stride = total * d / SCATTER_MAX + 1, cell = 0;
        for (int64_t i = 0; i < n; i++) {
            if (!imp.filled[i * M + j]) continue;
            const float *trow = NULL;
            int by_name = 0;
            if (tm >= 0) {
                int64_t ti = gfuse_cohort_find_sample(truth, gfuse_cohort_sample_id(c, i));
                if (ti >= 0) trow = gfuse_cohort_values(truth, ti, tm), by_name = 1;
            }
            if (!trow) trow = gfuse_cohort_values_unmasked(c, i, cm);
            if (!trow) continue;
            st[j].samples++;
            for (int64_t k = 0; k < d; k++) {
                int64_t col = by_name ? tcol[k] : k;
                if (col < 0) continue;
                double t = trow[col], v = imp.values[j][i * d + k];
                if (isnan(t) || isnan(v)) continue;
                st[j].cells++;
                st[j].sse += (v - t) * (v - t);
                st[j].sae += fabs(v - t);
                st[j].sse_mean += (mean[k] - t) * (mean[k] - t);
                st[j].sx += t, st[j].sy += v, st[j].sxx += t * t, st[j].syy += v * v,
                    st[j].sxy += t * v;
                if (cell++ % stride == 0 && ns[j] < SCATTER_MAX) {
                    sx[j][ns[j]] = t;
                    sy[j][ns[j]] = v;
                    spt[j][2 * ns[j]] = i;
                    spt[j][2 * ns[j] + 1] = k;
                    ns[j]++;
                }
            }
        }
        free(mean);
        free(cnt);
        free(tcol);
    }
    int64_t n_scored = 0;
    for (int j = 0; j < M; j++) n_scored += st[j].cells;
    fprintf(f, "<p>The values the decoders filled in for missing modalities, against the true "
               "values (%s). Mean imputation (each feature's mean over the samples that have "
               "the modality) is the reference.</p>\n",
            nt > 0 ? "<code>truth/</code> of the cohort folder" : "the values the mask hides");
    if (n_scored == 0) {
        fputs("<p class=\"note\">No filled value has a true value to compare with.</p>\n", f);
        goto done;
    }
    double lo = INFINITY, hi = -INFINITY;
    for (int j = 0; j < M; j++)
        for (int64_t k = 0; k < ns[j]; k++) {
            double v[2] = {sx[j][k], sy[j][k]};
            for (int t = 0; t < 2; t++) {
                if (v[t] < lo) lo = v[t];
                if (v[t] > hi) hi = v[t];
            }
        }
    if (!(hi > lo)) lo -= 1, hi += 1;
    double pad = (hi - lo) * 0.04;
    cli_chart ch;
    char id[32];
    cli_chart_begin(&ch, r->f, report_chart_id(r, id, sizeof id), 640, 500,
                    "Imputed against true values");
    cli_chart_axes(&ch, lo - pad, hi + pad, lo - pad, hi + pad, "true value (input units)",
                   "imputed value (input units)");
    cli_chart_segment(&ch, lo - pad, lo - pad, hi + pad, hi + pad, 6, 1);
    const char *leg[16];
    int colors[16], dash[16], nl = 0;
    for (int j = 0; j < M; j++) {
        if (ns[j] == 0) continue;
        cli_chart_points(&ch, sx[j], sy[j], ns[j], j, 2);
        if (nl < 15) leg[nl] = gfuse_model_modality_name(r->model, j), colors[nl] = j,
                     dash[nl++] = 0;
    }
    leg[nl] = "imputed = true", colors[nl] = 6, dash[nl++] = 1;
    cli_chart_legend(&ch, leg, colors, dash, nl);
    cli_chart_end(&ch);
    fprintf(f, "<p class=\"note\">At most %d cells per modality are drawn (every k-th); the "
               "table scores all.</p>\n",
            SCATTER_MAX);
    const char *head[] = {"modality",  "samples filled and scored", "cells",
                          "RMSE",      "MAE",                       "Pearson r",
                          "RMSE of mean imputation"};
    fputs("<div id=\"completion-table\">", f);
    cli_html_table_begin(f, "Completion error per modality (input units)", head, 7);
    for (int j = 0; j < M; j++) {
        const completion_stats *q = &st[j];
        if (q->cells == 0) continue;
        double cn = (double)q->cells;
        double cov = q->sxy - q->sx * q->sy / cn;
        double vx = q->sxx - q->sx * q->sx / cn, vy = q->syy - q->sy * q->sy / cn;
        cli_html_row_begin(f);
        cli_html_cell_text(f, gfuse_model_modality_name(r->model, j));
        cli_html_cell_int(f, q->samples);
        cli_html_cell_int(f, q->cells);
        cli_html_cell_number(f, sqrt(q->sse / cn), 4);
        cli_html_cell_number(f, q->sae / cn, 4);
        cli_html_cell_number(f, vx > 0 && vy > 0 ? cov / sqrt(vx * vy) : NAN, 4);
        cli_html_cell_number(f, sqrt(q->sse_mean / cn), 4);
        cli_html_row_end(f);
    }
    cli_html_table_end(f);
    fputs("</div>\n<details><summary>The cells drawn</summary>\n", f);
    const char *cells[] = {"modality", "id", "feature", "true", "imputed"};
    cli_html_table_begin(f, NULL, cells, 5);
    for (int j = 0; j < M; j++)
        for (int64_t k = 0; k < ns[j]; k++) {
            cli_html_row_begin(f);
            cli_html_cell_text(f, gfuse_model_modality_name(r->model, j));
            cli_html_cell_text(f, gfuse_cohort_sample_id(c, spt[j][2 * k]));
            cli_html_cell_text(f, gfuse_model_feature_name(r->model, j, spt[j][2 * k + 1]));
            cli_html_cell_number(f, sx[j][k], 5);
            cli_html_cell_number(f, sy[j][k], 5);
            cli_html_row_end(f);
        }
    cli_html_table_end(f);
    fputs("</details>\n", f);
done:
    fputs("</section>\n", f);
    for (int j = 0; path && j < M; j++) free(path[j]);
    for (int j = 0; j < M; j++) {
        if (sx) free(sx[j]);
        if (sy) free(sy[j]);
        if (spt) free(spt[j]);
    }
    free(path);
    free(names);
    free(truth_mod);
    free(st);
    free(sx);
    free(sy);
    free(spt);
    free(ns);
    gfuse_imputation_free(&imp);
    gfuse_cohort_free(&truth);
    return rc;
}
