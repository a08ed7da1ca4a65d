/* model.c: the network of model.h: parameter layout and initialisation, activations, the
 * forward pass, the losses, the backward pass, inference with an ensemble, and the model
 * handle with its accessors. */
#include "model/model.h"

#include "nn/gat.h"
#include "nn/head.h"
#include "nn/layers.h"
#include "core/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- layout ---------------------------------------------------------------------------------- */

static int64_t add_tensor(gfuse_i_layout *lay, int64_t count, int fan_in, int fan_out, int init,
                          int decay, const char *fmt, int index)
{
    gfuse_i_tensor *t = &lay->tensors[lay->n_tensors++];
    snprintf(t->name, sizeof t->name, fmt, index);
    t->offset = lay->total;
    t->count = count;
    t->fan_in = fan_in;
    t->fan_out = fan_out;
    t->init = init;
    t->decay = decay;
    lay->total += count;
    return t->offset;
}

gfuse_status gfuse_i_layout_init(gfuse_i_layout *lay, const gfuse_i_arch *arch)
{
    memset(lay, 0, sizeof *lay);
    int M = arch->M, L = arch->L, F = arch->F, A = arch->A, K = arch->K;
    int64_t *pool = gfuse_i_zalloc(8 * M + 3 * L + 1, sizeof *pool);
    lay->tensors = gfuse_i_zalloc(8 * M + 3 * L + 8, sizeof *lay->tensors);
    if (!pool || !lay->tensors) {
        free(pool);
        free(lay->tensors);
        lay->tensors = NULL;
        return gfuse_i_nomem("the parameter layout");
    }
    lay->enc_W = pool;
    lay->enc_b = pool + M;
    lay->enc_e = pool + 2 * M;
    lay->tok_miss = pool + 3 * M;
    lay->dec_W = pool + 4 * M;
    lay->dec_b = pool + 5 * M;
    lay->gat_W = pool + 6 * M;
    lay->att_src = pool + 6 * M + L;
    lay->att_dst = pool + 6 * M + 2 * L;
    lay->lin_W = pool + 6 * M + 3 * L;
    lay->lin_b = pool + 7 * M + 3 * L;
    int64_t rhd = (int64_t)GFUSE_I_N_REL * arch->H * arch->D;
    for (int m = 0; m < M; m++) {
        int d = (int)arch->d[m];
        lay->enc_W[m] = add_tensor(lay, (int64_t)F * d, d, F, GFUSE_I_INIT_GLOROT, 1,
                                   "encoder.%d.weight", m);
        lay->enc_b[m] = add_tensor(lay, F, F, 1, GFUSE_I_INIT_ZERO, 0, "encoder.%d.bias", m);
        lay->enc_e[m] = add_tensor(lay, F, F, 1, GFUSE_I_INIT_ZERO, 0, "encoder.%d.embedding", m);
        lay->tok_miss[m] = add_tensor(lay, F, F, 1, GFUSE_I_INIT_NORMAL, 0,
                                      "encoder.%d.missing_token", m);
    }
    lay->tok_hub = add_tensor(lay, F, F, 1, GFUSE_I_INIT_NORMAL, 0, "hub_token", 0);
    for (int l = 0; l < L; l++) {
        lay->gat_W[l] = add_tensor(lay, (int64_t)F * F, F, F, GFUSE_I_INIT_GLOROT, 1,
                                   "gat.%d.weight", l);
        lay->att_src[l] = add_tensor(lay, rhd, arch->D, 1, GFUSE_I_INIT_GLOROT, 1,
                                     "gat.%d.att_src", l);
        lay->att_dst[l] = add_tensor(lay, rhd, arch->D, 1, GFUSE_I_INIT_GLOROT, 1,
                                     "gat.%d.att_dst", l);
    }
    for (int m = 0; m < M; m++) {
        int d = (int)arch->d[m];
        lay->dec_W[m] = add_tensor(lay, (int64_t)d * (2 * M + 1) * F, (2 * M + 1) * F, d,
                                   GFUSE_I_INIT_GLOROT, 1,
                                   "decoder.%d.weight", m);
        lay->dec_b[m] = add_tensor(lay, d, d, 1, GFUSE_I_INIT_ZERO, 0, "decoder.%d.bias", m);
    }
    lay->fus_U = add_tensor(lay, (int64_t)A * F, F, A, GFUSE_I_INIT_GLOROT, 1,
                            "fusion.proj.weight", 0);
    lay->fus_c = add_tensor(lay, A, A, 1, GFUSE_I_INIT_ZERO, 0, "fusion.proj.bias", 0);
    lay->fus_w = add_tensor(lay, A, A, 1, GFUSE_I_INIT_GLOROT, 1, "fusion.score", 0);
    lay->head_W1 = add_tensor(lay, (int64_t)F * F, F, F, GFUSE_I_INIT_GLOROT, 1,
                              "head.0.weight", 0);
    lay->head_b1 = add_tensor(lay, F, F, 1, GFUSE_I_INIT_ZERO, 0, "head.0.bias", 0);
    lay->head_W2 = add_tensor(lay, (int64_t)K * F, F, K, GFUSE_I_INIT_GLOROT, 1,
                              "head.1.weight", 0);
    lay->head_b2 = add_tensor(lay, K, K, 1, GFUSE_I_INIT_ZERO, 0, "head.1.bias", 0);
    /* the linear path starts at zero (a convex problem) and is penalised by linear_l2 in the
     * loss rather than decayed */
    for (int m = 0; m < M; m++) {
        int d = (int)arch->d[m];
        lay->lin_W[m] = add_tensor(lay, (int64_t)K * d, d, K, GFUSE_I_INIT_ZERO, 0,
                                   "linear.%d.weight", m);
        lay->lin_b[m] = add_tensor(lay, K, K, 1, GFUSE_I_INIT_ZERO, 0, "linear.%d.bias", m);
    }
    return GFUSE_OK;
}

void gfuse_i_layout_free(gfuse_i_layout *lay)
{
    free(lay->enc_W); /* the pool of every offset array */
    free(lay->tensors);
    memset(lay, 0, sizeof *lay);
}

void gfuse_i_arch_free(gfuse_i_arch *arch)
{
    free(arch->d);
    arch->d = NULL;
}

/* Standard deviation of the learned tokens at initialisation: small, so that missing nodes
 * and hubs start near the origin but differ between modalities. */
#define TOKEN_INIT_SD 0.1

void gfuse_i_params_init(float *params, const gfuse_i_layout *lay, gfuse_i_rng *rng)
{
    for (int t = 0; t < lay->n_tensors; t++) {
        const gfuse_i_tensor *ts = &lay->tensors[t];
        float *p = params + ts->offset;
        double limit = sqrt(6.0 / (double)(ts->fan_in + ts->fan_out));
        for (int64_t j = 0; j < ts->count; j++) {
            switch (ts->init) {
            case GFUSE_I_INIT_GLOROT:
                p[j] = (float)((2.0 * gfuse_i_rng_uniform(rng) - 1.0) * limit);
                break;
            case GFUSE_I_INIT_NORMAL:
                p[j] = (float)(TOKEN_INIT_SD * gfuse_i_rng_normal(rng));
                break;
            default:
                p[j] = 0.0f;
            }
        }
    }
}

/* ---- activations ------------------------------------------------------------------------------- */

/* The activations live in one zeroed block carved by a sizes table, as llm.c carves its
 * activations: each piece names the pointer it is handed to, its element count and element
 * size; the table is filled once, summed, and the block allocated and handed out in table order.
 * A piece may go to an entry of a pointer table (the per-modality and per-layer arrays) that an
 * earlier piece of the table carved. A pass allocates nothing: it writes into these arrays, and
 * the parameter gradients it accumulates into are one array the caller zeroes with one memset. */
typedef struct {
    void *field;  /* the address of the pointer to set; with slot >= 0 of a pointer table */
    int slot;     /* -1, or the entry of the table *field that receives the piece */
    size_t count, size;
} acts_piece;

typedef struct {
    acts_piece *p;
    size_t n, cap;
    int nomem;
} acts_sizes;

/* Pointers are stored and read as bytes (any object pointer has the representation of void *
 * on the platforms gfuse builds on), so one table serves every element type. */
_Static_assert(sizeof(float *) == sizeof(void *) && sizeof(int64_t *) == sizeof(void *) &&
                   sizeof(float **) == sizeof(void *),
               "object pointers of one size");

static void piece(acts_sizes *t, void *field, int slot, size_t count, size_t size)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        acts_piece *p = gfuse_i_realloc(t->p, cap, sizeof *p);
        if (!p) {
            t->nomem = 1;
            return;
        }
        t->p = p;
        t->cap = cap;
    }
    t->p[t->n++] = (acts_piece){.field = field, .slot = slot, .count = count, .size = size};
}

#define ARENA_ALIGN 64 /* a cache line: no two arrays share one, and vector loads align */

/* The bytes of the pieces, each starting on an ARENA_ALIGN boundary; with base, the pieces are
 * handed out of base too. */
static size_t carve(const acts_sizes *t, char *base)
{
    size_t used = 0;
    for (size_t k = 0; k < t->n; k++) {
        const acts_piece *pc = &t->p[k];
        size_t off = (used + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
        used = off + pc->count * pc->size;
        if (!base) continue;
        void *ptr = base + off;
        char *dst = pc->field;
        if (pc->slot >= 0) {
            char *table;
            memcpy(&table, pc->field, sizeof table);
            dst = table + (size_t)pc->slot * sizeof(void *);
        }
        memcpy(dst, &ptr, sizeof ptr);
    }
    return used;
}

/* A head's own arrays (own_drop: its dropped activation too; the others live in the
 * backward pass's arrays, see share_arrays). */
static void head_sizes(acts_sizes *t, gfuse_i_head *hd, int64_t B, int F, int K, int own_drop)
{
    size_t bf = (size_t)(B * F), bk = (size_t)(B * K), fl = sizeof(float);
    hd->B = B;
    piece(t, &hd->in_mask, -1, bf, 1);
    piece(t, &hd->pre, -1, bf, fl);
    if (own_drop) piece(t, &hd->drop, -1, bf, fl);
    piece(t, &hd->mask, -1, bf, 1);
    piece(t, &hd->logits, -1, bk, fl);
    piece(t, &hd->probs, -1, bk, fl);
    piece(t, &hd->dlogits, -1, bk, fl);
    piece(t, &hd->cl, -1, bk, fl);
    piece(t, &hd->cp, -1, bk, fl);
}

/* Arrays that live in others, each used only while the other is idle. The V x F arrays dh,
 * dh_prev, dtmp1 and dtmp2 of the backward pass are idle in the forward pass, and the
 * backward pass (gfuse_i_model_backward) runs: 1. the fused head (reading its in_drop, scratch
 * d1 and d2), 2. the fusion (into dh, zeroed first), 3. the per-node head (reading its drop and
 * in_drop, scratch d1 and d2), 4. the decoders (into dh), 5. the layers (dh, dh_prev, dtmp1,
 * dtmp2; z refilled with the layer's dropped input), 6. the encoders (modality by modality:
 * scratch denc_act and denc_pre, xdrop refilled). So:
 *   forward:  enc_act = dtmp2 (one modality at a time), hdrop = dtmp1 (the layers, one at a
 *             time), fh.in_drop = dh, nh.drop = dtmp2, nh.in_drop = dh_prev (after the layers);
 *   backward: fh.d1, fh.d2 = the first two N x F blocks of dtmp1 (step 1: nh.drop in dtmp2
 *             and nh.in_drop in dh_prev stay), nh.d1 = dtmp1, nh.d2 = dtmp2 (step 3: d2 is
 *             first written after drop is read), denc_act = dtmp1, denc_pre = dtmp2 (step 6);
 *   xdrop: one array every modality shares, filled again in step 6;
 *   a head's act is its drop (the dropout runs in place; the backward pass reads neither).
 * The backward pass leaves dh and dh_prev as it found them (it swaps them per layer). */
static void share_arrays(gfuse_i_acts *a, const gfuse_i_arch *arch)
{
    int64_t NF = a->N * arch->F;
    for (int m = 0; m < arch->M; m++) {
        a->xdrop[m] = a->xdrop[0];
        a->enc_act[m] = a->dtmp2;
        a->denc_act[m] = a->dtmp1;
        a->denc_pre[m] = a->dtmp2;
    }
    for (int l = 0; l < arch->L; l++) a->hdrop[l] = a->dtmp1;
    a->fh.in_drop = a->dh;
    a->fh.act = a->fh.drop;
    a->fh.d1 = a->dtmp1;
    a->fh.d2 = a->dtmp1 + NF;
    a->nh.in_drop = a->dh_prev;
    a->nh.drop = a->nh.act = a->dtmp2;
    a->nh.d1 = a->dtmp1;
    a->nh.d2 = a->dtmp2;
}

/* A pointer table of n entries, then a piece of count elements for each entry. */
static void table_sizes(acts_sizes *t, void *table, int n, size_t count, size_t size)
{
    piece(t, table, -1, (size_t)n, sizeof(void *));
    for (int k = 0; k < n; k++) piece(t, table, k, count, size);
}

/* The sizes table of the activations (and their scalar fields). */
static void acts_sizes_fill(acts_sizes *t, gfuse_i_acts *a, const gfuse_i_arch *arch, int64_t N,
                            int64_t E_cap, int64_t gat_work, int64_t dec_rows)
{
    int M = arch->M, L = arch->L, F = arch->F, K = arch->K, A = arch->A;
    int64_t V = N * (M + 1);
    size_t vf = (size_t)(V * F), nf = (size_t)(N * F), fl = sizeof(float), i64 = sizeof(int64_t);
    size_t un = (size_t)N, um = (size_t)M;
    a->N = N;
    a->V = V;
    a->E_cap = E_cap;
    piece(t, &a->n_obs, -1, um, i64);
    piece(t, &a->n_miss, -1, um, i64);
    piece(t, &a->rec_n, -1, um, i64);
    piece(t, &a->loss_n, -1, um, i64);
    piece(t, &a->rec_used, -1, um, sizeof(int));
    int64_t ***itabs[] = {&a->obs_rows, &a->obs_nodes, &a->miss_nodes, &a->rec_rows,
                          &a->obs_pos,  &a->loss_rows, &a->loss_pos};
    for (size_t k = 0; k < sizeof itabs / sizeof itabs[0]; k++)
        table_sizes(t, itabs[k], M, un, i64);
    piece(t, &a->xin, -1, um, sizeof(float *));
    piece(t, &a->xdrop, -1, um, sizeof(float *));
    int64_t d_max = 0;
    for (int m = 0; m < M; m++) {
        size_t nd = (size_t)(N * arch->d[m]);
        piece(t, &a->xin, m, nd, fl);
        if (arch->d[m] > d_max) d_max = arch->d[m];
    }
    piece(t, &a->xdrop, 0, (size_t)(N * d_max), fl); /* every modality's (share_arrays) */
    /* N x F per modality: encodings, their gradients, the decoders' gradient into them */
    float ***nftabs[] = {&a->enc_pre, &a->ddec_enc};
    for (size_t k = 0; k < sizeof nftabs / sizeof nftabs[0]; k++)
        table_sizes(t, nftabs[k], M, nf, fl);
    /* enc_act, denc_act, denc_pre: share_arrays */
    piece(t, &a->enc_act, -1, um, sizeof(float *));
    piece(t, &a->denc_act, -1, um, sizeof(float *));
    piece(t, &a->denc_pre, -1, um, sizeof(float *));
    a->dec_cap = dec_rows;
    piece(t, &a->rec, -1, um, sizeof(float *));
    piece(t, &a->drec, -1, um, sizeof(float *));
    for (int m = 0; m < M; m++) {
        size_t nd = (size_t)(dec_rows * arch->d[m]);
        piece(t, &a->rec, m, nd, fl);
        piece(t, &a->drec, m, nd, fl);
    }
    size_t uf = (size_t)(dec_rows * F) * (size_t)(2 * M + 1);
    piece(t, &a->dec_in, -1, uf, fl);
    piece(t, &a->ddec_in, -1, uf, fl);
    table_sizes(t, &a->h, L + 1, vf, fl);
    size_t vrh = (size_t)(V * GFUSE_I_N_REL * arch->H);
    /* hdrop is dtmp1 (share_arrays) */
    piece(t, &a->hdrop, -1, (size_t)L, sizeof(void *));
    void *ltabs[] = {&a->z, &a->gout, &a->alpha, &a->s_src, &a->s_dst};
    size_t lcount[] = {vf, vf, (size_t)(E_cap * arch->H), vrh, vrh};
    size_t lsize[] = {fl, fl, fl, fl, fl};
    for (size_t k = 0; k < sizeof ltabs / sizeof ltabs[0]; k++)
        piece(t, ltabs[k], -1, (size_t)L, sizeof(void *));
    for (int l = 0; l < L; l++)
        for (size_t k = 0; k < sizeof ltabs / sizeof ltabs[0]; k++)
            piece(t, ltabs[k], l, lcount[k], lsize[k]);
    piece(t, &a->hub_nodes, -1, un, i64);
    piece(t, &a->fused, -1, nf, fl);
    piece(t, &a->fweights, -1, (size_t)V, fl);
    piece(t, &a->fproj, -1, (size_t)(V * A), fl);
    piece(t, &a->fscore, -1, (size_t)V, fl);
    head_sizes(t, &a->fh, N, F, K, 1);
    head_sizes(t, &a->nh, V, F, K, 0);
    piece(t, &a->node_label, -1, (size_t)V, sizeof(int32_t));
    piece(t, &a->node_target, -1, (size_t)V, fl);
    piece(t, &a->node_rows, -1, (size_t)V, i64);
    piece(t, &a->head_nodes, -1, (size_t)V, i64);
    piece(t, &a->last_nodes, -1, (size_t)V, i64);
    table_sizes(t, &a->need, L, (size_t)V, i64);
    piece(t, &a->n_need, -1, (size_t)L, i64);
    piece(t, &a->need_mark, -1, (size_t)V, 1);
    piece(t, &a->lin_logits, -1, (size_t)(V * K), fl);
    piece(t, &a->lin_probs, -1, (size_t)(V * K), fl);
    piece(t, &a->dlin, -1, (size_t)(V * K), fl);
    piece(t, &a->lin_tmp, -1, (size_t)(N * K), fl);
    piece(t, &a->out, -1, (size_t)(N * K), fl);
    piece(t, &a->dfused, -1, nf, fl);
    piece(t, &a->dh, -1, vf, fl);
    piece(t, &a->dh_prev, -1, vf, fl);
    piece(t, &a->dtmp1, -1, vf, fl);
    piece(t, &a->dtmp2, -1, vf, fl);
    int64_t fusion_work = V * (A + 1);
    a->work_cap = gat_work > fusion_work ? gat_work : fusion_work;
    piece(t, &a->work, -1, (size_t)a->work_cap, fl);
}

gfuse_status gfuse_i_acts_alloc(gfuse_i_acts *a, const gfuse_i_arch *arch, int64_t N,
                                int64_t E_cap, int64_t gat_work, int64_t dec_rows)
{
    memset(a, 0, sizeof *a);
    if (dec_rows > N) dec_rows = N;
    if (dec_rows < 1) dec_rows = 1;
    acts_sizes t = {.p = NULL};
    acts_sizes_fill(&t, a, arch, N, E_cap, gat_work, dec_rows);
    size_t bytes = carve(&t, NULL);
    char *base = t.nomem ? NULL : gfuse_i_zalloc(bytes, 1);
    if (!base) {
        free(t.p);
        return gfuse_i_error(GFUSE_ERR_NOMEM,
                             "out of memory for the model's activations (%.1f MB)",
                             (double)bytes / 1e6);
    }
    carve(&t, base);
    free(t.p);
    a->arena = base;
    a->arena_bytes = bytes;
    for (int64_t i = 0; i < N; i++) a->hub_nodes[i] = (int64_t)arch->M * N + i;
    share_arrays(a, arch);
    return GFUSE_OK;
}

void gfuse_i_acts_free(gfuse_i_acts *a, const gfuse_i_arch *arch)
{
    (void)arch;
    free(a->arena);
    memset(a, 0, sizeof *a);
}

/* ---- forward ------------------------------------------------------------------------------------ */

/* Fills a->dec_in with the decoder input of modality m's decoder rows (every sample with
 * GFUSE_I_DEC_ALL, which all the decoders share), unless it holds them already. */
static void gather_decoder_input(gfuse_i_acts *a, const gfuse_i_arch *arch, int m)
{
    int M = arch->M;
    int want = a->dec_mode == GFUSE_I_DEC_ALL ? M : m;
    if (a->dec_in_of == want) return;
    gfuse_i_decoder_input_forward(a->dec_in, a->h[arch->L], (const float *const *)a->enc_pre,
                                  (const int64_t *const *)a->obs_pos,
                                  want == M ? NULL : a->rec_rows[m],
                                  want == M ? a->N : a->rec_n[m], a->N, M, arch->F);
    a->dec_in_of = want;
}

/* Dropout seeds of one step: an independent stream per place in the network. */
enum { SEED_INPUT = 1, SEED_NODE = 1 << 8, SEED_ATTN = 2 << 8, SEED_FUSED = 3 << 8,
       SEED_HIDDEN = 4 << 8, SEED_NODE_HEAD = 5 << 8, SEED_NODE_HIDDEN = 6 << 8 };

static uint64_t sub_seed(uint64_t seed, uint64_t tag)
{
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (tag + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static float pass_p(const gfuse_i_pass *pass, float p) { return pass->training ? p : 0.0f; }

/* The observed modality nodes of the samples rows[s], s < n, sample by sample and modality by
 * modality, into out; returns how many. The per-node head runs on them and the per-node loss
 * reads them. */
static int64_t observed_nodes(int64_t *out, const struct gfuse_graph *g, const int64_t *rows,
                              int64_t n, int64_t N, int M)
{
    int64_t c = 0;
    for (int64_t s = 0; s < n; s++)
        for (int m = 0; m < M; m++) {
            int64_t v = (int64_t)m * N + rows[s];
            if (g->observed[v]) out[c++] = v;
        }
    return c;
}

/* A layer's projection runs on its needed rows alone (gathered, then scattered back) when
 * they are at most this share of the nodes; above it the copies cost more than they save. */
#define NEED_PART_NUM 7
#define NEED_PART_DEN 8

/* The need lists of an evaluation pass for the samples rows (a->last_nodes, a->n_last: their
 * nodes; a->need[l]: need[l + 1] and the sources of its nodes' in-edges, ascending).
 * a->need_mark is left marking need[0]. */
static void need_lists(gfuse_i_acts *a, const struct gfuse_graph *g, const int64_t *rows,
                       int64_t n_rows, int64_t N, int M, int L)
{
    int64_t V = a->V;
    a->n_last = 0;
    for (int64_t s = 0; s < n_rows; s++)
        for (int j = 0; j <= M; j++) a->last_nodes[a->n_last++] = (int64_t)j * N + rows[s];
    const int64_t *dst = a->last_nodes;
    int64_t n_dst = a->n_last;
    for (int l = L - 1; l >= 0; l--) {
        uint8_t *mark = a->need_mark;
        memset(mark, 0, (size_t)V);
        for (int64_t t = 0; t < n_dst; t++) {
            int64_t v = dst[t];
            mark[v] = 1;
            for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++) mark[g->in_src[e]] = 1;
        }
        int64_t n = 0;
        for (int64_t v = 0; v < V; v++)
            if (mark[v]) a->need[l][n++] = v;
        a->n_need[l] = n;
        dst = a->need[l];
        n_dst = n;
    }
}

/* z at the nodes S[s] (ascending, n of them) = h at those nodes times W^T, through scratch
 * (n x F): the rows are gathered, multiplied, and the products moved from the front of z to
 * their nodes back to front (node S[s] >= s, so no product is overwritten before it moves). */
static void project_rows(float *z, const float *h, float *scratch, const float *W,
                         const int64_t *S, int64_t n, int F)
{
    for (int64_t s = 0; s < n; s++)
        memcpy(scratch + s * F, h + S[s] * F, (size_t)F * sizeof(float));
    gfuse_i_linear_forward(z, scratch, W, NULL, n, F, F);
    for (int64_t s = n - 1; s >= 0; s--)
        if (S[s] != s) memcpy(z + S[s] * F, z + s * F, (size_t)F * sizeof(float));
}

void gfuse_i_model_forward(gfuse_i_acts *a, const gfuse_i_arch *arch, const gfuse_i_layout *lay,
                           const float *P, const struct gfuse_graph *g, const gfuse_i_data *data,
                           const gfuse_i_pass *pass)
{
    int M = arch->M, L = arch->L, F = arch->F, H = arch->H, D = arch->D, K = arch->K;
    int64_t N = data->n, V = a->V;
    float p_in = pass_p(pass, pass->input_dropout), p = pass_p(pass, pass->dropout);
    float p_att = pass_p(pass, pass->attn_dropout);

    /* An evaluation pass for some samples (the decoders do not run, the heads run on those
     * samples) reads the node states only where they reach those samples' nodes: the last
     * layer runs at their nodes, each layer below at the nodes the one above reads (the need
     * lists), the encoders at the observed nodes among need[0]. The other rows keep what the
     * pass before left (the arena starts at zero) and are not read. */
    const int part = !pass->training && pass->rows && pass->decoders == GFUSE_I_DEC_NONE;
    if (part) need_lists(a, g, pass->rows, pass->n_rows, N, M, L);

    /* encoders: observed nodes get ELU(W x + b) + e_m, missing ones the token t_m */
    for (int m = 0; m < M; m++) {
        int64_t d = arch->d[m], no = 0, nmiss = 0;
        for (int64_t i = 0; i < N; i++) {
            int64_t v = (int64_t)m * N + i;
            if (g->observed[v] && (!part || a->need_mark[v])) {
                a->obs_rows[m][no] = i;
                a->obs_nodes[m][no++] = v;
            } else if (!g->observed[v]) {
                a->miss_nodes[m][nmiss++] = v;
            }
        }
        a->n_obs[m] = no;
        a->n_miss[m] = nmiss;
        for (int64_t i = 0; i < N; i++) a->obs_pos[m][i] = -1;
        for (int64_t s = 0; s < no; s++) a->obs_pos[m][a->obs_rows[m][s]] = s;
        gfuse_i_gather_rows_finite(a->xin[m], data->x[m], a->obs_rows[m], no, d);
        gfuse_i_dropout_forward(a->xdrop[m], NULL, a->xin[m], p_in,
                                sub_seed(pass->seed, SEED_INPUT + (uint64_t)m), no * d);
        gfuse_i_linear_forward(a->enc_pre[m], a->xdrop[m], P + lay->enc_W[m], P + lay->enc_b[m],
                               no, (int)d, F);
        gfuse_i_elu_forward(a->enc_act[m], a->enc_pre[m], no * F);
        gfuse_i_place_rows_forward(a->h[0], a->enc_act[m], P + lay->enc_e[m], a->obs_nodes[m],
                                   no, F);
        gfuse_i_place_rows_forward(a->h[0], NULL, P + lay->tok_miss[m], a->miss_nodes[m], nmiss,
                                   F);
    }
    gfuse_i_place_rows_forward(a->h[0], NULL, P + lay->tok_hub, a->hub_nodes, N, F);

    /* attention layers with residual connections */
    for (int l = 0; l < L; l++) {
        const int64_t *dst = !part ? NULL : l == L - 1 ? a->last_nodes : a->need[l + 1];
        const int64_t n_dst = !part ? V : l == L - 1 ? a->n_last : a->n_need[l + 1];
        if (part && a->n_need[l] * NEED_PART_DEN <= V * NEED_PART_NUM) {
            project_rows(a->z[l], a->h[l], a->hdrop[l], P + lay->gat_W[l], a->need[l],
                         a->n_need[l], F);
        } else {
            gfuse_i_dropout_forward(a->hdrop[l], NULL, a->h[l], p,
                                    sub_seed(pass->seed, SEED_NODE + (uint64_t)l), V * F);
            gfuse_i_linear_forward(a->z[l], a->hdrop[l], P + lay->gat_W[l], NULL, V, F, F);
        }
        gfuse_i_gat_forward_rows(a->gout[l], a->alpha[l], a->s_src[l], a->s_dst[l], a->z[l],
                                 P + lay->att_src[l], P + lay->att_dst[l], NULL, g, H, D, p_att,
                                 sub_seed(pass->seed, SEED_ATTN + (uint64_t)l), dst, n_dst);
        if (!dst) {
            gfuse_i_elu_forward(a->h[l + 1], a->gout[l], V * F);
            gfuse_i_add_forward(a->h[l + 1], a->h[l + 1], a->h[l], V * F);
            continue;
        }
        gfuse_i_elu_add_rows(a->h[l + 1], a->gout[l], a->h[l], dst, n_dst, F);
    }
    const float *hL = a->h[L];

    /* completion decoders, each reading all the nodes of the sample, on the rows the pass
     * needs */
    a->dec_mode = pass->decoders;
    a->dec_in_of = -1;
    for (int m = 0; m < M; m++) {
        int64_t S = 0;
        if (pass->decoders == GFUSE_I_DEC_ALL) {
            for (int64_t i = 0; i < N; i++) a->rec_rows[m][S++] = i;
        } else if (pass->decoders == GFUSE_I_DEC_HIDDEN) {
            for (int64_t i = 0; i < N; i++) {
                int64_t v = (int64_t)m * N + i;
                if (data->has[v] && !g->observed[v]) a->rec_rows[m][S++] = i;
            }
        }
        a->rec_n[m] = S;
        if (S == 0) continue;
        if (S > a->dec_cap) abort(); /* the activations were sized for fewer decoder rows */
        gather_decoder_input(a, arch, m);
        gfuse_i_linear_forward(a->rec[m], a->dec_in, P + lay->dec_W[m], P + lay->dec_b[m], S,
                               (2 * M + 1) * F, (int)arch->d[m]);
    }

    /* fusion over the observed modality nodes and the hub, then the head */
    if (part) /* the fusion at those samples (dtmp1, the layers' scratch, is idle now) */
        gfuse_i_fusion_forward_rows(a->fused, a->fweights, a->fproj, a->fscore, a->dtmp1, hL,
                                    g->observed, P + lay->fus_U, P + lay->fus_c, P + lay->fus_w,
                                    N, M, F, arch->A, pass->rows, pass->n_rows);
    else
        gfuse_i_fusion_forward(a->fused, a->fweights, a->fproj, a->fscore, hL, g->observed,
                               P + lay->fus_U, P + lay->fus_c, P + lay->fus_w, N, M, F, arch->A);
    a->head_rows = pass->rows;
    a->n_head_rows = pass->rows ? pass->n_rows : N;
    gfuse_i_head_forward(&a->fh, a->fused, a->head_rows, P + lay->head_W1, P + lay->head_b1,
                         P + lay->head_W2, P + lay->head_b2, a->n_head_rows, F, K, p,
                         sub_seed(pass->seed, SEED_FUSED), sub_seed(pass->seed, SEED_HIDDEN));
    /* the nodes the per-node loss and vote read: the samples' observed modality nodes */
    a->n_head_nodes = pass->node_head && pass->rows
                          ? observed_nodes(a->head_nodes, g, pass->rows, pass->n_rows, N, M)
                          : V;
    if (pass->node_head)
        gfuse_i_head_forward(&a->nh, hL, pass->rows ? a->head_nodes : NULL, P + lay->head_W1,
                             P + lay->head_b1, P + lay->head_W2, P + lay->head_b2,
                             a->n_head_nodes, F, K, p, sub_seed(pass->seed, SEED_NODE_HEAD),
                             sub_seed(pass->seed, SEED_NODE_HIDDEN));

    /* the linear path: one linear model per modality on the standardised features (no
     * dropout), at the rows of the observed modality nodes */
    if (pass->linear) {
        double sq = 0.0;
        for (int m = 0; m < M; m++) {
            int64_t no = a->n_obs[m], d = arch->d[m];
            const float *W = P + lay->lin_W[m];
            for (int64_t j = 0; j < K * d; j++) sq += (double)W[j] * W[j];
            if (no == 0) continue;
            gfuse_i_linear_forward(a->lin_tmp, a->xin[m], W, P + lay->lin_b[m], no, (int)d, K);
            for (int64_t s = 0; s < no; s++)
                memcpy(a->lin_logits + a->obs_nodes[m][s] * K, a->lin_tmp + s * K,
                       (size_t)K * sizeof(float));
        }
        a->lin_sq = sq;
        if (K > 1)
            gfuse_i_softmax_forward(a->lin_probs, a->lin_logits, V, K);
        else
            memcpy(a->lin_probs, a->lin_logits, (size_t)V * sizeof(float));
    }
}

/* ---- losses ------------------------------------------------------------------------------------- */

static double task_loss_rows(const gfuse_i_acts *a, const gfuse_i_arch *arch,
                             const gfuse_i_loss_spec *spec, const int64_t *rows, int64_t n_rows)
{
    if (spec->task == GFUSE_TASK_REGRESS)
        return gfuse_i_mse_forward(a->fh.logits, spec->target, rows, n_rows);
    return gfuse_i_xent_forward(a->fh.probs, spec->label, rows, n_rows, spec->class_w, arch->K);
}

double gfuse_i_task_loss(const gfuse_i_acts *a, const gfuse_i_arch *arch,
                         const gfuse_i_loss_spec *spec, const int64_t *rows, int64_t n_rows)
{
    if (spec->task == GFUSE_TASK_REGRESS)
        return gfuse_i_mse_forward(a->out, spec->target, rows, n_rows);
    return gfuse_i_xent_forward(a->out, spec->label, rows, n_rows, spec->class_w, arch->K);
}

/* out = (1 - w) out + w (mean of per_node over the sample's observed modality nodes), for
 * every sample rows[s] (rows NULL: every sample i < n) with an observed modality. */
static void mix_node_mean(float *out, const float *per_node, const struct gfuse_graph *g,
                          const int64_t *rows, int64_t n, int64_t N, int K, int M, float w)
{
#pragma omp parallel for schedule(static) if (n * (int64_t)K * M > 65536)
    for (int64_t s = 0; s < n; s++) {
        const int64_t i = rows ? rows[s] : s;
        float *o = out + i * K;
        int n_obs = 0;
        for (int m = 0; m < M; m++) n_obs += g->observed[(int64_t)m * N + i];
        if (n_obs == 0) continue;
        for (int k = 0; k < K; k++) {
            float sum = 0.0f;
            for (int m = 0; m < M; m++) {
                int64_t v = (int64_t)m * N + i;
                if (g->observed[v]) sum += per_node[v * K + k];
            }
            o[k] = (1.0f - w) * o[k] + w * sum / (float)n_obs;
        }
    }
}

void gfuse_i_model_output_rows(gfuse_i_acts *a, const gfuse_i_arch *arch,
                               const struct gfuse_graph *g, float vote, float linear_mix,
                               const int64_t *rows, int64_t n_rows)
{
    int64_t N = a->N;
    int K = arch->K, M = arch->M;
    if (rows)
        for (int64_t s = 0; s < n_rows; s++)
            memcpy(a->out + rows[s] * K, a->fh.probs + rows[s] * K, (size_t)K * sizeof(float));
    else
        memcpy(a->out, a->fh.probs, (size_t)(N * K) * sizeof(float));
    if (vote > 0.0f) mix_node_mean(a->out, a->nh.probs, g, rows, n_rows, N, K, M, vote);
    if (linear_mix > 0.0f)
        mix_node_mean(a->out, a->lin_probs, g, rows, n_rows, N, K, M, linear_mix);
}

void gfuse_i_model_output(gfuse_i_acts *a, const gfuse_i_arch *arch, const struct gfuse_graph *g,
                          float vote, float linear_mix)
{
    gfuse_i_model_output_rows(a, arch, g, vote, linear_mix, NULL, a->N);
}

gfuse_i_loss_value gfuse_i_model_loss(gfuse_i_acts *a, const gfuse_i_arch *arch,
                                      const struct gfuse_graph *g, const gfuse_i_data *data,
                                      const gfuse_i_loss_spec *spec)
{
    gfuse_i_loss_value lv = {.total = 0.0};
    int64_t N = a->N;
    int K = arch->K;
    memset(a->fh.dlogits, 0, (size_t)(N * K) * sizeof(float));
    lv.task = task_loss_rows(a, arch, spec, spec->rows, spec->n_rows);
    if (spec->task == GFUSE_TASK_REGRESS)
        gfuse_i_mse_backward(a->fh.dlogits, a->fh.logits, spec->target, spec->rows, spec->n_rows,
                             1.0f);
    else
        gfuse_i_xent_backward(a->fh.dlogits, a->fh.probs, spec->label, spec->rows, spec->n_rows,
                              spec->class_w, K, 1.0f);

    /* per-node loss and the linear path's loss: the observed modality nodes of the training
     * samples, each on its own */
    int64_t n_node = 0;
    if (spec->lambda_node > 0.0f || spec->lambda_lin > 0.0f) {
        n_node = observed_nodes(a->node_rows, g, spec->rows, spec->n_rows, N, arch->M);
        for (int64_t c = 0; c < n_node; c++) {
            int64_t v = a->node_rows[c], i = v % N;
            a->node_label[v] = spec->label ? spec->label[i] : -1;
            a->node_target[v] = spec->target ? spec->target[i] : NAN;
        }
    }
    if (spec->lambda_node > 0.0f) {
        gfuse_i_zero(a->nh.dlogits, a->V * K);
        if (spec->task == GFUSE_TASK_REGRESS) {
            lv.node = gfuse_i_mse_forward(a->nh.logits, a->node_target, a->node_rows, n_node);
            gfuse_i_mse_backward(a->nh.dlogits, a->nh.logits, a->node_target, a->node_rows, n_node,
                                 spec->lambda_node);
        } else {
            lv.node = gfuse_i_xent_forward(a->nh.probs, a->node_label, a->node_rows, n_node,
                                           spec->class_w, K);
            gfuse_i_xent_backward(a->nh.dlogits, a->nh.probs, a->node_label, a->node_rows, n_node,
                                  spec->class_w, K, spec->lambda_node);
        }
    }
    a->lin_used = spec->lambda_lin > 0.0f;
    a->lin_l2 = a->lin_used ? spec->linear_l2 : 0.0f;
    double lin_pen = 0.0;
    if (a->lin_used) {
        gfuse_i_zero(a->dlin, a->V * K);
        if (spec->task == GFUSE_TASK_REGRESS) {
            lv.lin = gfuse_i_mse_forward(a->lin_logits, a->node_target, a->node_rows, n_node);
            gfuse_i_mse_backward(a->dlin, a->lin_logits, a->node_target, a->node_rows, n_node,
                                 spec->lambda_lin);
        } else {
            lv.lin = gfuse_i_xent_forward(a->lin_probs, a->node_label, a->node_rows, n_node,
                                          spec->class_w, K);
            gfuse_i_xent_backward(a->dlin, a->lin_probs, a->node_label, a->node_rows, n_node,
                                  spec->class_w, K, spec->lambda_lin);
        }
        lin_pen = 0.5 * (double)a->lin_l2 * a->lin_sq;
    }

    /* reconstruction of the nodes the graph hides although the sample has them */
    int n_used = 0;
    double rec_sum = 0.0;
    for (int m = 0; m < arch->M; m++) {
        a->rec_used[m] = 0;
        if (spec->lambda_rec <= 0.0f) continue;
        /* the hidden rows among the rows the decoders ran on */
        int64_t S = 0;
        for (int64_t s = 0; s < a->rec_n[m]; s++) {
            int64_t i = a->rec_rows[m][s], v = (int64_t)m * N + i;
            if (!data->has[v] || g->observed[v]) continue;
            a->loss_rows[m][S] = i;
            a->loss_pos[m][S++] = s;
        }
        a->loss_n[m] = S;
        if (S == 0) continue;
        int64_t count = 0;
        double r = gfuse_i_recon_forward(a->rec[m], data->x[m], a->loss_pos[m], a->loss_rows[m],
                                         S, (int)arch->d[m], &count);
        if (count == 0) continue;
        a->rec_used[m] = 1;
        rec_sum += r;
        n_used++;
    }
    for (int m = 0; m < arch->M; m++) {
        if (!a->rec_used[m]) continue;
        memset(a->drec[m], 0, (size_t)(a->rec_n[m] * arch->d[m]) * sizeof(float));
        gfuse_i_recon_backward(a->drec[m], a->rec[m], data->x[m], a->loss_pos[m],
                               a->loss_rows[m], a->loss_n[m], (int)arch->d[m],
                               spec->lambda_rec / (float)n_used);
    }
    lv.rec = n_used > 0 ? rec_sum / n_used : 0.0;
    lv.total = lv.task + (double)spec->lambda_rec * lv.rec + (double)spec->lambda_node * lv.node +
               (double)spec->lambda_lin * lv.lin + lin_pen;
    return lv;
}

/* ---- backward ----------------------------------------------------------------------------------- */


void gfuse_i_model_backward(float *G, gfuse_i_acts *a, const gfuse_i_arch *arch,
                            const gfuse_i_layout *lay, const float *P,
                            const struct gfuse_graph *g, const gfuse_i_data *data,
                            const gfuse_i_pass *pass)
{
    int M = arch->M, L = arch->L, F = arch->F, H = arch->H, D = arch->D, K = arch->K;
    int64_t N = a->N, V = a->V;
    float p_in = pass_p(pass, pass->input_dropout), p = pass_p(pass, pass->dropout);
    float p_att = pass_p(pass, pass->attn_dropout);

    /* the head on the fused vectors */
    gfuse_i_zero(a->dfused, N * F);
    gfuse_i_head_backward(a->dfused, G + lay->head_W1, G + lay->head_b1, G + lay->head_W2,
                          G + lay->head_b2, &a->fh, a->fh.dlogits, a->head_rows,
                          P + lay->head_W1, P + lay->head_W2, a->n_head_rows, F, K, p);

    /* fusion and decoders both read h_L */
    const float *hL = a->h[L];
    gfuse_i_zero(a->dh, V * F);
    gfuse_i_fusion_backward(a->dh, G + lay->fus_U, G + lay->fus_c, G + lay->fus_w, a->work,
                            a->dfused, a->fweights, a->fproj, hL, g->observed, P + lay->fus_U,
                            P + lay->fus_w, N, M, F, arch->A);
    if (pass->node_head)
        gfuse_i_head_backward(a->dh, G + lay->head_W1, G + lay->head_b1, G + lay->head_W2,
                              G + lay->head_b2, &a->nh, a->nh.dlogits,
                              a->head_rows ? a->head_nodes : NULL, P + lay->head_W1,
                              P + lay->head_W2, a->n_head_nodes, F, K, p);
    /* in the forward pass this was: rec_m = W_m u(i) + b_m on the decoder rows, with u(i)
     * the sample's node states and encodings side by side, so now we have: du = drec_m W_m,
     * scattered back to the nodes here and to the encoders below */
    int any_rec = 0, U = (2 * M + 1) * F;
    for (int m = 0; m < M; m++) {
        if (!a->rec_used[m]) continue;
        if (!any_rec)
            for (int m2 = 0; m2 < M; m2++) gfuse_i_zero(a->ddec_enc[m2], a->n_obs[m2] * F);
        any_rec = 1;
        int64_t S = a->rec_n[m];
        gather_decoder_input(a, arch, m);
        gfuse_i_zero(a->ddec_in, S * U);
        gfuse_i_linear_backward(a->ddec_in, G + lay->dec_W[m], G + lay->dec_b[m], a->drec[m],
                                a->dec_in, P + lay->dec_W[m], S, U, (int)arch->d[m]);
        /* each sample appears once among a modality's rows */
        gfuse_i_decoder_input_backward(a->dh, a->ddec_enc, a->ddec_in,
                                       (const int64_t *const *)a->obs_pos, a->rec_rows[m], S, N,
                                       M, F);
    }

    /* attention layers, last to first: h_{l+1} = ELU(GAT(W dropout(h_l))) + h_l */
    for (int l = L - 1; l >= 0; l--) {
        gfuse_i_copy(a->dh_prev, a->dh, V * F); /* the residual path */
        gfuse_i_zero(a->dtmp1, V * F);
        gfuse_i_elu_backward(a->dtmp1, a->dh, a->gout[l], V * F);
        gfuse_i_zero(a->dtmp2, V * F);
        gfuse_i_gat_backward(a->dtmp2, G + lay->att_src[l], G + lay->att_dst[l], a->work,
                             a->dtmp1, a->alpha[l], a->s_src[l], a->s_dst[l], a->z[l],
                             P + lay->att_src[l], P + lay->att_dst[l], NULL, g, H, D, p_att,
                             sub_seed(pass->seed, SEED_ATTN + (uint64_t)l));
        /* the dropped states again, where z_l was (the attention no longer reads it) */
        uint64_t seed = sub_seed(pass->seed, SEED_NODE + (uint64_t)l);
        gfuse_i_dropout_forward(a->z[l], NULL, a->h[l], p, seed, V * F);
        gfuse_i_zero(a->dtmp1, V * F);
        gfuse_i_linear_backward(a->dtmp1, G + lay->gat_W[l], NULL, a->dtmp2, a->z[l],
                                P + lay->gat_W[l], V, F, F);
        gfuse_i_dropout_backward_seeded(a->dh_prev, a->dtmp1, p, seed, V * F);
        float *t = a->dh;
        a->dh = a->dh_prev;
        a->dh_prev = t;
    }
    const float *dh0 = a->dh; /* the gradient of h0 */
    if (L % 2) { /* dh and dh_prev as they were (share_arrays) */
        a->dh = a->dh_prev;
        a->dh_prev = (float *)dh0;
    }

    /* h0: tokens and encoders */
    gfuse_i_place_rows_backward(NULL, G + lay->tok_hub, dh0, a->hub_nodes, N, F);
    for (int m = 0; m < M; m++) {
        int64_t no = a->n_obs[m], d = arch->d[m];
        gfuse_i_place_rows_backward(NULL, G + lay->tok_miss[m], dh0, a->miss_nodes[m],
                                    a->n_miss[m], F);
        gfuse_i_zero(a->denc_act[m], no * F);
        gfuse_i_place_rows_backward(a->denc_act[m], G + lay->enc_e[m], dh0, a->obs_nodes[m],
                                    no, F);
        gfuse_i_zero(a->denc_pre[m], no * F);
        gfuse_i_elu_backward(a->denc_pre[m], a->denc_act[m], a->enc_pre[m], no * F);
        if (any_rec) /* the decoders read enc_pre too */
            gfuse_i_add_forward(a->denc_pre[m], a->denc_pre[m], a->ddec_enc[m], no * F);
        /* the modality's dropped inputs again (the modalities share the array) */
        gfuse_i_dropout_forward(a->xdrop[m], NULL, a->xin[m], p_in,
                                sub_seed(pass->seed, SEED_INPUT + (uint64_t)m), no * d);
        gfuse_i_linear_backward(NULL, G + lay->enc_W[m], G + lay->enc_b[m], a->denc_pre[m],
                                a->xdrop[m], P + lay->enc_W[m], no, (int)d, F);
    }

    /* the linear path: lin = Wl_m x + bl_m on the observed rows, and the penalty l2/2 |Wl|^2 */
    if (a->lin_used)
        for (int m = 0; m < M; m++) {
            int64_t no = a->n_obs[m], d = arch->d[m];
            for (int64_t s = 0; s < no; s++)
                memcpy(a->lin_tmp + s * K, a->dlin + a->obs_nodes[m][s] * K,
                       (size_t)K * sizeof(float));
            if (no > 0)
                gfuse_i_linear_backward(NULL, G + lay->lin_W[m], G + lay->lin_b[m], a->lin_tmp,
                                        a->xin[m], P + lay->lin_W[m], no, (int)d, K);
            float l2 = a->lin_l2;
            float *gW = G + lay->lin_W[m];
            const float *W = P + lay->lin_W[m];
            if (l2 > 0.0f)
                for (int64_t j = 0; j < K * d; j++) gW[j] += l2 * W[j];
        }
    (void)data;
}

/* ---- inference ------------------------------------------------------------------------------------ */

gfuse_status gfuse_i_model_infer(const gfuse_model *m, const struct gfuse_graph *g,
                                 const gfuse_i_samples *s, float *probs, float *fusion,
                                 float **rec)
{
    const gfuse_i_arch *arch = &m->arch;
    int M = arch->M, K = arch->K, J = M + 1;
    int64_t N = s->n;
    gfuse_i_data data;
    gfuse_i_acts a;
    memset(&a, 0, sizeof a);
    gfuse_status st = gfuse_i_data_make(&data, s, m->mean, m->sd);
    if (st != GFUSE_OK) return st;
    st = gfuse_i_acts_alloc(&a, arch, N, g->n_edges, gfuse_i_gat_work_floats(g, arch->H, arch->D),
                            N);
    if (st != GFUSE_OK) goto done;
    gfuse_i_zero(probs, N * K);
    gfuse_i_zero(fusion, N * J);
    for (int j = 0; rec && j < M; j++) gfuse_i_zero(rec[j], N * arch->d[j]);
    float vote = (float)m->opts.node_vote, mix = (float)m->opts.linear_mix;
    gfuse_i_pass pass = {.node_head = vote > 0.0f,
                         .linear = mix > 0.0f,
                         .decoders = rec ? GFUSE_I_DEC_ALL : GFUSE_I_DEC_NONE};
    for (int k = 0; k < m->n_members; k++) {
        gfuse_i_model_forward(&a, arch, &m->layout, m->params[k], g, &data, &pass);
        gfuse_i_model_output(&a, arch, g, vote, mix);
        for (int64_t t = 0; t < N * K; t++) probs[t] += a.out[t];
        for (int64_t i = 0; i < N; i++) /* fusion weights by sample, slot j = node j * N + i */
            for (int j = 0; j < J; j++) fusion[i * J + j] += a.fweights[i * J + j];
        for (int j = 0; rec && j < M; j++)
            for (int64_t t = 0; t < N * arch->d[j]; t++) rec[j][t] += a.rec[j][t];
    }
    float inv = 1.0f / (float)m->n_members;
    for (int64_t t = 0; t < N * K; t++) {
        probs[t] *= inv;
        if (m->task == GFUSE_TASK_REGRESS)
            probs[t] = (float)(probs[t] * m->target_sd + m->target_mean);
    }
    for (int64_t t = 0; t < N * J; t++) fusion[t] *= inv;
    for (int j = 0; rec && j < M; j++) {
        int64_t d = arch->d[j];
        for (int64_t i = 0; i < N; i++)
            for (int64_t f = 0; f < d; f++)
                rec[j][i * d + f] = rec[j][i * d + f] * inv * m->sd[j][f] + m->mean[j][f];
    }
done:
    gfuse_i_acts_free(&a, arch);
    gfuse_i_data_free(&data);
    return st;
}

/* ---- the handle ------------------------------------------------------------------------------------ */

gfuse_status gfuse_i_model_new(gfuse_model **out)
{
    *out = gfuse_i_zalloc(1, sizeof **out);
    if (!*out) return gfuse_i_nomem("the model");
    return GFUSE_OK;
}

void gfuse_model_free(gfuse_model **mp)
{
    if (!mp || !*mp) return;
    gfuse_model *m = *mp;
    int M = m->arch.M;
    for (int k = 0; m->params && k < m->n_members; k++) free(m->params[k]);
    free(m->params);
    free(m->best_epoch);
    for (int j = 0; j < M; j++) {
        if (m->feat_name) gfuse_i_free_strings(m->feat_name[j], m->arch.d ? m->arch.d[j] : 0);
        if (m->mean) free(m->mean[j]);
        if (m->sd) free(m->sd[j]);
    }
    free(m->feat_name);
    free(m->mean);
    free(m->sd);
    gfuse_i_free_strings(m->mod_name, M);
    gfuse_i_free_strings(m->class_name, m->n_classes);
    free(m->class_w_opt);
    gfuse_i_samples_free(&m->ref);
    gfuse_i_layout_free(&m->layout);
    gfuse_i_arch_free(&m->arch);
    free(m);
    *mp = NULL;
}

gfuse_task gfuse_model_task(const gfuse_model *m) { return m ? m->task : GFUSE_TASK_AUTO; }
int gfuse_model_n_classes(const gfuse_model *m) { return m ? m->n_classes : 0; }
const char *gfuse_model_class_name(const gfuse_model *m, int k)
{
    return m && k >= 0 && k < m->n_classes ? m->class_name[k] : NULL;
}
int gfuse_model_n_modalities(const gfuse_model *m) { return m ? m->arch.M : 0; }
const char *gfuse_model_modality_name(const gfuse_model *m, int j)
{
    return m && j >= 0 && j < m->arch.M ? m->mod_name[j] : NULL;
}
int64_t gfuse_model_n_features(const gfuse_model *m, int j)
{
    return m && j >= 0 && j < m->arch.M ? m->arch.d[j] : -1;
}
const char *gfuse_model_feature_name(const gfuse_model *m, int j, int64_t f)
{
    return m && j >= 0 && j < m->arch.M && f >= 0 && f < m->arch.d[j] ? m->feat_name[j][f] : NULL;
}
int64_t gfuse_model_n_reference_samples(const gfuse_model *m) { return m ? m->ref.n : 0; }
int64_t gfuse_model_n_parameters(const gfuse_model *m)
{
    return m ? m->layout.total * m->n_members : 0;
}
int gfuse_model_n_members(const gfuse_model *m) { return m ? m->n_members : 0; }
int gfuse_model_best_epoch(const gfuse_model *m, int j)
{
    return m && j >= 0 && j < m->n_members ? m->best_epoch[j] : 0;
}
void gfuse_model_options(const gfuse_model *m, gfuse_train_options *opts)
{
    if (!m || !opts) return;
    *opts = m->opts;
}
