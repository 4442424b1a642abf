/* interp.h — the IR interpreter: the executable specification.
 *
 * interp_step executes a circuit's instructions one by one with plain C
 * double arithmetic, against the same in/out/state byte layout the compiled
 * step functions use. Every other back end is tested against it bit for bit.
 *
 * Ownership: an interp holds a scratch buffer sized for one circuit; the
 * caller creates it with interp_new and releases it with interp_free. The
 * circuit must outlive it.
 */
#ifndef DRIVE_INTERP_H
#define DRIVE_INTERP_H

#include "ir.h"
#include "rt.h"

typedef struct interp interp;

interp *interp_new(const ir_circuit *c);
void interp_free(interp *ip);

/* Params to their defaults, state slots to their initial values. */
void interp_init(const interp *ip, void *state);
/* One tick; returns the circuit's status (its IR_RETURN, else 0). */
int interp_step(interp *ip, void *state, const void *in, void *out);

/* Point c's entry points (rt.h) at ip, which must outlive c's use. */
void interp_bind(rt_circuit *c, interp *ip);

#endif
