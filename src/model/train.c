/* train.c: gfuse_train: the model skeleton from a cohort, training and validation splits,
 * modality-dropout graphs, and the AdamW loop with early stopping, member by member. */
#include "model/model.h"

#include "cohort/cohort.h"
#include "model/checkpoint.h"
#include "core/fastmath.h"
#include "core/metrics.h"
#include "model/options.h"
#include "nn/gat.h"
#include "nn/layers.h"
#include "core/util.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* ---- the model skeleton ------------------------------------------------------------------- */

static char **copy_strings(char *const *src, int64_t n)
{
    char **dst = gfuse_i_zalloc(n, sizeof *dst);
    if (!dst) return NULL;
    for (int64_t t = 0; t < n; t++) {
        dst[t] = gfuse_i_strdup(src[t]);
        if (!dst[t]) {
            gfuse_i_free_strings(dst, n);
            return NULL;
        }
    }
    return dst;
}

/* Names, classes, reference samples (every sample of the cohort, as loaded and masked) and
 * standardisation statistics. */
static gfuse_status skeleton(gfuse_model *m, const gfuse_cohort *c, gfuse_task task,
                             const gfuse_train_options *o)
{
    int M = c->m;
    gfuse_status st = GFUSE_OK;
    m->task = task;
    m->opts = *o;
    m->opts.on_epoch = NULL;
    m->opts.user = NULL;
    m->opts.class_weights = NULL;
    m->opts.checkpoint = NULL; /* a setting of the run, not of the model */
    m->opts.resume = 0;
    m->opts.task = task;
    if (o->class_weight_mode == GFUSE_CLASS_WEIGHTS_GIVEN) {
        m->class_w_opt = gfuse_i_alloc(o->n_class_weights, sizeof(double));
        GFUSE_TRY_MEM(m->class_w_opt, "the class weights");
        memcpy(m->class_w_opt, o->class_weights, (size_t)o->n_class_weights * sizeof(double));
        m->opts.class_weights = m->class_w_opt;
    }
    m->arch.M = M;
    m->arch.d = gfuse_i_zalloc(M, sizeof *m->arch.d);
    m->mod_name = gfuse_i_zalloc(M, sizeof *m->mod_name);
    m->feat_name = gfuse_i_zalloc(M, sizeof *m->feat_name);
    m->mean = gfuse_i_zalloc(M, sizeof *m->mean);
    m->sd = gfuse_i_zalloc(M, sizeof *m->sd);
    GFUSE_TRY_MEM(m->arch.d && m->mod_name && m->feat_name && m->mean && m->sd, "the model");
    for (int j = 0; j < M; j++) {
        m->arch.d[j] = c->mod[j].d;
        m->mod_name[j] = gfuse_i_strdup(c->mod[j].name);
        m->feat_name[j] = copy_strings(c->mod[j].feature, c->mod[j].d);
        GFUSE_TRY_MEM(m->mod_name[j] && m->feat_name[j], "the model's names");
    }
    if (task == GFUSE_TASK_CLASSIFY) {
        m->class_name = copy_strings(c->class_name, c->n_classes);
        GFUSE_TRY_MEM(m->class_name, "the class names");
        m->n_classes = c->n_classes;
    }
    m->arch.F = o->hidden;
    m->arch.H = o->heads;
    m->arch.D = o->hidden / o->heads;
    m->arch.L = o->layers;
    m->arch.A = o->hidden;
    m->arch.K = task == GFUSE_TASK_CLASSIFY ? c->n_classes : 1;

    gfuse_i_samples *s = &m->ref;
    GFUSE_TRY(gfuse_i_samples_alloc(s, c->n, M, m->arch.d));
    for (int64_t i = 0; i < c->n; i++) {
        s->id[i] = gfuse_i_strdup(c->id[i]);
        GFUSE_TRY_MEM(s->id[i], "the sample ids");
    }
    for (int j = 0; j < M; j++) {
        const gfuse_i_modality *mod = &c->mod[j];
        for (int64_t i = 0; i < c->n; i++) {
            if (!mod->present[i] || mod->row[i] < 0) continue;
            s->has[(int64_t)j * c->n + i] = 1;
            memcpy(s->x[j] + i * mod->d, mod->x + mod->row[i] * mod->d,
                   (size_t)mod->d * sizeof(float));
        }
    }
    GFUSE_TRY(gfuse_i_standard_stats(m->mean, m->sd, s));
    GFUSE_TRY(gfuse_i_layout_init(&m->layout, &m->arch));
done: /* what was built belongs to the model, which its owner frees */
    return st;
}

/* ---- splits --------------------------------------------------------------------------------- */

typedef struct {
    int64_t n_train_all;  /* labelled training samples */
    int64_t *train_all;
    int64_t n_val_fixed;  /* the split's "val" samples */
    int64_t *val_fixed;
    int n_folds;          /* carved folds (0: none) */
    int32_t *fold;        /* per sample: fold of a training sample, -1 otherwise */
} splits;

/* Training samples: labelled samples in split "train" or in none (test and val excluded);
 * every labelled sample when the cohort has no split. When the split names no labelled "val"
 * sample and val_fraction > 0, the training samples are dealt into round(1 / val_fraction)
 * folds, class by class after a seeded shuffle (stratified); member k validates on fold
 * k mod folds and trains on the others. */
static gfuse_status make_splits(splits *sp, const gfuse_cohort *c, gfuse_task task,
                                const gfuse_train_options *o, int K)
{
    memset(sp, 0, sizeof *sp);
    int64_t n = c->n;
    sp->train_all = gfuse_i_alloc(n, sizeof(int64_t));
    sp->val_fixed = gfuse_i_alloc(n, sizeof(int64_t));
    sp->fold = gfuse_i_alloc(n, sizeof(int32_t));
    int64_t *order = gfuse_i_alloc(n, sizeof(int64_t));
    if (!sp->train_all || !sp->val_fixed || !sp->fold || !order) {
        free(order);
        return gfuse_i_nomem("the training split");
    }
    for (int64_t i = 0; i < n; i++) {
        sp->fold[i] = -1;
        if (!gfuse_i_cohort_labelled(c, task, i)) continue;
        gfuse_split s = c->has_split ? (gfuse_split)c->split[i] : GFUSE_SPLIT_NONE;
        if (s == GFUSE_SPLIT_VAL)
            sp->val_fixed[sp->n_val_fixed++] = i;
        else if (s != GFUSE_SPLIT_TEST)
            sp->train_all[sp->n_train_all++] = i;
    }
    if (sp->n_val_fixed == 0 && o->val_fraction > 0.0) {
        int nf = (int)floor(1.0 / o->val_fraction + 0.5);
        if (nf < 2) nf = 2;
        sp->n_folds = nf;
        gfuse_i_rng rng;
        gfuse_i_rng_seed_stream(&rng, o->seed, 0x5b1170);
        int64_t nt = sp->n_train_all;
        memcpy(order, sp->train_all, (size_t)nt * sizeof(int64_t));
        gfuse_i_rng_shuffle(&rng, order, nt);
        /* deal class by class, continuing the round robin so folds differ by one at most */
        int next = 0, groups = task == GFUSE_TASK_CLASSIFY ? K : 1;
        for (int k = 0; k < groups; k++)
            for (int64_t t = 0; t < nt; t++) {
                int64_t i = order[t];
                if (task == GFUSE_TASK_CLASSIFY && c->label[i] != k) continue;
                sp->fold[i] = next;
                next = (next + 1) % nf;
            }
    }
    free(order);
    return GFUSE_OK;
}

static void splits_free(splits *sp)
{
    free(sp->train_all);
    free(sp->val_fixed);
    free(sp->fold);
}

/* ---- modality dropout ----------------------------------------------------------------------- */

/* Hides each modality a sample has with probability p, keeping at least one per sample
 * (drawn uniformly among its modalities when every one was hidden). hidden is M x n. */
static void draw_hidden(uint8_t *hidden, const gfuse_i_samples *s, double p, gfuse_i_rng *rng)
{
    int64_t n = s->n;
    int M = s->M;
    memset(hidden, 0, (size_t)(n * M));
    for (int64_t i = 0; i < n; i++) {
        int n_has = 0, n_kept = 0;
        for (int m = 0; m < M; m++) {
            int64_t v = (int64_t)m * n + i;
            if (!s->has[v]) continue;
            n_has++;
            if (gfuse_i_rng_uniform(rng) < p)
                hidden[v] = 1;
            else
                n_kept++;
        }
        if (n_has == 0 || n_kept > 0) continue;
        uint64_t keep = gfuse_i_rng_below(rng, (uint64_t)n_has);
        for (int m = 0; m < M; m++) {
            int64_t v = (int64_t)m * n + i;
            if (s->has[v] && keep-- == 0) hidden[v] = 0;
        }
    }
}

/* ---- AdamW ---------------------------------------------------------------------------------- */

#define ADAM_BETA1 0.9
#define ADAM_BETA2 0.999
#define ADAM_EPS 1e-8

GFUSE_I_HOT
void gfuse_i_adamw_step(float *p, const float *g, float *mom, float *vel, const uint8_t *decay,
                        int64_t n, double lr, double wd, int t, float *ema, float ema_decay)
{
    float b1 = (float)ADAM_BETA1, b2 = (float)ADAM_BETA2;
    float c1 = (float)(1.0 - pow(ADAM_BETA1, t)), c2 = (float)(1.0 - pow(ADAM_BETA2, t));
    float flr = (float)lr, shrink = (float)(lr * wd);
    /* with ema, the moving average in the same pass over the parameters */
    const float keep = ema_decay, take = 1.0f - ema_decay;
#pragma omp parallel for simd schedule(simd : static) if (n > 65536)
    for (int64_t j = 0; j < n; j++) {
        mom[j] = b1 * mom[j] + (1.0f - b1) * g[j];
        vel[j] = b2 * vel[j] + (1.0f - b2) * g[j] * g[j];
        float mhat = mom[j] / c1, vhat = vel[j] / c2;
        float q = p[j] - shrink * (float)decay[j] * p[j];
        q -= flr * mhat / (sqrtf(vhat) + (float)ADAM_EPS);
        p[j] = q;
        if (ema) ema[j] = keep * ema[j] + take * q;
    }
}

/* ---- training ------------------------------------------------------------------------------- */

/* Graphs up to this many node-state floats (nodes x width) train their ensemble members side by
 * side, one per thread: below it one member's kernels are too short to share among threads. */
#define MEMBERS_SIDE_BY_SIDE_MAX ((int64_t)1 << 20)

/* What one ensemble member's training needs for itself: members may train side by side. */
typedef struct {
    gfuse_i_acts acts;
    int64_t *rows_train, *rows_val;
    float *grads, *mom, *vel, *best, *ema;
    float *snap; /* checkpoints of members side by side: the published copies (5 x np) */
    struct gfuse_graph vg; /* a modality-dropout graph laid out from its links */
    int vg_of;             /* which one (an index of trainer.variants), -1 none */
    gfuse_i_train_stats stats; /* this worker's share of the timings */
} worker;

/* The epoch reports of members trained side by side, passed to the callback in member order
 * (every report of member 0, then of member 1, ...), as a sequential training would. */
typedef struct {
    gfuse_epoch_report **buf; /* per member: up to epochs reports */
    int *n, *sent, *done;     /* per member: buffered, passed on, finished */
    int next;                 /* the member whose reports go out now */
    int stop;                 /* the callback asked to stop */
} report_queue;

typedef struct {
    gfuse_model *m;
    const gfuse_cohort *c;
    const gfuse_train_options *o;
    struct gfuse_graph *full;
    /* The modality-dropout graphs, kept as their links (graph.h) and laid out in a worker's
     * graph storage when one is needed. */
    gfuse_i_variant_links *variants;
    int n_variants;     /* training graphs: variants[0 .. n_variants) */
    int n_fit_variants; /* decoder-fit graphs: the n_fit_variants after them */
    int64_t e_cap;      /* the edges a worker's graph storage and activations hold */
    /* The decoder-fit graphs are derived when the first member reaches its refit (they are
     * not needed before): what they are derived from, until then. */
    int fit_pending;            /* graphs still to derive at most (0: none, or done) */
    gfuse_i_variant_base *vb;   /* the full graph's shared part */
    gfuse_i_rng fit_rng;        /* the stream their hidden masks are drawn from */
    gfuse_status fit_status;    /* how deriving them went */
    char fit_message[256];      /* and its error message */
    gfuse_i_data data;
    int32_t *label;
    float *target;
    float *class_w;
    splits sp;
    uint8_t *decay;
    int n_workers;      /* members trained side by side (1: one after the other) */
    worker *workers;
    report_queue q;     /* n_workers > 1 */
    gfuse_i_train_stats *stats; /* NULL: not timed */
    gfuse_i_ckpt *ck;   /* NULL: no checkpoints */
} trainer;

static double val_metric(const trainer *t, const gfuse_i_acts *a, const int64_t *rows,
                         int64_t n_rows)
{
    const gfuse_model *m = t->m;
    if (n_rows == 0) return NAN;
    /* validation rows are labelled, so every one counts */
    if (m->task == GFUSE_TASK_CLASSIFY)
        return gfuse_i_accuracy(t->label, a->out, rows, n_rows, m->arch.K);
    /* RMSE in the label's units (the standardised values times the label's sd) */
    double *pair = gfuse_i_alloc((size_t)n_rows * 2, sizeof *pair);
    if (!pair) return NAN;
    for (int64_t s = 0; s < n_rows; s++) {
        pair[s] = t->target[rows[s]] * m->target_sd;
        pair[n_rows + s] = a->out[rows[s]] * m->target_sd;
    }
    gfuse_regress_metrics rm;
    gfuse_status st = gfuse_regress_metrics_compute(pair, pair + n_rows, n_rows, &rm);
    free(pair);
    return st == GFUSE_OK ? rm.rmse : NAN;
}

/* Passes the buffered reports on in member order; 1 when the callback asked to stop. Called
 * inside the critical section of the queue. */
static void queue_deliver(trainer *t)
{
    report_queue *q = &t->q;
    const gfuse_train_options *o = t->o;
    while (q->next < t->m->n_members) {
        int k = q->next;
        while (q->sent[k] < q->n[k]) {
            const gfuse_epoch_report *r = &q->buf[k][q->sent[k]++];
            if (!q->stop && o->on_epoch && o->on_epoch(r, o->user)) q->stop = 1;
        }
        if (!q->done[k]) break;
        q->next++;
    }
}

/* One epoch's report: straight to the callback, or through the queue; 1 to stop. */
static int report_epoch(trainer *t, const gfuse_epoch_report *r)
{
    const gfuse_train_options *o = t->o;
    if (t->n_workers == 1) return o->on_epoch ? o->on_epoch(r, o->user) != 0 : 0;
    int stop;
#pragma omp critical(gfuse_train_reports)
    {
        report_queue *q = &t->q;
        if (q->n[r->member] < o->epochs) q->buf[r->member][q->n[r->member]++] = *r;
        queue_deliver(t);
        stop = q->stop;
    }
    return stop;
}

static void report_done(trainer *t, int member)
{
    if (t->n_workers == 1) return;
#pragma omp critical(gfuse_train_reports)
    {
        t->q.done[member] = 1;
        queue_deliver(t);
    }
}

/* Decoder-fit graphs are drawn until each modality has this many hidden rows per weight of a
 * decoder (its input width plus the bias), or up to graph_variants of them, and the fit takes at
 * most that many rows per modality: more rows no longer move a ridge fit of that many weights,
 * and only cost forward passes and normal-matrix updates. */
#define FIT_ROWS_PER_WEIGHT 8

static int64_t fit_rows_target(const gfuse_model *m)
{
    return FIT_ROWS_PER_WEIGHT * ((2 * (int64_t)m->arch.M + 1) * m->arch.F + 1);
}

/* Derives the decoder-fit graphs once, for whichever member gets there first: graph after
 * graph until every modality that has any hidden row has FIT_ROWS_PER_WEIGHT rows per weight
 * (a modality that none of them hides does not keep the draws going), at most fit_pending. */
static gfuse_status fit_graphs(trainer *t)
{
#pragma omp critical(gfuse_train_fit_graphs)
    {
        if (t->fit_pending > 0) {
            const gfuse_model *m = t->m;
            int64_t n = m->ref.n;
            int M = m->arch.M;
            const int64_t target = fit_rows_target(m);
            uint8_t *hidden = gfuse_i_alloc(n * M, 1);
            int64_t *rows = gfuse_i_zalloc(M, sizeof *rows);
            gfuse_status st = hidden && rows ? GFUSE_OK : gfuse_i_nomem("the decoder-fit graphs");
            for (int k = 0; k < t->fit_pending && st == GFUSE_OK; k++) {
                gfuse_i_variant_links *l = &t->variants[t->n_variants + t->n_fit_variants];
                draw_hidden(hidden, &m->ref, t->o->modality_dropout, &t->fit_rng);
                st = gfuse_i_variant_link(l, t->vb, hidden);
                if (st != GFUSE_OK) break;
                t->n_fit_variants++;
                int64_t ne = gfuse_i_variant_edges(t->full, l);
                if (ne > t->e_cap)
                    st = gfuse_i_error(GFUSE_ERR_RUNTIME, "a decoder-fit graph has %lld edges, "
                                       "more than the training graphs' %lld",
                                       (long long)ne, (long long)t->e_cap);
                int enough = 1;
                for (int j = 0; j < M; j++) {
                    for (int64_t i = 0; i < n; i++) rows[j] += hidden[(int64_t)j * n + i];
                    if (rows[j] > 0 && rows[j] < target) enough = 0;
                }
                if (enough) break;
            }
            free(hidden);
            free(rows);
            gfuse_i_variant_base_free(&t->vb);
            t->fit_pending = 0;
            t->fit_status = st;
            if (st != GFUSE_OK) snprintf(t->fit_message, sizeof t->fit_message, "%s",
                                         gfuse_last_error());
        }
    }
    if (t->fit_status != GFUSE_OK) return gfuse_i_error(t->fit_status, "%s", t->fit_message);
    return GFUSE_OK;
}

/* Variant v laid out in w's graph storage (unless it is there already). */
static gfuse_status variant_graph(const trainer *t, worker *w, int v,
                                  const struct gfuse_graph **g)
{
    if (w->vg_of != v) {
        w->vg_of = -1;
        gfuse_status st = gfuse_i_variant_into(&w->vg, t->e_cap, t->full, &t->variants[v]);
        if (st != GFUSE_OK) return st;
        w->vg_of = v;
    }
    *g = &w->vg;
    return GFUSE_OK;
}

/* The decoder-fit graphs, one after the other, for gfuse_i_fit_decoders_from. */
typedef struct {
    const trainer *t;
    worker *w;
} fit_source;

static gfuse_status fit_graph(void *user, int v, const struct gfuse_graph **g)
{
    fit_source *fs = user;
    return variant_graph(fs->t, fs->w, fs->t->n_variants + v, g);
}

/* Where a member's timings go: the caller's statistics, live, when members train one after
 * the other; the worker's, added up at the end, when they train side by side. */
static gfuse_i_train_stats *member_stats(trainer *t, worker *w)
{
    return t->n_workers == 1 && t->stats ? t->stats : &w->stats;
}

/* ---- checkpoints ---------------------------------------------------------------------------- */

/* A member's training state at an epoch boundary, besides its arrays. */
typedef struct {
    int epoch; /* epochs done */
    int best_epoch, bad;
    double best_loss, seconds;
    const gfuse_i_rng *rng;
} member_now;

/* Makes member's state after now->epoch epochs the one checkpoints hold, and writes the
 * checkpoint when write is set. Side by side, the arrays are copied (the member trains on);
 * one after the other, the checkpoint points at the trainer's buffers, which stay as they are
 * until the next epoch or the end of the training. */
static gfuse_status publish(trainer *t, worker *w, int member, const member_now *now, int write)
{
    gfuse_status st = GFUSE_OK;
    int64_t np = t->m->layout.total;
    const float *src[5] = {t->m->params[member], w->mom, w->vel, w->best, w->ema};
#pragma omp critical(gfuse_train_checkpoint)
    {
        gfuse_i_member_state *ms = &t->ck->mem[member];
        const float **dst[5] = {&ms->params, &ms->mom, &ms->vel, &ms->best, &ms->ema};
        for (int a = 0; a < 5; a++) {
            if (w->snap) memcpy(w->snap + a * np, src[a], (size_t)np * sizeof(float));
            *dst[a] = w->snap ? w->snap + a * np : src[a];
        }
        ms->state = GFUSE_I_CKPT_TRAINING;
        ms->epoch = now->epoch;
        ms->best_epoch = now->best_epoch;
        ms->bad = now->bad;
        ms->best_loss = now->best_loss;
        ms->seconds = now->seconds;
        ms->rng = *now->rng;
        if (write) st = gfuse_i_ckpt_write(t->ck);
    }
    return st;
}

/* A member finished: its final weights go into the checkpoint, which is written. */
static gfuse_status publish_done(trainer *t, int member, int epochs, double seconds)
{
    gfuse_status st = GFUSE_OK;
#pragma omp critical(gfuse_train_checkpoint)
    {
        gfuse_i_member_state *ms = &t->ck->mem[member];
        ms->state = GFUSE_I_CKPT_DONE;
        ms->epoch = epochs;
        ms->best_epoch = t->m->best_epoch[member];
        ms->seconds = seconds;
        ms->params = t->m->params[member];
        st = gfuse_i_ckpt_write(t->ck);
    }
    return st;
}

/* Passes a resumed member's saved epoch reports on, as the interrupted run did. (A callback
 * asking to stop here is not heeded: the training it stopped would have been another.) */
static void replay_reports(trainer *t, const gfuse_i_member_state *ms)
{
    for (int e = 0; e < ms->epoch; e++) report_epoch(t, &ms->reports[e]);
}

static gfuse_status interrupted(void)
{
    return gfuse_i_error(GFUSE_ERR_INTERRUPTED, "interrupted by signal %d", gfuse_interrupted());
}

/* The training and validation rows of member into w->rows_train and w->rows_val. */
static void member_rows(const trainer *t, worker *w, int member, int64_t *n_tr, int64_t *n_val)
{
    *n_tr = *n_val = 0;
    if (t->sp.n_val_fixed > 0) {
        memcpy(w->rows_val, t->sp.val_fixed, (size_t)t->sp.n_val_fixed * sizeof(int64_t));
        *n_val = t->sp.n_val_fixed;
    }
    int fold = t->sp.n_folds > 0 ? member % t->sp.n_folds : -1;
    for (int64_t s = 0; s < t->sp.n_train_all; s++) {
        int64_t i = t->sp.train_all[s];
        if (fold >= 0 && t->sp.fold[i] == fold)
            w->rows_val[(*n_val)++] = i;
        else
            w->rows_train[(*n_tr)++] = i;
    }
}

/* The linear path is trained when it is mixed in or its weight is to be chosen. */
static int linear_on(const gfuse_train_options *o)
{
    return o->linear_mix > 0.0 || o->mix_step > 0.0;
}

static gfuse_status train_member(trainer *t, worker *w, int member)
{
    gfuse_model *m = t->m;
    const gfuse_train_options *o = t->o;
    const gfuse_i_arch *arch = &m->arch;
    const gfuse_i_layout *lay = &m->layout;
    int64_t np = lay->total;
    float *P = m->params[member];
    gfuse_i_member_state *saved = t->ck ? &t->ck->mem[member] : NULL;
    if (gfuse_interrupted()) return interrupted(); /* not started: as saved, if at all */
    if (saved && saved->state == GFUSE_I_CKPT_DONE) {
        /* finished before the training resumed */
        memcpy(P, saved->params, (size_t)np * sizeof(float));
        m->best_epoch[member] = saved->best_epoch;
        replay_reports(t, saved);
        return GFUSE_OK;
    }

    /* this member's training and validation rows */
    int64_t n_tr, n_val;
    member_rows(t, w, member, &n_tr, &n_val);
    if (n_tr == 0)
        return gfuse_i_error(GFUSE_ERR_DATA, "no labelled training sample is left for training "
                                             "after the validation split");

    gfuse_i_rng rng;
    double best_loss = INFINITY, start = omp_get_wtime();
    int best_epoch = 0, bad = 0, first = 1;
    if (saved && saved->state == GFUSE_I_CKPT_TRAINING) {
        /* resumed: the state after saved->epoch epochs */
        memcpy(P, saved->params, (size_t)np * sizeof(float));
        memcpy(w->mom, saved->mom, (size_t)np * sizeof(float));
        memcpy(w->vel, saved->vel, (size_t)np * sizeof(float));
        memcpy(w->best, saved->best, (size_t)np * sizeof(float));
        memcpy(w->ema, saved->ema, (size_t)np * sizeof(float));
        rng = saved->rng;
        best_loss = saved->best_loss;
        best_epoch = saved->best_epoch;
        bad = saved->bad;
        first = saved->epoch + 1;
        start -= saved->seconds;
        replay_reports(t, saved);
    } else {
        gfuse_i_rng_seed_stream(&rng, o->seed, 1000 + (uint64_t)member);
        gfuse_i_params_init(P, lay, &rng);
        memset(w->mom, 0, (size_t)np * sizeof(float));
        memset(w->vel, 0, (size_t)np * sizeof(float));
        memcpy(w->best, P, (size_t)np * sizeof(float));
        memcpy(w->ema, P, (size_t)np * sizeof(float));
    }

    gfuse_i_loss_spec spec = {.task = m->task,
                              .label = t->label,
                              .target = t->target,
                              .rows = w->rows_train,
                              .n_rows = n_tr,
                              .class_w = t->class_w,
                              .lambda_rec = (float)o->lambda_rec,
                              .lambda_node = (float)o->lambda_node,
                              .lambda_lin = linear_on(o) ? 1.0f : 0.0f,
                              .linear_l2 = (float)o->linear_l2};
    gfuse_i_pass train_pass = {.training = 1,
                               .dropout = (float)o->dropout,
                               .input_dropout = (float)o->input_dropout,
                               .attn_dropout = (float)o->attn_dropout,
                               .node_head = o->lambda_node > 0.0,
                               .linear = linear_on(o),
                               .decoders = o->lambda_rec > 0.0 ? GFUSE_I_DEC_HIDDEN
                                                               : GFUSE_I_DEC_NONE,
                               .rows = w->rows_train,
                               .n_rows = n_tr};
    gfuse_i_pass eval_pass = {.node_head = o->node_vote > 0.0,
                              .linear = linear_on(o),
                              .decoders = GFUSE_I_DEC_NONE,
                              .rows = w->rows_val,
                              .n_rows = n_val};
    int last = first - 1; /* epochs done */
    for (int epoch = first; epoch <= o->epochs; epoch++) {
        /* an epoch boundary: the checkpoint's every checkpoint_every epochs and when
         * interrupted (the state before this epoch, so that a resumed run goes on with it) */
        int stop = gfuse_interrupted() != 0;
        if (t->ck && epoch > first && (stop || last % t->ck->every == 0)) {
            member_now now = {last, best_epoch, bad, best_loss, omp_get_wtime() - start, &rng};
            gfuse_status st = publish(t, w, member, &now, !stop);
            if (st != GFUSE_OK) return st;
        }
        if (stop) return interrupted();
        const struct gfuse_graph *g = t->full;
        if (t->n_variants > 0) {
            gfuse_status st = variant_graph(
                t, w, (int)gfuse_i_rng_below(&rng, (uint64_t)t->n_variants), &g);
            if (st != GFUSE_OK) return st;
        }
        train_pass.seed = gfuse_i_rng_u64(&rng);
        double t0 = omp_get_wtime();
        gfuse_i_model_forward(&w->acts, arch, lay, P, g, &t->data, &train_pass);
        gfuse_i_loss_value lv = gfuse_i_model_loss(&w->acts, arch, g, &t->data, &spec);
        double t1 = omp_get_wtime();
        memset(w->grads, 0, (size_t)np * sizeof(float));
        gfuse_i_model_backward(w->grads, &w->acts, arch, lay, P, g, &t->data, &train_pass);
        double t2 = omp_get_wtime();
        /* the weights validated and kept: an exponential moving average of the iterates,
         * which smooths the noise of full-batch steps under heavy dropout */
        gfuse_i_adamw_step(P, w->grads, w->mom, w->vel, t->decay, np, o->lr, o->weight_decay, epoch,
                           o->ema > 0.0 ? w->ema : NULL, (float)o->ema);
        const float *V = o->ema > 0.0 ? w->ema : P;

        double t3 = omp_get_wtime();

        gfuse_epoch_report r;
        memset(&r, 0, sizeof r);
        r.val_loss = NAN;
        r.val_metric = NAN;
        if (n_val > 0) {
            gfuse_i_model_forward(&w->acts, arch, lay, V, t->full, &t->data, &eval_pass);
            gfuse_i_model_output_rows(&w->acts, arch, t->full, (float)o->node_vote,
                                      (float)o->linear_mix, w->rows_val, n_val);
            r.val_loss = gfuse_i_task_loss(&w->acts, arch, &spec, w->rows_val, n_val);
            r.val_metric = val_metric(t, &w->acts, w->rows_val, n_val);
            if (r.val_loss < best_loss) {
                best_loss = r.val_loss;
                best_epoch = epoch;
                bad = 0;
                memcpy(w->best, V, (size_t)np * sizeof(float));
            } else {
                bad++;
            }
        } else {
            best_epoch = epoch;
            memcpy(w->best, V, (size_t)np * sizeof(float));
        }
        {
            gfuse_i_train_stats *ts = member_stats(t, w);
            double t4 = omp_get_wtime();
            ts->forward_s += t1 - t0;
            ts->backward_s += t2 - t1;
            ts->optimizer_s += t3 - t2;
            ts->eval_s += t4 - t3;
            if (ts->epoch_s && ts->epochs < ts->epoch_cap) ts->epoch_s[ts->epochs] = t4 - t0;
            ts->epochs++;
        }
        r.member = member;
        r.n_members = m->n_members;
        r.epoch = epoch;
        r.max_epochs = o->epochs;
        r.train_loss = lv.total;
        r.task_loss = lv.task;
        r.rec_loss = lv.rec;
        r.best_epoch = best_epoch;
        r.seconds = omp_get_wtime() - start;
        last = epoch;
        if (t->ck) t->ck->mem[member].reports[epoch - 1] = r;
        if (!isfinite(lv.total))
            return gfuse_i_error(GFUSE_ERR_RUNTIME,
                                 "training diverged at epoch %d (loss %g): try a smaller --lr",
                                 epoch, lv.total);
        if (report_epoch(t, &r)) break;
        if (n_val > 0 && bad >= o->patience) break;
    }
    memcpy(P, w->best, (size_t)np * sizeof(float));
    m->best_epoch[member] = best_epoch;
    gfuse_status st = GFUSE_OK;
    double r0 = omp_get_wtime();
    if (o->decoder_ridge > 0.0 && (st = fit_graphs(t)) != GFUSE_OK) return st;
    if (o->decoder_ridge > 0.0 && t->n_fit_variants > 0) {
        fit_source fs = {t, w};
        st = gfuse_i_fit_decoders_from(P, arch, lay, fit_graph, &fs, t->n_fit_variants, &t->data,
                                       &w->acts, o->decoder_ridge, GFUSE_I_DEC_FIT_CHUNK,
                                       fit_rows_target(m));
    }
    member_stats(t, w)->refit_s += omp_get_wtime() - r0;
    if (st == GFUSE_OK && t->ck) st = publish_done(t, member, last, omp_get_wtime() - start);
    return st;
}

static gfuse_status prepare(trainer *t)
{
    gfuse_model *m = t->m;
    const gfuse_cohort *c = t->c;
    const gfuse_train_options *o = t->o;
    int64_t n = c->n, np = m->layout.total;
    int K = m->arch.K;
    gfuse_status st = GFUSE_OK;
    uint8_t *hidden = NULL;
    int64_t dec_rows = 1; /* the most rows the decoders run on in a pass */
    GFUSE_TRY(gfuse_i_data_make(&t->data, &m->ref, m->mean, m->sd));
    GFUSE_TRY(make_splits(&t->sp, c, m->task, o, K));
    if (t->sp.n_train_all == 0)
        GFUSE_FAIL(gfuse_i_error(GFUSE_ERR_DATA, "the cohort has no labelled training sample"));

    t->label = gfuse_i_alloc(n, sizeof(int32_t));
    t->target = gfuse_i_alloc(n, sizeof(float));
    t->decay = gfuse_i_zalloc(np, 1);
    m->params = gfuse_i_zalloc(o->ensemble, sizeof *m->params);
    m->best_epoch = gfuse_i_zalloc(o->ensemble, sizeof *m->best_epoch);
    GFUSE_TRY_MEM(t->label && t->target && t->decay && m->params && m->best_epoch, "the trainer");
    m->n_members = o->ensemble;
    for (int k = 0; k < o->ensemble; k++) {
        m->params[k] = gfuse_i_alloc(np, sizeof(float));
        GFUSE_TRY_MEM(m->params[k], "the parameters");
    }
    for (int ti = 0; ti < m->layout.n_tensors; ti++) {
        const gfuse_i_tensor *ts = &m->layout.tensors[ti];
        if (ts->decay) memset(t->decay + ts->offset, 1, (size_t)ts->count);
    }

    /* labels; regression targets standardised with the training samples' mean and sd */
    double sum = 0.0, ss = 0.0;
    for (int64_t s = 0; s < t->sp.n_train_all; s++) {
        if (m->task != GFUSE_TASK_REGRESS) break;
        sum += c->target[t->sp.train_all[s]];
    }
    double mu = sum / (double)t->sp.n_train_all;
    for (int64_t s = 0; s < t->sp.n_train_all; s++) {
        if (m->task != GFUSE_TASK_REGRESS) break;
        double e = c->target[t->sp.train_all[s]] - mu;
        ss += e * e;
    }
    double sdv = sqrt(ss / (double)t->sp.n_train_all);
    m->target_mean = m->task == GFUSE_TASK_REGRESS ? mu : 0.0;
    m->target_sd = m->task == GFUSE_TASK_REGRESS && sdv > 0.0 ? sdv : 1.0;
    for (int64_t i = 0; i < n; i++) {
        t->label[i] = m->task == GFUSE_TASK_CLASSIFY && c->label ? c->label[i] : -1;
        t->target[i] = m->task == GFUSE_TASK_REGRESS && c->target
                           ? (float)((c->target[i] - m->target_mean) / m->target_sd)
                           : NAN;
    }

    /* class weights */
    if (m->task == GFUSE_TASK_CLASSIFY && o->class_weight_mode != GFUSE_CLASS_WEIGHTS_NONE) {
        t->class_w = gfuse_i_alloc(K, sizeof(float));
        GFUSE_TRY_MEM(t->class_w, "the class weights");
        if (o->class_weight_mode == GFUSE_CLASS_WEIGHTS_GIVEN) {
            if (o->n_class_weights != K)
                GFUSE_FAIL(gfuse_i_error(GFUSE_ERR_DATA,
                                         "%d class weights were given for %d classes",
                                         o->n_class_weights, K));
            for (int k = 0; k < K; k++) t->class_w[k] = (float)o->class_weights[k];
        } else {
            for (int k = 0; k < K; k++) {
                int64_t nk = 0;
                for (int64_t s = 0; s < t->sp.n_train_all; s++)
                    nk += c->label[t->sp.train_all[s]] == k;
                t->class_w[k] =
                    nk > 0 ? (float)((double)t->sp.n_train_all / ((double)K * (double)nk)) : 0.0f;
            }
        }
    }

    /* checkpoints: a resumed one is checked against the data and options before the graph */
    if (o->checkpoint) {
        t->ck = gfuse_i_zalloc(1, sizeof *t->ck);
        GFUSE_TRY_MEM(t->ck, "the checkpoint");
        GFUSE_TRY(gfuse_i_ckpt_init(t->ck, m, c, o, t->label, t->target));
    }

    /* the graph and the modality-dropout variants */
    double g0 = omp_get_wtime();
    GFUSE_TRY(gfuse_i_samples_graph(&t->full, &m->ref, NULL, NULL, o->k));
    if (t->stats) {
        t->stats->graph_build_s = omp_get_wtime() - g0;
        t->stats->nodes = t->full->n_nodes;
        t->stats->edges = t->full->n_edges;
    }
    t->e_cap = t->full->n_edges;
    if (o->modality_dropout > 0.0 && o->graph_variants > 0) {
        /* graph_variants graphs for training, then as many fresh ones for the decoder fit
         * (derived at the first refit): hidden nodes the network never had to reconstruct,
         * like truly missing ones */
        int n_graphs = o->graph_variants * (o->decoder_ridge > 0.0 ? 2 : 1);
        t->variants = gfuse_i_zalloc(n_graphs, sizeof *t->variants); /* zero: nothing to free */
        hidden = gfuse_i_alloc(n * m->arch.M, 1);
        GFUSE_TRY_MEM(t->variants && hidden, "the modality-dropout graphs");
        gfuse_i_rng rng;
        gfuse_i_rng_seed_stream(&rng, o->seed, 0x9a9b);
        /* every variant is derived from the full graph: only the hidden nodes change */
        st = gfuse_i_samples_variant_base(&t->vb, t->full, &m->ref, o->k);
        for (int v = 0; v < o->graph_variants && st == GFUSE_OK; v++) {
            draw_hidden(hidden, &m->ref, o->modality_dropout, &rng);
            st = gfuse_i_variant_link(&t->variants[v], t->vb, hidden);
            if (st != GFUSE_OK) break;
            t->n_variants++;
            int64_t ne = gfuse_i_variant_edges(t->full, &t->variants[v]);
            if (ne > t->e_cap) t->e_cap = ne;
            /* the training decoders run on the nodes the sample has and the variant does not
             * observe (gfuse_i_model_forward), one modality at a time */
            for (int j = 0; j < m->arch.M; j++) {
                int64_t rows = 0;
                for (int64_t i = 0; i < n; i++) {
                    int64_t u = (int64_t)j * n + i;
                    rows += m->ref.has[u] && (!t->full->observed[u] || hidden[u]);
                }
                if (rows > dec_rows) dec_rows = rows;
            }
        }
        GFUSE_TRY(st);
        t->fit_rng = rng;
        t->fit_pending = n_graphs - o->graph_variants;
        if (t->fit_pending == 0) gfuse_i_variant_base_free(&t->vb);
    }

    /* the GAT kernels' scratch for the largest graph (it grows with the edges) */
    struct gfuse_graph shape = {.n_nodes = t->full->n_nodes, .n_edges = t->e_cap};
    int64_t work = gfuse_i_gat_work_floats(&shape, m->arch.H, m->arch.D);

    /* Members train side by side, one per thread, when the graph is too small for the threads
     * to share one member's kernels well; every member's arithmetic is the same either way. */
    int threads = gfuse_get_threads();
    t->n_workers = 1;
    if (o->ensemble > 1 && threads > 1 &&
        t->full->n_nodes * (int64_t)m->arch.F <= MEMBERS_SIDE_BY_SIDE_MAX)
        t->n_workers = threads < o->ensemble ? threads : o->ensemble;
    t->workers = gfuse_i_zalloc(t->n_workers, sizeof *t->workers);
    GFUSE_TRY_MEM(t->workers, "the trainer");
    for (int k = 0; k < t->n_workers; k++) {
        worker *w = &t->workers[k];
        w->rows_train = gfuse_i_alloc(n, sizeof(int64_t));
        w->rows_val = gfuse_i_alloc(n, sizeof(int64_t));
        w->grads = gfuse_i_alloc(np, sizeof(float));
        w->mom = gfuse_i_alloc(np, sizeof(float));
        w->vel = gfuse_i_alloc(np, sizeof(float));
        w->best = gfuse_i_alloc(np, sizeof(float));
        w->ema = gfuse_i_alloc(np, sizeof(float));
        GFUSE_TRY_MEM(w->rows_train && w->rows_val && w->grads && w->mom && w->vel && w->best &&
                          w->ema,
                      "the trainer");
        if (t->ck && t->n_workers > 1) {
            w->snap = gfuse_i_alloc(5 * np, sizeof(float));
            GFUSE_TRY_MEM(w->snap, "the checkpoint");
        }
        w->vg_of = -1;
        if (t->variants) GFUSE_TRY(gfuse_i_variant_graph_alloc(&w->vg, t->full, t->e_cap));
        GFUSE_TRY(gfuse_i_acts_alloc(&w->acts, &m->arch, n, t->e_cap, work, dec_rows));
    }
    if (t->n_workers > 1) {
        int K2 = o->ensemble;
        report_queue *q = &t->q;
        q->buf = gfuse_i_zalloc(K2, sizeof *q->buf);
        q->n = gfuse_i_zalloc(K2, sizeof(int));
        q->sent = gfuse_i_zalloc(K2, sizeof(int));
        q->done = gfuse_i_zalloc(K2, sizeof(int));
        GFUSE_TRY_MEM(q->buf && q->n && q->sent && q->done, "the trainer");
        for (int k = 0; k < K2; k++) {
            q->buf[k] = gfuse_i_alloc(o->epochs, sizeof(gfuse_epoch_report));
            GFUSE_TRY_MEM(q->buf[k], "the trainer");
        }
    }
done: /* what was built belongs to the trainer (trainer_free) and the model */
    free(hidden);
    return st;
}

/* Trains every member: one after the other, each using all the threads, or side by side, one
 * per thread with BLAS and the kernels single-threaded. The first failing member's error is
 * the result. */
static gfuse_status train_members(trainer *t)
{
    gfuse_model *m = t->m;
    gfuse_status st = GFUSE_OK;
    gfuse_status *status = NULL;
    char (*message)[256] = NULL;
    if (t->n_workers == 1) {
        for (int k = 0; k < m->n_members; k++) GFUSE_TRY(train_member(t, &t->workers[0], k));
        goto done;
    }
    int n = m->n_members;
    status = gfuse_i_zalloc(n, sizeof *status);
    message = gfuse_i_zalloc(n, sizeof *message);
    GFUSE_TRY_MEM(status && message, "the trainer");
    int blas = gfuse_i_blas_serial_begin();
#pragma omp parallel num_threads(t->n_workers)
    {
        worker *w = &t->workers[omp_get_thread_num()];
        omp_set_num_threads(1); /* this thread's kernels */
#pragma omp for schedule(dynamic, 1)
        for (int k = 0; k < n; k++) {
            status[k] = train_member(t, w, k);
            if (status[k] != GFUSE_OK)
                snprintf(message[k], sizeof message[k], "%s", gfuse_last_error());
            report_done(t, k);
        }
    }
    gfuse_i_blas_serial_end(blas);
    for (int k = 0; k < n; k++)
        if (status[k] != GFUSE_OK) GFUSE_FAIL(gfuse_i_error(status[k], "%s", message[k]));
done:
    free(status);
    free(message);
    return st;
}

/* Candidate j of n_mix: j * mix_step to 9 decimals (so 3 * 0.1 is 0.3), the last one 1. */
static double mix_at(const gfuse_train_options *o, int j, int n_mix)
{
    return j == n_mix - 1 ? 1.0 : floor(j * o->mix_step * 1e9 + 0.5) / 1e9;
}

int gfuse_i_mix_choice(const double *loss, const double *weight, int64_t n_rows, int n_mix)
{
    if (n_mix <= 1 || n_rows <= 0) return 0;
    double wsum = 0.0, w2sum = 0.0;
    for (int64_t r = 0; r < n_rows; r++) {
        double w = weight ? weight[r] : 1.0;
        wsum += w;
        w2sum += w * w;
    }
    if (wsum <= 0.0) return 0;
    int best = 0;
    double best_mean = HUGE_VAL;
    for (int j = 0; j < n_mix; j++) {
        double sum = 0.0;
        for (int64_t r = 0; r < n_rows; r++)
            sum += (weight ? weight[r] : 1.0) * loss[(int64_t)j * n_rows + r];
        if (sum / wsum < best_mean) {
            best_mean = sum / wsum;
            best = j;
        }
    }
    /* the effective number of rows of a weighted mean: (sum w)^2 / sum w^2 */
    double n_eff = wsum * wsum / w2sum;
    for (int j = n_mix - 1; j > best; j--) {
        const double *a = loss + (int64_t)j * n_rows, *b = loss + (int64_t)best * n_rows;
        double mean = 0.0, var = 0.0;
        for (int64_t r = 0; r < n_rows; r++) mean += (weight ? weight[r] : 1.0) * (a[r] - b[r]);
        mean /= wsum;
        for (int64_t r = 0; r < n_rows; r++) {
            double d = a[r] - b[r] - mean;
            var += (weight ? weight[r] : 1.0) * d * d;
        }
        var /= wsum;
        if (mean <= sqrt(var / n_eff)) return j;
    }
    return best;
}

/* With mix_step: the linear mix chosen by gfuse_i_mix_choice from the task loss of every
 * candidate on the validation rows of the members (each member's own, in member order); the
 * model keeps it. Without validation rows the given mix stays. */
static gfuse_status choose_mix(trainer *t)
{
    gfuse_model *m = t->m;
    const gfuse_train_options *o = t->o;
    if (o->mix_step <= 0.0) return GFUSE_OK;
    gfuse_status st = GFUSE_OK;
    int n_mix = (int)floor(1.0 / o->mix_step + 1e-9) + 1;
    worker *w = &t->workers[0];
    int64_t n_rows = 0;
    for (int k = 0; k < m->n_members; k++) {
        int64_t n_tr, n_val;
        member_rows(t, w, k, &n_tr, &n_val);
        n_rows += n_val;
    }
    if (n_rows == 0) return GFUSE_OK;
    double *loss = gfuse_i_alloc((size_t)n_mix * (size_t)n_rows, sizeof *loss);
    double *weight = gfuse_i_alloc((size_t)n_rows, sizeof *weight);
    GFUSE_TRY_MEM(loss && weight, "the choice of the linear mix");
    const gfuse_i_arch *arch = &m->arch;
    gfuse_i_loss_spec spec = {.task = m->task,
                              .label = t->label,
                              .target = t->target,
                              .class_w = t->class_w};
    gfuse_i_pass pass = {.node_head = o->node_vote > 0.0, .linear = 1,
                         .decoders = GFUSE_I_DEC_NONE};
    int64_t at = 0;
    for (int k = 0; k < m->n_members; k++) {
        int64_t n_tr, n_val;
        member_rows(t, w, k, &n_tr, &n_val);
        if (n_val == 0) continue;
        for (int64_t r = 0; r < n_val; r++) {
            int64_t i = w->rows_val[r];
            weight[at + r] = m->task == GFUSE_TASK_CLASSIFY && t->class_w ? t->class_w[t->label[i]]
                                                                          : 1.0;
        }
        pass.rows = w->rows_val;
        pass.n_rows = n_val;
        gfuse_i_model_forward(&w->acts, arch, &m->layout, m->params[k], t->full, &t->data, &pass);
        for (int j = 0; j < n_mix; j++) {
            gfuse_i_model_output_rows(&w->acts, arch, t->full, (float)o->node_vote,
                                      (float)mix_at(o, j, n_mix), w->rows_val, n_val);
            /* one row at a time: the row's own loss, whatever its class weight */
            for (int64_t r = 0; r < n_val; r++)
                loss[(int64_t)j * n_rows + at + r] =
                    gfuse_i_task_loss(&w->acts, arch, &spec, w->rows_val + r, 1);
        }
        at += n_val;
    }
    m->opts.linear_mix = mix_at(o, gfuse_i_mix_choice(loss, weight, n_rows, n_mix), n_mix);
done:
    free(loss);
    free(weight);
    return st;
}

/* An interrupted training: every member's state as it stopped goes into the checkpoint. */
static gfuse_status save_interrupted(trainer *t)
{
    int sig = gfuse_interrupted();
    if (!t->ck)
        return gfuse_i_error(GFUSE_ERR_INTERRUPTED, "interrupted by signal %d (no checkpoint)",
                             sig);
    gfuse_status st = gfuse_i_ckpt_write(t->ck);
    if (st != GFUSE_OK) return st;
    char where[256] = "";
    size_t len = 0;
    for (int k = 0; k < t->ck->n_members && len + 40 < sizeof where; k++) {
        const gfuse_i_member_state *ms = &t->ck->mem[k];
        if (ms->state == GFUSE_I_CKPT_NONE) continue;
        len += (size_t)snprintf(where + len, sizeof where - len, "%smember %d %s %d",
                                len ? ", " : "", k + 1,
                                ms->state == GFUSE_I_CKPT_DONE ? "done after" : "at epoch",
                                ms->epoch);
    }
    return gfuse_i_error(GFUSE_ERR_INTERRUPTED,
                         "interrupted by signal %d; checkpoint saved to %s%s%s%s", sig,
                         t->ck->path, len ? " (" : "", where, len ? ")" : "");
}

static void trainer_free(trainer *t)
{
    for (int k = 0; t->workers && k < t->n_workers; k++) {
        worker *w = &t->workers[k];
        gfuse_i_acts_free(&w->acts, &t->m->arch);
        free(w->rows_train);
        free(w->rows_val);
        free(w->grads);
        free(w->mom);
        free(w->vel);
        free(w->best);
        free(w->ema);
        free(w->snap);
        gfuse_i_graph_clear(&w->vg);
    }
    free(t->workers);
    for (int k = 0; t->q.buf && k < t->m->n_members; k++) free(t->q.buf[k]);
    free(t->q.buf);
    free(t->q.n);
    free(t->q.sent);
    free(t->q.done);
    gfuse_i_data_free(&t->data);
    for (int v = 0; v < t->n_variants + t->n_fit_variants; v++)
        gfuse_i_variant_links_free(&t->variants[v]);
    gfuse_i_variant_base_free(&t->vb);
    free(t->variants);
    gfuse_graph_free(&t->full);
    splits_free(&t->sp);
    free(t->label);
    free(t->target);
    free(t->class_w);
    free(t->decay);
    if (t->ck) gfuse_i_ckpt_free(t->ck);
    free(t->ck);
}

gfuse_status gfuse_train(gfuse_model **out, const gfuse_cohort *c, const gfuse_train_options *o)
{
    return gfuse_i_train(out, c, o, NULL);
}

gfuse_status gfuse_i_train(gfuse_model **out, const gfuse_cohort *c, const gfuse_train_options *o,
                           gfuse_i_train_stats *stats)
{
    GFUSE_CHECK_ARG(out != NULL, "out must not be NULL");
    *out = NULL;
    GFUSE_CHECK_ARG(c != NULL, "cohort must not be NULL");
    GFUSE_CHECK_ARG(o != NULL, "options must not be NULL");
    gfuse_status st = gfuse_train_options_check(o, GFUSE_OPT_BY_NAME);
    if (st != GFUSE_OK) return st;
    gfuse_task ctask = c->task;
    if (ctask == GFUSE_TASK_AUTO)
        return gfuse_i_error(GFUSE_ERR_DATA, "the cohort has no labels to train on");
    gfuse_task task = o->task == GFUSE_TASK_AUTO ? ctask : o->task;
    if (task != ctask)
        return gfuse_i_error(GFUSE_ERR_ARG,
                             "the task is %s but the cohort's labels were read for %s: load "
                             "the cohort with the same task",
                             task == GFUSE_TASK_REGRESS ? "regress" : "classify",
                             ctask == GFUSE_TASK_REGRESS ? "regression" : "classification");
    if (task == GFUSE_TASK_CLASSIFY && c->n_classes < 2)
        return gfuse_i_error(GFUSE_ERR_DATA,
                             "classification needs at least 2 classes, the labels have %d",
                             c->n_classes);

    trainer t;
    memset(&t, 0, sizeof t);
    gfuse_model *m = NULL;
    st = gfuse_i_model_new(&m);
    if (st != GFUSE_OK) return st;
    t.m = m;
    t.c = c;
    t.o = o;
    t.stats = stats;
    double s0 = omp_get_wtime();
    st = skeleton(m, c, task, o);
    if (st == GFUSE_OK) st = gfuse_i_train_memory_check(m, c, o);
    if (st == GFUSE_OK) st = prepare(&t);
    if (stats) stats->setup_s = omp_get_wtime() - s0;
    if (st == GFUSE_OK) st = train_members(&t);
    if (st == GFUSE_OK) st = choose_mix(&t);
    if (st == GFUSE_ERR_INTERRUPTED) st = save_interrupted(&t);
    for (int k = 0; k < t.n_workers && stats && t.n_workers > 1; k++) {
        const gfuse_i_train_stats *ws = &t.workers[k].stats;
        stats->forward_s += ws->forward_s;
        stats->backward_s += ws->backward_s;
        stats->optimizer_s += ws->optimizer_s;
        stats->eval_s += ws->eval_s;
        stats->refit_s += ws->refit_s;
        stats->epochs += ws->epochs;
    }
    trainer_free(&t);
    if (st != GFUSE_OK) {
        gfuse_model_free(&m);
        return st;
    }
    *out = m;
    return GFUSE_OK;
}
