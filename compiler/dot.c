/* dot.c — a Graphviz drawing of a checked circuit (see dot.h for the
 * encoding). Works from sema's symbols and the expressions they point to. */
#include "dot.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the kinds of node and how each is drawn ---------------------------- */

typedef enum {
    K_INPUT, K_PARAM, K_HEURISTIC, K_REFLEX, K_PREDICTOR, K_GATE, K_ATTENTION, K_LET,
    K_STATE, K_OUTPUT, K_REWARD, K_TOTAL, K_PORT_IN, K_PORT_PARAM, K_PORT_OUT, N_KINDS
} dot_kind;

static const struct {
    const char *name, *shape, *fill;
} KINDS[N_KINDS] = {
    [K_INPUT] = { "input", "cds", "#cfe2ff" },
    [K_PARAM] = { "param", "note", "#e9ecef" },
    [K_HEURISTIC] = { "heuristic", "hexagon", "#d1f2d9" },
    [K_REFLEX] = { "reflex", "doubleoctagon", "#ffd6d6" },
    [K_PREDICTOR] = { "predictor", "box3d", "#e4d9ff" },
    [K_GATE] = { "gate", "invtrapezium", "#fff3bf" },
    [K_ATTENTION] = { "attention", "octagon", "#ffe0c2" },
    [K_LET] = { "let", "ellipse", "#ffffff" },
    [K_STATE] = { "state", "cylinder", "#d0f0f7" },
    [K_OUTPUT] = { "output", "invhouse", "#c3fae8" },
    [K_REWARD] = { "reward stream", "invhouse", "#ffe8a3" },
    [K_TOTAL] = { "total reward", "doublecircle", "#ffd43b" },
    [K_PORT_IN] = { "instance input", "rarrow", "#f8f9fa" },
    [K_PORT_PARAM] = { "instance param", "note", "#f8f9fa" },
    [K_PORT_OUT] = { "instance output", "rarrow", "#f8f9fa" },
};

#define LEARNED_COLOR "#c92a2a"
#define INNATE_EDGE "#495057"

enum { E_SAME = 0, E_PRE = 1, E_NEXT = 2, E_INNER = 3 };

typedef struct dedge {
    int from, to;
    const char *label; /* NULL: none */
    int style;
} dedge;

typedef struct dg {
    arena mem;
    const sema_circuit *c;
    int n_nodes;
    int *port_base;      /* per symbol: first port node of an instance, or -1 */
    const char **id;     /* per node */
    dedge *edges;
    int n_edges, cap_edges;
    unsigned char *learned;
    unsigned char *source; /* learned at its source */
    int oom;
} dg;

static void add_edge(dg *g, int from, int to, const char *label, int style)
{
    if (from < 0 || to < 0)
        return;
    for (int i = 0; i < g->n_edges; i++) {
        const dedge *e = &g->edges[i];
        if (e->from == from && e->to == to && e->style == style &&
            (e->label == label || (e->label && label && strcmp(e->label, label) == 0)))
            return;
    }
    if (g->n_edges == g->cap_edges) {
        int cap = g->cap_edges ? g->cap_edges * 2 : 32;
        dedge *ne = realloc(g->edges, (size_t)cap * sizeof *ne);
        if (!ne) {
            g->oom = 1;
            return;
        }
        g->edges = ne;
        g->cap_edges = cap;
    }
    g->edges[g->n_edges++] = (dedge){ from, to, label, style };
}

/* Ports of an instance: its callee's inputs, then params, then outputs. */
static int port_out(const dg *g, int inst, int k)
{
    const sema_circuit *cal = g->c->syms[inst].callee;
    if (!cal || g->port_base[inst] < 0 || k < 0 || k >= cal->n_outputs)
        return -1;
    return g->port_base[inst] + cal->n_inputs + cal->n_params + k;
}

static const char *field_name(const sema_sym *owner, int field)
{
    if (owner->kind == SYM_PREDICTOR)
        return field == FIELD_TARGET ? "target" : "error";
    if (owner->kind == SYM_REFLEX)
        return field == FIELD_STRENGTH ? "strength" : "onset";
    return NULL;
}

/* The node that stands for a read of symbol i, and the label it carries. */
static int read_node(const dg *g, int i, const char **label)
{
    const sema_circuit *c = g->c;
    *label = NULL;
    if (i < 0 || i >= c->n_syms)
        return -1;
    const sema_sym *s = &c->syms[i];
    switch (s->kind) {
    case SYM_CONST:
        return -1;
    case SYM_INSTANCE:
        return port_out(g, i, 0);
    case SYM_FIELD: {
        if (s->owner < 0 || s->owner >= c->n_syms)
            return -1;
        const sema_sym *o = &c->syms[s->owner];
        if (o->kind == SYM_INSTANCE)
            return port_out(g, s->owner, s->field);
        *label = field_name(o, s->field);
        return s->owner;
    }
    default:
        return i;
    }
}

static const char *join_label(dg *g, const char *a, const char *b)
{
    if (!a)
        return b;
    if (!b)
        return a;
    return arena_printf(&g->mem, "%s, %s", a, b);
}

/* Edges into node `to` from every signal expression e reads. */
static void walk(dg *g, const ast_expr *e, int to, const char *label, int style)
{
    while (e) {
        switch (e->kind) {
        case EX_NAME:
        case EX_FIELD: {
            const char *field;
            int from = read_node(g, e->sym, &field);
            add_edge(g, from, to, join_label(g, field, label), style);
            return;
        }
        case EX_UNARY:
        case EX_NAMED:
            e = e->lhs;
            continue;
        case EX_BINARY:
        case EX_INDEX:
            walk(g, e->lhs, to, label, style);
            e = e->rhs;
            continue;
        case EX_IF:
            walk(g, e->cond, to, label, style);
            walk(g, e->lhs, to, label, style);
            e = e->rhs;
            continue;
        case EX_CALL:
            if (e->ref) { /* an instance: read its (only) output */
                add_edge(g, port_out(g, e->sym, 0), to, label, style);
                return;
            }
            if (strcmp(e->name, "pre") == 0) {
                if (e->args.len > 0)
                    walk(g, e->args.items[0], to, join_label(g, "pre", label),
                         style == E_SAME ? E_PRE : style);
                for (int i = 1; i < e->args.len; i++)
                    walk(g, e->args.items[i], to, label, style);
                return;
            }
            /* fallthrough */
        case EX_VEC:
            for (int i = 0; i < e->args.len; i++)
                walk(g, e->args.items[i], to, label, style);
            return;
        default:
            return;
        }
    }
}

/* The callee symbol an instance argument binds, as a port index, or -1. */
static int bound_port(const sema_circuit *cal, const ast_expr *a, int *pos)
{
    if (a->kind == EX_NAMED) {
        for (int k = 0; k < cal->n_inputs; k++)
            if (cal->inputs[k] == a->sym)
                return k;
        for (int k = 0; k < cal->n_params; k++)
            if (cal->params[k] == a->sym)
                return cal->n_inputs + k;
        return -1;
    }
    int k = (*pos)++;
    return k < cal->n_inputs ? k : -1;
}

static void sym_edges(dg *g, int i)
{
    const sema_circuit *c = g->c;
    const sema_sym *s = &c->syms[i];
    switch (s->kind) {
    case SYM_LET:
        walk(g, s->def, i, NULL, E_SAME);
        if (s->let == LET_GATE && s->item) {
            walk(g, s->item->cond, i, "when", E_SAME);
            walk(g, s->item->other, i, "else", E_SAME);
        }
        break;
    case SYM_OUTPUT:
        if (s->reward == 2) {
            for (int k = 0; k < c->n_syms; k++)
                if (c->syms[k].kind == SYM_OUTPUT && c->syms[k].reward == 1)
                    add_edge(g, k, i, NULL, E_SAME);
        } else {
            walk(g, s->def, i, NULL, E_SAME);
        }
        break;
    case SYM_STATE:
        walk(g, s->next, i, "next", E_NEXT);
        break;
    case SYM_REFLEX:
        walk(g, s->def, i, NULL, E_SAME);
        if (s->item)
            walk(g, s->item->attrs.strength, i, "strength", E_SAME);
        break;
    case SYM_PREDICTOR:
        if (s->pred) {
            walk(g, s->pred->context, i, "context", E_SAME);
            walk(g, s->pred->supervisor, i, "supervisor", E_SAME);
            walk(g, s->pred->rate, i, "rate", E_SAME);
            walk(g, s->pred->defer, i, "defer", E_SAME);
        }
        break;
    case SYM_INSTANCE: {
        const sema_circuit *cal = s->callee;
        if (!cal || !s->def || g->port_base[i] < 0)
            break;
        int pos = 0;
        for (int k = 0; k < s->def->args.len; k++) {
            const ast_expr *a = s->def->args.items[k];
            int p = bound_port(cal, a, &pos);
            if (p >= 0)
                walk(g, a->kind == EX_NAMED ? a->lhs : a, g->port_base[i] + p, NULL, E_SAME);
        }
        for (int o = 0; o < cal->n_outputs; o++)
            for (int k = 0; cal->out_inputs && k < cal->n_inputs + cal->n_params; k++)
                if (cal->out_inputs[o] && cal->out_inputs[o][k])
                    add_edge(g, g->port_base[i] + k, port_out(g, i, o), NULL, E_INNER);
        break;
    }
    default:
        break;
    }
}

/* ---- learned paths ----------------------------------------------------- */

static void mark_learned(dg *g)
{
    const sema_circuit *c = g->c;
    g->learned = arena_calloc(&g->mem, (size_t)g->n_nodes + 1, 1);
    g->source = arena_calloc(&g->mem, (size_t)g->n_nodes + 1, 1);
    for (int i = 0; i < c->n_syms; i++) {
        const sema_sym *s = &c->syms[i];
        if (s->kind == SYM_PREDICTOR || (s->kind == SYM_INPUT && s->item && s->item->attrs.learned))
            g->source[i] = 1;
        if (s->kind == SYM_INSTANCE && s->callee && s->callee->out_learned)
            for (int o = 0; o < s->callee->n_outputs; o++)
                if (s->callee->out_learned[o] && port_out(g, i, o) >= 0)
                    g->source[port_out(g, i, o)] = 1;
    }
    memcpy(g->learned, g->source, (size_t)g->n_nodes);
    for (int changed = 1; changed;) {
        changed = 0;
        for (int k = 0; k < g->n_edges; k++) {
            const dedge *e = &g->edges[k];
            if (g->learned[e->from] && !g->learned[e->to]) {
                g->learned[e->to] = 1;
                changed = 1;
            }
        }
    }
}

/* ---- writing ----------------------------------------------------------- */

/* A quoted DOT string. */
static void put_quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        if (*s == '\n')
            fputs("\\n", out);
        else
            fputc(*s, out);
    }
    fputc('"', out);
}

static void put_attr(FILE *out, const char *name, const char *value, int *first)
{
    fputs(*first ? " [" : ", ", out);
    *first = 0;
    fprintf(out, "%s=", name);
    put_quoted(out, value);
}

static const char *duration_text(dg *g, double secs)
{
    if (secs != 0 && fabs(secs) < 1)
        return arena_printf(&g->mem, "%.6g ms", secs * 1000);
    if (fabs(secs) >= 60 && fmod(secs, 60) == 0)
        return arena_printf(&g->mem, "%.6g min", secs / 60);
    return arena_printf(&g->mem, "%.6g s", secs);
}

/* A constant duration expression as text, or NULL. */
static const char *const_duration(dg *g, const ast_expr *e)
{
    double v;
    if (!e || !sema_const_eval(g->c, g->c->mod, e, 0, g->c->mod->tick_seconds, &v))
        return NULL;
    return duration_text(g, v);
}

static dot_kind sym_kind(const sema_sym *s)
{
    switch (s->kind) {
    case SYM_INPUT: return K_INPUT;
    case SYM_PARAM: return K_PARAM;
    case SYM_STATE: return K_STATE;
    case SYM_REFLEX: return K_REFLEX;
    case SYM_PREDICTOR: return K_PREDICTOR;
    case SYM_OUTPUT: return s->reward == 2 ? K_TOTAL : s->reward ? K_REWARD : K_OUTPUT;
    case SYM_LET:
        return s->let == LET_HEURISTIC ? K_HEURISTIC
             : s->let == LET_ATTENTION ? K_ATTENTION
             : s->let == LET_GATE      ? K_GATE
                                       : K_LET;
    default: return N_KINDS;
    }
}

/* The second line of a node's label: its kind and what else is declared. */
static const char *sym_detail(dg *g, const sema_sym *s, dot_kind k)
{
    const char *type = s->type != TY_ERROR ? ast_type_name(s->type) : NULL;
    const char *t = type ? arena_printf(&g->mem, " : %s", type) : "";
    switch (k) {
    case K_INPUT:
        return arena_printf(&g->mem, "input%s%s", t,
                            s->item && s->item->attrs.learned ? " learned" : "");
    case K_PARAM:
        if (s->type == TY_REAL)
            return arena_printf(&g->mem, "param%s = %.6g", t, s->value);
        if (s->type == TY_BOOL)
            return arena_printf(&g->mem, "param%s = %s", t, s->value != 0 ? "true" : "false");
        if (s->type == TY_DUR)
            return arena_printf(&g->mem, "param%s = %s", t, duration_text(g, s->value));
        return arena_printf(&g->mem, "param%s", t);
    case K_REFLEX: {
        const char *d = s->item ? const_duration(g, s->item->cond) : NULL;
        const char *r = s->item ? const_duration(g, s->item->attrs.refractory) : NULL;
        return arena_printf(&g->mem, "reflex%s%s%s%s", d ? " for " : "", d ? d : "",
                            r ? " refractory " : "", r ? r : "");
    }
    case K_PREDICTOR: {
        const sema_pred *p = s->pred;
        if (!p)
            return "predictor";
        static const char *const squash[] = { "", " sigmoid", " tanh" };
        const char *d = p->delay ? const_duration(g, p->delay) : NULL;
        return arena_printf(&g->mem, "predictor %s%s%s%s", p->rule == PRED_NLMS ? "nlms" : "lms",
                            squash[p->squash], d ? " delay " : "", d ? d : "");
    }
    case K_REWARD:
        return "reward stream";
    case K_TOTAL:
        return "total reward";
    default:
        return arena_printf(&g->mem, "%s%s", KINDS[k].name, t);
    }
}

static void put_node(dg *g, FILE *out, const char *indent, int node, const char *name,
                     const char *detail, dot_kind k)
{
    int first = 1;
    fputs(indent, out);
    put_quoted(out, g->id[node]);
    put_attr(out, "label", detail ? arena_printf(&g->mem, "%s\n%s", name, detail) : name, &first);
    put_attr(out, "shape", KINDS[k].shape, &first);
    put_attr(out, "fillcolor", KINDS[k].fill, &first);
    if (g->learned[node]) {
        put_attr(out, "color", LEARNED_COLOR, &first);
        put_attr(out, "penwidth", "2.5", &first);
    }
    fputs("];\n", out);
}

static void put_legend(dg *g, FILE *out, const unsigned char *present)
{
    fputs("  subgraph \"cluster_legend\" {\n"
          "    label=\"legend\"; style=\"rounded,dashed\"; color=\"#adb5bd\"; fontsize=10;\n"
          "    node [fontsize=9, height=0.3];\n",
          out);
    /* The kinds drawn, in one column (one rank across the left-to-right flow). */
    fputs("    { rank=\"same\";\n", out);
    for (int k = 0; k < N_KINDS; k++) {
        if (!present[k])
            continue;
        int first = 1;
        fputs("      ", out);
        put_quoted(out, arena_printf(&g->mem, "legend:%s", KINDS[k].name));
        put_attr(out, "label", KINDS[k].name, &first);
        put_attr(out, "shape", KINDS[k].shape, &first);
        put_attr(out, "fillcolor", KINDS[k].fill, &first);
        fputs("];\n", out);
    }
    fputs("    }\n", out);
    static const struct {
        const char *label, *attrs;
    } EDGES[] = {
        { "reads (same tick)", "color=\"" INNATE_EDGE "\"" },
        { "pre / next: last tick", "style=\"dashed\", color=\"" INNATE_EDGE "\"" },
        { "inside an instance", "style=\"dotted\", color=\"" INNATE_EDGE "\"" },
        { "learned path", "color=\"" LEARNED_COLOR "\", penwidth=\"2.2\"" },
    };
    for (size_t k = 0; k < sizeof EDGES / sizeof EDGES[0]; k++) {
        fprintf(out,
                "    \"legend:e%zu:a\" [label=\"\", shape=\"point\", width=\"0.06\"];\n"
                "    \"legend:e%zu:b\" [label=\"\", shape=\"point\", width=\"0.06\"];\n"
                "    \"legend:e%zu:a\" -> \"legend:e%zu:b\" [label=\"%s\", fontsize=\"9\", %s];\n",
                k, k, k, k, EDGES[k].label, EDGES[k].attrs);
    }
    fprintf(out,
            "    \"legend:learned\" [label=\"learned\\n(depends on a predictor\\nor a learned "
            "input)\", shape=\"box\", fillcolor=\"#ffffff\", color=\"%s\", penwidth=\"2.5\"];\n",
            LEARNED_COLOR);
    fputs("  }\n", out);
}

static int fail(char **err, const char *msg)
{
    if (err)
        *err = strdup(msg);
    return -1;
}

int dot_write(FILE *out, const sema_circuit *c, char **err)
{
    if (err)
        *err = NULL;
    if (!c || !c->syms)
        return fail(err, "no circuit to draw");
    if (c->failed)
        return fail(err, "the circuit has errors");
    dg g = { 0 };
    arena_init(&g.mem);
    g.c = c;
    g.port_base = arena_calloc(&g.mem, (size_t)c->n_syms + 1, sizeof *g.port_base);
    int n = c->n_syms;
    for (int i = 0; i < c->n_syms; i++) {
        const sema_sym *s = &c->syms[i];
        g.port_base[i] = -1;
        if (s->kind == SYM_INSTANCE && s->callee) {
            g.port_base[i] = n;
            n += s->callee->n_inputs + s->callee->n_params + s->callee->n_outputs;
        }
    }
    g.n_nodes = n;
    g.id = arena_calloc(&g.mem, (size_t)n + 1, sizeof *g.id);
    for (int i = 0; i < c->n_syms; i++) {
        const sema_sym *s = &c->syms[i];
        g.id[i] = s->name;
        if (g.port_base[i] < 0)
            continue;
        const sema_circuit *cal = s->callee;
        for (int k = 0; k < cal->n_inputs; k++)
            g.id[g.port_base[i] + k] =
                arena_printf(&g.mem, "%s.%s", s->name, cal->syms[cal->inputs[k]].name);
        for (int k = 0; k < cal->n_params; k++)
            g.id[g.port_base[i] + cal->n_inputs + k] =
                arena_printf(&g.mem, "%s.%s", s->name, cal->syms[cal->params[k]].name);
        for (int k = 0; k < cal->n_outputs; k++)
            g.id[port_out(&g, i, k)] =
                arena_printf(&g.mem, "%s.%s", s->name, cal->syms[cal->outputs[k]].name);
    }
    for (int i = 0; i < c->n_syms; i++)
        sym_edges(&g, i);
    if (g.oom) {
        free(g.edges);
        arena_free(&g.mem);
        return fail(err, "out of memory");
    }
    mark_learned(&g);

    unsigned char present[N_KINDS] = { 0 };
    const char *mod = c->mod && c->mod->name ? c->mod->name : "";
    fputs("digraph ", out);
    put_quoted(out, c->name);
    fputs(" {\n", out);
    fputs("  graph [rankdir=\"LR\", labelloc=\"t\", fontname=\"Helvetica\", fontsize=\"14\", "
          "nodesep=\"0.3\", ranksep=\"0.5\", label=",
          out);
    put_quoted(out, arena_printf(&g.mem, "circuit %s%s%s", mod, *mod ? "." : "", c->name));
    fputs("];\n", out);
    fputs("  node [fontname=\"Helvetica\", fontsize=\"10\", style=\"filled\", "
          "color=\"#343a40\"];\n",
          out);
    fputs("  edge [fontname=\"Helvetica\", fontsize=\"9\", color=\"" INNATE_EDGE "\", "
          "arrowsize=\"0.7\"];\n",
          out);

    /* Nodes, in declaration order; instances as clusters. */
    for (int i = 0; i < c->n_syms; i++) {
        const sema_sym *s = &c->syms[i];
        dot_kind k = sym_kind(s);
        if (k != N_KINDS) {
            present[k] = 1;
            put_node(&g, out, "  ", i, s->name, sym_detail(&g, s, k), k);
            continue;
        }
        if (s->kind != SYM_INSTANCE || g.port_base[i] < 0)
            continue;
        const sema_circuit *cal = s->callee;
        fputs("  subgraph ", out);
        put_quoted(out, arena_printf(&g.mem, "cluster_%s", s->name));
        fputs(" {\n    label=", out);
        put_quoted(out, arena_printf(&g.mem, "%s : %s", s->name, cal->name));
        fputs(";\n    style=\"rounded,filled\"; fillcolor=\"#f1f3f5\"; color=\"#868e96\";\n", out);
        for (int p = 0; p < cal->n_inputs + cal->n_params + cal->n_outputs; p++) {
            int node = g.port_base[i] + p;
            const sema_sym *ps;
            dot_kind pk;
            if (p < cal->n_inputs) {
                ps = &cal->syms[cal->inputs[p]];
                pk = K_PORT_IN;
            } else if (p < cal->n_inputs + cal->n_params) {
                ps = &cal->syms[cal->params[p - cal->n_inputs]];
                pk = K_PORT_PARAM;
            } else {
                ps = &cal->syms[cal->outputs[p - cal->n_inputs - cal->n_params]];
                pk = K_PORT_OUT;
            }
            present[pk] = 1;
            const char *type = ps->type != TY_ERROR ? ast_type_name(ps->type) : NULL;
            const char *detail = type ? arena_printf(&g.mem, "%s : %s",
                                                     pk == K_PORT_IN      ? "input"
                                                     : pk == K_PORT_PARAM ? "param"
                                                                          : "output",
                                                     type)
                                      : NULL;
            put_node(&g, out, "    ", node, ps->name, detail, pk);
        }
        fputs("  }\n", out);
    }

    /* Edges, in the order of the definitions that read them. */
    for (int k = 0; k < g.n_edges; k++) {
        const dedge *e = &g.edges[k];
        int first = 1;
        fputs("  ", out);
        put_quoted(out, g.id[e->from]);
        fputs(" -> ", out);
        put_quoted(out, g.id[e->to]);
        if (e->label)
            put_attr(out, "label", e->label, &first);
        if (e->style == E_PRE || e->style == E_NEXT)
            put_attr(out, "style", "dashed", &first);
        else if (e->style == E_INNER)
            put_attr(out, "style", "dotted", &first);
        if (g.learned[e->from]) {
            put_attr(out, "color", LEARNED_COLOR, &first);
            put_attr(out, "penwidth", "2.2", &first);
        }
        if (!first)
            fputs("]", out);
        fputs(";\n", out);
    }
    put_legend(&g, out, present);
    fputs("}\n", out);
    free(g.edges);
    arena_free(&g.mem);
    if (ferror(out))
        return fail(err, "cannot write the drawing");
    return 0;
}

/* ---- rendering with Graphviz ------------------------------------------- */

static int on_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        char buf[4096];
        if (len > 0 && len + strlen(prog) + 2 < sizeof buf) {
            memcpy(buf, path, len);
            buf[len] = '/';
            strcpy(buf + len + 1, prog);
            if (access(buf, X_OK) == 0)
                return 1;
        }
        if (!end)
            break;
        path = end + 1;
    }
    return 0;
}

static int fail_fmt(char **err, const char *fmt, const char *a)
{
    if (err) {
        size_t n = strlen(fmt) + (a ? strlen(a) : 0) + 1;
        *err = malloc(n);
        if (*err)
            snprintf(*err, n, fmt, a ? a : "");
    }
    return -1;
}

int dot_render_svg(const char *dot_text, size_t len, const char *svg_path, char **err)
{
    if (err)
        *err = NULL;
    if (!on_path("dot"))
        return fail(err, "--svg needs Graphviz's 'dot' program, which is not installed (on "
                         "Debian: apt-get install graphviz); write the DOT text with -o instead");
    int fds[2];
    if (pipe(fds) != 0)
        return fail_fmt(err, "cannot start Graphviz: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return fail_fmt(err, "cannot start Graphviz: %s", strerror(errno));
    }
    if (pid == 0) {
        dup2(fds[0], 0);
        close(fds[0]);
        close(fds[1]);
        execlp("dot", "dot", "-Tsvg", "-o", svg_path, (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    /* A dot that exits early must not kill us with SIGPIPE. */
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
    size_t done = 0;
    int write_failed = 0;
    while (done < len) {
        ssize_t w = write(fds[1], dot_text + done, len - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            write_failed = 1;
            break;
        }
        done += (size_t)w;
    }
    close(fds[1]);
    signal(SIGPIPE, old_pipe);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return fail(err, "lost track of Graphviz's 'dot'");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || write_failed)
        return fail_fmt(err, "Graphviz's 'dot' failed to write %s (see its message above)",
                        svg_path);
    return 0;
}
