/* passes.h — IR-to-IR optimisations, run as a fixed recipe.
 *
 * Every pass preserves the interpreter's results bit for bit: folding uses
 * the same IEEE operations and C library calls the step function would (the
 * math ops are folded only for a constant operand), and algebraic rewrites
 * are limited to identities that are exact for every double (x*1, x/1, x-0,
 * x+(-0)), never reassociation.
 *
 * Ownership: passes rewrite the circuit in place, allocating in `mem`.
 */
#ifndef DRIVE_PASSES_H
#define DRIVE_PASSES_H

#include <stdio.h>

#include "arena.h"
#include "ir.h"

typedef struct pass_options {
    FILE *dump;             /* print the IR after each pass matching dump_after */
    const char *dump_after; /* a pass name, or "all" */
    const char *circuit;    /* dump only this circuit (NULL: every one) */
} pass_options;

/* Whether opt asks for the IR of circuit c after the pass named `pass`. */
int pass_wants_dump(const pass_options *opt, const ir_circuit *c, const char *pass);

/* Run the recipe; the IR verifier runs after every pass. Returns NULL on
 * success, else a message naming the pass that broke the IR (a compiler
 * bug, never the user's). */
const char *pass_run_all(arena *mem, ir_circuit *c, const pass_options *opt);

/* Names of the passes, in order, NULL-terminated (for --dump-after). */
extern const char *const pass_names[];

/* Individual passes, exposed for unit tests. */
void pass_fold(arena *mem, ir_circuit *c);
void pass_cse(arena *mem, ir_circuit *c);
void pass_dce(arena *mem, ir_circuit *c);

#endif
