/* html.c: the HTML page and inline SVG charts of `gfuse report`: text escaped for HTML and
 * SVG, numbers formatted once, tables, and plots in data coordinates with axes, ticks,
 * legends and titles. Everything is written to a FILE (the report's temporary output file). */
#include "cli.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* ---- text and numbers -------------------------------------------------------------------- */

int cli_utf8_length(const char *text, size_t avail)
{
    const unsigned char *s = (const unsigned char *)text;
    if (avail == 0) return 0;
    unsigned c = s[0];
    int n;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
    else return 0;
    if ((size_t)n > avail) return 0;
    for (int k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[k] & 0x3Fu);
    }
    /* overlong forms, UTF-16 surrogates, beyond U+10FFFF */
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

void cli_html_escape(FILE *f, const char *s)
{
    if (!s) return;
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    while (*p) {
        unsigned c = *p;
        switch (c) {
        case '&': fputs("&amp;", f); p++; continue;
        case '<': fputs("&lt;", f); p++; continue;
        case '>': fputs("&gt;", f); p++; continue;
        case '"': fputs("&quot;", f); p++; continue;
        case '\'': fputs("&#39;", f); p++; continue;
        default: break;
        }
        /* Control characters (but tab, LF, CR) are not allowed in XML: U+FFFD instead, as for
         * a byte that does not start valid UTF-8. */
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
            fputs("\xEF\xBF\xBD", f);
            p++;
            continue;
        }
        int n = cli_utf8_length((const char *)p, (size_t)(end - p));
        if (n == 0) {
            fputs("\xEF\xBF\xBD", f);
            p++;
            continue;
        }
        fwrite(p, 1, (size_t)n, f);
        p += n;
    }
}

void cli_html_number(FILE *f, double v, int digits)
{
    if (!isfinite(v)) {
        fputs("NA", f);
        return;
    }
    if (v == 0) v = 0; /* no "-0" */
    fprintf(f, "%.*g", digits, v);
}

/* ---- tables ------------------------------------------------------------------------------ */

void cli_html_table_begin(FILE *f, const char *caption, const char *const *head, int n)
{
    fputs("<div class=\"table\"><table>", f);
    if (caption) {
        fputs("<caption>", f);
        cli_html_escape(f, caption);
        fputs("</caption>", f);
    }
    fputs("<thead><tr>", f);
    for (int k = 0; k < n; k++) {
        fputs("<th scope=\"col\">", f);
        cli_html_escape(f, head[k]);
        fputs("</th>", f);
    }
    fputs("</tr></thead><tbody>\n", f);
}

void cli_html_table_end(FILE *f) { fputs("</tbody></table></div>\n", f); }

void cli_html_row_begin(FILE *f) { fputs("<tr>", f); }
void cli_html_row_end(FILE *f) { fputs("</tr>\n", f); }

void cli_html_cell_text(FILE *f, const char *s)
{
    fputs("<td>", f);
    cli_html_escape(f, s);
    fputs("</td>", f);
}

void cli_html_cell_number(FILE *f, double v, int digits)
{
    char exact[40];
    cli_format_double(exact, sizeof exact, v);
    fprintf(f, "<td class=\"num\" data-value=\"%s\">", exact);
    cli_html_number(f, v, digits);
    fputs("</td>", f);
}

void cli_html_cell_int(FILE *f, int64_t v)
{
    fprintf(f, "<td class=\"num\" data-value=\"%lld\">%lld</td>", (long long)v, (long long)v);
}

/* ---- charts ------------------------------------------------------------------------------ */

/* Okabe and Ito's palette, distinguishable with the common colour-vision deficiencies. */
static const char *const palette[] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                      "#56B4E9", "#D55E00", "#999999", "#000000"};

const char *cli_chart_color(int k)
{
    int n = (int)(sizeof palette / sizeof palette[0]);
    return palette[((k % n) + n) % n];
}

int cli_nice_ticks(double lo, double hi, int max_ticks, double *ticks, double *step_out)
{
    if (!(hi > lo) || !isfinite(lo) || !isfinite(hi) || max_ticks < 2) {
        if (step_out) *step_out = 0;
        if (max_ticks >= 1 && isfinite(lo)) {
            ticks[0] = lo;
            return 1;
        }
        return 0;
    }
    double raw = (hi - lo) / (max_ticks - 1);
    double mag = pow(10, floor(log10(raw)));
    double step = mag;
    const double mult[] = {1, 2, 2.5, 5, 10};
    for (int k = 0; k < 5; k++) {
        step = mult[k] * mag;
        if ((floor(hi / step) - ceil(lo / step)) + 1 <= max_ticks) break;
    }
    int n = 0;
    for (double t = ceil(lo / step - 1e-9); t * step <= hi + step * 1e-9 && n < max_ticks; t++) {
        double v = t * step;
        ticks[n++] = fabs(v) < step * 1e-9 ? 0 : v;
    }
    if (step_out) *step_out = step;
    return n;
}

/* A tick label: as many decimals as the step needs (0.25 steps: 2). */
static void tick_label(char *buf, size_t size, double v, double step)
{
    int decimals = 0;
    while (decimals < 6 && step > 0) {
        double scaled = step * pow(10, decimals);
        if (fabs(scaled - round(scaled)) < 1e-6 * scaled) break;
        decimals++;
    }
    if (fabs(v) >= 1e6 || (v != 0 && fabs(v) < 1e-4) || decimals >= 6)
        snprintf(buf, size, "%.3g", v);
    else
        snprintf(buf, size, "%.*f", decimals, v == 0 ? 0.0 : v);
}

void cli_chart_begin(cli_chart *c, FILE *f, const char *id, double width, double height,
                     const char *title)
{
    memset(c, 0, sizeof *c);
    c->f = f;
    c->width = width;
    c->height = height;
    c->px0 = 70;
    c->px1 = width - 170; /* the legend column */
    c->py0 = 40;
    c->py1 = height - 56;
    c->x0 = 0, c->x1 = 1, c->y0 = 0, c->y1 = 1;
    fputs("<figure class=\"chart\"", f);
    if (id) {
        fputs(" id=\"", f);
        cli_html_escape(f, id);
        fputs("\"", f);
    }
    fprintf(f,
            "><svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"%g\" height=\"%g\" "
            "viewBox=\"0 0 %g %g\" aria-label=\"",
            width, height, width, height);
    cli_html_escape(f, title);
    fputs("\"><title>", f);
    cli_html_escape(f, title);
    fprintf(f, "</title><text class=\"ctitle\" x=\"%g\" y=\"22\" text-anchor=\"middle\">",
            width / 2);
    cli_html_escape(f, title);
    fputs("</text>\n", f);
}

void cli_chart_end(cli_chart *c) { fputs("</svg></figure>\n", c->f); }

double cli_chart_x(const cli_chart *c, double x)
{
    double span = c->x1 - c->x0;
    return c->px0 + (span > 0 ? (x - c->x0) / span : 0.5) * (c->px1 - c->px0);
}

double cli_chart_y(const cli_chart *c, double y)
{
    double span = c->y1 - c->y0;
    return c->py1 - (span > 0 ? (y - c->y0) / span : 0.5) * (c->py1 - c->py0);
}

void cli_chart_range(cli_chart *c, double x0, double x1, double y0, double y1)
{
    c->x0 = x0, c->x1 = x1, c->y0 = y0, c->y1 = y1;
}

void cli_chart_text(cli_chart *c, double px, double py, const char *anchor, const char *cls,
                    const char *text)
{
    fprintf(c->f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"", px, py, anchor);
    if (cls) fprintf(c->f, " class=\"%s\"", cls);
    fputs(">", c->f);
    cli_html_escape(c->f, text);
    fputs("</text>\n", c->f);
}

void cli_chart_axis_titles(cli_chart *c, const char *xlabel, const char *ylabel)
{
    cli_chart_text(c, (c->px0 + c->px1) / 2, c->height - 14, "middle", "axis", xlabel);
    fprintf(c->f,
            "<text class=\"axis\" text-anchor=\"middle\" transform=\"translate(16 %.1f) "
            "rotate(-90)\">",
            (c->py0 + c->py1) / 2);
    cli_html_escape(c->f, ylabel);
    fputs("</text>\n", c->f);
}

void cli_chart_axes(cli_chart *c, double x0, double x1, double y0, double y1,
                    const char *xlabel, const char *ylabel)
{
    cli_chart_range(c, x0, x1, y0, y1);
    double ticks[16], step;
    char label[48];
    int n = c->no_x_ticks ? 0 : cli_nice_ticks(x0, x1, 8, ticks, &step);
    fputs("<g class=\"grid\">", c->f);
    for (int k = 0; k < n; k++)
        fprintf(c->f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                cli_chart_x(c, ticks[k]), c->py0, cli_chart_x(c, ticks[k]), c->py1);
    double yt[16], ystep;
    int ny = c->no_y_ticks ? 0 : cli_nice_ticks(y0, y1, 7, yt, &ystep);
    for (int k = 0; k < ny; k++)
        fprintf(c->f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", c->px0,
                cli_chart_y(c, yt[k]), c->px1, cli_chart_y(c, yt[k]));
    fputs("</g>\n", c->f);
    fprintf(c->f, "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n",
            c->px0, c->py0, c->px1 - c->px0, c->py1 - c->py0);
    for (int k = 0; k < n; k++) {
        tick_label(label, sizeof label, ticks[k], step);
        cli_chart_text(c, cli_chart_x(c, ticks[k]), c->py1 + 16, "middle", "tick", label);
    }
    for (int k = 0; k < ny; k++) {
        tick_label(label, sizeof label, yt[k], ystep);
        cli_chart_text(c, c->px0 - 6, cli_chart_y(c, yt[k]) + 4, "end", "tick", label);
    }
    cli_chart_axis_titles(c, xlabel, ylabel);
}

void cli_chart_line(cli_chart *c, const double *x, const double *y, int64_t n, int color,
                    int dashed)
{
    int64_t k = 0;
    while (k < n) {
        while (k < n && !(isfinite(x[k]) && isfinite(y[k]))) k++;
        if (k >= n) break;
        fprintf(c->f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"",
                cli_chart_color(color), dashed ? " stroke-dasharray=\"6 4\"" : "");
        for (; k < n && isfinite(x[k]) && isfinite(y[k]); k++)
            fprintf(c->f, "%.2f,%.2f ", cli_chart_x(c, x[k]), cli_chart_y(c, y[k]));
        fputs("\"/>\n", c->f);
    }
}

void cli_chart_segment(cli_chart *c, double xa, double ya, double xb, double yb, int color,
                       int dashed)
{
    if (!(isfinite(xa) && isfinite(ya) && isfinite(xb) && isfinite(yb))) return;
    fprintf(c->f,
            "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
            "stroke-width=\"1.5\"%s/>\n",
            cli_chart_x(c, xa), cli_chart_y(c, ya), cli_chart_x(c, xb), cli_chart_y(c, yb),
            cli_chart_color(color), dashed ? " stroke-dasharray=\"4 3\"" : "");
}

void cli_chart_points(cli_chart *c, const double *x, const double *y, int64_t n, int color,
                      double radius)
{
    fprintf(c->f, "<g fill=\"%s\" fill-opacity=\"0.6\">", cli_chart_color(color));
    for (int64_t k = 0; k < n; k++)
        if (isfinite(x[k]) && isfinite(y[k]))
            fprintf(c->f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%g\"/>", cli_chart_x(c, x[k]),
                    cli_chart_y(c, y[k]), radius);
    fputs("</g>\n", c->f);
}

void cli_chart_rect(cli_chart *c, double px, double py, double w, double h, const char *fill,
                    const char *tooltip)
{
    fprintf(c->f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"", px,
            py, w, h, fill);
    if (tooltip) {
        fputs("><title>", c->f);
        cli_html_escape(c->f, tooltip);
        fputs("</title></rect>\n", c->f);
    } else {
        fputs("/>\n", c->f);
    }
}

void cli_chart_legend(cli_chart *c, const char *const *names, const int *colors,
                      const int *dashed, int n)
{
    double x = c->px1 + 14, y = c->py0 + 10;
    fputs("<g class=\"legend\">", c->f);
    for (int k = 0; k < n; k++, y += 20) {
        fprintf(c->f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-width=\"3\"%s/>",
                x, y, x + 22, y, cli_chart_color(colors ? colors[k] : k),
                dashed && dashed[k] ? " stroke-dasharray=\"6 4\"" : "");
        cli_chart_text(c, x + 28, y + 4, "start", "legend", names[k]);
    }
    fputs("</g>\n", c->f);
}
