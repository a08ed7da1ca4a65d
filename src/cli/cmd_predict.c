/* cmd_predict.c: `gfuse predict`: class probabilities (or values) for every sample of a cohort,
 * and with --attention the fusion weights that say which modality drove each prediction. */
#include "cli.h"
#include "model_cmd.h"

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

static int run_predict(const char *out, const gfuse_model *model, const gfuse_cohort *cohort,
                       int quiet, void *ctx)
{
    const char *attention_path = *(const char **)ctx;
    gfuse_predictions pred;
    memset(&pred, 0, sizeof pred);
    int rc;
    if ((rc = cli_check("predict", gfuse_predict(model, cohort, &pred))) != 0) goto done;
    if ((rc = write_predictions(out, model, cohort, &pred)) != 0) goto done;
    if (attention_path && (rc = write_attention(attention_path, model, cohort, &pred)) != 0)
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
    const char *outs[] = {out, *(const char **)ctx};
    return cli_outputs_check("predict", ca, cohort, &model_path, 1, outs, 2);
}

int cmd_predict(int argc, char **argv)
{
    const char *attention_path = NULL;
    cli_model_cmd cmd = {
        .name = "predict",
        .synopsis = "--model FILE --cohort DIR --out FILE [--attention FILE]",
        .description =
            "Predicts every sample of a cohort. Samples the model was trained with are predicted\n"
            "on the training graph (transductively); new samples are attached to the model's\n"
            "reference samples by the same knn rules and receive messages from them only.",
        .out_metavar = "FILE",
        .out_help = "predictions CSV: id, p_<class>... (value), predicted (required; - = stdout)",
        .extra = {.name = "attention", .kind = CLI_STRING, .dest = &attention_path,
                  .metavar = "FILE", .help = "fusion weights CSV: id, one column per modality, hub",
                  .def = "none"},
        .run = run_predict,
        .ctx = &attention_path,
        .check = check_predict};
    return cli_model_command(&cmd, argc, argv);
}
