/* output.c: how the tool writes results: atomic output files, JSON and CSV. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- atomic output files ------------------------------------------------------------------ */

int cli_outfile_open(cli_outfile *o, const char *cmd, const char *path)
{
    memset(o, 0, sizeof *o);
    if (strcmp(path, "-") == 0) {
        o->f = stdout;
        return 0;
    }
    size_t n = strlen(path) + 32;
    o->path = malloc(strlen(path) + 1);
    o->tmp_path = malloc(n);
    if (!o->path || !o->tmp_path) {
        cli_outfile_abort(o);
        cli_error(cmd, "out of memory");
        return CLI_EXIT_FAILURE;
    }
    strcpy(o->path, path);
    snprintf(o->tmp_path, n, "%s.tmp.%ld", path, (long)getpid());
    o->f = fopen(o->tmp_path, "wb");
    if (!o->f) {
        int e = errno;
        cli_outfile_abort(o);
        cli_error(cmd, "%s: cannot create: %s", path, strerror(e));
        return CLI_EXIT_FAILURE;
    }
    return 0;
}

int cli_outfile_commit(cli_outfile *o, const char *cmd)
{
    if (!o->tmp_path) { /* stdout */
        int bad = fflush(o->f) != 0 || ferror(o->f);
        o->f = NULL;
        if (bad) {
            cli_error(cmd, "writing to standard output failed");
            return CLI_EXIT_FAILURE;
        }
        return 0;
    }
    int bad = ferror(o->f);
    errno = 0;
    if (fflush(o->f) != 0) bad = 1;
    int e = errno;
    if (fclose(o->f) != 0) bad = 1;
    o->f = NULL;
    if (bad) {
        cli_error(cmd, "%s: write failed: %s", o->path, strerror(e ? e : EIO));
        cli_outfile_abort(o);
        return CLI_EXIT_FAILURE;
    }
    if (rename(o->tmp_path, o->path) != 0) {
        e = errno;
        cli_error(cmd, "%s: cannot rename into place: %s", o->path, strerror(e));
        cli_outfile_abort(o);
        return CLI_EXIT_FAILURE;
    }
    free(o->path);
    free(o->tmp_path);
    memset(o, 0, sizeof *o);
    return 0;
}

void cli_outfile_abort(cli_outfile *o)
{
    if (o->tmp_path) {
        if (o->f) fclose(o->f);
        remove(o->tmp_path);
    }
    free(o->path);
    free(o->tmp_path);
    memset(o, 0, sizeof *o);
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

static void write_escaped(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
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

void cli_json_double(cli_json *j, double v)
{
    before_value(j);
    if (!isfinite(v)) {
        fputs("null", j->f);
        return;
    }
    /* The shortest of %.15g / %.17g that reads back as the same double. */
    char buf[40];
    snprintf(buf, sizeof buf, "%.15g", v);
    if (strtod(buf, NULL) != v) snprintf(buf, sizeof buf, "%.17g", v);
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
