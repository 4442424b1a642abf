/* drivec_plot.c — see drivec_plot.h. */
#define _POSIX_C_SOURCE 200809L
#include "drivec_plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "csv.h"
#include "diag.h"
#include "gnuplot.h"

enum { PLOT_ROWS = 1000 }; /* buckets drawn at most */

static int usage(const char *fmt, const char *arg)
{
    fputs("drivec: error: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(run 'drivec help' for usage)\n", stderr);
    return 2;
}

static int error(const char *fmt, const char *a, const char *b)
{
    fputs("drivec: error: ", stderr);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 1;
}

/* Split a comma-separated list (trimmed, empty items dropped) into
 * columns of t; an unknown name is an error with a suggestion. */
static int pick(const rt_table *t, const char *list, const char *opt, int *cols, int *n)
{
    char *copy = strdup(list);
    int ok = 1;
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        size_t len = strlen(tok);
        while (len && tok[len - 1] == ' ')
            tok[--len] = 0;
        if (!len)
            continue;
        int k = rt_csv_column(t, tok);
        if (k < 0) {
            fprintf(stderr, "drivec: error: %s: the trace has no column '%s'\n", opt, tok);
            const char *s = diag_suggest(tok, (const char *const *)t->names, (size_t)t->ncols);
            if (s)
                fprintf(stderr, "  = hint: did you mean '%s'?\n", s);
            ok = 0;
            continue;
        }
        int dup = 0;
        for (int i = 0; i < *n; i++)
            dup |= cols[i] == k;
        if (!dup)
            cols[(*n)++] = k;
    }
    free(copy);
    if (ok && *n == 0) {
        fprintf(stderr, "drivec: error: %s needs at least one column name\n", opt);
        ok = 0;
    }
    return ok;
}

/* The reward stream names of every circuit in a .drive file. */
static char **circuit_rewards(const char *path, const char *const *include, int n_include,
                              int *n)
{
    compile_opts copts = { .optimize = 0, .include_dirs = include, .n_include_dirs = n_include };
    compile_result *r = compile_file(path, &copts);
    *n = 0;
    if (diag_errors(r->diag)) {
        diag_flush(r->diag, stderr, diag_want_color(stderr));
        compile_free(r);
        return NULL;
    }
    char **names = calloc(1, sizeof *names);
    for (int i = 0; i < r->n_circuits; i++) {
        const ir_circuit *c = r->circuits[i];
        for (uint32_t k = 0; k < c->n_outputs; k++)
            if (c->outputs[k].role == IR_ROLE_REWARD) {
                names = realloc(names, (size_t)(*n + 2) * sizeof *names);
                names[(*n)++] = strdup(c->outputs[k].name);
            }
    }
    diag_flush(r->diag, stderr, diag_want_color(stderr));
    compile_free(r);
    return names;
}

int drivec_plot(const char *const *files, int n_files, const char *out_svg, const char *signals,
                const char *rewards, const char *title, const char *circuit_file,
                const char *const *include, int n_include)
{
    if (n_files != 1)
        return usage("%s", "plot needs exactly one TRACE.csv (as written by run --out)");
    if (!out_svg || !*out_svg)
        return usage("%s", "plot needs the SVG to write: -o OUT.svg");
    if (rewards && circuit_file)
        return usage("%s", "give the reward streams with --rewards or --circuit, not both");
    if (strchr(out_svg, '\''))
        return usage("cannot plot into a path with a quote: %s", out_svg);
    const char *path = files[0];
    rt_table t = { 0 };
    rt_error err = { 0 };
    if (!rt_csv_read(path, &t, &err)) {
        if (err.line > 0)
            fprintf(stderr, "%s:%ld: error: %s\n", err.file ? err.file : path, err.line, err.msg);
        else
            fprintf(stderr, "drivec: error: %s: %s\n", err.file ? err.file : path, err.msg);
        return 1;
    }
    int status = 1;
    int *sel = calloc((size_t)t.ncols + 1, sizeof *sel), n_sel = 0;
    int *rew = calloc((size_t)t.ncols + 1, sizeof *rew), n_rew = 0;
    char **cnames = NULL;
    int n_cnames = 0;
    int xcol = rt_csv_column(&t, "time");
    if (xcol < 0)
        xcol = rt_csv_column(&t, "tick");
    if (signals) {
        if (!pick(&t, signals, "--signals", sel, &n_sel))
            goto done;
    } else {
        for (int k = 0; k < t.ncols; k++)
            if (strcmp(t.names[k], "tick") != 0 && strcmp(t.names[k], "time") != 0)
                sel[n_sel++] = k;
    }
    if (n_sel == 0) {
        error("%s: no columns to draw (only %s)", path, "tick and time");
        goto done;
    }
    if (t.nrows == 0) {
        error("%s: the trace has a header but no rows%s", path, "");
        goto done;
    }
    if (rewards && !pick(&t, rewards, "--rewards", rew, &n_rew))
        goto done;
    if (circuit_file) {
        cnames = circuit_rewards(circuit_file, include, n_include, &n_cnames);
        if (!cnames)
            goto done;
        for (int i = 0; i < n_cnames; i++) {
            int k = rt_csv_column(&t, cnames[i]);
            int dup = 0;
            for (int j = 0; j < n_rew; j++)
                dup |= rew[j] == k;
            if (k >= 0 && !dup)
                rew[n_rew++] = k;
        }
    }
    /* Streams are drawn when chosen; the total goes with them. */
    int *is_rew = calloc((size_t)t.ncols + 1, sizeof *is_rew);
    for (int i = 0; i < n_rew; i++)
        is_rew[rew[i]] = 1;
    int n_stack = 0, *stack = calloc((size_t)t.ncols + 1, sizeof *stack);
    int n_line = 0, *line = calloc((size_t)t.ncols + 1, sizeof *line);
    int total = -1;
    for (int i = 0; i < n_rew; i++)
        for (int j = 0; j < n_sel; j++)
            if (sel[j] == rew[i])
                stack[n_stack++] = rew[i];
    for (int j = 0; j < n_sel; j++) {
        if (is_rew[sel[j]])
            continue;
        if (n_stack && strcmp(t.names[sel[j]], "reward") == 0)
            total = sel[j];
        else
            line[n_line++] = sel[j];
    }
    free(is_rew);
    int panels = (n_line > 0) + (n_stack > 0);

    gp_plot gp;
    char why[1200];
    int rc = gp_open(&gp, out_svg, why, sizeof why);
    if (rc != GP_OK) {
        if (rc == GP_MISSING) {
            error("drawing plots needs gnuplot, which is not installed%s%s", "", "");
            fputs("  = hint: " GP_INSTALL_HINT "\n", stderr);
        } else {
            error("%s%s", why, "");
        }
        free(stack);
        free(line);
        goto done;
    }
    FILE *g = gp.f;
    fprintf(g, "set terminal svg size 900,%d font 'sans,11' background '#ffffff'\n",
            120 + 260 * panels);
    fputs("set encoding utf8\nset key outside right top\nset grid\n"
          "set lmargin 10\nset rmargin 28\n", g);
    /* Data: x, the lines (bucket minimum and maximum), then the running sums
     * of the stacked streams (bucket means). */
    long per = t.nrows > 2 * PLOT_ROWS ? (t.nrows + PLOT_ROWS - 1) / PLOT_ROWS : 1;
    int nl = n_line + (total >= 0);
    double *lo = calloc((size_t)nl + 1, sizeof *lo), *hi = calloc((size_t)nl + 1, sizeof *hi);
    double *cum = calloc((size_t)n_stack + 1, sizeof *cum);
    int *lcols = calloc((size_t)nl + 1, sizeof *lcols);
    for (int i = 0; i < n_line; i++)
        lcols[i] = line[i];
    if (total >= 0)
        lcols[n_line] = total;
    fputs("$data << EOD\n", g);
    double x0 = 0, x1 = 0;
    for (long r0 = 0; r0 < t.nrows; r0 += per) {
        long r1 = r0 + per < t.nrows ? r0 + per : t.nrows;
        for (int i = 0; i < nl; i++) {
            lo[i] = INFINITY;
            hi[i] = -INFINITY;
        }
        for (int i = 0; i < n_stack; i++)
            cum[i] = 0;
        for (long r = r0; r < r1; r++) {
            const double *row = t.data + (size_t)r * (size_t)t.ncols;
            for (int i = 0; i < nl; i++) {
                double v = row[lcols[i]];
                lo[i] = v < lo[i] ? v : lo[i];
                hi[i] = v > hi[i] ? v : hi[i];
            }
            double s = 0;
            for (int i = 0; i < n_stack; i++) {
                s += row[stack[i]];
                cum[i] += s;
            }
        }
        for (int half = 0; half < (per > 1 ? 2 : 1); half++) {
            long r = half ? r0 + (r1 - r0) / 2 : r0;
            double x = xcol >= 0 ? t.data[(size_t)r * (size_t)t.ncols + (size_t)xcol] : (double)r;
            if (r0 == 0 && half == 0)
                x0 = x;
            x1 = x;
            fprintf(g, "%.9g", x);
            for (int i = 0; i < nl; i++)
                fprintf(g, " %.9g", half ? hi[i] : lo[i]);
            for (int i = 0; i < n_stack; i++)
                fprintf(g, " %.9g", cum[i] / (double)(r1 - r0));
            fputc('\n', g);
        }
    }
    {
        double xl = t.data[(size_t)(t.nrows - 1) * (size_t)t.ncols + (size_t)(xcol >= 0 ? xcol : 0)];
        x1 = xcol >= 0 ? xl : (double)(t.nrows - 1);
    }
    fputs("EOD\n", g);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    fprintf(g, "set multiplot layout %d,1 title ", panels);
    gp_quote(g, title ? title : base);
    fputc('\n', g);
    if (!(x1 > x0))
        x1 = x0 + 1; /* one row: a range gnuplot accepts */
    fprintf(g, "set xrange [%.17g:%.17g]\n", x0, x1);
    const char *xlabel = xcol < 0 ? "row" : strcmp(t.names[xcol], "time") == 0 ? "time (s)" : "tick";
    if (n_line) {
        fprintf(g, n_stack ? "unset xlabel\n" : "set xlabel '%s'\n", xlabel);
        fputs("plot ", g);
        for (int i = 0; i < n_line; i++) {
            fprintf(g, "%s$data using 1:%d with lines lw %s dt %d title ", i ? ", " : "", i + 2,
                    i ? "1.5" : "2", i % 4 + 1);
            gp_quote(g, t.names[line[i]]);
        }
        fputc('\n', g);
    }
    if (n_stack) {
        fprintf(g, "set xlabel '%s'\n", xlabel);
        fputs("set style fill transparent solid 0.55 noborder\n", g);
        fputs("plot ", g);
        int base_col = 2 + nl;
        for (int i = 0; i < n_stack; i++) {
            if (i == 0)
                fprintf(g, "$data using 1:(0):%d with filledcurves title ", base_col);
            else
                fprintf(g, ", $data using 1:%d:%d with filledcurves title ", base_col + i - 1,
                        base_col + i);
            gp_quote(g, t.names[stack[i]]);
        }
        if (total >= 0) {
            fprintf(g, ", $data using 1:%d with lines lw 1.5 lc rgb '#000000' title ", 2 + n_line);
            gp_quote(g, "reward (total)");
        }
        fputc('\n', g);
    }
    fputs("unset multiplot\n", g);
    if (gp_close(&gp, why, sizeof why) != GP_OK)
        error("%s%s", why, "");
    else
        status = 0;
    free(lo), free(hi), free(cum), free(lcols);
    free(stack), free(line);
done:
    for (int i = 0; i < n_cnames; i++)
        free(cnames[i]);
    free(cnames);
    free(sel);
    free(rew);
    rt_csv_free(&t);
    return status;
}
