/* cmd_synth.c: `gfuse synth`, a synthetic incomplete cohort with its complete truth. */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_MODALITIES 64

/* --features "D" or "D1,D2,...,DM" into d[0..M-1]. Returns 0 or the usage exit code. */
static int parse_features(const char *arg, int M, int64_t *d)
{
    int n = 0;
    const char *p = arg;
    while (1) {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno != 0 || v < 1 || v > 10000000 || (*end != ',' && *end != '\0') ||
            n >= M)
            break;
        d[n++] = v;
        if (*end == '\0') {
            if (n == 1)
                for (int m = 1; m < M; m++) d[m] = d[0];
            else if (n != M)
                break;
            return 0;
        }
        p = end + 1;
    }
    return cli_usage_error("synth",
                           "--features: expected one integer >= 1 or %d comma-separated ones "
                           "(one per modality), got '%s'",
                           M, arg);
}

/* Whether name is "mod<digits>.csv". */
static int is_modality_file(const char *name)
{
    if (strncmp(name, "mod", 3) != 0) return 0;
    const char *p = name + 3;
    if (*p < '0' || *p > '9') return 0;
    while (*p >= '0' && *p <= '9') p++;
    return strcmp(p, ".csv") == 0;
}

/* Whether folder dir holds only what gfuse synth writes (so --force may replace it). truth is
 * 1 for the truth/ subfolder. */
static int is_synth_folder(const char *dir, int truth)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int ok = 1;
    struct dirent *e;
    while (ok && (e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || is_modality_file(name))
            continue;
        if (truth)
            ok = strcmp(name, "latent.csv") == 0 || strcmp(name, "missing.csv") == 0;
        else if (strcmp(name, "truth") == 0) {
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/truth", dir);
            ok = is_synth_folder(sub, 1);
        } else
            ok = strcmp(name, "labels.csv") == 0 || strcmp(name, "split.csv") == 0;
    }
    closedir(d);
    return ok;
}

/* Removes a folder that is_synth_folder accepted. */
static void remove_synth_folder(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (strcmp(e->d_name, "truth") == 0)
            remove_synth_folder(path);
        else
            remove(path);
    }
    closedir(d);
    rmdir(dir);
}

/* 1 when path is a folder with something in it. */
static int non_empty_folder(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return 0;
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(d);
    return n > 0;
}

/* --force: writes the new cohort beside the old one, swaps them, then removes the old one. */
static int replace_folder(const char *out, const gfuse_synth_options *so)
{
    char fresh[4096], old[4096];
    snprintf(fresh, sizeof fresh, "%s.new.%ld", out, (long)getpid());
    snprintf(old, sizeof old, "%s.old.%ld", out, (long)getpid());
    gfuse_status st = gfuse_synth_write(fresh, so);
    if (st != GFUSE_OK) return cli_fail("synth", st);
    if (rename(out, old) != 0) {
        cli_error("synth", "%s: cannot move the old cohort aside: %s", out, strerror(errno));
        remove_synth_folder(fresh);
        return CLI_EXIT_FAILURE;
    }
    if (rename(fresh, out) != 0) {
        cli_error("synth", "%s: cannot rename %s into place: %s", out, fresh, strerror(errno));
        rename(old, out);
        remove_synth_folder(fresh);
        return CLI_EXIT_FAILURE;
    }
    remove_synth_folder(old);
    return 0;
}

int cmd_synth(int argc, char **argv)
{
    gfuse_synth_options so;
    gfuse_synth_options_init(&so);
    const char *out = NULL, *features = "50";
    int mechanism = (int)so.mechanism, force = 0, quiet = 0;
    int64_t n_features[MAX_MODALITIES];
    cli_option opts[] = {
        {.name = "out", .kind = CLI_STRING, .dest = &out, .metavar = "DIR",
         .help = "folder to create (must not exist, or be empty)"},
        {.name = "samples", .kind = CLI_INT64, .dest = &so.n_samples, .metavar = "N",
         .bounds = CLI_MIN | CLI_MAX, .min = 2, .max = 1e8, .help = "number of samples"},
        {.name = "modalities", .kind = CLI_INT, .dest = &so.n_modalities, .metavar = "M",
         .bounds = CLI_MIN | CLI_MAX, .min = 1, .max = MAX_MODALITIES,
         .help = "number of modalities, named mod1..modM"},
        {.name = "features", .kind = CLI_STRING, .dest = &features, .metavar = "D[,D2,...]",
         .help = "features per modality: one count for all, or one per modality"},
        {.name = "classes", .kind = CLI_INT, .dest = &so.n_classes, .metavar = "K",
         .bounds = CLI_MIN | CLI_MAX, .min = 1, .max = 1000, .help = "number of classes"},
        {.name = "latent", .kind = CLI_INT, .dest = &so.latent_dim, .metavar = "L",
         .bounds = CLI_MIN | CLI_MAX, .min = 1, .max = 4096,
         .help = "dimension of the latent space every modality sees"},
        {.name = "missing", .kind = CLI_DOUBLE, .dest = &so.missing_rate, .metavar = "R",
         .bounds = CLI_MIN | CLI_MAX, .min = 0, .max = 1,
         .help = "share of samples lacking at least one modality"},
        {.name = "mechanism", .kind = CLI_CHOICE, .dest = &mechanism, .choices = "mcar|mnar",
         .help = "missing completely at random, or driven by the unseen values"},
        {.name = "noise", .kind = CLI_DOUBLE, .dest = &so.noise, .metavar = "S",
         .bounds = CLI_MIN, .min = 0, .help = "noise standard deviation relative to the signal"},
        {.name = "separation", .kind = CLI_DOUBLE, .dest = &so.class_separation, .metavar = "C",
         .bounds = CLI_MIN, .min = 0, .help = "distance between class centres (latent units)"},
        {.name = "test-fraction", .kind = CLI_DOUBLE, .dest = &so.test_fraction, .metavar = "F",
         .bounds = CLI_MIN | CLI_MAX, .min = 0, .max = 0.99,
         .help = "share of each class put in the test split"},
        {.name = "seed", .kind = CLI_UINT64, .dest = &so.seed, .metavar = "S",
         .help = "random seed; the same options give byte-identical files"},
        {.name = "force", .kind = CLI_FLAG, .dest = &force,
         .help = "replace --out if it holds an earlier gfuse synth cohort"},
        {.name = "quiet", .kind = CLI_FLAG, .dest = &quiet, .help = "print nothing on success"},
        CLI_END};
    cli_spec spec = {
        .name = "synth",
        .synopsis = "--out DIR [--samples N] [--modalities M] [--features D[,D2,...]] "
                    "[--missing R] [--seed S] [options]",
        .description =
            "Writes a synthetic cohort with a known truth: latent classes seen through every\n"
            "modality (partly nonlinearly) with noise, so modalities are correlated and missing\n"
            "ones can be completed. DIR gets mod1.csv..modM.csv (present rows only),\n"
            "labels.csv, split.csv (stratified train/test) and truth/: the complete matrices\n"
            "truth/modK.csv, truth/latent.csv (id, class, latent coordinates) and\n"
            "truth/missing.csv (1 = present).\n"
            "MCAR: incomplete samples and their lost modalities are drawn uniformly. MNAR: the\n"
            "higher a sample's (unseen) first feature of a modality, the likelier it is missing.\n"
            "Every incomplete sample keeps at least one modality.",
        .options = opts};
    int rc;
    if (!cli_parse_command(&spec, argc, argv, &rc)) return rc;
    if (!out) return cli_usage_error("synth", "--out DIR is required");
    if ((rc = parse_features(features, so.n_modalities, n_features)) != 0) return rc;
    so.n_features = n_features;
    so.mechanism = mechanism == 1 ? GFUSE_MISSING_MNAR : GFUSE_MISSING_MCAR;
    if (so.n_samples < so.n_classes)
        return cli_usage_error("synth", "--samples (%lld) must be at least --classes (%d)",
                               (long long)so.n_samples, so.n_classes);
    if (so.missing_rate > 0 && so.n_modalities < 2)
        return cli_usage_error("synth", "--missing must be 0 with a single modality (every "
                                        "sample keeps at least one modality)");

    if (non_empty_folder(out)) {
        if (!force)
            return cli_usage_error("synth", "%s exists and is not empty (--force replaces an "
                                            "earlier gfuse synth cohort)",
                                   out);
        if (!is_synth_folder(out, 0))
            return cli_usage_error("synth", "%s holds files gfuse synth did not write; "
                                            "not replacing it",
                                   out);
        rc = replace_folder(out, &so);
    } else {
        gfuse_status st = gfuse_synth_write(out, &so);
        rc = st == GFUSE_OK ? 0 : cli_fail("synth", st);
    }
    if (rc == 0 && !quiet)
        printf("wrote %s: %lld samples, %d modalities, %d classes, %.0f%% incomplete (%s), "
               "seed %llu\n",
               out, (long long)so.n_samples, so.n_modalities, so.n_classes,
               100.0 * so.missing_rate, mechanism == 1 ? "mnar" : "mcar",
               (unsigned long long)so.seed);
    return rc;
}
