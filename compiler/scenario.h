/* scenario.h — checks and runs the scenarios of a file (`drivec test`).
 *
 * A scenario (lang/SPEC.md, "Scenarios") names a circuit, a run length, param
 * settings, a stimulus schedule and expectations, and may declare variants:
 * further runs with changes. scn_run_file checks every scenario of a compiled
 * file against its circuit (compiled again with probes, so every named
 * signal can be measured), runs each run through the JIT or the interpreter,
 * evaluates the expectations, and reports: one line per scenario to
 * opts->out, diagnostics for failed expectations and errors to the file's
 * diag context.
 *
 * Ownership: everything lives in the compile_result's arena, except the JIT
 * and the recorded signals, which scn_run_file frees before it returns.
 */
#ifndef DRIVE_SCENARIO_H
#define DRIVE_SCENARIO_H

#include <signal.h>
#include <stdio.h>

#include "compile.h"

typedef enum { SCN_JIT, SCN_INTERP, SCN_BOTH } scn_backend;

typedef struct scn_options {
    const char *const *only; /* run only scenarios with these names (NULL: all) */
    int n_only;
    const char *trace_dir;   /* write DIR/SCENARIO[.VARIANT].csv */
    const char *plot_dir;    /* draw DIR/SCENARIO.svg with gnuplot */
    int verbose;             /* print every expectation's measurements */
    scn_backend backend;     /* SCN_BOTH: the JIT checked against the interpreter */
    FILE *out;               /* the per-scenario lines */
    int check_only;          /* check every scenario, run none (drivec check) */
    volatile const sig_atomic_t *stop; /* when set and nonzero: stop running (Ctrl-C) */
} scn_options;

typedef struct scn_totals {
    int passed, failed;      /* scenarios */
    int matched;             /* scenarios selected by opts->only */
} scn_totals;

/* Check and run the scenarios of r (which compiled without errors). Adds to
 * *t. Returns 0 when every scenario could be run (passed or failed), -1 when
 * one had errors (reported to r->diag, and counted as failed). */
int scn_run_file(compile_result *r, const compile_opts *copts, const scn_options *opts,
                 scn_totals *t);

#endif
