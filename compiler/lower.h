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

#endif
