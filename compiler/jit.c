/* jit.c — in-process compilation with ORC LLJIT: cg_emit and cg_optimize
 * build the code, LLVM makes an object file of it, LLJIT links it, and each
 * compile gets its own resource tracker so that it can be removed on its
 * own. Used from one thread.
 *
 * Compiling is dominated by LLVM's code generator (about 5 ms for a small
 * circuit, whatever the passes), and hosts compile the same circuits again
 * and again: `drivec test` for every scenario, a REPL on every reload, a
 * test suite for every case. So each jit keeps the object files it made,
 * keyed by everything the code depends on (the IR, its layout, the
 * optimisation level, the loop rule), and compiling an identical circuit
 * again links the kept object, or shares the code still loaded. The key is
 * compared byte for byte: a hit is the same code by construction. */
#include "jit.h"

#include "cg.h"

#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cache_entry cache_entry;

struct jit_unit {
    LLVMOrcResourceTrackerRef rt;
    jit_unit *prev, *next;
    int refs;            /* jit_fns sharing this code */
    cache_entry *entry;  /* the object it was linked from, if kept */
};

/* A kept object file and the symbol prefix inside it. */
struct cache_entry {
    unsigned char *key;
    size_t key_len;
    char *prefix;
    char *obj;
    size_t obj_len;
    jit_unit *loaded;    /* its code, while linked */
    LLVMOrcExecutorAddress init, step, step_n;
    cache_entry *next;
};

enum { CACHE_MAX_BYTES = 64 << 20, CACHE_MAX_KEY = 4 << 20 };

struct jit {
    LLVMOrcLLJITRef lljit;
    LLVMOrcThreadSafeContextRef tsc; /* one context for every module made */
    cg_target *target;               /* same CPU as the JIT's, for the passes */
    jit_unit *units;                 /* live trackers, released by jit_destroy */
    char *report;                    /* what the session reported lately */
    unsigned long serial;            /* makes every symbol prefix unique */
    cache_entry *cache;              /* newest first */
    size_t cache_bytes;
    int no_cache;
};

/* The session sends some failures (such as the names of unresolved symbols)
 * here instead of into the error a lookup returns: keep them for the next
 * message. */
static void report_error(void *ctx, LLVMErrorRef e)
{
    jit *j = ctx;
    char *msg = LLVMGetErrorMessage(e);
    size_t old = j->report ? strlen(j->report) : 0;
    char *s = realloc(j->report, old + strlen(msg) + 3);
    if (s) {
        if (old)
            strcpy(s + old, "; ");
        strcpy(s + (old ? old + 2 : 0), msg);
        j->report = s;
    }
    LLVMDisposeErrorMessage(msg);
}

/* Sets *err from e (consumed) and anything the session reported. */
static void set_llvm_err(jit *j, char **err, const char *what, LLVMErrorRef e)
{
    char *msg = LLVMGetErrorMessage(e); /* consumes e */
    if (j->report)
        cg_errorf(err, "%s: %s (%s)", what, msg, j->report);
    else
        cg_errorf(err, "%s: %s", what, msg);
    LLVMDisposeErrorMessage(msg);
    free(j->report);
    j->report = NULL;
}

jit *jit_create(char **err) { return jit_create_cpu(NULL, NULL, err); }

jit *jit_create_cpu(const char *cpu, const char *features, char **err)
{
    jit *j = calloc(1, sizeof *j);
    if (!j) {
        cg_errorf(err, "out of memory");
        return NULL;
    }
    /* Two machines with one CPU: the passes borrow one, and ORC's builder
     * consumes the other, so the cost model matches the code generator. */
    j->target = cpu ? cg_target_cpu(cpu, features, err) : cg_target_host(err);
    if (!j->target)
        goto fail;
    cg_target *for_jit = cpu ? cg_target_cpu(cpu, features, err) : cg_target_host(err);
    if (!for_jit)
        goto fail;
    LLVMOrcJITTargetMachineBuilderRef jtmb =
        LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(cg_target_take_machine(for_jit));
    LLVMOrcLLJITBuilderRef builder = LLVMOrcCreateLLJITBuilder();
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(builder, jtmb);
    LLVMErrorRef e = LLVMOrcCreateLLJIT(&j->lljit, builder); /* consumes builder */
    if (e) {
        j->lljit = NULL;
        set_llvm_err(j, err, "cannot create the JIT", e);
        goto fail;
    }
    LLVMOrcExecutionSessionSetErrorReporter(LLVMOrcLLJITGetExecutionSession(j->lljit),
                                            report_error, j);
    j->tsc = LLVMOrcCreateNewThreadSafeContext();
    return j;
fail:
    jit_destroy(j);
    return NULL;
}

static void unit_release(jit *j, jit_unit *u)
{
    if (u->entry)
        u->entry->loaded = NULL;
    if (u->prev)
        u->prev->next = u->next;
    else
        j->units = u->next;
    if (u->next)
        u->next->prev = u->prev;
    LLVMOrcReleaseResourceTracker(u->rt);
    free(u);
}

void jit_destroy(jit *j)
{
    if (!j)
        return;
    /* A tracker's destructor calls into the session: release them first.
     * Their code moves to the default tracker and dies with the LLJIT. */
    while (j->units)
        unit_release(j, j->units);
    if (j->lljit) {
        LLVMErrorRef e = LLVMOrcDisposeLLJIT(j->lljit);
        if (e) {
            char *msg = LLVMGetErrorMessage(e);
            fprintf(stderr, "drive: disposing the JIT: %s\n", msg);
            LLVMDisposeErrorMessage(msg);
        }
    }
    if (j->tsc)
        LLVMOrcDisposeThreadSafeContext(j->tsc);
    while (j->cache) {
        cache_entry *c = j->cache;
        j->cache = c->next;
        free(c->key);
        free(c->prefix);
        free(c->obj);
        free(c);
    }
    cg_target_free(j->target);
    free(j->report);
    free(j);
}

/* drive_<module>_<name>_<serial>, reduced to [A-Za-z0-9_]. */
static char *symbol_prefix(jit *j, const ir_circuit *c)
{
    const char *mod = c->module ? c->module : "anon";
    const char *name = c->name ? c->name : "anon";
    size_t len = strlen(mod) + strlen(name) + 48;
    char *s = malloc(len);
    if (!s)
        return NULL;
    snprintf(s, len, "drive_%s_%s_%lu", mod, name, ++j->serial);
    for (char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '_'))
            *p = '_';
    return s;
}

static int lookup(jit *j, const char *prefix, const char *suffix,
                  LLVMOrcExecutorAddress *addr, char **err)
{
    size_t len = strlen(prefix) + strlen(suffix) + 1;
    char *name = malloc(len);
    if (!name) {
        cg_errorf(err, "out of memory");
        return -1;
    }
    snprintf(name, len, "%s%s", prefix, suffix);
    LLVMErrorRef e = LLVMOrcLLJITLookup(j->lljit, addr, name);
    if (e) {
        char what[64];
        snprintf(what, sizeof what, "cannot link %s", suffix + 1);
        set_llvm_err(j, err, what, e);
    }
    free(name);
    return e ? -1 : 0;
}

/* ---- the object cache ---------------------------------------------------- */

typedef struct keybuf {
    unsigned char *p;
    size_t len, cap;
    int failed;
} keybuf;

static void key_put(keybuf *k, const void *data, size_t n)
{
    if (k->failed)
        return;
    if (k->len + n > k->cap) {
        size_t cap = k->cap ? k->cap : 4096;
        while (cap < k->len + n)
            cap *= 2;
        unsigned char *q = cap > CACHE_MAX_KEY ? NULL : realloc(k->p, cap);
        if (!q) {
            k->failed = 1;
            return;
        }
        k->p = q;
        k->cap = cap;
    }
    memcpy(k->p + k->len, data, n);
    k->len += n;
}

static void key_vars(keybuf *k, const ir_var *v, uint32_t n)
{
    key_put(k, &n, sizeof n);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t = v[i].type;
        key_put(k, &t, sizeof t);
        key_put(k, &v[i].offset, sizeof v[i].offset);
        key_put(k, &v[i].init, sizeof v[i].init);
    }
}

/* Everything cg_emit and cg_optimize read (names only name LLVM values);
 * NULL when too large to keep. */
static unsigned char *cache_key(const ir_circuit *c, int opt_level, size_t *len)
{
    keybuf k = { 0 };
    const char *loops = getenv("DRIVE_CG_LOOPS");
    key_put(&k, "drive-jit-1", 11);
    key_put(&k, loops ? loops : "", loops ? strlen(loops) + 1 : 1);
    key_put(&k, &opt_level, sizeof opt_level);
    key_put(&k, &c->in_size, sizeof c->in_size);
    key_put(&k, &c->out_size, sizeof c->out_size);
    key_put(&k, &c->state_size, sizeof c->state_size);
    key_vars(&k, c->inputs, c->n_inputs);
    key_vars(&k, c->outputs, c->n_outputs);
    key_vars(&k, c->params, c->n_params);
    key_vars(&k, c->state, c->n_state);
    key_put(&k, &c->n_code, sizeof c->n_code);
    for (uint32_t i = 0; i < c->n_code; i++) {
        const ir_inst *in = &c->code[i];
        uint32_t f[6] = { in->op, in->type, in->a, in->b, in->c, in->slot };
        key_put(&k, f, sizeof f);
        key_put(&k, &in->imm, sizeof in->imm);
    }
    if (k.failed) {
        free(k.p);
        return NULL;
    }
    *len = k.len;
    return k.p;
}

static cache_entry *cache_find(jit *j, const unsigned char *key, size_t len)
{
    for (cache_entry *e = j->cache; e; e = e->next)
        if (e->key_len == len && memcmp(e->key, key, len) == 0)
            return e;
    return NULL;
}

/* Keeps the newest entries within CACHE_MAX_BYTES (linked code stays). */
static void cache_trim(jit *j)
{
    size_t total = 0;
    for (cache_entry **pe = &j->cache; *pe;) {
        cache_entry *e = *pe;
        total += e->key_len + e->obj_len;
        if (total > CACHE_MAX_BYTES && e != j->cache) { /* the newest stays */
            *pe = e->next;
            if (e->loaded)
                e->loaded->entry = NULL;
            total -= e->key_len + e->obj_len;
            free(e->key);
            free(e->prefix);
            free(e->obj);
            free(e);
        } else {
            pe = &e->next;
        }
    }
    j->cache_bytes = total;
}

static jit_unit *unit_new(jit *j)
{
    jit_unit *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->rt = LLVMOrcJITDylibCreateResourceTracker(LLVMOrcLLJITGetMainJITDylib(j->lljit));
    u->refs = 1;
    u->next = j->units;
    if (j->units)
        j->units->prev = u;
    j->units = u;
    return u;
}

/* Links an object file (copied) under a new unit and looks up the entry
 * points; NULL with *err on failure. */
static jit_unit *link_object(jit *j, const char *obj, size_t len, const char *prefix,
                             LLVMOrcExecutorAddress addr[3], char **err)
{
    jit_unit *u = unit_new(j);
    if (!u) {
        cg_errorf(err, "out of memory");
        return NULL;
    }
    LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRangeCopy(obj, len, prefix);
    /* The buffer belongs to the JIT from here, even if adding fails. */
    LLVMErrorRef e = LLVMOrcLLJITAddObjectFileWithRT(j->lljit, u->rt, buf);
    int rc = 0;
    if (e) {
        set_llvm_err(j, err, "cannot add the code to the JIT", e);
        rc = -1;
    } else if (lookup(j, prefix, "_init", &addr[0], err) != 0 ||
               lookup(j, prefix, "_step", &addr[1], err) != 0 ||
               lookup(j, prefix, "_step_n", &addr[2], err) != 0) {
        rc = -1;
    }
    if (rc != 0) {
        /* Drop whatever part of the unit got defined; the error is already
         * in *err, so a second one is only consumed. */
        LLVMErrorRef r = LLVMOrcResourceTrackerRemove(u->rt);
        if (r)
            LLVMConsumeError(r);
        unit_release(j, u);
        return NULL;
    }
    return u;
}

/* cg_emit, cg_optimize, and the object file of the result (malloc'd). */
static char *make_object(jit *j, const ir_circuit *c, int opt_level, const char *prefix,
                         size_t *len, char **err)
{
    LLVMModuleRef m = cg_emit(LLVMOrcThreadSafeContextGetContext(j->tsc), c, prefix, j->target);
    char *obj = NULL;
    if (!m) {
        cg_errorf(err, "circuit %s.%s has malformed IR", c->module ? c->module : "?",
                  c->name ? c->name : "?");
    } else if (cg_optimize(m, j->target, opt_level, err) == 0) {
        LLVMMemoryBufferRef buf = NULL;
        char *msg = NULL;
        if (LLVMTargetMachineEmitToMemoryBuffer(cg_target_machine(j->target), m, LLVMObjectFile,
                                                &msg, &buf)) {
            cg_errorf(err, "LLVM cannot make the machine code: %s", msg ? msg : "");
        } else {
            *len = LLVMGetBufferSize(buf);
            obj = malloc(*len ? *len : 1);
            if (obj)
                memcpy(obj, LLVMGetBufferStart(buf), *len);
            else
                cg_errorf(err, "out of memory");
            LLVMDisposeMemoryBuffer(buf);
        }
        LLVMDisposeMessage(msg);
    }
    if (m)
        LLVMDisposeModule(m);
    return obj;
}

void jit_set_cache(jit *j, int on) { j->no_cache = !on; }

int jit_compile(jit *j, const ir_circuit *c, int opt_level, jit_fn *out, char **err)
{
    memset(out, 0, sizeof *out);
    free(j->report); /* not about this compile */
    j->report = NULL;
    size_t key_len = 0;
    unsigned char *key = j->no_cache ? NULL : cache_key(c, opt_level, &key_len);
    cache_entry *hit = key ? cache_find(j, key, key_len) : NULL;
    LLVMOrcExecutorAddress addr[3] = { 0, 0, 0 };
    jit_unit *u = NULL;
    if (hit && hit->loaded) {
        /* The same code is linked: share it. */
        u = hit->loaded;
        u->refs++;
        addr[0] = hit->init;
        addr[1] = hit->step;
        addr[2] = hit->step_n;
    } else if (hit) {
        u = link_object(j, hit->obj, hit->obj_len, hit->prefix, addr, err);
    } else {
        char *prefix = symbol_prefix(j, c);
        size_t len = 0;
        char *obj = prefix ? make_object(j, c, opt_level, prefix, &len, err) : NULL;
        if (!prefix)
            cg_errorf(err, "out of memory");
        if (obj)
            u = link_object(j, obj, len, prefix, addr, err);
        cache_entry *e = u && key ? calloc(1, sizeof *e) : NULL;
        if (e) {
            e->key = key;
            e->key_len = key_len;
            e->prefix = prefix;
            e->obj = obj;
            e->obj_len = len;
            e->next = j->cache;
            j->cache = e;
            key = NULL;
            prefix = obj = NULL;
            hit = e;
            cache_trim(j);
        }
        free(prefix);
        free(obj);
    }
    free(key);
    if (!u)
        return -1;
    if (hit && !u->entry && (hit->loaded == NULL || hit->loaded == u)) {
        hit->loaded = u;
        u->entry = hit;
        hit->init = addr[0];
        hit->step = addr[1];
        hit->step_n = addr[2];
    }
    out->init = (void (*)(void *))(uintptr_t)addr[0];
    out->step = (int (*)(void *, const void *, void *))(uintptr_t)addr[1];
    out->step_n = (size_t (*)(void *, size_t, const void *, void *))(uintptr_t)addr[2];
    out->unit = u;
    return 0;
}

int jit_remove(jit *j, jit_fn *fn, char **err)
{
    int rc = 0;
    if (fn->unit && --fn->unit->refs == 0) {
        LLVMErrorRef e = LLVMOrcResourceTrackerRemove(fn->unit->rt);
        if (e) {
            set_llvm_err(j, err, "cannot remove compiled code", e);
            rc = -1;
        }
        unit_release(j, fn->unit);
    }
    memset(fn, 0, sizeof *fn);
    return rc;
}

static void bound_init(void *ctx, void *state) { ((jit_fn *)ctx)->init(state); }
static int bound_step(void *ctx, void *state, const void *in, void *out)
{
    return ((jit_fn *)ctx)->step(state, in, out);
}

void jit_bind(rt_circuit *c, jit_fn *fn)
{
    c->ctx = fn;
    c->init = bound_init;
    c->step = bound_step;
}
