/* lower.h — checked syntax tree to IR.
 *
 * Lowers one circuit: its definitions in causal order, each pre() becoming a
 * state slot that is loaded at the start of a step and stored at its end.
 * Call only when sema reported no errors.
 *
 * Ownership: the IR lives in `mem`.
 */
#ifndef DRIVE_LOWER_H
#define DRIVE_LOWER_H

#include "arena.h"
#include "ir.h"
#include "sema.h"

ir_circuit *lower_circuit(arena *mem, const sema_module *m, const sema_circuit *c);

#endif
