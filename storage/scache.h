/*
 * scache.h — the readers' cache of decoded series blocks (storage/series_read.c).
 *
 * What it is for. A dashboard asks for the same day of data every time it
 * refreshes, and most of it lies in sealed blocks, which never change once
 * written (series.c: a span's block is written once, when every bucket in
 * it is sealed, and is only ever deleted afterwards). Decoding a block's
 * bit stream costs a few nanoseconds a sample; copying already decoded
 * samples costs a fraction of that. The cache keeps the samples of
 * recently read blocks, decoded, within a byte budget.
 *
 * DESIGN
 * - An entry is keyed by the block's database key (a tag for the database
 *   plus its 16-byte LMDB key). A key names one content for the life of a
 *   store: series_raw blocks are written with MDB_NOOVERWRITE and never
 *   changed, and a span deleted by retention is never written again (its
 *   buckets are sealed: late deltas are refused; ids are not reused). As a
 *   check on that, a lookup also compares the block's length and its first
 *   and last 8 bytes (as the caller's own transaction sees them) with the
 *   entry's, and misses when they differ. Comparing every byte would read
 *   the block's cold LMDB page and cost more than the cache saves.
 * - series_read.c also keeps whole chunks of final blocks under a key of
 *   their own (docs/storage.md, "Chunks"); those have no block bytes to
 *   compare (it passes a length of 0).
 * - Entries are immutable once inserted and reference counted: a reader
 *   uses an entry's samples without holding the lock, and an entry evicted
 *   while in use is freed by its last release.
 * - The cache is split into shards by key hash (16 for a budget of 16 MiB
 *   or more, else one), each with its own share of the budget, hash table
 *   (chained, doubled when full), eviction list and mutex, so that the
 *   threads reading one query's series rarely wait for each other. A
 *   shard's mutex is held for a lookup, an insert or a release, never
 *   while decoding. Eviction is second chance (CLOCK): a hit only marks the
 *   entry; the eviction end skips marked entries once, unmarking them.
 * - The budget counts each entry's samples and header; inserting past a
 *   shard's share evicts from that shard. An entry larger than the whole budget is not kept (the
 * caller still gets it, unshared).
 *
 * Threads: every function may be called from any thread, concurrently,
 * except scache_free (no other call may race with it). Errors: NULL from
 * scache_create / scache_entry_new means out of memory.
 */
#ifndef LLMTAP_SCACHE_H
#define LLMTAP_SCACHE_H

#include <stddef.h>
#include <stdint.h>

#define SCACHE_KEY_LEN 17 /* a database tag byte, then the 16-byte block key */

struct scache;

/* One decoded sample: absolute time (ms) and value. */
struct scache_sample {
    int64_t t;
    double v;
};

struct scache_entry {
    /* the caller's: the block's samples, ascending in t, and what the
     * caller noted of them when it filled them in */
    struct scache_sample *s;
    size_t n;
    /* or, once the caller made it compact (scache_entry_compact; s is then
     * NULL), sample i is (t0 + i * step, v0 + d[i]): 4 bytes a sample
     * instead of 16, for samples on a grid whose values differ from the
     * first by whole numbers (counters) */
    const int32_t *d;
    int64_t t0, step;
    double v0;
    int64_t maxgap;     /* largest t step between neighbours (0: n < 2) */
    size_t drops, nans; /* samples lower than the one before; NaN values */
    int unordered;      /* a t not above the one before */
    /* the cache's */
    struct scache_entry *hnext, *prev, *next;
    uint64_t hash;
    size_t refs, cost;
    int linked;     /* in the table and the eviction list */
    int referenced; /* hit since the eviction end last passed it */
    uint8_t key[SCACHE_KEY_LEN];
    size_t len;       /* the block's length */
    uint8_t edge[16]; /* its first and last 8 bytes (fewer when shorter) */
};

struct scache_stats {
    uint64_t hits, misses, inserts, evictions;
    uint64_t entries, bytes, max_bytes;
};

/* A cache of at most max_bytes (> 0). */
struct scache *scache_create(size_t max_bytes);
/* Frees the cache and every entry; no entry may still be held. NULL is
 * accepted. */
void scache_free(struct scache *c);

/* The entry for key whose block p[0, len) has the same length and edge
 * bytes, held (release it), or NULL (a miss, counted). */
struct scache_entry *scache_get(struct scache *c, const uint8_t key[SCACHE_KEY_LEN], const void *p,
                                size_t len);
/* A new, unshared entry for key and the block p[0, len), with room for n
 * samples at ->s (->n is set to n; the caller fills them). NULL: no
 * memory. */
struct scache_entry *scache_entry_new(const uint8_t key[SCACHE_KEY_LEN], const void *p, size_t len,
                                      size_t n);
/* Makes a filled entry from scache_entry_new, not yet inserted, compact
 * when its n samples allow (n >= 2, times on a grid, and every value
 * exactly v0 + an int32), and gives its spare memory back; returns the
 * entry, which may have moved (the same one, full, otherwise). */
struct scache_entry *scache_entry_compact(struct scache_entry *e);
/* Inserts a filled entry from scache_entry_new, replacing an entry of the
 * same key, and keeps holding it for the caller (release it). */
void scache_put(struct scache *c, struct scache_entry *e);
/* Gives back an entry from scache_get or scache_put, or an unshared one
 * from scache_entry_new (then freed). */
void scache_release(struct scache *c, struct scache_entry *e);

void scache_stats(struct scache *c, struct scache_stats *out);

#endif
