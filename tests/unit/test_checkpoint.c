/* test_checkpoint.c — checkpoints of populations (drive_save, drive_restore,
 * drive_restore_report; format in runtime/checkpoint_format.md): exact round
 * trips, the byte layout of a small file, refusals of another circuit,
 * another source hash, another layout and another population size, restores
 * by name with their report, and files that are truncated at every length,
 * corrupted at every byte, foreign, newer or hostile (valid checksum, absurd
 * lengths) — each refused with the population left as it was.
 *
 * The circuits are written by hand behind the ABI (drive_abi.h), wrapped in
 * drive_circuit and drive_pop as host.h defines them, so that nothing here
 * depends on the compiler. Populations hold their instances in columns
 * (drive_abi.h); the file holds each instance's own block, so tests read
 * instance blocks with drive_pop_read_block, or address a field of an
 * instance by the ABI's formula (at()), written here from drive_abi.h. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"

/* ---- circuits ----------------------------------------------------------- */

/* alpha: in x; out y; params gain in [0, 20], level in [0, 100], old_gain;
 * state acc, w[0..3], flag (bool). 72-byte state block. */
enum { A_GAIN = 0, A_LEVEL = 8, A_OLD = 16, A_ACC = 24, A_W = 32, A_FLAG = 64, A_SIZE = 72 };

#define REAL_F(nm, b, i, l, k, off, ...)                                                          \
    { .name = nm, .base = b, .index = i, .len = l, .offset = off, .kind = k,                      \
      .type = DRIVE_ABI_REAL, __VA_ARGS__ }
#define BOOL_F(nm, k, off) { .name = nm, .base = nm, .len = 1, .offset = off, .kind = k, .type = DRIVE_ABI_BOOL }

static const drive_abi_field ALPHA_FIELDS[] = {
    REAL_F("x", "x", 0, 1, DRIVE_ABI_INPUT, 0),
    REAL_F("y", "y", 0, 1, DRIVE_ABI_OUTPUT, 0),
    REAL_F("gain", "gain", 0, 1, DRIVE_ABI_PARAM, A_GAIN, .has_range = 1, .lo = 0, .hi = 20, .init = 2),
    REAL_F("level", "level", 0, 1, DRIVE_ABI_PARAM, A_LEVEL, .has_range = 1, .lo = 0, .hi = 100,
           .init = 50),
    REAL_F("old_gain", "old_gain", 0, 1, DRIVE_ABI_PARAM, A_OLD, .init = 1),
    REAL_F("acc", "acc", 0, 1, DRIVE_ABI_STATE, A_ACC),
    REAL_F("w[0]", "w", 0, 4, DRIVE_ABI_STATE, A_W + 0, .role = DRIVE_ABI_WEIGHT),
    REAL_F("w[1]", "w", 1, 4, DRIVE_ABI_STATE, A_W + 8, .role = DRIVE_ABI_WEIGHT),
    REAL_F("w[2]", "w", 2, 4, DRIVE_ABI_STATE, A_W + 16, .role = DRIVE_ABI_WEIGHT),
    REAL_F("w[3]", "w", 3, 4, DRIVE_ABI_STATE, A_W + 24, .role = DRIVE_ABI_WEIGHT),
    BOOL_F("flag", DRIVE_ABI_STATE, A_FLAG),
};
enum { ALPHA_STORED = 9 };

static double rd(const void *blk, size_t off)
{
    double d;
    memcpy(&d, (const unsigned char *)blk + off, sizeof d);
    return d;
}

static void wr(void *blk, size_t off, double d) { memcpy((unsigned char *)blk + off, &d, sizeof d); }

static void alpha_init(void *s)
{
    memset(s, 0, A_SIZE);
    wr(s, A_GAIN, 2);
    wr(s, A_LEVEL, 50);
    wr(s, A_OLD, 1);
}

static int alpha_step(void *s, const void *in, void *out)
{
    double x = rd(in, 0);
    double acc = rd(s, A_ACC) * 0.9 + rd(s, A_GAIN) * x + rd(s, A_LEVEL) * 0.001;
    wr(s, A_ACC, acc);
    for (int k = 0; k < 4; k++)
        wr(s, A_W + 8 * (size_t)k, rd(s, A_W + 8 * (size_t)k) + 0.01 * (k + 1) * (x - acc));
    ((unsigned char *)s)[A_FLAG] = acc > 1;
    wr(out, 0, acc + rd(s, A_W));
    return 0;
}

static const drive_abi_circuit ALPHA;

/* Each instance in turn: gathered out of the columns, stepped, scattered. */
static size_t alpha_step_n(void *s, size_t n, const void *in, void *out)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char st[A_SIZE] = { 0 }, x[8], y[8] = { 0 };
        drive_abi_get_instance(&ALPHA, DRIVE_ABI_STATE, s, n, i, st);
        drive_abi_get_instance(&ALPHA, DRIVE_ABI_INPUT, in, n, i, x);
        alpha_step(st, x, y);
        drive_abi_put_instance(&ALPHA, DRIVE_ABI_STATE, s, n, i, st);
        drive_abi_put_instance(&ALPHA, DRIVE_ABI_OUTPUT, out, n, i, y);
    }
    return 0;
}

#define ALPHA_LIKE(mod, nm, hash, flds)                                                           \
    { .abi_version = DRIVE_ABI_VERSION, .n_fields = sizeof flds / sizeof flds[0], .module = mod,  \
      .name = nm, .source_hash = hash, .tick_seconds = 0.01, .in_size = 8, .out_size = 8,        \
      .state_size = A_SIZE, .n_inputs = 1, .n_outputs = 1, .n_params = 3, .n_state = 6,           \
      .fields = flds, .init = alpha_init, .step = alpha_step, .step_n = alpha_step_n }

#define HASH_A "3f2a9c0d51e7b648"
#define HASH_B "9b1c77e0aa42d305"

static const drive_abi_circuit ALPHA = ALPHA_LIKE("fake", "alpha", HASH_A, ALPHA_FIELDS);
/* The same circuit after its source changed. */
static const drive_abi_circuit ALPHA_EDITED = ALPHA_LIKE("fake", "alpha", HASH_B, ALPHA_FIELDS);
/* Another circuit with the very same layout. */
static const drive_abi_circuit GAMMA = ALPHA_LIKE("fake", "gamma", HASH_B, ALPHA_FIELDS);

/* alpha's name and hash with w[0] and w[1] swapped in the block: a compiler
 * that laid it out differently without the hash saying so. */
static const drive_abi_field ALPHA_SWAPPED_FIELDS[] = {
    REAL_F("x", "x", 0, 1, DRIVE_ABI_INPUT, 0),
    REAL_F("y", "y", 0, 1, DRIVE_ABI_OUTPUT, 0),
    REAL_F("gain", "gain", 0, 1, DRIVE_ABI_PARAM, A_GAIN, .has_range = 1, .lo = 0, .hi = 20, .init = 2),
    REAL_F("level", "level", 0, 1, DRIVE_ABI_PARAM, A_LEVEL, .has_range = 1, .lo = 0, .hi = 100,
           .init = 50),
    REAL_F("old_gain", "old_gain", 0, 1, DRIVE_ABI_PARAM, A_OLD, .init = 1),
    REAL_F("acc", "acc", 0, 1, DRIVE_ABI_STATE, A_ACC),
    REAL_F("w[0]", "w", 0, 4, DRIVE_ABI_STATE, A_W + 8),
    REAL_F("w[1]", "w", 1, 4, DRIVE_ABI_STATE, A_W + 0),
    REAL_F("w[2]", "w", 2, 4, DRIVE_ABI_STATE, A_W + 16),
    REAL_F("w[3]", "w", 3, 4, DRIVE_ABI_STATE, A_W + 24),
    BOOL_F("flag", DRIVE_ABI_STATE, A_FLAG),
};
static const drive_abi_circuit ALPHA_SWAPPED = ALPHA_LIKE("fake", "alpha", HASH_A, ALPHA_SWAPPED_FIELDS);

/* beta: alpha edited — gain kept; level's range narrowed to [0, 10]; acc now
 * a param; old_gain gone; w grown to 6; flag now real; a new bool extra. */
enum { B_GAIN = 0, B_LEVEL = 8, B_ACC = 16, B_W = 24, B_FLAG = 72, B_EXTRA = 80, B_SIZE = 88 };
static const drive_abi_field BETA_FIELDS[] = {
    REAL_F("x", "x", 0, 1, DRIVE_ABI_INPUT, 0),
    REAL_F("gain", "gain", 0, 1, DRIVE_ABI_PARAM, B_GAIN, .has_range = 1, .lo = 0, .hi = 20, .init = 3),
    REAL_F("level", "level", 0, 1, DRIVE_ABI_PARAM, B_LEVEL, .has_range = 1, .lo = 0, .hi = 10,
           .init = 5),
    REAL_F("acc", "acc", 0, 1, DRIVE_ABI_PARAM, B_ACC),
    REAL_F("w[0]", "w", 0, 6, DRIVE_ABI_STATE, B_W + 0),
    REAL_F("w[1]", "w", 1, 6, DRIVE_ABI_STATE, B_W + 8),
    REAL_F("w[2]", "w", 2, 6, DRIVE_ABI_STATE, B_W + 16),
    REAL_F("w[3]", "w", 3, 6, DRIVE_ABI_STATE, B_W + 24),
    REAL_F("w[4]", "w", 4, 6, DRIVE_ABI_STATE, B_W + 32),
    REAL_F("w[5]", "w", 5, 6, DRIVE_ABI_STATE, B_W + 40),
    REAL_F("flag", "flag", 0, 1, DRIVE_ABI_STATE, B_FLAG),
    BOOL_F("extra", DRIVE_ABI_STATE, B_EXTRA),
};

static void beta_init(void *s)
{
    memset(s, 0, B_SIZE);
    wr(s, B_GAIN, 3);
    wr(s, B_LEVEL, 5);
}

static int beta_step(void *s, const void *in, void *out)
{
    (void)s, (void)in, (void)out;
    return 0;
}

static const drive_abi_circuit BETA = {
    .abi_version = DRIVE_ABI_VERSION, .n_fields = sizeof BETA_FIELDS / sizeof BETA_FIELDS[0],
    .module = "fake", .name = "beta", .source_hash = HASH_B, .tick_seconds = 0.01,
    .in_size = 8, .out_size = 0, .state_size = B_SIZE, .n_inputs = 1, .n_params = 3,
    .n_state = 8, .fields = BETA_FIELDS, .init = beta_init, .step = beta_step,
};

/* ---- populations -------------------------------------------------------- */

static drive_circuit *wrap(const drive_abi_circuit *a)
{
    drive_circuit *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->abi = a;
    c->origin = "so";
    return c;
}

static drive_pop *pop_new(const drive_abi_circuit *a, size_t n)
{
    drive_pop *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->c = wrap(a);
    p->c->n_pops = 1;
    p->n = n;
    p->cols = drive_abi_columns(n);
    /* +1: calloc(0) may give NULL, and a circuit may have no outputs */
    p->in = calloc(p->cols * a->in_size + 1, 1);
    p->out = calloc(p->cols * a->out_size + 1, 1);
    p->state = calloc(p->cols * a->state_size + 1, 1);
    assert_true(p->in && p->out && p->state);
    unsigned char *blk = calloc(a->state_size + 1, 1);
    a->init(blk);
    for (size_t i = 0; i < n; i++)
        drive_abi_put_instance(a, DRIVE_ABI_STATE, p->state, n, i, blk);
    free(blk);
    return p;
}

static void pop_free(drive_pop *p)
{
    free(p->in);
    free(p->out);
    free(p->state);
    free(p->c);
    free(p);
}

static size_t state_bytes(const drive_pop *p) { return p->cols * p->c->abi->state_size; }

/* The state field at offset off (a real; a bool with w = 1) of instance i. */
static unsigned char *at(const drive_pop *p, size_t i, size_t off, size_t w)
{
    return p->state + off * p->cols + w * i;
}

/* Every instance's state block end to end, as a file holds them. */
static unsigned char *blocks_of(const drive_pop *p)
{
    size_t size = p->c->abi->state_size;
    unsigned char *b = malloc(p->n * size + 1);
    for (size_t i = 0; i < p->n; i++)
        assert_int_equal(drive_pop_read_block(p, i, DRIVE_ABI_STATE, b + i * size), 0);
    return b;
}

/* splitmix64 */
static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static void fill_random(void *b, size_t len, uint64_t seed)
{
    for (size_t i = 0; i < len; i++)
        ((unsigned char *)b)[i] = (unsigned char)rnd(&seed);
}

/* The three blocks, to show that a failed restore changed nothing, and the
 * state blocks instance by instance. */
typedef struct {
    unsigned char *in, *out, *state;
    size_t ni, no, ns;
    unsigned char *blocks; /* blocks_of */
} snapshot;

static snapshot snap(const drive_pop *p)
{
    const drive_abi_circuit *a = p->c->abi;
    snapshot s = { NULL, NULL, NULL, p->n * a->in_size, p->n * a->out_size, state_bytes(p), NULL };
    s.in = malloc(s.ni + 1);
    s.out = malloc(s.no + 1);
    s.state = malloc(s.ns + 1);
    memcpy(s.in, p->in, s.ni);
    memcpy(s.out, p->out, s.no);
    memcpy(s.state, p->state, s.ns);
    s.blocks = blocks_of(p);
    return s;
}

static int same_as(const drive_pop *p, const snapshot *s)
{
    return memcmp(p->in, s->in, s->ni) == 0 && memcmp(p->out, s->out, s->no) == 0 &&
           memcmp(p->state, s->state, s->ns) == 0;
}

static void snap_free(snapshot *s)
{
    free(s->in);
    free(s->out);
    free(s->state);
    free(s->blocks);
}

/* ---- files -------------------------------------------------------------- */

static char dir[256];

static int group_setup(void **state)
{
    (void)state;
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/drive_ckpt_XXXXXX", t && *t ? t : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            remove_tree(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int group_teardown(void **state)
{
    (void)state;
    remove_tree(dir);
    return 0;
}

static const char *in_dir(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *size = (size_t)len;
    return b;
}

static void write_all(const char *path, const void *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Entries of the test directory other than . and .. */
static int dir_entries(void)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* The format's checksum, written here from checkpoint_format.md rather than
 * taken from the library, so that the two are checked against each other. */
static uint64_t fnv1a(const unsigned char *b, size_t len)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static uint32_t get32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t get64(const unsigned char *b) { return get32(b) | (uint64_t)get32(b + 4) << 32; }

static void set32(unsigned char *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

static void set64(unsigned char *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

/* A valid checksum again after an edit: hostile files are not caught by it. */
static void reseal(unsigned char *b, size_t len) { set64(b + len - 8, fnv1a(b, len - 8)); }

static int contains(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

#define assert_contains(hay, needle)                                                              \
    do {                                                                                          \
        if (!contains((hay), (needle)))                                                           \
            fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));                          \
    } while (0)

/* A restore that must fail, leave p as it was and restore nothing. */
static void refused(drive_pop *p, const char *path, unsigned flags, const char *words)
{
    snapshot s = snap(p);
    assert_int_equal(drive_restore(p, path, flags), -1);
    assert_true(same_as(p, &s));
    assert_string_equal(drive_restore_report(), "");
    assert_true(drive_last_error()[0] != 0);
    if (words)
        assert_contains(drive_last_error(), words);
    snap_free(&s);
}

/* Random states that a by-name restore would carry whole: params in their
 * ranges, bools 0 or 1, every other byte (padding too) random. */
static void fill_valid(drive_pop *p, uint64_t seed)
{
    fill_random(p->state, state_bytes(p), seed);
    for (size_t i = 0; i < p->n; i++) {
        unsigned char s[A_SIZE];
        assert_int_equal(drive_pop_read_block(p, i, DRIVE_ABI_STATE, s), 0);
        wr(s, A_GAIN, (double)(rnd(&seed) % 2001) / 100);
        wr(s, A_LEVEL, (double)(rnd(&seed) % 101));
        s[A_FLAG] = rnd(&seed) & 1;
        assert_int_equal(drive_pop_write_block(p, i, DRIVE_ABI_STATE, s), 0);
    }
}

/* A random population of alpha saved at `name`. */
static drive_pop *saved_alpha(const char *name, size_t n, uint64_t seed)
{
    drive_pop *p = pop_new(&ALPHA, n);
    fill_valid(p, seed);
    assert_int_equal(drive_save(p, in_dir(name)), 0);
    return p;
}

/* Where the first field's entry starts in a file of alpha. */
static size_t alpha_table_at(void)
{
    return 40 + 4 + strlen("fake") + 4 + strlen("alpha") + 4 + strlen(HASH_A);
}

/* ---- round trips -------------------------------------------------------- */

static void test_round_trip_exact(void **state)
{
    (void)state;
    /* every byte random: bools other than 0 or 1, params out of range, NaNs */
    drive_pop *p = pop_new(&ALPHA, 5);
    fill_random(p->state, state_bytes(p), 1);
    assert_int_equal(drive_save(p, in_dir("rt.ckpt")), 0);
    snapshot saved = snap(p);
    fill_random(p->state, state_bytes(p), 2);
    fill_random(p->in, 5 * 8, 3);
    snapshot before = snap(p);
    assert_int_equal(drive_restore(p, in_dir("rt.ckpt"), 0), 0);
    assert_memory_equal(p->state, saved.state, state_bytes(p)); /* bit for bit, padding too */
    assert_memory_equal(p->in, before.in, 5 * 8);               /* only states are restored */
    assert_memory_equal(p->out, before.out, 5 * 8);
    assert_string_equal(drive_restore_report(), "restored 9 fields");
    /* by name into the very same circuit is the same exact restore */
    fill_random(p->state, state_bytes(p), 4);
    assert_int_equal(drive_restore(p, in_dir("rt.ckpt"), DRIVE_RESTORE_BY_NAME), 0);
    assert_memory_equal(p->state, saved.state, state_bytes(p));
    assert_string_equal(drive_restore_report(), "restored 9 fields");

    /* the file: the header, the declared size and the checksum of the format */
    size_t len;
    unsigned char *b = read_all(in_dir("rt.ckpt"), &len);
    assert_memory_equal(b, "DRIVECKP", 8);
    assert_int_equal(get32(b + 8), 1);
    assert_int_equal(get32(b + 12), DRIVE_ABI_VERSION);
    assert_int_equal(get64(b + 16), len);
    assert_int_equal(get64(b + 24), 5);
    assert_int_equal(get32(b + 32), A_SIZE);
    assert_int_equal(get32(b + 36), ALPHA_STORED);
    assert_true(get64(b + len - 8) == fnv1a(b, len - 8));
    /* each instance's own block, gathered out of the columns */
    const unsigned char *data = b + len - 8 - 5 * A_SIZE;
    assert_memory_equal(data, saved.blocks, 5 * A_SIZE);
    for (size_t i = 0; i < 5; i++)
        for (uint32_t f = 0; f < ALPHA.n_fields; f++) {
            const drive_abi_field *fd = &ALPHA_FIELDS[f];
            size_t w = fd->type == DRIVE_ABI_BOOL ? 1 : 8;
            if (fd->kind >= DRIVE_ABI_PARAM)
                assert_memory_equal(data + i * A_SIZE + fd->offset,
                                    saved.state + fd->offset * 5 + w * i, w);
        }
    free(b);
    snap_free(&saved);
    snap_free(&before);
    pop_free(p);
}

/* A restored population goes on exactly as the one that was saved. */
static void test_continues_identically(void **state)
{
    (void)state;
    drive_pop *a = pop_new(&ALPHA, 3), *b = pop_new(&ALPHA, 3);
    for (size_t i = 0; i < 3; i++)
        wr(a->in, i * 8, 0.3 * (double)(i + 1));
    memcpy(b->in, a->in, 3 * 8);
    for (int t = 0; t < 50; t++)
        ALPHA.step_n(a->state, 3, a->in, a->out);
    assert_int_equal(drive_save(a, in_dir("cont.ckpt")), 0);
    assert_int_equal(drive_restore(b, in_dir("cont.ckpt"), 0), 0);
    for (int t = 0; t < 50; t++) {
        ALPHA.step_n(a->state, 3, a->in, a->out);
        ALPHA.step_n(b->state, 3, b->in, b->out);
        assert_memory_equal(a->out, b->out, 3 * 8);
    }
    assert_memory_equal(a->state, b->state, 3 * A_SIZE);
    /* the three instances took different paths: each was restored into its
     * own place in the columns */
    assert_true(rd(at(b, 0, A_ACC, 8), 0) != rd(at(b, 1, A_ACC, 8), 0));
    assert_true(rd(at(b, 1, A_ACC, 8), 0) != rd(at(b, 2, A_ACC, 8), 0));
    pop_free(a);
    pop_free(b);
}

/* The layout of checkpoint_format.md, byte by byte, for a tiny circuit. */
static void test_format_bytes(void **state)
{
    (void)state;
    static const drive_abi_field fields[] = {
        REAL_F("i", "i", 0, 1, DRIVE_ABI_INPUT, 0),
        REAL_F("g", "g", 0, 1, DRIVE_ABI_PARAM, 0),
        { .name = "s", .base = "s", .len = 1, .offset = 8, .kind = DRIVE_ABI_STATE,
          .type = DRIVE_ABI_BOOL, .role = DRIVE_ABI_WEIGHT },
    };
    static const drive_abi_circuit tiny = {
        .abi_version = DRIVE_ABI_VERSION, .n_fields = 3, .module = "m", .name = "cc",
        .source_hash = "h", .in_size = 8, .state_size = 16, .n_inputs = 1, .n_params = 1,
        .n_state = 1, .fields = fields, .init = beta_init, .step = beta_step,
    };
    drive_pop *p = calloc(1, sizeof *p);
    p->c = wrap(&tiny);
    p->n = 1;
    p->cols = 1;
    unsigned char st[16] = { 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 1, 0xaa, 0, 0, 0, 0, 0, 0x55 };
    p->state = st;
    assert_int_equal(drive_save(p, in_dir("tiny.ckpt")), 0);
    static const unsigned char want[] = {
        'D', 'R', 'I', 'V', 'E', 'C', 'K', 'P',             /* magic */
        1, 0, 0, 0,                                         /* format version */
        DRIVE_ABI_VERSION, 0, 0, 0,                         /* ABI version */
        106, 0, 0, 0, 0, 0, 0, 0,                           /* file size */
        1, 0, 0, 0, 0, 0, 0, 0,                             /* instances */
        16, 0, 0, 0,                                        /* state size */
        2, 0, 0, 0,                                         /* fields */
        1, 0, 0, 0, 'm',                                    /* module */
        2, 0, 0, 0, 'c', 'c',                               /* circuit */
        1, 0, 0, 0, 'h',                                    /* source hash */
        0, 0, 0, 0, DRIVE_ABI_PARAM, DRIVE_ABI_REAL, 0, 0,  /* g: offset, kind, type, role, 0 */
        1, 0, 0, 0, 'g',
        8, 0, 0, 0, DRIVE_ABI_STATE, DRIVE_ABI_BOOL, DRIVE_ABI_WEIGHT, 0,
        1, 0, 0, 0, 's',
        0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 1, 0xaa, 0, 0, 0, 0, 0, 0x55, /* the state block */
    };
    size_t len;
    unsigned char *b = read_all(in_dir("tiny.ckpt"), &len);
    assert_int_equal(len, sizeof want + 8);
    assert_memory_equal(b, want, sizeof want);
    assert_true(get64(b + sizeof want) == fnv1a(want, sizeof want));
    assert_true(get64(b + sizeof want) == 0xb85fdd63b10186a1u); /* the example of the page */
    free(b);
    free(p->c);
    free(p);
}

/* A second save replaces the first and leaves no temporary file behind. */
static void test_save_replaces(void **state)
{
    (void)state;
    int before = dir_entries();
    drive_pop *p = saved_alpha("twice.ckpt", 2, 10);
    fill_random(p->state, state_bytes(p), 11);
    snapshot second = snap(p);
    assert_int_equal(drive_save(p, in_dir("twice.ckpt")), 0);
    assert_int_equal(dir_entries(), before + 1);
    fill_random(p->state, state_bytes(p), 12);
    assert_int_equal(drive_restore(p, in_dir("twice.ckpt"), 0), 0);
    assert_memory_equal(p->state, second.state, state_bytes(p));
    snap_free(&second);
    pop_free(p);
}

static void test_save_failures(void **state)
{
    (void)state;
    drive_pop *p = pop_new(&ALPHA, 1);
    assert_int_equal(drive_save(p, in_dir("no/such/dir/x.ckpt")), -1);
    assert_contains(drive_last_error(), "no/such/dir/x.ckpt");
    assert_contains(drive_last_error(), "No such file");
    /* the rename fails (a directory is in the way): the temporary file goes */
    int before = dir_entries();
    assert_int_equal(mkdir(in_dir("a_dir"), 0755), 0);
    assert_int_equal(drive_save(p, in_dir("a_dir")), -1);
    assert_contains(drive_last_error(), "a_dir");
    assert_contains(drive_last_error(), "rename");
    assert_int_equal(dir_entries(), before + 1);
    assert_int_equal(rmdir(in_dir("a_dir")), 0);
    assert_int_equal(drive_save(NULL, in_dir("x")), -1);
    assert_int_equal(drive_save(p, NULL), -1);
    pop_free(p);
}

/* ---- refusals of another circuit ---------------------------------------- */

static void test_other_circuit_refused(void **state)
{
    (void)state;
    drive_pop *p = saved_alpha("alpha.ckpt", 3, 20);
    drive_pop *g = pop_new(&GAMMA, 3);
    fill_random(g->state, state_bytes(g), 21);
    refused(g, in_dir("alpha.ckpt"), 0, "fake.alpha");
    assert_contains(drive_last_error(), "fake.gamma");
    assert_contains(drive_last_error(), HASH_A);
    assert_contains(drive_last_error(), HASH_B);
    assert_contains(drive_last_error(), "alpha.ckpt");
    assert_contains(drive_last_error(), "DRIVE_RESTORE_BY_NAME");
    pop_free(g);
    pop_free(p);
}

static void test_changed_hash_refused(void **state)
{
    (void)state;
    drive_pop *p = saved_alpha("hash.ckpt", 2, 30);
    drive_pop *e = pop_new(&ALPHA_EDITED, 2);
    refused(e, in_dir("hash.ckpt"), 0, "source hash " HASH_A);
    assert_contains(drive_last_error(), "source hash " HASH_B);
    assert_contains(drive_last_error(), "fake.alpha");
    /* by name, every field matches */
    snapshot saved = snap(p);
    assert_int_equal(drive_restore(e, in_dir("hash.ckpt"), DRIVE_RESTORE_BY_NAME), 0);
    assert_string_equal(drive_restore_report(), "restored 9 of 9 fields by name");
    unsigned char *got = blocks_of(e);
    for (size_t i = 0; i < 2; i++)
        for (uint32_t f = 0; f < ALPHA.n_fields; f++) {
            const drive_abi_field *fd = &ALPHA_FIELDS[f];
            if (fd->kind >= DRIVE_ABI_PARAM)
                assert_memory_equal(got + i * A_SIZE + fd->offset,
                                    saved.blocks + i * A_SIZE + fd->offset,
                                    fd->type == DRIVE_ABI_BOOL ? 1 : 8);
        }
    free(got);
    snap_free(&saved);
    pop_free(e);
    pop_free(p);
}

static void test_other_layout_refused(void **state)
{
    (void)state;
    drive_pop *p = saved_alpha("layout.ckpt", 2, 40);
    drive_pop *s = pop_new(&ALPHA_SWAPPED, 2);
    refused(s, in_dir("layout.ckpt"), 0, "lays out its state differently");
    assert_contains(drive_last_error(), "w[0]");
    /* by name, the weights land where this layout keeps them */
    assert_int_equal(drive_restore(s, in_dir("layout.ckpt"), DRIVE_RESTORE_BY_NAME), 0);
    assert_string_equal(drive_restore_report(), "restored 9 of 9 fields by name");
    assert_memory_equal(at(s, 0, A_W + 8, 8), at(p, 0, A_W, 8), 8);
    assert_memory_equal(at(s, 1, A_W, 8), at(p, 1, A_W + 8, 8), 8);
    pop_free(s);
    pop_free(p);
}

static void test_population_size_refused(void **state)
{
    (void)state;
    drive_pop *p = saved_alpha("three.ckpt", 3, 50);
    drive_pop *two = pop_new(&ALPHA, 2), *four = pop_new(&ALPHA, 4), *b2 = pop_new(&BETA, 2);
    refused(two, in_dir("three.ckpt"), 0, "holds 3 instances");
    assert_contains(drive_last_error(), "has 2");
    refused(four, in_dir("three.ckpt"), DRIVE_RESTORE_BY_NAME, "has 4");
    refused(b2, in_dir("three.ckpt"), DRIVE_RESTORE_BY_NAME, "holds 3 instances");
    pop_free(two);
    pop_free(four);
    pop_free(b2);
    pop_free(p);
}

/* ---- by name ------------------------------------------------------------ */

static void test_by_name_partial(void **state)
{
    (void)state;
    drive_pop *p = pop_new(&ALPHA, 2);
    for (size_t i = 0; i < 2; i++) {
        unsigned char s[A_SIZE] = { 0 };
        wr(s, A_GAIN, 7.5 + (double)i);
        wr(s, A_LEVEL, 50); /* outside beta's [0, 10] */
        wr(s, A_OLD, -1);
        wr(s, A_ACC, 0.25);
        for (int k = 0; k < 4; k++)
            wr(s, A_W + 8 * (size_t)k, 0.1 * k + (double)i);
        s[A_FLAG] = 1;
        assert_int_equal(drive_pop_write_block(p, i, DRIVE_ABI_STATE, s), 0);
    }
    assert_int_equal(drive_save(p, in_dir("byname.ckpt")), 0);
    drive_pop *b = pop_new(&BETA, 2);
    fill_random(b->state, state_bytes(b), 60);
    snapshot before = snap(b);

    refused(b, in_dir("byname.ckpt"), 0, "fake.alpha");
    assert_int_equal(drive_restore(b, in_dir("byname.ckpt"), DRIVE_RESTORE_BY_NAME), 0);
    assert_string_equal(drive_restore_report(),
                        "restored 5 of 11 fields by name; kept as they were: w[4], w[5], extra "
                        "(not in the checkpoint); acc (a state slot in the checkpoint); flag (a "
                        "bool in the checkpoint); level (saved outside the range declared here); "
                        "ignored from the checkpoint: old_gain");
    unsigned char *now = blocks_of(b), *was = blocks_of(p);
    for (size_t i = 0; i < 2; i++) {
        const unsigned char *s = now + i * B_SIZE, *o = before.blocks + i * B_SIZE;
        const unsigned char *from = was + i * A_SIZE;
        assert_memory_equal(s + B_GAIN, from + A_GAIN, 8);
        assert_memory_equal(s + B_W, from + A_W, 32); /* w[0..3] */
        assert_memory_equal(s + B_LEVEL, o + B_LEVEL, 8);
        assert_memory_equal(s + B_ACC, o + B_ACC, 8);
        assert_memory_equal(s + B_W + 32, o + B_W + 32, 16); /* w[4], w[5] */
        assert_memory_equal(s + B_FLAG, o + B_FLAG, 8);
        assert_memory_equal(s + B_EXTRA, o + B_EXTRA, B_SIZE - B_EXTRA); /* and the padding */
    }
    free(now);
    free(was);

    /* with level inside beta's range in every instance, level comes too */
    wr(at(p, 0, A_LEVEL, 8), 0, 10);
    wr(at(p, 1, A_LEVEL, 8), 0, 0);
    assert_int_equal(drive_save(p, in_dir("byname.ckpt")), 0);
    assert_int_equal(drive_restore(b, in_dir("byname.ckpt"), DRIVE_RESTORE_BY_NAME), 0);
    assert_contains(drive_restore_report(), "restored 6 of 11 fields by name;");
    assert_false(contains(drive_restore_report(), "level"));
    assert_true(rd(at(b, 0, B_LEVEL, 8), 0) == 10 && rd(at(b, 1, B_LEVEL, 8), 0) == 0);
    /* NaN is in no range */
    wr(at(p, 1, A_LEVEL, 8), 0, NAN);
    assert_int_equal(drive_save(p, in_dir("byname.ckpt")), 0);
    assert_int_equal(drive_restore(b, in_dir("byname.ckpt"), DRIVE_RESTORE_BY_NAME), 0);
    assert_contains(drive_restore_report(), "level (saved outside the range declared here)");

    snap_free(&before);
    pop_free(b);
    pop_free(p);
}

/* A bool byte other than 0 or 1 is restored bit for bit into the same
 * circuit, but not carried by name into another one. */
static void test_by_name_bad_bool(void **state)
{
    (void)state;
    drive_pop *p = pop_new(&ALPHA, 1);
    p->state[A_FLAG] = 2;
    assert_int_equal(drive_save(p, in_dir("bool.ckpt")), 0);
    p->state[A_FLAG] = 0;
    assert_int_equal(drive_restore(p, in_dir("bool.ckpt"), 0), 0);
    assert_int_equal(p->state[A_FLAG], 2);
    drive_pop *e = pop_new(&ALPHA_EDITED, 1);
    assert_int_equal(drive_restore(e, in_dir("bool.ckpt"), DRIVE_RESTORE_BY_NAME), 0);
    assert_string_equal(drive_restore_report(),
                        "restored 8 of 9 fields by name; kept as they were: flag (saved as "
                        "neither 0 nor 1)");
    assert_int_equal(e->state[A_FLAG], 0);
    pop_free(e);
    pop_free(p);
}

/* Long lists end with "and N more". */
static void test_by_name_long_report(void **state)
{
    (void)state;
    enum { N = 100 };
    static drive_abi_field fields[N];
    static char names[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "w[%d]", i);
        fields[i] = (drive_abi_field){ .name = names[i], .base = "w", .index = (uint32_t)i,
                                       .len = N, .offset = 8 * (uint32_t)i,
                                       .kind = DRIVE_ABI_STATE, .type = DRIVE_ABI_REAL };
    }
    static const drive_abi_circuit wide = {
        .abi_version = DRIVE_ABI_VERSION, .n_fields = N, .module = "fake", .name = "wide",
        .source_hash = "w", .state_size = 8 * N, .n_state = N, .fields = fields,
        .init = beta_init, .step = beta_step,
    };
    drive_pop *p = saved_alpha("wide.ckpt", 1, 70);
    drive_pop *w = calloc(1, sizeof *w);
    w->c = wrap(&wide);
    w->n = 1;
    w->cols = 1;
    w->state = calloc(8 * N, 1);
    assert_int_equal(drive_restore(w, in_dir("wide.ckpt"), DRIVE_RESTORE_BY_NAME), 0);
    assert_string_equal(drive_restore_report(),
                        "restored 4 of 100 fields by name; kept as they were: w[4], w[5], w[6], "
                        "w[7], w[8], w[9], w[10], w[11], w[12], w[13], w[14], w[15], w[16], "
                        "w[17], w[18], w[19] and 80 more (not in the checkpoint); ignored from "
                        "the checkpoint: gain, level, old_gain, acc, flag");
    assert_memory_equal(w->state, p->state + A_W, 32);
    free(w->state);
    free(w->c);
    free(w);
    pop_free(p);
}

/* Long names: the report stays within its buffer and says it was cut. */
static void test_by_name_report_bounded(void **state)
{
    (void)state;
    enum { N = 20, LEN = 1000 };
    static drive_abi_field fields[N];
    static char names[N][LEN + 1];
    for (int i = 0; i < N; i++) {
        memset(names[i], 'a' + i, LEN);
        fields[i] = (drive_abi_field){ .name = names[i], .base = names[i], .len = 1,
                                       .offset = 8 * (uint32_t)i, .kind = DRIVE_ABI_STATE,
                                       .type = DRIVE_ABI_REAL };
    }
    static const drive_abi_circuit longnames = {
        .abi_version = DRIVE_ABI_VERSION, .n_fields = N, .module = "fake", .name = "long",
        .source_hash = "l", .state_size = 8 * N, .n_state = N, .fields = fields,
        .init = beta_init, .step = beta_step,
    };
    drive_pop *p = saved_alpha("long.ckpt", 1, 75);
    drive_pop *l = calloc(1, sizeof *l);
    l->c = wrap(&longnames);
    l->n = 1;
    l->cols = 1;
    l->state = calloc(8 * N, 1);
    assert_int_equal(drive_restore(l, in_dir("long.ckpt"), DRIVE_RESTORE_BY_NAME), 0);
    const char *r = drive_restore_report();
    assert_int_equal(strlen(r), 8191);
    assert_memory_equal(r, "restored 0 of 20 fields by name; kept as they were: aaaa", 56);
    assert_string_equal(r + 8188, "...");
    free(l->state);
    free(l->c);
    free(l);
    pop_free(p);
}

/* ---- damaged and foreign files ------------------------------------------ */

static void test_truncated_every_length(void **state)
{
    (void)state;
    drive_pop *p = saved_alpha("whole.ckpt", 2, 80);
    size_t len;
    unsigned char *b = read_all(in_dir("whole.ckpt"), &len);
    fill_random(p->state, state_bytes(p), 81);
    for (size_t cut = 0; cut < len; cut++) {
        write_all(in_dir("cut.ckpt"), b, cut);
        refused(p, in_dir("cut.ckpt"), 0, "truncated");
        refused(p, in_dir("cut.ckpt"), DRIVE_RESTORE_BY_NAME, "truncated");
    }
    free(b);
    pop_free(p);
}

static void test_every_byte_corrupted(void **state)
{
    (void)state;
    drive_pop *p = saved_alpha("good.ckpt", 2, 90);
    size_t len;
    unsigned char *b = read_all(in_dir("good.ckpt"), &len);
    fill_random(p->state, state_bytes(p), 91);
    static const unsigned char flips[] = { 0x01, 0x80, 0xff, 0x5a };
    int by_checksum = 0;
    for (size_t i = 0; i < len; i++)
        for (size_t f = 0; f < sizeof flips; f++) {
            b[i] ^= flips[f];
            write_all(in_dir("bad.ckpt"), b, len);
            refused(p, in_dir("bad.ckpt"), f & 1 ? DRIVE_RESTORE_BY_NAME : 0, NULL);
            by_checksum += contains(drive_last_error(), "checksum");
            b[i] ^= flips[f];
        }
    /* everything but the magic, the version and the size is the checksum's */
    assert_int_equal(by_checksum, (int)(len - 20) * (int)sizeof flips);
    free(b);
    pop_free(p);
}

static void test_bad_magic(void **state)
{
    (void)state;
    drive_pop *p = saved_alpha("magic.ckpt", 1, 100);
    write_all(in_dir("text.ckpt"), "gain,level\n1,2\n", 15);
    refused(p, in_dir("text.ckpt"), 0, "not a drive checkpoint");
    write_all(in_dir("short.ckpt"), "DRX", 3);
    refused(p, in_dir("short.ckpt"), 0, "not a drive checkpoint");
    write_all(in_dir("empty.ckpt"), "", 0);
    refused(p, in_dir("empty.ckpt"), 0, "truncated");
    size_t len;
    unsigned char *b = read_all(in_dir("magic.ckpt"), &len);
    memcpy(b, "DRIVECKQ", 8);
    reseal(b, len);
    write_all(in_dir("magic2.ckpt"), b, len);
    refused(p, in_dir("magic2.ckpt"), DRIVE_RESTORE_BY_NAME, "not a drive checkpoint");
    free(b);
    pop_free(p);
}

static void test_future_version(void **state)
{
    (void)state;
    drive_pop *p = saved_alpha("v.ckpt", 1, 110);
    size_t len;
    unsigned char *b = read_all(in_dir("v.ckpt"), &len);
    set32(b + 8, 2);
    reseal(b, len);
    write_all(in_dir("v2.ckpt"), b, len);
    refused(p, in_dir("v2.ckpt"), 0, "format version 2 is newer than this library reads (version 1)");
    set32(b + 8, 0);
    reseal(b, len);
    write_all(in_dir("v0.ckpt"), b, len);
    refused(p, in_dir("v0.ckpt"), 0, "unknown checkpoint format version 0");
    free(b);
    pop_free(p);
}

/* A file saved under ABI version 1 (populations end to end in memory) holds
 * the very same data: it restores exactly into a circuit of version 2. Any
 * other version is another layout. */
static void test_abi_version_1_restores(void **state)
{
    (void)state;
    drive_pop *p = saved_alpha("abi.ckpt", 3, 115);
    snapshot saved = snap(p);
    size_t len;
    unsigned char *b = read_all(in_dir("abi.ckpt"), &len);
    assert_int_equal(get32(b + 12), DRIVE_ABI_VERSION);
    set32(b + 12, 1);
    reseal(b, len);
    write_all(in_dir("abi1.ckpt"), b, len);
    fill_random(p->state, state_bytes(p), 116);
    assert_int_equal(drive_restore(p, in_dir("abi1.ckpt"), 0), 0);
    assert_string_equal(drive_restore_report(), "restored 9 fields");
    assert_memory_equal(p->state, saved.state, state_bytes(p));
    assert_memory_equal(b + len - 8 - 3 * A_SIZE, saved.blocks, 3 * A_SIZE);

    set32(b + 12, 3);
    reseal(b, len);
    write_all(in_dir("abi3.ckpt"), b, len);
    refused(p, in_dir("abi3.ckpt"), 0, "saved with ABI version 3, the circuit has 2");
    free(b);
    snap_free(&saved);
    pop_free(p);
}

static void test_not_a_file(void **state)
{
    (void)state;
    drive_pop *p = pop_new(&ALPHA, 1);
    refused(p, in_dir("missing.ckpt"), 0, "missing.ckpt");
    assert_contains(drive_last_error(), "No such file");
    refused(p, dir, 0, "not a regular file");
    assert_int_equal(drive_save(p, in_dir("flags.ckpt")), 0);
    refused(p, in_dir("flags.ckpt"), 4, "unknown flags");
    assert_int_equal(drive_restore(NULL, in_dir("flags.ckpt"), 0), -1);
    assert_string_equal(drive_restore_report(), "");
    assert_int_equal(drive_restore(p, NULL, 0), -1);
    pop_free(p);
}

/* A file edited at one place, sealed with a valid checksum, must be refused
 * with words naming the problem. */
typedef struct {
    size_t at;   /* where the edit goes (from the start; see alpha_table_at) */
    int width;   /* 1, 4 or 8 bytes */
    uint64_t value;
    const char *words;
} edit;

static void hostile(drive_pop *p, const unsigned char *good, size_t len, const edit *e,
                    unsigned flags)
{
    unsigned char *b = malloc(len);
    memcpy(b, good, len);
    if (e->width == 1)
        b[e->at] = (unsigned char)e->value;
    else if (e->width == 4)
        set32(b + e->at, (uint32_t)e->value);
    else
        set64(b + e->at, e->value);
    reseal(b, len);
    write_all(in_dir("hostile.ckpt"), b, len);
    refused(p, in_dir("hostile.ckpt"), flags, e->words);
    free(b);
}

static void test_hostile_files(void **state)
{
    (void)state;
    drive_pop *p = saved_alpha("src.ckpt", 2, 120);
    size_t len;
    unsigned char *good = read_all(in_dir("src.ckpt"), &len);
    fill_random(p->state, state_bytes(p), 121);
    size_t t = alpha_table_at(); /* first field: offset, kind, type, role, 0, name length, name */
    size_t second = t + 12 + strlen("gain");
    const edit edits[] = {
        { 40, 4, 0xffffffffu, "the module name is 4294967295 bytes long (at most 65536)" },
        { 40, 4, 65536, "the module name (65536 bytes) runs past the end" },
        { 40 + 4 + 4, 4, 0x80000000u, "the circuit name is 2147483648 bytes long" },
        { t + 8, 4, 0xffffffffu, "the name of field 0 is 4294967295 bytes long" },
        { second + 8, 4, 60000, "the name of field 1 (60000 bytes) runs past the end" },
        { 36, 4, 0xffffffffu, "4294967295 fields declared, more than" },
        { 36, 4, 10, "malformed checkpoint" }, /* the state data read as a table */
        { 36, 4, 8, "do not fill" },
        { 24, 8, UINT64_MAX, "18446744073709551615 instances of 72 bytes do not fill" },
        { 24, 8, 1ull << 61, "instances of 72 bytes do not fill" },
        { 24, 8, 0, "0 instances of 72 bytes do not fill" },
        { 32, 4, 0xffffffffu, "do not fill" },
        { 32, 4, 0, "field 0 (gain) at offset 0 lies outside the 0-byte state block" },
        { 32, 4, 64, "field 8 (flag) at offset 64 lies outside the 64-byte state block" },
        { t, 4, 0xfffffff9u, "field 0 (gain) at offset 4294967289 lies outside" },
        { t + 4, 1, 7, "field 0 (gain) has kind 7" },
        { t + 4, 1, DRIVE_ABI_INPUT, "field 0 (gain) has kind 0" },
        { t + 5, 1, 9, "field 0 (gain) has type 9" },
        { t + 7, 1, 1, "field 0 (gain) has a reserved byte of 1" },
        { 40 + 4 + 1, 1, 0, "the module name holds a NUL byte" },
        { t + 12, 1, 0, "the name of field 0 holds a NUL byte" },
        { 16, 8, 40, "its header declares 40)" },
        { 16, 8, UINT64_MAX, "truncated" },
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        hostile(p, good, len, &edits[i], 0);
        hostile(p, good, len, &edits[i], DRIVE_RESTORE_BY_NAME);
    }

    /* w[1] renamed w[0]: a table naming a field twice */
    size_t w1 = alpha_table_at();
    const char *names[] = { "gain", "level", "old_gain", "acc", "w[0]" };
    for (size_t i = 0; i < 5; i++)
        w1 += 12 + strlen(names[i]);
    assert_memory_equal(good + w1 + 12, "w[1]", 4);
    const edit dup = { w1 + 12 + 2, 1, '0', "lays out its state differently" };
    hostile(p, good, len, &dup, 0);
    const edit dup2 = { w1 + 12 + 2, 1, '0', "field w[0] is listed twice" };
    hostile(p, good, len, &dup2, DRIVE_RESTORE_BY_NAME);

    /* a header alone, declaring its own size: no room for the checksum */
    unsigned char head[40];
    memcpy(head, good, 40);
    set64(head + 16, 40);
    write_all(in_dir("head.ckpt"), head, 40);
    refused(p, in_dir("head.ckpt"), 0, "corrupted");
    /* a byte too many */
    unsigned char *longer = malloc(len + 1);
    memcpy(longer, good, len);
    longer[len] = 0;
    write_all(in_dir("long.ckpt"), longer, len + 1);
    refused(p, in_dir("long.ckpt"), 0, "its header declares");
    free(longer);
    free(good);
    pop_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_exact),
        cmocka_unit_test(test_continues_identically),
        cmocka_unit_test(test_format_bytes),
        cmocka_unit_test(test_save_replaces),
        cmocka_unit_test(test_save_failures),
        cmocka_unit_test(test_other_circuit_refused),
        cmocka_unit_test(test_changed_hash_refused),
        cmocka_unit_test(test_other_layout_refused),
        cmocka_unit_test(test_population_size_refused),
        cmocka_unit_test(test_by_name_partial),
        cmocka_unit_test(test_by_name_bad_bool),
        cmocka_unit_test(test_by_name_long_report),
        cmocka_unit_test(test_by_name_report_bounded),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_every_byte_corrupted),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_future_version),
        cmocka_unit_test(test_abi_version_1_restores),
        cmocka_unit_test(test_not_a_file),
        cmocka_unit_test(test_hostile_files),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
