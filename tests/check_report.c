/* check_report.c: the pieces `gfuse report` is built from: HTML/SVG escaping of any text,
 * numbers written exactly, tick values, charts that are well-formed SVG, and the strict JSON
 * reader (what it accepts, where it says a document is wrong, and that it reads back what
 * the JSON writer wrote). */
#include "testutil.h"

#include "cli/cli.h"

#include <math.h>

/* What fn writes to a memory stream, malloc-ed. */
static char *escaped(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    cli_html_escape(f, s);
    fclose(f);
    return buf;
}

START_TEST(escape_markup)
{
    char *e = escaped("a<b>&\"c'd");
    ck_assert_str_eq(e, "a&lt;b&gt;&amp;&quot;c&#39;d");
    free(e);
    e = escaped("</svg><script>alert(1)</script>");
    ck_assert_ptr_null(strchr(e, '<'));
    ck_assert_ptr_null(strchr(e, '>'));
    free(e);
    e = escaped(NULL);
    ck_assert_str_eq(e, "");
    free(e);
}
END_TEST

START_TEST(escape_utf8)
{
    /* valid UTF-8 passes unchanged: é, —, an emoji (4 bytes) */
    char *e = escaped("\xC3\xA9\xE2\x80\x94\xF0\x9F\x98\x80");
    ck_assert_str_eq(e, "\xC3\xA9\xE2\x80\x94\xF0\x9F\x98\x80");
    free(e);
    /* a lone continuation byte, a cut sequence, an overlong '/', a surrogate: U+FFFD each */
    e = escaped("a\x80" "b\xC3" "c\xC0\xAF" "d\xED\xA0\x80");
    ck_assert_str_eq(e, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD"
                        "d\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    free(e);
    /* control characters other than tab, LF, CR are not XML */
    e = escaped("x\x01y\tz\x7F");
    ck_assert_str_eq(e, "x\xEF\xBF\xBDy\tz\xEF\xBF\xBD");
    free(e);
}
END_TEST

START_TEST(format_exact)
{
    char buf[40];
    const double v[] = {0.1, 1.0 / 3, 0.87412345678901234, 1e-300, -2.5, 123456789.0};
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
        cli_format_double(buf, sizeof buf, v[k]);
        ck_assert_msg(strtod(buf, NULL) == v[k], "%s does not read back", buf);
    }
    cli_format_double(buf, sizeof buf, NAN);
    ck_assert_str_eq(buf, "NA");
    cli_format_double(buf, sizeof buf, INFINITY);
    ck_assert_str_eq(buf, "NA");
}
END_TEST

START_TEST(nice_ticks)
{
    double t[16], step;
    int n = cli_nice_ticks(0, 1, 7, t, &step);
    ck_assert_int_eq(n, 6);
    ck_assert_double_eq_tol(step, 0.2, 1e-12);
    ck_assert_double_eq_tol(t[0], 0, 1e-12);
    ck_assert_double_eq_tol(t[5], 1, 1e-12);
    n = cli_nice_ticks(0, 100, 7, t, &step);
    ck_assert_double_eq_tol(step, 20, 1e-12);
    ck_assert_int_eq(n, 6);
    n = cli_nice_ticks(-0.37, 2.9, 8, t, &step);
    ck_assert_int_le(n, 8);
    ck_assert_double_ge(t[0], -0.37);
    ck_assert_double_le(t[n - 1], 2.9 + 1e-12);
    for (int k = 1; k < n; k++) ck_assert_double_eq_tol(t[k] - t[k - 1], step, 1e-9);
    /* seeds of shapes: never more than asked, always inside the range, evenly spaced */
    for (int s = 1; s < 200; s++) {
        double lo = sin(s) * pow(10, s % 7 - 3), hi = lo + fabs(cos(s * 1.7)) * pow(10, s % 5 - 2);
        n = cli_nice_ticks(lo, hi, 2 + s % 8, t, &step);
        ck_assert_int_ge(n, 1);
        ck_assert_int_le(n, 2 + s % 8);
        for (int k = 0; k < n; k++) {
            ck_assert_double_ge(t[k], lo - 1e-9 * fabs(hi - lo));
            ck_assert_double_le(t[k], hi + 1e-9 * fabs(hi - lo));
        }
    }
    n = cli_nice_ticks(3, 3, 7, t, &step);
    ck_assert_int_eq(n, 1);
    ck_assert_double_eq(t[0], 3);
}
END_TEST

START_TEST(chart_wellformed)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    cli_chart ch;
    cli_chart_begin(&ch, f, "c\"1", 600, 400, "A <title> & \"quotes\"");
    cli_chart_axes(&ch, 0, 10, -1, 1, "x <unit>", "y & more");
    double x[] = {0, 1, NAN, 3, 4}, y[] = {0, 0.5, 0.2, -0.5, 1};
    cli_chart_line(&ch, x, y, 5, 0, 0);
    cli_chart_points(&ch, x, y, 5, 1, 3);
    const char *names[] = {"s<1>", "s&2"};
    cli_chart_legend(&ch, names, NULL, NULL, 2);
    cli_chart_end(&ch);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "<svg "));
    ck_assert_ptr_nonnull(strstr(buf, "</svg></figure>"));
    ck_assert_ptr_nonnull(strstr(buf, "id=\"c&quot;1\""));
    ck_assert_ptr_nonnull(strstr(buf, "A &lt;title&gt; &amp; &quot;quotes&quot;"));
    ck_assert_ptr_nonnull(strstr(buf, "s&lt;1&gt;"));
    ck_assert_ptr_null(strstr(buf, "<title>A <"));
    /* the NaN point splits the line in two polylines */
    int lines = 0;
    for (const char *p = buf; (p = strstr(p, "<polyline")) != NULL; p++) lines++;
    ck_assert_int_eq(lines, 2);
    /* data to pixels: the corners of the plot area */
    ck_assert_double_eq_tol(cli_chart_x(&ch, 0), ch.px0, 1e-9);
    ck_assert_double_eq_tol(cli_chart_x(&ch, 10), ch.px1, 1e-9);
    ck_assert_double_eq_tol(cli_chart_y(&ch, -1), ch.py1, 1e-9);
    ck_assert_double_eq_tol(cli_chart_y(&ch, 1), ch.py0, 1e-9);
    free(buf);
}
END_TEST

START_TEST(table_cells)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    const char *head[] = {"id", "value"};
    cli_html_table_begin(f, "cap & co", head, 2);
    cli_html_row_begin(f);
    cli_html_cell_text(f, "<b>");
    cli_html_cell_number(f, 0.87412345678901234, 4);
    cli_html_row_end(f);
    cli_html_table_end(f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "<caption>cap &amp; co</caption>"));
    ck_assert_ptr_nonnull(strstr(buf, "<td>&lt;b&gt;</td>"));
    char exact[40], want[96];
    cli_format_double(exact, sizeof exact, 0.87412345678901234);
    snprintf(want, sizeof want, "data-value=\"%s\">0.8741</td>", exact);
    ck_assert_msg(strstr(buf, want) != NULL, "no %s in %s", want, buf);
    free(buf);
}
END_TEST

/* ---- the JSON reader -------------------------------------------------------------------- */

static int parse(const char *text, cli_jv *v, char *err)
{
    return cli_json_parse(text, strlen(text), v, err, 256);
}

START_TEST(json_values)
{
    cli_jv v;
    char err[256];
    const char *doc = "{\"a\": [1, -2.5e3, 0, true, false, null],\n"
                      " \"s\": \"x\\n\\\"\\u00e9\\ud83d\\ude00\\/\", \"o\": {}, \"e\": []}";
    ck_assert_int_eq(parse(doc, &v, err), 0);
    ck_assert_int_eq(v.kind, CLI_JV_OBJECT);
    ck_assert_int_eq(v.n, 4);
    const cli_jv *a = cli_jv_get(&v, "a");
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->kind, CLI_JV_ARRAY);
    ck_assert_int_eq(a->n, 6);
    ck_assert_double_eq(a->items[1].number, -2500);
    ck_assert_int_eq(a->items[3].boolean, 1);
    ck_assert_int_eq(a->items[5].kind, CLI_JV_NULL);
    ck_assert_str_eq(cli_jv_get(&v, "s")->string, "x\n\"\xC3\xA9\xF0\x9F\x98\x80/");
    ck_assert_int_eq(cli_jv_get(&v, "s")->line, 2);
    ck_assert_int_eq(cli_jv_get(&v, "o")->n, 0);
    ck_assert_ptr_null(cli_jv_get(&v, "missing"));
    ck_assert_ptr_null(cli_jv_get(a, "a"));
    cli_jv_free(&v);
    ck_assert_int_eq(parse("  3.25  ", &v, err), 0);
    ck_assert_double_eq(v.number, 3.25);
    cli_jv_free(&v);
}
END_TEST

/* Each malformed document fails with the line and column given. */
START_TEST(json_errors)
{
    const struct {
        const char *text, *where, *what;
    } bad[] = {
        {"[1, 2,]", "1:7:", "trailing comma"},
        {"{\"a\": 1,\n \"a\": 2}", "2:2:", "duplicate key"},
        {"[01]", "1:2:", "leading zero"},
        {"[1.]", "1:4:", "decimal point"},
        {"[1e]", "1:4:", "exponent"},
        {"[\"abc", "1:2:", "not closed"},
        {"[\"a\tb\"]", "1:4:", "control character"},
        {"[\"\\ud800\"]", "1:3:", "surrogate"},
        {"[\"\\x\"]", "1:4:", "unknown escape"},
        {"[\"\\u0000\"]", "1:3:", "\\u0000"},
        {"[\"\xC3\"]", "1:3:", "UTF-8"},
        {"[1] 2", "1:5:", "after the JSON value"},
        {"", "1:1:", "expected a JSON value"},
        {"[NaN]", "1:2:", "expected a JSON value"},
        {"{\"a\" 1}", "1:6:", "expected ':'"},
        {"{1: 2}", "1:2:", "key string"},
        {"[1 2]", "1:4:", "expected ','"},
        {"\n\n  [tru]", "3:4:", "expected a JSON value"},
        {"[1e999]", "1:2:", "out of range"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        cli_jv v;
        char err[256];
        ck_assert_msg(parse(bad[k].text, &v, err) == -1, "accepted %s", bad[k].text);
        ck_assert_msg(strncmp(err, bad[k].where, strlen(bad[k].where)) == 0,
                      "%s: '%s' does not start with %s", bad[k].text, err, bad[k].where);
        ck_assert_msg(strstr(err, bad[k].what) != NULL, "%s: '%s' does not say %s",
                      bad[k].text, err, bad[k].what);
        ck_assert_int_eq(v.kind, CLI_JV_NULL);
        ck_assert_ptr_null(v.items);
    }
}
END_TEST

START_TEST(json_depth)
{
    char deep[CLI_JSON_READ_MAX_DEPTH * 2 + 8];
    int n = 0;
    for (int k = 0; k < CLI_JSON_READ_MAX_DEPTH; k++) deep[n++] = '[';
    for (int k = 0; k < CLI_JSON_READ_MAX_DEPTH; k++) deep[n++] = ']';
    deep[n] = '\0';
    cli_jv v;
    char err[256];
    ck_assert_int_eq(parse(deep, &v, err), 0);
    cli_jv_free(&v);
    /* one level more is refused, without recursing further */
    memmove(deep + 1, deep, (size_t)n + 1);
    deep[0] = '[';
    strcat(deep, "]");
    ck_assert_int_eq(parse(deep, &v, err), -1);
    ck_assert_ptr_nonnull(strstr(err, "nested deeper"));
}
END_TEST

/* What cli_json writes, cli_json_parse reads back: the same numbers, bit for bit. */
START_TEST(json_roundtrip)
{
    const char *path = tu_path("doc.json");
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    cli_json j;
    cli_json_init(&j, f);
    cli_json_begin_object(&j);
    cli_json_key(&j, "id \"<&>\" \xC3\xA9");
    cli_json_string(&j, "tab\there\x01");
    cli_json_key(&j, "values");
    cli_json_begin_array(&j);
    double v[] = {0.1, 1.0 / 3, -1e-310, 6.02214076e23, NAN};
    for (int k = 0; k < 5; k++) cli_json_double(&j, v[k]);
    cli_json_end_array(&j);
    cli_json_end_object(&j);
    cli_json_finish(&j);
    fclose(f);
    cli_jv doc;
    char err[512];
    ck_assert_msg(cli_json_read_file(path, &doc, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(cli_jv_get(&doc, "id \"<&>\" \xC3\xA9")->string, "tab\there\x01");
    const cli_jv *arr = cli_jv_get(&doc, "values");
    for (int k = 0; k < 4; k++) ck_assert(arr->items[k].number == v[k]);
    ck_assert_int_eq(arr->items[4].kind, CLI_JV_NULL);
    cli_jv_free(&doc);
    /* a file that cannot be read, and a malformed one named with line and column */
    ck_assert_int_eq(cli_json_read_file(tu_path("absent.json"), &doc, err, sizeof err), -3);
    ck_assert_ptr_nonnull(strstr(err, "absent.json: cannot open"));
    const char *bad = tu_write("bad.json", "{\n  \"a\": [1,,2]\n}\n");
    ck_assert_int_eq(cli_json_read_file(bad, &doc, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "bad.json:2:11:"));
}
END_TEST

/* Mutated documents (bytes replaced, inserted, removed; seeded): each is read or refused
 * with "LINE:COLUMN: what", never anything else (and, under the sanitizers, without a memory
 * error or leak). */
START_TEST(json_mutations)
{
    const char *doc = "{\"task\": \"classify\", \"classes\": [\"a\", \"b\\u00e9\"],\n"
                      " \"results\": [{\"rate\": 0.3, \"n\": 12, \"x\": [1e-3, -0.5, true,"
                      " null, {\"k\": \"v\\n\"}]}]}";
    const char pool[] = "{}[],:\"\\0123456789.eE+-tfnul \n\x80\xC3\xA9";
    size_t len = strlen(doc);
    char *buf = malloc(len + 64);
    ck_assert_ptr_nonnull(buf);
    uint64_t state = 12345;
    int accepted = 0, refused = 0;
    for (int it = 0; it < 5000; it++) {
        memcpy(buf, doc, len + 1);
        size_t n = len;
        int edits = 1 + it % 4;
        for (int e = 0; e < edits; e++) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t at = (size_t)(state >> 33) % (n + 1);
            char c = pool[(state >> 20) % (sizeof pool - 1)];
            int op = (int)((state >> 10) % 3);
            if (op == 0 && at < n) {
                buf[at] = c;
            } else if (op == 1 && n + 1 < len + 64) {
                memmove(buf + at + 1, buf + at, n - at + 1);
                buf[at] = c;
                n++;
            } else if (at < n) {
                memmove(buf + at, buf + at + 1, n - at);
                n--;
            }
        }
        cli_jv v;
        char err[256];
        int rc = cli_json_parse(buf, n, &v, err, sizeof err);
        if (rc == 0) {
            accepted++;
            cli_jv_free(&v);
        } else {
            refused++;
            int line, column;
            ck_assert_int_eq(rc, -1);
            ck_assert_msg(sscanf(err, "%d:%d:", &line, &column) == 2 && line >= 1 && column >= 1,
                          "message without a place: %s", err);
            ck_assert_ptr_null(v.items);
        }
    }
    ck_assert_int_gt(accepted, 0);
    ck_assert_int_gt(refused, 0);
    free(buf);
}
END_TEST

static Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *html = tcase_create("html");
    tcase_add_test(html, escape_markup);
    tcase_add_test(html, escape_utf8);
    tcase_add_test(html, format_exact);
    tcase_add_test(html, nice_ticks);
    tcase_add_test(html, chart_wellformed);
    tcase_add_test(html, table_cells);
    suite_add_tcase(s, html);
    TCase *json = tcase_create("json");
    tcase_add_checked_fixture(json, tu_tmp_setup, tu_tmp_teardown);
    tcase_add_test(json, json_values);
    tcase_add_test(json, json_errors);
    tcase_add_test(json, json_depth);
    tcase_add_test(json, json_roundtrip);
    tcase_add_test(json, json_mutations);
    suite_add_tcase(s, json);
    return s;
}

int main(void) { return tu_run_suite(report_suite()); }
