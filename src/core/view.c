/* view.c: the neutral data view (view.h) and the standardiser the model and the kNN share. */
#include "core/view.h"
#include "core/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void gfuse_i_view_release(gfuse_i_view *v)
{
    free(v->owned);
    memset(v, 0, sizeof *v);
}

int gfuse_i_view_stats(const gfuse_i_view *v, int m, const uint8_t *sel, double *mean,
                       double *sd)
{
    int64_t d = v->d[m], n = v->n;
    const uint8_t *has = v->has + (int64_t)m * n;
    int64_t *cnt = gfuse_i_zalloc(d, sizeof *cnt);
    if (!cnt) return -1;
    for (int64_t f = 0; f < d; f++) {
        mean[f] = 0.0;
        sd[f] = 0.0;
    }
    /* Row by row (row-major data), each feature accumulating its own sum in sample order. */
    for (int64_t i = 0; i < n; i++) {
        if (!has[i] || (sel && !sel[i])) continue;
        const float *x = gfuse_i_view_row(v, m, i);
        for (int64_t f = 0; f < d; f++)
            if (x[f] == x[f]) {
                mean[f] += (double)x[f];
                cnt[f]++;
            }
    }
    for (int64_t f = 0; f < d; f++) mean[f] = cnt[f] > 0 ? mean[f] / (double)cnt[f] : 0.0;
    for (int64_t i = 0; i < n; i++) {
        if (!has[i] || (sel && !sel[i])) continue;
        const float *x = gfuse_i_view_row(v, m, i);
        for (int64_t f = 0; f < d; f++)
            if (x[f] == x[f]) {
                double dev = (double)x[f] - mean[f];
                sd[f] += dev * dev;
            }
    }
    for (int64_t f = 0; f < d; f++) sd[f] = cnt[f] > 0 ? sqrt(sd[f] / (double)cnt[f]) : 0.0;
    free(cnt);
    return 0;
}
