/*
 * fuzz.h: what the gfuse fuzz harnesses (tests/fuzz/fuzz_*.c) share.
 *
 * gfuse's readers take file names, so each input is written to a file of a private temporary
 * folder (one per process, removed at exit) and read back from there. fuzz_expect checks the
 * one promise every reader makes about bad input: a failure comes with a message. A violated
 * promise aborts, which libFuzzer reports like a crash.
 */
#ifndef GFUSE_FUZZ_H
#define GFUSE_FUZZ_H

#include "gfuse.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { FUZZ_MAX_FILES = 8 };

static char fuzz_dir[4096];
static char fuzz_files[FUZZ_MAX_FILES][4200];
static int fuzz_n_files;

static inline void fuzz_cleanup(void)
{
    for (int k = 0; k < fuzz_n_files; k++) unlink(fuzz_files[k]);
    if (fuzz_dir[0]) rmdir(fuzz_dir);
}

/* Creates the temporary folder and starts the library; called once per process. */
static inline void fuzz_setup(void)
{
    if (fuzz_dir[0]) return;
    const char *tmp = getenv("TMPDIR");
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/gfuse-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fuzz_dir)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(fuzz_cleanup);
    if (gfuse_init() != GFUSE_OK) abort();
    gfuse_set_threads(1);
}

#ifndef FUZZ_REPLAY_MAIN
/* Every harness starts alike: the temporary folder and the library. (replay.c, which calls
 * it, defines FUZZ_REPLAY_MAIN.) */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_setup();
    return 0;
}
#endif

/* The path of file name in the temporary folder, without writing it. */
static inline const char *fuzz_path(const char *name)
{
    fuzz_setup();
    for (int k = 0; k < fuzz_n_files; k++) {
        const char *base = strrchr(fuzz_files[k], '/') + 1;
        if (strcmp(base, name) == 0) return fuzz_files[k];
    }
    if (fuzz_n_files == FUZZ_MAX_FILES) abort();
    snprintf(fuzz_files[fuzz_n_files], sizeof fuzz_files[0], "%s/%s", fuzz_dir, name);
    return fuzz_files[fuzz_n_files++];
}

/* Writes data[0..size) to file name of the temporary folder and returns its path. */
static inline const char *fuzz_write(const char *name, const uint8_t *data, size_t size)
{
    const char *path = fuzz_path(name);
    FILE *f = fopen(path, "wb");
    if (!f || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
    return path;
}

/* A failure must say what went wrong. */
static inline void fuzz_expect(gfuse_status st)
{
    if (st == GFUSE_OK) return;
    const char *msg = gfuse_last_error();
    if (!msg || !*msg) {
        fprintf(stderr, "fuzz: status %d without an error message\n", (int)st);
        abort();
    }
    if (getenv("GFUSE_FUZZ_VERBOSE")) fprintf(stderr, "fuzz: %d: %s\n", (int)st, msg);
}

/* Reads every byte of a NUL-terminated string, so that the sanitizers see a bad one. */
static inline size_t fuzz_touch(const char *s)
{
    if (!s) {
        fprintf(stderr, "fuzz: NULL string\n");
        abort();
    }
    return strlen(s);
}

#endif
