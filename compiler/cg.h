/* cg.h — the LLVM back end: translates one ir_circuit into an LLVM module
 * holding <prefix>_init and <prefix>_step, and runs the optimizer on it.
 *
 * The generated code must agree bit for bit with the IR interpreter, so it is
 * strict IEEE: no fast-math flags, no contraction, no reassociation.
 *
 * ABI of the generated functions (C types):
 *   void <prefix>_init(void *state);
 *   int <prefix>_step(void *state, const void *in, void *out);
 *   size_t <prefix>_step_n(void *states, size_t n, const void *in, void *out);
 * step_n steps n instances whose blocks are in columns (drive_abi.h: the
 * field at offset o, of width w, of instance i at byte o*m + w*i of its
 * kind's array, m = drive_abi_columns(n); one instance is its block) and
 * returns how many reported
 * invalid inputs.
 * With CG_LANES it steps groups of instances at once, one per vector lane
 * (bit for bit the step of each; four, or eight: cg_target_lanes), and
 * prefetches each column it touches 512 bytes ahead (DRIVE_CG_PREFETCH=
 * BYTES sets another distance, 0 none); that doubles the code to generate,
 * so a host that steps one instance at a time leaves it out. Without it,
 * and in circuits emitted with loops, step_n is a loop calling step on
 * each instance's block, copied out of the columns and back.
 * DRIVE_CG_LANES=never in the environment leaves it out everywhere.
 * state, in and out are the blocks laid out by ir_layout; they must not
 * overlap and must be 8-byte aligned (the code loads doubles with align 8).
 * step returns the circuit's status, 0 or 1 (its IR_RETURN; 0 without one).
 * In a circuit of more than a few thousand instructions, regular runs of
 * instructions (scalarized vector operations) become loops, with a scratch
 * array for values read outside their iteration; when that array is too
 * large for the stack and malloc fails, step changes nothing and returns 1.
 * DRIVE_CG_LOOPS=always (or never) in the environment overrides the size
 * rule, so that tests can check the loops on small circuits.
 * The math ops log, sin and cos become calls to the C library's functions
 * of those names, which the code's host must provide (the JIT resolves
 * them in its own process); exp, expm1 and tanh are drive's own arithmetic
 * (cgmath.h), inside the module, except in cg_emit_part's step, which calls
 * this process's rt_exp, rt_expm1 and rt_tanh (unless DRIVE_CG_MATH=inline
 * in the environment).
 *
 * Ownership: cg_target_* return a target the caller frees with
 * cg_target_free; cg_emit returns a module owned by the caller (dispose it
 * with LLVMDisposeModule, or hand it to the JIT, which then owns it);
 * every char **err and the text of cg_print_module are malloc'd and freed by
 * the caller with free() (a message is NULL only if malloc itself failed).
 */
#ifndef DRIVE_CG_H
#define DRIVE_CG_H

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include "ir.h"

/* A target machine: triple, CPU, features, PIC, small code model. Creating
 * one initialises LLVM's native target and asm printer (once per process). */
typedef struct cg_target cg_target;

/* This CPU and its features but AVX-512 (the JIT, and .so files made
 * with --cpu native); step_n's lanes get all its features (cg_target_lanes). */
cg_target *cg_target_host(char **err);
cg_target *cg_target_generic(char **err); /* plain x86-64 (portable .so) */
/* A named CPU such as "x86-64-v3" with extra features such as "+avx2" (NULL
 * or "" for none); LLVM warns on stderr about a CPU it does not know. */
cg_target *cg_target_cpu(const char *cpu, const char *features, char **err);
/* The same CPU and features, but LLVM's quickest code generator (no
 * optimisation, fast instruction selection and register allocation): for
 * code that runs once, or only calls other code (cg_emit_part). */
cg_target *cg_target_fast(const cg_target *like, char **err);
void cg_target_free(cg_target *t);

/* How many instances a step_n made for t steps at once (its lanes): 8
 * when t's feature string turns on AVX-512 (one 512-bit vector a value),
 * or t is the host's and the host has it (the lanes function then carries
 * the host's CPU and features as attributes; DRIVE_CG_LANES=4 in the
 * environment keeps it to four), else 4. A CPU name alone
 * (cg_target_cpu("x86-64-v4", NULL)) gives 4: only features are read. */
unsigned cg_target_lanes(const cg_target *t);

/* The wrapped machine, still owned by t. */
LLVMTargetMachineRef cg_target_machine(const cg_target *t);
/* Frees t but hands its machine to the caller (ORC's JIT target machine
 * builder consumes one). */
LLVMTargetMachineRef cg_target_take_machine(cg_target *t);

/* Builds the module named prefix in ctx, with <prefix>_init storing every
 * param's default and every state var's init (after zeroing the whole
 * block, padding included, as interp_init does), and <prefix>_step translating
 * c->code one instruction per value. t may be NULL (no triple or data layout,
 * e.g. to print IR). c must be laid out and pass ir_verify; returns NULL if an
 * instruction is malformed anyway (or when out of memory). */
LLVMModuleRef cg_emit(LLVMContextRef ctx, const ir_circuit *c, const char *prefix,
                      const cg_target *t);
/* The same with options: CG_LANES, step_n across instances (cg_emit sets it). */
enum { CG_LANES = 1 };
LLVMModuleRef cg_emit_ex(LLVMContextRef ctx, const ir_circuit *c, const char *prefix,
                         const cg_target *t, unsigned flags);

/* Lanes made when first wanted, for a JIT: a population's step_n costs
 * LLVM about three times its step, and most hosts never step one. */
typedef struct cg_lazy {
    /* Called from the generated step_n, in the thread stepping, when it
     * gets a group of lanes or more instances while *slot is NULL: returns the lanes
     * version, <prefix>_lanes_step_n (cg_emit_lanes) linked where
     * <prefix>_step is, after storing it into *slot with release order so
     * that later calls go straight to it; or NULL, to step one instance at
     * a time this call (after storing CG_LAZY_NONE into *slot: for good,
     * without asking again). */
    void *(*hook)(void *token, void **slot); /* NULL: never lanes */
    void *token;
    /* step_n steps populations it has no lanes for (fewer than a group of
     * instances, or the hook had none) by calling apart(token, step,
     * states, n, in, out), step being <prefix>_step, instead of carrying
     * code of its own to copy instances out of the columns and back.
     * Returns what step_n returns. Required. */
    size_t (*apart)(void *token, void *step, void *states, size_t n, const void *in, void *out);
} cg_lazy;
#define CG_LAZY_NONE ((void *)1)

/* cg_emit_ex's code in two modules, for a JIT: CG_PART_STEP, <prefix>_step,
 * which deserves the optimiser and the full code generator, and
 * CG_PART_REST, <prefix>_init and a step_n that only calls the step, which
 * need neither (cg_target_fast); the rest declares the step. With lazy
 * (else NULL: no lanes), the rest's step_n has no lanes until its hook
 * supplies them (the same states and outputs either way); the module then
 * holds the hook's and token's addresses. The step calls this process's
 * rt_exp, rt_expm1 and rt_tanh by address (see above). Both modules are
 * for this process only. */
enum { CG_PART_STEP, CG_PART_REST };
LLVMModuleRef cg_emit_part(LLVMContextRef ctx, const ir_circuit *c, const char *prefix,
                           const cg_target *t, int part, const cg_lazy *lazy);
/* Only <prefix>_lanes_step_n, step_n with lanes, which calls
 * <prefix>_step (defined elsewhere) for the instances left over. */
LLVMModuleRef cg_emit_lanes(LLVMContextRef ctx, const ir_circuit *c, const char *prefix,
                            const cg_target *t);

/* Verifies m, then optimizes it with t's machine: opt_level 0 runs no
 * passes, 1 and 3 LLVM's default<O1> and default<O3>, 2 (what the JIT and
 * the .so use) a short pipeline of function cleanups and SLP made for step
 * functions (see cg.c). Returns 0 on success, else -1 and a message in *err. */
int cg_optimize(LLVMModuleRef m, const cg_target *t, int opt_level, char **err);

/* The module as LLVM assembly text. */
char *cg_print_module(LLVMModuleRef m);

/* *err = a malloc'd message formatted printf-style (nothing if err is
 * NULL): how the back end, the JIT and the AOT builder report failures. */
void cg_errorf(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
