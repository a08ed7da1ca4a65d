/* cmd_mask.c: `gfuse mask`, a mask of the shared missing-modality protocol for robustness
 * studies: exactly round(R * n * M) (sample, modality) cells hidden, every sample keeping at
 * least one modality (gfuse_mask_protocol). */
#include "cli.h"

#include <stdlib.h>

/* Writes id,<modality...> with 1 = keep, 0 = hide, one row per sample in cohort order. */
static void write_mask(FILE *f, const gfuse_cohort *c, const uint8_t *keep)
{
    int64_t n = gfuse_cohort_n_samples(c);
    int M = gfuse_cohort_n_modalities(c);
    cli_csv csv;
    cli_csv_init(&csv, f, ',');
    cli_csv_string(&csv, "id");
    for (int m = 0; m < M; m++) cli_csv_string(&csv, gfuse_cohort_modality_name(c, m));
    cli_csv_end_row(&csv);
    for (int64_t i = 0; i < n; i++) {
        cli_csv_string(&csv, gfuse_cohort_sample_id(c, i));
        for (int m = 0; m < M; m++) cli_csv_int(&csv, keep[i * M + m]);
        cli_csv_end_row(&csv);
    }
}

int cmd_mask(int argc, char **argv)
{
    cli_cohort_args ca;
    cli_cohort_args_init(&ca);
    double rate = -1;
    uint64_t seed = 1;
    const char *out = NULL;
    cli_option opts[] = {
        CLI_COHORT_OPTIONS(&ca),
        {.name = "rate", .kind = CLI_DOUBLE, .dest = &rate, .metavar = "R",
         .bounds = CLI_MIN | CLI_MAX_OPEN, .min = 0, .max = 1,
         .help = "share of the (sample, modality) cells to hide, in [0, 1)",
         .def = "none, required"},
        {.name = "seed", .kind = CLI_UINT64, .dest = &seed, .metavar = "S",
         .help = "random seed; the same cohort, rate and seed give byte-identical masks"},
        {.name = "out", .kind = CLI_STRING, .dest = &out, .metavar = "FILE",
         .help = "the mask file to write; - is standard output", .def = "none, required"},
        CLI_END};
    cli_spec spec = {
        .name = "mask",
        .synopsis = "--cohort DIR --rate R [--seed S] --out FILE [options]",
        .description =
            "Writes a mask of the shared missing-modality protocol, for robustness studies:\n"
            "of the n x M (sample, modality) cells of the cohort, exactly round(R * n * M) are\n"
            "hidden. Cells are visited in a random order drawn from the seed and hidden unless\n"
            "that would leave the sample with no modality. Cells the cohort lacks already (a\n"
            "sample absent from a modality file, or hidden by --mask) count as hidden; it is an\n"
            "error when they are more than R hides, or when R asks for more than leaving each\n"
            "sample one modality allows (R = (M - 1) / M in whole percent, such as 0.67 for\n"
            "M = 3, leaves exactly one). The file has the columns id and one per modality in\n"
            "cohort order (1 = keep, 0 = hide), one row per sample in cohort order; give it to\n"
            "any command with --mask FILE. The random stream is gfuse's own: masks follow the\n"
            "rules of the numpy-made mask_r*_s*.csv files of ../shared/data/rosmap, not their\n"
            "cells. A summary line goes to standard error unless --quiet.",
        .options = opts};
    gfuse_cohort *cohort = NULL;
    uint8_t *keep = NULL;
    cli_outfile of = {0};
    int rc;
    if (!cli_parse_command(&spec, argc, argv, &rc)) goto done;
    if (rate < 0) {
        rc = cli_usage_error("mask", "--rate R is required");
        goto done;
    }
    if (!out) {
        rc = cli_usage_error("mask", "--out FILE is required");
        goto done;
    }
    if ((rc = cli_cohort_load("mask", &ca, &cohort)) != 0) goto done;
    const char *outs[] = {out};
    if ((rc = cli_outputs_check("mask", &ca, cohort, NULL, 0, outs, 1)) != 0) goto done;
    int64_t n = gfuse_cohort_n_samples(cohort);
    int M = gfuse_cohort_n_modalities(cohort);
    keep = malloc((size_t)n * (size_t)M + 1);
    if (!keep) {
        cli_error("mask", "out of memory");
        rc = CLI_EXIT_FAILURE;
        goto done;
    }
    if ((rc = cli_check("mask", gfuse_mask_protocol(cohort, rate, seed, keep))) != 0) goto done;
    if ((rc = cli_outfile_open(&of, "mask", out)) != 0) goto done;
    write_mask(of.f, cohort, keep);
    if ((rc = cli_outfile_commit(&of, "mask")) != 0) goto done;
    if (!ca.quiet) {
        int64_t hidden = 0, incomplete = 0, before = 0;
        for (int64_t i = 0; i < n; i++) {
            int64_t h = 0;
            for (int m = 0; m < M; m++) {
                h += !keep[i * M + m];
                before += !gfuse_cohort_has_modality(cohort, i, m);
            }
            hidden += h;
            incomplete += h > 0;
        }
        fprintf(stderr,
                "gfuse mask: %lld of %lld cells hidden (rate %g, seed %llu; %lld missing "
                "before), %lld of %lld samples incomplete\n",
                (long long)hidden, (long long)n * M, rate, (unsigned long long)seed,
                (long long)before, (long long)incomplete, (long long)n);
    }
done:
    cli_outfile_abort(&of);
    free(keep);
    gfuse_cohort_free(&cohort);
    cli_cohort_args_free(&ca);
    return rc;
}
