/* test_repl.c — the REPL's session API without a terminal: when an input
 * is complete, Tab completion by position, definitions split at line
 * starts and after ';', and a redefinition that keeps a predictor's
 * weights. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "repl.h"

static long at; /* how much of the session's output was read */

static repl *new_session(FILE **out)
{
    at = 0;
    *out = tmpfile();
    assert_non_null(*out);
    repl_opts o = { .out = *out, .err = *out };
    repl *r = repl_new(&o);
    assert_non_null(r);
    return r;
}

/* The session's output since the last call. */
static char *output(FILE *f)
{
    fflush(f);
    long end = ftell(f);
    char *buf = calloc(1, (size_t)(end - at) + 1);
    fseek(f, at, SEEK_SET);
    size_t n = fread(buf, 1, (size_t)(end - at), f);
    buf[n] = 0;
    at = end;
    return buf;
}

static void incomplete(void **state)
{
    (void)state;
    assert_true(repl_incomplete("circuit a {\n  output y : real = 1\n"));
    assert_false(repl_incomplete("circuit a {\n  output y : real = 1\n}\n"));
    assert_true(repl_incomplete("const k =\n"));
    assert_true(repl_incomplete("const v = [1,\n"));
    assert_false(repl_incomplete("const k = 3 # comment with {\n"));
    /* Commands and names are one line, whatever brackets they hold. */
    assert_false(repl_incomplete(":set v = [1, 2\n"));
    assert_false(repl_incomplete("v[\n"));
    assert_false(repl_incomplete("# only a comment {\n"));
}

static int has(char **list, const char *s)
{
    for (size_t i = 0; list && list[i]; i++)
        if (!strcmp(list[i], s))
            return 1;
    return 0;
}

static void completion(void **state)
{
    (void)state;
    FILE *out;
    repl *r = new_session(&out);
    assert_int_equal(repl_eval(r, "circuit acc {\n  input teacher : real\n  input tempo : real\n"
                                  "  param rate : real = 1\n  output y : real = teacher * rate\n}\n"),
                     REPL_OK);
    size_t start;
    const char *line = ":he";
    char **c = repl_complete(r, line, strlen(line), &start);
    assert_true(has(c, ":help"));
    assert_int_equal(start, 0);
    repl_free_list(c);

    line = ":set te";
    c = repl_complete(r, line, strlen(line), &start);
    assert_true(has(c, "teacher") && has(c, "tempo"));
    assert_false(has(c, "rate"));
    assert_int_equal(start, 5);
    repl_free_list(c);

    /* An abbreviated command completes like the full one. */
    line = ":wat ra";
    c = repl_complete(r, line, strlen(line), &start);
    assert_true(has(c, "rate"));
    repl_free_list(c);

    /* :record: a file first, then signal names, also after two spaces. */
    line = ":record  t.csv  ra";
    c = repl_complete(r, line, strlen(line), &start);
    assert_true(has(c, "rate"));
    repl_free_list(c);

    line = ":circuit a";
    c = repl_complete(r, line, strlen(line), &start);
    assert_true(has(c, "acc"));
    repl_free_list(c);

    line = "cir";
    c = repl_complete(r, line, strlen(line), &start);
    assert_true(has(c, "circuit"));
    repl_free_list(c);
    repl_free(r);
    fclose(out);
}

static void split_after_semicolon(void **state)
{
    (void)state;
    FILE *out;
    repl *r = new_session(&out);
    free(output(out));
    assert_int_equal(repl_eval(r, "const a = 1; const b = 2\n"), REPL_OK);
    assert_int_equal(repl_eval(r, "const b = 3\n"), REPL_OK); /* replaces b alone */
    char *o = output(out);
    assert_non_null(strstr(o, "defined const a"));
    assert_non_null(strstr(o, "redefined const b"));
    free(o);
    assert_int_equal(repl_eval(r, ":forget b\n"), REPL_OK);
    assert_int_equal(repl_eval(r, ":forget b\n"), REPL_ERROR);
    repl_free(r);
    fclose(out);
}

static void redefinition_keeps_weights(void **state)
{
    (void)state;
    FILE *out;
    repl *r = new_session(&out);
    const char *v1 = "circuit l {\n  input cue : vec[2] learned\n  input t : real\n"
                     "  output g : real\n  predictor p {\n    context cue\n    supervisor t\n"
                     "    rate 0.1\n    delay 20 ms\n    rule nlms\n  }\n  g = p\n}\n";
    assert_int_equal(repl_eval(r, v1), REPL_OK);
    assert_int_equal(repl_eval(r, ":set cue = [1, 0]"), REPL_OK);
    assert_int_equal(repl_eval(r, ":set t = 1"), REPL_OK);
    assert_int_equal(repl_eval(r, ":step 20"), REPL_OK);
    free(output(out));
    assert_int_equal(repl_eval(r, ":print p.w[0]"), REPL_OK);
    char *before = output(out);
    /* One more output: the weights stay. */
    char *v2 = malloc(strlen(v1) + 64);
    strcpy(v2, v1);
    strcpy(strstr(v2, "  g = p\n}"), "  output h : real = 2 * p\n  g = p\n}\n");
    assert_int_equal(repl_eval(r, v2), REPL_OK);
    char *report = output(out);
    assert_non_null(strstr(report, "kept"));
    assert_null(strstr(report, "p.w ("));
    assert_int_equal(repl_eval(r, ":print p.w[0]"), REPL_OK);
    char *after = output(out);
    assert_string_equal(before, after);
    assert_non_null(strstr(before, "p.w[0] = 0."));
    free(before), free(report), free(after), free(v2);
    /* An error changes nothing. */
    assert_int_equal(repl_eval(r, "circuit l {\n  output g : real = nope\n}\n"), REPL_ERROR);
    free(output(out));
    assert_int_equal(repl_eval(r, ":print p.w[0] g"), REPL_OK);
    char *still = output(out);
    assert_non_null(strstr(still, "p.w[0] = 0."));
    free(still);
    repl_free(r);
    fclose(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(incomplete),
        cmocka_unit_test(completion),
        cmocka_unit_test(split_after_semicolon),
        cmocka_unit_test(redefinition_keeps_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
