/*
 * graph.h: the sample-modality graph (README.md, "Graph"), internal layout shared by the graph
 * construction code and the model's kernels.
 *
 * Node ids (stable, documented in the public header): N samples, M modalities.
 *   modality node (sample i, modality m) = m * N + i        for 0 <= m < M
 *   hub of sample i                       = M * N + i
 * so the nodes of one modality are one contiguous block (dense encoders run as one GEMM) and
 * there are N * (M + 1) nodes in all.
 *
 * Edges are directed (message from source to destination) and stored twice:
 *   by destination (CSR):   in_ptr[v] .. in_ptr[v+1]-1 are v's in-edges; in_src, in_rel, in_w
 *                           hold source, relation and weight; sources ascending within a row.
 *   by source (transpose):  out_ptr[u] .. out_ptr[u+1]-1 are u's out-edges; out_dst holds the
 *                           destination and out_eid the index of that edge in the in_* arrays.
 * A backward pass runs over the destination rows, then over the source rows of the transpose,
 * each thread writing only rows it owns: no atomics, identical results for any thread count.
 */
#ifndef GFUSE_GRAPH_H
#define GFUSE_GRAPH_H

#include "core/internal.h"
#include "core/view.h"
#include "core/util.h"

/* Relation types (GFUSE_REL_* in gfuse.h use the same values). */
enum { GFUSE_I_REL_KNN = 0, GFUSE_I_REL_MEMBER = 1, GFUSE_I_REL_SELF = 2, GFUSE_I_N_REL = 3 };

struct gfuse_graph {
    int64_t n_samples; /* N */
    int n_mod;         /* M */
    int64_t n_nodes;   /* N * (M + 1) */
    int k;             /* neighbours per node in the knn relation */
    uint8_t *observed; /* n_nodes: 1 for an observed modality node, 0 for a missing one, 1 for hubs */

    int64_t n_edges;
    int64_t *in_ptr;  /* n_nodes + 1 */
    int64_t *in_src;  /* n_edges */
    uint8_t *in_rel;  /* n_edges */
    float *in_w;      /* n_edges: similarity for knn edges, 1 for member and self */

    int64_t *out_ptr; /* n_nodes + 1 */
    int64_t *out_dst; /* n_edges */
    int64_t *out_eid; /* n_edges */

    /* Optional row processing order that improves locality (NULL = natural order); a
     * permutation of 0..n_nodes-1 used by kernels to visit rows, never to rename nodes. */
    int64_t *row_order;

    /* Missing nodes that got no knn in-edge because the sample shares no modality with any
     * observed sample of that modality (reported, not linked at random). */
    int64_t n_isolated_missing;
};

/* ---- construction (graph.c) --------------------------------------------------------------- */

/* Builds the graph of the samples of view (view.h; a cohort's from gfuse_i_cohort_view, a
 * model's sample set's from gfuse_i_samples_view) with options o (NULL = defaults). sender
 * (NULL = every sample) holds one flag per sample: only samples with sender[i] = 1 send knn edges, so new samples
 * (predict) attach to stored reference samples by the same kNN rules without linking to each
 * other; feature statistics for standardisation are taken over sender samples only, so the
 * edges among senders do not depend on the other samples. *g stays NULL on failure. */
gfuse_status gfuse_i_graph_build(struct gfuse_graph **g, const gfuse_i_view *view,
                                 const gfuse_graph_options *o, const uint8_t *sender);

/* ---- modality-dropout graphs (variant.c) ---------------------------------------------------- */

/* What every modality-dropout graph derived from one full graph shares: the full graph
 * (borrowed) and its standardised rows, per modality N_present x d floats (about the size of
 * the input), made once. */
typedef struct gfuse_i_variant_base gfuse_i_variant_base;

/* Makes the shared part for full, the graph options o (NULL = defaults) built without a sender
 * restriction from the per-modality rows d, x: x[m] holds N x d[m] raw values, row i for sample
 * i (NaN cells missing); only the rows observed in full are read, and only during this call.
 * o->k must be full's k and o's metric and standardisation those full was built with. full must
 * outlive *out. *out stays NULL on failure. */
gfuse_status gfuse_i_variant_base_new(gfuse_i_variant_base **out, const struct gfuse_graph *full,
                                      const int64_t *d, const float *const *x,
                                      const gfuse_graph_options *o);
void gfuse_i_variant_base_free(gfuse_i_variant_base **b);

/* The modality-dropout graph of hidden (M x N, index m * N + i; marks on missing nodes are
 * ignored) is derived from b's full graph without a rebuild: a hidden node (i, m) becomes
 * missing (observed 0), stops sending (its knn and member out-edges go; its self loop and
 * hub -> (i, m) stay) and gets knn in-edges from the best candidates of its second-order pool
 * (see variant.c); every other row is full's minus the edges from hidden nodes. It is made in
 * two steps, its links (gfuse_i_variant_link) and their layout (gfuse_i_variant_into), or in
 * one call (gfuse_i_graph_variant, below). */

/* The knn in-edges the hidden nodes of one variant get, best first (similarity descending, ties
 * by smaller sample index). */
typedef struct {
    const struct gfuse_graph *full; /* the full graph they were linked in (borrowed) */
    int k;
    int weighted;             /* the variant's knn edges carry the similarity */
    gfuse_row_order reorder;  /* the variant's row order */
    int64_t n_hidden;
    int64_t *node;   /* n_hidden: the hidden nodes, ascending */
    int64_t *slot;   /* N * M: node v's index in node[], -1 when v is not hidden */
    int32_t *count;  /* n_hidden: 0 when the sample has no other observed modality */
    int64_t *nbr;    /* n_hidden * k: source sample j (the source node is m * N + j) */
    float *sim;      /* n_hidden * k */
} gfuse_i_variant_links;

/* The links of hidden under b (OpenMP over hidden nodes; the same for any thread count), and
 * their plain serial twin (the pool marked per sample, every sample visited in order). */
gfuse_status gfuse_i_variant_link(gfuse_i_variant_links *out, const gfuse_i_variant_base *b,
                                  const uint8_t *hidden);
gfuse_status gfuse_i_variant_link_ref(gfuse_i_variant_links *out,
                                      const gfuse_i_variant_base *b, const uint8_t *hidden);
void gfuse_i_variant_links_free(gfuse_i_variant_links *l);

/* A variant from its links, without the pool search: what a training keeps of each variant
 * (its links are about k / (k + 3) of the hidden nodes' share of the graph) and lays out again
 * in one graph's storage when it is needed. gfuse_i_variant_edges counts the edges of the
 * variant of l; gfuse_i_variant_graph_alloc makes storage g for variants of full with up to
 * e_cap edges (free it with gfuse_i_graph_clear); gfuse_i_variant_into fills g with the variant
 * of l, the graph gfuse_i_graph_variant gives for the same hidden mask (an error when it has
 * more than e_cap edges). */
int64_t gfuse_i_variant_edges(const struct gfuse_graph *full, const gfuse_i_variant_links *l);
gfuse_status gfuse_i_variant_graph_alloc(struct gfuse_graph *g, const struct gfuse_graph *full,
                                         int64_t e_cap);
gfuse_status gfuse_i_variant_into(struct gfuse_graph *g, int64_t e_cap,
                                  const struct gfuse_graph *full, const gfuse_i_variant_links *l);

/* Pieces of the builder the variant shares (graph.c): option checks, freeing a graph, and
 * sorting the edges e0 .. e1-1 of one row by source (a handful of entries). clear frees the
 * arrays of g and zeroes it (g itself stays, e.g. on the stack); release frees a malloc'ed g
 * and its arrays (NULL is ignored). */
gfuse_status gfuse_i_graph_check_options(const gfuse_graph_options *o);
void gfuse_i_graph_clear(struct gfuse_graph *g);
void gfuse_i_graph_release(struct gfuse_graph *g);
/* Allocates observed, in_ptr and out_ptr of g for g->n_nodes nodes (0, or -1 when out of
 * memory). */
int gfuse_i_graph_alloc_nodes(struct gfuse_graph *g);
/* Turns the in-degrees in in_ptr[0 .. n_nodes) into row pointers, sets n_edges, and allocates
 * the five edge arrays of g (0, or -1 when out of memory). */
int gfuse_i_graph_alloc_edges(struct gfuse_graph *g);
/* The end of a build: with st GFUSE_OK, finishes the filled g (gfuse_i_graph_finish) and hands
 * it to *out; otherwise, or when finishing fails, frees g (may be NULL). Returns the status. */
gfuse_status gfuse_i_graph_done(gfuse_graph **out, struct gfuse_graph *g, gfuse_row_order reorder,
                                gfuse_status st);
/* Builds the transpose of a filled graph and its row order (NATURAL: none). */
gfuse_status gfuse_i_graph_finish(struct gfuse_graph *g, gfuse_row_order reorder);
void gfuse_i_graph_sort_row(struct gfuse_graph *g, int64_t e0, int64_t e1);
/* Fills modality node v's row from in_ptr[v]: count knn edges from nbr (sample indices in v's
 * modality block; weight sim when weighted, else 1) and the self loop, sorted by source, then
 * the member edge from the sample's hub. */
void gfuse_i_graph_fill_mod_row(struct gfuse_graph *g, int64_t v, int count, const int64_t *nbr,
                                const float *sim, int weighted);

/* The modality-dropout graph of hidden in one call (the links, then their layout; see the
 * comment above gfuse_i_variant_link): *out stays NULL on failure. */
static inline gfuse_status gfuse_i_graph_variant(struct gfuse_graph **out,
                                                 const gfuse_i_variant_base *b,
                                                 const uint8_t *hidden)
{
    GFUSE_CHECK_ARG(out != NULL, "out must not be NULL");
    *out = NULL;
    GFUSE_CHECK_ARG(b != NULL, "the modality-dropout base must not be NULL");
    GFUSE_CHECK_ARG(hidden != NULL, "the hidden mask must not be NULL");
    gfuse_i_variant_links l;
    gfuse_status st = gfuse_i_variant_link(&l, b, hidden);
    if (st != GFUSE_OK) return st;
    const struct gfuse_graph *full = l.full;
    struct gfuse_graph *g = gfuse_i_zalloc(1, sizeof *g);
    int64_t ne = gfuse_i_variant_edges(full, &l);
    st = g ? gfuse_i_variant_graph_alloc(g, full, ne) : gfuse_i_nomem("the modality-dropout graph");
    if (st == GFUSE_OK) st = gfuse_i_variant_into(g, ne, full, &l);
    gfuse_i_variant_links_free(&l);
    if (st != GFUSE_OK) {
        if (g) gfuse_i_graph_release(g);
        return st;
    }
    *out = g;
    return GFUSE_OK;
}

/* ---- exact kNN per modality (knn.c, knn_ref.c) ---------------------------------------------- */

/* Neighbour lists of every modality node v = m * N + i: count[v] <= k sample indices j (the
 * source node is m * N + j) with their similarity, best first, ties by smaller j. */
typedef struct {
    int64_t n_samples;
    int n_mod;
    int k;
    int32_t *count; /* N * M */
    int64_t *nbr;   /* N * M * k */
    float *sim;     /* N * M * k */
} gfuse_i_knn;

/* The blocked kernel: BLAS sgemm tiles, OpenMP over query blocks, top-k heaps, then the kept
 * candidates rescored in double precision. Memory O(threads * tile + N * (d + M * k)). */
gfuse_status gfuse_i_knn_build(gfuse_i_knn *out, const gfuse_i_view *view,
                               const gfuse_graph_options *o, const uint8_t *sender);
/* Its plain serial twin: every pair scored in double precision, O(N^2 * d) time. */
gfuse_status gfuse_i_knn_ref(gfuse_i_knn *out, const gfuse_i_view *view,
                             const gfuse_graph_options *o, const uint8_t *sender);
void gfuse_i_knn_free(gfuse_i_knn *knn);

/* ---- storage (csr.c) -------------------------------------------------------------------------- */

/* counts[0..n-1] -> exclusive prefix sums in counts[0..n] (counts[n] = total). The parallel
 * version splits the array over threads (serial below a size threshold); both give the same
 * result. */
void gfuse_i_prefix_sum(int64_t *counts, int64_t n);
void gfuse_i_prefix_sum_serial(int64_t *counts, int64_t n);
/* Fills out_ptr/out_dst/out_eid from the in_* arrays (a stable counting sort by source, so
 * out-edges of a node are in ascending edge id, i.e. ascending destination). The test support
 * in tests/graph_check.h checks the invariants of the two forms. */
gfuse_status gfuse_i_graph_transpose(struct gfuse_graph *g);
gfuse_status gfuse_i_graph_transpose_serial(struct gfuse_graph *g);

/* ---- row ordering (order.c) ------------------------------------------------------------------ */

/* Sets g->row_order to a locality-improving visiting order of the rows: reverse Cuthill-McKee
 * or SuiteSparse AMD, both on the symmetrised pattern (in- plus out-edges). */
gfuse_status gfuse_i_graph_order(struct gfuse_graph *g, gfuse_row_order kind);

static inline int64_t gfuse_i_node_of(const struct gfuse_graph *g, int64_t i, int m)
{
    return (int64_t)m * g->n_samples + i;
}
static inline int64_t gfuse_i_hub_of(const struct gfuse_graph *g, int64_t i)
{
    return (int64_t)g->n_mod * g->n_samples + i;
}

#endif
