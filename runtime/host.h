/* host.h — inside the host library (drive.h): the structs behind its
 * handles and the helpers its files share. Not installed.
 *
 * Ownership: a drive_circuit owns what `release` frees (a dlopen handle, or
 * the JIT and the compilation behind it) and its origin string; a drive_pop
 * owns its three block arrays.
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
    unsigned char *in, *out, *state; /* n blocks each, 8-byte aligned, zeroed at first */
    uint64_t ticks;                  /* steps taken since creation or a full reset */
};

/* A circuit over a description (and code) that the caller owns and keeps
 * alive until drive_circuit_free: the REPL's JIT-compiled circuits, which
 * it redefines in place. origin is a static string. */
drive_circuit *host_wrap(const drive_abi_circuit *abi, const char *origin);

/* Set the message drive_last_error() returns (printf-style). Always returns
 * -1, so a failing function can `return host_fail(...)`. */
int host_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The block of instance i holding field f (by the field's kind). */
unsigned char *host_block(const drive_pop *p, size_t i, const drive_field *f);

/* FNV-1a, 64 bits, continued from h (start with HOST_HASH_INIT). */
#define HOST_HASH_INIT 14695981039346656037ull
uint64_t host_hash(uint64_t h, const void *data, size_t len);

#endif
