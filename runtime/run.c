/* run.c — the loop behind `drivec run`: inputs from a table, one step per
 * tick, outputs to CSV or an aligned table. */
#include "run.h"
#include "progress.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void fail(rt_error *err, const char *file, long line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(rt_error *err, const char *file, long line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->file = file;
    err->line = line;
    err->col = 0;
    err->len = 0;
    err->field = 0;
    err->hint[0] = 0;
    err->complete = 0;
}

/* splitmix64: tiny, fast and the same on every platform. */
static uint64_t next_random(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static double unit_random(uint64_t *s) { return (double)(next_random(s) >> 11) * 0x1p-53; }

/* Inputs that exercise signs, zeros, magnitudes and whole-number edges; an
 * input with a declared range stays in it, so that random runs are valid
 * runs (a value outside would freeze the state at that tick). */
static double random_input(uint64_t *s, const rt_field *f)
{
    if (f->kind == RT_BOOL)
        return (double)(next_random(s) & 1);
    double u = unit_random(s);
    unsigned pick = (unsigned)(next_random(s) % 10);
    if (f->has_range) {
        double lo = f->lo, hi = f->hi, x;
        if (pick == 0 && isfinite(lo))
            return lo;
        if (pick == 1 && isfinite(hi))
            return hi;
        if (isfinite(lo) && isfinite(hi))
            x = lo * (1 - u) + hi * u; /* lo + u * (hi - lo) could overflow */
        else
            x = (u - 0.5) * 200.0;
        return x < lo ? lo : x > hi ? hi : x; /* rounding may step past a bound */
    }
    switch (pick) {
    case 0: return 0.0;
    case 1: return (u - 0.5) * 200.0;
    case 2: return (u - 0.5) * 1e-300;
    case 3: return (double)(int)(u * 7.0) - 3.0;
    case 4: case 5: return u;
    default: return u * 2.0 - 1.0;
    }
}

static void *block(size_t n)
{
    void *p = calloc(1, n ? n : 8);
    if (!p) {
        fprintf(stderr, "drive: out of memory\n");
        abort();
    }
    return p;
}

/* Append a name to a comma-separated list that keeps to its buffer; names
 * that do not fit are counted in *more. */
static void list_add(char *buf, size_t cap, size_t *len, int *count, int *more, const char *name)
{
    size_t need = strlen(name) + 4;
    if (*more || *len + need + 16 > cap) {
        (*more)++;
        return;
    }
    *len += (size_t)snprintf(buf + *len, cap - *len, "%s'%s'", *count ? ", " : "", name);
    (*count)++;
}

static void list_end(char *buf, size_t cap, size_t len, int more)
{
    if (more)
        snprintf(buf + len, cap - len, " and %d more", more);
}

/* Match input fields to table columns; report every missing one at once. */
static int map_columns(const rt_circuit *c, const rt_table *t, const rt_run_opts *opt,
                       int *col, rt_error *err)
{
    char missing[400] = "";
    size_t len = 0;
    int n_missing = 0, more = 0;
    for (uint32_t i = 0; i < c->n_inputs; i++) {
        col[i] = t ? rt_csv_column(t, c->inputs[i].name) : -1;
        if (col[i] < 0)
            list_add(missing, sizeof missing, &len, &n_missing, &more, c->inputs[i].name);
    }
    list_end(missing, sizeof missing, len, more);
    if ((n_missing || more) && !(t == NULL && opt->random_seed)) {
        if (!t)
            fail(err, opt->in_name, 0, "the circuit has inputs (%s): give them with --in FILE.csv",
                 missing);
        else {
            fail(err, opt->in_name, t->header_line, "missing input column%s: %s",
                 n_missing + more > 1 ? "s" : "", missing);
            size_t n = (size_t)snprintf(err->hint, sizeof err->hint, "the inputs of %s are", c->name);
            for (uint32_t i = 0; i < c->n_inputs && n < sizeof err->hint; i++)
                n += (size_t)snprintf(err->hint + n, sizeof err->hint - n, "%s %s : %s",
                                      i ? "," : "", c->inputs[i].name,
                                      c->inputs[i].kind == RT_BOOL ? "bool" : "real");
        }
        return 0;
    }
    if (t && opt->warn) {
        /* One warning for all the columns that are not inputs. */
        char unknown[400] = "";
        int n_unknown = 0, first = -1;
        more = 0;
        len = 0;
        unsigned char *is_input = calloc((size_t)t->ncols + 1, 1);
        for (uint32_t i = 0; i < c->n_inputs; i++)
            is_input[col[i]] = 1;
        for (int k = 0; k < t->ncols; k++) {
            const char *name = t->names[k];
            if (is_input[k] || !strcmp(name, "tick") || !strcmp(name, "time"))
                continue;
            if (first < 0)
                first = k;
            list_add(unknown, sizeof unknown, &len, &n_unknown, &more, name);
        }
        free(is_input);
        list_end(unknown, sizeof unknown, len, more);
        if (first >= 0) {
            rt_error w = { 0 };
            fail(&w, opt->in_name, t->header_line, "%s %s %s not %s of %s; ignored",
                 n_unknown + more > 1 ? "columns" : "column", unknown,
                 n_unknown + more > 1 ? "are" : "is", n_unknown + more > 1 ? "inputs" : "an input",
                 c->name);
            w.field = first + 1;
            opt->warn(opt->warn_ctx, &w);
        }
    }
    /* Bool inputs take 0/1 (or true/false) only. */
    for (uint32_t i = 0; t && i < c->n_inputs; i++) {
        if (c->inputs[i].kind != RT_BOOL)
            continue;
        for (long r = 0; r < t->nrows; r++) {
            double v = t->data[(size_t)r * (size_t)t->ncols + (size_t)col[i]];
            if (v != 0 && v != 1) {
                fail(err, opt->in_name, t->lines[r],
                     "input '%s' is bool: expected 0, 1, true or false", c->inputs[i].name);
                err->field = col[i] + 1;
                return 0;
            }
        }
    }
    return 1;
}

static void write_header(const rt_column *cols, uint32_t n, const rt_run_opts *opt, int *width)
{
    FILE *f = opt->out;
    if (opt->format == RT_OUT_CSV) {
        fputs("tick,time", f);
        for (uint32_t i = 0; i < n; i++)
            fprintf(f, ",%s", cols[i].field->name);
        fputc('\n', f);
        return;
    }
    fprintf(f, "%6s %9s", "tick", "time (s)");
    for (uint32_t i = 0; i < n; i++) {
        int w = (int)strlen(cols[i].field->name);
        width[i] = w < 10 ? 10 : w;
        fprintf(f, "  %*s", width[i], cols[i].field->name);
    }
    fputc('\n', f);
}

static double column_value(const rt_column *col, const void *in, const void *out, const void *st)
{
    const void *b = col->block == RT_BLOCK_IN ? in : col->block == RT_BLOCK_STATE ? st : out;
    return rt_get(b, col->field);
}

static void write_row(const rt_circuit *c, const rt_column *cols, uint32_t n,
                      const rt_run_opts *opt, const int *width, long tick, const void *in,
                      const void *out, const void *st)
{
    FILE *f = opt->out;
    char buf[32];
    double time = (double)tick * c->tick_seconds;
    if (opt->format == RT_OUT_CSV) {
        fprintf(f, "%ld,%.10g", tick, time);
        for (uint32_t i = 0; i < n; i++) {
            double v = column_value(&cols[i], in, out, st);
            fprintf(f, ",%s", cols[i].field->kind == RT_BOOL ? (v != 0 ? "1" : "0")
                                                             : rt_fmt_f64(buf, v));
        }
        fputc('\n', f);
        return;
    }
    fprintf(f, "%6ld %9.3f", tick, time);
    for (uint32_t i = 0; i < n; i++) {
        double v = column_value(&cols[i], in, out, st);
        if (cols[i].field->kind == RT_BOOL)
            fprintf(f, "  %*s", width[i], v != 0 ? "true" : "false");
        else
            fprintf(f, "  %*.4f", width[i], v);
    }
    fputc('\n', f);
}

/* Why an input's value makes a tick invalid, or NULL when it is valid (the
 * rules the compiled step applies: finite, and inside a declared range). */
static const char *invalid_why(const rt_field *f, double v, char *buf, size_t cap)
{
    char lo[32], hi[32];
    if (f->kind == RT_BOOL)
        return NULL;
    if (!isfinite(v))
        return "is not finite";
    if (f->has_range && !(v >= f->lo && v <= f->hi)) {
        snprintf(buf, cap, "is outside its range [%s, %s]", rt_fmt_f64(lo, f->lo),
                 rt_fmt_f64(hi, f->hi));
        return buf;
    }
    return NULL;
}

/* Appends to a message, keeping *n within the buffer; returns whether the
 * whole text fitted. */
static int append(char *buf, size_t cap, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int append(char *buf, size_t cap, size_t *n, const char *fmt, ...)
{
    if (*n + 1 >= cap)
        return 0;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *n, cap - *n, fmt, ap);
    va_end(ap);
    if (w < 0 || *n + (size_t)w >= cap) {
        buf[*n] = 0; /* no half-written part */
        return 0;
    }
    *n += (size_t)w;
    return 1;
}

/* Describes tick k, whose step reported invalid inputs: the row it read and
 * every input that broke the rules. */
static void report_invalid(const rt_circuit *c, const rt_table *t, const rt_run_opts *opt,
                           long k, const void *in)
{
    rt_error e = { 0 };
    static const char ending[] = ": this tick's state was not advanced (learning frozen)";
    size_t cap = sizeof e.msg - sizeof ending - 32, n = 0; /* room for the ending */
    const char *file = opt->in_name ? opt->in_name : "the input table";
    if (t && t->nrows > 0 && k < t->nrows)
        append(e.msg, cap, &n, "tick %ld (line %ld of %s): ", k, t->lines[k], file);
    else if (t && t->nrows > 0)
        append(e.msg, cap, &n, "tick %ld (holding line %ld of %s): ", k, t->lines[t->nrows - 1],
               file);
    if (n == 0)
        append(e.msg, cap, &n, "tick %ld: ", k);
    int shown = 0, more = 0;
    for (uint32_t i = 0; i < c->n_inputs; i++) {
        char why_buf[96], val[32];
        double v = rt_get(in, &c->inputs[i]);
        const char *why = invalid_why(&c->inputs[i], v, why_buf, sizeof why_buf);
        if (!why)
            continue;
        if (!more && append(e.msg, cap, &n, "%sinput '%s' = %s %s", shown ? "; " : "",
                            c->inputs[i].name, rt_fmt_f64(val, v), why))
            shown++;
        else
            more++;
    }
    if (more)
        append(e.msg, sizeof e.msg, &n, "%s%d %s input%s", shown ? "; and " : "", more,
               shown ? "more" : "invalid", more > 1 ? "s" : "");
    if (!shown && !more)
        append(e.msg, sizeof e.msg, &n, "the step reported invalid inputs");
    append(e.msg, sizeof e.msg, &n, "%s", ending);
    opt->error(opt->error_ctx, &e);
}

/* First difference between two runs' outputs or state, as a message. */
static int compare(const rt_circuit *c, const void *out, const void *rout, const void *st,
                   const void *rst, long tick, rt_error *err)
{
    char a[32], b[32];
    const struct {
        const char *what;
        const rt_field *f;
        uint32_t n;
        const void *x, *y;
    } blocks[] = {
        { "output", c->outputs, c->n_outputs, out, rout },
        { "param", c->params, c->n_params, st, rst },
        { "state slot", c->state, c->n_state, st, rst },
    };
    for (size_t k = 0; k < sizeof blocks / sizeof blocks[0]; k++)
        for (uint32_t i = 0; i < blocks[k].n; i++) {
            const rt_field *f = &blocks[k].f[i];
            if (!rt_same(blocks[k].x, blocks[k].y, f)) {
                fail(err, NULL, 0, "back ends disagree at tick %ld on %s '%s': %s, reference %s",
                     tick, blocks[k].what, f->name, rt_fmt_f64(a, rt_get(blocks[k].x, f)),
                     rt_fmt_f64(b, rt_get(blocks[k].y, f)));
                return 0;
            }
        }
    return 1;
}

int rt_run(const rt_circuit *c, const rt_table *t, const rt_run_opts *opt, rt_error *err)
{
    const rt_circuit *ref = opt->reference;
    if (ref && (ref->in_size != c->in_size || ref->out_size != c->out_size ||
                ref->state_size != c->state_size)) {
        fail(err, NULL, 0, "reference back end has a different layout");
        return 0;
    }
    int *col = block((c->n_inputs + 1) * sizeof *col);
    const rt_column *cols = opt->columns;
    uint32_t n_cols = opt->n_columns;
    rt_column *own_cols = NULL;
    if (!cols) {
        own_cols = block((c->n_outputs + 1) * sizeof *own_cols);
        for (uint32_t i = 0; i < c->n_outputs; i++)
            own_cols[i] = (rt_column){ &c->outputs[i], RT_BLOCK_OUT };
        cols = own_cols;
        n_cols = c->n_outputs;
    }
    int *width = block((n_cols + 1) * sizeof *width);
    if (!map_columns(c, t, opt, col, err)) {
        free(own_cols);
        free(col);
        free(width);
        return 0;
    }
    long ticks = opt->ticks >= 0 ? opt->ticks : t ? t->nrows : 0;
    if (t && t->nrows == 0 && ticks > 0 && c->n_inputs > 0) {
        fail(err, opt->in_name, t->header_line, "the file has a header but no rows of inputs");
        free(own_cols);
        free(col);
        free(width);
        return 0;
    }
    uint64_t seed = opt->random_seed;
    void *in = block(c->in_size), *out = block(c->out_size), *st = block(c->state_size);
    void *rout = ref ? block(c->out_size) : NULL, *rst = ref ? block(c->state_size) : NULL;
    c->init(c->ctx, st);
    if (ref)
        ref->init(ref->ctx, rst);
    for (uint32_t i = 0; i < opt->n_params; i++) {
        rt_set(st, &c->params[opt->params[i].index], opt->params[i].value);
        if (ref)
            rt_set(rst, &c->params[opt->params[i].index], opt->params[i].value);
    }
    if (opt->out)
        write_header(cols, n_cols, opt, width);
    rt_progress bar;
    rt_progress_start(&bar, opt->progress, opt->progress ? ticks : 0);
    int ok = 1;
    long invalid = 0; /* ticks whose step reported invalid inputs */
    for (long k = 0; k < ticks && ok; k++) {
        if (t && t->nrows > 0) {
            long r = k < t->nrows ? k : t->nrows - 1; /* hold the last row */
            const double *row = t->data + (size_t)r * (size_t)t->ncols;
            for (uint32_t i = 0; i < c->n_inputs; i++)
                rt_set(in, &c->inputs[i], row[col[i]]);
        } else if (!t && opt->random_seed) {
            for (uint32_t i = 0; i < c->n_inputs; i++)
                rt_set(in, &c->inputs[i], random_input(&seed, &c->inputs[i]));
        }
        int status = c->step(c->ctx, st, in, out) != 0;
        if (ref) {
            int rstatus = ref->step(ref->ctx, rst, in, rout) != 0;
            if (status != rstatus) {
                fail(err, NULL, 0, "back ends disagree at tick %ld on whether its inputs are "
                     "valid: %s, reference %s", k, status ? "invalid" : "valid",
                     rstatus ? "invalid" : "valid");
                ok = 0;
            } else {
                ok = compare(c, out, rout, st, rst, k, err);
            }
        }
        if (ok && status && ++invalid <= RT_RUN_MAX_INVALID && opt->error)
            report_invalid(c, t, opt, k, in);
        if (ok && opt->on_tick)
            opt->on_tick(opt->tick_ctx, k, in, out, st);
        if (ok && opt->out)
            write_row(c, cols, n_cols, opt, width, k, in, out, st);
        rt_progress_tick(&bar, k + 1);
    }
    rt_progress_end(&bar);
    if (ok && invalid) {
        /* The run went on (the outputs are all there) but is not a success. */
        if (invalid > RT_RUN_MAX_INVALID && opt->error)
            fail(err, NULL, 0, "%ld more tick%s had invalid inputs (%ld of %ld in all); their "
                 "state was not advanced", invalid - RT_RUN_MAX_INVALID,
                 invalid - RT_RUN_MAX_INVALID > 1 ? "s" : "", invalid, ticks);
        else
            fail(err, NULL, 0, "%ld of %ld tick%s had invalid inputs; their state was not "
                 "advanced", invalid, ticks, ticks > 1 ? "s" : "");
        err->complete = 1;
        ok = 0;
    }
    free(own_cols);
    free(col);
    free(width);
    free(in);
    free(out);
    free(st);
    free(rout);
    free(rst);
    return ok;
}
