/* test_passes.c — pass_fold, pass_cse and pass_dce keep the interpreter's
 * results exactly (bit for bit; any NaN equals any NaN) and the step's
 * status, fold only the identities that are exact for every double (and the
 * math ops of constants, with the library's own bits), merge equal
 * computations, and drop dead code and dead state slots but never a return. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <float.h>
#include <math.h>

#include "arena.h"
#include "interp.h"
#include "ir.h"
#include "ir_build.h"
#include "passes.h"
#include "rt_math.h"

/* ---- building ---------------------------------------------------------- */

static uint32_t R(builder *b, ir_op op, uint32_t x, uint32_t y) { return E(b, op, IR_F64, x, y, 0); }
static uint32_t L(builder *b, ir_op op, uint32_t x, uint32_t y) { return E(b, op, IR_BOOL, x, y, 0); }
static uint32_t KR(builder *b, double v)
{
    return ir_emit(b->a, b->c, (ir_inst){ .op = IR_CONST, .type = IR_F64, .imm = v });
}
static uint32_t KB(builder *b, double v)
{
    return ir_emit(b->a, b->c, (ir_inst){ .op = IR_CONST, .type = IR_BOOL, .imm = v });
}
static double rd_f64(const unsigned char *p)
{
    double d;
    memcpy(&d, p, sizeof d);
    return d;
}

static void wr_f64(unsigned char *p, double d) { memcpy(p, &d, sizeof d); }

static int var_index(const ir_var *v, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* The instruction that defines output `name`'s value. */
static const ir_inst *output_def(const ir_circuit *c, const char *name)
{
    int o = var_index(c->outputs, c->n_outputs, name);
    if (o < 0)
        fail_msg("no output %s", name);
    for (uint32_t i = 0; i < c->n_code; i++)
        if (c->code[i].op == IR_OUTPUT && c->code[i].slot == (uint32_t)o)
            return &c->code[c->code[i].a];
    fail_msg("output %s is never written", name);
    return NULL;
}

static uint32_t output_value(const ir_circuit *c, const char *name)
{
    return (uint32_t)(output_def(c, name) - c->code);
}

static int count_op(const ir_circuit *c, ir_op op)
{
    int n = 0;
    for (uint32_t i = 0; i < c->n_code; i++)
        n += c->code[i].op == op;
    return n;
}

/* ---- running ------------------------------------------------------------ */

/* Values that break careless rewrites. */
static const double VALS[] = { 0.0, -0.0, 1.0, -1.0, 0.5, 3.0, 0.1, 1e-310, -0x1p-1074,
                               DBL_MAX, -DBL_MAX, INFINITY, -INFINITY, NAN, -NAN };
enum { NVALS = sizeof VALS / sizeof VALS[0] };

/* Inputs are filled by kind: reals cycle through VALS at different strides,
 * bools through bytes 0, 1 and 2. */
static void fill_inputs(const ir_circuit *c, unsigned char *in, long tick)
{
    for (uint32_t i = 0; i < c->n_inputs; i++) {
        const ir_var *v = &c->inputs[i];
        if (v->type == IR_F64)
            wr_f64(in + v->offset, VALS[(tick * (long)(2 * i + 1) + tick / NVALS * (long)i) % NVALS]);
        else
            in[v->offset] = (unsigned char)((tick + i) % 3);
    }
}

enum { TICKS = NVALS * NVALS };

/* A trace: for each tick, the step's status, every output and every state
 * var by name. */
typedef struct trace {
    int *status;   /* TICKS */
    double *out;   /* TICKS * n_outputs */
    double *state; /* TICKS * n_state, in the circuit's slot order */
    const char **state_names;
    uint32_t n_outputs, n_state;
} trace;

static trace run(arena *mem, const ir_circuit *c)
{
    trace t = { 0 };
    t.n_outputs = c->n_outputs;
    t.n_state = c->n_state;
    t.status = arena_calloc(mem, TICKS, sizeof *t.status);
    t.out = arena_calloc(mem, (size_t)TICKS * c->n_outputs + 1, sizeof *t.out);
    t.state = arena_calloc(mem, (size_t)TICKS * c->n_state + 1, sizeof *t.state);
    t.state_names = arena_calloc(mem, (size_t)c->n_state + 1, sizeof *t.state_names);
    for (uint32_t s = 0; s < c->n_state; s++)
        t.state_names[s] = c->state[s].name;
    unsigned char *st = arena_alloc(mem, c->state_size + 8), *in = arena_alloc(mem, c->in_size + 8),
                  *out = arena_alloc(mem, c->out_size + 8);
    interp *ip = interp_new(c);
    interp_init(ip, st);
    for (long k = 0; k < TICKS; k++) {
        fill_inputs(c, in, k);
        /* a host changing params now and then */
        if (k % 50 == 49)
            for (uint32_t p = 0; p < c->n_params; p++) {
                if (c->params[p].type == IR_F64)
                    wr_f64(st + c->params[p].offset, VALS[(k / 50 + p) % NVALS]);
                else
                    st[c->params[p].offset] = (unsigned char)(k / 50 % 3);
            }
        t.status[k] = interp_step(ip, st, in, out);
        for (uint32_t o = 0; o < c->n_outputs; o++) {
            const ir_var *v = &c->outputs[o];
            t.out[k * c->n_outputs + o] = v->type == IR_F64 ? rd_f64(out + v->offset) : out[v->offset];
        }
        for (uint32_t s = 0; s < c->n_state; s++) {
            const ir_var *v = &c->state[s];
            t.state[k * c->n_state + s] = v->type == IR_F64 ? rd_f64(st + v->offset) : st[v->offset];
        }
    }
    interp_free(ip);
    return t;
}

/* Outputs identical at every tick; every state slot that survived holds the
 * same value as before. */
static void expect_same_trace(const trace *before, const trace *after, const ir_circuit *after_c,
                              const char *what)
{
    assert_int_equal(before->n_outputs, after->n_outputs);
    for (long k = 0; k < TICKS; k++) {
        if (before->status[k] != after->status[k])
            fail_msg("%s: tick %ld status: %d before, %d after", what, k, before->status[k],
                     after->status[k]);
        for (uint32_t o = 0; o < before->n_outputs; o++) {
            double x = before->out[k * before->n_outputs + o], y = after->out[k * after->n_outputs + o];
            if (!same_f64(x, y))
                fail_msg("%s: tick %ld output %s: %a before, %a after", what, k,
                         after_c->outputs[o].name, x, y);
        }
        for (uint32_t s = 0; s < after->n_state; s++) {
            int b = -1;
            for (uint32_t i = 0; i < before->n_state; i++)
                if (strcmp(before->state_names[i], after->state_names[s]) == 0)
                    b = (int)i;
            if (b < 0)
                fail_msg("%s: state %s appeared from nowhere", what, after->state_names[s]);
            double x = before->state[k * before->n_state + (uint32_t)b];
            double y = after->state[k * after->n_state + s];
            if (!same_f64(x, y))
                fail_msg("%s: tick %ld state %s: %a before, %a after", what, k,
                         after->state_names[s], x, y);
        }
    }
}

typedef ir_circuit *(*build_fn)(arena *a);
typedef void (*pass_fn)(arena *, ir_circuit *);

/* Build twice: the reference trace from the untouched circuit, then apply
 * passes in order to the second copy and compare. Returns the second copy. */
static ir_circuit *check_passes(arena *a, build_fn build, const pass_fn *passes, int npasses,
                                const char *what)
{
    ir_circuit *ref = build(a);
    assert_null(ir_verify(a, ref));
    trace before = run(a, ref);
    ir_circuit *c = build(a);
    for (int i = 0; i < npasses; i++) {
        passes[i](a, c);
        const char *err = ir_verify(a, c);
        if (err)
            fail_msg("%s: IR invalid after pass %d: %s", what, i, err);
    }
    trace after = run(a, c);
    expect_same_trace(&before, &after, c, what);
    return c;
}

/* ---- circuits ----------------------------------------------------------- */

/* Identities that hold for every double, and look-alikes that do not. */
static ir_circuit *build_identities(arena *a)
{
    builder B = { a, ir_new(a, "unit", "identities", 1) }, *b = &B;
    ir_add_var(a, b->c, IR_BLOCK_IN, "x", IR_F64, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_IN, "y", IR_F64, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_IN, "f", IR_BOOL, 0, NULL);
    uint32_t x = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    uint32_t y = E(b, IR_INPUT, IR_F64, 1, 0, 0);
    uint32_t f = E(b, IR_INPUT, IR_BOOL, 2, 0, 0);
    uint32_t pz = KR(b, 0.0), nz = KR(b, -0.0), one = KR(b, 1.0), mone = KR(b, -1.0);
    uint32_t kt = KB(b, 1), kf = KB(b, 0);
    /* exact: must fold to x */
    OUT(b, "x_times_1", IR_F64, R(b, IR_MUL, x, one));
    OUT(b, "1_times_x", IR_F64, R(b, IR_MUL, one, x));
    OUT(b, "x_div_1", IR_F64, R(b, IR_DIV, x, one));
    OUT(b, "x_minus_0", IR_F64, R(b, IR_SUB, x, pz));
    OUT(b, "x_plus_m0", IR_F64, R(b, IR_ADD, x, nz));
    OUT(b, "m0_plus_x", IR_F64, R(b, IR_ADD, nz, x));
    /* not exact: must stay */
    OUT(b, "x_plus_0", IR_F64, R(b, IR_ADD, x, pz));     /* -0 + 0 = +0 */
    OUT(b, "0_plus_x", IR_F64, R(b, IR_ADD, pz, x));
    OUT(b, "x_minus_m0", IR_F64, R(b, IR_SUB, x, nz));   /* -0 - -0 = +0 */
    OUT(b, "0_minus_x", IR_F64, R(b, IR_SUB, pz, x));    /* not -x: 0 - 0 = +0 */
    OUT(b, "x_times_0", IR_F64, R(b, IR_MUL, x, pz));    /* inf, NaN, sign */
    OUT(b, "x_times_m1", IR_F64, R(b, IR_MUL, x, mone));
    OUT(b, "1_div_x", IR_F64, R(b, IR_DIV, one, x));
    OUT(b, "x_minus_x", IR_F64, R(b, IR_SUB, x, x));     /* NaN, inf */
    OUT(b, "x_div_x", IR_F64, R(b, IR_DIV, x, x));
    OUT(b, "x_eq_x", IR_BOOL, L(b, IR_EQ, x, x));       /* false for NaN */
    OUT(b, "x_ne_x", IR_BOOL, L(b, IR_NE, x, x));
    OUT(b, "x_le_x", IR_BOOL, L(b, IR_LE, x, x));
    OUT(b, "neg_neg_x", IR_F64, R(b, IR_NEG, R(b, IR_NEG, x, 0), 0));
    OUT(b, "xy", IR_F64, R(b, IR_ADD, R(b, IR_MUL, x, y), one));
    /* bool identities */
    OUT(b, "not_not_f", IR_BOOL, L(b, IR_NOT, L(b, IR_NOT, f, 0), 0));
    OUT(b, "f_and_t", IR_BOOL, L(b, IR_AND, f, kt));
    OUT(b, "t_and_f", IR_BOOL, L(b, IR_AND, kt, f));
    OUT(b, "f_and_f", IR_BOOL, L(b, IR_AND, f, kf));
    OUT(b, "f_or_t", IR_BOOL, L(b, IR_OR, f, kt));
    OUT(b, "f_or_f", IR_BOOL, L(b, IR_OR, kf, f));
    OUT(b, "sel_t", IR_F64, E(b, IR_SELECT, IR_F64, kt, x, y));
    OUT(b, "sel_f", IR_F64, E(b, IR_SELECT, IR_F64, kf, x, y));
    OUT(b, "sel_same", IR_F64, E(b, IR_SELECT, IR_F64, f, y, y));
    OUT(b, "sel_f_xy", IR_F64, E(b, IR_SELECT, IR_F64, f, x, y));
    OUT(b, "sel_bool", IR_BOOL, E(b, IR_SELECT, IR_BOOL, L(b, IR_LT, x, y), f, kt));
    OUT(b, "f_eq_t", IR_BOOL, L(b, IR_EQ, f, kt));
    ir_layout(b->c);
    return b->c;
}

/* Constant expressions, including the awkward ones. */
static ir_circuit *build_consts(arena *a)
{
    builder B = { a, ir_new(a, "unit", "consts", 1) }, *b = &B;
    ir_add_var(a, b->c, IR_BLOCK_IN, "x", IR_F64, 0, NULL);
    uint32_t x = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    uint32_t k2 = KR(b, 2), k3 = KR(b, 3), pz = KR(b, 0.0), nz = KR(b, -0.0);
    uint32_t inf = KR(b, INFINITY), nan = KR(b, NAN), p1 = KR(b, 0.1), p2 = KR(b, 0.2);
    uint32_t sub = KR(b, 0x1p-1074), big = KR(b, DBL_MAX);
    uint32_t kt = KB(b, 1), kf = KB(b, 0);
    OUT(b, "add", IR_F64, R(b, IR_ADD, k2, k3));
    OUT(b, "tenths", IR_F64, R(b, IR_ADD, p1, p2));      /* 0.30000000000000004 */
    OUT(b, "zeros", IR_F64, R(b, IR_ADD, nz, nz));       /* -0 */
    OUT(b, "zero_sum", IR_F64, R(b, IR_ADD, nz, pz));    /* +0 */
    OUT(b, "zero_diff", IR_F64, R(b, IR_SUB, pz, pz));   /* +0 */
    OUT(b, "neg_zero", IR_F64, R(b, IR_NEG, pz, 0));     /* -0 */
    OUT(b, "div0", IR_F64, R(b, IR_DIV, k2, nz));        /* -inf */
    OUT(b, "nan0", IR_F64, R(b, IR_DIV, pz, pz));        /* NaN */
    OUT(b, "inf_inf", IR_F64, R(b, IR_SUB, inf, inf));   /* NaN */
    OUT(b, "under", IR_F64, R(b, IR_MUL, sub, KR(b, 0.5))); /* 0 (round to even) */
    OUT(b, "over", IR_F64, R(b, IR_MUL, big, k2));       /* inf */
    OUT(b, "nan_lt", IR_BOOL, L(b, IR_LT, nan, k2));
    OUT(b, "nan_ne", IR_BOOL, L(b, IR_NE, nan, nan));
    OUT(b, "nan_eq", IR_BOOL, L(b, IR_EQ, nan, nan));
    OUT(b, "z_eq", IR_BOOL, L(b, IR_EQ, nz, pz));
    OUT(b, "ge", IR_BOOL, L(b, IR_GE, k3, k2));
    OUT(b, "band", IR_BOOL, L(b, IR_AND, kt, kf));
    OUT(b, "bor", IR_BOOL, L(b, IR_OR, kt, kf));
    OUT(b, "bnot", IR_BOOL, L(b, IR_NOT, kf, 0));
    OUT(b, "beq", IR_BOOL, L(b, IR_EQ, kt, kf));
    OUT(b, "sel", IR_F64, E(b, IR_SELECT, IR_F64, L(b, IR_GT, k3, k2), nz, pz));
    /* folding inside a chain that ends at an input */
    OUT(b, "chain", IR_F64, R(b, IR_MUL, x, R(b, IR_SUB, k3, k2))); /* x * 1 */
    ir_layout(b->c);
    return b->c;
}

/* Repeated loads and computations, and look-alikes that are not equal. */
static ir_circuit *build_repeats(arena *a)
{
    builder B = { a, ir_new(a, "unit", "repeats", 1) }, *b = &B;
    ir_add_var(a, b->c, IR_BLOCK_IN, "x", IR_F64, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_IN, "y", IR_F64, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_PARAM, "g", IR_F64, 2, NULL);
    ir_add_var(a, b->c, IR_BLOCK_STATE, "s", IR_F64, 0.5, NULL);
    uint32_t x1 = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    uint32_t y1 = E(b, IR_INPUT, IR_F64, 1, 0, 0);
    uint32_t x2 = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    uint32_t y2 = E(b, IR_INPUT, IR_F64, 1, 0, 0);
    uint32_t s1 = E(b, IR_LOAD, IR_F64, 0, 0, 0);
    uint32_t s2 = E(b, IR_LOAD, IR_F64, 0, 0, 0);
    uint32_t g1 = E(b, IR_PARAM, IR_F64, 0, 0, 0);
    uint32_t g2 = E(b, IR_PARAM, IR_F64, 0, 0, 0);
    OUT(b, "sum1", IR_F64, R(b, IR_ADD, x1, y1));
    OUT(b, "sum2", IR_F64, R(b, IR_ADD, x2, y2));
    OUT(b, "diff", IR_F64, R(b, IR_SUB, x1, y1));
    OUT(b, "rdiff", IR_F64, R(b, IR_SUB, y2, x2));        /* not the same as diff */
    OUT(b, "sg1", IR_F64, R(b, IR_MUL, s1, g1));
    OUT(b, "sg2", IR_F64, R(b, IR_MUL, s2, g2));
    OUT(b, "pz", IR_F64, R(b, IR_MUL, x1, KR(b, 0.0)));
    OUT(b, "nz", IR_F64, R(b, IR_MUL, x2, KR(b, -0.0)));  /* 0 and -0 are different */
    OUT(b, "k1", IR_F64, KR(b, 1.0));
    OUT(b, "k1b", IR_F64, KR(b, 1.0));
    OUT(b, "lt1", IR_BOOL, L(b, IR_LT, x1, y1));
    OUT(b, "lt2", IR_BOOL, L(b, IR_LT, x2, y2));
    OUT(b, "gt", IR_BOOL, L(b, IR_GT, x2, y2));           /* same operands, other op */
    STORE(b, 0, IR_F64, R(b, IR_ADD, R(b, IR_ADD, x2, y2), s2));
    ir_layout(b->c);
    return b->c;
}

/* State: live, dead (never loaded), self-feeding but unobservable, a two-slot
 * delay chain, and a bool slot. */
enum { S_LIVE, S_DEAD, S_SELF, S_CHAIN_A, S_CHAIN_B, S_BOOL, S_UNUSED };

static ir_circuit *build_state(arena *a)
{
    builder B = { a, ir_new(a, "unit", "state", 1) }, *b = &B;
    ir_add_var(a, b->c, IR_BLOCK_IN, "x", IR_F64, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_IN, "f", IR_BOOL, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_PARAM, "unused_param", IR_F64, 7, NULL);
    ir_add_var(a, b->c, IR_BLOCK_STATE, "live", IR_F64, -0.0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_STATE, "dead", IR_F64, 1, NULL);
    ir_add_var(a, b->c, IR_BLOCK_STATE, "self", IR_F64, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_STATE, "chain_a", IR_F64, 2, NULL);
    ir_add_var(a, b->c, IR_BLOCK_STATE, "chain_b", IR_F64, 3, NULL);
    ir_add_var(a, b->c, IR_BLOCK_STATE, "pf", IR_BOOL, 1, NULL);
    ir_add_var(a, b->c, IR_BLOCK_STATE, "unused", IR_BOOL, 1, NULL);
    uint32_t x = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    uint32_t f = E(b, IR_INPUT, IR_BOOL, 1, 0, 0);
    uint32_t live = E(b, IR_LOAD, IR_F64, S_LIVE, 0, 0);
    uint32_t self = E(b, IR_LOAD, IR_F64, S_SELF, 0, 0);
    uint32_t ca = E(b, IR_LOAD, IR_F64, S_CHAIN_A, 0, 0);
    uint32_t cb = E(b, IR_LOAD, IR_F64, S_CHAIN_B, 0, 0);
    uint32_t pf = E(b, IR_LOAD, IR_BOOL, S_BOOL, 0, 0);
    E(b, IR_LOAD, IR_BOOL, S_UNUSED, 0, 0); /* loaded, but the value goes nowhere */
    uint32_t dead_value = R(b, IR_MUL, x, KR(b, 4));     /* only feeds dead state */
    OUT(b, "live", IR_F64, R(b, IR_ADD, live, x));
    OUT(b, "delay2", IR_F64, cb);
    OUT(b, "pf", IR_BOOL, L(b, IR_AND, pf, f));
    STORE(b, S_LIVE, IR_F64, x);
    STORE(b, S_DEAD, IR_F64, dead_value);
    STORE(b, S_SELF, IR_F64, R(b, IR_ADD, self, KR(b, 1)));
    STORE(b, S_CHAIN_A, IR_F64, x);
    STORE(b, S_CHAIN_B, IR_F64, ca);
    STORE(b, S_BOOL, IR_BOOL, L(b, IR_NOT, f, 0));
    ir_layout(b->c);
    return b->c;
}

/* Bool constants are true when imm != 0 (ir.h), so 2 and 1 are both true. */
static ir_circuit *build_bool_consts(arena *a)
{
    builder B = { a, ir_new(a, "unit", "boolk", 1) }, *b = &B;
    uint32_t t2 = KB(b, 2), t1 = KB(b, 1), tn = KB(b, NAN), fz = KB(b, -0.0), f0 = KB(b, 0);
    OUT(b, "eq_2_1", IR_BOOL, L(b, IR_EQ, t2, t1));
    OUT(b, "ne_2_1", IR_BOOL, L(b, IR_NE, t2, t1));
    OUT(b, "eq_nan_1", IR_BOOL, L(b, IR_EQ, tn, t1));
    OUT(b, "ne_nan_nan", IR_BOOL, L(b, IR_NE, tn, tn));
    OUT(b, "eq_m0_0", IR_BOOL, L(b, IR_EQ, fz, f0));
    OUT(b, "and_2_nan", IR_BOOL, L(b, IR_AND, t2, tn));
    ir_layout(b->c);
    return b->c;
}

/* The math ops, and arguments where they are awkward. */
static const ir_op MATH[] = { IR_EXP, IR_LOG, IR_TANH, IR_SIN, IR_COS, IR_SQRT, IR_ABS, IR_FLOOR,
                              IR_EXPM1 };
enum { N_MATH = sizeof MATH / sizeof MATH[0] };
static const double MATH_ARGS[] = {
    0.0, -0.0, INFINITY, -INFINITY, NAN, -NAN, 0x1p-1074, -0x1p-1074, 1e-310, 0x1p-1022,
    DBL_MAX, -DBL_MAX, 1e22, 1e300, 1e-300, 709.79, 709.782712893384, -745.2, 19.0615, 19.07,
    22.0, -22.0, -1.0, -0.5, 0.5, 1.0, 2.5, 3.141592653589793, 0x1p52 - 0.5, 0.1,
};
enum { N_MATH_ARGS = sizeof MATH_ARGS / sizeof MATH_ARGS[0] };

/* Every math op of every awkward constant (all fold), a chain of them, and
 * one whose operand is an input (stays). */
static ir_circuit *build_math_consts(arena *a)
{
    builder B = { a, ir_new(a, "unit", "math_consts", 1) }, *b = &B;
    ir_add_var(a, b->c, IR_BLOCK_IN, "x", IR_F64, 0, NULL);
    uint32_t x = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    for (int i = 0; i < N_MATH; i++)
        for (int k = 0; k < N_MATH_ARGS; k++)
            OUT(b, arena_printf(a, "k_%s_%d", ir_op_name(MATH[i]), k), IR_F64,
                R(b, MATH[i], KR(b, MATH_ARGS[k]), 0));
    OUT(b, "chain", IR_F64, R(b, IR_EXP, R(b, IR_LOG, R(b, IR_SQRT, KR(b, 2.0), 0), 0), 0));
    OUT(b, "half_x", IR_F64, R(b, IR_MUL, x, R(b, IR_COS, KR(b, 1.0), 0)));
    OUT(b, "exp_x", IR_F64, R(b, IR_EXP, x, 0));
    ir_layout(b->c);
    return b->c;
}

/* Math of inputs: nothing folds; equal computations merge, others do not. */
static ir_circuit *build_math_inputs(arena *a)
{
    builder B = { a, ir_new(a, "unit", "math_inputs", 1) }, *b = &B;
    ir_add_var(a, b->c, IR_BLOCK_IN, "x", IR_F64, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_IN, "y", IR_F64, 0, NULL);
    uint32_t x1 = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    uint32_t y = E(b, IR_INPUT, IR_F64, 1, 0, 0);
    uint32_t x2 = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    for (int i = 0; i < N_MATH; i++) {
        OUT(b, arena_printf(a, "%s_x", ir_op_name(MATH[i])), IR_F64, R(b, MATH[i], x1, 0));
        OUT(b, arena_printf(a, "%s_x2", ir_op_name(MATH[i])), IR_F64, R(b, MATH[i], x2, 0));
        OUT(b, arena_printf(a, "%s_y", ir_op_name(MATH[i])), IR_F64, R(b, MATH[i], y, 0));
    }
    OUT(b, "sin_neg", IR_F64, R(b, IR_SIN, R(b, IR_NEG, x1, 0), 0));
    OUT(b, "abs_abs", IR_F64, R(b, IR_ABS, R(b, IR_ABS, x2, 0), 0));
    ir_layout(b->c);
    return b->c;
}

/* A status that reaches no output ("x is not in [0, 1]"), the state
 * committed only on valid ticks, and dead code beside it. */
static ir_circuit *build_status(arena *a)
{
    builder B = { a, ir_new(a, "unit", "status", 1) }, *b = &B;
    ir_add_var(a, b->c, IR_BLOCK_IN, "x", IR_F64, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_IN, "f", IR_BOOL, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_STATE, "s", IR_F64, 0.5, NULL);
    uint32_t x = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    uint32_t s = E(b, IR_LOAD, IR_F64, 0, 0, 0);
    uint32_t ok = L(b, IR_AND, L(b, IR_GE, x, KR(b, 0)), L(b, IR_LE, x, KR(b, 1)));
    uint32_t bad = L(b, IR_NOT, ok, 0);
    R(b, IR_MUL, x, KR(b, 4)); /* dead */
    ir_emit(a, b->c, (ir_inst){ .op = IR_RETURN, .type = IR_BOOL, .a = bad });
    OUT(b, "y", IR_F64, R(b, IR_TANH, x, 0));
    OUT(b, "prev", IR_F64, s);
    STORE(b, 0, IR_F64, E(b, IR_SELECT, IR_F64, bad, s, x));
    ir_layout(b->c);
    return b->c;
}

/* A status that is constant once folded; the return stays. */
static ir_circuit *build_status_const(arena *a)
{
    builder B = { a, ir_new(a, "unit", "status_k", 1) }, *b = &B;
    ir_add_var(a, b->c, IR_BLOCK_IN, "x", IR_F64, 0, NULL);
    uint32_t t = L(b, IR_AND, KB(b, 1), L(b, IR_NOT, KB(b, 0), 0));
    ir_emit(a, b->c, (ir_inst){ .op = IR_RETURN, .type = IR_BOOL, .a = t });
    OUT(b, "y", IR_F64, E(b, IR_INPUT, IR_F64, 0, 0, 0));
    ir_layout(b->c);
    return b->c;
}

/* The only return of c, or NULL. */
static const ir_inst *the_return(const ir_circuit *c)
{
    const ir_inst *r = NULL;
    for (uint32_t i = 0; i < c->n_code; i++)
        if (c->code[i].op == IR_RETURN) {
            assert_null(r);
            r = &c->code[i];
        }
    return r;
}

/* ---- tests -------------------------------------------------------------- */

static const pass_fn FOLD[] = { pass_fold };
static const pass_fn CSE[] = { pass_cse };
static const pass_fn DCE[] = { pass_dce };
static const pass_fn ALL[] = { pass_fold, pass_cse, pass_fold, pass_dce };
static const pass_fn TWICE[] = { pass_dce, pass_cse, pass_fold, pass_dce, pass_fold, pass_cse };

static const build_fn BUILDS[] = { build_identities, build_consts, build_repeats, build_state,
                                   build_math_consts, build_math_inputs, build_status,
                                   build_status_const };

static void test_each_pass_preserves_results(void **state)
{
    arena *a = *state;
    for (size_t i = 0; i < sizeof BUILDS / sizeof BUILDS[0]; i++) {
        check_passes(a, BUILDS[i], FOLD, 1, "fold");
        check_passes(a, BUILDS[i], CSE, 1, "cse");
        check_passes(a, BUILDS[i], DCE, 1, "dce");
        check_passes(a, BUILDS[i], ALL, 4, "fold,cse,fold,dce");
        check_passes(a, BUILDS[i], TWICE, 6, "mixed order");
    }
}

static void test_fold_exact_identities(void **state)
{
    arena *a = *state;
    ir_circuit *c = check_passes(a, build_identities, FOLD, 1, "fold");
    static const char *const folded_to_x[] = {
        "x_times_1", "1_times_x", "x_div_1", "x_minus_0", "x_plus_m0", "m0_plus_x",
        "sel_t",
    };
    for (size_t i = 0; i < sizeof folded_to_x / sizeof folded_to_x[0]; i++) {
        const ir_inst *d = output_def(c, folded_to_x[i]);
        if (d->op != IR_INPUT || d->a != 0)
            fail_msg("%s was not folded to x (it is %s)", folded_to_x[i], ir_op_name(d->op));
    }
    static const struct { const char *out; ir_op op; } kept[] = {
        { "x_plus_0", IR_ADD }, { "0_plus_x", IR_ADD }, { "x_minus_m0", IR_SUB },
        { "0_minus_x", IR_SUB }, { "x_times_0", IR_MUL }, { "x_times_m1", IR_MUL },
        { "1_div_x", IR_DIV }, { "x_minus_x", IR_SUB }, { "x_div_x", IR_DIV },
        { "x_eq_x", IR_EQ }, { "x_ne_x", IR_NE }, { "x_le_x", IR_LE },
        { "sel_f_xy", IR_SELECT }, { "sel_bool", IR_SELECT },
    };
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        const ir_inst *d = output_def(c, kept[i].out);
        if (d->op != kept[i].op)
            fail_msg("%s was rewritten to %s: not exact for every double", kept[i].out,
                     ir_op_name(d->op));
    }
    /* y for the select with equal arms and the false-constant select */
    assert_int_equal(output_def(c, "sel_same")->op, IR_INPUT);
    assert_int_equal(output_def(c, "sel_same")->a, 1);
    assert_int_equal(output_def(c, "sel_f")->op, IR_INPUT);
    assert_int_equal(output_def(c, "sel_f")->a, 1);
    /* bool identities reduce to f or to a constant */
    static const char *const to_f[] = { "not_not_f", "f_and_t", "t_and_f", "f_or_f" };
    for (size_t i = 0; i < sizeof to_f / sizeof to_f[0]; i++) {
        const ir_inst *d = output_def(c, to_f[i]);
        if (d->op != IR_INPUT || d->a != 2)
            fail_msg("%s was not folded to f (it is %s)", to_f[i], ir_op_name(d->op));
    }
    assert_int_equal(output_def(c, "f_and_f")->op, IR_CONST);
    assert_true(output_def(c, "f_and_f")->imm == 0);
    assert_int_equal(output_def(c, "f_or_t")->op, IR_CONST);
    assert_true(output_def(c, "f_or_t")->imm != 0);
    /* No NOPs survive; every operand precedes its use. */
    assert_int_equal(count_op(c, IR_NOP), 0);
}

static void test_fold_constants(void **state)
{
    arena *a = *state;
    ir_circuit *c = check_passes(a, build_consts, FOLD, 1, "fold");
    static const struct { const char *out; double v; } reals[] = {
        { "add", 5.0 }, { "tenths", 0.30000000000000004 }, { "zeros", -0.0 },
        { "zero_sum", 0.0 }, { "zero_diff", 0.0 }, { "neg_zero", -0.0 },
        { "div0", -INFINITY }, { "under", 0.0 }, { "over", INFINITY }, { "sel", -0.0 },
    };
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        const ir_inst *d = output_def(c, reals[i].out);
        if (d->op != IR_CONST)
            fail_msg("%s: not folded (%s)", reals[i].out, ir_op_name(d->op));
        if (bits_of(d->imm) != bits_of(reals[i].v))
            fail_msg("%s: folded to %a, expected %a", reals[i].out, d->imm, reals[i].v);
    }
    assert_int_equal(output_def(c, "nan0")->op, IR_CONST);
    assert_true(isnan(output_def(c, "nan0")->imm));
    assert_true(isnan(output_def(c, "inf_inf")->imm));
    static const struct { const char *out; int v; } bools[] = {
        { "nan_lt", 0 }, { "nan_ne", 1 }, { "nan_eq", 0 }, { "z_eq", 1 }, { "ge", 1 },
        { "band", 0 }, { "bor", 1 }, { "bnot", 1 }, { "beq", 0 },
    };
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
        const ir_inst *d = output_def(c, bools[i].out);
        if (d->op != IR_CONST || d->type != IR_BOOL)
            fail_msg("%s: not folded to a bool constant (%s)", bools[i].out, ir_op_name(d->op));
        if ((d->imm != 0) != bools[i].v)
            fail_msg("%s: folded to %g, expected %d", bools[i].out, d->imm, bools[i].v);
    }
    /* x * (3 - 2) becomes x once 3 - 2 is folded to 1 */
    assert_int_equal(output_def(c, "chain")->op, IR_INPUT);
    /* every output is a constant except chain, so the only non-constant
     * values left are the input load (and dead constants) */
    assert_int_equal(count_op(c, IR_ADD) + count_op(c, IR_SUB) + count_op(c, IR_MUL) +
                         count_op(c, IR_DIV) + count_op(c, IR_NEG),
                     0);
}

/* A bool constant is true when imm != 0; folding must agree with the
 * interpreter for any imm, not only 0 and 1. */
static void test_fold_bool_constants_any_imm(void **state)
{
    arena *a = *state;
    ir_circuit *ref = build_bool_consts(a);
    assert_null(ir_verify(a, ref));
    unsigned char st[8], in[8], out[16];
    interp *ip = interp_new(ref);
    interp_init(ip, st);
    interp_step(ip, st, in, out);
    interp_free(ip);
    /* the interpreter's answers, spelled out */
    assert_int_equal(out[ref->outputs[0].offset], 1); /* true == true */
    assert_int_equal(out[ref->outputs[1].offset], 0);
    assert_int_equal(out[ref->outputs[2].offset], 1);
    assert_int_equal(out[ref->outputs[3].offset], 0);
    assert_int_equal(out[ref->outputs[4].offset], 1);
    assert_int_equal(out[ref->outputs[5].offset], 1);
    check_passes(a, build_bool_consts, FOLD, 1, "fold of bool constants");
}

/* Folding a math op gives the interpreter's bits (check_passes compares
 * every tick), for every op and awkward argument. */
static void test_fold_math(void **state)
{
    arena *a = *state;
    ir_circuit *c = check_passes(a, build_math_consts, FOLD, 1, "fold of math");
    for (int i = 0; i < N_MATH; i++)
        for (int k = 0; k < N_MATH_ARGS; k++) {
            const char *name = arena_printf(a, "k_%s_%d", ir_op_name(MATH[i]), k);
            const ir_inst *d = output_def(c, name);
            if (d->op != IR_CONST)
                fail_msg("%s(%a) was not folded (%s)", ir_op_name(MATH[i]), MATH_ARGS[k],
                         ir_op_name(d->op));
        }
    assert_int_equal(output_def(c, "chain")->op, IR_CONST);
    assert_int_equal(output_def(c, "half_x")->op, IR_MUL);
    assert_int_equal(output_def(c, "exp_x")->op, IR_EXP);
    assert_int_equal(count_op(c, IR_EXP), 1);
    for (int i = 1; i < N_MATH; i++)
        assert_int_equal(count_op(c, MATH[i]), 0);
    /* known answers: the folder cannot be wrong alike with the interpreter */
    assert_true(bits_of(output_def(c, "k_sqrt_1")->imm) == bits_of(-0.0)); /* sqrt(-0) */
    assert_true(bits_of(output_def(c, "k_abs_1")->imm) == bits_of(0.0));   /* |-0| */
    assert_true(bits_of(output_def(c, "k_floor_23")->imm) == bits_of(-1.0)); /* floor(-0.5) */
    assert_true(bits_of(output_def(c, "k_exp_3")->imm) == bits_of(0.0));   /* exp(-inf) */
    assert_true(bits_of(output_def(c, "k_log_1")->imm) == bits_of(-INFINITY));
    assert_true(isnan(output_def(c, "k_log_22")->imm));                     /* log(-1) */
    assert_true(bits_of(output_def(c, "k_tanh_2")->imm) == bits_of(1.0));  /* tanh(inf) */
    assert_true(bits_of(output_def(c, "k_sin_1")->imm) == bits_of(-0.0));
    assert_true(bits_of(output_def(c, "k_exp_15")->imm) == bits_of(INFINITY)); /* exp(709.79) */
    for (int i = 0; i < N_MATH; i++)
        for (int k = 0; k < N_MATH_ARGS; k++) {
            const ir_inst *d = output_def(c, arena_printf(a, "k_%s_%d", ir_op_name(MATH[i]), k));
            double want = MATH[i] == IR_EXP    ? rt_exp(MATH_ARGS[k])
                          : MATH[i] == IR_LOG  ? log(MATH_ARGS[k])
                          : MATH[i] == IR_TANH ? rt_tanh(MATH_ARGS[k])
                          : MATH[i] == IR_SIN  ? sin(MATH_ARGS[k])
                          : MATH[i] == IR_COS  ? cos(MATH_ARGS[k])
                          : MATH[i] == IR_SQRT ? sqrt(MATH_ARGS[k])
                          : MATH[i] == IR_ABS  ? fabs(MATH_ARGS[k])
                          : MATH[i] == IR_EXPM1 ? rt_expm1(MATH_ARGS[k])
                                               : floor(MATH_ARGS[k]);
            if (!same_f64(d->imm, want))
                fail_msg("%s(%a) folded to %a, the interpreter's function says %a", ir_op_name(MATH[i]),
                         MATH_ARGS[k], d->imm, want);
        }
}

/* Math of inputs is left alone by fold, and CSE treats it as pure. */
static void test_math_cse(void **state)
{
    arena *a = *state;
    ir_circuit *f = check_passes(a, build_math_inputs, FOLD, 1, "fold of math of inputs");
    for (int i = 0; i < N_MATH; i++)
        assert_int_equal(output_def(f, arena_printf(a, "%s_x", ir_op_name(MATH[i])))->op, MATH[i]);
    ir_circuit *c = check_passes(a, build_math_inputs, ALL, 4, "recipe on math of inputs");
    for (int i = 0; i < N_MATH; i++) {
        const char *op = ir_op_name(MATH[i]);
        uint32_t vx = output_value(c, arena_printf(a, "%s_x", op));
        uint32_t vx2 = output_value(c, arena_printf(a, "%s_x2", op));
        uint32_t vy = output_value(c, arena_printf(a, "%s_y", op));
        assert_int_equal(vx, vx2);     /* same op of the same input: one value */
        assert_int_not_equal(vx, vy);  /* of another input: apart */
        for (int j = 0; j < i; j++)    /* another op of the same input: apart */
            assert_int_not_equal(vx, output_value(c, arena_printf(a, "%s_x", ir_op_name(MATH[j]))));
    }
    /* abs(abs(x)) is not rewritten (no algebra on math ops), but its inner
     * abs is the shared abs(x) */
    const ir_inst *aa = output_def(c, "abs_abs");
    assert_int_equal(aa->op, IR_ABS);
    assert_int_equal(aa->a, output_value(c, "abs_x"));
    assert_int_equal(output_def(c, "sin_neg")->op, IR_SIN);
}

/* The return is an effect: DCE keeps it and what computes its operand,
 * though no output reads that; passes keep every tick's status. */
static void test_dce_keeps_return(void **state)
{
    arena *a = *state;
    ir_circuit *ref = build_status(a);
    ir_circuit *c = check_passes(a, build_status, DCE, 1, "dce with a return");
    const ir_inst *r = the_return(c);
    assert_non_null(r);
    assert_int_equal(c->code[r->a].op, IR_NOT);
    assert_int_equal(count_op(c, IR_AND), 1);
    assert_int_equal(count_op(c, IR_MUL), 0); /* the dead multiply went */
    assert_int_equal(c->n_code, ref->n_code - 2);
    c = check_passes(a, build_status, ALL, 4, "recipe with a return");
    assert_non_null(the_return(c));
    c = check_passes(a, build_status, TWICE, 6, "mixed order with a return");
    assert_non_null(the_return(c));
    /* the status really varies over the trace, so comparing it means something */
    trace t = run(a, ref);
    int ones = 0;
    for (long k = 0; k < TICKS; k++)
        ones += t.status[k];
    assert_true(ones > 0 && ones < TICKS);

    /* a constant status is folded, and kept */
    c = check_passes(a, build_status_const, ALL, 4, "recipe with a constant return");
    r = the_return(c);
    assert_non_null(r);
    assert_int_equal(c->code[r->a].op, IR_CONST);
    assert_true(c->code[r->a].imm != 0);
    assert_int_equal(c->n_code, 4); /* const, return, input, output */
    t = run(a, c);
    assert_int_equal(t.status[0], 1);

    /* without a return, the status is 0 */
    t = run(a, build_state(a));
    for (long k = 0; k < TICKS; k++)
        assert_int_equal(t.status[k], 0);
}

static void test_cse_merges(void **state)
{
    arena *a = *state;
    ir_circuit *ref = build_repeats(a);
    int loads_before = count_op(ref, IR_INPUT);
    assert_int_equal(loads_before, 4);
    ir_circuit *c = check_passes(a, build_repeats, CSE, 1, "cse");
    assert_int_equal(count_op(c, IR_INPUT), 2);
    assert_int_equal(count_op(c, IR_LOAD), 1);
    assert_int_equal(count_op(c, IR_PARAM), 1);
    assert_int_equal(output_value(c, "sum1"), output_value(c, "sum2"));
    assert_int_equal(output_value(c, "sg1"), output_value(c, "sg2"));
    assert_int_equal(output_value(c, "lt1"), output_value(c, "lt2"));
    assert_int_equal(output_value(c, "k1"), output_value(c, "k1b"));
    /* the store reuses x + y too */
    uint32_t sum = output_value(c, "sum1");
    int used_in_store = 0;
    for (uint32_t i = 0; i < c->n_code; i++)
        if (c->code[i].op == IR_ADD && c->code[i].a == sum)
            used_in_store = 1;
    assert_true(used_in_store);
    /* look-alikes stay apart */
    assert_int_not_equal(output_value(c, "diff"), output_value(c, "rdiff"));
    assert_int_not_equal(output_value(c, "pz"), output_value(c, "nz"));
    assert_int_not_equal(output_value(c, "lt1"), output_value(c, "gt"));
    assert_int_not_equal(output_value(c, "sum1"), output_value(c, "diff"));
    /* two distinct constants 0.0 and -0.0 remain */
    int zeros = 0, negzeros = 0;
    for (uint32_t i = 0; i < c->n_code; i++)
        if (c->code[i].op == IR_CONST && c->code[i].type == IR_F64) {
            zeros += bits_of(c->code[i].imm) == bits_of(0.0);
            negzeros += bits_of(c->code[i].imm) == bits_of(-0.0);
        }
    assert_int_equal(zeros, 1);
    assert_int_equal(negzeros, 1);
    assert_true(c->n_code < ref->n_code);
}

/* A bool and a real constant of the same imm are different values. */
static void test_cse_keeps_types_apart(void **state)
{
    arena *a = *state;
    builder B = { a, ir_new(a, "unit", "types", 1) }, *b = &B;
    uint32_t kr = KR(b, 1.0), kb = KB(b, 1.0);
    OUT(b, "r", IR_F64, kr);
    OUT(b, "b", IR_BOOL, kb);
    ir_layout(b->c);
    pass_cse(a, b->c);
    assert_null(ir_verify(a, b->c));
    assert_int_equal(count_op(b->c, IR_CONST), 2);
}

/* cse after fold: a folded constant and an equal literal are one value. */
static ir_circuit *build_folded_const(arena *a)
{
    builder B = { a, ir_new(a, "unit", "fk", 1) }, *b = &B;
    ir_add_var(a, b->c, IR_BLOCK_IN, "x", IR_F64, 0, NULL);
    uint32_t x = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    OUT(b, "lit", IR_F64, R(b, IR_DIV, x, KR(b, 5.0)));
    OUT(b, "sum", IR_F64, R(b, IR_DIV, x, R(b, IR_ADD, KR(b, 2.0), KR(b, 3.0))));
    ir_layout(b->c);
    return b->c;
}

static void test_cse_after_fold(void **state)
{
    arena *a = *state;
    ir_circuit *c = check_passes(a, build_folded_const, ALL, 4, "recipe");
    /* x / 5 and x / (2 + 3) are one computation once 2 + 3 is folded */
    assert_int_equal(count_op(c, IR_CONST), 1);
    assert_int_equal(count_op(c, IR_DIV), 1);
    assert_int_equal(output_value(c, "lit"), output_value(c, "sum"));
}

static void test_dce_state(void **state)
{
    arena *a = *state;
    ir_circuit *ref = build_state(a);
    assert_int_equal(ref->n_state, 7);
    ir_circuit *c = check_passes(a, build_state, DCE, 1, "dce");
    /* live, the delay chain and pf stay; dead, self and unused go */
    assert_int_equal(c->n_state, 4);
    static const char *const kept[] = { "live", "chain_a", "chain_b", "pf" };
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(c->state[i].name, kept[i]); /* order kept */
    for (const char *const *g = (const char *const[]){ "dead", "self", "unused", NULL }; *g; g++)
        assert_int_equal(var_index(c->state, c->n_state, *g), -1);
    /* initial values travel with their slots */
    assert_true(bits_of(c->state[0].init) == bits_of(-0.0));
    assert_true(c->state[1].init == 2 && c->state[2].init == 3 && c->state[3].init == 1);
    assert_int_equal(c->state[3].type, IR_BOOL);
    /* params are the host's: never removed */
    assert_int_equal(c->n_params, 1);
    /* the block was laid out again: 4 reals... 1 real param + 3 real slots
     * + 1 bool slot = 33 bytes, rounded to 40 */
    assert_int_equal(c->state_size, 40);
    for (uint32_t s = 0; s < c->n_state; s++)
        assert_true(c->state[s].offset + (c->state[s].type == IR_F64 ? 8u : 1u) <= c->state_size);
    /* stores and loads were renumbered consistently */
    int stores = 0;
    for (uint32_t i = 0; i < c->n_code; i++) {
        const ir_inst *in = &c->code[i];
        if (in->op == IR_STORE) {
            stores++;
            assert_true(in->slot < c->n_state);
        }
        if (in->op == IR_LOAD)
            assert_true(in->a < c->n_state);
        assert_int_not_equal(in->op, IR_NOP);
    }
    assert_int_equal(stores, 4);
    /* the multiply feeding only dead state is gone */
    assert_int_equal(count_op(c, IR_MUL), 0);
    assert_true(c->n_code < ref->n_code);
}

static void test_dce_keeps_everything_live(void **state)
{
    arena *a = *state;
    /* everything in build_repeats reaches an output or live state */
    ir_circuit *ref = build_repeats(a);
    ir_circuit *c = check_passes(a, build_repeats, DCE, 1, "dce");
    assert_int_equal(c->n_state, 1);
    assert_int_equal(c->state_size, ref->state_size);
    assert_int_equal(c->n_code, ref->n_code);
    /* a circuit with no outputs keeps nothing */
    builder B = { a, ir_new(a, "unit", "mute", 1) }, *b = &B;
    ir_add_var(a, b->c, IR_BLOCK_IN, "x", IR_F64, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_STATE, "s", IR_F64, 0, NULL);
    uint32_t s = E(b, IR_LOAD, IR_F64, 0, 0, 0);
    STORE(b, 0, IR_F64, R(b, IR_ADD, s, E(b, IR_INPUT, IR_F64, 0, 0, 0)));
    ir_layout(b->c);
    pass_dce(a, b->c);
    assert_null(ir_verify(a, b->c));
    assert_int_equal(b->c->n_code, 0);
    assert_int_equal(b->c->n_state, 0);
    assert_int_equal(b->c->state_size, 0);
}

static void test_run_all(void **state)
{
    arena *a = *state;
    build_fn builds[] = { build_identities, build_consts, build_repeats, build_state,
                          build_folded_const, build_math_consts, build_math_inputs,
                          build_status, build_status_const };
    for (size_t i = 0; i < sizeof builds / sizeof builds[0]; i++) {
        ir_circuit *ref = builds[i](a);
        trace before = run(a, ref);
        ir_circuit *c = builds[i](a);
        const char *err = pass_run_all(a, c, NULL);
        if (err)
            fail_msg("pass_run_all on %s: %s", c->name, err);
        pass_options opt = { 0 };
        ir_circuit *d = builds[i](a);
        assert_null(pass_run_all(a, d, &opt)); /* options without dumping */
        trace after = run(a, c);
        expect_same_trace(&before, &after, c, "pass_run_all");
        assert_true(c->n_code <= ref->n_code);
        assert_int_equal(c->n_code, d->n_code);
    }
}

static void test_run_all_dump_and_invalid(void **state)
{
    arena *a = *state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    pass_options opt = { .dump = f, .dump_after = "all" };
    ir_circuit *c = build_state(a);
    assert_null(pass_run_all(a, c, &opt));
    fclose(f);
    assert_non_null(strstr(text, "; after lower\n"));
    assert_non_null(strstr(text, "; after fold\n"));
    assert_non_null(strstr(text, "; after cse\n"));
    assert_non_null(strstr(text, "; after dce\n"));
    assert_true(strstr(text, "; after lower") < strstr(text, "; after dce"));
    free(text);

    f = open_memstream(&text, &len);
    opt = (pass_options){ .dump = f, .dump_after = "dce" };
    c = build_state(a);
    assert_null(pass_run_all(a, c, &opt));
    fclose(f);
    assert_null(strstr(text, "; after fold"));
    assert_non_null(strstr(text, "; after dce\n"));
    free(text);

    /* the recipe's names */
    int seen_dce = 0;
    for (const char *const *p = pass_names; *p; p++)
        seen_dce |= strcmp(*p, "dce") == 0;
    assert_true(seen_dce);

    /* malformed IR is reported, not optimised */
    builder B = { a, ir_new(a, "unit", "bad", 1) }, *b = &B;
    ir_add_var(a, b->c, IR_BLOCK_OUT, "y", IR_F64, 0, NULL);
    ir_emit(a, b->c, (ir_inst){ .op = IR_OUTPUT, .type = IR_F64, .a = KB(b, 1), .slot = 0 });
    ir_layout(b->c);
    const char *err = pass_run_all(a, b->c, NULL);
    assert_non_null(err);
    assert_non_null(strstr(err, "lowering"));
}

/* Each test's memory lives in one arena, released even when it fails. */
static int arena_setup(void **state)
{
    arena *a = malloc(sizeof *a);
    if (!a)
        return -1;
    arena_init(a);
    *state = a;
    return 0;
}

static int arena_teardown(void **state)
{
    arena_free(*state);
    free(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_each_pass_preserves_results, arena_setup, arena_teardown),
        cmocka_unit_test_setup_teardown(test_fold_exact_identities, arena_setup, arena_teardown),
        cmocka_unit_test_setup_teardown(test_fold_constants, arena_setup, arena_teardown),
        cmocka_unit_test_setup_teardown(test_fold_bool_constants_any_imm, arena_setup, arena_teardown),
        cmocka_unit_test_setup_teardown(test_fold_math, arena_setup, arena_teardown),
        cmocka_unit_test_setup_teardown(test_math_cse, arena_setup, arena_teardown),
        cmocka_unit_test_setup_teardown(test_dce_keeps_return, arena_setup, arena_teardown),
        cmocka_unit_test_setup_teardown(test_cse_merges, arena_setup, arena_teardown),
        cmocka_unit_test_setup_teardown(test_cse_keeps_types_apart, arena_setup, arena_teardown),
        cmocka_unit_test_setup_teardown(test_cse_after_fold, arena_setup, arena_teardown),
        cmocka_unit_test_setup_teardown(test_dce_state, arena_setup, arena_teardown),
        cmocka_unit_test_setup_teardown(test_dce_keeps_everything_live, arena_setup, arena_teardown),
        cmocka_unit_test_setup_teardown(test_run_all, arena_setup, arena_teardown),
        cmocka_unit_test_setup_teardown(test_run_all_dump_and_invalid, arena_setup, arena_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
