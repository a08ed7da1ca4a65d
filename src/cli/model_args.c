/* model_args.c: the training options of `gfuse train` and `gfuse bench` (cli.h), made from the
 * table of training options (model/options.h). */
#include "cli.h"

#include "model/options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_model_args_init(cli_model_args *ma)
{
    memset(ma, 0, sizeof *ma);
    gfuse_train_options_init(&ma->to);
}

void cli_model_args_free(cli_model_args *ma)
{
    free(ma->weights);
    ma->weights = NULL;
    ma->to.class_weights = NULL;
}

static int append(cli_model_args *ma, int n, const cli_option *o)
{
    if (n + 1 >= CLI_MODEL_MAX_OPTIONS) {
        fprintf(stderr, "gfuse: more than %d options\n", CLI_MODEL_MAX_OPTIONS - 1);
        abort();
    }
    ma->options[n] = *o;
    return n + 1;
}

/* Table entry t as a cli_option on ma. */
static cli_option table_option(cli_model_args *ma, const gfuse_train_option *t)
{
    cli_option o = {.name = t->flag, .dest = (char *)&ma->to + t->offset,
                    .metavar = t->metavar, .help = t->help, .min = t->min, .max = t->max};
    if (t->range & GFUSE_OPT_MIN) o.bounds |= CLI_MIN;
    if (t->range & GFUSE_OPT_MAX) o.bounds |= CLI_MAX;
    if (t->range & GFUSE_OPT_MIN_OPEN) o.bounds |= CLI_MIN_OPEN;
    if (t->range & GFUSE_OPT_MAX_OPEN) o.bounds |= CLI_MAX_OPEN;
    switch (t->type) {
    case GFUSE_OPT_INT: o.kind = CLI_INT; break;
    case GFUSE_OPT_DOUBLE: o.kind = CLI_DOUBLE; break;
    case GFUSE_OPT_UINT64: o.kind = CLI_UINT64; break;
    case GFUSE_OPT_TASK:
        o.kind = CLI_CHOICE;
        o.dest = &ma->task;
        o.choices = "classify|regress";
        break;
    case GFUSE_OPT_CLASS_WEIGHTS:
        o.kind = CLI_STRING;
        o.dest = &ma->class_weights;
        o.def = ma->to.class_weight_mode == GFUSE_CLASS_WEIGHTS_BALANCED ? "balanced" : "none";
        break;
    case GFUSE_OPT_STRING:
        o.kind = CLI_STRING;
        o.def = "none";
        break;
    case GFUSE_OPT_FLAG: o.kind = CLI_FLAG; break;
    default: o.name = NULL; /* model facts have no flag */
    }
    return o;
}

cli_option *cli_model_args_options(cli_model_args *ma, int train_only, const cli_option *before,
                                   const cli_option *after)
{
    int n = 0;
    ma->train_only = train_only & CLI_MODEL_TRAIN;
    for (const cli_option *o = before; o && o->name; o++) n = append(ma, n, o);
    for (int k = 0; k < gfuse_train_option_count(); k++) {
        const gfuse_train_option *t = gfuse_train_option_at(k);
        if (!t->flag || ((t->flags & GFUSE_OPT_TRAIN_ONLY) && !(train_only & CLI_MODEL_TRAIN)))
            continue;
        if ((t->flags & GFUSE_OPT_RUN) && (train_only & CLI_MODEL_NO_RUN)) continue;
        cli_option o = table_option(ma, t);
        if (o.name) n = append(ma, n, &o);
    }
    for (const cli_option *o = after; o && o->name; o++) n = append(ma, n, o);
    ma->options[n] = (cli_option)CLI_END;
    return ma->options;
}

int cli_model_args_finish(const char *cmd, cli_model_args *ma)
{
    if (ma->train_only) ma->to.task = ma->task == 1 ? GFUSE_TASK_REGRESS : GFUSE_TASK_CLASSIFY;
    gfuse_status st = GFUSE_OK;
    if (ma->class_weights) {
        free(ma->weights);
        st = gfuse_train_options_parse_class_weights(&ma->to, ma->class_weights,
                                                     "--class-weights", &ma->weights);
    }
    if (st == GFUSE_OK) st = gfuse_train_options_check(&ma->to, GFUSE_OPT_BY_FLAG);
    if (st == GFUSE_ERR_ARG) return cli_usage_error(cmd, "%s", gfuse_last_error());
    if (st != GFUSE_OK) return cli_fail(cmd, st);
    return 0;
}
