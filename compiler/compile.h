/* compile.h — the front half of the pipeline as one call:
 *   read -> parse -> load imports -> check -> lower -> optimise (the IR pass recipe)
 * and the bridge from IR to the runtime's description of a circuit.
 *
 * Imports are found on the module search path: the importing file's
 * directory, then each directory in the DRIVE_PATH environment variable
 * (colon-separated), then opts->include_dirs, then the bundled standard
 * library. `import a.b` reads a/b.drive.
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
    const char *const *include_dirs; /* extra module directories */
    int n_include_dirs;
    int parse_only;        /* stop after parsing the file (no imports, no checks) */
    const src_segment *segments; /* compile_source: report the text piece by piece */
    size_t n_segments;
    int allow_empty;       /* no warning for a file without circuits (the REPL's session) */
} compile_opts;

typedef struct compile_result {
    arena mem;
    diag_ctx *diag;
    const src_file *file;
    ast_module *ast;       /* the main file's */
    ast_module **modules;  /* modules[0] is the main file, then its imports */
    int n_modules;
    sema_program *prog;
    sema_module *sema;     /* the main file's module */
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

/* The directories searched for imports after the importing file's own
 * (DRIVE_PATH, include_dirs, the bundled stdlib), in order; NULL-terminated,
 * allocated in mem. */
const char **compile_search_path(arena *mem, const compile_opts *opt);

/* Pick a circuit by name, or the only one when name is NULL. On failure
 * reports why (with the available names) to r->diag and returns NULL. */
ir_circuit *compile_pick(compile_result *r, const char *name);

/* Circuit sc (of any module of r's program) lowered at the main module's
 * tick with probes on every named signal (lower_circuit_probed), and
 * optimised as opt says. Reports to r->diag and returns NULL on errors. */
ir_circuit *compile_probed(compile_result *r, const sema_circuit *sc, const compile_opts *opt);

/* The runtime's description of c: fields and sizes. init/step/ctx are left
 * for the caller. Allocated in mem. */
rt_circuit compile_reflect(arena *mem, const ir_circuit *c);

#endif
