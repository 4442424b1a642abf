/* lower.c — from checked AST to the flat IR.
 *
 * Semantics made explicit here (lang/SPEC.md states them for users):
 *  - signals are evaluated in the order sema computed (dependencies first),
 *    each exactly once per tick; instances are flattened in place, each with
 *    its own state, under a name prefix ("c.", "leaky@3:9.");
 *  - vectors are scalarized: a vec[N] is N values; dot() and sum() add in a
 *    fixed order (eight interleaved partial sums, combined as a tree), the
 *    order every back end reproduces and SIMD can still use;
 *  - all state (pre slots, `state` variables, reflex timers, predictor
 *    weights and histories) is loaded at the start of a step and stored at
 *    its end; on a tick whose inputs are invalid (not finite, or outside a
 *    declared range) no state is stored and the step returns 1;
 *  - durations are seconds; counts of ticks use the tick of the circuit being
 *    compiled, rounded to whole ticks with a warning when they are not.
 */
#include "lower.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { NONE = UINT32_MAX };
/* Limits on a predictor's history (documented in SPEC.md). */
enum { LOWER_MAX_DELAY = 100000, LOWER_MAX_HISTORY = 1000000 };
/* Limits on the flattened step function, so that instances of instances or
 * long vectors cannot exhaust time or memory (documented in SPEC.md). */
enum { LOWER_MAX_INSTANCES = 100000, LOWER_MAX_CODE = 10000000 };

/* The values of one signal: one for a scalar, N for a vec[N]. */
typedef struct lv {
    uint32_t *v;
    int n;
} lv;

typedef struct pre_key {
    double init;
    uint32_t slot;
    int next;              /* the signal's next key, or -1 */
} pre_key;

typedef struct frame {
    const sema_circuit *sc;
    const char *prefix;    /* "" at the top, "c." inside instance c */
    lv *val;               /* per symbol, n == 0 until lowered */
    uint32_t *var;         /* top frame: first var of each input/output/param */
    int top;
    int *key_head;         /* per symbol: its first pre_key, or -1 */
    unsigned *slots_of_sym;/* per symbol: pre() slots made for it */
    unsigned expr_slots;   /* pre() slots made for expressions */
    const struct frame *parent;
    src_loc made_at;       /* where this instance is made, in the parent */
    void **aux;            /* per symbol: a reflex's or predictor's lowered parts */
} frame;

typedef enum { JOB_PRE, JOB_STATE, JOB_PRED, JOB_RAW } job_kind;

/* Work for the end of the tick, after every signal is computed. */
typedef struct job {
    job_kind kind;
    frame *f;
    const ast_expr *expr;  /* JOB_PRE: the expression whose value is kept */
    int sym;               /* JOB_STATE, JOB_PRED */
    uint32_t slot;         /* first slot */
    uint32_t value;        /* JOB_RAW */
    int n;                 /* number of slots (JOB_PRE) */
    struct pred_vals *pv;  /* JOB_PRED */
} job;

typedef struct pred_vals {
    lv w, xd, x;           /* weights, context used for training, current context */
    uint32_t b, y, e, valid, age, pos, yd, target;
    int have_target;       /* target and error are lowered when first needed */
    uint32_t w_slot, b_slot, hist_slot, out_slot, age_slot, pos_slot;
    int n, d;
} pred_vals;

typedef struct const_memo {
    const sema_const *k;
    struct lv v;
} const_memo;

typedef struct store {
    uint32_t slot, value;
    uint32_t index, len;   /* len > 0: into ring slot + index, of len slots */
} store;

typedef struct lower_ctx {
    arena *mem;
    diag_ctx *diag;
    ir_circuit *ir;
    double tick;
    arena_vec jobs;        /* job */
    arena_vec stores;      /* store */
    arena_vec pre_keys;    /* pre_key */
    int first_slot;        /* state slot of the `first` flag, -1 if none */
    uint32_t first_value;
    arena_vec warned;      /* src_loc: durations already warned about */
    arena_vec consts;      /* const_memo: module constants lowered so far */
    long n_instances;
    int aborted;           /* a limit was hit: the rest becomes zeros, quickly */
} lower_ctx;

static ir_type ir_ty(ast_type t) { return t == TY_BOOL ? IR_BOOL : IR_F64; }

static uint32_t emit(lower_ctx *x, ir_op op, ir_type t, uint32_t a, uint32_t b, uint32_t c)
{
    return ir_emit(x->mem, x->ir, (ir_inst){ .op = op, .type = t, .a = a, .b = b, .c = c });
}

static uint32_t konst(lower_ctx *x, ir_type t, double v)
{
    return ir_emit(x->mem, x->ir, (ir_inst){ .op = IR_CONST, .type = t, .imm = v });
}

static uint32_t load(lower_ctx *x, uint32_t slot)
{
    const ir_var *v = &x->ir->state[slot];
    return ir_emit(x->mem, x->ir, (ir_inst){ .op = IR_LOAD, .type = v->type, .a = slot,
                                             .name = v->name });
}

static lv lv_new(lower_ctx *x, int n)
{
    lv r = { arena_calloc(x->mem, (size_t)n + 1, sizeof(uint32_t)), n };
    return r;
}

static lv lv1(lower_ctx *x, uint32_t v)
{
    lv r = lv_new(x, 1);
    r.v[0] = v;
    return r;
}

/* Element i of a, broadcasting a scalar. */
static uint32_t at(lv a, int i) { return a.n == 1 ? a.v[0] : a.v[i]; }

static const char *pname(lower_ctx *x, const frame *f, const char *name)
{
    return f->prefix[0] ? arena_printf(x->mem, "%s%s", f->prefix, name) : name;
}

/* State slots for n values: "name" for a scalar, "name[i]" for a vector. */
static uint32_t add_slots(lower_ctx *x, const char *name, ir_type t, int n, const double *init,
                          const char *note, ir_role role, int vector)
{
    uint32_t first = NONE;
    for (int i = 0; i < n; i++) {
        const char *nm = vector ? arena_printf(x->mem, "%s[%d]", name, i) : name;
        uint32_t s = ir_add_var(x->mem, x->ir, IR_BLOCK_STATE, nm, t, init ? init[i] : 0, note);
        ir_var *v = &x->ir->state[s];
        v->role = role;
        if (vector) {
            v->base = name;
            v->index = (uint32_t)i;
            v->len = (uint32_t)n;
        }
        if (i == 0)
            first = s;
    }
    return first;
}

static job *new_job(lower_ctx *x, job_kind kind, frame *f)
{
    job *j = arena_vec_push(x->mem, &x->jobs);
    memset(j, 0, sizeof *j);
    j->kind = kind;
    j->f = f;
    return j;
}

static void job_raw(lower_ctx *x, uint32_t slot, uint32_t value)
{
    job *j = new_job(x, JOB_RAW, NULL);
    j->slot = slot;
    j->value = value;
}

/* Where an instance came from, for messages about its circuit's text. */
static void note_instances(lower_ctx *x, const frame *f)
{
    int shown = 0;
    for (; f && f->parent; f = f->parent) {
        if (shown == 3 && f->parent->parent) { /* deep nests: the innermost and the outermost */
            int more = 0;
            for (const frame *g = f; g->parent->parent; g = g->parent)
                more++;
            diag_report(x->diag, DIAG_NOTE, f->made_at,
                        "in the instance of '%s' made here, inside %d more instance%s", f->sc->name,
                        more, more == 1 ? "" : "s");
            while (f->parent->parent)
                f = f->parent;
        }
        diag_report(x->diag, DIAG_NOTE, f->made_at, "in the instance of '%s' made here",
                    f->sc->name);
        shown++;
    }
}

/* A duration as a whole number of ticks; warns once per place when it is
 * not one (except when rounding to nothing is an error the caller reports). */
static double ticks_of(lower_ctx *x, const frame *f, const ast_expr *e, const char *what,
                       int zero_is_error)
{
    double secs = 0, exact;
    sema_const_eval(f->sc, f->sc->mod, e, 0, x->tick, &secs);
    double n = sema_round_ticks(secs, x->tick, &exact);
    if (exact != n) {
        int seen = 0;
        for (size_t i = 0; i < x->warned.len && !seen; i++) {
            const src_loc *l = &((src_loc *)x->warned.data)[i];
            seen = l->file == e->loc.file && l->line == e->loc.line && l->col == e->loc.col;
        }
        if (!seen && secs >= 0 && !(zero_is_error && n < 1)) {
            *(src_loc *)arena_vec_push(x->mem, &x->warned) = e->loc;
            diag_report(x->diag, DIAG_WARNING, e->loc,
                        "%s of %g ms is %.4g ticks of %g ms; rounded to %.0f tick%s (%g ms)",
                        what, secs * 1000, exact, x->tick * 1000, n, n == 1 ? "" : "s",
                        n * x->tick * 1000);
            diag_hint(x->diag, "make durations whole multiples of the tick, or change the tick");
            note_instances(x, f);
        }
    }
    return n;
}

/* ---- arithmetic helpers -------------------------------------------------- */

static uint32_t isnan_(lower_ctx *x, uint32_t a) { return emit(x, IR_NE, IR_BOOL, a, a, 0); }

static int is_number(const lower_ctx *x, uint32_t v)
{
    const ir_inst *k = v < x->ir->n_code ? &x->ir->code[v] : NULL;
    return k && k->op == IR_CONST && k->type == IR_F64 && k->imm == k->imm;
}

/* min/max: NaN when either is NaN; on ties the first argument. Against a
 * number (clamp(v, 0, 1), max(x, 0)) one comparison that is false for a NaN
 * keeps the other side, NaN included: one instruction (maxsd, minsd) where
 * the general form tests both sides. Any NaN is as good as another
 * (lang/SPEC.md, Numbers). */
static uint32_t minmax(lower_ctx *x, uint32_t a, uint32_t b, int is_max)
{
    if (is_number(x, b)) /* b only if strictly better than a */
        return emit(x, IR_SELECT, IR_F64, emit(x, is_max ? IR_GT : IR_LT, IR_BOOL, b, a, 0), b, a);
    if (is_number(x, a)) /* a unless b is strictly better, or NaN */
        return emit(x, IR_SELECT, IR_F64, emit(x, is_max ? IR_LE : IR_GE, IR_BOOL, b, a, 0), a, b);
    uint32_t nan = emit(x, IR_OR, IR_BOOL, isnan_(x, a), isnan_(x, b), 0);
    uint32_t sum = emit(x, IR_ADD, IR_F64, a, b, 0);
    uint32_t better = emit(x, is_max ? IR_GT : IR_LT, IR_BOOL, b, a, 0);
    uint32_t pick = emit(x, IR_SELECT, IR_F64, better, b, a);
    return emit(x, IR_SELECT, IR_F64, nan, sum, pick);
}

/* The fixed summation order: lane k adds v[k], v[k+8], v[k+16], ... in
 * turn; the eight lanes combine as (0+4, 1+5, 2+6, 3+7), then (0+2, 1+3),
 * then (0+1) — a vector reduction's natural tree. */
static uint32_t sum_fixed(lower_ctx *x, const uint32_t *v, int n)
{
    enum { LANES = 8 };
    uint32_t lane[LANES];
    int have = n < LANES ? n : LANES;
    for (int k = 0; k < have; k++) {
        lane[k] = v[k];
        for (int i = k + LANES; i < n; i += LANES)
            lane[k] = emit(x, IR_ADD, IR_F64, lane[k], v[i], 0);
    }
    for (int w = LANES / 2; w >= 1; w /= 2)
        for (int k = 0; k < w; k++) {
            if (k + w < have)
                lane[k] = emit(x, IR_ADD, IR_F64, lane[k], lane[k + w], 0);
        }
    return lane[0];
}

static uint32_t dot_fixed(lower_ctx *x, lv a, lv b)
{
    uint32_t *p = arena_calloc(x->mem, (size_t)a.n + 1, sizeof *p);
    for (int i = 0; i < a.n; i++)
        p[i] = emit(x, IR_MUL, IR_F64, a.v[i], b.v[i], 0);
    return sum_fixed(x, p, a.n);
}

static uint32_t sigmoid_(lower_ctx *x, uint32_t a)
{
    uint32_t e = emit(x, IR_EXP, IR_F64, emit(x, IR_NEG, IR_F64, a, 0, 0), 0, 0);
    uint32_t d = emit(x, IR_ADD, IR_F64, konst(x, IR_F64, 1), e, 0);
    return emit(x, IR_DIV, IR_F64, konst(x, IR_F64, 1), d, 0);
}

/* ---- expressions -------------------------------------------------------- */

static lv lower_expr(lower_ctx *x, frame *f, const ast_expr *e);
static void lower_instance(lower_ctx *x, frame *f, int i);

static uint32_t first_flag(lower_ctx *x)
{
    if (x->first_slot < 0)
        x->first_slot = (int)ir_add_var(x->mem, x->ir, IR_BLOCK_STATE, "@first", IR_BOOL, 1,
                                        "true until the end of the first tick");
    if (x->first_value == NONE)
        x->first_value = load(x, (uint32_t)x->first_slot);
    return x->first_value;
}

static lv lower_pre(lower_ctx *x, frame *f, const ast_expr *e)
{
    const ast_expr *arg = e->args.items[0];
    const ast_expr *init = e->args.len > 1 ? e->args.items[1] : NULL;
    ir_type t = ir_ty(ty_is_vec(e->type) ? TY_REAL : e->type);
    int n = ty_len(e->type);
    double *iv = arena_calloc(x->mem, (size_t)n + 1, sizeof *iv);
    int init_const = 1;
    for (int i = 0; init && i < n && init_const; i++)
        init_const = sema_const_eval(f->sc, f->sc->mod, init, ty_is_vec(init->type) ? i : 0,
                                     x->tick, &iv[i]);
    int named = arg->kind == EX_NAME && arg->sym >= 0 && n == 1;
    /* pre(name, c) of one signal and initial value shares one slot; with an
     * initial value read at the first tick, any slot of the signal will do. */
    uint32_t slot = NONE;
    if (named)
        for (int k = f->key_head[arg->sym]; k >= 0 && slot == NONE;) {
            const pre_key *key = &((pre_key *)x->pre_keys.data)[k];
            if (!init_const || memcmp(&key->init, &iv[0], sizeof iv[0]) == 0)
                slot = key->slot;
            k = key->next;
        }
    if (slot == NONE) {
        /* Names no signal can have (signal names have no parentheses or
         * '@'): pre(x), then pre(x)#2 for another initial value; pre@L:C
         * for pre() of an expression at line L of its circuit, column C. */
        const char *name, *note;
        if (arg->kind == EX_NAME && arg->sym >= 0) {
            unsigned k = ++f->slots_of_sym[arg->sym];
            name = k == 1 ? arena_printf(x->mem, "pre(%s)", arg->name)
                          : arena_printf(x->mem, "pre(%s)#%u", arg->name, k);
            note = arena_printf(x->mem, "pre(%s%s)", f->prefix, arg->name);
        } else {
            ++f->expr_slots;
            /* The line counts from the circuit's own first line, so editing
             * text above the circuit (in a file or a REPL session) renames
             * nothing and a checkpoint or a live instance keeps the slot. */
            name = arena_printf(x->mem, "pre@%d:%d", e->loc.line - f->sc->ast->loc.line + 1,
                                e->loc.col);
            note = arena_printf(x->mem, "pre(...) at line %d", e->loc.line);
        }
        slot = add_slots(x, pname(x, f, name), t, n, init_const ? iv : NULL, note, IR_ROLE_PLAIN,
                         ty_is_vec(e->type));
        job *j = new_job(x, JOB_PRE, f);
        j->expr = arg;
        j->slot = slot;
        j->n = n;
        if (named) {
            pre_key *key = arena_vec_push(x->mem, &x->pre_keys);
            key->init = iv[0];
            key->slot = slot;
            key->next = f->key_head[arg->sym];
            f->key_head[arg->sym] = (int)x->pre_keys.len - 1;
        }
    }
    lv r = lv_new(x, n);
    for (int i = 0; i < n; i++) {
        r.v[i] = load(x, slot + (uint32_t)i);
        x->ir->code[r.v[i]].name = x->ir->state[slot + (uint32_t)i].note;
    }
    if (init_const)
        return r;
    uint32_t first = first_flag(x);
    lv in = lower_expr(x, f, init);
    for (int i = 0; i < n; i++)
        r.v[i] = emit(x, IR_SELECT, t, first, at(in, i), r.v[i]);
    return r;
}

static ir_op binop(ast_op op)
{
    switch (op) {
    case OP_ADD: return IR_ADD;
    case OP_SUB: return IR_SUB;
    case OP_MUL: return IR_MUL;
    case OP_DIV: return IR_DIV;
    case OP_LT: return IR_LT;
    case OP_LE: return IR_LE;
    case OP_GT: return IR_GT;
    case OP_GE: return IR_GE;
    case OP_EQ: return IR_EQ;
    case OP_NE: return IR_NE;
    case OP_AND: return IR_AND;
    default: return IR_OR;
    }
}

static lv zeros(lower_ctx *x, ast_type t);

/* A value of n elements from v: a scalar is broadcast (`const W : vec[3] =
 * 0.5`). */
static lv widen(lower_ctx *x, lv v, int n)
{
    if (v.n == n || v.n != 1)
        return v;
    lv r = lv_new(x, n);
    for (int i = 0; i < n; i++)
        r.v[i] = v.v[0];
    return r;
}

static lv lower_name(lower_ctx *x, frame *f, const ast_expr *e)
{
    if (e->ref) { /* a module constant: lowered once per circuit */
        const sema_const *k = e->ref;
        for (size_t i = 0; i < x->consts.len; i++) {
            const const_memo *m = &((const_memo *)x->consts.data)[i];
            if (m->k == k)
                return m->v;
        }
        frame kf = { .sc = NULL, .prefix = "" };
        lv v = widen(x, lower_expr(x, &kf, k->item->expr), ty_len(k->type));
        *(const_memo *)arena_vec_push(x->mem, &x->consts) = (const_memo){ k, v };
        return v;
    }
    if (e->sym < 0) /* `dt` */
        return lv1(x, konst(x, IR_F64, x->tick));
    const sema_sym *s = &f->sc->syms[e->sym];
    if (f->val[e->sym].n)
        return f->val[e->sym];
    int n = ty_len(s->type);
    ir_type t = ir_ty(ty_is_vec(s->type) ? TY_REAL : s->type);
    lv r = lv_new(x, n);
    switch (s->kind) {
    case SYM_INPUT:
    case SYM_PARAM: /* top frame; an instance's are bound when it is made */
        for (int i = 0; i < n; i++)
            r.v[i] = ir_emit(x->mem, x->ir,
                             (ir_inst){ .op = s->kind == SYM_INPUT ? IR_INPUT : IR_PARAM,
                                        .type = t, .a = f->var[e->sym] + (uint32_t)i,
                                        .name = s->name });
        break;
    case SYM_CONST:
        r = widen(x, lower_expr(x, f, s->def), n);
        break;
    case SYM_STATE:
        for (int i = 0; i < n; i++)
            r.v[i] = load(x, f->var[e->sym] + (uint32_t)i);
        break;
    default: /* sema orders every signal before its uses */
        diag_plain(x->diag, DIAG_ERROR,
                   "internal compiler error: '%s%s' is used before it is computed", f->prefix,
                   s->name);
        return zeros(x, s->type == TY_ERROR ? TY_REAL : s->type);
    }
    f->val[e->sym] = r;
    return r;
}

static lv lower_builtin(lower_ctx *x, frame *f, const ast_expr *e)
{
    const char *n = e->name;
    if (!strcmp(n, "pre"))
        return lower_pre(x, f, e);
    lv a = lower_expr(x, f, e->args.items[0]);
    lv b = e->args.len > 1 ? lower_expr(x, f, e->args.items[1]) : a;
    lv c = e->args.len > 2 ? lower_expr(x, f, e->args.items[2]) : a;
    if (!strcmp(n, "dot"))
        return lv1(x, dot_fixed(x, a, b));
    if (!strcmp(n, "sum"))
        return lv1(x, sum_fixed(x, a.v, a.n));
    if (!strcmp(n, "norm"))
        return lv1(x, emit(x, IR_SQRT, IR_F64, dot_fixed(x, a, a), 0, 0));
    if (!strcmp(n, "real"))
        return lv1(x, emit(x, IR_SELECT, IR_F64, a.v[0], konst(x, IR_F64, 1),
                           konst(x, IR_F64, 0)));
    if (!strcmp(n, "alpha") || !strcmp(n, "decay")) {
        /* exp(-dt/tau) is what remains of a deviation after one tick;
         * alpha = 1 - that is the step of a leaky integrator. With a
         * constant tau both fold to one constant. */
        uint32_t q = emit(x, IR_DIV, IR_F64, konst(x, IR_F64, -x->tick), a.v[0], 0);
        if (!strcmp(n, "decay"))
            return lv1(x, emit(x, IR_EXP, IR_F64, q, 0, 0));
        return lv1(x, emit(x, IR_NEG, IR_F64, emit(x, IR_EXPM1, IR_F64, q, 0, 0), 0, 0));
    }
    int len = ty_len(e->type);
    lv r = lv_new(x, len);
    for (int i = 0; i < len; i++) {
        uint32_t ai = at(a, i), bi = at(b, i), ci = at(c, i);
        ir_op op = IR_NOP;
        if (!strcmp(n, "exp")) op = IR_EXP;
        else if (!strcmp(n, "log")) op = IR_LOG;
        else if (!strcmp(n, "tanh")) op = IR_TANH;
        else if (!strcmp(n, "sin")) op = IR_SIN;
        else if (!strcmp(n, "cos")) op = IR_COS;
        else if (!strcmp(n, "sqrt")) op = IR_SQRT;
        else if (!strcmp(n, "abs")) op = IR_ABS;
        else if (!strcmp(n, "floor")) op = IR_FLOOR;
        if (op != IR_NOP)
            r.v[i] = emit(x, op, IR_F64, ai, 0, 0);
        else if (!strcmp(n, "sigmoid"))
            r.v[i] = sigmoid_(x, ai);
        else if (!strcmp(n, "min"))
            r.v[i] = minmax(x, ai, bi, 0);
        else if (!strcmp(n, "max"))
            r.v[i] = minmax(x, ai, bi, 1);
        else /* clamp(v, lo, hi) = min(max(v, lo), hi) */
            r.v[i] = minmax(x, minmax(x, ai, bi, 1), ci, 0);
    }
    return r;
}

static lv lower_expr(lower_ctx *x, frame *f, const ast_expr *e)
{
    switch (e->kind) {
    case EX_NUM:
    case EX_DUR:
        return lv1(x, konst(x, IR_F64, e->num));
    case EX_TICKS:
        return lv1(x, konst(x, IR_F64, e->num * x->tick));
    case EX_BOOL:
        return lv1(x, konst(x, IR_BOOL, e->num));
    case EX_NAME:
        return lower_name(x, f, e);
    case EX_FIELD:
        return f->val[e->sym];
    case EX_UNARY: {
        lv a = lower_expr(x, f, e->lhs);
        lv r = lv_new(x, a.n);
        for (int i = 0; i < a.n; i++)
            r.v[i] = emit(x, e->op == OP_NEG ? IR_NEG : IR_NOT,
                          e->op == OP_NEG ? IR_F64 : IR_BOOL, a.v[i], 0, 0);
        return r;
    }
    case EX_BINARY: {
        lv a = lower_expr(x, f, e->lhs);
        lv b = lower_expr(x, f, e->rhs);
        int n = a.n > b.n ? a.n : b.n;
        lv r = lv_new(x, n);
        ir_type t = ir_ty(ty_is_vec(e->type) ? TY_REAL : e->type);
        for (int i = 0; i < n; i++)
            r.v[i] = emit(x, binop(e->op), t, at(a, i), at(b, i), 0);
        return r;
    }
    case EX_IF: {
        lv c = lower_expr(x, f, e->cond);
        lv a = lower_expr(x, f, e->lhs);
        lv b = lower_expr(x, f, e->rhs);
        int n = ty_len(e->type);
        lv r = lv_new(x, n);
        ir_type t = ir_ty(ty_is_vec(e->type) ? TY_REAL : e->type);
        for (int i = 0; i < n; i++)
            r.v[i] = emit(x, IR_SELECT, t, c.v[0], at(a, i), at(b, i));
        return r;
    }
    case EX_CALL:
        if (e->ref)
            return f->val[e->sym]; /* its instance, lowered before this use */
        return lower_builtin(x, f, e);
    case EX_VEC: {
        lv r = lv_new(x, e->args.len);
        for (int i = 0; i < e->args.len; i++)
            r.v[i] = lower_expr(x, f, e->args.items[i]).v[0];
        return r;
    }
    case EX_INDEX: {
        lv a = lower_expr(x, f, e->lhs);
        double i = 0;
        sema_const_eval(f->sc, f->sc ? f->sc->mod : NULL, e->rhs, 0, x->tick, &i);
        if (!(i >= 0 && i < a.n && i == floor(i))) {
            /* sema checked it with the module's own tick; `dt` may differ here */
            diag_report(x->diag, DIAG_ERROR, e->rhs->loc,
                        "index %g is out of bounds for vec[%d] at a tick of %g ms", i, a.n,
                        x->tick * 1000);
            note_instances(x, f);
            i = 0;
        }
        return lv1(x, a.v[(int)i]);
    }
    case EX_NAMED:
        return lower_expr(x, f, e->lhs);
    }
    return lv_new(x, 1);
}

/* ---- constructs ---------------------------------------------------------- */

static lv zeros(lower_ctx *x, ast_type t)
{
    int n = ty_len(t);
    lv r = lv_new(x, n);
    for (int i = 0; i < n; i++)
        r.v[i] = konst(x, t == TY_BOOL ? IR_BOOL : IR_F64, 0);
    return r;
}

static void lower_gate(lower_ctx *x, frame *f, int i)
{
    const sema_sym *s = &f->sc->syms[i];
    lv v = lower_expr(x, f, s->def);
    lv c = lower_expr(x, f, s->item->cond);
    lv o = s->item->other ? lower_expr(x, f, s->item->other) : zeros(x, s->type);
    lv r = lv_new(x, v.n);
    ir_type t = ir_ty(ty_is_vec(s->type) ? TY_REAL : s->type);
    for (int k = 0; k < v.n; k++)
        r.v[k] = emit(x, IR_SELECT, t, c.v[0], v.v[k], at(o, k));
    f->val[i] = r;
}

typedef struct reflex_vals {
    uint32_t fire, on, held_slot;
} reflex_vals;

/* reflex r = c for D refractory R strength S, with K = D + R:
 *   k'    = min(k + 1, K)            ticks since the last firing (k = K at start)
 *   fire  = c and not pre(c) and k' >= K
 *   k''   = fire ? 0 : k'
 *   r     = k'' < D
 *   r.strength = r ? (S latched at the firing) : 0;  r.onset = fire */
static void lower_reflex(lower_ctx *x, frame *f, int i)
{
    const sema_sym *s = &f->sc->syms[i];
    double d = ticks_of(x, f, s->item->cond, "the duration", 1);
    double r = s->item->attrs.refractory ? ticks_of(x, f, s->item->attrs.refractory,
                                                    "the refractory period", 0)
                                         : 0;
    if (r < 0) {
        diag_report(x->diag, DIAG_ERROR, s->item->attrs.refractory->loc,
                    "the refractory period of reflex '%s' is negative at a tick of %g ms",
                    s->name, x->tick * 1000);
        note_instances(x, f);
        r = 0;
    }
    if (d < 1) {
        /* sema checks against the module's own tick; an instance compiled
         * under a coarser tick is caught here */
        diag_report(x->diag, DIAG_ERROR, s->item->cond->loc,
                    "reflex '%s' would be on for 0 ticks: its duration is shorter than half "
                    "a tick of %g ms", s->name, x->tick * 1000);
        diag_hint(x->diag, "make it at least one tick long");
        note_instances(x, f);
        d = 1;
    }
    double K = d + r;
    const char *base = pname(x, f, s->name);
    uint32_t prev_slot = add_slots(x, arena_printf(x->mem, "%s.prev", base), IR_BOOL, 1, NULL,
                                   "reflex condition, last tick", IR_ROLE_PLAIN, 0);
    uint32_t since_slot = add_slots(x, arena_printf(x->mem, "%s.since", base), IR_F64, 1, &K,
                                    "ticks since the reflex fired (saturating)", IR_ROLE_PLAIN, 0);
    uint32_t c = lower_expr(x, f, s->def).v[0];
    uint32_t prev = load(x, prev_slot);
    uint32_t onset = emit(x, IR_AND, IR_BOOL, c, emit(x, IR_NOT, IR_BOOL, prev, 0, 0), 0);
    uint32_t k0 = load(x, since_slot);
    uint32_t kK = konst(x, IR_F64, K);
    uint32_t kp = emit(x, IR_SELECT, IR_F64, emit(x, IR_GE, IR_BOOL, k0, kK, 0), kK,
                       emit(x, IR_ADD, IR_F64, k0, konst(x, IR_F64, 1), 0));
    uint32_t fire = emit(x, IR_AND, IR_BOOL, onset, emit(x, IR_GE, IR_BOOL, kp, kK, 0), 0);
    uint32_t kn = emit(x, IR_SELECT, IR_F64, fire, konst(x, IR_F64, 0), kp);
    uint32_t on = emit(x, IR_LT, IR_BOOL, kn, konst(x, IR_F64, d), 0);
    reflex_vals *rv = arena_calloc(x->mem, 1, sizeof *rv);
    rv->fire = fire;
    rv->on = on;
    rv->held_slot = NONE;
    if (s->item->attrs.strength)
        rv->held_slot = add_slots(x, arena_printf(x->mem, "%s.held", base), IR_F64, 1, NULL,
                                  "reflex strength at its firing", IR_ROLE_PLAIN, 0);
    f->aux[i] = rv;
    job_raw(x, prev_slot, c);
    job_raw(x, since_slot, kn);
    x->ir->code[on].name = s->name;
    f->val[i] = lv1(x, on);
    for (int k = 0; k < f->sc->n_syms; k++)
        if (f->sc->syms[k].kind == SYM_FIELD && f->sc->syms[k].owner == i &&
            f->sc->syms[k].field == FIELD_ONSET)
            f->val[k] = lv1(x, fire);
}

/* r.strength, lowered in its own place in the order: the strength
 * expression may read signals computed after the reflex itself. */
static void lower_reflex_strength(lower_ctx *x, frame *f, int field)
{
    int i = f->sc->syms[field].owner;
    const sema_sym *s = &f->sc->syms[i];
    const reflex_vals *rv = f->aux[i];
    uint32_t strength;
    if (rv->held_slot != NONE) {
        uint32_t sv = emit(x, IR_SELECT, IR_F64, rv->fire,
                           lower_expr(x, f, s->item->attrs.strength).v[0], load(x, rv->held_slot));
        strength = emit(x, IR_SELECT, IR_F64, rv->on, sv, konst(x, IR_F64, 0));
        job_raw(x, rv->held_slot, sv);
    } else {
        strength = emit(x, IR_SELECT, IR_F64, rv->on, konst(x, IR_F64, 1), konst(x, IR_F64, 0));
    }
    f->val[field] = lv1(x, strength);
}

/* predictor p: y = squash(w . x + b); T = defer ? y : supervisor;
 * e = T - y(t-D) once D ticks have passed (else 0). The update (end of the
 * tick) is w += g x(t-D), b += g with g = rate * e (lms) or
 * rate * e / (1 + x(t-D) . x(t-D)) (nlms), skipped when g is not finite. */
static void lower_predictor(lower_ctx *x, frame *f, int i)
{
    const sema_sym *s = &f->sc->syms[i];
    const sema_pred *p = s->pred;
    pred_vals *pv = arena_calloc(x->mem, 1, sizeof *pv);
    int n = p->n;
    double dticks = p->delay ? ticks_of(x, f, p->delay, "the delay", 0) : 0;
    int d = 0;
    /* The history is part of every instance's state and is shifted each
     * tick: bound it (see the limits in SPEC.md). */
    if (dticks < 0) {
        diag_report(x->diag, DIAG_ERROR, p->delay->loc,
                    "the delay of predictor '%s' is negative at a tick of %g ms", s->name,
                    x->tick * 1000);
        note_instances(x, f);
    } else if (dticks > LOWER_MAX_DELAY || dticks * (n > 0 ? n : 1) > LOWER_MAX_HISTORY) {
        if (dticks > LOWER_MAX_DELAY)
            diag_report(x->diag, DIAG_ERROR, p->delay->loc,
                        "the delay of predictor '%s' is %.4g ticks, more than the limit of %d",
                        s->name, dticks, LOWER_MAX_DELAY);
        else
            diag_report(x->diag, DIAG_ERROR, p->delay->loc,
                        "the delay of predictor '%s' is %.4g ticks; with a context of %d it "
                        "would keep %.4g past values, more than the limit of %d", s->name,
                        dticks, n, dticks * (n > 0 ? n : 1), LOWER_MAX_HISTORY);
        diag_hint(x->diag, "a predictor's delay is at most %d ticks and delay x context length "
                           "at most %d values", LOWER_MAX_DELAY, LOWER_MAX_HISTORY);
        note_instances(x, f);
    } else {
        d = (int)dticks;
    }
    pv->n = n;
    pv->d = d;
    const char *base = pname(x, f, s->name);
    double *w0 = arena_calloc(x->mem, (size_t)n + 1, sizeof *w0);
    for (int k = 0; p->init && k < n; k++)
        sema_const_eval(f->sc, f->sc->mod, p->init, ty_is_vec(p->init->type) ? k : 0, x->tick,
                        &w0[k]);
    pv->w_slot = add_slots(x, arena_printf(x->mem, "%s.w", base), IR_F64, n, w0,
                           "predictor weight", IR_ROLE_WEIGHT, n > 1);
    pv->b_slot = add_slots(x, arena_printf(x->mem, "%s.b", base), IR_F64, 1, NULL,
                           "predictor bias", IR_ROLE_WEIGHT, 0);
    lv xv = lower_expr(x, f, p->context);
    pv->x = xv;
    pv->w = lv_new(x, n);
    for (int k = 0; k < n; k++)
        pv->w.v[k] = load(x, pv->w_slot + (uint32_t)k);
    pv->b = load(x, pv->b_slot);
    uint32_t z = emit(x, IR_ADD, IR_F64, dot_fixed(x, pv->w, xv), pv->b, 0);
    uint32_t y = p->squash == SQUASH_SIGMOID ? sigmoid_(x, z)
               : p->squash == SQUASH_TANH    ? emit(x, IR_TANH, IR_F64, z, 0, 0)
                                             : z;
    x->ir->code[y].name = s->name;
    pv->y = y;
    uint32_t yd;
    if (d == 0) {
        yd = y;
        pv->xd = xv;
        pv->valid = konst(x, IR_BOOL, 1);
    } else {
        /* Ring buffers of the last d contexts (rows of n) and outputs; `pos`
         * is the row written d ticks ago, read now and overwritten at the end
         * of the tick: O(n) work per tick whatever the delay. */
        double zero = 0;
        pv->hist_slot = add_slots(x, arena_printf(x->mem, "%s.ctx", base), IR_F64, n * d, NULL,
                                  "predictor context history (ring of rows)", IR_ROLE_PLAIN, 1);
        pv->out_slot = add_slots(x, arena_printf(x->mem, "%s.out", base), IR_F64, d, NULL,
                                 "predictor output history (ring)", IR_ROLE_PLAIN, 1);
        pv->pos_slot = add_slots(x, arena_printf(x->mem, "%s.pos", base), IR_F64, 1, &zero,
                                 "the oldest row of the history rings", IR_ROLE_PLAIN, 0);
        pv->age_slot = add_slots(x, arena_printf(x->mem, "%s.age", base), IR_F64, 1, &zero,
                                 "ticks of history (saturating at the delay)", IR_ROLE_PLAIN, 0);
        pv->pos = load(x, pv->pos_slot);
        uint32_t row = emit(x, IR_MUL, IR_F64, pv->pos, konst(x, IR_F64, n), 0);
        pv->xd = lv_new(x, n);
        for (int k = 0; k < n; k++)
            pv->xd.v[k] = ir_emit(x->mem, x->ir,
                                  (ir_inst){ .op = IR_LOADX, .type = IR_F64, .a = row,
                                             .slot = pv->hist_slot + (uint32_t)k,
                                             .imm = (double)((d - 1) * n + 1) });
        yd = ir_emit(x->mem, x->ir, (ir_inst){ .op = IR_LOADX, .type = IR_F64, .a = pv->pos,
                                               .slot = pv->out_slot, .imm = (double)d });
        pv->age = load(x, pv->age_slot);
        pv->valid = emit(x, IR_GE, IR_BOOL, pv->age, konst(x, IR_F64, d), 0);
    }
    pv->yd = yd;
    f->val[i] = lv1(x, y);
    f->aux[i] = pv;
    job *j = new_job(x, JOB_PRED, f);
    j->sym = i;
    j->pv = pv;
}

static void push_store(lower_ctx *x, uint32_t slot, uint32_t value)
{
    *(store *)arena_vec_push(x->mem, &x->stores) = (store){ slot, value, 0, 0 };
}

static void push_ring_store(lower_ctx *x, uint32_t slot, uint32_t len, uint32_t index,
                            uint32_t value)
{
    *(store *)arena_vec_push(x->mem, &x->stores) = (store){ slot, value, index, len };
}

/* p.target and p.error, lowered in their place in the order (after the
 * supervisor and defer signals, which may read p itself). */
static void lower_pred_target(lower_ctx *x, frame *f, int i)
{
    const sema_pred *p = f->sc->syms[i].pred;
    pred_vals *pv = f->aux[i];
    if (pv->have_target)
        return;
    pv->have_target = 1;
    uint32_t sup = lower_expr(x, f, p->supervisor).v[0];
    pv->target = p->defer ? emit(x, IR_SELECT, IR_F64, lower_expr(x, f, p->defer).v[0], pv->y, sup)
                          : sup;
    pv->e = emit(x, IR_SELECT, IR_F64, pv->valid, emit(x, IR_SUB, IR_F64, pv->target, pv->yd, 0),
                 konst(x, IR_F64, 0));
    for (int k = 0; k < f->sc->n_syms; k++)
        if (f->sc->syms[k].kind == SYM_FIELD && f->sc->syms[k].owner == i)
            f->val[k] = lv1(x, f->sc->syms[k].field == FIELD_TARGET ? pv->target : pv->e);
}

static void finish_predictor(lower_ctx *x, job *j)
{
    const sema_pred *p = j->f->sc->syms[j->sym].pred;
    pred_vals *pv = j->pv;
    lower_pred_target(x, j->f, j->sym);
    uint32_t rate = lower_expr(x, j->f, p->rate).v[0];
    uint32_t g = emit(x, IR_MUL, IR_F64, rate, pv->e, 0);
    if (p->rule == PRED_NLMS) {
        uint32_t norm = emit(x, IR_ADD, IR_F64, konst(x, IR_F64, 1), dot_fixed(x, pv->xd, pv->xd), 0);
        g = emit(x, IR_DIV, IR_F64, g, norm, 0);
    }
    /* The update is taken whole or not at all: only when every new weight
     * and the bias are finite (v - v is 0 exactly then), so neither an
     * overflowing rate nor an overflowing context can poison the weights. */
    uint32_t zero = konst(x, IR_F64, 0);
    uint32_t *nw = arena_calloc(x->mem, (size_t)pv->n + 1, sizeof *nw);
    uint32_t nb = emit(x, IR_ADD, IR_F64, pv->b, g, 0);
    uint32_t ok = emit(x, IR_AND, IR_BOOL, pv->valid,
                       emit(x, IR_EQ, IR_BOOL, emit(x, IR_SUB, IR_F64, nb, nb, 0), zero, 0), 0);
    for (int k = 0; k < pv->n; k++) {
        nw[k] = emit(x, IR_ADD, IR_F64, pv->w.v[k], emit(x, IR_MUL, IR_F64, g, pv->xd.v[k], 0), 0);
        ok = emit(x, IR_AND, IR_BOOL, ok,
                  emit(x, IR_EQ, IR_BOOL, emit(x, IR_SUB, IR_F64, nw[k], nw[k], 0), zero, 0), 0);
    }
    for (int k = 0; k < pv->n; k++)
        push_store(x, pv->w_slot + (uint32_t)k, emit(x, IR_SELECT, IR_F64, ok, nw[k], pv->w.v[k]));
    push_store(x, pv->b_slot, emit(x, IR_SELECT, IR_F64, ok, nb, pv->b));
    if (pv->d > 0) {
        int n = pv->n, d = pv->d;
        uint32_t row = emit(x, IR_MUL, IR_F64, pv->pos, konst(x, IR_F64, n), 0);
        for (int k = 0; k < n; k++)
            push_ring_store(x, pv->hist_slot + (uint32_t)k, (uint32_t)((d - 1) * n + 1), row,
                            pv->x.v[k]);
        push_ring_store(x, pv->out_slot, (uint32_t)d, pv->pos, pv->y);
        uint32_t next = emit(x, IR_ADD, IR_F64, pv->pos, konst(x, IR_F64, 1), 0);
        push_store(x, pv->pos_slot,
                   emit(x, IR_SELECT, IR_F64, emit(x, IR_GE, IR_BOOL, next, konst(x, IR_F64, d), 0),
                        konst(x, IR_F64, 0), next));
        push_store(x, pv->age_slot,
                   emit(x, IR_SELECT, IR_F64, pv->valid, pv->age,
                        emit(x, IR_ADD, IR_F64, pv->age, konst(x, IR_F64, 1), 0)));
    }
}

/* After a limit is hit: every remaining signal is zero, so lowering ends
 * fast and without touching values that were never made. */
static void lower_zero(lower_ctx *x, frame *f, int i)
{
    const sema_sym *s = &f->sc->syms[i];
    if (s->kind == SYM_FIELD)
        return;
    f->val[i] = zeros(x, s->type == TY_ERROR ? TY_REAL : s->type);
    for (int k = 0; k < f->sc->n_syms; k++)
        if (f->sc->syms[k].kind == SYM_FIELD && f->sc->syms[k].owner == i)
            f->val[k] = zeros(x, f->sc->syms[k].type);
    if (s->kind == SYM_OUTPUT && f->top)
        for (int k = 0; k < f->val[i].n; k++)
            ir_emit(x->mem, x->ir,
                    (ir_inst){ .op = IR_OUTPUT,
                               .type = x->ir->outputs[f->var[i] + (uint32_t)k].type,
                               .a = f->val[i].v[k], .slot = f->var[i] + (uint32_t)k });
}

static void over_limit(lower_ctx *x, const frame *f, src_loc at, const char *what, long limit)
{
    if (x->aborted)
        return;
    x->aborted = 1;
    diag_report(x->diag, DIAG_ERROR, at, "circuit '%s' is too large: it flattens to more than "
                "%ld %s", x->ir->name, limit, what);
    diag_hint(x->diag, "the limits are %d instances and %d IR instructions per circuit; "
                       "instances of instances multiply", LOWER_MAX_INSTANCES, LOWER_MAX_CODE);
    note_instances(x, f);
}

static void lower_sym(lower_ctx *x, frame *f, int i)
{
    const sema_sym *s = &f->sc->syms[i];
    if (x->aborted) {
        lower_zero(x, f, i);
        return;
    }
    if (s->kind == SYM_INSTANCE && ++x->n_instances > LOWER_MAX_INSTANCES) {
        over_limit(x, f, s->decl_loc, "instances", LOWER_MAX_INSTANCES);
        lower_zero(x, f, i);
        return;
    }
    switch (s->kind) {
    case SYM_LET:
        if (s->let == LET_GATE) {
            lower_gate(x, f, i);
        } else {
            f->val[i] = lower_expr(x, f, s->def);
        }
        break;
    case SYM_OUTPUT:
        if (s->reward == 2) { /* the total: streams summed in declaration order */
            uint32_t t = NONE;
            for (int k = 0; k < f->sc->n_syms; k++)
                if (f->sc->syms[k].kind == SYM_OUTPUT && f->sc->syms[k].reward == 1)
                    t = t == NONE ? f->val[k].v[0]
                                  : emit(x, IR_ADD, IR_F64, t, f->val[k].v[0], 0);
            f->val[i] = lv1(x, t);
        } else {
            f->val[i] = lower_expr(x, f, s->def);
        }
        if (f->top)
            for (int k = 0; k < f->val[i].n; k++)
                ir_emit(x->mem, x->ir,
                        (ir_inst){ .op = IR_OUTPUT,
                                   .type = x->ir->outputs[f->var[i] + (uint32_t)k].type,
                                   .a = f->val[i].v[k], .slot = f->var[i] + (uint32_t)k });
        break;
    case SYM_REFLEX:
        lower_reflex(x, f, i);
        break;
    case SYM_PREDICTOR:
        lower_predictor(x, f, i);
        break;
    case SYM_INSTANCE:
        lower_instance(x, f, i);
        break;
    case SYM_FIELD: {
        /* instance fields and r.onset are set by their owners */
        const sema_sym *o = &f->sc->syms[s->owner];
        if (o->kind == SYM_PREDICTOR)
            lower_pred_target(x, f, s->owner);
        else if (o->kind == SYM_REFLEX && s->field == FIELD_STRENGTH)
            lower_reflex_strength(x, f, i);
        return;
    }
    default:
        return;
    }
    if (f->val[i].n == 1 && f->val[i].v[0] != NONE && !x->ir->code[f->val[i].v[0]].name)
        x->ir->code[f->val[i].v[0]].name = arena_printf(x->mem, "%s%s", f->prefix, s->name);
    if (x->ir->n_code > LOWER_MAX_CODE)
        over_limit(x, f, s->decl_loc, "IR instructions", LOWER_MAX_CODE);
}

static frame *new_frame(lower_ctx *x, const sema_circuit *sc, const char *prefix)
{
    frame *f = arena_calloc(x->mem, 1, sizeof *f);
    int n = sc->n_syms;
    f->sc = sc;
    f->prefix = prefix;
    f->val = arena_calloc(x->mem, (size_t)n + 1, sizeof *f->val);
    f->var = arena_calloc(x->mem, (size_t)n + 1, sizeof *f->var);
    f->key_head = arena_calloc(x->mem, (size_t)n + 1, sizeof *f->key_head);
    f->slots_of_sym = arena_calloc(x->mem, (size_t)n + 1, sizeof *f->slots_of_sym);
    f->aux = arena_calloc(x->mem, (size_t)n + 1, sizeof *f->aux);
    for (int i = 0; i < n; i++)
        f->key_head[i] = -1;
    return f;
}

/* State variables of a frame (`state x`). */
static void frame_states(lower_ctx *x, frame *f)
{
    const sema_circuit *sc = f->sc;
    for (int i = 0; i < sc->n_syms; i++) {
        const sema_sym *s = &sc->syms[i];
        if (s->kind != SYM_STATE)
            continue;
        int n = ty_len(s->type);
        double *iv = arena_calloc(x->mem, (size_t)n + 1, sizeof *iv);
        for (int k = 0; s->def && k < n; k++)
            sema_const_eval(sc, sc->mod, s->def, ty_is_vec(s->def->type) ? k : 0, x->tick, &iv[k]);
        f->var[i] = add_slots(x, pname(x, f, s->name), ir_ty(ty_is_vec(s->type) ? TY_REAL : s->type),
                              n, iv, "state", IR_ROLE_PLAIN, ty_is_vec(s->type));
        job *j = new_job(x, JOB_STATE, f);
        j->sym = i;
        j->slot = f->var[i];
        j->n = n;
    }
}

static void lower_body(lower_ctx *x, frame *f)
{
    frame_states(x, f);
    for (int k = 0; k < f->sc->n_order; k++)
        lower_sym(x, f, f->sc->order[k]);
}

/* Params of vectors and scalars as IR params named prefix + name. */
static uint32_t add_param(lower_ctx *x, const frame *f, const sema_sym *s)
{
    int n = ty_len(s->type);
    uint32_t first = NONE;
    for (int k = 0; k < n; k++) {
        double v = 0;
        sema_const_eval(f->sc, f->sc->mod, s->def, ty_is_vec(s->def->type) ? k : 0, x->tick, &v);
        const char *base = pname(x, f, s->name);
        const char *nm = ty_is_vec(s->type) ? arena_printf(x->mem, "%s[%d]", base, k) : base;
        uint32_t p = ir_add_var(x->mem, x->ir, IR_BLOCK_PARAM, nm,
                                ir_ty(ty_is_vec(s->type) ? TY_REAL : s->type), v, NULL);
        ir_var *pv = &x->ir->params[p];
        pv->is_dur = s->type == TY_DUR;
        if (ty_is_vec(s->type)) {
            pv->base = base;
            pv->index = (uint32_t)k;
            pv->len = (uint32_t)n;
        }
        if (s->item && s->item->attrs.lo) {
            pv->has_range = 1;
            sema_const_eval(f->sc, f->sc->mod, s->item->attrs.lo, 0, x->tick, &pv->lo);
            sema_const_eval(f->sc, f->sc->mod, s->item->attrs.hi, 0, x->tick, &pv->hi);
            if (k == 0 && !(pv->lo <= v && v <= pv->hi)) {
                /* checked by sema with the module's tick; `dt` may differ here */
                diag_report(x->diag, DIAG_ERROR, s->item->attrs.range_loc,
                            "at a tick of %g ms the default of param '%s' is outside its range",
                            x->tick * 1000, s->name);
                note_instances(x, f);
            }
        }
        if (k == 0)
            first = p;
    }
    return first;
}

static void lower_instance(lower_ctx *x, frame *f, int i)
{
    const sema_sym *s = &f->sc->syms[i];
    const sema_circuit *cal = s->callee;
    frame *cf = new_frame(x, cal, arena_printf(x->mem, "%s%s.", f->prefix, s->name));
    cf->parent = f;
    cf->made_at = s->def ? s->def->loc : s->decl_loc;
    for (int k = 0; k < cal->n_syms; k++) {
        const sema_sym *cs = &cal->syms[k];
        if (cs->kind != SYM_INPUT && cs->kind != SYM_PARAM)
            continue;
        const ast_expr *arg = NULL;
        int pos = 0;
        for (int a = 0; a < s->def->args.len && !arg; a++) {
            const ast_expr *ae = s->def->args.items[a];
            if (ae->kind == EX_NAMED) {
                if (ae->sym == k)
                    arg = ae->lhs;
            } else {
                if (pos < cal->n_inputs && cal->inputs[pos] == k)
                    arg = ae;
                pos++;
            }
        }
        if (arg) {
            lv v = lower_expr(x, f, arg);
            int n = ty_len(cs->type);
            lv r = lv_new(x, n);
            for (int e = 0; e < n; e++)
                r.v[e] = at(v, e);
            cf->val[k] = r;
        } else if (cs->kind == SYM_PARAM) {
            cf->var[k] = add_param(x, cf, cs);
            ast_expr name = { .kind = EX_NAME, .sym = k, .name = cs->name, .type = cs->type };
            cf->val[k] = lower_name(x, cf, &name);
        }
    }
    lower_body(x, cf);
    f->aux[i] = cf;
    f->val[i] = cal->n_outputs == 1 ? cf->val[cal->outputs[0]] : lv_new(x, 0);
    if (cal->n_outputs != 1)
        f->val[i].n = 0;
    for (int k = 0; k < f->sc->n_syms; k++)
        if (f->sc->syms[k].kind == SYM_FIELD && f->sc->syms[k].owner == i)
            f->val[k] = cf->val[cal->outputs[f->sc->syms[k].field]];
}

/* ---- the whole circuit --------------------------------------------------- */

static uint32_t add_io(lower_ctx *x, int block, const sema_sym *s, ir_role role)
{
    int n = ty_len(s->type);
    uint32_t first = NONE;
    for (int k = 0; k < n; k++) {
        const char *nm = ty_is_vec(s->type) ? arena_printf(x->mem, "%s[%d]", s->name, k) : s->name;
        uint32_t v = ir_add_var(x->mem, x->ir, block, nm,
                                ir_ty(ty_is_vec(s->type) ? TY_REAL : s->type), 0, NULL);
        ir_var *iv = block == IR_BLOCK_IN ? &x->ir->inputs[v] : &x->ir->outputs[v];
        iv->role = role;
        if (ty_is_vec(s->type)) {
            iv->base = s->name;
            iv->index = (uint32_t)k;
            iv->len = (uint32_t)n;
        }
        if (k == 0)
            first = v;
    }
    return first;
}

/* Probes: the value of every named signal of frame f as extra outputs. */
static void probe_frame(lower_ctx *x, frame *f, int depth)
{
    const sema_circuit *sc = f->sc;
    for (int i = 0; i < sc->n_syms && !x->aborted; i++) {
        const sema_sym *s = &sc->syms[i];
        if (s->kind == SYM_CONST || (f->top && (s->kind == SYM_INPUT || s->kind == SYM_OUTPUT ||
                                                s->kind == SYM_PARAM)))
            continue;
        if (s->kind == SYM_INSTANCE && depth == 0 && f->aux[i])
            probe_frame(x, f->aux[i], 1);
        /* An instance with one output is a value (`let l = leaky(x)`): l is
         * probed as that output; others are reached through their fields. */
        if (s->kind == SYM_INSTANCE && (s->hidden || !s->callee || s->callee->n_outputs != 1))
            continue;
        if (!f->val[i].n && s->kind == SYM_FIELD) {
            const sema_sym *o = &sc->syms[s->owner];
            if (o->kind == SYM_PREDICTOR && f->aux[s->owner])
                lower_pred_target(x, f, s->owner);
            else if (o->kind == SYM_REFLEX && s->field == FIELD_STRENGTH && f->aux[s->owner])
                lower_reflex_strength(x, f, i);
        }
        if (!f->val[i].n && (s->kind == SYM_STATE || s->kind == SYM_INPUT || s->kind == SYM_PARAM)) {
            ast_expr name = { .kind = EX_NAME, .sym = i, .name = s->name, .type = s->type };
            lower_name(x, f, &name);
        }
        lv v = f->val[i];
        if (!v.n || s->type == TY_ERROR || s->type == TY_DUR)
            continue;
        const char *base = pname(x, f, s->name);
        ir_type t = ir_ty(ty_is_vec(s->type) ? TY_REAL : s->type);
        for (int k = 0; k < v.n && k < ty_len(s->type); k++) {
            const char *nm = ty_is_vec(s->type) ? arena_printf(x->mem, "%s[%d]", base, k) : base;
            uint32_t o = ir_add_var(x->mem, x->ir, IR_BLOCK_OUT, nm, t, 0, NULL);
            ir_var *ov = &x->ir->outputs[o];
            ov->role = IR_ROLE_PROBE;
            if (ty_is_vec(s->type)) {
                ov->base = base;
                ov->index = (uint32_t)k;
                ov->len = (uint32_t)ty_len(s->type);
            }
            ir_emit(x->mem, x->ir, (ir_inst){ .op = IR_OUTPUT, .type = t, .a = v.v[k], .slot = o });
        }
    }
}

static ir_circuit *lower_all(arena *mem, diag_ctx *diag, const sema_circuit *c, double tick,
                             int probes);

ir_circuit *lower_circuit(arena *mem, diag_ctx *diag, const sema_circuit *c, double tick)
{
    return lower_all(mem, diag, c, tick, 0);
}

ir_circuit *lower_circuit_probed(arena *mem, diag_ctx *diag, const sema_circuit *c, double tick)
{
    return lower_all(mem, diag, c, tick, 1);
}

static ir_circuit *lower_all(arena *mem, diag_ctx *diag, const sema_circuit *c, double tick,
                             int probes)
{
    lower_ctx x = { .mem = mem, .diag = diag, .tick = tick, .first_slot = -1,
                    .first_value = NONE };
    x.ir = ir_new(mem, c->mod->name, c->name, tick);
    arena_vec_init(&x.jobs, sizeof(job));
    arena_vec_init(&x.stores, sizeof(store));
    arena_vec_init(&x.pre_keys, sizeof(pre_key));
    arena_vec_init(&x.warned, sizeof(src_loc));
    arena_vec_init(&x.consts, sizeof(const_memo));
    frame *f = new_frame(&x, c, "");
    f->top = 1;
    for (int i = 0; i < c->n_syms; i++) {
        const sema_sym *s = &c->syms[i];
        if (s->kind == SYM_INPUT) {
            f->var[i] = add_io(&x, IR_BLOCK_IN, s,
                               s->item->attrs.learned ? IR_ROLE_LEARNED : IR_ROLE_PLAIN);
            if (s->item->attrs.lo)
                for (int k = 0; k < ty_len(s->type); k++) {
                    ir_var *v = &x.ir->inputs[f->var[i] + (uint32_t)k];
                    v->has_range = 1;
                    sema_const_eval(c, c->mod, s->item->attrs.lo, 0, tick, &v->lo);
                    sema_const_eval(c, c->mod, s->item->attrs.hi, 0, tick, &v->hi);
                }
        } else if (s->kind == SYM_OUTPUT) {
            f->var[i] = add_io(&x, IR_BLOCK_OUT, s,
                               s->reward == 1 ? IR_ROLE_REWARD
                               : s->reward == 2 ? IR_ROLE_TOTAL : IR_ROLE_PLAIN);
        } else if (s->kind == SYM_PARAM) {
            f->var[i] = add_param(&x, f, s);
        }
    }
    lower_body(&x, f);
    if (probes)
        probe_frame(&x, f, 0);

    /* End of tick. Every value is computed before the first store, so each
     * load still sees last tick's state; lowering a stored expression may
     * queue more jobs (pre() inside it), which this loop picks up. */
    for (size_t k = 0; k < x.jobs.len && !x.aborted; k++) {
        job j = ((job *)x.jobs.data)[k];
        switch (j.kind) {
        case JOB_RAW:
            push_store(&x, j.slot, j.value);
            break;
        case JOB_PRE: {
            lv v = lower_expr(&x, j.f, j.expr);
            for (int e = 0; e < j.n; e++)
                push_store(&x, j.slot + (uint32_t)e, at(v, e));
            break;
        }
        case JOB_STATE: {
            lv v = lower_expr(&x, j.f, j.f->sc->syms[j.sym].next);
            for (int e = 0; e < j.n; e++)
                push_store(&x, j.slot + (uint32_t)e, at(v, e));
            break;
        }
        case JOB_PRED:
            finish_predictor(&x, &((job *)x.jobs.data)[k]);
            break;
        }
    }
    /* The validity of this tick's inputs: every real finite (x - x == 0
     * exactly then) and inside its declared range. */
    uint32_t ok = NONE;
    arena_vec goods;
    arena_vec_init(&goods, sizeof(uint32_t));
    for (uint32_t k = 0; k < x.ir->n_inputs; k++) {
        const ir_var *v = &x.ir->inputs[k];
        if (v->type != IR_F64)
            continue;
        uint32_t in = ir_emit(mem, x.ir, (ir_inst){ .op = IR_INPUT, .type = IR_F64, .a = k,
                                                    .name = v->name });
        uint32_t good;
        if (v->has_range && isfinite(v->lo) && isfinite(v->hi)) /* implies finite */
            good = emit(&x, IR_AND, IR_BOOL, emit(&x, IR_LE, IR_BOOL, konst(&x, IR_F64, v->lo), in, 0),
                        emit(&x, IR_LE, IR_BOOL, in, konst(&x, IR_F64, v->hi), 0), 0);
        else {
            good = emit(&x, IR_EQ, IR_BOOL, emit(&x, IR_SUB, IR_F64, in, in, 0),
                        konst(&x, IR_F64, 0), 0);
            if (v->has_range)
                good = emit(&x, IR_AND, IR_BOOL, good,
                            emit(&x, IR_AND, IR_BOOL,
                                 emit(&x, IR_LE, IR_BOOL, konst(&x, IR_F64, v->lo), in, 0),
                                 emit(&x, IR_LE, IR_BOOL, in, konst(&x, IR_F64, v->hi), 0), 0),
                            0);
        }
        *(uint32_t *)arena_vec_push(mem, &goods) = good;
    }
    /* All of them, combined as a balanced tree: a chain as long as a wide
     * vector input would be as deep, and LLVM recurses on such chains. */
    for (size_t n = goods.len; n > 1; n = (n + 1) / 2) {
        uint32_t *g = goods.data;
        for (size_t k = 0; k < n / 2; k++)
            g[k] = emit(&x, IR_AND, IR_BOOL, g[2 * k], g[2 * k + 1], 0);
        if (n % 2)
            g[n / 2] = g[n - 1];
    }
    if (goods.len)
        ok = ((uint32_t *)goods.data)[0];
    for (size_t k = 0; k < x.stores.len; k++) {
        store st = ((store *)x.stores.data)[k];
        ir_type t = x.ir->state[st.slot].type;
        if (st.len)
            ir_emit(mem, x.ir, (ir_inst){ .op = ok != NONE ? IR_STOREX_IF : IR_STOREX,
                                          .type = t, .a = st.value, .b = st.index, .c = ok,
                                          .slot = st.slot, .imm = st.len });
        else
            ir_emit(mem, x.ir, (ir_inst){ .op = ok != NONE ? IR_STORE_IF : IR_STORE, .type = t,
                                          .a = st.value, .b = ok, .slot = st.slot });
    }
    if (x.first_slot >= 0) {
        uint32_t fv = konst(&x, IR_BOOL, 0);
        ir_emit(mem, x.ir, (ir_inst){ .op = ok != NONE ? IR_STORE_IF : IR_STORE, .type = IR_BOOL,
                                      .a = fv, .b = ok, .slot = (uint32_t)x.first_slot });
    }
    if (ok != NONE)
        ir_emit(mem, x.ir, (ir_inst){ .op = IR_RETURN, .type = IR_BOOL,
                                      .a = emit(&x, IR_NOT, IR_BOOL, ok, 0, 0) });
    ir_layout(x.ir);
    return x.ir;
}
