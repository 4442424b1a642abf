/* ir.h — the typed, flat intermediate representation of one circuit.
 *
 * A circuit's step is a straight-line list of instructions. Instruction i
 * defines value %i (SSA: each value is defined once, before any use). Values
 * are f64 or bool. The step also returns a status, 0 or 1 (IR_RETURN).
 * Memory is three byte blocks laid out like C structs:
 *   in    — inputs, read-only during a step;
 *   out   — outputs, written once each per step;
 *   state — per-instance: params (settable by the host) and state slots
 *           (values carried to the next tick), initialised by init.
 * Bools are stored as one byte (0 or 1); reals as 8-byte IEEE doubles.
 *
 * The interpreter (interp.h) is the executable specification of these
 * semantics; the LLVM back end (cg.h) must agree with it bit for bit.
 *
 * Ownership: an ir_circuit and everything it points to lives in the arena it
 * was built in.
 */
#ifndef DRIVE_IR_H
#define DRIVE_IR_H

#include <stdint.h>
#include <stdio.h>

#include "arena.h"

typedef enum { IR_F64, IR_BOOL } ir_type;

typedef enum {
    /* leaves */
    IR_CONST,    /* imm (f64) or imm != 0 (bool) */
    IR_INPUT,    /* load in[var a] */
    IR_PARAM,    /* load state[param a] */
    IR_LOAD,     /* load state[slot a] (value of the previous tick) */
    IR_LOADX,    /* load state[slot + i], i = %a as a whole number in [0, imm)
                  * (anything else reads slot + 0): a ring buffer's entry */
    /* f64 arithmetic (strict IEEE, no reassociation, no contraction) */
    IR_NEG, IR_ADD, IR_SUB, IR_MUL, IR_DIV,
    /* f64 math, one operand, result f64: exactly drive's exp, tanh and
     * expm1 (rt_math.h) and the C library's log, sin, cos, sqrt, fabs and
     * floor of this process (libm), so every back end and the folder agree
     * bit for bit */
    IR_EXP, IR_LOG, IR_TANH, IR_SIN, IR_COS, IR_SQRT, IR_ABS, IR_FLOOR, IR_EXPM1,
    /* comparisons: operands of one type (f64 or bool), result bool.
     * LT..GE and EQ are ordered (false on NaN); NE is unordered (true on NaN),
     * exactly as C's operators. */
    IR_LT, IR_LE, IR_GT, IR_GE, IR_EQ, IR_NE,
    /* bool logic (both operands are always evaluated: there are no effects) */
    IR_NOT, IR_AND, IR_OR,
    IR_SELECT,   /* a ? b : c, b and c of the result type */
    /* effects (no result value) */
    IR_OUTPUT,   /* out[var slot] = %a */
    IR_STORE,    /* state[slot slot] = %a, visible to IR_LOAD next tick */
    IR_STORE_IF, /* the same, only when bool %b is true (the commit of a tick
                  * whose inputs were valid: back ends branch once around a
                  * run of these with one guard) */
    IR_STOREX,   /* state[slot + i] = %a, i = %b as for IR_LOADX, range imm */
    IR_STOREX_IF,/* the same, only when bool %c is true */
    IR_RETURN,   /* the step's status: 1 when bool %a is true, else 0; at most
                  * one per circuit (none: status 0) */
    IR_NOP       /* removed by a pass; dropped when the list is compacted */
} ir_op;

typedef struct ir_inst {
    ir_op op;
    ir_type type;      /* result type; for OUTPUT/STORE the stored type */
    uint32_t a, b, c;  /* operand value numbers, or a var index for leaves */
    uint32_t slot;     /* OUTPUT: output index; STORE: state slot index */
    double imm;        /* CONST */
    const char *name;  /* optional: the source signal this value is */
} ir_inst;

/* What a var means to a host (reflection, traces, diagrams). */
typedef enum {
    IR_ROLE_PLAIN,    /* an ordinary input, output, param or state slot */
    IR_ROLE_LEARNED,  /* input: a learned feature (from the learning side) */
    IR_ROLE_REWARD,   /* output: one reward stream */
    IR_ROLE_TOTAL,    /* output: the circuit's total reward (sum of streams) */
    IR_ROLE_WEIGHT,   /* state: a predictor weight or bias (learned state) */
    IR_ROLE_PROBE     /* output: a copy of an inner signal, for hosts that watch it */
} ir_role;

/* A named location in one of the three blocks. Vectors are stored as
 * consecutive scalar vars named "x[0]", "x[1]", ...; each element records
 * its vector's name, its index and the vector's length (len 0: a scalar). */
typedef struct ir_var {
    const char *name;
    ir_type type;
    uint32_t offset;   /* byte offset in its block */
    double init;       /* params: default; state: value before the first tick */
    const char *note;  /* state: what it holds, e.g. "pre(arousal)" */
    const char *base;  /* vector element: the vector's name; else name */
    uint32_t index, len;
    int has_range;     /* inputs and params declared `in [lo, hi]` */
    int is_dur;        /* a duration param (seconds) */
    double lo, hi;
    ir_role role;
} ir_var;

typedef struct ir_circuit {
    const char *module;
    const char *name;
    double tick_seconds;

    ir_var *inputs;  uint32_t n_inputs;
    ir_var *outputs; uint32_t n_outputs;
    ir_var *params;  uint32_t n_params;   /* live in the state block */
    ir_var *state;   uint32_t n_state;    /* live in the state block */
    uint32_t in_size, out_size, state_size;
    uint32_t cap_vars[4]; /* capacity of each var array, by IR_BLOCK_* */

    ir_inst *code;   uint32_t n_code, cap_code;
} ir_circuit;

/* Building (used by lowering and passes). */
ir_circuit *ir_new(arena *a, const char *module, const char *name, double tick);
uint32_t ir_add_var(arena *a, ir_circuit *c, int block, const char *name,
                    ir_type t, double init, const char *note);
enum { IR_BLOCK_IN, IR_BLOCK_OUT, IR_BLOCK_PARAM, IR_BLOCK_STATE };
uint32_t ir_emit(arena *a, ir_circuit *c, ir_inst inst);
/* Compute offsets and block sizes (C struct rules; in the state block all
 * f64 vars come first, then the bools, so padding is only at the end). */
void ir_layout(ir_circuit *c);

/* A population lies in columns (drive_abi.h): the field at offset o, of
 * width w (8 for a real, 1 for a bool), of instance i of n is at byte
 * o*m + w*i of its kind's array, m = drive_abi_columns(n) (m = n up to 64
 * instances). ir_copy_instance copies instance i's block
 * of that kind (IR_BLOCK_IN, IR_BLOCK_OUT, or IR_BLOCK_STATE, params
 * included) between the columns and a block of its own, one: into the
 * columns when to_cols, else out of them. Bytes between fields are left. */
void ir_copy_instance(const ir_circuit *c, int block, void *cols, size_t n, size_t i, void *one,
                      int to_cols);

/* A deep copy of c in a (names and notes too), for a host that keeps a
 * circuit beyond its compilation's arena. */
ir_circuit *ir_clone(arena *a, const ir_circuit *c);

/* Inspecting. */
int ir_has_result(ir_op op);
int ir_n_operands(ir_op op); /* value operands among a, b, c */
const char *ir_op_name(ir_op op);
const char *ir_type_name(ir_type t);

/* The state range an indexed op (IR_LOADX, IR_STOREX[_IF]) may touch:
 * slots [in->slot, in->slot + ir_range_len(in)), all f64, consecutive. */
uint32_t ir_range_len(const ir_inst *in);
/* The slot an index value selects (the same rule in every back end). */
static inline uint32_t ir_index(double i, uint32_t len)
{
    return i >= 0 && i < (double)len ? (uint32_t)i : 0;
}

/* Textual form, used by `drivec ir` and golden tests. */
void ir_print(FILE *f, const ir_circuit *c);

/* Structural check: operands defined before use, types consistent, every
 * output written exactly once, at most one return, var indices in range.
 * Returns NULL when the
 * circuit is well formed, else a message (allocated in a). */
const char *ir_verify(arena *a, const ir_circuit *c);

/* Shortest decimal text that reads back as exactly d ("0.1", "1e-300",
 * "-0", "inf", "nan"). buf must hold at least 32 bytes. */
const char *ir_fmt_f64(char *buf, double d);

#endif
