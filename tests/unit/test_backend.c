/* test_backend.c — the LLVM back end and JIT against the IR interpreter.
 *
 * Circuits are built by hand with ir_new/ir_add_var/ir_emit/ir_layout so that
 * every IR op, every awkward double (NaN, ±0, inf, subnormals) and every
 * memory block is exercised; the code from jit_compile at -O0 and -O2 must
 * then agree with interp_step bit for bit, except that any NaN equals any
 * NaN (the sign and payload of a NaN are unspecified in drive). A small
 * independent evaluator written here checks the interpreter itself, so the
 * two cannot be wrong alike. The math ops (calls into the C library, or
 * exact intrinsics) are checked the same way over their edge cases, and in
 * the optimised LLVM IR; the step's status (IR_RETURN) must come back from
 * both. Also: jit_remove and recompiling, an empty circuit, and ir_verify
 * rejecting malformed IR.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include <cmocka.h>

#include <float.h>
#include <math.h>

#include "arena.h"
#include "cg.h"
#include "interp.h"
#include "drive_abi.h"
#include "ir.h"
#include "ir_build.h"
#include "jit.h"
#include "rt_math.h"

/* ---- helpers ----------------------------------------------------------- */

static double rd_f64(const unsigned char *blk, uint32_t off)
{
    double d;
    memcpy(&d, blk + off, sizeof d);
    return d;
}

static void wr_f64(unsigned char *blk, uint32_t off, double d) { memcpy(blk + off, &d, sizeof d); }

/* Per-test memory, released by the test's teardown even when it fails. */
static arena scratch;
static interp *interps[32];
static int n_interps;

/* Zeroed blocks of at least 8 bytes, 16-aligned, even for size 0. */
static unsigned char *block(size_t size) { return arena_alloc(&scratch, size + 8); }

static interp *new_interp(const ir_circuit *c)
{
    assert_true(n_interps < (int)(sizeof interps / sizeof interps[0]));
    return interps[n_interps++] = interp_new(c);
}

static int scratch_teardown(void **state)
{
    (void)state;
    while (n_interps > 0)
        interp_free(interps[--n_interps]);
    arena_free(&scratch);
    return 0;
}

/* Whether two blocks agree: every byte identical, except that an f64 field
 * holding NaN in both counts as equal whatever its bits. On a difference,
 * names the first field (or byte) that differs in why. */
static int same_block(const ir_var *v1, uint32_t n1, const ir_var *v2, uint32_t n2,
                      const unsigned char *a, const unsigned char *b, size_t size,
                      char *why, size_t whylen)
{
    unsigned char *x = block(size), *y = block(size);
    memcpy(x, a, size);
    memcpy(y, b, size);
    for (int list = 0; list < 2; list++) {
        const ir_var *v = list ? v2 : v1;
        uint32_t n = list ? n2 : n1;
        for (uint32_t i = 0; i < n; i++) {
            if (v[i].type != IR_F64)
                continue;
            if (isnan(rd_f64(x, v[i].offset)) && isnan(rd_f64(y, v[i].offset))) {
                wr_f64(x, v[i].offset, NAN);
                wr_f64(y, v[i].offset, NAN);
            }
        }
    }
    int same = memcmp(x, y, size) == 0;
    if (!same && why) {
        snprintf(why, whylen, "a padding byte");
        for (int list = 0; list < 2; list++) {
            const ir_var *v = list ? v2 : v1;
            uint32_t n = list ? n2 : n1;
            for (uint32_t i = 0; i < n; i++) {
                size_t sz = v[i].type == IR_F64 ? 8 : 1;
                if (memcmp(x + v[i].offset, y + v[i].offset, sz) == 0)
                    continue;
                if (v[i].type == IR_F64)
                    snprintf(why, whylen, "%s: %a (%016llx) vs %a (%016llx)", v[i].name,
                             rd_f64(a, v[i].offset), (unsigned long long)bits_of(rd_f64(a, v[i].offset)),
                             rd_f64(b, v[i].offset), (unsigned long long)bits_of(rd_f64(b, v[i].offset)));
                else
                    snprintf(why, whylen, "%s: byte %u vs %u", v[i].name, a[v[i].offset], b[v[i].offset]);
                list = 2;
                break;
            }
        }
    }
    return same;
}

static int same_out(const ir_circuit *c, const unsigned char *a, const unsigned char *b, char *why,
                    size_t n)
{
    return same_block(c->outputs, c->n_outputs, NULL, 0, a, b, c->out_size, why, n);
}

static int same_state(const ir_circuit *c, const unsigned char *a, const unsigned char *b,
                      char *why, size_t n)
{
    return same_block(c->params, c->n_params, c->state, c->n_state, a, b, c->state_size, why, n);
}

static uint32_t find_var(const ir_var *v, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return i;
    fail_msg("no var named %s", name);
    return 0;
}

static double out_f64(const ir_circuit *c, const unsigned char *out, const char *name)
{
    return rd_f64(out, c->outputs[find_var(c->outputs, c->n_outputs, name)].offset);
}

static int out_bool(const ir_circuit *c, const unsigned char *out, const char *name)
{
    return out[c->outputs[find_var(c->outputs, c->n_outputs, name)].offset];
}

/* ---- an independent reference evaluator -------------------------------- */

typedef struct { double d; int b; } val;

static val rd_var(const unsigned char *blk, const ir_var *v)
{
    val r = { 0, 0 };
    if (v->type == IR_BOOL)
        r.b = blk[v->offset] != 0;
    else
        r.d = rd_f64(blk, v->offset);
    return r;
}

static void wr_var(unsigned char *blk, const ir_var *v, val x)
{
    if (v->type == IR_BOOL)
        blk[v->offset] = (unsigned char)(x.b != 0);
    else
        wr_f64(blk, v->offset, x.d);
}

static void ref_init(const ir_circuit *c, unsigned char *st)
{
    memset(st, 0, c->state_size);
    for (uint32_t i = 0; i < c->n_params; i++)
        wr_var(st, &c->params[i], (val){ c->params[i].init, c->params[i].init != 0 });
    for (uint32_t i = 0; i < c->n_state; i++)
        wr_var(st, &c->state[i], (val){ c->state[i].init, c->state[i].init != 0 });
}

static int ref_step(const ir_circuit *c, unsigned char *st, const unsigned char *in,
                    unsigned char *out)
{
    val *v = calloc((size_t)c->n_code + 1, sizeof *v);
    assert_non_null(v);
    int status = 0;
    for (uint32_t i = 0; i < c->n_code; i++) {
        const ir_inst *x = &c->code[i];
        int n = ir_n_operands(x->op);
        val a = n > 0 ? v[x->a] : (val){ 0, 0 }, b = n > 1 ? v[x->b] : (val){ 0, 0 };
        int f = n > 0 && c->code[x->a].type == IR_F64;
        val r = { 0, 0 };
        switch (x->op) {
        case IR_CONST: r.d = x->imm; r.b = x->imm != 0; break;
        case IR_INPUT: r = rd_var(in, &c->inputs[x->a]); break;
        case IR_PARAM: r = rd_var(st, &c->params[x->a]); break;
        case IR_LOAD: r = rd_var(st, &c->state[x->a]); break;
        case IR_NEG: r.d = -a.d; break;
        case IR_ADD: r.d = a.d + b.d; break;
        case IR_SUB: r.d = a.d - b.d; break;
        case IR_MUL: r.d = a.d * b.d; break;
        case IR_DIV: r.d = a.d / b.d; break;
        case IR_EXP: r.d = rt_exp(a.d); break;
        case IR_LOG: r.d = log(a.d); break;
        case IR_TANH: r.d = rt_tanh(a.d); break;
        case IR_SIN: r.d = sin(a.d); break;
        case IR_COS: r.d = cos(a.d); break;
        case IR_SQRT: r.d = sqrt(a.d); break;
        case IR_ABS: r.d = fabs(a.d); break;
        case IR_FLOOR: r.d = floor(a.d); break;
        case IR_EXPM1: r.d = rt_expm1(a.d); break;
        case IR_LT: r.b = a.d < b.d; break;
        case IR_LE: r.b = a.d <= b.d; break;
        case IR_GT: r.b = a.d > b.d; break;
        case IR_GE: r.b = a.d >= b.d; break;
        case IR_EQ: r.b = f ? a.d == b.d : a.b == b.b; break;
        case IR_NE: r.b = f ? a.d != b.d : a.b != b.b; break;
        case IR_NOT: r.b = !a.b; break;
        case IR_AND: r.b = a.b && b.b; break;
        case IR_OR: r.b = a.b || b.b; break;
        case IR_SELECT: r = a.b ? b : v[x->c]; break;
        case IR_OUTPUT: wr_var(out, &c->outputs[x->slot], a); break;
        case IR_STORE: wr_var(st, &c->state[x->slot], a); break;
        case IR_STORE_IF:
            if (b.b)
                wr_var(st, &c->state[x->slot], a);
            break;
        case IR_LOADX: { /* out of range reads the first slot */
            uint32_t len = (uint32_t)x->imm, k = a.d >= 0 && a.d < len ? (uint32_t)a.d : 0;
            r = rd_var(st, &c->state[x->slot + k]);
            break;
        }
        case IR_STOREX:
        case IR_STOREX_IF: {
            uint32_t len = (uint32_t)x->imm, k = b.d >= 0 && b.d < len ? (uint32_t)b.d : 0;
            if (x->op == IR_STOREX || v[x->c].b)
                wr_var(st, &c->state[x->slot + k], a);
            break;
        }
        case IR_RETURN: status = a.b; break;
        case IR_NOP: break;
        }
        v[i] = r;
    }
    free(v);
    return status;
}

/* ---- building circuits ------------------------------------------------- */

static uint32_t K(builder *b, ir_type t, double imm)
{
    return ir_emit(b->a, b->c, (ir_inst){ .op = IR_CONST, .type = t, .imm = imm, .name = "k" });
}

enum { IX, IY, IFLAG, IZ };          /* inputs */
enum { P_EN, P_GAIN };                /* params */
enum { S_PFLAG, S_ACC, S_COUNT, S_SPARE }; /* state slots */

/* Every op; bool I/O; a contraction candidate; state read before written. */
static ir_circuit *build_all_ops(arena *a)
{
    builder B = { a, ir_new(a, "std.test", "all-ops", 0.01) }, *b = &B;
    ir_add_var(a, b->c, IR_BLOCK_IN, "x", IR_F64, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_IN, "y", IR_F64, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_IN, "flag", IR_BOOL, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_IN, "z", IR_F64, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_PARAM, "en", IR_BOOL, 1, NULL);
    ir_add_var(a, b->c, IR_BLOCK_PARAM, "gain", IR_F64, 2.5, NULL);
    ir_add_var(a, b->c, IR_BLOCK_STATE, "pflag", IR_BOOL, 0, "pre(flag)");
    ir_add_var(a, b->c, IR_BLOCK_STATE, "acc", IR_F64, 1.0, "acc");
    ir_add_var(a, b->c, IR_BLOCK_STATE, "count", IR_F64, -0.0, "count");
    ir_add_var(a, b->c, IR_BLOCK_STATE, "spare", IR_BOOL, 1, "never stored");

    uint32_t x = E(b, IR_INPUT, IR_F64, IX, 0, 0);
    uint32_t y = E(b, IR_INPUT, IR_F64, IY, 0, 0);
    uint32_t fl = E(b, IR_INPUT, IR_BOOL, IFLAG, 0, 0);
    uint32_t z = E(b, IR_INPUT, IR_F64, IZ, 0, 0);
    uint32_t en = E(b, IR_PARAM, IR_BOOL, P_EN, 0, 0);
    uint32_t gain = E(b, IR_PARAM, IR_F64, P_GAIN, 0, 0);
    uint32_t pf = E(b, IR_LOAD, IR_BOOL, S_PFLAG, 0, 0);
    uint32_t acc = E(b, IR_LOAD, IR_F64, S_ACC, 0, 0);
    uint32_t cnt = E(b, IR_LOAD, IR_F64, S_COUNT, 0, 0);
    uint32_t spare = E(b, IR_LOAD, IR_BOOL, S_SPARE, 0, 0);
    ir_emit(a, b->c, (ir_inst){ .op = IR_NOP });
    uint32_t one = K(b, IR_F64, 1.0);
    uint32_t nan = K(b, IR_F64, NAN);
    uint32_t mz = K(b, IR_F64, -0.0);
    uint32_t kt = K(b, IR_BOOL, 1);
    uint32_t kf = K(b, IR_BOOL, 0);
    uint32_t sub = K(b, IR_F64, 0x1p-1070);

    OUT(b, "neg", IR_F64, E(b, IR_NEG, IR_F64, x, 0, 0));
    OUT(b, "add", IR_F64, E(b, IR_ADD, IR_F64, x, y, 0));
    OUT(b, "sub", IR_F64, E(b, IR_SUB, IR_F64, x, y, 0));
    uint32_t xy = E(b, IR_MUL, IR_F64, x, y, 0);
    OUT(b, "mul", IR_F64, xy);
    OUT(b, "div", IR_F64, E(b, IR_DIV, IR_F64, x, y, 0));
    OUT(b, "fma", IR_F64, E(b, IR_ADD, IR_F64, xy, z, 0)); /* must not contract */
    /* -z - x*y: an fnmadd would give -2^-60 where the rounded product gives 0 */
    OUT(b, "fms", IR_F64,
        E(b, IR_SUB, IR_F64, E(b, IR_NEG, IR_F64, z, 0, 0), E(b, IR_MUL, IR_F64, x, y, 0), 0));
    OUT(b, "lt", IR_BOOL, E(b, IR_LT, IR_BOOL, x, y, 0));
    OUT(b, "le", IR_BOOL, E(b, IR_LE, IR_BOOL, x, y, 0));
    OUT(b, "gt", IR_BOOL, E(b, IR_GT, IR_BOOL, x, y, 0));
    OUT(b, "ge", IR_BOOL, E(b, IR_GE, IR_BOOL, x, y, 0));
    OUT(b, "eq", IR_BOOL, E(b, IR_EQ, IR_BOOL, x, y, 0));
    OUT(b, "ne", IR_BOOL, E(b, IR_NE, IR_BOOL, x, y, 0));
    OUT(b, "nan_ne", IR_BOOL, E(b, IR_NE, IR_BOOL, nan, x, 0));
    OUT(b, "nan_eq", IR_BOOL, E(b, IR_EQ, IR_BOOL, x, nan, 0));
    OUT(b, "self_eq", IR_BOOL, E(b, IR_EQ, IR_BOOL, x, x, 0));
    OUT(b, "self_ne", IR_BOOL, E(b, IR_NE, IR_BOOL, x, x, 0));
    OUT(b, "self_le", IR_BOOL, E(b, IR_LE, IR_BOOL, x, x, 0));
    OUT(b, "beq", IR_BOOL, E(b, IR_EQ, IR_BOOL, fl, pf, 0));
    OUT(b, "bne", IR_BOOL, E(b, IR_NE, IR_BOOL, fl, en, 0));
    OUT(b, "beq_k", IR_BOOL, E(b, IR_EQ, IR_BOOL, fl, kt, 0));
    OUT(b, "not", IR_BOOL, E(b, IR_NOT, IR_BOOL, fl, 0, 0));
    OUT(b, "and", IR_BOOL, E(b, IR_AND, IR_BOOL, fl, en, 0));
    OUT(b, "or", IR_BOOL, E(b, IR_OR, IR_BOOL, pf, kf, 0));
    OUT(b, "flag", IR_BOOL, fl); /* a bool input byte 2 must come out as 1 */
    OUT(b, "selr", IR_F64, E(b, IR_SELECT, IR_F64, fl, x, y));
    OUT(b, "selb", IR_BOOL, E(b, IR_SELECT, IR_BOOL, E(b, IR_LT, IR_BOOL, x, y, 0), spare, kt));
    OUT(b, "pflag", IR_BOOL, pf);
    OUT(b, "zero_plus", IR_F64, E(b, IR_ADD, IR_F64, mz, y, 0));
    OUT(b, "x_minus_0", IR_F64, E(b, IR_SUB, IR_F64, x, mz, 0));
    OUT(b, "nan_out", IR_F64, E(b, IR_ADD, IR_F64, nan, x, 0));
    OUT(b, "gain_x", IR_F64, E(b, IR_MUL, IR_F64, gain, x, 0));
    OUT(b, "sub_div", IR_F64, E(b, IR_DIV, IR_F64, sub, E(b, IR_ADD, IR_F64, y, one, 0), 0));
    OUT(b, "sub_mul", IR_F64, E(b, IR_MUL, IR_F64, x, sub, 0));
    /* state: acc += gain * x when en, count += 1, pflag = flag */
    uint32_t inc = E(b, IR_SELECT, IR_F64, en, E(b, IR_MUL, IR_F64, gain, x, 0), mz);
    uint32_t nacc = E(b, IR_ADD, IR_F64, acc, inc, 0);
    OUT(b, "acc", IR_F64, acc); /* the previous tick's value */
    OUT(b, "count", IR_F64, cnt);
    STORE(b, S_ACC, IR_F64, nacc);
    STORE(b, S_COUNT, IR_F64, E(b, IR_ADD, IR_F64, cnt, one, 0));
    STORE(b, S_PFLAG, IR_BOOL, fl);
    ir_layout(b->c);
    return b->c;
}

typedef struct tick_in {
    double x, y;
    unsigned char flag;
    double z;
} tick_in;

static void set_in(const ir_circuit *c, unsigned char *in, const tick_in *t)
{
    wr_f64(in, c->inputs[IX].offset, t->x);
    wr_f64(in, c->inputs[IY].offset, t->y);
    in[c->inputs[IFLAG].offset] = t->flag;
    wr_f64(in, c->inputs[IZ].offset, t->z);
}

/* Set params as a host would between ticks, in every state copy. */
static void set_params(const ir_circuit *c, unsigned char **sts, int n, int en, double gain)
{
    for (int i = 0; i < n; i++) {
        sts[i][c->params[P_EN].offset] = (unsigned char)en;
        wr_f64(sts[i], c->params[P_GAIN].offset, gain);
    }
}

/* ---- fixtures ---------------------------------------------------------- */

typedef struct fixture {
    jit *j;
    arena mem;
    ir_circuit *all_ops;
} fixture;

static int group_setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    char *err = NULL;
    fx->j = jit_create(&err);
    if (!fx->j) {
        fprintf(stderr, "jit_create: %s\n", err ? err : "?");
        free(err);
        free(fx);
        return -1;
    }
    arena_init(&fx->mem);
    fx->all_ops = build_all_ops(&fx->mem);
    *state = fx;
    return 0;
}

static int group_teardown(void **state)
{
    fixture *fx = *state;
    jit_destroy(fx->j);
    arena_free(&fx->mem);
    free(fx);
    return 0;
}

static jit_fn compile_ok(jit *j, const ir_circuit *c, int opt)
{
    jit_fn fn;
    char *err = NULL;
    int rc = jit_compile(j, c, opt, &fn, &err);
    if (rc != 0) {
        char msg[600];
        snprintf(msg, sizeof msg, "jit_compile -O%d: %s", opt, err ? err : "(no message)");
        free(err);
        fail_msg("%s", msg);
    }
    assert_null(err);
    assert_non_null(fn.init);
    assert_non_null(fn.step);
    assert_non_null(fn.unit);
    return fn;
}

static void remove_ok(jit *j, jit_fn *fn)
{
    char *err = NULL;
    int rc = jit_remove(j, fn, &err);
    if (rc != 0) {
        char msg[600];
        snprintf(msg, sizeof msg, "jit_remove: %s", err ? err : "(no message)");
        free(err);
        fail_msg("%s", msg);
    }
    assert_null(fn->init);
    assert_null(fn->step);
    assert_null(fn->unit);
}

/* ---- the all-ops circuit, JIT vs interpreter vs reference ---------------- */

static const tick_in TICKS[] = {
    { 1.0, 2.0, 1, 0.0 },
    { 1 + 0x1p-30, 1 + 0x1p-30, 0, -(1 + 0x1p-29) }, /* fma would give 2^-60 */
    { NAN, 1.0, 2, 1.0 },                            /* byte 2 is true */
    { 3.0, NAN, 0, 0.0 },
    { -0.0, 0.0, 1, -0.0 },
    { INFINITY, -INFINITY, 1, INFINITY },
    { 5.0, 5.0, 0, 1e308 },                          /* params change before this tick */
    { 1e-310, 3.0, 1, -1e-310 },                     /* subnormals */
    { -NAN, 0.0, 0, 2.0 },
    { 0.0, 0.0, 255, 0.0 },                          /* 0/0 */
    { -0.0, -0.0, 1, -0.0 },
    { 0x1p-1074, 0.5, 0, 0x1p-1022 },               /* smallest subnormal, underflow */
    { DBL_MAX, 2.0, 1, -DBL_MAX },        /* overflow to inf */
    { INFINITY, INFINITY, 0, -INFINITY },            /* inf - inf */
};

static void run_all_ops(fixture *fx, int opt)
{
    const ir_circuit *c = fx->all_ops;
    assert_null(ir_verify(&fx->mem, c));
    jit_fn fn = compile_ok(fx->j, c, opt);
    unsigned char *st = block(c->state_size), *ist = block(c->state_size), *rst = block(c->state_size);
    unsigned char *in = block(c->in_size);
    unsigned char *out = block(c->out_size), *iout = block(c->out_size), *rout = block(c->out_size);
    interp *ip = new_interp(c);
    char why[256];

    /* init must set every byte of the block, padding too. */
    memset(st, 0xAA, c->state_size);
    memset(ist, 0x55, c->state_size);
    memset(rst, 0xCC, c->state_size);
    fn.init(st);
    interp_init(ip, ist);
    ref_init(c, rst);
    assert_memory_equal(ist, rst, c->state_size);
    if (!same_state(c, st, ist, why, sizeof why))
        fail_msg("-O%d init: state differs: %s", opt, why);

    unsigned char *sts[3] = { st, ist, rst };
    size_t nt = sizeof TICKS / sizeof TICKS[0];
    for (size_t k = 0; k < nt; k++) {
        if (k == 6)
            set_params(c, sts, 3, 0, -1.25);
        if (k == 10)
            set_params(c, sts, 3, 7, 0x1p-1060); /* any nonzero byte is true */
        set_in(c, in, &TICKS[k]);
        /* Padding in out is never written: prefill all three alike. */
        memset(out, (int)(0x5A + k), c->out_size);
        memset(iout, (int)(0x5A + k), c->out_size);
        memset(rout, (int)(0x5A + k), c->out_size);
        fn.step(st, in, out);
        interp_step(ip, ist, in, iout);
        ref_step(c, rst, in, rout);
        if (!same_out(c, iout, rout, why, sizeof why))
            fail_msg("tick %zu: interpreter and reference outputs differ: %s", k, why);
        if (!same_state(c, ist, rst, why, sizeof why))
            fail_msg("tick %zu: interpreter and reference state differ: %s", k, why);
        if (!same_out(c, out, iout, why, sizeof why))
            fail_msg("-O%d tick %zu: output differs from the interpreter: %s", opt, k, why);
        if (!same_state(c, st, ist, why, sizeof why))
            fail_msg("-O%d tick %zu: state differs from the interpreter: %s", opt, k, why);
        /* Bools are stored as exactly 0 or 1. */
        for (uint32_t o = 0; o < c->n_outputs; o++)
            if (c->outputs[o].type == IR_BOOL)
                assert_in_range(out[c->outputs[o].offset], 0, 1);
    }

    /* Spot checks with known answers, so that all three cannot agree on a
     * wrong value. */
    interp_init(ip, ist);
    fn.init(st);
    set_in(c, in, &TICKS[1]);
    fn.step(st, in, out);
    interp_step(ip, ist, in, iout);
    assert_true(bits_of(out_f64(c, out, "fma")) == bits_of(0.0));  /* fused: 0x1p-60 */
    assert_true(bits_of(out_f64(c, out, "fms")) == bits_of(0.0));  /* fused: -0x1p-60 */
    assert_true(bits_of(out_f64(c, iout, "fma")) == bits_of(0.0));
    /* acc and count show the initial state in the first step */
    assert_true(out_f64(c, out, "acc") == 1.0);
    assert_true(bits_of(out_f64(c, out, "count")) == bits_of(-0.0));
    set_in(c, in, &TICKS[2]); /* x = NaN, y = 1, flag byte 2 */
    fn.step(st, in, out);
    assert_int_equal(out_bool(c, out, "ne"), 1);
    assert_int_equal(out_bool(c, out, "eq"), 0);
    assert_int_equal(out_bool(c, out, "lt"), 0);
    assert_int_equal(out_bool(c, out, "le"), 0);
    assert_int_equal(out_bool(c, out, "gt"), 0);
    assert_int_equal(out_bool(c, out, "ge"), 0);
    assert_int_equal(out_bool(c, out, "self_eq"), 0);
    assert_int_equal(out_bool(c, out, "self_ne"), 1);
    assert_int_equal(out_bool(c, out, "self_le"), 0);
    assert_int_equal(out_bool(c, out, "nan_ne"), 1);
    assert_int_equal(out_bool(c, out, "not"), 0);
    assert_int_equal(out_bool(c, out, "flag"), 1);
    assert_int_equal(out_bool(c, out, "beq_k"), 1);
    assert_int_equal(out_bool(c, out, "pflag"), 0); /* the previous tick's flag */
    assert_true(isnan(out_f64(c, out, "nan_out")));
    assert_true(out_f64(c, out, "count") == 1.0); /* -0 + 1 */
    assert_true(out_f64(c, out, "acc") == 1.0 + 2.5 * (1 + 0x1p-30));
    set_in(c, in, &TICKS[4]); /* x = -0, y = +0 */
    fn.step(st, in, out);
    assert_true(bits_of(out_f64(c, out, "neg")) == bits_of(0.0));
    assert_true(bits_of(out_f64(c, out, "add")) == bits_of(0.0));    /* -0 + 0 */
    assert_true(bits_of(out_f64(c, out, "sub")) == bits_of(-0.0));   /* -0 - 0 */
    assert_true(bits_of(out_f64(c, out, "mul")) == bits_of(-0.0));   /* -0 * 0 */
    assert_true(bits_of(out_f64(c, out, "x_minus_0")) == bits_of(0.0)); /* -0 - -0 = +0 */
    assert_int_equal(out_bool(c, out, "eq"), 1);                     /* -0 == +0 */
    assert_int_equal(out_bool(c, out, "pflag"), 1);                  /* byte 2 stored as true */
    assert_true(isnan(out_f64(c, out, "acc")));                      /* NaN * gain got in */
    set_in(c, in, &TICKS[7]); /* x = 1e-310 subnormal */
    fn.step(st, in, out);
    assert_true(out_f64(c, out, "neg") == -1e-310);
    assert_true(out_f64(c, out, "mul") == TICKS[7].x * TICKS[7].y);
    assert_true(out_f64(c, out, "sub_div") == 0x1p-1072); /* 2^-1070 / 4, subnormal exact */

    remove_ok(fx->j, &fn);
}

static void test_all_ops_O0(void **state) { run_all_ops(*state, 0); }
static void test_all_ops_O2(void **state) { run_all_ops(*state, 2); }

/* Every combination of awkward values, in lock step over many ticks, so the
 * state (acc, count) goes through NaN, inf and back. */
static void sweep(fixture *fx, int opt)
{
    static const double V[] = { 0.0, -0.0, 1.0, -1.5, 0x1p-1074, -1e-310, 1e308,
                                INFINITY, -INFINITY, NAN, 0.1, 3.0 };
    enum { NV = sizeof V / sizeof V[0] };
    const ir_circuit *c = fx->all_ops;
    jit_fn fn = compile_ok(fx->j, c, opt);
    unsigned char *st = block(c->state_size), *ist = block(c->state_size);
    unsigned char *in = block(c->in_size), *out = block(c->out_size), *iout = block(c->out_size);
    interp *ip = new_interp(c);
    char why[256];
    fn.init(st);
    interp_init(ip, ist);
    unsigned char *sts[2] = { st, ist };
    long tick = 0;
    for (int i = 0; i < NV; i++)
        for (int j = 0; j < NV; j++)
            for (int k = 0; k < NV; k++, tick++) {
                if (tick % 97 == 0)
                    set_params(c, sts, 2, (int)(tick / 97 % 3), V[(tick / 97) % NV]);
                tick_in t = { V[i], V[j], (unsigned char)(tick % 3), V[k] };
                set_in(c, in, &t);
                fn.step(st, in, out);
                interp_step(ip, ist, in, iout);
                if (!same_out(c, out, iout, why, sizeof why))
                    fail_msg("-O%d sweep tick %ld: output differs: %s", opt, tick, why);
                if (!same_state(c, st, ist, why, sizeof why))
                    fail_msg("-O%d sweep tick %ld: state differs: %s", opt, tick, why);
                /* Reset the accumulator now and then so it is not NaN forever. */
                if (tick % 13 == 0) {
                    wr_f64(st, c->state[S_ACC].offset, V[(i + j) % NV]);
                    wr_f64(ist, c->state[S_ACC].offset, V[(i + j) % NV]);
                }
            }
    assert_int_equal(tick, NV * NV * NV);
    remove_ok(fx->j, &fn);
}

static void test_sweep_O0(void **state) { sweep(*state, 0); }
static void test_sweep_O2(void **state) { sweep(*state, 2); }

/* The optimised module must not contain fused or fast-math arithmetic. */
static void test_no_contraction_in_module(void **state)
{
    fixture *fx = *state;
    char *err = NULL;
    cg_target *t = cg_target_host(&err);
    assert_non_null(t);
    assert_null(err);
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef m = cg_emit(ctx, fx->all_ops, "unit_all_ops", t);
    assert_non_null(m);
    assert_int_equal(cg_optimize(m, t, 3, &err), 0);
    assert_null(err);
    char *text = cg_print_module(m);
    assert_non_null(text);
    assert_non_null(strstr(text, "unit_all_ops_init"));
    assert_non_null(strstr(text, "unit_all_ops_step"));
    assert_non_null(strstr(text, "fmul"));
    assert_non_null(strstr(text, "fadd"));
    assert_null(strstr(text, "llvm.fma"));
    assert_null(strstr(text, "fmuladd"));
    assert_null(strstr(text, "contract"));
    assert_null(strstr(text, "reassoc"));
    assert_null(strstr(text, " fast "));
    free(text);
    LLVMDisposeModule(m);
    LLVMContextDispose(ctx);
    cg_target_free(t);
}

/* ---- populations: step_n across instances ------------------------------ */

/* step_n over n instances (none, fewer than a group of vector lanes, one
 * group, groups and instances past them) against the interpreter stepping
 * each instance alone, bit for bit: every instance has its own params and
 * inputs, drawn from awkward values, so the lanes of one group disagree
 * about valid ticks, ring indices and selects. */

static void pop_vs_interp(jit *j, const ir_circuit *c, int opt, const char *what)
{
    enum { NMAX = 70, T = 40 };
    /* past 64 instances the columns are longer than n (drive_abi_columns) */
    static const size_t SIZES[] = { 0, 1, 2, 3, 4, 5, 8, 11, 13, 16, 19, 67 };
    size_t cap = drive_abi_columns(NMAX);
    static const double V[] = { 0.0, -0.0, 1.0, -1.5, 0.5, 2.5, 3.0, NAN, INFINITY, -INFINITY,
                                1e-310, 1e300, 0.25, -0.75, 1.0 + 0x1p-30 };
    static const unsigned char BYTES[] = { 0, 1, 2, 255, 1, 0 };
    enum { NV = sizeof V / sizeof V[0] };
    jit_fn fn = compile_ok(j, c, opt);
    assert_non_null(fn.step_n);
    interp *ip = new_interp(c);
    size_t ss = c->state_size, is = c->in_size, os = c->out_size;
    unsigned char *st = block(NMAX * ss), *ist = block(NMAX * ss), *in = block(NMAX * is + 8);
    unsigned char *out = block(NMAX * os), *iout = block(NMAX * os);
    /* step_n's own blocks, in columns; st, in and out hold each instance's
     * block, copied in before and out after each tick */
    unsigned char *cst = block(cap * ss), *cin = block(cap * is + 8), *cout = block(cap * os);
    uint64_t s = 0x243F6A8885A308D3u;
#define NEXT() (s ^= s << 13, s ^= s >> 7, s ^= s << 17, s)
    for (size_t z = 0; z < sizeof SIZES / sizeof SIZES[0]; z++) {
        size_t N = SIZES[z];
        for (size_t i = 0; i < N; i++) {
            fn.init(st + i * ss);
            interp_init(ip, ist + i * ss);
            for (uint32_t p = 0; p < c->n_params && i > 0; p++) { /* instance 0: defaults */
                const ir_var *v = &c->params[p];
                if (v->type == IR_F64) {
                    double x = V[NEXT() % NV];
                    wr_f64(st + i * ss, v->offset, x);
                    wr_f64(ist + i * ss, v->offset, x);
                } else {
                    st[i * ss + v->offset] = ist[i * ss + v->offset] = BYTES[NEXT() % 6];
                }
            }
        }
        char why[256];
        for (int t = 0; t < T; t++) {
            memset(in, 0, NMAX * is);
            for (size_t i = 0; i < N; i++)
                for (uint32_t k = 0; k < c->n_inputs; k++) {
                    const ir_var *v = &c->inputs[k];
                    if (v->type == IR_F64)
                        wr_f64(in + i * is, v->offset, V[NEXT() % NV]);
                    else
                        in[i * is + v->offset] = BYTES[NEXT() % 6];
                }
            size_t m = drive_abi_columns(N); /* N's columns */
            memset(cout, 0x5A + t, cap * os);
            memset(cst + m * ss, 0xA5 + t, (cap - m) * ss);
            memset(iout, 0x5A + t, NMAX * os);
            size_t expect = 0;
            for (size_t i = 0; i < N; i++)
                expect += (size_t)interp_step(ip, ist + i * ss, in + i * is, iout + i * os);
            for (size_t i = 0; i < N; i++) {
                ir_copy_instance(c, IR_BLOCK_STATE, cst, N, i, st + i * ss, 1);
                ir_copy_instance(c, IR_BLOCK_IN, cin, N, i, in + i * is, 1);
                memset(out + i * os, 0x5A + t, os);
            }
            size_t got = fn.step_n(cst, N, cin, cout);
            for (size_t i = 0; i < N; i++) {
                ir_copy_instance(c, IR_BLOCK_STATE, cst, N, i, st + i * ss, 0);
                ir_copy_instance(c, IR_BLOCK_OUT, cout, N, i, out + i * os, 0);
            }
            if (got != expect)
                fail_msg("%s -O%d %zu instances, tick %d: step_n counted %zu invalid, the "
                         "interpreter %zu", what, opt, N, t, got, expect);
            for (size_t i = 0; i < N; i++) {
                if (!same_out(c, out + i * os, iout + i * os, why, sizeof why))
                    fail_msg("%s -O%d %zu instances, tick %d, instance %zu: output differs: %s",
                             what, opt, N, t, i, why);
                if (!same_state(c, st + i * ss, ist + i * ss, why, sizeof why))
                    fail_msg("%s -O%d %zu instances, tick %d, instance %zu: state differs: %s",
                             what, opt, N, t, i, why);
            }
            /* past the n instances, nothing is written */
            for (size_t b = m * os; b < cap * os; b++)
                if (cout[b] != (unsigned char)(0x5A + t))
                    fail_msg("%s -O%d %zu instances: step_n wrote past them", what, opt, N);
            for (size_t b = m * ss; b < cap * ss; b++)
                if (cst[b] != (unsigned char)(0xA5 + t))
                    fail_msg("%s -O%d %zu instances: step_n wrote state past them", what, opt, N);
        }
    }
#undef NEXT
    remove_ok(j, &fn);
}

/* Commits under two guards that alternate (a, b, a), with other work
 * between stores of one guard: each group must keep its own guard, lane by
 * lane. */
static ir_circuit *build_guards(arena *a)
{
    builder B = { a, ir_new(a, "unit", "guards", 1) }, *b = &B;
    ir_add_var(a, b->c, IR_BLOCK_IN, "x", IR_F64, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_IN, "f", IR_BOOL, 0, NULL);
    for (int k = 0; k < 4; k++)
        ir_add_var(a, b->c, IR_BLOCK_STATE, arena_printf(a, "s%d", k), IR_F64, k, NULL);
    ir_add_var(a, b->c, IR_BLOCK_STATE, "flag", IR_BOOL, 1, NULL);
    uint32_t x = E(b, IR_INPUT, IR_F64, 0, 0, 0), f = E(b, IR_INPUT, IR_BOOL, 1, 0, 0);
    uint32_t s0 = E(b, IR_LOAD, IR_F64, 0, 0, 0), s1 = E(b, IR_LOAD, IR_F64, 1, 0, 0);
    uint32_t s2 = E(b, IR_LOAD, IR_F64, 2, 0, 0), s3 = E(b, IR_LOAD, IR_F64, 3, 0, 0);
    uint32_t fl = E(b, IR_LOAD, IR_BOOL, 4, 0, 0);
    uint32_t ga = E(b, IR_LT, IR_BOOL, x, K(b, IR_F64, 1), 0);
    uint32_t gb = E(b, IR_AND, IR_BOOL, f, fl, 0);
    OUT(b, "sum", IR_F64, E(b, IR_ADD, IR_F64, E(b, IR_ADD, IR_F64, s0, s1, 0),
                            E(b, IR_ADD, IR_F64, s2, s3, 0), 0));
    ir_emit(a, b->c, (ir_inst){ .op = IR_STORE_IF, .type = IR_F64, .a = E(b, IR_ADD, IR_F64, s0, x, 0),
                                .b = ga, .slot = 0 });
    uint32_t m = E(b, IR_MUL, IR_F64, s1, x, 0); /* work between two stores of guard a */
    ir_emit(a, b->c, (ir_inst){ .op = IR_STORE_IF, .type = IR_F64, .a = m, .b = ga, .slot = 1 });
    ir_emit(a, b->c, (ir_inst){ .op = IR_STORE_IF, .type = IR_F64, .a = E(b, IR_SUB, IR_F64, s2, x, 0),
                                .b = gb, .slot = 2 });
    ir_emit(a, b->c, (ir_inst){ .op = IR_STORE_IF, .type = IR_BOOL, .a = E(b, IR_NOT, IR_BOOL, fl, 0, 0),
                                .b = gb, .slot = 4 });
    ir_emit(a, b->c, (ir_inst){ .op = IR_STORE_IF, .type = IR_F64, .a = x, .b = ga, .slot = 3 });
    ir_emit(a, b->c, (ir_inst){ .op = IR_RETURN, .type = IR_BOOL, .a = E(b, IR_NOT, IR_BOOL, ga, 0, 0) });
    ir_layout(b->c);
    return b->c;
}

/* Fields side by side in each block (three inputs, params beside state
 * slots), a state slot read again after a store to it (which must see the
 * store), and a ring among them, with a commit of plain slots and of the
 * ring: the columns' loads and stores (test_lanes_columns) and their values
 * (pop_vs_interp); the ring is read again after the commit's store to it. */
static ir_circuit *build_pairs(arena *a)
{
    builder B = { a, ir_new(a, "unit", "pairs", 1) }, *b = &B;
    ir_circuit *c = B.c;
    for (int k = 0; k < 3; k++)
        ir_add_var(a, c, IR_BLOCK_IN, arena_printf(a, "x%d", k), IR_F64, 0, NULL);
    ir_add_var(a, c, IR_BLOCK_PARAM, "p0", IR_F64, 0.5, NULL);
    ir_add_var(a, c, IR_BLOCK_PARAM, "p1", IR_F64, -2, NULL);
    ir_add_var(a, c, IR_BLOCK_STATE, "s0", IR_F64, 1, NULL);
    ir_add_var(a, c, IR_BLOCK_STATE, "s1", IR_F64, 2, NULL);
    for (int k = 0; k < 3; k++)
        ir_add_var(a, c, IR_BLOCK_STATE, arena_printf(a, "r[%d]", k), IR_F64, k, NULL);
    ir_add_var(a, c, IR_BLOCK_STATE, "s2", IR_F64, 3, NULL);
    uint32_t x0 = E(b, IR_INPUT, IR_F64, 0, 0, 0), x1 = E(b, IR_INPUT, IR_F64, 1, 0, 0);
    uint32_t x2 = E(b, IR_INPUT, IR_F64, 2, 0, 0);
    uint32_t p1 = E(b, IR_PARAM, IR_F64, 1, 0, 0), s0 = E(b, IR_LOAD, IR_F64, 0, 0, 0);
    uint32_t p0 = E(b, IR_PARAM, IR_F64, 0, 0, 0), s2 = E(b, IR_LOAD, IR_F64, 5, 0, 0);
    uint32_t got = ir_emit(a, c, (ir_inst){ .op = IR_LOADX, .type = IR_F64, .a = x2, .slot = 2,
                                            .imm = 3 });
    uint32_t y = E(b, IR_ADD, IR_F64, E(b, IR_MUL, IR_F64, x0, p0, 0),
                   E(b, IR_SUB, IR_F64, x1, E(b, IR_MUL, IR_F64, s0, p1, 0), 0), 0);
    OUT(b, "y", IR_F64, E(b, IR_ADD, IR_F64, y, E(b, IR_ADD, IR_F64, got, s2, 0), 0));
    ir_emit(a, c, (ir_inst){ .op = IR_STORE, .type = IR_F64, .a = y, .slot = 1 });
    uint32_t s1 = E(b, IR_LOAD, IR_F64, 1, 0, 0); /* after the store: y */
    OUT(b, "z", IR_F64, E(b, IR_SUB, IR_F64, s1, x2, 0));
    uint32_t ok = E(b, IR_LT, IR_BOOL, x0, K(b, IR_F64, 2), 0);
    ir_emit(a, c, (ir_inst){ .op = IR_STORE_IF, .type = IR_F64, .a = E(b, IR_ADD, IR_F64, s0, x1, 0),
                             .b = ok, .slot = 0 });
    ir_emit(a, c, (ir_inst){ .op = IR_STOREX_IF, .type = IR_F64, .a = x0, .b = x2, .c = ok,
                             .slot = 2, .imm = 3 });
    ir_emit(a, c, (ir_inst){ .op = IR_STORE_IF, .type = IR_F64, .a = x1, .b = ok, .slot = 5 });
    /* the ring read again after its store, at another index: it must see it */
    uint32_t again = ir_emit(a, c, (ir_inst){ .op = IR_LOADX, .type = IR_F64, .a = x0, .slot = 2,
                                              .imm = 3 });
    OUT(b, "w", IR_F64, again);
    ir_emit(a, c, (ir_inst){ .op = IR_RETURN, .type = IR_BOOL, .a = E(b, IR_NOT, IR_BOOL, ok, 0, 0) });
    ir_layout(c);
    return c;
}

/* Runs of ring accesses (cg.c's lane_ring_run: one branch a run): two
 * rings read, committed and stored at the same index, once at an input
 * (the lanes' entries mostly differ) and once at a counter every instance
 * keeps alike (they agree). */
static ir_circuit *build_ring_runs(arena *a)
{
    builder B = { a, ir_new(a, "unit", "ring_runs", 1) }, *b = &B;
    ir_circuit *c = B.c;
    ir_add_var(a, c, IR_BLOCK_IN, "x0", IR_F64, 0, NULL);
    ir_add_var(a, c, IR_BLOCK_IN, "x1", IR_F64, 0, NULL);
    ir_add_var(a, c, IR_BLOCK_STATE, "n", IR_F64, 0, NULL);
    for (int k = 0; k < 3; k++)
        ir_add_var(a, c, IR_BLOCK_STATE, arena_printf(a, "p[%d]", k), IR_F64, k, NULL);
    for (int k = 0; k < 3; k++)
        ir_add_var(a, c, IR_BLOCK_STATE, arena_printf(a, "q[%d]", k), IR_F64, -k, NULL);
    uint32_t x0 = E(b, IR_INPUT, IR_F64, 0, 0, 0), x1 = E(b, IR_INPUT, IR_F64, 1, 0, 0);
    uint32_t n = E(b, IR_LOAD, IR_F64, 0, 0, 0);
    uint32_t at[2] = { x0, n }, got[2][2];
    for (int w = 0; w < 2; w++)
        for (int r = 0; r < 2; r++)
            got[w][r] = ir_emit(a, c, (ir_inst){ .op = IR_LOADX, .type = IR_F64, .a = at[w],
                                                 .slot = 1 + 3 * (uint32_t)r, .imm = 3 });
    OUT(b, "y", IR_F64, E(b, IR_ADD, IR_F64, got[0][0], got[0][1], 0));
    OUT(b, "z", IR_F64, E(b, IR_SUB, IR_F64, got[1][0], got[1][1], 0));
    /* the counter, 0 1 2 0 ..., stored whatever the inputs */
    uint32_t n1 = E(b, IR_ADD, IR_F64, n, K(b, IR_F64, 1), 0);
    uint32_t wrap = E(b, IR_GE, IR_BOOL, n1, K(b, IR_F64, 3), 0);
    ir_emit(a, c, (ir_inst){ .op = IR_STORE, .type = IR_F64,
                             .a = E(b, IR_SELECT, IR_F64, wrap, K(b, IR_F64, 0), n1), .slot = 0 });
    for (int r = 0; r < 2; r++) /* a plain run at the counter's old value */
        ir_emit(a, c, (ir_inst){ .op = IR_STOREX, .type = IR_F64, .a = r ? x0 : x1, .b = n,
                                 .slot = 1 + 3 * (uint32_t)r, .imm = 3 });
    uint32_t ok = E(b, IR_LT, IR_BOOL, x1, K(b, IR_F64, 2), 0);
    uint32_t vals[2] = { x1, E(b, IR_ADD, IR_F64, x1, K(b, IR_F64, 1), 0) };
    for (int w = 0; w < 2; w++)
        for (int r = 0; r < 2; r++)
            ir_emit(a, c, (ir_inst){ .op = IR_STOREX_IF, .type = IR_F64, .a = vals[r], .b = at[w],
                                     .c = ok, .slot = 1 + 3 * (uint32_t)r, .imm = 3 });
    ir_emit(a, c, (ir_inst){ .op = IR_RETURN, .type = IR_BOOL, .a = E(b, IR_NOT, IR_BOOL, ok, 0, 0) });
    ir_layout(c);
    return c;
}

static ir_circuit *build_math(arena *a);
static ir_circuit *build_status(arena *a, int mode, int konst);

static void test_population_lanes(void **state)
{
    fixture *fx = *state;
    for (int opt = 0; opt <= 2; opt += 2) {
        pop_vs_interp(fx->j, fx->all_ops, opt, "all ops");
        pop_vs_interp(fx->j, build_math(&scratch), opt, "math");
        for (int mode = 0; mode < 4; mode++) /* none, a flag, invalid input, a constant */
            pop_vs_interp(fx->j, build_status(&scratch, mode, 1), opt, "status");
        ir_circuit *g = build_guards(&scratch);
        assert_null(ir_verify(&scratch, g));
        pop_vs_interp(fx->j, g, opt, "guards");
        ir_circuit *pr = build_pairs(&scratch);
        assert_null(ir_verify(&scratch, pr));
        pop_vs_interp(fx->j, pr, opt, "pairs");
        ir_circuit *rr = build_ring_runs(&scratch);
        assert_null(ir_verify(&scratch, rr));
        pop_vs_interp(fx->j, rr, opt, "ring runs");
    }
    /* Four lanes where the host's are eight (AVX-512): each width must step
     * every instance as the interpreter does. The variable is read when the
     * lanes are emitted, at the first population step, so it stays set. */
    char *err = NULL;
    setenv("DRIVE_CG_LANES", "4", 1);
    jit *four = jit_create(&err);
    assert_non_null(four);
    pop_vs_interp(four, fx->all_ops, 2, "all ops, four lanes");
    pop_vs_interp(four, build_math(&scratch), 2, "math, four lanes");
    ir_circuit *pr4 = build_pairs(&scratch);
    assert_null(ir_verify(&scratch, pr4));
    pop_vs_interp(four, pr4, 2, "pairs, four lanes");
    pop_vs_interp(four, build_ring_runs(&scratch), 2, "ring runs, four lanes");
    jit_destroy(four);
    unsetenv("DRIVE_CG_LANES");
    /* The plain step_n, a loop calling step: without lanes, and in circuits
     * emitted with loops. */
    jit_set_lanes(fx->j, 0);
    pop_vs_interp(fx->j, fx->all_ops, 2, "all ops, no lanes");
    jit_set_lanes(fx->j, 1);
    setenv("DRIVE_CG_LOOPS", "always", 1);
    pop_vs_interp(fx->j, fx->all_ops, 2, "all ops, loops");
    unsetenv("DRIVE_CG_LOOPS");
}

/* step_n is vectorized across instances with CG_LANES, a loop over step
 * without it. */
static void test_lanes_in_module(void **state)
{
    fixture *fx = *state;
    char *err = NULL;
    cg_target *t = cg_target_host(&err);
    assert_non_null(t);
    for (int lanes = 0; lanes <= 1; lanes++) {
        LLVMContextRef ctx = LLVMContextCreate();
        LLVMModuleRef m = cg_emit_ex(ctx, fx->all_ops, "unit_all_ops", t, lanes ? CG_LANES : 0);
        assert_non_null(m);
        assert_int_equal(cg_optimize(m, t, 2, &err), 0);
        char *text = cg_print_module(m);
        const char *step_n = strstr(text, "@unit_all_ops_step_n(");
        assert_non_null(step_n);
        const char *vec = cg_target_lanes(t) == 8 ? "<8 x double>" : "<4 x double>";
        if (lanes)
            assert_non_null(strstr(step_n, vec));
        else
            assert_null(strstr(step_n, vec));
        assert_null(strstr(text, "fmuladd"));
        assert_null(strstr(text, " fast "));
        free(text);
        LLVMDisposeModule(m);
        LLVMContextDispose(ctx);
    }
    cg_target_free(t);
}

/* Four lanes, or eight where the target's features turn on AVX-512, or
 * for the host where this CPU has it (the step without: cg.h). */
static void test_lanes_width(void **state)
{
    (void)state;
    static const struct {
        const char *features;
        unsigned lanes;
    } cases[] = {
        { "", 4 },
        { "+avx2,+fma", 4 },
        { "+avx2,+avx512f,+avx512vl", 8 },
        { "+avx512f,-avx512f", 4 },
        { "-avx512f,+avx512f", 8 },
        { "+avx512fp16", 4 }, /* another feature whose name begins alike */
    };
    char *err = NULL;
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        cg_target *t = cg_target_cpu("x86-64", cases[k].features, &err);
        assert_non_null(t);
        if (cg_target_lanes(t) != cases[k].lanes)
            fail_msg("features \"%s\": %u lanes, expected %u", cases[k].features,
                     cg_target_lanes(t), cases[k].lanes);
        cg_target_free(t);
    }
    cg_target *host = cg_target_host(&err);
    assert_non_null(host);
    int wide = 0;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    wide = __builtin_cpu_supports("avx512f");
#endif
    assert_int_equal(cg_target_lanes(host), wide ? 8 : 4);
    setenv("DRIVE_CG_LANES", "4", 1);
    assert_int_equal(cg_target_lanes(host), 4);
    unsetenv("DRIVE_CG_LANES");
    /* The host's step_n carries its CPU and features, AVX-512 included;
     * its step is made without AVX-512. */
    ir_circuit *c = build_pairs(&scratch);
    assert_null(ir_verify(&scratch, c));
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef m = cg_emit(ctx, c, "unit_pairs", host);
    assert_non_null(m);
    char *text = cg_print_module(m);
    int with = 0;
    for (const char *p = text; (p = strstr(p, "\"target-features\"=")); p++)
        with++;
    assert_int_equal(with, wide ? 1 : 0);
    if (wide) {
        assert_non_null(strstr(text, "+avx512f"));
        assert_non_null(strstr(text, "<8 x double>"));
    }
    free(text);
    LLVMDisposeModule(m);
    LLVMContextDispose(ctx);
    cg_target_free(host);
}

/* A target for a named x86-64 CPU, which these tests only emit for. */
static cg_target *target_for(const char *features)
{
    char *err = NULL;
    cg_target *t = cg_target_cpu("x86-64-v3", features, &err);
    assert_non_null(t);
    return t;
}

/* The text of c's lanes made for t, unoptimised (the caller frees it). */
static char *lanes_text(cg_target *t, ir_circuit *c, const char *prefix)
{
    char *err = NULL;
    assert_null(ir_verify(&scratch, c));
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef m = cg_emit_lanes(ctx, c, prefix, t);
    assert_non_null(m);
    assert_int_equal(cg_optimize(m, t, 0, &err), 0);
    char *text = cg_print_module(m);
    LLVMDisposeModule(m);
    LLVMContextDispose(ctx);
    return text;
}

/* How many times needle occurs in text from its start on. */
static int occurrences(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* Counts of text in the lanes of build_pairs made for t, unoptimised. */
static void lanes_text_counts(cg_target *t, const char *vec, int *loads, int *stores,
                              int *scalar, int *rows)
{
    char *text = lanes_text(t, build_pairs(&scratch), "unit_pairs");
    const char *body = strstr(text, "@unit_pairs_lanes_step_n(");
    assert_non_null(body);
    char load[64], store[64];
    snprintf(load, sizeof load, "load %s", vec);
    snprintf(store, sizeof store, "store %s", vec);
    *loads = occurrences(body, load);
    *stores = occurrences(body, store);
    *scalar = occurrences(body, "load double");
    *rows = strstr(body, "ring_row") != NULL;
    /* Each column of reals the group touches, once: the inputs x0, x1, x2,
     * the params p0, p1, the slots s0, s1, s2, the outputs y, z, w; not the
     * ring, whose lanes may read anywhere in it. */
    assert_int_equal(occurrences(body, "call void @llvm.prefetch.p0("), 11);
    assert_null(strstr(body, "<2 x double>"));
    free(text);
}

/* Eight lanes: the same loads and stores as four (test_lanes_columns),
 * each of eight doubles, and the ring's entries lane by lane eight times. */
static void test_lanes_columns_eight(void **state)
{
    (void)state;
    cg_target *t = target_for("+avx512f,+avx512vl,+avx512dq,+avx512bw");
    assert_int_equal(cg_target_lanes(t), 8);
    int loads, stores, scalar, rows;
    lanes_text_counts(t, "<8 x double>", &loads, &stores, &scalar, &rows);
    assert_int_equal(loads, 10 + 3);
    assert_int_equal(stores, 6 + 1);
    assert_int_equal(scalar, 3 * 8);
    assert_true(rows);
    lanes_text_counts(t, "<4 x double>", &loads, &stores, &scalar, &rows);
    assert_int_equal(loads + stores, 0);
    cg_target_free(t);
}

/* A run of ring accesses at one index is one test of the lanes' entries
 * and one branch: build_ring_runs has ten accesses in five runs. */
static void test_ring_runs_branch_once(void **state)
{
    (void)state;
    cg_target *t = target_for(NULL);
    char *text = lanes_text(t, build_ring_runs(&scratch), "unit_runs");
    assert_int_equal(occurrences(text, "\nring_row"), 5);
    free(text);
    cg_target_free(t);
}

/* The lanes read each field of a group with one vector load, never a
 * state slot read after a store to the block (four lanes: AVX2). */
static void test_lanes_columns(void **state)
{
    (void)state;
    cg_target *t = target_for(NULL);
    int loads, stores, scalar, rows;
    lanes_text_counts(t, "<4 x double>", &loads, &stores, &scalar, &rows);
    /* One vector load per field read: x0, x1, x2, p0, p1, s0, s2, s1 after
     * the store, and the value already there of the two plain slots the
     * commit stores (s0, s2); one vector store per field written: y, z, w,
     * s1 and the commit's two. The ring, read twice and committed once, has
     * a row (one vector load, and for the commit one load and one store)
     * where the lanes' indices agree, else its entries lane by lane. */
    assert_int_equal(loads, 10 + 3);
    assert_int_equal(stores, 6 + 1);
    assert_int_equal(scalar, 3 * 4);
    assert_true(rows);
    cg_target_free(t);
}

/* ---- math ops: the C library's functions, bit for bit ------------------- */

static const struct {
    ir_op op;
    const char *name;
} MATH_OPS[] = {
    { IR_EXP, "exp" }, { IR_LOG, "log" }, { IR_TANH, "tanh" }, { IR_SIN, "sin" },
    { IR_COS, "cos" }, { IR_SQRT, "sqrt" }, { IR_ABS, "abs" }, { IR_FLOOR, "floor" },
    { IR_EXPM1, "expm1" },
};
enum { N_MATH = sizeof MATH_OPS / sizeof MATH_OPS[0] };

/* Where these functions have edges: signed zeros, infinities, NaNs,
 * subnormals, overflow and underflow of exp, saturation of tanh, argument
 * reduction of sin and cos, logs of negatives, halves for floor. */
static const double MATH_VALS[] = {
    0.0, -0.0, INFINITY, -INFINITY, NAN, -NAN,
    0x1p-1074, -0x1p-1074, 1e-310, -1e-310, 0x1p-1022, 0x1.fffffffffffffp-1023,
    DBL_MAX, -DBL_MAX, 1e300, -1e300, 1e22, -1e22, 0x1p1023, 1e-300, -1e-300,
    0x1p-55, 0x1p-30, -0x1p-30, 0x1p-28, 0.1, -0.1, 0.5, -0.5, 0.7, 1.0, -1.0, 1.5, -1.5,
    2.5, -2.5, 3.0, 100.0, -100.0, 1e5, 0x1p52 - 0.5, -(0x1p52 - 0.5), 0x1p52, 0x1p53,
    3.141592653589793, -3.141592653589793, 1.5707963267948966, 6.283185307179586,
    1.4142135623730951,
    709.782712893384, 709.7827128933841, 709.79, 710.0, -708.39, -745.1332191019411,
    -745.1332191019412, -745.2, -746.0, -1000.0,
    18.5, 18.7, 19.0, 19.06, 19.0615, 19.07, 19.1, 20.0, 22.0, 22.000000000000004, -19.07,
    -22.0, 40.0, 0.54930614433405489, /* atanh(0.5) */
};
enum { N_MATH_VALS = sizeof MATH_VALS / sizeof MATH_VALS[0] };

/* Each op of x, and compositions an unsafe optimizer would rewrite:
 * sin(-x) to -sin(x), cos(|x|) to cos(x), exp(log(x)) to x, sin(x)/cos(x)
 * to tan(x), a sin and cos of one x to sincos, sqrt(x*x) to |x|. */
static ir_circuit *build_math(arena *a)
{
    builder B = { a, ir_new(a, "unit", "math", 1) }, *b = &B;
    ir_add_var(a, b->c, IR_BLOCK_IN, "x", IR_F64, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_STATE, "acc", IR_F64, 0.25, NULL);
    uint32_t x = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    uint32_t r[N_MATH];
    for (int i = 0; i < N_MATH; i++) {
        r[i] = E(b, MATH_OPS[i].op, IR_F64, x, 0, 0);
        OUT(b, MATH_OPS[i].name, IR_F64, r[i]);
    }
    uint32_t nx = E(b, IR_NEG, IR_F64, x, 0, 0);
    uint32_t ax = E(b, IR_ABS, IR_F64, x, 0, 0);
    OUT(b, "sin_neg", IR_F64, E(b, IR_SIN, IR_F64, nx, 0, 0));
    OUT(b, "cos_neg", IR_F64, E(b, IR_COS, IR_F64, nx, 0, 0));
    OUT(b, "cos_abs", IR_F64, E(b, IR_COS, IR_F64, ax, 0, 0));
    OUT(b, "sin_abs", IR_F64, E(b, IR_SIN, IR_F64, ax, 0, 0));
    OUT(b, "tanh_neg", IR_F64, E(b, IR_TANH, IR_F64, nx, 0, 0));
    OUT(b, "abs_neg", IR_F64, E(b, IR_ABS, IR_F64, nx, 0, 0));
    OUT(b, "exp_log", IR_F64, E(b, IR_EXP, IR_F64, E(b, IR_LOG, IR_F64, x, 0, 0), 0, 0));
    OUT(b, "log_exp", IR_F64, E(b, IR_LOG, IR_F64, E(b, IR_EXP, IR_F64, x, 0, 0), 0, 0));
    OUT(b, "tan", IR_F64,
        E(b, IR_DIV, IR_F64, E(b, IR_SIN, IR_F64, x, 0, 0), E(b, IR_COS, IR_F64, x, 0, 0), 0));
    OUT(b, "sqrt_sq", IR_F64, E(b, IR_SQRT, IR_F64, E(b, IR_MUL, IR_F64, x, x, 0), 0, 0));
    OUT(b, "sq_sqrt", IR_F64, E(b, IR_MUL, IR_F64, r[5], r[5], 0));
    OUT(b, "floor_floor", IR_F64, E(b, IR_FLOOR, IR_F64, r[7], 0, 0));
    OUT(b, "floor_neg", IR_F64, E(b, IR_NEG, IR_F64, E(b, IR_FLOOR, IR_F64, nx, 0, 0), 0, 0));
    OUT(b, "exp_half", IR_F64,
        E(b, IR_EXP, IR_F64, E(b, IR_MUL, IR_F64, x, K(b, IR_F64, 0.5), 0), 0, 0));
    /* through state: acc = tanh(acc + x) */
    uint32_t acc = E(b, IR_LOAD, IR_F64, 0, 0, 0);
    OUT(b, "acc", IR_F64, acc);
    STORE(b, 0, IR_F64, E(b, IR_TANH, IR_F64, E(b, IR_ADD, IR_F64, acc, x, 0), 0, 0));
    ir_layout(b->c);
    return b->c;
}

static void run_math(jit *j, int opt, const char *what)
{
    arena *a = &scratch;
    ir_circuit *c = build_math(a);
    assert_null(ir_verify(a, c));
    jit_fn fn = compile_ok(j, c, opt);
    unsigned char *st = block(c->state_size), *ist = block(c->state_size), *rst = block(c->state_size);
    unsigned char *in = block(c->in_size);
    unsigned char *out = block(c->out_size), *iout = block(c->out_size), *rout = block(c->out_size);
    interp *ip = new_interp(c);
    char why[256];
    fn.init(st);
    interp_init(ip, ist);
    ref_init(c, rst);
    for (int k = 0; k < N_MATH_VALS; k++) {
        wr_f64(in, c->inputs[0].offset, MATH_VALS[k]);
        assert_int_equal(fn.step(st, in, out), 0);
        assert_int_equal(interp_step(ip, ist, in, iout), 0);
        assert_int_equal(ref_step(c, rst, in, rout), 0);
        if (!same_out(c, iout, rout, why, sizeof why))
            fail_msg("x = %a: interpreter and reference differ: %s", MATH_VALS[k], why);
        if (!same_out(c, out, iout, why, sizeof why))
            fail_msg("%s -O%d x = %a: output differs from the interpreter: %s", what, opt,
                     MATH_VALS[k], why);
        if (!same_state(c, st, ist, why, sizeof why))
            fail_msg("%s -O%d x = %a: state differs from the interpreter: %s", what, opt,
                     MATH_VALS[k], why);
        /* Reset now and then, so the state is not stuck at NaN. */
        if (k % 7 == 6) {
            wr_f64(st, c->state[0].offset, MATH_VALS[k / 7]);
            wr_f64(ist, c->state[0].offset, MATH_VALS[k / 7]);
            wr_f64(rst, c->state[0].offset, MATH_VALS[k / 7]);
        }
    }

    /* Known answers, so that all three cannot agree on a wrong value. */
    static const struct {
        const char *out;
        double x, want;
    } known[] = {
        { "sqrt", -0.0, -0.0 },     { "sqrt", 4.0, 2.0 },       { "sqrt", INFINITY, INFINITY },
        { "abs", -0.0, 0.0 },       { "abs", -INFINITY, INFINITY }, { "abs", -0x1p-1074, 0x1p-1074 },
        { "floor", -0.5, -1.0 },    { "floor", -0.0, -0.0 },    { "floor", 0.5, 0.0 },
        { "floor", -0x1p-1074, -1.0 }, { "floor", 0x1p52 - 0.5, 0x1p52 - 1 },
        { "floor", -INFINITY, -INFINITY },
        { "exp", 0.0, 1.0 },        { "exp", -0.0, 1.0 },       { "exp", -INFINITY, 0.0 },
        { "exp", INFINITY, INFINITY }, { "exp", 710.0, INFINITY }, { "exp", -746.0, 0.0 },
        { "exp", 0x1p-1074, 1.0 },
        { "log", 1.0, 0.0 },        { "log", 0.0, -INFINITY },  { "log", -0.0, -INFINITY },
        { "log", INFINITY, INFINITY },
        { "tanh", INFINITY, 1.0 },  { "tanh", -INFINITY, -1.0 }, { "tanh", -0.0, -0.0 },
        { "tanh", 22.0, 1.0 },      { "tanh", -40.0, -1.0 },    { "tanh", 0x1p-1074, 0x1p-1074 },
        { "sin", -0.0, -0.0 },      { "sin", 0x1p-1074, 0x1p-1074 }, { "cos", 0.0, 1.0 },
        { "cos", -0.0, 1.0 },
    };
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
        wr_f64(in, c->inputs[0].offset, known[k].x);
        fn.step(st, in, out);
        interp_step(ip, ist, in, iout);
        double got = out_f64(c, out, known[k].out), igot = out_f64(c, iout, known[k].out);
        if (bits_of(got) != bits_of(known[k].want) || bits_of(igot) != bits_of(known[k].want))
            fail_msg("%s -O%d %s(%a): JIT %a, interpreter %a, expected %a", what, opt,
                     known[k].out, known[k].x, got, igot, known[k].want);
    }
    static const struct {
        const char *out;
        double x;
    } nans[] = {
        { "log", -1.0 }, { "log", -0x1p-1074 }, { "log", -INFINITY }, { "sqrt", -1.0 },
        { "sqrt", -0x1p-1074 }, { "sin", INFINITY }, { "cos", -INFINITY }, { "exp", NAN },
        { "floor", NAN }, { "abs", -NAN }, { "tanh", NAN },
    };
    for (size_t k = 0; k < sizeof nans / sizeof nans[0]; k++) {
        wr_f64(in, c->inputs[0].offset, nans[k].x);
        fn.step(st, in, out);
        interp_step(ip, ist, in, iout);
        if (!isnan(out_f64(c, out, nans[k].out)) || !isnan(out_f64(c, iout, nans[k].out)))
            fail_msg("%s -O%d %s(%a) is not NaN", what, opt, nans[k].out, nans[k].x);
    }
    remove_ok(j, &fn);
}

/* Many more arguments, spread over every exponent, against the interpreter. */
static void sweep_math(jit *j, int opt)
{
    arena *a = &scratch;
    ir_circuit *c = build_math(a);
    jit_fn fn = compile_ok(j, c, opt);
    unsigned char *st = block(c->state_size), *ist = block(c->state_size);
    unsigned char *in = block(c->in_size), *out = block(c->out_size), *iout = block(c->out_size);
    interp *ip = new_interp(c);
    char why[256];
    fn.init(st);
    interp_init(ip, ist);
    uint64_t s = 0x9E3779B97F4A7C15u;
    for (long k = 0; k < 20000; k++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double x;
        if (k % 2) {
            memcpy(&x, &s, sizeof x); /* any bit pattern: every exponent, NaNs */
        } else {
            /* moderate magnitudes, where the functions do most of their work */
            x = ((double)(s >> 11) * 0x1p-53 - 0.5) * (k % 4 ? 60.0 : 1e6);
        }
        wr_f64(in, c->inputs[0].offset, x);
        fn.step(st, in, out);
        interp_step(ip, ist, in, iout);
        if (!same_out(c, out, iout, why, sizeof why))
            fail_msg("-O%d x = %a: output differs from the interpreter: %s", opt, x, why);
        if (!same_state(c, st, ist, why, sizeof why))
            fail_msg("-O%d x = %a: state differs from the interpreter: %s", opt, x, why);
    }
    remove_ok(j, &fn);
}

static void test_math_O0(void **state)
{
    fixture *fx = *state;
    run_math(fx->j, 0, "host");
    sweep_math(fx->j, 0);
}

static void test_math_O2(void **state)
{
    fixture *fx = *state;
    run_math(fx->j, 2, "host");
    sweep_math(fx->j, 2);
}

/* Plain x86-64 has no instruction for floor: it becomes a call too. */
static void test_math_baseline_cpu(void **state)
{
    (void)state;
#if defined(__x86_64__)
    char *err = NULL;
    jit *j = jit_create_cpu("x86-64", NULL, &err);
    if (!j) {
        char msg[600];
        snprintf(msg, sizeof msg, "jit_create_cpu: %s", err ? err : "?");
        free(err);
        fail_msg("%s", msg);
    }
    run_math(j, 0, "x86-64");
    run_math(j, 2, "x86-64");
    sweep_math(j, 2);
    jit_destroy(j);
#else
    skip();
#endif
}

/* LLVM at default<O2> (and O3) keeps the library calls as calls: no
 * fast-math flags, no approximations, no merging of sin and cos into sincos.
 * (Folding a constant argument with this process's library is allowed; the
 * circuit has none.) exp, expm1 and tanh are drive's own arithmetic, never
 * a call into the C library. */
static void check_math_calls_kept(int opt)
{
    arena *a = &scratch;
    ir_circuit *c = build_math(a);
    char *err = NULL;
    cg_target *t = cg_target_host(&err);
    assert_non_null(t);
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef m = cg_emit(ctx, c, "unit_math", t);
    assert_non_null(m);
    assert_int_equal(cg_optimize(m, t, opt, &err), 0);
    assert_null(err);
    char *text = cg_print_module(m);
    assert_non_null(text);
    static const char *const calls[] = {
        "call double @log(double %x)", "call double @sin(double %x)",
        "call double @cos(double %x)", "@llvm.sqrt.f64(double %x)",
        "@llvm.floor.f64(double %x)",
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
        if (!strstr(text, calls[i]))
            fail_msg("-O%d: the optimised module lost '%s':\n%s", opt, calls[i], text);
    static const char *const banned[] = {
        "sincos", "@tan(", "@llvm.exp", "@llvm.log", "@llvm.sin", "@llvm.cos", " afn ",
        "@exp(", "@expm1(", "@tanh(", "@exp2(", "@ldexp(",
        " fast ", "reassoc", "arcp", "contract", "ninf", "nnan", "nsz",
    };
    for (size_t i = 0; i < sizeof banned / sizeof banned[0]; i++)
        if (strstr(text, banned[i]))
            fail_msg("-O%d: the optimised module has '%s':\n%s", opt, banned[i], text);
    free(text);
    LLVMDisposeModule(m);
    LLVMContextDispose(ctx);
    cg_target_free(t);
}

static void test_math_calls_kept(void **state)
{
    (void)state;
    check_math_calls_kept(2);
    check_math_calls_kept(3);
}

/* ---- the step's status (IR_RETURN) ------------------------------------- */

enum { RET_NONE, RET_FLAG, RET_INVALID, RET_CONST };

/* y = x always; the status is absent, the bool input, "x is not in
 * [0, 1]" (as the compiler's input checks are), or a constant. The return
 * comes before the effects, so the status cannot depend on being last. */
static ir_circuit *build_status(arena *a, int mode, int konst)
{
    builder B = { a, ir_new(a, "unit", "status", 1) }, *b = &B;
    ir_add_var(a, b->c, IR_BLOCK_IN, "x", IR_F64, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_IN, "f", IR_BOOL, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_STATE, "s", IR_F64, 0, NULL);
    uint32_t x = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    uint32_t f = E(b, IR_INPUT, IR_BOOL, 1, 0, 0);
    uint32_t s = E(b, IR_LOAD, IR_F64, 0, 0, 0);
    uint32_t flag = f;
    if (mode == RET_INVALID) {
        uint32_t ok = E(b, IR_AND, IR_BOOL, E(b, IR_GE, IR_BOOL, x, K(b, IR_F64, 0), 0),
                        E(b, IR_LE, IR_BOOL, x, K(b, IR_F64, 1), 0), 0);
        flag = E(b, IR_NOT, IR_BOOL, ok, 0, 0);
    } else if (mode == RET_CONST) {
        flag = K(b, IR_BOOL, konst);
    }
    if (mode != RET_NONE)
        ir_emit(a, b->c, (ir_inst){ .op = IR_RETURN, .type = IR_BOOL, .a = flag });
    OUT(b, "y", IR_F64, x);
    OUT(b, "prev", IR_F64, s);
    /* commit only on a valid tick, as compiled circuits do: a guarded store
     * (also one whose guard is a constant) */
    if (mode == RET_NONE)
        STORE(b, 0, IR_F64, x);
    else
        ir_emit(a, b->c, (ir_inst){ .op = IR_STORE_IF, .type = IR_F64, .a = x,
                                    .b = E(b, IR_NOT, IR_BOOL, flag, 0, 0), .slot = 0 });
    ir_layout(b->c);
    return b->c;
}

/* Indexed state (a ring of 4 slots): read at index x, write x's square
 * at index x + 1, guarded by a flag. Out-of-range and non-finite indices
 * select the first slot, the same in every engine. */
static void test_ring(void **state)
{
    fixture *fx = *state;
    arena *a = &scratch;
    builder B = { a, ir_new(a, "unit", "ring", 1) }, *b = &B;
    ir_circuit *c = B.c;
    ir_add_var(a, c, IR_BLOCK_IN, "i", IR_F64, 0, NULL);
    ir_add_var(a, c, IR_BLOCK_IN, "commit", IR_BOOL, 0, NULL);
    for (int k = 0; k < 4; k++)
        ir_add_var(a, c, IR_BLOCK_STATE, arena_printf(a, "r[%d]", k), IR_F64, k + 1, NULL);
    uint32_t i = E(b, IR_INPUT, IR_F64, 0, 0, 0), g = E(b, IR_INPUT, IR_BOOL, 1, 0, 0);
    uint32_t got = ir_emit(a, c, (ir_inst){ .op = IR_LOADX, .type = IR_F64, .a = i, .slot = 0,
                                            .imm = 4 });
    OUT(b, "got", IR_F64, got);
    uint32_t j = E(b, IR_ADD, IR_F64, i, K(b, IR_F64, 1), 0);
    ir_emit(a, c, (ir_inst){ .op = IR_STOREX_IF, .type = IR_F64, .a = E(b, IR_MUL, IR_F64, got, got, 0),
                             .b = j, .c = g, .slot = 0, .imm = 4 });
    ir_emit(a, c, (ir_inst){ .op = IR_STOREX, .type = IR_F64, .a = i, .b = i, .slot = 1, .imm = 3 });
    ir_layout(c);
    assert_null(ir_verify(a, c));
    static const double IS[] = { 0, 1, 2, 3, 2.5, -1, 4, 3.999, NAN, INFINITY, -0.0, 1e300 };
    for (int opt = 0; opt <= 2; opt += 2) {
        jit_fn fn = compile_ok(fx->j, c, opt);
        interp *ip = new_interp(c);
        unsigned char *st = block(c->state_size), *ist = block(c->state_size),
                      *rst = block(c->state_size);
        unsigned char *in = block(c->in_size), *out = block(c->out_size),
                      *iout = block(c->out_size), *rout = block(c->out_size);
        fn.init(st);
        interp_init(ip, ist);
        ref_init(c, rst);
        for (int round = 0; round < 3; round++)
            for (size_t k = 0; k < sizeof IS / sizeof IS[0]; k++) {
                wr_f64(in, c->inputs[0].offset, IS[k]);
                in[c->inputs[1].offset] = (unsigned char)((k + round) % 2);
                fn.step(st, in, out);
                interp_step(ip, ist, in, iout);
                ref_step(c, rst, in, rout);
                char why[256];
                if (!same_out(c, out, iout, why, sizeof why) ||
                    !same_state(c, st, ist, why, sizeof why) ||
                    !same_out(c, out, rout, why, sizeof why) ||
                    !same_state(c, st, rst, why, sizeof why))
                    fail_msg("-O%d index %a: engines differ: %s", opt, IS[k], why);
            }
        remove_ok(fx->j, &fn);
        pop_vs_interp(fx->j, c, opt, "ring");
    }
    /* known answers: slot 0 holds 1, so index -1 reads 1 */
    ir_circuit *bad = ir_new(a, "unit", "bad", 1);
    builder B2 = { a, bad };
    ir_add_var(a, bad, IR_BLOCK_IN, "i", IR_F64, 0, NULL);
    ir_add_var(a, bad, IR_BLOCK_STATE, "s", IR_F64, 0, NULL);
    uint32_t bi = E(&B2, IR_INPUT, IR_F64, 0, 0, 0);
    OUT(&B2, "y", IR_F64, ir_emit(a, bad, (ir_inst){ .op = IR_LOADX, .type = IR_F64, .a = bi,
                                                    .slot = 0, .imm = 2 }));
    ir_layout(bad);
    const char *err = ir_verify(a, bad);
    assert_non_null(err); /* the range runs past the state block */
    assert_non_null(strstr(err, "range"));
}

static void test_status(void **state)
{
    fixture *fx = *state;
    arena *a = &scratch;
    static const double XS[] = { 0.5, 0.0, 1.0, -0.0, 1.5, -1e-310, NAN, INFINITY, -INFINITY };
    for (int mode = RET_NONE; mode <= RET_CONST; mode++)
        for (int konst = 0; konst < (mode == RET_CONST ? 3 : 1); konst++)
            for (int opt = 0; opt <= 2; opt += 2) {
                ir_circuit *c = build_status(a, mode, konst);
                assert_null(ir_verify(a, c));
                jit_fn fn = compile_ok(fx->j, c, opt);
                interp *ip = new_interp(c);
                unsigned char *st = block(c->state_size), *ist = block(c->state_size);
                unsigned char *in = block(c->in_size), *out = block(c->out_size),
                              *iout = block(c->out_size);
                fn.init(st);
                interp_init(ip, ist);
                for (size_t k = 0; k < sizeof XS / sizeof XS[0]; k++)
                    for (unsigned char fb = 0; fb < 3; fb++) {
                        wr_f64(in, c->inputs[0].offset, XS[k]);
                        in[c->inputs[1].offset] = fb; /* byte 2 is true too */
                        int want = mode == RET_FLAG      ? fb != 0
                                   : mode == RET_INVALID ? !(XS[k] >= 0 && XS[k] <= 1)
                                   : mode == RET_CONST   ? konst != 0
                                                         : 0;
                        double before = rd_f64(st, c->state[0].offset);
                        int js = fn.step(st, in, out), is = interp_step(ip, ist, in, iout);
                        if (js != want || is != want)
                            fail_msg("mode %d -O%d x = %a f = %d: status JIT %d, interpreter "
                                     "%d, expected %d", mode, opt, XS[k], fb, js, is, want);
                        char why[256];
                        if (!same_out(c, out, iout, why, sizeof why) ||
                            !same_state(c, st, ist, why, sizeof why))
                            fail_msg("mode %d -O%d: JIT and interpreter differ: %s", mode, opt,
                                     why);
                        /* outputs are written either way; state only when valid */
                        assert_true(same_f64(out_f64(c, out, "y"), XS[k]));
                        if (want)
                            assert_true(same_f64(rd_f64(st, c->state[0].offset), before));
                    }
                remove_ok(fx->j, &fn);
            }
}

/* ---- jit_remove, then compile again ------------------------------------ */

/* out = x * k + pre(out); the constant k tells compiles apart. */
static ir_circuit *build_scaled(arena *a, double k)
{
    builder B = { a, ir_new(a, "unit", "scaled", 1) }, *b = &B;
    ir_add_var(a, b->c, IR_BLOCK_IN, "x", IR_F64, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_STATE, "prev", IR_F64, 0.5, NULL);
    uint32_t x = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    uint32_t p = E(b, IR_LOAD, IR_F64, 0, 0, 0);
    uint32_t r = E(b, IR_ADD, IR_F64, E(b, IR_MUL, IR_F64, x, K(b, IR_F64, k), 0), p, 0);
    OUT(b, "y", IR_F64, r);
    STORE(b, 0, IR_F64, r);
    ir_layout(b->c);
    return b->c;
}

static double step_scaled(const jit_fn *fn, double x)
{
    _Alignas(16) unsigned char st[16], in[16], out[16];
    fn->init(st);
    wr_f64(in, 0, x);
    fn->step(st, in, out);
    return rd_f64(out, 0);
}

static void test_remove_and_recompile(void **state)
{
    fixture *fx = *state;
    arena *a = &scratch;
    ir_circuit *c2 = build_scaled(a, 2.0), *c3 = build_scaled(a, 3.0);
    assert_null(ir_verify(a, c2));

    jit_fn f2 = compile_ok(fx->j, c2, 2);
    jit_fn f2b = compile_ok(fx->j, c2, 2); /* same circuit twice: shared code, counted */
    assert_ptr_equal(f2.step, f2b.step);
    assert_ptr_equal(f2.unit, f2b.unit);
    assert_true(step_scaled(&f2, 4.0) == 8.5);
    assert_true(step_scaled(&f2b, 4.0) == 8.5);

    /* Removing one leaves the other working. */
    remove_ok(fx->j, &f2);
    assert_true(step_scaled(&f2b, 1.0) == 2.5);

    /* Redefine: the new code computes the new thing. */
    jit_fn f3 = compile_ok(fx->j, c3, 0);
    assert_true(step_scaled(&f3, 4.0) == 12.5);
    assert_true(step_scaled(&f2b, 4.0) == 8.5);
    remove_ok(fx->j, &f2b);
    assert_true(step_scaled(&f3, -1.0) == -2.5);

    /* Removing an already cleared fn is harmless. */
    char *err = NULL;
    assert_int_equal(jit_remove(fx->j, &f2, &err), 0);
    assert_null(err);

    /* Many compile/remove cycles (a REPL redefining a circuit). */
    for (int i = 0; i < 20; i++) {
        jit_fn f = compile_ok(fx->j, i % 2 ? c2 : c3, i % 3 == 0 ? 0 : 2);
        assert_true(step_scaled(&f, 2.0) == (i % 2 ? 4.5 : 6.5));
        remove_ok(fx->j, &f);
    }
    remove_ok(fx->j, &f3);
}

/* A jit of its own, for tests that change its settings. */
static jit *new_jit(void)
{
    char *err = NULL;
    jit *j = jit_create(&err);
    if (!j) {
        char msg[600];
        snprintf(msg, sizeof msg, "jit_create: %s", err ? err : "?");
        free(err);
        fail_msg("%s", msg);
    }
    return j;
}

/* jit_compile_many shares its circuits out among threads, one object each:
 * every circuit computes what it says whatever the count, a share's code
 * lives until its last circuit is removed, and one malformed circuit fails
 * the whole call with every fn cleared. */
static void test_compile_many_threads(void **state)
{
    (void)state;
    arena *a = &scratch;
    enum { N = 7 };
    ir_circuit *cs[N];
    for (int i = 0; i < N; i++)
        cs[i] = build_scaled(a, i + 1.0);
    for (int threads = 1; threads <= 3; threads += 2) {
        char *err = NULL;
        jit *j = new_jit();
        jit_set_cache(j, 0); /* every circuit through LLVM */
        jit_set_threads(j, threads);
        jit_fn fns[N];
        assert_int_equal(jit_compile_many(j, cs, N, 2, fns, &err), 0);
        assert_null(err);
        int units = 0;
        for (int i = 0; i < N; i++) {
            assert_true(step_scaled(&fns[i], 2.0) == 2.0 * (i + 1) + 0.5);
            int seen = 0;
            for (int k = 0; k < i; k++)
                seen |= fns[k].unit == fns[i].unit;
            units += !seen;
        }
        assert_int_equal(units, threads);
        for (int i = 0; i < N - 1; i++)
            remove_ok(j, &fns[i]);
        assert_true(step_scaled(&fns[N - 1], 1.0) == N + 0.5);
        remove_ok(j, &fns[N - 1]);

        /* One circuit LLVM cannot be given: nothing is kept. */
        ir_circuit *bad = build_scaled(a, 9.0);
        for (uint32_t k = 0; k < bad->n_code; k++)
            if (bad->code[k].op == IR_MUL)
                bad->code[k].op = (ir_op)250;
        ir_circuit *mixed[N];
        memcpy(mixed, cs, sizeof mixed);
        mixed[N / 2] = bad;
        assert_int_equal(jit_compile_many(j, mixed, N, 2, fns, &err), -1);
        assert_non_null(err);
        assert_non_null(strstr(err, "malformed"));
        free(err);
        err = NULL;
        for (int i = 0; i < N; i++)
            assert_null(fns[i].unit);
        /* A share that fails after others were linked: they go too. */
        for (int fail = 1; fail < threads; fail++) {
            jit_test_fail_share(j, fail);
            assert_int_equal(jit_compile_many(j, cs, N, 2, fns, &err), -1);
            assert_non_null(err);
            free(err);
            err = NULL;
            for (int i = 0; i < N; i++)
                assert_null(fns[i].unit);
        }
        jit_test_fail_share(j, 0);
        assert_int_equal(jit_compile_many(j, cs, N, 2, fns, &err), 0);
        assert_true(step_scaled(&fns[2], 1.0) == 3.5);
        jit_destroy(j); /* with the code still loaded */
    }
}

/* The lanes are made when a population first needs them: not by the
 * compile, not for fewer instances than a group (four, or eight with
 * AVX-512), once per circuit (kept with
 * the cached object, linked again after a remove), and the same answers. */
static int step_pop_scaled(const jit_fn *fn, size_t n, double x)
{
    _Alignas(16) unsigned char st[16 * 9] = { 0 }, in[16 * 9] = { 0 }, out[16 * 9] = { 0 };
    for (size_t i = 0; i < n; i++) {
        fn->init(st + 8 * i);
        wr_f64(in, 8 * i, x + (double)i);
    }
    fn->step_n(st, n, in, out);
    for (size_t i = 0; i < n; i++)
        if (rd_f64(out, 8 * i) != 2.0 * (x + (double)i) + 0.5)
            return 0;
    return 1;
}

static void test_lazy_lanes(void **state)
{
    (void)state;
    jit *j = new_jit();
    ir_circuit *c = build_scaled(&scratch, 2.0);
    unsigned long made, linked;
    jit_fn f = compile_ok(j, c, 2);
    jit_lanes_counts(j, &made, &linked);
    assert_int_equal(made, 0);
    assert_true(step_pop_scaled(&f, 3, 1.0)); /* too few for lanes */
    char *err = NULL;
    cg_target *host = cg_target_host(&err);
    assert_non_null(host);
    size_t group = cg_target_lanes(host);
    cg_target_free(host);
    assert_true(step_pop_scaled(&f, group - 1, 1.0)); /* one short of a group */
    jit_lanes_counts(j, &made, &linked);
    assert_int_equal(made, 0);
    assert_true(step_pop_scaled(&f, 9, 1.0));
    jit_lanes_counts(j, &made, &linked);
    assert_int_equal(made, 1);
    assert_int_equal(linked, 1);
    assert_true(step_pop_scaled(&f, 4, -2.0)); /* straight through them now */
    assert_true(step_pop_scaled(&f, 2, 5.0));
    jit_lanes_counts(j, &made, &linked);
    assert_int_equal(linked, 1);

    /* The same circuit again shares the code and its lanes. */
    jit_fn g = compile_ok(j, c, 2);
    assert_ptr_equal(g.step_n, f.step_n);
    remove_ok(j, &f);
    assert_true(step_pop_scaled(&g, 8, 0.5));
    remove_ok(j, &g);
    /* Removed, then from the cache: linked again, not made again. */
    g = compile_ok(j, c, 2);
    assert_true(step_pop_scaled(&g, 9, 3.0));
    jit_lanes_counts(j, &made, &linked);
    assert_int_equal(made, 1);
    assert_int_equal(linked, 2);

    /* Without lanes, none are made. */
    jit_set_lanes(j, 0);
    jit_fn h = compile_ok(j, build_scaled(&scratch, 2.0), 2);
    assert_true(step_pop_scaled(&h, 9, 1.0));
    jit_lanes_counts(j, &made, &linked);
    assert_int_equal(made, 1);
    remove_ok(j, &h);
    jit_destroy(j); /* g and its lanes still loaded */
}

/* Two threads stepping the same new population code at once: one makes
 * the lanes, both get the right answers. */
typedef struct pop_job {
    const jit_fn *fn;
    int ok;
} pop_job;

static int pop_thread(void *arg)
{
    pop_job *p = arg;
    p->ok = 1;
    for (int r = 0; r < 50; r++)
        p->ok &= step_pop_scaled(p->fn, 4 + (size_t)r % 6, r * 0.25);
    return 0;
}

static void test_lazy_lanes_threads(void **state)
{
    (void)state;
    jit *j = new_jit();
    jit_fn f = compile_ok(j, build_scaled(&scratch, 2.0), 2);
    pop_job a = { &f, 0 }, b = { &f, 0 };
    thrd_t ta, tb;
    assert_int_equal(thrd_create(&ta, pop_thread, &a), thrd_success);
    assert_int_equal(thrd_create(&tb, pop_thread, &b), thrd_success);
    thrd_join(ta, NULL);
    thrd_join(tb, NULL);
    assert_true(a.ok && b.ok);
    unsigned long made, linked;
    jit_lanes_counts(j, &made, &linked);
    assert_int_equal(made, 1);
    assert_int_equal(linked, 1);
    jit_destroy(j);
}

/* A separate JIT for the plain x86-64 CPU (the portable baseline) must give
 * the same answers as the host's; also jit_destroy with code still loaded. */
static void test_baseline_cpu_jit(void **state)
{
    fixture *fx = *state;
#if defined(__x86_64__)
    char *err = NULL;
    jit *j = jit_create_cpu("x86-64", NULL, &err);
    if (!j) {
        char msg[600];
        snprintf(msg, sizeof msg, "jit_create_cpu: %s", err ? err : "?");
        free(err);
        fail_msg("%s", msg);
    }
    const ir_circuit *c = fx->all_ops;
    jit_fn fb = compile_ok(j, c, 2), fh = compile_ok(fx->j, c, 2);
    unsigned char *sb = block(c->state_size), *sh = block(c->state_size);
    unsigned char *in = block(c->in_size), *ob = block(c->out_size), *oh = block(c->out_size);
    char why[256];
    fb.init(sb);
    fh.init(sh);
    for (size_t k = 0; k < sizeof TICKS / sizeof TICKS[0]; k++) {
        set_in(c, in, &TICKS[k]);
        fb.step(sb, in, ob);
        fh.step(sh, in, oh);
        if (!same_out(c, ob, oh, why, sizeof why))
            fail_msg("tick %zu: x86-64 and host code differ: %s", k, why);
        if (!same_state(c, sb, sh, why, sizeof why))
            fail_msg("tick %zu: x86-64 and host state differ: %s", k, why);
    }
    remove_ok(fx->j, &fh);
    jit_destroy(j); /* fb still loaded: destroy frees it */
#else
    (void)fx;
    skip();
#endif
}

/* ---- degenerate circuits ----------------------------------------------- */

static void test_empty_circuit(void **state)
{
    fixture *fx = *state;
    arena *a = &scratch;
    ir_circuit *c = ir_new(a, "unit", "empty", 1);
    ir_layout(c);
    assert_int_equal(c->in_size, 0);
    assert_int_equal(c->out_size, 0);
    assert_int_equal(c->state_size, 0);
    assert_null(ir_verify(a, c));
    for (int opt = 0; opt <= 2; opt += 2) {
        jit_fn fn = compile_ok(fx->j, c, opt);
        _Alignas(16) unsigned char st[16], in[16], out[16];
        memset(st, 0x77, sizeof st);
        memset(out, 0x77, sizeof out);
        fn.init(st);
        fn.step(st, in, out);
        /* Nothing may be written outside zero-sized blocks. */
        for (size_t i = 0; i < sizeof st; i++) {
            assert_int_equal(st[i], 0x77);
            assert_int_equal(out[i], 0x77);
        }
        remove_ok(fx->j, &fn);
    }
    interp *ip = new_interp(c);
    _Alignas(16) unsigned char st[8] = { 0 };
    interp_init(ip, st);
    interp_step(ip, st, NULL, NULL);

    /* Only params and dead arithmetic: still no in/out/state slots. */
    ir_circuit *p = ir_new(a, "unit", "params-only", 1);
    ir_add_var(a, p, IR_BLOCK_PARAM, "k", IR_F64, 4.0, NULL);
    ir_add_var(a, p, IR_BLOCK_PARAM, "on", IR_BOOL, 1, NULL);
    builder B = { a, p };
    E(&B, IR_ADD, IR_F64, E(&B, IR_PARAM, IR_F64, 0, 0, 0), K(&B, IR_F64, 1), 0);
    ir_layout(p);
    assert_int_equal(p->state_size, 16);
    assert_null(ir_verify(a, p));
    jit_fn fn = compile_ok(fx->j, p, 2);
    _Alignas(16) unsigned char js[16], is[16], in[8], out[8];
    memset(js, 0xEE, sizeof js);
    memset(is, 0x11, sizeof is);
    fn.init(js);
    ip = new_interp(p);
    interp_init(ip, is);
    assert_memory_equal(js, is, sizeof js);
    assert_true(rd_f64(js, p->params[0].offset) == 4.0);
    assert_int_equal(js[p->params[1].offset], 1);
    fn.step(js, in, out);
    interp_step(ip, is, in, out);
    assert_memory_equal(js, is, sizeof js);
    remove_ok(fx->j, &fn);
}

/* ---- ir_verify and malformed IR ----------------------------------------- */

static ir_circuit *small(arena *a, builder *b)
{
    b->a = a;
    b->c = ir_new(a, "unit", "bad", 1);
    ir_add_var(a, b->c, IR_BLOCK_IN, "x", IR_F64, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_IN, "f", IR_BOOL, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_OUT, "y", IR_F64, 0, NULL);
    ir_add_var(a, b->c, IR_BLOCK_STATE, "s", IR_F64, 0, NULL);
    return b->c;
}

static void expect_invalid(arena *a, ir_circuit *c, const char *needle)
{
    ir_layout(c);
    const char *msg = ir_verify(a, c);
    if (!msg)
        fail_msg("ir_verify accepted malformed IR (expected '%s')", needle);
    if (!strstr(msg, needle))
        fail_msg("ir_verify said '%s', expected it to mention '%s'", msg, needle);
}

static void test_verify_accepts_valid(void **state)
{
    fixture *fx = *state;
    arena *a = &scratch;
    builder B;
    ir_circuit *c = small(a, &B);
    uint32_t x = E(&B, IR_INPUT, IR_F64, 0, 0, 0);
    uint32_t s = E(&B, IR_LOAD, IR_F64, 0, 0, 0);
    OUT(&B, "unused", IR_BOOL, E(&B, IR_INPUT, IR_BOOL, 1, 0, 0));
    ir_emit(a, c, (ir_inst){ .op = IR_OUTPUT, .type = IR_F64, .a = E(&B, IR_ADD, IR_F64, x, s, 0), .slot = 0 });
    STORE(&B, 0, IR_F64, x);
    ir_layout(c);
    assert_null(ir_verify(a, c));
    assert_null(ir_verify(a, fx->all_ops));
}

static void test_verify_use_before_def(void **state)
{
    (void)state;
    arena *a = &scratch;
    builder B;
    ir_circuit *c = small(a, &B);
    /* %0 = add %1, %1 — its operand is defined later */
    uint32_t v = E(&B, IR_ADD, IR_F64, 1, 1, 0);
    E(&B, IR_INPUT, IR_F64, 0, 0, 0);
    ir_emit(a, c, (ir_inst){ .op = IR_OUTPUT, .type = IR_F64, .a = v, .slot = 0 });
    expect_invalid(a, c, "before");

    /* an operand referring to itself */
    c = small(a, &B);
    uint32_t self = E(&B, IR_NEG, IR_F64, 0, 0, 0);
    ir_emit(a, c, (ir_inst){ .op = IR_OUTPUT, .type = IR_F64, .a = self, .slot = 0 });
    expect_invalid(a, c, "before");

    /* an operand out of range altogether */
    c = small(a, &B);
    ir_emit(a, c, (ir_inst){ .op = IR_OUTPUT, .type = IR_F64, .a = 999, .slot = 0 });
    expect_invalid(a, c, "before");

    /* a store_if guarded by a real */
    c = small(a, &B);
    ir_add_var(a, c, IR_BLOCK_STATE, "g", IR_F64, 0, NULL);
    uint32_t gx = E(&B, IR_INPUT, IR_F64, 0, 0, 0);
    ir_emit(a, c, (ir_inst){ .op = IR_OUTPUT, .type = IR_F64, .a = gx, .slot = 0 });
    ir_emit(a, c, (ir_inst){ .op = IR_STORE_IF, .type = IR_F64, .a = gx, .b = gx, .slot = 0 });
    expect_invalid(a, c, "guard");

    /* an operand that is an effect (no value) */
    c = small(a, &B);
    uint32_t x = E(&B, IR_INPUT, IR_F64, 0, 0, 0);
    uint32_t st = ir_emit(a, c, (ir_inst){ .op = IR_STORE, .type = IR_F64, .a = x, .slot = 0 });
    ir_emit(a, c, (ir_inst){ .op = IR_OUTPUT, .type = IR_F64, .a = st, .slot = 0 });
    expect_invalid(a, c, "no value");
}

static void test_verify_outputs(void **state)
{
    (void)state;
    arena *a = &scratch;
    builder B;
    ir_circuit *c = small(a, &B);
    uint32_t x = E(&B, IR_INPUT, IR_F64, 0, 0, 0);
    ir_emit(a, c, (ir_inst){ .op = IR_OUTPUT, .type = IR_F64, .a = x, .slot = 0 });
    ir_emit(a, c, (ir_inst){ .op = IR_OUTPUT, .type = IR_F64, .a = x, .slot = 0 });
    expect_invalid(a, c, "twice");

    c = small(a, &B); /* never written */
    E(&B, IR_INPUT, IR_F64, 0, 0, 0);
    expect_invalid(a, c, "never written");

    c = small(a, &B); /* output index out of range */
    x = E(&B, IR_INPUT, IR_F64, 0, 0, 0);
    ir_emit(a, c, (ir_inst){ .op = IR_OUTPUT, .type = IR_F64, .a = x, .slot = 0 });
    ir_emit(a, c, (ir_inst){ .op = IR_OUTPUT, .type = IR_F64, .a = x, .slot = 5 });
    expect_invalid(a, c, "bad output");
}

typedef void (*make_fn)(builder *b);

static void bad_add_bool(builder *b)
{
    uint32_t f = E(b, IR_INPUT, IR_BOOL, 1, 0, 0);
    uint32_t x = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    OUT(b, "r", IR_F64, E(b, IR_ADD, IR_F64, x, f, 0));
}
static void bad_output_type(builder *b)
{
    OUT(b, "r", IR_F64, K(b, IR_F64, 1));
    uint32_t k = K(b, IR_BOOL, 1);
    ir_emit(b->a, b->c, (ir_inst){ .op = IR_OUTPUT, .type = IR_F64, .a = k, .slot = 0 }); /* y is real */
}
static void bad_lt_bools(builder *b)
{
    uint32_t f = E(b, IR_INPUT, IR_BOOL, 1, 0, 0);
    OUT(b, "r", IR_BOOL, E(b, IR_LT, IR_BOOL, f, f, 0));
}
static void bad_lt_result(builder *b)
{
    uint32_t x = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    OUT(b, "r", IR_F64, E(b, IR_LT, IR_F64, x, x, 0));
}
static void bad_eq_mixed(builder *b)
{
    uint32_t f = E(b, IR_INPUT, IR_BOOL, 1, 0, 0);
    uint32_t x = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    OUT(b, "r", IR_BOOL, E(b, IR_EQ, IR_BOOL, x, f, 0));
}
static void bad_not_real(builder *b)
{
    uint32_t x = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    OUT(b, "r", IR_BOOL, E(b, IR_NOT, IR_BOOL, x, 0, 0));
}
static void bad_and_real(builder *b)
{
    uint32_t f = E(b, IR_INPUT, IR_BOOL, 1, 0, 0);
    uint32_t x = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    OUT(b, "r", IR_BOOL, E(b, IR_AND, IR_BOOL, f, x, 0));
}
static void bad_neg_bool(builder *b)
{
    uint32_t f = E(b, IR_INPUT, IR_BOOL, 1, 0, 0);
    OUT(b, "r", IR_F64, E(b, IR_NEG, IR_F64, f, 0, 0));
}
static void bad_select_cond(builder *b)
{
    uint32_t x = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    OUT(b, "r", IR_F64, E(b, IR_SELECT, IR_F64, x, x, x));
}
static void bad_select_arms(builder *b)
{
    uint32_t f = E(b, IR_INPUT, IR_BOOL, 1, 0, 0);
    uint32_t x = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    OUT(b, "r", IR_F64, E(b, IR_SELECT, IR_F64, f, x, f));
}
static void bad_input_type(builder *b)
{
    OUT(b, "r", IR_BOOL, E(b, IR_INPUT, IR_BOOL, 0, 0, 0)); /* x is real */
}
static void bad_input_index(builder *b)
{
    OUT(b, "r", IR_F64, E(b, IR_INPUT, IR_F64, 7, 0, 0));
}
static void bad_load_type(builder *b)
{
    OUT(b, "r", IR_BOOL, E(b, IR_LOAD, IR_BOOL, 0, 0, 0)); /* s is real */
}
static void bad_param_index(builder *b)
{
    OUT(b, "r", IR_F64, E(b, IR_PARAM, IR_F64, 0, 0, 0)); /* there are no params */
}
static void bad_store_type(builder *b)
{
    uint32_t f = E(b, IR_INPUT, IR_BOOL, 1, 0, 0);
    OUT(b, "r", IR_F64, K(b, IR_F64, 0));
    STORE(b, 0, IR_F64, f);
}
static void bad_store_slot(builder *b)
{
    uint32_t x = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    OUT(b, "r", IR_F64, x);
    STORE(b, 3, IR_F64, x);
}

static void bad_math_bool(builder *b)
{
    uint32_t f = E(b, IR_INPUT, IR_BOOL, 1, 0, 0);
    OUT(b, "r", IR_F64, E(b, IR_EXP, IR_F64, f, 0, 0));
}
static void bad_math_result(builder *b)
{
    uint32_t x = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    OUT(b, "r", IR_BOOL, E(b, IR_SQRT, IR_BOOL, x, 0, 0));
}
static void bad_return_real(builder *b)
{
    uint32_t x = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    OUT(b, "r", IR_F64, x);
    ir_emit(b->a, b->c, (ir_inst){ .op = IR_RETURN, .type = IR_BOOL, .a = x });
}
static void bad_two_returns(builder *b)
{
    uint32_t f = E(b, IR_INPUT, IR_BOOL, 1, 0, 0);
    OUT(b, "r", IR_F64, E(b, IR_INPUT, IR_F64, 0, 0, 0));
    ir_emit(b->a, b->c, (ir_inst){ .op = IR_RETURN, .type = IR_BOOL, .a = f });
    ir_emit(b->a, b->c, (ir_inst){ .op = IR_RETURN, .type = IR_BOOL, .a = f });
}

static void test_verify_types(void **state)
{
    fixture *fx = *state;
    static const struct {
        const char *name;
        make_fn make;
    } cases[] = {
        { "add of a bool", bad_add_bool },
        { "bool written to a real output", bad_output_type },
        { "lt of bools", bad_lt_bools },
        { "lt with a real result", bad_lt_result },
        { "eq of real and bool", bad_eq_mixed },
        { "not of a real", bad_not_real },
        { "and of a real", bad_and_real },
        { "neg of a bool", bad_neg_bool },
        { "select on a real", bad_select_cond },
        { "select arms of two types", bad_select_arms },
        { "input of the wrong type", bad_input_type },
        { "input index out of range", bad_input_index },
        { "load of the wrong type", bad_load_type },
        { "param index out of range", bad_param_index },
        { "bool stored in a real slot", bad_store_type },
        { "store slot out of range", bad_store_slot },
        { "exp of a bool", bad_math_bool },
        { "sqrt with a bool result", bad_math_result },
        { "return of a real", bad_return_real },
        { "two returns", bad_two_returns },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        arena *a = &scratch;
        builder B = { a, ir_new(a, "unit", "bad", 1) };
        ir_add_var(a, B.c, IR_BLOCK_IN, "x", IR_F64, 0, NULL);
        ir_add_var(a, B.c, IR_BLOCK_IN, "f", IR_BOOL, 0, NULL);
        ir_add_var(a, B.c, IR_BLOCK_STATE, "s", IR_F64, 0, NULL);
        if (cases[i].make == bad_output_type)
            ir_add_var(a, B.c, IR_BLOCK_OUT, "y", IR_F64, 0, NULL);
        cases[i].make(&B);
        ir_layout(B.c);
        const char *msg = ir_verify(a, B.c);
        if (!msg)
            fail_msg("ir_verify accepted: %s", cases[i].name);
        assert_true(msg[0] != 0);
        /* The back end must refuse it too rather than emit nonsense. */
        jit_fn fn;
        char *err = NULL;
        int rc = jit_compile(fx->j, B.c, 2, &fn, &err);
        if (rc == 0) {
            remove_ok(fx->j, &fn);
            fail_msg("jit_compile accepted: %s", cases[i].name);
        }
        assert_non_null(err);
        assert_null(fn.step);
        free(err);
    }
}

/* The messages name the problem; printing shows the new instructions. */
static void test_verify_math_and_return(void **state)
{
    (void)state;
    arena *a = &scratch;
    builder B;
    for (int i = 0; i < N_MATH; i++) {
        ir_circuit *c = small(a, &B);
        uint32_t f = E(&B, IR_INPUT, IR_BOOL, 1, 0, 0);
        ir_emit(a, c, (ir_inst){ .op = IR_OUTPUT, .type = IR_F64, .slot = 0,
                                 .a = E(&B, MATH_OPS[i].op, IR_F64, f, 0, 0) });
        char needle[32];
        snprintf(needle, sizeof needle, "%s needs real", MATH_OPS[i].name);
        expect_invalid(a, c, needle);
        assert_string_equal(ir_op_name(MATH_OPS[i].op), MATH_OPS[i].name);
        assert_int_equal(ir_n_operands(MATH_OPS[i].op), 1);
        assert_true(ir_has_result(MATH_OPS[i].op));
    }
    assert_int_equal(ir_n_operands(IR_RETURN), 1);
    assert_false(ir_has_result(IR_RETURN));

    ir_circuit *c = small(a, &B);
    uint32_t x = E(&B, IR_INPUT, IR_F64, 0, 0, 0);
    uint32_t f = E(&B, IR_INPUT, IR_BOOL, 1, 0, 0);
    ir_emit(a, c, (ir_inst){ .op = IR_RETURN, .type = IR_BOOL, .a = f });
    ir_emit(a, c, (ir_inst){ .op = IR_OUTPUT, .type = IR_F64, .a = x, .slot = 0 });
    ir_emit(a, c, (ir_inst){ .op = IR_RETURN, .type = IR_BOOL, .a = f });
    expect_invalid(a, c, "second return");

    c = small(a, &B);
    x = E(&B, IR_INPUT, IR_F64, 0, 0, 0);
    ir_emit(a, c, (ir_inst){ .op = IR_RETURN, .type = IR_BOOL, .a = x });
    ir_emit(a, c, (ir_inst){ .op = IR_OUTPUT, .type = IR_F64, .a = x, .slot = 0 });
    expect_invalid(a, c, "return needs bool");

    /* a return's "value" is no operand */
    c = small(a, &B);
    f = E(&B, IR_INPUT, IR_BOOL, 1, 0, 0);
    uint32_t r = ir_emit(a, c, (ir_inst){ .op = IR_RETURN, .type = IR_BOOL, .a = f });
    OUT(&B, "g", IR_BOOL, E(&B, IR_NOT, IR_BOOL, r, 0, 0));
    ir_emit(a, c, (ir_inst){ .op = IR_OUTPUT, .type = IR_F64, .a = K(&B, IR_F64, 1), .slot = 0 });
    expect_invalid(a, c, "no value");

    /* one return, and math, print as such */
    c = small(a, &B);
    x = E(&B, IR_INPUT, IR_F64, 0, 0, 0);
    f = E(&B, IR_INPUT, IR_BOOL, 1, 0, 0);
    ir_emit(a, c, (ir_inst){ .op = IR_OUTPUT, .type = IR_F64, .slot = 0,
                             .a = E(&B, IR_TANH, IR_F64, x, 0, 0) });
    ir_emit(a, c, (ir_inst){ .op = IR_RETURN, .type = IR_BOOL, .a = f });
    ir_layout(c);
    assert_null(ir_verify(a, c));
    char *text = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&text, &len);
    assert_non_null(mf);
    ir_print(mf, c);
    fclose(mf);
    assert_non_null(strstr(text, "  %2 = tanh real %0\n"));
    assert_non_null(strstr(text, "  return %1\n"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_all_ops_O0, scratch_teardown),
        cmocka_unit_test_teardown(test_all_ops_O2, scratch_teardown),
        cmocka_unit_test_teardown(test_sweep_O0, scratch_teardown),
        cmocka_unit_test_teardown(test_sweep_O2, scratch_teardown),
        cmocka_unit_test_teardown(test_no_contraction_in_module, scratch_teardown),
        cmocka_unit_test_teardown(test_population_lanes, scratch_teardown),
        cmocka_unit_test_teardown(test_lanes_in_module, scratch_teardown),
        cmocka_unit_test_teardown(test_lanes_columns, scratch_teardown),
        cmocka_unit_test_teardown(test_lanes_width, scratch_teardown),
        cmocka_unit_test_teardown(test_lanes_columns_eight, scratch_teardown),
        cmocka_unit_test_teardown(test_ring_runs_branch_once, scratch_teardown),
        cmocka_unit_test_teardown(test_math_O0, scratch_teardown),
        cmocka_unit_test_teardown(test_math_O2, scratch_teardown),
        cmocka_unit_test_teardown(test_math_baseline_cpu, scratch_teardown),
        cmocka_unit_test_teardown(test_math_calls_kept, scratch_teardown),
        cmocka_unit_test_teardown(test_status, scratch_teardown),
        cmocka_unit_test_teardown(test_ring, scratch_teardown),
        cmocka_unit_test_teardown(test_verify_math_and_return, scratch_teardown),
        cmocka_unit_test_teardown(test_remove_and_recompile, scratch_teardown),
        cmocka_unit_test_teardown(test_baseline_cpu_jit, scratch_teardown),
        cmocka_unit_test_teardown(test_compile_many_threads, scratch_teardown),
        cmocka_unit_test_teardown(test_lazy_lanes, scratch_teardown),
        cmocka_unit_test_teardown(test_lazy_lanes_threads, scratch_teardown),
        cmocka_unit_test_teardown(test_empty_circuit, scratch_teardown),
        cmocka_unit_test_teardown(test_verify_accepts_valid, scratch_teardown),
        cmocka_unit_test_teardown(test_verify_use_before_def, scratch_teardown),
        cmocka_unit_test_teardown(test_verify_outputs, scratch_teardown),
        cmocka_unit_test_teardown(test_verify_types, scratch_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
