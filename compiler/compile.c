/* compile.c — the pipeline's stages run in order, stopping before lowering
 * when the checks found errors; imports are loaded breadth-first, each
 * module once. */
#include "compile.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

#ifndef DRIVE_STDLIB_SOURCE
#define DRIVE_STDLIB_SOURCE ""
#endif
#ifndef DRIVE_STDLIB_INSTALL
#define DRIVE_STDLIB_INSTALL ""
#endif

const char **compile_search_path(arena *mem, const compile_opts *opt)
{
    const char *env = getenv("DRIVE_PATH");
    size_t n = 4 + (size_t)(opt ? opt->n_include_dirs : 0);
    for (const char *p = env; p && *p; p++)
        n += *p == ':';
    const char **dirs = arena_calloc(mem, n + 1, sizeof *dirs);
    size_t k = 0;
    while (env && *env) {
        size_t len = strcspn(env, ":");
        if (len)
            dirs[k++] = arena_strndup(mem, env, len);
        env += len + (env[len] == ':');
    }
    for (int i = 0; opt && i < opt->n_include_dirs; i++)
        dirs[k++] = opt->include_dirs[i];
    /* The stdlib next to the sources wins over an installed one, so a
     * build tree always uses its own. */
    struct stat st;
    if (DRIVE_STDLIB_SOURCE[0] && stat(DRIVE_STDLIB_SOURCE, &st) == 0)
        dirs[k++] = DRIVE_STDLIB_SOURCE;
    if (DRIVE_STDLIB_INSTALL[0])
        dirs[k++] = DRIVE_STDLIB_INSTALL;
    dirs[k] = NULL;
    return dirs;
}

static void add_module(compile_result *r, ast_module *m, const char *name, const char ***names,
                       int *cap)
{
    if (r->n_modules == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        ast_module **nm = arena_calloc(&r->mem, (size_t)*cap, sizeof *nm);
        const char **nn = arena_calloc(&r->mem, (size_t)*cap, sizeof *nn);
        if (r->n_modules) {
            memcpy(nm, r->modules, (size_t)r->n_modules * sizeof *nm);
            memcpy(nn, *names, (size_t)r->n_modules * sizeof *nn);
        }
        r->modules = nm;
        *names = nn;
    }
    r->modules[r->n_modules] = m;
    (*names)[r->n_modules++] = name;
}

/* The file of module `name` (a.b -> a/b.drive) in the first directory that
 * has it: the importer's, then the search path. */
static const char *module_file(compile_result *r, const char *name)
{
    char *rel = arena_printf(&r->mem, "%s.drive", name);
    for (char *p = rel; *p; p++)
        if (*p == '.' && strcmp(p, ".drive") != 0)
            *p = '/';
    return rel;
}

static const char *find_module(compile_result *r, const char *name, const char *importer,
                               const char **path)
{
    const char *rel = module_file(r, name);
    const char *slash = strrchr(importer, '/');
    const char *here = slash ? arena_strndup(&r->mem, importer, (size_t)(slash - importer)) : ".";
    struct stat st;
    for (int k = -1; k < 0 || path[k]; k++) {
        const char *dir = k < 0 ? here : path[k];
        char *full = arena_printf(&r->mem, "%s/%s", dir, rel);
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode))
            return full;
    }
    return NULL;
}

static void load_imports(compile_result *r, const compile_opts *opt, const char ***names)
{
    int cap = r->n_modules;
    const char **path = compile_search_path(&r->mem, opt);
    int n_user = 0; /* DRIVE_PATH and -I entries come before the stdlib's */
    {
        const char *env = getenv("DRIVE_PATH");
        for (const char *q = env; q && *q;) {
            size_t len = strcspn(q, ":");
            n_user += len > 0;
            q += len + (q[len] == ':');
        }
        n_user += opt ? opt->n_include_dirs : 0;
    }
    for (int i = 0; i < r->n_modules; i++) { /* grows as imports are found */
        ast_module *m = r->modules[i];
        for (int k = 0; k < m->n_imports; k++) {
            const ast_import *im = &m->imports[k];
            if (strcmp(im->name, (*names)[i]) == 0) {
                diag_report(r->diag, DIAG_WARNING, im->loc, "module '%s' imports itself",
                            im->name);
                continue;
            }
            int have = 0;
            for (int j = 0; j < r->n_modules && !have; j++)
                have = strcmp((*names)[j], im->name) == 0;
            if (have)
                continue;
            const char *file = find_module(r, im->name, m->file->name, path);
            if (!file) {
                diag_report(r->diag, DIAG_ERROR, im->loc, "cannot find module '%s'", im->name);
                /* The stdlib's place depends on the installation: it is
                 * named, not spelled out, so messages are the same anywhere. */
                size_t len = 96;
                for (int d = 0; d < n_user; d++)
                    len += strlen(path[d]) + 2;
                char *list = arena_alloc(&r->mem, len), *p = list;
                p += sprintf(p, "the file's own directory");
                for (int d = 0; d < n_user; d++)
                    p += sprintf(p, ", %s", path[d]);
                sprintf(p, " and the standard library");
                diag_hint(r->diag, "looked for %s in %s; add a directory with -I DIR or DRIVE_PATH",
                          module_file(r, im->name), list);
                continue;
            }
            const src_file *f = diag_load_file(r->diag, file);
            if (!f)
                continue;
            ast_module *am = parse_module(&r->mem, r->diag, f);
            if (am->name && strcmp(am->name, im->name) != 0) {
                diag_report(r->diag, DIAG_ERROR, am->name_loc,
                            "this file is module '%s', but it was imported as '%s'", am->name,
                            im->name);
                diag_report(r->diag, DIAG_NOTE, im->loc, "imported here");
                continue;
            }
            int before = r->n_modules;
            add_module(r, am, im->name, names, &cap);
            (void)before;
        }
    }
}

static compile_result *run_pipeline(compile_result *r, const compile_opts *opt)
{
    const char *name = default_module_name(&r->mem, r->file->name);
    r->ast = parse_module(&r->mem, r->diag, r->file);
    if (opt && opt->parse_only)
        return r;
    const char **names = NULL;
    int cap = 0;
    add_module(r, r->ast, r->ast->name ? r->ast->name : name, &names, &cap);
    load_imports(r, opt, &names);
    r->prog = sema_check(&r->mem, r->diag, r->modules, names, r->n_modules);
    const ast_module *main_ast = r->modules[0];
    if (!(opt && opt->allow_empty) && main_ast->n_circuits == 0 && main_ast->n_scenarios == 0 &&
        main_ast->file && diag_errors(r->diag) == 0)
        diag_report(r->diag, DIAG_WARNING, (src_loc){ main_ast->file, 1, 1, 1, 1 },
                    "'%s' defines no circuit", main_ast->file->name);
    r->sema = r->prog ? &r->prog->mods[0] : NULL;
    if (diag_errors(r->diag) || !r->sema)
        return r;
    r->n_circuits = r->sema->n_circuits;
    r->circuits = arena_calloc(&r->mem, (size_t)r->n_circuits + 1, sizeof *r->circuits);
    for (int i = 0; i < r->n_circuits; i++) {
        ir_circuit *c = lower_circuit(&r->mem, r->diag, &r->sema->circuits[i],
                                      r->sema->tick_seconds);
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
    if (diag_errors(r->diag)) { /* found while lowering (durations vs the tick) */
        r->n_circuits = 0;
        r->circuits = NULL;
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
    r->file = opt && opt->n_segments
                  ? diag_add_segmented(r->diag, name, text, len, opt->segments, opt->n_segments)
                  : diag_add_source(r->diag, name, text, len);
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

ir_circuit *compile_probed(compile_result *r, const sema_circuit *sc, const compile_opts *opt)
{
    int before = diag_errors(r->diag);
    ir_circuit *c = lower_circuit_probed(&r->mem, r->diag, sc, r->sema->tick_seconds);
    pass_options none = { 0 };
    const char *err = opt && opt->optimize ? pass_run_all(&r->mem, c, &none)
                                           : ir_verify(&r->mem, c);
    if (err) {
        diag_plain(r->diag, DIAG_ERROR, "internal compiler error in circuit '%s': %s", c->name,
                   err);
        return NULL;
    }
    return diag_errors(r->diag) > before ? NULL : c;
}

static rt_field *reflect_fields(arena *mem, const ir_var *v, uint32_t n)
{
    rt_field *f = arena_calloc(mem, (size_t)n + 1, sizeof *f);
    for (uint32_t i = 0; i < n; i++)
        f[i] = (rt_field){ .name = v[i].name, .kind = v[i].type == IR_BOOL ? RT_BOOL : RT_REAL,
                           .offset = v[i].offset, .init = v[i].init,
                           .has_range = v[i].has_range, .lo = v[i].lo, .hi = v[i].hi,
                           .role = (int)v[i].role };
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
