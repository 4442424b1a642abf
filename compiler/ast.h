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
 * a compile-time unit check, carried as seconds at run time. */
typedef enum { TY_ERROR, TY_REAL, TY_BOOL, TY_DUR } ast_type;
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
    EX_CALL    /* name, args */
} ast_expr_kind;

typedef enum {
    OP_NEG, OP_NOT,
    OP_ADD, OP_SUB, OP_MUL, OP_DIV,
    OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE,
    OP_AND, OP_OR
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
    int depth;        /* nesting depth of this subtree, bounded by the parser */
    /* filled by sema */
    ast_type type;
    int sym;          /* EX_NAME: index of the symbol in its circuit, or -1 */
};

typedef enum {
    IT_INPUT,  /* input NAME : TYPE */
    IT_OUTPUT, /* output NAME : TYPE [= expr] */
    IT_PARAM,  /* param NAME : TYPE [= expr] */
    IT_LET,    /* let NAME [: TYPE] = expr */
    IT_DEF     /* NAME = expr: the equation of an output */
} ast_item_kind;

typedef struct ast_item {
    ast_item_kind kind;
    src_loc loc;       /* the whole item */
    src_loc name_loc;
    const char *name;
    ast_type decl_type; /* TY_ERROR when not written */
    src_loc type_loc;
    ast_expr *expr;     /* NULL when absent */
} ast_item;

typedef struct ast_circuit {
    const char *name;
    src_loc loc, name_loc;
    ast_item **items;
    int n_items, cap_items;
} ast_circuit;

typedef struct ast_module {
    const char *name;      /* NULL until `module` is seen */
    src_loc name_loc;
    ast_expr *tick;        /* NULL: the default of 10 ms */
    src_loc tick_loc;
    ast_circuit **circuits;
    int n_circuits, cap_circuits;
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
ast_expr_list ast_args_empty(void);
ast_expr_list ast_args_add(ast_builder *b, ast_expr_list l, ast_expr *e);

void ast_module_name(ast_builder *b, src_loc loc, const char *name);
const char *ast_dotted(ast_builder *b, const char *prefix, const char *name); /* "a.b" */
void ast_module_tick(ast_builder *b, src_loc loc, ast_expr *e);
void ast_circuit_begin(ast_builder *b, src_loc loc, const char *name);
void ast_circuit_end(ast_builder *b, src_loc loc);
void ast_item_add(ast_builder *b, ast_item_kind k, src_loc loc, src_loc name_loc,
                  const char *name, ast_type t, src_loc type_loc, ast_expr *e);

/* Join two spans (from the start of a to the end of b). */
src_loc ast_span(src_loc a, src_loc b);

/* Print the tree as S-expressions (debugging and parser tests). */
void ast_print(FILE *f, const ast_module *m);

#endif
