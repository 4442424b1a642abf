/* lifecycle.c — invariants of a circuit's life cycle through libdrive
 * (runtime/drive.h), for every circuit of one .drive file:
 *
 *   init      after params are set and the circuit has run, resetting an
 *             instance (drive_pop_reset) gives back exactly the block of a
 *             fresh instance, and every param and state field holds the
 *             default its reflection entry announces;
 *   copy      the state columns copied byte for byte into another
 *             population step identically to the original from then on;
 *   split     T ticks run in one go equal the same T ticks split at random
 *             points, with the population saved (drive_save) and restored
 *             (drive_restore) into a fresh population at each split, bit
 *             for bit (outputs, state, the step's invalid counts).
 *
 * Inputs are random (mostly in range, now and then at a bound, zero, huge or
 * invalid), params random in their ranges, per instance of a population of
 * three.
 *
 *   lifecycle FILE.drive TMPDIR [TICKS]
 *
 * Exit status 0 when every invariant holds, 1 otherwise (each failure is
 * printed with circuit, check, tick and field), 2 on bad usage.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <stdarg.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compile.h"
#include "drive.h"

enum { POP = 10 }; /* one group of eight lanes in step_n (two of four), and two past it */

static int failures;
static const char *tmp_dir;
/* $LIFECYCLE_CORRUPT flips a bit of the state restored at the second split,
 * to check that the comparison catches it (a WILL_FAIL test). */
static int corrupt;

/* rng, rng_next, rng_unit, rng_below */
#include "../common/test_rng.h"

static void fail(const char *circuit, const char *check, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(const char *circuit, const char *check, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL %s [%s]: ", circuit, check);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    failures++;
}

/* ---- values ------------------------------------------------------------------ */

static double input_value(rng *r, const drive_field *f)
{
    if (f->type == DRIVE_ABI_BOOL)
        return rng_below(r, 2);
    unsigned k = rng_below(r, 100);
    if (k == 0)
        return rng_below(r, 2) ? NAN : INFINITY; /* an invalid tick: no state kept */
    if (f->has_range) {
        if (k < 10)
            return f->lo;
        if (k < 20)
            return f->hi;
        return f->lo + (f->hi - f->lo) * rng_unit(r);
    }
    static const double edges[] = { 0, -0.0, 1, -1, 1e300, -1e300, 1e-310, 710, 0.5 };
    if (k < 15)
        return edges[rng_below(r, sizeof edges / sizeof *edges)];
    return (rng_unit(r) - 0.5) * 4;
}

static double param_value(rng *r, const drive_field *f)
{
    if (f->type == DRIVE_ABI_BOOL)
        return rng_below(r, 2);
    if (f->has_range) {
        unsigned k = rng_below(r, 8);
        return k == 0 ? f->lo : k == 1 ? f->hi : f->lo + (f->hi - f->lo) * rng_unit(r);
    }
    return f->init != 0 ? f->init * (0.5 + rng_unit(r)) : rng_unit(r) * 2 - 1;
}

/* Inputs of every instance for one tick, drawn from r (one stream per run,
 * so that two runs given the same seed see the same inputs). */
static void set_inputs(drive_pop *p, rng *r)
{
    drive_circuit *c = drive_pop_circuit(p);
    for (size_t i = 0; i < drive_pop_size(p); i++)
        for (uint32_t k = 0; k < drive_n_fields(c); k++) {
            const drive_field *f = drive_field_at(c, k);
            if (f->kind == DRIVE_ABI_INPUT)
                drive_set(p, i, (int)k, input_value(r, f));
        }
}

static void set_params(drive_pop *p, uint64_t seed)
{
    drive_circuit *c = drive_pop_circuit(p);
    rng r = { seed };
    for (size_t i = 0; i < drive_pop_size(p); i++)
        for (uint32_t k = 0; k < drive_n_fields(c); k++) {
            const drive_field *f = drive_field_at(c, k);
            if (f->kind == DRIVE_ABI_PARAM && drive_set(p, i, (int)k, param_value(&r, f)) != 0)
                fail(drive_circuit_name(c), "params", "drive_set of '%s': %s", f->name,
                     drive_last_error());
        }
}

/* The first field (of the output or state block) where two populations'
 * blocks differ, bit for bit, or NULL. The blocks are in columns
 * (drive_abi.h): field f's values are bytes [offset * m, (offset + w) * m),
 * m the columns' length. */
static const char *first_difference(drive_pop *a, drive_pop *b, int *which)
{
    drive_circuit *c = drive_pop_circuit(a);
    size_t n = drive_pop_columns(a); /* the columns' length */
    size_t osz = drive_out_size(c) * n, ssz = drive_state_size(c) * n;
    int out_differs = memcmp(drive_pop_outputs(a), drive_pop_outputs(b), osz) != 0;
    int state_differs = memcmp(drive_pop_states(a), drive_pop_states(b), ssz) != 0;
    if (!out_differs && !state_differs)
        return NULL;
    *which = out_differs ? DRIVE_ABI_OUTPUT : DRIVE_ABI_STATE;
    const unsigned char *x = out_differs ? drive_pop_outputs(a) : drive_pop_states(a);
    const unsigned char *y = out_differs ? drive_pop_outputs(b) : drive_pop_states(b);
    size_t bs = out_differs ? drive_out_size(c) : drive_state_size(c);
    for (size_t off = 0; off < bs * n; off++)
        if (x[off] != y[off])
            for (uint32_t k = 0; k < drive_n_fields(c); k++) {
                const drive_field *f = drive_field_at(c, k);
                int blk = out_differs ? f->kind == DRIVE_ABI_OUTPUT
                                      : (f->kind == DRIVE_ABI_PARAM || f->kind == DRIVE_ABI_STATE);
                size_t w = f->type == DRIVE_ABI_REAL ? 8 : 1;
                if (blk && off >= f->offset * n && off < (f->offset + w) * n)
                    return f->name;
            }
    return "(padding)";
}

/* ---- the checks ----------------------------------------------------------- */

static void check_init(drive_circuit *c, long ticks, uint64_t seed)
{
    const char *cn = drive_circuit_name(c);
    drive_pop *fresh = drive_pop_new(c, POP), *p = drive_pop_new(c, POP);
    if (!fresh || !p) {
        fail(cn, "init", "drive_pop_new: %s", drive_last_error());
        drive_pop_free(fresh);
        drive_pop_free(p);
        return;
    }
    size_t ssz = drive_state_size(c);
    /* the fresh block holds the announced defaults */
    for (uint32_t k = 0; k < drive_n_fields(c); k++) {
        const drive_field *f = drive_field_at(c, k);
        if (f->kind != DRIVE_ABI_PARAM && f->kind != DRIVE_ABI_STATE)
            continue;
        double v = drive_get(fresh, 0, (int)k);
        if (memcmp(&v, &f->init, sizeof v) != 0 && !(v == f->init))
            fail(cn, "init", "%s '%s' starts at %.17g, its reflection says %.17g",
                 f->kind == DRIVE_ABI_PARAM ? "param" : "state", f->name, v, f->init);
    }
    set_params(p, seed);
    rng r = { seed * 7 + 1 };
    for (long t = 0; t < ticks; t++) {
        set_inputs(p, &r);
        drive_step(p, 1);
    }
    /* reset one instance, then all */
    drive_pop_reset(p, 1);
    unsigned char *one = malloc(ssz + 1), *ref = malloc(ssz + 1);
    if (drive_pop_read_block(p, 1, DRIVE_ABI_STATE, one) != 0 ||
        drive_pop_read_block(fresh, 1, DRIVE_ABI_STATE, ref) != 0)
        fail(cn, "init", "drive_pop_read_block: %s", drive_last_error());
    else if (memcmp(one, ref, ssz) != 0)
        fail(cn, "init", "instance 1 after drive_pop_reset differs from a fresh instance");
    free(one);
    free(ref);
    drive_pop_reset(p, (size_t)-1);
    int which = 0;
    const char *f = first_difference(fresh, p, &which);
    if (f && which == DRIVE_ABI_STATE)
        fail(cn, "init", "after %ld ticks and a reset, '%s' differs from a fresh instance's",
             ticks, f);
    drive_pop_free(p);
    drive_pop_free(fresh);
}

static void check_copy(drive_circuit *c, long ticks, uint64_t seed)
{
    const char *cn = drive_circuit_name(c);
    drive_pop *a = drive_pop_new(c, POP), *b = drive_pop_new(c, POP);
    if (!a || !b) {
        fail(cn, "copy", "drive_pop_new: %s", drive_last_error());
        drive_pop_free(a);
        drive_pop_free(b);
        return;
    }
    set_params(a, seed);
    rng r = { seed * 11 + 3 };
    long warm = ticks / 3;
    for (long t = 0; t < warm; t++) {
        set_inputs(a, &r);
        drive_step(a, 1);
    }
    memcpy(drive_pop_states(b), drive_pop_states(a), drive_state_size(c) * drive_pop_columns(a));
    for (long t = warm; t < ticks; t++) {
        rng r2 = r;
        set_inputs(a, &r);
        set_inputs(b, &r2);
        size_t ia = drive_step(a, 1), ib = drive_step(b, 1);
        int which;
        const char *f = first_difference(a, b, &which);
        if (ia != ib || f) {
            fail(cn, "copy", "tick %ld after copying the state at tick %ld: %s '%s' differs", t,
                 warm, which == DRIVE_ABI_OUTPUT ? "output" : "state", f ? f : "(invalid count)");
            break;
        }
    }
    drive_pop_free(a);
    drive_pop_free(b);
}

static void check_split(drive_circuit *c, long ticks, uint64_t seed, int index)
{
    const char *cn = drive_circuit_name(c);
    drive_pop *ref = drive_pop_new(c, POP), *p = drive_pop_new(c, POP);
    if (!ref || !p) {
        fail(cn, "split", "drive_pop_new: %s", drive_last_error());
        drive_pop_free(ref);
        drive_pop_free(p);
        return;
    }
    set_params(ref, seed);
    set_params(p, seed);
    char path[1024];
    snprintf(path, sizeof path, "%s/lifecycle-%d-%ld.ckpt", tmp_dir, index, (long)getpid());
    rng rr = { seed * 13 + 5 }, rp = rr, splits = { seed * 17 + 9 };
    int n_splits = 0;
    for (long t = 0; t < ticks; t++) {
        if (rng_below(&splits, 40) == 0 || t == ticks / 2) { /* a split: save, restore fresh */
            if (drive_save(p, path) != 0) {
                fail(cn, "split", "drive_save at tick %ld: %s", t, drive_last_error());
                break;
            }
            drive_pop *q = drive_pop_new(c, POP);
            if (!q || drive_restore(q, path, 0) != 0) {
                fail(cn, "split", "drive_restore at tick %ld: %s", t, drive_last_error());
                drive_pop_free(q);
                break;
            }
            drive_pop_free(p);
            p = q;
            n_splits++;
            if (corrupt && n_splits == 2) { /* the self-test: must be caught */
                /* the last byte of instance 0's block */
                unsigned char *blk = malloc(drive_state_size(c) + 1);
                if (blk && drive_state_size(c) &&
                    drive_pop_read_block(p, 0, DRIVE_ABI_STATE, blk) == 0) {
                    blk[drive_state_size(c) - 1] ^= 0x40;
                    drive_pop_write_block(p, 0, DRIVE_ABI_STATE, blk);
                }
                free(blk);
            }
        }
        set_inputs(ref, &rr);
        set_inputs(p, &rp);
        size_t ir = drive_step(ref, 1), ip = drive_step(p, 1);
        int which;
        const char *f = first_difference(ref, p, &which);
        if (ir != ip || f) {
            fail(cn, "split", "tick %ld (after %d save/restore splits): %s '%s' differs", t,
                 n_splits, which == DRIVE_ABI_OUTPUT ? "output" : "state",
                 f ? f : "(invalid count)");
            break;
        }
    }
    remove(path);
    drive_pop_free(ref);
    drive_pop_free(p);
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: lifecycle FILE.drive TMPDIR [TICKS]\n");
        return 2;
    }
    const char *file = argv[1];
    tmp_dir = argv[2];
    corrupt = getenv("LIFECYCLE_CORRUPT") != NULL;
    long ticks = argc == 4 ? strtol(argv[3], NULL, 10) : 400;
    if (ticks < 3) {
        fprintf(stderr, "lifecycle: TICKS must be at least 3\n");
        return 2;
    }
    if (mkdir(tmp_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "lifecycle: cannot make %s: %s\n", tmp_dir, strerror(errno));
        return 2;
    }
    /* The circuits of the file, from the compiler (libdrive takes one name). */
    compile_opts o = { 0 };
    compile_result *r = compile_file(file, &o);
    if (diag_errors(r->diag) || r->n_circuits == 0) {
        diag_flush(r->diag, stderr, 0);
        fprintf(stderr, "lifecycle: %s does not compile\n", file);
        compile_free(r);
        return 2;
    }
    int n = r->n_circuits;
    char **names = calloc((size_t)n, sizeof *names);
    for (int i = 0; i < n; i++)
        names[i] = strdup(r->circuits[i]->name);
    compile_free(r);
    for (int i = 0; i < n; i++) {
        drive_circuit *c = drive_compile(file, names[i], NULL, DRIVE_NO_CACHE);
        if (!c) {
            fail(names[i], "compile", "%s", drive_last_error());
            continue;
        }
        int before = failures;
        uint64_t seed = 0x1f2e3d4cull + (uint64_t)i * 977;
        check_init(c, ticks, seed);
        check_copy(c, ticks, seed + 1);
        check_split(c, ticks, seed + 2, i);
        if (failures == before)
            printf("ok   %s: %s (init, copy, %ld ticks split by save/restore; population of %d)\n",
                   file, names[i], ticks, POP);
        drive_circuit_free(c);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return failures ? 1 : 0;
}
