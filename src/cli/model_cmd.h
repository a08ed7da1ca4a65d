/*
 * model_cmd.h: the skeleton of the commands that apply a trained model to a cohort (predict,
 * impute): --model FILE, --cohort options, --out and the command's own options parsed; the
 * model loaded, then the cohort for the model's task; then the command's work; then all freed.
 */
#ifndef GFUSE_CLI_MODEL_CMD_H
#define GFUSE_CLI_MODEL_CMD_H

#include "cli.h"

typedef struct {
    const char *name;         /* the command, also the prefix of its messages */
    const char *synopsis, *description;
    const char *out_metavar;  /* --out FILE or DIR (required) */
    const char *out_help;
    cli_option extra[2];      /* up to two more options (unused ones CLI_END) */
    /* The work once model and cohort are loaded: returns the exit code. out is --out; quiet is
     * --quiet; ctx is the caller's, e.g. where extra writes its value. */
    int (*run)(const char *out, const gfuse_model *model, const gfuse_cohort *cohort, int quiet,
               void *ctx);
    void *ctx;
    /* Checks --out against the inputs before the work (0 or the exit code); NULL: --out is
     * one file, checked with cli_outputs_check. */
    int (*check)(const char *out, const cli_cohort_args *ca, const gfuse_cohort *cohort,
                 const char *model_path, void *ctx);
} cli_model_cmd;

/* Runs the command on argv (argv[0] is its name); returns the exit code. */
int cli_model_command(const cli_model_cmd *cmd, int argc, char **argv);

#endif
