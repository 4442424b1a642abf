/* arena.h — region allocator: every allocation of one compilation comes from
 * an arena and is released at once by arena_free.
 *
 * Ownership: the caller owns the arena; memory returned by arena_* belongs to
 * the arena and must never be passed to free(). All allocation goes through
 * one hook (arena_set_fail_after) so a test can make the Nth allocation fail.
 */
#ifndef DRIVE_ARENA_H
#define DRIVE_ARENA_H

#include <stddef.h>

typedef struct arena_block arena_block;

typedef struct arena {
    arena_block *head;
    size_t total; /* bytes handed out, for statistics */
} arena;

void arena_init(arena *a);
void arena_free(arena *a);

/* Zeroed, 16-byte aligned memory. Aborts with a message when the system is out
 * of memory: a compiler cannot recover from that meaningfully. */
void *arena_alloc(arena *a, size_t size);
void *arena_calloc(arena *a, size_t count, size_t size); /* overflow-checked */
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_printf(arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Growable array of pointers or small structs stored in an arena. */
typedef struct arena_vec {
    void *data;
    size_t len, cap, elem;
} arena_vec;

void arena_vec_init(arena_vec *v, size_t elem);
void *arena_vec_push(arena *a, arena_vec *v); /* returns the zeroed new slot */

/* Testing hook: after n more successful allocations, the next one aborts as
 * if out of memory (n < 0 disables). */
void arena_set_fail_after(long n);

#endif
