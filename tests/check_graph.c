/*
 * check_graph.c: the sample-modality graph. The kNN edges are compared with an independent
 * brute-force reference written here in double precision (and with the library's serial twin),
 * on random cohorts with ties, duplicate rows, zero vectors, missing cells and missing
 * modalities; the graph must not depend on the thread count; the CSR, its transpose and the
 * GraphBLAS hand-over must round-trip; modality-dropout graphs derived from the full one must
 * give the hidden nodes the serial twin's in-edges (and, on a clustered cohort, most of a
 * rebuild's knn sources), keep every other edge not from a hidden node and not depend on the
 * thread count; diagnostics are checked on small hand-made cohorts and, when ../shared is present, on the
 * ROSMAP cohort.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include "cohort/cohort.h"
#include "graph/graph.h"
#include "graph_check.h"
#include "grb_ref.h"
#include "model/model.h"
#include "core/rng.h"
#include "core/util.h"

#include <check.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- random cohorts --------------------------------------------------------------------- */

typedef struct {
    int64_t n;
    int m;
    int64_t d[4];
    float *x[4]; /* n x d[s], NaN rows = absent */
} raw_cohort;

/* Values from a small integer set (so exact ties are common), some duplicated rows, some zero
 * rows, some missing cells, some absent modalities (every sample keeps at least one). */
static void raw_random(raw_cohort *r, uint64_t seed, int64_t n, int m)
{
    gfuse_i_rng g;
    gfuse_i_rng_seed(&g, seed);
    r->n = n;
    r->m = m;
    for (int s = 0; s < m; s++) {
        r->d[s] = 1 + (int64_t)gfuse_i_rng_below(&g, 9);
        r->x[s] = malloc((size_t)(n * r->d[s]) * sizeof(float));
        ck_assert_ptr_nonnull(r->x[s]);
        for (int64_t i = 0; i < n; i++) {
            float *row = r->x[s] + i * r->d[s];
            double u = gfuse_i_rng_uniform(&g);
            for (int64_t f = 0; f < r->d[s]; f++) {
                if (u < 0.1 && i > 0) row[f] = r->x[s][(i - 1 - (int64_t)gfuse_i_rng_below(&g, (uint64_t)i)) * r->d[s] + f];
                else if (u < 0.15) row[f] = 0.0f;
                else row[f] = (float)((int64_t)gfuse_i_rng_below(&g, 5) - 2);
            }
            if (u >= 0.15 && gfuse_i_rng_uniform(&g) < 0.05) row[gfuse_i_rng_below(&g, (uint64_t)r->d[s])] = NAN;
        }
    }
    /* Duplicate whole rows (all modalities) of a few samples. */
    for (int64_t i = 1; i < n; i++) {
        if (gfuse_i_rng_uniform(&g) < 0.08) {
            int64_t j = (int64_t)gfuse_i_rng_below(&g, (uint64_t)i);
            for (int s = 0; s < m; s++)
                memcpy(r->x[s] + i * r->d[s], r->x[s] + j * r->d[s], (size_t)r->d[s] * sizeof(float));
        }
    }
    /* Absent modalities: about 30% of (sample, modality) pairs, keeping one per sample. */
    for (int64_t i = 0; i < n; i++) {
        int keep = (int)gfuse_i_rng_below(&g, (uint64_t)m);
        for (int s = 0; s < m; s++) {
            if (s == keep || gfuse_i_rng_uniform(&g) >= 0.3) continue;
            for (int64_t f = 0; f < r->d[s]; f++) r->x[s][i * r->d[s] + f] = NAN;
        }
    }
}

static void raw_free(raw_cohort *r)
{
    for (int s = 0; s < r->m; s++) free(r->x[s]);
}

static gfuse_cohort *raw_to_cohort(const raw_cohort *r)
{
    char **ids = malloc((size_t)r->n * sizeof *ids);
    ck_assert_ptr_nonnull(ids);
    for (int64_t i = 0; i < r->n; i++) ids[i] = gfuse_i_asprintf("s%lld", (long long)i);
    gfuse_cohort *c = NULL;
    ck_assert_int_eq(gfuse_cohort_new(&c, r->n, (const char *const *)ids), GFUSE_OK);
    for (int s = 0; s < r->m; s++) {
        char name[16];
        snprintf(name, sizeof name, "mod%d", s);
        ck_assert_int_eq(gfuse_cohort_add_modality(c, name, r->d[s], NULL, r->x[s]), GFUSE_OK);
    }
    gfuse_i_free_strings(ids, r->n);
    return c;
}

/* A random raw cohort in *r (raw_random), as a cohort. */
static gfuse_cohort *random_cohort(raw_cohort *r, uint64_t seed, int64_t n, int m)
{
    raw_random(r, seed, n, m);
    return raw_to_cohort(r);
}

/* The fixture of most graph tests: a random raw cohort and the cohort made of it. */
typedef struct {
    raw_cohort r;
    gfuse_cohort *c;
} random_pair;

static random_pair random_pair_new(uint64_t seed, int64_t n, int m)
{
    random_pair t;
    t.c = random_cohort(&t.r, seed, n, m);
    return t;
}

/* Frees a cohort and the raw cohort it came from. */
static void cohort_release_all(gfuse_cohort **c, raw_cohort *r)
{
    gfuse_cohort_free(c);
    raw_free(r);
}

static void random_release(random_pair *t) { cohort_release_all(&t->c, &t->r); }

/* ---- the independent brute-force reference ------------------------------------------------ */

static int row_present(const raw_cohort *r, int s, int64_t i)
{
    for (int64_t f = 0; f < r->d[s]; f++)
        if (!isnan(r->x[s][i * r->d[s] + f])) return 1;
    return 0;
}

typedef struct {
    double *mean, *inv_sd, *norm;
} ref_mod;

static double ref_z(const raw_cohort *r, const ref_mod *rm, int s, int64_t i, int64_t f)
{
    /* z-scores are rounded to float32, as the library documents */
    double v = r->x[s][i * r->d[s] + f];
    return isnan(v) ? 0.0 : (double)(float)((v - rm[s].mean[f]) * rm[s].inv_sd[f]);
}

static double ref_pair(const raw_cohort *r, const ref_mod *rm, gfuse_metric metric, int s,
                       int64_t i, int64_t j)
{
    if (metric == GFUSE_METRIC_COSINE) {
        if (rm[s].norm[i] == 0.0 || rm[s].norm[j] == 0.0) return 0.0;
        double dot = 0.0;
        for (int64_t f = 0; f < r->d[s]; f++) dot += ref_z(r, rm, s, i, f) * ref_z(r, rm, s, j, f);
        return dot / (rm[s].norm[i] * rm[s].norm[j]);
    }
    double ss = 0.0;
    for (int64_t f = 0; f < r->d[s]; f++) {
        double dz = ref_z(r, rm, s, i, f) - ref_z(r, rm, s, j, f);
        ss += dz * dz;
    }
    return 1.0 / (1.0 + ss / (double)r->d[s]);
}

/* Expected knn in-neighbours of node (i, m): up to k sample indices, best first, in nbr;
 * returns how many. */
static int ref_neighbours(const raw_cohort *r, const ref_mod *rm, const gfuse_graph_options *o,
                          const uint8_t *sender, int m, int64_t i, int64_t *nbr, double *sim)
{
    int len = 0;
    int has_m = row_present(r, m, i);
    for (int64_t j = 0; j < r->n; j++) {
        if (j == i || !row_present(r, m, j) || (sender && !sender[j])) continue;
        double s;
        if (has_m) {
            s = ref_pair(r, rm, o->metric, m, i, j);
        } else {
            double sum = 0.0;
            int cnt = 0;
            for (int t = 0; t < r->m; t++) {
                if (!row_present(r, t, i) || !row_present(r, t, j)) continue;
                sum += ref_pair(r, rm, o->metric, t, i, j);
                cnt++;
            }
            if (cnt == 0) continue;
            s = sum / cnt;
        }
        /* insert keeping (sim desc, j asc); j arrives ascending */
        if (len == o->k && !(s > sim[len - 1])) continue;
        int b = len < o->k ? len : o->k - 1;
        while (b > 0 && sim[b - 1] < s) {
            sim[b] = sim[b - 1];
            nbr[b] = nbr[b - 1];
            b--;
        }
        sim[b] = s;
        nbr[b] = j;
        if (len < o->k) len++;
    }
    return len;
}

static void ref_prepare(const raw_cohort *r, const gfuse_graph_options *o, const uint8_t *sender,
                        ref_mod *rm)
{
    for (int s = 0; s < r->m; s++) {
        int64_t d = r->d[s];
        rm[s].mean = calloc((size_t)d, sizeof(double));
        rm[s].inv_sd = malloc((size_t)d * sizeof(double));
        rm[s].norm = calloc((size_t)r->n, sizeof(double));
        for (int64_t f = 0; f < d; f++) {
            rm[s].inv_sd[f] = 1.0;
            if (!o->standardize) continue;
            double sum = 0.0, ss = 0.0;
            int64_t cnt = 0;
            for (int64_t i = 0; i < r->n; i++) {
                double v = r->x[s][i * d + f];
                if (!row_present(r, s, i) || (sender && !sender[i]) || isnan(v)) continue;
                sum += v;
                cnt++;
            }
            double mean = cnt ? sum / (double)cnt : 0.0;
            for (int64_t i = 0; i < r->n; i++) {
                double v = r->x[s][i * d + f];
                if (!row_present(r, s, i) || (sender && !sender[i]) || isnan(v)) continue;
                ss += (v - mean) * (v - mean);
            }
            double sd = cnt ? sqrt(ss / (double)cnt) : 0.0;
            rm[s].mean[f] = mean;
            rm[s].inv_sd[f] = sd > 0.0 ? 1.0 / sd : 0.0;
        }
        for (int64_t i = 0; i < r->n; i++) {
            if (!row_present(r, s, i)) continue;
            double ss = 0.0;
            for (int64_t f = 0; f < d; f++) ss += ref_z(r, rm, s, i, f) * ref_z(r, rm, s, i, f);
            rm[s].norm[i] = sqrt(ss);
        }
    }
}

static void ref_release(const raw_cohort *r, ref_mod *rm)
{
    for (int s = 0; s < r->m; s++) {
        free(rm[s].mean);
        free(rm[s].inv_sd);
        free(rm[s].norm);
    }
}

/* Checks every modality node's knn in-edges against the reference: the same source set, the
 * same weights (to float rounding), and member/self edges as the layout says. */
static void check_against_reference(const raw_cohort *r, const struct gfuse_graph *g,
                                    const gfuse_graph_options *o, const uint8_t *sender)
{
    ref_mod rm[4];
    ref_prepare(r, o, sender, rm);
    int64_t *nbr = malloc((size_t)o->k * sizeof *nbr);
    double *sim = malloc((size_t)o->k * sizeof *sim);
    int64_t n = r->n, isolated = 0;
    for (int m = 0; m < r->m; m++) {
        for (int64_t i = 0; i < n; i++) {
            int len = ref_neighbours(r, rm, o, sender, m, i, nbr, sim);
            int64_t v = (int64_t)m * n + i;
            ck_assert_int_eq(g->observed[v], row_present(r, m, i));
            if (!row_present(r, m, i) && len == 0) isolated++;
            int n_knn = 0, n_self = 0, n_member = 0;
            for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++) {
                if (g->in_rel[e] == GFUSE_I_REL_SELF) {
                    ck_assert_int_eq(g->in_src[e], v);
                    n_self++;
                } else if (g->in_rel[e] == GFUSE_I_REL_MEMBER) {
                    ck_assert_int_eq(g->in_src[e], (int64_t)r->m * n + i);
                    n_member++;
                } else {
                    int64_t j = g->in_src[e] - (int64_t)m * n;
                    int found = -1;
                    for (int t = 0; t < len; t++)
                        if (nbr[t] == j) found = t;
                    if (found < 0)
                        ck_abort_msg("node (%lld, %d), k %d, metric %d, standardize %d: knn "
                                     "source %lld is not among the reference neighbours",
                                     (long long)i, m, o->k, (int)o->metric, o->standardize,
                                     (long long)j);
                    double want = o->weighted ? sim[found] : 1.0;
                    ck_assert_double_eq_tol(g->in_w[e], want, 1e-6);
                    n_knn++;
                }
            }
            ck_assert_int_eq(n_knn, len);
            ck_assert_int_eq(n_self, 1);
            ck_assert_int_eq(n_member, 1);
        }
    }
    ck_assert_int_eq(g->n_isolated_missing, isolated);
    free(nbr);
    free(sim);
    ref_release(r, rm);
}

static void knn_equal(const gfuse_i_knn *a, const gfuse_i_knn *b)
{
    int64_t nodes = a->n_samples * a->n_mod;
    ck_assert_int_eq(a->n_samples, b->n_samples);
    ck_assert_int_eq(a->n_mod, b->n_mod);
    for (int64_t v = 0; v < nodes; v++) {
        ck_assert_int_eq(a->count[v], b->count[v]);
        for (int t = 0; t < a->count[v]; t++) {
            ck_assert_int_eq(a->nbr[v * a->k + t], b->nbr[v * b->k + t]);
            ck_assert_float_eq(a->sim[v * a->k + t], b->sim[v * b->k + t]);
        }
    }
}

/* r as a cohort, and its view in *v. */
static gfuse_cohort *view_of(const raw_cohort *r, gfuse_i_view *v)
{
    gfuse_cohort *c = raw_to_cohort(r);
    ck_assert_int_eq(gfuse_i_cohort_view(v, c), GFUSE_OK);
    return c;
}

/* A random raw cohort in *r (raw_random), as a cohort with its view in *v. */
static gfuse_cohort *random_view(raw_cohort *r, gfuse_i_view *v, uint64_t seed, int64_t n, int m)
{
    raw_random(r, seed, n, m);
    return view_of(r, v);
}

/* Default graph options. */
static gfuse_graph_options graph_defaults(void)
{
    gfuse_graph_options o;
    gfuse_graph_options_init(&o);
    return o;
}

/* Default graph options with k neighbours. */
static gfuse_graph_options options_k(int k)
{
    gfuse_graph_options o = graph_defaults();
    o.k = k;
    return o;
}

/* The tiled kNN on v equals the reference kNN (both with o and sender). */
static void knn_matches_ref(const gfuse_i_view *v, const gfuse_graph_options *o,
                            const uint8_t *sender)
{
    gfuse_i_knn fast, twin;
    ck_assert_int_eq(gfuse_i_knn_build(&fast, v, o, sender), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_knn_ref(&twin, v, o, sender), GFUSE_OK);
    knn_equal(&fast, &twin);
    gfuse_i_knn_free(&fast);
    gfuse_i_knn_free(&twin);
}

/* knn_matches_ref without senders for cosine, then euclidean (o->metric is left euclidean). */
static void knn_matches_ref_metrics(const gfuse_i_view *v, gfuse_graph_options *o)
{
    for (int metric = 0; metric < 2; metric++) {
        o->metric = metric ? GFUSE_METRIC_EUCLIDEAN : GFUSE_METRIC_COSINE;
        knn_matches_ref(v, o, NULL);
    }
}

/* Frees a view, its cohort and the raw cohort it came from. */
static void view_release_all(gfuse_i_view *v, gfuse_cohort **c, raw_cohort *r)
{
    gfuse_i_view_release(v);
    gfuse_cohort_free(c);
    raw_free(r);
}

/* knn_matches_ref_metrics on the view of r with k neighbours; when skip > 0 also
 * knn_matches_ref with every skip-th sample not sending. Frees r. */
static void raw_knn_matches_ref(raw_cohort *r, int k, int skip)
{
    gfuse_i_view v;
    gfuse_cohort *c = view_of(r, &v);
    gfuse_graph_options o = options_k(k);
    knn_matches_ref_metrics(&v, &o);
    if (skip > 0) {
        /* with a sender subset the blocks are not symmetric: the one-sided path */
        uint8_t *sender = malloc((size_t)r->n);
        for (int64_t i = 0; i < r->n; i++) sender[i] = i % skip != 0;
        knn_matches_ref(&v, &o, sender);
        free(sender);
    }
    view_release_all(&v, &c, r);
}

static void graphs_identical(const struct gfuse_graph *a, const struct gfuse_graph *b)
{
    ck_assert_int_eq(a->n_nodes, b->n_nodes);
    ck_assert_int_eq(a->n_edges, b->n_edges);
    ck_assert_int_eq(a->n_isolated_missing, b->n_isolated_missing);
    size_t nn = (size_t)a->n_nodes + 1, ne = (size_t)a->n_edges;
    ck_assert(memcmp(a->in_ptr, b->in_ptr, nn * sizeof(int64_t)) == 0);
    ck_assert(memcmp(a->out_ptr, b->out_ptr, nn * sizeof(int64_t)) == 0);
    ck_assert(memcmp(a->in_src, b->in_src, ne * sizeof(int64_t)) == 0);
    ck_assert(memcmp(a->in_rel, b->in_rel, ne) == 0);
    ck_assert(memcmp(a->in_w, b->in_w, ne * sizeof(float)) == 0);
    ck_assert(memcmp(a->out_dst, b->out_dst, ne * sizeof(int64_t)) == 0);
    ck_assert(memcmp(a->out_eid, b->out_eid, ne * sizeof(int64_t)) == 0);
    ck_assert(memcmp(a->observed, b->observed, nn - 1) == 0);
}

/* ---- core: kNN against the reference ---------------------------------------------------- */

START_TEST(test_knn_matches_reference)
{
    static const int64_t sizes[] = {2, 7, 40, 150, 333};
    for (int rep = 0; rep < 5; rep++) {
        for (int variant = 0; variant < 4; variant++) {
            raw_cohort r;
            gfuse_i_view v;
            gfuse_cohort *c = random_view(&r, &v, 100 + (uint64_t)rep * 7 + (uint64_t)variant,
                                          sizes[rep], 1 + (rep + variant) % 3);
            gfuse_graph_options o = graph_defaults();
            o.metric = variant & 1 ? GFUSE_METRIC_EUCLIDEAN : GFUSE_METRIC_COSINE;
            o.standardize = variant & 2 ? 0 : 1;
            o.k = 1 + (rep * 3 + variant) % 6;
            gfuse_graph *g = NULL;
            ck_assert_int_eq(gfuse_graph_build(&g, c, &o), GFUSE_OK);
            ck_assert_int_eq(tu_graph_validate(g), GFUSE_OK);
            check_against_reference(&r, g, &o, NULL);

            knn_matches_ref(&v, &o, NULL);
            gfuse_graph_free(&g);
            view_release_all(&v, &c, &r);
        }
    }
}
END_TEST

/* Bigger cohorts than a tile, so blocks and tile edges are crossed. */
START_TEST(test_knn_across_tiles)
{
    raw_cohort r;
    raw_random(&r, 77, 2600, 2);
    raw_knn_matches_ref(&r, 7, 3);
}
END_TEST

/* Continuous values (no exact ties): the float kernel must still pick exactly the reference's
 * neighbours, near-ties included. */
START_TEST(test_knn_continuous)
{
    raw_cohort r;
    raw_random(&r, 91, 1800, 3);
    gfuse_i_rng rng;
    gfuse_i_rng_seed(&rng, 92);
    for (int s = 0; s < r.m; s++)
        for (int64_t t = 0; t < r.n * r.d[s]; t++)
            if (!isnan(r.x[s][t])) r.x[s][t] += (float)(0.3 * gfuse_i_rng_normal(&rng));
    raw_knn_matches_ref(&r, 12, 0);
}
END_TEST

/* Only flagged samples send knn edges; statistics come from them only. */
START_TEST(test_knn_senders)
{
    raw_cohort r;
    gfuse_i_view v;
    gfuse_cohort *c = random_view(&r, &v, 5, 120, 3);
    uint8_t *sender = malloc((size_t)r.n);
    for (int64_t i = 0; i < r.n; i++) sender[i] = i % 4 != 1;
    gfuse_graph_options o = options_k(5);
    struct gfuse_graph *g = NULL;
    ck_assert_int_eq(gfuse_i_graph_build(&g, &v, &o, sender), GFUSE_OK);
    ck_assert_int_eq(tu_graph_validate(g), GFUSE_OK);
    check_against_reference(&r, g, &o, sender);
    for (int64_t e = 0; e < g->n_edges; e++)
        if (g->in_rel[e] == GFUSE_I_REL_KNN) ck_assert(sender[g->in_src[e] % r.n]);
    gfuse_graph_free(&g);
    free(sender);
    view_release_all(&v, &c, &r);
}
END_TEST

START_TEST(test_same_graph_any_threads)
{
    random_pair t = random_pair_new(31, 2000, 3);
    gfuse_graph_options o = graph_defaults();
    int saved = omp_get_max_threads();
    for (int metric = 0; metric < 2; metric++) {
        o.metric = metric ? GFUSE_METRIC_EUCLIDEAN : GFUSE_METRIC_COSINE;
        gfuse_graph *g1 = NULL, *g2 = NULL;
        omp_set_num_threads(1);
        ck_assert_int_eq(gfuse_graph_build(&g1, t.c, &o), GFUSE_OK);
        omp_set_num_threads(2);
        ck_assert_int_eq(gfuse_graph_build(&g2, t.c, &o), GFUSE_OK);
        ck_assert_int_gt(g1->n_edges, 65536); /* large enough for the parallel paths */
        graphs_identical(g1, g2);
        gfuse_graph_free(&g1);
        gfuse_graph_free(&g2);
    }
    omp_set_num_threads(saved);
    random_release(&t);
}
END_TEST

/* Cosine with a zero vector is 0: rows x, -x and 0 have mean 0, so 0 stays 0 after
 * standardisation. */
START_TEST(test_zero_vector_cosine)
{
    const char *ids[] = {"a", "b", "c", "d", "e"};
    const float x[] = {1, 2, -1, -2, 3, 1, -3, -1, 0, 0};
    gfuse_cohort *c = NULL;
    ck_assert_int_eq(gfuse_cohort_new(&c, 5, ids), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_add_modality(c, "m", 2, NULL, x), GFUSE_OK);
    gfuse_graph_options o = options_k(2);
    for (int st = 0; st < 2; st++) {
        o.standardize = st;
        struct gfuse_graph *g = NULL;
        ck_assert_int_eq(gfuse_graph_build(&g, c, &o), GFUSE_OK);
        /* node e (index 4): all 4 others at similarity 0; the tie goes to a and b */
        int64_t e = g->in_ptr[4], t = 0;
        for (; e < g->in_ptr[5]; e++) {
            if (g->in_rel[e] != GFUSE_I_REL_KNN) continue;
            ck_assert_int_eq(g->in_src[e], t++);
            ck_assert_float_eq(g->in_w[e], 0.0f);
        }
        ck_assert_int_eq(t, 2);
        /* node a: b is opposite (-1), c similar, e zero */
        for (e = g->in_ptr[0]; e < g->in_ptr[1]; e++)
            if (g->in_src[e] == 4) ck_assert_float_eq(g->in_w[e], 0.0f);
        gfuse_graph_free(&g);
    }
    gfuse_cohort_free(&c);
}
END_TEST

/* A sample sharing no modality with any observed node of m: its (i, m) gets no knn edge. */
START_TEST(test_isolated_missing)
{
    const char *ids[] = {"a0", "a1", "a2", "b0", "b1", "b2", "ab"};
    float xa[7 * 2], xb[7 * 2];
    for (int i = 0; i < 7; i++) {
        xa[2 * i] = (float)i;
        xa[2 * i + 1] = (float)(i * i % 5);
        xb[2 * i] = (float)(7 - i);
        xb[2 * i + 1] = (float)(i % 3);
        if (i >= 3 && i < 6) xa[2 * i] = xa[2 * i + 1] = NAN; /* b* lack A */
        if (i < 3) xb[2 * i] = xb[2 * i + 1] = NAN;           /* a* lack B */
    }
    gfuse_cohort *c = NULL;
    ck_assert_int_eq(gfuse_cohort_new(&c, 7, ids), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_add_modality(c, "A", 2, NULL, xa), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_add_modality(c, "B", 2, NULL, xb), GFUSE_OK);
    gfuse_graph_options o = options_k(2);
    struct gfuse_graph *g = NULL;
    ck_assert_int_eq(gfuse_graph_build(&g, c, &o), GFUSE_OK);
    /* a* missing B: candidates b0 b1 b2 share nothing, "ab" shares A -> one knn edge each.
     * Without "ab" they would be isolated; remove it from the candidates by hiding its B. */
    for (int i = 0; i < 3; i++) {
        int64_t v = gfuse_i_node_of(g, i, 1), n_knn = 0;
        for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++)
            if (g->in_rel[e] == GFUSE_I_REL_KNN) {
                ck_assert_int_eq(g->in_src[e], gfuse_i_node_of(g, 6, 1));
                n_knn++;
            }
        ck_assert_int_eq(n_knn, 1);
    }
    ck_assert_int_eq(g->n_isolated_missing, 0);
    gfuse_graph_free(&g);
    ck_assert_int_eq(gfuse_cohort_hide(c, 6, 1), GFUSE_OK);
    ck_assert_int_eq(gfuse_graph_build(&g, c, &o), GFUSE_OK);
    /* a0..a2 missing B: no candidate shares A now; ab missing B too. b* missing A: "ab" has A
     * but shares B no longer, so they are isolated as well. */
    ck_assert_int_eq(g->n_isolated_missing, 7);
    ck_assert_int_eq(gfuse_graph_n_isolated_missing(g), 7);
    gfuse_graph_free(&g);
    gfuse_cohort_free(&c);
}
END_TEST

/* ---- storage ---------------------------------------------------------------------------- */

START_TEST(test_prefix_sum)
{
    gfuse_i_rng rng;
    gfuse_i_rng_seed(&rng, 9);
    static const int64_t sizes[] = {0, 1, 5, 65535, 65536, 300001};
    for (size_t t = 0; t < sizeof sizes / sizeof *sizes; t++) {
        int64_t n = sizes[t];
        int64_t *a = malloc((size_t)(n + 1) * sizeof *a), *b = malloc((size_t)(n + 1) * sizeof *b);
        for (int64_t v = 0; v < n; v++) a[v] = b[v] = (int64_t)gfuse_i_rng_below(&rng, 20);
        gfuse_i_prefix_sum(a, n);
        gfuse_i_prefix_sum_serial(b, n);
        ck_assert(memcmp(a, b, (size_t)(n + 1) * sizeof *a) == 0);
        ck_assert_int_eq(a[0], 0);
        free(a);
        free(b);
    }
}
END_TEST

START_TEST(test_transpose_round_trip)
{
    raw_cohort r;
    gfuse_cohort *c = random_cohort(&r, 12, 2200, 3);
    struct gfuse_graph *g = NULL;
    ck_assert_int_eq(gfuse_graph_build(&g, c, NULL), GFUSE_OK);
    ck_assert_int_eq(tu_graph_validate(g), GFUSE_OK);
    ck_assert_int_gt(g->n_edges, 65536);
    /* the parallel transpose equals the serial one */
    size_t ne = (size_t)g->n_edges, nn = (size_t)g->n_nodes + 1;
    int64_t *ptr = malloc(nn * sizeof *ptr), *dst = malloc(ne * sizeof *dst),
            *eid = malloc(ne * sizeof *eid);
    memcpy(ptr, g->out_ptr, nn * sizeof *ptr);
    memcpy(dst, g->out_dst, ne * sizeof *dst);
    memcpy(eid, g->out_eid, ne * sizeof *eid);
    ck_assert_int_eq(gfuse_i_graph_transpose_serial(g), GFUSE_OK);
    ck_assert(memcmp(ptr, g->out_ptr, nn * sizeof *ptr) == 0);
    ck_assert(memcmp(dst, g->out_dst, ne * sizeof *dst) == 0);
    ck_assert(memcmp(eid, g->out_eid, ne * sizeof *eid) == 0);
    /* every edge appears exactly once in the transpose, at its source */
    uint8_t *seen = calloc(ne, 1);
    for (int64_t u = 0; u < g->n_nodes; u++)
        for (int64_t t = g->out_ptr[u]; t < g->out_ptr[u + 1]; t++) {
            int64_t e = g->out_eid[t];
            ck_assert_int_eq(g->in_src[e], u);
            ck_assert_int_eq(seen[e], 0);
            seen[e] = 1;
        }
    for (size_t e = 0; e < ne; e++) ck_assert_int_eq(seen[e], 1);
    /* a corrupted transpose is caught */
    g->out_eid[0] ^= 1;
    ck_assert_int_eq(tu_graph_validate(g), GFUSE_ERR_RUNTIME);
    g->out_eid[0] ^= 1;
    free(seen);
    free(ptr);
    free(dst);
    free(eid);
    gfuse_graph_free(&g);
    cohort_release_all(&c, &r);
}
END_TEST

/* ---- GraphBLAS hand-over and the aggregation kernel ---------------------------------------- */

static float *random_features(int64_t rows, int64_t f, uint64_t seed)
{
    gfuse_i_rng rng;
    gfuse_i_rng_seed(&rng, seed);
    float *h = malloc((size_t)(rows * f) * sizeof *h);
    ck_assert_ptr_nonnull(h);
    for (int64_t t = 0; t < rows * f; t++) h[t] = (float)gfuse_i_rng_normal(&rng);
    return h;
}

#if HAVE_GRAPHBLAS
START_TEST(test_graphblas_pack_round_trip)
{
    random_pair t = random_pair_new(21, 300, 3);
    struct gfuse_graph *g = NULL;
    ck_assert_int_eq(gfuse_graph_build(&g, t.c, NULL), GFUSE_OK);
    int64_t *ptr = g->in_ptr, *src = g->in_src;
    float *w = g->in_w;
    int64_t v = 2 * 300 + 17, e = g->in_ptr[v + 1] - 2;
    int64_t u = g->in_src[e];
    float want = g->in_w[e];
    GrB_Matrix a = NULL;
    ck_assert_int_eq(gfuse_i_graph_pack(g, &a), GFUSE_OK);
    ck_assert_ptr_null(g->in_ptr);
    GrB_Index nvals = 0;
    ck_assert_int_eq(GrB_Matrix_nvals(&nvals, a), GrB_SUCCESS);
    ck_assert_int_eq((int64_t)nvals, g->n_edges);
    float got = 0.0f;
    ck_assert_int_eq(GrB_Matrix_extractElement_FP32(&got, a, (GrB_Index)v, (GrB_Index)u),
                     GrB_SUCCESS);
    ck_assert_float_eq(got, want);
    ck_assert_int_eq(gfuse_i_graph_unpack(g, &a), GFUSE_OK);
    ck_assert_ptr_null(a);
    /* zero-copy: the very same arrays come back */
    ck_assert_ptr_eq(g->in_ptr, ptr);
    ck_assert_ptr_eq(g->in_src, src);
    ck_assert_ptr_eq(g->in_w, w);
    ck_assert_int_eq(tu_graph_validate(g), GFUSE_OK);
    gfuse_graph_free(&g);
    random_release(&t);
}
END_TEST
#endif

START_TEST(test_spmm_graphblas_and_kernel)
{
    raw_cohort r;
    gfuse_cohort *c = random_cohort(&r, 22, 700, 3);
    static const gfuse_row_order orders[] = {GFUSE_ORDER_NATURAL, GFUSE_ORDER_RCM,
                                             GFUSE_ORDER_AMD};
    for (int t = 0; t < 3; t++) {
        gfuse_graph_options o = graph_defaults();
        o.reorder = orders[t];
        struct gfuse_graph *g = NULL;
        ck_assert_int_eq(gfuse_graph_build(&g, c, &o), GFUSE_OK);
        if (orders[t] == GFUSE_ORDER_NATURAL) {
            ck_assert_ptr_null(g->row_order);
        } else {
            /* a permutation */
            uint8_t *seen = calloc((size_t)g->n_nodes, 1);
            for (int64_t q = 0; q < g->n_nodes; q++) {
                ck_assert(g->row_order[q] >= 0 && g->row_order[q] < g->n_nodes);
                ck_assert_int_eq(seen[g->row_order[q]]++, 0);
            }
            free(seen);
        }
        int64_t f = 16;
        float *h = random_features(g->n_nodes, f, 5 + (uint64_t)t);
        float *ref = malloc((size_t)(g->n_nodes * f) * sizeof *ref);
        float *fast = malloc((size_t)(g->n_nodes * f) * sizeof *fast);
        float *grb = malloc((size_t)(g->n_nodes * f) * sizeof *grb);
        gfuse_i_graph_spmm_serial(g, h, f, ref);
        gfuse_i_graph_spmm(g, h, f, fast);
        ck_assert(memcmp(ref, fast, (size_t)(g->n_nodes * f) * sizeof *ref) == 0);
#if HAVE_GRAPHBLAS
        ck_assert_int_eq(gfuse_i_graph_spmm_graphblas(g, h, f, grb), GFUSE_OK);
        for (int64_t q = 0; q < g->n_nodes * f; q++)
            ck_assert_double_eq_tol(grb[q], ref[q], 1e-5 * (1.0 + fabs(ref[q])));
#endif
        ck_assert_int_eq(tu_graph_validate(g), GFUSE_OK);
        free(h);
        free(ref);
        free(fast);
        free(grb);
        gfuse_graph_free(&g);
    }
    cohort_release_all(&c, &r);
}
END_TEST

/* ---- diagnostics and outputs ------------------------------------------------------------ */

/* n samples and two modalities of 2 features each, named na and nb, with the values a and b
 * (n x 2 each; a NaN row is an absent modality). */
static gfuse_cohort *two_modalities(int64_t n, const char *const *ids, const char *na,
                                    const float *a, const char *nb, const float *b)
{
    gfuse_cohort *c = NULL;
    ck_assert_int_eq(gfuse_cohort_new(&c, n, ids), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_add_modality(c, na, 2, NULL, a), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_add_modality(c, nb, 2, NULL, b), GFUSE_OK);
    return c;
}

/* 4 samples, 2 modalities: A on samples 0 1 2, B on 0 1 3; k = 1. */
static gfuse_cohort *tiny_cohort(const char *const *ids)
{
    const float a[] = {1, 0, 0.9f, 0.2f, 0, 1, NAN, NAN};
    const float b[] = {1, 1, 1, 0.5f, NAN, NAN, -1, 1};
    return two_modalities(4, ids, "A", a, "B", b);
}

/* The graph of a tiny_cohort with k = 1. */
static gfuse_graph *tiny_graph(const gfuse_cohort *c)
{
    gfuse_graph_options o = options_k(1);
    gfuse_graph *g = NULL;
    ck_assert_int_eq(gfuse_graph_build(&g, c, &o), GFUSE_OK);
    return g;
}

/* Reachability in s (computed with hops): `reached` missing nodes within every hop count,
 * `unreachable` never reached, `components` connected components. */
static void expect_reach(const gfuse_graph_stats *s, int hops, int64_t reached,
                         int64_t unreachable, int64_t components)
{
    for (int h = 0; h < hops; h++)
        ck_assert_msg(s->reachable_within[h] == reached, "within %d hops: %lld missing nodes",
                      h + 1, (long long)s->reachable_within[h]);
    ck_assert_int_eq(s->missing_unreachable, unreachable);
    ck_assert_int_eq(s->n_components, components);
}

START_TEST(test_stats_tiny)
{
    const char *ids[] = {"s0", "s1", "s2", "s3"};
    gfuse_cohort *c = tiny_cohort(ids);
    gfuse_graph *g = tiny_graph(c);
    gfuse_graph_stats s;
    ck_assert_int_eq(gfuse_graph_stats_compute(g, 3, &s), GFUSE_OK);
    ck_assert_int_eq(s.n_nodes, 12);
    /* knn: one per modality node (8); self: 12; member: 6 observed -> hub, 8 hub -> node */
    ck_assert_int_eq(s.edges_by_relation[GFUSE_REL_KNN], 8);
    ck_assert_int_eq(s.edges_by_relation[GFUSE_REL_SELF], 12);
    ck_assert_int_eq(s.edges_by_relation[GFUSE_REL_MEMBER], 14);
    ck_assert_int_eq(s.n_edges, 34);
    ck_assert_int_eq(s.nodes_by_kind[0], 6);
    ck_assert_int_eq(s.nodes_by_kind[1], 2);
    ck_assert_int_eq(s.nodes_by_kind[2], 4);
    ck_assert_int_eq(s.in_degree_min[0], 3);
    ck_assert_int_eq(s.in_degree_max[1], 3);
    ck_assert_int_eq(s.in_degree_min[2], 2);
    ck_assert_int_eq(s.in_degree_max[2], 3);
    ck_assert_double_eq_tol(s.in_degree_mean[2], 2.5, 1e-12);
    ck_assert_int_eq(s.largest_component, 12);
    /* both missing nodes get a knn edge from an observed node: 1 hop */
    expect_reach(&s, 3, 2, 0, 1);
    gfuse_graph_stats_free(&s);
    ck_assert_ptr_null(s.reachable_within);
    ck_assert_int_eq(gfuse_graph_stats_compute(g, 0, &s), GFUSE_ERR_ARG);
    gfuse_graph_free(&g);
    gfuse_cohort_free(&c);
}
END_TEST

/* A sample with no modality at all: its missing nodes get no knn edge and nothing observed
 * reaches them; the other samples' missing nodes are 2 hops from their own hub's sources. */
START_TEST(test_stats_unreachable)
{
    const char *ids[] = {"a", "b", "c", "d", "none"};
    const float x[] = {1, 0, 0, 1, 1, 1, NAN, NAN, NAN, NAN};
    const float y[] = {NAN, NAN, 1, 2, 2, 1, 3, 3, NAN, NAN};
    gfuse_cohort *c = two_modalities(5, ids, "X", x, "Y", y);
    gfuse_graph *g = NULL;
    ck_assert_int_eq(gfuse_graph_build(&g, c, NULL), GFUSE_OK);
    gfuse_graph_stats s;
    ck_assert_int_eq(gfuse_graph_stats_compute(g, 2, &s), GFUSE_OK);
    /* missing: (a,Y) (d,X) (none,X) (none,Y) */
    ck_assert_int_eq(s.nodes_by_kind[1], 4);
    ck_assert_int_eq(s.n_isolated_missing, 2);
    /* (a,Y) and (d,X) share a modality with observed samples: 1 hop; the two of "none" are
     * unreachable, and "none" with its hub and two nodes is a component of its own */
    expect_reach(&s, 2, 2, 2, 2);
    gfuse_graph_stats_free(&s);
    gfuse_graph_free(&g);
    gfuse_cohort_free(&c);
}
END_TEST

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    ck_assert_int_eq((long)fread(s, 1, (size_t)n, f), n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static int64_t count_of(const char *s, const char *what)
{
    int64_t n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what)) n++;
    return n;
}

START_TEST(test_write_edges_and_graphml)
{
    const char *ids[] = {"s0", "a&b<c>", "s2", "s\"q"};
    gfuse_cohort *c = tiny_cohort(ids);
    gfuse_graph *g = tiny_graph(c);
    char dir[] = "/tmp/check_graph_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *tsv = gfuse_i_path_join(dir, "edges.tsv"), *xml = gfuse_i_path_join(dir, "g.graphml");

    ck_assert_int_eq(gfuse_graph_write_edges(g, c, tsv), GFUSE_OK);
    char *t = read_text(tsv);
    ck_assert_int_eq(strncmp(t, "src\tdst\trelation\tweight\n", 24), 0);
    ck_assert_int_eq(count_of(t, "\n"), gfuse_graph_n_edges(g) + 1);
    ck_assert_ptr_nonnull(strstr(t, "\ns0/A\ts0\tmember\t1\n"));
    ck_assert_ptr_nonnull(strstr(t, "\ns0\ts0/B\tmember\t1\n"));
    ck_assert_ptr_nonnull(strstr(t, "\ns2\ts2\tself\t1\n"));
    ck_assert_int_eq(count_of(t, "\tknn\t"), 8);
    free(t);

    ck_assert_int_eq(gfuse_graph_write_graphml(g, c, xml), GFUSE_OK);
    t = read_text(xml);
    ck_assert_int_eq(count_of(t, "<node "), 12);
    ck_assert_int_eq(count_of(t, "<edge "), 34);
    ck_assert_ptr_nonnull(strstr(t, "<data key=\"sample\">a&amp;b&lt;c&gt;</data>"));
    ck_assert_ptr_nonnull(strstr(t, "<data key=\"sample\">s&quot;q</data>"));
    ck_assert_ptr_null(strstr(t, "a&b"));
    ck_assert_ptr_nonnull(strstr(t, "<node id=\"n11\"><data key=\"sample\">s&quot;q</data><data "
                                    "key=\"modality\"></data><data key=\"kind\">hub</data>"));
    ck_assert_ptr_nonnull(strstr(t, "</graphml>\n"));
    free(t);

    /* a graph with another cohort's shape is refused, and nothing is written */
    const char *ids1[] = {"x"};
    const float one[] = {1};
    gfuse_cohort *other = NULL;
    ck_assert_int_eq(gfuse_cohort_new(&other, 1, ids1), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_add_modality(other, "A", 1, NULL, one), GFUSE_OK);
    char *bad = gfuse_i_path_join(dir, "bad.tsv");
    ck_assert_int_eq(gfuse_graph_write_edges(g, other, bad), GFUSE_ERR_ARG);
    ck_assert_ptr_null(fopen(bad, "r"));
    /* an unwritable path is an I/O error */
    char *nodir = gfuse_i_path_join(dir, "no/such/dir.tsv");
    ck_assert_int_eq(gfuse_graph_write_graphml(g, c, nodir), GFUSE_ERR_IO);

    remove(tsv);
    remove(xml);
    rmdir(dir);
    free(tsv);
    free(xml);
    free(bad);
    free(nodir);
    gfuse_cohort_free(&other);
    gfuse_graph_free(&g);
    gfuse_cohort_free(&c);
}
END_TEST

/* ---- the ROSMAP cohort (../shared, when present) ------------------------------------------ */

/* The path of ROSMAP's folder, or NULL (after saying so) when $GFUSE_SHARED does not hold it. */
static char *rosmap_dir(void)
{
    const char *shared = getenv("GFUSE_SHARED");
    char *dir = shared ? gfuse_i_path_join(shared, "data/rosmap") : NULL;
    char *probe = dir ? gfuse_i_path_join(dir, "mRNA.csv") : NULL;
    FILE *f = probe ? fopen(probe, "r") : NULL;
    free(probe);
    if (!f) {
        fprintf(stderr, "check_graph: skipping the ROSMAP checks: %s/data/rosmap is absent\n",
                shared ? shared : "$GFUSE_SHARED");
        free(dir);
        return NULL;
    }
    fclose(f);
    return dir;
}

START_TEST(test_rosmap)
{
    char *dir = rosmap_dir();
    if (!dir) return;
    char *mask = gfuse_i_path_join(dir, "mask_r50_s1.csv");
    for (int masked = 0; masked < 2; masked++) {
        gfuse_cohort_options co;
        gfuse_cohort_options_init(&co);
        co.dir = dir;
        co.mask_file = masked ? mask : NULL;
        gfuse_cohort *c = NULL;
        ck_assert_msg(gfuse_cohort_load(&c, &co) == GFUSE_OK, "%s", gfuse_last_error());
        gfuse_graph_options o = graph_defaults();
        gfuse_graph *g = NULL;
        ck_assert_int_eq(gfuse_graph_build(&g, c, &o), GFUSE_OK);
        ck_assert_int_eq(gfuse_graph_n_nodes(g), 1404);
        gfuse_graph_stats s;
        ck_assert_int_eq(gfuse_graph_stats_compute(g, 2, &s), GFUSE_OK);
        ck_assert_int_eq(s.n_nodes, 351 * 4);
        ck_assert_int_eq(s.edges_by_relation[GFUSE_REL_KNN], 351 * 3 * 10);
        if (masked) {
            ck_assert_int_gt(s.nodes_by_kind[1], 0);
            ck_assert_int_eq(s.reachable_within[1], s.nodes_by_kind[1]);
            ck_assert_int_eq(s.missing_unreachable, 0);
        } else {
            ck_assert_int_eq(s.nodes_by_kind[1], 0);
        }
        gfuse_graph_stats_free(&s);
        gfuse_graph_free(&g);
        gfuse_cohort_free(&c);
    }
    free(mask);
    free(dir);
}
END_TEST

/* ---- API ---------------------------------------------------------------------------------- */

START_TEST(test_layout_and_accessors)
{
    random_pair t = random_pair_new(3, 20, 3);
    gfuse_graph *g = NULL;
    ck_assert_int_eq(gfuse_graph_build(&g, t.c, NULL), GFUSE_OK);
    ck_assert_int_eq(gfuse_graph_n_nodes(g), 20 * 4);
    ck_assert_int_eq(gfuse_graph_n_samples(g), 20);
    ck_assert_int_eq(gfuse_graph_n_modalities(g), 3);
    ck_assert_int_eq(gfuse_graph_k(g), 10);
    ck_assert_int_eq(gfuse_graph_node(g, 4, 2), 2 * 20 + 4);
    ck_assert_int_eq(gfuse_graph_node(g, 4, -1), 3 * 20 + 4);
    ck_assert_int_eq(gfuse_graph_node(g, 20, 0), -1);
    ck_assert_int_eq(gfuse_graph_node(g, 0, 3), -1);
    int64_t sample;
    int mod;
    ck_assert_int_eq(gfuse_graph_node_info(g, 3 * 20 + 7, &sample, &mod), 1);
    ck_assert_int_eq(sample, 7);
    ck_assert_int_eq(mod, -1);
    ck_assert_int_eq(gfuse_graph_node_info(g, 20 + 5, &sample, &mod), row_present(&t.r, 1, 5));
    ck_assert_int_eq(sample, 5);
    ck_assert_int_eq(mod, 1);
    ck_assert_int_eq(gfuse_graph_node_info(g, 80, NULL, NULL), -1);
    const int64_t *ptr, *src;
    const uint8_t *rel;
    const float *w;
    gfuse_graph_csr(g, &ptr, &src, &rel, &w);
    ck_assert_int_eq(ptr[80], gfuse_graph_n_edges(g));
    /* hub i: member edges from its observed modality nodes, then itself */
    for (int64_t i = 0; i < 20; i++) {
        int64_t h = 60 + i, e = ptr[h];
        for (int m = 0; m < 3; m++)
            if (row_present(&t.r, m, i)) {
                ck_assert_int_eq(src[e], m * 20 + i);
                ck_assert_int_eq(rel[e], GFUSE_REL_MEMBER);
                e++;
            }
        ck_assert_int_eq(src[e], h);
        ck_assert_int_eq(rel[e], GFUSE_REL_SELF);
        ck_assert_int_eq(e + 1, ptr[h + 1]);
    }
    gfuse_graph_free(&g);
    ck_assert_ptr_null(g);
    gfuse_graph_free(&g);
    gfuse_graph_free(NULL);
    random_release(&t);
}
END_TEST

START_TEST(test_bad_options)
{
    random_pair t = random_pair_new(3, 10, 2);
    gfuse_graph_options o = graph_defaults();
    gfuse_graph *g = (gfuse_graph *)&o;
    o.k = 0;
    ck_assert_int_eq(gfuse_graph_build(&g, t.c, &o), GFUSE_ERR_ARG);
    ck_assert_ptr_null(g);
    ck_assert_str_eq(gfuse_last_error(), "k must be between 1 and 100000, got 0");
    gfuse_graph_options_init(&o);
    o.metric = (gfuse_metric)7;
    ck_assert_int_eq(gfuse_graph_build(&g, t.c, &o), GFUSE_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(gfuse_last_error(), "metric"));
    ck_assert_int_eq(gfuse_graph_build(&g, NULL, NULL), GFUSE_ERR_ARG);
    ck_assert_int_eq(gfuse_graph_build(NULL, t.c, NULL), GFUSE_ERR_ARG);
    random_release(&t);
}
END_TEST

/* ---- modality-dropout variants ------------------------------------------------------------ */

/* A dropout mask as training draws it: each observed node of full hidden with probability p,
 * at least one observed modality kept per sample; plus a few missing nodes marked too, which a
 * variant must ignore (nothing to hide there). */
static uint8_t *draw_hidden(const struct gfuse_graph *full, double p, uint64_t seed)
{
    int64_t n = full->n_samples;
    int nm = full->n_mod;
    uint8_t *hidden = calloc((size_t)(n * nm), 1);
    ck_assert_ptr_nonnull(hidden);
    gfuse_i_rng g;
    gfuse_i_rng_seed(&g, seed);
    for (int64_t i = 0; i < n; i++) {
        int kept = 0, last = -1;
        for (int m = 0; m < nm; m++) {
            int64_t v = (int64_t)m * n + i;
            if (!full->observed[v]) {
                hidden[v] = gfuse_i_rng_uniform(&g) < 0.2;
                continue;
            }
            last = m;
            if (gfuse_i_rng_uniform(&g) < p) hidden[v] = 1;
            else kept++;
        }
        if (kept == 0 && last >= 0) hidden[(int64_t)last * n + i] = 0;
    }
    return hidden;
}

/* The rebuild with the same mask: the cohort with the hidden rows removed. */
static struct gfuse_graph *rebuild_hidden(const raw_cohort *r, const uint8_t *hidden,
                                          const gfuse_graph_options *o)
{
    raw_cohort h = *r;
    for (int s = 0; s < r->m; s++) {
        h.x[s] = malloc((size_t)(r->n * r->d[s]) * sizeof(float));
        ck_assert_ptr_nonnull(h.x[s]);
        memcpy(h.x[s], r->x[s], (size_t)(r->n * r->d[s]) * sizeof(float));
        for (int64_t i = 0; i < r->n; i++)
            if (hidden[(int64_t)s * r->n + i])
                for (int64_t f = 0; f < r->d[s]; f++) h.x[s][i * r->d[s] + f] = NAN;
    }
    gfuse_cohort *c = raw_to_cohort(&h);
    struct gfuse_graph *g = NULL;
    ck_assert_int_eq(gfuse_graph_build(&g, c, o), GFUSE_OK);
    gfuse_cohort_free(&c);
    raw_free(&h);
    return g;
}

/* The links of two passes are the same, bit for bit. */
/* The variant base of full built from r's features with o (asserted to succeed). */
static gfuse_i_variant_base *variant_base_of(const raw_cohort *r, const struct gfuse_graph *full,
                                             const gfuse_graph_options *o)
{
    gfuse_i_variant_base *b = NULL;
    ck_assert_int_eq(gfuse_i_variant_base_new(&b, full, r->d, (const float *const *)r->x, o),
                     GFUSE_OK);
    return b;
}

static void links_equal(const gfuse_i_variant_links *a, const gfuse_i_variant_links *b)
{
    ck_assert_int_eq(a->n_hidden, b->n_hidden);
    ck_assert_int_eq(a->k, b->k);
    for (int64_t t = 0; t < a->n_hidden; t++) {
        ck_assert_int_eq(a->node[t], b->node[t]);
        ck_assert_int_eq(a->count[t], b->count[t]);
        for (int r = 0; r < a->count[t]; r++) {
            ck_assert_int_eq(a->nbr[t * a->k + r], b->nbr[t * b->k + r]);
            ck_assert(memcmp(&a->sim[t * a->k + r], &b->sim[t * b->k + r], sizeof(float)) == 0);
        }
    }
}

/* Checks variant g of full under hidden against the serial twin's links:
 *   - it is a valid graph with full's nodes; hidden (observed and marked) nodes are missing;
 *   - a hidden node sends nothing but its self loop, and its row is the twin's knn list
 *     (sources, and weights when weighted, sorted by source), its self loop, then its hub;
 *   - every other row is full's row without the edges from hidden nodes, in order;
 *   - n_isolated_missing counts the missing nodes without a knn in-edge.
 * Returns the number of hidden nodes. */
static int64_t check_variant(const struct gfuse_graph *full, const struct gfuse_graph *g,
                             const gfuse_i_variant_base *b, const uint8_t *hidden, int weighted)
{
    ck_assert_int_eq(tu_graph_validate(g), GFUSE_OK);
    int64_t n = full->n_samples, nmn = n * full->n_mod, n_hid = 0;
    ck_assert_int_eq(g->n_nodes, full->n_nodes);
    ck_assert_int_eq(g->k, full->k);
    gfuse_i_variant_links twin;
    ck_assert_int_eq(gfuse_i_variant_link_ref(&twin, b, hidden), GFUSE_OK);
    uint8_t *hid = malloc((size_t)nmn);
    ck_assert_ptr_nonnull(hid);
    for (int64_t v = 0; v < nmn; v++) {
        hid[v] = hidden[v] && full->observed[v];
        ck_assert_int_eq(g->observed[v], full->observed[v] && !hid[v]);
        ck_assert_int_eq(twin.slot[v] >= 0, hid[v]);
        n_hid += hid[v];
    }
    ck_assert(memcmp(g->observed + nmn, full->observed + nmn, (size_t)(g->n_nodes - nmn)) == 0);
    int64_t isolated = 0;
    for (int64_t v = 0; v < g->n_nodes; v++) {
        int64_t n_knn = 0;
        for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++)
            n_knn += g->in_rel[e] == GFUSE_I_REL_KNN;
        if (v < nmn && !g->observed[v] && n_knn == 0) isolated++;
        if (v < nmn && hid[v]) {
            /* out-edges: the self loop and nothing else */
            ck_assert_int_eq(g->out_ptr[v + 1] - g->out_ptr[v], 1);
            ck_assert_int_eq(g->out_dst[g->out_ptr[v]], v);
            /* in-edges: the twin's list by source, the self loop among them, the hub last */
            int64_t t = twin.slot[v], i = v % n, base = v - i;
            ck_assert_int_eq(g->in_ptr[v + 1] - g->in_ptr[v], twin.count[t] + 2);
            int64_t prev = -1, seen = 0;
            for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1] - 1; e++) {
                ck_assert_int_gt(g->in_src[e], prev);
                prev = g->in_src[e];
                if (g->in_rel[e] == GFUSE_I_REL_SELF) {
                    ck_assert_int_eq(g->in_src[e], v);
                    continue;
                }
                ck_assert_int_eq(g->in_rel[e], GFUSE_I_REL_KNN);
                int r = 0;
                while (r < twin.count[t] && base + twin.nbr[t * twin.k + r] != g->in_src[e]) r++;
                ck_assert_int_lt(r, twin.count[t]);
                ck_assert_float_eq(g->in_w[e], weighted ? twin.sim[t * twin.k + r] : 1.0f);
                seen++;
            }
            ck_assert_int_eq(seen, twin.count[t]);
            int64_t last = g->in_ptr[v + 1] - 1;
            ck_assert_int_eq(g->in_src[last], nmn + i);
            ck_assert_int_eq(g->in_rel[last], GFUSE_I_REL_MEMBER);
            continue;
        }
        /* full's row minus the edges from hidden nodes, in order */
        int64_t e = g->in_ptr[v];
        for (int64_t f = full->in_ptr[v]; f < full->in_ptr[v + 1]; f++) {
            int64_t u = full->in_src[f];
            if (u < nmn && hid[u]) continue;
            ck_assert_int_lt(e, g->in_ptr[v + 1]);
            ck_assert_int_eq(g->in_src[e], u);
            ck_assert_int_eq(g->in_rel[e], full->in_rel[f]);
            ck_assert_float_eq(g->in_w[e], full->in_w[f]);
            e++;
        }
        ck_assert_int_eq(e, g->in_ptr[v + 1]);
    }
    ck_assert_int_eq(g->n_isolated_missing, isolated);
    gfuse_i_variant_links_free(&twin);
    free(hid);
    return n_hid;
}

/* The parallel links of hidden against their serial twin. */
static void check_links(const gfuse_i_variant_base *b, const uint8_t *hidden)
{
    gfuse_i_variant_links fast, twin;
    ck_assert_int_eq(gfuse_i_variant_link(&fast, b, hidden), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_variant_link_ref(&twin, b, hidden), GFUSE_OK);
    links_equal(&fast, &twin);
    gfuse_i_variant_links_free(&fast);
    gfuse_i_variant_links_free(&twin);
}

START_TEST(test_variant_matches_twin)
{
    static const int64_t sizes[] = {2, 9, 60, 250};
    for (int rep = 0; rep < 4; rep++) {
        for (int variant = 0; variant < 4; variant++) {
            raw_cohort r;
            gfuse_cohort *c = random_cohort(&r, 400 + (uint64_t)rep * 7 + (uint64_t)variant,
                                            sizes[rep], 1 + (rep + variant) % 4);
            gfuse_graph_options o = graph_defaults();
            o.metric = variant & 1 ? GFUSE_METRIC_EUCLIDEAN : GFUSE_METRIC_COSINE;
            o.standardize = variant & 2 ? 0 : 1;
            o.weighted = rep != 2;
            o.k = 1 + (rep * 3 + variant) % 6;
            struct gfuse_graph *full = NULL, *g = NULL;
            ck_assert_int_eq(gfuse_graph_build(&full, c, &o), GFUSE_OK);
            gfuse_i_variant_base *b = variant_base_of(&r, full, &o);
            for (int draw = 0; draw < 2; draw++) {
                uint8_t *hidden = draw_hidden(full, 0.3 + 0.1 * variant, 7 + (uint64_t)rep * 3 +
                                                                            (uint64_t)draw);
                ck_assert_int_eq(gfuse_i_graph_variant(&g, b, hidden), GFUSE_OK);
                int64_t n_hid = check_variant(full, g, b, hidden, o.weighted);
                if (sizes[rep] >= 60 && r.m > 1) ck_assert_int_gt(n_hid, 0);
                check_links(b, hidden);
                gfuse_graph_free(&g);
                free(hidden);
            }
            gfuse_i_variant_base_free(&b);
            ck_assert_ptr_null(b);
            gfuse_graph_free(&full);
            cohort_release_all(&c, &r);
        }
    }
}
END_TEST

START_TEST(test_variant_any_threads)
{
    random_pair t = random_pair_new(33, 2000, 3);
    gfuse_graph_options o = graph_defaults();
    struct gfuse_graph *full = NULL;
    ck_assert_int_eq(gfuse_graph_build(&full, t.c, &o), GFUSE_OK);
    ck_assert_int_gt(full->n_edges, 65536); /* large enough for the parallel paths */
    gfuse_i_variant_base *b = variant_base_of(&t.r, full, &o);
    uint8_t *hidden = draw_hidden(full, 0.3, 11);
    int saved = omp_get_max_threads();
    struct gfuse_graph *g1 = NULL, *g2 = NULL;
    omp_set_num_threads(1);
    ck_assert_int_eq(gfuse_i_graph_variant(&g1, b, hidden), GFUSE_OK);
    omp_set_num_threads(2);
    ck_assert_int_eq(gfuse_i_graph_variant(&g2, b, hidden), GFUSE_OK);
    check_links(b, hidden);
    omp_set_num_threads(saved);
    graphs_identical(g1, g2);
    ck_assert_int_gt(check_variant(full, g2, b, hidden, o.weighted), 1000);
    gfuse_graph_free(&g1);
    gfuse_graph_free(&g2);
    gfuse_i_variant_base_free(&b);
    gfuse_graph_free(&full);
    free(hidden);
    random_release(&t);
}
END_TEST

/* Nothing hidden gives the full graph back; a sample whose every observed modality is hidden
 * gets no knn in-edge (isolated); a k other than the full graph's is refused. */
START_TEST(test_variant_edge_cases)
{
    random_pair t = random_pair_new(35, 80, 2);
    gfuse_graph_options o = options_k(4);
    struct gfuse_graph *full = NULL, *g = NULL;
    ck_assert_int_eq(gfuse_graph_build(&full, t.c, &o), GFUSE_OK);
    gfuse_i_variant_base *b = variant_base_of(&t.r, full, &o);
    uint8_t *hidden = calloc((size_t)(t.r.n * t.r.m), 1);
    ck_assert_int_eq(gfuse_i_graph_variant(&g, b, hidden), GFUSE_OK);
    graphs_identical(g, full);
    gfuse_graph_free(&g);
    for (int m = 0; m < t.r.m; m++) hidden[(int64_t)m * t.r.n] = 1; /* all of sample 0 */
    hidden[1] = 1;                                               /* (1, 0) */
    ck_assert_int_eq(gfuse_i_graph_variant(&g, b, hidden), GFUSE_OK);
    check_variant(full, g, b, hidden, o.weighted);
    for (int m = 0; m < t.r.m; m++) {
        int64_t v = (int64_t)m * t.r.n;
        if (!full->observed[v]) continue;
        ck_assert_int_eq(g->in_ptr[v + 1] - g->in_ptr[v], 2); /* self and hub */
    }
    ck_assert_int_ge(g->n_isolated_missing, 1);
    gfuse_graph_free(&g);
    ck_assert_int_eq(gfuse_i_graph_variant(&g, NULL, hidden), GFUSE_ERR_ARG);
    ck_assert_int_eq(gfuse_i_graph_variant(&g, b, NULL), GFUSE_ERR_ARG);
    ck_assert_ptr_null(g);
    gfuse_i_variant_base_free(&b);
    o.k = 5;
    ck_assert_int_eq(gfuse_i_variant_base_new(&b, full, t.r.d, (const float *const *)t.r.x, &o),
                     GFUSE_ERR_ARG);
    ck_assert_ptr_null(b);
    free(hidden);
    gfuse_graph_free(&full);
    random_release(&t);
}
END_TEST

/* The trainer's path: a sample set's full graph, its base through the sample set wrapper, then
 * its dropout variants. */
START_TEST(test_samples_variant_base)
{
    raw_cohort r;
    raw_random(&r, 37, 300, 3);
    gfuse_i_samples s;
    ck_assert_int_eq(gfuse_i_samples_alloc(&s, r.n, r.m, r.d), GFUSE_OK);
    for (int64_t i = 0; i < r.n; i++) s.id[i] = gfuse_i_asprintf("s%lld", (long long)i);
    for (int m = 0; m < r.m; m++) {
        memcpy(s.x[m], r.x[m], (size_t)(r.n * r.d[m]) * sizeof(float));
        for (int64_t i = 0; i < r.n; i++)
            s.has[(int64_t)m * r.n + i] = (uint8_t)row_present(&r, m, i);
    }
    struct gfuse_graph *full = NULL, *g = NULL;
    ck_assert_int_eq(gfuse_i_samples_graph(&full, &s, NULL, NULL, 6), GFUSE_OK);
    gfuse_i_variant_base *b = NULL;
    ck_assert_int_eq(gfuse_i_samples_variant_base(&b, full, &s, 6), GFUSE_OK);
    for (int draw = 0; draw < 3; draw++) {
        uint8_t *hidden = draw_hidden(full, 0.4, 5 + (uint64_t)draw);
        ck_assert_int_eq(gfuse_i_graph_variant(&g, b, hidden), GFUSE_OK);
        ck_assert_int_gt(check_variant(full, g, b, hidden, 1), 100);
        gfuse_graph_free(&g);
        free(hidden);
    }
    gfuse_i_variant_base_free(&b);
    ck_assert_int_eq(gfuse_i_samples_variant_base(&b, full, &s, 7), GFUSE_ERR_ARG);
    ck_assert_ptr_null(b);
    gfuse_graph_free(&full);
    gfuse_i_samples_free(&s);
    raw_free(&r);
}
END_TEST

/* A cohort with cluster structure: CLUSTERS centres; each sample lies near its cluster's centre
 * along a few shared latent directions (so that neighbours agree across modalities), each
 * modality a noisy view; about 15% of (sample, modality) pairs absent, one kept per sample. */
#define CLUSTERS 12
static void raw_clustered(raw_cohort *r, uint64_t seed, int64_t n)
{
    enum { LAT = 4 };
    gfuse_i_rng g;
    gfuse_i_rng_seed(&g, seed);
    r->n = n;
    r->m = 3;
    static const int64_t dims[3] = {24, 40, 16};
    double *centre[3], *load[3];
    double *u = malloc((size_t)n * LAT * sizeof *u);
    int *cl = malloc((size_t)n * sizeof *cl);
    ck_assert_ptr_nonnull(u);
    ck_assert_ptr_nonnull(cl);
    for (int64_t i = 0; i < n; i++) {
        cl[i] = (int)gfuse_i_rng_below(&g, CLUSTERS);
        for (int l = 0; l < LAT; l++) u[i * LAT + l] = gfuse_i_rng_normal(&g);
    }
    for (int s = 0; s < 3; s++) {
        int64_t d = r->d[s] = dims[s];
        centre[s] = malloc((size_t)(CLUSTERS * d) * sizeof(double));
        load[s] = malloc((size_t)(LAT * d) * sizeof(double));
        r->x[s] = malloc((size_t)(n * d) * sizeof(float));
        ck_assert_ptr_nonnull(centre[s]);
        ck_assert_ptr_nonnull(load[s]);
        ck_assert_ptr_nonnull(r->x[s]);
        for (int64_t t = 0; t < CLUSTERS * d; t++) centre[s][t] = 3.0 * gfuse_i_rng_normal(&g);
        for (int64_t t = 0; t < LAT * d; t++) load[s][t] = gfuse_i_rng_normal(&g);
        for (int64_t i = 0; i < n; i++)
            for (int64_t f = 0; f < d; f++) {
                double v = centre[s][cl[i] * d + f] + 0.5 * gfuse_i_rng_normal(&g);
                for (int l = 0; l < LAT; l++) v += load[s][l * d + f] * u[i * LAT + l];
                r->x[s][i * d + f] = (float)v;
            }
    }
    for (int64_t i = 0; i < n; i++) {
        int keep = (int)gfuse_i_rng_below(&g, 3);
        for (int s = 0; s < 3; s++)
            if (s != keep && gfuse_i_rng_uniform(&g) < 0.15)
                for (int64_t f = 0; f < r->d[s]; f++) r->x[s][i * r->d[s] + f] = NAN;
    }
    for (int s = 0; s < 3; s++) {
        free(centre[s]);
        free(load[s]);
    }
    free(u);
    free(cl);
}

/* Recall of the derived hidden rows: on a clustered cohort, the share of the knn sources a
 * rebuild with the same mask gives the hidden nodes that the variant gives them too. */
#define RECALL_MIN 0.65
START_TEST(test_variant_recall)
{
    raw_cohort r;
    raw_clustered(&r, 91, 3000);
    gfuse_cohort *c = raw_to_cohort(&r);
    gfuse_graph_options o = graph_defaults();
    struct gfuse_graph *full = NULL, *g = NULL;
    ck_assert_int_eq(gfuse_graph_build(&full, c, &o), GFUSE_OK);
    gfuse_i_variant_base *b = variant_base_of(&r, full, &o);
    int64_t common = 0, exact = 0, nmn = r.n * r.m;
    for (int draw = 0; draw < 2; draw++) {
        uint8_t *hidden = draw_hidden(full, 0.3, 21 + (uint64_t)draw);
        ck_assert_int_eq(gfuse_i_graph_variant(&g, b, hidden), GFUSE_OK);
        struct gfuse_graph *re = rebuild_hidden(&r, hidden, &o);
        for (int64_t v = 0; v < nmn; v++) {
            if (!hidden[v] || !full->observed[v]) continue;
            for (int64_t e = re->in_ptr[v]; e < re->in_ptr[v + 1]; e++) {
                if (re->in_rel[e] != GFUSE_I_REL_KNN) continue;
                exact++;
                for (int64_t f = g->in_ptr[v]; f < g->in_ptr[v + 1]; f++)
                    common += g->in_rel[f] == GFUSE_I_REL_KNN && g->in_src[f] == re->in_src[e];
            }
        }
        gfuse_graph_free(&re);
        gfuse_graph_free(&g);
        free(hidden);
    }
    double recall = (double)common / (double)exact;
    printf("variant recall against the rebuild: %.3f (%lld of %lld knn sources)\n", recall,
           (long long)common, (long long)exact);
    ck_assert_int_gt(exact, 10000);
    ck_assert(recall >= RECALL_MIN);
    gfuse_i_variant_base_free(&b);
    gfuse_graph_free(&full);
    cohort_release_all(&c, &r);
}
END_TEST

static Suite *graph_suite(void)
{
    Suite *s = suite_create("graph");
    TCase *core = tcase_create("knn");
    tcase_set_timeout(core, 120);
    tcase_add_test(core, test_knn_matches_reference);
    tcase_add_test(core, test_knn_across_tiles);
    tcase_add_test(core, test_knn_continuous);
    tcase_add_test(core, test_knn_senders);
    tcase_add_test(core, test_same_graph_any_threads);
    tcase_add_test(core, test_zero_vector_cosine);
    tcase_add_test(core, test_isolated_missing);
    suite_add_tcase(s, core);
    TCase *variants = tcase_create("variants");
    tcase_set_timeout(variants, 120);
    tcase_add_test(variants, test_variant_matches_twin);
    tcase_add_test(variants, test_variant_any_threads);
    tcase_add_test(variants, test_variant_edge_cases);
    tcase_add_test(variants, test_samples_variant_base);
    tcase_add_test(variants, test_variant_recall);
    suite_add_tcase(s, variants);
    TCase *storage = tcase_create("storage");
    tcase_set_timeout(storage, 60);
    tcase_add_test(storage, test_prefix_sum);
    tcase_add_test(storage, test_transpose_round_trip);
#if HAVE_GRAPHBLAS
    tcase_add_test(storage, test_graphblas_pack_round_trip);
#else
    printf("GraphBLAS absent: the GraphBLAS hand-over and GrB_mxm comparisons are skipped\n");
#endif
    tcase_add_test(storage, test_spmm_graphblas_and_kernel);
    suite_add_tcase(s, storage);
    TCase *diag = tcase_create("diagnostics");
    tcase_add_test(diag, test_stats_tiny);
    tcase_add_test(diag, test_stats_unreachable);
    tcase_add_test(diag, test_write_edges_and_graphml);
    suite_add_tcase(s, diag);
    TCase *rosmap = tcase_create("rosmap");
    tcase_set_timeout(rosmap, 60);
    tcase_add_test(rosmap, test_rosmap);
    suite_add_tcase(s, rosmap);
    TCase *api = tcase_create("api");
    tcase_add_test(api, test_layout_and_accessors);
    tcase_add_test(api, test_bad_options);
    suite_add_tcase(s, api);
    return s;
}

int main(void)
{
    if (gfuse_init() != GFUSE_OK) return EXIT_FAILURE;
    SRunner *sr = srunner_create(graph_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    gfuse_finalize();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
