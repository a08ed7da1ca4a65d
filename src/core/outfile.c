/* outfile.c: the one writer of output files, for the library (model files, graph exports,
 * synthetic cohorts) and for the tool (reports, tables, logs).
 *
 * Rules: an output path that is a folder, a device, a FIFO or a socket is refused before any
 * work; a symlink is followed to the file it names (as a shell redirection reaches it) and
 * that file is replaced, the link stays; the data goes to a temporary file made by mkstemp
 * beside the target (no predictable name, O_EXCL), which is flushed, fsync-ed and renamed
 * over the target, then the folder is fsync-ed. A replaced file keeps its permission bits, a
 * new one gets 0666 & ~umask. Live temporary paths sit in a fixed registry that a signal
 * handler can empty with gfuse_temp_cleanup (async-signal-safe). */
#define _XOPEN_SOURCE 700 /* lstat, readlink, realpath, mkstemp, fchmod, fsync */

#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

struct gfuse_output {
    gfuse_i_outfile o;
};

/* ---- the registry of live temporary paths ---------------------------------------------- */

#define TEMP_SLOTS 64
#define TEMP_PATH_MAX 4096

static char temp_path[TEMP_SLOTS][TEMP_PATH_MAX];
static volatile sig_atomic_t temp_kind[TEMP_SLOTS]; /* 0 free, 1 file, 2 folder */

int gfuse_temp_register(const char *path, int is_folder)
{
    size_t n = strlen(path);
    if (n >= TEMP_PATH_MAX) return -1;
    for (int k = 0; k < TEMP_SLOTS; k++) {
        if (temp_kind[k] != 0) continue;
        memcpy(temp_path[k], path, n + 1);
        temp_kind[k] = is_folder ? 2 : 1; /* set last: the handler reads whole paths only */
        return 0;
    }
    return -1;
}

void gfuse_temp_forget(const char *path)
{
    for (int k = 0; k < TEMP_SLOTS; k++)
        if (temp_kind[k] != 0 && strcmp(temp_path[k], path) == 0) {
            temp_kind[k] = 0;
            return;
        }
}

void gfuse_temp_cleanup(void)
{
    for (int k = 0; k < TEMP_SLOTS; k++)
        if (temp_kind[k] == 1) {
            unlink(temp_path[k]);
            temp_kind[k] = 0;
        }
    for (int k = TEMP_SLOTS - 1; k >= 0; k--) /* folders after their files, inner first */
        if (temp_kind[k] == 2) {
            rmdir(temp_path[k]);
            temp_kind[k] = 0;
        }
}

/* The signal mask of the thread before its outermost gfuse_temp_hold, and the nesting depth. */
static _Thread_local sigset_t held_mask;
static _Thread_local int held_depth;

void gfuse_temp_hold(void)
{
    if (held_depth++ > 0) return;
    sigset_t s, pending;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &s, &held_mask);
    if (sigpending(&pending) == 0 &&
        (sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1) &&
        !sigismember(&held_mask, SIGINT) && !sigismember(&held_mask, SIGTERM)) {
        pthread_sigmask(SIG_SETMASK, &held_mask, NULL); /* delivered now, before anything moves */
        pthread_sigmask(SIG_BLOCK, &s, NULL);
    }
}

void gfuse_temp_release(void)
{
    if (held_depth > 0 && --held_depth == 0) pthread_sigmask(SIG_SETMASK, &held_mask, NULL);
}

/* ---- checking an output path ----------------------------------------------------------- */

/* The folder part of p ("." when none), malloc-ed. */
static char *folder_of(const char *p)
{
    const char *slash = strrchr(p, '/');
    if (!slash) return gfuse_i_strdup(".");
    if (slash == p) return gfuse_i_strdup("/");
    size_t n = (size_t)(slash - p);
    char *d = gfuse_i_alloc(n + 1, 1);
    if (d) {
        memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

/* The file a write to path reaches: symlinks followed as open(2) follows them, the folder
 * made canonical with realpath. Returns the malloc-ed path (*exists and *st say whether it is
 * there and what it is), or NULL with errno set (ENOMEM when an allocation failed: errno
 * holds what lstat said before, and an allocation need not set it). */
static char *resolve_output(const char *path, int *exists, struct stat *st)
{
    char *p = gfuse_i_strdup(path);
    if (!p) {
        errno = ENOMEM;
        return NULL;
    }
    int hops = 0;
    for (;;) {
        struct stat ls;
        if (lstat(p, &ls) != 0) {
            if (errno != ENOENT) goto fail;
            break; /* not there (a dangling link: the write creates its target) */
        }
        if (!S_ISLNK(ls.st_mode)) break;
        if (++hops > 40) {
            errno = ELOOP;
            goto fail;
        }
        char target[PATH_MAX];
        ssize_t n = readlink(p, target, sizeof target - 1);
        if (n < 0) goto fail;
        target[n] = '\0';
        char *next;
        if (target[0] == '/') {
            next = gfuse_i_strdup(target);
        } else {
            char *dir = folder_of(p);
            next = dir ? gfuse_i_path_join(dir, target) : NULL;
            free(dir);
        }
        if (!next) {
            errno = ENOMEM;
            goto fail;
        }
        free(p);
        p = next;
    }
    const char *slash = strrchr(p, '/');
    const char *base = slash ? slash + 1 : p;
    if (!*base) {
        errno = EISDIR;
        goto fail;
    }
    char *dir = folder_of(p);
    if (!dir) {
        errno = ENOMEM;
        goto fail;
    }
    char *real = realpath(dir, NULL);
    free(dir);
    if (!real) goto fail;
    char *out = gfuse_i_path_join(real, base);
    free(real);
    free(p);
    if (!out) {
        errno = ENOMEM;
        return NULL;
    }
    *exists = stat(out, st) == 0;
    return out;
fail:;
    int e = errno;
    free(p);
    errno = e;
    return NULL;
}

/* Checks one output path (see gfuse_output_check); on success *resolved is the file to write
 * (malloc-ed), *exists and *st what is there now. */
static gfuse_status check_output(const char *path, char **resolved, int *exists, struct stat *st)
{
    *resolved = NULL;
    *exists = 0;
    if (!path || !*path) return gfuse_i_error(GFUSE_ERR_ARG, "an output file name is empty");
    char *r = resolve_output(path, exists, st);
    if (!r) {
        int e = errno;
        if (e == ENOMEM) return gfuse_i_nomem("an output file name");
        if (e == ENOENT)
            return gfuse_i_error(GFUSE_ERR_IO, "%s: cannot create: its folder does not exist",
                                 path);
        if (e == ENOTDIR)
            return gfuse_i_error(GFUSE_ERR_IO,
                                 "%s: cannot create: a part of its folder is not a folder", path);
        if (e == EISDIR)
            return gfuse_i_error(GFUSE_ERR_ARG, "%s: is a folder, not a file", path);
        return gfuse_i_error(GFUSE_ERR_IO, "%s: cannot create: %s", path, strerror(e));
    }
    const char *what = NULL;
    if (*exists && !S_ISREG(st->st_mode))
        what = S_ISDIR(st->st_mode)                             ? "a folder"
               : S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ? "a device"
               : S_ISFIFO(st->st_mode)                          ? "a FIFO (named pipe)"
               : S_ISSOCK(st->st_mode)                          ? "a socket"
                                                                : "not a regular file";
    if (what) {
        free(r);
        return gfuse_i_error(GFUSE_ERR_ARG,
                             "%s: is %s; an output must be a regular file (or - for standard "
                             "output where a command writes one report)",
                             path, what);
    }
    char *dir = folder_of(r);
    if (!dir) {
        free(r);
        return gfuse_i_nomem("an output file name");
    }
    if (access(dir, W_OK | X_OK) != 0) {
        int e = errno;
        gfuse_status s = gfuse_i_error(GFUSE_ERR_IO, "%s: cannot create: cannot write in %s: %s",
                                       path, dir, strerror(e));
        free(dir);
        free(r);
        return s;
    }
    free(dir);
    *resolved = r;
    return GFUSE_OK;
}

gfuse_status gfuse_output_check(const char *path)
{
    if (path && strcmp(path, "-") == 0) return GFUSE_OK;
    char *r;
    int exists;
    struct stat st;
    gfuse_status s = check_output(path, &r, &exists, &st);
    free(r);
    return s;
}

gfuse_status gfuse_outputs_check(const char *const *outputs, int n_outputs,
                                 const char *const *inputs, int n_inputs)
{
    if (n_outputs <= 0) return GFUSE_OK;
    char **res = gfuse_i_zalloc((size_t)n_outputs, sizeof *res);
    struct stat *st = gfuse_i_zalloc((size_t)n_outputs, sizeof *st);
    int *exists = gfuse_i_zalloc((size_t)n_outputs, sizeof *exists);
    gfuse_status s = GFUSE_OK;
    if (!res || !st || !exists) {
        s = gfuse_i_nomem("the output file checks");
        goto done;
    }
    for (int i = 0; i < n_outputs && s == GFUSE_OK; i++) {
        const char *out = outputs[i];
        if (!out || strcmp(out, "-") == 0) continue;
        if ((s = check_output(out, &res[i], &exists[i], &st[i])) != GFUSE_OK) break;
        for (int j = 0; j < n_inputs && exists[i]; j++) {
            struct stat in;
            if (!inputs[j] || stat(inputs[j], &in) != 0) continue;
            if (in.st_dev == st[i].st_dev && in.st_ino == st[i].st_ino) {
                s = strcmp(out, inputs[j]) == 0
                        ? gfuse_i_error(GFUSE_ERR_ARG,
                                        "%s: is an input of this command; an output must not "
                                        "replace an input",
                                        out)
                        : gfuse_i_error(GFUSE_ERR_ARG,
                                        "%s: is the input file %s; an output must not replace "
                                        "an input",
                                        out, inputs[j]);
                break;
            }
        }
        for (int k = 0; k < i && s == GFUSE_OK; k++) {
            if (!res[k]) continue;
            int same = strcmp(res[i], res[k]) == 0 ||
                       (exists[i] && exists[k] && st[i].st_dev == st[k].st_dev &&
                        st[i].st_ino == st[k].st_ino);
            if (same && strcmp(outputs[k], out) == 0)
                s = gfuse_i_error(GFUSE_ERR_ARG,
                                  "%s: is named for two outputs; each output needs its own file",
                                  out);
            else if (same)
                s = gfuse_i_error(GFUSE_ERR_ARG,
                                  "%s and %s are the same file; each output needs its own file",
                                  outputs[k], out);
        }
    }
done:
    if (res)
        for (int i = 0; i < n_outputs; i++) free(res[i]);
    free(res);
    free(st);
    free(exists);
    return s;
}

/* ---- writing ----------------------------------------------------------------------------- */

static mode_t current_umask(void)
{
    mode_t m = umask(077);
    umask(m);
    return m;
}

gfuse_status gfuse_i_outfile_open(gfuse_i_outfile *o, const char *path, const char *mode)
{
    memset(o, 0, sizeof *o);
    if (path && strcmp(path, "-") == 0) {
        if (strchr(mode, '+'))
            return gfuse_i_error(GFUSE_ERR_ARG, "this file cannot be written to standard output");
        o->f = stdout;
        o->to_stdout = 1;
        return GFUSE_OK;
    }
    int exists;
    struct stat st;
    char *target;
    gfuse_status s = check_output(path, &target, &exists, &st);
    if (s != GFUSE_OK) return s;
    o->target = target;
    o->path = gfuse_i_strdup(path);
    o->tmp_path = gfuse_i_asprintf("%s.tmp.XXXXXX", target);
    if (!o->path || !o->tmp_path) {
        gfuse_i_outfile_abort(o);
        return gfuse_i_nomem("an output file name");
    }
    gfuse_temp_hold(); /* no signal between the file's creation and its registration */
    int fd = mkstemp(o->tmp_path);
    if (fd >= 0) gfuse_temp_register(o->tmp_path, 0);
    gfuse_temp_release();
    if (fd < 0) {
        int e = errno;
        free(o->tmp_path);
        o->tmp_path = NULL;
        gfuse_i_outfile_abort(o);
        return gfuse_i_error(GFUSE_ERR_IO, "%s: cannot create: %s", path, strerror(e));
    }
    mode_t perm = exists ? (st.st_mode & 07777) : (0666 & ~current_umask());
    if (fchmod(fd, perm) != 0 || !(o->f = fdopen(fd, mode))) {
        int e = errno;
        if (!o->f) close(fd);
        gfuse_i_outfile_abort(o);
        return gfuse_i_error(GFUSE_ERR_IO, "%s: cannot create: %s", path, strerror(e));
    }
    return GFUSE_OK;
}

/* fsync of the folder holding path, so that the rename survives a crash; errors ignored
 * (some file systems cannot sync a folder). */
static void sync_folder(const char *path)
{
    char *dir = folder_of(path);
    if (!dir) return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

gfuse_status gfuse_i_outfile_commit(gfuse_i_outfile *o)
{
    if (o->to_stdout) {
        int bad = fflush(o->f) != 0 || ferror(o->f);
        memset(o, 0, sizeof *o);
        if (bad) return gfuse_i_error(GFUSE_ERR_IO, "writing to standard output failed");
        return GFUSE_OK;
    }
    if (!o->f) return gfuse_i_error(GFUSE_ERR_STATE, "output file is not open");
    int bad = ferror(o->f);
    errno = 0;
    if (fflush(o->f) != 0) bad = 1;
    int e = errno;
    if (!bad && fsync(fileno(o->f)) != 0 && errno != EINVAL && errno != EROFS) {
        bad = 1;
        e = errno;
    }
    if (fclose(o->f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    o->f = NULL;
    if (bad) {
        gfuse_status st = gfuse_i_error(GFUSE_ERR_IO, "%s: write failed: %s", o->path,
                                        strerror(e ? e : EIO));
        gfuse_i_outfile_abort(o);
        return st;
    }
    gfuse_temp_hold();
    if (rename(o->tmp_path, o->target) != 0) {
        e = errno;
        gfuse_temp_release();
        gfuse_status st = gfuse_i_error(GFUSE_ERR_IO, "%s: cannot rename into place: %s", o->path,
                                        strerror(e));
        gfuse_i_outfile_abort(o);
        return st;
    }
    gfuse_temp_forget(o->tmp_path);
    gfuse_temp_release();
    sync_folder(o->target);
    free(o->path);
    free(o->target);
    free(o->tmp_path);
    memset(o, 0, sizeof *o);
    return GFUSE_OK;
}

void gfuse_i_outfile_abort(gfuse_i_outfile *o)
{
    if (o->f && !o->to_stdout) fclose(o->f);
    if (o->tmp_path) {
        unlink(o->tmp_path);
        gfuse_temp_forget(o->tmp_path);
    }
    free(o->path);
    free(o->target);
    free(o->tmp_path);
    memset(o, 0, sizeof *o);
}

/* ---- the public face, for the tool and other callers ------------------------------------- */

gfuse_status gfuse_output_open(gfuse_output **out, const char *path)
{
    *out = NULL;
    gfuse_output *w = gfuse_i_zalloc(1, sizeof *w);
    if (!w) return gfuse_i_nomem("an output file");
    gfuse_status s = gfuse_i_outfile_open(&w->o, path, "wb");
    if (s != GFUSE_OK) {
        free(w);
        return s;
    }
    *out = w;
    return GFUSE_OK;
}

FILE *gfuse_output_stream(const gfuse_output *w) { return w ? w->o.f : NULL; }

gfuse_status gfuse_output_commit(gfuse_output **w)
{
    if (!w || !*w) return gfuse_i_error(GFUSE_ERR_STATE, "output file is not open");
    gfuse_status s = gfuse_i_outfile_commit(&(*w)->o);
    free(*w);
    *w = NULL;
    return s;
}

void gfuse_output_abort(gfuse_output **w)
{
    if (!w || !*w) return;
    gfuse_i_outfile_abort(&(*w)->o);
    free(*w);
    *w = NULL;
}
