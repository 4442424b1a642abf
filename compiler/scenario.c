/* scenario.c — `drivec test`: check a file's scenarios against their
 * circuits, run them, and judge their expectations (lang/SPEC.md,
 * "Scenarios").
 *
 * A scenario becomes one or more runs (itself, then each variant). A run is
 * a list of param settings and a list of stimulus entries in the order they
 * apply each tick (held assignments first, then blocks, the variant's after
 * the scenario's). Measurements are evaluated after every run has finished,
 * from the signals recorded per tick; only the signals that some measurement
 * or plot reads are recorded. Stimulus and expectation expressions are typed
 * and evaluated here, not compiled: they run once per tick on the host side.
 */
#include "scenario.h"

#include "rt_math.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gnuplot.h"
#include "interp.h"
#include "jit.h"
#include "progress.h"

/* Longest run: the recorded signals of a run are kept in memory. */
enum { SCN_MAX_TICKS = 100000000 };
/* Values recorded per scenario, over all its runs (8 bytes each). */
#define SCN_MAX_RECORDED 2.5e8
/* Points per series in a plot (longer runs are drawn from min/max buckets). */
enum { PLOT_POINTS = 400 };

/* Expression contexts: what names and functions an expression may use. */
typedef enum {
    M_CONST,  /* numbers, constants, math */
    M_STIM,   /* + time, ramp, noise, uniform */
    M_EXPECT, /* + measurements */
    M_SIGNAL  /* + the circuit's signals (inside a measurement or plot) */
} mode;

typedef enum { MS_AT, MS_FINAL, MS_MEAN, MS_MIN, MS_MAX, MS_SUM, MS_COUNT } meas_kind;

/* A named signal of the compiled circuit: a scalar or a vector's elements. */
typedef struct sig {
    const char *name;
    int block;      /* IR_BLOCK_IN, IR_BLOCK_OUT or IR_BLOCK_PARAM */
    uint32_t first; /* its first field in that block */
    int len;        /* 1, or the vector's length */
    int is_bool;
    int *rec;       /* per element: its row in a run's recording, or -1 */
} sig;

typedef struct entry {
    int held;               /* a top-level assignment: the whole run */
    const ast_scn_item *it;
    long k0, k1;            /* active ticks [k0, k1) */
    long period, on;        /* every: active when (k - k0) % period < on */
    const sig *s;
    int elem;               /* one element, or -1: all of them */
    uint64_t site;          /* noise stream of this assignment */
} entry;

typedef struct pset {
    const sig *s;
    double v[1];            /* flexible: s->len values */
} pset;

typedef struct run {
    const char *variant;    /* NULL: the scenario itself */
    src_loc loc;
    arena_vec params;       /* pset * */
    arena_vec held, blocks; /* entry */
    double *rec;            /* n_rec rows of n_ticks values (malloc'd) */
} run;

typedef struct meas {
    meas_kind kind;
    const ast_expr *call;
    const ast_expr *signal;
    int run;
    long k0, k1;            /* the ticks measured */
    double value;
} meas;

typedef struct series {
    const ast_expr *e;      /* a signal expression */
    int run, panel;
    int finite;             /* some value is finite (found while drawing) */
    const char *title;
} series;

typedef struct scn {
    compile_result *r;
    diag_ctx *diag;
    const ast_scenario *ast;
    const sema_circuit *sc;
    ir_circuit *ir;
    rt_circuit rt;
    double tick;
    long n_ticks;
    uint64_t seed;
    arena_vec sigs;         /* sig */
    arena_vec runs;         /* run */
    arena_vec meas;         /* meas */
    arena_vec series;       /* series */
    int n_panels;
    int n_rec;              /* rows recorded per run */
    int errors;
    int cur_run;            /* the run a signal expression refers to (checking) */
    int indexing;           /* typing the vector of v[i]: record only element i */
    const char *only_names[1];
    volatile const sig_atomic_t *stop; /* scn_options.stop */
} scn;

double scn_const_value(scn *s, const ast_expr *e, int idx);

/* ---- small helpers -------------------------------------------------------- */

static void err(scn *s, src_loc at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void err(scn *s, src_loc at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vreport(s->diag, DIAG_ERROR, at, fmt, ap);
    va_end(ap);
    s->errors++;
}

/* The source text of a span, its lines joined by single spaces. */
static const char *src_text(arena *mem, src_loc l)
{
    if (!l.file)
        return "?";
    size_t cap = 0;
    for (int ln = l.line; ln <= l.end_line; ln++) {
        size_t n = 0;
        if (src_line(l.file, ln, &n))
            cap += n + 1;
    }
    char *out = arena_alloc(mem, cap + 2), *o = out;
    for (int ln = l.line; ln <= l.end_line; ln++) {
        size_t n = 0;
        const char *t = src_line(l.file, ln, &n);
        if (!t)
            break;
        size_t from = ln == l.line ? (size_t)(l.col - 1) : 0;
        size_t to = ln == l.end_line && (size_t)(l.end_col - 1) < n ? (size_t)(l.end_col - 1) : n;
        while (ln != l.line && from < to && (t[from] == ' ' || t[from] == '\t'))
            from++;
        if (from > to)
            from = to;
        if (o != out && from < to)
            *o++ = ' ';
        memcpy(o, t + from, to - from);
        o += to - from;
    }
    *o = 0;
    return out;
}

static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15u;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t hash_name(const char *t)
{
    uint64_t h = 1469598103934665603u;
    for (; *t; t++)
        h = (h ^ (unsigned char)*t) * 1099511628211u;
    return h;
}

/* A uniform double in (0, 1) from a 64-bit key. */
static double unit(uint64_t key) { return ((double)(mix64(key) >> 11) + 0.5) * 0x1.0p-53; }

static const sig *find_sig(scn *s, const char *name)
{
    for (size_t i = 0; i < s->sigs.len; i++) {
        sig *g = &((sig *)s->sigs.data)[i];
        if (strcmp(g->name, name) == 0)
            return g;
    }
    return NULL;
}

/* A signal of one block (a param and its probe share a name). */
static const sig *find_sig_in(scn *s, const char *name, int block)
{
    for (size_t i = 0; i < s->sigs.len; i++) {
        sig *g = &((sig *)s->sigs.data)[i];
        if (g->block == block && strcmp(g->name, name) == 0)
            return g;
    }
    return NULL;
}

static const ir_var *sig_var(const scn *s, const sig *g, int k)
{
    const ir_circuit *c = s->ir;
    return g->block == IR_BLOCK_IN ? &c->inputs[g->first + (uint32_t)k]
           : g->block == IR_BLOCK_OUT ? &c->outputs[g->first + (uint32_t)k]
                                      : &c->params[g->first + (uint32_t)k];
}

static const rt_field *sig_field(const scn *s, const sig *g, int k)
{
    return g->block == IR_BLOCK_IN ? &s->rt.inputs[g->first + (uint32_t)k]
           : g->block == IR_BLOCK_OUT ? &s->rt.outputs[g->first + (uint32_t)k]
                                      : &s->rt.params[g->first + (uint32_t)k];
}

static void add_sigs(scn *s, int block, const ir_var *v, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (v[i].base && v[i].index != 0)
            continue;
        sig *g = arena_vec_push(&s->r->mem, &s->sigs);
        g->name = v[i].base ? v[i].base : v[i].name;
        g->block = block;
        g->first = i;
        g->len = v[i].base ? (int)v[i].len : 1;
        g->is_bool = v[i].type == IR_BOOL;
        g->rec = arena_calloc(&s->r->mem, (size_t)g->len, sizeof *g->rec);
        for (int k = 0; k < g->len; k++)
            g->rec[k] = -1;
    }
}

/* A time in ticks, rounded (halves to even), as a double: NaN, infinite and
 * enormous values survive so the caller can reject them before any cast. A
 * time that is not a whole number of ticks is warned about once, at `at`. */
static double ticks_at(scn *s, double secs, src_loc at)
{
    if (!isfinite(secs))
        return secs;
    double exact;
    double k = sema_round_ticks(secs, s->tick, &exact);
    if (at.file && fabs(exact - k) > 1e-9 * (fabs(k) > 1 ? fabs(k) : 1) && fabs(k) < 1e15) {
        diag_report(s->diag, DIAG_WARNING, at,
                    "%g s is %.4g ticks of %g ms; rounded to %.0f tick%s (%g s)", secs, exact,
                    s->tick * 1000, k, k == 1 ? "" : "s", k * s->tick);
    }
    return k;
}

/* ---- constants (module constants visible from the scenario's file) ------- */

static const sema_const *find_const(scn *s, const char *name)
{
    const sema_module *m = s->r->sema;
    for (int i = 0; i < m->n_consts; i++)
        if (strcmp(m->consts[i].item->name, name) == 0)
            return &m->consts[i];
    for (int j = 0; j < m->n_imports; j++) {
        const sema_module *im = m->imports[j];
        for (int i = 0; i < im->n_consts; i++)
            if (strcmp(im->consts[i].item->name, name) == 0)
                return &im->consts[i];
    }
    return NULL;
}

/* ---- typing --------------------------------------------------------------- */

static ast_type type_of(scn *s, ast_expr *e, mode m);

static int is_measure_name(const char *n)
{
    return !strcmp(n, "at") || !strcmp(n, "final") || !strcmp(n, "mean") || !strcmp(n, "min") ||
           !strcmp(n, "max") || !strcmp(n, "sum") || !strcmp(n, "count");
}

static int run_of_variant(scn *s, const char *name)
{
    for (size_t i = 1; i < s->runs.len; i++)
        if (strcmp(((run *)s->runs.data)[i].variant, name) == 0)
            return (int)i;
    return -1;
}

/* A window `a .. b` inside the run: ticks [*k0, *k1). */
static int window_of(scn *s, ast_expr *w, long *k0, long *k1)
{
    if (w->kind != EX_BINARY || w->op != OP_RANGE) {
        err(s, w->loc, "expected a time window 'from .. to'");
        diag_hint(s->diag, "write e.g. '5 s .. 10 s'");
        return 0;
    }
    ast_type a = type_of(s, w->lhs, M_CONST), b = type_of(s, w->rhs, M_CONST);
    if (a == TY_ERROR || b == TY_ERROR)
        return 0;
    if (a != TY_DUR || b != TY_DUR) {
        err(s, a != TY_DUR ? w->lhs->loc : w->rhs->loc, "a time needs a unit");
        diag_hint(s->diag, "write e.g. '5 s' or '20 ticks'");
        return 0;
    }
    double ta = scn_const_value(s, w->lhs, 0), tb = scn_const_value(s, w->rhs, 0);
    double a0 = ticks_at(s, ta, w->lhs->loc), a1 = ticks_at(s, tb, w->rhs->loc);
    if (!(ta >= 0) || !(a0 >= 0)) {
        err(s, w->lhs->loc, "the window starts before the run");
        return 0;
    }
    if (!(a1 <= (double)s->n_ticks)) {
        err(s, w->rhs->loc, "the window ends after the run (%g s)", (double)s->n_ticks * s->tick);
        return 0;
    }
    if (!(a1 > a0)) {
        err(s, w->loc, "the window is empty (%.0f to %.0f ticks of %g ms)", a0, a1, s->tick * 1000);
        return 0;
    }
    *k0 = (long)a0;
    *k1 = (long)a1;
    return 1;
}

/* A time inside the run, as a tick. */
static int time_of(scn *s, ast_expr *e, long *k, int may_end)
{
    ast_type t = type_of(s, e, M_CONST);
    if (t == TY_ERROR)
        return 0;
    if (t != TY_DUR) {
        err(s, e->loc, "a time needs a unit");
        diag_hint(s->diag, "write e.g. '5 s' or '20 ticks'");
        return 0;
    }
    double v = scn_const_value(s, e, 0);
    double d = ticks_at(s, v, e->loc);
    if (!isfinite(v)) {
        err(s, e->loc, "this time is not a finite number of seconds");
        return 0;
    }
    if (!(v >= 0) || !(d >= 0) || !(d <= (double)(s->n_ticks - (may_end ? 0 : 1)))) {
        err(s, e->loc, "%g s is outside the run (0 s to %g s)", v,
            (double)(s->n_ticks - 1) * s->tick);
        return 0;
    }
    *k = (long)d;
    return 1;
}

/* Record a signal element in every run. */
static int record(scn *s, sig *g, int k)
{
    if (g->rec[k] < 0)
        g->rec[k] = s->n_rec++;
    return g->rec[k];
}

static ast_type type_measure(scn *s, ast_expr *e, int run_index)
{
    meas_kind kind = !strcmp(e->name, "at")      ? MS_AT
                     : !strcmp(e->name, "final") ? MS_FINAL
                     : !strcmp(e->name, "mean")  ? MS_MEAN
                     : !strcmp(e->name, "min")   ? MS_MIN
                     : !strcmp(e->name, "max")   ? MS_MAX
                     : !strcmp(e->name, "sum")   ? MS_SUM
                                                 : MS_COUNT;
    int n = e->args.len;
    if (n < 1 || n > 2 || (kind == MS_AT && n != 2)) {
        err(s, e->loc, kind == MS_AT ? "'at' takes a signal and a time: at(s, 5 s)"
                                     : "'%s' takes a signal and an optional window: %s(s, 1 s .. 2 s)",
            e->name, e->name);
        return TY_ERROR;
    }
    meas *m = arena_vec_push(&s->r->mem, &s->meas);
    m->kind = kind;
    m->call = e;
    m->signal = e->args.items[0];
    m->run = run_index;
    m->k0 = 0;
    m->k1 = s->n_ticks;
    e->sym = (int)(s->meas.len - 1);
    int saved = s->cur_run;
    s->cur_run = run_index;
    ast_type t = type_of(s, e->args.items[0], M_SIGNAL);
    s->cur_run = saved;
    int ok = t != TY_ERROR;
    if (ok && t != TY_REAL && t != TY_BOOL) {
        err(s, e->args.items[0]->loc, "a measured signal must be a real or a bool, not %s",
            ast_type_name(t));
        diag_hint(s->diag, "measure one element, e.g. 'v[0]'");
        ok = 0;
    }
    if (ok && kind == MS_COUNT && t != TY_BOOL) {
        err(s, e->args.items[0]->loc, "'count' counts the ticks a bool is true; this is %s",
            ast_type_name(t));
        diag_hint(s->diag, "compare it, e.g. 'count(x > 0.5)'");
        ok = 0;
    }
    if (n == 2) {
        if (kind == MS_AT) {
            long k = 0;
            if (e->args.items[1]->kind == EX_BINARY && e->args.items[1]->op == OP_RANGE) {
                err(s, e->args.items[1]->loc, "'at' takes one time, not a window");
                diag_hint(s->diag, "for a window use mean, min, max, final, sum or count");
                ok = 0;
            } else if (!time_of(s, e->args.items[1], &k, 0))
                ok = 0;
            m->k0 = k;
            m->k1 = k + 1;
        } else if (!window_of(s, e->args.items[1], &m->k0, &m->k1)) {
            ok = 0;
        }
    }
    if (!ok)
        return TY_ERROR;
    if (kind == MS_FINAL)
        m->k0 = m->k1 - 1;
    /* A bool's value at one tick stays a bool; aggregates are numbers. */
    return (kind == MS_AT || kind == MS_FINAL) && t == TY_BOOL ? TY_BOOL : TY_REAL;
}

static ast_type type_name(scn *s, ast_expr *e, mode m, const char *name)
{
    e->sym = -1;
    e->ref = NULL;
    if (m == M_SIGNAL) {
        const sig *g = find_sig(s, name);
        if (g) {
            e->sym = (int)(g - (sig *)s->sigs.data);
            /* Indexed (v[3]): the caller records that element only. */
            for (int k = 0; k < g->len && !s->indexing; k++)
                record(s, (sig *)g, k);
            return g->len > 1 || sig_var(s, g, 0)->base ? TY_VEC(g->len)
                   : g->is_bool                         ? TY_BOOL
                                                        : TY_REAL;
        }
    }
    if (m == M_STIM && !strcmp(name, "time")) {
        e->sym = -2;
        return TY_REAL;
    }
    if (!strcmp(name, "dt")) {
        e->sym = -3;
        return TY_DUR;
    }
    const sema_const *k = find_const(s, name);
    if (k) {
        e->ref = k;
        return k->type;
    }
    if (m == M_SIGNAL)
        err(s, e->loc, "'%s' is not a signal of circuit '%s'", name, s->sc->name);
    else if (find_sig(s, name) && m == M_EXPECT)
        err(s, e->loc, "'%s' is a signal: measure it, e.g. 'mean(%s)'", name, name);
    else if (find_sig(s, name))
        err(s, e->loc, "'%s' is a signal of the circuit; %s cannot read the circuit", name,
            m == M_STIM ? "a stimulus" : "a constant");
    else
        err(s, e->loc, "unknown name '%s'", name);
    if (m == M_SIGNAL || m == M_EXPECT) {
        const char **names = arena_calloc(&s->r->mem, s->sigs.len + 1, sizeof *names);
        for (size_t i = 0; i < s->sigs.len; i++)
            names[i] = ((sig *)s->sigs.data)[i].name;
        const char *sug = diag_suggest(name, names, s->sigs.len);
        if (sug)
            diag_hint(s->diag, "did you mean '%s'?", sug);
    } else if (m == M_STIM && !find_sig(s, name)) {
        diag_hint(s->diag, "stimulus values may use numbers, constants, 'time', ramp(), noise() "
                           "and uniform()");
    }
    return TY_ERROR;
}


static ast_type type_binary(scn *s, ast_expr *e, mode m)
{
    if (e->op == OP_RANGE) {
        err(s, e->loc, "a time window is only meaningful as a measurement's or a block's window");
        return TY_ERROR;
    }
    ast_type l = type_of(s, e->lhs, m), r = type_of(s, e->rhs, m);
    if (l == TY_ERROR || r == TY_ERROR)
        return TY_ERROR;
    switch (e->op) {
    case OP_ADD: case OP_SUB:
        if (l == TY_DUR && r == TY_DUR)
            return TY_DUR;
        if (sema_elementwise(l, r))
            return sema_elementwise(l, r);
        break;
    case OP_MUL:
        if ((l == TY_DUR && r == TY_REAL) || (l == TY_REAL && r == TY_DUR))
            return TY_DUR;
        if (sema_elementwise(l, r))
            return sema_elementwise(l, r);
        break;
    case OP_DIV:
        if (l == TY_DUR && r == TY_REAL)
            return TY_DUR;
        if (l == TY_DUR && r == TY_DUR)
            return TY_REAL;
        if (sema_elementwise(l, r))
            return sema_elementwise(l, r);
        break;
    case OP_LT: case OP_LE: case OP_GT: case OP_GE:
        if (l == r && (l == TY_REAL || l == TY_DUR))
            return TY_BOOL;
        break;
    case OP_EQ: case OP_NE:
        if (l == r && !ty_is_vec(l))
            return TY_BOOL;
        break;
    case OP_AND: case OP_OR:
        if (l == TY_BOOL && r == TY_BOOL)
            return TY_BOOL;
        break;
    default:
        break;
    }
    err(s, e->loc, "'%s' cannot combine %s and %s", ast_op_text(e->op), ast_type_name(l),
        ast_type_name(r));
    if ((l == TY_BOOL) != (r == TY_BOOL))
        diag_hint(s->diag, "a bool counts as a number through real(b)");
    return TY_ERROR;
}

static const struct {
    const char *name;
    int min_args, max_args;
} MATH[] = { { "exp", 1, 1 }, { "log", 1, 1 },     { "tanh", 1, 1 }, { "sin", 1, 1 },
             { "cos", 1, 1 }, { "sqrt", 1, 1 },    { "abs", 1, 1 },  { "floor", 1, 1 },
             { "sigmoid", 1, 1 }, { "min", 2, 2 }, { "max", 2, 2 },  { "clamp", 3, 3 },
             { "real", 1, 1 } };

static ast_type type_call(scn *s, ast_expr *e, mode m)
{
    if (e->field) { /* V.mean(...) */
        if (m != M_EXPECT) {
            err(s, e->loc, "a variant's measurement is only meaningful in an 'expect'");
            return TY_ERROR;
        }
        int ri = run_of_variant(s, e->field);
        if (ri < 0) {
            err(s, e->loc, "this scenario has no variant '%s'", e->field);
            return TY_ERROR;
        }
        if (!is_measure_name(e->name)) {
            err(s, e->loc, "'%s' is not a measurement", e->name);
            diag_hint(s->diag, "measurements are at, final, mean, min, max, sum and count");
            return TY_ERROR;
        }
        return type_measure(s, e, ri);
    }
    if (m == M_EXPECT && is_measure_name(e->name)) {
        int two_reals = (!strcmp(e->name, "min") || !strcmp(e->name, "max")) && e->args.len == 2 &&
                        !(e->args.items[1]->kind == EX_BINARY && e->args.items[1]->op == OP_RANGE);
        if (!two_reals)
            return type_measure(s, e, 0);
    }
    if (is_measure_name(e->name) && strcmp(e->name, "min") && strcmp(e->name, "max")) {
        err(s, e->loc, "measurements like '%s' are only meaningful in an 'expect'", e->name);
        return TY_ERROR;
    }
    if (m == M_STIM && (!strcmp(e->name, "ramp") || !strcmp(e->name, "noise") ||
                        !strcmp(e->name, "uniform"))) {
        int want = !strcmp(e->name, "noise") ? 1 : 2;
        if (e->args.len != want) {
            err(s, e->loc, "'%s' takes %d argument%s", e->name, want, want > 1 ? "s" : "");
            return TY_ERROR;
        }
        for (int i = 0; i < want; i++) {
            ast_type t = type_of(s, e->args.items[i], M_CONST);
            if (t == TY_ERROR)
                return TY_ERROR;
            if (t != TY_REAL) {
                err(s, e->args.items[i]->loc, "'%s' takes reals, not %s", e->name,
                    ast_type_name(t));
                return TY_ERROR;
            }
        }
        return TY_REAL;
    }
    for (size_t i = 0; i < sizeof MATH / sizeof MATH[0]; i++) {
        if (strcmp(MATH[i].name, e->name) != 0)
            continue;
        if (e->args.len < MATH[i].min_args || e->args.len > MATH[i].max_args) {
            err(s, e->loc, "'%s' takes %d argument%s", e->name, MATH[i].min_args,
                MATH[i].min_args > 1 ? "s" : "");
            return TY_ERROR;
        }
        ast_type t = TY_REAL;
        for (int a = 0; a < e->args.len; a++) {
            ast_type at = type_of(s, e->args.items[a], m);
            if (at == TY_ERROR)
                return TY_ERROR;
            if (!strcmp(e->name, "real")) {
                if (at != TY_BOOL) {
                    err(s, e->args.items[a]->loc, "'real' takes a bool, not %s", ast_type_name(at));
                    return TY_ERROR;
                }
                return TY_REAL;
            }
            if (sema_elementwise(t, at) == TY_ERROR) {
                err(s, e->args.items[a]->loc, "'%s' takes reals or vectors, not %s", e->name,
                    ast_type_name(at));
                return TY_ERROR;
            }
            t = sema_elementwise(t, at);
        }
        return t;
    }
    err(s, e->loc, "unknown function '%s' in a scenario", e->name);
    if (m == M_STIM)
        diag_hint(s->diag, "stimulus values may use ramp(a, b), noise(sd), uniform(lo, hi), "
                           "'time' and the math built-ins");
    else if (m == M_EXPECT)
        diag_hint(s->diag, "measurements are at, final, mean, min, max, sum and count");
    return TY_ERROR;
}

static ast_type type_of(scn *s, ast_expr *e, mode m)
{
    ast_type t = TY_ERROR;
    switch (e->kind) {
    case EX_NUM: t = TY_REAL; break;
    case EX_DUR: case EX_TICKS: t = TY_DUR; break;
    case EX_BOOL: t = TY_BOOL; break;
    case EX_NAME: t = type_name(s, e, m, e->name); break;
    case EX_FIELD: {
        int vr = m == M_SIGNAL ? run_of_variant(s, e->name) : -1;
        if (vr >= 0) { /* V.s: signal s of variant V's run */
            t = type_name(s, e, m, e->field);
            e->run = vr + 1;
            break;
        }
        const char *full = arena_printf(&s->r->mem, "%s.%s", e->name, e->field);
        if (m != M_SIGNAL) {
            if (m == M_EXPECT && run_of_variant(s, e->name) >= 0)
                err(s, e->loc, "'%s' is a signal of variant '%s': measure it, e.g. '%s.mean(%s)'",
                    e->field, e->name, e->name, e->field);
            else if (find_sig(s, full))
                err(s, e->loc, "'%s' is a signal: measure it, e.g. 'mean(%s)'", full, full);
            else
                err(s, e->loc, "unknown name '%s'", full);
            return e->type = TY_ERROR;
        }
        t = type_name(s, e, m, full);
        break;
    }
    case EX_UNARY: {
        ast_type a = type_of(s, e->lhs, m);
        if (a == TY_ERROR)
            break;
        if (e->op == OP_NOT ? a == TY_BOOL : (a == TY_REAL || a == TY_DUR || ty_is_vec(a)))
            t = a;
        else
            err(s, e->loc, "'%s' cannot take %s", ast_op_text(e->op), ast_type_name(a));
        break;
    }
    case EX_BINARY: t = type_binary(s, e, m); break;
    case EX_IF: {
        ast_type c = type_of(s, e->cond, m), a = type_of(s, e->lhs, m), b = type_of(s, e->rhs, m);
        if (c == TY_ERROR || a == TY_ERROR || b == TY_ERROR)
            break;
        if (c != TY_BOOL)
            err(s, e->cond->loc, "the condition of 'if' must be a bool, not %s", ast_type_name(c));
        else if (a != b)
            err(s, e->loc, "the branches of 'if' disagree: %s and %s", ast_type_name(a),
                ast_type_name(b));
        else
            t = a;
        break;
    }
    case EX_CALL: t = type_call(s, e, m); break;
    case EX_VEC: {
        int bad = 0;
        for (int i = 0; i < e->args.len; i++) {
            ast_type a = type_of(s, e->args.items[i], m);
            if (a != TY_REAL) {
                if (a != TY_ERROR)
                    err(s, e->args.items[i]->loc, "vector elements are reals, not %s",
                        ast_type_name(a));
                bad = 1;
            }
        }
        if (!bad && e->args.len <= AST_MAX_VEC)
            t = TY_VEC(e->args.len);
        break;
    }
    case EX_INDEX: {
        int direct = m == M_SIGNAL && (e->lhs->kind == EX_NAME || e->lhs->kind == EX_FIELD);
        s->indexing = direct;
        ast_type v = type_of(s, e->lhs, m);
        s->indexing = 0;
        ast_type i = type_of(s, e->rhs, M_CONST);
        if (v == TY_ERROR || i == TY_ERROR)
            break;
        double k = i == TY_REAL ? scn_const_value(s, e->rhs, 0) : -1;
        if (!ty_is_vec(v))
            err(s, e->lhs->loc, "only vectors can be indexed; this is %s", ast_type_name(v));
        else if (!(k >= 0 && k < ty_len(v) && k == floor(k)))
            err(s, e->rhs->loc, "the index must be a whole number from 0 to %d", ty_len(v) - 1);
        else {
            e->num = k;
            t = TY_REAL;
            if (direct && e->lhs->sym >= 0)
                record(s, &((sig *)s->sigs.data)[e->lhs->sym], (int)k);
        }
        break;
    }
    case EX_NAMED:
        err(s, e->loc, "named arguments are only for circuit instances");
        break;
    }
    e->type = t;
    return t;
}

/* ---- evaluation ----------------------------------------------------------- */

typedef struct ectx {
    scn *s;
    run *r;        /* for signals */
    long k;        /* tick */
    double frac;   /* ramp position, 0 to 1 */
    uint64_t site; /* noise stream */
} ectx;

static double eval(ectx *c, const ast_expr *e, int idx);

double scn_const_value(scn *s, const ast_expr *e, int idx)
{
    ectx c = { .s = s };
    return eval(&c, e, idx);
}

static double math1(const char *n, double a)
{
    switch (n[0]) {
    case 'e': return rt_exp(a);
    case 'l': return log(a);
    case 't': return rt_tanh(a);
    case 's':
        return n[1] == 'i' && n[2] == 'n' ? sin(a) : n[1] == 'q' ? sqrt(a) : 1 / (1 + rt_exp(-a));
    case 'c': return cos(a);
    case 'a': return fabs(a);
    case 'f': return floor(a);
    default: return a;
    }
}

static double minmax(double a, double b, int is_max)
{
    if (isnan(a) || isnan(b))
        return NAN;
    return is_max ? (b > a ? b : a) : (b < a ? b : a);
}

static double eval_measure(ectx *c, const ast_expr *e)
{
    return ((meas *)c->s->meas.data)[e->sym].value;
}

static double eval(ectx *c, const ast_expr *e, int idx)
{
    int i = ty_is_vec(e->type) ? idx : 0;
    switch (e->kind) {
    case EX_NUM: return e->num;
    case EX_DUR: return e->num;
    case EX_TICKS: return e->num * c->s->tick;
    case EX_BOOL: return e->num != 0;
    case EX_NAME:
    case EX_FIELD: {
        if (e->ref) {
            const sema_const *k = e->ref;
            double v = 0;
            sema_const_eval(NULL, k->mod, k->item->expr, ty_is_vec(k->item->expr->type) ? i : 0,
                            c->s->tick, &v);
            return v;
        }
        if (e->sym == -2)
            return (double)c->k * c->s->tick;
        if (e->sym == -3)
            return c->s->tick;
        const sig *g = &((sig *)c->s->sigs.data)[e->sym];
        const run *r = e->run ? &((run *)c->s->runs.data)[e->run - 1] : c->r;
        return r->rec[(size_t)g->rec[i] * (size_t)c->s->n_ticks + (size_t)c->k];
    }
    case EX_UNARY: {
        double a = eval(c, e->lhs, i);
        return e->op == OP_NOT ? !(a != 0) : -a;
    }
    case EX_BINARY: {
        double a = eval(c, e->lhs, i), b = eval(c, e->rhs, i);
        switch (e->op) {
        case OP_ADD: return a + b;
        case OP_SUB: return a - b;
        case OP_MUL: return a * b;
        case OP_DIV: return a / b;
        case OP_LT: return a < b;
        case OP_LE: return a <= b;
        case OP_GT: return a > b;
        case OP_GE: return a >= b;
        case OP_EQ: return a == b;
        case OP_NE: return a != b;
        case OP_AND: return (a != 0) && (b != 0);
        case OP_OR: return (a != 0) || (b != 0);
        default: return NAN;
        }
    }
    case EX_IF: return eval(c, e->cond, 0) != 0 ? eval(c, e->lhs, i) : eval(c, e->rhs, i);
    case EX_VEC: return eval(c, e->args.items[i], 0);
    case EX_INDEX: return eval(c, e->lhs, (int)e->num);
    case EX_CALL: {
        const char *n = e->name;
        if (e->field || (is_measure_name(n) && e->sym >= 0 && e->type != TY_ERROR &&
                         !(e->args.len == 2 && (!strcmp(n, "min") || !strcmp(n, "max")) &&
                           !(e->args.items[1]->kind == EX_BINARY && e->args.items[1]->op == OP_RANGE))))
            return eval_measure(c, e);
        if (!strcmp(n, "ramp"))
            return eval(c, e->args.items[0], 0) +
                   c->frac * (eval(c, e->args.items[1], 0) - eval(c, e->args.items[0], 0));
        if (!strcmp(n, "noise") || !strcmp(n, "uniform")) {
            uint64_t key = mix64(c->site ^ mix64((uint64_t)c->k * 0x100000001b3u +
                                                 (uint64_t)(unsigned)idx));
            key = mix64(key ^ (uint64_t)e->loc.col); /* two calls in one value differ */
            double u1 = unit(key), u2 = unit(key ^ 0x5851f42d4c957f2du);
            if (n[0] == 'u') {
                double lo = eval(c, e->args.items[0], 0), hi = eval(c, e->args.items[1], 0);
                return lo + (hi - lo) * u1;
            }
            return eval(c, e->args.items[0], 0) * sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
        }
        if (!strcmp(n, "real"))
            return eval(c, e->args.items[0], 0) != 0;
        if (!strcmp(n, "min") || !strcmp(n, "max"))
            return minmax(eval(c, e->args.items[0], i), eval(c, e->args.items[1], i), n[1] == 'a');
        if (!strcmp(n, "clamp"))
            return minmax(minmax(eval(c, e->args.items[0], i), eval(c, e->args.items[1], i), 1),
                          eval(c, e->args.items[2], i), 0);
        return math1(n, eval(c, e->args.items[0], i));
    }
    default: return NAN;
    }
}

/* ---- building the runs ---------------------------------------------------- */

static void add_item(scn *s, run *r, const ast_scn_item *it, int in_block);

static void check_set(scn *s, run *r, const ast_scn_item *it, entry *en)
{
    const sig *g = find_sig_in(s, it->name, IR_BLOCK_IN);
    if (!g)
        g = find_sig(s, it->name);
    if (!g || g->block != IR_BLOCK_IN) {
        if (g)
            err(s, it->name_loc, "'%s' is not an input of circuit '%s': a scenario sets inputs",
                it->name, s->sc->name);
        else
            err(s, it->name_loc, "circuit '%s' has no input '%s'", s->sc->name, it->name);
        const char **names = arena_calloc(&s->r->mem, s->rt.n_inputs + 1, sizeof *names);
        size_t n = 0;
        for (size_t i = 0; i < s->sigs.len; i++)
            if (((sig *)s->sigs.data)[i].block == IR_BLOCK_IN)
                names[n++] = ((sig *)s->sigs.data)[i].name;
        const char *sug = diag_suggest(it->name, names, n);
        if (sug)
            diag_hint(s->diag, "did you mean '%s'?", sug);
        else if (g && g->block == IR_BLOCK_PARAM)
            diag_hint(s->diag, "set a param with 'param %s = ...'", it->name);
        return;
    }
    int is_vec = sig_var(s, g, 0)->base != NULL;
    ast_type want = is_vec ? TY_VEC(g->len) : g->is_bool ? TY_BOOL : TY_REAL;
    en->elem = -1;
    if (it->index) {
        ast_type ti = type_of(s, it->index, M_CONST);
        double k = ti == TY_REAL ? scn_const_value(s, it->index, 0) : -1;
        if (ti == TY_ERROR)
            return;
        if (!is_vec) {
            err(s, it->index->loc, "'%s' is not a vector", it->name);
            return;
        }
        if (!(k >= 0 && k < g->len && k == floor(k))) {
            err(s, it->index->loc, "the index must be a whole number from 0 to %d", g->len - 1);
            return;
        }
        en->elem = (int)k;
        want = TY_REAL;
    }
    ast_type t = type_of(s, it->expr, M_STIM);
    if (t == TY_ERROR)
        return;
    if (!(t == want || (ty_is_vec(want) && t == TY_REAL))) {
        err(s, it->expr->loc, "'%s%s' is %s, but this is %s", it->name, it->index ? "[...]" : "",
            ast_type_name(want), ast_type_name(t));
        return;
    }
    en->s = g;
    en->it = it;
    en->site = mix64(s->seed ^ hash_name(it->name)); /* elements mixed in per tick */
    *(entry *)arena_vec_push(&s->r->mem, en->held ? &r->held : &r->blocks) = *en;
}

static void check_param(scn *s, run *r, const ast_scn_item *it)
{
    const sig *g = find_sig_in(s, it->name, IR_BLOCK_PARAM);
    if (!g || g->block != IR_BLOCK_PARAM) {
        err(s, it->name_loc, "circuit '%s' has no runtime param '%s'", s->sc->name, it->name);
        const char **names = arena_calloc(&s->r->mem, s->sigs.len + 1, sizeof *names);
        size_t n = 0;
        for (size_t i = 0; i < s->sigs.len; i++)
            if (((sig *)s->sigs.data)[i].block == IR_BLOCK_PARAM)
                names[n++] = ((sig *)s->sigs.data)[i].name;
        const char *sug = diag_suggest(it->name, names, n);
        if (sug)
            diag_hint(s->diag, "did you mean '%s'?", sug);
        else if (find_sig_in(s, it->name, IR_BLOCK_IN))
            diag_hint(s->diag, "'%s' is an input: set it with '%s = ...'", it->name, it->name);
        else if (strchr(it->name, '.'))
            diag_hint(s->diag, "a param bound by its instance's call is not a runtime param");
        return;
    }
    ast_type t = type_of(s, it->expr, M_CONST);
    if (t == TY_ERROR)
        return;
    int is_vec = sig_var(s, g, 0)->base != NULL;
    /* A duration param is seconds in the state block. */
    const sema_sym *ps = NULL;
    (void)ps;
    int is_dur = sig_var(s, g, 0)->is_dur;
    ast_type want = is_vec ? TY_VEC(g->len) : g->is_bool ? TY_BOOL : is_dur ? TY_DUR : TY_REAL;
    int ok = t == want || (is_vec && t == TY_REAL);
    if (!ok) {
        err(s, it->expr->loc, "param '%s' is %s, but this is %s", it->name, ast_type_name(want),
            ast_type_name(t));
        return;
    }
    pset *p = arena_alloc(&s->r->mem, sizeof *p + sizeof(double) * (size_t)g->len);
    p->s = g;
    for (int k = 0; k < g->len; k++) {
        p->v[k] = scn_const_value(s, it->expr, ty_is_vec(t) ? k : 0);
        const ir_var *v = sig_var(s, g, k);
        if (v->has_range && !(v->lo <= p->v[k] && p->v[k] <= v->hi)) {
            err(s, it->expr->loc, "%g is outside the range of param '%s' [%g, %g]", p->v[k],
                it->name, v->lo, v->hi);
            return;
        }
    }
    *(pset **)arena_vec_push(&s->r->mem, &r->params) = p;
}

static void check_block(scn *s, run *r, const ast_scn_item *it)
{
    entry proto = { 0 };
    proto.k0 = 0;
    proto.k1 = s->n_ticks;
    proto.period = 0;
    ast_expr *when = it->when, *len = it->len, *win = it->window;
    if (it->timing == 'd') {
        if (!window_of(s, win, &proto.k0, &proto.k1))
            return;
    } else if (it->timing == 'a') {
        if (!time_of(s, when, &proto.k0, 0))
            return;
        proto.k1 = proto.k0 + 1;
        if (len) { /* [T, T + D): its end is the tick of time T + D */
            ast_type t = type_of(s, len, M_CONST);
            if (t != TY_DUR) {
                if (t != TY_ERROR)
                    err(s, len->loc, "a length needs a unit");
                return;
            }
            double dl = scn_const_value(s, len, 0);
            double end = ticks_at(s, scn_const_value(s, when, 0) + dl, len->loc);
            if (!(end >= (double)proto.k0 + 1)) {
                err(s, len->loc, "the length is less than one tick");
                return;
            }
            if (!(end <= (double)s->n_ticks)) {
                err(s, len->loc, "the block ends after the run (%g s)",
                    (double)s->n_ticks * s->tick);
                return;
            }
            proto.k1 = (long)end;
        }
    } else {
        if (win && !window_of(s, win, &proto.k0, &proto.k1))
            return;
        ast_type t = type_of(s, when, M_CONST);
        if (t != TY_DUR) {
            if (t != TY_ERROR)
                err(s, when->loc, "a period needs a unit");
            return;
        }
        double per = ticks_at(s, scn_const_value(s, when, 0), when->loc);
        if (!(per >= 1)) {
            err(s, when->loc, "the period is less than one tick");
            return;
        }
        /* A period longer than the run fires once. */
        proto.period = per > (double)s->n_ticks ? s->n_ticks + 1 : (long)per;
        proto.on = 1;
        if (len) {
            t = type_of(s, len, M_CONST);
            if (t != TY_DUR) {
                if (t != TY_ERROR)
                    err(s, len->loc, "a length needs a unit");
                return;
            }
            double on = ticks_at(s, scn_const_value(s, len, 0), len->loc);
            if (!(on >= 1 && on <= per)) {
                err(s, len->loc, "the length must be from one tick to the period");
                return;
            }
            proto.on = on > (double)s->n_ticks ? s->n_ticks + 1 : (long)on;
        }
    }
    for (int i = 0; i < it->n_items; i++) {
        const ast_scn_item *c = it->items[i];
        if (c->kind != SC_SET) {
            err(s, c->loc, "a block holds input assignments only");
            continue;
        }
        entry en = proto;
        check_set(s, r, c, &en);
    }
}

static void add_item(scn *s, run *r, const ast_scn_item *it, int in_variant)
{
    switch (it->kind) {
    case SC_PARAM: check_param(s, r, it); break;
    case SC_SET: {
        entry en = { .held = 1, .k0 = 0, .k1 = s->n_ticks };
        check_set(s, r, it, &en);
        break;
    }
    case SC_BLOCK: check_block(s, r, it); break;
    case SC_EXPECT:
    case SC_PLOT:
    case SC_CIRCUIT:
    case SC_SEED:
    case SC_VARIANT:
        if (in_variant)
            err(s, it->loc, "a variant holds params, inputs and blocks only");
        break;
    }
}

/* ---- running -------------------------------------------------------------- */


static int entry_active(const entry *en, long k, double *frac)
{
    if (k < en->k0 || k >= en->k1)
        return 0;
    long start = en->k0, len = en->k1 - en->k0;
    if (en->period) {
        long ph = (k - en->k0) % en->period;
        if (ph >= en->on)
            return 0;
        start = k - ph;
        len = en->on < en->k1 - start ? en->on : en->k1 - start;
    }
    *frac = len > 1 ? (double)(k - start) / (double)(len - 1) : 0;
    return 1;
}

static void apply(scn *s, run *r, const entry *en, long k, unsigned char *in)
{
    double frac;
    if (!entry_active(en, k, &frac))
        return;
    ectx c = { .s = s, .r = r, .k = k, .frac = frac };
    const ast_expr *e = en->it->expr;
    int lo = en->elem >= 0 ? en->elem : 0, hi = en->elem >= 0 ? en->elem + 1 : en->s->len;
    for (int i = lo; i < hi; i++) {
        c.site = en->site ^ mix64((uint64_t)i + 1);
        double v = eval(&c, e, ty_is_vec(e->type) ? i : 0);
        rt_set(in, sig_field(s, en->s, i), v);
    }
}

/* Run r; every run of a scenario uses the same compiled code. */
static int run_one(scn *s, run *r, const rt_circuit *main_c, const rt_circuit *ref_c)
{
    rt_progress bar = { 0 }; /* on a terminal, for long runs */
    size_t n_rec = (size_t)s->n_rec ? (size_t)s->n_rec : 1;
    r->rec = calloc(n_rec * (size_t)s->n_ticks, sizeof(double));
    unsigned char *in = calloc(1, main_c->in_size + 8), *out = calloc(1, main_c->out_size + 8);
    unsigned char *st = calloc(1, main_c->state_size + 8);
    unsigned char *out2 = ref_c ? calloc(1, main_c->out_size + 8) : NULL;
    unsigned char *st2 = ref_c ? calloc(1, main_c->state_size + 8) : NULL;
    int ok = r->rec && in && out && st && (!ref_c || (out2 && st2));
    if (!ok) {
        diag_plain(s->diag, DIAG_ERROR, "out of memory recording scenario '%s' (%ld ticks)",
                   s->ast->name, s->n_ticks);
        s->errors++;
        goto done;
    }
    main_c->init(main_c->ctx, st);
    if (ref_c)
        ref_c->init(ref_c->ctx, st2);
    for (size_t i = 0; i < r->params.len; i++) {
        const pset *p = ((pset **)r->params.data)[i];
        for (int k = 0; k < p->s->len; k++) {
            rt_set(st, sig_field(s, p->s, k), p->v[k]);
            if (ref_c)
                rt_set(st2, sig_field(s, p->s, k), p->v[k]);
        }
    }
    long invalid = 0, first_invalid = -1;
    const rt_field *bad = NULL;
    double bad_value = 0;
    rt_progress_start(&bar, arena_printf(&s->r->mem, "scenario %s", s->ast->name), s->n_ticks);
    for (long k = 0; k < s->n_ticks; k++) {
        rt_progress_tick(&bar, k);
        if (s->stop && *s->stop) {
            diag_plain(s->diag, DIAG_ERROR, "scenario '%s' interrupted at %g s", s->ast->name,
                       (double)k * s->tick);
            s->errors++;
            ok = 0;
            goto done;
        }
        memset(in, 0, main_c->in_size);
        for (size_t i = 0; i < r->held.len; i++)
            apply(s, r, &((entry *)r->held.data)[i], k, in);
        for (size_t i = 0; i < r->blocks.len; i++)
            apply(s, r, &((entry *)r->blocks.data)[i], k, in);
        if (main_c->step(main_c->ctx, st, in, out) && !invalid++) {
            first_invalid = k;
            for (uint32_t f = 0; f < main_c->n_inputs && !bad; f++) {
                const rt_field *fl = &main_c->inputs[f];
                double v = rt_get(in, fl);
                if (fl->kind == RT_REAL &&
                    (!isfinite(v) || (fl->has_range && !(fl->lo <= v && v <= fl->hi)))) {
                    bad = fl;
                    bad_value = v;
                }
            }
        }
        if (ref_c) {
            ref_c->step(ref_c->ctx, st2, in, out2);
            for (uint32_t f = 0; f < main_c->n_outputs; f++)
                if (!rt_same(out, out2, &main_c->outputs[f])) {
                    diag_report(s->diag, DIAG_ERROR, s->ast->name_loc,
                                "the JIT and the interpreter disagree on '%s' at tick %ld: this "
                                "is a compiler bug",
                                main_c->outputs[f].name, k);
                    s->errors++;
                    ok = 0;
                    goto done;
                }
        }
        for (size_t g = 0; g < s->sigs.len; g++) {
            const sig *sg = &((sig *)s->sigs.data)[g];
            for (int e = 0; e < sg->len; e++) {
                if (sg->rec[e] < 0)
                    continue;
                const rt_field *f = sig_field(s, sg, e);
                const void *blk = sg->block == IR_BLOCK_IN ? (void *)in
                                  : sg->block == IR_BLOCK_OUT ? (void *)out : (void *)st;
                r->rec[(size_t)sg->rec[e] * (size_t)s->n_ticks + (size_t)k] = rt_get(blk, f);
            }
        }
    }
    if (invalid) {
        char buf[32];
        const char *why = !bad ? "invalid"
                          : !isfinite(bad_value)
                              ? "not finite"
                              : arena_printf(&s->r->mem, "outside its range [%g, %g]", bad->lo,
                                             bad->hi);
        diag_report(s->diag, DIAG_ERROR, s->ast->name_loc,
                    "in %s%s%s, input '%s' is %s at %g s, %s; the circuit keeps no state on such "
                    "a tick (%ld tick%s in all)",
                    s->ast->name, r->variant ? "." : "", r->variant ? r->variant : "",
                    bad ? bad->name : "?", rt_fmt_f64(buf, bad_value),
                    (double)first_invalid * s->tick, why, invalid, invalid > 1 ? "s" : "");
        diag_hint(s->diag, "keep stimuli inside the inputs' declared ranges");
        s->errors++;
        ok = 0;
    }
done:
    rt_progress_end(&bar);
    free(in);
    free(out);
    free(st);
    free(out2);
    free(st2);
    return ok;
}

static void measure_all(scn *s)
{
    for (size_t i = 0; i < s->meas.len; i++) {
        meas *m = &((meas *)s->meas.data)[i];
        run *r = &((run *)s->runs.data)[m->run];
        ectx c = { .s = s, .r = r };
        double acc = m->kind == MS_MIN ? INFINITY : m->kind == MS_MAX ? -INFINITY : 0;
        int nan = 0;
        for (long k = m->k0; k < m->k1; k++) {
            c.k = k;
            double v = eval(&c, m->signal, 0);
            if (isnan(v))
                nan = 1;
            switch (m->kind) {
            case MS_AT: case MS_FINAL: acc = v; break;
            case MS_MIN: acc = v < acc ? v : acc; break;
            case MS_MAX: acc = v > acc ? v : acc; break;
            case MS_MEAN: case MS_SUM: case MS_COUNT: acc += v; break;
            }
        }
        if (m->kind == MS_MEAN)
            acc /= (double)(m->k1 - m->k0);
        if (nan && (m->kind == MS_MIN || m->kind == MS_MAX))
            acc = NAN;
        m->value = acc;
    }
}

/* ---- traces and plots ---------------------------------------------------- */

static void csv_num(FILE *f, double v)
{
    char buf[32];
    fputs(rt_fmt_f64(buf, v), f);
}

static int write_trace(scn *s, const char *dir, int ri)
{
    run *r = &((run *)s->runs.data)[ri];
    char *path = arena_printf(&s->r->mem, "%s/%s%s%s.csv", dir, s->ast->name,
                              r->variant ? "." : "", r->variant ? r->variant : "");
    FILE *f = fopen(path, "w");
    if (!f) {
        diag_plain(s->diag, DIAG_ERROR, "cannot write '%s': %s", path, strerror(errno));
        return 0;
    }
    fputs("time", f);
    for (size_t g = 0; g < s->sigs.len; g++) {
        const sig *sg = &((sig *)s->sigs.data)[g];
        for (int e = 0; e < sg->len; e++)
            if (sg->rec[e] >= 0)
                fprintf(f, ",%s", sig_field(s, sg, e)->name);
    }
    fputc('\n', f);
    for (long k = 0; k < s->n_ticks; k++) {
        csv_num(f, (double)k * s->tick);
        for (size_t g = 0; g < s->sigs.len; g++) {
            const sig *sg = &((sig *)s->sigs.data)[g];
            for (int e = 0; e < sg->len; e++)
                if (sg->rec[e] >= 0) {
                    fputc(',', f);
                    csv_num(f, r->rec[(size_t)sg->rec[e] * (size_t)s->n_ticks + (size_t)k]);
                }
        }
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        diag_plain(s->diag, DIAG_ERROR, "cannot write '%s'", path);
        return 0;
    }
    return 1;
}

static int write_plot(scn *s, const char *dir)
{
    char *path = arena_printf(&s->r->mem, "%s/%s.svg", dir, s->ast->name);
    gp_plot gp;
    char why[1200];
    int rc = gp_open(&gp, path, why, sizeof why);
    if (rc == GP_MISSING) {
        diag_plain(s->diag, DIAG_ERROR, "drawing plots needs gnuplot, which is not installed");
        diag_hint(s->diag, GP_INSTALL_HINT);
        return 0;
    }
    if (rc != GP_OK) {
        diag_plain(s->diag, DIAG_ERROR, "%s", why);
        return 0;
    }
    FILE *g = gp.f;
    int panels = s->n_panels;
    fprintf(g, "set terminal svg size 800,%d font 'sans,11' background '#ffffff'\n",
            120 + 200 * panels);
    /* Fixed margins, so panels line up whatever their legends. */
    fputs("set encoding utf8\nset key outside right top\nset grid\n"
          "set lmargin 10\nset rmargin 28\n", g);
    /* The data: one column per series, one row per tick. */
    fputs("$data << EOD\n", g);
    size_t ns = s->series.len;
    /* Long runs are drawn from buckets of ticks, each as its minimum and its
     * maximum, so one-tick spikes stay visible and the file stays small. */
    long per = s->n_ticks > 2 * PLOT_POINTS ? (s->n_ticks + PLOT_POINTS - 1) / PLOT_POINTS : 1;
    double *lo = calloc(ns + 1, sizeof *lo), *hi = calloc(ns + 1, sizeof *hi);
    for (long k0 = 0; lo && hi && k0 < s->n_ticks; k0 += per) {
        long k1 = k0 + per < s->n_ticks ? k0 + per : s->n_ticks;
        for (size_t i = 0; i < ns; i++) {
            series *se = &((series *)s->series.data)[i];
            ectx c = { .s = s, .r = &((run *)s->runs.data)[se->run] };
            lo[i] = INFINITY;
            hi[i] = -INFINITY;
            for (long k = k0; k < k1; k++) {
                c.k = k;
                double v = eval(&c, se->e, 0);
                if (isfinite(v)) {
                    lo[i] = v < lo[i] ? v : lo[i];
                    hi[i] = v > hi[i] ? v : hi[i];
                    se->finite = 1;
                }
            }
        }
        for (int row = 0; row < (per > 1 ? 2 : 1); row++) {
            double t = ((double)k0 + (row ? (double)(k1 - k0) / 2 : 0)) * s->tick;
            fprintf(g, "%.6g", t);
            for (size_t i = 0; i < ns; i++) {
                double v = row ? hi[i] : lo[i];
                if (isfinite(v))
                    fprintf(g, " %.6g", v);
                else
                    fputs(" NaN", g);
            }
            fputc('\n', g);
        }
    }
    free(lo);
    free(hi);
    fputs("EOD\n", g);
    fprintf(g, "set multiplot layout %d,1 title ", panels);
    gp_quote(g, arena_printf(&s->r->mem, "scenario %s (circuit %s)", s->ast->name, s->sc->name));
    fputc('\n', g);
    for (int p = 0; p < panels; p++) {
        /* A one-tick run still gets a range gnuplot accepts. */
        fprintf(g, "set xrange [0:%.17g]\n", (double)(s->n_ticks > 1 ? s->n_ticks - 1 : 1) * s->tick);
        fputs(p == panels - 1 ? "set xlabel 'time (s)'\n" : "unset xlabel\n", g);
        int any = 0;
        for (size_t i = 0; i < ns; i++)
            any |= ((series *)s->series.data)[i].panel == p && ((series *)s->series.data)[i].finite;
        fputs(any ? "set autoscale y\n" : "set yrange [-1:1]\n", g);
        fputs("plot ", g);
        int first = 1, k_in_panel = 0;
        for (size_t i = 0; i < ns; i++) {
            series *se = &((series *)s->series.data)[i];
            if (se->panel != p)
                continue;
            /* A series with no finite value is named but not drawn (gnuplot
             * refuses a panel whose points are all undefined). */
            if (!se->finite)
                fprintf(g, "%s1/0 with lines title ", first ? "" : ", ");
            else /* dashes tell apart series that coincide (a variant equal to the run) */
                fprintf(g, "%s$data using 1:%zu with lines lw %s dt %d title ", first ? "" : ", ",
                        i + 2, first ? "2" : "1.5", k_in_panel % 4 + 1);
            k_in_panel++;
            gp_quote(g, se->finite ? se->title
                                   : arena_printf(&s->r->mem, "%s (never finite)", se->title));
            first = 0;
        }
        fputc('\n', g);
    }
    fputs("unset multiplot\n", g);
    if (gp_close(&gp, why, sizeof why) != GP_OK) {
        diag_plain(s->diag, DIAG_ERROR, "%s", why);
        return 0;
    }
    return 1;
}

/* ---- one scenario -------------------------------------------------------- */

/* The file a scenario was written in (a piece of the REPL's session, say). */
static const char *scn_origin(const compile_result *r, const ast_scenario *a)
{
    long line;
    return src_origin(r->file, a->loc.line, &line);
}

static const sema_circuit *pick_circuit(scn *s, const ast_scenario *a)
{
    const sema_module *m = s->r->sema;
    const ast_scn_item *named = NULL;
    for (int i = 0; i < a->top.n_items; i++)
        if (a->top.items[i]->kind == SC_CIRCUIT) {
            if (named)
                err(s, a->top.items[i]->loc, "a scenario runs one circuit; it is named twice");
            named = a->top.items[i];
        }
    if (!named) {
        if (m->n_circuits == 1)
            return &m->circuits[0];
        err(s, a->name_loc, "say which circuit scenario '%s' runs", a->name);
        if (m->n_circuits) {
            size_t len = 0;
            for (int i = 0; i < m->n_circuits; i++)
                len += strlen(m->circuits[i].name) + 2;
            char *list = arena_alloc(&s->r->mem, len + 1), *end = list;
            for (int i = 0; i < m->n_circuits; i++)
                end += sprintf(end, "%s%s", i ? ", " : "", m->circuits[i].name);
            diag_hint(s->diag, "add a line 'circuit NAME'; this file has %s", list);
        } else {
            diag_hint(s->diag, "add a line 'circuit NAME' (an imported circuit)");
        }
        return NULL;
    }
    const sema_circuit *c = sema_find_circuit(m, named->name), *other = NULL;
    if (c)
        return c;
    for (int j = 0; j < m->n_imports; j++) {
        const sema_circuit *ic = sema_find_circuit(m->imports[j], named->name);
        if (ic && c && !other)
            other = ic;
        else if (ic && !c)
            c = ic;
    }
    if (other) {
        err(s, named->name_loc, "circuit '%s' is ambiguous: both '%s' and '%s' define it",
            named->name, c->mod->name, other->mod->name);
        return NULL;
    }
    if (!c) {
        err(s, named->name_loc, "no circuit named '%s'", named->name);
        const char *names[256];
        size_t n = 0;
        for (int i = 0; i < m->n_circuits && n < 256; i++)
            names[n++] = m->circuits[i].name;
        const char *sug = diag_suggest(named->name, names, n);
        if (sug)
            diag_hint(s->diag, "did you mean '%s'?", sug);
        else
            diag_hint(s->diag, "a circuit of another module needs its import, e.g. 'import "
                               "std.social'");
    }
    return c;
}

static int selected(const scn_options *o, const char *name)
{
    if (!o->only)
        return 1;
    for (int i = 0; i < o->n_only; i++)
        if (!strcmp(o->only[i], name))
            return 1;
    return 0;
}

typedef struct compiled {
    const sema_circuit *sc;
    ir_circuit *ir;
    jit_fn fn;
    interp *ip;
    int failed;
} compiled;

typedef struct file_ctx {
    compile_result *r;
    const compile_opts *copts;
    const scn_options *o;
    jit *j;
    arena_vec done; /* compiled */
} file_ctx;

static compiled *get_compiled(file_ctx *fc, const sema_circuit *sc)
{
    for (size_t i = 0; i < fc->done.len; i++)
        if (((compiled *)fc->done.data)[i].sc == sc)
            return &((compiled *)fc->done.data)[i];
    compiled *c = arena_vec_push(&fc->r->mem, &fc->done);
    c->sc = sc;
    c->ir = compile_probed(fc->r, sc, fc->copts);
    if (!c->ir) {
        c->failed = 1;
        return c;
    }
    if (fc->o->check_only)
        return c;
    if (fc->o->backend != SCN_INTERP) {
        char *msg = NULL;
        if (!fc->j && (fc->j = jit_create(&msg)) != NULL)
            jit_set_lanes(fc->j, 0); /* a scenario steps one instance */
        if (!fc->j || jit_compile(fc->j, c->ir, fc->copts && fc->copts->optimize ? 2 : 0, &c->fn,
                                  &msg) != 0) {
            diag_plain(fc->r->diag, DIAG_ERROR, "JIT compilation failed: %s", msg ? msg : "?");
            c->failed = 1;
        }
        free(msg);
    }
    if (fc->o->backend != SCN_JIT)
        c->ip = interp_new(c->ir);
    return c;
}

/* Whether span a lies within span b (one expectation's measurements, even
 * with several expectations on a line). */
static int inside(src_loc a, src_loc b)
{
    long as = (long)a.line * 100000 + a.col, ae = (long)a.end_line * 100000 + a.end_col;
    long bs = (long)b.line * 100000 + b.col, be = (long)b.end_line * 100000 + b.end_col;
    return a.file == b.file && as >= bs && ae <= be;
}

/* Whether e is obvious once its measurements are shown: a number, a
 * duration, or one measurement. */
static int plain_side(const ast_expr *e)
{
    return e->kind == EX_NUM || e->kind == EX_DUR || e->kind == EX_BOOL ||
           (e->kind == EX_UNARY && e->op == OP_NEG && e->lhs->kind == EX_NUM) ||
           (e->kind == EX_CALL && (e->field || is_measure_name(e->name)) && e->sym >= 0);
}

/* The two sides of every comparison in an expectation whose sides are
 * computed (ratios, differences, sums of measurements). */
static void print_sides(scn *s, const scn_options *o, const ast_expr *e, int pass)
{
    if (e->kind == EX_BINARY && (e->op == OP_AND || e->op == OP_OR)) {
        print_sides(s, o, e->lhs, pass);
        print_sides(s, o, e->rhs, pass);
        return;
    }
    if (e->kind == EX_UNARY && e->op == OP_NOT) {
        print_sides(s, o, e->lhs, pass);
        return;
    }
    if (e->kind != EX_BINARY || e->op < OP_LT || e->op > OP_NE || ty_is_vec(e->lhs->type))
        return;
    if (plain_side(e->lhs) && plain_side(e->rhs))
        return;
    ectx c = { .s = s, .r = (run *)s->runs.data };
    char b1[32], b2[32];
    const char *l = src_text(&s->r->mem, e->lhs->loc), *r = src_text(&s->r->mem, e->rhs->loc);
    double lv = eval(&c, e->lhs, 0), rv = eval(&c, e->rhs, 0);
    if (pass && e->rhs->kind == EX_NUM)
        fprintf(o->out, "     %s = %s, against %s\n", l, rt_fmt_f64(b1, lv), r);
    else if (pass)
        fprintf(o->out, "     %s = %s, against %s = %s\n", l, rt_fmt_f64(b1, lv), r,
                rt_fmt_f64(b2, rv));
    else if (eval(&c, e, 0) == 0)
        diag_report(s->diag, DIAG_NOTE, e->loc, "the left side is %s, the right side %s",
                    rt_fmt_f64(b1, lv), rt_fmt_f64(b2, rv));
}

static int print_expectations(scn *s, const scn_options *o, int all)
{
    int failed = 0;
    for (int i = 0; i < s->ast->top.n_items; i++) {
        const ast_scn_item *it = s->ast->top.items[i];
        if (it->kind != SC_EXPECT || it->expr->type != TY_BOOL)
            continue;
        ectx c = { .s = s, .r = (run *)s->runs.data };
        int pass = eval(&c, it->expr, 0) != 0;
        failed += !pass;
        if (pass && !all)
            continue;
        if (!pass)
            diag_report(s->diag, DIAG_ERROR, it->loc, "expectation failed in scenario '%s'",
                        s->ast->name);
        else
            fprintf(o->out, "  ok %s\n", src_text(&s->r->mem, it->expr->loc));
        for (size_t k = 0; k < s->meas.len; k++) {
            meas *m = &((meas *)s->meas.data)[k];
            if (!inside(m->call->loc, it->loc))
                continue;
            char buf[32];
            const char *what = src_text(&s->r->mem, m->call->loc);
            int seen = 0; /* the same measurement twice in one expectation: once */
            for (size_t q = 0; q < k && !seen; q++) {
                const meas *mq = &((meas *)s->meas.data)[q];
                seen = inside(mq->call->loc, it->loc) &&
                       !strcmp(src_text(&s->r->mem, mq->call->loc), what);
            }
            if (seen)
                continue;
            const char *where = m->k1 - m->k0 == 1
                                    ? arena_printf(&s->r->mem, "tick %ld, %g s", m->k0,
                                                   (double)m->k0 * s->tick)
                                    : arena_printf(&s->r->mem, "ticks %ld to %ld, %g s to %g s",
                                                   m->k0, m->k1 - 1, (double)m->k0 * s->tick,
                                                   (double)(m->k1 - 1) * s->tick);
            if (!pass)
                diag_report(s->diag, DIAG_NOTE, m->call->loc, "%s is %s (%s)", what,
                            rt_fmt_f64(buf, m->value), where);
            else
                fprintf(o->out, "     %s = %s (%s)\n", what, rt_fmt_f64(buf, m->value), where);
        }
        print_sides(s, o, it->expr, pass);
        if (!pass && scn_origin(s->r, s->ast)[0] != '<') /* a file, not typed input */
            diag_hint(s->diag, "to see the run: drivec test %s --scenario %s --trace DIR",
                      scn_origin(s->r, s->ast), s->ast->name);
    }
    return failed;
}

static int run_scenario(file_ctx *fc, const ast_scenario *a, scn_totals *t)
{
    compile_result *r = fc->r;
    const scn_options *o = fc->o;
    scn S = { .r = r, .diag = r->diag, .ast = a, .tick = r->sema->tick_seconds, .seed = 1,
              .stop = o->stop };
    scn *s = &S;
    arena_vec_init(&s->sigs, sizeof(sig));
    arena_vec_init(&s->runs, sizeof(run));
    arena_vec_init(&s->meas, sizeof(meas));
    arena_vec_init(&s->series, sizeof(series));
    s->sc = pick_circuit(s, a);
    if (!s->sc)
        goto failed;
    compiled *cc = get_compiled(fc, s->sc);
    if (cc->failed)
        goto failed;
    s->ir = cc->ir;
    s->rt = compile_reflect(&r->mem, cc->ir);
    add_sigs(s, IR_BLOCK_IN, cc->ir->inputs, cc->ir->n_inputs);
    add_sigs(s, IR_BLOCK_OUT, cc->ir->outputs, cc->ir->n_outputs);
    add_sigs(s, IR_BLOCK_PARAM, cc->ir->params, cc->ir->n_params);
    if (o->trace_dir) /* traces hold every input and output, plus what is measured */
        for (size_t g = 0; g < s->sigs.len; g++) {
            sig *sg = &((sig *)s->sigs.data)[g];
            if (sg->block == IR_BLOCK_IN ||
                (sg->block == IR_BLOCK_OUT && sig_var(s, sg, 0)->role != IR_ROLE_PROBE))
                for (int k = 0; k < sg->len; k++)
                    record(s, sg, k);
        }

    /* Length and seed. */
    ast_type lt = type_of(s, a->length, M_CONST);
    if (lt != TY_DUR) {
        if (lt != TY_ERROR)
            err(s, a->length->loc, "a scenario's length needs a unit");
        goto failed;
    }
    double secs = scn_const_value(s, a->length, 0);
    double nt = sema_round_ticks(secs, s->tick, NULL);
    if (!(nt >= 1) || nt > SCN_MAX_TICKS) {
        err(s, a->length->loc, "a scenario runs from 1 tick to %d ticks; this is %g ticks",
            SCN_MAX_TICKS, nt);
        goto failed;
    }
    s->n_ticks = (long)nt;
    for (int i = 0; i < a->top.n_items; i++) {
        const ast_scn_item *it = a->top.items[i];
        if (it->kind != SC_SEED)
            continue;
        ast_type st = type_of(s, it->expr, M_CONST);
        double v = st == TY_REAL ? scn_const_value(s, it->expr, 0) : -1;
        if (st == TY_ERROR)
            continue;
        if (!(v >= 0 && v <= 9007199254740992.0 && v == floor(v)))
            err(s, it->expr->loc, "a seed is a whole number from 0 to 2^53");
        else
            s->seed = (uint64_t)v;
    }

    /* Runs: the scenario, then each variant. */
    run *base = arena_vec_push(&r->mem, &s->runs);
    base->loc = a->name_loc;
    for (int i = 0; i < a->top.n_items; i++) {
        const ast_scn_item *it = a->top.items[i];
        if (it->kind != SC_VARIANT)
            continue;
        size_t nl = strlen(it->name);
        int clash = find_sig(s, it->name) != NULL;
        for (size_t g = 0; g < s->sigs.len && !clash; g++) {
            const char *sn = ((sig *)s->sigs.data)[g].name;
            clash = strncmp(sn, it->name, nl) == 0 && sn[nl] == '.';
        }
        if (clash)
            err(s, it->name_loc, "variant '%s' has the name of a signal or instance of circuit '%s'",
                it->name, s->sc->name);
        else if (run_of_variant(s, it->name) >= 0)
            err(s, it->name_loc, "a second variant named '%s'", it->name);
        run *v = arena_vec_push(&r->mem, &s->runs);
        base = (run *)s->runs.data;
        v->variant = it->name;
        v->loc = it->name_loc;
    }
    /* The scenario's own items are checked once; each variant starts from
     * a copy of them and adds its own. */
    for (size_t ri = 0; ri < s->runs.len; ri++) {
        run *rn = &((run *)s->runs.data)[ri];
        arena_vec_init(&rn->params, sizeof(pset *));
        arena_vec_init(&rn->held, sizeof(entry));
        arena_vec_init(&rn->blocks, sizeof(entry));
        if (ri == 0) {
            for (int i = 0; i < a->top.n_items; i++)
                if (a->top.items[i]->kind != SC_VARIANT)
                    add_item(s, rn, a->top.items[i], 0);
            continue;
        }
        const run *b0 = (run *)s->runs.data;
        for (size_t k = 0; k < b0->params.len; k++)
            *(pset **)arena_vec_push(&r->mem, &rn->params) = ((pset **)b0->params.data)[k];
        for (size_t k = 0; k < b0->held.len; k++)
            *(entry *)arena_vec_push(&r->mem, &rn->held) = ((entry *)b0->held.data)[k];
        for (size_t k = 0; k < b0->blocks.len; k++)
            *(entry *)arena_vec_push(&r->mem, &rn->blocks) = ((entry *)b0->blocks.data)[k];
        for (int i = 0; i < a->top.n_items; i++)
            if (a->top.items[i]->kind == SC_VARIANT && !strcmp(a->top.items[i]->name, rn->variant))
                for (int k = 0; k < a->top.items[i]->n_items; k++)
                    add_item(s, rn, a->top.items[i]->items[k], 1);
    }
    /* Expectations and plots. */
    int n_expect = 0;
    for (int i = 0; i < a->top.n_items; i++) {
        const ast_scn_item *it = a->top.items[i];
        if (it->kind == SC_EXPECT) {
            n_expect++;
            ast_type et = type_of(s, it->expr, M_EXPECT);
            if (et != TY_BOOL && et != TY_ERROR)
                err(s, it->expr->loc, "an expectation must be a bool, not %s", ast_type_name(et));
        } else if (it->kind == SC_PLOT) {
            for (int k = 0; k < it->plots.len; k++) {
                ast_expr *e = it->plots.items[k];
                series *se = arena_vec_push(&r->mem, &s->series);
                se->panel = s->n_panels;
                se->title = src_text(&r->mem, e->loc);
                se->e = e;
                ast_type pt = type_of(s, e, M_SIGNAL);
                if (pt != TY_REAL && pt != TY_BOOL && pt != TY_ERROR)
                    err(s, e->loc, "a plotted signal must be a real or a bool, not %s",
                        ast_type_name(pt));
            }
            s->n_panels++;
        }
    }
    if (!n_expect)
        err(s, a->name_loc, "scenario '%s' expects nothing", a->name);
    if (s->errors)
        goto failed;
    if (o->check_only)
        return 0;
    if ((double)s->n_rec * (double)s->n_ticks * (double)s->runs.len > SCN_MAX_RECORDED) {
        err(s, a->length->loc,
            "this scenario would record %.3g values (%d signals, %ld ticks, %zu runs); the limit "
            "is %.3g",
            (double)s->n_rec * (double)s->n_ticks * (double)s->runs.len, s->n_rec, s->n_ticks,
            s->runs.len, (double)SCN_MAX_RECORDED);
        diag_hint(s->diag, "measure fewer signals, or run a shorter scenario");
        goto failed;
    }

    /* Run. */
    rt_circuit main_c = s->rt, ref_c = s->rt;
    if (o->backend == SCN_INTERP) {
        interp_bind(&main_c, cc->ip);
    } else {
        jit_bind(&main_c, &cc->fn);
        interp_bind(&ref_c, cc->ip);
    }
    int ran = 1;
    for (size_t ri = 0; ri < s->runs.len && ran; ri++)
        ran = run_one(s, &((run *)s->runs.data)[ri], &main_c,
                      o->backend == SCN_BOTH ? &ref_c : NULL);
    if (!ran)
        goto failed;
    measure_all(s);
    if (o->trace_dir)
        for (size_t ri = 0; ri < s->runs.len; ri++)
            if (!write_trace(s, o->trace_dir, (int)ri))
                s->errors++;
    if (o->plot_dir && s->n_panels && !write_plot(s, o->plot_dir))
        s->errors++;
    int nfail = 0;
    if (o->verbose) {
        fprintf(o->out, "%s %s (%s, %ld tick%s, %zu run%s)\n", "scenario", a->name, s->sc->name,
                s->n_ticks, s->n_ticks > 1 ? "s" : "", s->runs.len, s->runs.len > 1 ? "s" : "");
    }
    nfail = print_expectations(s, o, o->verbose);
    if (nfail || s->errors) {
        if (nfail)
            fprintf(o->out, "FAIL %s: %s (%d of %d expectations failed)\n", scn_origin(r, a), a->name,
                    nfail, n_expect);
        else
            fprintf(o->out, "FAIL %s: %s (its expectations hold, but its trace or plot could not "
                            "be written)\n", scn_origin(r, a), a->name);
        t->failed++;
    } else {
        fprintf(o->out, "ok   %s: %s (%d expectation%s, %ld tick%s%s)\n", scn_origin(r, a), a->name,
                n_expect, n_expect > 1 ? "s" : "", s->n_ticks, s->n_ticks > 1 ? "s" : "",
                s->runs.len > 1 ? arena_printf(&r->mem, ", %zu runs", s->runs.len) : "");
        t->passed++;
    }
    for (size_t ri = 0; ri < s->runs.len; ri++)
        free(((run *)s->runs.data)[ri].rec);
    return s->errors ? -1 : 0;
failed:
    for (size_t ri = 0; ri < s->runs.len; ri++)
        free(((run *)s->runs.data)[ri].rec);
    if (o->check_only)
        return -1;
    fprintf(o->out, "FAIL %s: %s (errors)\n", scn_origin(r, a), a->name);
    t->failed++;
    return -1;
}

int scn_run_file(compile_result *r, const compile_opts *copts, const scn_options *o,
                 scn_totals *t)
{
    file_ctx fc = { .r = r, .copts = copts, .o = o };
    arena_vec_init(&fc.done, sizeof(compiled));
    int status = 0;
    const ast_module *m = r->ast;
    for (int i = 0; i < m->n_scenarios; i++) {
        for (int k = 0; k < i; k++)
            if (!strcmp(m->scenarios[k]->name, m->scenarios[i]->name)) {
                diag_report(r->diag, DIAG_ERROR, m->scenarios[i]->name_loc,
                            "a second scenario named '%s'", m->scenarios[i]->name);
                diag_report(r->diag, DIAG_NOTE, m->scenarios[k]->name_loc, "the first is here");
                status = -1;
            }
    }
    for (int i = 0; i < m->n_scenarios; i++) {
        if (!selected(o, m->scenarios[i]->name))
            continue;
        t->matched++;
        int dup = 0;
        for (int k = 0; k < i && !dup; k++)
            dup = !strcmp(m->scenarios[k]->name, m->scenarios[i]->name);
        if (dup && !o->check_only) { /* reported above; its results would be ambiguous */
            fprintf(o->out, "FAIL %s: %s (a second scenario with this name)\n",
                    scn_origin(r, m->scenarios[i]), m->scenarios[i]->name);
            t->failed++;
            continue;
        }
        if (run_scenario(&fc, m->scenarios[i], t) != 0)
            status = -1;
        if (o->check_only)
            continue; /* the caller prints the diagnostics */
        fflush(o->out);
        diag_flush(r->diag, stderr, diag_want_color(stderr));
    }
    for (size_t i = 0; i < fc.done.len; i++) {
        compiled *c = &((compiled *)fc.done.data)[i];
        interp_free(c->ip);
    }
    if (fc.j)
        jit_destroy(fc.j);
    return status;
}
