/* drive.c — the host library (drive.h): circuits loaded from shared objects
 * or compiled in-process, populations, field access, stepping and traces.
 * Checkpoints are in checkpoint.c.
 *
 * Both kinds of circuit end up as one drive_abi_circuit (description and
 * entry points): a shared object carries its own table; for a JIT-compiled
 * circuit the table is built from the IR with aot_describe, the same
 * function `drivec build` writes tables with, so hosts cannot tell them
 * apart except by drive_origin().
 */
#include "host.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aot.h"
#include "compile.h"
#include "jit.h"
#include "rt.h"

/* ---- errors --------------------------------------------------------------- */

static _Thread_local char last_error[16384]; /* room for many diagnostics */

const char *drive_last_error(void) { return last_error; }

int host_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return -1;
}

uint64_t host_hash(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* ---- loading shared objects ---------------------------------------------- */

static void release_dl(drive_circuit *c) { dlclose(c->owned); }

static const drive_abi_circuit *pick(const drive_abi_module *m, const char *name,
                                     const char *where)
{
    if (!name) {
        if (m->n_circuits == 1)
            return m->circuits[0];
        char list[1024] = "";
        for (uint32_t i = 0; i < m->n_circuits; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     m->circuits[i]->name);
        host_fail("%s holds %u circuits (%s): name the one to use", where, m->n_circuits, list);
        return NULL;
    }
    for (uint32_t i = 0; i < m->n_circuits; i++)
        if (strcmp(m->circuits[i]->name, name) == 0)
            return m->circuits[i];
    char list[1024] = "";
    for (uint32_t i = 0; i < m->n_circuits; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 m->circuits[i]->name);
    host_fail("%s has no circuit '%s' (it has: %s)", where, name, list);
    return NULL;
}

/* Whether the file at path is a whole ELF shared object for this machine:
 * every header, segment and section it declares lies inside the file. The
 * dynamic loader maps segments without checking them against the file's
 * size, so a truncated object would otherwise load and die of SIGBUS on its
 * first touch of a missing page. Returns 1, or 0 with why[] filled in. */
static int elf_whole(const char *path, char *why, size_t why_len)
{
    FILE *f = fopen(path, "rb");
    Elf64_Ehdr eh;
    int ok = 0;
    if (!f) {
        snprintf(why, why_len, "%s", strerror(errno));
        return 0;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || fread(&eh, sizeof eh, 1, f) != 1) {
        snprintf(why, why_len, "not an ELF shared object (too short)");
        goto done;
    }
    uint64_t size = (uint64_t)sb.st_size;
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_type != ET_DYN) {
        snprintf(why, why_len, "not a 64-bit little-endian ELF shared object");
        goto done;
    }
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
        eh.e_phoff > size || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > size - eh.e_phoff ||
        (eh.e_shnum && (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff > size ||
                        (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr) > size - eh.e_shoff))) {
        snprintf(why, why_len, "truncated or damaged (its headers lie outside the file)");
        goto done;
    }
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (fseek(f, (long)(eh.e_phoff + i * sizeof ph), SEEK_SET) != 0 ||
            fread(&ph, sizeof ph, 1, f) != 1 || ph.p_offset > size ||
            ph.p_filesz > size - ph.p_offset) {
            snprintf(why, why_len, "truncated or damaged (segment %u lies outside the file)", i);
            goto done;
        }
    }
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        Elf64_Shdr sh;
        if (fseek(f, (long)(eh.e_shoff + i * sizeof sh), SEEK_SET) != 0 ||
            fread(&sh, sizeof sh, 1, f) != 1 ||
            (sh.sh_type != SHT_NOBITS && (sh.sh_offset > size || sh.sh_size > size - sh.sh_offset))) {
            snprintf(why, why_len, "truncated or damaged (section %u lies outside the file)", i);
            goto done;
        }
    }
    ok = 1;
done:
    fclose(f);
    return ok;
}

/* dlopen a private copy of the file: dlopen hands back an object already
 * loaded from the same path, so a .so rebuilt in place would otherwise keep
 * running its old code. The copy is unlinked at once; its mapping stays. */
static void *open_copy(const char *so_path)
{
    FILE *in = fopen(so_path, "rb");
    if (!in) {
        host_fail("cannot load '%s': %s", so_path, strerror(errno));
        return NULL;
    }
    const char *tmpdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[4096];
    snprintf(path, sizeof path, "%s/drive-load-XXXXXX", tmpdir);
    int fd = mkstemp(path);
    FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!out) {
        host_fail("cannot load '%s': no temporary file in %s: %s", so_path, tmpdir,
                  strerror(errno));
        if (fd >= 0)
            close(fd);
        fclose(in);
        return NULL;
    }
    char buf[65536];
    size_t k;
    int bad = 0;
    while ((k = fread(buf, 1, sizeof buf, in)) > 0)
        bad |= fwrite(buf, 1, k, out) != k;
    bad |= ferror(in);
    fclose(in);
    bad |= fclose(out) != 0;
    char why[128];
    /* The copy is what gets loaded, so the copy is what is checked: its
     * checksum (drivec build writes one), then that its ELF headers fit. */
    if (!bad && (aot_so_check(path, why, sizeof why) < 0 || !elf_whole(path, why, sizeof why))) {
        host_fail("cannot load '%s': %s", so_path, why);
        unlink(path);
        return NULL;
    }
    void *dl = bad ? NULL : dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl)
        host_fail("cannot load '%s': %s", so_path, bad ? strerror(errno) : dlerror());
    unlink(path);
    return dl;
}

static drive_circuit *load_as(const char *so_path, const char *name, const char *origin)
{
    void *dl = open_copy(so_path);
    if (!dl)
        return NULL;
    drive_module_fn fn = (drive_module_fn)(uintptr_t)dlsym(dl, "drive_module");
    const drive_abi_module *m = fn ? fn() : NULL;
    if (!m) {
        host_fail("'%s' is not a shared object built by drivec build (it has no drive_module)",
                  so_path);
        dlclose(dl);
        return NULL;
    }
    if (m->abi_version != DRIVE_ABI_VERSION) {
        host_fail("'%s' was built for drive ABI version %u, but this library reads version %u: "
                  "rebuild it with this drivec",
                  so_path, m->abi_version, DRIVE_ABI_VERSION);
        dlclose(dl);
        return NULL;
    }
    const drive_abi_circuit *a = pick(m, name, so_path);
    if (a && a->abi_version != DRIVE_ABI_VERSION) {
        host_fail("circuit '%s' in '%s' has ABI version %u, not %u", a->name, so_path,
                  a->abi_version, DRIVE_ABI_VERSION);
        a = NULL;
    }
    drive_circuit *c = a ? calloc(1, sizeof *c) : NULL;
    if (!c) {
        if (a)
            host_fail("out of memory");
        dlclose(dl);
        return NULL;
    }
    c->abi = a;
    c->origin = origin;
    c->owned = dl;
    c->release = release_dl;
    return c;
}

drive_circuit *drive_load(const char *so_path, const char *name)
{
    if (!so_path) {
        host_fail("drive_load: no path given");
        return NULL;
    }
    return load_as(so_path, name, "so");
}

/* ---- compiling ------------------------------------------------------------ */

typedef struct jit_owned {
    compile_result *r;
    jit *j;
    jit_fn fn;
    drive_abi_circuit abi;
} jit_owned;

static void release_jit(drive_circuit *c)
{
    jit_owned *o = c->owned;
    jit_destroy(o->j);
    compile_free(o->r);
    free(o);
}

static _Thread_local char cache_dir_buf[4096];

const char *drive_cache_dir(void)
{
    arena a;
    arena_init(&a);
    const char *d = aot_cache_dir(&a);
    snprintf(cache_dir_buf, sizeof cache_dir_buf, "%s", d ? d : "");
    arena_free(&a);
    return cache_dir_buf;
}

/* Every diagnostic of r, as one message. */
static void fail_with_diagnostics(compile_result *r, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f) {
        diag_flush(r->diag, f, 0);
        fclose(f);
    }
    host_fail("%s does not compile:\n%s", path, text && len ? text : "(no message)");
    free(text);
}

drive_circuit *drive_compile(const char *path, const char *name, const char *include_path,
                             unsigned flags)
{
    if (!path) {
        host_fail("drive_compile: no path given");
        return NULL;
    }
    /* Include directories: a colon-separated list. */
    char *dirs_text = include_path ? strdup(include_path) : NULL;
    const char *dirs[64];
    int n_dirs = 0;
    char *save = NULL;
    for (char *d = dirs_text ? strtok_r(dirs_text, ":", &save) : NULL; d;
         d = strtok_r(NULL, ":", &save)) {
        if (n_dirs == 64) {
            host_fail("drive_compile: more than 64 include directories");
            free(dirs_text);
            return NULL;
        }
        dirs[n_dirs++] = d;
    }
    compile_opts copts = { .optimize = !(flags & DRIVE_OPT0), .include_dirs = dirs,
                           .n_include_dirs = n_dirs };
    compile_result *r = compile_file(path, &copts);
    free(dirs_text);
    if (diag_errors(r->diag) || !r->n_circuits) {
        if (diag_errors(r->diag))
            fail_with_diagnostics(r, path);
        else
            host_fail("%s defines no circuit", path);
        compile_free(r);
        return NULL;
    }
    ir_circuit *ic = NULL;
    for (int i = 0; i < r->n_circuits && !ic; i++)
        if (name ? !strcmp(r->circuits[i]->name, name) : r->n_circuits == 1)
            ic = r->circuits[i];
    if (!ic) {
        char list[1024] = "";
        for (int i = 0; i < r->n_circuits; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     r->circuits[i]->name);
        const char *names[256];
        int nn = 0;
        for (int i = 0; i < r->n_circuits && nn < 256; i++)
            names[nn++] = r->circuits[i]->name;
        const char *sug = name ? diag_suggest(name, names, (size_t)nn) : NULL;
        if (name)
            host_fail("%s has no circuit '%s' (it has: %s)%s%s%s", path, name, list,
                      sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
        else
            host_fail("%s defines %d circuits (%s): name the one to use", path, r->n_circuits,
                      list);
        compile_free(r);
        return NULL;
    }
    /* The same options string as drivec build --circuit NAME, so either
     * fills the cache for the other. */
    const char *opts = arena_printf(&r->mem, "cpu=generic circuit=%s opt=%d", ic->name,
                                    (flags & DRIVE_OPT0) ? 0 : 2);
    const char *hash = aot_source_hash(r, opts);
    const char *cache = (flags & (DRIVE_NO_CACHE | DRIVE_OPT0)) ? NULL : aot_cache_dir(&r->mem);
    if (cache) {
        const char *so = arena_printf(&r->mem, "%s/%s.so", cache, hash);
        struct stat sb;
        if (stat(so, &sb) == 0) {
            drive_circuit *c = load_as(so, ic->name, "cache");
            if (c) {
                compile_free(r);
                return c;
            }
            /* A damaged cache entry: compile as if it were not there. */
        }
    }
    jit_owned *o = calloc(1, sizeof *o);
    drive_circuit *c = calloc(1, sizeof *c);
    char *msg = NULL;
    if (!o || !c) {
        host_fail("out of memory");
        goto fail;
    }
    o->r = r;
    o->j = jit_create(&msg);
    if (!o->j || jit_compile(o->j, ic, (flags & DRIVE_OPT0) ? 0 : 2, &o->fn, &msg) != 0) {
        host_fail("JIT compilation of %s failed: %s", path, msg ? msg : "?");
        goto fail;
    }
    o->abi = *aot_describe(&r->mem, ic, hash);
    o->abi.init = o->fn.init;
    o->abi.step = o->fn.step;
    o->abi.step_n = o->fn.step_n;
    c->abi = &o->abi;
    c->origin = "jit";
    c->owned = o;
    c->release = release_jit;
    if (cache) { /* for the next time; a failure here only costs that */
        aot_options ao = { .out_so = arena_printf(&r->mem, "%s/%s.so", cache, hash),
                           .out_header = arena_printf(&r->mem, "%s/%s.h", cache, hash),
                           .cpu = "generic" };
        int cached = 0;
        char *ignore = NULL;
        (void)aot_build(r, &ic, 1, &ao, &cached, &ignore);
        free(ignore);
    }
    return c;
fail:
    free(msg);
    if (o && o->j)
        jit_destroy(o->j);
    free(o);
    free(c);
    compile_free(r);
    return NULL;
}

static void release_nothing(drive_circuit *c) { (void)c; }

drive_circuit *host_wrap(const drive_abi_circuit *abi, const char *origin)
{
    drive_circuit *c = calloc(1, sizeof *c);
    if (!c) {
        host_fail("out of memory");
        return NULL;
    }
    c->abi = abi;
    c->origin = origin;
    c->release = release_nothing;
    return c;
}

void drive_circuit_free(drive_circuit *c)
{
    if (!c)
        return;
    if (c->n_pops) { /* its populations would dangle: keep it rather than crash */
        host_fail("drive_circuit_free: circuit '%s' still has %d population%s; free them first",
                  c->abi->name, c->n_pops, c->n_pops > 1 ? "s" : "");
        return;
    }
    c->release(c);
    free(c);
}

/* ---- reflection ----------------------------------------------------------- */

const char *drive_module_name(const drive_circuit *c) { return c->abi->module; }
const char *drive_circuit_name(const drive_circuit *c) { return c->abi->name; }
const char *drive_source_hash(const drive_circuit *c) { return c->abi->source_hash; }
const char *drive_origin(const drive_circuit *c) { return c->origin; }
double drive_tick(const drive_circuit *c) { return c->abi->tick_seconds; }
size_t drive_in_size(const drive_circuit *c) { return c->abi->in_size; }
size_t drive_out_size(const drive_circuit *c) { return c->abi->out_size; }
size_t drive_state_size(const drive_circuit *c) { return c->abi->state_size; }
uint32_t drive_n_fields(const drive_circuit *c) { return c->abi->n_fields; }

const drive_field *drive_field_at(const drive_circuit *c, uint32_t i)
{
    return i < c->abi->n_fields ? &c->abi->fields[i] : NULL;
}

static const char *kind_name(int kind)
{
    static const char *const k[] = { "input", "output", "param", "state slot" };
    return kind >= 0 && kind < 4 ? k[kind] : "field";
}

int drive_find(const drive_circuit *c, int kind, const char *name)
{
    const drive_abi_circuit *a = c->abi;
    if (!name)
        return host_fail("drive_find: no name given");
    for (uint32_t i = 0; i < a->n_fields; i++)
        if ((kind < 0 || a->fields[i].kind == kind) && strcmp(a->fields[i].name, name) == 0)
            return (int)i;
    for (uint32_t i = 0; i < a->n_fields; i++)
        if ((kind < 0 || a->fields[i].kind == kind) && a->fields[i].index == 0 &&
            strcmp(a->fields[i].base, name) == 0)
            return (int)i;
    const char **names = calloc(a->n_fields + 1, sizeof *names);
    size_t n = 0;
    for (uint32_t i = 0; names && i < a->n_fields; i++)
        if (kind < 0 || a->fields[i].kind == kind)
            names[n++] = a->fields[i].base;
    const char *sug = names ? diag_suggest(name, names, n) : NULL;
    host_fail("circuit '%s' has no %s '%s'%s%s%s", a->name, kind_name(kind), name,
              sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
    free(names);
    return -1;
}

/* ---- the column layout ---------------------------------------------------- */

static size_t kind_size(const drive_abi_circuit *a, int kind)
{
    return kind == DRIVE_ABI_INPUT    ? a->in_size
           : kind == DRIVE_ABI_OUTPUT ? a->out_size
                                      : a->state_size;
}

static unsigned char *kind_base(const drive_pop *p, int kind)
{
    return kind == DRIVE_ABI_INPUT    ? p->in
           : kind == DRIVE_ABI_OUTPUT ? p->out
                                      : p->state;
}

static int same_block_kind(int a, int b)
{
    int sa = a == DRIVE_ABI_PARAM || a == DRIVE_ABI_STATE;
    int sb = b == DRIVE_ABI_PARAM || b == DRIVE_ABI_STATE;
    return sa ? sb : a == b;
}

/* Unit marks while a layout is built, one per byte of the block. */
enum { U_INSIDE = 0, U_PAD = 1, U_BOOL = 2, U_REAL = 8 };

int host_layout_make(const drive_abi_circuit *a, int kind, host_layout *l)
{
    size_t size = kind_size(a, kind);
    *l = (host_layout){ NULL, 0, size };
    unsigned char *u = malloc(size ? size : 1);
    if (!u)
        return host_fail("out of memory for the layout of a block of '%s' (%zu bytes)", a->name,
                         size);
    memset(u, U_PAD, size);
    for (uint32_t k = 0; k < a->n_fields; k++) {
        const drive_field *f = &a->fields[k];
        if (!same_block_kind(f->kind, kind))
            continue;
        size_t w = f->type == DRIVE_ABI_BOOL ? 1 : 8, o = f->offset;
        if (o > size || w > size - o)
            continue;
        int free_bytes = 1;
        for (size_t b = 0; b < w; b++)
            free_bytes &= u[o + b] == U_PAD;
        if (!free_bytes)
            continue;
        memset(u + o, U_INSIDE, w);
        u[o] = w == 1 ? U_BOOL : U_REAL;
    }
    /* Two passes over the marks: count the runs, then fill them. */
    for (int pass = 0; pass < 2; pass++) {
        size_t runs = 0;
        uint32_t last = 0;
        for (size_t b = 0; b < size;) {
            uint32_t w = u[b] == U_REAL ? 8 : 1;
            if (!runs || w != last) {
                if (pass)
                    l->runs[runs] = (host_run){ (uint32_t)b, 0, w };
                runs++;
                last = w;
            }
            if (pass)
                l->runs[runs - 1].count++;
            b += w;
        }
        if (!pass) {
            l->runs = malloc((runs ? runs : 1) * sizeof *l->runs);
            if (!l->runs) {
                free(u);
                return host_fail("out of memory for the layout of a block of '%s' (%zu bytes)",
                                 a->name, size);
            }
        }
        l->n_runs = runs;
    }
    free(u);
    return 0;
}

void host_layout_free(host_layout *l)
{
    free(l->runs);
    l->runs = NULL;
    l->n_runs = 0;
}

void host_gather(const unsigned char *cols, size_t m, const host_layout *l, size_t i,
                 unsigned char *block)
{
    if (m == 1) { /* one instance: the columns are its block */
        memcpy(block, cols, l->size);
        return;
    }
    for (size_t r = 0; r < l->n_runs; r++) {
        const host_run *run = &l->runs[r];
        for (size_t k = 0; k < run->count; k++) {
            size_t o = run->offset + k * run->width;
            memcpy(block + o, cols + o * m + run->width * i, run->width);
        }
    }
}

void host_scatter(unsigned char *cols, size_t m, const host_layout *l, size_t i,
                  const unsigned char *block)
{
    if (m == 1) {
        memcpy(cols, block, l->size);
        return;
    }
    for (size_t r = 0; r < l->n_runs; r++) {
        const host_run *run = &l->runs[r];
        for (size_t k = 0; k < run->count; k++) {
            size_t o = run->offset + k * run->width;
            memcpy(cols + o * m + run->width * i, block + o, run->width);
        }
    }
}

unsigned char *host_field(const drive_pop *p, size_t i, const drive_field *f)
{
    size_t w = f->type == DRIVE_ABI_BOOL ? 1 : 8;
    return kind_base(p, f->kind) + (size_t)f->offset * p->cols + w * i;
}

/* ---- populations ---------------------------------------------------------- */

/* Instance i ((size_t)-1: every one) initialised: init writes one
 * instance's block, so it runs once into a block of its own that is then
 * scattered into the columns; every instance starts the same. */
static int init_instances(drive_pop *p, size_t i)
{
    const drive_abi_circuit *a = p->c->abi;
    if (p->n == 1) {
        a->init(p->state);
        return 0;
    }
    host_layout l;
    unsigned char *blk = calloc(1, a->state_size ? a->state_size : 1);
    if (!blk || host_layout_make(a, DRIVE_ABI_STATE, &l) != 0) {
        free(blk);
        return host_fail("out of memory initialising %zu instances of '%s'", p->n, a->name);
    }
    a->init(blk);
    for (size_t k = 0; k < p->n; k++)
        if (i == (size_t)-1 || i == k)
            host_scatter(p->state, p->cols, &l, k, blk);
    host_layout_free(&l);
    free(blk);
    return 0;
}

drive_pop *drive_pop_new(drive_circuit *c, size_t n)
{
    if (!c || n == 0) {
        host_fail("drive_pop_new: %s", c ? "a population needs at least one instance"
                                         : "no circuit given");
        return NULL;
    }
    const drive_abi_circuit *a = c->abi;
    size_t max = (size_t)1 << 40;
    if (n > max / (a->state_size + a->in_size + a->out_size + 8) - 32) {
        host_fail("a population of %zu instances of '%s' is too large", n, a->name);
        return NULL;
    }
    drive_pop *p = calloc(1, sizeof *p);
    if (!p) {
        host_fail("out of memory");
        return NULL;
    }
    p->c = c;
    p->n = n;
    p->cols = drive_abi_columns(n);
    /* calloc aligns to 16: every column stays 8-byte aligned, since a real's
     * offset is a multiple of 8 and so is offset * cols. */
    p->in = calloc(p->cols, a->in_size ? a->in_size : 1);
    p->out = calloc(p->cols, a->out_size ? a->out_size : 1);
    p->state = calloc(p->cols, a->state_size ? a->state_size : 1);
    int no_blocks = !p->in || !p->out || !p->state;
    if (no_blocks || init_instances(p, (size_t)-1) != 0) {
        if (no_blocks) /* else init_instances said what failed */
            host_fail("out of memory for %zu instances of '%s'", n, a->name);
        free(p->in);
        free(p->out);
        free(p->state);
        free(p);
        return NULL;
    }
    c->n_pops++;
    return p;
}

void drive_pop_free(drive_pop *p)
{
    if (!p)
        return;
    p->c->n_pops--;
    free(p->in);
    free(p->out);
    free(p->state);
    free(p);
}

drive_circuit *drive_pop_circuit(const drive_pop *p) { return p->c; }
size_t drive_pop_size(const drive_pop *p) { return p->n; }
size_t drive_pop_columns(const drive_pop *p) { return p->cols; }
void *drive_pop_inputs(drive_pop *p) { return p->in; }
void *drive_pop_outputs(drive_pop *p) { return p->out; }
void *drive_pop_states(drive_pop *p) { return p->state; }

void drive_pop_reset(drive_pop *p, size_t i)
{
    if (i != (size_t)-1 && i >= p->n) { /* nothing to reset: say so, change nothing */
        host_fail("drive_pop_reset: instance %zu is outside the population of '%s' (%zu "
                  "instances)",
                  i, p->c->abi->name, p->n);
        return;
    }
    if (init_instances(p, i) == 0 && i == (size_t)-1)
        p->ticks = 0;
}

/* The checks shared by drive_pop_read_block and drive_pop_write_block. */
static int check_block(const drive_pop *p, size_t i, int kind, const void *block, const char *fn)
{
    if (!p || !block)
        return host_fail("%s: %s is NULL", fn, p ? "the block" : "the population");
    const drive_abi_circuit *a = p->c->abi;
    if (i >= p->n)
        return host_fail("%s: instance %zu is outside the population of '%s' (%zu instances)",
                         fn, i, a->name, p->n);
    if (kind < DRIVE_ABI_INPUT || kind > DRIVE_ABI_STATE)
        return host_fail("%s: %d is not a block kind of circuit '%s' (DRIVE_ABI_INPUT, "
                         "DRIVE_ABI_OUTPUT, DRIVE_ABI_PARAM or DRIVE_ABI_STATE)",
                         fn, kind, a->name);
    return 0;
}

/* Instance i's block of a kind out of the columns (or, with write, into
 * them): checked, then moved by the kind's layout. */
static int move_block(const drive_pop *p, size_t i, int kind, unsigned char *block, int write,
                      const char *fn)
{
    if (check_block(p, i, kind, block, fn) != 0)
        return -1;
    host_layout l;
    if (host_layout_make(p->c->abi, kind, &l) != 0)
        return -1;
    if (write)
        host_scatter(kind_base(p, kind), p->cols, &l, i, block);
    else
        host_gather(kind_base(p, kind), p->cols, &l, i, block);
    host_layout_free(&l);
    return 0;
}

int drive_pop_read_block(const drive_pop *p, size_t i, int kind, void *block)
{
    return move_block(p, i, kind, block, 0, "drive_pop_read_block");
}

int drive_pop_write_block(drive_pop *p, size_t i, int kind, const void *block)
{
    /* (the block is only read when writing) */
    return move_block(p, i, kind, (unsigned char *)(uintptr_t)block, 1, "drive_pop_write_block");
}

void *drive_pop_column(drive_pop *p, int field)
{
    if (!p) {
        host_fail("drive_pop_column: the population is NULL");
        return NULL;
    }
    const drive_abi_circuit *a = p->c->abi;
    if (field < 0 || (uint32_t)field >= a->n_fields) {
        host_fail("drive_pop_column: circuit '%s' has no field %d (it has %" PRIu32 ")", a->name,
                  field, a->n_fields);
        return NULL;
    }
    return host_field(p, 0, &a->fields[field]);
}

/* The value at a field's address (host_field). */
static double read_field(const unsigned char *at, const drive_field *f)
{
    if (f->type == DRIVE_ABI_BOOL)
        return *at;
    double v;
    memcpy(&v, at, sizeof v);
    return v;
}

static int check_set(const drive_pop *p, size_t i, int field, double value)
{
    const drive_abi_circuit *a = p->c->abi;
    if (i >= p->n)
        return host_fail("instance %zu is outside the population (%zu instances)", i, p->n);
    if (field < 0 || (uint32_t)field >= a->n_fields)
        return host_fail("circuit '%s' has no field %d", a->name, field);
    const drive_field *f = &a->fields[field];
    if (f->kind != DRIVE_ABI_INPUT && f->kind != DRIVE_ABI_PARAM)
        return host_fail("'%s' is %s %s of '%s': only inputs and params can be set",
                         f->name, f->kind == DRIVE_ABI_OUTPUT ? "an" : "a", kind_name(f->kind),
                         a->name);
    if (f->type == DRIVE_ABI_BOOL && value != 0 && value != 1)
        return host_fail("'%s' is a bool: set it to 0 or 1, not %g", f->name, value);
    if (f->kind == DRIVE_ABI_PARAM && f->has_range && !(f->lo <= value && value <= f->hi))
        return host_fail("%g is outside the range of param '%s' [%g, %g]", value, f->name, f->lo,
                         f->hi);
    if (f->kind == DRIVE_ABI_PARAM && f->type == DRIVE_ABI_REAL && !isfinite(value))
        return host_fail("param '%s' must be finite, not %g", f->name, value);
    return 0;
}

static void write_field(unsigned char *at, const drive_field *f, double value)
{
    if (f->type == DRIVE_ABI_BOOL)
        *at = (unsigned char)(value != 0);
    else
        memcpy(at, &value, sizeof value);
}

int drive_set(drive_pop *p, size_t i, int field, double value)
{
    if (check_set(p, i, field, value) != 0)
        return -1;
    const drive_field *f = &p->c->abi->fields[field];
    write_field(host_field(p, i, f), f, value);
    return 0;
}

double drive_get(const drive_pop *p, size_t i, int field)
{
    const drive_abi_circuit *a = p->c->abi;
    if (i >= p->n || field < 0 || (uint32_t)field >= a->n_fields) {
        host_fail("drive_get: no field %d of instance %zu", field, i);
        return NAN;
    }
    const drive_field *f = &a->fields[field];
    return read_field(host_field(p, i, f), f);
}

int drive_set_all(drive_pop *p, int field, const double *values)
{
    for (size_t i = 0; i < p->n; i++)
        if (check_set(p, i, field, values[i]) != 0)
            return -1; /* nothing written: all are checked first */
    const drive_field *f = &p->c->abi->fields[field];
    for (size_t i = 0; i < p->n; i++)
        write_field(host_field(p, i, f), f, values[i]);
    return 0;
}

void drive_get_all(const drive_pop *p, int field, double *values)
{
    for (size_t i = 0; i < p->n; i++)
        values[i] = drive_get(p, i, field);
}

size_t drive_step(drive_pop *p, size_t ticks)
{
    const drive_abi_circuit *a = p->c->abi;
    size_t bad = 0;
    for (size_t t = 0; t < ticks; t++)
        bad += a->step_n(p->state, p->n, p->in, p->out);
    p->ticks += ticks;
    return bad;
}

/* ---- traces --------------------------------------------------------------- */

struct drive_trace {
    drive_pop *p;
    size_t instance;
    FILE *f;
    int *cols;
    size_t n_cols;
    int failed;
};

static int add_col(drive_trace *t, int field)
{
    int *c = realloc(t->cols, (t->n_cols + 1) * sizeof *c);
    if (!c)
        return host_fail("out of memory");
    t->cols = c;
    t->cols[t->n_cols++] = field;
    return 0;
}

drive_trace *drive_trace_open(drive_pop *p, size_t i, const char *path, const char *signals)
{
    const drive_abi_circuit *a = p->c->abi;
    if (i >= p->n) {
        host_fail("instance %zu is outside the population (%zu instances)", i, p->n);
        return NULL;
    }
    drive_trace *t = calloc(1, sizeof *t);
    if (!t) {
        host_fail("out of memory");
        return NULL;
    }
    t->p = p;
    t->instance = i;
    int bad = 0;
    if (!signals) {
        for (uint32_t k = 0; k < a->n_fields && !bad; k++)
            if ((a->fields[k].kind == DRIVE_ABI_INPUT || a->fields[k].kind == DRIVE_ABI_OUTPUT) &&
                a->fields[k].role != DRIVE_ABI_PROBE)
                bad = add_col(t, (int)k) != 0;
    } else {
        char *list = strdup(signals);
        char *save = NULL;
        for (char *name = list ? strtok_r(list, ",", &save) : NULL; !bad && name;
             name = strtok_r(NULL, ",", &save)) {
            while (*name == ' ')
                name++;
            for (size_t e = strlen(name); e > 0 && name[e - 1] == ' '; e--)
                name[e - 1] = 0;
            int k = drive_find(p->c, -1, name);
            if (k < 0) {
                bad = 1;
                break;
            }
            const drive_field *f = &a->fields[k];
            if (f->len > 1 && strcmp(f->base, name) == 0) /* a whole vector */
                for (uint32_t e = 0; e < f->len && !bad; e++)
                    bad = add_col(t, k + (int)e) != 0;
            else
                bad = add_col(t, k) != 0;
        }
        free(list);
    }
    if (!bad && !(t->f = fopen(path, "w"))) {
        host_fail("cannot write '%s': %s", path, strerror(errno));
        bad = 1;
    }
    if (bad) {
        free(t->cols);
        free(t);
        return NULL;
    }
    fputs("tick,time", t->f);
    for (size_t k = 0; k < t->n_cols; k++)
        fprintf(t->f, ",%s", a->fields[t->cols[k]].name);
    fputc('\n', t->f);
    return t;
}

int drive_trace_record(drive_trace *t)
{
    const drive_abi_circuit *a = t->p->c->abi;
    char buf[32];
    /* The row of the tick just stepped. */
    uint64_t tick = t->p->ticks ? t->p->ticks - 1 : 0;
    fprintf(t->f, "%llu,%s", (unsigned long long)tick,
            rt_fmt_f64(buf, (double)tick * a->tick_seconds));
    for (size_t k = 0; k < t->n_cols; k++) {
        const drive_field *f = &a->fields[t->cols[k]];
        fputc(',', t->f);
        fputs(rt_fmt_f64(buf, read_field(host_field(t->p, t->instance, f), f)), t->f);
    }
    if (fputc('\n', t->f) == EOF) {
        t->failed = 1;
        return host_fail("cannot write the trace: %s", strerror(errno));
    }
    return 0;
}

int drive_trace_close(drive_trace *t)
{
    if (!t)
        return 0;
    int bad = t->failed || ferror(t->f);
    bad |= fclose(t->f) != 0;
    free(t->cols);
    free(t);
    return bad ? host_fail("the trace could not be written completely") : 0;
}
