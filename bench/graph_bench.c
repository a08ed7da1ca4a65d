/*
 * graph_bench.c: time of gfuse's graph build beside scikit-learn's exact brute-force kNN on the
 * same matrices, in the same run.
 *
 * A synthetic cohort (N samples x M modalities x D features; each modality a noisy linear view
 * of a shared latent vector; a share of the samples lacks one modality) is built in memory and
 * each modality's present rows are written to a temporary .npy file for bench/graph_sklearn.py.
 * gfuse builds the whole graph (kNN of observed nodes, missing-node linking, member and self
 * edges, CSR and transpose); scikit-learn only finds the k nearest neighbours of the observed
 * rows, so the comparison is conservative for gfuse. Both report the median of R runs and
 * their peak resident memory.
 *
 * With --orders, the effect of the row visiting orders on the aggregation kernel (A . H,
 * H with 64 columns) is timed on the built graph as well.
 *
 * With --variant P, a modality-dropout graph (each observed modality hidden with probability P,
 * one kept per sample, as training draws them) is timed two ways: rebuilt from the cohort with
 * the hidden rows removed, and derived from the full graph (gfuse_i_variant_base_new once, then
 * gfuse_i_graph_variant); the derived hidden rows' recall against the rebuild's is reported, and
 * the training setup (the full graph and 16 variants) as a multiple of one build.
 *
 * usage: graph_bench [--samples N] [--modalities M] [--features D] [--missing R] [--k K]
 *                    [--metric cosine|euclidean] [--runs R] [--sklearn SCRIPT] [--python PATH]
 *                    [--orders] [--variant P] [--seed S]
 */
#define _POSIX_C_SOURCE 200809L

#include "graph/graph.h"
#include "tests/grb_ref.h"
#include "core/rng.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LATENT 10

typedef struct {
    int64_t n, d;
    int m;
    double missing;
    int k;
    int euclidean;
    int runs;
    int orders;
    double variant;
    uint64_t seed;
    const char *sklearn;
    const char *python;
} bench_args;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU seconds of the whole process (all threads). */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* A line "Key:   value kB" of /proc/self/status, in MiB; -1 when unreadable. */
static double proc_status_mib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1.0;
    char line[256];
    double v = -1.0;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
            v = atof(line + kl + 1) / 1024.0;
            break;
        }
    fclose(f);
    return v;
}

/* Resets the peak resident size (VmHWM) so that it measures what follows. */
static void reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return;
    fputs("5", f);
    fclose(f);
}

/* Writes rows (n x d float32) as a .npy file. */
static int write_npy(const char *path, const float *x, int64_t n, int64_t d)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    char header[128];
    int len = snprintf(header, sizeof header,
                       "{'descr': '<f4', 'fortran_order': False, 'shape': (%lld, %lld), }",
                       (long long)n, (long long)d);
    int total = 10 + len + 1;
    int pad = (64 - total % 64) % 64;
    unsigned short hlen = (unsigned short)(len + pad + 1);
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fputc(hlen & 0xff, f);
    fputc(hlen >> 8, f);
    fwrite(header, 1, (size_t)len, f);
    for (int t = 0; t < pad; t++) fputc(' ', f);
    fputc('\n', f);
    size_t wrote = fwrite(x, sizeof *x, (size_t)(n * d), f);
    return fclose(f) == 0 && wrote == (size_t)(n * d) ? 0 : -1;
}

/* The synthetic cohort; x[s] holds all n rows (NaN rows for the missing ones). */
static gfuse_cohort *make_cohort(const bench_args *a, float **x)
{
    gfuse_i_rng rng;
    gfuse_i_rng_seed(&rng, a->seed);
    int64_t n = a->n, d = a->d;
    float *z = malloc((size_t)(n * LATENT) * sizeof *z);
    float *w = malloc((size_t)(d * LATENT) * sizeof *w);
    int *lack = malloc((size_t)n * sizeof *lack);
    char **ids = malloc((size_t)n * sizeof *ids);
    if (!z || !w || !lack || !ids) return NULL;
    for (int64_t t = 0; t < n * LATENT; t++) z[t] = (float)gfuse_i_rng_normal(&rng);
    for (int64_t i = 0; i < n; i++)
        lack[i] = gfuse_i_rng_uniform(&rng) < a->missing ? (int)gfuse_i_rng_below(&rng, (uint64_t)a->m)
                                                          : -1;
    gfuse_cohort *c = NULL;
    for (int64_t i = 0; i < n; i++) {
        ids[i] = malloc(24);
        snprintf(ids[i], 24, "s%lld", (long long)i);
    }
    if (gfuse_cohort_new(&c, n, (const char *const *)ids) != GFUSE_OK) return NULL;
    for (int s = 0; s < a->m; s++) {
        x[s] = malloc((size_t)(n * d) * sizeof *x[s]);
        if (!x[s]) return NULL;
        for (int64_t t = 0; t < d * LATENT; t++) w[t] = (float)gfuse_i_rng_normal(&rng);
        for (int64_t i = 0; i < n; i++) {
            float *row = x[s] + i * d;
            for (int64_t f = 0; f < d; f++) {
                double v = 0.5 * gfuse_i_rng_normal(&rng);
                for (int l = 0; l < LATENT; l++) v += w[f * LATENT + l] * z[i * LATENT + l];
                row[f] = lack[i] == s ? (float)NAN : (float)v;
            }
        }
        char name[16];
        snprintf(name, sizeof name, "mod%d", s + 1);
        if (gfuse_cohort_add_modality(c, name, d, NULL, x[s]) != GFUSE_OK) return NULL;
    }
    for (int64_t i = 0; i < n; i++) free(ids[i]);
    free(ids);
    free(z);
    free(w);
    free(lack);
    return c;
}

/* Times A . H (64 columns) under each row order; the median of 7 runs. */
static void bench_orders(const gfuse_cohort *c, const bench_args *a)
{
    static const gfuse_row_order orders[] = {GFUSE_ORDER_NATURAL, GFUSE_ORDER_RCM, GFUSE_ORDER_AMD};
    static const char *const names[] = {"natural", "rcm", "amd"};
    const int64_t f = 64;
    printf("\naggregation kernel A.H (H: nodes x %lld), median of 7, by row order:\n",
           (long long)f);
    for (int t = 0; t < 3; t++) {
        gfuse_graph_options o;
        gfuse_graph_options_init(&o);
        o.k = a->k;
        o.reorder = orders[t];
        gfuse_graph *g = NULL;
        double t0 = now();
        if (gfuse_graph_build(&g, c, &o) != GFUSE_OK) {
            fprintf(stderr, "graph_bench: %s\n", gfuse_last_error());
            return;
        }
        double build = now() - t0;
        float *h = malloc((size_t)(g->n_nodes * f) * sizeof *h);
        float *out = malloc((size_t)(g->n_nodes * f) * sizeof *out);
        if (!h || !out) return;
        for (int64_t q = 0; q < g->n_nodes * f; q++) h[q] = (float)(q % 97) * 0.01f;
        double times[7];
        for (int r = 0; r < 7; r++) {
            double s0 = now();
            gfuse_i_graph_spmm(g, h, f, out);
            times[r] = now() - s0;
        }
        printf("  %-8s %8.2f ms   (graph build with this order: %.2f s)\n", names[t],
               1e3 * median(times, 7), build);
        free(h);
        free(out);
        gfuse_graph_free(&g);
    }
}

/* Shared knn sources of rows v of a and b (sources ascending in both); *nb gets b's count. */
static int64_t shared_knn_sources(const gfuse_graph *a, const gfuse_graph *b, int64_t v,
                                  int64_t *nb)
{
    int64_t ea = a->in_ptr[v], eb = b->in_ptr[v], common = 0;
    *nb = 0;
    for (int64_t e = eb; e < b->in_ptr[v + 1]; e++) *nb += b->in_rel[e] == GFUSE_I_REL_KNN;
    while (ea < a->in_ptr[v + 1] && eb < b->in_ptr[v + 1]) {
        if (a->in_rel[ea] != GFUSE_I_REL_KNN) ea++;
        else if (b->in_rel[eb] != GFUSE_I_REL_KNN) eb++;
        else if (a->in_src[ea] < b->in_src[eb]) ea++;
        else if (a->in_src[ea] > b->in_src[eb]) eb++;
        else {
            common++;
            ea++;
            eb++;
        }
    }
    return common;
}

/* Times the modality-dropout graphs of full (built in build_s wall, build_cpu CPU seconds):
 * the shared base once, one variant derived from it (median of the runs), and a rebuild from
 * the cohort with the hidden rows removed, whose hidden rows measure the derived ones' recall;
 * then the training setup (the full graph, the base and 16 variants) against one build. */
static int bench_variant(float *const *x, const bench_args *a,
                         const gfuse_graph_options *o, const gfuse_graph *full, double build_s,
                         double build_cpu)
{
    int64_t n = a->n, d = a->d;
    int nm = a->m;
    uint8_t *hidden = calloc((size_t)(n * nm), 1);
    int64_t *dims = malloc((size_t)nm * sizeof *dims);
    char **ids = malloc((size_t)n * sizeof *ids);
    double *t_var = malloc((size_t)a->runs * sizeof *t_var);
    double *c_var = malloc((size_t)a->runs * sizeof *c_var);
    if (!hidden || !dims || !ids || !t_var || !c_var) return -1;
    gfuse_i_rng rng;
    gfuse_i_rng_seed(&rng, a->seed + 1);
    int64_t n_hid = 0;
    for (int64_t i = 0; i < n; i++) {
        int kept = 0, last = -1;
        for (int s = 0; s < nm; s++) {
            int64_t v = (int64_t)s * n + i;
            if (!full->observed[v]) continue;
            last = s;
            if (gfuse_i_rng_uniform(&rng) < a->variant) hidden[v] = 1;
            else kept++;
        }
        if (kept == 0 && last >= 0) hidden[(int64_t)last * n + i] = 0;
    }
    for (int64_t v = 0; v < n * nm; v++) n_hid += hidden[v];
    for (int s = 0; s < nm; s++) dims[s] = d;

    gfuse_i_variant_base *base = NULL;
    double t0 = now(), c0 = cpu_now();
    if (gfuse_i_variant_base_new(&base, full, dims, (const float *const *)x, o) != GFUSE_OK)
        return -1;
    double t_base = now() - t0, c_base = cpu_now() - c0;
    gfuse_graph *g = NULL;
    for (int r = 0; r < a->runs; r++) {
        gfuse_graph_free(&g);
        t0 = now();
        c0 = cpu_now();
        if (gfuse_i_graph_variant(&g, base, hidden) != GFUSE_OK) return -1;
        t_var[r] = now() - t0;
        c_var[r] = cpu_now() - c0;
    }
    gfuse_i_variant_base_free(&base);

    /* the cohort a rebuild reads: the hidden rows removed */
    for (int64_t i = 0; i < n; i++) {
        ids[i] = malloc(24);
        if (!ids[i]) return -1;
        snprintf(ids[i], 24, "s%lld", (long long)i);
    }
    gfuse_cohort *ch = NULL;
    if (gfuse_cohort_new(&ch, n, (const char *const *)ids) != GFUSE_OK) return -1;
    float *rows = malloc((size_t)(n * d) * sizeof *rows);
    if (!rows) return -1;
    for (int s = 0; s < nm; s++) {
        memcpy(rows, x[s], (size_t)(n * d) * sizeof *rows);
        for (int64_t i = 0; i < n; i++)
            if (hidden[(int64_t)s * n + i])
                for (int64_t f = 0; f < d; f++) rows[i * d + f] = (float)NAN;
        char name[16];
        snprintf(name, sizeof name, "mod%d", s + 1);
        if (gfuse_cohort_add_modality(ch, name, d, NULL, rows) != GFUSE_OK) return -1;
    }
    free(rows);
    gfuse_graph *re = NULL;
    t0 = now();
    c0 = cpu_now();
    if (gfuse_graph_build(&re, ch, o) != GFUSE_OK) return -1;
    double t_re = now() - t0, c_re = cpu_now() - c0;
    int64_t common = 0, exact = 0;
    for (int64_t v = 0; v < n * nm; v++) {
        if (!hidden[v] || !full->observed[v]) continue;
        int64_t nb;
        common += shared_knn_sources(g, re, v, &nb);
        exact += nb;
    }

    double var = median(t_var, a->runs), var_cpu = median(c_var, a->runs);
    printf("dropout graph, P = %.2f (%lld nodes hidden):\n", a->variant, (long long)n_hid);
    printf("  rebuilt from the cohort:   %8.3f s wall, %8.3f s CPU (one run)\n", t_re, c_re);
    printf("  shared base (once):        %8.3f s wall, %8.3f s CPU\n", t_base, c_base);
    printf("  derived from the base:     %8.3f s wall, %8.3f s CPU (median of %d runs; %.1f%% "
           "of a build's wall, %.1f%% of its CPU)\n",
           var, var_cpu, a->runs, 100.0 * var / build_s, 100.0 * var_cpu / build_cpu);
    printf("  recall of the hidden nodes' knn sources against the rebuild: %.1f%% (%lld of "
           "%lld)\n",
           exact > 0 ? 100.0 * (double)common / (double)exact : 100.0, (long long)common,
           (long long)exact);
    printf("  training setup, the full graph and 16 variants: 1 + 16 * variant / build = %.3f "
           "wall, %.3f CPU; with the base %.3f wall, %.3f CPU\n",
           1.0 + 16.0 * var / build_s, 1.0 + 16.0 * var_cpu / build_cpu,
           1.0 + (t_base + 16.0 * var) / build_s, 1.0 + (c_base + 16.0 * var_cpu) / build_cpu);
    gfuse_graph_free(&g);
    gfuse_graph_free(&re);
    for (int64_t i = 0; i < n; i++) free(ids[i]);
    free(ids);
    free(hidden);
    free(dims);
    free(t_var);
    free(c_var);
    gfuse_cohort_free(&ch);
    return 0;
}

static int parse_args(int argc, char **argv, bench_args *a)
{
    for (int t = 1; t < argc; t++) {
        const char *o = argv[t], *v = t + 1 < argc ? argv[t + 1] : NULL;
        if (strcmp(o, "--orders") == 0) {
            a->orders = 1;
            continue;
        }
        if (!v) return -1;
        t++;
        if (strcmp(o, "--samples") == 0) a->n = atoll(v);
        else if (strcmp(o, "--modalities") == 0) a->m = atoi(v);
        else if (strcmp(o, "--features") == 0) a->d = atoll(v);
        else if (strcmp(o, "--missing") == 0) a->missing = atof(v);
        else if (strcmp(o, "--k") == 0) a->k = atoi(v);
        else if (strcmp(o, "--runs") == 0) a->runs = atoi(v);
        else if (strcmp(o, "--seed") == 0) a->seed = strtoull(v, NULL, 10);
        else if (strcmp(o, "--variant") == 0) a->variant = atof(v);
        else if (strcmp(o, "--sklearn") == 0) a->sklearn = v;
        else if (strcmp(o, "--python") == 0) a->python = v;
        else if (strcmp(o, "--metric") == 0) a->euclidean = strcmp(v, "euclidean") == 0;
        else return -1;
    }
    return a->n >= 2 && a->m >= 1 && a->m <= 16 && a->d >= 1 && a->k >= 1 && a->runs >= 1 &&
                   a->variant >= 0.0 && a->variant < 1.0
               ? 0
               : -1;
}

int main(int argc, char **argv)
{
    bench_args a = {.n = 10000, .d = 200, .m = 3, .missing = 0.2, .k = 10, .runs = 5, .seed = 1,
                    .python = "/usr/bin/python3"};
    int help = argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
    if (help || parse_args(argc, argv, &a) != 0) {
        fprintf(stderr, "usage: graph_bench [--samples N] [--modalities M] [--features D] "
                        "[--missing R] [--k K] [--metric cosine|euclidean] [--runs R] "
                        "[--sklearn SCRIPT] [--python PATH] [--orders] [--variant P] [--seed S]\n");
        return help ? 0 : 2;
    }
    if (gfuse_init() != GFUSE_OK) return 1;
    float *x[16] = {0};
    gfuse_cohort *c = make_cohort(&a, x);
    if (!c) {
        fprintf(stderr, "graph_bench: could not make the cohort\n");
        return 1;
    }
    const char *metric = a.euclidean ? "euclidean" : "cosine";
    printf("cohort: %lld samples x %d modalities x %lld features, %.0f%% of samples lack one "
           "modality; k = %d, metric %s, %d threads\n",
           (long long)a.n, a.m, (long long)a.d, 100.0 * a.missing, a.k, metric,
           omp_get_max_threads());

    gfuse_graph_options o;
    gfuse_graph_options_init(&o);
    o.k = a.k;
    o.metric = a.euclidean ? GFUSE_METRIC_EUCLIDEAN : GFUSE_METRIC_COSINE;
    double *times = malloc((size_t)a.runs * sizeof *times);
    double *cpu = malloc((size_t)a.runs * sizeof *cpu);
    double rss_before = proc_status_mib("VmRSS"), peak = 0.0;
    int64_t n_edges = 0;
    gfuse_graph *full = NULL; /* the last build, kept for --variant */
    for (int r = 0; r < a.runs; r++) {
        reset_peak();
        gfuse_graph *g = NULL;
        double t0 = now(), c0 = cpu_now();
        if (gfuse_graph_build(&g, c, &o) != GFUSE_OK) {
            fprintf(stderr, "graph_bench: %s\n", gfuse_last_error());
            return 1;
        }
        times[r] = now() - t0;
        cpu[r] = cpu_now() - c0;
        double p = proc_status_mib("VmHWM");
        if (p > peak) peak = p;
        n_edges = gfuse_graph_n_edges(g);
        if (r + 1 == a.runs && a.variant > 0.0) full = g;
        else gfuse_graph_free(&g);
    }
    double gf = median(times, a.runs), gf_cpu = median(cpu, a.runs);
    printf("gfuse graph build:        median %8.3f s wall, %8.3f s CPU, of %d runs (%lld edges); "
           "peak RSS %.0f MiB (%.0f MiB before the build)\n",
           gf, gf_cpu, a.runs, (long long)n_edges, peak, rss_before);

    if (a.variant > 0.0 && bench_variant(x, &a, &o, full, gf, gf_cpu) != 0) {
        fprintf(stderr, "graph_bench: the dropout graph failed: %s\n", gfuse_last_error());
        return 1;
    }
    gfuse_graph_free(&full);

    if (a.sklearn) {
        char dir[] = "/tmp/gfuse_graph_bench_XXXXXX";
        if (!mkdtemp(dir)) return 1;
        size_t cap = strlen(a.python) + strlen(a.sklearn) + 64 + (size_t)a.m * 64;
        char *cmd = malloc(cap);
        int len = snprintf(cmd, cap, "%s %s %s %d %d", a.python, a.sklearn, metric, a.k, a.runs);
        char paths[16][64];
        for (int s = 0; s < a.m; s++) {
            /* present rows of modality s, as gfuse sees them */
            float *rows = malloc((size_t)(a.n * a.d) * sizeof *rows);
            int64_t nr = 0;
            for (int64_t i = 0; i < a.n; i++)
                if (gfuse_cohort_has_modality(c, i, s))
                    memcpy(rows + nr++ * a.d, x[s] + i * a.d, (size_t)a.d * sizeof *rows);
            snprintf(paths[s], sizeof paths[s], "%s/mod%d.npy", dir, s + 1);
            if (write_npy(paths[s], rows, nr, a.d) != 0) return 1;
            free(rows);
            len += snprintf(cmd + len, cap - (size_t)len, " %s", paths[s]);
        }
        for (int s = 0; s < a.m; s++) {
            free(x[s]);
            x[s] = NULL;
        }
        FILE *p = popen(cmd, "r");
        char line[4096] = "";
        if (!p || !fgets(line, sizeof line, p)) {
            fprintf(stderr, "graph_bench: %s gave no result\n", cmd);
            return 1;
        }
        pclose(p);
        for (int s = 0; s < a.m; s++) remove(paths[s]);
        rmdir(dir);
        const char *m = strstr(line, "\"median\": "), *mc = strstr(line, "\"cpu_median\": "),
                   *pk = strstr(line, "\"peak_rss_mib\": ");
        double sk = m ? atof(m + 10) : 0.0, sk_cpu = mc ? atof(mc + 14) : 0.0,
               skpeak = pk ? atof(pk + 16) : 0.0;
        printf("scikit-learn brute kNN:   median %8.3f s wall, %8.3f s CPU, of %d runs; peak RSS "
               "%.0f MiB\n",
               sk, sk_cpu, a.runs, skpeak);
        printf("ratio scikit-learn / gfuse: %.2f wall, %.2f CPU (gfuse is %s)\n", sk / gf,
               sk_cpu / gf_cpu, sk >= gf ? "at least as fast" : "SLOWER");
        free(cmd);
    }
    if (a.orders) bench_orders(c, &a);
    for (int s = 0; s < a.m; s++) free(x[s]);
    free(times);
    free(cpu);
    gfuse_cohort_free(&c);
    gfuse_finalize();
    return 0;
}
