/* typed.c — the same circuit through the typed C API of the header that
 * `drivec build --header` writes: input and output structs, init and step
 * functions, params by name. Linked against the shared object like any
 * library; no reflection, no libdrive.
 *
 * Three instances with different thresholds see the same rising face, one
 * tick at a time through the population entry point (step_n): the lower the
 * threshold, the earlier the reflex fires.
 */
#include <stdio.h>
#include <stdlib.h>

#include "social_attention.h"

/* The names get long: module and circuit are both "social_attention". */
typedef social_attention_social_attention_in sa_in;
typedef social_attention_social_attention_out sa_out;

enum { N = 3 };

int main(void)
{
    static const double thresholds[N] = { 0.2, 0.4, 0.6 };
    /* States are opaque blocks of STATE_SIZE bytes, 8-byte aligned, end to
     * end for a population; params live in them, one set per instance. */
    unsigned char *states = calloc(N, social_attention_social_attention_STATE_SIZE);
    if (!states)
        return 1;
    int threshold = social_attention_social_attention_param_index("threshold");
    for (int i = 0; i < N; i++) {
        void *st = states + (size_t)i * social_attention_social_attention_STATE_SIZE;
        social_attention_social_attention_init(st);
        /* param_set checks the value against the declared range. */
        if (social_attention_social_attention_param_set(st, threshold, thresholds[i]) != 0)
            return 1;
    }

    printf("           | attending           | arousal\n");
    printf("tick  face | thr");
    for (int i = 0; i < N; i++)
        printf(" %4.1f", thresholds[i]);
    printf(" | thr");
    for (int i = 0; i < N; i++)
        printf(" %5.1f", thresholds[i]);
    printf("\n");
    sa_in in[N];
    sa_out out[N];
    for (int tick = 0; tick < 16; tick++) {
        double face = tick / 15.0; /* a face slowly coming into view */
        for (int i = 0; i < N; i++)
            in[i] = (sa_in){ .face = face, .voice = 0, .eye_contact = 0 };
        size_t invalid = social_attention_social_attention_step_n(states, N, in, out);
        printf("%4d  %4.2f |", tick, face);
        printf("    ");
        for (int i = 0; i < N; i++)
            printf(" %4s", out[i].attending ? "yes" : "-");
        printf(" |    ");
        for (int i = 0; i < N; i++)
            printf(" %5.3f", out[i].arousal);
        printf("%s\n", invalid ? "  (invalid input)" : "");
    }
    free(states);
    return 0;
}
