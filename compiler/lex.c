/* lex.c — what the generated scanner (lang/lexer.l) calls: locations,
 * statement ends at line breaks, token text, and lexical error messages. */
#include "lex.h"

#include <ctype.h>
#include <string.h>

void lex_step(struct lex_extra *x, src_loc *loc, const char *text, size_t len)
{
    x->offset += len;
    loc->file = x->b->file;
    loc->line = x->line;
    loc->col = x->col;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') {
            x->line++;
            x->col = 1;
        } else {
            x->col++;
        }
    }
    /* A span ending in a newline ends on its own line. */
    loc->end_line = len && text[len - 1] == '\n' ? loc->line : x->line;
    loc->end_col = len && text[len - 1] == '\n' ? loc->col + 1 : x->col;
}

void lex_unstep(struct lex_extra *x, src_loc *loc, const char *text, size_t keep)
{
    (void)text; /* the token has no line breaks: only the column moves */
    x->offset -= (size_t)(x->col - (loc->col + (int)keep));
    x->line = loc->line;
    x->col = loc->col + (int)keep;
    loc->end_line = x->line;
    loc->end_col = x->col;
}

int lex_token(struct lex_extra *x, int token)
{
    if (token == '(' || token == '[')
        x->depth++;
    else if ((token == ')' || token == ']') && x->depth > 0)
        x->depth--;
    else if (token == '}' || token == '{')
        x->depth = 0; /* braces end any unbalanced parenthesis */
    x->last_token = token;
    x->b->open_parens = x->depth;
    return token;
}

/* Whether the text after the line break just scanned continues the
 * statement: its next word (past blank and comment-only lines) is then,
 * else, and, or, when, for, refractory or strength. Looked up in the source directly, so the scanner needs
 * no variable-length trailing context. */
static int next_line_continues(const struct lex_extra *x)
{
    const src_file *f = x->b->file;
    const char *p = f->text + x->offset, *end = f->text + f->len;
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
            p++;
        if (p < end && (*p == '#' || (*p == '/' && p + 1 < end && p[1] == '/'))) {
            while (p < end && *p != '\n')
                p++;
            continue;
        }
        break;
    }
    static const char *const words[] = { "then", "else", "and", "or", "when",
                                           "for", "refractory", "strength" };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(end - p) >= n && memcmp(p, words[i], n) == 0 &&
            ((size_t)(end - p) == n || !(isalnum((unsigned char)p[n]) || p[n] == '_')))
            return 1;
    }
    return 0;
}

/* Whether the last token can end a statement (Go's rule). */
static int can_end(const struct lex_extra *x)
{
    if (x->depth > 0)
        return 0;
    switch (x->last_token) {
    case IDENT: case NUMBER: case DURATION: case TRUE: case FALSE:
    case REAL: case BOOL: case DURTYPE: case LEARNED: case STRENGTH: case ')': case '}': case ']':
        return 1;
    /* Keywords that are nouns end a line too: no valid statement ends with
     * one, but a name mistaken for one must not swallow the next line. */
    case MODULE: case TICK: case IMPORT: case CONST: case CIRCUIT: case INPUT: case OUTPUT:
    case PARAM: case LET: case STATE: case NEXT: case VEC: case HEURISTIC: case ATTENTION:
    case GATE: case REFLEX: case PREDICTOR: case REWARD: case REFRACTORY:
    case SCENARIO: case EXPECT: case AT: case DURING: case EVERY: case SEED: case PLOT:
    case VARIANT:
        return 1;
    default:
        return 0;
    }
}

int lex_newline_ends(struct lex_extra *x) { return can_end(x) && !next_line_continues(x); }

int lex_file_ends(struct lex_extra *x) { return can_end(x); }

size_t lex_number_length(const char *t)
{
    size_t i = 0;
    while (t[i] >= '0' && t[i] <= '9')
        i++;
    if (t[i] == '.') {
        i++;
        while (t[i] >= '0' && t[i] <= '9')
            i++;
    }
    if (t[i] == 'e' || t[i] == 'E') {
        size_t j = i + 1;
        if (t[j] == '+' || t[j] == '-')
            j++;
        if (t[j] >= '0' && t[j] <= '9') {
            while (t[j] >= '0' && t[j] <= '9')
                j++;
            i = j;
        }
    }
    return i;
}

int lex_is_unit(const char *w)
{
    while (*w == ' ' || *w == '\t')
        w++;
    return !strcmp(w, "ms") || !strcmp(w, "s") || !strcmp(w, "min") ||
           !strcmp(w, "tick") || !strcmp(w, "ticks");
}

const char *lex_text(struct lex_extra *x, const char *text, size_t len)
{
    return arena_strndup(x->b->mem, text, len);
}

const char *lex_ident(struct lex_extra *x, const src_loc *loc, const char *text, size_t len)
{
    if (len > LEX_MAX_IDENT) {
        diag_report(x->b->diag, DIAG_ERROR, *loc,
                    "identifier of %zu characters: names are at most %d characters long", len,
                    LEX_MAX_IDENT);
        len = LEX_MAX_IDENT;
    }
    return arena_strndup(x->b->mem, text, len);
}

void lex_spelling(struct lex_extra *x, const src_loc *loc, const char *used, const char *want)
{
    diag_report(x->b->diag, DIAG_ERROR, *loc, "'%s' is not an operator in drive", used);
    diag_hint(x->b->diag, "write '%s'", want);
}

void lex_bad_char(struct lex_extra *x, const src_loc *loc, unsigned char c)
{
    /* A run of stray bytes is one error, not one per byte. */
    int run = x->bad_line == loc->line && x->bad_end == loc->col;
    x->bad_line = loc->line;
    x->bad_end = loc->end_col;
    if (run)
        return;
    if (c >= 0x80)
        diag_report(x->b->diag, DIAG_ERROR, *loc,
                    "non-ASCII text is only allowed in comments");
    else if (c < 0x20 || c == 0x7f)
        diag_report(x->b->diag, DIAG_ERROR, *loc, "stray control character (byte 0x%02x)", c);
    else
        diag_report(x->b->diag, DIAG_ERROR, *loc, "unexpected character '%c'", c);
}

