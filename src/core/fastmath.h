/*
 * fastmath.h: the element-wise functions of the hot loops, written so that a loop over them
 * compiles to vector instructions (no libm call per element): exp, ELU and tanh in float, and
 * the counter-based hash of the dropout masks.
 *
 * gfuse_i_expf: exp(x) = 2^n * exp(r) with n = round(x / ln 2), r = x - n ln 2 (ln 2 split in
 * two parts so r is exact), exp(r) by a degree-7 polynomial on |r| <= ln 2 / 2 (the Cephes
 * coefficients); 2^n put into the exponent bits. Relative error below 2e-7 on [-87, 88]; x is
 * clamped to that range (exp(-87) ~ 1.6e-38 stands in for underflow, so ELU reaches -1 and a
 * softmax weight a harmless 1e-38 instead of 0).
 */
#ifndef GFUSE_FASTMATH_H
#define GFUSE_FASTMATH_H

#include <stdint.h>
#include <string.h>

/* GFUSE_I_HOT marks the kernels that run over every node, edge or parameter of every epoch:
 * the compiler builds each one for AVX-512 (x86-64-v4), for AVX2 and FMA (x86-64-v3) and for the
 * baseline, and the loader picks the best the CPU has (GCC function multiversioning, OpenMP
 * regions included). Results do not depend on the thread count on any of them; they may differ
 * in the last bits between CPUs of different levels (vector width, fused multiply-add). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(GFUSE_NO_MULTIVERSION)
#define GFUSE_I_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define GFUSE_I_HOT
#endif

static inline float gfuse_i_expf(float x)
{
    const float lo = -87.0f, hi = 88.0f;
    x = x < lo ? lo : x;
    x = x > hi ? hi : x;
    /* n = round(x log2 e) by the 1.5 * 2^23 shifter, exact for |n| < 2^22 */
    const float shifter = 12582912.0f;
    float t = x * 1.44269504088896341f + shifter;
    float n = t - shifter;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * r * r + r + 1.0f;
    int32_t ti, yi;
    memcpy(&ti, &t, sizeof ti);
    memcpy(&yi, &y, sizeof yi);
    yi += (ti - 0x4b400000) * (1 << 23); /* ti - bits(shifter) = n */
    memcpy(&y, &yi, sizeof y);
    return y;
}

/* ELU: x for x > 0, exp(x) - 1 otherwise (absolute error below 2e-7). */
static inline float gfuse_i_elu(float x)
{
    float e = gfuse_i_expf(x < 0.0f ? x : 0.0f) - 1.0f; /* both sides computed: no branch */
    return x > 0.0f ? x : e;
}

/* tanh(x) = sign(x) (1 - 2 / (exp(2|x|) + 1)) (absolute error below 3e-7). */
static inline float gfuse_i_tanhf(float x)
{
    float ax = x < 0.0f ? -x : x;
    float y = 1.0f - 2.0f / (gfuse_i_expf(2.0f * ax) + 1.0f);
    float ny = -y;
    return x < 0.0f ? ny : y;
}

/* A 32-bit hash of (key, counter): two rounds of multiply-xorshift around the key (the
 * "lowbias32" mixer), a few instructions that vectorise. */
static inline uint32_t gfuse_i_hash32(uint32_t key, uint32_t x)
{
    x += key;
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    x ^= key;
    x *= 0x9e3779b1u;
    x ^= x >> 16;
    return x;
}

#endif
