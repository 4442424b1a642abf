/* sema.c — name resolution, typing, definition and causality checks. */
#include "sema.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct deferred_pre {
    ast_expr *arg, *init;
    ast_type type;
} deferred_pre;

typedef struct sema_ctx {
    arena *mem;
    diag_ctx *diag;
    sema_module *mod;
    sema_circuit *cur;
    int *table;          /* open-addressing hash: sym index + 1, 0 empty */
    size_t table_cap;
    unsigned char *state; /* per sym while typing: 0 new, 1 in progress, 2 done */
    src_loc *self_use;    /* per let: where its type was needed while inferring it */
    unsigned char *in_cycle; /* per sym: part of a reported instantaneous cycle */
    arena_vec deferred;   /* deferred_pre: pre() signals typed after the lets */
    const char **cands;   /* names for suggestions, built on first need */
    unsigned char *suggested; /* per sym: offered as "did you mean" */
    int defining;         /* the symbol whose definition is checked, or -1 */
} sema_ctx;

typedef struct builtin_fn {
    const char *name;
    int min_args, max_args;
} builtin_fn;

static const builtin_fn BUILTINS[] = {
    { "pre", 1, 2 },
};
enum { N_BUILTINS = sizeof BUILTINS / sizeof BUILTINS[0] };

/* ---- symbol table ------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static int lookup(sema_ctx *x, const char *name)
{
    size_t mask = x->table_cap - 1;
    for (size_t i = hash_str(name) & mask;; i = (i + 1) & mask) {
        int v = x->table[i];
        if (v == 0)
            return -1;
        if (strcmp(x->cur->syms[v - 1].name, name) == 0)
            return v - 1;
    }
}

static void table_insert(sema_ctx *x, const char *name, int idx)
{
    size_t mask = x->table_cap - 1;
    size_t i = hash_str(name) & mask;
    while (x->table[i])
        i = (i + 1) & mask;
    x->table[i] = idx + 1;
}

static const char *kind_name(sema_sym_kind k)
{
    switch (k) {
    case SYM_INPUT: return "input";
    case SYM_OUTPUT: return "output";
    case SYM_PARAM: return "param";
    default: return "let";
    }
}

/* "Did you mean": the closest of the circuit's names (and `dt`), never the
 * signal whose definition is being checked. A let offered this way is not
 * also reported as unused: the misspelling is the one problem. */
static const char *suggest_name(sema_ctx *x, const char *name)
{
    int n = x->cur->n_syms;
    if (diag_errors(x->diag) >= DIAG_MAX_ERRORS)
        return NULL; /* the message will not be shown: spare the search */
    if (!x->cands) {
        x->cands = arena_calloc(x->mem, (size_t)n + 1, sizeof *x->cands);
        x->suggested = arena_calloc(x->mem, (size_t)n + 1, 1);
        for (int i = 0; i < n; i++)
            x->cands[i] = x->cur->syms[i].name;
        x->cands[n] = "dt";
    }
    if (x->defining >= 0)
        x->cands[x->defining] = NULL;
    const char *best = diag_suggest(name, x->cands, (size_t)n + 1);
    if (x->defining >= 0)
        x->cands[x->defining] = x->cur->syms[x->defining].name;
    for (int i = 0; best && i < n; i++)
        if (x->cands[i] == best)
            x->suggested[i] = 1;
    return best;
}

/* ---- constants ---------------------------------------------------------- */

static int const_eval(const sema_module *m, const ast_expr *e, double *out)
{
    double a, b, c;
    switch (e->kind) {
    case EX_NUM:
        if (e->sym == -2)
            return 0;
        /* fallthrough */
    case EX_DUR:
    case EX_BOOL:
        *out = e->num;
        return 1;
    case EX_TICKS:
        if (m->tick_seconds <= 0)
            return 0;
        *out = e->num * m->tick_seconds;
        return 1;
    case EX_NAME:
        if (e->sym == -1 && strcmp(e->name, "dt") == 0 && m->tick_seconds > 0) {
            *out = m->tick_seconds;
            return 1;
        }
        return 0;
    case EX_UNARY:
        if (!const_eval(m, e->lhs, &a))
            return 0;
        *out = e->op == OP_NEG ? -a : (double)(a == 0);
        return 1;
    case EX_BINARY:
        if (!const_eval(m, e->lhs, &a) || !const_eval(m, e->rhs, &b))
            return 0;
        switch (e->op) {
        case OP_ADD: *out = a + b; break;
        case OP_SUB: *out = a - b; break;
        case OP_MUL: *out = a * b; break;
        case OP_DIV: *out = a / b; break;
        case OP_LT: *out = a < b; break;
        case OP_LE: *out = a <= b; break;
        case OP_GT: *out = a > b; break;
        case OP_GE: *out = a >= b; break;
        case OP_EQ: *out = a == b; break;
        case OP_NE: *out = a != b; break;
        case OP_AND: *out = (a != 0) && (b != 0); break;
        case OP_OR: *out = (a != 0) || (b != 0); break;
        default: return 0;
        }
        return 1;
    case EX_IF:
        if (!const_eval(m, e->cond, &c) || !const_eval(m, e->lhs, &a) ||
            !const_eval(m, e->rhs, &b))
            return 0;
        *out = c != 0 ? a : b;
        return 1;
    default:
        return 0;
    }
}

int sema_const_value(const sema_module *m, const ast_expr *e, double *out)
{
    return const_eval(m, e, out);
}

/* ---- dependency graphs ---------------------------------------------------
 * Two graphs over a circuit's symbols: which lets must be typed before which
 * (typing order), and which signals a definition reads within the same tick
 * (evaluation order and instantaneous cycles). Both are walked by one
 * iterative depth-first search, so long chains cannot exhaust the stack. */

typedef struct dep_edge {
    int to;
    src_loc at;
} dep_edge;

typedef struct dep_node {
    dep_edge *edges;
    int n, cap;
} dep_node;

typedef enum {
    DEPS_TYPE,   /* untyped lets named anywhere but in pre(x, init)'s x */
    DEPS_INSTANT /* lets and outputs read within the tick (not in pre's x) */
} deps_mode;

static void add_edge(sema_ctx *x, dep_node *node, int to, src_loc at)
{
    if (node->n == node->cap) {
        int cap = node->cap ? node->cap * 2 : 4;
        dep_edge *ne = arena_calloc(x->mem, (size_t)cap, sizeof *ne);
        if (node->n)
            memcpy(ne, node->edges, (size_t)node->n * sizeof *ne);
        node->edges = ne;
        node->cap = cap;
    }
    node->edges[node->n++] = (dep_edge){ to, at };
}

static void collect_deps(sema_ctx *x, dep_node *node, const ast_expr *e, deps_mode mode)
{
    switch (e->kind) {
    case EX_NAME: {
        int i = mode == DEPS_TYPE ? lookup(x, e->name) : e->sym;
        if (i < 0)
            break;
        const sema_sym *s = &x->cur->syms[i];
        if (mode == DEPS_TYPE ? s->kind == SYM_LET && s->type == TY_ERROR
                              : s->kind == SYM_LET || s->kind == SYM_OUTPUT)
            add_edge(x, node, i, e->loc);
        break;
    }
    case EX_UNARY:
        collect_deps(x, node, e->lhs, mode);
        break;
    case EX_BINARY:
        collect_deps(x, node, e->lhs, mode);
        collect_deps(x, node, e->rhs, mode);
        break;
    case EX_IF:
        collect_deps(x, node, e->cond, mode);
        collect_deps(x, node, e->lhs, mode);
        collect_deps(x, node, e->rhs, mode);
        break;
    case EX_CALL: {
        /* pre's first argument is last tick's value: no instantaneous edge;
         * with an initial value, that value gives its type. */
        int is_pre = strcmp(e->name, "pre") == 0;
        int skip = is_pre && (mode == DEPS_INSTANT || e->args.len > 1);
        for (int i = skip ? 1 : 0; i < e->args.len; i++)
            collect_deps(x, node, e->args.items[i], mode);
        break;
    }
    default:
        break;
    }
}

static void report_cycle(sema_ctx *x, dep_node *nodes, const int *path, int len);

/* Post-order of the nodes with want[v] set (dependencies first) into order;
 * returns its length. With cycles set, a back edge is an instantaneous
 * cycle: reported once per group of signals, which are marked in cycles. */
static int dfs_postorder(sema_ctx *x, dep_node *nodes, int n, const unsigned char *want,
                         int *order, unsigned char *cycles)
{
    unsigned char *color = arena_calloc(x->mem, (size_t)n + 1, 1); /* 0 white 1 grey 2 black */
    int *stack = arena_calloc(x->mem, (size_t)n + 1, sizeof *stack);
    int *next = arena_calloc(x->mem, (size_t)n + 1, sizeof *next);
    int n_order = 0;
    for (int root = 0; root < n; root++) {
        if (color[root] || !want[root])
            continue;
        int sp = 0;
        stack[sp++] = root;
        color[root] = 1;
        while (sp > 0) {
            int v = stack[sp - 1];
            if (next[v] < nodes[v].n) {
                int w = nodes[v].edges[next[v]++].to;
                if (color[w] == 0) {
                    color[w] = 1;
                    stack[sp++] = w;
                } else if (color[w] == 1 && cycles && !cycles[w]) {
                    int start = sp - 1;
                    while (stack[start] != w)
                        start--;
                    report_cycle(x, nodes, stack + start, sp - start);
                    for (int k = start; k < sp; k++)
                        cycles[stack[k]] = 1;
                }
            } else {
                color[v] = 2;
                order[n_order++] = v;
                sp--;
            }
        }
    }
    return n_order;
}

/* ---- typing ------------------------------------------------------------- */

static ast_type check_expr(sema_ctx *x, ast_expr *e);
static ast_type type_of_sym(sema_ctx *x, int i, src_loc use);

static int is_num(ast_type t) { return t == TY_REAL || t == TY_DUR; }

static void mismatch_hint(sema_ctx *x, ast_type got, ast_type want)
{
    if (got == TY_BOOL && want == TY_REAL)
        diag_hint(x->diag, "turn a bool into a number with 'if b then 1 else 0'");
    else if (got == TY_REAL && want == TY_BOOL)
        diag_hint(x->diag, "compare it to get a bool, e.g. 'x > 0'");
    else if (got == TY_DUR && want == TY_REAL)
        diag_hint(x->diag, "divide a duration by another to get a number, e.g. 'd / 1 s'");
    else if (got == TY_REAL && want == TY_DUR)
        diag_hint(x->diag, "give the number a time unit, e.g. '200 ms'");
}

static ast_type check_binary(sema_ctx *x, ast_expr *e)
{
    ast_type l = check_expr(x, e->lhs), r = check_expr(x, e->rhs);
    if (l == TY_ERROR || r == TY_ERROR)
        return TY_ERROR;
    const char *op = ast_op_text(e->op);
    switch (e->op) {
    case OP_ADD:
    case OP_SUB:
        if (l == r && is_num(l))
            return l;
        break;
    case OP_MUL:
        if (l == TY_REAL && r == TY_REAL)
            return TY_REAL;
        if ((l == TY_DUR && r == TY_REAL) || (l == TY_REAL && r == TY_DUR))
            return TY_DUR;
        break;
    case OP_DIV:
        if (l == TY_REAL && r == TY_REAL)
            return TY_REAL;
        if (l == TY_DUR && r == TY_REAL)
            return TY_DUR;
        if (l == TY_DUR && r == TY_DUR)
            return TY_REAL;
        break;
    case OP_LT: case OP_LE: case OP_GT: case OP_GE:
        if (l == r && is_num(l))
            return TY_BOOL;
        break;
    case OP_EQ: case OP_NE:
        if (l == r)
            return TY_BOOL;
        break;
    case OP_AND: case OP_OR:
        if (l == TY_BOOL && r == TY_BOOL)
            return TY_BOOL;
        if (l != TY_BOOL) {
            diag_report(x->diag, DIAG_ERROR, e->lhs->loc,
                        "'%s' needs bool operands, but this is %s", op, ast_type_name(l));
            mismatch_hint(x, l, TY_BOOL);
        }
        if (r != TY_BOOL) {
            diag_report(x->diag, DIAG_ERROR, e->rhs->loc,
                        "'%s' needs bool operands, but this is %s", op, ast_type_name(r));
            mismatch_hint(x, r, TY_BOOL);
        }
        return TY_ERROR;
    default:
        break;
    }
    diag_report(x->diag, DIAG_ERROR, e->loc, "'%s' cannot combine %s and %s", op,
                ast_type_name(l), ast_type_name(r));
    if (l == TY_BOOL || r == TY_BOOL)
        mismatch_hint(x, TY_BOOL, l == TY_BOOL ? r : l);
    else if (l != r)
        mismatch_hint(x, l == TY_DUR ? TY_DUR : TY_REAL, l == TY_DUR ? TY_REAL : TY_DUR);
    return TY_ERROR;
}

static ast_type check_call(sema_ctx *x, ast_expr *e)
{
    const builtin_fn *fn = NULL;
    for (int i = 0; i < N_BUILTINS; i++)
        if (strcmp(BUILTINS[i].name, e->name) == 0)
            fn = &BUILTINS[i];
    if (!fn) {
        const char *names[N_BUILTINS];
        for (int i = 0; i < N_BUILTINS; i++)
            names[i] = BUILTINS[i].name;
        src_loc nl = e->loc;
        nl.end_line = nl.line;
        nl.end_col = nl.col + (int)strlen(e->name);
        diag_report(x->diag, DIAG_ERROR, nl, "unknown function '%s'", e->name);
        const char *s = diag_suggest(e->name, names, N_BUILTINS);
        if (s)
            diag_hint(x->diag, "did you mean '%s'?", s);
        for (int i = 0; i < e->args.len; i++)
            check_expr(x, e->args.items[i]);
        return TY_ERROR;
    }
    if (e->args.len < fn->min_args || e->args.len > fn->max_args) {
        diag_report(x->diag, DIAG_ERROR, e->loc, "'%s' takes %d to %d arguments, not %d",
                    fn->name, fn->min_args, fn->max_args, e->args.len);
        return TY_ERROR;
    }
    /* pre(x [, init]) */
    ast_expr *arg = e->args.items[0];
    ast_expr *init = e->args.len > 1 ? e->args.items[1] : NULL;
    int known = -1; /* a signal whose type is already settled */
    if (arg->kind == EX_NAME && (known = lookup(x, arg->name)) >= 0 &&
        x->cur->syms[known].kind == SYM_LET && x->cur->syms[known].type == TY_ERROR &&
        x->state[known] != 2)
        known = -1;
    if (init && known >= 0) {
        ast_type ta = check_expr(x, arg), ti = check_expr(x, init);
        if (ta != TY_ERROR && ti != TY_ERROR && ta != ti) {
            diag_report(x->diag, DIAG_ERROR, init->loc,
                        "the initial value of pre() is %s but its signal is %s",
                        ast_type_name(ti), ast_type_name(ta));
            mismatch_hint(x, ti, ta);
        }
        return ta;
    }
    if (init) {
        /* The initial value gives the type; the signal is checked against it
         * once every let is typed, so `let n = pre(n, 0) + 1` and longer
         * loops through pre() need no annotation. */
        ast_type ti = check_expr(x, init);
        if (ti != TY_ERROR) {
            deferred_pre *d = arena_vec_push(x->mem, &x->deferred);
            d->arg = arg;
            d->init = init;
            d->type = ti;
            return ti;
        }
    }
    return check_expr(x, arg);
}

/* The signals of pre(x, init) calls, against their initial values. */
static void check_deferred(sema_ctx *x)
{
    for (size_t i = 0; i < x->deferred.len; i++) { /* may grow while we go */
        deferred_pre d = ((deferred_pre *)x->deferred.data)[i];
        ast_type ta = check_expr(x, d.arg);
        if (ta != TY_ERROR && ta != d.type) {
            diag_report(x->diag, DIAG_ERROR, d.init->loc,
                        "the initial value of pre() is %s but its signal is %s",
                        ast_type_name(d.type), ast_type_name(ta));
            mismatch_hint(x, d.type, ta);
        }
    }
}

static ast_type check_expr(sema_ctx *x, ast_expr *e)
{
    ast_type t = TY_ERROR;
    switch (e->kind) {
    case EX_NUM:
        t = e->sym == -2 ? TY_ERROR : TY_REAL;
        break;
    case EX_DUR:
    case EX_TICKS:
        t = TY_DUR;
        break;
    case EX_BOOL:
        t = TY_BOOL;
        break;
    case EX_NAME: {
        int i = lookup(x, e->name);
        if (i >= 0) {
            e->sym = i;
            x->cur->syms[i].used = 1;
            t = type_of_sym(x, i, e->loc);
        } else if (strcmp(e->name, "dt") == 0) {
            t = TY_DUR; /* the module's tick */
        } else {
            diag_report(x->diag, DIAG_ERROR, e->loc, "undefined name '%s'", e->name);
            const char *s = suggest_name(x, e->name);
            if (s)
                diag_hint(x->diag, "did you mean '%s'?", s);
        }
        break;
    }
    case EX_UNARY: {
        ast_type a = check_expr(x, e->lhs);
        if (a == TY_ERROR)
            break;
        if (e->op == OP_NEG && is_num(a))
            t = a;
        else if (e->op == OP_NOT && a == TY_BOOL)
            t = TY_BOOL;
        else {
            diag_report(x->diag, DIAG_ERROR, e->loc, "'%s' cannot apply to %s",
                        ast_op_text(e->op), ast_type_name(a));
            mismatch_hint(x, a, e->op == OP_NOT ? TY_BOOL : TY_REAL);
        }
        break;
    }
    case EX_BINARY:
        t = check_binary(x, e);
        break;
    case EX_IF: {
        ast_type c = check_expr(x, e->cond);
        ast_type a = check_expr(x, e->lhs), b = check_expr(x, e->rhs);
        if (c != TY_ERROR && c != TY_BOOL) {
            diag_report(x->diag, DIAG_ERROR, e->cond->loc,
                        "the condition of 'if' must be bool, not %s", ast_type_name(c));
            mismatch_hint(x, c, TY_BOOL);
        }
        if (a != TY_ERROR && b != TY_ERROR && a != b) {
            diag_report(x->diag, DIAG_ERROR, e->rhs->loc,
                        "the branches of 'if' disagree: 'then' is %s, 'else' is %s",
                        ast_type_name(a), ast_type_name(b));
            mismatch_hint(x, b, a);
        } else if (c == TY_BOOL && a == b) {
            t = a;
        }
        break;
    }
    case EX_CALL:
        t = check_call(x, e);
        break;
    }
    e->type = t;
    return t;
}

/* The type of symbol i. type_lets types lets in dependency order, so a let
 * still untyped here is part of a loop of lets through pre() without initial
 * values: its type cannot be inferred (reported after the causality check,
 * unless an instantaneous cycle explains it better). */
static ast_type type_of_sym(sema_ctx *x, int i, src_loc use)
{
    sema_sym *s = &x->cur->syms[i];
    if (s->kind != SYM_LET || s->type != TY_ERROR || x->state[i] == 2)
        return s->type;
    if (!x->self_use[i].file)
        x->self_use[i] = use;
    x->state[i] = 2;
    return TY_ERROR;
}

/* ---- declarations ------------------------------------------------------- */

static void declare(sema_ctx *x, const ast_item *it)
{
    sema_circuit *c = x->cur;
    int prev = lookup(x, it->name);
    if (prev >= 0) {
        sema_sym *p = &c->syms[prev];
        diag_report(x->diag, DIAG_ERROR, it->name_loc, "'%s' is already defined", it->name);
        diag_report(x->diag, DIAG_NOTE, p->decl_loc, "'%s' was defined here as %s %s",
                    it->name, p->kind == SYM_INPUT ? "an" : "a", kind_name(p->kind));
        return;
    }
    if (strcmp(it->name, "dt") == 0) {
        diag_report(x->diag, DIAG_ERROR, it->name_loc,
                    "'dt' is the module's tick and cannot be redefined");
        return;
    }
    sema_sym *s = &c->syms[c->n_syms];
    s->name = it->name;
    s->decl_loc = it->name_loc;
    s->def_loc = it->name_loc;
    s->type = it->decl_type;
    s->def = it->expr;
    switch (it->kind) {
    case IT_INPUT: s->kind = SYM_INPUT; break;
    case IT_OUTPUT: s->kind = SYM_OUTPUT; break;
    case IT_PARAM: s->kind = SYM_PARAM; break;
    default: s->kind = SYM_LET; break;
    }
    table_insert(x, it->name, c->n_syms);
    c->n_syms++;
}

/* `name = expr`: attach an equation to its output. */
static void define(sema_ctx *x, const ast_item *it)
{
    int i = lookup(x, it->name);
    if (i < 0) {
        diag_report(x->diag, DIAG_ERROR, it->name_loc,
                    "'%s' is not declared", it->name);
        const char *s = suggest_name(x, it->name);
        if (s)
            diag_hint(x->diag, "did you mean '%s'? To add an output, declare it: 'output %s : real'",
                      s, it->name);
        else
            diag_hint(x->diag, "declare it first: 'output %s : real', or use 'let %s = ...'",
                      it->name, it->name);
        return;
    }
    sema_sym *s = &x->cur->syms[i];
    if (s->kind != SYM_OUTPUT) {
        diag_report(x->diag, DIAG_ERROR, it->name_loc,
                    "cannot define %s '%s' with an equation; only outputs are defined this way",
                    kind_name(s->kind), s->name);
        diag_report(x->diag, DIAG_NOTE, s->decl_loc, "'%s' is declared here", s->name);
        return;
    }
    if (s->def) {
        diag_report(x->diag, DIAG_ERROR, it->name_loc, "output '%s' is defined twice", s->name);
        diag_report(x->diag, DIAG_NOTE, s->def_loc, "first defined here");
        diag_hint(x->diag, "a signal has one value per tick: combine the two equations into one");
        return;
    }
    s->def = it->expr;
    s->def_loc = it->name_loc;
}

static void report_cycle(sema_ctx *x, dep_node *nodes, const int *path, int len)
{
    sema_sym *syms = x->cur->syms;
    size_t cap = 64;
    for (int i = 0; i < len; i++)
        cap += strlen(syms[path[i]].name) + 4;
    char *text = arena_alloc(x->mem, cap + strlen(syms[path[0]].name));
    size_t n = 0;
    for (int i = 0; i < len; i++)
        n += (size_t)sprintf(text + n, "%s -> ", syms[path[i]].name);
    sprintf(text + n, "%s", syms[path[0]].name);
    diag_report(x->diag, DIAG_ERROR, syms[path[0]].def_loc, "instantaneous cycle: %s", text);
    diag_hint(x->diag, "a signal cannot depend on itself within one tick; "
                       "read last tick's value with pre(), e.g. pre(%s)",
              syms[path[len - 1]].name);
    for (int i = 0; i < len; i++) {
        int from = path[i], to = path[(i + 1) % len];
        for (int k = 0; k < nodes[from].n; k++)
            if (nodes[from].edges[k].to == to) {
                diag_report(x->diag, DIAG_NOTE, nodes[from].edges[k].at, "'%s' uses '%s' here",
                            syms[from].name, syms[to].name);
                break;
            }
    }
}

/* The graph of one kind over the circuit's symbols, walked dependencies
 * first into order; returns the number of nodes ordered. */
static int dep_order(sema_ctx *x, deps_mode mode, int *order, unsigned char *cycles)
{
    sema_circuit *c = x->cur;
    int n = c->n_syms;
    dep_node *nodes = arena_calloc(x->mem, (size_t)n + 1, sizeof *nodes);
    unsigned char *want = arena_calloc(x->mem, (size_t)n + 1, 1);
    for (int i = 0; i < n; i++) {
        const sema_sym *s = &c->syms[i];
        want[i] = s->def && (mode == DEPS_TYPE ? s->kind == SYM_LET && s->type == TY_ERROR
                                               : s->kind == SYM_LET || s->kind == SYM_OUTPUT);
        if (want[i])
            collect_deps(x, &nodes[i], s->def, mode);
    }
    return dfs_postorder(x, nodes, n, want, order, cycles);
}

/* Evaluation order of the definitions, and the instantaneous cycles. */
static void order_definitions(sema_ctx *x)
{
    sema_circuit *c = x->cur;
    x->in_cycle = arena_calloc(x->mem, (size_t)c->n_syms + 1, 1);
    c->order = arena_calloc(x->mem, (size_t)c->n_syms + 1, sizeof *c->order);
    c->n_order = dep_order(x, DEPS_INSTANT, c->order, x->in_cycle);
}

/* Type the lets that have no written type, each after the lets its
 * definition names, so typing never recurses from one let into another. */
static void type_lets(sema_ctx *x)
{
    sema_circuit *c = x->cur;
    int *order = arena_calloc(x->mem, (size_t)c->n_syms + 1, sizeof *order);
    int n_order = dep_order(x, DEPS_TYPE, order, NULL);
    for (int k = 0; k < n_order; k++) {
        int i = order[k];
        x->state[i] = 1;
        x->defining = i;
        ast_type t = check_expr(x, c->syms[i].def);
        x->defining = -1;
        if (x->state[i] == 1) /* not poisoned by a use of itself */
            c->syms[i].type = t;
        x->state[i] = 2;
    }
}

/* ---- circuits and module ------------------------------------------------ */

static void check_circuit(sema_ctx *x, sema_circuit *c, const ast_circuit *ac)
{
    c->ast = ac;
    c->name = ac->name;
    c->syms = arena_calloc(x->mem, (size_t)ac->n_items + 1, sizeof *c->syms);
    x->cur = c;
    x->table_cap = 16;
    while (x->table_cap < (size_t)ac->n_items * 2 + 2)
        x->table_cap *= 2;
    x->table = arena_calloc(x->mem, x->table_cap, sizeof *x->table);

    for (int i = 0; i < ac->n_items; i++)
        if (ac->items[i]->kind != IT_DEF)
            declare(x, ac->items[i]);
    for (int i = 0; i < ac->n_items; i++)
        if (ac->items[i]->kind == IT_DEF)
            define(x, ac->items[i]);
    x->state = arena_calloc(x->mem, (size_t)c->n_syms + 1, 1);
    x->self_use = arena_calloc(x->mem, (size_t)c->n_syms + 1, sizeof *x->self_use);
    arena_vec_init(&x->deferred, sizeof(deferred_pre));

    x->cands = NULL;
    x->suggested = NULL;
    x->defining = -1;
    type_lets(x);
    for (int i = 0; i < c->n_syms; i++) {
        sema_sym *s = &c->syms[i];
        x->defining = i;
        switch (s->kind) {
        case SYM_INPUT:
            break;
        case SYM_PARAM:
            if (!s->def) {
                diag_report(x->diag, DIAG_ERROR, s->decl_loc, "param '%s' needs a default value",
                            s->name);
                diag_hint(x->diag, "write 'param %s : %s = %s'", s->name, ast_type_name(s->type),
                          s->type == TY_BOOL ? "false" : "1");
                break;
            }
            {
                ast_type t = check_expr(x, s->def);
                if (t != TY_ERROR && t != s->type) {
                    diag_report(x->diag, DIAG_ERROR, s->def->loc,
                                "param '%s' is %s but its default is %s", s->name,
                                ast_type_name(s->type), ast_type_name(t));
                    mismatch_hint(x, t, s->type);
                } else if (t != TY_ERROR && !const_eval(x->mod, s->def, &s->value)) {
                    diag_report(x->diag, DIAG_ERROR, s->def->loc,
                                "the default of param '%s' must be a constant", s->name);
                    diag_hint(x->diag, "params are set by the host at run time; "
                                       "their defaults cannot read signals");
                }
            }
            break;
        case SYM_OUTPUT:
            if (!s->def) {
                diag_report(x->diag, DIAG_ERROR, s->decl_loc, "output '%s' is never defined",
                            s->name);
                diag_hint(x->diag, "add an equation: '%s = ...'", s->name);
                break;
            }
            {
                ast_type t = check_expr(x, s->def);
                if (t != TY_ERROR && t != s->type) {
                    diag_report(x->diag, DIAG_ERROR, s->def->loc,
                                "output '%s' is %s but is defined as %s", s->name,
                                ast_type_name(s->type), ast_type_name(t));
                    mismatch_hint(x, t, s->type);
                }
            }
            break;
        case SYM_LET:
            if (s->type != TY_ERROR) { /* declared type */
                ast_type t = check_expr(x, s->def);
                if (t != TY_ERROR && t != s->type) {
                    diag_report(x->diag, DIAG_ERROR, s->def->loc,
                                "'%s' is declared %s but is defined as %s", s->name,
                                ast_type_name(s->type), ast_type_name(t));
                    mismatch_hint(x, t, s->type);
                }
                x->state[i] = 2;
            }
            break;
        }
    }
    x->defining = -1;
    check_deferred(x);
    order_definitions(x);
    for (int i = 0; i < c->n_syms; i++)
        if (x->self_use[i].file && !x->in_cycle[i]) {
            diag_report(x->diag, DIAG_ERROR, x->self_use[i],
                        "the type of '%s' depends on itself", c->syms[i].name);
            diag_hint(x->diag, "write its type: 'let %s : real = ...'", c->syms[i].name);
        }
    for (int i = 0; i < c->n_syms; i++)
        if (c->syms[i].kind == SYM_LET && !c->syms[i].used && !(x->suggested && x->suggested[i]))
            diag_report(x->diag, DIAG_WARNING, c->syms[i].decl_loc, "'%s' is never used",
                        c->syms[i].name);
}

static void check_tick(sema_ctx *x, const ast_module *am)
{
    sema_module *m = x->mod;
    m->tick_seconds = 0.010;
    if (!am->tick)
        return;
    ast_expr *e = am->tick;
    double v;
    if (e->kind == EX_TICKS) {
        diag_report(x->diag, DIAG_ERROR, e->loc, "the tick cannot be measured in ticks");
        diag_hint(x->diag, "write it in ms, s or min, e.g. 'tick 10 ms'");
        return;
    }
    /* Type it without a circuit: only literals and operators may appear. */
    sema_circuit none = { 0 };
    int table_empty[1] = { 0 };
    x->cur = &none;
    x->table = table_empty;
    x->table_cap = 1;
    m->tick_seconds = 0; /* `dt` is not constant inside its own definition */
    ast_type t = check_expr(x, e);
    check_deferred(x);
    m->tick_seconds = 0.010;
    if (t == TY_ERROR)
        return;
    if (t != TY_DUR) {
        diag_report(x->diag, DIAG_ERROR, e->loc, "the tick must be a duration, not %s",
                    ast_type_name(t));
        diag_hint(x->diag, "give it a time unit, e.g. 'tick 10 ms'");
    } else if (!const_eval(m, e, &v)) {
        diag_report(x->diag, DIAG_ERROR, e->loc, "the tick must be a constant duration");
    } else if (!(v > 0) || !isfinite(v)) {
        diag_report(x->diag, DIAG_ERROR, e->loc, "the tick must be a positive duration");
    } else {
        m->tick_seconds = v;
    }
}

sema_module *sema_check(arena *mem, diag_ctx *diag, const ast_module *am, const char *default_name)
{
    sema_module *m = arena_alloc(mem, sizeof *m);
    m->ast = am;
    m->name = am->name ? am->name : default_name;
    sema_ctx x = { .mem = mem, .diag = diag, .mod = m, .defining = -1 };
    arena_vec_init(&x.deferred, sizeof(deferred_pre));
    check_tick(&x, am);

    if (am->n_circuits == 0 && am->file && diag_errors(diag) == 0)
        diag_report(diag, DIAG_WARNING, (src_loc){ am->file, 1, 1, 1, 1 },
                    "'%s' defines no circuit", am->file->name);
    m->circuits = arena_calloc(mem, (size_t)am->n_circuits + 1, sizeof *m->circuits);
    /* Circuit names, hashed: a module may hold many circuits. */
    size_t cap = 16;
    while (cap < (size_t)am->n_circuits * 2 + 2)
        cap *= 2;
    int *seen = arena_calloc(mem, cap, sizeof *seen); /* circuit index + 1 */
    for (int i = 0; i < am->n_circuits; i++) {
        const ast_circuit *ac = am->circuits[i];
        size_t h = hash_str(ac->name) & (cap - 1);
        while (seen[h] && strcmp(am->circuits[seen[h] - 1]->name, ac->name) != 0)
            h = (h + 1) & (cap - 1);
        if (seen[h]) {
            diag_report(diag, DIAG_ERROR, ac->name_loc, "circuit '%s' is already defined", ac->name);
            diag_report(diag, DIAG_NOTE, am->circuits[seen[h] - 1]->name_loc, "first defined here");
            continue;
        }
        seen[h] = i + 1;
        check_circuit(&x, &m->circuits[m->n_circuits++], ac);
    }
    return m;
}

const sema_circuit *sema_find_circuit(const sema_module *m, const char *name)
{
    for (int i = 0; i < m->n_circuits; i++)
        if (strcmp(m->circuits[i].name, name) == 0)
            return &m->circuits[i];
    return NULL;
}
