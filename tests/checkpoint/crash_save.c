/* crash_save.c — the crash test of drive_save: a child process saves a large
 * population to one path over and over, each version filled with a pattern
 * derived from its sequence number, and is killed with SIGKILL at random
 * moments. After every kill, and continually while the child is saving, the
 * file at the path must restore and be exactly one whole version: the last
 * one the child reported saved, or the one it was saving when killed (its
 * rename may have landed just before the kill). Versions never go back, and
 * the only other files a kill may leave are the save's temporary files.
 *
 *     crash_save DIR [KILLS [MIB]]     (defaults: 50 kills, 4 MiB of state)
 *
 * Exit status 0 when every check passed; the last line sums up what the
 * kills interrupted. DIR is made if missing; the test works in
 * DIR/crash.ckpt* and dies on any other file there.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host.h"

enum { WORDS = 512, BLOCK = 8 * WORDS }; /* a 4 KiB state block: w[0..511] */

static drive_abi_field fields[WORDS];
static char names[WORDS][16];

static void init(void *s) { memset(s, 0, BLOCK); }
static int step(void *s, const void *in, void *out)
{
    (void)s, (void)in, (void)out;
    return 0;
}

static const drive_abi_circuit big = {
    .abi_version = DRIVE_ABI_VERSION, .n_fields = WORDS, .module = "crash", .name = "big",
    .source_hash = "c0ffee", .tick_seconds = 0.01, .state_size = BLOCK, .n_state = WORDS,
    .fields = fields, .init = init, .step = step,
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "crash_save: FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

/* Version seq: word i of the whole state is the word below, so one word
 * names the version and every other word shows whether it is whole. */
static uint64_t word(uint64_t seq, uint64_t i) { return (seq << 32 | i) ^ 0xa5a5a5a5a5a5a5a5u; }

/* Word k of instance i: in columns (drive_abi.h), at 8 * (k * cols + i). */
static unsigned char *at(const drive_pop *p, size_t k, size_t i)
{
    return p->state + 8 * (k * p->cols + i);
}

static void fill(drive_pop *p, uint64_t seq)
{
    for (size_t k = 0; k < WORDS; k++)
        for (size_t i = 0; i < p->n; i++) {
            uint64_t w = word(seq, k * p->n + i);
            memcpy(at(p, k, i), &w, 8);
        }
}

/* The version the population holds; dies unless it is one whole version. */
static uint64_t version_of(const drive_pop *p, const char *when)
{
    uint64_t w0;
    memcpy(&w0, p->state, 8);
    uint64_t seq = (w0 ^ 0xa5a5a5a5a5a5a5a5u) >> 32;
    for (size_t k = 0; k < WORDS; k++)
        for (size_t i = 0; i < p->n; i++) {
            uint64_t w;
            memcpy(&w, at(p, k, i), 8);
            if (w != word(seq, k * p->n + i))
                die("%s: word %zu of instance %zu belongs to no version %llu (a mixed or damaged "
                    "checkpoint)", when, k, i, (unsigned long long)seq);
        }
    return seq;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* xorshift64*, seeded from the clock: each run kills at other moments (the
 * seed is printed, to replay a failure with CRASH_SEED). */
static uint64_t next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717u;
}

/* Removes the temporary files of killed saves and returns how many there
 * were; dies on any other stranger in the directory. */
static int sweep(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        die("cannot list %s: %s", dir, strerror(errno));
    int tmps = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "crash.ckpt"))
            continue;
        if (strncmp(e->d_name, "crash.ckpt.tmp.", 15) != 0)
            die("unexpected file %s/%s", dir, e->d_name);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) != 0)
            die("cannot remove %s: %s", path, strerror(errno));
        tmps++;
    }
    closedir(d);
    return tmps;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: crash_save DIR [KILLS [MIB]]\n");
        return 2;
    }
    const char *dir = argv[1];
    int kills = argc > 2 ? atoi(argv[2]) : 50;
    int mib = argc > 3 ? atoi(argv[3]) : 4;
    if (kills < 1 || mib < 1)
        die("KILLS and MIB must be at least 1");
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        die("cannot make %s: %s", dir, strerror(errno));
    char path[4096];
    snprintf(path, sizeof path, "%s/crash.ckpt", dir);
    unlink(path);
    sweep(dir);
    signal(SIGPIPE, SIG_DFL); /* a child whose parent is gone dies at its next report */

    for (int i = 0; i < WORDS; i++) {
        snprintf(names[i], sizeof names[i], "w[%d]", i);
        fields[i] = (drive_abi_field){ .name = names[i], .base = "w", .index = (uint32_t)i,
                                       .len = WORDS, .offset = 8 * (uint32_t)i,
                                       .kind = DRIVE_ABI_STATE, .type = DRIVE_ABI_REAL,
                                       .role = DRIVE_ABI_WEIGHT };
    }
    drive_circuit c = { .abi = &big, .origin = "so" };
    size_t n = (size_t)mib * 1024 * 1024 / BLOCK;
    size_t m = drive_abi_columns(n); /* the columns' length */
    drive_pop saver = { .c = &c, .n = n, .cols = m }, reader = { .c = &c, .n = n, .cols = m };
    saver.state = malloc(m * BLOCK);
    reader.state = malloc(m * BLOCK);
    if (!saver.state || !reader.state)
        die("out of memory");

    /* Version 0, saved here: the path always holds a checkpoint from now on.
     * Its duration sets the scale of the random delays. */
    double t0 = now();
    fill(&saver, 0);
    if (drive_save(&saver, path) != 0)
        die("first save: %s", drive_last_error());
    double save_time = now() - t0;
    const char *seed_env = getenv("CRASH_SEED");
    uint64_t seed = seed_env ? strtoull(seed_env, NULL, 0) : (uint64_t)(t0 * 1e9) | 1;
    uint64_t rng = seed;
    printf("crash_save: %d kills, %zu instances of %d bytes (%d MiB), one save takes %.1f ms, "
           "seed %llu\n",
           kills, n, BLOCK, mib, save_time * 1e3, (unsigned long long)seed);

    uint64_t last = 0; /* the newest version known to be at the path */
    long saves = 1, reads = 0;
    int mid_save = 0, landed = 0;
    for (int k = 0; k < kills; k++) {
        int fds[2];
        if (pipe(fds) != 0)
            die("pipe: %s", strerror(errno));
        uint64_t start = last + 1;
        pid_t pid = fork();
        if (pid < 0)
            die("fork: %s", strerror(errno));
        if (pid == 0) {
            close(fds[0]);
            for (uint64_t seq = start;; seq++) {
                fill(&saver, seq);
                if (drive_save(&saver, path) != 0) {
                    fprintf(stderr, "crash_save: child: %s\n", drive_last_error());
                    _exit(3);
                }
                if (write(fds[1], &seq, sizeof seq) != sizeof seq)
                    _exit(4);
            }
        }
        close(fds[1]);

        /* Until the kill, read the checkpoint as a concurrent reader would:
         * always whole, never older than before. */
        double delay = (double)(next(&rng) % 1000) / 1000 * (3 * save_time + 0.002);
        double deadline = now() + delay;
        uint64_t seen = last;
        while (now() < deadline) {
            if (drive_restore(&reader, path, 0) != 0)
                die("kill %d: reading while saving: %s", k, drive_last_error());
            uint64_t v = version_of(&reader, "reading while saving");
            if (v < seen)
                die("kill %d: version %llu read after version %llu", k, (unsigned long long)v,
                    (unsigned long long)seen);
            seen = v;
            reads++;
        }
        kill(pid, SIGKILL);
        int status;
        if (waitpid(pid, &status, 0) != pid)
            die("waitpid: %s", strerror(errno));
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
            die("kill %d: the saver ended by itself (status %d)", k, status);

        uint64_t reported = last, seq;
        ssize_t r;
        while ((r = read(fds[0], &seq, sizeof seq)) == sizeof seq) {
            reported = seq;
            saves++;
        }
        close(fds[0]);

        memset(reader.state, 0, n * BLOCK);
        if (drive_restore(&reader, path, 0) != 0)
            die("kill %d: the checkpoint does not restore: %s", k, drive_last_error());
        uint64_t v = version_of(&reader, "after the kill");
        if (v != reported && v != reported + 1)
            die("kill %d: the checkpoint holds version %llu; the saver had reported %llu", k,
                (unsigned long long)v, (unsigned long long)reported);
        if (v < seen)
            die("kill %d: version %llu after version %llu was read", k, (unsigned long long)v,
                (unsigned long long)seen);
        landed += v == reported + 1; /* renamed, killed before it could report */
        mid_save += sweep(dir) > 0;
        last = v;
    }
    printf("crash_save: ok: %d kills, %ld saves completed, %ld reads while saving; %d kills left "
           "a temporary file (killed mid-save), %d came just after a rename\n",
           kills, saves, reads, mid_save, landed);
    if (mid_save == 0)
        die("no kill landed during a save: the test tested nothing");
    unlink(path);
    free(saver.state);
    free(reader.state);
    return 0;
}
