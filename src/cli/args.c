/* args.c: the option parser and help writer every command uses, error reporting and exit
 * codes, and the cohort options shared by the commands that read a cohort. */
#include "cli.h"

#include "model/options.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- messages ----------------------------------------------------------------------------- */

static void vreport(const char *prefix, const char *cmd, const char *fmt, va_list ap)
{
    if (cmd)
        fprintf(stderr, "%s %s: ", prefix, cmd);
    else
        fprintf(stderr, "%s: ", prefix);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("gfuse", cmd, fmt, ap);
    va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("gfuse", cmd, fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "Try 'gfuse %s --help'.\n", cmd);
    else
        fprintf(stderr, "Try 'gfuse --help'.\n");
    return CLI_EXIT_USAGE;
}

void cli_warning(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gfuse: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_exit_code(gfuse_status status)
{
    switch (status) {
    case GFUSE_OK: return CLI_EXIT_OK;
    case GFUSE_ERR_DATA:
    case GFUSE_ERR_MODEL: return CLI_EXIT_DATA;
    case GFUSE_ERR_ARG: return CLI_EXIT_USAGE;
    case GFUSE_ERR_INTERRUPTED: { /* 128 + the signal, as a shell reports a signalled job */
        int sig = gfuse_interrupted();
        return sig > 0 && sig < 64 ? 128 + sig : CLI_EXIT_FAILURE;
    }
    default: return CLI_EXIT_FAILURE;
    }
}

int cli_fail(const char *cmd, gfuse_status status)
{
    const char *msg = gfuse_last_error();
    cli_error(cmd, "%s", msg && *msg ? msg : gfuse_status_string(status));
    return cli_exit_code(status);
}

int cli_check(const char *cmd, gfuse_status status)
{
    return status == GFUSE_OK ? 0 : cli_fail(cmd, status);
}

/* ---- option values -------------------------------------------------------------------------- */

void cli_list_free(cli_list *l)
{
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

static int list_append(cli_list *l, const char *value)
{
    const char **items = realloc(l->items, ((size_t)l->n + 1) * sizeof *items);
    if (!items) return -1;
    items[l->n++] = value;
    l->items = items;
    return 0;
}

/* "an integer >= 1", "a number in [0, 1]", ... */
static void describe_expected(char *buf, size_t size, const cli_option *o)
{
    const char *what = o->kind == CLI_DOUBLE ? "a number" : "an integer";
    int lo = o->bounds & (CLI_MIN | CLI_MIN_OPEN), hi = o->bounds & (CLI_MAX | CLI_MAX_OPEN);
    if (lo && hi)
        snprintf(buf, size, "%s in %c%.15g, %.15g%c", what, lo == CLI_MIN ? '[' : '(', o->min,
                 o->max, hi == CLI_MAX ? ']' : ')');
    else if (lo)
        snprintf(buf, size, "%s %s %.15g", what, lo == CLI_MIN ? ">=" : ">", o->min);
    else if (hi)
        snprintf(buf, size, "%s %s %.15g", what, hi == CLI_MAX ? "<=" : "<", o->max);
    else
        snprintf(buf, size, "%s", what);
}

static int in_bounds(const cli_option *o, double v)
{
    if ((o->bounds & CLI_MIN) && v < o->min) return 0;
    if ((o->bounds & CLI_MAX) && v > o->max) return 0;
    if ((o->bounds & CLI_MIN_OPEN) && v <= o->min) return 0;
    if ((o->bounds & CLI_MAX_OPEN) && v >= o->max) return 0;
    return 1;
}

/* Index of value among "a|b|c", or -1. */
static int choice_index(const char *choices, const char *value)
{
    size_t len = strlen(value);
    int k = 0;
    for (const char *p = choices; *p; k++) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && strncmp(p, value, n) == 0) return k;
        if (!bar) break;
        p = bar + 1;
    }
    return -1;
}

/* The k-th alternative of "a|b|c" into buf. */
static void choice_name(char *buf, size_t size, const char *choices, int k)
{
    const char *p = choices;
    for (int i = 0; i < k && p; i++) {
        p = strchr(p, '|');
        if (p) p++;
    }
    if (!p) {
        snprintf(buf, size, "?");
        return;
    }
    const char *bar = strchr(p, '|');
    int n = bar ? (int)(bar - p) : (int)strlen(p);
    snprintf(buf, size, "%.*s", n, p);
}

static int set_value(const char *cmd, const cli_option *o, const char *value)
{
    char expected[128];
    char *end = NULL;
    switch (o->kind) {
    case CLI_FLAG:
        *(int *)o->dest = 1;
        return 0;
    case CLI_STRING:
        *(const char **)o->dest = value;
        return 0;
    case CLI_LIST:
        if (list_append((cli_list *)o->dest, value) != 0) {
            cli_error(cmd, "out of memory");
            return CLI_EXIT_FAILURE;
        }
        return 0;
    case CLI_CHOICE: {
        int k = choice_index(o->choices, value);
        if (k < 0)
            return cli_usage_error(cmd, "--%s: expected one of %s, got '%s'", o->name, o->choices,
                                   value);
        *(int *)o->dest = k;
        return 0;
    }
    case CLI_INT:
    case CLI_INT64: {
        errno = 0;
        long long v = strtoll(value, &end, 10);
        int ok = *value && end && *end == '\0' && errno == 0 && in_bounds(o, (double)v);
        if (ok && o->kind == CLI_INT && (v < -2147483647LL - 1 || v > 2147483647LL)) ok = 0;
        if (!ok) break;
        if (o->kind == CLI_INT)
            *(int *)o->dest = (int)v;
        else
            *(int64_t *)o->dest = (int64_t)v;
        return 0;
    }
    case CLI_UINT64: {
        errno = 0;
        unsigned long long v = strtoull(value, &end, 10);
        if (!*value || *value == '-' || *end != '\0' || errno != 0 || !in_bounds(o, (double)v))
            break;
        *(uint64_t *)o->dest = (uint64_t)v;
        return 0;
    }
    case CLI_DOUBLE: {
        errno = 0;
        double v = strtod(value, &end);
        if (!*value || *end != '\0' || errno != 0 || !isfinite(v) || !in_bounds(o, v)) break;
        *(double *)o->dest = v;
        return 0;
    }
    }
    describe_expected(expected, sizeof expected, o);
    return cli_usage_error(cmd, "--%s: expected %s, got '%s'", o->name, expected, value);
}

/* ---- parsing ------------------------------------------------------------------------------ */

static const cli_option *find_option(const cli_spec *spec, const char *name, size_t len)
{
    for (const cli_option *o = spec->options; o && o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) return o;
    return NULL;
}

int cli_parse(const cli_spec *spec, int argc, char **argv)
{
    /* Help wins over everything else on the line, so that it shows the true defaults. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_print_help(stdout, spec);
            return CLI_HELP_SHOWN;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
            return cli_usage_error(spec->name, "unexpected argument '%s'", arg);
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const cli_option *o = find_option(spec, name, len);
        if (!o) return cli_usage_error(spec->name, "unknown option '--%.*s'", (int)len, name);
        const char *value = NULL;
        if (o->kind == CLI_FLAG) {
            if (eq) return cli_usage_error(spec->name, "--%s takes no value", o->name);
        } else if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            return cli_usage_error(spec->name, "--%s needs a value (%s)", o->name,
                                   o->metavar ? o->metavar : "VALUE");
        }
        int rc = set_value(spec->name, o, value);
        if (rc != 0) return rc;
    }
    return CLI_PARSED;
}

int cli_parse_exit(int parse_result)
{
    return parse_result == CLI_HELP_SHOWN ? CLI_EXIT_OK : parse_result;
}

int cli_parse_command(const cli_spec *spec, int argc, char **argv, int *rc)
{
    int parsed = cli_parse(spec, argc, argv);
    *rc = parsed == CLI_PARSED ? CLI_EXIT_OK : cli_parse_exit(parsed);
    return parsed == CLI_PARSED;
}

/* ---- help --------------------------------------------------------------------------------- */

/* The default of o as help shows it, or "" when there is nothing to say. */
static void default_text(char *buf, size_t size, const cli_option *o)
{
    buf[0] = '\0';
    if (o->def) {
        snprintf(buf, size, "%s", o->def);
        return;
    }
    switch (o->kind) {
    case CLI_FLAG:
    case CLI_LIST: break;
    case CLI_STRING: {
        const char *s = *(const char *const *)o->dest;
        if (s) snprintf(buf, size, "%s", s);
        break;
    }
    case CLI_INT: snprintf(buf, size, "%d", *(const int *)o->dest); break;
    case CLI_INT64: snprintf(buf, size, "%lld", (long long)*(const int64_t *)o->dest); break;
    case CLI_UINT64:
        snprintf(buf, size, "%llu", (unsigned long long)*(const uint64_t *)o->dest);
        break;
    case CLI_DOUBLE: gfuse_format_double(buf, size, *(const double *)o->dest); break;
    case CLI_CHOICE: choice_name(buf, size, o->choices, *(const int *)o->dest); break;
    }
}

void cli_print_help(FILE *f, const cli_spec *spec)
{
    fprintf(f, "Usage: gfuse %s %s\n\n", spec->name, spec->synopsis ? spec->synopsis : "");
    if (spec->description) fprintf(f, "%s\n\n", spec->description);
    fprintf(f, "Options:\n");
    for (const cli_option *o = spec->options; o && o->name; o++) {
        char left[96], def[128];
        if (o->kind == CLI_FLAG)
            snprintf(left, sizeof left, "--%s", o->name);
        else if (o->kind == CLI_CHOICE && !o->metavar)
            snprintf(left, sizeof left, "--%s %s", o->name, o->choices);
        else
            snprintf(left, sizeof left, "--%s %s", o->name, o->metavar ? o->metavar : "VALUE");
        default_text(def, sizeof def, o);
        if (strlen(left) > 26)
            fprintf(f, "  %s\n  %-26s  %s", left, "", o->help ? o->help : "");
        else
            fprintf(f, "  %-26s  %s", left, o->help ? o->help : "");
        if (def[0]) fprintf(f, " (default: %s)", def);
        fputc('\n', f);
    }
    fprintf(f, "  %-26s  %s\n", "-h, --help", "show this help and exit");
    fprintf(f, "\nExit codes: 0 success, 1 runtime failure, 2 usage error, 3 bad input data.\n");
}

/* ---- cohort options ------------------------------------------------------------------------ */

void cli_cohort_args_init(cli_cohort_args *ca)
{
    memset(ca, 0, sizeof *ca);
    ca->task = GFUSE_TASK_AUTO;
}

void cli_cohort_args_free(cli_cohort_args *ca)
{
    for (int k = 0; k < ca->modality.n; k++) {
        if (ca->modality_names) free(ca->modality_names[k]);
        if (ca->modality_files) free(ca->modality_files[k]);
    }
    free(ca->modality_names);
    free(ca->modality_files);
    ca->modality_names = NULL;
    ca->modality_files = NULL;
    cli_list_free(&ca->modality);
}

static char *copy_span(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* Splits every --modality NAME=FILE into ca->modality_names / ca->modality_files. */
static int split_modality_args(const char *cmd, cli_cohort_args *ca)
{
    int n = ca->modality.n;
    if (n == 0) return 0;
    ca->modality_names = calloc((size_t)n, sizeof *ca->modality_names);
    ca->modality_files = calloc((size_t)n, sizeof *ca->modality_files);
    if (!ca->modality_names || !ca->modality_files) {
        cli_error(cmd, "out of memory");
        return CLI_EXIT_FAILURE;
    }
    for (int k = 0; k < n; k++) {
        const char *arg = ca->modality.items[k];
        const char *eq = strchr(arg, '=');
        if (!eq || eq == arg || eq[1] == '\0')
            return cli_usage_error(cmd, "--modality: expected NAME=FILE, got '%s'", arg);
        ca->modality_names[k] = copy_span(arg, (size_t)(eq - arg));
        ca->modality_files[k] = copy_span(eq + 1, strlen(eq + 1));
        if (!ca->modality_names[k] || !ca->modality_files[k]) {
            cli_error(cmd, "out of memory");
            return CLI_EXIT_FAILURE;
        }
    }
    return 0;
}

int cli_set_threads(const char *cmd, int threads)
{
    char why[160];
    int limit = gfuse_thread_limit(why, sizeof why);
    const char *env = getenv("OMP_NUM_THREADS");
    long wanted = threads > 0 ? threads : (env ? strtol(env, NULL, 10) : 0);
    if (wanted > limit) {
        if (threads > 0)
            cli_warning("--threads %d is more than %d (%s); using %d", threads, limit, why, limit);
        else
            cli_warning("OMP_NUM_THREADS asks for %ld threads, more than %d (%s); using %d", wanted,
                        limit, why, limit);
    }
    gfuse_status st = gfuse_set_threads(threads);
    if (st != GFUSE_OK) return cli_fail(cmd, st);
    return 0;
}

int cli_cohort_load(const char *cmd, cli_cohort_args *ca, gfuse_cohort **out)
{
    *out = NULL;
    if (!ca->dir && ca->modality.n == 0)
        return cli_usage_error(cmd, "no cohort given: use --cohort DIR or --modality NAME=FILE");
    int rc = split_modality_args(cmd, ca);
    if (rc != 0) return rc;
    if ((rc = cli_set_threads(cmd, ca->threads)) != 0) return rc;

    gfuse_cohort_options co;
    gfuse_cohort_options_init(&co);
    co.dir = ca->dir;
    co.modality_names = (const char *const *)ca->modality_names;
    co.modality_files = (const char *const *)ca->modality_files;
    co.n_modality_files = ca->modality.n;
    co.labels_file = ca->labels;
    co.split_file = ca->split;
    co.mask_file = ca->mask;
    co.task = ca->task;
    gfuse_status st = gfuse_cohort_load(out, &co);
    if (st != GFUSE_OK) return cli_fail(cmd, st);
    if (!ca->quiet) {
        int64_t nw = gfuse_cohort_n_warnings(*out);
        for (int64_t k = 0; k < nw; k++) cli_warning("%s", gfuse_cohort_warning(*out, k));
    }
    return 0;
}
