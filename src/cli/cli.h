/*
 * cli.h: what the gfuse command-line tool's files share. Only src/cli/ prints and exits.
 *
 * A command is a function `int cmd_NAME(int argc, char **argv)` (argv[0] is the command name)
 * that returns the process exit code. It describes its options in a table of cli_option
 * entries ending with CLI_END, hands the table to cli_parse, which also writes
 * `gfuse NAME --help` from it, and reports library failures with cli_fail:
 *
 *     int cmd_example(int argc, char **argv)
 *     {
 *         cli_cohort_args ca;
 *         cli_cohort_args_init(&ca);
 *         int k = 10, json = 0;
 *         cli_option opts[] = {
 *             CLI_COHORT_OPTIONS(&ca),
 *             {.name = "k", .kind = CLI_INT, .dest = &k, .metavar = "K", .bounds = CLI_MIN,
 *              .min = 1, .help = "neighbours per node"},
 *             {.name = "json", .kind = CLI_FLAG, .dest = &json, .help = "print JSON"},
 *             CLI_END};
 *         cli_spec spec = {.name = "example", .synopsis = "--cohort DIR [--k K]",
 *                          .description = "What it does, in a sentence.", .options = opts};
 *         gfuse_cohort *cohort = NULL;
 *         int rc;
 *         if (!cli_parse_command(&spec, argc, argv, &rc)) goto done;
 *         rc = cli_cohort_load("example", &ca, &cohort);   // prints errors and warnings
 *         ...
 *     done:
 *         gfuse_cohort_free(&cohort);
 *         cli_cohort_args_free(&ca);
 *         return rc;
 *     }
 *
 * Exit codes (README.md, "Exit codes"): 0 success, 1 runtime failure, 2 usage error, 3 bad
 * input.
 */
#ifndef GFUSE_CLI_H
#define GFUSE_CLI_H

/* clock_gettime, fileno, isatty, mkdtemp: include cli.h before any system header. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "gfuse.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAILURE = 1, CLI_EXIT_USAGE = 2, CLI_EXIT_DATA = 3 };

/* ---- commands: one declaration each here, and one line each in main.c's table ---- */
int cmd_inspect(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_graph(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_impute(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_cv(int argc, char **argv);
int cmd_mask(int argc, char **argv);
int cmd_report(int argc, char **argv);
/* ---- end of commands ---- */

/* ---- options --------------------------------------------------------------------------- */

typedef enum {
    CLI_FLAG,   /* int *: set to 1 when given; takes no value */
    CLI_STRING, /* const char **: the argument itself (borrowed from argv) */
    CLI_INT,    /* int * */
    CLI_INT64,  /* int64_t * */
    CLI_UINT64, /* uint64_t * (seeds) */
    CLI_DOUBLE, /* double *: finite */
    CLI_CHOICE, /* int *: index of the value in .choices, "a|b|c" */
    CLI_LIST    /* cli_list *: repeatable; every value is appended */
} cli_kind;

/* Which of .min / .max bound a numeric option: inclusive (CLI_MIN, CLI_MAX) or exclusive. */
enum { CLI_MIN = 1, CLI_MAX = 2, CLI_MIN_OPEN = 4, CLI_MAX_OPEN = 8 };

typedef struct {
    const char *name;    /* long name without the dashes: "k" is --k */
    cli_kind kind;
    void *dest;          /* where the value goes; its initial value is the default */
    const char *metavar; /* the value in help text: "FILE", "K" */
    const char *help;    /* one line */
    const char *def;     /* default as shown in help; NULL = derived from *dest */
    int bounds;          /* CLI_MIN | CLI_MAX (or CLI_MIN_OPEN, CLI_MAX_OPEN) for numbers */
    double min, max;
    const char *choices; /* CLI_CHOICE: "classify|regress" */
} cli_option;

#define CLI_END {.name = NULL}

typedef struct {
    const char **items;
    int n;
} cli_list;

void cli_list_free(cli_list *l);

typedef struct {
    const char *name;        /* the command: "inspect" */
    const char *synopsis;    /* the arguments after "gfuse NAME" on the usage line */
    const char *description; /* what the command does; may hold several lines */
    cli_option *options;     /* ends with CLI_END */
} cli_spec;

/* cli_parse's results. */
enum { CLI_PARSED = 0, CLI_HELP_SHOWN = -1 };

/* Parses argv[1..argc-1] ("--name value", "--name=value", flags; "-h"/"--help" anywhere prints
 * the help on stdout). Returns CLI_PARSED, CLI_HELP_SHOWN, or CLI_EXIT_USAGE after printing
 * what was wrong and a hint on stderr. Values of CLI_LIST options are allocated: free them
 * with cli_list_free (also after a failed parse). */
int cli_parse(const cli_spec *spec, int argc, char **argv);
/* The exit code for a cli_parse result other than CLI_PARSED (0 after help, 2 otherwise). */
int cli_parse_exit(int parse_result);
/* cli_parse for a command: returns 1 when the command goes on (*rc = CLI_EXIT_OK), 0 when it
 * stops with the exit code *rc (cli_parse_exit: 0 after help, 2 after a usage error). */
int cli_parse_command(const cli_spec *spec, int argc, char **argv, int *rc);
/* Writes `gfuse NAME --help` for spec. */
void cli_print_help(FILE *f, const cli_spec *spec);

/* Prints "gfuse CMD: message" and "Try 'gfuse CMD --help'." on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "gfuse CMD: message" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "gfuse: warning: message" on stderr. */
void cli_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- library status -> exit code ------------------------------------------------------- */

/* GFUSE_OK -> 0, GFUSE_ERR_DATA and GFUSE_ERR_MODEL -> 3, GFUSE_ERR_ARG -> 2, others -> 1. */
int cli_exit_code(gfuse_status status);
/* Prints "gfuse CMD: <gfuse_last_error()>" and returns cli_exit_code(status). */
int cli_fail(const char *cmd, gfuse_status status);
/* 0 when status is GFUSE_OK, else cli_fail(cmd, status). */
int cli_check(const char *cmd, gfuse_status status);

/* Sets gfuse's thread count for --threads T (0 = OMP_NUM_THREADS or all cores); a count above
 * gfuse_thread_limit is capped to it with a warning naming both. Returns 0 or an exit code. */
int cli_set_threads(const char *cmd, int threads);

/* ---- cohort options shared by every command that reads a cohort ------------------------- */

typedef struct {
    const char *dir;     /* --cohort DIR */
    cli_list modality;   /* --modality NAME=FILE, repeatable */
    const char *labels;  /* --labels FILE */
    const char *split;   /* --split FILE */
    const char *mask;    /* --mask FILE */
    int threads;         /* --threads T, 0 = OMP_NUM_THREADS or all cores */
    int quiet;           /* --quiet: no warnings or progress on stderr */
    gfuse_task task;     /* set by the command before cli_cohort_load (e.g. train --task) */
    /* Filled by cli_cohort_load: the NAME/FILE halves of --modality (owned here). */
    char **modality_names;
    char **modality_files;
} cli_cohort_args;

void cli_cohort_args_init(cli_cohort_args *ca);
void cli_cohort_args_free(cli_cohort_args *ca);

#define CLI_COHORT_OPTIONS(ca)                                                                  \
    {.name = "cohort", .kind = CLI_STRING, .dest = &(ca)->dir, .metavar = "DIR",                \
     .help = "cohort folder: <modality>.csv, labels.csv, split.csv"},                           \
    {.name = "modality", .kind = CLI_LIST, .dest = &(ca)->modality, .metavar = "NAME=FILE",     \
     .help = "add or replace a modality file (repeatable)"},                                    \
    {.name = "labels", .kind = CLI_STRING, .dest = &(ca)->labels, .metavar = "FILE",            \
     .help = "labels file id,label", .def = "DIR/labels.csv if present"},                       \
    {.name = "split", .kind = CLI_STRING, .dest = &(ca)->split, .metavar = "FILE",              \
     .help = "split file id,split (train/val/test)", .def = "DIR/split.csv if present"},        \
    {.name = "mask", .kind = CLI_STRING, .dest = &(ca)->mask, .metavar = "FILE",                \
     .help = "hide modalities: id,<modality...> with 1 = keep, 0 = hide", .def = "none"},       \
    {.name = "threads", .kind = CLI_INT, .dest = &(ca)->threads, .metavar = "T",                \
     .bounds = CLI_MIN, .min = 0, .help = "threads to use",                                     \
     .def = "0 = OMP_NUM_THREADS or all cores"},                                                \
    {.name = "quiet", .kind = CLI_FLAG, .dest = &(ca)->quiet,                                   \
     .help = "no progress or warnings on stderr"}

/* Sets the thread count, loads the cohort the options name and prints its warnings (unless
 * --quiet). Needs --cohort or at least one --modality. Returns 0, or the exit code after
 * printing the error as "gfuse CMD: ...". */
int cli_cohort_load(const char *cmd, cli_cohort_args *ca, gfuse_cohort **out);

/* ---- training options of the commands that train (train, bench) ------------------------- */

/* The flags come from the table of training options (model/options.h): each entry with a flag
 * becomes one cli_option writing into .to, with the entry's range, metavar and help line. */
#define CLI_MODEL_MAX_OPTIONS 128

typedef struct {
    gfuse_train_options to;      /* gfuse_train_options_init's defaults, then the options */
    const char *class_weights;   /* --class-weights: none, balanced or w1,w2,...; NULL: default */
    double *weights;             /* parsed from class_weights (owned) */
    int task;                    /* --task: 0 classify, 1 regress */
    int train_only;              /* the options of `gfuse train` alone are flags too */
    cli_option options[CLI_MODEL_MAX_OPTIONS]; /* the command's whole option list */
} cli_model_args;

void cli_model_args_init(cli_model_args *ma);
void cli_model_args_free(cli_model_args *ma);
/* The option list of a command that trains: `before`, the training options, then `after`
 * (both end with CLI_END). train_only: CLI_MODEL_TRAIN adds the options whose meaning
 * `gfuse train` alone gives (--task, --epochs, --patience, --ensemble, the checkpoints);
 * CLI_MODEL_NO_RUN leaves out the settings of one run (the checkpoints) again, for a command
 * that trains many models (cv). Returns ma->options, for cli_spec. */
enum { CLI_MODEL_TRAIN = 1, CLI_MODEL_NO_RUN = 2 };
cli_option *cli_model_args_options(cli_model_args *ma, int train_only, const cli_option *before,
                                   const cli_option *after);
/* After cli_parse: sets the task, parses --class-weights into ma->to and checks what one
 * option cannot check alone (--hidden a multiple of --heads). Returns 0, or the exit code after
 * printing the error as "gfuse CMD: ...". */
int cli_model_args_finish(const char *cmd, cli_model_args *ma);

/* ---- progress on stderr ------------------------------------------------------------------ */

/* A bar redrawn in place on a terminal; on a log, a plain line at most every `interval`
 * seconds (and at the end). Nothing at all when quiet. */
typedef struct {
    const char *what;
    int64_t total;    /* 0 when unknown: no percentage */
    int64_t done;     /* the last count reported */
    int quiet;
    int tty;
    double interval;  /* seconds between plain lines; default 5 */
    double start;
    double last;
    int drawn;        /* a bar is on screen and needs a newline */
} cli_progress;

void cli_progress_start(cli_progress *p, const char *what, int64_t total, int quiet);
/* Reports `done` units; extra (printf-style, may be NULL) is appended, e.g. "loss 0.412". */
void cli_progress_update(cli_progress *p, int64_t done, const char *extra, ...)
    __attribute__((format(printf, 3, 4)));
/* Prints the final state with the elapsed time. */
void cli_progress_finish(cli_progress *p, const char *extra, ...)
    __attribute__((format(printf, 2, 3)));
/* Seconds on a monotonic clock. */
double cli_now(void);

/* ---- output files: gfuse_output (include/gfuse.h) with the tool's messages ------------- */

typedef struct {
    FILE *f;         /* where to write: the temporary file, or stdout for "-" */
    gfuse_output *w;
} cli_outfile;

/* Opens path for writing ("-" = stdout). Returns 0, or prints "gfuse CMD: ..." and returns the
 * exit code (2 for a path that cannot be an output, 1 when it cannot be created). */
int cli_outfile_open(cli_outfile *o, const char *cmd, const char *path);
/* Checks for write errors, closes and renames into place. Returns 0 or prints and returns 1. */
int cli_outfile_commit(cli_outfile *o, const char *cmd);
/* Closes and removes the temporary file; safe after commit and on a zeroed struct. */
void cli_outfile_abort(cli_outfile *o);
/* The files a command reads: the cohort's (every modality file, labels, split, mask, and the
 * default labels/split names of --cohort DIR; cohort may be NULL) and extra (a --model). */
typedef struct {
    const char **path; /* n entries, some NULL */
    int n;
    char *own[4];
} cli_inputs;
/* 0, or -1 when out of memory (free it all the same). */
int cli_inputs_collect(cli_inputs *in, const cli_cohort_args *ca, const gfuse_cohort *cohort,
                       const char *const *extra, int n_extra);
void cli_inputs_free(cli_inputs *in);
/* Before the work: checks every output (NULL and "-" skipped) with gfuse_outputs_check against
 * the command's inputs: the cohort's files (every modality file, labels, split, mask; after
 * cli_cohort_load when cohort is not NULL) and extra_inputs (a --model to read). Returns 0, or
 * prints the refusal and returns the exit code (2: not a file, an input, two outputs on one
 * path; 1: its folder is missing or not writable). */
int cli_outputs_check(const char *cmd, const cli_cohort_args *ca, const gfuse_cohort *cohort,
                      const char *const *extra_inputs, int n_extra, const char *const *outputs,
                      int n_outputs);

/* ---- signals ---------------------------------------------------------------------------- */

/* Installs the SIGINT/SIGTERM handlers (main does): each calls gfuse_interrupt(sig); unless
 * the command declared it handles interrupts itself, the handler then removes the registered
 * temporary files (gfuse_temp_cleanup) and ends the program with _exit(128 + sig). A second
 * signal always does. */
void cli_signals_install(void);
/* on = 1: the running command polls gfuse_interrupted() and stops cleanly itself (training);
 * on = 0: back to the default, the handler ends the program. */
extern volatile sig_atomic_t cli_signals_deferred_flag;
static inline void cli_signals_deferred(int on) { cli_signals_deferred_flag = on != 0; }

/* ---- JSON writer: indented, strings escaped, non-finite numbers written as null --------- */

#define CLI_JSON_MAX_DEPTH 32

typedef struct {
    FILE *f;
    int depth;
    int n_items[CLI_JSON_MAX_DEPTH]; /* values written so far at each level */
    int after_key;
} cli_json;

void cli_json_init(cli_json *j, FILE *f);
void cli_json_begin_object(cli_json *j);
void cli_json_end_object(cli_json *j);
void cli_json_begin_array(cli_json *j);
void cli_json_end_array(cli_json *j);
void cli_json_key(cli_json *j, const char *key);
void cli_json_string(cli_json *j, const char *s);
void cli_json_int(cli_json *j, int64_t v);
void cli_json_double(cli_json *j, double v);
void cli_json_bool(cli_json *j, int v);
void cli_json_null(cli_json *j);
/* Ends the document with a newline. */
void cli_json_finish(cli_json *j);
/* The shortest of %.15g / %.17g that reads back as v (what cli_json_double writes); "NA" when
 * v is not finite. */
void cli_format_double(char *buf, size_t size, double v);

/* The metrics of gfuse_class_metrics and gfuse_regress_metrics by name, in output order (the
 * JSON and CSV of cv and predict --metrics). */
typedef struct {
    const char *name;
    size_t offset; /* of the double in its struct */
} cli_metric;
extern const cli_metric cli_class_metrics[];
extern const int cli_n_class_metrics;
extern const cli_metric cli_regress_metrics[];
extern const int cli_n_regress_metrics;
/* Metric k of the struct m. */
double cli_metric_value(const cli_metric *metric, const void *m);
/* Keys of the open object: "n", every metric, and for classification "confusion" (rows the
 * true class). */
void cli_json_class_metrics(cli_json *j, const gfuse_class_metrics *m);
void cli_json_regress_metrics(cli_json *j, const gfuse_regress_metrics *m);

/* ---- CSV writer (RFC 4180: fields with the separator, quotes, CR or LF are quoted) ------- */

typedef struct {
    FILE *f;
    char sep; /* ',' or '\t' */
    int col;  /* fields written in the current row */
} cli_csv;

void cli_csv_init(cli_csv *c, FILE *f, char sep);
void cli_csv_string(cli_csv *c, const char *s);
void cli_csv_int(cli_csv *c, int64_t v);
/* %.9g (exact for float32); NaN is written as NA. */
void cli_csv_double(cli_csv *c, double v);
void cli_csv_end_row(cli_csv *c);

/* ---- HTML pages with inline SVG charts (html.c): what `gfuse report` writes ------------- */

/* The length (1 to 4) of the valid UTF-8 sequence at s[0 .. avail), or 0 when none starts
 * there (a stray or missing continuation byte, an overlong form, a surrogate, > U+10FFFF). */
int cli_utf8_length(const char *s, size_t avail);
/* Writes s as HTML/SVG text or attribute value: & < > " ' as entities; a byte that does not
 * start valid UTF-8 and a control character other than tab, LF and CR as U+FFFD. NULL: nothing. */
void cli_html_escape(FILE *f, const char *s);
/* v with `digits` significant digits (%g); "NA" when not finite. */
void cli_html_number(FILE *f, double v, int digits);
/* A table: caption (may be NULL) and n column heads; cells hold escaped text, or numbers shown
 * with `digits` significant digits and kept exactly in data-value. */
void cli_html_table_begin(FILE *f, const char *caption, const char *const *head, int n);
void cli_html_table_end(FILE *f);
void cli_html_row_begin(FILE *f);
void cli_html_row_end(FILE *f);
void cli_html_cell_text(FILE *f, const char *s);
void cli_html_cell_number(FILE *f, double v, int digits);
void cli_html_cell_int(FILE *f, int64_t v);

/* One SVG chart inside a <figure>: a title on top, the plot area (px0..px1, py0..py1 in
 * pixels) showing data x0..x1, y0..y1, and a legend column on the right. */
typedef struct {
    FILE *f;
    double width, height;
    double px0, px1, py0, py1;
    double x0, x1, y0, y1;
    int no_x_ticks, no_y_ticks; /* set before cli_chart_axes for a categorical axis */
} cli_chart;

/* The k-th colour of a colour-blind-safe palette (cycles). */
const char *cli_chart_color(int k);
/* At most max_ticks round tick values (steps 1, 2, 2.5, 5 x 10^k) within [lo, hi]; returns
 * their number, and the step in *step (may be NULL). One tick (lo) when hi <= lo. */
int cli_nice_ticks(double lo, double hi, int max_ticks, double *ticks, double *step);
/* Opens the figure and the SVG (id: the figure's id, may be NULL; title: the chart's heading
 * and accessible name). */
void cli_chart_begin(cli_chart *c, FILE *f, const char *id, double width, double height,
                     const char *title);
void cli_chart_end(cli_chart *c);
/* The data range without axes (for charts that draw their own categories). */
void cli_chart_range(cli_chart *c, double x0, double x1, double y0, double y1);
/* The data range, grid, frame, tick labels and the axis titles. */
void cli_chart_axes(cli_chart *c, double x0, double x1, double y0, double y1,
                    const char *xlabel, const char *ylabel);
void cli_chart_axis_titles(cli_chart *c, const char *xlabel, const char *ylabel);
/* Pixel coordinates of data values. */
double cli_chart_x(const cli_chart *c, double x);
double cli_chart_y(const cli_chart *c, double y);
/* A polyline through the points (a non-finite point breaks it). */
void cli_chart_line(cli_chart *c, const double *x, const double *y, int64_t n, int color,
                    int dashed);
void cli_chart_segment(cli_chart *c, double xa, double ya, double xb, double yb, int color,
                       int dashed);
void cli_chart_points(cli_chart *c, const double *x, const double *y, int64_t n, int color,
                      double radius);
/* A rectangle in pixels, with a hover text (may be NULL). */
void cli_chart_rect(cli_chart *c, double px, double py, double w, double h, const char *fill,
                    const char *tooltip);
/* Text at pixel (px, py); anchor start, middle or end; cls a CSS class or NULL. */
void cli_chart_text(cli_chart *c, double px, double py, const char *anchor, const char *cls,
                    const char *text);
/* The legend column: names[k] with colour colors[k] (NULL: k), dashed[k] (may be NULL). */
void cli_chart_legend(cli_chart *c, const char *const *names, const int *colors,
                      const int *dashed, int n);

/* ---- JSON reader (json_read.c): strict RFC 8259, for the files gfuse wrote (cv --out) ---- */

typedef enum { CLI_JV_NULL, CLI_JV_BOOL, CLI_JV_NUMBER, CLI_JV_STRING, CLI_JV_ARRAY,
               CLI_JV_OBJECT } cli_jv_kind;

typedef struct cli_jv {
    cli_jv_kind kind;
    int line, column;      /* where the value starts, 1-based */
    int boolean;
    double number;
    char *string;          /* STRING: UTF-8, NUL-terminated (\u0000 is refused) */
    int64_t n;             /* ARRAY and OBJECT: items */
    struct cli_jv *items;
    char **keys;           /* OBJECT: n keys, unique */
} cli_jv;

#define CLI_JSON_READ_MAX_DEPTH 64

/* Parses text[0 .. len) as one JSON document into *out (free it with cli_jv_free). Strict:
 * no comments, trailing commas, NaN, leading zeros, duplicate keys, invalid UTF-8 or nesting
 * deeper than CLI_JSON_READ_MAX_DEPTH. Returns 0, or -1 with "LINE:COLUMN: what" in err
 * (and -2 when out of memory). */
int cli_json_parse(const char *text, size_t len, cli_jv *out, char *err, size_t err_size);
/* Reads and parses a file; err is "PATH:LINE:COLUMN: what" (-1), "PATH: why" when it cannot
 * be read (-3) or out of memory (-2). */
int cli_json_read_file(const char *path, cli_jv *out, char *err, size_t err_size);
void cli_jv_free(cli_jv *v);
/* The member called key of an object; NULL when v is no object or has no such key. */
const cli_jv *cli_jv_get(const cli_jv *v, const char *key);

#endif
