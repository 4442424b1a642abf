/* test_csv.c — the strict numeric CSV reader (rt_csv_parse) and the shortest
 * round-tripping number format (rt_fmt_f64). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <float.h>
#include <math.h>

#include "csv.h"
#include "rt.h"

static uint64_t bits_of(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static int parse(const char *text, rt_table *t, rt_error *e)
{
    memset(e, 0, sizeof *e);
    return rt_csv_parse("t.csv", text, strlen(text), t, e);
}

static double cell(const rt_table *t, long row, int col) { return t->data[row * t->ncols + col]; }

/* ---- accepted input ----------------------------------------------------- */

static void test_header_and_rows(void **state)
{
    (void)state;
    rt_table t;
    rt_error e;
    assert_int_equal(parse("a,b,c\n1,2,3\n-4.5,1e3,0x10\n", &t, &e), 1);
    assert_int_equal(t.ncols, 3);
    assert_string_equal(t.names[0], "a");
    assert_string_equal(t.names[1], "b");
    assert_string_equal(t.names[2], "c");
    assert_int_equal(t.nrows, 2);
    assert_int_equal(t.header_line, 1);
    assert_true(cell(&t, 0, 0) == 1 && cell(&t, 0, 1) == 2 && cell(&t, 0, 2) == 3);
    assert_true(cell(&t, 1, 0) == -4.5 && cell(&t, 1, 1) == 1000 && cell(&t, 1, 2) == 16);
    assert_int_equal(t.lines[0], 2);
    assert_int_equal(t.lines[1], 3);
    assert_int_equal(rt_csv_column(&t, "b"), 1);
    assert_int_equal(rt_csv_column(&t, "c"), 2);
    assert_int_equal(rt_csv_column(&t, "d"), -1);
    assert_int_equal(rt_csv_column(&t, "B"), -1);
    rt_csv_free(&t);
    assert_null(t.names);
    assert_null(t.data);
    assert_int_equal(t.ncols, 0);
    assert_int_equal(t.nrows, 0);
    rt_csv_free(&t); /* twice is harmless */

    /* no trailing newline; a header alone gives no rows */
    assert_int_equal(parse("x\n7", &t, &e), 1);
    assert_int_equal(t.nrows, 1);
    assert_true(cell(&t, 0, 0) == 7);
    rt_csv_free(&t);
    assert_int_equal(parse("x,y\n", &t, &e), 1);
    assert_int_equal(t.ncols, 2);
    assert_int_equal(t.nrows, 0);
    rt_csv_free(&t);
}

static void test_exact_numbers(void **state)
{
    (void)state;
    rt_table t;
    rt_error e;
    assert_int_equal(parse("v\n0.1\n-0\n5e-324\n1.7976931348623157e308\n+2\n.5\n1e-310\n", &t, &e), 1);
    assert_int_equal(t.nrows, 7);
    assert_true(bits_of(cell(&t, 0, 0)) == bits_of(0.1));
    assert_true(bits_of(cell(&t, 1, 0)) == bits_of(-0.0)); /* the sign of zero is kept */
    assert_true(bits_of(cell(&t, 2, 0)) == bits_of(0x1p-1074));
    assert_true(bits_of(cell(&t, 3, 0)) == bits_of(DBL_MAX));
    assert_true(cell(&t, 4, 0) == 2);
    assert_true(cell(&t, 5, 0) == 0.5);
    assert_true(bits_of(cell(&t, 6, 0)) == bits_of(1e-310));
    rt_csv_free(&t);
}

static void test_crlf_blank_comments(void **state)
{
    (void)state;
    rt_table t;
    rt_error e;
    const char *text = "# a comment before the header\r\n"
                       "\r\n"
                       "time,x\r\n"
                       "   \r\n"
                       "0,1\r\n"
                       "# 9,9 is commented out\r\n"
                       "  # indented comment\r\n"
                       "\t\r\n"
                       "\n"
                       "1,2\r\n"
                       "2,3";
    assert_int_equal(parse(text, &t, &e), 1);
    assert_int_equal(t.ncols, 2);
    assert_string_equal(t.names[0], "time");
    assert_string_equal(t.names[1], "x"); /* no \r in the name */
    assert_int_equal(t.header_line, 3);
    assert_int_equal(t.nrows, 3);
    assert_int_equal(t.lines[0], 5);
    assert_int_equal(t.lines[1], 10);
    assert_int_equal(t.lines[2], 11);
    assert_true(cell(&t, 0, 1) == 1 && cell(&t, 1, 1) == 2 && cell(&t, 2, 1) == 3);
    assert_true(cell(&t, 2, 0) == 2);
    rt_csv_free(&t);
}

static void test_bools_spaces_quotes(void **state)
{
    (void)state;
    rt_table t;
    rt_error e;
    assert_int_equal(parse(" \"on\" , \"the level\",plain\t\n"
                           "true ,  false,\t1.5 \n"
                           "false,true,-0.25\n",
                           &t, &e),
                     1);
    assert_int_equal(t.ncols, 3);
    assert_string_equal(t.names[0], "on");
    assert_string_equal(t.names[1], "the level");
    assert_string_equal(t.names[2], "plain");
    assert_int_equal(t.nrows, 2);
    assert_true(cell(&t, 0, 0) == 1 && cell(&t, 0, 1) == 0 && cell(&t, 0, 2) == 1.5);
    assert_true(cell(&t, 1, 0) == 0 && cell(&t, 1, 1) == 1 && cell(&t, 1, 2) == -0.25);
    assert_int_equal(rt_csv_column(&t, "the level"), 1);
    rt_csv_free(&t);
}

/* ---- errors: message, line and column ------------------------------------ */

static void expect_error(const char *text, size_t len, long line, int col, const char *needle)
{
    rt_table t;
    rt_error e;
    memset(&e, 0, sizeof e);
    memset(&t, 0x5A, sizeof t); /* garbage in: parse must initialise it */
    int ok = rt_csv_parse("in.csv", text, len, &t, &e);
    if (ok) {
        rt_csv_free(&t);
        fail_msg("accepted %.*s", (int)len, text ? text : "");
    }
    if (!strstr(e.msg, needle))
        fail_msg("message '%s' lacks '%s'", e.msg, needle);
    assert_non_null(e.file);
    assert_string_equal(e.file, "in.csv");
    if (e.line != line)
        fail_msg("'%s': line %ld, expected %ld", e.msg, e.line, line);
    if (col >= 0 && e.col != col)
        fail_msg("'%s': column %d, expected %d", e.msg, e.col, col);
    /* the table is left empty, and freeing it is safe (even twice) */
    assert_null(t.names);
    assert_null(t.data);
    assert_null(t.lines);
    assert_int_equal(t.ncols, 0);
    assert_int_equal(t.nrows, 0);
    rt_csv_free(&t);
    rt_csv_free(&t);
}

#define ERR(text, line, col, needle) expect_error(text, strlen(text), line, col, needle)

static void test_field_count(void **state)
{
    (void)state;
    ERR("a,b\n1,2\n3\n", 3, 0, "expected 2 fields");
    ERR("a,b\n1,2\n3\n", 3, 0, "found 1");
    ERR("a,b\n\n# c\n1,2,3\n", 4, 0, "found 3");
    ERR("a,b\r\n1,2,\r\n", 2, 0, "found 3"); /* a trailing comma is a field */
}

static void test_not_a_number(void **state)
{
    (void)state;
    ERR("x,y\n1,abc\n", 2, 3, "'abc' is not a number");
    ERR("x,y\n1,abc\n", 2, 3, "column 'y'");
    ERR("x,y\n1,2\n  lots ,1\n", 3, 3, "'lots' is not a number");
    ERR("x\n1.5.2\n", 2, 1, "not a number");
    ERR("x\nTrue\n", 2, 1, "not a number"); /* only lower-case true/false */
    ERR("x\n1 2\n", 2, 1, "not a number");
    ERR("x,y\n1,\"2\"\n", 2, 3, "not a number"); /* quotes only in the header */
}

static void test_empty_field(void **state)
{
    (void)state;
    ERR("a,b,c\n1,,3\n", 2, 3, "empty value in column 'b'");
    ERR("a,b\n1,2\n,2\n", 3, 1, "empty value in column 'a'");
    ERR("a,b\n1,\n", 2, 3, "empty value");
}

static void test_non_finite(void **state)
{
    (void)state;
    static const char *const bad[] = { "inf", "-inf", "INF", "infinity", "nan", "NaN", "-nan",
                                       "nan(123)", "1e999", "-1e400" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "a,b\n1,2\n3, %s\n", bad[i]);
        expect_error(text, strlen(text), 3, 4, "not finite");
    }
}

static void test_header_errors(void **state)
{
    (void)state;
    ERR("a,b,a\n1,2,3\n", 1, 5, "column 'a' appears twice");
    ERR("# c\nx, y ,  y\n", 2, 9, "'y' appears twice");
    ERR("\"q\",q\n", 1, 5, "'q' appears twice"); /* quoted and plain name alike */
    ERR("a,,b\n", 1, 3, "column 2 has no name");
    ERR("a,\"\"\n", 1, 3, "column 2 has no name");
}

static void test_empty_file(void **state)
{
    (void)state;
    ERR("", 0, 0, "empty");
    ERR("\n\n   \n", 0, 0, "empty");
    ERR("# only a comment\r\n", 0, 0, "empty");
    expect_error(NULL, 0, 0, 0, "empty"); /* no text at all */
}

static void test_nul_byte(void **state)
{
    (void)state;
    static const char in_row[] = "a,b\n1,2\n3,\0" "4\n";
    rt_table t;
    rt_error e;
    memset(&e, 0, sizeof e);
    assert_int_equal(rt_csv_parse("in.csv", in_row, sizeof in_row - 1, &t, &e), 0);
    assert_non_null(strstr(e.msg, "NUL"));
    assert_int_equal(e.line, 3);
    /* a column, if given, must point at the NUL */
    assert_true(e.col == 0 || e.col == 3);
    rt_csv_free(&t);

    static const char in_header[] = "a\0,b\n1,2\n";
    expect_error(in_header, sizeof in_header - 1, 1, -1, "NUL");
    static const char in_comment[] = "a\n# \0\n1\n";
    expect_error(in_comment, sizeof in_comment - 1, 2, -1, "NUL");
}

/* "numbers as strtod reads them": a long but valid decimal, as some tools
 * write with fixed precision, is a number. */
static void test_long_numbers(void **state)
{
    (void)state;
    char text[256];
    snprintf(text, sizeof text, "v\n%.70f\n", 0.1); /* 72 characters */
    rt_table t;
    rt_error e;
    memset(&e, 0, sizeof e);
    int ok = rt_csv_parse("long.csv", text, strlen(text), &t, &e);
    if (!ok)
        fail_msg("a 72-character number was rejected: %s", e.msg);
    assert_int_equal(t.nrows, 1);
    assert_true(bits_of(cell(&t, 0, 0)) == bits_of(0.1));
    rt_csv_free(&t);
}

/* A failure midway through a big table frees what it built. */
static void test_free_after_late_failure(void **state)
{
    (void)state;
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len, "a,b,c\n");
    for (int i = 0; i < 1000; i++)
        len += (size_t)snprintf(text + len, cap - len, "%d,%d.5,-%d\n", i, i, i);
    len += (size_t)snprintf(text + len, cap - len, "1,2,oops\n");
    expect_error(text, len, 1002, 5, "'oops' is not a number");
    /* and the same table without the bad row is read whole */
    rt_table t;
    rt_error e;
    size_t good = len - strlen("1,2,oops\n");
    assert_int_equal(rt_csv_parse("big.csv", text, good, &t, &e), 1);
    assert_int_equal(t.nrows, 1000);
    assert_true(cell(&t, 999, 1) == 999.5);
    assert_int_equal(t.lines[999], 1001);
    rt_csv_free(&t);
    free(text);
}

/* ---- rt_fmt_f64 ----------------------------------------------------------- */

static void expect_fmt(double d, const char *want)
{
    char buf[32];
    const char *s = rt_fmt_f64(buf, d);
    assert_ptr_equal(s, buf);
    if (want && strcmp(s, want) != 0)
        fail_msg("rt_fmt_f64(%a) = '%s', expected '%s'", d, s, want);
    assert_true(strlen(s) < 32);
    if (isfinite(d)) {
        char *end;
        double back = strtod(s, &end);
        assert_int_equal(*end, 0);
        if (bits_of(back) != bits_of(d))
            fail_msg("rt_fmt_f64(%a) = '%s' reads back as %a", d, s, back);
    }
}

static void test_fmt_f64(void **state)
{
    (void)state;
    expect_fmt(0.1, "0.1");
    expect_fmt(1e-300, "1e-300");
    expect_fmt(5e-324, "5e-324");
    expect_fmt(0.0, "0");
    expect_fmt(-0.0, "-0");
    expect_fmt(1.0, "1");
    expect_fmt(-2.5, "-2.5");
    expect_fmt(100, "100");
    expect_fmt(0.1 + 0.2, "0.30000000000000004");
    expect_fmt(1.0 / 3, "0.3333333333333333");
    expect_fmt(DBL_MAX, "1.7976931348623157e+308");
    expect_fmt(-DBL_MAX, "-1.7976931348623157e+308");
    expect_fmt(DBL_MIN, "2.2250738585072014e-308");
    expect_fmt(INFINITY, "inf");
    expect_fmt(-INFINITY, "-inf");
    expect_fmt(NAN, "nan");
    expect_fmt(-NAN, "nan");
    uint64_t payload = 0x7ff0000000000001ull; /* a signalling NaN */
    double snan;
    memcpy(&snan, &payload, sizeof snan);
    expect_fmt(snan, "nan");
    /* a spread of values round-trips exactly */
    static const double more[] = { 1e-310, 0x1p-1022, 0x1.fffffffffffffp-1023, 123456789012345678.0,
                                   9007199254740993.0, 2.5e-8, 1e21, 1e22, 0.01, 299792458 };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
        expect_fmt(more[i], NULL);
        expect_fmt(-more[i], NULL);
    }
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 2000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d;
        memcpy(&d, &x, sizeof d);
        if (isfinite(d))
            expect_fmt(d, NULL);
    }
}

/* The shortest: no representation with fewer significant digits reads back. */
static void test_fmt_f64_shortest(void **state)
{
    (void)state;
    static const double v[] = { 0.1, 0.3, 2.0 / 3, 1e23, 5e-324, 123.456, 1e-7 };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char buf[32], shorter[512];
        rt_fmt_f64(buf, v[i]);
        int digits = 0;
        for (const char *p = buf; *p && *p != 'e'; p++)
            digits += *p >= '0' && *p <= '9';
        /* strip leading zeros of "0.000ddd" */
        for (const char *p = buf; *p && (*p == '0' || *p == '.' || *p == '-'); p++)
            digits -= *p == '0';
        if (digits > 1) {
            snprintf(shorter, sizeof shorter, "%.*g", digits - 1, v[i]);
            assert_true(strtod(shorter, NULL) != v[i]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_and_rows),
        cmocka_unit_test(test_exact_numbers),
        cmocka_unit_test(test_crlf_blank_comments),
        cmocka_unit_test(test_bools_spaces_quotes),
        cmocka_unit_test(test_field_count),
        cmocka_unit_test(test_not_a_number),
        cmocka_unit_test(test_empty_field),
        cmocka_unit_test(test_non_finite),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_long_numbers),
        cmocka_unit_test(test_free_after_late_failure),
        cmocka_unit_test(test_fmt_f64),
        cmocka_unit_test(test_fmt_f64_shortest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
