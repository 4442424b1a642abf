/* refs_common.h — the building blocks of the hand-written baselines: the
 * language's min, max and clamp (NaN when an argument is NaN, ties to the
 * first), its fixed summation order for sum and dot, sigmoid and alpha,
 * written as a C programmer would, in the operations SPEC.md names. exp and
 * expm1 are drive's (rt_math.h), called as the C library's would be. */
#ifndef BENCH_REFS_COMMON_H
#define BENCH_REFS_COMMON_H

#include <math.h>
#include <string.h>

#include "rt_math.h"

static inline double max_(double a, double b)
{
    return a != a || b != b ? a + b : b > a ? b : a;
}

static inline double min_(double a, double b)
{
    return a != a || b != b ? a + b : b < a ? b : a;
}

static inline double clamp_(double v, double lo, double hi) { return min_(max_(v, lo), hi); }

/* sum: lane k adds v[k], v[k+8], ... in turn; the lanes combine as
 * (0+4, 1+5, 2+6, 3+7), (0+2, 1+3), (0+1). */
static inline __attribute__((always_inline)) double sum_fixed(const double *v, int n)
{
    double lane[8];
    int have = n < 8 ? n : 8;
    for (int k = 0; k < have; k++) {
        lane[k] = v[k];
        for (int i = k + 8; i < n; i += 8)
            lane[k] = lane[k] + v[i];
    }
    for (int w = 4; w >= 1; w /= 2)
        for (int k = 0; k < w; k++)
            if (k + w < have)
                lane[k] = lane[k] + lane[k + w];
    return lane[0];
}

/* dot of 8 and of 4: the same order, written out. */
static inline double dot8(const double *a, const double *b)
{
    double l0 = a[0] * b[0] + a[4] * b[4], l1 = a[1] * b[1] + a[5] * b[5];
    double l2 = a[2] * b[2] + a[6] * b[6], l3 = a[3] * b[3] + a[7] * b[7];
    return (l0 + l2) + (l1 + l3);
}

static inline double dot4(const double *a, const double *b)
{
    return (a[0] * b[0] + a[2] * b[2]) + (a[1] * b[1] + a[3] * b[3]);
}

static inline double sigmoid_(double x) { return 1 / (1 + rt_exp(-x)); }

/* alpha(tau) = 1 - exp(-dt / tau), as -expm1(-dt / tau). */
static inline double alpha_(double dt, double tau) { return -rt_expm1(-dt / tau); }

static inline int finite_(double x) { return x - x == 0; }
static inline int in_(double x, double lo, double hi) { return lo <= x && x <= hi; }

#endif
