/* test_constructs.c — the language's constructs end to end, from source text
 * to running step functions.
 *
 * Each test compiles a small .drive program with compile_source, both with
 * and without the IR pass recipe, and runs every resulting circuit on three
 * back ends at once: the IR interpreter, and the JIT at -O0 and -O2. Inputs
 * are set and outputs, params and state are read by name (vectors as
 * "x[0]", "x[1]", ...). After every tick all six engines must agree bit for
 * bit on the status, every output and every param and state field they have
 * in common (any NaN equals any NaN), so each expectation below holds for
 * every back end. The expectations themselves come from references written
 * here in C with the operations in the documented order:
 *  - predictors: LMS and NLMS converge to the least-squares fit; a delay
 *    trains the output made D ticks ago with the context of then; defer
 *    gives the TD(0) update; a zero rate freezes the weights; a step that
 *    is not finite is skipped; instances learn apart;
 *  - reflexes: onset, duration, refractory period, latched strength;
 *  - gates, state/next, vectors, the fixed order of sum and dot, min/max/
 *    clamp on NaN and ties, alpha/decay, instances (per-instance state,
 *    params bound at the call or left to the host);
 *  - reward streams and their total;
 *  - ticks with invalid inputs store no state and return 1;
 *  - a long run of a learning circuit agrees on every back end.
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

#include "compile.h"
#include "interp.h"
#include "ir.h"
#include "ir_build.h"
#include "jit.h"
#include "rt_math.h"

/* ---- engines: one circuit on every back end ------------------------------ */

enum { N_ENGINES = 6 };

typedef struct engine {
    char label[40];
    const ir_circuit *c;
    interp *ip;  /* the interpreter, or NULL for JIT code */
    jit_fn fn;
    unsigned char *state, *in, *out;
} engine;

typedef struct rig {
    compile_result *res[2]; /* without and with the IR passes */
    engine e[N_ENGINES];
    int n;
    long tick; /* ticks stepped so far */
} rig;

static jit *J;
static rig *rigs[8];
static int n_rigs;

static int group_setup(void **state)
{
    (void)state;
    char *err = NULL;
    J = jit_create(&err);
    if (!J) {
        fprintf(stderr, "jit_create: %s\n", err ? err : "?");
        free(err);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    jit_destroy(J);
    J = NULL;
    return 0;
}

static void rig_free(rig *r)
{
    for (int i = 0; i < r->n; i++) {
        engine *e = &r->e[i];
        if (e->ip)
            interp_free(e->ip);
        if (e->fn.unit) {
            char *err = NULL;
            if (jit_remove(J, &e->fn, &err) != 0)
                free(err);
        }
        free(e->state);
        free(e->in);
        free(e->out);
    }
    for (int k = 0; k < 2; k++)
        compile_free(r->res[k]);
    free(r);
}

static void *scratch[16]; /* other blocks a test made */
static int n_scratch;

/* Frees every rig and block a test made, also when it failed. */
static int rigs_teardown(void **state)
{
    (void)state;
    while (n_rigs > 0)
        rig_free(rigs[--n_rigs]);
    while (n_scratch > 0)
        free(scratch[--n_scratch]);
    return 0;
}

static unsigned char *zblock(size_t size)
{
    unsigned char *p = calloc(1, size + 16);
    assert_non_null(p);
    return p;
}

static char *diag_text(diag_ctx *d)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    diag_flush(d, f, 0);
    fclose(f);
    return text;
}

/* Compiles src (with and without the IR passes), picks the circuit named
 * name (NULL: the only one) and makes it ready on every back end, each
 * engine's state initialised by its own init. */
static rig *rig_new(const char *src, const char *name)
{
    assert_true(n_rigs < (int)(sizeof rigs / sizeof rigs[0]));
    rig *r = calloc(1, sizeof *r);
    assert_non_null(r);
    rigs[n_rigs++] = r;
    for (int opt = 0; opt < 2; opt++) {
        compile_opts co = { .optimize = opt };
        r->res[opt] = compile_source("construct.drive", src, strlen(src), &co);
        assert_non_null(r->res[opt]);
        if (diag_errors(r->res[opt]->diag)) {
            char *text = diag_text(r->res[opt]->diag);
            char msg[4096];
            snprintf(msg, sizeof msg, "%s", text);
            free(text);
            fail_msg("compiling (IR passes %s):\n%s", opt ? "on" : "off", msg);
        }
        ir_circuit *c = compile_pick(r->res[opt], name);
        if (!c) {
            char *text = diag_text(r->res[opt]->diag);
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", text);
            free(text);
            fail_msg("picking %s: %s", name ? name : "(only)", msg);
        }
        assert_null(ir_verify(&r->res[opt]->mem, c));
        for (int be = 0; be < 3; be++) {
            engine *e = &r->e[r->n++];
            e->c = c;
            e->state = zblock(c->state_size);
            e->in = zblock(c->in_size);
            e->out = zblock(c->out_size);
            if (be == 0) {
                snprintf(e->label, sizeof e->label, "interp (IR passes %s)", opt ? "on" : "off");
                e->ip = interp_new(c);
                assert_non_null(e->ip);
                interp_init(e->ip, e->state);
            } else {
                int level = be == 1 ? 0 : 2;
                snprintf(e->label, sizeof e->label, "JIT -O%d (IR passes %s)", level,
                         opt ? "on" : "off");
                char *err = NULL;
                if (jit_compile(J, c, level, &e->fn, &err) != 0) {
                    char msg[600];
                    snprintf(msg, sizeof msg, "%s", err ? err : "?");
                    free(err);
                    fail_msg("jit_compile %s: %s", e->label, msg);
                }
                e->fn.init(e->state);
            }
        }
    }
    return r;
}

static const ir_var *find_in(const ir_var *v, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

/* A param or state field of e's circuit, or NULL. */
static const ir_var *find_state(const engine *e, const char *name)
{
    const ir_var *v = find_in(e->c->state, e->c->n_state, name);
    return v ? v : find_in(e->c->params, e->c->n_params, name);
}

static double get(const ir_var *v, const unsigned char *blk)
{
    if (v->type == IR_BOOL)
        return blk[v->offset];
    double d;
    memcpy(&d, blk + v->offset, sizeof d);
    return d;
}

static void put(const ir_var *v, unsigned char *blk, double d)
{
    if (v->type == IR_BOOL)
        blk[v->offset] = d != 0;
    else
        memcpy(blk + v->offset, &d, sizeof d);
}

static int same_var(const ir_var *v, double a, double b)
{
    return v->type == IR_BOOL ? a == b : same_f64(a, b);
}

static void rig_in(rig *r, const char *name, double d)
{
    for (int i = 0; i < r->n; i++) {
        const ir_var *v = find_in(r->e[i].c->inputs, r->e[i].c->n_inputs, name);
        if (!v)
            fail_msg("%s: no input named %s", r->e[i].label, name);
        put(v, r->e[i].in, d);
    }
}

/* Input vector name[0..n). */
static void rig_in_vec(rig *r, const char *name, const double *d, int n)
{
    for (int k = 0; k < n; k++) {
        char nm[64];
        snprintf(nm, sizeof nm, "%s[%d]", name, k);
        rig_in(r, nm, d[k]);
    }
}

/* Sets a param (or state field) on every engine that has it; engine 0
 * (no IR passes) must. */
static void rig_set(rig *r, const char *name, double d)
{
    if (!find_state(&r->e[0], name))
        fail_msg("no param or state named %s", name);
    for (int i = 0; i < r->n; i++) {
        const ir_var *v = find_state(&r->e[i], name);
        if (v)
            put(v, r->e[i].state, d);
    }
}

/* Every engine against engine 0: outputs, params and state by name. */
static void rig_compare(rig *r, const char *when)
{
    const engine *e0 = &r->e[0];
    for (int i = 1; i < r->n; i++) {
        const engine *e = &r->e[i];
        for (int list = 0; list < 3; list++) {
            const ir_var *vs = list == 0 ? e0->c->outputs : list == 1 ? e0->c->params : e0->c->state;
            uint32_t n = list == 0 ? e0->c->n_outputs : list == 1 ? e0->c->n_params : e0->c->n_state;
            const unsigned char *b0 = list == 0 ? e0->out : e0->state;
            const unsigned char *b1 = list == 0 ? e->out : e->state;
            for (uint32_t k = 0; k < n; k++) {
                const ir_var *v0 = &vs[k];
                const ir_var *v1 = list == 0 ? find_in(e->c->outputs, e->c->n_outputs, v0->name)
                                             : find_state(e, v0->name);
                if (!v1) {
                    if (list == 0)
                        fail_msg("%s: %s has no output %s", when, e->label, v0->name);
                    continue; /* a state slot the passes removed */
                }
                assert_int_equal(v0->type, v1->type);
                double a = get(v0, b0), b = get(v1, b1);
                if (!same_var(v0, a, b))
                    fail_msg("%s: %s %s is %a (%016llx) on %s but %a (%016llx) on %s", when,
                             list == 0 ? "output" : "field", v0->name, a,
                             (unsigned long long)bits_of(a), e0->label, b,
                             (unsigned long long)bits_of(b), e->label);
            }
        }
    }
}

/* One tick on every engine; they must agree on the status and every field.
 * Returns the status. */
static int rig_step(rig *r)
{
    int st0 = 0;
    for (int i = 0; i < r->n; i++) {
        engine *e = &r->e[i];
        int st = e->ip ? interp_step(e->ip, e->state, e->in, e->out)
                       : e->fn.step(e->state, e->in, e->out);
        if (i == 0)
            st0 = st;
        else if (st != st0)
            fail_msg("tick %ld: status %d on %s but %d on %s", r->tick, st0, r->e[0].label, st,
                     e->label);
    }
    char when[32];
    snprintf(when, sizeof when, "tick %ld", r->tick);
    rig_compare(r, when);
    r->tick++;
    return st0;
}

static void rig_step_ok(rig *r)
{
    int st = rig_step(r);
    if (st != 0)
        fail_msg("tick %ld: status %d, expected a valid tick", r->tick - 1, st);
}

static double rig_out(rig *r, const char *name)
{
    const ir_var *v = find_in(r->e[0].c->outputs, r->e[0].c->n_outputs, name);
    if (!v)
        fail_msg("no output named %s", name);
    return get(v, r->e[0].out);
}

/* A param or state field (as engine 0 has it; the others were compared). */
static double rig_state(rig *r, const char *name)
{
    const ir_var *v = find_state(&r->e[0], name);
    if (!v)
        fail_msg("no param or state named %s", name);
    return get(v, r->e[0].state);
}

static double rig_state_vec(rig *r, const char *name, int k)
{
    char nm[64];
    snprintf(nm, sizeof nm, "%s[%d]", name, k);
    return rig_state(r, nm);
}

/* Bit-identical expectation with a readable failure. */
#define EXPECT_SAME(what, got, want)                                                         \
    do {                                                                                     \
        double got_ = (got), want_ = (want);                                                 \
        if (!same_f64(got_, want_))                                                          \
            fail_msg("%s: got %.17g (%a) but expected %.17g (%a)", (what), got_, got_,       \
                     want_, want_);                                                          \
    } while (0)

/* ---- pseudo-random numbers (fixed seeds: every run is the same) ---------- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double rng_uniform(uint64_t *s, double lo, double hi)
{
    return lo + (hi - lo) * ((double)(rng_next(s) >> 11) * 0x1p-53);
}

/* ---- references ---------------------------------------------------------- */

/* The documented order of sum() and dot(): lane k (of eight) adds v[k],
 * v[k+8], ... in turn; the lanes combine as (0+4, 1+5, 2+6, 3+7), then
 * (0+2, 1+3), then (0+1). */
static double ref_sum(const double *v, int n)
{
    double lane[8];
    int have = n < 8 ? n : 8;
    for (int k = 0; k < have; k++) {
        lane[k] = v[k];
        for (int i = k + 8; i < n; i += 8)
            lane[k] = lane[k] + v[i];
    }
    for (int w = 4; w >= 1; w /= 2)
        for (int k = 0; k < w; k++)
            if (k + w < have)
                lane[k] = lane[k] + lane[k + w];
    return lane[0];
}

static double ref_dot(const double *a, const double *b, int n)
{
    double p[64];
    assert_true(n <= 64);
    for (int i = 0; i < n; i++)
        p[i] = a[i] * b[i];
    return ref_sum(p, n);
}

enum { SQ_NONE, SQ_SIGMOID, SQ_TANH };
enum { MAXN = 8, MAXD = 8 };

/* A predictor as the language defines it, step by step, with the same
 * operations in the same order as the IR. */
typedef struct pred_ref {
    int n, d, nlms, squash;
    double w[MAXN], b;
    double hist[MAXN * MAXD]; /* contexts, newest first */
    double outs[MAXD];        /* outputs, newest first */
    double age;
    double y, target, error;  /* this tick's fields */
} pred_ref;

static void pred_ref_init(pred_ref *p, int n, int d, int nlms, int squash, double w0)
{
    memset(p, 0, sizeof *p);
    assert_true(n <= MAXN && d <= MAXD);
    p->n = n;
    p->d = d;
    p->nlms = nlms;
    p->squash = squash;
    for (int k = 0; k < n; k++)
        p->w[k] = w0;
}

static void pred_ref_step(pred_ref *p, const double *x, double sup, int defer, double rate)
{
    int n = p->n, d = p->d;
    double z = ref_dot(p->w, x, n) + p->b;
    double y = p->squash == SQ_SIGMOID ? 1.0 / (1.0 + rt_exp(-z))
             : p->squash == SQ_TANH    ? rt_tanh(z)
                                       : z;
    double T = defer ? y : sup;
    double xd[MAXN], yd;
    int valid;
    if (d == 0) {
        memcpy(xd, x, sizeof xd[0] * (size_t)n);
        yd = y;
        valid = 1;
    } else {
        memcpy(xd, &p->hist[(d - 1) * n], sizeof xd[0] * (size_t)n);
        yd = p->outs[d - 1];
        valid = p->age >= d;
    }
    double e = valid ? T - yd : 0;
    double g = rate * e;
    if (p->nlms)
        g = g / (1 + ref_dot(xd, xd, n));
    int ok = valid && g - g == 0;
    if (ok) {
        for (int k = 0; k < n; k++)
            p->w[k] = p->w[k] + g * xd[k];
        p->b = p->b + g;
    }
    if (d > 0) {
        memmove(&p->hist[n], &p->hist[0], sizeof p->hist[0] * (size_t)(n * (d - 1)));
        memcpy(&p->hist[0], x, sizeof p->hist[0] * (size_t)n);
        memmove(&p->outs[1], &p->outs[0], sizeof p->outs[0] * (size_t)(d - 1));
        p->outs[0] = y;
        p->age = valid ? p->age : p->age + 1;
    }
    p->y = y;
    p->target = T;
    p->error = e;
}

/* The predictor's weights "name.w[k]" (or "name.w") and bias "name.b" on
 * every engine against the reference, bit for bit. */
static void expect_weights(rig *r, const char *name, const pred_ref *p)
{
    char nm[64], what[96];
    for (int k = 0; k < p->n; k++) {
        if (p->n > 1)
            snprintf(nm, sizeof nm, "%s.w[%d]", name, k);
        else
            snprintf(nm, sizeof nm, "%s.w", name);
        snprintf(what, sizeof what, "tick %ld: %s", r->tick - 1, nm);
        EXPECT_SAME(what, rig_state(r, nm), p->w[k]);
    }
    snprintf(nm, sizeof nm, "%s.b", name);
    snprintf(what, sizeof what, "tick %ld: %s", r->tick - 1, nm);
    EXPECT_SAME(what, rig_state(r, nm), p->b);
}

/* Solves the n x n system A x = y in place (Gaussian elimination with
 * partial pivoting); the answer replaces y. */
static void solve(int n, double A[][4], double *y)
{
    for (int c = 0; c < n; c++) {
        int p = c;
        for (int i = c + 1; i < n; i++)
            if (fabs(A[i][c]) > fabs(A[p][c]))
                p = i;
        for (int k = 0; k < n; k++) {
            double t = A[c][k];
            A[c][k] = A[p][k];
            A[p][k] = t;
        }
        double t = y[c];
        y[c] = y[p];
        y[p] = t;
        assert_true(fabs(A[c][c]) > 1e-9);
        for (int i = c + 1; i < n; i++) {
            double f = A[i][c] / A[c][c];
            for (int k = c; k < n; k++)
                A[i][k] -= f * A[c][k];
            y[i] -= f * y[c];
        }
    }
    for (int c = n - 1; c >= 0; c--) {
        double s = y[c];
        for (int k = c + 1; k < n; k++)
            s -= A[c][k] * y[k];
        y[c] = s / A[c][c];
    }
}

/* ---- 1. LMS and NLMS converge to the least-squares weights --------------- */

/* Eight samples of a 3-dim context, all of squared norm 2 (so that NLMS,
 * whose fixed point weights each sample by 1 / (1 + |x|^2), has the plain
 * least-squares fit as its fixed point too), with a noisy linear target. */
static const double FIT_X[8][3] = {
    { 1, 1, 0 },  { 1, -1, 0 }, { 0, 1, 1 },  { 0, 1, -1 },
    { 1, 0, 1 },  { -1, 0, 1 }, { -1, -1, 0 }, { 0, -1, 1 },
};
static const double FIT_NOISE[8] = { 0.05, -0.03, 0.02, -0.04, 0.01, 0.06, -0.02, -0.05 };

static void fit_run(const char *rule, int nlms)
{
    char src[512];
    snprintf(src, sizeof src,
             "tick 10 ms\n"
             "circuit fit {\n"
             "  input x : vec[3]\n"
             "  input s : real\n"
             "  input a : real\n"
             "  predictor p {\n"
             "    context x\n"
             "    supervisor s\n"
             "    rate a\n"
             "    rule %s\n"
             "  }\n"
             "  output y : real = p\n"
             "  output err : real = p.error\n"
             "}\n",
             rule);
    rig *r = rig_new(src, "fit");

    /* The target and its least-squares fit [w; b] by the normal equations. */
    static const double w_true[3] = { 0.8, -0.5, 0.3 }, b_true = 0.2;
    double S[8];
    for (int i = 0; i < 8; i++)
        S[i] = w_true[0] * FIT_X[i][0] + w_true[1] * FIT_X[i][1] + w_true[2] * FIT_X[i][2] +
               b_true + FIT_NOISE[i];
    double A[4][4] = { { 0 } }, ls[4] = { 0 };
    for (int i = 0; i < 8; i++) {
        double z[4] = { FIT_X[i][0], FIT_X[i][1], FIT_X[i][2], 1 };
        for (int a = 0; a < 4; a++) {
            ls[a] += z[a] * S[i];
            for (int b = 0; b < 4; b++)
                A[a][b] += z[a] * z[b];
        }
    }
    solve(4, A, ls);
    /* The noise matters: the fit is not the generating weights. */
    assert_true(fabs(ls[0] - w_true[0]) > 1e-3);

    /* Cycle the samples with a decaying rate a0 / (1 + t / 800): cyclic
     * LMS then ends within O(rate) of the least-squares fit (about 0.04
     * times the final rate for these data, 4e-5 here). */
    const double a0 = nlms ? 0.3 : 0.1; /* NLMS divides by 1 + |x|^2 = 3 */
    const long T = 80000;
    pred_ref ref;
    pred_ref_init(&ref, 3, 0, nlms, SQ_NONE, 0);
    double dev_mid = 0;
    for (long t = 0; t < T; t++) {
        int i = (int)(t % 8);
        double a = a0 / (1 + (double)t / 800);
        rig_in_vec(r, "x", FIT_X[i], 3);
        rig_in(r, "s", S[i]);
        rig_in(r, "a", a);
        rig_step_ok(r);
        pred_ref_step(&ref, FIT_X[i], S[i], 0, a);
        if (!same_f64(rig_out(r, "y"), ref.y) || !same_f64(rig_out(r, "err"), ref.error))
            fail_msg("tick %ld: y %a err %a, the reference %a %a", t, rig_out(r, "y"),
                     rig_out(r, "err"), ref.y, ref.error);
        if (t == T / 8 - 1)
            for (int k = 0; k < 4; k++)
                dev_mid = fmax(dev_mid, fabs((k < 3 ? rig_state_vec(r, "p.w", k)
                                                    : rig_state(r, "p.b")) - ls[k]));
    }
    expect_weights(r, "p", &ref);
    double theta[4] = { rig_state_vec(r, "p.w", 0), rig_state_vec(r, "p.w", 1),
                        rig_state_vec(r, "p.w", 2), rig_state(r, "p.b") };
    double scale = 0, dev = 0;
    for (int k = 0; k < 4; k++) {
        scale = fmax(scale, fabs(ls[k]));
        dev = fmax(dev, fabs(theta[k] - ls[k]));
    }
    const double tol = 2e-4 * scale; /* 1.6e-4; the excess is 4e-5 or less */
    if (!(dev <= tol))
        fail_msg("%s: weights %.9f %.9f %.9f bias %.9f are %.3g from the least-squares fit "
                 "%.9f %.9f %.9f %.9f (tolerance %.3g)",
                 rule, theta[0], theta[1], theta[2], theta[3], dev, ls[0], ls[1], ls[2], ls[3],
                 tol);
    /* still converging: a larger rate earlier left a larger excess */
    assert_true(dev_mid > dev);
}

static void test_lms_converges(void **state)
{
    (void)state;
    fit_run("lms", 0);
}

static void test_nlms_converges(void **state)
{
    (void)state;
    fit_run("nlms", 1);
}

/* ---- 2. a delay trains the output made D ticks ago ----------------------- */

static const char SRC_DELAY_PULSE[] =
    "circuit delayed {\n"
    "  input x : vec[3]\n"
    "  input s : real\n"
    "  predictor p {\n"
    "    context x\n"
    "    supervisor s\n"
    "    rate 0.125\n"
    "    delay 3 ticks\n"
    "    init [0, 0.25, 0]\n"
    "  }\n"
    "  output y : real = p\n"
    "  output tgt : real = p.target\n"
    "  output err : real = p.error\n"
    "}\n";

/* Context element 1 is seen only at tick t0, the supervisor pulses at
 * t0 + 3. Elements 0 and 2 are busy all along (and at t0 + 3) but their
 * weights are 0 and their errors 0, so only w[1] and the bias may move, at
 * t0 + 3 and by exactly rate * (s - y(t0)) * x(t0). */
static void test_delay_pulse(void **state)
{
    (void)state;
    rig *r = rig_new(SRC_DELAY_PULSE, NULL);
    const int D = 3, t0 = 5;
    const double rate = 0.125, x1 = 0.75, s_pulse = 1;
    uint64_t seed = 11;
    double y_t0 = NAN;
    for (int t = 0; t <= t0 + D; t++) {
        double x[3] = { rng_uniform(&seed, -2, 2), 0, rng_uniform(&seed, -2, 2) };
        if (t == t0) {
            x[0] = 0;
            x[1] = x1;
            x[2] = 0;
        }
        rig_in_vec(r, "x", x, 3);
        rig_in(r, "s", t == t0 + D ? s_pulse : 0);
        rig_step_ok(r);
        if (t == t0) {
            y_t0 = rig_out(r, "y");
            EXPECT_SAME("y(t0)", y_t0, 0.25 * x1);
        } else {
            EXPECT_SAME("y away from t0", rig_out(r, "y"), 0);
        }
        if (t < t0 + D) {
            EXPECT_SAME("error before the pulse", rig_out(r, "err"), 0);
            EXPECT_SAME("w[0] before the pulse", rig_state(r, "p.w[0]"), 0);
            EXPECT_SAME("w[1] before the pulse", rig_state(r, "p.w[1]"), 0.25);
            EXPECT_SAME("w[2] before the pulse", rig_state(r, "p.w[2]"), 0);
            EXPECT_SAME("b before the pulse", rig_state(r, "p.b"), 0);
        }
    }
    /* tick t0 + D: the error is s - y(t0), the update uses x(t0) */
    double g = rate * (s_pulse - y_t0);
    EXPECT_SAME("target at t0+D", rig_out(r, "tgt"), s_pulse);
    EXPECT_SAME("error at t0+D", rig_out(r, "err"), s_pulse - y_t0);
    EXPECT_SAME("w[0] after the pulse", rig_state(r, "p.w[0]"), 0);
    EXPECT_SAME("w[1] after the pulse", rig_state(r, "p.w[1]"), 0.25 + g * x1);
    EXPECT_SAME("w[2] after the pulse", rig_state(r, "p.w[2]"), 0);
    EXPECT_SAME("b after the pulse", rig_state(r, "p.b"), g);
    /* the history: the age saturates at the delay */
    EXPECT_SAME("age", rig_state(r, "p.age"), D);
}

static const char SRC_DELAY_SCALAR[] =
    "circuit delayed1 {\n"
    "  input x : real\n"
    "  input s : real\n"
    "  predictor p {\n"
    "    context x\n"
    "    supervisor s\n"
    "    rate 0.05\n"
    "    delay 30 ms\n"
    "    init 0.3\n"
    "  }\n"
    "  output y : real = p\n"
    "  output tgt : real = p.target\n"
    "  output err : real = p.error\n"
    "}\n";

/* A scalar context with pulses at random ticks and a random supervisor,
 * against the reference step by step, bit for bit. */
static void test_delay_random(void **state)
{
    (void)state;
    rig *r = rig_new(SRC_DELAY_SCALAR, NULL);
    assert_non_null(find_state(&r->e[0], "p.w")); /* a scalar context's weight */
    assert_null(find_state(&r->e[0], "p.w[0]"));
    pred_ref ref;
    pred_ref_init(&ref, 1, 3, 0, SQ_NONE, 0.3);
    uint64_t seed = 22;
    int moved = 0;
    for (int t = 0; t < 200; t++) {
        double x = rng_uniform(&seed, 0, 1) < 0.2 ? rng_uniform(&seed, -3, 3) : 0;
        double s = rng_uniform(&seed, -1, 1);
        rig_in(r, "x", x);
        rig_in(r, "s", s);
        rig_step_ok(r);
        double w_before = ref.w[0];
        pred_ref_step(&ref, &x, s, 0, 0.05);
        moved += ref.w[0] != w_before;
        EXPECT_SAME("y", rig_out(r, "y"), ref.y);
        EXPECT_SAME("target", rig_out(r, "tgt"), ref.target);
        EXPECT_SAME("error", rig_out(r, "err"), ref.error);
        if (t < 3)
            EXPECT_SAME("error before D ticks of history", rig_out(r, "err"), 0);
        expect_weights(r, "p", &ref);
    }
    assert_true(moved > 10);
}

/* ---- 3. defer: the TD(0) update ------------------------------------------ */

static const char SRC_DEFER[] =
    "circuit td {\n"
    "  input x : vec[2]\n"
    "  input s : real\n"
    "  input d : bool\n"
    "  predictor v {\n"
    "    context x\n"
    "    supervisor s\n"
    "    rate 0.1\n"
    "    delay 2 ticks\n"
    "    defer true\n"
    "    squash tanh\n"
    "    init [0.5, -0.25]\n"
    "  }\n"
    "  predictor m {\n"
    "    context x\n"
    "    supervisor s\n"
    "    rate 0.1\n"
    "    delay 2 ticks\n"
    "    defer d\n"
    "    rule nlms\n"
    "  }\n"
    "  output y : real = v\n"
    "  output tgt : real = v.target\n"
    "  output err : real = v.error\n"
    "  output my : real = m\n"
    "  output mtgt : real = m.target\n"
    "  output merr : real = m.error\n"
    "}\n";

/* With defer true the target is the output itself and the error
 * y(t) - y(t-D): w += a (y_t - y_{t-D}) x_{t-D}, checked after every tick
 * against exactly that formula (the supervisor, random, is ignored). A
 * second predictor defers only on some ticks (T = d ? y : s). */
static void test_defer_td0(void **state)
{
    (void)state;
    rig *r = rig_new(SRC_DEFER, NULL);
    enum { T = 300, D = 2 };
    static double xs[T][2], ys[T];
    double w[2] = { 0.5, -0.25 }, b = 0;
    pred_ref m;
    pred_ref_init(&m, 2, D, 1, SQ_NONE, 0);
    uint64_t seed = 33;
    for (int t = 0; t < T; t++) {
        xs[t][0] = rng_uniform(&seed, -1, 1);
        xs[t][1] = rng_uniform(&seed, -1, 1);
        double s = rng_uniform(&seed, -5, 5);
        int d = rng_uniform(&seed, 0, 1) < 0.5;
        rig_in_vec(r, "x", xs[t], 2);
        rig_in(r, "s", s);
        rig_in(r, "d", d);
        rig_step_ok(r);
        ys[t] = rig_out(r, "y");
        double xw[2] = { w[0], w[1] };
        EXPECT_SAME("y = tanh(w.x + b)", ys[t], rt_tanh(ref_dot(xw, xs[t], 2) + b));
        EXPECT_SAME("target = y", rig_out(r, "tgt"), ys[t]);
        if (t >= D) {
            double e = ys[t] - ys[t - D];
            double g = 0.1 * e;
            EXPECT_SAME("error = y(t) - y(t-D)", rig_out(r, "err"), e);
            w[0] = w[0] + g * xs[t - D][0];
            w[1] = w[1] + g * xs[t - D][1];
            b = b + g;
        } else {
            EXPECT_SAME("error before D ticks", rig_out(r, "err"), 0);
        }
        char what[64];
        snprintf(what, sizeof what, "tick %d: v.w[0]", t);
        EXPECT_SAME(what, rig_state(r, "v.w[0]"), w[0]);
        snprintf(what, sizeof what, "tick %d: v.w[1]", t);
        EXPECT_SAME(what, rig_state(r, "v.w[1]"), w[1]);
        snprintf(what, sizeof what, "tick %d: v.b", t);
        EXPECT_SAME(what, rig_state(r, "v.b"), b);

        pred_ref_step(&m, xs[t], s, d, 0.1);
        EXPECT_SAME("m", rig_out(r, "my"), m.y);
        EXPECT_SAME("m.target", rig_out(r, "mtgt"), m.target);
        EXPECT_SAME("m.error", rig_out(r, "merr"), m.error);
        expect_weights(r, "m", &m);
    }
    assert_false(w[0] == 0.5); /* it learned something */
}

/* ---- 4. a zero rate freezes the weights; init sets every weight ---------- */

static const char SRC_FROZEN[] =
    "circuit frozen {\n"
    "  input x : vec[4]\n"
    "  input z : real\n"
    "  input s : real\n"
    "  predictor p {\n"
    "    context x\n"
    "    supervisor s\n"
    "    rate 0\n"
    "    delay 2 ticks\n"
    "    rule nlms\n"
    "    squash sigmoid\n"
    "    init 0.5\n"
    "  }\n"
    "  predictor q {\n"
    "    context z\n"
    "    supervisor s\n"
    "    rate 0\n"
    "    init 0.5\n"
    "  }\n"
    "  output y : real = p + q\n"
    "}\n";

static void test_zero_rate_frozen(void **state)
{
    (void)state;
    rig *r = rig_new(SRC_FROZEN, NULL);
    /* init 0.5: every weight, in the IR and after init; the bias is 0 */
    for (int i = 0; i < r->n; i++) {
        const engine *e = &r->e[i];
        for (int k = 0; k < 5; k++) {
            char nm[16];
            if (k < 4)
                snprintf(nm, sizeof nm, "p.w[%d]", k);
            else
                snprintf(nm, sizeof nm, "q.w");
            const ir_var *v = find_state(e, nm);
            if (!v)
                fail_msg("%s: no %s", e->label, nm);
            assert_int_equal(v->role, IR_ROLE_WEIGHT);
            EXPECT_SAME(nm, v->init, 0.5);
            EXPECT_SAME(nm, get(v, e->state), 0.5);
        }
        EXPECT_SAME("p.b init", get(find_state(e, "p.b"), e->state), 0);
        EXPECT_SAME("q.b init", get(find_state(e, "q.b"), e->state), 0);
    }
    uint64_t seed = 44;
    for (int t = 0; t < 1000; t++) {
        double x[4];
        for (int k = 0; k < 4; k++)
            x[k] = rng_uniform(&seed, -10, 10);
        rig_in_vec(r, "x", x, 4);
        rig_in(r, "z", rng_uniform(&seed, -10, 10));
        rig_in(r, "s", rng_uniform(&seed, -10, 10));
        rig_step_ok(r);
        for (int k = 0; k < 4; k++)
            EXPECT_SAME("p.w frozen", rig_state_vec(r, "p.w", k), 0.5);
        EXPECT_SAME("q.w frozen", rig_state(r, "q.w"), 0.5);
        EXPECT_SAME("p.b frozen", rig_state(r, "p.b"), 0);
        EXPECT_SAME("q.b frozen", rig_state(r, "q.b"), 0);
    }
}

/* ---- a non-finite step is skipped; predictors inside instances ---------- */

static const char SRC_SKIP[] =
    "circuit skip {\n"
    "  input x : vec[2]\n"
    "  input s : real\n"
    "  input big : real\n"
    "  predictor p {\n"
    "    context x\n"
    "    supervisor s * big\n"
    "    rate 0.25\n"
    "    delay 1 tick\n"
    "    rule nlms\n"
    "    init 0.5\n"
    "  }\n"
    "  output y : real = p\n"
    "  output err : real = p.error\n"
    "}\n";

/* The supervisor overflows to +-inf now and then (from finite inputs: the
 * tick is valid): g is not finite, so that tick's update is skipped while
 * the history moves on; the ticks after learn again. */
static void test_nonfinite_step_skipped(void **state)
{
    (void)state;
    rig *r = rig_new(SRC_SKIP, NULL);
    pred_ref ref;
    pred_ref_init(&ref, 2, 1, 1, SQ_NONE, 0.5);
    uint64_t seed = 123;
    int skipped = 0, learned = 0;
    for (int t = 0; t < 400; t++) {
        double x[2] = { rng_uniform(&seed, -1, 1), rng_uniform(&seed, -1, 1) };
        double s = rng_uniform(&seed, -1, 1);
        double big = rng_uniform(&seed, 0, 1) < 0.1 ? 1e300 : 1;
        if (big != 1)
            s = s < 0 ? -1e10 : 1e10;
        rig_in_vec(r, "x", x, 2);
        rig_in(r, "s", s);
        rig_in(r, "big", big);
        rig_step_ok(r);
        double w0 = ref.w[0];
        pred_ref_step(&ref, x, s * big, 0, 0.25);
        if (t >= 1 && isinf(ref.error)) {
            skipped++;
            assert_true(ref.w[0] == w0);
        } else if (ref.w[0] != w0) {
            learned++;
        }
        EXPECT_SAME("y", rig_out(r, "y"), ref.y);
        EXPECT_SAME("error", rig_out(r, "err"), ref.error);
        expect_weights(r, "p", &ref);
        assert_true(isfinite(rig_state(r, "p.w[0]")));
    }
    assert_true(skipped > 10);
    assert_true(learned > 100);
}

static const char SRC_PRED_INSTANCES[] =
    "circuit unit_learner {\n"
    "  input x : vec[2]\n"
    "  input s : real\n"
    "  predictor p {\n"
    "    context x\n"
    "    supervisor s\n"
    "    rate 0.2\n"
    "    delay 2 ticks\n"
    "    squash sigmoid\n"
    "  }\n"
    "  output y : real = p\n"
    "}\n"
    "circuit two {\n"
    "  input x : vec[2]\n"
    "  input s : real\n"
    "  let a = unit_learner(x, s)\n"
    "  let b = unit_learner([x[1], x[0]], 1 - s)\n"
    "  output ya : real = a\n"
    "  output yb : real = b\n"
    "}\n";

/* Two instances of a learning circuit: each has its own weights and
 * history ("a.p.w[0]", "b.p.ctx[0]", ...) and learns from its own
 * arguments. */
static void test_predictor_instances(void **state)
{
    (void)state;
    rig *r = rig_new(SRC_PRED_INSTANCES, "two");
    assert_non_null(find_state(&r->e[0], "a.p.ctx[3]"));
    assert_non_null(find_state(&r->e[0], "b.p.out[1]"));
    pred_ref ra, rb;
    pred_ref_init(&ra, 2, 2, 0, SQ_SIGMOID, 0);
    pred_ref_init(&rb, 2, 2, 0, SQ_SIGMOID, 0);
    uint64_t seed = 321;
    for (int t = 0; t < 300; t++) {
        double x[2] = { rng_uniform(&seed, -1, 1), rng_uniform(&seed, -1, 1) };
        double xb[2] = { x[1], x[0] };
        double s = rng_uniform(&seed, 0, 1) < 0.3;
        rig_in_vec(r, "x", x, 2);
        rig_in(r, "s", s);
        rig_step_ok(r);
        pred_ref_step(&ra, x, s, 0, 0.2);
        pred_ref_step(&rb, xb, 1 - s, 0, 0.2);
        EXPECT_SAME("a", rig_out(r, "ya"), ra.y);
        EXPECT_SAME("b", rig_out(r, "yb"), rb.y);
        expect_weights(r, "a.p", &ra);
        expect_weights(r, "b.p", &rb);
    }
    assert_false(ra.w[0] == rb.w[0]);
}

/* ---- 5. reflexes, to the tick -------------------------------------------- */

static const char SRC_REFLEX[] =
    "circuit rf {\n"
    "  input c : bool\n"
    "  input s : real\n"
    "  reflex r = c for 3 ticks refractory 20 ms strength s\n"
    "  reflex q = c for 2 ticks\n"
    "  output on : bool = r\n"
    "  output st : real = r.strength\n"
    "  output onset : bool = r.onset\n"
    "  output qon : bool = q\n"
    "  output qst : real = q.strength\n"
    "  output qonset : bool = q.onset\n"
    "}\n";

typedef struct reflex_ref {
    double D, K, k, held;
    int prev, has_strength;
    int on, onset;
    double strength;
} reflex_ref;

static void reflex_ref_init(reflex_ref *f, double D, double R, int has_strength)
{
    memset(f, 0, sizeof *f);
    f->D = D;
    f->K = D + R;
    f->k = f->K;
    f->has_strength = has_strength;
}

static void reflex_ref_step(reflex_ref *f, int c, double S)
{
    double k1 = f->k + 1 < f->K ? f->k + 1 : f->K;
    int fire = c && !f->prev && k1 >= f->K;
    f->k = fire ? 0 : k1;
    f->on = f->k < f->D;
    f->onset = fire;
    if (fire)
        f->held = S;
    f->strength = f->on ? (f->has_strength ? f->held : 1) : 0;
    f->prev = c;
}

/* Duration 3, refractory 2 (K = 5). Rising edges at 2 (fires), 4 (while
 * on: ignored), 7 (the first tick after the refractory period: fires), 13
 * (fires; held true 7..10 did not re-fire), 17 (refractory: ignored; then
 * held through 19: no firing), 21 (fires). */
static const int RF_C[25] = { 0, 0, 1, 0, 1, 0, 0, 1, 1, 1, 1, 0, 0,
                              1, 0, 0, 0, 1, 1, 1, 0, 1, 0, 0, 0 };
static const int RF_ON[25] = { 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0,
                               1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 0 };
static const int RF_FIRE_AT[25] = { 0, 0, 2, 2, 2, 0, 0, 7, 7, 7, 0, 0, 0,
                                    13, 13, 13, 0, 0, 0, 0, 0, 21, 21, 21, 0 };

static void test_reflex_timing(void **state)
{
    (void)state;
    rig *r = rig_new(SRC_REFLEX, NULL);
    reflex_ref q;
    reflex_ref_init(&q, 2, 0, 0);
    for (int t = 0; t < 25; t++) {
        double s = 10 + t; /* a different strength on every tick */
        rig_in(r, "c", RF_C[t]);
        rig_in(r, "s", s);
        rig_step_ok(r);
        char what[64];
        snprintf(what, sizeof what, "tick %d: r", t);
        EXPECT_SAME(what, rig_out(r, "on"), RF_ON[t]);
        snprintf(what, sizeof what, "tick %d: r.onset", t);
        EXPECT_SAME(what, rig_out(r, "onset"), RF_ON[t] && RF_FIRE_AT[t] == t);
        snprintf(what, sizeof what, "tick %d: r.strength", t);
        EXPECT_SAME(what, rig_out(r, "st"), RF_ON[t] ? 10 + RF_FIRE_AT[t] : 0);
        /* no strength clause: 1 while on */
        reflex_ref_step(&q, RF_C[t], s);
        snprintf(what, sizeof what, "tick %d: q", t);
        EXPECT_SAME(what, rig_out(r, "qon"), q.on);
        snprintf(what, sizeof what, "tick %d: q.onset", t);
        EXPECT_SAME(what, rig_out(r, "qonset"), q.onset);
        snprintf(what, sizeof what, "tick %d: q.strength", t);
        EXPECT_SAME(what, rig_out(r, "qst"), q.on ? 1 : 0);
    }
    /* q (duration 2, no refractory period) re-fires on the edge at 4 */
    reflex_ref_init(&q, 2, 0, 0);
    int q_fires = 0;
    for (int t = 0; t < 25; t++) {
        reflex_ref_step(&q, RF_C[t], 0);
        q_fires += q.onset;
    }
    assert_int_equal(q_fires, 6);

    /* a condition true from the first tick fires at once (the reflex starts
     * rested) and, held, never again */
    rig *h = rig_new(SRC_REFLEX, NULL);
    for (int t = 0; t < 20; t++) {
        rig_in(h, "c", 1);
        rig_in(h, "s", 100 + t);
        rig_step_ok(h);
        char what[64];
        snprintf(what, sizeof what, "held, tick %d: r", t);
        EXPECT_SAME(what, rig_out(h, "on"), t < 3);
        snprintf(what, sizeof what, "held, tick %d: r.onset", t);
        EXPECT_SAME(what, rig_out(h, "onset"), t == 0);
        snprintf(what, sizeof what, "held, tick %d: r.strength", t);
        EXPECT_SAME(what, rig_out(h, "st"), t < 3 ? 100 : 0);
        snprintf(what, sizeof what, "held, tick %d: q", t);
        EXPECT_SAME(what, rig_out(h, "qon"), t < 2);
    }
}

/* Random conditions and strengths against the reference. */
static void test_reflex_random(void **state)
{
    (void)state;
    rig *r = rig_new(SRC_REFLEX, NULL);
    reflex_ref rr, q;
    reflex_ref_init(&rr, 3, 2, 1);
    reflex_ref_init(&q, 2, 0, 0);
    uint64_t seed = 55;
    int fires = 0;
    for (int t = 0; t < 2000; t++) {
        int c = rng_uniform(&seed, 0, 1) < 0.4;
        double s = rng_uniform(&seed, -1, 1);
        rig_in(r, "c", c);
        rig_in(r, "s", s);
        rig_step_ok(r);
        reflex_ref_step(&rr, c, s);
        reflex_ref_step(&q, c, s);
        fires += rr.onset;
        char what[64];
        snprintf(what, sizeof what, "tick %d: r", t);
        EXPECT_SAME(what, rig_out(r, "on"), rr.on);
        EXPECT_SAME(what, rig_out(r, "onset"), rr.onset);
        EXPECT_SAME(what, rig_out(r, "st"), rr.strength);
        snprintf(what, sizeof what, "tick %d: q", t);
        EXPECT_SAME(what, rig_out(r, "qon"), q.on);
        EXPECT_SAME(what, rig_out(r, "qonset"), q.onset);
        EXPECT_SAME(what, rig_out(r, "qst"), q.strength);
    }
    assert_true(fires > 100);
}

/* ---- 6. gates, state/next, vectors, builtins, instances ------------------ */

static const char SRC_GATES[] =
    "circuit g {\n"
    "  input x : real\n"
    "  input y : real\n"
    "  input c : bool\n"
    "  input u : vec[2]\n"
    "  gate g1 = x when c\n"
    "  gate g2 = x when c else y\n"
    "  gate g3 = u when c else [7, 8]\n"
    "  gate gb = c when x > 0\n"
    "  output o1 : real = g1\n"
    "  output o2 : real = g2\n"
    "  output o3 : vec[2] = g3\n"
    "  output ob : bool = gb\n"
    "}\n";

static void test_gates(void **state)
{
    (void)state;
    rig *r = rig_new(SRC_GATES, NULL);
    static const struct { double x, y; int c; } cases[] = {
        { 1.5, -2, 1 }, { 1.5, -2, 0 }, { -0.0, 3, 1 }, { -4, 3, 0 }, { 2, -0.0, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double u[2] = { 10 + (double)i, -20 - (double)i };
        rig_in(r, "x", cases[i].x);
        rig_in(r, "y", cases[i].y);
        rig_in(r, "c", cases[i].c);
        rig_in_vec(r, "u", u, 2);
        rig_step_ok(r);
        int c = cases[i].c;
        EXPECT_SAME("gate, closed: 0", rig_out(r, "o1"), c ? cases[i].x : 0.0);
        EXPECT_SAME("gate with else", rig_out(r, "o2"), c ? cases[i].x : cases[i].y);
        EXPECT_SAME("vector gate [0]", rig_out(r, "o3[0]"), c ? u[0] : 7);
        EXPECT_SAME("vector gate [1]", rig_out(r, "o3[1]"), c ? u[1] : 8);
        EXPECT_SAME("bool gate", rig_out(r, "ob"), cases[i].x > 0 ? c : 0);
    }
}

static const char SRC_STATE[] =
    "circuit st {\n"
    "  input x : real\n"
    "  state n : real = 5\n"
    "  next n = n + x\n"
    "  state v : vec[2] = [1, 2]\n"
    "  next v = v * 2 + x\n"
    "  state f : bool = true\n"
    "  next f = not f\n"
    "  state m : real = 0\n"
    "  next m = m + n\n"
    "  output on : real = n\n"
    "  output ov : vec[2] = v\n"
    "  output of : bool = f\n"
    "  output om : real = m\n"
    "}\n";

/* A state's value is last tick's `next` (its initial value at the first
 * tick); next reads this tick's values of states. */
static void test_state_next(void **state)
{
    (void)state;
    rig *r = rig_new(SRC_STATE, NULL);
    EXPECT_SAME("n init", rig_state(r, "n"), 5);
    EXPECT_SAME("v[0] init", rig_state(r, "v[0]"), 1);
    EXPECT_SAME("v[1] init", rig_state(r, "v[1]"), 2);
    EXPECT_SAME("f init", rig_state(r, "f"), 1);
    double n = 5, v[2] = { 1, 2 }, m = 0;
    int f = 1;
    uint64_t seed = 66;
    for (int t = 0; t < 50; t++) {
        double x = rng_uniform(&seed, -1, 1);
        rig_in(r, "x", x);
        rig_step_ok(r);
        EXPECT_SAME("n", rig_out(r, "on"), n);
        EXPECT_SAME("v[0]", rig_out(r, "ov[0]"), v[0]);
        EXPECT_SAME("v[1]", rig_out(r, "ov[1]"), v[1]);
        EXPECT_SAME("f", rig_out(r, "of"), f);
        EXPECT_SAME("m", rig_out(r, "om"), m);
        m = m + n;
        n = n + x;
        v[0] = v[0] * 2 + x;
        v[1] = v[1] * 2 + x;
        f = !f;
        EXPECT_SAME("n stored", rig_state(r, "n"), n);
        EXPECT_SAME("m stored", rig_state(r, "m"), m);
    }
}

static const char SRC_VECTORS[] =
    "circuit vx {\n"
    "  input u : vec[3]\n"
    "  input w : vec[3]\n"
    "  input k : real\n"
    "  input c : bool\n"
    "  output e1 : vec[3] = u * k + w\n"
    "  output e2 : vec[3] = u / w - [1, 2, 3]\n"
    "  output e3 : vec[3] = -u\n"
    "  output e4 : vec[3] = k - u\n"
    "  output e5 : vec[3] = if c then u else w\n"
    "  output e6 : vec[3] = sigmoid(u)\n"
    "  output i1 : real = u[2]\n"
    "  output nm : real = norm(u)\n"
    "  output dt3 : real = dot(u, w)\n"
    "  output pv : vec[3] = pre(u)\n"
    "}\n";

static double sig(double v) { return 1.0 / (1.0 + rt_exp(-v)); }

static void test_vectors_elementwise(void **state)
{
    (void)state;
    rig *r = rig_new(SRC_VECTORS, NULL);
    uint64_t seed = 77;
    double prev[3] = { 0, 0, 0 };
    for (int t = 0; t < 50; t++) {
        double u[3], w[3];
        for (int i = 0; i < 3; i++) {
            u[i] = rng_uniform(&seed, -4, 4);
            w[i] = rng_uniform(&seed, -4, 4);
        }
        double k = rng_uniform(&seed, -2, 2);
        int c = t % 3 == 0;
        rig_in_vec(r, "u", u, 3);
        rig_in_vec(r, "w", w, 3);
        rig_in(r, "k", k);
        rig_in(r, "c", c);
        rig_step_ok(r);
        static const double lit[3] = { 1, 2, 3 };
        for (int i = 0; i < 3; i++) {
            char nm[16];
            snprintf(nm, sizeof nm, "e1[%d]", i);
            EXPECT_SAME(nm, rig_out(r, nm), u[i] * k + w[i]);
            snprintf(nm, sizeof nm, "e2[%d]", i);
            EXPECT_SAME(nm, rig_out(r, nm), u[i] / w[i] - lit[i]);
            snprintf(nm, sizeof nm, "e3[%d]", i);
            EXPECT_SAME(nm, rig_out(r, nm), -u[i]);
            snprintf(nm, sizeof nm, "e4[%d]", i);
            EXPECT_SAME(nm, rig_out(r, nm), k - u[i]);
            snprintf(nm, sizeof nm, "e5[%d]", i);
            EXPECT_SAME(nm, rig_out(r, nm), c ? u[i] : w[i]);
            snprintf(nm, sizeof nm, "e6[%d]", i);
            EXPECT_SAME(nm, rig_out(r, nm), sig(u[i]));
            snprintf(nm, sizeof nm, "pv[%d]", i);
            EXPECT_SAME(nm, rig_out(r, nm), prev[i]);
        }
        EXPECT_SAME("u[2]", rig_out(r, "i1"), u[2]);
        EXPECT_SAME("norm", rig_out(r, "nm"), sqrt(ref_dot(u, u, 3)));
        /* three lanes: (u0 w0 + u2 w2) + u1 w1 */
        EXPECT_SAME("dot", rig_out(r, "dt3"), (u[0] * w[0] + u[2] * w[2]) + u[1] * w[1]);
        memcpy(prev, u, sizeof prev);
    }
}

/* Values where every order of summation gives a different answer. */
static const double SUM_V[11] = { 1, -1, -1e16, 5e15, 2, -3e16, 7, 3, 7, 2, 5e15 };

static const char SRC_SUM[] =
    "circuit so {\n"
    "  input v : vec[11]\n"
    "  input u : vec[11]\n"
    "  output s_lit : real = sum([1, -1, -1e16, 5e15, 2, -3e16, 7, 3, 7, 2, 5e15])\n"
    "  output s_in : real = sum(v)\n"
    "  output d_in : real = dot(v, u)\n"
    "  output s_5 : real = sum([v[0], v[1], v[2], v[3], v[4]])\n"
    "}\n";

/* The documented order for 11 elements, written out: lanes 0..2 hold
 * v0+v8, v1+v9, v2+v10, lanes 3..7 hold v3..v7; then (0+4),(1+5),(2+6),
 * (3+7); then (0+2),(1+3); then (0+1). */
static double sum11(const double *v)
{
    double l0 = v[0] + v[8], l1 = v[1] + v[9], l2 = v[2] + v[10];
    double m0 = l0 + v[4], m1 = l1 + v[5], m2 = l2 + v[6], m3 = v[3] + v[7];
    return (m0 + m2) + (m1 + m3);
}

static void test_sum_order(void **state)
{
    (void)state;
    double want = sum11(SUM_V);
    /* the values tell orders apart */
    double seq = 0, rev = 0;
    for (int i = 0; i < 11; i++)
        seq += SUM_V[i];
    for (int i = 10; i >= 0; i--)
        rev += SUM_V[i];
    double pairwise = (((SUM_V[0] + SUM_V[1]) + (SUM_V[2] + SUM_V[3])) +
                       ((SUM_V[4] + SUM_V[5]) + (SUM_V[6] + SUM_V[7]))) +
                      ((SUM_V[8] + SUM_V[9]) + SUM_V[10]);
    assert_false(same_f64(want, seq));
    assert_false(same_f64(want, rev));
    assert_false(same_f64(want, pairwise));
    assert_true(same_f64(want, ref_sum(SUM_V, 11)));

    rig *r = rig_new(SRC_SUM, NULL);
    double u[11];
    for (int i = 0; i < 11; i++)
        u[i] = i % 3 == 0 ? 1 : i % 3 == 1 ? -1 : 0.5;
    rig_in_vec(r, "v", SUM_V, 11);
    rig_in_vec(r, "u", u, 11);
    rig_step_ok(r);
    EXPECT_SAME("sum of a vec[11] literal", rig_out(r, "s_lit"), want);
    EXPECT_SAME("sum of a vec[11] input", rig_out(r, "s_in"), want);
    double p[11];
    for (int i = 0; i < 11; i++)
        p[i] = SUM_V[i] * u[i];
    EXPECT_SAME("dot of vec[11]", rig_out(r, "d_in"), sum11(p));
    /* five lanes: ((v0 + v4) + v2) + (v1 + v3) */
    EXPECT_SAME("sum of 5", rig_out(r, "s_5"),
                ((SUM_V[0] + SUM_V[4]) + SUM_V[2]) + (SUM_V[1] + SUM_V[3]));
}

static const char SRC_MINMAX[] =
    "circuit mm {\n"
    "  input a : real\n"
    "  input b : real\n"
    "  input zero : real\n"
    "  let nan = zero / zero\n"
    "  output mn : real = min(a, b)\n"
    "  output mx : real = max(a, b)\n"
    "  output mn_na : real = min(nan, a)\n"
    "  output mn_an : real = min(a, nan)\n"
    "  output mx_na : real = max(nan, a)\n"
    "  output mx_an : real = max(a, nan)\n"
    "  output cl : real = clamp(a, b, 2)\n"
    "  output cl_v : real = clamp(nan, 0, 1)\n"
    "  output cl_lo : real = clamp(a, nan, 1)\n"
    "  output cl_hi : real = clamp(a, 0, nan)\n"
    "  output vmn : vec[2] = min([a, b], [b, a])\n"
    "  output kmn : real = min(-0.0, 0)\n"
    "  output kmx : real = max(0, -0.0)\n"
    "  output mx_a0 : real = max(a, 0)\n" /* against a number: one comparison */
    "  output mx_0a : real = max(0, a)\n"
    "  output mn_a0 : real = min(a, 0)\n"
    "  output mn_0a : real = min(0, a)\n"
    "  output mx_n1 : real = max(nan, 1)\n"
    "  output mx_1n : real = max(1, nan)\n"
    "  output mn_n1 : real = min(nan, 1)\n"
    "  output mn_1n : real = min(1, nan)\n"
    "}\n";

static double ref_min(double a, double b) { return isnan(a) || isnan(b) ? NAN : b < a ? b : a; }
static double ref_max(double a, double b) { return isnan(a) || isnan(b) ? NAN : b > a ? b : a; }

static void test_minmax_nan_ties(void **state)
{
    (void)state;
    rig *r = rig_new(SRC_MINMAX, NULL);
    static const double vals[] = { 0.0, -0.0, 1, -1, 2, 3, INFINITY, -INFINITY, 1e-310 };
    enum { NV = sizeof vals / sizeof vals[0] };
    for (int i = 0; i < NV; i++)
        for (int j = 0; j < NV; j++) {
            double a = vals[i], b = vals[j];
            rig_in(r, "a", a);
            rig_in(r, "b", b);
            rig_in(r, "zero", 0);
            int st = rig_step(r);
            assert_int_equal(st, !isfinite(a) || !isfinite(b)); /* inf: an invalid tick */
            char what[96];
            snprintf(what, sizeof what, "min(%g, %g)", a, b);
            EXPECT_SAME(what, rig_out(r, "mn"), ref_min(a, b));
            snprintf(what, sizeof what, "max(%g, %g)", a, b);
            EXPECT_SAME(what, rig_out(r, "mx"), ref_max(a, b));
            snprintf(what, sizeof what, "clamp(%g, %g, 2)", a, b);
            EXPECT_SAME(what, rig_out(r, "cl"), ref_min(ref_max(a, b), 2));
            EXPECT_SAME("vector min [0]", rig_out(r, "vmn[0]"), ref_min(a, b));
            EXPECT_SAME("vector min [1]", rig_out(r, "vmn[1]"), ref_min(b, a));
            snprintf(what, sizeof what, "against 0, a = %g", a);
            EXPECT_SAME(what, rig_out(r, "mx_a0"), ref_max(a, 0.0));
            EXPECT_SAME(what, rig_out(r, "mx_0a"), ref_max(0.0, a));
            EXPECT_SAME(what, rig_out(r, "mn_a0"), ref_min(a, 0.0));
            EXPECT_SAME(what, rig_out(r, "mn_0a"), ref_min(0.0, a));
            assert_true(isnan(rig_out(r, "mx_n1")) && isnan(rig_out(r, "mx_1n")));
            assert_true(isnan(rig_out(r, "mn_n1")) && isnan(rig_out(r, "mn_1n")));
            /* NaN in either place */
            assert_true(isnan(rig_out(r, "mn_na")));
            assert_true(isnan(rig_out(r, "mn_an")));
            assert_true(isnan(rig_out(r, "mx_na")));
            assert_true(isnan(rig_out(r, "mx_an")));
            assert_true(isnan(rig_out(r, "cl_v")));
            assert_true(isnan(rig_out(r, "cl_lo")));
            assert_true(isnan(rig_out(r, "cl_hi")));
        }
    /* ties give the first argument: the sign of zero shows which */
    rig_in(r, "a", 0.0);
    rig_in(r, "b", -0.0);
    rig_step_ok(r);
    assert_true(bits_of(rig_out(r, "mn")) == bits_of(0.0));
    assert_true(bits_of(rig_out(r, "mx")) == bits_of(0.0));
    assert_true(bits_of(rig_out(r, "cl")) == bits_of(0.0));
    assert_true(bits_of(rig_out(r, "vmn[1]")) == bits_of(-0.0));
    rig_in(r, "a", -0.0);
    rig_in(r, "b", 0.0);
    rig_step_ok(r);
    assert_true(bits_of(rig_out(r, "mn")) == bits_of(-0.0));
    assert_true(bits_of(rig_out(r, "mx")) == bits_of(-0.0));
    assert_true(bits_of(rig_out(r, "cl")) == bits_of(-0.0));
    /* and when folded from constants */
    assert_true(bits_of(rig_out(r, "kmn")) == bits_of(-0.0));
    assert_true(bits_of(rig_out(r, "kmx")) == bits_of(0.0));
    /* clamp to the ends */
    rig_in(r, "a", 5);
    rig_in(r, "b", 1);
    rig_step_ok(r);
    EXPECT_SAME("clamp above", rig_out(r, "cl"), 2);
    rig_in(r, "a", -5);
    rig_step_ok(r);
    EXPECT_SAME("clamp below", rig_out(r, "cl"), 1);
}

static const char SRC_ALPHA[] =
    "tick 10 ms\n"
    "circuit al {\n"
    "  param tau : duration = 200 ms\n"
    "  param pa : real = alpha(200 ms)\n"
    "  output a_const : real = alpha(200 ms)\n"
    "  output a_param : real = alpha(tau)\n"
    "  output a_default : real = pa\n"
    "  output d_const : real = decay(200 ms)\n"
    "  output d_param : real = decay(tau)\n"
    "}\n";

/* alpha(tau) = 1 - exp(-dt/tau) computed as -expm1(-dt/tau) (no
 * cancellation); decay(tau) = exp(-dt/tau), both drive's own (rt_math.h). With dt = 10 ms and tau =
 * 200 ms, dt/tau is the double quotient 0.01 / 0.2 (0x1.9999999999999p-5,
 * one ulp below 0.05), and alpha is within an ulp of -expm1(-0.05). */
static void test_alpha_decay(void **state)
{
    (void)state;
    volatile double dt = 0.01, tau = 0.2, tau2 = 0.1;
    double q = dt / tau;
    double want_alpha = -rt_expm1(-q), want_decay = rt_exp(-q);
    assert_true(fabs(want_alpha - -expm1(-0.05)) <= DBL_EPSILON * 0.05);
    rig *r = rig_new(SRC_ALPHA, NULL);
    rig_step_ok(r);
    /* a param's default is evaluated by the checker */
    EXPECT_SAME("param pa = alpha(200 ms)", rig_out(r, "a_default"), want_alpha);
    EXPECT_SAME("decay(200 ms)", rig_out(r, "d_const"), want_decay);
    EXPECT_SAME("decay(tau)", rig_out(r, "d_param"), want_decay);
    EXPECT_SAME("alpha(200 ms)", rig_out(r, "a_const"), want_alpha);
    EXPECT_SAME("alpha(tau)", rig_out(r, "a_param"), want_alpha);
    rig_set(r, "tau", tau2);
    rig_step_ok(r);
    EXPECT_SAME("alpha(tau = 100 ms)", rig_out(r, "a_param"), -rt_expm1(-(dt / tau2)));
    EXPECT_SAME("decay(tau = 100 ms)", rig_out(r, "d_param"), rt_exp(-(dt / tau2)));
}

static const char SRC_INSTANCES[] =
    "circuit counter {\n"
    "  input x : real\n"
    "  state n : real = 0\n"
    "  next n = n + x\n"
    "  output y : real = n\n"
    "}\n"
    "circuit gain {\n"
    "  input x : real\n"
    "  param g : real = 2\n"
    "  output y : real = g * x\n"
    "}\n"
    "circuit split {\n"
    "  input x : real\n"
    "  output lo : real = min(x, 0)\n"
    "  output hi : real = max(x, 0)\n"
    "}\n"
    "circuit twice {\n"
    "  input x : real\n"
    "  let p = counter(x)\n"
    "  let q = counter(2 * x)\n"
    "  output y : real = p + q\n"
    "}\n"
    "circuit top {\n"
    "  input x1 : real\n"
    "  input x2 : real\n"
    "  let a = counter(x1)\n"
    "  let b = counter(x2)\n"
    "  let c = gain(x1)\n"
    "  let d = gain(x1, g = 3)\n"
    "  let o = split(x2)\n"
    "  let t = twice(x1)\n"
    "  output ya : real = a\n"
    "  output yb : real = b\n"
    "  output yc : real = c\n"
    "  output yd : real = d\n"
    "  output ylo : real = o.lo\n"
    "  output yhi : real = o.hi\n"
    "  output yt : real = t\n"
    "}\n";

static void test_instances(void **state)
{
    (void)state;
    rig *r = rig_new(SRC_INSTANCES, "top");
    /* flattened with prefixes: each instance has its own state */
    for (int i = 0; i < r->n; i++) {
        const engine *e = &r->e[i];
        assert_non_null(find_in(e->c->state, e->c->n_state, "a.n"));
        assert_non_null(find_in(e->c->state, e->c->n_state, "b.n"));
        assert_non_null(find_in(e->c->state, e->c->n_state, "t.p.n"));
        assert_non_null(find_in(e->c->state, e->c->n_state, "t.q.n"));
        /* a param left unbound is the host's, named after the instance;
         * one bound at the call is not a param at all */
        const ir_var *cg = find_in(e->c->params, e->c->n_params, "c.g");
        assert_non_null(cg);
        EXPECT_SAME("c.g default", cg->init, 2);
        assert_null(find_in(e->c->params, e->c->n_params, "d.g"));
        assert_int_equal(e->c->n_params, 1);
    }
    double a = 0, b = 0, tp = 0, tq = 0;
    uint64_t seed = 88;
    for (int t = 0; t < 20; t++) {
        double x1 = rng_uniform(&seed, 0, 1), x2 = rng_uniform(&seed, -2, 0);
        if (t == 10)
            rig_set(r, "c.g", 5);
        rig_in(r, "x1", x1);
        rig_in(r, "x2", x2);
        rig_step_ok(r);
        EXPECT_SAME("a", rig_out(r, "ya"), a);
        EXPECT_SAME("b", rig_out(r, "yb"), b);
        EXPECT_SAME("c: runtime param", rig_out(r, "yc"), (t < 10 ? 2 : 5) * x1);
        EXPECT_SAME("d: bound at the call", rig_out(r, "yd"), 3 * x1);
        EXPECT_SAME("o.lo", rig_out(r, "ylo"), x2);
        EXPECT_SAME("o.hi", rig_out(r, "yhi"), 0);
        EXPECT_SAME("t", rig_out(r, "yt"), tp + tq);
        a = a + x1;
        b = b + x2;
        tp = tp + x1;
        tq = tq + 2 * x1;
        EXPECT_SAME("a.n", rig_state(r, "a.n"), a);
        EXPECT_SAME("b.n", rig_state(r, "b.n"), b);
        EXPECT_SAME("t.q.n", rig_state(r, "t.q.n"), tq);
    }
    assert_false(rig_state(r, "a.n") == rig_state(r, "b.n"));
}

/* ---- 7. reward streams ---------------------------------------------------- */

static const char SRC_REWARD[] =
    "circuit rw {\n"
    "  input x : real\n"
    "  input y : real\n"
    "  input z : real\n"
    "  reward r_late = later\n"
    "  reward r_y = y\n"
    "  output plain : real = x\n"
    "  reward r_z = z\n"
    "  let later = x * 1\n"
    "}\n";

/* The total, an implicit output named "reward", is the sum of the streams
 * in declaration order: ((r_late + r_y) + r_z), whatever order they are
 * computed in. Each case below gives a different answer in another order. */
static void test_reward_streams(void **state)
{
    (void)state;
    rig *r = rig_new(SRC_REWARD, NULL);
    for (int i = 0; i < r->n; i++) {
        const ir_circuit *c = r->e[i].c;
        const ir_var *tot = find_in(c->outputs, c->n_outputs, "reward");
        assert_non_null(tot);
        assert_int_equal(tot->role, IR_ROLE_TOTAL);
        assert_int_equal(find_in(c->outputs, c->n_outputs, "r_late")->role, IR_ROLE_REWARD);
        assert_int_equal(find_in(c->outputs, c->n_outputs, "r_y")->role, IR_ROLE_REWARD);
        assert_int_equal(find_in(c->outputs, c->n_outputs, "r_z")->role, IR_ROLE_REWARD);
        assert_int_equal(find_in(c->outputs, c->n_outputs, "plain")->role, IR_ROLE_PLAIN);
    }
    static const double cases[][3] = {
        { 1e16, 1, 1 }, { 1, 1, 1e16 }, { 1, 1e16, 1 }, { 1, 1e16, -1e16 }, { -1e16, 1e16, 1 },
        { 0.1, 0.2, 0.3 },
    };
    int orders_told_apart = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double x = cases[i][0], y = cases[i][1], z = cases[i][2];
        rig_in(r, "x", x);
        rig_in(r, "y", y);
        rig_in(r, "z", z);
        rig_step_ok(r);
        EXPECT_SAME("r_late", rig_out(r, "r_late"), x);
        EXPECT_SAME("r_y", rig_out(r, "r_y"), y);
        EXPECT_SAME("r_z", rig_out(r, "r_z"), z);
        EXPECT_SAME("reward", rig_out(r, "reward"), (x + y) + z);
        orders_told_apart += !same_f64((x + y) + z, x + (y + z));
    }
    assert_true(orders_told_apart >= 3);
}

/* ---- 8. invalid inputs ---------------------------------------------------- */

static const char SRC_GUARD[] =
    "circuit guard {\n"
    "  input x : real in [0, 1]\n"
    "  input y : real\n"
    "  input c : bool\n"
    "  input v : vec[2] in [-1, 1]\n"
    "  state n : real = 0\n"
    "  next n = n + 1\n"
    "  reflex r = c for 2 ticks refractory 1 tick strength y\n"
    "  predictor p {\n"
    "    context [x, y]\n"
    "    supervisor y\n"
    "    rate 0.1\n"
    "    delay 2 ticks\n"
    "    rule nlms\n"
    "  }\n"
    "  output cnt : real = n\n"
    "  output py : real = pre(y, x)\n"
    "  output sm : real = pre(x + y)\n"
    "  output ro : bool = r\n"
    "  output rs : real = r.strength\n"
    "  output yp : real = p\n"
    "  output vs : real = sum(v)\n"
    "}\n";

static void snapshot(const rig *r, unsigned char **snap)
{
    for (int i = 0; i < r->n; i++)
        memcpy(snap[i], r->e[i].state, r->e[i].c->state_size);
}

static void expect_state_unchanged(const rig *r, unsigned char **snap, const char *what)
{
    for (int i = 0; i < r->n; i++)
        if (memcmp(snap[i], r->e[i].state, r->e[i].c->state_size) != 0) {
            const ir_circuit *c = r->e[i].c;
            const char *field = "(padding)";
            for (uint32_t k = 0; k < c->n_state; k++)
                if (memcmp(snap[i] + c->state[k].offset, r->e[i].state + c->state[k].offset,
                           c->state[k].type == IR_BOOL ? 1 : 8) != 0) {
                    field = c->state[k].name;
                    break;
                }
            fail_msg("%s: %s changed state field %s", what, r->e[i].label, field);
        }
}

static void test_invalid_inputs(void **state)
{
    (void)state;
    rig *r = rig_new(SRC_GUARD, NULL);
    unsigned char *snap[N_ENGINES];
    for (int i = 0; i < r->n; i++) {
        assert_true(n_scratch < (int)(sizeof scratch / sizeof scratch[0]));
        scratch[n_scratch++] = snap[i] = zblock(r->e[i].c->state_size);
    }
    /* an invalid first tick: nothing stored, not even the end of the first
     * tick (pre(y, x) still reads x at the next, first valid, tick) */
    snapshot(r, snap);
    rig_in(r, "x", 0.5);
    rig_in(r, "y", NAN);
    rig_in(r, "c", 1);
    assert_int_equal(rig_step(r), 1);
    expect_state_unchanged(r, snap, "a NaN on the first tick");
    rig_in(r, "x", 0.25);
    rig_in(r, "y", 2);
    rig_step_ok(r);
    EXPECT_SAME("pre(y, x) at the first valid tick", rig_out(r, "py"), 0.25);
    EXPECT_SAME("the state counted one tick", rig_state(r, "n"), 1);
    EXPECT_SAME("the reflex fired on the valid tick", rig_out(r, "ro"), 1);
    EXPECT_SAME("strength", rig_out(r, "rs"), 2);

    /* a few valid ticks so that every kind of state holds something */
    uint64_t seed = 99;
    for (int t = 0; t < 10; t++) {
        rig_in(r, "x", rng_uniform(&seed, 0, 1));
        rig_in(r, "y", rng_uniform(&seed, -1, 1));
        rig_in(r, "c", t % 4 == 0);
        rig_step_ok(r);
    }
    static const struct { double x, y; const char *why; } bad[] = {
        { 0.5, NAN, "NaN in an unranged input" },
        { 0.5, INFINITY, "+inf in an unranged input" },
        { 0.5, -INFINITY, "-inf in an unranged input" },
        { NAN, 0.5, "NaN in a ranged input" },
        { 1.5, 0.5, "above the range" },
        { -0.001, 0.5, "below the range" },
        { 0x1.0000000000001p0, 0.5, "one ulp above the range" },
        { -0x1p-1074, 0.5, "the smallest negative double" },
        { INFINITY, 0.5, "+inf in a ranged input" },
        { -INFINITY, 0.5, "-inf in a ranged input" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snapshot(r, snap);
        rig_in(r, "x", bad[i].x);
        rig_in(r, "y", bad[i].y);
        rig_in(r, "c", (double)(i % 2));
        int st = rig_step(r);
        if (st != 1)
            fail_msg("%s: status %d, expected 1", bad[i].why, st);
        expect_state_unchanged(r, snap, bad[i].why);
    }
    /* every element of a ranged vector is checked */
    static const double bad_v[][2] = { { 0, 1.5 }, { -1.0000001, 0 }, { NAN, 0 }, { 0, -INFINITY } };
    for (size_t i = 0; i < sizeof bad_v / sizeof bad_v[0]; i++) {
        snapshot(r, snap);
        rig_in(r, "x", 0.5);
        rig_in(r, "y", 0.5);
        rig_in_vec(r, "v", bad_v[i], 2);
        int st = rig_step(r);
        if (st != 1)
            fail_msg("v = [%g, %g]: status %d, expected 1", bad_v[i][0], bad_v[i][1], st);
        expect_state_unchanged(r, snap, "a ranged vector element out of range");
    }
    static const double ends_v[2] = { 1, -1 };
    rig_in_vec(r, "v", ends_v, 2);
    /* the ends of the range (and -0) are inside it */
    static const double good[] = { 0, 1, -0.0, 0x1.fffffffffffffp-1, 0x1p-1074 };
    double n = rig_state(r, "n");
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snapshot(r, snap);
        rig_in(r, "x", good[i]);
        rig_in(r, "y", 0.5);
        rig_in(r, "c", 0);
        int st = rig_step(r);
        if (st != 0)
            fail_msg("x = %a: status %d, expected 0", good[i], st);
        n += 1;
        EXPECT_SAME("the state advanced", rig_state(r, "n"), n);
        for (int k = 0; k < r->n; k++)
            assert_true(memcmp(snap[k], r->e[k].state, r->e[k].c->state_size) != 0);
    }
}

/* ---- 9. a long run agrees on every back end ------------------------------ */

static const char SRC_LONG[] =
    "tick 10 ms\n"
    "circuit learner {\n"
    "  input x : vec[5]\n"
    "  input reward_in : real\n"
    "  input cue : bool\n"
    "  param lr : real = 0.3\n"
    "  let feat = [x[0], x[1] * x[2], tanh(x[3]), x[4] - pre(x[4]), 1]\n"
    "  predictor p {\n"
    "    context feat\n"
    "    supervisor reward_in\n"
    "    rate lr\n"
    "    delay 3 ticks\n"
    "    rule nlms\n"
    "    squash sigmoid\n"
    "    init 0.1\n"
    "  }\n"
    "  predictor v {\n"
    "    context x\n"
    "    supervisor reward_in + 0.9 * p\n"
    "    rate 0.05\n"
    "    delay 1 tick\n"
    "    defer cue\n"
    "    squash tanh\n"
    "  }\n"
    "  reflex startle = p.error > 0.3 for 50 ms refractory 100 ms strength p.error\n"
    "  state acc : real = 0\n"
    "  next acc = acc * 0.99 + v.error\n"
    "  gate g = v when startle else -v\n"
    "  output y : real = p\n"
    "  output yv : real = v\n"
    "  output e : real = p.error\n"
    "  output s : bool = startle\n"
    "  output st : real = startle.strength\n"
    "  output a : real = acc\n"
    "  output gg : real = g\n"
    "  output m : real = clamp(alpha(300 ms) * acc, -1, 1)\n"
    "  reward r1 = y - 0.5\n"
    "  reward r2 = -abs(e)\n"
    "}\n";

static void test_long_run(void **state)
{
    (void)state;
    rig *r = rig_new(SRC_LONG, NULL);
    uint64_t seed = 2024;
    int invalid = 0, fired = 0;
    double w_start = rig_state(r, "p.w[0]");
    for (long t = 0; t < 20000; t++) {
        double x[5];
        for (int k = 0; k < 5; k++)
            x[k] = rng_uniform(&seed, -2, 2);
        double rw = rng_uniform(&seed, 0, 1) < 0.1 ? 1 : 0;
        if (rng_uniform(&seed, 0, 1) < 0.005) { /* now and then an invalid tick */
            x[rng_next(&seed) % 5] = NAN;
            invalid++;
        }
        rig_in_vec(r, "x", x, 5);
        rig_in(r, "reward_in", rw);
        rig_in(r, "cue", rng_uniform(&seed, 0, 1) < 0.5);
        if (t == 10000)
            rig_set(r, "lr", 0.1);
        int st = rig_step(r); /* every back end agrees, field by field */
        int nan_in = 0;
        for (int k = 0; k < 5; k++)
            nan_in |= isnan(x[k]);
        assert_int_equal(st, nan_in);
        fired += rig_out(r, "s") != 0;
    }
    assert_true(invalid > 20);
    assert_true(fired > 0);
    assert_false(rig_state(r, "p.w[0]") == w_start);
    assert_true(isfinite(rig_state(r, "p.w[0]")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_lms_converges, rigs_teardown),
        cmocka_unit_test_teardown(test_nlms_converges, rigs_teardown),
        cmocka_unit_test_teardown(test_delay_pulse, rigs_teardown),
        cmocka_unit_test_teardown(test_delay_random, rigs_teardown),
        cmocka_unit_test_teardown(test_defer_td0, rigs_teardown),
        cmocka_unit_test_teardown(test_zero_rate_frozen, rigs_teardown),
        cmocka_unit_test_teardown(test_nonfinite_step_skipped, rigs_teardown),
        cmocka_unit_test_teardown(test_predictor_instances, rigs_teardown),
        cmocka_unit_test_teardown(test_reflex_timing, rigs_teardown),
        cmocka_unit_test_teardown(test_reflex_random, rigs_teardown),
        cmocka_unit_test_teardown(test_gates, rigs_teardown),
        cmocka_unit_test_teardown(test_state_next, rigs_teardown),
        cmocka_unit_test_teardown(test_vectors_elementwise, rigs_teardown),
        cmocka_unit_test_teardown(test_sum_order, rigs_teardown),
        cmocka_unit_test_teardown(test_minmax_nan_ties, rigs_teardown),
        cmocka_unit_test_teardown(test_alpha_decay, rigs_teardown),
        cmocka_unit_test_teardown(test_instances, rigs_teardown),
        cmocka_unit_test_teardown(test_reward_streams, rigs_teardown),
        cmocka_unit_test_teardown(test_invalid_inputs, rigs_teardown),
        cmocka_unit_test_teardown(test_long_run, rigs_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
