/* error.c: status strings, the per-thread last error message, and the library session. */
#include "core/internal.h"

#include <igraph.h>
#include <signal.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

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

/* The address space one worker thread is counted to need under an address-space limit: its
 * stack, a malloc arena (64 MiB reserved on 64-bit glibc) and working room. */
#define THREAD_AS_BYTES (128.0 * 1048576.0)
/* What one OpenBLAS pool thread needs: the above and its 128 MiB buffer. */
#define BLAS_THREAD_AS_BYTES (512.0 * 1048576.0)

/* The address-space limit (RLIMIT_AS, `ulimit -v`) in bytes; 0 when there is none. */
static double address_space_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 0.0;
    return (double)rl.rlim_cur;
}

int gfuse_thread_limit(char *why, size_t why_size)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1) cpus = 1;
    int limit = GFUSE_MAX_THREADS;
    char reason[160];
    snprintf(reason, sizeof reason, "the most gfuse uses");
    if (4 * cpus < limit) {
        limit = (int)(4 * cpus);
        snprintf(reason, sizeof reason, "4 x %ld online CPUs", cpus);
    }
    double as = address_space_limit();
    if (as > 0.0) {
        /* half the address space for the threads, the rest for the data */
        double fit = as / 2.0 / THREAD_AS_BYTES;
        int n = fit < 1.0 ? 1 : (fit > (double)limit ? limit : (int)fit);
        if (n < limit) {
            limit = n;
            snprintf(reason, sizeof reason, "what the address-space limit (ulimit -v) of %.0f MiB "
                     "leaves room for", as / 1048576.0);
        }
    }
    if (why && why_size > 0) snprintf(why, why_size, "%s", reason);
    return limit;
}

gfuse_status gfuse_set_threads(int n_threads)
{
    GFUSE_CHECK_ARG(n_threads >= 0, "n_threads must be at least 0, got %d", n_threads);
    int n = n_threads > 0 ? n_threads : omp_get_max_threads();
    int limit = gfuse_thread_limit(NULL, 0);
    if (n > limit) n = limit;
    if (n < 1) n = 1;
    if (n_threads > 0 || n != omp_get_max_threads()) omp_set_num_threads(n);
    n_threads_set = n;
#ifdef HAVE_OPENBLAS
    /* Under an address-space limit that cannot hold a buffer for every OpenBLAS thread, OpenBLAS
     * runs on one thread: its pool threads retry a failed buffer mmap forever, and the exit
     * then waits on them (a hang instead of an error). gfuse's own kernels keep n threads. */
    double as = address_space_limit();
    int n_blas = as > 0.0 && as < (double)n * BLAS_THREAD_AS_BYTES ? 1 : n;
    openblas_set_num_threads(n_blas);
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
