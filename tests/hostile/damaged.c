/* damaged.c — libdrive given damaged files: a shared object from
 * `drivec build` cut short, or with any byte changed, must be refused by
 * drive_load with a message, never loaded (the dynamic loader would die of
 * SIGBUS on missing pages, or crash on a damaged header). Damaged checkpoints are tests/unit/test_checkpoint.c's
 * (truncated at every length, corrupted at every byte, hostile lengths).
 *
 * Usage: damaged DRIVEC WORKDIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drive.h"

static const char SOURCE[] = "circuit main {\n"
                             "  input  x : real\n"
                             "  param  g : real = 2\n"
                             "  output y : real = g * x + pre(y)\n"
                             "}\n";

static int failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "damaged: FAILED: %s (%s)\n", what, drive_last_error());
        failures++;
    }
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    unsigned char *b = malloc((size_t)n);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
        perror(path);
        exit(1);
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void write_all(const char *path, const void *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: damaged DRIVEC WORKDIR\n");
        return 2;
    }
    const char *drivec = argv[1], *work = argv[2];
    if (mkdir(work, 0755) != 0 && errno != EEXIST) {
        perror(work);
        return 1;
    }
    char src[4096], so[4096], cut[4096], cmd[16384];
    snprintf(src, sizeof src, "%s/damaged.drive", work);
    snprintf(so, sizeof so, "%s/damaged.so", work);
    snprintf(cut, sizeof cut, "%s/cut.so", work);
    write_all(src, SOURCE, sizeof SOURCE - 1);
    snprintf(cmd, sizeof cmd, "'%s' build --no-cache '%s' -o '%s' >/dev/null", drivec, src, so);
    if (system(cmd) != 0) {
        fprintf(stderr, "damaged: %s failed\n", cmd);
        return 1;
    }

    /* The whole object loads and runs. */
    drive_circuit *c = drive_load(so, NULL);
    check(c != NULL, "the intact object loads");
    if (c) {
        drive_pop *p = drive_pop_new(c, 1);
        drive_set(p, 0, drive_find(c, DRIVE_ABI_INPUT, "x"), 1.5);
        drive_step(p, 2);
        check(drive_get(p, 0, drive_find(c, DRIVE_ABI_OUTPUT, "y")) == 6, "and computes");
        drive_pop_free(p);
        drive_circuit_free(c);
    }

    /* Cut at every length of the headers and the last 256 bytes (the
     * section table), every 7th in between: refused with a message naming
     * the file. */
    size_t len, tried = 0;
    unsigned char *b = read_all(so, &len);
    for (size_t n = 0; n < len; n += n < 2048 || n + 256 >= len ? 1 : 7) {
        tried++;
        write_all(cut, b, n);
        c = drive_load(cut, NULL);
        char what[128];
        if (n + 16 >= len) {
            /* Only (part of) the checksum trailer is gone: the object is
             * whole, and loads as one not written by drivec build would. */
            snprintf(what, sizeof what, "the object without its trailer (%zu of %zu bytes) works",
                     n, len);
            check(c != NULL, what);
        } else {
            snprintf(what, sizeof what, "the object cut to %zu of %zu bytes is refused", n, len);
            check(c == NULL && strstr(drive_last_error(), "cannot load") &&
                      strstr(drive_last_error(), "cut.so"),
                  what);
        }
        if (c)
            drive_circuit_free(c);
    }
    /* One byte changed, anywhere before the checksum trailer (every byte of
     * the headers and of the end, every 13th in between): the checksum
     * refuses it before the dynamic loader sees it. */
    size_t flipped = 0;
    for (size_t i = 0; i + 16 < len; i += i < 2048 || i + 512 >= len ? 1 : 13) {
        flipped++;
        b[i] ^= 0x5a;
        write_all(cut, b, len);
        b[i] ^= 0x5a;
        c = drive_load(cut, NULL);
        char what[128];
        snprintf(what, sizeof what, "the object with byte %zu of %zu changed is refused", i, len);
        check(c == NULL && strstr(drive_last_error(), "checksum"), what);
        if (c)
            drive_circuit_free(c);
    }
    free(b);
    unlink(cut);
    unlink(so);
    unlink(src);
    if (failures)
        return 1;
    printf("damaged: %zu truncations and %zu changed bytes of %zu refused\n", tried, flipped,
           len);
    return 0;
}
