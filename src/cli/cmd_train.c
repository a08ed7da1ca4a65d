/* cmd_train.c: `gfuse train`: trains a model on a cohort and writes the model file; progress on
 * stderr, one CSV row per epoch with --log; with --checkpoint, SIGINT and SIGTERM stop the
 * training at the next epoch boundary with the checkpoint saved. */
#include "cli.h"

#include <math.h>
#include <string.h>

typedef struct {
    cli_progress bar;
    cli_csv log;
    int has_log;
    int64_t done;
    int classify;
} train_monitor;

static int on_epoch(const gfuse_epoch_report *r, void *user)
{
    train_monitor *t = user;
    t->done++;
    if (t->has_log) {
        cli_csv_int(&t->log, r->member + 1);
        cli_csv_int(&t->log, r->epoch);
        cli_csv_double(&t->log, r->train_loss);
        cli_csv_double(&t->log, r->task_loss);
        cli_csv_double(&t->log, r->rec_loss);
        cli_csv_double(&t->log, r->val_loss);
        cli_csv_double(&t->log, r->val_metric);
        cli_csv_double(&t->log, r->seconds);
        cli_csv_end_row(&t->log);
    }
    char val[64] = "";
    if (!isnan(r->val_loss))
        snprintf(val, sizeof val, " val %.4f %s %.3f", r->val_loss, t->classify ? "acc" : "rmse",
                 r->val_metric);
    cli_progress_update(&t->bar, t->done, "member %d/%d epoch %d loss %.4f%s", r->member + 1,
                        r->n_members, r->epoch, r->train_loss, val);
    return 0;
}

int cmd_train(int argc, char **argv)
{
    cli_cohort_args ca;
    cli_cohort_args_init(&ca);
    cli_model_args ma;
    cli_model_args_init(&ma);
    gfuse_train_options *to = &ma.to;
    const char *model_path = NULL, *log_path = NULL;
    cli_option before[] = {
        CLI_COHORT_OPTIONS(&ca),
        {.name = "model", .kind = CLI_STRING, .dest = &model_path, .metavar = "FILE",
         .help = "where to write the model (required)"},
        CLI_END};
    cli_option after[] = {
        {.name = "log", .kind = CLI_STRING, .dest = &log_path, .metavar = "FILE",
         .help = "write one CSV row per epoch", .def = "none"},
        CLI_END};
    cli_spec spec = {
        .name = "train",
        .synopsis = "--cohort DIR --model FILE [OPTIONS]",
        .description =
            "Trains a graph attention model on a cohort: every (sample, modality) pair and every\n"
            "sample hub is a node, missing modalities are completed by attention over the knn\n"
            "graph, and each sample's nodes are fused into a prediction. Trains on the labelled\n"
            "samples of split train (all labelled samples without a split file), stops early on\n"
            "split val or a stratified share of the training samples, never reads test labels.",
        .options = cli_model_args_options(&ma, CLI_MODEL_TRAIN, before, after)};
    gfuse_cohort *cohort = NULL;
    gfuse_model *model = NULL;
    cli_outfile log_file;
    memset(&log_file, 0, sizeof log_file);
    train_monitor mon;
    memset(&mon, 0, sizeof mon);
    int rc;
    if (!cli_parse_command(&spec, argc, argv, &rc)) goto done;
    if (!model_path) {
        rc = cli_usage_error("train", "--model FILE is required");
        goto done;
    }
    if ((rc = cli_model_args_finish("train", &ma)) != 0) goto done;
    ca.task = to->task;
    if ((rc = cli_cohort_load("train", &ca, &cohort)) != 0) goto done;
    const char *outs[] = {model_path, log_path};
    if ((rc = cli_outputs_check("train", &ca, cohort, NULL, 0, outs, 2)) != 0) goto done;
    if (log_path) {
        if ((rc = cli_outfile_open(&log_file, "train", log_path)) != 0) goto done;
        cli_csv_init(&mon.log, log_file.f, ',');
        const char *head[] = {"member",   "epoch",    "train_loss", "task_loss",
                              "rec_loss", "val_loss", "val_metric", "seconds"};
        for (size_t k = 0; k < sizeof head / sizeof head[0]; k++) cli_csv_string(&mon.log, head[k]);
        cli_csv_end_row(&mon.log);
        mon.has_log = 1;
    }
    mon.classify = to->task == GFUSE_TASK_CLASSIFY;
    to->on_epoch = on_epoch;
    to->user = &mon;
    cli_progress_start(&mon.bar, "train", (int64_t)to->epochs * to->ensemble, ca.quiet);
    /* With a checkpoint, the first SIGINT or SIGTERM only asks the training to stop: it saves
     * the checkpoint at the next epoch boundary and returns GFUSE_ERR_INTERRUPTED (a second
     * signal ends the tool at once, as without a checkpoint). */
    if (to->checkpoint) cli_signals_deferred(1);
    gfuse_status st = gfuse_train(&model, cohort, to);
    if (mon.has_log && (rc = cli_outfile_commit(&log_file, "train")) != 0) goto done;
    if (st == GFUSE_ERR_INTERRUPTED && to->checkpoint) {
        cli_error("train", "%s; resume with --resume", gfuse_last_error());
        rc = cli_exit_code(st);
        goto done;
    }
    if (st != GFUSE_OK) {
        rc = cli_fail("train", st);
        goto done;
    }
    st = gfuse_model_save(model, model_path);
    if (st != GFUSE_OK) {
        rc = cli_fail("train", st);
        goto done;
    }
    char best[160] = "";
    size_t len = 0;
    for (int k = 0; k < gfuse_model_n_members(model) && len + 16 < sizeof best; k++)
        len += (size_t)snprintf(best + len, sizeof best - len, "%s%d", k ? "," : "",
                                gfuse_model_best_epoch(model, k));
    cli_progress_finish(&mon.bar, "best epoch %s, %lld parameters, model written to %s", best,
                        (long long)gfuse_model_n_parameters(model), model_path);
    rc = CLI_EXIT_OK;
done:
    cli_outfile_abort(&log_file);
    gfuse_model_free(&model);
    gfuse_cohort_free(&cohort);
    cli_model_args_free(&ma);
    cli_cohort_args_free(&ca);
    return rc;
}
