/* repl.h — the interactive session behind `drivec repl`, without the
 * terminal (repl_term.c adds line editing, history and completion).
 *
 * A session is a list of top-level definitions (module, tick, imports,
 * constants, circuits, scenarios), typed or loaded from files. Each input is
 * split into definitions, merged into the session (a definition replaces
 * the one of the same kind and name) and the whole session is checked and
 * compiled again; only when that succeeds does the session change, so an
 * error leaves everything as it was. Circuits whose code changed are
 * JIT-compiled at once (with a probe on every named signal, so any inner
 * signal can be watched), and a live instance of a redefined circuit keeps
 * its params, learned weights, timers and held inputs wherever names, kinds
 * and shapes still match.
 *
 * Instances are libdrive populations of one (drive.h), so stepping, traces
 * and checkpoints behave exactly as for a host program.
 *
 * Ownership: a repl owns its definitions, compilations, code and instances;
 * repl_free releases them all. It borrows the FILEs in repl_opts. Each
 * input's compilation lives in its own arena (a compile_result), kept while
 * some circuit's code still comes from it.
 */
#ifndef DRIVE_REPL_H
#define DRIVE_REPL_H

#include <stddef.h>
#include <stdio.h>

typedef struct repl repl;

typedef struct repl_opts {
    FILE *out;                   /* results */
    FILE *err;                   /* diagnostics and errors */
    const char *const *include;  /* extra module directories */
    int n_include;
    int color;                   /* colour in diagnostics */
    int timings;                 /* after each definition, the time to callable code */
    int progress;                /* a progress bar for long steps (on a terminal) */
} repl_opts;

enum { REPL_OK = 0, REPL_ERROR = 1, REPL_QUIT = 2 };

/* A new, empty session; NULL (with a message on o->err) when the JIT
 * cannot start. */
repl *repl_new(const repl_opts *o);
void repl_free(repl *r);

/* One complete input: definitions, a command (":step 10"), or signal names
 * to print. Returns REPL_OK, REPL_ERROR (reported; the session is as it
 * was) or REPL_QUIT. */
int repl_eval(repl *r, const char *text);

/* :load path (reported on o->err when it fails). */
int repl_load_file(repl *r, const char *path);

/* Whether text still needs lines: an open brace, bracket or parenthesis. */
int repl_incomplete(const char *text);

/* Ask a running step or scenario to stop at the end of its tick.
 * Async-signal-safe. The request stays visible to repl_interrupted until the
 * next step or scenario run starts. */
void repl_interrupt(void);
int repl_interrupted(void);

/* Completion of the word that ends at byte `cursor` of line: *start is set
 * to where that word begins; returns a NULL-terminated, sorted array of
 * candidates (each malloc'd, as is the array; free with repl_free_list),
 * or NULL when there are none. Directories end with '/'. */
char **repl_complete(repl *r, const char *line, size_t cursor, size_t *start);
void repl_free_list(char **list);

/* Milliseconds the last input took from its text to callable step
 * functions (0 when it defined no circuit). */
double repl_last_ms(const repl *r);

/* The command `drivec repl [FILES...]` (repl_term.c): returns the exit
 * status. */
int repl_main(const char *const *files, int n_files, const char *const *include, int n_include,
              int timings);

#endif
