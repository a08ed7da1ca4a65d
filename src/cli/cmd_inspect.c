/* cmd_inspect.c: `gfuse inspect`, what a cohort holds: samples, modalities, labels, split,
 * missing-modality patterns (like R mice's md.pattern) and the problems found loading it. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* What inspect reports, computed once for both the text and the JSON form. */
typedef struct {
    const gfuse_cohort *c;
    int64_t n;
    int M;
    int64_t *present;      /* M: samples having each modality */
    double *missing_share; /* M: share of missing cells among present rows */
    int64_t *class_count;  /* n_classes */
    int64_t unlabelled;
    double target_min, target_mean, target_max; /* regression */
    int64_t split_count[4];                     /* by gfuse_split */
    gfuse_patterns patterns;
} summary;

static void summary_free(summary *s)
{
    free(s->present);
    free(s->missing_share);
    free(s->class_count);
    gfuse_patterns_free(&s->patterns);
}

/* Returns 0, or prints the failure and returns the exit code. */
static int summarise(summary *s, const gfuse_cohort *c)
{
    memset(s, 0, sizeof *s);
    s->c = c;
    s->n = gfuse_cohort_n_samples(c);
    s->M = gfuse_cohort_n_modalities(c);
    int K = gfuse_cohort_n_classes(c);
    s->present = calloc((size_t)s->M + 1, sizeof *s->present);
    s->missing_share = calloc((size_t)s->M + 1, sizeof *s->missing_share);
    s->class_count = calloc((size_t)K + 1, sizeof *s->class_count);
    if (!s->present || !s->missing_share || !s->class_count) {
        cli_error("inspect", "out of memory");
        return CLI_EXIT_FAILURE;
    }

    for (int m = 0; m < s->M; m++) {
        for (int64_t i = 0; i < s->n; i++) s->present[m] += gfuse_cohort_has_modality(c, i, m);
        double cells = (double)s->present[m] * (double)gfuse_cohort_n_features(c, m);
        s->missing_share[m] = cells > 0 ? (double)gfuse_cohort_n_missing_cells(c, m) / cells : 0;
    }
    gfuse_task task = gfuse_cohort_task(c);
    int64_t n_targets = 0;
    double sum = 0;
    s->target_min = INFINITY;
    s->target_max = -INFINITY;
    for (int64_t i = 0; i < s->n; i++) {
        if (task == GFUSE_TASK_CLASSIFY) {
            int32_t y = gfuse_cohort_label(c, i);
            if (y >= 0 && y < K)
                s->class_count[y]++;
            else
                s->unlabelled++;
        } else if (task == GFUSE_TASK_REGRESS) {
            double t = gfuse_cohort_target(c, i);
            if (isnan(t)) {
                s->unlabelled++;
                continue;
            }
            n_targets++;
            sum += t;
            if (t < s->target_min) s->target_min = t;
            if (t > s->target_max) s->target_max = t;
        } else {
            s->unlabelled++;
        }
    }
    s->target_mean = n_targets > 0 ? sum / (double)n_targets : NAN;
    for (int64_t i = 0; i < s->n; i++) {
        gfuse_split sp = gfuse_cohort_split(c, i);
        s->split_count[(int)sp >= 0 && (int)sp <= 3 ? (int)sp : 0]++;
    }
    if (s->M > 64) return 0; /* patterns are bitsets of 64 modalities */
    gfuse_status st = gfuse_cohort_patterns(c, &s->patterns);
    return st == GFUSE_OK ? 0 : cli_fail("inspect", st);
}

static const char *task_name(gfuse_task t)
{
    return t == GFUSE_TASK_CLASSIFY ? "classify" : t == GFUSE_TASK_REGRESS ? "regress" : "none";
}

static int n_missing_in(uint64_t pattern, int M)
{
    int k = 0;
    for (int m = 0; m < M; m++) k += !((pattern >> m) & 1);
    return k;
}

/* ---- text ------------------------------------------------------------------------------- */

static int name_width(const summary *s)
{
    int w = 8;
    for (int m = 0; m < s->M; m++) {
        int len = (int)strlen(gfuse_cohort_modality_name(s->c, m));
        if (len > w) w = len;
    }
    return w;
}

static void print_patterns(FILE *f, const summary *s)
{
    int M = s->M;
    fprintf(f, "\nmissing-modality patterns (1 = present, 0 = missing), %lld distinct:\n",
            (long long)s->patterns.n_patterns);
    int w[64];
    fprintf(f, "  %8s", "samples");
    for (int m = 0; m < M; m++) {
        const char *name = gfuse_cohort_modality_name(s->c, m);
        w[m] = (int)strlen(name) < 4 ? 4 : (int)strlen(name);
        fprintf(f, "  %*s", w[m], name);
    }
    fprintf(f, "  %8s\n", "missing");
    for (int64_t p = 0; p < s->patterns.n_patterns; p++) {
        uint64_t bits = s->patterns.pattern[p];
        fprintf(f, "  %8lld", (long long)s->patterns.count[p]);
        for (int m = 0; m < M; m++) fprintf(f, "  %*d", w[m], (int)((bits >> m) & 1));
        fprintf(f, "  %8d\n", n_missing_in(bits, M));
    }
    int64_t total = 0;
    fprintf(f, "  %8s", "missing");
    for (int m = 0; m < M; m++) {
        fprintf(f, "  %*lld", w[m], (long long)(s->n - s->present[m]));
        total += s->n - s->present[m];
    }
    fprintf(f, "  %8lld\n", (long long)total);
}

static void print_text(FILE *f, const summary *s, const char *source)
{
    const gfuse_cohort *c = s->c;
    fprintf(f, "cohort: %s\n", source);
    fprintf(f, "samples: %lld\n", (long long)s->n);
    int w = name_width(s);
    fprintf(f, "\nmodalities: %d\n", s->M);
    fprintf(f, "  %-*s  %8s  %8s  %13s  %s\n", w, "name", "features", "present", "missing cells",
            "file");
    for (int m = 0; m < s->M; m++)
        fprintf(f, "  %-*s  %8lld  %8lld  %12.2f%%  %s\n", w, gfuse_cohort_modality_name(c, m),
                (long long)gfuse_cohort_n_features(c, m), (long long)s->present[m],
                100.0 * s->missing_share[m], gfuse_cohort_modality_file(c, m));

    gfuse_task task = gfuse_cohort_task(c);
    fprintf(f, "\nlabels: %s", task_name(task));
    if (task == GFUSE_TASK_CLASSIFY) {
        int K = gfuse_cohort_n_classes(c);
        fprintf(f, ", %d classes, %lld unlabelled\n", K, (long long)s->unlabelled);
        for (int k = 0; k < K; k++)
            fprintf(f, "  %s: %lld\n", gfuse_cohort_class_name(c, k), (long long)s->class_count[k]);
    } else if (task == GFUSE_TASK_REGRESS) {
        fprintf(f, ", %lld labelled (min %g, mean %g, max %g), %lld unlabelled\n",
                (long long)(s->n - s->unlabelled), s->target_min, s->target_mean, s->target_max,
                (long long)s->unlabelled);
    } else {
        fprintf(f, " (no labels)\n");
    }
    if (gfuse_cohort_has_split(c))
        fprintf(f, "split: train %lld, val %lld, test %lld, none %lld\n",
                (long long)s->split_count[GFUSE_SPLIT_TRAIN],
                (long long)s->split_count[GFUSE_SPLIT_VAL],
                (long long)s->split_count[GFUSE_SPLIT_TEST],
                (long long)s->split_count[GFUSE_SPLIT_NONE]);
    else
        fprintf(f, "split: none\n");

    if (s->M <= 64) print_patterns(f, s);

    int64_t nw = gfuse_cohort_n_warnings(c);
    if (nw == 0)
        fprintf(f, "\nproblems: none\n");
    else
        fprintf(f, "\nproblems: %lld\n", (long long)nw);
    for (int64_t k = 0; k < nw; k++) fprintf(f, "  %s\n", gfuse_cohort_warning(c, k));
}

/* ---- JSON ------------------------------------------------------------------------------- */

static void print_json(FILE *f, const summary *s)
{
    const gfuse_cohort *c = s->c;
    cli_json j;
    cli_json_init(&j, f);
    cli_json_begin_object(&j);
    cli_json_key(&j, "samples");
    cli_json_int(&j, s->n);

    cli_json_key(&j, "modalities");
    cli_json_begin_array(&j);
    for (int m = 0; m < s->M; m++) {
        cli_json_begin_object(&j);
        cli_json_key(&j, "name");
        cli_json_string(&j, gfuse_cohort_modality_name(c, m));
        cli_json_key(&j, "features");
        cli_json_int(&j, gfuse_cohort_n_features(c, m));
        cli_json_key(&j, "file");
        cli_json_string(&j, gfuse_cohort_modality_file(c, m));
        cli_json_key(&j, "present");
        cli_json_int(&j, s->present[m]);
        cli_json_key(&j, "missing_cells_share");
        cli_json_double(&j, s->missing_share[m]);
        cli_json_end_object(&j);
    }
    cli_json_end_array(&j);

    gfuse_task task = gfuse_cohort_task(c);
    cli_json_key(&j, "labels");
    cli_json_begin_object(&j);
    cli_json_key(&j, "task");
    cli_json_string(&j, task_name(task));
    cli_json_key(&j, "classes");
    cli_json_begin_object(&j);
    if (task == GFUSE_TASK_CLASSIFY)
        for (int k = 0; k < gfuse_cohort_n_classes(c); k++) {
            cli_json_key(&j, gfuse_cohort_class_name(c, k));
            cli_json_int(&j, s->class_count[k]);
        }
    cli_json_end_object(&j);
    if (task == GFUSE_TASK_REGRESS) {
        cli_json_key(&j, "min");
        cli_json_double(&j, s->target_min);
        cli_json_key(&j, "mean");
        cli_json_double(&j, s->target_mean);
        cli_json_key(&j, "max");
        cli_json_double(&j, s->target_max);
    }
    cli_json_key(&j, "unlabelled");
    cli_json_int(&j, s->unlabelled);
    cli_json_end_object(&j);

    cli_json_key(&j, "split");
    cli_json_begin_object(&j);
    const char *split_names[4] = {"none", "train", "val", "test"};
    int order[4] = {GFUSE_SPLIT_TRAIN, GFUSE_SPLIT_VAL, GFUSE_SPLIT_TEST, GFUSE_SPLIT_NONE};
    for (int k = 0; k < 4; k++) {
        cli_json_key(&j, split_names[order[k]]);
        cli_json_int(&j, s->split_count[order[k]]);
    }
    cli_json_end_object(&j);

    cli_json_key(&j, "patterns");
    cli_json_begin_array(&j);
    for (int64_t p = 0; p < s->patterns.n_patterns; p++) {
        uint64_t bits = s->patterns.pattern[p];
        cli_json_begin_object(&j);
        cli_json_key(&j, "count");
        cli_json_int(&j, s->patterns.count[p]);
        cli_json_key(&j, "present");
        cli_json_begin_object(&j);
        for (int m = 0; m < s->M; m++) {
            cli_json_key(&j, gfuse_cohort_modality_name(c, m));
            cli_json_int(&j, (int64_t)((bits >> m) & 1));
        }
        cli_json_end_object(&j);
        cli_json_key(&j, "missing");
        cli_json_int(&j, n_missing_in(bits, s->M));
        cli_json_end_object(&j);
    }
    cli_json_end_array(&j);

    cli_json_key(&j, "warnings");
    cli_json_begin_array(&j);
    for (int64_t k = 0; k < gfuse_cohort_n_warnings(c); k++)
        cli_json_string(&j, gfuse_cohort_warning(c, k));
    cli_json_end_array(&j);
    cli_json_end_object(&j);
    cli_json_finish(&j);
}

int cmd_inspect(int argc, char **argv)
{
    cli_cohort_args ca;
    cli_cohort_args_init(&ca);
    int json = 0, task = GFUSE_TASK_AUTO;
    const char *out = "-";
    cli_option opts[] = {
        CLI_COHORT_OPTIONS(&ca),
        {.name = "task", .kind = CLI_CHOICE, .dest = &task, .choices = "auto|classify|regress",
         .help = "how to read labels: auto is classify"},
        {.name = "json", .kind = CLI_FLAG, .dest = &json,
         .help = "write a JSON object instead of text"},
        {.name = "out", .kind = CLI_STRING, .dest = &out, .metavar = "FILE",
         .help = "write the report to FILE", .def = "- (standard output)"},
        CLI_END};
    cli_spec spec = {
        .name = "inspect",
        .synopsis = "--cohort DIR [--mask FILE] [--json] [options]",
        .description =
            "Reports what a cohort holds: samples; modalities with their features, present\n"
            "samples and share of missing cells; labels (task, class counts, unlabelled); the\n"
            "split; the missing-modality patterns with their counts (a row per pattern, 1 =\n"
            "present, and a last row with the missing total of each modality, like R mice's\n"
            "md.pattern); and the problems found while loading it.\n"
            "JSON keys: samples, modalities[{name, features, file, present,\n"
            "missing_cells_share}], labels{task, classes{name: count}, unlabelled},\n"
            "split{train, val, test, none}, patterns[{count, present{modality: 0/1}, missing}],\n"
            "warnings[].",
        .options = opts};
    gfuse_cohort *cohort = NULL;
    summary s;
    memset(&s, 0, sizeof s);
    cli_outfile of = {0};
    int rc;
    if (!cli_parse_command(&spec, argc, argv, &rc)) goto done;
    ca.task = (gfuse_task)task; /* the choices are in gfuse_task order */
    if ((rc = cli_cohort_load("inspect", &ca, &cohort)) != 0) goto done;
    const char *outs[] = {out};
    if ((rc = cli_outputs_check("inspect", &ca, cohort, NULL, 0, outs, 1)) != 0) goto done;
    if ((rc = summarise(&s, cohort)) != 0) goto done;
    if ((rc = cli_outfile_open(&of, "inspect", out)) != 0) goto done;
    if (json)
        print_json(of.f, &s);
    else
        print_text(of.f, &s, ca.dir ? ca.dir : "(files given with --modality)");
    rc = cli_outfile_commit(&of, "inspect");
done:
    cli_outfile_abort(&of);
    summary_free(&s);
    gfuse_cohort_free(&cohort);
    cli_cohort_args_free(&ca);
    return rc;
}
