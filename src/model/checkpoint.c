/* checkpoint.c: writing and reading training checkpoints (checkpoint.h), and the digests
 * that tie a checkpoint to its data and options. */
#include "model/checkpoint.h"

#include "model/options.h"
#include "core/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- digests ------------------------------------------------------------------------------ */

static uint64_t digest(uint64_t h, const void *buf, size_t n) { return gfuse_i_digest(h, buf, n); }

static uint64_t digest_string(uint64_t h, const char *s) { return digest(h, s, strlen(s) + 1); }

#define DIGEST_SEED GFUSE_I_DIGEST_SEED

/* What the digests cover, in the order of data_digest. */
static const char *const digest_what[4] = {
    "the sample ids or the modality, feature or class names",
    "the feature values or the modalities each sample has (the mask)", "the labels",
    "the split"};

static void data_digest(uint64_t out[4], const gfuse_model *m, const gfuse_cohort *c,
                        const int32_t *label, const float *target)
{
    const gfuse_i_samples *s = &m->ref;
    int64_t n = s->n;
    uint64_t h = digest(DIGEST_SEED, &n, sizeof n);
    for (int64_t i = 0; i < n; i++) h = digest_string(h, s->id[i]);
    for (int j = 0; j < m->arch.M; j++) {
        h = digest_string(h, m->mod_name[j]);
        for (int64_t f = 0; f < m->arch.d[j]; f++) h = digest_string(h, m->feat_name[j][f]);
    }
    for (int k = 0; k < m->n_classes; k++) h = digest_string(h, m->class_name[k]);
    out[0] = h;
    h = digest(DIGEST_SEED, s->has, (size_t)(n * s->M));
    for (int j = 0; j < s->M; j++)
        for (int64_t i = 0; i < n; i++)
            if (s->has[(int64_t)j * n + i])
                h = digest(h, s->x[j] + i * s->d[j], (size_t)s->d[j] * sizeof(float));
    out[1] = h;
    h = digest(DIGEST_SEED, label, (size_t)n * sizeof *label);
    out[2] = digest(h, target, (size_t)n * sizeof *target);
    h = digest(DIGEST_SEED, &c->has_split, sizeof c->has_split);
    if (c->has_split) h = digest(h, c->split, (size_t)n * sizeof *c->split);
    out[3] = h;
}

/* ---- writing ------------------------------------------------------------------------------ */

#define REPORT_VALUES 9

static void report_values(double v[REPORT_VALUES], const gfuse_epoch_report *r)
{
    v[0] = r->member;
    v[1] = r->epoch;
    v[2] = r->train_loss;
    v[3] = r->task_loss;
    v[4] = r->rec_loss;
    v[5] = r->val_loss;
    v[6] = r->val_metric;
    v[7] = r->best_epoch;
    v[8] = r->seconds;
}

static void report_from(gfuse_epoch_report *r, const double v[REPORT_VALUES], int n_members,
                        int epochs)
{
    memset(r, 0, sizeof *r);
    r->member = (int)v[0];
    r->n_members = n_members;
    r->epoch = (int)v[1];
    r->max_epochs = epochs;
    r->train_loss = v[2];
    r->task_loss = v[3];
    r->rec_loss = v[4];
    r->val_loss = v[5];
    r->val_metric = v[6];
    r->best_epoch = (int)v[7];
    r->seconds = v[8];
}

static void put_member(gfuse_i_mfile_writer *w, const gfuse_i_ckpt *ck, int k)
{
    const gfuse_i_member_state *ms = &ck->mem[k];
    char name[64];
    int32_t state[4] = {ms->state, ms->epoch, ms->best_epoch, ms->bad};
    double loss[2] = {ms->best_loss, ms->seconds};
    snprintf(name, sizeof name, "member/%d/state", k);
    gfuse_i_mfile_put_i32(w, name, state, 4);
    if (ms->state == GFUSE_I_CKPT_NONE) return;
    snprintf(name, sizeof name, "member/%d/loss", k);
    gfuse_i_mfile_put_f64(w, name, loss, 2);
    snprintf(name, sizeof name, "member/%d/reports", k);
    gfuse_i_mfile_begin_section(w, name, GFUSE_I_MFILE_F64, (int64_t)ms->epoch * REPORT_VALUES, 0);
    for (int e = 0; e < ms->epoch; e++) {
        double v[REPORT_VALUES];
        report_values(v, &ms->reports[e]);
        gfuse_i_mfile_write_data(w, v, sizeof v);
    }
    gfuse_i_mfile_end_section(w);
    snprintf(name, sizeof name, "member/%d/params", k);
    gfuse_i_mfile_put_f32(w, name, ms->params, ck->np);
    if (ms->state != GFUSE_I_CKPT_TRAINING) return;
    snprintf(name, sizeof name, "member/%d/rng", k);
    gfuse_i_mfile_put_bytes(w, name, &ms->rng, (int64_t)sizeof ms->rng);
    const char *what[4] = {"mom", "vel", "best", "ema"};
    const float *arr[4] = {ms->mom, ms->vel, ms->best, ms->ema};
    for (int a = 0; a < 4; a++) {
        snprintf(name, sizeof name, "member/%d/%s", k, what[a]);
        gfuse_i_mfile_put_f32(w, name, arr[a], ck->np);
    }
}

gfuse_status gfuse_i_ckpt_write(const gfuse_i_ckpt *ck)
{
    gfuse_i_mfile_writer w;
    gfuse_status st = gfuse_i_mfile_writer_open_magic(&w, ck->path, GFUSE_I_CKPT_MAGIC);
    if (st != GFUSE_OK) return st;
    gfuse_i_mfile_put_strings(&w, GFUSE_I_MFILE_HPARAMS, (const char *const *)ck->kv, ck->n_kv);
    int64_t dg[4], shape[3] = {ck->n_members, ck->np, ck->epochs};
    memcpy(dg, ck->digest, sizeof dg);
    gfuse_i_mfile_put_i64(&w, "data_digest", dg, 4);
    gfuse_i_mfile_put_i64(&w, "shape", shape, 3);
    for (int k = 0; k < ck->n_members; k++) put_member(&w, ck, k);
    return gfuse_i_mfile_writer_commit(&w);
}

/* ---- reading ------------------------------------------------------------------------------ */

/* The reader's messages call every file a model file: this one is a checkpoint. */
static gfuse_status as_checkpoint(gfuse_status st)
{
    const char *msg = gfuse_last_error();
    const char *at = msg ? strstr(msg, "model file") : NULL;
    if (st == GFUSE_OK || !at) return st;
    char buf[1024];
    snprintf(buf, sizeof buf, "%.*scheckpoint%s", (int)(at - msg), msg, at + strlen("model file"));
    return gfuse_i_error(st, "%s", buf);
}

/* The option a "key=value" entry belongs to, as a flag when it has one. */
static void entry_name(char *buf, size_t size, const char *kv)
{
    const char *eq = strchr(kv, '=');
    size_t len = eq ? (size_t)(eq - kv) : strlen(kv);
    for (int k = 0; k < gfuse_train_option_count(); k++) {
        const gfuse_train_option *t = gfuse_train_option_at(k);
        if (strlen(t->key) == len && strncmp(t->key, kv, len) == 0 && t->flag) {
            char v[32];
            const char *value = eq ? eq + 1 : "";
            if (t->type == GFUSE_OPT_DOUBLE && *value) {
                gfuse_format_double(v, sizeof v, strtod(value, NULL));
                value = v;
            }
            snprintf(buf, size, "--%s %s", t->flag, value);
            return;
        }
    }
    snprintf(buf, size, "%s", kv);
}

static gfuse_status compare_options(const gfuse_i_ckpt *ck, const gfuse_i_mfile *r)
{
    const char *path = ck->path;
    const char *const *kv = NULL;
    int64_t n = 0;
    gfuse_status st = gfuse_i_mfile_get_strings(r, GFUSE_I_MFILE_HPARAMS, &kv, &n);
    if (st != GFUSE_OK) return as_checkpoint(st);
    for (int64_t k = 0; k < n || k < ck->n_kv; k++) {
        const char *was = k < n ? kv[k] : NULL, *now = k < ck->n_kv ? ck->kv[k] : NULL;
        if (was && now && strcmp(was, now) == 0) continue;
        char a[256], b[256];
        entry_name(a, sizeof a, was ? was : "(nothing)");
        entry_name(b, sizeof b, now ? now : "(nothing)");
        return gfuse_i_error(GFUSE_ERR_ARG,
                             "checkpoint %s was written with %s, this run has %s: resume with "
                             "the options the training started with",
                             path, a, b);
    }
    return GFUSE_OK;
}

static gfuse_status bad_member(const gfuse_i_ckpt *ck, int k, const char *what)
{
    return gfuse_i_error(GFUSE_ERR_MODEL, "checkpoint %s is corrupted (member %d: %s)", ck->path,
                         k + 1, what);
}

static gfuse_status get_floats(const gfuse_i_ckpt *ck, const gfuse_i_mfile *r, int k,
                               const char *what, const float **out)
{
    char name[64];
    snprintf(name, sizeof name, "member/%d/%s", k, what);
    return as_checkpoint(gfuse_i_mfile_get_f32_n(r, name, ck->np, out));
}

static gfuse_status read_member(gfuse_i_ckpt *ck, const gfuse_i_mfile *r, int k)
{
    gfuse_i_member_state *ms = &ck->mem[k];
    char name[64];
    const int32_t *state = NULL;
    const double *loss = NULL, *rep = NULL;
    int64_t n = 0;
    snprintf(name, sizeof name, "member/%d/state", k);
    gfuse_status st = as_checkpoint(gfuse_i_mfile_get_i32(r, name, &state, &n));
    if (st != GFUSE_OK) return st;
    if (n != 4) return bad_member(ck, k, "a state of other size");
    if (state[0] == GFUSE_I_CKPT_NONE) return GFUSE_OK;
    if (state[0] != GFUSE_I_CKPT_TRAINING && state[0] != GFUSE_I_CKPT_DONE)
        return bad_member(ck, k, "unknown state");
    if (state[1] < 1 || state[1] > ck->epochs || state[2] < 0 || state[2] > state[1] ||
        state[3] < 0 || state[3] > state[1])
        return bad_member(ck, k, "epochs out of range");
    ms->state = state[0];
    ms->epoch = state[1];
    ms->best_epoch = state[2];
    ms->bad = state[3];
    snprintf(name, sizeof name, "member/%d/loss", k);
    if ((st = as_checkpoint(gfuse_i_mfile_get_f64(r, name, &loss, &n))) != GFUSE_OK) return st;
    if (n != 2) return bad_member(ck, k, "no loss");
    ms->best_loss = loss[0];
    ms->seconds = loss[1];
    snprintf(name, sizeof name, "member/%d/reports", k);
    if ((st = as_checkpoint(gfuse_i_mfile_get_f64(r, name, &rep, &n))) != GFUSE_OK) return st;
    if (n != (int64_t)ms->epoch * REPORT_VALUES) return bad_member(ck, k, "reports missing");
    for (int e = 0; e < ms->epoch; e++)
        report_from(&ms->reports[e], rep + (int64_t)e * REPORT_VALUES, ck->n_members, ck->epochs);
    if ((st = get_floats(ck, r, k, "params", &ms->params)) != GFUSE_OK) return st;
    if (ms->state != GFUSE_I_CKPT_TRAINING) return GFUSE_OK;
    const void *rng = NULL;
    snprintf(name, sizeof name, "member/%d/rng", k);
    if ((st = as_checkpoint(gfuse_i_mfile_get_bytes(r, name, &rng, &n))) != GFUSE_OK) return st;
    if (n != (int64_t)sizeof ms->rng) return bad_member(ck, k, "random state of other size");
    memcpy(&ms->rng, rng, sizeof ms->rng);
    if ((st = get_floats(ck, r, k, "mom", &ms->mom)) != GFUSE_OK) return st;
    if ((st = get_floats(ck, r, k, "vel", &ms->vel)) != GFUSE_OK) return st;
    if ((st = get_floats(ck, r, k, "best", &ms->best)) != GFUSE_OK) return st;
    return get_floats(ck, r, k, "ema", &ms->ema);
}

static gfuse_status load(gfuse_i_ckpt *ck)
{
    gfuse_i_mfile *r = NULL;
    gfuse_status st = gfuse_i_mfile_read_magic(&r, ck->path, GFUSE_I_CKPT_MAGIC,
                                               "gfuse training checkpoint");
    if (st != GFUSE_OK) return as_checkpoint(st);
    ck->loaded = r;
    const int64_t *dg = NULL, *shape = NULL;
    if ((st = as_checkpoint(gfuse_i_mfile_get_i64_n(r, "data_digest", 4, &dg))) != GFUSE_OK)
        return st;
    for (int k = 0; k < 4; k++)
        if ((uint64_t)dg[k] != ck->digest[k])
            return gfuse_i_error(GFUSE_ERR_ARG,
                                 "checkpoint %s was written for other data (%s differ): resume "
                                 "with the cohort the training started with",
                                 ck->path, digest_what[k]);
    if ((st = compare_options(ck, r)) != GFUSE_OK) return st;
    if ((st = as_checkpoint(gfuse_i_mfile_get_i64_n(r, "shape", 3, &shape))) != GFUSE_OK)
        return st;
    if (shape[0] != ck->n_members || shape[1] != ck->np || shape[2] != ck->epochs)
        return gfuse_i_error(GFUSE_ERR_MODEL,
                             "checkpoint %s holds %lld members of %lld parameters, this "
                             "training has %d of %lld",
                             ck->path, (long long)shape[0], (long long)shape[1], ck->n_members,
                             (long long)ck->np);
    for (int k = 0; k < ck->n_members && st == GFUSE_OK; k++) st = read_member(ck, r, k);
    return st;
}

/* ---- setup -------------------------------------------------------------------------------- */

gfuse_status gfuse_i_ckpt_init(gfuse_i_ckpt *ck, const gfuse_model *m, const gfuse_cohort *c,
                               const gfuse_train_options *o, const int32_t *label,
                               const float *target)
{
    memset(ck, 0, sizeof *ck);
    ck->path = o->checkpoint;
    ck->every = o->checkpoint_every;
    ck->n_members = o->ensemble;
    ck->epochs = o->epochs;
    ck->np = m->layout.total;
    data_digest(ck->digest, m, c, label, target);
    gfuse_status st = gfuse_i_model_hparams(m, &ck->kv, &ck->n_kv);
    if (st != GFUSE_OK) return st;
    ck->mem = gfuse_i_zalloc((size_t)ck->n_members, sizeof *ck->mem);
    if (!ck->mem) return gfuse_i_nomem("the checkpoint");
    for (int k = 0; k < ck->n_members; k++) {
        ck->mem[k].best_loss = INFINITY;
        ck->mem[k].reports = gfuse_i_zalloc((size_t)ck->epochs, sizeof *ck->mem[k].reports);
        if (!ck->mem[k].reports) return gfuse_i_nomem("the checkpoint");
    }
    return o->resume ? load(ck) : GFUSE_OK;
}

void gfuse_i_ckpt_free(gfuse_i_ckpt *ck)
{
    for (int k = 0; ck->mem && k < ck->n_members; k++) free(ck->mem[k].reports);
    free(ck->mem);
    gfuse_i_free_strings(ck->kv, gfuse_train_option_count());
    gfuse_i_mfile_free(&ck->loaded);
    memset(ck, 0, sizeof *ck);
}
