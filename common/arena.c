/*
 * arena.c — bump allocator and the cJSON hooks that use it per thread.
 *
 * DESIGN
 * - Chunks are malloc'd blocks chained in a list; allocations are 16-byte
 *   aligned bumps in the newest chunk; a request larger than a chunk gets a
 *   chunk of its own. Reset frees every chunk but the first.
 * - The hooks read a thread-local pointer: an allocation is served by the
 *   active arena or by malloc; a free is ignored when the pointer lies in one
 *   of the active arena's chunks, else passed to free. So a tree allocated
 *   before activation, or on another thread, is freed normally.
 */
#include "arena.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

struct chunk {
    struct chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

struct arena {
    struct chunk *head; /* newest first; the last one is kept on reset */
    size_t chunk_bytes;
};

static _Thread_local struct arena *tls_arena;

struct arena *arena_create(size_t chunk_bytes)
{
    struct arena *a = calloc(1, sizeof *a);
    if (a)
        a->chunk_bytes = chunk_bytes ? chunk_bytes : 256 * 1024;
    return a;
}

void arena_destroy(struct arena *a)
{
    if (!a)
        return;
    for (struct chunk *c = a->head, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    free(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        size_t size = n > a->chunk_bytes ? n : a->chunk_bytes;
        c = malloc(sizeof *c + size);
        if (!c)
            return NULL;
        c->size = size;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

void arena_reset(struct arena *a)
{
    struct chunk *c = a->head;
    if (!c)
        return;
    while (c->next) {
        struct chunk *n = c->next;
        free(c);
        c = n;
    }
    c->used = 0;
    a->head = c;
}

static int owns(const struct arena *a, const void *p)
{
    for (const struct chunk *c = a->head; c; c = c->next)
        if ((const unsigned char *)p >= c->data && (const unsigned char *)p < c->data + c->size)
            return 1;
    return 0;
}

static void *hook_malloc(size_t n)
{
    struct arena *a = tls_arena;
    return a ? arena_alloc(a, n) : malloc(n);
}

static void hook_free(void *p)
{
    struct arena *a = tls_arena;
    if (p && !(a && owns(a, p)))
        free(p);
}

void arena_activate(struct arena *a)
{
    tls_arena = a;
}

static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void install(void)
{
    cJSON_Hooks h = {.malloc_fn = hook_malloc, .free_fn = hook_free};
    cJSON_InitHooks(&h);
}

void arena_install_cjson_hooks(void)
{
    pthread_once(&hooks_once, install);
}
