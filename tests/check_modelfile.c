/* check_modelfile.c: the model-file container: round trips of every section type, streaming,
 * atomic writes, and clean errors for truncated, corrupted, foreign-endian, newer-version and
 * missing files (never a crash, whatever the bytes). */
#define _POSIX_C_SOURCE 200809L

#include "model/modelfile.h"
#include "testutil.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- fixture: a fresh temporary folder per test ---------------------------------------------- */

static char tmpdir[256];
static char model_path[320];

static void setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/gfuse-mfile-XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(model_path, sizeof model_path, "%s/model.gfm", tmpdir);
}

static void teardown(void)
{
    DIR *d = opendir(tmpdir);
    if (!d) return;
    struct dirent *e;
    char path[600];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
        remove(path);
    }
    closedir(d);
    rmdir(tmpdir);
}

static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void spit(const char *path, const unsigned char *buf, size_t size)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    if (size) ck_assert_uint_eq(fwrite(buf, 1, size, f), size);
    ck_assert_int_eq(fclose(f), 0);
}

/* Rewrites the trailing checksum so that a deliberate change passes the checksum test and
 * reaches the checks behind it. */
static void reseal(unsigned char *buf, size_t size)
{
    uint32_t crc = gfuse_i_crc32c(0, buf, size - 4);
    memcpy(buf + size - 4, &crc, 4);
}

/* ---- a small model file with every section type ----------------------------------------------- */

static const int32_t i32_data[] = {-7, 0, 2147483647};
static const int64_t i64_data[] = {INT64_MIN, -1, 0, 1, INT64_MAX};
static const float f32_data[] = {1.5f, -0.0f, 3.4e38f, 1e-45f, 0.1f};
static const double f64_data[] = {3.141592653589793, -2.5e-300, 1e300};
static const char *const strings_data[] = {"task=classify", "", "layers=2", "heads=4", "lr=0.001",
                                           "name with spaces=ok"};
static const unsigned char bytes_data[] = {0, 1, 2, 254, 255, 7, 9};

static void write_sample(const char *path)
{
    gfuse_i_mfile_writer w;
    ck_assert_int_eq(gfuse_i_mfile_writer_open(&w, path), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_put_i32(&w, "ints32", i32_data, 3), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_put_i64(&w, "ints64", i64_data, 5), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_put_f32(&w, "param/w", f32_data, 5), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_put_f64(&w, "doubles", f64_data, 3), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_put_strings(&w, "hparams", strings_data, 6), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_put_bytes(&w, "raw", bytes_data, 7), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_put_f32(&w, "param/empty", NULL, 0), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_put_strings(&w, "no strings", NULL, 0), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_writer_commit(&w), GFUSE_OK);
}

/* Writes the sample model to model_path and returns its bytes (free them), their count in size. */
static unsigned char *sample_bytes(size_t *size)
{
    write_sample(model_path);
    return slurp(model_path, size);
}

/* Writes size bytes of buf to path; reading it must fail with GFUSE_ERR_MODEL. */
static void expect_unreadable(const char *path, const unsigned char *buf, size_t size)
{
    spit(path, buf, size);
    gfuse_i_mfile *r = NULL;
    ck_assert_int_eq(gfuse_i_mfile_read(&r, path), GFUSE_ERR_MODEL);
}

/* expect_unreadable, and the message must hold part. */
static void expect_bad_file(const char *path, const unsigned char *buf, size_t size,
                            const char *part)
{
    expect_unreadable(path, buf, size);
    ck_assert_ptr_nonnull(strstr(gfuse_last_error(), part));
}

/* ---- core ------------------------------------------------------------------------------------ */

START_TEST(test_round_trip)
{
    write_sample(model_path);
    ck_assert_int_eq(tu_n_entries(tmpdir), 1); /* no temporary file left */
    gfuse_i_mfile *r = NULL;
    ck_assert_int_eq(gfuse_i_mfile_read(&r, model_path), GFUSE_OK);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->version, GFUSE_I_MFILE_VERSION);
    ck_assert_str_eq(r->writer_version, PACKAGE_VERSION);
    ck_assert_int_eq(r->n_sections, 8);
    const char *order[] = {"ints32", "ints64", "param/w", "doubles", "hparams", "raw",
                           "param/empty", "no strings"};
    for (int k = 0; k < 8; k++) {
        ck_assert_str_eq(r->sections[k].name, order[k]);
        ck_assert_uint_eq((uintptr_t)r->sections[k].data % 8, 0);
    }

    const int32_t *a32;
    const int64_t *a64;
    const float *f;
    const double *d;
    const char *const *s;
    const void *raw;
    int64_t n;
    ck_assert_int_eq(gfuse_i_mfile_get_i32(r, "ints32", &a32, &n), GFUSE_OK);
    ck_assert_int_eq(n, 3);
    ck_assert_mem_eq(a32, i32_data, sizeof i32_data);
    ck_assert_int_eq(gfuse_i_mfile_get_i64(r, "ints64", &a64, &n), GFUSE_OK);
    ck_assert_int_eq(n, 5);
    ck_assert_mem_eq(a64, i64_data, sizeof i64_data);
    ck_assert_int_eq(gfuse_i_mfile_get_f32(r, "param/w", &f, &n), GFUSE_OK);
    ck_assert_int_eq(n, 5);
    ck_assert_mem_eq(f, f32_data, sizeof f32_data); /* bit for bit, -0.0 and denormals too */
    ck_assert_int_eq(gfuse_i_mfile_get_f64(r, "doubles", &d, &n), GFUSE_OK);
    ck_assert_int_eq(n, 3);
    ck_assert_mem_eq(d, f64_data, sizeof f64_data);
    ck_assert_int_eq(gfuse_i_mfile_get_strings(r, "hparams", &s, &n), GFUSE_OK);
    ck_assert_int_eq(n, 6);
    for (int i = 0; i < 6; i++) ck_assert_str_eq(s[i], strings_data[i]);
    ck_assert_int_eq(gfuse_i_mfile_get_bytes(r, "raw", &raw, &n), GFUSE_OK);
    ck_assert_int_eq(n, 7);
    ck_assert_mem_eq(raw, bytes_data, sizeof bytes_data);
    ck_assert_int_eq(gfuse_i_mfile_get_f32(r, "param/empty", &f, &n), GFUSE_OK);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(gfuse_i_mfile_get_strings(r, "no strings", &s, &n), GFUSE_OK);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(gfuse_i_mfile_get_f32_n(r, "param/w", 5, &f), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_get_i64_n(r, "ints64", 5, &a64), GFUSE_OK);

    const char *v;
    int64_t iv;
    double dv;
    ck_assert_int_eq(gfuse_i_mfile_hparam(r, "task", &v), GFUSE_OK);
    ck_assert_str_eq(v, "classify");
    ck_assert_int_eq(gfuse_i_mfile_hparam(r, "name with spaces", &v), GFUSE_OK);
    ck_assert_str_eq(v, "ok");
    ck_assert_int_eq(gfuse_i_mfile_hparam_int(r, "heads", &iv), GFUSE_OK);
    ck_assert_int_eq(iv, 4);
    ck_assert_int_eq(gfuse_i_mfile_hparam_double(r, "lr", &dv), GFUSE_OK);
    ck_assert_double_eq(dv, 0.001);
    gfuse_i_mfile_free(&r);
    ck_assert_ptr_null(r);
    gfuse_i_mfile_free(&r); /* accepts NULL */
}
END_TEST

START_TEST(test_public_api)
{
    write_sample(model_path);
    gfuse_modelfile *mf = NULL;
    ck_assert_int_eq(gfuse_modelfile_open(&mf, model_path), GFUSE_OK);
    ck_assert_uint_eq(gfuse_modelfile_format_version(mf), GFUSE_I_MFILE_VERSION);
    ck_assert_str_eq(gfuse_modelfile_writer_version(mf), GFUSE_VERSION_STRING);
    size_t size;
    unsigned char *buf = slurp(model_path, &size);
    ck_assert_int_eq(gfuse_modelfile_size(mf), (int64_t)size);
    uint32_t crc;
    memcpy(&crc, buf + size - 4, 4);
    ck_assert_uint_eq(gfuse_modelfile_checksum(mf), crc);
    ck_assert_uint_eq(crc, gfuse_i_crc32c(0, buf, size - 4));
    free(buf);
    ck_assert_int_eq(gfuse_modelfile_n_sections(mf), 8);
    int64_t k = gfuse_modelfile_find_section(mf, "hparams");
    ck_assert_int_eq(k, 4);
    ck_assert_str_eq(gfuse_modelfile_section_name(mf, k), "hparams");
    ck_assert_str_eq(gfuse_modelfile_section_type(mf, k), "strings");
    ck_assert_int_eq(gfuse_modelfile_section_count(mf, k), 6);
    ck_assert_str_eq(gfuse_modelfile_section_string(mf, k, 2), "layers=2");
    ck_assert_ptr_null(gfuse_modelfile_section_string(mf, k, 6));
    ck_assert_ptr_null(gfuse_modelfile_section_string(mf, 0, 0)); /* not a string list */
    ck_assert_str_eq(gfuse_modelfile_section_type(mf, 0), "i32");
    ck_assert_int_eq(gfuse_modelfile_section_bytes(mf, 3), 24);
    ck_assert_ptr_null(gfuse_modelfile_section_name(mf, 8));
    ck_assert_int_eq(gfuse_modelfile_section_count(mf, -1), -1);
    ck_assert_int_eq(gfuse_modelfile_find_section(mf, "absent"), -1);
    ck_assert_str_eq(gfuse_modelfile_hparam(mf, "layers"), "2");
    ck_assert_ptr_null(gfuse_modelfile_hparam(mf, "layer"));
    ck_assert_int_eq(gfuse_modelfile_n_parameters(mf), 5); /* param/w + param/empty */
    gfuse_modelfile_free(&mf);
    ck_assert_ptr_null(mf);
    ck_assert_int_eq(gfuse_modelfile_open(NULL, model_path), GFUSE_ERR_ARG);
}
END_TEST

START_TEST(test_streaming)
{
    /* a 300000-float section written in uneven pieces, larger than the checksum's read chunk */
    int64_t n = 300000;
    float *big = malloc((size_t)n * sizeof *big);
    ck_assert_ptr_nonnull(big);
    for (int64_t i = 0; i < n; i++) big[i] = (float)i * 0.5f - 7.0f;
    gfuse_i_mfile_writer w;
    ck_assert_int_eq(gfuse_i_mfile_writer_open(&w, model_path), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_begin_section(&w, "param/all", GFUSE_I_MFILE_F32, n, 0),
                     GFUSE_OK);
    int64_t done = 0, piece = 1;
    while (done < n) {
        int64_t m = piece < n - done ? piece : n - done;
        ck_assert_int_eq(gfuse_i_mfile_write_data(&w, big + done, (size_t)m * sizeof *big),
                         GFUSE_OK);
        done += m;
        piece = piece * 3 + 1;
    }
    ck_assert_int_eq(gfuse_i_mfile_end_section(&w), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_begin_section(&w, "names", GFUSE_I_MFILE_STRINGS, 2, 6),
                     GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_write_data(&w, "ab\0", 3), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_write_data(&w, "cd\0", 3), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_end_section(&w), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_writer_commit(&w), GFUSE_OK);

    gfuse_i_mfile *r = NULL;
    ck_assert_int_eq(gfuse_i_mfile_read(&r, model_path), GFUSE_OK);
    const float *f;
    ck_assert_int_eq(gfuse_i_mfile_get_f32_n(r, "param/all", n, &f), GFUSE_OK);
    ck_assert_mem_eq(f, big, (size_t)n * sizeof *big);
    const char *const *s;
    int64_t ns;
    ck_assert_int_eq(gfuse_i_mfile_get_strings(r, "names", &s, &ns), GFUSE_OK);
    ck_assert_int_eq(ns, 2);
    ck_assert_str_eq(s[0], "ab");
    ck_assert_str_eq(s[1], "cd");
    gfuse_i_mfile_free(&r);
    free(big);
}
END_TEST

START_TEST(test_crc32c)
{
    /* the standard check value of CRC-32C */
    ck_assert_uint_eq(gfuse_i_crc32c(0, "123456789", 9), 0xe3069283u);
    ck_assert_uint_eq(gfuse_i_crc32c_reference(0, "123456789", 9), 0xe3069283u);
    ck_assert_uint_eq(gfuse_i_crc32c(0, "", 0), 0u);
    /* the fast path equals its reference twin at every length and alignment, and continuing
     * over two pieces equals one pass */
    unsigned char buf[600];
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < sizeof buf; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (unsigned char)x;
    }
    for (size_t off = 0; off < 9; off++)
        for (size_t len = 0; len + off <= sizeof buf; len += 1 + len / 8) {
            uint32_t ref = gfuse_i_crc32c_reference(0, buf + off, len);
            ck_assert_uint_eq(gfuse_i_crc32c(0, buf + off, len), ref);
            size_t half = len / 3;
            ck_assert_uint_eq(gfuse_i_crc32c(gfuse_i_crc32c(0, buf + off, half), buf + off + half,
                                             len - half),
                              ref);
        }
}
END_TEST

/* ---- writer errors and atomicity --------------------------------------------------------------- */

START_TEST(test_abort_leaves_nothing)
{
    gfuse_i_mfile_writer w;
    ck_assert_int_eq(gfuse_i_mfile_writer_open(&w, model_path), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_put_i64(&w, "x", i64_data, 5), GFUSE_OK);
    ck_assert_int_eq(tu_n_entries(tmpdir), 1); /* the temporary file */
    gfuse_i_mfile_writer_abort(&w);
    ck_assert_int_eq(tu_n_entries(tmpdir), 0);
    gfuse_i_mfile_writer_abort(&w); /* harmless twice */
}
END_TEST

START_TEST(test_failed_save_keeps_old_file)
{
    write_sample(model_path);
    size_t size_before;
    unsigned char *before = slurp(model_path, &size_before);
    /* a duplicate name fails the save: commit returns the first failure, keeps its message,
     * removes the temporary file and leaves the old model in place */
    gfuse_i_mfile_writer w;
    ck_assert_int_eq(gfuse_i_mfile_writer_open(&w, model_path), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_put_i64(&w, "x", i64_data, 5), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_put_i64(&w, "x", i64_data, 5), GFUSE_ERR_ARG);
    ck_assert_int_eq(gfuse_i_mfile_put_f32(&w, "y", f32_data, 5), GFUSE_ERR_ARG);
    ck_assert_int_eq(gfuse_i_mfile_writer_commit(&w), GFUSE_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(gfuse_last_error(), "section \"x\" written twice"));
    ck_assert_int_eq(tu_n_entries(tmpdir), 1);
    size_t size_after;
    unsigned char *after = slurp(model_path, &size_after);
    ck_assert_uint_eq(size_after, size_before);
    ck_assert_mem_eq(after, before, size_before);
    free(before);
    free(after);
}
END_TEST

START_TEST(test_stream_misuse)
{
    gfuse_i_mfile_writer w;
    /* more data than announced */
    ck_assert_int_eq(gfuse_i_mfile_writer_open(&w, model_path), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_begin_section(&w, "a", GFUSE_I_MFILE_F64, 1, 0), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_write_data(&w, f64_data, 16), GFUSE_ERR_ARG);
    ck_assert_int_eq(gfuse_i_mfile_writer_commit(&w), GFUSE_ERR_ARG);
    ck_assert_int_eq(tu_n_entries(tmpdir), 0);
    /* less data than announced */
    ck_assert_int_eq(gfuse_i_mfile_writer_open(&w, model_path), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_begin_section(&w, "a", GFUSE_I_MFILE_F64, 2, 0), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_write_data(&w, f64_data, 8), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_end_section(&w), GFUSE_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(gfuse_last_error(), "8 of 16 announced bytes"));
    gfuse_i_mfile_writer_abort(&w);
    /* a section left open at commit */
    ck_assert_int_eq(gfuse_i_mfile_writer_open(&w, model_path), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_begin_section(&w, "a", GFUSE_I_MFILE_BYTES, 1, 0), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_writer_commit(&w), GFUSE_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(gfuse_last_error(), "was not ended"));
    /* bad names, counts and types */
    ck_assert_int_eq(gfuse_i_mfile_writer_open(&w, model_path), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_put_f32(&w, "", f32_data, 1), GFUSE_ERR_ARG);
    gfuse_i_mfile_writer_abort(&w);
    ck_assert_int_eq(gfuse_i_mfile_writer_open(&w, model_path), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_put_f32(&w, "a", f32_data, -1), GFUSE_ERR_ARG);
    gfuse_i_mfile_writer_abort(&w);
    ck_assert_int_eq(gfuse_i_mfile_writer_open(&w, model_path), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_begin_section(&w, "a", (gfuse_i_mfile_type)99, 1, 0),
                     GFUSE_ERR_ARG);
    gfuse_i_mfile_writer_abort(&w);
    ck_assert_int_eq(gfuse_i_mfile_writer_open(&w, model_path), GFUSE_OK);
    const char *with_null[] = {"a", NULL};
    ck_assert_int_eq(gfuse_i_mfile_put_strings(&w, "s", with_null, 2), GFUSE_ERR_ARG);
    gfuse_i_mfile_writer_abort(&w);
    ck_assert_int_eq(tu_n_entries(tmpdir), 0);
    /* a folder that does not exist */
    char path[400];
    snprintf(path, sizeof path, "%s/no/such/dir/model.gfm", tmpdir);
    ck_assert_int_eq(gfuse_i_mfile_writer_open(&w, path), GFUSE_ERR_IO);
    gfuse_i_mfile_writer_abort(&w);
}
END_TEST

/* ---- reader errors ---------------------------------------------------------------------------- */

START_TEST(test_missing_file)
{
    char path[400];
    snprintf(path, sizeof path, "%s/absent.gfm", tmpdir);
    gfuse_i_mfile *r = (gfuse_i_mfile *)&r; /* must be reset to NULL */
    ck_assert_int_eq(gfuse_i_mfile_read(&r, path), GFUSE_ERR_IO);
    ck_assert_ptr_null(r);
    ck_assert_ptr_nonnull(strstr(gfuse_last_error(), path));
    gfuse_modelfile *mf = NULL;
    ck_assert_int_eq(gfuse_modelfile_open(&mf, path), GFUSE_ERR_IO);
    ck_assert_ptr_null(mf);
}
END_TEST

START_TEST(test_truncated_everywhere)
{
    size_t size;
    unsigned char *buf = sample_bytes(&size);
    ck_assert_uint_gt(size, 300);
    char path[400];
    snprintf(path, sizeof path, "%s/cut.gfm", tmpdir);
    for (size_t len = 0; len < size; len++) {
        spit(path, buf, len);
        gfuse_i_mfile *r = NULL;
        gfuse_status st = gfuse_i_mfile_read(&r, path);
        ck_assert_msg(st == GFUSE_ERR_MODEL, "length %zu: status %d", len, (int)st);
        ck_assert_ptr_null(r);
        ck_assert_msg(strstr(gfuse_last_error(), "is truncated") != NULL, "length %zu: %s", len,
                      gfuse_last_error());
        ck_assert_ptr_nonnull(strstr(gfuse_last_error(), path));
    }
    free(buf);
}
END_TEST

START_TEST(test_every_byte_flip_detected)
{
    size_t size;
    unsigned char *buf = sample_bytes(&size);
    char path[400];
    snprintf(path, sizeof path, "%s/flip.gfm", tmpdir);
    const unsigned char masks[] = {0x01, 0x80, 0xff};
    for (size_t i = 0; i < size; i++)
        for (int m = 0; m < 3; m++) {
            buf[i] ^= masks[m];
            spit(path, buf, size);
            buf[i] ^= masks[m];
            gfuse_i_mfile *r = NULL;
            gfuse_status st = gfuse_i_mfile_read(&r, path);
            ck_assert_msg(st == GFUSE_ERR_MODEL, "byte %zu ^ 0x%02x: status %d (%s)", i, masks[m],
                          (int)st, gfuse_last_error());
            ck_assert_ptr_null(r);
        }
    /* beyond the header, what catches a flip is the checksum */
    buf[GFUSE_I_MFILE_HEADER_SIZE + 30] ^= 0x10;
    expect_bad_file(path, buf, size, "is corrupted (checksum mismatch");
    free(buf);
}
END_TEST

/* Flips under a valid checksum: the structure checks behind the checksum must reject or accept
 * every such file cleanly (run under ASan/valgrind this proves no read runs past the buffer). */
START_TEST(test_resealed_flips_are_safe)
{
    size_t size;
    unsigned char *buf = sample_bytes(&size);
    char path[400];
    snprintf(path, sizeof path, "%s/resealed.gfm", tmpdir);
    for (size_t i = 0; i < size - 4; i++)
        for (int bit = 0; bit < 8; bit += 3) {
            buf[i] ^= (unsigned char)(1u << bit);
            reseal(buf, size);
            spit(path, buf, size);
            buf[i] ^= (unsigned char)(1u << bit);
            gfuse_i_mfile *r = NULL;
            gfuse_status st = gfuse_i_mfile_read(&r, path);
            ck_assert_msg(st == GFUSE_OK || st == GFUSE_ERR_MODEL, "byte %zu bit %d: status %d", i,
                          bit, (int)st);
            if (st == GFUSE_OK) {
                /* a flip in a payload or a name can be a valid file; the layout stays */
                ck_assert_int_eq(r->n_sections, 8);
                for (int k = 0; k < 8; k++)
                    ck_assert_uint_eq((uintptr_t)r->sections[k].data % 8, 0);
                gfuse_i_mfile_free(&r);
            }
        }
    free(buf);
}
END_TEST

START_TEST(test_newer_version)
{
    size_t size;
    unsigned char *buf = sample_bytes(&size);
    uint32_t version = GFUSE_I_MFILE_VERSION + 1;
    memcpy(buf + 12, &version, 4);
    reseal(buf, size);
    expect_unreadable(model_path, buf, size);
    char expected[600];
    snprintf(expected, sizeof expected,
             "model file %s has format version %u; this gfuse reads up to %u", model_path,
             GFUSE_I_MFILE_VERSION + 1, GFUSE_I_MFILE_VERSION);
    ck_assert_str_eq(gfuse_last_error(), expected);
    /* the version is checked before the checksum: a newer format may checksum differently */
    version = 1000;
    memcpy(buf + 12, &version, 4);
    expect_bad_file(model_path, buf, size, "has format version 1000; this gfuse reads");
    free(buf);
}
END_TEST

START_TEST(test_foreign_endian)
{
    size_t size;
    unsigned char *buf = sample_bytes(&size);
    uint32_t marker = __builtin_bswap32(GFUSE_I_MFILE_ENDIAN);
    memcpy(buf + 8, &marker, 4);
    expect_unreadable(model_path, buf, size);
    char expected[600];
    snprintf(expected, sizeof expected,
             "model file %s was written on a machine of the other byte order (endianness marker "
             "0x04030201); this gfuse reads only files of its own byte order",
             model_path);
    ck_assert_str_eq(gfuse_last_error(), expected);
    free(buf);
}
END_TEST

START_TEST(test_not_a_model_and_trailing_bytes)
{
    const unsigned char text[] = "id,label\ns1,A\ns2,B\n";
    expect_bad_file(model_path, text, sizeof text - 1, "is not a gfuse model file");

    size_t size;
    unsigned char *buf = sample_bytes(&size);
    buf = realloc(buf, size + 1);
    ck_assert_ptr_nonnull(buf);
    buf[size] = 0;
    expect_bad_file(model_path, buf, size + 1, "is corrupted");
    free(buf);
}
END_TEST

START_TEST(test_duplicate_names_in_file)
{
    gfuse_i_mfile_writer w;
    ck_assert_int_eq(gfuse_i_mfile_writer_open(&w, model_path), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_put_i64(&w, "aa", i64_data, 1), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_put_i64(&w, "ab", i64_data, 1), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_writer_commit(&w), GFUSE_OK);
    size_t size;
    unsigned char *buf = slurp(model_path, &size);
    /* the second record starts after header (48) + record (24 + 8 name + 8 payload) */
    size_t name2 = GFUSE_I_MFILE_HEADER_SIZE + 40 + 24;
    ck_assert_mem_eq(buf + name2, "ab", 2);
    buf[name2 + 1] = 'a';
    reseal(buf, size);
    expect_bad_file(model_path, buf, size, "section \"aa\" appears twice");
    free(buf);
}
END_TEST

START_TEST(test_get_errors)
{
    write_sample(model_path);
    gfuse_i_mfile *r = NULL;
    ck_assert_int_eq(gfuse_i_mfile_read(&r, model_path), GFUSE_OK);
    const float *f = (const float *)r; /* must be reset to NULL */
    const int64_t *a64;
    int64_t n = 99;
    char expected[600];
    ck_assert_int_eq(gfuse_i_mfile_get_f32(r, "param/absent", &f, &n), GFUSE_ERR_MODEL);
    ck_assert_ptr_null(f);
    ck_assert_int_eq(n, 0);
    snprintf(expected, sizeof expected, "model file %s: no section \"param/absent\"", model_path);
    ck_assert_str_eq(gfuse_last_error(), expected);
    ck_assert_int_eq(gfuse_i_mfile_get_i64(r, "param/w", &a64, NULL), GFUSE_ERR_MODEL);
    snprintf(expected, sizeof expected,
             "model file %s: section \"param/w\" holds f32 values, expected i64", model_path);
    ck_assert_str_eq(gfuse_last_error(), expected);
    ck_assert_int_eq(gfuse_i_mfile_get_f32_n(r, "param/w", 4, &f), GFUSE_ERR_MODEL);
    ck_assert_ptr_null(f);
    snprintf(expected, sizeof expected,
             "model file %s: section \"param/w\" has 5 elements, expected 4", model_path);
    ck_assert_str_eq(gfuse_last_error(), expected);
    ck_assert_int_eq(gfuse_i_mfile_get_i64_n(r, "ints64", 6, &a64), GFUSE_ERR_MODEL);

    const char *v;
    int64_t iv;
    double dv;
    ck_assert_int_eq(gfuse_i_mfile_hparam(r, "layer", &v), GFUSE_ERR_MODEL); /* prefix of layers */
    ck_assert_ptr_nonnull(strstr(gfuse_last_error(), "no hyperparameter \"layer\""));
    ck_assert_int_eq(gfuse_i_mfile_hparam_int(r, "task", &iv), GFUSE_ERR_MODEL);
    ck_assert_ptr_nonnull(strstr(gfuse_last_error(), "task=\"classify\" is not an integer"));
    ck_assert_int_eq(gfuse_i_mfile_hparam_int(r, "lr", &iv), GFUSE_ERR_MODEL);
    ck_assert_int_eq(gfuse_i_mfile_hparam_double(r, "task", &dv), GFUSE_ERR_MODEL);
    ck_assert_int_eq(gfuse_i_mfile_error(r, "modality %s has %d features", "mRNA", 3),
                     GFUSE_ERR_MODEL);
    snprintf(expected, sizeof expected, "model file %s: modality mRNA has 3 features", model_path);
    ck_assert_str_eq(gfuse_last_error(), expected);
    gfuse_i_mfile_free(&r);

    /* a file without hparams */
    gfuse_i_mfile_writer w;
    ck_assert_int_eq(gfuse_i_mfile_writer_open(&w, model_path), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_writer_commit(&w), GFUSE_OK);
    ck_assert_int_eq(gfuse_i_mfile_read(&r, model_path), GFUSE_OK);
    ck_assert_int_eq(r->n_sections, 0);
    ck_assert_int_eq(gfuse_i_mfile_hparam(r, "task", &v), GFUSE_ERR_MODEL);
    ck_assert_ptr_nonnull(strstr(gfuse_last_error(), "no section \"hparams\""));
    gfuse_i_mfile_free(&r);
}
END_TEST

/* ---- gfuse info ------------------------------------------------------------------------------- */

/* Runs `$GFUSE info ARGS` (stderr joined to stdout) into out; returns the exit code. */
static int run_info(const char *args, char *out, size_t size)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "\"%s\" info %s 2>&1", getenv("GFUSE"), args);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

START_TEST(test_info_command)
{
    if (!getenv("GFUSE") || !*getenv("GFUSE")) {
        printf("test_info_command skipped: GFUSE (the gfuse program) is not set; make check sets it\n");
        return;
    }
    const char *hp[] = {"task=classify", "layers=2", "heads=4", "lr=0.001"};
    const char *mods[] = {"mRNA", "meth"};
    const char *genes[] = {"g1", "g2", "g3"};
    const char *classes[] = {"AD", "NC"};
    const char *ids[] = {"s1", "s2", "s3", "s4"};
    float zeros5[5] = {0}, weights[100] = {0};
    gfuse_i_mfile_writer w;
    ck_assert_int_eq(gfuse_i_mfile_writer_open(&w, model_path), GFUSE_OK);
    gfuse_i_mfile_put_strings(&w, GFUSE_I_MFILE_HPARAMS, hp, 4);
    gfuse_i_mfile_put_strings(&w, GFUSE_I_MFILE_MODALITIES, mods, 2);
    gfuse_i_mfile_put_strings(&w, GFUSE_I_MFILE_FEATURES_PREFIX "mRNA", genes, 3);
    gfuse_i_mfile_put_f32(&w, GFUSE_I_MFILE_MEAN_PREFIX "meth", zeros5, 5);
    gfuse_i_mfile_put_strings(&w, GFUSE_I_MFILE_CLASSES, classes, 2);
    gfuse_i_mfile_put_strings(&w, GFUSE_I_MFILE_REFERENCE_IDS, ids, 4);
    gfuse_i_mfile_put_f32(&w, GFUSE_I_MFILE_PARAM_PREFIX "enc/W", weights, 100);
    gfuse_i_mfile_put_f32(&w, GFUSE_I_MFILE_PARAM_PREFIX "enc/b", weights, 10);
    gfuse_i_mfile_put_f64(&w, "not/a/param", f64_data, 3);
    ck_assert_int_eq(gfuse_i_mfile_writer_commit(&w), GFUSE_OK);

    static char out[65536];
    char args[700];
    /* the file is a sound container but no model (most sections are missing): info describes
     * it, names the problem and exits 3 */
    snprintf(args, sizeof args, "--model '%s' --json", model_path);
    ck_assert_int_eq(run_info(args, out, sizeof out), 3);
    ck_assert_ptr_nonnull(strstr(out, "\"valid\": false"));
    const char *expected_json[] = {"\"format_version\": 1", "\"checksum_ok\": true",
                                   "\"task\": \"classify\"", "\"name\": \"mRNA\",\n      \"features\": 3",
                                   "\"name\": \"meth\",\n      \"features\": 5", "\"NC\"",
                                   "\"lr\": \"0.001\"", "\"reference_samples\": 4",
                                   "\"parameters\": 110", "\"name\": \"not/a/param\""};
    for (size_t i = 0; i < sizeof expected_json / sizeof *expected_json; i++)
        ck_assert_msg(strstr(out, expected_json[i]) != NULL, "no %s in:\n%s", expected_json[i], out);

    snprintf(args, sizeof args, "--model '%s' --sections", model_path);
    ck_assert_int_eq(run_info(args, out, sizeof out), 3);
    ck_assert_ptr_nonnull(strstr(out, "checksum matches, but the file is not a usable model"));
    ck_assert_ptr_null(strstr(out, "checksum OK"));
    const char *expected_text[] = {"format version: 1 (written by gfuse " PACKAGE_VERSION ")",
                                   "task: classify", "classes: 2: AD, NC", "reference samples: 4",
                                   "parameters: 110", "sections: 9", "not/a/param"};
    for (size_t i = 0; i < sizeof expected_text / sizeof *expected_text; i++)
        ck_assert_msg(strstr(out, expected_text[i]) != NULL, "no %s in:\n%s", expected_text[i], out);

    /* damaged: exit code 3 and the reason; missing: 1; no --model: 2 */
    size_t size;
    unsigned char *buf = slurp(model_path, &size);
    buf[size / 2] ^= 0x20;
    spit(model_path, buf, size);
    free(buf);
    snprintf(args, sizeof args, "--model '%s'", model_path);
    ck_assert_int_eq(run_info(args, out, sizeof out), 3);
    ck_assert_ptr_nonnull(strstr(out, "corrupted (checksum mismatch"));
    snprintf(args, sizeof args, "--model '%s/absent.gfm'", tmpdir);
    ck_assert_int_eq(run_info(args, out, sizeof out), 1);
    ck_assert_int_eq(run_info("", out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "--model FILE is required"));
}
END_TEST

static Suite *modelfile_suite(void)
{
    Suite *s = suite_create("modelfile");
    TU_TCASE(s, "core", setup, teardown,
        test_round_trip, test_public_api, test_streaming, test_crc32c);

    TU_TCASE(s, "writer errors", setup, teardown,
        test_abort_leaves_nothing, test_failed_save_keeps_old_file, test_stream_misuse);

    TCase *reader = TU_TCASE(s, "reader errors", setup, teardown,
        test_missing_file, test_truncated_everywhere, test_every_byte_flip_detected,
        test_resealed_flips_are_safe, test_newer_version, test_foreign_endian,
        test_not_a_model_and_trailing_bytes, test_duplicate_names_in_file, test_get_errors);
    tcase_set_timeout(reader, 120); /* the byte loops are slow under valgrind */

    TU_TCASE(s, "gfuse info", setup, teardown,
        test_info_command);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(modelfile_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
