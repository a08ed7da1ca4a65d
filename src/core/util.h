/* util.h: small shared helpers: allocation, string copies, an id hash map, atomic output
 * files. */
#ifndef GFUSE_UTIL_H
#define GFUSE_UTIL_H

#include "core/internal.h"

#include <stdio.h>

/* ---- allocation: every library allocation goes through these four (and gfuse_i_strdup),
 * all defined in util.c, so one function sees each request. NULL always means out of memory:
 * a zero count (or size) still returns a minimal block, and a count * size that overflows
 * size_t returns NULL. Blocks are released with free(). ---- */
/* count * size bytes, uninitialised. */
void *gfuse_i_alloc(size_t count, size_t size);
/* count * size bytes, zeroed. */
void *gfuse_i_zalloc(size_t count, size_t size);
/* Resizes p (NULL: a new block) to count * size bytes; on failure p is left as it was. */
void *gfuse_i_realloc(void *p, size_t count, size_t size);

/* The allocation-failure hook, for the tests of the failure paths (tests/check_alloc.c):
 * n > 0 makes the n-th allocation from now fail (that one only, as if out of memory); n == 0
 * counts allocations and fails none; n < 0 turns the hook off (the default). Returns how many
 * allocations passed since the previous call (0 while it was off). */
long gfuse_i_alloc_fail_after(long n);

/* A 64-bit digest of bytes, continued over several buffers from h (start with
 * GFUSE_I_DIGEST_SEED): FNV-1a on 8-byte words with a mix. It tells data apart; it is no
 * cryptographic hash. */
#define GFUSE_I_DIGEST_SEED 1469598103934665603ULL
uint64_t gfuse_i_digest(uint64_t h, const void *buf, size_t n);

/* strdup that returns NULL on allocation failure (C11 has none). */
char *gfuse_i_strdup(const char *s);
/* malloc-ed printf. NULL on failure. */
char *gfuse_i_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* dir + "/" + name, malloc-ed. */
char *gfuse_i_path_join(const char *dir, const char *name);
/* Frees an array of n strings and the array. */
void gfuse_i_free_strings(char **s, int64_t n);

/* ---- id map: string -> int64 index, open addressing; keys are borrowed, not copied ---- */
gfuse_i_idmap *gfuse_i_idmap_new(int64_t capacity_hint);
void gfuse_i_idmap_free(gfuse_i_idmap *map);
/* Inserts key -> value. Returns 1 if inserted, 0 if the key was already there (*existing set
 * to its value when non-NULL), -1 on allocation failure. */
int gfuse_i_idmap_insert(gfuse_i_idmap *map, const char *key, int64_t value, int64_t *existing);
/* The value of key, or -1. */
int64_t gfuse_i_idmap_find(const gfuse_i_idmap *map, const char *key);

/* ---- output files (outfile.c): checked, written to a mkstemp temp beside the target,
 * fsync-ed and renamed over it; "-" is standard output ---- */
typedef struct {
    FILE *f;
    char *path;     /* as given, for messages */
    char *target;   /* the file replaced: symlinks followed, folder canonical */
    char *tmp_path; /* the temporary file, registered for gfuse_temp_cleanup */
    int to_stdout;
} gfuse_i_outfile;

/* Checks path (gfuse_output_check) and opens a temporary file beside it with fopen's mode
 * ("w", "wb", "w+b"; a mode with '+' cannot go to standard output). */
gfuse_status gfuse_i_outfile_open(gfuse_i_outfile *o, const char *path, const char *mode);
/* Flushes, fsyncs, checks for write errors, closes, renames into place, fsyncs the folder. */
gfuse_status gfuse_i_outfile_commit(gfuse_i_outfile *o);
/* Closes and removes the temporary file (for failure paths; safe after commit). */
void gfuse_i_outfile_abort(gfuse_i_outfile *o);

#endif
