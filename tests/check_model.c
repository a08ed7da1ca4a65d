/*
 * check_model.c: the whole model (src/model/model.c): gradients of the complete loss against central
 * differences on small random cohorts and their real graphs (missing nodes, hidden nodes under
 * modality dropout, all three relations, dropout on and off, classification and regression);
 * the parameter layout; model files (save -> load -> identical predictions, a flipped byte or a
 * truncation is an error); predictions (probabilities sum to 1, fusion weights sum to 1, new
 * samples leave the reference samples' predictions unchanged); the closing decoder fit (the
 * minimum of its ridge objective, a plain serial reference solution); imputation.
 */
#include "testutil.h"

#include "nn/gat.h"
#include "gradcheck.h"
#include "model/model.h"
#include "core/util.h"
#include "model/modelfile.h"

#include <float.h>
#include <math.h>
#include <sys/wait.h>

/* ---- a random cohort as a sample set ----------------------------------------------------- */

typedef struct {
    int N, M, d[4];
    int H, D, L, K; /* K = 1: regression */
    float drop;     /* dropout, input dropout and attention dropout */
    int hide;       /* hide some observed nodes (modality dropout) */
    int class_w;
    uint64_t seed;
    int decoders;   /* GFUSE_I_DEC_*: the decoder rows of the pass */
} grad_config;

static const grad_config grad_configs[] = {
    {6, 2, {3, 4}, 2, 2, 1, 3, 0.0f, 0, 0, 11, GFUSE_I_DEC_ALL},
    {7, 3, {2, 3, 4}, 1, 3, 2, 2, 0.2f, 1, 0, 12, GFUSE_I_DEC_HIDDEN},
    {6, 3, {3, 2, 3}, 3, 2, 2, 1, 0.2f, 1, 0, 13, GFUSE_I_DEC_ALL},
    {8, 2, {4, 3}, 2, 3, 3, 4, 0.0f, 1, 1, 14, GFUSE_I_DEC_ALL},
    {9, 4, {2, 2, 3, 2}, 2, 2, 2, 3, 0.15f, 1, 0, 15, GFUSE_I_DEC_HIDDEN},
};
#define N_GRAD_CONFIGS ((int)(sizeof grad_configs / sizeof grad_configs[0]))

static const char *const mod_names[4] = {"alpha", "beta", "gamma", "delta"};

/* Random raw values with some missing cells; every sample has at least one modality and every
 * modality at least two samples. */
static void random_samples(gfuse_i_samples *s, int N, int M, const int *d, gfuse_i_rng *r)
{
    int64_t dd[4];
    for (int m = 0; m < M; m++) dd[m] = d[m];
    ck_assert_int_eq(gfuse_i_samples_alloc(s, N, M, dd), GFUSE_OK);
    for (int64_t i = 0; i < N; i++) {
        s->id[i] = gfuse_i_asprintf("s%lld", (long long)i);
        int any = 0;
        for (int m = 0; m < M; m++) {
            int has = i < 2 || gfuse_i_rng_uniform(r) < 0.7;
            s->has[(int64_t)m * N + i] = (uint8_t)has;
            any |= has;
        }
        if (!any) s->has[(int64_t)gfuse_i_rng_below(r, (uint64_t)M) * N + i] = 1;
        for (int m = 0; m < M; m++) {
            if (!s->has[(int64_t)m * N + i]) continue;
            for (int f = 0; f < d[m]; f++)
                s->x[m][i * d[m] + f] = (f > 0 && gfuse_i_rng_uniform(r) < 0.1)
                                            ? NAN
                                            : (float)(2.0 * gfuse_i_rng_uniform(r) - 1.0);
        }
    }
}

typedef struct {
    gfuse_i_arch arch;
    gfuse_i_layout lay;
    gfuse_i_samples s;
    gfuse_i_data data;
    float *mean[4], *sd[4];
    struct gfuse_graph *g;
    gfuse_i_acts acts;
    gfuse_i_pass pass;
    gfuse_i_loss_spec spec;
    int32_t *label;
    float *target, *cw;
    int64_t *rows;
    float *P, *G;
} model_case;

static void model_case_make(model_case *c, const grad_config *cf)
{
    memset(c, 0, sizeof *c);
    gfuse_i_rng r;
    gfuse_i_rng_seed(&r, cf->seed);
    int N = cf->N, M = cf->M;
    random_samples(&c->s, N, M, cf->d, &r);
    ck_assert_int_eq(gfuse_i_standard_stats(c->mean, c->sd, &c->s), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_data_make(&c->data, &c->s, c->mean, c->sd), GFUSE_OK);
    uint8_t *hidden = calloc((size_t)(N * M), 1);
    int n_hidden = 0;
    for (int64_t i = 0; cf->hide && i < N; i++) {
        int kept = 0;
        for (int m = 0; m < M; m++) {
            int64_t v = (int64_t)m * N + i;
            if (!c->s.has[v]) continue;
            if (kept > 0 && gfuse_i_rng_uniform(&r) < 0.5) {
                hidden[v] = 1;
                n_hidden++;
            } else {
                kept++;
            }
        }
    }
    ck_assert(!cf->hide || n_hidden > 0);
    ck_assert_int_eq(gfuse_i_samples_graph(&c->g, &c->s, hidden, NULL, 2), GFUSE_OK);
    free(hidden);

    c->arch.M = M;
    c->arch.d = calloc((size_t)M, sizeof(int64_t));
    for (int m = 0; m < M; m++) c->arch.d[m] = cf->d[m];
    c->arch.H = cf->H;
    c->arch.D = cf->D;
    c->arch.F = cf->H * cf->D;
    c->arch.L = cf->L;
    c->arch.A = 3;
    c->arch.K = cf->K;
    ck_assert_int_eq(gfuse_i_layout_init(&c->lay, &c->arch), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_acts_alloc(&c->acts, &c->arch, N, c->g->n_edges,
                                        gfuse_i_gat_work_floats(c->g, cf->H, cf->D), N),
                     GFUSE_OK);
    c->P = gc_alloc(c->lay.total);
    c->G = gc_alloc(c->lay.total);
    gfuse_i_params_init(c->P, &c->lay, &r);
    for (int64_t t = 0; t < c->lay.total; t++) /* no zero biases or tokens */
        c->P[t] += (float)(0.1 * gfuse_i_rng_normal(&r));

    c->label = calloc((size_t)N, sizeof(int32_t));
    c->target = calloc((size_t)N, sizeof(float));
    c->rows = calloc((size_t)N, sizeof(int64_t));
    int64_t nr = 0;
    for (int64_t i = 0; i < N; i++) {
        int lab = i != 1; /* sample 1 is unlabelled */
        c->label[i] = lab ? (int32_t)(i % cf->K) : -1;
        c->target[i] = lab ? (float)gfuse_i_rng_normal(&r) : NAN;
        if (lab) c->rows[nr++] = i;
    }
    if (cf->class_w) {
        c->cw = calloc((size_t)cf->K, sizeof(float));
        for (int k = 0; k < cf->K; k++) c->cw[k] = 0.5f + (float)k;
    }
    c->spec.task = cf->K == 1 ? GFUSE_TASK_REGRESS : GFUSE_TASK_CLASSIFY;
    c->spec.label = c->label;
    c->spec.target = c->target;
    c->spec.rows = c->rows;
    c->spec.n_rows = nr;
    c->spec.class_w = c->cw;
    c->spec.lambda_rec = cf->hide ? 0.7f : 0.0f;
    c->spec.lambda_node = cf->seed % 2 ? 0.6f : 0.0f;
    c->pass.node_head = c->spec.lambda_node > 0.0f;
    c->spec.lambda_lin = cf->seed % 3 ? 0.8f : 0.0f; /* the linear path and its penalty */
    c->spec.linear_l2 = 0.3f;
    c->pass.linear = c->spec.lambda_lin > 0.0f;
    c->pass.training = cf->drop > 0.0f;
    c->pass.seed = cf->seed * 7919;
    c->pass.dropout = cf->drop;
    c->pass.input_dropout = cf->drop;
    c->pass.attn_dropout = cf->drop;
    c->pass.decoders = cf->decoders;
}

static void model_case_free(model_case *c)
{
    gfuse_i_acts_free(&c->acts, &c->arch);
    gfuse_i_layout_free(&c->lay);
    gfuse_i_arch_free(&c->arch);
    gfuse_i_data_free(&c->data);
    for (int m = 0; m < c->s.M; m++) {
        free(c->mean[m]);
        free(c->sd[m]);
    }
    gfuse_i_samples_free(&c->s);
    gfuse_graph_free(&c->g);
    free(c->label);
    free(c->target);
    free(c->cw);
    free(c->rows);
    free(c->P);
    free(c->G);
}

static gfuse_i_loss_value model_case_loss(model_case *c)
{
    gfuse_i_model_forward(&c->acts, &c->arch, &c->lay, c->P, c->g, &c->data, &c->pass);
    return gfuse_i_model_loss(&c->acts, &c->arch, c->g, &c->data, &c->spec);
}

static double loss_fn(void *ctx) { return model_case_loss(ctx).total; }

/* Fingerprint of the LeakyReLU branch of every attention score of every layer. */
static uint64_t kink_fn(void *ctx)
{
    model_case *c = ctx;
    const struct gfuse_graph *g = c->g;
    int H = c->arch.H, R = GFUSE_I_N_REL;
    uint64_t fp = 1469598103934665603ULL;
    for (int l = 0; l < c->arch.L; l++)
        for (int64_t v = 0; v < g->n_nodes; v++)
            for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++) {
                int64_t u = g->in_src[e];
                int rel = g->in_rel[e];
                for (int h = 0; h < H; h++) {
                    float pre = c->acts.s_src[l][(u * R + rel) * H + h] +
                                c->acts.s_dst[l][(v * R + rel) * H + h];
                    fp = (fp ^ (uint64_t)(pre > 0.0f)) * 1099511628211ULL;
                }
            }
    return fp;
}

/* Central differences of the total loss at up to max_checks coordinates of x (n) against the
 * analytic grad, as gc_check does, except that a difference whose step crossed a LeakyReLU kink
 * of some attention score (there are hundreds downstream of an encoder weight) is retried with
 * a quarter and then a sixteenth of the step before the coordinate is skipped; the tolerance
 * adds the float32 rounding of the loss (4 ulps) divided by the step. Returns the number
 * checked. */
static int64_t check_tensor(const char *what, model_case *c, float *x, const float *grad,
                            int64_t n, int64_t max_checks, double rtol, double atol_rel)
{
    double atol = atol_rel * gc_maxabs(grad, n) + 1e-5;
    int64_t stride = n > max_checks ? n / max_checks : 1, checked = 0, skipped = 0;
    for (int64_t i = 0; i < n; i += stride) {
        float keep = x[i], h = GC_STEP;
        int done = 0;
        for (int attempt = 0; attempt < 3 && !done; attempt++, h *= 0.25f) {
            x[i] = keep + h;
            double lp = loss_fn(c);
            uint64_t kp = kink_fn(c);
            x[i] = keep - h;
            double lm = loss_fn(c);
            uint64_t km = kink_fn(c);
            x[i] = keep;
            if (kp != km) continue;
            double step = (double)(keep + h) - (double)(keep - h);
            double num = (lp - lm) / step;
            /* the forward pass is float32: allow 4 units in the last place of the loss */
            double noise = 4.0 * FLT_EPSILON * fmax(fabs(lp), fabs(lm)) / step;
            ck_assert_msg(gc_close(grad[i], num, rtol, atol + noise),
                          "%s[%lld]: analytic %.7g, numeric %.7g (step %g, rtol %g, atol %g)",
                          what, (long long)i, (double)grad[i], num, (double)h, rtol,
                          atol + noise);
            done = 1;
        }
        checked += done;
        skipped += !done;
    }
    ck_assert_msg(checked >= (checked + skipped + 1) / 2,
                  "%s: %lld of %lld coordinates crossed a kink", what, (long long)skipped,
                  (long long)(checked + skipped));
    loss_fn(c);
    return checked;
}

/* Every parameter tensor's gradient against central differences of the total loss (task +
 * lambda_rec * reconstruction + lambda_node * per-node loss + lambda_lin * the linear path's loss
 * + its L2 penalty) through the whole network. Dropout masks are a function of the
 * seed, so configurations with dropout are differentiable too. Tolerance per coordinate:
 * 3e-2 relative + 2e-3 * max|gradient of the tensor| + 1e-5 + 4 ulps of the loss / step:
 * float32 forward passes through up to three attention layers. */
START_TEST(test_model_gradients)
{
    const grad_config *cf = &grad_configs[_i];
    model_case c;
    model_case_make(&c, cf);
    gfuse_i_loss_value lv = model_case_loss(&c);
    ck_assert(isfinite(lv.total));
    if (cf->hide) ck_assert_msg(lv.rec > 0.0, "no reconstruction loss with hidden nodes");
    if (c.spec.lambda_lin > 0.0f) ck_assert_msg(lv.lin > 0.0, "no loss of the linear path");
    memset(c.G, 0, (size_t)c.lay.total * sizeof(float));
    gfuse_i_model_backward(c.G, &c.acts, &c.arch, &c.lay, c.P, c.g, &c.data, &c.pass);
    int64_t checked = 0;
    for (int t = 0; t < c.lay.n_tensors; t++) {
        const gfuse_i_tensor *ts = &c.lay.tensors[t];
        checked += check_tensor(ts->name, &c, c.P + ts->offset, c.G + ts->offset, ts->count,
                                12, 3e-2, 2e-3);
    }
    ck_assert_int_gt(checked, c.lay.n_tensors);
    model_case_free(&c);
}
END_TEST

/* Running the decoders on the hidden rows only (training) gives the loss and the gradient of
 * running them on every row, and no decoders (validation) leaves the prediction unchanged. */
START_TEST(test_model_decoder_rows)
{
    const grad_config *cf = &grad_configs[1];
    model_case c;
    model_case_make(&c, cf);
    int64_t np = c.lay.total, NK = c.acts.N * c.arch.K;
    float *g_all = gc_alloc(np), *out_all = gc_alloc(NK);
    c.pass.decoders = GFUSE_I_DEC_ALL;
    gfuse_i_loss_value all = model_case_loss(&c);
    memcpy(out_all, c.acts.fh.probs, (size_t)NK * sizeof(float));
    memset(g_all, 0, (size_t)np * sizeof(float));
    gfuse_i_model_backward(g_all, &c.acts, &c.arch, &c.lay, c.P, c.g, &c.data, &c.pass);
    c.pass.decoders = GFUSE_I_DEC_HIDDEN;
    gfuse_i_loss_value hid = model_case_loss(&c);
    ck_assert(hid.rec > 0.0);
    ck_assert_double_eq_tol(hid.total, all.total, 1e-6 * fabs(all.total));
    ck_assert_double_eq_tol(hid.rec, all.rec, 1e-6 * all.rec);
    memset(c.G, 0, (size_t)np * sizeof(float));
    gfuse_i_model_backward(c.G, &c.acts, &c.arch, &c.lay, c.P, c.g, &c.data, &c.pass);
    for (int64_t t = 0; t < np; t++)
        ck_assert_msg(fabsf(c.G[t] - g_all[t]) <= 1e-5f * (1.0f + fabsf(g_all[t])),
                      "gradient %lld: %g with the hidden rows, %g with all", (long long)t,
                      (double)c.G[t], (double)g_all[t]);
    c.pass.decoders = GFUSE_I_DEC_NONE;
    gfuse_i_model_forward(&c.acts, &c.arch, &c.lay, c.P, c.g, &c.data, &c.pass);
    for (int m = 0; m < c.arch.M; m++) ck_assert_int_eq(c.acts.rec_n[m], 0);
    for (int64_t t = 0; t < NK; t++) ck_assert_float_eq(c.acts.fh.probs[t], out_all[t]);
    free(g_all);
    free(out_all);
    model_case_free(&c);
}
END_TEST

/* An evaluation pass for some samples (no decoders) runs each layer only at the nodes their
 * outputs read (the need lists), and the encoders and the fusion likewise: the outputs at those
 * samples are the whole pass's (to rounding: the products run on other row sets), for 1, 2
 * and 3 layers. Every state the restricted pass does not write is poisoned with NaN first, so a
 * row it needs but skipped shows; and its restricted projection did run. */
START_TEST(test_model_eval_rows)
{
    static const grad_config cfs[] = {
        {40, 3, {3, 4, 2}, 2, 2, 1, 3, 0.0f, 1, 0, 21, GFUSE_I_DEC_NONE},
        {40, 3, {3, 4, 2}, 2, 2, 2, 2, 0.0f, 1, 0, 22, GFUSE_I_DEC_NONE},
        {48, 2, {4, 3}, 1, 3, 3, 3, 0.0f, 0, 0, 23, GFUSE_I_DEC_NONE},
    };
    const grad_config *cf = &cfs[_i];
    model_case c;
    model_case_make(&c, cf);
    gfuse_i_acts *a = &c.acts;
    const int64_t N = a->N, V = a->V;
    const int K = c.arch.K, J = c.arch.M + 1, F = c.arch.F, L = c.arch.L;
    c.pass.training = 0;
    c.pass.decoders = GFUSE_I_DEC_NONE;
    c.pass.node_head = 1;
    c.pass.linear = 1;
    const float vote = 0.4f, mix = 0.3f;
    c.pass.rows = NULL;
    gfuse_i_model_forward(a, &c.arch, &c.lay, c.P, c.g, &c.data, &c.pass);
    gfuse_i_model_output(a, &c.arch, c.g, vote, mix);
    float *out = gc_alloc(N * K), *wts = gc_alloc(N * J), *fused = gc_alloc(N * F);
    memcpy(out, a->out, (size_t)(N * K) * sizeof(float));
    memcpy(wts, a->fweights, (size_t)(N * J) * sizeof(float));
    memcpy(fused, a->fused, (size_t)(N * F) * sizeof(float));
    for (int l = 0; l <= L; l++)
        for (int64_t t = 0; t < V * F; t++) a->h[l][t] = NAN;
    for (int l = 0; l < L; l++)
        for (int64_t t = 0; t < V * F; t++) a->z[l][t] = a->gout[l][t] = NAN;
    for (int64_t t = 0; t < N * F; t++) a->fused[t] = NAN;
    const int64_t rows[2] = {N - 3, 5};
    c.pass.rows = rows;
    c.pass.n_rows = 2;
    gfuse_i_model_forward(a, &c.arch, &c.lay, c.P, c.g, &c.data, &c.pass);
    gfuse_i_model_output_rows(a, &c.arch, c.g, vote, mix, rows, 2);
    for (int s = 0; s < 2; s++) {
        const int64_t i = rows[s];
        for (int k = 0; k < K; k++)
            ck_assert_msg(fabsf(a->out[i * K + k] - out[i * K + k]) <= 1e-5f,
                          "layers %d, sample %lld, class %d: %g restricted, %g whole", L,
                          (long long)i, k, (double)a->out[i * K + k], (double)out[i * K + k]);
        for (int j = 0; j < J; j++)
            ck_assert(fabsf(a->fweights[i * J + j] - wts[i * J + j]) <= 1e-5f);
        for (int f = 0; f < F; f++)
            ck_assert(fabsf(a->fused[i * F + f] - fused[i * F + f]) <=
                      1e-5f * (1.0f + fabsf(fused[i * F + f])));
    }
    ck_assert_int_lt(a->n_need[0] * 8, V * 7); /* the first layer's projection was restricted */
    free(out);
    free(wts);
    free(fused);
    model_case_free(&c);
}
END_TEST

/* The graph the check runs on has every relation and missing nodes. */
START_TEST(test_model_graph_shapes)
{
    for (int k = 0; k < N_GRAD_CONFIGS; k++) {
        model_case c;
        model_case_make(&c, &grad_configs[k]);
        int64_t by_rel[GFUSE_I_N_REL] = {0}, missing = 0;
        for (int64_t e = 0; e < c.g->n_edges; e++) by_rel[c.g->in_rel[e]]++;
        for (int64_t v = 0; v < c.g->n_nodes; v++) missing += !c.g->observed[v];
        for (int r = 0; r < GFUSE_I_N_REL; r++) ck_assert_int_gt(by_rel[r], 0);
        ck_assert_int_gt(missing, 0);
        model_case_free(&c);
    }
}
END_TEST

/* The closing decoder fit (src/model/model_decoder.c) reaches the minimum of its ridge objective:
 * for every decoder weight the gradient sum_t r_t u_ta + pen_a W_fa over the hidden nodes of the
 * fit graph (r = residual in standardised units, present cells only) is zero, pen_a being ridge
 * times the centred sum of squares of input column a (floored at a thousandth of their mean), and
 * the bias gradient sum_t r_t is zero. The fitted decoders reconstruct the hidden nodes better than
 * the random ones they replace. */
START_TEST(test_decoder_fit_optimal)
{
    for (int k = 0; k < N_GRAD_CONFIGS; k++) {
        if (!grad_configs[k].hide) continue;
        model_case c;
        model_case_make(&c, &grad_configs[k]);
        const double ridge = 0.5;
        int M = c.arch.M, U = (2 * M + 1) * c.arch.F;
        int64_t N = c.s.n;
        gfuse_i_pass eval = {.decoders = GFUSE_I_DEC_ALL};
        double sse_before = 0.0, sse_after = 0.0;
        for (int round = 0; round < 2; round++) {
            if (round == 1)
                ck_assert_int_eq(gfuse_i_fit_decoders(c.P, &c.arch, &c.lay, &c.g, 1, &c.data,
                                                      &c.acts, ridge),
                                 GFUSE_OK);
            gfuse_i_model_forward(&c.acts, &c.arch, &c.lay, c.P, c.g, &c.data, &eval);
            for (int m = 0; m < M; m++) {
                int64_t d = c.arch.d[m];
                for (int64_t i = 0; i < N; i++) {
                    int64_t v = (int64_t)m * N + i;
                    if (!c.s.has[v] || c.g->observed[v]) continue;
                    for (int64_t f = 0; f < d; f++) {
                        float y = c.data.x[m][i * d + f];
                        if (y != y) continue;
                        double r = c.acts.rec[m][i * d + f] - y;
                        if (round == 0) sse_before += r * r;
                        else sse_after += r * r;
                    }
                }
            }
        }
        /* stationarity, modality by modality */
        const float *u = c.acts.dec_in;
        int checked = 0;
        for (int m = 0; m < M; m++) {
            int64_t d = c.arch.d[m], n = 0;
            const float *W = c.P + c.lay.dec_W[m];
            double *sum = calloc((size_t)U, sizeof(double)), *ss = calloc((size_t)U, sizeof(double));
            for (int64_t i = 0; i < N; i++) {
                int64_t v = (int64_t)m * N + i;
                if (!c.s.has[v] || c.g->observed[v]) continue;
                n++;
                for (int a = 0; a < U; a++) {
                    sum[a] += u[i * U + a];
                    ss[a] += (double)u[i * U + a] * u[i * U + a];
                }
            }
            if (n == 0) {
                free(sum);
                free(ss);
                continue;
            }
            double mean_c = 0.0;
            for (int a = 0; a < U; a++) {
                ss[a] = fmax(ss[a] - sum[a] * sum[a] / (double)n, 0.0);
                mean_c += ss[a] / U;
            }
            for (int64_t f = 0; f < d; f++) {
                double gb = 0.0, scale_b = 0.0;
                for (int a = -1; a < U; a++) {
                    double g = 0.0, scale = 0.0;
                    for (int64_t i = 0; i < N; i++) {
                        int64_t v = (int64_t)m * N + i;
                        if (!c.s.has[v] || c.g->observed[v]) continue;
                        float y = c.data.x[m][i * d + f];
                        if (y != y) continue;
                        double r = c.acts.rec[m][i * d + f] - y;
                        double ua = a < 0 ? 1.0 : u[i * U + a];
                        g += r * ua;
                        scale += fabs(r * ua) + fabs(y * ua);
                    }
                    if (a < 0) {
                        gb = g;
                        scale_b = scale;
                        continue;
                    }
                    double pen = ridge * fmax(ss[a], 1e-3 * mean_c) + 1e-9;
                    g += pen * W[f * U + a];
                    scale += fabs(pen * W[f * U + a]);
                    ck_assert_msg(fabs(g) <= 1e-4 * scale + 1e-6,
                                  "config %d modality %d feature %lld weight %d: gradient %g "
                                  "(scale %g)", k, m, (long long)f, a, g, scale);
                    checked++;
                }
                ck_assert_msg(fabs(gb) <= 1e-4 * scale_b + 1e-6, "bias gradient %g", gb);
            }
            free(sum);
            free(ss);
        }
        ck_assert_int_gt(checked, 0);
        ck_assert_msg(sse_after < sse_before, "fit %g, before %g", sse_after, sse_before);
        model_case_free(&c);
    }
}
END_TEST

/* A plain Cholesky factorisation (lower triangle, row-major n x n, in place) and solve: the
 * reference the decoder fit is checked against. 0 on success. */
static int ref_cholesky(double *a, int n)
{
    for (int j = 0; j < n; j++) {
        double s = a[(int64_t)j * n + j];
        for (int k = 0; k < j; k++) s -= a[(int64_t)j * n + k] * a[(int64_t)j * n + k];
        if (!(s > 0.0)) return -1;
        double l = sqrt(s);
        a[(int64_t)j * n + j] = l;
        for (int i = j + 1; i < n; i++) {
            double t = a[(int64_t)i * n + j];
            for (int k = 0; k < j; k++) t -= a[(int64_t)i * n + k] * a[(int64_t)j * n + k];
            a[(int64_t)i * n + j] = t / l;
        }
    }
    return 0;
}

static void ref_cholesky_solve(const double *l, int n, double *b)
{
    for (int i = 0; i < n; i++) {
        double t = b[i];
        for (int k = 0; k < i; k++) t -= l[(int64_t)i * n + k] * b[k];
        b[i] = t / l[(int64_t)i * n + i];
    }
    for (int i = n - 1; i >= 0; i--) {
        double t = b[i];
        for (int k = i + 1; k < n; k++) t -= l[(int64_t)k * n + i] * b[k];
        b[i] = t / l[(int64_t)i * n + i];
    }
}

/* The decoder fit equals a plain serial solution of the same problem (every feature's own
 * normal equations over its present cells, solved one by one) to 1e-5 relative, over two fit
 * graphs, on inputs wide enough for several tiles of the blocked products, with missing cells
 * of every kind: features missing random cells, two features missing the same cells, a feature
 * missing every cell (it keeps its trained decoder), a modality whose every feature misses a
 * cell, a modality without rows (never hidden). The fit is bitwise identical with 1 and 2
 * threads. */
START_TEST(test_decoder_fit_reference)
{
    const grad_config cf = {.N = 120, .M = 4, .d = {2, 6, 4, 140}, .H = 4, .D = 8, .L = 1,
                           .K = 2, .hide = 1, .seed = 21};
    model_case c;
    model_case_make(&c, &cf);
    const double ridge = 0.5;
    int M = c.arch.M, U = (2 * M + 1) * c.arch.F, P = U + 1;
    int64_t N = c.s.n;
    ck_assert_int_gt(P, 128); /* more than one tile */
    /* the missing cells of modalities 1 and 2 */
    float *x1 = c.data.x[1], *x2 = c.data.x[2];
    for (int64_t i = 0; i < N; i++) {
        x1[i * 6 + 2] = x1[i * 6 + 1] != x1[i * 6 + 1] ? NAN : x1[i * 6 + 2];
        x1[i * 6 + 3] = NAN;
        for (int f = 4; f < 6; f++)
            if (x1[i * 6 + f] != x1[i * 6 + f]) x1[i * 6 + f] = 0.25f;
    }
    for (int64_t i = 0, done = 0; i < N && !done; i++)
        if (c.s.has[2 * N + i] && !c.g->observed[2 * N + i]) {
            for (int f = 0; f < 4; f++) x2[i * 4 + f] = NAN;
            done = 1;
        }
    float *trained = gc_alloc(c.lay.total), *one = gc_alloc(c.lay.total);
    memcpy(trained, c.P, (size_t)c.lay.total * sizeof(float));
    struct gfuse_graph *graphs[2] = {c.g, c.g};
    int threads = gfuse_get_threads();
    ck_assert_int_eq(gfuse_set_threads(1), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_fit_decoders(c.P, &c.arch, &c.lay, graphs, 2, &c.data, &c.acts, ridge),
                     GFUSE_OK);
    memcpy(one, c.P, (size_t)c.lay.total * sizeof(float));
    memcpy(c.P, trained, (size_t)c.lay.total * sizeof(float));
    ck_assert_int_eq(gfuse_set_threads(2), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_fit_decoders(c.P, &c.arch, &c.lay, graphs, 2, &c.data, &c.acts, ridge),
                     GFUSE_OK);
    ck_assert_int_eq(gfuse_set_threads(threads), GFUSE_OK);
    ck_assert_msg(memcmp(one, c.P, (size_t)c.lay.total * sizeof(float)) == 0,
                  "the decoder fit differs between 1 and 2 threads");

    gfuse_i_pass eval = {.training = 0};
    gfuse_i_model_forward(&c.acts, &c.arch, &c.lay, c.P, c.g, &c.data, &eval);
    const float *u = c.acts.dec_in;
    int64_t solved = 0, kept = 0;
    for (int m = 0; m < M; m++) {
        int64_t d = c.arch.d[m], n = 0;
        const float *x = c.data.x[m];
        /* the rows, each hidden node twice (once per graph) */
        double *h = malloc((size_t)(2 * N * P) * sizeof(double));
        int64_t *node = malloc((size_t)(2 * N) * sizeof(int64_t));
        for (int rep = 0; rep < 2; rep++)
            for (int64_t i = 0; i < N; i++) {
                if (!c.s.has[m * N + i] || c.g->observed[m * N + i]) continue;
                for (int a = 0; a < U; a++) h[n * P + a] = u[i * U + a];
                h[n * P + U] = 1.0;
                node[n++] = i;
            }
        const float *W = c.P + c.lay.dec_W[m], *bias = c.P + c.lay.dec_b[m];
        const float *W0 = trained + c.lay.dec_W[m], *bias0 = trained + c.lay.dec_b[m];
        if (n == 0) { /* modality 0 is never hidden: its decoder stays */
            ck_assert_int_eq(m, 0);
            ck_assert(memcmp(W, W0, (size_t)(d * U) * sizeof(float)) == 0);
            free(h);
            free(node);
            continue;
        }
        double *G = calloc((size_t)P * P, sizeof(double)), *pen = calloc((size_t)U, sizeof(double));
        double *b = malloc((size_t)P * sizeof(double));
        for (int64_t t = 0; t < n; t++)
            for (int a = 0; a < P; a++)
                for (int e = 0; e < P; e++) G[a * P + e] += h[t * P + a] * h[t * P + e];
        double pen_mean = 0.0;
        for (int a = 0; a < U; a++) {
            double sum = G[a * P + U], cnt = G[U * P + U];
            pen[a] = fmax(G[a * P + a] - sum * sum / cnt, 0.0);
            pen_mean += pen[a] / U;
        }
        for (int a = 0; a < U; a++) pen[a] = ridge * fmax(pen[a], 1e-3 * pen_mean) + 1e-9;
        for (int64_t f = 0; f < d; f++) {
            memset(G, 0, (size_t)P * P * sizeof(double));
            memset(b, 0, (size_t)P * sizeof(double));
            for (int64_t t = 0; t < n; t++) {
                float y = x[node[t] * d + f];
                if (y != y) continue;
                for (int a = 0; a < P; a++) {
                    b[a] += h[t * P + a] * y;
                    for (int e = 0; e <= a; e++) G[a * P + e] += h[t * P + a] * h[t * P + e];
                }
            }
            for (int a = 0; a < U; a++) G[a * P + a] += pen[a];
            if (ref_cholesky(G, P) != 0) { /* no cells: the trained decoder stays */
                ck_assert_msg(memcmp(W + f * U, W0 + f * U, (size_t)U * sizeof(float)) == 0 &&
                                  bias[f] == bias0[f],
                              "modality %d feature %lld: refitted without cells", m, (long long)f);
                kept++;
                continue;
            }
            ref_cholesky_solve(G, P, b);
            double top = 0.0;
            for (int a = 0; a < P; a++) top = fmax(top, fabs(b[a]));
            for (int a = 0; a < P; a++) {
                double got = a < U ? W[f * U + a] : bias[f];
                ck_assert_msg(fabs(got - b[a]) <= 1e-5 * fmax(fabs(b[a]), 1e-3 * top),
                              "modality %d feature %lld coefficient %d: %.9g, reference %.9g", m,
                              (long long)f, a, got, b[a]);
            }
            solved++;
        }
        free(h);
        free(node);
        free(G);
        free(pen);
        free(b);
    }
    ck_assert_int_eq(kept, 1); /* modality 1, feature 3 */
    ck_assert_int_eq(solved, 6 - 1 + 4 + 140);
    free(trained);
    free(one);
    model_case_free(&c);
}
END_TEST

static gfuse_status one_graph(void *user, int v, const struct gfuse_graph **g)
{
    (void)v;
    *g = user;
    return GFUSE_OK;
}

/* The fit from a graph source in chunks of rows (modalities without missing cells stream their
 * rows): with a chunk larger than the rows it is the one-pass fit bit for bit; with chunks of a
 * few rows it agrees with it to 1e-6 relative (the sums in double precision, rounded to float)
 * and is bitwise identical with 1 and 2 threads. */
START_TEST(test_decoder_fit_chunked)
{
    const grad_config cf = {.N = 120, .M = 4, .d = {2, 6, 4, 140}, .H = 4, .D = 8, .L = 1,
                           .K = 2, .hide = 1, .seed = 21};
    model_case c;
    model_case_make(&c, &cf);
    /* every modality but 1 without missing cells: those stream */
    for (int m = 0; m < c.arch.M; m++)
        for (int64_t t = 0; m != 1 && t < c.s.n * c.arch.d[m]; t++)
            if (c.data.x[m][t] != c.data.x[m][t] && c.s.has[m * c.s.n + t / c.arch.d[m]])
                c.data.x[m][t] = 0.25f;
    const double ridge = 0.5;
    int64_t np = c.lay.total;
    float *trained = gc_alloc(np), *whole = gc_alloc(np), *big = gc_alloc(np), *one = gc_alloc(np);
    memcpy(trained, c.P, (size_t)np * sizeof(float));
    struct gfuse_graph *graphs[2] = {c.g, c.g};
    ck_assert_int_eq(gfuse_i_fit_decoders(c.P, &c.arch, &c.lay, graphs, 2, &c.data, &c.acts, ridge),
                     GFUSE_OK);
    memcpy(whole, c.P, (size_t)np * sizeof(float));
    ck_assert(memcmp(whole, trained, (size_t)np * sizeof(float)) != 0);
    int threads = gfuse_get_threads();
    for (int run = 0; run < 3; run++) {
        memcpy(c.P, trained, (size_t)np * sizeof(float));
        ck_assert_int_eq(gfuse_set_threads(run == 2 ? 2 : 1), GFUSE_OK);
        ck_assert_int_eq(gfuse_i_fit_decoders_from(c.P, &c.arch, &c.lay, one_graph, c.g, 2,
                                                   &c.data, &c.acts, ridge, run == 0 ? 100000 : 5,
                                                   0),
                         GFUSE_OK);
        if (run == 0) memcpy(big, c.P, (size_t)np * sizeof(float));
        if (run == 1) memcpy(one, c.P, (size_t)np * sizeof(float));
    }
    ck_assert_int_eq(gfuse_set_threads(threads), GFUSE_OK);
    ck_assert_msg(memcmp(big, whole, (size_t)np * sizeof(float)) == 0,
                  "one chunk differs from the one-pass fit");
    ck_assert_msg(memcmp(one, c.P, (size_t)np * sizeof(float)) == 0,
                  "the chunked fit differs between 1 and 2 threads");
    for (int64_t t = 0; t < np; t++)
        ck_assert_msg(fabsf(c.P[t] - whole[t]) <= 1e-6f * fmaxf(fabsf(whole[t]), 1e-2f),
                      "parameter %lld: chunked %.9g, one pass %.9g", (long long)t, c.P[t],
                      whole[t]);
    free(trained);
    free(whole);
    free(big);
    free(one);
    model_case_free(&c);
}
END_TEST

typedef struct {
    struct gfuse_graph *g;
    int calls;
} counting_source;

static gfuse_status counted_graph(void *user, int v, const struct gfuse_graph **g)
{
    (void)v;
    counting_source *cs = user;
    cs->calls++;
    *g = cs->g;
    return GFUSE_OK;
}

/* The fit's row cap: a cap above every modality's rows is no cap, bit for bit; a cap below
 * the hidden rows of one graph gives another fit, the same from three copies of the graph as
 * from one (the first graph already holds the rows the cap takes). */
START_TEST(test_decoder_fit_row_cap)
{
    const grad_config cf = {.N = 120, .M = 3, .d = {2, 6, 4}, .H = 4, .D = 8, .L = 1, .K = 2,
                           .hide = 1, .seed = 22};
    model_case c;
    model_case_make(&c, &cf);
    const double ridge = 0.5;
    int64_t np = c.lay.total, N = c.s.n, least = -1;
    for (int m = 0; m < c.arch.M; m++) {
        int64_t h = 0;
        for (int64_t i = 0; i < N; i++)
            h += c.data.has[m * N + i] && !c.g->observed[m * N + i];
        if (h > 0 && (least < 0 || h < least)) least = h;
    }
    ck_assert_int_gt(least, 1);
    float *trained = gc_alloc(np), *fit[4];
    memcpy(trained, c.P, (size_t)np * sizeof(float));
    const int64_t caps[4] = {0, 3 * N, least - 1, least - 1};
    const int graphs[4] = {3, 3, 3, 1};
    for (int q = 0; q < 4; q++) {
        memcpy(c.P, trained, (size_t)np * sizeof(float));
        counting_source cs = {c.g, 0};
        ck_assert_int_eq(gfuse_i_fit_decoders_from(c.P, &c.arch, &c.lay, counted_graph, &cs,
                                                   graphs[q], &c.data, &c.acts, ridge,
                                                   GFUSE_I_DEC_FIT_CHUNK, caps[q]),
                         GFUSE_OK);
        ck_assert_int_eq(cs.calls, graphs[q]);
        fit[q] = gc_alloc(np);
        memcpy(fit[q], c.P, (size_t)np * sizeof(float));
    }
    const size_t bytes = (size_t)np * sizeof(float);
    ck_assert_msg(memcmp(fit[0], trained, bytes) != 0, "the fit left the decoders as trained");
    ck_assert_msg(memcmp(fit[1], fit[0], bytes) == 0, "a cap above the rows changed the fit");
    ck_assert_msg(memcmp(fit[2], fit[0], bytes) != 0, "a cap below the rows changed nothing");
    ck_assert_msg(memcmp(fit[3], fit[2], bytes) == 0,
                  "the capped fit of three graphs differs from that of the first one");
    free(trained);
    for (int q = 0; q < 4; q++) free(fit[q]);
    model_case_free(&c);
}
END_TEST

/* The parameter layout tiles the buffer exactly, and backward accumulates (+=). */
START_TEST(test_model_layout_and_accumulation)
{
    model_case c;
    model_case_make(&c, &grad_configs[1]);
    int64_t next = 0;
    for (int t = 0; t < c.lay.n_tensors; t++) {
        ck_assert_int_eq(c.lay.tensors[t].offset, next);
        ck_assert_int_gt(c.lay.tensors[t].count, 0);
        next += c.lay.tensors[t].count;
    }
    ck_assert_int_eq(next, c.lay.total);
    float *once = gc_alloc(c.lay.total);
    model_case_loss(&c);
    memset(c.G, 0, (size_t)c.lay.total * sizeof(float));
    gfuse_i_model_backward(c.G, &c.acts, &c.arch, &c.lay, c.P, c.g, &c.data, &c.pass);
    memcpy(once, c.G, (size_t)c.lay.total * sizeof(float));
    model_case_loss(&c);
    gfuse_i_model_backward(c.G, &c.acts, &c.arch, &c.lay, c.P, c.g, &c.data, &c.pass);
    for (int64_t t = 0; t < c.lay.total; t++)
        ck_assert_msg(fabsf(c.G[t] - 2.0f * once[t]) <= 1e-5f * (1.0f + fabsf(once[t])),
                      "gradient %lld does not accumulate", (long long)t);
    free(once);
    model_case_free(&c);
}
END_TEST

/* ---- trained models: files, predictions, imputation --------------------------------------- */

/* A small cohort in memory: 3 classes in a 4-dimensional latent space seen by 3 modalities,
 * a third of the samples missing one or two modalities, a quarter of them test. */
static gfuse_cohort *toy_cohort_full(int64_t n, uint64_t seed, const char *id_prefix,
                                     int complete)
{
    const int M = 3, K = 3, L = 4;
    const int64_t d[3] = {6, 5, 4};
    gfuse_i_rng r;
    gfuse_i_rng_seed(&r, seed);
    char **ids = calloc((size_t)n, sizeof *ids);
    int32_t *label = calloc((size_t)n, sizeof *label);
    gfuse_split *split = calloc((size_t)n, sizeof *split);
    double *z = calloc((size_t)(n * L), sizeof *z);
    for (int64_t i = 0; i < n; i++) {
        ids[i] = gfuse_i_asprintf("%s%03lld", id_prefix, (long long)i);
        label[i] = (int32_t)(i % K);
        split[i] = i % 4 == 3 ? GFUSE_SPLIT_TEST : GFUSE_SPLIT_TRAIN;
        for (int l = 0; l < L; l++)
            z[i * L + l] = (l == label[i] ? 2.0 : 0.0) + gfuse_i_rng_normal(&r);
    }
    gfuse_cohort *c = NULL;
    ck_assert_int_eq(gfuse_cohort_new(&c, n, (const char *const *)ids), GFUSE_OK);
    gfuse_i_rng wr; /* loadings fixed, so cohorts of another seed share the modalities */
    gfuse_i_rng_seed(&wr, 4242);
    for (int m = 0; m < M; m++) {
        float *x = calloc((size_t)(n * d[m]), sizeof *x);
        double *w = calloc((size_t)(d[m] * L), sizeof *w);
        for (int64_t t = 0; t < d[m] * L; t++) w[t] = gfuse_i_rng_normal(&wr);
        for (int64_t i = 0; i < n; i++) {
            int missing = !complete && i % 3 == 1 && (int64_t)(i / 3) % M == m;
            for (int64_t f = 0; f < d[m]; f++) {
                double s = 0.0;
                for (int l = 0; l < L; l++) s += w[f * L + l] * z[i * L + l];
                double noise = 0.5 * gfuse_i_rng_normal(&r);
                x[i * d[m] + f] = missing ? NAN : (float)(3.0 + s + noise);
            }
        }
        ck_assert_int_eq(gfuse_cohort_add_modality(c, mod_names[m], d[m], NULL, x), GFUSE_OK);
        free(x);
        free(w);
    }
    const char *classes[3] = {"A", "B", "C"};
    ck_assert_int_eq(gfuse_cohort_set_classes(c, K, classes, label), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_set_split(c, split), GFUSE_OK);
    for (int64_t i = 0; i < n; i++) free(ids[i]);
    free(ids);
    free(label);
    free(split);
    free(z);
    return c;
}

static gfuse_cohort *toy_cohort(int64_t n, uint64_t seed, const char *id_prefix)
{
    return toy_cohort_full(n, seed, id_prefix, 0);
}

static gfuse_model *toy_model(const gfuse_cohort *c, int ensemble)
{
    gfuse_train_options o;
    gfuse_train_options_init(&o);
    o.hidden = 16;
    o.heads = 2;
    o.epochs = 80;
    o.k = 4;
    o.ensemble = ensemble;
    o.graph_variants = 3;
    o.seed = 5;
    gfuse_model *m = NULL;
    ck_assert_msg(gfuse_train(&m, c, &o) == GFUSE_OK, "%s", gfuse_last_error());
    return m;
}

static void assert_predictions_valid(const gfuse_predictions *p)
{
    for (int64_t i = 0; i < p->n; i++) {
        double sp = 0.0, sf = 0.0;
        for (int k = 0; k < p->n_outputs; k++) {
            ck_assert(p->output[i * p->n_outputs + k] >= 0.0f);
            sp += p->output[i * p->n_outputs + k];
        }
        for (int j = 0; j < p->n_slots; j++) sf += p->fusion[i * p->n_slots + j];
        ck_assert_msg(fabs(sp - 1.0) < 1e-5, "probabilities of row %lld sum to %.9g",
                      (long long)i, sp);
        ck_assert_msg(fabs(sf - 1.0) < 1e-5, "fusion weights of row %lld sum to %.9g",
                      (long long)i, sf);
        ck_assert(p->predicted[i] >= 0 && p->predicted[i] < p->n_outputs);
    }
}

static int same_predictions(const gfuse_predictions *a, const gfuse_predictions *b)
{
    return a->n == b->n && a->n_outputs == b->n_outputs &&
           memcmp(a->output, b->output, (size_t)(a->n * a->n_outputs) * sizeof(float)) == 0 &&
           memcmp(a->fusion, b->fusion, (size_t)(a->n * a->n_slots) * sizeof(float)) == 0 &&
           memcmp(a->predicted, b->predicted, (size_t)a->n * sizeof(int32_t)) == 0;
}

START_TEST(test_model_save_load_predict)
{
    gfuse_cohort *c = toy_cohort(60, 1, "s");
    gfuse_model *m = toy_model(c, 2), *back = NULL;
    const char *path = tu_path("toy.gfm");
    ck_assert_int_eq(gfuse_model_save(m, path), GFUSE_OK);
    ck_assert_msg(gfuse_model_load(&back, path) == GFUSE_OK, "%s", gfuse_last_error());
    gfuse_predictions p1, p2;
    ck_assert_int_eq(gfuse_predict(m, c, &p1), GFUSE_OK);
    ck_assert_int_eq(gfuse_predict(back, c, &p2), GFUSE_OK);
    assert_predictions_valid(&p1);
    ck_assert_msg(same_predictions(&p1, &p2), "a loaded model predicts differently");
    for (int64_t i = 0; i < p1.n; i++) ck_assert_int_eq(p1.new_sample[i], 0);
    /* what the handle says survives the round trip */
    ck_assert_int_eq(gfuse_model_n_members(back), 2);
    ck_assert_int_eq(gfuse_model_n_classes(back), 3);
    ck_assert_str_eq(gfuse_model_class_name(back, 2), "C");
    ck_assert_str_eq(gfuse_model_modality_name(back, 1), "beta");
    ck_assert_int_eq(gfuse_model_n_features(back, 0), 6);
    ck_assert_int_eq(gfuse_model_n_reference_samples(back), 60);
    ck_assert_int_eq(gfuse_model_n_parameters(back), gfuse_model_n_parameters(m));
    gfuse_train_options o1, o2;
    gfuse_model_options(m, &o1);
    gfuse_model_options(back, &o2);
    ck_assert(o1.lr == o2.lr && o1.weight_decay == o2.weight_decay && o1.seed == o2.seed &&
              o1.dropout == o2.dropout && o1.hidden == o2.hidden && o1.k == o2.k);
    for (int k = 0; k < 2; k++)
        ck_assert_int_eq(gfuse_model_best_epoch(m, k), gfuse_model_best_epoch(back, k));
    /* saved again, the file is byte-identical */
    const char *path2 = tu_path("toy2.gfm");
    ck_assert_int_eq(gfuse_model_save(back, path2), GFUSE_OK);
    FILE *f1 = fopen(path, "rb"), *f2 = fopen(path2, "rb");
    int a, b;
    do {
        a = fgetc(f1);
        b = fgetc(f2);
        ck_assert_int_eq(a, b);
    } while (a != EOF);
    fclose(f1);
    fclose(f2);
    gfuse_predictions_free(&p1);
    gfuse_predictions_free(&p2);
    gfuse_model_free(&back);
    gfuse_model_free(&m);
    gfuse_cohort_free(&c);
    ck_assert_ptr_null(m);
    gfuse_model_free(&m); /* accepts NULL */
}
END_TEST

/* Flipping any one of a spread of bytes, or cutting the file short, makes loading fail with
 * GFUSE_ERR_MODEL and a message naming the file. */
START_TEST(test_model_file_damage)
{
    gfuse_cohort *c = toy_cohort(30, 2, "s");
    gfuse_model *m = toy_model(c, 1), *back = NULL;
    const char *path = tu_path("toy.gfm");
    ck_assert_int_eq(gfuse_model_save(m, path), GFUSE_OK);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)size);
    ck_assert_int_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    const char *bad = tu_path("bad.gfm");
    for (int t = 0; t < 12; t++) {
        long at = t == 0 ? 20 : (size - 1) * t / 11;
        buf[at] ^= 0x10;
        tu_write_bytes("bad.gfm", (const char *)buf, (size_t)size);
        buf[at] ^= 0x10;
        ck_assert_int_eq(gfuse_model_load(&back, bad), GFUSE_ERR_MODEL);
        ck_assert_ptr_null(back);
        ck_assert_msg(strstr(gfuse_last_error(), "bad.gfm") != NULL, "message: %s",
                      gfuse_last_error());
    }
    tu_write_bytes("bad.gfm", (const char *)buf, (size_t)size / 2);
    ck_assert_int_eq(gfuse_model_load(&back, bad), GFUSE_ERR_MODEL);
    ck_assert_int_eq(gfuse_model_load(&back, tu_path("absent.gfm")), GFUSE_ERR_IO);
    free(buf);
    gfuse_model_free(&m);
    gfuse_cohort_free(&c);
}
END_TEST

/* Saves m (with a fresh checksum) and loads it back: GFUSE_ERR_MODEL with want in the message;
 * `gfuse info` on the file (when make check sets GFUSE) exits 3 with the same problem, never
 * saying "checksum OK". */
static void expect_invalid(const gfuse_model *m, const char *want)
{
    const char *path = tu_path("invalid.gfm");
    ck_assert_int_eq(gfuse_model_save(m, path), GFUSE_OK);
    gfuse_model *back = NULL;
    ck_assert_int_eq(gfuse_model_load(&back, path), GFUSE_ERR_MODEL);
    ck_assert_ptr_null(back);
    ck_assert_msg(strstr(gfuse_last_error(), want) != NULL, "message: %s (wanted %s)",
                  gfuse_last_error(), want);
    const char *tool = getenv("GFUSE");
    if (!tool || !*tool) return;
    char cmd[1200], out[4096];
    snprintf(cmd, sizeof cmd, "\"%s\" info --model '%s' 2>&1", tool, path);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 3, "info: %s", out);
    ck_assert_msg(strstr(out, want) != NULL && !strstr(out, "checksum OK"), "info: %s", out);
}

START_TEST(test_model_invalid_values)
{
    gfuse_cohort *c = toy_cohort(30, 2, "s");
    gfuse_model *m = toy_model(c, 2);
    float keep = m->params[1][7];
    m->params[1][7] = NAN;
    expect_invalid(m, "member 2: weight");
    m->params[1][7] = INFINITY;
    expect_invalid(m, "is inf");
    m->params[1][7] = keep;
    keep = m->sd[1][2];
    m->sd[1][2] = 0.0f;
    expect_invalid(m, "the standard deviation of feature");
    m->sd[1][2] = -1.0f;
    expect_invalid(m, "it must be positive and finite");
    m->sd[1][2] = keep;
    keep = m->mean[0][0];
    m->mean[0][0] = NAN;
    expect_invalid(m, "the mean of feature");
    m->mean[0][0] = keep;
    char *cls = m->class_name[1];
    m->class_name[1] = m->class_name[0];
    expect_invalid(m, "class \"A\" appears twice");
    m->class_name[1] = cls;
    char *feat = m->feat_name[0][1];
    m->feat_name[0][1] = m->feat_name[0][0];
    expect_invalid(m, "appears twice");
    m->feat_name[0][1] = feat;

    /* a metric gfuse does not know, with a recomputed checksum */
    const char *path = tu_path("metric.gfm");
    ck_assert_int_eq(gfuse_model_save(m, path), GFUSE_OK);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    size_t size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(size);
    ck_assert_int_eq(fread(buf, 1, size, f), size);
    fclose(f);
    unsigned char *at = NULL;
    for (size_t k = 0; k + 13 <= size && !at; k++)
        if (memcmp(buf + k, "metric=cosine", 13) == 0) at = buf + k;
    ck_assert_ptr_nonnull(at);
    memcpy(at, "metric=cosinf", 13);
    uint32_t crc = gfuse_i_crc32c(0, buf, size - 4);
    memcpy(buf + size - 4, &crc, 4);
    tu_write_bytes("metric.gfm", (const char *)buf, size);
    free(buf);
    gfuse_model *back = NULL;
    ck_assert_int_eq(gfuse_model_load(&back, path), GFUSE_ERR_MODEL);
    ck_assert_msg(strstr(gfuse_last_error(), "unknown metric \"cosinf\"") != NULL, "message: %s",
                  gfuse_last_error());

    /* the untouched model still loads */
    ck_assert_int_eq(gfuse_model_save(m, path), GFUSE_OK);
    ck_assert_int_eq(gfuse_model_load(&back, path), GFUSE_OK);
    gfuse_model_free(&back);
    gfuse_model_free(&m);
    gfuse_cohort_free(&c);
}
END_TEST

/* New samples attach to the references: they receive knn edges but send none to other
 * samples, so the references' predictions are those of the training cohort alone. */
START_TEST(test_model_inductive)
{
    gfuse_cohort *c = toy_cohort(45, 3, "s");
    gfuse_model *m = toy_model(c, 1);
    gfuse_predictions base, with_new, only_new;
    ck_assert_int_eq(gfuse_predict(m, c, &base), GFUSE_OK);

    /* the training cohort plus new samples: build one cohort holding both */
    gfuse_cohort *fresh = toy_cohort(12, 99, "new");
    int64_t n = 45 + 12;
    char **ids = calloc((size_t)n, sizeof *ids);
    for (int64_t i = 0; i < n; i++)
        ids[i] = gfuse_i_strdup(i < 45 ? gfuse_cohort_sample_id(c, i)
                                       : gfuse_cohort_sample_id(fresh, i - 45));
    gfuse_cohort *both = NULL;
    ck_assert_int_eq(gfuse_cohort_new(&both, n, (const char *const *)ids), GFUSE_OK);
    for (int j = 0; j < 3; j++) {
        int64_t d = gfuse_cohort_n_features(c, j);
        float *x = malloc((size_t)(n * d) * sizeof *x);
        for (int64_t i = 0; i < n; i++) {
            const gfuse_cohort *src = i < 45 ? c : fresh;
            const float *row = gfuse_cohort_values(src, i < 45 ? i : i - 45, j);
            for (int64_t f = 0; f < d; f++) x[i * d + f] = row ? row[f] : NAN;
        }
        ck_assert_int_eq(gfuse_cohort_add_modality(both, gfuse_cohort_modality_name(c, j), d,
                                                   NULL, x),
                         GFUSE_OK);
        free(x);
    }
    ck_assert_int_eq(gfuse_predict(m, both, &with_new), GFUSE_OK);
    ck_assert_int_eq(gfuse_predict(m, fresh, &only_new), GFUSE_OK);
    assert_predictions_valid(&with_new);
    assert_predictions_valid(&only_new);
    for (int64_t i = 0; i < 45; i++) {
        ck_assert_int_eq(with_new.new_sample[i], 0);
        for (int k = 0; k < 3; k++)
            ck_assert_msg(fabsf(with_new.output[i * 3 + k] - base.output[i * 3 + k]) <= 1e-6f,
                          "new samples changed reference %lld", (long long)i);
    }
    /* new samples do not influence each other either */
    for (int64_t i = 0; i < 12; i++) {
        ck_assert_int_eq(with_new.new_sample[45 + i], 1);
        ck_assert_int_eq(only_new.new_sample[i], 1);
        for (int k = 0; k < 3; k++)
            ck_assert(fabsf(with_new.output[(45 + i) * 3 + k] - only_new.output[i * 3 + k]) <=
                      1e-6f);
    }
    /* copies of the references under new ids are predicted like their originals: a copy
     * hears its original (similarity 1) and the original's neighbours */
    gfuse_cohort *copies = toy_cohort(45, 3, "copy");
    gfuse_predictions pc;
    ck_assert_int_eq(gfuse_predict(m, copies, &pc), GFUSE_OK);
    int agree = 0;
    for (int64_t i = 0; i < 45; i++) {
        ck_assert_int_eq(pc.new_sample[i], 1);
        agree += pc.predicted[i] == base.predicted[i];
    }
    ck_assert_msg(agree >= 40, "only %d of 45 copies predicted like their originals", agree);
    gfuse_predictions_free(&pc);
    gfuse_cohort_free(&copies);
    for (int64_t i = 0; i < n; i++) free(ids[i]);
    free(ids);
    gfuse_predictions_free(&base);
    gfuse_predictions_free(&with_new);
    gfuse_predictions_free(&only_new);
    gfuse_cohort_free(&both);
    gfuse_cohort_free(&fresh);
    gfuse_model_free(&m);
    gfuse_cohort_free(&c);
}
END_TEST

/* A cohort that does not fit the model is a data error naming what is wrong. */
START_TEST(test_model_predict_mismatch)
{
    gfuse_cohort *c = toy_cohort(30, 4, "s");
    gfuse_model *m = toy_model(c, 1);
    gfuse_cohort *other = NULL;
    const char *ids[2] = {"x1", "x2"};
    float vals[2 * 6] = {0};
    ck_assert_int_eq(gfuse_cohort_new(&other, 2, ids), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_add_modality(other, "epsilon", 6, NULL, vals), GFUSE_OK);
    gfuse_predictions p;
    ck_assert_int_eq(gfuse_predict(m, other, &p), GFUSE_ERR_DATA);
    ck_assert_msg(strstr(gfuse_last_error(), "epsilon") != NULL, "%s", gfuse_last_error());
    gfuse_cohort_free(&other);
    ck_assert_int_eq(gfuse_cohort_new(&other, 2, ids), GFUSE_OK);
    ck_assert_int_eq(gfuse_cohort_add_modality(other, "alpha", 5, NULL, vals), GFUSE_OK);
    ck_assert_int_eq(gfuse_predict(m, other, &p), GFUSE_ERR_DATA);
    gfuse_cohort_free(&other);
    /* a cohort with only one of the model's modalities is fine: the others are missing */
    const char *names[6] = {"f1", "f2", "f3", "f4", "f5", "f6"};
    ck_assert_int_eq(gfuse_cohort_new(&other, 2, ids), GFUSE_OK);
    for (int t = 0; t < 12; t++) vals[t] = (float)t;
    ck_assert_int_eq(gfuse_cohort_add_modality(other, "alpha", 6, names, vals), GFUSE_OK);
    ck_assert_int_eq(gfuse_predict(m, other, &p), GFUSE_OK);
    assert_predictions_valid(&p);
    ck_assert(p.fusion[1] == 0.0f && p.fusion[2] == 0.0f); /* missing modalities weigh 0 */
    gfuse_predictions_free(&p);
    gfuse_cohort_free(&other);
    gfuse_model_free(&m);
    gfuse_cohort_free(&c);
}
END_TEST

/* Imputation: observed rows copied bit for bit, missing modalities (and only those) filled
 * with finite values that are closer to the truth (the same cohort generated complete) than
 * the mean of the samples that have the modality: RMSE at most 0.8 times as large. */
START_TEST(test_model_impute)
{
    gfuse_cohort *c = toy_cohort(90, 5, "s");
    gfuse_train_options o;
    gfuse_train_options_init(&o);
    o.hidden = 16;
    o.heads = 2;
    o.epochs = 120;
    o.k = 5;
    o.seed = 3;
    o.modality_dropout = 0.4;
    gfuse_model *m = NULL;
    ck_assert_int_eq(gfuse_train(&m, c, &o), GFUSE_OK);
    gfuse_imputation imp;
    ck_assert_int_eq(gfuse_impute(m, c, &imp), GFUSE_OK);
    gfuse_cohort *truth = toy_cohort_full(90, 5, "s", 1);
    double se_fill = 0.0, se_mean = 0.0;
    ck_assert_int_eq(imp.n, 90);
    ck_assert_int_eq(imp.n_modalities, 3);
    int64_t filled = 0;
    for (int j = 0; j < 3; j++) {
        int64_t d = imp.n_features[j];
        for (int64_t i = 0; i < imp.n; i++) {
            const float *row = gfuse_cohort_values(c, i, j), *out = imp.values[j] + i * d;
            ck_assert_int_eq(imp.filled[i * 3 + j], row == NULL);
            if (row) {
                ck_assert(memcmp(row, out, (size_t)d * sizeof(float)) == 0);
                continue;
            }
            filled++;
            const float *t = gfuse_cohort_values(truth, i, j);
            for (int64_t f = 0; f < d; f++) {
                ck_assert(isfinite(out[f]));
                double mean = 0.0;
                int64_t cnt = 0;
                for (int64_t k = 0; k < imp.n; k++) {
                    const float *other = gfuse_cohort_values(c, k, j);
                    if (other) {
                        mean += other[f];
                        cnt++;
                    }
                }
                mean /= (double)cnt;
                se_fill += (out[f] - t[f]) * (out[f] - t[f]);
                se_mean += (mean - t[f]) * (mean - t[f]);
            }
        }
    }
    ck_assert_int_gt(filled, 0);
    ck_assert_msg(sqrt(se_fill) <= 0.8 * sqrt(se_mean),
                  "imputation RMSE %.4f vs mean imputation %.4f", sqrt(se_fill / filled),
                  sqrt(se_mean / filled));
    gfuse_cohort_free(&truth);
    gfuse_imputation_free(&imp);
    gfuse_model_free(&m);
    gfuse_cohort_free(&c);
}
END_TEST

static Suite *model_suite(void)
{
    Suite *s = suite_create("model");
    TCase *grad = tcase_create("gradients");
    tcase_add_checked_fixture(grad, tu_tmp_setup, tu_tmp_teardown);
    tcase_set_timeout(grad, 120);
    tcase_add_loop_test(grad, test_model_gradients, 0, N_GRAD_CONFIGS);
    tcase_add_test(grad, test_model_decoder_rows);
    tcase_add_loop_test(grad, test_model_eval_rows, 0, 3);
    tcase_add_test(grad, test_model_graph_shapes);
    tcase_add_test(grad, test_decoder_fit_optimal);
    tcase_add_test(grad, test_decoder_fit_reference);
    tcase_add_test(grad, test_decoder_fit_chunked);
    tcase_add_test(grad, test_decoder_fit_row_cap);
    tcase_add_test(grad, test_model_layout_and_accumulation);
    suite_add_tcase(s, grad);
    TCase *files = TU_TCASE(s, "files and predictions", tu_tmp_setup, tu_tmp_teardown,
        test_model_save_load_predict, test_model_file_damage, test_model_invalid_values,
        test_model_inductive,
        test_model_predict_mismatch, test_model_impute);
    tcase_set_timeout(files, 120);
    return s;
}

int main(void) { return tu_run_suite(model_suite()); }
