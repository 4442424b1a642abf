/* gen.c — the random program generator (gen.h).
 *
 * A program is built circuit by circuit. Each circuit keeps a table of the
 * signals made so far with their type, whether they are learned (for the
 * heuristic rule) and which of the circuit's inputs they depend on (so that a
 * learned argument never reaches a heuristic inside an instance). Every new
 * signal reads only signals already in the table, so no instantaneous cycle
 * can arise; reads of later signals go through pre() or a state's next, which
 * the language allows. Items are then written in a shuffled order, since the
 * order of equations in a circuit must not matter.
 */
#include "gen.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const gen_construct_names[GEN_C_COUNT] = {
    "vector ops/broadcast", "dot/sum/norm", "indexing", "math built-ins", "pre", "pre with init",
    "state/next", "param ranges", "duration params", "learned inputs", "instances",
    "inline calls", "heuristics", "reflexes", "refractory", "predictors", "predictor delay",
    "defer", "nlms", "squash", "gates", "attention", "rewards", "import std.core", "constants",
    "alpha/decay", "if/then/else", "vector literals", "min/max/clamp", "self pre",
};

/* ---- text ----------------------------------------------------------------- */

typedef struct sb {
    char *s;
    size_t n, cap;
} sb;

static void sb_put(sb *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            fprintf(stderr, "gen: out of memory\n");
            abort();
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void sbf(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sbf(sb *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < (int)sizeof tmp) {
        sb_put(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_put(b, big, (size_t)n);
    free(big);
}

static char *sb_take(sb *b)
{
    char *s = b->s ? b->s : calloc(1, 1);
    b->s = NULL;
    b->n = b->cap = 0;
    return s;
}

/* ---- randomness (splitmix64, as the host tests use) ------------------------ */

static uint64_t rs;
static uint64_t rnd(void)
{
    uint64_t z = (rs += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static int below(int n) { return n <= 1 ? 0 : (int)(rnd() % (uint64_t)n); }
static int chance(int percent) { return below(100) < percent; }
static double unit(void) { return (double)(rnd() >> 11) * 0x1p-53; }

/* ---- types and the signal table -------------------------------------------- */

enum { T_REAL, T_BOOL, T_VEC, T_DUR };
typedef struct ty {
    int k, n; /* n: a vector's length */
} ty;

static ty TR = { T_REAL, 0 }, TB = { T_BOOL, 0 }, TD = { T_DUR, 0 };
static ty tvec(int n) { return (ty){ T_VEC, n }; }
static int ty_eq(ty a, ty b) { return a.k == b.k && (a.k != T_VEC || a.n == b.n); }

enum { K_INPUT, K_PARAM, K_CONST, K_SIG, K_STATE, K_OUTPUT };

enum { MAX_SYM = 256, MAX_CIRC = 8, MAX_IO = 16, MAX_ITEMS = 256 };

typedef struct sym {
    char name[64];
    ty t;
    int kind;
    int learned;     /* depends on something learned */
    uint64_t inmask; /* the circuit's inputs it depends on */
    int ranged;
    double lo, hi;   /* inputs and params with a range (durations in seconds) */
    int group;       /* the item that made it (a reflex makes r, r.onset, ...) */
} sym;

/* A circuit as an instance sees it. */
typedef struct iface {
    char name[32];
    int n_in, n_par, n_out;
    ty in_t[MAX_IO], par_t[MAX_IO], out_t[MAX_IO];
    char in_name[MAX_IO][64], par_name[MAX_IO][64], out_name[MAX_IO][64];
    int in_ranged[MAX_IO], par_ranged[MAX_IO];
    double in_lo[MAX_IO], in_hi[MAX_IO], par_lo[MAX_IO], par_hi[MAX_IO];
    int out_learned[MAX_IO];
    uint64_t heur_inmask; /* inputs that reach a heuristic inside */
} iface;

typedef struct gctx {
    double tick_ms;
    iface subs[MAX_CIRC + 8];
    int n_subs;
    sym mconst[32]; /* module constants */
    int n_mconst;
    gen_info *info;
    int n_instances; /* over the program, to keep it small */
} gctx;

typedef struct circ {
    gctx *g;
    sym syms[MAX_SYM];
    int n;
    int n_inputs;
    char *items[MAX_ITEMS];
    int n_items;
    int fixed_items; /* input declarations stay in order at the front */
    uint64_t heur_inmask;
    int next_id;
    int group, group_uses[MAX_SYM + 1]; /* reads of each item's signals */
} circ;

/* What an expression being generated may read, and what it did read. */
typedef struct ectx {
    circ *c;
    int innate;      /* nothing learned may be read (heuristics, their inputs) */
    int allow_call;  /* inline instances allowed */
    int constant;    /* only constants (module and circuit consts, dt) */
    int learned;     /* out: read something learned */
    uint64_t mask;   /* out: inputs read */
    int nonconst;    /* out: read a non-constant */
} ectx;

static void use(gctx *g, int c)
{
    if (g->info)
        g->info->used[c] = 1;
}

static sym *add_sym(circ *c, const char *name, ty t, int kind, int learned, uint64_t mask)
{
    if (c->n >= MAX_SYM)
        return NULL;
    sym *s = &c->syms[c->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->t = t;
    s->kind = kind;
    s->learned = learned;
    s->inmask = mask;
    s->group = c->group;
    return s;
}

static void add_item(circ *c, sb *b)
{
    if (c->n_items < MAX_ITEMS)
        c->items[c->n_items++] = sb_take(b);
    else
        free(sb_take(b));
}

/* A fresh signal name: one namespace per circuit. Each item starts with
 * one, so it also starts the item's group of signals. */
static void fresh(circ *c, const char *prefix, char *out, size_t n)
{
    if (c->group < MAX_SYM)
        c->group++;
    snprintf(out, n, "%s%d", prefix, c->next_id++);
}

/* ---- literals --------------------------------------------------------------- */

static void real_lit(sb *b)
{
    static const char *const lits[] = {
        "0",    "1",     "0.5",  ".5",    "2",     "1e-3",  "2.5E+2", "3",      "0.25",
        "10",   "0.1",   "1e300", "1e-310", "4.9e-324", "100", "0.75", "1.5",   "7",
        "1e-8", "123.456", "0.999", "1e308", "2e-308", "65536",
    };
    int k = below(4);
    if (k == 0)
        sbf(b, "%s", lits[below((int)(sizeof lits / sizeof *lits))]);
    else if (k == 1)
        sbf(b, "%.3g", unit() * 4);
    else if (k == 2)
        sbf(b, "(-%s)", lits[below(12)]);
    else
        sbf(b, "%d", below(5));
}

/* A duration literal of k ticks in one of its spellings (durations in ms,
 * s, min or ticks; spaces optional). */
static void dur_ticks(gctx *g, sb *b, int k)
{
    double ms = k * g->tick_ms;
    switch (below(5)) {
    case 0: sbf(b, "%d ticks", k); break;
    case 1: sbf(b, "%d%s", k, k == 1 ? "tick" : "ticks"); break;
    case 2: sbf(b, "%.15g s", ms / 1000); break;
    default: sbf(b, "%.15g%sms", ms, chance(50) ? " " : ""); break;
    }
}

static void dur_lit(gctx *g, sb *b)
{
    static const char *const lits[] = { "200 ms", "1 s", "50ms", "0.5 s", "1.5 min", "3 ticks",
                                        "20 ms", "2 s", "10 ms", "1 tick", "300 ms" };
    if (chance(30))
        dur_ticks(g, b, 1 + below(20));
    else
        sbf(b, "%s", lits[below((int)(sizeof lits / sizeof *lits))]);
}

/* ---- expressions ---------------------------------------------------------- */

static void expr(ectx *e, sb *b, ty t, int depth);

/* A random symbol of type t that e may read, or NULL. */
static const sym *pick_sym(ectx *e, ty t)
{
    circ *c = e->c;
    const sym *cand[MAX_SYM + 32];
    int n = 0;
    for (int i = 0; i < c->n; i++) {
        const sym *s = &c->syms[i];
        if (!ty_eq(s->t, t) || (e->innate && s->learned) || (e->constant && s->kind != K_CONST))
            continue;
        cand[n++] = s;
    }
    for (int i = 0; i < c->g->n_mconst; i++)
        if (ty_eq(c->g->mconst[i].t, t))
            cand[n++] = &c->g->mconst[i];
    if (!n)
        return NULL;
    const sym *s = cand[below(n)];
    if (s >= c->syms && s < c->syms + MAX_SYM)
        c->group_uses[s->group]++;
    e->learned |= s->learned;
    e->mask |= s->inmask;
    if (s->kind != K_CONST)
        e->nonconst = 1;
    return s;
}

static int any_vec_len(ectx *e)
{
    circ *c = e->c;
    int lens[MAX_SYM], n = 0;
    for (int i = 0; i < c->n; i++)
        if (c->syms[i].t.k == T_VEC && !(e->innate && c->syms[i].learned) &&
            !(e->constant && c->syms[i].kind != K_CONST))
            lens[n++] = c->syms[i].t.n;
    return n ? lens[below(n)] : 1 + below(5);
}

static void binop_arith(ectx *e, sb *b, ty t, int depth)
{
    static const char *const ops[] = { "+", "-", "*", "/" };
    const char *op = ops[below(4)];
    sbf(b, "(");
    if (t.k == T_VEC && chance(30)) { /* broadcast a real on one side */
        if (chance(50)) {
            expr(e, b, TR, depth - 1);
            sbf(b, " %s ", op);
            expr(e, b, t, depth - 1);
        } else {
            expr(e, b, t, depth - 1);
            sbf(b, " %s ", op);
            expr(e, b, TR, depth - 1);
        }
        use(e->c->g, GEN_C_VEC_OP);
    } else {
        expr(e, b, t, depth - 1);
        sbf(b, " %s ", op);
        expr(e, b, t, depth - 1);
        if (t.k == T_VEC)
            use(e->c->g, GEN_C_VEC_OP);
    }
    sbf(b, ")");
}

/* An inline instance of a one-output sub-circuit of type t, or 0. */
static int inline_call(ectx *e, sb *b, ty t, int depth);

static void dur_expr(ectx *e, sb *b, int depth)
{
    gctx *g = e->c->g;
    int k = depth <= 0 ? below(3) : below(7);
    const sym *s;
    switch (k) {
    case 0: dur_lit(g, b); return;
    case 1:
        if (!e->constant) {
            sbf(b, "dt");
            return;
        }
        dur_lit(g, b);
        return;
    case 2:
        if ((s = pick_sym(e, TD))) {
            sbf(b, "%s", s->name);
            return;
        }
        dur_lit(g, b);
        return;
    case 3:
        sbf(b, "(");
        dur_expr(e, b, depth - 1);
        sbf(b, chance(50) ? " + " : " - ");
        dur_expr(e, b, depth - 1);
        sbf(b, ")");
        return;
    case 4:
        sbf(b, "(");
        dur_expr(e, b, depth - 1);
        sbf(b, " * ");
        expr(e, b, TR, depth - 1);
        sbf(b, ")");
        return;
    case 5:
        sbf(b, "(");
        expr(e, b, TR, depth - 1);
        sbf(b, " * ");
        dur_expr(e, b, depth - 1);
        sbf(b, ")");
        return;
    default:
        sbf(b, "(");
        dur_expr(e, b, depth - 1);
        sbf(b, " / ");
        expr(e, b, TR, depth - 1);
        sbf(b, ")");
        return;
    }
}

/* A duration that is positive for sure: a time constant. */
static void tau_expr(ectx *e, sb *b)
{
    const sym *s;
    if (chance(40) && (s = pick_sym(e, TD)) && s->ranged && s->lo > 0) {
        sbf(b, "%s", s->name);
        return;
    }
    dur_lit(e->c->g, b);
}

static void real_expr(ectx *e, sb *b, int depth)
{
    gctx *g = e->c->g;
    static const char *const fns[] = { "exp", "log", "tanh", "sin", "cos", "sqrt", "abs",
                                       "floor", "sigmoid" };
    int k = depth <= 0 ? below(3) : below(22);
    const sym *s;
    int n;
    switch (k) {
    case 0:
    case 1:
        if ((s = pick_sym(e, TR))) {
            sbf(b, "%s", s->name);
            return;
        }
        real_lit(b);
        return;
    case 2: real_lit(b); return;
    case 3:
    case 4:
    case 5: binop_arith(e, b, TR, depth); return;
    case 6:
        sbf(b, "(-");
        expr(e, b, TR, depth - 1);
        sbf(b, ")");
        return;
    case 7:
    case 8:
        sbf(b, "%s(", fns[below(9)]);
        expr(e, b, TR, depth - 1);
        sbf(b, ")");
        use(g, GEN_C_MATH);
        return;
    case 9: {
        const char *f = chance(50) ? "min" : "max";
        if (chance(30)) {
            sbf(b, "clamp(");
            expr(e, b, TR, depth - 1);
            sbf(b, ", ");
            expr(e, b, TR, depth - 1);
            sbf(b, ", ");
        } else {
            sbf(b, "%s(", f);
            expr(e, b, TR, depth - 1);
            sbf(b, ", ");
        }
        expr(e, b, TR, depth - 1);
        sbf(b, ")");
        use(g, GEN_C_MINMAX);
        return;
    }
    case 10:
        n = any_vec_len(e);
        if (chance(40)) {
            sbf(b, "dot(");
            expr(e, b, tvec(n), depth - 1);
            sbf(b, ", ");
            expr(e, b, tvec(n), depth - 1);
            sbf(b, ")");
        } else {
            sbf(b, "%s(", chance(50) ? "sum" : "norm");
            expr(e, b, tvec(n), depth - 1);
            sbf(b, ")");
        }
        use(g, GEN_C_DOT_SUM_NORM);
        return;
    case 11:
        n = any_vec_len(e);
        if ((s = pick_sym(e, tvec(n))))
            sbf(b, "%s[%d]", s->name, below(n));
        else {
            sbf(b, "(");
            expr(e, b, tvec(n), depth - 1);
            sbf(b, ")[%d]", below(n));
        }
        use(g, GEN_C_INDEX);
        return;
    case 12:
        sbf(b, "real(");
        expr(e, b, TB, depth - 1);
        sbf(b, ")");
        return;
    case 13:
        sbf(b, "(if ");
        expr(e, b, TB, depth - 1);
        sbf(b, " then ");
        expr(e, b, TR, depth - 1);
        sbf(b, " else ");
        expr(e, b, TR, depth - 1);
        sbf(b, ")");
        use(g, GEN_C_IF);
        return;
    case 14:
        sbf(b, "%s(", chance(50) ? "alpha" : "decay");
        tau_expr(e, b);
        sbf(b, ")");
        use(g, GEN_C_ALPHA_DECAY);
        return;
    case 15:
        sbf(b, "(");
        dur_expr(e, b, depth - 1);
        sbf(b, " / ");
        tau_expr(e, b);
        sbf(b, ")");
        return;
    case 16:
    case 17:
        if (!e->constant && (s = pick_sym(e, TR))) {
            if (chance(30)) {
                sbf(b, "pre(%s, ", s->name);
                expr(e, b, TR, depth - 1);
                sbf(b, ")");
                use(g, GEN_C_PRE_INIT);
            } else
                sbf(b, "pre(%s)", s->name);
            use(g, GEN_C_PRE);
            return;
        }
        real_lit(b);
        return;
    case 18:
        if (!e->constant && chance(50)) { /* pre of an expression */
            sbf(b, "pre(");
            expr(e, b, TR, depth - 1);
            sbf(b, ")");
            use(g, GEN_C_PRE);
            return;
        }
        real_lit(b);
        return;
    case 19:
        if (e->allow_call && inline_call(e, b, TR, depth))
            return;
        real_lit(b);
        return;
    default:
        binop_arith(e, b, TR, depth);
        return;
    }
}

static void bool_expr(ectx *e, sb *b, int depth)
{
    gctx *g = e->c->g;
    static const char *const cmp[] = { "<", "<=", ">", ">=", "==", "!=" };
    int k = depth <= 0 ? below(2) : below(13);
    const sym *s;
    switch (k) {
    case 0:
        if ((s = pick_sym(e, TB))) {
            sbf(b, "%s", s->name);
            return;
        }
        sbf(b, chance(50) ? "true" : "false");
        return;
    case 1: sbf(b, chance(50) ? "true" : "false"); return;
    case 2:
    case 3:
    case 4:
        sbf(b, "(");
        expr(e, b, TR, depth - 1);
        sbf(b, " %s ", cmp[below(6)]);
        expr(e, b, TR, depth - 1);
        sbf(b, ")");
        return;
    case 5:
        sbf(b, "(");
        expr(e, b, TB, depth - 1);
        sbf(b, " %s ", chance(50) ? "and" : "or");
        expr(e, b, TB, depth - 1);
        sbf(b, ")");
        return;
    case 6:
        sbf(b, "(not ");
        expr(e, b, TB, depth - 1);
        sbf(b, ")");
        return;
    case 7:
        sbf(b, "(");
        expr(e, b, TB, depth - 1);
        sbf(b, " %s ", chance(50) ? "==" : "!=");
        expr(e, b, TB, depth - 1);
        sbf(b, ")");
        return;
    case 8:
        sbf(b, "(");
        dur_expr(e, b, depth - 1);
        sbf(b, " %s ", cmp[below(4)]);
        dur_expr(e, b, depth - 1);
        sbf(b, ")");
        return;
    case 9:
        if (!e->constant && (s = pick_sym(e, TB))) {
            if (chance(30)) {
                sbf(b, "pre(%s, ", s->name);
                expr(e, b, TB, depth - 1);
                sbf(b, ")");
                use(g, GEN_C_PRE_INIT);
            } else
                sbf(b, "pre(%s)", s->name);
            use(g, GEN_C_PRE);
            return;
        }
        sbf(b, "false");
        return;
    case 10:
        sbf(b, "(if ");
        expr(e, b, TB, depth - 1);
        sbf(b, " then ");
        expr(e, b, TB, depth - 1);
        sbf(b, " else ");
        expr(e, b, TB, depth - 1);
        sbf(b, ")");
        use(g, GEN_C_IF);
        return;
    case 11:
        if (e->allow_call && inline_call(e, b, TB, depth))
            return;
        sbf(b, "true");
        return;
    default:
        if ((s = pick_sym(e, TB))) {
            sbf(b, "%s", s->name);
            return;
        }
        sbf(b, "(");
        expr(e, b, TR, depth - 1);
        sbf(b, " > 0.5)");
        return;
    }
}

static void vec_expr(ectx *e, sb *b, ty t, int depth)
{
    gctx *g = e->c->g;
    static const char *const fns[] = { "exp", "log", "tanh", "sin", "cos", "sqrt", "abs",
                                       "floor", "sigmoid" };
    int k = depth <= 0 ? below(3) : below(13);
    const sym *s;
    switch (k) {
    case 0:
    case 1:
        if ((s = pick_sym(e, t))) {
            sbf(b, "%s", s->name);
            return;
        }
        __attribute__((fallthrough)); /* none: a literal */
    case 2:
        sbf(b, "[");
        for (int i = 0; i < t.n; i++) {
            if (i)
                sbf(b, ", ");
            if (depth > 0 && chance(30))
                expr(e, b, TR, depth - 1);
            else
                real_lit(b);
        }
        sbf(b, "]");
        use(g, GEN_C_VEC_LIT);
        return;
    case 3:
    case 4:
    case 5: binop_arith(e, b, t, depth); return;
    case 6:
        sbf(b, "(-");
        expr(e, b, t, depth - 1);
        sbf(b, ")");
        return;
    case 7:
        sbf(b, "%s(", fns[below(9)]);
        expr(e, b, t, depth - 1);
        sbf(b, ")");
        use(g, GEN_C_MATH);
        return;
    case 8:
        if (chance(30)) {
            sbf(b, "clamp(");
            expr(e, b, t, depth - 1);
            sbf(b, ", ");
            expr(e, b, chance(50) ? t : TR, depth - 1);
            sbf(b, ", ");
            expr(e, b, chance(50) ? t : TR, depth - 1);
            sbf(b, ")");
        } else {
            sbf(b, "%s(", chance(50) ? "min" : "max");
            if (chance(50)) {
                expr(e, b, t, depth - 1);
                sbf(b, ", ");
                expr(e, b, chance(50) ? t : TR, depth - 1);
            } else {
                expr(e, b, TR, depth - 1);
                sbf(b, ", ");
                expr(e, b, t, depth - 1);
            }
            sbf(b, ")");
        }
        use(g, GEN_C_MINMAX);
        return;
    case 9:
        sbf(b, "(if ");
        expr(e, b, TB, depth - 1);
        sbf(b, " then ");
        expr(e, b, t, depth - 1);
        sbf(b, " else ");
        expr(e, b, t, depth - 1);
        sbf(b, ")");
        use(g, GEN_C_IF);
        return;
    case 10:
        if (!e->constant && (s = pick_sym(e, t))) {
            if (chance(40)) {
                sbf(b, "pre(%s, ", s->name);
                expr(e, b, chance(50) ? TR : t, depth - 1); /* a real is broadcast */
                sbf(b, ")");
                use(g, GEN_C_PRE_INIT);
            } else
                sbf(b, "pre(%s)", s->name);
            use(g, GEN_C_PRE);
            return;
        }
        binop_arith(e, b, t, depth);
        return;
    case 11:
        if (e->allow_call && inline_call(e, b, t, depth))
            return;
        __attribute__((fallthrough));
    default:
        binop_arith(e, b, t, depth);
        return;
    }
}

static void expr(ectx *e, sb *b, ty t, int depth)
{
    switch (t.k) {
    case T_REAL: real_expr(e, b, depth); break;
    case T_BOOL: bool_expr(e, b, depth); break;
    case T_VEC: vec_expr(e, b, t, depth); break;
    default: dur_expr(e, b, depth); break;
    }
}

/* A literal in [lo, hi] (or near 0 without a range). */
static void lit_in(sb *b, int ranged, double lo, double hi)
{
    if (!ranged) {
        real_lit(b);
        return;
    }
    double x = chance(20) ? lo : chance(20) ? hi : lo + (hi - lo) * unit();
    if (x < lo)
        x = lo;
    if (x > hi)
        x = hi;
    sbf(b, "%.17g", x);
}

static void arg_expr1(ectx *parent, sb *b, ty t, int innate, int ranged, double lo, double hi,
                      int depth, int *learned, uint64_t *mask);

/* The argument for an instance input or param: learned values never reach
 * a heuristic inside (innate), a constant lies in the range. */
static void arg_expr(ectx *parent, sb *b, ty t, int innate, int ranged, double lo, double hi,
                     int depth, int *learned, uint64_t *mask)
{
    uint64_t m = 0;
    arg_expr1(parent, b, t, innate, ranged, lo, hi, depth, learned, &m);
    *mask |= m;
    /* what feeds a heuristic inside feeds one of this circuit too */
    if (innate)
        parent->c->heur_inmask |= m;
}

static void arg_expr1(ectx *parent, sb *b, ty t, int innate, int ranged, double lo, double hi,
                      int depth, int *learned, uint64_t *mask)
{
    if (t.k == T_DUR) {
        if (ranged) /* constants are checked against the range: in it */
            sbf(b, "%.17g s", lo + (hi - lo) * unit());
        else
            dur_lit(parent->c->g, b);
        return;
    }
    ectx e = { .c = parent->c, .innate = innate || parent->innate, .allow_call = 0 };
    if (ranged) {
        /* The checker folds what it can of an argument, element by element,
         * and checks every constant part against the range: give a signal or
         * a literal in the range. */
        const sym *s = chance(60) ? pick_sym(&e, t) : NULL;
        if (s && s->kind != K_CONST)
            sbf(b, "%s", s->name);
        else if (t.k == T_VEC) {
            sbf(b, "[");
            for (int i = 0; i < t.n; i++) {
                if (i)
                    sbf(b, ", ");
                lit_in(b, 1, lo, hi);
            }
            sbf(b, "]");
        } else
            lit_in(b, 1, lo, hi);
        *learned |= e.learned;
        *mask |= e.mask;
        return;
    }
    sb tmp = { 0 };
    expr(&e, &tmp, t, depth);
    if (ranged && !e.nonconst) { /* a constant: must lie in the range */
        free(sb_take(&tmp));
        if (t.k == T_VEC) {
            sbf(b, "[");
            for (int i = 0; i < t.n; i++) {
                if (i)
                    sbf(b, ", ");
                lit_in(b, 1, lo, hi);
            }
            sbf(b, "]");
        } else
            lit_in(b, 1, lo, hi);
        return;
    }
    sbf(b, "%s", tmp.s ? tmp.s : "0");
    free(tmp.s);
    *learned |= e.learned;
    *mask |= e.mask;
}

/* Arguments of an instance of f: positional then named inputs, some params
 * bound by name. */
static void call_args(ectx *e, sb *b, const iface *f, int depth, int *learned, uint64_t *mask)
{
    int pos = below(f->n_in + 1), first = 1;
    for (int i = 0; i < f->n_in; i++) {
        sbf(b, "%s", first ? "" : ", ");
        first = 0;
        if (i >= pos)
            sbf(b, "%s = ", f->in_name[i]);
        arg_expr(e, b, f->in_t[i], (f->heur_inmask >> i) & 1, f->in_ranged[i], f->in_lo[i],
                 f->in_hi[i], depth, learned, mask);
    }
    for (int i = 0; i < f->n_par; i++) {
        if (!chance(40))
            continue;
        sbf(b, "%s%s = ", first ? "" : ", ", f->par_name[i]);
        first = 0;
        /* a bound param is part of the instance's causality like an input:
         * it may not carry anything learned into a heuristic either */
        arg_expr(e, b, f->par_t[i], 1, f->par_ranged[i], f->par_lo[i], f->par_hi[i], depth,
                 learned, mask);
    }
}

static int inline_call(ectx *e, sb *b, ty t, int depth)
{
    gctx *g = e->c->g;
    if (g->n_instances > 12 || e->constant)
        return 0;
    int cand[MAX_CIRC + 8], n = 0;
    for (int i = 0; i < g->n_subs; i++)
        if (g->subs[i].n_out == 1 && ty_eq(g->subs[i].out_t[0], t) &&
            !(e->innate && g->subs[i].out_learned[0]))
            cand[n++] = i;
    if (!n)
        return 0;
    const iface *f = &g->subs[cand[below(n)]];
    int learned = f->out_learned[0];
    uint64_t mask = 0;
    sbf(b, "%s(", f->name);
    call_args(e, b, f, depth - 1, &learned, &mask);
    sbf(b, ")");
    g->n_instances++;
    e->learned |= learned;
    e->mask |= mask;
    e->nonconst = 1;
    use(g, GEN_C_INLINE_CALL);
    use(g, GEN_C_INSTANCE);
    return 1;
}

/* ---- items -------------------------------------------------------------- */

static ty rand_type(int allow_dur)
{
    int k = below(allow_dur ? 10 : 9);
    if (k < 4)
        return TR;
    if (k < 6)
        return TB;
    if (k < 9)
        return tvec(1 + below(chance(20) ? 12 : 4));
    return TD;
}

static void type_text(sb *b, ty t)
{
    switch (t.k) {
    case T_REAL: sbf(b, "real"); break;
    case T_BOOL: sbf(b, "bool"); break;
    case T_VEC: sbf(b, "vec[%d]", t.n); break;
    default: sbf(b, "duration"); break;
    }
}

static void gen_input(circ *c)
{
    gctx *g = c->g;
    sb b = { 0 };
    char name[32];
    fresh(c, "in", name, sizeof name);
    ty t = rand_type(0);
    sbf(&b, "input %s : ", name);
    type_text(&b, t);
    int learned = 0, ranged = 0;
    double lo = 0, hi = 0;
    if (t.k != T_BOOL && chance(50)) {
        static const double los[] = { 0, -1, -10, 0, -1e6, 0.5 };
        static const double his[] = { 1, 1, 10, 100, 1e6, 0.5 };
        int r = below(6);
        lo = los[r];
        hi = his[r];
        ranged = 1;
        sbf(&b, " in [%.17g, %.17g]", lo, hi);
        use(g, GEN_C_PARAM_RANGE);
    }
    if (t.k != T_BOOL && chance(25)) {
        sbf(&b, " learned");
        learned = 1;
        use(g, GEN_C_LEARNED);
    }
    int idx = c->n_inputs++;
    sym *s = add_sym(c, name, t, K_INPUT, learned, idx < 64 ? 1ull << idx : 0);
    s->ranged = ranged;
    s->lo = lo;
    s->hi = hi;
    add_item(c, &b);
}

static void gen_param(circ *c)
{
    gctx *g = c->g;
    sb b = { 0 };
    char name[32];
    fresh(c, "pa", name, sizeof name);
    ty t = rand_type(1);
    sbf(&b, "param %s : ", name);
    type_text(&b, t);
    int ranged = 0;
    double lo = 0, hi = 0;
    if (t.k == T_DUR) {
        static const double los[] = { 0.001, 0.01, 0.05 }, his[] = { 1, 10, 3600 };
        int r = below(3);
        lo = los[r];
        hi = his[r];
        ranged = chance(80);
        if (ranged)
            sbf(&b, " in [%.17g s, %.17g s]", lo, hi);
        else
            lo = 0.001, hi = 10;
        double d = lo + (hi - lo) * unit() * unit();
        sbf(&b, " = %.17g s", d);
        use(g, GEN_C_DUR_PARAM);
    } else if (t.k == T_BOOL) {
        sbf(&b, " = %s", chance(50) ? "true" : "false");
    } else {
        if (chance(60)) {
            static const double los[] = { 0, -1, -5, 0.1 }, his[] = { 1, 1, 20, 0.1 };
            int r = below(4);
            lo = los[r];
            hi = his[r];
            ranged = 1;
            sbf(&b, " in [%.17g, %.17g]", lo, hi);
            use(g, GEN_C_PARAM_RANGE);
        }
        {
            sbf(&b, " = ");
            if (t.k == T_VEC && chance(50)) {
                sbf(&b, "[");
                for (int i = 0; i < t.n; i++) {
                    if (i)
                        sbf(&b, ", ");
                    lit_in(&b, 1, ranged ? lo : -2, ranged ? hi : 2);
                }
                sbf(&b, "]");
            } else
                lit_in(&b, 1, ranged ? lo : -2, ranged ? hi : 2);
        }
    }
    sym *s = add_sym(c, name, t, K_PARAM, 0, 0);
    s->ranged = 1; /* durations without a range still get sane test values */
    s->lo = lo;
    s->hi = hi;
    if (!ranged && t.k != T_DUR)
        s->ranged = 0;
    add_item(c, &b);
}

static void gen_const(circ *c)
{
    gctx *g = c->g;
    sb b = { 0 };
    char name[32];
    fresh(c, "K", name, sizeof name);
    ty t = rand_type(1);
    ectx e = { .c = c, .constant = 1 };
    sbf(&b, "const %s", name);
    if (t.k == T_VEC && chance(40)) {
        sbf(&b, " : vec[%d] = ", t.n);
        real_lit(&b); /* a real broadcast */
    } else {
        if (chance(30)) {
            sbf(&b, " : ");
            type_text(&b, t);
        }
        sbf(&b, " = ");
        expr(&e, &b, t, 2);
    }
    add_sym(c, name, t, K_CONST, 0, 0);
    add_item(c, &b);
    use(g, GEN_C_CONST);
}

/* let / heuristic / attention / output: a signal from an expression. */
static void gen_signal(circ *c, const char *kw)
{
    gctx *g = c->g;
    sb b = { 0 };
    char name[32];
    int heur = !strcmp(kw, "heuristic"), out = !strcmp(kw, "output");
    fresh(c, out ? "o" : heur ? "h" : kw[0] == 'a' ? "at" : "s", name, sizeof name);
    ty t = rand_type(0);
    ectx e = { .c = c, .innate = heur, .allow_call = !heur || chance(50) };
    sb rhs = { 0 };
    int self_pre = !out && !heur && t.k == T_REAL && chance(10);
    if (self_pre) { /* a let reading its own last value: its type must be written */
        sbf(&rhs, "(pre(%s) * ", name);
        expr(&e, &rhs, TR, 2);
        sbf(&rhs, " + ");
        expr(&e, &rhs, TR, 2);
        sbf(&rhs, ")");
        use(g, GEN_C_SELF_PRE);
    } else
        expr(&e, &rhs, t, 1 + below(4));
    if (out) {
        sbf(&b, "output %s : ", name);
        type_text(&b, t);
        if (chance(50)) {
            sbf(&b, " = %s", rhs.s);
        } else {
            add_item(c, &b);
            sbf(&b, "%s = %s", name, rhs.s);
        }
    } else {
        sbf(&b, "%s %s", kw, name);
        if (self_pre || chance(20)) {
            sbf(&b, " : ");
            type_text(&b, t);
        }
        sbf(&b, " = %s", rhs.s);
    }
    free(rhs.s);
    add_item(c, &b);
    add_sym(c, name, t, out ? K_OUTPUT : K_SIG, e.learned, e.mask);
    if (heur) {
        c->heur_inmask |= e.mask;
        use(g, GEN_C_HEURISTIC);
    }
    if (kw[0] == 'a')
        use(g, GEN_C_ATTENTION);
}

static void gen_gate(circ *c)
{
    sb b = { 0 };
    char name[32];
    fresh(c, "g", name, sizeof name);
    ty t = rand_type(0);
    ectx e = { .c = c, .allow_call = 1 };
    sbf(&b, "gate %s = ", name);
    expr(&e, &b, t, 2);
    sbf(&b, " when ");
    expr(&e, &b, TB, 2);
    if (chance(50)) {
        sbf(&b, chance(20) ? "\n    else " : " else ");
        expr(&e, &b, t, 2);
    }
    add_item(c, &b);
    add_sym(c, name, t, K_SIG, e.learned, e.mask);
    use(c->g, GEN_C_GATE);
}

static void gen_reflex(circ *c)
{
    gctx *g = c->g;
    sb b = { 0 };
    char name[32];
    fresh(c, "r", name, sizeof name);
    ectx e = { .c = c, .allow_call = 1 };
    sbf(&b, "reflex %s = ", name);
    expr(&e, &b, TB, 2);
    sbf(&b, " for ");
    dur_ticks(g, &b, 1 + below(8));
    /* the clauses in either order, each optional */
    int refr = chance(50), strength = chance(50), strength_first = chance(50);
    for (int k = 0; k < 2; k++) {
        const char *sep = chance(20) ? "\n    " : " ";
        if ((k == 0) == strength_first && strength) {
            sbf(&b, "%sstrength ", sep);
            expr(&e, &b, TR, 2);
        } else if ((k == 0) != strength_first && refr) {
            sbf(&b, "%srefractory ", sep);
            dur_ticks(g, &b, below(6));
            use(g, GEN_C_REFRACTORY);
        }
    }
    add_item(c, &b);
    add_sym(c, name, TB, K_SIG, e.learned, e.mask);
    char f[64];
    snprintf(f, sizeof f, "%s.onset", name);
    add_sym(c, f, TB, K_SIG, e.learned, e.mask);
    snprintf(f, sizeof f, "%s.strength", name);
    add_sym(c, f, TR, K_SIG, e.learned, e.mask);
    use(g, GEN_C_REFLEX);
}

static void gen_predictor(circ *c)
{
    gctx *g = c->g;
    sb b = { 0 };
    char name[32];
    fresh(c, "p", name, sizeof name);
    ectx e = { .c = c, .allow_call = 1 };
    ty ct = chance(30) ? TR : tvec(1 + below(6));
    sbf(&b, "predictor %s {\n    context ", name);
    expr(&e, &b, ct, 2);
    sbf(&b, "\n    supervisor ");
    expr(&e, &b, TR, 2);
    if (chance(60)) {
        sbf(&b, "\n    delay ");
        dur_ticks(g, &b, below(12));
        use(g, GEN_C_DELAY);
    }
    if (chance(50)) {
        sbf(&b, "\n    defer ");
        expr(&e, &b, TB, 2);
        use(g, GEN_C_DEFER);
    }
    if (chance(50)) {
        int nlms = chance(50);
        sbf(&b, "\n    rule %s", nlms ? "nlms" : "lms");
        if (nlms)
            use(g, GEN_C_NLMS);
    }
    if (chance(50)) {
        static const char *const sq[] = { "none", "sigmoid", "tanh" };
        sbf(&b, "\n    squash %s", sq[below(3)]);
        use(g, GEN_C_SQUASH);
    }
    if (chance(40)) {
        sbf(&b, "\n    init ");
        if (ct.k == T_VEC && chance(50)) {
            sbf(&b, "[");
            for (int i = 0; i < ct.n; i++)
                sbf(&b, "%s%.3g", i ? ", " : "", unit() - 0.5);
        sbf(&b, "]");
        } else
            sbf(&b, "%.3g", unit() - 0.5);
    }
    /* Its own fields exist from here: the rate is read at the end of the
     * tick and may read them. */
    add_sym(c, name, TR, K_SIG, 1, e.mask);
    char f[64];
    snprintf(f, sizeof f, "%s.target", name);
    add_sym(c, f, TR, K_SIG, 1, e.mask);
    snprintf(f, sizeof f, "%s.error", name);
    add_sym(c, f, TR, K_SIG, 1, e.mask);
    ectx re = { .c = c };
    sbf(&b, "\n    rate ");
    if (chance(30))
        sbf(&b, "%.3g", unit() * 0.2);
    else
        expr(&re, &b, TR, 2);
    sbf(&b, "\n}");
    add_item(c, &b);
    use(g, GEN_C_PREDICTOR);
}

static void gen_reward(circ *c)
{
    sb b = { 0 };
    char name[32];
    fresh(c, "rw", name, sizeof name);
    ectx e = { .c = c, .allow_call = 1 };
    sbf(&b, "reward %s = ", name);
    expr(&e, &b, TR, 3);
    add_item(c, &b);
    add_sym(c, name, TR, K_OUTPUT, e.learned, e.mask);
    use(c->g, GEN_C_REWARD);
}

/* A state: declared now with its taint decided, its next written at the end
 * (it may read anything, later signals included). */
typedef struct pending_state {
    char name[32];
    ty t;
    int learned;
} pending_state;

static void gen_state(circ *c, pending_state *ps)
{
    sb b = { 0 };
    fresh(c, "st", ps->name, sizeof ps->name);
    ps->t = rand_type(0);
    ps->learned = chance(50);
    sbf(&b, "state %s : ", ps->name);
    type_text(&b, ps->t);
    if (chance(70)) {
        sbf(&b, " = ");
        if (ps->t.k == T_BOOL)
            sbf(&b, chance(50) ? "true" : "false");
        else
            real_lit(&b);
    }
    add_item(c, &b);
    /* what it reads is not known yet: it depends on every input */
    add_sym(c, ps->name, ps->t, K_STATE, ps->learned, ~0ull);
    use(c->g, GEN_C_STATE);
}

static void gen_instance(circ *c)
{
    gctx *g = c->g;
    if (!g->n_subs || g->n_instances > 12)
        return;
    const iface *f = &g->subs[below(g->n_subs)];
    sb b = { 0 };
    char name[32];
    fresh(c, "i", name, sizeof name);
    ectx e = { .c = c };
    int learned = 0;
    uint64_t mask = 0;
    sbf(&b, "let %s = %s(", name, f->name);
    call_args(&e, &b, f, 2, &learned, &mask);
    sbf(&b, ")");
    add_item(c, &b);
    g->n_instances++;
    for (int i = 0; i < f->n_out; i++) {
        char fld[160];
        snprintf(fld, sizeof fld, "%s.%s", name, f->out_name[i]);
        add_sym(c, fld, f->out_t[i], K_SIG, learned | f->out_learned[i], mask);
    }
    if (f->n_out == 1)
        add_sym(c, name, f->out_t[0], K_SIG, learned | f->out_learned[0], mask);
    use(g, GEN_C_INSTANCE);
}

static void shuffle_items(circ *c)
{
    for (int i = c->n_items - 1; i > c->fixed_items; i--) {
        int j = c->fixed_items + below(i - c->fixed_items + 1);
        char *t = c->items[i];
        c->items[i] = c->items[j];
        c->items[j] = t;
    }
}

/* One circuit; `top` is the last one and the biggest. Its interface is
 * recorded for the circuits after it. */
static void gen_circuit(gctx *g, sb *out, const char *cname, int top, iface *f)
{
    circ *c = calloc(1, sizeof *c);
    c->g = g;
    int n_in = 1 + below(top ? 5 : 3);
    for (int i = 0; i < n_in; i++)
        gen_input(c);
    c->fixed_items = c->n_items;
    int n_par = below(top ? 4 : 3);
    for (int i = 0; i < n_par; i++)
        gen_param(c);
    pending_state ps[8];
    int n_ps = 0;
    int n_items = (top ? 8 : 3) + below(top ? 14 : 6);
    int n_out = 0;
    for (int i = 0; i < n_items; i++) {
        int k = below(100);
        if (k < 8)
            gen_const(c);
        else if (k < 30)
            gen_signal(c, "let");
        else if (k < 38)
            gen_signal(c, "heuristic");
        else if (k < 42)
            gen_signal(c, "attention");
        else if (k < 52) {
            gen_signal(c, "output");
            n_out++;
        } else if (k < 58)
            gen_gate(c);
        else if (k < 66)
            gen_reflex(c);
        else if (k < 74)
            gen_predictor(c);
        else if (k < 80)
            gen_reward(c);
        else if (k < 88 && n_ps < 8)
            gen_state(c, &ps[n_ps++]);
        else
            gen_instance(c);
    }
    if (!n_out) { /* an instance needs something to read */
        gen_signal(c, "output");
    }
    /* A signal nobody reads would be removed as dead code and test nothing:
     * make it an output. */
    int n_syms = c->n;
    for (int i = 0; i < n_syms; i++) {
        const sym *s = &c->syms[i];
        if (s->kind != K_SIG || c->group_uses[s->group] ||
            (i > 0 && c->syms[i - 1].group == s->group))
            continue;
        sb b = { 0 };
        char name[32];
        fresh(c, "o", name, sizeof name);
        sbf(&b, "output %s : ", name);
        type_text(&b, s->t);
        sbf(&b, " = %s", s->name);
        add_item(c, &b);
        add_sym(c, name, s->t, K_OUTPUT, s->learned, s->inmask);
    }
    for (int i = 0; i < n_ps; i++) {
        sb b = { 0 };
        ectx e = { .c = c, .innate = !ps[i].learned, .allow_call = 0 };
        sbf(&b, "next %s = ", ps[i].name);
        expr(&e, &b, ps[i].t, 3);
        add_item(c, &b);
    }
    shuffle_items(c);
    sbf(out, "\ncircuit %s {\n", cname);
    for (int i = 0; i < c->n_items; i++) {
        sbf(out, "  %s\n", c->items[i]);
        free(c->items[i]);
    }
    sbf(out, "}\n");
    /* the interface seen by instances */
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", cname);
    for (int i = 0; i < c->n; i++) {
        const sym *s = &c->syms[i];
        if (s->kind == K_INPUT && f->n_in < MAX_IO) {
            int k = f->n_in++;
            snprintf(f->in_name[k], 64, "%s", s->name);
            f->in_t[k] = s->t;
            f->in_ranged[k] = s->ranged;
            f->in_lo[k] = s->lo;
            f->in_hi[k] = s->hi;
        } else if (s->kind == K_PARAM && f->n_par < MAX_IO) {
            int k = f->n_par++;
            snprintf(f->par_name[k], 64, "%s", s->name);
            f->par_t[k] = s->t;
            f->par_ranged[k] = s->ranged;
            f->par_lo[k] = s->lo;
            f->par_hi[k] = s->hi;
        } else if (s->kind == K_OUTPUT && f->n_out < MAX_IO) {
            int k = f->n_out++;
            snprintf(f->out_name[k], 64, "%s", s->name);
            f->out_t[k] = s->t;
            f->out_learned[k] = s->learned;
        }
    }
    /* The total reward is an output too. */
    int has_reward = 0;
    for (int i = 0; i < c->n; i++)
        if (!strncmp(c->syms[i].name, "rw", 2))
            has_reward = 1;
    if (has_reward && f->n_out < MAX_IO) {
        /* `c.reward` of an instance: learned if any stream is; keep it out of
         * the interface's single-output shortcut by not listing it unless
         * there are other outputs (the count decides `c` as a value). */
        int k = f->n_out++;
        snprintf(f->out_name[k], 64, "reward");
        f->out_t[k] = TR;
        for (int i = 0; i < c->n; i++)
            if (!strncmp(c->syms[i].name, "rw", 2))
                f->out_learned[k] |= c->syms[i].learned;
    }
    f->heur_inmask = c->heur_inmask;
    free(c);
}

/* The std.core circuits an imported program may instance. */
static void std_core(gctx *g)
{
    iface *f;
    f = &g->subs[g->n_subs++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "leaky");
    f->n_in = 1;
    snprintf(f->in_name[0], 64, "x");
    f->in_t[0] = TR;
    f->n_par = 1;
    snprintf(f->par_name[0], 64, "tau");
    f->par_t[0] = TD;
    f->par_ranged[0] = 1;
    f->par_lo[0] = 0.001;
    f->par_hi[0] = 3600;
    f->n_out = 1;
    snprintf(f->out_name[0], 64, "y");
    f->out_t[0] = TR;

    f = &g->subs[g->n_subs++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "rise");
    f->n_in = 1;
    snprintf(f->in_name[0], 64, "x");
    f->in_t[0] = TB;
    f->n_out = 1;
    snprintf(f->out_name[0], 64, "y");
    f->out_t[0] = TB;

    f = &g->subs[g->n_subs++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "hold");
    f->n_in = 2;
    snprintf(f->in_name[0], 64, "x");
    f->in_t[0] = TR;
    snprintf(f->in_name[1], 64, "take");
    f->in_t[1] = TB;
    f->n_out = 1;
    snprintf(f->out_name[0], 64, "y");
    f->out_t[0] = TR;

    f = &g->subs[g->n_subs++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "opponent");
    f->n_in = 2;
    snprintf(f->in_name[0], 64, "push_a");
    snprintf(f->in_name[1], 64, "push_b");
    f->in_t[0] = f->in_t[1] = TR;
    f->n_par = 2;
    snprintf(f->par_name[0], 64, "tau");
    f->par_t[0] = TD;
    f->par_ranged[0] = 1;
    f->par_lo[0] = 0.001;
    f->par_hi[0] = 3600;
    snprintf(f->par_name[1], 64, "inhibition");
    f->par_t[1] = TR;
    f->par_ranged[1] = 1;
    f->par_lo[1] = 0;
    f->par_hi[1] = 10;
    f->n_out = 3;
    snprintf(f->out_name[0], 64, "a");
    snprintf(f->out_name[1], 64, "b");
    snprintf(f->out_name[2], 64, "balance");
    f->out_t[0] = f->out_t[1] = f->out_t[2] = TR;
}

char *gen_program(uint64_t seed, gen_info *info)
{
    rs = seed * 0x2545f4914f6cdd1dull + 0x1234567;
    gctx *g = calloc(1, sizeof *g);
    g->info = info;
    if (info)
        memset(info, 0, sizeof *info);
    sb out = { 0 };
    sbf(&out, "# generated by drive_gen %llu\n", (unsigned long long)seed);
    static const double ticks[] = { 10, 1, 5, 20, 100, 10, 2.5 };
    g->tick_ms = ticks[below(7)];
    if (chance(50))
        sbf(&out, "module gen%llu\n", (unsigned long long)seed);
    if (g->tick_ms != 10 || chance(50))
        sbf(&out, "tick %.17g ms\n", g->tick_ms);
    if (chance(30)) {
        sbf(&out, "import std.core\n");
        std_core(g);
        use(g, GEN_C_IMPORT);
    }
    /* module constants */
    int n_mc = below(4);
    for (int i = 0; i < n_mc; i++) {
        sym *s = &g->mconst[g->n_mconst++];
        memset(s, 0, sizeof *s);
        snprintf(s->name, sizeof s->name, "MC%d", i);
        s->kind = K_CONST;
        int k = below(4);
        if (k == 0) {
            s->t = TR;
            sbf(&out, "const %s = ", s->name);
            real_lit(&out);
        } else if (k == 1) {
            s->t = tvec(1 + below(4));
            sbf(&out, "const %s : vec[%d] = ", s->name, s->t.n);
            real_lit(&out);
        } else if (k == 2) {
            s->t = tvec(1 + below(4));
            sbf(&out, "const %s = [", s->name);
            for (int j = 0; j < s->t.n; j++) {
                if (j)
                    sbf(&out, ", ");
                real_lit(&out);
            }
            sbf(&out, "]");
        } else {
            s->t = TD;
            sbf(&out, "const %s = ", s->name);
            dur_lit(g, &out);
        }
        sbf(&out, "\n");
        use(g, GEN_C_CONST);
    }
    int n_sub = below(4);
    for (int i = 0; i < n_sub; i++) {
        char name[32];
        snprintf(name, sizeof name, "sub%d", i);
        iface f;
        gen_circuit(g, &out, name, 0, &f);
        g->subs[g->n_subs++] = f;
    }
    iface f;
    gen_circuit(g, &out, "top", 1, &f);
    if (info)
        info->n_circuits = n_sub + 1;
    free(g);
    return sb_take(&out);
}
