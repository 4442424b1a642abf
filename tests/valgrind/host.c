/* host.c — a small libdrive host for the valgrind sample: loads a shared
 * object built by `drivec build` (no JIT, so valgrind stays fast), steps a
 * population, records a trace, saves and restores a checkpoint, and frees
 * everything, so that any leak or invalid access in libdrive's load, step,
 * trace and checkpoint paths shows.
 *
 *   valgrind_host LIB.so TMPDIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drive.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: valgrind_host LIB.so TMPDIR\n");
        return 2;
    }
    drive_circuit *c = drive_load(argv[1], NULL);
    if (!c) {
        fprintf(stderr, "drive_load: %s\n", drive_last_error());
        return 1;
    }
    /* A missing circuit name fails cleanly too. */
    if (drive_load(argv[1], "no_such_circuit") != NULL)
        return 1;
    drive_pop *p = drive_pop_new(c, 4);
    if (!p)
        return 1;
    char trace[1024], ckpt[1024];
    snprintf(trace, sizeof trace, "%s/valgrind_host.csv", argv[2]);
    snprintf(ckpt, sizeof ckpt, "%s/valgrind_host.ckpt", argv[2]);
    drive_trace *t = drive_trace_open(p, 0, trace, NULL);
    if (!t) {
        fprintf(stderr, "drive_trace_open: %s\n", drive_last_error());
        return 1;
    }
    int rc = 0;
    for (int tick = 0; tick < 200; tick++) {
        for (uint32_t k = 0; k < drive_n_fields(c); k++) {
            const drive_field *f = drive_field_at(c, k);
            if (f->kind == DRIVE_ABI_INPUT)
                for (size_t i = 0; i < 4; i++)
                    drive_set(p, i, (int)k, f->type == DRIVE_ABI_BOOL ? (tick / 7 + i) % 2
                                                                      : (tick % 13) * 0.1);
        }
        drive_step(p, 1);
        drive_trace_record(t);
        if (tick == 100 && drive_save(p, ckpt) != 0) {
            fprintf(stderr, "drive_save: %s\n", drive_last_error());
            rc = 1;
        }
    }
    if (drive_trace_close(t) != 0)
        rc = 1;
    drive_pop *q = drive_pop_new(c, 4);
    if (!q || drive_restore(q, ckpt, 0) != 0) {
        fprintf(stderr, "drive_restore: %s\n", drive_last_error());
        rc = 1;
    }
    /* a checkpoint of another size is refused, and leaves nothing behind */
    drive_pop *w = drive_pop_new(c, 3);
    if (w && drive_restore(w, ckpt, 0) == 0)
        rc = 1;
    drive_pop_free(w);
    drive_pop_free(q);
    drive_pop_free(p);
    drive_circuit_free(c);
    remove(trace);
    remove(ckpt);
    return rc;
}
