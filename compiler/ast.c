/* ast.c — constructors the grammar actions call, and the tree printer. */
#include "ast.h"

#include "rt.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *ast_type_name(ast_type t)
{
    static char bufs[4][24];
    static int next;
    if (ty_is_vec(t)) {
        char *b = bufs[next++ & 3];
        snprintf(b, sizeof bufs[0], "vec[%d]", ty_len(t));
        return b;
    }
    switch (t) {
    case TY_REAL: return "real";
    case TY_BOOL: return "bool";
    case TY_DUR: return "duration";
    default: return "<error>";
    }
}

const char *ast_op_text(ast_op op)
{
    static const char *t[] = {
        [OP_NEG] = "-", [OP_NOT] = "not", [OP_ADD] = "+", [OP_SUB] = "-",
        [OP_MUL] = "*", [OP_DIV] = "/", [OP_LT] = "<", [OP_LE] = "<=",
        [OP_GT] = ">", [OP_GE] = ">=", [OP_EQ] = "==", [OP_NE] = "!=",
        [OP_AND] = "and", [OP_OR] = "or", [OP_RANGE] = "..",
    };
    return t[op];
}

src_loc ast_span(src_loc a, src_loc b)
{
    src_loc r = a;
    r.end_line = b.end_line;
    r.end_col = b.end_col;
    return r;
}

static ast_expr *new_expr(ast_builder *b, ast_expr_kind k, src_loc loc)
{
    ast_expr *e = arena_alloc(b->mem, sizeof *e);
    e->kind = k;
    e->loc = loc;
    e->sym = -1;
    e->depth = 1;
    return e;
}

/* Bound the tree depth: report once per offending subtree and keep a flat
 * error node so later passes never recurse deeper than AST_MAX_DEPTH. */
static ast_expr *bound_depth(ast_builder *b, ast_expr *e, int child_depth)
{
    e->depth = child_depth + 1;
    if (e->depth <= AST_MAX_DEPTH)
        return e;
    if (child_depth == AST_MAX_DEPTH)
        diag_report(b->diag, DIAG_ERROR, e->loc,
                    "expression nested too deeply (the limit is %d levels)", AST_MAX_DEPTH);
    ast_expr *err = new_expr(b, EX_NUM, e->loc);
    err->type = TY_ERROR;
    err->depth = AST_MAX_DEPTH + 1; /* already reported: stays silent above */
    err->sym = -2;                  /* marks an error node for sema */
    return err;
}

/* A literal too large for a double is an error, not a silent infinity. */
static double literal_value(ast_builder *b, src_loc loc, const char *text, char **end)
{
    double v = strtod(text, end);
    if (!isfinite(v))
        diag_report(b->diag, DIAG_ERROR, loc, "the number is too large for a real");
    return v;
}

ast_expr *ast_num(ast_builder *b, src_loc loc, const char *text)
{
    ast_expr *e = new_expr(b, EX_NUM, loc);
    e->num = literal_value(b, loc, text, NULL);
    return e;
}

ast_expr *ast_dur(ast_builder *b, src_loc loc, const char *text)
{
    char *end;
    double v = literal_value(b, loc, text, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    ast_expr *e = new_expr(b, EX_DUR, loc);
    if (strcmp(end, "ms") == 0)
        e->num = v / 1000.0;
    else if (strcmp(end, "s") == 0)
        e->num = v;
    else if (strcmp(end, "min") == 0)
        e->num = v * 60.0;
    else { /* tick / ticks */
        e->kind = EX_TICKS;
        e->num = v;
    }
    if (isfinite(v) && !isfinite(e->num))
        diag_report(b->diag, DIAG_ERROR, loc, "the duration is too long for a real");
    return e;
}

ast_expr *ast_bool(ast_builder *b, src_loc loc, int value)
{
    ast_expr *e = new_expr(b, EX_BOOL, loc);
    e->num = value;
    return e;
}

ast_expr *ast_name(ast_builder *b, src_loc loc, const char *name)
{
    ast_expr *e = new_expr(b, EX_NAME, loc);
    e->name = name;
    return e;
}

ast_expr *ast_unary(ast_builder *b, src_loc loc, ast_op op, ast_expr *x)
{
    ast_expr *e = new_expr(b, EX_UNARY, loc);
    e->op = op;
    e->lhs = x;
    return bound_depth(b, e, x->depth);
}

ast_expr *ast_binary(ast_builder *b, src_loc loc, ast_op op, ast_expr *l, ast_expr *r)
{
    ast_expr *e = new_expr(b, EX_BINARY, loc);
    e->op = op;
    e->lhs = l;
    e->rhs = r;
    return bound_depth(b, e, l->depth > r->depth ? l->depth : r->depth);
}

ast_expr *ast_if(ast_builder *b, src_loc loc, ast_expr *c, ast_expr *t, ast_expr *f)
{
    ast_expr *e = new_expr(b, EX_IF, loc);
    e->cond = c;
    e->lhs = t;
    e->rhs = f;
    int d = c->depth;
    if (t->depth > d)
        d = t->depth;
    if (f->depth > d)
        d = f->depth;
    return bound_depth(b, e, d);
}

ast_expr *ast_call(ast_builder *b, src_loc loc, const char *name, ast_expr_list args)
{
    ast_expr *e = new_expr(b, EX_CALL, loc);
    e->name = name;
    e->args = args;
    int d = 0;
    for (int i = 0; i < args.len; i++)
        if (args.items[i]->depth > d)
            d = args.items[i]->depth;
    return bound_depth(b, e, d);
}

static int max_depth(ast_expr_list l)
{
    int d = 0;
    for (int i = 0; i < l.len; i++)
        if (l.items[i]->depth > d)
            d = l.items[i]->depth;
    return d;
}

ast_expr *ast_vec(ast_builder *b, src_loc loc, ast_expr_list items)
{
    ast_expr *e = new_expr(b, EX_VEC, loc);
    e->args = items;
    return bound_depth(b, e, max_depth(items));
}

ast_expr *ast_index(ast_builder *b, src_loc loc, ast_expr *v, ast_expr *i)
{
    ast_expr *e = new_expr(b, EX_INDEX, loc);
    e->lhs = v;
    e->rhs = i;
    return bound_depth(b, e, v->depth > i->depth ? v->depth : i->depth);
}

ast_expr *ast_field(ast_builder *b, src_loc loc, const char *name, const char *field)
{
    ast_expr *e = new_expr(b, EX_FIELD, loc);
    e->name = name;
    e->field = field;
    return e;
}

ast_expr *ast_named(ast_builder *b, src_loc loc, const char *name, ast_expr *x)
{
    ast_expr *e = new_expr(b, EX_NAMED, loc);
    e->name = name;
    e->lhs = x;
    return bound_depth(b, e, x->depth);
}

ast_expr *ast_call1(ast_builder *b, src_loc loc, const char *name, ast_expr *arg)
{
    return ast_call(b, loc, name, ast_args_add(b, ast_args_empty(), arg));
}

ast_expr_list ast_args_empty(void) { return (ast_expr_list){ 0 }; }

ast_expr_list ast_args_add(ast_builder *b, ast_expr_list l, ast_expr *e)
{
    /* The parser hands each list on once, so growing it in place is safe. */
    if (l.len == l.cap) {
        int cap = l.cap ? l.cap * 2 : 4;
        ast_expr **items = arena_calloc(b->mem, (size_t)cap, sizeof *items);
        if (l.len)
            memcpy(items, l.items, (size_t)l.len * sizeof *items);
        l.items = items;
        l.cap = cap;
    }
    l.items[l.len++] = e;
    return l;
}

void ast_import_add(ast_builder *b, src_loc loc, const char *name)
{
    ast_module *m = b->module;
    for (int i = 0; i < m->n_imports; i++)
        if (strcmp(m->imports[i].name, name) == 0) {
            diag_report(b->diag, DIAG_WARNING, loc, "'%s' is already imported", name);
            diag_report(b->diag, DIAG_NOTE, m->imports[i].loc, "imported here");
            return;
        }
    if (m->n_imports == m->cap_imports) {
        int cap = m->cap_imports ? m->cap_imports * 2 : 4;
        ast_import *n = arena_calloc(b->mem, (size_t)cap, sizeof *n);
        if (m->n_imports)
            memcpy(n, m->imports, (size_t)m->n_imports * sizeof *n);
        m->imports = n;
        m->cap_imports = cap;
    }
    m->imports[m->n_imports++] = (ast_import){ name, loc };
}

ast_type ast_vec_type(ast_builder *b, src_loc loc, const char *text)
{
    char *end;
    double n = strtod(text, &end);
    if (*end || n != floor(n) || n < 1 || n > AST_MAX_VEC) {
        diag_report(b->diag, DIAG_ERROR, loc,
                    "a vector length must be a whole number from 1 to %d, not %s", AST_MAX_VEC,
                    text);
        return TY_ERROR;
    }
    return TY_VEC((int)n);
}

void ast_module_name(ast_builder *b, src_loc loc, const char *name)
{
    ast_module *m = b->module;
    if (m->name) {
        diag_report(b->diag, DIAG_ERROR, loc, "the module is already named '%s'", m->name);
        diag_report(b->diag, DIAG_NOTE, m->name_loc, "named here");
        return;
    }
    if (m->n_circuits > 0)
        diag_report(b->diag, DIAG_ERROR, loc, "'module' must come before the first circuit");
    m->name = name;
    m->name_loc = loc;
}

const char *ast_dotted(ast_builder *b, const char *prefix, const char *name)
{
    return arena_printf(b->mem, "%s.%s", prefix, name);
}

void ast_module_tick(ast_builder *b, src_loc loc, ast_expr *e)
{
    ast_module *m = b->module;
    if (m->tick) {
        diag_report(b->diag, DIAG_ERROR, loc, "the tick is already set");
        diag_report(b->diag, DIAG_NOTE, m->tick_loc, "set here");
        return;
    }
    if (m->n_circuits > 0)
        diag_report(b->diag, DIAG_ERROR, loc, "'tick' must come before the first circuit");
    m->tick = e;
    m->tick_loc = loc;
}

void ast_circuit_begin(ast_builder *b, src_loc loc, const char *name)
{
    ast_module *m = b->module;
    ast_circuit *c = arena_alloc(b->mem, sizeof *c);
    c->name = name;
    c->loc = loc;
    c->name_loc = loc;
    if (m->n_circuits == m->cap_circuits) {
        int cap = m->cap_circuits ? m->cap_circuits * 2 : 4;
        ast_circuit **n = arena_calloc(b->mem, (size_t)cap, sizeof *n);
        if (m->n_circuits)
            memcpy(n, m->circuits, (size_t)m->n_circuits * sizeof *n);
        m->circuits = n;
        m->cap_circuits = cap;
    }
    m->circuits[m->n_circuits++] = c;
    b->circuit = c;
}

void ast_circuit_end(ast_builder *b, src_loc loc)
{
    if (b->circuit)
        b->circuit->loc = ast_span(b->circuit->loc, loc);
    b->circuit = NULL;
}

ast_item *ast_item_add(ast_builder *b, ast_item_kind k, src_loc loc, src_loc name_loc,
                       const char *name, ast_type t, src_loc type_loc, ast_expr *e)
{
    ast_circuit *c = b->circuit;
    ast_item *it = arena_alloc(b->mem, sizeof *it);
    it->kind = k;
    it->loc = loc;
    it->name_loc = name_loc;
    it->name = name;
    it->decl_type = t;
    it->type_loc = type_loc;
    it->expr = e;
    if (!c) {
        ast_module *m = b->module;
        if (m->n_consts == m->cap_consts) {
            int cap = m->cap_consts ? m->cap_consts * 2 : 8;
            ast_item **n = arena_calloc(b->mem, (size_t)cap, sizeof *n);
            if (m->n_consts)
                memcpy(n, m->consts, (size_t)m->n_consts * sizeof *n);
            m->consts = n;
            m->cap_consts = cap;
        }
        m->consts[m->n_consts++] = it;
        return it;
    }
    if (c->n_items == c->cap_items) {
        int cap = c->cap_items ? c->cap_items * 2 : 16;
        ast_item **n = arena_calloc(b->mem, (size_t)cap, sizeof *n);
        if (c->n_items)
            memcpy(n, c->items, (size_t)c->n_items * sizeof *n);
        c->items = n;
        c->cap_items = cap;
    }
    c->items[c->n_items++] = it;
    return it;
}

void ast_decl(ast_builder *b, ast_item_kind k, src_loc loc, src_loc name_loc, const char *name,
              ast_type t, src_loc type_loc, ast_attrs attrs, ast_expr *e)
{
    ast_item *it = ast_item_add(b, k, loc, name_loc, name, t, type_loc, e);
    it->attrs = attrs;
}

void ast_gate(ast_builder *b, src_loc loc, src_loc name_loc, const char *name, ast_expr *value,
              ast_expr *when, ast_expr *other)
{
    ast_item *it = ast_item_add(b, IT_GATE, loc, name_loc, name, TY_ERROR, name_loc, value);
    it->cond = when;
    it->other = other;
}

void ast_reflex(ast_builder *b, src_loc loc, src_loc name_loc, const char *name, ast_expr *cond,
                ast_expr *dur, ast_attrs attrs)
{
    ast_item *it = ast_item_add(b, IT_REFLEX, loc, name_loc, name, TY_BOOL, name_loc, cond);
    it->cond = dur;
    it->attrs = attrs;
}

void ast_predictor(ast_builder *b, src_loc loc, src_loc name_loc, const char *name,
                   ast_clause_list clauses)
{
    ast_item *it = ast_item_add(b, IT_PREDICTOR, loc, name_loc, name, TY_REAL, name_loc, NULL);
    it->clauses = clauses;
}

ast_attrs ast_attrs_none(void) { return (ast_attrs){ 0 }; }

static void twice(ast_builder *b, src_loc loc, const char *what)
{
    diag_report(b->diag, DIAG_ERROR, loc, "'%s' is given twice", what);
}

ast_attrs ast_attrs_range(ast_builder *b, ast_attrs a, src_loc loc, ast_expr *lo, ast_expr *hi)
{
    if (a.lo)
        twice(b, loc, "in [lo, hi]");
    a.lo = lo;
    a.hi = hi;
    a.range_loc = loc;
    return a;
}

ast_attrs ast_attrs_learned(ast_builder *b, ast_attrs a, src_loc loc)
{
    if (a.learned)
        twice(b, loc, "learned");
    a.learned = 1;
    return a;
}

ast_attrs ast_attrs_refractory(ast_builder *b, ast_attrs a, src_loc loc, ast_expr *e)
{
    if (a.refractory)
        twice(b, loc, "refractory");
    a.refractory = e;
    return a;
}

ast_attrs ast_attrs_strength(ast_builder *b, ast_attrs a, src_loc loc, ast_expr *e)
{
    if (a.strength)
        twice(b, loc, "strength");
    a.strength = e;
    return a;
}

ast_clause_list ast_clauses_empty(void) { return (ast_clause_list){ 0 }; }

ast_clause_list ast_clauses_broken(ast_clause_list l)
{
    l.broken = 1;
    return l;
}

ast_clause_list ast_clauses_add(ast_builder *b, ast_clause_list l, src_loc loc, const char *name,
                                ast_expr *e)
{
    if (l.len == l.cap) {
        int cap = l.cap ? l.cap * 2 : 8;
        ast_clause *items = arena_calloc(b->mem, (size_t)cap, sizeof *items);
        if (l.len)
            memcpy(items, l.items, (size_t)l.len * sizeof *items);
        l.items = items;
        l.cap = cap;
    }
    l.items[l.len++] = (ast_clause){ name, loc, e };
    return l;
}

/* ---- scenarios ---------------------------------------------------------- */

ast_expr *ast_measure(ast_builder *b, src_loc loc, const char *variant, const char *fn,
                      ast_expr_list args)
{
    ast_expr *e = ast_call(b, loc, fn, args);
    e->field = variant;
    return e;
}

static ast_scn_item *scn_item(ast_builder *b, ast_scn_kind k, src_loc loc)
{
    ast_scn_item *it = arena_alloc(b->mem, sizeof *it);
    it->kind = k;
    it->loc = loc;
    it->name_loc = loc;
    ast_scn_item *to = b->scn_items;
    if (!to)
        return it; /* outside a scenario after a syntax error: dropped */
    if (to->n_items == to->cap_items) {
        int cap = to->cap_items ? to->cap_items * 2 : 8;
        ast_scn_item **n = arena_calloc(b->mem, (size_t)cap, sizeof *n);
        if (to->n_items)
            memcpy(n, to->items, (size_t)to->n_items * sizeof *n);
        to->items = n;
        to->cap_items = cap;
    }
    to->items[to->n_items++] = it;
    return it;
}

void ast_scenario_begin(ast_builder *b, src_loc name_loc, const char *name, ast_expr *length)
{
    ast_module *m = b->module;
    ast_scenario *s = arena_alloc(b->mem, sizeof *s);
    s->name = name;
    s->loc = s->name_loc = name_loc;
    s->length = length;
    if (m->n_scenarios == m->cap_scenarios) {
        int cap = m->cap_scenarios ? m->cap_scenarios * 2 : 4;
        ast_scenario **n = arena_calloc(b->mem, (size_t)cap, sizeof *n);
        if (m->n_scenarios)
            memcpy(n, m->scenarios, (size_t)m->n_scenarios * sizeof *n);
        m->scenarios = n;
        m->cap_scenarios = cap;
    }
    m->scenarios[m->n_scenarios++] = s;
    b->scenario = s;
    b->scn_items = &s->top;
}

void ast_scenario_end(ast_builder *b)
{
    b->scenario = NULL;
    b->scn_items = NULL;
}

void ast_scn_circuit(ast_builder *b, src_loc loc, src_loc name_loc, const char *name)
{
    ast_scn_item *it = scn_item(b, SC_CIRCUIT, loc);
    it->name_loc = name_loc;
    it->name = name;
}

void ast_scn_seed(ast_builder *b, src_loc loc, ast_expr *e) { scn_item(b, SC_SEED, loc)->expr = e; }

void ast_scn_param(ast_builder *b, src_loc loc, src_loc name_loc, const char *name, ast_expr *e)
{
    ast_scn_item *it = scn_item(b, SC_PARAM, loc);
    it->name_loc = name_loc;
    it->name = name;
    it->expr = e;
}

void ast_scn_set(ast_builder *b, src_loc loc, src_loc name_loc, const char *name,
                 ast_expr *index, ast_expr *e)
{
    ast_scn_item *it = scn_item(b, SC_SET, loc);
    it->name_loc = name_loc;
    it->name = name;
    it->index = index;
    it->expr = e;
}

ast_scn_item *ast_scn_timing(ast_builder *b, src_loc loc, int kind, ast_expr *when,
                             ast_expr *len, ast_expr *window)
{
    ast_scn_item *it = scn_item(b, SC_BLOCK, loc);
    it->timing = kind;
    it->when = when;
    it->len = len;
    it->window = window;
    return it;
}

void ast_scn_block_begin(ast_builder *b, ast_scn_item *block)
{
    if (!b->scn_items)
        return;
    block->parent = b->scn_items;
    b->scn_items = block;
}

void ast_scn_block_end(ast_builder *b, ast_scn_item *block, src_loc end)
{
    block->loc = ast_span(block->loc, end);
    if (b->scn_items == block)
        b->scn_items = block->parent;
}

void ast_scn_variant_begin(ast_builder *b, src_loc loc, src_loc name_loc, const char *name)
{
    ast_scn_item *it = scn_item(b, SC_VARIANT, loc);
    it->name_loc = name_loc;
    it->name = name;
    if (!b->scn_items)
        return;
    it->parent = b->scn_items;
    b->scn_items = it;
}

void ast_scn_variant_end(ast_builder *b, src_loc end)
{
    ast_scn_item *it = b->scn_items;
    if (it && it->kind == SC_VARIANT) {
        it->loc = ast_span(it->loc, end);
        b->scn_items = it->parent;
    }
}

void ast_scn_expect(ast_builder *b, src_loc loc, ast_expr *e) { scn_item(b, SC_EXPECT, loc)->expr = e; }

void ast_scn_plot(ast_builder *b, src_loc loc, ast_expr_list signals)
{
    scn_item(b, SC_PLOT, loc)->plots = signals;
}

static void print_expr(FILE *f, const ast_expr *e)
{
    char buf[32];
    switch (e->kind) {
    case EX_NUM: fputs(rt_fmt_f64(buf, e->num), f); break;
    case EX_DUR: fprintf(f, "%ss", rt_fmt_f64(buf, e->num)); break;
    case EX_TICKS: fprintf(f, "%sticks", rt_fmt_f64(buf, e->num)); break;
    case EX_BOOL: fputs(e->num != 0 ? "true" : "false", f); break;
    case EX_NAME: fputs(e->name, f); break;
    case EX_UNARY:
        fprintf(f, "(%s ", ast_op_text(e->op));
        print_expr(f, e->lhs);
        fputc(')', f);
        break;
    case EX_BINARY:
        fprintf(f, "(%s ", ast_op_text(e->op));
        print_expr(f, e->lhs);
        fputc(' ', f);
        print_expr(f, e->rhs);
        fputc(')', f);
        break;
    case EX_IF:
        fputs("(if ", f);
        print_expr(f, e->cond);
        fputc(' ', f);
        print_expr(f, e->lhs);
        fputc(' ', f);
        print_expr(f, e->rhs);
        fputc(')', f);
        break;
    case EX_CALL:
    case EX_VEC:
        if (e->kind == EX_CALL && e->field)
            fprintf(f, "(%s.%s", e->field, e->name);
        else
            fprintf(f, "(%s", e->kind == EX_VEC ? "vec" : e->name);
        for (int i = 0; i < e->args.len; i++) {
            fputc(' ', f);
            print_expr(f, e->args.items[i]);
        }
        fputc(')', f);
        break;
    case EX_INDEX:
        fputs("(index ", f);
        print_expr(f, e->lhs);
        fputc(' ', f);
        print_expr(f, e->rhs);
        fputc(')', f);
        break;
    case EX_FIELD:
        fprintf(f, "%s.%s", e->name, e->field);
        break;
    case EX_NAMED:
        fprintf(f, "(= %s ", e->name);
        print_expr(f, e->lhs);
        fputc(')', f);
        break;
    }
}

static void print_opt(FILE *f, const char *what, const ast_expr *e)
{
    if (!e)
        return;
    fprintf(f, " (%s ", what);
    print_expr(f, e);
    fputc(')', f);
}

static void print_item(FILE *f, const ast_item *it, const char *indent)
{
    static const char *kinds[] = {
        "input", "output", "param", "let", "def", "const", "state", "next",
        "heuristic", "attention", "gate", "reflex", "predictor", "reward",
    };
    fprintf(f, "%s(%s %s", indent, kinds[it->kind], it->name);
    if (it->decl_type != TY_ERROR && it->kind != IT_REFLEX && it->kind != IT_PREDICTOR)
        fprintf(f, " : %s", ast_type_name(it->decl_type));
    if (it->attrs.lo) {
        fputs(" (in ", f);
        print_expr(f, it->attrs.lo);
        fputc(' ', f);
        print_expr(f, it->attrs.hi);
        fputc(')', f);
    }
    if (it->attrs.learned)
        fputs(" learned", f);
    if (it->expr) {
        fputc(' ', f);
        print_expr(f, it->expr);
    }
    print_opt(f, it->kind == IT_GATE ? "when" : "for", it->cond);
    print_opt(f, "else", it->other);
    print_opt(f, "refractory", it->attrs.refractory);
    print_opt(f, "strength", it->attrs.strength);
    for (int i = 0; i < it->clauses.len; i++)
        print_opt(f, it->clauses.items[i].name, it->clauses.items[i].expr);
    fputs(")\n", f);
}

static void print_scn_items(FILE *f, const ast_scn_item *top, int depth)
{
    static const char *kinds[] = { "circuit", "seed", "param", "set", "block",
                                   "variant", "expect", "plot" };
    for (int i = 0; i < top->n_items; i++) {
        const ast_scn_item *it = top->items[i];
        fprintf(f, "%*s(%s", 4 + 2 * depth, "", kinds[it->kind]);
        if (it->name)
            fprintf(f, " %s", it->name);
        if (it->index) {
            fputc('[', f);
            print_expr(f, it->index);
            fputc(']', f);
        }
        if (it->expr) {
            fputc(' ', f);
            print_expr(f, it->expr);
        }
        for (int k = 0; k < it->plots.len; k++) {
            fputc(' ', f);
            print_expr(f, it->plots.items[k]);
        }
        if (it->kind == SC_BLOCK) {
            fputs(it->timing == 'a' ? " at" : it->timing == 'd' ? " during" : " every", f);
            print_opt(f, "when", it->when);
            print_opt(f, "for", it->len);
            print_opt(f, "during", it->window);
        }
        if (it->kind == SC_BLOCK || it->kind == SC_VARIANT) {
            fputc('\n', f);
            print_scn_items(f, it, depth + 1);
            fprintf(f, "%*s", 4 + 2 * depth, "");
        }
        fputs(")\n", f);
    }
}

void ast_print(FILE *f, const ast_module *m)
{
    fprintf(f, "(module %s", m->name ? m->name : "<unnamed>");
    if (m->tick) {
        fputs(" (tick ", f);
        print_expr(f, m->tick);
        fputc(')', f);
    }
    fputc('\n', f);
    for (int i = 0; i < m->n_imports; i++)
        fprintf(f, "  (import %s)\n", m->imports[i].name);
    for (int i = 0; i < m->n_consts; i++)
        print_item(f, m->consts[i], "  ");
    for (int i = 0; i < m->n_circuits; i++) {
        const ast_circuit *c = m->circuits[i];
        fprintf(f, "  (circuit %s\n", c->name);
        for (int j = 0; j < c->n_items; j++)
            print_item(f, c->items[j], "    ");
        fputs("  )\n", f);
    }
    for (int i = 0; i < m->n_scenarios; i++) {
        const ast_scenario *s = m->scenarios[i];
        fprintf(f, "  (scenario %s (for ", s->name);
        print_expr(f, s->length);
        fputs(")\n", f);
        print_scn_items(f, &s->top, 0);
        fputs("  )\n", f);
    }
    fputs(")\n", f);
}
