/* typed.c — the same circuit through the typed C API of the header that
 * `drivec build --header` writes: input and output structs, init and step
 * functions, params by name. Linked against the shared object like any
 * library; no reflection, no libdrive.
 *
 * Three instances with different thresholds see the same rising face, one
 * tick at a time through the population entry point (step_n): the lower the
 * threshold, the earlier the reflex fires. A population's blocks are in
 * columns (one array per field, drive_abi.h); drive_abi_put_instance and
 * drive_abi_get_instance move one instance's typed block in and out.
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
    const drive_abi_circuit *ref = social_attention_social_attention_reflect();
    /* The population's states: STATE_SIZE bytes per instance, in columns;
     * params live in them, one set per instance. */
    unsigned char *states = calloc(N, social_attention_social_attention_STATE_SIZE);
    if (!states)
        return 1;
    int threshold = social_attention_social_attention_param_index("threshold");
    for (int i = 0; i < N; i++) {
        _Alignas(8) unsigned char st[social_attention_social_attention_STATE_SIZE];
        social_attention_social_attention_init(st);
        /* param_set checks the value against the declared range. */
        if (social_attention_social_attention_param_set(st, threshold, thresholds[i]) != 0)
            return 1;
        drive_abi_put_instance(ref, DRIVE_ABI_STATE, states, N, (size_t)i, st);
    }

    printf("           | attending           | arousal\n");
    printf("tick  face | thr");
    for (int i = 0; i < N; i++)
        printf(" %4.1f", thresholds[i]);
    printf(" | thr");
    for (int i = 0; i < N; i++)
        printf(" %5.1f", thresholds[i]);
    printf("\n");
    sa_in in_cols[N];   /* room for N blocks, in columns */
    sa_out out_cols[N];
    sa_out out[N];      /* each instance's outputs, read back */
    for (int tick = 0; tick < 16; tick++) {
        double face = tick / 15.0; /* a face slowly coming into view */
        for (int i = 0; i < N; i++) {
            sa_in x = { .face = face, .voice = 0, .eye_contact = 0 };
            drive_abi_put_instance(ref, DRIVE_ABI_INPUT, in_cols, N, (size_t)i, &x);
        }
        size_t invalid = social_attention_social_attention_step_n(states, N, in_cols, out_cols);
        for (int i = 0; i < N; i++)
            drive_abi_get_instance(ref, DRIVE_ABI_OUTPUT, out_cols, N, (size_t)i, &out[i]);
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
