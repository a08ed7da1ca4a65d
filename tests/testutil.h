/*
 * testutil.h: helpers the Check suites share: a temporary folder per test, small files written
 * into it, the shared data folder, and a main() body that runs a suite.
 */
#ifndef GFUSE_TESTUTIL_H
#define GFUSE_TESTUTIL_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "gfuse.h"
#include "suite.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The temporary folder of the running test (made by tu_tmp_setup, removed by tu_tmp_teardown). */
static char tu_tmp_root[512];
/* The paths tu_path has handed out during the running test. */
static struct {
    char name[256];
    char path[1024];
} tu_paths[256];
static int tu_n_paths;

static inline void tu_remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        remove(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        size_t n = strlen(path) + strlen(e->d_name) + 2;
        char *sub = malloc(n);
        if (!sub) break;
        snprintf(sub, n, "%s/%s", path, e->d_name);
        tu_remove_tree(sub);
        free(sub);
    }
    closedir(d);
    rmdir(path);
}

/* Check fixtures: a fresh folder under $TMPDIR (or /tmp) and a library session around a test. */
static inline void tu_tmp_setup(void)
{
    ck_assert_int_eq(gfuse_init(), GFUSE_OK);
    const char *base = getenv("TMPDIR");
    snprintf(tu_tmp_root, sizeof tu_tmp_root, "%s/gfuse_test_XXXXXX",
             base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tu_tmp_root));
    tu_n_paths = 0;
}

static inline void tu_tmp_teardown(void)
{
    tu_remove_tree(tu_tmp_root);
    tu_tmp_root[0] = '\0';
    tu_n_paths = 0;
    gfuse_finalize();
}

/* The number of entries of folder dir besides "." and ".." (a test's check that no temporary
 * file was left). */
static inline int tu_n_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(d);
    return n;
}

/* tu_tmp_root/name. The same name always gives the same pointer during a test, so paths can
 * be kept in option structs while more files are written. */

static inline const char *tu_path(const char *name)
{
    for (int k = 0; k < tu_n_paths; k++)
        if (strcmp(tu_paths[k].name, name) == 0) return tu_paths[k].path;
    ck_assert_msg(tu_n_paths < 256 && strlen(name) < sizeof tu_paths[0].name,
                  "too many or too long temporary names");
    int k = tu_n_paths++;
    snprintf(tu_paths[k].name, sizeof tu_paths[k].name, "%s", name);
    snprintf(tu_paths[k].path, sizeof tu_paths[k].path, "%s/%s", tu_tmp_root, name);
    return tu_paths[k].path;
}

/* Writes len bytes of text to tu_tmp_root/name (creating a sub-folder "dir/" if named) and
 * returns the path. */
static inline const char *tu_write_bytes(const char *name, const char *text, size_t len)
{
    const char *path = tu_path(name);
    const char *slash = strrchr(name, '/');
    if (slash) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%.*s", tu_tmp_root, (int)(slash - name), name);
        mkdir(dir, 0700);
    }
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

static inline const char *tu_write(const char *name, const char *text)
{
    return tu_write_bytes(name, text, strlen(text));
}

/* The folder ../shared/data/<name> when GFUSE_SHARED is set and it exists, else NULL after
 * saying on stderr why the test is skipped. */
static inline const char *tu_shared_data(const char *name)
{
    static char buf[1024];
    const char *shared = getenv("GFUSE_SHARED");
    struct stat sb;
    if (!shared || !*shared) {
        fprintf(stderr, "skipped: GFUSE_SHARED is not set (no shared data for %s)\n", name);
        return NULL;
    }
    snprintf(buf, sizeof buf, "%s/data/%s", shared, name);
    if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "skipped: %s does not exist\n", buf);
        return NULL;
    }
    return buf;
}

/* Runs a suite and returns the process exit status (0 when every test passed). */
static inline int tu_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
