/* parse.c — drives the generated scanner and parser, and holds the helpers
 * the parser's actions call (locations, syntax error messages). */
#include "parse.h"

#include <string.h>

#include "lex.h"
#include "lexer.h"

/* bison's default stack limit (YYMAXDEPTH), for the message above. */
enum { YYMAXDEPTH_HINT = 10000 };

int dyparse(yyscan_t scanner, ast_builder *b);

/* ---- parser helpers ----------------------------------------------------- */

void parse_span(src_loc *cur, const src_loc *rhs, int n)
{
    if (n > 0) {
        *cur = rhs[1];
        cur->end_line = rhs[n].end_line;
        cur->end_col = rhs[n].end_col;
    } else {
        /* An empty rule sits at the end of what came before it. */
        *cur = rhs[0];
        cur->line = cur->end_line;
        cur->col = cur->end_col;
    }
}

/* The text a token covered, for quoting it in a message. */
static const char *token_text(ast_builder *b, src_loc loc, char *buf, size_t cap)
{
    const src_file *f = loc.file;
    if (!f || loc.end_line != loc.line || loc.end_col <= loc.col)
        return NULL;
    const char *p = f->text, *end = f->text + f->len;
    for (int l = 1; l < loc.line && p < end; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return NULL;
        p = nl + 1;
    }
    size_t n = (size_t)(loc.end_col - loc.col);
    if ((size_t)(end - p) < (size_t)loc.col - 1 + n || n >= cap)
        return NULL;
    memcpy(buf, p + loc.col - 1, n);
    buf[n] = 0;
    (void)b;
    return buf;
}

/* Bison names tokens by their aliases: keywords become 'real', character
 * tokens already carry quotes, and token classes stay plain words. */
static const char *token_name(const char *sym, char *buf, size_t cap)
{
    static const char *const classes[] = { "identifier", "number", "duration", "end of line",
                                           "end of file", "invalid token" };
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (!strcmp(sym, classes[i]))
            return sym;
    if (sym[0] == '\'')
        return sym;
    size_t n = strlen(sym);
    if (sym[0] == '"' && n >= 2)
        snprintf(buf, cap, "'%.*s'", (int)n - 2, sym + 1);
    else
        snprintf(buf, cap, "'%s'", sym);
    return buf;
}

void parse_syntax_error(ast_builder *b, src_loc loc, const char *unexpected,
                        const char *const *expected, int n_expected)
{
    char buf[64], nbuf[64];
    const char *text = NULL;
    if (strcmp(unexpected, "identifier") == 0 || strcmp(unexpected, "number") == 0 ||
        strcmp(unexpected, "duration") == 0)
        text = token_text(b, loc, buf, sizeof buf);
    char what[160];
    if (text)
        snprintf(what, sizeof what, "unexpected %s '%s'", unexpected, text);
    else
        snprintf(what, sizeof what, "unexpected %s", token_name(unexpected, nbuf, sizeof nbuf));
    if (loc.end_line != loc.line) /* a line break: point at its start only */
        loc.end_line = loc.line, loc.end_col = loc.col + 1;
    int wants_expr = 0;
    for (int i = 0; i < n_expected; i++)
        wants_expr |= strcmp(expected[i], "number") == 0;
    int ends = !strcmp(unexpected, "end of line") || !strcmp(unexpected, "end of file") ||
               !strcmp(unexpected, "'}'");
    if (wants_expr && ends) {
        diag_report(b->diag, DIAG_ERROR, loc, "syntax error: expected an expression before %s",
                    unexpected[0] == '\'' ? "'}'" : unexpected);
        diag_hint(b->diag, "a line that ends with an operator continues on the next line");
        return;
    }
    if (!strcmp(unexpected, "end of file") && b->circuit) {
        diag_report(b->diag, DIAG_ERROR, loc,
                    "syntax error: the file ends inside circuit '%s'", b->circuit->name);
        diag_hint(b->diag, "close the circuit with '}'");
        diag_report(b->diag, DIAG_NOTE, b->circuit->name_loc, "the circuit starts here");
        return;
    }
    diag_report(b->diag, DIAG_ERROR, loc, "syntax error: %s", what);
    static const char *const comparisons[] = { "'<'", "'>'", "<=", ">=", "==", "!=" };
    for (size_t i = 0; i < sizeof comparisons / sizeof comparisons[0]; i++)
        if (!strcmp(unexpected, comparisons[i])) {
            diag_hint(b->diag, "comparisons do not chain: write 'a < b and b < c'");
            return;
        }
    if (b->open_parens > 0) {
        diag_hint(b->diag, "a '(' or '[' is still open: close it");
        return;
    }
    int wants_name = 0, wants_end = 0;
    for (int i = 0; i < n_expected; i++) {
        wants_name |= strcmp(expected[i], "identifier") == 0;
        wants_end |= strcmp(expected[i], "end of line") == 0;
    }
    if (wants_end && text && strcmp(unexpected, "identifier") == 0) {
        diag_hint(b->diag, "put each statement on its own line, or separate them with ';'");
        return;
    }
    if (wants_name && !text && unexpected[0] >= 'a' && unexpected[0] <= 'z' &&
        strcmp(unexpected, "end of line") != 0 && strcmp(unexpected, "end of file") != 0 &&
        strcmp(unexpected, "invalid token") != 0) {
        diag_hint(b->diag, "%s is a keyword and cannot be used as a name",
                  token_name(unexpected, nbuf, sizeof nbuf));
        return;
    }
    /* Listing expectations helps when there are few; bison gives 0 when
     * there are more than we asked for. */
    if (n_expected > 0 && n_expected <= 5) {
        char list[256] = "";
        size_t len = 0;
        for (int i = 0; i < n_expected; i++) {
            char tok[64];
            const char *sep = i == 0 ? "" : i == n_expected - 1 ? " or " : ", ";
            int w = snprintf(list + len, sizeof list - len, "%s%s", sep,
                             token_name(expected[i], tok, sizeof tok));
            if (w < 0 || (size_t)w >= sizeof list - len)
                break;
            len += (size_t)w;
        }
        diag_hint(b->diag, "expected %s", list);
    }
}

void parse_error(ast_builder *b, src_loc loc, const char *msg)
{
    /* Only bison's own failure arrives here: its stack is full. */
    if (strstr(msg, "memory exhausted"))
        diag_report(b->diag, DIAG_ERROR, loc,
                    "the program nests too deeply to parse (over %d open parentheses, "
                    "operators or conditionals at once)", YYMAXDEPTH_HINT);
    else
        diag_report(b->diag, DIAG_ERROR, loc, "%s", msg);
}

/* ---- entry -------------------------------------------------------------- */

ast_module *parse_module(arena *mem, diag_ctx *diag, const src_file *file)
{
    ast_module *m = arena_alloc(mem, sizeof *m);
    m->file = file;
    ast_builder b = { .mem = mem, .diag = diag, .file = file, .module = m };
    struct lex_extra x = { .b = &b, .line = 1, .col = 1, .last_token = SEP };
    yyscan_t scanner;
    if (dylex_init_extra(&x, &scanner) != 0) {
        diag_plain(diag, DIAG_ERROR, "cannot start the scanner");
        return m;
    }
    YY_BUFFER_STATE buf = dy_scan_bytes(file->text, (int)file->len, scanner);
    dyparse(scanner, &b);
    dy_delete_buffer(buf, scanner);
    dylex_destroy(scanner);
    if (b.circuit) /* end of file inside a circuit: already reported */
        ast_circuit_end(&b, b.circuit->loc);
    return m;
}
