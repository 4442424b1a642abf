/* compile.h — the front half of the pipeline as one call:
 *   read -> parse -> check -> lower -> optimise (the IR pass recipe)
 * and the bridge from IR to the runtime's description of a circuit.
 *
 * Ownership: a compile_result owns its arena and diagnostics; release it
 * with compile_free. Everything it points to (AST, IR, names) lives until
 * then. Diagnostics are left unprinted for the caller to flush.
 */
#ifndef DRIVE_COMPILE_H
#define DRIVE_COMPILE_H

#include <stdio.h>

#include "arena.h"
#include "ast.h"
#include "diag.h"
#include "ir.h"
#include "passes.h"
#include "rt.h"
#include "sema.h"

typedef struct compile_opts {
    int optimize;          /* run the IR pass recipe */
    pass_options passes;   /* dumping between passes */
} compile_opts;

typedef struct compile_result {
    arena mem;
    diag_ctx *diag;
    const src_file *file;
    ast_module *ast;
    sema_module *sema;
    ir_circuit **circuits; /* one per checked circuit, NULL when errors */
    int n_circuits;
} compile_result;

/* Compile every circuit of the file at path. Returns the result even on
 * errors; check diag_errors(r->diag). */
compile_result *compile_file(const char *path, const compile_opts *opt);
/* The same from text in memory. */
compile_result *compile_source(const char *name, const char *text, size_t len,
                               const compile_opts *opt);
void compile_free(compile_result *r);

/* Pick a circuit by name, or the only one when name is NULL. On failure
 * reports why (with the available names) to r->diag and returns NULL. */
ir_circuit *compile_pick(compile_result *r, const char *name);

/* The runtime's description of c: fields and sizes. init/step/ctx are left
 * for the caller. Allocated in mem. */
rt_circuit compile_reflect(arena *mem, const ir_circuit *c);

#endif
