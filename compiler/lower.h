/* lower.h — checked syntax tree to IR.
 *
 * Lowers one circuit with every instance inside it flattened: signals in
 * causal order, vectors as scalars, all state loaded at the start of a step
 * and stored at its end. Durations become tick counts with the given tick
 * (rounding is warned about through diag). Call only when sema reported no
 * errors.
 *
 * Ownership: the IR lives in `mem`.
 */
#ifndef DRIVE_LOWER_H
#define DRIVE_LOWER_H

#include "arena.h"
#include "ir.h"
#include "sema.h"

ir_circuit *lower_circuit(arena *mem, diag_ctx *diag, const sema_circuit *c, double tick);

/* The same with probes: every named signal of the circuit, and of each
 * instance one level down (as "c.name"), also written to an output of role
 * IR_ROLE_PROBE after the circuit's own outputs, so a host can watch signals
 * that are not outputs (scenarios, traces). Probes change no value. */
ir_circuit *lower_circuit_probed(arena *mem, diag_ctx *diag, const sema_circuit *c, double tick);

#endif
