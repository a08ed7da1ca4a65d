/* options.h: the training options of gfuse_train_options in one table (options.c).
 *
 * Each entry names one option: its field of gfuse_train_options (which is also its key in a
 * model file's "hparams" section), its command-line flag, the name its error messages use, its
 * type, default and range, and the metavar and help line of `gfuse train --help`. From the
 * table come gfuse_train_options_init (the defaults), the range checks of gfuse_train with
 * their messages, the flags and help lines of `gfuse train` and `gfuse bench`, and the
 * hyperparameters a model file stores and reads back. The hparams section also holds a few
 * facts of the model that are no options (attention_dim, metric, references); they are table
 * entries too, without flag, so that the table alone fixes the order of the section.
 *
 * The functions below marked GFUSE_API are exported by the shared library for the gfuse tool
 * (which links it and sees only exported symbols); they are no part of the public API in
 * include/gfuse.h.
 */
#ifndef GFUSE_MODEL_OPTIONS_H
#define GFUSE_MODEL_OPTIONS_H

#include "gfuse.h"

#include <stddef.h>

typedef enum {
    GFUSE_OPT_INT,           /* int field */
    GFUSE_OPT_DOUBLE,        /* double field, finite */
    GFUSE_OPT_UINT64,        /* uint64_t field */
    GFUSE_OPT_TASK,          /* gfuse_task field; text classify|regress */
    GFUSE_OPT_CLASS_WEIGHTS, /* class_weight_mode, class_weights, n_class_weights; text
                                none|balanced|w1,w2,... */
    GFUSE_OPT_MODEL_INT,     /* no option: an int of the model (offset into gfuse_model),
                                stored and read back */
    GFUSE_OPT_MODEL_INT64,   /* no option: an int64_t of the model, stored only */
    GFUSE_OPT_CONST,         /* no option: the fixed text .constant, stored only */
    GFUSE_OPT_STRING,        /* const char * field, borrowed; NULL by default */
    GFUSE_OPT_FLAG           /* int field, 0 or 1; a flag without value */
} gfuse_opt_type;

/* Which bounds of .min / .max hold: closed (min <= v) or open (min < v). */
enum {
    GFUSE_OPT_MIN = 1,      /* v >= min */
    GFUSE_OPT_MAX = 2,      /* v <= max */
    GFUSE_OPT_MIN_OPEN = 4, /* v > min */
    GFUSE_OPT_MAX_OPEN = 8  /* v < max */
};

/* Flags of an entry. SHARED: a flag of every command that trains (train and bench);
 * TRAIN_ONLY: a flag of `gfuse train` alone (options whose meaning `gfuse bench` sets itself);
 * OPTIONAL: model files may lack the key (written before the option existed) and then read
 * the default; RUN: a setting of the run, not of the model (checkpoints): never stored in a
 * model file and free to differ when a training resumes. */
enum { GFUSE_OPT_SHARED = 0, GFUSE_OPT_TRAIN_ONLY = 1, GFUSE_OPT_OPTIONAL = 2, GFUSE_OPT_RUN = 4 };

typedef struct {
    gfuse_opt_type type;
    const char *key;      /* the field and the model-file key: "weight_decay" */
    const char *flag;     /* the command-line flag without dashes, "weight-decay"; NULL: none */
    const char *what;     /* the option in error messages: "weight decay" */
    size_t offset;        /* of the field in gfuse_train_options (gfuse_model for MODEL_*) */
    double def;           /* default (a gfuse_task or gfuse_class_weight_mode for those types) */
    double min, max;      /* bounds, as .range says */
    int range;            /* GFUSE_OPT_MIN | GFUSE_OPT_MAX | ..._OPEN, 0 = any value */
    const char *metavar;  /* the value in help text: "RATE" */
    const char *help;     /* the help line */
    int flags;            /* GFUSE_OPT_SHARED or GFUSE_OPT_TRAIN_ONLY, | GFUSE_OPT_OPTIONAL */
    const char *constant; /* CONST: the stored text */
} gfuse_train_option;

/* The table: entries 0 .. gfuse_train_option_count() - 1, in the order of the hparams
 * section. NULL when k is out of range. */
GFUSE_API int gfuse_train_option_count(void);
GFUSE_API const gfuse_train_option *gfuse_train_option_at(int k);

/* How gfuse_train_options_check names options in its messages. */
enum { GFUSE_OPT_BY_NAME = 0, GFUSE_OPT_BY_FLAG = 1 };

/* Checks every option against its range, then the rules between options (hidden a multiple of
 * heads). GFUSE_OK, or GFUSE_ERR_ARG with a message naming the option (by .what, or by
 * "--flag" with GFUSE_OPT_BY_FLAG) and its value: "dropout must be in [0, 1), got 1.5". */
GFUSE_API gfuse_status gfuse_train_options_check(const gfuse_train_options *o, int naming);

/* Parses class weights text, "none", "balanced" or positive numbers "w1,w2,...", into o (mode,
 * weights and count). The weights are malloc-ed into *owned (free it; NULL for none and
 * balanced), o->class_weights points there. GFUSE_ERR_ARG names the text and `name` (the
 * option as the caller calls it, "--class-weights"); GFUSE_ERR_NOMEM. */
GFUSE_API gfuse_status gfuse_train_options_parse_class_weights(gfuse_train_options *o,
                                                               const char *text,
                                                               const char *name, double **owned);

/* Writes v in the shortest %.Ng (N = 1..17) that strtod reads back as v: 0.005, 1e-12, 0.1. */
GFUSE_API void gfuse_format_double(char *buf, size_t size, double v);

/* The range of opt as words: "in 1..64", "at least 0", "in [0, 1)", "positive"; "" when any
 * value goes. */
void gfuse_i_option_range_text(char *buf, size_t size, const gfuse_train_option *opt);
/* Whether the number v lies in opt's range (and, for doubles, is finite). */
int gfuse_i_option_in_range(const gfuse_train_option *opt, double v);
/* The text of class weights as a model file stores them: "none", "balanced" or "w1,w2,..."
 * with 17 digits (malloc-ed; NULL when out of memory). */
char *gfuse_i_class_weights_text(const gfuse_train_options *o);

#endif
