/* ir_build.h — terse helpers for building IR circuits by hand in unit tests.
 * Everything is allocated in the builder's arena. */
#ifndef DRIVE_TEST_IR_BUILD_H
#define DRIVE_TEST_IR_BUILD_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ir.h"

typedef struct builder {
    arena *a;
    ir_circuit *c;
} builder;

static inline uint32_t E(builder *b, ir_op op, ir_type t, uint32_t x, uint32_t y, uint32_t z)
{
    return ir_emit(b->a, b->c, (ir_inst){ .op = op, .type = t, .a = x, .b = y, .c = z });
}

static inline void OUT(builder *b, const char *name, ir_type t, uint32_t v)
{
    uint32_t o = ir_add_var(b->a, b->c, IR_BLOCK_OUT, name, t, 0, NULL);
    ir_emit(b->a, b->c, (ir_inst){ .op = IR_OUTPUT, .type = t, .a = v, .slot = o });
}

static inline void STORE(builder *b, uint32_t slot, ir_type t, uint32_t v)
{
    ir_emit(b->a, b->c, (ir_inst){ .op = IR_STORE, .type = t, .a = v, .slot = slot });
}

static inline uint64_t bits_of(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

/* Bit-identical, or both NaN (drive leaves a NaN's sign and payload open). */
static inline int same_f64(double x, double y)
{
    return bits_of(x) == bits_of(y) || (isnan(x) && isnan(y));
}

#endif
