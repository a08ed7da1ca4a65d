/* error.c: status strings, the per-thread last error message, and the library session. */
#include "core/internal.h"

#include <igraph.h>
#include <signal.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef HAVE_OPENBLAS
void openblas_set_num_threads(int num_threads);
char *openblas_get_corename(void);
#endif

static _Thread_local char last_error[1024];

const char *gfuse_version(void) { return PACKAGE_VERSION; }

const char *gfuse_status_string(gfuse_status status)
{
    switch (status) {
    case GFUSE_OK: return "success";
    case GFUSE_ERR_NOMEM: return "out of memory";
    case GFUSE_ERR_ARG: return "invalid argument";
    case GFUSE_ERR_IO: return "input/output error";
    case GFUSE_ERR_DATA: return "bad input data";
    case GFUSE_ERR_MODEL: return "bad model file";
    case GFUSE_ERR_RUNTIME: return "runtime failure";
    case GFUSE_ERR_STATE: return "invalid state";
    case GFUSE_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown status";
}

const char *gfuse_last_error(void) { return last_error; }

/* The pending interrupt: written by signal handlers, read between units of work. */
static volatile sig_atomic_t interrupt_request;

void gfuse_interrupt(int signum) { interrupt_request = signum; }

int gfuse_interrupted(void) { return interrupt_request; }

void gfuse_i_clear_error(void) { last_error[0] = '\0'; }

gfuse_status gfuse_i_error(gfuse_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

gfuse_status gfuse_i_error_at(gfuse_status status, const char *file, int64_t line, int64_t col,
                              const char *fmt, ...)
{
    int len;
    if (line > 0 && col > 0)
        len = snprintf(last_error, sizeof last_error, "%s:%lld:%lld: ", file, (long long)line,
                       (long long)col);
    else if (line > 0)
        len = snprintf(last_error, sizeof last_error, "%s:%lld: ", file, (long long)line);
    else
        len = snprintf(last_error, sizeof last_error, "%s: ", file);
    if (len < 0) len = 0;
    if ((size_t)len >= sizeof last_error) return status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error + len, sizeof last_error - (size_t)len, fmt, ap);
    va_end(ap);
    return status;
}

gfuse_status gfuse_i_nomem(const char *what)
{
    return gfuse_i_error(GFUSE_ERR_NOMEM, "out of memory while allocating %s", what);
}

/* ---- session -------------------------------------------------------------------------- */

static int init_count;
static int n_threads_set;

bool gfuse_i_initialised(void) { return init_count > 0; }

gfuse_status gfuse_init(void)
{
    if (init_count++ > 0) return GFUSE_OK;
    /* igraph aborts on errors by default; gfuse checks every igraph_error_t instead. */
    igraph_set_error_handler(igraph_error_handler_ignore);
    igraph_set_warning_handler(igraph_warning_handler_ignore);
    return gfuse_set_threads(0);
}

void gfuse_finalize(void)
{
    if (init_count > 0) init_count--;
}

gfuse_status gfuse_set_threads(int n_threads)
{
    GFUSE_CHECK_ARG(n_threads >= 0, "n_threads must be at least 0, got %d", n_threads);
    int n = n_threads > 0 ? n_threads : omp_get_max_threads();
    if (n_threads > 0) omp_set_num_threads(n);
    n_threads_set = n;
#ifdef HAVE_OPENBLAS
    openblas_set_num_threads(n);
#endif
    return GFUSE_OK;
}

int gfuse_get_threads(void) { return n_threads_set > 0 ? n_threads_set : omp_get_max_threads(); }

const char *gfuse_blas_core_suggestion(void)
{
#if defined(HAVE_OPENBLAS) && (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    if (getenv("OPENBLAS_CORETYPE")) return NULL;
    const char *core = openblas_get_corename();
    /* the generic families OpenBLAS falls back to when it does not know the CPU model */
    static const char *const generic[] = {"prescott", "core2", "penryn", "dunnington",
                                          "nehalem", "atom", "katmai", "coppermine",
                                          "northwood", "banias", "unknown"};
    int is_generic = core == NULL;
    for (size_t t = 0; !is_generic && t < sizeof generic / sizeof generic[0]; t++)
        is_generic = strcasecmp(core, generic[t]) == 0;
    if (!is_generic) return NULL;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
    return NULL;
#else
    return NULL;
#endif
}
