/* repl.c — the session of `drivec repl` (see repl.h): definitions merged
 * into a session that is compiled whole, JIT-compiled circuits, live
 * instances that survive redefinition, and the colon commands. */
#include "repl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "aot.h"
#include "compile.h"
#include "dot.h"
#include "host.h"
#include "jit.h"
#include "progress.h"
#include "rt.h"
#include "scenario.h"

/* ---- the session's pieces -------------------------------------------------- */

/* Kinds of top-level definition, in the order the session text lists them:
 * the module line, tick and imports first, so any later piece may use them. */
enum { K_MODULE, K_TICK, K_IMPORT, K_CONST, K_CIRCUIT, K_SCENARIO, K_OTHER };
static const char *const KIND_WORD[] = { "module", "tick",     "import", "const",
                                         "circuit", "scenario", NULL };

typedef struct item {
    int kind;
    char *name;   /* "" for tick and for text that is no definition */
    char *text;   /* ends with a line break */
    char *origin; /* "<input 3>" or a file's path */
    long line;    /* line of origin where text begins */
} item;

/* A compilation, shared by the circuits whose code came from it. */
typedef struct holder {
    compile_result *r;
    int refs;
} holder;

/* One circuit's compiled code. */
typedef struct unit {
    char *name;
    holder *h;
    jit_fn fn;
    drive_abi_circuit abi; /* fields and names in h->r's arena */
    uint64_t hash;         /* of its probed IR: unchanged code is not compiled again */
    int refs;              /* the session's table, and instances */
} unit;

/* A live instance of a circuit: a population of one. */
typedef struct inst {
    char *name;
    unit *u;
    drive_circuit *dc;
    drive_pop *pop;
} inst;

enum { V_AUTO, V_TABLE, V_SPARK };

struct repl {
    repl_opts o;
    item *items;
    int n_items;
    char **files; /* loaded, in order, for :reload */
    int n_files;
    char **dirs;  /* the include path: the options', then loaded files' directories */
    int n_dirs;
    holder *cur;  /* the session's last good compilation */
    unit **units; /* the current code of each circuit compiled so far */
    int n_units;
    inst **insts;
    int n_insts;
    inst *study;  /* the circuit under study */
    jit *jit;
    int inputs;   /* inputs typed so far (names them: "<input 3>") */
    char **watch;
    int n_watch;
    int view;
    drive_trace *rec;
    char *rec_path;
    struct inst *rec_inst; /* the instance recorded */
    double last_ms;
};

static volatile sig_atomic_t interrupted;

void repl_interrupt(void) { interrupted = 1; }

int repl_interrupted(void) { return interrupted != 0; }

double repl_last_ms(const repl *r) { return r->last_ms; }

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("drivec: out of memory\n", stderr);
        abort();
    }
    return q;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xrealloc(NULL, n), s, n);
}

static char *xstrndup(const char *s, size_t n)
{
    char *d = xrealloc(NULL, n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static void error(repl *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void error(repl *r, const char *fmt, ...)
{
    fflush(r->o.out);
    va_list ap;
    va_start(ap, fmt);
    fputs(r->o.color ? "\033[1;31merror:\033[0m " : "error: ", r->o.err);
    vfprintf(r->o.err, fmt, ap);
    va_end(ap);
    fputc('\n', r->o.err);
    fflush(r->o.err);
}

static void hint(repl *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hint(repl *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("  = hint: ", r->o.err);
    vfprintf(r->o.err, fmt, ap);
    va_end(ap);
    fputc('\n', r->o.err);
    fflush(r->o.err);
}

static void say(repl *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(repl *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(r->o.out, fmt, ap);
    va_end(ap);
}

static void free_items(item *it, int n)
{
    for (int i = 0; i < n; i++) {
        free(it[i].name);
        free(it[i].text);
        free(it[i].origin);
    }
    free(it);
}

/* ---- splitting input into definitions ------------------------------------- */

/* Skips a comment (# or //) at s; returns the end of the line. */
static const char *skip_comment(const char *s)
{
    if (*s == '#' || (s[0] == '/' && s[1] == '/'))
        while (*s && *s != '\n')
            s++;
    return s;
}

static int word_kind(const char *s, size_t n);
static int is_ident(int c);
static const char *skip_blank(const char *p);

int repl_incomplete(const char *text)
{
    /* Only definitions span lines: a command or a signal name is one line,
     * whatever brackets it holds. */
    const char *p = skip_blank(text), *w = p;
    while (is_ident((unsigned char)*w))
        w++;
    if (word_kind(p, (size_t)(w - p)) < 0)
        return 0;
    int depth = 0;
    char last = 0; /* the last byte outside comments and blanks */
    for (const char *s = p; *s; s++) {
        s = skip_comment(s);
        if (!*s)
            break;
        if (*s == '{' || *s == '(' || *s == '[')
            depth++;
        else if ((*s == '}' || *s == ')' || *s == ']') && depth > 0)
            depth--;
        if (!isspace((unsigned char)*s))
            last = *s;
    }
    /* A line that ends with an operator continues on the next, as in files. */
    return depth > 0 || (last && strchr("+-*/=,<>&|!^%", last));
}

static int word_kind(const char *s, size_t n)
{
    for (int k = 0; KIND_WORD[k]; k++)
        if (strlen(KIND_WORD[k]) == n && strncmp(s, KIND_WORD[k], n) == 0)
            return k;
    return -1;
}

static int is_ident(int c) { return isalnum(c) || c == '_'; }

/* The name a definition introduces: the word (dotted for modules and
 * imports) after its keyword. */
static char *def_name(int kind, const char *s)
{
    if (kind == K_TICK || kind == K_OTHER)
        return xstrdup("");
    while (*s == ' ' || *s == '\t')
        s++;
    const char *e = s;
    while (is_ident((unsigned char)*e) || ((kind == K_MODULE || kind == K_IMPORT) && *e == '.'))
        e++;
    return xstrndup(s, (size_t)(e - s));
}

static void add_item(item **items, int *n, int kind, const char *name_at, const char *start,
                     const char *end, const char *origin, long line, int col)
{
    /* The text keeps its column: a definition after ';' is padded, so
     * diagnostics point at the right column of its line. */
    size_t len = (size_t)(end - start), pad = (size_t)(col - 1);
    char *t = xrealloc(NULL, pad + len + 2);
    memset(t, ' ', pad);
    memcpy(t + pad, start, len);
    len += pad;
    if (len == 0 || t[len - 1] != '\n')
        t[len++] = '\n';
    t[len] = 0;
    *items = xrealloc(*items, (size_t)(*n + 1) * sizeof **items);
    (*items)[(*n)++] = (item){ kind, def_name(kind, name_at), t, xstrdup(origin), line };
}

/* Splits text into definitions: one begins at a definition keyword that,
 * outside braces, starts a line or follows a ';'. Text before the first one
 * (other than blanks and comments) becomes a piece of its own, which the
 * compiler then reports. Appends to *items. */
static void split(const char *text, const char *origin, long first_line, item **items, int *n)
{
    const char *start = NULL, *name_at = NULL;
    long start_line = first_line, line = first_line;
    int start_col = 1, kind = K_OTHER, depth = 0, line_start = 1, after_semi = 0;
    const char *line_begin = text;
    for (const char *s = text; *s;) {
        if (*s == '\n') {
            line++;
            line_begin = ++s;
            line_start = 1;
            after_semi = 0;
            continue;
        }
        if (*s == ' ' || *s == '\t' || *s == '\r') {
            s++;
            continue;
        }
        const char *c = skip_comment(s);
        if (c != s) {
            s = c;
            continue;
        }
        if (is_ident((unsigned char)*s)) {
            const char *w = s;
            while (is_ident((unsigned char)*w))
                w++;
            int k = depth == 0 && (line_start || after_semi) ? word_kind(s, (size_t)(w - s)) : -1;
            if (k >= 0 || (!start && !after_semi)) {
                if (start)
                    add_item(items, n, kind, name_at, start, s, origin, start_line, start_col);
                start = s;
                start_line = line;
                start_col = (int)(s - line_begin) + 1;
                kind = k >= 0 ? k : K_OTHER;
                name_at = w;
            }
            line_start = after_semi = 0;
            s = w;
            continue;
        }
        if (!start) { /* stray text first: a piece of its own */
            start = s;
            start_line = line;
            start_col = (int)(s - line_begin) + 1;
            kind = K_OTHER;
            name_at = s;
        }
        if (*s == '{' || *s == '(' || *s == '[')
            depth++;
        else if ((*s == '}' || *s == ')' || *s == ']') && depth > 0)
            depth--;
        after_semi = *s == ';' && depth == 0;
        line_start = 0;
        s++;
    }
    if (start)
        add_item(items, n, kind, name_at, start, start + strlen(start), origin, start_line,
                 start_col);
}

/* ---- compiling the session ------------------------------------------------- */

static void holder_unref(holder *h)
{
    if (h && --h->refs == 0) {
        compile_free(h->r);
        free(h);
    }
}

static void unit_unref(repl *r, unit *u)
{
    if (!u || --u->refs > 0)
        return;
    char *err = NULL;
    if (u->fn.unit)
        jit_remove(r->jit, &u->fn, &err);
    free(err);
    holder_unref(u->h);
    free(u->name);
    free(u);
}

static unit *find_unit(const repl *r, const char *name)
{
    for (int i = 0; i < r->n_units; i++)
        if (!strcmp(r->units[i]->name, name))
            return r->units[i];
    return NULL;
}

static compile_opts session_opts(const repl *r)
{
    compile_opts c = { .optimize = 1, .include_dirs = (const char *const *)r->dirs,
                       .n_include_dirs = r->n_dirs, .allow_empty = 1 };
    return c;
}

/* Compiles the session made of items[0..n): the text in kind order, each
 * piece reported under its own origin. */
static compile_result *compile_items(const repl *r, const item *items, int n)
{
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += strlen(items[i].text);
    char *text = xrealloc(NULL, len + 1);
    src_segment *segs = xrealloc(NULL, (size_t)(n ? n : 1) * sizeof *segs);
    size_t at = 0;
    long line = 1;
    int ns = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            int head = items[i].kind <= K_IMPORT;
            if (head != (pass == 0))
                continue;
            segs[ns++] = (src_segment){ line, items[i].origin, items[i].line - line };
            size_t l = strlen(items[i].text);
            memcpy(text + at, items[i].text, l);
            at += l;
            for (size_t k = 0; k < l; k++)
                line += items[i].text[k] == '\n';
        }
    text[at] = 0;
    compile_opts c = session_opts(r);
    c.segments = segs;
    c.n_segments = (size_t)ns;
    compile_result *res = compile_source("session", text, at, &c);
    free(text);
    free(segs);
    return res;
}

/* The circuit called name: the session's own, then its imports'. */
static const sema_circuit *find_circuit(const compile_result *cr, const char *name)
{
    const sema_module *m = cr->sema;
    if (!m)
        return NULL;
    const sema_circuit *c = sema_find_circuit(m, name);
    for (int i = 0; !c && i < m->n_imports; i++)
        c = sema_find_circuit(m->imports[i], name);
    return c;
}

static uint64_t hash_ir(const ir_circuit *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return 0;
    ir_print(f, c);
    fclose(f);
    /* Notes after ';' name source lines, which move when text above the
     * circuit changes: they are not the code. */
    uint64_t h = HOST_HASH_INIT;
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && text[e] != '\n' && text[e] != ';')
            e++;
        h = host_hash(h, text + i, e - i);
        while (e < len && text[e] != '\n')
            e++;
        h = host_hash(h, "\n", 1);
        i = e + 1;
    }
    free(text);
    return h;
}

/* The code of circuit sc in compilation h: the existing unit when its IR is
 * unchanged, else a new JIT-compiled one (reported, and NULL, on failure). */
static unit *compile_unit(repl *r, holder *h, const sema_circuit *sc)
{
    compile_opts c = session_opts(r);
    ir_circuit *ic = compile_probed(h->r, sc, &c);
    if (!ic) {
        diag_flush(h->r->diag, r->o.err, r->o.color);
        return NULL;
    }
    uint64_t hash = hash_ir(ic);
    unit *old = find_unit(r, sc->name);
    if (old && old->hash == hash)
        return old;
    unit *u = xrealloc(NULL, sizeof *u);
    memset(u, 0, sizeof *u);
    char *err = NULL;
    if (jit_compile(r->jit, ic, 2, &u->fn, &err) != 0) {
        error(r, "cannot compile circuit %s: %s", sc->name, err ? err : "?");
        free(err);
        free(u);
        return NULL;
    }
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)hash);
    u->abi = *aot_describe(&h->r->mem, ic, arena_strdup(&h->r->mem, hex));
    u->abi.init = u->fn.init;
    u->abi.step = u->fn.step;
    u->abi.step_n = u->fn.step_n;
    u->name = xstrdup(sc->name);
    u->h = h;
    h->refs++;
    u->hash = hash;
    u->refs = 0;
    return u;
}

/* Puts u in the table as the code of its circuit. */
static void set_unit(repl *r, unit *u)
{
    for (int i = 0; i < r->n_units; i++)
        if (!strcmp(r->units[i]->name, u->name)) {
            if (r->units[i] == u)
                return;
            u->refs++;
            unit_unref(r, r->units[i]);
            r->units[i] = u;
            return;
        }
    r->units = xrealloc(r->units, (size_t)(r->n_units + 1) * sizeof *r->units);
    r->units[r->n_units++] = u;
    u->refs++;
}

/* ---- instances --------------------------------------------------------------- */

static inst *find_inst(const repl *r, const char *name)
{
    for (int i = 0; i < r->n_insts; i++)
        if (!strcmp(r->insts[i]->name, name))
            return r->insts[i];
    return NULL;
}

static int new_pop(repl *r, unit *u, drive_circuit **dc, drive_pop **pop)
{
    *dc = host_wrap(&u->abi, "jit");
    *pop = *dc ? drive_pop_new(*dc, 1) : NULL;
    if (!*pop) {
        error(r, "cannot create an instance of %s: %s", u->name, drive_last_error());
        free(*dc);
        *dc = NULL;
        return -1;
    }
    return 0;
}

static void stop_recording(repl *r, const char *why)
{
    if (!r->rec)
        return;
    if (drive_trace_close(r->rec) != 0)
        error(r, "%s: %s", r->rec_path, drive_last_error());
    else if (why)
        say(r, "recording to %s stopped (%s)\n", r->rec_path, why);
    r->rec = NULL;
    r->rec_inst = NULL;
    free(r->rec_path);
    r->rec_path = NULL;
}

static void free_inst(inst *in)
{
    drive_pop_free(in->pop);
    drive_circuit_free(in->dc);
    free(in->name);
    free(in);
}

/* A list of field groups for a report: vectors by their base name. */
typedef struct names {
    char *text;
    size_t len, count;
} names;

static void names_add(names *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void names_add(names *l, const char *fmt, ...)
{
    enum { SHOWN = 12 };
    l->count++;
    if (l->count > SHOWN)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    size_t n = strlen(buf);
    l->text = xrealloc(l->text, l->len + n + 3);
    if (l->len) {
        memcpy(l->text + l->len, ", ", 2);
        l->len += 2;
    }
    memcpy(l->text + l->len, buf, n + 1);
    l->len += n;
}

static void names_print(repl *r, const char *label, names *l)
{
    if (!l->count)
        return;
    say(r, "  %s: %s", label, l->text);
    if (l->count > 12)
        say(r, " and %zu more", l->count - 12);
    say(r, "\n");
    free(l->text);
}

/* The field (a vector's first element) called name, of that kind. */
static const drive_abi_field *field_named(const drive_abi_circuit *a, const char *name, int kind)
{
    for (uint32_t i = 0; i < a->n_fields; i++)
        if (a->fields[i].kind == kind && a->fields[i].index == 0 &&
            !strcmp(a->fields[i].base, name))
            return &a->fields[i];
    return NULL;
}

static const char *fmt_value(char *buf, size_t n, const drive_abi_field *f, double v);
static double value_of(const inst *in, const drive_abi_field *f);

static const char *shape(char *buf, size_t n, const drive_abi_field *f)
{
    const char *t = f->type == DRIVE_ABI_BOOL ? "bool" : "real";
    if (f->len > 1)
        snprintf(buf, n, "vec[%u] of %s", f->len, t);
    else
        snprintf(buf, n, "%s", t);
    return buf;
}

/* The group a state slot belongs to: its name up to the last '.'
 * ("sa.p" for "sa.p.w[3]"), the parts of one predictor or reflex that only
 * make sense together. Empty for a circuit's own states. */
static size_t group_len(const drive_abi_field *f)
{
    const char *dot = strrchr(f->base, '.');
    return dot ? (size_t)(dot - f->base) : 0;
}

static int same_group(const drive_abi_field *a, const drive_abi_field *b)
{
    size_t n = group_len(a);
    return n && n == group_len(b) && !strncmp(a->base, b->base, n);
}

/* Moves instance in to unit u. A field (a whole vector) keeps its value
 * when the new circuit has one of the same name, kind, type and length:
 * inputs stay held (when inside the new range), outputs show their last
 * values until the next step, params keep what was set (in the new range;
 * one never set takes the new default), and state keeps its value, except
 * that the slots of one predictor or reflex are kept or reset together, so
 * a history is never kept with a cleared buffer. Says what was kept and
 * what was reset. */
static int migrate(repl *r, inst *in, unit *u)
{
    drive_circuit *dc;
    drive_pop *pop;
    if (new_pop(r, u, &dc, &pop) != 0)
        return -1;
    const drive_abi_circuit *oa = &in->u->abi, *na = &u->abi;
    enum { COPY = 0, RESET_NEW, RESET_SHAPE, RESET_RANGE, RESET_KIND, RESET_GROUP, NEW_DEFAULT };
    unsigned char *how = xrealloc(NULL, na->n_fields + 1);
    const drive_abi_field **from = xrealloc(NULL, (na->n_fields + 1) * sizeof *from);
    char b1[64], b2[64];
    /* Decide, per field (a vector at its first element). */
    for (uint32_t i = 0; i < na->n_fields; i++) {
        const drive_abi_field *f = &na->fields[i];
        how[i] = RESET_NEW;
        from[i] = NULL;
        if (f->index > 0)
            continue;
        const drive_abi_field *g = field_named(oa, f->base, f->kind);
        if (!g) {
            for (int k = DRIVE_ABI_INPUT; k <= DRIVE_ABI_STATE && !g; k++)
                g = k != f->kind ? field_named(oa, f->base, k) : NULL;
            how[i] = g ? RESET_KIND : RESET_NEW;
            from[i] = g;
            continue;
        }
        from[i] = g;
        if (g->type != f->type || g->len != f->len) {
            how[i] = RESET_SHAPE;
            continue;
        }
        how[i] = COPY;
        for (uint32_t e = 0; e < f->len && f->has_range &&
                             (f->kind == DRIVE_ABI_PARAM || f->kind == DRIVE_ABI_INPUT); e++) {
            const unsigned char *ob = host_field(in->pop, 0, &g[e]);
            double v = 0;
            if (f->type == DRIVE_ABI_REAL)
                memcpy(&v, ob, sizeof v);
            else
                v = ob[0];
            if (!(v >= f->lo && v <= f->hi))
                how[i] = RESET_RANGE;
        }
        if (how[i] == COPY && f->kind == DRIVE_ABI_PARAM && f->len == 1 &&
            value_of(in, g) == g->init && f->init != g->init)
            how[i] = NEW_DEFAULT; /* never set: the new default applies */
    }
    /* Slots of one construct go together. */
    for (uint32_t i = 0; i < na->n_fields; i++) {
        const drive_abi_field *f = &na->fields[i];
        if (f->kind != DRIVE_ABI_STATE || f->index > 0 || how[i] == COPY || !group_len(f))
            continue;
        for (uint32_t k = 0; k < na->n_fields; k++)
            if (na->fields[k].kind == DRIVE_ABI_STATE && na->fields[k].index == 0 &&
                how[k] == COPY && same_group(&na->fields[k], f))
                how[k] = RESET_GROUP;
    }
    names kept = { 0 }, reset = { 0 };
    for (uint32_t i = 0; i < na->n_fields; i++) {
        const drive_abi_field *f = &na->fields[i], *g = from[i];
        if (f->index > 0)
            continue;
        int report = f->kind != DRIVE_ABI_OUTPUT;
        switch (how[i]) {
        case COPY: {
            size_t w = f->type == DRIVE_ABI_BOOL ? 1 : 8;
            for (uint32_t e = 0; e < f->len; e++)
                memcpy(host_field(pop, 0, &f[e]), host_field(in->pop, 0, &g[e]), w);
            if (report && f->kind != DRIVE_ABI_INPUT)
                names_add(&kept, "%s", f->base);
            break;
        }
        case NEW_DEFAULT:
            if (report)
                names_add(&kept, "%s (never set: its new default %s)", f->base,
                          fmt_value(b1, sizeof b1, f, f->init));
            break;
        case RESET_NEW:
            if (report && f->kind != DRIVE_ABI_INPUT)
                names_add(&reset, "%s (new)", f->base);
            break;
        case RESET_KIND:
            if (report)
                names_add(&reset, "%s (was %s)", f->base,
                          g->kind == DRIVE_ABI_PARAM    ? "a param"
                          : g->kind == DRIVE_ABI_INPUT  ? "an input"
                          : g->kind == DRIVE_ABI_OUTPUT ? "an output"
                                                        : "a state slot");
            break;
        case RESET_SHAPE:
            if (report)
                names_add(&reset, "%s (was %s, now %s)", f->base, shape(b1, sizeof b1, g),
                          shape(b2, sizeof b2, f));
            break;
        case RESET_RANGE:
            names_add(&reset, "%s (its value is outside the new range [%s, %s])", f->base,
                      fmt_value(b1, sizeof b1, f, f->lo), fmt_value(b2, sizeof b2, f, f->hi));
            break;
        case RESET_GROUP:
            names_add(&reset, "%s (with the rest of %.*s)", f->base, (int)group_len(f), f->base);
            break;
        }
    }
    for (uint32_t i = 0; i < oa->n_fields; i++) {
        const drive_abi_field *g = &oa->fields[i];
        if (g->kind == DRIVE_ABI_OUTPUT || g->index > 0)
            continue;
        int found = 0;
        for (int k = DRIVE_ABI_INPUT; k <= DRIVE_ABI_STATE && !found; k++)
            found = field_named(na, g->base, k) != NULL;
        if (!found)
            names_add(&reset, "%s (gone)", g->base);
    }
    free(how);
    free(from);
    pop->ticks = in->pop->ticks;
    say(r, "instance of %s: ", u->name);
    if (!kept.count && !reset.count)
        say(r, "no params or state to keep\n");
    else
        say(r, "kept %zu, reset %zu\n", kept.count, reset.count);
    names_print(r, "kept", &kept);
    names_print(r, "reset", &reset);
    if (r->rec_inst == in)
        stop_recording(r, "the circuit was redefined");
    drive_pop_free(in->pop);
    drive_circuit_free(in->dc);
    in->pop = pop;
    in->dc = dc;
    u->refs++;
    unit_unref(r, in->u);
    in->u = u;
    return 0;
}

static inst *study(repl *r, const char *name)
{
    inst *in = find_inst(r, name);
    if (in)
        return r->study = in;
    const sema_circuit *sc = r->cur ? find_circuit(r->cur->r, name) : NULL;
    unit *u = sc ? find_unit(r, name) : NULL;
    if (!u) {
        if (!sc) {
            error(r, "no circuit named '%s'", name);
            const char *cands[256];
            size_t nc = 0;
            for (int i = 0; i < r->n_units && nc < 256; i++)
                cands[nc++] = r->units[i]->name;
            const char *s = diag_suggest(name, cands, nc);
            if (s)
                hint(r, "did you mean '%s'?", s);
            return NULL;
        }
        u = compile_unit(r, r->cur, sc);
        if (!u)
            return NULL;
        set_unit(r, u);
    }
    in = xrealloc(NULL, sizeof *in);
    memset(in, 0, sizeof *in);
    if (new_pop(r, u, &in->dc, &in->pop) != 0) {
        free(in);
        return NULL;
    }
    in->name = xstrdup(name);
    in->u = u;
    u->refs++;
    r->insts = xrealloc(r->insts, (size_t)(r->n_insts + 1) * sizeof *r->insts);
    r->insts[r->n_insts++] = in;
    return r->study = in;
}

/* The circuit under study; when there is none and the session has exactly
 * one circuit of its own, that one. */
static inst *studied(repl *r)
{
    if (r->study)
        return r->study;
    const sema_module *m = r->cur ? r->cur->r->sema : NULL;
    if (m && m->n_circuits == 1) {
        inst *in = study(r, m->circuits[0].name);
        if (in)
            say(r, "studying circuit %s\n", in->name);
        return in;
    }
    error(r, "no circuit is under study");
    hint(r, m && m->n_circuits ? "choose one with :circuit NAME" : "define a circuit first, or :load a file");
    return NULL;
}

/* ---- entering definitions -------------------------------------------------- */

static int same_def(const item *a, const item *b)
{
    if (a->kind != b->kind || a->kind == K_OTHER)
        return 0;
    return a->kind == K_MODULE || a->kind == K_TICK || !strcmp(a->name, b->name);
}

static item copy_item(const item *a)
{
    return (item){ a->kind, xstrdup(a->name), xstrdup(a->text), xstrdup(a->origin), a->line };
}

/* The session with new definitions: each replaces the definition of the same
 * kind and name (or is added at the end); when drop_origin is given, every
 * definition from that origin goes first (a reloaded file). */
static item *merge(const repl *r, const item *add, int n_add, const char *drop_origin,
                   int *n_out)
{
    item *out = NULL;
    int n = 0;
    out = xrealloc(NULL, (size_t)(r->n_items + n_add + 1) * sizeof *out);
    for (int i = 0; i < r->n_items; i++) {
        if (drop_origin && !strcmp(r->items[i].origin, drop_origin))
            continue;
        int replaced = -1;
        for (int k = 0; k < n_add && replaced < 0; k++)
            if (same_def(&r->items[i], &add[k]))
                replaced = k;
        out[n++] = replaced >= 0 ? copy_item(&add[replaced]) : copy_item(&r->items[i]);
    }
    for (int k = 0; k < n_add; k++) {
        int present = 0;
        for (int i = 0; i < n && !present; i++)
            present = same_def(&out[i], &add[k]) && !strcmp(out[i].text, add[k].text) &&
                      !strcmp(out[i].origin, add[k].origin) && out[i].line == add[k].line;
        if (!present)
            out[n++] = copy_item(&add[k]);
    }
    *n_out = n;
    return out;
}

static int defined_before(const repl *r, const item *it)
{
    for (int i = 0; i < r->n_items; i++)
        if (same_def(&r->items[i], it))
            return 1;
    return 0;
}

static void describe(repl *r, const compile_result *cr, const item *it, int again)
{
    const char *verb = again ? "redefined" : "defined";
    switch (it->kind) {
    case K_CIRCUIT: {
        const sema_circuit *sc = cr->sema ? sema_find_circuit(cr->sema, it->name) : NULL;
        if (sc)
            say(r, "%s circuit %s (%d input%s, %d output%s, %d param%s)\n", verb, it->name,
                sc->n_inputs, sc->n_inputs == 1 ? "" : "s", sc->n_outputs,
                sc->n_outputs == 1 ? "" : "s", sc->n_params, sc->n_params == 1 ? "" : "s");
        break;
    }
    case K_CONST: say(r, "%s const %s\n", verb, it->name); break;
    case K_SCENARIO: say(r, "%s scenario %s (run it with :test %s)\n", verb, it->name, it->name); break;
    case K_IMPORT: say(r, "imported %s\n", it->name); break;
    case K_MODULE: say(r, "module %s\n", it->name); break;
    case K_TICK: {
        const char *t = it->text + strspn(it->text, " \t");
        say(r, "%.*s\n", (int)strcspn(t, "#\n"), t);
        break;
    }
    default: break;
    }
}

/* Replaces the session by items (taking them) when they compile; then
 * compiles the changed circuits and moves live instances over. */
static int commit(repl *r, item *items, int n, const item *added, int n_added, int quiet)
{
    double t0 = now_ms();
    compile_result *cr = compile_items(r, items, n);
    int errors = diag_errors(cr->diag);
    diag_flush(cr->diag, r->o.err, r->o.color);
    if (errors || !cr->sema) {
        compile_free(cr);
        free_items(items, n);
        return REPL_ERROR;
    }
    holder *h = xrealloc(NULL, sizeof *h);
    *h = (holder){ cr, 1 };
    /* Compile first, change nothing until every circuit compiled. */
    const sema_module *m = cr->sema;
    int n_new = m->n_circuits + r->n_insts;
    unit **fresh = xrealloc(NULL, (size_t)(n_new ? n_new : 1) * sizeof *fresh);
    int nf = 0, failed = 0;
    for (int i = 0; i < m->n_circuits && !failed; i++)
        failed = !(fresh[nf++] = compile_unit(r, h, &m->circuits[i]));
    for (int i = 0; i < r->n_insts && !failed; i++) {
        const sema_circuit *sc = find_circuit(cr, r->insts[i]->name);
        int done = 0;
        for (int k = 0; k < nf && !done; k++)
            done = fresh[k] && !strcmp(fresh[k]->name, r->insts[i]->name);
        if (sc && !done)
            failed = !(fresh[nf++] = compile_unit(r, h, sc));
    }
    if (failed) {
        for (int k = 0; k < nf; k++)
            if (fresh[k] && fresh[k]->refs == 0)
                unit_unref(r, (fresh[k]->refs = 1, fresh[k]));
        free(fresh);
        holder_unref(h);
        free_items(items, n);
        return REPL_ERROR;
    }
    int compiled = 0;
    for (int k = 0; k < nf; k++)
        compiled += fresh[k]->refs == 0; /* new code, not yet in any table */
    r->last_ms = compiled ? now_ms() - t0 : 0;
    if (!quiet)
        for (int k = 0; k < n_added; k++)
            describe(r, cr, &added[k], defined_before(r, &added[k]));
    if (r->o.timings && compiled)
        say(r, "(callable in %.2f ms)\n", r->last_ms);
    free_items(r->items, r->n_items);
    r->items = items;
    r->n_items = n;
    holder_unref(r->cur);
    r->cur = h;
    for (int k = 0; k < nf; k++) {
        unit *u = fresh[k];
        inst *in = find_inst(r, u->name);
        if (in && in->u != u)
            migrate(r, in, u);
        set_unit(r, u);
    }
    free(fresh);
    /* Circuits no longer defined (a reloaded file dropped them, or
     * :forget): their code and instances go. */
    for (int i = 0; i < r->n_insts;) {
        inst *in = r->insts[i];
        if (find_circuit(cr, in->name)) {
            i++;
            continue;
        }
        say(r, "circuit %s is no longer defined: its instance is dropped\n", in->name);
        if (r->rec_inst == in)
            stop_recording(r, "its circuit is gone");
        if (r->study == in)
            r->study = NULL;
        memmove(&r->insts[i], &r->insts[i + 1], (size_t)(r->n_insts - i - 1) * sizeof *r->insts);
        r->n_insts--;
        unit_unref(r, in->u);
        free_inst(in);
    }
    for (int i = 0; i < r->n_units;) {
        if (find_circuit(cr, r->units[i]->name)) {
            i++;
            continue;
        }
        unit_unref(r, r->units[i]);
        memmove(&r->units[i], &r->units[i + 1], (size_t)(r->n_units - i - 1) * sizeof *r->units);
        r->n_units--;
    }
    return REPL_OK;
}

static int enter(repl *r, const char *text, const char *origin, long line, const char *drop,
                 int quiet)
{
    item *add = NULL;
    int n_add = 0;
    split(text, origin, line, &add, &n_add);
    if (!n_add && !drop) {
        free(add);
        return REPL_OK;
    }
    int n;
    item *all = merge(r, add, n_add, drop, &n);
    int rc = commit(r, all, n, add, n_add, quiet);
    free_items(add, n_add);
    return rc;
}

static char *read_file(repl *r, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        error(r, "cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0, k;
    char chunk[65536];
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + k + 1 > cap) {
            cap = (len + k + 1) * 2;
            buf = xrealloc(buf, cap);
        }
        memcpy(buf + len, chunk, k);
        len += k;
        if (len > (64u << 20)) {
            error(r, "'%s' is larger than 64 MiB", path);
            free(buf);
            fclose(f);
            return NULL;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        error(r, "cannot read '%s': %s", path, strerror(errno));
        free(buf);
        return NULL;
    }
    buf = xrealloc(buf, len + 1);
    buf[len] = 0;
    if (strlen(buf) != len) {
        error(r, "'%s' contains a NUL byte", path);
        free(buf);
        return NULL;
    }
    /* A UTF-8 byte order mark is allowed at the start of a file; in the
     * session the file's text is not at the start. */
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
        memmove(buf, buf + 3, len - 2);
    return buf;
}

static void add_dir_of(repl *r, const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? xstrndup(path, (size_t)(slash - path) + (slash == path)) : xstrdup(".");
    for (int i = 0; i < r->n_dirs; i++)
        if (!strcmp(r->dirs[i], dir)) {
            free(dir);
            return;
        }
    r->dirs = xrealloc(r->dirs, (size_t)(r->n_dirs + 1) * sizeof *r->dirs);
    r->dirs[r->n_dirs++] = dir;
}

/* Whether two paths name one file (x.drive and ./x.drive). */
static int same_file(const char *a, const char *b)
{
    if (!strcmp(a, b))
        return 1;
    char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
    int same = ra && rb && !strcmp(ra, rb);
    free(ra);
    free(rb);
    return same;
}

static int load(repl *r, const char *given, int reload)
{
    char *text = read_file(r, given);
    if (!text)
        return REPL_ERROR;
    add_dir_of(r, given);
    const char *path = given; /* as first loaded: the origin of its definitions */
    int known = 0;
    for (int i = 0; i < r->n_files && !known; i++)
        if (same_file(r->files[i], given)) {
            known = 1;
            path = r->files[i];
        }
    /* Definitions from elsewhere (typed, another file) that the file's
     * replace: said, so a reload never silently undoes typed work. */
    item *mine = NULL;
    int n_mine = 0;
    split(text, path, 1, &mine, &n_mine);
    char **notes = xrealloc(NULL, (size_t)(n_mine + 1) * sizeof *notes);
    int n_notes = 0;
    for (int k = 0; k < n_mine; k++)
        for (int i = 0; i < r->n_items; i++) {
            const item *old = &r->items[i];
            if (!same_def(old, &mine[k]) || !strcmp(old->origin, path) ||
                !strcmp(old->text, mine[k].text))
                continue;
            char buf[512];
            snprintf(buf, sizeof buf, "note: %s%s%s from %s:%ld is replaced by the file's\n",
                     KIND_WORD[old->kind], *old->name ? " " : "", old->name, old->origin,
                     old->line);
            notes[n_notes++] = xstrdup(buf);
            break;
        }
    int rc = enter(r, text, path, 1, known || reload ? path : NULL, 1);
    free(text);
    for (int k = 0; k < n_notes; k++) {
        if (rc == REPL_OK)
            say(r, "%s", notes[k]);
        free(notes[k]);
    }
    free(notes);
    free_items(mine, n_mine);
    if (rc == REPL_OK && !known) {
        r->files = xrealloc(r->files, (size_t)(r->n_files + 1) * sizeof *r->files);
        r->files[r->n_files++] = xstrdup(path);
    }
    if (rc == REPL_OK) {
        int count[K_OTHER + 1] = { 0 };
        for (int i = 0; i < r->n_items; i++)
            if (!strcmp(r->items[i].origin, path))
                count[r->items[i].kind]++;
        say(r, "%s %s:", reload || known ? "reloaded" : "loaded", path);
        static const char *const what[] = { NULL, NULL, "import", "const", "circuit", "scenario" };
        int any = 0;
        for (int k = K_IMPORT; k <= K_SCENARIO; k++)
            if (count[k]) {
                say(r, "%s %d %s%s", any ? "," : "", count[k], what[k], count[k] == 1 ? "" : "s");
                any = 1;
            }
        say(r, "%s\n", any ? "" : " no definitions");
        for (int i = 0; i < r->n_items; i++)
            if (!strcmp(r->items[i].origin, path) && r->items[i].kind == K_CIRCUIT)
                say(r, "  circuit %s\n", r->items[i].name);
    }
    return rc;
}

/* ---- values ------------------------------------------------------------------ */

static const char *fmt_value(char *buf, size_t n, const drive_abi_field *f, double v)
{
    if (f->type == DRIVE_ABI_BOOL)
        snprintf(buf, n, "%s", v != 0 ? "true" : "false");
    else
        snprintf(buf, n, "%.6g", v);
    return buf;
}

static double value_of(const inst *in, const drive_abi_field *f)
{
    return drive_get(in->pop, 0, (int)(f - in->u->abi.fields));
}

/* The field for a name as a user writes it: "x", "v", "v[2]", "p.target";
 * vectors give their first element. NULL, with an error and a suggestion,
 * when there is none. */
static const drive_abi_field *lookup(repl *r, const inst *in, const char *name)
{
    int k = drive_find(in->dc, -1, name);
    if (k >= 0)
        return &in->u->abi.fields[k];
    const drive_abi_circuit *a = &in->u->abi;
    const char *br = strchr(name, '[');
    if (br) {
        char *base = xstrndup(name, (size_t)(br - name));
        int k2 = drive_find(in->dc, -1, base);
        if (k2 >= 0 && a->fields[k2].len > 1) {
            error(r, "%s has %u elements (%s[0] to %s[%u]): no %s", base, a->fields[k2].len, base,
                  base, a->fields[k2].len - 1, name);
            free(base);
            return NULL;
        }
        free(base);
    }
    error(r, "circuit %s has no signal '%s'", in->name, name);
    const char **cands = xrealloc(NULL, (a->n_fields + 1) * sizeof *cands);
    size_t nc = 0;
    for (uint32_t i = 0; i < a->n_fields; i++)
        if (a->fields[i].index == 0)
            cands[nc++] = a->fields[i].base;
    const char *s = diag_suggest(name, cands, nc);
    if (s)
        hint(r, "did you mean '%s'?", s);
    else
        hint(r, ":info lists the inputs, params and outputs");
    free(cands);
    return NULL;
}

/* Prints name = value (a whole vector when name is its base). */
static void print_value(repl *r, const inst *in, const char *name, const drive_abi_field *f)
{
    char buf[64];
    int whole = f->len > 1 && !strcmp(name, f->base);
    say(r, "%s = ", name);
    if (!whole) {
        say(r, "%s", fmt_value(buf, sizeof buf, f, value_of(in, f)));
    } else {
        say(r, "[");
        uint32_t show = f->len > 16 ? 16 : f->len;
        for (uint32_t e = 0; e < show; e++)
            say(r, "%s%s", e ? ", " : "", fmt_value(buf, sizeof buf, &f[e], value_of(in, &f[e])));
        if (show < f->len)
            say(r, ", … %u more", f->len - show);
        say(r, "]");
    }
    say(r, "\n");
}

/* A number, a bool word, or a duration ("300ms", "2 s"), as drive stores it. */
static int parse_number(const char *s, const drive_abi_field *f, double *v)
{
    while (isspace((unsigned char)*s))
        s++;
    if (f->type == DRIVE_ABI_BOOL) {
        if (!strcmp(s, "true") || !strcmp(s, "1"))
            return *v = 1, 0;
        if (!strcmp(s, "false") || !strcmp(s, "0"))
            return *v = 0, 0;
        return -1;
    }
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || errno == ERANGE)
        return -1;
    while (isspace((unsigned char)*end))
        end++;
    if (!strcmp(end, "ms"))
        d /= 1000;
    else if (!strcmp(end, "min"))
        d *= 60;
    else if (*end && strcmp(end, "s") != 0)
        return -1;
    *v = d;
    return 0;
}

/* Whether v may go into field f (named name): finite, and inside a
 * declared range. Reports why not. */
static int check_one(repl *r, const drive_abi_field *f, double v, const char *name)
{
    char b1[64], b2[64], b3[64];
    if (!isfinite(v)) {
        error(r, "%s %s must be a finite number", f->kind == DRIVE_ABI_INPUT ? "input" : "param",
              name);
        return -1;
    }
    if (f->has_range && !(v >= f->lo && v <= f->hi)) {
        error(r, "%s %s must lie in [%s, %s], not %s",
              f->kind == DRIVE_ABI_INPUT ? "input" : "param", name, fmt_value(b1, 64, f, f->lo),
              fmt_value(b2, 64, f, f->hi), fmt_value(b3, 64, f, v));
        return -1;
    }
    return 0;
}

/* :set NAME = VALUE — VALUE a number, a bool, a duration, or for a vector
 * one value for every element or [a, b, ...]. Every value is checked before
 * any is set. */
static int cmd_set(repl *r, char *args)
{
    inst *in = studied(r);
    if (!in)
        return REPL_ERROR;
    char *eq = strchr(args, '=');
    char *name = args, *val;
    if (eq) {
        *eq = 0;
        val = eq + 1;
    } else {
        val = name + strcspn(name, " \t");
        if (*val)
            *val++ = 0;
    }
    for (char *e = name + strlen(name); e > name && isspace((unsigned char)e[-1]); e--)
        e[-1] = 0;
    while (isspace((unsigned char)*val))
        val++;
    for (char *e = val + strlen(val); e > val && isspace((unsigned char)e[-1]); e--)
        e[-1] = 0;
    if (!*name || !*val) {
        error(r, ":set needs NAME = VALUE");
        hint(r, "e.g. :set motion = 0.8, :set v[2] = 1, :set v = [0, 1, 0], :set gain = 2");
        return REPL_ERROR;
    }
    const drive_abi_field *f = lookup(r, in, name);
    if (!f)
        return REPL_ERROR;
    if (f->kind != DRIVE_ABI_INPUT && f->kind != DRIVE_ABI_PARAM) {
        error(r, "%s is %s %s: only inputs and params can be set", name,
              f->kind == DRIVE_ABI_STATE ? "a state slot of" : "an output of", in->name);
        return REPL_ERROR;
    }
    int whole = f->len > 1 && !strcmp(name, f->base);
    uint32_t n = whole ? f->len : 1;
    double *vals = xrealloc(NULL, n * sizeof *vals);
    const char *hint_text = f->type == DRIVE_ABI_BOOL
                                ? "give true or false"
                                : "give a number, or a duration such as 300ms or 2s";
    int rc = REPL_OK;
    if (*val == '[') {
        size_t len = strlen(val);
        if (val[len - 1] != ']') {
            error(r, "a list of values ends with ']': %s", val);
            rc = REPL_ERROR;
        } else if (!whole) {
            error(r, "%s is one value; a list sets a whole vector", name);
            rc = REPL_ERROR;
        } else {
            /* Count first, then read each element from a copy. */
            char *list = xstrndup(val + 1, len - 2);
            uint32_t count = 0;
            for (char *p = list; *p; p++)
                count += *p == ',';
            count += strspn(list, " \t") != strlen(list);
            if (count != n) {
                error(r, "%s has %u element%s; the list gives %u", name, n, n == 1 ? "" : "s",
                      count);
                rc = REPL_ERROR;
            }
            char *save = NULL;
            uint32_t k = 0;
            for (char *p = rc ? NULL : strtok_r(list, ",", &save); p && k < n;
                 p = strtok_r(NULL, ",", &save), k++)
                if (parse_number(p, f, &vals[k]) != 0) {
                    while (isspace((unsigned char)*p))
                        p++;
                    error(r, "element %u of the list, '%s', is not a value for %s %s", k, p,
                          f->type == DRIVE_ABI_BOOL ? "bool" : "real", name);
                    hint(r, "%s", hint_text);
                    rc = REPL_ERROR;
                    break;
                }
            if (!rc && k != n) {
                error(r, "%s has %u elements; the list gives %u", name, n, k);
                rc = REPL_ERROR;
            }
            free(list);
        }
    } else if (parse_number(val, f, &vals[0]) != 0) {
        error(r, "'%s' is not a value for %s %s", val, f->type == DRIVE_ABI_BOOL ? "bool" : "real",
              name);
        hint(r, "%s", hint_text);
        rc = REPL_ERROR;
    } else {
        for (uint32_t e = 1; e < n; e++)
            vals[e] = vals[0];
    }
    for (uint32_t e = 0; e < n && !rc; e++)
        if (check_one(r, &f[e], vals[e], whole ? f[e].name : name) != 0)
            rc = REPL_ERROR;
    for (uint32_t e = 0; e < n && !rc; e++)
        if (drive_set(in->pop, 0, (int)(&f[e] - in->u->abi.fields), vals[e]) != 0) {
            error(r, "%s", drive_last_error());
            rc = REPL_ERROR;
        }
    free(vals);
    return rc;
}

/* ---- stepping ---------------------------------------------------------------- */

typedef struct watched {
    const drive_abi_field *f;
    const char *name;
    /* sparkline buckets */
    double *lo, *hi;
    double sum;
    double min, max, last;
    long n;
} watched;

static const char *const BARS[] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };

static void print_spark(repl *r, const watched *w, int width, int name_w)
{
    double mean = w->n ? w->sum / (double)w->n : 0;
    say(r, "  %-*s ", name_w, w->name);
    double span = w->max - w->min;
    for (int b = 0; b < width; b++) {
        /* The bucket's extreme farthest from the mean: one-tick spikes show. */
        double v = fabs(w->hi[b] - mean) >= fabs(w->lo[b] - mean) ? w->hi[b] : w->lo[b];
        if (isnan(v)) {
            say(r, "?");
            continue;
        }
        int k = span > 0 ? (int)lround((v - w->min) / span * 7) : 0;
        say(r, "%s", BARS[k < 0 ? 0 : k > 7 ? 7 : k]);
    }
    char b1[64], b2[64], b3[64];
    say(r, "  min %s  max %s  last %s\n", fmt_value(b1, 64, w->f, w->min),
        fmt_value(b2, 64, w->f, w->max), fmt_value(b3, 64, w->f, w->last));
}

/* Parses a step count: N ticks, or a duration ("2s", "300 ms", "1.5min"). */
static long parse_ticks(repl *r, const char *s, double tick)
{
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return 1;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    const char *u = end;
    while (isspace((unsigned char)*u))
        u++;
    double ticks = d;
    if (end == s || errno || d < 0 || !isfinite(d))
        ticks = -1;
    else if (!strcmp(u, "s"))
        ticks = d / tick;
    else if (!strcmp(u, "ms"))
        ticks = d / 1000 / tick;
    else if (!strcmp(u, "min"))
        ticks = d * 60 / tick;
    else if (*u || d != floor(d))
        ticks = -1;
    if (ticks < 0 || ticks > 1e12) {
        error(r, "':step %s': give a number of ticks or a duration (e.g. 100, 2s, 300ms)", s);
        return -1;
    }
    long n = (long)llround(ticks);
    if (n == 0 && ticks > 0) {
        error(r, "':step %s' is less than half a tick (a tick is %g s)", s, tick);
        return -1;
    }
    if (fabs(ticks - (double)n) > 1e-6 * (ticks > 1 ? ticks : 1))
        say(r, "note: %s is %.6g ticks of %g s; stepping %ld\n", s, ticks, tick, n);
    return n;
}

static int cmd_step(repl *r, const char *args)
{
    inst *in = studied(r);
    if (!in)
        return REPL_ERROR;
    const drive_abi_circuit *a = &in->u->abi;
    long n = parse_ticks(r, args, a->tick_seconds);
    if (n < 0)
        return REPL_ERROR;
    int nw = 0;
    watched *w = xrealloc(NULL, (size_t)(r->n_watch ? r->n_watch : 1) * sizeof *w);
    for (int i = 0; i < r->n_watch; i++) {
        int k = drive_find(in->dc, -1, r->watch[i]);
        if (k < 0) {
            say(r, "note: %s has no signal '%s' now; not watched\n", in->name, r->watch[i]);
            continue;
        }
        w[nw++] = (watched){ .f = &a->fields[k], .name = r->watch[i], .min = INFINITY,
                             .max = -INFINITY };
    }
    int view = r->view == V_AUTO ? (n <= 20 ? V_TABLE : V_SPARK) : r->view;
    int width = n < 60 ? (int)n : 60;
    int name_w = 4;
    for (int i = 0; i < nw; i++) {
        int l = (int)strlen(w[i].name);
        name_w = l > name_w ? l : name_w;
        if (view == V_SPARK) {
            w[i].lo = xrealloc(NULL, (size_t)(width + 1) * sizeof(double));
            w[i].hi = xrealloc(NULL, (size_t)(width + 1) * sizeof(double));
            for (int b = 0; b <= width; b++)
                w[i].lo[b] = INFINITY, w[i].hi[b] = -INFINITY;
        }
    }
    if (view == V_TABLE && nw) {
        say(r, "%8s %10s", "tick", "time");
        for (int i = 0; i < nw; i++)
            say(r, " %*s", name_w > 10 ? name_w : 10, w[i].name);
        say(r, "\n");
    }
    rt_progress prog = { 0 };
    if (r->o.progress)
        rt_progress_start(&prog, in->name, n);
    interrupted = 0;
    long done = 0;
    size_t bad = 0;
    long first_bad = -1;
    for (; done < n && !interrupted; done++) {
        size_t b = drive_step(in->pop, 1);
        if (b && first_bad < 0)
            first_bad = (long)in->pop->ticks - 1;
        bad += b;
        if (r->rec && r->rec_inst == in && drive_trace_record(r->rec) != 0) {
            error(r, "%s", drive_last_error());
            stop_recording(r, NULL);
        }
        uint64_t t = in->pop->ticks - 1;
        if (view == V_TABLE && nw) {
            char b1[64];
            say(r, "%8llu %10.4g", (unsigned long long)t, (double)t * a->tick_seconds);
            for (int i = 0; i < nw; i++)
                say(r, " %*s", name_w > 10 ? name_w : 10,
                    fmt_value(b1, 64, w[i].f, value_of(in, w[i].f)));
            say(r, "\n");
        } else if (nw) {
            int bucket = (int)((double)done * width / (double)n);
            for (int i = 0; i < nw; i++) {
                double v = value_of(in, w[i].f);
                if (v < w[i].lo[bucket] || isnan(v))
                    w[i].lo[bucket] = v;
                if (v > w[i].hi[bucket] || isnan(v))
                    w[i].hi[bucket] = v;
                if (!isnan(v)) {
                    w[i].min = v < w[i].min ? v : w[i].min;
                    w[i].max = v > w[i].max ? v : w[i].max;
                    w[i].sum += v;
                    w[i].n++;
                }
                w[i].last = v;
            }
        }
        if (r->o.progress)
            rt_progress_tick(&prog, done + 1);
    }
    if (r->o.progress)
        rt_progress_end(&prog);
    if (view == V_SPARK && nw && done) {
        if (done < n) /* interrupted: draw what was stepped */
            width = (int)((double)done * width / (double)n) + 1 > width
                        ? width : (int)((double)done * width / (double)n) + 1;
        for (int i = 0; i < nw; i++)
            print_spark(r, &w[i], width, name_w);
    }
    for (int i = 0; i < nw; i++) {
        free(w[i].lo);
        free(w[i].hi);
    }
    free(w);
    double t = (double)in->pop->ticks * a->tick_seconds;
    if (interrupted)
        say(r, "interrupted after %ld of %ld ticks; ", done, n);
    say(r, "t = %.6g s (%llu tick%s)\n", t, (unsigned long long)in->pop->ticks,
        in->pop->ticks == 1 ? "" : "s");
    if (!nw) { /* no watch list: the outputs, briefly */
        char b1[64];
        int shown = 0;
        for (uint32_t i = 0; i < a->n_fields; i++) {
            const drive_abi_field *f = &a->fields[i];
            if (f->kind != DRIVE_ABI_OUTPUT || f->role == DRIVE_ABI_PROBE || f->len > 1)
                continue;
            if (shown == 8) {
                say(r, "  …");
                break;
            }
            say(r, "%s%s = %s", shown ? ", " : "  ", f->name, fmt_value(b1, 64, f, value_of(in, f)));
            shown++;
        }
        if (shown)
            say(r, "\n");
    }
    if (bad)
        say(r, "warning: %zu tick%s had an invalid input (first at tick %ld): outputs were "
               "written but no state was kept\n", bad, bad == 1 ? "" : "s", first_bad);
    return REPL_OK;
}

/* ---- the other commands ----------------------------------------------------- */

/* Splits args into words at spaces and commas (in place). */
static int words(char *args, char **out, int max)
{
    int n = 0;
    for (char *p = strtok(args, " \t,"); p && n < max; p = strtok(NULL, " \t,"))
        out[n++] = p;
    return n;
}

static int cmd_watch(repl *r, char *args, int add)
{
    char *w[64];
    int n = words(args, w, 64);
    if (!add) { /* :unwatch */
        if (!n) {
            for (int i = 0; i < r->n_watch; i++)
                free(r->watch[i]);
            r->n_watch = 0;
            say(r, "watching nothing\n");
            return REPL_OK;
        }
        for (int k = 0; k < n; k++)
            for (int i = 0; i < r->n_watch; i++)
                if (!strcmp(r->watch[i], w[k])) {
                    free(r->watch[i]);
                    memmove(&r->watch[i], &r->watch[i + 1],
                            (size_t)(r->n_watch - i - 1) * sizeof *r->watch);
                    r->n_watch--;
                    break;
                }
    } else if (n) {
        inst *in = studied(r);
        if (!in)
            return REPL_ERROR;
        for (int k = 0; k < n; k++) {
            const drive_abi_field *f = lookup(r, in, w[k]);
            if (!f)
                return REPL_ERROR;
            if (f->len > 1 && !strcmp(w[k], f->base)) {
                error(r, "%s is a vector of %u elements: watch elements, e.g. %s[0]", w[k], f->len,
                      w[k]);
                return REPL_ERROR;
            }
        }
        for (int k = 0; k < n; k++) {
            int dup = 0;
            for (int i = 0; i < r->n_watch && !dup; i++)
                dup = !strcmp(r->watch[i], w[k]);
            if (dup)
                continue;
            r->watch = xrealloc(r->watch, (size_t)(r->n_watch + 1) * sizeof *r->watch);
            r->watch[r->n_watch++] = xstrdup(w[k]);
        }
    }
    say(r, "watching");
    for (int i = 0; i < r->n_watch; i++)
        say(r, " %s", r->watch[i]);
    say(r, "%s\n", r->n_watch ? "" : " nothing");
    return REPL_OK;
}

static int cmd_print(repl *r, char *args)
{
    inst *in = studied(r);
    if (!in)
        return REPL_ERROR;
    char *w[64];
    int n = words(args, w, 64);
    if (!n) {
        error(r, ":print needs signal names");
        return REPL_ERROR;
    }
    int rc = REPL_OK;
    for (int k = 0; k < n; k++) {
        const drive_abi_field *f = lookup(r, in, w[k]);
        if (f)
            print_value(r, in, w[k], f);
        else
            rc = REPL_ERROR;
    }
    return rc;
}

static void info_kind(repl *r, const inst *in, int kind, const char *title)
{
    const drive_abi_circuit *a = &in->u->abi;
    int any = 0;
    char b1[64], b2[64];
    for (uint32_t i = 0; i < a->n_fields; i++) {
        const drive_abi_field *f = &a->fields[i];
        if (f->kind != kind || f->index > 0 || (kind == DRIVE_ABI_OUTPUT && f->role == DRIVE_ABI_PROBE))
            continue;
        if (!any)
            say(r, "%s:\n", title);
        any = 1;
        say(r, "  ");
        print_value(r, in, f->base, f);
        if (f->has_range)
            say(r, "      in [%s, %s]%s\n", fmt_value(b1, 64, f, f->lo), fmt_value(b2, 64, f, f->hi),
                kind == DRIVE_ABI_PARAM ? "" : "");
        if (kind == DRIVE_ABI_PARAM && f->len == 1 && value_of(in, f) != f->init)
            say(r, "      default %s\n", fmt_value(b1, 64, f, f->init));
        if (f->role == DRIVE_ABI_REWARD || f->role == DRIVE_ABI_TOTAL || f->role == DRIVE_ABI_LEARNED)
            say(r, "      %s\n", f->role == DRIVE_ABI_REWARD  ? "a reward stream"
                               : f->role == DRIVE_ABI_TOTAL ? "the total reward"
                                                            : "learned");
    }
}

static int cmd_info(repl *r)
{
    inst *in = studied(r);
    if (!in)
        return REPL_ERROR;
    const drive_abi_circuit *a = &in->u->abi;
    say(r, "circuit %s.%s, tick %.6g s, t = %.6g s (%llu tick%s)\n", a->module, a->name,
        a->tick_seconds, (double)in->pop->ticks * a->tick_seconds,
        (unsigned long long)in->pop->ticks, in->pop->ticks == 1 ? "" : "s");
    info_kind(r, in, DRIVE_ABI_INPUT, "inputs (held until set again)");
    info_kind(r, in, DRIVE_ABI_PARAM, "params");
    info_kind(r, in, DRIVE_ABI_OUTPUT, "outputs");
    int probes = 0, state = 0;
    for (uint32_t i = 0; i < a->n_fields; i++) {
        probes += a->fields[i].role == DRIVE_ABI_PROBE && a->fields[i].index == 0;
        state += a->fields[i].kind == DRIVE_ABI_STATE;
    }
    say(r, "%d inner signal%s (:print or :watch any of them; Tab completes names), %d state "
           "slot%s\n", probes, probes == 1 ? "" : "s", state, state == 1 ? "" : "s");
    return REPL_OK;
}

static int cmd_circuit(repl *r, char *args)
{
    char *w[2];
    int n = words(args, w, 2);
    if (!n) {
        if (r->study)
            say(r, "studying circuit %s\n", r->study->name);
        say(r, "circuits:");
        const sema_module *m = r->cur ? r->cur->r->sema : NULL;
        for (int i = 0; m && i < m->n_circuits; i++)
            say(r, " %s", m->circuits[i].name);
        for (int k = 0; m && k < m->n_imports; k++)
            for (int i = 0; i < m->imports[k]->n_circuits; i++)
                say(r, " %s", m->imports[k]->circuits[i].name);
        say(r, "%s\n", m && (m->n_circuits || m->n_imports) ? "" : " none yet");
        return REPL_OK;
    }
    int fresh = !find_inst(r, w[0]);
    inst *in = study(r, w[0]);
    if (!in)
        return REPL_ERROR;
    say(r, "studying circuit %s%s\n", in->name, fresh ? "" : " (its instance as it was)");
    return REPL_OK;
}

static int cmd_record(repl *r, char *args)
{
    while (isspace((unsigned char)*args))
        args++;
    char *rest = args + strcspn(args, " \t");
    if (*rest)
        *rest++ = 0;
    if (!*args) {
        if (r->rec)
            say(r, "recording to %s\n", r->rec_path);
        else
            say(r, "not recording\n");
        return REPL_OK;
    }
    if (!strcmp(args, "off")) {
        if (!r->rec) {
            say(r, "not recording\n");
            return REPL_OK;
        }
        char *path = xstrdup(r->rec_path);
        stop_recording(r, NULL);
        say(r, "recorded to %s\n", path);
        free(path);
        return REPL_OK;
    }
    inst *in = studied(r);
    if (!in)
        return REPL_ERROR;
    /* Signals: comma or space separated, as the trace wants commas. */
    char *sig = NULL;
    while (isspace((unsigned char)*rest))
        rest++;
    if (*rest) {
        sig = xstrdup(rest);
        for (char *p = sig; *p; p++)
            if (*p == ' ' || *p == '\t')
                *p = ',';
    }
    drive_trace *t = drive_trace_open(in->pop, 0, args, sig);
    free(sig);
    if (!t) {
        error(r, "%s", drive_last_error());
        return REPL_ERROR;
    }
    stop_recording(r, "a new recording starts");
    r->rec = t;
    r->rec_inst = in;
    r->rec_path = xstrdup(args);
    say(r, "recording every tick of %s to %s (%s)\n", in->name, args,
        *rest ? "the signals given" : "inputs, outputs and every reward stream");
    return REPL_OK;
}

static int cmd_save(repl *r, char *args, int restore)
{
    inst *in = studied(r);
    if (!in)
        return REPL_ERROR;
    char *w[2];
    if (words(args, w, 2) != 1) {
        error(r, ":%s needs one FILE", restore ? "restore" : "save");
        return REPL_ERROR;
    }
    if (!restore) {
        if (drive_save(in->pop, w[0]) != 0) {
            error(r, "%s", drive_last_error());
            return REPL_ERROR;
        }
        say(r, "saved %s at t = %.6g s to %s\n", in->name,
            (double)in->pop->ticks * in->u->abi.tick_seconds, w[0]);
        return REPL_OK;
    }
    /* By name: a checkpoint saved before a redefinition restores what still fits. */
    if (drive_restore(in->pop, w[0], DRIVE_RESTORE_BY_NAME) != 0) {
        error(r, "%s", drive_last_error());
        return REPL_ERROR;
    }
    say(r, "%s: %s\n", in->name, drive_restore_report());
    return REPL_OK;
}

static int cmd_ir(repl *r, char *args, int dot)
{
    char *w[4];
    int n = words(args, w, 4);
    const char *name = NULL, *svg = NULL;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(w[i]);
        if (dot && l > 4 && !strcmp(w[i] + l - 4, ".svg"))
            svg = w[i];
        else
            name = w[i];
    }
    if (!name) {
        inst *in = studied(r);
        if (!in)
            return REPL_ERROR;
        name = in->name;
    }
    const sema_circuit *sc = r->cur ? find_circuit(r->cur->r, name) : NULL;
    if (!sc) {
        error(r, "no circuit named '%s'", name);
        return REPL_ERROR;
    }
    fflush(r->o.out);
    if (dot) {
        char *text = NULL, *err = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&text, &len);
        int bad = !mem || dot_write(mem, sc, &err) != 0;
        if (mem)
            fclose(mem);
        if (!bad && svg)
            bad = dot_render_svg(text, len, svg, &err) != 0;
        if (bad)
            error(r, "%s", err ? err : "cannot draw the circuit");
        else if (svg)
            say(r, "drew %s to %s\n", name, svg);
        else
            fwrite(text, 1, len, r->o.out);
        free(text);
        free(err);
        return bad ? REPL_ERROR : REPL_OK;
    }
    /* The IR as `drivec ir` shows it: the session's own circuits were
     * lowered and optimised with it; an imported one is lowered now. */
    const compile_result *cr = r->cur->r;
    for (int i = 0; i < cr->n_circuits; i++)
        if (!strcmp(cr->circuits[i]->name, name) && cr->circuits[i]->module &&
            sc->mod == cr->sema) {
            ir_print(r->o.out, cr->circuits[i]);
            return REPL_OK;
        }
    compile_opts c = session_opts(r);
    ir_circuit *ic = compile_probed(r->cur->r, sc, &c);
    if (!ic) {
        diag_flush(r->cur->r->diag, r->o.err, r->o.color);
        return REPL_ERROR;
    }
    say(r, "# %s as the REPL runs it: with a probe output on every named signal\n", name);
    ir_print(r->o.out, ic);
    return REPL_OK;
}

static int cmd_test(repl *r, char *args)
{
    if (!r->cur || !r->cur->r->ast || !r->cur->r->ast->n_scenarios) {
        error(r, "the session has no scenarios");
        hint(r, "define one (scenario NAME for 2s { ... }) or :load a file with some");
        return REPL_ERROR;
    }
    char *w[64];
    int n = words(args, w, 64);
    compile_opts c = session_opts(r);
    scn_options so = { .only = n ? (const char *const *)w : NULL, .n_only = n, .out = r->o.out,
                       .backend = SCN_JIT, .stop = &interrupted };
    interrupted = 0;
    scn_totals t = { 0 };
    fflush(r->o.out);
    scn_run_file(r->cur->r, &c, &so, &t);
    fflush(r->o.out);
    diag_flush(r->cur->r->diag, r->o.err, r->o.color);
    if (n && !t.matched) {
        error(r, "no scenario named %s", w[0]);
        return REPL_ERROR;
    }
    say(r, "%d passed, %d failed\n", t.passed, t.failed);
    return t.failed ? REPL_ERROR : REPL_OK;
}

/* :forget NAME... — drops definitions (and a forgotten circuit's instance),
 * when the rest of the session still compiles without them. */
static int cmd_forget(repl *r, char *args)
{
    char *w[64];
    int n = words(args, w, 64);
    if (!n) {
        error(r, ":forget needs the names of definitions");
        return REPL_ERROR;
    }
    int found[64] = { 0 };
    item *keep = xrealloc(NULL, (size_t)(r->n_items + 1) * sizeof *keep);
    int nk = 0;
    for (int i = 0; i < r->n_items; i++) {
        int drop = 0;
        for (int k = 0; k < n; k++)
            if (r->items[i].kind >= K_IMPORT && r->items[i].kind != K_OTHER &&
                !strcmp(r->items[i].name, w[k]))
                drop = found[k] = 1;
        if (!drop)
            keep[nk++] = copy_item(&r->items[i]);
    }
    for (int k = 0; k < n; k++)
        if (!found[k]) {
            error(r, "the session defines nothing named '%s'", w[k]);
            free_items(keep, nk);
            return REPL_ERROR;
        }
    int rc = commit(r, keep, nk, NULL, 0, 1);
    if (rc != REPL_OK) {
        hint(r, "the rest of the session uses what :forget would drop");
        return rc;
    }
    for (int k = 0; k < n; k++) {
        int dup = 0;
        for (int j = 0; j < k && !dup; j++)
            dup = !strcmp(w[j], w[k]);
        if (!dup)
            say(r, "forgot %s\n", w[k]);
    }
    return REPL_OK;
}

static int cmd_list(repl *r)
{
    if (!r->n_items) {
        say(r, "the session is empty\n");
        return REPL_OK;
    }
    for (int i = 0; i < r->n_items; i++) {
        const item *it = &r->items[i];
        if (it->kind == K_OTHER)
            continue;
        say(r, "  %-8s %-24s %s:%ld\n", KIND_WORD[it->kind], it->name, it->origin, it->line);
    }
    return REPL_OK;
}

static const struct {
    const char *name, *args, *help;
} COMMANDS[] = {
    { "help", "[COMMAND]", "this list, or one command's help" },
    { "load", "FILE...", "add the definitions of files to the session" },
    { "reload", "", "read every loaded file again" },
    { "list", "", "the session's definitions and where they came from" },
    { "forget", "NAME...", "drop definitions from the session (and a circuit's instance)" },
    { "circuit", "[NAME]", "study circuit NAME (each circuit keeps its own instance)" },
    { "info", "", "inputs, params and outputs of the circuit under study, with values" },
    { "set", "NAME = VALUE", "hold an input or set a param (v = 0.5, v[2] = 1, v = [1, 2])" },
    { "step", "[N | DURATION]", "step N ticks (default 1) or a duration (2s, 300ms)" },
    { "watch", "[NAME...]", "signals shown while stepping (any signal, inner ones too)" },
    { "unwatch", "[NAME...]", "stop watching these signals (all without names)" },
    { "view", "table|spark|auto", "watched signals per tick, as sparklines, or table up to 20 ticks" },
    { "print", "NAME...", "current values (a bare signal name does the same)" },
    { "record", "FILE [NAME...]|off", "record every tick to CSV (default: inputs, outputs, rewards)" },
    { "save", "FILE", "save the instance's state (params, weights, timers) to a checkpoint" },
    { "restore", "FILE", "restore a checkpoint; fields are matched by name" },
    { "reset", "", "back to the initial state (params at defaults; inputs stay held)" },
    { "ir", "[NAME]", "the IR of a circuit" },
    { "dot", "[NAME] [FILE.svg]", "the diagram of a circuit: DOT text, or an SVG through Graphviz" },
    { "test", "[SCENARIO...]", "run the session's scenarios" },
    { "quit", "", "leave (so does Ctrl-D)" },
};
enum { N_COMMANDS = sizeof COMMANDS / sizeof COMMANDS[0] };

static int cmd_help(repl *r, char *args)
{
    char *w[2];
    int n = words(args, w, 2);
    if (n) {
        const char *c = w[0][0] == ':' ? w[0] + 1 : w[0];
        for (int i = 0; i < N_COMMANDS; i++)
            if (!strcmp(COMMANDS[i].name, c)) {
                say(r, ":%s %s\n    %s\n", COMMANDS[i].name, COMMANDS[i].args, COMMANDS[i].help);
                return REPL_OK;
            }
        error(r, "no command ':%s'", c);
        return REPL_ERROR;
    }
    say(r, "Type definitions (module, tick, import, const, circuit, scenario) to add or\n"
           "replace them; a redefined circuit's instance keeps its learned state. Commands:\n");
    for (int i = 0; i < N_COMMANDS; i++) {
        char head[64];
        snprintf(head, sizeof head, ":%s %s", COMMANDS[i].name, COMMANDS[i].args);
        say(r, "  %-28s %s\n", head, COMMANDS[i].help);
    }
    say(r, "Ctrl-C stops a long step; Tab completes commands, names and files.\n");
    return REPL_OK;
}

static int command(repl *r, char *line)
{
    char *name = line + 1;
    char *args = name + strcspn(name, " \t");
    if (*args)
        *args++ = 0;
    for (char *e = args + strlen(args); e > args && isspace((unsigned char)e[-1]); e--)
        e[-1] = 0;
    const char *full = NULL;
    int matches = 0;
    for (int i = 0; i < N_COMMANDS; i++) {
        if (!strcmp(COMMANDS[i].name, name)) {
            full = COMMANDS[i].name;
            matches = 1;
            break;
        }
        if (*name && !strncmp(COMMANDS[i].name, name, strlen(name))) {
            full = COMMANDS[i].name;
            matches++;
        }
    }
    if (!strcmp(name, "q"))
        full = "quit", matches = 1;
    if (matches > 1) {
        error(r, "ambiguous command ':%s': it could be", name);
        for (int i = 0; i < N_COMMANDS; i++)
            if (!strncmp(COMMANDS[i].name, name, strlen(name)))
                fprintf(r->o.err, "  :%s\n", COMMANDS[i].name);
        return REPL_ERROR;
    }
    if (matches != 1) {
        error(r, "%s command ':%s'", matches ? "ambiguous" : "unknown", name);
        const char *cands[N_COMMANDS];
        for (int i = 0; i < N_COMMANDS; i++)
            cands[i] = COMMANDS[i].name;
        const char *s = matches ? NULL : diag_suggest(name, cands, N_COMMANDS);
        if (s)
            hint(r, "did you mean ':%s'?", s);
        else
            hint(r, ":help lists the commands");
        return REPL_ERROR;
    }
    if (!strcmp(full, "quit"))
        return REPL_QUIT;
    if (!strcmp(full, "help"))
        return cmd_help(r, args);
    if (!strcmp(full, "load")) {
        char *w[64];
        int n = words(args, w, 64);
        if (!n) {
            error(r, ":load needs FILE");
            return REPL_ERROR;
        }
        int rc = REPL_OK;
        for (int i = 0; i < n && rc == REPL_OK; i++)
            rc = load(r, w[i], 0);
        return rc;
    }
    if (!strcmp(full, "reload")) {
        if (!r->n_files) {
            say(r, "no files are loaded\n");
            return REPL_OK;
        }
        int rc = REPL_OK;
        for (int i = 0; i < r->n_files && rc == REPL_OK; i++)
            rc = load(r, r->files[i], 1);
        return rc;
    }
    if (!strcmp(full, "list"))
        return cmd_list(r);
    if (!strcmp(full, "forget"))
        return cmd_forget(r, args);
    if (!strcmp(full, "circuit"))
        return cmd_circuit(r, args);
    if (!strcmp(full, "info"))
        return cmd_info(r);
    if (!strcmp(full, "set"))
        return cmd_set(r, args);
    if (!strcmp(full, "step"))
        return cmd_step(r, args);
    if (!strcmp(full, "watch"))
        return cmd_watch(r, args, 1);
    if (!strcmp(full, "unwatch"))
        return cmd_watch(r, args, 0);
    if (!strcmp(full, "view")) {
        static const char *const v[] = { "auto", "table", "spark" };
        for (int i = 0; i < 3; i++)
            if (!strcmp(args, v[i])) {
                r->view = i;
                say(r, "view %s\n", v[i]);
                return REPL_OK;
            }
        if (!*args) {
            say(r, "view %s\n", v[r->view]);
            return REPL_OK;
        }
        error(r, ":view takes table, spark or auto, not '%s'", args);
        return REPL_ERROR;
    }
    if (!strcmp(full, "print"))
        return cmd_print(r, args);
    if (!strcmp(full, "record"))
        return cmd_record(r, args);
    if (!strcmp(full, "save"))
        return cmd_save(r, args, 0);
    if (!strcmp(full, "restore"))
        return cmd_save(r, args, 1);
    if (!strcmp(full, "reset")) {
        inst *in = studied(r);
        if (!in)
            return REPL_ERROR;
        drive_pop_reset(in->pop, (size_t)-1);
        memset(in->pop->out, 0, in->u->abi.out_size);
        say(r, "%s is back at t = 0 (params at their defaults; inputs stay as set)\n", in->name);
        return REPL_OK;
    }
    if (!strcmp(full, "ir"))
        return cmd_ir(r, args, 0);
    if (!strcmp(full, "dot"))
        return cmd_ir(r, args, 1);
    return cmd_test(r, args);
}

/* ---- one input --------------------------------------------------------------- */

/* The first byte that is neither space nor comment. */
static const char *skip_blank(const char *p)
{
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        const char *c = skip_comment(p);
        if (c == p)
            return p;
        p = c;
    }
}

int repl_eval(repl *r, const char *text)
{
    const char *p = skip_blank(text);
    if (!*p)
        return REPL_OK;
    r->last_ms = 0;
    r->inputs++;
    if (*p == ':') {
        char *line = xstrdup(p);
        line[strcspn(line, "\n")] = 0;
        int rc = command(r, line);
        free(line);
        fflush(r->o.out);
        return rc;
    }
    const char *w = p;
    while (is_ident((unsigned char)*w))
        w++;
    int rc;
    if (word_kind(p, (size_t)(w - p)) >= 0) {
        char origin[32];
        snprintf(origin, sizeof origin, "<input %d>", r->inputs);
        /* The input's own line numbers: blank lines before it are dropped. */
        long line = 1;
        for (const char *s = text; s < p; s++)
            line += *s == '\n';
        rc = enter(r, p, origin, line, NULL, 0);
    } else {
        /* Signal names: print their values. */
        char *copy = xstrdup(p);
        copy[strcspn(copy, "\n")] = 0;
        int ok = 1;
        for (char *c = copy; *c; c++)
            ok &= is_ident((unsigned char)*c) || strchr(".[], \t", *c) != NULL;
        if (ok) {
            rc = cmd_print(r, copy);
        } else {
            error(r, "not a definition, a command or a signal name: %s", copy);
            hint(r, "definitions begin with module, tick, import, const, circuit or scenario; "
                    ":help lists the commands");
            rc = REPL_ERROR;
        }
        free(copy);
    }
    fflush(r->o.out);
    return rc;
}

/* ---- completion -------------------------------------------------------------- */

typedef struct list {
    char **v;
    size_t n;
} list;

static void list_add(list *l, const char *s, size_t len)
{
    for (size_t i = 0; i < l->n; i++)
        if (strlen(l->v[i]) == len && !strncmp(l->v[i], s, len))
            return;
    l->v = xrealloc(l->v, (l->n + 2) * sizeof *l->v);
    l->v[l->n++] = xstrndup(s, len);
    l->v[l->n] = NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void complete_files(list *l, const char *word, size_t wlen)
{
    char *w = xstrndup(word, wlen);
    const char *slash = strrchr(w, '/');
    char *dir = slash ? xstrndup(w, (size_t)(slash - w) + 1) : xstrdup("");
    const char *base = slash ? slash + 1 : w;
    DIR *d = opendir(*dir ? dir : ".");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' && base[0] != '.')
            continue;
        if (strncmp(e->d_name, base, strlen(base)) != 0 || !strcmp(e->d_name, ".") ||
            !strcmp(e->d_name, ".."))
            continue;
        size_t n = strlen(dir) + strlen(e->d_name) + 2;
        char *full = xrealloc(NULL, n);
        snprintf(full, n, "%s%s", dir, e->d_name);
        struct stat sb;
        if (stat(full, &sb) == 0 && S_ISDIR(sb.st_mode))
            strcat(full, "/");
        list_add(l, full, strlen(full));
        free(full);
    }
    if (d)
        closedir(d);
    free(dir);
    free(w);
}

static void add_if(list *l, const char *cand, const char *word, size_t wlen)
{
    if (!strncmp(cand, word, wlen))
        list_add(l, cand, strlen(cand));
}

char **repl_complete(repl *r, const char *line, size_t cursor, size_t *start)
{
    size_t s = cursor;
    while (s > 0 && !isspace((unsigned char)line[s - 1]) && line[s - 1] != ',' &&
           line[s - 1] != '=' && line[s - 1] != '(')
        s--;
    *start = s;
    const char *word = line + s;
    size_t wlen = cursor - s;
    list l = { 0 };
    const char *p = line;
    while (isspace((unsigned char)*p))
        p++;
    int first = (size_t)(p - line) == s;
    char cmd[32] = "";
    int argn = 0; /* which argument the word is (0: the first after the command) */
    if (*p == ':' && !first) {
        size_t n = strcspn(p + 1, " \t");
        snprintf(cmd, sizeof cmd, "%.*s", (int)(n < 31 ? n : 31), p + 1);
        /* An abbreviation completes as the command it stands for. */
        const char *full = NULL;
        int matches = 0;
        for (int i = 0; i < N_COMMANDS; i++)
            if (!strncmp(COMMANDS[i].name, cmd, strlen(cmd))) {
                matches++;
                full = COMMANDS[i].name;
                if (!strcmp(COMMANDS[i].name, cmd)) {
                    matches = 1;
                    break;
                }
            }
        if (matches == 1 && *cmd)
            snprintf(cmd, sizeof cmd, "%s", full);
        /* Count the words between the command and this one. */
        const char *q = p + 1 + n;
        while (q < line + s) {
            while (q < line + s && (isspace((unsigned char)*q) || *q == ','))
                q++;
            if (q >= line + s)
                break;
            argn++;
            while (q < line + s && !isspace((unsigned char)*q) && *q != ',')
                q++;
        }
    }
    if (first && *word == ':') {
        for (int i = 0; i < N_COMMANDS; i++) {
            char c[40];
            snprintf(c, sizeof c, ":%s", COMMANDS[i].name);
            add_if(&l, c, word, wlen);
        }
    } else if (first) {
        for (int k = 0; KIND_WORD[k]; k++)
            add_if(&l, KIND_WORD[k], word, wlen);
    }
    if (!first && (!strcmp(cmd, "load") || !strcmp(cmd, "save") || !strcmp(cmd, "restore") ||
                   (!strcmp(cmd, "record") && argn == 0) ||
                   (!strcmp(cmd, "dot") && memchr(word, '/', wlen))))
        complete_files(&l, word, wlen);
    int circuits = !strcmp(cmd, "circuit") || !strcmp(cmd, "ir") || !strcmp(cmd, "dot");
    const sema_module *m = r->cur ? r->cur->r->sema : NULL;
    if (circuits && m) {
        for (int i = 0; i < m->n_circuits; i++)
            add_if(&l, m->circuits[i].name, word, wlen);
        for (int k = 0; k < m->n_imports; k++)
            for (int i = 0; i < m->imports[k]->n_circuits; i++)
                add_if(&l, m->imports[k]->circuits[i].name, word, wlen);
    }
    if (!strcmp(cmd, "test") && r->cur && r->cur->r->ast)
        for (int i = 0; i < r->cur->r->ast->n_scenarios; i++)
            add_if(&l, r->cur->r->ast->scenarios[i]->name, word, wlen);
    if (!strcmp(cmd, "view")) {
        add_if(&l, "table", word, wlen);
        add_if(&l, "spark", word, wlen);
        add_if(&l, "auto", word, wlen);
    }
    if (!strcmp(cmd, "help"))
        for (int i = 0; i < N_COMMANDS; i++)
            add_if(&l, COMMANDS[i].name, word, wlen);
    int signals = (!strcmp(cmd, "set") && argn == 0) || !strcmp(cmd, "watch") ||
                  !strcmp(cmd, "unwatch") || !strcmp(cmd, "print") || (!*cmd && *p != ':') ||
                  (!strcmp(cmd, "record") && argn > 0);
    /* The circuit a command would study: the chosen one, or the only one. */
    const unit *su = r->study ? r->study->u
                     : m && m->n_circuits == 1 ? find_unit(r, m->circuits[0].name) : NULL;
    if (signals && su) {
        const drive_abi_circuit *a = &su->abi;
        for (uint32_t i = 0; i < a->n_fields; i++) {
            const drive_abi_field *f = &a->fields[i];
            if (f->index == 0)
                add_if(&l, f->base, word, wlen);
            if (f->len > 1 && memchr(word, '[', wlen))
                add_if(&l, f->name, word, wlen);
        }
    }
    if (!l.n)
        return NULL;
    qsort(l.v, l.n, sizeof *l.v, cmp_str);
    return l.v;
}

void repl_free_list(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* ---- the session's life ------------------------------------------------------ */

repl *repl_new(const repl_opts *o)
{
    repl *r = xrealloc(NULL, sizeof *r);
    memset(r, 0, sizeof *r);
    r->o = *o;
    char *err = NULL;
    r->jit = jit_create(&err);
    if (!r->jit) {
        fprintf(o->err, "error: cannot start the JIT: %s\n", err ? err : "?");
        free(err);
        free(r);
        return NULL;
    }
    /* Each instance under study is one instance: step_n across instances
     * would double the code LLVM generates for nothing. */
    jit_set_lanes(r->jit, 0);
    for (int i = 0; i < o->n_include; i++) {
        r->dirs = xrealloc(r->dirs, (size_t)(r->n_dirs + 1) * sizeof *r->dirs);
        r->dirs[r->n_dirs++] = xstrdup(o->include[i]);
    }
    return r;
}

void repl_free(repl *r)
{
    if (!r)
        return;
    stop_recording(r, NULL);
    for (int i = 0; i < r->n_insts; i++) {
        unit_unref(r, r->insts[i]->u);
        free_inst(r->insts[i]);
    }
    free(r->insts);
    for (int i = 0; i < r->n_units; i++)
        unit_unref(r, r->units[i]);
    free(r->units);
    holder_unref(r->cur);
    free_items(r->items, r->n_items);
    for (int i = 0; i < r->n_files; i++)
        free(r->files[i]);
    free(r->files);
    for (int i = 0; i < r->n_dirs; i++)
        free(r->dirs[i]);
    free(r->dirs);
    for (int i = 0; i < r->n_watch; i++)
        free(r->watch[i]);
    free(r->watch);
    jit_destroy(r->jit);
    free(r);
}

int repl_load_file(repl *r, const char *path) { return load(r, path, 0); }
