/* drive.h — the drive host library (libdrive): use a compiled circuit from
 * your own program, simulator or RL loop.
 *
 *   drive_circuit   code and description of one circuit: loaded from a shared
 *                   object built by `drivec build` (drive_load), or compiled
 *                   from a .drive source in-process (drive_compile). Both give
 *                   the same handle and bit-identical results.
 *   drive_pop       a population: n instances of one circuit, each with its
 *                   own inputs, outputs and state (params live in the state
 *                   block, so each instance has its own), held in columns: a
 *                   field of every instance is one array (drive_pop_column).
 *                   A single instance is a population of 1.
 *   drive_trace     a CSV trace of one instance, a row per recorded tick.
 *   checkpoints     the whole state of a population (params, predictor
 *                   weights, reflex timers, histories) saved to a file and
 *                   restored, atomically and checked.
 *
 * Fields are addressed by index (drive_find gives it from a name): the
 * description lists inputs, then outputs, then params, then state slots
 * (drive_abi.h). Values are doubles on this side (bools as 0/1).
 *
 * Errors: a function that fails returns NULL, -1 or (size_t)-1 and leaves a
 * message for drive_last_error(); messages name the file, circuit and field
 * concerned. The library is not thread-safe for one handle; separate handles
 * may be used from separate threads.
 *
 * Ownership: drive_circuit_free frees a circuit (its populations must be
 * freed first); drive_pop_free frees a population and its blocks;
 * drive_trace_close flushes, closes and frees a trace. Strings returned by
 * the library belong to it and stay valid as long as their owner.
 */
#ifndef DRIVE_H
#define DRIVE_H

#include <stddef.h>
#include <stdint.h>

#include "drive_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct drive_circuit drive_circuit;
typedef struct drive_pop drive_pop;
typedef struct drive_trace drive_trace;
typedef drive_abi_field drive_field;

/* The message of the last failure on this thread ("" if none). */
const char *drive_last_error(void);

/* ---- loading -------------------------------------------------------------- */

/* Load circuit `name` (NULL: the only one) from a shared object built by
 * drivec build. Fails on a file that is not such an object, on another ABI
 * version (the message names both), or on an unknown circuit (the message
 * lists the ones there are). */
drive_circuit *drive_load(const char *so_path, const char *name);

/* Options of drive_compile, or'ed. */
enum {
    DRIVE_NO_CACHE = 1,   /* neither read nor write the artefact cache */
    DRIVE_OPT0 = 2        /* no optimisation (faster to compile, slower to run) */
};

/* Compile circuit `name` (NULL: the only one) of the .drive file at path.
 * include_path: extra module directories, colon-separated (or NULL).
 * Diagnostics, when it does not compile, are the message of the failure.
 * With the cache (the default), an unchanged program (same source, imported
 * modules, circuit and options) is loaded from a shared object built the first
 * time, so reloading costs nothing; see drive_cache_dir. */
drive_circuit *drive_compile(const char *path, const char *name, const char *include_path,
                             unsigned flags);

/* Where compiled artefacts are cached: $DRIVE_CACHE_DIR, else
 * $XDG_CACHE_HOME/drive, else $HOME/.cache/drive. */
const char *drive_cache_dir(void);

void drive_circuit_free(drive_circuit *c);

/* ---- reflection ----------------------------------------------------------- */

const char *drive_module_name(const drive_circuit *c);
const char *drive_circuit_name(const drive_circuit *c);
const char *drive_source_hash(const drive_circuit *c);
/* "jit", "so" (loaded with drive_load) or "cache" (drive_compile, cached). */
const char *drive_origin(const drive_circuit *c);
double drive_tick(const drive_circuit *c);
size_t drive_in_size(const drive_circuit *c);
size_t drive_out_size(const drive_circuit *c);
size_t drive_state_size(const drive_circuit *c);
uint32_t drive_n_fields(const drive_circuit *c);
const drive_field *drive_field_at(const drive_circuit *c, uint32_t i);
/* The index of the field of that kind (drive_abi_kind, or -1 for any kind)
 * with that name; a vector's name ("v") gives its first element. -1 and a
 * message (with a suggestion) when there is none. */
int drive_find(const drive_circuit *c, int kind, const char *name);

/* ---- populations ---------------------------------------------------------- */

/* n >= 1 instances, each initialised (params at their defaults), inputs 0. */
drive_pop *drive_pop_new(drive_circuit *c, size_t n);
void drive_pop_free(drive_pop *p);
drive_circuit *drive_pop_circuit(const drive_pop *p);
size_t drive_pop_size(const drive_pop *p);
/* Initialise instance i again ((size_t)-1: all): params to defaults. An
 * instance outside the population, or no memory for the block to initialise
 * into, leaves the population as it was with a message for
 * drive_last_error(). */
void drive_pop_reset(drive_pop *p, size_t i);

/* The raw blocks the circuit steps (step_n of drive_abi.h), owned by the
 * population and valid until drive_pop_free. Each holds n instances in
 * COLUMNS of length m = drive_pop_columns(p), m times drive_*_size bytes in
 * all: the field at offset o of width w (8 for a real, 1 for a bool) of
 * instance i is at byte o*m + w*i, so a field of every instance is n
 * consecutive values (drive_pop_column). m is n up to 64 instances, a
 * little more above (drive_abi_columns: columns a multiple of 4 KB apart
 * would share the caches' sets); for n = 1 this is the single-instance
 * block of drive_abi.h. Bytes no field covers are padding. Writes here
 * bypass every check of drive_set. */
void *drive_pop_inputs(drive_pop *p);
void *drive_pop_outputs(drive_pop *p);
void *drive_pop_states(drive_pop *p);
/* m, the length of the population's columns: drive_abi_columns(n). */
size_t drive_pop_columns(const drive_pop *p);

/* Field `field` of every instance: the address of its column in the block
 * of its kind, n doubles (a real) or n bytes 0/1 (a bool), instance i at
 * index i. Owned by the population, valid until drive_pop_free; writes
 * bypass every check of drive_set (an invalid input is still reported by
 * drive_step, a param outside its range is not). NULL and a message naming
 * the circuit for an index that is no field of it. */
void *drive_pop_column(drive_pop *p, int field);

/* Instance i's block of a kind (DRIVE_ABI_INPUT, DRIVE_ABI_OUTPUT or
 * DRIVE_ABI_STATE; DRIVE_ABI_PARAM also means the state block) copied out of
 * the columns into `block`, a caller's buffer of drive_in_size,
 * drive_out_size or drive_state_size bytes, in the single-instance layout of
 * drive_abi.h (each field at its offset; padding bytes as the population
 * holds them). -1 and a message for an instance outside the population, an
 * unknown kind, a NULL argument or no memory; block is then not written. */
int drive_pop_read_block(const drive_pop *p, size_t i, int kind, void *block);
/* The reverse: `block` (single-instance layout, as above) becomes instance
 * i's block of that kind; the other instances are untouched. Raw: nothing in
 * it is checked (a param outside its range, a bool other than 0 or 1 are
 * written as they are), which is what copying an instance needs. The same
 * errors as drive_pop_read_block; the population is then unchanged. */
int drive_pop_write_block(drive_pop *p, size_t i, int kind, const void *block);

/* Set an input or a param of instance i. A param outside its declared range,
 * a bool other than 0 or 1, or a field of another kind fails; an input
 * outside its range is accepted here and reported by drive_step (such a tick
 * keeps no state). */
int drive_set(drive_pop *p, size_t i, int field, double value);
/* Any field of instance i (an output reads the last step's value). */
double drive_get(const drive_pop *p, size_t i, int field);
/* The same for every instance: values[k] for instance k. */
int drive_set_all(drive_pop *p, int field, const double *values);
void drive_get_all(const drive_pop *p, int field, double *values);

/* Step every instance `ticks` times with its inputs held. Returns the number
 * of instance-ticks whose inputs were invalid (those kept no state). */
size_t drive_step(drive_pop *p, size_t ticks);

/* ---- traces --------------------------------------------------------------- */

/* A CSV trace of instance i to path: columns `tick,time` then the named
 * signals (comma-separated field or vector names), or, with signals NULL,
 * every input, every output (each reward stream in its own column). The
 * header is written at once; drive_trace_record appends a row with the
 * current values (call it after each drive_step of one tick). */
drive_trace *drive_trace_open(drive_pop *p, size_t i, const char *path, const char *signals);
int drive_trace_record(drive_trace *t);
int drive_trace_close(drive_trace *t); /* -1 if anything failed to write */

/* ---- checkpoints ---------------------------------------------------------- */

/* Save the state blocks of every instance (params, learned weights, timers,
 * histories), each in the single-instance layout whatever the columns in
 * memory, with a header naming the circuit, its source hash and sizes, and
 * a checksum. Written to a temporary file, flushed to disk and renamed
 * over path, so a crash mid-save leaves the previous checkpoint intact. */
int drive_save(const drive_pop *p, const char *path);

enum {
    /* Restore into a circuit that differs (another source hash or circuit):
     * every field whose name, kind and type match is restored, the rest are
     * left as they are. Without it a mismatch is refused. */
    DRIVE_RESTORE_BY_NAME = 1
};
/* Restore a checkpoint into p, which must have as many instances. Fails on a
 * truncated or corrupted file (checksum), on another circuit or source hash
 * (unless DRIVE_RESTORE_BY_NAME), or on another population size; p is left
 * unchanged then. */
int drive_restore(drive_pop *p, const char *path, unsigned flags);
/* What the last drive_restore did: "restored 12 fields" or, by name, which
 * fields were restored and which were left as they were. */
const char *drive_restore_report(void);

#ifdef __cplusplus
}
#endif

#endif
