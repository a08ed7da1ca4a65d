/* checkpoint.h: training checkpoints (README.md, "Checkpoints"): the state of a training at
 * epoch boundaries, saved in the model-file container (modelfile.h) under the magic
 * GFUSE_I_CKPT_MAGIC, and read back to resume.
 *
 * Sections of a checkpoint:
 *   hparams               the model file's hyperparameters (gfuse_i_model_hparams): a resumed
 *                         run must have the very same
 *   data_digest           i64 x 4, digests of the data as the trainer sees it: ids and names,
 *                         values and mask, labels, split
 *   shape                 i64 {members, parameters per member, epochs}
 *   member/<k>/state      i32 {state, epochs done, best epoch, epochs without improvement}
 *   member/<k>/loss       f64 {best validation loss, seconds of training so far}
 *   member/<k>/reports    f64, 9 per epoch done: the epoch reports (replayed on resume)
 *   member/<k>/params     f32, the weights (a finished member: its final weights)
 *   member/<k>/rng, mom, vel, best, ema   a member in training only: its random state
 *                         (bytes), AdamW moments, best weights so far, moving average
 * What is derived from the seed (splits, modality-dropout graphs) is not stored: a resumed
 * run derives it again.
 */
#ifndef GFUSE_MODEL_CHECKPOINT_H
#define GFUSE_MODEL_CHECKPOINT_H

#include "model/model.h"
#include "model/modelfile.h"
#include "core/rng.h"

enum {
    GFUSE_I_CKPT_NONE = 0,     /* not started: trains from the start */
    GFUSE_I_CKPT_TRAINING = 1, /* stopped after .epoch epochs */
    GFUSE_I_CKPT_DONE = 2      /* finished (early stopping, refit): .params are final */
};

/* One member's state at an epoch boundary. The arrays are borrowed: the trainer's buffers,
 * its copies of them, or the arrays of the checkpoint resumed from. */
typedef struct {
    int state;
    int epoch;      /* epochs done (also the number of reports) */
    int best_epoch; /* the epoch whose weights are kept so far */
    int bad;        /* epochs since the last better validation loss */
    double best_loss, seconds;
    gfuse_i_rng rng;
    const float *params, *mom, *vel, *best, *ema; /* TRAINING: all; DONE: params */
    gfuse_epoch_report *reports; /* owned: room for every epoch */
} gfuse_i_member_state;

typedef struct {
    const char *path;
    int every;
    int n_members, epochs;
    int64_t np;
    uint64_t digest[4];
    char **kv; /* the hyperparameters */
    int n_kv;
    gfuse_i_member_state *mem; /* n_members */
    gfuse_i_mfile *loaded;     /* the checkpoint resumed from (the states may point into it) */
} gfuse_i_ckpt;

/* Prepares checkpoints for a training of m (skeleton built, options o) on cohort c; label and
 * target are the trainer's (per sample). With o->resume, reads o->checkpoint, refuses it
 * (GFUSE_ERR_ARG naming what differs) when it is of other data or options, and fills the
 * member states from it; a damaged or foreign file is GFUSE_ERR_MODEL. */
gfuse_status gfuse_i_ckpt_init(gfuse_i_ckpt *ck, const gfuse_model *m, const gfuse_cohort *c,
                               const gfuse_train_options *o, const int32_t *label,
                               const float *target);
/* Writes every member's state to ck->path (temp file renamed into place). */
gfuse_status gfuse_i_ckpt_write(const gfuse_i_ckpt *ck);
void gfuse_i_ckpt_free(gfuse_i_ckpt *ck);

#endif
