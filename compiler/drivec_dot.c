/* drivec_dot.c — the command `drivec dot`: a Graphviz drawing of a circuit.
 *
 *   drivec dot FILE [--circuit NAME] [-o OUT.dot] [--svg OUT.svg] [-I DIR]...
 *
 * Writes the DOT text to OUT.dot (default: stdout, unless only --svg is
 * given) and, with --svg, renders it with Graphviz's `dot -Tsvg`. The
 * circuit is the file's only one, or the one named by --circuit, which may
 * also be a circuit of a module the file imports (`import std.social` and
 * `--circuit social_reward`). Exit status: 0 ok, 1 errors in the program or
 * when drawing, 2 bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "dot.h"

enum { DOT_OK = 0, DOT_ERRORS = 1, DOT_USAGE = 2 };

static int dot_usage(const char *fmt, const char *arg)
{
    fputs("drivec: error: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(run 'drivec help' for usage)\n", stderr);
    return DOT_USAGE;
}

/* Options take their value as the next word or after '='. 1: taken, 0: not
 * this option, -1: the value is missing. */
static int dot_value(int argc, char **argv, int *i, const char *name, const char **val)
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
    if (*i + 1 >= argc)
        return -1;
    *val = argv[++*i];
    return 1;
}

/* The circuit to draw: by name in the main module, then in the modules it
 * imports; or the main module's only circuit. Reports and returns NULL. */
static const sema_circuit *pick(const compile_result *r, const char *path, const char *name)
{
    const sema_module *m = r->sema;
    if (name) {
        const sema_circuit *c = sema_find_circuit(m, name);
        for (int i = 0; !c && i < m->n_imports; i++)
            c = sema_find_circuit(m->imports[i], name);
        if (c)
            return c;
        fprintf(stderr, "drivec: error: %s has no circuit named '%s'", path, name);
    } else if (m->n_circuits == 1) {
        return &m->circuits[0];
    } else if (m->n_circuits == 0) {
        fprintf(stderr, "drivec: error: %s defines no circuit; name an imported one with "
                        "--circuit NAME\n", path);
        return NULL;
    } else {
        fprintf(stderr, "drivec: error: %s has several circuits; choose one with --circuit NAME",
                path);
    }
    fputs(" (its circuits:", stderr);
    for (int i = 0; i < m->n_circuits; i++)
        fprintf(stderr, "%s %s", i ? "," : "", m->circuits[i].name);
    if (m->n_circuits == 0)
        fputs(" none", stderr);
    fputs(")\n", stderr);
    return NULL;
}

int drivec_dot_command(int argc, char **argv)
{
    const char *file = NULL, *circuit = NULL, *out_path = NULL, *svg = NULL;
    const char *include[64];
    int n_include = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int r;
        if ((r = dot_value(argc, argv, &i, "--circuit", &circuit)) ||
            (r = dot_value(argc, argv, &i, "--svg", &svg)) ||
            (r = dot_value(argc, argv, &i, "-o", &out_path))) {
            if (r < 0)
                return dot_usage("option '%s' needs a value", a);
        } else if (strncmp(a, "-I", 2) == 0) {
            v = a[2] == '=' ? a + 3 : a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v || !*v)
                return dot_usage("option '%s' needs a directory", a);
            if (n_include == (int)(sizeof include / sizeof include[0]))
                return dot_usage("too many -I options (the limit is 64): %s", v);
            include[n_include++] = v;
        } else if (a[0] == '-' && a[1] != 0) {
            fprintf(stderr, "drivec: error: 'dot' does not take option '%s'\n", a);
            fputs("(run 'drivec help' for usage)\n", stderr);
            return DOT_USAGE;
        } else if (file) {
            return dot_usage("dot draws one FILE at a time; extra: %s", a);
        } else {
            file = a;
        }
    }
    if (!file)
        return dot_usage("%s", "dot needs exactly one FILE");
    if (out_path && svg && strcmp(out_path, svg) == 0)
        return dot_usage("-o and --svg name the same file: %s", svg);

    compile_opts copts = { .optimize = 0, .include_dirs = include, .n_include_dirs = n_include };
    compile_result *r = compile_file(file, &copts);
    int errors = diag_errors(r->diag);
    diag_flush(r->diag, stderr, diag_want_color(stderr));
    if (errors || !r->sema) {
        compile_free(r);
        return DOT_ERRORS;
    }
    const sema_circuit *c = pick(r, file, circuit);
    if (!c) {
        compile_free(r);
        return DOT_ERRORS;
    }

    char *text = NULL, *err = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    int status = DOT_OK;
    if (!mem || dot_write(mem, c, &err) != 0) {
        fprintf(stderr, "drivec: error: cannot draw circuit '%s': %s\n", c->name,
                err ? err : "out of memory");
        status = DOT_ERRORS;
    }
    if (mem)
        fclose(mem);
    if (status == DOT_OK && (out_path || !svg)) {
        int to_stdout = !out_path || strcmp(out_path, "-") == 0;
        FILE *f = to_stdout ? stdout : fopen(out_path, "w");
        if (!f) {
            perror(out_path);
            status = DOT_ERRORS;
        } else {
            fwrite(text, 1, len, f);
            if ((to_stdout ? fflush(f) : fclose(f)) != 0 || (to_stdout && ferror(f))) {
                fprintf(stderr, "drivec: error: cannot write %s\n",
                        to_stdout ? "the drawing" : out_path);
                status = DOT_ERRORS;
            }
        }
    }
    if (status == DOT_OK && svg) {
        fflush(stdout);
        if (dot_render_svg(text, len, svg, &err) != 0) {
            fprintf(stderr, "drivec: error: %s\n", err ? err : "cannot render the drawing");
            status = DOT_ERRORS;
        }
    }
    free(err);
    free(text);
    compile_free(r);
    return status;
}
