/* cmd_predict.c: `gfuse predict`: class probabilities (or values) for every sample of a cohort,
 * and with --attention the fusion weights that say which modality drove each prediction. */
#include "cli.h"
#include "model_cmd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* id, p_<class>... (value for regression), predicted. Returns 0 or the exit code. */
static int write_predictions(const char *path, const gfuse_model *model,
                             const gfuse_cohort *cohort, const gfuse_predictions *p)
{
    cli_outfile o;
    int rc = cli_outfile_open(&o, "predict", path);
    if (rc != 0) return rc;
    cli_csv csv;
    cli_csv_init(&csv, o.f, ',');
    int K = gfuse_model_n_classes(model);
    int classify = gfuse_model_task(model) == GFUSE_TASK_CLASSIFY;
    cli_csv_string(&csv, "id");
    char name[1100];
    for (int k = 0; classify && k < K; k++) {
        snprintf(name, sizeof name, "p_%s", gfuse_model_class_name(model, k));
        cli_csv_string(&csv, name);
    }
    if (!classify) cli_csv_string(&csv, "value");
    cli_csv_string(&csv, "predicted");
    cli_csv_end_row(&csv);
    for (int64_t i = 0; i < p->n; i++) {
        cli_csv_string(&csv, gfuse_cohort_sample_id(cohort, i));
        for (int k = 0; k < p->n_outputs; k++)
            cli_csv_double(&csv, p->output[i * p->n_outputs + k]);
        if (classify)
            cli_csv_string(&csv, gfuse_model_class_name(model, p->predicted[i]));
        else
            cli_csv_double(&csv, p->output[i]);
        cli_csv_end_row(&csv);
    }
    return cli_outfile_commit(&o, "predict");
}

/* id, one column per modality, hub: the fusion weights. */
static int write_attention(const char *path, const gfuse_model *model, const gfuse_cohort *cohort,
                           const gfuse_predictions *p)
{
    cli_outfile o;
    int rc = cli_outfile_open(&o, "predict", path);
    if (rc != 0) return rc;
    cli_csv csv;
    cli_csv_init(&csv, o.f, ',');
    cli_csv_string(&csv, "id");
    for (int j = 0; j < gfuse_model_n_modalities(model); j++)
        cli_csv_string(&csv, gfuse_model_modality_name(model, j));
    cli_csv_string(&csv, "hub");
    cli_csv_end_row(&csv);
    for (int64_t i = 0; i < p->n; i++) {
        cli_csv_string(&csv, gfuse_cohort_sample_id(cohort, i));
        for (int j = 0; j < p->n_slots; j++) cli_csv_double(&csv, p->fusion[i * p->n_slots + j]);
        cli_csv_end_row(&csv);
    }
    return cli_outfile_commit(&o, "predict");
}


/* The paths of --attention and --metrics. */
typedef struct {
    const char *attention;
    const char *metrics;
} predict_paths;

/* The metrics of the labelled samples whose split is `want` (-1: every labelled sample), as
 * one JSON object; the cohort's classes are matched to the model's by name. */
static int json_split_metrics(cli_json *j, const gfuse_model *model, const gfuse_cohort *cohort,
                              const gfuse_predictions *p, int want)
{
    int64_t n = 0;
    int classify = gfuse_model_task(model) == GFUSE_TASK_CLASSIFY;
    int K = p->n_outputs;
    int32_t *label = malloc((size_t)(p->n ? p->n : 1) * sizeof *label);
    double *target = malloc((size_t)(p->n ? p->n : 1) * sizeof *target);
    double *out = malloc((size_t)(p->n ? p->n : 1) * (size_t)K * sizeof *out);
    int *class_of = malloc((size_t)(gfuse_cohort_n_classes(cohort) + 1) * sizeof *class_of);
    if (!label || !target || !out || !class_of) {
        free(label);
        free(target);
        free(out);
        free(class_of);
        cli_error("predict", "out of memory for the metrics");
        return CLI_EXIT_FAILURE;
    }
    for (int c = 0; c < gfuse_cohort_n_classes(cohort); c++) {
        class_of[c] = -1;
        for (int k = 0; classify && k < K; k++)
            if (strcmp(gfuse_cohort_class_name(cohort, c), gfuse_model_class_name(model, k)) == 0)
                class_of[c] = k;
    }
    for (int64_t i = 0; i < p->n; i++) {
        if (want >= 0 && (int)gfuse_cohort_split(cohort, i) != want) continue;
        if (classify) {
            int32_t c = gfuse_cohort_label(cohort, i);
            if (c < 0 || class_of[c] < 0) continue;
            label[n] = class_of[c];
        } else {
            target[n] = gfuse_cohort_target(cohort, i);
            if (isnan(target[n])) continue;
        }
        for (int k = 0; k < K; k++) out[n * K + k] = p->output[i * K + k];
        n++;
    }
    gfuse_status st;
    cli_json_begin_object(j);
    if (classify) {
        gfuse_class_metrics m;
        st = gfuse_class_metrics_compute(label, out, n, K, &m);
        if (st == GFUSE_OK) {
            cli_json_class_metrics(j, &m);
            gfuse_class_metrics_free(&m);
        }
    } else {
        gfuse_regress_metrics m;
        st = gfuse_regress_metrics_compute(target, out, n, &m);
        if (st == GFUSE_OK) cli_json_regress_metrics(j, &m);
    }
    cli_json_end_object(j);
    free(label);
    free(target);
    free(out);
    free(class_of);
    return cli_check("predict", st);
}

/* {"task", "classes", "train": {...}, "val", "test", "all"}: the metrics of each split's
 * labelled samples (splits without any are left out) and of every labelled sample. */
static int write_metrics(const char *path, const gfuse_model *model, const gfuse_cohort *cohort,
                         const gfuse_predictions *p)
{
    cli_outfile o;
    int rc = cli_outfile_open(&o, "predict", path);
    if (rc != 0) return rc;
    int classify = gfuse_model_task(model) == GFUSE_TASK_CLASSIFY;
    cli_json j;
    cli_json_init(&j, o.f);
    cli_json_begin_object(&j);
    cli_json_key(&j, "task");
    cli_json_string(&j, classify ? "classify" : "regress");
    if (classify) {
        cli_json_key(&j, "classes");
        cli_json_begin_array(&j);
        for (int k = 0; k < gfuse_model_n_classes(model); k++)
            cli_json_string(&j, gfuse_model_class_name(model, k));
        cli_json_end_array(&j);
    }
    const struct {
        const char *key;
        int split;
    } groups[] = {{"train", GFUSE_SPLIT_TRAIN},
                  {"val", GFUSE_SPLIT_VAL},
                  {"test", GFUSE_SPLIT_TEST},
                  {"all", -1}};
    for (size_t g = 0; g < sizeof groups / sizeof groups[0] && rc == 0; g++) {
        int64_t any = 0;
        for (int64_t i = 0; i < p->n; i++)
            any += groups[g].split < 0 || (int)gfuse_cohort_split(cohort, i) == groups[g].split;
        if (!any) continue;
        cli_json_key(&j, groups[g].key);
        rc = json_split_metrics(&j, model, cohort, p, groups[g].split);
    }
    cli_json_end_object(&j);
    cli_json_finish(&j);
    if (rc != 0) {
        cli_outfile_abort(&o);
        return rc;
    }
    return cli_outfile_commit(&o, "predict");
}

static int run_predict(const char *out, const gfuse_model *model, const gfuse_cohort *cohort,
                       int quiet, void *ctx)
{
    const predict_paths *paths = ctx;
    const char *attention_path = paths->attention;
    gfuse_predictions pred;
    memset(&pred, 0, sizeof pred);
    int rc;
    if ((rc = cli_check("predict", gfuse_predict(model, cohort, &pred))) != 0) goto done;
    if ((rc = write_predictions(out, model, cohort, &pred)) != 0) goto done;
    if (attention_path && (rc = write_attention(attention_path, model, cohort, &pred)) != 0)
        goto done;
    if (paths->metrics && (rc = write_metrics(paths->metrics, model, cohort, &pred)) != 0)
        goto done;
    if (!quiet) {
        int64_t n_new = 0;
        for (int64_t i = 0; i < pred.n; i++) n_new += pred.new_sample[i];
        fprintf(stderr, "predict: %lld samples (%lld new) written to %s\n", (long long)pred.n,
                (long long)n_new, out);
    }
    rc = CLI_EXIT_OK;
done:
    gfuse_predictions_free(&pred);
    return rc;
}

/* --out and --attention: neither an input nor the same file. */
static int check_predict(const char *out, const cli_cohort_args *ca, const gfuse_cohort *cohort,
                         const char *model_path, void *ctx)
{
    const predict_paths *paths = ctx;
    const char *outs[] = {out, paths->attention, paths->metrics};
    return cli_outputs_check("predict", ca, cohort, &model_path, 1, outs, 3);
}

int cmd_predict(int argc, char **argv)
{
    predict_paths paths = {NULL, NULL};
    cli_model_cmd cmd = {
        .name = "predict",
        .synopsis = "--model FILE --cohort DIR --out FILE [--attention FILE] [--metrics FILE]",
        .description =
            "Predicts every sample of a cohort. Samples the model was trained with are predicted\n"
            "on the training graph (transductively); new samples are attached to the model's\n"
            "reference samples by the same knn rules and receive messages from them only.",
        .out_metavar = "FILE",
        .out_help = "predictions CSV: id, p_<class>... (value), predicted (required; - = stdout)",
        .extra = {{.name = "attention", .kind = CLI_STRING, .dest = &paths.attention,
                   .metavar = "FILE", .help = "fusion weights CSV: id, one column per modality, hub",
                   .def = "none"},
                  {.name = "metrics", .kind = CLI_STRING, .dest = &paths.metrics,
                   .metavar = "FILE",
                   .help = "metrics JSON of the labelled samples: per split (train, val, test) "
                           "and all",
                   .def = "none"}},
        .run = run_predict,
        .ctx = &paths,
        .check = check_predict};
    return cli_model_command(&cmd, argc, argv);
}
