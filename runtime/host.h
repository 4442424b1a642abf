/* host.h — inside the host library (drive.h): the structs behind its
 * handles and the helpers its files share. Not installed.
 *
 * Ownership: a drive_circuit owns what `release` frees (a dlopen handle, or
 * the JIT and the compilation behind it) and its origin string; a drive_pop
 * owns its three block arrays, each holding its n instances in columns
 * (drive_abi.h).
 */
#ifndef DRIVE_HOST_H
#define DRIVE_HOST_H

#include <stdarg.h>

#include "drive.h"

struct drive_circuit {
    const drive_abi_circuit *abi; /* description and entry points */
    const char *origin;           /* "jit", "so" or "cache" */
    void *owned;                  /* what release frees */
    void (*release)(drive_circuit *c);
    int n_pops;                   /* live populations (freeing the circuit first is a bug) */
};

struct drive_pop {
    drive_circuit *c;
    size_t n;
    size_t cols;                     /* the columns' length, drive_abi_columns(n) */
    unsigned char *in, *out, *state; /* n instances in columns, 8-byte aligned, zeroed at first */
    uint64_t ticks;                  /* steps taken since creation or a full reset */
};

/* A circuit over a description (and code) that the caller owns and keeps
 * alive until drive_circuit_free: the REPL's JIT-compiled circuits, which
 * it redefines in place. origin is a static string. */
drive_circuit *host_wrap(const drive_abi_circuit *abi, const char *origin);

/* Set the message drive_last_error() returns (printf-style). Always returns
 * -1, so a failing function can `return host_fail(...)`. */
int host_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The address of field f of instance i: in the block of f's kind, f's
 * column (drive_abi.h) at offset * cols, then the instance's place in
 * it. f must be a field of p's circuit. */
unsigned char *host_field(const drive_pop *p, size_t i, const drive_field *f);

/* One instance moved between the columns and a block of its own in the
 * single-instance layout (drive_pop_read_block, checkpoints, init). A
 * layout lists a block kind's bytes as runs of units: a real field is a
 * unit of 8 bytes, a bool one of 1, and so is every byte no field covers
 * (padding), kept at b * n + i as if it were a bool. That map is one to one
 * over the n * size bytes, so a block read out and written back is bit for
 * bit what was there, padding included. Fields lying outside the block or
 * over another field are left out (a malformed description is not trusted
 * with memory). */
typedef struct host_run {
    uint32_t offset; /* of the first unit in the block */
    uint32_t count;  /* consecutive units */
    uint32_t width;  /* 8 or 1 bytes each */
} host_run;

typedef struct host_layout {
    host_run *runs;
    size_t n_runs;
    size_t size; /* bytes of one instance's block */
} host_layout;

/* The layout of a's block of that kind (PARAM and STATE: the state block).
 * 0, or -1 with a message when out of memory. Free with host_layout_free. */
int host_layout_make(const drive_abi_circuit *a, int kind, host_layout *l);
void host_layout_free(host_layout *l);
/* Copy instance i of the columns `cols` (of length m, drive_pop's cols;
 * layout l) into block, or block into it. */
void host_gather(const unsigned char *cols, size_t m, const host_layout *l, size_t i,
                 unsigned char *block);
void host_scatter(unsigned char *cols, size_t m, const host_layout *l, size_t i,
                  const unsigned char *block);

/* FNV-1a, 64 bits, continued from h (start with HOST_HASH_INIT). */
#define HOST_HASH_INIT 14695981039346656037ull
uint64_t host_hash(uint64_t h, const void *data, size_t len);

#endif
