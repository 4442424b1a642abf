/* drivec.c — the command-line tool: argument handling and the commands
 * check, ir and run, each a short walk through the pipeline modules.
 * Exit status: 0 success, 1 errors in the program or data, 2 bad usage. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <llvm-c/Core.h>

#include "aot.h"
#include "cg.h"
#include "compile.h"
#include "dot.h"
#include "repl.h"
#include "csv.h"
#include "drivec_plot.h"
#include "explain.h"
#include "interp.h"
#include "jit.h"
#include "run.h"
#include "scenario.h"

#define DRIVE_VERSION "0.1.0"

enum { EXIT_OK = 0, EXIT_ERRORS = 1, EXIT_USAGE = 2 };

static const char USAGE[] =
    "drivec " DRIVE_VERSION " - compiler for drive circuits\n"
    "\n"
    "usage:\n"
    "  drivec check FILE...             report every problem in the files\n"
    "  drivec ast FILE                  print the syntax tree (as parsed, before checks)\n"
    "  drivec ir FILE [options]         print the IR of the file's circuits\n"
    "      --circuit NAME               only this circuit\n"
    "      -O0                          skip the IR optimisation passes\n"
    "      --dump-after PASS|all        print the IR after a pass (lower, fold, cse, dce)\n"
    "      --llvm                       print the LLVM IR instead\n"
    "  drivec run FILE [options]        step a circuit over an input trace\n"
    "      --circuit NAME               the circuit to run (needed when there are several)\n"
    "      --in IN.csv                  inputs, one row per tick, columns named after inputs\n"
    "      --out OUT.csv                write outputs as CSV ('-': stdout); default: a table\n"
    "      --ticks N                    run N ticks (default: one per input row)\n"
    "      --random-inputs SEED         instead of --in: inputs drawn at random each tick\n"
    "      --param NAME=VALUE           set a param for this run (repeatable)\n"
    "      --trace TRACE.csv            write a trace: every input, output and reward stream\n"
    "                                   per tick (or the --trace-signals), as CSV\n"
    "      --trace-signals A,B,...      write these signals instead of the outputs: any named\n"
    "                                   signal (lets, reward streams, 'p.error', 'inst.y')\n"
    "      --explain TICK               after the run, break that tick's total reward into its\n"
    "                                   streams and the signals they read (TICK: 150 or 1.5s)\n"
    "      --backend jit|interp|both    JIT-compiled code (default), the reference\n"
    "                                   interpreter, or both checked against each other\n"
    "      -O0                          no optimisation (IR passes and LLVM)\n"
    "  drivec build FILE -o LIB.so [options]  compile circuits to a shared object (C ABI)\n"
    "      --circuit NAME               only this circuit (repeatable; default: all)\n"
    "      --header FILE.h              also write the C header\n"
    "      --cpu generic|native         code for any x86-64 (default) or this machine\n"
    "      --no-cache                   neither read nor write the build cache\n"
    "  drivec plot TRACE.csv -o OUT.svg [options]  draw a trace (from run --out) with gnuplot\n"
    "      --signals A,B,...            the columns to draw (default: all but tick and time)\n"
    "      --rewards A,B,...            reward streams, drawn stacked in a panel of their own\n"
    "      --circuit FILE.drive         the reward streams are those of the circuits in FILE\n"
    "      --title TEXT                 the plot's title (default: the trace's file name)\n"
    "  drivec test FILE|DIR... [options]  run the scenarios of the files (of every .drive\n"
    "                                   file under a DIR) and judge their expectations\n"
    "      --scenario NAME              only this scenario (repeatable)\n"
    "      --trace DIR                  write each run's trace to DIR/SCENARIO[.VARIANT].csv\n"
    "      --plot DIR                   draw each scenario's plot lines to DIR/SCENARIO.svg\n"
    "      --backend jit|interp|both    as for run (both: checked against each other)\n"
    "      -v                           show every expectation with its measurements\n"
    "      -O0                          no optimisation\n"
    "  drivec dot FILE [options]        draw a circuit as a Graphviz (DOT) diagram\n"
    "      --circuit NAME               the circuit to draw (may be one the file imports)\n"
    "      -o OUT.dot                   write the DOT text to OUT.dot (default: stdout)\n"
    "      --svg OUT.svg                also render it to OUT.svg with Graphviz's dot\n"
    "  drivec repl [FILE...] [options]  an interactive session: define circuits, step them,\n"
    "                                   watch any signal (:help inside lists the commands);\n"
    "                                   reads a script without prompts from a pipe\n"
    "      --timings                    after each definition, the time to callable code\n"
    "  check, ir, run, test, dot and repl also take:\n"
    "      -I DIR                       look for imported modules in DIR too (repeatable;\n"
    "                                   also DRIVE_PATH=DIR:DIR...; the stdlib is last)\n"
    "  drivec help                      this text\n"
    "  drivec --version\n"
    "\n"
    "exit status: 0 success, 1 errors in the program or its data, 2 bad usage\n";

static int usage_error(const char *fmt, const char *arg)
{
    fputs("drivec: error: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(run 'drivec help' for usage)\n", stderr);
    return EXIT_USAGE;
}

typedef struct cli {
    const char *files[64];
    int n_files;
    const char *params[64]; /* NAME=VALUE */
    int n_params;
    const char *include[64]; /* -I DIR */
    int n_include;
    const char *scenarios[64]; /* --scenario NAME */
    int n_scenarios;
    const char *trace_dir, *plot_dir;
    int verbose;
    const char *out_so, *header, *cpu;
    const char *circuits[64]; /* build --circuit NAME... */
    int n_circuits;
    int no_cache;
    const char *circuit, *in, *out, *dump_after, *backend;
    const char *trace_signals, *explain, *signals, *rewards, *title; /* run, plot */
    const char *svg;                                                  /* dot */
    int timings;                                                      /* repl */
    long ticks;
    unsigned long long seed;
    int opt0, llvm;
} cli;

/* Options take their value as the next word or after '='. */
static int take_value(int argc, char **argv, int *i, const char *name, const char **val)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return 0;
    if (argv[*i][n] == '=') {
        *val = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != 0)
        return 0;
    if (*i + 1 >= argc) {
        *val = NULL;
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

/* Which commands take which option: an option a command would ignore is a
 * usage error, not a silent no-op. */
static const struct {
    const char *option, *commands;
} OPTION_USE[] = {
    { "--circuit", " ir run build plot dot " }, { "-o", " build plot dot " },        { "--header", " build " },
    { "--cpu", " build " },           { "--no-cache", " build " },      { "--in", " run " },         { "--out", " run " },
    { "--ticks", " run " },           { "--backend", " run test " },
    { "--scenario", " test " },       { "--trace", " run test " },     { "--plot", " test " },
    { "-v", " test " },    { "--random-inputs", " run " },
    { "--param", " run " },           { "--trace-signals", " run " }, { "--explain", " run " },
    { "--signals", " plot " },        { "--rewards", " plot " },   { "--title", " plot " },
    { "--svg", " dot " },            { "--dump-after", " ir " },       { "--llvm", " ir " },
    { "-O0", " ir run test " },       { "-I", " check ir run test build plot dot repl " }, { "--timings", " repl " },       { "-O2", " ir run test " },
};

static int option_allowed(const char *cmd, const char *arg)
{
    char key[32];
    snprintf(key, sizeof key, " %s ", cmd);
    for (size_t i = 0; i < sizeof OPTION_USE / sizeof OPTION_USE[0]; i++) {
        size_t n = strlen(OPTION_USE[i].option);
        if (strncmp(arg, OPTION_USE[i].option, n) == 0 && (arg[n] == 0 || arg[n] == '='))
            return strstr(OPTION_USE[i].commands, key) != NULL;
    }
    return 1; /* unknown options are reported by the parser below */
}

static int parse_args(int argc, char **argv, int first, const char *cmd, cli *o)
{
    memset(o, 0, sizeof *o);
    o->ticks = -1;
    o->backend = "jit";
    for (int i = first; i < argc; i++) {
        const char *v = NULL;
        int r;
        const char *a = argv[i];
        if (a[0] == '-' && !option_allowed(cmd, a)) {
            fprintf(stderr, "drivec: error: '%s' does not take option '%s'\n", cmd, a);
            fputs("(run 'drivec help' for usage)\n", stderr);
            return EXIT_USAGE;
        }
        if ((r = take_value(argc, argv, &i, "--circuit", &o->circuit))) {
            if (r < 0)
                return usage_error("option '%s' needs a value", a);
            if (o->n_circuits == (int)(sizeof o->circuits / sizeof o->circuits[0]))
                return usage_error("too many --circuit options (the limit is 64): %s", a);
            o->circuits[o->n_circuits++] = o->circuit;
        } else if ((r = take_value(argc, argv, &i, "-o", &o->out_so)) ||
            (r = take_value(argc, argv, &i, "--header", &o->header)) ||
            (r = take_value(argc, argv, &i, "--cpu", &o->cpu)) ||
            (r = take_value(argc, argv, &i, "--in", &o->in)) ||
            (r = take_value(argc, argv, &i, "--out", &o->out)) ||
            (r = take_value(argc, argv, &i, "--dump-after", &o->dump_after)) ||
            (r = take_value(argc, argv, &i, "--backend", &o->backend)) ||
            (r = take_value(argc, argv, &i, "--trace", &o->trace_dir)) ||
            (r = take_value(argc, argv, &i, "--plot", &o->plot_dir)) ||
            (r = take_value(argc, argv, &i, "--trace-signals", &o->trace_signals)) ||
            (r = take_value(argc, argv, &i, "--explain", &o->explain)) ||
            (r = take_value(argc, argv, &i, "--signals", &o->signals)) ||
            (r = take_value(argc, argv, &i, "--rewards", &o->rewards)) ||
            (r = take_value(argc, argv, &i, "--title", &o->title)) ||
            (r = take_value(argc, argv, &i, "--svg", &o->svg))) {
            if (r < 0)
                return usage_error("option '%s' needs a value", a);
        } else if ((r = take_value(argc, argv, &i, "--ticks", &v))) {
            char *end;
            if (r < 0)
                return usage_error("option '%s' needs a value", a);
            errno = 0;
            long n = strtol(v, &end, 10);
            if (*v == 0 || *end != 0 || n < 0 || errno)
                return usage_error("--ticks needs a whole number >= 0, not '%s'", v);
            if (n > 100000000) /* as a scenario (lang/SPEC.md, "Limits") */
                return usage_error("--ticks is at most 100000000 (longer runs belong in a host "
                                   "program using libdrive), not %s", v);
            o->ticks = n;
        } else if ((r = take_value(argc, argv, &i, "--random-inputs", &v))) {
            char *end;
            if (r < 0)
                return usage_error("option '%s' needs a value", a);
            errno = 0;
            o->seed = strtoull(v, &end, 10);
            if (*v == 0 || *v == '-' || *end != 0 || errno || o->seed == 0)
                return usage_error("--random-inputs needs a whole number > 0, not '%s'", v);
        } else if ((r = take_value(argc, argv, &i, "--param", &v))) {
            if (r < 0)
                return usage_error("option '%s' needs a value", a);
            if (!strchr(v, '=') || v[0] == '=')
                return usage_error("--param needs NAME=VALUE, not '%s'", v);
            if (o->n_params == (int)(sizeof o->params / sizeof o->params[0]))
                return usage_error("too many --param options (the limit is 64): %s", v);
            o->params[o->n_params++] = v;
        } else if (strncmp(a, "-I", 2) == 0) {
            const char *dir = a[2] == '=' ? a + 3 : a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
            if (!dir || !*dir)
                return usage_error("option '%s' needs a directory", a);
            if (o->n_include == (int)(sizeof o->include / sizeof o->include[0]))
                return usage_error("too many -I options (the limit is 64): %s", dir);
            o->include[o->n_include++] = dir;
        } else if ((r = take_value(argc, argv, &i, "--scenario", &v))) {
            if (r < 0)
                return usage_error("option '%s' needs a value", a);
            if (o->n_scenarios == (int)(sizeof o->scenarios / sizeof o->scenarios[0]))
                return usage_error("too many --scenario options (the limit is 64): %s", v);
            o->scenarios[o->n_scenarios++] = v;
        } else if (strcmp(a, "--no-cache") == 0) {
            o->no_cache = 1;
        } else if (strcmp(a, "-v") == 0) {
            o->verbose = 1;
        } else if (strcmp(a, "-O0") == 0) {
            o->opt0 = 1;
        } else if (strcmp(a, "-O2") == 0) {
            o->opt0 = 0;
        } else if (strcmp(a, "--timings") == 0) {
            o->timings = 1;
        } else if (strcmp(a, "--llvm") == 0) {
            o->llvm = 1;
        } else if (a[0] == '-' && a[1] != 0) {
            return usage_error("unknown option '%s'", a);
        } else {
            if (o->n_files == (int)(sizeof o->files / sizeof o->files[0]))
                return usage_error("too many files (the limit is 64); first extra: %s", a);
            o->files[o->n_files++] = a;
        }
    }
    return 0;
}

static compile_result *compile_or_report(const char *path, const cli *o, FILE *dump,
                                         int parse_only)
{
    compile_opts copts = { .optimize = !o->opt0, .parse_only = parse_only,
                           .passes = { .dump = dump, .dump_after = o->dump_after,
                                       .circuit = o->circuit },
                           .include_dirs = o->include, .n_include_dirs = o->n_include };
    compile_result *r = compile_file(path, &copts);
    return r;
}

static int finish(compile_result *r)
{
    int errors = diag_errors(r->diag);
    diag_flush(r->diag, stderr, diag_want_color(stderr));
    return errors ? EXIT_ERRORS : EXIT_OK;
}

static int cmd_check(const cli *o)
{
    if (o->n_files == 0)
        return usage_error("%s", "check needs at least one FILE");
    int status = EXIT_OK;
    for (int i = 0; i < o->n_files; i++) {
        compile_result *r = compile_or_report(o->files[i], o, NULL, 0);
        if (!diag_errors(r->diag) && r->sema && r->ast->n_scenarios) {
            /* Scenarios are checked against their circuits, not run. */
            compile_opts copts = { .optimize = 0, .include_dirs = o->include,
                                   .n_include_dirs = o->n_include };
            scn_options so = { .check_only = 1, .out = stdout };
            scn_totals t = { 0 };
            scn_run_file(r, &copts, &so, &t);
        }
        if (finish(r) != EXIT_OK)
            status = EXIT_ERRORS;
        compile_free(r);
    }
    return status;
}

static int cmd_ast(const cli *o)
{
    if (o->n_files != 1)
        return usage_error("%s", "ast needs exactly one FILE");
    compile_result *r = compile_or_report(o->files[0], o, NULL, 1);
    if (r->ast)
        ast_print(stdout, r->ast);
    int s = finish(r);
    compile_free(r);
    return s;
}

static int print_llvm(const ir_circuit *c, int opt0)
{
    char *err = NULL;
    cg_target *t = cg_target_host(&err);
    if (!t) {
        fprintf(stderr, "drivec: error: %s\n", err ? err : "no target");
        free(err);
        return EXIT_ERRORS;
    }
    LLVMContextRef ctx = LLVMContextCreate();
    char *prefix = malloc(strlen(c->module) + strlen(c->name) + 16);
    sprintf(prefix, "drive_%s_%s", c->module, c->name);
    LLVMModuleRef m = cg_emit(ctx, c, prefix, t);
    int status = EXIT_OK;
    if (!m || cg_optimize(m, t, opt0 ? 0 : 2, &err) != 0) {
        fprintf(stderr, "drivec: error: %s\n", err ? err : "code generation failed");
        status = EXIT_ERRORS;
    } else {
        char *text = cg_print_module(m);
        fputs(text, stdout);
        free(text);
    }
    free(err);
    free(prefix);
    if (m)
        LLVMDisposeModule(m);
    LLVMContextDispose(ctx);
    cg_target_free(t);
    return status;
}

static int cmd_ir(const cli *o)
{
    if (o->n_files != 1)
        return usage_error("%s", "ir needs exactly one FILE");
    if (o->dump_after) {
        int known = !strcmp(o->dump_after, "all");
        for (int i = 0; pass_names[i]; i++)
            known |= !strcmp(o->dump_after, pass_names[i]);
        if (!known)
            return usage_error("--dump-after takes lower, fold, cse, dce or all, not '%s'",
                               o->dump_after);
        if (o->opt0 && strcmp(o->dump_after, "lower") != 0 && strcmp(o->dump_after, "all") != 0)
            return usage_error("-O0 runs no passes: nothing to show after '%s'", o->dump_after);
        if (o->llvm)
            return usage_error("%s", "--dump-after shows the IR; it does not combine with --llvm");
    }
    compile_result *r = compile_or_report(o->files[0], o, stdout, 0);
    int status = EXIT_OK;
    if (diag_errors(r->diag) == 0) {
        ir_circuit *only = o->circuit ? compile_pick(r, o->circuit) : NULL;
        for (int i = 0; i < r->n_circuits; i++) {
            ir_circuit *c = r->circuits[i];
            if (o->circuit && c != only)
                continue;
            if (o->dump_after)
                continue; /* already printed between passes */
            if (o->llvm)
                status |= print_llvm(c, o->opt0);
            else {
                if (i && !o->circuit)
                    fputc('\n', stdout);
                ir_print(stdout, c);
            }
        }
    }
    int s = finish(r);
    compile_free(r);
    return s ? s : status;
}

/* Adapters from the runtime's calling convention to each back end. */

typedef struct warn_sink {
    diag_ctx *diag;
} warn_sink;

/* Byte column and width of the n-th (1-based) comma-separated field of a
 * line, trimmed of spaces; 0 when the line has no such field. */
static int field_span(const src_file *f, long line, int n, int *len)
{
    size_t ll;
    const char *p = src_line(f, line, &ll);
    if (!p)
        return 0;
    const char *s = p, *end = p + ll;
    for (int k = 1; k < n; k++) {
        while (s < end && *s != ',')
            s++;
        if (s >= end)
            return 0;
        s++;
    }
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    const char *e = s;
    while (e < end && *e != ',')
        e++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *len = (int)(e - s);
    return (int)(s - p) + 1;
}

/* The data file a message points into, read once per run. */
static const src_file *data_file(diag_ctx *d, const char *path)
{
    static const src_file *last;
    static diag_ctx *last_d;
    if (last && last_d == d && strcmp(last->name, path) == 0)
        return last;
    last = diag_load_file(d, path);
    last_d = d;
    return last;
}

/* Report a data problem with the CSV line and a caret, like program errors. */
static void report_data(diag_ctx *d, diag_level lvl, const rt_error *e)
{
    if (e->file && e->line > 0) {
        const src_file *f = data_file(d, e->file);
        if (f) {
            int col = e->col > 0 ? e->col : 1, len = e->len;
            if (e->field > 0 && e->col == 0)
                col = field_span(f, e->line, e->field, &len);
            if (col <= 0)
                col = 1;
            src_loc loc = { .file = f, .line = (int)e->line, .col = col,
                            .end_line = (int)e->line, .end_col = col + (len > 0 ? len : 1) };
            diag_report(d, lvl, loc, "%s", e->msg);
            if (e->hint[0])
                diag_hint(d, "%s", e->hint);
            return;
        }
    }
    if (e->file)
        diag_plain(d, lvl, "%s: %s", e->file, e->msg);
    else
        diag_plain(d, lvl, "%s", e->msg);
}

/* --param NAME=VALUE against the circuit's params; errors name the options. */
static int resolve_params(const cli *o, const rt_circuit *c, diag_ctx *d, rt_param_value *out)
{
    int ok = 1;
    for (int i = 0; i < o->n_params; i++) {
        const char *eq = strchr(o->params[i], '=');
        size_t n = (size_t)(eq - o->params[i]);
        const char *val = eq + 1;
        uint32_t k = 0;
        while (k < c->n_params && !(strlen(c->params[k].name) == n &&
                                    strncmp(c->params[k].name, o->params[i], n) == 0))
            k++;
        if (k == c->n_params) {
            diag_plain(d, DIAG_ERROR, "--param %s: %s has no param '%.*s'", o->params[i], c->name,
                       (int)n, o->params[i]);
            const char **names = calloc(c->n_params + 1, sizeof *names);
            for (uint32_t j = 0; j < c->n_params; j++)
                names[j] = c->params[j].name;
            char *want = strndup(o->params[i], n);
            const char *s = diag_suggest(want, names, c->n_params);
            if (s)
                diag_hint(d, "did you mean '%s'?", s);
            else if (c->n_params == 0)
                diag_hint(d, "%s has no params", c->name);
            free(want);
            free(names);
            ok = 0;
            continue;
        }
        double v;
        char *end;
        if (c->params[k].kind == RT_BOOL) {
            if (!strcmp(val, "true") || !strcmp(val, "1"))
                v = 1;
            else if (!strcmp(val, "false") || !strcmp(val, "0"))
                v = 0;
            else {
                diag_plain(d, DIAG_ERROR, "--param %s: '%s' is bool: give true, false, 1 or 0",
                           o->params[i], c->params[k].name);
                ok = 0;
                continue;
            }
        } else {
            v = strtod(val, &end);
            if (*val == 0 || *end != 0 || !isfinite(v)) {
                diag_plain(d, DIAG_ERROR, "--param %s: '%s' is not a finite number", o->params[i],
                           val);
                size_t digits = strspn(val, "0123456789.eE+-");
                if (digits > 0 && digits < strlen(val)) /* a number with a unit */
                    diag_hint(d, "give the number alone; durations are in seconds (0.3 for 300 ms)");
                ok = 0;
                continue;
            }
            if (c->params[k].has_range && !(v >= c->params[k].lo && v <= c->params[k].hi)) {
                char lo[32], hi[32];
                diag_plain(d, DIAG_ERROR, "--param %s: '%s' must lie in [%s, %s]", o->params[i],
                           c->params[k].name, rt_fmt_f64(lo, c->params[k].lo),
                           rt_fmt_f64(hi, c->params[k].hi));
                ok = 0;
                continue;
            }
        }
        out[i] = (rt_param_value){ k, v };
    }
    return ok;
}

static void warn_cb(void *ctx, const rt_error *w) { report_data(ctx, DIAG_WARNING, w); }
static void error_cb(void *ctx, const rt_error *e) { report_data(ctx, DIAG_ERROR, e); }

static int cmd_run(const cli *o)
{
    if (o->n_files != 1)
        return usage_error("%s", "run needs exactly one FILE");
    int use_jit = 0, use_interp = 0;
    if (strcmp(o->backend, "jit") == 0)
        use_jit = 1;
    else if (strcmp(o->backend, "interp") == 0)
        use_interp = 1;
    else if (strcmp(o->backend, "both") == 0)
        use_jit = use_interp = 1;
    else
        return usage_error("--backend must be jit, interp or both, not '%s'", o->backend);

    if (o->trace_dir && o->out)
        return usage_error("--trace writes the run's trace as --out does: give one of them%s", "");
    cli with_trace;
    if (o->trace_dir) { /* the trace is the run's CSV output, with inputs first */
        with_trace = *o;
        with_trace.out = o->trace_dir;
        o = &with_trace;
    }
    compile_result *r = compile_or_report(o->files[0], o, NULL, 0);
    ir_circuit *c = diag_errors(r->diag) ? NULL : compile_pick(r, o->circuit);
    const sema_circuit *sc = c ? sema_find_circuit(r->sema, c->name) : NULL;
    if (c && (o->trace_signals || o->explain)) { /* inner signals: compiled with probes */
        compile_opts popts = { .optimize = !o->opt0, .include_dirs = o->include,
                               .n_include_dirs = o->n_include };
        c = sc ? compile_probed(r, sc, &popts) : NULL;
    }
    if (!c) {
        int s = finish(r);
        compile_free(r);
        return s ? s : EXIT_ERRORS;
    }
    if (o->in && o->seed) {
        diag_flush(r->diag, stderr, diag_want_color(stderr));
        compile_free(r);
        return usage_error("give either --in or --random-inputs, not both%s", "");
    }
    if (!o->in && !o->seed && c->n_inputs > 0) {
        diag_flush(r->diag, stderr, diag_want_color(stderr));
        compile_free(r);
        return usage_error("circuit has inputs: give them with --in FILE.csv%s", "");
    }
    if (!o->in && o->ticks < 0) {
        diag_flush(r->diag, stderr, diag_want_color(stderr));
        compile_free(r);
        return usage_error("without --in, say how long to run with --ticks N%s", "");
    }
    if (o->seed && o->ticks < 0) {
        diag_flush(r->diag, stderr, diag_want_color(stderr));
        compile_free(r);
        return usage_error("with --random-inputs, say how long to run with --ticks N%s", "");
    }

    int status = EXIT_OK;
    rt_table table = { 0 };
    rt_error err = { 0 };
    jit *j = NULL;
    jit_fn fn = { 0 };
    interp *ip = NULL;
    char *msg = NULL;
    FILE *out = NULL;
    char *tmp_path = NULL;
    explain_ctx *ex = NULL;
    long explain_tick = 0;

    if (o->explain && !explain_parse_tick(o->explain, c->tick_seconds, &explain_tick)) {
        status = usage_error("--explain needs a tick number or a time like 1.5s, not '%s'",
                             o->explain);
        goto done;
    }
    if (o->in && !rt_csv_read(o->in, &table, &err)) {
        report_data(r->diag, DIAG_ERROR, &err);
        status = EXIT_ERRORS;
        goto done;
    }
    rt_circuit main_c = compile_reflect(&r->mem, c), ref_c = main_c;
    if (use_jit) {
        j = jit_create(&msg);
        if (j)
            jit_set_lanes(j, 0); /* one instance: no step_n across instances */
        if (!j || jit_compile(j, c, o->opt0 ? 0 : 2, &fn, &msg) != 0) {
            diag_plain(r->diag, DIAG_ERROR, "JIT compilation failed: %s", msg ? msg : "?");
            status = EXIT_ERRORS;
            goto done;
        }
        jit_bind(&main_c, &fn);
    }
    if (use_interp) {
        ip = interp_new(c);
        rt_circuit *ic = use_jit ? &ref_c : &main_c;
        interp_bind(ic, ip);
    }

    rt_param_value params[64];
    if (!resolve_params(o, &main_c, r->diag, params)) {
        status = EXIT_ERRORS;
        goto done;
    }
    rt_run_opts ro = { .ticks = o->ticks, .in_name = o->in, .warn = warn_cb, .warn_ctx = r->diag,
                       .error = error_cb, .error_ctx = r->diag,
                       .random_seed = o->seed, .params = params, .n_params = (uint32_t)o->n_params,
                       .reference = use_jit && use_interp ? &ref_c : NULL,
                       .progress = arena_printf(&r->mem, "%s.%s", c->module, c->name) };
    rt_column *cols = NULL;
    if (o->trace_signals &&
        !explain_columns(&r->mem, r->diag, &main_c, o->trace_signals, &cols, &ro.n_columns)) {
        status = EXIT_ERRORS;
        goto done;
    } else if (!o->trace_signals && (o->explain || o->trace_dir)) {
        explain_default_columns(&r->mem, &main_c, o->trace_dir != NULL, &cols, &ro.n_columns);
    }
    ro.columns = cols;
    if (o->explain) {
        ex = explain_new(sc, &main_c, explain_tick);
        ro.on_tick = explain_on_tick;
        ro.tick_ctx = ex;
    }
    struct stat sb;
    if (o->out && strcmp(o->out, "-") != 0 && stat(o->out, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        out = fopen(o->out, "w"); /* a device or pipe: no temporary file */
        if (!out) {
            diag_plain(r->diag, DIAG_ERROR, "cannot write '%s': %s", o->out, strerror(errno));
            status = EXIT_ERRORS;
            goto done;
        }
        ro.out = out;
        ro.format = RT_OUT_CSV;
    } else if (o->out && strcmp(o->out, "-") != 0) {
        /* Written beside the target and renamed when complete, so a failed
         * run never leaves a truncated trace under the real name. */
        tmp_path = malloc(strlen(o->out) + 8);
        sprintf(tmp_path, "%s.tmp", o->out);
        out = fopen(tmp_path, "w");
        if (!out) {
            diag_plain(r->diag, DIAG_ERROR, "cannot write '%s': %s", tmp_path, strerror(errno));
            status = EXIT_ERRORS;
            goto done;
        }
        ro.out = out;
        ro.format = RT_OUT_CSV;
    } else if (o->out) {
        ro.out = stdout;
        ro.format = RT_OUT_CSV;
    } else {
        ro.out = stdout;
        ro.format = RT_OUT_TABLE;
        long ticks = o->ticks >= 0 ? o->ticks : table.nrows;
        printf("%s.%s: %ld ticks of %g ms (%g s)%s\n", c->module, c->name, ticks,
               c->tick_seconds * 1000, (double)ticks * c->tick_seconds,
               ro.reference ? ", JIT checked against the interpreter" : "");
    }
    /* A run with invalid ticks still wrote every output: its trace is kept
     * (the exit status tells the failure). */
    int complete = 1;
    if (ro.out == stdout && isatty(STDOUT_FILENO))
        ro.progress = NULL; /* the trace and a progress bar on one screen */
    if (!rt_run(&main_c, o->in ? &table : NULL, &ro, &err)) {
        report_data(r->diag, DIAG_ERROR, &err);
        status = EXIT_ERRORS;
        complete = err.complete;
    }
    fflush(stdout);
    if (ex && (status == EXIT_OK || complete) &&
        !explain_print(ex, o->out && !strcmp(o->out, "-") ? stderr : stdout, r->diag,
                       o->ticks >= 0 ? o->ticks : table.nrows))
        status = EXIT_ERRORS;
    if (out && !tmp_path) {
        if (fclose(out) != 0) {
            diag_plain(r->diag, DIAG_ERROR, "cannot write '%s'", o->out);
            status = EXIT_ERRORS;
        }
        out = NULL;
    }
    if (out) {
        int bad = fclose(out) != 0;
        out = NULL;
        if (bad) {
            diag_plain(r->diag, DIAG_ERROR, "cannot write '%s'", o->out);
            status = EXIT_ERRORS;
        }
        if (!bad && complete && rename(tmp_path, o->out) != 0) {
            diag_plain(r->diag, DIAG_ERROR, "cannot write '%s': %s", o->out, strerror(errno));
            status = EXIT_ERRORS;
            complete = 0;
        }
        if (bad || !complete)
            remove(tmp_path);
        else {
            free(tmp_path); /* renamed: nothing to clean up */
            tmp_path = NULL;
        }
    }
done:
    if (out)
        fclose(out);
    if (tmp_path && status != EXIT_OK)
        remove(tmp_path);
    free(tmp_path);
    free(msg);
    explain_free(ex);
    interp_free(ip);
    if (j)
        jit_destroy(j);
    rt_csv_free(&table);
    int s = finish(r);
    compile_free(r);
    return status ? status : s;
}

static int cmd_build(const cli *o)
{
    if (o->n_files != 1)
        return usage_error("%s", "build needs exactly one FILE");
    if (!o->out_so)
        return usage_error("%s", "build needs the shared object to write: -o LIB.so");
    if (o->cpu && strcmp(o->cpu, "generic") != 0 && strcmp(o->cpu, "native") != 0)
        return usage_error("--cpu must be generic or native, not '%s'", o->cpu);
    compile_result *r = compile_or_report(o->files[0], o, NULL, 0);
    if (diag_errors(r->diag) || r->n_circuits == 0) {
        int s = finish(r);
        if (!s && r->n_circuits == 0)
            diag_plain(r->diag, DIAG_ERROR, "'%s' defines no circuit to build", o->files[0]);
        s = finish(r);
        compile_free(r);
        return EXIT_ERRORS;
    }
    ir_circuit **chosen = arena_calloc(&r->mem, (size_t)r->n_circuits + 1, sizeof *chosen);
    int n = 0;
    if (o->n_circuits) {
        for (int i = 0; i < o->n_circuits; i++) {
            ir_circuit *c = compile_pick(r, o->circuits[i]);
            if (!c) {
                finish(r);
                compile_free(r);
                return EXIT_ERRORS;
            }
            int dup = 0; /* --circuit a --circuit a: once */
            for (int k = 0; k < n; k++)
                dup |= chosen[k] == c;
            if (!dup)
                chosen[n++] = c;
        }
    } else {
        for (int i = 0; i < r->n_circuits; i++)
            chosen[n++] = r->circuits[i];
    }
    aot_options ao = { .out_so = o->out_so, .out_header = o->header, .cpu = o->cpu,
                       .cache_dir = o->no_cache ? NULL : aot_cache_dir(&r->mem) };
    char *msg = NULL;
    int cached = 0;
    int status = EXIT_OK;
    if (aot_build(r, chosen, n, &ao, &cached, &msg) != 0) {
        diag_plain(r->diag, DIAG_ERROR, "%s", msg ? msg : "build failed");
        status = EXIT_ERRORS;
    } else {
        printf("%s: %d circuit%s%s\n", o->out_so, n, n > 1 ? "s" : "",
               cached ? " (unchanged: from the build cache)" : "");
    }
    free(msg);
    int s = finish(r);
    compile_free(r);
    return status ? status : s;
}

/* mkdir -p */
static int ensure_dir(const char *dir)
{
    struct stat sb;
    if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
        return 1;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(buf, 0777); /* an error shows at the last step */
            *p = '/';
        }
    if (mkdir(buf, 0777) == 0 || (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode)))
        return 1;
    fprintf(stderr, "drivec: error: cannot make directory '%s': %s\n", dir, strerror(errno));
    return 0;
}

/* The .drive files under dir (recursively, in name order), appended to
 * *list (malloc'd strings). Hidden directories are skipped. */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void drive_files_in(const char *dir, char ***list, size_t *n, size_t *cap, int depth)
{
    DIR *d = depth < 32 ? opendir(dir) : NULL;
    if (!d)
        return;
    char **names = NULL;
    size_t nn = 0, nc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (nn == nc) {
            nc = nc ? nc * 2 : 16;
            names = realloc(names, nc * sizeof *names);
        }
        names[nn] = malloc(strlen(dir) + strlen(e->d_name) + 2);
        sprintf(names[nn++], "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", e->d_name);
    }
    closedir(d);
    if (nn)
        qsort(names, nn, sizeof *names, cmp_str);
    for (size_t i = 0; i < nn; i++) {
        struct stat sb;
        size_t len = strlen(names[i]);
        if (stat(names[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
            drive_files_in(names[i], list, n, cap, depth + 1);
            free(names[i]);
        } else if (len > 6 && strcmp(names[i] + len - 6, ".drive") == 0) {
            if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 16;
                *list = realloc(*list, *cap * sizeof **list);
            }
            (*list)[(*n)++] = names[i];
        } else {
            free(names[i]);
        }
    }
    free(names);
}

static int cmd_test(const cli *o)
{
    if (o->n_files == 0)
        return usage_error("%s", "test needs at least one FILE");
    scn_backend backend;
    if (strcmp(o->backend, "jit") == 0)
        backend = SCN_JIT;
    else if (strcmp(o->backend, "interp") == 0)
        backend = SCN_INTERP;
    else if (strcmp(o->backend, "both") == 0)
        backend = SCN_BOTH;
    else
        return usage_error("--backend must be jit, interp or both, not '%s'", o->backend);
    if ((o->trace_dir && !ensure_dir(o->trace_dir)) || (o->plot_dir && !ensure_dir(o->plot_dir)))
        return EXIT_ERRORS;
    scn_options so = { .only = o->n_scenarios ? o->scenarios : NULL, .n_only = o->n_scenarios,
                       .trace_dir = o->trace_dir, .plot_dir = o->plot_dir,
                       .verbose = o->verbose, .backend = backend, .out = stdout };
    scn_totals t = { 0 };
    int broken = 0;
    /* A directory stands for every .drive file under it. */
    char **files = NULL;
    size_t n_files = 0, cap = 0;
    for (int i = 0; i < o->n_files; i++) {
        struct stat sb;
        if (stat(o->files[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
            drive_files_in(o->files[i], &files, &n_files, &cap, 0);
            continue;
        }
        if (n_files == cap) {
            cap = cap ? cap * 2 : 16;
            files = realloc(files, cap * sizeof *files);
        }
        files[n_files] = malloc(strlen(o->files[i]) + 1);
        strcpy(files[n_files++], o->files[i]);
    }
    for (size_t i = 0; i < n_files; i++) {
        compile_opts copts = { .optimize = !o->opt0, .include_dirs = o->include,
                               .n_include_dirs = o->n_include };
        compile_result *r = compile_file(files[i], &copts);
        if (diag_errors(r->diag) || !r->sema) {
            printf("FAIL %s: does not compile\n", files[i]);
            broken++;
        } else {
            diag_flush(r->diag, stderr, diag_want_color(stderr)); /* warnings */
            scn_run_file(r, &copts, &so, &t);
        }
        fflush(stdout);
        diag_flush(r->diag, stderr, diag_want_color(stderr));
        compile_free(r);
    }
    for (size_t i = 0; i < n_files; i++)
        free(files[i]);
    free(files);
    if (o->n_scenarios && t.matched == 0) {
        fprintf(stderr, "drivec: error: no scenario named %s%s\n", o->scenarios[0],
                o->n_scenarios > 1 ? " (or the others given)" : "");
        return EXIT_ERRORS;
    }
    printf("%d passed, %d failed\n", t.passed, t.failed + broken);
    return t.failed || broken ? EXIT_ERRORS : EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("%s", "no command given");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        fputs(USAGE, stdout);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "--version")) {
        printf("drivec %s (LLVM %d)\n", DRIVE_VERSION, LLVM_VERSION_MAJOR);
        return EXIT_OK;
    }
    cli o;
    int bad = parse_args(argc, argv, 2, cmd, &o);
    if (bad)
        return bad;
    int status;
    if (!strcmp(cmd, "check"))
        status = cmd_check(&o);
    else if (!strcmp(cmd, "ast"))
        status = cmd_ast(&o);
    else if (!strcmp(cmd, "ir"))
        status = cmd_ir(&o);
    else if (!strcmp(cmd, "run"))
        status = cmd_run(&o);
    else if (!strcmp(cmd, "test"))
        status = cmd_test(&o);
    else if (!strcmp(cmd, "build"))
        status = cmd_build(&o);
    else if (!strcmp(cmd, "repl"))
        status = repl_main(o.files, o.n_files, o.include, o.n_include, o.timings);
    else if (!strcmp(cmd, "dot"))
        status = o.n_files == 1 ? drivec_dot(o.files[0], o.circuit, o.out_so, o.svg, o.include,
                                             o.n_include)
               : o.n_files ? usage_error("dot draws one FILE at a time; extra: %s", o.files[1])
                           : usage_error("%s", "dot needs exactly one FILE");
    else if (!strcmp(cmd, "plot"))
        status = drivec_plot(o.files, o.n_files, o.out_so, o.signals, o.rewards, o.title,
                             o.circuit, o.include, o.n_include);
    else
        return usage_error("unknown command '%s'", cmd);
    LLVMShutdown();
    return status;
}
