/* lex.h — the scanner's per-scan state and the helpers its actions call.
 * Shared by the generated scanner (lang/lexer.l) and parse.c, which starts
 * it; not for use elsewhere.
 *
 * Ownership: token texts are copied into the builder's arena.
 */
#ifndef DRIVE_LEX_H
#define DRIVE_LEX_H

#include <stddef.h>

#include "ast.h"
#include "parser.h"

/* The generated scanner names the parser's types without the api.prefix. */
#define YYSTYPE DYSTYPE
#define YYLTYPE DYLTYPE

struct lex_extra {
    ast_builder *b;
    size_t offset;   /* bytes of the file scanned so far */
    int line, col;   /* position of the next byte, from 1 */
    int last_token;  /* for statement ends at line breaks */
    int depth;       /* open parentheses */
    int bad_line, bad_end; /* end of the last stray byte reported */
};

/* Advance the position over a token's text and give the token its span. */
void lex_step(struct lex_extra *x, src_loc *loc, const char *text, size_t len);
/* Take back all but the first `keep` bytes of the last token (one line). */
void lex_unstep(struct lex_extra *x, src_loc *loc, const char *text, size_t keep);
/* Record a token on its way to the parser; returns it. */
int lex_token(struct lex_extra *x, int token);
/* Whether a line break here ends a statement; at the end of the file. */
int lex_newline_ends(struct lex_extra *x);
int lex_file_ends(struct lex_extra *x);
size_t lex_number_length(const char *text);
int lex_is_unit(const char *word);
const char *lex_text(struct lex_extra *x, const char *text, size_t len);
/* An identifier's text; one longer than LEX_MAX_IDENT is an error, and is
 * kept cut to that length so that later messages stay short. */
enum { LEX_MAX_IDENT = 256 };
const char *lex_ident(struct lex_extra *x, const src_loc *loc, const char *text, size_t len);
void lex_spelling(struct lex_extra *x, const src_loc *loc, const char *used, const char *want);
void lex_bad_char(struct lex_extra *x, const src_loc *loc, unsigned char c);

#endif
