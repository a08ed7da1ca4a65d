/*
 * internal.h: what the library's files share and do not export.
 * Naming: public symbols gfuse_*, internal cross-file symbols gfuse_i_*, file-local static.
 */
#ifndef GFUSE_INTERNAL_H
#define GFUSE_INTERNAL_H

#include "config.h"
#include "gfuse.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Records the message of a failure (printf-style) for gfuse_last_error() and returns status,
 * so that a failure path reads: return gfuse_i_error(GFUSE_ERR_ARG, "k must be ..., got %d", k); */
gfuse_status gfuse_i_error(gfuse_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same, with a "FILE:LINE:COLUMN: " prefix (line/column 0 are left out). */
gfuse_status gfuse_i_error_at(gfuse_status status, const char *file, int64_t line, int64_t col,
                              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Out of memory, naming what was being allocated. */
gfuse_status gfuse_i_nomem(const char *what);
void gfuse_i_clear_error(void);

/* Whether gfuse_init has been called (and not finalised). */
bool gfuse_i_initialised(void);

/* Checks an argument at a public entry: fails with GFUSE_ERR_ARG naming the argument. */
#define GFUSE_CHECK_ARG(cond, ...)                                                      \
    do {                                                                               \
        if (!(cond)) return gfuse_i_error(GFUSE_ERR_ARG, __VA_ARGS__);                 \
    } while (0)

/* The cleanup idiom. A function that owns resources declares `gfuse_status st = GFUSE_OK;`,
 * initialises every resource to NULL (or empty) before its first TRY, and ends in one `done:`
 * block that releases them all (each release NULL-safe) and returns st:
 *     GFUSE_TRY(gfuse_i_samples_alloc(&s, n, M, d));      a call that returns a status
 *     GFUSE_TRY_MEM(x != NULL, "the features");           an allocation check
 *     GFUSE_FAIL(gfuse_i_error(GFUSE_ERR_ARG, "..."));     a failure found on the way */
#define GFUSE_TRY(call)                                                                  \
    do {                                                                               \
        if ((st = (call)) != GFUSE_OK) goto done;                                      \
    } while (0)
#define GFUSE_TRY_MEM(cond, what)                                                        \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            st = gfuse_i_nomem(what);                                                  \
            goto done;                                                                 \
        }                                                                              \
    } while (0)
#define GFUSE_FAIL(status)                                                               \
    do {                                                                               \
        st = (status);                                                                 \
        goto done;                                                                     \
    } while (0)

/* ---- cohort ---------------------------------------------------------------------------- */

typedef struct gfuse_i_idmap gfuse_i_idmap; /* string -> index hash map, util.h */
typedef struct gfuse_i_strpool gfuse_i_strpool; /* many strings in few blocks, csv.h */

typedef struct {
    char *name;
    char *file;          /* path it was read from, "" if built in memory */
    int64_t d;           /* number of features */
    char **feature;      /* d feature names (the strings live in the cohort's pool) */
    int64_t n_rows;      /* rows stored in x */
    float *x;            /* n_rows x d, row-major; NaN = missing cell */
    int64_t *row;        /* per sample: its row in x, or -1 when the file had none */
    uint8_t *present;    /* per sample: 1 when it has the modality (row, not all missing, not hidden) */
    int64_t n_missing_cells; /* NaN cells among present rows */
} gfuse_i_modality;

struct gfuse_cohort {
    int64_t n;           /* samples */
    char **id;           /* n ids (the strings live in the pool) */
    gfuse_i_idmap *index;/* id -> sample */
    gfuse_i_strpool *strings; /* owns the ids and feature names */
    int m;               /* modalities */
    gfuse_i_modality *mod;
    gfuse_task task;     /* AUTO when unlabelled */
    int n_classes;
    char **class_name;   /* n_classes */
    int32_t *label;      /* n, -1 = none (classification) */
    double *target;      /* n, NaN = none (regression) */
    uint8_t *split;      /* n gfuse_split values */
    int has_split;
    int64_t n_warnings;
    char **warning;
};

/* Appends a warning (printf-style) to the cohort. Returns GFUSE_OK or GFUSE_ERR_NOMEM. */
gfuse_status gfuse_i_cohort_warn(gfuse_cohort *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The cohort gfuse_synth_write writes, built in memory instead of files (src/cohort/synth.c):
 * the same values, missing rows, labels and split as reading the folder back; feature names
 * f1..fd. */
gfuse_status gfuse_i_synth_cohort(gfuse_cohort **out, const gfuse_synth_options *opts);

#endif
