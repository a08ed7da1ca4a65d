/* cmd_impute.c: `gfuse impute`: the cohort's modalities completed by the model's decoders, one
 * CSV per modality, and mask.csv saying which modalities were filled. */
#define _XOPEN_SOURCE 700 /* realpath */

#include "cli.h"
#include "model_cmd.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --out DIR must be new, an empty folder, or (with --force) an earlier impute output; the files
 * are written into a temporary folder beside it, renamed into place at the end, so that a
 * failed or interrupted impute leaves no new folder and the old one intact. */
typedef struct {
    int force;
    char *dir;      /* --out without trailing slashes, symlinks resolved when it exists */
    int exists;     /* dir is there (empty, or an earlier output with --force) */
    mode_t mode;    /* its permission bits */
    char *tmp;      /* the temporary folder */
    char **files;   /* the files committed in tmp */
    int n_files;
} impute_out;

/* The first line of path, malloc-ed without its line end, or NULL. */
static char *first_line(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 256, n = 0;
    char *line = malloc(cap);
    int c;
    while (line && (c = fgetc(f)) != EOF && c != '\n') {
        if (n + 2 > cap) {
            char *grown = realloc(line, cap *= 2);
            if (!grown) {
                free(line);
                line = NULL;
                break;
            }
            line = grown;
        }
        line[n++] = (char)c;
    }
    fclose(f);
    if (!line) return NULL;
    if (n > 0 && line[n - 1] == '\r') n--;
    line[n] = '\0';
    return line;
}

/* 1 when dir holds an earlier impute output and nothing else: regular files <name>.csv, one of
 * them mask.csv whose header is id and exactly the other names. */
static int is_impute_output(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/mask.csv", dir);
    char *head = first_line(path);
    if (!head || strncmp(head, "id,", 3) != 0) {
        free(head);
        return 0;
    }
    int n_cols = 1;
    for (const char *c = head + 3; *c; c++) n_cols += *c == ',';
    DIR *d = opendir(dir);
    int ok = d != NULL, n_files = 0;
    struct dirent *e;
    while (ok && (e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strcmp(name, "mask.csv") == 0)
            continue;
        size_t len = strlen(name);
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        ok = len > 4 && strcmp(name + len - 4, ".csv") == 0 && lstat(path, &st) == 0 &&
             S_ISREG(st.st_mode);
        if (!ok) break;
        /* name without .csv must be one of the header's columns */
        ok = 0;
        for (const char *c = head + 3; *c;) {
            const char *end = strchr(c, ',');
            size_t w = end ? (size_t)(end - c) : strlen(c);
            if (w == len - 4 && strncmp(c, name, w) == 0) ok = 1;
            c += w + (end ? 1 : 0);
            if (!end) break;
        }
        n_files++;
    }
    if (d) closedir(d);
    free(head);
    return ok && n_files == n_cols;
}

/* Number of entries in a folder other than . and .., or -1. */
static int n_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(d);
    return n;
}

/* Removes the files of a folder (not its subfolders) and the folder. */
static void remove_folder(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[4096];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* The folder holding path ("." when none), malloc-ed. */
static char *parent_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (slash == path ? 1 : (size_t)(slash - path)) : 1;
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, slash ? path : ".", n);
    d[n] = '\0';
    return d;
}

static int check_impute(const char *out, const cli_cohort_args *ca, const gfuse_cohort *cohort,
                        const char *model_path, void *ctx)
{
    impute_out *io = ctx;
    size_t len = strlen(out);
    while (len > 1 && out[len - 1] == '/') len--;
    struct stat st;
    int rc = 0;
    char *given = malloc(len + 1);
    if (!given) {
        cli_error("impute", "out of memory");
        return CLI_EXIT_FAILURE;
    }
    memcpy(given, out, len);
    given[len] = '\0';
    if (lstat(given, &st) != 0) {
        if (errno != ENOENT) {
            cli_error("impute", "%s: %s", out, strerror(errno));
            free(given);
            return CLI_EXIT_FAILURE;
        }
        io->dir = given; /* new: its folder must exist and be writable */
    } else {
        io->dir = realpath(given, NULL);
        free(given);
        if (!io->dir || stat(io->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            return cli_usage_error("impute", "%s: is not a folder; --out names a folder", out);
        }
        io->exists = 1;
        io->mode = st.st_mode & 07777;
        cli_inputs in;
        if (cli_inputs_collect(&in, ca, cohort, &model_path, 1) != 0) {
            cli_inputs_free(&in);
            cli_error("impute", "out of memory");
            return CLI_EXIT_FAILURE;
        }
        for (int k = 0; k < in.n && rc == 0; k++) {
            if (!in.path[k]) continue;
            char *folder = parent_of(in.path[k]);
            struct stat fs;
            if (folder && stat(in.path[k], &fs) == 0 && stat(folder, &fs) == 0 &&
                fs.st_dev == st.st_dev && fs.st_ino == st.st_ino)
                rc = cli_usage_error("impute",
                                     "%s: holds the input file %s; write the completed cohort to "
                                     "a new folder",
                                     out, in.path[k]);
            free(folder);
        }
        cli_inputs_free(&in);
        if (rc != 0) return rc;
        int n = n_entries(io->dir);
        if (n < 0) {
            cli_error("impute", "%s: cannot read the folder: %s", out, strerror(errno));
            return CLI_EXIT_FAILURE;
        }
        if (n > 0 && !io->force)
            return cli_usage_error("impute",
                                   "%s: is not empty; use a new folder (or --force to replace an "
                                   "earlier gfuse impute output)",
                                   out);
        if (n > 0 && !is_impute_output(io->dir))
            return cli_usage_error("impute",
                                   "%s: is not an earlier gfuse impute output (<modality>.csv "
                                   "and mask.csv only); --force replaces nothing else",
                                   out);
    }
    char *parent = parent_of(io->dir);
    if (!parent) {
        cli_error("impute", "out of memory");
        return CLI_EXIT_FAILURE;
    }
    if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode))
    {
        cli_error("impute", "%s: cannot create: its folder %s does not exist", out, parent);
        rc = CLI_EXIT_FAILURE;
    } else if (access(parent, W_OK | X_OK) != 0) {
        cli_error("impute", "%s: cannot create: cannot write in %s: %s", out, parent,
                  strerror(errno));
        rc = CLI_EXIT_FAILURE;
    }
    free(parent);
    return rc;
}

/* Creates the temporary folder beside io->dir. */
static int make_tmp(impute_out *io)
{
    size_t n = strlen(io->dir) + 16;
    if (!(io->tmp = malloc(n))) {
        cli_error("impute", "out of memory");
        return CLI_EXIT_FAILURE;
    }
    snprintf(io->tmp, n, "%s.tmp.XXXXXX", io->dir);
    gfuse_temp_hold(); /* no signal between the folder's creation and its registration */
    int made = mkdtemp(io->tmp) != NULL, e = errno;
    if (made) gfuse_temp_register(io->tmp, 1);
    gfuse_temp_release();
    if (!made) {
        cli_error("impute", "%s: cannot create the folder: %s", io->dir, strerror(e));
        free(io->tmp);
        io->tmp = NULL;
        return CLI_EXIT_FAILURE;
    }
    mode_t mask = umask(077);
    umask(mask);
    chmod(io->tmp, io->exists ? io->mode : (0777 & ~mask));
    return 0;
}

/* Removes the temporary folder and what is in it; forgets them. */
static void drop_tmp(impute_out *io)
{
    for (int k = 0; k < io->n_files; k++) {
        if (io->tmp) unlink(io->files[k]);
        gfuse_temp_forget(io->files[k]);
        free(io->files[k]);
    }
    free(io->files);
    io->files = NULL;
    io->n_files = 0;
    if (io->tmp) {
        rmdir(io->tmp);
        gfuse_temp_forget(io->tmp);
        free(io->tmp);
        io->tmp = NULL;
    }
}

/* A file committed in the temporary folder: a signal removes it too. */
static int note_file(impute_out *io, const char *path)
{
    char **grown = realloc(io->files, (size_t)(io->n_files + 1) * sizeof *grown);
    char *copy = malloc(strlen(path) + 1);
    if (grown) io->files = grown;
    if (!grown || !copy) {
        free(copy);
        unlink(path);
        cli_error("impute", "out of memory");
        return CLI_EXIT_FAILURE;
    }
    strcpy(copy, path);
    io->files[io->n_files++] = copy;
    gfuse_temp_register(copy, 0);
    return 0;
}

/* Moves the temporary folder into place (over an empty folder, or swapping out the earlier
 * output, which is then removed). SIGINT and SIGTERM wait while the folders move, so that a
 * signal finds either the earlier output in place and the new one temporary, or the new one in
 * place and nothing temporary. */
static int put_in_place(impute_out *io)
{
    char *old = NULL;
    int rc = 0;
    if (io->exists && n_entries(io->dir) > 0) {
        size_t n = strlen(io->dir) + 16;
        if (!(old = malloc(n))) {
            cli_error("impute", "out of memory");
            return CLI_EXIT_FAILURE;
        }
        snprintf(old, n, "%s.old.XXXXXX", io->dir);
    }
    gfuse_temp_hold();
    if (old && (!mkdtemp(old) || rename(io->dir, old) != 0)) {
        cli_error("impute", "%s: cannot move the earlier output aside: %s", io->dir,
                  strerror(errno));
        rmdir(old);
        rc = CLI_EXIT_FAILURE;
    } else if (rename(io->tmp, io->dir) != 0) {
        cli_error("impute", "%s: cannot rename the folder into place: %s", io->dir,
                  strerror(errno));
        if (old) rename(old, io->dir);
        rc = CLI_EXIT_FAILURE;
    } else {
        /* in place: nothing of it is temporary any more */
        for (int k = 0; k < io->n_files; k++) gfuse_temp_forget(io->files[k]);
        gfuse_temp_forget(io->tmp);
    }
    gfuse_temp_release();
    if (rc != 0) {
        free(old);
        return rc;
    }
    for (int k = 0; k < io->n_files; k++) free(io->files[k]);
    free(io->files);
    io->files = NULL;
    io->n_files = 0;
    free(io->tmp);
    io->tmp = NULL;
    if (old) remove_folder(old);
    free(old);
    return 0;
}

/* Opens <tmp>/name.csv as o and a comma-separated writer on it; 0 or the exit code. *path is
 * the file's name (malloc-ed) for commit_csv. */
static int open_csv(impute_out *io, cli_outfile *o, cli_csv *csv, const char *name, char **path)
{
    memset(o, 0, sizeof *o);
    size_t n = strlen(io->tmp) + strlen(name) + strlen(".csv") + 2;
    if (!(*path = malloc(n))) {
        cli_error("impute", "out of memory");
        return CLI_EXIT_FAILURE;
    }
    snprintf(*path, n, "%s/%s.csv", io->tmp, name);
    int rc = cli_outfile_open(o, "impute", *path);
    if (rc == 0) cli_csv_init(csv, o->f, ',');
    return rc;
}

/* Commits o into the temporary folder and notes the file for removal on failure. */
static int commit_csv(impute_out *io, cli_outfile *o, char *path)
{
    gfuse_temp_hold(); /* the file is registered under its final name before a signal acts */
    int rc = cli_outfile_commit(o, "impute");
    if (rc == 0) rc = note_file(io, path);
    gfuse_temp_release();
    free(path);
    return rc;
}

/* One completed modality: id, features. */
static int write_modality(impute_out *io, const gfuse_model *model, const gfuse_cohort *cohort,
                          const gfuse_imputation *imp, int j)
{
    cli_outfile o;
    cli_csv csv;
    char *path = NULL;
    int rc = open_csv(io, &o, &csv, gfuse_model_modality_name(model, j), &path);
    if (rc != 0) {
        free(path);
        return rc;
    }
    int64_t d = imp->n_features[j];
    cli_csv_string(&csv, "id");
    for (int64_t f = 0; f < d; f++) cli_csv_string(&csv, gfuse_model_feature_name(model, j, f));
    cli_csv_end_row(&csv);
    for (int64_t i = 0; i < imp->n; i++) {
        cli_csv_string(&csv, gfuse_cohort_sample_id(cohort, i));
        const float *row = imp->values[j] + i * d;
        for (int64_t f = 0; f < d; f++) cli_csv_double(&csv, row[f]);
        cli_csv_end_row(&csv);
    }
    return commit_csv(io, &o, path);
}

static int write_mask(impute_out *io, const gfuse_model *model, const gfuse_cohort *cohort,
                      const gfuse_imputation *imp)
{
    cli_outfile o;
    cli_csv csv;
    char *path = NULL;
    int rc = open_csv(io, &o, &csv, "mask", &path);
    if (rc != 0) {
        free(path);
        return rc;
    }
    int M = imp->n_modalities;
    cli_csv_string(&csv, "id");
    for (int j = 0; j < M; j++) cli_csv_string(&csv, gfuse_model_modality_name(model, j));
    cli_csv_end_row(&csv);
    for (int64_t i = 0; i < imp->n; i++) {
        cli_csv_string(&csv, gfuse_cohort_sample_id(cohort, i));
        for (int j = 0; j < M; j++) cli_csv_int(&csv, imp->filled[i * M + j]);
        cli_csv_end_row(&csv);
    }
    return commit_csv(io, &o, path);
}

static int run_impute(const char *out_dir, const gfuse_model *model, const gfuse_cohort *cohort,
                      int quiet, void *ctx)
{
    impute_out *io = ctx;
    gfuse_imputation imp;
    memset(&imp, 0, sizeof imp);
    int rc;
    if ((rc = cli_check("impute", gfuse_impute(model, cohort, &imp))) != 0) goto done;
    if ((rc = make_tmp(io)) != 0) goto done;
    for (int j = 0; j < imp.n_modalities; j++)
        if ((rc = write_modality(io, model, cohort, &imp, j)) != 0) goto done;
    if ((rc = write_mask(io, model, cohort, &imp)) != 0) goto done;
    if ((rc = put_in_place(io)) != 0) goto done;
    if (!quiet) {
        int64_t filled = 0;
        for (int64_t t = 0; t < imp.n * imp.n_modalities; t++) filled += imp.filled[t];
        fprintf(stderr, "impute: %lld samples, %lld modalities filled, written to %s\n",
                (long long)imp.n, (long long)filled, out_dir);
    }
    rc = CLI_EXIT_OK;
done:
    drop_tmp(io);
    gfuse_imputation_free(&imp);
    return rc;
}

int cmd_impute(int argc, char **argv)
{
    impute_out io;
    memset(&io, 0, sizeof io);
    cli_model_cmd cmd = {
        .name = "impute",
        .synopsis = "--model FILE --cohort DIR --out DIR [--force]",
        .description =
            "Completes the missing modalities of every sample with the model's decoders and\n"
            "writes one CSV per modality (observed rows unchanged, missing cells inside them\n"
            "left empty as NA) and mask.csv: id,<modality...> with 1 = filled by the model.\n"
            "--out must be a new or empty folder, never one holding an input; --force replaces\n"
            "an earlier impute output (<modality>.csv and mask.csv, nothing else). The files\n"
            "are written in a temporary folder beside it and moved into place at the end: a\n"
            "failed or interrupted run leaves no new folder and the old one as it was.",
        .out_metavar = "DIR",
        .out_help = "folder for <modality>.csv and mask.csv (new or empty; required)",
        .extra = {{.name = "force", .kind = CLI_FLAG, .dest = &io.force,
                   .help = "replace an earlier gfuse impute output in DIR"}},
        .run = run_impute,
        .ctx = &io,
        .check = check_impute};
    int rc = cli_model_command(&cmd, argc, argv);
    drop_tmp(&io);
    free(io.dir);
    return rc;
}
