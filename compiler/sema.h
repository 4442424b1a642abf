/* sema.h — semantic checks: names, types, definitions, causality.
 *
 * sema_check resolves every name of a parsed module, types every expression,
 * checks that each output is defined exactly once and that no signal depends
 * on itself within one tick, and computes the order in which a step evaluates
 * the definitions. It reports every problem it finds to the diag context.
 *
 * Ownership: the result lives in `mem`, and points into the AST it checked.
 */
#ifndef DRIVE_SEMA_H
#define DRIVE_SEMA_H

#include "arena.h"
#include "ast.h"
#include "diag.h"

typedef enum { SYM_INPUT, SYM_OUTPUT, SYM_PARAM, SYM_LET } sema_sym_kind;

typedef struct sema_sym {
    const char *name;
    sema_sym_kind kind;
    ast_type type;
    src_loc decl_loc;    /* where the name is declared */
    ast_expr *def;       /* let/output: its definition; param: its default */
    src_loc def_loc;     /* the name in the defining statement */
    double value;        /* param: the folded default */
    int used;
} sema_sym;

typedef struct sema_circuit {
    const ast_circuit *ast;
    const char *name;
    sema_sym *syms;
    int n_syms;
    int *order;          /* defined symbols (lets, outputs) in evaluation order */
    int n_order;
} sema_circuit;

typedef struct sema_module {
    const ast_module *ast;
    const char *name;
    double tick_seconds;
    sema_circuit *circuits;
    int n_circuits;
} sema_module;

/* default_name names the module when the file has no `module` line. Returns
 * NULL only when the module is too broken to describe; check
 * diag_errors() before using the result for code generation. */
sema_module *sema_check(arena *mem, diag_ctx *diag, const ast_module *m,
                        const char *default_name);

/* The value of a constant expression (literals, `dt`, operators), with
 * durations in seconds and bools as 0/1. Returns 0 when e is not constant. */
int sema_const_value(const sema_module *m, const ast_expr *e, double *out);

const sema_circuit *sema_find_circuit(const sema_module *m, const char *name);

#endif
