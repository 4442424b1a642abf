/* sema.h — semantic checks: names, types, definitions, causality, and the
 * innate/learned rule.
 *
 * sema_check takes the parsed modules of a program (the main file and every
 * module it imports), resolves every name, types every expression, checks
 * each construct's rules, rejects instantaneous cycles and heuristics that
 * depend on anything learned, and computes for each circuit the order in
 * which a step evaluates its signals. It reports every problem it finds.
 *
 * Ownership: the result lives in `mem`, and points into the ASTs it checked.
 */
#ifndef DRIVE_SEMA_H
#define DRIVE_SEMA_H

#include "arena.h"
#include "ast.h"
#include "diag.h"

typedef enum {
    SYM_INPUT, SYM_OUTPUT, SYM_PARAM,
    SYM_LET,       /* let, heuristic, attention, gate (see sema_let_kind) */
    SYM_CONST,
    SYM_STATE,     /* state x : T = init, with `next x = e` */
    SYM_REFLEX,
    SYM_PREDICTOR, /* the predictor's output */
    SYM_INSTANCE,  /* an instance of a circuit (named by a let, or hidden) */
    SYM_FIELD      /* p.target, p.error, r.strength, r.onset, c.output */
} sema_sym_kind;

typedef enum { LET_PLAIN, LET_HEURISTIC, LET_ATTENTION, LET_GATE } sema_let_kind;

typedef enum { PRED_LMS, PRED_NLMS } sema_rule;
typedef enum { SQUASH_NONE, SQUASH_SIGMOID, SQUASH_TANH } sema_squash;

/* Field numbers of predictor and reflex symbols. */
enum { FIELD_TARGET = 0, FIELD_ERROR = 1, FIELD_STRENGTH = 0, FIELD_ONSET = 1 };

typedef struct sema_pred {
    ast_expr *context, *supervisor, *rate, *delay, *defer, *init;
    sema_rule rule;
    sema_squash squash;
    int n;                 /* context length */
} sema_pred;

struct sema_circuit;

typedef struct sema_sym {
    const char *name;
    sema_sym_kind kind;
    ast_type type;
    src_loc decl_loc;    /* where the name is declared */
    ast_expr *def;       /* its definition; param: default; state: init;
                          * reflex: condition; instance: the call */
    src_loc def_loc;     /* the name in the defining statement */
    double value;        /* param: the folded default (scalars) */
    int used;
    const ast_item *item;/* the declaring item, NULL for fields and hidden instances */
    sema_let_kind let;   /* SYM_LET */
    int reward;          /* SYM_OUTPUT: a reward stream (or the total, 2) */
    ast_expr *next;      /* SYM_STATE: its next equation */
    src_loc next_loc;
    int owner, field;    /* SYM_FIELD: the owning symbol and which field */
    const struct sema_circuit *callee; /* SYM_INSTANCE */
    sema_pred *pred;     /* SYM_PREDICTOR */
    int hidden;          /* an instance made for a call inside an expression */
    int total_depth;     /* SYM_CONST: expression depth through the constants it uses */
} sema_sym;

struct sema_module;

typedef struct sema_circuit {
    const ast_circuit *ast;
    const char *name;
    const struct sema_module *mod;
    sema_sym *syms;
    int n_syms;
    int *order;          /* computed symbols in evaluation order */
    int n_order;
    int *inputs, n_inputs;   /* symbol indices, in declaration order */
    int *outputs, n_outputs; /* including reward streams and the total */
    int *params, n_params;
    /* Summaries used where the circuit is instantiated. */
    unsigned char *out_learned;   /* per output: learned inside the circuit */
    unsigned char **out_inputs;   /* per output, per input then param: depends on it */
    unsigned char *heur_inputs;   /* per input then param: a heuristic depends on it */
    const char **heur_of_input;   /* that heuristic's name */
    int nest;            /* levels of instances inside it (0: none) */
    int checked;         /* 0 not yet, 1 in progress, 2 done */
    int failed;          /* errors were found in it */
} sema_circuit;

typedef struct sema_const {
    const ast_item *item;
    const struct sema_module *mod;
    ast_type type;
    int state;           /* 0 untyped, 1 in progress, 2 done */
    int total_depth;     /* expression depth through the constants it uses */
} sema_const;

typedef struct sema_module {
    const ast_module *ast;
    const char *name;
    double tick_seconds;
    sema_circuit *circuits;
    int n_circuits;
    sema_const *consts;
    int n_consts;
    struct sema_module **imports;
    int n_imports;
} sema_module;

typedef struct sema_program {
    sema_module *mods;   /* mods[0] is the main file */
    int n_mods;
} sema_program;

/* Check a program: asts[0] is the main file, the rest the modules it
 * imports (directly or not), with their names (the main file's default name
 * when it has no `module` line). Imports are resolved among these by name.
 * Returns NULL only when nothing could be checked; check diag_errors()
 * before lowering. */
sema_program *sema_check(arena *mem, diag_ctx *diag, ast_module *const *asts,
                         const char *const *names, int n);

/* Element idx of a constant expression (durations in seconds with the given
 * tick, bools as 0/1; a scalar's only element is 0). Returns 0 when e is not
 * constant. c gives the circuit whose names e may use (NULL: module level). */
int sema_const_eval(const sema_circuit *c, const sema_module *m, const ast_expr *e, int idx,
                    double tick, double *out);

/* The type of an elementwise combination of l and r (reals broadcast to a
 * vector), or TY_ERROR. */
ast_type sema_elementwise(ast_type l, ast_type r);

const sema_circuit *sema_find_circuit(const sema_module *m, const char *name);

/* A duration as a number of ticks, rounded to the nearest whole number with
 * halves to even. The quotient is first snapped to a multiple of 1/2 when it
 * is within 1e-9 of one, so that 235 ms / 10 ms (23.499999999999996 in
 * doubles) counts as the half it is written as. *exact gets the quotient. */
double sema_round_ticks(double secs, double tick, double *exact);

#endif
