/*
 * arena.h — a bump allocator for short-lived parse trees.
 *
 * What it is for: the collector parses every consumed event with cJSON and
 * throws the tree away microseconds later. With an arena active on a thread
 * (arena_activate), cJSON's allocations on that thread come from the arena,
 * cJSON's frees there do nothing, and arena_reset() releases a whole tree at
 * once — no per-node malloc/free, no tree walk. Other threads, and the same
 * thread with no arena active, use malloc as usual.
 *
 * arena_install_cjson_hooks() must run once before any thread parses JSON
 * (cJSON's hooks are process-wide); daemon_start() and the tests call it.
 */
#ifndef LLMTAP_ARENA_H
#define LLMTAP_ARENA_H

#include <stddef.h>

struct arena;

struct arena *arena_create(size_t chunk_bytes);
void arena_destroy(struct arena *a); /* accepts NULL */
void *arena_alloc(struct arena *a, size_t n);
/* Forgets every allocation; keeps the first chunk for reuse. */
void arena_reset(struct arena *a);

/* Routes cJSON's allocations on the calling thread to `a` (NULL: back to malloc). */
void arena_activate(struct arena *a);
void arena_install_cjson_hooks(void);

#endif
