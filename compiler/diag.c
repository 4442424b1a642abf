/* diag.c — collecting and printing diagnostics with source excerpts. */
#include "diag.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct diag_msg {
    diag_level level;
    src_loc loc;
    int has_loc;
    const char *text;
    const char *hint;
} diag_msg;

struct diag_ctx {
    arena mem;
    arena_vec msgs; /* diag_msg */
    int errors, warnings;
    int dropped;    /* the last error was past DIAG_MAX_ERRORS: drop its notes */
    int told_dropped;
};

enum { MAX_FILE_BYTES = 64 << 20 };

diag_ctx *diag_new(void)
{
    diag_ctx *d = calloc(1, sizeof *d);
    if (!d) {
        fprintf(stderr, "drive: out of memory\n");
        abort();
    }
    arena_init(&d->mem);
    arena_vec_init(&d->msgs, sizeof(diag_msg));
    return d;
}

void diag_free(diag_ctx *d)
{
    if (!d)
        return;
    arena_free(&d->mem);
    free(d);
}

arena *diag_arena(diag_ctx *d) { return &d->mem; }

const src_file *diag_add_source(diag_ctx *d, const char *name, const char *text, size_t len)
{
    src_file *f = arena_alloc(&d->mem, sizeof *f);
    f->name = arena_strdup(&d->mem, name);
    char *copy = arena_alloc(&d->mem, len + 1);
    memcpy(copy, text, len);
    copy[len] = 0;
    f->text = copy;
    f->len = len;
    /* Index the line starts once, so excerpts cost no rescans. */
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += copy[i] == '\n';
    size_t *starts = arena_calloc(&d->mem, n, sizeof *starts);
    size_t k = 1;
    for (size_t i = 0; i < len; i++)
        if (copy[i] == '\n')
            starts[k++] = i + 1;
    f->line_starts = starts;
    f->n_lines = n;
    return f;
}

const src_file *diag_add_segmented(diag_ctx *d, const char *name, const char *text, size_t len,
                                   const src_segment *segs, size_t n_segs)
{
    src_file *f = (src_file *)diag_add_source(d, name, text, len);
    src_segment *copy = arena_calloc(&d->mem, n_segs ? n_segs : 1, sizeof *copy);
    for (size_t i = 0; i < n_segs; i++) {
        copy[i] = segs[i];
        copy[i].name = arena_strdup(&d->mem, segs[i].name);
    }
    f->segs = copy;
    f->n_segs = n_segs;
    return f;
}

const char *src_origin(const src_file *f, long line, long *shown_line)
{
    *shown_line = line;
    const src_segment *best = NULL;
    for (size_t i = 0; i < f->n_segs && f->segs[i].first_line <= line; i++)
        best = &f->segs[i];
    if (!best)
        return f->name;
    *shown_line = line + best->delta;
    return best->name;
}

const src_file *diag_load_file(diag_ctx *d, const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        diag_plain(d, DIAG_ERROR, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(fp);
            diag_plain(d, DIAG_ERROR, "out of memory reading '%s'", path);
            return NULL;
        }
        size_t n = fread(buf + len, 1, cap - len, fp);
        len += n;
        if (n == 0)
            break;
        if (len > MAX_FILE_BYTES) {
            free(buf);
            fclose(fp);
            diag_plain(d, DIAG_ERROR, "'%s' is larger than the limit of %d MiB", path,
                       MAX_FILE_BYTES >> 20);
            return NULL;
        }
        if (len == cap) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        diag_plain(d, DIAG_ERROR, "cannot read '%s'", path);
        return NULL;
    }
    const src_file *f = diag_add_source(d, path, buf, len);
    free(buf);
    return f;
}

void diag_vreport(diag_ctx *d, diag_level lvl, src_loc loc, const char *fmt, va_list ap)
{
    if (lvl == DIAG_ERROR && d->errors >= DIAG_MAX_ERRORS) {
        d->errors++;
        d->dropped = 1;
        return;
    }
    if (lvl == DIAG_NOTE && d->dropped)
        return; /* belongs to a dropped error */
    if (lvl != DIAG_NOTE)
        d->dropped = 0;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *text = arena_alloc(&d->mem, (size_t)(n < 0 ? 0 : n) + 1);
    vsnprintf(text, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap2);
    va_end(ap2);
    diag_msg *m = arena_vec_push(&d->mem, &d->msgs);
    m->level = lvl;
    m->loc = loc;
    m->has_loc = loc.file != NULL;
    m->text = text;
    if (lvl == DIAG_ERROR)
        d->errors++;
    else if (lvl == DIAG_WARNING)
        d->warnings++;
}

void diag_report(diag_ctx *d, diag_level lvl, src_loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vreport(d, lvl, loc, fmt, ap);
    va_end(ap);
}

void diag_plain(diag_ctx *d, diag_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vreport(d, lvl, (src_loc){ 0 }, fmt, ap);
    va_end(ap);
}

void diag_hint(diag_ctx *d, const char *fmt, ...)
{
    if (d->msgs.len == 0 || d->dropped)
        return;
    diag_msg *m = (diag_msg *)d->msgs.data + d->msgs.len - 1;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *text = arena_alloc(&d->mem, (size_t)(n < 0 ? 0 : n) + 1);
    va_start(ap, fmt);
    vsnprintf(text, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap);
    va_end(ap);
    m->hint = text;
}

int diag_errors(const diag_ctx *d) { return d->errors; }
int diag_warnings(const diag_ctx *d) { return d->warnings; }

int diag_want_color(FILE *f)
{
    const char *nc = getenv("NO_COLOR");
    return isatty(fileno(f)) && !(nc && *nc);
}

const char *src_line(const src_file *f, long line, size_t *len)
{
    if (line < 1 || (size_t)line > f->n_lines)
        return NULL;
    size_t start = f->line_starts[line - 1];
    size_t end = (size_t)line < f->n_lines ? f->line_starts[line] - 1 : f->len;
    if (end > start && f->text[end - 1] == '\r')
        end--;
    *len = end - start;
    return f->text + start;
}

/* Source line, with control bytes shown as spaces so the caret lines up. */
static void print_excerpt(FILE *out, const diag_msg *m, int color)
{
    size_t len;
    const char *line = src_line(m->loc.file, m->loc.line, &len);
    if (!line)
        return;
    enum { SHOW_MAX = 200 };
    size_t start = 0;
    size_t col0 = m->loc.col > 0 ? (size_t)m->loc.col - 1 : 0;
    if (col0 > len)
        col0 = len;
    if (len > SHOW_MAX && col0 > SHOW_MAX / 2)
        start = col0 - SHOW_MAX / 2; /* keep the caret on screen in long lines */
    size_t shown = len - start > SHOW_MAX ? SHOW_MAX : len - start;
    long number;
    src_origin(m->loc.file, m->loc.line, &number);
    fprintf(out, "%5ld | ", number);
    for (size_t i = 0; i < shown; i++) {
        unsigned char ch = (unsigned char)line[start + i];
        fputc(ch == '\t' || ch < 0x20 || ch == 0x7f ? ' ' : ch, out);
    }
    fputc('\n', out);
    fprintf(out, "      | ");
    for (size_t i = start; i < col0; i++)
        fputc(' ', out);
    size_t span = 1;
    if (m->loc.end_line == m->loc.line && m->loc.end_col > m->loc.col)
        span = (size_t)(m->loc.end_col - m->loc.col);
    if (col0 + span > start + shown + 1)
        span = start + shown + 1 > col0 ? start + shown + 1 - col0 : 1;
    if (color)
        fputs(m->level == DIAG_NOTE ? "\033[1;36m" : "\033[1;32m", out);
    fputc('^', out);
    for (size_t i = 1; i < span; i++)
        fputc('~', out);
    if (color)
        fputs("\033[0m", out);
    fputc('\n', out);
}

/* Messages print grouped (an error or warning with its notes) and ordered
 * by position, so output reads top to bottom whatever stage found what. */
typedef struct group {
    size_t first, count;
} group;

static int before(const diag_msg *a, const diag_msg *b)
{
    if (a->has_loc != b->has_loc)
        return !a->has_loc;
    if (!a->has_loc)
        return 0;
    /* Pieces of one assembled source keep their order in it. */
    int f = a->loc.file == b->loc.file ? 0 : strcmp(a->loc.file->name, b->loc.file->name);
    if (f)
        return f < 0;
    if (a->loc.line != b->loc.line)
        return a->loc.line < b->loc.line;
    return a->loc.col < b->loc.col;
}

static void print_msg(FILE *out, const diag_msg *m, int color);

void diag_flush(diag_ctx *d, FILE *out, int color)
{
    diag_msg *msgs = d->msgs.data;
    size_t n = d->msgs.len, ng = 0;
    group *groups = arena_calloc(&d->mem, n + 1, sizeof *groups);
    for (size_t i = 0; i < n; i++) {
        if (msgs[i].level != DIAG_NOTE || ng == 0)
            groups[ng++] = (group){ i, 0 };
        groups[ng - 1].count++;
    }
    /* Insertion sort: stable, and diagnostics are few. */
    for (size_t i = 1; i < ng; i++) {
        group g = groups[i];
        size_t j = i;
        while (j > 0 && before(&msgs[g.first], &msgs[groups[j - 1].first])) {
            groups[j] = groups[j - 1];
            j--;
        }
        groups[j] = g;
    }
    for (size_t g = 0; g < ng; g++)
        for (size_t k = 0; k < groups[g].count; k++)
            print_msg(out, &msgs[groups[g].first + k], color);
    if (d->errors > DIAG_MAX_ERRORS && !d->told_dropped) {
        fprintf(out, "drivec: error: %d more errors not shown (the first %d are above)\n",
                d->errors - DIAG_MAX_ERRORS, DIAG_MAX_ERRORS);
        d->told_dropped = 1;
    }
    d->msgs.len = 0;
    fflush(out);
}

static void print_msg(FILE *out, const diag_msg *m, int color)
{
    static const char *names[] = { "error", "warning", "note" };
    static const char *colors[] = { "\033[1;31m", "\033[1;35m", "\033[1;36m" };
    {
        if (color)
            fputs("\033[1m", out);
        if (m->has_loc) {
            long line;
            const char *name = src_origin(m->loc.file, m->loc.line, &line);
            fprintf(out, "%s:%ld:%d: ", name, line, m->loc.col);
        }
        else
            fputs("drivec: ", out);
        if (color)
            fprintf(out, "%s%s:\033[0m\033[1m %s\033[0m\n", colors[m->level], names[m->level], m->text);
        else
            fprintf(out, "%s: %s\n", names[m->level], m->text);
        if (m->has_loc)
            print_excerpt(out, m, color);
        if (m->hint)
            fprintf(out, "      = hint: %s\n", m->hint);
    }
}

/* Damerau-style edit distance with the restricted transposition, bounded. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t dist[65][65];
    for (size_t i = 0; i <= la; i++)
        dist[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        dist[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t best = dist[i - 1][j] + 1;
            if (dist[i][j - 1] + 1 < best)
                best = dist[i][j - 1] + 1;
            if (dist[i - 1][j - 1] + cost < best)
                best = dist[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                dist[i - 2][j - 2] + 1 < best)
                best = dist[i - 2][j - 2] + 1;
            dist[i][j] = best;
        }
    return dist[la][lb];
}

const char *diag_suggest(const char *name, const char *const *cands, size_t n)
{
    size_t len = strlen(name);
    if (len == 0)
        return NULL;
    size_t limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
    if (limit >= len)
        limit = len - 1; /* a suggestion must keep part of what was typed */
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        if (!cands[i] || strcmp(cands[i], name) == 0)
            continue;
        size_t lc = strlen(cands[i]);
        if ((lc > len ? lc - len : len - lc) > limit)
            continue; /* too different in length to be close */
        size_t dd = edit_distance(name, cands[i]);
        if (dd <= limit && dd < best_d) {
            best = cands[i];
            best_d = dd;
        }
    }
    return best;
}
