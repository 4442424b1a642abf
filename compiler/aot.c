/* aot.c — `drivec build`: circuits to a shared object and a C header.
 *
 * The step code comes from the same cg_emit/cg_optimize path as the JIT's
 * (so the two agree bit for bit), written as one object file per circuit
 * for the chosen CPU. What a host needs besides (the reflection table,
 * params by index and name, the module table) is generated as C and linked
 * with the objects by the system C compiler; C is the simplest way to get
 * static tables and string literals into an ELF shared object, and a linker
 * is needed anyway.
 */
#include "aot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include "abi_text.h"
#include "build_id.h"
#include "cg.h"


/* ---- hashing and naming --------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

const char *aot_source_hash(compile_result *r, const char *options)
{
    uint64_t h = 14695981039346656037ull;
    /* The compiler's own identity (a hash of its sources), so that a
     * changed compiler never reuses a stale artefact from the cache. */
    char ver[160];
    snprintf(ver, sizeof ver, "drive %s llvm %d abi %d build %s", DRIVE_VERSION,
             LLVM_VERSION_MAJOR, DRIVE_ABI_VERSION, AOT_BUILD_ID);
    h = fnv(h, ver, strlen(ver) + 1);
    h = fnv(h, options ? options : "", strlen(options ? options : "") + 1);
    for (int i = 0; i < r->n_modules; i++) {
        const src_file *f = r->modules[i]->file;
        const char *name = r->modules[i]->name ? r->modules[i]->name : "";
        h = fnv(h, name, strlen(name) + 1);
        if (f) {
            uint64_t len = f->len;
            h = fnv(h, &len, sizeof len);
            h = fnv(h, f->text, f->len);
        }
    }
    return arena_printf(&r->mem, "%016llx", (unsigned long long)h);
}

const char *aot_prefix(arena *mem, const ir_circuit *c)
{
    char *p = arena_printf(mem, "%s_%s", c->module ? c->module : "drive", c->name);
    for (char *q = p; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9')))
            *q = '_';
    if (p[0] >= '0' && p[0] <= '9')
        p = arena_printf(mem, "d_%s", p);
    return p;
}

static void describe_block(drive_abi_field *f, const ir_var *v, uint32_t n, int kind)
{
    for (uint32_t i = 0; i < n; i++) {
        f[i] = (drive_abi_field){
            .name = v[i].name, .base = v[i].base ? v[i].base : v[i].name,
            .index = v[i].base ? v[i].index : 0, .len = v[i].base ? v[i].len : 1,
            .offset = v[i].offset, .kind = (uint8_t)kind,
            .type = v[i].type == IR_BOOL ? DRIVE_ABI_BOOL : DRIVE_ABI_REAL,
            .role = (uint8_t)v[i].role, .has_range = (uint8_t)(v[i].has_range != 0),
            .lo = v[i].lo, .hi = v[i].hi, .init = v[i].init,
        };
    }
}

drive_abi_circuit *aot_describe(arena *mem, const ir_circuit *c, const char *hash)
{
    uint32_t n = c->n_inputs + c->n_outputs + c->n_params + c->n_state;
    drive_abi_field *f = arena_calloc(mem, (size_t)n + 1, sizeof *f);
    describe_block(f, c->inputs, c->n_inputs, DRIVE_ABI_INPUT);
    describe_block(f + c->n_inputs, c->outputs, c->n_outputs, DRIVE_ABI_OUTPUT);
    describe_block(f + c->n_inputs + c->n_outputs, c->params, c->n_params, DRIVE_ABI_PARAM);
    describe_block(f + c->n_inputs + c->n_outputs + c->n_params, c->state, c->n_state,
                   DRIVE_ABI_STATE);
    drive_abi_circuit *d = arena_calloc(mem, 1, sizeof *d);
    *d = (drive_abi_circuit){
        .abi_version = DRIVE_ABI_VERSION, .n_fields = n, .module = c->module, .name = c->name,
        .source_hash = hash, .tick_seconds = c->tick_seconds, .in_size = c->in_size,
        .out_size = c->out_size, .state_size = c->state_size, .n_inputs = c->n_inputs,
        .n_outputs = c->n_outputs, .n_params = c->n_params, .n_state = c->n_state, .fields = f,
    };
    return d;
}

/* ---- the cache ------------------------------------------------------------ */

static int make_dirs(const char *path)
{
    char buf[4096];
    if (strlen(path) >= sizeof buf)
        return -1;
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(buf, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

const char *aot_cache_dir(arena *mem)
{
    const char *d = getenv("DRIVE_CACHE_DIR");
    const char *dir = NULL;
    if (d && *d)
        dir = arena_strdup(mem, d);
    else if ((d = getenv("XDG_CACHE_HOME")) && *d)
        dir = arena_printf(mem, "%s/drive", d);
    else if ((d = getenv("HOME")) && *d)
        dir = arena_printf(mem, "%s/.cache/drive", d);
    if (!dir || make_dirs(dir) != 0)
        return NULL;
    return dir;
}

/* Copy src to dst through a temporary file renamed into place, so a reader
 * never sees half a file. */
static int copy_file(const char *src, const char *dst, int executable, char **err)
{
    /* Only a regular file is replaced: renaming over a symlink, a FIFO or a
     * device (-o /dev/null as root) would destroy it. */
    struct stat sb;
    if (lstat(dst, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        cg_errorf(err, "'%s' exists and is not a regular file: not replacing it", dst);
        return -1;
    }
    FILE *in = fopen(src, "rb");
    if (!in) {
        cg_errorf(err, "cannot read '%s': %s", src, strerror(errno));
        return -1;
    }
    size_t n = strlen(dst) + 16;
    char *tmp = malloc(n);
    snprintf(tmp, n, "%s.XXXXXX", dst); /* unique per process and thread */
    int fd = tmp ? mkstemp(tmp) : -1;
    FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!out) {
        cg_errorf(err, "cannot write '%s': %s", dst, strerror(errno));
        if (fd >= 0) {
            close(fd);
            remove(tmp);
        }
        fclose(in);
        free(tmp);
        return -1;
    }
    char buf[65536];
    size_t k;
    int bad = 0;
    while ((k = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, k, out) != k)
            bad = 1;
    bad |= ferror(in);
    fclose(in);
    bad |= fclose(out) != 0;
    if (!bad) { /* mkstemp made it 0600: the usual mode, under the umask */
        mode_t mask = umask(0);
        umask(mask);
        chmod(tmp, (executable ? 0777 : 0666) & ~mask);
    }
    if (bad || rename(tmp, dst) != 0) {
        cg_errorf(err, "cannot write '%s': %s", dst, strerror(errno));
        remove(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

/* ---- the checksum trailer (aot.h) ----------------------------------------- */

enum { SUM_MAGIC_LEN = 8, SUM_LEN = 16 };

int aot_so_check(const char *path, char *why, size_t why_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, why_len, "%s", strerror(errno));
        return -1;
    }
    /* One pass: the hash runs SUM_LEN bytes behind the read position, so the
     * last SUM_LEN bytes are left over as the candidate trailer. */
    unsigned char buf[65536 + SUM_LEN], tail[SUM_LEN];
    size_t have = 0, k;
    uint64_t h = 14695981039346656037ull;
    while ((k = fread(buf + have, 1, sizeof buf - have, f)) > 0) {
        have += k;
        if (have > SUM_LEN) {
            h = fnv(h, buf, have - SUM_LEN);
            memmove(buf, buf + have - SUM_LEN, SUM_LEN);
            have = SUM_LEN;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(why, why_len, "cannot read it");
        return -1;
    }
    if (have < SUM_LEN || memcmp(buf, AOT_SUM_MAGIC, SUM_MAGIC_LEN) != 0)
        return 0; /* not from drivec build: nothing to check */
    memcpy(tail, buf, SUM_LEN);
    uint64_t want = 0;
    for (int i = 0; i < 8; i++)
        want |= (uint64_t)tail[SUM_MAGIC_LEN + i] << (8 * i);
    if (want != h) {
        snprintf(why, why_len, "damaged (its checksum does not match its contents)");
        return -1;
    }
    return 1;
}

/* Appends the trailer to the shared object just linked. */
static int add_checksum(const char *path, char **err)
{
    FILE *f = fopen(path, "r+b");
    if (!f)
        return cg_errorf(err, "cannot finish '%s': %s", path, strerror(errno)), -1;
    unsigned char buf[65536];
    size_t k;
    uint64_t h = 14695981039346656037ull;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        h = fnv(h, buf, k);
    unsigned char tail[SUM_LEN];
    memcpy(tail, AOT_SUM_MAGIC, SUM_MAGIC_LEN);
    for (int i = 0; i < 8; i++)
        tail[SUM_MAGIC_LEN + i] = (unsigned char)(h >> (8 * i));
    int bad = ferror(f) || fseek(f, 0, SEEK_END) != 0 || fwrite(tail, 1, SUM_LEN, f) != SUM_LEN;
    bad |= fclose(f) != 0;
    if (bad)
        return cg_errorf(err, "cannot finish '%s': %s", path, strerror(errno)), -1;
    return 0;
}

/* Whether a cached shared object is whole (its checksum matches): a
 * damaged entry is rebuilt, never copied out. */
static int looks_like_so(const char *path)
{
    char why[128];
    return aot_so_check(path, why, sizeof why) == 1;
}

/* ---- generated C ---------------------------------------------------------- */

static void c_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            fprintf(f, "\\%03o", (unsigned char)*s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

/* A double as C source that reads back exactly (hex float; inf and NaN by
 * expression). */
static void c_double(FILE *f, double d)
{
    if (d != d)
        fputs("(0.0 / 0.0)", f);
    else if (d == 1.0 / 0.0)
        fputs("(1.0 / 0.0)", f);
    else if (d == -1.0 / 0.0)
        fputs("(-1.0 / 0.0)", f);
    else
        fprintf(f, "%a", d);
}

/* Names a generated header cannot use as they are: C11, GNU C and C++
 * keywords (the header is also for C++), and the macros and types of the
 * headers it includes. */
static const char *const C_KEYWORDS[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
    "union", "unsigned", "void", "volatile", "while", "_Bool", "_Complex", "_Imaginary",
    "_Alignas", "_Alignof", "_Atomic", "_Generic", "_Noreturn", "_Static_assert",
    "_Thread_local", "bool", "true", "false", "NULL", "offsetof", "asm", "typeof", "__asm__",
    "__typeof__", "alignas", "alignof", "and", "and_eq", "bitand", "bitor", "catch", "char8_t",
    "char16_t", "char32_t", "class", "co_await", "co_return", "co_yield", "compl", "concept",
    "const_cast", "consteval", "constexpr", "constinit", "decltype", "delete", "dynamic_cast",
    "explicit", "export", "friend", "mutable", "namespace", "new", "noexcept", "not", "not_eq",
    "nullptr", "operator", "or", "or_eq", "private", "protected", "public",
    "reinterpret_cast", "requires", "static_assert", "static_cast", "template", "this",
    "thread_local", "throw", "try", "typeid", "typename", "using", "virtual", "wchar_t", "xor",
    "xor_eq", "size_t", "ptrdiff_t", "max_align_t",
};

/* All capitals, digits and '_' (INT8_MAX, SIZE_MAX): the style of macros. */
static int macro_like(const char *p)
{
    int upper = 0;
    for (; *p; p++) {
        if (*p >= 'a' && *p <= 'z')
            return 0;
        upper |= *p >= 'A' && *p <= 'Z';
    }
    return upper;
}

/* A struct member or enum name for a drive name: C keywords get a '_'. */
static const char *c_ident(arena *mem, const char *name)
{
    char *p = arena_strdup(mem, name);
    for (char *q = p; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9')))
            *q = '_';
    for (size_t i = 0; i < sizeof C_KEYWORDS / sizeof C_KEYWORDS[0]; i++)
        if (!strcmp(p, C_KEYWORDS[i]))
            return arena_printf(mem, "%s_", p);
    if (macro_like(p) || (p[0] == '_' && p[1] >= 'A' && p[1] <= 'Z') ||
        (p[0] == '_' && p[1] == '_'))
        return arena_printf(mem, "%s_", p); /* reserved or macro-like */
    return p;
}

static void emit_fields(FILE *f, const char *pfx, const drive_abi_circuit *d)
{
    fprintf(f, "static const drive_abi_field %s_fields[] = {\n", pfx);
    for (uint32_t i = 0; i < d->n_fields; i++) {
        const drive_abi_field *x = &d->fields[i];
        fputs("    { ", f);
        c_string(f, x->name);
        fputs(", ", f);
        c_string(f, x->base);
        fprintf(f, ", %u, %u, %u, %u, %u, %u, %u, ", x->index, x->len, x->offset, x->kind,
                x->type, x->role, x->has_range);
        c_double(f, x->lo);
        fputs(", ", f);
        c_double(f, x->hi);
        fputs(", ", f);
        c_double(f, x->init);
        fputs(" },\n", f);
    }
    if (!d->n_fields)
        fputs("    { 0 }\n", f);
    fputs("};\n\n", f);
}

static void emit_glue_circuit(FILE *f, const char *pfx, const drive_abi_circuit *d)
{
    emit_fields(f, pfx, d);
    fprintf(f,
            "void %s_init(void *state);\n"
            "int %s_step(void *state, const void *in, void *out);\n"
            "size_t %s_step_n(void *states, size_t n, const void *in, void *out);\n\n",
            pfx, pfx, pfx);
    fprintf(f, "static const drive_abi_circuit %s_circuit = {\n    DRIVE_ABI_VERSION, %u, ", pfx,
            d->n_fields);
    c_string(f, d->module);
    fputs(", ", f);
    c_string(f, d->name);
    fputs(", ", f);
    c_string(f, d->source_hash);
    fputs(", ", f);
    c_double(f, d->tick_seconds);
    fprintf(f, ",\n    %u, %u, %u, %u, %u, %u, %u,\n    %s_fields, %s_init, %s_step, %s_step_n\n};\n\n",
            d->in_size, d->out_size, d->state_size, d->n_inputs, d->n_outputs, d->n_params,
            d->n_state, pfx, pfx, pfx, pfx);
    uint32_t p0 = d->n_inputs + d->n_outputs;
    fprintf(f,
            "const drive_abi_circuit *%s_reflect(void) { return &%s_circuit; }\n"
            "size_t %s_state_size(void) { return %u; }\n\n"
            "int %s_param_index(const char *name)\n{\n"
            "    for (int i = 0; i < %u; i++)\n"
            "        if (strcmp(%s_fields[%u + i].name, name) == 0)\n"
            "            return i;\n"
            "    return -1;\n}\n\n"
            "double %s_param_get(const void *state, int index)\n{\n"
            "    if (index < 0 || index >= %u)\n        return 0.0 / 0.0;\n"
            "    const drive_abi_field *f = &%s_fields[%u + index];\n"
            "    const unsigned char *p = (const unsigned char *)state + f->offset;\n"
            "    if (f->type == DRIVE_ABI_BOOL)\n        return *p;\n"
            "    double v;\n    memcpy(&v, p, sizeof v);\n    return v;\n}\n\n"
            "int %s_param_set(void *state, int index, double value)\n{\n"
            "    if (index < 0 || index >= %u)\n        return -1;\n"
            "    const drive_abi_field *f = &%s_fields[%u + index];\n"
            "    unsigned char *p = (unsigned char *)state + f->offset;\n"
            "    if (f->type == DRIVE_ABI_BOOL) {\n"
            "        if (value != 0 && value != 1)\n            return -1;\n"
            "        *p = (unsigned char)value;\n        return 0;\n    }\n"
            "    if (f->has_range && !(f->lo <= value && value <= f->hi))\n        return -1;\n"
            "    if (value != value || value - value != 0)\n        return -1; /* not finite */\n"
            "    memcpy(p, &value, sizeof value);\n    return 0;\n}\n\n",
            pfx, pfx, pfx, d->state_size, pfx, d->n_params, pfx, p0, pfx, d->n_params, pfx, p0,
            pfx, d->n_params, pfx, p0);
}

/* A member name not used before in this struct (names that differ only in
 * characters C cannot spell, or by a keyword's '_', get a number). */
static const char *member(arena *mem, const char *name, const char **used, int *n_used)
{
    const char *m = c_ident(mem, name);
    for (int k = 2;; k++) {
        int clash = 0;
        for (int i = 0; i < *n_used && !clash; i++)
            clash = !strcmp(used[i], m);
        if (!clash)
            break;
        m = arena_printf(mem, "%s_%d", c_ident(mem, name), k);
    }
    used[(*n_used)++] = m;
    return m;
}

static void emit_struct(FILE *f, arena *mem, const char *pfx, const char *suffix,
                        const drive_abi_circuit *d, uint32_t first, uint32_t n, uint32_t size)
{
    const char **used = arena_calloc(mem, 2 * (size_t)n + 2, sizeof *used);
    int n_used = 0;
    /* Field names first, so padding never takes a name a field wants. */
    const char **names = arena_calloc(mem, (size_t)n + 1, sizeof *names);
    for (uint32_t i = first; i < first + n; i++)
        if (d->fields[i].index == 0)
            names[i - first] = member(mem, d->fields[i].base, used, &n_used);
    fprintf(f, "typedef struct %s_%s {\n", pfx, suffix);
    uint32_t off = 0;
    int pad = 0;
    for (uint32_t i = first; i < first + n; i++) {
        const drive_abi_field *x = &d->fields[i];
        if (x->index != 0)
            continue;
        if (x->offset > off)
            fprintf(f, "    unsigned char %s[%u];\n",
                    member(mem, arena_printf(mem, "pad%d_", pad++), used, &n_used),
                    x->offset - off);
        const char *ty = x->type == DRIVE_ABI_BOOL ? "unsigned char" : "double";
        if (x->len > 1 || strcmp(x->base, x->name) != 0)
            fprintf(f, "    %s %s[%u];\n", ty, names[i - first], x->len);
        else
            fprintf(f, "    %s %s;\n", ty, names[i - first]);
        off = x->offset + (x->type == DRIVE_ABI_BOOL ? 1 : 8) * x->len;
    }
    if (n == 0)
        fputs("    unsigned char none_; /* no fields: pass NULL or any block */\n", f);
    fprintf(f, "} %s_%s;\n", pfx, suffix);
    if (n > 0)
        fprintf(f, "DRIVE_STATIC_ASSERT(sizeof(%s_%s) == %u, \"layout of %s_%s\");\n", pfx, suffix,
                size, pfx, suffix);
    fputc('\n', f);
}

static void emit_header_circuit(FILE *f, arena *mem, const char *pfx, const drive_abi_circuit *d)
{
    fprintf(f, "/* ---- circuit %s.%s (tick %g ms) ---- */\n\n", d->module, d->name,
            d->tick_seconds * 1000);
    emit_struct(f, mem, pfx, "in", d, 0, d->n_inputs, d->in_size);
    emit_struct(f, mem, pfx, "out", d, d->n_inputs, d->n_outputs, d->out_size);
    fprintf(f, "/* Params, by index (the order of %s_param_get/set). */\nenum {\n", pfx);
    uint32_t p0 = d->n_inputs + d->n_outputs;
    const char **used = arena_calloc(mem, (size_t)d->n_params + 1, sizeof *used);
    int n_used = 0;
    for (uint32_t i = 0; i < d->n_params; i++)
        fprintf(f, "    %s_PARAM_%s = %u, /* %s */\n", pfx,
                member(mem, d->fields[p0 + i].name, used, &n_used), i, d->fields[p0 + i].name);
    fprintf(f, "    %s_N_PARAMS = %u\n};\n", pfx, d->n_params);
    fprintf(f, "#define %s_STATE_SIZE %u\n\n", pfx, d->state_size);
    fprintf(f,
            "/* Bytes of one instance's state (params and state slots); 8-byte aligned. */\n"
            "size_t %s_state_size(void);\n"
            "/* Params to their defaults, every state slot to its initial value. */\n"
            "void %s_init(void *state);\n"
            "/* One tick of one instance; returns 1 when an input was invalid (not\n"
            " * finite, or outside its range): outputs written, no state kept. */\n"
            "int %s_step(void *state, const %s_in *in, %s_out *out);\n"
            "/* One tick of n instances, returning how many had invalid inputs. The\n"
            " * blocks are in columns (drive_abi.h, ABI version 2; version 1 laid them\n"
            " * end to end): member x of instance i is at byte\n"
            " * offsetof(struct, x) * m + sizeof x * i of its array of m blocks,\n"
            " * m = drive_abi_columns(n) (n itself up to 64 instances). */\n"
            "size_t %s_step_n(void *states, size_t n, const void *in, void *out);\n"
            "/* Params by index or name; set returns -1 for a bad index or a value\n"
            " * outside the param's range (or a bool other than 0 or 1). */\n"
            "int %s_param_index(const char *name);\n"
            "double %s_param_get(const void *state, int index);\n"
            "int %s_param_set(void *state, int index, double value);\n"
            "/* The reflection table of this circuit. */\n"
            "const drive_abi_circuit *%s_reflect(void);\n\n",
            pfx, pfx, pfx, pfx, pfx, pfx, pfx, pfx, pfx, pfx);
}

/* ---- building ------------------------------------------------------------- */

/* Run argv with its stderr into log, without fork: posix_spawn is safe
 * inside a multithreaded host (libdrive runs this from drive_compile). */
static int run_cc(const char *const *argv, const char *log, char **err)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    extern char **environ;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        cg_errorf(err, "cannot run the C compiler '%s': %s (set CC to another)", argv[0],
                  strerror(rc));
        return -1;
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char msg[2048] = "";
        FILE *l = fopen(log, "r");
        if (l) {
            size_t k = fread(msg, 1, sizeof msg - 1, l);
            msg[k] = 0;
            fclose(l);
        }
        cg_errorf(err, "'%s' failed%s%s", argv[0], msg[0] ? ":\n" : "", msg);
        return -1;
    }
    return 0;
}

static int write_object(LLVMModuleRef m, cg_target *t, const char *path, char **err)
{
    char *msg = NULL;
    if (LLVMTargetMachineEmitToFile(cg_target_machine(t), m, (char *)path, LLVMObjectFile, &msg)) {
        cg_errorf(err, "LLVM could not write '%s': %s", path, msg ? msg : "?");
        LLVMDisposeMessage(msg);
        return -1;
    }
    return 0;
}

static void remove_tree(const char *dir, const char *const *files, int n)
{
    for (int i = 0; i < n; i++)
        if (files[i])
            remove(files[i]);
    rmdir(dir);
}

int aot_build(compile_result *r, ir_circuit *const *circuits, int n, const aot_options *o,
              int *cached, char **err)
{
    arena *mem = &r->mem;
    *cached = 0;
    int native = o->cpu && !strcmp(o->cpu, "native");
    char *opts = arena_printf(mem, "cpu=%s", native ? "native" : "generic");
    if (native) { /* the key names this machine's CPU: a shared cache stays safe */
        char *cpu = LLVMGetHostCPUName(), *feat = LLVMGetHostCPUFeatures();
        opts = arena_printf(mem, "%s(%s %s)", opts, cpu, feat);
        LLVMDisposeMessage(cpu);
        LLVMDisposeMessage(feat);
    }
    for (int i = 0; i < n; i++)
        opts = arena_printf(mem, "%s circuit=%s", opts, circuits[i]->name);
    opts = arena_printf(mem, "%s opt=2", opts);
    /* The code generator's switches (cg.h), when set: another code, another
     * key. Unset, the key (and the source hash) stays what it was. */
    static const char *const switches[] = { "DRIVE_CG_LOOPS", "DRIVE_CG_LANES", "DRIVE_CG_MATH",
                                            "DRIVE_CG_PREFETCH" };
    for (size_t k = 0; k < sizeof switches / sizeof *switches; k++) {
        const char *v = getenv(switches[k]);
        if (v)
            opts = arena_printf(mem, "%s %s=%s", opts, switches[k], v);
    }
    const char *hash = aot_source_hash(r, opts);
    const char *cso = o->cache_dir ? arena_printf(mem, "%s/%s.so", o->cache_dir, hash) : NULL;
    const char *ch = o->cache_dir ? arena_printf(mem, "%s/%s.h", o->cache_dir, hash) : NULL;
    struct stat sb;
    if (cso && looks_like_so(cso) && stat(ch, &sb) == 0) {
        if ((o->out_header && copy_file(ch, o->out_header, 0, err) != 0) ||
            copy_file(cso, o->out_so, 1, err) != 0)
            return -1;
        *cached = 1;
        return 0;
    }

    const char *tmpdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *dir = mkdtemp(arena_printf(mem, "%s/drive-build-XXXXXX", tmpdir));
    if (!dir) {
        cg_errorf(err, "cannot make a temporary directory: %s", strerror(errno));
        return -1;
    }
    const char **files = arena_calloc(mem, (size_t)n + 8, sizeof *files);
    int nf = 0;
    cg_target *t = native ? cg_target_host(err) : cg_target_generic(err);
    if (!t) {
        rmdir(dir);
        return -1;
    }
    int rc = 0;
    const char **pfx = arena_calloc(mem, (size_t)n + 1, sizeof *pfx);
    drive_abi_circuit **desc = arena_calloc(mem, (size_t)n + 1, sizeof *desc);
    for (int i = 0; i < n && rc == 0; i++) {
        pfx[i] = aot_prefix(mem, circuits[i]);
        for (int k = 0; k < i; k++)
            if (!strcmp(pfx[k], pfx[i])) {
                cg_errorf(err, "circuits '%s' and '%s' would have the same C names (%s)",
                        circuits[k]->name, circuits[i]->name, pfx[i]);
                rc = -1;
            }
        desc[i] = aot_describe(mem, circuits[i], hash);
        LLVMContextRef ctx = LLVMContextCreate();
        LLVMModuleRef m = rc == 0 ? cg_emit(ctx, circuits[i], pfx[i], t) : NULL;
        if (rc == 0 && !m) {
            cg_errorf(err, "circuit %s has malformed IR", circuits[i]->name);
            rc = -1;
        }
        if (m && cg_optimize(m, t, 2, err) != 0)
            rc = -1;
        const char *obj = arena_printf(mem, "%s/c%d.o", dir, i);
        if (m && rc == 0) {
            files[nf++] = obj;
            rc = write_object(m, t, obj, err);
        }
        if (m)
            LLVMDisposeModule(m);
        LLVMContextDispose(ctx);
    }
    cg_target_free(t);

    /* The glue: reflection tables, params, the module table. */
    const char *glue = arena_printf(mem, "%s/glue.c", dir);
    const char *hdr = arena_printf(mem, "%s/circuits.h", dir);
    const char *so = arena_printf(mem, "%s/out.so", dir);
    const char *log = arena_printf(mem, "%s/cc.log", dir);
    files[nf++] = glue;
    files[nf++] = hdr;
    files[nf++] = so;
    files[nf++] = log;
    if (rc == 0) {
        FILE *g = fopen(glue, "w");
        FILE *h = fopen(hdr, "w");
        if (!g || !h) {
            cg_errorf(err, "cannot write in '%s': %s", dir, strerror(errno));
            rc = -1;
        } else {
            fprintf(g, "/* Generated by drivec build (source hash %s); do not edit. */\n"
                       "#include <stddef.h>\n#include <stdint.h>\n#include <string.h>\n\n%s\n",
                    hash, AOT_ABI_TEXT);
            for (int i = 0; i < n; i++)
                emit_glue_circuit(g, pfx[i], desc[i]);
            fputs("static const drive_abi_circuit *const module_circuits[] = {\n", g);
            for (int i = 0; i < n; i++)
                fprintf(g, "    &%s_circuit,\n", pfx[i]);
            fprintf(g, "};\n\nstatic const drive_abi_module module_table = { DRIVE_ABI_VERSION, %d, "
                       "module_circuits };\n\n"
                       "const drive_abi_module *drive_module(void) { return &module_table; }\n",
                    n);
            const char *guard = arena_printf(mem, "DRIVE_%s_H", c_ident(mem, pfx[0]));
            for (char *q = (char *)guard; *q; q++)
                if (*q >= 'a' && *q <= 'z')
                    *q = (char)(*q - 'a' + 'A');
            fprintf(h, "/* Generated by drivec build from %s (source hash %s); do not edit.\n"
                       " *\n * The C interface of the circuits in the matching shared object.\n"
                       " * Blocks must be 8-byte aligned; see drive_abi_circuit below for\n"
                       " * the reflection table every circuit also carries. */\n"
                       "#ifndef %s\n#define %s\n\n#include <stddef.h>\n#include <stdint.h>\n\n%s\n"
                       "#ifdef __cplusplus\n#define DRIVE_STATIC_ASSERT static_assert\n"
                       "extern \"C\" {\n#else\n#define DRIVE_STATIC_ASSERT _Static_assert\n#endif\n\n",
                    r->file->name, hash, guard, guard, AOT_ABI_TEXT);
            for (int i = 0; i < n; i++)
                emit_header_circuit(h, mem, pfx[i], desc[i]);
            fputs("/* The table of every circuit in the shared object. */\n"
                  "const drive_abi_module *drive_module(void);\n\n"
                  "#ifdef __cplusplus\n}\n#endif\n\n#endif\n",
                  h);
        }
        if (g && fclose(g) != 0)
            rc = -1;
        if (h && fclose(h) != 0)
            rc = -1;
    }
    if (rc == 0) {
        /* The header compiles on its own (its layout asserts included). */
        /* $CC may hold words ("ccache gcc"). */
        char *ccw = arena_strdup(mem, getenv("CC") && *getenv("CC") ? getenv("CC") : "cc");
        const char **argv = arena_calloc(mem, (size_t)n + 48, sizeof *argv);
        int a = 0;
        for (char *save = NULL, *w = strtok_r(ccw, " \t", &save); w && a < 30;
             w = strtok_r(NULL, " \t", &save))
            argv[a++] = w;
        if (a == 0)
            argv[a++] = "cc";
        int n_cc = a;
        argv[a++] = "-std=c11";
        argv[a++] = "-O2";
        argv[a++] = "-fPIC";
        argv[a++] = "-shared";
        argv[a++] = "-o";
        argv[a++] = so;
        argv[a++] = glue;
        for (int i = 0; i < n; i++)
            argv[a++] = arena_printf(mem, "%s/c%d.o", dir, i);
        argv[a++] = "-lm";
        argv[a] = NULL;
        rc = run_cc(argv, log, err);
        if (rc == 0)
            rc = add_checksum(so, err);
        if (rc == 0) { /* the header must compile on its own, layout asserts included */
            /* in strict C11, GNU C, and C++ when a C++ compiler is there */
            const char *modes[3][3] = { { "-std=c11", "-x", "c" },
                                        { "-std=gnu17", "-x", "c" },
                                        { "-std=c++17", "-x", "c++" } };
            char *why = NULL;
            for (int m = 0; m < 3 && rc == 0; m++) {
                const char **check = arena_calloc(mem, (size_t)n_cc + 8, sizeof *check);
                int c = 0;
                for (int w = 0; w < n_cc; w++)
                    check[c++] = argv[w];
                check[c++] = modes[m][0];
                check[c++] = "-fsyntax-only";
                check[c++] = modes[m][1];
                check[c++] = modes[m][2];
                check[c++] = hdr;
                check[c] = NULL;
                int r2 = run_cc(check, log, &why);
                if (r2 != 0 && m == 2 && why && strstr(why, "c++")) {
                    free(why); /* no C++ front end here: nothing to check */
                    why = NULL;
                    break;
                }
                rc = r2;
            }
            if (rc != 0) {
                cg_errorf(err, "internal error: the generated header does not compile: %s",
                        why ? why : "?");
                free(why);
            }
        }
    }
    if (rc == 0) {
        if ((o->out_header && copy_file(hdr, o->out_header, 0, err) != 0) ||
            copy_file(so, o->out_so, 1, err) != 0)
            rc = -1;
    }
    if (rc == 0 && cso) { /* best effort: a cache that cannot be written is no error */
        char *ignore = NULL;
        if (copy_file(hdr, ch, 0, &ignore) != 0 || copy_file(so, cso, 1, &ignore) != 0)
            remove(ch);
        free(ignore);
    }
    remove_tree(dir, files, nf);
    return rc;
}
