/*
 * modelfile.h: the model-file container (README.md, "Model files"): a versioned binary file of
 * named, typed sections closed by a checksum.
 *
 * Layout (all integers in the writer's byte order; the endianness marker tells a reader of the
 * other order to refuse the file):
 *
 *   header, 48 bytes
 *     0  char[8]   magic "GFUSEMDL"
 *     8  uint32    endianness marker 0x01020304
 *    12  uint32    format version (GFUSE_I_MFILE_VERSION)
 *    16  uint64    total file size in bytes, header and checksum included
 *    24  uint32    number of sections
 *    28  uint32    flags, 0
 *    32  char[16]  version of gfuse that wrote the file, NUL-padded
 *   sections, each starting at a multiple of 8 bytes
 *     uint32 type, uint32 name length L, uint64 element count, uint64 payload bytes P,
 *     L bytes of name (no NUL), zero padding to a multiple of 8,
 *     P bytes of payload, zero padding to a multiple of 8
 *   checksum
 *     uint32 CRC-32C (Castagnoli) of every byte before it
 *
 * Payloads: i32/i64/f32/f64 arrays are count native values; a string list is count
 * NUL-terminated strings back to back; raw bytes are count bytes. Payloads are 8-byte aligned
 * in the file and in the reader's buffer, so the reader hands out pointers into it.
 *
 * Reading validates the whole file before anything is used: magic, endianness, version
 * (newer than GFUSE_I_MFILE_VERSION is refused), the size recorded in the header against the
 * file's size ("truncated"), the checksum ("corrupted (checksum mismatch)"), then every section
 * record (never running past the end), string lists NUL-terminated, names unique.
 * Every failure is GFUSE_ERR_MODEL and names the file, except failures to open or read it
 * (GFUSE_ERR_IO) and allocation failures (GFUSE_ERR_NOMEM).
 *
 * Section naming convention (the model code chooses its sections; these are the ones
 * `gfuse info` and other generic readers understand):
 *   "hparams"              strings, "key=value" pairs: every hyperparameter and setting
 *                          ("task=classify", "layers=2", "heads=4", "seed=1", ...)
 *   "modality_names"       strings, one per modality, in model order
 *   "feature_names/<m>"    strings, the features of modality <m> (a modality name)
 *   "class_names"          strings, one per class (classification only)
 *   "stats/mean/<m>", "stats/std/<m>"   f32, standardisation statistics of modality <m>
 *   "reference/ids"        strings, the ids of the stored reference samples for predict
 *   "reference/..."        anything else about the reference samples
 *   "param/<name>"         f32, trainable parameters; the element counts of all "param/"
 *                          sections add up to the model's parameter count
 */
#ifndef GFUSE_MODELFILE_H
#define GFUSE_MODELFILE_H

#include "core/internal.h"
#include "core/util.h"

/* The newest format this gfuse writes and reads. */
#define GFUSE_I_MFILE_VERSION 1u
#define GFUSE_I_MFILE_MAGIC "GFUSEMDL"
#define GFUSE_I_MFILE_ENDIAN 0x01020304u
#define GFUSE_I_MFILE_HEADER_SIZE 48
/* Training checkpoints (model/checkpoint.h) use the same container under their own magic, so
 * that neither is ever read as the other. */
#define GFUSE_I_CKPT_MAGIC "GFUSECKP"

/* Conventional section names (see above). */
#define GFUSE_I_MFILE_HPARAMS "hparams"
#define GFUSE_I_MFILE_MODALITIES "modality_names"
#define GFUSE_I_MFILE_FEATURES_PREFIX "feature_names/"
#define GFUSE_I_MFILE_CLASSES "class_names"
#define GFUSE_I_MFILE_MEAN_PREFIX "stats/mean/"
#define GFUSE_I_MFILE_STD_PREFIX "stats/std/"
#define GFUSE_I_MFILE_REFERENCE_IDS "reference/ids"
#define GFUSE_I_MFILE_PARAM_PREFIX "param/"

typedef enum {
    GFUSE_I_MFILE_I32 = 1,
    GFUSE_I_MFILE_I64 = 2,
    GFUSE_I_MFILE_F32 = 3,
    GFUSE_I_MFILE_F64 = 4,
    GFUSE_I_MFILE_STRINGS = 5,
    GFUSE_I_MFILE_BYTES = 6
} gfuse_i_mfile_type;

/* "i32", "i64", "f32", "f64", "strings", "bytes", or "unknown". */
const char *gfuse_i_mfile_type_name(gfuse_i_mfile_type type);

/* CRC-32C (Castagnoli, reflected, as in iSCSI/ext4): crc = gfuse_i_crc32c(0, buf, n) for one
 * buffer; pass the previous value to continue over several buffers. Uses the SSE4.2 crc32
 * instruction where the CPU has it; gfuse_i_crc32c_reference is the table-driven twin (one
 * byte at a time) that the tests compare it with. */
uint32_t gfuse_i_crc32c(uint32_t crc, const void *buf, size_t n);
uint32_t gfuse_i_crc32c_reference(uint32_t crc, const void *buf, size_t n);

/* ---- writer ------------------------------------------------------------------------------
 *
 * Writes straight from the caller's arrays (no copies) into "<path>.tmp.<pid>"; commit
 * completes the header, appends the checksum and renames the file into place; abort removes
 * the temporary file. The first failure is kept: later calls do nothing and return it, and
 * commit returns it too (after aborting), so a save can be a list of puts and one commit:
 *
 *     gfuse_i_mfile_writer w;
 *     gfuse_status st = gfuse_i_mfile_writer_open(&w, path);
 *     if (st != GFUSE_OK) return st;
 *     gfuse_i_mfile_put_strings(&w, "hparams", kv, n_kv);
 *     gfuse_i_mfile_put_f32(&w, "param/enc0/W", W, d * f);
 *     return gfuse_i_mfile_writer_commit(&w);
 *
 * Section names are 1..1024 bytes, unique within a file (a duplicate is GFUSE_ERR_ARG).
 */
typedef struct {
    gfuse_i_outfile out;
    gfuse_status status;   /* first failure, GFUSE_OK while all is well */
    uint64_t offset;       /* bytes written so far */
    uint32_t n_sections;
    /* the section being streamed (begin_section .. end_section) */
    int in_section;
    uint64_t section_bytes;  /* payload bytes announced */
    uint64_t section_written;/* payload bytes written so far */
    /* names used so far, for the uniqueness check */
    char **names;
    int64_t n_names, cap_names;
    gfuse_i_idmap *name_index;
    char message[512];     /* the message of the first failure */
} gfuse_i_mfile_writer;

/* Creates the temporary file and writes the header. On failure nothing is left behind and w
 * needs no abort (abort is harmless, though). */
gfuse_status gfuse_i_mfile_writer_open(gfuse_i_mfile_writer *w, const char *path);
/* The same with another 8-byte magic than GFUSE_I_MFILE_MAGIC (a checkpoint's). */
gfuse_status gfuse_i_mfile_writer_open_magic(gfuse_i_mfile_writer *w, const char *path,
                                             const char *magic);
gfuse_status gfuse_i_mfile_put_i32(gfuse_i_mfile_writer *w, const char *name, const int32_t *data,
                                   int64_t n);
gfuse_status gfuse_i_mfile_put_i64(gfuse_i_mfile_writer *w, const char *name, const int64_t *data,
                                   int64_t n);
gfuse_status gfuse_i_mfile_put_f32(gfuse_i_mfile_writer *w, const char *name, const float *data,
                                   int64_t n);
gfuse_status gfuse_i_mfile_put_f64(gfuse_i_mfile_writer *w, const char *name, const double *data,
                                   int64_t n);
/* n strings (none NULL). */
gfuse_status gfuse_i_mfile_put_strings(gfuse_i_mfile_writer *w, const char *name,
                                       const char *const *strings, int64_t n);
gfuse_status gfuse_i_mfile_put_bytes(gfuse_i_mfile_writer *w, const char *name, const void *data,
                                     int64_t n);

/* Streaming: one section written in pieces, e.g. all layers' weights as one f32 section.
 * begin_section announces the type and the element count (for STRINGS: the number of strings
 * and payload_bytes their total size with NUL terminators; for the other types payload_bytes is
 * ignored and computed from count); write_data appends payload bytes; end_section checks that
 * exactly the announced number of bytes was written. */
gfuse_status gfuse_i_mfile_begin_section(gfuse_i_mfile_writer *w, const char *name,
                                         gfuse_i_mfile_type type, int64_t count,
                                         int64_t payload_bytes);
gfuse_status gfuse_i_mfile_write_data(gfuse_i_mfile_writer *w, const void *data, size_t bytes);
gfuse_status gfuse_i_mfile_end_section(gfuse_i_mfile_writer *w);

/* Completes the file and renames it into place. Returns the first failure of any earlier call
 * (and aborts) if there was one. w is emptied either way. */
gfuse_status gfuse_i_mfile_writer_commit(gfuse_i_mfile_writer *w);
/* Discards the temporary file. Safe after commit or a failed open. */
void gfuse_i_mfile_writer_abort(gfuse_i_mfile_writer *w);

/* ---- reader ------------------------------------------------------------------------------ */

typedef struct {
    const char *name;         /* NUL-terminated, owned by the reader */
    gfuse_i_mfile_type type;
    int64_t count;            /* elements (strings for STRINGS, bytes for BYTES) */
    int64_t bytes;            /* payload bytes */
    const void *data;         /* payload, 8-byte aligned, inside the reader's buffer */
    const char **strings;     /* STRINGS only: count pointers into the payload */
} gfuse_i_mfile_section;

/* The reader is also the public gfuse_modelfile handle (gfuse.h). */
typedef struct gfuse_modelfile gfuse_i_mfile;
struct gfuse_modelfile {
    char *path;
    unsigned char *buf;       /* the whole file */
    int64_t size;
    uint32_t version;
    char writer_version[17];
    uint32_t checksum;
    int64_t n_sections;
    gfuse_i_mfile_section *sections;
    gfuse_i_idmap *index;     /* name -> section */
    char *names;              /* the section names, NUL-terminated, back to back */
    const char **string_ptrs; /* the string pointers of all STRINGS sections */
};

/* Reads and validates the whole file (see the top of this header). *out stays NULL on failure. */
gfuse_status gfuse_i_mfile_read(gfuse_i_mfile **out, const char *path);
/* The same for a file of another magic; kind names such files in the message that refuses
 * another magic: "PATH is not a <kind> (no <magic> magic)". */
gfuse_status gfuse_i_mfile_read_magic(gfuse_i_mfile **out, const char *path, const char *magic,
                                      const char *kind);
/* Frees the reader and everything it handed out; sets *r to NULL; accepts NULL. */
void gfuse_i_mfile_free(gfuse_i_mfile **r);

/* Typed access. Pointers stay valid until gfuse_i_mfile_free. A missing section, or one of
 * another type, is GFUSE_ERR_MODEL: "model file PATH: no section \"NAME\"" /
 * "model file PATH: section \"NAME\" holds f32 values, expected i64". n may be NULL. */
gfuse_status gfuse_i_mfile_get_i32(const gfuse_i_mfile *r, const char *name, const int32_t **data,
                                   int64_t *n);
gfuse_status gfuse_i_mfile_get_i64(const gfuse_i_mfile *r, const char *name, const int64_t **data,
                                   int64_t *n);
gfuse_status gfuse_i_mfile_get_f32(const gfuse_i_mfile *r, const char *name, const float **data,
                                   int64_t *n);
gfuse_status gfuse_i_mfile_get_f64(const gfuse_i_mfile *r, const char *name, const double **data,
                                   int64_t *n);
gfuse_status gfuse_i_mfile_get_strings(const gfuse_i_mfile *r, const char *name,
                                       const char *const **strings, int64_t *n);
gfuse_status gfuse_i_mfile_get_bytes(const gfuse_i_mfile *r, const char *name, const void **data,
                                     int64_t *n);

/* The same, and the section must hold exactly n elements; otherwise GFUSE_ERR_MODEL
 * "model file PATH: section \"NAME\" has 12 elements, expected 16". */
gfuse_status gfuse_i_mfile_get_f32_n(const gfuse_i_mfile *r, const char *name, int64_t n,
                                     const float **data);
gfuse_status gfuse_i_mfile_get_i64_n(const gfuse_i_mfile *r, const char *name, int64_t n,
                                     const int64_t **data);

/* The section named name, or NULL (no error set). */
const gfuse_i_mfile_section *gfuse_i_mfile_find(const gfuse_i_mfile *r, const char *name);
/* Sections in file order: r->sections[0 .. r->n_sections). */

/* Hyperparameters: the value of key in the "hparams" section. Missing key or section, or a
 * value that does not parse, is GFUSE_ERR_MODEL naming the file and the key. */
gfuse_status gfuse_i_mfile_hparam(const gfuse_i_mfile *r, const char *key, const char **value);
gfuse_status gfuse_i_mfile_hparam_int(const gfuse_i_mfile *r, const char *key, int64_t *value);
gfuse_status gfuse_i_mfile_hparam_double(const gfuse_i_mfile *r, const char *key, double *value);

/* Records a model-file error "model file PATH: <message>" and returns GFUSE_ERR_MODEL, for
 * inconsistencies the model code finds between sections. */
gfuse_status gfuse_i_mfile_error(const gfuse_i_mfile *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
