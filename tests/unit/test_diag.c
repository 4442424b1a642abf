/* test_diag.c — "did you mean" suggestions, the exact text diag_flush prints
 * (position, excerpt, caret, hint; ordered by position with notes kept after
 * their error), and compile_source reporting every independent error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <math.h>

#include "compile.h"
#include "diag.h"

/* ---- diag_suggest -------------------------------------------------------- */

#define N(arr) (sizeof(arr) / sizeof((arr)[0]))

static void test_suggest_close(void **state)
{
    (void)state;
    const char *const c[] = { "motion", "loud", "arousal", "gain", "startled" };
    assert_string_equal(diag_suggest("arousl", c, N(c)), "arousal");   /* deletion */
    assert_string_equal(diag_suggest("arrousal", c, N(c)), "arousal"); /* insertion */
    assert_string_equal(diag_suggest("gian", c, N(c)), "gain");        /* transposition */
    assert_string_equal(diag_suggest("moton", c, N(c)), "motion");
    assert_string_equal(diag_suggest("lout", c, N(c)), "loud");        /* substitution */
    assert_string_equal(diag_suggest("startle", c, N(c)), "startled");
    assert_string_equal(diag_suggest("Gain", c, N(c)), "gain");        /* case is an edit */
    /* the closest wins, whatever the order */
    const char *const d[] = { "count", "counter", "amount" };
    assert_string_equal(diag_suggest("countre", d, N(d)), "counter");
    /* on a tie, the first candidate */
    assert_string_equal(diag_suggest("countr", d, N(d)), "count");
    const char *const e[] = { "counter", "count" };
    assert_string_equal(diag_suggest("coun", e, N(e)), "count");
    /* NULL entries are skipped */
    const char *const f[] = { NULL, "speed", NULL };
    assert_string_equal(diag_suggest("sped", f, N(f)), "speed");
}

static void test_suggest_distant(void **state)
{
    (void)state;
    const char *const c[] = { "motion", "loud", "arousal", "gain", "startled" };
    assert_null(diag_suggest("velocity", c, N(c)));
    assert_null(diag_suggest("xyz", c, N(c)));
    assert_null(diag_suggest("mtn", c, N(c)));     /* three edits from motion */
    assert_null(diag_suggest("gauge", c, N(c)));
    assert_null(diag_suggest("arousal", c, 0));    /* no candidates */
    /* an exact match is not a suggestion */
    const char *const same[] = { "gain" };
    assert_null(diag_suggest("gain", same, N(same)));
    /* very long names neither crash nor match */
    char longa[200], longb[200];
    memset(longa, 'a', sizeof longa - 1);
    longa[sizeof longa - 1] = 0;
    memcpy(longb, longa, sizeof longb);
    longb[5] = 'b';
    const char *const l[] = { longb };
    const char *s = diag_suggest(longa, l, 1);
    assert_true(s == NULL || s == longb);
}

static void test_suggest_short_names(void **state)
{
    (void)state;
    /* A 1-letter name never suggests another 1-letter name. */
    const char *const one[] = { "x", "y", "z", "a", "dt" };
    static const char *const letters[] = { "x", "y", "z", "a", "b", "q" };
    for (size_t i = 0; i < N(letters); i++) {
        const char *s = diag_suggest(letters[i], one, N(one));
        if (s && strlen(s) == 1)
            fail_msg("'%s' suggested '%s'", letters[i], s);
    }
    /* nor a 2-letter name that shares nothing with it */
    const char *const two[] = { "ab", "yz" };
    assert_null(diag_suggest("x", two, N(two)));
    /* two letters: one edit is still a plausible typo */
    const char *const xs[] = { "xy" };
    assert_string_equal(diag_suggest("xt", xs, N(xs)), "xy");
}

/* The empty name (e.g. `--circuit ''`) keeps nothing of what was typed, so
 * it suggests nothing. */
static void test_suggest_empty_name(void **state)
{
    (void)state;
    const char *const any[] = { "a", "bc", "def" };
    const char *s = diag_suggest("", any, N(any));
    if (s)
        fail_msg("the empty name suggested '%s'", s);
}

/* ---- diag_flush ---------------------------------------------------------- */

typedef struct capture {
    char *text;
    size_t len;
    FILE *f;
} capture;

static void cap_open(capture *c)
{
    c->text = NULL;
    c->len = 0;
    c->f = open_memstream(&c->text, &c->len);
    assert_non_null(c->f);
}

/* Flush d into a string (the caller frees it). */
static char *flush_to_string(diag_ctx *d, int color)
{
    capture c;
    cap_open(&c);
    diag_flush(d, c.f, color);
    fclose(c.f);
    return c.text;
}

static src_loc at(const src_file *f, int line, int col, int end_col)
{
    return (src_loc){ .file = f, .line = line, .col = col, .end_line = line, .end_col = end_col };
}

static void expect_text(const char *got, const char *want)
{
    if (strcmp(got, want) != 0)
        fail_msg("diag_flush printed:\n%s\n--- expected:\n%s", got, want);
}

static void test_flush_format(void **state)
{
    (void)state;
    diag_ctx *d = diag_new();
    const char *src = "module m\ncircuit c {\n  output y : real = foo + 1\n}\n";
    const src_file *f = diag_add_source(d, "prog.drive", src, strlen(src));
    assert_non_null(f);
    assert_string_equal(f->name, "prog.drive");
    assert_int_equal(f->len, strlen(src));
    assert_memory_equal(f->text, src, strlen(src) + 1);
    assert_ptr_not_equal(f->text, src); /* a copy */

    diag_report(d, DIAG_ERROR, at(f, 3, 21, 24), "undefined name '%s'", "foo");
    diag_hint(d, "did you mean '%s'?", "for");
    assert_int_equal(diag_errors(d), 1);
    assert_int_equal(diag_warnings(d), 0);
    char *out = flush_to_string(d, 0);
    expect_text(out,
                "prog.drive:3:21: error: undefined name 'foo'\n"
                "    3 |   output y : real = foo + 1\n"
                "      |                     ^~~\n"
                "      = hint: did you mean 'for'?\n");
    assert_null(strchr(out, '\033'));
    free(out);

    /* flushing forgets: a second flush prints nothing; counts stay */
    out = flush_to_string(d, 0);
    assert_string_equal(out, "");
    free(out);
    assert_int_equal(diag_errors(d), 1);

    /* a warning at column 1 with a one-character span, and no end */
    diag_report(d, DIAG_WARNING, at(f, 1, 1, 0), "unused %s", "module");
    assert_int_equal(diag_warnings(d), 1);
    out = flush_to_string(d, 0);
    expect_text(out,
                "prog.drive:1:1: warning: unused module\n"
                "    1 | module m\n"
                "      | ^\n");
    free(out);

    /* a message without a position */
    diag_plain(d, DIAG_ERROR, "cannot open '%s'", "x.drive");
    assert_int_equal(diag_errors(d), 2);
    out = flush_to_string(d, 0);
    expect_text(out, "drivec: error: cannot open 'x.drive'\n");
    free(out);
    diag_free(d);
}

static void test_flush_line_numbers_and_tabs(void **state)
{
    (void)state;
    diag_ctx *d = diag_new();
    /* 12 lines, CRLF endings, a tab before the error */
    char src[512] = "";
    for (int i = 1; i <= 11; i++)
        strcat(src, "# filler\r\n");
    strcat(src, "\tlet z = 1 +\r\n");
    const src_file *f = diag_add_source(d, "crlf.drive", src, strlen(src));
    diag_report(d, DIAG_ERROR, at(f, 12, 12, 13), "expected an expression");
    char *out = flush_to_string(d, 0);
    /* the tab shows as a space so the caret lines up; no \r is printed */
    expect_text(out,
                "crlf.drive:12:12: error: expected an expression\n"
                "   12 |  let z = 1 +\n"
                "      |            ^\n");
    free(out);

    /* the last line without a newline, and a span running past its end */
    const src_file *g = diag_add_source(d, "end.drive", "a\nxyz", 5);
    diag_report(d, DIAG_ERROR, at(g, 2, 2, 40), "bad");
    out = flush_to_string(d, 0);
    assert_non_null(strstr(out, "end.drive:2:2: error: bad\n    2 | xyz\n      |  ^~"));
    /* the underline stops at the end of the line (at most one past it) */
    const char *caret = strstr(out, "^");
    assert_non_null(caret);
    assert_true(strspn(caret + 1, "~") <= 2);
    free(out);
    diag_free(d);
}

static void test_flush_sorted_with_notes(void **state)
{
    (void)state;
    diag_ctx *d = diag_new();
    const char *src = "line one\nline two\nline three\nline four\n";
    const src_file *f = diag_add_source(d, "s.drive", src, strlen(src));
    /* reported out of order, as different stages would */
    diag_report(d, DIAG_ERROR, at(f, 4, 6, 10), "fourth");
    diag_report(d, DIAG_NOTE, at(f, 1, 1, 5), "note of fourth");
    diag_report(d, DIAG_ERROR, at(f, 2, 6, 9), "second");
    diag_report(d, DIAG_WARNING, at(f, 3, 1, 5), "third");
    diag_report(d, DIAG_ERROR, at(f, 2, 1, 5), "second, earlier column");
    diag_hint(d, "hint on the error");
    diag_report(d, DIAG_NOTE, at(f, 4, 1, 2), "note of second-earlier");
    diag_plain(d, DIAG_ERROR, "no position");
    assert_int_equal(diag_errors(d), 4);
    assert_int_equal(diag_warnings(d), 1);
    char *out = flush_to_string(d, 0);
    expect_text(out,
                "drivec: error: no position\n"
                "s.drive:2:1: error: second, earlier column\n"
                "    2 | line two\n"
                "      | ^~~~\n"
                "      = hint: hint on the error\n"
                "s.drive:4:1: note: note of second-earlier\n"
                "    4 | line four\n"
                "      | ^\n"
                "s.drive:2:6: error: second\n"
                "    2 | line two\n"
                "      |      ^~~\n"
                "s.drive:3:1: warning: third\n"
                "    3 | line three\n"
                "      | ^~~~\n"
                "s.drive:4:6: error: fourth\n"
                "    4 | line four\n"
                "      |      ^~~~\n"
                "s.drive:1:1: note: note of fourth\n"
                "    1 | line one\n"
                "      | ^~~~\n");
    free(out);
    diag_free(d);
}

static void test_flush_equal_positions_stable(void **state)
{
    (void)state;
    diag_ctx *d = diag_new();
    const src_file *f = diag_add_source(d, "e.drive", "abc\n", 4);
    diag_report(d, DIAG_ERROR, at(f, 1, 2, 3), "first reported");
    diag_report(d, DIAG_ERROR, at(f, 1, 2, 3), "second reported");
    diag_plain(d, DIAG_ERROR, "plain one");
    diag_plain(d, DIAG_WARNING, "plain two");
    char *out = flush_to_string(d, 0);
    const char *p1 = strstr(out, "plain one"), *p2 = strstr(out, "plain two");
    const char *a = strstr(out, "first reported"), *b = strstr(out, "second reported");
    assert_non_null(p1);
    assert_non_null(p2);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(p1 < p2 && p2 < a && a < b);
    assert_non_null(strstr(out, "drivec: warning: plain two\n"));
    free(out);
    diag_free(d);
}

static void test_flush_color(void **state)
{
    (void)state;
    diag_ctx *d = diag_new();
    const src_file *f = diag_add_source(d, "c.drive", "abc\n", 4);
    diag_report(d, DIAG_ERROR, at(f, 1, 1, 4), "colored");
    char *out = flush_to_string(d, 1);
    assert_non_null(strchr(out, '\033'));
    assert_non_null(strstr(out, "colored"));
    assert_non_null(strstr(out, "c.drive:1:1: "));
    free(out);
    /* a memory stream is no terminal */
    capture c;
    cap_open(&c);
    assert_int_equal(diag_want_color(c.f), 0);
    fclose(c.f);
    free(c.text);
    diag_free(d);
}

static void test_load_file(void **state)
{
    (void)state;
    diag_ctx *d = diag_new();
    assert_null(diag_load_file(d, "/nonexistent/dir/x.drive"));
    assert_int_equal(diag_errors(d), 1);
    char *out = flush_to_string(d, 0);
    assert_non_null(strstr(out, "drivec: error: cannot open '/nonexistent/dir/x.drive'"));
    free(out);

    /* A file of our own, named after the process and created exclusively. */
    char path[64];
    snprintf(path, sizeof path, "/tmp/drive-unit-diag-%ld.drive", (long)getpid());
    remove(path);
    FILE *fp = fopen(path, "wbx");
    assert_non_null(fp);
    /* bigger than any read buffer, with a NUL inside */
    for (int i = 0; i < 3000; i++)
        fprintf(fp, "line %d\n", i);
    fputc(0, fp);
    fputs("tail", fp);
    long size = ftell(fp);
    fclose(fp);
    const src_file *f = diag_load_file(d, path);
    remove(path);
    assert_non_null(f);
    assert_int_equal(f->len, (size_t)size);
    assert_memory_equal(f->text + f->len - 5, "\0tail", 5);
    assert_int_equal(f->text[f->len], 0);
    assert_memory_equal(f->text, "line 0\nline 1\n", 14);
    diag_free(d);
}

/* ---- compile_source ------------------------------------------------------ */

static const char THREE_ERRORS[] =
    "module m\n"
    "\n"
    "circuit a {\n"
    "  input x : real\n"
    "  output y : real = x + undefined_one\n"
    "  output z : bool = x + 1\n"
    "}\n"
    "\n"
    "circuit b {\n"
    "  output w : real = pre(w) + nothere\n"
    "}\n";

static const char VALID[] =
    "module m\n"
    "tick 10 ms\n"
    "\n"
    "circuit first {\n"
    "  input x : real\n"
    "  param g : real = 2\n"
    "  output y : real = g * x + pre(y)\n"
    "}\n"
    "\n"
    "circuit second {\n"
    "  output count : real = pre(count) + 1\n"
    "}\n";

static void test_compile_three_errors(void **state)
{
    (void)state;
    for (int optimize = 0; optimize <= 1; optimize++) {
        compile_opts opt = { .optimize = optimize };
        compile_result *r = compile_source("three.drive", THREE_ERRORS, strlen(THREE_ERRORS), &opt);
        assert_non_null(r);
        assert_int_equal(diag_errors(r->diag), 3);
        assert_null(r->circuits);
        char *out = flush_to_string(r->diag, 0);
        const char *e1 = strstr(out, "three.drive:5:");
        const char *e2 = strstr(out, "three.drive:6:");
        const char *e3 = strstr(out, "three.drive:10:");
        if (!e1 || !e2 || !e3)
            fail_msg("errors not at lines 5, 6 and 10:\n%s", out);
        assert_true(e1 < e2 && e2 < e3);
        assert_non_null(strstr(out, "undefined_one"));
        assert_non_null(strstr(out, "nothere"));
        /* exactly three "error:" lines */
        int n = 0;
        for (const char *p = out; (p = strstr(p, ": error: ")); p++)
            n++;
        assert_int_equal(n, 3);
        free(out);
        compile_free(r);
    }
}

static void test_compile_valid(void **state)
{
    (void)state;
    for (int optimize = 0; optimize <= 1; optimize++) {
        compile_opts opt = { .optimize = optimize };
        compile_result *r = compile_source("valid.drive", VALID, strlen(VALID), &opt);
        assert_non_null(r);
        assert_int_equal(diag_errors(r->diag), 0);
        assert_int_equal(r->n_circuits, 2);
        assert_non_null(r->circuits);
        for (int i = 0; i < 2; i++) {
            assert_non_null(r->circuits[i]);
            assert_null(ir_verify(&r->mem, r->circuits[i]));
        }
        ir_circuit *first = compile_pick(r, "first");
        assert_non_null(first);
        assert_string_equal(first->name, "first");
        assert_string_equal(first->module, "m");
        assert_true(fabs(first->tick_seconds - 0.01) < 1e-15);
        assert_int_equal(first->n_inputs, 1);
        assert_int_equal(first->n_params, 1);
        assert_int_equal(first->n_outputs, 1);
        assert_true(first->params[0].init == 2);
        ir_circuit *second = compile_pick(r, "second");
        assert_non_null(second);
        assert_int_equal(second->n_inputs, 0);
        assert_true(second->n_state >= 1);
        /* the description a host sees */
        rt_circuit rc = compile_reflect(&r->mem, first);
        assert_int_equal(rc.n_inputs, 1);
        assert_string_equal(rc.inputs[0].name, "x");
        assert_int_equal(rc.inputs[0].kind, RT_REAL);
        assert_int_equal(rc.state_size, first->state_size);
        /* picking: ambiguous, and a near miss with a suggestion */
        assert_int_equal(diag_errors(r->diag), 0);
        assert_null(compile_pick(r, NULL));
        assert_int_equal(diag_errors(r->diag), 1);
        assert_null(compile_pick(r, "frist"));
        assert_int_equal(diag_errors(r->diag), 2);
        char *out = flush_to_string(r->diag, 0);
        assert_non_null(strstr(out, "first, second"));
        assert_non_null(strstr(out, "      = hint: did you mean 'first'?\n"));
        free(out);
        compile_free(r);
    }
    /* one circuit: picked without a name */
    static const char one[] = "circuit only {\n  output k : real = 1\n}\n";
    compile_result *r = compile_source("one.drive", one, strlen(one), NULL);
    assert_int_equal(diag_errors(r->diag), 0);
    assert_int_equal(r->n_circuits, 1);
    ir_circuit *c = compile_pick(r, NULL);
    assert_non_null(c);
    assert_string_equal(c->name, "only");
    assert_string_equal(c->module, "one"); /* from the file name */
    compile_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suggest_close),
        cmocka_unit_test(test_suggest_distant),
        cmocka_unit_test(test_suggest_short_names),
        cmocka_unit_test(test_suggest_empty_name),
        cmocka_unit_test(test_flush_format),
        cmocka_unit_test(test_flush_line_numbers_and_tabs),
        cmocka_unit_test(test_flush_sorted_with_notes),
        cmocka_unit_test(test_flush_equal_positions_stable),
        cmocka_unit_test(test_flush_color),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_compile_three_errors),
        cmocka_unit_test(test_compile_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
