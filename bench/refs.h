/* refs.h — the hand-written C baselines of the benchmarks: each stdlib and
 * example circuit with a reference written by hand, compiled with the same
 * gcc -O2 as the benchmark itself.
 *
 * A reference has its own state struct (laid out as a C programmer would),
 * but takes the `in` block and writes the `out` block exactly as laid out
 * for the compiled step function (SPEC.md, "The step function and its
 * memory"), so the two can be stepped over one input trace and compared
 * output for output. Each computes what its .drive source says in the same
 * IEEE operations, in the same order, so the outputs agree bit for bit; the
 * benchmark checks it before timing anything. Constants that the compiler
 * folds (alpha(200 ms) = -expm1(-dt / 0.2)) are computed once by init with
 * the same functions, never by gcc's own folder.
 */
#ifndef BENCH_REFS_H
#define BENCH_REFS_H

#include <stddef.h>

typedef struct bench_ref {
    const char *module;  /* as declared: "std.core" */
    const char *circuit;
    size_t state_size;
    void (*init)(void *state);
    int (*step)(void *state, const void *in, void *out); /* 1: an input was invalid */
} bench_ref;

/* refs_std.c: the standard library; refs_examples.c: the examples. */
extern const bench_ref bench_refs_std[];
extern const int bench_n_refs_std;
extern const bench_ref bench_refs_examples[];
extern const int bench_n_refs_examples;

#endif
