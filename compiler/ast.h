/* ast.h — the syntax tree of a .drive file, with a source span on every node.
 *
 * The parser builds it through the ast_* constructors (one call per grammar
 * action); semantic checks annotate expressions with types and resolved
 * symbols in place.
 *
 * Ownership: every node lives in the arena passed to its constructor.
 */
#ifndef DRIVE_AST_H
#define DRIVE_AST_H

#include <stdio.h>

#include "arena.h"
#include "diag.h"

/* Types of the language. DUR is the type of time literals (`300 ms`); it is
 * a compile-time unit check, carried as seconds at run time. A vector of N
 * reals, vec[N], is the number TY_VEC(N), so types compare with ==. */
typedef int ast_type;
enum { TY_ERROR = 0, TY_REAL, TY_BOOL, TY_DUR, TY_VEC0 = 16 };
enum { AST_MAX_VEC = 65536 }; /* the longest vector (documented in SPEC.md) */
#define TY_VEC(n) (TY_VEC0 + (n))
static inline int ty_is_vec(ast_type t) { return t > TY_VEC0; }
static inline int ty_len(ast_type t) { return ty_is_vec(t) ? t - TY_VEC0 : 1; }
/* "real", "vec[3]"; the text stays valid for the next few calls. */
const char *ast_type_name(ast_type t);

typedef enum {
    EX_NUM,    /* num */
    EX_DUR,    /* num, in seconds */
    EX_TICKS,  /* num ticks: a duration counted in ticks (resolved by sema) */
    EX_BOOL,   /* num != 0 */
    EX_NAME,   /* name */
    EX_UNARY,  /* op, lhs */
    EX_BINARY, /* op, lhs, rhs */
    EX_IF,     /* cond, lhs (then), rhs (else) */
    EX_CALL,   /* name, args (a builtin or a circuit) */
    EX_VEC,    /* [args] */
    EX_INDEX,  /* lhs[rhs] */
    EX_FIELD,  /* name.field */
    EX_NAMED   /* name = lhs: a named argument of a circuit call */
} ast_expr_kind;

typedef enum {
    OP_NEG, OP_NOT,
    OP_ADD, OP_SUB, OP_MUL, OP_DIV,
    OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE,
    OP_AND, OP_OR,
    OP_RANGE   /* a .. b: a time window (scenarios only) */
} ast_op;
const char *ast_op_text(ast_op op);

typedef struct ast_expr ast_expr;
typedef struct ast_expr_list {
    ast_expr **items;
    int len, cap;
} ast_expr_list;

struct ast_expr {
    ast_expr_kind kind;
    src_loc loc;
    ast_op op;
    double num;
    const char *name;
    ast_expr *cond, *lhs, *rhs;
    ast_expr_list args;
    const char *field; /* EX_FIELD; EX_CALL: the variant of V.mean(...), else NULL */
    int depth;        /* nesting depth of this subtree, bounded by the parser */
    /* filled by sema */
    ast_type type;
    int sym;          /* EX_NAME/EX_FIELD: index of the symbol in its circuit,
                       * EX_CALL of a circuit: its instance symbol; or -1 */
    const void *ref;  /* EX_NAME of a module constant: its sema_const;
                       * EX_CALL of a circuit: its sema_circuit */
    int run;          /* scenarios: a signal of variant run-1 (V.s); 0: the run measured */
};

typedef enum {
    IT_INPUT,  /* input NAME : TYPE */
    IT_OUTPUT, /* output NAME : TYPE [= expr] */
    IT_PARAM,  /* param NAME : TYPE [= expr] */
    IT_LET,    /* let NAME [: TYPE] = expr */
    IT_DEF,    /* NAME = expr: the equation of an output */
    IT_CONST,  /* const NAME [: TYPE] = expr (also at module level) */
    IT_STATE,  /* state NAME : TYPE = init */
    IT_NEXT,   /* next NAME = expr */
    IT_HEURISTIC, /* heuristic NAME [: TYPE] = expr */
    IT_ATTENTION, /* attention NAME [: TYPE] = expr */
    IT_GATE,   /* gate NAME = expr when cond [else other] */
    IT_REFLEX, /* reflex NAME = cond for D [refractory R] [strength S] */
    IT_PREDICTOR, /* predictor NAME { clause expr ... } */
    IT_REWARD  /* reward NAME = expr */
} ast_item_kind;

/* Optional parts of a declaration, collected by the grammar. */
typedef struct ast_attrs {
    ast_expr *lo, *hi;       /* `in [lo, hi]` */
    src_loc range_loc;
    int learned;             /* input ... learned */
    ast_expr *refractory, *strength;
} ast_attrs;

/* One `name expr` line of a predictor block. */
typedef struct ast_clause {
    const char *name;
    src_loc loc;
    ast_expr *expr;
} ast_clause;

typedef struct ast_clause_list {
    ast_clause *items;
    int len, cap;
    int broken;          /* a syntax error dropped some of its lines */
} ast_clause_list;

typedef struct ast_item {
    ast_item_kind kind;
    src_loc loc;       /* the whole item */
    src_loc name_loc;
    const char *name;
    ast_type decl_type; /* TY_ERROR when not written */
    src_loc type_loc;
    ast_expr *expr;     /* NULL when absent; gate: the value; reflex: the condition */
    ast_expr *cond, *other; /* gate: when / else; reflex: `for` duration in cond */
    ast_attrs attrs;
    ast_clause_list clauses; /* predictor */
} ast_item;

typedef struct ast_circuit {
    const char *name;
    src_loc loc, name_loc;
    ast_item **items;
    int n_items, cap_items;
} ast_circuit;

/* Scenarios (lang/SPEC.md, "Scenarios"): a stimulus schedule and
 * expectations for one circuit. Blocks and variants hold items of their own. */
typedef enum {
    SC_CIRCUIT,  /* circuit NAME */
    SC_SEED,     /* seed expr */
    SC_PARAM,    /* param NAME = expr (NAME may be "c.p") */
    SC_SET,      /* NAME = expr, NAME[index] = expr */
    SC_BLOCK,    /* timing { items } */
    SC_VARIANT,  /* variant NAME { items } */
    SC_EXPECT,   /* expect expr */
    SC_PLOT      /* plot expr, ... */
} ast_scn_kind;

typedef struct ast_scn_item {
    ast_scn_kind kind;
    src_loc loc, name_loc;
    const char *name;          /* circuit, param, input, variant */
    ast_expr *index;           /* SC_SET of one element */
    ast_expr *expr;            /* seed, param, set, expect */
    ast_expr_list plots;       /* SC_PLOT */
    int timing;                /* SC_BLOCK: 'a' at, 'd' during, 'e' every */
    ast_expr *when, *len, *window; /* at T / every P; for D; during A .. B */
    struct ast_scn_item **items;   /* SC_BLOCK, SC_VARIANT */
    int n_items, cap_items;
    struct ast_scn_item *parent;   /* while parsing: the enclosing block */
} ast_scn_item;

typedef struct ast_scenario {
    const char *name;
    src_loc loc, name_loc;
    ast_expr *length;          /* for D */
    ast_scn_item top;          /* the scenario's own items */
} ast_scenario;

typedef struct ast_import {
    const char *name;      /* dotted module name */
    src_loc loc;
} ast_import;

typedef struct ast_module {
    const char *name;      /* NULL until `module` is seen */
    src_loc name_loc;
    ast_expr *tick;        /* NULL: the default of 10 ms */
    src_loc tick_loc;
    ast_circuit **circuits;
    int n_circuits, cap_circuits;
    ast_import *imports;
    int n_imports, cap_imports;
    ast_item **consts;     /* module-level `const` items */
    int n_consts, cap_consts;
    ast_scenario **scenarios;
    int n_scenarios, cap_scenarios;
    const src_file *file;
} ast_module;

/* Limits on what the parser accepts, so that hostile input cannot exhaust
 * the stack of the recursive passes after it. */
enum { AST_MAX_DEPTH = 1000 };

/* The builder context the parser threads through its actions. */
typedef struct ast_builder {
    arena *mem;
    diag_ctx *diag;
    const src_file *file;
    ast_module *module;
    ast_circuit *circuit; /* the circuit being parsed */
    ast_scenario *scenario; /* the scenario being parsed */
    ast_scn_item *scn_items; /* where its next item goes (a block, or &scenario->top) */
    int open_parens;      /* kept by the scanner, for syntax error hints */
} ast_builder;

ast_expr *ast_num(ast_builder *b, src_loc loc, const char *text);
ast_expr *ast_dur(ast_builder *b, src_loc loc, const char *text);
ast_expr *ast_bool(ast_builder *b, src_loc loc, int value);
ast_expr *ast_name(ast_builder *b, src_loc loc, const char *name);
ast_expr *ast_unary(ast_builder *b, src_loc loc, ast_op op, ast_expr *e);
ast_expr *ast_binary(ast_builder *b, src_loc loc, ast_op op, ast_expr *l, ast_expr *r);
ast_expr *ast_if(ast_builder *b, src_loc loc, ast_expr *c, ast_expr *t, ast_expr *e);
ast_expr *ast_call(ast_builder *b, src_loc loc, const char *name, ast_expr_list args);
ast_expr *ast_vec(ast_builder *b, src_loc loc, ast_expr_list items);
ast_expr *ast_index(ast_builder *b, src_loc loc, ast_expr *v, ast_expr *i);
ast_expr *ast_field(ast_builder *b, src_loc loc, const char *name, const char *field);
ast_expr *ast_named(ast_builder *b, src_loc loc, const char *name, ast_expr *e);
ast_expr *ast_call1(ast_builder *b, src_loc loc, const char *name, ast_expr *arg);
ast_expr_list ast_args_empty(void);
ast_expr_list ast_args_add(ast_builder *b, ast_expr_list l, ast_expr *e);

void ast_module_name(ast_builder *b, src_loc loc, const char *name);
const char *ast_dotted(ast_builder *b, const char *prefix, const char *name); /* "a.b" */
void ast_module_tick(ast_builder *b, src_loc loc, ast_expr *e);
void ast_circuit_begin(ast_builder *b, src_loc loc, const char *name);
void ast_circuit_end(ast_builder *b, src_loc loc);
void ast_import_add(ast_builder *b, src_loc loc, const char *name);
/* vec[N]: N must be a whole number from 1 to AST_MAX_VEC. */
ast_type ast_vec_type(ast_builder *b, src_loc loc, const char *n);
ast_item *ast_item_add(ast_builder *b, ast_item_kind k, src_loc loc, src_loc name_loc,
                       const char *name, ast_type t, src_loc type_loc, ast_expr *e);
/* Declarations with optional parts (ranges, `learned`, reflex options). */
void ast_decl(ast_builder *b, ast_item_kind k, src_loc loc, src_loc name_loc, const char *name,
              ast_type t, src_loc type_loc, ast_attrs attrs, ast_expr *e);
void ast_gate(ast_builder *b, src_loc loc, src_loc name_loc, const char *name, ast_expr *value,
              ast_expr *when, ast_expr *other);
void ast_reflex(ast_builder *b, src_loc loc, src_loc name_loc, const char *name, ast_expr *cond,
                ast_expr *dur, ast_attrs attrs);
void ast_predictor(ast_builder *b, src_loc loc, src_loc name_loc, const char *name,
                   ast_clause_list clauses);
ast_attrs ast_attrs_none(void);
ast_attrs ast_attrs_range(ast_builder *b, ast_attrs a, src_loc loc, ast_expr *lo, ast_expr *hi);
ast_attrs ast_attrs_learned(ast_builder *b, ast_attrs a, src_loc loc);
ast_attrs ast_attrs_refractory(ast_builder *b, ast_attrs a, src_loc loc, ast_expr *e);
ast_attrs ast_attrs_strength(ast_builder *b, ast_attrs a, src_loc loc, ast_expr *e);
ast_clause_list ast_clauses_empty(void);
ast_clause_list ast_clauses_broken(ast_clause_list l);
ast_clause_list ast_clauses_add(ast_builder *b, ast_clause_list l, src_loc loc, const char *name,
                                ast_expr *e);

ast_expr *ast_measure(ast_builder *b, src_loc loc, const char *variant, const char *fn,
                      ast_expr_list args);
void ast_scenario_begin(ast_builder *b, src_loc name_loc, const char *name, ast_expr *length);
void ast_scenario_end(ast_builder *b);
void ast_scn_circuit(ast_builder *b, src_loc loc, src_loc name_loc, const char *name);
void ast_scn_seed(ast_builder *b, src_loc loc, ast_expr *e);
void ast_scn_param(ast_builder *b, src_loc loc, src_loc name_loc, const char *name, ast_expr *e);
void ast_scn_set(ast_builder *b, src_loc loc, src_loc name_loc, const char *name,
                 ast_expr *index, ast_expr *e);
/* A block's timing; kind 'a' (at), 'd' (during) or 'e' (every). */
ast_scn_item *ast_scn_timing(ast_builder *b, src_loc loc, int kind, ast_expr *when,
                             ast_expr *len, ast_expr *window);
void ast_scn_block_begin(ast_builder *b, ast_scn_item *block);
void ast_scn_block_end(ast_builder *b, ast_scn_item *block, src_loc end);
void ast_scn_variant_begin(ast_builder *b, src_loc loc, src_loc name_loc, const char *name);
void ast_scn_variant_end(ast_builder *b, src_loc end);
void ast_scn_expect(ast_builder *b, src_loc loc, ast_expr *e);
void ast_scn_plot(ast_builder *b, src_loc loc, ast_expr_list signals);

/* Join two spans (from the start of a to the end of b). */
src_loc ast_span(src_loc a, src_loc b);

/* Print the tree as S-expressions (debugging and parser tests). */
void ast_print(FILE *f, const ast_module *m);

#endif
