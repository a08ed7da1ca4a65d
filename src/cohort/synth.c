/*
 * synth.c: synthetic incomplete cohorts with a known truth.
 *
 * The generative model:
 *  - Classes: labels are dealt out as evenly as possible (class k gets n/K or n/K + 1 samples)
 *    and shuffled. Class centres c_k lie in an L-dimensional latent space at distance about
 *    class_separation from each other; each sample z_i = c_{class(i)} + N(0, I_L).
 *  - Modality m, feature j: a signal s_ij = w_mj . z_i / sqrt(L), where w_mjl ~ N(0, 1) on the
 *    latent dimensions the modality favours (l mod M == m) and N(0, 0.5^2) on the others, so
 *    every modality sees all of z but each sees its own part best and fusing them helps.
 *    Odd features pass the signal through tanh (part of every modality is nonlinear in z);
 *    noise of standard deviation noise * sd_j(signal) is added, then each feature is scaled
 *    and shifted (x = a_j (f(s) + e) + b_j) so that standardisation matters. All modalities
 *    see the same z, so they are correlated and a missing modality can be completed from the
 *    others.
 *  - Missingness: exactly round(missing_rate * n) samples are incomplete; each loses r of its
 *    M modalities, r uniform in 1..M-1, so every sample keeps at least one.
 *      MCAR: the incomplete samples and the modalities they lose are drawn uniformly.
 *      MNAR: driven by the unseen values: with u_im the standardised first feature of modality m
 *      (its complete value), sample i is incomplete with weight sum_m exp(beta u_im) and loses
 *      modality m with weight exp(beta u_im), so high values go missing more often.
 *  - Split: stratified by class, round(test_fraction * n_k) samples of class k are "test".
 * Every feature column has its own random stream, so a column can be generated alone (the MNAR
 * driver is) and the whole cohort is a pure function of the options.
 *
 * Files: mod1.csv .. modM.csv (present rows only), labels.csv, split.csv, truth/modK.csv
 * (every sample), truth/latent.csv (id, class, z), truth/missing.csv (id, 1 = present). They are
 * written into "<dir>.tmp.<pid>" which is renamed to dir at the end.
 */
#define _POSIX_C_SOURCE 200809L

#include "core/rng.h"
#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MNAR_BETA 1.5
/* How strongly a modality sees the latent dimensions it does not favour (1 = as its own). */
#define OTHER_DIMENSIONS_LOADING 0.5

/* Random streams: one per purpose, so that e.g. the missing rate does not change the values. */
enum {
    STREAM_LABELS = 1,
    STREAM_CENTRES,
    STREAM_LATENT,
    STREAM_MISSING,
    STREAM_SPLIT,
    STREAM_FEATURES = 1 << 20 /* + (m << 32 | j) */
};

void gfuse_synth_options_init(gfuse_synth_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->n_samples = 300;
    opts->n_modalities = 3;
    opts->n_features = NULL;
    opts->n_classes = 3;
    opts->latent_dim = 8;
    opts->missing_rate = 0.33;
    opts->mechanism = GFUSE_MISSING_MCAR;
    opts->noise = 1.0;
    opts->class_separation = 2.0;
    opts->test_fraction = 0.25;
    opts->seed = 1;
}

static gfuse_status check_options(const gfuse_synth_options *o)
{
    GFUSE_CHECK_ARG(o->n_modalities >= 1 && o->n_modalities <= 64,
                    "n_modalities must be in [1, 64], got %d", o->n_modalities);
    GFUSE_CHECK_ARG(o->n_classes >= 1, "n_classes must be at least 1, got %d", o->n_classes);
    GFUSE_CHECK_ARG(o->n_samples >= o->n_classes && o->n_samples >= 2,
                    "n_samples must be at least 2 and at least n_classes (%d), got %lld",
                    o->n_classes, (long long)o->n_samples);
    GFUSE_CHECK_ARG(o->n_samples <= 100000000, "n_samples must be at most 1e8, got %lld",
                    (long long)o->n_samples);
    GFUSE_CHECK_ARG(o->latent_dim >= 1 && o->latent_dim <= 4096,
                    "latent_dim must be in [1, 4096], got %d", o->latent_dim);
    GFUSE_CHECK_ARG(o->missing_rate >= 0 && o->missing_rate <= 1,
                    "missing_rate must be in [0, 1], got %g", o->missing_rate);
    GFUSE_CHECK_ARG(o->missing_rate == 0 || o->n_modalities >= 2,
                    "missing_rate must be 0 with a single modality (every sample keeps one), "
                    "got %g",
                    o->missing_rate);
    GFUSE_CHECK_ARG(o->mechanism == GFUSE_MISSING_MCAR || o->mechanism == GFUSE_MISSING_MNAR,
                    "mechanism must be GFUSE_MISSING_MCAR or GFUSE_MISSING_MNAR, got %d",
                    (int)o->mechanism);
    GFUSE_CHECK_ARG(o->noise >= 0 && isfinite(o->noise), "noise must be at least 0, got %g",
                    o->noise);
    GFUSE_CHECK_ARG(o->class_separation >= 0 && isfinite(o->class_separation),
                    "class_separation must be at least 0, got %g", o->class_separation);
    GFUSE_CHECK_ARG(o->test_fraction >= 0 && o->test_fraction < 1,
                    "test_fraction must be in [0, 1), got %g", o->test_fraction);
    if (o->n_features) {
        for (int m = 0; m < o->n_modalities; m++)
            GFUSE_CHECK_ARG(o->n_features[m] >= 1 && o->n_features[m] <= 10000000,
                            "n_features[%d] must be in [1, 1e7], got %lld", m,
                            (long long)o->n_features[m]);
    }
    return GFUSE_OK;
}

/* ---- generation ---------------------------------------------------------------------------- */

typedef struct {
    const gfuse_synth_options *o;
    int64_t n;
    int M, L, K;
    int32_t *label;  /* n */
    double *z;       /* n x L */
    uint8_t *present;/* n x M */
    uint8_t *test;   /* n */
    char **id;       /* n */
} synth;

static int64_t n_features(const synth *s, int m)
{
    return s->o->n_features ? s->o->n_features[m] : 50;
}

static gfuse_status make_labels_and_latent(synth *s)
{
    gfuse_i_rng r;
    int64_t n = s->n;
    int K = s->K, L = s->L;
    int64_t *order = gfuse_i_alloc(n, sizeof *order);
    double *centre = gfuse_i_alloc((size_t)K * (size_t)L, sizeof *centre);
    if (!order || !centre) {
        free(order);
        free(centre);
        return gfuse_i_nomem("the latent classes");
    }

    /* Labels dealt out evenly, then shuffled. */
    for (int64_t i = 0; i < n; i++) order[i] = i % K;
    gfuse_i_rng_seed_stream(&r, s->o->seed, STREAM_LABELS);
    gfuse_i_rng_shuffle(&r, order, n);
    for (int64_t i = 0; i < n; i++) s->label[i] = (int32_t)order[i];

    /* Centres: random directions of length separation / sqrt(2), so that two centres (nearly
     * orthogonal when L is not tiny) are about `separation` apart. */
    gfuse_i_rng_seed_stream(&r, s->o->seed, STREAM_CENTRES);
    for (int k = 0; k < K; k++) {
        double norm = 0;
        for (int l = 0; l < L; l++) {
            double v = gfuse_i_rng_normal(&r);
            centre[k * L + l] = v;
            norm += v * v;
        }
        norm = sqrt(norm);
        double scale = norm > 0 ? s->o->class_separation / sqrt(2.0) / norm : 0;
        for (int l = 0; l < L; l++) centre[k * L + l] *= scale;
    }
    gfuse_i_rng_seed_stream(&r, s->o->seed, STREAM_LATENT);
    for (int64_t i = 0; i < n; i++)
        for (int l = 0; l < L; l++)
            s->z[i * L + l] = centre[s->label[i] * L + l] + gfuse_i_rng_normal(&r);
    free(order);
    free(centre);
    return GFUSE_OK;
}

/* Column j of modality m, complete, for every sample, into col (n floats). */
static void make_feature(const synth *s, int m, int64_t j, float *col, double *scratch)
{
    gfuse_i_rng r;
    gfuse_i_rng_seed_stream(&r, s->o->seed, STREAM_FEATURES + (((uint64_t)m << 32) | (uint64_t)j));
    int L = s->L;
    double *w = scratch;          /* L */
    double *signal = scratch + L; /* n */
    for (int l = 0; l < L; l++)
        w[l] = gfuse_i_rng_normal(&r) * (l % s->M == m ? 1.0 : OTHER_DIMENSIONS_LOADING);
    double a = exp(0.5 * gfuse_i_rng_normal(&r));
    double b = 2.0 * gfuse_i_rng_normal(&r);
    double inv_sqrt_l = 1.0 / sqrt((double)L);
    double mean = 0;
    for (int64_t i = 0; i < s->n; i++) {
        double v = 0;
        for (int l = 0; l < L; l++) v += w[l] * s->z[i * L + l];
        v *= inv_sqrt_l;
        if (j % 2 == 1) v = tanh(v);
        signal[i] = v;
        mean += v;
    }
    mean /= (double)s->n;
    double var = 0;
    for (int64_t i = 0; i < s->n; i++) var += (signal[i] - mean) * (signal[i] - mean);
    double sd = sqrt(var / (double)s->n);
    if (!(sd > 0)) sd = 1;
    double noise_sd = s->o->noise * sd;
    for (int64_t i = 0; i < s->n; i++)
        col[i] = (float)(a * (signal[i] + noise_sd * gfuse_i_rng_normal(&r)) + b);
}

/* Weighted sampling without replacement (Efraimidis-Spirakis): item i gets the key
 * log(u_i) / w_i, and the k items with the largest keys are chosen. */
typedef struct {
    double key;
    int64_t index;
} keyed;

static int cmp_keyed_desc(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    if (a->key != b->key) return a->key > b->key ? -1 : 1;
    return a->index < b->index ? -1 : (a->index > b->index);
}

/* Marks chosen[i] = 1 for k of the n items drawn with weights w; items is n scratch entries. */
static void weighted_choice(gfuse_i_rng *r, const double *w, int64_t n, int64_t k,
                            uint8_t *chosen, keyed *items)
{
    for (int64_t i = 0; i < n; i++) {
        items[i].key = log(1.0 - gfuse_i_rng_uniform(r)) / w[i]; /* 1 - u is in (0, 1] */
        items[i].index = i;
        chosen[i] = 0;
    }
    qsort(items, (size_t)n, sizeof *items, cmp_keyed_desc);
    for (int64_t t = 0; t < k; t++) chosen[items[t].index] = 1;
}

/* Chooses which samples are incomplete and which modalities they lose. */
static gfuse_status make_missingness(synth *s)
{
    int64_t n = s->n;
    int M = s->M;
    gfuse_status st = GFUSE_OK;
    double *u = NULL, *w = NULL, *scratch = NULL;
    keyed *items = NULL;
    uint8_t *incomplete = NULL, *drop = NULL;
    float *col = NULL;

    memset(s->present, 1, (size_t)n * (size_t)M);
    int64_t n_incomplete = (int64_t)llround(s->o->missing_rate * (double)n);
    if (n_incomplete == 0) return GFUSE_OK;

    int mnar = s->o->mechanism == GFUSE_MISSING_MNAR;
    size_t big = (size_t)n > (size_t)M ? (size_t)n : (size_t)M;
    u = gfuse_i_alloc((size_t)n * (size_t)M, sizeof *u);
    w = gfuse_i_alloc(big, sizeof *w);
    items = gfuse_i_alloc(big, sizeof *items);
    incomplete = gfuse_i_alloc(n, 1);
    drop = gfuse_i_alloc(M, 1);
    if (!u || !w || !items || !incomplete || !drop) {
        st = gfuse_i_nomem("the missingness pattern");
        goto done;
    }
    /* u_im: the standardised first feature of each modality (MNAR), 0 for MCAR. */
    for (int64_t k = 0; k < n * M; k++) u[k] = 0;
    if (mnar) {
        col = gfuse_i_alloc(n, sizeof *col);
        scratch = gfuse_i_alloc((size_t)n + (size_t)s->L, sizeof *scratch);
        if (!col || !scratch) {
            st = gfuse_i_nomem("the missingness pattern");
            goto done;
        }
        for (int m = 0; m < M; m++) {
            make_feature(s, m, 0, col, scratch);
            double mean = 0, var = 0;
            for (int64_t i = 0; i < n; i++) mean += col[i];
            mean /= (double)n;
            for (int64_t i = 0; i < n; i++) var += (col[i] - mean) * (col[i] - mean);
            double sd = sqrt(var / (double)n);
            if (!(sd > 0)) sd = 1;
            for (int64_t i = 0; i < n; i++) u[i * M + m] = (col[i] - mean) / sd;
        }
    }

    gfuse_i_rng r;
    gfuse_i_rng_seed_stream(&r, s->o->seed, STREAM_MISSING);
    /* Which samples: weighted sampling without replacement (equal weights for MCAR). */
    for (int64_t i = 0; i < n; i++) {
        double wi = 0;
        for (int m = 0; m < M; m++) wi += exp(MNAR_BETA * u[i * M + m]);
        w[i] = wi / M;
    }
    weighted_choice(&r, w, n, n_incomplete, incomplete, items);

    /* Which modalities each incomplete sample loses. */
    for (int64_t i = 0; i < n; i++) {
        if (!incomplete[i]) continue;
        int r_lost = 1 + (int)gfuse_i_rng_below(&r, (uint64_t)(M - 1));
        for (int m = 0; m < M; m++) w[m] = exp(MNAR_BETA * u[i * M + m]);
        weighted_choice(&r, w, M, r_lost, drop, items);
        for (int m = 0; m < M; m++)
            if (drop[m]) s->present[i * M + m] = 0;
    }
done:
    free(u);
    free(w);
    free(items);
    free(incomplete);
    free(drop);
    free(col);
    free(scratch);
    return st;
}

static gfuse_status make_split(synth *s)
{
    gfuse_i_rng r;
    gfuse_i_rng_seed_stream(&r, s->o->seed, STREAM_SPLIT);
    int64_t *members = gfuse_i_alloc(s->n, sizeof *members);
    if (!members) return gfuse_i_nomem("the split");
    memset(s->test, 0, (size_t)s->n);
    for (int k = 0; k < s->K; k++) {
        int64_t nk = 0;
        for (int64_t i = 0; i < s->n; i++)
            if (s->label[i] == k) members[nk++] = i;
        gfuse_i_rng_shuffle(&r, members, nk);
        int64_t n_test = (int64_t)llround(s->o->test_fraction * (double)nk);
        for (int64_t t = 0; t < n_test; t++) s->test[members[t]] = 1;
    }
    free(members);
    return GFUSE_OK;
}

/* ---- writing ------------------------------------------------------------------------------- */

static char *class_name(int k, int K)
{
    int width = K >= 10 ? (K >= 100 ? 3 : 2) : 1;
    if (K >= 1000) width = 4;
    return gfuse_i_asprintf("c%0*d", width, k + 1);
}

/* Files created in the temporary folder, removed again if anything fails: at most two per
 * modality and four others. */
typedef struct {
    char *paths[2 * 64 + 4];
    int n;
} created_files;

static gfuse_status open_out(gfuse_i_outfile *o, created_files *cf, const char *dir,
                             const char *name)
{
    char *path = gfuse_i_path_join(dir, name);
    if (!path) return gfuse_i_nomem("a file name");
    gfuse_status st = gfuse_i_outfile_open(o, path, "w");
    if (st == GFUSE_OK)
        cf->paths[cf->n++] = path;
    else
        free(path);
    return st;
}

static gfuse_status write_labels_split_latent(const synth *s, const char *tmp,
                                              created_files *cf)
{
    gfuse_i_outfile o = {0};
    gfuse_status st;
    char **cname = gfuse_i_zalloc(s->K, sizeof *cname);
    if (!cname) return gfuse_i_nomem("class names");
    for (int k = 0; k < s->K; k++)
        if (!(cname[k] = class_name(k, s->K))) {
            st = gfuse_i_nomem("class names");
            goto done;
        }

    if ((st = open_out(&o, cf, tmp, "labels.csv")) != GFUSE_OK) goto done;
    fprintf(o.f, "id,label\n");
    for (int64_t i = 0; i < s->n; i++) fprintf(o.f, "%s,%s\n", s->id[i], cname[s->label[i]]);
    if ((st = gfuse_i_outfile_commit(&o)) != GFUSE_OK) goto done;

    if ((st = open_out(&o, cf, tmp, "split.csv")) != GFUSE_OK) goto done;
    fprintf(o.f, "id,split\n");
    for (int64_t i = 0; i < s->n; i++)
        fprintf(o.f, "%s,%s\n", s->id[i], s->test[i] ? "test" : "train");
    if ((st = gfuse_i_outfile_commit(&o)) != GFUSE_OK) goto done;

    if ((st = open_out(&o, cf, tmp, "truth/latent.csv")) != GFUSE_OK) goto done;
    fprintf(o.f, "id,class");
    for (int l = 0; l < s->L; l++) fprintf(o.f, ",z%d", l + 1);
    fputc('\n', o.f);
    for (int64_t i = 0; i < s->n; i++) {
        fprintf(o.f, "%s,%s", s->id[i], cname[s->label[i]]);
        for (int l = 0; l < s->L; l++) fprintf(o.f, ",%.9g", (double)(float)s->z[i * s->L + l]);
        fputc('\n', o.f);
    }
    if ((st = gfuse_i_outfile_commit(&o)) != GFUSE_OK) goto done;

    if ((st = open_out(&o, cf, tmp, "truth/missing.csv")) != GFUSE_OK) goto done;
    fprintf(o.f, "id");
    for (int m = 0; m < s->M; m++) fprintf(o.f, ",mod%d", m + 1);
    fputc('\n', o.f);
    for (int64_t i = 0; i < s->n; i++) {
        fprintf(o.f, "%s", s->id[i]);
        for (int m = 0; m < s->M; m++) fprintf(o.f, ",%d", s->present[i * s->M + m]);
        fputc('\n', o.f);
    }
    st = gfuse_i_outfile_commit(&o);
done:
    gfuse_i_outfile_abort(&o);
    gfuse_i_free_strings(cname, s->K);
    return st;
}

static void write_row(FILE *f, const char *id, const float *x, int64_t n, int64_t d, int64_t i)
{
    fputs(id, f);
    for (int64_t j = 0; j < d; j++) fprintf(f, ",%.9g", (double)x[j * n + i]);
    fputc('\n', f);
}

/* truth/modM.csv (every sample) and modM.csv (present samples) of modality m. */
static gfuse_status write_modality(const synth *s, int m, const char *tmp, created_files *cf)
{
    int64_t n = s->n, d = n_features(s, m);
    gfuse_i_outfile truth = {0}, obs = {0};
    gfuse_status st = GFUSE_OK;
    char name[64];
    float *x = gfuse_i_alloc((size_t)n * (size_t)d, sizeof *x); /* column-major: x[j * n + i] */
    double *scratch = gfuse_i_alloc((size_t)n + (size_t)s->L, sizeof *scratch);
    if (!x || !scratch) {
        st = gfuse_i_nomem("a synthetic modality");
        goto done;
    }
    for (int64_t j = 0; j < d; j++) make_feature(s, m, j, x + j * n, scratch);

    snprintf(name, sizeof name, "truth/mod%d.csv", m + 1);
    if ((st = open_out(&truth, cf, tmp, name)) != GFUSE_OK) goto done;
    snprintf(name, sizeof name, "mod%d.csv", m + 1);
    if ((st = open_out(&obs, cf, tmp, name)) != GFUSE_OK) goto done;
    FILE *files[2] = {truth.f, obs.f};
    for (int k = 0; k < 2; k++) {
        fputs("id", files[k]);
        for (int64_t j = 0; j < d; j++) fprintf(files[k], ",mod%d_f%lld", m + 1, (long long)j + 1);
        fputc('\n', files[k]);
    }
    for (int64_t i = 0; i < n; i++) {
        write_row(truth.f, s->id[i], x, n, d, i);
        if (s->present[i * s->M + m]) write_row(obs.f, s->id[i], x, n, d, i);
    }
    if ((st = gfuse_i_outfile_commit(&truth)) != GFUSE_OK) goto done;
    st = gfuse_i_outfile_commit(&obs);
done:
    gfuse_i_outfile_abort(&truth);
    gfuse_i_outfile_abort(&obs);
    free(x);
    free(scratch);
    return st;
}

/* 1 if path does not exist, 0 if it is an empty folder, -1 otherwise (errno set). */
static int check_target(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return errno == ENOENT ? 1 : -1;
    if (!S_ISDIR(sb.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    DIR *d = opendir(path);
    if (!d) return -1;
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) empty = 0;
    closedir(d);
    if (!empty) {
        errno = ENOTEMPTY;
        return -1;
    }
    return 0;
}

static void synth_free(synth *s)
{
    free(s->label);
    free(s->z);
    free(s->present);
    free(s->test);
    gfuse_i_free_strings(s->id, s->id ? s->n : 0);
}

/* Ids, labels, latent values, missingness and split of s (features are made per column). */
static gfuse_status synth_generate(synth *s)
{
    size_t n = (size_t)s->n;
    s->label = gfuse_i_alloc(n, sizeof *s->label);
    s->z = gfuse_i_alloc(n * (size_t)s->L, sizeof *s->z);
    s->present = gfuse_i_alloc(n * (size_t)s->M, 1);
    s->test = gfuse_i_alloc(n, 1);
    s->id = gfuse_i_zalloc(n, sizeof *s->id);
    if (!s->label || !s->z || !s->present || !s->test || !s->id)
        return gfuse_i_nomem("a synthetic cohort");
    int width = 1;
    for (int64_t t = s->n; t >= 10; t /= 10) width++;
    for (int64_t i = 0; i < s->n; i++)
        if (!(s->id[i] = gfuse_i_asprintf("s%0*lld", width, (long long)i + 1)))
            return gfuse_i_nomem("sample ids");
    gfuse_status st = make_labels_and_latent(s);
    if (st == GFUSE_OK) st = make_missingness(s);
    if (st == GFUSE_OK) st = make_split(s);
    return st;
}

gfuse_status gfuse_i_synth_cohort(gfuse_cohort **out, const gfuse_synth_options *opts)
{
    GFUSE_CHECK_ARG(out != NULL, "out must not be NULL");
    *out = NULL;
    gfuse_synth_options defaults;
    if (!opts) {
        gfuse_synth_options_init(&defaults);
        opts = &defaults;
    }
    gfuse_status st = check_options(opts);
    if (st != GFUSE_OK) return st;
    synth s = {.o = opts, .n = opts->n_samples, .M = opts->n_modalities,
               .L = opts->latent_dim, .K = opts->n_classes};
    gfuse_cohort *c = NULL;
    float *col = NULL, *rows = NULL;
    double *scratch = NULL;
    char **cname = gfuse_i_zalloc(s.K, sizeof *cname);
    gfuse_split *split = gfuse_i_alloc(s.n, sizeof *split);
    if (!cname || !split) {
        st = gfuse_i_nomem("a synthetic cohort");
        goto done;
    }
    if ((st = synth_generate(&s)) != GFUSE_OK) goto done;
    if ((st = gfuse_cohort_new(&c, s.n, (const char *const *)s.id)) != GFUSE_OK) goto done;
    scratch = gfuse_i_alloc((size_t)s.n + (size_t)s.L, sizeof *scratch);
    col = gfuse_i_alloc(s.n, sizeof *col);
    if (!scratch || !col) {
        st = gfuse_i_nomem("a synthetic modality");
        goto done;
    }
    for (int m = 0; m < s.M && st == GFUSE_OK; m++) {
        int64_t d = n_features(&s, m);
        rows = gfuse_i_alloc((size_t)s.n * (size_t)d, sizeof *rows); /* row-major, NaN rows: missing */
        char name[32];
        snprintf(name, sizeof name, "mod%d", m + 1);
        if (!rows) {
            st = gfuse_i_nomem("a synthetic modality");
            break;
        }
        for (int64_t j = 0; j < d; j++) {
            make_feature(&s, m, j, col, scratch);
            for (int64_t i = 0; i < s.n; i++)
                rows[i * d + j] = s.present[i * s.M + m] ? col[i] : NAN;
        }
        st = gfuse_cohort_add_modality(c, name, d, NULL, rows);
        free(rows);
        rows = NULL;
    }
    if (st != GFUSE_OK) goto done;
    for (int k = 0; k < s.K; k++)
        if (!(cname[k] = class_name(k, s.K))) {
            st = gfuse_i_nomem("class names");
            goto done;
        }
    if ((st = gfuse_cohort_set_classes(c, s.K, (const char *const *)cname, s.label)) != GFUSE_OK)
        goto done;
    for (int64_t i = 0; i < s.n; i++) split[i] = s.test[i] ? GFUSE_SPLIT_TEST : GFUSE_SPLIT_TRAIN;
    st = gfuse_cohort_set_split(c, split);
done:
    if (cname) gfuse_i_free_strings(cname, s.K);
    free(split);
    free(col);
    free(scratch);
    synth_free(&s);
    if (st != GFUSE_OK) {
        gfuse_cohort_free(&c);
        return st;
    }
    *out = c;
    return GFUSE_OK;
}

gfuse_status gfuse_synth_write(const char *dir, const gfuse_synth_options *opts)
{
    gfuse_synth_options defaults;
    if (!opts) {
        gfuse_synth_options_init(&defaults);
        opts = &defaults;
    }
    GFUSE_CHECK_ARG(dir && *dir, "dir must name a folder");
    gfuse_status st = check_options(opts);
    if (st != GFUSE_OK) return st;

    synth s = {.o = opts, .n = opts->n_samples, .M = opts->n_modalities,
               .L = opts->latent_dim, .K = opts->n_classes};
    created_files cf = {.n = 0};
    char *tmp = NULL, *truth_dir = NULL;
    int made_tmp = 0, made_truth = 0, in_place = 0;

    int target = check_target(dir);
    if (target < 0) {
        if (errno == ENOTEMPTY)
            return gfuse_i_error(GFUSE_ERR_ARG, "%s: exists and is not empty", dir);
        return gfuse_i_error(GFUSE_ERR_IO, "%s: %s", dir, strerror(errno));
    }

    if ((st = synth_generate(&s)) != GFUSE_OK) goto done;

    tmp = gfuse_i_asprintf("%s.tmp.%ld", dir, (long)getpid());
    truth_dir = tmp ? gfuse_i_path_join(tmp, "truth") : NULL;
    if (!tmp || !truth_dir) {
        st = gfuse_i_nomem("a folder name");
        goto done;
    }
    if (mkdir(tmp, 0777) != 0) {
        st = gfuse_i_error(GFUSE_ERR_IO, "%s: cannot create folder: %s", tmp, strerror(errno));
        goto done;
    }
    made_tmp = 1;
    if (mkdir(truth_dir, 0777) != 0) {
        st = gfuse_i_error(GFUSE_ERR_IO, "%s: cannot create folder: %s", truth_dir,
                           strerror(errno));
        goto done;
    }
    made_truth = 1;
    if ((st = write_labels_split_latent(&s, tmp, &cf)) != GFUSE_OK) goto done;
    for (int m = 0; m < s.M; m++)
        if ((st = write_modality(&s, m, tmp, &cf)) != GFUSE_OK) goto done;
    if (rename(tmp, dir) != 0) {
        st = gfuse_i_error(GFUSE_ERR_IO, "%s: cannot rename %s into place: %s", dir, tmp,
                           strerror(errno));
        goto done;
    }
    in_place = 1;
done:
    for (int k = 0; k < cf.n; k++) {
        if (!in_place) remove(cf.paths[k]);
        free(cf.paths[k]);
    }
    if (!in_place && made_truth) rmdir(truth_dir);
    if (!in_place && made_tmp) rmdir(tmp);
    free(truth_dir);
    free(tmp);
    synth_free(&s);
    return st;
}
