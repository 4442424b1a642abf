/* fuzz_data.c — libFuzzer target for the data readers: CSV input traces and
 * checkpoints. The first byte chooses the reader and its options; the rest is
 * the file.
 *
 *   bit 0 clear: a CSV trace, read by rt_csv_parse and, when it reads, run
 *                through a fixed circuit by the interpreter (rt_run maps its
 *                columns to the inputs and reports bad rows and values).
 *   bit 0 set:   a checkpoint, restored by drive_restore into a population of
 *                a fixed circuit (bit 2: DRIVE_RESTORE_BY_NAME; bit 3: a
 *                population of 1 instead of 2). Bit 1 first repairs the
 *                file's size field and checksum, so the fuzzer reaches the
 *                parser behind them. A restore that succeeds is stepped: any
 *                state a valid checksum lets through must be safe to run.
 *
 * With DRIVE_FUZZ_SEEDS=DIR in the environment, the target writes seed
 * checkpoints (in the input format above) to DIR at start-up.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compile.h"
#include "csv.h"
#include "drive.h"
#include "interp.h"
#include "run.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every kind of stored state: params (real, ranged), predictor weights and
 * history, reflex timers, pre() of a bool, a vector. */
static const char SOURCE[] =
    "module fz\n"
    "tick 10 ms\n"
    "circuit cc {\n"
    "  input  cue : vec[2] learned\n"
    "  input  shock : real in [-10, 10]\n"
    "  input  told : bool\n"
    "  param  gain : real in [0, 10] = 2\n"
    "  output guess : real\n"
    "  output alarm : bool\n"
    "  output echo : bool = pre(told)\n"
    "  predictor fear {\n"
    "    context    cue\n"
    "    supervisor shock\n"
    "    rate       0.5\n"
    "    delay      30 ms\n"
    "    defer      told\n"
    "  }\n"
    "  guess = gain * fear\n"
    "  reflex startle = shock > 0.5 for 30 ms refractory 20 ms strength shock\n"
    "  alarm = startle\n"
    "}\n";

static char dir[] = "/tmp/drive-fuzz-data-XXXXXX";
static char ckpt_path[64];
static drive_circuit *circ;
static drive_pop *pops[2]; /* 2 instances, 1 instance */
static compile_result *cr;
static interp *ip;
static rt_circuit rc;

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "fuzz_data: %s: %s\n", what, msg);
    exit(1);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        die(path, "cannot write");
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path, "cannot read");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    unsigned char *buf = malloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n)
        die(path, "cannot read");
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Seed checkpoints: fresh, after some ticks, of one instance, each both as
 * it is and marked for repair. */
static void write_seeds(const char *out_dir)
{
    static const double shocks[] = { 0, 1, 0.2, 0.9, -3, 0, 1, 1 };
    for (int s = 0; s < 3; s++) {
        drive_pop *p = pops[s == 2];
        for (int k = 0; k < s * 4; k++) {
            drive_set(p, 0, drive_find(circ, DRIVE_ABI_INPUT, "shock"), shocks[k % 8]);
            drive_set(p, 0, drive_find(circ, DRIVE_ABI_INPUT, "cue"), k & 1);
            drive_step(p, 1);
        }
        if (drive_save(p, ckpt_path) != 0)
            die("drive_save", drive_last_error());
        size_t len;
        unsigned char *buf = read_file(ckpt_path, &len);
        for (int mode = 0; mode < 2; mode++) {
            unsigned char *seed = malloc(len + 1);
            seed[0] = (unsigned char)(1 | mode << 1 | (s == 2) << 3);
            memcpy(seed + 1, buf, len);
            char path[4096];
            snprintf(path, sizeof path, "%s/ckpt_%d_%d", out_dir, s, mode);
            write_file(path, seed, len + 1);
            free(seed);
        }
        free(buf);
        drive_pop_reset(p, (size_t)-1);
    }
}

static void cleanup(void)
{
    unlink(ckpt_path);
    char src[64];
    snprintf(src, sizeof src, "%s/fz.drive", dir);
    unlink(src);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (!mkdtemp(dir))
        die("mkdtemp", "cannot create a temporary directory");
    atexit(cleanup);
    char src[64];
    snprintf(src, sizeof src, "%s/fz.drive", dir);
    snprintf(ckpt_path, sizeof ckpt_path, "%s/in.ckpt", dir);
    write_file(src, SOURCE, sizeof SOURCE - 1);
    circ = drive_compile(src, NULL, NULL, DRIVE_NO_CACHE);
    if (!circ)
        die("drive_compile", drive_last_error());
    pops[0] = drive_pop_new(circ, 2);
    pops[1] = drive_pop_new(circ, 1);
    if (!pops[0] || !pops[1])
        die("drive_pop_new", drive_last_error());

    compile_opts opts = { .optimize = 1 };
    cr = compile_source("fz.drive", SOURCE, sizeof SOURCE - 1, &opts);
    if (diag_errors(cr->diag) || cr->n_circuits != 1)
        die("compile_source", "the fixed circuit does not compile");
    ip = interp_new(cr->circuits[0]);
    rc = compile_reflect(&cr->mem, cr->circuits[0]);
    interp_bind(&rc, ip);

    const char *seeds = getenv("DRIVE_FUZZ_SEEDS");
    if (seeds)
        write_seeds(seeds);
    return 0;
}

static void ignore(void *ctx, const rt_error *e)
{
    (void)ctx;
    (void)e;
}

static void fuzz_csv(const uint8_t *data, size_t size)
{
    rt_table t = { 0 };
    rt_error err = { 0 };
    if (!rt_csv_parse("fuzz.csv", (const char *)data, size, &t, &err)) {
        rt_csv_free(&t);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    rt_run_opts ro = { .ticks = -1, .in_name = "fuzz.csv", .warn = ignore, .error = ignore,
                       .out = out, .format = RT_OUT_CSV };
    rt_run(&rc, &t, &ro, &err);
    fclose(out);
    free(text);
    rt_csv_free(&t);
}

static void fuzz_checkpoint(unsigned mode, const uint8_t *data, size_t size)
{
    unsigned char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    if ((mode & 2) && size >= 32) {
        /* Repair: the size field (offset 16) and the FNV-1a checksum. */
        uint64_t n = size, h = 14695981039346656037ull;
        for (int i = 0; i < 8; i++)
            buf[16 + i] = (unsigned char)(n >> 8 * i);
        for (size_t i = 0; i < size - 8; i++)
            h = (h ^ buf[i]) * 1099511628211ull;
        for (int i = 0; i < 8; i++)
            buf[size - 8 + i] = (unsigned char)(h >> 8 * i);
    }
    write_file(ckpt_path, buf, size);
    free(buf);
    drive_pop *p = pops[(mode >> 3) & 1];
    if (drive_restore(p, ckpt_path, mode & 4 ? DRIVE_RESTORE_BY_NAME : 0) == 0)
        drive_step(p, 5);
    drive_pop_reset(p, (size_t)-1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & 1)
        fuzz_checkpoint(data[0], data + 1, size - 1);
    else
        fuzz_csv(data + 1, size - 1);
    return 0;
}
