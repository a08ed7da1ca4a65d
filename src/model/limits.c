/* limits.c: the memory a training needs, estimated before it starts, against what the process
 * may use (its address-space or data limit, or else the machine's physical memory). */
#include "model/model.h"

#include "core/internal.h"

#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

/* Bytes per parameter of one member: the stored members hold 1 float each; a member in training
 * holds its weights, gradients, two AdamW moments and the weight average (5 floats). */
#define STORED_FLOATS 1.0
#define TRAINING_FLOATS 5.0

double gfuse_i_train_memory_estimate(const gfuse_model *m, const gfuse_cohort *c,
                                     const gfuse_train_options *o)
{
    double p = (double)m->layout.total;
    int threads = gfuse_get_threads();
    int members = o->ensemble > 0 ? o->ensemble : 1;
    int workers = threads < members ? threads : members;
    double params = 4.0 * p * (STORED_FLOATS * members + TRAINING_FLOATS * workers);
    /* the inputs: the reference copy, the standardised copy and the decoders' targets */
    double cells = 0.0;
    for (int j = 0; j < c->m; j++) cells += (double)c->n * (double)c->mod[j].d;
    double data = 4.0 * 3.0 * cells;
    /* the activations: a few dozen floats per node and width, per layer, per worker */
    double nodes = (double)c->n * (double)(c->m + 1);
    double act = 4.0 * 32.0 * nodes * (double)o->hidden * (double)(o->layers + 1) * workers;
    return params + data + act;
}

/* The bytes the process may still take: under RLIMIT_AS the limit less the address space in
 * use, under RLIMIT_DATA that limit, otherwise the physical memory. *what names it. */
static double memory_available(const char **what, double *limit)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        *what = "the address-space limit (ulimit -v)";
        *limit = (double)rl.rlim_cur;
        double used = 0.0;
        FILE *f = fopen("/proc/self/statm", "r");
        if (f) {
            unsigned long pages = 0;
            if (fscanf(f, "%lu", &pages) == 1) used = (double)pages * (double)sysconf(_SC_PAGESIZE);
            fclose(f);
        }
        return *limit - used;
    }
    if (getrlimit(RLIMIT_DATA, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        *what = "the data-size limit (ulimit -d)";
        *limit = (double)rl.rlim_cur;
        return *limit;
    }
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    *what = "the physical memory";
    *limit = pages > 0 && size > 0 ? (double)pages * (double)size : 0.0;
    return *limit;
}

gfuse_status gfuse_i_train_memory_check(const gfuse_model *m, const gfuse_cohort *c,
                                        const gfuse_train_options *o)
{
    double need = gfuse_i_train_memory_estimate(m, c, o);
    const char *what = "";
    double limit = 0.0;
    double avail = memory_available(&what, &limit);
    if (limit <= 0.0 || need <= avail) return GFUSE_OK;
    const double mib = 1048576.0;
    return gfuse_i_error(GFUSE_ERR_NOMEM,
                         "training needs about %.0f MiB (%lld parameters a member, %d member%s), "
                         "more than %s of %.0f MiB%s allows; use fewer features, a smaller "
                         "--hidden or --ensemble, or fewer --threads",
                         need / mib, (long long)m->layout.total, o->ensemble,
                         o->ensemble == 1 ? "" : "s", what, limit / mib,
                         avail < limit ? " (less what is in use)" : "");
}
