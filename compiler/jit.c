/* jit.c — in-process compilation with ORC LLJIT: cg_emit_ex and cg_optimize
 * build the code, LLVM makes an object file of it, LLJIT links it, and each
 * compile gets its own resource tracker so that it can be removed on its
 * own. Every entry point takes the jit's lock (the lanes hook, below, runs
 * in whatever thread steps a population).
 *
 * Compiling is dominated by LLVM (its code generator most, then the passes:
 * 4 to 6 ms for a small circuit, twice that with step_n's lanes), and hosts
 * compile the same circuits again and again: `drivec test` for every
 * scenario, a REPL on every reload, a test suite for every case. So each
 * jit keeps the object files it made, keyed by everything the code depends
 * on (the IR, its layout, the optimisation level, the loop and lane rules),
 * and compiling an identical circuit again links the kept object, or shares
 * the code still loaded. The key is compared byte for byte: a hit is the
 * same code by construction.
 *
 * Part of LLVM's cost is fixed per run (building the code generator's pass
 * pipeline, its per-module set-up): jit_compile_many emits its circuits
 * into as few modules as it has threads (about a quarter less time than a
 * module each for the standard library). The circuits are shared out by
 * size among up to one thread per core, each with its own LLVM context and
 * target machine, since nothing in LLVM is shared between contexts; each
 * share's code is linked whole, under one resource tracker, and kept
 * whole. On two cores the standard library compiles in 0.6 of the time.
 *
 * A share is two objects: its steps, optimised and made by the full code
 * generator, and the rest (init, and a step_n that only calls the step,
 * the lanes or apart_step), which runs once or only calls, made by LLVM's
 * quickest code generator: every function costs the full one about half a
 * millisecond whatever its size, and the rest is two functions of three. */
#include "jit.h"

#include "arena.h"
#include "cg.h"

#include <llvm-c/Error.h>
#include <llvm-c/Linker.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <unistd.h>

typedef struct cache_entry cache_entry;
typedef struct cache_obj cache_obj;
typedef struct lanes_set lanes_set;

struct jit_unit {
    LLVMOrcResourceTrackerRef rt;
    jit_unit *prev, *next;
    int refs;            /* jit_fns sharing this code */
    cache_obj *obj;      /* the kept object it was linked from, if any */
    lanes_set *lanes;    /* the lanes its step_n functions may ask for */
    jit_unit *extras;    /* the lanes linked for it, which go with it */
    jit_unit *owner, *next_extra; /* for a unit of lanes: whose, and the next */
};

/* Populations step through lanes (cg.h): step_n asks for them the first
 * time it gets enough instances (cg_emit_part), and the hook compiles them
 * then, links them as an extra of the unit of the step_n that asked, and
 * keeps the object for the next link. One record per circuit; its address
 * is in the code, so a set of records lives as long as the object does,
 * linked or cached. */
typedef struct lanes_rec {
    lanes_set *set;
    const ir_circuit *c; /* a copy, in the set's arena */
    const char *prefix;  /* in the set's arena */
    char *obj;           /* the lanes' object, once made */
    size_t len;
    int failed;          /* LLVM or the link failed: stay with one at a time */
} lanes_rec;

struct lanes_set {
    jit *j;
    arena arena;
    int opt_level;
    int refs;            /* the unit linked from the object, the cache_obj */
    jit_unit *loaded;    /* the object's unit, while linked */
    int n;
    lanes_rec *recs;
};

/* A kept object file: the code of one compile (one circuit, or all the
 * circuits of one jit_compile_many), linked whole or not at all. */
struct cache_obj {
    char *data;          /* two object files end to end: the steps, the rest */
    size_t len, split;
    int n_entries;       /* the cache entries whose code it holds */
    jit_unit *loaded;    /* its code, while linked */
    unsigned long gen;   /* counts its links: entry addresses of another are stale */
    unsigned long mark;  /* cache_trim's walk that counted it */
    lanes_set *lanes;    /* its circuits' lanes, if made with lanes */
};

/* One circuit's code in a kept object, and its symbol prefix there. */
struct cache_entry {
    unsigned char *key;
    size_t key_len;
    char *prefix;
    cache_obj *obj;
    unsigned long gen;   /* the link of obj that addr belongs to */
    LLVMOrcExecutorAddress addr[3]; /* init, step, step_n */
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
    unsigned long trims;             /* cache_trim's walks */
    int no_cache;
    int no_lanes;                    /* step_n without CG_LANES */
    char *cpu, *features;            /* what j->target was made for (NULL: the host) */
    int threads;                     /* how many run LLVM at once (jit_set_threads) */
    /* Workers 1.. of a parallel compile (worker 0 is this thread, with
     * j->target and tsc's context): a machine and a context each, made on
     * first use and kept, since a new context costs about as much as
     * compiling a small circuit. */
    cg_target *wtarget[JIT_MAX_THREADS], *wfast[JIT_MAX_THREADS];
    LLVMContextRef wctx[JIT_MAX_THREADS];
    cg_target *fast; /* j->target's CPU, LLVM's quickest code generator */
    /* Held by every entry point and by the lanes hook, which runs in
     * whatever thread steps a population. */
    mtx_t lock;
    int lock_ok;
    unsigned long lanes_made, lanes_linked; /* jit_lanes_counts */
    int fail_share;                         /* jit_test_fail_share */
};

static void lanes_unref(lanes_set *set)
{
    if (set && --set->refs <= 0) {
        for (int k = 0; k < set->n; k++)
            free(set->recs[k].obj);
        arena_free(&set->arena);
        free(set);
    }
}

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
    /* Recursive: a failed compile removes what it took with jit_remove. */
    if (mtx_init(&j->lock, mtx_plain | mtx_recursive) != thrd_success) {
        free(j);
        cg_errorf(err, "cannot make a mutex");
        return NULL;
    }
    j->lock_ok = 1;
    /* Two machines with one CPU: the passes borrow one, and ORC's builder
     * consumes the other, so the cost model matches the code generator. */
    j->target = cpu ? cg_target_cpu(cpu, features, err) : cg_target_host(err);
    if (!j->target || !(j->fast = cg_target_fast(j->target, err)))
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
    if ((cpu && !(j->cpu = strdup(cpu))) || (features && !(j->features = strdup(features)))) {
        cg_errorf(err, "out of memory");
        goto fail;
    }
    jit_set_threads(j, 0);
    return j;
fail:
    jit_destroy(j);
    return NULL;
}

/* Frees a cache entry, and its object with the last entry that holds it
 * (code still linked from it stays). */
static void entry_free(cache_entry *e)
{
    cache_obj *o = e->obj;
    if (o && --o->n_entries == 0) {
        if (o->loaded)
            o->loaded->obj = NULL;
        lanes_unref(o->lanes);
        free(o->data);
        free(o);
    }
    free(e->key);
    free(e->prefix);
    free(e);
}

static void unit_release(jit *j, jit_unit *u)
{
    while (u->extras) /* (their code, if not removed, dies with the LLJIT) */
        unit_release(j, u->extras);
    if (u->owner) {
        jit_unit **p = &u->owner->extras;
        while (*p != u)
            p = &(*p)->next_extra;
        *p = u->next_extra;
    }
    if (u->lanes) {
        u->lanes->loaded = NULL;
        lanes_unref(u->lanes);
    }
    if (u->obj)
        u->obj->loaded = NULL;
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
        entry_free(c);
    }
    for (int w = 1; w < JIT_MAX_THREADS; w++) {
        cg_target_free(j->wtarget[w]);
        cg_target_free(j->wfast[w]);
        if (j->wctx[w])
            LLVMContextDispose(j->wctx[w]);
    }
    cg_target_free(j->target);
    cg_target_free(j->fast);
    free(j->cpu);
    free(j->features);
    free(j->report);
    if (j->lock_ok)
        mtx_destroy(&j->lock);
    free(j);
}

void jit_set_threads(jit *j, int n)
{
    if (n <= 0) {
        const char *env = getenv("DRIVE_JIT_THREADS");
        n = env && *env ? atoi(env) : 0;
        if (n <= 0) {
            long cores = sysconf(_SC_NPROCESSORS_ONLN);
            n = cores > 0 ? (int)cores : 1;
        }
    }
    mtx_lock(&j->lock);
    j->threads = n < JIT_MAX_THREADS ? n : JIT_MAX_THREADS;
    mtx_unlock(&j->lock);
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

/* Everything cg_emit_ex and cg_optimize read (names only name LLVM
 * values); NULL when too large to keep. */
static unsigned char *cache_key(const ir_circuit *c, int opt_level, unsigned flags, size_t *len)
{
    keybuf k = { 0 };
    const char *loops = getenv("DRIVE_CG_LOOPS"), *lanes = getenv("DRIVE_CG_LANES");
    const char *math = getenv("DRIVE_CG_MATH"), *ahead = getenv("DRIVE_CG_PREFETCH");
    key_put(&k, "drive-jit-2", 11);
    key_put(&k, ahead ? ahead : "", ahead ? strlen(ahead) + 1 : 1);
    key_put(&k, loops ? loops : "", loops ? strlen(loops) + 1 : 1);
    key_put(&k, lanes ? lanes : "", lanes ? strlen(lanes) + 1 : 1);
    key_put(&k, math ? math : "", math ? strlen(math) + 1 : 1);
    key_put(&k, &flags, sizeof flags);
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

/* Keeps the newest entries within CACHE_MAX_BYTES, counting each object
 * once (linked code stays). */
/* What a kept object holds: its code, and its circuits' lanes (their
 * copies of the circuits, the lanes' objects once made). */
static size_t obj_bytes(const cache_obj *o)
{
    size_t n = o->len;
    if (o->lanes) {
        n += o->lanes->arena.total;
        for (int k = 0; k < o->lanes->n; k++)
            n += o->lanes->recs[k].len;
    }
    return n;
}

static void cache_trim(jit *j)
{
    size_t total = 0;
    unsigned long mark = ++j->trims;
    for (cache_entry **pe = &j->cache; *pe;) {
        cache_entry *e = *pe;
        size_t add = e->key_len + (e->obj->mark == mark ? 0 : obj_bytes(e->obj));
        if (total + add > CACHE_MAX_BYTES && e != j->cache) { /* the newest stays */
            *pe = e->next;
            entry_free(e);
        } else {
            e->obj->mark = mark;
            total += add;
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
    u->next = j->units;
    if (j->units)
        j->units->prev = u;
    j->units = u;
    return u;
}

/* Drops a unit that no jit_fn uses yet (the error, if any, is in *err
 * already: a second one is only consumed). */
static void unit_discard(jit *j, jit_unit *u)
{
    while (u->extras) /* lanes first: they call into u */
        unit_discard(j, u->extras);
    LLVMErrorRef r = LLVMOrcResourceTrackerRemove(u->rt);
    if (r)
        LLVMConsumeError(r);
    unit_release(j, u);
}

/* Links the object files data[0, split) and data[split, len) (none if
 * empty) under a new unit with no users yet (the data are copied). NULL
 * with *err on failure. */
static jit_unit *link_objects(jit *j, const char *data, size_t len, size_t split, const char *name,
                              char **err)
{
    jit_unit *u = unit_new(j);
    if (!u) {
        cg_errorf(err, "out of memory");
        return NULL;
    }
    size_t from[2] = { 0, split }, to[2] = { split, len };
    for (int k = 0; k < 2; k++) {
        if (to[k] <= from[k])
            continue;
        LLVMMemoryBufferRef buf =
            LLVMCreateMemoryBufferWithMemoryRangeCopy(data + from[k], to[k] - from[k], name);
        if (!buf) {
            cg_errorf(err, "out of memory");
            unit_discard(j, u);
            return NULL;
        }
        LLVMErrorRef e = LLVMOrcLLJITAddObjectFileWithRT(j->lljit, u->rt, buf); /* takes buf */
        if (e) {
            set_llvm_err(j, err, "cannot add the code to the JIT", e);
            unit_discard(j, u);
            return NULL;
        }
    }
    return u;
}

/* m optimised with t and made an object file (m is consumed). NULL with
 * *err on failure. */
static LLVMMemoryBufferRef object_of(LLVMModuleRef m, const cg_target *t, int opt_level,
                                     char **err)
{
    LLVMMemoryBufferRef buf = NULL;
    if (cg_optimize(m, t, opt_level, err) == 0) {
        char *msg = NULL;
        if (LLVMTargetMachineEmitToMemoryBuffer(cg_target_machine(t), m, LLVMObjectFile, &msg,
                                                &buf)) {
            cg_errorf(err, "LLVM cannot make the machine code: %s", msg ? msg : "");
            buf = NULL;
        }
        LLVMDisposeMessage(msg);
    }
    LLVMDisposeModule(m);
    return buf;
}

/* r's lanes linked as an extra of the unit that asked (made by LLVM the
 * first time, kept in r after), stored into *slot; NULL on failure, after
 * which r stays with one instance at a time. Under j->lock. */
static void *lanes_link(jit *j, lanes_rec *r, void **slot)
{
    jit_unit *owner = r->set->loaded;
    char *err = NULL;
    if (!r->obj) {
        LLVMContextRef ctx = LLVMOrcThreadSafeContextGetContext(j->tsc);
        LLVMModuleRef m = cg_emit_lanes(ctx, r->c, r->prefix, j->target);
        LLVMMemoryBufferRef buf = m ? object_of(m, j->target, r->set->opt_level, &err) : NULL;
        size_t len = buf ? LLVMGetBufferSize(buf) : 0;
        if (buf && (r->obj = malloc(len ? len : 1))) {
            memcpy(r->obj, LLVMGetBufferStart(buf), len);
            r->len = len;
            j->lanes_made++;
        }
        if (buf)
            LLVMDisposeMemoryBuffer(buf);
    }
    jit_unit *u = r->obj ? link_objects(j, r->obj, r->len, r->len, r->prefix, &err) : NULL;
    LLVMOrcExecutorAddress addr = 0;
    if (u && lookup(j, r->prefix, "_lanes_step_n", &addr, &err) != 0) {
        unit_discard(j, u);
        u = NULL;
    }
    free(err);
    if (!u) { /* (LLVM or the link failed: one at a time, without asking again) */
        r->failed = 1;
        __atomic_store_n(slot, CG_LAZY_NONE, __ATOMIC_RELEASE);
        return NULL;
    }
    u->owner = owner;
    u->next_extra = owner->extras;
    owner->extras = u;
    void *fn = (void *)(uintptr_t)addr;
    j->lanes_linked++;
    __atomic_store_n(slot, fn, __ATOMIC_RELEASE);
    return fn;
}

static void *lanes_hook(void *token, void **slot)
{
    lanes_rec *r = token;
    jit *j = r->set->j;
    mtx_lock(&j->lock);
    void *fn = __atomic_load_n(slot, __ATOMIC_ACQUIRE); /* another thread's, maybe */
    if (!fn && !r->failed && r->set->loaded)
        fn = lanes_link(j, r, slot);
    else if (!fn) /* failed with an earlier link of this object */
        __atomic_store_n(slot, fn = CG_LAZY_NONE, __ATOMIC_RELEASE);
    mtx_unlock(&j->lock);
    return fn == CG_LAZY_NONE ? NULL : fn;
}

/* The entry points <prefix>_init, _step and _step_n (linked on the first
 * lookup). */
static int lookup_all(jit *j, const char *prefix, LLVMOrcExecutorAddress addr[3], char **err)
{
    return lookup(j, prefix, "_init", &addr[0], err) != 0 ||
                   lookup(j, prefix, "_step", &addr[1], err) != 0 ||
                   lookup(j, prefix, "_step_n", &addr[2], err) != 0
               ? -1
               : 0;
}

/* The circuits' code in two objects, each one run of LLVM's code generator
 * for all of them (prefixes[i] names circuit cs[i]'s symbols): out[0] the
 * steps, optimised and made by t; out[1] the rest (cg_emit_part), made by
 * fast, with lazies[i] circuit i's hook for its lanes (NULL: no lanes).
 * Returns 0, or -1 with *err and no buffers. Touches nothing but its
 * arguments, so that threads can run it. */
static int make_object(LLVMContextRef ctx, const cg_target *t, const cg_target *fast,
                       const ir_circuit *const *cs, char *const *prefixes, const cg_lazy *lazies,
                       int n, int opt_level, LLVMMemoryBufferRef out[2], char **err)
{
    out[0] = out[1] = NULL;
    for (int part = 0; part < 2; part++) {
        LLVMModuleRef m = NULL;
        for (int i = 0; i < n; i++) {
            LLVMModuleRef mi =
                cg_emit_part(ctx, cs[i], prefixes[i], t, part ? CG_PART_REST : CG_PART_STEP,
                             part && lazies ? &lazies[i] : NULL);
            const char *fail = !mi ? "has malformed IR"
                               : m && LLVMLinkModules2(m, mi) ? "cannot be linked to the others"
                                                              : NULL; /* consumes mi */
            if (fail) {
                cg_errorf(err, "circuit %s.%s %s", cs[i]->module ? cs[i]->module : "?",
                          cs[i]->name ? cs[i]->name : "?", fail);
                if (m)
                    LLVMDisposeModule(m);
                m = NULL;
                break;
            }
            /* The symbols never repeat (and the constant tables are
             * private), so linking only moves the functions. */
            if (!m)
                m = mi;
        }
        if (m)
            out[part] = part ? object_of(m, fast, 0, err) : object_of(m, t, opt_level, err);
        if (!out[part]) {
            if (out[0])
                LLVMDisposeMemoryBuffer(out[0]);
            out[0] = NULL;
            return -1;
        }
    }
    return 0;
}

/* One thread's share of a compile: its n circuits, fresh[index[k]] for k < n. */
typedef struct share {
    LLVMContextRef ctx;
    const cg_target *target, *fast;
    int opt_level;
    int n;
    const ir_circuit **cs;
    char **prefixes;
    int *index;                 /* into the compile's fresh circuits */
    lanes_set *lanes;           /* with lanes: their records, until adopted */
    cg_lazy *lazies;            /* the hook for each circuit */
    LLVMMemoryBufferRef buf, rest; /* the objects (make_object), or NULL with err */
    char *err;
} share;

static void *share_run(void *arg)
{
    share *s = arg;
    LLVMMemoryBufferRef out[2];
    if (make_object(s->ctx, s->target, s->fast, s->cs, s->prefixes, s->lazies, s->n,
                    s->opt_level, out, &s->err) == 0) {
        s->buf = out[0];
        s->rest = out[1];
    }
    return NULL;
}

static void *lanes_hook(void *token, void **slot);

/* A population without lanes (cg_lazy's apart): each instance copied out of
 * the columns into blocks of its own, stepped, and its state and outputs
 * copied back. The blocks are on the stack when small; when they are not
 * and malloc fails, nothing is stepped and every instance counts as
 * invalid, its state and outputs as they were, as the step itself does
 * without memory (cg.h). */
static size_t apart_step(void *token, void *step, void *states, size_t n, const void *in,
                         void *out)
{
    const ir_circuit *c = ((const lanes_rec *)token)->c;
    int (*fn)(void *, const void *, void *);
    memcpy(&fn, &step, sizeof fn); /* an object pointer to a function pointer, as POSIX has it */
    /* each block 8-byte aligned, as the step's code assumes (cg.h) */
    size_t at_in = ((size_t)c->state_size + 7) / 8 * 8;
    size_t at_out = at_in + ((size_t)c->in_size + 7) / 8 * 8;
    size_t need = at_out + c->out_size + 1;
    _Alignas(16) unsigned char small[1024];
    unsigned char *blk = need <= sizeof small ? small : malloc(need);
    if (!blk)
        return n;
    memset(blk, 0, need);
    unsigned char *st = blk, *ib = blk + at_in, *ob = blk + at_out;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        ir_copy_instance(c, IR_BLOCK_STATE, states, n, i, st, 0);
        ir_copy_instance(c, IR_BLOCK_IN, (void *)(uintptr_t)in, n, i, ib, 0);
        ir_copy_instance(c, IR_BLOCK_OUT, out, n, i, ob, 0);
        bad += fn(st, ib, ob) != 0;
        ir_copy_instance(c, IR_BLOCK_STATE, states, n, i, st, 1);
        ir_copy_instance(c, IR_BLOCK_OUT, out, n, i, ob, 1);
    }
    if (blk != small)
        free(blk);
    return bad;
}

/* The records of share sh's circuits, and their hooks (none without
 * lanes: then step_n only ever calls apart_step); NULL with *err. */
static lanes_set *lanes_new(jit *j, share *sh, int opt_level, int lanes, char **err)
{
    lanes_set *set = calloc(1, sizeof *set);
    sh->lazies = calloc((size_t)(sh->n ? sh->n : 1), sizeof *sh->lazies);
    if (!set || !sh->lazies) {
        free(set);
        cg_errorf(err, "out of memory");
        return NULL;
    }
    set->j = j;
    set->opt_level = opt_level;
    arena_init(&set->arena);
    set->n = sh->n;
    set->recs = arena_calloc(&set->arena, (size_t)(sh->n ? sh->n : 1), sizeof *set->recs);
    for (int k = 0; k < sh->n; k++) {
        lanes_rec *r = &set->recs[k];
        r->set = set;
        r->c = ir_clone(&set->arena, sh->cs[k]);
        r->prefix = arena_strdup(&set->arena, sh->prefixes[k]);
        sh->lazies[k] = (cg_lazy){ .hook = lanes ? lanes_hook : NULL, .token = r,
                                   .apart = apart_step };
    }
    return set;
}

/* What LLVM's time for a circuit grows with (measured: about linear in
 * the IR's length, plus a fixed part per function; the lanes come later). */
static double share_cost(const ir_circuit *c)
{
    return 80.0 + (double)c->n_code;
}

/* Worker w's machine and context, made on first use. */
static int worker_ready(jit *j, int w, char **err)
{
    if (!j->wtarget[w]) {
        j->wtarget[w] = j->cpu ? cg_target_cpu(j->cpu, j->features, err) : cg_target_host(err);
        if (!j->wtarget[w])
            return -1;
    }
    if (!j->wfast[w] && !(j->wfast[w] = cg_target_fast(j->wtarget[w], err)))
        return -1;
    if (!j->wctx[w] && !(j->wctx[w] = LLVMContextCreate())) {
        cg_errorf(err, "out of memory");
        return -1;
    }
    return 0;
}

/* The objects of the n fresh circuits: bufs[s] for share s of *n_shares, the
 * circuits of share s listed in shares[s].index. The largest circuits are
 * dealt first, each to the share with the least work so far. Returns 0, or
 * -1 with *err (no buffer left to free). */
static int make_objects(jit *j, const ir_circuit **fresh, char **prefixes, int n, int opt_level,
                        share *shares, int *n_shares, char **err)
{
    int lanes = !j->no_lanes;
    int k = j->threads < n ? j->threads : n;
    if (k < 1)
        k = 1;
    char *werr = NULL;
    for (int w = 1; w < k; w++)
        if (worker_ready(j, w, &werr) != 0)
            k = w; /* fewer threads, not a failure */
    free(werr);
    int rc = 0;
    int *order = malloc((size_t)n * sizeof *order);
    double *load = calloc((size_t)k, sizeof *load);
    for (int s = 0; s < k; s++) {
        shares[s] = (share){
            .ctx = s ? j->wctx[s] : LLVMOrcThreadSafeContextGetContext(j->tsc),
            .target = s ? j->wtarget[s] : j->target,
            .fast = s ? j->wfast[s] : j->fast,
            .opt_level = opt_level,
            .cs = malloc((size_t)n * sizeof(ir_circuit *)),
            .prefixes = malloc((size_t)n * sizeof(char *)),
            .index = malloc((size_t)n * sizeof(int)),
        };
        if (!shares[s].cs || !shares[s].prefixes || !shares[s].index)
            rc = -1;
    }
    *n_shares = k;
    if (!order || !load || rc != 0) {
        cg_errorf(err, "out of memory");
        free(order);
        free(load);
        return -1;
    }
    for (int i = 0; i < n; i++) { /* insertion sort, largest first: n is small */
        int p = i;
        for (; p > 0 && share_cost(fresh[order[p - 1]]) < share_cost(fresh[i]); p--)
            order[p] = order[p - 1];
        order[p] = i;
    }
    for (int r = 0; r < n; r++) {
        int i = order[r], best = 0;
        for (int s = 1; s < k; s++)
            if (load[s] < load[best])
                best = s;
        share *sh = &shares[best];
        sh->cs[sh->n] = fresh[i];
        sh->prefixes[sh->n] = prefixes[i];
        sh->index[sh->n++] = i;
        load[best] += share_cost(fresh[i]);
    }
    free(order);
    free(load);
    /* Without lanes too: step_n steps populations through apart_step,
     * which needs the circuit (cg_lazy). */
    for (int s = 0; s < k; s++)
        if (!(shares[s].lanes = lanes_new(j, &shares[s], opt_level, lanes, err))) {
            rc = -1;
            goto fail;
        }
    /* LLVM's stack, whatever the C library's default for threads. */
    pthread_t th[JIT_MAX_THREADS];
    pthread_attr_t attr;
    int have_attr = pthread_attr_init(&attr) == 0;
    if (have_attr)
        pthread_attr_setstacksize(&attr, (size_t)8 << 20);
    int started[JIT_MAX_THREADS] = { 0 };
    for (int s = 1; s < k; s++)
        started[s] = pthread_create(&th[s], have_attr ? &attr : NULL, share_run, &shares[s]) == 0;
    if (have_attr)
        pthread_attr_destroy(&attr);
    for (int s = 0; s < k; s++)
        if (s == 0 || !started[s])
            share_run(&shares[s]); /* here when a thread cannot start */
    for (int s = 1; s < k; s++)
        if (started[s])
            pthread_join(th[s], NULL);
    for (int s = 0; s < k; s++)
        if (!shares[s].buf && rc == 0) {
            rc = -1;
            cg_errorf(err, "%s", shares[s].err ? shares[s].err : "out of memory");
        }
fail:
    if (rc != 0)
        for (int s = 0; s < k; s++)
            if (shares[s].buf) { /* (then rest too) */
                LLVMDisposeMemoryBuffer(shares[s].buf);
                LLVMDisposeMemoryBuffer(shares[s].rest);
                shares[s].buf = shares[s].rest = NULL;
            }
    return rc;
}

static void shares_free(share *shares, int n)
{
    for (int s = 0; s < n; s++) {
        free(shares[s].cs);
        free(shares[s].prefixes);
        free(shares[s].index);
        free(shares[s].err);
        free(shares[s].lazies);
        if (shares[s].lanes && shares[s].lanes->refs == 0)
            lanes_unref(shares[s].lanes);
    }
}

void jit_lanes_counts(jit *j, unsigned long *made, unsigned long *linked)
{
    mtx_lock(&j->lock);
    *made = j->lanes_made;
    *linked = j->lanes_linked;
    mtx_unlock(&j->lock);
}

void jit_test_fail_share(jit *j, int share)
{
    mtx_lock(&j->lock);
    j->fail_share = share;
    mtx_unlock(&j->lock);
}

void jit_set_cache(jit *j, int on)
{
    mtx_lock(&j->lock);
    j->no_cache = !on;
    mtx_unlock(&j->lock);
}

void jit_set_lanes(jit *j, int on)
{
    mtx_lock(&j->lock);
    j->no_lanes = !on;
    mtx_unlock(&j->lock);
}

static void fill_fn(jit_fn *out, const LLVMOrcExecutorAddress addr[3], jit_unit *u)
{
    out->init = (void (*)(void *))(uintptr_t)addr[0];
    out->step = (int (*)(void *, const void *, void *))(uintptr_t)addr[1];
    out->step_n = (size_t (*)(void *, size_t, const void *, void *))(uintptr_t)addr[2];
    out->unit = u;
    u->refs++;
}

/* fns[i] from the kept entry e: shares its object's code if linked, else
 * links the object again. */
static int from_cache(jit *j, cache_entry *e, jit_fn *out, char **err)
{
    cache_obj *o = e->obj;
    if (!o->loaded) {
        jit_unit *u = link_objects(j, o->data, o->len, o->split, e->prefix, err);
        if (!u)
            return -1;
        u->obj = o;
        o->loaded = u;
        o->gen++;
        if ((u->lanes = o->lanes)) { /* its step_n asks them for lanes */
            u->lanes->refs++;
            u->lanes->loaded = u;
        }
    }
    if (e->gen != o->gen) {
        if (lookup_all(j, e->prefix, e->addr, err) != 0) {
            if (o->loaded->refs == 0)
                unit_discard(j, o->loaded);
            return -1;
        }
        e->gen = o->gen;
    }
    fill_fn(out, e->addr, o->loaded);
    return 0;
}

/* Links share sh's object (*unit: its new unit), points fns[i] at the code
 * of every circuit i whose fresh circuit (slot[i]) it holds, and keeps the
 * object in the cache, one entry per fresh circuit, which takes its key and
 * prefix. Returns 0, or -1 with *err. */
static int adopt_object(jit *j, share *sh, int n, const int *slot, unsigned char **keys,
                        const size_t *key_lens, char **prefixes, jit_fn *fns, jit_unit **unit,
                        char **err)
{
    /* The two objects end to end, as the cache keeps them. */
    size_t split = LLVMGetBufferSize(sh->buf), len = split + LLVMGetBufferSize(sh->rest);
    char *data = malloc(len ? len : 1);
    if (data) {
        memcpy(data, LLVMGetBufferStart(sh->buf), split);
        memcpy(data + split, LLVMGetBufferStart(sh->rest), len - split);
    }
    LLVMDisposeMemoryBuffer(sh->buf);
    LLVMDisposeMemoryBuffer(sh->rest);
    sh->buf = sh->rest = NULL;
    if (!data) {
        cg_errorf(err, "out of memory");
        return -1;
    }
    jit_unit *u = *unit = link_objects(j, data, len, split, sh->prefixes[0], err);
    if (j->no_cache) {
        free(data);
        data = NULL;
    }
    LLVMOrcExecutorAddress(*addr)[3] = u ? calloc((size_t)sh->n, sizeof *addr) : NULL;
    int *mine = u ? calloc((size_t)n, sizeof *mine) : NULL; /* circuit i: 1 + its k here */
    int ok = u && addr && mine;
    if (u && !ok)
        cg_errorf(err, "out of memory");
    for (int k = 0; ok && k < sh->n; k++)
        ok = lookup_all(j, sh->prefixes[k], addr[k], err) == 0;
    for (int i = 0; ok && i < n; i++)
        for (int k = 0; k < sh->n && slot[i] >= 0 && !mine[i]; k++)
            if (sh->index[k] == slot[i])
                mine[i] = 1 + k;
    for (int i = 0; ok && i < n; i++)
        if (mine[i])
            fill_fn(&fns[i], addr[mine[i] - 1], u);
    if (u && sh->lanes) { /* the unit's now, even if this fails */
        u->lanes = sh->lanes;
        u->lanes->refs++;
        u->lanes->loaded = u;
        sh->lanes = NULL;
    }
    /* Keep the object, one entry per fresh circuit. */
    cache_obj *o = ok && data ? calloc(1, sizeof *o) : NULL;
    if (o) {
        o->data = data;
        o->len = len;
        o->split = split;
        o->loaded = u;
        o->gen = 1;
        u->obj = o;
        if ((o->lanes = u->lanes))
            o->lanes->refs++;
        data = NULL;
        for (int i = 0; i < n; i++) {
            int k = mine[i] - 1, t = slot[i];
            if (k < 0 || !keys[i] || !prefixes[t])
                continue; /* not here, no key, or kept already */
            cache_entry *e = calloc(1, sizeof *e);
            if (!e)
                break;
            e->key = keys[i];
            e->key_len = key_lens[i];
            e->prefix = prefixes[t];
            e->obj = o;
            e->gen = 1;
            memcpy(e->addr, addr[k], sizeof e->addr);
            keys[i] = NULL;
            prefixes[t] = NULL;
            o->n_entries++;
            e->next = j->cache;
            j->cache = e;
        }
        if (o->n_entries == 0) {
            u->obj = NULL;
            lanes_unref(o->lanes);
            free(o->data);
            free(o);
        } else {
            cache_trim(j);
        }
    }
    free(data);
    free(addr);
    free(mine);
    return ok ? 0 : -1;
}

static int compile_many(jit *j, ir_circuit *const *cs, int n, int opt_level, jit_fn *fns,
                        char **err)
{
    memset(fns, 0, (size_t)(n > 0 ? n : 0) * sizeof *fns);
    free(j->report); /* not about this compile */
    j->report = NULL;
    if (n <= 0)
        return 0;
    int rc = -1;
    /* Per circuit: its key, and which of the circuits LLVM must compile
     * (an index into fresh) holds its code, or -1 when the cache has it. */
    unsigned char **keys = calloc((size_t)n, sizeof *keys);
    size_t *key_lens = calloc((size_t)n, sizeof *key_lens);
    int *slot = calloc((size_t)n, sizeof *slot);
    const ir_circuit **fresh = calloc((size_t)n, sizeof *fresh);
    char **prefixes = calloc((size_t)n, sizeof *prefixes);
    int n_new = 0, n_shares = 0;
    share shares[JIT_MAX_THREADS];
    jit_unit *units[JIT_MAX_THREADS] = { NULL };
    if (!keys || !key_lens || !slot || !fresh || !prefixes) {
        cg_errorf(err, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        slot[i] = -1;
        if (!j->no_cache)
            keys[i] = cache_key(cs[i], opt_level, j->no_lanes ? 0u : (unsigned)CG_LANES,
                                &key_lens[i]);
        cache_entry *hit = keys[i] ? cache_find(j, keys[i], key_lens[i]) : NULL;
        if (hit) {
            if (from_cache(j, hit, &fns[i], err) != 0)
                goto out;
            continue;
        }
        /* An identical circuit earlier in this call: the same code. */
        for (int k = 0; keys[i] && k < i && slot[i] < 0; k++)
            if (slot[k] >= 0 && keys[k] && key_lens[k] == key_lens[i] &&
                memcmp(keys[k], keys[i], key_lens[i]) == 0)
                slot[i] = slot[k];
        if (slot[i] < 0) {
            slot[i] = n_new;
            fresh[n_new] = cs[i];
            if (!(prefixes[n_new] = symbol_prefix(j, cs[i]))) {
                cg_errorf(err, "out of memory");
                goto out;
            }
            n_new++;
        }
    }
    if (n_new) {
        if (make_objects(j, fresh, prefixes, n_new, opt_level, shares, &n_shares, err) != 0)
            goto out;
        for (int sh = 0; sh < n_shares; sh++) {
            if (sh > 0 && sh == j->fail_share) { /* testing hook */
                cg_errorf(err, "share %d failed on purpose", sh);
                goto out;
            }
            if (adopt_object(j, &shares[sh], n, slot, keys, key_lens, prefixes, fns, &units[sh],
                             err) != 0)
                goto out;
        }
    }
    rc = 0;
out:
    if (rc != 0) {
        /* All or nothing: release what this call took, first the units no
         * fn holds (the fns' removal frees the others). */
        for (int sh = 0; sh < n_shares; sh++)
            if (units[sh] && units[sh]->refs == 0)
                unit_discard(j, units[sh]);
        for (int i = 0; i < n; i++)
            if (fns[i].unit) {
                char *ignored = NULL;
                jit_remove(j, &fns[i], &ignored);
                free(ignored);
            }
        memset(fns, 0, (size_t)n * sizeof *fns);
    }
    for (int sh = 0; sh < n_shares; sh++)
        if (shares[sh].buf) { /* (then rest too) */
            LLVMDisposeMemoryBuffer(shares[sh].buf);
            LLVMDisposeMemoryBuffer(shares[sh].rest);
        }
    shares_free(shares, n_shares);
    for (int i = 0; keys && i < n; i++)
        free(keys[i]);
    for (int t = 0; prefixes && t < n_new; t++)
        free(prefixes[t]);
    free(keys);
    free(key_lens);
    free(slot);
    free(fresh);
    free(prefixes);
    return rc;
}

int jit_compile_many(jit *j, ir_circuit *const *cs, int n, int opt_level, jit_fn *fns,
                     char **err)
{
    mtx_lock(&j->lock);
    int rc = compile_many(j, cs, n, opt_level, fns, err);
    mtx_unlock(&j->lock);
    return rc;
}

int jit_compile(jit *j, const ir_circuit *c, int opt_level, jit_fn *out, char **err)
{
    ir_circuit *one = (ir_circuit *)c; /* only read */
    return jit_compile_many(j, &one, 1, opt_level, out, err);
}

int jit_remove(jit *j, jit_fn *fn, char **err)
{
    int rc = 0;
    mtx_lock(&j->lock);
    if (fn->unit && --fn->unit->refs == 0) {
        while (fn->unit->extras)
            unit_discard(j, fn->unit->extras);
        LLVMErrorRef e = LLVMOrcResourceTrackerRemove(fn->unit->rt);
        if (e) {
            set_llvm_err(j, err, "cannot remove compiled code", e);
            rc = -1;
        }
        unit_release(j, fn->unit);
    }
    mtx_unlock(&j->lock);
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
