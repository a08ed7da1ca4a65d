/* report_inputs.c: the files `gfuse report` reads besides the model and the cohort: the
 * training log of `gfuse train --log` and the cross-validation JSON of `gfuse cv --out`,
 * checked so that a file that does not fit is refused naming its line and column. */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- training log ------------------------------------------------------------------------ */

static const char *const log_head[] = {"member",   "epoch",    "train_loss", "task_loss",
                                       "rec_loss", "val_loss", "val_metric", "seconds"};
enum { LOG_COLUMNS = 8 };

static int log_error(const char *path, int64_t line, int64_t column, const char *what)
{
    cli_error("report", "%s:%lld:%lld: %s", path, (long long)line, (long long)column, what);
    return CLI_EXIT_DATA;
}

/* A cell: a finite number, or NA / empty (NaN). Returns 0 or -1. */
static int parse_cell(const char *s, double *out)
{
    if (*s == '\0' || strcmp(s, "NA") == 0 || strcmp(s, "nan") == 0) {
        *out = NAN;
        return 0;
    }
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return *end == '\0' && errno == 0 && isfinite(*out) ? 0 : -1;
}

static int parse_log_line(const char *path, int64_t line_no, char *line, report_log_row *row)
{
    char *field[LOG_COLUMNS];
    size_t column[LOG_COLUMNS];
    int n = 0;
    char *p = line;
    while (1) {
        if (n == LOG_COLUMNS)
            return log_error(path, line_no, (int64_t)(p - line) + 1,
                             "more than the 8 columns of a training log");
        field[n] = p;
        column[n] = (size_t)(p - line) + 1;
        n++;
        char *comma = strchr(p, ',');
        if (!comma) break;
        *comma = '\0';
        p = comma + 1;
    }
    if (n < LOG_COLUMNS) {
        char msg[96];
        snprintf(msg, sizeof msg, "%d columns, a training log has 8 (%s...%s)", n, log_head[0],
                 log_head[LOG_COLUMNS - 1]);
        return log_error(path, line_no, (int64_t)strlen(line) + 1, msg);
    }
    double v[LOG_COLUMNS];
    for (int k = 0; k < LOG_COLUMNS; k++) {
        if (parse_cell(field[k], &v[k]) != 0 || (k < 2 && !(v[k] >= 1 && v[k] <= 1e9 &&
                                                             v[k] == floor(v[k])))) {
            char msg[200];
            snprintf(msg, sizeof msg, "column \"%s\": \"%.40s\" is not %s", log_head[k],
                     field[k], k < 2 ? "a whole number from 1" : "a number or NA");
            return log_error(path, line_no, (int64_t)column[k], msg);
        }
    }
    row->member = (int)v[0];
    row->epoch = (int)v[1];
    row->train_loss = v[2];
    row->task_loss = v[3];
    row->rec_loss = v[4];
    row->val_loss = v[5];
    row->val_metric = v[6];
    row->seconds = v[7];
    return 0;
}

int report_log_read(const char *path, report_log *log)
{
    memset(log, 0, sizeof *log);
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_error("report", "%s: cannot open the training log: %s", path, strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    char *line = NULL;
    size_t cap = 0;
    int64_t line_no = 0, row_cap = 0;
    int rc = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        line_no++;
        if ((size_t)len != strlen(line)) {
            rc = log_error(path, line_no, (int64_t)strlen(line) + 1, "NUL byte");
            break;
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        char *text = line;
        if (line_no == 1 && strncmp(text, "\xEF\xBB\xBF", 3) == 0) text += 3;
        if (line_no == 1) {
            char want[128] = "";
            for (int k = 0; k < LOG_COLUMNS; k++) {
                strcat(want, k ? "," : "");
                strcat(want, log_head[k]);
            }
            if (strcmp(text, want) != 0) {
                char msg[200];
                snprintf(msg, sizeof msg, "not a training log of gfuse train --log: the header "
                                          "must be %s", want);
                rc = log_error(path, 1, 1, msg);
                break;
            }
            continue;
        }
        if (*text == '\0') continue; /* a blank line, e.g. at the end */
        if (log->n == row_cap) {
            int64_t nc = row_cap ? row_cap * 2 : 256;
            report_log_row *rows = realloc(log->row, (size_t)nc * sizeof *rows);
            if (!rows) {
                cli_error("report", "out of memory reading %s", path);
                rc = CLI_EXIT_FAILURE;
                break;
            }
            log->row = rows;
            row_cap = nc;
        }
        if ((rc = parse_log_line(path, line_no, text, &log->row[log->n])) != 0) break;
        if (log->row[log->n].member > log->n_members) log->n_members = log->row[log->n].member;
        log->n++;
    }
    if (rc == 0 && ferror(f)) {
        cli_error("report", "%s: read error", path);
        rc = CLI_EXIT_FAILURE;
    }
    if (rc == 0 && line_no == 0) rc = log_error(path, 1, 1, "empty file, not a training log");
    if (rc == 0 && log->n == 0) rc = log_error(path, 2, 1, "the training log has no epoch row");
    free(line);
    fclose(f);
    if (rc != 0) report_log_free(log);
    return rc;
}

void report_log_free(report_log *log)
{
    free(log->row);
    memset(log, 0, sizeof *log);
}

/* ---- cross-validation JSON --------------------------------------------------------------- */

static const char *kind_name(cli_jv_kind k)
{
    static const char *const names[] = {"null", "a boolean", "a number",
                                        "a string", "an array", "an object"};
    return names[k];
}

/* "FILE:LINE:COLUMN: WHERE: what" for value v (or its parent when v is NULL). */
static int cv_error(const char *path, const cli_jv *v, const char *where, const char *what)
{
    cli_error("report", "%s:%d:%d: %s: %s", path, v ? v->line : 1, v ? v->column : 1, where,
              what);
    return CLI_EXIT_DATA;
}

/* The member key of obj, of kind want (numbers may also be null); NULL after the message. */
static const cli_jv *cv_member(const char *path, const cli_jv *obj, const char *where,
                               const char *key, cli_jv_kind want, int *rc)
{
    const cli_jv *v = cli_jv_get(obj, key);
    char what[160];
    if (!v) {
        snprintf(what, sizeof what, "no key \"%s\" (not the JSON of gfuse cv --out?)", key);
        *rc = cv_error(path, obj, where, what);
        return NULL;
    }
    if (v->kind != want && !(want == CLI_JV_NUMBER && v->kind == CLI_JV_NULL)) {
        snprintf(what, sizeof what, "\"%s\" must be %s, found %s", key, kind_name(want),
                 kind_name(v->kind));
        *rc = cv_error(path, v, where, what);
        return NULL;
    }
    return v;
}

/* The member key of obj: a whole number in [lo, hi] (what the page turns into an integer);
 * NULL after the message. */
static const cli_jv *cv_whole(const char *path, const cli_jv *obj, const char *where,
                              const char *key, double lo, double hi, int *rc)
{
    const cli_jv *v = cv_member(path, obj, where, key, CLI_JV_NUMBER, rc);
    if (!v) return NULL;
    if (v->kind != CLI_JV_NUMBER || !(v->number >= lo && v->number <= hi) ||
        v->number != floor(v->number)) {
        char what[160];
        snprintf(what, sizeof what, "\"%s\" must be a whole number from %.0f to %.0f", key, lo,
                 hi);
        *rc = cv_error(path, v, where, what);
        return NULL;
    }
    return v;
}

double report_cv_metric(const cli_jv *obj, const char *key)
{
    const cli_jv *v = cli_jv_get(obj, key);
    return v && v->kind == CLI_JV_NUMBER ? v->number : NAN;
}

/* A fold (is_fold) or pool entry: an object with "repeat", "n" (and "fold"), numeric metrics
 * and, for classification, a K x K "confusion" of whole numbers. */
static int cv_check_entry(const char *path, const report_cv *cv, const cli_jv *e,
                          const char *where, int is_fold)
{
    int rc = 0;
    if (e->kind != CLI_JV_OBJECT) return cv_error(path, e, where, "must be an object");
    if (!cv_whole(path, e, where, "repeat", 0, 1e6, &rc)) return rc;
    if (!cv_whole(path, e, where, "n", 0, 1e15, &rc)) return rc;
    if (is_fold && !cv_whole(path, e, where, "fold", 0, 1e6, &rc)) return rc;
    const char *metric = cv->classify ? "auroc" : "rmse";
    if (!cv_member(path, e, where, metric, CLI_JV_NUMBER, &rc)) return rc;
    if (!cv->classify) return 0;
    if (!cv_member(path, e, where, "accuracy", CLI_JV_NUMBER, &rc)) return rc;
    const cli_jv *conf = cv_member(path, e, where, "confusion", CLI_JV_ARRAY, &rc);
    if (!conf) return rc;
    char what[160];
    if (conf->n != cv->n_classes) {
        snprintf(what, sizeof what, "\"confusion\" has %lld rows for %d classes",
                 (long long)conf->n, cv->n_classes);
        return cv_error(path, conf, where, what);
    }
    for (int64_t a = 0; a < conf->n; a++) {
        const cli_jv *row = &conf->items[a];
        if (row->kind != CLI_JV_ARRAY || row->n != cv->n_classes) {
            snprintf(what, sizeof what, "\"confusion\" row %lld must be an array of %d counts",
                     (long long)a + 1, cv->n_classes);
            return cv_error(path, row, where, what);
        }
        for (int64_t b = 0; b < row->n; b++) {
            const cli_jv *x = &row->items[b];
            if (x->kind != CLI_JV_NUMBER || !(x->number >= 0 && x->number <= 1e15) ||
                x->number != floor(x->number))
                return cv_error(path, x, where, "a confusion count must be a whole number");
        }
    }
    return 0;
}

static int cv_check_result(const char *path, const report_cv *cv, const cli_jv *res,
                           int64_t k)
{
    char where[64];
    snprintf(where, sizeof where, "results[%lld]", (long long)k);
    if (res->kind != CLI_JV_OBJECT) return cv_error(path, res, where, "must be an object");
    int rc = 0;
    const cli_jv *rate = cv_member(path, res, where, "rate", CLI_JV_NUMBER, &rc);
    if (!rate) return rc;
    if (!(rate->kind == CLI_JV_NUMBER && rate->number >= 0 && rate->number < 1))
        return cv_error(path, rate, where, "\"rate\" must be a number in [0, 1)");
    if (!cv_member(path, res, where, "method", CLI_JV_STRING, &rc)) return rc;
    const char *summaries[] = {"fold_mean", "fold_sd", "pooled_mean", "pooled_sd"};
    for (int s = 0; s < 4; s++)
        if (!cv_member(path, res, where, summaries[s], CLI_JV_OBJECT, &rc)) return rc;
    const char *lists[] = {"folds", "pooled"};
    for (int l = 0; l < 2; l++) {
        const cli_jv *arr = cv_member(path, res, where, lists[l], CLI_JV_ARRAY, &rc);
        if (!arr) return rc;
        for (int64_t q = 0; q < arr->n; q++) {
            char sub[96];
            snprintf(sub, sizeof sub, "%s.%s[%lld]", where, lists[l], (long long)q);
            if ((rc = cv_check_entry(path, cv, &arr->items[q], sub, l == 0)) != 0) return rc;
        }
    }
    return 0;
}

int report_cv_read(const char *path, report_cv *cv)
{
    memset(cv, 0, sizeof *cv);
    char err[600];
    int prc = cli_json_read_file(path, &cv->root, err, sizeof err);
    if (prc != 0) {
        cli_error("report", "%s", err);
        return prc == -1 ? CLI_EXIT_DATA : CLI_EXIT_FAILURE; /* malformed: 3 */
    }
    const cli_jv *root = &cv->root;
    int rc = 0;
    if (root->kind != CLI_JV_OBJECT) {
        rc = cv_error(path, root, "the document", "must be an object (the JSON of gfuse cv --out)");
        goto fail;
    }
    const cli_jv *task = cv_member(path, root, "the document", "task", CLI_JV_STRING, &rc);
    if (!task) goto fail;
    if (strcmp(task->string, "classify") == 0) {
        cv->classify = 1;
    } else if (strcmp(task->string, "regress") != 0) {
        rc = cv_error(path, task, "the document", "\"task\" must be \"classify\" or \"regress\"");
        goto fail;
    }
    if (cv->classify) {
        const cli_jv *classes = cv_member(path, root, "the document", "classes", CLI_JV_ARRAY,
                                          &rc);
        if (!classes) goto fail;
        if (classes->n < 2 || classes->n > 100000) {
            rc = cv_error(path, classes, "the document", "\"classes\" must name 2 or more classes");
            goto fail;
        }
        cv->n_classes = (int)classes->n;
        cv->classes = malloc((size_t)cv->n_classes * sizeof *cv->classes);
        if (!cv->classes) goto nomem;
        for (int k = 0; k < cv->n_classes; k++) {
            if (classes->items[k].kind != CLI_JV_STRING) {
                rc = cv_error(path, &classes->items[k], "classes", "a class name must be a string");
                goto fail;
            }
            cv->classes[k] = classes->items[k].string;
        }
    }
    const cli_jv *folds = cv_whole(path, root, "the document", "folds", 1, 1e6, &rc);
    if (!folds) goto fail;
    const cli_jv *repeats = cv_whole(path, root, "the document", "repeats", 1, 1e6, &rc);
    if (!repeats) goto fail;
    cv->folds = (int)folds->number;
    cv->repeats = (int)repeats->number;
    const cli_jv *results = cv_member(path, root, "the document", "results", CLI_JV_ARRAY, &rc);
    if (!results) goto fail;
    if (results->n == 0) {
        rc = cv_error(path, results, "the document", "\"results\" is empty");
        goto fail;
    }
    cv->n_results = results->n;
    cv->result = malloc((size_t)results->n * sizeof *cv->result);
    if (!cv->result) goto nomem;
    for (int64_t k = 0; k < results->n; k++) {
        if ((rc = cv_check_result(path, cv, &results->items[k], k)) != 0) goto fail;
        cv->result[k] = &results->items[k];
    }
    return 0;
nomem:
    cli_error("report", "out of memory reading %s", path);
    rc = CLI_EXIT_FAILURE;
fail:
    report_cv_free(cv);
    return rc;
}

void report_cv_free(report_cv *cv)
{
    free(cv->classes);
    free(cv->result);
    cli_jv_free(&cv->root);
    memset(cv, 0, sizeof *cv);
}

int64_t report_cv_find(const report_cv *cv, const char *method, double rate)
{
    int64_t best = -1;
    for (int64_t k = 0; k < cv->n_results; k++) {
        const cli_jv *res = cv->result[k];
        if (strcmp(cli_jv_get(res, "method")->string, method) != 0) continue;
        double r = cli_jv_get(res, "rate")->number;
        if (rate >= 0) {
            if (r == rate) return k;
        } else if (best < 0 || r < cli_jv_get(cv->result[best], "rate")->number) {
            best = k;
        }
    }
    return best;
}
