/*
 * variant.c: modality-dropout graphs derived from the one full kNN build (README.md, "Graph").
 *
 * Training hides random observed modality nodes and trains on the graph as it would look had
 * those modalities been missing. A variant of hidden is derived from the full graph:
 *   - a hidden node (i, m) is marked missing and stops sending: its knn out-edges and its member
 *     edge (i, m) -> hub i are dropped; its self loop and hub i -> (i, m) stay;
 *   - it is linked as a missing node from a candidate pool found through the full graph
 *     (second-order similarity): for every modality s != m that i keeps (observed, not hidden),
 *     the sources j of the knn in-edges of (i, s), i.e. i's k nearest on s, and the sources of
 *     the knn in-edges of the EXPAND best of those (j', s) (largest weight, ties by smaller
 *     source; in an unweighted graph simply the smallest sources), i.e. their k nearest on s;
 *     of these, the samples j != i with (j, m) observed and not hidden. Each candidate is
 *     scored by the builder's missing-node rule, the mean of the pair similarities (double
 *     precision, as gfuse_i_knn_pair_sim gives them, eight candidates at a time, their eight
 *     lanes each in vector registers) over the modalities i and j both have
 *     observed and not hidden; the best k are kept (ties by smaller j) with the similarity as
 *     weight when the graph is weighted. A sample with no other observed modality gets no knn
 *     in-edge (counted in n_isolated_missing);
 *   - every other row is the full graph's minus its edges from hidden nodes.
 * A pool holds at most c = (M - 1) * k * (1 + EXPAND) samples, so a variant costs
 * O(#hidden * M * c * d) for the scoring plus O(edges) for the CSR edits and the transpose;
 * what all variants share (the full build's standardised rows, about the size of the input) is
 * made once, in gfuse_i_variant_base_new.
 *
 * How a variant differs from a rebuild with the same hidden mask:
 *   - a hidden node ranks only its pool, not every observed (j, m): a sample outside it that
 *     would rank in the top k by the mean similarity is missed (on a clustered test cohort the
 *     variant finds about 70% of a rebuild's knn sources of the hidden nodes);
 *   - similarities keep the full build's standardisation (mean and sd over every observed row),
 *     where a rebuild re-standardises over the rows that stay observed;
 *   - a node that is not hidden keeps its full-graph knn list minus the hidden sources, with no
 *     replacement, so it may have fewer than k knn in-edges, and a missing node of the full
 *     graph keeps its ranking over the modalities of the full graph.
 *
 * Hidden nodes are linked in parallel, each one on its own; rows are counted and filled in
 * parallel, each thread writing only its own rows: the variant does not depend on the thread
 * count.
 */
#include "graph/knn_prep.h"
#include "core/fastmath.h"
#include "core/util.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Edges of the full graph below which rows are counted and filled serially. */
#define PARALLEL_EDGES 65536
/* Hidden nodes below which they are linked serially. */
#define PARALLEL_HIDDEN 256
/* Second hop: the knn in-neighbours of this many best knn in-neighbours of (i, s) join the
 * pool of a hidden node (i, m) too. */
#define EXPAND 2

struct gfuse_i_variant_base {
    const struct gfuse_graph *full; /* borrowed */
    gfuse_i_knn_prep p;             /* the full build's statistics and z rows */
    int weighted;
    gfuse_row_order reorder;
};

gfuse_status gfuse_i_variant_base_new(gfuse_i_variant_base **out, const struct gfuse_graph *full,
                                      const int64_t *d, const float *const *x,
                                      const gfuse_graph_options *opts)
{
    GFUSE_CHECK_ARG(out != NULL, "out must not be NULL");
    *out = NULL;
    GFUSE_CHECK_ARG(full != NULL, "the full graph must not be NULL");
    GFUSE_CHECK_ARG(d != NULL && x != NULL, "the feature rows must not be NULL");
    gfuse_graph_options defaults;
    gfuse_graph_options_init(&defaults);
    const gfuse_graph_options *o = opts ? opts : &defaults;
    gfuse_status st = gfuse_i_graph_check_options(o);
    if (st != GFUSE_OK) return st;
    GFUSE_CHECK_ARG(o->k == full->k, "k (%d) must be the full graph's (%d)", o->k, full->k);
    gfuse_i_variant_base *b = gfuse_i_zalloc(1, sizeof *b);
    if (!b) return gfuse_i_nomem("the modality-dropout base");
    b->full = full;
    b->weighted = o->weighted;
    b->reorder = o->reorder;
    /* The rows as a view whose presence is full's observed flags (the same layout). */
    gfuse_i_view v = {.n = full->n_samples, .M = full->n_mod, .d = d, .x = x,
                      .has = full->observed};
    st = gfuse_i_knn_prep_init(&b->p, &v, o, NULL);
    if (st != GFUSE_OK) {
        free(b);
        return st;
    }
    *out = b;
    return GFUSE_OK;
}

void gfuse_i_variant_base_free(gfuse_i_variant_base **b)
{
    if (!b || !*b) return;
    gfuse_i_knn_prep_free(&(*b)->p);
    free(*b);
    *b = NULL;
}

void gfuse_i_variant_links_free(gfuse_i_variant_links *l)
{
    if (!l) return;
    free(l->node);
    free(l->slot);
    free(l->count);
    free(l->nbr);
    free(l->sim);
    memset(l, 0, sizeof *l);
}

/* The hidden nodes of hidden (observed in full and marked) and room for their lists. */
static gfuse_status links_alloc(gfuse_i_variant_links *l, const gfuse_i_variant_base *b,
                                const uint8_t *hidden)
{
    memset(l, 0, sizeof *l);
    gfuse_status st = GFUSE_OK;
    const struct gfuse_graph *full = b->full;
    int64_t nmn = full->n_samples * full->n_mod, nh = 0;
    l->full = full;
    l->k = full->k;
    l->weighted = b->weighted;
    l->reorder = b->reorder;
    l->slot = gfuse_i_alloc(nmn, sizeof *l->slot);
    GFUSE_TRY_MEM(l->slot, "the modality-dropout links");
    for (int64_t v = 0; v < nmn; v++) {
        l->slot[v] = full->observed[v] && hidden[v] ? nh : -1;
        nh += l->slot[v] >= 0;
    }
    l->n_hidden = nh;
    l->node = gfuse_i_alloc(nh, sizeof *l->node);
    l->count = gfuse_i_zalloc(nh, sizeof *l->count);
    l->nbr = gfuse_i_alloc((size_t)nh * (size_t)l->k, sizeof *l->nbr);
    l->sim = gfuse_i_alloc((size_t)nh * (size_t)l->k, sizeof *l->sim);
    GFUSE_TRY_MEM(l->node && l->count && l->nbr && l->sim, "the modality-dropout links");
    for (int64_t v = 0; v < nmn; v++)
        if (l->slot[v] >= 0) l->node[l->slot[v]] = v;
done:
    if (st != GFUSE_OK) gfuse_i_variant_links_free(l);
    return st;
}

/* Whether modality node v is observed in the variant: observed in full and not hidden. */
static inline int kept_node(const struct gfuse_graph *full, const int64_t *slot, int64_t v)
{
    return full->observed[v] && slot[v] < 0;
}

/* The similarity that ranks candidate j for hidden node (i, m): the mean of the pair
 * similarities over the modalities i and j both keep in the variant (ascending modality, as the
 * builder sums them); *shared receives their number. */
static double shared_sim(const gfuse_i_variant_base *b, const int64_t *slot, int64_t i,
                         int64_t j, int *shared)
{
    const struct gfuse_graph *full = b->full;
    int64_t n = full->n_samples;
    double sum = 0.0;
    int cnt = 0;
    for (int s = 0; s < full->n_mod; s++) {
        int64_t base = (int64_t)s * n;
        if (!kept_node(full, slot, base + i) || !kept_node(full, slot, base + j)) continue;
        sum += gfuse_i_knn_pair_sim(&b->p, s, i, j);
        cnt++;
    }
    *shared = cnt;
    return cnt > 0 ? sum / cnt : 0.0;
}

/* Stores the top list of hidden node t. */
static void store_top(gfuse_i_variant_links *l, int64_t t, const double *top_sim,
                      const int64_t *top_idx, int len)
{
    int k = l->k;
    l->count[t] = len;
    for (int r = 0; r < len; r++) {
        l->nbr[t * k + r] = top_idx[r];
        l->sim[t * k + r] = (float)top_sim[r];
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Eight doubles and eight floats as GCC/Clang vectors (one AVX-512 register, or two AVX2 or
 * four SSE2 ones): a vector holds the GFUSE_I_SIM_LANES lanes of one pair's sum. */
typedef double lanes_d __attribute__((vector_size(8 * sizeof(double))));
typedef float lanes_f __attribute__((vector_size(8 * sizeof(float))));

/* (vectors pass through pointers: their by-value ABI differs between the clones) */
__attribute__((always_inline)) static inline void load_lanes(lanes_d *out, const float *z)
{
    lanes_f v;
    memcpy(&v, z, sizeof v);
    *out = __builtin_convertvector(v, lanes_d);
}

/* The lanes' sum in the order gfuse_i_knn_pair_sim adds them. */
__attribute__((always_inline)) static inline double lanes_total(const lanes_d *v)
{
    const lanes_d a = *v;
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

/* Candidates scored side by side: their lane sums stay in registers. */
#define GROUP 8

/* The lane sums of zi against GROUP rows z[] over d features: lane l of acc[q] receives the
 * terms of features l, l + 8, ... in order, as in gfuse_i_knn_pair_sim. */
__attribute__((always_inline)) static inline void lanes_group(const float *zi,
                                                              const float *const *z, int64_t d,
                                                              int cosine, lanes_d *acc)
{
    lanes_d a[GROUP];
    for (int q = 0; q < GROUP; q++) a[q] = (lanes_d){0.0};
    int64_t f = 0;
    for (; f + GFUSE_I_SIM_LANES <= d; f += GFUSE_I_SIM_LANES) {
        lanes_d x;
        load_lanes(&x, zi + f);
#pragma GCC unroll 8
        for (int q = 0; q < GROUP; q++) {
            lanes_d y, term;
            load_lanes(&y, z[q] + f);
            if (cosine) {
                term = x * y;
            } else {
                lanes_d e = x - y;
                term = e * e; /* the square and the sum apart, as the plain loop rounds them */
            }
            a[q] += term;
        }
    }
    for (int q = 0; q < GROUP; q++) acc[q] = a[q];
    /* the last d % 8 features, each into its lane */
    for (int l = 0; f < d; f++, l++) {
        double x = (double)zi[f];
        for (int q = 0; q < GROUP; q++) {
            double term;
            if (cosine) {
                term = x * (double)z[q][f];
            } else {
                double e = x - (double)z[q][f];
                term = e * e;
            }
            acc[q][l] += term;
        }
    }
}

/* out[c] = gfuse_i_knn_pair_sim(p, s, i, js[c]) for c < nj, bit for bit: the same terms and
 * lanes, GROUP candidates at a time (the last group padded with its first candidate). */
GFUSE_I_HOT
static void pair_sims(const gfuse_i_knn_prep *p, int s, int64_t i, const int64_t *js, int64_t nj,
                      double *out)
{
    const gfuse_i_knn_mod *md = &p->mod[s];
    int64_t d = md->d;
    int cosine = p->metric == GFUSE_METRIC_COSINE;
    if (d == 0) {
        for (int64_t c = 0; c < nj; c++) out[c] = 0.0;
        return;
    }
    const float *zi = gfuse_i_knn_zrow(md, i);
    double ni = md->norm[i];
    for (int64_t c = 0; c < nj; c += GROUP) {
        int len = nj - c < GROUP ? (int)(nj - c) : GROUP;
        const float *z[GROUP];
        for (int q = 0; q < GROUP; q++) z[q] = gfuse_i_knn_zrow(md, js[c + (q < len ? q : 0)]);
        lanes_d acc[GROUP];
        if (cosine) /* a constant inside each copy of the inlined loop */
            lanes_group(zi, z, d, 1, acc);
        else
            lanes_group(zi, z, d, 0, acc);
        for (int q = 0; q < len; q++) {
            double sum = lanes_total(&acc[q]);
            if (cosine) {
                double nq = md->norm[js[c + q]];
                out[c + q] = ni == 0.0 || nq == 0.0 ? 0.0 : sum / (ni * nq);
            } else {
                out[c + q] = 1.0 / (1.0 + sum / (double)d);
            }
        }
    }
}

/* Per-thread room for one hidden node: its pool (at most (M - 1) * k * (1 + EXPAND) samples),
 * the candidates of one modality with their pair similarities, the sums and counts over the
 * shared modalities, and the top list. */
typedef struct {
    int64_t *pool;
    int64_t *js;
    double *sims;
    double *sum;
    int *cnt;
    double *top_sim;
    int64_t *top_idx;
    int64_t *expand; /* EXPAND: the in-edges expanded */
} link_scratch;

/* Adds the knn sources j of node u (modality block base) to the pool of hidden node (i, m)
 * (modality block mbase) when j != i and (j, m) stays observed. */
static int64_t add_sources(int64_t *pool, int64_t np, const struct gfuse_graph *full,
                           const int64_t *slot, int64_t u, int64_t base, int64_t i, int64_t mbase)
{
    for (int64_t e = full->in_ptr[u]; e < full->in_ptr[u + 1]; e++) {
        if (full->in_rel[e] != GFUSE_I_REL_KNN) continue;
        int64_t j = full->in_src[e] - base;
        if (j != i && kept_node(full, slot, mbase + j)) pool[np++] = j;
    }
    return np;
}

/* The EXPAND best knn in-edges of node u (weight descending, ties by smaller source) into
 * w->expand; returns how many there are. */
static int best_in_edges(const struct gfuse_graph *full, int64_t u, link_scratch *w)
{
    int len = 0;
    for (int64_t e = full->in_ptr[u]; e < full->in_ptr[u + 1]; e++) {
        if (full->in_rel[e] != GFUSE_I_REL_KNN) continue;
        float we = full->in_w[e];
        if (len == EXPAND && !(we > full->in_w[w->expand[len - 1]])) continue;
        int b = len < EXPAND ? len : EXPAND - 1;
        while (b > 0 && full->in_w[w->expand[b - 1]] < we) {
            w->expand[b] = w->expand[b - 1];
            b--;
        }
        w->expand[b] = e;
        if (len < EXPAND) len++;
    }
    return len;
}

/* Links hidden node t: gathers its pool (the knn sources of i's kept modality nodes and of
 * their EXPAND best sources), sorts it and drops repeats, scores every candidate over the
 * shared modalities and keeps the best k. */
static void link_node(gfuse_i_variant_links *l, const gfuse_i_variant_base *b, int64_t t,
                      link_scratch *w)
{
    const struct gfuse_graph *full = b->full;
    const int64_t *slot = l->slot;
    int64_t n = full->n_samples, v = l->node[t], i = v % n, mbase = v - i;
    int nm = full->n_mod;
    int64_t np = 0;
    for (int s = 0; s < nm; s++) {
        int64_t base = (int64_t)s * n, u = base + i;
        if (!kept_node(full, slot, u)) continue;
        np = add_sources(w->pool, np, full, slot, u, base, i, mbase);
        int r = best_in_edges(full, u, w);
        for (int q = 0; q < r; q++)
            np = add_sources(w->pool, np, full, slot, full->in_src[w->expand[q]], base, i, mbase);
    }
    qsort(w->pool, (size_t)np, sizeof *w->pool, cmp_i64);
    int64_t nc = 0;
    for (int64_t c = 0; c < np; c++)
        if (c == 0 || w->pool[c] != w->pool[c - 1]) w->pool[nc++] = w->pool[c];
    for (int64_t c = 0; c < nc; c++) {
        w->sum[c] = 0.0;
        w->cnt[c] = 0;
    }
    /* the sums over the shared modalities in ascending modality, as shared_sim adds them */
    for (int s = 0; s < nm; s++) {
        int64_t base = (int64_t)s * n;
        if (!kept_node(full, slot, base + i)) continue;
        int64_t nj = 0;
        for (int64_t c = 0; c < nc; c++)
            if (kept_node(full, slot, base + w->pool[c])) w->js[nj++] = c;
        for (int64_t q = 0; q < nj; q++) w->js[q] = w->pool[w->js[q]];
        pair_sims(&b->p, s, i, w->js, nj, w->sims);
        for (int64_t c = 0, q = 0; c < nc && q < nj; c++) {
            if (w->pool[c] != w->js[q]) continue;
            w->sum[c] += w->sims[q++];
            w->cnt[c]++;
        }
    }
    int len = 0;
    for (int64_t c = 0; c < nc; c++)
        if (w->cnt[c] > 0)
            gfuse_i_top_insert(w->top_sim, w->top_idx, &len, l->k, w->sum[c] / w->cnt[c],
                               w->pool[c]);
    store_top(l, t, w->top_sim, w->top_idx, len);
}

gfuse_status gfuse_i_variant_link(gfuse_i_variant_links *out, const gfuse_i_variant_base *b,
                                  const uint8_t *hidden)
{
    gfuse_status st = links_alloc(out, b, hidden);
    if (st != GFUSE_OK) return st;
    const struct gfuse_graph *full = b->full;
    int64_t nh = out->n_hidden;
    int k = out->k, nt = omp_get_max_threads();
    size_t cap = (size_t)(full->n_mod > 1 ? full->n_mod - 1 : 1) * (size_t)k * (1 + EXPAND);
    link_scratch *ws = gfuse_i_zalloc(nt, sizeof *ws);
    int ok = ws != NULL;
    for (int t = 0; ok && t < nt; t++) {
        link_scratch *w = &ws[t];
        w->pool = gfuse_i_alloc(cap, sizeof *w->pool);
        w->js = gfuse_i_alloc(cap, sizeof *w->js);
        w->sims = gfuse_i_alloc(cap, sizeof *w->sims);
        w->sum = gfuse_i_alloc(cap, sizeof *w->sum);
        w->cnt = gfuse_i_alloc(cap, sizeof *w->cnt);
        w->top_sim = gfuse_i_alloc(k, sizeof *w->top_sim);
        w->top_idx = gfuse_i_alloc(k, sizeof *w->top_idx);
        w->expand = gfuse_i_alloc(EXPAND, sizeof *w->expand);
        ok = w->pool && w->js && w->sims && w->sum && w->cnt && w->top_sim && w->top_idx &&
             w->expand;
    }
    if (ok) {
#pragma omp parallel for schedule(dynamic, 64) if (nh > PARALLEL_HIDDEN)
        for (int64_t t = 0; t < nh; t++) link_node(out, b, t, &ws[omp_get_thread_num()]);
    } else {
        gfuse_i_variant_links_free(out);
        st = gfuse_i_nomem("the modality-dropout links");
    }
    for (int t = 0; ws && t < nt; t++) {
        link_scratch *w = &ws[t];
        free(w->pool);
        free(w->js);
        free(w->sims);
        free(w->sum);
        free(w->cnt);
        free(w->top_sim);
        free(w->top_idx);
        free(w->expand);
    }
    free(ws);
    return st;
}

gfuse_status gfuse_i_variant_link_ref(gfuse_i_variant_links *out,
                                      const gfuse_i_variant_base *b, const uint8_t *hidden)
{
    gfuse_status st = links_alloc(out, b, hidden);
    if (st != GFUSE_OK) return st;
    const struct gfuse_graph *full = b->full;
    int64_t n = full->n_samples;
    int k = out->k;
    uint8_t *in_pool = gfuse_i_zalloc(n, 1);
    double *top_sim = gfuse_i_alloc(k, sizeof *top_sim);
    int64_t *top_idx = gfuse_i_alloc(k, sizeof *top_idx);
    if (in_pool && top_sim && top_idx) {
        for (int64_t t = 0; t < out->n_hidden; t++) {
            int64_t v = out->node[t], i = v % n, m = v / n;
            /* the knn in-neighbours of i in every modality i keeps, and theirs for the
             * EXPAND best of them */
            for (int s = 0; s < full->n_mod; s++) {
                int64_t u = (int64_t)s * n + i;
                if (!kept_node(full, out->slot, u)) continue;
                for (int64_t e = full->in_ptr[u]; e < full->in_ptr[u + 1]; e++)
                    if (full->in_rel[e] == GFUSE_I_REL_KNN) in_pool[full->in_src[e] % n] = 1;
                int64_t taken[EXPAND];
                for (int q = 0; q < EXPAND; q++) {
                    int64_t best = -1;
                    for (int64_t e = full->in_ptr[u]; e < full->in_ptr[u + 1]; e++) {
                        int used = full->in_rel[e] != GFUSE_I_REL_KNN;
                        for (int r = 0; r < q; r++) used |= taken[r] == e;
                        if (!used && (best < 0 || full->in_w[e] > full->in_w[best])) best = e;
                    }
                    if (best < 0) break;
                    taken[q] = best;
                    int64_t u2 = full->in_src[best];
                    for (int64_t e = full->in_ptr[u2]; e < full->in_ptr[u2 + 1]; e++)
                        if (full->in_rel[e] == GFUSE_I_REL_KNN) in_pool[full->in_src[e] % n] = 1;
                }
            }
            int len = 0;
            for (int64_t j = 0; j < n; j++) {
                if (!in_pool[j]) continue;
                in_pool[j] = 0;
                if (j == i || !kept_node(full, out->slot, m * n + j)) continue;
                int shared;
                double sim = shared_sim(b, out->slot, i, j, &shared);
                if (shared > 0) gfuse_i_top_insert(top_sim, top_idx, &len, k, sim, j);
            }
            store_top(out, t, top_sim, top_idx, len);
        }
    } else {
        gfuse_i_variant_links_free(out);
        st = gfuse_i_nomem("the modality-dropout links");
    }
    free(in_pool);
    free(top_sim);
    free(top_idx);
    return st;
}

/* Whether in-edge e of the full graph survives in the variant: its source is no hidden node. */
static inline int kept_edge(const struct gfuse_graph *full, const int64_t *slot, int64_t e)
{
    int64_t u = full->in_src[e];
    return u >= full->n_samples * full->n_mod || slot[u] < 0;
}

/* Fills the variant's rows: hidden rows from their links (as the builder fills a row), the
 * others copied from the full graph without the edges from hidden nodes. Returns the number
 * of missing nodes left without a knn in-edge. */
static int64_t fill_variant(struct gfuse_graph *g, const struct gfuse_graph *full,
                            const gfuse_i_variant_links *l, int weighted)
{
    int64_t n = g->n_samples, n_mod_nodes = n * g->n_mod;
    int k = l->k;
    int64_t isolated = 0;
#pragma omp parallel for schedule(static) reduction(+ : isolated) \
    if (full->n_edges > PARALLEL_EDGES)
    for (int64_t v = 0; v < g->n_nodes; v++) {
        int64_t n_knn = 0;
        int64_t t = v < n_mod_nodes ? l->slot[v] : -1;
        if (t >= 0) {
            gfuse_i_graph_fill_mod_row(g, v, l->count[t], l->nbr + t * k, l->sim + t * k,
                                       weighted);
            n_knn = l->count[t];
        } else {
            int64_t e = g->in_ptr[v];
            for (int64_t f = full->in_ptr[v]; f < full->in_ptr[v + 1]; f++) {
                if (!kept_edge(full, l->slot, f)) continue;
                g->in_src[e] = full->in_src[f];
                g->in_rel[e] = full->in_rel[f];
                g->in_w[e] = full->in_w[f];
                n_knn += full->in_rel[f] == GFUSE_I_REL_KNN;
                e++;
            }
        }
        if (v < n_mod_nodes && !g->observed[v] && n_knn == 0) isolated++;
    }
    return isolated;
}

int64_t gfuse_i_variant_edges(const struct gfuse_graph *full, const gfuse_i_variant_links *l)
{
    int64_t nmn = full->n_samples * full->n_mod, total = 0;
#pragma omp parallel for schedule(static) reduction(+ : total) if (full->n_edges > PARALLEL_EDGES)
    for (int64_t v = 0; v < full->n_nodes; v++) {
        int64_t t = v < nmn ? l->slot[v] : -1;
        if (t >= 0) {
            total += l->count[t] + 2;
            continue;
        }
        for (int64_t e = full->in_ptr[v]; e < full->in_ptr[v + 1]; e++)
            total += kept_edge(full, l->slot, e);
    }
    return total;
}

gfuse_status gfuse_i_variant_graph_alloc(struct gfuse_graph *g, const struct gfuse_graph *full,
                                         int64_t e_cap)
{
    memset(g, 0, sizeof *g);
    g->n_samples = full->n_samples;
    g->n_mod = full->n_mod;
    g->n_nodes = full->n_nodes;
    g->k = full->k;
    size_t ne = (size_t)e_cap;
    if (gfuse_i_graph_alloc_nodes(g) == 0) {
        g->in_src = gfuse_i_alloc(ne, sizeof *g->in_src);
        g->in_rel = gfuse_i_alloc(ne, sizeof *g->in_rel);
        g->in_w = gfuse_i_alloc(ne, sizeof *g->in_w);
        g->out_dst = gfuse_i_alloc(ne, sizeof *g->out_dst);
        g->out_eid = gfuse_i_alloc(ne, sizeof *g->out_eid);
        if (g->in_src && g->in_rel && g->in_w && g->out_dst && g->out_eid) return GFUSE_OK;
    }
    gfuse_i_graph_clear(g);
    return gfuse_i_nomem("a modality-dropout graph");
}

gfuse_status gfuse_i_variant_into(struct gfuse_graph *g, int64_t e_cap,
                                  const struct gfuse_graph *full, const gfuse_i_variant_links *l)
{
    int64_t nmn = full->n_samples * full->n_mod, nn = full->n_nodes;
    GFUSE_CHECK_ARG(g->n_nodes == nn, "the graph has %lld nodes, the full graph %lld",
                    (long long)g->n_nodes, (long long)nn);
    for (int64_t v = 0; v < nmn; v++) g->observed[v] = kept_node(full, l->slot, v);
    memcpy(g->observed + nmn, full->observed + nmn, (size_t)(nn - nmn));
#pragma omp parallel for schedule(static) if (full->n_edges > PARALLEL_EDGES)
    for (int64_t v = 0; v < nn; v++) {
        int64_t t = v < nmn ? l->slot[v] : -1;
        if (t >= 0) {
            g->in_ptr[v] = l->count[t] + 2;
            continue;
        }
        int64_t deg = 0;
        for (int64_t e = full->in_ptr[v]; e < full->in_ptr[v + 1]; e++)
            deg += kept_edge(full, l->slot, e);
        g->in_ptr[v] = deg;
    }
    gfuse_i_prefix_sum(g->in_ptr, nn);
    g->n_edges = g->in_ptr[nn];
    if (g->n_edges > e_cap)
        return gfuse_i_error(GFUSE_ERR_RUNTIME, "a modality-dropout graph has %lld edges, more "
                             "than the %lld it was given room for",
                             (long long)g->n_edges, (long long)e_cap);
    g->n_isolated_missing = fill_variant(g, full, l, l->weighted);
    free(g->row_order);
    g->row_order = NULL;
    return gfuse_i_graph_finish(g, l->reorder);
}
