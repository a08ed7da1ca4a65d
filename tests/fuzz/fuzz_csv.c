/*
 * fuzz_csv.c: the CSV/TSV reader (src/core/csv.c) on arbitrary bytes.
 *
 * Each input is read as a .csv file (comma), a .tsv file (tab) and a .txt file (delimiter
 * sniffed from the header), each through the numeric table reader, the string table reader and
 * the bare tokenizer with its record counter. The whole input is also parsed as one number; a
 * number the strict parser accepts must be the one strtof / strtod read.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include "core/csv.h"
#include "tests/fuzz/fuzz.h"

#include <math.h>

static void read_matrix(const char *path)
{
    gfuse_i_matrix m;
    gfuse_status st = gfuse_i_read_matrix(path, &m);
    fuzz_expect(st);
    if (st != GFUSE_OK) return;
    for (int64_t j = 0; j < m.d; j++) fuzz_touch(m.feature[j]);
    double sum = 0.0;
    for (int64_t i = 0; i < m.n_rows; i++) {
        fuzz_touch(m.row_id[i]);
        for (int64_t j = 0; j < m.d; j++) {
            float v = m.x[i * m.d + j];
            if (isinf(v)) abort(); /* infinite cells are errors */
            if (!isnan(v)) sum += v;
        }
    }
    (void)sum;
    gfuse_i_matrix_free(&m);
}

static void read_table(const char *path, int64_t n_cols)
{
    gfuse_i_table t;
    gfuse_status st = gfuse_i_read_table(path, n_cols, "id,<columns...>", &t);
    fuzz_expect(st);
    if (st != GFUSE_OK) return;
    if (t.n_cols < 2 || (n_cols > 0 && t.n_cols != n_cols)) abort();
    for (int64_t j = 0; j < t.n_cols; j++) fuzz_touch(t.header[j]);
    for (int64_t i = 0; i < t.n_rows * t.n_cols; i++) fuzz_touch(t.cell[i]);
    for (int64_t i = 0; i < t.n_rows; i++)
        if (t.line[i] < 2) abort();
    gfuse_i_table_free(&t);
}

static void tokenize(const char *path)
{
    gfuse_i_csv *r = NULL;
    gfuse_status st = gfuse_i_csv_open(&r, path);
    fuzz_expect(st);
    if (st != GFUSE_OK) return;
    int64_t records = 0, ends = 0;
    st = gfuse_i_csv_count_records(r, &records);
    fuzz_expect(st);
    if (st == GFUSE_OK) {
        gfuse_i_csv_field f;
        int k;
        while ((k = gfuse_i_csv_next(r, &f)) == 1) {
            /* a field may hold NUL bytes, but is terminated after its n bytes */
            if (fuzz_touch(f.s) > f.n || f.s[f.n] != '\0' || f.line < 1 || f.col < 1) abort();
            ends += f.last;
        }
        if (k < 0) fuzz_expect((gfuse_status)k);
        /* a well-formed file has as many record ends as records */
        if (k == 0 && ends != records) {
            fprintf(stderr, "fuzz: %lld records counted, %lld read\n", (long long)records,
                    (long long)ends);
            abort();
        }
    }
    gfuse_i_csv_close(r);
}

static void parse_number(const uint8_t *data, size_t size)
{
    if (size > 400) return;
    char s[401];
    memcpy(s, data, size);
    s[size] = '\0';
    float f;
    double d;
    char *end;
    (void)gfuse_i_is_missing(s, size);
    if (gfuse_i_parse_float(s, size, &f) == GFUSE_I_NUM_OK) {
        float ref = strtof(s, &end);
        if (end != s + size || memcmp(&f, &ref, sizeof f) != 0) {
            fprintf(stderr, "fuzz: \"%s\" parsed as float %.9g, strtof reads %.9g\n", s, f, ref);
            abort();
        }
    }
    if (gfuse_i_parse_double(s, size, &d) == GFUSE_I_NUM_OK) {
        double ref = strtod(s, &end);
        if (end != s + size || memcmp(&d, &ref, sizeof d) != 0) {
            fprintf(stderr, "fuzz: \"%s\" parsed as double %.17g, strtod reads %.17g\n", s, d,
                    ref);
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"in.csv", "in.tsv", "in.txt"};
    for (int k = 0; k < 3; k++) {
        const char *path = fuzz_write(names[k], data, size);
        read_matrix(path);
        read_table(path, 0);
        read_table(path, 2);
        tokenize(path);
    }
    parse_number(data, size);
    return 0;
}
