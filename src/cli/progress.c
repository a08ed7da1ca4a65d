/* progress.c: progress of long work on stderr: a bar redrawn in place on a terminal, plain
 * rate-limited lines when stderr is a log file. */
#include "cli.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 30
#define TTY_INTERVAL 0.1 /* seconds between redraws of the bar */

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_progress_start(cli_progress *p, const char *what, int64_t total, int quiet)
{
    memset(p, 0, sizeof *p);
    p->what = what;
    p->total = total;
    p->quiet = quiet;
    p->tty = isatty(fileno(stderr));
    p->interval = 5.0;
    p->start = cli_now();
    p->last = -1e300;
}

static void draw(cli_progress *p, int64_t done, const char *extra, int final)
{
    double elapsed = cli_now() - p->start;
    if (p->tty) fputs("\r\033[K", stderr);
    fprintf(stderr, "%s", p->what);
    if (p->total > 0) {
        double share = (double)done / (double)p->total;
        if (share > 1) share = 1;
        if (p->tty) {
            int filled = (int)(share * BAR_WIDTH + 0.5);
            fputs(" [", stderr);
            for (int i = 0; i < BAR_WIDTH; i++) fputc(i < filled ? '#' : '.', stderr);
            fputc(']', stderr);
        }
        fprintf(stderr, " %lld/%lld (%3.0f%%)", (long long)done, (long long)p->total,
                100.0 * share);
    } else {
        fprintf(stderr, " %lld", (long long)done);
    }
    fprintf(stderr, " %.1fs", elapsed);
    if (extra && *extra) fprintf(stderr, " %s", extra);
    if (!p->tty || final) {
        fputc('\n', stderr);
        p->drawn = 0;
    } else {
        p->drawn = 1;
    }
    fflush(stderr);
}

/* draw with the text of the printf format extra (NULL: none) and its arguments ap. */
static void draw_extra(cli_progress *p, int64_t done, const char *extra, va_list ap, int final)
{
    char buf[256] = "";
    if (extra) vsnprintf(buf, sizeof buf, extra, ap);
    draw(p, done, buf, final);
}

void cli_progress_update(cli_progress *p, int64_t done, const char *extra, ...)
{
    p->done = done;
    if (p->quiet) return;
    double now = cli_now();
    if (now - p->last < (p->tty ? TTY_INTERVAL : p->interval)) return;
    p->last = now;
    va_list ap;
    va_start(ap, extra);
    draw_extra(p, done, extra, ap, 0);
    va_end(ap);
}

void cli_progress_finish(cli_progress *p, const char *extra, ...)
{
    if (p->quiet) return;
    va_list ap;
    va_start(ap, extra);
    draw_extra(p, p->total > 0 ? p->total : p->done, extra, ap, 1);
    va_end(ap);
}
