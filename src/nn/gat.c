/* gat.c: the multi-head graph attention kernels and their serial reference twins (gat.h). */
#include "nn/gat.h"
#include "nn/layers.h"

#include <math.h>
#include <string.h>

#define R GFUSE_I_N_REL
#define MAX_HEADS GFUSE_I_GAT_MAX_HEADS
/* Nodes per block of the fixed-order reduction of the attention parameter gradients. */
#define NODE_BLOCK 256
/* Below this much work (edges x width) the kernels run serially. */
#define PAR_MIN_WORK (1 << 18)

int64_t gfuse_i_gat_work_floats(const struct gfuse_graph *g, int H, int D)
{
    int64_t nblocks = (g->n_nodes + NODE_BLOCK - 1) / NODE_BLOCK;
    return g->n_edges * H + 2 * g->n_nodes * R * H + nblocks * 2 * R * H * (int64_t)D;
}

static inline float lrelu(float x) { return x > 0.0f ? x : GFUSE_I_GAT_SLOPE * x; }

/* The one dot product of the kernels and the twins: eight partial sums, one per lane of d mod 8,
 * added in a fixed tree at the end. The order is the same for any vector width and any thread
 * count, the loop over a block of eight is one vector multiply-add, and the closing tree is a
 * few independent adds (a sum carried lane by lane through one register would be sixteen
 * dependent adds for the common head width of 16). */
static inline float dot(const float *a, const float *b, int D)
{
    float acc[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    int d = 0;
    for (; d + 8 <= D; d += 8)
#pragma omp simd
        for (int i = 0; i < 8; i++) acc[i] += a[d + i] * b[d + i];
    for (int i = 0; d + i < D; i++) acc[i] += a[d + i] * b[d + i];
    const float t0 = acc[0] + acc[4], t1 = acc[1] + acc[5], t2 = acc[2] + acc[6],
                t3 = acc[3] + acc[7];
    return (t0 + t2) + (t1 + t3);
}

/* Whether edge e = (u -> v) takes part under the sender mask. */
static inline int edge_on(const uint8_t *src_mask, int64_t u, int64_t v)
{
    return !src_mask || src_mask[u] || u == v;
}

/* The attention dropout factor of (edge e, head h): 0 or 1 / (1 - p); 1 without dropout. */
static inline float drop_factor(uint64_t seed, int64_t e, int H, int h, float p, float scale)
{
    if (p <= 0.0f) return 1.0f;
    return gfuse_i_dropout_keep(seed, (uint64_t)(e * H + h), p) ? scale : 0.0f;
}

/* The same factors for the optimised kernels, with the key and threshold of the mask worked out
 * once per call instead of once per (edge, head). */
typedef struct {
    int on;          /* attention dropout at all */
    uint64_t seed;
    uint32_t key0;   /* the key of indices below 2^32 */
    uint32_t thr;
    float scale;
} gat_drop;

static inline gat_drop drop_init(uint64_t seed, float p)
{
    gat_drop d = {.on = p > 0.0f,
                  .seed = seed,
                  .key0 = gfuse_i_dropout_key(seed, 0),
                  .thr = gfuse_i_dropout_threshold(p),
                  .scale = p > 0.0f ? 1.0f / (1.0f - p) : 1.0f};
    return d;
}

static inline float drop_at(const gat_drop *d, int64_t e, int H, int h)
{
    if (!d->on) return 1.0f;
    uint64_t t = (uint64_t)(e * H + h);
    uint32_t key = t >> 32 ? gfuse_i_dropout_key(d->seed, t) : d->key0;
    return gfuse_i_hash32(key, (uint32_t)t) >= d->thr ? d->scale : 0.0f;
}

/* c[h] *= the factor of (edge e, head h) for every head, with the same factors as drop_at:
 * below index 2^32 the key is the one key0, and the hashes of the heads run side by side in
 * vector lanes (the hash is a few integer multiplies and shifts). */
static inline __attribute__((always_inline)) void drop_edge(const gat_drop *d, int64_t e,
                                                            const int H, float *c)
{
    const uint64_t t0 = (uint64_t)e * (uint64_t)H;
    if ((t0 + (uint64_t)H) >> 32) {
        for (int h = 0; h < H; h++) c[h] *= drop_at(d, e, H, h);
        return;
    }
    const uint32_t base = (uint32_t)t0, key = d->key0, thr = d->thr;
    const float scale = d->scale;
#pragma omp simd
    for (int h = 0; h < H; h++)
        c[h] *= gfuse_i_hash32(key, base + (uint32_t)h) >= thr ? scale : 0.0f;
}

/* Edges ahead whose rows the loops ask the memory system for early: the rows of neighbours are
 * scattered over memory, and a row's edges are known before they are visited. Without a row
 * order a thread visits consecutive rows, whose edges follow each other in the arrays, so the
 * look-ahead runs on into the next row (edges_ahead_end). */
#define AHEAD 16

static inline void prefetch_row(const float *row, int F)
{
#if defined(__GNUC__)
    for (int f = 0; f < F; f += 16) __builtin_prefetch(row + f);
#else
    (void)row;
    (void)F;
#endif
}

static inline int64_t row_at(const struct gfuse_graph *g, int64_t t)
{
    return g->row_order ? g->row_order[t] : t;
}

/* Where the look-ahead over the edges of a row that ends at edge end may reach. */
static inline int64_t edges_ahead_end(const struct gfuse_graph *g, int64_t end)
{
    return g->row_order ? end : g->n_edges;
}

/* Rows a thread takes at a time in the forward pass. */
#define FORWARD_BLOCK 64

/* The widest row (heads x head width) the forward pass sums in a local array. */
#define ROW_ACC_MAX 256

/* The score halves of node u (gfuse_i_gat_forward), with the dot product of the twins. */
static inline __attribute__((always_inline)) void
node_scores(float *s_src, float *s_dst, const float *z, const float *a_src, const float *a_dst,
            int64_t u, const int H, const int D)
{
    const int F = H * D;
    for (int r = 0; r < R; r++)
        for (int h = 0; h < H; h++) {
            const float *zu = z + u * F + h * D;
            s_src[(u * R + r) * H + h] = dot(a_src + (r * H + h) * D, zu, D);
            s_dst[(u * R + r) * H + h] = dot(a_dst + (r * H + h) * D, zu, D);
        }
}

/* The first pass over the in-edges of destination row v (gfuse_i_gat_forward): the scores
 * into alpha and their maximum per head into mx, asking for the source rows the second pass
 * will read. Inlined with H and D known at the call for the common shapes, so the per-head
 * loops unroll into vector code. */
static inline __attribute__((always_inline)) void
forward_scores(float *mx, float *alpha, const float *s_src, const float *s_dst, const float *z,
               const uint8_t *src_mask, const struct gfuse_graph *g, int64_t v, const int H,
               const int D)
{
    const int F = H * D;
    const int64_t e0 = g->in_ptr[v], e1 = g->in_ptr[v + 1];
    const int64_t ahead = edges_ahead_end(g, e1);
    for (int h = 0; h < H; h++) mx[h] = -INFINITY;
    for (int64_t e = e0; e < e1; e++) {
        const int64_t u = g->in_src[e];
        const int r = g->in_rel[e];
        if (e + AHEAD < ahead) prefetch_row(s_src + g->in_src[e + AHEAD] * R * H, 1);
        prefetch_row(z + u * F, F); /* for the aggregation */
        if (!edge_on(src_mask, u, v)) continue;
        const float *ss = s_src + (u * R + r) * H, *sd = s_dst + (v * R + r) * H;
        float *al = alpha + e * H;
#pragma omp simd
        for (int h = 0; h < H; h++) {
            float sc = lrelu(ss[h] + sd[h]);
            al[h] = sc;
            mx[h] = sc > mx[h] ? sc : mx[h];
        }
    }
}

/* The second pass over row v: the softmax numerators, their sums and the aggregation of the
 * numerators times the source rows (read once), then the row and the weights divided by the
 * sums. */
static inline __attribute__((always_inline)) void
forward_aggregate(float *out, float *alpha, const float *mx, const float *z,
                  const uint8_t *src_mask, const struct gfuse_graph *g, int64_t v, const int H,
                  const int D, const gat_drop *dr)
{
    const int F = H * D;
    const int64_t e0 = g->in_ptr[v], e1 = g->in_ptr[v + 1];
    float sum[MAX_HEADS], inv[MAX_HEADS];
    float *ov = out + v * F;
    /* the row is summed in a local array (registers, for the common widths), not in out */
    float accbuf[ROW_ACC_MAX];
    float *acc = F <= ROW_ACC_MAX ? accbuf : ov;
    for (int h = 0; h < H; h++) sum[h] = 0.0f;
    for (int f = 0; f < F; f++) acc[f] = 0.0f;
    for (int64_t e = e0; e < e1; e++) {
        const int64_t u = g->in_src[e];
        float *al = alpha + e * H;
        if (!edge_on(src_mask, u, v)) {
            for (int h = 0; h < H; h++) al[h] = 0.0f;
            continue;
        }
        float c[MAX_HEADS];
#pragma omp simd
        for (int h = 0; h < H; h++) {
            float ex = gfuse_i_expf(al[h] - mx[h]);
            al[h] = ex;
            sum[h] += ex;
            c[h] = ex;
        }
        if (dr->on) drop_edge(dr, e, H, c);
        const float *zu = z + u * F;
        for (int h = 0; h < H; h++)
#pragma omp simd
            for (int d = 0; d < D; d++) acc[h * D + d] += c[h] * zu[h * D + d];
    }
    for (int h = 0; h < H; h++) inv[h] = sum[h] > 0.0f ? 1.0f / sum[h] : 0.0f;
    for (int h = 0; h < H; h++)
#pragma omp simd
        for (int d = 0; d < D; d++) ov[h * D + d] = acc[h * D + d] * inv[h];
    for (int64_t e = e0; e < e1; e++)
        for (int h = 0; h < H; h++) alpha[e * H + h] *= inv[h];
}

/* Rows [t0, t1) of the visiting order, software-pipelined: the score pass of the next row runs
 * before the aggregation of this one, so the source rows an aggregation reads were asked for
 * a whole row earlier. Every row's arithmetic is that of its two passes alone. */
static inline __attribute__((always_inline)) void
forward_rows(float *out, float *alpha, const float *s_src, const float *s_dst, const float *z,
             const uint8_t *src_mask, const struct gfuse_graph *g, const int64_t *rows,
             int64_t t0, int64_t t1, const int H, const int D, const gat_drop *dr)
{
    float mx[2][MAX_HEADS];
    int cur = 0;
#define FORWARD_ROW(t) (rows ? rows[t] : row_at(g, t))
    forward_scores(mx[cur], alpha, s_src, s_dst, z, src_mask, g, FORWARD_ROW(t0), H, D);
    for (int64_t t = t0; t < t1; t++) {
        if (t + 1 < t1)
            forward_scores(mx[1 - cur], alpha, s_src, s_dst, z, src_mask, g, FORWARD_ROW(t + 1),
                           H, D);
        forward_aggregate(out, alpha, mx[cur], z, src_mask, g, FORWARD_ROW(t), H, D, dr);
        cur = 1 - cur;
    }
#undef FORWARD_ROW
}

/* ---- optimised forward ----------------------------------------------------------------- */

void gfuse_i_gat_forward(float *out, float *alpha, float *s_src, float *s_dst, const float *z,
                         const float *a_src, const float *a_dst, const uint8_t *src_mask,
                         const struct gfuse_graph *g, int H, int D, float attn_drop,
                         uint64_t seed)
{
    gfuse_i_gat_forward_rows(out, alpha, s_src, s_dst, z, a_src, a_dst, src_mask, g, H, D,
                             attn_drop, seed, NULL, g->n_nodes);
}

GFUSE_I_HOT
void gfuse_i_gat_forward_rows(float *out, float *alpha, float *s_src, float *s_dst,
                              const float *z, const float *a_src, const float *a_dst,
                              const uint8_t *src_mask, const struct gfuse_graph *g, int H, int D,
                              float attn_drop, uint64_t seed, const int64_t *rows,
                              int64_t n_rows)
{
    const int64_t V = g->n_nodes, n_dst = rows ? n_rows : V;
    const int F = H * D;
    const gat_drop dr = drop_init(seed, attn_drop);
    const int par = g->n_edges * (int64_t)F > PAR_MIN_WORK;

    /* per-node halves of the scores: one dot product per (node, relation, head). As one BLAS
     * product s = z A^T, the block matrix A (R H x F) of the attention vectors would be zero
     * outside head h's columns in row (r, h): three quarters of its multiply-adds for nothing at
     * four heads, and slower than these dots on the measured shapes. */
#pragma omp parallel for schedule(static) if (par)
    for (int64_t u = 0; u < V; u++) {
        if (H == 4 && D == 16)
            node_scores(s_src, s_dst, z, a_src, a_dst, u, 4, 16);
        else
            node_scores(s_src, s_dst, z, a_src, a_dst, u, H, D);
    }

    /* per destination row, in two passes over its in-edges (forward_scores, forward_aggregate),
     * blocks of FORWARD_BLOCK rows at a time */
    const int64_t nblk = (n_dst + FORWARD_BLOCK - 1) / FORWARD_BLOCK;
#pragma omp parallel for schedule(dynamic, 1) if (par)
    for (int64_t b = 0; b < nblk; b++) {
        const int64_t t0 = b * FORWARD_BLOCK,
                      t1 = t0 + FORWARD_BLOCK < n_dst ? t0 + FORWARD_BLOCK : n_dst;
        if (H == 4 && D == 16) /* the default shape */
            forward_rows(out, alpha, s_src, s_dst, z, src_mask, g, rows, t0, t1, 4, 16, &dr);
        else
            forward_rows(out, alpha, s_src, s_dst, z, src_mask, g, rows, t0, t1, H, D, &dr);
    }
}

/* ---- optimised backward ---------------------------------------------------------------- */

/* da[r, h, :] += sum over nodes u of ds[u, r, h] * z_u,h for both attention vectors: partial
 * sums over fixed blocks of nodes (in parallel), then the blocks added in order. */
GFUSE_I_HOT
static void attention_param_grads(float *da_src, float *da_dst, float *partial,
                                  const float *ds_src, const float *ds_dst, const float *z,
                                  int64_t V, int H, int D)
{
    const int F = H * D;
    const int64_t P = (int64_t)R * H * D; /* floats per attention vector set */
    const int64_t nblocks = (V + NODE_BLOCK - 1) / NODE_BLOCK;
    const int par = V * P > PAR_MIN_WORK * 4;
#pragma omp parallel for schedule(static) if (par && nblocks > 1)
    for (int64_t b = 0; b < nblocks; b++) {
        float *ps = partial + b * 2 * P, *pd = ps + P;
        memset(ps, 0, (size_t)(2 * P) * sizeof(float));
        int64_t u1 = (b + 1) * NODE_BLOCK < V ? (b + 1) * NODE_BLOCK : V;
        for (int64_t u = b * NODE_BLOCK; u < u1; u++)
            for (int r = 0; r < R; r++)
                for (int h = 0; h < H; h++) {
                    const float gs = ds_src[(u * R + r) * H + h], gd = ds_dst[(u * R + r) * H + h];
                    const float *zu = z + u * F + h * D;
                    float *qs = ps + (r * H + h) * D, *qd = pd + (r * H + h) * D;
#pragma omp simd
                    for (int d = 0; d < D; d++) {
                        qs[d] += gs * zu[d];
                        qd[d] += gd * zu[d];
                    }
                }
    }
#pragma omp parallel for schedule(static) if (par && nblocks * P > PAR_MIN_WORK)
    for (int64_t q = 0; q < P; q++) {
        float s = da_src[q], d = da_dst[q];
        for (int64_t b = 0; b < nblocks; b++) {
            s += partial[b * 2 * P + q];
            d += partial[b * 2 * P + P + q];
        }
        da_src[q] = s;
        da_dst[q] = d;
    }
}

/* One destination row v of the backward pass (gfuse_i_gat_backward), inlined like forward_row. */
static inline __attribute__((always_inline)) void
backward_dst_row(float *dz, float *dscore, float *ds_dst, const float *dout, const float *alpha,
                 const float *s_src, const float *s_dst, const float *z, const float *a_dst,
                 const uint8_t *src_mask, const struct gfuse_graph *g, int64_t v, const int H,
                 const int D, const gat_drop *dr)
{
    const int F = H * D;
    const int64_t e0 = g->in_ptr[v], e1 = g->in_ptr[v + 1];
    const int64_t ahead = edges_ahead_end(g, e1);
    const float *gv = dout + v * F;
    float wsum[MAX_HEADS];
    float *dsd = ds_dst + v * R * H;
    for (int h = 0; h < H; h++) wsum[h] = 0.0f;
    for (int q = 0; q < R * H; q++) dsd[q] = 0.0f;
    for (int64_t e = e0; e < e1; e++) {
        const int64_t u = g->in_src[e];
        if (e + AHEAD < ahead) prefetch_row(z + g->in_src[e + AHEAD] * F, F);
        if (!edge_on(src_mask, u, v)) continue;
        const float *zu = z + u * F, *al = alpha + e * H;
        float da[MAX_HEADS], *dsc = dscore + e * H;
        for (int h = 0; h < H; h++) da[h] = dot(gv + h * D, zu + h * D, D);
        if (dr->on) drop_edge(dr, e, H, da);
#pragma omp simd
        for (int h = 0; h < H; h++) {
            dsc[h] = da[h];
            wsum[h] += al[h] * da[h];
        }
    }
    /* the LeakyReLU slope is a select, not a branch: the sign of the scores is a coin toss */
    for (int64_t e = e0; e < e1; e++) {
        const int64_t u = g->in_src[e];
        const int r = g->in_rel[e];
        float *dsc = dscore + e * H;
        if (!edge_on(src_mask, u, v)) {
            for (int h = 0; h < H; h++) dsc[h] = 0.0f;
            continue;
        }
        const float *ss = s_src + (u * R + r) * H, *sd = s_dst + (v * R + r) * H;
        const float *al = alpha + e * H;
        float dq[MAX_HEADS];
#pragma omp simd
        for (int h = 0; h < H; h++) {
            const float pre = ss[h] + sd[h];
            const float ds = al[h] * (dsc[h] - wsum[h]);
            dq[h] = pre > 0.0f ? ds : GFUSE_I_GAT_SLOPE * ds;
        }
        float *dr_h = dsd + r * H;
        for (int h = 0; h < H; h++) {
            dsc[h] = dq[h];
            dr_h[h] += dq[h];
        }
    }
    if (dz) {
        float *dzv = dz + v * F;
        for (int r = 0; r < R; r++)
            for (int h = 0; h < H; h++) {
                const float gd = dsd[r * H + h];
                const float *ad = a_dst + (r * H + h) * D;
#pragma omp simd
                for (int d = 0; d < D; d++) dzv[h * D + d] += gd * ad[d];
            }
    }
}

/* One source row u of the backward pass over the transpose, inlined like forward_row. */
static inline __attribute__((always_inline)) void
backward_src_row(float *dz, float *ds_src, const float *dscore, const float *dout,
                 const float *alpha, const float *a_src, const uint8_t *src_mask,
                 const struct gfuse_graph *g, int64_t u, const int H, const int D,
                 const gat_drop *dr)
{
    const int F = H * D;
    float *dzu = dz ? dz + u * F : NULL;
    /* the score gradients per (relation, head) are summed in registers, not in ds_src */
    float acc[R * MAX_HEADS];
    for (int q = 0; q < R * H; q++) acc[q] = 0.0f;
    const int64_t o1 = g->out_ptr[u + 1], ahead = edges_ahead_end(g, o1);
    for (int64_t o = g->out_ptr[u]; o < o1; o++) {
        const int64_t v = g->out_dst[o], e = g->out_eid[o];
        if (o + AHEAD < ahead) {
            const int64_t ea = g->out_eid[o + AHEAD];
            prefetch_row(dscore + ea * H, H);
            prefetch_row(alpha + ea * H, H);
#if defined(__GNUC__)
            __builtin_prefetch(g->in_rel + ea);
#endif
            if (dzu) prefetch_row(dout + g->out_dst[o + AHEAD] * F, F);
        }
        if (!edge_on(src_mask, u, v)) continue;
        const int r = g->in_rel[e];
        const float *dsc = dscore + e * H, *al = alpha + e * H;
        float *ar = acc + r * H;
#pragma omp simd
        for (int h = 0; h < H; h++) ar[h] += dsc[h];
        if (!dzu) continue;
        float c[MAX_HEADS];
        for (int h = 0; h < H; h++) c[h] = al[h];
        if (dr->on) drop_edge(dr, e, H, c);
        const float *gv = dout + v * F;
        for (int h = 0; h < H; h++)
#pragma omp simd
            for (int d = 0; d < D; d++) dzu[h * D + d] += c[h] * gv[h * D + d];
    }
    float *dss = ds_src + u * R * H;
    for (int q = 0; q < R * H; q++) dss[q] = acc[q];
    if (dzu) {
        for (int r = 0; r < R; r++)
            for (int h = 0; h < H; h++) {
                const float gs = acc[r * H + h];
                const float *as = a_src + (r * H + h) * D;
#pragma omp simd
                for (int d = 0; d < D; d++) dzu[h * D + d] += gs * as[d];
            }
    }
}

GFUSE_I_HOT
void gfuse_i_gat_backward(float *dz, float *da_src, float *da_dst, float *work, const float *dout,
                          const float *alpha, const float *s_src, const float *s_dst,
                          const float *z, const float *a_src, const float *a_dst,
                          const uint8_t *src_mask, const struct gfuse_graph *g, int H, int D,
                          float attn_drop, uint64_t seed)
{
    const int64_t V = g->n_nodes, E = g->n_edges;
    const int F = H * D;
    const gat_drop dr = drop_init(seed, attn_drop);
    const int par = E * (int64_t)F > PAR_MIN_WORK;
    float *dscore = work;               /* E x H: d loss / d (pre-LeakyReLU score) */
    float *ds_src = dscore + E * H;     /* V x R x H */
    float *ds_dst = ds_src + V * R * H; /* V x R x H */
    float *partial = ds_dst + V * R * H;

    /* Destination pass. In the forward pass this was:
     *   out_v,h = sum_e drop_e alpha_e z_u,h,  alpha = softmax_e(score), score = lrelu(pre),
     *   pre = s_src[u, r] + s_dst[v, r],  s_dst[v, r] = a_dst[r] · z_v,h
     * so now we have, per row v: dalpha_e = drop_e dout_v,h · z_u,h,
     *   dpre_e = alpha_e (dalpha_e - sum_e' alpha_e' dalpha_e') lrelu'(pre_e),
     *   ds_dst[v, r] = sum of dpre_e over v's edges of relation r, dz_v,h += ds_dst[v, r] a_dst[r] */
#pragma omp parallel for schedule(dynamic, 64) if (par)
    for (int64_t t = 0; t < V; t++) {
        const int64_t v = row_at(g, t);
        if (H == 4 && D == 16)
            backward_dst_row(dz, dscore, ds_dst, dout, alpha, s_src, s_dst, z, a_dst, src_mask, g,
                             v, 4, 16, &dr);
        else
            backward_dst_row(dz, dscore, ds_dst, dout, alpha, s_src, s_dst, z, a_dst, src_mask, g,
                             v, H, D, &dr);
    }

    /* Source pass over the transpose: each thread owns rows u of dz.
     *   dz_u,h += sum over out-edges e = (u -> v) of drop_e alpha_e dout_v,h
     *   ds_src[u, r] = sum of dpre_e over u's out-edges of relation r, dz_u,h += ds_src[u, r] a_src[r] */
#pragma omp parallel for schedule(dynamic, 64) if (par)
    for (int64_t t = 0; t < V; t++) {
        const int64_t u = row_at(g, t);
        if (H == 4 && D == 16)
            backward_src_row(dz, ds_src, dscore, dout, alpha, a_src, src_mask, g, u, 4, 16,
                             &dr);
        else
            backward_src_row(dz, ds_src, dscore, dout, alpha, a_src, src_mask, g, u, H, D,
                             &dr);
    }

    /* da_src[r, h] += sum_u ds_src[u, r, h] z_u,h;  da_dst[r, h] += sum_v ds_dst[v, r, h] z_v,h */
    attention_param_grads(da_src, da_dst, partial, ds_src, ds_dst, z, V, H, D);
}

/* ---- serial reference twins ------------------------------------------------------------ */

/* The score of edge e = (u -> v) for head h, computed from scratch. */
static float ref_pre(const float *z, const float *a_src, const float *a_dst, int64_t u, int64_t v,
                     int r, int h, int H, int D)
{
    const int F = H * D;
    return dot(a_src + (r * H + h) * D, z + u * F + h * D, D) +
           dot(a_dst + (r * H + h) * D, z + v * F + h * D, D);
}

GFUSE_I_HOT
void gfuse_i_gat_forward_ref(float *out, float *alpha, const float *z, const float *a_src,
                             const float *a_dst, const uint8_t *src_mask,
                             const struct gfuse_graph *g, int H, int D, float attn_drop,
                             uint64_t seed)
{
    const int F = H * D;
    const float scale = attn_drop > 0.0f ? 1.0f / (1.0f - attn_drop) : 1.0f;
    for (int64_t v = 0; v < g->n_nodes; v++) {
        for (int f = 0; f < F; f++) out[v * F + f] = 0.0f;
        for (int h = 0; h < H; h++) {
            float mx = -INFINITY, sum = 0.0f;
            for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++) {
                if (!edge_on(src_mask, g->in_src[e], v)) continue;
                float sc = lrelu(ref_pre(z, a_src, a_dst, g->in_src[e], v, g->in_rel[e], h, H, D));
                if (sc > mx) mx = sc;
            }
            /* out_v,h = sum_e exp(score_e - max) drop_e z_u,h / sum_e exp(score_e - max) */
            for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++) {
                alpha[e * H + h] = 0.0f;
                if (!edge_on(src_mask, g->in_src[e], v)) continue;
                float sc = lrelu(ref_pre(z, a_src, a_dst, g->in_src[e], v, g->in_rel[e], h, H, D));
                alpha[e * H + h] = gfuse_i_expf(sc - mx);
                sum += alpha[e * H + h];
                float c = alpha[e * H + h] * drop_factor(seed, e, H, h, attn_drop, scale);
                for (int d = 0; d < D; d++)
                    out[v * F + h * D + d] += c * z[g->in_src[e] * F + h * D + d];
            }
            float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
            for (int d = 0; d < D; d++) out[v * F + h * D + d] *= inv;
            for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++) alpha[e * H + h] *= inv;
        }
    }
}

GFUSE_I_HOT
void gfuse_i_gat_backward_ref(float *dz, float *da_src, float *da_dst, const float *dout,
                              const float *alpha, const float *z, const float *a_src,
                              const float *a_dst, const uint8_t *src_mask,
                              const struct gfuse_graph *g, int H, int D, float attn_drop,
                              uint64_t seed)
{
    const int F = H * D;
    const float scale = attn_drop > 0.0f ? 1.0f / (1.0f - attn_drop) : 1.0f;
    for (int64_t v = 0; v < g->n_nodes; v++) {
        for (int h = 0; h < H; h++) {
            /* sum_e alpha_e dalpha_e over v's in-edges */
            float wsum = 0.0f;
            for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++) {
                const int64_t u = g->in_src[e];
                if (!edge_on(src_mask, u, v)) continue;
                float da = drop_factor(seed, e, H, h, attn_drop, scale) *
                           dot(dout + v * F + h * D, z + u * F + h * D, D);
                wsum += alpha[e * H + h] * da;
            }
            for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++) {
                const int64_t u = g->in_src[e];
                const int r = g->in_rel[e];
                if (!edge_on(src_mask, u, v)) continue;
                float m = drop_factor(seed, e, H, h, attn_drop, scale);
                float da = m * dot(dout + v * F + h * D, z + u * F + h * D, D);
                float ds = alpha[e * H + h] * (da - wsum);
                if (!(ref_pre(z, a_src, a_dst, u, v, r, h, H, D) > 0.0f)) ds *= GFUSE_I_GAT_SLOPE;
                for (int d = 0; d < D; d++) {
                    const float zu = z[u * F + h * D + d], zv = z[v * F + h * D + d];
                    if (dz) {
                        dz[u * F + h * D + d] += alpha[e * H + h] * m * dout[v * F + h * D + d];
                        dz[u * F + h * D + d] += ds * a_src[(r * H + h) * D + d];
                        dz[v * F + h * D + d] += ds * a_dst[(r * H + h) * D + d];
                    }
                    da_src[(r * H + h) * D + d] += ds * zu;
                    da_dst[(r * H + h) * D + d] += ds * zv;
                }
            }
        }
    }
}
