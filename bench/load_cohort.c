/*
 * load_cohort.c: the driver of bench/load_memory.sh.
 *
 *   load_cohort gen FILE ROWS COLS SEED   writes a ROWS x COLS numeric CSV (id,f1..fCOLS)
 *   load_cohort load DIR                  loads the cohort folder DIR and prints one line:
 *                                         samples, features, load seconds (wall), peak RSS in
 *                                         bytes, CPU seconds (user + system) of the process
 */
#define _POSIX_C_SOURCE 200809L

#include "gfuse.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static int generate(const char *path, long long rows, long long cols, uint64_t seed)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    static char buf[1 << 16];
    setvbuf(f, buf, _IOFBF, sizeof buf);
    fputs("id", f);
    for (long long j = 1; j <= cols; j++) fprintf(f, ",f%lld", j);
    fputc('\n', f);
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
    char line[16];
    for (long long i = 1; i <= rows; i++) {
        fprintf(f, "S%lld", i);
        for (long long j = 0; j < cols; j++) {
            /* a value in [0, 1) with 6 decimals, e.g. ",0.123456" */
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            unsigned v = (unsigned)(s % 1000000u);
            memcpy(line, ",0.", 3);
            for (int k = 8; k >= 3; k--) {
                line[k] = (char)('0' + v % 10);
                v /= 10;
            }
            fwrite(line, 1, 9, f);
        }
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

static int load(const char *dir)
{
    if (gfuse_init() != GFUSE_OK) {
        fprintf(stderr, "%s\n", gfuse_last_error());
        return 1;
    }
    gfuse_cohort_options o;
    gfuse_cohort_options_init(&o);
    o.dir = dir;
    gfuse_cohort *c = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    gfuse_status st = gfuse_cohort_load(&c, &o);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (st != GFUSE_OK) {
        fprintf(stderr, "%s\n", gfuse_last_error());
        gfuse_finalize();
        return 3;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long long features = 0;
    for (int m = 0; m < gfuse_cohort_n_modalities(c); m++) features += gfuse_cohort_n_features(c, m);
    double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 1e-6 * (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    printf("%lld %lld %.3f %lld %.3f\n", (long long)gfuse_cohort_n_samples(c), features,
           (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec),
           (long long)ru.ru_maxrss * 1024, cpu);
    gfuse_cohort_free(&c);
    gfuse_finalize();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "gen") == 0)
        return generate(argv[2], atoll(argv[3]), atoll(argv[4]), strtoull(argv[5], NULL, 10));
    if (argc == 3 && strcmp(argv[1], "load") == 0) return load(argv[2]);
    fprintf(stderr, "usage: %s gen FILE ROWS COLS SEED | load DIR\n", argv[0]);
    return 2;
}
