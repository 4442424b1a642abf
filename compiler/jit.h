/* jit.h — compiles circuits in-process with one ORC LLJIT (`drivec run`,
 * the benchmarks, and any host that wants native step functions now).
 *
 * Each jit_compile links its code (two object files: the step, and init
 * with step_n) under its own resource tracker, with symbols that never
 * repeat, so an interactive host can redefine a circuit by compiling the
 * new one and removing the old (compiling a circuit identical to one still
 * loaded shares that code; see jit_set_cache).
 * jit_compile_many links the code of several circuits (a whole program) in
 * one share per thread, whose code stays until all of its are removed.
 *
 * Threads: a jit's functions lock it, so hosts may compile and step from
 * several threads; a compile runs LLVM on up to one thread per core. The
 * first population step of a circuit (step_n, a group of its lanes or more) runs
 * LLVM too, in the thread stepping (its lanes, jit_set_lanes): it takes
 * tens of milliseconds, waits for a compile running in another thread, and
 * needs LLVM's stack (a few MB; a thread's default on glibc is 8).
 *
 * Ownership: the caller owns a jit and frees it with jit_destroy, which also
 * frees all code still loaded (every jit_fn pointer then dangles); a jit_fn's
 * code belongs to the jit until jit_remove; every char **err is malloc'd and
 * freed by the caller with free() (NULL only if malloc itself failed).
 */
#ifndef DRIVE_JIT_H
#define DRIVE_JIT_H

#include <stddef.h>

#include "ir.h"
#include "rt.h"

typedef struct jit jit;
typedef struct jit_unit jit_unit;

/* Code for this machine's CPU and features. */
jit *jit_create(char **err);
/* Code for a named CPU ("x86-64-v3"; features such as "+avx2", NULL for
 * none), e.g. to reproduce another machine's code. (Valgrind needs no such
 * help: under it, host detection already sees no AVX-512.) */
jit *jit_create_cpu(const char *cpu, const char *features, char **err);
void jit_destroy(jit *j);

typedef struct jit_fn {
    void (*init)(void *state);
    int (*step)(void *state, const void *in, void *out); /* returns the status (cg.h) */
    size_t (*step_n)(void *states, size_t n, const void *in, void *out); /* a population */
    jit_unit *unit; /* the code's resource tracker; owned by the jit */
} jit_fn;

/* cg_emit_part -> cg_optimize the step (opt_level 0: no passes, 2: the step
 * pipeline) -> object files -> add to the JIT -> look up init, step and
 * step_n. c must be laid out and pass ir_verify.
 * Returns 0 and fills *out, or -1 with a message in *err. */
int jit_compile(jit *j, const ir_circuit *c, int opt_level, jit_fn *out, char **err);

/* jit_compile for n circuits at once, into fns[0..n-1]: the circuits not in
 * the cache go through LLVM together (a share of them per thread, see
 * jit_set_threads: its steps in one module, optimised, their init and
 * step_n in another, made by LLVM's quickest code generator, both linked
 * under one tracker), which costs much less than a jit_compile each. A share's code is freed when the last of its jit_fns is
 * removed. All or nothing: returns
 * 0, or -1 with a message in *err and every fns[i] cleared. The circuits are
 * only read. */
int jit_compile_many(jit *j, ir_circuit *const *cs, int n, int opt_level, jit_fn *fns,
                     char **err);

/* Each jit keeps the object files it made (at most 64 MB with their lanes,
 * newest first), keyed by everything the code depends on, so that
 * compiling an identical circuit again skips LLVM: it links the kept object
 * (with the other circuits compiled alongside, for jit_compile_many), or
 * shares the code when it is still loaded. jit_set_cache(j, 0) turns that off (to measure
 * LLVM itself); on by default. */
void jit_set_cache(jit *j, int on);

/* Whether step_n steps a group of instances at once, its lanes (CG_LANES,
 * cg.h: four, or eight where the CPU has AVX-512, whose lanes get it and
 * the steps not; DRIVE_CG_LANES=4 keeps them to four): on by
 * default; applies to the compiles that follow (off: step_n calls step for
 * one instance, and for more a function of the jit that copies each
 * instance out of the columns, steps it and copies it back). The lanes cost LLVM about three times what the step does,
 * so a compile leaves them out: step_n makes them the first time it is
 * given a group or more (a few ms, in the thread stepping; the
 * object is kept with the circuit's for the next time), and steps one
 * instance at a time until then. The results are the same bit for bit. */
void jit_set_lanes(jit *j, int on);
/* How many lanes LLVM has made, and how many times they were linked. */
void jit_lanes_counts(jit *j, unsigned long *made, unsigned long *linked);

/* Testing hook: share number `share` (> 0) of the next compiles fails after
 * LLVM made it, as if it could not be linked (0 turns it off). */
void jit_test_fail_share(jit *j, int share);

/* How many threads run LLVM for one jit_compile_many (at most
 * JIT_MAX_THREADS): its new circuits are shared out by size, and each
 * thread makes one object of its share. n <= 0 means $DRIVE_JIT_THREADS if
 * set, else the number of cores (the default). The code is the same
 * whatever the count; only the time to make it changes. */
enum { JIT_MAX_THREADS = 8 };
void jit_set_threads(jit *j, int n);

/* Point c's entry points (rt.h) at fn, which must outlive c's use. */
void jit_bind(rt_circuit *c, jit_fn *fn);

/* Releases fn's code and clears *fn: the code is freed (its pointers dangle)
 * once no other jit_fn shares it (an identical circuit compiled while it was
 * loaded shares it). Returns 0, or -1 with a message in *err (the unit is
 * released either way). */
int jit_remove(jit *j, jit_fn *fn, char **err);

#endif
