/* host_stub.c — test-only stand-ins for the helpers of the host library that
 * checkpoint.c uses (host_fail, drive_last_error, host_hash), so that the
 * checkpoint tests build and run before runtime/drive.c exists. Link the real
 * library instead once it does; never link both. */
#include <stdarg.h>
#include <stdio.h>

#include "host.h"

static _Thread_local char last_error[4096];

int host_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return -1;
}

const char *drive_last_error(void) { return last_error; }

uint64_t host_hash(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}
