/* cgmath.c — drive's exp, expm1 and tanh emitted as LLVM IR (cgmath.h).
 *
 * Line for line runtime/rt_math.c: each builder call below is the C
 * operation of the same name there, in the same order and with the same
 * operand order. Branches in the C become selects here (in expm1's scalar,
 * branches); a select picks the value the C's branch would have computed,
 * so the bits agree.
 * tests/unit/test_math.c holds the two together. */
#include "cgmath.h"

#include "rt_math.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct mb {
    LLVMBuilderRef b;
    LLVMModuleRef m;
    LLVMTypeRef t, it;  /* double or <n x double>; i64 or <n x i64> */
    unsigned n;         /* lanes, 0 for a scalar */
    LLVMValueRef fn;    /* the function being defined */
} mb;

static LLVMValueRef splat(const mb *g, LLVMValueRef k)
{
    if (!g->n)
        return k;
    LLVMValueRef v[16];
    for (unsigned i = 0; i < g->n; i++)
        v[i] = k;
    return LLVMConstVector(v, g->n);
}

/* Exact bits, as in cg.c: through the integer, never APFloat. */
static LLVMValueRef kd(const mb *g, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    LLVMTypeRef i64 = LLVMInt64TypeInContext(LLVMGetModuleContext(g->m));
    LLVMTypeRef f64 = LLVMDoubleTypeInContext(LLVMGetModuleContext(g->m));
    return splat(g, LLVMConstBitCast(LLVMConstInt(i64, u, 0), f64));
}

static LLVMValueRef ki(const mb *g, int64_t k)
{
    LLVMTypeRef i64 = LLVMInt64TypeInContext(LLVMGetModuleContext(g->m));
    return splat(g, LLVMConstInt(i64, (unsigned long long)k, 1));
}

static LLVMValueRef add(const mb *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFAdd(g->b, a, b, ""); }
static LLVMValueRef sub(const mb *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFSub(g->b, a, b, ""); }
static LLVMValueRef mul(const mb *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFMul(g->b, a, b, ""); }
static LLVMValueRef quo(const mb *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFDiv(g->b, a, b, ""); }
static LLVMValueRef gt(const mb *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFCmp(g->b, LLVMRealOGT, a, b, ""); }
static LLVMValueRef lt(const mb *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFCmp(g->b, LLVMRealOLT, a, b, ""); }
static LLVMValueRef sel(const mb *g, LLVMValueRef c, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildSelect(g->b, c, a, b, ""); }

static LLVMValueRef intrinsic(const mb *g, const char *name, LLVMValueRef *args, unsigned n)
{
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMTypeRef t = g->t;
    LLVMValueRef fn = LLVMGetIntrinsicDeclaration(g->m, id, &t, 1);
    return LLVMBuildCall2(g->b, LLVMIntrinsicGetType(LLVMGetModuleContext(g->m), id, &t, 1), fn,
                          args, n, "");
}

/* pow2: ((uint64_t)k + 1023) << 52 as a double */
static LLVMValueRef pow2(const mb *g, LLVMValueRef k)
{
    LLVMValueRef e = LLVMBuildShl(g->b, LLVMBuildAdd(g->b, k, ki(g, 1023), ""), ki(g, 52), "");
    return LLVMBuildBitCast(g->b, e, g->t, "");
}

/* scale: v * pow2(k >> 1) * pow2(k - (k >> 1)) */
static LLVMValueRef scale(const mb *g, LLVMValueRef v, LLVMValueRef k)
{
    LLVMValueRef k1 = LLVMBuildAShr(g->b, k, ki(g, 1), "");
    return mul(g, mul(g, v, pow2(g, k1)), pow2(g, LLVMBuildSub(g->b, k, k1, "")));
}

/* reduce: returns k; r and p as in rt_math.c */
static LLVMValueRef reduce(const mb *g, LLVMValueRef x, LLVMValueRef *r, LLVMValueRef *p)
{
    LLVMValueRef t = add(g, mul(g, x, kd(g, RT_MATH_INVLN2)), kd(g, RT_MATH_SHIFT));
    LLVMValueRef kf = sub(g, t, kd(g, RT_MATH_SHIFT));
    LLVMValueRef hi = sub(g, x, mul(g, kf, kd(g, RT_MATH_LN2_HI)));
    LLVMValueRef lo = mul(g, kf, kd(g, RT_MATH_LN2_LO));
    *r = sub(g, hi, lo);
    LLVMValueRef c = sub(g, sub(g, hi, *r), lo);
    LLVMValueRef r2 = mul(g, *r, *r), r4 = mul(g, r2, r2), r8 = mul(g, r4, r4);
    LLVMValueRef a[6];
    for (int i = 0; i < 6; i++)
        a[i] = add(g, kd(g, rt_math_q[2 * i]), mul(g, kd(g, rt_math_q[2 * i + 1]), *r));
    LLVMValueRef b0 = add(g, a[0], mul(g, a[1], r2)), b1 = add(g, a[2], mul(g, a[3], r2));
    LLVMValueRef b2 = add(g, a[4], mul(g, a[5], r2));
    LLVMValueRef q = add(g, add(g, b0, mul(g, b1, r4)), mul(g, b2, r8));
    *p = add(g, mul(g, r2, q), add(g, c, mul(g, c, *r)));
    double shift = RT_MATH_SHIFT;
    uint64_t sb;
    memcpy(&sb, &shift, sizeof sb);
    return LLVMBuildSub(g->b, LLVMBuildBitCast(g->b, t, g->it, ""), ki(g, (int64_t)sb), "");
}

/* sum3: s = a + b; (s + (p + (b - (s - a)))) */
static LLVMValueRef sum3(const mb *g, LLVMValueRef a, LLVMValueRef b, LLVMValueRef p)
{
    LLVMValueRef s = add(g, a, b);
    LLVMValueRef err = sub(g, b, sub(g, s, a));
    return add(g, s, add(g, p, err));
}

static LLVMValueRef body_exp(const mb *g, LLVMValueRef x)
{
    LLVMValueRef hi = kd(g, RT_MATH_EXP_HI), lo = kd(g, RT_MATH_EXP_LO);
    LLVMValueRef xc = sel(g, gt(g, x, hi), hi, x);
    xc = sel(g, lt(g, xc, lo), lo, xc);
    LLVMValueRef r, p;
    LLVMValueRef k = reduce(g, xc, &r, &p);
    return scale(g, sum3(g, kd(g, 1.0), r, p), k);
}

/* expm1 for k > 0 and for k < 0, as rt_expm1's two last returns */
static LLVMValueRef expm1_pos(const mb *g, LLVMValueRef k, LLVMValueRef r, LLVMValueRef p)
{
    LLVMValueRef kk = sel(g, LLVMBuildICmp(g->b, LLVMIntSLT, k, ki(g, 60), ""), k, ki(g, 60));
    LLVMValueRef negk = LLVMBuildSub(g->b, ki(g, 0), kk, "");
    return scale(g, sum3(g, sub(g, kd(g, 1.0), pow2(g, negk)), r, p), k);
}

static LLVMValueRef expm1_neg(const mb *g, LLVMValueRef k, LLVMValueRef r, LLVMValueRef p)
{
    LLVMValueRef s = pow2(g, k);
    return sum3(g, sub(g, s, kd(g, 1.0)), mul(g, r, s), mul(g, p, s));
}

/* A scalar's `if (cond) return ...`: the builder goes on in the taken
 * branch; the returned block is where the function continues. */
static LLVMBasicBlockRef branch(const mb *g, LLVMValueRef cond)
{
    LLVMContextRef ctx = LLVMGetModuleContext(g->m);
    LLVMBasicBlockRef taken = LLVMAppendBasicBlockInContext(ctx, g->fn, "");
    LLVMBasicBlockRef rest = LLVMAppendBasicBlockInContext(ctx, g->fn, "");
    LLVMBuildCondBr(g->b, cond, taken, rest);
    LLVMPositionBuilderAtEnd(g->b, taken);
    return rest;
}

/* Builds the returns. A scalar branches as the C does (it would pay for
 * every path it computed); lanes compute every path and select. */
static void body_expm1(const mb *g, LLVMValueRef x)
{
    LLVMValueRef tiny = LLVMBuildAnd(g->b, gt(g, x, kd(g, -RT_MATH_TINY)),
                                     lt(g, x, kd(g, RT_MATH_TINY)), "");
    if (!g->n) {
        LLVMBasicBlockRef rest = branch(g, tiny);
        LLVMBuildRet(g->b, x);
        LLVMPositionBuilderAtEnd(g->b, rest);
    }
    LLVMValueRef hi = kd(g, RT_MATH_EXP_HI), lo = kd(g, RT_MATH_EXPM1_LO);
    LLVMValueRef xc = sel(g, gt(g, x, hi), hi, x);
    xc = sel(g, lt(g, xc, lo), lo, xc);
    LLVMValueRef r, p;
    LLVMValueRef k = reduce(g, xc, &r, &p);
    LLVMValueRef is0 = LLVMBuildICmp(g->b, LLVMIntEQ, k, ki(g, 0), "");
    LLVMValueRef ispos = LLVMBuildICmp(g->b, LLVMIntSGT, k, ki(g, 0), "");
    if (!g->n) {
        LLVMBasicBlockRef rest = branch(g, is0);
        LLVMBuildRet(g->b, add(g, r, p));
        LLVMPositionBuilderAtEnd(g->b, rest);
        rest = branch(g, ispos);
        LLVMBuildRet(g->b, expm1_pos(g, k, r, p));
        LLVMPositionBuilderAtEnd(g->b, rest);
        LLVMBuildRet(g->b, expm1_neg(g, k, r, p));
        return;
    }
    LLVMValueRef v = sel(g, ispos, expm1_pos(g, k, r, p), expm1_neg(g, k, r, p));
    v = sel(g, is0, add(g, r, p), v);
    LLVMBuildRet(g->b, sel(g, tiny, x, v));
}

static LLVMValueRef body_tanh(const mb *g, LLVMValueRef x)
{
    LLVMValueRef a = intrinsic(g, "llvm.fabs", &x, 1);
    LLVMValueRef top = kd(g, RT_MATH_TANH_HI);
    a = sel(g, gt(g, a, top), top, a);
    LLVMValueRef t = cgm_call(g->b, CGM_EXPM1, mul(g, kd(g, 2.0), a), "");
    LLVMValueRef big = gt(g, a, kd(g, RT_MATH_TANH_MID));
    LLVMValueRef d = add(g, t, kd(g, 2.0));
    LLVMValueRef e = sub(g, t, sub(g, d, kd(g, 2.0)));
    LLVMValueRef z = quo(g, sel(g, big, kd(g, 2.0), t), d);
    z = sub(g, z, quo(g, mul(g, z, e), d));
    LLVMValueRef args[2] = { sel(g, big, sub(g, kd(g, 1.0), z), z), x };
    return intrinsic(g, "llvm.copysign", args, 2);
}

LLVMValueRef cgm_call(LLVMBuilderRef b, cgm_fn f, LLVMValueRef a, const char *name)
{
    LLVMTypeRef t = LLVMTypeOf(a);
    LLVMValueRef cur = LLVMGetBasicBlockParent(LLVMGetInsertBlock(b));
    LLVMModuleRef m = LLVMGetGlobalParent(cur);
    LLVMContextRef ctx = LLVMGetModuleContext(m);
    LLVMTypeRef f64 = LLVMDoubleTypeInContext(ctx), i64 = LLVMInt64TypeInContext(ctx);
    unsigned n = 0;
    if (LLVMGetTypeKind(t) == LLVMVectorTypeKind) {
        n = LLVMGetVectorSize(t);
        if (LLVMGetElementType(t) != f64 || n == 0 || n > 16)
            return NULL;
    } else if (t != f64) {
        return NULL;
    }
    static const char *const names[] = { "exp", "expm1", "tanh" };
    char fname[48];
    if (n)
        snprintf(fname, sizeof fname, "drive.%s.v%uf64", names[f], n);
    else
        snprintf(fname, sizeof fname, "drive.%s.f64", names[f]);
    LLVMTypeRef fty = LLVMFunctionType(t, &t, 1, 0);
    LLVMValueRef fn = LLVMGetNamedFunction(m, fname);
    if (!fn) {
        fn = LLVMAddFunction(m, fname, fty);
        LLVMSetLinkage(fn, LLVMPrivateLinkage);
        /* Inlined (cg_optimize runs always-inline): a function of its own
         * would cost LLVM's whole code generator pipeline once more per
         * module, a quarter of the stdlib's compile time for five calls. */
        static const char *const attrs[] = { "nounwind", "alwaysinline" };
        for (int i = 0; i < 2; i++) {
            unsigned kind = LLVMGetEnumAttributeKindForName(attrs[i], strlen(attrs[i]));
            LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                                    LLVMCreateEnumAttribute(ctx, kind, 0));
        }
        mb g = { LLVMCreateBuilderInContext(ctx), m, t, n ? LLVMVectorType(i64, n) : i64, n, fn };
        LLVMPositionBuilderAtEnd(g.b, LLVMAppendBasicBlockInContext(ctx, fn, "entry"));
        LLVMValueRef x = LLVMGetParam(fn, 0);
        if (f == CGM_EXPM1)
            body_expm1(&g, x);
        else
            LLVMBuildRet(g.b, f == CGM_EXP ? body_exp(&g, x) : body_tanh(&g, x));
        LLVMDisposeBuilder(g.b);
    }
    return LLVMBuildCall2(b, fty, fn, &a, 1, name);
}
