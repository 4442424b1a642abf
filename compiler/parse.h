/* parse.h — source text to syntax tree.
 *
 * Ownership: the returned module and its nodes live in `mem`; errors go to
 * `diag`. A module is returned even when there were syntax errors (with the
 * parts that parsed), so later checks can still report what they find.
 */
#ifndef DRIVE_PARSE_H
#define DRIVE_PARSE_H

#include "arena.h"
#include "ast.h"
#include "diag.h"

ast_module *parse_module(arena *mem, diag_ctx *diag, const src_file *file);

/* For the generated parser (lang/parser.y) only: spans of rules, and its
 * error reports turned into diagnostics. */
void parse_span(src_loc *cur, const src_loc *rhs, int n);
void parse_syntax_error(ast_builder *b, src_loc loc, const char *unexpected,
                        const char *const *expected, int n_expected);
void parse_error(ast_builder *b, src_loc loc, const char *msg);

#endif
