/* test_host.c — the host library (runtime/drive.h) as a host program sees
 * it: compile and load errors and their messages, unknown circuits, field
 * lookup with suggestions, the checks of drive_set, stepping and invalid
 * ticks, CSV traces (exact text, and the same numbers as `drivec run`),
 * drive_pop_reset, the artefact cache (DRIVE_CACHE_DIR), and the header that
 * `drivec build --header` writes (a C program compiled against it must see
 * the layout the reflection describes and step like the library; a C++ one
 * must be able to include it).
 *
 * Programs are written to a temporary directory; drivec and the system C
 * compiler are run as child processes. DRIVEC_PATH and DRIVE_RUNTIME_DIR come
 * from the build (tests/host/CMakeLists.txt); $DRIVEC overrides the first.
 * DRIVE_CACHE_DIR points into the temporary directory for the whole run, so
 * the user's cache is never touched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "drive.h"

#ifndef DRIVEC_PATH
#define DRIVEC_PATH "drivec"
#endif
#ifndef DRIVE_RUNTIME_DIR
#define DRIVE_RUNTIME_DIR "runtime"
#endif

extern char **environ;

static char tmp[256];     /* this run's directory */
static const char *drivec; /* the drivec to build with */

/* ---- files and processes -------------------------------------------------- */

/* tmp/name, in one of 64 rotating buffers: enough for every path one test
 * holds at once. */
static const char *in_tmp(const char *name)
{
    static char buf[64][512];
    static int k;
    char *p = buf[k++ % 64];
    snprintf(p, 512, "%s/%s", tmp, name);
    return p;
}

static const char *write_file(const char *name, const char *text)
{
    const char *path = in_tmp(name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    return path;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, len = 0, k;
    do {
        if (len + 4096 + 1 > cap) {
            cap = 2 * cap + 8192;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        k = fread(buf + len, 1, 4096, f);
        len += k;
    } while (k > 0);
    fclose(f);
    buf[len] = 0;
    return buf;
}

/* Run argv (searched on PATH) with stdout and stderr to `log` in tmp;
 * returns the exit status (-1 if it did not exit). No shell: nothing to
 * quote. */
static int run(const char *log, char *const argv[])
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, in_tmp(log), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e != 0)
        fail_msg("cannot run %s: %s", argv[0], strerror(e));
    int st;
    while (waitpid(pid, &st, 0) < 0)
        assert_int_equal(errno, EINTR);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Like run, but a failure shows the log. */
static void must_run(const char *log, char *const argv[])
{
    int rc = run(log, argv);
    if (rc != 0) {
        char *text = read_text(in_tmp(log));
        print_error("%s exited with %d:\n%s\n", argv[0], rc, text ? text : "");
        free(text);
        fail();
    }
}

static void build_so(const char *src, const char *so, const char *header)
{
    char *argv[] = { (char *)drivec, "build", (char *)src, "-o", (char *)so, "--no-cache",
                     header ? "--header" : NULL, (char *)header, NULL };
    must_run("drivec.log", argv);
}

static void cc_shared(const char *c_file, const char *so)
{
    char *argv[] = { "cc", "-std=c11", "-shared", "-fPIC", "-I", DRIVE_RUNTIME_DIR, "-o",
                     (char *)so, (char *)c_file, NULL };
    must_run("cc.log", argv);
}

/* rm -r, with plain POSIX calls (nftw would need _XOPEN_SOURCE). */
static int remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return -1;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        if (!d)
            return -1;
        struct dirent *e;
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                char sub[4096];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                remove_tree(sub);
            }
        closedir(d);
    }
    return remove(path);
}

static int group_setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmp, sizeof tmp, "%s/test_host-XXXXXX", base);
    if (!mkdtemp(tmp))
        return -1;
    drivec = getenv("DRIVEC") && *getenv("DRIVEC") ? getenv("DRIVEC") : DRIVEC_PATH;
    /* Every drive_compile without DRIVE_NO_CACHE, and drivec itself,
     * caches here. */
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", tmp);
    setenv("DRIVE_CACHE_DIR", cache, 1);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return remove_tree(tmp);
}

/* The message of the last failure contains `part`. */
#define assert_error_has(part)                                                                     \
    do {                                                                                           \
        if (!strstr(drive_last_error(), (part)))                                                   \
            fail_msg("drive_last_error() = \"%s\"\n  expected it to contain \"%s\"",             \
                     drive_last_error(), (part));                                                  \
    } while (0)

/* ---- programs ------------------------------------------------------------- */

/* Every kind of field: a ranged real, a bool and a vector input; a ranged
 * and a bool param; a real and a bool output; a reward stream (and so the
 * total `reward`); state slots from pre. */
static const char STARTLE[] =
    "module host\n"
    "tick 10 ms\n"
    "\n"
    "circuit startle {\n"
    "  input  motion : real in [0, 1]\n"
    "  input  loud   : bool\n"
    "  input  v      : vec[3]\n"
    "  param  gain   : real in [0, 20] = 2\n"
    "  param  armed  : bool = true\n"
    "  output arousal  : real\n"
    "  output startled : bool\n"
    "  reward calm = 1 - arousal\n"
    "  let drive = gain * motion + (if loud then 1 else 0) + sum(v)\n"
    "  arousal = pre(arousal) * 0.5 + 0.5 * drive\n"
    "  startled = armed and arousal > 0.5 and not pre(startled)\n"
    "}\n";

static const char TWO[] = "module two\n"
                          "circuit first {\n"
                          "  input x : real\n"
                          "  output y : real = x\n"
                          "}\n"
                          "circuit second {\n"
                          "  input x : real\n"
                          "  output y : real = 2 * x\n"
                          "}\n";

static drive_circuit *compile_startle(void)
{
    const char *src = write_file("startle.drive", STARTLE);
    drive_circuit *c = drive_compile(src, NULL, NULL, DRIVE_NO_CACHE);
    if (!c)
        fail_msg("%s", drive_last_error());
    return c;
}

static int field(const drive_circuit *c, const char *name)
{
    int i = drive_find(c, -1, name);
    if (i < 0)
        fail_msg("%s", drive_last_error());
    return i;
}

/* ---- drive_compile: errors ------------------------------------------------- */

static void test_compile_errors(void **state)
{
    (void)state;
    const char *bad = write_file("bad.drive", "circuit c {\n"
                                              "  input motion : real\n"
                                              "  output y : real\n"
                                              "  y = 2 * motoin\n"
                                              "}\n");
    assert_null(drive_compile(bad, NULL, NULL, DRIVE_NO_CACHE));
    /* The whole diagnostic: file, position, caret line and hint. */
    char where[600];
    snprintf(where, sizeof where, "%s does not compile:", bad);
    assert_error_has(where);
    snprintf(where, sizeof where, "%s:4:11: error: undefined name 'motoin'", bad);
    assert_error_has(where);
    assert_error_has("    4 |   y = 2 * motoin\n");
    assert_error_has("= hint: did you mean 'motion'?");

    /* Every error, not only the first. */
    const char *two_errors = write_file("two_errors.drive", "circuit c {\n"
                                                            "  output y : real = a\n"
                                                            "  output z : real = b\n"
                                                            "}\n");
    assert_null(drive_compile(two_errors, NULL, NULL, DRIVE_NO_CACHE));
    assert_error_has("undefined name 'a'");
    assert_error_has("undefined name 'b'");

    const char *missing = in_tmp("no_such.drive");
    assert_null(drive_compile(missing, NULL, NULL, DRIVE_NO_CACHE));
    assert_error_has("cannot open");
    assert_error_has("no_such.drive");

    const char *empty = write_file("empty.drive", "module empty\nconst K = 1\n");
    assert_null(drive_compile(empty, NULL, NULL, DRIVE_NO_CACHE));
    assert_error_has("defines no circuit");

    assert_null(drive_compile(NULL, NULL, NULL, 0));
    assert_error_has("no path given");
}

/* include_path is a colon-separated list: every directory is searched. */
static void test_include_path(void **state)
{
    (void)state;
    mkdir(in_tmp("mods"), 0777);
    write_file("mods/gains.drive", "module gains\nconst G = 3\n");
    const char *imp = write_file("imp.drive", "import gains\n"
                                              "circuit c {\n"
                                              "  input x : real\n"
                                              "  output y : real = G * x\n"
                                              "}\n");
    assert_null(drive_compile(imp, NULL, NULL, DRIVE_NO_CACHE));
    assert_error_has("cannot find module 'gains'");
    drive_circuit *c = drive_compile(imp, NULL, in_tmp("mods"), DRIVE_NO_CACHE);
    if (!c)
        fail_msg("one directory: %s", drive_last_error());
    drive_circuit_free(c);
    char inc[600];
    snprintf(inc, sizeof inc, "/nonexistent:%s", in_tmp("mods"));
    c = drive_compile(imp, NULL, inc, DRIVE_NO_CACHE);
    if (!c)
        fail_msg("two directories: %s", drive_last_error());
    drive_circuit_free(c);
}

/* ---- drive_load: errors ---------------------------------------------------- */

static void test_load_errors(void **state)
{
    (void)state;
    /* Not a shared object at all. */
    const char *text = write_file("not_a.so", "hello\n");
    assert_null(drive_load(text, NULL));
    char want[600];
    snprintf(want, sizeof want, "cannot load '%s'", text);
    assert_error_has(want);

    assert_null(drive_load(in_tmp("missing.so"), NULL));
    assert_error_has("cannot load");
    assert_error_has("missing.so");

    assert_null(drive_load(NULL, NULL));
    assert_error_has("no path given");

    /* A shared object, but not one of drivec's. */
    const char *plain_c = write_file("plain.c", "int answer(void) { return 42; }\n");
    const char *plain = in_tmp("plain.so");
    cc_shared(plain_c, plain);
    assert_null(drive_load(plain, NULL));
    assert_error_has("has no drive_module");
    assert_error_has("plain.so");

    /* Another ABI version: refused, both versions named. */
    const char *v999_c = write_file(
        "v999.c", "#include \"drive_abi.h\"\n"
                  "static const drive_abi_module m = { 999, 0, 0 };\n"
                  "const drive_abi_module *drive_module(void) { return &m; }\n");
    const char *v999 = in_tmp("v999.so");
    cc_shared(v999_c, v999);
    assert_null(drive_load(v999, NULL));
    assert_error_has("version 999");
    char cur[64];
    snprintf(cur, sizeof cur, "version %d", DRIVE_ABI_VERSION);
    assert_error_has(cur);

    /* The module's version right, one circuit's wrong. */
    const char *vc_c = write_file(
        "vcircuit.c",
        "#include \"drive_abi.h\"\n"
        "static const drive_abi_circuit c = { 7, 0, \"m\", \"odd\", \"0\", 0.01 };\n"
        "static const drive_abi_circuit *const cs[] = { &c };\n"
        "static const drive_abi_module m = { DRIVE_ABI_VERSION, 1, cs };\n"
        "const drive_abi_module *drive_module(void) { return &m; }\n");
    const char *vc = in_tmp("vcircuit.so");
    cc_shared(vc_c, vc);
    assert_null(drive_load(vc, "odd"));
    assert_error_has("circuit 'odd'");
    assert_error_has("ABI version 7");
}

/* A path without a slash is a file in the working directory, not a name for
 * the library search path. */
static void test_load_relative(void **state)
{
    (void)state;
    build_so(write_file("rel.drive", TWO), in_tmp("rel.so"), NULL);
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(tmp), 0);
    drive_circuit *c = drive_load("rel.so", "second");
    assert_int_equal(chdir(cwd), 0);
    if (!c)
        fail_msg("%s", drive_last_error());
    assert_string_equal(drive_origin(c), "so");
    assert_string_equal(drive_circuit_name(c), "second");
    assert_string_equal(drive_module_name(c), "two");
    drive_circuit_free(c);
}

/* ---- unknown circuits ------------------------------------------------------- */

static void test_unknown_circuit(void **state)
{
    (void)state;
    const char *src = write_file("two.drive", TWO);
    const char *so = in_tmp("two.so");
    build_so(src, so, NULL);

    assert_null(drive_load(so, "thrid"));
    assert_error_has("no circuit 'thrid' (it has: first, second)");
    assert_null(drive_load(so, NULL));
    assert_error_has("holds 2 circuits (first, second): name the one to use");

    assert_null(drive_compile(src, NULL, NULL, DRIVE_NO_CACHE));
    assert_error_has("defines 2 circuits (first, second)");
    assert_null(drive_compile(src, "secnd", NULL, DRIVE_NO_CACHE));
    assert_error_has("has no circuit 'secnd' (it has: first, second)");
    assert_error_has("did you mean 'second'?");

    drive_circuit *c = drive_load(so, "second");
    if (!c)
        fail_msg("%s", drive_last_error());
    assert_string_equal(drive_circuit_name(c), "second");
    drive_circuit_free(c);
}

/* ---- reflection and drive_find ------------------------------------------------ */

static void test_reflection(void **state)
{
    (void)state;
    drive_circuit *c = compile_startle();
    assert_string_equal(drive_module_name(c), "host");
    assert_string_equal(drive_circuit_name(c), "startle");
    assert_string_equal(drive_origin(c), "jit");
    assert_true(drive_tick(c) == 0.01);
    assert_int_equal(strlen(drive_source_hash(c)), 16);
    /* Inputs in declaration order, as a C struct: motion, loud (padded),
     * v[0..2]. */
    assert_int_equal(drive_in_size(c), 40);
    const char *names[] = { "motion", "loud", "v[0]", "v[1]", "v[2]",
                            "arousal", "startled", "calm", "reward", "gain", "armed" };
    const int kinds[] = { 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2 };
    const unsigned offs[] = { 0, 8, 16, 24, 32, 0, 8, 16, 24 };
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        const drive_field *f = drive_field_at(c, i);
        assert_non_null(f);
        assert_string_equal(f->name, names[i]);
        assert_int_equal(f->kind, kinds[i]);
        if (i < sizeof offs / sizeof offs[0])
            assert_int_equal(f->offset, offs[i]);
    }
    const drive_field *v2 = drive_field_at(c, 4);
    assert_string_equal(v2->base, "v");
    assert_int_equal(v2->index, 2);
    assert_int_equal(v2->len, 3);
    assert_int_equal(drive_field_at(c, 1)->type, DRIVE_ABI_BOOL);
    assert_int_equal(drive_field_at(c, 7)->role, DRIVE_ABI_REWARD);
    assert_int_equal(drive_field_at(c, 8)->role, DRIVE_ABI_TOTAL);
    const drive_field *gain = drive_field_at(c, 9);
    assert_true(gain->has_range && gain->lo == 0 && gain->hi == 20 && gain->init == 2);
    assert_null(drive_field_at(c, drive_n_fields(c)));
    drive_circuit_free(c);
}

static void test_find(void **state)
{
    (void)state;
    drive_circuit *c = compile_startle();
    assert_int_equal(drive_find(c, -1, "motion"), 0);
    assert_int_equal(drive_find(c, DRIVE_ABI_INPUT, "loud"), 1);
    /* A vector's name is its first element. */
    assert_int_equal(drive_find(c, -1, "v"), 2);
    assert_int_equal(drive_find(c, -1, "v[2]"), 4);
    assert_int_equal(drive_find(c, DRIVE_ABI_PARAM, "gain"), 9);
    assert_int_equal(drive_find(c, DRIVE_ABI_OUTPUT, "reward"), 8);
    assert_true(drive_find(c, DRIVE_ABI_STATE, "pre(arousal)") > 9);

    assert_int_equal(drive_find(c, -1, "motoin"), -1);
    assert_error_has("circuit 'startle' has no field 'motoin' (did you mean 'motion'?)");
    /* The kind restricts the search, and the message says which kind. */
    assert_int_equal(drive_find(c, DRIVE_ABI_OUTPUT, "gain"), -1);
    assert_error_has("circuit 'startle' has no output 'gain'");
    assert_int_equal(drive_find(c, DRIVE_ABI_PARAM, "gian"), -1);
    assert_error_has("no param 'gian' (did you mean 'gain'?)");
    assert_int_equal(drive_find(c, DRIVE_ABI_STATE, "arousal"), -1);
    assert_error_has("no state slot 'arousal'");
    assert_int_equal(drive_find(c, -1, "v[3]"), -1);
    assert_error_has("no field 'v[3]'");
    assert_int_equal(drive_find(c, -1, NULL), -1);
    assert_error_has("no name given");
    drive_circuit_free(c);
}

/* ---- drive_set, drive_get, drive_step ------------------------------------------ */

static void test_set_errors(void **state)
{
    (void)state;
    drive_circuit *c = compile_startle();
    drive_pop *p = drive_pop_new(c, 3);
    assert_non_null(p);
    int gain = field(c, "gain"), armed = field(c, "armed"), loud = field(c, "loud");
    int arousal = field(c, "arousal"), slot = drive_find(c, DRIVE_ABI_STATE, "pre(arousal)");

    /* Params: inside the range, bounds included; outside refused, unchanged. */
    assert_int_equal(drive_set(p, 1, gain, 20), 0);
    assert_int_equal(drive_set(p, 1, gain, 0), 0);
    assert_int_equal(drive_set(p, 1, gain, 20.5), -1);
    assert_error_has("20.5 is outside the range of param 'gain' [0, 20]");
    assert_int_equal(drive_set(p, 1, gain, -1e-300), -1);
    assert_int_equal(drive_set(p, 1, gain, NAN), -1);
    assert_error_has("outside the range of param 'gain'");
    assert_true(drive_get(p, 1, gain) == 0);
    assert_true(drive_get(p, 0, gain) == 2); /* other instances keep their own */

    /* Bools: 0 or 1 only, inputs and params alike. */
    assert_int_equal(drive_set(p, 0, armed, 0.5), -1);
    assert_error_has("'armed' is a bool: set it to 0 or 1, not 0.5");
    assert_int_equal(drive_set(p, 0, loud, 2), -1);
    assert_error_has("'loud' is a bool");
    assert_int_equal(drive_set(p, 0, armed, 0), 0);
    assert_true(drive_get(p, 0, armed) == 0);
    assert_int_equal(drive_set(p, 0, loud, 1), 0);

    /* Kinds: outputs and state slots are not for setting. */
    assert_int_equal(drive_set(p, 0, arousal, 1), -1);
    assert_error_has("'arousal' is an output of 'startle': only inputs and params can be set");
    assert_true(slot > 0);
    assert_int_equal(drive_set(p, 0, slot, 1), -1);
    assert_error_has("is a state slot of 'startle'");

    /* Indices. */
    assert_int_equal(drive_set(p, 3, gain, 1), -1);
    assert_error_has("instance 3 is outside the population (3 instances)");
    assert_int_equal(drive_set(p, 0, 999, 1), -1);
    assert_error_has("circuit 'startle' has no field 999");
    assert_int_equal(drive_set(p, 0, -1, 1), -1);
    assert_true(isnan(drive_get(p, 0, 999)));
    assert_error_has("no field 999");

    /* drive_set_all checks every value before writing any. */
    double ok[3] = { 1, 2, 3 }, one_bad[3] = { 4, 25, 6 }, got[3];
    assert_int_equal(drive_set_all(p, gain, ok), 0);
    assert_int_equal(drive_set_all(p, gain, one_bad), -1);
    assert_error_has("25 is outside the range");
    drive_get_all(p, gain, got);
    assert_true(got[0] == 1 && got[1] == 2 && got[2] == 3);

    assert_null(drive_pop_new(c, 0));
    assert_error_has("at least one instance");
    drive_pop_free(p);
    drive_circuit_free(c);
}

static void test_step_and_invalid_inputs(void **state)
{
    (void)state;
    drive_circuit *c = compile_startle();
    drive_pop *p = drive_pop_new(c, 3);
    int motion = field(c, "motion"), v1 = field(c, "v[1]"), arousal = field(c, "arousal");
    int startled = field(c, "startled"), calm = field(c, "calm"), reward = field(c, "reward");
    int slot = drive_find(c, DRIVE_ABI_STATE, "pre(arousal)");

    /* Instance k: motion 0.5; instance 2 also v[1] = 1. */
    for (size_t k = 0; k < 3; k++)
        assert_int_equal(drive_set(p, k, motion, 0.5), 0);
    assert_int_equal(drive_set(p, 2, v1, 1), 0);
    assert_int_equal(drive_step(p, 1), 0);
    /* drive = 2 * 0.5 = 1; arousal = 0 * 0.5 + 0.5 * 1. */
    assert_true(drive_get(p, 0, arousal) == 0.5);
    assert_true(drive_get(p, 0, startled) == 0);
    assert_true(drive_get(p, 0, calm) == 0.5);
    assert_true(drive_get(p, 0, reward) == 0.5);
    assert_true(drive_get(p, 2, arousal) == 1);
    assert_true(drive_get(p, 2, startled) == 1);
    /* Two ticks with inputs held. */
    assert_int_equal(drive_step(p, 2), 0);
    assert_true(drive_get(p, 0, arousal) == 0.875);

    /* An input outside its range is accepted by drive_set and reported by
     * the step: outputs written, no state kept. */
    assert_int_equal(drive_set(p, 0, motion, 1.5), 0);
    assert_int_equal(drive_set(p, 1, motion, NAN), 0);
    double before[3];
    drive_get_all(p, slot, before);
    assert_int_equal(drive_step(p, 1), 2);
    double after[3];
    drive_get_all(p, slot, after);
    assert_true(after[0] == before[0] && after[1] == before[1]);
    assert_true(after[2] != before[2]);
    assert_true(drive_get(p, 0, arousal) == 0.875 * 0.5 + 0.5 * 3); /* computed all the same */
    assert_true(isnan(drive_get(p, 1, arousal)));
    assert_int_equal(drive_step(p, 4), 8);
    drive_pop_free(p);
    drive_circuit_free(c);
}

/* ---- drive_pop_reset ------------------------------------------------------------ */

static void test_pop_reset(void **state)
{
    (void)state;
    drive_circuit *c = compile_startle();
    drive_pop *p = drive_pop_new(c, 2), *fresh = drive_pop_new(c, 1);
    size_t ss = drive_state_size(c);
    int gain = field(c, "gain"), motion = field(c, "motion");
    assert_int_equal(drive_set(p, 0, gain, 7), 0);
    assert_int_equal(drive_set(p, 1, gain, 9), 0);
    assert_int_equal(drive_set(p, 0, motion, 1), 0);
    assert_int_equal(drive_set(p, 1, motion, 1), 0);
    drive_step(p, 5);
    /* Instance blocks, read out of the columns. */
    unsigned char *st0 = malloc(ss), *st1 = malloc(ss), *zero_before = malloc(ss);
    unsigned char *out0 = malloc(drive_out_size(c));
    assert_int_equal(drive_pop_read_block(p, 0, DRIVE_ABI_STATE, zero_before), 0);
    assert_memory_not_equal(zero_before, drive_pop_states(fresh), ss);

    /* One instance: back to a fresh instance's state (params at defaults);
     * the other untouched. */
    drive_pop_reset(p, 1);
    assert_int_equal(drive_pop_read_block(p, 0, DRIVE_ABI_STATE, st0), 0);
    assert_int_equal(drive_pop_read_block(p, 1, DRIVE_ABI_STATE, st1), 0);
    assert_memory_equal(st1, drive_pop_states(fresh), ss);
    assert_memory_equal(st0, zero_before, ss);
    assert_true(drive_get(p, 1, gain) == 2);
    assert_true(drive_get(p, 0, gain) == 7);
    /* An instance outside the population: nothing changes, a message. */
    drive_pop_reset(p, 2);
    assert_non_null(strstr(drive_last_error(), "instance 2 is outside"));
    assert_true(drive_get(p, 0, gain) == 7);

    /* Everyone. */
    drive_pop_reset(p, (size_t)-1);
    assert_int_equal(drive_pop_read_block(p, 0, DRIVE_ABI_STATE, st0), 0);
    assert_int_equal(drive_pop_read_block(p, 1, DRIVE_ABI_STATE, st1), 0);
    assert_memory_equal(st0, drive_pop_states(fresh), ss);
    assert_memory_equal(st1, drive_pop_states(fresh), ss);
    /* After a reset the instance runs like a new one. */
    assert_int_equal(drive_set(fresh, 0, motion, 1), 0);
    drive_step(p, 3);
    drive_step(fresh, 3);
    assert_int_equal(drive_pop_read_block(p, 0, DRIVE_ABI_OUTPUT, out0), 0);
    assert_int_equal(drive_pop_read_block(p, 0, DRIVE_ABI_STATE, st0), 0);
    assert_memory_equal(out0, drive_pop_outputs(fresh), drive_out_size(c));
    assert_memory_equal(st0, drive_pop_states(fresh), ss);
    free(st0);
    free(st1);
    free(out0);
    free(zero_before);
    drive_pop_free(p);
    drive_pop_free(fresh);
    drive_circuit_free(c);
}

/* ---- instance blocks and columns ---------------------------------------------- */

/* drive_pop_read_block / drive_pop_write_block move one instance between the
 * columns and a block of its own; drive_pop_column hands over a field of
 * every instance. Nothing here steps, so it holds whatever the code
 * generator does. */
static void test_blocks_and_columns(void **state)
{
    (void)state;
    drive_circuit *c = compile_startle();
    enum { N = 5, I = 2 };
    drive_pop *p = drive_pop_new(c, N), *fresh = drive_pop_new(c, 1);
    size_t ss = drive_state_size(c), is = drive_in_size(c), os = drive_out_size(c);
    int gain = field(c, "gain"), armed = field(c, "armed"), motion = field(c, "motion"),
        loud = field(c, "loud"), v1 = field(c, "v[1]");
    const drive_field *fg = drive_field_at(c, (uint32_t)gain),
                      *fa = drive_field_at(c, (uint32_t)armed),
                      *fm = drive_field_at(c, (uint32_t)motion),
                      *fl = drive_field_at(c, (uint32_t)loud), *fv = drive_field_at(c, (uint32_t)v1);

    /* Every instance starts as a fresh one, padding included. */
    unsigned char *blk = malloc(ss), *back = malloc(ss), *inb = malloc(is), *outb = malloc(os);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(drive_pop_read_block(p, i, DRIVE_ABI_STATE, blk), 0);
        assert_memory_equal(blk, drive_pop_states(fresh), ss);
    }

    /* A known state block into instance I: reads back the same, drive_get
     * and the column see it, the other instances keep the defaults. The
     * value breaks gain's range: the write is raw. */
    memcpy(blk, drive_pop_states(fresh), ss);
    double g = 42.5;
    memcpy(blk + fg->offset, &g, 8);
    blk[fa->offset] = 0;
    assert_int_equal(drive_pop_write_block(p, I, DRIVE_ABI_STATE, blk), 0);
    assert_int_equal(drive_pop_read_block(p, I, DRIVE_ABI_STATE, back), 0);
    assert_memory_equal(back, blk, ss);
    assert_true(drive_get(p, I, gain) == 42.5);
    assert_true(drive_get(p, I, armed) == 0);
    const double *gcol = drive_pop_column(p, gain);
    const unsigned char *acol = drive_pop_column(p, armed);
    assert_non_null(gcol);
    assert_non_null(acol);
    assert_true(gcol[I] == 42.5);
    assert_int_equal(acol[I], 0);
    /* The column is where drive_abi.h puts it: offset * n into the block
     * (n itself, up to 64 instances). */
    assert_ptr_equal(gcol, (unsigned char *)drive_pop_states(p) + (size_t)fg->offset * N);
    assert_ptr_equal(acol, (unsigned char *)drive_pop_states(p) + (size_t)fa->offset * N);
    for (size_t i = 0; i < N; i++) {
        if (i == I)
            continue;
        assert_true(gcol[i] == 2 && drive_get(p, i, gain) == 2);
        assert_int_equal(acol[i], 1);
        assert_int_equal(drive_pop_read_block(p, i, DRIVE_ABI_STATE, back), 0);
        assert_memory_equal(back, drive_pop_states(fresh), ss);
    }
    /* PARAM means the state block too. */
    assert_int_equal(drive_pop_read_block(p, I, DRIVE_ABI_PARAM, back), 0);
    assert_memory_equal(back, blk, ss);

    /* Writing through a column is drive_set without the checks. */
    double *mcol = drive_pop_column(p, motion);
    unsigned char *lcol = drive_pop_column(p, loud);
    double *vcol = drive_pop_column(p, v1);
    for (size_t i = 0; i < N; i++) {
        mcol[i] = 0.125 * (double)i;
        lcol[i] = i & 1;
        vcol[i] = -(double)i;
    }
    assert_ptr_equal(vcol, (unsigned char *)drive_pop_inputs(p) + (size_t)fv->offset * N);
    for (size_t i = 0; i < N; i++) {
        assert_true(drive_get(p, i, motion) == 0.125 * (double)i);
        assert_true(drive_get(p, i, loud) == (double)(i & 1));
        assert_true(drive_get(p, i, v1) == -(double)i);
        assert_int_equal(drive_pop_read_block(p, i, DRIVE_ABI_INPUT, inb), 0);
        double m, v;
        memcpy(&m, inb + fm->offset, 8);
        memcpy(&v, inb + fv->offset, 8);
        assert_true(m == 0.125 * (double)i && v == -(double)i);
        assert_int_equal(inb[fl->offset], i & 1);
    }
    /* An input block written into instance 4 only. */
    memset(inb, 0, is);
    double one = 1;
    memcpy(inb + fm->offset, &one, 8);
    assert_int_equal(drive_pop_write_block(p, 4, DRIVE_ABI_INPUT, inb), 0);
    assert_true(drive_get(p, 4, motion) == 1 && drive_get(p, 4, v1) == 0);
    assert_true(drive_get(p, 3, motion) == 0.375 && drive_get(p, 3, v1) == -3);
    assert_int_equal(drive_pop_read_block(p, 0, DRIVE_ABI_OUTPUT, outb), 0);

    /* Errors: a message each, nothing written. */
    memcpy(back, blk, ss);
    back[fa->offset] = 1;
    assert_int_equal(drive_pop_write_block(p, N, DRIVE_ABI_STATE, back), -1);
    assert_non_null(strstr(drive_last_error(), "instance 5 is outside"));
    assert_non_null(strstr(drive_last_error(), "startle"));
    assert_int_equal(drive_pop_read_block(p, (size_t)-1, DRIVE_ABI_STATE, back), -1);
    assert_int_equal(drive_pop_write_block(p, I, 4, back), -1);
    assert_non_null(strstr(drive_last_error(), "4 is not a block kind"));
    assert_int_equal(drive_pop_read_block(p, I, -1, back), -1);
    assert_int_equal(drive_pop_read_block(p, I, DRIVE_ABI_STATE, NULL), -1);
    assert_int_equal(drive_pop_write_block(NULL, I, DRIVE_ABI_STATE, back), -1);
    assert_int_equal(acol[I], 0);
    assert_null(drive_pop_column(p, -1));
    assert_non_null(strstr(drive_last_error(), "no field -1"));
    assert_null(drive_pop_column(p, (int)drive_n_fields(c)));
    assert_non_null(strstr(drive_last_error(), "startle"));
    assert_null(drive_pop_column(NULL, 0));

    free(blk);
    free(back);
    free(inb);
    free(outb);
    drive_pop_free(p);
    drive_pop_free(fresh);

    /* Past 64 instances the columns are longer than n: 100 rounded up to 16,
     * plus 8 (drive_abi_columns), and every field sits at offset * 120. */
    assert_int_equal(drive_pop_columns(p = drive_pop_new(c, 100)), 120);
    assert_ptr_equal(drive_pop_column(p, gain),
                     (unsigned char *)drive_pop_states(p) + (size_t)fg->offset * 120);
    assert_ptr_equal(drive_pop_column(p, motion),
                     (unsigned char *)drive_pop_inputs(p) + (size_t)fm->offset * 120);
    assert_int_equal(drive_set(p, 99, gain, 3.25), 0);
    assert_true(((double *)drive_pop_column(p, gain))[99] == 3.25);
    assert_true(drive_get(p, 98, gain) != 3.25);
    drive_pop_free(p);
    assert_int_equal(drive_pop_columns(p = drive_pop_new(c, 64)), 64);
    drive_pop_free(p);
    drive_circuit_free(c);
}

/* ---- traces ----------------------------------------------------------------------- */

/* The scripted inputs of the trace tests: motion, loud, v[0..2] per tick. */
/* A state larger than a small thread's stack (320 KB: a predictor's
 * history of 4 s at 1 ms, ten values a row), stepped in a thread of 256 KB
 * (musl's default is 128 KB): populations of it step through the JIT and
 * the shared object without taking blocks of that size from the stack,
 * every instance as it would alone. */
static const char BIG[] = "module big\ntick 1 ms\n\n"
                          "circuit big {\n"
                          "  input  x : vec[10] learned\n"
                          "  input  s : real\n"
                          "  output y : real\n"
                          "  predictor p {\n"
                          "    context x\n"
                          "    supervisor s\n"
                          "    rate 0.01\n"
                          "    delay 4 s\n"
                          "  }\n"
                          "  y = p\n"
                          "}\n";

/* Instance inst's inputs at tick t: they depend on t + inst alone, so a
 * single instance given tick t + inst sees what instance inst saw. */
static int set_big(drive_pop *p, size_t inst, int t)
{
    drive_circuit *c = drive_pop_circuit(p);
    int x = drive_find(c, DRIVE_ABI_INPUT, "x"), sv = drive_find(c, DRIVE_ABI_INPUT, "s");
    int u = t + (int)inst, bad = x < 0 || sv < 0;
    for (int k = 0; k < 10 && !bad; k++)
        bad = drive_set(p, inst, x + k, 0.1 * (double)((u + k) % 7)) != 0;
    return bad || drive_set(p, inst, sv, (double)(u % 5) / 4.0) != 0;
}

typedef struct big_run {
    drive_circuit *c;
    size_t n;
    int failed, same_as_alone, differs_from_first; /* results, read by the test */
} big_run;

/* n instances 3 ticks, then the last (past the lanes: the copy path) against
 * one instance alone given the same inputs, and against the first. */
static void *run_big(void *arg)
{
    big_run *r = arg;
    size_t ss = drive_state_size(r->c);
    drive_pop *p = drive_pop_new(r->c, r->n), *one = drive_pop_new(r->c, 1);
    unsigned char *a = malloc(ss), *b = malloc(ss);
    r->failed = !p || !one || !a || !b;
    for (int t = 0; t < 3 && !r->failed; t++) {
        for (size_t i = 0; i < r->n; i++)
            r->failed |= set_big(p, i, t);
        r->failed |= drive_step(p, 1) != 0;
        r->failed |= set_big(one, 0, t + (int)(r->n - 1)) || drive_step(one, 1) != 0;
    }
    if (!r->failed) {
        r->failed = drive_pop_read_block(p, r->n - 1, DRIVE_ABI_STATE, a) != 0 ||
                    drive_pop_read_block(one, 0, DRIVE_ABI_STATE, b) != 0;
        r->same_as_alone = memcmp(a, b, ss) == 0;
        r->failed |= drive_pop_read_block(p, 0, DRIVE_ABI_STATE, b) != 0;
        r->differs_from_first = memcmp(a, b, ss) != 0;
    }
    free(a);
    free(b);
    drive_pop_free(p);
    drive_pop_free(one);
    return NULL;
}

static void test_state_past_the_stack(void **state)
{
    (void)state;
    const char *src = write_file("big.drive", BIG);
    const char *so = in_tmp("big.so");
    build_so(src, so, NULL);
    drive_circuit *cs[2] = { drive_compile(src, NULL, NULL, DRIVE_NO_CACHE), drive_load(so, NULL) };
    assert_non_null(cs[0]);
    assert_non_null(cs[1]);
    assert_true(drive_state_size(cs[0]) > 300u << 10);
    /* The JIT's lanes are made here first: LLVM itself needs a larger stack. */
    drive_pop *warm = drive_pop_new(cs[0], 8); /* a group, whether of four or eight */
    assert_non_null(warm);
    assert_int_equal(drive_step(warm, 1), 0);
    drive_pop_free(warm);
    pthread_attr_t attr;
    assert_int_equal(pthread_attr_init(&attr), 0);
    assert_int_equal(pthread_attr_setstacksize(&attr, 256u << 10), 0);
    for (int k = 0; k < 2; k++)
        for (size_t n = 2; n <= 9; n += 7) { /* the copy path alone, and after a group of lanes */
            big_run r = { .c = cs[k], .n = n };
            pthread_t th;
            assert_int_equal(pthread_create(&th, &attr, run_big, &r), 0);
            assert_int_equal(pthread_join(th, NULL), 0);
            assert_false(r.failed);
            assert_true(r.same_as_alone);
            assert_true(r.differs_from_first);
        }
    pthread_attr_destroy(&attr);
    drive_circuit_free(cs[0]);
    drive_circuit_free(cs[1]);
}

static const double SCRIPT[5][5] = {
    { 0, 0, 0, 0, 0 }, { 0.25, 0, 0, 0, 0 }, { 1, 1, 0, 0.5, 0 }, { 0.1, 0, -1, 0, 0 },
    { 0, 0, 0, 0, 0.125 },
};

static void script_tick(drive_pop *p, size_t inst, int t)
{
    for (int k = 0; k < 5; k++)
        assert_int_equal(drive_set(p, inst, k, SCRIPT[t][k]), 0);
}

static void test_trace_text(void **state)
{
    (void)state;
    drive_circuit *c = compile_startle();
    drive_pop *p = drive_pop_new(c, 2);
    const char *all = in_tmp("all.csv");
    drive_trace *ta = drive_trace_open(p, 1, all, NULL);
    assert_non_null(ta);
    for (int t = 0; t < 5; t++) {
        script_tick(p, 1, t);
        drive_step(p, 1);
        assert_int_equal(drive_trace_record(ta), 0);
    }
    assert_int_equal(drive_trace_close(ta), 0);
    /* Every input, then every output (the reward stream and the total in
     * columns of their own); numbers as short as round-trips. */
    char *text = read_text(all);
    assert_string_equal(text, "tick,time,motion,loud,v[0],v[1],v[2],arousal,startled,calm,reward\n"
                              "0,0,0,0,0,0,0,0,0,1,1\n"
                              "1,0.01,0.25,0,0,0,0,0.25,0,0.75,0.75\n"
                              "2,0.02,1,1,0,0.5,0,1.875,1,-0.875,-0.875\n"
                              "3,0.03,0.1,0,-1,0,0,0.5375,0,0.4625,0.4625\n"
                              "4,0.04,0,0,0,0,0.125,0.33125,0,0.66875,0.66875\n");
    free(text);
    assert_null(drive_trace_open(p, 0, in_tmp("x.csv"), "arousl"));
    assert_error_has("no field 'arousl' (did you mean 'arousal'?)");
    assert_null(drive_trace_open(p, 2, in_tmp("x.csv"), NULL));
    assert_error_has("instance 2 is outside the population (2 instances)");
    assert_null(drive_trace_open(p, 0, in_tmp("no/such/dir/x.csv"), NULL));
    assert_error_has("cannot write");
    drive_pop_free(p);
    drive_circuit_free(c);
}

/* Named signals, comma-separated: a vector by its name is all of its
 * elements; params can be traced too. */
static void test_trace_signals(void **state)
{
    (void)state;
    drive_circuit *c = compile_startle();
    drive_pop *p = drive_pop_new(c, 1);
    const char *some = in_tmp("some.csv");
    drive_trace *ts = drive_trace_open(p, 0, some, "startled, v,gain");
    assert_non_null(ts);
    for (int t = 0; t < 5; t++) {
        script_tick(p, 0, t);
        drive_step(p, 1);
        assert_int_equal(drive_trace_record(ts), 0);
    }
    assert_int_equal(drive_trace_close(ts), 0);
    char *text = read_text(some);
    assert_string_equal(text, "tick,time,startled,v[0],v[1],v[2],gain\n"
                              "0,0,0,0,0,0,2\n"
                              "1,0.01,0,0,0,0,2\n"
                              "2,0.02,1,0,0.5,0,2\n"
                              "3,0.03,0,-1,0,0,2\n"
                              "4,0.04,0,0,0,0.125,2\n");
    free(text);
    /* Every name is checked, not only the first. */
    assert_null(drive_trace_open(p, 0, in_tmp("x.csv"), "arousal,arousl"));
    assert_error_has("no field 'arousl' (did you mean 'arousal'?)");
    drive_pop_free(p);
    drive_circuit_free(c);
}

/* A trace of the outputs is what `drivec run --out -` writes for the same
 * inputs, character for character. */
static void test_trace_matches_drivec_run(void **state)
{
    (void)state;
    drive_circuit *c = compile_startle();
    drive_pop *p = drive_pop_new(c, 1);
    const char *csv = in_tmp("script.csv"), *mine = in_tmp("mine.csv");
    FILE *f = fopen(csv, "w");
    assert_non_null(f);
    fputs("motion,loud,v[0],v[1],v[2]\n", f);
    for (int t = 0; t < 5; t++)
        fprintf(f, "%.17g,%d,%.17g,%.17g,%.17g\n", SCRIPT[t][0], (int)SCRIPT[t][1], SCRIPT[t][2],
                SCRIPT[t][3], SCRIPT[t][4]);
    fclose(f);
    drive_trace *t = drive_trace_open(p, 0, mine, "arousal,startled,calm,reward");
    assert_non_null(t);
    for (int k = 0; k < 5; k++) {
        script_tick(p, 0, k);
        drive_step(p, 1);
        drive_trace_record(t);
    }
    assert_int_equal(drive_trace_close(t), 0);
    char *argv[] = { (char *)drivec, "run", (char *)in_tmp("startle.drive"), "--in", (char *)csv,
                     "--out", (char *)in_tmp("theirs.csv"), NULL };
    must_run("run.log", argv);
    char *a = read_text(mine), *b = read_text(in_tmp("theirs.csv"));
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    free(a);
    free(b);
    drive_pop_free(p);
    drive_circuit_free(c);
}

/* ---- the cache ---------------------------------------------------------------------- */

static void test_cache(void **state)
{
    (void)state;
    char want[400];
    snprintf(want, sizeof want, "%s/cache", tmp);
    assert_string_equal(drive_cache_dir(), want);

    const char *src = write_file("cached.drive", "module cached\n"
                                                 "circuit c {\n"
                                                 "  input x : real\n"
                                                 "  param k : real = 3\n"
                                                 "  output y : real = k * x + pre(y)\n"
                                                 "}\n");
    drive_circuit *first = drive_compile(src, NULL, NULL, 0);
    if (!first)
        fail_msg("%s", drive_last_error());
    assert_string_equal(drive_origin(first), "jit");
    char hash[17];
    snprintf(hash, sizeof hash, "%s", drive_source_hash(first));
    /* The artefacts are there, named by the hash. */
    char so[600];
    snprintf(so, sizeof so, "%s/%s.so", want, hash);
    struct stat sb;
    assert_int_equal(stat(so, &sb), 0);

    /* The second time: from the cache, same hash, same results. */
    drive_circuit *second = drive_compile(src, NULL, NULL, 0);
    if (!second)
        fail_msg("%s", drive_last_error());
    assert_string_equal(drive_origin(second), "cache");
    assert_string_equal(drive_source_hash(second), hash);
    drive_pop *p1 = drive_pop_new(first, 1), *p2 = drive_pop_new(second, 1);
    for (int t = 0; t < 10; t++) {
        drive_set(p1, 0, 0, t * 0.1);
        drive_set(p2, 0, 0, t * 0.1);
        drive_step(p1, 1);
        drive_step(p2, 1);
    }
    assert_memory_equal(drive_pop_outputs(p1), drive_pop_outputs(p2), drive_out_size(first));
    assert_memory_equal(drive_pop_states(p1), drive_pop_states(p2), drive_state_size(first));
    drive_pop_free(p1);
    drive_pop_free(p2);

    /* DRIVE_NO_CACHE: compiled anyway. */
    drive_circuit *nocache = drive_compile(src, NULL, NULL, DRIVE_NO_CACHE);
    assert_non_null(nocache);
    assert_string_equal(drive_origin(nocache), "jit");
    assert_string_equal(drive_source_hash(nocache), hash);

    /* A changed source (even a comment) is another program. */
    const char *changed = write_file("cached.drive", "module cached\n"
                                                     "# changed\n"
                                                     "circuit c {\n"
                                                     "  input x : real\n"
                                                     "  param k : real = 3\n"
                                                     "  output y : real = k * x + pre(y)\n"
                                                     "}\n");
    drive_circuit *third = drive_compile(changed, NULL, NULL, 0);
    assert_non_null(third);
    assert_string_equal(drive_origin(third), "jit");
    assert_string_not_equal(drive_source_hash(third), hash);

    /* A damaged entry is compiled again rather than trusted, and replaced. */
    drive_circuit_free(first);
    drive_circuit_free(second);
    drive_circuit_free(nocache);
    snprintf(so, sizeof so, "%s/%s.so", want, drive_source_hash(third));
    FILE *f = fopen(so, "w");
    assert_non_null(f);
    fputs("not a shared object", f);
    fclose(f);
    drive_circuit *again = drive_compile(changed, NULL, NULL, 0);
    if (!again)
        fail_msg("%s", drive_last_error());
    assert_string_equal(drive_origin(again), "jit");
    drive_circuit *fixed = drive_compile(changed, NULL, NULL, 0);
    assert_non_null(fixed);
    assert_string_equal(drive_origin(fixed), "cache");
    drive_circuit_free(third);
    drive_circuit_free(again);
    drive_circuit_free(fixed);
}

/* An imported module is part of the program: changing it changes the hash. */
static void test_cache_imports(void **state)
{
    (void)state;
    mkdir(in_tmp("lib"), 0777);
    write_file("lib/gain.drive", "module lib.gain\nconst G = 2\n");
    const char *src = write_file("importer.drive", "import lib.gain\n"
                                                   "circuit c {\n"
                                                   "  input x : real\n"
                                                   "  output y : real = G * x\n"
                                                   "}\n");
    drive_circuit *a = drive_compile(src, NULL, NULL, 0);
    if (!a)
        fail_msg("%s", drive_last_error());
    drive_circuit *b = drive_compile(src, NULL, NULL, 0);
    assert_string_equal(drive_origin(b), "cache");
    write_file("lib/gain.drive", "module lib.gain\nconst G = 5\n");
    drive_circuit *d = drive_compile(src, NULL, NULL, 0);
    assert_non_null(d);
    assert_string_equal(drive_origin(d), "jit");
    assert_string_not_equal(drive_source_hash(d), drive_source_hash(a));
    drive_pop *p = drive_pop_new(d, 1);
    drive_set(p, 0, 0, 1);
    drive_step(p, 1);
    assert_true(drive_get(p, 0, 1) == 5);
    drive_pop_free(p);
    drive_circuit_free(a);
    drive_circuit_free(b);
    drive_circuit_free(d);
}

/* `drivec build --circuit NAME` (cache on) fills the cache drive_compile
 * reads: the same artefact under the same hash. */
static void test_cache_shared_with_drivec(void **state)
{
    (void)state;
    const char *src = write_file("shared.drive", "module shared\n"
                                                 "circuit a {\n  input x : real\n  output y : real = x + 1\n}\n"
                                                 "circuit b {\n  input x : real\n  output y : real = x + 2\n}\n");
    char *argv[] = { (char *)drivec, "build", (char *)src, "--circuit", "b", "-o",
                     (char *)in_tmp("shared_b.so"), NULL };
    must_run("drivec.log", argv);
    drive_circuit *c = drive_compile(src, "b", NULL, 0);
    if (!c)
        fail_msg("%s", drive_last_error());
    assert_string_equal(drive_origin(c), "cache");
    drive_circuit *so = drive_load(in_tmp("shared_b.so"), "b");
    assert_non_null(so);
    assert_string_equal(drive_source_hash(so), drive_source_hash(c));
    drive_circuit_free(so);
    drive_circuit_free(c);
}

/* ---- the generated header ------------------------------------------------------------ */

/* A program compiled against the header prints its layout (sizeof and
 * offsetof of every member) and steps the circuit with the typed API; both
 * must match the reflection and the library. */
static void test_header(void **state)
{
    (void)state;
    const char *src = write_file("startle.drive", STARTLE);
    const char *so = in_tmp("startle.so"), *h = in_tmp("startle.h");
    build_so(src, so, h);
    drive_circuit *c = drive_load(so, NULL);
    if (!c)
        fail_msg("%s", drive_last_error());

    /* The program: layout lines generated from the reflection, then the
     * same scripted ticks through host_startle_step. */
    const char *prog = in_tmp("typed.c");
    FILE *f = fopen(prog, "w");
    assert_non_null(f);
    fputs("#include <stddef.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include \"startle.h\"\n"
          "int main(void)\n{\n",
          f);
    fputs("    printf(\"in %zu out %zu state %zu %d params %d\\n\", sizeof(host_startle_in),\n"
          "           sizeof(host_startle_out), host_startle_state_size(), host_startle_STATE_SIZE,\n"
          "           host_startle_N_PARAMS);\n",
          f);
    for (uint32_t i = 0; i < drive_n_fields(c); i++) {
        const drive_field *x = drive_field_at(c, i);
        if (x->kind > DRIVE_ABI_OUTPUT || x->index != 0)
            continue;
        fprintf(f, "    printf(\"%s %%zu\\n\", offsetof(host_startle_%s, %s));\n", x->base,
                x->kind == DRIVE_ABI_INPUT ? "in" : "out", x->base);
    }
    fputs("    printf(\"gain %d armed %d none %d\\n\", host_startle_param_index(\"gain\"),\n"
          "           host_startle_param_index(\"armed\"), host_startle_param_index(\"none\"));\n"
          "    void *st = aligned_alloc(8, host_startle_STATE_SIZE);\n"
          "    host_startle_init(st);\n"
          "    printf(\"set %d %d %d\\n\", host_startle_param_set(st, host_startle_PARAM_gain, 30),\n"
          "           host_startle_param_set(st, host_startle_PARAM_armed, 0.5),\n"
          "           host_startle_param_set(st, host_startle_PARAM_gain, 4));\n"
          "    printf(\"gain %a\\n\", host_startle_param_get(st, host_startle_PARAM_gain));\n"
          "    static const double s[5][5] = {\n",
          f);
    for (int t = 0; t < 5; t++)
        fprintf(f, "        { %a, %a, %a, %a, %a },\n", SCRIPT[t][0], SCRIPT[t][1], SCRIPT[t][2],
                SCRIPT[t][3], SCRIPT[t][4]);
    fputs("    };\n"
          "    for (int t = 0; t < 5; t++) {\n"
          "        host_startle_in in = { .motion = s[t][0], .loud = (unsigned char)s[t][1],\n"
          "                               .v = { s[t][2], s[t][3], s[t][4] } };\n"
          "        host_startle_out out;\n"
          "        int bad = host_startle_step(st, &in, &out);\n"
          "        printf(\"%d %a %d %a %a\\n\", bad, out.arousal, out.startled, out.calm, out.reward);\n"
          "    }\n"
          "    const drive_abi_circuit *r = host_startle_reflect();\n"
          "    printf(\"%s.%s %s\\n\", r->module, r->name, r->source_hash);\n"
          "    free(st);\n"
          "    return 0;\n}\n",
          f);
    assert_int_equal(fclose(f), 0);
    const char *exe = in_tmp("typed");
    /* Warnings are errors: the header must be clean for hosts that build
     * with -Wall -Wextra -pedantic. */
    char *cc[] = { "cc", "-std=c11", "-Wall", "-Wextra", "-pedantic", "-Werror", "-I", tmp, "-o",
                   (char *)exe, (char *)prog, (char *)so, "-Wl,-rpath", tmp, NULL };
    must_run("cc.log", cc);
    char *run_argv[] = { (char *)exe, NULL };
    must_run("typed.out", run_argv);
    char *got = read_text(in_tmp("typed.out"));
    assert_non_null(got);

    /* What the library says the same program should print. */
    char *want = NULL;
    size_t len = 0;
    FILE *w = open_memstream(&want, &len);
    fprintf(w, "in %zu out %zu state %zu %zu params %d\n", drive_in_size(c), drive_out_size(c),
            drive_state_size(c), drive_state_size(c), 2);
    for (uint32_t i = 0; i < drive_n_fields(c); i++) {
        const drive_field *x = drive_field_at(c, i);
        if (x->kind <= DRIVE_ABI_OUTPUT && x->index == 0)
            fprintf(w, "%s %u\n", x->base, x->offset);
    }
    int gain = field(c, "gain"), armed = field(c, "armed");
    fprintf(w, "gain %d armed %d none -1\n", gain - drive_find(c, DRIVE_ABI_PARAM, "gain"),
            armed - drive_find(c, DRIVE_ABI_PARAM, "gain"));
    fprintf(w, "set -1 -1 0\n");
    drive_pop *p = drive_pop_new(c, 1);
    assert_int_equal(drive_set(p, 0, gain, 4), 0);
    fprintf(w, "gain %a\n", drive_get(p, 0, gain));
    for (int t = 0; t < 5; t++) {
        script_tick(p, 0, t);
        size_t bad = drive_step(p, 1);
        fprintf(w, "%zu %a %d %a %a\n", bad, drive_get(p, 0, field(c, "arousal")),
                (int)drive_get(p, 0, field(c, "startled")), drive_get(p, 0, field(c, "calm")),
                drive_get(p, 0, field(c, "reward")));
    }
    fprintf(w, "%s.%s %s\n", drive_module_name(c), drive_circuit_name(c), drive_source_hash(c));
    fclose(w);
    assert_string_equal(got, want);
    free(got);
    free(want);
    drive_pop_free(p);
    drive_circuit_free(c);
}

/* The header opens an extern "C" block for C++: a C++ translation unit
 * must be able to include it. Skipped without a C++ compiler. */
static void test_header_cplusplus(void **state)
{
    (void)state;
    char *probe[] = { "c++", "--version", NULL };
    if (run("cxx.log", probe) != 0)
        skip();
    const char *src = write_file("startle.drive", STARTLE);
    const char *h = in_tmp("startle_cxx.h");
    build_so(src, in_tmp("startle_cxx.so"), h);
    const char *prog = write_file("use.cpp", "#include \"startle_cxx.h\"\n"
                                             "int main()\n{\n"
                                             "    host_startle_in in = {};\n"
                                             "    return (int)sizeof in - 40;\n}\n");
    char *cxx[] = { "c++", "-std=c++11", "-Wall", "-Wextra", "-I", tmp, "-fsyntax-only",
                    (char *)prog, NULL };
    must_run("cxx.log", cxx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_include_path),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_load_relative),
        cmocka_unit_test(test_unknown_circuit),
        cmocka_unit_test(test_reflection),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_set_errors),
        cmocka_unit_test(test_step_and_invalid_inputs),
        cmocka_unit_test(test_pop_reset),
        cmocka_unit_test(test_blocks_and_columns),
        cmocka_unit_test(test_trace_text),
        cmocka_unit_test(test_trace_signals),
        cmocka_unit_test(test_trace_matches_drivec_run),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_cache_imports),
        cmocka_unit_test(test_cache_shared_with_drivec),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_header_cplusplus),
        cmocka_unit_test(test_state_past_the_stack),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
