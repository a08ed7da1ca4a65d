/* cmd_bench.c: `gfuse bench`: times training on a synthetic cohort (the gfuse model, or the
 * PyTorch Geometric peer's plain GAT model with --like-peer) and prints the timings. */
#include "cli.h"

#include <math.h>
#include <string.h>

static void print_text(const gfuse_bench_result *r, const gfuse_bench_options *o)
{
    printf("model            %s\n", r->like_peer ? "peer GAT (--like-peer)" : "gfuse");
    printf("samples          %lld x %d modalities x %lld features, %d classes\n",
           (long long)o->n_samples, o->n_modalities, (long long)o->n_features, o->n_classes);
    printf("graph            %lld nodes, %lld edges%s\n", (long long)r->nodes,
           (long long)r->edges, r->like_peer ? " (self loops included)" : "");
    printf("parameters       %lld\n", (long long)r->parameters);
    printf("threads          %d\n", r->threads);
    printf("cohort           %.4f s\n", r->synth_s);
    printf("graph build      %.4f s\n", r->graph_build_s);
    printf("setup            %.4f s (graph included)\n", r->setup_s);
    printf("epoch            median %.4f s, min %.4f s, max %.4f s over %d epochs after %d "
           "warm-up\n",
           r->epoch_median_s, r->epoch_min_s, r->epoch_max_s, r->epochs, r->warmup);
    printf("  forward        %.4f s\n", r->forward_s);
    printf("  backward       %.4f s\n", r->backward_s);
    printf("  optimizer      %.4f s\n", r->optimizer_s);
    if (!r->like_peer) {
        printf("  validation     %.4f s\n", r->eval_s);
        printf("decoder refit    %.4f s\n", r->refit_s);
    } else {
        printf("loss             %.4f -> %.4f\n", r->loss_first, r->loss_last);
    }
    if (!isnan(r->kernel_forward_s))
        printf("GAT kernel       forward %.5f s (%.2f GB/s of %.1f MB), backward %.5f s\n",
               r->kernel_forward_s, r->kernel_gbs, r->kernel_bytes * 1e-6, r->kernel_backward_s);
    printf("peak RSS         %.1f MB\n", r->peak_rss_mb);
    printf("params digest    %016llx\n", (unsigned long long)r->params_digest);
}

static void print_json(const gfuse_bench_result *r, const gfuse_bench_options *o)
{
    cli_json j;
    cli_json_init(&j, stdout);
    cli_json_begin_object(&j);
    cli_json_key(&j, "model");
    cli_json_string(&j, r->like_peer ? "peer_gat" : "gfuse");
    cli_json_key(&j, "samples");
    cli_json_int(&j, o->n_samples);
    cli_json_key(&j, "modalities");
    cli_json_int(&j, o->n_modalities);
    cli_json_key(&j, "features");
    cli_json_int(&j, o->n_features);
    cli_json_key(&j, "classes");
    cli_json_int(&j, o->n_classes);
    cli_json_key(&j, "k");
    cli_json_int(&j, o->train.k);
    cli_json_key(&j, "hidden");
    cli_json_int(&j, o->train.hidden);
    cli_json_key(&j, "heads");
    cli_json_int(&j, o->train.heads);
    cli_json_key(&j, "layers");
    cli_json_int(&j, r->like_peer ? 2 : o->train.layers);
    cli_json_key(&j, "peer_graph");
    if (o->peer_graph)
        cli_json_string(&j, o->peer_graph);
    else
        cli_json_null(&j);
    cli_json_key(&j, "nodes");
    cli_json_int(&j, r->nodes);
    cli_json_key(&j, "edges");
    cli_json_int(&j, r->edges);
    cli_json_key(&j, "threads");
    cli_json_int(&j, r->threads);
    cli_json_key(&j, "parameters");
    cli_json_int(&j, r->parameters);
    cli_json_key(&j, "epochs");
    cli_json_int(&j, r->epochs);
    cli_json_key(&j, "warmup");
    cli_json_int(&j, r->warmup);
    const struct {
        const char *key;
        double v;
    } d[] = {{"synth_s", r->synth_s},
             {"graph_build_s", r->graph_build_s},
             {"setup_s", r->setup_s},
             {"epoch_median_s", r->epoch_median_s},
             {"epoch_min_s", r->epoch_min_s},
             {"epoch_max_s", r->epoch_max_s},
             {"forward_s", r->forward_s},
             {"backward_s", r->backward_s},
             {"optimizer_s", r->optimizer_s},
             {"eval_s", r->eval_s},
             {"refit_s", r->refit_s},
             {"loss_first", r->loss_first},
             {"loss_last", r->loss_last},
             {"peak_rss_mb", r->peak_rss_mb},
             {"kernel_forward_s", r->kernel_forward_s},
             {"kernel_backward_s", r->kernel_backward_s},
             {"kernel_bytes", r->kernel_bytes},
             {"kernel_gbs", r->kernel_gbs}};
    for (size_t q = 0; q < sizeof d / sizeof d[0]; q++) {
        cli_json_key(&j, d[q].key);
        cli_json_double(&j, d[q].v);
    }
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)r->params_digest);
    cli_json_key(&j, "params_digest");
    cli_json_string(&j, hex);
    cli_json_key(&j, "epoch_s");
    cli_json_begin_array(&j);
    for (int e = 0; e < r->warmup + r->epochs; e++) cli_json_double(&j, r->epoch_s[e]);
    cli_json_end_array(&j);
    cli_json_end_object(&j);
    cli_json_finish(&j);
}

int cmd_bench(int argc, char **argv)
{
    cli_model_args ma;
    cli_model_args_init(&ma);
    gfuse_bench_options bo;
    gfuse_bench_options_init(&bo);
    int threads = 0, json = 0;
    cli_option before[] = {
        {.name = "samples", .kind = CLI_INT64, .dest = &bo.n_samples, .metavar = "N",
         .bounds = CLI_MIN | CLI_MAX, .min = 2, .max = 1e8, .help = "samples of the cohort"},
        {.name = "modalities", .kind = CLI_INT, .dest = &bo.n_modalities, .metavar = "M",
         .bounds = CLI_MIN | CLI_MAX, .min = 1, .max = 64, .help = "modalities"},
        {.name = "features", .kind = CLI_INT64, .dest = &bo.n_features, .metavar = "D",
         .bounds = CLI_MIN | CLI_MAX, .min = 1, .max = 1e6, .help = "features per modality"},
        {.name = "classes", .kind = CLI_INT, .dest = &bo.n_classes, .metavar = "C",
         .bounds = CLI_MIN | CLI_MAX, .min = 2, .max = 1000, .help = "classes of the labels"},
        {.name = "missing", .kind = CLI_DOUBLE, .dest = &bo.missing_rate, .metavar = "R",
         .bounds = CLI_MIN | CLI_MAX, .min = 0, .max = 1,
         .help = "share of samples lacking a modality (gfuse model)"},
        {.name = "epochs", .kind = CLI_INT, .dest = &bo.epochs, .metavar = "E",
         .bounds = CLI_MIN | CLI_MAX, .min = 1, .max = 1000000,
         .help = "timed epochs (medians are over these)"},
        {.name = "warmup", .kind = CLI_INT, .dest = &bo.warmup, .metavar = "W",
         .bounds = CLI_MIN | CLI_MAX, .min = 0, .max = 1000000,
         .help = "epochs run first and left out of the statistics"},
        {.name = "kernel-reps", .kind = CLI_INT, .dest = &bo.kernel_reps, .metavar = "R",
         .bounds = CLI_MIN | CLI_MAX, .min = 0, .max = 100000,
         .help = "runs of the GAT kernel alone on the graph, for its bandwidth (0 = skip)"},
        {.name = "like-peer", .kind = CLI_FLAG, .dest = &bo.like_peer,
         .help = "the PyG peer's plain 2-layer GAT model and graph instead of gfuse's model"},
        {.name = "peer-graph", .kind = CLI_STRING, .dest = &bo.peer_graph, .metavar = "STEM",
         .help = "with --like-peer: the graph peer_pyg.py --export-dir wrote "
                 "(STEM.edges.i32, STEM.labels.i32)",
         .def = "none: build the same recipe"},
        CLI_END};
    cli_option after[] = {
        {.name = "threads", .kind = CLI_INT, .dest = &threads, .metavar = "T", .bounds = CLI_MIN,
         .min = 0, .help = "threads to use", .def = "0 = OMP_NUM_THREADS or all cores"},
        {.name = "json", .kind = CLI_FLAG, .dest = &json, .help = "print one JSON object"},
        CLI_END};
    cli_spec spec = {
        .name = "bench",
        .synopsis = "[--samples N] [--modalities M] [--features D] [--like-peer] [OPTIONS]",
        .description =
            "Times training on this machine. Makes a synthetic cohort like `gfuse synth` (in\n"
            "memory), builds its graph and trains the gfuse model (one member, no early stop)\n"
            "for --warmup then --epochs epochs, or with --like-peer the PyTorch Geometric peer's\n"
            "plain GAT model (peer_pyg.py: linear encoders to 64, GAT with --heads heads\n"
            "of --hidden/--heads, ELU, GAT to the classes, Adam at --lr, no dropout) on the\n"
            "peer's graph. Prints graph build and setup time, median, min and max epoch time\n"
            "with its forward/backward/optimizer split, peak memory, graph size, threads,\n"
            "parameters, and the GAT kernel's bandwidth. --like-peer reads --heads, --hidden,\n"
            "--k, --lr and --seed of the model options.",
        .options = cli_model_args_options(&ma, 0, before, after)};
    gfuse_bench_result res;
    memset(&res, 0, sizeof res);
    int rc;
    if (!cli_parse_command(&spec, argc, argv, &rc)) goto done;
    if (bo.peer_graph && !bo.like_peer) {
        rc = cli_usage_error("bench", "--peer-graph needs --like-peer");
        goto done;
    }
    if (bo.n_samples < bo.n_classes) {
        rc = cli_usage_error("bench", "--samples (%lld) must be at least --classes (%d)",
                             (long long)bo.n_samples, bo.n_classes);
        goto done;
    }
    if (!bo.peer_graph && ma.to.k >= bo.n_samples) {
        rc = cli_usage_error("bench", "--k (%d) must be below --samples (%lld)", ma.to.k,
                             (long long)bo.n_samples);
        goto done;
    }
    if ((rc = cli_model_args_finish("bench", &ma)) != 0) goto done;
    if ((rc = cli_set_threads("bench", threads)) != 0) goto done;
    gfuse_status st;
    bo.train = ma.to;
    st = gfuse_bench_run(&bo, &res);
    if (st != GFUSE_OK) {
        rc = cli_fail("bench", st);
        goto done;
    }
    if (json)
        print_json(&res, &bo);
    else
        print_text(&res, &bo);
    rc = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
done:
    gfuse_bench_result_free(&res);
    cli_model_args_free(&ma);
    return rc;
}
