/* gnuplot.h — driving gnuplot to draw an SVG, shared by `drivec plot` and
 * the scenario plots of `drivec test`.
 *
 * gp_open starts gnuplot with its output going to a temporary file beside the
 * target; the caller writes commands to p.f; gp_close waits for gnuplot and
 * moves the drawing into place only when gnuplot succeeded, so a failed plot
 * never leaves a half-written SVG behind.
 *
 * Ownership: gp_plot owns its strings and its pipe until gp_close, which
 * frees them whatever the outcome. Error messages are written into the
 * caller's buffer.
 */
#ifndef DRIVE_GNUPLOT_H
#define DRIVE_GNUPLOT_H

#include <stddef.h>
#include <stdio.h>

typedef struct gp_plot {
    FILE *f;          /* gnuplot's standard input */
    char *path;       /* the SVG to produce */
    char *tmp, *log;  /* gnuplot's output and messages until gp_close */
    void (*old_pipe)(int);
} gp_plot;

enum { GP_OK = 0, GP_MISSING = 1, GP_FAILED = 2 };

/* Whether PROG is an executable on PATH. */
int gp_on_path(const char *prog);

/* Starts gnuplot for PATH. GP_MISSING when gnuplot is not installed,
 * GP_FAILED with a message in err otherwise. */
int gp_open(gp_plot *p, const char *path, char *err, size_t n);

/* Waits for gnuplot and renames its output into place. GP_OK, or GP_FAILED
 * with gnuplot's own message (or the rename's) in err. */
int gp_close(gp_plot *p, char *err, size_t n);

/* Writes T as a double-quoted gnuplot string shown literally in enhanced
 * text (no subscripts from '_', newlines as spaces). */
void gp_quote(FILE *f, const char *t);

/* The hint printed after GP_MISSING. */
#define GP_INSTALL_HINT "scripts/install-deps.sh installs it (Debian package gnuplot-nox)"

#endif
