/* aot.h — ahead-of-time compilation: circuits to a shared object with a C
 * header (`drivec build`), through the same IR and LLVM path as the JIT, and
 * the ABI description (drive_abi.h) of a compiled circuit, which the host
 * library also builds for JIT-compiled code.
 *
 * A build is: for each circuit, cg_emit + cg_optimize for the chosen CPU and
 * an object file from LLVM; a generated C file with the reflection tables,
 * param access by index and name, and drive_module(); both linked by the
 * system C compiler ($CC, else cc) into the shared object. Artefacts are
 * cached under a hash of drivec's version, the source and every module it
 * imports, the circuits chosen and the options: building an unchanged
 * program again copies the cached files.
 *
 * Ownership: strings and tables are allocated in the compile_result's arena
 * (or the arena given); every char **err is malloc'd and freed by the caller.
 */
#ifndef DRIVE_AOT_H
#define DRIVE_AOT_H

#include "compile.h"
#include "drive_abi.h"

typedef struct aot_options {
    const char *out_so;          /* the shared object to write */
    const char *out_header;      /* the C header to write, or NULL */
    const char *cpu;             /* "generic" (x86-64, the default) or "native" */
    const char *cache_dir;       /* NULL: no cache */
} aot_options;

/* The hash that names a compiled program: drivec's and LLVM's versions, the
 * text of the file and of every module it imports, and `options` (circuits,
 * CPU, optimisation). 16 hex digits, in r's arena. */
const char *aot_source_hash(compile_result *r, const char *options);

/* The ABI description of c (fields: inputs, outputs, params, state, in that
 * order), with no entry points; names point into c. In mem. */
drive_abi_circuit *aot_describe(arena *mem, const ir_circuit *c, const char *hash);

/* The C identifier prefix of c's symbols: module and circuit names with
 * every character that is not a letter, digit or '_' made '_'. */
const char *aot_prefix(arena *mem, const ir_circuit *c);

/* A shared object written by aot_build ends with a 16-byte trailer:
 * AOT_SUM_MAGIC and the FNV-1a 64-bit hash of every byte before it,
 * little-endian. The dynamic loader ignores it; drive_load checks it before
 * dlopen, so a damaged file is refused with a message instead of crashing
 * the loader. */
#define AOT_SUM_MAGIC "DRIVESUM"

/* 1: path ends with a trailer that matches; 0: it has no trailer (not
 * written by aot_build); -1: unreadable or damaged, with why[] filled in. */
int aot_so_check(const char *path, char *why, size_t why_len);

/* Build circuits[0..n) of r into o->out_so (and o->out_header). *cached is
 * set when the files came from the cache. Returns 0, or -1 with *err. */
int aot_build(compile_result *r, ir_circuit *const *circuits, int n, const aot_options *o,
              int *cached, char **err);

/* The cache directory for build artefacts: $DRIVE_CACHE_DIR, else
 * $XDG_CACHE_HOME/drive, else $HOME/.cache/drive; NULL when none can be
 * named. The directory is created on first use. In mem. */
const char *aot_cache_dir(arena *mem);

#endif
