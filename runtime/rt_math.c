/* rt_math.c — drive's exp, expm1 and tanh (see rt_math.h for why and how).
 *
 * Every line is one IEEE operation in a fixed order: no multiply and add
 * may be fused. The build says so with -ffp-contract=off (runtime/
 * CMakeLists.txt, for this file whatever the project's flags); clang's
 * default honours the pragma below, but gcc ignores it and -ffp-contract=
 * fast (gcc's default outside ISO C on a CPU with FMA) would change the
 * bits, which tests/unit/test_math.c would report. compiler/cgmath.c is
 * the same sequence in LLVM IR: a change here is a change there. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include "rt_math.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

const double rt_math_q[RT_MATH_TERMS] = {
    0x1.0000000000000p-1,  0x1.5555555555555p-3,  0x1.5555555555555p-5,  0x1.1111111111111p-7,
    0x1.6c16c16c16c17p-10, 0x1.a01a01a01a01ap-13, 0x1.a01a01a01a01ap-16, 0x1.71de3a556c734p-19,
    0x1.27e4fb7789f5cp-22, 0x1.ae64567f544e4p-26, 0x1.1eed8eff8d898p-29, 0x1.6124613a86d09p-33,
};

static uint64_t bits_of(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static double of_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* 2^k for k in [-1022, 1023]; other k give other bits, used only on paths
 * whose result is NaN or not taken. Unsigned, so no k overflows. */
static double pow2(int64_t k) { return of_bits(((uint64_t)k + 1023) << 52); }

/* v * 2^k as two exact powers of two: v * 2^(k/2) cannot overflow or go
 * subnormal for the k used here, so the product rounds once. */
static double scale(double v, int64_t k)
{
    int64_t k1 = k >> 1;
    return v * pow2(k1) * pow2(k - k1);
}

/* x = k ln 2 + r + c, |r| <= ln(2) / 2 and c the rounding error of r;
 * returns k. *p is e^(r + c) - 1 - r to a little more than double
 * precision. */
static int64_t reduce(double x, double *r, double *p)
{
    double t = x * RT_MATH_INVLN2 + RT_MATH_SHIFT;
    double kf = t - RT_MATH_SHIFT;
    double hi = x - kf * RT_MATH_LN2_HI;
    double lo = kf * RT_MATH_LN2_LO;
    *r = hi - lo;
    double c = (hi - *r) - lo;
    /* q(r) by Estrin's scheme: pairs, then pairs of pairs, so that the
     * chain of dependent operations is 4 deep instead of Horner's 11 */
    const double *k = rt_math_q;
    double r2 = *r * *r, r4 = r2 * r2, r8 = r4 * r4;
    double a0 = k[0] + k[1] * *r, a1 = k[2] + k[3] * *r, a2 = k[4] + k[5] * *r;
    double a3 = k[6] + k[7] * *r, a4 = k[8] + k[9] * *r, a5 = k[10] + k[11] * *r;
    double b0 = a0 + a1 * r2, b1 = a2 + a3 * r2, b2 = a4 + a5 * r2;
    double q = (b0 + b1 * r4) + b2 * r8;
    *p = r2 * q + (c + c * *r); /* e^(r + c) ~ e^r (1 + c) ~ e^r + c (1 + r) */
    return (int64_t)(bits_of(t) - bits_of(RT_MATH_SHIFT));
}

/* a + b + p with a's and b's sum exact (|a| >= |b|: Dekker's fast two-sum
 * recovers the rounding error of a + b), so that the result rounds about
 * once instead of twice. */
static double sum3(double a, double b, double p)
{
    double s = a + b;
    double err = b - (s - a);
    return s + (p + err);
}

double rt_exp(double x)
{
    double xc = x > RT_MATH_EXP_HI ? RT_MATH_EXP_HI : x; /* NaN stays NaN */
    xc = xc < RT_MATH_EXP_LO ? RT_MATH_EXP_LO : xc;
    double r, p;
    int64_t k = reduce(xc, &r, &p);
    return scale(sum3(1.0, r, p), k);
}

double rt_expm1(double x)
{
    if (x > -RT_MATH_TINY && x < RT_MATH_TINY)
        return x; /* keeps -0 */
    double xc = x > RT_MATH_EXP_HI ? RT_MATH_EXP_HI : x;
    xc = xc < RT_MATH_EXPM1_LO ? RT_MATH_EXPM1_LO : xc;
    double r, p;
    int64_t k = reduce(xc, &r, &p);
    if (k == 0)
        return r + p;
    if (k > 0) /* 2^k ((1 - 2^-k) + r + p), |1 - 2^-k| >= 1/2 > |r| */
        return scale(sum3(1.0 - pow2(-(k < 60 ? k : 60)), r, p), k);
    /* k >= -58: 2^k is normal and each product exact; 2^k - 1 is exact for
     * k >= -53, and below that its rounding to -1 costs under 0.71 ulp */
    double s = pow2(k);
    return sum3(s - 1.0, r * s, p * s);
}

/* tanh a = t / (t + 2), t = e^2a - 1, and away from 0 as 1 - 2 / (t + 2),
 * where the error of t shrinks in the quotient. The
 * rounding error of t + 2 (exact by Dekker's fast two-sum, t < 2.01)
 * corrects the quotient: n / (d + e) ~ n / d - (n / d) e / d. */
double rt_tanh(double x)
{
    double a = fabs(x);
    a = a > RT_MATH_TANH_HI ? RT_MATH_TANH_HI : a; /* tanh is 1 there; t stays finite */
    double t = rt_expm1(2.0 * a);
    int big = a > RT_MATH_TANH_MID;
    double d = t + 2.0;
    double e = t - (d - 2.0);
    double z = (big ? 2.0 : t) / d;
    z = z - z * e / d;
    return copysign(big ? 1.0 - z : z, x);
}
