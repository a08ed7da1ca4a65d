/* model_args.c: the model options that `gfuse train` and `gfuse bench` share (cli.h). */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void cli_model_args_init(cli_model_args *ma)
{
    memset(ma, 0, sizeof *ma);
    gfuse_train_options_init(&ma->to);
    ma->class_weights = "none";
    snprintf(ma->default_lr, sizeof ma->default_lr, "%g", ma->to.lr);
    snprintf(ma->default_wd, sizeof ma->default_wd, "%g", ma->to.weight_decay);
}

void cli_model_args_free(cli_model_args *ma)
{
    free(ma->weights);
    ma->weights = NULL;
    ma->to.class_weights = NULL;
}

/* "none", "balanced" or "w1,w2,...": fills the options or prints a usage error. */
static int parse_class_weights(const char *cmd, cli_model_args *ma)
{
    const char *text = ma->class_weights;
    gfuse_train_options *to = &ma->to;
    if (strcmp(text, "none") == 0) {
        to->class_weight_mode = GFUSE_CLASS_WEIGHTS_NONE;
        return 0;
    }
    if (strcmp(text, "balanced") == 0) {
        to->class_weight_mode = GFUSE_CLASS_WEIGHTS_BALANCED;
        return 0;
    }
    int n = 1;
    for (const char *q = text; *q; q++) n += *q == ',';
    ma->weights = malloc((size_t)n * sizeof(double));
    if (!ma->weights) {
        cli_error(cmd, "out of memory");
        return CLI_EXIT_FAILURE;
    }
    const char *q = text;
    for (int k = 0; k < n; k++) {
        char *end = NULL;
        double w = strtod(q, &end);
        if (end == q || (*end != ',' && *end != '\0') || !(w > 0.0) || !isfinite(w))
            return cli_usage_error(cmd,
                                   "--class-weights must be none, balanced or positive numbers "
                                   "w1,w2,... (one per class), got '%s'",
                                   text);
        ma->weights[k] = w;
        q = end + (*end == ',');
    }
    to->class_weight_mode = GFUSE_CLASS_WEIGHTS_GIVEN;
    to->class_weights = ma->weights;
    to->n_class_weights = n;
    return 0;
}

int cli_model_args_finish(const char *cmd, cli_model_args *ma)
{
    if (ma->to.hidden % ma->to.heads != 0)
        return cli_usage_error(cmd, "--hidden (%d) must be a multiple of --heads (%d)",
                               ma->to.hidden, ma->to.heads);
    return parse_class_weights(cmd, ma);
}
