/*
 * check_reader.c: the CSV/TSV reader behind cohort loading (src/core/csv.c): syntax (quoting, NA
 * forms, byte-order mark, line ends, delimiters), number parsing against strtof, and every class
 * of bad input with the exact message it must give.
 */
#include "testutil.h"

#include "core/csv.h"

#include <math.h>
#include <stdint.h>

/* ---- helpers --------------------------------------------------------------------------------- */

/* Writes a one-modality cohort folder "c" holding file name with text, loads it. */
static gfuse_status load_text(const char *name, const char *text, gfuse_cohort **c)
{
    char rel[256];
    snprintf(rel, sizeof rel, "c/%s", name);
    tu_write(rel, text);
    gfuse_cohort_options o;
    gfuse_cohort_options_init(&o);
    o.dir = tu_path("c");
    *c = NULL;
    return gfuse_cohort_load(c, &o);
}

/* Loading name with text must fail with GFUSE_ERR_DATA and "<path><suffix>" as the message. */
static void expect_bad(const char *name, const char *text, const char *suffix)
{
    gfuse_cohort *c = (gfuse_cohort *)&c; /* must be reset to NULL */
    char rel[256], expected[2048];
    snprintf(rel, sizeof rel, "c/%s", name);
    ck_assert_int_eq(load_text(name, text, &c), GFUSE_ERR_DATA);
    ck_assert_ptr_null(c);
    snprintf(expected, sizeof expected, "%s%s", tu_path(rel), suffix);
    ck_assert_str_eq(gfuse_last_error(), expected);
}

/* A test whose cases each load text from m.csv, which must fail with message suffix. */
typedef struct {
    const char *text, *suffix;
} bad_input;

static void expect_bad_inputs(const bad_input *cases, size_t n)
{
    for (size_t k = 0; k < n; k++) expect_bad("m.csv", cases[k].text, cases[k].suffix);
}

#define BAD_INPUT_TEST(name, ...)                                                               \
    START_TEST(name)                                                                            \
    {                                                                                           \
        const bad_input cases_[] = {__VA_ARGS__};                                               \
        expect_bad_inputs(cases_, sizeof cases_ / sizeof cases_[0]);                            \
    }                                                                                           \
    END_TEST

static const float *row_of(const gfuse_cohort *c, const char *id)
{
    int64_t i = gfuse_cohort_find_sample(c, id);
    ck_assert_msg(i >= 0, "sample %s not found", id);
    return gfuse_cohort_values(c, i, 0);
}

/* Parses a number as gfuse does and as strtof does; both must give the same bits. */
static void expect_same_as_strtof(const char *s)
{
    float ours = 0, ref = strtof(s, NULL);
    ck_assert_int_eq(gfuse_i_parse_float(s, strlen(s), &ours), GFUSE_I_NUM_OK);
    uint32_t a, b;
    memcpy(&a, &ours, 4);
    memcpy(&b, &ref, 4);
    ck_assert_msg(a == b, "\"%s\": parsed %.9g (0x%08x), strtof gives %.9g (0x%08x)", s, ours, a,
                  ref, b);
}

/* ---- syntax ---------------------------------------------------------------------------------- */

START_TEST(test_plain_csv)
{
    gfuse_cohort *c;
    ck_assert_int_eq(load_text("m.csv", "id,a,b\nS1,1.5,-2\nS2,0.25,3e2\n", &c), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_n_samples(c), 2);
    ck_assert_int_eq(gfuse_cohort_n_features(c, 0), 2);
    ck_assert_str_eq(gfuse_cohort_feature_name(c, 0, 1), "b");
    ck_assert_str_eq(gfuse_cohort_sample_id(c, 1), "S2");
    const float *x = row_of(c, "S1");
    ck_assert_float_eq(x[0], 1.5f);
    ck_assert_float_eq(x[1], -2.0f);
    x = row_of(c, "S2");
    ck_assert_float_eq(x[0], 0.25f);
    ck_assert_float_eq(x[1], 300.0f);
    ck_assert_str_eq(gfuse_last_error(), "");
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_quoting)
{
    gfuse_cohort *c;
    const char *text = "\"id\",\"gene, one\",\"say \"\"hi\"\"\",\"multi\nline\"\n"
                       "\"S,1\",\"1.5\",2,\"\"\n"
                       "\"S\"\"2\",  \"3\" ,4,5\n"
                       "\"S\n3\",6,7,8\n";
    ck_assert_int_eq(load_text("m.csv", text, &c), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_n_samples(c), 3);
    ck_assert_str_eq(gfuse_cohort_feature_name(c, 0, 0), "gene, one");
    ck_assert_str_eq(gfuse_cohort_feature_name(c, 0, 1), "say \"hi\"");
    ck_assert_str_eq(gfuse_cohort_feature_name(c, 0, 2), "multi\nline");
    ck_assert_str_eq(gfuse_cohort_sample_id(c, 0), "S,1");
    ck_assert_str_eq(gfuse_cohort_sample_id(c, 1), "S\"2");
    ck_assert_str_eq(gfuse_cohort_sample_id(c, 2), "S\n3");
    const float *x = row_of(c, "S,1");
    ck_assert_float_eq(x[0], 1.5f);
    ck_assert(isnan(x[2]));
    x = row_of(c, "S\"2");
    ck_assert_float_eq(x[0], 3.0f);
    ck_assert_float_eq(row_of(c, "S\n3")[2], 8.0f);
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_na_forms)
{
    gfuse_cohort *c;
    const char *text = "id,a,b,c,d,e,f,g,h\n"
                       "S1,,NA,na,NaN,nan,N/A,\"\",NAN\n"
                       "S2,1,2,3,4,5,6,7,8\n";
    ck_assert_int_eq(load_text("m.csv", text, &c), GFUSE_OK);
    /* S1 is all missing: it lacks the modality and, with no other modality, is excluded. */
    ck_assert_int_eq(gfuse_cohort_n_samples(c), 1);
    ck_assert_int_eq(gfuse_cohort_find_sample(c, "S1"), -1);
    ck_assert_int_eq(gfuse_cohort_n_warnings(c), 1);
    ck_assert_str_eq(gfuse_cohort_warning(c, 0),
                     "samples with no value in any modality file are excluded: \"S1\"");
    gfuse_cohort_free(&c);

    ck_assert_int_eq(load_text("m.csv", "id,a,b,c\nS1,NA,2,\nS2,nan,N/A,3\n", &c), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_n_missing_cells(c, 0), 4);
    const float *x = row_of(c, "S1");
    ck_assert(isnan(x[0]) && x[1] == 2.0f && isnan(x[2]));
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_bom)
{
    gfuse_cohort *c;
    ck_assert_int_eq(load_text("m.csv", "\xEF\xBB\xBFid,a\nS1,1\n", &c), GFUSE_OK);
    ck_assert_str_eq(gfuse_cohort_sample_id(c, 0), "S1");
    gfuse_cohort_free(&c);
    /* With a byte-order mark and a quoted first header field. */
    ck_assert_int_eq(load_text("m.csv", "\xEF\xBB\xBF\"id\",a\nS1,1\n", &c), GFUSE_OK);
    ck_assert_str_eq(gfuse_cohort_feature_name(c, 0, 0), "a");
    gfuse_cohort_free(&c);
    /* Line numbers are not shifted by it. */
    expect_bad("m.csv", "\xEF\xBB\xBFid,a\nS1,x\n", ":2:2: column \"a\": \"x\" is not a number");
}
END_TEST

START_TEST(test_crlf)
{
    gfuse_cohort *c;
    ck_assert_int_eq(load_text("m.csv", "id,a,b\r\nS1,1,2\r\nS2,3,4\r\n", &c), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_n_samples(c), 2);
    ck_assert_str_eq(gfuse_cohort_feature_name(c, 0, 1), "b");
    ck_assert_float_eq(row_of(c, "S2")[1], 4.0f);
    gfuse_cohort_free(&c);
    expect_bad("m.csv", "id,a\r\nS1,1\r\n\r\nS2,oops\r\n",
               ":4:2: column \"a\": \"oops\" is not a number");
}
END_TEST

START_TEST(test_cr_only)
{
    gfuse_cohort *c;
    ck_assert_int_eq(load_text("m.csv", "id,a\rS1,1\rS2,2", &c), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_n_samples(c), 2);
    gfuse_cohort_free(&c);
    expect_bad("m.csv", "id,a\rS1,1\rS2,z\r", ":3:2: column \"a\": \"z\" is not a number");
}
END_TEST

START_TEST(test_tsv_extension)
{
    gfuse_cohort *c;
    ck_assert_int_eq(load_text("m.tsv", "id\ta,b\tc\nS,1\t1.5\t2\n", &c), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_n_features(c, 0), 2);
    ck_assert_str_eq(gfuse_cohort_feature_name(c, 0, 0), "a,b");
    ck_assert_str_eq(gfuse_cohort_sample_id(c, 0), "S,1");
    ck_assert_str_eq(gfuse_cohort_modality_name(c, 0), "m");
    gfuse_cohort_free(&c);
    expect_bad("m.tsv", "id\ta\tb\nS1\t1\n", ":2:3: row has 2 fields but the header has 3 "
                                             "(column \"b\" is missing)");
}
END_TEST

START_TEST(test_sniffing)
{
    gfuse_cohort_options o;
    gfuse_cohort *c = NULL;
    gfuse_cohort_options_init(&o);
    const char *names[] = {"tabs", "commas"};
    const char *files[] = {tu_write("tabs.txt", "id\tx,1\ty\nS1\t1\t2\n"),
                           tu_write("commas.dat", "id,\"x\ty\",z\nS1,1,2\n")};
    o.modality_names = names;
    o.modality_files = files;
    o.n_modality_files = 2;
    ck_assert_int_eq(gfuse_cohort_load(&c, &o), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_n_modalities(c), 2);
    /* sorted by name: commas, tabs */
    ck_assert_str_eq(gfuse_cohort_modality_name(c, 0), "commas");
    ck_assert_str_eq(gfuse_cohort_feature_name(c, 0, 0), "x\ty");
    ck_assert_str_eq(gfuse_cohort_feature_name(c, 1, 0), "x,1");
    ck_assert_int_eq(gfuse_cohort_n_features(c, 1), 2);
    gfuse_cohort_free(&c);

    /* the delimiter picked shows in how the first record splits */
    gfuse_i_csv *r = NULL;
    gfuse_i_csv_field f;
    ck_assert_int_eq(gfuse_i_csv_open(&r, tu_write("q.txt", "\"a\tb\",c,d\n1,2,3\n")), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_csv_next(r, &f), 1); /* ',': the quoted tab stays in the field */
    ck_assert_str_eq(f.s, "a\tb");
    ck_assert_int_eq(f.last, 0);
    ck_assert_int_eq(gfuse_i_csv_next(r, &f), 1);
    ck_assert_str_eq(f.s, "c");
    gfuse_i_csv_close(r);
    ck_assert_int_eq(gfuse_i_csv_open(&r, tu_write("t.TSV", "a,b,c\n")), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_csv_next(r, &f), 1); /* tab, by the extension: one field */
    ck_assert_str_eq(f.s, "a,b,c");
    ck_assert_int_eq(f.last, 1);
    gfuse_i_csv_close(r);
}
END_TEST

START_TEST(test_no_final_newline_and_blank_lines)
{
    gfuse_cohort *c;
    ck_assert_int_eq(load_text("m.csv", "\n\nid,a\n\nS1,1\n\n\nS2,2", &c), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_n_samples(c), 2);
    ck_assert_float_eq(row_of(c, "S2")[0], 2.0f);
    gfuse_cohort_free(&c);
    expect_bad("m.csv", "id,a\n\nS1,1\n\n\nS2,2,3", ":6:3: row has 3 fields but the header has 2");
}
END_TEST

START_TEST(test_blanks_trimmed)
{
    gfuse_cohort *c;
    ck_assert_int_eq(load_text("m.csv", "id , a ,\tb\n S1 , 1 ,\t2\t\n", &c), GFUSE_OK);
    ck_assert_str_eq(gfuse_cohort_feature_name(c, 0, 0), "a");
    ck_assert_str_eq(gfuse_cohort_feature_name(c, 0, 1), "b");
    ck_assert_str_eq(gfuse_cohort_sample_id(c, 0), "S1");
    ck_assert_float_eq(row_of(c, "S1")[1], 2.0f);
    gfuse_cohort_free(&c);
    /* Inside quotes blanks are kept. */
    ck_assert_int_eq(load_text("m.csv", "id,a\n\" S1 \",1\n", &c), GFUSE_OK);
    ck_assert_str_eq(gfuse_cohort_sample_id(c, 0), " S1 ");
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_stray_quote_is_literal)
{
    gfuse_cohort *c;
    ck_assert_int_eq(load_text("m.csv", "id,5\" screen\nS1,1\n", &c), GFUSE_OK);
    ck_assert_str_eq(gfuse_cohort_feature_name(c, 0, 0), "5\" screen");
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_tokenizer_positions)
{
    gfuse_i_csv *r = NULL;
    gfuse_i_csv_field f;
    const char *path = tu_write("t.csv", "a,\"b\nc\",d\r\n\r\ne,f\n");
    ck_assert_int_eq(gfuse_i_csv_open(&r, path), GFUSE_OK);
    int64_t n = -1;
    ck_assert_int_eq(gfuse_i_csv_count_records(r, &n), GFUSE_OK);
    ck_assert_int_eq(n, 2);
    const char *want[] = {"a", "b\nc", "d", "e", "f"};
    const int64_t line[] = {1, 1, 2, 4, 4}, col[] = {1, 2, 3, 1, 2};
    const int last[] = {0, 0, 1, 0, 1}, quoted[] = {0, 1, 0, 0, 0};
    for (int k = 0; k < 5; k++) {
        ck_assert_int_eq(gfuse_i_csv_next(r, &f), 1);
        ck_assert_str_eq(f.s, want[k]);
        ck_assert_int_eq(f.n, strlen(want[k]));
        ck_assert_int_eq(f.line, line[k]);
        ck_assert_int_eq(f.col, col[k]);
        ck_assert_int_eq(f.last, last[k]);
        ck_assert_int_eq(f.quoted, quoted[k]);
    }
    ck_assert_int_eq(gfuse_i_csv_next(r, &f), 0);
    ck_assert_int_eq(gfuse_i_csv_next(r, &f), 0);
    gfuse_i_csv_close(r);
}
END_TEST

START_TEST(test_count_records_quotes)
{
    gfuse_i_csv *r = NULL;
    int64_t n = -1;
    /* newlines and delimiters inside quotes, an escaped quote, a stray quote in an unquoted
     * field, a blank line and a whitespace-only line (a record of one empty field) */
    const char *path = tu_write("t.csv", "h1,h2\n\"x\n\n\",\"a\"\"\n\"\n5\"x,y\n\n  \nlast,\"\"");
    ck_assert_int_eq(gfuse_i_csv_open(&r, path), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_csv_count_records(r, &n), GFUSE_OK);
    ck_assert_int_eq(n, 5);
    int64_t records = 0;
    gfuse_i_csv_field f;
    int got;
    while ((got = gfuse_i_csv_next(r, &f)) == 1) records += f.last;
    ck_assert_int_eq(got, 0);
    ck_assert_int_eq(records, n);
    gfuse_i_csv_close(r);
}
END_TEST

/* Special rows placed across the 1 MiB read-buffer boundary at every offset near it. */
START_TEST(test_buffer_boundaries)
{
    const size_t boundary = 1 << 20;
    const char *specials[] = {"\"Q\nid\",\"1.25\"\r\n", "LONGID,123456.789\r\n",
                              "\"A\"\"B\",-0.5\n"};
    const char *special_ids[] = {"Q\nid", "LONGID", "A\"B"};
    const float special_values[] = {1.25f, 123456.789f, -0.5f};
    char *text = malloc(boundary + 4096);
    ck_assert_ptr_nonnull(text);
    for (int s = 0; s < 3; s++) {
        for (int shift = -6; shift <= 6; shift++) {
            size_t len = (size_t)sprintf(text, "id,v\n");
            int64_t rows = 0;
            size_t target = boundary + (size_t)shift - 3;
            while (len + 16 < target) {
                len += (size_t)sprintf(text + len, "r%06lld,%d\n", (long long)rows, (int)(rows % 7));
                rows++;
            }
            while (len < target) text[len++] = '\n'; /* pad with blank lines */
            len += (size_t)sprintf(text + len, "%s", specials[s]);
            len += (size_t)sprintf(text + len, "after,2\nbad,x\n");
            gfuse_cohort *c = NULL;
            char rel[64];
            snprintf(rel, sizeof rel, "c/m.csv");
            tu_write_bytes(rel, text, len);
            gfuse_cohort_options o;
            gfuse_cohort_options_init(&o);
            o.dir = tu_path("c");
            ck_assert_int_eq(gfuse_cohort_load(&c, &o), GFUSE_ERR_DATA);
            /* the error's line number counts every line before it */
            int64_t lines = 0; /* physical lines, a newline inside quotes included */
            for (size_t k = 0; k < len; k++) lines += text[k] == '\n';
            char want[1024];
            snprintf(want, sizeof want, "%s:%lld:2: column \"v\": \"x\" is not a number",
                     tu_path(rel), (long long)lines);
            ck_assert_str_eq(gfuse_last_error(), want);
            /* without the bad row it loads, and the special row is read whole */
            len -= strlen("bad,x\n");
            tu_write_bytes(rel, text, len);
            ck_assert_int_eq(gfuse_cohort_load(&c, &o), GFUSE_OK);
            ck_assert_int_eq(gfuse_cohort_n_samples(c), rows + 2);
            const float *x = row_of(c, special_ids[s]);
            ck_assert_float_eq(x[0], special_values[s]);
            ck_assert_float_eq(row_of(c, "after")[0], 2.0f);
            ck_assert_float_eq(row_of(c, "r000013")[0], 6.0f);
            gfuse_cohort_free(&c);
        }
    }
    free(text);
}
END_TEST

START_TEST(test_wide_file)
{
    const int64_t d = 100000;
    size_t cap = (size_t)d * 40 + 64; /* header ",g99999" and 3 rows of ",999.2" */
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    size_t len = (size_t)sprintf(text, "id");
    for (int64_t j = 0; j < d; j++) len += (size_t)sprintf(text + len, ",g%lld", (long long)j);
    for (int r = 0; r < 3; r++) {
        len += (size_t)sprintf(text + len, "\nS%d", r);
        for (int64_t j = 0; j < d; j++)
            len += (size_t)sprintf(text + len, ",%lld.%d", (long long)(j % 1000), r);
    }
    text[len++] = '\n';
    gfuse_cohort *c;
    tu_write_bytes("c/wide.csv", text, len);
    gfuse_cohort_options o;
    gfuse_cohort_options_init(&o);
    o.dir = tu_path("c");
    ck_assert_int_eq(gfuse_cohort_load(&c, &o), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_n_features(c, 0), d);
    ck_assert_str_eq(gfuse_cohort_feature_name(c, 0, d - 1), "g99999");
    const float *x = row_of(c, "S2");
    ck_assert_float_eq(x[d - 1], 999.2f);
    ck_assert_float_eq(x[12345], 345.2f);
    gfuse_cohort_free(&c);
    free(text);
}
END_TEST

/* ---- numbers --------------------------------------------------------------------------------- */

START_TEST(test_parse_float_syntax)
{
    const char *good[] = {"0",     "-0",    "+1",   "1.",   ".5",       "-.5e-3",
                          "1E5",   "1e+05", "007",  "0.000000000000000000000001",
                          "12345678901234567890123", "3.4028234e38", "1e-45", "1.17549435e-38"};
    for (size_t k = 0; k < sizeof good / sizeof *good; k++) expect_same_as_strtof(good[k]);
    const char *bad[] = {"abc", "1.2.3", "e5", "1e", "1e+", "--1", "+", ".", "0x10", "1,5",
                         "1 2", "nanx", "1f", "inf5"};
    float v;
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++)
        ck_assert_msg(gfuse_i_parse_float(bad[k], strlen(bad[k]), &v) == GFUSE_I_NUM_BAD,
                      "\"%s\" must not be a number", bad[k]);
    const char *inf[] = {"inf", "-Inf", "+INFINITY", "1e39", "-1e999", "3.5e38"};
    for (size_t k = 0; k < sizeof inf / sizeof *inf; k++)
        ck_assert_msg(gfuse_i_parse_float(inf[k], strlen(inf[k]), &v) == GFUSE_I_NUM_INF,
                      "\"%s\" must be infinite", inf[k]);
    const char *missing[] = {"", "NA", "na", "nA", "NaN", "nan", "NAN", "N/A", "n/a"};
    for (size_t k = 0; k < sizeof missing / sizeof *missing; k++) {
        ck_assert_int_eq(gfuse_i_parse_float(missing[k], strlen(missing[k]), &v),
                         GFUSE_I_NUM_MISSING);
        ck_assert(isnan(v));
    }
    ck_assert_int_eq(gfuse_i_parse_float("-0", 2, &v), GFUSE_I_NUM_OK);
    ck_assert(v == 0.0f && signbit(v));
    /* only the first n bytes count */
    ck_assert_int_eq(gfuse_i_parse_float("12x", 2, &v), GFUSE_I_NUM_OK);
    ck_assert_float_eq(v, 12.0f);
}
END_TEST

START_TEST(test_parse_double)
{
    double v;
    ck_assert_int_eq(gfuse_i_parse_double("0.1", 3, &v), GFUSE_I_NUM_OK);
    ck_assert(v == 0.1);
    ck_assert_int_eq(gfuse_i_parse_double("123456789012345678901", 21, &v), GFUSE_I_NUM_OK);
    ck_assert(v == strtod("123456789012345678901", NULL));
    ck_assert_int_eq(gfuse_i_parse_double("1e308", 5, &v), GFUSE_I_NUM_OK);
    ck_assert_int_eq(gfuse_i_parse_double("1e309", 5, &v), GFUSE_I_NUM_INF);
    ck_assert_int_eq(gfuse_i_parse_double("-inf", 4, &v), GFUSE_I_NUM_INF);
    ck_assert_int_eq(gfuse_i_parse_double("two", 3, &v), GFUSE_I_NUM_BAD);
    ck_assert_int_eq(gfuse_i_parse_double("NA", 2, &v), GFUSE_I_NUM_MISSING);
}
END_TEST

/* A small xorshift generator so the number tests need nothing else. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

START_TEST(test_parse_float_matches_strtof_9_digits)
{
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    char buf[64];
    for (int k = 0; k < 300000; k++) {
        uint64_t r = next_random(&s);
        long long mant = 100000000 + (long long)(r % 900000000);
        int e = (int)((r >> 32) % 90) - 50; /* 1e-50 .. 1e39: subnormals, overflow included */
        snprintf(buf, sizeof buf, "%s%lld.%lld", (r >> 40) & 1 ? "-" : "", mant / 100000000,
                 mant % 100000000);
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "e%d", e);
        float ref = strtof(buf, NULL), ours;
        gfuse_i_num st = gfuse_i_parse_float(buf, strlen(buf), &ours);
        if (isinf(ref)) {
            ck_assert_int_eq(st, GFUSE_I_NUM_INF);
            continue;
        }
        expect_same_as_strtof(buf);
    }
}
END_TEST

START_TEST(test_parse_float_round_trips)
{
    uint64_t s = 88172645463325252ULL;
    char buf[64];
    for (int k = 0; k < 300000; k++) {
        uint32_t bits = (uint32_t)next_random(&s);
        float f;
        memcpy(&f, &bits, 4);
        if (!isfinite(f)) continue;
        snprintf(buf, sizeof buf, "%.9g", f);
        float g;
        ck_assert_int_eq(gfuse_i_parse_float(buf, strlen(buf), &g), GFUSE_I_NUM_OK);
        ck_assert_msg(memcmp(&f, &g, 4) == 0 || (f == 0 && g == 0), "%s", buf);
        /* also in plain decimal notation with many digits */
        snprintf(buf, sizeof buf, "%.12f", (double)f);
        if (fabs(f) < 1e6) expect_same_as_strtof(buf);
    }
}
END_TEST

/* Decimals that round to a double exactly halfway between two floats, where rounding twice
 * would go wrong; and decimals right beside such midpoints. */
START_TEST(test_parse_float_midpoints)
{
    char buf[64];
    uint64_t s = 12345;
    for (int k = 0; k < 20000; k++) {
        uint32_t bits = (uint32_t)(next_random(&s) % 0x7E000000u) + 0x00800000u;
        float f;
        memcpy(&f, &bits, 4);
        double lo = (double)f, hi = (double)nextafterf(f, INFINITY);
        double mid = lo + (hi - lo) / 2;
        snprintf(buf, sizeof buf, "%.17g", mid);
        expect_same_as_strtof(buf);
        snprintf(buf, sizeof buf, "%.25g", mid); /* exact midpoint (may need many digits) */
        expect_same_as_strtof(buf);
        snprintf(buf, sizeof buf, "%.17g", nextafter(mid, 0));
        expect_same_as_strtof(buf);
        snprintf(buf, sizeof buf, "%.17g", nextafter(mid, INFINITY));
        expect_same_as_strtof(buf);
    }
    expect_same_as_strtof("1.00000005960464477539062500000000001");
    expect_same_as_strtof("1.000000059604644775390625");
    expect_same_as_strtof("16777217");
    expect_same_as_strtof("16777219");
}
END_TEST

/* Every value of the shared ROSMAP files parses exactly as strtof parses it. */
START_TEST(test_parse_float_shared_data)
{
    const char *dir = tu_shared_data("rosmap");
    if (!dir) return;
    const char *files[] = {"mRNA.csv", "meth.csv", "miRNA.csv"};
    int64_t checked = 0;
    for (int k = 0; k < 3; k++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, files[k]);
        gfuse_i_csv *r = NULL;
        ck_assert_int_eq(gfuse_i_csv_open(&r, path), GFUSE_OK);
        gfuse_i_csv_field f;
        while (gfuse_i_csv_next(r, &f) == 1) {
            if (f.line == 1 || f.col == 1) continue;
            expect_same_as_strtof(f.s);
            checked++;
        }
        gfuse_i_csv_close(r);
    }
    ck_assert_int_eq(checked, 351 * 600);
}
END_TEST

/* ---- bad input: each class with the exact message ------------------------------------------ */

BAD_INPUT_TEST(test_err_non_numeric,
    {"id,a,b\nS1,1,2\nS2,3,abc\n", ":3:3: column \"b\": \"abc\" is not a number"},
    {"id,a\nS1,1.5x\n", ":2:2: column \"a\": \"1.5x\" is not a number"},
    {"id,a\nS1,\"1,5\"\n", ":2:2: column \"a\": \"1,5\" is not a number"})

BAD_INPUT_TEST(test_err_infinite,
    {"id,a,b\nS1,1,inf\n", ":2:3: column \"b\": infinite value \"inf\""},
    {"id,a,b\nS1,1,2\nS2,1e999,0\n",
     ":3:2: column \"a\": infinite value \"1e999\""},
    {"id,a\nS1,-Infinity\n", ":2:2: column \"a\": infinite value \"-Infinity\""},
    {"id,a\nS1,3.5e38\n", ":2:2: column \"a\": infinite value \"3.5e38\""})

BAD_INPUT_TEST(test_err_ragged_short,
    {"id,a,b,c\nS1,1,2,3\nS2,1,2\n",
     ":3:4: row has 3 fields but the header has 4 (column \"c\" is missing)"},
    {"id,a,b\nS1\n",
     ":2:2: row has 1 field but the header has 3 (column \"a\" is missing)"})

BAD_INPUT_TEST(test_err_ragged_long,
    {"id,a,b\nS1,1,2\nS2,1,2,3,4\n", ":3:4: row has 5 fields but the header has 3"},
    {"id,a\nS1,1,\n", ":2:3: row has 3 fields but the header has 2"})

BAD_INPUT_TEST(test_err_duplicate_id,
    {"id,a\nS1,1\nS2,2\n\"S1\",3\n", ":4:1: duplicate id \"S1\" (first on line 2)"})

BAD_INPUT_TEST(test_err_duplicate_feature,
    {"id,a,b,a\nS1,1,2,3\n", ":1:4: duplicate feature name \"a\" (also column 2)"})

BAD_INPUT_TEST(test_err_empty_file,
    {"", ":1:1: empty file: expected a header row id,<feature names...>"},
    {"\n\r\n\n", ":1:1: empty file: expected a header row id,<feature names...>"},
    {"\xEF\xBB\xBF", ":1:1: empty file: expected a header row id,<feature names...>"})

BAD_INPUT_TEST(test_err_header_one_column,
    {"id\nS1\n", ":1:1: the header has 1 column; expected id,<feature names...>"})

START_TEST(test_err_missing_header)
{
    expect_bad("m.csv", "S1,0.5,1\nS2,0.25,2\n",
               ":1:2: missing header: the first row holds numbers (\"0.5\"); expected "
               "id,<feature names...> (quote numeric feature names)");
    /* quoted numeric names are names */
    gfuse_cohort *c;
    ck_assert_int_eq(load_text("m.csv", "id,\"100.5\",\"200\"\nS1,1,2\n", &c), GFUSE_OK);
    ck_assert_str_eq(gfuse_cohort_feature_name(c, 0, 0), "100.5");
    gfuse_cohort_free(&c);
}
END_TEST

/* As expect_bad, for a file of len bytes that may hold NUL bytes. */
static void expect_bad_bytes(const char *name, const char *text, size_t len, const char *suffix)
{
    char rel[256], expected[2048];
    snprintf(rel, sizeof rel, "c/%s", name);
    tu_write_bytes(rel, text, len);
    gfuse_cohort_options o;
    gfuse_cohort_options_init(&o);
    o.dir = tu_path("c");
    gfuse_cohort *c = NULL;
    ck_assert_int_eq(gfuse_cohort_load(&c, &o), GFUSE_ERR_DATA);
    ck_assert_ptr_null(c);
    snprintf(expected, sizeof expected, "%s%s", tu_path(rel), suffix);
    ck_assert_str_eq(gfuse_last_error(), expected);
}

#define BAD_BYTES(name, lit, suffix) expect_bad_bytes(name, lit, sizeof lit - 1, suffix)

START_TEST(test_err_nul_and_utf8)
{
    /* "zz\0a" and "zz\0b" must not both become "zz" */
    BAD_BYTES("m.csv", "id,a\nzz\0a,1\nzz\0b,2\n",
              ":2:1: the sample id holds a NUL byte (byte 3 of the field)");
    BAD_BYTES("m.csv", "id,a\0" "b\nS1,1\n",
              ":1:2: a column name holds a NUL byte (byte 2 of the field)");
    BAD_BYTES("m.csv", "id,a\nS1,1\0\n", ":2:2: column \"a\": the cell holds a NUL byte");
    BAD_BYTES("m.csv", "id,a\n\"S\0\",1\n",
              ":2:1: the sample id holds a NUL byte (byte 2 of the field)");
    BAD_BYTES("m.csv", "id,a\nS\xff,1\n",
              ":2:1: the sample id is not valid UTF-8 (byte 2 of the field is 0xFF)");
    BAD_BYTES("m.csv", "id,f\xc3\nS1,1\n",
              ":1:2: a column name is not valid UTF-8 (byte 2 of the field is 0xC3)");
    BAD_BYTES("m.csv", "id,a\n\xc0\xaf,1\n", /* an overlong "/" */
              ":2:1: the sample id is not valid UTF-8 (byte 1 of the field is 0xC0)");
    BAD_BYTES("m.csv", "id,a\n\xed\xa0\x80,1\n", /* a surrogate */
              ":2:1: the sample id is not valid UTF-8 (byte 1 of the field is 0xED)");
    tu_write("c/m.csv", "id,a\nS1,1\nS2,2\n");
    BAD_BYTES("labels.csv", "id,label\nS1,x\0y\n",
              ":2:2: the value holds a NUL byte (byte 2 of the field)");
    BAD_BYTES("labels.csv", "id,label\nS1,\xe2\x82\n",
              ":2:2: the value is not valid UTF-8 (byte 1 of the field is 0xE2)");
    tu_write("c/labels.csv", "id,label\nS1,a\nS2,b\n");
    BAD_BYTES("split.csv", "id,split\nS1,tr\0ain\n",
              ":2:2: the value holds a NUL byte (byte 3 of the field)");
    /* valid UTF-8 of every length is text */
    tu_write("c/split.csv", "id,split\nS1,train\nS2,test\n");
    gfuse_cohort *c;
    ck_assert_int_eq(load_text("m.csv", "id,\xc3\xa9t\xc3\xa9\n\xe2\x82\xac" "1,1\n\xf0\x9f\x98\x80,2\n",
                               &c),
                     GFUSE_OK);
    ck_assert_str_eq(gfuse_cohort_feature_name(c, 0, 0), "\xc3\xa9t\xc3\xa9");
    ck_assert_int_ge(gfuse_cohort_find_sample(c, "\xf0\x9f\x98\x80"), 0);
    gfuse_cohort_free(&c);
}
END_TEST

BAD_INPUT_TEST(test_err_empty_feature_name,
    {"id,a,,c\nS1,1,2,3\n", ":1:3: empty feature name in the header"})

BAD_INPUT_TEST(test_err_unterminated_quote,
    {"id,a\nS1,1\n\"S2,2\nS3,3\n",
     ":3:1: unterminated quoted field: the quote opened here is never closed"},
    {"id,\"a\nS1,1\n",
     ":1:2: unterminated quoted field: the quote opened here is never closed"})

BAD_INPUT_TEST(test_err_text_after_quote,
    {"id,a\n\"S1\"x,1\n",
     ":2:1: unexpected text after the closing quote of a quoted field (a quote inside "
     "a quoted field is written \"\")"})

START_TEST(test_err_empty_id)
{
    expect_bad("m.csv", "id,a\nS1,1\n,2\n", ":3:1: empty sample id");
    expect_bad("m.csv", "id,a\nS1,1\n  ,2\n", ":3:1: empty sample id");
    expect_bad("m.csv", "id,a\nS1,1\n\"\",2\n", ":3:1: empty sample id");
    /* a quoted id of blanks is not empty */
    gfuse_cohort *c;
    ck_assert_int_eq(load_text("m.csv", "id,a\n\"  \",2\n", &c), GFUSE_OK);
    ck_assert_str_eq(gfuse_cohort_sample_id(c, 0), "  ");
    gfuse_cohort_free(&c);
}
END_TEST

BAD_INPUT_TEST(test_err_line_after_quoted_newlines,
    {"id,\"a\nb\"\n\"S\n1\",1\nS2,bad\n",
     ":5:2: column \"a\nb\": \"bad\" is not a number"})

START_TEST(test_err_cannot_open)
{
    gfuse_cohort_options o;
    gfuse_cohort *c = NULL;
    gfuse_cohort_options_init(&o);
    const char *names[] = {"x"};
    const char *files[] = {tu_path("does_not_exist.csv")};
    o.modality_names = names;
    o.modality_files = files;
    o.n_modality_files = 1;
    ck_assert_int_eq(gfuse_cohort_load(&c, &o), GFUSE_ERR_IO);
    ck_assert_ptr_null(c);
    char want[1024];
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", files[0]);
    ck_assert_str_eq(gfuse_last_error(), want);

    o.n_modality_files = 0;
    o.dir = tu_path("no_such_folder");
    ck_assert_int_eq(gfuse_cohort_load(&c, &o), GFUSE_ERR_IO);
    snprintf(want, sizeof want, "%s: cannot open the cohort folder: No such file or directory",
             o.dir);
    ck_assert_str_eq(gfuse_last_error(), want);
}
END_TEST

START_TEST(test_err_first_error_wins)
{
    /* the cell error comes before the ragged-row error on the same row */
    expect_bad("m.csv", "id,a,b\nS1,x,1,2\n", ":2:2: column \"a\": \"x\" is not a number");
    /* with two modality files, the first by name is read first */
    gfuse_cohort *c;
    tu_write("c/m.csv", "id,f\nS1,bad\n");
    ck_assert_int_eq(load_text("b.csv", "id,g\nS1,worse\n", &c), GFUSE_ERR_DATA);
    char want[1024];
    snprintf(want, sizeof want, "%s:2:2: column \"g\": \"worse\" is not a number",
             tu_path("c/b.csv"));
    ck_assert_str_eq(gfuse_last_error(), want);
}
END_TEST

Suite *reader_suite(void)
{
    Suite *s = suite_create("reader");
    TCase *tc = TU_TCASE(s, "syntax", tu_tmp_setup, tu_tmp_teardown,
        test_plain_csv, test_quoting, test_na_forms, test_bom, test_crlf, test_cr_only,
        test_tsv_extension, test_sniffing, test_no_final_newline_and_blank_lines,
        test_blanks_trimmed, test_stray_quote_is_literal, test_tokenizer_positions,
        test_count_records_quotes, test_buffer_boundaries, test_wide_file);
    tcase_set_timeout(tc, 60);

    tc = TU_TCASE(s, "numbers", tu_tmp_setup, tu_tmp_teardown,
        test_parse_float_syntax, test_parse_double, test_parse_float_matches_strtof_9_digits,
        test_parse_float_round_trips, test_parse_float_midpoints, test_parse_float_shared_data);
    tcase_set_timeout(tc, 120);

    TU_TCASE(s, "errors", tu_tmp_setup, tu_tmp_teardown,
        test_err_non_numeric, test_err_infinite, test_err_ragged_short, test_err_ragged_long,
        test_err_duplicate_id, test_err_duplicate_feature, test_err_empty_file,
        test_err_header_one_column, test_err_missing_header, test_err_empty_feature_name,
        test_err_unterminated_quote, test_err_text_after_quote, test_err_empty_id,
        test_err_line_after_quoted_newlines, test_err_cannot_open, test_err_first_error_wins,
        test_err_nul_and_utf8);
    return s;
}

int main(void) { return tu_run_suite(reader_suite()); }
