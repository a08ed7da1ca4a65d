/* inspect.c: missing-modality patterns of a cohort (what `gfuse inspect` tabulates). */
#include "cohort/cohort.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

typedef struct {
    uint64_t pattern;
    int64_t count;
} pattern_count;

/* By count, descending, then by pattern, ascending. */
static int compare_pattern_counts(const void *a, const void *b)
{
    const pattern_count *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return (x->pattern > y->pattern) - (x->pattern < y->pattern);
}

gfuse_status gfuse_cohort_patterns(const gfuse_cohort *c, gfuse_patterns *out)
{
    GFUSE_CHECK_ARG(out, "out must not be NULL");
    memset(out, 0, sizeof *out);
    GFUSE_CHECK_ARG(c, "cohort must not be NULL");
    GFUSE_CHECK_ARG(c->m <= 64, "missing-modality patterns support at most 64 modalities; the "
                    "cohort has %d", c->m);
    gfuse_status st = GFUSE_OK;
    uint64_t *bits = gfuse_i_alloc(c->n, sizeof *bits);
    pattern_count *runs = gfuse_i_alloc(c->n, sizeof *runs);
    if (!bits || !runs) {
        st = gfuse_i_nomem("missing-modality patterns");
        goto done;
    }
    for (int64_t i = 0; i < c->n; i++) {
        uint64_t b = 0;
        for (int m = 0; m < c->m; m++)
            if (c->mod[m].present[i]) b |= UINT64_C(1) << m;
        bits[i] = b;
    }
    qsort(bits, (size_t)c->n, sizeof *bits, compare_u64);
    int64_t n_runs = 0;
    for (int64_t i = 0; i < c->n; i++) {
        if (n_runs > 0 && runs[n_runs - 1].pattern == bits[i]) {
            runs[n_runs - 1].count++;
        } else {
            runs[n_runs].pattern = bits[i];
            runs[n_runs].count = 1;
            n_runs++;
        }
    }
    qsort(runs, (size_t)n_runs, sizeof *runs, compare_pattern_counts);
    out->pattern = gfuse_i_alloc(n_runs, sizeof *out->pattern);
    out->count = gfuse_i_alloc(n_runs, sizeof *out->count);
    if (!out->pattern || !out->count) {
        gfuse_patterns_free(out);
        st = gfuse_i_nomem("missing-modality patterns");
        goto done;
    }
    for (int64_t k = 0; k < n_runs; k++) {
        out->pattern[k] = runs[k].pattern;
        out->count[k] = runs[k].count;
    }
    out->n_patterns = n_runs;
done:
    free(bits);
    free(runs);
    return st;
}

void gfuse_patterns_free(gfuse_patterns *p)
{
    if (!p) return;
    free(p->pattern);
    free(p->count);
    memset(p, 0, sizeof *p);
}
