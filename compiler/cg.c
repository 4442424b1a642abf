/* cg.c — LLVM back end: ir_circuit -> LLVM IR (via LLVM-C), then the new pass
 * manager. One IR instruction becomes at most a few LLVM instructions; bools
 * are i1 in registers and one byte (0/1) in memory, as in the interpreter. */
#include "cg.h"
#include "cgmath.h"
#include "rt_math.h"

#include <llvm-c/Analysis.h>
#include <llvm-c/Error.h>
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

struct cg_target {
    LLVMTargetMachineRef tm;
    int wide;             /* the machine's own features turn on AVX-512 */
    /* The host's CPU and all its features, AVX-512 included, for step_n's
     * lanes alone (cg_target_host; NULL elsewhere and without AVX-512). */
    char *lanes_cpu, *lanes_features;
};

void cg_errorf(char **err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    *err = s;
}

/* ---- targets ---------------------------------------------------------- */

static once_flag native_once = ONCE_FLAG_INIT;
static int native_failed;

/* LLVM's registries are not thread-safe to fill, hence call_once. Without the
 * asm printer, JIT lookups fail with only "Failed to materialize symbols". */
static void init_native(void)
{
    native_failed = LLVMInitializeNativeTarget() || LLVMInitializeNativeAsmPrinter();
}

/* Whether the feature string turns name on: its last "+name" or "-name"
 * says (LLVM reads the list in order). */
static int feature_on(const char *features, const char *name)
{
    int on = 0;
    size_t len = strlen(name);
    for (const char *p = features; p && *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len + 1 && (*p == '+' || *p == '-') && !strncmp(p + 1, name, len))
            on = *p == '+';
        p = end ? end + 1 : p + n;
    }
    return on;
}

/* cpu == NULL means "the generic CPU of the host's architecture". */
static cg_target *target_new_at(const char *cpu, const char *features, LLVMCodeGenOptLevel level,
                                char **err)
{
    call_once(&native_once, init_native);
    if (native_failed) {
        cg_errorf(err, "LLVM has no native target for this machine");
        return NULL;
    }
    char *triple = LLVMGetDefaultTargetTriple();
    LLVMTargetRef target;
    char *msg = NULL;
    if (LLVMGetTargetFromTriple(triple, &target, &msg)) {
        cg_errorf(err, "no LLVM target for %s: %s", triple, msg ? msg : "");
        LLVMDisposeMessage(msg);
        LLVMDisposeMessage(triple);
        return NULL;
    }
    LLVMDisposeMessage(msg);
    if (!cpu)
        cpu = strncmp(triple, "x86_64", 6) == 0 ? "x86-64" : "generic";
    /* Small code model + PIC is what LLJIT forces with JITLink on ELF, and
     * what a shared library needs. */
    LLVMTargetMachineRef tm = LLVMCreateTargetMachine(
        target, triple, cpu, features ? features : "", level, LLVMRelocPIC, LLVMCodeModelSmall);
    if (!tm) {
        cg_errorf(err, "cannot create an LLVM target machine for %s (cpu %s)", triple, cpu);
        LLVMDisposeMessage(triple);
        return NULL;
    }
    LLVMDisposeMessage(triple);
    cg_target *t = malloc(sizeof *t);
    if (!t) {
        LLVMDisposeTargetMachine(tm);
        cg_errorf(err, "out of memory");
        return NULL;
    }
    t->tm = tm;
    t->wide = feature_on(features, "avx512f");
    t->lanes_cpu = t->lanes_features = NULL;
    return t;
}

static cg_target *target_new(const char *cpu, const char *features, char **err)
{
    return target_new_at(cpu, features, LLVMCodeGenLevelDefault, err);
}

cg_target *cg_target_fast(const cg_target *like, char **err)
{
    char *cpu = LLVMGetTargetMachineCPU(like->tm);
    char *features = LLVMGetTargetMachineFeatureString(like->tm);
    cg_target *t = target_new_at(cpu, features, LLVMCodeGenLevelNone, err);
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(features);
    return t;
}

/* The population lanes have no scalar selects (every lane's select is one
 * blend), and with AVX-512 they hold eight instances in each of 32 vector
 * registers instead of four in each of 16: the stores and reloads of
 * values the 16 registers cannot hold go, and the chains of a step's
 * dependent operations (a division, a square root) are shared by twice the
 * instances. In the caches that made the predictor circuits 1.4x to 1.5x
 * faster on Zen 4 (README, Performance). So step_n made for the host gets
 * the host's CPU and all its features as its own function attributes,
 * which LLVM's code generator honours function by function. Returns t, or
 * NULL when out of memory. */
static cg_target *host_lanes(cg_target *t, const char *cpu, const char *features)
{
    t->lanes_cpu = strdup(cpu);
    t->lanes_features = strdup(features);
    return t->lanes_cpu && t->lanes_features ? t : NULL;
}

/* DRIVE_CG_LANES=4 keeps the host's lanes to four (tests, measurements). */
static int lanes_kept_to_four(void)
{
    const char *env = getenv("DRIVE_CG_LANES");
    return env && !strcmp(env, "4");
}

unsigned cg_target_lanes(const cg_target *t)
{
    if (!t)
        return 4;
    return t->wide || (t->lanes_features && !lanes_kept_to_four()) ? 8 : 4;
}

cg_target *cg_target_host(char **err)
{
    call_once(&native_once, init_native);
    char *cpu = LLVMGetHostCPUName();
    char *features = LLVMGetHostCPUFeatures();
    /* Without AVX-512: LLVM lowers the scalar selects of a step function to
     * AVX-512 masked moves, whose mask-register chains made the social
     * attention example 2.5x slower than with AVX2 on Zen 4 (bench/run.sh:
     * 11.0 vs 4.4 ns/step; gcc -O2: 4.4). Turning off avx512f turns off the
     * whole family. The lanes keep it (host_lanes). */
    size_t n = strlen(features);
    char *without = malloc(n + sizeof ",-avx512f");
    cg_target *t = NULL;
    if (!without) {
        if (err)
            *err = NULL;
    } else {
        snprintf(without, n + sizeof ",-avx512f", "%s%s", features, n ? ",-avx512f" : "-avx512f");
        t = target_new(cpu, without, err);
        free(without);
    }
    if (t && feature_on(features, "avx512f") && !host_lanes(t, cpu, features)) {
        cg_target_free(t);
        t = NULL;
        if (err)
            *err = NULL;
    }
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(features);
    return t;
}

cg_target *cg_target_generic(char **err) { return target_new(NULL, "", err); }

cg_target *cg_target_cpu(const char *cpu, const char *features, char **err)
{
    return target_new(cpu ? cpu : "generic", features, err);
}

void cg_target_free(cg_target *t)
{
    if (!t)
        return;
    LLVMDisposeTargetMachine(t->tm);
    free(t->lanes_cpu);
    free(t->lanes_features);
    free(t);
}

LLVMTargetMachineRef cg_target_machine(const cg_target *t) { return t->tm; }

LLVMTargetMachineRef cg_target_take_machine(cg_target *t)
{
    LLVMTargetMachineRef tm = t->tm;
    free(t->lanes_cpu);
    free(t->lanes_features);
    free(t);
    return tm;
}

/* ---- emitting --------------------------------------------------------- */

typedef struct emitter {
    LLVMContextRef ctx;
    LLVMModuleRef m;
    LLVMBuilderRef b;
    LLVMTypeRef f64, i1, i8, i32, i64, ptr, voidt;
    int host_math;  /* a scalar exp, expm1 or tanh calls rt_math.h's, in this process */
    unsigned lanes; /* instances in step_n's vectors: cg_target_lanes of the module's target */
    const cg_target *lanes_attrs; /* whose lanes_cpu and lanes_features step_n's lanes carry */
} emitter;

static LLVMTypeRef reg_type(const emitter *e, ir_type t) { return t == IR_F64 ? e->f64 : e->i1; }

/* Exact bits: LLVMConstReal goes through APFloat conversion, which may quiet
 * a signalling NaN; a bitcast of the integer keeps every bit. */
static LLVMValueRef const_f64(const emitter *e, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return LLVMConstBitCast(LLVMConstInt(e->i64, bits, 0), e->f64);
}

static LLVMValueRef addr(const emitter *e, LLVMValueRef base, uint32_t offset)
{
    if (offset == 0)
        return base;
    LLVMValueRef idx = LLVMConstInt(e->i64, offset, 0);
    return LLVMBuildInBoundsGEP2(e->b, e->i8, base, &idx, 1, "");
}

static LLVMValueRef load_typed(const emitter *e, LLVMValueRef p, ir_type t, const char *name)
{
    if (t == IR_F64) {
        LLVMValueRef x = LLVMBuildLoad2(e->b, e->f64, p, name);
        LLVMSetAlignment(x, 8);
        return x;
    }
    /* Any nonzero byte is true, as in the interpreter. */
    LLVMValueRef byte = LLVMBuildLoad2(e->b, e->i8, p, "");
    LLVMSetAlignment(byte, 1);
    return LLVMBuildICmp(e->b, LLVMIntNE, byte, LLVMConstInt(e->i8, 0, 0), name);
}

static LLVMValueRef load_var(const emitter *e, LLVMValueRef base, const ir_var *v)
{
    return load_typed(e, addr(e, base, v->offset), v->type, v->name ? v->name : "");
}

static void store_val(const emitter *e, LLVMValueRef base, uint32_t offset, ir_type t,
                      LLVMValueRef v)
{
    if (t == IR_BOOL)
        v = LLVMBuildZExt(e->b, v, e->i8, "");
    LLVMValueRef s = LLVMBuildStore(e->b, v, addr(e, base, offset));
    LLVMSetAlignment(s, t == IR_F64 ? 8 : 1);
}

static void add_attr(const emitter *e, LLVMValueRef fn, LLVMAttributeIndex idx,
                     const char *name)
{
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    LLVMAddAttributeAtIndex(fn, idx, LLVMCreateEnumAttribute(e->ctx, kind, 0));
}

/* The blocks never overlap and are not kept: noalias + nocapture let LLVM
 * move accesses to different blocks freely, while accesses within one block
 * keep their order (a slot's load stays before its store). */
static LLVMValueRef add_function(const emitter *e, const char *prefix, const char *suffix,
                                 LLVMTypeRef ret, unsigned nparams,
                                 const char *const *param_names,
                                 const char *const *param_access)
{
    size_t len = strlen(prefix) + strlen(suffix) + 1;
    char *name = malloc(len);
    if (!name)
        return NULL;
    snprintf(name, len, "%s%s", prefix, suffix);
    LLVMTypeRef params[3] = { e->ptr, e->ptr, e->ptr };
    LLVMTypeRef ty = LLVMFunctionType(ret, params, nparams, 0);
    LLVMValueRef fn = LLVMAddFunction(e->m, name, ty);
    free(name);
    LLVMSetLinkage(fn, LLVMExternalLinkage);
    add_attr(e, fn, LLVMAttributeFunctionIndex, "nounwind");
    add_attr(e, fn, LLVMAttributeFunctionIndex, "willreturn");
    for (unsigned i = 0; i < nparams; i++) {
        LLVMSetValueName2(LLVMGetParam(fn, i), param_names[i], strlen(param_names[i]));
        add_attr(e, fn, i + 1, "noalias");
        add_attr(e, fn, i + 1, "nocapture");
        if (param_access[i])
            add_attr(e, fn, i + 1, param_access[i]);
    }
    LLVMPositionBuilderAtEnd(e->b, LLVMAppendBasicBlockInContext(e->ctx, fn, "entry"));
    return fn;
}

static void emit_init(const emitter *e, LLVMValueRef fn, const ir_circuit *c)
{
    LLVMValueRef state = LLVMGetParam(fn, 0);
    /* Zero first, as interp_init does, so that padding agrees too. */
    if (c->state_size)
        LLVMBuildMemSet(e->b, state, LLVMConstInt(e->i8, 0, 0),
                        LLVMConstInt(e->i64, c->state_size, 0), 8);
    for (int pass = 0; pass < 2; pass++) {
        const ir_var *vars = pass == 0 ? c->params : c->state;
        uint32_t n = pass == 0 ? c->n_params : c->n_state;
        for (uint32_t i = 0; i < n; i++) {
            const ir_var *v = &vars[i];
            double zero = 0;
            if (memcmp(&v->init, &zero, sizeof zero) == 0)
                continue; /* +0 and false: the memset wrote them (predictor
                           * histories can be a million such slots) */
            LLVMValueRef k = v->type == IR_F64 ? const_f64(e, v->init)
                                               : LLVMConstInt(e->i1, v->init != 0, 0);
            store_val(e, state, v->offset, v->type, k);
        }
    }
    LLVMBuildRetVoid(e->b);
}

/* f(a) for one of the math ops, a a double or a vector of them. sqrt, fabs
 * and floor are exact in IEEE arithmetic, so LLVM's intrinsics (one
 * instruction on most CPUs) give the C library's bits. exp, expm1 and tanh
 * are drive's own (cgmath.h), the same IEEE operations as the interpreter's
 * and as fast in a vector as in a scalar. log, sin and cos are not correctly
 * rounded: only calling the C library's functions themselves (resolved in
 * this process by the JIT) matches the interpreter, hence plain scalar calls
 * and no fast-math flags, which would let LLVM substitute approximations. */
static LLVMValueRef emit_math(const emitter *e, ir_op op, LLVMValueRef a, const char *name)
{
    const char *intrinsic = NULL, *libm = NULL;
    switch (op) {
    case IR_SQRT: intrinsic = "llvm.sqrt"; break;
    case IR_ABS: intrinsic = "llvm.fabs"; break;
    case IR_FLOOR: intrinsic = "llvm.floor"; break;
    case IR_EXP: case IR_EXPM1: case IR_TANH:
        if (e->host_math && LLVMGetTypeKind(LLVMTypeOf(a)) == LLVMDoubleTypeKind) {
            double (*f)(double) = op == IR_EXP ? rt_exp : op == IR_EXPM1 ? rt_expm1 : rt_tanh;
            LLVMTypeRef f64 = e->f64;
            LLVMTypeRef fty = LLVMFunctionType(f64, &f64, 1, 0);
            LLVMValueRef callee =
                LLVMConstIntToPtr(LLVMConstInt(e->i64, (unsigned long long)(uintptr_t)f, 0), e->ptr);
            return LLVMBuildCall2(e->b, fty, callee, &a, 1, name);
        }
        return cgm_call(e->b, op == IR_EXP ? CGM_EXP : op == IR_EXPM1 ? CGM_EXPM1 : CGM_TANH, a, name);
    case IR_LOG: libm = "log"; break;
    case IR_SIN: libm = "sin"; break;
    case IR_COS: libm = "cos"; break;
    default: return NULL;
    }
    LLVMTypeRef f64 = e->f64;
    LLVMTypeRef ty = LLVMFunctionType(f64, &f64, 1, 0);
    LLVMValueRef fn;
    if (intrinsic) {
        unsigned id = LLVMLookupIntrinsicID(intrinsic, strlen(intrinsic));
        if (!id)
            return NULL;
        fn = LLVMGetIntrinsicDeclaration(e->m, id, &f64, 1);
    } else {
        fn = LLVMGetNamedFunction(e->m, libm);
        if (!fn)
            fn = LLVMAddFunction(e->m, libm, ty); /* external double f(double) */
    }
    if (!fn || LLVMGlobalGetValueType(fn) != ty)
        return NULL;
    return LLVMBuildCall2(e->b, ty, fn, &a, 1, name);
}

/* ---- the step function -------------------------------------------------- */

/* Long vectors are scalarized by lowering, so a vec[8192] circuit is a
 * straight line of hundreds of thousands of instructions, and LLVM's
 * instruction selection, scheduling and register allocation of one huge
 * block are superlinear (minutes for vec[65536]). In circuits that large, a
 * run of instructions that repeats one group of P instructions L times,
 * with operands that move regularly from one repetition to the next, is
 * emitted as a loop of L iterations instead. Each iteration performs the
 * same IEEE operations on the same operands as the straight line did, and
 * reductions stay the IR's own chains and trees (a chain is a loop-carried
 * value, each level of a tree a loop of its own), so the results are
 * bit for bit those of the interpreter. Values read outside their own
 * iteration are kept in a scratch array (on the stack, or from malloc when
 * large); inputs, params, constants and state loads are read again. */
enum {
    RUN_MIN_CODE = 2048,  /* smaller circuits stay straight-line code */
    RUN_MIN_REPS = 32,    /* shorter runs too */
    RUN_MAX_PERIOD = 16,
    SCRATCH_STACK_MAX = 64 * 1024,
};

enum { OPD_LOCAL = 1, OPD_REC, OPD_UNIFORM, OPD_STRIDED };

typedef struct run_opd {
    uint8_t cls;
    uint32_t pos;     /* LOCAL: the position in this iteration; REC: in the previous one */
    uint32_t first;   /* REC: the value before the first iteration; UNIFORM: the value */
    uint32_t src;     /* STRIDED: element k0 + s*k of position src_pos of run src */
    uint32_t src_pos;
    int64_t k0, s;
} run_opd;

typedef struct run_pos {
    int64_t dvar, doff; /* var index (leaves) or slot (effects) step, and its byte step */
    int table;          /* a CONST that changes: read from a constant table */
    int need;           /* read outside its own iteration */
    int in_scratch;     /* ... and kept in the scratch array */
    uint32_t last_use;
    uint32_t scratch_off;
    LLVMValueRef table_g;
    run_opd opd[3];
} run_pos;

typedef struct run {
    uint32_t start, P, L;
    run_pos *pos;
} run;

typedef struct stepgen {
    const emitter *e;
    const ir_circuit *c;
    LLVMValueRef fn, state, in, out, scratch;
    LLVMValueRef *vals; /* straight-line values; NULL for values inside runs */
    run *runs;
    uint32_t n_runs;
    uint32_t *run_of; /* 1 + run index, 0 outside runs */
} stepgen;

static int has_var(ir_op op)
{
    return op == IR_INPUT || op == IR_PARAM || op == IR_LOAD || op == IR_OUTPUT ||
           op == IR_STORE || op == IR_STORE_IF || op == IR_LOADX || op == IR_STOREX ||
           op == IR_STOREX_IF;
}

static uint32_t var_index(const ir_inst *in)
{
    return in->op == IR_INPUT || in->op == IR_PARAM || in->op == IR_LOAD ? in->a : in->slot;
}

static const ir_var *var_table(const ir_circuit *c, ir_op op, uint32_t *n)
{
    switch (op) {
    case IR_INPUT: *n = c->n_inputs; return c->inputs;
    case IR_PARAM: *n = c->n_params; return c->params;
    case IR_OUTPUT: *n = c->n_outputs; return c->outputs;
    default: *n = c->n_state; return c->state;
    }
}

/* The value operands of an instruction, in field order a, b, c. */
static int operands_of(const ir_inst *in, uint32_t ops[3])
{
    int n = ir_n_operands(in->op);
    ops[0] = in->a;
    ops[1] = in->b;
    ops[2] = in->c;
    return n;
}

/* How long a run of period P starting at i is (0: none), filling pos[0..P).
 * Group 0 and group 1 fix each operand's class; every later group must
 * follow it. */
static uint32_t match_run(const stepgen *g, uint32_t i, uint32_t P, run_pos *pos)
{
    const ir_circuit *c = g->c;
    const ir_inst *code = c->code;
    if ((uint64_t)i + 2 * (uint64_t)P > c->n_code)
        return 0;
    memset(pos, 0, P * sizeof *pos);
    for (uint32_t j = 0; j < P; j++) {
        const ir_inst *t = &code[i + j], *u = &code[i + P + j];
        if (t->op == IR_NOP || t->op == IR_RETURN || t->op != u->op || t->type != u->type)
            return 0;
        if (t->op == IR_CONST && memcmp(&t->imm, &u->imm, sizeof t->imm) != 0) {
            if (t->type != IR_F64)
                return 0;
            pos[j].table = 1;
        }
        if ((t->op == IR_LOADX || t->op == IR_STOREX || t->op == IR_STOREX_IF) &&
            t->imm != u->imm)
            return 0;
        if (has_var(t->op)) {
            uint32_t nv;
            const ir_var *vars = var_table(c, t->op, &nv);
            uint32_t v0 = var_index(t), v1 = var_index(u);
            if (v0 >= nv || v1 >= nv)
                return 0;
            pos[j].dvar = (int64_t)v1 - (int64_t)v0;
            pos[j].doff = (int64_t)vars[v1].offset - (int64_t)vars[v0].offset;
        }
        uint32_t o0[3], o1[3];
        int n = operands_of(t, o0);
        operands_of(u, o1);
        for (int k = 0; k < n; k++) {
            run_opd *d = &pos[j].opd[k];
            if (o0[k] >= i + j || o1[k] >= i + P + j)
                return 0;
            if (o0[k] >= i) {
                if (o1[k] - (i + P) != o0[k] - i)
                    return 0;
                d->cls = OPD_LOCAL;
                d->pos = o0[k] - i;
            } else if (o1[k] >= i && o1[k] < i + P) {
                d->cls = OPD_REC;
                d->pos = o1[k] - i;
                d->first = o0[k];
            } else if (o1[k] < i) {
                int64_t delta = (int64_t)o1[k] - (int64_t)o0[k];
                if (delta == 0) {
                    d->cls = OPD_UNIFORM;
                    d->first = o0[k];
                } else {
                    uint32_t r = g->run_of[o0[k]];
                    if (!r)
                        return 0;
                    const run *src = &g->runs[r - 1];
                    uint32_t rel = o0[k] - src->start;
                    if (delta % (int64_t)src->P != 0)
                        return 0;
                    d->cls = OPD_STRIDED;
                    d->src = r - 1;
                    d->src_pos = rel % src->P;
                    d->k0 = rel / src->P;
                    d->s = delta / (int64_t)src->P;
                    d->first = o0[k];
                }
            } else {
                return 0;
            }
        }
    }
    /* Extend group by group. */
    uint32_t L = 1;
    for (;; L++) {
        uint64_t gk = (uint64_t)i + (uint64_t)L * P;
        if (gk + P > c->n_code)
            break;
        int ok = 1;
        for (uint32_t j = 0; ok && j < P; j++) {
            const ir_inst *t = &code[i + j], *u = &code[gk + j];
            if (t->op != u->op || t->type != u->type) {
                ok = 0;
                break;
            }
            if (t->op == IR_CONST && !pos[j].table && memcmp(&t->imm, &u->imm, sizeof t->imm))
                ok = 0;
            if ((t->op == IR_LOADX || t->op == IR_STOREX || t->op == IR_STOREX_IF) &&
                t->imm != u->imm)
                ok = 0;
            if (ok && has_var(t->op)) {
                uint32_t nv;
                const ir_var *vars = var_table(c, t->op, &nv);
                int64_t v = (int64_t)var_index(t) + (int64_t)L * pos[j].dvar;
                ok = v >= 0 && v < nv && var_index(u) == (uint32_t)v &&
                     (int64_t)vars[v].offset ==
                         (int64_t)vars[var_index(t)].offset + (int64_t)L * pos[j].doff;
            }
            uint32_t ou[3];
            int n = operands_of(u, ou);
            for (int k = 0; ok && k < n; k++) {
                const run_opd *d = &pos[j].opd[k];
                switch (d->cls) {
                case OPD_LOCAL: ok = ou[k] == gk + d->pos; break;
                case OPD_REC: ok = ou[k] == gk - P + d->pos; break;
                case OPD_UNIFORM: ok = ou[k] == d->first; break;
                case OPD_STRIDED: {
                    const run *src = &g->runs[d->src];
                    int64_t el = d->k0 + (int64_t)L * d->s;
                    ok = el >= 0 && el < src->L &&
                         ou[k] == src->start + (uint64_t)el * src->P + d->src_pos;
                    break;
                }
                default: ok = 0;
                }
            }
        }
        if (!ok)
            break;
    }
    return L;
}

/* Finds the runs (left to right, the period covering most at each start),
 * then which of their values are read outside their own iteration. */
static int find_runs(stepgen *g)
{
    const ir_circuit *c = g->c;
    g->run_of = calloc(c->n_code + 1, sizeof *g->run_of);
    run_pos *tmp = malloc(RUN_MAX_PERIOD * sizeof *tmp);
    if (!g->run_of || !tmp) {
        free(tmp);
        return -1;
    }
    uint32_t cap = 0;
    for (uint32_t i = 0; i < c->n_code;) {
        uint32_t best_p = 0, best_l = 0;
        for (uint32_t P = 1; P <= RUN_MAX_PERIOD; P++) {
            uint32_t L = match_run(g, i, P, tmp);
            if (L >= RUN_MIN_REPS && (uint64_t)L * P > (uint64_t)best_l * best_p) {
                best_p = P;
                best_l = L;
            }
        }
        if (!best_p) {
            i++;
            continue;
        }
        if (g->n_runs == cap) {
            cap = cap ? 2 * cap : 16;
            run *nr = realloc(g->runs, cap * sizeof *nr);
            if (!nr) {
                free(tmp);
                return -1;
            }
            g->runs = nr;
        }
        run *r = &g->runs[g->n_runs];
        r->pos = malloc(best_p * sizeof *r->pos);
        if (!r->pos) {
            free(tmp);
            return -1;
        }
        match_run(g, i, best_p, r->pos);
        r->start = i;
        r->P = best_p;
        r->L = best_l;
        g->n_runs++;
        for (uint32_t k = i; k < i + best_p * best_l; k++)
            g->run_of[k] = g->n_runs;
        i += best_p * best_l;
    }
    free(tmp);
    /* Reads from outside the iteration that made the value. */
    uint32_t first_store = c->n_code;
    for (uint32_t u = 0; u < c->n_code; u++) {
        ir_op op = c->code[u].op;
        if (first_store == c->n_code && (op == IR_STORE || op == IR_STORE_IF ||
                                         op == IR_STOREX || op == IR_STOREX_IF))
            first_store = u;
        uint32_t ops[3];
        int n = operands_of(&c->code[u], ops);
        for (int k = 0; k < n; k++) {
            uint32_t r = g->run_of[ops[k]];
            if (!r)
                continue;
            run *src = &g->runs[r - 1];
            if (g->run_of[u] == r) {
                uint8_t cls = src->pos[(u - src->start) % src->P].opd[k].cls;
                if (cls == OPD_LOCAL || cls == OPD_REC)
                    continue;
            }
            run_pos *p = &src->pos[(ops[k] - src->start) % src->P];
            p->need = 1;
            if (u > p->last_use)
                p->last_use = u;
        }
    }
    uint64_t off = 0;
    for (uint32_t r = 0; r < g->n_runs; r++)
        for (uint32_t j = 0; j < g->runs[r].P; j++) {
            run_pos *p = &g->runs[r].pos[j];
            ir_op op = c->code[g->runs[r].start + j].op;
            int reread = op == IR_CONST || op == IR_INPUT || op == IR_PARAM ||
                         (op == IR_LOAD && p->last_use < first_store);
            if (!p->need || reread || !ir_has_result(op))
                continue;
            p->in_scratch = 1;
            p->scratch_off = (uint32_t)off;
            off += (uint64_t)g->runs[r].L * (c->code[g->runs[r].start + j].type == IR_F64 ? 8 : 1);
            off = (off + 7) & ~(uint64_t)7;
            if (off > UINT32_MAX)
                return -1;
        }
    return (int)(off > 0x7fffffff ? -1 : (int32_t)off);
}

static LLVMValueRef i64c(const emitter *e, int64_t v)
{
    return LLVMConstInt(e->i64, (unsigned long long)v, 1);
}

/* base + off bytes, off an i64 value. */
static LLVMValueRef addr_dyn(const emitter *e, LLVMValueRef base, LLVMValueRef off)
{
    return LLVMBuildInBoundsGEP2(e->b, e->i8, base, &off, 1, "");
}

static void store_typed(const emitter *e, LLVMValueRef p, ir_type t, LLVMValueRef v)
{
    if (t == IR_BOOL)
        v = LLVMBuildZExt(e->b, v, e->i8, "");
    LLVMValueRef s = LLVMBuildStore(e->b, v, p);
    LLVMSetAlignment(s, t == IR_F64 ? 8 : 1);
}

/* The address of entry i (an f64 value) of a ring of len slots whose first
 * slot is at byte base_off of state: the interpreter's clamping rule, so an
 * index out of range can never leave the block. */
static LLVMValueRef ring_addr(const emitter *e, LLVMValueRef state, LLVMValueRef base_off,
                              uint32_t len, LLVMValueRef i)
{
    LLVMValueRef in_range = LLVMBuildAnd(
        e->b, LLVMBuildFCmp(e->b, LLVMRealOGE, i, const_f64(e, 0), ""),
        LLVMBuildFCmp(e->b, LLVMRealOLT, i, const_f64(e, (double)len), ""), "");
    /* The index chosen before its conversion, so that the conversion is
     * always of a small whole number: signed, one instruction on x86-64
     * (an unsigned one is a compare and two conversions). */
    LLVMValueRef k = LLVMBuildFPToSI(
        e->b, LLVMBuildSelect(e->b, in_range, i, const_f64(e, 0), ""), e->i64, "");
    LLVMValueRef off = LLVMBuildAdd(e->b, base_off,
                                    LLVMBuildMul(e->b, k, LLVMConstInt(e->i64, 8, 0), ""), "");
    return addr_dyn(e, state, off);
}

/* Element idx (an i64 value) of position j of run r. */
static LLVMValueRef run_element(stepgen *g, uint32_t r, uint32_t j, LLVMValueRef idx)
{
    const emitter *e = g->e;
    const run *R = &g->runs[r];
    const run_pos *p = &R->pos[j];
    const ir_inst *t = &g->c->code[R->start + j];
    if (t->op == IR_CONST && !p->table)
        return t->type == IR_F64 ? const_f64(e, t->imm) : LLVMConstInt(e->i1, t->imm != 0, 0);
    if (t->op == IR_CONST) {
        LLVMTypeRef at = LLVMArrayType(e->f64, R->L);
        LLVMValueRef ix[2] = { LLVMConstInt(e->i64, 0, 0), idx };
        LLVMValueRef x = LLVMBuildLoad2(e->b, e->f64,
                                        LLVMBuildInBoundsGEP2(e->b, at, p->table_g, ix, 2, ""), "");
        LLVMSetAlignment(x, 8);
        return x;
    }
    if (p->in_scratch) {
        LLVMValueRef off = LLVMBuildAdd(
            e->b, i64c(e, p->scratch_off),
            LLVMBuildMul(e->b, idx, i64c(e, t->type == IR_F64 ? 8 : 1), ""), "");
        return load_typed(e, addr_dyn(e, g->scratch, off), t->type, "");
    }
    if (t->op == IR_INPUT || t->op == IR_PARAM || t->op == IR_LOAD) {
        uint32_t nv;
        const ir_var *vars = var_table(g->c, t->op, &nv);
        LLVMValueRef off = LLVMBuildAdd(e->b, i64c(e, vars[t->a].offset),
                                        LLVMBuildMul(e->b, idx, i64c(e, p->doff), ""), "");
        return load_typed(e, addr_dyn(e, t->op == IR_INPUT ? g->in : g->state, off), t->type, "");
    }
    return NULL; /* never read outside its iteration: a bug in find_runs */
}

/* Value k as seen by straight-line code. */
static LLVMValueRef value_of(stepgen *g, uint32_t k)
{
    uint32_t r = g->run_of[k];
    if (!r)
        return g->vals[k];
    const run *R = &g->runs[r - 1];
    uint32_t rel = k - R->start;
    return run_element(g, r - 1, rel % R->P, LLVMConstInt(g->e->i64, rel / R->P, 0));
}

/* Operand k of instruction i must be an earlier value of LLVM type want
 * (want NULL: any type). */
static LLVMValueRef operand(stepgen *g, uint32_t i, uint32_t k, LLVMTypeRef want)
{
    if (k >= i)
        return NULL;
    LLVMValueRef v = value_of(g, k);
    if (!v || (want && LLVMTypeOf(v) != want))
        return NULL;
    return v;
}

/* The value of a pure instruction (no memory, no effect) from its operand
 * values; NULL when malformed. */
static LLVMValueRef emit_pure(const emitter *e, const ir_inst *ins, LLVMValueRef a,
                              LLVMValueRef b, LLVMValueRef cv)
{
    const char *name = ins->name ? ins->name : "";
    LLVMTypeRef rt = reg_type(e, ins->type);
    switch (ins->op) {
    case IR_CONST:
        return ins->type == IR_F64 ? const_f64(e, ins->imm) : LLVMConstInt(e->i1, ins->imm != 0, 0);
    case IR_NEG:
        if (a && LLVMTypeOf(a) == e->f64 && rt == e->f64)
            return LLVMBuildFNeg(e->b, a, name);
        return NULL;
    case IR_ADD: case IR_SUB: case IR_MUL: case IR_DIV:
        if (!a || !b || LLVMTypeOf(a) != e->f64 || LLVMTypeOf(b) != e->f64 || rt != e->f64)
            return NULL;
        switch (ins->op) {
        case IR_ADD: return LLVMBuildFAdd(e->b, a, b, name);
        case IR_SUB: return LLVMBuildFSub(e->b, a, b, name);
        case IR_MUL: return LLVMBuildFMul(e->b, a, b, name);
        default: return LLVMBuildFDiv(e->b, a, b, name);
        }
    case IR_EXP: case IR_LOG: case IR_TANH: case IR_SIN: case IR_COS: case IR_SQRT:
    case IR_ABS: case IR_FLOOR: case IR_EXPM1:
        if (a && LLVMTypeOf(a) == e->f64 && rt == e->f64)
            return emit_math(e, ins->op, a, name);
        return NULL;
    case IR_LT: case IR_LE: case IR_GT: case IR_GE: case IR_EQ: case IR_NE:
        if (!a || !b || LLVMTypeOf(a) != LLVMTypeOf(b) || rt != e->i1)
            return NULL;
        if (LLVMTypeOf(a) == e->f64) {
            /* C's operators: ordered, except != which is true on NaN. */
            static const LLVMRealPredicate fp[] = {
                [IR_LT] = LLVMRealOLT, [IR_LE] = LLVMRealOLE, [IR_GT] = LLVMRealOGT,
                [IR_GE] = LLVMRealOGE, [IR_EQ] = LLVMRealOEQ, [IR_NE] = LLVMRealUNE,
            };
            return LLVMBuildFCmp(e->b, fp[ins->op], a, b, name);
        }
        if (ins->op == IR_EQ || ins->op == IR_NE)
            return LLVMBuildICmp(e->b, ins->op == IR_EQ ? LLVMIntEQ : LLVMIntNE, a, b, name);
        return NULL;
    case IR_NOT:
        if (a && LLVMTypeOf(a) == e->i1 && rt == e->i1)
            return LLVMBuildNot(e->b, a, name);
        return NULL;
    case IR_AND: case IR_OR:
        if (!a || !b || LLVMTypeOf(a) != e->i1 || LLVMTypeOf(b) != e->i1 || rt != e->i1)
            return NULL;
        return ins->op == IR_AND ? LLVMBuildAnd(e->b, a, b, name) : LLVMBuildOr(e->b, a, b, name);
    case IR_SELECT:
        if (!a || !b || !cv || LLVMTypeOf(a) != e->i1 || LLVMTypeOf(b) != rt ||
            LLVMTypeOf(cv) != rt)
            return NULL;
    {
        /* Unpredictable: otherwise LLVM turns a select with a loaded operand
         * into a branch, which mispredicts on a data-dependent condition
         * (hold's `take`: 0.84x the C baseline with a branch). */
        LLVMValueRef v = LLVMBuildSelect(e->b, a, b, cv, name);
        if (LLVMIsAInstruction(v)) /* not a constant folded by the builder */
            LLVMSetMetadata(v, LLVMGetMDKindIDInContext(e->ctx, "unpredictable", 13),
                            LLVMMetadataAsValue(e->ctx, LLVMMDNodeInContext2(e->ctx, NULL, 0)));
        return v;
    }
    default:
        return NULL;
    }
}

/* A conditional block around an effect: branch on cond into a new block,
 * returning the block to continue in afterwards. */
static LLVMBasicBlockRef begin_if(stepgen *g, LLVMValueRef cond, const char *then_name,
                                  const char *after_name)
{
    const emitter *e = g->e;
    LLVMBasicBlockRef then = LLVMAppendBasicBlockInContext(e->ctx, g->fn, then_name);
    LLVMBasicBlockRef after = LLVMAppendBasicBlockInContext(e->ctx, g->fn, after_name);
    LLVMBuildCondBr(e->b, cond, then, after);
    LLVMPositionBuilderAtEnd(e->b, then);
    return after;
}

/* Run r as a loop. Returns 0, or -1 on a malformed instruction. */
static int emit_run(stepgen *g, uint32_t r)
{
    const emitter *e = g->e;
    const ir_circuit *c = g->c;
    const run *R = &g->runs[r];
    uint32_t P = R->P;
    LLVMValueRef hoisted[RUN_MAX_PERIOD][3], iter[RUN_MAX_PERIOD];
    LLVMValueRef phis[RUN_MAX_PERIOD][3];
    memset(phis, 0, sizeof phis);
    /* Operands that do not change, and the first values of recurrences,
     * come from before the loop. */
    for (uint32_t j = 0; j < P; j++) {
        const ir_inst *t = &c->code[R->start + j];
        uint32_t ops[3];
        int n = operands_of(t, ops);
        for (int k = 0; k < n; k++) {
            const run_opd *d = &R->pos[j].opd[k];
            hoisted[j][k] = NULL;
            if (d->cls == OPD_UNIFORM || d->cls == OPD_REC) {
                if (!(hoisted[j][k] = value_of(g, d->first)))
                    return -1;
            }
        }
        if (t->op == IR_CONST && R->pos[j].table) {
            LLVMValueRef *ks = malloc(R->L * sizeof *ks);
            if (!ks)
                return -1;
            for (uint32_t k = 0; k < R->L; k++)
                ks[k] = const_f64(e, c->code[R->start + k * P + j].imm);
            LLVMTypeRef at = LLVMArrayType(e->f64, R->L);
            LLVMValueRef gv = LLVMAddGlobal(e->m, at, "table");
            LLVMSetInitializer(gv, LLVMConstArray(e->f64, ks, R->L));
            LLVMSetGlobalConstant(gv, 1);
            LLVMSetLinkage(gv, LLVMPrivateLinkage);
            LLVMSetUnnamedAddress(gv, LLVMGlobalUnnamedAddr);
            LLVMSetAlignment(gv, 8);
            free(ks);
            R->pos[j].table_g = gv;
        }
    }
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(e->b);
    LLVMBasicBlockRef loop = LLVMAppendBasicBlockInContext(e->ctx, g->fn, "loop");
    LLVMBuildBr(e->b, loop);
    LLVMPositionBuilderAtEnd(e->b, loop);
    LLVMValueRef k = LLVMBuildPhi(e->b, e->i64, "k");
    for (uint32_t j = 0; j < P; j++) {
        const ir_inst *t = &c->code[R->start + j];
        uint32_t ops[3];
        int n = operands_of(t, ops);
        for (int q = 0; q < n; q++)
            if (R->pos[j].opd[q].cls == OPD_REC)
                phis[j][q] = LLVMBuildPhi(e->b, LLVMTypeOf(hoisted[j][q]), "");
    }
    for (uint32_t j = 0; j < P; j++) {
        const ir_inst *t = &c->code[R->start + j];
        const run_pos *p = &R->pos[j];
        LLVMValueRef v[3] = { NULL, NULL, NULL };
        uint32_t ops[3];
        int n = operands_of(t, ops);
        for (int q = 0; q < n; q++) {
            const run_opd *d = &p->opd[q];
            switch (d->cls) {
            case OPD_LOCAL: v[q] = iter[d->pos]; break;
            case OPD_REC: v[q] = phis[j][q]; break;
            case OPD_UNIFORM: v[q] = hoisted[j][q]; break;
            case OPD_STRIDED:
                v[q] = run_element(g, d->src, d->src_pos,
                                   LLVMBuildAdd(e->b, i64c(e, d->k0),
                                                LLVMBuildMul(e->b, k, i64c(e, d->s), ""), ""));
                break;
            }
            if (!v[q])
                return -1;
        }
        LLVMValueRef x = NULL;
        LLVMValueRef off = NULL;
        if (has_var(t->op)) {
            uint32_t nv;
            const ir_var *vars = var_table(c, t->op, &nv);
            off = LLVMBuildAdd(e->b, i64c(e, vars[var_index(t)].offset),
                               LLVMBuildMul(e->b, k, i64c(e, p->doff), ""), "");
        }
        iter[j] = NULL;
        switch (t->op) {
        case IR_CONST:
            x = run_element(g, r, j, k);
            break;
        case IR_INPUT:
            x = load_typed(e, addr_dyn(e, g->in, off), t->type, "");
            break;
        case IR_PARAM: case IR_LOAD:
            x = load_typed(e, addr_dyn(e, g->state, off), t->type, "");
            break;
        case IR_LOADX:
            if (!v[0] || LLVMTypeOf(v[0]) != e->f64)
                return -1;
            x = LLVMBuildLoad2(e->b, e->f64, ring_addr(e, g->state, off, ir_range_len(t), v[0]), "");
            LLVMSetAlignment(x, 8);
            break;
        case IR_OUTPUT: case IR_STORE: case IR_STORE_IF: {
            const ir_var *vars = t->op == IR_OUTPUT ? c->outputs : c->state;
            ir_type vt = vars[t->slot].type;
            if (LLVMTypeOf(v[0]) != reg_type(e, vt) ||
                (t->op == IR_STORE_IF && LLVMTypeOf(v[1]) != e->i1))
                return -1;
            LLVMBasicBlockRef after = t->op == IR_STORE_IF ? begin_if(g, v[1], "commit", "committed")
                                                           : NULL;
            store_typed(e, addr_dyn(e, t->op == IR_OUTPUT ? g->out : g->state, off), vt, v[0]);
            if (after) {
                LLVMBuildBr(e->b, after);
                LLVMPositionBuilderAtEnd(e->b, after);
            }
            continue;
        }
        case IR_STOREX: case IR_STOREX_IF: {
            if (LLVMTypeOf(v[0]) != e->f64 || LLVMTypeOf(v[1]) != e->f64 ||
                (t->op == IR_STOREX_IF && LLVMTypeOf(v[2]) != e->i1))
                return -1;
            LLVMBasicBlockRef after = t->op == IR_STOREX_IF ? begin_if(g, v[2], "commit", "committed")
                                                            : NULL;
            LLVMValueRef s = LLVMBuildStore(e->b, v[0],
                                            ring_addr(e, g->state, off, ir_range_len(t), v[1]));
            LLVMSetAlignment(s, 8);
            if (after) {
                LLVMBuildBr(e->b, after);
                LLVMPositionBuilderAtEnd(e->b, after);
            }
            continue;
        }
        default:
            x = emit_pure(e, t, v[0], v[1], v[2]);
            break;
        }
        if (!x)
            return -1;
        iter[j] = x;
        if (p->in_scratch) {
            LLVMValueRef so = LLVMBuildAdd(
                e->b, i64c(e, p->scratch_off),
                LLVMBuildMul(e->b, k, i64c(e, t->type == IR_F64 ? 8 : 1), ""), "");
            store_typed(e, addr_dyn(e, g->scratch, so), t->type, x);
        }
    }
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(e->b);
    LLVMValueRef k1 = LLVMBuildAdd(e->b, k, LLVMConstInt(e->i64, 1, 0), "k1");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(e->ctx, g->fn, "looped");
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntEQ, k1, LLVMConstInt(e->i64, R->L, 0), ""),
                    done, loop);
    LLVMAddIncoming(k, (LLVMValueRef[]){ LLVMConstInt(e->i64, 0, 0), k1 },
                    (LLVMBasicBlockRef[]){ pre, latch }, 2);
    for (uint32_t j = 0; j < P; j++)
        for (int q = 0; q < 3; q++)
            if (phis[j][q]) {
                LLVMValueRef next = iter[R->pos[j].opd[q].pos];
                if (!next || LLVMTypeOf(next) != LLVMTypeOf(phis[j][q]))
                    return -1;
                LLVMAddIncoming(phis[j][q], (LLVMValueRef[]){ hoisted[j][q], next },
                                (LLVMBasicBlockRef[]){ pre, latch }, 2);
            }
    LLVMPositionBuilderAtEnd(e->b, done);
    return 0;
}

static int loops_wanted(const ir_circuit *c)
{
    /* DRIVE_CG_LOOPS=always|never overrides the size rule (for tests). */
    const char *env = getenv("DRIVE_CG_LOOPS");
    if (env && !strcmp(env, "always"))
        return 1;
    if (env && !strcmp(env, "never"))
        return 0;
    return c->n_code >= RUN_MIN_CODE;
}

/* Translates c->code into the body of step; returns 0, or -1 on a malformed
 * instruction (the caller then drops the whole module). */
static int emit_step(const emitter *e, LLVMValueRef fn, const ir_circuit *c)
{
    stepgen gs = {
        .e = e, .c = c, .fn = fn,
        .state = LLVMGetParam(fn, 0), .in = LLVMGetParam(fn, 1), .out = LLVMGetParam(fn, 2),
    };
    stepgen *g = &gs;
    g->vals = calloc(c->n_code ? c->n_code : 1, sizeof *g->vals);
    int scratch = 0;
    if (g->vals && loops_wanted(c))
        scratch = find_runs(g);
    else if (g->vals)
        g->run_of = calloc(c->n_code + 1, sizeof *g->run_of);
    int ok = g->vals && g->run_of && scratch >= 0;
    LLVMValueRef heap = NULL;
    if (ok && scratch > 0) {
        if (scratch <= SCRATCH_STACK_MAX) {
            g->scratch = LLVMBuildArrayAlloca(e->b, e->i8, LLVMConstInt(e->i32, (unsigned)scratch, 0),
                                              "scratch");
            LLVMSetAlignment(g->scratch, 16);
        } else {
            /* Too large for a thread's stack: from the heap, once per step;
             * when there is none, the step reports its tick as not taken
             * and changes nothing. */
            LLVMTypeRef i64t = e->i64;
            LLVMTypeRef mty = LLVMFunctionType(e->ptr, &i64t, 1, 0);
            LLVMValueRef mf = LLVMGetNamedFunction(e->m, "malloc");
            if (!mf)
                mf = LLVMAddFunction(e->m, "malloc", mty);
            heap = LLVMBuildCall2(e->b, mty, mf,
                                  (LLVMValueRef[]){ LLVMConstInt(e->i64, (unsigned)scratch, 0) }, 1,
                                  "scratch");
            g->scratch = heap;
            LLVMBasicBlockRef fail = LLVMAppendBasicBlockInContext(e->ctx, fn, "no_scratch");
            LLVMBasicBlockRef go = LLVMAppendBasicBlockInContext(e->ctx, fn, "body");
            LLVMBuildCondBr(e->b, LLVMBuildIsNull(e->b, heap, ""), fail, go);
            LLVMPositionBuilderAtEnd(e->b, fail);
            LLVMBuildRet(e->b, LLVMConstInt(e->i32, 1, 0));
            LLVMPositionBuilderAtEnd(e->b, go);
        }
    }
    LLVMValueRef status = NULL; /* the return's operand */
    /* A run of store_ifs with one guard becomes one conditional block, so a
     * tick's commit costs one branch, not a select per slot. */
    LLVMValueRef guard = NULL;
    LLVMBasicBlockRef after = NULL, guard_from = NULL;
    /* The last commit block closed: its guard, the block that branched on
     * it, the end of the commit path, and the join. */
    LLVMValueRef last_guard = NULL;
    LLVMBasicBlockRef last_from = NULL, last_then = NULL, last_after = NULL;
    for (uint32_t i = 0; ok && i < c->n_code; i++) {
        const ir_inst *ins = &c->code[i];
        uint32_t r = g->run_of[i];
        /* The guard of a conditional store, when it is a straight-line value
         * (one read from a run is loaded anew, inside no commit block). */
        LLVMValueRef want_guard = NULL;
        uint32_t gop = ins->op == IR_STORE_IF ? ins->b : ins->c;
        if (!r && (ins->op == IR_STORE_IF || ins->op == IR_STOREX_IF) && gop < i &&
            !g->run_of[gop])
            want_guard = operand(g, i, gop, e->i1);
        if (guard && (!want_guard || want_guard != guard)) {
            last_guard = guard;
            last_from = guard_from;
            last_then = LLVMGetInsertBlock(e->b);
            last_after = after;
            LLVMBuildBr(e->b, after);
            LLVMPositionBuilderAtEnd(e->b, after);
            guard = NULL;
        }
        if (r) {
            const run *R = &g->runs[r - 1];
            ok = emit_run(g, r - 1) == 0;
            i = R->start + R->P * R->L - 1;
            continue;
        }
        LLVMValueRef a = NULL, b = NULL, v = NULL;
        switch (ins->op) {
        case IR_INPUT:
            if (ins->a < c->n_inputs && c->inputs[ins->a].type == ins->type)
                v = load_var(e, g->in, &c->inputs[ins->a]);
            break;
        case IR_PARAM:
            if (ins->a < c->n_params && c->params[ins->a].type == ins->type)
                v = load_var(e, g->state, &c->params[ins->a]);
            break;
        case IR_LOAD:
            if (ins->a < c->n_state && c->state[ins->a].type == ins->type)
                v = load_var(e, g->state, &c->state[ins->a]);
            break;
        case IR_OUTPUT:
            if (ins->slot >= c->n_outputs ||
                !(a = operand(g, i, ins->a, reg_type(e, c->outputs[ins->slot].type)))) {
                ok = 0;
                break;
            }
            store_val(e, g->out, c->outputs[ins->slot].offset, c->outputs[ins->slot].type, a);
            continue;
        case IR_STORE:
            /* Lowering puts a slot's stores after all its loads, so emitting
             * in order keeps "load = previous tick" semantics. */
            if (ins->slot >= c->n_state ||
                !(a = operand(g, i, ins->a, reg_type(e, c->state[ins->slot].type)))) {
                ok = 0;
                break;
            }
            store_val(e, g->state, c->state[ins->slot].offset, c->state[ins->slot].type, a);
            continue;
        case IR_LOADX:
            if (ins->slot >= c->n_state || !(a = operand(g, i, ins->a, e->f64))) {
                ok = 0;
                break;
            }
            v = LLVMBuildLoad2(e->b, e->f64,
                               ring_addr(e, g->state, i64c(e, c->state[ins->slot].offset),
                                         ir_range_len(ins), a),
                               ins->name ? ins->name : "");
            LLVMSetAlignment(v, 8);
            break;
        case IR_STOREX:
        case IR_STOREX_IF: {
            LLVMValueRef gd = NULL;
            if (ins->slot >= c->n_state || !(a = operand(g, i, ins->a, e->f64)) ||
                !(b = operand(g, i, ins->b, e->f64)) ||
                (ins->op == IR_STOREX_IF &&
                 !(gd = want_guard ? want_guard : operand(g, i, gop, e->i1)))) {
                ok = 0;
                break;
            }
            if (gd && !guard) {
                guard_from = LLVMGetInsertBlock(e->b);
                after = begin_if(g, gd, "commit", "committed");
                guard = gd;
            }
            LLVMValueRef s = LLVMBuildStore(
                e->b, a,
                ring_addr(e, g->state, i64c(e, c->state[ins->slot].offset), ir_range_len(ins), b));
            LLVMSetAlignment(s, 8);
            continue;
        }
        case IR_STORE_IF:
            if (ins->slot >= c->n_state ||
                !(a = operand(g, i, ins->a, reg_type(e, c->state[ins->slot].type))) ||
                !(b = want_guard ? want_guard : operand(g, i, gop, e->i1))) {
                ok = 0;
                break;
            }
            if (!guard) {
                guard_from = LLVMGetInsertBlock(e->b);
                after = begin_if(g, b, "commit", "committed");
                guard = b;
            }
            store_val(e, g->state, c->state[ins->slot].offset, c->state[ins->slot].type, a);
            continue;
        case IR_RETURN:
            if (status || !(status = operand(g, i, ins->a, e->i1)))
                ok = 0;
            continue;
        case IR_NOP:
            continue;
        default: {
            int n = ir_n_operands(ins->op);
            LLVMValueRef cv = NULL;
            if (n > 0 && !(a = operand(g, i, ins->a, NULL)))
                break;
            if (n > 1 && !(b = operand(g, i, ins->b, NULL)))
                break;
            if (n > 2 && !(cv = operand(g, i, ins->c, NULL)))
                break;
            v = emit_pure(e, ins, a, b, cv);
            break;
        }
        }
        if (!v)
            ok = 0;
        g->vals[i] = v;
    }
    free(g->vals);
    free(g->run_of);
    for (uint32_t r = 0; r < g->n_runs; r++)
        free(g->runs[r].pos);
    free(g->runs);
    if (!ok)
        return -1;
    if (guard) {
        last_guard = guard;
        last_from = guard_from;
        last_then = LLVMGetInsertBlock(e->b);
        last_after = after;
        LLVMBuildBr(e->b, after);
        LLVMPositionBuilderAtEnd(e->b, after);
    }
    /* The usual status is "the inputs were invalid", not(the commit's
     * guard), computed after the commit: known on each path into the join,
     * so a phi of constants, which LLVM does not find by itself (it computed
     * the comparison again, a few instructions on every step). */
    if (!heap && status && last_after && LLVMGetInsertBlock(e->b) == last_after &&
        LLVMIsAInstruction(status) && LLVMGetInstructionOpcode(status) == LLVMXor &&
        LLVMGetInstructionParent(status) == last_after &&
        LLVMGetOperand(status, 0) == last_guard && LLVMIsAConstantInt(LLVMGetOperand(status, 1)) &&
        LLVMConstIntGetZExtValue(LLVMGetOperand(status, 1)) == 1) {
        LLVMValueRef phi = LLVMBuildPhi(e->b, e->i32, "status");
        LLVMAddIncoming(phi,
                        (LLVMValueRef[]){ LLVMConstInt(e->i32, 0, 0), LLVMConstInt(e->i32, 1, 0) },
                        (LLVMBasicBlockRef[]){ last_then, last_from }, 2);
        /* the phi must come first in its block */
        LLVMInstructionRemoveFromParent(phi);
        LLVMPositionBuilderBefore(e->b, LLVMGetFirstInstruction(last_after));
        LLVMInsertIntoBuilder(e->b, phi);
        LLVMPositionBuilderAtEnd(e->b, last_after);
        LLVMBuildRet(e->b, phi);
        return 0;
    }
    if (heap) {
        LLVMTypeRef fty = LLVMFunctionType(e->voidt, (LLVMTypeRef[]){ e->ptr }, 1, 0);
        LLVMValueRef ff = LLVMGetNamedFunction(e->m, "free");
        if (!ff)
            ff = LLVMAddFunction(e->m, "free", fty);
        LLVMBuildCall2(e->b, fty, ff, &heap, 1, "");
    }
    LLVMBuildRet(e->b, status ? LLVMBuildZExt(e->b, status, e->i32, "status")
                              : LLVMConstInt(e->i32, 0, 0));
    return 0;
}

static int emit_step_n(const emitter *e, const char *name, LLVMValueRef step,
                       const ir_circuit *c, int lanes, const cg_lazy *lazy);

LLVMModuleRef cg_emit(LLVMContextRef ctx, const ir_circuit *c, const char *prefix,
                      const cg_target *t)
{
    return cg_emit_ex(ctx, c, prefix, t, CG_LANES);
}

/* <prefix>_init: runs once per instance, so not worth the optimiser's and
 * the full code generator's time (a fifth of a program's compile). */
static int add_init(const emitter *e, const char *prefix, const ir_circuit *c)
{
    static const char *const names[] = { "state" };
    static const char *const access[] = { "writeonly" };
    LLVMValueRef init = add_function(e, prefix, "_init", e->voidt, 1, names, access);
    if (!init)
        return -1;
    add_attr(e, init, LLVMAttributeFunctionIndex, "optnone");
    add_attr(e, init, LLVMAttributeFunctionIndex, "noinline");
    emit_init(e, init, c);
    return 0;
}

/* The JIT's step calls the interpreter's own exp, expm1 and tanh
 * (rt_math.h, in this process) instead of carrying their code: the same
 * bits, and LLVM compiles a call far faster than the 50 to 70 instructions
 * of one inlined (they cost the stdlib's warm compile a fifth more).
 * DRIVE_CG_MATH=inline keeps the code, so that tests can check it. */
static int host_math_wanted(void)
{
    const char *m = getenv("DRIVE_CG_MATH");
    return !(m && !strcmp(m, "inline"));
}

/* What emit_module makes: the three entry points, only the lanes, or one
 * of cg_emit_part's parts. */
enum { MAKE_ALL, MAKE_LANES, MAKE_STEP, MAKE_REST };

static LLVMModuleRef emit_module(LLVMContextRef ctx, const ir_circuit *c, const char *prefix,
                                 const cg_target *t, unsigned flags, const cg_lazy *lazy,
                                 int what)
{
    emitter e = {
        .ctx = ctx,
        .f64 = LLVMDoubleTypeInContext(ctx),
        .i1 = LLVMInt1TypeInContext(ctx),
        .i8 = LLVMInt8TypeInContext(ctx),
        .i32 = LLVMInt32TypeInContext(ctx),
        .i64 = LLVMInt64TypeInContext(ctx),
        .ptr = LLVMPointerTypeInContext(ctx, 0),
        .voidt = LLVMVoidTypeInContext(ctx),
        .host_math = what == MAKE_STEP && host_math_wanted(),
        .lanes = cg_target_lanes(t),
        /* eight lanes that the machine's own features do not give */
        .lanes_attrs = cg_target_lanes(t) == 8 && !t->wide ? t : NULL,
    };
    LLVMModuleRef m = LLVMModuleCreateWithNameInContext(prefix, ctx);
    e.m = m;
    if (t) {
        char *triple = LLVMGetTargetMachineTriple(t->tm);
        LLVMSetTarget(m, triple);
        LLVMDisposeMessage(triple);
        LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(t->tm);
        LLVMSetModuleDataLayout(m, dl);
        LLVMDisposeTargetData(dl);
    }
    e.b = LLVMCreateBuilderInContext(ctx);

    static const char *const step_names[] = { "state", "in", "out" };
    static const char *const step_access[] = { NULL, "readonly", "writeonly" };
    size_t len = strlen(prefix) + 16;
    char *name = malloc(len);
    int ok = 0;
    if (name && what == MAKE_STEP) {
        LLVMValueRef step =
            add_function(&e, prefix, "_step", e.i32, 3, step_names, step_access);
        ok = step && emit_step(&e, step, c) == 0;
    } else if (name && (what == MAKE_LANES || what == MAKE_REST)) {
        /* The step is in another module, linked beside this one. */
        snprintf(name, len, "%s_step", prefix);
        LLVMTypeRef params[3] = { e.ptr, e.ptr, e.ptr };
        LLVMValueRef step = LLVMAddFunction(m, name, LLVMFunctionType(e.i32, params, 3, 0));
        if (what == MAKE_LANES) {
            snprintf(name, len, "%s_lanes_step_n", prefix);
            ok = emit_step_n(&e, name, step, c, 1, NULL) == 0;
        } else {
            snprintf(name, len, "%s_step_n", prefix);
            ok = add_init(&e, prefix, c) == 0 && emit_step_n(&e, name, step, c, 0, lazy) == 0;
        }
    } else if (name && add_init(&e, prefix, c) == 0) {
        LLVMValueRef step =
            add_function(&e, prefix, "_step", e.i32, 3, step_names, step_access);
        snprintf(name, len, "%s_step_n", prefix);
        ok = step && emit_step(&e, step, c) == 0 &&
             emit_step_n(&e, name, step, c, (flags & CG_LANES) != 0, NULL) == 0;
    }
    free(name);
    LLVMDisposeBuilder(e.b);
    if (!ok) {
        LLVMDisposeModule(m);
        return NULL;
    }
    return m;
}

LLVMModuleRef cg_emit_ex(LLVMContextRef ctx, const ir_circuit *c, const char *prefix,
                         const cg_target *t, unsigned flags)
{
    return emit_module(ctx, c, prefix, t, flags, NULL, MAKE_ALL);
}

LLVMModuleRef cg_emit_part(LLVMContextRef ctx, const ir_circuit *c, const char *prefix,
                           const cg_target *t, int part, const cg_lazy *lazy)
{
    return emit_module(ctx, c, prefix, t, 0, lazy, part == CG_PART_STEP ? MAKE_STEP : MAKE_REST);
}

LLVMModuleRef cg_emit_lanes(LLVMContextRef ctx, const ir_circuit *c, const char *prefix,
                            const cg_target *t)
{
    return emit_module(ctx, c, prefix, t, CG_LANES, NULL, MAKE_LANES);
}

/* ---- populations: one step across instances ----------------------------- */

/* step_n runs the step of several instances at once, its lanes (four, or
 * eight for a target with AVX-512: cg_target_lanes): every IR value becomes
 * a vector with one lane per instance, so the arithmetic of the group costs
 * what one instance's did. Each lane performs exactly the scalar step's IEEE
 * operations in the same order (no reassociation across lanes or within
 * one), so the states are bit for bit those of the scalar step. The blocks
 * are in columns (drive_abi.h): the field at offset o, of width w, of
 * instance i is at o*m + w*i (m = drive_abi_columns(n), n itself up to 64
 * instances), so one field of the group's neighbouring instances is
 * one vector load or store. Ring buffers are read and written in one
 * vector access when the lanes' indices agree, else lane by lane; the C
 * library's functions are called lane by lane (a vector libm rounds
 * differently); a tick's commit stores, in each lane whose inputs were
 * invalid, the value that was there. */
enum { MAX_LANES = 8, RING_RUN_MAX = 64 };
enum { BLK_STATE, BLK_IN, BLK_OUT };

typedef struct lanegen {
    const emitter *e; /* scalar types */
    emitter v;        /* the same builder, with f64 and i1 vectors of e->lanes lanes */
    const ir_circuit *c;
    LLVMValueRef fn;
    LLVMValueRef n;        /* the columns' length: drive_abi_columns of the population */
    LLVMValueRef at[3][2]; /* per block, the group's first instance in a column
                              of reals (base + 8i) and of bools (base + i) */
    LLVMValueRef *vals;
    uint64_t *fetched; /* block << 32 | offset of each column prefetched */
    size_t n_fetched;
    long ahead;        /* bytes ahead prefetched in each column, 0 for none */
} lanegen;

/* How far ahead each column of reals is prefetched. Past the caches a
 * group touches a line in each of tens to hundreds of columns, more
 * streams than the hardware prefetchers follow, so without this every
 * column's line was a miss at full latency: at 512 bytes (8 groups of
 * eight) populations of 100,000 went from 1.3x-2.0x to 2.4x-2.8x the loop
 * on feared, empathy and phoebe_autism (256: half that gain, 768 and 1024
 * less; in the caches, 0% to 5% slower). DRIVE_CG_PREFETCH=BYTES sets
 * another distance, 0 none, for measurements. */
enum { PREFETCH_AHEAD = 512 };

static long prefetch_ahead(void)
{
    const char *env = getenv("DRIVE_CG_PREFETCH");
    return env && *env ? atol(env) : PREFETCH_AHEAD;
}

/* Prefetches the line ahead of the group's in the column at (block k,
 * offset), once a group: for writing where the group will store (state,
 * outputs), else for reading; into the second-level cache (locality 2), as
 * a wide circuit's lines ahead outnumber the first level's (feared 2.0x to
 * 2.3x the loop into the first level, 2.4x into the second, three runs
 * each). A prefetch never faults, so the lines past a column's end (the
 * next column's, or past the array) are harmless. */
static void col_prefetch(lanegen *g, int k, LLVMValueRef at, uint32_t offset, int write)
{
    if (g->ahead <= 0 || !g->fetched)
        return;
    uint64_t key = (uint64_t)k << 32 | offset;
    for (size_t j = 0; j < g->n_fetched; j++)
        if (g->fetched[j] == key)
            return;
    g->fetched[g->n_fetched++] = key;
    const emitter *e = g->e;
    LLVMValueRef d = LLVMConstInt(e->i64, (unsigned long long)g->ahead, 0);
    LLVMValueRef p = LLVMBuildGEP2(e->b, e->i8, at, &d, 1, "");
    LLVMTypeRef fty = LLVMFunctionType(e->voidt, (LLVMTypeRef[]){ e->ptr, e->i32, e->i32, e->i32 }, 4, 0);
    LLVMValueRef fn = LLVMGetNamedFunction(e->m, "llvm.prefetch.p0");
    if (!fn)
        fn = LLVMAddFunction(e->m, "llvm.prefetch.p0", fty);
    LLVMValueRef args[4] = { p, LLVMConstInt(e->i32, write, 0), LLVMConstInt(e->i32, 2, 0),
                             LLVMConstInt(e->i32, 1, 0) };
    LLVMBuildCall2(e->b, fty, fn, args, 4, "");
}

/* DRIVE_CG_LANES=never keeps step_n a loop over the step (for tests and
 * measurements). Circuits emitted with loops (long vectors) keep it too:
 * their step is already a loop over elements. */
static int lanes_wanted(const ir_circuit *c)
{
    const char *env = getenv("DRIVE_CG_LANES");
    if (env && !strcmp(env, "never"))
        return 0;
    return !loops_wanted(c);
}

static LLVMValueRef lane_get(const lanegen *g, LLVMValueRef vec, unsigned l)
{
    return LLVMBuildExtractElement(g->e->b, vec, LLVMConstInt(g->e->i32, l, 0), "");
}

static LLVMValueRef lane_put(const lanegen *g, LLVMValueRef vec, unsigned l, LLVMValueRef x)
{
    return LLVMBuildInsertElement(g->e->b, vec, x, LLVMConstInt(g->e->i32, l, 0), "");
}

static LLVMValueRef lane_splat(const lanegen *g, LLVMValueRef k)
{
    LLVMValueRef ks[MAX_LANES];
    for (unsigned l = 0; l < g->e->lanes; l++)
        ks[l] = k;
    return LLVMConstVector(ks, g->e->lanes);
}

/* The group's values of the field at offset in block k: its column
 * starts at offset*m. */
static LLVMValueRef col_addr(const lanegen *g, int k, uint32_t offset, ir_type t)
{
    const emitter *e = g->e;
    LLVMValueRef at = g->at[k][t == IR_BOOL];
    if (offset == 0)
        return at;
    LLVMValueRef start = LLVMBuildMul(e->b, g->n, LLVMConstInt(e->i64, offset, 0), "");
    return LLVMBuildInBoundsGEP2(e->b, e->i8, at, &start, 1, "");
}

/* A field's values as stored: doubles, or bytes for bools. */
static LLVMValueRef col_load_raw(lanegen *g, int k, uint32_t offset, ir_type t)
{
    const emitter *e = g->e;
    LLVMTypeRef ty = LLVMVectorType(t == IR_F64 ? e->f64 : e->i8, e->lanes);
    LLVMValueRef at = col_addr(g, k, offset, t);
    if (t == IR_F64)
        col_prefetch(g, k, at, offset, k != BLK_IN);
    LLVMValueRef x = LLVMBuildLoad2(e->b, ty, at, "");
    LLVMSetAlignment(x, t == IR_F64 ? 8 : 1);
    return x;
}

static LLVMValueRef col_load(lanegen *g, int k, uint32_t offset, ir_type t)
{
    LLVMValueRef x = col_load_raw(g, k, offset, t);
    if (t == IR_F64)
        return x;
    /* Any nonzero byte is true, as in the interpreter. */
    return LLVMBuildICmp(g->e->b, LLVMIntNE, x, LLVMConstNull(LLVMTypeOf(x)), "");
}

/* Stores a vector of values, or (raw) of the bytes col_load_raw gave. */
static void col_store(lanegen *g, int k, uint32_t offset, ir_type t, LLVMValueRef vec)
{
    const emitter *e = g->e;
    if (t == IR_BOOL && LLVMGetElementType(LLVMTypeOf(vec)) == e->i1)
        vec = LLVMBuildZExt(e->b, vec, LLVMVectorType(e->i8, e->lanes), "");
    LLVMValueRef at = col_addr(g, k, offset, t);
    if (t == IR_F64)
        col_prefetch(g, k, at, offset, 1);
    LLVMValueRef s = LLVMBuildStore(e->b, vec, at);
    LLVMSetAlignment(s, t == IR_F64 ? 8 : 1);
}

static LLVMValueRef lane_operand(const lanegen *g, uint32_t i, uint32_t k, LLVMTypeRef want)
{
    if (k >= i || !g->vals[k] || (want && LLVMTypeOf(g->vals[k]) != want))
        return NULL;
    return g->vals[k];
}

/* One access of the lanes to entry idx (a vector of f64) of a ring of len
 * slots at base_off: a load (val NULL; gives the vector), a store of val,
 * or under guard (a vector of i1) a commit's store, which stores back the
 * value that was there where a lane's guard is false. */
typedef struct ring_access {
    LLVMValueRef idx, val, guard;
    uint32_t base_off, len;
} ring_access;

/* Entry ks[l] of lane l of a ring whose first entry's column starts at
 * start: start + ks[l]*8m + 8l (n8 = 8m). */
static LLVMValueRef ring_entry(const lanegen *g, LLVMValueRef start, LLVMValueRef ks,
                               LLVMValueRef n8, unsigned l)
{
    const emitter *e = g->e;
    LLVMValueRef k = LLVMBuildZExt(e->b, lane_get(g, ks, l), e->i64, "");
    LLVMValueRef off = LLVMBuildAdd(e->b, LLVMBuildMul(e->b, k, n8, ""),
                                    LLVMConstInt(e->i64, 8 * l, 0), "");
    return LLVMBuildInBoundsGEP2(e->b, e->i8, start, &off, 1, "");
}

/* A run of n ring accesses, in order, with one branch: where every
 * access's lanes agree on their entry, as they do in instances stepped
 * together, the entries of each are neighbours in one column, one vector
 * access; else lane by lane. A predictor's context is a ring per element
 * read at one index, so a run of them shares the test (one branch for
 * nine reads instead of nine: phoebe_autism's 36 ring accesses cost it a
 * sixth of its time). ring_addr's rule: the range test and the conversion
 * are made once for all the lanes, to 32-bit integers (one instruction):
 * a ring lies inside a block with 32-bit byte offsets (ir_verify), so its
 * index is below 2^29. Entry j of lane l is the word at base_off + 8j, in
 * the column at (base_off + 8j)*m. The loads' vectors go to out[k]. */
static void lane_ring_run(lanegen *g, uint32_t n, const ring_access *acc, LLVMValueRef *out)
{
    const emitter *e = g->e;
    LLVMValueRef zero = lane_splat(g, const_f64(e, 0));
    LLVMTypeRef vi32 = LLVMVectorType(e->i32, e->lanes);
    LLVMTypeRef mask = LLVMIntTypeInContext(e->ctx, e->lanes);
    LLVMValueRef n8 = LLVMBuildMul(e->b, g->n, LLVMConstInt(e->i64, 8, 0), "");
    LLVMValueRef ks[RING_RUN_MAX], start[RING_RUN_MAX], same = NULL;
    for (uint32_t a = 0; a < n; a++) {
        LLVMValueRef idx = acc[a].idx;
        LLVMValueRef in_range = LLVMBuildAnd(
            e->b, LLVMBuildFCmp(e->b, LLVMRealOGE, idx, zero, ""),
            LLVMBuildFCmp(e->b, LLVMRealOLT, idx, lane_splat(g, const_f64(e, (double)acc[a].len)), ""),
            "");
        ks[a] = LLVMBuildFPToSI(e->b, LLVMBuildSelect(e->b, in_range, idx, zero, ""), vi32, "");
        LLVMValueRef first = LLVMBuildShuffleVector(e->b, ks[a], LLVMGetPoison(vi32),
                                                    LLVMConstNull(vi32), "");
        LLVMValueRef agree = LLVMBuildICmp(
            e->b, LLVMIntEQ,
            LLVMBuildBitCast(e->b, LLVMBuildICmp(e->b, LLVMIntEQ, ks[a], first, ""), mask, ""),
            LLVMConstAllOnes(mask), "row");
        same = same ? LLVMBuildAnd(e->b, same, agree, "") : agree;
        start[a] = col_addr(g, BLK_STATE, acc[a].base_off, IR_F64);
    }
    LLVMBasicBlockRef row = LLVMAppendBasicBlockInContext(e->ctx, g->fn, "ring_row");
    LLVMBasicBlockRef apart = LLVMAppendBasicBlockInContext(e->ctx, g->fn, "ring_lanes");
    LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(e->ctx, g->fn, "ring_done");
    LLVMBuildCondBr(e->b, same, row, apart);

    LLVMValueRef vrow[RING_RUN_MAX], vlanes[RING_RUN_MAX];
    LLVMPositionBuilderAtEnd(e->b, row);
    for (uint32_t a = 0; a < n; a++) {
        LLVMValueRef at = ring_entry(g, start[a], ks[a], n8, 0);
        vrow[a] = NULL;
        if (!acc[a].val || acc[a].guard) {
            vrow[a] = LLVMBuildLoad2(e->b, g->v.f64, at, "");
            LLVMSetAlignment(vrow[a], 8);
        }
        if (acc[a].val)
            LLVMSetAlignment(LLVMBuildStore(e->b,
                                            acc[a].guard ? LLVMBuildSelect(e->b, acc[a].guard,
                                                                           acc[a].val, vrow[a], "")
                                                         : acc[a].val,
                                            at),
                             8);
    }
    LLVMBasicBlockRef row_end = LLVMGetInsertBlock(e->b);
    LLVMBuildBr(e->b, join);

    LLVMPositionBuilderAtEnd(e->b, apart);
    for (uint32_t a = 0; a < n; a++) {
        vlanes[a] = LLVMGetPoison(g->v.f64);
        for (unsigned l = 0; l < e->lanes; l++) {
            LLVMValueRef at = ring_entry(g, start[a], ks[a], n8, l);
            LLVMValueRef x = NULL;
            if (!acc[a].val || acc[a].guard) {
                x = LLVMBuildLoad2(e->b, e->f64, at, "");
                LLVMSetAlignment(x, 8);
                vlanes[a] = lane_put(g, vlanes[a], l, x);
            }
            if (acc[a].val) {
                LLVMValueRef y = lane_get(g, acc[a].val, l);
                if (acc[a].guard)
                    y = LLVMBuildSelect(e->b, lane_get(g, acc[a].guard, l), y, x, "");
                LLVMSetAlignment(LLVMBuildStore(e->b, y, at), 8);
            }
        }
    }
    LLVMBasicBlockRef apart_end = LLVMGetInsertBlock(e->b);
    LLVMBuildBr(e->b, join);

    LLVMPositionBuilderAtEnd(e->b, join);
    for (uint32_t a = 0; a < n; a++) {
        if (acc[a].val) {
            if (out)
                out[a] = NULL;
            continue;
        }
        LLVMValueRef v = LLVMBuildPhi(e->b, g->v.f64, "ring");
        LLVMAddIncoming(v, (LLVMValueRef[]){ vrow[a], vlanes[a] },
                        (LLVMBasicBlockRef[]){ row_end, apart_end }, 2);
        out[a] = v;
    }
}

/* The run of ring accesses that begins at instruction i: the instructions
 * after it of the same op on the same index (and, for commits, under the
 * same guard), up to RING_RUN_MAX. Fills acc; returns the count, or 0 on a
 * malformed instruction. */
static uint32_t ring_run(const lanegen *g, uint32_t i, ring_access *acc)
{
    const ir_circuit *c = g->c;
    const ir_inst *first = &c->code[i];
    uint32_t n = 0;
    for (uint32_t j = i; j < c->n_code && n < RING_RUN_MAX; j++) {
        const ir_inst *ins = &c->code[j];
        if (ins->op != first->op)
            break;
        int load = ins->op == IR_LOADX;
        uint32_t idx_op = load ? ins->a : ins->b;
        uint32_t first_idx = load ? first->a : first->b;
        if (j > i && (idx_op != first_idx || (ins->op == IR_STOREX_IF && ins->c != first->c)))
            break;
        if (ins->slot >= c->n_state)
            return 0;
        ring_access *r = &acc[n];
        r->idx = lane_operand(g, j, idx_op, g->v.f64);
        r->val = load ? NULL : lane_operand(g, j, ins->a, g->v.f64);
        r->guard = ins->op == IR_STOREX_IF ? lane_operand(g, j, ins->c, g->v.i1) : NULL;
        r->base_off = c->state[ins->slot].offset;
        r->len = ir_range_len(ins);
        if (!r->idx || (!load && !r->val) || (ins->op == IR_STOREX_IF && !r->guard))
            return 0;
        n++;
    }
    return n;
}

/* One store of a commit under guard (a vector of i1) to a plain slot:
 * where a lane's guard is false, the value that was there is stored back,
 * so the store is one vector store without a branch per lane. */
static int lane_commit_store(lanegen *g, uint32_t i, LLVMValueRef guard)
{
    const emitter *e = g->e;
    const ir_inst *ins = &g->c->code[i];
    if (ins->slot >= g->c->n_state)
        return -1;
    const ir_var *v = &g->c->state[ins->slot];
    LLVMValueRef a = lane_operand(g, i, ins->a, reg_type(&g->v, v->type));
    if (!a)
        return -1;
    LLVMValueRef old = col_load_raw(g, BLK_STATE, v->offset, v->type);
    if (v->type == IR_BOOL)
        a = LLVMBuildZExt(e->b, a, LLVMVectorType(e->i8, e->lanes), "");
    col_store(g, BLK_STATE, v->offset, v->type, LLVMBuildSelect(e->b, guard, a, old, ""));
    return 0;
}

/* The step's body over a group of lanes; *status is the vector of statuses
 * (NULL: none). Returns 0, or -1 on a malformed instruction. */
static int emit_lanes_body(lanegen *g, LLVMValueRef *status)
{
    const emitter *e = g->e;
    const ir_circuit *c = g->c;
    *status = NULL;
    for (uint32_t i = 0; i < c->n_code; i++) {
        const ir_inst *ins = &c->code[i];
        LLVMValueRef a = NULL, b = NULL, cv = NULL, v = NULL;
        switch (ins->op) {
        case IR_CONST:
            v = lane_splat(g, ins->type == IR_F64 ? const_f64(e, ins->imm)
                                                  : LLVMConstInt(e->i1, ins->imm != 0, 0));
            break;
        case IR_INPUT:
            if (ins->a < c->n_inputs && c->inputs[ins->a].type == ins->type)
                v = col_load(g, BLK_IN, c->inputs[ins->a].offset, ins->type);
            break;
        case IR_PARAM:
            if (ins->a < c->n_params && c->params[ins->a].type == ins->type)
                v = col_load(g, BLK_STATE, c->params[ins->a].offset, ins->type);
            break;
        case IR_LOAD:
            if (ins->a < c->n_state && c->state[ins->a].type == ins->type)
                v = col_load(g, BLK_STATE, c->state[ins->a].offset, ins->type);
            break;
        case IR_LOADX:
        case IR_STOREX:
        case IR_STOREX_IF: { /* a run of them, one branch (lane_ring_run) */
            ring_access acc[RING_RUN_MAX];
            LLVMValueRef got[RING_RUN_MAX];
            uint32_t n = ring_run(g, i, acc);
            if (n == 0)
                return -1;
            lane_ring_run(g, n, acc, got);
            for (uint32_t k = 0; ins->op == IR_LOADX && k < n; k++)
                g->vals[i + k] = got[k];
            i += n - 1;
            continue;
        }
        case IR_OUTPUT:
            if (ins->slot >= c->n_outputs ||
                !(a = lane_operand(g, i, ins->a, reg_type(&g->v, c->outputs[ins->slot].type))))
                return -1;
            col_store(g, BLK_OUT, c->outputs[ins->slot].offset, c->outputs[ins->slot].type, a);
            continue;
        case IR_STORE:
            if (ins->slot >= c->n_state ||
                !(a = lane_operand(g, i, ins->a, reg_type(&g->v, c->state[ins->slot].type))))
                return -1;
            col_store(g, BLK_STATE, c->state[ins->slot].offset, c->state[ins->slot].type, a);
            continue;
        case IR_STORE_IF: {
            LLVMValueRef guard = lane_operand(g, i, ins->b, g->v.i1);
            if (!guard || lane_commit_store(g, i, guard) != 0)
                return -1;
            continue;
        }
        case IR_RETURN:
            if (*status || !(*status = lane_operand(g, i, ins->a, g->v.i1)))
                return -1;
            continue;
        case IR_NOP:
            continue;
        case IR_LOG: case IR_SIN: case IR_COS:
            /* the C library's own function, lane by lane */
            if (ins->type != IR_F64 || !(a = lane_operand(g, i, ins->a, g->v.f64)))
                return -1;
            v = LLVMGetPoison(g->v.f64);
            for (unsigned l = 0; l < e->lanes && v; l++) {
                LLVMValueRef x = emit_math(e, ins->op, lane_get(g, a, l), "");
                v = x ? lane_put(g, v, l, x) : NULL;
            }
            break;
        default: {
            int n = ir_n_operands(ins->op);
            if (n > 0 && !(a = lane_operand(g, i, ins->a, NULL)))
                return -1;
            if (n > 1 && !(b = lane_operand(g, i, ins->b, NULL)))
                return -1;
            if (n > 2 && !(cv = lane_operand(g, i, ins->c, NULL)))
                return -1;
            v = emit_pure(&g->v, ins, a, b, cv); /* sqrt, fabs, floor, drive's exp: vectors */
            break;
        }
        }
        if (!v)
            return -1;
        g->vals[i] = v;
    }
    return 0;
}

/* The head of a lazy step_n (cg_emit_part): through the lanes version once
 * there is one (a pointer in a private global, set by the hook), else,
 * for as many instances as the lanes or more while the hook has not said there are none,
 * ask the hook for it, else (and when the hook has none) on to the loop at
 * tail. */
static void emit_lazy_dispatch(const emitter *e, LLVMValueRef fn, LLVMTypeRef fty, LLVMValueRef n,
                               const cg_lazy *lazy, LLVMBasicBlockRef tail)
{
    LLVMValueRef slot = LLVMAddGlobal(e->m, e->ptr, "lanes_fn");
    LLVMSetLinkage(slot, LLVMInternalLinkage);
    LLVMSetInitializer(slot, LLVMConstNull(e->ptr));
    LLVMSetAlignment(slot, 8);
    LLVMValueRef args[4] = { LLVMGetParam(fn, 0), n, LLVMGetParam(fn, 2), LLVMGetParam(fn, 3) };
    LLVMBasicBlockRef fast = LLVMAppendBasicBlockInContext(e->ctx, fn, "lanes_ready");
    LLVMBasicBlockRef check = LLVMAppendBasicBlockInContext(e->ctx, fn, "lanes_wanted");
    LLVMBasicBlockRef ask = LLVMAppendBasicBlockInContext(e->ctx, fn, "lanes_ask");
    LLVMBasicBlockRef got = LLVMAppendBasicBlockInContext(e->ctx, fn, "lanes_got");
    LLVMValueRef have = LLVMBuildLoad2(e->b, e->ptr, slot, "lanes");
    LLVMSetOrdering(have, LLVMAtomicOrderingAcquire); /* the hook's store is release */
    LLVMSetAlignment(have, 8);
    LLVMValueRef null = LLVMConstNull(e->ptr);
    LLVMValueRef word = LLVMBuildPtrToInt(e->b, have, e->i64, "word");
    LLVMValueRef ready = LLVMBuildICmp(e->b, LLVMIntUGT, word,
                                       LLVMConstInt(e->i64, (uintptr_t)CG_LAZY_NONE, 0), "ready");
    LLVMBuildCondBr(e->b, ready, fast, check);
    LLVMPositionBuilderAtEnd(e->b, fast);
    LLVMBuildRet(e->b, LLVMBuildCall2(e->b, fty, have, args, 4, "r"));
    LLVMPositionBuilderAtEnd(e->b, check);
    /* Ask only while the slot is NULL (not CG_LAZY_NONE). */
    LLVMValueRef many = LLVMBuildAnd(
        e->b, LLVMBuildICmp(e->b, LLVMIntUGE, n, LLVMConstInt(e->i64, e->lanes, 0), "many"),
        LLVMBuildICmp(e->b, LLVMIntEQ, word, LLVMConstInt(e->i64, 0, 0), "unasked"), "ask");
    LLVMBuildCondBr(e->b, many, ask, tail);
    LLVMPositionBuilderAtEnd(e->b, ask);
    /* The hook and its token are addresses in the compiling process: this
     * code is for the JIT that made it, never for a file. */
    LLVMTypeRef hty = LLVMFunctionType(e->ptr, (LLVMTypeRef[]){ e->ptr, e->ptr }, 2, 0);
    LLVMValueRef hook = LLVMConstIntToPtr(
        LLVMConstInt(e->i64, (unsigned long long)(uintptr_t)lazy->hook, 0), e->ptr);
    LLVMValueRef token = LLVMConstIntToPtr(
        LLVMConstInt(e->i64, (unsigned long long)(uintptr_t)lazy->token, 0), e->ptr);
    LLVMValueRef made = LLVMBuildCall2(e->b, hty, hook, (LLVMValueRef[]){ token, slot }, 2, "made");
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntNE, made, null, "ok"), got, tail);
    LLVMPositionBuilderAtEnd(e->b, got);
    LLVMBuildRet(e->b, LLVMBuildCall2(e->b, fty, made, args, 4, "r"));
}


/* One run of a block's words copied between the columns and one instance's
 * block: count words of width w from offset on, each in its own column. */
typedef struct copy_run {
    uint32_t offset, w, count;
} copy_run;

static int by_offset(const void *a, const void *b)
{
    uint32_t x = ((const copy_run *)a)->offset, y = ((const copy_run *)b)->offset;
    return (x > y) - (x < y);
}

/* The runs of block k: its fields sorted by offset, neighbours of one width
 * merged (a vector, a ring, consecutive reals), so that a block of a
 * thousand words is a few loops. Returns the count, or -1 (out of memory). */
static int copy_runs(const ir_circuit *c, int k, copy_run **out)
{
    const ir_var *sets[2] = { NULL, NULL };
    uint32_t ns[2] = { 0, 0 };
    if (k == BLK_STATE)
        sets[0] = c->params, ns[0] = c->n_params, sets[1] = c->state, ns[1] = c->n_state;
    else if (k == BLK_IN)
        sets[0] = c->inputs, ns[0] = c->n_inputs;
    else
        sets[0] = c->outputs, ns[0] = c->n_outputs;
    copy_run *r = malloc(((size_t)ns[0] + ns[1] + 1) * sizeof *r);
    if (!r)
        return -1;
    uint32_t m = 0;
    for (int s = 0; s < 2; s++)
        for (uint32_t j = 0; j < ns[s]; j++)
            r[m++] = (copy_run){ sets[s][j].offset, sets[s][j].type == IR_F64 ? 8 : 1, 1 };
    qsort(r, m, sizeof *r, by_offset);
    uint32_t runs = 0;
    for (uint32_t j = 0; j < m; j++) {
        copy_run *last = runs ? &r[runs - 1] : NULL;
        if (last && last->w == r[j].w && last->offset + last->w * last->count == r[j].offset)
            last->count++;
        else if (!last || last->offset + last->w * last->count <= r[j].offset)
            r[runs++] = r[j];
    }
    *out = r;
    return (int)runs;
}

/* copy(runs, nruns, cols, n, i, one, gather), a private function of the
 * module: instance i's words listed in runs (a table of {offset, width,
 * count}, copy_runs) between the columns cols and the block one, into one
 * when gather, else back. One loop over a table rather than a loop per run
 * in step_n: the code LLVM has to make stays the same size whatever the
 * circuit, and this path only runs for the instances past the lanes. */
static LLVMValueRef emit_copy_fn(const emitter *e)
{
    LLVMTypeRef params[7] = { e->ptr, e->i64, e->ptr, e->i64, e->i64, e->ptr, e->i1 };
    LLVMValueRef fn = LLVMAddFunction(e->m, "copy", LLVMFunctionType(e->voidt, params, 7, 0));
    LLVMSetLinkage(fn, LLVMPrivateLinkage);
    add_attr(e, fn, LLVMAttributeFunctionIndex, "nounwind");
    /* its own builder: the caller's stays where step_n is being built */
    emitter f = *e;
    f.b = LLVMCreateBuilderInContext(e->ctx);
    LLVMValueRef runs = LLVMGetParam(fn, 0), nruns = LLVMGetParam(fn, 1), cols = LLVMGetParam(fn, 2);
    LLVMValueRef n = LLVMGetParam(fn, 3), i = LLVMGetParam(fn, 4), one = LLVMGetParam(fn, 5);
    LLVMValueRef gather = LLVMGetParam(fn, 6);
    LLVMValueRef zero = LLVMConstInt(e->i64, 0, 0), one64 = LLVMConstInt(e->i64, 1, 0);
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(e->ctx, fn, "entry");
    LLVMBasicBlockRef run = LLVMAppendBasicBlockInContext(e->ctx, fn, "run");
    LLVMBasicBlockRef word = LLVMAppendBasicBlockInContext(e->ctx, fn, "word");
    LLVMBasicBlockRef real = LLVMAppendBasicBlockInContext(e->ctx, fn, "real");
    LLVMBasicBlockRef byte = LLVMAppendBasicBlockInContext(e->ctx, fn, "byte");
    LLVMBasicBlockRef next = LLVMAppendBasicBlockInContext(e->ctx, fn, "next");
    LLVMBasicBlockRef done_run = LLVMAppendBasicBlockInContext(e->ctx, fn, "run_done");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(e->ctx, fn, "done");
    LLVMBuilderRef b = f.b;
    LLVMPositionBuilderAtEnd(b, entry);
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, nruns, zero, ""), done, run);
    /* run r: its three fields */
    LLVMPositionBuilderAtEnd(b, run);
    LLVMValueRef r = LLVMBuildPhi(b, e->i64, "r");
    LLVMValueRef field[3];
    for (int k = 0; k < 3; k++) {
        LLVMValueRef at = LLVMBuildAdd(b, LLVMBuildMul(b, r, LLVMConstInt(e->i64, 3, 0), ""),
                                       LLVMConstInt(e->i64, (unsigned)k, 0), "");
        LLVMValueRef x = LLVMBuildLoad2(b, e->i32, LLVMBuildGEP2(b, e->i32, runs, &at, 1, ""), "");
        field[k] = LLVMBuildZExt(b, x, e->i64, "");
    }
    LLVMBuildBr(b, word);
    /* word j of the run, at offset + w*j */
    LLVMPositionBuilderAtEnd(b, word);
    LLVMValueRef j = LLVMBuildPhi(b, e->i64, "j");
    LLVMValueRef off = LLVMBuildAdd(b, field[0], LLVMBuildMul(b, field[1], j, ""), "");
    LLVMValueRef coff = LLVMBuildAdd(b, LLVMBuildMul(b, off, n, ""), LLVMBuildMul(b, field[1], i, ""), "");
    LLVMValueRef cp = LLVMBuildGEP2(b, e->i8, cols, &coff, 1, "");
    LLVMValueRef op = LLVMBuildGEP2(b, e->i8, one, &off, 1, "");
    LLVMValueRef from = LLVMBuildSelect(b, gather, cp, op, ""), to = LLVMBuildSelect(b, gather, op, cp, "");
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, field[1], LLVMConstInt(e->i64, 8, 0), ""), real,
                    byte);
    for (int k = 0; k < 2; k++) { /* integers: every bit as it is */
        LLVMPositionBuilderAtEnd(b, k ? byte : real);
        LLVMValueRef x = LLVMBuildLoad2(b, k ? e->i8 : e->i64, from, "");
        LLVMSetAlignment(x, k ? 1 : 8);
        LLVMSetAlignment(LLVMBuildStore(b, x, to), k ? 1 : 8);
        LLVMBuildBr(b, next);
    }
    LLVMPositionBuilderAtEnd(b, next);
    LLVMValueRef j2 = LLVMBuildAdd(b, j, one64, "");
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, j2, field[2], ""), done_run, word);
    LLVMAddIncoming(j, (LLVMValueRef[]){ zero, j2 }, (LLVMBasicBlockRef[]){ run, next }, 2);
    LLVMPositionBuilderAtEnd(b, done_run);
    LLVMValueRef r2 = LLVMBuildAdd(b, r, one64, "");
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, r2, nruns, ""), done, run);
    LLVMAddIncoming(r, (LLVMValueRef[]){ zero, r2 }, (LLVMBasicBlockRef[]){ entry, done_run }, 2);
    LLVMPositionBuilderAtEnd(b, done);
    LLVMBuildRetVoid(b);
    LLVMDisposeBuilder(f.b);
    return fn;
}

/* Block k's runs as a private constant table for copy; *nruns their count.
 * NULL when out of memory. */
static LLVMValueRef copy_table(const emitter *e, const ir_circuit *c, int k, uint32_t *nruns)
{
    copy_run *runs;
    int nr = copy_runs(c, k, &runs);
    if (nr < 0)
        return NULL;
    LLVMValueRef *words = malloc(((size_t)nr * 3 + 1) * sizeof *words);
    if (!words) {
        free(runs);
        return NULL;
    }
    for (int r = 0; r < nr; r++) {
        words[3 * r] = LLVMConstInt(e->i32, runs[r].offset, 0);
        words[3 * r + 1] = LLVMConstInt(e->i32, runs[r].w, 0);
        words[3 * r + 2] = LLVMConstInt(e->i32, runs[r].count, 0);
    }
    LLVMValueRef init = LLVMConstArray2(e->i32, words, (uint64_t)nr * 3);
    LLVMValueRef g = LLVMAddGlobal(e->m, LLVMTypeOf(init), "runs");
    LLVMSetInitializer(g, init);
    LLVMSetGlobalConstant(g, 1);
    LLVMSetLinkage(g, LLVMPrivateLinkage);
    LLVMSetUnnamedAddr(g, 1);
    free(words);
    free(runs);
    *nruns = (uint32_t)nr;
    return g;
}

/* step_n's lanes made for the host's CPU with all its features: fn and the
 * vector functions it calls (cgmath.h's), which must agree with it on how
 * vectors are passed (a <8 x double> is one register with AVX-512, two
 * without) and are inlined into it only where they have no more features. */
static void carry_lanes_attrs(const emitter *e, LLVMValueRef fn)
{
    const char *kv[2][2] = { { "target-cpu", e->lanes_attrs->lanes_cpu },
                             { "target-features", e->lanes_attrs->lanes_features } };
    for (LLVMValueRef f = LLVMGetFirstFunction(e->m); f; f = LLVMGetNextFunction(f)) {
        LLVMTypeRef ret = LLVMGetReturnType(LLVMGlobalGetValueType(f));
        if (f != fn && (LLVMIsDeclaration(f) || LLVMGetTypeKind(ret) != LLVMVectorTypeKind))
            continue;
        for (int k = 0; k < 2; k++)
            LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex,
                                    LLVMCreateStringAttribute(e->ctx, kv[k][0],
                                                              (unsigned)strlen(kv[k][0]),
                                                              kv[k][1],
                                                              (unsigned)strlen(kv[k][1])));
    }
}

/* name(states, n, in, out), <prefix>_step_n: step n instances whose blocks
 * are in columns (drive_abi.h); returns how many reported invalid inputs.
 * One instance is its own block: a call of step. Groups of lanes
 * go through the vector body above; the rest (and every instance of a
 * circuit emitted with loops) one at a time, copied out of the columns into
 * a block on the stack, stepped, and copied back. */
static int emit_step_n(const emitter *e, const char *name, LLVMValueRef step,
                       const ir_circuit *c, int lanes, const cg_lazy *lazy)
{
    LLVMTypeRef params[4] = { e->ptr, e->i64, e->ptr, e->ptr };
    LLVMTypeRef fty = LLVMFunctionType(e->i64, params, 4, 0);
    LLVMValueRef fn = LLVMAddFunction(e->m, name, fty);
    LLVMSetLinkage(fn, LLVMExternalLinkage);
    add_attr(e, fn, LLVMAttributeFunctionIndex, "nounwind");
    /* As for step: the three arrays of blocks never overlap. */
    static const unsigned blocks[3] = { 0, 2, 3 };
    for (int k = 0; k < 3; k++) {
        add_attr(e, fn, blocks[k] + 1, "noalias");
        add_attr(e, fn, blocks[k] + 1, "nocapture");
    }
    uint32_t sizes[3] = { c->state_size, c->in_size, c->out_size };
    LLVMValueRef bases[3] = { LLVMGetParam(fn, 0), LLVMGetParam(fn, 2), LLVMGetParam(fn, 3) };
    LLVMValueRef n = LLVMGetParam(fn, 1);
    LLVMValueRef zero = LLVMConstInt(e->i64, 0, 0);
    LLVMTypeRef step_ty = LLVMGlobalGetValueType(step);
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(e->ctx, fn, "entry");
    LLVMBasicBlockRef single = LLVMAppendBasicBlockInContext(e->ctx, fn, "single");
    LLVMBasicBlockRef more = LLVMAppendBasicBlockInContext(e->ctx, fn, "more");
    LLVMBasicBlockRef tail = LLVMAppendBasicBlockInContext(e->ctx, fn, "tail");
    LLVMBasicBlockRef loop = LLVMAppendBasicBlockInContext(e->ctx, fn, "loop");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(e->ctx, fn, "done");
    LLVMPositionBuilderAtEnd(e->b, entry);
    /* The block of its own the instances past the lanes are copied into:
     * on the stack when it is small (allocated here, in the entry block, so
     * once a call), else from the heap, as the step takes its scratch
     * (emit_step); none at all when the JIT steps them (apart). */
    uint64_t at_in = ((uint64_t)sizes[0] + 7) / 8 * 8;
    uint64_t at_out = at_in + ((uint64_t)sizes[1] + 7) / 8 * 8;
    uint64_t need = at_out + sizes[2] + 1;
    int apart_only = !(lanes && lanes_wanted(c)) && lazy;
    int on_heap = need > SCRATCH_STACK_MAX;
    LLVMValueRef scratch = NULL;
    if (!apart_only && !on_heap) {
        scratch = LLVMBuildAlloca(e->b, LLVMArrayType(e->i8, need), "one");
        LLVMSetAlignment(scratch, 16);
    }
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntEQ, n, LLVMConstInt(e->i64, 1, 0), "alone"),
                    single, more);
    LLVMPositionBuilderAtEnd(e->b, single);
    LLVMValueRef r1 = LLVMBuildCall2(e->b, step_ty, step, bases, 3, "r");
    LLVMBuildRet(e->b, LLVMBuildZExt(e->b, r1, e->i64, ""));
    LLVMPositionBuilderAtEnd(e->b, more);
    /* the columns' length, drive_abi_columns(n) (apart_step finds it itself) */
    LLVMValueRef cols = apart_only ? n : LLVMBuildSelect(
        e->b, LLVMBuildICmp(e->b, LLVMIntULE, n, i64c(e, 64), ""), n,
        LLVMBuildAdd(e->b, LLVMBuildAnd(e->b, LLVMBuildAdd(e->b, n, i64c(e, 15), ""), i64c(e, ~(int64_t)15), ""),
                     i64c(e, 8), ""),
        "cols");
    LLVMValueRef start = zero, bad0 = zero;
    LLVMBasicBlockRef vlatch = NULL;
    LLVMValueRef vbad2 = NULL;
    if (lanes && lanes_wanted(c)) {
        LLVMValueRef nv = LLVMBuildAnd(e->b, n, LLVMConstInt(e->i64, ~(uint64_t)(e->lanes - 1), 0), "nv");
        LLVMBasicBlockRef vloop = LLVMAppendBasicBlockInContext(e->ctx, fn, "lanes");
        LLVMMoveBasicBlockAfter(vloop, more);
        LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntEQ, nv, zero, "few"), tail, vloop);
        LLVMPositionBuilderAtEnd(e->b, vloop);
        LLVMValueRef i = LLVMBuildPhi(e->b, e->i64, "i");
        LLVMValueRef bad = LLVMBuildPhi(e->b, e->i64, "bad");
        lanegen g = { .e = e, .v = *e, .c = c, .fn = fn, .n = cols };
        g.v.f64 = LLVMVectorType(e->f64, e->lanes);
        g.v.i1 = LLVMVectorType(e->i1, e->lanes);
        LLVMValueRef i8 = LLVMBuildMul(e->b, i, LLVMConstInt(e->i64, 8, 0), "");
        for (int k = 0; k < 3; k++) {
            g.at[k][0] = LLVMBuildInBoundsGEP2(e->b, e->i8, bases[k], &i8, 1, "");
            g.at[k][1] = LLVMBuildInBoundsGEP2(e->b, e->i8, bases[k], &i, 1, "");
        }
        g.vals = calloc(c->n_code ? c->n_code : 1, sizeof *g.vals);
        g.ahead = prefetch_ahead();
        /* at most one prefetch an instruction */
        g.fetched = calloc((size_t)c->n_code + 1, sizeof *g.fetched);
        LLVMValueRef status = NULL;
        int ok = g.vals && g.fetched && emit_lanes_body(&g, &status) == 0;
        free(g.vals);
        free(g.fetched);
        if (!ok)
            return -1;
        if (e->lanes_attrs) {
            carry_lanes_attrs(e, fn);
            /* A step in this module (a .so's) stays out of the lanes: LLVM
             * would inline it into them and compile it with AVX-512, whose
             * masked moves cost a step 2.5x (cg_target_host). */
            if (!LLVMIsDeclaration(step))
                add_attr(e, step, LLVMAttributeFunctionIndex, "noinline");
        }
        LLVMValueRef count = zero;
        for (unsigned l = 0; status && l < e->lanes; l++)
            count = LLVMBuildAdd(e->b, count, LLVMBuildZExt(e->b, lane_get(&g, status, l), e->i64, ""),
                                 "");
        vbad2 = LLVMBuildAdd(e->b, bad, count, "bad2");
        LLVMValueRef i2 = LLVMBuildAdd(e->b, i, LLVMConstInt(e->i64, e->lanes, 0), "i2");
        vlatch = LLVMGetInsertBlock(e->b);
        LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntEQ, i2, nv, "end"), tail, vloop);
        LLVMAddIncoming(i, (LLVMValueRef[]){ zero, i2 }, (LLVMBasicBlockRef[]){ more, vlatch }, 2);
        LLVMAddIncoming(bad, (LLVMValueRef[]){ zero, vbad2 }, (LLVMBasicBlockRef[]){ more, vlatch },
                        2);
        start = nv;
    } else {
        /* Only a loop calling step: its own code is a few instructions a
         * step, so it is left unoptimised, which compiles faster. */
        add_attr(e, fn, LLVMAttributeFunctionIndex, "optnone");
        add_attr(e, fn, LLVMAttributeFunctionIndex, "noinline");
        if (apart_only) {
            /* Without lanes (until there are some), the JIT's own function
             * steps the instances one at a time: no copying code to
             * generate here. */
            LLVMBasicBlockRef apart = LLVMAppendBasicBlockInContext(e->ctx, fn, "apart");
            if (lazy->hook && lanes_wanted(c))
                emit_lazy_dispatch(e, fn, fty, n, lazy, apart);
            else
                LLVMBuildBr(e->b, apart);
            LLVMPositionBuilderAtEnd(e->b, apart);
            LLVMTypeRef aty = LLVMFunctionType(
                e->i64, (LLVMTypeRef[]){ e->ptr, e->ptr, e->ptr, e->i64, e->ptr, e->ptr }, 6, 0);
            LLVMValueRef afn = LLVMConstIntToPtr(
                LLVMConstInt(e->i64, (unsigned long long)(uintptr_t)lazy->apart, 0), e->ptr);
            LLVMValueRef token = LLVMConstIntToPtr(
                LLVMConstInt(e->i64, (unsigned long long)(uintptr_t)lazy->token, 0), e->ptr);
            LLVMValueRef args[6] = { token, step, bases[0], n, bases[1], bases[2] };
            LLVMBuildRet(e->b, LLVMBuildCall2(e->b, aty, afn, args, 6, "r"));
            LLVMDeleteBasicBlock(tail);
            LLVMDeleteBasicBlock(loop);
            LLVMDeleteBasicBlock(done);
            return 0;
        }
        LLVMBuildBr(e->b, tail);
    }

    /* The instances left over, one at a time through a block of their own. */
    LLVMPositionBuilderAtEnd(e->b, tail);
    if (vlatch) {
        bad0 = LLVMBuildPhi(e->b, e->i64, "bad0");
        LLVMAddIncoming(bad0, (LLVMValueRef[]){ zero, vbad2 }, (LLVMBasicBlockRef[]){ more, vlatch },
                        2);
    }
    LLVMBasicBlockRef prep = LLVMAppendBasicBlockInContext(e->ctx, fn, "prep");
    LLVMMoveBasicBlockAfter(prep, tail);
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntEQ, start, n, "empty"), done, prep);
    LLVMPositionBuilderAtEnd(e->b, prep);
    if (on_heap) {
        /* When there is no memory, the instances left report their tick as
         * not taken and nothing of theirs changes (emit_step does the same). */
        LLVMTypeRef i64t = e->i64;
        LLVMTypeRef mty = LLVMFunctionType(e->ptr, &i64t, 1, 0);
        LLVMValueRef mf = LLVMGetNamedFunction(e->m, "malloc");
        if (!mf)
            mf = LLVMAddFunction(e->m, "malloc", mty);
        scratch = LLVMBuildCall2(e->b, mty, mf, (LLVMValueRef[]){ i64c(e, (int64_t)need) }, 1, "one");
        LLVMBasicBlockRef fail = LLVMAppendBasicBlockInContext(e->ctx, fn, "no_memory");
        LLVMBuildCondBr(e->b, LLVMBuildIsNull(e->b, scratch, ""), fail, loop);
        LLVMPositionBuilderAtEnd(e->b, fail);
        LLVMBuildRet(e->b, LLVMBuildAdd(e->b, bad0, LLVMBuildSub(e->b, n, start, ""), ""));
    } else {
        LLVMBuildBr(e->b, loop);
    }
    LLVMPositionBuilderAtEnd(e->b, loop);
    LLVMValueRef i = LLVMBuildPhi(e->b, e->i64, "i");
    LLVMValueRef bad = LLVMBuildPhi(e->b, e->i64, "bad"), r = NULL;
    LLVMValueRef one[3] = { scratch, addr_dyn(e, scratch, i64c(e, (int64_t)at_in)),
                            addr_dyn(e, scratch, i64c(e, (int64_t)at_out)) };
    LLVMValueRef copy = emit_copy_fn(e), tables[3];
    uint32_t nruns[3];
    for (int k = 0; k < 3; k++)
        if (!(tables[k] = copy_table(e, c, k, &nruns[k])))
            return -1;
    LLVMTypeRef copy_ty = LLVMGlobalGetValueType(copy);
    for (int pass = 0; pass < 2; pass++) {
        /* into the block: all three (an output a step may leave as it was
         * keeps its value); back: the state and the outputs */
        for (int k = 0; k < 3; k++) {
            if (pass && k == BLK_IN)
                continue;
            LLVMValueRef args[7] = { tables[k], LLVMConstInt(e->i64, nruns[k], 0), bases[k], cols,
                                     i, one[k], LLVMConstInt(e->i1, !pass, 0) };
            LLVMBuildCall2(e->b, copy_ty, copy, args, 7, "");
        }
        if (!pass)
            r = LLVMBuildCall2(e->b, step_ty, step, one, 3, "r");
    }
    LLVMValueRef bad2 = LLVMBuildAdd(e->b, bad, LLVMBuildZExt(e->b, r, e->i64, "r64"), "bad2");
    LLVMValueRef i2 = LLVMBuildAdd(e->b, i, LLVMConstInt(e->i64, 1, 0), "i2");
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(e->b);
    LLVMBasicBlockRef exit = LLVMAppendBasicBlockInContext(e->ctx, fn, "freed");
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntEQ, i2, n, "end"), exit, loop);
    LLVMAddIncoming(i, (LLVMValueRef[]){ start, i2 }, (LLVMBasicBlockRef[]){ prep, latch }, 2);
    LLVMAddIncoming(bad, (LLVMValueRef[]){ bad0, bad2 }, (LLVMBasicBlockRef[]){ prep, latch }, 2);
    LLVMPositionBuilderAtEnd(e->b, exit);
    if (on_heap) {
        LLVMTypeRef fty1 = LLVMFunctionType(e->voidt, (LLVMTypeRef[]){ e->ptr }, 1, 0);
        LLVMValueRef ff = LLVMGetNamedFunction(e->m, "free");
        if (!ff)
            ff = LLVMAddFunction(e->m, "free", fty1);
        LLVMBuildCall2(e->b, fty1, ff, &scratch, 1, "");
    }
    LLVMBuildBr(e->b, done);

    LLVMPositionBuilderAtEnd(e->b, done);
    LLVMValueRef total = LLVMBuildPhi(e->b, e->i64, "total");
    LLVMAddIncoming(total, (LLVMValueRef[]){ bad0, bad2 }, (LLVMBasicBlockRef[]){ tail, exit }, 2);
    LLVMBuildRet(e->b, total);
    return 0;
}

/* ---- optimizing and printing ------------------------------------------ */

int cg_optimize(LLVMModuleRef m, const cg_target *t, int opt_level, char **err)
{
    char *msg = NULL;
    if (LLVMVerifyModule(m, LLVMReturnStatusAction, &msg)) {
        cg_errorf(err, "generated LLVM IR is invalid: %s", msg ? msg : "");
        LLVMDisposeMessage(msg);
        return -1;
    }
    LLVMDisposeMessage(msg); /* allocated even on success */
    if (opt_level <= 0)
        return 0;
    /* Level 2, what the JIT and the .so use, is not default<O2>: a step is
     * straight-line code whose IR was already folded, deduplicated and
     * pruned, and of O2's module pipeline only the function cleanups below
     * change its machine code (and SLP, which pairs the lanes of the fixed
     * summation order). The step functions run as fast as with default<O2>
     * (bench/run.sh) for a tenth of the optimisation time; without the
     * inliner, step_n calls step, so the step's body is generated once.
     * always-inline inlines only drive's exp, expm1 and tanh (cgmath.h).
     * A second instcombine and simplifycfg after SLP took a third of the
     * time and changed 3 of the stdlib's 18 steps by 1 to 5 instructions
     * (either way in the step_n lanes): dropped. */
    const char *pipeline =
        opt_level == 1 ? "default<O1>"
        : opt_level == 2 ? "always-inline,function(early-cse<memssa>,instcombine<no-verify-fixpoint>,"
                           "simplifycfg,gvn,slp-vectorizer,dse)"
                         : "default<O3>";
    LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
    /* A real target machine: without one the cost model vectorizes nothing. */
    LLVMErrorRef e = LLVMRunPasses(m, pipeline, t ? t->tm : NULL, opts);
    LLVMDisposePassBuilderOptions(opts);
    if (e) {
        char *em = LLVMGetErrorMessage(e);
        cg_errorf(err, "LLVM passes failed: %s", em);
        LLVMDisposeErrorMessage(em);
        return -1;
    }
    return 0;
}

char *cg_print_module(LLVMModuleRef m)
{
    char *text = LLVMPrintModuleToString(m);
    char *copy = malloc(strlen(text) + 1);
    if (copy)
        strcpy(copy, text);
    LLVMDisposeMessage(text);
    return copy;
}
