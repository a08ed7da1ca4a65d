/* check_synth.c: the synthetic cohort generator (gfuse_synth_write). */
#include "testutil.h"

#include <math.h>

/* ---- helpers: whole files and small CSV tables --------------------------------------------- */

static char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (size) *size = (size_t)n;
    return buf;
}

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* A CSV file split into lines and fields (no quoting: the generator writes none). */
typedef struct {
    char *text;
    int n_rows;     /* including the header */
    int n_cols;     /* of the header */
    char ***field;  /* n_rows rows of n_cols fields */
    char **line;    /* each row's text before splitting */
} table;

static table read_table(const char *dir, const char *name)
{
    table t = {0};
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    t.text = read_file(path, NULL);
    for (char *p = t.text; *p; p++) t.n_rows += *p == '\n';
    t.field = calloc((size_t)t.n_rows, sizeof *t.field);
    t.line = calloc((size_t)t.n_rows, sizeof *t.line);
    char *p = t.text;
    for (int r = 0; r < t.n_rows; r++) {
        char *end = strchr(p, '\n');
        *end = '\0';
        t.line[r] = strdup(p);
        int cols = 1;
        for (char *q = p; *q; q++) cols += *q == ',';
        if (r == 0) t.n_cols = cols;
        ck_assert_msg(cols == t.n_cols, "%s line %d: %d fields, header has %d", name, r + 1, cols,
                      t.n_cols);
        t.field[r] = calloc((size_t)cols, sizeof *t.field[r]);
        int c = 0;
        t.field[r][c++] = p;
        for (char *q = p; *q; q++)
            if (*q == ',') {
                *q = '\0';
                t.field[r][c++] = q + 1;
            }
        p = end + 1;
    }
    return t;
}

static void free_table(table *t)
{
    for (int r = 0; r < t->n_rows; r++) {
        free(t->field[r]);
        free(t->line[r]);
    }
    free(t->field);
    free(t->line);
    free(t->text);
}

static void options(gfuse_synth_options *o, int64_t n, int m, const int64_t *d, uint64_t seed)
{
    gfuse_synth_options_init(o);
    o->n_samples = n;
    o->n_modalities = m;
    o->n_features = d;
    o->seed = seed;
}

static const char *all_files[] = {"labels.csv",       "split.csv",         "mod1.csv",
                                  "mod2.csv",         "mod3.csv",          "truth/mod1.csv",
                                  "truth/mod2.csv",   "truth/mod3.csv",    "truth/latent.csv",
                                  "truth/missing.csv"};
enum { N_ALL_FILES = sizeof all_files / sizeof all_files[0] };

/* ---- core ---------------------------------------------------------------------------------- */

START_TEST(test_same_seed_same_bytes)
{
    const int64_t d[3] = {7, 5, 3};
    gfuse_synth_options o;
    options(&o, 120, 3, d, 7 + (uint64_t)_i);
    ck_assert_int_eq(gfuse_synth_write(tu_path("a"), &o), GFUSE_OK);
    ck_assert_int_eq(gfuse_synth_write(tu_path("b"), &o), GFUSE_OK);
    for (int k = 0; k < N_ALL_FILES; k++) {
        char pa[1024], pb[1024];
        snprintf(pa, sizeof pa, "%s/%s", tu_path("a"), all_files[k]);
        snprintf(pb, sizeof pb, "%s/%s", tu_path("b"), all_files[k]);
        size_t na, nb;
        char *a = read_file(pa, &na), *b = read_file(pb, &nb);
        ck_assert_msg(na == nb && memcmp(a, b, na) == 0, "%s differs between two runs",
                      all_files[k]);
        free(a);
        free(b);
    }
}
END_TEST

START_TEST(test_different_seed_differs)
{
    gfuse_synth_options o;
    options(&o, 60, 3, NULL, 1);
    ck_assert_int_eq(gfuse_synth_write(tu_path("a"), &o), GFUSE_OK);
    o.seed = 2;
    ck_assert_int_eq(gfuse_synth_write(tu_path("b"), &o), GFUSE_OK);
    const char *names[] = {"truth/mod1.csv", "labels.csv", "truth/missing.csv"};
    for (int k = 0; k < 3; k++) {
        char pa[1024], pb[1024];
        snprintf(pa, sizeof pa, "%s/%s", tu_path("a"), names[k]);
        snprintf(pb, sizeof pb, "%s/%s", tu_path("b"), names[k]);
        char *a = read_file(pa, NULL), *b = read_file(pb, NULL);
        ck_assert_msg(strcmp(a, b) != 0, "%s is the same for seeds 1 and 2", names[k]);
        free(a);
        free(b);
    }
}
END_TEST

START_TEST(test_values_independent_of_missingness)
{
    /* Each purpose has its own random stream: the missing rate changes which rows are
     * observed, not the values. */
    gfuse_synth_options o;
    options(&o, 80, 3, NULL, 5);
    o.missing_rate = 0.1;
    ck_assert_int_eq(gfuse_synth_write(tu_path("a"), &o), GFUSE_OK);
    o.missing_rate = 0.6;
    ck_assert_int_eq(gfuse_synth_write(tu_path("b"), &o), GFUSE_OK);
    char pa[1024], pb[1024];
    snprintf(pa, sizeof pa, "%s/truth/mod2.csv", tu_path("a"));
    snprintf(pb, sizeof pb, "%s/truth/mod2.csv", tu_path("b"));
    char *a = read_file(pa, NULL), *b = read_file(pb, NULL);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
}
END_TEST

START_TEST(test_shapes)
{
    const int64_t d[4] = {9, 1, 4, 6};
    gfuse_synth_options o;
    options(&o, 101, 4, d, 3);
    o.latent_dim = 5;
    o.n_classes = 4;
    const char *dir = tu_path("c");
    ck_assert_int_eq(gfuse_synth_write(dir, &o), GFUSE_OK);
    table miss = read_table(dir, "truth/missing.csv");
    ck_assert_int_eq(miss.n_rows, 102);
    ck_assert_int_eq(miss.n_cols, 5);
    for (int m = 0; m < 4; m++) {
        char name[64];
        snprintf(name, sizeof name, "mod%d.csv", m + 1);
        table obs = read_table(dir, name);
        snprintf(name, sizeof name, "truth/mod%d.csv", m + 1);
        table truth = read_table(dir, name);
        ck_assert_int_eq(obs.n_cols, d[m] + 1);
        ck_assert_int_eq(truth.n_cols, d[m] + 1);
        ck_assert_int_eq(truth.n_rows, 102);
        ck_assert_str_eq(obs.field[0][0], "id");
        int present = 0;
        for (int r = 1; r < miss.n_rows; r++) present += strcmp(miss.field[r][m + 1], "1") == 0;
        ck_assert_int_eq(obs.n_rows - 1, present);
        free_table(&obs);
        free_table(&truth);
    }
    table lat = read_table(dir, "truth/latent.csv");
    ck_assert_int_eq(lat.n_cols, 2 + 5);
    ck_assert_int_eq(lat.n_rows, 102);
    table lab = read_table(dir, "labels.csv");
    ck_assert_int_eq(lab.n_cols, 2);
    ck_assert_int_eq(lab.n_rows, 102);
    free_table(&lat);
    free_table(&lab);
    free_table(&miss);
}
END_TEST

/* The number of incomplete samples is round(rate * n) and every sample keeps a modality. */
START_TEST(test_missing_rate_and_one_modality_kept)
{
    const double rates[] = {0.0, 0.1, 0.33, 0.5, 0.9, 1.0};
    double rate = rates[_i % 6];
    gfuse_synth_options o;
    options(&o, 200, 2 + _i % 3, NULL, 11 + (uint64_t)_i);
    o.missing_rate = rate;
    o.mechanism = _i >= 6 ? GFUSE_MISSING_MNAR : GFUSE_MISSING_MCAR;
    int64_t d[4] = {3, 3, 3, 3};
    o.n_features = d;
    const char *dir = tu_path("m");
    ck_assert_int_eq(gfuse_synth_write(dir, &o), GFUSE_OK);
    table miss = read_table(dir, "truth/missing.csv");
    int incomplete = 0;
    for (int r = 1; r < miss.n_rows; r++) {
        int kept = 0;
        for (int m = 1; m < miss.n_cols; m++) kept += strcmp(miss.field[r][m], "1") == 0;
        ck_assert_msg(kept >= 1, "sample %s has no modality", miss.field[r][0]);
        incomplete += kept < miss.n_cols - 1;
    }
    ck_assert_int_eq(incomplete, (int)llround(rate * 200));
    free_table(&miss);
}
END_TEST

/* Observed rows are exactly the truth rows of the samples marked present, in order. */
START_TEST(test_truth_matches_observed)
{
    gfuse_synth_options o;
    options(&o, 150, 3, NULL, 21);
    o.mechanism = _i ? GFUSE_MISSING_MNAR : GFUSE_MISSING_MCAR;
    const char *dir = tu_path("t");
    ck_assert_int_eq(gfuse_synth_write(dir, &o), GFUSE_OK);
    table miss = read_table(dir, "truth/missing.csv");
    for (int m = 0; m < 3; m++) {
        char name[64];
        snprintf(name, sizeof name, "mod%d.csv", m + 1);
        table obs = read_table(dir, name);
        snprintf(name, sizeof name, "truth/mod%d.csv", m + 1);
        table truth = read_table(dir, name);
        ck_assert_str_eq(obs.line[0], truth.line[0]);
        int r_obs = 1;
        for (int r = 1; r < truth.n_rows; r++) {
            ck_assert_str_eq(truth.field[r][0], miss.field[r][0]);
            if (strcmp(miss.field[r][m + 1], "1") != 0) continue;
            ck_assert_int_lt(r_obs, obs.n_rows);
            ck_assert_str_eq(obs.line[r_obs], truth.line[r]);
            r_obs++;
        }
        ck_assert_int_eq(r_obs, obs.n_rows);
        free_table(&obs);
        free_table(&truth);
    }
    free_table(&miss);
}
END_TEST

/* Values are printed so that they read back exactly as float32. */
START_TEST(test_values_exact_in_float32)
{
    gfuse_synth_options o;
    options(&o, 40, 2, NULL, 4);
    const char *dir = tu_path("f");
    ck_assert_int_eq(gfuse_synth_write(dir, &o), GFUSE_OK);
    table t = read_table(dir, "truth/mod1.csv");
    for (int r = 1; r < t.n_rows; r++)
        for (int c = 1; c < t.n_cols; c++) {
            char *end;
            float v = strtof(t.field[r][c], &end);
            ck_assert(*end == '\0' && isfinite(v));
            char back[32];
            snprintf(back, sizeof back, "%.9g", (double)v);
            ck_assert_str_eq(back, t.field[r][c]);
        }
    free_table(&t);
}
END_TEST

/* Classes are dealt out evenly; the split is stratified. */
START_TEST(test_classes_balanced_split_stratified)
{
    int K = 2 + _i;
    gfuse_synth_options o;
    options(&o, 203, 2, NULL, 8 + (uint64_t)_i);
    o.n_classes = K;
    o.test_fraction = 0.3;
    const char *dir = tu_path("k");
    ck_assert_int_eq(gfuse_synth_write(dir, &o), GFUSE_OK);
    table lab = read_table(dir, "labels.csv");
    table split = read_table(dir, "split.csv");
    char name[16];
    for (int k = 0; k < K; k++) {
        snprintf(name, sizeof name, "c%d", k + 1);
        int n_k = 0, test_k = 0;
        for (int r = 1; r < lab.n_rows; r++) {
            if (strcmp(lab.field[r][1], name) != 0) continue;
            n_k++;
            ck_assert_str_eq(split.field[r][0], lab.field[r][0]);
            const char *sp = split.field[r][1];
            ck_assert(strcmp(sp, "train") == 0 || strcmp(sp, "test") == 0);
            test_k += strcmp(sp, "test") == 0;
        }
        ck_assert_int_ge(n_k, 203 / K);
        ck_assert_int_le(n_k, 203 / K + 1);
        ck_assert_int_eq(test_k, (int)llround(0.3 * n_k));
    }
    free_table(&lab);
    free_table(&split);
}
END_TEST

/* Mean of the complete first feature of each modality among samples missing it, minus the
 * mean among samples having it, in standard deviations. */
static void first_feature_gap(const char *dir, int M, double *gap)
{
    table miss = read_table(dir, "truth/missing.csv");
    for (int m = 0; m < M; m++) {
        char name[64];
        snprintf(name, sizeof name, "truth/mod%d.csv", m + 1);
        table t = read_table(dir, name);
        double s_all = 0, ss_all = 0, s_miss = 0, s_pres = 0;
        int n_miss = 0, n_pres = 0, n = t.n_rows - 1;
        for (int r = 1; r < t.n_rows; r++) {
            double v = strtod(t.field[r][1], NULL);
            s_all += v;
            ss_all += v * v;
            if (strcmp(miss.field[r][m + 1], "1") == 0) {
                s_pres += v;
                n_pres++;
            } else {
                s_miss += v;
                n_miss++;
            }
        }
        double mean = s_all / n, sd = sqrt(ss_all / n - mean * mean);
        ck_assert_int_gt(n_miss, 30);
        gap[m] = (s_miss / n_miss - s_pres / n_pres) / sd;
        free_table(&t);
    }
    free_table(&miss);
}

START_TEST(test_mnar_hides_high_values)
{
    gfuse_synth_options o;
    options(&o, 1500, 3, (const int64_t[]){2, 2, 2}, 31 + (uint64_t)_i);
    o.missing_rate = 0.5;
    double gap_mcar[3], gap_mnar[3];
    o.mechanism = GFUSE_MISSING_MCAR;
    ck_assert_int_eq(gfuse_synth_write(tu_path("mcar"), &o), GFUSE_OK);
    first_feature_gap(tu_path("mcar"), 3, gap_mcar);
    o.mechanism = GFUSE_MISSING_MNAR;
    ck_assert_int_eq(gfuse_synth_write(tu_path("mnar"), &o), GFUSE_OK);
    first_feature_gap(tu_path("mnar"), 3, gap_mnar);
    for (int m = 0; m < 3; m++) {
        /* MCAR: no relation (sampling error of a mean gap is about 0.1 sd here). */
        ck_assert_msg(fabs(gap_mcar[m]) < 0.3, "MCAR mod%d gap %g", m + 1, gap_mcar[m]);
        /* MNAR: missing values are clearly higher than observed ones. */
        ck_assert_msg(gap_mnar[m] > 0.5, "MNAR mod%d gap %g", m + 1, gap_mnar[m]);
    }
}
END_TEST

/* Class structure: a nearest-centroid rule on one complete modality beats chance by far, and
 * modalities are correlated with each other (beyond what row-shuffled data shows). */
static double max_abs_corr(const table *a, const table *b, int shift)
{
    int n = a->n_rows - 1;
    double best = 0;
    for (int ca = 1; ca < a->n_cols; ca++)
        for (int cb = 1; cb < b->n_cols; cb++) {
            double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
            for (int r = 0; r < n; r++) {
                double x = strtod(a->field[1 + r][ca], NULL);
                double y = strtod(b->field[1 + (r + shift) % n][cb], NULL);
                sa += x;
                sb += y;
                saa += x * x;
                sbb += y * y;
                sab += x * y;
            }
            double cov = sab / n - sa / n * sb / n;
            double va = saa / n - sa / n * sa / n, vb = sbb / n - sb / n * sb / n;
            double c = fabs(cov / sqrt(va * vb));
            if (c > best) best = c;
        }
    return best;
}

START_TEST(test_modalities_correlated)
{
    gfuse_synth_options o;
    options(&o, 1000, 2, (const int64_t[]){12, 10}, 41);
    const char *dir = tu_path("corr");
    ck_assert_int_eq(gfuse_synth_write(dir, &o), GFUSE_OK);
    table a = read_table(dir, "truth/mod1.csv");
    table b = read_table(dir, "truth/mod2.csv");
    double real = max_abs_corr(&a, &b, 0), shuffled = max_abs_corr(&a, &b, 517);
    ck_assert_msg(real > 0.25 && real > 3 * shuffled, "max |corr| %g, row-shifted %g", real,
                  shuffled);
    free_table(&a);
    free_table(&b);
}
END_TEST

START_TEST(test_classes_visible_in_modality)
{
    gfuse_synth_options o;
    options(&o, 600, 2, (const int64_t[]){20, 20}, 51);
    o.n_classes = 3;
    o.class_separation = 3;
    const char *dir = tu_path("cls");
    ck_assert_int_eq(gfuse_synth_write(dir, &o), GFUSE_OK);
    table x = read_table(dir, "truth/mod1.csv");
    table lab = read_table(dir, "labels.csv");
    int n = x.n_rows - 1, d = x.n_cols - 1, K = 3;
    double *centroid = calloc((size_t)K * d, sizeof *centroid);
    double *sd = calloc((size_t)d, sizeof *sd), *mean = calloc((size_t)d, sizeof *mean);
    int count[3] = {0};
    /* Standardise features, then centroids from the first half, accuracy on the second. */
    for (int r = 0; r < n; r++)
        for (int j = 0; j < d; j++) {
            double v = strtod(x.field[1 + r][1 + j], NULL);
            mean[j] += v / n;
            sd[j] += v * v / n;
        }
    for (int j = 0; j < d; j++) sd[j] = sqrt(sd[j] - mean[j] * mean[j]);
    for (int r = 0; r < n / 2; r++) {
        int k = lab.field[1 + r][1][1] - '1';
        count[k]++;
        for (int j = 0; j < d; j++)
            centroid[k * d + j] += (strtod(x.field[1 + r][1 + j], NULL) - mean[j]) / sd[j];
    }
    for (int k = 0; k < K; k++)
        for (int j = 0; j < d; j++) centroid[k * d + j] /= count[k];
    int correct = 0;
    for (int r = n / 2; r < n; r++) {
        int best = 0;
        double best_dist = INFINITY;
        for (int k = 0; k < K; k++) {
            double dist = 0;
            for (int j = 0; j < d; j++) {
                double v = (strtod(x.field[1 + r][1 + j], NULL) - mean[j]) / sd[j];
                dist += (v - centroid[k * d + j]) * (v - centroid[k * d + j]);
            }
            if (dist < best_dist) {
                best_dist = dist;
                best = k;
            }
        }
        correct += best == lab.field[1 + r][1][1] - '1';
    }
    double accuracy = (double)correct / (n - n / 2);
    ck_assert_msg(accuracy > 0.55, "nearest-centroid accuracy %g (chance 0.33)", accuracy);
    free(centroid);
    free(sd);
    free(mean);
    free_table(&x);
    free_table(&lab);
}
END_TEST

/* The cohort loader reads what the generator writes. */
START_TEST(test_loads_as_cohort)
{
    gfuse_synth_options o;
    options(&o, 90, 3, (const int64_t[]){5, 4, 3}, 61);
    const char *dir = tu_path("load");
    ck_assert_int_eq(gfuse_synth_write(dir, &o), GFUSE_OK);
    gfuse_cohort_options co;
    gfuse_cohort_options_init(&co);
    co.dir = dir;
    gfuse_cohort *c = NULL;
    ck_assert_msg(gfuse_cohort_load(&c, &co) == GFUSE_OK, "%s", gfuse_last_error());
    ck_assert_int_eq(gfuse_cohort_n_samples(c), 90);
    ck_assert_int_eq(gfuse_cohort_n_modalities(c), 3);
    ck_assert_str_eq(gfuse_cohort_modality_name(c, 0), "mod1");
    ck_assert_int_eq(gfuse_cohort_n_features(c, 0), 5);
    ck_assert_int_eq(gfuse_cohort_n_features(c, 2), 3);
    ck_assert_int_eq(gfuse_cohort_task(c), GFUSE_TASK_CLASSIFY);
    ck_assert_int_eq(gfuse_cohort_n_classes(c), 3);
    ck_assert_int_eq(gfuse_cohort_has_split(c), 1);
    ck_assert_int_eq(gfuse_cohort_n_warnings(c), 0);
    int incomplete = 0;
    for (int64_t i = 0; i < 90; i++) {
        int have = 0;
        for (int m = 0; m < 3; m++) have += gfuse_cohort_has_modality(c, i, m);
        ck_assert_int_ge(have, 1);
        incomplete += have < 3;
    }
    ck_assert_int_eq(incomplete, (int)llround(0.33 * 90));
    gfuse_cohort_free(&c);
    ck_assert_ptr_null(c);
}
END_TEST

/* ---- errors ---------------------------------------------------------------------------------- */

START_TEST(test_bad_options_rejected)
{
    const char *dir = tu_path("bad");
    int64_t d0[2] = {4, 0};
    gfuse_synth_options o;
    struct {
        const char *needle;
    } expect[] = {{"n_samples"},  {"n_modalities"}, {"n_classes"},     {"latent_dim"},
                  {"missing_rate"}, {"single modality"}, {"noise"},    {"test_fraction"},
                  {"n_features[1]"}, {"mechanism"},  {"n_samples"}};
    for (int k = 0; k < (int)(sizeof expect / sizeof expect[0]); k++) {
        options(&o, 100, 2, NULL, 1);
        switch (k) {
        case 0: o.n_samples = 1; break;
        case 1: o.n_modalities = 0; break;
        case 2: o.n_classes = 0; break;
        case 3: o.latent_dim = 0; break;
        case 4: o.missing_rate = 1.5; break;
        case 5: o.n_modalities = 1; break;
        case 6: o.noise = -1; break;
        case 7: o.test_fraction = 1.0; break;
        case 8: o.n_features = d0; break;
        case 9: o.mechanism = (gfuse_missingness)7; break;
        case 10: o.n_classes = 200; break;
        }
        ck_assert_int_eq(gfuse_synth_write(dir, &o), GFUSE_ERR_ARG);
        ck_assert_msg(strstr(gfuse_last_error(), expect[k].needle) != NULL,
                      "case %d: message '%s' does not name %s", k, gfuse_last_error(),
                      expect[k].needle);
        ck_assert_msg(!exists(dir), "case %d: the folder was created", k);
    }
    ck_assert_int_eq(gfuse_synth_write(NULL, &o), GFUSE_ERR_ARG);
}
END_TEST

START_TEST(test_refuses_non_empty_folder)
{
    const char *dir = tu_path("full");
    ck_assert_int_eq(mkdir(dir, 0777), 0);
    char keep[1024];
    snprintf(keep, sizeof keep, "%s/notes.txt", dir);
    FILE *f = fopen(keep, "w");
    fputs("mine\n", f);
    fclose(f);
    gfuse_synth_options o;
    options(&o, 30, 2, NULL, 1);
    ck_assert_int_eq(gfuse_synth_write(dir, &o), GFUSE_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(gfuse_last_error(), "not empty"));
    char *text = read_file(keep, NULL);
    ck_assert_str_eq(text, "mine\n");
    free(text);
    /* An empty folder is fine, and nothing is left beside it. */
    const char *empty = tu_path("empty");
    ck_assert_int_eq(mkdir(empty, 0777), 0);
    ck_assert_int_eq(gfuse_synth_write(empty, &o), GFUSE_OK);
    char p[1024];
    snprintf(p, sizeof p, "%s/labels.csv", empty);
    ck_assert(exists(p));
    DIR *d = opendir(tu_tmp_root);
    struct dirent *e;
    int entries = 0;
    while ((e = readdir(d)) != NULL) entries += e->d_name[0] != '.';
    closedir(d);
    ck_assert_int_eq(entries, 2); /* "full" and "empty": no temporary folder left */
}
END_TEST

START_TEST(test_missing_parent_is_io_error)
{
    gfuse_synth_options o;
    options(&o, 30, 2, NULL, 1);
    ck_assert_int_eq(gfuse_synth_write(tu_path("no/such/parent"), &o), GFUSE_ERR_IO);
    ck_assert_ptr_nonnull(strstr(gfuse_last_error(), "no/such/parent"));
}
END_TEST

START_TEST(test_defaults)
{
    gfuse_synth_options o;
    gfuse_synth_options_init(&o);
    ck_assert_int_eq(o.n_samples, 300);
    ck_assert_int_eq(o.n_modalities, 3);
    ck_assert_ptr_null(o.n_features);
    ck_assert_int_eq(o.n_classes, 3);
    ck_assert_int_eq(o.latent_dim, 8);
    ck_assert_int_eq(o.mechanism, GFUSE_MISSING_MCAR);
    ck_assert_double_eq_tol(o.missing_rate, 0.33, 1e-12);
    ck_assert_double_eq_tol(o.test_fraction, 0.25, 1e-12);
    /* NULL options mean the defaults: 300 samples of 50 features per modality. */
    const char *dir = tu_path("defaults");
    ck_assert_int_eq(gfuse_synth_write(dir, NULL), GFUSE_OK);
    table t = read_table(dir, "truth/mod3.csv");
    ck_assert_int_eq(t.n_rows, 301);
    ck_assert_int_eq(t.n_cols, 51);
    free_table(&t);
}
END_TEST

static Suite *synth_suite(void)
{
    Suite *s = suite_create("synth");
    TCase *core = tcase_create("core");
    tcase_add_checked_fixture(core, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(core, 60);
    tcase_add_loop_test(core, test_same_seed_same_bytes, 0, 3);
    tcase_add_test(core, test_different_seed_differs);
    tcase_add_test(core, test_values_independent_of_missingness);
    tcase_add_test(core, test_shapes);
    tcase_add_loop_test(core, test_missing_rate_and_one_modality_kept, 0, 12);
    tcase_add_loop_test(core, test_truth_matches_observed, 0, 2);
    tcase_add_test(core, test_values_exact_in_float32);
    tcase_add_loop_test(core, test_classes_balanced_split_stratified, 0, 3);
    tcase_add_test(core, test_defaults);
    suite_add_tcase(s, core);

    TCase *structure = tcase_create("structure");
    tcase_add_checked_fixture(structure, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(structure, 120);
    tcase_add_loop_test(structure, test_mnar_hides_high_values, 0, 2);
    tcase_add_test(structure, test_modalities_correlated);
    tcase_add_test(structure, test_classes_visible_in_modality);
    tcase_add_test(structure, test_loads_as_cohort);
    suite_add_tcase(s, structure);

    TU_TCASE(s, "errors", tu_tmp_setup, tu_tmp_teardown,
        test_bad_options_rejected, test_refuses_non_empty_folder, test_missing_parent_is_io_error);
    return s;
}

int main(void) { return tu_run_suite(synth_suite()); }
