/* test_run.c — rt_run with ticks whose step reports invalid inputs: the run
 * goes on and writes every output, the first ticks are described (row, input,
 * value, why), the rest counted, and the run fails; random inputs stay in
 * their declared ranges; back ends that disagree on a tick's validity stop
 * a lock-step run. The circuit here is a hand-written step behind the
 * rt_circuit interface, as a host would see a compiled one. */
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
#include "run.h"

/* ---- a circuit: out = x, count of valid ticks in the state -------------- */

enum { IN_X = 0, IN_Y = 8, IN_B = 16, IN_SIZE = 24 };

static const rt_field INPUTS[] = {
    { .name = "x", .kind = RT_REAL, .offset = IN_X, .has_range = 1, .lo = 0, .hi = 1 },
    { .name = "y", .kind = RT_REAL, .offset = IN_Y, .has_range = 1, .lo = -1, .hi = 1 },
    { .name = "b", .kind = RT_BOOL, .offset = IN_B },
};
static const rt_field OUTPUTS[] = { { .name = "out", .kind = RT_REAL, .offset = 0 } };
static const rt_field STATE[] = { { .name = "count", .kind = RT_REAL, .offset = 0 } };

/* What the steps saw, for the random-input checks. */
typedef struct seen {
    double xmin, xmax, ymin, ymax;
    long steps;
    int flip_at; /* a reference that disagrees on this tick's status (-1: never) */
} seen;

static void init(void *ctx, void *state)
{
    (void)ctx;
    memset(state, 0, 8);
}

static double get(const void *blk, uint32_t off)
{
    double d;
    memcpy(&d, (const unsigned char *)blk + off, sizeof d);
    return d;
}

static int step(void *ctx, void *state, const void *in, void *out)
{
    seen *s = ctx;
    double x = get(in, IN_X), y = get(in, IN_Y);
    if (s) {
        s->xmin = fmin(s->xmin, x);
        s->xmax = fmax(s->xmax, x);
        s->ymin = fmin(s->ymin, y);
        s->ymax = fmax(s->ymax, y);
    }
    int bad = !(isfinite(x) && x >= 0 && x <= 1) || !(isfinite(y) && y >= -1 && y <= 1);
    memcpy(out, &x, sizeof x);
    if (!bad) {
        double n = get(state, 0) + 1;
        memcpy(state, &n, sizeof n);
    }
    if (s && s->flip_at >= 0 && s->steps++ == s->flip_at)
        bad = !bad;
    return bad;
}

static rt_circuit circuit(seen *s)
{
    return (rt_circuit){
        .module = "unit", .name = "ranged", .tick_seconds = 0.01,
        .inputs = INPUTS, .n_inputs = 3, .outputs = OUTPUTS, .n_outputs = 1,
        .state = STATE, .n_state = 1,
        .in_size = IN_SIZE, .out_size = 8, .state_size = 8,
        .ctx = s, .init = init, .step = step,
    };
}

/* ---- collecting what rt_run reports -------------------------------------- */

typedef struct sink {
    char msgs[16][512];
    int n;
} sink;

static void collect(void *ctx, const rt_error *e)
{
    sink *k = ctx;
    assert_null(e->file); /* unlocated: the message names its row itself */
    if (k->n < 16)
        strcpy(k->msgs[k->n], e->msg);
    k->n++;
}

static void parse(const char *text, rt_table *t)
{
    rt_error e = { 0 };
    if (!rt_csv_parse("in.csv", text, strlen(text), t, &e))
        fail_msg("parse: %s", e.msg);
}

/* Runs c over text (NULL: no table) and returns rt_run's result; the CSV
 * written goes to *csv (malloc'd). */
static int run(const rt_circuit *c, const char *text, rt_run_opts opt, sink *k, rt_error *err,
               char **csv)
{
    rt_table t = { 0 };
    if (text)
        parse(text, &t);
    size_t len = 0;
    FILE *f = open_memstream(csv, &len);
    assert_non_null(f);
    opt.out = f;
    opt.format = RT_OUT_CSV;
    opt.in_name = text ? "in.csv" : NULL;
    if (k) {
        opt.error = collect;
        opt.error_ctx = k;
    }
    memset(err, 0, sizeof *err);
    int ok = rt_run(c, text ? &t : NULL, &opt, err);
    fclose(f);
    rt_csv_free(&t);
    return ok;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* ---- tests -------------------------------------------------------------- */

static void test_valid_run(void **state)
{
    (void)state;
    rt_circuit c = circuit(NULL);
    sink k = { 0 };
    rt_error err;
    char *csv = NULL;
    int ok = run(&c, "x,y,b\n0,0,0\n1,-1,1\n0.5,1,0\n", (rt_run_opts){ .ticks = -1 }, &k, &err,
                 &csv);
    if (!ok)
        fail_msg("rt_run failed: %s", err.msg);
    assert_int_equal(k.n, 0);
    assert_string_equal(csv, "tick,time,out\n0,0,0\n1,0.01,1\n2,0.02,0.5\n");
    free(csv);
}

static void test_invalid_ticks(void **state)
{
    (void)state;
    /* 20 rows; rows 2..14 (13 of them) have x outside [0, 1] */
    char text[1024] = "x,y,b\n";
    for (int r = 0; r < 20; r++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s,0,%d\n",
                 r >= 2 && r <= 14 ? "1.5" : "0.25", r % 2);
    rt_circuit c = circuit(NULL);
    sink k = { 0 };
    rt_error err;
    char *csv = NULL;
    int ok = run(&c, text, (rt_run_opts){ .ticks = -1 }, &k, &err, &csv);
    assert_false(ok);
    assert_true(err.complete);
    assert_int_equal(k.n, RT_RUN_MAX_INVALID);
    /* row r is on line r + 2 (the header is line 1) */
    assert_string_equal(k.msgs[0], "tick 2 (line 4 of in.csv): input 'x' = 1.5 is outside its "
                                   "range [0, 1]: this tick's state was not advanced "
                                   "(learning frozen)");
    assert_non_null(strstr(k.msgs[9], "tick 11 (line 13 of in.csv): "));
    assert_string_equal(err.msg, "3 more ticks had invalid inputs (13 of 20 in all); their "
                                 "state was not advanced");
    assert_null(err.file);
    /* every tick's outputs were written, invalid ones included */
    assert_int_equal(count_lines(csv), 21);
    assert_non_null(strstr(csv, "\n2,0.02,1.5\n"));
    assert_non_null(strstr(csv, "\n19,0.19,0.25\n"));
    free(csv);

    /* the same, counted only */
    ok = run(&c, text, (rt_run_opts){ .ticks = -1 }, NULL, &err, &csv);
    assert_false(ok);
    assert_true(err.complete);
    assert_non_null(strstr(err.msg, "13 of 20 ticks had invalid inputs"));
    free(csv);
}

static void test_few_invalid_ticks(void **state)
{
    (void)state;
    rt_circuit c = circuit(NULL);
    sink k = { 0 };
    rt_error err;
    char *csv = NULL;
    /* two inputs wrong at once; then the last row held past the table's end */
    int ok = run(&c, "x,y,b\n0,0,0\n2,-3,1\n0,0,1\n-0.5,0,0\n", (rt_run_opts){ .ticks = 6 }, &k,
                 &err, &csv);
    assert_false(ok);
    assert_true(err.complete);
    assert_int_equal(k.n, 4);
    assert_string_equal(k.msgs[0], "tick 1 (line 3 of in.csv): input 'x' = 2 is outside its "
                                   "range [0, 1]; input 'y' = -3 is outside its range [-1, 1]: "
                                   "this tick's state was not advanced (learning frozen)");
    assert_non_null(strstr(k.msgs[1], "tick 3 (line 5 of in.csv): input 'x' = -0.5 is outside"));
    assert_non_null(strstr(k.msgs[3], "tick 5 (holding line 5 of in.csv): input 'x' = -0.5"));
    assert_string_equal(err.msg, "4 of 6 ticks had invalid inputs; their state was not advanced");
    assert_int_equal(count_lines(csv), 7);
    free(csv);
}

/* A table a host built itself may hold what a CSV file cannot: NaN, inf. */
static void test_not_finite(void **state)
{
    (void)state;
    char *names[] = { "x", "y", "b" };
    double data[] = { NAN, 0, 0, 0, -INFINITY, 1 };
    long lines[] = { 2, 3 };
    rt_table t = { .names = names, .ncols = 3, .data = data, .nrows = 2, .lines = lines,
                   .header_line = 1 };
    rt_circuit c = circuit(NULL);
    sink k = { 0 };
    rt_error err = { 0 };
    rt_run_opts opt = { .ticks = -1, .in_name = "host", .error = collect, .error_ctx = &k };
    assert_false(rt_run(&c, &t, &opt, &err));
    assert_int_equal(k.n, 2);
    assert_string_equal(k.msgs[0], "tick 0 (line 2 of host): input 'x' = nan is not finite: "
                                   "this tick's state was not advanced (learning frozen)");
    assert_non_null(strstr(k.msgs[1], "input 'y' = -inf is not finite"));
    assert_true(err.complete);
}

/* Random inputs are drawn inside declared ranges, bounds included, so a
 * random run is a valid run. */
static void test_random_inputs_in_range(void **state)
{
    (void)state;
    static const rt_field wide[] = {
        { .name = "x", .kind = RT_REAL, .offset = IN_X, .has_range = 1, .lo = 0.25, .hi = 0.5 },
        { .name = "y", .kind = RT_REAL, .offset = IN_Y, .has_range = 1, .lo = -DBL_MAX,
          .hi = DBL_MAX },
        { .name = "b", .kind = RT_BOOL, .offset = IN_B },
    };
    seen s = { INFINITY, -INFINITY, INFINITY, -INFINITY, 0, -1 };
    rt_circuit c = circuit(&s);
    c.inputs = wide;
    sink k = { 0 };
    rt_error err;
    char *csv = NULL;
    int ok = run(&c, NULL, (rt_run_opts){ .ticks = 5000, .random_seed = 7 }, &k, &err, &csv);
    /* y is huge, so the step (which wants [-1, 1]) may complain; x never */
    (void)ok;
    assert_true(s.xmin == 0.25 && s.xmax == 0.5);
    assert_true(s.ymin == -DBL_MAX && s.ymax == DBL_MAX);
    free(csv);

    /* a bound at infinity is never drawn itself (an infinite input is invalid) */
    static const rt_field open[] = {
        { .name = "x", .kind = RT_REAL, .offset = IN_X, .has_range = 1, .lo = 0, .hi = 1 },
        { .name = "y", .kind = RT_REAL, .offset = IN_Y, .has_range = 1, .lo = -INFINITY,
          .hi = -2 },
        { .name = "b", .kind = RT_BOOL, .offset = IN_B },
    };
    seen s1 = { INFINITY, -INFINITY, INFINITY, -INFINITY, 0, -1 };
    c = circuit(&s1);
    c.inputs = open;
    run(&c, NULL, (rt_run_opts){ .ticks = 2000, .random_seed = 3 }, NULL, &err, &csv);
    assert_true(isfinite(s1.ymin) && s1.ymax == -2);
    free(csv);

    /* the circuit's own ranges: every tick valid */
    seen s2 = { INFINITY, -INFINITY, INFINITY, -INFINITY, 0, -1 };
    c = circuit(&s2);
    k.n = 0;
    ok = run(&c, NULL, (rt_run_opts){ .ticks = 5000, .random_seed = 99 }, &k, &err, &csv);
    if (!ok)
        fail_msg("random run failed: %s (%s)", err.msg, k.n ? k.msgs[0] : "");
    assert_int_equal(k.n, 0);
    assert_true(s2.xmin == 0 && s2.xmax == 1 && s2.ymin == -1 && s2.ymax == 1);
    free(csv);
}

/* In lock step, a reference that disagrees on validity is a mismatch. */
static void test_reference_status_mismatch(void **state)
{
    (void)state;
    seen s = { INFINITY, -INFINITY, INFINITY, -INFINITY, 0, 2 };
    rt_circuit c = circuit(NULL), ref = circuit(&s);
    sink k = { 0 };
    rt_error err;
    char *csv = NULL;
    int ok = run(&c, "x,y,b\n0,0,0\n0,0,0\n0,0,0\n0,0,0\n",
                 (rt_run_opts){ .ticks = -1, .reference = &ref }, &k, &err, &csv);
    assert_false(ok);
    assert_false(err.complete);
    assert_string_equal(err.msg, "back ends disagree at tick 2 on whether its inputs are valid: "
                                 "valid, reference invalid");
    assert_int_equal(k.n, 0);
    free(csv);

    /* agreeing on an invalid tick is fine (and still fails the run) */
    seen s2 = { INFINITY, -INFINITY, INFINITY, -INFINITY, 0, -1 };
    ref = circuit(&s2);
    ok = run(&c, "x,y,b\n0,0,0\n7,0,0\n", (rt_run_opts){ .ticks = -1, .reference = &ref }, &k,
             &err, &csv);
    assert_false(ok);
    assert_true(err.complete);
    assert_int_equal(k.n, 1);
    free(csv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_run),
        cmocka_unit_test(test_invalid_ticks),
        cmocka_unit_test(test_few_invalid_ticks),
        cmocka_unit_test(test_not_finite),
        cmocka_unit_test(test_random_inputs_in_range),
        cmocka_unit_test(test_reference_status_mismatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
