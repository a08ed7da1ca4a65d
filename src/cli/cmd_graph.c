/* cmd_graph.c: `gfuse graph`, builds the sample-modality graph of a cohort and reports its
 * size, degrees, components and how far missing nodes are from observed information; exports
 * it as GraphML or a TSV edge list. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char *const kind_name[3] = {"observed", "missing", "hub"};
static const char *const relation_name[GFUSE_N_RELATIONS] = {"knn", "member", "self"};

static void print_text(FILE *f, const gfuse_graph *g, const gfuse_graph_stats *s,
                       const char *metric, double seconds)
{
    fprintf(f, "graph: %lld nodes (%lld samples x (%d modalities + hub)), %lld edges\n",
            (long long)s->n_nodes, (long long)gfuse_graph_n_samples(g),
            gfuse_graph_n_modalities(g), (long long)s->n_edges);
    fprintf(f, "k: %d, metric: %s, built in %.3f s\n", gfuse_graph_k(g), metric, seconds);
    fprintf(f, "\nedges by relation:\n");
    for (int r = 0; r < GFUSE_N_RELATIONS; r++)
        fprintf(f, "  %-8s %12lld\n", relation_name[r], (long long)s->edges_by_relation[r]);
    fprintf(f, "\nnodes and in-degree by kind:\n");
    fprintf(f, "  %-10s %10s %8s %10s %8s\n", "kind", "nodes", "min", "mean", "max");
    for (int k = 0; k < 3; k++)
        fprintf(f, "  %-10s %10lld %8lld %10.2f %8lld\n", kind_name[k],
                (long long)s->nodes_by_kind[k], (long long)s->in_degree_min[k],
                s->in_degree_mean[k], (long long)s->in_degree_max[k]);
    fprintf(f, "\nweakly connected components: %lld (largest: %lld nodes)\n",
            (long long)s->n_components, (long long)s->largest_component);
    int64_t n_missing = s->nodes_by_kind[1];
    fprintf(f, "\nmissing nodes: %lld\n", (long long)n_missing);
    fprintf(f, "  reached from observed information within\n");
    for (int h = 1; h <= s->max_hops; h++)
        fprintf(f, "    %d hop%s %12lld\n", h, h == 1 ? ": " : "s:",
                (long long)s->reachable_within[h - 1]);
    fprintf(f, "  unreachable: %lld\n", (long long)s->missing_unreachable);
    fprintf(f, "  without knn edge (no shared modality): %lld\n",
            (long long)s->n_isolated_missing);
}

static void print_json(FILE *f, const gfuse_graph *g, const gfuse_graph_stats *s,
                       const char *metric, double seconds)
{
    cli_json j;
    cli_json_init(&j, f);
    cli_json_begin_object(&j);
    cli_json_key(&j, "nodes");
    cli_json_int(&j, s->n_nodes);
    cli_json_key(&j, "edges");
    cli_json_int(&j, s->n_edges);
    cli_json_key(&j, "samples");
    cli_json_int(&j, gfuse_graph_n_samples(g));
    cli_json_key(&j, "modalities");
    cli_json_int(&j, gfuse_graph_n_modalities(g));
    cli_json_key(&j, "k");
    cli_json_int(&j, gfuse_graph_k(g));
    cli_json_key(&j, "metric");
    cli_json_string(&j, metric);
    cli_json_key(&j, "edges_by_relation");
    cli_json_begin_object(&j);
    for (int r = 0; r < GFUSE_N_RELATIONS; r++) {
        cli_json_key(&j, relation_name[r]);
        cli_json_int(&j, s->edges_by_relation[r]);
    }
    cli_json_end_object(&j);
    cli_json_key(&j, "nodes_by_kind");
    cli_json_begin_object(&j);
    for (int k = 0; k < 3; k++) {
        cli_json_key(&j, kind_name[k]);
        cli_json_int(&j, s->nodes_by_kind[k]);
    }
    cli_json_end_object(&j);
    cli_json_key(&j, "in_degree");
    cli_json_begin_object(&j);
    for (int k = 0; k < 3; k++) {
        cli_json_key(&j, kind_name[k]);
        cli_json_begin_object(&j);
        cli_json_key(&j, "min");
        cli_json_int(&j, s->in_degree_min[k]);
        cli_json_key(&j, "mean");
        cli_json_double(&j, s->in_degree_mean[k]);
        cli_json_key(&j, "max");
        cli_json_int(&j, s->in_degree_max[k]);
        cli_json_end_object(&j);
    }
    cli_json_end_object(&j);
    cli_json_key(&j, "components");
    cli_json_int(&j, s->n_components);
    cli_json_key(&j, "largest_component");
    cli_json_int(&j, s->largest_component);
    cli_json_key(&j, "missing_nodes");
    cli_json_int(&j, s->nodes_by_kind[1]);
    cli_json_key(&j, "reachable_within_hops");
    cli_json_begin_array(&j);
    for (int h = 1; h <= s->max_hops; h++) cli_json_int(&j, s->reachable_within[h - 1]);
    cli_json_end_array(&j);
    cli_json_key(&j, "missing_unreachable");
    cli_json_int(&j, s->missing_unreachable);
    cli_json_key(&j, "isolated_missing");
    cli_json_int(&j, s->n_isolated_missing);
    cli_json_key(&j, "build_seconds");
    cli_json_double(&j, seconds);
    cli_json_end_object(&j);
    cli_json_finish(&j);
}

int cmd_graph(int argc, char **argv)
{
    cli_cohort_args ca;
    cli_cohort_args_init(&ca);
    gfuse_graph_options go;
    gfuse_graph_options_init(&go);
    int metric = 0, order = 0, stats = 0, json = 0, hops = 3, raw = 0, unweighted = 0;
    const char *graphml = NULL, *edges = NULL, *out = "-";
    cli_option opts[] = {
        CLI_COHORT_OPTIONS(&ca),
        {.name = "k", .kind = CLI_INT, .dest = &go.k, .metavar = "K", .bounds = CLI_MIN | CLI_MAX,
         .min = 1, .max = 100000, .help = "neighbours per node in the knn relation"},
        {.name = "metric", .kind = CLI_CHOICE, .dest = &metric, .choices = "cosine|euclidean",
         .help = "similarity of standardised feature vectors"},
        {.name = "raw", .kind = CLI_FLAG, .dest = &raw,
         .help = "measure similarity on raw values instead of z-scores"},
        {.name = "unweighted", .kind = CLI_FLAG, .dest = &unweighted,
         .help = "weight 1 on knn edges instead of the similarity"},
        {.name = "order", .kind = CLI_CHOICE, .dest = &order, .choices = "natural|rcm|amd",
         .help = "row visiting order for the kernels"},
        {.name = "stats", .kind = CLI_FLAG, .dest = &stats,
         .help = "report the statistics (the default when no file is asked for)"},
        {.name = "json", .kind = CLI_FLAG, .dest = &json, .help = "statistics as a JSON object"},
        {.name = "hops", .kind = CLI_INT, .dest = &hops, .metavar = "L",
         .bounds = CLI_MIN | CLI_MAX, .min = 1, .max = 1000,
         .help = "count missing nodes within 1..L hops of observed information"},
        {.name = "out", .kind = CLI_STRING, .dest = &out, .metavar = "FILE",
         .help = "write the statistics to FILE", .def = "- (standard output)"},
        {.name = "graphml", .kind = CLI_STRING, .dest = &graphml, .metavar = "FILE",
         .help = "write the graph as GraphML", .def = "none"},
        {.name = "edges", .kind = CLI_STRING, .dest = &edges, .metavar = "FILE",
         .help = "write the edges as TSV: src, dst, relation, weight", .def = "none"},
        CLI_END};
    cli_spec spec = {
        .name = "graph",
        .synopsis = "--cohort DIR [--k K] [--metric cosine|euclidean] [--mask FILE] [--stats] "
                    "[--json] [--hops L] [--graphml FILE] [--edges FILE] [options]",
        .description =
            "Builds the sample-modality graph: a node per (sample, modality), present or\n"
            "missing, and a hub per sample (N x (M + 1) nodes; modality node (i, m) has id\n"
            "m * N + i, hub i has id M * N + i). Edges: knn from the k most similar observed\n"
            "nodes of the same modality (for a missing node, similarity is the mean over the\n"
            "modalities the two samples share), member between a modality node and its hub,\n"
            "self on every node. Reports edges per relation, in-degrees per node kind, weakly\n"
            "connected components and how many missing nodes observed information reaches\n"
            "within 1..L hops; missing nodes nothing reaches are a warning.\n"
            "JSON keys: nodes, edges, samples, modalities, k, metric, edges_by_relation{knn,\n"
            "member, self}, nodes_by_kind{observed, missing, hub}, in_degree{kind: {min, mean,\n"
            "max}}, components, largest_component, missing_nodes, reachable_within_hops[L],\n"
            "missing_unreachable, isolated_missing, build_seconds.\n"
            "--edges names a modality node ID/MODALITY and a hub ID.",
        .options = opts};
    gfuse_cohort *cohort = NULL;
    gfuse_graph *g = NULL;
    gfuse_graph_stats s;
    memset(&s, 0, sizeof s);
    cli_outfile of = {0};
    int rc;
    if (!cli_parse_command(&spec, argc, argv, &rc)) goto done;
    go.metric = metric == 1 ? GFUSE_METRIC_EUCLIDEAN : GFUSE_METRIC_COSINE;
    go.reorder = order == 1 ? GFUSE_ORDER_RCM : order == 2 ? GFUSE_ORDER_AMD : GFUSE_ORDER_NATURAL;
    go.standardize = !raw;
    go.weighted = !unweighted;
    if (json || (!graphml && !edges)) stats = 1;

    if ((rc = cli_cohort_load("graph", &ca, &cohort)) != 0) goto done;
    const char *outs[] = {stats ? out : NULL, graphml, edges};
    if ((rc = cli_outputs_check("graph", &ca, cohort, NULL, 0, outs, 3)) != 0) goto done;
    double t0 = cli_now();
    gfuse_status st = gfuse_graph_build(&g, cohort, &go);
    if (st != GFUSE_OK) {
        rc = cli_fail("graph", st);
        goto done;
    }
    double seconds = cli_now() - t0;
    const char *metric_name = metric == 1 ? "euclidean" : "cosine";
    if (!ca.quiet)
        fprintf(stderr, "gfuse graph: %lld nodes, %lld edges, built in %.3f s\n",
                (long long)gfuse_graph_n_nodes(g), (long long)gfuse_graph_n_edges(g), seconds);

    if (stats) {
        st = gfuse_graph_stats_compute(g, hops, &s);
        if (st != GFUSE_OK) {
            rc = cli_fail("graph", st);
            goto done;
        }
        /* Shown even with --quiet: these nodes cannot learn anything. */
        if (s.missing_unreachable > 0)
            cli_warning("%lld missing node%s cannot be reached from any observed node (samples "
                        "with no observed modality?): nothing can be learned for them",
                        (long long)s.missing_unreachable, s.missing_unreachable == 1 ? "" : "s");
        if ((rc = cli_outfile_open(&of, "graph", out)) != 0) goto done;
        if (json) print_json(of.f, g, &s, metric_name, seconds);
        else print_text(of.f, g, &s, metric_name, seconds);
        if ((rc = cli_outfile_commit(&of, "graph")) != 0) goto done;
    } else if (gfuse_graph_n_isolated_missing(g) > 0 && !ca.quiet) {
        cli_warning("%lld missing nodes share no modality with any observed node of their "
                    "modality and got no knn edge",
                    (long long)gfuse_graph_n_isolated_missing(g));
    }
    /* the edge list first: it refuses names TSV cannot hold before anything is written */
    if (edges && (st = gfuse_graph_write_edges(g, cohort, edges)) != GFUSE_OK) {
        rc = cli_fail("graph", st);
        goto done;
    }
    if (graphml && (st = gfuse_graph_write_graphml(g, cohort, graphml)) != GFUSE_OK) {
        rc = cli_fail("graph", st);
        goto done;
    }
    rc = CLI_EXIT_OK;
done:
    cli_outfile_abort(&of);
    gfuse_graph_stats_free(&s);
    gfuse_graph_free(&g);
    gfuse_cohort_free(&cohort);
    cli_cohort_args_free(&ca);
    return rc;
}
