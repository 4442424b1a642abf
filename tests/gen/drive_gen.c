/* drive_gen.c — print the random program of a seed (tests/gen/gen.h):
 *
 *   drive_gen SEED      the program, to stdout
 *
 * The same seed always gives the same text, so a seed named in a failure
 * report is a complete reproducer. */
#include <stdio.h>
#include <stdlib.h>

#include "gen.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: drive_gen SEED\n");
        return 2;
    }
    char *end;
    unsigned long long seed = strtoull(argv[1], &end, 10);
    if (*end || end == argv[1]) {
        fprintf(stderr, "drive_gen: SEED must be a whole number, not '%s'\n", argv[1]);
        return 2;
    }
    char *p = gen_program(seed, NULL);
    fputs(p, stdout);
    free(p);
    return 0;
}
