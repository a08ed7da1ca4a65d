/* main.c: the gfuse program: global options, the command table and the library session. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <unistd.h>
#endif

typedef struct {
    const char *name;
    const char *summary; /* one line for `gfuse --help` */
    int (*run)(int argc, char **argv);
} command;

/* ---- the commands: add one line per command (and its declaration in cli.h) ---- */
static const command commands[] = {
    {"inspect", "samples, modalities, labels and missing-modality patterns of a cohort",
     cmd_inspect},
    {"synth", "write a synthetic incomplete cohort with its complete truth", cmd_synth},
    {"info", "what a model file holds: format, task, modalities, hyperparameters", cmd_info},
    {"graph", "build the sample-modality graph; sizes, degrees, reach; GraphML/TSV", cmd_graph},
    {"train", "train a graph attention model on a cohort and write the model file", cmd_train},
    {"predict", "predict every sample of a cohort with a trained model", cmd_predict},
    {"impute", "complete the missing modalities of a cohort with a trained model", cmd_impute},
    {"bench", "time training on a synthetic cohort (gfuse's model or the PyG peer's GAT)",
     cmd_bench},
    {"mask", "write a missing-modality protocol mask: a share of cells hidden, seeded",
     cmd_mask},
    {"cv", "cross-validate gfuse (and the baselines) on a cohort, at several missing rates",
     cmd_cv},
    {"report", "a self-contained HTML page of charts: cohort, training, performance, attention",
     cmd_report},
};
/* ---- end of the commands ---- */

static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

static void print_usage(FILE *f)
{
    fprintf(f,
            "Usage: gfuse COMMAND [OPTIONS]\n"
            "       gfuse COMMAND --help\n"
            "       gfuse --help | --version\n\n"
            "gfuse learns from incomplete multimodal cohorts: samples and modalities become\n"
            "nodes of one sparse graph, graph attention completes the missing modalities and\n"
            "fuses each sample's modalities into a prediction.\n\n"
            "Commands:\n");
    for (int k = 0; k < n_commands; k++)
        fprintf(f, "  %-10s  %s\n", commands[k].name, commands[k].summary);
    fprintf(f,
            "\nCommands that read a cohort take --cohort DIR, --modality NAME=FILE,\n"
            "--labels FILE, --split FILE, --mask FILE and --threads T.\n"
            "Exit codes: 0 success, 1 runtime failure, 2 usage error, 3 bad input data.\n");
}

/* Restarts the program once with OPENBLAS_CORETYPE set when OpenBLAS fell back to generic
 * kernels on a CPU it did not recognise (gfuse_blas_core_suggestion): the dense products run
 * several times faster. GFUSE_NO_BLAS_RESTART=1 turns this off; a failed restart is harmless. */
static void tune_blas(char **argv)
{
#if defined(__linux__)
    if (getenv("GFUSE_NO_BLAS_RESTART")) return;
    const char *core = gfuse_blas_core_suggestion();
    if (!core) return;
    if (setenv("OPENBLAS_CORETYPE", core, 1) != 0) return;
    if (setenv("GFUSE_NO_BLAS_RESTART", "1", 1) != 0) return;
    execv("/proc/self/exe", argv);
    unsetenv("OPENBLAS_CORETYPE"); /* still running: carry on with the generic kernels */
#else
    (void)argv;
#endif
}

int main(int argc, char **argv)
{
    tune_blas(argv);
    if (argc < 2) {
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
        printf("gfuse %s (library %s)\n", GFUSE_VERSION_STRING, gfuse_version());
        return CLI_EXIT_OK;
    }
    const command *cmd = NULL;
    for (int k = 0; k < n_commands; k++)
        if (strcmp(commands[k].name, name) == 0) cmd = &commands[k];
    if (!cmd) {
        if (name[0] == '-') return cli_usage_error(NULL, "unknown option '%s'", name);
        return cli_usage_error(NULL, "unknown command '%s'", name);
    }

    gfuse_status st = gfuse_init();
    if (st != GFUSE_OK) return cli_fail(cmd->name, st);
    cli_signals_install();
    int rc = cmd->run(argc - 1, argv + 1);
    gfuse_finalize();
    return rc;
}
