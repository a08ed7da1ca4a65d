/*
 * gfuse.h: the public interface of libgfuse, learning from incomplete multimodal cohorts.
 *
 * A cohort is a set of samples measured in several modalities (gene expression, methylation,
 * imaging features, ...) where many samples lack some modalities. gfuse makes every
 * (sample, modality) pair and every sample hub a node of one sparse graph, completes the
 * missing-modality nodes with graph attention and fuses each sample's nodes into a prediction.
 *
 * Walkthrough:
 *
 *     gfuse_init();                                    // once per process
 *
 *     gfuse_cohort_options co;
 *     gfuse_cohort_options_init(&co);
 *     co.dir = "data/example";                         // <modality>.csv, labels.csv, split.csv
 *     co.mask_file = NULL;                             // or "mask.csv" to hide modalities
 *     gfuse_cohort *cohort = NULL;
 *     if (gfuse_cohort_load(&cohort, &co) != GFUSE_OK)
 *         fprintf(stderr, "%s\n", gfuse_last_error());  // "file:line:column: what is wrong"
 *
 *     printf("%lld samples, %d modalities\n",
 *            (long long)gfuse_cohort_n_samples(cohort), gfuse_cohort_n_modalities(cohort));
 *
 *     gfuse_graph_options go;
 *     gfuse_graph_options_init(&go);                   // k = 10, cosine
 *     gfuse_graph *graph = NULL;
 *     gfuse_graph_build(&graph, cohort, &go);          // exact kNN per modality + hubs
 *
 *     ... train, predict and impute: see the model section below ...
 *
 *     gfuse_graph_free(&graph);                        // frees and sets graph to NULL
 *     gfuse_cohort_free(&cohort);
 *     gfuse_finalize();
 *
 * Conventions:
 *  - Every fallible function returns a gfuse_status: GFUSE_OK (0) or a negative code. After a
 *    failure gfuse_last_error() (per thread) says what went wrong and where.
 *  - Handles are opaque. X_new/X_load/X_build create one through an out-parameter, which stays
 *    NULL on failure; X_free(&h) frees it, sets h to NULL and accepts NULL.
 *  - Strings and arrays returned by accessors belong to the handle and live as long as it does.
 *  - The library never prints and never exits. Indices are 0-based; sizes are int64_t.
 */
#ifndef GFUSE_H
#define GFUSE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(GFUSE_BUILDING) && defined(__GNUC__)
#define GFUSE_API __attribute__((visibility("default")))
#else
#define GFUSE_API
#endif

/* ---- version ---------------------------------------------------------------------------- */

#define GFUSE_VERSION_MAJOR 0
#define GFUSE_VERSION_MINOR 1
#define GFUSE_VERSION_PATCH 0
#define GFUSE_VERSION_STRING "0.1.0"
/* One number for comparisons: 0xMMmmpp. */
#define GFUSE_VERSION_HEX \
    ((GFUSE_VERSION_MAJOR << 16) | (GFUSE_VERSION_MINOR << 8) | GFUSE_VERSION_PATCH)

/* The version of the library actually linked, e.g. "0.1.0". */
GFUSE_API const char *gfuse_version(void);

/* ---- status and errors ------------------------------------------------------------------ */

typedef enum {
    GFUSE_OK = 0,
    GFUSE_ERR_NOMEM = -1,   /* an allocation failed */
    GFUSE_ERR_ARG = -2,     /* an argument is out of range or inconsistent (a usage error) */
    GFUSE_ERR_IO = -3,      /* a file could not be opened, read or written */
    GFUSE_ERR_DATA = -4,    /* input data is malformed (the message names file, line, column) */
    GFUSE_ERR_MODEL = -5,   /* a model file is truncated, corrupted or of a newer version */
    GFUSE_ERR_RUNTIME = -6, /* a computation failed (a dependency reported an error) */
    GFUSE_ERR_STATE = -7,   /* the library was not initialised, or a handle is in the wrong state */
    GFUSE_ERR_INTERRUPTED = -8 /* gfuse_interrupt stopped the work (a signal, as a rule) */
} gfuse_status;

/* A short constant name for a status, e.g. "bad input data". */
GFUSE_API const char *gfuse_status_string(gfuse_status status);

/* The message of the last failure in this thread; "" if none. Valid until the next call into
 * gfuse from this thread. */
GFUSE_API const char *gfuse_last_error(void);

/* ---- library session -------------------------------------------------------------------- */

/* Starts the library: installs igraph's non-aborting error handler and sets the thread count
 * (gfuse_set_threads(0)). Call once before anything else; calls nest (counted). */
GFUSE_API gfuse_status gfuse_init(void);

/* Ends the session opened by the matching gfuse_init. */
GFUSE_API void gfuse_finalize(void);

/* Sets the number of threads gfuse's kernels use (0 = OpenMP's default, i.e. OMP_NUM_THREADS
 * or the number of cores). OpenBLAS is set to the same count, so nothing oversubscribes.
 * Results do not depend on it. */
GFUSE_API gfuse_status gfuse_set_threads(int n_threads);
GFUSE_API int gfuse_get_threads(void);
/* The most threads gfuse_set_threads grants (larger requests are capped to it): GFUSE_MAX_THREADS,
 * 4 x the online CPUs, and under an address-space limit (RLIMIT_AS) what half of it holds at
 * 128 MiB a thread. When why is not NULL, a phrase saying which bound applies is written there
 * ("4 x 2 online CPUs"). Under such a limit OpenBLAS may be given a single thread. */
#define GFUSE_MAX_THREADS 1024
GFUSE_API int gfuse_thread_limit(char *why, size_t why_size);
/* The OpenBLAS kernel family this machine should use when OpenBLAS chose a generic one
 * ("Prescott" and the like: it does not recognise some virtual CPUs and falls back to SSE3
 * kernels several times slower): "SkylakeX" (AVX-512) or "Haswell" (AVX2 and FMA); NULL when
 * OpenBLAS already runs a tuned kernel, is not the BLAS, or OPENBLAS_CORETYPE is set. OpenBLAS
 * picks its kernels once, when it is loaded: a program acts on this by setting
 * OPENBLAS_CORETYPE before it starts (the gfuse tool restarts itself once with it set). */
GFUSE_API const char *gfuse_blas_core_suggestion(void);

/* Asks long work (training, as a rule) to stop at its next safe point: it then returns
 * GFUSE_ERR_INTERRUPTED, after saving what it was told to save (a training checkpoint).
 * Async-signal-safe: a SIGINT or SIGTERM handler may call it with its signal number, which
 * gfuse_interrupted reports afterwards. gfuse_interrupt(0) clears the request. */
GFUSE_API void gfuse_interrupt(int signum);
/* The signal number (or other nonzero value) of the pending gfuse_interrupt; 0 when none. */
GFUSE_API int gfuse_interrupted(void);

/* ---- output files: the one writer the library and the tool use ----
 * An output path that is a folder, a device, a FIFO or a socket is refused (GFUSE_ERR_ARG), as
 * is one whose folder is missing or not writable (GFUSE_ERR_IO). A symlink is followed: the
 * file it names is replaced, the link stays. The data goes to a temporary file made with
 * mkstemp beside the target, which is fsync-ed and renamed over it (the folder fsync-ed too);
 * a replaced file keeps its permission bits, a new one gets 0666 & ~umask. "-" is standard
 * output. Live temporary files are registered for gfuse_temp_cleanup. */
typedef struct gfuse_output gfuse_output;

/* Checks one output path as gfuse_output_open would, creating nothing. */
GFUSE_API gfuse_status gfuse_output_check(const char *path);
/* Checks every output (NULL and "-" skipped) and refuses, with GFUSE_ERR_ARG, an output that
 * is the same file (device and inode) as one of the inputs (NULL or missing ones skipped) or
 * as another output. For a command to call before its work. */
GFUSE_API gfuse_status gfuse_outputs_check(const char *const *outputs, int n_outputs,
                                           const char *const *inputs, int n_inputs);
GFUSE_API gfuse_status gfuse_output_open(gfuse_output **out, const char *path);
/* Where to write: the temporary file, or stdout for "-". */
GFUSE_API FILE *gfuse_output_stream(const gfuse_output *out);
/* Checks for write errors and renames into place; *out is freed and set to NULL either way. */
GFUSE_API gfuse_status gfuse_output_commit(gfuse_output **out);
/* Removes the temporary file and frees; safe on NULL and after commit. */
GFUSE_API void gfuse_output_abort(gfuse_output **out);

/* The registry of temporary paths that a signal must not leave behind (a fixed table of 64):
 * gfuse_temp_register returns 0, or -1 when the path is too long or the table full; is_folder
 * marks a folder, removed (rmdir) after the files. gfuse_temp_cleanup removes every registered
 * path and empties the table; it is async-signal-safe, for a SIGINT/SIGTERM handler. */
GFUSE_API int gfuse_temp_register(const char *path, int is_folder);
GFUSE_API void gfuse_temp_forget(const char *path);
GFUSE_API void gfuse_temp_cleanup(void);
/* The moment an output goes into place: gfuse_temp_hold lets a pending SIGINT or SIGTERM act
 * first, then holds both in the calling thread until the matching gfuse_temp_release (holds
 * nest), so that a handler never runs between the rename of a temporary path into place and
 * its gfuse_temp_forget. The library's own writers hold around their renames. */
GFUSE_API void gfuse_temp_hold(void);
GFUSE_API void gfuse_temp_release(void);

/* ---- cohorts ------------------------------------------------------------------------------ */

typedef struct gfuse_cohort gfuse_cohort;

typedef enum {
    GFUSE_SPLIT_NONE = 0, /* not named in a split file */
    GFUSE_SPLIT_TRAIN = 1,
    GFUSE_SPLIT_VAL = 2,
    GFUSE_SPLIT_TEST = 3
} gfuse_split;

typedef enum {
    GFUSE_TASK_AUTO = 0,     /* classify, unless told otherwise */
    GFUSE_TASK_CLASSIFY = 1, /* labels are class names (strings or integers) */
    GFUSE_TASK_REGRESS = 2   /* labels are numbers */
} gfuse_task;

typedef struct {
    /* A cohort folder: every *.csv / *.tsv file other than labels.*, split.* and mask*.* is a
     * modality named after the file (modalities sorted by name); labels.csv and split.csv
     * are used when present. May be NULL when every file is given explicitly. */
    const char *dir;
    /* Explicit modality files (NAME=FILE on the command line); added to / override the
     * folder's. n_modality_files entries each. */
    const char *const *modality_names;
    const char *const *modality_files;
    int n_modality_files;
    const char *labels_file; /* NULL: <dir>/labels.csv if present */
    const char *split_file;  /* NULL: <dir>/split.csv if present */
    /* NULL: no mask. id,<modality...> with 1 = keep, 0 = hide. Samples the mask leaves with
     * no modality stay in the cohort (so that masked and unmasked cohorts have the same
     * samples) and are reported as a warning; ids not in the cohort are a warning. */
    const char *mask_file;
    gfuse_task task;         /* how to read labels */
} gfuse_cohort_options;

/* Fills opts with the defaults (everything NULL / 0, task AUTO). */
GFUSE_API void gfuse_cohort_options_init(gfuse_cohort_options *opts);

/* Loads a cohort. Files are read with memory close to the size of their float32 values.
 * Errors: GFUSE_ERR_IO (cannot open), GFUSE_ERR_DATA (malformed: non-numeric cell, ragged
 * row, duplicate id or feature, infinite value, empty file, missing header, ...; the message
 * is "FILE:LINE:COLUMN: ..."), GFUSE_ERR_ARG (bad options). Problems that do not stop the
 * load (a label for an unknown sample, a sample with no modality, which is excluded) become
 * warnings, see gfuse_cohort_n_warnings. *out stays NULL on failure. */
GFUSE_API gfuse_status gfuse_cohort_load(gfuse_cohort **out, const gfuse_cohort_options *opts);

/* Builds a cohort from memory, for programs that embed gfuse: n samples with the given ids
 * (copied; unique); then add modalities and labels. */
GFUSE_API gfuse_status gfuse_cohort_new(gfuse_cohort **out, int64_t n_samples,
                                        const char *const *ids);
/* Adds a modality (its index is the number added before it) with d features (names copied,
 * unique; NULL gives f1..fd) and values, an
 * n_samples x d row-major float array (copied). A row that is all NaN means the sample lacks
 * the modality; NaN cells elsewhere are missing values. */
GFUSE_API gfuse_status gfuse_cohort_add_modality(gfuse_cohort *c, const char *name, int64_t d,
                                                 const char *const *feature_names,
                                                 const float *values);
/* Sets class labels: label[i] in [0, n_classes) or -1 for unlabelled; class names copied. */
GFUSE_API gfuse_status gfuse_cohort_set_classes(gfuse_cohort *c, int n_classes,
                                                const char *const *class_names,
                                                const int32_t *label);
/* Sets regression targets: NaN for unlabelled. */
GFUSE_API gfuse_status gfuse_cohort_set_targets(gfuse_cohort *c, const double *target);
/* Sets the split of every sample (array of n_samples gfuse_split values). */
GFUSE_API gfuse_status gfuse_cohort_set_split(gfuse_cohort *c, const gfuse_split *split);
/* Hides modality m of sample i (as a mask file does). */
GFUSE_API gfuse_status gfuse_cohort_hide(gfuse_cohort *c, int64_t i, int m);

GFUSE_API void gfuse_cohort_free(gfuse_cohort **c);

GFUSE_API int64_t gfuse_cohort_n_samples(const gfuse_cohort *c);
GFUSE_API int gfuse_cohort_n_modalities(const gfuse_cohort *c);
GFUSE_API const char *gfuse_cohort_sample_id(const gfuse_cohort *c, int64_t i);
/* The index of a sample id, or -1. O(1) expected. */
GFUSE_API int64_t gfuse_cohort_find_sample(const gfuse_cohort *c, const char *id);
GFUSE_API const char *gfuse_cohort_modality_name(const gfuse_cohort *c, int m);
/* The file modality m was read from ("" for modalities added from memory). */
GFUSE_API const char *gfuse_cohort_modality_file(const gfuse_cohort *c, int m);
GFUSE_API int64_t gfuse_cohort_n_features(const gfuse_cohort *c, int m);
GFUSE_API const char *gfuse_cohort_feature_name(const gfuse_cohort *c, int m, int64_t j);
/* 1 if sample i has modality m (present in the file, not all missing, not hidden by a mask). */
GFUSE_API int gfuse_cohort_has_modality(const gfuse_cohort *c, int64_t i, int m);
/* The n_features(m) values of sample i in modality m (NaN = missing cell), or NULL when the
 * sample lacks the modality. */
GFUSE_API const float *gfuse_cohort_values(const gfuse_cohort *c, int64_t i, int m);
/* Like gfuse_cohort_values, but also returns the row of a modality hidden by a mask (the data
 * is kept so that completion can be scored); NULL only when the file had no row. */
GFUSE_API const float *gfuse_cohort_values_unmasked(const gfuse_cohort *c, int64_t i, int m);
/* Number of NaN cells among the rows of modality m that are present. */
GFUSE_API int64_t gfuse_cohort_n_missing_cells(const gfuse_cohort *c, int m);

GFUSE_API gfuse_task gfuse_cohort_task(const gfuse_cohort *c); /* AUTO when there are no labels */
GFUSE_API int gfuse_cohort_n_classes(const gfuse_cohort *c);
GFUSE_API const char *gfuse_cohort_class_name(const gfuse_cohort *c, int k);
/* The class of sample i, or -1 when it has no label (classification). */
GFUSE_API int32_t gfuse_cohort_label(const gfuse_cohort *c, int64_t i);
/* The target of sample i, or NaN when it has none (regression). */
GFUSE_API double gfuse_cohort_target(const gfuse_cohort *c, int64_t i);
GFUSE_API gfuse_split gfuse_cohort_split(const gfuse_cohort *c, int64_t i);
GFUSE_API int gfuse_cohort_has_split(const gfuse_cohort *c);

/* Problems found while loading that did not stop it, one message each. */
GFUSE_API int64_t gfuse_cohort_n_warnings(const gfuse_cohort *c);
GFUSE_API const char *gfuse_cohort_warning(const gfuse_cohort *c, int64_t k);

/* ---- inspection ----------------------------------------------------------------------------- */

/* Missing-modality patterns, like R mice's md.pattern: each distinct pattern of present
 * modalities (bit m set = modality m present) with the number of samples showing it, sorted
 * by count (descending), then by pattern. Modalities beyond 64 are not supported here. */
typedef struct {
    int64_t n_patterns;
    uint64_t *pattern; /* n_patterns bitsets */
    int64_t *count;    /* n_patterns counts */
} gfuse_patterns;

GFUSE_API gfuse_status gfuse_cohort_patterns(const gfuse_cohort *c, gfuse_patterns *out);
GFUSE_API void gfuse_patterns_free(gfuse_patterns *p);

/* ---- synthetic cohorts ---------------------------------------------------------------------- */

typedef enum {
    GFUSE_MISSING_MCAR = 0, /* modalities missing completely at random */
    GFUSE_MISSING_MNAR = 1  /* missingness depends on the unseen values (not at random) */
} gfuse_missingness;

typedef struct {
    int64_t n_samples;      /* default 300 */
    int n_modalities;       /* default 3 */
    const int64_t *n_features; /* per modality; NULL = 50 each */
    int n_classes;          /* default 3 */
    int latent_dim;         /* dimension of the shared latent space; default 8 */
    double missing_rate;    /* share of samples lacking at least one modality; default 0.33 */
    gfuse_missingness mechanism;
    double noise;           /* noise standard deviation relative to signal; default 1.0 */
    double class_separation;/* distance between class centres in latent units; default 2.0 */
    double test_fraction;   /* share of samples in the test split; default 0.25 */
    uint64_t seed;          /* default 1 */
} gfuse_synth_options;

GFUSE_API void gfuse_synth_options_init(gfuse_synth_options *opts);

/* Writes a synthetic cohort into folder dir (created; must not exist or be empty):
 * mod1.csv ... modM.csv with the missing modalities left out, labels.csv, split.csv, and
 * truth/ holding the complete matrices (truth/modK.csv) and the latent class of every sample.
 * The same options give byte-identical files. Files are written to temporary names and renamed. */
GFUSE_API gfuse_status gfuse_synth_write(const char *dir, const gfuse_synth_options *opts);

/* ---- graph (README.md, "Graph") -------------------------------------------------------------- */
/*
 * The graph has one node per (sample, modality) pair, present or missing, and one hub per
 * sample: N * (M + 1) nodes with stable ids
 *     modality node (sample i, modality m) = m * N + i      (0 <= m < M)
 *     hub of sample i                       = M * N + i
 * Edges are directed (a message goes from source to destination) and typed:
 *   knn     (j,m) -> (i,m): the k most similar observed nodes of modality m, j != i. For an
 *           observed (i,m) similarity is measured on modality m; for a missing one it is the
 *           mean similarity over the modalities i and j both have. Missing nodes never send
 *           knn edges; a missing node whose sample shares no modality with any observed node
 *           of m gets none (counted in gfuse_graph_n_isolated_missing, never linked at random).
 *   member  (i,m) -> hub i for every observed m, and hub i -> (i,m) for every m.
 *   self    a loop on every node.
 * Similarity: features are standardised (z-scores, rounded to float, with the cohort's
 * per-feature mean and standard deviation over the present rows; missing cells count as the
 * mean, i.e. 0), then cosine (a zero vector has similarity 0 with everything) or, for the
 * euclidean metric, 1 / (1 + mean squared difference) = 1 / (1 + ||z_i - z_j||^2 / d), both
 * accumulated in double. Neighbours are exact; ties go to the smaller sample index, so the
 * graph is identical for any thread count.
 * Storage: CSR by destination (sources ascending in each row) plus its transpose by source.
 */
typedef struct gfuse_graph gfuse_graph;

typedef enum {
    GFUSE_REL_KNN = 0,    /* similarity edge within a modality */
    GFUSE_REL_MEMBER = 1, /* modality node <-> its sample's hub */
    GFUSE_REL_SELF = 2    /* self loop */
} gfuse_relation;
#define GFUSE_N_RELATIONS 3

typedef enum {
    GFUSE_METRIC_COSINE = 0,   /* cosine of the standardised vectors (default) */
    GFUSE_METRIC_EUCLIDEAN = 1 /* 1 / (1 + mean squared difference) */
} gfuse_metric;

typedef enum {
    GFUSE_ORDER_NATURAL = 0, /* rows visited in node-id order (default) */
    GFUSE_ORDER_RCM = 1,     /* reverse Cuthill-McKee on the symmetrised pattern */
    GFUSE_ORDER_AMD = 2      /* SuiteSparse AMD on the symmetrised pattern */
} gfuse_row_order;

typedef struct {
    int k;                   /* neighbours per node, default 10 */
    gfuse_metric metric;     /* default GFUSE_METRIC_COSINE */
    int standardize;         /* 1 (default): z-score features first; 0: raw values (NaN = 0) */
    int weighted;            /* 1 (default): knn weight = similarity; 0: every weight is 1 */
    gfuse_row_order reorder; /* a row visiting order for the kernels; default natural */
} gfuse_graph_options;

/* Fills opts with the defaults above. */
GFUSE_API void gfuse_graph_options_init(gfuse_graph_options *opts);

/* Builds the graph of a cohort (opts NULL = defaults). Exact kNN through blocked BLAS tiles,
 * O(M * N^2 * d) time spread over the threads, memory O(N * (d + M * k)) plus a tile per
 * thread, never N x N. Errors: GFUSE_ERR_ARG (k < 1, unknown metric or order, no sample),
 * GFUSE_ERR_NOMEM. *out stays NULL on failure. */
GFUSE_API gfuse_status gfuse_graph_build(gfuse_graph **out, const gfuse_cohort *c,
                                         const gfuse_graph_options *opts);
/* Frees a graph, sets *g to NULL; accepts NULL. */
GFUSE_API void gfuse_graph_free(gfuse_graph **g);

GFUSE_API int64_t gfuse_graph_n_nodes(const gfuse_graph *g);
GFUSE_API int64_t gfuse_graph_n_edges(const gfuse_graph *g);
GFUSE_API int64_t gfuse_graph_n_samples(const gfuse_graph *g);
GFUSE_API int gfuse_graph_n_modalities(const gfuse_graph *g);
GFUSE_API int gfuse_graph_k(const gfuse_graph *g);
/* The id of modality node (sample, modality), or of the hub when modality == -1; -1 when out
 * of range. */
GFUSE_API int64_t gfuse_graph_node(const gfuse_graph *g, int64_t sample, int modality);
/* What node is: its sample, and its modality (-1 for a hub). Returns 1 when the node is an
 * observed modality node or a hub, 0 for a missing modality node, -1 when node is out of
 * range. sample and modality may be NULL. */
GFUSE_API int gfuse_graph_node_info(const gfuse_graph *g, int64_t node, int64_t *sample,
                                    int *modality);
/* Missing modality nodes that received no knn edge (see above). */
GFUSE_API int64_t gfuse_graph_n_isolated_missing(const gfuse_graph *g);
/* The CSR by destination: in-edges of node v are ptr[v] .. ptr[v+1]-1 with source src[e],
 * relation rel[e] (a gfuse_relation) and weight w[e]; ptr has n_nodes + 1 entries. Any of the
 * out-pointers may be NULL. The arrays belong to the graph. */
GFUSE_API void gfuse_graph_csr(const gfuse_graph *g, const int64_t **ptr, const int64_t **src,
                               const uint8_t **rel, const float **w);
/* The transpose by source: out-edges of node u are ptr[u] .. ptr[u+1]-1 with destination
 * dst[t]; eid[t] is the index of the same edge in the CSR arrays. */
GFUSE_API void gfuse_graph_csr_by_source(const gfuse_graph *g, const int64_t **ptr,
                                         const int64_t **dst, const int64_t **eid);
/* The row visiting order (a permutation of the node ids), or NULL for the natural order. */
GFUSE_API const int64_t *gfuse_graph_row_order(const gfuse_graph *g);

/* Diagnostics, computed with igraph. Node kinds: 0 observed modality nodes, 1 missing
 * modality nodes, 2 hubs. */
typedef struct {
    int64_t n_nodes;
    int64_t n_edges;
    int64_t edges_by_relation[GFUSE_N_RELATIONS];
    int64_t nodes_by_kind[3];
    int64_t in_degree_min[3]; /* per node kind (0 when the kind has no node) */
    int64_t in_degree_max[3];
    double in_degree_mean[3];
    int64_t n_components;      /* weakly connected components */
    int64_t largest_component; /* nodes in the largest one */
    int64_t n_isolated_missing;
    /* Missing nodes reachable from an observed modality node along directed edges within
     * h hops: reachable_within[h - 1] for h = 1 .. max_hops (cumulative). */
    int max_hops;
    int64_t *reachable_within;
    /* Missing nodes that no observed modality node reaches at all (a warning: nothing can
     * be learned for them). */
    int64_t missing_unreachable;
} gfuse_graph_stats;

/* Computes the diagnostics; max_hops >= 1. Free with gfuse_graph_stats_free. */
GFUSE_API gfuse_status gfuse_graph_stats_compute(const gfuse_graph *g, int max_hops,
                                                 gfuse_graph_stats *out);
GFUSE_API void gfuse_graph_stats_free(gfuse_graph_stats *s);

/* Writes the graph as GraphML: node ids "n<node id>" with attributes sample (id), modality
 * (name, "" for hubs), kind (observed, missing, hub) and observed (true for an observed
 * modality node); edge ids "e<edge index>" with attributes relation and weight.
 * c must be the cohort the graph was built from. Written to a temporary file and renamed. */
GFUSE_API gfuse_status gfuse_graph_write_graphml(const gfuse_graph *g, const gfuse_cohort *c,
                                                 const char *path);
/* Writes the edges as TSV with the header "src\tdst\trelation\tweight", naming a modality
 * node ID/MODALITY and a hub ID. Written to a temporary file and renamed. */
GFUSE_API gfuse_status gfuse_graph_write_edges(const gfuse_graph *g, const gfuse_cohort *c,
                                               const char *path);

/* ---- model ------------------------------------------------------------------------------------ */
/*
 * The model (README.md, "The model"): per-modality encoders with learned missing tokens, L graph
 * attention layers over the graph above, per-modality completion decoders and an attention
 * fusion head over each sample's modality nodes and hub.
 *
 *     gfuse_train_options to;
 *     gfuse_train_options_init(&to);                   // the defaults `gfuse train --help` shows
 *     to.seed = 7;
 *     gfuse_model *model = NULL;
 *     gfuse_train(&model, cohort, &to);                // the graph is built inside
 *     gfuse_model_save(model, "model.gfm");            // atomic, checksummed
 *
 *     gfuse_predictions pred;                          // every sample of a cohort: the
 *     gfuse_predict(model, cohort, &pred);             // training cohort or new samples
 *     ... pred.output[i * pred.n_outputs + k] ...
 *     gfuse_predictions_free(&pred);
 *     gfuse_model_free(&model);
 *
 * Training is transductive: every sample of the cohort is a node of the graph, labelled or not,
 * but only the labels of training samples enter the loss (split "train", or every labelled
 * sample when the cohort has no split file; "val" samples, or a stratified share carved from
 * the training samples, pick the stopping epoch; "test" labels are never read). The model
 * stores the training samples as reference samples, so gfuse_predict on new samples attaches
 * them to the references by the same kNN rules (references send knn edges, new samples only
 * receive) and a prediction on the training cohort itself reproduces the training graph.
 * Results depend only on the data, the options and the seed, never on the thread count.
 */
typedef struct gfuse_model gfuse_model;

typedef enum {
    GFUSE_CLASS_WEIGHTS_NONE = 0,     /* every sample counts the same (default) */
    GFUSE_CLASS_WEIGHTS_BALANCED = 1, /* w_k = n / (K * n_k) over the training samples */
    GFUSE_CLASS_WEIGHTS_GIVEN = 2     /* class_weights[0 .. n_class_weights-1], in class order */
} gfuse_class_weight_mode;

/* What one epoch of training reported (for progress and logs). */
typedef struct {
    int member;         /* ensemble member, 0-based */
    int n_members;
    int epoch;          /* 1-based */
    int max_epochs;
    double train_loss;  /* task + lambda_rec * reconstruction, on the training samples */
    double task_loss;   /* cross-entropy or MSE */
    double rec_loss;    /* reconstruction MSE of the hidden modalities (standardised units) */
    double val_loss;    /* task loss on the validation samples, without dropout; NaN if none */
    double val_metric;  /* validation accuracy (classify) or RMSE (regress); NaN if none */
    int best_epoch;     /* the epoch whose weights are kept so far */
    double seconds;     /* since the start of this member's training */
} gfuse_epoch_report;

/* Called after every epoch; a nonzero return stops training (the best weights so far are
 * kept). */
typedef int (*gfuse_epoch_callback)(const gfuse_epoch_report *report, void *user);

/* The training options. Each field's default, range, command-line flag and model-file key come
 * from one table in the library (src/model/options.c): gfuse_train_options_init fills the
 * defaults, `gfuse train --help` lists every flag with its default, gfuse_train rejects a value
 * out of range with GFUSE_ERR_ARG naming the option and the value, and a model file stores
 * every option under the field's name. */
typedef struct {
    gfuse_task task;          /* AUTO: the cohort's task (classify unless its labels are numbers) */
    int layers;               /* graph attention layers */
    int heads;                /* attention heads */
    int hidden;               /* node state width F, a multiple of heads */
    int k;                    /* knn neighbours per node */
    int epochs;               /* most epochs per member */
    double lr;                /* AdamW learning rate */
    double weight_decay;      /* AdamW decoupled weight decay (weights, not biases) */
    double dropout;           /* feature dropout on node states and head */
    double input_dropout;     /* dropout on the input features */
    double attn_dropout;      /* attention dropout on edges */
    double modality_dropout;  /* share of observed modalities hidden per draw */
    int graph_variants;       /* modality-dropout graphs drawn before training */
    double lambda_rec;        /* weight of the reconstruction loss */
    double lambda_node;       /* weight of the per-node loss: the head applied to each observed
                                 modality node of a training sample on its own */
    double node_vote;         /* the prediction mixes the fused head (1 - node_vote) with the
                                 mean of the per-node head over the sample's observed modality
                                 nodes (node_vote) */
    double linear_mix;        /* the prediction mixes in (weight linear_mix) the mean over the
                                 sample's observed modalities of a linear classifier (or
                                 regressor) of each modality's standardised features, trained
                                 with its own loss; 0 = no linear path */
    double mix_step;          /* > 0: after training, linear_mix is chosen among 0,
                                 mix_step, 2 mix_step, ..., 1 by the task loss on the members'
                                 validation samples: the largest whose loss exceeds the least
                                 by at most one standard error of the paired difference (the
                                 linear path is trained then even when linear_mix is 0, and
                                 linear_mix is the weight validated while training); the
                                 model keeps the chosen weight */
    double linear_l2;         /* L2 penalty (linear_l2 / 2 * sum of squares) on the weights
                                 of the linear path */
    double decoder_ridge;     /* after training, refit the completion decoders by ridge
                                 regression on the modality-dropout graphs with this relative
                                 penalty (times each input column's centred sum of
                                 squares); 0 keeps the trained decoders */
    int patience;             /* epochs without a better validation loss */
    double ema;               /* validate and keep an exponential moving average of the
                                 weights with this decay per epoch (0 = the weights as
                                 trained) */
    gfuse_class_weight_mode class_weight_mode;
    const double *class_weights; /* GIVEN: one positive weight per class */
    int n_class_weights;
    double val_fraction;      /* share carved for validation when the split has no "val",
                                 stratified */
    int ensemble;             /* members trained on different validation folds, averaged at
                                 prediction */
    uint64_t seed;            /* every random choice */
    /* Checkpoints (settings of the run, never stored in the model): the full training state
     * (weights, AdamW moments, moving averages, random state, early stopping, finished
     * members, epoch reports) is saved to the file checkpoint every checkpoint_every epochs,
     * when a member ends, and when gfuse_interrupt stops the training (which then returns
     * GFUSE_ERR_INTERRUPTED). resume: continue from the file; a checkpoint of other data or
     * other options is refused with GFUSE_ERR_ARG naming what differs. The model trained is
     * the same bytes as that of a training never interrupted. */
    const char *checkpoint;   /* NULL: none */
    int checkpoint_every;     /* epochs between checkpoints */
    int resume;               /* 1: continue from checkpoint */
    gfuse_epoch_callback on_epoch; /* NULL: silent */
    void *user;               /* passed to on_epoch */
} gfuse_train_options;

/* Fills opts with the defaults, those `gfuse train --help` shows (no callback). */
GFUSE_API void gfuse_train_options_init(gfuse_train_options *opts);

/* Trains a model on cohort c. Builds the graph (k neighbours), standardises the features with
 * the statistics of the cohort's samples, trains each ensemble member with AdamW, modality
 * dropout and early stopping, and keeps each member's best-validation weights. Cost per epoch
 * O(E * F + N * F * (sum of features + F)) with E graph edges. Errors: GFUSE_ERR_ARG (an
 * option out of range, named with its value), GFUSE_ERR_DATA (no labelled training sample,
 * a single class, class weights that do not match the classes), GFUSE_ERR_NOMEM. *out stays
 * NULL on failure. */
GFUSE_API gfuse_status gfuse_train(gfuse_model **out, const gfuse_cohort *c,
                                   const gfuse_train_options *opts);

/* Writes the model to path (a temporary file renamed into place): hyperparameters, modality,
 * feature and class names, standardisation statistics, the reference samples and the weights,
 * closed by a CRC-32C checksum. */
GFUSE_API gfuse_status gfuse_model_save(const gfuse_model *m, const char *path);
/* Reads a model file. A truncated, corrupted or newer-version file, or one whose sections do
 * not fit together, is GFUSE_ERR_MODEL naming the file; *out stays NULL on failure. */
GFUSE_API gfuse_status gfuse_model_load(gfuse_model **out, const char *path);
/* Frees a model, sets *m to NULL; accepts NULL. */
GFUSE_API void gfuse_model_free(gfuse_model **m);

GFUSE_API gfuse_task gfuse_model_task(const gfuse_model *m);
GFUSE_API int gfuse_model_n_classes(const gfuse_model *m);   /* 0 for regression */
GFUSE_API const char *gfuse_model_class_name(const gfuse_model *m, int k);
GFUSE_API int gfuse_model_n_modalities(const gfuse_model *m);
GFUSE_API const char *gfuse_model_modality_name(const gfuse_model *m, int j);
GFUSE_API int64_t gfuse_model_n_features(const gfuse_model *m, int j);
GFUSE_API const char *gfuse_model_feature_name(const gfuse_model *m, int j, int64_t f);
GFUSE_API int64_t gfuse_model_n_reference_samples(const gfuse_model *m);
GFUSE_API int64_t gfuse_model_n_parameters(const gfuse_model *m); /* all members */
GFUSE_API int gfuse_model_n_members(const gfuse_model *m);
/* The epoch whose weights member j kept (1-based). */
GFUSE_API int gfuse_model_best_epoch(const gfuse_model *m, int j);
/* The hyperparameters the model was trained with (seed and callback included; class_weights
 * points into the model). */
GFUSE_API void gfuse_model_options(const gfuse_model *m, gfuse_train_options *opts);

/* Predictions for every sample of a cohort, in the cohort's order. */
typedef struct {
    int64_t n;          /* samples */
    int n_outputs;      /* classes (classify) or 1 (regress) */
    int n_slots;        /* fusion weights per sample: the model's modalities, then the hub */
    float *output;      /* n x n_outputs: class probabilities (each row sums to 1) or values */
    int32_t *predicted; /* n: the most probable class (first on ties); -1 for regression */
    float *fusion;      /* n x n_slots: fusion attention weights, each row sums to 1 */
    uint8_t *new_sample;/* n: 1 when the sample was not a reference sample (inductive) */
} gfuse_predictions;

/* Predicts every sample of c. The cohort's modalities are matched to the model's by name and
 * their features by name (a modality the cohort lacks is missing for all of its samples);
 * samples are matched to the reference samples by id: a reference found in c takes its values
 * from c, a sample of c that is no reference is a new node that receives knn edges from the
 * references only. Errors: GFUSE_ERR_DATA (a modality or feature the model does not know, a
 * missing feature), GFUSE_ERR_NOMEM. Free the result with gfuse_predictions_free. */
GFUSE_API gfuse_status gfuse_predict(const gfuse_model *m, const gfuse_cohort *c,
                                     gfuse_predictions *out);
GFUSE_API void gfuse_predictions_free(gfuse_predictions *p);

/* A cohort completed by the decoders, in the cohort's sample order and the model's modality
 * and feature order. */
typedef struct {
    int64_t n;          /* samples */
    int n_modalities;
    int64_t *n_features;/* per modality */
    float **values;     /* per modality: n x n_features values in the units of the input;
                           observed rows copied unchanged (missing cells stay NaN), missing
                           modalities filled by the decoders */
    uint8_t *filled;    /* n x n_modalities: 1 where the modality was filled */
} gfuse_imputation;

/* Completes the missing modalities of every sample of c (matched as gfuse_predict does). */
GFUSE_API gfuse_status gfuse_impute(const gfuse_model *m, const gfuse_cohort *c,
                                    gfuse_imputation *out);
GFUSE_API void gfuse_imputation_free(gfuse_imputation *p);

/* ---- model files ---- */
/* Inspection of a model file without building the model (what `gfuse info` shows): the
 * container's format version, the gfuse version that wrote it, its size and CRC-32C checksum,
 * and its named, typed sections. Opening validates the whole file: a truncated, corrupted,
 * foreign-endian or newer-version file is GFUSE_ERR_MODEL with a message saying which;
 * a file that cannot be read is GFUSE_ERR_IO. Conventional sections: "hparams" (strings
 * "key=value"), "modality_names", "feature_names/<modality>", "class_names",
 * "reference/ids" (stored reference samples), "param/..." (trainable parameters, float32). */
typedef struct gfuse_modelfile gfuse_modelfile;

GFUSE_API gfuse_status gfuse_modelfile_open(gfuse_modelfile **out, const char *path);
GFUSE_API void gfuse_modelfile_free(gfuse_modelfile **mf);
GFUSE_API uint32_t gfuse_modelfile_format_version(const gfuse_modelfile *mf);
/* The version of gfuse that wrote the file, e.g. "0.1.0". */
GFUSE_API const char *gfuse_modelfile_writer_version(const gfuse_modelfile *mf);
GFUSE_API int64_t gfuse_modelfile_size(const gfuse_modelfile *mf);   /* bytes */
GFUSE_API uint32_t gfuse_modelfile_checksum(const gfuse_modelfile *mf);
GFUSE_API int64_t gfuse_modelfile_n_sections(const gfuse_modelfile *mf);
/* The index of the section called name, or -1. */
GFUSE_API int64_t gfuse_modelfile_find_section(const gfuse_modelfile *mf, const char *name);
/* Section k in file order: its name, type ("i32", "i64", "f32", "f64", "strings", "bytes"),
 * element count (strings for a string list) and payload size in bytes. NULL / -1 when k is
 * out of range. */
GFUSE_API const char *gfuse_modelfile_section_name(const gfuse_modelfile *mf, int64_t k);
GFUSE_API const char *gfuse_modelfile_section_type(const gfuse_modelfile *mf, int64_t k);
GFUSE_API int64_t gfuse_modelfile_section_count(const gfuse_modelfile *mf, int64_t k);
GFUSE_API int64_t gfuse_modelfile_section_bytes(const gfuse_modelfile *mf, int64_t k);
/* String j of string-list section k, or NULL. */
GFUSE_API const char *gfuse_modelfile_section_string(const gfuse_modelfile *mf, int64_t k,
                                                     int64_t j);
/* The value of a hyperparameter from the "hparams" section, or NULL. */
GFUSE_API const char *gfuse_modelfile_hparam(const gfuse_modelfile *mf, const char *key);
/* The number of trainable parameters: the float32 elements of the "param/" sections. */
GFUSE_API int64_t gfuse_modelfile_n_parameters(const gfuse_modelfile *mf);

/* ---- benchmark ------------------------------------------------------------------------------ */
/*
 * Times training on this machine (what `gfuse bench` prints): a synthetic cohort of
 * gfuse_synth_write's kind is made in memory, then either
 *   - the gfuse model: gfuse_train itself, one member, no early stop, warmup + epochs epochs,
 *     timed phase by phase; or
 *   - like_peer: the plain GAT model of the PyTorch Geometric peer (bench/README.md), built from
 *     gfuse's kernels: per-modality linear encoders d -> 64 and one learned 64-vector shared by
 *     the sample nodes, GAT(64 -> hidden, heads) with self loops, ELU, GAT(hidden -> classes, 1
 *     head), cross-entropy over the sample nodes, Adam, no dropout, on the peer's graph: V = N +
 *     N * M nodes (sample i = node i, modality m of i = N + m * N + i), a member edge each way
 *     between every sample and its modality nodes and the union of the exact Euclidean kNN of
 *     every modality, symmetrised; or the edge list the peer exported (peer_graph).
 * Epoch statistics are over the epochs after the warm-up. Afterwards the GAT kernels run alone
 * on the same graph at width hidden (kernel_reps times) for the forward kernel's memory
 * bandwidth; for the gfuse model the graph is built once more for this, outside the timings.
 */
typedef struct {
    int64_t n_samples;    /* default 1000 */
    int n_modalities;     /* default 3 */
    int64_t n_features;   /* per modality, default 200 */
    int n_classes;        /* default 2 */
    double missing_rate;  /* share of incomplete samples (gfuse model only), default 0 */
    int epochs;           /* timed epochs, default 10 */
    int warmup;           /* epochs run first and left out of the statistics, default 2 */
    int kernel_reps;      /* runs of the kernel alone (0 = none), default 5 */
    int like_peer;        /* 0: the gfuse model (default); 1: the peer's plain GAT */
    const char *peer_graph; /* like_peer: stem of the peer's export (STEM.edges.i32,
                               STEM.labels.i32); NULL builds the same recipe here */
    /* Model options of the gfuse model (gfuse_train_options_init's defaults). like_peer reads
     * heads, hidden, k, lr and seed from it; ensemble, epochs and patience are set by the
     * benchmark. */
    gfuse_train_options train;
} gfuse_bench_options;

/* Fills opts with the defaults above. */
GFUSE_API void gfuse_bench_options_init(gfuse_bench_options *opts);

typedef struct {
    int like_peer;
    int64_t nodes, edges;  /* of the training graph; like_peer: edges with the self loops */
    int threads;
    int64_t parameters;
    int epochs, warmup;
    double synth_s;        /* making the cohort (or reading the peer's labels) */
    double graph_build_s;  /* the graph (like_peer: kNN and CSR, or reading the export) */
    double setup_s;        /* everything before the first epoch, the graph included */
    double epoch_median_s, epoch_min_s, epoch_max_s;
    /* per-epoch medians of the phases: forward with the loss, backward, optimizer step, and
     * (gfuse model) the validation pass that keeps the best weights */
    double forward_s, backward_s, optimizer_s, eval_s;
    double refit_s;        /* gfuse model: the decoder refit after the last epoch */
    double loss_first, loss_last; /* like_peer: training loss of the first and last epoch */
    /* A 64-bit digest of the trained parameters' bytes: equal digests for runs with other
     * thread counts show bitwise identical training. */
    uint64_t params_digest;
    double peak_rss_mb;    /* the process's peak resident memory so far */
    /* The GAT forward kernel alone on the graph at width hidden (heads x hidden / heads):
     * median seconds per call, the bytes a forward call must move at least (the CSR, the node
     * states read by the score pass and by the aggregation, the per-node scores written and read,
     * the attention and the output written) and those bytes over the median forward time. */
    double kernel_forward_s, kernel_backward_s;
    double kernel_bytes, kernel_gbs;
    double *epoch_s;       /* epochs + warmup durations, in order (owned) */
} gfuse_bench_result;

/* Runs the benchmark. Errors: GFUSE_ERR_ARG (an option out of range), GFUSE_ERR_IO /
 * GFUSE_ERR_DATA (a peer export that cannot be read or does not fit N and M), those of
 * gfuse_train. Free the result with gfuse_bench_result_free. */
GFUSE_API gfuse_status gfuse_bench_run(const gfuse_bench_options *opts, gfuse_bench_result *out);
GFUSE_API void gfuse_bench_result_free(gfuse_bench_result *r);

/* ---- evaluation: metrics, protocol masks, baselines, cross-validation ----------------------- */
/*
 * Classification metrics of probabilities prob (n x n_classes, row-major, rows summing to 1)
 * against labels in [0, n_classes); samples whose label is negative are skipped. Each agrees
 * with scikit-learn's function of the same name on the same predictions (to 1e-6): the
 * predicted class is the first arg max; f1 is binary F1 of class 1 for two classes and macro
 * F1 otherwise; auroc is roc_auc_score (ties share rank; one-vs-rest macro average for more
 * than two classes); auprc is average_precision_score (macro one-vs-rest for more than two);
 * brier is mean (p_1 - y)^2 for two classes and the mean over samples of
 * sum_k (p_k - [y = k])^2 otherwise; log_loss clips probabilities to [eps, 1 - eps] (eps the
 * double machine epsilon) and renormalises each row, as scikit-learn 1.2 does. A
 * metric that is undefined on the data (auroc of a class with no positive or no negative
 * sample) is NaN.
 */
typedef struct {
    int64_t n;               /* labelled samples scored */
    int n_classes;
    double accuracy, balanced_accuracy;
    double f1, f1_macro, f1_weighted;
    double auroc, auprc;
    double brier, log_loss;
    int64_t *confusion;      /* n_classes x n_classes: row = true class, column = predicted */
} gfuse_class_metrics;

GFUSE_API gfuse_status gfuse_class_metrics_compute(const int32_t *label, const double *prob,
                                                   int64_t n, int n_classes,
                                                   gfuse_class_metrics *out);
GFUSE_API void gfuse_class_metrics_free(gfuse_class_metrics *m);

/* Regression metrics of predicted values against targets; NaN targets are skipped. r2 is
 * scikit-learn's r2_score: 1 - SSE / SST; for constant targets 1 for a perfect fit and 0
 * otherwise; NaN for fewer than two samples. A NaN probability makes auroc and auprc NaN. */
typedef struct {
    int64_t n;
    double rmse, mae, r2;
} gfuse_regress_metrics;

GFUSE_API gfuse_status gfuse_regress_metrics_compute(const double *target, const double *value,
                                                     int64_t n, gfuse_regress_metrics *out);

/* A mask of the shared missing-modality protocol (`gfuse mask`): of the n x M (sample,
 * modality) cells of c, exactly round(rate * n * M) are hidden (halves rounded to even, as
 * Python's round in the protocol's script does: 526 of 1053 at rate 0.5). Cells are visited
 * once in a random order (a Fisher-Yates permutation drawn from seed and the rate in whole
 * percent) and hidden unless that would leave the sample with no modality. Cells the cohort
 * lacks already (as gfuse_cohort_has_modality sees it, so a mask applied on loading counts)
 * count as hidden and stay hidden. The most that can be hidden leaves every sample one
 * modality, rate (M - 1) / M; a rate equal to it in whole percent (0.67 for M = 3) gives that
 * mask. keep (n x M, row-major, samples and modalities in cohort order) receives 1 = keep,
 * 0 = hide. The result depends only on c, rate and seed (not on the thread count); the
 * generator is gfuse's own, so masks follow the rules of the numpy-made files of
 * ../shared/data/rosmap but not their cells. Errors: GFUSE_ERR_ARG (rate outside [0, 1), NULL
 * arguments), GFUSE_ERR_DATA (the cohort lacks more cells than the rate hides, or the rate is
 * above what keeping one modality per sample allows), GFUSE_ERR_NOMEM. */
GFUSE_API gfuse_status gfuse_mask_protocol(const gfuse_cohort *c, double rate, uint64_t seed,
                                           uint8_t *keep);

/* The classical references of `gfuse cv --baselines`. */
typedef enum {
    GFUSE_BASELINE_MEAN = 0, /* train-mean imputation of the concatenated modalities,
                                standardisation, L2 logistic regression */
    GFUSE_BASELINE_LATE = 1  /* late fusion: one L2 logistic regression per modality on the
                                training samples that have it (standardised on them), the
                                probabilities averaged over the modalities a sample has */
} gfuse_baseline;

/* Fits baseline method on the labelled samples among train[0 .. n_train) of classification
 * cohort c (as gfuse_cohort_has_modality and gfuse_cohort_values see it, so a mask applies;
 * unlabelled ones are left out) and writes the class probabilities of the samples
 * test[0 .. n_test) into prob (n_test x n_classes, row-major, in the order of test), as
 * scikit-learn computes them in the recipes of bench/baselines.py (../shared).
 * C is the inverse L2 strength as in scikit-learn's LogisticRegression (the loss summed over
 * samples times C plus half the squared weights; intercepts are not penalised): binary logistic
 * regression for two classes, multinomial otherwise, solved to a tight optimum (gradient
 * max-norm 1e-10 of its value at zero; 1e-8 beyond 3072 unknowns, which L-BFGS solves). Train-mean imputation treats a missing modality and a NaN cell alike; a
 * feature without a training value is dropped. Standardisation is over the training rows
 * (population sd; a constant column is left unscaled). Late fusion imputes the NaN cells of a
 * present modality with its training means, and gives a test sample that has none of the
 * modalities a model was fitted for the class shares of the training samples. A class no
 * training sample has gets probability 0 (with one class left, that class gets 1). Results do
 * not depend on the thread count. Errors: GFUSE_ERR_ARG (C not positive, an unknown method,
 * a sample index outside the cohort, no labelled training sample), GFUSE_ERR_DATA (not a
 * classification cohort), GFUSE_ERR_NOMEM. */
GFUSE_API gfuse_status gfuse_baseline_predict(const gfuse_cohort *c, gfuse_baseline method,
                                              double C, const int64_t *train, int64_t n_train,
                                              const int64_t *test, int64_t n_test, double *prob);
/* "mean", "late"; NULL for an unknown method. */
GFUSE_API const char *gfuse_baseline_name(gfuse_baseline method);

/* Cross-validation (what `gfuse cv` runs). For every missing rate and every repeat r, a
 * protocol mask (gfuse_mask_protocol, seed + r) is laid over the cohort for rates above 0;
 * then the labelled samples are dealt into folds, stratified by class (seeded by seed + r;
 * plain shuffled folds for regression) and, fold by fold, gfuse is trained with the train
 * options (their seed plus r) on the other folds' labelled samples (split train; training
 * carves its validation share from them) with every sample of the cohort a node of the graph,
 * and the fold's samples are predicted; the baselines, when asked for, are fitted on the same
 * training samples and score the same fold. With use_split, the cohort's split is used as it is
 * instead: its labelled test samples are the one fold, train and val train. Every test fold's
 * predictions and metrics are kept, and for each (rate, method, repeat) the metrics of the
 * folds' predictions pooled. The same seed gives the same results for any thread count. */
typedef struct {
    int folds;            /* default 5 (ignored with use_split) */
    int repeats;          /* default 1 */
    int use_split;        /* 1: the cohort's split: test samples are the one fold */
    const double *rates;  /* missing rates in [0, 1); NULL: the cohort as it is (rate 0) */
    int n_rates;
    int model;            /* 1 (default): train and score gfuse */
    int baselines;        /* 1: also score GFUSE_BASELINE_MEAN and GFUSE_BASELINE_LATE */
    double baseline_c;    /* their inverse L2 strength, default 0.1 */
    uint64_t seed;        /* folds and masks; default 1 */
    gfuse_train_options train; /* of every gfuse training (gfuse_train_options_init) */
    /* Called before every training or baseline fit (method as in gfuse_cv_fold, done of total
     * fits so far); a nonzero return stops the run with GFUSE_ERR_INTERRUPTED. */
    int (*on_fit)(double rate, int method, int repeat, int fold, int64_t done, int64_t total,
                  void *user);
    void *user;
} gfuse_cv_options;

GFUSE_API void gfuse_cv_options_init(gfuse_cv_options *opts);

/* One scored set of predictions: a test fold, or (fold = -1) a repeat's folds pooled. */
typedef struct {
    double rate;
    int method;           /* 0: gfuse; 1 + gfuse_baseline for a baseline */
    int repeat;
    int fold;             /* 0-based; -1: the pooled folds of the repeat */
    int64_t n;            /* samples */
    int64_t *sample;      /* n cohort sample indices */
    double *output;       /* n x n_outputs: class probabilities, or predicted values */
    gfuse_class_metrics class_metrics;     /* classification */
    gfuse_regress_metrics regress_metrics; /* regression */
    double seconds;       /* training and prediction (0 for pooled entries) */
} gfuse_cv_fold;

typedef struct {
    gfuse_task task;
    int n_outputs;        /* classes, or 1 */
    int n_folds;          /* folds per repeat (1 with use_split) */
    int64_t n;            /* entries: per (rate, method, repeat), the folds then the pool */
    gfuse_cv_fold *entry;
} gfuse_cv_result;

/* The method names of gfuse_cv_fold.method: "gfuse", "mean", "late". */
GFUSE_API const char *gfuse_cv_method_name(int method);

/* Runs the cross-validation on c. c is changed while it runs (the split of each fold, the
 * masks of the rates) and given back as it was on return. Errors: GFUSE_ERR_ARG (an option out
 * of range, more folds than labelled samples of a class, baselines on a regression cohort),
 * GFUSE_ERR_DATA (no labelled sample; use_split without labelled test samples), those of
 * gfuse_train, gfuse_mask_protocol and gfuse_baseline_predict. Free with gfuse_cv_result_free. */
GFUSE_API gfuse_status gfuse_cv_run(gfuse_cohort *c, const gfuse_cv_options *opts,
                                    gfuse_cv_result *out);
GFUSE_API void gfuse_cv_result_free(gfuse_cv_result *r);

#ifdef __cplusplus
}
#endif

#endif /* GFUSE_H */
