/* run.h — stepping a circuit over an input trace and writing its outputs.
 *
 * Input columns are matched to inputs by name; every input needs a column
 * (missing ones are reported together). Columns named `tick` or `time` are
 * ignored; other unknown columns draw a warning. When more ticks are asked
 * for than the table has rows, inputs hold their last row's values.
 *
 * A tick whose step reports invalid inputs (rt_circuit.step) does not stop
 * the run: its outputs are written like any other's, the first
 * RT_RUN_MAX_INVALID such ticks are described through `error`, and the run
 * as a whole then fails.
 *
 * Ownership: rt_run borrows everything it is given and frees what it
 * allocates before returning.
 */
#ifndef DRIVE_RUN_H
#define DRIVE_RUN_H

#include <stdint.h>
#include <stdio.h>

#include "csv.h"
#include "rt.h"

typedef enum { RT_OUT_CSV, RT_OUT_TABLE } rt_out_format;

enum { RT_RUN_MAX_INVALID = 10 }; /* invalid ticks described one by one */

/* Which block a written column is read from. */
typedef enum { RT_BLOCK_IN, RT_BLOCK_OUT, RT_BLOCK_STATE } rt_block;

/* A column of the written trace: a field of one of the step's blocks. */
typedef struct rt_column {
    const rt_field *field;
    rt_block block;
} rt_column;

typedef struct rt_param_value {
    uint32_t index; /* into the circuit's params */
    double value;   /* bools as 0 or 1 */
} rt_param_value;

typedef struct rt_run_opts {
    long ticks;                    /* < 0: one tick per table row */
    FILE *out;                     /* NULL: outputs are computed, not written */
    rt_out_format format;
    const char *in_name;           /* the table's file, for messages */
    /* Without a table: nonzero draws every input at every tick from a
     * deterministic generator with this seed (a mix of small, large, zero,
     * tiny and whole values; bools half true; an input with a declared range
     * mostly uniform in it, sometimes exactly a bound, never outside) instead
     * of holding zeros. */
    uint64_t random_seed;
    /* Param values set after init, in place of their defaults. */
    const rt_param_value *params;
    uint32_t n_params;
    /* When set, stepped in lock step with the circuit; any difference in an
     * output, the state block or the step's status (valid or not), bit for
     * bit, stops the run with an error. */
    const rt_circuit *reference;
    void (*warn)(void *ctx, const rt_error *w);
    void *warn_ctx;
    /* Errors that do not stop the run: ticks with invalid inputs. NULL: they
     * are only counted. */
    void (*error)(void *ctx, const rt_error *e);
    void *error_ctx;
    /* The columns written after tick and time; NULL: every output. */
    const rt_column *columns;
    uint32_t n_columns;
    /* Called after each tick's step with the tick's blocks (NULL: none). */
    void (*on_tick)(void *ctx, long tick, const void *in, const void *out, const void *state);
    void *tick_ctx;
    /* Non-NULL: a progress bar with this label (rt_progress, progress.h). */
    const char *progress;
} rt_run_opts;

/* Returns 1 on success; 0 with err filled in when the data is unusable, the
 * reference disagrees, or some tick had invalid inputs (then err->complete
 * is set: every tick ran and every output was written). `in` may be NULL for
 * a circuit without inputs. */
int rt_run(const rt_circuit *c, const rt_table *in, const rt_run_opts *opt, rt_error *err);

#endif
