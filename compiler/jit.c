/* jit.c — in-process compilation with ORC LLJIT: cg_emit and cg_optimize
 * build the code, LLJIT links it, and each compile gets its own resource
 * tracker so that it can be removed on its own. Used from one thread. */
#include "jit.h"

#include "cg.h"

#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jit_unit {
    LLVMOrcResourceTrackerRef rt;
    jit_unit *prev, *next;
};

struct jit {
    LLVMOrcLLJITRef lljit;
    LLVMOrcThreadSafeContextRef tsc; /* one context for every module */
    cg_target *target;               /* same CPU as the JIT's, for the passes */
    jit_unit *units;                 /* live trackers, released by jit_destroy */
    char *report;                    /* what the session reported lately */
    unsigned long serial;            /* makes every symbol prefix unique */
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

int jit_compile(jit *j, const ir_circuit *c, int opt_level, jit_fn *out, char **err)
{
    memset(out, 0, sizeof *out);
    free(j->report); /* not about this compile */
    j->report = NULL;
    char *prefix = symbol_prefix(j, c);
    if (!prefix) {
        cg_errorf(err, "out of memory");
        return -1;
    }
    LLVMModuleRef m = cg_emit(LLVMOrcThreadSafeContextGetContext(j->tsc), c, prefix, j->target);
    if (!m) {
        cg_errorf(err, "circuit %s.%s has malformed IR", c->module ? c->module : "?",
                c->name ? c->name : "?");
        free(prefix);
        return -1;
    }
    if (cg_optimize(m, j->target, opt_level, err) != 0) {
        LLVMDisposeModule(m);
        free(prefix);
        return -1;
    }
    jit_unit *u = calloc(1, sizeof *u);
    if (!u) {
        LLVMDisposeModule(m);
        free(prefix);
        cg_errorf(err, "out of memory");
        return -1;
    }
    u->rt = LLVMOrcJITDylibCreateResourceTracker(LLVMOrcLLJITGetMainJITDylib(j->lljit));
    u->next = j->units;
    if (j->units)
        j->units->prev = u;
    j->units = u;

    /* From here the module belongs to the JIT, even if adding fails. */
    LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(m, j->tsc);
    LLVMErrorRef e = LLVMOrcLLJITAddLLVMIRModuleWithRT(j->lljit, u->rt, tsm);
    LLVMOrcExecutorAddress init = 0, step = 0, step_n = 0;
    int rc = 0;
    if (e) {
        set_llvm_err(j, err, "cannot add the module to the JIT", e);
        rc = -1;
    } else if (lookup(j, prefix, "_init", &init, err) != 0 ||
               lookup(j, prefix, "_step", &step, err) != 0 ||
               lookup(j, prefix, "_step_n", &step_n, err) != 0) {
        rc = -1;
    }
    free(prefix);
    if (rc != 0) {
        /* Drop whatever part of the unit got defined; the error is already
         * in *err, so a second one is only consumed. */
        LLVMErrorRef r = LLVMOrcResourceTrackerRemove(u->rt);
        if (r)
            LLVMConsumeError(r);
        unit_release(j, u);
        return -1;
    }
    out->init = (void (*)(void *))(uintptr_t)init;
    out->step = (int (*)(void *, const void *, void *))(uintptr_t)step;
    out->step_n = (size_t (*)(void *, size_t, const void *, void *))(uintptr_t)step_n;
    out->unit = u;
    return 0;
}

int jit_remove(jit *j, jit_fn *fn, char **err)
{
    int rc = 0;
    if (fn->unit) {
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
