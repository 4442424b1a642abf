/* so_vs_jit.c — differential test of the two ways libdrive gets a circuit:
 * a shared object written by `drivec build` (drive_load) against the same
 * source compiled in-process by the JIT (drive_compile). The spec promises
 * they are bit-identical (lang/SPEC.md "Numbers"), so for every circuit of
 * one .drive file this program checks, on deterministic pseudo-random inputs:
 *
 *   - reflection: names, sizes, tick, every field (name, base, index, len,
 *     offset, kind, type, role, range, init) and the source hash agree
 *     between the .so built with `--circuit NAME` and the JIT; the fields
 *     also describe a sane layout (inside their block, aligned, disjoint);
 *   - stepping: after every tick the raw output and state blocks are equal
 *     byte for byte (reals: both NaN, or the same bits), the step reports an
 *     invalid tick exactly when an input was non-finite or out of range, and
 *     such a tick leaves the state untouched; this for the per-circuit .so,
 *     the JIT and the .so holding every circuit of the file;
 *   - populations: 37 instances with their own params and inputs stepped by
 *     drive_step (the step_n entry, blocks in columns) equal 37 single
 *     instances stepped one by one, through both the JIT and the .so's plain
 *     `step` entry; each instance's blocks are read out of the columns with
 *     drive_pop_read_block and compared field by field (padding bytes of a
 *     population belong to no instance).
 *
 *   so_vs_jit DRIVEC FILE.drive TMPDIR [TICKS]
 *
 * ($SO_VS_JIT_CPU=native builds the .so files for this machine: build.)
 *
 * Exit status 0 when everything agrees, 1 on any difference (each is
 * printed with the circuit, tick, instance and field), 2 on bad usage or
 * when a tool could not run. Work files go to a fresh directory under
 * TMPDIR, removed on success and kept on failure for inspection.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "drive.h"

extern char **environ;

enum { POP_N = 37, MAX_CIRCUITS = 256, MAX_FILES = 2 * MAX_CIRCUITS + 8 };

static int failures;     /* differences found, over every circuit */
static long invalid_seen; /* invalid ticks generated, for the summary line */
/* $SO_VS_JIT_CORRUPT=T flips a bit of the .so's first output after tick T,
 * to check that the comparison catches a difference (a WILL_FAIL test). */
static long corrupt_tick = -1;

/* ---- deterministic randomness (splitmix64: tiny, good enough, portable) -- */

/* rng, rng_next, rng_unit, rng_below */
#include "../common/test_rng.h"

static uint64_t seed_of(const char *s, uint64_t salt)
{
    uint64_t h = 14695981039346656037ull ^ salt;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* ---- files and processes -------------------------------------------------- */

static char *work_dir;
static char *made[MAX_FILES]; /* files to remove on success */
static int n_made;

/* WORK_DIR/name, remembered for the clean-up. */
static char *path_in_work(const char *name)
{
    size_t n = strlen(work_dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    snprintf(p, n, "%s/%s", work_dir, name);
    if (n_made < MAX_FILES)
        made[n_made++] = p;
    return p;
}

/* Run argv (no shell: paths may hold anything); 0 when it exited 0. */
static int run(char *const argv[])
{
    /* drivec's "x.so: 1 circuit" lines would only be noise here; its
     * diagnostics (stderr) stay. */
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e != 0) {
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(e));
        return -1;
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* `drivec build FILE [--circuit NAME] -o OUT --no-cache [--cpu CPU]`: the
 * cache is off so that the .so is really built by this drivec from this
 * source; $SO_VS_JIT_CPU, when set, is the CPU (native: this machine's,
 * whose population lanes are eight instances wide where it has AVX-512). */
static int build(const char *drivec, const char *file, const char *circuit, const char *out)
{
    char *argv[12];
    int a = 0;
    argv[a++] = (char *)drivec;
    argv[a++] = "build";
    argv[a++] = (char *)file;
    if (circuit) {
        argv[a++] = "--circuit";
        argv[a++] = (char *)circuit;
    }
    argv[a++] = "-o";
    argv[a++] = (char *)out;
    argv[a++] = "--no-cache";
    const char *cpu = getenv("SO_VS_JIT_CPU");
    if (cpu && *cpu) {
        argv[a++] = "--cpu";
        argv[a++] = (char *)cpu;
    }
    argv[a] = NULL;
    return run(argv);
}

/* The names of the circuits in a shared object, read from its ABI table
 * directly (drive.h only loads one circuit at a time). */
static int circuit_names(const char *so, char **names, int max)
{
    void *dl = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        fprintf(stderr, "cannot load %s: %s\n", so, dlerror());
        return -1;
    }
    drive_module_fn fn = (drive_module_fn)(uintptr_t)dlsym(dl, "drive_module");
    const drive_abi_module *m = fn ? fn() : NULL;
    int n = -1;
    if (m && m->abi_version == DRIVE_ABI_VERSION) {
        n = 0;
        for (uint32_t i = 0; i < m->n_circuits && n < max; i++)
            names[n++] = strdup(m->circuits[i]->name);
    } else {
        fprintf(stderr, "%s: no drive_module table of ABI version %d\n", so, DRIVE_ABI_VERSION);
    }
    dlclose(dl);
    return n;
}

/* ---- comparing ------------------------------------------------------------ */

static const char *const KIND[] = { "input", "output", "param", "state" };

static int bits_equal(double a, double b)
{
    if (isnan(a) && isnan(b)) /* sign and payload of a NaN are left open */
        return 1;
    return memcmp(&a, &b, sizeof a) == 0;
}

static int fail(const char *circuit, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const char *circuit, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "FAIL %s: ", circuit);
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    failures++;
    return -1;
}

/* Reflection of b against the reference a; hash compared when asked. */
static int same_reflection(const drive_circuit *a, const drive_circuit *b, const char *what,
                           int check_hash)
{
    const char *cn = drive_circuit_name(a);
    int bad = 0;
#define SAME_STR(f)                                                                              \
    if (strcmp(f(a), f(b)) != 0)                                                               \
    bad |= fail(cn, "%s: %s is '%s', the JIT's '%s'", what, #f, f(b), f(a))
#define SAME_NUM(f)                                                                              \
    if (f(a) != f(b))                                                                          \
    bad |= fail(cn, "%s: %s is %g, the JIT's %g", what, #f, (double)f(b), (double)f(a))
    SAME_STR(drive_module_name);
    SAME_STR(drive_circuit_name);
    SAME_NUM(drive_tick);
    SAME_NUM(drive_in_size);
    SAME_NUM(drive_out_size);
    SAME_NUM(drive_state_size);
    SAME_NUM(drive_n_fields);
    if (check_hash)
        SAME_STR(drive_source_hash);
#undef SAME_STR
#undef SAME_NUM
    if (bad)
        return -1;
    for (uint32_t i = 0; i < drive_n_fields(a); i++) {
        const drive_field *x = drive_field_at(a, i), *y = drive_field_at(b, i);
        if (strcmp(x->name, y->name) || strcmp(x->base, y->base) || x->index != y->index ||
            x->len != y->len || x->offset != y->offset || x->kind != y->kind ||
            x->type != y->type || x->role != y->role || x->has_range != y->has_range ||
            !bits_equal(x->lo, y->lo) || !bits_equal(x->hi, y->hi) ||
            !bits_equal(x->init, y->init))
            bad |= fail(cn,
                        "%s: field %u differs: '%s' base '%s' [%u/%u] @%u kind %u type %u role %u "
                        "range %u [%g, %g] init %g; the JIT's '%s' base '%s' [%u/%u] @%u kind %u "
                        "type %u role %u range %u [%g, %g] init %g",
                        what, i, y->name, y->base, y->index, y->len, y->offset, y->kind, y->type,
                        y->role, y->has_range, y->lo, y->hi, y->init, x->name, x->base, x->index,
                        x->len, x->offset, x->kind, x->type, x->role, x->has_range, x->lo, x->hi,
                        x->init);
    }
    return bad;
}

/* The fields describe a layout a host can trust: kinds in order, inside
 * their block, aligned, disjoint, vectors consecutive, defaults in range. */
static int sane_layout(const drive_circuit *c)
{
    const char *cn = drive_circuit_name(c);
    size_t size[4] = { drive_in_size(c), drive_out_size(c), drive_state_size(c),
                       drive_state_size(c) };
    unsigned char *used[4];
    for (int k = 0; k < 4; k++)
        used[k] = calloc(size[k] + 1, 1);
    int bad = 0, last_kind = 0;
    for (uint32_t i = 0; i < drive_n_fields(c); i++) {
        const drive_field *f = drive_field_at(c, i);
        if (f->kind > 3 || f->type > 1) {
            bad |= fail(cn, "field '%s' has kind %u, type %u", f->name, f->kind, f->type);
            continue;
        }
        if (f->kind < last_kind)
            bad |= fail(cn, "field '%s' (%s) comes after a %s", f->name, KIND[f->kind],
                        KIND[last_kind]);
        last_kind = f->kind;
        size_t w = f->type == DRIVE_ABI_REAL ? 8 : 1;
        if (f->offset + w > size[f->kind])
            bad |= fail(cn, "field '%s' @%u+%zu is outside its %zu-byte block", f->name,
                        f->offset, w, size[f->kind]);
        else if (f->offset % w)
            bad |= fail(cn, "real field '%s' @%u is not 8-byte aligned", f->name, f->offset);
        else
            for (size_t b = 0; b < w; b++) {
                /* params and state slots share the state block */
                int blk = f->kind == DRIVE_ABI_STATE ? DRIVE_ABI_PARAM : f->kind;
                if (used[blk][f->offset + b]++)
                    bad |= fail(cn, "field '%s' @%u overlaps another field", f->name, f->offset);
            }
        if (f->len == 0 || f->index >= f->len)
            bad |= fail(cn, "field '%s' has index %u of %u", f->name, f->index, f->len);
        if (f->index > 0) {
            const drive_field *p = drive_field_at(c, i - 1);
            if (strcmp(p->base, f->base) || p->index + 1 != f->index || p->offset + 8 != f->offset)
                bad |= fail(cn, "vector element '%s' does not follow '%s'", f->name, p->name);
        }
        if (f->has_range && !(f->lo <= f->hi))
            bad |= fail(cn, "field '%s' has the range [%g, %g]", f->name, f->lo, f->hi);
        if (f->kind == DRIVE_ABI_PARAM && f->has_range && !(f->lo <= f->init && f->init <= f->hi))
            bad |= fail(cn, "param '%s' defaults to %g, outside [%g, %g]", f->name, f->init, f->lo,
                        f->hi);
    }
    for (int k = 0; k < 4; k++)
        free(used[k]);
    return bad;
}

/* Copy a block of that kind into dst with every NaN in a real field made one
 * canonical NaN, so that memcmp compares the rest exactly; with fields_only,
 * padding reads as 0. */
static void canonical(const drive_circuit *c, int kind, const unsigned char *src,
                      unsigned char *dst, size_t size, int fields_only)
{
    if (!fields_only) {
        memcpy(dst, src, size);
    } else {
        memset(dst, 0, size);
        for (uint32_t i = 0; i < drive_n_fields(c); i++) {
            const drive_field *f = drive_field_at(c, i);
            int blk = f->kind == DRIVE_ABI_STATE ? DRIVE_ABI_PARAM : f->kind;
            size_t w = f->type == DRIVE_ABI_REAL ? 8 : 1;
            if (blk == kind && f->offset + w <= size)
                memcpy(dst + f->offset, src + f->offset, w);
        }
    }
    static const uint64_t qnan = 0x7ff8000000000000ull;
    for (uint32_t i = 0; i < drive_n_fields(c); i++) {
        const drive_field *f = drive_field_at(c, i);
        int blk = f->kind == DRIVE_ABI_STATE ? DRIVE_ABI_PARAM : f->kind;
        if (blk != kind || f->type != DRIVE_ABI_REAL || f->offset + 8 > size)
            continue;
        double d;
        memcpy(&d, dst + f->offset, 8);
        if (isnan(d))
            memcpy(dst + f->offset, &qnan, 8);
    }
}

/* The field of that block that covers byte `off`, for messages. */
static const drive_field *field_at_byte(const drive_circuit *c, int kind, size_t off)
{
    for (uint32_t i = 0; i < drive_n_fields(c); i++) {
        const drive_field *f = drive_field_at(c, i);
        int blk = f->kind == DRIVE_ABI_STATE ? DRIVE_ABI_PARAM : f->kind;
        size_t w = f->type == DRIVE_ABI_REAL ? 8 : 1;
        if (blk == kind && off >= f->offset && off < f->offset + w)
            return f;
    }
    return NULL;
}

/* Block `kind` (OUTPUT, or PARAM for the state block) of instance ia of a
 * against instance ib of b; a difference is reported once per call. With
 * fields_only, padding is not compared. */
static int same_bytes(const drive_circuit *c, int kind, const unsigned char *a,
                      const unsigned char *b, size_t size, const char *what, long tick,
                      size_t inst, int fields_only)
{
    unsigned char *x = malloc(size + 1), *y = malloc(size + 1);
    canonical(c, kind, a, x, size, fields_only);
    canonical(c, kind, b, y, size, fields_only);
    int bad = 0;
    for (size_t off = 0; off < size; off++) {
        if (x[off] == y[off])
            continue;
        const drive_field *f = field_at_byte(c, kind, off);
        if (f && f->type == DRIVE_ABI_REAL) {
            double u, v;
            uint64_t ub, vb;
            memcpy(&u, a + f->offset, 8);
            memcpy(&v, b + f->offset, 8);
            memcpy(&ub, &u, 8);
            memcpy(&vb, &v, 8);
            bad = fail(drive_circuit_name(c),
                       "%s: tick %ld, instance %zu: %s '%s' is %.17g (%016" PRIx64
                       "), the reference's %.17g (%016" PRIx64 ")",
                       what, tick, inst, KIND[f->kind], f->name, v, vb, u, ub);
        } else {
            bad = fail(drive_circuit_name(c),
                       "%s: tick %ld, instance %zu: %s byte %zu ('%s') is %u, the reference's %u",
                       what, tick, inst, kind == DRIVE_ABI_OUTPUT ? "output" : "state", off,
                       f ? f->name : "padding", y[off], x[off]);
        }
        break;
    }
    free(x);
    free(y);
    return bad;
}

/* Single instances: every byte, padding included. */
static int same_block(const drive_circuit *c, int kind, const unsigned char *a,
                      const unsigned char *b, size_t size, const char *what, long tick,
                      size_t inst)
{
    return same_bytes(c, kind, a, b, size, what, tick, inst, 0);
}

/* Instance i of population p (its block of that kind, read out of the
 * columns) against a reference block, field by field. */
static int same_instance(const drive_circuit *c, int kind, const unsigned char *ref, drive_pop *p,
                         size_t i, size_t size, unsigned char *scratch, const char *what,
                         long tick)
{
    if (drive_pop_read_block(p, i, kind, scratch) != 0)
        return fail(drive_circuit_name(c), "%s: drive_pop_read_block of instance %zu: %s", what,
                    i, drive_last_error());
    return same_bytes(c, kind, ref, scratch, size, what, tick, i, 1);
}

/* ---- inputs ------------------------------------------------------------- */

/* One instance's input generator: every input element holds a value for a
 * random number of ticks (so that conditions `for D` and reflexes can fire),
 * values mostly inside the declared range and sometimes exactly at a bound;
 * now and then one tick carries a non-finite or out-of-range value. */
typedef struct feeder {
    rng r;
    double *value;  /* per field index (inputs only) */
    unsigned *hold; /* ticks left before a new value */
} feeder;

static void feeder_init(feeder *fd, const drive_circuit *c, uint64_t seed)
{
    fd->r.s = seed;
    fd->value = calloc(drive_n_fields(c) + 1, sizeof *fd->value);
    fd->hold = calloc(drive_n_fields(c) + 1, sizeof *fd->hold);
}

static void feeder_free(feeder *fd)
{
    free(fd->value);
    free(fd->hold);
}

/* Inside the range, 12% of the time exactly at a bound; without a range,
 * mostly small values, some 0 and 1, a few large ones. */
static double draw_real(rng *r, const drive_field *f)
{
    unsigned u = rng_below(r, 100);
    if (f->has_range) {
        if (u < 6)
            return f->lo;
        if (u < 12)
            return f->hi;
        return f->lo + (f->hi - f->lo) * rng_unit(r);
    }
    if (u < 5)
        return 0;
    if (u < 8)
        return 1;
    if (u < 10)
        return (rng_unit(r) * 2 - 1) * 1e3;
    return rng_unit(r) * 3 - 1.5;
}

/* Values of this tick into vals[field]; returns 1 when the tick is invalid. */
static int feeder_tick(feeder *fd, const drive_circuit *c, double *vals)
{
    uint32_t n = drive_n_fields(c);
    /* Real inputs that may carry the bad value (the first 4096 suffice). */
    int real_inputs[4096], n_real = 0;
    for (uint32_t i = 0; i < n; i++) {
        const drive_field *f = drive_field_at(c, i);
        if (f->kind != DRIVE_ABI_INPUT)
            continue;
        if (fd->hold[i] == 0) { /* a new value, held for 1 to 64 ticks */
            fd->value[i] = f->type == DRIVE_ABI_BOOL ? (double)rng_below(&fd->r, 2)
                                                     : draw_real(&fd->r, f);
            fd->hold[i] = 1 + rng_below(&fd->r, 1u << rng_below(&fd->r, 7));
        }
        fd->hold[i]--;
        vals[i] = fd->value[i];
        if (f->type == DRIVE_ABI_REAL && n_real < 4096)
            real_inputs[n_real++] = (int)i;
    }
    if (n_real && rng_below(&fd->r, 50) == 0) { /* one bad value, for this tick only */
        int i = real_inputs[rng_below(&fd->r, (unsigned)n_real)];
        const drive_field *f = drive_field_at(c, (uint32_t)i);
        switch (rng_below(&fd->r, f->has_range ? 6 : 4)) {
        case 0: vals[i] = NAN; break;
        case 1: vals[i] = -NAN; break;
        case 2: vals[i] = INFINITY; break;
        case 3: vals[i] = -INFINITY; break;
        case 4: vals[i] = nextafter(f->lo, -INFINITY); break;
        default: vals[i] = f->hi + 0.5 * (1 + fabs(f->hi)); break;
        }
    }
    int invalid = 0;
    for (int k = 0; k < n_real; k++) {
        const drive_field *f = drive_field_at(c, (uint32_t)real_inputs[k]);
        double v = vals[real_inputs[k]];
        if (!isfinite(v) || (f->has_range && (v < f->lo || v > f->hi)))
            invalid = 1;
    }
    return invalid;
}

/* A random value for a param: inside its range (sometimes at a bound), or
 * around its default when it has none. */
static double param_value(rng *r, const drive_field *f)
{
    if (f->type == DRIVE_ABI_BOOL)
        return (double)rng_below(r, 2);
    if (f->has_range)
        return draw_real(r, f);
    return f->init != 0 ? f->init * (0.5 + rng_unit(r)) : rng_unit(r) * 2 - 1;
}

/* ---- one circuit ---------------------------------------------------------- */

typedef struct variant {
    const char *what;
    drive_circuit *c;
    drive_pop *p;
} variant;

static int set_inputs(drive_pop *p, size_t inst, const drive_circuit *c, const double *vals)
{
    for (uint32_t i = 0; i < drive_n_fields(c); i++)
        if (drive_field_at(c, i)->kind == DRIVE_ABI_INPUT && drive_set(p, inst, (int)i, vals[i]) != 0)
            return fail(drive_circuit_name(c), "drive_set of input '%s' to %g: %s",
                        drive_field_at(c, i)->name, vals[i], drive_last_error());
    return 0;
}

/* Single instances, every variant in lock step; run 0 with default params,
 * run 1 (after drive_pop_reset) with random ones. */
static int lock_step(variant *v, int nv, long ticks, uint64_t seed)
{
    const drive_circuit *c = v[0].c;
    const char *cn = drive_circuit_name(c);
    size_t ssz = drive_state_size(c), osz = drive_out_size(c);
    double *vals = calloc(drive_n_fields(c) + 1, sizeof *vals);
    unsigned char *before = malloc(ssz + 1);
    int bad = 0;
    for (int runno = 0; runno < 2 && !bad; runno++) {
        feeder fd;
        feeder_init(&fd, c, seed + (uint64_t)runno);
        for (int k = 0; k < nv; k++)
            drive_pop_reset(v[k].p, (size_t)-1);
        if (runno == 1)
            for (uint32_t i = 0; i < drive_n_fields(c); i++) {
                const drive_field *f = drive_field_at(c, i);
                if (f->kind != DRIVE_ABI_PARAM)
                    continue;
                double x = param_value(&fd.r, f);
                for (int k = 0; k < nv; k++)
                    if (drive_set(v[k].p, 0, (int)i, x) != 0)
                        bad |= fail(cn, "%s: drive_set of param '%s' to %g: %s", v[k].what,
                                    f->name, x, drive_last_error());
            }
        for (int k = 1; k < nv && !bad; k++)
            bad |= same_block(c, DRIVE_ABI_PARAM, drive_pop_states(v[0].p),
                              drive_pop_states(v[k].p), ssz, v[k].what, -1, 0);
        for (long t = 0; t < ticks && !bad; t++) {
            int invalid = feeder_tick(&fd, c, vals);
            invalid_seen += invalid;
            for (int k = 0; k < nv && !bad; k++) {
                bad |= set_inputs(v[k].p, 0, c, vals);
                memcpy(before, drive_pop_states(v[k].p), ssz);
                size_t r = drive_step(v[k].p, 1);
                if (k == 1 && t == corrupt_tick && osz) /* the self-test: must be caught */
                    ((unsigned char *)drive_pop_outputs(v[k].p))[0] ^= 1;
                if (r != (size_t)invalid)
                    bad |= fail(cn, "%s: tick %ld (run %d): drive_step reports %zu invalid, "
                                    "expected %d",
                                v[k].what, t, runno, r, invalid);
                if (invalid && memcmp(before, drive_pop_states(v[k].p), ssz) != 0)
                    bad |= fail(cn, "%s: tick %ld (run %d): an invalid tick changed the state",
                                v[k].what, t, runno);
            }
            for (int k = 1; k < nv && !bad; k++) {
                bad |= same_block(c, DRIVE_ABI_OUTPUT, drive_pop_outputs(v[0].p),
                                  drive_pop_outputs(v[k].p), osz, v[k].what, t, 0);
                bad |= same_block(c, DRIVE_ABI_PARAM, drive_pop_states(v[0].p),
                                  drive_pop_states(v[k].p), ssz, v[k].what, t, 0);
            }
        }
        feeder_free(&fd);
    }
    free(vals);
    free(before);
    return bad;
}

/* A population of n against n single instances: P_jit and P_so stepped by
 * drive_step (step_n), single JIT instances by drive_step (step_n with n=1),
 * single .so instances by the table's `step` entry. All must agree. */
static int population(drive_circuit *jit, drive_circuit *so, const drive_abi_circuit *so_abi,
                      size_t n, long ticks, uint64_t seed)
{
    const char *cn = drive_circuit_name(jit);
    size_t ssz = drive_state_size(jit), osz = drive_out_size(jit), isz = drive_in_size(jit);
    uint32_t nf = drive_n_fields(jit);
    drive_pop *pj = drive_pop_new(jit, n), *ps = drive_pop_new(so, n);
    drive_pop **sj = calloc(n, sizeof *sj), **ss = calloc(n, sizeof *ss);
    feeder *fd = calloc(n, sizeof *fd);
    double *vals = calloc(nf + 1, sizeof *vals);
    unsigned char *scratch = malloc(ssz + osz + isz + 1); /* one instance's block */
    int bad = 0;
    if (!pj || !ps)
        bad = fail(cn, "drive_pop_new(%zu): %s", n, drive_last_error());
    for (size_t i = 0; i < n && !bad; i++) {
        sj[i] = drive_pop_new(jit, 1);
        ss[i] = drive_pop_new(so, 1);
        if (!sj[i] || !ss[i]) {
            bad = fail(cn, "drive_pop_new(1): %s", drive_last_error());
            break;
        }
        feeder_init(&fd[i], jit, seed + 1000 + i);
        for (uint32_t k = 0; k < nf; k++) { /* each instance its own params */
            const drive_field *f = drive_field_at(jit, k);
            if (f->kind != DRIVE_ABI_PARAM)
                continue;
            double x = param_value(&fd[i].r, f);
            if (drive_set(pj, i, (int)k, x) || drive_set(ps, i, (int)k, x) ||
                drive_set(sj[i], 0, (int)k, x) || drive_set(ss[i], 0, (int)k, x))
                bad |= fail(cn, "drive_set of param '%s' of instance %zu to %g: %s", f->name, i,
                            x, drive_last_error());
        }
    }
    for (long t = 0; t < ticks && !bad; t++) {
        size_t expect = 0, got_sj = 0, got_ss = 0;
        for (size_t i = 0; i < n && !bad; i++) {
            expect += (size_t)feeder_tick(&fd[i], jit, vals);
            bad |= set_inputs(pj, i, jit, vals) | set_inputs(ps, i, jit, vals) |
                   set_inputs(sj[i], 0, jit, vals) | set_inputs(ss[i], 0, jit, vals);
            got_sj += drive_step(sj[i], 1);
            got_ss += (size_t)so_abi->step(drive_pop_states(ss[i]), drive_pop_inputs(ss[i]),
                                           drive_pop_outputs(ss[i]));
        }
        if (bad)
            break;
        size_t got_pj = drive_step(pj, 1), got_ps = drive_step(ps, 1);
        if (got_pj != expect || got_ps != expect || got_sj != expect || got_ss != expect)
            bad |= fail(cn, "population tick %ld: invalid instance-ticks: expected %zu, "
                            "population JIT %zu, population .so %zu, single JIT %zu, single .so "
                            "step %zu",
                        t, expect, got_pj, got_ps, got_sj, got_ss);
        /* The input columns hold each instance's inputs exactly, padding
         * included (only the host writes them). */
        for (size_t i = 0; i < n && !bad; i++)
            if (drive_pop_read_block(pj, i, DRIVE_ABI_INPUT, scratch) != 0 ||
                memcmp(scratch, drive_pop_inputs(sj[i]), isz) != 0)
                bad |= fail(cn, "population tick %ld: input block of instance %zu differs", t, i);
        for (size_t i = 0; i < n && !bad; i++) {
            const unsigned char *ref_o = drive_pop_outputs(sj[i]), *ref_s = drive_pop_states(sj[i]);
            bad |= same_instance(jit, DRIVE_ABI_OUTPUT, ref_o, pj, i, osz, scratch,
                                 "population JIT", t);
            bad |= same_instance(jit, DRIVE_ABI_PARAM, ref_s, pj, i, ssz, scratch,
                                 "population JIT", t);
            bad |= same_instance(jit, DRIVE_ABI_OUTPUT, ref_o, ps, i, osz, scratch,
                                 "population .so", t);
            bad |= same_instance(jit, DRIVE_ABI_PARAM, ref_s, ps, i, ssz, scratch,
                                 "population .so", t);
            bad |= same_block(jit, DRIVE_ABI_OUTPUT, ref_o, drive_pop_outputs(ss[i]), osz,
                              "single .so step", t, i);
            bad |= same_block(jit, DRIVE_ABI_PARAM, ref_s, drive_pop_states(ss[i]), ssz,
                              "single .so step", t, i);
        }
    }
    for (size_t i = 0; i < n; i++) {
        drive_pop_free(sj[i]);
        drive_pop_free(ss[i]);
        if (fd[i].value)
            feeder_free(&fd[i]);
    }
    drive_pop_free(pj);
    drive_pop_free(ps);
    free(sj);
    free(ss);
    free(fd);
    free(vals);
    free(scratch);
    return bad;
}

/* The `step` entry of circuit `name` in the .so, from its own table. */
static const drive_abi_circuit *abi_of(void *dl, const char *name)
{
    drive_module_fn fn = (drive_module_fn)(uintptr_t)dlsym(dl, "drive_module");
    const drive_abi_module *m = fn ? fn() : NULL;
    for (uint32_t i = 0; m && i < m->n_circuits; i++)
        if (!strcmp(m->circuits[i]->name, name))
            return m->circuits[i];
    return NULL;
}

static void check_circuit(const char *drivec, const char *file, const char *all_so, int n_circuits,
                          const char *name, int index, long ticks)
{
    int before = failures;
    invalid_seen = 0;
    /* A file of its own per circuit: dlopen hands back an object already
     * loaded under the same path, even when the file was rebuilt since. */
    char so_name[300];
    snprintf(so_name, sizeof so_name, "c%d_%s.so", index, name);
    char *so_path = path_in_work(so_name);
    if (build(drivec, file, name, so_path) != 0) {
        fail(name, "drivec build --circuit %s failed", name);
        return;
    }
    drive_circuit *so = drive_load(so_path, name);
    drive_circuit *all = drive_load(all_so, name);
    drive_circuit *jit = drive_compile(file, name, NULL, DRIVE_NO_CACHE);
    void *dl = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
    const drive_abi_circuit *so_abi = dl ? abi_of(dl, name) : NULL;
    if (!so)
        fail(name, "drive_load(%s): %s", so_path, drive_last_error());
    if (!all)
        fail(name, "drive_load(%s): %s", all_so, drive_last_error());
    if (!jit)
        fail(name, "drive_compile: %s", drive_last_error());
    if (!so_abi)
        fail(name, "no table entry for the circuit in %s", so_path);
    if (so && all && jit && so_abi) {
        if (strcmp(drive_origin(so), "so") || strcmp(drive_origin(all), "so") ||
            strcmp(drive_origin(jit), "jit"))
            fail(name, "origins are %s, %s, %s; expected so, so, jit", drive_origin(so),
                 drive_origin(all), drive_origin(jit));
        int bad = sane_layout(jit);
        /* The .so of this circuit alone is the same artefact drive_compile
         * caches: the same hash. The .so of all circuits is another build,
         * with another hash unless the file has only this circuit. One for
         * another CPU ($SO_VS_JIT_CPU) has a hash naming that CPU. */
        const char *cpu = getenv("SO_VS_JIT_CPU");
        int generic = !cpu || !*cpu;
        bad |= same_reflection(jit, so, "drivec build --circuit", generic);
        bad |= same_reflection(jit, all, "drivec build (all circuits)",
                               generic && n_circuits == 1);
        if (!bad) {
            variant v[3] = { { "JIT", jit, drive_pop_new(jit, 1) },
                             { ".so --circuit", so, drive_pop_new(so, 1) },
                             { ".so of all circuits", all, drive_pop_new(all, 1) } };
            if (!v[0].p || !v[1].p || !v[2].p)
                fail(name, "drive_pop_new: %s", drive_last_error());
            else
                lock_step(v, 3, ticks, seed_of(name, 1));
            for (int k = 0; k < 3; k++)
                drive_pop_free(v[k].p);
            /* Keep the population test within memory for circuits with long
             * histories: at most 64 MB of state. */
            size_t n = POP_N;
            while (n > 2 && n * drive_state_size(jit) * 4 > ((size_t)64 << 20))
                n /= 2;
            long pticks = ticks / 4 > 100 ? ticks / 4 : 100;
            if (failures == before)
                population(jit, so, so_abi, n, pticks, seed_of(name, 2));
            if (failures == before)
                printf("ok   %s: %s (%u fields, %zu+%zu+%zu bytes; 2 x %ld ticks, %ld invalid; "
                       "population of %zu for %ld ticks)\n",
                       file, name, drive_n_fields(jit), drive_in_size(jit), drive_out_size(jit),
                       drive_state_size(jit), ticks, invalid_seen, n, pticks);
        }
    }
    if (dl)
        dlclose(dl);
    drive_circuit_free(so);
    drive_circuit_free(all);
    drive_circuit_free(jit);
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: so_vs_jit DRIVEC FILE.drive TMPDIR [TICKS]\n");
        return 2;
    }
    const char *drivec = argv[1], *file = argv[2];
    long ticks = argc == 5 ? strtol(argv[4], NULL, 10) : 3000;
    if (ticks <= 0) {
        fprintf(stderr, "so_vs_jit: TICKS must be positive\n");
        return 2;
    }
    if (getenv("SO_VS_JIT_CORRUPT"))
        corrupt_tick = strtol(getenv("SO_VS_JIT_CORRUPT"), NULL, 10);
    if (mkdir(argv[3], 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "cannot make %s: %s\n", argv[3], strerror(errno));
        return 2;
    }
    size_t n = strlen(argv[3]) + 32;
    work_dir = malloc(n);
    snprintf(work_dir, n, "%s/so_vs_jit-XXXXXX", argv[3]);
    if (!mkdtemp(work_dir)) {
        fprintf(stderr, "cannot make a directory in %s: %s\n", argv[3], strerror(errno));
        return 2;
    }
    /* Every circuit of the file, from a build of all of them. */
    char *all_so = path_in_work("all.so");
    if (build(drivec, file, NULL, all_so) != 0) {
        fprintf(stderr, "FAIL: drivec build %s failed (work files in %s)\n", file, work_dir);
        return 1;
    }
    char *names[MAX_CIRCUITS];
    int nc = circuit_names(all_so, names, MAX_CIRCUITS);
    if (nc <= 0) {
        fprintf(stderr, "FAIL: no circuits in %s\n", all_so);
        return 1;
    }
    for (int i = 0; i < nc; i++)
        check_circuit(drivec, file, all_so, nc, names[i], i, ticks);
    for (int i = 0; i < nc; i++)
        free(names[i]);
    /* Work files stay for inspection after a real failure; the self-test
     * fails on purpose and leaves nothing. */
    int keep = failures && corrupt_tick < 0;
    if (failures)
        printf("%s: %d difference%s%s%s%s\n", file, failures, failures == 1 ? "" : "s",
               keep ? " (work files kept in " : "", keep ? work_dir : "", keep ? ")" : "");
    for (int i = 0; i < n_made; i++) {
        if (!keep)
            remove(made[i]);
        free(made[i]);
    }
    if (!keep)
        rmdir(work_dir);
    free(work_dir);
    if (failures)
        return 1;
    printf("%s: %d circuit%s agree (.so and JIT)\n", file, nc, nc == 1 ? "" : "s");
    return 0;
}
