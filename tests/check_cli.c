/* check_cli.c: the command-line tool's helpers: option parsing and help, exit codes, the
 * cohort options, progress lines, atomic output files, JSON and CSV writing. */
#include "testutil.h"

#include "cli/cli.h"

#include <fcntl.h>
#include <math.h>

/* ---- capturing what the helpers print --------------------------------------------------- */

static int saved_fd = -1, captured_fd = -1;
static FILE *captured_stream;

/* Redirects stream (stdout or stderr) into a temporary file until capture_end. */
static void capture_begin(FILE *stream)
{
    fflush(stream);
    captured_stream = stream;
    captured_fd = fileno(stream);
    saved_fd = dup(captured_fd);
    int fd = open(tu_path("captured"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    dup2(fd, captured_fd);
    close(fd);
}

/* Restores the stream; returns what was printed (malloc-ed). */
static char *capture_end(void)
{
    fflush(captured_stream);
    dup2(saved_fd, captured_fd);
    close(saved_fd);
    FILE *f = fopen(tu_path("captured"), "rb");
    ck_assert_ptr_nonnull(f);
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* ---- an example command's options ------------------------------------------------------- */

typedef struct {
    int k, flag, choice, small;
    int64_t big;
    uint64_t seed;
    double rate;
    const char *name;
    cli_list list;
} values;

static void values_init(values *v)
{
    memset(v, 0, sizeof *v);
    v->k = 10;
    v->rate = 0.5;
    v->seed = 1;
    v->choice = 1;
}

/* Parses argv (NULL-terminated, argv[0] = "t") into v; stderr goes to *err when non-NULL. */
static int parse(values *v, const char **args, char **err)
{
    cli_option opts[] = {
        {.name = "k", .kind = CLI_INT, .dest = &v->k, .metavar = "K", .bounds = CLI_MIN,
         .min = 1, .help = "neighbours"},
        {.name = "small", .kind = CLI_INT, .dest = &v->small, .metavar = "S",
         .bounds = CLI_MIN | CLI_MAX, .min = -3, .max = 3, .help = "a bounded integer"},
        {.name = "big", .kind = CLI_INT64, .dest = &v->big, .metavar = "N", .help = "an int64"},
        {.name = "seed", .kind = CLI_UINT64, .dest = &v->seed, .metavar = "S", .help = "seed"},
        {.name = "rate", .kind = CLI_DOUBLE, .dest = &v->rate, .metavar = "R",
         .bounds = CLI_MIN | CLI_MAX, .min = 0, .max = 1, .help = "a share"},
        {.name = "name", .kind = CLI_STRING, .dest = &v->name, .metavar = "NAME",
         .help = "a name", .def = "the first one"},
        {.name = "mode", .kind = CLI_CHOICE, .dest = &v->choice, .choices = "fast|exact|slow",
         .help = "how"},
        {.name = "item", .kind = CLI_LIST, .dest = &v->list, .metavar = "X",
         .help = "repeatable"},
        {.name = "verbose", .kind = CLI_FLAG, .dest = &v->flag, .help = "say more"},
        CLI_END};
    cli_spec spec = {.name = "t", .synopsis = "[options]", .description = "A test command.",
                     .options = opts};
    int argc = 0;
    while (args[argc]) argc++;
    if (err) capture_begin(stderr);
    int rc = cli_parse(&spec, argc, (char **)args);
    if (err) *err = capture_end();
    return rc;
}

/* ---- parsing ------------------------------------------------------------------------------ */

START_TEST(test_parse_every_kind)
{
    values v;
    values_init(&v);
    const char *args[] = {"t",          "--k",        "7",           "--small=-3", "--big",
                          "-9000000000", "--seed",    "18446744073709551615",      "--rate=0.25",
                          "--name",     "x=y",        "--mode",      "slow",       "--item",
                          "a",          "--item=b",   "--verbose",   "--item",     "",
                          NULL};
    ck_assert_int_eq(parse(&v, args, NULL), CLI_PARSED);
    ck_assert_int_eq(v.k, 7);
    ck_assert_int_eq(v.small, -3);
    ck_assert(v.big == -9000000000LL);
    ck_assert(v.seed == UINT64_MAX);
    ck_assert_double_eq(v.rate, 0.25);
    ck_assert_str_eq(v.name, "x=y");
    ck_assert_int_eq(v.choice, 2);
    ck_assert_int_eq(v.flag, 1);
    ck_assert_int_eq(v.list.n, 3);
    ck_assert_str_eq(v.list.items[0], "a");
    ck_assert_str_eq(v.list.items[1], "b");
    ck_assert_str_eq(v.list.items[2], "");
    cli_list_free(&v.list);
    ck_assert_int_eq(v.list.n, 0);
}
END_TEST

START_TEST(test_parse_defaults_kept_and_last_wins)
{
    values v;
    values_init(&v);
    const char *none[] = {"t", NULL};
    ck_assert_int_eq(parse(&v, none, NULL), CLI_PARSED);
    ck_assert_int_eq(v.k, 10);
    ck_assert_int_eq(v.choice, 1);
    ck_assert_ptr_null(v.name);
    const char *twice[] = {"t", "--k", "3", "--k=4", NULL};
    ck_assert_int_eq(parse(&v, twice, NULL), CLI_PARSED);
    ck_assert_int_eq(v.k, 4);
}
END_TEST

/* Each bad command line: exit 2 and the exact message. */
static const struct {
    const char *args[4];
    const char *message;
} bad_lines[] = {
    {{"--bogus"}, "gfuse t: unknown option '--bogus'"},
    {{"--bogus=1"}, "gfuse t: unknown option '--bogus'"},
    {{"--k"}, "gfuse t: --k needs a value (K)"},
    {{"--k", "x"}, "gfuse t: --k: expected an integer >= 1, got 'x'"},
    {{"--k", "0"}, "gfuse t: --k: expected an integer >= 1, got '0'"},
    {{"--k", "5x"}, "gfuse t: --k: expected an integer >= 1, got '5x'"},
    {{"--k="}, "gfuse t: --k: expected an integer >= 1, got ''"},
    {{"--k", "99999999999"}, "gfuse t: --k: expected an integer >= 1, got '99999999999'"},
    {{"--small", "4"}, "gfuse t: --small: expected an integer in [-3, 3], got '4'"},
    {{"--big", "1.5"}, "gfuse t: --big: expected an integer, got '1.5'"},
    {{"--seed", "-1"}, "gfuse t: --seed: expected an integer, got '-1'"},
    {{"--rate", "2"}, "gfuse t: --rate: expected a number in [0, 1], got '2'"},
    {{"--rate", "nan"}, "gfuse t: --rate: expected a number in [0, 1], got 'nan'"},
    {{"--rate", "0.5.1"}, "gfuse t: --rate: expected a number in [0, 1], got '0.5.1'"},
    {{"--mode", "quick"}, "gfuse t: --mode: expected one of fast|exact|slow, got 'quick'"},
    {{"--verbose=1"}, "gfuse t: --verbose takes no value"},
    {{"extra"}, "gfuse t: unexpected argument 'extra'"},
    {{"-k", "3"}, "gfuse t: unexpected argument '-k'"},
    {{"--"}, "gfuse t: unexpected argument '--'"},
};

START_TEST(test_parse_errors)
{
    values v;
    values_init(&v);
    const char *args[6] = {"t"};
    for (int k = 0; k < 4; k++) args[1 + k] = bad_lines[_i].args[k];
    char *err = NULL;
    ck_assert_int_eq(parse(&v, args, &err), CLI_EXIT_USAGE);
    char expected[256];
    snprintf(expected, sizeof expected, "%s\nTry 'gfuse t --help'.\n", bad_lines[_i].message);
    ck_assert_str_eq(err, expected);
    free(err);
    cli_list_free(&v.list);
}
END_TEST

START_TEST(test_help)
{
    values v;
    values_init(&v);
    /* Help wins over anything else on the line, even a bad value before it. */
    const char *args[] = {"t", "--k", "x", "-h", NULL};
    capture_begin(stdout);
    int rc = parse(&v, args, NULL);
    char *out = capture_end();
    ck_assert_int_eq(rc, CLI_HELP_SHOWN);
    ck_assert_int_eq(cli_parse_exit(rc), 0);
    ck_assert_int_eq(v.k, 10);
    ck_assert_ptr_nonnull(strstr(out, "Usage: gfuse t [options]\n\nA test command.\n"));
    ck_assert_ptr_nonnull(strstr(out, "--k K"));
    ck_assert_ptr_nonnull(strstr(out, "neighbours (default: 10)\n"));
    ck_assert_ptr_nonnull(strstr(out, "a share (default: 0.5)\n"));
    ck_assert_ptr_nonnull(strstr(out, "seed (default: 1)\n"));
    ck_assert_ptr_nonnull(strstr(out, "--mode fast|exact|slow"));
    ck_assert_ptr_nonnull(strstr(out, "how (default: exact)\n"));
    ck_assert_ptr_nonnull(strstr(out, "a name (default: the first one)\n"));
    ck_assert_ptr_nonnull(strstr(out, "say more\n"));      /* a flag: no default shown */
    ck_assert_ptr_nonnull(strstr(out, "repeatable\n"));    /* a list: no default shown */
    ck_assert_ptr_nonnull(strstr(out, "-h, --help"));
    ck_assert_ptr_nonnull(strstr(out, "Exit codes: 0 success"));
    free(out);
    const char *long_form[] = {"t", "--help", NULL};
    capture_begin(stdout);
    rc = parse(&v, long_form, NULL);
    free(capture_end());
    ck_assert_int_eq(rc, CLI_HELP_SHOWN);
    ck_assert_int_eq(cli_parse_exit(CLI_EXIT_USAGE), CLI_EXIT_USAGE);
}
END_TEST

/* ---- exit codes and messages ---------------------------------------------------------------- */

START_TEST(test_exit_codes)
{
    ck_assert_int_eq(cli_exit_code(GFUSE_OK), 0);
    ck_assert_int_eq(cli_exit_code(GFUSE_ERR_DATA), 3);
    ck_assert_int_eq(cli_exit_code(GFUSE_ERR_MODEL), 3);
    ck_assert_int_eq(cli_exit_code(GFUSE_ERR_ARG), 2);
    ck_assert_int_eq(cli_exit_code(GFUSE_ERR_IO), 1);
    ck_assert_int_eq(cli_exit_code(GFUSE_ERR_NOMEM), 1);
    ck_assert_int_eq(cli_exit_code(GFUSE_ERR_RUNTIME), 1);
    ck_assert_int_eq(cli_exit_code(GFUSE_ERR_STATE), 1);
    /* an interrupted run exits as a shell reports a signalled job: 128 + the signal */
    ck_assert_int_eq(gfuse_interrupted(), 0);
    gfuse_interrupt(15);
    ck_assert_int_eq(gfuse_interrupted(), 15);
    ck_assert_int_eq(cli_exit_code(GFUSE_ERR_INTERRUPTED), 143);
    gfuse_interrupt(2);
    ck_assert_int_eq(cli_exit_code(GFUSE_ERR_INTERRUPTED), 130);
    gfuse_interrupt(0);
    ck_assert_int_eq(gfuse_interrupted(), 0);
    ck_assert_int_eq(cli_exit_code(GFUSE_ERR_INTERRUPTED), 1);
    /* cli_fail prints the library's last error after the command name. */
    gfuse_synth_options so;
    gfuse_synth_options_init(&so);
    so.n_classes = 0;
    gfuse_status st = gfuse_synth_write(tu_path("x"), &so);
    capture_begin(stderr);
    int rc = cli_fail("synth", st);
    char *err = capture_end();
    ck_assert_int_eq(rc, 2);
    ck_assert_str_eq(err, "gfuse synth: n_classes must be at least 1, got 0\n");
    free(err);
    capture_begin(stderr);
    cli_warning("%d things", 3);
    err = capture_end();
    ck_assert_str_eq(err, "gfuse: warning: 3 things\n");
    free(err);
}
END_TEST

/* ---- cohort options --------------------------------------------------------------------------- */

static int load(cli_cohort_args *ca, gfuse_cohort **c, char **err)
{
    capture_begin(stderr);
    int rc = cli_cohort_load("t", ca, c);
    *err = capture_end();
    return rc;
}

START_TEST(test_cohort_options)
{
    tu_write("co/a.csv", "id,f1,f2\ns1,1,2\ns2,3,4\n");
    tu_write("co/b.csv", "id,g1\ns1,5\ns3,6\n");
    tu_write("co/labels.csv", "id,label\ns1,x\ns2,y\nghost,x\n");
    tu_write("extra.csv", "id,h1\ns2,7\n");
    cli_cohort_args ca;
    cli_cohort_args_init(&ca);
    ca.dir = tu_path("co");
    cli_option opts[] = {CLI_COHORT_OPTIONS(&ca), CLI_END};
    cli_spec spec = {.name = "t", .options = opts};
    char mod[1100];
    snprintf(mod, sizeof mod, "--modality=c=%s", tu_path("extra.csv"));
    char *args[] = {"t", "--threads", "1", mod, NULL};
    ck_assert_int_eq(cli_parse(&spec, 4, args), CLI_PARSED);
    ck_assert_int_eq(ca.threads, 1);
    gfuse_cohort *c = NULL;
    char *err = NULL;
    ck_assert_int_eq(load(&ca, &c, &err), 0);
    ck_assert_int_eq(gfuse_cohort_n_modalities(c), 3);
    ck_assert_int_eq(gfuse_cohort_n_samples(c), 3);
    ck_assert_int_eq(gfuse_get_threads(), 1);
    /* The label of an unknown sample is a warning, printed unless --quiet. */
    ck_assert_ptr_nonnull(strstr(err, "gfuse: warning: "));
    ck_assert_ptr_nonnull(strstr(err, "ghost"));
    free(err);
    gfuse_cohort_free(&c);
    cli_cohort_args_free(&ca);

    cli_cohort_args_init(&ca);
    ca.dir = tu_path("co");
    ca.quiet = 1;
    ck_assert_int_eq(load(&ca, &c, &err), 0);
    ck_assert_str_eq(err, "");
    free(err);
    gfuse_cohort_free(&c);
    cli_cohort_args_free(&ca);
}
END_TEST

START_TEST(test_cohort_option_errors)
{
    cli_cohort_args ca;
    cli_cohort_args_init(&ca);
    gfuse_cohort *c = NULL;
    char *err = NULL;
    ck_assert_int_eq(load(&ca, &c, &err), 2);
    ck_assert_ptr_nonnull(strstr(err, "gfuse t: no cohort given"));
    free(err);

    const char *bad_modality = "=file.csv";
    ca.modality.items = &bad_modality;
    ca.modality.n = 1;
    ck_assert_int_eq(load(&ca, &c, &err), 2);
    ck_assert_ptr_nonnull(strstr(err, "--modality: expected NAME=FILE, got '=file.csv'"));
    free(err);
    ca.modality.items = NULL;
    ca.modality.n = 0;
    cli_cohort_args_free(&ca);

    cli_cohort_args_init(&ca);
    ca.dir = tu_path("missing-folder");
    ck_assert_int_eq(load(&ca, &c, &err), 1);
    ck_assert_ptr_nonnull(strstr(err, "missing-folder"));
    free(err);

    tu_write("bad/a.csv", "id,f1\ns1,1\ns2,x\n");
    ca.dir = tu_path("bad");
    ck_assert_int_eq(load(&ca, &c, &err), 3);
    char where[1100];
    snprintf(where, sizeof where, "gfuse t: %s:3:2: ", tu_path("bad/a.csv"));
    ck_assert_msg(strncmp(err, where, strlen(where)) == 0, "got '%s'", err);
    ck_assert_ptr_null(c);
    free(err);
    cli_cohort_args_free(&ca);
}
END_TEST

/* ---- progress ----------------------------------------------------------------------------- */

START_TEST(test_progress_lines)
{
    cli_progress p;
    capture_begin(stderr);
    cli_progress_start(&p, "training", 10, 0);
    p.tty = 0; /* as in a log file */
    p.interval = 0;
    cli_progress_update(&p, 3, "loss %.2f", 0.5);
    cli_progress_update(&p, 4, NULL);
    cli_progress_finish(&p, "done");
    char *err = capture_end();
    ck_assert_ptr_nonnull(strstr(err, "training 3/10 ( 30%) "));
    ck_assert_ptr_nonnull(strstr(err, "s loss 0.50\n"));
    ck_assert_ptr_nonnull(strstr(err, "training 4/10 ( 40%) "));
    ck_assert_ptr_nonnull(strstr(err, "training 10/10 (100%) "));
    ck_assert_ptr_nonnull(strstr(err, "s done\n"));
    ck_assert_ptr_null(strchr(err, '\r'));
    free(err);

    /* Rate limited: with a long interval only the first update and the end are printed. */
    capture_begin(stderr);
    cli_progress_start(&p, "steps", 0, 0);
    p.tty = 0;
    p.interval = 3600;
    for (int k = 1; k <= 50; k++) cli_progress_update(&p, k, NULL);
    cli_progress_finish(&p, NULL);
    err = capture_end();
    int lines = 0;
    for (char *q = err; *q; q++) lines += *q == '\n';
    ck_assert_int_eq(lines, 2);
    ck_assert_ptr_nonnull(strstr(err, "steps 1 "));
    ck_assert_ptr_nonnull(strstr(err, "steps 50 "));
    free(err);

    capture_begin(stderr);
    cli_progress_start(&p, "quiet", 5, 1);
    cli_progress_update(&p, 1, NULL);
    cli_progress_finish(&p, NULL);
    err = capture_end();
    ck_assert_str_eq(err, "");
    free(err);
}
END_TEST

/* ---- output files ------------------------------------------------------------------------- */

START_TEST(test_outfile_atomic)
{
    const char *path = tu_path("out.csv");
    cli_outfile o;
    ck_assert_int_eq(cli_outfile_open(&o, "t", path), 0);
    fputs("a,b\n", o.f);
    fflush(o.f);
    ck_assert(access(path, F_OK) != 0); /* not there until committed */
    ck_assert_int_eq(tu_n_entries(tu_tmp_root), 1); /* only the temporary file */
    ck_assert_int_eq(cli_outfile_commit(&o, "t"), 0);
    char *text = read_text(path);
    ck_assert_str_eq(text, "a,b\n");
    free(text);
    ck_assert_int_eq(tu_n_entries(tu_tmp_root), 1);
    cli_outfile_abort(&o); /* harmless after commit */

    /* Aborting leaves the old file as it was and no temporary file. */
    ck_assert_int_eq(cli_outfile_open(&o, "t", path), 0);
    fputs("half", o.f);
    cli_outfile_abort(&o);
    text = read_text(path);
    ck_assert_str_eq(text, "a,b\n");
    free(text);
    ck_assert_int_eq(tu_n_entries(tu_tmp_root), 1);

    capture_begin(stderr);
    int rc = cli_outfile_open(&o, "t", tu_path("no/such/dir/out.csv"));
    char *err = capture_end();
    ck_assert_int_eq(rc, 1);
    ck_assert_ptr_nonnull(strstr(err, "gfuse t: "));
    ck_assert_ptr_nonnull(strstr(err, "no/such/dir/out.csv: cannot create"));
    free(err);

    capture_begin(stdout);
    ck_assert_int_eq(cli_outfile_open(&o, "t", "-"), 0);
    fputs("to stdout\n", o.f);
    ck_assert_int_eq(cli_outfile_commit(&o, "t"), 0);
    char *out = capture_end();
    ck_assert_str_eq(out, "to stdout\n");
    free(out);
}
END_TEST

/* ---- JSON and CSV ------------------------------------------------------------------------- */

START_TEST(test_json)
{
    cli_outfile o;
    ck_assert_int_eq(cli_outfile_open(&o, "t", tu_path("x.json")), 0);
    cli_json j;
    cli_json_init(&j, o.f);
    cli_json_begin_object(&j);
    cli_json_key(&j, "s");
    cli_json_string(&j, "q\"b\\n\nt\tc\x01 \xc3\xa9");
    cli_json_key(&j, "n");
    cli_json_int(&j, -9000000000LL);
    cli_json_key(&j, "d");
    cli_json_begin_array(&j);
    cli_json_double(&j, 0.1);
    cli_json_double(&j, 1.0 / 3.0);
    cli_json_double(&j, NAN);
    cli_json_double(&j, -INFINITY);
    cli_json_double(&j, 1e300);
    cli_json_end_array(&j);
    cli_json_key(&j, "empty");
    cli_json_begin_object(&j);
    cli_json_end_object(&j);
    cli_json_key(&j, "none");
    cli_json_begin_array(&j);
    cli_json_end_array(&j);
    cli_json_key(&j, "b");
    cli_json_bool(&j, 1);
    cli_json_key(&j, "z");
    cli_json_null(&j);
    cli_json_end_object(&j);
    cli_json_finish(&j);
    ck_assert_int_eq(cli_outfile_commit(&o, "t"), 0);
    char *text = read_text(tu_path("x.json"));
    ck_assert_str_eq(text, "{\n"
                           "  \"s\": \"q\\\"b\\\\n\\nt\\tc\\u0001 \xc3\xa9\",\n"
                           "  \"n\": -9000000000,\n"
                           "  \"d\": [\n"
                           "    0.1,\n"
                           "    0.33333333333333331,\n"
                           "    null,\n"
                           "    null,\n"
                           "    1e+300\n"
                           "  ],\n"
                           "  \"empty\": {},\n"
                           "  \"none\": [],\n"
                           "  \"b\": true,\n"
                           "  \"z\": null\n"
                           "}\n");
    free(text);
}
END_TEST

START_TEST(test_csv)
{
    cli_outfile o;
    ck_assert_int_eq(cli_outfile_open(&o, "t", tu_path("x.csv")), 0);
    cli_csv c;
    cli_csv_init(&c, o.f, ',');
    cli_csv_string(&c, "plain");
    cli_csv_string(&c, "a,b");
    cli_csv_string(&c, "say \"hi\"");
    cli_csv_string(&c, "two\nlines");
    cli_csv_string(&c, "cr\r");
    cli_csv_string(&c, "");
    cli_csv_end_row(&c);
    cli_csv_int(&c, 42);
    cli_csv_double(&c, (double)0.1f);
    cli_csv_double(&c, NAN);
    cli_csv_double(&c, -2.5);
    cli_csv_string(&c, "tab\there");
    cli_csv_end_row(&c);
    cli_csv_init(&c, o.f, '\t');
    cli_csv_string(&c, "a,b");
    cli_csv_string(&c, "tab\there");
    cli_csv_end_row(&c);
    ck_assert_int_eq(cli_outfile_commit(&o, "t"), 0);
    char *text = read_text(tu_path("x.csv"));
    ck_assert_str_eq(text, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\r\",\n"
                           "42,0.100000001,NA,-2.5,tab\there\n"
                           "a,b\t\"tab\there\"\n");
    free(text);
}
END_TEST

static Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *options = tcase_create("options");
    tcase_add_checked_fixture(options, tu_tmp_setup, tu_tmp_teardown);
    tcase_add_test(options, test_parse_every_kind);
    tcase_add_test(options, test_parse_defaults_kept_and_last_wins);
    tcase_add_loop_test(options, test_parse_errors, 0,
                        (int)(sizeof bad_lines / sizeof bad_lines[0]));
    tcase_add_test(options, test_help);
    tcase_add_test(options, test_exit_codes);
    tcase_add_test(options, test_cohort_options);
    tcase_add_test(options, test_cohort_option_errors);
    suite_add_tcase(s, options);

    TU_TCASE(s, "output", tu_tmp_setup, tu_tmp_teardown,
        test_progress_lines, test_outfile_atomic, test_json, test_csv);
    return s;
}

int main(void) { return tu_run_suite(cli_suite()); }
