/* bench.c — every benchmark of drive in one program (bench/run.sh builds and
 * runs it). Each timing is the median of repeated runs and is reported
 * with its ratio to a baseline measured in the same run:
 *
 *   1. step, one instance: each circuit of the standard library and of the
 *      examples, JIT-compiled and built as a .so, against the circuit
 *      written by hand in C (refs*.c, compiled with gcc -O2), over a random
 *      input trace; JIT, .so and C are first checked to agree bit for bit;
 *   2. populations: N instances (100,000) with per-instance params stepped
 *      T ticks (100 by default, to keep the run short; --pop-ticks 1000
 *      gives the same rates) through step_n (blocks in columns), against a
 *      loop over the single-instance step (blocks end to end): instance-steps
 *      per second and their ratio
 *      (both must leave identical states); beside them, the limit the
 *      memory system sets (its rate, measured in the same run, over the
 *      bytes an instance-step moves); then the same with 1,000 instances,
 *      whose blocks stay in the caches;
 *   3. compile latency: source -> callable step functions for the whole
 *      standard library and each example, in a fresh process (JIT start
 *      included) and warm; and the time to build the .so;
 *   4. memory: bytes of state per instance against the bytes the declared
 *      params and state slots need.
 *
 * Benchmarks are not tests: the exit status is 1 only when results
 * disagree or something fails to build, never because of a timing.
 * `--quick` runs a tiny version of everything (the suite's bench_quick).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <glob.h>
#include <malloc.h>
#include <math.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aot.h"
#include "drive_abi.h"
#include "compile.h"
#include "jit.h"
#include "refs.h"

extern char **environ;

/* Timings are this thread's CPU time: the machines these run on are often
 * shared, and time slices given to other processes are not the code's. The
 * whole-process compile latency (spawn to exit) is wall time. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double wall(void)
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

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    return p;
}

/* ---- options ------------------------------------------------------------ */

typedef struct options {
    int quick;
    long ticks;      /* single-instance steps per timing */
    int reps;        /* timings per median */
    long pop_n;      /* population size */
    long pop_ticks;  /* ticks per population timing */
    int pop_reps;
    int compile_reps, cold_reps, so_reps;
    const char *only; /* run only circuits whose module.name contains this */
} options;

/* ---- circuits ----------------------------------------------------------- */

typedef int (*step_fn)(void *, const void *, void *);
typedef size_t (*step_n_fn)(void *, size_t, const void *, void *);

typedef struct circuit {
    const char *file;
    ir_circuit *c;
    jit_fn fn;
    void (*so_init)(void *);
    step_fn so_step;
    const bench_ref *ref;
    int has_predictor;
} circuit;

/* Random inputs within each input's declared range (else [-1, 1]); bools
 * true 30% of the time. */
static void random_inputs(const ir_circuit *c, unsigned char *in)
{
    for (uint32_t k = 0; k < c->n_inputs; k++) {
        const ir_var *v = &c->inputs[k];
        if (v->type == IR_BOOL) {
            in[v->offset] = uniform() < 0.3;
        } else {
            double lo = v->has_range ? v->lo : -1, hi = v->has_range ? v->hi : 1;
            double x = lo + (hi - lo) * uniform();
            memcpy(in + v->offset, &x, sizeof x);
        }
    }
}

/* A random value for each param within its range (bools: 0 or 1; no range:
 * the default scaled by 0.5 to 1.5). */
static void random_params(const ir_circuit *c, unsigned char *state)
{
    for (uint32_t k = 0; k < c->n_params; k++) {
        const ir_var *v = &c->params[k];
        if (v->type == IR_BOOL) {
            state[v->offset] = uniform() < 0.5;
        } else {
            double x = v->has_range ? v->lo + (v->hi - v->lo) * uniform()
                                    : v->init * (0.5 + uniform());
            memcpy(state + v->offset, &x, sizeof x);
        }
    }
}

/* Outputs equal field by field, any NaN equal to any NaN (SPEC "Numbers"). */
static int same_outputs(const ir_circuit *c, const unsigned char *a, const unsigned char *b)
{
    for (uint32_t k = 0; k < c->n_outputs; k++) {
        const ir_var *v = &c->outputs[k];
        if (v->type == IR_BOOL) {
            if ((a[v->offset] != 0) != (b[v->offset] != 0))
                return 0;
        } else {
            double x, y;
            memcpy(&x, a + v->offset, 8);
            memcpy(&y, b + v->offset, 8);
            if (memcmp(&x, &y, 8) != 0 && !(x != x && y != y))
                return 0;
        }
    }
    return 1;
}

static const bench_ref *find_ref(const ir_circuit *c)
{
    for (int i = 0; i < bench_n_refs_std; i++)
        if (!strcmp(bench_refs_std[i].module, c->module) &&
            !strcmp(bench_refs_std[i].circuit, c->name))
            return &bench_refs_std[i];
    for (int i = 0; i < bench_n_refs_examples; i++)
        if (!strcmp(bench_refs_examples[i].module, c->module) &&
            !strcmp(bench_refs_examples[i].circuit, c->name))
            return &bench_refs_examples[i];
    return NULL;
}

static int has_predictor(const ir_circuit *c)
{
    for (uint32_t k = 0; k < c->n_state; k++)
        if (c->state[k].role == IR_ROLE_WEIGHT)
            return 1;
    return 0;
}

/* ---- 1. one instance ---------------------------------------------------- */

enum { TRACE = 1024 };

static double time_steps(step_fn f, void *st, const unsigned char *in, size_t in_size, void *out,
                         long ticks, double *sink)
{
    double t0 = now();
    long bad = 0;
    for (long k = 0; k < ticks; k++)
        bad += f(st, in + (size_t)(k % TRACE) * in_size, out);
    double t = now() - t0;
    *sink += (double)bad;
    return t / (double)ticks * 1e9;
}

/* JIT, .so and the reference over one trace; 0 when all agree. */
static int check_agreement(const circuit *ci, const unsigned char *trace, size_t isz)
{
    const ir_circuit *c = ci->c;
    unsigned char *s1 = xcalloc(1, c->state_size), *s2 = xcalloc(1, c->state_size);
    unsigned char *o1 = xcalloc(1, c->out_size), *o2 = xcalloc(1, c->out_size),
                  *o3 = xcalloc(1, c->out_size);
    void *rs = ci->ref ? xcalloc(1, ci->ref->state_size) : NULL;
    ci->fn.init(s1);
    ci->so_init(s2);
    if (rs)
        ci->ref->init(rs);
    int bad = memcmp(s1, s2, c->state_size) != 0;
    for (long k = 0; !bad && k < TRACE; k++) {
        const unsigned char *in = trace + (size_t)k * isz;
        int a = ci->fn.step(s1, in, o1), b = ci->so_step(s2, in, o2);
        bad = a != b || !same_outputs(c, o1, o2) || memcmp(s1, s2, c->state_size) != 0;
        if (!bad && rs)
            bad = ci->ref->step(rs, in, o3) != a || !same_outputs(c, o1, o3);
        if (bad)
            fprintf(stderr, "bench: %s.%s: JIT, .so and C disagree at tick %ld\n", c->module,
                    c->name, k);
    }
    free(s1);
    free(s2);
    free(o1);
    free(o2);
    free(o3);
    free(rs);
    return bad;
}

static int bench_single(circuit *cs, int n, const options *o)
{
    int failed = 0;
    double sink = 0;
    printf("\n## 1. Step, one instance (ns/step; ratio = hand-written C time / this time, "
           "> 1 is faster than C)\n\n");
    printf("| circuit | IR insts | C gcc -O2 | JIT | JIT vs C | .so | .so vs C | agree |\n");
    printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
    double *tj = xcalloc((size_t)o->reps, sizeof *tj), *ts = xcalloc((size_t)o->reps, sizeof *ts),
           *tc = xcalloc((size_t)o->reps, sizeof *tc);
    int n_ref = 0, n_jit_ok = 0, n_so_ok = 0;
    for (int i = 0; i < n; i++) {
        circuit *ci = &cs[i];
        const ir_circuit *c = ci->c;
        size_t isz = c->in_size ? (c->in_size + 7) & ~(size_t)7 : 8;
        unsigned char *trace = xcalloc(TRACE, isz);
        for (int k = 0; k < TRACE; k++)
            random_inputs(c, trace + (size_t)k * isz);
        int bad = check_agreement(ci, trace, isz);
        failed |= bad;
        unsigned char *st = xcalloc(1, c->state_size + (ci->ref ? ci->ref->state_size : 0) + 8);
        unsigned char *out = xcalloc(1, c->out_size + 8);
        for (int r = 0; r < o->reps; r++) {
            ci->fn.init(st);
            tj[r] = time_steps(ci->fn.step, st, trace, isz, out, o->ticks, &sink);
            ci->so_init(st);
            ts[r] = time_steps(ci->so_step, st, trace, isz, out, o->ticks, &sink);
            if (ci->ref) {
                ci->ref->init(st);
                tc[r] = time_steps(ci->ref->step, st, trace, isz, out, o->ticks, &sink);
            }
        }
        double mj = median(tj, o->reps), ms = median(ts, o->reps);
        printf("| %s.%s | %u |", c->module, c->name, c->n_code);
        if (ci->ref) {
            double mc = median(tc, o->reps);
            n_ref++;
            n_jit_ok += mc / mj >= 1.0;
            n_so_ok += mc / ms >= 1.0;
            printf(" %.2f | %.2f | %.2fx | %.2f | %.2fx |", mc, mj, mc / mj, ms, mc / ms);
        } else {
            printf(" — | %.2f | — | %.2f | — |", mj, ms);
        }
        printf(" %s |\n", bad ? "**NO**" : ci->ref ? "JIT = .so = C" : "JIT = .so");
        free(trace);
        free(st);
        free(out);
    }
    printf("\nWith a hand-written C baseline: %d of %d circuits; JIT >= 1.0x C on %d, "
           ".so >= 1.0x C on %d.\n", n_ref, n, n_jit_ok, n_so_ok);
    if (sink < 0)
        printf("(%g)\n", sink);
    free(tj);
    free(ts);
    free(tc);
    return failed;
}

/* ---- 2. populations ----------------------------------------------------- */

/* The memory system's own rate, GB/s: a large array read and written back
 * in place, as a step reads and writes its state block. */
static double memory_bandwidth(int reps)
{
    size_t n = (size_t)256 << 20 >> 3; /* 256 MB of words: far beyond the caches */
    uint64_t *a = xcalloc(n, sizeof *a);
    double *t = xcalloc((size_t)reps, sizeof *t);
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        for (size_t i = 0; i < n; i++)
            a[i] += i;
        t[r] = now() - t0;
    }
    double gbs = 2.0 * (double)n * sizeof *a / median(t, reps) * 1e-9;
    if (a[n / 2] == 1) /* keep the loop */
        printf("(%g)\n", gbs);
    free(a);
    free(t);
    return gbs;
}

/* Bytes of the last-level cache, from sysfs (glibc's sysconf reported ten
 * times the size on this machine's virtual CPU); 0 when unknown. */
static long last_level_cache(void)
{
    long best = 0;
    for (int k = 0; k < 8; k++) {
        char path[96], unit = 0;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", k);
        FILE *f = fopen(path, "r");
        long v = 0;
        if (!f)
            continue;
        if (fscanf(f, "%ld%c", &v, &unit) >= 1) {
            v *= unit == 'K' ? 1024 : unit == 'M' ? 1024 * 1024 : 1;
            if (v > best)
                best = v;
        }
        fclose(f);
    }
    return best;
}

/* Marks bytes [off, off + len) of a block: 1 read, 2 written. */
static void mark_bytes(unsigned char *m, size_t size, uint32_t off, size_t len, unsigned char how)
{
    for (size_t b = off; b < off + len && b < size; b++)
        m[b] |= how;
}

/* The bytes an instance-step of step_n moves between main memory and the
 * core. A population is in columns (drive_abi.h), so a cache line holds one
 * field of 8 neighbouring instances (64 for a bool) and every byte of it is
 * used: the count is the bytes of the fields the step touches. Inputs read;
 * state read, and written back when the step stores to it; outputs read
 * and written back (a store to a line reads it first). A ring counts where
 * it is used: one row an index it is read or written at (a predictor reads
 * and writes one row of its history a tick, the same row in every
 * instance), not the whole ring. */
static double moved_bytes(const ir_circuit *c)
{
    size_t size[3] = { c->in_size, c->state_size, c->out_size };
    unsigned char *m[3];
    for (int k = 0; k < 3; k++)
        m[k] = xcalloc(size[k] + 1, 1);
    uint32_t *uses = xcalloc(c->n_state + 1, sizeof *uses), *len = xcalloc(c->n_state + 1, sizeof *len);
    unsigned char *wrote = xcalloc(c->n_state + 1, 1);
    for (uint32_t i = 0; i < c->n_code; i++) {
        const ir_inst *ins = &c->code[i];
        size_t w = ins->type == IR_F64 ? 8 : 1;
        switch (ins->op) {
        case IR_INPUT:
            if (ins->a < c->n_inputs)
                mark_bytes(m[0], size[0], c->inputs[ins->a].offset, w, 1);
            break;
        case IR_PARAM:
            if (ins->a < c->n_params)
                mark_bytes(m[1], size[1], c->params[ins->a].offset, w, 1);
            break;
        case IR_LOAD:
            if (ins->a < c->n_state)
                mark_bytes(m[1], size[1], c->state[ins->a].offset, w, 1);
            break;
        case IR_STORE: case IR_STORE_IF:
            if (ins->slot < c->n_state)
                mark_bytes(m[1], size[1], c->state[ins->slot].offset,
                           c->state[ins->slot].type == IR_F64 ? 8 : 1, 3);
            break;
        case IR_OUTPUT:
            if (ins->slot < c->n_outputs)
                mark_bytes(m[2], size[2], c->outputs[ins->slot].offset,
                           c->outputs[ins->slot].type == IR_F64 ? 8 : 1, 2);
            break;
        case IR_LOADX: case IR_STOREX: case IR_STOREX_IF:
            if (ins->slot < c->n_state) {
                /* a row at an index not used before on this ring */
                uint32_t idx = ins->op == IR_LOADX ? ins->a : ins->b;
                int seen = 0;
                for (uint32_t j = 0; j < i && !seen; j++) {
                    const ir_inst *p = &c->code[j];
                    seen = p->slot == ins->slot &&
                           ((p->op == IR_LOADX && p->a == idx) ||
                            ((p->op == IR_STOREX || p->op == IR_STOREX_IF) && p->b == idx));
                }
                uses[ins->slot] += !seen;
                len[ins->slot] = ir_range_len(ins);
                wrote[ins->slot] |= ins->op != IR_LOADX;
            }
            break;
        default:
            break;
        }
    }
    for (uint32_t s = 0; s < c->n_state; s++)
        if (uses[s])
            mark_bytes(m[1], size[1], c->state[s].offset,
                       8 * (size_t)(uses[s] < len[s] ? uses[s] : len[s]), wrote[s] ? 3 : 1);
    double bytes = 0;
    for (int k = 0; k < 3; k++) {
        for (size_t b = 0; b < size[k]; b++)
            if (m[k][b]) /* a byte written is read first (no streaming stores) */
                bytes += k != 0 && (m[k][b] & 2) ? 2 : 1;
        free(m[k]);
    }
    free(uses);
    free(len);
    free(wrote);
    return bytes;
}

static int bench_population(circuit *cs, int n, const options *o, long pop_n, const char *what)
{
    int failed = 0;
    printf("\n## 2%s. Populations: %ld instances with per-instance params, %ld ticks, %s "
           "(million instance-steps/s)\n\n", pop_n == o->pop_n ? "a" : "b", pop_n, o->pop_ticks,
           what);
    /* In main memory, no step over the host's blocks can beat the memory
     * system: each instance-step reads the lines of its input and state
     * blocks that it uses and writes those of its state and output blocks
     * (moved_bytes). (In the caches that is no limit.) */
    double gbs = pop_n == o->pop_n ? memory_bandwidth(o->pop_reps) : 0;
    /* Blocks that fit in the last-level cache are not bound by
     * main memory (0 when unknown: every row gets a limit). */
    long llc = last_level_cache();
    if (gbs > 0)
        printf("Memory, read and written in place: %.1f GB/s. Limit: that rate over the bytes "
               "each instance-step of step_n moves (in columns, the bytes of the fields it "
               "touches: input read, state read and written back where stored to, output read "
               "and written back; rings at the rows used), "
               "for populations whose blocks do not fit in the last-level cache (%ld MB).\n\n",
               gbs,
               llc >> 20);
    printf("| circuit | predictor | bytes moved | loop over step | step_n | step_n vs loop |%s\n",
           gbs > 0 ? " memory limit | step_n / limit |" : "");
    printf("| --- | --- | ---: | ---: | ---: | ---: |%s\n", gbs > 0 ? " ---: | ---: |" : "");
    double *ta = xcalloc((size_t)o->pop_reps, sizeof *ta),
           *tb = xcalloc((size_t)o->pop_reps, sizeof *tb);
    for (int i = 0; i < n; i++) {
        const circuit *ci = &cs[i];
        const ir_circuit *c = ci->c;
        size_t N = (size_t)pop_n, ss = c->state_size, is = c->in_size, os = c->out_size;
        size_t M = drive_abi_columns(N); /* the columns' length */
        /* The loop steps blocks end to end, step_n the same values in
         * columns (drive_abi.h): each the layout it is made for. */
        unsigned char *init = xcalloc(N, ss), *sa = xcalloc(N, ss), *sb = xcalloc(M, ss);
        unsigned char *initc = xcalloc(M, ss), *in = xcalloc(N, is), *inc = xcalloc(M, is);
        unsigned char *out = xcalloc(M, os);
        for (size_t k = 0; k < N; k++) {
            ci->fn.init(init + k * ss);
            random_params(c, init + k * ss);
            if (is)
                random_inputs(c, in + k * is);
            ir_copy_instance(c, IR_BLOCK_STATE, initc, N, k, init + k * ss, 1);
            ir_copy_instance(c, IR_BLOCK_IN, inc, N, k, in + k * is, 1);
        }
        /* step_n makes its lanes on first use (jit.h): not timed here but
         * in the compile latencies. */
        memcpy(sb, initc, M * ss);
        ci->fn.step_n(sb, N, inc, out);
        for (int r = 0; r < o->pop_reps; r++) {
            memcpy(sa, init, N * ss);
            double t0 = now();
            for (long t = 0; t < o->pop_ticks; t++)
                for (size_t k = 0; k < N; k++)
                    ci->fn.step(sa + k * ss, in + k * is, out + k * os);
            ta[r] = now() - t0;
            memcpy(sb, initc, M * ss);
            t0 = now();
            for (long t = 0; t < o->pop_ticks; t++)
                ci->fn.step_n(sb, N, inc, out);
            tb[r] = now() - t0;
        }
        /* The same states, instance by instance (padding as init left it). */
        memcpy(initc, init, N * ss);
        for (size_t k = 0; k < N; k++)
            ir_copy_instance(c, IR_BLOCK_STATE, sb, N, k, initc + k * ss, 0);
        int bad = memcmp(sa, initc, N * ss) != 0;
        if (bad)
            fprintf(stderr, "bench: %s.%s: step_n and the loop over step disagree\n", c->module,
                    c->name);
        failed |= bad;
        double steps = (double)N * (double)o->pop_ticks;
        double ma = median(ta, o->pop_reps), mb = median(tb, o->pop_reps);
        double moved = moved_bytes(c);
        printf("| %s.%s | %s | %.0f | %.1f | %.1f | %.2fx%s |", c->module, c->name,
               ci->has_predictor ? "yes" : "", moved, steps / ma * 1e-6, steps / mb * 1e-6,
               ma / mb, bad ? " **states differ**" : "");
        if (gbs > 0 && (double)N * (double)(is + ss + os) <= (double)llc) {
            printf(" in cache | — |");
        } else if (gbs > 0 && moved > 0) {
            double limit = gbs * 1e9 / moved;
            printf(" %.1f | %.0f%% |", limit * 1e-6, steps / mb / limit * 100);
        } else if (gbs > 0) {
            printf(" — | — |"); /* touches no memory */
        }
        printf("\n");
        free(init);
        free(initc);
        free(sa);
        free(sb);
        free(in);
        free(inc);
        free(out);
    }
    free(ta);
    free(tb);
    return failed;
}

/* ---- 3. compile latency ------------------------------------------------- */

/* Source -> callable step functions for every circuit of the files, on j:
 * the files' circuits go through LLVM together (jit_compile_many), as a host
 * compiling a whole program does. */
static int compile_all_edit(jit *j, char **files, int nf, int keep, long edit, double *ms,
                            double *lanes_ms);
static int compile_all(jit *j, char **files, int nf, int keep, double *ms)
{
    return compile_all_edit(j, files, nf, keep, -1, ms, NULL);
}

/* An edit of one circuit, as a user makes before compiling again: the first
 * real constant of circuit edit % n nudged by edit / n + 1 ulps. */
static void edit_one(ir_circuit **cs, int n, long edit)
{
    for (int k = 0; k < n; k++) {
        ir_circuit *c = cs[(edit + k) % n];
        for (uint32_t i = 0; i < c->n_code; i++)
            if (c->code[i].op == IR_CONST && c->code[i].type == IR_F64 && isfinite(c->code[i].imm)) {
                for (long u = 0; u <= edit / n; u++)
                    c->code[i].imm = nextafter(c->code[i].imm, INFINITY);
                return;
            }
    }
}

/* *ms: the milliseconds from source text to callable functions (not the
 * removal after, unless keep). With lanes_ms: then the first population
 * step of every circuit (eight instances, a group of lanes), in which
 * step_n has its lanes made; their milliseconds. */
static int compile_all_edit(jit *j, char **files, int nf, int keep, long edit, double *ms,
                            double *lanes_ms)
{
    double start = wall(); /* wall time: LLVM runs on several threads */
    compile_opts copts = { .optimize = 1 };
    compile_result **rs = xcalloc((size_t)nf, sizeof *rs);
    int n = 0, rc = 0;
    for (int f = 0; f < nf && rc == 0; f++) {
        compile_result *r = rs[f] = compile_file(files[f], &copts);
        if (diag_errors(r->diag)) {
            diag_flush(r->diag, stderr, 0);
            rc = -1;
        }
        n += r->n_circuits;
    }
    ir_circuit **cs = xcalloc((size_t)n, sizeof *cs);
    jit_fn *fns = xcalloc((size_t)n, sizeof *fns);
    n = 0;
    for (int f = 0; f < nf && rc == 0; f++)
        for (int k = 0; k < rs[f]->n_circuits; k++)
            cs[n++] = rs[f]->circuits[k];
    if (rc == 0 && edit >= 0 && n > 0)
        edit_one(cs, n, edit);
    char *err = NULL;
    if (rc == 0 && jit_compile_many(j, cs, n, 2, fns, &err) != 0) {
        fprintf(stderr, "bench: %s\n", err ? err : "");
        rc = -1;
    }
    free(err);
    if (ms)
        *ms = (wall() - start) * 1e3;
    if (rc == 0 && lanes_ms) {
        enum { GROUP = 8 }; /* a group of lanes, of four or of eight */
        unsigned long made0, made1, linked;
        jit_lanes_counts(j, &made0, &linked);
        double t0 = wall();
        for (int i = 0; i < n; i++) {
            size_t ss = cs[i]->state_size, is = cs[i]->in_size, os = cs[i]->out_size;
            unsigned char *st = xcalloc(GROUP, ss + 1), *in = xcalloc(GROUP, is + 1),
                          *out = xcalloc(GROUP, os + 1);
            unsigned char *one = xcalloc(1, ss + 1);
            fns[i].init(one);
            for (int k = 0; k < GROUP; k++)
                ir_copy_instance(cs[i], IR_BLOCK_STATE, st, GROUP, (size_t)k, one, 1);
            fns[i].step_n(st, GROUP, in, out);
            free(one);
            free(st);
            free(in);
            free(out);
        }
        *lanes_ms = (wall() - t0) * 1e3;
        /* Timed only if made: a step_n that never asked would time nothing. */
        jit_lanes_counts(j, &made1, &linked);
        if (made1 == made0 && n > 0) {
            fprintf(stderr, "bench: the first population step made no lanes\n");
            rc = -1;
        }
    }
    for (int i = 0; rc == 0 && !keep && i < n; i++) {
        err = NULL;
        jit_remove(j, &fns[i], &err);
        free(err);
    }
    for (int f = 0; f < nf; f++)
        compile_free(rs[f]);
    free(rs);
    free(cs);
    free(fns);
    return rc;
}

/* `bench --cold FILE...`: the first compile in a fresh process, JIT
 * creation included; prints milliseconds. */
static int cold_main(int argc, char **argv)
{
    double t0 = wall();
    char *err = NULL;
    jit *j = jit_create(&err);
    if (!j || compile_all(j, argv, argc, 1, NULL) != 0) {
        fprintf(stderr, "bench: %s\n", err ? err : "cannot compile");
        return 1;
    }
    printf("%.6f\n", (wall() - t0) * 1e3);
    jit_destroy(j);
    return 0;
}

/* One run of `self --cold files`: in-process ms in *inside, whole process
 * (exec to exit) in the return value; < 0 on failure. */
static double cold_run(const char *self, char **files, int nf, double *inside)
{
    char tmpl[] = "/tmp/drive-bench-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0)
        return -1;
    char **av = xcalloc((size_t)nf + 3, sizeof *av);
    av[0] = (char *)self;
    av[1] = "--cold";
    for (int i = 0; i < nf; i++)
        av[2 + i] = files[i];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd, 1);
    pid_t pid;
    double t0 = wall();
    int rc = posix_spawn(&pid, self, &fa, NULL, av, environ);
    int status = 0;
    if (rc == 0)
        waitpid(pid, &status, 0);
    double t = (wall() - t0) * 1e3;
    posix_spawn_file_actions_destroy(&fa);
    free(av);
    FILE *f = fdopen(fd, "r");
    *inside = -1;
    if (f) {
        rewind(f);
        if (fscanf(f, "%lf", inside) != 1)
            *inside = -1;
        fclose(f);
    }
    unlink(tmpl);
    return rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && *inside >= 0 ? t : -1;
}

static int so_build_once(const char *file, double *ms)
{
    compile_opts copts = { .optimize = 1 };
    double t0 = wall(); /* the C compiler runs in child processes */
    compile_result *r = compile_file(file, &copts);
    char dir[] = "/tmp/drive-bench-so-XXXXXX";
    if (diag_errors(r->diag) || !mkdtemp(dir)) {
        compile_free(r);
        return -1;
    }
    char so[sizeof dir + 16];
    snprintf(so, sizeof so, "%s/x.so", dir);
    aot_options ao = { .out_so = so };
    int cached = 0;
    char *err = NULL;
    int rc = aot_build(r, r->circuits, r->n_circuits, &ao, &cached, &err);
    *ms = (wall() - t0) * 1e3;
    if (rc != 0)
        fprintf(stderr, "bench: building %s: %s\n", file, err ? err : "");
    free(err);
    compile_free(r);
    unlink(so);
    rmdir(dir);
    return rc;
}

static int bench_compile(const char *self, char **groups[], const int *group_n,
                         const char *const *group_names, int ng, const options *o)
{
    int failed = 0;
    printf("\n## 3. Compile latency (ms, medians of wall time, since LLVM runs on several "
           "threads): source text -> callable step functions for "
           "every circuit of the files (cold: a fresh process, from JIT start, "
           "and from spawn to exit; warm: the same JIT again, LLVM run anew, "
           "timed up to callable functions (not their removal after); "
           "lanes: then the first population step of every circuit, in which step_n has its "
           "lanes made (jit.h); "
           "no lanes: the same for a host that steps one instance at a time (jit_set_lanes); "
           "cached: the JIT's kept object files; one edited: the same, after an edit of one "
           "circuit, without lanes, as in the REPL; .so: wall time, cc included)\n\n");
    printf("| files | circuits | cold, in process | cold, whole process | warm | lanes, at the "
           "first population step | warm, no lanes | warm, cached objects | one edited "
           "| .so build (cc included) |\n");
    printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    char *err = NULL;
    jit *j = jit_create(&err);
    if (!j) {
        fprintf(stderr, "bench: %s\n", err ? err : "");
        free(err);
        return 1;
    }
    jit_set_cache(j, 0);
    compile_all(j, groups[0], group_n[0], 0, NULL); /* the JIT's own first-use costs */
    int reps = o->compile_reps > o->cold_reps ? o->compile_reps : o->cold_reps;
    double *t = xcalloc((size_t)reps + o->so_reps, sizeof *t),
           *u = xcalloc((size_t)reps, sizeof *u);
    for (int g = 0; g < ng; g++) {
        int nc = 0;
        compile_opts copts = { .optimize = 1 };
        for (int f = 0; f < group_n[g]; f++) {
            compile_result *r = compile_file(groups[g][f], &copts);
            nc += r->n_circuits;
            compile_free(r);
        }
        int ok = 1;
        for (int r = 0; r < o->cold_reps && ok; r++) {
            t[r] = cold_run(self, groups[g], group_n[g], &u[r]);
            ok = t[r] >= 0;
        }
        if (!ok) {
            fprintf(stderr, "bench: the cold compile of %s failed\n", group_names[g]);
            failed = 1;
            continue;
        }
        double cold_out = median(t, o->cold_reps), cold_in = median(u, o->cold_reps);
        double *lt = xcalloc((size_t)o->compile_reps, sizeof *lt);
        for (int r = 0; r < o->compile_reps; r++)
            if (compile_all_edit(j, groups[g], group_n[g], 0, -1, &t[r], &lt[r]) != 0)
                failed = 1;
        double warm = median(t, o->compile_reps), lanes = median(lt, o->compile_reps);
        free(lt);
        jit_set_lanes(j, 0);
        for (int r = 0; r < o->compile_reps; r++)
            if (compile_all(j, groups[g], group_n[g], 0, &t[r]) != 0)
                failed = 1;
        double one = median(t, o->compile_reps);
        jit_set_lanes(j, 1);
        /* Warm again, now through the jit's object cache (filled once). */
        jit_set_cache(j, 1);
        if (compile_all(j, groups[g], group_n[g], 0, NULL) != 0)
            failed = 1;
        for (int r = 0; r < o->compile_reps; r++)
            if (compile_all(j, groups[g], group_n[g], 0, &t[r]) != 0)
                failed = 1;
        double cached = median(t, o->compile_reps);
        /* Edit one circuit, compile the program again: the rest come from
         * the cache (filled once without lanes). */
        jit_set_lanes(j, 0);
        if (compile_all(j, groups[g], group_n[g], 0, NULL) != 0)
            failed = 1;
        for (int r = 0; r < o->compile_reps; r++)
            if (compile_all_edit(j, groups[g], group_n[g], 0, (long)g * 1000 + r, &t[r], NULL) !=
                0)
                failed = 1;
        double edited = median(t, o->compile_reps);
        jit_set_lanes(j, 1);
        jit_set_cache(j, 0);
        double so_total = 0;
        for (int f = 0; f < group_n[g]; f++) {
            for (int r = 0; r < o->so_reps; r++)
                if (so_build_once(groups[g][f], &t[r]) != 0)
                    failed = 1;
            so_total += median(t, o->so_reps);
        }
        printf("| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f |\n",
               group_names[g], nc, cold_in, cold_out, warm, lanes, one, cached, edited, so_total);
    }
    free(t);
    free(u);
    jit_destroy(j);
    return failed;
}

/* ---- 4. memory ---------------------------------------------------------- */

static void bench_memory(circuit *cs, int n)
{
    printf("\n## 4. Memory: bytes of state per instance\n\n");
    printf("| circuit | params | state slots | declared bytes | state block | beyond alignment |\n");
    printf("| --- | ---: | ---: | ---: | ---: | ---: |\n");
    long total_over = 0;
    for (int i = 0; i < n; i++) {
        const ir_circuit *c = cs[i].c;
        uint64_t declared = 0;
        for (uint32_t k = 0; k < c->n_params; k++)
            declared += c->params[k].type == IR_F64 ? 8 : 1;
        for (uint32_t k = 0; k < c->n_state; k++)
            declared += c->state[k].type == IR_F64 ? 8 : 1;
        /* The least a block can be: the declared bytes rounded up to the
         * 8-byte alignment of the doubles in it (and of the next block in a
         * population). */
        uint64_t aligned = (declared + 7) & ~(uint64_t)7;
        long over = (long)c->state_size - (long)aligned;
        total_over += over;
        printf("| %s.%s | %u | %u | %llu | %u | %ld |\n", c->module, c->name, c->n_params,
               c->n_state, (unsigned long long)declared, c->state_size, over);
    }
    printf("\nBytes beyond alignment, all circuits: %ld.\n", total_over);
}

/* ---- main --------------------------------------------------------------- */

static char **glob_files(const char *pattern, int *n)
{
    glob_t gl;
    *n = 0;
    if (glob(pattern, 0, NULL, &gl) != 0)
        return xcalloc(1, sizeof(char *));
    char **v = xcalloc(gl.gl_pathc + 1, sizeof *v);
    for (size_t i = 0; i < gl.gl_pathc; i++)
        v[(*n)++] = strdup(gl.gl_pathv[i]);
    globfree(&gl);
    return v;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--cold"))
        return cold_main(argc - 2, argv + 2);
    /* A fixed mmap threshold: by default glibc raises it, and the trim
     * threshold, when a large block is freed, and after the populations'
     * blocks of tens of MB LLVM then compiled the whole stdlib 30% to 40%
     * slower in the compile section (warm: 28 to 32 ms, where it takes 22
     * ms with no populations before it, or with this). 128 KB is glibc's
     * initial threshold. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    options o = { .ticks = 2000000, .reps = 7, .pop_n = 100000, .pop_ticks = 100,
                  .pop_reps = 3, .compile_reps = 21, .cold_reps = 7, .so_reps = 3 };
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            o = (options){ .quick = 1, .ticks = 2000, .reps = 1, .pop_n = 200, .pop_ticks = 3,
                           .pop_reps = 1, .compile_reps = 1, .cold_reps = 1, .so_reps = 1 };
        } else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
            o.only = argv[++i];
        } else if (!strcmp(argv[i], "--pop-ticks") && i + 1 < argc) {
            o.pop_ticks = atol(argv[++i]);
        } else if (!strcmp(argv[i], "--pop-n") && i + 1 < argc) {
            o.pop_n = atol(argv[++i]);
        } else if (!strcmp(argv[i], "--ticks") && i + 1 < argc) {
            o.ticks = atol(argv[++i]);
        } else {
            fprintf(stderr, "usage: bench [--quick] [--only TEXT] [--ticks N] [--pop-n N] "
                            "[--pop-ticks N]   (run from the repository root)\n");
            return 2;
        }
    }
    if (o.pop_n < 1 || o.pop_ticks < 1 || o.ticks < 1) {
        fprintf(stderr, "bench: counts must be positive\n");
        return 2;
    }
    int n_std, n_ex;
    char **std = glob_files("stdlib/std/*.drive", &n_std);
    char **ex = glob_files("examples/*/*.drive", &n_ex);
    if (!n_std || !n_ex) {
        fprintf(stderr, "bench: run me from the repository root (no stdlib/std/*.drive)\n");
        return 2;
    }
    char *self = realpath("/proc/self/exe", NULL);

    printf("# drive benchmarks%s\n", o.quick ? " (quick run: the figures mean nothing)" : "");
    char *err = NULL;
    jit *j = jit_create(&err);
    if (!j) {
        fprintf(stderr, "bench: %s\n", err ? err : "");
        return 1;
    }
    int nfiles = n_std + n_ex, failed = 0;
    char **files = xcalloc((size_t)nfiles, sizeof *files);
    memcpy(files, std, (size_t)n_std * sizeof *files);
    memcpy(files + n_std, ex, (size_t)n_ex * sizeof *files);
    circuit *cs = NULL;
    int n = 0;
    compile_result **results = xcalloc((size_t)nfiles, sizeof *results);
    void **libs = xcalloc((size_t)nfiles, sizeof *libs);
    char sodir[] = "/tmp/drive-bench-XXXXXX";
    if (!mkdtemp(sodir)) {
        perror("bench: mkdtemp");
        return 1;
    }
    compile_opts copts = { .optimize = 1 };
    for (int f = 0; f < nfiles; f++) {
        compile_result *r = results[f] = compile_file(files[f], &copts);
        if (diag_errors(r->diag)) {
            diag_flush(r->diag, stderr, 0);
            return 1;
        }
        char so[sizeof sodir + 32];
        snprintf(so, sizeof so, "%s/%d.so", sodir, f);
        aot_options ao = { .out_so = so };
        int cached;
        if (aot_build(r, r->circuits, r->n_circuits, &ao, &cached, &err) != 0 ||
            !(libs[f] = dlopen(so, RTLD_NOW | RTLD_LOCAL))) {
            fprintf(stderr, "bench: %s: %s\n", files[f], err ? err : dlerror());
            return 1;
        }
        unlink(so);
        cs = realloc(cs, ((size_t)n + (size_t)r->n_circuits) * sizeof *cs);
        if (!cs)
            return 1;
        for (int k = 0; k < r->n_circuits; k++) {
            ir_circuit *c = r->circuits[k];
            char name[512];
            snprintf(name, sizeof name, "%s.%s", c->module, c->name);
            if (o.only && !strstr(name, o.only))
                continue;
            circuit *ci = &cs[n];
            memset(ci, 0, sizeof *ci);
            ci->file = files[f];
            ci->c = c;
            if (jit_compile(j, c, 2, &ci->fn, &err) != 0) {
                fprintf(stderr, "bench: %s: %s\n", name, err ? err : "");
                return 1;
            }
            const char *prefix = aot_prefix(&r->mem, c);
            snprintf(name, sizeof name, "%s_init", prefix);
            ci->so_init = (void (*)(void *))(uintptr_t)dlsym(libs[f], name);
            snprintf(name, sizeof name, "%s_step", prefix);
            ci->so_step = (step_fn)(uintptr_t)dlsym(libs[f], name);
            if (!ci->so_init || !ci->so_step) {
                fprintf(stderr, "bench: %s: no %s in the .so\n", files[f], name);
                return 1;
            }
            ci->ref = find_ref(c);
            ci->has_predictor = has_predictor(c);
            n++;
        }
    }
    rmdir(sodir);

    failed |= bench_single(cs, n, &o);
    failed |= bench_population(cs, n, &o, o.pop_n, "blocks in main memory");
    /* The same in the caches, where the arithmetic shows. */
    if (!o.quick)
        failed |= bench_population(cs, n, &o, 1000, "blocks in the caches");
    {
        char ***groups = xcalloc((size_t)n_ex + 1, sizeof *groups);
        int *group_n = xcalloc((size_t)n_ex + 1, sizeof *group_n);
        const char **names = xcalloc((size_t)n_ex + 1, sizeof *names);
        groups[0] = std;
        group_n[0] = n_std;
        names[0] = "whole stdlib (std.core + std.social)";
        for (int i = 0; i < n_ex; i++) {
            groups[1 + i] = &ex[i];
            group_n[1 + i] = 1;
            names[1 + i] = ex[i];
        }
        /* The quick run times the stdlib and one example (spawning a
         * process and running cc for every file takes a while). */
        failed |= bench_compile(self, groups, group_n, names, o.quick ? 2 : 1 + n_ex, &o);
        free(groups);
        free(group_n);
        free(names);
    }
    bench_memory(cs, n);
    printf("\nJIT: this CPU (%s), AVX-512 off; .so: generic x86-64, as `drivec build` makes "
           "it; C: gcc -O2, generic x86-64.\n", "host");

    for (int f = 0; f < nfiles; f++) {
        dlclose(libs[f]);
        compile_free(results[f]);
    }
    for (int i = 0; i < nfiles; i++)
        free(files[i]);
    free(files);
    free(std);
    free(ex);
    free(results);
    free(libs);
    free(cs);
    free(self);
    free(err);
    jit_destroy(j);
    return failed;
}
