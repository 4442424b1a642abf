/* progress.h — a one-line progress bar on stderr for long runs.
 *
 * Shown only when stderr is a terminal (DRIVE_PROGRESS=1 forces it on,
 * DRIVE_PROGRESS=0 off) and the run is long: it appears once the run has
 * taken 0.3 s and is expected to take more than 0.5 s in all, or at once
 * when it has more than 100 000 ticks. The line shows the share done, the
 * rate in ticks per second and the time left; it is redrawn at most ten
 * times a second and erased by rt_progress_end. Without a terminal nothing
 * is ever written.
 *
 * Cheap enough to call every tick: the clock is read once every 256 calls.
 */
#ifndef DRIVE_PROGRESS_H
#define DRIVE_PROGRESS_H

#include <stdio.h>

typedef struct rt_progress {
    FILE *f;           /* NULL: inactive */
    char label[64];
    long total;        /* ticks in the run */
    double start, last;/* seconds (monotonic) */
    unsigned countdown;
    int shown;         /* a line is on the screen */
} rt_progress;

/* Begin a run of total ticks, named by label (e.g. "circuit.name"). */
void rt_progress_start(rt_progress *p, const char *label, long total);
/* done ticks of the run have been stepped. */
void rt_progress_tick(rt_progress *p, long done);
/* Erase the line (when one was drawn). */
void rt_progress_end(rt_progress *p);

#endif
