/* parse_internal.h — what the generated scanner and parser share: the
 * scanner's per-scan state and the helpers their actions call. Not for use
 * outside lang/ and compiler/parse.c. */
#ifndef DRIVE_PARSE_INTERNAL_H
#define DRIVE_PARSE_INTERNAL_H

#include <stddef.h>

#include "ast.h"
#include "parser.h"

#define YYSTYPE DYSTYPE
#define YYLTYPE DYLTYPE

struct lex_extra {
    ast_builder *b;
    int line, col;   /* position of the next byte, from 1 */
    int last_token;  /* for statement ends at line breaks */
    int depth;       /* open parentheses */
};

void lex_step(struct lex_extra *x, src_loc *loc, const char *text, size_t len);
void lex_unstep(struct lex_extra *x, src_loc *loc, const char *text, size_t keep);
int lex_token(struct lex_extra *x, int token);
int lex_newline_ends(struct lex_extra *x);
size_t lex_number_length(const char *text);
int lex_is_unit(const char *word);
const char *lex_text(struct lex_extra *x, const char *text, size_t len);
void lex_spelling(struct lex_extra *x, const src_loc *loc, const char *used, const char *want);
void lex_bad_char(struct lex_extra *x, const src_loc *loc, unsigned char c);

void parse_span(src_loc *cur, const src_loc *rhs, int n);
void parse_syntax_error(ast_builder *b, src_loc loc, const char *unexpected,
                        const char *const *expected, int n_expected);
void parse_error(ast_builder *b, src_loc loc, const char *msg);

#endif
