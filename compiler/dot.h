/* dot.h — a Graphviz (DOT) drawing of a checked circuit: the box diagram of
 * its inputs, heuristics, reflexes, predictors, gates, attention signals,
 * params, lets, states, outputs and reward streams, with an edge for every
 * signal a definition reads, and instances as clusters.
 *
 * The encoding (also drawn as a legend in the graph):
 *   - each kind of signal has its own shape and fill colour;
 *   - a solid edge is a read within the tick; a dashed edge labelled "pre"
 *     is a read of last tick's value (pre()), and one labelled "next" feeds
 *     a state's next value;
 *   - a predictor's context, supervisor, rate and defer clauses are edges
 *     into its box labelled with the clause; a gate's condition is labelled
 *     "when" (and its alternative "else"); a reflex's strength "strength";
 *     reads of fields (p.target, r.onset) are labelled with the field;
 *   - an instance is a cluster "name : circuit" holding its inputs, params
 *     and outputs, with an edge from each input or param to each output
 *     that depends on it inside the circuit;
 *   - learned paths: every node that depends (through anything, state too)
 *     on a predictor, a `learned` input or an instance output learned inside
 *     its circuit has a red, thick border, and edges leaving it are red and
 *     thick. Innate paths stay grey.
 *
 * The output is deterministic: nodes in declaration order, edges in the
 * order of the definitions that read them; every ID is quoted and every
 * label escaped.
 */
#ifndef DRIVE_DOT_H
#define DRIVE_DOT_H

#include <stdio.h>

#include "sema.h"

/* Write circuit c as a DOT digraph to out. Returns 0 on success; on failure
 * returns -1 and sets *err (malloc'd) when err is not NULL. */
int dot_write(FILE *out, const sema_circuit *c, char **err);

/* Render DOT text with Graphviz: runs `dot -Tsvg -o svg_path`, feeding it
 * the text. Returns 0 on success; -1 with *err (malloc'd) when Graphviz is
 * not installed or fails. */
int dot_render_svg(const char *dot_text, size_t len, const char *svg_path, char **err);

/* The command `drivec dot FILE [--circuit NAME] [--svg OUT.svg] [-o OUT.dot]
 * [-I DIR]...`, its options already parsed (out_path and svg may be NULL).
 * Returns the exit status (0 ok, 1 errors in the program or rendering,
 * 2 bad usage). Defined in drivec_dot.c. */
int drivec_dot(const char *file, const char *circuit, const char *out_path, const char *svg,
               const char *const *include, int n_include);

#endif
