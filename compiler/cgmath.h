/* cgmath.h — drive's exp, expm1 and tanh as LLVM IR.
 *
 * The same sequence of IEEE operations as runtime/rt_math.c, written with
 * LLVM's builder, so that compiled code and the interpreter agree bit for
 * bit. The operand may be a double or a vector of doubles (the lanes of a
 * population). Where the C branches, a scalar branches too and the vector
 * computes each path and selects per lane, so each lane gets exactly the
 * scalar function's bits.
 *
 * Ownership: the function is defined (private, once per module and type)
 * in the module of the builder's insertion block; nothing is allocated
 * beyond what LLVM owns with the module.
 */
#ifndef DRIVE_CGMATH_H
#define DRIVE_CGMATH_H

#include <llvm-c/Core.h>

typedef enum { CGM_EXP, CGM_EXPM1, CGM_TANH } cgm_fn;

/* A call of f on a at the builder's position; NULL when a is neither a
 * double nor a vector of doubles. */
LLVMValueRef cgm_call(LLVMBuilderRef b, cgm_fn f, LLVMValueRef a, const char *name);

#endif
