/* metrics.c: the predicted class and accuracy (see metrics.h). */
#include "core/metrics.h"

#include <math.h>

/* Row r of the evaluated subset: idx[r], or r itself when idx is NULL. */
static int64_t row_at(const int64_t *idx, int64_t r) { return idx ? idx[r] : r; }

int32_t gfuse_i_argmax(const float *p, int k)
{
    int32_t best = 0;
    for (int c = 1; c < k; c++)
        if (p[c] > p[best]) best = c;
    return best;
}

double gfuse_i_accuracy(const int32_t *y, const float *prob, const int64_t *idx, int64_t n,
                        int k)
{
    int64_t right = 0, total = 0;
    for (int64_t r = 0; r < n; r++) {
        int64_t i = row_at(idx, r);
        if (y[i] < 0) continue;
        total++;
        right += gfuse_i_argmax(prob + i * k, k) == y[i];
    }
    return total ? (double)right / (double)total : NAN;
}
