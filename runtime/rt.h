/* rt.h — the host's view of a compiled circuit.
 *
 * A host (drivec run, tests, later the C and Python APIs) drives a circuit
 * through this description alone: the byte layout of its input, output and
 * state blocks, the fields in them, and init/step entry points. Whether the
 * step is JIT-compiled code or the IR interpreter is invisible here.
 *
 * Ownership: an rt_circuit only borrows its names and fields; whoever built
 * it keeps them alive for as long as the description is used.
 */
#ifndef DRIVE_RT_H
#define DRIVE_RT_H

#include <stddef.h>
#include <stdint.h>

typedef enum { RT_REAL, RT_BOOL } rt_kind;

typedef struct rt_field {
    const char *name;
    rt_kind kind;
    uint32_t offset;  /* in its block */
    double init;      /* params: the default */
    int has_range;    /* declared `in [lo, hi]` (inputs, params) */
    double lo, hi;
    int role;         /* ir_role: plain, learned input, reward stream, total, weight */
} rt_field;

typedef struct rt_circuit {
    const char *module, *name;
    double tick_seconds;
    const rt_field *inputs, *outputs, *params;
    uint32_t n_inputs, n_outputs, n_params;
    const rt_field *state;  /* state slots (params are listed above) */
    uint32_t n_state;
    uint32_t in_size, out_size, state_size;
    void *ctx;
    void (*init)(void *ctx, void *state);
    /* Returns the tick's status: nonzero when some input was invalid (not
     * finite, or outside its declared range); the step then still wrote the
     * outputs but left the state as it was. */
    int (*step)(void *ctx, void *state, const void *in, void *out);
} rt_circuit;

/* Read or write one field of a block as a double (bools as 0 or 1). */
double rt_get(const void *block, const rt_field *f);
/* Whether a field holds the same value in two blocks: bit for bit, except
 * that any NaN equals any NaN. */
int rt_same(const void *a, const void *b, const rt_field *f);
void rt_set(void *block, const rt_field *f, double v);

/* Shortest decimal text that reads back as exactly d ("0.1", "1e-300",
 * "-0", "inf", "-inf"). Every NaN prints as "nan": the sign and payload of
 * a NaN are unspecified in drive (see lang/SPEC.md). buf must hold at least
 * 32 bytes. */
const char *rt_fmt_f64(char *buf, double d);

/* An error about data (not the program): a message with an optional
 * 1-based line and column in the named file. */
typedef struct rt_error {
    char msg[512];
    const char *file;
    long line;
    int col, len; /* col 0: no position in the line */
    int field;    /* 1-based CSV field the error is about, 0: none */
    char hint[256];
    int complete; /* rt_run: it failed, yet stepped every tick and wrote every output */
} rt_error;

#endif
