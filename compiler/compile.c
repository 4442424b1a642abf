/* compile.c — the pipeline's stages run in order, stopping before lowering
 * when the checks found errors. */
#include "compile.h"

#include <stdlib.h>
#include <string.h>

#include "lower.h"
#include "parse.h"

/* The module name a file gets without a `module` line: its base name up to
 * the first dot, with anything that is not an identifier character as '_'. */
static const char *default_module_name(arena *mem, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strcspn(base, ".");
    if (n == 0)
        return "main";
    char *s = arena_strndup(mem, base, n);
    for (char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            *p = '_';
    return s;
}

static compile_result *run_pipeline(compile_result *r, const compile_opts *opt)
{
    const char *name = default_module_name(&r->mem, r->file->name);
    r->ast = parse_module(&r->mem, r->diag, r->file);
    r->sema = sema_check(&r->mem, r->diag, r->ast, name);
    if (diag_errors(r->diag) || !r->sema)
        return r;
    r->n_circuits = r->sema->n_circuits;
    r->circuits = arena_calloc(&r->mem, (size_t)r->n_circuits + 1, sizeof *r->circuits);
    for (int i = 0; i < r->n_circuits; i++) {
        ir_circuit *c = lower_circuit(&r->mem, r->sema, &r->sema->circuits[i]);
        const char *err = NULL;
        if (opt && opt->optimize) {
            err = pass_run_all(&r->mem, c, &opt->passes);
        } else {
            if (opt && pass_wants_dump(&opt->passes, c, "lower")) {
                fprintf(opt->passes.dump, "; after lower\n");
                ir_print(opt->passes.dump, c);
            }
            err = ir_verify(&r->mem, c);
        }
        if (err) {
            diag_plain(r->diag, DIAG_ERROR, "internal compiler error in circuit '%s': %s",
                       c->name, err);
            return r;
        }
        r->circuits[i] = c;
    }
    return r;
}

static compile_result *new_result(void)
{
    compile_result *r = calloc(1, sizeof *r);
    if (!r) {
        fprintf(stderr, "drive: out of memory\n");
        abort();
    }
    arena_init(&r->mem);
    r->diag = diag_new();
    return r;
}

compile_result *compile_file(const char *path, const compile_opts *opt)
{
    compile_result *r = new_result();
    r->file = diag_load_file(r->diag, path);
    if (!r->file)
        return r;
    return run_pipeline(r, opt);
}

compile_result *compile_source(const char *name, const char *text, size_t len,
                               const compile_opts *opt)
{
    compile_result *r = new_result();
    r->file = diag_add_source(r->diag, name, text, len);
    return run_pipeline(r, opt);
}

void compile_free(compile_result *r)
{
    if (!r)
        return;
    diag_free(r->diag);
    arena_free(&r->mem);
    free(r);
}

ir_circuit *compile_pick(compile_result *r, const char *name)
{
    if (r->n_circuits == 0) {
        diag_plain(r->diag, DIAG_ERROR, "'%s' defines no circuit", r->file->name);
        return NULL;
    }
    if (!name) {
        if (r->n_circuits == 1)
            return r->circuits[0];
        size_t len = 0;
        for (int i = 0; i < r->n_circuits; i++)
            len += strlen(r->circuits[i]->name) + 2;
        char *list = arena_alloc(&r->mem, len + 1), *end = list;
        for (int i = 0; i < r->n_circuits; i++)
            end += sprintf(end, "%s%s", i ? ", " : "", r->circuits[i]->name);
        diag_plain(r->diag, DIAG_ERROR, "'%s' defines %d circuits (%s): choose one with --circuit NAME",
                   r->file->name, r->n_circuits, list);
        return NULL;
    }
    const char **names = arena_calloc(&r->mem, (size_t)r->n_circuits, sizeof *names);
    for (int i = 0; i < r->n_circuits; i++) {
        if (strcmp(r->circuits[i]->name, name) == 0)
            return r->circuits[i];
        names[i] = r->circuits[i]->name;
    }
    diag_plain(r->diag, DIAG_ERROR, "'%s' has no circuit named '%s'", r->file->name, name);
    const char *s = diag_suggest(name, names, (size_t)r->n_circuits);
    if (s)
        diag_hint(r->diag, "did you mean '%s'?", s);
    return NULL;
}

static rt_field *reflect_fields(arena *mem, const ir_var *v, uint32_t n)
{
    rt_field *f = arena_calloc(mem, (size_t)n + 1, sizeof *f);
    for (uint32_t i = 0; i < n; i++)
        f[i] = (rt_field){ .name = v[i].name, .kind = v[i].type == IR_BOOL ? RT_BOOL : RT_REAL,
                           .offset = v[i].offset, .init = v[i].init };
    return f;
}

rt_circuit compile_reflect(arena *mem, const ir_circuit *c)
{
    return (rt_circuit){
        .module = c->module, .name = c->name, .tick_seconds = c->tick_seconds,
        .inputs = reflect_fields(mem, c->inputs, c->n_inputs), .n_inputs = c->n_inputs,
        .outputs = reflect_fields(mem, c->outputs, c->n_outputs), .n_outputs = c->n_outputs,
        .params = reflect_fields(mem, c->params, c->n_params), .n_params = c->n_params,
        .state = reflect_fields(mem, c->state, c->n_state), .n_state = c->n_state,
        .in_size = c->in_size, .out_size = c->out_size, .state_size = c->state_size,
    };
}
