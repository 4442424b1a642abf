/* explain.c — traces of chosen signals and the reward breakdown of one tick;
 * see explain.h. */
#include "explain.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

/* The base of a vector element's name ("v" of "v[2]"), or NULL. */
static const char *vec_base(arena *mem, const char *name)
{
    size_t n = strlen(name);
    if (n < 4 || name[n - 1] != ']')
        return NULL;
    const char *lb = strrchr(name, '[');
    if (!lb || lb == name)
        return NULL;
    for (const char *p = lb + 1; p < name + n - 1; p++)
        if (*p < '0' || *p > '9')
            return NULL;
    return arena_strndup(mem, name, (size_t)(lb - name));
}

typedef struct field_ref {
    const rt_field *f;
    rt_block block;
} field_ref;

/* Every field of c, inputs, outputs (probes included) and params. */
static field_ref *all_fields(arena *mem, const rt_circuit *c, uint32_t *n)
{
    uint32_t total = c->n_inputs + c->n_outputs + c->n_params, k = 0;
    field_ref *all = arena_calloc(mem, (size_t)total + 1, sizeof *all);
    for (uint32_t i = 0; i < c->n_inputs; i++)
        all[k++] = (field_ref){ &c->inputs[i], RT_BLOCK_IN };
    for (uint32_t i = 0; i < c->n_outputs; i++)
        all[k++] = (field_ref){ &c->outputs[i], RT_BLOCK_OUT };
    for (uint32_t i = 0; i < c->n_params; i++)
        all[k++] = (field_ref){ &c->params[i], RT_BLOCK_STATE };
    *n = k;
    return all;
}

int explain_columns(arena *mem, diag_ctx *d, const rt_circuit *c, const char *list,
                    rt_column **cols, uint32_t *n)
{
    uint32_t nf;
    field_ref *all = all_fields(mem, c, &nf);
    /* Names to suggest: every field, vectors by their base name too. */
    const char **names = arena_calloc(mem, (size_t)nf * 2 + 1, sizeof *names);
    size_t nn = 0;
    for (uint32_t i = 0; i < nf; i++) {
        const char *b = vec_base(mem, all[i].f->name);
        names[nn++] = b ? b : all[i].f->name;
    }
    unsigned char *taken = arena_calloc(mem, (size_t)nf + 1, 1);
    rt_column *out = arena_calloc(mem, (size_t)nf + 1, sizeof *out);
    uint32_t k = 0;
    int ok = 1, any = 0;
    const char *p = list;
    while (1) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t'))
            p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        char *want = arena_strndup(mem, p, len);
        if (len && strcmp(want, "tick") != 0 && strcmp(want, "time") != 0) {
            any = 1;
            int found = 0;
            for (uint32_t i = 0; i < nf; i++) {
                const char *b = vec_base(mem, all[i].f->name);
                if (strcmp(all[i].f->name, want) == 0 || (b && strcmp(b, want) == 0)) {
                    found = 1;
                    /* One column per name (an instance's field and its inner
                     * signal may both be probed under "c.y"). */
                    for (uint32_t j = 0; j < k && !taken[i]; j++)
                        taken[i] = strcmp(out[j].field->name, all[i].f->name) == 0;
                    if (!taken[i])
                        out[k++] = (rt_column){ all[i].f, all[i].block };
                    taken[i] = 1;
                }
            }
            if (!found) {
                diag_plain(d, DIAG_ERROR, "--trace-signals: %s has no signal named '%s'",
                           c->name, want);
                const char *s = diag_suggest(want, names, nn);
                if (s)
                    diag_hint(d, "did you mean '%s'?", s);
                else
                    diag_hint(d, "signals are named as in the source: inputs, outputs, lets, "
                                 "reward streams, 'p.error', 'r.strength', 'inst.y'");
                ok = 0;
            }
        }
        if (!e)
            break;
        p = e + 1;
    }
    if (ok && !any) {
        diag_plain(d, DIAG_ERROR, "--trace-signals needs at least one signal name");
        ok = 0;
    }
    *cols = out;
    *n = k;
    return ok;
}

void explain_default_columns(arena *mem, const rt_circuit *c, int with_inputs, rt_column **cols,
                             uint32_t *n)
{
    rt_column *out = arena_calloc(mem, (size_t)c->n_inputs + c->n_outputs + 1, sizeof *out);
    uint32_t k = 0;
    for (uint32_t i = 0; with_inputs && i < c->n_inputs; i++)
        out[k++] = (rt_column){ &c->inputs[i], RT_BLOCK_IN };
    for (uint32_t i = 0; i < c->n_outputs; i++)
        if (c->outputs[i].role != IR_ROLE_PROBE)
            out[k++] = (rt_column){ &c->outputs[i], RT_BLOCK_OUT };
    *cols = out;
    *n = k;
}

int explain_parse_tick(const char *text, double tick_seconds, long *tick)
{
    char *end;
    if (!text || !*text || *text == '-' || *text == '+')
        return 0;
    double v = strtod(text, &end);
    if (end == text || !isfinite(v) || v < 0)
        return 0;
    double secs;
    if (*end == 0) {
        if (v != floor(v) || v > 1e15)
            return 0; /* a tick number is whole */
        *tick = (long)v;
        return 1;
    }
    if (!strcmp(end, "s"))
        secs = v;
    else if (!strcmp(end, "ms"))
        secs = v / 1000;
    else if (!strcmp(end, "min"))
        secs = v * 60;
    else
        return 0;
    if (!(tick_seconds > 0) || secs / tick_seconds > 1e15)
        return 0;
    *tick = (long)sema_round_ticks(secs, tick_seconds, NULL);
    return 1;
}

/* The watched tick's blocks and the previous tick's (for pre(x)). */
struct explain_ctx {
    const sema_circuit *sc;
    const rt_circuit *c;
    long tick;
    int seen, seen_prev;
    void *in, *out, *st, *pin, *pout, *pst;
    arena mem;
};

explain_ctx *explain_new(const sema_circuit *sc, const rt_circuit *c, long tick)
{
    explain_ctx *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->sc = sc;
    x->c = c;
    x->tick = tick;
    x->in = calloc(1, c->in_size + 8);
    x->out = calloc(1, c->out_size + 8);
    x->st = calloc(1, c->state_size + 8);
    x->pin = calloc(1, c->in_size + 8);
    x->pout = calloc(1, c->out_size + 8);
    x->pst = calloc(1, c->state_size + 8);
    arena_init(&x->mem);
    return x;
}

void explain_on_tick(void *ctx, long tick, const void *in, const void *out, const void *state)
{
    explain_ctx *x = ctx;
    const rt_circuit *c = x->c;
    if (tick == x->tick - 1) {
        memcpy(x->pin, in, c->in_size);
        memcpy(x->pout, out, c->out_size);
        memcpy(x->pst, state, c->state_size);
        x->seen_prev = 1;
    } else if (tick == x->tick) {
        memcpy(x->in, in, c->in_size);
        memcpy(x->out, out, c->out_size);
        memcpy(x->st, state, c->state_size);
        x->seen = 1;
    }
}

void explain_free(explain_ctx *x)
{
    if (!x)
        return;
    free(x->in);
    free(x->out);
    free(x->st);
    free(x->pin);
    free(x->pout);
    free(x->pst);
    arena_free(&x->mem);
    free(x);
}

static int field_value(const explain_ctx *x, const char *name, int prev, double *v,
                       rt_kind *kind)
{
    const rt_circuit *c = x->c;
    const struct {
        const rt_field *f;
        uint32_t n;
        const void *cur, *before;
    } blocks[] = {
        { c->inputs, c->n_inputs, x->in, x->pin },
        { c->outputs, c->n_outputs, x->out, x->pout },
        { c->params, c->n_params, x->st, x->pst },
    };
    for (size_t b = 0; b < 3; b++)
        for (uint32_t i = 0; i < blocks[b].n; i++)
            if (strcmp(blocks[b].f[i].name, name) == 0) {
                *v = rt_get(prev ? blocks[b].before : blocks[b].cur, &blocks[b].f[i]);
                *kind = blocks[b].f[i].kind;
                return 1;
            }
    return 0;
}

static const char *fmt_value(char *buf, double v, rt_kind kind)
{
    if (kind == RT_BOOL)
        return v != 0 ? "true" : "false";
    return rt_fmt_f64(buf, v);
}

/* A symbol's value at the tick (prev: the tick before) as text, or NULL
 * when it has none to show. Vectors as [a, b, ...]. */
static const char *sym_value(explain_ctx *x, const sema_sym *s, int prev)
{
    double v;
    rt_kind kind;
    char buf[32];
    if (prev && x->tick == 0)
        return "(before the first tick: its initial value)";
    if (prev && !x->seen_prev)
        return NULL;
    if (field_value(x, s->name, prev, &v, &kind))
        return arena_strdup(&x->mem, fmt_value(buf, v, kind));
    if (!ty_is_vec(s->type))
        return NULL;
    char *text = arena_strdup(&x->mem, "[");
    for (int k = 0; k < ty_len(s->type); k++) {
        if (!field_value(x, arena_printf(&x->mem, "%s[%d]", s->name, k), prev, &v, &kind))
            return NULL;
        text = arena_printf(&x->mem, "%s%s%s", text, k ? ", " : "", fmt_value(buf, v, kind));
    }
    return arena_printf(&x->mem, "%s]", text);
}

/* The source text of an expression (its lines joined by spaces). */
static const char *expr_text(arena *mem, const ast_expr *e)
{
    const src_loc *l = &e->loc;
    if (!l->file || l->line <= 0)
        return "?";
    char *text = arena_strdup(mem, "");
    for (int line = l->line; line <= l->end_line; line++) {
        size_t len;
        const char *p = src_line(l->file, line, &len);
        if (!p)
            break;
        size_t from = line == l->line ? (size_t)(l->col - 1) : 0;
        size_t to = line == l->end_line ? (size_t)(l->end_col - 1) : len;
        if (to > len)
            to = len;
        if (from > to)
            from = to;
        while (from < to && (p[from] == ' ' || p[from] == '\t'))
            from++;
        text = arena_printf(mem, "%s%s%.*s", text, line > l->line && *text ? " " : "",
                            (int)(to - from), p + from);
    }
    return text;
}

typedef struct read_ref {
    int sym;
    int prev; /* read through pre(...) */
} read_ref;

/* The symbols an expression reads, in order of first appearance. */
static void collect(const ast_expr *e, int prev, read_ref *reads, int *n, int cap)
{
    if (!e)
        return;
    if ((e->kind == EX_NAME || e->kind == EX_FIELD) && e->sym >= 0 && !e->ref) {
        for (int i = 0; i < *n; i++)
            if (reads[i].sym == e->sym && reads[i].prev == prev)
                return;
        if (*n < cap)
            reads[(*n)++] = (read_ref){ e->sym, prev };
        return;
    }
    int is_pre = e->kind == EX_CALL && e->name && strcmp(e->name, "pre") == 0;
    collect(e->cond, prev, reads, n, cap);
    collect(e->lhs, prev, reads, n, cap);
    collect(e->rhs, prev, reads, n, cap);
    for (int i = 0; i < e->args.len; i++)
        collect(e->args.items[i], prev || (is_pre && i == 0), reads, n, cap);
}

enum { MAX_READS = 64, MAX_DEPTH = 2 };

static int expandable(const sema_sym *s)
{
    return s->def && (s->kind == SYM_LET || (s->kind == SYM_OUTPUT && !s->reward));
}

static const char *kind_name(const sema_sym *s)
{
    if (s->kind == SYM_OUTPUT)
        return "output";
    switch (s->let) {
    case LET_HEURISTIC: return "heuristic";
    case LET_ATTENTION: return "attention";
    case LET_GATE: return "gate";
    default: return "let";
    }
}

static void print_reads(explain_ctx *x, FILE *f, const ast_expr *e, int depth)
{
    read_ref reads[MAX_READS];
    int n = 0;
    collect(e, 0, reads, &n, MAX_READS);
    const sema_circuit *sc = x->sc;
    int width = 0;
    for (int i = 0; i < n; i++) {
        int w = (int)strlen(sc->syms[reads[i].sym].name) + (reads[i].prev ? 5 : 0);
        width = w > width ? w : width;
    }
    for (int i = 0; i < n; i++) {
        const sema_sym *s = &sc->syms[reads[i].sym];
        if (s->kind == SYM_CONST)
            continue;
        const char *v = sym_value(x, s, reads[i].prev);
        const char *label = reads[i].prev ? arena_printf(&x->mem, "pre(%s)", s->name) : s->name;
        int expand = depth < MAX_DEPTH && !reads[i].prev && expandable(s);
        fprintf(f, "%*s%-*s = %s", 2 * depth, "", width, label, v ? v : "(not observable)");
        if (expand)
            fprintf(f, "   (%s: %s)", kind_name(s), expr_text(&x->mem, s->def));
        fputc('\n', f);
        if (expand)
            print_reads(x, f, s->def, depth + 1);
    }
}

int explain_print(explain_ctx *x, FILE *f, diag_ctx *d, long ticks_run)
{
    const sema_circuit *sc = x->sc;
    const rt_circuit *c = x->c;
    if (!x->seen) {
        if (ticks_run <= 0)
            diag_plain(d, DIAG_ERROR, "--explain %ld: the run has no ticks", x->tick);
        else
            diag_plain(d, DIAG_ERROR, "--explain %ld: the run has %ld tick%s (0 to %ld)",
                       x->tick, ticks_run, ticks_run == 1 ? "" : "s", ticks_run - 1);
        return 0;
    }
    int streams[256], ns = 0, total = -1;
    for (int i = 0; i < sc->n_outputs; i++) {
        const sema_sym *s = &sc->syms[sc->outputs[i]];
        if (s->reward == 1 && ns < 256)
            streams[ns++] = sc->outputs[i];
        else if (s->reward == 2)
            total = sc->outputs[i];
    }
    if (ns == 0 || total < 0) {
        diag_plain(d, DIAG_ERROR, "--explain: circuit %s has no reward streams", c->name);
        diag_hint(d, "declare them with `reward NAME = EXPR`; the total is their sum");
        return 0;
    }
    double tv = 0, sum = 0;
    rt_kind kind;
    char buf[32], buf2[32];
    field_value(x, sc->syms[total].name, 0, &tv, &kind);
    fprintf(f, "tick %ld (%s s) of %s: reward = %s, the sum of %d stream%s in declaration order\n",
            x->tick, rt_fmt_f64(buf2, (double)x->tick * c->tick_seconds), c->name,
            rt_fmt_f64(buf, tv), ns, ns == 1 ? "" : "s");
    int w = 6, vw = 5;
    for (int i = 0; i < ns; i++) {
        int l = (int)strlen(sc->syms[streams[i]].name);
        w = l > w ? l : w;
        double v = 0;
        field_value(x, sc->syms[streams[i]].name, 0, &v, &kind);
        l = (int)strlen(rt_fmt_f64(buf, v));
        vw = l > vw ? l : vw;
    }
    fprintf(f, "  %-*s  %-*s  %s\n", w, "stream", vw, "value", "share");
    for (int i = 0; i < ns; i++) {
        double v = 0;
        field_value(x, sc->syms[streams[i]].name, 0, &v, &kind);
        sum = i ? sum + v : v;
        if (tv != 0 && isfinite(tv))
            snprintf(buf2, sizeof buf2, "%.2f%%", v == 0 ? 0.0 : 100.0 * v / tv);
        else
            snprintf(buf2, sizeof buf2, "-");
        fprintf(f, "  %-*s  %-*s  %s\n", w, sc->syms[streams[i]].name, vw, rt_fmt_f64(buf, v),
                buf2);
    }
    int same = sum == tv || (isnan(sum) && isnan(tv));
    if (!same)
        fprintf(f, "  (the streams sum to %s, not the total: please report this)\n",
                rt_fmt_f64(buf, sum));
    for (int i = 0; i < ns; i++) {
        const sema_sym *s = &sc->syms[streams[i]];
        fputc('\n', f);
        fprintf(f, "%s = %s\n", s->name, s->def ? expr_text(&x->mem, s->def) : "?");
        if (s->def)
            print_reads(x, f, s->def, 1);
    }
    return same;
}
