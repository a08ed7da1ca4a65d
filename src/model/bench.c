/*
 * bench.c: `gfuse bench` (gfuse.h, benchmark section): the gfuse model timed through
 * gfuse_i_train, the PyTorch Geometric peer's plain GAT model rebuilt from gfuse's kernels on
 * the peer's graph, and the GAT forward kernel alone.
 */
#define _POSIX_C_SOURCE 200809L

#include "model/bench.h"
#include "nn/gat.h"
#include "nn/layers.h"
#include "model/model.h"
#include "core/rng.h"
#include "cohort/cohort.h"
#include "core/util.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Width of the peer's encoders and sample vector (../shared/bench/peer_pyg.py --f). */
#define PEER_F 64
/* Rows per block of the fixed-order column sums. */
#define ROW_BLOCK 1024
/* Random streams of the peer problem and model. */
enum { STREAM_X = 1, STREAM_LABELS = 100, STREAM_INIT = 101 };

void gfuse_bench_options_init(gfuse_bench_options *o)
{
    if (!o) return;
    *o = (gfuse_bench_options){.n_samples = 1000, .n_modalities = 3, .n_features = 200,
                               .n_classes = 2, .epochs = 10, .warmup = 2, .kernel_reps = 5};
    gfuse_train_options_init(&o->train);
}

void gfuse_bench_result_free(gfuse_bench_result *r)
{
    if (!r) return;
    free(r->epoch_s);
    memset(r, 0, sizeof *r);
}

static gfuse_status check_options(const gfuse_bench_options *o)
{
    GFUSE_CHECK_ARG(o->n_samples >= 2 && o->n_samples <= 100000000,
                    "n_samples must be in [2, 1e8], got %lld", (long long)o->n_samples);
    GFUSE_CHECK_ARG(o->n_modalities >= 1 && o->n_modalities <= 64,
                    "n_modalities must be in [1, 64], got %d", o->n_modalities);
    GFUSE_CHECK_ARG(o->n_features >= 1 && o->n_features <= 1000000,
                    "n_features must be in [1, 1e6], got %lld", (long long)o->n_features);
    GFUSE_CHECK_ARG(o->n_classes >= 2 && o->n_classes <= 1000,
                    "n_classes must be in [2, 1000], got %d", o->n_classes);
    GFUSE_CHECK_ARG(o->missing_rate >= 0 && o->missing_rate <= 1,
                    "missing_rate must be in [0, 1], got %g", o->missing_rate);
    GFUSE_CHECK_ARG(o->epochs >= 1 && o->epochs <= 1000000, "epochs must be at least 1, got %d",
                    o->epochs);
    GFUSE_CHECK_ARG(o->warmup >= 0 && o->warmup <= 1000000, "warmup must be at least 0, got %d",
                    o->warmup);
    GFUSE_CHECK_ARG(o->kernel_reps >= 0 && o->kernel_reps <= 100000,
                    "kernel_reps must be at least 0, got %d", o->kernel_reps);
    GFUSE_CHECK_ARG(o->like_peer || !o->peer_graph, "peer_graph needs like_peer");
    if (o->like_peer) {
        const gfuse_train_options *t = &o->train;
        GFUSE_CHECK_ARG(t->heads >= 1 && t->heads <= GFUSE_I_GAT_MAX_HEADS,
                        "heads must be in [1, %d], got %d", GFUSE_I_GAT_MAX_HEADS, t->heads);
        GFUSE_CHECK_ARG(t->hidden >= 1 && t->hidden % t->heads == 0,
                        "hidden (%d) must be a positive multiple of heads (%d)", t->hidden,
                        t->heads);
        GFUSE_CHECK_ARG(o->peer_graph || (t->k >= 1 && t->k < o->n_samples),
                        "k must be in [1, n_samples - 1], got %d", t->k);
        GFUSE_CHECK_ARG(t->lr > 0 && isfinite(t->lr), "lr must be positive, got %g", t->lr);
    }
    return GFUSE_OK;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return NAN;
    return (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0 .. n-1] (sorted in place); NaN when n == 0. */
static double median(double *v, int64_t n)
{
    if (n <= 0) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Median, minimum and maximum of the epochs after the warm-up into the result. */
static gfuse_status epoch_statistics(gfuse_bench_result *r, double *const phase[4])
{
    int n = r->epochs;
    double *tmp = gfuse_i_alloc(n, sizeof *tmp);
    if (!tmp) return gfuse_i_nomem("the epoch statistics");
    const double *ep = r->epoch_s + r->warmup;
    memcpy(tmp, ep, (size_t)n * sizeof *tmp);
    r->epoch_median_s = median(tmp, n);
    r->epoch_min_s = tmp[0];
    r->epoch_max_s = tmp[n - 1];
    double *out[4] = {&r->forward_s, &r->backward_s, &r->optimizer_s, &r->eval_s};
    for (int q = 0; q < 4; q++) {
        if (!phase[q]) {
            *out[q] = 0.0;
            continue;
        }
        memcpy(tmp, phase[q] + r->warmup, (size_t)n * sizeof *tmp);
        *out[q] = median(tmp, n);
    }
    free(tmp);
    return GFUSE_OK;
}

double gfuse_i_gat_forward_bytes(const struct gfuse_graph *g, int H, int D)
{
    const double V = (double)g->n_nodes, E = (double)g->n_edges, F = (double)H * D;
    const double S = V * GFUSE_I_N_REL * H * 4.0; /* one array of score halves */
    return (V + 1.0) * 8.0 + E * 9.0 + 2.0 * V * F * 4.0 + 2.0 * 2.0 * S + E * H * 4.0 +
           V * F * 4.0;
}

/* The GAT kernels alone on g at H heads of width D: median seconds of reps forward and
 * backward calls on random states, into the result. */
static gfuse_status time_kernel(gfuse_bench_result *r, const struct gfuse_graph *g, int H, int D,
                                int reps, uint64_t seed)
{
    if (reps <= 0) return GFUSE_OK;
    const int64_t V = g->n_nodes, E = g->n_edges, F = (int64_t)H * D;
    const int64_t P = (int64_t)GFUSE_I_N_REL * H * D;
    gfuse_status st = GFUSE_OK;
    float *z = gfuse_i_alloc(V * F, sizeof(float));
    float *dout = gfuse_i_alloc(V * F, sizeof(float));
    float *out = gfuse_i_alloc(V * F, sizeof(float));
    float *dz = gfuse_i_alloc(V * F, sizeof(float));
    float *alpha = gfuse_i_alloc(E * H, sizeof(float));
    float *s_src = gfuse_i_alloc(V * GFUSE_I_N_REL * H, sizeof(float));
    float *s_dst = gfuse_i_alloc(V * GFUSE_I_N_REL * H, sizeof(float));
    float *att = gfuse_i_zalloc(4 * P, sizeof(float));
    float *work = gfuse_i_alloc((size_t)gfuse_i_gat_work_floats(g, H, D), sizeof(float));
    double *tf = gfuse_i_alloc(reps, sizeof(double)), *tb = gfuse_i_alloc(reps, sizeof(double));
    if (!z || !dout || !out || !dz || !alpha || !s_src || !s_dst || !att || !work || !tf || !tb) {
        st = gfuse_i_nomem("the kernel benchmark");
        goto done;
    }
    gfuse_i_rng rng;
    gfuse_i_rng_seed_stream(&rng, seed, 0x6b65726e);
    for (int64_t t = 0; t < V * F; t++) {
        z[t] = (float)gfuse_i_rng_normal(&rng);
        dout[t] = (float)gfuse_i_rng_normal(&rng);
    }
    for (int64_t t = 0; t < 2 * P; t++) att[t] = 0.2f * (float)gfuse_i_rng_normal(&rng);
    for (int rep = 0; rep < reps; rep++) {
        double t0 = omp_get_wtime();
        gfuse_i_gat_forward(out, alpha, s_src, s_dst, z, att, att + P, NULL, g, H, D, 0.0f, 0);
        double t1 = omp_get_wtime();
        memset(dz, 0, (size_t)(V * F) * sizeof(float));
        double t2 = omp_get_wtime();
        gfuse_i_gat_backward(dz, att + 2 * P, att + 3 * P, work, dout, alpha, s_src, s_dst, z, att,
                             att + P, NULL, g, H, D, 0.0f, 0);
        double t3 = omp_get_wtime();
        tf[rep] = t1 - t0;
        tb[rep] = t3 - t2;
    }
    r->kernel_forward_s = median(tf, reps);
    r->kernel_backward_s = median(tb, reps);
    r->kernel_bytes = gfuse_i_gat_forward_bytes(g, H, D);
    r->kernel_gbs = r->kernel_bytes / r->kernel_forward_s * 1e-9;
done:
    free(z);
    free(dout);
    free(out);
    free(dz);
    free(alpha);
    free(s_src);
    free(s_dst);
    free(att);
    free(work);
    free(tf);
    free(tb);
    return st;
}

/* ---- the gfuse model ------------------------------------------------------------------------ */

/* The phase sums of gfuse_i_train_stats after every epoch, turned into per-epoch durations. */
typedef struct {
    const gfuse_i_train_stats *stats;
    double *phase[4]; /* forward, backward, optimizer, eval: one entry per epoch */
    double last[4];
    int64_t n, cap;
} epoch_recorder;

/* Called by the trainer after it has added the epoch's times to the statistics. */
static int record_epoch(const gfuse_epoch_report *report, void *user)
{
    (void)report;
    epoch_recorder *er = user;
    const double now[4] = {er->stats->forward_s, er->stats->backward_s, er->stats->optimizer_s,
                           er->stats->eval_s};
    if (er->n < er->cap)
        for (int q = 0; q < 4; q++) er->phase[q][er->n] = now[q] - er->last[q];
    for (int q = 0; q < 4; q++) er->last[q] = now[q];
    er->n++;
    return 0;
}

static gfuse_status run_model(const gfuse_bench_options *o, gfuse_bench_result *r)
{
    gfuse_status st;
    gfuse_cohort *cohort = NULL;
    gfuse_model *model = NULL;
    gfuse_graph *graph = NULL;
    int64_t *nf = gfuse_i_alloc(o->n_modalities, sizeof *nf);
    const int64_t total = (int64_t)o->warmup + o->epochs;
    epoch_recorder er = {.cap = total};
    gfuse_i_train_stats stats = {.epoch_cap = total};
    stats.epoch_s = r->epoch_s;
    er.stats = &stats;
    for (int q = 0; q < 4; q++) er.phase[q] = gfuse_i_zalloc(total, sizeof(double));
    if (!nf || !er.phase[0] || !er.phase[1] || !er.phase[2] || !er.phase[3]) {
        st = gfuse_i_nomem("the benchmark");
        goto done;
    }

    gfuse_synth_options so;
    gfuse_synth_options_init(&so);
    for (int m = 0; m < o->n_modalities; m++) nf[m] = o->n_features;
    so.n_samples = o->n_samples;
    so.n_modalities = o->n_modalities;
    so.n_features = nf;
    so.n_classes = o->n_classes;
    so.missing_rate = o->missing_rate;
    so.seed = o->train.seed;
    double t0 = omp_get_wtime();
    if ((st = gfuse_i_synth_cohort(&cohort, &so)) != GFUSE_OK) goto done;
    r->synth_s = omp_get_wtime() - t0;

    gfuse_train_options to = o->train;
    to.task = GFUSE_TASK_CLASSIFY;
    to.ensemble = 1;
    to.epochs = (int)total;
    to.patience = (int)total + 1; /* never stop early: every epoch is timed */
    to.on_epoch = record_epoch;
    to.user = &er;
    if ((st = gfuse_i_train(&model, cohort, &to, &stats)) != GFUSE_OK) goto done;
    if (stats.epochs != total) {
        st = gfuse_i_error(GFUSE_ERR_RUNTIME, "training ran %lld epochs, %lld were asked for",
                           (long long)stats.epochs, (long long)total);
        goto done;
    }
    r->graph_build_s = stats.graph_build_s;
    r->setup_s = stats.setup_s;
    r->refit_s = stats.refit_s;
    r->nodes = stats.nodes;
    r->edges = stats.edges;
    r->parameters = gfuse_model_n_parameters(model);
    r->params_digest = GFUSE_I_DIGEST_SEED;
    for (int q = 0; q < model->n_members; q++)
        r->params_digest = gfuse_i_digest(r->params_digest, model->params[q],
                                          (size_t)model->layout.total * sizeof(float));
    r->loss_first = r->loss_last = NAN;
    if ((st = epoch_statistics(r, er.phase)) != GFUSE_OK) goto done;
    r->peak_rss_mb = peak_rss_mb();

    /* the attention kernel alone on the graph training used, at the model's width */
    if (o->kernel_reps > 0) {
        gfuse_graph_options go;
        gfuse_graph_options_init(&go);
        go.k = o->train.k;
        if ((st = gfuse_graph_build(&graph, cohort, &go)) != GFUSE_OK) goto done;
        st = time_kernel(r, graph, to.heads, to.hidden / to.heads, o->kernel_reps, to.seed);
    }
done:
    gfuse_graph_free(&graph);
    gfuse_model_free(&model);
    gfuse_cohort_free(&cohort);
    for (int q = 0; q < 4; q++) free(er.phase[q]);
    free(nf);
    return st;
}

/* ---- the peer's problem --------------------------------------------------------------------- */

void gfuse_i_peer_problem_free(gfuse_i_peer_problem *p)
{
    if (!p) return;
    if (p->x)
        for (int m = 0; m < p->M; m++) free(p->x[m]);
    free(p->x);
    free(p->label);
    gfuse_graph_free(&p->g);
    memset(p, 0, sizeof *p);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The graph of E directed edges src[e] -> dst[e] over V nodes: self loops dropped, one added
 * per node, every edge relation 0 and weight 1, rows sorted by source, transpose built. */
static gfuse_status graph_from_edges(struct gfuse_graph **out, int64_t V, const int64_t *src,
                                     const int64_t *dst, int64_t E)
{
    struct gfuse_graph *g = gfuse_i_zalloc(1, sizeof *g);
    if (!g) return gfuse_i_nomem("the graph");
    g->n_samples = V;
    g->n_nodes = V;
    int64_t loops = 0;
    for (int64_t e = 0; e < E; e++) loops += src[e] == dst[e];
    const int64_t nnz = E - loops + V;
    g->n_edges = nnz;
    g->observed = gfuse_i_alloc(V, 1);
    g->in_ptr = gfuse_i_zalloc((size_t)V + 1, sizeof(int64_t));
    g->in_src = gfuse_i_alloc(nnz, sizeof(int64_t));
    g->in_rel = gfuse_i_zalloc(nnz, 1);
    g->in_w = gfuse_i_alloc(nnz, sizeof(float));
    g->out_ptr = gfuse_i_zalloc((size_t)V + 1, sizeof(int64_t));
    g->out_dst = gfuse_i_alloc(nnz, sizeof(int64_t));
    g->out_eid = gfuse_i_alloc(nnz, sizeof(int64_t));
    int64_t *fill = gfuse_i_alloc(V, sizeof(int64_t));
    if (!g->observed || !g->in_ptr || !g->in_src || !g->in_rel || !g->in_w || !g->out_ptr ||
        !g->out_dst || !g->out_eid || !fill) {
        free(fill);
        gfuse_graph_free(&g);
        return gfuse_i_nomem("the graph");
    }
    memset(g->observed, 1, (size_t)V);
    for (int64_t v = 0; v < V; v++) g->in_ptr[v + 1] = 1;
    for (int64_t e = 0; e < E; e++)
        if (src[e] != dst[e]) g->in_ptr[dst[e] + 1]++;
    for (int64_t v = 0; v < V; v++) g->in_ptr[v + 1] += g->in_ptr[v];
    for (int64_t v = 0; v < V; v++) {
        g->in_src[g->in_ptr[v]] = v;
        fill[v] = g->in_ptr[v] + 1;
    }
    for (int64_t e = 0; e < E; e++)
        if (src[e] != dst[e]) g->in_src[fill[dst[e]]++] = src[e];
    free(fill);
#pragma omp parallel for schedule(dynamic, 1024)
    for (int64_t v = 0; v < V; v++)
        qsort(g->in_src + g->in_ptr[v], (size_t)(g->in_ptr[v + 1] - g->in_ptr[v]),
              sizeof(int64_t), cmp_i64);
    for (int64_t e = 0; e < nnz; e++) g->in_w[e] = 1.0f;
    gfuse_status st = gfuse_i_graph_transpose(g);
    if (st != GFUSE_OK) {
        gfuse_graph_free(&g);
        return st;
    }
    *out = g;
    return GFUSE_OK;
}

/* Reads a whole file of n little-endian int32 values (n = -1: as many as it holds). */
static gfuse_status read_i32(const char *path, int32_t **out, int64_t *n)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return gfuse_i_error(GFUSE_ERR_IO, "%s: %s", path, strerror(errno));
    gfuse_status st = GFUSE_OK;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return gfuse_i_error(GFUSE_ERR_IO, "%s: cannot determine its size", path);
    }
    if (size % 4 != 0) {
        fclose(f);
        return gfuse_i_error(GFUSE_ERR_DATA, "%s: %ld bytes is not a whole number of int32",
                             path, size);
    }
    int64_t count = size / 4;
    int32_t *v = gfuse_i_alloc(count, sizeof *v);
    if (!v) {
        fclose(f);
        return gfuse_i_nomem(path);
    }
    if ((int64_t)fread(v, 4, (size_t)count, f) != count)
        st = gfuse_i_error(GFUSE_ERR_IO, "%s: read failed", path);
    fclose(f);
    if (st != GFUSE_OK) {
        free(v);
        return st;
    }
    const uint32_t one = 1;
    if (*(const uint8_t *)&one == 0) /* big-endian host: the files are little-endian */
        for (int64_t t = 0; t < count; t++) {
            uint32_t u = (uint32_t)v[t];
            v[t] = (int32_t)((u >> 24) | ((u >> 8) & 0xff00u) | ((u << 8) & 0xff0000u) | (u << 24));
        }
    *out = v;
    *n = count;
    return GFUSE_OK;
}

/* Reads STEM.edges.i32 and STEM.labels.i32 into p (N, M, C set). */
static gfuse_status read_export(gfuse_i_peer_problem *p, const char *stem)
{
    const int64_t N = p->N, V = N + N * p->M;
    char *pe = gfuse_i_asprintf("%s.edges.i32", stem), *pl = gfuse_i_asprintf("%s.labels.i32", stem);
    int32_t *ev = NULL, *lv = NULL;
    int64_t *src = NULL, *dst = NULL;
    int64_t ne = 0, nl = 0;
    gfuse_status st = pe && pl ? GFUSE_OK : gfuse_i_nomem("a file name");
    if (st == GFUSE_OK) st = read_i32(pl, &lv, &nl);
    if (st == GFUSE_OK && nl != N)
        st = gfuse_i_error(GFUSE_ERR_DATA, "%s holds %lld labels, the benchmark has %lld samples",
                           pl, (long long)nl, (long long)N);
    for (int64_t i = 0; st == GFUSE_OK && i < N; i++) {
        if (lv[i] < 0 || lv[i] >= p->C)
            st = gfuse_i_error(GFUSE_ERR_DATA, "%s: label %lld is %d, not in [0, %d)", pl,
                               (long long)i, (int)lv[i], p->C);
        else
            p->label[i] = lv[i];
    }
    if (st == GFUSE_OK) st = read_i32(pe, &ev, &ne);
    if (st == GFUSE_OK && ne % 2 != 0)
        st = gfuse_i_error(GFUSE_ERR_DATA, "%s: an odd number of int32 (%lld), expected sources "
                           "then destinations", pe, (long long)ne);
    const int64_t E = ne / 2;
    if (st == GFUSE_OK) {
        src = gfuse_i_alloc(E, sizeof *src);
        dst = gfuse_i_alloc(E, sizeof *dst);
        if (!src || !dst) st = gfuse_i_nomem("the edge list");
    }
    for (int64_t e = 0; st == GFUSE_OK && e < E; e++) {
        src[e] = ev[e];
        dst[e] = ev[E + e];
        if (src[e] < 0 || src[e] >= V || dst[e] < 0 || dst[e] >= V)
            st = gfuse_i_error(GFUSE_ERR_DATA,
                               "%s: edge %lld (%lld -> %lld) leaves the %lld nodes of N = %lld, "
                               "M = %d",
                               pe, (long long)e, (long long)src[e], (long long)dst[e],
                               (long long)V, (long long)N, p->M);
    }
    free(ev);
    free(lv);
    for (int64_t e = 0; st == GFUSE_OK && e < E; e++) p->knn_edges += src[e] >= N && dst[e] >= N;
    if (st == GFUSE_OK) st = graph_from_edges(&p->g, V, src, dst, E);
    free(src);
    free(dst);
    free(pe);
    free(pl);
    return st;
}

/* Builds the recipe's graph from p->x with gfuse's exact kNN (Euclidean on raw values). */
static gfuse_status build_recipe(gfuse_i_peer_problem *p, int k)
{
    const int64_t N = p->N, V = N + N * p->M;
    gfuse_i_knn knn;
    memset(&knn, 0, sizeof knn);
    int64_t *src = NULL, *dst = NULL, *key = NULL;
    /* The rows as a view: a sample has a modality when its row holds a value. */
    int64_t *d = gfuse_i_alloc(p->M, sizeof *d);
    uint8_t *has = gfuse_i_alloc(N * p->M, 1);
    gfuse_status st = d && has ? GFUSE_OK : gfuse_i_nomem("the recipe's view");
    for (int m = 0; st == GFUSE_OK && m < p->M; m++) {
        d[m] = p->d;
        for (int64_t i = 0; i < N; i++)
            has[(int64_t)m * N + i] = !gfuse_i_row_all_missing(p->x[m] + i * p->d, p->d);
    }
    gfuse_i_view view = {.n = N, .M = p->M, .d = d, .x = (const float *const *)p->x, .has = has};
    gfuse_graph_options go;
    gfuse_graph_options_init(&go);
    go.k = k;
    go.metric = GFUSE_METRIC_EUCLIDEAN; /* 1 / (1 + d^2 / D): nearest first */
    go.standardize = 0;
    if (st == GFUSE_OK) st = gfuse_i_knn_build(&knn, &view, &go, NULL);
    free(d);
    free(has);
    const int64_t cap = 2 * N * p->M * ((int64_t)k + 1);
    if (st == GFUSE_OK) {
        src = gfuse_i_alloc(cap, sizeof *src);
        dst = gfuse_i_alloc(cap, sizeof *dst);
        key = gfuse_i_alloc(N * k, sizeof *key);
        if (!src || !dst || !key) st = gfuse_i_nomem("the edge list");
    }
    int64_t E = 0;
    for (int m = 0; st == GFUSE_OK && m < p->M; m++) {
        const int64_t off = N + (int64_t)m * N;
        int64_t nk = 0;
        for (int64_t i = 0; i < N; i++) {
            const int64_t v = (int64_t)m * N + i;
            for (int t = 0; t < knn.count[v]; t++) {
                int64_t j = knn.nbr[v * k + t], lo = i < j ? i : j, hi = i < j ? j : i;
                key[nk++] = lo * N + hi;
            }
        }
        qsort(key, (size_t)nk, sizeof *key, cmp_i64);
        for (int64_t t = 0; t < nk; t++) {
            if (t > 0 && key[t] == key[t - 1]) continue; /* the union: each pair once */
            int64_t u = key[t] / N + off, w = key[t] % N + off;
            src[E] = u;
            dst[E++] = w;
            src[E] = w;
            dst[E++] = u;
        }
        for (int64_t i = 0; i < N; i++) {
            src[E] = i;
            dst[E++] = off + i;
            src[E] = off + i;
            dst[E++] = i;
        }
    }
    p->knn_edges = E - 2 * N * p->M;
    if (st == GFUSE_OK) st = graph_from_edges(&p->g, V, src, dst, E);
    gfuse_i_knn_free(&knn);
    free(src);
    free(dst);
    free(key);
    return st;
}

gfuse_status gfuse_i_peer_problem_make(gfuse_i_peer_problem *p, int64_t N, int M, int64_t d,
                                       int C, int k, uint64_t seed, const char *stem,
                                       double *graph_s)
{
    memset(p, 0, sizeof *p);
    GFUSE_CHECK_ARG(N >= 2 && M >= 1 && d >= 1 && C >= 2,
                    "the peer problem needs N >= 2, M >= 1, d >= 1 and C >= 2, got %lld, %d, "
                    "%lld, %d", (long long)N, M, (long long)d, C);
    GFUSE_CHECK_ARG(stem || (k >= 1 && k < N), "k must be in [1, N - 1], got %d", k);
    p->N = N;
    p->M = M;
    p->d = d;
    p->C = C;
    p->x = gfuse_i_zalloc(M, sizeof *p->x);
    p->label = gfuse_i_alloc(N, sizeof *p->label);
    if (!p->x || !p->label) {
        gfuse_i_peer_problem_free(p);
        return gfuse_i_nomem("the peer problem");
    }
    for (int m = 0; m < M; m++) {
        p->x[m] = gfuse_i_alloc(N * d, sizeof(float));
        if (!p->x[m]) {
            gfuse_i_peer_problem_free(p);
            return gfuse_i_nomem("the peer features");
        }
        gfuse_i_rng rng;
        gfuse_i_rng_seed_stream(&rng, seed, STREAM_X + (uint64_t)m);
        for (int64_t t = 0; t < N * d; t++) p->x[m][t] = (float)gfuse_i_rng_normal(&rng);
    }
    gfuse_i_rng rng;
    gfuse_i_rng_seed_stream(&rng, seed, STREAM_LABELS);
    for (int64_t i = 0; i < N; i++) p->label[i] = (int32_t)gfuse_i_rng_below(&rng, (uint64_t)C);
    double t0 = omp_get_wtime();
    gfuse_status st = stem ? read_export(p, stem) : build_recipe(p, k);
    *graph_s = omp_get_wtime() - t0;
    if (st != GFUSE_OK) gfuse_i_peer_problem_free(p);
    return st;
}

/* ---- the peer's model ----------------------------------------------------------------------- */

/* One graph attention layer's parameters in the model buffer and its caches. */
typedef struct {
    int H, D, in;        /* heads, width per head, input width */
    int64_t W, a_src, a_dst, bias; /* offsets: (H*D) x in, H*D, H*D, H*D */
    float *z, *out, *alpha, *s_src, *s_dst; /* V x HD, V x HD, E x H, V x R x H (2) */
    float *att;          /* R x H x D twice: the parameters in the kernel's layout, relation 0 */
    float *datt;         /* their gradients */
} peer_gat;

typedef struct {
    const gfuse_i_peer_problem *p;
    struct gfuse_graph *g2; /* the second layer's: the sample nodes' in-edges (sample_rows) */
    int64_t V, E, np;
    int F, C;
    int64_t tok, *enc_W, *enc_b; /* offsets: F, per modality F x d and F */
    peer_gat l1, l2;
    float *params, *grads, *mom, *vel;
    uint8_t *decay;      /* all 0: Adam without weight decay */
    float *h0, *dh0, *act1, *dact1, *dpre1, *probs, *dout2, *dz, *work;
    int64_t *rows;       /* 0 .. N-1: the sample nodes */
} peer_model;

static int64_t take(int64_t *np, int64_t count)
{
    int64_t off = *np;
    *np += count;
    return off;
}

static void layer_layout(peer_gat *l, int64_t *np, int H, int D, int in)
{
    l->H = H;
    l->D = D;
    l->in = in;
    l->W = take(np, (int64_t)H * D * in);
    l->a_src = take(np, (int64_t)H * D);
    l->a_dst = take(np, (int64_t)H * D);
    l->bias = take(np, (int64_t)H * D);
}

static void uniform_fill(float *w, int64_t n, double bound, gfuse_i_rng *rng)
{
    for (int64_t t = 0; t < n; t++) w[t] = (float)((2.0 * gfuse_i_rng_uniform(rng) - 1.0) * bound);
}

/* Initialises as PyTorch does: Linear weights and biases U(+-1/sqrt(fan_in)), GATConv's
 * projection and attention Glorot-uniform, its bias 0, the sample vector N(0, 0.1^2). */
static void peer_init(peer_model *pm, uint64_t seed)
{
    gfuse_i_rng rng;
    gfuse_i_rng_seed_stream(&rng, seed, STREAM_INIT);
    float *P = pm->params;
    memset(P, 0, (size_t)pm->np * sizeof *P);
    for (int f = 0; f < pm->F; f++) P[pm->tok + f] = 0.1f * (float)gfuse_i_rng_normal(&rng);
    for (int m = 0; m < pm->p->M; m++) {
        double b = 1.0 / sqrt((double)pm->p->d);
        uniform_fill(P + pm->enc_W[m], (int64_t)pm->F * pm->p->d, b, &rng);
        uniform_fill(P + pm->enc_b[m], pm->F, b, &rng);
    }
    peer_gat *ls[2] = {&pm->l1, &pm->l2};
    for (int q = 0; q < 2; q++) {
        peer_gat *l = ls[q];
        int HD = l->H * l->D;
        uniform_fill(P + l->W, (int64_t)HD * l->in, sqrt(6.0 / (double)(l->in + HD)), &rng);
        double ba = sqrt(6.0 / (double)(1 + l->D));
        uniform_fill(P + l->a_src, HD, ba, &rng);
        uniform_fill(P + l->a_dst, HD, ba, &rng);
    }
}

static void peer_model_free(peer_model *pm)
{
    gfuse_graph_free(&pm->g2);
    peer_gat *ls[2] = {&pm->l1, &pm->l2};
    for (int q = 0; q < 2; q++) {
        free(ls[q]->z);
        free(ls[q]->out);
        free(ls[q]->alpha);
        free(ls[q]->s_src);
        free(ls[q]->s_dst);
        free(ls[q]->att);
        free(ls[q]->datt);
    }
    free(pm->enc_W);
    free(pm->enc_b);
    free(pm->params);
    free(pm->grads);
    free(pm->mom);
    free(pm->vel);
    free(pm->decay);
    free(pm->h0);
    free(pm->dh0);
    free(pm->act1);
    free(pm->dact1);
    free(pm->dpre1);
    free(pm->probs);
    free(pm->dout2);
    free(pm->dz);
    free(pm->work);
    free(pm->rows);
}

static int alloc_layer(peer_gat *l, int64_t V, int64_t E)
{
    const int64_t HD = (int64_t)l->H * l->D, S = V * GFUSE_I_N_REL * l->H;
    const int64_t P = (int64_t)GFUSE_I_N_REL * HD;
    l->z = gfuse_i_alloc(V * HD, sizeof(float));
    l->out = gfuse_i_alloc(V * HD, sizeof(float));
    l->alpha = gfuse_i_alloc(E * l->H, sizeof(float));
    l->s_src = gfuse_i_alloc(S, sizeof(float));
    l->s_dst = gfuse_i_alloc(S, sizeof(float));
    l->att = gfuse_i_zalloc(2 * P, sizeof(float));
    l->datt = gfuse_i_zalloc(2 * P, sizeof(float));
    return l->z && l->out && l->alpha && l->s_src && l->s_dst && l->att && l->datt;
}

/* The second layer's graph: g with the in-edges of the sample nodes 0 .. N-1 only, in g's
 * order. The loss reads the sample nodes' logits alone, so the other rows' attention would be
 * computed for nothing: on this graph the logits are g's bit for bit, and so is every gradient
 * (the rows left out only add zeros). */
static gfuse_status sample_rows(struct gfuse_graph **out, const struct gfuse_graph *g, int64_t N)
{
    *out = NULL;
    struct gfuse_graph *h = gfuse_i_zalloc(1, sizeof *h);
    if (!h) return gfuse_i_nomem("the second layer's graph");
    h->n_samples = g->n_samples;
    h->n_mod = g->n_mod;
    h->n_nodes = g->n_nodes;
    h->k = g->k;
    gfuse_status st = GFUSE_OK;
    if (gfuse_i_graph_alloc_nodes(h) != 0) {
        st = gfuse_i_nomem("the second layer's graph");
        goto done;
    }
    memcpy(h->observed, g->observed, (size_t)g->n_nodes);
    for (int64_t v = 0; v < g->n_nodes; v++)
        h->in_ptr[v] = v < N ? g->in_ptr[v + 1] - g->in_ptr[v] : 0;
    if (gfuse_i_graph_alloc_edges(h) != 0) {
        st = gfuse_i_nomem("the second layer's graph");
        goto done;
    }
    /* the rows of the sample nodes come first: their edges are g's first ones */
    memcpy(h->in_src, g->in_src, (size_t)h->n_edges * sizeof *h->in_src);
    memcpy(h->in_rel, g->in_rel, (size_t)h->n_edges);
    memcpy(h->in_w, g->in_w, (size_t)h->n_edges * sizeof *h->in_w);
    st = gfuse_i_graph_transpose(h);
done:
    if (st != GFUSE_OK) {
        gfuse_i_graph_release(h);
        return st;
    }
    *out = h;
    return GFUSE_OK;
}

static gfuse_status peer_model_alloc(peer_model *pm, const gfuse_i_peer_problem *p, int heads,
                                     int hidden)
{
    memset(pm, 0, sizeof *pm);
    pm->p = p;
    pm->V = p->g->n_nodes;
    pm->E = p->g->n_edges;
    pm->F = PEER_F;
    pm->C = p->C;
    int64_t np = 0;
    pm->tok = take(&np, pm->F);
    pm->enc_W = gfuse_i_alloc(p->M, sizeof(int64_t));
    pm->enc_b = gfuse_i_alloc(p->M, sizeof(int64_t));
    if (!pm->enc_W || !pm->enc_b) return gfuse_i_nomem("the peer model");
    for (int m = 0; m < p->M; m++) {
        pm->enc_W[m] = take(&np, (int64_t)pm->F * p->d);
        pm->enc_b[m] = take(&np, pm->F);
    }
    layer_layout(&pm->l1, &np, heads, hidden / heads, pm->F);
    layer_layout(&pm->l2, &np, 1, pm->C, hidden);
    pm->np = np;
    const int64_t V = pm->V, N = p->N;
    gfuse_status st = sample_rows(&pm->g2, p->g, N);
    if (st != GFUSE_OK) return st;
    int64_t work = gfuse_i_gat_work_floats(p->g, heads, hidden / heads);
    int64_t work2 = gfuse_i_gat_work_floats(pm->g2, 1, pm->C);
    if (work2 > work) work = work2;
    const int64_t wide = V * (hidden > pm->F ? hidden : pm->F);
    pm->params = gfuse_i_alloc(np, sizeof(float));
    pm->grads = gfuse_i_alloc(np, sizeof(float));
    pm->mom = gfuse_i_zalloc(np, sizeof(float));
    pm->vel = gfuse_i_zalloc(np, sizeof(float));
    pm->decay = gfuse_i_zalloc(np, 1);
    pm->h0 = gfuse_i_alloc(V * pm->F, sizeof(float));
    pm->dh0 = gfuse_i_alloc(V * pm->F, sizeof(float));
    pm->act1 = gfuse_i_alloc(V * hidden, sizeof(float));
    pm->dact1 = gfuse_i_alloc(V * hidden, sizeof(float));
    pm->dpre1 = gfuse_i_alloc(V * hidden, sizeof(float));
    pm->probs = gfuse_i_alloc(N * pm->C, sizeof(float));
    pm->dout2 = gfuse_i_zalloc(V * pm->C, sizeof(float));
    pm->dz = gfuse_i_alloc(wide, sizeof(float));
    pm->work = gfuse_i_alloc(work, sizeof(float));
    pm->rows = gfuse_i_alloc(N, sizeof(int64_t));
    if (!pm->params || !pm->grads || !pm->mom || !pm->vel || !pm->decay || !pm->h0 ||
        !pm->dh0 || !pm->act1 || !pm->dact1 || !pm->dpre1 || !pm->probs || !pm->dout2 ||
        !pm->dz || !pm->work || !pm->rows || !alloc_layer(&pm->l1, V, pm->E) ||
        !alloc_layer(&pm->l2, V, pm->g2->n_edges))
        return gfuse_i_nomem("the peer model");
    for (int64_t i = 0; i < N; i++) pm->rows[i] = i;
    return GFUSE_OK;
}

/* x[b, :] += v for the B rows of x (B x C). */
static void add_bias(float *x, const float *v, int64_t B, int C)
{
#pragma omp parallel for schedule(static) if (B * C > 65536)
    for (int64_t b = 0; b < B; b++)
        for (int c = 0; c < C; c++) x[b * C + c] += v[c];
}

/* out[c] += sum over the B rows of x (B x C) of x[b, c]: partial sums over fixed blocks of
 * rows, then added in block order, so the result does not depend on the thread count. */
static gfuse_status add_column_sums(float *out, const float *x, int64_t B, int C)
{
    const int64_t nb = (B + ROW_BLOCK - 1) / ROW_BLOCK;
    float *part = gfuse_i_zalloc(nb * C, sizeof(float));
    if (!part) return gfuse_i_nomem("a column sum");
#pragma omp parallel for schedule(static) if (B * C > 65536)
    for (int64_t blk = 0; blk < nb; blk++) {
        const int64_t b1 = (blk + 1) * ROW_BLOCK < B ? (blk + 1) * ROW_BLOCK : B;
        float *ps = part + blk * C;
        for (int64_t b = blk * ROW_BLOCK; b < b1; b++)
            for (int c = 0; c < C; c++) ps[c] += x[b * C + c];
    }
    for (int64_t blk = 0; blk < nb; blk++)
        for (int c = 0; c < C; c++) out[c] += part[blk * C + c];
    free(part);
    return GFUSE_OK;
}

/* The layer's attention parameters in the kernel's R x H x D layout (relation 0 only). */
static void layer_attention_in(peer_gat *l, const float *P)
{
    const int64_t HD = (int64_t)l->H * l->D, Pn = (int64_t)GFUSE_I_N_REL * HD;
    memcpy(l->att, P + l->a_src, (size_t)HD * sizeof(float));
    memcpy(l->att + Pn, P + l->a_dst, (size_t)HD * sizeof(float));
    memset(l->datt, 0, (size_t)(2 * Pn) * sizeof(float));
}

static void layer_forward(peer_gat *l, const float *P, const float *inp, int64_t V,
                          const struct gfuse_graph *g)
{
    const int HD = l->H * l->D;
    const int64_t Pn = (int64_t)GFUSE_I_N_REL * HD;
    layer_attention_in(l, P);
    gfuse_i_linear_forward(l->z, inp, P + l->W, NULL, V, l->in, HD);
    gfuse_i_gat_forward(l->out, l->alpha, l->s_src, l->s_dst, l->z, l->att, l->att + Pn, NULL, g,
                        l->H, l->D, 0.0f, 0);
    add_bias(l->out, P + l->bias, V, HD);
}

/* dinp += the gradient through the layer of dout (V x HD); parameter gradients into G. */
static gfuse_status layer_backward(peer_gat *l, float *G, float *dinp, float *dz, float *work,
                                   const float *dout, const float *P, const float *inp,
                                   int64_t V, const struct gfuse_graph *g)
{
    const int HD = l->H * l->D;
    const int64_t Pn = (int64_t)GFUSE_I_N_REL * HD;
    gfuse_status st = add_column_sums(G + l->bias, dout, V, HD);
    if (st != GFUSE_OK) return st;
    memset(dz, 0, (size_t)(V * HD) * sizeof(float));
    gfuse_i_gat_backward(dz, l->datt, l->datt + Pn, work, dout, l->alpha, l->s_src, l->s_dst, l->z,
                         l->att, l->att + Pn, NULL, g, l->H, l->D, 0.0f, 0);
    for (int64_t q = 0; q < HD; q++) {
        G[l->a_src + q] += l->datt[q];
        G[l->a_dst + q] += l->datt[Pn + q];
    }
    gfuse_i_linear_backward(dinp, G + l->W, NULL, dz, inp, P + l->W, V, l->in, HD);
    return GFUSE_OK;
}

/* Forward pass and loss: cross-entropy over the sample nodes. */
static double peer_forward(peer_model *pm)
{
    const gfuse_i_peer_problem *p = pm->p;
    const int64_t N = p->N, V = pm->V;
    const int F = pm->F;
    const float *P = pm->params;
    gfuse_i_place_rows_forward(pm->h0, NULL, P + pm->tok, pm->rows, N, F);
    for (int m = 0; m < p->M; m++)
        gfuse_i_linear_forward(pm->h0 + (N + (int64_t)m * N) * F, p->x[m], P + pm->enc_W[m],
                               P + pm->enc_b[m], N, (int)p->d, F);
    layer_forward(&pm->l1, P, pm->h0, V, p->g);
    gfuse_i_elu_forward(pm->act1, pm->l1.out, V * pm->l1.H * pm->l1.D);
    layer_forward(&pm->l2, P, pm->act1, V, pm->g2);
    gfuse_i_softmax_forward(pm->probs, pm->l2.out, N, pm->C); /* rows 0 .. N-1: the samples */
    return gfuse_i_xent_forward(pm->probs, p->label, pm->rows, N, NULL, pm->C);
}

static gfuse_status peer_backward(peer_model *pm)
{
    const gfuse_i_peer_problem *p = pm->p;
    const int64_t N = p->N, V = pm->V;
    const int F = pm->F, HD = pm->l1.H * pm->l1.D;
    float *G = pm->grads;
    const float *P = pm->params;
    memset(G, 0, (size_t)pm->np * sizeof *G);
    /* dout2 rows N .. V-1 stay 0: only the sample nodes' logits enter the loss */
    memset(pm->dout2, 0, (size_t)(N * pm->C) * sizeof(float));
    gfuse_i_xent_backward(pm->dout2, pm->probs, p->label, pm->rows, N, NULL, pm->C, 1.0f);
    memset(pm->dact1, 0, (size_t)(V * HD) * sizeof(float));
    gfuse_status st =
        layer_backward(&pm->l2, G, pm->dact1, pm->dz, pm->work, pm->dout2, P, pm->act1, V, pm->g2);
    if (st != GFUSE_OK) return st;
    memset(pm->dpre1, 0, (size_t)(V * HD) * sizeof(float));
    gfuse_i_elu_backward(pm->dpre1, pm->dact1, pm->l1.out, V * HD);
    memset(pm->dh0, 0, (size_t)(V * F) * sizeof(float));
    st = layer_backward(&pm->l1, G, pm->dh0, pm->dz, pm->work, pm->dpre1, P, pm->h0, V, p->g);
    if (st != GFUSE_OK) return st;
    for (int m = 0; m < p->M; m++)
        gfuse_i_linear_backward(NULL, G + pm->enc_W[m], G + pm->enc_b[m],
                                pm->dh0 + (N + (int64_t)m * N) * F, p->x[m], P + pm->enc_W[m], N,
                                (int)p->d, F);
    return add_column_sums(G + pm->tok, pm->dh0, N, F);
}

static gfuse_status run_peer(const gfuse_bench_options *o, gfuse_bench_result *r)
{
    gfuse_i_peer_problem p;
    peer_model pm;
    memset(&pm, 0, sizeof pm);
    const gfuse_train_options *t = &o->train;
    double t0 = omp_get_wtime(), graph_s = 0.0;
    gfuse_status st = gfuse_i_peer_problem_make(&p, o->n_samples, o->n_modalities, o->n_features,
                                                o->n_classes, t->k, t->seed, o->peer_graph,
                                                &graph_s);
    if (st != GFUSE_OK) return st;
    r->graph_build_s = graph_s;
    r->synth_s = omp_get_wtime() - t0 - graph_s;
    double s0 = omp_get_wtime();
    st = peer_model_alloc(&pm, &p, t->heads, t->hidden);
    if (st != GFUSE_OK) goto done;
    peer_init(&pm, t->seed);
    r->setup_s = graph_s + (omp_get_wtime() - s0);
    r->nodes = pm.V;
    r->edges = pm.E;
    r->parameters = pm.np;

    const int total = o->warmup + o->epochs;
    double *phase[4] = {NULL, NULL, NULL, NULL};
    for (int q = 0; q < 3; q++)
        if (!(phase[q] = gfuse_i_alloc(total, sizeof(double)))) st = gfuse_i_nomem("timings");
    for (int ep = 0; st == GFUSE_OK && ep < total; ep++) {
        double e0 = omp_get_wtime();
        double loss = peer_forward(&pm);
        double e1 = omp_get_wtime();
        st = peer_backward(&pm);
        double e2 = omp_get_wtime();
        gfuse_i_adamw_step(pm.params, pm.grads, pm.mom, pm.vel, pm.decay, pm.np, t->lr, 0.0,
                           ep + 1, NULL, 0.0f);
        double e3 = omp_get_wtime();
        if (!isfinite(loss))
            st = gfuse_i_error(GFUSE_ERR_RUNTIME, "the loss is %g at epoch %d", loss, ep + 1);
        if (ep == 0) r->loss_first = loss;
        r->loss_last = loss;
        phase[0][ep] = e1 - e0;
        phase[1][ep] = e2 - e1;
        phase[2][ep] = e3 - e2;
        r->epoch_s[ep] = e3 - e0;
    }
    if (st == GFUSE_OK) st = epoch_statistics(r, phase);
    for (int q = 0; q < 3; q++) free(phase[q]);
    r->eval_s = 0.0;
    r->params_digest =
        gfuse_i_digest(GFUSE_I_DIGEST_SEED, pm.params, (size_t)pm.np * sizeof(float));
    r->peak_rss_mb = peak_rss_mb();
    if (st == GFUSE_OK)
        st = time_kernel(r, p.g, t->heads, t->hidden / t->heads, o->kernel_reps, t->seed);
done:
    peer_model_free(&pm);
    gfuse_i_peer_problem_free(&p);
    return st;
}

/* ---- entry ---------------------------------------------------------------------------------- */

gfuse_status gfuse_bench_run(const gfuse_bench_options *opts, gfuse_bench_result *out)
{
    GFUSE_CHECK_ARG(out != NULL, "out must not be NULL");
    memset(out, 0, sizeof *out);
    GFUSE_CHECK_ARG(opts != NULL, "options must not be NULL");
    gfuse_status st = check_options(opts);
    if (st != GFUSE_OK) return st;
    gfuse_bench_result r = {.like_peer = opts->like_peer, .epochs = opts->epochs,
                            .warmup = opts->warmup, .threads = gfuse_get_threads(),
                            .kernel_forward_s = NAN, .kernel_backward_s = NAN,
                            .kernel_bytes = NAN, .kernel_gbs = NAN};
    r.epoch_s = gfuse_i_zalloc((size_t)opts->warmup + (size_t)opts->epochs, sizeof(double));
    if (!r.epoch_s) return gfuse_i_nomem("the epoch times");
    st = opts->like_peer ? run_peer(opts, &r) : run_model(opts, &r);
    if (st != GFUSE_OK) {
        gfuse_bench_result_free(&r);
        return st;
    }
    *out = r;
    return GFUSE_OK;
}
