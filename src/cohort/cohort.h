/*
 * cohort.h: what the cohort files share (cohort.c: the handle, builder and accessors;
 * cohort_load.c: reading a cohort folder; inspect.c: missing-modality patterns; mask.c: protocol
 * masks).
 *
 * Ownership inside a gfuse_cohort: ids and feature names live in c->strings (one pool); every
 * other string and array is its own allocation, freed by gfuse_cohort_free.
 * present[i] of a modality is 1 when sample i has a row with at least one value and the row is
 * not hidden (mask file or gfuse_cohort_hide); the row itself stays in x either way.
 */
#ifndef GFUSE_COHORT_H
#define GFUSE_COHORT_H

#include "core/internal.h"
#include "core/view.h"

/* An empty cohort of n samples whose ids are still to be set: no modalities, labels -1,
 * targets NaN, split NONE, task AUTO, an empty string pool, no index. */
gfuse_status gfuse_i_cohort_alloc(gfuse_cohort **out, int64_t n);
/* Appends an empty modality slot (zeroed) and returns its index in *m. */
gfuse_status gfuse_i_cohort_add_slot(gfuse_cohort *c, int *m);
/* Recounts n_missing_cells of modality m over its present rows. */
void gfuse_i_modality_recount(const gfuse_cohort *c, gfuse_i_modality *mod);
/* 1 when every one of the d values is NaN. */
int gfuse_i_row_all_missing(const float *x, int64_t d);
/* 1 when sample i has a label for the task: a class (label >= 0) to classify, a number (not
 * NaN) to regress; 0 as well when the cohort has no labels of that kind. */
int gfuse_i_cohort_labelled(const gfuse_cohort *c, gfuse_task task, int64_t i);

/* The view of c (view.h): its value matrices, row maps and ids borrowed; presence (a sample
 * has modality m when present and it has a row) and the small arrays owned by the view, freed
 * with gfuse_i_view_release. c must outlive the view and stay unchanged while it is read. */
gfuse_status gfuse_i_cohort_view(gfuse_i_view *v, const gfuse_cohort *c);

/* Appends a warning that lists up to a few ids: "<head> \"a\", \"b\", ... (N in all)". */
typedef struct {
    int64_t count;
    char text[256]; /* the first ids, quoted and comma separated */
} gfuse_i_idlist;
void gfuse_i_idlist_add(gfuse_i_idlist *l, const char *id);
gfuse_status gfuse_i_cohort_warn_ids(gfuse_cohort *c, const gfuse_i_idlist *l, const char *head);

/* Reads labels (id,label) into c: classes for AUTO/CLASSIFY, targets for REGRESS. */
gfuse_status gfuse_i_cohort_read_labels(gfuse_cohort *c, const char *path, gfuse_task task);
/* Reads a split file (id,split). */
gfuse_status gfuse_i_cohort_read_split(gfuse_cohort *c, const char *path);
/* Reads a mask file (id,<modality...>) and hides the modalities it marks 0. */
gfuse_status gfuse_i_cohort_apply_mask(gfuse_cohort *c, const char *path);

#endif
