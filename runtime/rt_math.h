/* rt_math.h — drive's own exp, expm1 and tanh.
 *
 * The C library's exp rounds differently from one libm to the next, and a
 * vector version of it (four or eight instances in one register) rounds differently
 * from the scalar one. drive's numbers must be the same in the interpreter,
 * the JIT, a shared object and their population lanes, on any machine. So
 * these three functions are drive's own: a fixed sequence of IEEE-754 double
 * operations (add, subtract, multiply, divide, compare and select, and
 * integer moves of exponent bits), which every back end performs in the same
 * order. compiler/cgmath.c emits the same sequence as LLVM IR, scalar or
 * vector; tests/unit/test_math.c checks the two agree bit for bit and
 * measures the error against long double.
 *
 * Accuracy: the largest errors found over 35 million arguments (random,
 * and near every boundary of the algorithm) are exp 0.78 ulp, expm1 1.13,
 * tanh 2.06 (this machine's C library: 0.51, 0.87, 2.2); the test holds
 * them under 0.8, 1.2 and 2.1 over its own sample.
 * Special values are IEEE's: exp(-inf) = 0, exp(+inf) = +inf,
 * expm1(-inf) = -1, tanh(+-inf) = +-1, NaN in NaN out, and signed zeros
 * kept by expm1 and tanh.
 *
 * log, sin and cos remain the C library's (see ir.h).
 *
 * The algorithm, shared with cgmath.c:
 *   k = x / ln 2 rounded to nearest (by adding and subtracting 1.5 * 2^52),
 *   r + c = (x - k * LN2_HI) - k * LN2_LO, |r| <= ln(2) / 2, c the rounding
 *   error of r,
 *   e^(r + c) - 1 - r = p = r^2 q(r) + c (1 + r), q the Taylor series of
 *   (e^r - 1 - r) / r^2 to r^11 / 13!, by Estrin's scheme,
 *   e^x = 2^k (1 + r + p), 1 + r summed with its rounding error (Dekker),
 *   the power of two as two exact factors so that subnormal and
 *   overflowing results round once; expm1 and tanh from the same pieces.
 *
 * Ownership: plain functions of one double; nothing is allocated.
 */
#ifndef DRIVE_RT_MATH_H
#define DRIVE_RT_MATH_H

double rt_exp(double x);
double rt_expm1(double x);
double rt_tanh(double x);

/* The constants of the algorithm, for the LLVM emitter. */
enum { RT_MATH_TERMS = 12 };                     /* q's coefficients, 1/2! .. 1/13! */
extern const double rt_math_q[RT_MATH_TERMS];
#define RT_MATH_INVLN2 0x1.71547652b82fep+0
#define RT_MATH_SHIFT 0x1.8p52                    /* adding it rounds to an integer */
#define RT_MATH_LN2_HI 0x1.62e42fefa0000p-1       /* 36 bits: k * LN2_HI is exact */
#define RT_MATH_LN2_LO 0x1.cf79abc9e3b3ap-40      /* ln 2 - LN2_HI */
#define RT_MATH_EXP_HI 709.8                      /* e^x overflows above */
#define RT_MATH_EXP_LO -745.2                     /* and is 0 below */
#define RT_MATH_EXPM1_LO -40.0                    /* e^x - 1 rounds to -1 below */
#define RT_MATH_TINY 0x1p-54                      /* e^x - 1 rounds to x below */
#define RT_MATH_TANH_MID 0.55                     /* tanh: which of two forms */
#define RT_MATH_TANH_HI 20.0                      /* tanh rounds to 1 above */

#endif
