/*
 * report_svg_eval.c: the same chart drawn by the three ways `gfuse report` could draw its SVG:
 * PLplot 5.15's svg device, cairo 1.16's SVG surface, and gfuse's own writer
 * (src/cli/html.c). The chart is a ROC curve of 76 points with a title, axis labels, a
 * diagonal and a legend, whose title holds characters that must be escaped and UTF-8
 * ("AUROC <0.9> & \"ids\" \xC3\xA9\xE2\x80\x94"). For each it writes the SVG to
 * bench/out/report_svg_<name>.svg and prints the bytes, the median time of 50 charts, how many
 * <text> elements the file holds (text a reader can search and copy) and whether the
 * title's '<' reached the file unescaped. bench/report_svg_eval.py then parses each file as
 * XML and looks for the title and the labels (bench/results/report-svg.md).
 *
 * Not part of the build (it needs libplplot-dev and libcairo2-dev, which gfuse does not); in a
 * built tree:
 *   cc -O2 -std=c11 -Iinclude -Isrc bench/report_svg_eval.c src/cli/html.c src/cli/output.c \
 *      src/cli/args.c .libs/libgfuse.so $(pkg-config --cflags --libs plplot cairo) -lm -o bench/out/svg_eval
 *   LD_LIBRARY_PATH=.libs bench/out/svg_eval
 */
#include "cli/cli.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <plplot.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N 76
static const char title[] = "AUROC <0.9> & \"ids\" \xC3\xA9\xE2\x80\x94";
static double fpr[N], tpr[N];

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static void plplot_chart(const char *path)
{
    PLFLT x[N], y[N];
    for (int k = 0; k < N; k++) x[k] = fpr[k], y[k] = tpr[k];
    plsdev("svg");
    plsfnam(path);
    plsetopt("geometry", "560x440");
    plinit();
    plenv(0, 1, 0, 1, 0, 0);
    pllab("false positive rate", "true positive rate", title);
    plcol0(9);
    plline(N, x, y);
    PLFLT dx[2] = {0, 1}, dy[2] = {0, 1};
    plcol0(15);
    pllsty(2);
    plline(2, dx, dy);
    pllsty(1);
    plptex(0.7, 0.2, 1, 0, 0, "c3 AUC 0.946");
    plend();
}

static void cairo_chart(const char *path)
{
    cairo_surface_t *s = cairo_svg_surface_create(path, 560, 440);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
    cairo_rectangle(cr, 70, 40, 320, 344);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0.45, 0.7);
    for (int k = 0; k < N; k++) {
        double px = 70 + fpr[k] * 320, py = 384 - tpr[k] * 344;
        if (k == 0) cairo_move_to(cr, px, py);
        else cairo_line_to(cr, px, py);
    }
    cairo_stroke(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, 15);
    cairo_move_to(cr, 120, 22);
    cairo_show_text(cr, title);
    cairo_set_font_size(cr, 12);
    cairo_move_to(cr, 160, 425);
    cairo_show_text(cr, "false positive rate");
    cairo_move_to(cr, 400, 50);
    cairo_show_text(cr, "c3 AUC 0.946");
    cairo_destroy(cr);
    cairo_surface_destroy(s);
}

static void gfuse_chart(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) return;
    cli_chart ch;
    cli_chart_begin(&ch, f, "roc", 560, 440, title);
    cli_chart_axes(&ch, 0, 1, 0, 1, "false positive rate", "true positive rate");
    cli_chart_segment(&ch, 0, 0, 1, 1, 6, 1);
    cli_chart_line(&ch, fpr, tpr, N, 0, 0);
    const char *names[] = {"c3 AUC 0.946", "chance"};
    int colors[] = {0, 6}, dash[] = {0, 1};
    cli_chart_legend(&ch, names, colors, dash, 2);
    cli_chart_end(&ch);
    fclose(f);
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void measure(const char *name, void (*draw)(const char *))
{
    char path[256];
    snprintf(path, sizeof path, "bench/out/report_svg_%s.svg", name);
    double t[50];
    for (int r = 0; r < 50; r++) {
        double t0 = now();
        draw(path);
        t[r] = now() - t0;
    }
    qsort(t, 50, sizeof t[0], compare);
    FILE *f = fopen(path, "rb");
    if (!f) return;
    static char buf[1 << 22];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    int texts = 0;
    for (const char *p = buf; (p = strstr(p, "<text")) != NULL; p++) texts++;
    printf("%-7s %8zu bytes  %8.3f ms  %3d <text>  raw '<0.9>' %s\n", name, n, t[25] * 1e3,
           texts, strstr(buf, "<0.9>") ? "yes (not XML)" : "no");
}

int main(void)
{
    for (int k = 0; k < N; k++) {
        double u = (double)k / (N - 1);
        fpr[k] = u;
        tpr[k] = pow(u, 0.25);
    }
    measure("plplot", plplot_chart);
    measure("cairo", cairo_chart);
    measure("gfuse", gfuse_chart);
    return 0;
}
