/* cmd_impute.c: `gfuse impute`: the cohort's modalities completed by the model's decoders, one
 * CSV per modality, and mask.csv saying which modalities were filled. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *join(const char *dir, const char *name, const char *ext)
{
    size_t n = strlen(dir) + strlen(name) + strlen(ext) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s%s", dir, name, ext);
    return p;
}

/* One completed modality: id, features. */
static int write_modality(const char *dir, const gfuse_model *model, const gfuse_cohort *cohort,
                          const gfuse_imputation *imp, int j)
{
    char *path = join(dir, gfuse_model_modality_name(model, j), ".csv");
    if (!path) {
        cli_error("impute", "out of memory");
        return CLI_EXIT_FAILURE;
    }
    cli_outfile o;
    int rc = cli_outfile_open(&o, "impute", path);
    free(path);
    if (rc != 0) return rc;
    cli_csv csv;
    cli_csv_init(&csv, o.f, ',');
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
    char *path = join(dir, "mask", ".csv");
    if (!path) {
        cli_error("impute", "out of memory");
        return CLI_EXIT_FAILURE;
    }
    cli_outfile o;
    int rc = cli_outfile_open(&o, "impute", path);
    free(path);
    if (rc != 0) return rc;
    cli_csv csv;
    cli_csv_init(&csv, o.f, ',');
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

int cmd_impute(int argc, char **argv)
{
    cli_cohort_args ca;
    cli_cohort_args_init(&ca);
    const char *model_path = NULL, *out_dir = NULL;
    cli_option opts[] = {
        CLI_COHORT_OPTIONS(&ca),
        {.name = "model", .kind = CLI_STRING, .dest = &model_path, .metavar = "FILE",
         .help = "model file written by gfuse train (required)"},
        {.name = "out", .kind = CLI_STRING, .dest = &out_dir, .metavar = "DIR",
         .help = "folder for <modality>.csv and mask.csv (created if needed; required)"},
        CLI_END};
    cli_spec spec = {
        .name = "impute",
        .synopsis = "--model FILE --cohort DIR --out DIR",
        .description =
            "Completes the missing modalities of every sample with the model's decoders and\n"
            "writes one CSV per modality (observed rows unchanged, missing cells inside them\n"
            "left empty as NA) and mask.csv: id,<modality...> with 1 = filled by the model.",
        .options = opts};
    int rc = cli_parse(&spec, argc, argv);
    if (rc != CLI_PARSED) {
        cli_cohort_args_free(&ca);
        return cli_parse_exit(rc);
    }
    gfuse_model *model = NULL;
    gfuse_cohort *cohort = NULL;
    gfuse_imputation imp;
    memset(&imp, 0, sizeof imp);
    if (!model_path || !out_dir) {
        rc = cli_usage_error("impute", "--model FILE and --out DIR are required");
        goto done;
    }
    gfuse_status st = gfuse_model_load(&model, model_path);
    if (st != GFUSE_OK) {
        rc = cli_fail("impute", st);
        goto done;
    }
    ca.task = gfuse_model_task(model);
    if ((rc = cli_cohort_load("impute", &ca, &cohort)) != 0) goto done;
    st = gfuse_impute(model, cohort, &imp);
    if (st != GFUSE_OK) {
        rc = cli_fail("impute", st);
        goto done;
    }
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        cli_error("impute", "%s: cannot create the folder: %s", out_dir, strerror(errno));
        rc = CLI_EXIT_FAILURE;
        goto done;
    }
    for (int j = 0; j < imp.n_modalities; j++)
        if ((rc = write_modality(out_dir, model, cohort, &imp, j)) != 0) goto done;
    if ((rc = write_mask(out_dir, model, cohort, &imp)) != 0) goto done;
    if (!ca.quiet) {
        int64_t filled = 0;
        for (int64_t t = 0; t < imp.n * imp.n_modalities; t++) filled += imp.filled[t];
        fprintf(stderr, "impute: %lld samples, %lld modalities filled, written to %s\n",
                (long long)imp.n, (long long)filled, out_dir);
    }
    rc = CLI_EXIT_OK;
done:
    gfuse_imputation_free(&imp);
    gfuse_cohort_free(&cohort);
    gfuse_model_free(&model);
    cli_cohort_args_free(&ca);
    return rc;
}
