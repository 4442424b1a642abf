/* rt.c — field access and number formatting shared by every host. */
#include "rt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double rt_get(const void *block, const rt_field *f)
{
    const unsigned char *p = (const unsigned char *)block + f->offset;
    if (f->kind == RT_BOOL)
        return *p != 0;
    double d;
    memcpy(&d, p, sizeof d);
    return d;
}

int rt_same(const void *a, const void *b, const rt_field *f)
{
    const unsigned char *pa = (const unsigned char *)a + f->offset;
    const unsigned char *pb = (const unsigned char *)b + f->offset;
    if (f->kind == RT_BOOL)
        return *pa == *pb;
    double x = rt_get(a, f), y = rt_get(b, f);
    return memcmp(pa, pb, sizeof x) == 0 || (isnan(x) && isnan(y));
}

void rt_set(void *block, const rt_field *f, double v)
{
    unsigned char *p = (unsigned char *)block + f->offset;
    if (f->kind == RT_BOOL)
        *p = v != 0;
    else
        memcpy(p, &v, sizeof v);
}

const char *rt_fmt_f64(char *buf, double d)
{
    if (isnan(d))
        return strcpy(buf, "nan");
    if (isinf(d))
        return strcpy(buf, d < 0 ? "-inf" : "inf");
    /* The shortest precision that round-trips: traces stay exact and short. */
    int prec = 1;
    for (; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    /* Plain notation for ordinary magnitudes: "1000", not "1e+03". */
    double m = fabs(d);
    if (strchr(buf, 'e') && m >= 1e-4 && m < 1e16) {
        int exp10 = (int)floor(log10(m));
        int decimals = prec - 1 - exp10;
        snprintf(buf, 32, "%.*f", decimals > 0 ? decimals : 0, d);
    }
    return buf;
}
