/* progress.c — see progress.h. */
#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { BAR_WIDTH = 28, CHECK_EVERY = 256 };
static const long LONG_RUN_TICKS = 100000;
static const double APPEAR_AFTER = 0.3, LONG_RUN_SECONDS = 0.5, REDRAW_EVERY = 0.1;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void rt_progress_start(rt_progress *p, const char *label, long total)
{
    memset(p, 0, sizeof *p);
    const char *env = getenv("DRIVE_PROGRESS");
    int on = env && *env ? strcmp(env, "0") != 0 : isatty(fileno(stderr));
    if (!on || total <= 0)
        return;
    p->f = stderr;
    snprintf(p->label, sizeof p->label, "%s", label ? label : "run");
    p->total = total;
    p->start = p->last = now();
    p->countdown = CHECK_EVERY;
}

/* 1234567 -> "1.23M" */
static const char *human(char *buf, size_t cap, double v)
{
    if (v >= 1e9)
        snprintf(buf, cap, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, cap, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, cap, "%.1fk", v / 1e3);
    else
        snprintf(buf, cap, "%.0f", v);
    return buf;
}

static const char *duration(char *buf, size_t cap, double s)
{
    if (s >= 3600)
        snprintf(buf, cap, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
    else if (s >= 60)
        snprintf(buf, cap, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else
        snprintf(buf, cap, "%.1fs", s);
    return buf;
}

void rt_progress_tick(rt_progress *p, long done)
{
    if (!p->f || --p->countdown)
        return;
    p->countdown = CHECK_EVERY;
    double t = now(), elapsed = t - p->start;
    if (t - p->last < REDRAW_EVERY && p->shown)
        return;
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    double left = rate > 0 ? (double)(p->total - done) / rate : 0;
    if (!p->shown) {
        int long_run = p->total > LONG_RUN_TICKS ||
                       (elapsed >= APPEAR_AFTER && elapsed + left > LONG_RUN_SECONDS);
        if (!long_run || elapsed < REDRAW_EVERY)
            return;
    }
    p->last = t;
    double frac = p->total > 0 ? (double)done / (double)p->total : 1;
    if (frac > 1)
        frac = 1;
    char bar[BAR_WIDTH + 1];
    int fill = (int)(frac * BAR_WIDTH);
    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[BAR_WIDTH] = 0;
    char r[32], l[32];
    fprintf(p->f, "\r%s [%s] %3d%%  %s ticks/s  %s left\033[K", p->label, bar, (int)(frac * 100),
            human(r, sizeof r, rate), duration(l, sizeof l, left));
    fflush(p->f);
    p->shown = 1;
}

void rt_progress_end(rt_progress *p)
{
    if (p->f && p->shown) {
        fputs("\r\033[K", p->f);
        fflush(p->f);
    }
    p->f = NULL;
    p->shown = 0;
}
