/* gen_run.c — the differential campaign over generated programs: every
 * program of a seed range (tests/gen/gen.h), or a saved program, is compiled
 * in-process and run through every back end in lock step:
 *
 *   interp -O0   the IR interpreter on the unoptimised IR (the specification)
 *   interp       the interpreter on the IR after the pass recipe
 *   jit -O0      the JIT on the unoptimised IR, no LLVM passes
 *   jit          the JIT at -O2 on the optimised IR (this CPU)
 *   .so          `drivec build`'s path (aot_build, generic x86-64), dlopen'ed
 *
 * on the same random inputs (values held for a few ticks, bounds, zeros of
 * both signs, huge, tiny and subnormal values, now and then a non-finite or
 * out-of-range one) and random params. After every tick the step's status,
 * every output byte and every state byte must agree bit for bit, except that
 * any NaN equals any NaN (lang/SPEC.md, "Numbers"); between the two IRs,
 * whose state layouts may differ, outputs and params are compared by
 * position and state slots by name.
 *
 *   gen_run [--from SEED] [--count N] [--stride S] [--ticks T] [--so-every K] [--out DIR] [-q]
 *   gen_run --file PROGRAM.drive [--seed S] [--ticks T]
 *
 * --so-every K builds the .so for every K-th seed only (0: never); the
 * default is every program. --stride S takes every S-th seed from SEED on
 * (a campaign that built every other .so completes with --stride 2). A difference or a crash-free failure prints the
 * seed, circuit, tick and field, and saves the program with its inputs as
 * DIR/fail_SEED.drive and DIR/fail_SEED_CIRCUIT.csv with the drivec command
 * that replays it. A program the checker rejects counts as a generator bug
 * (the generator must only write valid programs) and is saved as
 * DIR/rejected_SEED.drive. Exit status: 0 when every program agreed and was
 * accepted, 1 otherwise, 2 on bad usage; with --file, 3 when the program is
 * rejected. --seed S draws the inputs of seed S's campaign run, so that
 * `gen_run --file DIR/fail_S.drive --seed S` replays a failure, and
 * tests/gen/reduce.py can shrink it.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <dlfcn.h>
#include <stdarg.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aot.h"
#include "compile.h"
#include "gen.h"
#include "interp.h"
#include "jit.h"

/* ---- randomness ------------------------------------------------------------ */

/* rng, rng_next, rng_unit, rng_below */
#include "../common/test_rng.h"

/* ---- options and totals ----------------------------------------------------- */

static long opt_ticks = 200;
/* $GEN_RUN_CORRUPT=T flips a bit of the last back end's first output byte
 * after tick T, to check that the comparison catches it (a WILL_FAIL test). */
static long corrupt_tick = -1;
static const char *out_dir = "gen-out";
static int quiet;

static long n_programs, n_rejected, n_failed, n_circuits, n_so, n_ticks, n_invalid;
/* NaNs that differ in sign or payload only (allowed, lang/SPEC.md), between
 * the interpreter and compiled code, and between the JIT and the .so */
static long n_nan_payload, n_nan_llvm;
static long *nan_counter = &n_nan_payload;
static double t_compile, t_interp, t_jit, t_so_build, t_so_run;
static long used[GEN_C_COUNT];

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- one back end ------------------------------------------------------------ */

typedef struct backend {
    const char *what;
    const ir_circuit *ir; /* its layout */
    interp *ip;
    int (*step)(void *state, const void *in, void *out);
    void (*init)(void *state);
    size_t (*step_n)(void *states, size_t n, const void *in, void *out); /* a population */
    unsigned char *state, *out;
} backend;

static int be_step(backend *b, const void *in)
{
    if (b->ip)
        return interp_step(b->ip, b->state, in, b->out);
    return b->step(b->state, in, b->out);
}

static void be_init(backend *b)
{
    if (b->ip)
        interp_init(b->ip, b->state);
    else
        b->init(b->state);
}

static double getf(const unsigned char *blk, const ir_var *v)
{
    if (v->type == IR_BOOL)
        return blk[v->offset];
    double d;
    memcpy(&d, blk + v->offset, 8);
    return d;
}

static void setf(unsigned char *blk, const ir_var *v, double x)
{
    if (v->type == IR_BOOL)
        blk[v->offset] = x != 0;
    else
        memcpy(blk + v->offset, &x, 8);
}

/* Bitwise equality with every NaN equal; NaNs of other bits are counted. */
static int same_f(double a, double b)
{
    if (isnan(a) && isnan(b)) {
        if (memcmp(&a, &b, 8))
            (*nan_counter)++;
        return 1;
    }
    return memcmp(&a, &b, 8) == 0;
}

static int same_var(const unsigned char *a, const ir_var *va, const unsigned char *b,
                    const ir_var *vb)
{
    if (va->type != vb->type)
        return 0;
    if (va->type == IR_BOOL)
        return a[va->offset] == b[vb->offset];
    return same_f(getf(a, va), getf(b, vb));
}

/* The report of one difference (the first, per program). */
static char diff_msg[1024];

static int differs(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int differs(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(diff_msg, sizeof diff_msg, fmt, ap);
    va_end(ap);
    return 1;
}

/* Two back ends of one layout: every output and state byte (reals compared
 * as values, so that NaNs of any bits are equal; bools and padding as
 * bytes). */
static int compare_same_layout(const backend *a, const backend *b, long tick)
{
    const ir_circuit *c = a->ir;
    unsigned char *covered = calloc((size_t)c->state_size + c->out_size + 2, 1);
    int bad = 0;
    for (uint32_t i = 0; i < c->n_outputs && !bad; i++) {
        const ir_var *v = &c->outputs[i];
        memset(covered + c->state_size + v->offset, 1, v->type == IR_BOOL ? 1 : 8);
        if (!same_var(a->out, v, b->out, v))
            bad = differs("tick %ld: output '%s' is %.17g in %s, %.17g in %s", tick, v->name,
                          getf(b->out, v), b->what, getf(a->out, v), a->what);
    }
    for (uint32_t k = 0; k < 2 && !bad; k++) {
        const ir_var *vs = k ? c->state : c->params;
        uint32_t n = k ? c->n_state : c->n_params;
        for (uint32_t i = 0; i < n && !bad; i++) {
            const ir_var *v = &vs[i];
            memset(covered + v->offset, 1, v->type == IR_BOOL ? 1 : 8);
            if (!same_var(a->state, v, b->state, v))
                bad = differs("tick %ld: %s '%s' (%s) is %.17g in %s, %.17g in %s", tick,
                              k ? "state" : "param", v->name, v->note ? v->note : "",
                              getf(b->state, v), b->what, getf(a->state, v), a->what);
        }
    }
    /* padding and anything no field covers: the same bytes */
    for (uint32_t o = 0; o < c->state_size && !bad; o++)
        if (!covered[o] && a->state[o] != b->state[o])
            bad = differs("tick %ld: state byte %u (no field) is %u in %s, %u in %s", tick, o,
                          b->state[o], b->what, a->state[o], a->what);
    for (uint32_t o = 0; o < c->out_size && !bad; o++)
        if (!covered[c->state_size + o] && a->out[o] != b->out[o])
            bad = differs("tick %ld: output byte %u (no field) is %u in %s, %u in %s", tick, o,
                          b->out[o], b->what, a->out[o], a->what);
    free(covered);
    return bad;
}

/* The unoptimised against the optimised IR: outputs and params by position,
 * state slots by name (the passes may drop or merge slots). */
static int compare_across(const backend *a, const backend *b, long tick)
{
    const ir_circuit *ca = a->ir, *cb = b->ir;
    for (uint32_t i = 0; i < ca->n_outputs; i++)
        if (!same_var(a->out, &ca->outputs[i], b->out, &cb->outputs[i]))
            return differs("tick %ld: output '%s' is %.17g in %s, %.17g in %s", tick,
                           ca->outputs[i].name, getf(b->out, &cb->outputs[i]), b->what,
                           getf(a->out, &ca->outputs[i]), a->what);
    for (uint32_t i = 0; i < ca->n_params; i++)
        if (!same_var(a->state, &ca->params[i], b->state, &cb->params[i]))
            return differs("tick %ld: param '%s' differs between %s and %s", tick,
                           ca->params[i].name, a->what, b->what);
    for (uint32_t j = 0; j < cb->n_state; j++)
        for (uint32_t i = 0; i < ca->n_state; i++)
            if (!strcmp(ca->state[i].name, cb->state[j].name)) {
                if (!same_var(a->state, &ca->state[i], b->state, &cb->state[j]))
                    return differs("tick %ld: state '%s' is %.17g in %s, %.17g in %s", tick,
                                   cb->state[j].name, getf(b->state, &cb->state[j]), b->what,
                                   getf(a->state, &ca->state[i]), a->what);
                break;
            }
    return 0;
}

/* ---- inputs ------------------------------------------------------------------- */

typedef struct feeder {
    rng r;
    double *val;
    unsigned *hold;
} feeder;

/* A value for an input element: mostly ordinary, often at an edge. */
static double draw(rng *r, const ir_var *v, int *invalid)
{
    if (v->type == IR_BOOL)
        return (double)rng_below(r, 2);
    unsigned k = rng_below(r, 1000);
    if (k < 8) { /* an invalid value: this tick keeps no state */
        static const double bad[] = { NAN, INFINITY, -INFINITY };
        if (v->has_range && k < 4)
            return rng_below(r, 2) ? v->hi + 1 + fabs(v->hi) : v->lo - 1 - fabs(v->lo);
        *invalid = 1;
        return bad[k % 3];
    }
    if (v->has_range) {
        double lo = v->lo, hi = v->hi;
        if (k < 150)
            return lo;
        if (k < 300)
            return hi;
        if (k < 340 && lo <= 0 && hi >= 0)
            return rng_below(r, 2) ? 0.0 : -0.0;
        if (k < 380 && lo <= 0 && hi >= 0)
            return rng_below(r, 2) ? 4.9e-324 * (hi > 0) : -4.9e-324 * (lo < 0);
        return lo + (hi - lo) * rng_unit(r);
    }
    static const double edges[] = { 0.0,     -0.0,     1,         -1,     1e300,  -1e300,
                                    DBL_MAX, -DBL_MAX, 1e-310,    -1e-310, 4.9e-324, DBL_MIN,
                                    0.5,     1e6,      -123456.5, 1e-8,   710,    -745 };
    if (k < 300)
        return edges[rng_below(r, sizeof edges / sizeof *edges)];
    if (k < 400)
        return (double)((int)rng_below(r, 21) - 10);
    return (rng_unit(r) - 0.5) * 6;
}

static void feeder_init(feeder *f, const ir_circuit *c, uint64_t seed)
{
    f->r.s = seed;
    f->val = calloc((size_t)c->n_inputs + 1, sizeof *f->val);
    f->hold = calloc((size_t)c->n_inputs + 1, sizeof *f->hold);
}

static void feeder_free(feeder *f)
{
    free(f->val);
    free(f->hold);
}

/* Fill the in block for one tick; returns whether a value is invalid. */
static int feeder_tick(feeder *f, const ir_circuit *c, unsigned char *in)
{
    int invalid = 0;
    for (uint32_t i = 0; i < c->n_inputs; i++) {
        const ir_var *v = &c->inputs[i];
        if (f->hold[i] == 0) {
            int inv = 0;
            f->val[i] = draw(&f->r, v, &inv);
            f->hold[i] = 1 + rng_below(&f->r, rng_below(&f->r, 4) ? 20 : 2);
        }
        f->hold[i]--;
        setf(in, v, f->val[i]);
        double x = f->val[i];
        if (v->type == IR_F64 && (!isfinite(x) || (v->has_range && (x < v->lo || x > v->hi))))
            invalid = 1;
    }
    return invalid;
}

/* A param value: in its range (often at a bound), or near its default. */
static double param_value(rng *r, const ir_var *v)
{
    if (v->type == IR_BOOL)
        return (double)rng_below(r, 2);
    if (v->has_range) {
        unsigned k = rng_below(r, 10);
        return k == 0 ? v->lo : k == 1 ? v->hi : v->lo + (v->hi - v->lo) * rng_unit(r);
    }
    if (v->is_dur)
        return 0.001 + rng_unit(r);
    unsigned k = rng_below(r, 10);
    if (k == 0)
        return 0;
    if (k == 1)
        return 1e300;
    return (rng_unit(r) - 0.5) * 8;
}

/* ---- repro files ---------------------------------------------------------------- */

static void save_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* The inputs of ticks 0..last as a CSV drivec run reads (--in), and the
 * params as --param options. */
static void save_repro(const char *prog_path, const ir_circuit *c, uint64_t in_seed, long last,
                       const double *params, int have_params)
{
    char csv[1024];
    snprintf(csv, sizeof csv, "%s_%s.csv", prog_path, c->name);
    FILE *f = fopen(csv, "w");
    if (!f)
        return;
    fprintf(f, "tick");
    for (uint32_t i = 0; i < c->n_inputs; i++)
        fprintf(f, ",%s", c->inputs[i].name);
    fprintf(f, "\n");
    feeder fd;
    feeder_init(&fd, c, in_seed);
    unsigned char *in = calloc((size_t)c->in_size + 8, 1);
    int finite = 1;
    for (long t = 0; t <= last; t++) {
        feeder_tick(&fd, c, in);
        fprintf(f, "%ld", t);
        for (uint32_t i = 0; i < c->n_inputs; i++) {
            char buf[40];
            double x = getf(in, &c->inputs[i]);
            finite &= isfinite(x) != 0;
            fprintf(f, ",%s", rt_fmt_f64(buf, x));
        }
        fprintf(f, "\n");
    }
    free(in);
    feeder_free(&fd);
    fclose(f);
    if (!finite) { /* drivec run refuses non-finite values in a CSV */
        printf("  inputs in %s (with non-finite values: replay with gen_run --file)\n", csv);
        return;
    }
    printf("  repro: drivec run %s --circuit %s --in %s --backend both --ticks %ld", prog_path,
           c->name, csv, last + 1);
    for (uint32_t i = 0; have_params && i < c->n_params; i++) {
        char buf[40];
        printf(" --param %s=%s", c->params[i].name, rt_fmt_f64(buf, params[i]));
    }
    printf("\n");
}

/* ---- one program --------------------------------------------------------------- */

static jit *the_jit;

typedef struct so_handle {
    void *dl;
    const drive_abi_module *m;
} so_handle;

static const drive_abi_circuit *so_circuit(so_handle *h, const char *name)
{
    for (uint32_t i = 0; h->m && i < h->m->n_circuits; i++)
        if (!strcmp(h->m->circuits[i]->name, name))
            return h->m->circuits[i];
    return NULL;
}

enum { POP = 19 }; /* two groups of eight lanes in step_n (four of four), and three past them */


/* POP instances stepped by b's step_n against the reference r stepped one
 * instance at a time; 0 when they agree. */
static int population(const char *label, const ir_circuit *c, backend *r, backend *b,
                      uint64_t seed)
{
    size_t ss = c->state_size, os = c->out_size, is = c->in_size;
    unsigned char *st = calloc(POP * ss + 8, 1), *out = calloc(POP * os + 8, 1);
    unsigned char *in = calloc(POP * is + 8, 1);
    unsigned char *rst = calloc(POP * ss + 8, 1), *rout = calloc(POP * os + 8, 1);
    /* step_n's blocks, in columns; st, in and out hold each instance's own */
    unsigned char *cst = calloc(POP * ss + 8, 1), *cout = calloc(POP * os + 8, 1);
    unsigned char *cin = calloc(POP * is + 8, 1);
    feeder fd[POP];
    int bad = 0;
    for (int i = 0; i < POP; i++) {
        rng pr = { seed ^ (0xabcull + (uint64_t)i) };
        b->init(st + i * ss);
        interp_init(r->ip, rst + i * ss);
        for (uint32_t k = 0; k < c->n_params; k++) {
            double x = param_value(&pr, &c->params[k]);
            setf(st + i * ss, &c->params[k], x);
            setf(rst + i * ss, &c->params[k], x);
        }
        feeder_init(&fd[i], c, seed * 131 + (uint64_t)i);
    }
    for (long t = 0; t < 50 && !bad; t++) {
        size_t expect = 0;
        for (int i = 0; i < POP; i++) {
            feeder_tick(&fd[i], c, in + i * is);
            expect += (size_t)interp_step(r->ip, rst + i * ss, in + i * is, rout + i * os);
        }
        for (int i = 0; i < POP; i++) {
            ir_copy_instance(c, IR_BLOCK_STATE, cst, POP, (size_t)i, st + i * ss, 1);
            ir_copy_instance(c, IR_BLOCK_IN, cin, POP, (size_t)i, in + i * is, 1);
        }
        size_t got = b->step_n(cst, POP, cin, cout);
        for (int i = 0; i < POP; i++) {
            ir_copy_instance(c, IR_BLOCK_STATE, cst, POP, (size_t)i, st + i * ss, 0);
            ir_copy_instance(c, IR_BLOCK_OUT, cout, POP, (size_t)i, out + i * os, 0);
        }
        if (got != expect) {
            bad = differs("population tick %ld: %s step_n counts %zu invalid, expected %zu", t,
                          b->what, got, expect);
            break;
        }
        for (int i = 0; i < POP && !bad; i++) {
            backend x = { .what = "interp (one by one)", .ir = c, .state = rst + i * ss,
                          .out = rout + i * os };
            backend y = { .what = b->what, .ir = c, .state = st + i * ss, .out = out + i * os };
            bad = compare_same_layout(&x, &y, t);
        }
    }
    if (bad)
        printf("FAIL %s circuit %s: %s step_n: %s\n", label, c->name, b->what, diff_msg);
    for (int i = 0; i < POP; i++)
        feeder_free(&fd[i]);
    free(st);
    free(out);
    free(in);
    free(rst);
    free(rout);
    free(cst);
    free(cout);
    free(cin);
    return bad;
}

/* Run circuit k of the program through every back end; 0 when they agree. */
static int run_circuit(const char *label, const char *prog_path, ir_circuit *c0, ir_circuit *c1,
                       so_handle *so, uint64_t seed)
{
    n_circuits++;
    int bad = 0;
    diff_msg[0] = 0;
    if (c0->in_size != c1->in_size || c0->n_inputs != c1->n_inputs ||
        c0->out_size != c1->out_size || c0->n_params != c1->n_params) {
        printf("FAIL %s circuit %s: the optimised IR has another interface\n", label, c0->name);
        return 1;
    }
    backend be[5];
    int nb = 0;
    double t0 = now();
    be[nb++] = (backend){ .what = "interp -O0", .ir = c0, .ip = interp_new(c0) };
    be[nb++] = (backend){ .what = "interp", .ir = c1, .ip = interp_new(c1) };
    t_interp += now() - t0;
    jit_fn f0 = { 0 }, f2 = { 0 };
    char *err = NULL;
    t0 = now();
    if (jit_compile(the_jit, c0, 0, &f0, &err) != 0) {
        printf("FAIL %s circuit %s: the JIT (-O0) failed: %s\n", label, c0->name, err);
        free(err);
        bad = 1;
    } else
        be[nb++] = (backend){ .what = "jit -O0", .ir = c0, .step = f0.step, .init = f0.init };
    if (!bad && jit_compile(the_jit, c1, 2, &f2, &err) != 0) {
        printf("FAIL %s circuit %s: the JIT failed: %s\n", label, c1->name, err);
        free(err);
        bad = 1;
    } else if (!bad)
        be[nb++] = (backend){ .what = "jit", .ir = c1, .step = f2.step, .init = f2.init,
                              .step_n = f2.step_n };
    t_jit += now() - t0;
    const drive_abi_circuit *sc = so ? so_circuit(so, c1->name) : NULL;
    if (!bad && so) {
        if (!sc) {
            printf("FAIL %s circuit %s: not in the .so\n", label, c1->name);
            bad = 1;
        } else if (sc->state_size != c1->state_size || sc->out_size != c1->out_size ||
                   sc->in_size != c1->in_size) {
            printf("FAIL %s circuit %s: the .so has other block sizes\n", label, c1->name);
            bad = 1;
        } else
            be[nb++] = (backend){ .what = ".so", .ir = c1, .step = sc->step, .init = sc->init,
                                  .step_n = sc->step_n };
    }
    for (int k = 0; k < nb; k++) {
        be[k].state = calloc((size_t)be[k].ir->state_size + 8, 1);
        be[k].out = calloc((size_t)be[k].ir->out_size + 8, 1);
    }
    unsigned char *in = calloc((size_t)c0->in_size + 8, 1);
    double *params = calloc((size_t)c0->n_params + 1, sizeof *params);
    uint64_t in_seed = seed * 31 + 7;
    int have_params = 0;
    long fail_tick = -1;
    for (int run = 0; run < 2 && !bad; run++) {
        rng pr = { seed ^ 0x5eedull ^ (uint64_t)run };
        have_params = run == 1;
        for (uint32_t i = 0; i < c0->n_params; i++)
            params[i] = param_value(&pr, &c0->params[i]);
        in_seed = seed * 31 + 7 + (uint64_t)run;
        for (int k = 0; k < nb; k++) {
            be_init(&be[k]);
            if (have_params)
                for (uint32_t i = 0; i < c0->n_params; i++)
                    setf(be[k].state, &be[k].ir->params[i], params[i]);
        }
        feeder fd;
        feeder_init(&fd, c0, in_seed);
        for (long t = 0; t < opt_ticks && !bad; t++) {
            int invalid = feeder_tick(&fd, c0, in);
            n_invalid += invalid;
            n_ticks++;
            int st[5];
            for (int k = 0; k < nb; k++) {
                double ts = now();
                st[k] = be_step(&be[k], in);
                double dtm = now() - ts;
                if (be[k].ip)
                    t_interp += dtm;
                else if (!strcmp(be[k].what, ".so"))
                    t_so_run += dtm;
                else
                    t_jit += dtm;
            }
            if (t == corrupt_tick && c1->out_size)
                be[nb - 1].out[0] ^= 1;
            for (int k = 0; k < nb && !bad; k++)
                if (st[k] != invalid)
                    bad = differs("tick %ld: %s returns %d, the inputs were %s", t, be[k].what,
                                  st[k], invalid ? "invalid" : "valid");
            if (!bad)
                bad = compare_same_layout(&be[0], nb > 2 ? &be[2] : &be[0], t);
            for (int k = 3; k < nb && !bad; k++)
                bad = compare_same_layout(&be[1], &be[k], t);
            if (!bad && nb == 5) { /* JIT against .so: only to count NaN bits */
                nan_counter = &n_nan_llvm;
                bad = compare_same_layout(&be[3], &be[4], t);
                nan_counter = &n_nan_payload;
            }
            if (!bad)
                bad = compare_across(&be[0], &be[1], t);
            if (bad)
                fail_tick = t;
        }
        feeder_free(&fd);
    }
    if (bad && diff_msg[0]) {
        printf("FAIL %s circuit %s: %s (%s params)\n", label, c0->name, diff_msg,
               have_params ? "random" : "default");
        save_repro(prog_path, c0, in_seed, fail_tick, params, have_params);
    }
    /* populations: step_n over POP instances (own params, own inputs) must
     * equal POP single instances of the optimised IR's interpreter */
    for (int k = 3; k < nb && !bad; k++)
        if (be[k].step_n)
            bad = population(label, c1, &be[1], &be[k], seed);
    /* init over a used block (here: every byte 0xA5) must give back every
     * param, state slot and padding byte of a fresh one, in every back end */
    if (!bad) {
        for (int k = 0; k < nb; k++) {
            memset(be[k].state, 0xA5, be[k].ir->state_size);
            be_init(&be[k]);
        }
        if (nb > 2)
            bad = compare_same_layout(&be[0], &be[2], -1);
        for (int k = 3; k < nb && !bad; k++)
            bad = compare_same_layout(&be[1], &be[k], -1);
        if (bad)
            printf("FAIL %s circuit %s: init over a used block: %s\n", label, c0->name,
                   diff_msg);
    }
    for (int k = 0; k < nb; k++) {
        interp_free(be[k].ip);
        free(be[k].state);
        free(be[k].out);
    }
    free(in);
    free(params);
    if (f0.step && jit_remove(the_jit, &f0, &err) != 0)
        free(err);
    if (f2.step && jit_remove(the_jit, &f2, &err) != 0)
        free(err);
    return bad;
}

/* Compile the text twice (unoptimised, optimised), build the .so when asked,
 * and run every circuit. Returns 0 (agree), 1 (differ) or 2 (rejected). */
static int run_program(const char *label, const char *name, const char *text, uint64_t seed,
                       int with_so, const char *save_as, const char *save_rejected)
{
    n_programs++;
    compile_opts o0 = { 0 }, o1 = { .optimize = 1 };
    double t0 = now();
    compile_result *r0 = compile_source(name, text, strlen(text), &o0);
    if (diag_errors(r0->diag) || !r0->n_circuits) {
        n_rejected++;
        printf("REJECTED %s: the checker refuses it (saved as %s)\n", label, save_rejected);
        if (!quiet)
            diag_flush(r0->diag, stdout, 0);
        save_text(save_rejected, text);
        compile_free(r0);
        return 2;
    }
    compile_result *r1 = compile_source(name, text, strlen(text), &o1);
    t_compile += now() - t0;
    int bad = 0;
    if (diag_errors(r1->diag) || r1->n_circuits != r0->n_circuits) {
        printf("FAIL %s: the optimised compile fails where the plain one succeeds\n", label);
        diag_flush(r1->diag, stdout, 0);
        bad = 1;
    }
    so_handle so = { 0 };
    char so_path[1200] = "";
    if (!bad && with_so) {
        snprintf(so_path, sizeof so_path, "%s/so/%s.so", out_dir, label);
        aot_options ao = { .out_so = so_path, .cpu = "generic" };
        int cached = 0;
        char *err = NULL;
        t0 = now();
        if (aot_build(r1, r1->circuits, r1->n_circuits, &ao, &cached, &err) != 0) {
            printf("FAIL %s: drivec build's path failed: %s\n", label, err ? err : "?");
            free(err);
            bad = 1;
        } else {
            so.dl = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
            drive_module_fn fn = so.dl ? (drive_module_fn)(uintptr_t)dlsym(so.dl, "drive_module")
                                       : NULL;
            so.m = fn ? fn() : NULL;
            if (!so.m || so.m->abi_version != DRIVE_ABI_VERSION) {
                printf("FAIL %s: cannot load %s: %s\n", label, so_path,
                       so.dl ? "no drive_module" : dlerror());
                bad = 1;
            }
        }
        t_so_build += now() - t0;
        n_so++;
    }
    for (int i = 0; i < r0->n_circuits && !bad; i++)
        bad |= run_circuit(label, save_as, r0->circuits[i], r1->circuits[i], with_so ? &so : NULL,
                           seed + (uint64_t)i * 1000003u);
    if (so.dl)
        dlclose(so.dl);
    if (so_path[0])
        remove(so_path);
    if (bad) {
        n_failed++;
        if (strcmp(save_as, name))
            save_text(save_as, text);
        printf("  program saved as %s; replay: gen_run --file %s --seed %llu --ticks %ld\n"
               "  shrink: tests/gen/reduce.py %s 'gen_run --file {} --seed %llu --ticks %ld -q "
               "--out /tmp/shrink; test $? = 1'\n",
               save_as, save_as, (unsigned long long)seed, opt_ticks, save_as,
               (unsigned long long)seed, opt_ticks);
    }
    compile_free(r1);
    compile_free(r0);
    return bad;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = 0;
    fclose(f);
    return s;
}

static int usage(void)
{
    fprintf(stderr, "usage: gen_run [--from SEED] [--count N] [--stride S] [--ticks T] [--so-every K] "
                    "[--out DIR] [-q]\n       gen_run --file PROGRAM.drive [--seed S] [--ticks T] [--out DIR]\n");
    return 2;
}

int main(int argc, char **argv)
{
    unsigned long long from = 1, file_seed = 1;
    long count = 100, so_every = 1;
    uint64_t stride = 1;
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-q"))
            quiet = 1;
        else if (!v)
            return usage();
        else if (!strcmp(a, "--from"))
            from = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--count"))
            count = strtol(v, NULL, 10), i++;
        else if (!strcmp(a, "--ticks"))
            opt_ticks = strtol(v, NULL, 10), i++;
        else if (!strcmp(a, "--so-every"))
            so_every = strtol(v, NULL, 10), i++;
        else if (!strcmp(a, "--stride"))
            stride = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--out"))
            out_dir = v, i++;
        else if (!strcmp(a, "--file"))
            file = v, i++;
        else if (!strcmp(a, "--seed"))
            file_seed = strtoull(v, NULL, 10), i++;
        else
            return usage();
    }
    if (count < 0 || opt_ticks <= 0 || so_every < 0 || stride == 0)
        return usage();
    char sub[1100];
    mkdir(out_dir, 0777);
    snprintf(sub, sizeof sub, "%s/so", out_dir);
    if (mkdir(sub, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "gen_run: cannot make %s: %s\n", sub, strerror(errno));
        return 2;
    }
    if (getenv("GEN_RUN_CORRUPT"))
        corrupt_tick = strtol(getenv("GEN_RUN_CORRUPT"), NULL, 10);
    char *err = NULL;
    the_jit = jit_create(&err);
    if (!the_jit) {
        fprintf(stderr, "gen_run: no JIT: %s\n", err ? err : "?");
        free(err);
        return 2;
    }
    double start = now();
    int file_rc = 0;
    if (file) {
        char *text = read_file(file);
        if (!text) {
            fprintf(stderr, "gen_run: cannot read %s\n", file);
            jit_destroy(the_jit);
            return 2;
        }
        const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
        char label[256];
        snprintf(label, sizeof label, "%.*s", (int)strcspn(base, "."), base);
        char save[1200];
        snprintf(save, sizeof save, "%s/fail_%s.drive", out_dir, label);
        int rc = run_program(label, file, text, file_seed, so_every != 0, save, save);
        free(text);
        file_rc = rc == 2 ? 3 : rc;
    } else {
        for (long k = 0; k < count; k++) {
            uint64_t seed = from + (uint64_t)k * stride;
            gen_info info;
            char *text = gen_program(seed, &info);
            for (int c = 0; c < GEN_C_COUNT; c++)
                used[c] += info.used[c] != 0;
            char label[64], name[80], save[1200];
            snprintf(label, sizeof label, "gen_%llu", (unsigned long long)seed);
            snprintf(name, sizeof name, "%s.drive", label);
            char rej[1200];
            snprintf(save, sizeof save, "%s/fail_%llu.drive", out_dir, (unsigned long long)seed);
            snprintf(rej, sizeof rej, "%s/rejected_%llu.drive", out_dir,
                     (unsigned long long)seed);
            run_program(label, name, text, seed,
                        so_every > 0 && (long)(seed % (uint64_t)so_every) == 0, save, rej);
            free(text);
            if (!quiet && (k + 1) % 100 == 0)
                printf("... %ld programs, %ld failed, %ld rejected, %.0f s\n", k + 1, n_failed,
                       n_rejected, now() - start);
            fflush(stdout);
        }
    }
    jit_destroy(the_jit);
    double total = now() - start;
    printf("%ld programs (%ld circuits, %ld with the .so), %ld ticks each run, %ld circuit-ticks "
           "(%ld invalid): %ld failed, %ld rejected; NaNs differing only in sign/payload: %ld "
           "between the interpreter and compiled code, %ld between the JIT and the .so\n",
           n_programs, n_circuits, n_so, opt_ticks, n_ticks, n_invalid, n_failed, n_rejected,
           n_nan_payload, n_nan_llvm);
    printf("time %.1f s: compile %.1f, interp %.1f, jit %.1f, .so build %.1f, .so run %.1f\n",
           total, t_compile, t_interp, t_jit, t_so_build, t_so_run);
    if (!file) {
        printf("constructs (programs using each):");
        for (int c = 0; c < GEN_C_COUNT; c++)
            printf("%s %s %ld", c ? "," : "", gen_construct_names[c], used[c]);
        printf("\n");
    }
    if (file)
        return file_rc;
    return n_failed || n_rejected ? 1 : 0;
}
