/* fuzz_run.c — libFuzzer target for the whole path: source text compiled,
 * every circuit JIT-compiled and stepped for some ticks with fuzzer-chosen
 * inputs and params, and checked against the reference interpreter tick by
 * tick (outputs, params, state and the tick's status, bit for bit, any NaN
 * equal to any NaN). A disagreement between back ends is a crash here.
 *
 * Input: the source text, then optionally a NUL byte and control bytes:
 *   c[0]  number of ticks, 1..64
 *   c[1]  bit 0: LLVM at -O0 instead of -O2; bit 1: params from the stream
 *   c[2…] the value stream, one byte per input (or param) per tick: small
 *         bytes pick special values (0, ±1, ±inf, NaN, -0, huge, subnormal),
 *         the others are (b - 128) / 32.
 * Without control bytes: 8 ticks at -O2 with a fixed stream.
 *
 * Scenarios are run too (as `drivec test --backend both`) when each is
 * short (a literal length of at most FUZZ_MAX_SCN_SECONDS, or as many ticks
 * times 100, at a tick of at least 1 ms): the JIT and the interpreter must
 * agree on them as well.
 *
 * Circuits whose IR exceeds FUZZ_MAX_CODE instructions are only checked by
 * the front end: compiling huge scalarized vectors is slow by design (see
 * lang/SPEC.md, "Limits"), which would read as a hang here.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "interp.h"
#include "jit.h"
#include "rt.h"
#include "scenario.h"

#define FUZZ_MAX_CODE 4000
#define FUZZ_MAX_SCN_SECONDS 5.0

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static jit *the_jit;

typedef struct stream {
    const uint8_t *p;
    size_t n, at;
} stream;

static double next_value(stream *s)
{
    static const double special[16] = {
        0.0, 1.0, -1.0, 0.5, INFINITY, -INFINITY, NAN, -0.0,
        1e308, -1e308, 5e-324, 1e-300, 2.0, 100.0, 1e9, 0.999,
    };
    uint8_t b;
    if (s->n == 0)
        b = (uint8_t)(s->at++ * 37 + 101); /* a fixed, varied stream */
    else
        b = s->p[s->at++ % s->n];
    if (b < 16)
        return special[b];
    return (b - 128) / 32.0;
}

static void fail(const char *what, const ir_circuit *c, long tick, const char *field, double a,
                 double b)
{
    char x[32], y[32];
    fprintf(stderr, "fuzz_run: %s.%s: %s at tick %ld on '%s': jit %s, interp %s\n", c->module,
            c->name, what, tick, field, rt_fmt_f64(x, a), rt_fmt_f64(y, b));
    abort();
}

static void compare(const ir_circuit *c, const rt_field *f, uint32_t n, const void *a,
                    const void *b, long tick, const char *what)
{
    for (uint32_t i = 0; i < n; i++)
        if (!rt_same(a, b, &f[i]))
            fail(what, c, tick, f[i].name, rt_get(a, &f[i]), rt_get(b, &f[i]));
}

static void run_circuit(arena *mem, ir_circuit *c, int opt_level, int set_params, long ticks,
                        stream *s)
{
    char *msg = NULL;
    jit_fn fn = { 0 };
    if (jit_compile(the_jit, c, opt_level, &fn, &msg) != 0) {
        /* The front end accepted it: the back end must too. */
        fprintf(stderr, "fuzz_run: %s.%s: JIT compilation failed: %s\n", c->module, c->name,
                msg ? msg : "?");
        abort();
    }
    free(msg);
    interp *ip = interp_new(c);
    rt_circuit jc = compile_reflect(mem, c), ic = jc;
    jit_bind(&jc, &fn);
    interp_bind(&ic, ip);

    unsigned char *in = calloc(1, c->in_size + 1), *out = calloc(1, c->out_size + 1),
                  *rout = calloc(1, c->out_size + 1), *st = calloc(1, c->state_size + 1),
                  *rst = calloc(1, c->state_size + 1);
    jc.init(jc.ctx, st);
    ic.init(ic.ctx, rst);
    compare(c, jc.params, jc.n_params, st, rst, -1, "init: params differ");
    compare(c, jc.state, jc.n_state, st, rst, -1, "init: state differs");
    if (set_params)
        for (uint32_t i = 0; i < jc.n_params; i++) {
            double v = next_value(s);
            rt_set(st, &jc.params[i], v);
            rt_set(rst, &jc.params[i], v);
        }
    for (long k = 0; k < ticks; k++) {
        for (uint32_t i = 0; i < jc.n_inputs; i++)
            rt_set(in, &jc.inputs[i], next_value(s));
        int a = jc.step(jc.ctx, st, in, out) != 0;
        int b = ic.step(ic.ctx, rst, in, rout) != 0;
        if (a != b)
            fail("status differs", c, k, "(status)", a, b);
        compare(c, jc.outputs, jc.n_outputs, out, rout, k, "outputs differ");
        compare(c, jc.params, jc.n_params, st, rst, k, "params differ");
        compare(c, jc.state, jc.n_state, st, rst, k, "state differs");
    }
    free(in);
    free(out);
    free(rout);
    free(st);
    free(rst);
    interp_free(ip);
    if (jit_remove(the_jit, &fn, &msg) != 0) {
        fprintf(stderr, "fuzz_run: jit_remove failed: %s\n", msg ? msg : "?");
        abort();
    }
    free(msg);
}

/* Whether every scenario of the file is short enough to run here. */
static int scenarios_short(const compile_result *r)
{
    const ast_module *m = r->ast;
    if (!m->n_scenarios || (m->tick && (m->tick->kind != EX_DUR || !(m->tick->num >= 0.001))))
        return 0;
    for (int i = 0; i < m->n_scenarios; i++) {
        const ast_expr *len = m->scenarios[i]->length;
        if (!len || !((len->kind == EX_DUR && len->num <= FUZZ_MAX_SCN_SECONDS) ||
                      (len->kind == EX_TICKS && len->num <= FUZZ_MAX_SCN_SECONDS * 100)))
            return 0;
    }
    return 1;
}

static void run_scenarios(compile_result *r, const compile_opts *opts)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = fopen("/dev/null", "w");
    scn_options so = { .backend = SCN_BOTH, .out = out };
    scn_totals t = { 0 };
    scn_run_file(r, opts, &so, &t);
    fclose(out);
    FILE *f = open_memstream(&text, &len);
    diag_flush(r->diag, f, 0);
    fclose(f);
    if (text && strstr(text, "the JIT and the interpreter disagree")) {
        fprintf(stderr, "fuzz_run: %s", text);
        abort();
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!the_jit) {
        char *msg = NULL;
        the_jit = jit_create(&msg);
        if (!the_jit) {
            fprintf(stderr, "fuzz_run: no JIT: %s\n", msg ? msg : "?");
            abort();
        }
        free(msg);
    }
    const uint8_t *nul = memchr(data, 0, size);
    size_t src_len = nul ? (size_t)(nul - data) : size;
    const uint8_t *ctl = nul ? nul + 1 : NULL;
    size_t n_ctl = nul ? size - src_len - 1 : 0;
    long ticks = n_ctl > 0 ? 1 + ctl[0] % 64 : 8;
    int opt_level = n_ctl > 1 && (ctl[1] & 1) ? 0 : 2;
    int set_params = n_ctl > 1 && (ctl[1] & 2);
    stream s = { n_ctl > 2 ? ctl + 2 : NULL, n_ctl > 2 ? n_ctl - 2 : 0, 0 };

    compile_opts opts = { .optimize = 1 };
    compile_result *r = compile_source("/nonexistent/fuzz.drive", (const char *)data, src_len,
                                       &opts);
    if (!diag_errors(r->diag)) {
        int small = 1;
        for (int i = 0; i < r->n_circuits; i++)
            if (r->circuits[i] && r->circuits[i]->n_code <= FUZZ_MAX_CODE)
                run_circuit(&r->mem, r->circuits[i], opt_level, set_params, ticks, &s);
            else
                small = 0;
        if (small && r->sema && scenarios_short(r))
            run_scenarios(r, &opts);
    }
    compile_free(r);
    return 0;
}
