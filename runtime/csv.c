/* csv.c — a strict reader for numeric CSV: every problem is an error with
 * its line and column, never a silently wrong number. */
#include "csv.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_COLUMNS = 100000 };
/* A trace is read whole into memory: a bound keeps a device or an endless
 * pipe given as the file (/dev/zero, `yes |`) from exhausting it. */
#define MAX_BYTES ((size_t)1 << 30)

static void set_err(rt_error *err, const char *file, long line, int col, int len,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void set_err(rt_error *err, const char *file, long line, int col, int len,
                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->file = file;
    err->line = line;
    err->col = col;
    err->len = len;
    err->field = 0;
    err->hint[0] = 0;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "drive: out of memory\n");
        abort();
    }
    return q;
}

static size_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return (size_t)h;
}

void rt_csv_free(rt_table *t)
{
    for (int i = 0; i < t->ncols; i++)
        free(t->names[i]);
    free(t->names);
    free(t->data);
    free(t->lines);
    memset(t, 0, sizeof *t);
}

int rt_csv_column(const rt_table *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->names[i], name) == 0)
            return i;
    return -1;
}

/* One field: [start, end) trimmed of spaces (and quotes in the header). */
typedef struct field {
    const char *s;
    size_t n;
    int col; /* 1-based byte column of its first character */
} field;

static int split(const char *line, size_t len, field **fields, size_t *cap)
{
    int n = 0;
    size_t i = 0;
    for (;;) {
        size_t start = i;
        while (i < len && line[i] != ',')
            i++;
        size_t a = start, b = i;
        while (a < b && (line[a] == ' ' || line[a] == '\t'))
            a++;
        while (b > a && (line[b - 1] == ' ' || line[b - 1] == '\t'))
            b--;
        if ((size_t)n == *cap) {
            *cap = *cap ? *cap * 2 : 16;
            *fields = xrealloc(*fields, *cap * sizeof **fields);
        }
        (*fields)[n++] = (field){ line + a, b - a, (int)a + 1 };
        if (i >= len || n > MAX_COLUMNS)
            break;
        i++; /* the comma */
    }
    return n;
}

static int parse_value(const field *f, double *out)
{
    if (f->n == 4 && strncmp(f->s, "true", 4) == 0) {
        *out = 1;
        return 1;
    }
    if (f->n == 5 && strncmp(f->s, "false", 5) == 0) {
        *out = 0;
        return 1;
    }
    if (f->n == 0)
        return 0;
    /* strtod needs a terminated string: copy the field (long ones to the heap). */
    char small[128];
    char *buf = f->n < sizeof small ? small : xrealloc(NULL, f->n + 1);
    memcpy(buf, f->s, f->n);
    buf[f->n] = 0;
    char *end;
    double d = strtod(buf, &end);
    int ok = *end == 0 && end != buf;
    if (buf != small)
        free(buf);
    if (ok)
        *out = d;
    return ok;
}

int rt_csv_parse(const char *name, const char *text, size_t len, rt_table *t, rt_error *err)
{
    memset(t, 0, sizeof *t);
    field *fields = NULL;
    size_t fcap = 0;
    size_t rows_cap = 0;
    long lineno = 0;
    size_t pos = 0;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        pos = 3; /* a UTF-8 byte-order mark, as some spreadsheets write */
    int ok = 1;
    while (pos < len && ok) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        lineno++;
        if (n && line[n - 1] == '\r')
            n--;
        if (memchr(line, 0, n)) {
            set_err(err, name, lineno, 0, 0, "a NUL byte in the line");
            ok = 0;
            break;
        }
        size_t k = 0;
        while (k < n && (line[k] == ' ' || line[k] == '\t'))
            k++;
        if (k == n || line[k] == '#')
            continue;
        int nf = split(line, n, &fields, &fcap);
        if (nf > MAX_COLUMNS) {
            set_err(err, name, lineno, 0, 0, "more than %d columns", MAX_COLUMNS);
            ok = 0;
            break;
        }
        if (!t->names) {
            t->header_line = lineno;
            t->ncols = nf;
            t->names = xrealloc(NULL, (size_t)nf * sizeof *t->names);
            for (int i = 0; i < nf; i++) {
                field f = fields[i];
                if (f.n >= 2 && f.s[0] == '"' && f.s[f.n - 1] == '"') {
                    f.s++;
                    f.n -= 2;
                }
                t->names[i] = xrealloc(NULL, f.n + 1);
                memcpy(t->names[i], f.s, f.n);
                t->names[i][f.n] = 0;
            }
            /* Duplicate names, through a hash table: headers can be wide. */
            size_t cap = 16;
            while (cap < (size_t)nf * 2)
                cap *= 2;
            int *seen = xrealloc(NULL, cap * sizeof *seen);
            memset(seen, 0, cap * sizeof *seen);
            for (int i = 0; i < nf && ok; i++) {
                if (!t->names[i][0]) {
                    set_err(err, name, lineno, fields[i].col, 1, "column %d has no name", i + 1);
                    ok = 0;
                    break;
                }
                size_t h = hash_name(t->names[i]) & (cap - 1);
                while (seen[h] && strcmp(t->names[seen[h] - 1], t->names[i]) != 0)
                    h = (h + 1) & (cap - 1);
                if (seen[h]) {
                    set_err(err, name, lineno, fields[i].col, (int)fields[i].n,
                            "column '%s' appears twice", t->names[i]);
                    ok = 0;
                }
                seen[h] = i + 1;
            }
            free(seen);
            continue;
        }
        if (nf != t->ncols) {
            set_err(err, name, lineno, 0, 0, "expected %d fields as in the header, found %d",
                    t->ncols, nf);
            ok = 0;
            break;
        }
        if ((size_t)t->nrows == rows_cap) {
            rows_cap = rows_cap ? rows_cap * 2 : 64;
            t->data = xrealloc(t->data, rows_cap * (size_t)t->ncols * sizeof *t->data);
            t->lines = xrealloc(t->lines, rows_cap * sizeof *t->lines);
        }
        double *row = t->data + (size_t)t->nrows * (size_t)t->ncols;
        for (int i = 0; i < nf; i++) {
            if (!parse_value(&fields[i], &row[i])) {
                if (fields[i].n == 0)
                    set_err(err, name, lineno, fields[i].col, 1, "empty value in column '%s'",
                            t->names[i]);
                else
                    set_err(err, name, lineno, fields[i].col, (int)fields[i].n,
                            "'%.*s' is not a number (column '%s')",
                            (int)(fields[i].n > 40 ? 40 : fields[i].n), fields[i].s, t->names[i]);
                ok = 0;
                break;
            }
            if (!isfinite(row[i])) {
                set_err(err, name, lineno, fields[i].col, (int)fields[i].n,
                        "value '%.*s' in column '%s' is not finite",
                        (int)(fields[i].n > 40 ? 40 : fields[i].n), fields[i].s, t->names[i]);
                ok = 0;
                break;
            }
        }
        t->lines[t->nrows++] = lineno;
    }
    free(fields);
    if (ok && !t->names) {
        set_err(err, name, 0, 0, 0, "the file is empty: expected a header row of column names");
        ok = 0;
    }
    if (!ok)
        rt_csv_free(t);
    return ok;
}

int rt_csv_read(const char *path, rt_table *t, rt_error *err)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_err(err, path, 0, 0, 0, "cannot open: %s", strerror(errno));
        return 0;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = xrealloc(NULL, cap);
    size_t n;
    /* One byte past the limit tells a file at the limit from a larger one. */
    while (len <= MAX_BYTES && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            cap = cap * 2 > MAX_BYTES + 1 ? MAX_BYTES + 1 : cap * 2;
            if (len < cap)
                buf = xrealloc(buf, cap);
        }
    }
    int bad = ferror(f), read_errno = errno;
    fclose(f);
    if (bad) {
        free(buf);
        set_err(err, path, 0, 0, 0, "cannot read: %s", strerror(read_errno));
        return 0;
    }
    if (len > MAX_BYTES) {
        free(buf);
        set_err(err, path, 0, 0, 0, "larger than the limit of %zu MiB for an input trace",
                MAX_BYTES >> 20);
        return 0;
    }
    int ok = rt_csv_parse(path, buf, len, t, err);
    free(buf);
    return ok;
}
