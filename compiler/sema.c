/* sema.c — name resolution, typing, the rules of each construct, causality
 * and the innate/learned rule. */
#include "sema.h"

#include "rt_math.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* How deep a constant may be, counting the expressions of the constants it
 * uses (a bound on the recursion of every stage; documented in SPEC.md). */
enum { SEMA_MAX_CONST_DEPTH = 4 * AST_MAX_DEPTH };
/* How deep instances may nest (each level is a recursion of lowering). */
enum { SEMA_MAX_NESTING = 100 };

typedef struct deferred_pre {
    ast_expr *arg, *init;
    ast_type type;
} deferred_pre;

/* What the whole program shares while circuits are checked. */
typedef struct sema_glob {
    arena *mem;
    diag_ctx *diag;
    sema_program *prog;
    const sema_circuit **stack; /* circuits being checked, outermost first */
    int depth;
    arena_vec ambiguous;        /* names reported as ambiguous, with notes */
    const ast_item **consts;    /* constants being typed, outermost first */
    int n_consts;
} sema_glob;

typedef struct sema_ctx {
    arena *mem;
    diag_ctx *diag;
    sema_glob *g;
    const sema_module *mod;
    sema_circuit *cur;   /* NULL at module level */
    int *table;          /* open-addressing hash: sym index + 1, 0 empty */
    size_t table_cap;
    unsigned char *state; /* per sym while typing: 0 new, 1 in progress, 2 done */
    src_loc *self_use;    /* per let: where its type was needed while inferring it */
    unsigned char *in_cycle; /* per sym: part of a reported instantaneous cycle */
    arena_vec deferred;   /* deferred_pre: pre() signals typed after the lets */
    const char **cands;   /* names for suggestions, built on first need */
    int n_cands;          /* the circuit's symbol count when they were built */
    unsigned char *suggested; /* per sym: offered as "did you mean" */
    int defining;         /* the symbol whose definition is checked, or -1 */
    int const_depth;      /* nesting of constants typed on demand */
    int soft_deps;        /* edges being collected are soft (see dep_edge) */
} sema_ctx;

typedef enum {
    B_PRE, B_MATH, B_MINMAX, B_CLAMP, B_DOT, B_REDUCE, B_REAL, B_TIME
} builtin_kind;

typedef struct builtin_fn {
    const char *name;
    int min_args, max_args;
    builtin_kind kind;
} builtin_fn;

static const builtin_fn BUILTINS[] = {
    { "pre", 1, 2, B_PRE },      { "exp", 1, 1, B_MATH },     { "log", 1, 1, B_MATH },
    { "tanh", 1, 1, B_MATH },    { "sin", 1, 1, B_MATH },     { "cos", 1, 1, B_MATH },
    { "sqrt", 1, 1, B_MATH },    { "abs", 1, 1, B_MATH },     { "floor", 1, 1, B_MATH },
    { "sigmoid", 1, 1, B_MATH }, { "min", 2, 2, B_MINMAX },   { "max", 2, 2, B_MINMAX },
    { "clamp", 3, 3, B_CLAMP },  { "dot", 2, 2, B_DOT },      { "sum", 1, 1, B_REDUCE },
    { "norm", 1, 1, B_REDUCE },  { "real", 1, 1, B_REAL },    { "alpha", 1, 1, B_TIME },
    { "decay", 1, 1, B_TIME },
};
enum { N_BUILTINS = sizeof BUILTINS / sizeof BUILTINS[0] };

static const builtin_fn *find_builtin(const char *name)
{
    for (int i = 0; i < N_BUILTINS; i++)
        if (strcmp(BUILTINS[i].name, name) == 0)
            return &BUILTINS[i];
    return NULL;
}

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
    if (!x->cur)
        return -1;
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

static const char *kind_name(const sema_sym *s)
{
    switch (s->kind) {
    case SYM_INPUT: return "input";
    case SYM_OUTPUT: return s->reward ? "reward" : "output";
    case SYM_PARAM: return "param";
    case SYM_CONST: return "const";
    case SYM_STATE: return "state";
    case SYM_REFLEX: return "reflex";
    case SYM_PREDICTOR: return "predictor";
    case SYM_INSTANCE: return "instance";
    case SYM_FIELD: return "field";
    default:
        switch (s->let) {
        case LET_HEURISTIC: return "heuristic";
        case LET_ATTENTION: return "attention";
        case LET_GATE: return "gate";
        default: return "let";
        }
    }
}

static const char *article(const char *word)
{
    return strchr("aeiou", word[0]) ? "an" : "a";
}

/* "Did you mean": the closest of the circuit's names (and `dt`), never the
 * signal whose definition is being checked. A let offered this way is not
 * also reported as unused: the misspelling is the one problem. */
static const char *suggest_name(sema_ctx *x, const char *name)
{
    if (diag_errors(x->diag) >= DIAG_MAX_ERRORS)
        return NULL; /* the message will not be shown: spare the search */
    int n = x->cur ? x->cur->n_syms : 0;
    int nc = 0;
    for (int k = -1; k < x->mod->n_imports; k++)
        nc += (k < 0 ? x->mod : x->mod->imports[k])->n_consts;
    unsigned char *old = NULL;
    int n_old = 0;
    if (x->cands && x->n_cands != n) { /* symbols were added since: rebuild */
        old = x->suggested;
        n_old = x->n_cands;
        x->cands = NULL;
    }
    if (!x->cands) {
        x->n_cands = n;
        x->cands = arena_calloc(x->mem, (size_t)(n + nc) + 1, sizeof *x->cands);
        x->suggested = arena_calloc(x->mem, (size_t)n + 1, 1);
        if (old)
            memcpy(x->suggested, old, (size_t)(n_old < n ? n_old : n));
        for (int i = 0; i < n; i++)
            if (!x->cur->syms[i].hidden && x->cur->syms[i].kind != SYM_FIELD)
                x->cands[i] = x->cur->syms[i].name;
        int j = n;
        for (int k = -1; k < x->mod->n_imports; k++) {
            const sema_module *m = k < 0 ? x->mod : x->mod->imports[k];
            for (int i = 0; i < m->n_consts; i++)
                x->cands[j++] = m->consts[i].item->name;
        }
        x->cands[n + nc] = "dt";
    }
    const char *saved = NULL;
    if (x->defining >= 0) {
        saved = x->cands[x->defining];
        x->cands[x->defining] = NULL;
    }
    const char *best = diag_suggest(name, x->cands, (size_t)(n + nc) + 1);
    if (x->defining >= 0)
        x->cands[x->defining] = saved;
    for (int i = 0; best && i < n; i++)
        if (x->cands[i] == best)
            x->suggested[i] = 1;
    return best;
}

/* ---- modules: constants and circuits visible from here ------------------ */

static sema_const *find_const(const sema_module *m, const char *name, int with_imports)
{
    for (int k = -1; k < (with_imports ? m->n_imports : 0); k++) {
        const sema_module *mm = k < 0 ? m : m->imports[k];
        for (int i = 0; i < mm->n_consts; i++)
            if (strcmp(mm->consts[i].item->name, name) == 0)
                return &mm->consts[i];
    }
    return NULL;
}

/* A circuit visible from module m: its own, else one of an imported module.
 * Two imported modules defining one name make it ambiguous (reported). */
static sema_circuit *find_circuit_visible(sema_ctx *x, const char *name, src_loc use)
{
    const sema_module *m = x->mod;
    for (int i = 0; i < m->n_circuits; i++)
        if (strcmp(m->circuits[i].name, name) == 0)
            return &m->circuits[i];
    sema_circuit *found = NULL;
    const sema_module *from = NULL;
    for (int k = 0; k < m->n_imports; k++) {
        const sema_module *mm = m->imports[k];
        for (int i = 0; i < mm->n_circuits; i++)
            if (strcmp(mm->circuits[i].name, name) == 0) {
                if (found && use.file) {
                    diag_report(x->diag, DIAG_ERROR, use,
                                "'%s' is ambiguous: both '%s' and '%s' define it", name,
                                from->name, mm->name);
                    int again = 0;
                    for (size_t r = 0; r < x->g->ambiguous.len && !again; r++)
                        again = ((const char **)x->g->ambiguous.data)[r] == name ||
                                strcmp(((const char **)x->g->ambiguous.data)[r], name) == 0;
                    if (again)
                        return found; /* explained at its first use */
                    *(const char **)arena_vec_push(x->mem, &x->g->ambiguous) = name;
                    diag_report(x->diag, DIAG_NOTE, found->ast->name_loc,
                                "'%s' of '%s' is defined here", name, from->name);
                    diag_report(x->diag, DIAG_NOTE, mm->circuits[i].ast->name_loc,
                                "'%s' of '%s' is defined here", name, mm->name);
                    diag_hint(x->diag, "import only one of the two modules, or define '%s' in "
                                       "this module: a module's own circuits win over imported "
                                       "ones", name);
                    return found;
                }
                found = &mm->circuits[i];
                from = mm;
            }
    }
    return found;
}

/* ---- constants ---------------------------------------------------------- */

static int const_eval(const sema_circuit *c, const sema_module *m, const ast_expr *e, int idx,
                      double tick, double *out, int depth);

static double sigmoid(double v) { return 1.0 / (1.0 + rt_exp(-v)); }

static int const_call(const sema_circuit *c, const sema_module *m, const ast_expr *e, int idx,
                      double tick, double *out, int depth)
{
    const builtin_fn *fn = find_builtin(e->name);
    double a[3];
    if (!fn || fn->kind == B_PRE)
        return 0;
    if (fn->kind == B_DOT || fn->kind == B_REDUCE) {
        /* in the IR's fixed order (lower.c: sum_fixed), element by element */
        const ast_expr *va = e->args.items[0];
        const ast_expr *vb = e->args.len > 1 ? e->args.items[1] : va;
        int n = ty_len(va->type);
        int mul = fn->kind == B_DOT || strcmp(e->name, "norm") == 0;
        double lane[8];
        int have = n < 8 ? n : 8;
        for (int i = 0; i < n; i++) {
            double p, q;
            if (!const_eval(c, m, va, i, tick, &p, depth) ||
                (mul && !const_eval(c, m, vb, i, tick, &q, depth)))
                return 0;
            if (mul)
                p = p * q;
            lane[i % 8] = i < 8 ? p : lane[i % 8] + p;
        }
        for (int w = 4; w >= 1; w /= 2)
            for (int k = 0; k < w; k++)
                if (k + w < have)
                    lane[k] = lane[k] + lane[k + w];
        *out = strcmp(e->name, "norm") == 0 ? sqrt(lane[0]) : lane[0];
        return 1;
    }
    for (int i = 0; i < e->args.len && i < 3; i++) {
        const ast_expr *arg = e->args.items[i];
        if (!const_eval(c, m, arg, ty_is_vec(arg->type) ? idx : 0, tick, &a[i], depth))
            return 0;
    }
    const char *n = e->name;
    if (!strcmp(n, "exp")) *out = rt_exp(a[0]);
    else if (!strcmp(n, "log")) *out = log(a[0]);
    else if (!strcmp(n, "tanh")) *out = rt_tanh(a[0]);
    else if (!strcmp(n, "sin")) *out = sin(a[0]);
    else if (!strcmp(n, "cos")) *out = cos(a[0]);
    else if (!strcmp(n, "sqrt")) *out = sqrt(a[0]);
    else if (!strcmp(n, "abs")) *out = fabs(a[0]);
    else if (!strcmp(n, "floor")) *out = floor(a[0]);
    else if (!strcmp(n, "sigmoid")) *out = sigmoid(a[0]);
    else if (!strcmp(n, "real")) *out = a[0] != 0;
    else if (!strcmp(n, "alpha")) *out = -rt_expm1(-tick / a[0]);
    else if (!strcmp(n, "decay")) *out = rt_exp(-tick / a[0]);
    else if (!strcmp(n, "min")) *out = (a[0] != a[0] || a[1] != a[1]) ? a[0] + a[1] : (a[1] < a[0] ? a[1] : a[0]);
    else if (!strcmp(n, "max")) *out = (a[0] != a[0] || a[1] != a[1]) ? a[0] + a[1] : (a[1] > a[0] ? a[1] : a[0]);
    else if (!strcmp(n, "clamp")) {
        double lo = a[1], hi = a[2], v = a[0];
        double t = (v != v || lo != lo) ? v + lo : (lo > v ? lo : v);
        *out = (t != t || hi != hi) ? t + hi : (hi < t ? hi : t);
    } else
        return 0;
    return 1;
}

static int const_eval(const sema_circuit *c, const sema_module *m, const ast_expr *e, int idx,
                      double tick, double *out, int depth)
{
    double a, b, cv;
    if (depth > SEMA_MAX_CONST_DEPTH + AST_MAX_DEPTH)
        return 0;
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
        if (tick <= 0)
            return 0;
        *out = e->num * tick;
        return 1;
    case EX_NAME:
        if (e->ref) {
            const sema_const *k = e->ref;
            return k->state == 2 &&
                   const_eval(NULL, k->mod, k->item->expr, ty_is_vec(k->type) ? idx : 0, tick,
                              out, depth + 1);
        }
        if (e->sym >= 0 && c && e->sym < c->n_syms && c->syms[e->sym].kind == SYM_CONST) {
            const sema_sym *s = &c->syms[e->sym];
            return s->def && const_eval(c, m, s->def, ty_is_vec(s->type) ? idx : 0, tick, out,
                                        depth + 1);
        }
        if (e->sym == -1 && e->name && strcmp(e->name, "dt") == 0 && tick > 0) {
            *out = tick;
            return 1;
        }
        return 0;
    case EX_UNARY:
        if (!const_eval(c, m, e->lhs, idx, tick, &a, depth + 1))
            return 0;
        *out = e->op == OP_NEG ? -a : (double)(a == 0);
        return 1;
    case EX_BINARY:
        if (!const_eval(c, m, e->lhs, ty_is_vec(e->lhs->type) ? idx : 0, tick, &a, depth + 1) ||
            !const_eval(c, m, e->rhs, ty_is_vec(e->rhs->type) ? idx : 0, tick, &b, depth + 1))
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
        if (!const_eval(c, m, e->cond, 0, tick, &cv, depth + 1) ||
            !const_eval(c, m, e->lhs, idx, tick, &a, depth + 1) ||
            !const_eval(c, m, e->rhs, idx, tick, &b, depth + 1))
            return 0;
        *out = cv != 0 ? a : b;
        return 1;
    case EX_VEC:
        if (idx < 0 || idx >= e->args.len)
            return 0;
        return const_eval(c, m, e->args.items[idx], 0, tick, out, depth + 1);
    case EX_INDEX: {
        double i;
        if (!const_eval(c, m, e->rhs, 0, tick, &i, depth + 1))
            return 0;
        return const_eval(c, m, e->lhs, (int)i, tick, out, depth + 1);
    }
    case EX_CALL:
        return const_call(c, m, e, idx, tick, out, depth + 1);
    default:
        return 0;
    }
}

int sema_const_eval(const sema_circuit *c, const sema_module *m, const ast_expr *e, int idx,
                    double tick, double *out)
{
    return const_eval(c, m, e, idx, tick, out, 0);
}

static int const_here(sema_ctx *x, const ast_expr *e, int idx, double *out)
{
    return const_eval(x->cur, x->mod, e, idx, x->mod->tick_seconds, out, 0);
}

/* ---- dependency graphs ---------------------------------------------------
 * Three graphs over a circuit's symbols: which lets must be typed before
 * which (typing order); which signals a definition reads within the same
 * tick (evaluation order and instantaneous cycles); and everything a signal
 * depends on at all, through state too (the innate/learned rule). They are
 * walked iteratively, so long chains cannot exhaust the stack. */

typedef struct dep_edge {
    int to;
    src_loc at;
    /* Typing only: x of pre(x, init). Typing x first lets a vector x take a
     * real initial value, but the edge must not close a loop (the initial
     * value is what types `let n = pre(n, 0) + 1`): soft edges inside a
     * cycle are dropped (drop_cyclic_soft_edges). */
    unsigned char soft;
} dep_edge;

typedef struct dep_node {
    dep_edge *edges;
    int n, cap;
} dep_node;

typedef enum {
    DEPS_TYPE,    /* untyped lets named anywhere but in pre(x, init)'s x */
    DEPS_INSTANT, /* computed signals read within the tick (not in pre's x) */
    DEPS_ALL      /* every signal read, also through pre() and state */
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
    node->edges[node->n++] = (dep_edge){ to, at, (unsigned char)x->soft_deps };
}

static int is_computed(sema_sym_kind k)
{
    return k == SYM_LET || k == SYM_OUTPUT || k == SYM_REFLEX || k == SYM_PREDICTOR ||
           k == SYM_INSTANCE || k == SYM_FIELD;
}

static void collect_deps(sema_ctx *x, dep_node *node, const ast_expr *e, deps_mode mode)
{
    if (!e)
        return;
    switch (e->kind) {
    case EX_NAME:
    case EX_FIELD: {
        int i = e->sym;
        if (mode == DEPS_TYPE && e->kind == EX_NAME)
            i = lookup(x, e->name);
        if (i < 0)
            break;
        const sema_sym *s = &x->cur->syms[i];
        int want;
        if (mode == DEPS_TYPE)
            want = s->kind == SYM_LET && s->type == TY_ERROR;
        else if (mode == DEPS_INSTANT)
            want = is_computed(s->kind);
        else
            want = s->kind != SYM_CONST;
        if (want)
            add_edge(x, node, i, e->loc);
        break;
    }
    case EX_UNARY:
    case EX_NAMED:
        collect_deps(x, node, e->lhs, mode);
        break;
    case EX_BINARY:
    case EX_INDEX:
        collect_deps(x, node, e->lhs, mode);
        collect_deps(x, node, e->rhs, mode);
        break;
    case EX_IF:
        collect_deps(x, node, e->cond, mode);
        collect_deps(x, node, e->lhs, mode);
        collect_deps(x, node, e->rhs, mode);
        break;
    case EX_CALL: {
        if (e->ref) { /* an instance: its own node stands for its arguments */
            if (mode != DEPS_TYPE && e->sym >= 0)
                add_edge(x, node, e->sym, e->loc);
            /* ...but typing the expression also types the arguments of an
             * inline call, so the lets they name must be typed first */
            if (mode == DEPS_TYPE)
                for (int i = 0; i < e->args.len; i++)
                    collect_deps(x, node, e->args.items[i], mode);
            break;
        }
        /* pre's first argument is last tick's value: no instantaneous edge;
         * with an initial value, that value gives its type. */
        int is_pre = strcmp(e->name, "pre") == 0;
        int skip = is_pre && (mode == DEPS_INSTANT || (mode == DEPS_TYPE && e->args.len > 1));
        if (is_pre && mode == DEPS_TYPE && e->args.len > 1) {
            int saved = x->soft_deps;
            x->soft_deps = 1;
            collect_deps(x, node, e->args.items[0], mode);
            x->soft_deps = saved;
        }
        for (int i = skip ? 1 : 0; i < e->args.len; i++)
            collect_deps(x, node, e->args.items[i], mode);
        break;
    }
    case EX_VEC:
        for (int i = 0; i < e->args.len; i++)
            collect_deps(x, node, e->args.items[i], mode);
        break;
    default:
        break;
    }
}

/* A circuit's interface, as instances bind it: its inputs, then its params. */
static int iface_sym(const sema_circuit *c, int k)
{
    return k < c->n_inputs ? c->inputs[k] : c->params[k - c->n_inputs];
}

/* The argument bound to callee symbol k by call e, or NULL. */
static ast_expr *bound_arg(const sema_circuit *callee, const ast_expr *call, int k)
{
    int pos = 0;
    for (int i = 0; i < call->args.len; i++) {
        ast_expr *a = call->args.items[i];
        if (a->kind == EX_NAMED) {
            if (a->sym == k)
                return a->lhs;
        } else {
            if (pos < callee->n_inputs && callee->inputs[pos] == k)
                return a;
            pos++;
        }
    }
    return NULL;
}

/* The edges of symbol i in a graph. */
static void sym_deps(sema_ctx *x, dep_node *node, int i, deps_mode mode)
{
    sema_sym *s = &x->cur->syms[i];
    switch (s->kind) {
    case SYM_LET:
        collect_deps(x, node, s->def, mode);
        if (s->let == LET_GATE && mode != DEPS_TYPE && s->item) {
            collect_deps(x, node, s->item->cond, mode);
            collect_deps(x, node, s->item->other, mode);
        }
        break;
    case SYM_OUTPUT:
        if (s->reward == 2) { /* the total: every stream */
            for (int k = 0; k < x->cur->n_syms; k++)
                if (x->cur->syms[k].kind == SYM_OUTPUT && x->cur->syms[k].reward == 1)
                    add_edge(x, node, k, x->cur->syms[k].decl_loc);
        } else {
            collect_deps(x, node, s->def, mode);
        }
        break;
    case SYM_REFLEX: /* its strength belongs to r.strength */
        collect_deps(x, node, s->def, mode);
        break;
    case SYM_PREDICTOR:
        collect_deps(x, node, s->pred->context, mode);
        if (mode == DEPS_ALL) {
            collect_deps(x, node, s->pred->supervisor, mode);
            collect_deps(x, node, s->pred->rate, mode);
            collect_deps(x, node, s->pred->defer, mode);
        }
        break;
    case SYM_INSTANCE:
        if (s->def)
            for (int k = 0; k < s->def->args.len; k++)
                collect_deps(x, node, s->def->args.items[k], mode);
        break;
    case SYM_FIELD: {
        const sema_sym *o = &x->cur->syms[s->owner];
        if (o->kind == SYM_INSTANCE && mode == DEPS_ALL && o->callee && o->callee->out_inputs) {
            const sema_circuit *cal = o->callee;
            for (int k = 0; k < cal->n_inputs + cal->n_params; k++)
                if (cal->out_inputs[s->field][k])
                    collect_deps(x, node, bound_arg(cal, o->def, iface_sym(cal, k)), mode);
            break;
        }
        add_edge(x, node, s->owner, s->decl_loc);
        if (o->kind == SYM_PREDICTOR) {
            collect_deps(x, node, o->pred->supervisor, mode);
            collect_deps(x, node, o->pred->defer, mode);
        } else if (o->kind == SYM_REFLEX && s->field == FIELD_STRENGTH && o->item) {
            collect_deps(x, node, o->item->attrs.strength, mode);
        }
        break;
    }
    case SYM_STATE:
        if (mode == DEPS_ALL)
            collect_deps(x, node, s->next, mode);
        break;
    default:
        break;
    }
}

static void report_cycle(sema_ctx *x, dep_node *nodes, const int *path, int len);

/* Post-order of the nodes with want[v] set (dependencies first) into order;
 * returns its length. With cycles set, a back edge is an instantaneous
 * cycle: reported as one simple loop, once per group of signals. */
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
                if (want[v])
                    order[n_order++] = v;
                sp--;
            }
        }
    }
    return n_order;
}

static dep_node *build_graph(sema_ctx *x, deps_mode mode, unsigned char *want)
{
    sema_circuit *c = x->cur;
    int n = c->n_syms;
    dep_node *nodes = arena_calloc(x->mem, (size_t)n + 1, sizeof *nodes);
    for (int i = 0; i < n; i++) {
        const sema_sym *s = &c->syms[i];
        int w;
        if (mode == DEPS_TYPE)
            w = s->kind == SYM_LET && s->type == TY_ERROR && s->def;
        else if (mode == DEPS_INSTANT)
            w = is_computed(s->kind) && (s->def || s->kind != SYM_LET);
        else
            w = 1;
        if (want)
            want[i] = (unsigned char)w;
        if (w)
            sym_deps(x, &nodes[i], i, mode);
    }
    return nodes;
}

/* ---- typing ------------------------------------------------------------- */

static ast_type check_expr(sema_ctx *x, ast_expr *e);
static ast_type type_of_sym(sema_ctx *x, int i, src_loc use);
static void check_instance_call(sema_ctx *x, ast_expr *e, const sema_circuit *callee);

static int is_num(ast_type t) { return t == TY_REAL || t == TY_DUR; }
static int is_realish(ast_type t) { return t == TY_REAL || ty_is_vec(t); }

static void mismatch_hint(sema_ctx *x, ast_type got, ast_type want)
{
    if (got == TY_BOOL && want == TY_REAL)
        diag_hint(x->diag, "turn a bool into a number with real(b)");
    else if (got == TY_REAL && want == TY_BOOL)
        diag_hint(x->diag, "compare it to get a bool, e.g. 'x > 0'");
    else if (got == TY_DUR && want == TY_REAL)
        diag_hint(x->diag, "divide a duration by another to get a number, e.g. 'd / 1 s'");
    else if (got == TY_REAL && want == TY_DUR)
        diag_hint(x->diag, "give the number a time unit, e.g. '200 ms'");
    else if (ty_is_vec(got) && ty_is_vec(want))
        diag_hint(x->diag, "vectors combine elementwise only when their lengths agree");
    else if (ty_is_vec(got) && want == TY_REAL)
        diag_hint(x->diag, "reduce a vector to a number with sum(v), dot(v, w) or v[i]");
}

/* The vector type of an elementwise combination of l and r (with reals
 * broadcast), or TY_ERROR. */
ast_type sema_elementwise(ast_type l, ast_type r)
{
    if (l == TY_REAL && r == TY_REAL)
        return TY_REAL;
    if (ty_is_vec(l) && (r == TY_REAL || r == l))
        return l;
    if (ty_is_vec(r) && l == TY_REAL)
        return r;
    return TY_ERROR;
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
        if (l == TY_DUR && r == TY_DUR)
            return TY_DUR;
        if (sema_elementwise(l, r) != TY_ERROR)
            return sema_elementwise(l, r);
        break;
    case OP_MUL:
        if ((l == TY_DUR && r == TY_REAL) || (l == TY_REAL && r == TY_DUR))
            return TY_DUR;
        if (sema_elementwise(l, r) != TY_ERROR)
            return sema_elementwise(l, r);
        break;
    case OP_DIV:
        if (l == TY_DUR && r == TY_REAL)
            return TY_DUR;
        if (l == TY_DUR && r == TY_DUR)
            return TY_REAL;
        if (sema_elementwise(l, r) != TY_ERROR)
            return sema_elementwise(l, r);
        break;
    case OP_LT: case OP_LE: case OP_GT: case OP_GE:
        if (l == r && is_num(l))
            return TY_BOOL;
        break;
    case OP_EQ: case OP_NE:
        if (l == r && !ty_is_vec(l))
            return TY_BOOL;
        break;
    case OP_RANGE:
        diag_report(x->diag, DIAG_ERROR, e->loc,
                    "a time window 'a .. b' is only meaningful in a scenario");
        return TY_ERROR;
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
    if ((ty_is_vec(l) || ty_is_vec(r)) && e->op >= OP_LT && e->op <= OP_NE) {
        diag_report(x->diag, DIAG_ERROR, e->loc, "'%s' cannot compare vectors (%s and %s)", op,
                    ast_type_name(l), ast_type_name(r));
        diag_hint(x->diag, "compare elements one by one, e.g. 'v[0] > 0.5', or reduce the "
                           "vector first, e.g. 'norm(v) > 1'");
        return TY_ERROR;
    }
    diag_report(x->diag, DIAG_ERROR, e->loc, "'%s' cannot combine %s and %s", op,
                ast_type_name(l), ast_type_name(r));
    if (l == TY_BOOL || r == TY_BOOL)
        mismatch_hint(x, TY_BOOL, l == TY_BOOL ? r : l);
    else if (ty_is_vec(l) && ty_is_vec(r))
        mismatch_hint(x, l, r);
    else if (l != r)
        mismatch_hint(x, l == TY_DUR ? TY_DUR : TY_REAL, l == TY_DUR ? TY_REAL : TY_DUR);
    return TY_ERROR;
}

/* Whether e names a let whose type is still being inferred. */
static int mentions_untyped(sema_ctx *x, const ast_expr *e)
{
    if (!e)
        return 0;
    switch (e->kind) {
    case EX_NAME: {
        int i = lookup(x, e->name);
        return i >= 0 && x->cur->syms[i].kind == SYM_LET && x->cur->syms[i].type == TY_ERROR &&
               x->state[i] != 2;
    }
    case EX_UNARY: case EX_NAMED:
        return mentions_untyped(x, e->lhs);
    case EX_BINARY: case EX_INDEX:
        return mentions_untyped(x, e->lhs) || mentions_untyped(x, e->rhs);
    case EX_IF:
        return mentions_untyped(x, e->cond) || mentions_untyped(x, e->lhs) ||
               mentions_untyped(x, e->rhs);
    case EX_CALL: case EX_VEC:
        for (int i = 0; i < e->args.len; i++)
            if (mentions_untyped(x, e->args.items[i]))
                return 1;
        return 0;
    default:
        return 0;
    }
}

static ast_type check_pre(sema_ctx *x, ast_expr *e)
{
    ast_expr *arg = e->args.items[0];
    ast_expr *init = e->args.len > 1 ? e->args.items[1] : NULL;
    int known = x->cur && !mentions_untyped(x, arg); /* the signal's type is settled */
    if (init && known) {
        ast_type ta = check_expr(x, arg), ti = check_expr(x, init);
        if (ta != TY_ERROR && ti != TY_ERROR && ta != ti && !(ty_is_vec(ta) && ti == TY_REAL)) {
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

static ast_type check_builtin(sema_ctx *x, ast_expr *e, const builtin_fn *fn)
{
    if (e->args.len < fn->min_args || e->args.len > fn->max_args) {
        if (fn->min_args == fn->max_args)
            diag_report(x->diag, DIAG_ERROR, e->loc, "'%s' takes %d argument%s, not %d",
                        fn->name, fn->min_args, fn->min_args == 1 ? "" : "s", e->args.len);
        else
            diag_report(x->diag, DIAG_ERROR, e->loc, "'%s' takes %d to %d arguments, not %d",
                        fn->name, fn->min_args, fn->max_args, e->args.len);
        for (int i = 0; i < e->args.len; i++)
            if (e->args.items[i]->kind != EX_NAMED)
                check_expr(x, e->args.items[i]);
        return TY_ERROR;
    }
    for (int i = 0; i < e->args.len; i++)
        if (e->args.items[i]->kind == EX_NAMED) {
            diag_report(x->diag, DIAG_ERROR, e->args.items[i]->loc,
                        "'%s' is a built-in function: its arguments have no names", fn->name);
            return TY_ERROR;
        }
    if (fn->kind == B_PRE)
        return check_pre(x, e);
    ast_type t[3] = { TY_ERROR, TY_ERROR, TY_ERROR };
    int bad = 0;
    for (int i = 0; i < e->args.len; i++)
        if ((t[i] = check_expr(x, e->args.items[i])) == TY_ERROR)
            bad = 1;
    if (bad)
        return TY_ERROR;
    const char *want = NULL;
    ast_type result = TY_ERROR;
    switch (fn->kind) {
    case B_MATH:
        if (is_realish(t[0]))
            return t[0];
        want = "a real or a vector";
        break;
    case B_MINMAX:
        result = sema_elementwise(t[0], t[1]);
        if (result != TY_ERROR)
            return result;
        want = "reals or vectors of one length";
        break;
    case B_CLAMP:
        result = sema_elementwise(sema_elementwise(t[0], t[1]), t[2]);
        if (result != TY_ERROR && sema_elementwise(t[0], t[1]) != TY_ERROR)
            return result;
        want = "reals or vectors of one length";
        break;
    case B_DOT:
        if (ty_is_vec(t[0]) && t[0] == t[1])
            return TY_REAL;
        want = "two vectors of one length";
        break;
    case B_REDUCE:
        if (ty_is_vec(t[0]))
            return TY_REAL;
        want = "a vector";
        break;
    case B_REAL:
        if (t[0] == TY_BOOL)
            return TY_REAL;
        want = "a bool";
        break;
    case B_TIME:
        if (t[0] == TY_DUR)
            return TY_REAL;
        want = "a duration (a time constant)";
        break;
    default:
        break;
    }
    char got[96] = "";
    for (int i = 0; i < e->args.len; i++) {
        size_t n = strlen(got);
        snprintf(got + n, sizeof got - n, "%s%s", i ? ", " : "", ast_type_name(t[i]));
    }
    diag_report(x->diag, DIAG_ERROR, e->loc, "'%s' needs %s, not %s", fn->name, want, got);
    ast_type odd = TY_ERROR; /* the first argument that is neither real nor a vector */
    for (int i = 0; i < e->args.len && odd == TY_ERROR; i++)
        if (!is_realish(t[i]))
            odd = t[i];
    if (fn->kind == B_TIME)
        diag_hint(x->diag, "write the time constant with a unit, e.g. '%s(200 ms)'", fn->name);
    else if (fn->kind == B_REAL && t[0] == TY_REAL)
        diag_hint(x->diag, "this is already a real; real() turns a bool into 1 or 0");
    else if (fn->kind == B_REAL)
        mismatch_hint(x, t[0], TY_BOOL);
    else if (odd != TY_ERROR)
        mismatch_hint(x, odd, TY_REAL);
    else if (fn->kind == B_REDUCE && strcmp(fn->name, "norm") == 0)
        diag_hint(x->diag, "the norm of a real is its absolute value, 'abs(x)'");
    else if (fn->kind == B_REDUCE)
        diag_hint(x->diag, "sum() adds the elements of a vector; a real needs no sum");
    else if (fn->kind == B_DOT && !ty_is_vec(t[0]) && !ty_is_vec(t[1]))
        diag_hint(x->diag, "for two reals, multiply them: 'a * b'");
    else if (fn->kind == B_DOT && ty_is_vec(t[0]) != ty_is_vec(t[1]))
        diag_hint(x->diag, "to scale a vector by a number, multiply them: 'v * k'");
    else
        for (int i = 0; i < e->args.len; i++)
            for (int j = i + 1; j < e->args.len; j++)
                if (ty_is_vec(t[i]) && ty_is_vec(t[j]) && t[i] != t[j]) {
                    diag_hint(x->diag, "vectors combine elementwise only when their lengths "
                                       "agree");
                    return TY_ERROR;
                }
    return TY_ERROR;
}

/* Whether a circuit of this name is visible (the tick is checked before the
 * module's circuits are set up, so its own are found in its syntax tree). */
static int names_circuit(sema_ctx *x, const char *name)
{
    for (int i = 0; x->mod->ast && i < x->mod->ast->n_circuits; i++)
        if (strcmp(x->mod->ast->circuits[i]->name, name) == 0)
            return 1;
    return find_circuit_visible(x, name, (src_loc){ 0 }) != NULL;
}

/* Whether one of this module's imports names no loaded module (the loader
 * has reported it). */
static int missing_import(sema_ctx *x)
{
    const sema_program *p = x->g->prog;
    if (!p || diag_errors(x->diag) == 0)
        return 0;
    for (int k = 0; k < x->mod->ast->n_imports; k++) {
        int found = 0;
        for (int j = 0; j < p->n_mods && !found; j++)
            found = p->mods[j].name && strcmp(p->mods[j].name, x->mod->ast->imports[k].name) == 0;
        if (!found)
            return 1;
    }
    return 0;
}

static void unknown_function(sema_ctx *x, ast_expr *e)
{
    src_loc nl = e->loc;
    nl.end_line = nl.line;
    nl.end_col = nl.col + (int)strlen(e->name);
    int i = lookup(x, e->name);
    if (i >= 0) {
        diag_report(x->diag, DIAG_ERROR, nl, "'%s' is %s %s, not a function or circuit",
                    e->name, article(kind_name(&x->cur->syms[i])), kind_name(&x->cur->syms[i]));
    } else if (!x->cur && names_circuit(x, e->name)) {
        diag_report(x->diag, DIAG_ERROR, nl,
                    "'%s' is a circuit, which can only be instantiated inside a circuit",
                    e->name);
        diag_hint(x->diag, "constants and the tick are computed at compile time, from literals, "
                           "other constants and built-in functions");
    } else if (x->cur && missing_import(x)) {
        /* An import was not found (reported where the modules are loaded):
         * the circuit is probably defined there. */
    } else {
        diag_report(x->diag, DIAG_ERROR, nl, "unknown function or circuit '%s'", e->name);
        const sema_module *m = x->mod;
        int n = N_BUILTINS + m->n_circuits;
        for (int k = 0; k < m->n_imports; k++)
            n += m->imports[k]->n_circuits;
        const char **names = arena_calloc(x->mem, (size_t)n + 1, sizeof *names);
        int j = 0;
        for (int k = 0; k < N_BUILTINS; k++)
            names[j++] = BUILTINS[k].name;
        for (int k = -1; k < m->n_imports; k++) {
            const sema_module *mm = k < 0 ? m : m->imports[k];
            for (int c = 0; c < mm->n_circuits; c++)
                names[j++] = mm->circuits[c].name;
        }
        const char *s = diag_suggest(e->name, names, (size_t)j);
        if (s)
            diag_hint(x->diag, "did you mean '%s'?", s);
        else if (m->ast->n_imports == 0)
            diag_hint(x->diag, "circuits of other modules need an import, e.g. 'import std.core'");
    }
    for (int k = 0; k < e->args.len; k++)
        check_expr(x, e->args.items[k]->kind == EX_NAMED ? e->args.items[k]->lhs
                                                         : e->args.items[k]);
}

/* The signals of pre(x, init) calls, against their initial values. */
static void check_deferred(sema_ctx *x)
{
    for (size_t i = 0; i < x->deferred.len; i++) { /* may grow while we go */
        deferred_pre d = ((deferred_pre *)x->deferred.data)[i];
        ast_type ta = check_expr(x, d.arg);
        if (ta != TY_ERROR && ty_is_vec(ta) && d.type == TY_REAL) {
            /* pre(v, 0) stood for a real while v was typed */
            diag_report(x->diag, DIAG_ERROR, d.init->loc,
                        "the type of this pre() was taken from its initial value (real), but "
                        "its signal is %s", ast_type_name(ta));
            if (d.arg->kind == EX_NAME)
                diag_hint(x->diag, "write the signal's type: 'let %s : %s = ...'", d.arg->name,
                          ast_type_name(ta));
            else
                diag_hint(x->diag, "write the type of the let it depends on");
        } else if (ta != TY_ERROR && ta != d.type) {
            diag_report(x->diag, DIAG_ERROR, d.init->loc,
                        "the initial value of pre() is %s but its signal is %s",
                        ast_type_name(d.type), ast_type_name(ta));
            mismatch_hint(x, d.type, ta);
        }
    }
}

static const char *output_list(sema_ctx *x, const sema_circuit *c)
{
    size_t len = 1;
    for (int i = 0; i < c->n_outputs; i++)
        len += strlen(c->syms[c->outputs[i]].name) + 2;
    char *s = arena_alloc(x->mem, len), *p = s;
    *p = 0;
    for (int i = 0; i < c->n_outputs; i++)
        p += sprintf(p, "%s%s", i ? ", " : "", c->syms[c->outputs[i]].name);
    return s;
}

/* The value of an instance used as a signal: its only output. */
static ast_type instance_value(sema_ctx *x, const sema_circuit *callee, src_loc use,
                               const char *inst_name)
{
    if (!callee || callee->failed)
        return TY_ERROR;
    if (callee->n_outputs == 1)
        return callee->syms[callee->outputs[0]].type;
    if (callee->n_outputs == 0) {
        diag_report(x->diag, DIAG_ERROR, use, "circuit '%s' has no output to read", callee->name);
        return TY_ERROR;
    }
    if (inst_name) {
        diag_report(x->diag, DIAG_ERROR, use,
                    "'%s' cannot be used as a value: circuit '%s' has %d outputs (%s)", inst_name,
                    callee->name, callee->n_outputs, output_list(x, callee));
        diag_hint(x->diag, "read one of them, e.g. '%s.%s'", inst_name,
                  callee->syms[callee->outputs[0]].name);
    } else {
        diag_report(x->diag, DIAG_ERROR, use,
                    "a call of '%s' cannot be used as a value: it has %d outputs (%s)",
                    callee->name, callee->n_outputs, output_list(x, callee));
        diag_hint(x->diag, "name the instance, 'let c = %s(...)', and read one output, e.g. "
                           "'c.%s'", callee->name, callee->syms[callee->outputs[0]].name);
    }
    return TY_ERROR;
}

static ast_type type_const(sema_ctx *x, sema_const *k, src_loc use);

static ast_type check_name(sema_ctx *x, ast_expr *e)
{
    int i = lookup(x, e->name);
    if (i >= 0 && !x->cur->syms[i].hidden) {
        e->sym = i;
        sema_sym *s = &x->cur->syms[i];
        s->used = 1;
        if (s->kind == SYM_INSTANCE)
            return instance_value(x, s->callee, e->loc, s->name);
        return type_of_sym(x, i, e->loc);
    }
    if (strcmp(e->name, "dt") == 0)
        return TY_DUR; /* the tick */
    sema_const *k = find_const(x->mod, e->name, 1);
    if (k && k->mod != x->mod) { /* from an import: another import may define it too */
        for (int i = 0; i < x->mod->n_imports; i++) {
            const sema_module *mm = x->mod->imports[i];
            sema_const *other = mm == k->mod ? NULL : find_const(mm, e->name, 0);
            if (other) {
                diag_report(x->diag, DIAG_ERROR, e->loc,
                            "'%s' is ambiguous: both '%s' and '%s' define it", e->name,
                            k->mod->name, mm->name);
                diag_report(x->diag, DIAG_NOTE, k->item->name_loc, "defined here");
                diag_report(x->diag, DIAG_NOTE, other->item->name_loc, "and here");
                return TY_ERROR;
            }
        }
    }
    if (k) {
        e->ref = k;
        return type_const(x, k, e->loc);
    }
    if (find_circuit_visible(x, e->name, (src_loc){ 0 })) {
        diag_report(x->diag, DIAG_ERROR, e->loc, "'%s' is a circuit, not a signal", e->name);
        diag_hint(x->diag, "instantiate it with arguments: '%s(...)'", e->name);
        return TY_ERROR;
    }
    diag_report(x->diag, DIAG_ERROR, e->loc, "undefined name '%s'", e->name);
    const char *s = suggest_name(x, e->name);
    if (s)
        diag_hint(x->diag, "did you mean '%s'?", s);
    return TY_ERROR;
}

static ast_type check_field(sema_ctx *x, ast_expr *e)
{
    int owner = lookup(x, e->name);
    if (owner < 0) {
        if (find_const(x->mod, e->name, 1) || strcmp(e->name, "dt") == 0)
            diag_report(x->diag, DIAG_ERROR, e->loc, "'%s' has no fields", e->name);
        else
            diag_report(x->diag, DIAG_ERROR, e->loc, "undefined name '%s'", e->name);
        return TY_ERROR;
    }
    char *full = arena_printf(x->mem, "%s.%s", e->name, e->field);
    int i = lookup(x, full);
    sema_sym *o = &x->cur->syms[owner];
    o->used = 1;
    if (i < 0) {
        /* Name the fields there are. */
        const char *names[64];
        size_t n = 0, len = 1;
        for (int k = 0; k < x->cur->n_syms && n < 64; k++)
            if (x->cur->syms[k].kind == SYM_FIELD && x->cur->syms[k].owner == owner) {
                const char *dot = strrchr(x->cur->syms[k].name, '.');
                names[n++] = dot + 1;
                len += strlen(dot + 1) + 2;
            }
        if (n == 0) {
            diag_report(x->diag, DIAG_ERROR, e->loc, "%s '%s' has no fields", kind_name(o),
                        o->name);
            return TY_ERROR;
        }
        diag_report(x->diag, DIAG_ERROR, e->loc, "%s '%s' has no field '%s'", kind_name(o),
                    o->name, e->field);
        char *list = arena_alloc(x->mem, len), *p = list;
        for (size_t k = 0; k < n; k++)
            p += sprintf(p, "%s%s", k ? ", " : "", names[k]);
        const char *s = diag_suggest(e->field, names, n);
        if (s)
            diag_hint(x->diag, "did you mean '%s.%s'? Its fields: %s", e->name, s, list);
        else
            diag_hint(x->diag, "its fields: %s", list);
        return TY_ERROR;
    }
    e->sym = i;
    x->cur->syms[i].used = 1;
    return x->cur->syms[i].type;
}

static ast_type check_index(sema_ctx *x, ast_expr *e)
{
    ast_type v = check_expr(x, e->lhs), t = check_expr(x, e->rhs);
    if (v == TY_ERROR || t == TY_ERROR)
        return TY_ERROR;
    if (!ty_is_vec(v)) {
        diag_report(x->diag, DIAG_ERROR, e->lhs->loc, "only vectors can be indexed, not %s",
                    ast_type_name(v));
        return TY_ERROR;
    }
    double i;
    if (t != TY_REAL || !const_here(x, e->rhs, 0, &i)) {
        diag_report(x->diag, DIAG_ERROR, e->rhs->loc, "a vector index must be a constant number");
        diag_hint(x->diag, "indices are checked at compile time; to select at run time, "
                           "use dot() with a one-hot vector");
        return TY_ERROR;
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%.17g", i);
    if (i != floor(i)) {
        diag_report(x->diag, DIAG_ERROR, e->rhs->loc,
                    "a vector index must be a whole number, not %s", buf);
        return TY_ERROR;
    }
    if (i < 0 || i >= ty_len(v)) {
        diag_report(x->diag, DIAG_ERROR, e->rhs->loc,
                    "index %s is out of bounds for %s (indices run from 0 to %d)", buf,
                    ast_type_name(v), ty_len(v) - 1);
        return TY_ERROR;
    }
    return TY_REAL;
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
    case EX_NAME:
        t = check_name(x, e);
        break;
    case EX_FIELD:
        t = check_field(x, e);
        break;
    case EX_UNARY: {
        ast_type a = check_expr(x, e->lhs);
        if (a == TY_ERROR)
            break;
        if (e->op == OP_NEG && (is_num(a) || ty_is_vec(a)))
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
    case EX_CALL: {
        const builtin_fn *fn = find_builtin(e->name);
        if (e->field) {
            diag_report(x->diag, DIAG_ERROR, e->loc,
                        "'%s.%s(...)' measures a scenario's variant; it is only meaningful in "
                        "an 'expect'", e->field, e->name);
        } else if (fn && lookup(x, e->name) < 0) {
            t = check_builtin(x, e, fn);
        } else if (e->ref) {
            check_instance_call(x, e, e->ref);
            t = instance_value(x, e->ref, e->loc, NULL);
        } else if (e->sym == -3) {
            t = TY_ERROR; /* a recursive instance, already reported */
        } else {
            unknown_function(x, e);
        }
        break;
    }
    case EX_VEC: {
        int bad = 0;
        for (int i = 0; i < e->args.len; i++) {
            ast_expr *a = e->args.items[i];
            if (a->kind == EX_NAMED) {
                diag_report(x->diag, DIAG_ERROR, a->loc, "a vector literal has no named elements");
                bad = 1;
                continue;
            }
            ast_type ta = check_expr(x, a);
            if (ta != TY_ERROR && ta != TY_REAL) {
                diag_report(x->diag, DIAG_ERROR, a->loc,
                            "vector elements must be real, not %s", ast_type_name(ta));
                mismatch_hint(x, ta, TY_REAL);
            }
            if (ta != TY_REAL)
                bad = 1;
        }
        if (e->args.len > AST_MAX_VEC) {
            diag_report(x->diag, DIAG_ERROR, e->loc, "a vector has at most %d elements",
                        AST_MAX_VEC);
            bad = 1;
        }
        t = bad ? TY_ERROR : TY_VEC(e->args.len);
        break;
    }
    case EX_INDEX:
        t = check_index(x, e);
        break;
    case EX_NAMED:
        diag_report(x->diag, DIAG_ERROR, e->loc,
                    "named arguments ('%s = ...') are only for circuit instances", e->name);
        check_expr(x, e->lhs);
        break;
    }
    e->type = t;
    return t;
}

/* Constants being typed: entered before typing one, left after. */
static void const_enter(sema_ctx *x, const ast_item *it)
{
    sema_glob *g = x->g;
    if (!g->consts)
        g->consts = arena_calloc(x->mem, AST_MAX_DEPTH + 8, sizeof *g->consts);
    if (g->n_consts < AST_MAX_DEPTH + 8)
        g->consts[g->n_consts] = it;
    g->n_consts++;
}

static void const_leave(sema_ctx *x) { x->g->n_consts--; }

/* A constant used while it is being typed: the loop of constants, at the use. */
static void const_loop(sema_ctx *x, const ast_item *it, src_loc use)
{
    sema_glob *g = x->g;
    int n = g->n_consts < AST_MAX_DEPTH + 8 ? g->n_consts : AST_MAX_DEPTH + 8;
    int from = -1;
    for (int k = n - 1; k >= 0 && from < 0; k--)
        if (g->consts[k] == it)
            from = k;
    if (!use.file)
        use = it->name_loc;
    if (from < 0) { /* not a loop: the nesting limit */
        diag_report(x->diag, DIAG_ERROR, use,
                    "constant '%s' is nested too deeply: its definition, through the constants "
                    "it uses, is more than %d levels deep", it->name, SEMA_MAX_CONST_DEPTH);
        return;
    }
    if (from == n - 1 || n - from > 8) {
        diag_report(x->diag, DIAG_ERROR, use, "constant '%s' is defined in terms of itself",
                    it->name);
        return;
    }
    size_t len = strlen(it->name) + 1;
    for (int k = from; k < n; k++)
        len += strlen(g->consts[k]->name) + 4;
    char *chain = arena_alloc(x->mem, len), *p = chain;
    for (int k = from; k < n; k++)
        p += sprintf(p, "%s -> ", g->consts[k]->name);
    sprintf(p, "%s", it->name);
    diag_report(x->diag, DIAG_ERROR, use, "constant '%s' is defined in terms of itself: %s",
                it->name, chain);
}

/* The depth of e counting the definitions of the constants it names (they
 * are typed by now), so a chain of constants is bounded as a whole. */
static int total_depth(const sema_ctx *x, const ast_expr *e)
{
    if (!e)
        return 0;
    int d = 0;
    switch (e->kind) {
    case EX_NAME:
        if (e->ref)
            return 1 + ((const sema_const *)e->ref)->total_depth;
        if (e->sym >= 0 && x->cur && x->cur->syms[e->sym].kind == SYM_CONST)
            return 1 + x->cur->syms[e->sym].total_depth;
        return 1;
    case EX_UNARY: case EX_NAMED:
        return 1 + total_depth(x, e->lhs);
    case EX_BINARY: case EX_INDEX: {
        int a = total_depth(x, e->lhs), b = total_depth(x, e->rhs);
        return 1 + (a > b ? a : b);
    }
    case EX_IF: {
        int a = total_depth(x, e->cond), b = total_depth(x, e->lhs), c = total_depth(x, e->rhs);
        d = a > b ? a : b;
        return 1 + (d > c ? d : c);
    }
    case EX_CALL: case EX_VEC:
        for (int i = 0; i < e->args.len; i++) {
            int a = total_depth(x, e->args.items[i]);
            if (a > d)
                d = a;
        }
        return 1 + d;
    default:
        return 1;
    }
}

static int too_deep(sema_ctx *x, const ast_item *it, int depth)
{
    if (depth <= SEMA_MAX_CONST_DEPTH)
        return 0;
    diag_report(x->diag, DIAG_ERROR, it->name_loc,
                "constant '%s' is nested too deeply: its definition, through the constants "
                "it uses, is more than %d levels deep", it->name, SEMA_MAX_CONST_DEPTH);
    return 1;
}

/* The type of constant `it` defined as t: its written type when t fits it
 * (a real broadcasts to a vector), else TY_ERROR with a report. */
static ast_type const_decl_type(sema_ctx *x, const ast_item *it, ast_type t)
{
    ast_type d = it->decl_type;
    if (t == TY_ERROR || d == TY_ERROR)
        return t;
    if (t == d || (ty_is_vec(d) && t == TY_REAL))
        return d;
    diag_report(x->diag, DIAG_ERROR, it->expr->loc,
                "constant '%s' is declared %s but is defined as %s", it->name, ast_type_name(d),
                ast_type_name(t));
    if (!ty_is_vec(t) || !ty_is_vec(d))
        mismatch_hint(x, t, d);
    return TY_ERROR;
}

static int require_const(sema_ctx *x, const ast_expr *e, const char *what);

/* The type of symbol i. type_lets types lets in dependency order, so a let
 * still untyped here is part of a loop of lets through pre() without initial
 * values: its type cannot be inferred (reported after the causality check,
 * unless an instantaneous cycle explains it better). Constants are typed on
 * demand. */
static ast_type type_of_sym(sema_ctx *x, int i, src_loc use)
{
    sema_sym *s = &x->cur->syms[i];
    if (s->kind == SYM_CONST) {
        if (x->state[i] == 2)
            return s->type;
        if (x->state[i] == 1 || x->const_depth + s->def->depth > SEMA_MAX_CONST_DEPTH) {
            const_loop(x, s->item, use);
            x->state[i] = 2;
            s->type = TY_ERROR;
            return TY_ERROR;
        }
        x->state[i] = 1;
        x->const_depth += s->def->depth;
        const_enter(x, s->item);
        int saved = x->defining;
        x->defining = i;
        ast_type t = check_expr(x, s->def);
        x->defining = saved;
        const_leave(x);
        x->const_depth -= s->def->depth;
        if (x->state[i] == 1) {
            t = const_decl_type(x, s->item, t);
            if (t != TY_ERROR &&
                !require_const(x, s->def, arena_printf(x->mem, "constant '%s'", s->name)))
                t = TY_ERROR;
            s->total_depth = total_depth(x, s->def);
            if (t != TY_ERROR && too_deep(x, s->item, s->total_depth))
                t = TY_ERROR;
            s->type = t;
        }
        x->state[i] = 2;
        return s->type;
    }
    if (s->kind != SYM_LET || s->type != TY_ERROR || x->state[i] == 2)
        return s->type;
    if (!x->self_use[i].file)
        x->self_use[i] = use;
    x->state[i] = 2;
    return TY_ERROR;
}

/* "WHAT must be a constant", or for a constant's own definition (what is
 * "constant 'K'") "constant 'K' can only use constants". */
static const char *must_be_const(const char *what)
{
    return strncmp(what, "constant '", 10) == 0 ? "can only use constants"
                                                 : "must be a constant";
}

static void const_signal_hint(sema_ctx *x, const char *what)
{
    if (strncmp(what, "constant '", 10) == 0)
        diag_hint(x->diag, "a const is fixed when the program is compiled; for a value "
                           "computed every tick, use 'let'");
}

/* Whether e only reads constants (literals, `dt`, consts, operators and
 * functions of them); reports the first name that is not. */
static int require_const(sema_ctx *x, const ast_expr *e, const char *what)
{
    if (!e)
        return 1;
    switch (e->kind) {
    case EX_NAME:
        if (e->ref || e->sym == -1)
            return 1;
        if (e->sym >= 0 && x->cur->syms[e->sym].kind == SYM_CONST)
            return 1;
        if (e->sym >= 0) {
            const sema_sym *s = &x->cur->syms[e->sym];
            diag_report(x->diag, DIAG_ERROR, e->loc, "%s %s, but '%s' is %s %s", what,
                        must_be_const(what), s->name, article(kind_name(s)), kind_name(s));
            if (s->kind == SYM_PARAM)
                diag_hint(x->diag, "params are set by the host at run time, so they are not "
                                   "constants; use 'const %s = ...'", s->name);
            else
                const_signal_hint(x, what);
            return 0;
        }
        return 1;
    case EX_FIELD:
        diag_report(x->diag, DIAG_ERROR, e->loc, "%s %s, but '%s.%s' is a signal", what,
                    must_be_const(what), e->name, e->field);
        const_signal_hint(x, what);
        return 0;
    case EX_UNARY:
    case EX_NAMED:
        return require_const(x, e->lhs, what);
    case EX_BINARY:
    case EX_INDEX:
        return require_const(x, e->lhs, what) && require_const(x, e->rhs, what);
    case EX_IF:
        return require_const(x, e->cond, what) && require_const(x, e->lhs, what) &&
               require_const(x, e->rhs, what);
    case EX_CALL:
        if (e->ref || strcmp(e->name, "pre") == 0) {
            diag_report(x->diag, DIAG_ERROR, e->loc, "%s %s, but this %s", what,
                        must_be_const(what),
                        e->ref ? "is a circuit instance" : "reads the previous tick");
            const_signal_hint(x, what);
            return 0;
        }
        /* fallthrough */
    case EX_VEC:
        for (int i = 0; i < e->args.len; i++)
            if (!require_const(x, e->args.items[i], what))
                return 0;
        return 1;
    default:
        return 1;
    }
}

/* A constant duration: with `positive`, of at least one tick (rounded to
 * ticks as the lowering will), else zero or more. */
static int check_duration(sema_ctx *x, ast_expr *e, const char *what, int positive)
{
    ast_type t = check_expr(x, e);
    if (t == TY_ERROR)
        return 0;
    if (t != TY_DUR) {
        diag_report(x->diag, DIAG_ERROR, e->loc, "%s must be a duration, not %s", what,
                    ast_type_name(t));
        mismatch_hint(x, t, TY_DUR);
        return 0;
    }
    if (!require_const(x, e, what))
        return 0;
    double v;
    if (!const_here(x, e, 0, &v)) {
        diag_report(x->diag, DIAG_ERROR, e->loc, "%s must be a constant duration", what);
        return 0;
    }
    double tick = x->mod->tick_seconds;
    if (!isfinite(v)) {
        diag_report(x->diag, DIAG_ERROR, e->loc, "%s must be finite", what);
        return 0;
    }
    if (v < 0) {
        diag_report(x->diag, DIAG_ERROR, e->loc, "%s cannot be negative (it is %g ms)", what,
                    v * 1000);
        return 0;
    }
    if (positive && tick > 0 && sema_round_ticks(v, tick, NULL) < 1) {
        if (v == 0)
            diag_report(x->diag, DIAG_ERROR, e->loc, "%s must be at least one tick (%g ms), "
                        "not 0 ms", what, tick * 1000);
        else
            diag_report(x->diag, DIAG_ERROR, e->loc, "%s must be at least one tick (%g ms), "
                        "but %g ms rounds to 0 ticks", what, tick * 1000, v * 1000);
        diag_hint(x->diag, "durations count whole ticks; write at least '%g ms'", tick * 1000);
        return 0;
    }
    return 1;
}

/* ---- module constants --------------------------------------------------- */

static ast_type type_const(sema_ctx *x, sema_const *k, src_loc use)
{
    if (k->state == 2)
        return k->type;
    if (k->state == 1 || x->const_depth + k->item->expr->depth > SEMA_MAX_CONST_DEPTH) {
        const_loop(x, k->item, use);
        k->state = 2;
        k->type = TY_ERROR;
        return TY_ERROR;
    }
    /* Type it in its own module, with no circuit's names in scope. */
    sema_ctx sub = *x;
    sub.mod = k->mod;
    sub.cur = NULL;
    sub.cands = NULL;
    sub.defining = -1;
    arena_vec_init(&sub.deferred, sizeof(deferred_pre));
    k->state = 1;
    sub.const_depth = x->const_depth + k->item->expr->depth;
    const_enter(x, k->item);
    ast_type t = check_expr(&sub, k->item->expr);
    const_leave(x);
    if (k->state == 1) {
        t = const_decl_type(x, k->item, t);
        if (t != TY_ERROR && !require_const(&sub, k->item->expr,
                                          arena_printf(x->mem, "constant '%s'", k->item->name)))
            t = TY_ERROR;
        k->total_depth = total_depth(&sub, k->item->expr);
        if (t != TY_ERROR && too_deep(x, k->item, k->total_depth))
            t = TY_ERROR;
        k->type = t;
    }
    k->state = 2;
    return k->type;
}

/* ---- declarations ------------------------------------------------------- */

static sema_sym *new_sym(sema_ctx *x, const char *name, sema_sym_kind kind, src_loc loc)
{
    sema_circuit *c = x->cur;
    sema_sym *s = &c->syms[c->n_syms];
    memset(s, 0, sizeof *s);
    s->name = name;
    s->kind = kind;
    s->decl_loc = loc;
    s->def_loc = loc;
    s->owner = -1;
    table_insert(x, name, c->n_syms);
    c->n_syms++;
    return s;
}

static void add_field(sema_ctx *x, int owner, const char *field, ast_type t, int which)
{
    sema_sym *o = &x->cur->syms[owner];
    sema_sym *f = new_sym(x, arena_printf(x->mem, "%s.%s", o->name, field), SYM_FIELD,
                          o->decl_loc);
    f->type = t;
    f->owner = owner;
    f->field = which;
}

/* Whether a scenario of module m names `name` in an expectation or plot
 * (a signal read only by scenarios is not unused). */
static int names_in(const ast_expr *e, const char *name)
{
    if (!e)
        return 0;
    if ((e->kind == EX_NAME && !strcmp(e->name, name)) ||
        (e->kind == EX_FIELD && (!strcmp(e->name, name) || !strcmp(e->field, name))))
        return 1;
    if (names_in(e->lhs, name) || names_in(e->rhs, name) || names_in(e->cond, name))
        return 1;
    for (int i = 0; i < e->args.len; i++)
        if (names_in(e->args.items[i], name))
            return 1;
    return 0;
}

static int watched_by_scenario(const ast_module *m, const char *name)
{
    for (int i = 0; m && i < m->n_scenarios; i++) {
        const ast_scn_item *top = &m->scenarios[i]->top;
        for (int k = 0; k < top->n_items; k++) {
            const ast_scn_item *it = top->items[k];
            if (it->kind == SC_EXPECT && names_in(it->expr, name))
                return 1;
            for (int p = 0; it->kind == SC_PLOT && p < it->plots.len; p++)
                if (names_in(it->plots.items[p], name))
                    return 1;
        }
    }
    return 0;
}

static int check_circuit(sema_glob *g, sema_circuit *c);

/* The circuit a call names, checked first (instances need its outputs). */
static sema_circuit *callee_of(sema_ctx *x, ast_expr *e)
{
    if (lookup(x, e->name) >= 0)
        return NULL; /* a signal's name: reported as not a function */
    if (find_builtin(e->name))
        return NULL;
    src_loc nl = e->loc; /* the circuit's name in the call */
    nl.end_line = nl.line;
    nl.end_col = nl.col + (int)strlen(e->name);
    sema_circuit *cal = find_circuit_visible(x, e->name, nl);
    if (!cal)
        return NULL;
    if (cal->checked == 1) {
        /* Instantiation cycle: name the chain of circuits. */
        size_t len = 16;
        int from = 0;
        for (int i = 0; i < x->g->depth; i++)
            if (x->g->stack[i] == cal)
                from = i;
        for (int i = from; i < x->g->depth; i++)
            len += strlen(x->g->stack[i]->name) + 4;
        char *chain = arena_alloc(x->mem, len + strlen(cal->name)), *p = chain;
        for (int i = from; i < x->g->depth; i++)
            p += sprintf(p, "%s -> ", x->g->stack[i]->name);
        sprintf(p, "%s", cal->name);
        diag_report(x->diag, DIAG_ERROR, nl, "circuit '%s' would contain itself: %s",
                    cal->name, chain);
        diag_hint(x->diag, "instances are flattened into one step function, so circuits "
                           "cannot be recursive");
        e->sym = -3; /* reported */
        return NULL;
    }
    /* Instances flatten by recursion in every later stage: bound the nesting
     * (documented in SPEC.md), before checking the callee, which recurses. */
    if (x->g->depth >= SEMA_MAX_NESTING || (cal->checked == 2 && cal->nest >= SEMA_MAX_NESTING)) {
        diag_report(x->diag, DIAG_ERROR, e->loc,
                    "instances are nested more than %d deep here (circuit '%s' inside '%s' "
                    "inside ...)", SEMA_MAX_NESTING, cal->name, x->cur ? x->cur->name : "?");
        diag_hint(x->diag, "flatten the chain of circuits: each instance of an instance adds "
                           "a level");
        e->sym = -3; /* reported */
        return NULL;
    }
    if (cal->checked == 0)
        check_circuit(x->g, cal);
    if (x->cur && cal->nest + 1 > x->cur->nest)
        x->cur->nest = cal->nest + 1;
    e->ref = cal;
    return cal;
}

/* Calls of circuits in e: count the instances they make, and resolve their
 * circuits (so a named instance can get its fields). */
static int scan_calls(sema_ctx *x, ast_expr *e)
{
    if (!e)
        return 0;
    int n = 0;
    switch (e->kind) {
    case EX_CALL:
        if (callee_of(x, e))
            n++;
        /* fallthrough */
    case EX_VEC:
        for (int i = 0; i < e->args.len; i++)
            n += scan_calls(x, e->args.items[i]);
        return n;
    case EX_UNARY:
    case EX_NAMED:
        return scan_calls(x, e->lhs);
    case EX_BINARY:
    case EX_INDEX:
        return scan_calls(x, e->lhs) + scan_calls(x, e->rhs);
    case EX_IF:
        return scan_calls(x, e->cond) + scan_calls(x, e->lhs) + scan_calls(x, e->rhs);
    default:
        return 0;
    }
}

/* Hidden instances for circuit calls inside expressions. */
static void make_hidden(sema_ctx *x, ast_expr *e, int named_top)
{
    if (!e)
        return;
    switch (e->kind) {
    case EX_CALL:
        if (e->ref && !named_top) {
            const sema_circuit *cal = e->ref;
            sema_sym *s = new_sym(x, arena_printf(x->mem, "%s@%d:%d", cal->name, e->loc.line,
                                                  e->loc.col),
                                  SYM_INSTANCE, e->loc);
            s->hidden = 1;
            s->callee = cal;
            s->def = e;
            s->used = 1;
            s->type = cal->n_outputs == 1 ? cal->syms[cal->outputs[0]].type : TY_ERROR;
            e->sym = x->cur->n_syms - 1;
        }
        /* fallthrough */
    case EX_VEC:
        for (int i = 0; i < e->args.len; i++)
            make_hidden(x, e->args.items[i], 0);
        return;
    case EX_UNARY:
    case EX_NAMED:
        make_hidden(x, e->lhs, 0);
        return;
    case EX_BINARY:
    case EX_INDEX:
        make_hidden(x, e->lhs, 0);
        make_hidden(x, e->rhs, 0);
        return;
    case EX_IF:
        make_hidden(x, e->cond, 0);
        make_hidden(x, e->lhs, 0);
        make_hidden(x, e->rhs, 0);
        return;
    default:
        return;
    }
}

static const char *const PRED_CLAUSES[] = { "context", "supervisor", "rate", "delay",
                                            "defer", "rule", "squash", "init" };
enum { N_PRED_CLAUSES = sizeof PRED_CLAUSES / sizeof PRED_CLAUSES[0] };

/* The name at the start of a predictor clause. */
static src_loc clause_name_loc(const ast_clause *cl)
{
    src_loc nl = cl->loc;
    nl.end_line = nl.line;
    nl.end_col = nl.col + (int)strlen(cl->name);
    return nl;
}

/* Which of names e is (a predictor's rule or squash), or -1, reported
 * with a suggestion or the list of choices. */
static int pick_name(sema_ctx *x, const ast_expr *e, const char *const *names, int n,
                     const char *what, const char *choices)
{
    for (int k = 0; e->kind == EX_NAME && k < n; k++)
        if (strcmp(names[k], e->name) == 0)
            return k;
    const char *s = e->kind == EX_NAME ? diag_suggest(e->name, names, (size_t)n) : NULL;
    if (e->kind == EX_NAME)
        diag_report(x->diag, DIAG_ERROR, e->loc, "unknown %s '%s'", what, e->name);
    else
        diag_report(x->diag, DIAG_ERROR, e->loc, "a %s is a name", what);
    if (s)
        diag_hint(x->diag, "did you mean '%s'?", s);
    else
        diag_hint(x->diag, "%s", choices);
    return -1;
}

static sema_pred *parse_pred(sema_ctx *x, const ast_item *it)
{
    sema_pred *p = arena_calloc(x->mem, 1, sizeof *p);
    ast_expr **slots[N_PRED_CLAUSES] = { &p->context, &p->supervisor, &p->rate, &p->delay,
                                         &p->defer, NULL, NULL, &p->init };
    ast_expr *rule = NULL, *squash = NULL;
    const ast_clause *seen[N_PRED_CLAUSES] = { 0 };
    for (int i = 0; i < it->clauses.len; i++) {
        const ast_clause *cl = &it->clauses.items[i];
        int k = 0;
        while (k < N_PRED_CLAUSES && strcmp(PRED_CLAUSES[k], cl->name) != 0)
            k++;
        if (k == N_PRED_CLAUSES) {
            diag_report(x->diag, DIAG_ERROR, clause_name_loc(cl),
                        "a predictor has no '%s' clause", cl->name);
            const char *s = diag_suggest(cl->name, PRED_CLAUSES, N_PRED_CLAUSES);
            if (s)
                diag_hint(x->diag, "did you mean '%s'?", s);
            else
                diag_hint(x->diag, "its clauses: context, supervisor, rate, delay, defer, rule, "
                                   "squash, init");
            continue;
        }
        if (seen[k]) {
            diag_report(x->diag, DIAG_ERROR, clause_name_loc(cl),
                        "predictor '%s' has two '%s' clauses", it->name, cl->name);
            diag_report(x->diag, DIAG_NOTE, clause_name_loc(seen[k]), "the first is here");
            continue;
        }
        seen[k] = cl;
        if (k == 5)
            rule = cl->expr;
        else if (k == 6)
            squash = cl->expr;
        else
            *slots[k] = cl->expr;
    }
    /* The required clauses, all missing ones in one report. */
    static const char *const required[] = { "context", "supervisor", "rate" };
    static const char *const meaning[] = {
        "the context is what it predicts from, e.g. 'context thought'",
        "the supervisor is the signal it learns to predict, e.g. 'supervisor arousal'",
        "the rate is its learning rate, e.g. 'rate 0.05'",
    };
    int missing[3], n_missing = 0;
    for (int k = 0; k < 3 && !it->clauses.broken; k++) /* a syntax error says enough */
        if (!seen[k])
            missing[n_missing++] = k;
    if (n_missing == 1) {
        diag_report(x->diag, DIAG_ERROR, it->name_loc, "predictor '%s' needs a '%s' clause",
                    it->name, required[missing[0]]);
        diag_hint(x->diag, "%s", meaning[missing[0]]);
    } else if (n_missing == 2) {
        diag_report(x->diag, DIAG_ERROR, it->name_loc,
                    "predictor '%s' needs '%s' and '%s' clauses", it->name,
                    required[missing[0]], required[missing[1]]);
        diag_hint(x->diag, "%s; %s", meaning[missing[0]], meaning[missing[1]]);
    } else if (n_missing == 3) {
        diag_report(x->diag, DIAG_ERROR, it->name_loc,
                    "predictor '%s' needs 'context', 'supervisor' and 'rate' clauses", it->name);
        diag_hint(x->diag, "for example: 'predictor %s { context x; supervisor y; rate 0.05 }'",
                  it->name);
    }
    static const char *const rules[] = { "lms", "nlms" };
    static const char *const squashes[] = { "none", "sigmoid", "tanh" };
    int k;
    if (rule && (k = pick_name(x, rule, rules, 2, "learning rule",
                               "the rules are 'lms' (least mean squares) and 'nlms' "
                               "(normalized)")) >= 0)
        p->rule = k == 0 ? PRED_LMS : PRED_NLMS;
    if (squash && (k = pick_name(x, squash, squashes, 3, "squashing function",
                                 "choose 'none' (linear), 'sigmoid' or 'tanh'")) >= 0)
        p->squash = (sema_squash)k;
    return p;
}

static void declare(sema_ctx *x, const ast_item *it)
{
    sema_circuit *c = x->cur;
    int prev = lookup(x, it->name);
    if (prev >= 0) {
        sema_sym *p = &c->syms[prev];
        diag_report(x->diag, DIAG_ERROR, it->name_loc, "'%s' is already defined", it->name);
        diag_report(x->diag, DIAG_NOTE, p->decl_loc, "'%s' was defined here as %s %s",
                    it->name, article(kind_name(p)), kind_name(p));
        return;
    }
    if (strcmp(it->name, "dt") == 0) {
        diag_report(x->diag, DIAG_ERROR, it->name_loc,
                    "'dt' is the module's tick and cannot be redefined");
        return;
    }
    sema_sym_kind kind;
    switch (it->kind) {
    case IT_INPUT: kind = SYM_INPUT; break;
    case IT_OUTPUT: case IT_REWARD: kind = SYM_OUTPUT; break;
    case IT_PARAM: kind = SYM_PARAM; break;
    case IT_CONST: kind = SYM_CONST; break;
    case IT_STATE: kind = SYM_STATE; break;
    case IT_REFLEX: kind = SYM_REFLEX; break;
    case IT_PREDICTOR: kind = SYM_PREDICTOR; break;
    default: kind = SYM_LET; break;
    }
    if (it->kind == IT_LET && it->decl_type == TY_ERROR && it->expr && it->expr->kind == EX_CALL &&
        it->expr->ref)
        kind = SYM_INSTANCE;
    sema_sym *s = new_sym(x, it->name, kind, it->name_loc);
    int idx = c->n_syms - 1;
    s->item = it;
    s->type = it->decl_type;
    s->def = it->expr;
    s->reward = it->kind == IT_REWARD;
    s->let = it->kind == IT_HEURISTIC ? LET_HEURISTIC
           : it->kind == IT_ATTENTION ? LET_ATTENTION
           : it->kind == IT_GATE      ? LET_GATE
                                      : LET_PLAIN;
    if ((kind == SYM_INPUT || kind == SYM_OUTPUT || kind == SYM_STATE) && s->type == TY_DUR) {
        diag_report(x->diag, DIAG_ERROR, it->type_loc, "%s '%s' cannot be a duration",
                    kind_name(s), it->name);
        diag_hint(x->diag, "carry time as a real number of seconds, e.g. 'd / 1 s'");
        s->type = TY_ERROR;
    }
    if (kind == SYM_INSTANCE) {
        const sema_circuit *cal = it->expr->ref;
        s->callee = cal;
        it->expr->sym = idx;
        s->type = cal->n_outputs == 1 ? cal->syms[cal->outputs[0]].type : TY_ERROR;
        for (int k = 0; k < cal->n_outputs; k++)
            add_field(x, idx, cal->syms[cal->outputs[k]].name, cal->syms[cal->outputs[k]].type, k);
    } else if (kind == SYM_REFLEX) {
        add_field(x, idx, "strength", TY_REAL, FIELD_STRENGTH);
        add_field(x, idx, "onset", TY_BOOL, FIELD_ONSET);
    } else if (kind == SYM_PREDICTOR) {
        s = &c->syms[idx];
        s->pred = parse_pred(x, it);
        add_field(x, idx, "target", TY_REAL, FIELD_TARGET);
        add_field(x, idx, "error", TY_REAL, FIELD_ERROR);
    }
}

/* `name = expr` for outputs and `next name = expr` for states. */
static void define(sema_ctx *x, const ast_item *it)
{
    int i = lookup(x, it->name);
    int is_next = it->kind == IT_NEXT;
    if (i < 0 || x->cur->syms[i].kind == SYM_FIELD) {
        diag_report(x->diag, DIAG_ERROR, it->name_loc, "'%s' is not declared", it->name);
        const char *s = suggest_name(x, it->name);
        if (is_next)
            diag_hint(x->diag, "declare the state first: 'state %s : real = 0'", it->name);
        else if (s)
            diag_hint(x->diag, "did you mean '%s'? To add an output, declare it: 'output %s : real'",
                      s, it->name);
        else
            diag_hint(x->diag, "declare it first: 'output %s : real', or use 'let %s = ...'",
                      it->name, it->name);
        return;
    }
    sema_sym *s = &x->cur->syms[i];
    if (is_next) {
        if (s->kind != SYM_STATE) {
            diag_report(x->diag, DIAG_ERROR, it->name_loc,
                        "'next' defines states, but '%s' is %s %s", s->name,
                        article(kind_name(s)), kind_name(s));
            diag_report(x->diag, DIAG_NOTE, s->decl_loc, "'%s' is declared here", s->name);
            if (s->kind == SYM_OUTPUT && !s->reward)
                diag_hint(x->diag, "an output is defined by '%s = ...'; to keep a value from "
                                   "tick to tick, declare 'state'", s->name);
            return;
        }
        if (s->next) {
            diag_report(x->diag, DIAG_ERROR, it->name_loc, "state '%s' has two 'next' equations",
                        s->name);
            diag_report(x->diag, DIAG_NOTE, s->next_loc, "first given here");
            return;
        }
        s->next = it->expr;
        s->next_loc = it->name_loc;
        return;
    }
    if (s->kind != SYM_OUTPUT || s->reward) {
        diag_report(x->diag, DIAG_ERROR, it->name_loc,
                    "cannot define %s '%s' with an equation; only outputs are defined this way",
                    kind_name(s), s->name);
        diag_report(x->diag, DIAG_NOTE, s->decl_loc, "'%s' is declared here", s->name);
        if (s->kind == SYM_STATE)
            diag_hint(x->diag, "a state's value for the next tick is set by 'next %s = ...'",
                      s->name);
        else if (s->kind == SYM_OUTPUT)
            diag_hint(x->diag, "a reward is defined where it is declared, 'reward %s = ...'; "
                               "combine the two into one", s->name);
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

static void report_cycle(sema_ctx *x, dep_node *nodes, const int *cyc, int len)
{
    sema_sym *syms = x->cur->syms;
    /* Start at a signal the user wrote, not at a field of an instance. */
    int start = 0;
    while (start < len && syms[cyc[start]].kind == SYM_FIELD)
        start++;
    if (start == len)
        start = 0;
    int *path = arena_calloc(x->mem, (size_t)len + 1, sizeof *path);
    for (int i = 0; i < len; i++)
        path[i] = cyc[(start + i) % len];
    size_t cap = 64;
    for (int i = 0; i < len; i++)
        cap += strlen(syms[path[i]].name) + 4;
    char *text = arena_alloc(x->mem, cap + strlen(syms[path[0]].name));
    size_t n = 0;
    for (int i = 0; i < len; i++)
        n += (size_t)sprintf(text + n, "%s -> ", syms[path[i]].name);
    sprintf(text + n, "%s", syms[path[0]].name);
    diag_report(x->diag, DIAG_ERROR, syms[path[0]].def_loc, "instantaneous cycle: %s", text);
    int via_instance = 0;
    for (int i = 0; i < len; i++)
        via_instance |= syms[path[i]].kind == SYM_INSTANCE;
    /* Where pre() would break the loop: a use written by the user of a
     * signal that can be read as a value. */
    const char *brk = syms[path[len - 1]].name;
    for (int i = 0; via_instance && i < len; i++) {
        const sema_sym *from = &syms[path[i]], *to = &syms[path[(i + 1) % len]];
        if (from->kind == SYM_FIELD || to->hidden ||
            (to->kind == SYM_INSTANCE && (!to->callee || to->callee->n_outputs != 1)))
            continue;
        brk = to->name;
        break;
    }
    if (via_instance)
        diag_hint(x->diag, "an instance's outputs depend on all its arguments within a tick; "
                           "feed an output back through pre(), e.g. pre(%s)", brk);
    else
        diag_hint(x->diag, "a signal cannot depend on itself within one tick; "
                           "read last tick's value with pre(), e.g. pre(%s)", brk);
    for (int i = 0; i < len; i++) {
        int from = path[i], to = path[(i + 1) % len];
        if (syms[from].kind == SYM_FIELD && syms[from].owner == to &&
            syms[to].kind == SYM_INSTANCE) {
            diag_report(x->diag, DIAG_NOTE, syms[to].decl_loc,
                        "'%s' is an output of instance '%s'", syms[from].name, syms[to].name);
            continue;
        }
        for (int k = 0; k < nodes[from].n; k++)
            if (nodes[from].edges[k].to == to) {
                diag_report(x->diag, DIAG_NOTE, nodes[from].edges[k].at, "'%s' uses '%s' here",
                            syms[from].name, syms[to].name);
                break;
            }
    }
}

/* Evaluation order of the definitions, and the instantaneous cycles. */
static void order_definitions(sema_ctx *x)
{
    sema_circuit *c = x->cur;
    unsigned char *want = arena_calloc(x->mem, (size_t)c->n_syms + 1, 1);
    dep_node *nodes = build_graph(x, DEPS_INSTANT, want);
    x->in_cycle = arena_calloc(x->mem, (size_t)c->n_syms + 1, 1);
    c->order = arena_calloc(x->mem, (size_t)c->n_syms + 1, sizeof *c->order);
    c->n_order = dfs_postorder(x, nodes, c->n_syms, want, c->order, x->in_cycle);
}

/* Type the lets that have no written type, each after the lets its
 * definition names, so typing never recurses from one let into another. */
/* Drop the soft edges that lie on a cycle, i.e. inside one strongly
 * connected component (Tarjan's algorithm, iterative: chains of any length). */
static void drop_cyclic_soft_edges(sema_ctx *x, dep_node *nodes, int n)
{
    int *index = arena_calloc(x->mem, (size_t)n + 1, sizeof *index); /* 0: not yet */
    int *low = arena_calloc(x->mem, (size_t)n + 1, sizeof *low);
    int *comp = arena_calloc(x->mem, (size_t)n + 1, sizeof *comp);
    int *stack = arena_calloc(x->mem, (size_t)n + 1, sizeof *stack);
    int *call = arena_calloc(x->mem, (size_t)n + 1, sizeof *call);
    int *next = arena_calloc(x->mem, (size_t)n + 1, sizeof *next);
    unsigned char *on = arena_calloc(x->mem, (size_t)n + 1, 1);
    int counter = 0, sp = 0, n_comp = 0;
    for (int root = 0; root < n; root++) {
        if (index[root])
            continue;
        int cp = 0;
        call[cp++] = root;
        index[root] = low[root] = ++counter;
        stack[sp++] = root;
        on[root] = 1;
        while (cp > 0) {
            int v = call[cp - 1];
            if (next[v] < nodes[v].n) {
                int w = nodes[v].edges[next[v]++].to;
                if (!index[w]) {
                    index[w] = low[w] = ++counter;
                    stack[sp++] = w;
                    on[w] = 1;
                    call[cp++] = w;
                } else if (on[w] && index[w] < low[v]) {
                    low[v] = index[w];
                }
            } else {
                cp--;
                if (cp > 0 && low[v] < low[call[cp - 1]])
                    low[call[cp - 1]] = low[v];
                if (low[v] == index[v]) {
                    int w;
                    do {
                        w = stack[--sp];
                        on[w] = 0;
                        comp[w] = n_comp;
                    } while (w != v);
                    n_comp++;
                }
            }
        }
    }
    for (int v = 0; v < n; v++) {
        int k = 0;
        for (int i = 0; i < nodes[v].n; i++)
            if (!nodes[v].edges[i].soft || comp[nodes[v].edges[i].to] != comp[v])
                nodes[v].edges[k++] = nodes[v].edges[i];
        nodes[v].n = k;
    }
}

static void type_lets(sema_ctx *x)
{
    sema_circuit *c = x->cur;
    unsigned char *want = arena_calloc(x->mem, (size_t)c->n_syms + 1, 1);
    dep_node *nodes = build_graph(x, DEPS_TYPE, want);
    drop_cyclic_soft_edges(x, nodes, c->n_syms);
    int *order = arena_calloc(x->mem, (size_t)c->n_syms + 1, sizeof *order);
    int n_order = dfs_postorder(x, nodes, c->n_syms, want, order, NULL);
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

/* ---- the rules of each kind of symbol ----------------------------------- */

static void expect_type(sema_ctx *x, ast_expr *e, ast_type want, const char *what)
{
    if (!e)
        return;
    ast_type t = check_expr(x, e);
    if (t == TY_ERROR || t == want)
        return;
    diag_report(x->diag, DIAG_ERROR, e->loc, "%s must be %s, not %s", what, ast_type_name(want),
                ast_type_name(t));
    mismatch_hint(x, t, want);
}

/* Check a call's arguments against the circuit's inputs and params. */
static void check_instance_call(sema_ctx *x, ast_expr *e, const sema_circuit *cal)
{
    if (cal->failed) {
        for (int i = 0; i < e->args.len; i++) {
            ast_expr *a = e->args.items[i];
            check_expr(x, a->kind == EX_NAMED ? a->lhs : a);
        }
        return;
    }
    unsigned char *bound = arena_calloc(x->mem, (size_t)cal->n_syms + 1, 1);
    src_loc *bound_at = arena_calloc(x->mem, (size_t)cal->n_syms + 1, sizeof *bound_at);
    int pos = 0;
    for (int i = 0; i < e->args.len; i++) {
        ast_expr *a = e->args.items[i];
        int k = -1;
        ast_expr *val = a;
        if (a->kind == EX_NAMED) {
            val = a->lhs;
            for (int j = 0; j < cal->n_syms; j++)
                if ((cal->syms[j].kind == SYM_INPUT || cal->syms[j].kind == SYM_PARAM) &&
                    strcmp(cal->syms[j].name, a->name) == 0)
                    k = j;
            if (k < 0) {
                src_loc nl = a->loc;
                nl.end_col = nl.col + (int)strlen(a->name);
                nl.end_line = nl.line;
                diag_report(x->diag, DIAG_ERROR, nl, "circuit '%s' has no input or param '%s'",
                            cal->name, a->name);
                const char **names = arena_calloc(x->mem, (size_t)cal->n_syms + 1, sizeof *names);
                size_t n = 0, len = 1;
                for (int j = 0; j < cal->n_syms; j++)
                    if (cal->syms[j].kind == SYM_INPUT || cal->syms[j].kind == SYM_PARAM) {
                        names[n++] = cal->syms[j].name;
                        len += strlen(cal->syms[j].name) + 2;
                    }
                const char *s = diag_suggest(a->name, names, n);
                char *list = arena_alloc(x->mem, len), *lp = list;
                *lp = 0;
                for (size_t j = 0; j < n; j++)
                    lp += sprintf(lp, "%s%s", j ? ", " : "", names[j]);
                if (s)
                    diag_hint(x->diag, "did you mean '%s'?", s);
                else if (n)
                    diag_hint(x->diag, "its inputs and params: %s", list);
                else
                    diag_hint(x->diag, "it has no inputs or params");
                check_expr(x, val);
                continue;
            }
            a->sym = k;
        } else {
            if (pos >= cal->n_inputs) {
                check_expr(x, val);
                if (pos++ > cal->n_inputs)
                    continue; /* one report for all the extra arguments */
                int given = 0;
                for (int j = 0; j < e->args.len; j++)
                    given += e->args.items[j]->kind != EX_NAMED;
                diag_report(x->diag, DIAG_ERROR, a->loc,
                            "circuit '%s' takes %d input%s, but this call gives %d", cal->name,
                            cal->n_inputs, cal->n_inputs == 1 ? "" : "s", given);
                if (cal->n_params) {
                    const sema_sym *pp = &cal->syms[cal->params[0]];
                    diag_hint(x->diag, "params are set by name, e.g. '%s(..., %s = %s)'",
                              cal->name, pp->name,
                              pp->type == TY_BOOL ? "true" : pp->type == TY_DUR ? "100 ms" : "2");
                }
                continue;
            }
            k = cal->inputs[pos++];
        }
        const sema_sym *p = &cal->syms[k];
        if (bound[k]) {
            diag_report(x->diag, DIAG_ERROR, a->loc, "%s '%s' of '%s' is given twice",
                        kind_name(p), p->name, cal->name);
            diag_report(x->diag, DIAG_NOTE, bound_at[k], "first given here");
            check_expr(x, val);
            continue;
        }
        bound[k] = 1;
        bound_at[k] = a->loc;
        ast_type t = check_expr(x, val);
        if (t != TY_ERROR && p->type != TY_ERROR && t != p->type) {
            diag_report(x->diag, DIAG_ERROR, val->loc, "%s '%s' of '%s' is %s, but this is %s",
                        kind_name(p), p->name, cal->name, ast_type_name(p->type),
                        ast_type_name(t));
            mismatch_hint(x, t, p->type);
        } else if (t != TY_ERROR && p->item && p->item->attrs.lo) {
            /* a constant bound to a ranged param or input must lie in the range */
            double lo, hi, v;
            const sema_module *cm = cal->mod;
            if (const_eval(cal, cm, p->item->attrs.lo, 0, cm->tick_seconds, &lo, 0) &&
                const_eval(cal, cm, p->item->attrs.hi, 0, cm->tick_seconds, &hi, 0))
                for (int k = 0; k < ty_len(t); k++)
                    if (const_here(x, val, k, &v) && !(v >= lo && v <= hi)) {
                        char bl[32], bh[32], bv[32];
                        int dur = p->type == TY_DUR;
                        snprintf(bv, sizeof bv, "%g%s", dur ? v * 1000 : v, dur ? " ms" : "");
                        snprintf(bl, sizeof bl, "%g%s", dur ? lo * 1000 : lo, dur ? " ms" : "");
                        snprintf(bh, sizeof bh, "%g%s", dur ? hi * 1000 : hi, dur ? " ms" : "");
                        diag_report(x->diag, DIAG_ERROR, val->loc,
                                    "%s is outside the range [%s, %s] of %s '%s' of '%s'", bv,
                                    bl, bh, kind_name(p), p->name, cal->name);
                        diag_report(x->diag, DIAG_NOTE, p->item->attrs.range_loc,
                                    "the range is declared here");
                        break;
                    }
        }
    }
    for (int i = 0; i < cal->n_inputs; i++)
        if (!bound[cal->inputs[i]]) {
            const sema_sym *p = &cal->syms[cal->inputs[i]];
            diag_report(x->diag, DIAG_ERROR, e->loc, "input '%s' of circuit '%s' is not given",
                        p->name, cal->name);
            diag_report(x->diag, DIAG_NOTE, p->decl_loc, "'%s' is declared here", p->name);
            break;
        }
}

/* A value of type t for a message: "20", "5 ms". */
static const char *value_text(sema_ctx *x, ast_type t, double v)
{
    if (t != TY_DUR)
        return arena_printf(x->mem, "%g", v);
    return fabs(v) >= 1 ? arena_printf(x->mem, "%g s", v) : arena_printf(x->mem, "%g ms", v * 1000);
}

/* `in [lo, hi]` of an input or param; with check_default, also whether the
 * param's (valid, constant) default lies in it. */
static void check_range(sema_ctx *x, sema_sym *s, int check_default)
{
    const ast_attrs *a = &s->item->attrs;
    if (!a->lo)
        return;
    ast_type elem = ty_is_vec(s->type) ? TY_REAL : s->type;
    if (s->type == TY_BOOL) {
        diag_report(x->diag, DIAG_ERROR, a->range_loc, "%s '%s' is a bool, which has no range",
                    kind_name(s), s->name);
        diag_hint(x->diag, "ranges are for reals and vectors%s",
                  s->kind == SYM_PARAM ? " (and duration params)" : "");
        return;
    }
    ast_type tl = check_expr(x, a->lo), th = check_expr(x, a->hi);
    if (tl == TY_ERROR || th == TY_ERROR || s->type == TY_ERROR)
        return;
    if (tl != elem || th != elem) {
        ast_type bad = tl != elem ? tl : th;
        diag_report(x->diag, DIAG_ERROR, a->range_loc,
                    "the range of '%s' must be given as %s values, not %s", s->name,
                    ast_type_name(elem), ast_type_name(bad));
        mismatch_hint(x, bad, elem);
        return;
    }
    const char *what = arena_printf(x->mem, "the range of '%s'", s->name);
    if (!require_const(x, a->lo, what) || !require_const(x, a->hi, what))
        return;
    double lo, hi;
    if (!const_here(x, a->lo, 0, &lo) || !const_here(x, a->hi, 0, &hi)) {
        diag_report(x->diag, DIAG_ERROR, a->range_loc, "the range of '%s' must be constant",
                    s->name);
        return;
    }
    if (!(lo <= hi)) {
        diag_report(x->diag, DIAG_ERROR, a->range_loc,
                    "the range of '%s' is empty: its low end, %s, is above its high end, %s",
                    s->name, value_text(x, elem, lo), value_text(x, elem, hi));
        diag_hint(x->diag, "write the low end first: 'in [low, high]'");
        return;
    }
    if (s->kind == SYM_PARAM && s->def && check_default) {
        for (int i = 0; i < ty_len(s->type); i++) {
            double v;
            if (const_here(x, s->def, ty_is_vec(s->def->type) ? i : 0, &v) &&
                !(v >= lo && v <= hi)) {
                if (ty_is_vec(s->def->type))
                    diag_report(x->diag, DIAG_ERROR, s->def->loc,
                                "the default of param '%s' is outside its range: element %d "
                                "is %s, not in [%s, %s]", s->name, i, value_text(x, elem, v),
                                value_text(x, elem, lo), value_text(x, elem, hi));
                else
                    diag_report(x->diag, DIAG_ERROR, s->def->loc,
                                "the default of param '%s' is outside its range: %s is not in "
                                "[%s, %s]", s->name, value_text(x, elem, v),
                                value_text(x, elem, lo), value_text(x, elem, hi));
                diag_report(x->diag, DIAG_NOTE, a->range_loc, "the range is given here");
                break;
            }
        }
    }
}

static void check_sym(sema_ctx *x, int i)
{
    sema_sym *s = &x->cur->syms[i];
    x->defining = i;
    switch (s->kind) {
    case SYM_INPUT:
        check_range(x, s, 0);
        break;
    case SYM_PARAM: {
        if (s->item->attrs.learned) {
            diag_report(x->diag, DIAG_ERROR, s->decl_loc,
                        "param '%s' cannot be learned: only inputs can", s->name);
            diag_hint(x->diag, "'learned' marks an input that comes from a learning system; a "
                               "param is set by the host");
        }
        if (!s->def) {
            diag_report(x->diag, DIAG_ERROR, s->decl_loc, "param '%s' needs a default value",
                        s->name);
            diag_hint(x->diag, "write 'param %s : %s = %s'", s->name, ast_type_name(s->type),
                      s->type == TY_BOOL ? "false" : s->type == TY_DUR ? "100 ms" : "1");
            check_range(x, s, 0);
            break;
        }
        ast_type t = check_expr(x, s->def);
        int ok = 0;
        if (t != TY_ERROR && s->type != TY_ERROR && t != s->type &&
            !(ty_is_vec(s->type) && t == TY_REAL)) {
            diag_report(x->diag, DIAG_ERROR, s->def->loc, "param '%s' is %s but its default is %s",
                        s->name, ast_type_name(s->type), ast_type_name(t));
            mismatch_hint(x, t, s->type);
        } else if (t != TY_ERROR && s->type != TY_ERROR) {
            ok = require_const(x, s->def, "the default of a param");
            for (int k = 0; ok && k < ty_len(s->type); k++) {
                double v;
                if (!const_here(x, s->def, ty_is_vec(t) ? k : 0, &v)) {
                    diag_report(x->diag, DIAG_ERROR, s->def->loc,
                                "the default of param '%s' must be a constant", s->name);
                    ok = 0;
                } else if (k == 0) {
                    s->value = v;
                }
            }
        }
        check_range(x, s, ok);
        break;
    }
    case SYM_CONST:
        type_of_sym(x, i, s->decl_loc);
        break;
    case SYM_OUTPUT:
        if (s->reward == 2)
            break;
        if (!s->def) {
            diag_report(x->diag, DIAG_ERROR, s->decl_loc, "output '%s' is never defined",
                        s->name);
            diag_hint(x->diag, "add an equation: '%s = ...'", s->name);
            break;
        }
        {
            ast_type t = check_expr(x, s->def);
            if (t != TY_ERROR && s->type != TY_ERROR && t != s->type && s->reward) {
                diag_report(x->diag, DIAG_ERROR, s->def->loc,
                            "a reward must be real, but '%s' is defined as %s", s->name,
                            ast_type_name(t));
                if (ty_is_vec(t))
                    diag_hint(x->diag, "a reward is one number per tick; reduce the vector, "
                                       "e.g. sum(v)");
                else
                    mismatch_hint(x, t, s->type);
            } else if (t != TY_ERROR && s->type != TY_ERROR && t != s->type) {
                diag_report(x->diag, DIAG_ERROR, s->def->loc, "%s '%s' is %s but is defined as %s",
                            kind_name(s), s->name, ast_type_name(s->type), ast_type_name(t));
                mismatch_hint(x, t, s->type);
            }
        }
        break;
    case SYM_LET:
        if (s->item && s->item->decl_type != TY_ERROR) { /* declared type */
            ast_type t = check_expr(x, s->def);
            if (t != TY_ERROR && t != s->type) {
                diag_report(x->diag, DIAG_ERROR, s->def->loc,
                            "'%s' is declared %s but is defined as %s", s->name,
                            ast_type_name(s->type), ast_type_name(t));
                mismatch_hint(x, t, s->type);
            }
            x->state[i] = 2;
        }
        if (s->let == LET_GATE) {
            expect_type(x, s->item->cond, TY_BOOL,
                        arena_printf(x->mem, "the condition of gate '%s'", s->name));
            if (s->item->other) {
                ast_type t = check_expr(x, s->item->other);
                if (t != TY_ERROR && s->type != TY_ERROR && t != s->type) {
                    diag_report(x->diag, DIAG_ERROR, s->item->other->loc,
                                "gate '%s' passes %s, but its 'else' value is %s", s->name,
                                ast_type_name(s->type), ast_type_name(t));
                    mismatch_hint(x, t, s->type);
                }
            }
        }
        break;
    case SYM_STATE:
        if (s->def) {
            ast_type t = check_expr(x, s->def);
            if (t != TY_ERROR && s->type != TY_ERROR && t != s->type &&
                !(ty_is_vec(s->type) && t == TY_REAL)) {
                diag_report(x->diag, DIAG_ERROR, s->def->loc,
                            "state '%s' is %s but its initial value is %s", s->name,
                            ast_type_name(s->type), ast_type_name(t));
                mismatch_hint(x, t, s->type);
            } else if (t != TY_ERROR &&
                       require_const(x, s->def, arena_printf(x->mem,
                                                             "the initial value of state '%s'",
                                                             s->name))) {
                double v;
                for (int k = 0; k < ty_len(t); k++)
                    if (!const_here(x, s->def, k, &v)) {
                        diag_report(x->diag, DIAG_ERROR, s->def->loc,
                                    "the initial value of state '%s' must be a constant",
                                    s->name);
                        break;
                    }
            }
        }
        if (!s->next) {
            diag_report(x->diag, DIAG_ERROR, s->decl_loc, "state '%s' has no 'next' equation",
                        s->name);
            diag_hint(x->diag, "say how it advances, e.g. 'next %s = %s + 1'; a value that "
                               "never changes is a 'const'", s->name, s->name);
        } else {
            ast_type t = check_expr(x, s->next);
            if (t != TY_ERROR && s->type != TY_ERROR && t != s->type) {
                diag_report(x->diag, DIAG_ERROR, s->next->loc,
                            "state '%s' is %s but its next value is %s", s->name,
                            ast_type_name(s->type), ast_type_name(t));
                mismatch_hint(x, t, s->type);
            }
        }
        break;
    case SYM_REFLEX:
        expect_type(x, s->def, TY_BOOL,
                    arena_printf(x->mem, "the condition of reflex '%s'", s->name));
        check_duration(x, s->item->cond,
                       arena_printf(x->mem, "the 'for' period of reflex '%s'", s->name), 1);
        if (s->item->attrs.refractory)
            check_duration(x, s->item->attrs.refractory,
                           arena_printf(x->mem, "the refractory period of reflex '%s'", s->name),
                           0);
        expect_type(x, s->item->attrs.strength, TY_REAL,
                    arena_printf(x->mem, "the strength of reflex '%s'", s->name));
        break;
    case SYM_PREDICTOR: {
        sema_pred *p = s->pred;
        s->type = TY_REAL;
        if (p->context) {
            ast_type t = check_expr(x, p->context);
            if (t != TY_ERROR && !is_realish(t)) {
                diag_report(x->diag, DIAG_ERROR, p->context->loc,
                            "the context of predictor '%s' must be a vector or a real, not %s",
                            s->name, ast_type_name(t));
                mismatch_hint(x, t, TY_REAL);
            }
            p->n = is_realish(t) ? ty_len(t) : 0;
        }
        expect_type(x, p->supervisor, TY_REAL,
                    arena_printf(x->mem, "the supervisor of predictor '%s'", s->name));
        expect_type(x, p->rate, TY_REAL,
                    arena_printf(x->mem, "the learning rate of predictor '%s'", s->name));
        expect_type(x, p->defer, TY_BOOL,
                    arena_printf(x->mem, "the defer condition of predictor '%s'", s->name));
        if (p->delay)
            check_duration(x, p->delay,
                           arena_printf(x->mem, "the delay of predictor '%s'", s->name), 0);
        if (p->init) {
            ast_type t = check_expr(x, p->init);
            const char *what = arena_printf(x->mem, "the initial weights of predictor '%s'",
                                            s->name);
            if (t == TY_ERROR) {
                /* reported */
            } else if (ty_is_vec(t) && p->n > 0 && t != TY_VEC(p->n)) {
                diag_report(x->diag, DIAG_ERROR, p->init->loc,
                            "%s must be a real (for every weight) or a %s (one per context "
                            "element), not %s", what, ast_type_name(TY_VEC(p->n)),
                            ast_type_name(t));
                diag_report(x->diag, DIAG_NOTE, p->context->loc, "the context is %s",
                            ast_type_name(p->context->type));
            } else if (t != TY_REAL && !ty_is_vec(t)) {
                diag_report(x->diag, DIAG_ERROR, p->init->loc,
                            "%s must be a real (for every weight) or a vector, not %s", what,
                            ast_type_name(t));
                mismatch_hint(x, t, TY_REAL);
            } else if (require_const(x, p->init, what)) {
                double v;
                for (int k = 0; k < ty_len(t); k++)
                    if (!const_here(x, p->init, k, &v)) {
                        diag_report(x->diag, DIAG_ERROR, p->init->loc, "%s must be constant",
                                    what);
                        break;
                    }
            }
        }
        break;
    }
    case SYM_INSTANCE:
        if (!s->hidden)
            check_instance_call(x, s->def, s->callee);
        break;
    default:
        break;
    }
    x->defining = -1;
}

/* ---- innate and learned ------------------------------------------------- */

/* Whether symbol i is learned at its source: a predictor and its fields, a
 * learned input, an instance output learned inside its circuit. */
static int learned_source(const sema_circuit *c, int i)
{
    const sema_sym *s = &c->syms[i];
    switch (s->kind) {
    case SYM_PREDICTOR:
        return 1;
    case SYM_INPUT:
        return s->item && s->item->attrs.learned;
    case SYM_INSTANCE:
        return s->callee && s->callee->n_outputs == 1 && s->callee->out_learned &&
               s->callee->out_learned[0];
    case SYM_FIELD: {
        const sema_sym *o = &c->syms[s->owner];
        if (o->kind == SYM_PREDICTOR)
            return 1;
        if (o->kind == SYM_INSTANCE)
            return o->callee && o->callee->out_learned && o->callee->out_learned[s->field];
        return 0;
    }
    default:
        return 0;
    }
}

static const char *source_why(sema_ctx *x, const sema_circuit *c, int i)
{
    const sema_sym *s = &c->syms[i];
    if (s->kind == SYM_PREDICTOR)
        return "is a predictor, which learns";
    if (s->kind == SYM_INPUT)
        return "is an input declared 'learned'";
    const sema_sym *o = s->kind == SYM_FIELD ? &c->syms[s->owner] : s;
    if (o->kind == SYM_PREDICTOR)
        return arena_printf(x->mem, "is a field of predictor '%s', which learns", o->name);
    const sema_circuit *cal = o->callee;
    int k = s->kind == SYM_FIELD ? s->field : 0;
    if (cal && k < cal->n_outputs)
        return arena_printf(x->mem,
                            "is output '%s' of circuit '%s', learned inside that circuit",
                            cal->syms[cal->outputs[k]].name, cal->name);
    return "is learned inside its circuit";
}

/* A learned signal among the dependencies of argument `arg`, bound to port
 * k of instance circuit `cal`, which feeds a heuristic there: reported at
 * the argument, once. */
static void report_learned_arg(sema_ctx *x, const sema_circuit *c, const sema_circuit *cal,
                               int k, const ast_expr *arg, const dep_node *deps,
                               const unsigned char *learned)
{
    const sema_sym *port = &cal->syms[iface_sym(cal, k)];
    for (int j = 0; j < deps->n; j++)
        if (learned[deps->edges[j].to]) {
            int w = deps->edges[j].to;
            diag_report(x->diag, DIAG_ERROR, arg->loc,
                        "a learned signal reaches heuristic '%s' of circuit '%s' "
                        "through its %s '%s'", cal->heur_of_input[k], cal->name,
                        kind_name(port), port->name);
            if (learned_source(c, w))
                diag_report(x->diag, DIAG_NOTE, deps->edges[j].at, "'%s' %s",
                            c->syms[w].name, source_why(x, c, w));
            else
                diag_report(x->diag, DIAG_NOTE, deps->edges[j].at,
                            "'%s' depends on something learned", c->syms[w].name);
            for (int h = 0; h < cal->n_syms; h++)
                if (cal->syms[h].kind == SYM_LET && cal->syms[h].let == LET_HEURISTIC &&
                    strcmp(cal->syms[h].name, cal->heur_of_input[k]) == 0) {
                    diag_report(x->diag, DIAG_NOTE, cal->syms[h].decl_loc,
                                "heuristic '%s' depends on %s '%s'",
                                cal->syms[h].name, kind_name(port), port->name);
                    break;
                }
            if (strchr(cal->heur_of_input[k], '.')) /* inside an instance there */
                diag_hint(x->diag, "a heuristic is innate: pass '%s' an innate signal",
                          port->name);
            else
                diag_hint(x->diag, "a heuristic is innate: pass '%s' an innate signal, "
                                   "or make '%s' a 'let' in circuit '%s'",
                          port->name, cal->heur_of_input[k], cal->name);
            break;
        }
}

/* Marks every symbol that depends on something learned; reports each
 * heuristic among them with one dependency path. Fills the summaries. */
static void check_learned(sema_ctx *x)
{
    sema_circuit *c = x->cur;
    int n = c->n_syms;
    dep_node *deps = build_graph(x, DEPS_ALL, NULL);
    /* users: the reverse graph, as counts then a flat array */
    int *first = arena_calloc(x->mem, (size_t)n + 2, sizeof *first);
    int total = 0;
    for (int v = 0; v < n; v++)
        for (int k = 0; k < deps[v].n; k++)
            first[deps[v].edges[k].to + 1]++;
    for (int v = 0; v < n; v++)
        first[v + 1] += first[v];
    total = first[n];
    int *users = arena_calloc(x->mem, (size_t)total + 1, sizeof *users);
    int *fill = arena_calloc(x->mem, (size_t)n + 1, sizeof *fill);
    for (int v = 0; v < n; v++)
        for (int k = 0; k < deps[v].n; k++) {
            int w = deps[v].edges[k].to;
            users[first[w] + fill[w]++] = v;
        }
    unsigned char *learned = arena_calloc(x->mem, (size_t)n + 1, 1);
    int *queue = arena_calloc(x->mem, (size_t)n + 1, sizeof *queue);
    int qh = 0, qt = 0;
    for (int i = 0; i < n; i++)
        if (learned_source(c, i)) {
            learned[i] = 1;
            queue[qt++] = i;
        }
    while (qh < qt) {
        int v = queue[qh++];
        for (int k = first[v]; k < first[v + 1]; k++)
            if (!learned[users[k]]) {
                learned[users[k]] = 1;
                queue[qt++] = users[k];
            }
    }
    /* Each learned heuristic, with the path to its learned source. */
    int *parent = arena_calloc(x->mem, (size_t)n + 1, sizeof *parent);
    src_loc *at = arena_calloc(x->mem, (size_t)n + 1, sizeof *at);
    for (int h = 0; h < n; h++) {
        if (c->syms[h].kind != SYM_LET || c->syms[h].let != LET_HEURISTIC || !learned[h])
            continue;
        for (int i = 0; i < n; i++)
            parent[i] = -2;
        qh = qt = 0;
        queue[qt++] = h;
        parent[h] = -1;
        int src = -1;
        while (qh < qt && src < 0) {
            int v = queue[qh++];
            if (learned_source(c, v)) {
                src = v;
                break;
            }
            for (int k = 0; k < deps[v].n; k++) {
                int w = deps[v].edges[k].to;
                if (parent[w] == -2 && learned[w]) {
                    parent[w] = v;
                    at[w] = deps[v].edges[k].at;
                    queue[qt++] = w;
                }
            }
        }
        if (src < 0)
            continue;
        int len = 0;
        size_t cap = 16;
        for (int v = src; v >= 0; v = parent[v]) {
            len++;
            cap += strlen(c->syms[v].name) + 4;
        }
        int *path = arena_calloc(x->mem, (size_t)len, sizeof *path);
        int k = len;
        for (int v = src; v >= 0; v = parent[v])
            path[--k] = v;
        char *text = arena_alloc(x->mem, cap), *p = text;
        for (int j = 0; j < len; j++)
            p += sprintf(p, "%s%s", j ? " -> " : "", c->syms[path[j]].name);
        diag_report(x->diag, DIAG_ERROR, c->syms[h].decl_loc,
                    "heuristic '%s' depends on something learned: %s", c->syms[h].name, text);
        for (int j = 1; j < len; j++)
            diag_report(x->diag, DIAG_NOTE, at[path[j]], "'%s' uses '%s' here",
                        c->syms[path[j - 1]].name, c->syms[path[j]].name);
        diag_report(x->diag, DIAG_NOTE, c->syms[src].decl_loc, "'%s' %s", c->syms[src].name,
                    source_why(x, c, src));
        diag_hint(x->diag, "a heuristic is innate: it may read raw inputs and other innate "
                           "signals only; make '%s' a 'let' if it is meant to use learned "
                           "signals", c->syms[h].name);
    }
    /* Summaries for instances of this circuit. */
    c->out_learned = arena_calloc(x->mem, (size_t)c->n_outputs + 1, 1);
    c->out_inputs = arena_calloc(x->mem, (size_t)c->n_outputs + 1, sizeof *c->out_inputs);
    int n_iface = c->n_inputs + c->n_params; /* inputs, then params */
    c->heur_inputs = arena_calloc(x->mem, (size_t)n_iface + 1, 1);
    c->heur_of_input = arena_calloc(x->mem, (size_t)n_iface + 1, sizeof *c->heur_of_input);
    int *input_no = arena_calloc(x->mem, (size_t)n + 1, sizeof *input_no);
    for (int i = 0; i < n; i++)
        input_no[i] = -1;
    for (int k = 0; k < n_iface; k++)
        input_no[iface_sym(c, k)] = k;
    unsigned char *seen = arena_calloc(x->mem, (size_t)n + 1, 1);
    /* Backward walks from each output (bounded work: past it, assume every
     * input matters, which is safe). */
    long long work = (long long)c->n_outputs * (n + total);
    for (int j = 0; j < c->n_outputs; j++) {
        c->out_learned[j] = learned[c->outputs[j]];
        c->out_inputs[j] = arena_calloc(x->mem, (size_t)n_iface + 1, 1);
        if (work > 20000000) {
            memset(c->out_inputs[j], 1, (size_t)n_iface);
            continue;
        }
        memset(seen, 0, (size_t)n);
        qh = qt = 0;
        queue[qt++] = c->outputs[j];
        seen[c->outputs[j]] = 1;
        while (qh < qt) {
            int v = queue[qh++];
            if (input_no[v] >= 0)
                c->out_inputs[j][input_no[v]] = 1;
            for (int k = 0; k < deps[v].n; k++)
                if (!seen[deps[v].edges[k].to]) {
                    seen[deps[v].edges[k].to] = 1;
                    queue[qt++] = deps[v].edges[k].to;
                }
        }
    }
    /* Which inputs and params reach a heuristic: this circuit's own, and
     * those of instances inside it (through the arguments feeding them). */
    memset(seen, 0, (size_t)n);
    const char **hname = arena_calloc(x->mem, (size_t)n + 1, sizeof *hname);
    qh = qt = 0;
    for (int i = 0; i < n; i++)
        if (c->syms[i].kind == SYM_LET && c->syms[i].let == LET_HEURISTIC) {
            seen[i] = 1;
            hname[i] = c->syms[i].name;
            queue[qt++] = i;
        }
    for (int i = 0; i < n; i++) {
        const sema_sym *s = &c->syms[i];
        if (s->kind != SYM_INSTANCE || !s->callee || !s->callee->heur_inputs || !s->def)
            continue;
        const sema_circuit *cal = s->callee;
        for (int k = 0; k < cal->n_inputs + cal->n_params; k++) {
            if (!cal->heur_inputs[k])
                continue;
            /* it feeds a heuristic there: report a learned argument, and
             * follow the argument back to this circuit's inputs */
            ast_expr *arg = bound_arg(cal, s->def, iface_sym(cal, k));
            if (!arg)
                continue;
            dep_node tmp = { 0 };
            collect_deps(x, &tmp, arg, DEPS_ALL);
            report_learned_arg(x, c, cal, k, arg, &tmp, learned);
            for (int j = 0; j < tmp.n; j++)
                if (!seen[tmp.edges[j].to]) {
                    seen[tmp.edges[j].to] = 1;
                    hname[tmp.edges[j].to] = arena_printf(x->mem, "%s.%s", s->name,
                                                          cal->heur_of_input[k]);
                    queue[qt++] = tmp.edges[j].to;
                }
        }
    }
    while (qh < qt) {
        int v = queue[qh++];
        if (input_no[v] >= 0 && !c->heur_inputs[input_no[v]]) {
            c->heur_inputs[input_no[v]] = 1;
            c->heur_of_input[input_no[v]] = hname[v];
        }
        for (int k = 0; k < deps[v].n; k++)
            if (!seen[deps[v].edges[k].to]) {
                seen[deps[v].edges[k].to] = 1;
                hname[deps[v].edges[k].to] = hname[v];
                queue[qt++] = deps[v].edges[k].to;
            }
    }
}

/* ---- circuits and modules ----------------------------------------------- */

static int count_syms(sema_ctx *x, const ast_circuit *ac)
{
    int n = 2; /* the total reward, and room */
    for (int i = 0; i < ac->n_items; i++) {
        const ast_item *it = ac->items[i];
        n += 3; /* a symbol and up to two fields */
        n += scan_calls(x, it->expr) + scan_calls(x, it->cond) + scan_calls(x, it->other) +
             scan_calls(x, it->attrs.strength) + scan_calls(x, it->attrs.refractory) +
             scan_calls(x, it->attrs.lo) + scan_calls(x, it->attrs.hi);
        for (int k = 0; k < it->clauses.len; k++)
            n += scan_calls(x, it->clauses.items[k].expr);
        if (it->kind == IT_LET && it->expr && it->expr->kind == EX_CALL && it->expr->ref)
            n += ((const sema_circuit *)it->expr->ref)->n_outputs;
    }
    return n;
}

static int check_circuit(sema_glob *g, sema_circuit *c)
{
    const ast_circuit *ac = c->ast;
    int errors_before = diag_errors(g->diag);
    c->checked = 1;
    g->stack[g->depth++] = c;
    sema_ctx ctx = { .mem = g->mem, .diag = g->diag, .g = g, .mod = c->mod, .defining = -1 };
    sema_ctx *x = &ctx;
    arena_vec_init(&x->deferred, sizeof(deferred_pre));
    /* Resolve the circuits this one instantiates (checking them first). */
    x->cur = c; /* empty table: lookups fail until declared */
    x->table_cap = 1;
    int empty = 0;
    x->table = &empty;
    c->n_syms = 0;
    int cap = count_syms(x, ac);
    c->syms = arena_calloc(x->mem, (size_t)cap + 1, sizeof *c->syms);
    x->table_cap = 16;
    while (x->table_cap < (size_t)cap * 2 + 2)
        x->table_cap *= 2;
    x->table = arena_calloc(x->mem, x->table_cap, sizeof *x->table);

    for (int i = 0; i < ac->n_items; i++)
        if (ac->items[i]->kind != IT_DEF && ac->items[i]->kind != IT_NEXT)
            declare(x, ac->items[i]);
    int n_rewards = 0;
    for (int i = 0; i < c->n_syms; i++)
        n_rewards += c->syms[i].kind == SYM_OUTPUT && c->syms[i].reward;
    if (n_rewards) {
        sema_sym *t = new_sym(x, "reward", SYM_OUTPUT, c->syms[0].decl_loc);
        t->reward = 2;
        t->type = TY_REAL;
        for (int i = 0; i < c->n_syms; i++)
            if (c->syms[i].reward == 1) {
                t->decl_loc = c->syms[i].decl_loc;
                break;
            }
    }
    for (int i = 0; i < ac->n_items; i++)
        if (ac->items[i]->kind == IT_DEF || ac->items[i]->kind == IT_NEXT)
            define(x, ac->items[i]);
    /* Hidden instances for calls of circuits inside expressions. */
    int n_declared = c->n_syms;
    for (int i = 0; i < n_declared; i++) {
        sema_sym *s = &c->syms[i];
        const ast_item *it = s->item;
        if (!it)
            continue;
        make_hidden(x, s->def, s->kind == SYM_INSTANCE);
        make_hidden(x, it->cond, 0);
        make_hidden(x, it->other, 0);
        make_hidden(x, it->attrs.strength, 0);
        if (s->kind == SYM_STATE)
            make_hidden(x, s->next, 0);
        for (int k = 0; k < it->clauses.len; k++)
            make_hidden(x, it->clauses.items[k].expr, 0);
    }
    /* Interface lists. */
    c->inputs = arena_calloc(x->mem, (size_t)c->n_syms + 1, sizeof(int));
    c->outputs = arena_calloc(x->mem, (size_t)c->n_syms + 1, sizeof(int));
    c->params = arena_calloc(x->mem, (size_t)c->n_syms + 1, sizeof(int));
    for (int i = 0; i < c->n_syms; i++) {
        if (c->syms[i].kind == SYM_INPUT)
            c->inputs[c->n_inputs++] = i;
        else if (c->syms[i].kind == SYM_OUTPUT)
            c->outputs[c->n_outputs++] = i;
        else if (c->syms[i].kind == SYM_PARAM)
            c->params[c->n_params++] = i;
    }
    x->state = arena_calloc(x->mem, (size_t)c->n_syms + 1, 1);
    x->self_use = arena_calloc(x->mem, (size_t)c->n_syms + 1, sizeof *x->self_use);

    type_lets(x);
    for (int i = 0; i < c->n_syms; i++)
        check_sym(x, i);
    check_deferred(x);
    order_definitions(x);
    for (int i = 0; i < c->n_syms; i++)
        if (x->self_use[i].file && !x->in_cycle[i]) {
            diag_report(x->diag, DIAG_ERROR, x->self_use[i],
                        "the type of '%s' depends on itself", c->syms[i].name);
            diag_hint(x->diag, "write its type: 'let %s : real = ...'", c->syms[i].name);
        }
    for (int i = 0; i < c->n_syms; i++) {
        const sema_sym *s = &c->syms[i];
        if (s->used || (x->suggested && x->suggested[i]) || s->hidden ||
            watched_by_scenario(c->mod->ast, s->name))
            continue;
        if (s->kind == SYM_LET || (s->kind == SYM_INSTANCE && s->callee && s->callee->n_outputs))
            diag_report(x->diag, DIAG_WARNING, s->decl_loc, "%s '%s' is never used",
                        kind_name(s), s->name);
    }
    check_learned(x);
    c->failed = diag_errors(x->diag) != errors_before;
    c->checked = 2;
    g->depth--;
    return !c->failed;
}

static void check_tick(sema_ctx *x, sema_module *m, const ast_module *am)
{
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
    x->mod = m;
    x->cur = NULL;
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
    } else if (!const_eval(NULL, m, e, 0, 0, &v, 0)) {
        diag_report(x->diag, DIAG_ERROR, e->loc, "the tick must be a constant duration");
    } else if (!(v > 0) || !isfinite(v)) {
        diag_report(x->diag, DIAG_ERROR, e->loc, "the tick must be a positive duration");
    } else {
        m->tick_seconds = v;
    }
}

static void setup_module(sema_ctx *x, sema_program *p, sema_module *m, const ast_module *am,
                         const char *name)
{
    m->ast = am;
    m->name = am->name ? am->name : name;
    check_tick(x, m, am);
    m->circuits = arena_calloc(x->mem, (size_t)am->n_circuits + 1, sizeof *m->circuits);
    /* Circuit names, hashed: a module may hold many circuits. */
    size_t cap = 16;
    while (cap < (size_t)am->n_circuits * 2 + 2)
        cap *= 2;
    int *seen = arena_calloc(x->mem, cap, sizeof *seen); /* circuit index + 1 */
    for (int i = 0; i < am->n_circuits; i++) {
        const ast_circuit *ac = am->circuits[i];
        size_t h = hash_str(ac->name) & (cap - 1);
        while (seen[h] && strcmp(am->circuits[seen[h] - 1]->name, ac->name) != 0)
            h = (h + 1) & (cap - 1);
        if (seen[h]) {
            diag_report(x->diag, DIAG_ERROR, ac->name_loc, "circuit '%s' is already defined",
                        ac->name);
            diag_report(x->diag, DIAG_NOTE, am->circuits[seen[h] - 1]->name_loc,
                        "first defined here");
            continue;
        }
        if (find_builtin(ac->name)) {
            diag_report(x->diag, DIAG_ERROR, ac->name_loc,
                        "'%s' is a built-in function and cannot name a circuit", ac->name);
            continue;
        }
        seen[h] = i + 1;
        sema_circuit *c = &m->circuits[m->n_circuits++];
        c->ast = ac;
        c->name = ac->name;
        c->mod = m;
    }
    m->consts = arena_calloc(x->mem, (size_t)am->n_consts + 1, sizeof *m->consts);
    for (int i = 0; i < am->n_consts; i++) {
        const ast_item *it = am->consts[i];
        for (int k = 0; k < m->n_consts; k++)
            if (strcmp(m->consts[k].item->name, it->name) == 0) {
                diag_report(x->diag, DIAG_ERROR, it->name_loc, "constant '%s' is already defined",
                            it->name);
                diag_report(x->diag, DIAG_NOTE, m->consts[k].item->name_loc, "first defined here");
                it = NULL;
                break;
            }
        if (it)
            m->consts[m->n_consts++] = (sema_const){ .item = it, .mod = m };
    }
    (void)p;
}

sema_program *sema_check(arena *mem, diag_ctx *diag, ast_module *const *asts,
                         const char *const *names, int n)
{
    sema_program *p = arena_calloc(mem, 1, sizeof *p);
    p->mods = arena_calloc(mem, (size_t)n + 1, sizeof *p->mods);
    p->n_mods = n;
    sema_glob g = { .mem = mem, .diag = diag, .prog = p };
    arena_vec_init(&g.ambiguous, sizeof(const char *));
    sema_ctx x = { .mem = mem, .diag = diag, .g = &g, .defining = -1 };
    arena_vec_init(&x.deferred, sizeof(deferred_pre));
    int total = 0;
    for (int i = 0; i < n; i++) {
        setup_module(&x, p, &p->mods[i], asts[i], names[i]);
        total += p->mods[i].n_circuits;
    }
    g.stack = arena_calloc(mem, (size_t)total + 1, sizeof *g.stack);
    /* Imports, by module name. */
    for (int i = 0; i < n; i++) {
        sema_module *m = &p->mods[i];
        const ast_module *am = asts[i];
        m->imports = arena_calloc(mem, (size_t)am->n_imports + 1, sizeof *m->imports);
        for (int k = 0; k < am->n_imports; k++)
            for (int j = 0; j < n; j++)
                if (j != i && strcmp(p->mods[j].name, am->imports[k].name) == 0) {
                    m->imports[m->n_imports++] = &p->mods[j];
                    break;
                }
    }
    for (int i = 0; i < n; i++) {
        sema_module *m = &p->mods[i];
        x.mod = m;
        x.cur = NULL;
        for (int k = 0; k < m->n_consts; k++)
            type_const(&x, &m->consts[k], (src_loc){ 0 });
    }
    for (int i = 0; i < n; i++)
        for (int k = 0; k < p->mods[i].n_circuits; k++)
            if (p->mods[i].circuits[k].checked == 0)
                check_circuit(&g, &p->mods[i].circuits[k]);
    return p;
}

double sema_round_ticks(double secs, double tick, double *exact)
{
    double q = secs / tick;
    double h = nearbyint(q * 2);
    if (fabs(q * 2 - h) <= 1e-9 * (fabs(q) > 1 ? fabs(q) : 1))
        q = h / 2;
    if (exact)
        *exact = q;
    return nearbyint(q);
}

const sema_circuit *sema_find_circuit(const sema_module *m, const char *name)
{
    for (int i = 0; i < m->n_circuits; i++)
        if (strcmp(m->circuits[i].name, name) == 0)
            return &m->circuits[i];
    return NULL;
}
