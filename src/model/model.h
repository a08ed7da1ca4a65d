/*
 * model.h: the gfuse model's internals (README.md, "The model"): parameter layout, sample sets,
 * the forward pass, the losses and the backward pass, shared by model.c (the network),
 * model_data.c (sample sets, standardisation, graphs), model_io.c (model files), train.c and
 * predict.c.
 *
 * Dimension letters (as in src/nn/layers.h): N samples, M modalities, J = M + 1 slots per sample,
 * V = N * J nodes, E edges, d_m features of modality m, F node width = H heads * D per head,
 * L attention layers, A fusion attention width, K outputs (classes, or 1 for regression).
 *
 * The network, for one sample set and one graph:
 *   x_m (N x d_m)    standardised features, NaN cells -> 0, input dropout
 *   h0 (V x F)       observed (i,m): ELU(W_m x(i,m) + b_m) + e_m; missing (i,m): token t_m;
 *                    hub i: the hub token
 *   h_l (V x F)      h_l = ELU(GAT_l(W_l dropout(h_{l-1}))) + h_{l-1},   l = 1..L
 *   rec_m (N x d_m)  decoder: Wd_m u(i) + bd_m (standardised units), u(i) = the final states
 *                    of all of sample i's nodes side by side [h_L(i,0) .. h_L(i,M-1), h_L(hub)]
 *                    and the linear encodings W_m' x(i,m') + b_m' of its observed modalities
 *                    (0 for missing ones): every modality in its own slot, so a linear map
 *                    can read it whatever else is missing, and the encodings keep all the
 *                    linear information of the inputs that the nonlinear states may not
 *   fused (N x F)    attention over each sample's observed modality nodes and hub
 *   logits (N x K)   W2 dropout(ELU(W1 dropout(fused) + b1)) + b2
 *   lin (V x K)      the linear path: observed (i,m): Wl_m x(i,m) + bl_m on the standardised
 *                    features before input dropout (a logistic or linear regression per
 *                    modality); the output mixes in their mean over the observed modalities
 * Losses: task (softmax cross-entropy with class weights, or MSE on standardised targets) over
 * the training rows, plus lambda_rec times the reconstruction MSE of the modality nodes the
 * graph hides although the sample has them (modality dropout), averaged over modalities, plus
 * lambda_node times the same task loss of the head applied to each observed modality node of
 * the training samples on its own (deep supervision: every modality must predict by itself,
 * which keeps the fusion robust when modalities go missing), plus lambda_lin times the same
 * task loss of the linear path over the observed modality nodes of the training samples and
 * linear_l2 / 2 times the sum of squares of its weights (a regularised linear model per
 * modality: what late fusion does well, inside the model).
 */
#ifndef GFUSE_MODEL_H
#define GFUSE_MODEL_H

#include "graph/graph.h"
#include "core/internal.h"
#include "core/rng.h"
#include "nn/head.h"

/* ---- architecture and parameter layout ---------------------------------------------------- */

typedef struct {
    int M;        /* modalities */
    int64_t *d;   /* M feature counts (owned) */
    int F, H, D;  /* node width, heads, width per head (F = H * D) */
    int L;        /* attention layers */
    int A;        /* fusion attention width */
    int K;        /* outputs */
} gfuse_i_arch;

enum { GFUSE_I_INIT_ZERO = 0, GFUSE_I_INIT_GLOROT = 1, GFUSE_I_INIT_NORMAL = 2 };

/* One tensor of the parameter buffer. */
typedef struct {
    char name[48];   /* e.g. "encoder.0.weight" (modality or layer index) */
    int64_t offset;
    int64_t count;
    int fan_in;      /* Glorot fans (a vector uses its length and 1) */
    int fan_out;
    int init;        /* GFUSE_I_INIT_* */
    int decay;       /* 1: AdamW weight decay applies (weights, not biases or tokens) */
} gfuse_i_tensor;

/* Offsets of every tensor in one float buffer: parameters, gradients and AdamW moments all use
 * it, so zeroing the gradients is one memset and a member's weights are one array. */
typedef struct {
    int64_t *enc_W, *enc_b, *enc_e, *tok_miss; /* per modality: F x d_m, F, F, F */
    int64_t *dec_W, *dec_b;                    /* per modality: d_m x (2M+1)F, d_m */
    int64_t tok_hub;                           /* F */
    int64_t *gat_W, *att_src, *att_dst;        /* per layer: F x F, R x H x D, R x H x D */
    int64_t fus_U, fus_c, fus_w;               /* A x F, A, A */
    int64_t head_W1, head_b1, head_W2, head_b2;/* F x F, F, K x F, K */
    int64_t *lin_W, *lin_b;                    /* per modality: K x d_m, K (linear path) */
    int64_t total;
    int n_tensors;
    gfuse_i_tensor *tensors;
} gfuse_i_layout;

gfuse_status gfuse_i_layout_init(gfuse_i_layout *lay, const gfuse_i_arch *arch);
void gfuse_i_layout_free(gfuse_i_layout *lay);
void gfuse_i_arch_free(gfuse_i_arch *arch);

/* Draws initial parameters: Glorot-uniform weights, zero biases, small normal tokens. */
void gfuse_i_params_init(float *params, const gfuse_i_layout *lay, gfuse_i_rng *rng);

/* ---- sample sets ---------------------------------------------------------------------------- */

/* Samples with their raw modality values, in graph order (sample i is node row i). The
 * reference samples a model stores, and the union of references and new samples at predict. */
typedef struct {
    int64_t n;
    int M;
    int64_t *d;     /* M feature counts */
    char **id;      /* n ids */
    uint8_t *has;   /* M x n, index m * n + i (view.h's layout): 1 when sample i has modality m */
    float **x;      /* per modality: n x d_m raw values, NaN cells missing, NaN rows where !has */
} gfuse_i_samples;

gfuse_status gfuse_i_samples_alloc(gfuse_i_samples *s, int64_t n, int M, const int64_t *d);
void gfuse_i_samples_free(gfuse_i_samples *s);

/* The view of a sample set (view.h): everything borrowed from s, nothing to release. */
void gfuse_i_samples_view(gfuse_i_view *v, const gfuse_i_samples *s);
/* Builds the graph of a sample set from its view: hidden (M x n or NULL) hides modalities as a
 * mask file would; sender (n or NULL = all) marks who sends knn edges. */
gfuse_status gfuse_i_samples_graph(struct gfuse_graph **g, const gfuse_i_samples *s,
                                   const uint8_t *hidden, const uint8_t *sender, int k);
/* What the modality-dropout graphs of s share (gfuse_i_variant_base_new): full is the graph
 * gfuse_i_samples_graph built for s with no hidden mask, no sender restriction and the same k,
 * and must outlive *b. Each variant is then gfuse_i_graph_variant(&g, *b, hidden) with hidden
 * M x n; free *b with gfuse_i_variant_base_free. */
gfuse_status gfuse_i_samples_variant_base(gfuse_i_variant_base **b,
                                          const struct gfuse_graph *full,
                                          const gfuse_i_samples *s, int k);

/* Standardised inputs of the network. */
typedef struct {
    int64_t n;
    int M;
    const int64_t *d;
    float **x;      /* per modality n x d_m: (raw - mean) / sd, NaN kept (missing cell or row) */
    const uint8_t *has; /* M x n (borrowed from the sample set) */
} gfuse_i_data;

/* Per-feature mean and sd over the rows the samples have (the standardiser of view.h, rounded
 * to float; sd 0 -> 1). */
gfuse_status gfuse_i_standard_stats(float **mean, float **sd, const gfuse_i_samples *s);
gfuse_status gfuse_i_data_make(gfuse_i_data *data, const gfuse_i_samples *s,
                               float *const *mean, float *const *sd);
void gfuse_i_data_free(gfuse_i_data *data);

/* ---- activations and passes ------------------------------------------------------------------ */

/* Everything a forward pass keeps for its backward pass, and the backward's scratch, sized for
 * N samples and at most E edges. */
typedef struct {
    int64_t N, V, E_cap;
    /* per modality: observed sample rows (graph order), their nodes, the missing nodes */
    int64_t *n_obs, *n_miss;
    int64_t **obs_rows, **obs_nodes, **miss_nodes;
    float **xin;        /* n_obs x d_m gathered inputs (NaN -> 0) */
    float **xdrop;      /* after input dropout: one array all modalities share, refilled by the
                         * backward pass */
    float **enc_pre, **enc_act; /* n_obs x F */
    int64_t *hub_nodes; /* N */
    float **h;          /* L + 1 node states V x F */
    float **hdrop;      /* per layer: dropout of h_{l-1}, during the forward pass only (it is
                         * dtmp1; the backward pass makes it again where z was) */
    float **z;          /* per layer: projected states (the backward pass overwrites them) */
    float **gout;       /* per layer: GAT output (before ELU) */
    float **alpha;      /* per layer: E_cap x H */
    float **s_src, **s_dst; /* per layer: V x R x H */
    int64_t **obs_pos;  /* per modality N: the row of sample i in enc_pre (-1: not observed) */
    int dec_mode;       /* GFUSE_I_DEC_* of the last forward pass */
    int64_t **rec_rows; /* per modality: the samples the decoders ran on, in order */
    int64_t *rec_n;     /* per modality: how many */
    float **rec;        /* per modality: rec_n x d_m decoder output, row s = sample rec_rows[s]
                         * (all N samples in order with GFUSE_I_DEC_ALL); dec_cap rows */
    float *dec_in;      /* up to dec_cap x (2M+1)F: the decoder input u(i) of the rows of one
                         * modality (of every sample with GFUSE_I_DEC_ALL), see
                         * gfuse_i_decoder_input_forward (nn/head.h) */
    int dec_in_of;      /* whose rows dec_in holds: a modality, M for all samples, -1 none */
    int64_t dec_cap;    /* the rows dec_in, ddec_in, rec and drec hold */
    float *ddec_in;     /* its gradient */
    float **ddec_enc;   /* per modality: n_obs x F, the decoders' gradient into enc_pre */
    int64_t **loss_rows;/* per modality: the hidden rows the reconstruction loss reads */
    int64_t **loss_pos; /* per modality: their rows in rec */
    int64_t *loss_n;    /* per modality: how many */
    int *rec_used;      /* per modality: 1 when the last loss reconstructed something */
    float *fused, *fweights, *fproj, *fscore;
    gfuse_i_head fh;    /* the head on the fused vectors (N rows): the prediction */
    gfuse_i_head nh;    /* the head on every node state (V rows): the per-node loss */
    int32_t *node_label;/* V: labels of the node rows of the per-node loss */
    float *node_target; /* V */
    int64_t *node_rows; /* V */
    const int64_t *head_rows; /* the samples the heads ran on in the last forward pass (NULL:
                               * all N), n_head_rows of them */
    int64_t n_head_rows;
    int64_t *head_nodes;      /* V: the nodes the per-node head ran on (with head_rows: the
                               * observed modality nodes of those samples), n_head_nodes */
    int64_t n_head_nodes;
    int64_t *last_nodes;      /* V: the nodes the last layer ran on in an evaluation pass with
                               * rows (every node of those samples), n_last of them */
    int64_t n_last;
    int64_t **need;           /* per layer l < L, V: in such a pass, the nodes whose state
                               * h[l] the pass reads (need[L] = last_nodes), ascending */
    int64_t *n_need;          /* per layer: how many */
    uint8_t *need_mark;       /* V: scratch of the need lists */
    float *lin_logits;  /* V x K: the linear path's outputs (observed modality nodes) */
    float *lin_probs;   /* V x K: their softmax (a copy for regression) */
    float *dlin;        /* V x K: the loss's gradient in lin_logits */
    float *lin_tmp;     /* N x K: one modality's rows */
    double lin_sq;      /* sum of squares of the linear path's weights (forward) */
    float lin_l2;       /* the L2 penalty the last loss applied (with lin_used) */
    int lin_used;       /* 1 when the last loss included the linear path */
    float *out;         /* N x K: the model's output (gfuse_i_model_output) */
    /* backward */
    float **drec;       /* per modality N x d_m, filled by the loss */
    float *dfused;
    float *dh, *dh_prev, *dtmp1, *dtmp2; /* V x F */
    float **denc_act, **denc_pre;        /* per modality n_obs cap (N) x F */
    float *work;        /* max(GAT work, fusion work V x (A + 1)) */
    int64_t work_cap;
    void *arena;        /* the one block every array above is carved from */
    size_t arena_bytes;
} gfuse_i_acts;

/* dec_rows: the most rows the decoders run on for one modality in a pass (N: every sample;
 * a pass asking for more aborts). The forward pass leaves what one backward pass needs. */
gfuse_status gfuse_i_acts_alloc(gfuse_i_acts *a, const gfuse_i_arch *arch, int64_t N,
                                int64_t E_cap, int64_t gat_work, int64_t dec_rows);
void gfuse_i_acts_free(gfuse_i_acts *a, const gfuse_i_arch *arch);

typedef struct {
    int training;        /* 1: dropout on */
    uint64_t seed;       /* dropout seed of this step */
    float dropout;       /* node states and head */
    float input_dropout; /* input features */
    float attn_dropout;  /* attention on edges */
    int node_head;       /* 1: also run the head on every node state (per-node loss) */
    int linear;          /* 1: also run the linear path */
    int decoders;        /* GFUSE_I_DEC_*: the rows the completion decoders run on */
    const int64_t *rows; /* the samples whose outputs the pass must give (NULL: every one):
                          * the fused head runs on them, the per-node head on their observed
                          * modality nodes, and in an evaluation pass without decoders every
                          * layer, the encoders and the fusion only at the nodes those outputs
                          * read (the need lists of the activations); the outputs and states
                          * elsewhere are left as they were */
    int64_t n_rows;
} gfuse_i_pass;

/* Rows of the completion decoders in a pass: every sample (inference, imputation, the decoder
 * refit; the zero default), only the nodes the graph hides although the sample has them (the
 * rows the reconstruction loss reads: training), or none (validation: the prediction does not
 * read the decoders). */
enum { GFUSE_I_DEC_ALL = 0, GFUSE_I_DEC_HIDDEN = 1, GFUSE_I_DEC_NONE = 2 };

/* Runs the network on data over graph g (g->n_samples == data->n). */
void gfuse_i_model_forward(gfuse_i_acts *a, const gfuse_i_arch *arch, const gfuse_i_layout *lay,
                           const float *params, const struct gfuse_graph *g,
                           const gfuse_i_data *data, const gfuse_i_pass *pass);

/* ---- losses and backward ----------------------------------------------------------------------- */

typedef struct {
    gfuse_task task;         /* CLASSIFY or REGRESS */
    const int32_t *label;    /* N classes (-1 none), classify */
    const float *target;     /* N standardised targets (NaN none), regress */
    const int64_t *rows;     /* the samples whose task loss counts */
    int64_t n_rows;
    const float *class_w;    /* K or NULL */
    float lambda_rec;        /* weight of the reconstruction loss; 0 = none */
    float lambda_node;       /* weight of the per-node loss (needs pass.node_head); 0 = none */
    float lambda_lin;        /* weight of the linear path's loss (needs pass.linear); 0 = none */
    float linear_l2;         /* L2 penalty on the linear path's weights (with lambda_lin) */
} gfuse_i_loss_spec;

typedef struct {
    double total, task, rec, node, lin; /* lin: the linear path's task loss (no penalty) */
} gfuse_i_loss_value;

/* The loss of the last forward pass; fills a->dlogits and a->drec with its gradient. */
gfuse_i_loss_value gfuse_i_model_loss(gfuse_i_acts *a, const gfuse_i_arch *arch,
                                      const struct gfuse_graph *g, const gfuse_i_data *data,
                                      const gfuse_i_loss_spec *spec);

/* Accumulates (+=) the gradient of the last loss into grads (layout of params). */
void gfuse_i_model_backward(float *grads, gfuse_i_acts *a, const gfuse_i_arch *arch,
                            const gfuse_i_layout *lay, const float *params,
                            const struct gfuse_graph *g, const gfuse_i_data *data,
                            const gfuse_i_pass *pass);

/* The chunk of rows of the decoder fit (training's, and gfuse_i_fit_decoders'). */
#define GFUSE_I_DEC_FIT_CHUNK 4096
/* Where gfuse_i_fit_decoders_from gets graph v of n_graphs (valid until the next call). */
typedef gfuse_status (*gfuse_i_graph_source)(void *user, int v, const struct gfuse_graph **g);
/* Refits the completion decoders over the graphs source gives one after the other: a modality
 * whose rows miss no cell adds chunk rows at a time to its normal equations, so the fit's
 * memory does not grow with the rows (while a modality has at most chunk rows, its sums are
 * those of one pass over all of them; beyond, they are taken chunk by chunk). With max_rows > 0
 * a modality takes at most max_rows hidden rows, the first ones in graph and sample order. */
gfuse_status gfuse_i_fit_decoders_from(float *params, const gfuse_i_arch *arch,
                                       const gfuse_i_layout *lay, gfuse_i_graph_source source,
                                       void *user, int n_graphs, const gfuse_i_data *data,
                                       gfuse_i_acts *a, double ridge, int64_t chunk,
                                       int64_t max_rows);

/* The graphs of an array, for gfuse_i_fit_decoders. */
static inline gfuse_status gfuse_i_graph_of_list(void *user, int v, const struct gfuse_graph **g)
{
    *g = ((struct gfuse_graph *const *)user)[v];
    return GFUSE_OK;
}

/* Refits the completion decoders of params by ridge regression from the inference-mode node
 * states of the nodes each graph hides (see model_decoder.c), in chunks of
 * GFUSE_I_DEC_FIT_CHUNK rows. */
static inline gfuse_status gfuse_i_fit_decoders(float *params, const gfuse_i_arch *arch,
                                                const gfuse_i_layout *lay,
                                                struct gfuse_graph *const *graphs, int n_graphs,
                                                const gfuse_i_data *data, gfuse_i_acts *a,
                                                double ridge)
{
    return gfuse_i_fit_decoders_from(params, arch, lay, gfuse_i_graph_of_list, (void *)graphs,
                                     n_graphs, data, a, ridge, GFUSE_I_DEC_FIT_CHUNK, 0);
}

/* The model's output of the last forward pass into a->out (N x K, standardised values for
 * regression): the fused head's probabilities, mixed with weight vote with the mean of the
 * per-node head over each sample's observed modality nodes (vote > 0 needs pass.node_head),
 * then with weight linear_mix with the mean of the linear path over them (linear_mix > 0
 * needs pass.linear). */
void gfuse_i_model_output(gfuse_i_acts *a, const gfuse_i_arch *arch, const struct gfuse_graph *g,
                          float vote, float linear_mix);
/* The same for the samples rows[s], s < n_rows, only (the rest of a->out is left as it was):
 * the rows of a forward pass with pass.rows, or a subset of them. */
void gfuse_i_model_output_rows(gfuse_i_acts *a, const gfuse_i_arch *arch,
                               const struct gfuse_graph *g, float vote, float linear_mix,
                               const int64_t *rows, int64_t n_rows);

/* The task loss of a->out (no gradient) over rows, for validation. */
double gfuse_i_task_loss(const gfuse_i_acts *a, const gfuse_i_arch *arch,
                         const gfuse_i_loss_spec *spec, const int64_t *rows, int64_t n_rows);

/* ---- training ----------------------------------------------------------------------------------- */

/* The choice among n_mix candidate outputs ordered from the most graph to the most linear:
 * loss[j * n_rows + r] is candidate j's loss on validation row r and weight[r] (NULL: 1) the
 * row's weight. Returns the last candidate whose weighted mean loss exceeds the least one's by
 * at most one standard error of the paired difference (the one-standard-error rule, leaning
 * to the simpler linear path); the first of the least when none after it qualifies. */
int gfuse_i_mix_choice(const double *loss, const double *weight, int64_t n_rows, int n_mix);

/* One AdamW step (decoupled weight decay on the entries with decay[j] = 1) at step t >= 1;
 * with ema (n) not NULL, then ema = ema_decay ema + (1 - ema_decay) p in the same pass. */
void gfuse_i_adamw_step(float *p, const float *g, float *mom, float *vel, const uint8_t *decay,
                        int64_t n, double lr, double wd, int t, float *ema, float ema_decay);

/* Where a training's time went (seconds, wall clock), for benchmarks. */
typedef struct {
    double graph_build_s; /* the full graph */
    double setup_s;       /* everything before the first epoch: skeleton, every graph, buffers */
    double forward_s;     /* training forward passes and losses, summed over epochs */
    double backward_s;    /* backward passes */
    double optimizer_s;   /* AdamW steps */
    double eval_s;        /* weight averaging and the validation forward passes */
    double refit_s;       /* the closing decoder refits */
    int64_t nodes, edges; /* of the full graph */
    int64_t epochs;       /* epochs run, all members together */
    double *epoch_s;      /* optional (caller's, epoch_cap entries): each epoch's duration */
    int64_t epoch_cap;
} gfuse_i_train_stats;

/* The "key=value" hyperparameters a model file stores (every option but the settings of the
 * run, and the model facts), in table order: *kv malloc-ed, n_kv strings (free with
 * gfuse_i_free_strings(*kv, gfuse_train_option_count())). Checkpoints compare them. */
gfuse_status gfuse_i_model_hparams(const gfuse_model *m, char ***kv, int *n_kv);

/* gfuse_train, timed into stats when it is not NULL (its fields are added to). */
gfuse_status gfuse_i_train(gfuse_model **out, const gfuse_cohort *c, const gfuse_train_options *o,
                           gfuse_i_train_stats *stats);

/* limits.c: the bytes a training of m's layout on c needs (parameters, optimiser state, inputs,
 * activations), and a GFUSE_ERR_NOMEM naming the estimate and the limit when it exceeds what
 * the process may use (RLIMIT_AS less the space in use, RLIMIT_DATA, or physical memory). */
double gfuse_i_train_memory_estimate(const gfuse_model *m, const gfuse_cohort *c,
                                     const gfuse_train_options *o);
gfuse_status gfuse_i_train_memory_check(const gfuse_model *m, const gfuse_cohort *c,
                                        const gfuse_train_options *o);

/* ---- the model handle -------------------------------------------------------------------------- */

struct gfuse_model {
    gfuse_train_options opts; /* as trained; callback cleared; class_weights -> class_w_opt */
    double *class_w_opt;
    gfuse_task task;
    gfuse_i_arch arch;
    gfuse_i_layout layout;
    int n_members;
    float **params;           /* per member: layout.total floats */
    int32_t *best_epoch;      /* per member */
    char **mod_name;          /* M */
    char ***feat_name;        /* M x d_m */
    int n_classes;
    char **class_name;
    float **mean, **sd;       /* standardisation per modality */
    double target_mean, target_sd;
    gfuse_i_samples ref;      /* the reference samples (raw values) */
};

/* An empty model (zeroed, names and samples to be filled). */
gfuse_status gfuse_i_model_new(gfuse_model **out);

/* Runs every member on a sample set (graph g over it) and averages: probs (N x K, values in
 * target units for regression), fusion (N x J), rec (per modality N x d_m, raw units; may be
 * NULL). */
gfuse_status gfuse_i_model_infer(const gfuse_model *m, const struct gfuse_graph *g,
                                 const gfuse_i_samples *s, float *probs, float *fusion,
                                 float **rec);

#endif
