/*
 * cohort_load.c: reading a cohort from a folder or explicit files (README.md, "Data format").
 *
 * Order of work: find the modality files, read each into an exactly sized float matrix, take
 * the union of their ids as the samples, then read labels, split and mask. Everything is built
 * in a private cohort that is handed out only when all of it succeeded.
 */
#include "cohort/cohort.h"
#include "core/csv.h"
#include "core/utf8.h"
#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* A modality with more features than this many times the samples draws a warning. */
#define WIDE_FEATURES_PER_SAMPLE 100

/* ---- finding the files -------------------------------------------------------------------- */

typedef struct {
    char *name; /* modality name */
    char *path; /* file to read */
} source;

static void free_sources(source *s, int n)
{
    for (int k = 0; s && k < n; k++) {
        free(s[k].name);
        free(s[k].path);
    }
    free(s);
}

static int is_regular_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* The modality a folder entry names, as a malloc-ed stem, or NULL (*nomem set on failure) when
 * the entry is not a modality file: hidden files, labels.*, split.*, mask*, and anything that
 * is not .csv or .tsv. */
static char *modality_stem(const char *entry, int *nomem)
{
    *nomem = 0;
    const char *dot = strrchr(entry, '.');
    if (entry[0] == '.' || !dot || dot == entry) return NULL;
    if (strcasecmp(dot, ".csv") != 0 && strcasecmp(dot, ".tsv") != 0) return NULL;
    size_t n = (size_t)(dot - entry);
    if ((n == 6 && strncasecmp(entry, "labels", 6) == 0) ||
        (n == 5 && strncasecmp(entry, "split", 5) == 0) || strncasecmp(entry, "mask", 4) == 0)
        return NULL;
    char *stem = gfuse_i_alloc(n + 1, 1);
    if (!stem) {
        *nomem = 1;
        return NULL;
    }
    memcpy(stem, entry, n);
    stem[n] = '\0';
    return stem;
}

static gfuse_status add_source(source **list, int *n, char *name, char *path)
{
    source *grown = gfuse_i_realloc(*list, *n + 1, sizeof *grown);
    if (!grown) {
        free(name);
        free(path);
        return gfuse_i_nomem("the list of modality files");
    }
    *list = grown;
    grown[*n].name = name;
    grown[*n].path = path;
    (*n)++;
    return GFUSE_OK;
}

static gfuse_status scan_folder(const char *dir, source **list, int *n)
{
    gfuse_status st = GFUSE_OK;
    DIR *d = opendir(dir);
    if (!d) return gfuse_i_error(GFUSE_ERR_IO, "%s: cannot open the cohort folder: %s", dir,
                                 strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int nomem;
        char *stem = modality_stem(e->d_name, &nomem);
        char *path = stem ? gfuse_i_path_join(dir, e->d_name) : NULL;
        if (nomem || (stem && !path)) {
            free(stem);
            st = gfuse_i_nomem("the list of modality files");
            break;
        }
        if (!stem) continue;
        if (!is_regular_file(path)) {
            free(stem);
            free(path);
            continue;
        }
        if (!gfuse_i_utf8_valid(stem)) {
            st = gfuse_i_error(GFUSE_ERR_DATA, "%s: the file name is not valid UTF-8, so it "
                               "cannot name a modality (rename the file or name it with "
                               "--modality)", path);
            free(stem);
            free(path);
            break;
        }
        for (int k = 0; k < *n; k++) {
            if (strcmp((*list)[k].name, stem) == 0) {
                st = gfuse_i_error(GFUSE_ERR_DATA, "%s: %s and %s would both be modality \"%s\"; "
                                   "rename one or name the file with --modality", dir,
                                   (*list)[k].path, path, stem);
                break;
            }
        }
        if (st != GFUSE_OK) {
            free(stem);
            free(path);
            break;
        }
        st = add_source(list, n, stem, path);
        if (st != GFUSE_OK) break;
    }
    closedir(d);
    return st;
}

static int compare_sources(const void *a, const void *b)
{
    return strcmp(((const source *)a)->name, ((const source *)b)->name);
}

static gfuse_status check_options(const gfuse_cohort_options *o)
{
    GFUSE_CHECK_ARG(o->task >= GFUSE_TASK_AUTO && o->task <= GFUSE_TASK_REGRESS,
                    "task must be a gfuse_task value, got %d", (int)o->task);
    GFUSE_CHECK_ARG(o->n_modality_files >= 0, "n_modality_files must be at least 0, got %d",
                    o->n_modality_files);
    GFUSE_CHECK_ARG(o->dir || o->n_modality_files > 0,
                    "give a cohort folder (dir) or at least one modality file");
    GFUSE_CHECK_ARG(o->n_modality_files == 0 || (o->modality_names && o->modality_files),
                    "modality_names and modality_files must not be NULL when n_modality_files "
                    "is %d", o->n_modality_files);
    for (int k = 0; k < o->n_modality_files; k++) {
        const char *name = o->modality_names[k];
        GFUSE_CHECK_ARG(name && name[0], "modality name %d must be a non-empty string", k + 1);
        GFUSE_CHECK_ARG(gfuse_i_utf8_valid(name), "modality name %d is not valid UTF-8", k + 1);
        GFUSE_CHECK_ARG(o->modality_files[k] && o->modality_files[k][0],
                        "the file of modality \"%s\" must be a non-empty path", name);
        for (int q = 0; q < k; q++)
            GFUSE_CHECK_ARG(strcmp(o->modality_names[q], name) != 0,
                            "modality \"%s\" is given twice", name);
    }
    return GFUSE_OK;
}

/* The modality files to read, sorted by name: the folder's, with explicit files added or
 * replacing folder files of the same name. */
static gfuse_status list_sources(const gfuse_cohort_options *o, source **list, int *n)
{
    gfuse_status st = GFUSE_OK;
    *list = NULL;
    *n = 0;
    if (o->dir) st = scan_folder(o->dir, list, n);
    for (int k = 0; st == GFUSE_OK && k < o->n_modality_files; k++) {
        char *path = gfuse_i_strdup(o->modality_files[k]);
        if (!path) {
            st = gfuse_i_nomem("the list of modality files");
            break;
        }
        int found = 0;
        for (int q = 0; q < *n && !found; q++) {
            if (strcmp((*list)[q].name, o->modality_names[k]) != 0) continue;
            free((*list)[q].path);
            (*list)[q].path = path;
            found = 1;
        }
        if (found) continue;
        char *name = gfuse_i_strdup(o->modality_names[k]);
        if (!name) {
            free(path);
            st = gfuse_i_nomem("the list of modality files");
            break;
        }
        st = add_source(list, n, name, path);
    }
    if (st == GFUSE_OK && *n == 0)
        st = gfuse_i_error(GFUSE_ERR_DATA, "%s: no modality files (*.csv or *.tsv other than "
                           "labels, split and mask files)", o->dir);
    if (st != GFUSE_OK) {
        free_sources(*list, *n);
        *list = NULL;
        *n = 0;
        return st;
    }
    qsort(*list, (size_t)*n, sizeof **list, compare_sources);
    return GFUSE_OK;
}

/* labels.csv or labels.tsv in dir (or split.*), malloc-ed, or NULL with *st unchanged when
 * there is none. */
static char *default_file(const char *dir, const char *stem, gfuse_status *st)
{
    static const char *const ext[] = {".csv", ".tsv"};
    for (int k = 0; k < 2; k++) {
        char *name = gfuse_i_asprintf("%s%s", stem, ext[k]);
        char *path = name ? gfuse_i_path_join(dir, name) : NULL;
        free(name);
        if (!path) {
            *st = gfuse_i_nomem("a file name");
            return NULL;
        }
        if (is_regular_file(path)) return path;
        free(path);
    }
    return NULL;
}

/* ---- samples: the union of the modality files' ids ----------------------------------------- */

/* Builds the cohort from the matrices read (which give up their values and strings). Samples
 * are the ids with at least one row that has a value, in order of first appearance. */
static gfuse_status assemble(gfuse_cohort **out, const source *src, gfuse_i_matrix *mat, int M)
{
    gfuse_status st = GFUSE_OK;
    gfuse_cohort *c = NULL;
    gfuse_i_idmap *index = NULL, *excluded = NULL;
    uint8_t **empty = gfuse_i_zalloc(M, sizeof *empty);
    char **ids = NULL;
    int64_t total = 0, n = 0;
    gfuse_i_idlist dropped = {0};
    *out = NULL;
    if (!empty) return gfuse_i_nomem("the sample list");
    for (int m = 0; m < M; m++) total += mat[m].n_rows;
    index = gfuse_i_idmap_new(total);
    excluded = gfuse_i_idmap_new(16);
    ids = gfuse_i_alloc(total, sizeof *ids);
    if (!index || !excluded || !ids) {
        st = gfuse_i_nomem("the sample list");
        goto done;
    }
    for (int m = 0; m < M; m++) {
        empty[m] = gfuse_i_alloc(mat[m].n_rows, 1);
        if (!empty[m]) {
            st = gfuse_i_nomem("the sample list");
            goto done;
        }
        for (int64_t r = 0; r < mat[m].n_rows; r++) {
            empty[m][r] = (uint8_t)gfuse_i_row_all_missing(mat[m].x + r * mat[m].d, mat[m].d);
            if (empty[m][r]) continue;
            int ins = gfuse_i_idmap_insert(index, mat[m].row_id[r], n, NULL);
            if (ins < 0) {
                st = gfuse_i_nomem("the sample list");
                goto done;
            }
            if (ins == 1) ids[n++] = mat[m].row_id[r];
        }
    }
    for (int m = 0; m < M; m++) {
        for (int64_t r = 0; r < mat[m].n_rows; r++) {
            const char *id = mat[m].row_id[r];
            if (!empty[m][r] || gfuse_i_idmap_find(index, id) >= 0) continue;
            int ins = gfuse_i_idmap_insert(excluded, id, 0, NULL);
            if (ins < 0) {
                st = gfuse_i_nomem("the sample list");
                goto done;
            }
            if (ins == 1) gfuse_i_idlist_add(&dropped, id);
        }
    }
    if (n == 0) {
        st = gfuse_i_error(GFUSE_ERR_DATA, "%s%s: the cohort has no samples: no modality file "
                           "has a row with a value", src[0].path, M > 1 ? " and the others" : "");
        goto done;
    }

    st = gfuse_i_cohort_alloc(&c, n);
    if (st != GFUSE_OK) goto done;
    memcpy(c->id, ids, (size_t)n * sizeof *ids);
    c->index = index;
    index = NULL;
    for (int m = 0; m < M; m++) {
        int slot;
        st = gfuse_i_cohort_add_slot(c, &slot);
        if (st != GFUSE_OK) goto done;
        gfuse_i_modality *mod = &c->mod[slot];
        mod->name = gfuse_i_strdup(src[m].name);
        mod->file = gfuse_i_strdup(src[m].path);
        mod->row = gfuse_i_alloc(n, sizeof *mod->row);
        mod->present = gfuse_i_zalloc(n, 1);
        if (!mod->name || !mod->file || !mod->row || !mod->present) {
            st = gfuse_i_nomem("a modality");
            goto done;
        }
        mod->d = mat[m].d;
        mod->n_rows = mat[m].n_rows;
        mod->feature = mat[m].feature;
        mod->x = mat[m].x;
        mat[m].feature = NULL;
        mat[m].x = NULL;
        for (int64_t i = 0; i < n; i++) mod->row[i] = -1;
        for (int64_t r = 0; r < mat[m].n_rows; r++) {
            int64_t i = gfuse_i_idmap_find(c->index, mat[m].row_id[r]);
            if (i < 0) continue;
            mod->row[i] = r;
            mod->present[i] = !empty[m][r];
        }
        gfuse_i_modality_recount(c, mod);
        gfuse_i_strpool_absorb(c->strings, mat[m].pool);
        mat[m].pool = NULL;
    }
    st = gfuse_i_cohort_warn_ids(c, &dropped, "samples with no value in any modality file are "
                                 "excluded");
    for (int m = 0; m < M && st == GFUSE_OK; m++)
        if (c->mod[m].d > WIDE_FEATURES_PER_SAMPLE * (n > 0 ? n : 1))
            st = gfuse_i_cohort_warn(c, "%s: %lld features for %lld samples (more than %d per "
                                     "sample): a model this wide overfits, and training needs "
                                     "memory in proportion to the features",
                                     c->mod[m].file, (long long)c->mod[m].d, (long long)n,
                                     WIDE_FEATURES_PER_SAMPLE);
done:
    for (int m = 0; m < M; m++) free(empty[m]);
    free(empty);
    free(ids);
    gfuse_i_idmap_free(index);
    gfuse_i_idmap_free(excluded);
    if (st != GFUSE_OK) gfuse_cohort_free(&c);
    *out = c;
    return st;
}

/* ---- header checks ----------------------------------------------------------------------------- */

/* Warns about a header that does not look like one: a first name that is a sample id (the file
 * has no header line, and its first row was taken for one), or a first column not named "id"
 * (any case). */
static gfuse_status warn_header(gfuse_cohort *c, const char *path, const char *first,
                                const char *second, const char *expected)
{
    if (gfuse_i_idmap_find(c->index, first) >= 0)
        return gfuse_i_cohort_warn(c, "%s: the first line (\"%.60s,%.60s\") looks like data, not "
                                   "a header: \"%.60s\" is a sample id; it was read as the header "
                                   "(start the file with the line %s)",
                                   path, first, second, first, expected);
    if (strcasecmp(first, "id") != 0)
        return gfuse_i_cohort_warn(c, "%s: the first column is named \"%.60s\", not \"id\"; it "
                                   "is read as the sample ids", path, first);
    return GFUSE_OK;
}

/* ---- labels ---------------------------------------------------------------------------------- */

/* A class name with its value, for sorting: numerically when every name is a number, else
 * byte-wise. */
typedef struct {
    const char *name;
    double value;
    int numeric; /* the same for all entries of one sort */
} class_key;

static int compare_class_keys(const void *a, const void *b)
{
    const class_key *x = a, *y = b;
    if (x->numeric && x->value != y->value) return x->value < y->value ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* The sample of each labels row, -1 for ids the cohort does not have (collected in unknown). */
static gfuse_status label_rows(const gfuse_cohort *c, const gfuse_i_table *t, int64_t **sample,
                               gfuse_i_idlist *unknown)
{
    *sample = gfuse_i_alloc(t->n_rows, sizeof **sample);
    if (!*sample) return gfuse_i_nomem("labels");
    for (int64_t r = 0; r < t->n_rows; r++) {
        const char *id = t->cell[r * t->n_cols];
        (*sample)[r] = gfuse_i_idmap_find(c->index, id);
        if ((*sample)[r] < 0) gfuse_i_idlist_add(unknown, id);
    }
    return GFUSE_OK;
}

static gfuse_status read_targets(gfuse_cohort *c, const char *path, const gfuse_i_table *t,
                                 const int64_t *sample)
{
    for (int64_t r = 0; r < t->n_rows; r++) {
        const char *v = t->cell[r * 2 + 1];
        double y;
        gfuse_i_num k = gfuse_i_parse_double(v, strlen(v), &y);
        if (k == GFUSE_I_NUM_BAD)
            return gfuse_i_error_at(GFUSE_ERR_DATA, path, t->line[r], 2,
                                    "label \"%.60s\" is not a number (regression labels must be "
                                    "numbers)", v);
        if (k == GFUSE_I_NUM_INF)
            return gfuse_i_error_at(GFUSE_ERR_DATA, path, t->line[r], 2,
                                    "infinite label \"%.60s\"", v);
        if (sample[r] >= 0) c->target[sample[r]] = y;
    }
    c->task = GFUSE_TASK_REGRESS;
    return GFUSE_OK;
}

static gfuse_status read_classes(gfuse_cohort *c, const gfuse_i_table *t, const int64_t *sample,
                                 gfuse_task task)
{
    gfuse_status st = GFUSE_OK;
    gfuse_i_idmap *classes = gfuse_i_idmap_new(16);
    class_key *keys = gfuse_i_alloc(t->n_rows, sizeof *keys);
    int64_t k = 0;
    int all_numbers = 1;
    if (!classes || !keys) {
        st = gfuse_i_nomem("class names");
        goto done;
    }
    for (int64_t r = 0; r < t->n_rows; r++) {
        char *v = t->cell[r * 2 + 1];
        if (sample[r] < 0 || gfuse_i_is_missing(v, strlen(v))) continue;
        int ins = gfuse_i_idmap_insert(classes, v, k, NULL);
        if (ins < 0) {
            st = gfuse_i_nomem("class names");
            goto done;
        }
        if (ins == 0) continue;
        keys[k].name = v;
        if (gfuse_i_parse_double(v, strlen(v), &keys[k].value) != GFUSE_I_NUM_OK) all_numbers = 0;
        k++;
    }
    if (k > INT32_MAX / 2) {
        st = gfuse_i_error(GFUSE_ERR_DATA, "too many classes (%lld)", (long long)k);
        goto done;
    }
    for (int64_t q = 0; q < k; q++) keys[q].numeric = all_numbers;
    qsort(keys, (size_t)k, sizeof *keys, compare_class_keys);
    gfuse_i_idmap_free(classes);
    classes = gfuse_i_idmap_new(k);
    c->class_name = gfuse_i_zalloc(k, sizeof *c->class_name);
    if (!classes || !c->class_name) {
        st = gfuse_i_nomem("class names");
        goto done;
    }
    for (int64_t q = 0; q < k; q++) {
        c->class_name[q] = gfuse_i_strdup(keys[q].name);
        if (!c->class_name[q] || gfuse_i_idmap_insert(classes, c->class_name[q], q, NULL) < 0) {
            st = gfuse_i_nomem("class names");
            goto done;
        }
        c->n_classes = (int)q + 1;
    }
    for (int64_t r = 0; r < t->n_rows; r++) {
        if (sample[r] < 0) continue;
        const char *v = t->cell[r * 2 + 1];
        c->label[sample[r]] = (int32_t)gfuse_i_idmap_find(classes, v);
    }
    if (k > 0 || task == GFUSE_TASK_CLASSIFY) c->task = GFUSE_TASK_CLASSIFY;
done:
    gfuse_i_idmap_free(classes);
    free(keys);
    return st;
}

gfuse_status gfuse_i_cohort_read_labels(gfuse_cohort *c, const char *path, gfuse_task task)
{
    gfuse_i_table t;
    int64_t *sample = NULL;
    gfuse_i_idlist unknown = {0};
    gfuse_status st = gfuse_i_read_table(path, 2, "id,label", &t);
    if (st != GFUSE_OK) return st;
    GFUSE_TRY(warn_header(c, path, t.header[0], t.header[1], "id,label"));
    st = label_rows(c, &t, &sample, &unknown);
    if (st != GFUSE_OK) goto done;
    if (task == GFUSE_TASK_REGRESS) st = read_targets(c, path, &t, sample);
    else st = read_classes(c, &t, sample, task);
    if (st != GFUSE_OK) goto done;
    {
        char head[512];
        snprintf(head, sizeof head, "%.400s: labels of ids that are not samples of the cohort "
                 "are ignored", path);
        st = gfuse_i_cohort_warn_ids(c, &unknown, head);
    }
    if (st == GFUSE_OK && c->task == GFUSE_TASK_CLASSIFY && c->n_classes < 2)
        st = gfuse_i_cohort_warn(c, "%s: the labels name %d class%s", path, c->n_classes,
                                 c->n_classes == 1 ? "" : "es");
done:
    free(sample);
    gfuse_i_table_free(&t);
    return st;
}

/* ---- split ------------------------------------------------------------------------------------ */

gfuse_status gfuse_i_cohort_read_split(gfuse_cohort *c, const char *path)
{
    static const char *const names[] = {"train", "val", "test"};
    gfuse_i_table t;
    gfuse_i_idlist unknown = {0}, absent = {0};
    char head[512];
    uint8_t *named = NULL;
    gfuse_status st = gfuse_i_read_table(path, 2, "id,split", &t);
    if (st != GFUSE_OK) return st;
    GFUSE_TRY(warn_header(c, path, t.header[0], t.header[1], "id,split"));
    named = gfuse_i_zalloc(c->n, 1);
    if (!named) {
        st = gfuse_i_nomem("the split");
        goto done;
    }
    for (int64_t r = 0; r < t.n_rows; r++) {
        const char *v = t.cell[r * 2 + 1];
        int s = GFUSE_SPLIT_NONE;
        for (int k = 0; k < 3; k++)
            if (strcasecmp(v, names[k]) == 0) s = GFUSE_SPLIT_TRAIN + k;
        if (s == GFUSE_SPLIT_NONE && !gfuse_i_is_missing(v, strlen(v))) {
            st = gfuse_i_error_at(GFUSE_ERR_DATA, path, t.line[r], 2,
                                  "split \"%.60s\" is not train, val or test", v);
            goto done;
        }
        int64_t i = gfuse_i_idmap_find(c->index, t.cell[r * 2]);
        if (i < 0) {
            gfuse_i_idlist_add(&unknown, t.cell[r * 2]);
            continue;
        }
        c->split[i] = (uint8_t)s;
        named[i] = 1;
    }
    for (int64_t i = 0; i < c->n; i++)
        if (!named[i]) gfuse_i_idlist_add(&absent, c->id[i]);
    c->has_split = 1;
    snprintf(head, sizeof head, "%.400s: ids that are not samples of the cohort are ignored", path);
    st = gfuse_i_cohort_warn_ids(c, &unknown, head);
    if (st != GFUSE_OK) goto done;
    snprintf(head, sizeof head, "%.400s: samples not in the split file belong to no split", path);
    st = gfuse_i_cohort_warn_ids(c, &absent, head);
done:
    free(named);
    gfuse_i_table_free(&t);
    return st;
}

/* ---- mask ------------------------------------------------------------------------------------- */

/* The modality of each mask column (column 0, the id, maps to -1). */
static gfuse_status mask_columns(const gfuse_cohort *c, const char *path, const gfuse_i_table *t,
                                 int *col_mod)
{
    col_mod[0] = -1;
    for (int64_t j = 1; j < t->n_cols; j++) {
        col_mod[j] = -1;
        for (int m = 0; m < c->m; m++)
            if (strcmp(c->mod[m].name, t->header[j]) == 0) col_mod[j] = m;
        if (col_mod[j] >= 0) continue;
        char list[256] = "";
        for (int m = 0; m < c->m; m++) {
            size_t used = strlen(list);
            snprintf(list + used, sizeof list - used, "%s%s", m ? ", " : "", c->mod[m].name);
        }
        return gfuse_i_error_at(GFUSE_ERR_DATA, path, 1, j + 1,
                                "mask column \"%.60s\" is not a modality of the cohort "
                                "(modalities: %s)", t->header[j], list);
    }
    return GFUSE_OK;
}

gfuse_status gfuse_i_cohort_apply_mask(gfuse_cohort *c, const char *path)
{
    gfuse_i_table t;
    gfuse_i_idlist unknown = {0}, absent = {0}, emptied = {0};
    char head[512];
    uint8_t *named = NULL;
    int *col_mod = NULL;
    gfuse_status st = gfuse_i_read_table(path, 0, "id,<modality names...>", &t);
    if (st != GFUSE_OK) return st;
    GFUSE_TRY(warn_header(c, path, t.header[0], t.n_cols > 1 ? t.header[1] : "",
                          "id,<modality names...>"));
    col_mod = gfuse_i_alloc(t.n_cols, sizeof *col_mod);
    named = gfuse_i_zalloc(c->n, 1);
    if (!col_mod || !named) {
        st = gfuse_i_nomem("a mask");
        goto done;
    }
    st = mask_columns(c, path, &t, col_mod);
    if (st != GFUSE_OK) goto done;
    for (int64_t r = 0; r < t.n_rows; r++) { /* check everything before hiding anything */
        for (int64_t j = 1; j < t.n_cols; j++) {
            const char *v = t.cell[r * t.n_cols + j];
            if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0) {
                st = gfuse_i_error_at(GFUSE_ERR_DATA, path, t.line[r], j + 1,
                                      "mask value \"%.60s\" in column \"%.60s\" must be 0 (hide) "
                                      "or 1 (keep)", v, t.header[j]);
                goto done;
            }
        }
    }
    for (int64_t r = 0; r < t.n_rows; r++) {
        int64_t i = gfuse_i_idmap_find(c->index, t.cell[r * t.n_cols]);
        if (i < 0) {
            gfuse_i_idlist_add(&unknown, t.cell[r * t.n_cols]);
            continue;
        }
        named[i] = 1;
        for (int64_t j = 1; j < t.n_cols; j++)
            if (t.cell[r * t.n_cols + j][0] == '0') c->mod[col_mod[j]].present[i] = 0;
    }
    for (int m = 0; m < c->m; m++) gfuse_i_modality_recount(c, &c->mod[m]);
    for (int64_t i = 0; i < c->n; i++) {
        int any = 0;
        for (int m = 0; m < c->m && !any; m++) any = c->mod[m].present[i];
        if (!named[i]) gfuse_i_idlist_add(&absent, c->id[i]);
        if (!any) gfuse_i_idlist_add(&emptied, c->id[i]);
    }
    snprintf(head, sizeof head, "%.400s: ids that are not samples of the cohort are ignored", path);
    st = gfuse_i_cohort_warn_ids(c, &unknown, head);
    if (st != GFUSE_OK) goto done;
    snprintf(head, sizeof head, "%.400s: samples not in the mask keep every modality", path);
    st = gfuse_i_cohort_warn_ids(c, &absent, head);
    if (st != GFUSE_OK) goto done;
    if (c->n > 0 && emptied.count == c->n) {
        st = gfuse_i_error(GFUSE_ERR_DATA, "%s: the mask hides every modality of every sample: "
                           "nothing is left to learn from or to predict with", path);
        goto done;
    }
    for (int m = 0; m < c->m; m++) {
        int any = 0;
        for (int64_t i = 0; i < c->n && !any; i++) any = c->mod[m].present[i];
        if (!any && (st = gfuse_i_cohort_warn(c, "%.400s: the mask hides modality %s for every "
                                              "sample", path, c->mod[m].name)) != GFUSE_OK)
            goto done;
    }
    snprintf(head, sizeof head, "%.400s: samples left with no modality stay in the cohort with "
             "every modality missing", path);
    st = gfuse_i_cohort_warn_ids(c, &emptied, head);
done:
    free(col_mod);
    free(named);
    gfuse_i_table_free(&t);
    return st;
}

/* Warns when every labelled training sample (split train, or every labelled sample without a
 * split) has the same class: a classifier trained on them can only answer that class. */
static gfuse_status warn_one_training_class(gfuse_cohort *c, const char *labels)
{
    if (c->task != GFUSE_TASK_CLASSIFY || c->n_classes < 2) return GFUSE_OK;
    int32_t seen = -1;
    int64_t n = 0;
    for (int64_t i = 0; i < c->n; i++) {
        if (c->label[i] < 0 || (c->has_split && c->split[i] != GFUSE_SPLIT_TRAIN)) continue;
        if (seen >= 0 && c->label[i] != seen) return GFUSE_OK;
        seen = c->label[i];
        n++;
    }
    if (seen < 0) return GFUSE_OK;
    return gfuse_i_cohort_warn(c, "%s: the %lld labelled training samples are all of class "
                               "\"%.60s\": a model trained on them can only predict that class",
                               labels ? labels : "labels", (long long)n, c->class_name[seen]);
}

/* ---- the entry point -------------------------------------------------------------------------- */

gfuse_status gfuse_cohort_load(gfuse_cohort **out, const gfuse_cohort_options *opts)
{
    GFUSE_CHECK_ARG(out, "out must not be NULL");
    *out = NULL;
    GFUSE_CHECK_ARG(opts, "opts must not be NULL");
    gfuse_status st = check_options(opts);
    if (st != GFUSE_OK) return st;

    source *src = NULL;
    int M = 0;
    gfuse_i_matrix *mat = NULL;
    gfuse_cohort *c = NULL;
    char *labels = NULL, *split = NULL;
    st = list_sources(opts, &src, &M);
    if (st != GFUSE_OK) return st;
    mat = gfuse_i_zalloc(M, sizeof *mat);
    if (!mat) {
        st = gfuse_i_nomem("modality tables");
        goto done;
    }
    for (int m = 0; m < M; m++) {
        st = gfuse_i_read_matrix(src[m].path, &mat[m]);
        if (st != GFUSE_OK) goto done;
    }
    st = assemble(&c, src, mat, M);
    if (st != GFUSE_OK) goto done;
    for (int m = 0; m < M && st == GFUSE_OK; m++)
        st = warn_header(c, src[m].path, mat[m].id_column,
                         c->mod[m].d > 0 ? c->mod[m].feature[0] : "", "id,<feature names...>");
    if (st != GFUSE_OK) goto done;

    if (opts->labels_file) labels = gfuse_i_strdup(opts->labels_file);
    else if (opts->dir) labels = default_file(opts->dir, "labels", &st);
    if (opts->split_file) split = gfuse_i_strdup(opts->split_file);
    else if (opts->dir) split = default_file(opts->dir, "split", &st);
    if (st != GFUSE_OK || (opts->labels_file && !labels) || (opts->split_file && !split)) {
        st = st != GFUSE_OK ? st : gfuse_i_nomem("a file name");
        goto done;
    }
    if (labels) st = gfuse_i_cohort_read_labels(c, labels, opts->task);
    if (st == GFUSE_OK && split) st = gfuse_i_cohort_read_split(c, split);
    if (st == GFUSE_OK && opts->mask_file) st = gfuse_i_cohort_apply_mask(c, opts->mask_file);
    if (st == GFUSE_OK) st = warn_one_training_class(c, labels);
done:
    for (int m = 0; mat && m < M; m++) gfuse_i_matrix_free(&mat[m]);
    free(mat);
    free_sources(src, M);
    free(labels);
    free(split);
    if (st != GFUSE_OK) {
        gfuse_cohort_free(&c);
        return st;
    }
    gfuse_i_clear_error();
    *out = c;
    return GFUSE_OK;
}
