/* host.c — a generic C host for a circuit built by `drivec build`, without
 * libdrive: it dlopen()s the shared object, reads the reflection table that
 * drive_module() returns (drive_abi.h), finds the circuit and its fields by
 * name, and runs the social attention reflex on a small scripted scene,
 * printing one row per tick.
 *
 *   ./host LIB.so [CIRCUIT]
 *
 * Nothing here is specific to the circuit except the names in the scene:
 * every offset, size and range comes from the table, so the same code works
 * with any .so of the same ABI version. See README.md.
 */
#define _POSIX_C_SOURCE 200809L

#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drive_abi.h"

/* The field of that kind and name; exits when the circuit has none, since
 * the scene below cannot run without it. */
static const drive_abi_field *field(const drive_abi_circuit *c, int kind, const char *name)
{
    for (uint32_t i = 0; i < c->n_fields; i++)
        if (c->fields[i].kind == kind && strcmp(c->fields[i].name, name) == 0)
            return &c->fields[i];
    fprintf(stderr, "circuit '%s' has no field '%s' of kind %d\n", c->name, name, kind);
    exit(1);
}

/* Fields are read and written through memcpy: blocks are byte arrays, and a
 * bool is one byte 0 or 1. */
static void put(void *block, const drive_abi_field *f, double v)
{
    unsigned char *p = (unsigned char *)block + f->offset;
    if (f->type == DRIVE_ABI_BOOL)
        *p = (unsigned char)(v != 0);
    else
        memcpy(p, &v, sizeof v);
}

static double get(const void *block, const drive_abi_field *f)
{
    const unsigned char *p = (const unsigned char *)block + f->offset;
    if (f->type == DRIVE_ABI_BOOL)
        return *p;
    double v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* The scene: from..to (ms, to excluded) an input holds a value; outside
 * every event an input is 0. Like examples/social_attention/scene.csv, plus
 * a glitching voice sensor at 1000 ms (NaN) that the circuit must shrug
 * off: that tick's outputs are computed, but no state is kept. */
typedef struct event {
    int from, to;
    const char *input;
    double value;
} event;

static const event SCENE[] = {
    { 100, 300, "face", 0.9 },        /* a face appears: the reflex fires */
    { 300, 460, "face", 0.3 },        /* it fades to a faint face */
    { 460, 600, "face", 0.9 },        /* back, with a voice: refractory, no firing */
    { 460, 600, "voice", 0.8 },
    { 600, 1200, "face", 0.3 },
    { 760, 900, "eye_contact", 1 },   /* eye contact: fires again */
    { 1000, 1020, "voice", NAN },     /* a sensor glitch: an invalid tick */
};

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s LIB.so [CIRCUIT]\n", argv[0]);
        return 2;
    }
    const char *want = argc == 3 ? argv[2] : "social_attention";
    /* dlopen looks a name without a slash up on the library search path,
     * not in the working directory: "lib.so" means "./lib.so" here. */
    char path[4096];
    snprintf(path, sizeof path, "%s%s", strchr(argv[1], '/') ? "" : "./", argv[1]);
    /* RTLD_LOCAL: the circuit's symbols stay out of the global namespace, so
     * several circuits' objects can be loaded side by side. */
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        fprintf(stderr, "cannot load %s: %s\n", argv[1], dlerror());
        return 1;
    }
    /* A function pointer from dlsym goes through uintptr_t: ISO C has no
     * conversion from void * to a function pointer. */
    drive_module_fn module = (drive_module_fn)(uintptr_t)dlsym(dl, "drive_module");
    const drive_abi_module *m = module ? module() : NULL;
    if (!m) {
        fprintf(stderr, "%s was not built by drivec build (no drive_module)\n", argv[1]);
        return 1;
    }
    /* The version first: every other field of the table depends on it. */
    if (m->abi_version != DRIVE_ABI_VERSION) {
        fprintf(stderr, "%s has ABI version %u; this host reads version %d\n", argv[1],
                m->abi_version, DRIVE_ABI_VERSION);
        return 1;
    }
    const drive_abi_circuit *c = NULL;
    for (uint32_t i = 0; i < m->n_circuits; i++)
        if (strcmp(m->circuits[i]->name, want) == 0)
            c = m->circuits[i];
    if (!c) {
        fprintf(stderr, "%s has no circuit '%s'\n", argv[1], want);
        return 1;
    }
    printf("%s.%s from %s: tick %g ms, %u inputs, %u outputs, %u params, %u state slots\n",
           c->module, c->name, argv[1], c->tick_seconds * 1000, c->n_inputs, c->n_outputs,
           c->n_params, c->n_state);

    const drive_abi_field *face = field(c, DRIVE_ABI_INPUT, "face");
    const drive_abi_field *voice = field(c, DRIVE_ABI_INPUT, "voice");
    const drive_abi_field *eye = field(c, DRIVE_ABI_INPUT, "eye_contact");
    const drive_abi_field *score = field(c, DRIVE_ABI_OUTPUT, "conspecific");
    const drive_abi_field *attending = field(c, DRIVE_ABI_OUTPUT, "attending");
    const drive_abi_field *arousal = field(c, DRIVE_ABI_OUTPUT, "arousal");
    const drive_abi_field *threshold = field(c, DRIVE_ABI_PARAM, "threshold");

    /* Blocks must be 8-byte aligned: calloc's are. A block may be 0 bytes
     * (a circuit without params or state): ask for 1 so that NULL means out
     * of memory. */
    void *state = calloc(1, c->state_size + 1);
    void *in = calloc(1, c->in_size + 1), *out = calloc(1, c->out_size + 1);
    if (!state || !in || !out) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    c->init(state); /* params at their defaults */
    printf("param threshold = %g (default)\n\n", get(state, threshold));

    printf("  time | face voice eye | conspecific attending arousal\n");
    printf("-------+----------------+-------------------------------\n");
    int ms_per_tick = (int)lround(c->tick_seconds * 1000);
    for (int tick = 0; tick < 60; tick++) {
        int ms = tick * ms_per_tick;
        put(in, face, 0);
        put(in, voice, 0);
        put(in, eye, 0);
        for (size_t e = 0; e < sizeof SCENE / sizeof SCENE[0]; e++)
            if (ms >= SCENE[e].from && ms < SCENE[e].to)
                put(in, field(c, DRIVE_ABI_INPUT, SCENE[e].input), SCENE[e].value);
        int invalid = c->step(state, in, out);
        printf("%4d ms| %4.2f %5.2f %3.0f | %11.3f %9s %7.3f%s\n", ms, get(in, face),
               get(in, voice), get(in, eye), get(out, score), get(out, attending) ? "yes" : "-",
               get(out, arousal), invalid ? "  <- invalid input: no state kept" : "");
    }
    free(state);
    free(in);
    free(out);
    dlclose(dl);
    return 0;
}
