/* export.c: the graph as GraphML and as a TSV edge list, written atomically. */
#include "graph/graph.h"
#include "core/util.h"

#include <stdio.h>
#include <string.h>

static const char *const relation_name[GFUSE_I_N_REL] = {"knn", "member", "self"};

static gfuse_status check_pair(const gfuse_graph *g, const gfuse_cohort *c, const char *path)
{
    GFUSE_CHECK_ARG(g != NULL, "graph must not be NULL");
    GFUSE_CHECK_ARG(c != NULL, "cohort must not be NULL");
    GFUSE_CHECK_ARG(path != NULL && path[0], "path must be a non-empty string");
    GFUSE_CHECK_ARG(g->n_samples == c->n && g->n_mod == c->m,
                    "the graph (%lld samples, %d modalities) was not built from this cohort "
                    "(%lld samples, %d modalities)",
                    (long long)g->n_samples, g->n_mod, (long long)c->n, c->m);
    return GFUSE_OK;
}

/* Writes s with XML escaping; control characters and the noncharacters U+FFFE and U+FFFF,
 * which XML 1.0 cannot hold, become U+FFFD (the input reader refuses invalid UTF-8). */
static void xml_text(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') {
                fputs("\xEF\xBF\xBD", f);
            } else if (p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF)) {
                fputs("\xEF\xBF\xBD", f); /* U+FFFE and U+FFFF are not XML characters */
                p += 2;
            } else {
                fputc(*p, f);
            }
        }
    }
}

/* A node's name: "ID/MODALITY" for a modality node, "ID" for a hub. */
static void node_name(FILE *f, const struct gfuse_graph *g, const gfuse_cohort *c, int64_t v)
{
    int64_t i = v % g->n_samples, m = v / g->n_samples;
    fputs(c->id[i], f);
    if (m < g->n_mod) {
        fputc('/', f);
        fputs(c->mod[m].name, f);
    }
}

/* Checks that g and c belong together and opens path for writing as out. */
static gfuse_status open_export(gfuse_i_outfile *out, const gfuse_graph *g, const gfuse_cohort *c,
                                const char *path)
{
    gfuse_status st = check_pair(g, c, path);
    if (st != GFUSE_OK) return st;
    return gfuse_i_outfile_open(out, path, "w");
}

/* A name the TSV edge list cannot hold (a tab or a line break would split its row; TSV has no
 * quoting): GFUSE_ERR_DATA naming it. */
static gfuse_status tsv_name(const char *what, const char *name)
{
    size_t bad = strcspn(name, "\t\n\r");
    if (name[bad] == '\0') return GFUSE_OK;
    return gfuse_i_error(GFUSE_ERR_DATA,
                         "%s \"%.60s\" holds a %s, which a tab-separated edge list cannot hold; "
                         "rename it, or export with --graphml", what, name,
                         name[bad] == '\t' ? "tab" : "line break");
}

gfuse_status gfuse_graph_write_edges(const gfuse_graph *g, const gfuse_cohort *c,
                                     const char *path)
{
    gfuse_i_outfile out;
    gfuse_status st = check_pair(g, c, path);
    for (int64_t i = 0; i < c->n && st == GFUSE_OK; i++) st = tsv_name("sample id", c->id[i]);
    for (int m = 0; m < c->m && st == GFUSE_OK; m++) st = tsv_name("modality", c->mod[m].name);
    if (st != GFUSE_OK) return st;
    st = open_export(&out, g, c, path);
    if (st != GFUSE_OK) return st;
    FILE *f = out.f;
    fputs("src\tdst\trelation\tweight\n", f);
    for (int64_t v = 0; v < g->n_nodes; v++)
        for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++) {
            node_name(f, g, c, g->in_src[e]);
            fputc('\t', f);
            node_name(f, g, c, v);
            fprintf(f, "\t%s\t%.9g\n", relation_name[g->in_rel[e]], (double)g->in_w[e]);
        }
    return gfuse_i_outfile_commit(&out);
}

gfuse_status gfuse_graph_write_graphml(const gfuse_graph *g, const gfuse_cohort *c,
                                       const char *path)
{
    gfuse_i_outfile out;
    gfuse_status st = open_export(&out, g, c, path);
    if (st != GFUSE_OK) return st;
    FILE *f = out.f;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\"\n"
          "    xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n"
          "    xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns "
          "http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n"
          "  <key id=\"sample\" for=\"node\" attr.name=\"sample\" attr.type=\"string\"/>\n"
          "  <key id=\"modality\" for=\"node\" attr.name=\"modality\" attr.type=\"string\"/>\n"
          "  <key id=\"kind\" for=\"node\" attr.name=\"kind\" attr.type=\"string\"/>\n"
          "  <key id=\"observed\" for=\"node\" attr.name=\"observed\" attr.type=\"boolean\"/>\n"
          "  <key id=\"relation\" for=\"edge\" attr.name=\"relation\" attr.type=\"string\"/>\n"
          "  <key id=\"weight\" for=\"edge\" attr.name=\"weight\" attr.type=\"double\"/>\n"
          "  <graph id=\"gfuse\" edgedefault=\"directed\">\n",
          f);
    int64_t n_mod_nodes = (int64_t)g->n_mod * g->n_samples;
    for (int64_t v = 0; v < g->n_nodes; v++) {
        int64_t i = v % g->n_samples, m = v / g->n_samples;
        int hub = v >= n_mod_nodes;
        fprintf(f, "    <node id=\"n%lld\"><data key=\"sample\">", (long long)v);
        xml_text(f, c->id[i]);
        fputs("</data><data key=\"modality\">", f);
        if (!hub) xml_text(f, c->mod[m].name);
        fprintf(f, "</data><data key=\"kind\">%s</data><data key=\"observed\">%s</data></node>\n",
                hub ? "hub" : g->observed[v] ? "observed" : "missing",
                g->observed[v] && !hub ? "true" : "false");
    }
    for (int64_t v = 0; v < g->n_nodes; v++)
        for (int64_t e = g->in_ptr[v]; e < g->in_ptr[v + 1]; e++)
            fprintf(f,
                    "    <edge id=\"e%lld\" source=\"n%lld\" target=\"n%lld\"><data "
                    "key=\"relation\">%s</data><data key=\"weight\">%.9g</data></edge>\n",
                    (long long)e, (long long)g->in_src[e], (long long)v,
                    relation_name[g->in_rel[e]], (double)g->in_w[e]);
    fputs("  </graph>\n</graphml>\n", f);
    return gfuse_i_outfile_commit(&out);
}
