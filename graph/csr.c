/* csr.c: prefix sums, the transpose (by source) of the destination CSR, and invariant checks. */
#include "graph/graph.h"
#include "core/util.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Below this many entries the serial path is faster than starting threads. */
#define PARALLEL_MIN 65536
/* The parallel transpose keeps one count per (thread, node): cap the threads it uses. */
#define TRANSPOSE_MAX_THREADS 16

void gfuse_i_prefix_sum_serial(int64_t *counts, int64_t n)
{
    int64_t run = 0;
    for (int64_t v = 0; v < n; v++) {
        int64_t c = counts[v];
        counts[v] = run;
        run += c;
    }
    counts[n] = run;
}

void gfuse_i_prefix_sum(int64_t *counts, int64_t n)
{
    int nt = omp_get_max_threads();
    if (n < PARALLEL_MIN || nt < 2) {
        gfuse_i_prefix_sum_serial(counts, n);
        return;
    }
    /* Two passes: each thread sums its chunk, the chunk offsets are scanned, then each thread
     * scans its chunk from its offset. Integer sums, so the result equals the serial scan. */
    int64_t *part = gfuse_i_alloc(nt + 1, sizeof *part);
    if (!part) {
        gfuse_i_prefix_sum_serial(counts, n);
        return;
    }
    int used = nt;
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num();
#pragma omp single
        used = omp_get_num_threads();
        int64_t lo = n * t / used, hi = n * (t + 1) / used;
        int64_t sum = 0;
        for (int64_t v = lo; v < hi; v++) sum += counts[v];
        part[t + 1] = sum;
#pragma omp barrier
#pragma omp single
        {
            part[0] = 0;
            for (int u = 0; u < used; u++) part[u + 1] += part[u];
        }
        int64_t run = part[t];
        for (int64_t v = lo; v < hi; v++) {
            int64_t c = counts[v];
            counts[v] = run;
            run += c;
        }
    }
    counts[n] = part[used];
    free(part);
}

gfuse_status gfuse_i_graph_transpose_serial(struct gfuse_graph *g)
{
    int64_t nn = g->n_nodes;
    int64_t *next = gfuse_i_alloc(nn + 1, sizeof *next);
    if (!next) return gfuse_i_nomem("the transposed graph");
    memset(g->out_ptr, 0, (size_t)(nn + 1) * sizeof *g->out_ptr);
    for (int64_t e = 0; e < g->n_edges; e++) g->out_ptr[g->in_src[e]]++;
    gfuse_i_prefix_sum_serial(g->out_ptr, nn);
    memcpy(next, g->out_ptr, (size_t)(nn + 1) * sizeof *next);
    for (int64_t v = 0; v < nn; v++) {
        for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++) {
            int64_t at = next[g->in_src[e]]++;
            g->out_dst[at] = v;
            g->out_eid[at] = e;
        }
    }
    free(next);
    return GFUSE_OK;
}

gfuse_status gfuse_i_graph_transpose(struct gfuse_graph *g)
{
    int nt = omp_get_max_threads();
    if (nt > TRANSPOSE_MAX_THREADS) nt = TRANSPOSE_MAX_THREADS;
    int64_t nn = g->n_nodes;
    if (g->n_edges < PARALLEL_MIN || nt < 2) return gfuse_i_graph_transpose_serial(g);
    /* Thread t owns destination rows [lo_t, hi_t) and so a contiguous range of edge ids. It
     * counts its sources privately; positions are assigned source by source, thread by
     * thread, which keeps the sort stable (ascending edge id within a source), exactly as
     * the serial version. */
    int64_t *cnt = gfuse_i_zalloc((size_t)nt * (size_t)nn, sizeof *cnt);
    int64_t *row_lo = gfuse_i_alloc(nt + 1, sizeof *row_lo);
    if (!cnt || !row_lo) {
        free(cnt);
        free(row_lo);
        return gfuse_i_nomem("the transposed graph");
    }
    /* Split rows so each thread gets about the same number of edges. */
    row_lo[0] = 0;
    for (int t = 1; t < nt; t++) {
        int64_t target = g->n_edges * t / nt, lo = row_lo[t - 1], hi = nn;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (g->in_ptr[mid] < target) lo = mid + 1;
            else hi = mid;
        }
        row_lo[t] = lo;
    }
    row_lo[nt] = nn;
#pragma omp parallel for schedule(static, 1) num_threads(nt)
    for (int t = 0; t < nt; t++) {
        int64_t *c = cnt + (size_t)t * nn;
        for (int64_t e = g->in_ptr[row_lo[t]]; e < g->in_ptr[row_lo[t + 1]]; e++) c[g->in_src[e]]++;
    }
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t u = 0; u < nn; u++) {
        int64_t total = 0;
        for (int t = 0; t < nt; t++) total += cnt[(size_t)t * nn + u];
        g->out_ptr[u] = total;
    }
    gfuse_i_prefix_sum(g->out_ptr, nn);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t u = 0; u < nn; u++) {
        int64_t run = g->out_ptr[u];
        for (int t = 0; t < nt; t++) {
            int64_t c = cnt[(size_t)t * nn + u];
            cnt[(size_t)t * nn + u] = run;
            run += c;
        }
    }
#pragma omp parallel for schedule(static, 1) num_threads(nt)
    for (int t = 0; t < nt; t++) {
        int64_t *next = cnt + (size_t)t * nn;
        for (int64_t v = row_lo[t]; v < row_lo[t + 1]; v++) {
            for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++) {
                int64_t at = next[g->in_src[e]]++;
                g->out_dst[at] = v;
                g->out_eid[at] = e;
            }
        }
    }
    free(cnt);
    free(row_lo);
    return GFUSE_OK;
}
