/* arena.c — bump allocator over a chain of malloc'd blocks. */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
    arena_block *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
};

enum { BLOCK_MIN = 64 * 1024 };

static long fail_after = -1;

void arena_set_fail_after(long n) { fail_after = n; }

static void *checked_malloc(size_t n)
{
    if (fail_after == 0) {
        fprintf(stderr, "drive: out of memory (injected)\n");
        abort();
    }
    if (fail_after > 0)
        fail_after--;
    void *p = malloc(n);
    if (!p) {
        fprintf(stderr, "drive: out of memory\n");
        abort();
    }
    return p;
}

void arena_init(arena *a) { a->head = NULL; a->total = 0; }

void arena_free(arena *a)
{
    arena_block *b = a->head;
    while (b) {
        arena_block *n = b->next;
        free(b);
        b = n;
    }
    a->head = NULL;
    a->total = 0;
}

void *arena_alloc(arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    arena_block *b = a->head;
    if (!b || b->size - b->used < size) {
        size_t bs = size > BLOCK_MIN ? size : BLOCK_MIN;
        if (bs > SIZE_MAX - sizeof(arena_block)) {
            fprintf(stderr, "drive: allocation too large\n");
            abort();
        }
        b = checked_malloc(sizeof(arena_block) + bs);
        b->size = bs;
        b->used = 0;
        /* A big one-off block goes behind the head so the head keeps its space. */
        if (a->head && size > BLOCK_MIN) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = b->data + b->used;
    b->used += size;
    a->total += size;
    memset(p, 0, size);
    return p;
}

void *arena_calloc(arena *a, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) {
        fprintf(stderr, "drive: allocation too large\n");
        abort();
    }
    return arena_alloc(a, count * size);
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *arena_strdup(arena *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

char *arena_printf(arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    char *p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void arena_vec_init(arena_vec *v, size_t elem)
{
    v->data = NULL;
    v->len = v->cap = 0;
    v->elem = elem;
}

void *arena_vec_push(arena *a, arena_vec *v)
{
    if (v->len == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        void *d = arena_calloc(a, cap, v->elem);
        if (v->len)
            memcpy(d, v->data, v->len * v->elem);
        v->data = d; /* the old buffer stays in the arena until it is freed */
        v->cap = cap;
    }
    void *slot = (unsigned char *)v->data + v->len * v->elem;
    v->len++;
    memset(slot, 0, v->elem);
    return slot;
}
