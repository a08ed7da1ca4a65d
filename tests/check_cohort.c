/*
 * check_cohort.c: the cohort model: folder and explicit-file loading, the union of samples,
 * missing rows, labels, split, masks, the in-memory builder, missing-modality patterns, and the
 * shared ROSMAP cohort when it is available.
 */
#include "testutil.h"

#include <math.h>

/* ---- helpers --------------------------------------------------------------------------------- */

static gfuse_cohort *load_dir_opts(gfuse_cohort_options *o)
{
    gfuse_cohort *c = NULL;
    gfuse_status st = gfuse_cohort_load(&c, o);
    ck_assert_msg(st == GFUSE_OK, "load failed: %s", gfuse_last_error());
    return c;
}

/* The cohort in the folder dir (an absolute path) with the mask file mask (or NULL). */
static gfuse_cohort *load_folder(const char *dir, const char *mask)
{
    gfuse_cohort_options o;
    gfuse_cohort_options_init(&o);
    o.dir = dir;
    o.mask_file = mask;
    return load_dir_opts(&o);
}

static gfuse_cohort *load_dir(const char *rel, const char *mask)
{
    return load_folder(tu_path(rel), mask);
}

/* Default options reading the cohort folder rel of the test's folder. */
static gfuse_cohort_options folder_options(const char *rel)
{
    gfuse_cohort_options o;
    gfuse_cohort_options_init(&o);
    o.dir = tu_path(rel);
    return o;
}

/* Loading must fail with status and the message "<path of rel_file><suffix>". */
static void expect_load_error(gfuse_cohort_options *o, gfuse_status status, const char *rel_file,
                              const char *suffix)
{
    gfuse_cohort *c = (gfuse_cohort *)&c;
    ck_assert_int_eq(gfuse_cohort_load(&c, o), status);
    ck_assert_ptr_null(c);
    char want[2048];
    snprintf(want, sizeof want, "%s%s", rel_file ? tu_path(rel_file) : "", suffix);
    ck_assert_str_eq(gfuse_last_error(), want);
}

/* A malformed file: its text and the end of the message its load fails with. */
typedef struct {
    const char *text;
    const char *suffix;
} bad_file;

/* Writes each case's text to rel in turn: loading must fail with GFUSE_ERR_DATA and the
 * message "<path of rel><suffix>". */
static void expect_bad_files(gfuse_cohort_options *o, const char *rel, const bad_file *cases,
                             size_t n)
{
    for (size_t k = 0; k < n; k++) {
        tu_write(rel, cases[k].text);
        expect_load_error(o, GFUSE_ERR_DATA, rel, cases[k].suffix);
    }
}
#define EXPECT_BAD_FILES(o, rel, ...)                                                              \
    do {                                                                                           \
        const bad_file cases_[] = {__VA_ARGS__};                                                   \
        expect_bad_files(o, rel, cases_, sizeof cases_ / sizeof cases_[0]);                        \
    } while (0)

static int64_t sample(const gfuse_cohort *c, const char *id)
{
    int64_t i = gfuse_cohort_find_sample(c, id);
    ck_assert_msg(i >= 0, "sample %s not found", id);
    return i;
}

/* The warning of c that starts with prefix, or NULL. */
static const char *warning_with(const gfuse_cohort *c, const char *prefix)
{
    for (int64_t k = 0; k < gfuse_cohort_n_warnings(c); k++)
        if (strncmp(gfuse_cohort_warning(c, k), prefix, strlen(prefix)) == 0)
            return gfuse_cohort_warning(c, k);
    return NULL;
}

/* c has a warning "<path of rel><suffix>" (among others). */
static void expect_warning(const gfuse_cohort *c, const char *rel, const char *suffix)
{
    char want[2048];
    snprintf(want, sizeof want, "%s%s", tu_path(rel), suffix);
    ck_assert_msg(warning_with(c, want) != NULL, "no warning \"%s\"", want);
}

/* A three-modality cohort with a missing file row, an all-missing row and labels. */
static void write_small_cohort(void)
{
    tu_write("c/rna.csv", "id,g1,g2\nA,1,2\nB,3,4\nC,NA,6\n");
    tu_write("c/Prot.csv", "id,p1\nD,7\nB,8\nE,NA\n");
    tu_write("c/meth.tsv", "id\tm1\tm2\tm3\nC\t0.1\t0.2\t0.3\nA\tNA\t\tNaN\n");
    tu_write("c/labels.csv", "id,label\nA,case\nB,control\nC,\nD,case\nZ,control\n");
    tu_write("c/split.csv", "id,split\nA,train\nB,TRAIN\nC,Val\nD,test\n");
    tu_write("c/mask_protocol.csv", "id,rna\nA,0\n");
    tu_write("c/notes.txt", "not a modality\n");
    tu_write("c/.hidden.csv", "id,x\nA,1\n");
    tu_write("c/truth/rna.csv", "id,g1\nA,1\n");
}

/* A built cohort of n samples (gfuse_cohort_new must succeed). */
static gfuse_cohort *new_cohort(int64_t n, const char *const *ids)
{
    gfuse_cohort *c = NULL;
    ck_assert_int_eq(gfuse_cohort_new(&c, n, ids), GFUSE_OK);
    return c;
}

/* Adds a modality of d unnamed features to c (it must succeed). */
static void add_modality(gfuse_cohort *c, const char *name, int64_t d, const float *values)
{
    ck_assert_int_eq(gfuse_cohort_add_modality(c, name, d, NULL, values), GFUSE_OK);
}

/* ---- folder loading ---------------------------------------------------------------------------- */

/* One sample, id, with one modality, name, of one feature, value 1. */
static gfuse_cohort *one_value_cohort(const char *id, const char *name)
{
    gfuse_cohort *c = new_cohort(1, (const char *const[]){id});
    add_modality(c, name, 1, (const float[]){1});
    return c;
}

START_TEST(test_folder_modalities_sorted)
{
    write_small_cohort();
    gfuse_cohort *c = load_dir("c", NULL);
    ck_assert_int_eq(gfuse_cohort_n_modalities(c), 3);
    /* strcmp order: uppercase first */
    ck_assert_str_eq(gfuse_cohort_modality_name(c, 0), "Prot");
    ck_assert_str_eq(gfuse_cohort_modality_name(c, 1), "meth");
    ck_assert_str_eq(gfuse_cohort_modality_name(c, 2), "rna");
    ck_assert_str_eq(gfuse_cohort_modality_file(c, 2), tu_path("c/rna.csv"));
    ck_assert_int_eq(gfuse_cohort_n_features(c, 0), 1);
    ck_assert_int_eq(gfuse_cohort_n_features(c, 1), 3);
    ck_assert_int_eq(gfuse_cohort_n_features(c, 2), 2);
    ck_assert_str_eq(gfuse_cohort_feature_name(c, 1, 2), "m3");
    gfuse_cohort_free(&c);
    ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_union_of_samples)
{
    write_small_cohort();
    gfuse_cohort *c = load_dir("c", NULL);
    /* Prot: D, B, (E all missing); meth: C, (A all missing); rna: A, B, C. */
    ck_assert_int_eq(gfuse_cohort_n_samples(c), 4);
    const char *order[] = {"D", "B", "C", "A"};
    for (int i = 0; i < 4; i++) ck_assert_str_eq(gfuse_cohort_sample_id(c, i), order[i]);
    ck_assert_int_eq(gfuse_cohort_find_sample(c, "E"), -1);
    ck_assert_int_eq(gfuse_cohort_find_sample(c, "Z"), -1);
    ck_assert_str_eq(warning_with(c, "samples with no value"),
                     "samples with no value in any modality file are excluded: \"E\"");
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_missing_rows)
{
    write_small_cohort();
    gfuse_cohort *c = load_dir("c", NULL);
    int64_t a = sample(c, "A"), b = sample(c, "B"), cc = sample(c, "C"), d = sample(c, "D");
    /* meth: A's row is all missing: lacks it, but the row is kept */
    ck_assert_int_eq(gfuse_cohort_has_modality(c, a, 1), 0);
    ck_assert_ptr_null(gfuse_cohort_values(c, a, 1));
    ck_assert_ptr_nonnull(gfuse_cohort_values_unmasked(c, a, 1));
    ck_assert(isnan(gfuse_cohort_values_unmasked(c, a, 1)[0]));
    /* B has no meth row at all */
    ck_assert_int_eq(gfuse_cohort_has_modality(c, b, 1), 0);
    ck_assert_ptr_null(gfuse_cohort_values_unmasked(c, b, 1));
    /* C has rna with one missing cell */
    ck_assert_int_eq(gfuse_cohort_has_modality(c, cc, 2), 1);
    const float *x = gfuse_cohort_values(c, cc, 2);
    ck_assert(isnan(x[0]) && x[1] == 6.0f);
    ck_assert_int_eq(gfuse_cohort_n_missing_cells(c, 2), 1);
    ck_assert_int_eq(gfuse_cohort_n_missing_cells(c, 1), 0); /* A's row is not present */
    ck_assert_int_eq(gfuse_cohort_has_modality(c, d, 0), 1);
    ck_assert_float_eq(gfuse_cohort_values(c, d, 0)[0], 7.0f);
    ck_assert_int_eq(gfuse_cohort_has_modality(c, d, 2), 0);
    ck_assert_float_eq(gfuse_cohort_values(c, sample(c, "C"), 1)[2], 0.3f);
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_string_labels)
{
    write_small_cohort();
    gfuse_cohort *c = load_dir("c", NULL);
    ck_assert_int_eq(gfuse_cohort_task(c), GFUSE_TASK_CLASSIFY);
    ck_assert_int_eq(gfuse_cohort_n_classes(c), 2);
    ck_assert_str_eq(gfuse_cohort_class_name(c, 0), "case");
    ck_assert_str_eq(gfuse_cohort_class_name(c, 1), "control");
    ck_assert_int_eq(gfuse_cohort_label(c, sample(c, "A")), 0);
    ck_assert_int_eq(gfuse_cohort_label(c, sample(c, "B")), 1);
    ck_assert_int_eq(gfuse_cohort_label(c, sample(c, "C")), -1); /* empty label */
    ck_assert_int_eq(gfuse_cohort_label(c, sample(c, "D")), 0);
    ck_assert(isnan(gfuse_cohort_target(c, 0)));
    char want[1024];
    snprintf(want, sizeof want, "%s: labels of ids that are not samples of the cohort are "
             "ignored: \"Z\"", tu_path("c/labels.csv"));
    ck_assert_ptr_nonnull(warning_with(c, tu_path("c/labels.csv")));
    ck_assert_str_eq(warning_with(c, tu_path("c/labels.csv")), want);
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_integer_labels_sort_numerically)
{
    tu_write("c/a.csv", "id,x\nS1,1\nS2,2\nS3,3\nS4,4\nS5,5\n");
    tu_write("c/labels.csv", "id,label\nS1,10\nS2,9\nS3,-1\nS4,NA\nS5,9\n");
    gfuse_cohort *c = load_dir("c", NULL);
    ck_assert_int_eq(gfuse_cohort_n_classes(c), 3);
    ck_assert_str_eq(gfuse_cohort_class_name(c, 0), "-1");
    ck_assert_str_eq(gfuse_cohort_class_name(c, 1), "9");
    ck_assert_str_eq(gfuse_cohort_class_name(c, 2), "10");
    const int32_t want[] = {2, 1, 0, -1, 1};
    for (int i = 0; i < 5; i++) ck_assert_int_eq(gfuse_cohort_label(c, i), want[i]);
    gfuse_cohort_free(&c);
    /* mixed numbers and words sort byte-wise */
    tu_write("c/labels.csv", "id,label\nS1,10\nS2,9\nS3,b\n");
    c = load_dir("c", NULL);
    ck_assert_str_eq(gfuse_cohort_class_name(c, 0), "10");
    ck_assert_str_eq(gfuse_cohort_class_name(c, 1), "9");
    ck_assert_str_eq(gfuse_cohort_class_name(c, 2), "b");
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_regression_labels)
{
    tu_write("c/a.csv", "id,x\nS1,1\nS2,2\nS3,3\n");
    tu_write("c/labels.csv", "id,label\nS1,1.5\nS2,\nS3,-2e3\n");
    gfuse_cohort_options o = folder_options("c");
    o.task = GFUSE_TASK_REGRESS;
    gfuse_cohort *c = load_dir_opts(&o);
    ck_assert_int_eq(gfuse_cohort_task(c), GFUSE_TASK_REGRESS);
    ck_assert_int_eq(gfuse_cohort_n_classes(c), 0);
    ck_assert(gfuse_cohort_target(c, 0) == 1.5);
    ck_assert(isnan(gfuse_cohort_target(c, 1)));
    ck_assert(gfuse_cohort_target(c, 2) == -2000.0);
    ck_assert_int_eq(gfuse_cohort_label(c, 0), -1);
    gfuse_cohort_free(&c);

    tu_write("c/labels.csv", "id,label\nS1,1.5\nS2,high\n");
    expect_load_error(&o, GFUSE_ERR_DATA, "c/labels.csv",
                      ":3:2: label \"high\" is not a number (regression labels must be numbers)");
    tu_write("c/labels.csv", "id,label\nS1,inf\n");
    expect_load_error(&o, GFUSE_ERR_DATA, "c/labels.csv", ":2:2: infinite label \"inf\"");
}
END_TEST

START_TEST(test_no_labels)
{
    tu_write("c/a.csv", "id,x\nS1,1\n");
    gfuse_cohort *c = load_dir("c", NULL);
    ck_assert_int_eq(gfuse_cohort_task(c), GFUSE_TASK_AUTO);
    ck_assert_int_eq(gfuse_cohort_n_classes(c), 0);
    ck_assert_int_eq(gfuse_cohort_label(c, 0), -1);
    ck_assert_int_eq(gfuse_cohort_has_split(c), 0);
    ck_assert_int_eq(gfuse_cohort_split(c, 0), GFUSE_SPLIT_NONE);
    ck_assert_int_eq(gfuse_cohort_n_warnings(c), 0);
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_labels_errors)
{
    gfuse_cohort_options o = folder_options("c");
    tu_write("c/a.csv", "id,x\nS1,1\nS2,2\n");
    EXPECT_BAD_FILES(
        &o, "c/labels.csv",
        {"id,label\nS1,a\nS2,b\nS1,c\n", ":4:1: duplicate id \"S1\" (first on line 2)"},
        {"id,label,weight\nS1,a,1\n", ":1:3: the header has 3 columns; expected id,label"},
        {"id,label\nS1\n",
         ":2:2: row has 1 field but the header has 2 (column \"label\" is missing)"},
        {"S1,1\nS2,0\n", ":1:2: missing header: the first row holds numbers (\"1\"); expected "
                         "id,label (quote numeric column names)"});
    o.labels_file = tu_path("nope.csv");
    expect_load_error(&o, GFUSE_ERR_IO, "nope.csv", ": cannot open: No such file or directory");
}
END_TEST

START_TEST(test_split)
{
    write_small_cohort();
    gfuse_cohort *c = load_dir("c", NULL);
    ck_assert_int_eq(gfuse_cohort_has_split(c), 1);
    ck_assert_int_eq(gfuse_cohort_split(c, sample(c, "A")), GFUSE_SPLIT_TRAIN);
    ck_assert_int_eq(gfuse_cohort_split(c, sample(c, "B")), GFUSE_SPLIT_TRAIN);
    ck_assert_int_eq(gfuse_cohort_split(c, sample(c, "C")), GFUSE_SPLIT_VAL);
    ck_assert_int_eq(gfuse_cohort_split(c, sample(c, "D")), GFUSE_SPLIT_TEST);
    gfuse_cohort_free(&c);

    tu_write("c/split.csv", "id,split\nA,train\nB,holdout\n");
    gfuse_cohort_options o = folder_options("c");
    expect_load_error(&o, GFUSE_ERR_DATA, "c/split.csv",
                      ":3:2: split \"holdout\" is not train, val or test");

    tu_write("c/split.csv", "id,split\nA,test\nQ,train\n");
    c = load_dir("c", NULL);
    expect_warning(c, "c/split.csv",
                   ": samples not in the split file belong to no split: \"D\", \"B\", \"C\"");
    expect_warning(c, "c/split.csv", ": ids that are not samples of the cohort are ignored: \"Q\"");
    ck_assert_int_eq(gfuse_cohort_split(c, sample(c, "B")), GFUSE_SPLIT_NONE);
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_mask)
{
    write_small_cohort();
    tu_write("m.csv", "id,rna,Prot\nA,0,1\nB,1,0\nD,1,0\nQ,1,1\n");
    gfuse_cohort *c = load_dir("c", tu_path("m.csv"));
    int64_t a = sample(c, "A"), b = sample(c, "B"), d = sample(c, "D");
    ck_assert_int_eq(gfuse_cohort_has_modality(c, a, 2), 0);
    ck_assert_ptr_null(gfuse_cohort_values(c, a, 2));
    ck_assert_float_eq(gfuse_cohort_values_unmasked(c, a, 2)[1], 2.0f);
    ck_assert_int_eq(gfuse_cohort_has_modality(c, b, 0), 0);
    ck_assert_int_eq(gfuse_cohort_has_modality(c, b, 2), 1);
    /* D had only Prot: it is kept with no modality, and that is reported */
    ck_assert_int_eq(gfuse_cohort_has_modality(c, d, 0), 0);
    ck_assert_int_eq(gfuse_cohort_n_samples(c), 4);
    expect_warning(c, "m.csv", ": samples left with no modality stay in the cohort with every "
                               "modality missing: \"D\"");
    expect_warning(c, "m.csv", ": ids that are not samples of the cohort are ignored: \"Q\"");
    expect_warning(c, "m.csv", ": samples not in the mask keep every modality: \"C\"");
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_mask_recounts_missing_cells)
{
    tu_write("c/a.csv", "id,x,y\nS1,NA,1\nS2,NA,NA\nS3,2,NA\n");
    tu_write("c/b.csv", "id,z\nS2,1\n");
    gfuse_cohort *c = load_dir("c", NULL);
    ck_assert_int_eq(gfuse_cohort_n_missing_cells(c, 0), 2);
    gfuse_cohort_free(&c);
    tu_write("m.csv", "id,a\nS1,0\nS3,1\n");
    c = load_dir("c", tu_path("m.csv"));
    ck_assert_int_eq(gfuse_cohort_n_missing_cells(c, 0), 1);
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_mask_errors)
{
    write_small_cohort();
    gfuse_cohort_options o = folder_options("c");
    o.mask_file = tu_path("m.csv");
    EXPECT_BAD_FILES(
        &o, "m.csv",
        {"id,rna,protein\nA,1,0\n", ":1:3: mask column \"protein\" is not a modality of the "
                                    "cohort (modalities: Prot, meth, rna)"},
        {"id,rna\nA,1\nB,2\n",
         ":3:2: mask value \"2\" in column \"rna\" must be 0 (hide) or 1 (keep)"},
        {"id,rna,meth\nA,1,\n",
         ":2:3: mask value \"\" in column \"meth\" must be 0 (hide) or 1 (keep)"},
        {"id,rna,rna\nA,1,1\n", ":1:3: duplicate column name \"rna\" (also column 2)"},
        {"id,rna\nA,1\nA,0\n", ":3:1: duplicate id \"A\" (first on line 2)"});
    o.mask_file = tu_path("none.csv");
    expect_load_error(&o, GFUSE_ERR_IO, "none.csv", ": cannot open: No such file or directory");
}
END_TEST

START_TEST(test_explicit_files)
{
    write_small_cohort();
    const char *names[] = {"rna", "extra"};
    const char *files[] = {tu_write("other_rna.csv", "id,h1\nA,5\nX,6\n"),
                           tu_write("extra.tsv", "id\te1\nB\t1\n")};
    gfuse_cohort_options o = folder_options("c");
    o.modality_names = names;
    o.modality_files = files;
    o.n_modality_files = 2;
    o.labels_file = tu_write("l.csv", "id,label\nX,yes\n");
    o.split_file = tu_write("s.csv", "id,split\nX,test\n");
    gfuse_cohort *c = load_dir_opts(&o);
    ck_assert_int_eq(gfuse_cohort_n_modalities(c), 4);
    ck_assert_str_eq(gfuse_cohort_modality_name(c, 1), "extra");
    ck_assert_str_eq(gfuse_cohort_modality_name(c, 3), "rna");
    ck_assert_str_eq(gfuse_cohort_modality_file(c, 3), files[0]);
    ck_assert_str_eq(gfuse_cohort_feature_name(c, 3, 0), "h1");
    int64_t x = sample(c, "X");
    ck_assert_float_eq(gfuse_cohort_values(c, x, 3)[0], 6.0f);
    ck_assert_int_eq(gfuse_cohort_label(c, x), 0);
    ck_assert_str_eq(gfuse_cohort_class_name(c, 0), "yes");
    ck_assert_int_eq(gfuse_cohort_split(c, x), GFUSE_SPLIT_TEST);
    ck_assert_int_eq(gfuse_cohort_label(c, sample(c, "A")), -1);
    gfuse_cohort_free(&c);

    /* no folder at all: only the explicit files, no labels */
    o.dir = NULL;
    o.labels_file = NULL;
    o.split_file = NULL;
    c = load_dir_opts(&o);
    ck_assert_int_eq(gfuse_cohort_n_modalities(c), 2);
    ck_assert_int_eq(gfuse_cohort_n_samples(c), 3);
    ck_assert_int_eq(gfuse_cohort_task(c), GFUSE_TASK_AUTO);
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_default_tsv_labels)
{
    tu_write("c/a.csv", "id,x\nS1,1\nS2,2\n");
    tu_write("c/labels.tsv", "id\tlabel\nS1\tx y\nS2\tz\n");
    tu_write("c/split.tsv", "id\tsplit\nS1\ttest\nS2\ttrain\n");
    gfuse_cohort *c = load_dir("c", NULL);
    ck_assert_int_eq(gfuse_cohort_n_modalities(c), 1);
    ck_assert_str_eq(gfuse_cohort_class_name(c, 0), "x y");
    ck_assert_int_eq(gfuse_cohort_split(c, 0), GFUSE_SPLIT_TEST);
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_option_errors)
{
    gfuse_cohort *c = NULL;
    gfuse_cohort_options o;
    gfuse_cohort_options_init(&o);
    ck_assert_int_eq(o.task, GFUSE_TASK_AUTO);
    ck_assert_ptr_null(o.dir);
    ck_assert_int_eq(gfuse_cohort_load(&c, NULL), GFUSE_ERR_ARG);
    ck_assert_str_eq(gfuse_last_error(), "opts must not be NULL");
    ck_assert_int_eq(gfuse_cohort_load(NULL, &o), GFUSE_ERR_ARG);
    ck_assert_int_eq(gfuse_cohort_load(&c, &o), GFUSE_ERR_ARG);
    ck_assert_str_eq(gfuse_last_error(), "give a cohort folder (dir) or at least one modality file");
    const char *names[] = {"a", "a"}, *files[] = {"x.csv", "y.csv"};
    o.modality_names = names;
    o.modality_files = files;
    o.n_modality_files = 2;
    ck_assert_int_eq(gfuse_cohort_load(&c, &o), GFUSE_ERR_ARG);
    ck_assert_str_eq(gfuse_last_error(), "modality \"a\" is given twice");
    o.n_modality_files = 1;
    o.task = (gfuse_task)7;
    ck_assert_int_eq(gfuse_cohort_load(&c, &o), GFUSE_ERR_ARG);
    ck_assert_str_eq(gfuse_last_error(), "task must be a gfuse_task value, got 7");
    ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_folder_errors)
{
    gfuse_cohort_options o = folder_options("c");
    tu_write("c/labels.csv", "id,label\nA,1\n");
    tu_write("c/mask.csv", "id,a\nA,1\n");
    expect_load_error(&o, GFUSE_ERR_DATA, "c", ": no modality files (*.csv or *.tsv other than "
                      "labels, split and mask files)");
    tu_write("c/a.csv", "id,x\nA,NA\n");
    tu_write("c/b.csv", "id,y\n");
    char want[1024];
    snprintf(want, sizeof want, "%s and the others: the cohort has no samples: no modality file "
             "has a row with a value", tu_path("c/a.csv"));
    gfuse_cohort *c = NULL;
    ck_assert_int_eq(gfuse_cohort_load(&c, &o), GFUSE_ERR_DATA);
    ck_assert_str_eq(gfuse_last_error(), want);
    tu_write("c/a.tsv", "id\tx\nA\t1\n");
    ck_assert_int_eq(gfuse_cohort_load(&c, &o), GFUSE_ERR_DATA);
    ck_assert_ptr_nonnull(strstr(gfuse_last_error(), "would both be modality \"a\""));
    ck_assert_ptr_null(c);
}
END_TEST

/* A failure late in loading (the mask) leaves nothing behind: *out stays NULL (and the
 * sanitizer build checks that nothing leaks). */
START_TEST(test_failure_is_atomic)
{
    write_small_cohort();
    gfuse_cohort_options o = folder_options("c");
    o.mask_file = tu_write("m.csv", "id,rna\nA,x\n");
    gfuse_cohort *c = NULL;
    ck_assert_int_eq(gfuse_cohort_load(&c, &o), GFUSE_ERR_DATA);
    ck_assert_ptr_null(c);
    o.mask_file = NULL;
    c = load_dir_opts(&o);
    ck_assert_str_eq(gfuse_last_error(), "");
    gfuse_cohort_free(&c);
}
END_TEST

/* ---- builder ----------------------------------------------------------------------------------- */

START_TEST(test_builder)
{
    const char *ids[] = {"p1", "p2", "p3"};
    gfuse_cohort *c = new_cohort(3, ids);
    const float xa[] = {1, 2, NAN, NAN, 5, NAN};
    const char *fa[] = {"u", "v"};
    ck_assert_int_eq(gfuse_cohort_add_modality(c, "a", 2, fa, xa), GFUSE_OK);
    const float xb[] = {1, 2, 3};
    add_modality(c, "b", 1, xb);
    ck_assert_int_eq(gfuse_cohort_n_modalities(c), 2);
    ck_assert_str_eq(gfuse_cohort_modality_name(c, 1), "b");
    ck_assert_str_eq(gfuse_cohort_modality_file(c, 1), "");
    ck_assert_str_eq(gfuse_cohort_feature_name(c, 1, 0), "f1");
    ck_assert_int_eq(gfuse_cohort_has_modality(c, 1, 0), 0); /* all-NaN row */
    ck_assert_int_eq(gfuse_cohort_has_modality(c, 2, 0), 1);
    ck_assert_int_eq(gfuse_cohort_n_missing_cells(c, 0), 1); /* p3's v; p2's row is absent */
    ck_assert_int_eq(gfuse_cohort_find_sample(c, "p3"), 2);
    ck_assert_int_eq(gfuse_cohort_find_sample(c, "p4"), -1);

    const char *classes[] = {"no", "yes"};
    const int32_t label[] = {1, -1, 0};
    ck_assert_int_eq(gfuse_cohort_set_classes(c, 2, classes, label), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_task(c), GFUSE_TASK_CLASSIFY);
    ck_assert_int_eq(gfuse_cohort_label(c, 0), 1);
    ck_assert_str_eq(gfuse_cohort_class_name(c, 1), "yes");
    const gfuse_split split[] = {GFUSE_SPLIT_TRAIN, GFUSE_SPLIT_VAL, GFUSE_SPLIT_TEST};
    ck_assert_int_eq(gfuse_cohort_set_split(c, split), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_has_split(c), 1);
    ck_assert_int_eq(gfuse_cohort_split(c, 2), GFUSE_SPLIT_TEST);

    ck_assert_int_eq(gfuse_cohort_hide(c, 2, 0), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_has_modality(c, 2, 0), 0);
    ck_assert_int_eq(gfuse_cohort_n_missing_cells(c, 0), 0);
    ck_assert_float_eq(gfuse_cohort_values_unmasked(c, 2, 0)[0], 5.0f);
    ck_assert_int_eq(gfuse_cohort_hide(c, 2, 0), GFUSE_OK); /* hiding twice changes nothing */
    ck_assert_int_eq(gfuse_cohort_n_missing_cells(c, 0), 0);
    ck_assert_int_eq(gfuse_cohort_hide(c, 1, 0), GFUSE_OK); /* nor does hiding an absent row */
    ck_assert_int_eq(gfuse_cohort_n_missing_cells(c, 0), 0);

    const double target[] = {0.5, NAN, -1};
    ck_assert_int_eq(gfuse_cohort_set_targets(c, target), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_task(c), GFUSE_TASK_REGRESS);
    ck_assert_int_eq(gfuse_cohort_n_classes(c), 0);
    ck_assert_int_eq(gfuse_cohort_label(c, 0), -1);
    ck_assert(gfuse_cohort_target(c, 2) == -1.0);
    gfuse_cohort_free(&c);
    ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_builder_errors)
{
    gfuse_cohort *c = NULL;
    const char *dup[] = {"a", "b", "a"};
    ck_assert_int_eq(gfuse_cohort_new(&c, 3, dup), GFUSE_ERR_ARG);
    ck_assert_str_eq(gfuse_last_error(), "ids[2] \"a\" repeats ids[0]");
    ck_assert_ptr_null(c);
    ck_assert_int_eq(gfuse_cohort_new(&c, 0, dup), GFUSE_ERR_ARG);
    ck_assert_str_eq(gfuse_last_error(), "n_samples must be at least 1, got 0");
    const char *empty[] = {"a", ""};
    ck_assert_int_eq(gfuse_cohort_new(&c, 2, empty), GFUSE_ERR_ARG);
    ck_assert_str_eq(gfuse_last_error(), "ids[1] must be a non-empty string");

    const char *ids[] = {"a", "b"};
    ck_assert_int_eq(gfuse_cohort_new(&c, 2, ids), GFUSE_OK);
    const float x[] = {1, 2, 3, 4};
    const float xinf[] = {1, INFINITY, 3, 4};
    ck_assert_int_eq(gfuse_cohort_add_modality(c, "m", 2, NULL, xinf), GFUSE_ERR_ARG);
    ck_assert_str_eq(gfuse_last_error(), "values[1] is infinite (sample 0, feature 1)");
    const char *same[] = {"f", "f"};
    ck_assert_int_eq(gfuse_cohort_add_modality(c, "m", 2, same, x), GFUSE_ERR_ARG);
    ck_assert_str_eq(gfuse_last_error(), "feature_names[1] \"f\" repeats feature_names[0]");
    ck_assert_int_eq(gfuse_cohort_n_modalities(c), 0);
    ck_assert_int_eq(gfuse_cohort_add_modality(c, "m", 2, NULL, x), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_add_modality(c, "m", 2, NULL, x), GFUSE_ERR_ARG);
    ck_assert_str_eq(gfuse_last_error(), "the cohort already has a modality named \"m\"");
    ck_assert_int_eq(gfuse_cohort_add_modality(c, "n", 0, NULL, x), GFUSE_ERR_ARG);
    ck_assert_str_eq(gfuse_last_error(), "d must be at least 1, got 0");
    ck_assert_int_eq(gfuse_cohort_add_modality(c, "n\xff", 2, NULL, x), GFUSE_ERR_ARG);
    ck_assert_str_eq(gfuse_last_error(), "the modality name is not valid UTF-8");

    const char *classes[] = {"x", "y"};
    const int32_t bad_label[] = {0, 2};
    ck_assert_int_eq(gfuse_cohort_set_classes(c, 2, classes, bad_label), GFUSE_ERR_ARG);
    ck_assert_str_eq(gfuse_last_error(), "label[1] must be -1 or in [0, 2), got 2");
    const char *same_classes[] = {"x", "x"};
    const int32_t label[] = {0, 1};
    ck_assert_int_eq(gfuse_cohort_set_classes(c, 2, same_classes, label), GFUSE_ERR_ARG);
    ck_assert_str_eq(gfuse_last_error(), "class_names[1] \"x\" repeats class_names[0]");
    ck_assert_int_eq(gfuse_cohort_task(c), GFUSE_TASK_AUTO);
    const double target[] = {1, -INFINITY};
    ck_assert_int_eq(gfuse_cohort_set_targets(c, target), GFUSE_ERR_ARG);
    ck_assert_str_eq(gfuse_last_error(), "target[1] is infinite");
    const gfuse_split split[] = {GFUSE_SPLIT_TRAIN, (gfuse_split)9};
    ck_assert_int_eq(gfuse_cohort_set_split(c, split), GFUSE_ERR_ARG);
    ck_assert_int_eq(gfuse_cohort_has_split(c), 0);
    ck_assert_int_eq(gfuse_cohort_hide(c, 2, 0), GFUSE_ERR_ARG);
    ck_assert_str_eq(gfuse_last_error(), "sample index must be in [0, 2), got 2");
    ck_assert_int_eq(gfuse_cohort_hide(c, 0, 1), GFUSE_ERR_ARG);
    ck_assert_str_eq(gfuse_last_error(), "modality index must be in [0, 1), got 1");
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_accessors_out_of_range)
{
    gfuse_cohort *c = one_value_cohort("a", "m");
    ck_assert_ptr_null(gfuse_cohort_sample_id(c, 1));
    ck_assert_ptr_null(gfuse_cohort_sample_id(c, -1));
    ck_assert_ptr_null(gfuse_cohort_modality_name(c, 1));
    ck_assert_ptr_null(gfuse_cohort_feature_name(c, 0, 1));
    ck_assert_ptr_null(gfuse_cohort_values(c, 0, 1));
    ck_assert_ptr_null(gfuse_cohort_values_unmasked(c, 1, 0));
    ck_assert_int_eq(gfuse_cohort_n_features(c, 3), 0);
    ck_assert_int_eq(gfuse_cohort_has_modality(c, 0, -1), 0);
    ck_assert_int_eq(gfuse_cohort_label(c, 5), -1);
    ck_assert(isnan(gfuse_cohort_target(c, 5)));
    ck_assert_ptr_null(gfuse_cohort_class_name(c, 0));
    ck_assert_ptr_null(gfuse_cohort_warning(c, 0));
    ck_assert_int_eq(gfuse_cohort_find_sample(c, NULL), -1);
    ck_assert_int_eq(gfuse_cohort_n_samples(NULL), 0);
    ck_assert_int_eq(gfuse_cohort_n_modalities(NULL), 0);
    ck_assert_int_eq(gfuse_cohort_find_sample(NULL, "a"), -1);
    gfuse_cohort_free(&c);
}
END_TEST

/* ---- patterns ---------------------------------------------------------------------------------- */

START_TEST(test_patterns_order)
{
    /* 6 samples, 3 modalities; bit m set = modality m present */
    const char *ids[] = {"s0", "s1", "s2", "s3", "s4", "s5"};
    const float a[] = {1, 1, NAN, 1, NAN, 1};
    const float b[] = {1, NAN, 1, 1, NAN, NAN};
    const float cc[] = {NAN, 1, 1, NAN, 1, 1};
    gfuse_cohort *c = new_cohort(6, ids);
    add_modality(c, "a", 1, a);
    add_modality(c, "b", 1, b);
    add_modality(c, "c", 1, cc);
    /* s0 011, s1 101, s2 110, s3 011, s4 100, s5 101 */
    gfuse_patterns p;
    ck_assert_int_eq(gfuse_cohort_patterns(c, &p), GFUSE_OK);
    ck_assert_int_eq(p.n_patterns, 4);
    const uint64_t want_pattern[] = {3, 5, 4, 6};
    const int64_t want_count[] = {2, 2, 1, 1};
    for (int k = 0; k < 4; k++) {
        ck_assert_uint_eq(p.pattern[k], want_pattern[k]);
        ck_assert_int_eq(p.count[k], want_count[k]);
    }
    gfuse_patterns_free(&p);
    ck_assert_ptr_null(p.pattern);
    ck_assert_int_eq(p.n_patterns, 0);
    /* hiding every modality of s4 makes the empty pattern appear */
    ck_assert_int_eq(gfuse_cohort_hide(c, 4, 2), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_patterns(c, &p), GFUSE_OK);
    ck_assert_int_eq(p.n_patterns, 4);
    ck_assert_uint_eq(p.pattern[2], 0);
    ck_assert_int_eq(p.count[2], 1);
    gfuse_patterns_free(&p);
    gfuse_patterns_free(NULL);
    gfuse_cohort_free(&c);
}
END_TEST

START_TEST(test_patterns_too_many_modalities)
{
    gfuse_cohort *c = one_value_cohort("s", "m0");
    for (int m = 0; m < 65; m++) {
        char name[16];
        snprintf(name, sizeof name, "m%d", m);
        if (m > 0) add_modality(c, name, 1, (const float[]){1});
        gfuse_patterns p;
        ck_assert_int_eq(gfuse_cohort_patterns(c, &p), m < 64 ? GFUSE_OK : GFUSE_ERR_ARG);
        if (m < 64) {
            ck_assert_int_eq(p.n_patterns, 1);
            ck_assert_uint_eq(p.pattern[0], m == 63 ? UINT64_MAX : (UINT64_C(1) << (m + 1)) - 1);
        } else {
            ck_assert_ptr_null(p.pattern);
        }
        gfuse_patterns_free(&p);
    }
    ck_assert_str_eq(gfuse_last_error(), "missing-modality patterns support at most 64 "
                     "modalities; the cohort has 65");
    gfuse_cohort_free(&c);
}
END_TEST

/* ---- the shared ROSMAP cohort ------------------------------------------------------------------ */

/* The patterns a mask file implies, computed from the file alone: bit m set when the sample has
 * a 1 in the column of the m-th modality in name order. Counts per pattern in counts[8]. */
static void patterns_from_mask_file(const char *path, const char *const *mod_names,
                                    int64_t counts[8])
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[256];
    int col_mod[3] = {-1, -1, -1};
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    line[strcspn(line, "\r\n")] = '\0';
    char *save = NULL, *tok = strtok_r(line, ",", &save);
    for (int j = 0; (tok = strtok_r(NULL, ",", &save)) != NULL && j < 3; j++)
        for (int m = 0; m < 3; m++)
            if (strcmp(tok, mod_names[m]) == 0) col_mod[j] = m;
    memset(counts, 0, 8 * sizeof *counts);
    while (fgets(line, sizeof line, f)) {
        int v[3];
        char id[64];
        if (sscanf(line, "%63[^,],%d,%d,%d", id, &v[0], &v[1], &v[2]) != 4) continue;
        int bits = 0;
        for (int j = 0; j < 3; j++)
            if (v[j]) bits |= 1 << col_mod[j];
        counts[bits]++;
    }
    fclose(f);
}

START_TEST(test_rosmap)
{
    const char *dir = tu_shared_data("rosmap");
    if (!dir) return;
    gfuse_cohort *c = load_folder(dir, NULL);
    ck_assert_int_eq(gfuse_cohort_n_samples(c), 351);
    ck_assert_int_eq(gfuse_cohort_n_modalities(c), 3);
    ck_assert_str_eq(gfuse_cohort_modality_name(c, 0), "mRNA");
    ck_assert_str_eq(gfuse_cohort_modality_name(c, 1), "meth");
    ck_assert_str_eq(gfuse_cohort_modality_name(c, 2), "miRNA");
    for (int m = 0; m < 3; m++) {
        ck_assert_int_eq(gfuse_cohort_n_features(c, m), 200);
        ck_assert_int_eq(gfuse_cohort_n_missing_cells(c, m), 0);
    }
    ck_assert_str_eq(gfuse_cohort_sample_id(c, 0), "S0001");
    ck_assert_str_eq(gfuse_cohort_sample_id(c, 350), "S0351");
    ck_assert_int_eq(gfuse_cohort_task(c), GFUSE_TASK_CLASSIFY);
    ck_assert_int_eq(gfuse_cohort_n_classes(c), 2);
    ck_assert_str_eq(gfuse_cohort_class_name(c, 0), "0");
    ck_assert_str_eq(gfuse_cohort_class_name(c, 1), "1");
    int64_t per_class[2] = {0, 0}, per_split[4] = {0, 0, 0, 0};
    for (int64_t i = 0; i < 351; i++) {
        ck_assert_int_ge(gfuse_cohort_label(c, i), 0);
        per_class[gfuse_cohort_label(c, i)]++;
        per_split[gfuse_cohort_split(c, i)]++;
    }
    ck_assert_int_eq(per_class[0], 169);
    ck_assert_int_eq(per_class[1], 182);
    ck_assert_int_eq(per_split[GFUSE_SPLIT_TRAIN], 245);
    ck_assert_int_eq(per_split[GFUSE_SPLIT_TEST], 106);
    ck_assert_int_eq(gfuse_cohort_n_warnings(c), 0);
    gfuse_patterns p;
    ck_assert_int_eq(gfuse_cohort_patterns(c, &p), GFUSE_OK);
    ck_assert_int_eq(p.n_patterns, 1);
    ck_assert_uint_eq(p.pattern[0], 7);
    ck_assert_int_eq(p.count[0], 351);
    gfuse_patterns_free(&p);
    gfuse_cohort_free(&c);
}
END_TEST

/* The ROSMAP cohort under its protocol mask mask_r<rate>_s<seed>.csv, and in want[8] the
 * pattern counts the mask file gives on its own. */
static gfuse_cohort *rosmap_masked(const char *dir, int rate, int seed, int64_t want[8])
{
    static const char *const names[] = {"mRNA", "meth", "miRNA"};
    char mask[2048];
    snprintf(mask, sizeof mask, "%s/mask_r%d_s%d.csv", dir, rate, seed);
    patterns_from_mask_file(mask, names, want);
    gfuse_cohort *c = load_folder(dir, mask);
    ck_assert_int_eq(gfuse_cohort_n_samples(c), 351);
    ck_assert_int_eq(gfuse_cohort_n_warnings(c), 0);
    return c;
}

/* got[b]: the samples of presence pattern b as gfuse_cohort_patterns reports them (each
 * pattern below 8, most frequent first, 351 samples in all); returns the hidden cells. */
static int64_t rosmap_patterns(const gfuse_cohort *c, int64_t got[8])
{
    gfuse_patterns p;
    ck_assert_int_eq(gfuse_cohort_patterns(c, &p), GFUSE_OK);
    int64_t total = 0, hidden = 0;
    memset(got, 0, 8 * sizeof *got);
    for (int64_t k = 0; k < p.n_patterns; k++) {
        ck_assert_uint_lt(p.pattern[k], 8);
        got[p.pattern[k]] = p.count[k];
        total += p.count[k];
        hidden += p.count[k] * (3 - __builtin_popcountll(p.pattern[k]));
        if (k > 0) ck_assert_int_ge(p.count[k - 1], p.count[k]);
    }
    ck_assert_int_eq(total, 351);
    gfuse_patterns_free(&p);
    return hidden;
}

/* Every ROSMAP mask: the patterns gfuse reports equal those computed from the mask file. */
START_TEST(test_rosmap_masks)
{
    const char *dir = tu_shared_data("rosmap");
    if (!dir) return;
    const int rates[] = {10, 30, 50, 67};
    for (int r = 0; r < 4; r++) {
        for (int seed = 1; seed <= 5; seed++) {
            int64_t want[8], got[8];
            gfuse_cohort *c = rosmap_masked(dir, rates[r], seed, want);
            int64_t hidden = rosmap_patterns(c, got);
            /* the protocol: round(r n M) cells hidden (half to even), at most all but one
             * modality per sample */
            double cells = nearbyint(rates[r] / 100.0 * 351 * 3);
            ck_assert_int_eq(hidden, cells < 351 * 2 ? (int64_t)cells : 351 * 2);
            for (int b = 0; b < 8; b++)
                ck_assert_msg(got[b] == want[b],
                              "mask r%d s%d: pattern %d: %lld samples, the file says %lld",
                              rates[r], seed, b, (long long)got[b], (long long)want[b]);
            ck_assert_int_eq(got[0], 0);
            /* a hidden modality keeps its values for scoring completion */
            for (int64_t i = 0; i < 351; i++)
                for (int m = 0; m < 3; m++)
                    ck_assert_ptr_nonnull(gfuse_cohort_values_unmasked(c, i, m));
            gfuse_cohort_free(&c);
        }
    }
}
END_TEST

START_TEST(test_rosmap_mask_r50_s1)
{
    const char *dir = tu_shared_data("rosmap");
    if (!dir) return;
    int64_t want[8], got[8];
    gfuse_cohort *c = rosmap_masked(dir, 50, 1, want);
    /* S0002 is "0,1,0" in the file: only meth */
    int64_t s2 = sample(c, "S0002");
    ck_assert_int_eq(gfuse_cohort_has_modality(c, s2, 0), 0);
    ck_assert_int_eq(gfuse_cohort_has_modality(c, s2, 1), 1);
    ck_assert_int_eq(gfuse_cohort_has_modality(c, s2, 2), 0);
    rosmap_patterns(c, got);
    for (int b = 0; b < 8; b++) ck_assert_int_eq(got[b], want[b]);
    gfuse_cohort_free(&c);
}
END_TEST

Suite *cohort_suite(void)
{
    Suite *s = suite_create("cohort");
    TU_TCASE(s, "loading", tu_tmp_setup, tu_tmp_teardown,
        test_folder_modalities_sorted, test_union_of_samples, test_missing_rows,
        test_string_labels, test_integer_labels_sort_numerically, test_regression_labels,
        test_no_labels, test_labels_errors, test_split, test_mask,
        test_mask_recounts_missing_cells, test_mask_errors, test_explicit_files,
        test_default_tsv_labels, test_option_errors, test_folder_errors, test_failure_is_atomic);

    TU_TCASE(s, "builder", tu_tmp_setup, tu_tmp_teardown,
        test_builder, test_builder_errors, test_accessors_out_of_range, test_patterns_order,
        test_patterns_too_many_modalities);

    TCase *tc = TU_TCASE(s, "rosmap", tu_tmp_setup, tu_tmp_teardown,
        test_rosmap, test_rosmap_masks, test_rosmap_mask_r50_s1);
    tcase_set_timeout(tc, 120);
    return s;
}

int main(void) { return tu_run_suite(cohort_suite()); }
