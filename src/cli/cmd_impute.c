/* cmd_impute.c: `gfuse impute`: the cohort's modalities completed by the model's decoders, one
 * CSV per modality, and mask.csv saying which modalities were filled. */
#include "cli.h"
#include "model_cmd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Opens dir/name.csv as o and a comma-separated writer on it; 0 or the exit code. */
static int open_csv(cli_outfile *o, cli_csv *csv, const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + strlen(".csv") + 2;
    char *path = malloc(n);
    if (!path) {
        cli_error("impute", "out of memory");
        return CLI_EXIT_FAILURE;
    }
    snprintf(path, n, "%s/%s.csv", dir, name);
    int rc = cli_outfile_open(o, "impute", path);
    free(path);
    if (rc == 0) cli_csv_init(csv, o->f, ',');
    return rc;
}

/* One completed modality: id, features. */
static int write_modality(const char *dir, const gfuse_model *model, const gfuse_cohort *cohort,
                          const gfuse_imputation *imp, int j)
{
    cli_outfile o;
    cli_csv csv;
    int rc = open_csv(&o, &csv, dir, gfuse_model_modality_name(model, j));
    if (rc != 0) return rc;
    int64_t d = imp->n_features[j];
    cli_csv_string(&csv, "id");
    for (int64_t f = 0; f < d; f++) cli_csv_string(&csv, gfuse_model_feature_name(model, j, f));
    cli_csv_end_row(&csv);
    for (int64_t i = 0; i < imp->n; i++) {
        cli_csv_string(&csv, gfuse_cohort_sample_id(cohort, i));
        const float *row = imp->values[j] + i * d;
        for (int64_t f = 0; f < d; f++) cli_csv_double(&csv, row[f]);
        cli_csv_end_row(&csv);
    }
    return cli_outfile_commit(&o, "impute");
}

static int write_mask(const char *dir, const gfuse_model *model, const gfuse_cohort *cohort,
                      const gfuse_imputation *imp)
{
    cli_outfile o;
    cli_csv csv;
    int rc = open_csv(&o, &csv, dir, "mask");
    if (rc != 0) return rc;
    int M = imp->n_modalities;
    cli_csv_string(&csv, "id");
    for (int j = 0; j < M; j++) cli_csv_string(&csv, gfuse_model_modality_name(model, j));
    cli_csv_end_row(&csv);
    for (int64_t i = 0; i < imp->n; i++) {
        cli_csv_string(&csv, gfuse_cohort_sample_id(cohort, i));
        for (int j = 0; j < M; j++) cli_csv_int(&csv, imp->filled[i * M + j]);
        cli_csv_end_row(&csv);
    }
    return cli_outfile_commit(&o, "impute");
}

static int run_impute(const char *out_dir, const gfuse_model *model, const gfuse_cohort *cohort,
                      int quiet, void *ctx)
{
    (void)ctx;
    gfuse_imputation imp;
    memset(&imp, 0, sizeof imp);
    int rc;
    if ((rc = cli_check("impute", gfuse_impute(model, cohort, &imp))) != 0) goto done;
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        cli_error("impute", "%s: cannot create the folder: %s", out_dir, strerror(errno));
        rc = CLI_EXIT_FAILURE;
        goto done;
    }
    for (int j = 0; j < imp.n_modalities; j++)
        if ((rc = write_modality(out_dir, model, cohort, &imp, j)) != 0) goto done;
    if ((rc = write_mask(out_dir, model, cohort, &imp)) != 0) goto done;
    if (!quiet) {
        int64_t filled = 0;
        for (int64_t t = 0; t < imp.n * imp.n_modalities; t++) filled += imp.filled[t];
        fprintf(stderr, "impute: %lld samples, %lld modalities filled, written to %s\n",
                (long long)imp.n, (long long)filled, out_dir);
    }
    rc = CLI_EXIT_OK;
done:
    gfuse_imputation_free(&imp);
    return rc;
}

int cmd_impute(int argc, char **argv)
{
    cli_model_cmd cmd = {
        .name = "impute",
        .synopsis = "--model FILE --cohort DIR --out DIR",
        .description =
            "Completes the missing modalities of every sample with the model's decoders and\n"
            "writes one CSV per modality (observed rows unchanged, missing cells inside them\n"
            "left empty as NA) and mask.csv: id,<modality...> with 1 = filled by the model.",
        .out_metavar = "DIR",
        .out_help = "folder for <modality>.csv and mask.csv (created if needed; required)",
        .extra = CLI_END,
        .run = run_impute};
    return cli_model_command(&cmd, argc, argv);
}
