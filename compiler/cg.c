/* cg.c — LLVM back end: ir_circuit -> LLVM IR (via LLVM-C), then the new pass
 * manager. One IR instruction becomes at most a few LLVM instructions; bools
 * are i1 in registers and one byte (0/1) in memory, as in the interpreter. */
#include "cg.h"

#include <llvm-c/Analysis.h>
#include <llvm-c/Error.h>
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

struct cg_target {
    LLVMTargetMachineRef tm;
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

/* cpu == NULL means "the generic CPU of the host's architecture". */
static cg_target *target_new(const char *cpu, const char *features, char **err)
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
        target, triple, cpu, features ? features : "", LLVMCodeGenLevelDefault,
        LLVMRelocPIC, LLVMCodeModelSmall);
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
    return t;
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
     * whole family. */
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
    free(t);
}

LLVMTargetMachineRef cg_target_machine(const cg_target *t) { return t->tm; }

LLVMTargetMachineRef cg_target_take_machine(cg_target *t)
{
    LLVMTargetMachineRef tm = t->tm;
    free(t);
    return tm;
}

/* ---- emitting --------------------------------------------------------- */

typedef struct emitter {
    LLVMContextRef ctx;
    LLVMModuleRef m;
    LLVMBuilderRef b;
    LLVMTypeRef f64, i1, i8, i32, i64, ptr, voidt;
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

static LLVMValueRef load_var(const emitter *e, LLVMValueRef base, const ir_var *v)
{
    LLVMValueRef p = addr(e, base, v->offset);
    const char *name = v->name ? v->name : "";
    if (v->type == IR_F64) {
        LLVMValueRef x = LLVMBuildLoad2(e->b, e->f64, p, name);
        LLVMSetAlignment(x, 8);
        return x;
    }
    /* Any nonzero byte is true, as in the interpreter. */
    LLVMValueRef byte = LLVMBuildLoad2(e->b, e->i8, p, "");
    LLVMSetAlignment(byte, 1);
    return LLVMBuildICmp(e->b, LLVMIntNE, byte, LLVMConstInt(e->i8, 0, 0), name);
}

static void store_val(const emitter *e, LLVMValueRef base, uint32_t offset, ir_type t,
                      LLVMValueRef v)
{
    if (t == IR_BOOL)
        v = LLVMBuildZExt(e->b, v, e->i8, "");
    LLVMValueRef s = LLVMBuildStore(e->b, v, addr(e, base, offset));
    LLVMSetAlignment(s, t == IR_F64 ? 8 : 1);
}

/* The address of slot `slot + ir_index(i, len)`: the same clamping rule as
 * the interpreter's, so an index out of range can never leave the block. */
static LLVMValueRef ring_addr(const emitter *e, LLVMValueRef state, const ir_circuit *c,
                              const ir_inst *ins, LLVMValueRef i)
{
    uint32_t len = ir_range_len(ins);
    LLVMValueRef in_range = LLVMBuildAnd(
        e->b, LLVMBuildFCmp(e->b, LLVMRealOGE, i, const_f64(e, 0), ""),
        LLVMBuildFCmp(e->b, LLVMRealOLT, i, const_f64(e, (double)len), ""), "");
    LLVMValueRef k = LLVMBuildSelect(e->b, in_range, LLVMBuildFPToUI(e->b, i, e->i64, ""),
                                     LLVMConstInt(e->i64, 0, 0), "");
    LLVMValueRef off = LLVMBuildAdd(e->b, LLVMConstInt(e->i64, c->state[ins->slot].offset, 0),
                                    LLVMBuildMul(e->b, k, LLVMConstInt(e->i64, 8, 0), ""), "");
    return LLVMBuildInBoundsGEP2(e->b, e->i8, state, &off, 1, "");
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
    /* Zero first, as interp_init does, so that padding agrees too; the
     * optimizer drops the bytes the stores below overwrite. */
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

/* f(a) for one of the math ops. sqrt, fabs and floor are exact in IEEE
 * arithmetic, so LLVM's intrinsics (one instruction on most CPUs) give the
 * C library's bits. exp, log, tanh, sin and cos are not correctly rounded:
 * only calling the C library's functions themselves (resolved in this process
 * by the JIT) matches the interpreter, hence plain calls and no fast-math
 * flags, which would let LLVM substitute approximations. */
static LLVMValueRef emit_math(const emitter *e, ir_op op, LLVMValueRef a, const char *name)
{
    const char *intrinsic = NULL, *libm = NULL;
    switch (op) {
    case IR_SQRT: intrinsic = "llvm.sqrt"; break;
    case IR_ABS: intrinsic = "llvm.fabs"; break;
    case IR_FLOOR: intrinsic = "llvm.floor"; break;
    case IR_EXP: libm = "exp"; break;
    case IR_LOG: libm = "log"; break;
    case IR_TANH: libm = "tanh"; break;
    case IR_EXPM1: libm = "expm1"; break;
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

/* Operand k of an instruction must be an earlier value of LLVM type want
 * (want NULL: any type). */
static LLVMValueRef operand(LLVMValueRef *vals, uint32_t i, uint32_t k, LLVMTypeRef want)
{
    if (k >= i || !vals[k])
        return NULL;
    if (want && LLVMTypeOf(vals[k]) != want)
        return NULL;
    return vals[k];
}

/* Translates c->code into the body of step; returns 0, or -1 on a malformed
 * instruction (the caller then drops the whole module). */
static int emit_step(const emitter *e, LLVMValueRef fn, const ir_circuit *c)
{
    LLVMValueRef state = LLVMGetParam(fn, 0);
    LLVMValueRef in = LLVMGetParam(fn, 1);
    LLVMValueRef out = LLVMGetParam(fn, 2);
    LLVMValueRef *vals = calloc(c->n_code ? c->n_code : 1, sizeof *vals);
    if (!vals)
        return -1;
    LLVMValueRef status = NULL; /* the return's operand */
    /* A run of store_ifs with one guard becomes one conditional block, so a
     * tick's commit costs one branch, not a select per slot. */
    LLVMValueRef guard = NULL;
    LLVMBasicBlockRef after = NULL;
    int ok = 1;
    for (uint32_t i = 0; ok && i < c->n_code; i++) {
        const ir_inst *ins = &c->code[i];
        LLVMValueRef want_guard = ins->op == IR_STORE_IF    ? vals[ins->b]
                                  : ins->op == IR_STOREX_IF ? vals[ins->c]
                                                            : NULL;
        if (guard && (!want_guard || want_guard != guard)) {
            LLVMBuildBr(e->b, after);
            LLVMPositionBuilderAtEnd(e->b, after);
            guard = NULL;
        }
        const char *name = ins->name ? ins->name : "";
        LLVMTypeRef rt = reg_type(e, ins->type);
        LLVMValueRef a = NULL, b = NULL, v = NULL;
        switch (ins->op) {
        case IR_CONST:
            v = ins->type == IR_F64 ? const_f64(e, ins->imm)
                                    : LLVMConstInt(e->i1, ins->imm != 0, 0);
            break;
        case IR_INPUT:
            if (ins->a < c->n_inputs && c->inputs[ins->a].type == ins->type)
                v = load_var(e, in, &c->inputs[ins->a]);
            break;
        case IR_PARAM:
            if (ins->a < c->n_params && c->params[ins->a].type == ins->type)
                v = load_var(e, state, &c->params[ins->a]);
            break;
        case IR_LOAD:
            if (ins->a < c->n_state && c->state[ins->a].type == ins->type)
                v = load_var(e, state, &c->state[ins->a]);
            break;
        case IR_NEG:
            if ((a = operand(vals, i, ins->a, e->f64)) && rt == e->f64)
                v = LLVMBuildFNeg(e->b, a, name);
            break;
        case IR_ADD: case IR_SUB: case IR_MUL: case IR_DIV:
            a = operand(vals, i, ins->a, e->f64);
            b = operand(vals, i, ins->b, e->f64);
            if (!a || !b || rt != e->f64)
                break;
            switch (ins->op) {
            case IR_ADD: v = LLVMBuildFAdd(e->b, a, b, name); break;
            case IR_SUB: v = LLVMBuildFSub(e->b, a, b, name); break;
            case IR_MUL: v = LLVMBuildFMul(e->b, a, b, name); break;
            default: v = LLVMBuildFDiv(e->b, a, b, name); break;
            }
            break;
        case IR_EXP: case IR_LOG: case IR_TANH: case IR_SIN: case IR_COS: case IR_SQRT:
        case IR_ABS: case IR_FLOOR: case IR_EXPM1:
            if ((a = operand(vals, i, ins->a, e->f64)) && rt == e->f64)
                v = emit_math(e, ins->op, a, name);
            break;
        case IR_LT: case IR_LE: case IR_GT: case IR_GE: case IR_EQ: case IR_NE: {
            a = operand(vals, i, ins->a, NULL);
            b = a ? operand(vals, i, ins->b, LLVMTypeOf(a)) : NULL;
            if (!a || !b || rt != e->i1)
                break;
            if (LLVMTypeOf(a) == e->f64) {
                /* C's operators: ordered, except != which is true on NaN. */
                static const LLVMRealPredicate fp[] = {
                    [IR_LT] = LLVMRealOLT, [IR_LE] = LLVMRealOLE, [IR_GT] = LLVMRealOGT,
                    [IR_GE] = LLVMRealOGE, [IR_EQ] = LLVMRealOEQ, [IR_NE] = LLVMRealUNE,
                };
                v = LLVMBuildFCmp(e->b, fp[ins->op], a, b, name);
            } else if (ins->op == IR_EQ || ins->op == IR_NE) {
                v = LLVMBuildICmp(e->b, ins->op == IR_EQ ? LLVMIntEQ : LLVMIntNE, a, b, name);
            }
            break;
        }
        case IR_NOT:
            if ((a = operand(vals, i, ins->a, e->i1)) && rt == e->i1)
                v = LLVMBuildNot(e->b, a, name);
            break;
        case IR_AND: case IR_OR:
            a = operand(vals, i, ins->a, e->i1);
            b = operand(vals, i, ins->b, e->i1);
            if (a && b && rt == e->i1)
                v = ins->op == IR_AND ? LLVMBuildAnd(e->b, a, b, name)
                                      : LLVMBuildOr(e->b, a, b, name);
            break;
        case IR_SELECT: {
            LLVMValueRef cond = operand(vals, i, ins->a, e->i1);
            a = operand(vals, i, ins->b, rt);
            b = operand(vals, i, ins->c, rt);
            if (cond && a && b)
                v = LLVMBuildSelect(e->b, cond, a, b, name);
            break;
        }
        case IR_OUTPUT:
            if (ins->slot >= c->n_outputs ||
                !(a = operand(vals, i, ins->a, reg_type(e, c->outputs[ins->slot].type)))) {
                ok = 0;
                break;
            }
            store_val(e, out, c->outputs[ins->slot].offset, c->outputs[ins->slot].type, a);
            continue;
        case IR_STORE:
            /* Lowering puts a slot's stores after all its loads, so emitting
             * in order keeps "load = previous tick" semantics. */
            if (ins->slot >= c->n_state ||
                !(a = operand(vals, i, ins->a, reg_type(e, c->state[ins->slot].type)))) {
                ok = 0;
                break;
            }
            store_val(e, state, c->state[ins->slot].offset, c->state[ins->slot].type, a);
            continue;
        case IR_LOADX:
            if (!(a = operand(vals, i, ins->a, e->f64))) {
                ok = 0;
                break;
            }
            v = LLVMBuildLoad2(e->b, e->f64, ring_addr(e, state, c, ins, a), name);
            LLVMSetAlignment(v, 8);
            break;
        case IR_STOREX:
        case IR_STOREX_IF: {
            LLVMValueRef g = NULL;
            if (!(a = operand(vals, i, ins->a, e->f64)) || !(b = operand(vals, i, ins->b, e->f64)) ||
                (ins->op == IR_STOREX_IF && !(g = operand(vals, i, ins->c, e->i1)))) {
                ok = 0;
                break;
            }
            if (g && !guard) {
                LLVMBasicBlockRef then = LLVMAppendBasicBlockInContext(e->ctx, fn, "commit");
                after = LLVMAppendBasicBlockInContext(e->ctx, fn, "committed");
                LLVMBuildCondBr(e->b, g, then, after);
                LLVMPositionBuilderAtEnd(e->b, then);
                guard = g;
            }
            LLVMValueRef s = LLVMBuildStore(e->b, a, ring_addr(e, state, c, ins, b));
            LLVMSetAlignment(s, 8);
            continue;
        }
        case IR_STORE_IF:
            if (ins->slot >= c->n_state ||
                !(a = operand(vals, i, ins->a, reg_type(e, c->state[ins->slot].type))) ||
                !(b = operand(vals, i, ins->b, e->i1))) {
                ok = 0;
                break;
            }
            if (!guard) {
                LLVMBasicBlockRef then = LLVMAppendBasicBlockInContext(e->ctx, fn, "commit");
                after = LLVMAppendBasicBlockInContext(e->ctx, fn, "committed");
                LLVMBuildCondBr(e->b, b, then, after);
                LLVMPositionBuilderAtEnd(e->b, then);
                guard = b;
            }
            store_val(e, state, c->state[ins->slot].offset, c->state[ins->slot].type, a);
            continue;
        case IR_RETURN:
            if (status || !(status = operand(vals, i, ins->a, e->i1)))
                ok = 0;
            continue;
        case IR_NOP:
            continue;
        }
        if (!v)
            ok = 0;
        vals[i] = v;
    }
    free(vals);
    if (!ok)
        return -1;
    if (guard) {
        LLVMBuildBr(e->b, after);
        LLVMPositionBuilderAtEnd(e->b, after);
    }
    LLVMBuildRet(e->b, status ? LLVMBuildZExt(e->b, status, e->i32, "status")
                              : LLVMConstInt(e->i32, 0, 0));
    return 0;
}

static int emit_step_n(const emitter *e, const char *prefix, LLVMValueRef step,
                       const ir_circuit *c);

LLVMModuleRef cg_emit(LLVMContextRef ctx, const ir_circuit *c, const char *prefix,
                      const cg_target *t)
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

    static const char *const init_names[] = { "state" };
    static const char *const init_access[] = { "writeonly" };
    static const char *const step_names[] = { "state", "in", "out" };
    static const char *const step_access[] = { NULL, "readonly", "writeonly" };
    int ok = 0;
    LLVMValueRef init = add_function(&e, prefix, "_init", e.voidt, 1, init_names, init_access);
    if (init) {
        emit_init(&e, init, c);
        LLVMValueRef step =
            add_function(&e, prefix, "_step", e.i32, 3, step_names, step_access);
        ok = step && emit_step(&e, step, c) == 0 && emit_step_n(&e, prefix, step, c) == 0;
    }
    LLVMDisposeBuilder(e.b);
    if (!ok) {
        LLVMDisposeModule(m);
        return NULL;
    }
    return m;
}

/* <prefix>_step_n(states, n, in, out): step n instances whose blocks lie end
 * to end; returns how many reported invalid inputs. The optimizer inlines
 * the step into the loop. */
static int emit_step_n(const emitter *e, const char *prefix, LLVMValueRef step,
                       const ir_circuit *c)
{
    size_t len = strlen(prefix) + 8;
    char *name = malloc(len);
    if (!name)
        return -1;
    snprintf(name, len, "%s_step_n", prefix);
    LLVMTypeRef params[4] = { e->ptr, e->i64, e->ptr, e->ptr };
    LLVMValueRef fn = LLVMAddFunction(e->m, name, LLVMFunctionType(e->i64, params, 4, 0));
    free(name);
    LLVMSetLinkage(fn, LLVMExternalLinkage);
    add_attr(e, fn, LLVMAttributeFunctionIndex, "nounwind");
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(e->ctx, fn, "entry");
    LLVMBasicBlockRef loop = LLVMAppendBasicBlockInContext(e->ctx, fn, "loop");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(e->ctx, fn, "done");
    LLVMPositionBuilderAtEnd(e->b, entry);
    LLVMValueRef n = LLVMGetParam(fn, 1);
    LLVMValueRef zero = LLVMConstInt(e->i64, 0, 0);
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntEQ, n, zero, "empty"), done, loop);

    LLVMPositionBuilderAtEnd(e->b, loop);
    LLVMValueRef i = LLVMBuildPhi(e->b, e->i64, "i");
    LLVMValueRef bad = LLVMBuildPhi(e->b, e->i64, "bad");
    LLVMValueRef at[3];
    uint32_t sizes[3] = { c->state_size, c->in_size, c->out_size };
    LLVMValueRef bases[3] = { LLVMGetParam(fn, 0), LLVMGetParam(fn, 2), LLVMGetParam(fn, 3) };
    for (int k = 0; k < 3; k++)
        at[k] = LLVMBuildGEP2(e->b, e->i8, bases[k],
                              (LLVMValueRef[]){ LLVMBuildMul(e->b, i,
                                                             LLVMConstInt(e->i64, sizes[k], 0),
                                                             "off") },
                              1, "blk");
    LLVMTypeRef step_ty = LLVMGlobalGetValueType(step);
    LLVMValueRef r = LLVMBuildCall2(e->b, step_ty, step, at, 3, "r");
    LLVMValueRef bad2 = LLVMBuildAdd(e->b, bad, LLVMBuildZExt(e->b, r, e->i64, "r64"), "bad2");
    LLVMValueRef i2 = LLVMBuildAdd(e->b, i, LLVMConstInt(e->i64, 1, 0), "i2");
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntEQ, i2, n, "end"), done, loop);
    LLVMAddIncoming(i, (LLVMValueRef[]){ zero, i2 }, (LLVMBasicBlockRef[]){ entry, loop }, 2);
    LLVMAddIncoming(bad, (LLVMValueRef[]){ zero, bad2 }, (LLVMBasicBlockRef[]){ entry, loop }, 2);

    LLVMPositionBuilderAtEnd(e->b, done);
    LLVMValueRef total = LLVMBuildPhi(e->b, e->i64, "total");
    LLVMAddIncoming(total, (LLVMValueRef[]){ zero, bad2 }, (LLVMBasicBlockRef[]){ entry, loop }, 2);
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
    const char *pipeline = opt_level == 1 ? "default<O1>"
                         : opt_level == 2 ? "default<O2>" : "default<O3>";
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
