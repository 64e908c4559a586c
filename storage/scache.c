/*
 * scache.c — the readers' cache of decoded series blocks. API and design:
 * scache.h.
 */
#include "scache.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(struct scache_entry) % _Alignof(struct scache_sample) == 0,
               "samples follow the header aligned");

/* A part of the cache with its own lock (entries by hash). */
struct shard {
    pthread_mutex_t mu;
    struct scache_entry **tab;
    size_t nbuckets, entries;         /* nbuckets: a power of two */
    struct scache_entry *head, *tail; /* LRU: head = most recent */
    size_t bytes, max_bytes;
    uint64_t hits, misses, inserts, evictions;
};

#define MAX_SHARDS   16
#define SHARD_MIN_MB 16 /* a budget below 16 MiB is one shard */

struct scache {
    struct shard sh[MAX_SHARDS];
    unsigned nshards; /* a power of two */
};

/* FNV-1a over the key, then a final mix (keys differ mostly in a few
 * bytes: the block's start and the series id). */
static uint64_t key_hash(const uint8_t *k)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < SCACHE_KEY_LEN; i++)
        h = (h ^ k[i]) * 1099511628211ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static int shard_init(struct shard *c, size_t max_bytes)
{
    c->nbuckets = 256;
    c->tab = calloc(c->nbuckets, sizeof *c->tab);
    if (!c->tab || pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c->tab);
        return -1;
    }
    c->max_bytes = max_bytes;
    return 0;
}

struct scache *scache_create(size_t max_bytes)
{
    if (!max_bytes)
        return NULL;
    struct scache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->nshards = max_bytes >= (size_t)SHARD_MIN_MB << 20 ? MAX_SHARDS : 1;
    for (unsigned i = 0; i < c->nshards; i++)
        if (shard_init(&c->sh[i], max_bytes / c->nshards) != 0) {
            c->nshards = i;
            scache_free(c);
            return NULL;
        }
    return c;
}

/* The shard of a key's hash (the table uses its low bits). */
static struct shard *shard_of(struct scache *c, uint64_t h)
{
    return &c->sh[(h >> 56) & (c->nshards - 1)];
}

static void entry_free(struct scache_entry *e)
{
    free(e);
}

void scache_free(struct scache *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < c->nshards; i++) {
        struct shard *sh = &c->sh[i];
        for (struct scache_entry *e = sh->head, *nx; e; e = nx) {
            nx = e->next;
            entry_free(e);
        }
        free(sh->tab);
        pthread_mutex_destroy(&sh->mu);
    }
    free(c);
}

static void lru_unlink(struct shard *c, struct scache_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_front(struct shard *c, struct scache_entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

/* Takes e out of the table and the list; frees it unless it is held. */
static void drop(struct shard *c, struct scache_entry *e)
{
    struct scache_entry **pp = &c->tab[e->hash & (c->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    e->hnext = NULL;
    lru_unlink(c, e);
    e->linked = 0;
    c->entries--;
    c->bytes -= e->cost;
    if (e->refs == 0)
        entry_free(e);
}

static void grow(struct shard *c)
{
    size_t nb = c->nbuckets * 2;
    struct scache_entry **t = calloc(nb, sizeof *t);
    if (!t)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < c->nbuckets; i++)
        for (struct scache_entry *e = c->tab[i], *nx; e; e = nx) {
            nx = e->hnext;
            e->hnext = t[e->hash & (nb - 1)];
            t[e->hash & (nb - 1)] = e;
        }
    free(c->tab);
    c->tab = t;
    c->nbuckets = nb;
}

static struct scache_entry *find(struct shard *c, const uint8_t *key, uint64_t h)
{
    for (struct scache_entry *e = c->tab[h & (c->nbuckets - 1)]; e; e = e->hnext)
        if (e->hash == h && memcmp(e->key, key, SCACHE_KEY_LEN) == 0)
            return e;
    return NULL;
}

/* The first and last 8 bytes of p[0, len) (all of it when shorter than
 * 16), zero-padded. */
static void edge_of(const uint8_t *p, size_t len, uint8_t out[16])
{
    memset(out, 0, 16);
    if (len == 0) /* p may be NULL */
        return;
    if (len <= 16) {
        memcpy(out, p, len);
    } else {
        memcpy(out, p, 8);
        memcpy(out + 8, p + len - 8, 8);
    }
}

struct scache_entry *scache_get(struct scache *cache, const uint8_t key[SCACHE_KEY_LEN],
                                const void *p, size_t len)
{
    uint64_t h = key_hash(key);
    struct shard *c = shard_of(cache, h);
    uint8_t edge[16];
    edge_of(p, len, edge);
    pthread_mutex_lock(&c->mu);
    struct scache_entry *e = find(c, key, h);
    if (e && (e->len != len || memcmp(e->edge, edge, 16) != 0))
        e = NULL;
    if (e) {
        e->refs++;
        e->referenced = 1;
        c->hits++;
    } else {
        c->misses++;
    }
    pthread_mutex_unlock(&c->mu);
    return e;
}

struct scache_entry *scache_entry_new(const uint8_t key[SCACHE_KEY_LEN], const void *p, size_t len,
                                      size_t n)
{
    if (n > (SIZE_MAX - sizeof(struct scache_entry)) / sizeof(struct scache_sample))
        return NULL;
    /* one block: the header, then the samples (aligned: the header's size
     * is a multiple of 8) */
    size_t cost = sizeof(struct scache_entry) + n * sizeof(struct scache_sample);
    struct scache_entry *e = malloc(cost);
    if (!e)
        return NULL;
    memset(e, 0, sizeof *e);
    e->s = (struct scache_sample *)(e + 1);
    e->n = n;
    e->len = len;
    edge_of(p, len, e->edge);
    memcpy(e->key, key, SCACHE_KEY_LEN);
    e->hash = key_hash(key);
    e->cost = cost;
    e->refs = 1;
    return e;
}

struct scache_entry *scache_entry_compact(struct scache_entry *e)
{
    size_t n = e->n;
    if (n < 2 || !e->s)
        return e;
    const struct scache_sample *p = e->s;
    int64_t t0 = p[0].t, step = p[1].t - p[0].t;
    double v0 = p[0].v;
    if (step <= 0)
        return e;
    /* every neighbour step the same, every value v0 plus an int32 that
     * gives back its exact bits (no NaN, no -0 for +0, nothing rounded) */
    for (size_t i = 0; i < n; i++) {
        if (p[i].t != t0 + (int64_t)i * step)
            return e;
        double x = p[i].v - v0;
        if (!(x >= (double)INT32_MIN && x <= (double)INT32_MAX))
            return e;
        double back = v0 + (double)(int32_t)x;
        if (memcmp(&back, &p[i].v, sizeof back) != 0)
            return e;
    }
    /* in place, front to back: d[i] (bytes 4i..4i+3) only overwrites
     * samples before i, already converted */
    unsigned char *b = (unsigned char *)(e + 1);
    for (size_t i = 0; i < n; i++) {
        double v;
        memcpy(&v, b + i * sizeof(struct scache_sample) + offsetof(struct scache_sample, v),
               sizeof v);
        int32_t x = (int32_t)(v - v0);
        memcpy(b + i * sizeof x, &x, sizeof x);
    }
    size_t cost = sizeof(struct scache_entry) + n * sizeof(int32_t);
    struct scache_entry *m = realloc(e, cost);
    if (m) /* else the larger block stays, compact inside */
        e = m;
    else
        cost = e->cost;
    e->s = NULL;
    e->d = (const int32_t *)(e + 1);
    e->t0 = t0;
    e->step = step;
    e->v0 = v0;
    e->cost = cost;
    return e;
}

void scache_put(struct scache *cache, struct scache_entry *e)
{
    struct shard *c = shard_of(cache, e->hash);
    pthread_mutex_lock(&c->mu);
    if (e->cost > c->max_bytes) { /* never kept; stays the caller's alone */
        pthread_mutex_unlock(&c->mu);
        return;
    }
    struct scache_entry *old = find(c, e->key, e->hash);
    if (old)
        drop(c, old);
    while (c->bytes + e->cost > c->max_bytes && c->tail) {
        struct scache_entry *t = c->tail;
        if (t->referenced) { /* second chance */
            t->referenced = 0;
            lru_unlink(c, t);
            lru_front(c, t);
            continue;
        }
        drop(c, t);
        c->evictions++;
    }
    if (c->entries + 1 > c->nbuckets)
        grow(c);
    size_t b = e->hash & (c->nbuckets - 1);
    e->hnext = c->tab[b];
    c->tab[b] = e;
    lru_front(c, e);
    e->linked = 1;
    c->entries++;
    c->bytes += e->cost;
    c->inserts++;
    pthread_mutex_unlock(&c->mu);
}

void scache_release(struct scache *cache, struct scache_entry *e)
{
    if (!e)
        return;
    struct shard *c = cache ? shard_of(cache, e->hash) : NULL;
    int last;
    if (c)
        pthread_mutex_lock(&c->mu);
    last = --e->refs == 0 && !e->linked;
    if (c)
        pthread_mutex_unlock(&c->mu);
    if (last)
        entry_free(e);
}

void scache_stats(struct scache *c, struct scache_stats *out)
{
    *out = (struct scache_stats){0};
    for (unsigned i = 0; i < c->nshards; i++) {
        struct shard *sh = &c->sh[i];
        pthread_mutex_lock(&sh->mu);
        out->hits += sh->hits;
        out->misses += sh->misses;
        out->inserts += sh->inserts;
        out->evictions += sh->evictions;
        out->entries += sh->entries;
        out->bytes += sh->bytes;
        out->max_bytes += sh->max_bytes;
        pthread_mutex_unlock(&sh->mu);
    }
}
