/* cmd_info.c: `gfuse info`, what a model file holds: container format and checksum, the gfuse
 * version that wrote it, task, modalities with their feature counts, classes,
 * hyperparameters, stored reference samples, parameter count and (with --sections) every
 * section. Reading the file validates it, so a damaged model is reported here first. */
#include "cli.h"

#include "model/options.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Conventional section names of a gfuse model file (src/model/modelfile.h). */
#define SECTION_HPARAMS "hparams"
#define SECTION_MODALITIES "modality_names"
#define SECTION_FEATURES_PREFIX "feature_names/"
#define SECTION_MEAN_PREFIX "stats/mean/"
#define SECTION_CLASSES "class_names"
#define SECTION_REFERENCE_IDS "reference/ids"

/* The element count of section name, or -1 when the file has none. */
static int64_t count_of(const gfuse_modelfile *mf, const char *name)
{
    int64_t k = gfuse_modelfile_find_section(mf, name);
    return k < 0 ? -1 : gfuse_modelfile_section_count(mf, k);
}

/* The number of features of modality name: its feature-name list, else its statistics; -1
 * when the file records neither. */
static int64_t n_features(const gfuse_modelfile *mf, const char *modality)
{
    char section[1100];
    snprintf(section, sizeof section, "%s%s", SECTION_FEATURES_PREFIX, modality);
    int64_t d = count_of(mf, section);
    if (d >= 0) return d;
    snprintf(section, sizeof section, "%s%s", SECTION_MEAN_PREFIX, modality);
    return count_of(mf, section);
}

/* A string list section: its index (or -1) and its length (0 when absent). */
static int64_t string_list(const gfuse_modelfile *mf, const char *name, int64_t *n)
{
    int64_t k = gfuse_modelfile_find_section(mf, name);
    *n = 0;
    if (k < 0 || strcmp(gfuse_modelfile_section_type(mf, k), "strings") != 0) return -1;
    *n = gfuse_modelfile_section_count(mf, k);
    return k;
}

/* Splits "key=value" at the first '=' for printing; a string without '=' is all key. */
static void split_pair(const char *kv, char *key, size_t key_size, const char **value)
{
    const char *eq = strchr(kv, '=');
    size_t len = eq ? (size_t)(eq - kv) : strlen(kv);
    if (len >= key_size) len = key_size - 1;
    memcpy(key, kv, len);
    key[len] = '\0';
    *value = eq ? eq + 1 : "";
}

/* A hyperparameter's value as info shows it: the numbers with a fraction or an exponent (a
 * model file writes 17 digits) in the shortest form that reads back as the same double, the
 * form --help shows defaults in; also within a comma list ("1,0.5"). Any other value (text,
 * integers) as stored. Returns value or buf. */
static const char *shown_value(const char *value, char *buf, size_t size)
{
    size_t len = 0;
    for (const char *q = value;;) {
        const char *comma = strchr(q, ',');
        size_t n = comma ? (size_t)(comma - q) : strlen(q);
        char token[64], *end = NULL;
        if (n == 0 || n >= sizeof token) return value;
        memcpy(token, q, n);
        token[n] = '\0';
        double v = strtod(token, &end);
        if (*end != '\0' || !isfinite(v)) return value;
        if (strpbrk(token, ".eE")) gfuse_format_double(token, sizeof token, v);
        int w = snprintf(buf + len, size - len, "%s%s", len ? "," : "", token);
        if (w < 0 || (size_t)w >= size - len) return value;
        len += (size_t)w;
        if (!comma) return buf;
        q = comma + 1;
    }
}

static void print_text(FILE *f, const gfuse_modelfile *mf, const char *path, int sections,
                       const char *problem)
{
    const char *task = gfuse_modelfile_hparam(mf, "task");
    fprintf(f, "model file: %s\n", path);
    fprintf(f, "format version: %u (written by gfuse %s)\n",
            (unsigned)gfuse_modelfile_format_version(mf), gfuse_modelfile_writer_version(mf));
    fprintf(f, "size: %lld bytes, CRC-32C 0x%08x (%s)\n", (long long)gfuse_modelfile_size(mf),
            (unsigned)gfuse_modelfile_checksum(mf),
            problem ? "checksum matches, but the file is not a usable model" : "checksum OK");
    if (problem) fprintf(f, "problem: %s\n", problem);
    fprintf(f, "task: %s\n", task ? task : "not recorded");

    int64_t n_mod, km = string_list(mf, SECTION_MODALITIES, &n_mod);
    fprintf(f, "\nmodalities: %lld\n", (long long)n_mod);
    int w = 8;
    for (int64_t m = 0; m < n_mod; m++) {
        int len = (int)strlen(gfuse_modelfile_section_string(mf, km, m));
        if (len > w) w = len;
    }
    if (n_mod > 0) fprintf(f, "  %-*s  %8s\n", w, "name", "features");
    for (int64_t m = 0; m < n_mod; m++) {
        const char *name = gfuse_modelfile_section_string(mf, km, m);
        int64_t d = n_features(mf, name);
        if (d >= 0)
            fprintf(f, "  %-*s  %8lld\n", w, name, (long long)d);
        else
            fprintf(f, "  %-*s  %8s\n", w, name, "?");
    }

    int64_t n_cls, kc = string_list(mf, SECTION_CLASSES, &n_cls);
    if (kc >= 0) {
        fprintf(f, "\nclasses: %lld:", (long long)n_cls);
        for (int64_t c = 0; c < n_cls; c++)
            fprintf(f, "%s %s", c ? "," : "", gfuse_modelfile_section_string(mf, kc, c));
        fputc('\n', f);
    }

    int64_t n_hp, kh = string_list(mf, SECTION_HPARAMS, &n_hp);
    fprintf(f, "\nhyperparameters: %lld\n", (long long)n_hp);
    int kw = 0;
    char key[256], shown[1024];
    const char *value;
    for (int64_t i = 0; i < n_hp; i++) {
        split_pair(gfuse_modelfile_section_string(mf, kh, i), key, sizeof key, &value);
        if ((int)strlen(key) > kw) kw = (int)strlen(key);
    }
    for (int64_t i = 0; i < n_hp; i++) {
        split_pair(gfuse_modelfile_section_string(mf, kh, i), key, sizeof key, &value);
        fprintf(f, "  %-*s  %s\n", kw, key, shown_value(value, shown, sizeof shown));
    }

    int64_t n_ref = count_of(mf, SECTION_REFERENCE_IDS);
    fprintf(f, "\nreference samples: %lld\n", (long long)(n_ref < 0 ? 0 : n_ref));
    fprintf(f, "parameters: %lld\n", (long long)gfuse_modelfile_n_parameters(mf));
    int64_t n_sec = gfuse_modelfile_n_sections(mf);
    fprintf(f, "sections: %lld%s\n", (long long)n_sec, sections ? "" : " (list them with --sections)");
    if (!sections) return;
    int sw = 4;
    for (int64_t k = 0; k < n_sec; k++) {
        int len = (int)strlen(gfuse_modelfile_section_name(mf, k));
        if (len > sw) sw = len;
    }
    fprintf(f, "  %-*s  %-7s  %12s  %12s\n", sw, "name", "type", "elements", "bytes");
    for (int64_t k = 0; k < n_sec; k++)
        fprintf(f, "  %-*s  %-7s  %12lld  %12lld\n", sw, gfuse_modelfile_section_name(mf, k),
                gfuse_modelfile_section_type(mf, k), (long long)gfuse_modelfile_section_count(mf, k),
                (long long)gfuse_modelfile_section_bytes(mf, k));
}

static void print_json(FILE *f, const gfuse_modelfile *mf, const char *path, const char *problem)
{
    cli_json j;
    cli_json_init(&j, f);
    cli_json_begin_object(&j);
    cli_json_key(&j, "file");
    cli_json_string(&j, path);
    cli_json_key(&j, "format_version");
    cli_json_int(&j, gfuse_modelfile_format_version(mf));
    cli_json_key(&j, "gfuse_version");
    cli_json_string(&j, gfuse_modelfile_writer_version(mf));
    cli_json_key(&j, "size");
    cli_json_int(&j, gfuse_modelfile_size(mf));
    char crc[16];
    snprintf(crc, sizeof crc, "0x%08x", (unsigned)gfuse_modelfile_checksum(mf));
    cli_json_key(&j, "checksum");
    cli_json_string(&j, crc);
    cli_json_key(&j, "checksum_ok");
    cli_json_bool(&j, 1);
    if (problem) { /* only then: the JSON of a usable model stays as it was */
        cli_json_key(&j, "valid");
        cli_json_bool(&j, 0);
        cli_json_key(&j, "problem");
        cli_json_string(&j, problem);
    }
    const char *task = gfuse_modelfile_hparam(mf, "task");
    cli_json_key(&j, "task");
    if (task)
        cli_json_string(&j, task);
    else
        cli_json_null(&j);

    int64_t n_mod, km = string_list(mf, SECTION_MODALITIES, &n_mod);
    cli_json_key(&j, "modalities");
    cli_json_begin_array(&j);
    for (int64_t m = 0; m < n_mod; m++) {
        const char *name = gfuse_modelfile_section_string(mf, km, m);
        int64_t d = n_features(mf, name);
        cli_json_begin_object(&j);
        cli_json_key(&j, "name");
        cli_json_string(&j, name);
        cli_json_key(&j, "features");
        if (d >= 0)
            cli_json_int(&j, d);
        else
            cli_json_null(&j);
        cli_json_end_object(&j);
    }
    cli_json_end_array(&j);

    int64_t n_cls, kc = string_list(mf, SECTION_CLASSES, &n_cls);
    cli_json_key(&j, "classes");
    cli_json_begin_array(&j);
    for (int64_t c = 0; c < n_cls; c++) cli_json_string(&j, gfuse_modelfile_section_string(mf, kc, c));
    cli_json_end_array(&j);

    int64_t n_hp, kh = string_list(mf, SECTION_HPARAMS, &n_hp);
    cli_json_key(&j, "hyperparameters");
    cli_json_begin_object(&j);
    char key[256], shown[1024];
    const char *value;
    for (int64_t i = 0; i < n_hp; i++) {
        split_pair(gfuse_modelfile_section_string(mf, kh, i), key, sizeof key, &value);
        cli_json_key(&j, key);
        cli_json_string(&j, shown_value(value, shown, sizeof shown));
    }
    cli_json_end_object(&j);

    int64_t n_ref = count_of(mf, SECTION_REFERENCE_IDS);
    cli_json_key(&j, "reference_samples");
    cli_json_int(&j, n_ref < 0 ? 0 : n_ref);
    cli_json_key(&j, "parameters");
    cli_json_int(&j, gfuse_modelfile_n_parameters(mf));
    cli_json_key(&j, "sections");
    cli_json_begin_array(&j);
    for (int64_t k = 0; k < gfuse_modelfile_n_sections(mf); k++) {
        cli_json_begin_object(&j);
        cli_json_key(&j, "name");
        cli_json_string(&j, gfuse_modelfile_section_name(mf, k));
        cli_json_key(&j, "type");
        cli_json_string(&j, gfuse_modelfile_section_type(mf, k));
        cli_json_key(&j, "elements");
        cli_json_int(&j, gfuse_modelfile_section_count(mf, k));
        cli_json_key(&j, "bytes");
        cli_json_int(&j, gfuse_modelfile_section_bytes(mf, k));
        cli_json_end_object(&j);
    }
    cli_json_end_array(&j);
    cli_json_end_object(&j);
    cli_json_finish(&j);
}

int cmd_info(int argc, char **argv)
{
    const char *model = NULL;
    int json = 0, sections = 0;
    cli_option opts[] = {
        {.name = "model", .kind = CLI_STRING, .dest = &model, .metavar = "FILE",
         .help = "the model file to describe (required)"},
        {.name = "json", .kind = CLI_FLAG, .dest = &json, .help = "print JSON"},
        {.name = "sections", .kind = CLI_FLAG, .dest = &sections,
         .help = "list every section of the file (always in the JSON)"},
        CLI_END};
    cli_spec spec = {
        .name = "info",
        .synopsis = "--model FILE [--json] [--sections]",
        .description = "What a model file holds: format version, the gfuse version that wrote it,\n"
                       "task, modalities with their feature counts, classes, hyperparameters,\n"
                       "stored reference samples and parameter count. The whole file is read and\n"
                       "its checksum verified, then its values (finite weights, positive standard\n"
                       "deviations, unique names): a truncated, corrupted, newer-version or invalid\n"
                       "file is an error (exit code 3).",
        .options = opts};
    int rc;
    if (!cli_parse_command(&spec, argc, argv, &rc)) return rc;
    if (!model) return cli_usage_error("info", "--model FILE is required");

    gfuse_modelfile *mf = NULL;
    gfuse_status st = gfuse_modelfile_open(&mf, model);
    if (st != GFUSE_OK) return cli_fail("info", st);
    /* A matching checksum is not enough: the sections must make a model whose values are
     * valid (as predict loads it). What the file holds is still shown, with the problem; the
     * exit code is then that of the failed load (3). */
    gfuse_model *loaded = NULL;
    gfuse_status valid = gfuse_model_load(&loaded, model);
    gfuse_model_free(&loaded);
    char problem[1024] = "";
    if (valid != GFUSE_OK) snprintf(problem, sizeof problem, "%s", gfuse_last_error());
    const char *shown = valid != GFUSE_OK ? problem : NULL;
    if (json)
        print_json(stdout, mf, model, shown);
    else
        print_text(stdout, mf, model, sections, shown);
    gfuse_modelfile_free(&mf);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("info", "cannot write to standard output");
        return CLI_EXIT_FAILURE;
    }
    if (valid != GFUSE_OK) {
        cli_error("info", "%s", problem);
        return cli_exit_code(valid);
    }
    return CLI_EXIT_OK;
}
