/* test_math.c — drive's own exp, expm1 and tanh (runtime/rt_math.h).
 *
 * The C functions are the specification (the interpreter and the constant
 * folder call them); the compiled code (compiler/cgmath.c) must give their
 * bits exactly, as a scalar in step (a call of the C function in the JIT,
 * or the code itself with DRIVE_CG_MATH=inline, as in a shared object) and
 * as a vector in step_n's lanes, on this CPU at -O0 and -O2 (eight lanes
 * with AVX-512, and four), and on plain x86-64 at -O2, over a million
 * arguments of every kind. The C functions themselves are checked for
 * their special values and for their accuracy against long double.
 */
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
#include "drive_abi.h"
#include "ir.h"
#include "ir_build.h"
#include "jit.h"
#include "rt_math.h"

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double uniform(double lo, double hi) { return lo + (hi - lo) * ((double)(next() >> 11) * 0x1p-53); }

/* The k-th test argument: a mix of every bit pattern (every exponent,
 * NaNs, infinities, subnormals), the working ranges, and the edges where
 * the algorithm changes its path. */
static double argument(long k)
{
    static const double EDGES[] = {
        RT_MATH_EXP_HI, RT_MATH_EXP_LO, RT_MATH_EXPM1_LO, RT_MATH_TINY, -RT_MATH_TINY,
        RT_MATH_TANH_MID, -RT_MATH_TANH_MID, 709.782712893384, -745.1332191019411,
        -708.3964185322641, 0.34657359027997264, -0.34657359027997264, 1.0397207708399179,
        37.42994775023705, -37.42994775023705, 0.0, 1.0, -1.0, 22.0,
    };
    enum { NE = sizeof EDGES / sizeof EDGES[0] };
    uint64_t u;
    double x;
    switch (k % 8) {
    case 0: u = next(); memcpy(&x, &u, sizeof x); return x;
    case 1: return uniform(-750, 750);
    case 2: return uniform(-2, 2);
    case 3: return uniform(-45, 45);
    case 4: return ldexp(uniform(-1, 1), -(int)(next() % 70));
    case 5: return nextafter(EDGES[next() % NE], (next() & 1) ? INFINITY : -INFINITY);
    case 6: x = EDGES[next() % NE]; return (next() & 1) ? x : -x;
    default: return uniform(-1, 1) + (double)((int64_t)(next() % 200) - 100) * 0.6931471805599453;
    }
}

/* ---- the C functions --------------------------------------------------- */

static void test_special_values(void **state)
{
    (void)state;
    static const struct {
        double (*f)(double);
        const char *name;
        double x, want;
    } cases[] = {
        { rt_exp, "exp", 0.0, 1.0 },           { rt_exp, "exp", -0.0, 1.0 },
        { rt_exp, "exp", INFINITY, INFINITY }, { rt_exp, "exp", -INFINITY, 0.0 },
        { rt_exp, "exp", 709.79, INFINITY },   { rt_exp, "exp", 1e308, INFINITY },
        { rt_exp, "exp", -745.14, 0.0 },       { rt_exp, "exp", -1e308, 0.0 },
        { rt_exp, "exp", -745.13, 0x1p-1074 }, { rt_exp, "exp", 0x1p-1074, 1.0 },
        { rt_exp, "exp", 0x1p-60, 1.0 },       { rt_exp, "exp", -0x1p-60, 1.0 },
        { rt_exp, "exp", 709.78, 0x1.fe9ce5c4c52b4p+1023 },
        { rt_expm1, "expm1", 0.0, 0.0 },       { rt_expm1, "expm1", -0.0, -0.0 },
        { rt_expm1, "expm1", INFINITY, INFINITY }, { rt_expm1, "expm1", -INFINITY, -1.0 },
        { rt_expm1, "expm1", 710.0, INFINITY }, { rt_expm1, "expm1", -40.0, -1.0 },
        { rt_expm1, "expm1", -1e308, -1.0 },    { rt_expm1, "expm1", 0x1p-1074, 0x1p-1074 },
        { rt_expm1, "expm1", -0x1p-1022, -0x1p-1022 }, { rt_expm1, "expm1", 0x1p-55, 0x1p-55 },
        { rt_tanh, "tanh", 0.0, 0.0 },         { rt_tanh, "tanh", -0.0, -0.0 },
        { rt_tanh, "tanh", INFINITY, 1.0 },    { rt_tanh, "tanh", -INFINITY, -1.0 },
        { rt_tanh, "tanh", 20.0, 1.0 },        { rt_tanh, "tanh", -400.0, -1.0 },
        { rt_tanh, "tanh", 1e308, 1.0 },       { rt_tanh, "tanh", 0x1p-1074, 0x1p-1074 },
        { rt_tanh, "tanh", -0x1p-30, -0x1p-30 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double got = cases[i].f(cases[i].x);
        if (bits_of(got) != bits_of(cases[i].want))
            fail_msg("%s(%a) = %a, want %a", cases[i].name, cases[i].x, got, cases[i].want);
    }
    double nans[] = { NAN, -NAN };
    for (int i = 0; i < 2; i++)
        if (!isnan(rt_exp(nans[i])) || !isnan(rt_expm1(nans[i])) || !isnan(rt_tanh(nans[i])))
            fail_msg("f(NaN) is not NaN");
}

/* Error in units of the last place of the double nearest the true value. */
static double ulps(double got, long double want)
{
    double w = (double)want;
    if (isinf(w) || isinf(got) || w == 0)
        return got == w ? 0 : INFINITY;
    int e;
    frexp(w, &e);
    double ulp = ldexp(1.0, (e - 53 < -1074 ? -1074 : e - 53));
    return (double)(fabsl((long double)got - want) / ulp);
}

/* The bounds the header states, over two million arguments: exp within
 * 0.8 ulp, expm1 within 1.2, tanh within 2.1 (this machine's C library:
 * 0.51, 0.87 and 2.2). */
static void test_accuracy(void **state)
{
    (void)state;
    double worst[3] = { 0 }, at[3] = { 0 };
    rng = 0x243F6A8885A308D3u;
    for (long k = 0; k < 2000000; k++) {
        double x = argument(k);
        if (isnan(x))
            continue;
        double e[3] = { ulps(rt_exp(x), expl(x)), ulps(rt_expm1(x), expm1l(x)),
                        ulps(rt_tanh(x), tanhl(x)) };
        for (int f = 0; f < 3; f++)
            if (e[f] > worst[f]) {
                worst[f] = e[f];
                at[f] = x;
            }
    }
    print_message("worst: exp %.3f ulp at %a, expm1 %.3f at %a, tanh %.3f at %a\n", worst[0],
                  at[0], worst[1], at[1], worst[2], at[2]);
    if (worst[0] > 0.8 || worst[1] > 1.2 || worst[2] > 2.1)
        fail_msg("error beyond the bounds: exp %.3f (%a), expm1 %.3f (%a), tanh %.3f (%a)",
                 worst[0], at[0], worst[1], at[1], worst[2], at[2]);
}

/* ---- the compiled functions -------------------------------------------- */

static const char *const NAMES[3] = { "exp", "expm1", "tanh" };
static double (*const FNS[3])(double) = { rt_exp, rt_expm1, rt_tanh };

/* out[k] = f_k(x), one input, no state. */
static ir_circuit *build(arena *a)
{
    builder B = { a, ir_new(a, "unit", "math", 1) }, *b = &B;
    ir_add_var(a, b->c, IR_BLOCK_IN, "x", IR_F64, 0, NULL);
    uint32_t x = E(b, IR_INPUT, IR_F64, 0, 0, 0);
    OUT(b, "exp", IR_F64, E(b, IR_EXP, IR_F64, x, 0, 0));
    OUT(b, "expm1", IR_F64, E(b, IR_EXPM1, IR_F64, x, 0, 0));
    OUT(b, "tanh", IR_F64, E(b, IR_TANH, IR_F64, x, 0, 0));
    ir_layout(b->c);
    return b->c;
}

/* A million arguments through step one at a time and through step_n's
 * lanes (four or eight at a time), against the C functions. */
static void compiled_vs_c(jit *j, int opt, const char *what)
{
    enum { N = 4096, ROUNDS = 256 };
    arena a = { 0 };
    ir_circuit *c = build(&a);
    assert_null(ir_verify(&a, c));
    jit_fn fn;
    char *err = NULL;
    if (jit_compile(j, c, opt, &fn, &err) != 0) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s -O%d: %s", what, opt, err ? err : "?");
        free(err);
        arena_free(&a);
        fail_msg("%s", msg);
    }
    size_t m = drive_abi_columns(N);
    double *x = calloc(m, sizeof *x), *y = calloc(3 * m, sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    unsigned char st[8];
    rng = 0xB7E151628AED2A6Bu;
    for (int r = 0; r < ROUNDS; r++) {
        for (size_t i = 0; i < N; i++)
            x[i] = argument((long)(r * N + i));
        assert_int_equal(fn.step_n(st, N, x, y), 0);
        for (size_t i = 0; i < N; i++) {
            double one[3];
            fn.step(st, &x[i], one);
            for (int f = 0; f < 3; f++) {
                double want = FNS[f](x[i]);
                if (!same_f64(one[f], want))
                    fail_msg("%s -O%d step: %s(%a) = %a, the C function %a", what, opt,
                             NAMES[f], x[i], one[f], want);
                if (!same_f64(y[f * m + i], want))
                    fail_msg("%s -O%d step_n, instance %zu: %s(%a) = %a, the C function %a",
                             what, opt, i, NAMES[f], x[i], y[f * m + i], want);
            }
        }
    }
    free(x);
    free(y);
    assert_int_equal(jit_remove(j, &fn, NULL), 0);
    arena_free(&a);
}

static void test_compiled_host(void **state)
{
    (void)state;
    char *err = NULL;
    jit *j = jit_create(&err);
    assert_non_null(j);
    compiled_vs_c(j, 0, "host");
    compiled_vs_c(j, 2, "host");
    setenv("DRIVE_CG_MATH", "inline", 1);
    compiled_vs_c(j, 0, "host, inline");
    compiled_vs_c(j, 2, "host, inline");
    unsetenv("DRIVE_CG_MATH");
    jit_destroy(j);
}

/* The host's lanes kept to four (on a CPU with AVX-512 the host's own are
 * eight, one 512-bit vector a value: test_compiled_host). */
static void test_compiled_host_four_lanes(void **state)
{
    (void)state;
    char *err = NULL;
    setenv("DRIVE_CG_LANES", "4", 1);
    jit *j = jit_create(&err);
    assert_non_null(j);
    setenv("DRIVE_CG_MATH", "inline", 1);
    compiled_vs_c(j, 2, "host, four lanes, inline");
    unsetenv("DRIVE_CG_MATH");
    compiled_vs_c(j, 2, "host, four lanes");
    jit_destroy(j);
    unsetenv("DRIVE_CG_LANES");
}

/* Plain x86-64: the vectors are pairs of SSE registers, without AVX. */
static void test_compiled_baseline_cpu(void **state)
{
    (void)state;
#if defined(__x86_64__)
    char *err = NULL;
    jit *j = jit_create_cpu("x86-64", NULL, &err);
    assert_non_null(j);
    setenv("DRIVE_CG_MATH", "inline", 1);
    compiled_vs_c(j, 2, "x86-64, inline");
    unsetenv("DRIVE_CG_MATH");
    jit_destroy(j);
#else
    skip();
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_special_values),
        cmocka_unit_test(test_accuracy),
        cmocka_unit_test(test_compiled_host),
        cmocka_unit_test(test_compiled_host_four_lanes),
        cmocka_unit_test(test_compiled_baseline_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
