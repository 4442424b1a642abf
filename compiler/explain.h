/* explain.h — looking inside a run: traces of chosen signals and the
 * breakdown of the total reward at one tick (drivec run --trace-signals,
 * --explain).
 *
 * Both work on a circuit compiled with probes (compile_probed), whose extra
 * outputs carry every named signal: lets, heuristics, reflex and predictor
 * fields, instance signals ("c.y"). A signal is looked up among the
 * circuit's inputs, outputs (probes included) and params; a vector signal
 * `v` stands for its elements v[0], v[1], ...
 *
 * Ownership: everything is allocated in the given arena, except the
 * explain_ctx, released with explain_free.
 */
#ifndef DRIVE_EXPLAIN_H
#define DRIVE_EXPLAIN_H

#include <stdio.h>

#include "arena.h"
#include "diag.h"
#include "rt.h"
#include "run.h"
#include "sema.h"

/* The columns for a comma-separated list of signal names, in the order
 * given (duplicates once; `tick` and `time` are always written and skipped
 * here). Unknown names are reported to d, each with a suggestion; returns 0
 * then. */
int explain_columns(arena *mem, diag_ctx *d, const rt_circuit *c, const char *list,
                    rt_column **cols, uint32_t *n);

/* The default columns of a probed circuit: its outputs without the probes
 * (the outputs, every reward stream and the total), as for an unprobed run;
 * with_inputs puts every input first (a trace: `run --trace`). */
void explain_default_columns(arena *mem, const rt_circuit *c, int with_inputs, rt_column **cols,
                             uint32_t *n);

/* A tick given as a whole number, or as a time with a unit (`1.5s`,
 * `250ms`) rounded to the nearest tick. Returns 0 when text is neither. */
int explain_parse_tick(const char *text, double tick_seconds, long *tick);

typedef struct explain_ctx explain_ctx;

/* Watches a run of circuit c (sc: its checked form) for tick `tick`. */
explain_ctx *explain_new(const sema_circuit *sc, const rt_circuit *c, long tick);
/* rt_run_opts.on_tick, with the explain_ctx as ctx. */
void explain_on_tick(void *ctx, long tick, const void *in, const void *out, const void *state);
/* Print the breakdown of that tick to f: each reward stream's value and
 * share of the total, then for each stream the signals its definition
 * reads (and, through lets, what those read), with their values. Reports
 * to d and returns 0 when the run did not reach the tick or the circuit has
 * no reward streams. */
int explain_print(explain_ctx *x, FILE *f, diag_ctx *d, long ticks_run);
void explain_free(explain_ctx *x);

#endif
