/* options.c: the table of training options (options.h) and what is made from it: the
 * defaults, the range checks, the class-weights parser and the number formats. */
#include "model/options.h"

#include "model/model.h"
#include "nn/gat.h"
#include "core/util.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The offset of a field of gfuse_train_options whose size is that of ctype (a mismatch between
 * an entry's type and its field fails to compile: a negative array size). */
#define FIELD(field, ctype)                                                                      \
    (offsetof(gfuse_train_options, field) +                                                      \
     0 * sizeof(char[sizeof(((gfuse_train_options *)0)->field) == sizeof(ctype) ? 1 : -1]))

#define C_INT int
#define C_DOUBLE double
#define C_UINT64 uint64_t
#define C_TASK gfuse_task
#define C_CLASS_WEIGHTS gfuse_class_weight_mode
#define C_STRING const char *
#define C_FLAG int

/* Ranges: [lo, hi], [lo, hi), at least lo, above lo, any. */
#define IN(lo, hi) (lo), (hi), GFUSE_OPT_MIN | GFUSE_OPT_MAX
#define IN_OPEN(lo, hi) (lo), (hi), GFUSE_OPT_MIN | GFUSE_OPT_MAX_OPEN
#define AT_LEAST(lo) (lo), 0, GFUSE_OPT_MIN
#define ABOVE(lo) (lo), 0, GFUSE_OPT_MIN_OPEN
#define ANY 0, 0, 0

#define SHARED GFUSE_OPT_SHARED
#define TRAIN_ONLY GFUSE_OPT_TRAIN_ONLY
#define OPTIONAL GFUSE_OPT_OPTIONAL
#define RUN GFUSE_OPT_RUN

/* One option: type, field (= model-file key), flag, name in messages, default, range,
 * metavar, help, flags. OPTION_AS stores it under another key than the field's name. */
#define OPTION_AS(type, field, key, flag, what, def, ...)                                       \
    {GFUSE_OPT_##type, key, flag, what, FIELD(field, C_##type), def, __VA_ARGS__, NULL}
#define OPTION(type, field, ...) OPTION_AS(type, field, #field, __VA_ARGS__)
/* A fact of the model stored among the hyperparameters. */
#define MODEL_FACT(type, key, member, range)                                                     \
    {GFUSE_OPT_##type, key, NULL, key, offsetof(gfuse_model, member), 0, range, NULL, NULL,       \
     SHARED, NULL}

/* Adding an option: its field in gfuse_train_options (include/gfuse.h) and one OPTION line
 * here, e.g.
 *     OPTION(DOUBLE, label_smoothing, "label-smoothing", "label smoothing", 0, IN(0, 1), "S",
 *            "share of each target moved to the other classes", SHARED | OPTIONAL),
 * which gives the default, the check, --label-smoothing with its help line, and the model-file
 * key label_smoothing (OPTIONAL: files written before it read the default). The order here is
 * the order of the hparams section and of the help. */
static const gfuse_train_option table[] = {
    OPTION(TASK, task, "task", "task", GFUSE_TASK_AUTO, ANY, NULL,
           "classify labels (class names) or regress numeric labels", TRAIN_ONLY),
    OPTION(INT, layers, "layers", "layers", 2, IN(1, 64), "L", "graph attention layers", SHARED),
    OPTION(INT, heads, "heads", "heads", 4, IN(1, GFUSE_I_GAT_MAX_HEADS), "H", "attention heads",
           SHARED),
    OPTION(INT, hidden, "hidden", "hidden", 64, IN(1, 65536), "F",
           "node state width (a multiple of --heads)", SHARED),
    MODEL_FACT(MODEL_INT, "attention_dim", arch.A, IN(1, 65536)),
    OPTION(INT, k, "k", "k", 10, AT_LEAST(1), "K", "knn neighbours per node", SHARED),
    {GFUSE_OPT_CONST, "metric", NULL, "metric", 0, 0, ANY, NULL, NULL, SHARED, "cosine"},
    OPTION(INT, epochs, "epochs", "epochs", 300, AT_LEAST(1), "N",
           "most epochs per ensemble member", TRAIN_ONLY),
    OPTION(DOUBLE, lr, "lr", "lr", 0.01, ABOVE(0), "RATE", "AdamW learning rate", SHARED),
    OPTION(DOUBLE, weight_decay, "weight-decay", "weight decay", 0.05, AT_LEAST(0), "W",
           "AdamW decoupled weight decay on weights", SHARED),
    OPTION(DOUBLE, dropout, "dropout", "dropout", 0.5, IN_OPEN(0, 1), "P",
           "dropout on node states and in the head", SHARED),
    OPTION(DOUBLE, input_dropout, "input-dropout", "input dropout", 0.2, IN_OPEN(0, 1), "P",
           "dropout on the input features", SHARED),
    OPTION(DOUBLE, attn_dropout, "attn-dropout", "attention dropout", 0.1, IN_OPEN(0, 1), "P",
           "dropout on attention edges", SHARED),
    OPTION(DOUBLE, modality_dropout, "modality-dropout", "modality dropout", 0.3, IN_OPEN(0, 1),
           "P", "share of observed modalities hidden (and reconstructed) per training graph",
           SHARED),
    OPTION(INT, graph_variants, "graph-variants", "graph variants", 8, IN(0, 4096), "G",
           "modality-dropout graphs drawn before training (0 = none)", SHARED),
    OPTION(DOUBLE, lambda_rec, "lambda-rec", "lambda_rec", 1.0, AT_LEAST(0), "W",
           "weight of the reconstruction loss", SHARED),
    OPTION(DOUBLE, lambda_node, "lambda-node", "lambda_node", 1.0, AT_LEAST(0), "W",
           "weight of the per-node loss (each observed modality predicts on its own)", SHARED),
    OPTION(DOUBLE, node_vote, "node-vote", "node vote", 0.5, IN(0, 1), "W",
           "weight of the per-node predictions (mean over observed modalities) in the output",
           SHARED),
    OPTION(DOUBLE, linear_mix, "linear-mix", "linear mix", 0.5, IN(0, 1), "W",
           "weight in the output of a linear model per modality (mean over observed "
           "modalities), trained with its own loss; with --mix-step the weight validated while "
           "training (0 = no linear path unless --mix-step)", SHARED | OPTIONAL),
    OPTION(DOUBLE, mix_step, "mix-step", "mix step", 0.1, IN(0, 1), "S",
           "after training, choose --linear-mix among 0, S, 2S, ..., 1 by the validation loss: "
           "the largest within one standard error of the least (0 = keep --linear-mix)", SHARED | OPTIONAL),
    OPTION(DOUBLE, linear_l2, "linear-l2", "linear L2", 0.03, AT_LEAST(0), "C",
           "L2 penalty C/2 * |W|^2 on the weights of the linear path", SHARED | OPTIONAL),
    OPTION(DOUBLE, decoder_ridge, "decoder-ridge", "decoder ridge", 3.0, AT_LEAST(0), "R",
           "refit the completion decoders by ridge regression, penalty R (0 = off)", SHARED),
    OPTION(DOUBLE, ema, "ema", "ema", 0.97, IN_OPEN(0, 1), "D",
           "validate and keep a moving average of the weights, decay D (0 = off)", SHARED),
    OPTION(INT, patience, "patience", "patience", 20, AT_LEAST(1), "N",
           "stop after N epochs without a better validation loss", TRAIN_ONLY),
    OPTION_AS(CLASS_WEIGHTS, class_weight_mode, "class_weights", "class-weights",
              "class weights", GFUSE_CLASS_WEIGHTS_NONE, ANY, "W",
              "class weights of the loss: none, balanced or w1,w2,... per class", SHARED),
    OPTION(DOUBLE, val_fraction, "val-fraction", "validation fraction", 0.2, IN(0, 0.5), "F",
           "validation share carved (stratified) when the split has no val samples", SHARED),
    OPTION(INT, ensemble, "ensemble", "ensemble", 5, IN(1, 256), "E",
           "members trained on different validation folds, averaged", TRAIN_ONLY),
    OPTION(UINT64, seed, "seed", "seed", 1, ANY, "S", "seed of every random choice", SHARED),
    OPTION(STRING, checkpoint, "checkpoint", "checkpoint", 0, ANY, "FILE",
           "save the training state to FILE every --checkpoint-every epochs, when a member "
           "ends and on SIGINT/SIGTERM", TRAIN_ONLY | RUN),
    OPTION(INT, checkpoint_every, "checkpoint-every", "checkpoint interval", 10, AT_LEAST(1),
           "N", "epochs between checkpoints", TRAIN_ONLY | RUN),
    OPTION(FLAG, resume, "resume", "resume", 0, ANY, NULL,
           "continue the training saved in --checkpoint FILE (same data and options)",
           TRAIN_ONLY | RUN),
    MODEL_FACT(MODEL_INT64, "references", ref.n, ANY),
};

#define N_OPTIONS ((int)(sizeof table / sizeof table[0]))

int gfuse_train_option_count(void) { return N_OPTIONS; }

const gfuse_train_option *gfuse_train_option_at(int k)
{
    return k >= 0 && k < N_OPTIONS ? &table[k] : NULL;
}

/* ---- defaults ------------------------------------------------------------------------------ */

void gfuse_train_options_init(gfuse_train_options *o)
{
    memset(o, 0, sizeof *o);
    for (int k = 0; k < N_OPTIONS; k++) {
        const gfuse_train_option *t = &table[k];
        void *p = (char *)o + t->offset;
        switch (t->type) {
        case GFUSE_OPT_INT: *(int *)p = (int)t->def; break;
        case GFUSE_OPT_DOUBLE: *(double *)p = t->def; break;
        case GFUSE_OPT_UINT64: *(uint64_t *)p = (uint64_t)t->def; break;
        case GFUSE_OPT_TASK: *(gfuse_task *)p = (gfuse_task)(int)t->def; break;
        case GFUSE_OPT_CLASS_WEIGHTS:
            *(gfuse_class_weight_mode *)p = (gfuse_class_weight_mode)(int)t->def;
            break;
        case GFUSE_OPT_FLAG: *(int *)p = (int)t->def; break;
        case GFUSE_OPT_MODEL_INT:
        case GFUSE_OPT_MODEL_INT64:
        case GFUSE_OPT_CONST:
        case GFUSE_OPT_STRING: break;
        }
    }
}

/* ---- ranges and checks --------------------------------------------------------------------- */

void gfuse_format_double(char *buf, size_t size, double v)
{
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, size, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) return;
    }
    /* NaN never compares equal; 17 digits are exact for every finite double */
}

int gfuse_i_option_in_range(const gfuse_train_option *opt, double v)
{
    if (opt->type == GFUSE_OPT_DOUBLE && !isfinite(v)) return 0;
    if (isnan(v)) return 0;
    if ((opt->range & GFUSE_OPT_MIN) && !(v >= opt->min)) return 0;
    if ((opt->range & GFUSE_OPT_MIN_OPEN) && !(v > opt->min)) return 0;
    if ((opt->range & GFUSE_OPT_MAX) && !(v <= opt->max)) return 0;
    if ((opt->range & GFUSE_OPT_MAX_OPEN) && !(v < opt->max)) return 0;
    return 1;
}

void gfuse_i_option_range_text(char *buf, size_t size, const gfuse_train_option *opt)
{
    char lo[32], hi[32];
    gfuse_format_double(lo, sizeof lo, opt->min);
    gfuse_format_double(hi, sizeof hi, opt->max);
    int has_lo = (opt->range & (GFUSE_OPT_MIN | GFUSE_OPT_MIN_OPEN)) != 0;
    int has_hi = (opt->range & (GFUSE_OPT_MAX | GFUSE_OPT_MAX_OPEN)) != 0;
    int lo_open = (opt->range & GFUSE_OPT_MIN_OPEN) != 0;
    int hi_open = (opt->range & GFUSE_OPT_MAX_OPEN) != 0;
    int integer = opt->type != GFUSE_OPT_DOUBLE;
    if (has_lo && has_hi && integer && !lo_open && !hi_open)
        snprintf(buf, size, "in %s..%s", lo, hi);
    else if (has_lo && has_hi)
        snprintf(buf, size, "in %c%s, %s%c", lo_open ? '(' : '[', lo, hi, hi_open ? ')' : ']');
    else if (has_lo && lo_open)
        snprintf(buf, size, opt->min == 0 ? "positive" : "above %s", lo);
    else if (has_lo)
        snprintf(buf, size, "at least %s", lo);
    else if (has_hi)
        snprintf(buf, size, "%s %s", hi_open ? "below" : "at most", hi);
    else
        buf[0] = '\0';
}

/* The option as messages name it: "weight decay" or "--weight-decay". */
static const char *option_name(char *buf, size_t size, const gfuse_train_option *t, int naming)
{
    if (naming == GFUSE_OPT_BY_FLAG && t->flag) {
        snprintf(buf, size, "--%s", t->flag);
        return buf;
    }
    return t->what;
}

static gfuse_status check_class_weights(const gfuse_train_options *o, const char *name)
{
    GFUSE_CHECK_ARG(o->class_weight_mode >= GFUSE_CLASS_WEIGHTS_NONE &&
                        o->class_weight_mode <= GFUSE_CLASS_WEIGHTS_GIVEN,
                    "unknown class weight mode %d", (int)o->class_weight_mode);
    if (o->class_weight_mode != GFUSE_CLASS_WEIGHTS_GIVEN) return GFUSE_OK;
    GFUSE_CHECK_ARG(o->class_weights && o->n_class_weights >= 1,
                    "%s were asked for but none were given", name);
    for (int k = 0; k < o->n_class_weights; k++) {
        char v[32];
        gfuse_format_double(v, sizeof v, o->class_weights[k]);
        GFUSE_CHECK_ARG(o->class_weights[k] > 0.0 && isfinite(o->class_weights[k]),
                        "class weight %d must be positive, got %s", k + 1, v);
    }
    return GFUSE_OK;
}

gfuse_status gfuse_train_options_check(const gfuse_train_options *o, int naming)
{
    GFUSE_CHECK_ARG(o != NULL, "options must not be NULL");
    for (int k = 0; k < N_OPTIONS; k++) {
        const gfuse_train_option *t = &table[k];
        const void *p = (const char *)o + t->offset;
        char name[64], range[64], value[32];
        const char *who = option_name(name, sizeof name, t, naming);
        double v;
        switch (t->type) {
        case GFUSE_OPT_INT:
            v = *(const int *)p;
            snprintf(value, sizeof value, "%d", *(const int *)p);
            break;
        case GFUSE_OPT_DOUBLE:
            v = *(const double *)p;
            gfuse_format_double(value, sizeof value, v);
            break;
        case GFUSE_OPT_TASK: {
            gfuse_task task = *(const gfuse_task *)p;
            GFUSE_CHECK_ARG(task >= GFUSE_TASK_AUTO && task <= GFUSE_TASK_REGRESS,
                            "%s must be auto, classify or regress, got %d", who, (int)task);
            continue;
        }
        case GFUSE_OPT_CLASS_WEIGHTS: {
            gfuse_status st = check_class_weights(o, who);
            if (st != GFUSE_OK) return st;
            continue;
        }
        case GFUSE_OPT_UINT64:
            v = (double)*(const uint64_t *)p;
            snprintf(value, sizeof value, "%llu", (unsigned long long)*(const uint64_t *)p);
            break;
        default: continue; /* model facts are no options */
        }
        if (!gfuse_i_option_in_range(t, v)) {
            gfuse_i_option_range_text(range, sizeof range, t);
            return gfuse_i_error(GFUSE_ERR_ARG, "%s must be %s, got %s", who, range, value);
        }
    }
    int flags = naming == GFUSE_OPT_BY_FLAG;
    GFUSE_CHECK_ARG(!o->checkpoint || *o->checkpoint, "%s must not be empty",
                    flags ? "--checkpoint" : "checkpoint");
    GFUSE_CHECK_ARG(!o->resume || o->checkpoint, "%s needs %s", flags ? "--resume" : "resume",
                    flags ? "--checkpoint FILE" : "a checkpoint");
    GFUSE_CHECK_ARG(o->hidden % o->heads == 0, "%s (%d) must be a multiple of %s (%d)",
                    flags ? "--hidden" : "hidden", o->hidden, flags ? "--heads" : "heads",
                    o->heads);
    return GFUSE_OK;
}

/* ---- class weights --------------------------------------------------------------------------- */

gfuse_status gfuse_train_options_parse_class_weights(gfuse_train_options *o, const char *text,
                                                     const char *name, double **owned)
{
    *owned = NULL;
    o->class_weights = NULL;
    o->n_class_weights = 0;
    if (strcmp(text, "none") == 0) {
        o->class_weight_mode = GFUSE_CLASS_WEIGHTS_NONE;
        return GFUSE_OK;
    }
    if (strcmp(text, "balanced") == 0) {
        o->class_weight_mode = GFUSE_CLASS_WEIGHTS_BALANCED;
        return GFUSE_OK;
    }
    int n = 1;
    for (const char *q = text; *q; q++) n += *q == ',';
    double *w = gfuse_i_alloc(n, sizeof(double));
    if (!w) return gfuse_i_nomem("the class weights");
    const char *q = text;
    for (int k = 0; k < n; k++) {
        char *end = NULL;
        w[k] = strtod(q, &end);
        if (end == q || (*end != ',' && *end != '\0') || !(w[k] > 0.0) || !isfinite(w[k])) {
            free(w);
            return gfuse_i_error(GFUSE_ERR_ARG,
                                 "%s must be none, balanced or positive numbers w1,w2,... (one "
                                 "per class), got '%s'",
                                 name, text);
        }
        q = end + (*end == ',');
    }
    o->class_weight_mode = GFUSE_CLASS_WEIGHTS_GIVEN;
    o->class_weights = w;
    o->n_class_weights = n;
    *owned = w;
    return GFUSE_OK;
}

char *gfuse_i_class_weights_text(const gfuse_train_options *o)
{
    if (o->class_weight_mode == GFUSE_CLASS_WEIGHTS_BALANCED) return gfuse_i_strdup("balanced");
    if (o->class_weight_mode != GFUSE_CLASS_WEIGHTS_GIVEN) return gfuse_i_strdup("none");
    size_t cap = (size_t)o->n_class_weights * 26 + 1;
    char *s = gfuse_i_alloc(cap, 1);
    if (!s) return NULL;
    size_t len = 0;
    for (int k = 0; k < o->n_class_weights; k++)
        len += (size_t)snprintf(s + len, cap - len, "%s%.17g", k ? "," : "", o->class_weights[k]);
    return s;
}
