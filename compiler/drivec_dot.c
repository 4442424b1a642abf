/* drivec_dot.c — the command `drivec dot`: a Graphviz drawing of a circuit.
 *
 *   drivec dot FILE [--circuit NAME] [-o OUT.dot] [--svg OUT.svg] [-I DIR]...
 *
 * Options are parsed by drivec.c with the other commands'. Writes the DOT text to OUT.dot (default: stdout, unless only --svg is
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

int drivec_dot(const char *file, const char *circuit, const char *out_path, const char *svg,
               const char *const *include, int n_include)
{
    if (out_path && svg && strcmp(out_path, svg) == 0) {
        fprintf(stderr, "drivec: error: -o and --svg name the same file: %s\n"
                        "(run 'drivec help' for usage)\n", svg);
        return DOT_USAGE;
    }

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
