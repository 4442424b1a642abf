/* test_arena.c — the region allocator: alignment, zeroing, vectors, printf
 * and allocations larger than a block. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"

static int all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

static void test_alignment(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    /* Odd sizes must not push later allocations off 16-byte alignment. */
    static const size_t sizes[] = { 1, 3, 7, 8, 15, 16, 17, 31, 33, 100, 1000, 4097 };
    for (int round = 0; round < 50; round++)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            void *p = arena_alloc(&a, sizes[i]);
            assert_non_null(p);
            assert_int_equal((uintptr_t)p % 16, 0);
        }
    void *z = arena_alloc(&a, 0);
    assert_non_null(z);
    assert_int_equal((uintptr_t)z % 16, 0);
    void *c = arena_calloc(&a, 3, 5);
    assert_int_equal((uintptr_t)c % 16, 0);
    char *s = arena_strdup(&a, "x");
    assert_int_equal((uintptr_t)s % 16, 0);
    arena_free(&a);
    assert_null(a.head);
    assert_int_equal(a.total, 0);
}

static void test_distinct_and_zeroed(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    /* Fill every allocation with a pattern: none may overlap another, and each
     * fresh one must come back zeroed even after earlier ones were dirtied. */
    enum { N = 2000 };
    unsigned char *ptrs[N];
    size_t lens[N];
    for (int i = 0; i < N; i++) {
        lens[i] = (size_t)(i * 37 % 200) + 1;
        ptrs[i] = arena_alloc(&a, lens[i]);
        assert_true(all_zero(ptrs[i], lens[i]));
        memset(ptrs[i], (i % 255) + 1, lens[i]);
    }
    for (int i = 0; i < N; i++)
        for (size_t k = 0; k < lens[i]; k++)
            assert_int_equal(ptrs[i][k], (i % 255) + 1);
    double *d = arena_calloc(&a, 1000, sizeof *d);
    assert_true(all_zero(d, 1000 * sizeof *d));
    assert_true(a.total >= 1000 * sizeof *d);
    arena_free(&a);
}

static void test_strings(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    const char *src = "hello, world";
    char *s = arena_strdup(&a, src);
    assert_ptr_not_equal(s, src);
    assert_string_equal(s, src);
    char *t = arena_strndup(&a, "abcdef", 3);
    assert_string_equal(t, "abc");
    char *u = arena_strndup(&a, "a\0b", 3); /* embedded NUL copied, then terminated */
    assert_memory_equal(u, "a\0b\0", 4);
    char *p = arena_printf(&a, "%s=%d;%.3f;%x", "n", -42, 0.5, 255u);
    assert_string_equal(p, "n=-42;0.500;ff");
    char *e = arena_printf(&a, "%s", "");
    assert_string_equal(e, "");
    /* A formatted string far longer than any small buffer. */
    char *big = arena_printf(&a, "%0*d|", 100000, 7);
    assert_int_equal(strlen(big), 100001);
    assert_int_equal(big[99999], '7');
    assert_int_equal(big[0], '0');
    assert_int_equal(big[100000], '|');
    arena_free(&a);
}

typedef struct pair {
    int key;
    double val;
    char tag[5];
} pair;

static void test_vec_growth(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    arena_vec v;
    arena_vec_init(&v, sizeof(pair));
    assert_int_equal(v.len, 0);
    assert_null(v.data);
    enum { N = 10000 };
    size_t last_cap = 0;
    int growths = 0;
    for (int i = 0; i < N; i++) {
        pair *p = arena_vec_push(&a, &v);
        assert_non_null(p);
        assert_true(all_zero(p, sizeof *p));
        p->key = i;
        p->val = i * 0.5;
        memcpy(p->tag, "abcd", 5);
        assert_int_equal(v.len, (size_t)i + 1);
        assert_true(v.cap >= v.len);
        if (v.cap != last_cap) {
            growths++;
            last_cap = v.cap;
        }
    }
    assert_true(growths > 5); /* it did reallocate, many times */
    const pair *d = v.data;
    for (int i = 0; i < N; i++) {
        assert_int_equal(d[i].key, i);
        assert_true(d[i].val == i * 0.5);
        assert_string_equal(d[i].tag, "abcd");
    }
    /* A vector of pointers, as the compiler uses them. */
    arena_vec pv;
    arena_vec_init(&pv, sizeof(char *));
    for (int i = 0; i < 100; i++)
        *(char **)arena_vec_push(&a, &pv) = arena_printf(&a, "s%d", i);
    for (int i = 0; i < 100; i++) {
        char want[16];
        snprintf(want, sizeof want, "s%d", i);
        assert_string_equal(((char **)pv.data)[i], want);
    }
    arena_free(&a);
}

static void test_big_allocations(void **state)
{
    (void)state;
    arena a;
    arena_init(&a);
    /* Start a normal block, then ask for more than a block holds. */
    unsigned char *small1 = arena_alloc(&a, 100);
    memset(small1, 0x11, 100);
    size_t bigsz = 1u << 20; /* 1 MiB, far beyond the 64 KiB block */
    unsigned char *big = arena_alloc(&a, bigsz);
    assert_int_equal((uintptr_t)big % 16, 0);
    assert_true(all_zero(big, bigsz));
    memset(big, 0x22, bigsz);
    /* Smaller allocations keep working and never land inside the big one. */
    unsigned char *small2 = arena_alloc(&a, 100);
    assert_true(all_zero(small2, 100));
    assert_true(small2 + 100 <= big || small2 >= big + bigsz);
    memset(small2, 0x33, 100);
    unsigned char *big2 = arena_alloc(&a, bigsz + 1);
    assert_true(all_zero(big2, bigsz + 1));
    memset(big2, 0x44, bigsz + 1);
    /* Exactly one block's worth, and a block plus one. */
    unsigned char *exact = arena_alloc(&a, 64 * 1024);
    assert_true(all_zero(exact, 64 * 1024));
    memset(exact, 0x55, 64 * 1024);
    unsigned char *over = arena_alloc(&a, 64 * 1024 + 1);
    assert_true(all_zero(over, 64 * 1024 + 1));
    memset(over, 0x66, 64 * 1024 + 1);
    for (size_t i = 0; i < 100; i++) {
        assert_int_equal(small1[i], 0x11);
        assert_int_equal(small2[i], 0x33);
    }
    for (size_t i = 0; i < bigsz; i += 4093)
        assert_int_equal(big[i], 0x22);
    assert_int_equal(big[bigsz - 1], 0x22);
    assert_int_equal(big2[bigsz], 0x44);
    assert_int_equal(exact[64 * 1024 - 1], 0x55);
    assert_int_equal(over[64 * 1024], 0x66);
    assert_true(a.total >= 2 * bigsz + 128 * 1024);
    /* Many small allocations after the big ones. */
    for (int i = 0; i < 5000; i++) {
        unsigned char *p = arena_alloc(&a, 24);
        assert_true(all_zero(p, 24));
        memset(p, 0x77, 24);
    }
    assert_int_equal(big[12345], 0x22);
    arena_free(&a);
    /* The arena is reusable after arena_free. */
    char *again = arena_strdup(&a, "again");
    assert_string_equal(again, "again");
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment),
        cmocka_unit_test(test_distinct_and_zeroed),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_vec_growth),
        cmocka_unit_test(test_big_allocations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
