/*
 * fuzz_model.c: the model-file loader (gfuse_model_load, src/model/model_io.c, over the
 * container reader of src/model/modelfile.c) and the model-file inspection API
 * (gfuse_modelfile_open and its accessors) on arbitrary bytes.
 *
 * A random change almost never keeps the CRC-32C checksum right, so before writing the file
 * the harness sets the header's recorded size to the input's and recomputes the checksum over
 * it: mutations reach the section records and the loader's checks instead of stopping at the
 * checksum. Inputs too short for a header are written as they are.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include "model/modelfile.h"
#include "tests/fuzz/fuzz.h"

static void check_model(const gfuse_model *m)
{
    int M = gfuse_model_n_modalities(m), K = gfuse_model_n_classes(m);
    if (M < 1 || K < 0) abort();
    for (int k = 0; k < K; k++) fuzz_touch(gfuse_model_class_name(m, k));
    for (int j = 0; j < M; j++) {
        fuzz_touch(gfuse_model_modality_name(m, j));
        int64_t d = gfuse_model_n_features(m, j);
        if (d < 1) abort();
        for (int64_t f = 0; f < d; f++) fuzz_touch(gfuse_model_feature_name(m, j, f));
    }
    for (int k = 0; k < gfuse_model_n_members(m); k++) (void)gfuse_model_best_epoch(m, k);
    (void)gfuse_model_n_reference_samples(m);
    (void)gfuse_model_n_parameters(m);
    gfuse_train_options o;
    gfuse_model_options(m, &o);
}

static void inspect(const char *path)
{
    gfuse_modelfile *mf = NULL;
    gfuse_status st = gfuse_modelfile_open(&mf, path);
    fuzz_expect(st);
    if (st != GFUSE_OK) return;
    fuzz_touch(gfuse_modelfile_writer_version(mf));
    for (int64_t k = 0; k < gfuse_modelfile_n_sections(mf); k++) {
        const char *name = gfuse_modelfile_section_name(mf, k);
        fuzz_touch(name);
        if (gfuse_modelfile_find_section(mf, name) != k) abort(); /* names are unique */
        fuzz_touch(gfuse_modelfile_section_type(mf, k));
        (void)gfuse_modelfile_section_bytes(mf, k);
        if (strcmp(gfuse_modelfile_section_type(mf, k), "strings") == 0)
            for (int64_t j = 0; j < gfuse_modelfile_section_count(mf, k); j++)
                fuzz_touch(gfuse_modelfile_section_string(mf, k, j));
    }
    const char *h = gfuse_modelfile_hparam(mf, "hidden");
    if (h) fuzz_touch(h);
    (void)gfuse_modelfile_n_parameters(mf);
    gfuse_modelfile_free(&mf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path;
    if (size >= GFUSE_I_MFILE_HEADER_SIZE + 4) {
        uint8_t *b = malloc(size);
        if (!b) abort();
        memcpy(b, data, size);
        uint64_t n = size;
        memcpy(b + 16, &n, sizeof n);
        uint32_t crc = gfuse_i_crc32c(0, b, size - 4);
        memcpy(b + size - 4, &crc, sizeof crc);
        path = fuzz_write("in.gfm", b, size);
        free(b);
    } else {
        path = fuzz_write("in.gfm", data, size);
    }
    gfuse_model *m = NULL;
    gfuse_status st = gfuse_model_load(&m, path);
    fuzz_expect(st);
    if (st == GFUSE_OK) check_model(m);
    gfuse_model_free(&m);
    inspect(path);
    return 0;
}
