/*
 * csv.h: reading delimited text (CSV and TSV) the way cohort files need it.
 *
 * Three layers:
 *  - gfuse_i_csv, a streaming tokenizer over a fixed read buffer: RFC 4180 quoting (quoted
 *    fields, "" escapes, delimiters and newlines inside quotes), LF, CRLF and CR line ends, a
 *    UTF-8 byte-order mark, the delimiter chosen by extension (.csv, .tsv, .tab) or by sniffing
 *    the header line. Empty lines are skipped. Surrounding blanks of unquoted fields are
 *    dropped. It never holds more than one buffer and one field of the file.
 *  - gfuse_i_parse_float / gfuse_i_parse_double: strict decimal numbers, missing-value tokens
 *    (empty, NA, N/A, NaN in any case) and infinities told apart.
 *  - gfuse_i_read_matrix (id column + numeric features, read in two passes straight into an
 *    exactly sized float array) and gfuse_i_read_table (id column + string cells), which check
 *    the header, ragged rows, empty and duplicate ids and report "FILE:LINE:COLUMN: ..." errors.
 * Strings that outlive a read (ids, names, cells) live in a gfuse_i_strpool: a list of blocks
 * that never move, so one allocation holds many strings and pointers into it stay valid.
 */
#ifndef GFUSE_CSV_H
#define GFUSE_CSV_H

#include "core/internal.h"

#include <stdio.h>

/* ---- string pool --------------------------------------------------------------------------- */

typedef struct gfuse_i_strpool gfuse_i_strpool;

gfuse_i_strpool *gfuse_i_strpool_new(void);
void gfuse_i_strpool_free(gfuse_i_strpool *pool);
/* A NUL-terminated copy of s[0..n) that lives as long as the pool; NULL when out of memory. */
char *gfuse_i_strpool_add(gfuse_i_strpool *pool, const char *s, size_t n);
/* Moves every block of src into dst (strings keep their addresses) and frees src. */
void gfuse_i_strpool_absorb(gfuse_i_strpool *dst, gfuse_i_strpool *src);

/* ---- tokenizer -------------------------------------------------------------------------------- */

/* One field, valid until the next call to gfuse_i_csv_next. */
typedef struct {
    const char *s; /* NUL-terminated contents (quotes removed, "" unescaped) */
    size_t n;      /* length, excluding the NUL */
    int quoted;    /* 1 when the field was written in quotes */
    int64_t line;  /* physical line the field starts on (1-based) */
    int64_t col;   /* its field number within the record (1-based) */
    int last;      /* 1 when it ends its record */
} gfuse_i_csv_field;

typedef struct gfuse_i_csv gfuse_i_csv;

/* Opens path for reading and picks the delimiter. GFUSE_ERR_IO naming the file on failure. */
gfuse_status gfuse_i_csv_open(gfuse_i_csv **out, const char *path);
void gfuse_i_csv_close(gfuse_i_csv *r);
/* The next field: 1 when one was read, 0 at the end of the input, or a negative gfuse_status
 * (an unterminated quote or stray text after a closing quote is GFUSE_ERR_DATA). */
int gfuse_i_csv_next(gfuse_i_csv *r, gfuse_i_csv_field *field);
/* Counts the records from the start of the file (the header included), then rewinds so that
 * gfuse_i_csv_next starts again at the first record. Fast: it only tracks quotes. */
gfuse_status gfuse_i_csv_count_records(gfuse_i_csv *r, int64_t *n_records);

/* ---- numbers ---------------------------------------------------------------------------------- */

typedef enum {
    GFUSE_I_NUM_OK = 0,      /* a finite number */
    GFUSE_I_NUM_MISSING = 1, /* empty, NA, N/A or NaN (any case): the value is NaN */
    GFUSE_I_NUM_BAD = 2,     /* not a number */
    GFUSE_I_NUM_INF = 3      /* inf, infinity, or a number too large for the type */
} gfuse_i_num;

/* Whether s[0..n) is a missing-value token. */
int gfuse_i_is_missing(const char *s, size_t n);
/* Parses s[0..n) (no surrounding blanks; s[n] must be readable) as the float nearest to the
 * decimal value: [+-] digits [. digits] [(e|E) [+-] digits]. A fast path covers numbers of up
 * to 19 significant digits and rounds exactly like strtof; others go through strtof. */
gfuse_i_num gfuse_i_parse_float(const char *s, size_t n, float *out);
/* The same for doubles (through strtod after the same syntax check). */
gfuse_i_num gfuse_i_parse_double(const char *s, size_t n, double *out);

/* ---- tables ----------------------------------------------------------------------------------- */

/* A numeric table: header "id,<feature names...>", one row per sample. */
typedef struct {
    int64_t d;             /* features */
    const char *id_column; /* the header's first name ("id" as a rule), in pool */
    char **feature;        /* d names, in pool */
    int64_t n_rows;
    char **row_id;         /* n_rows ids, in pool */
    float *x;              /* n_rows x d, row-major; NaN = missing cell */
    gfuse_i_strpool *pool; /* owns every string above */
} gfuse_i_matrix;

/* Reads a numeric table. Errors: GFUSE_ERR_IO (cannot open or read), GFUSE_ERR_DATA with
 * "FILE:LINE:COLUMN: ..." (empty file, missing header, duplicate feature name, empty or
 * duplicate id, ragged row, non-numeric or infinite cell, quoting). m is left empty on failure. */
gfuse_status gfuse_i_read_matrix(const char *path, gfuse_i_matrix *m);
void gfuse_i_matrix_free(gfuse_i_matrix *m);

/* A table of strings: header "id,<column names...>", one row per id. */
typedef struct {
    int64_t n_cols;        /* columns, the id column included */
    char **header;         /* n_cols names, in pool */
    int64_t n_rows;
    char **cell;           /* n_rows x n_cols, row-major (column 0 = id), in pool */
    int64_t *line;         /* n_rows: the line each row starts on */
    gfuse_i_strpool *pool;
} gfuse_i_table;

/* Reads a string table whose header has exactly n_cols columns (0: at least 2). what names the
 * expected header in messages, e.g. "id,label". Same errors as gfuse_i_read_matrix, without the
 * numeric checks. */
gfuse_status gfuse_i_read_table(const char *path, int64_t n_cols, const char *what,
                                gfuse_i_table *t);
void gfuse_i_table_free(gfuse_i_table *t);

#endif
