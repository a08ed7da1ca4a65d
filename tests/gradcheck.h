/* gradcheck.h: helpers of the gradient tests (check_layers, check_gat): random tensors, the
 * probe loss L = sum(out * G) in double, and the comparison of an analytic gradient with a
 * central finite difference. */
#ifndef GFUSE_TESTS_GRADCHECK_H
#define GFUSE_TESTS_GRADCHECK_H

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

/* Finite-difference step on float32 inputs. */
#define GC_STEP 1e-3f

static inline float *gc_alloc(int64_t n)
{
    float *p = calloc((size_t)(n > 0 ? n : 1), sizeof(float));
    ck_assert_ptr_nonnull(p);
    return p;
}

/* Uniform in [lo, hi). */
static inline void gc_fill(float *x, int64_t n, gfuse_i_rng *r, float lo, float hi)
{
    for (int64_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * (float)gfuse_i_rng_uniform(r);
}

/* Uniform in +-[lo, hi): kept away from 0 so a finite difference never crosses a kink. */
static inline void gc_fill_away(float *x, int64_t n, gfuse_i_rng *r, float lo, float hi)
{
    for (int64_t i = 0; i < n; i++) {
        float m = lo + (hi - lo) * (float)gfuse_i_rng_uniform(r);
        x[i] = gfuse_i_rng_uniform(r) < 0.5 ? -m : m;
    }
}

/* The probe loss sum(out * G), accumulated in double. */
static inline double gc_probe(const float *out, const float *G, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += (double)out[i] * G[i];
    return s;
}

static inline float gc_maxabs(const float *x, int64_t n)
{
    float m = 0.0f;
    for (int64_t i = 0; i < n; i++)
        if (fabsf(x[i]) > m) m = fabsf(x[i]);
    return m;
}

/* Whether analytic a and numeric g agree: |a - g| <= rtol * max(|a|, |g|) + atol. */
static inline int gc_close(double a, double g, double rtol, double atol)
{
    double m = fabs(a) > fabs(g) ? fabs(a) : fabs(g);
    return fabs(a - g) <= rtol * m + atol;
}

/* A model under test: loss(ctx) runs the forward pass on the current parameters and returns the
 * probe loss; kink(ctx) (may be NULL) returns a fingerprint of the active branches (signs of
 * the pre-activations) so a difference that crossed a kink is detected and skipped. */
typedef struct {
    double (*loss)(void *ctx);
    uint64_t (*kink)(void *ctx);
    void *ctx;
} gc_model;

/* Compares grad (n) with central differences of model.loss in x (n), at up to max_checks
 * coordinates spread over the tensor. Tolerance per coordinate:
 *   |analytic - numeric| <= rtol * max(|analytic|, |numeric|) + atol_rel * max|grad| + 1e-5.
 * Returns the number of coordinates checked (those that crossed a kink are skipped). */
static inline int64_t gc_check(const char *what, gc_model model, float *x, const float *grad,
                               int64_t n, int64_t max_checks, double rtol, double atol_rel)
{
    double atol = atol_rel * gc_maxabs(grad, n) + 1e-4;
    int64_t stride = n > max_checks ? n / max_checks : 1, checked = 0, skipped = 0;
    for (int64_t i = 0; i < n; i += stride) {
        float keep = x[i];
        x[i] = keep + GC_STEP;
        double lp = model.loss(model.ctx);
        uint64_t kp = model.kink ? model.kink(model.ctx) : 0;
        x[i] = keep - GC_STEP;
        double lm = model.loss(model.ctx);
        uint64_t km = model.kink ? model.kink(model.ctx) : 0;
        x[i] = keep;
        if (kp != km) {
            skipped++;
            continue;
        }
        /* the step actually taken in float: (keep + h) - (keep - h) */
        double step = (double)(keep + GC_STEP) - (double)(keep - GC_STEP);
        double num = (lp - lm) / step;
        ck_assert_msg(gc_close(grad[i], num, rtol, atol),
                      "%s[%lld]: analytic %.7g, numeric %.7g (rtol %g, atol %g)", what,
                      (long long)i, (double)grad[i], num, rtol, atol);
        checked++;
    }
    if (getenv("GC_VERBOSE")) /* GC_VERBOSE=1 CK_FORK=no: how many coordinates were compared */
        fprintf(stderr, "%s: %lld checked, %lld skipped at kinks\n", what, (long long)checked,
                (long long)skipped);
    ck_assert_msg(checked >= (checked + skipped + 1) / 2,
                  "%s: %lld of %lld coordinates crossed a kink", what, (long long)skipped,
                  (long long)(checked + skipped));
    model.loss(model.ctx); /* leave the forward caches at the unperturbed point */
    return checked;
}

/* Whether two float arrays are bitwise identical. */
static inline int gc_same(const float *a, const float *b, int64_t n)
{
    return memcmp(a, b, (size_t)n * sizeof(float)) == 0;
}

/* max |a - b| / max(max |b|, tiny): the normwise difference of a from a reference b. */
static inline double gc_normdiff(const float *a, const float *b, int64_t n)
{
    double d = 0.0, m = 0.0;
    for (int64_t i = 0; i < n; i++) {
        if (fabs((double)a[i] - b[i]) > d) d = fabs((double)a[i] - b[i]);
        if (fabs((double)b[i]) > m) m = fabs((double)b[i]);
    }
    return d / (m > 1e-30 ? m : 1e-30);
}

#endif
