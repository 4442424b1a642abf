/* bench_repl.c — REPL latency: from a circuit's text entered in a session to
 * a callable step function.
 *
 * A session loads std.core and std.social (the stdlib, 18 circuits), then
 * enters each stdlib circuit again under a new name, as a user does when
 * trying out a variant, and forgets it afterwards so the session stays the
 * same size. Each entry is timed from the text to JIT-compiled code (the
 * REPL's own measure: checking the whole session, lowering with probes,
 * JIT); the first entry of the process is reported apart from the rest.
 * Prints the median and the 90th percentile per module and overall.
 *
 *   bench_repl [--quick] [STDLIB_DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "repl.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int k = (int)(p * (n - 1) + 0.5);
    return v[k];
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b)
        b[n] = 0;
    fclose(f);
    return b;
}

/* The circuits of a module file: "circuit NAME {" at a line start up to the
 * "}" that starts a line. */
static int circuits(char *text, char **body, char **name, int max)
{
    int n = 0;
    for (char *p = text; (p = strstr(p, "\ncircuit ")) && n < max;) {
        p++;
        char *end = strstr(p, "\n}");
        if (!end)
            break;
        body[n] = strndup(p, (size_t)(end + 2 - p));
        char *nm = p + strlen("circuit ");
        name[n] = strndup(nm, strcspn(nm, " {"));
        n++;
        p = end + 2;
    }
    return n;
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && !strcmp(argv[1], "--quick");
    const char *dir = argc > 1 + quick ? argv[1 + quick] : "stdlib";
    int reps = quick ? 1 : 15;
    FILE *null = fopen("/dev/null", "w");
    repl_opts o = { .out = null, .err = stderr };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    repl *r = repl_new(&o);
    if (!r)
        return 1;
    const char *mods[] = { "core", "social" };
    char *body[2][32], *name[2][32];
    int nc[2];
    for (int m = 0; m < 2; m++) {
        char path[4096], cmd[4200];
        snprintf(path, sizeof path, "%s/std/%s.drive", dir, mods[m]);
        snprintf(cmd, sizeof cmd, ":load %s", path);
        char *text = slurp(path);
        if (!text || repl_eval(r, cmd) != REPL_OK) {
            fprintf(stderr, "bench_repl: cannot load %s\n", path);
            return 1;
        }
        nc[m] = circuits(text, body[m], name[m], 32);
        free(text);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double load_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-6;

    double *all = malloc(sizeof(double) * (size_t)reps * 64), *per[2];
    int n_all = 0, n_per[2] = { 0, 0 };
    double first = -1;
    for (int m = 0; m < 2; m++)
        per[m] = malloc(sizeof(double) * (size_t)reps * 32);
    for (int k = 0; k < reps; k++)
        for (int m = 0; m < 2; m++)
            for (int i = 0; i < nc[m]; i++) {
                /* The same circuit under a fresh name: new code, same size. */
                char fresh[128];
                snprintf(fresh, sizeof fresh, "%s_try%d", name[m][i], k);
                size_t len = strlen(body[m][i]) + 64;
                char *text = malloc(len);
                snprintf(text, len, "circuit %s%s", fresh,
                         body[m][i] + strlen("circuit ") + strlen(name[m][i]));
                if (repl_eval(r, text) != REPL_OK) {
                    fprintf(stderr, "bench_repl: %s did not compile\n", fresh);
                    return 1;
                }
                double ms = repl_last_ms(r);
                if (first < 0)
                    first = ms;
                else {
                    all[n_all++] = ms;
                    per[m][n_per[m]++] = ms;
                }
                char forget[160];
                snprintf(forget, sizeof forget, ":forget %s", fresh);
                repl_eval(r, forget);
                free(text);
            }
    printf("REPL latency: circuit text -> callable step function (%d entries, session of %d "
           "stdlib circuits)\n", n_all + 1, nc[0] + nc[1]);
    printf("  %-28s %9.2f ms\n", "start + load the stdlib", load_ms);
    printf("  %-28s %9.2f ms\n", "first entry", first);
    for (int m = 0; m < 2; m++)
        if (n_per[m])
            printf("  %-28s %9.2f ms median, %6.2f ms p90\n",
                   m ? "std.social circuits" : "std.core circuits", pct(per[m], n_per[m], 0.5),
                   pct(per[m], n_per[m], 0.9));
    if (n_all)
        printf("  %-28s %9.2f ms median, %6.2f ms p90\n", "every entry after the first",
               pct(all, n_all, 0.5), pct(all, n_all, 0.9));
    repl_free(r);
    fclose(null);
    for (int m = 0; m < 2; m++) {
        for (int i = 0; i < nc[m]; i++)
            free(body[m][i]), free(name[m][i]);
        free(per[m]);
    }
    free(all);
    return 0;
}
