/* diag.h — source files and diagnostics.
 *
 * Every stage reports through one diag_ctx: errors, warnings and notes with a
 * source position. Printing shows `file:line:col: error: message`, the source
 * line and a caret under the offending text, then any notes and a hint.
 * Stages keep going after an error so one run reports everything it can.
 *
 * Ownership: a diag_ctx owns its messages and loaded files; diag_free
 * releases them. src_file text stays valid until then.
 */
#ifndef DRIVE_DIAG_H
#define DRIVE_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "arena.h"

/* A source assembled from pieces (the REPL's session of typed inputs and
 * loaded files) reports each piece under its own name: from line
 * first_line on, lines are shown as lines of `name`, shifted by delta. */
typedef struct src_segment {
    long first_line;
    const char *name;
    long delta;
} src_segment;

typedef struct src_file {
    const char *name;  /* as given on the command line */
    const char *text;  /* NUL-terminated copy; may contain other NULs */
    size_t len;
    const size_t *line_starts; /* offset of each line; n_lines entries */
    size_t n_lines;
    const src_segment *segs; /* NULL: the whole file is `name` */
    size_t n_segs;
} src_file;

/* The name and line under which line `line` of f is reported. */
const char *src_origin(const src_file *f, long line, long *shown_line);

/* Line `line` (from 1) of f without its line break; NULL past the end. */
const char *src_line(const src_file *f, long line, size_t *len);

/* A span in a file; lines and columns count from 1, columns in bytes. */
typedef struct src_loc {
    const src_file *file;
    int line, col;
    int end_line, end_col; /* one past the last column of the span */
} src_loc;

typedef enum { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE } diag_level;

typedef struct diag_ctx diag_ctx;

diag_ctx *diag_new(void);
void diag_free(diag_ctx *d);
arena *diag_arena(diag_ctx *d);

/* Read a whole file (into the context's arena). Returns NULL and reports an
 * error (without position) when it cannot be read. */
const src_file *diag_load_file(diag_ctx *d, const char *path);
const src_file *diag_add_source(diag_ctx *d, const char *name, const char *text, size_t len);
/* The same, reported piece by piece (segs sorted by first_line; copied). */
const src_file *diag_add_segmented(diag_ctx *d, const char *name, const char *text, size_t len,
                                   const src_segment *segs, size_t n_segs);

/* Report; the message is formatted printf-style. A note or hint attaches to
 * the most recent error or warning. */
void diag_report(diag_ctx *d, diag_level lvl, src_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void diag_vreport(diag_ctx *d, diag_level lvl, src_loc loc, const char *fmt, va_list ap);
void diag_hint(diag_ctx *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An error without a source position ("drivec: error: ..."). */
void diag_plain(diag_ctx *d, diag_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* After DIAG_MAX_ERRORS errors, later ones are counted but not kept: a
 * broken file cannot flood the terminal or cost quadratic time. */
enum { DIAG_MAX_ERRORS = 100 };

int diag_errors(const diag_ctx *d);
int diag_warnings(const diag_ctx *d);

/* Print everything reported so far, in report order, and forget it. Colour is
 * used when use_color is nonzero. */
void diag_flush(diag_ctx *d, FILE *out, int use_color);
/* Whether colour suits this stream (a terminal and NO_COLOR unset). */
int diag_want_color(FILE *f);

/* The closest of candidates to name by edit distance, or NULL when nothing
 * is close enough to suggest ("did you mean"). */
const char *diag_suggest(const char *name, const char *const *candidates, size_t n);

#endif
