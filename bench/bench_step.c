/* bench_step.c — speed of compiled step functions and of compiling them.
 *
 * For each circuit with a hand-written C baseline (compiled with the same
 * -O2 in this binary), times a single instance over a pre-generated random
 * input trace: the JIT-compiled step, the IR interpreter and the hand-written
 * C, reported as ns per step and as ratios to the C measured in the same run
 * (median of repeated runs). Also checks that JIT and C agree bit for bit,
 * and times source -> callable step function (first in the process, then
 * warm). `--quick` runs a tiny version for the test suite.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile.h"
#include "interp.h"
#include "jit.h"
#include "social_attention_ref.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static uint64_t rng = 0x2545F4914F6CDD1Du;
static double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) * 0x1p-53;
}

typedef int (*step_fn)(void *ctx, void *st, const void *in, void *out);

static int jit_step(void *ctx, void *st, const void *in, void *out)
{
    return ((jit_fn *)ctx)->step(st, in, out);
}
static int interp_step_cb(void *ctx, void *st, const void *in, void *out)
{
    return interp_step(ctx, st, in, out);
}
static int ref_step_cb(void *ctx, void *st, const void *in, void *out)
{
    (void)ctx;
    return ref_step(st, in, out);
}

/* Time `ticks` steps; the checksum keeps the work from being optimised out. */
static double time_steps(step_fn f, void *ctx, void *st, const ref_in *in, long n_in, long ticks,
                         double *checksum)
{
    ref_out out;
    double sum = 0, t0 = now();
    for (long k = 0; k < ticks; k++) {
        sum += f(ctx, st, &in[k % n_in], &out); /* the status, as a host would read it */
        sum += out.arousal;
    }
    double t = now() - t0;
    *checksum += sum;
    return t / (double)ticks * 1e9;
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    const char *src = argc > 2 ? argv[2] : "examples/social_attention/social_attention.drive";
    long ticks = quick ? 20000 : 5000000, n_in = 4096;
    int reps = quick ? 3 : 9, compile_reps = quick ? 3 : 21;

    ref_in *in = calloc((size_t)n_in, sizeof *in);
    for (long k = 0; k < n_in; k++) {
        in[k].face = uniform() < 0.3 ? uniform() : 0.0;
        in[k].voice = uniform() < 0.2 ? uniform() : 0.0;
        in[k].eye_contact = uniform() < 0.05;
    }

    /* Compile latency: source text -> callable step function. */
    double *lat = calloc((size_t)compile_reps, sizeof *lat);
    char *err = NULL;
    double t0 = now();
    jit *j = jit_create(&err);
    compile_opts copts = { .optimize = 1 };
    compile_result *r = compile_file(src, &copts);
    ir_circuit *c = diag_errors(r->diag) ? NULL : compile_pick(r, NULL);
    jit_fn fn;
    if (!j || !c || jit_compile(j, c, 2, &fn, &err) != 0) {
        diag_flush(r->diag, stderr, 0);
        fprintf(stderr, "bench: cannot compile %s: %s\n", src, err ? err : "");
        return 1;
    }
    double first = (now() - t0) * 1e3;
    for (int i = 0; i < compile_reps; i++) {
        double t = now();
        compile_result *r2 = compile_file(src, &copts);
        jit_fn f2;
        if (jit_compile(j, compile_pick(r2, NULL), 2, &f2, &err) != 0)
            return 1;
        lat[i] = (now() - t) * 1e3;
        jit_remove(j, &f2, &err);
        compile_free(r2);
    }

    /* Agreement: JIT and hand-written C on the whole trace. */
    void *st = calloc(1, c->state_size);
    ref_state rs;
    fn.init(st);
    ref_init(&rs);
    long mismatches = 0;
    for (long k = 0; k < n_in; k++) {
        ref_out a, b;
        int sa = fn.step(st, &in[k], &a);
        int sb = ref_step(&rs, &in[k], &b);
        mismatches += memcmp(&a.conspecific, &b.conspecific, 8) || a.attending != b.attending ||
                      memcmp(&a.arousal, &b.arousal, 8) || sa != sb;
    }

    interp *ip = interp_new(c);
    double *tj = calloc((size_t)reps, sizeof *tj), *ti = calloc((size_t)reps, sizeof *ti),
           *tc = calloc((size_t)reps, sizeof *tc);
    double checksum = 0;
    for (int k = 0; k < reps; k++) {
        fn.init(st);
        tj[k] = time_steps(jit_step, &fn, st, in, n_in, ticks, &checksum);
        interp_init(ip, st);
        ti[k] = time_steps(interp_step_cb, ip, st, in, n_in, ticks / 10, &checksum);
        ref_init(&rs);
        tc[k] = time_steps(ref_step_cb, NULL, &rs, in, n_in, ticks, &checksum);
    }
    double mj = median(tj, reps), mi = median(ti, reps), mc = median(tc, reps);

    printf("circuit %s.%s (%u IR instructions, %u state bytes)%s\n", c->module, c->name,
           c->n_code, c->state_size, quick ? "  [quick run: figures not meaningful]" : "");
    printf("  %-34s %10s %12s\n", "step, one instance", "ns/step", "vs C -O2");
    printf("  %-34s %10.2f %11.2fx\n", "hand-written C (gcc -O2)", mc, 1.0);
    printf("  %-34s %10.2f %11.2fx\n", "JIT (LLVM default<O2>)", mj, mc / mj);
    printf("  %-34s %10.2f %11.2fx\n", "IR interpreter", mi, mc / mi);
    printf("  (ratio > 1: faster than the C baseline)\n");
    printf("  JIT vs C outputs over %ld ticks: %s\n", n_in,
           mismatches ? "MISMATCH" : "bit-identical");
    printf("  source -> callable step: first %.2f ms (incl. JIT start), warm median %.2f ms\n",
           first, median(lat, compile_reps));
    printf("  (checksum %g)\n", checksum);

    interp_free(ip);
    free(st);
    free(in);
    free(lat);
    free(tj);
    free(ti);
    free(tc);
    free(err);
    compile_free(r);
    jit_destroy(j);
    return mismatches ? 1 : 0;
}
