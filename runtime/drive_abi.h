/* drive_abi.h — the binary interface of a compiled circuit, shared by the
 * shared objects that `drivec build` writes and every host that loads them.
 *
 * A shared object built by drivec exports one function,
 *
 *     const drive_abi_module *drive_module(void);
 *
 * returning a table of the circuits it holds. Everything a generic host
 * needs is in that table: names, the source hash, the tick, the sizes of the
 * three blocks, one entry per field (inputs, outputs, params, state slots)
 * with its offset, type, shape, range and role, and the entry points. A host
 * reads `abi_version` first and refuses any other version than the one it
 * was built for. Every drivec-built object exports `drive_module`, so a
 * program that links two of them directly sees only one: load them with
 * dlopen (RTLD_LOCAL), as libdrive does, or use each circuit's own
 * <prefix>_reflect. Each circuit also has named entry points and C structs in
 * the header drivec writes beside the .so (`drivec build --header`).
 *
 * Blocks: `state`, `in` and `out` are byte blocks of the sizes given,
 * 8-byte aligned, not overlapping. Reals are doubles, bools one byte 0 or 1;
 * a vector is consecutive doubles, one field per element ("v[3]").
 *
 * Populations (step_n) are laid out in columns of length m =
 * drive_abi_columns(n) (below): the blocks of each kind of n instances take
 * m times the block's size, and the field at offset o of width w (8 for a
 * real, 1 for a bool) of instance i sits at byte o*m + w*i. Each field is
 * one array of n values, so the values of a group of instances (four or
 * eight, the lanes of step_n) are one vector load and
 * a host hands over a field of every instance as one array. m is n up to
 * 64 instances (one instance, n = 1, is the block itself); above, n padded
 * so that neighbouring columns of reals never lie a multiple of 4 KB apart:
 * with m = n = 2^17, say, every field of an instance would fall in the same
 * sets of the caches, and a population steps at a third of its speed.
 *
 * This file is plain C with no dependencies, so the generated code and any
 * host can include it; its definitions are guarded so that a generated
 * header can carry a copy.
 */
#ifndef DRIVE_ABI_DEFINED
#define DRIVE_ABI_DEFINED

#include <stddef.h>
#include <stdint.h>

/* Bumped on any change to the structs below or to the meaning of a field.
 * 2: step_n's blocks are in columns (above); in 1 they were end to end. */
#define DRIVE_ABI_VERSION 2

enum drive_abi_kind { DRIVE_ABI_INPUT = 0, DRIVE_ABI_OUTPUT = 1, DRIVE_ABI_PARAM = 2,
                      DRIVE_ABI_STATE = 3 };
enum drive_abi_type { DRIVE_ABI_REAL = 0, DRIVE_ABI_BOOL = 1 };
/* What a field means to a host (traces, checkpoints, diagrams). */
enum drive_abi_role { DRIVE_ABI_PLAIN = 0, DRIVE_ABI_LEARNED = 1, /* input: a learned feature */
                      DRIVE_ABI_REWARD = 2,                       /* output: one reward stream */
                      DRIVE_ABI_TOTAL = 3,                        /* output: the total reward */
                      DRIVE_ABI_WEIGHT = 4,                       /* state: a learned weight */
                      DRIVE_ABI_PROBE = 5 };                      /* output: an inner signal */

typedef struct drive_abi_field {
    const char *name;     /* "gain", "v[3]", "finder.w[0]" */
    const char *base;     /* the vector's name ("v"), or the same as name */
    uint32_t index, len;  /* element index and vector length (0 and 1 for a scalar) */
    uint32_t offset;      /* in its block */
    uint8_t kind;         /* drive_abi_kind: which block */
    uint8_t type;         /* drive_abi_type */
    uint8_t role;         /* drive_abi_role */
    uint8_t has_range;    /* declared `in [lo, hi]` */
    double lo, hi;
    double init;          /* params: the default; state: the initial value */
} drive_abi_field;

typedef struct drive_abi_circuit {
    uint32_t abi_version; /* DRIVE_ABI_VERSION */
    uint32_t n_fields;
    const char *module, *name;
    const char *source_hash; /* of the source, its imports and the build options */
    double tick_seconds;
    uint32_t in_size, out_size, state_size;
    uint32_t n_inputs, n_outputs, n_params, n_state; /* fields of each kind, in that order */
    const drive_abi_field *fields;
    /* Params to their defaults, every state slot to its initial value. */
    void (*init)(void *state);
    /* One tick of one instance; returns 1 when an input was invalid (not
     * finite, or outside its declared range): the outputs are written but no
     * state is kept (lang/SPEC.md). */
    int (*step)(void *state, const void *in, void *out);
    /* One tick of n instances (blocks in columns, above; the three arrays
     * must not overlap), each exactly as step would do it (usually four or
     * eight at a time, one per vector lane); returns how many had invalid
     * inputs. */
    size_t (*step_n)(void *states, size_t n, const void *in, void *out);
} drive_abi_circuit;

typedef struct drive_abi_module {
    uint32_t abi_version; /* DRIVE_ABI_VERSION */
    uint32_t n_circuits;
    const drive_abi_circuit *const *circuits;
} drive_abi_module;

typedef const drive_abi_module *(*drive_module_fn)(void);

/* The length of a population's columns (above): n up to 64, else n rounded
 * up to a multiple of 16, plus 8, which puts neighbouring real columns an
 * odd number of 64-byte lines apart. */
static inline size_t drive_abi_columns(size_t n)
{
    return n <= 64 ? n : (n + 15) / 16 * 16 + 8;
}

/* Instance i of a population of n in columns, to and from a block of its
 * own (the single-instance layout): kind is DRIVE_ABI_INPUT, _OUTPUT or
 * _STATE (params included; DRIVE_ABI_PARAM means the same block). Every
 * field of that block is copied; bytes between fields are left alone. */
static inline void drive_abi_copy_instance_(const drive_abi_circuit *c, int kind,
                                            unsigned char *cols, size_t n, size_t i,
                                            unsigned char *block, int to_cols)
{
    int state = kind == DRIVE_ABI_STATE || kind == DRIVE_ABI_PARAM;
    for (uint32_t k = 0; k < c->n_fields; k++) {
        const drive_abi_field *f = &c->fields[k];
        int fk = f->kind == DRIVE_ABI_PARAM ? DRIVE_ABI_STATE : f->kind;
        if (state ? fk != DRIVE_ABI_STATE : fk != kind)
            continue;
        size_t w = f->type == DRIVE_ABI_BOOL ? 1 : 8;
        unsigned char *col = cols + (size_t)f->offset * drive_abi_columns(n) + w * i;
        unsigned char *one = block + f->offset;
        for (size_t b = 0; b < w; b++) /* no <string.h>: this header has no dependencies */
            if (to_cols)
                col[b] = one[b];
            else
                one[b] = col[b];
    }
}

static inline void drive_abi_put_instance(const drive_abi_circuit *c, int kind, void *cols,
                                          size_t n, size_t i, const void *block)
{
    drive_abi_copy_instance_(c, kind, (unsigned char *)cols, n, i,
                             (unsigned char *)(uintptr_t)block, 1);
}

static inline void drive_abi_get_instance(const drive_abi_circuit *c, int kind, const void *cols,
                                          size_t n, size_t i, void *block)
{
    drive_abi_copy_instance_(c, kind, (unsigned char *)(uintptr_t)cols, n, i,
                             (unsigned char *)block, 0);
}

#endif
