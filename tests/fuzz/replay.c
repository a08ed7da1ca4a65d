/*
 * replay.c: runs a fuzz harness without libFuzzer, for `make check` with the normal build.
 * Feeds each file named on the command line (a folder: each file in it) to
 * LLVMFuzzerTestOneInput. Without arguments it replays the harness's seed corpus
 * tests/fuzz/corpus/NAME and its regression inputs tests/fuzz/regress/NAME (NAME is
 * FUZZ_NAME, set by the Makefile; the folders are found under $top_srcdir). A crash fails the
 * test; so does an input the harness rejects with abort().
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#define FUZZ_REPLAY_MAIN        /* the harness defines LLVMFuzzerInitialize */

#include "tests/fuzz/fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#ifndef FUZZ_NAME
#error "FUZZ_NAME must name the harness"
#endif

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, n = 0, got;
    uint8_t *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "%s: out of memory\n", path);
        return -1;
    }
    printf("%s\n", path);
    fflush(stdout);
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 1;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays path (a file, or each file of a folder, in name order); the number of inputs or -1. */
static int replay(const char *path, int must_exist)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (!must_exist) return 0;
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(sb.st_mode)) return replay_file(path);
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char **grown = realloc(names, (n + 1) * sizeof *names);
        if (!grown) break;
        names = grown;
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        if (!(names[n] = malloc(len))) break;
        snprintf(names[n++], len, "%s/%s", path, e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, compare_names);
    int count = 0;
    for (size_t k = 0; k < n; k++) {
        if (stat(names[k], &sb) == 0 && S_ISREG(sb.st_mode)) {
            int r = replay_file(names[k]);
            if (r < 0) count = -1;
            else if (count >= 0) count += r;
        }
        free(names[k]);
    }
    free(names);
    return count;
}

int main(int argc, char **argv)
{
    LLVMFuzzerInitialize(&argc, &argv);
    int total = 0, failed = 0;
    if (argc > 1) {
        for (int k = 1; k < argc; k++) {
            int r = replay(argv[k], 1);
            if (r < 0) failed = 1;
            else total += r;
        }
    } else {
        const char *top = getenv("top_srcdir");
        char path[4096];
        snprintf(path, sizeof path, "%s/tests/fuzz/corpus/%s", top && *top ? top : ".", FUZZ_NAME);
        int r = replay(path, 1);
        if (r <= 0) failed = 1; /* the seed corpus must be there */
        else total += r;
        snprintf(path, sizeof path, "%s/tests/fuzz/regress/%s", top && *top ? top : ".", FUZZ_NAME);
        r = replay(path, 0);
        if (r < 0) failed = 1;
        else total += r;
    }
    printf("%s: %d inputs replayed\n", FUZZ_NAME, total);
    return failed ? 99 : 0;
}
