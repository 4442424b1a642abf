/* fuzz_frontend.c — libFuzzer target for the front end: any bytes as a
 * source file, through lexing, parsing, imports, checks, lowering, the IR
 * passes and the checks of scenarios (as `drivec check`), to printed
 * diagnostics. Whatever the input, the compiler must answer with diagnostics
 * (or none) without crashing, hanging or leaking.
 *
 * The file is named as if it lived in a directory that does not exist, so an
 * `import` the fuzzer writes looks only on the search path (the stdlib), never
 * in the working directory.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "compile.h"
#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    compile_opts opts = { .optimize = 1 };
    compile_result *r = compile_source("/nonexistent/fuzz.drive", (const char *)data, size, &opts);
    if (!diag_errors(r->diag) && r->sema && r->ast->n_scenarios) {
        /* What `drivec check` does next: check every scenario, run none. */
        FILE *out = fopen("/dev/null", "w");
        compile_opts copts = { .optimize = 0 };
        scn_options so = { .out = out, .check_only = 1 };
        scn_totals t = { 0 };
        scn_run_file(r, &copts, &so, &t);
        fclose(out);
    }
    /* Printing exercises the caret and source-line code on every error. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f) {
        diag_flush(r->diag, f, size & 1); /* colour or not: both paths */
        fclose(f);
    }
    free(text);
    compile_free(r);
    return 0;
}
