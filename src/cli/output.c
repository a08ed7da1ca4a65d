/* output.c: how the tool writes results: output files (the library's writer) and their checks,
 * the SIGINT/SIGTERM handler that removes temporary files, JSON and CSV. */
#include "cli.h"
#include "core/utf8.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- output files: gfuse_output, the library's writer ---------------------------------- */

int cli_outfile_open(cli_outfile *o, const char *cmd, const char *path)
{
    memset(o, 0, sizeof *o);
    gfuse_status st = gfuse_output_open(&o->w, path);
    if (st != GFUSE_OK) return cli_fail(cmd, st);
    o->f = gfuse_output_stream(o->w);
    return 0;
}

int cli_outfile_commit(cli_outfile *o, const char *cmd)
{
    o->f = NULL;
    gfuse_status st = gfuse_output_commit(&o->w);
    return st == GFUSE_OK ? 0 : cli_fail(cmd, st);
}

void cli_outfile_abort(cli_outfile *o)
{
    gfuse_output_abort(&o->w);
    o->f = NULL;
}

int cli_inputs_collect(cli_inputs *in, const cli_cohort_args *ca, const gfuse_cohort *cohort,
                       const char *const *extra, int n_extra)
{
    memset(in, 0, sizeof *in);
    int m = cohort ? gfuse_cohort_n_modalities(cohort) : 0;
    int n_mod = ca && ca->modality_files ? ca->modality.n : 0;
    size_t cap = 7 + (size_t)m + (size_t)n_mod + (size_t)(n_extra > 0 ? n_extra : 0);
    if (!(in->path = calloc(cap, sizeof *in->path))) return -1;
    if (ca) {
        in->path[in->n++] = ca->labels;
        in->path[in->n++] = ca->split;
        in->path[in->n++] = ca->mask;
        if (ca->dir) { /* the files a cohort folder is read from by default */
            static const char *const dflt[4] = {"labels.csv", "labels.tsv", "split.csv",
                                                "split.tsv"};
            for (int k = 0; k < 4; k++) {
                size_t len = strlen(ca->dir) + strlen(dflt[k]) + 2;
                if (!(in->own[k] = malloc(len))) return -1;
                snprintf(in->own[k], len, "%s/%s", ca->dir, dflt[k]);
                in->path[in->n++] = in->own[k];
            }
        }
        for (int k = 0; k < n_mod; k++) in->path[in->n++] = ca->modality_files[k];
    }
    for (int k = 0; k < m; k++) in->path[in->n++] = gfuse_cohort_modality_file(cohort, k);
    for (int k = 0; k < n_extra; k++) in->path[in->n++] = extra[k];
    return 0;
}

void cli_inputs_free(cli_inputs *in)
{
    for (int k = 0; k < 4; k++) free(in->own[k]);
    free(in->path);
    memset(in, 0, sizeof *in);
}

int cli_outputs_check(const char *cmd, const cli_cohort_args *ca, const gfuse_cohort *cohort,
                      const char *const *extra_inputs, int n_extra, const char *const *outputs,
                      int n_outputs)
{
    cli_inputs in;
    if (cli_inputs_collect(&in, ca, cohort, extra_inputs, n_extra) != 0) {
        cli_inputs_free(&in);
        cli_error(cmd, "out of memory");
        return CLI_EXIT_FAILURE;
    }
    gfuse_status st = gfuse_outputs_check(outputs, n_outputs, in.path, in.n);
    cli_inputs_free(&in);
    return st == GFUSE_OK ? 0 : cli_fail(cmd, st);
}

/* ---- SIGINT and SIGTERM ----------------------------------------------------------------- */

volatile sig_atomic_t cli_signals_deferred_flag; /* the command stops cleanly by itself */
static volatile sig_atomic_t signals_seen;
static pthread_t main_thread; /* the one that handles the signals */

static void on_signal(int sig)
{
    /* a worker thread (OpenMP, BLAS) passes the signal on to the main thread, which may be
     * holding it while an output goes into place (gfuse_temp_hold) */
    if (!pthread_equal(pthread_self(), main_thread)) {
        pthread_kill(main_thread, sig);
        return;
    }
    gfuse_interrupt(sig);
    if (cli_signals_deferred_flag && signals_seen++ == 0) return; /* the command's next safe point */
    gfuse_temp_cleanup();
    _exit(128 + sig);
}

void cli_signals_install(void)
{
    main_thread = pthread_self();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* ---- JSON --------------------------------------------------------------------------------- */

void cli_json_init(cli_json *j, FILE *f)
{
    memset(j, 0, sizeof *j);
    j->f = f;
}

static void indent(cli_json *j)
{
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++) fputs("  ", j->f);
}

/* Separator and indentation before a value (or a key) at the current level. */
static void before_value(cli_json *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->depth > 0) {
        if (j->n_items[j->depth] > 0) fputc(',', j->f);
        indent(j);
    }
    j->n_items[j->depth]++;
}

/* A JSON string: quotes, backslashes and control characters escaped; a byte that does not
 * start a valid UTF-8 sequence (a path or a name given on the command line may hold any byte)
 * becomes \ufffd, the replacement character, as JSON text is UTF-8. */
static void write_escaped(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x80) {
            size_t len = gfuse_i_utf8_sequence(p, 4);
            if (len == 0) {
                fputs("\\ufffd", f);
            } else {
                fwrite(p, 1, len, f);
                p += len - 1;
            }
            continue;
        }
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

static void open_level(cli_json *j, char c)
{
    before_value(j);
    fputc(c, j->f);
    if (j->depth + 1 < CLI_JSON_MAX_DEPTH) j->depth++;
    j->n_items[j->depth] = 0;
}

static void close_level(cli_json *j, char c)
{
    int had_items = j->n_items[j->depth] > 0;
    if (j->depth > 0) j->depth--;
    if (had_items) indent(j);
    fputc(c, j->f);
}

void cli_json_begin_object(cli_json *j) { open_level(j, '{'); }
void cli_json_end_object(cli_json *j) { close_level(j, '}'); }
void cli_json_begin_array(cli_json *j) { open_level(j, '['); }
void cli_json_end_array(cli_json *j) { close_level(j, ']'); }

void cli_json_key(cli_json *j, const char *key)
{
    before_value(j);
    write_escaped(j->f, key);
    fputs(": ", j->f);
    j->after_key = 1;
}

void cli_json_string(cli_json *j, const char *s)
{
    before_value(j);
    write_escaped(j->f, s ? s : "");
}

void cli_json_int(cli_json *j, int64_t v)
{
    before_value(j);
    fprintf(j->f, "%lld", (long long)v);
}

void cli_format_double(char *buf, size_t size, double v)
{
    if (!isfinite(v)) {
        snprintf(buf, size, "NA");
        return;
    }
    snprintf(buf, size, "%.15g", v);
    if (strtod(buf, NULL) != v) snprintf(buf, size, "%.17g", v);
}

void cli_json_double(cli_json *j, double v)
{
    before_value(j);
    if (!isfinite(v)) {
        fputs("null", j->f);
        return;
    }
    char buf[40];
    cli_format_double(buf, sizeof buf, v);
    fputs(buf, j->f);
}

void cli_json_bool(cli_json *j, int v)
{
    before_value(j);
    fputs(v ? "true" : "false", j->f);
}

void cli_json_null(cli_json *j)
{
    before_value(j);
    fputs("null", j->f);
}

void cli_json_finish(cli_json *j) { fputc('\n', j->f); }

const cli_metric cli_class_metrics[] = {
    {"accuracy", offsetof(gfuse_class_metrics, accuracy)},
    {"balanced_accuracy", offsetof(gfuse_class_metrics, balanced_accuracy)},
    {"f1", offsetof(gfuse_class_metrics, f1)},
    {"f1_macro", offsetof(gfuse_class_metrics, f1_macro)},
    {"f1_weighted", offsetof(gfuse_class_metrics, f1_weighted)},
    {"auroc", offsetof(gfuse_class_metrics, auroc)},
    {"auprc", offsetof(gfuse_class_metrics, auprc)},
    {"brier", offsetof(gfuse_class_metrics, brier)},
    {"log_loss", offsetof(gfuse_class_metrics, log_loss)},
};
const int cli_n_class_metrics = (int)(sizeof cli_class_metrics / sizeof cli_class_metrics[0]);
const cli_metric cli_regress_metrics[] = {
    {"rmse", offsetof(gfuse_regress_metrics, rmse)},
    {"mae", offsetof(gfuse_regress_metrics, mae)},
    {"r2", offsetof(gfuse_regress_metrics, r2)},
};
const int cli_n_regress_metrics =
    (int)(sizeof cli_regress_metrics / sizeof cli_regress_metrics[0]);

double cli_metric_value(const cli_metric *metric, const void *m)
{
    double v;
    memcpy(&v, (const char *)m + metric->offset, sizeof v);
    return v;
}

void cli_json_class_metrics(cli_json *j, const gfuse_class_metrics *m)
{
    cli_json_key(j, "n");
    cli_json_int(j, m->n);
    for (int k = 0; k < cli_n_class_metrics; k++) {
        cli_json_key(j, cli_class_metrics[k].name);
        cli_json_double(j, cli_metric_value(&cli_class_metrics[k], m));
    }
    if (!m->confusion) return;
    int K = m->n_classes;
    cli_json_key(j, "confusion");
    cli_json_begin_array(j);
    for (int a = 0; a < K; a++) {
        cli_json_begin_array(j);
        for (int b = 0; b < K; b++) cli_json_int(j, m->confusion[a * K + b]);
        cli_json_end_array(j);
    }
    cli_json_end_array(j);
}

void cli_json_regress_metrics(cli_json *j, const gfuse_regress_metrics *m)
{
    cli_json_key(j, "n");
    cli_json_int(j, m->n);
    for (int k = 0; k < cli_n_regress_metrics; k++) {
        cli_json_key(j, cli_regress_metrics[k].name);
        cli_json_double(j, cli_metric_value(&cli_regress_metrics[k], m));
    }
}

/* ---- CSV ---------------------------------------------------------------------------------- */

void cli_csv_init(cli_csv *c, FILE *f, char sep)
{
    c->f = f;
    c->sep = sep;
    c->col = 0;
}

static void csv_separator(cli_csv *c)
{
    if (c->col++ > 0) fputc(c->sep, c->f);
}

void cli_csv_string(cli_csv *c, const char *s)
{
    csv_separator(c);
    if (!s) s = "";
    int quote = strchr(s, c->sep) || strchr(s, '"') || strchr(s, '\n') || strchr(s, '\r');
    if (!quote) {
        fputs(s, c->f);
        return;
    }
    fputc('"', c->f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', c->f);
        fputc(*s, c->f);
    }
    fputc('"', c->f);
}

void cli_csv_int(cli_csv *c, int64_t v)
{
    csv_separator(c);
    fprintf(c->f, "%lld", (long long)v);
}

void cli_csv_double(cli_csv *c, double v)
{
    csv_separator(c);
    if (isnan(v))
        fputs("NA", c->f);
    else
        fprintf(c->f, "%.9g", v);
}

void cli_csv_end_row(cli_csv *c)
{
    fputc('\n', c->f);
    c->col = 0;
}
