/* modelfile.c: the model-file container: writer, validating reader, CRC-32C, and the public
 * inspection API (gfuse_modelfile_*). The layout is described in modelfile.h. */
#include "model/modelfile.h"
#include "core/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAME_LEN 1024
#define RECORD_HEADER_SIZE 24
#define CHECKSUM_SIZE 4

/* ---- CRC-32C ---------------------------------------------------------------------------- */

static const uint32_t crc32c_table[256] = {
    0x00000000u, 0xf26b8303u, 0xe13b70f7u, 0x1350f3f4u, 0xc79a971fu, 0x35f1141cu,
    0x26a1e7e8u, 0xd4ca64ebu, 0x8ad958cfu, 0x78b2dbccu, 0x6be22838u, 0x9989ab3bu,
    0x4d43cfd0u, 0xbf284cd3u, 0xac78bf27u, 0x5e133c24u, 0x105ec76fu, 0xe235446cu,
    0xf165b798u, 0x030e349bu, 0xd7c45070u, 0x25afd373u, 0x36ff2087u, 0xc494a384u,
    0x9a879fa0u, 0x68ec1ca3u, 0x7bbcef57u, 0x89d76c54u, 0x5d1d08bfu, 0xaf768bbcu,
    0xbc267848u, 0x4e4dfb4bu, 0x20bd8edeu, 0xd2d60dddu, 0xc186fe29u, 0x33ed7d2au,
    0xe72719c1u, 0x154c9ac2u, 0x061c6936u, 0xf477ea35u, 0xaa64d611u, 0x580f5512u,
    0x4b5fa6e6u, 0xb93425e5u, 0x6dfe410eu, 0x9f95c20du, 0x8cc531f9u, 0x7eaeb2fau,
    0x30e349b1u, 0xc288cab2u, 0xd1d83946u, 0x23b3ba45u, 0xf779deaeu, 0x05125dadu,
    0x1642ae59u, 0xe4292d5au, 0xba3a117eu, 0x4851927du, 0x5b016189u, 0xa96ae28au,
    0x7da08661u, 0x8fcb0562u, 0x9c9bf696u, 0x6ef07595u, 0x417b1dbcu, 0xb3109ebfu,
    0xa0406d4bu, 0x522bee48u, 0x86e18aa3u, 0x748a09a0u, 0x67dafa54u, 0x95b17957u,
    0xcba24573u, 0x39c9c670u, 0x2a993584u, 0xd8f2b687u, 0x0c38d26cu, 0xfe53516fu,
    0xed03a29bu, 0x1f682198u, 0x5125dad3u, 0xa34e59d0u, 0xb01eaa24u, 0x42752927u,
    0x96bf4dccu, 0x64d4cecfu, 0x77843d3bu, 0x85efbe38u, 0xdbfc821cu, 0x2997011fu,
    0x3ac7f2ebu, 0xc8ac71e8u, 0x1c661503u, 0xee0d9600u, 0xfd5d65f4u, 0x0f36e6f7u,
    0x61c69362u, 0x93ad1061u, 0x80fde395u, 0x72966096u, 0xa65c047du, 0x5437877eu,
    0x4767748au, 0xb50cf789u, 0xeb1fcbadu, 0x197448aeu, 0x0a24bb5au, 0xf84f3859u,
    0x2c855cb2u, 0xdeeedfb1u, 0xcdbe2c45u, 0x3fd5af46u, 0x7198540du, 0x83f3d70eu,
    0x90a324fau, 0x62c8a7f9u, 0xb602c312u, 0x44694011u, 0x5739b3e5u, 0xa55230e6u,
    0xfb410cc2u, 0x092a8fc1u, 0x1a7a7c35u, 0xe811ff36u, 0x3cdb9bddu, 0xceb018deu,
    0xdde0eb2au, 0x2f8b6829u, 0x82f63b78u, 0x709db87bu, 0x63cd4b8fu, 0x91a6c88cu,
    0x456cac67u, 0xb7072f64u, 0xa457dc90u, 0x563c5f93u, 0x082f63b7u, 0xfa44e0b4u,
    0xe9141340u, 0x1b7f9043u, 0xcfb5f4a8u, 0x3dde77abu, 0x2e8e845fu, 0xdce5075cu,
    0x92a8fc17u, 0x60c37f14u, 0x73938ce0u, 0x81f80fe3u, 0x55326b08u, 0xa759e80bu,
    0xb4091bffu, 0x466298fcu, 0x1871a4d8u, 0xea1a27dbu, 0xf94ad42fu, 0x0b21572cu,
    0xdfeb33c7u, 0x2d80b0c4u, 0x3ed04330u, 0xccbbc033u, 0xa24bb5a6u, 0x502036a5u,
    0x4370c551u, 0xb11b4652u, 0x65d122b9u, 0x97baa1bau, 0x84ea524eu, 0x7681d14du,
    0x2892ed69u, 0xdaf96e6au, 0xc9a99d9eu, 0x3bc21e9du, 0xef087a76u, 0x1d63f975u,
    0x0e330a81u, 0xfc588982u, 0xb21572c9u, 0x407ef1cau, 0x532e023eu, 0xa145813du,
    0x758fe5d6u, 0x87e466d5u, 0x94b49521u, 0x66df1622u, 0x38cc2a06u, 0xcaa7a905u,
    0xd9f75af1u, 0x2b9cd9f2u, 0xff56bd19u, 0x0d3d3e1au, 0x1e6dcdeeu, 0xec064eedu,
    0xc38d26c4u, 0x31e6a5c7u, 0x22b65633u, 0xd0ddd530u, 0x0417b1dbu, 0xf67c32d8u,
    0xe52cc12cu, 0x1747422fu, 0x49547e0bu, 0xbb3ffd08u, 0xa86f0efcu, 0x5a048dffu,
    0x8ecee914u, 0x7ca56a17u, 0x6ff599e3u, 0x9d9e1ae0u, 0xd3d3e1abu, 0x21b862a8u,
    0x32e8915cu, 0xc083125fu, 0x144976b4u, 0xe622f5b7u, 0xf5720643u, 0x07198540u,
    0x590ab964u, 0xab613a67u, 0xb831c993u, 0x4a5a4a90u, 0x9e902e7bu, 0x6cfbad78u,
    0x7fab5e8cu, 0x8dc0dd8fu, 0xe330a81au, 0x115b2b19u, 0x020bd8edu, 0xf0605beeu,
    0x24aa3f05u, 0xd6c1bc06u, 0xc5914ff2u, 0x37faccf1u, 0x69e9f0d5u, 0x9b8273d6u,
    0x88d28022u, 0x7ab90321u, 0xae7367cau, 0x5c18e4c9u, 0x4f48173du, 0xbd23943eu,
    0xf36e6f75u, 0x0105ec76u, 0x12551f82u, 0xe03e9c81u, 0x34f4f86au, 0xc69f7b69u,
    0xd5cf889du, 0x27a40b9eu, 0x79b737bau, 0x8bdcb4b9u, 0x988c474du, 0x6ae7c44eu,
    0xbe2da0a5u, 0x4c4623a6u, 0x5f16d052u, 0xad7d5351u,
};

uint32_t gfuse_i_crc32c_reference(uint32_t crc, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) crc = crc32c_table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <nmmintrin.h>

__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const void *buf,
                                                              size_t n)
{
    const unsigned char *p = buf;
    uint64_t c = ~crc;
    for (; n > 0 && ((uintptr_t)p & 7u) != 0; n--, p++) c = _mm_crc32_u8((uint32_t)c, *p);
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = _mm_crc32_u64(c, word);
    }
    for (; n > 0; n--, p++) c = _mm_crc32_u8((uint32_t)c, *p);
    return ~(uint32_t)c;
}

uint32_t gfuse_i_crc32c(uint32_t crc, const void *buf, size_t n)
{
    if (__builtin_cpu_supports("sse4.2")) return crc32c_sse42(crc, buf, n);
    return gfuse_i_crc32c_reference(crc, buf, n);
}
#else
uint32_t gfuse_i_crc32c(uint32_t crc, const void *buf, size_t n)
{
    return gfuse_i_crc32c_reference(crc, buf, n);
}
#endif

/* ---- types ------------------------------------------------------------------------------- */

const char *gfuse_i_mfile_type_name(gfuse_i_mfile_type type)
{
    switch (type) {
    case GFUSE_I_MFILE_I32: return "i32";
    case GFUSE_I_MFILE_I64: return "i64";
    case GFUSE_I_MFILE_F32: return "f32";
    case GFUSE_I_MFILE_F64: return "f64";
    case GFUSE_I_MFILE_STRINGS: return "strings";
    case GFUSE_I_MFILE_BYTES: return "bytes";
    }
    return "unknown";
}

/* Bytes per element of a fixed-size type; 1 for strings and raw bytes; 0 for unknown types. */
static uint64_t element_size(uint32_t type)
{
    switch (type) {
    case GFUSE_I_MFILE_I32: return 4;
    case GFUSE_I_MFILE_I64: return 8;
    case GFUSE_I_MFILE_F32: return 4;
    case GFUSE_I_MFILE_F64: return 8;
    case GFUSE_I_MFILE_STRINGS: return 1;
    case GFUSE_I_MFILE_BYTES: return 1;
    }
    return 0;
}

static uint64_t pad8(uint64_t n) { return (n + 7u) & ~(uint64_t)7u; }

/* ---- writer ------------------------------------------------------------------------------ */

static const unsigned char zeros[8];

/* Records the first failure of a writer (the message is kept for commit) and returns it. */
static gfuse_status writer_fail(gfuse_i_mfile_writer *w, gfuse_status st)
{
    if (w->status == GFUSE_OK) {
        w->status = st;
        snprintf(w->message, sizeof w->message, "%s", gfuse_last_error());
    }
    return w->status;
}

/* Re-raises the writer's first failure (its message may have been overwritten since). */
static gfuse_status writer_status(const gfuse_i_mfile_writer *w)
{
    return gfuse_i_error(w->status, "%s", w->message);
}

static void writer_release(gfuse_i_mfile_writer *w)
{
    gfuse_i_free_strings(w->names, w->n_names);
    w->names = NULL;
    w->n_names = w->cap_names = 0;
    if (w->name_index) gfuse_i_idmap_free(w->name_index);
    w->name_index = NULL;
}

static gfuse_status writer_put_raw(gfuse_i_mfile_writer *w, const void *data, size_t bytes)
{
    if (bytes == 0) return GFUSE_OK;
    if (fwrite(data, 1, bytes, w->out.f) != bytes) {
        int e = errno;
        return writer_fail(w, gfuse_i_error(GFUSE_ERR_IO, "%s: cannot write model file: %s",
                                            w->out.path, strerror(e)));
    }
    w->offset += bytes;
    return GFUSE_OK;
}

static gfuse_status writer_put_u32(gfuse_i_mfile_writer *w, uint32_t v)
{
    return writer_put_raw(w, &v, sizeof v);
}

static gfuse_status writer_put_u64(gfuse_i_mfile_writer *w, uint64_t v)
{
    return writer_put_raw(w, &v, sizeof v);
}

static gfuse_status writer_pad(gfuse_i_mfile_writer *w)
{
    return writer_put_raw(w, zeros, (size_t)(pad8(w->offset) - w->offset));
}

gfuse_status gfuse_i_mfile_writer_open(gfuse_i_mfile_writer *w, const char *path)
{
    return gfuse_i_mfile_writer_open_magic(w, path, GFUSE_I_MFILE_MAGIC);
}

gfuse_status gfuse_i_mfile_writer_open_magic(gfuse_i_mfile_writer *w, const char *path,
                                             const char *magic)
{
    memset(w, 0, sizeof *w);
    if (!path || !*path) return gfuse_i_error(GFUSE_ERR_ARG, "model file name is empty");
    gfuse_status st = gfuse_i_outfile_open(&w->out, path, "w+b");
    if (st != GFUSE_OK) return st;
    w->name_index = gfuse_i_idmap_new(64);
    if (!w->name_index) {
        gfuse_i_mfile_writer_abort(w);
        return gfuse_i_nomem("the section names of a model file");
    }
    char version[16] = {0};
    strncpy(version, PACKAGE_VERSION, sizeof version - 1);
    writer_put_raw(w, magic, 8);
    writer_put_u32(w, GFUSE_I_MFILE_ENDIAN);
    writer_put_u32(w, GFUSE_I_MFILE_VERSION);
    writer_put_u64(w, 0); /* total size, completed by commit */
    writer_put_u32(w, 0); /* number of sections, completed by commit */
    writer_put_u32(w, 0); /* flags */
    writer_put_raw(w, version, sizeof version);
    if (w->status != GFUSE_OK) {
        st = writer_status(w);
        gfuse_i_mfile_writer_abort(w);
        return st;
    }
    return GFUSE_OK;
}

/* Remembers a section name; fails on a duplicate. */
static gfuse_status writer_add_name(gfuse_i_mfile_writer *w, const char *name)
{
    if (w->n_names == w->cap_names) {
        int64_t cap = w->cap_names ? 2 * w->cap_names : 32;
        char **names = gfuse_i_realloc(w->names, cap, sizeof *names);
        if (!names) return writer_fail(w, gfuse_i_nomem("the section names of a model file"));
        w->names = names;
        w->cap_names = cap;
    }
    char *copy = gfuse_i_strdup(name);
    if (!copy) return writer_fail(w, gfuse_i_nomem("a section name"));
    int ins = gfuse_i_idmap_insert(w->name_index, copy, w->n_names, NULL);
    if (ins != 1) {
        free(copy);
        if (ins < 0) return writer_fail(w, gfuse_i_nomem("the section names of a model file"));
        return writer_fail(w, gfuse_i_error(GFUSE_ERR_ARG,
                                            "%s: model file section \"%s\" written twice",
                                            w->out.path, name));
    }
    w->names[w->n_names++] = copy;
    return GFUSE_OK;
}

gfuse_status gfuse_i_mfile_begin_section(gfuse_i_mfile_writer *w, const char *name,
                                         gfuse_i_mfile_type type, int64_t count,
                                         int64_t payload_bytes)
{
    if (w->status != GFUSE_OK) return writer_status(w);
    if (w->in_section)
        return writer_fail(w, gfuse_i_error(GFUSE_ERR_ARG,
                                            "model file section \"%s\" begun inside another", name));
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > MAX_NAME_LEN)
        return writer_fail(w, gfuse_i_error(GFUSE_ERR_ARG,
                                            "model file section names have 1 to %d bytes, got %zu",
                                            MAX_NAME_LEN, len));
    uint64_t size = element_size((uint32_t)type);
    if (size == 0)
        return writer_fail(w, gfuse_i_error(GFUSE_ERR_ARG, "section \"%s\": unknown type %d",
                                            name, (int)type));
    if (count < 0)
        return writer_fail(w, gfuse_i_error(GFUSE_ERR_ARG,
                                            "section \"%s\": count must be at least 0, got %" PRId64,
                                            name, count));
    uint64_t bytes;
    if (type == GFUSE_I_MFILE_STRINGS) {
        if (payload_bytes < count)
            return writer_fail(w, gfuse_i_error(GFUSE_ERR_ARG,
                                                "section \"%s\": %" PRId64 " strings need at least "
                                                "%" PRId64 " bytes, got %" PRId64,
                                                name, count, count, payload_bytes));
        bytes = (uint64_t)payload_bytes;
    } else {
        if ((uint64_t)count > UINT64_MAX / 8) /* bytes fit in 64 bits for any element size */
            return writer_fail(w, gfuse_i_error(GFUSE_ERR_ARG, "section \"%s\" is too large",
                                                name));
        bytes = (uint64_t)count * size;
    }
    if (writer_add_name(w, name) != GFUSE_OK) return w->status;
    writer_put_u32(w, (uint32_t)type);
    writer_put_u32(w, (uint32_t)len);
    writer_put_u64(w, (uint64_t)count);
    writer_put_u64(w, bytes);
    writer_put_raw(w, name, len);
    writer_pad(w);
    if (w->status != GFUSE_OK) return w->status;
    w->in_section = 1;
    w->section_bytes = bytes;
    w->section_written = 0;
    return GFUSE_OK;
}

gfuse_status gfuse_i_mfile_write_data(gfuse_i_mfile_writer *w, const void *data, size_t bytes)
{
    if (w->status != GFUSE_OK) return writer_status(w);
    if (!w->in_section)
        return writer_fail(w, gfuse_i_error(GFUSE_ERR_ARG, "model file data written outside a "
                                                           "section"));
    if (bytes > w->section_bytes - w->section_written)
        return writer_fail(w, gfuse_i_error(GFUSE_ERR_ARG,
                                            "model file section \"%s\": more data than its %" PRIu64
                                            " announced bytes",
                                            w->names[w->n_names - 1], w->section_bytes));
    if (writer_put_raw(w, data, bytes) != GFUSE_OK) return w->status;
    w->section_written += bytes;
    return GFUSE_OK;
}

gfuse_status gfuse_i_mfile_end_section(gfuse_i_mfile_writer *w)
{
    if (w->status != GFUSE_OK) return writer_status(w);
    if (!w->in_section)
        return writer_fail(w, gfuse_i_error(GFUSE_ERR_ARG, "model file section ended twice"));
    if (w->section_written != w->section_bytes)
        return writer_fail(w, gfuse_i_error(GFUSE_ERR_ARG,
                                            "model file section \"%s\": %" PRIu64 " of %" PRIu64
                                            " announced bytes written",
                                            w->names[w->n_names - 1], w->section_written,
                                            w->section_bytes));
    w->in_section = 0;
    if (writer_pad(w) != GFUSE_OK) return w->status;
    w->n_sections++;
    return GFUSE_OK;
}

static gfuse_status put_array(gfuse_i_mfile_writer *w, const char *name, gfuse_i_mfile_type type,
                              const void *data, int64_t n)
{
    if (w->status != GFUSE_OK) return writer_status(w);
    if (n > 0 && !data)
        return writer_fail(w, gfuse_i_error(GFUSE_ERR_ARG, "section \"%s\": data is NULL", name));
    if (gfuse_i_mfile_begin_section(w, name, type, n, 0) != GFUSE_OK) return w->status;
    if (gfuse_i_mfile_write_data(w, data, (size_t)w->section_bytes) != GFUSE_OK) return w->status;
    return gfuse_i_mfile_end_section(w);
}

/* The typed section writers of modelfile.h, one put_array each. */
#define MFILE_PUT(suffix, ctype, type)                                                             \
    gfuse_status gfuse_i_mfile_put_##suffix(gfuse_i_mfile_writer *w, const char *name,             \
                                            const ctype *data, int64_t n)                          \
    {                                                                                              \
        return put_array(w, name, type, data, n);                                                  \
    }
MFILE_PUT(i32, int32_t, GFUSE_I_MFILE_I32)
MFILE_PUT(i64, int64_t, GFUSE_I_MFILE_I64)
MFILE_PUT(f32, float, GFUSE_I_MFILE_F32)
MFILE_PUT(f64, double, GFUSE_I_MFILE_F64)
MFILE_PUT(bytes, void, GFUSE_I_MFILE_BYTES)
#undef MFILE_PUT

gfuse_status gfuse_i_mfile_put_strings(gfuse_i_mfile_writer *w, const char *name,
                                       const char *const *strings, int64_t n)
{
    if (w->status != GFUSE_OK) return writer_status(w);
    if (n < 0 || (n > 0 && !strings))
        return writer_fail(w, gfuse_i_error(GFUSE_ERR_ARG, "section \"%s\": bad string list",
                                            name ? name : "(null)"));
    int64_t bytes = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!strings[i])
            return writer_fail(w, gfuse_i_error(GFUSE_ERR_ARG,
                                                "section \"%s\": string %" PRId64 " is NULL",
                                                name ? name : "(null)", i));
        bytes += (int64_t)strlen(strings[i]) + 1;
    }
    if (gfuse_i_mfile_begin_section(w, name, GFUSE_I_MFILE_STRINGS, n, bytes) != GFUSE_OK)
        return w->status;
    for (int64_t i = 0; i < n; i++)
        if (gfuse_i_mfile_write_data(w, strings[i], strlen(strings[i]) + 1) != GFUSE_OK)
            return w->status;
    return gfuse_i_mfile_end_section(w);
}

/* Completes the header, then reads the file back to compute the checksum and appends it. */
static gfuse_status writer_finish(gfuse_i_mfile_writer *w)
{
    FILE *f = w->out.f;
    uint64_t total = w->offset + CHECKSUM_SIZE;
    uint32_t n_sections = w->n_sections;
    int ok = fseek(f, 16, SEEK_SET) == 0 && fwrite(&total, sizeof total, 1, f) == 1 &&
             fwrite(&n_sections, sizeof n_sections, 1, f) == 1 && fflush(f) == 0 &&
             fseek(f, 0, SEEK_SET) == 0;
    uint32_t crc = 0;
    unsigned char chunk[1 << 16];
    uint64_t left = w->offset;
    while (ok && left > 0) {
        size_t want = left < sizeof chunk ? (size_t)left : sizeof chunk;
        if (fread(chunk, 1, want, f) != want) ok = 0;
        crc = gfuse_i_crc32c(crc, chunk, want);
        left -= want;
    }
    ok = ok && fseek(f, 0, SEEK_END) == 0 && fwrite(&crc, sizeof crc, 1, f) == 1;
    if (!ok) {
        int e = errno;
        return writer_fail(w, gfuse_i_error(GFUSE_ERR_IO, "%s: cannot write model file: %s",
                                            w->out.path, strerror(e)));
    }
    return GFUSE_OK;
}

gfuse_status gfuse_i_mfile_writer_commit(gfuse_i_mfile_writer *w)
{
    if (w->status == GFUSE_OK && !w->out.f)
        return gfuse_i_error(GFUSE_ERR_STATE, "model file writer is not open");
    if (w->status == GFUSE_OK && w->in_section)
        writer_fail(w, gfuse_i_error(GFUSE_ERR_ARG, "model file section \"%s\" was not ended",
                                     w->names[w->n_names - 1]));
    if (w->status == GFUSE_OK) writer_finish(w);
    gfuse_status st;
    if (w->status != GFUSE_OK) {
        st = writer_status(w);
        gfuse_i_mfile_writer_abort(w);
        return st;
    }
    st = gfuse_i_outfile_commit(&w->out);
    writer_release(w);
    memset(w, 0, sizeof *w);
    return st;
}

void gfuse_i_mfile_writer_abort(gfuse_i_mfile_writer *w)
{
    gfuse_i_outfile_abort(&w->out);
    writer_release(w);
    memset(w, 0, sizeof *w);
}

/* ---- reader ------------------------------------------------------------------------------ */

static gfuse_status corrupted(const char *path, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static gfuse_status corrupted(const char *path, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return gfuse_i_error(GFUSE_ERR_MODEL, "model file %s is corrupted (%s)", path, what);
}

static uint32_t load_u32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static uint64_t load_u64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Reads the whole file into r->buf. */
static gfuse_status read_whole_file(gfuse_i_mfile *r, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return gfuse_i_error(GFUSE_ERR_IO, "%s: cannot open model file: %s", path, strerror(e));
    }
    gfuse_status st = GFUSE_OK;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        int e = errno;
        st = gfuse_i_error(GFUSE_ERR_IO, "%s: cannot read model file: %s", path, strerror(e));
        goto done;
    }
    /* 8 extra bytes keep the allocation non-empty and the payloads 8-byte aligned */
    r->buf = gfuse_i_alloc((size_t)size + 8, 1);
    if (!r->buf) {
        st = gfuse_i_nomem("a model file's contents");
        goto done;
    }
    if (fread(r->buf, 1, (size_t)size, f) != (size_t)size) {
        int e = errno;
        st = gfuse_i_error(GFUSE_ERR_IO, "%s: cannot read model file: %s", path,
                           ferror(f) ? strerror(e) : "it shrank while being read");
        goto done;
    }
    r->size = (int64_t)size;
done:
    fclose(f);
    return st;
}

/* Magic (that of a model file, or of another kind of file in the same container), byte
 * order, version, recorded size and checksum. */
static gfuse_status check_header(gfuse_i_mfile *r, const char *magic, const char *kind)
{
    const char *path = r->path;
    const unsigned char *b = r->buf;
    uint64_t size = (uint64_t)r->size;
    size_t magic_len = size < 8 ? (size_t)size : 8;
    if (memcmp(b, magic, magic_len) != 0)
        return gfuse_i_error(GFUSE_ERR_MODEL, "%s is not a %s (no %s magic)", path, kind, magic);
    if (size < GFUSE_I_MFILE_HEADER_SIZE + CHECKSUM_SIZE)
        return gfuse_i_error(GFUSE_ERR_MODEL,
                             "model file %s is truncated (%" PRIu64 " bytes, shorter than the "
                             "header and checksum)",
                             path, size);
    uint32_t endian = load_u32(b + 8);
    if (endian == __builtin_bswap32(GFUSE_I_MFILE_ENDIAN))
        return gfuse_i_error(GFUSE_ERR_MODEL,
                             "model file %s was written on a machine of the other byte order "
                             "(endianness marker 0x%08" PRIx32 "); this gfuse reads only files of "
                             "its own byte order",
                             path, endian);
    if (endian != GFUSE_I_MFILE_ENDIAN)
        return corrupted(path, "bad endianness marker 0x%08" PRIx32, endian);
    uint32_t version = load_u32(b + 12);
    if (version > GFUSE_I_MFILE_VERSION)
        return gfuse_i_error(GFUSE_ERR_MODEL,
                             "model file %s has format version %" PRIu32 "; this gfuse reads up "
                             "to %u",
                             path, version, GFUSE_I_MFILE_VERSION);
    if (version == 0) return corrupted(path, "format version 0");
    uint64_t recorded = load_u64(b + 16);
    if (size < recorded)
        return gfuse_i_error(GFUSE_ERR_MODEL,
                             "model file %s is truncated (%" PRIu64 " of %" PRIu64 " bytes)", path,
                             size, recorded);
    if (size > recorded)
        return corrupted(path, "%" PRIu64 " bytes, the header says %" PRIu64, size, recorded);
    uint32_t stored = load_u32(b + size - CHECKSUM_SIZE);
    uint32_t computed = gfuse_i_crc32c(0, b, (size_t)(size - CHECKSUM_SIZE));
    if (stored != computed)
        return corrupted(path, "checksum mismatch: stored 0x%08" PRIx32 ", computed 0x%08" PRIx32,
                         stored, computed);
    r->version = version;
    r->checksum = stored;
    memcpy(r->writer_version, b + 32, 16);
    r->writer_version[16] = '\0';
    if (load_u32(b + 28) != 0) return corrupted(path, "unknown flags");
    return GFUSE_OK;
}

static int all_zero(const unsigned char *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

/* Walks the section records; fills r->sections (names and string pointers come later). */
static gfuse_status parse_sections(gfuse_i_mfile *r, uint64_t *name_bytes, uint64_t *n_strings)
{
    const char *path = r->path;
    const unsigned char *b = r->buf;
    uint64_t end = (uint64_t)r->size - CHECKSUM_SIZE;
    uint64_t n = load_u32(b + 24);
    /* every section takes at least 32 bytes: a bound before allocating */
    if (n > (end - GFUSE_I_MFILE_HEADER_SIZE) / 32)
        return corrupted(path, "%" PRIu64 " sections cannot fit", n);
    r->sections = gfuse_i_zalloc(n, sizeof *r->sections);
    if (!r->sections) return gfuse_i_nomem("a model file's section table");
    r->n_sections = (int64_t)n;
    uint64_t pos = GFUSE_I_MFILE_HEADER_SIZE;
    *name_bytes = 0;
    *n_strings = 0;
    for (uint64_t k = 0; k < n; k++) {
        gfuse_i_mfile_section *s = &r->sections[k];
        if (end - pos < RECORD_HEADER_SIZE)
            return corrupted(path, "section %" PRIu64 " runs past the end", k);
        uint32_t type = load_u32(b + pos);
        uint32_t name_len = load_u32(b + pos + 4);
        uint64_t count = load_u64(b + pos + 8);
        uint64_t bytes = load_u64(b + pos + 16);
        uint64_t esize = element_size(type);
        if (esize == 0) return corrupted(path, "section %" PRIu64 " has unknown type %" PRIu32, k, type);
        if (name_len == 0 || name_len > MAX_NAME_LEN)
            return corrupted(path, "section %" PRIu64 " has a name of %" PRIu32 " bytes", k,
                             name_len);
        pos += RECORD_HEADER_SIZE;
        if (end - pos < pad8(name_len))
            return corrupted(path, "section %" PRIu64 " runs past the end", k);
        const unsigned char *name = b + pos;
        if (memchr(name, '\0', name_len) || !all_zero(name + name_len, pad8(name_len) - name_len))
            return corrupted(path, "section %" PRIu64 " has a malformed name", k);
        pos += pad8(name_len);
        if (bytes > end - pos || pad8(bytes) > end - pos)
            return corrupted(path, "section %" PRIu64 " runs past the end", k);
        if (type == GFUSE_I_MFILE_STRINGS) {
            uint64_t nul = 0;
            for (uint64_t i = 0; i < bytes; i++) nul += b[pos + i] == '\0';
            if (nul != count || (bytes > 0 && b[pos + bytes - 1] != '\0'))
                return corrupted(path, "section %" PRIu64 " has a malformed string list", k);
            *n_strings += count;
        } else if (count > bytes / esize || count * esize != bytes) {
            return corrupted(path, "section %" PRIu64 " has %" PRIu64 " bytes for %" PRIu64
                                   " elements", k, bytes, count);
        }
        if (!all_zero(b + pos + bytes, pad8(bytes) - bytes))
            return corrupted(path, "section %" PRIu64 " has non-zero padding", k);
        s->type = (gfuse_i_mfile_type)type;
        s->count = (int64_t)count;
        s->bytes = (int64_t)bytes;
        s->data = b + pos;
        s->name = (const char *)name; /* not yet terminated: copied by index_sections */
        *name_bytes += name_len + 1;
        pos += pad8(bytes);
    }
    if (pos != end) return corrupted(path, "%" PRIu64 " unexplained bytes after the sections",
                                     end - pos);
    return GFUSE_OK;
}

/* Copies the names into one block, indexes them and splits the string lists. */
static gfuse_status index_sections(gfuse_i_mfile *r, uint64_t name_bytes, uint64_t n_strings)
{
    r->names = gfuse_i_alloc(name_bytes, 1);
    r->string_ptrs = gfuse_i_alloc(n_strings, sizeof *r->string_ptrs);
    r->index = gfuse_i_idmap_new(r->n_sections);
    if (!r->names || !r->string_ptrs || !r->index)
        return gfuse_i_nomem("a model file's section index");
    char *next_name = r->names;
    const char **next_string = r->string_ptrs;
    for (int64_t k = 0; k < r->n_sections; k++) {
        gfuse_i_mfile_section *s = &r->sections[k];
        /* the name's length is in its record header, just before the name */
        size_t len = load_u32((const unsigned char *)s->name - RECORD_HEADER_SIZE + 4);
        memcpy(next_name, s->name, len);
        next_name[len] = '\0';
        s->name = next_name;
        next_name += len + 1;
        int64_t existing = -1;
        int ins = gfuse_i_idmap_insert(r->index, s->name, k, &existing);
        if (ins < 0) return gfuse_i_nomem("a model file's section index");
        if (ins == 0)
            return corrupted(r->path, "section \"%s\" appears twice", s->name);
        if (s->type == GFUSE_I_MFILE_STRINGS) {
            s->strings = next_string;
            const char *p = s->data;
            for (int64_t i = 0; i < s->count; i++) {
                *next_string++ = p;
                p += strlen(p) + 1;
            }
        }
    }
    return GFUSE_OK;
}

gfuse_status gfuse_i_mfile_read(gfuse_i_mfile **out, const char *path)
{
    return gfuse_i_mfile_read_magic(out, path, GFUSE_I_MFILE_MAGIC, "gfuse model file");
}

gfuse_status gfuse_i_mfile_read_magic(gfuse_i_mfile **out, const char *path, const char *magic,
                                      const char *kind)
{
    if (!out) return gfuse_i_error(GFUSE_ERR_ARG, "out must not be NULL");
    *out = NULL;
    if (!path || !*path) return gfuse_i_error(GFUSE_ERR_ARG, "model file name is empty");
    gfuse_i_mfile *r = gfuse_i_zalloc(1, sizeof *r);
    if (!r) return gfuse_i_nomem("a model file reader");
    gfuse_status st = GFUSE_OK;
    uint64_t name_bytes = 0, n_strings = 0;
    r->path = gfuse_i_strdup(path);
    GFUSE_TRY_MEM(r->path, "a model file name");
    GFUSE_TRY(read_whole_file(r, path));
    GFUSE_TRY(check_header(r, magic, kind));
    GFUSE_TRY(parse_sections(r, &name_bytes, &n_strings));
    GFUSE_TRY(index_sections(r, name_bytes, n_strings));
done:
    if (st != GFUSE_OK) gfuse_i_mfile_free(&r);
    *out = r;
    return st;
}

void gfuse_i_mfile_free(gfuse_i_mfile **rp)
{
    if (!rp || !*rp) return;
    gfuse_i_mfile *r = *rp;
    if (r->index) gfuse_i_idmap_free(r->index);
    free(r->string_ptrs);
    free(r->names);
    free(r->sections);
    free(r->buf);
    free(r->path);
    free(r);
    *rp = NULL;
}

const gfuse_i_mfile_section *gfuse_i_mfile_find(const gfuse_i_mfile *r, const char *name)
{
    if (!r || !name || !r->index) return NULL;
    int64_t k = gfuse_i_idmap_find(r->index, name);
    return k < 0 ? NULL : &r->sections[k];
}

gfuse_status gfuse_i_mfile_error(const gfuse_i_mfile *r, const char *fmt, ...)
{
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return gfuse_i_error(GFUSE_ERR_MODEL, "model file %s: %s", r->path, what);
}

/* The section name of the given type, or a GFUSE_ERR_MODEL failure naming what is wrong. */
static gfuse_status get_typed(const gfuse_i_mfile *r, const char *name, gfuse_i_mfile_type type,
                              const gfuse_i_mfile_section **out)
{
    *out = NULL;
    if (!r || !name) return gfuse_i_error(GFUSE_ERR_ARG, "model file reader and name must be set");
    const gfuse_i_mfile_section *s = gfuse_i_mfile_find(r, name);
    if (!s) return gfuse_i_mfile_error(r, "no section \"%s\"", name);
    if (s->type != type)
        return gfuse_i_mfile_error(r, "section \"%s\" holds %s values, expected %s", name,
                                   gfuse_i_mfile_type_name(s->type), gfuse_i_mfile_type_name(type));
    *out = s;
    return GFUSE_OK;
}

#define DEFINE_GET(fn, ctype, tag)                                                              \
    gfuse_status fn(const gfuse_i_mfile *r, const char *name, const ctype **data, int64_t *n)  \
    {                                                                                           \
        const gfuse_i_mfile_section *s;                                                         \
        gfuse_status st = get_typed(r, name, tag, &s);                                          \
        if (data) *data = s ? (const ctype *)s->data : NULL;                                    \
        if (n) *n = s ? s->count : 0;                                                           \
        return st;                                                                              \
    }

DEFINE_GET(gfuse_i_mfile_get_i32, int32_t, GFUSE_I_MFILE_I32)
DEFINE_GET(gfuse_i_mfile_get_i64, int64_t, GFUSE_I_MFILE_I64)
DEFINE_GET(gfuse_i_mfile_get_f32, float, GFUSE_I_MFILE_F32)
DEFINE_GET(gfuse_i_mfile_get_f64, double, GFUSE_I_MFILE_F64)
DEFINE_GET(gfuse_i_mfile_get_bytes, void, GFUSE_I_MFILE_BYTES)

gfuse_status gfuse_i_mfile_get_strings(const gfuse_i_mfile *r, const char *name,
                                       const char *const **strings, int64_t *n)
{
    const gfuse_i_mfile_section *s;
    gfuse_status st = get_typed(r, name, GFUSE_I_MFILE_STRINGS, &s);
    if (strings) *strings = s ? s->strings : NULL;
    if (n) *n = s ? s->count : 0;
    return st;
}

static gfuse_status check_count(const gfuse_i_mfile *r, const char *name, int64_t got,
                                int64_t expected)
{
    if (got == expected) return GFUSE_OK;
    return gfuse_i_mfile_error(r, "section \"%s\" has %" PRId64 " elements, expected %" PRId64,
                               name, got, expected);
}

/* The typed readers of a section of exactly n elements (*data NULL on failure). */
#define DEFINE_GET_N(fn, get, ctype)                                                               \
    gfuse_status fn(const gfuse_i_mfile *r, const char *name, int64_t n, const ctype **data)      \
    {                                                                                              \
        int64_t got = 0;                                                                           \
        gfuse_status st = get(r, name, data, &got);                                                \
        if (st == GFUSE_OK) st = check_count(r, name, got, n);                                     \
        if (st != GFUSE_OK && data) *data = NULL;                                                  \
        return st;                                                                                 \
    }

DEFINE_GET_N(gfuse_i_mfile_get_f32_n, gfuse_i_mfile_get_f32, float)
DEFINE_GET_N(gfuse_i_mfile_get_i64_n, gfuse_i_mfile_get_i64, int64_t)

/* The value of key in a "key=value" string list, or NULL. */
static const char *find_hparam(const gfuse_i_mfile_section *s, const char *key)
{
    size_t len = strlen(key);
    for (int64_t i = 0; i < s->count; i++)
        if (strncmp(s->strings[i], key, len) == 0 && s->strings[i][len] == '=')
            return s->strings[i] + len + 1;
    return NULL;
}

gfuse_status gfuse_i_mfile_hparam(const gfuse_i_mfile *r, const char *key, const char **value)
{
    *value = NULL;
    const gfuse_i_mfile_section *s;
    gfuse_status st = get_typed(r, GFUSE_I_MFILE_HPARAMS, GFUSE_I_MFILE_STRINGS, &s);
    if (st != GFUSE_OK) return st;
    *value = find_hparam(s, key);
    if (!*value) return gfuse_i_mfile_error(r, "no hyperparameter \"%s\"", key);
    return GFUSE_OK;
}

/* Hyperparameter key as an integer (ival) or a number (dval, when ival is NULL); the whole
 * text must parse, and an error names the key and the text. */
static gfuse_status hparam_parse(const gfuse_i_mfile *r, const char *key, int64_t *ival,
                                 double *dval)
{
    const char *text;
    gfuse_status st = gfuse_i_mfile_hparam(r, key, &text);
    if (st != GFUSE_OK) return st;
    char *end;
    errno = 0;
    long long iv = 0;
    double dv = 0.0;
    int range;
    if (ival) {
        iv = strtoll(text, &end, 10);
        range = errno != 0;
    } else {
        dv = strtod(text, &end);
        range = errno == ERANGE;
    }
    if (range || end == text || *end != '\0')
        return gfuse_i_mfile_error(r, "hyperparameter %s=\"%s\" is not %s", key, text,
                                   ival ? "an integer" : "a number");
    if (ival) *ival = (int64_t)iv;
    else *dval = dv;
    return GFUSE_OK;
}

gfuse_status gfuse_i_mfile_hparam_int(const gfuse_i_mfile *r, const char *key, int64_t *value)
{
    return hparam_parse(r, key, value, NULL);
}

gfuse_status gfuse_i_mfile_hparam_double(const gfuse_i_mfile *r, const char *key, double *value)
{
    return hparam_parse(r, key, NULL, value);
}

/* ---- public inspection API (gfuse.h, "model files") ---------------------------------------- */

gfuse_status gfuse_modelfile_open(gfuse_modelfile **out, const char *path)
{
    GFUSE_CHECK_ARG(out != NULL, "out must not be NULL");
    *out = NULL;
    GFUSE_CHECK_ARG(path != NULL && *path, "path must name a model file");
    return gfuse_i_mfile_read(out, path);
}

void gfuse_modelfile_free(gfuse_modelfile **mf) { gfuse_i_mfile_free(mf); }

uint32_t gfuse_modelfile_format_version(const gfuse_modelfile *mf) { return mf ? mf->version : 0; }

const char *gfuse_modelfile_writer_version(const gfuse_modelfile *mf)
{
    return mf ? mf->writer_version : "";
}

int64_t gfuse_modelfile_size(const gfuse_modelfile *mf) { return mf ? mf->size : 0; }

uint32_t gfuse_modelfile_checksum(const gfuse_modelfile *mf) { return mf ? mf->checksum : 0; }

int64_t gfuse_modelfile_n_sections(const gfuse_modelfile *mf) { return mf ? mf->n_sections : 0; }

static const gfuse_i_mfile_section *section_at(const gfuse_modelfile *mf, int64_t k)
{
    if (!mf || k < 0 || k >= mf->n_sections) return NULL;
    return &mf->sections[k];
}

int64_t gfuse_modelfile_find_section(const gfuse_modelfile *mf, const char *name)
{
    if (!mf || !name) return -1;
    return gfuse_i_idmap_find(mf->index, name);
}

const char *gfuse_modelfile_section_name(const gfuse_modelfile *mf, int64_t k)
{
    const gfuse_i_mfile_section *s = section_at(mf, k);
    return s ? s->name : NULL;
}

const char *gfuse_modelfile_section_type(const gfuse_modelfile *mf, int64_t k)
{
    const gfuse_i_mfile_section *s = section_at(mf, k);
    return s ? gfuse_i_mfile_type_name(s->type) : NULL;
}

int64_t gfuse_modelfile_section_count(const gfuse_modelfile *mf, int64_t k)
{
    const gfuse_i_mfile_section *s = section_at(mf, k);
    return s ? s->count : -1;
}

int64_t gfuse_modelfile_section_bytes(const gfuse_modelfile *mf, int64_t k)
{
    const gfuse_i_mfile_section *s = section_at(mf, k);
    return s ? s->bytes : -1;
}

const char *gfuse_modelfile_section_string(const gfuse_modelfile *mf, int64_t k, int64_t j)
{
    const gfuse_i_mfile_section *s = section_at(mf, k);
    if (!s || s->type != GFUSE_I_MFILE_STRINGS || j < 0 || j >= s->count) return NULL;
    return s->strings[j];
}

const char *gfuse_modelfile_hparam(const gfuse_modelfile *mf, const char *key)
{
    const gfuse_i_mfile_section *s = gfuse_i_mfile_find(mf, GFUSE_I_MFILE_HPARAMS);
    if (!s || !key || s->type != GFUSE_I_MFILE_STRINGS) return NULL;
    return find_hparam(s, key);
}

int64_t gfuse_modelfile_n_parameters(const gfuse_modelfile *mf)
{
    int64_t total = 0;
    size_t len = strlen(GFUSE_I_MFILE_PARAM_PREFIX);
    for (int64_t k = 0; mf && k < mf->n_sections; k++) {
        const gfuse_i_mfile_section *s = &mf->sections[k];
        if (s->type == GFUSE_I_MFILE_F32 && strncmp(s->name, GFUSE_I_MFILE_PARAM_PREFIX, len) == 0)
            total += s->count;
    }
    return total;
}
