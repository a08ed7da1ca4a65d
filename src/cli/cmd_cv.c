/* cmd_cv.c: `gfuse cv`: cross-validation of gfuse, and with --baselines of the classical
 * references on the same folds, at one or several missing rates (gfuse_cv_run); metrics per
 * fold and pooled, with means and standard deviations, as JSON (--out) and CSV (--csv), and
 * every fold's predictions (--predictions). */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RATES 64

/* The metrics of the result's task. */
typedef struct {
    const cli_metric *m;
    int n;
    int classify;
} metric_set;

static metric_set metrics_of(const gfuse_cv_result *r)
{
    if (r->task == GFUSE_TASK_REGRESS)
        return (metric_set){cli_regress_metrics, cli_n_regress_metrics, 0};
    return (metric_set){cli_class_metrics, cli_n_class_metrics, 1};
}

static double metric_value(const metric_set *s, int k, const gfuse_cv_fold *e)
{
    return cli_metric_value(&s->m[k],
                            s->classify ? (const void *)&e->class_metrics
                                        : (const void *)&e->regress_metrics);
}

/* Mean and population standard deviation (as numpy's std) of metric k over the entries of
 * (rate, method) that are folds (pooled = 0) or pools (pooled = 1); NaN values left out. */
static void mean_sd(const gfuse_cv_result *r, const metric_set *s, int k, double rate,
                    int method, int pooled, double *mean, double *sd)
{
    double sum = 0, sq = 0;
    int64_t n = 0;
    for (int64_t j = 0; j < r->n; j++) {
        const gfuse_cv_fold *e = &r->entry[j];
        if (e->rate != rate || e->method != method || (e->fold < 0) != pooled) continue;
        double v = metric_value(s, k, e);
        if (isnan(v)) continue;
        sum += v;
        n++;
    }
    *mean = n ? sum / (double)n : NAN;
    for (int64_t j = 0; j < r->n; j++) {
        const gfuse_cv_fold *e = &r->entry[j];
        if (e->rate != rate || e->method != method || (e->fold < 0) != pooled) continue;
        double v = metric_value(s, k, e);
        if (!isnan(v)) sq += (v - *mean) * (v - *mean);
    }
    *sd = n ? sqrt(sq / (double)n) : NAN;
}

/* The (rate, method) pairs in the result's order. */
typedef struct {
    double rate;
    int method;
} group;

static int groups_of(const gfuse_cv_result *r, group *g, int max)
{
    int n = 0;
    for (int64_t j = 0; j < r->n; j++) {
        int found = 0;
        for (int k = 0; k < n; k++)
            found |= g[k].rate == r->entry[j].rate && g[k].method == r->entry[j].method;
        if (!found && n < max) g[n++] = (group){r->entry[j].rate, r->entry[j].method};
    }
    return n;
}

static void json_summary(cli_json *j, const char *key, const gfuse_cv_result *r,
                         const metric_set *s, const group *g, int pooled, int want_sd)
{
    cli_json_key(j, key);
    cli_json_begin_object(j);
    for (int k = 0; k < s->n; k++) {
        double mean, sd;
        mean_sd(r, s, k, g->rate, g->method, pooled, &mean, &sd);
        cli_json_key(j, s->m[k].name);
        cli_json_double(j, want_sd ? sd : mean);
    }
    cli_json_end_object(j);
}

typedef struct {
    const char *cohort;
    const gfuse_cv_options *opts;
    const double *rates;
    int n_rates;
} run_facts;

static void write_json(FILE *f, const gfuse_cv_result *r, const gfuse_cohort *c,
                       const run_facts *facts)
{
    metric_set s = metrics_of(r);
    group g[MAX_RATES * 3];
    int n_groups = groups_of(r, g, MAX_RATES * 3);
    cli_json j;
    cli_json_init(&j, f);
    cli_json_begin_object(&j);
    cli_json_key(&j, "cohort");
    if (facts->cohort) cli_json_string(&j, facts->cohort);
    else cli_json_null(&j);
    cli_json_key(&j, "task");
    cli_json_string(&j, s.classify ? "classify" : "regress");
    if (s.classify) {
        cli_json_key(&j, "classes");
        cli_json_begin_array(&j);
        for (int k = 0; k < r->n_outputs; k++) cli_json_string(&j, gfuse_cohort_class_name(c, k));
        cli_json_end_array(&j);
    }
    cli_json_key(&j, "samples");
    cli_json_int(&j, gfuse_cohort_n_samples(c));
    cli_json_key(&j, "folds");
    cli_json_int(&j, r->n_folds);
    cli_json_key(&j, "use_split");
    cli_json_bool(&j, facts->opts->use_split);
    cli_json_key(&j, "repeats");
    cli_json_int(&j, facts->opts->repeats);
    cli_json_key(&j, "seed");
    cli_json_int(&j, (int64_t)facts->opts->seed);
    cli_json_key(&j, "rates");
    cli_json_begin_array(&j);
    for (int k = 0; k < facts->n_rates; k++) cli_json_double(&j, facts->rates[k]);
    cli_json_end_array(&j);
    if (facts->opts->baselines) {
        cli_json_key(&j, "baseline_c");
        cli_json_double(&j, facts->opts->baseline_c);
    }
    cli_json_key(&j, "sd");
    cli_json_string(&j, "population (numpy std)");
    cli_json_key(&j, "results");
    cli_json_begin_array(&j);
    for (int k = 0; k < n_groups; k++) {
        cli_json_begin_object(&j);
        cli_json_key(&j, "rate");
        cli_json_double(&j, g[k].rate);
        cli_json_key(&j, "method");
        cli_json_string(&j, gfuse_cv_method_name(g[k].method));
        json_summary(&j, "fold_mean", r, &s, &g[k], 0, 0);
        json_summary(&j, "fold_sd", r, &s, &g[k], 0, 1);
        json_summary(&j, "pooled_mean", r, &s, &g[k], 1, 0);
        json_summary(&j, "pooled_sd", r, &s, &g[k], 1, 1);
        for (int pooled = 0; pooled <= 1; pooled++) {
            cli_json_key(&j, pooled ? "pooled" : "folds");
            cli_json_begin_array(&j);
            for (int64_t q = 0; q < r->n; q++) {
                const gfuse_cv_fold *e = &r->entry[q];
                if (e->rate != g[k].rate || e->method != g[k].method || (e->fold < 0) != pooled)
                    continue;
                cli_json_begin_object(&j);
                cli_json_key(&j, "repeat");
                cli_json_int(&j, e->repeat);
                if (!pooled) {
                    cli_json_key(&j, "fold");
                    cli_json_int(&j, e->fold);
                }
                if (s.classify) cli_json_class_metrics(&j, &e->class_metrics);
                else cli_json_regress_metrics(&j, &e->regress_metrics);
                if (!pooled) {
                    cli_json_key(&j, "seconds");
                    cli_json_double(&j, e->seconds);
                }
                cli_json_end_object(&j);
            }
            cli_json_end_array(&j);
        }
        cli_json_end_object(&j);
    }
    cli_json_end_array(&j);
    cli_json_end_object(&j);
    cli_json_finish(&j);
}

/* One row per fold and pool, then per (rate, method) the means and standard deviations:
 * rate,method,repeat,fold,n,<metrics> with repeat "all" and fold fold_mean, fold_sd,
 * pooled_mean or pooled_sd on those. */
static void write_csv(FILE *f, const gfuse_cv_result *r)
{
    metric_set s = metrics_of(r);
    cli_csv csv;
    cli_csv_init(&csv, f, ',');
    const char *head[] = {"rate", "method", "repeat", "fold", "n"};
    for (int k = 0; k < 5; k++) cli_csv_string(&csv, head[k]);
    for (int k = 0; k < s.n; k++) cli_csv_string(&csv, s.m[k].name);
    cli_csv_end_row(&csv);
    for (int64_t q = 0; q < r->n; q++) {
        const gfuse_cv_fold *e = &r->entry[q];
        cli_csv_double(&csv, e->rate);
        cli_csv_string(&csv, gfuse_cv_method_name(e->method));
        cli_csv_int(&csv, e->repeat);
        if (e->fold >= 0) cli_csv_int(&csv, e->fold);
        else cli_csv_string(&csv, "pooled");
        cli_csv_int(&csv, e->n);
        for (int k = 0; k < s.n; k++) cli_csv_double(&csv, metric_value(&s, k, e));
        cli_csv_end_row(&csv);
    }
    group g[MAX_RATES * 3];
    int n_groups = groups_of(r, g, MAX_RATES * 3);
    const char *what[] = {"fold_mean", "fold_sd", "pooled_mean", "pooled_sd"};
    for (int k = 0; k < n_groups; k++)
        for (int w = 0; w < 4; w++) {
            cli_csv_double(&csv, g[k].rate);
            cli_csv_string(&csv, gfuse_cv_method_name(g[k].method));
            cli_csv_string(&csv, "all");
            cli_csv_string(&csv, what[w]);
            cli_csv_string(&csv, "");
            for (int m = 0; m < s.n; m++) {
                double mean, sd;
                mean_sd(r, &s, m, g[k].rate, g[k].method, w >= 2, &mean, &sd);
                cli_csv_double(&csv, w % 2 ? sd : mean);
            }
            cli_csv_end_row(&csv);
        }
}

/* rate,method,repeat,fold,id,label,p_<class>...,predicted (regression: target,value). */
static void write_predictions(FILE *f, const gfuse_cv_result *r, const gfuse_cohort *c)
{
    int classify = r->task != GFUSE_TASK_REGRESS;
    cli_csv csv;
    cli_csv_init(&csv, f, ',');
    const char *head[] = {"rate", "method", "repeat", "fold", "id"};
    for (int k = 0; k < 5; k++) cli_csv_string(&csv, head[k]);
    if (classify) {
        cli_csv_string(&csv, "label");
        for (int k = 0; k < r->n_outputs; k++) {
            const char *name = gfuse_cohort_class_name(c, k);
            size_t len = strlen(name) + 3;
            char *col = malloc(len);
            if (col) {
                snprintf(col, len, "p_%s", name);
                cli_csv_string(&csv, col);
                free(col);
            } else {
                cli_csv_string(&csv, "p_?");
            }
        }
        cli_csv_string(&csv, "predicted");
    } else {
        cli_csv_string(&csv, "target");
        cli_csv_string(&csv, "value");
    }
    cli_csv_end_row(&csv);
    for (int64_t q = 0; q < r->n; q++) {
        const gfuse_cv_fold *e = &r->entry[q];
        if (e->fold < 0) continue;
        for (int64_t i = 0; i < e->n; i++) {
            int64_t s = e->sample[i];
            const double *p = e->output + i * r->n_outputs;
            cli_csv_double(&csv, e->rate);
            cli_csv_string(&csv, gfuse_cv_method_name(e->method));
            cli_csv_int(&csv, e->repeat);
            cli_csv_int(&csv, e->fold);
            cli_csv_string(&csv, gfuse_cohort_sample_id(c, s));
            if (classify) {
                cli_csv_string(&csv, gfuse_cohort_class_name(c, gfuse_cohort_label(c, s)));
                int best = 0;
                for (int k = 0; k < r->n_outputs; k++) {
                    cli_csv_double(&csv, p[k]);
                    if (p[k] > p[best]) best = k;
                }
                cli_csv_string(&csv, gfuse_cohort_class_name(c, best));
            } else {
                cli_csv_double(&csv, gfuse_cohort_target(c, s));
                cli_csv_double(&csv, p[0]);
            }
            cli_csv_end_row(&csv);
        }
    }
}

/* The summary table: per rate and method, the pooled metrics' mean +- sd over the repeats. */
static void print_summary(FILE *f, const gfuse_cv_result *r)
{
    metric_set s = metrics_of(r);
    group g[MAX_RATES * 3];
    int n_groups = groups_of(r, g, MAX_RATES * 3);
    const char *show[] = {"accuracy", "f1", "auroc"};
    if (!s.classify) {
        show[0] = "rmse";
        show[1] = "mae";
        show[2] = "r2";
    }
    fprintf(f, "%-6s %-6s", "rate", "method");
    for (int k = 0; k < 3; k++) fprintf(f, "  %-15s", show[k]);
    fprintf(f, "\n");
    for (int k = 0; k < n_groups; k++) {
        fprintf(f, "%-6g %-6s", g[k].rate, gfuse_cv_method_name(g[k].method));
        for (int w = 0; w < 3; w++)
            for (int m = 0; m < s.n; m++) {
                if (strcmp(s.m[m].name, show[w]) != 0) continue;
                double mean, sd;
                mean_sd(r, &s, m, g[k].rate, g[k].method, 1, &mean, &sd);
                fprintf(f, "  %.3f +- %.3f  ", mean, sd);
            }
        fprintf(f, "\n");
    }
}

/* "0,0.1,0.3" into rates (each in [0, 1)); 0 or the exit code after the message. */
static int parse_rates(const char *text, double *rates, int *n)
{
    *n = 0;
    const char *p = text;
    while (1) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || !(v >= 0 && v < 1) || (*end != ',' && *end != '\0'))
            return cli_usage_error("cv", "--rates must be a comma-separated list of rates in "
                                         "[0, 1), got '%s'",
                                   text);
        if (*n == MAX_RATES)
            return cli_usage_error("cv", "--rates takes at most %d rates", MAX_RATES);
        rates[(*n)++] = v;
        if (*end == '\0') break;
        p = end + 1;
    }
    return 0;
}

typedef struct {
    cli_progress bar;
} cv_monitor;

static int on_fit(double rate, int method, int repeat, int fold, int64_t done, int64_t total,
                  void *user)
{
    cv_monitor *mon = user;
    (void)total;
    cli_progress_update(&mon->bar, done, "rate %g %s repeat %d fold %d", rate,
                        gfuse_cv_method_name(method), repeat + 1, fold + 1);
    return 0;
}

int cmd_cv(int argc, char **argv)
{
    cli_cohort_args ca;
    cli_cohort_args_init(&ca);
    cli_model_args ma;
    cli_model_args_init(&ma);
    gfuse_cv_options co;
    gfuse_cv_options_init(&co);
    const char *out = NULL, *csv_path = NULL, *pred_path = NULL, *rates_text = "0";
    int only_baselines = 0;
    cli_option before[] = {
        CLI_COHORT_OPTIONS(&ca),
        {.name = "folds", .kind = CLI_INT, .dest = &co.folds, .metavar = "K",
         .bounds = CLI_MIN | CLI_MAX, .min = 2, .max = 1000,
         .help = "stratified folds of the labelled samples"},
        {.name = "repeats", .kind = CLI_INT, .dest = &co.repeats, .metavar = "R",
         .bounds = CLI_MIN | CLI_MAX, .min = 1, .max = 1000,
         .help = "repeats: repeat r deals new folds, draws new masks and trains with seed + r"},
        {.name = "use-split", .kind = CLI_FLAG, .dest = &co.use_split,
         .help = "score the split file's test samples as the one fold (train and val train)"},
        {.name = "rates", .kind = CLI_STRING, .dest = &rates_text, .metavar = "R1,R2,...",
         .help = "missing rates: a protocol mask (as gfuse mask, seed + repeat) per rate above 0"},
        {.name = "baselines", .kind = CLI_FLAG, .dest = &co.baselines,
         .help = "also score mean imputation + logistic regression and late fusion"},
        {.name = "only-baselines", .kind = CLI_FLAG, .dest = &only_baselines,
         .help = "score the baselines alone (no gfuse training)"},
        {.name = "baseline-c", .kind = CLI_DOUBLE, .dest = &co.baseline_c, .metavar = "C",
         .bounds = CLI_MIN_OPEN, .min = 0,
         .help = "inverse L2 strength of the baselines' logistic regressions (scikit-learn's C)"},
        {.name = "out", .kind = CLI_STRING, .dest = &out, .metavar = "FILE",
         .help = "metrics JSON: per fold, pooled, means and sds (required; - = stdout)"},
        {.name = "csv", .kind = CLI_STRING, .dest = &csv_path, .metavar = "FILE",
         .help = "the same metrics as CSV rows", .def = "none"},
        {.name = "predictions", .kind = CLI_STRING, .dest = &pred_path, .metavar = "FILE",
         .help = "every fold's predictions: rate,method,repeat,fold,id,label,p_<class>...,"
                 "predicted",
         .def = "none"},
        CLI_END};
    cli_spec spec = {
        .name = "cv",
        .synopsis = "--cohort DIR --out FILE [--folds K] [--repeats R] [--rates LIST] "
                    "[--baselines] [OPTIONS]",
        .description =
            "Cross-validates gfuse on a cohort: the labelled samples are dealt into K folds\n"
            "stratified by class (seeded by --seed); for each fold a model is trained with the\n"
            "training options below on the other folds (every sample stays a node of the graph;\n"
            "the fold's labels are never read) and the fold is predicted and scored. The split\n"
            "file is ignored unless --use-split. With --rates, every rate above 0 lays a protocol\n"
            "mask over the cohort first (the rules of gfuse mask): a robustness curve. With\n"
            "--baselines the same folds also score train-mean imputation + standardisation +\n"
            "L2 logistic regression (mean) and late fusion (late): one logistic regression per\n"
            "modality, probabilities averaged over the modalities a sample has. Metrics per\n"
            "fold and of the folds pooled, with means and population sds over folds and\n"
            "repeats. The same seed gives the same numbers for any --threads.",
        .options = cli_model_args_options(&ma, CLI_MODEL_TRAIN | CLI_MODEL_NO_RUN, before, NULL)};
    gfuse_cohort *cohort = NULL;
    gfuse_cv_result res;
    memset(&res, 0, sizeof res);
    cli_outfile files[3];
    memset(files, 0, sizeof files);
    double rates[MAX_RATES];
    int n_rates = 0, rc;
    cv_monitor mon;
    memset(&mon, 0, sizeof mon);
    if (!cli_parse_command(&spec, argc, argv, &rc)) goto done;
    if (!out) {
        rc = cli_usage_error("cv", "--out FILE is required");
        goto done;
    }
    if ((rc = parse_rates(rates_text, rates, &n_rates)) != 0) goto done;
    if ((rc = cli_model_args_finish("cv", &ma)) != 0) goto done;
    if (only_baselines) {
        co.baselines = 1;
        co.model = 0;
    }
    ca.task = ma.to.task;
    if ((rc = cli_cohort_load("cv", &ca, &cohort)) != 0) goto done;
    const char *outs[] = {out, csv_path, pred_path};
    if ((rc = cli_outputs_check("cv", &ca, cohort, NULL, 0, outs, 3)) != 0) goto done;
    co.train = ma.to;
    co.seed = ma.to.seed;
    co.rates = rates;
    co.n_rates = n_rates;
    co.on_fit = on_fit;
    co.user = &mon;
    int n_methods = (co.model ? 1 : 0) + (co.baselines ? 2 : 0);
    cli_progress_start(&mon.bar, "cv",
                       (int64_t)n_rates * co.repeats * n_methods * (co.use_split ? 1 : co.folds),
                       ca.quiet);
    gfuse_status st = gfuse_cv_run(cohort, &co, &res);
    if (st == GFUSE_ERR_ARG) {
        rc = cli_usage_error("cv", "%s", gfuse_last_error());
        goto done;
    }
    if ((rc = cli_check("cv", st)) != 0) goto done;
    cli_progress_finish(&mon.bar, "%lld fits", (long long)(res.n));
    run_facts facts = {ca.dir, &co, rates, n_rates};
    if ((rc = cli_outfile_open(&files[0], "cv", out)) != 0) goto done;
    write_json(files[0].f, &res, cohort, &facts);
    if (csv_path) {
        if ((rc = cli_outfile_open(&files[1], "cv", csv_path)) != 0) goto done;
        write_csv(files[1].f, &res);
    }
    if (pred_path) {
        if ((rc = cli_outfile_open(&files[2], "cv", pred_path)) != 0) goto done;
        write_predictions(files[2].f, &res, cohort);
    }
    for (int k = 0; k < 3; k++)
        if (files[k].f && (rc = cli_outfile_commit(&files[k], "cv")) != 0) goto done;
    int to_stdout = 0;
    for (int k = 0; k < 3; k++) to_stdout |= outs[k] && strcmp(outs[k], "-") == 0;
    if (!ca.quiet || !to_stdout) print_summary(to_stdout ? stderr : stdout, &res);
    rc = CLI_EXIT_OK;
done:
    for (int k = 0; k < 3; k++) cli_outfile_abort(&files[k]);
    gfuse_cv_result_free(&res);
    gfuse_cohort_free(&cohort);
    cli_model_args_free(&ma);
    cli_cohort_args_free(&ca);
    return rc;
}
