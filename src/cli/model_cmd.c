/* model_cmd.c: the shared skeleton of `gfuse predict` and `gfuse impute` (see model_cmd.h). */
#include "model_cmd.h"

int cli_model_command(const cli_model_cmd *cmd, int argc, char **argv)
{
    cli_cohort_args ca;
    cli_cohort_args_init(&ca);
    const char *model_path = NULL, *out = NULL;
    cli_option opts[] = {
        CLI_COHORT_OPTIONS(&ca),
        {.name = "model", .kind = CLI_STRING, .dest = &model_path, .metavar = "FILE",
         .help = "model file written by gfuse train (required)"},
        {.name = "out", .kind = CLI_STRING, .dest = &out, .metavar = cmd->out_metavar,
         .help = cmd->out_help},
        cmd->extra[0],
        cmd->extra[1],
        CLI_END};
    cli_spec spec = {.name = cmd->name,
                     .synopsis = cmd->synopsis,
                     .description = cmd->description,
                     .options = opts};
    gfuse_model *model = NULL;
    gfuse_cohort *cohort = NULL;
    int rc;
    if (!cli_parse_command(&spec, argc, argv, &rc)) goto done;
    if (!model_path || !out) {
        rc = cli_usage_error(cmd->name, "--model FILE and --out %s are required", cmd->out_metavar);
        goto done;
    }
    gfuse_status st = gfuse_model_load(&model, model_path);
    if (st != GFUSE_OK) {
        rc = cli_fail(cmd->name, st);
        goto done;
    }
    ca.task = gfuse_model_task(model);
    if ((rc = cli_cohort_load(cmd->name, &ca, &cohort)) != 0) goto done;
    if (cmd->check) {
        rc = cmd->check(out, &ca, cohort, model_path, cmd->ctx);
    } else {
        const char *outs[] = {out};
        rc = cli_outputs_check(cmd->name, &ca, cohort, &model_path, 1, outs, 1);
    }
    if (rc != 0) goto done;
    rc = cmd->run(out, model, cohort, ca.quiet, cmd->ctx);
done:
    gfuse_cohort_free(&cohort);
    gfuse_model_free(&model);
    cli_cohort_args_free(&ca);
    return rc;
}
