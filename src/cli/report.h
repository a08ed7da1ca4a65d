/*
 * report.h: what the files of `gfuse report` share. cmd_report.c runs the command and writes
 * the page with its cohort, training and robustness sections; report_inputs.c reads the
 * training log (train --log) and the cross-validation JSON (cv --out); report_performance.c
 * writes the performance section, report_model.c the fusion attention and completion.
 */
#ifndef GFUSE_CLI_REPORT_H
#define GFUSE_CLI_REPORT_H

#include "cli.h"

/* One row of a training log: member,epoch,train_loss,task_loss,rec_loss,val_loss,val_metric,
 * seconds (member and epoch 1-based; NA cells are NaN). */
typedef struct {
    int member, epoch;
    double train_loss, task_loss, rec_loss, val_loss, val_metric, seconds;
} report_log_row;

typedef struct {
    report_log_row *row;
    int64_t n;
    int n_members; /* the largest member number */
} report_log;

/* Reads a training log written by `gfuse train --log`. Returns 0, or prints
 * "gfuse report: FILE:LINE:COLUMN: ..." and returns the exit code (1 when it cannot be read,
 * 3 when it is malformed). */
int report_log_read(const char *path, report_log *log);
void report_log_free(report_log *log);

/* A checked view of the JSON `gfuse cv --out` writes. */
typedef struct {
    int classify;
    int n_classes;
    const char **classes;  /* n_classes names (point into the JSON tree) */
    int folds, repeats;
    int64_t n_results;
    const cli_jv **result; /* n_results objects of "results", each checked */
    cli_jv root;
} report_cv;

/* Reads and checks a cv JSON file: the keys report needs, with their types (numbers may be
 * null, which is NaN). Returns 0, or prints "gfuse report: FILE:LINE:COLUMN: ..." and returns
 * the exit code. */
int report_cv_read(const char *path, report_cv *cv);
void report_cv_free(report_cv *cv);
/* Metric key of the object obj (a checked "fold_mean", "pooled_mean", fold...): its number,
 * NaN when null or absent. */
double report_cv_metric(const cli_jv *obj, const char *key);
/* The index of the first result of method at rate (-1: the lowest rate), or -1. */
int64_t report_cv_find(const report_cv *cv, const char *method, double rate);

/* What every section reads. */
typedef struct {
    FILE *f;
    const gfuse_model *model;
    const gfuse_cohort *cohort;
    gfuse_predictions pred;
    int classify;
    int K;              /* the model's classes (classify) */
    int M;              /* the model's modalities */
    int *cohort_mod;    /* M: the cohort's index of each model modality, or -1 */
    int32_t *label;     /* n: the sample's class as the model's index, -1 when unlabelled */
    double *target;     /* n: regression targets, NaN when unlabelled */
    uint64_t *present;  /* n: bit j set when the sample has model modality j (j < 64) */
    const report_log *log; /* NULL without --log */
    const report_cv *cv;   /* NULL without --cv */
    int chart_count;    /* charts written so far, for their ids */
    /* report_evaluate: the samples scored (the labelled test samples, else every labelled
     * one) and the headline numbers: AUROC and accuracy, or RMSE and R2 */
    int64_t *eval;
    int64_t n_eval;
    int eval_test;
    double headline[2];
} report;

/* The first max_chars characters of UTF-8 text s, with "..." when cut, into buf. */
void report_utf8_prefix(const char *s, int max_chars, char *buf, size_t size);
/* malloc(n * size), at least one element. */
void *report_alloc(size_t n, size_t size);
/* Prints "gfuse report: out of memory"; returns CLI_EXIT_FAILURE. */
int report_out_of_memory(void);
/* The next chart's id ("chart-N"), written into buf. */
const char *report_chart_id(report *r, char *buf, size_t size);
/* The label of a presence bitset of the model's modalities: "mod1 + mod3", or "none". */
void report_pattern_label(const report *r, uint64_t bits, char *buf, size_t size);

/* Chooses the samples to score and computes the headline numbers (before the page is
 * written). Returns 0 or the exit code after printing the error. */
int report_evaluate(report *r);
/* The sections; each returns 0 or the exit code after printing the error. */
int report_performance(report *r); /* report_performance.c */
int report_attention(report *r);   /* report_model.c */
int report_completion(report *r);

/* Linear-interpolation quantile q of sorted x[0 .. n) (numpy's default, R's type 7). */
double report_quantile(const double *sorted, int64_t n, double q);
int report_compare_doubles(const void *a, const void *b);

#endif
