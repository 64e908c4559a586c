/*
 * series_read.c — the readers of the series store: series_read and
 * series_read_to (API: series.h), which decode a series' blocks and head
 * record, as committed when the caller's transaction began, into samples.
 *
 * DESIGN
 * - A read is one LMDB lookup per block span (series_raw, series_ds), the
 *   open block and the open buckets of the head record (decoded with
 *   srules_walk, as the writer seals them), in time order, into one array
 *   of (t, v, resolution); downsampled spans not yet stored are computed
 *   on the fly with the writer's own rule (series_i_ds_start, srules_ds).
 * - With a cache, sealed blocks come from it (scache.h), one by one or,
 *   for a chunk of CHUNK_BLOCKS final blocks, as one entry
 *   (raw_chunk_cached; why it is sound: docs/storage.md, "Chunks").
 * - Base blocks are decoded a run of samples at a time
 *   (sblock_dec_bulk) and appended to the read's array in one loop
 *   (range_add_bulk), not through a callback per sample. The array is
 *   sized once for a sample per grid point of the range (up to 2 MiB)
 *   instead of doubling from 16 samples.
 * - SERIES_READ_FILL repeats each held value on its grid for stale_ms
 *   after it (never past the writer's last now): counted first, then
 *   written straight into the caller's memory (series_read_to's sink), so
 *   the samples are copied once; a dense run (the next sample one step
 *   later) costs no fill work.
 * - As samples are gathered, the read notes their facts (rvec_note: a gap
 *   above the step, values lower than the one before, NaNs, order); a
 *   cached entry's are noted once, when it is decoded (entry_note). When
 *   the gathered samples are dense (one run, no gap), the answer is the
 *   samples from the range's start plus the last value held after it,
 *   written in one copy without fill_out's counting pass, and its facts
 *   come from the notes (the caller's pass over them is saved: the PromQL
 *   source's checks).
 * - Readers share nothing with the writer but LMDB and immutable settings:
 *   any thread, any number at once.
 */
#include "series_int.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading samples ---------------------------------------------------- */

/* The samples read, time ascending, and the grid step of each run of them
 * (base samples: R; downsampled points: DS), kept apart so that a sample
 * is 16 bytes, as the caller's usually is. */
struct rpt {
    int64_t t;
    double v;
};

struct rseg {
    size_t from; /* first sample of the run */
    int64_t step;
};

struct rvec {
    struct rpt *v;
    size_t n, cap;
    struct rseg *seg;
    size_t nseg, segcap;
    /* noted as samples are appended, over all of v (rvec_note): a step
     * between neighbours larger than the run's, samples lower than the one
     * before, NaN values, a time not above the one before */
    int gappy;
    size_t drops, nans;
    int unordered;
};

/* What a run of samples is like: its largest step between neighbours,
 * values lower than the one before, NaNs, a time not above the one
 * before (a cache entry keeps its own: scache_entry's caller's fields). */
struct notes {
    int64_t maxgap;
    size_t drops, nans;
    int unordered;
};

/* The notes of n samples p that follow prev (NULL: none). */
static struct notes note_run(const struct rpt *prev, const struct rpt *p, size_t n)
{
    struct notes o = {0};
    for (size_t j = 0; j < n; j++) {
        const struct rpt *q = j ? &p[j - 1] : prev;
        o.nans += isnan(p[j].v) != 0;
        if (!q)
            continue;
        int64_t gap = p[j].t - q->t;
        o.maxgap = gap > o.maxgap ? gap : o.maxgap;
        o.drops += p[j].v < q->v;
        o.unordered |= gap <= 0;
    }
    return o;
}

/* Adds notes to r's; step: the run's. */
static void rvec_add_notes(struct rvec *r, struct notes o, int64_t step)
{
    r->drops += o.drops;
    r->nans += o.nans;
    r->gappy |= o.maxgap > step;
    r->unordered |= o.unordered;
}

/* Notes n samples p, just appended after prev (NULL: the first), in r's
 * facts. */
static void rvec_note(struct rvec *r, const struct rpt *prev, const struct rpt *p, size_t n,
                      int64_t step)
{
    rvec_add_notes(r, note_run(prev, p, n), step);
}

/* Starts a run of step from sample n on, unless the last run has it. */
static int rvec_step(struct rvec *r, int64_t step)
{
    if (r->nseg && r->seg[r->nseg - 1].step == step)
        return 0;
    if (r->nseg && r->seg[r->nseg - 1].from == r->n) {
        r->seg[r->nseg - 1].step = step;
        return 0;
    }
    if (r->nseg == r->segcap) {
        void *p = r->seg;
        if (series_i_grow(&p, &r->segcap, r->nseg + 1, sizeof *r->seg))
            return SERIES_ENOMEM;
        r->seg = p;
    }
    r->seg[r->nseg++] = (struct rseg){r->n, step};
    return 0;
}

static int rvec_push(struct rvec *r, int64_t t, double v, int64_t step)
{
    if (r->n == r->cap) {
        void *p = r->v;
        if (series_i_grow(&p, &r->cap, r->n + 1, sizeof *r->v))
            return SERIES_ENOMEM;
        r->v = p;
    }
    if (rvec_step(r, step))
        return SERIES_ENOMEM;
    r->v[r->n] = (struct rpt){t, v};
    rvec_note(r, r->n ? &r->v[r->n - 1] : NULL, &r->v[r->n], 1, step);
    r->n++;
    return 0;
}

/* Calls fn for every base sample of series id in blocks kfrom..kto (sealed
 * blocks, the open block, then open buckets), in time order. */
struct rawfn {
    int (*fn)(void *ud, int64_t t, double v, int64_t k);
    void *ud;
    struct series_db *s;
    int64_t kfrom, kto;
    /* when set, called instead of fn with a block's samples a run at a
     * time (offsets u in block k) */
    int (*bulk)(void *ud, int64_t k, const uint32_t *u, const double *v, size_t n);
    /* when set, called instead of fn with a sealed block's samples from
     * the cache (s->cache), all at once, or a whole chunk's (below) */
    int (*slice)(void *ud, const struct scache_entry *e);
    /* the store's sealed_to (bucket index; NONE: unknown), for chunks */
    int64_t sealed;
};

/* Blocks per chunk: with a cache, the blocks of a chunk every bucket of
 * which is sealed and none of which is still in the head are read as one
 * cache entry (one lookup and one copy instead of CHUNK_BLOCKS). */
#define CHUNK_BLOCKS 8

static int raw_block(struct rawfn *f, int64_t k, const void *p, size_t len)
{
    struct sblock_dec d;
    uint32_t u[256];
    double v[256];
    int n;
    if (sblock_dec_init(&d, p, len, (uint32_t)f->s->N))
        return SERIES_ECORRUPT;
    while ((n = sblock_dec_bulk(&d, u, v, 256)) > 0) {
        int rc = 0;
        if (f->bulk)
            rc = f->bulk(f->ud, k, u, v, (size_t)n);
        else
            for (int i = 0; i < n && !rc; i++)
                rc = f->fn(f->ud, (k * f->s->N + (int64_t)u[i]) * f->s->R, v[i], k);
        if (rc)
            return rc;
    }
    return n ? SERIES_ECORRUPT : 0;
}

/* Sample i of a cached entry, full or compact. */
static inline struct rpt entry_at(const struct scache_entry *e, size_t i)
{
    if (e->d)
        return (struct rpt){e->t0 + (int64_t)i * e->step, e->v0 + (double)e->d[i]};
    return (struct rpt){e->s[i].t, e->s[i].v};
}

/* Notes an entry's facts (scache_entry's caller's fields) once filled
 * (struct rpt and struct scache_sample are the same layout). */
static void entry_note(struct scache_entry *e)
{
    struct notes o = note_run(NULL, (const struct rpt *)e->s, e->n);
    e->maxgap = o.maxgap;
    e->drops = o.drops;
    e->nans = o.nans;
    e->unordered = o.unordered;
}

/* Decodes block k (p[0, len), cnt samples by sblock_count) into out as
 * absolute times; SERIES_ECORRUPT when it does not hold cnt samples. */
static int decode_block(const struct series_db *s, int64_t k, const void *p, size_t len, size_t cnt,
                        struct scache_sample *out)
{
    struct sblock_dec d;
    uint32_t u[256];
    double v[256];
    int n;
    size_t got = 0;
    int64_t base = k * s->N, R = s->R;
    if (sblock_dec_init(&d, p, len, (uint32_t)s->N))
        return SERIES_ECORRUPT;
    while ((n = sblock_dec_bulk(&d, u, v, 256)) > 0 && got + (size_t)n <= cnt)
        for (int i = 0; i < n; i++)
            out[got++] = (struct scache_sample){(base + (int64_t)u[i]) * R, v[i]};
    return n != 0 || got != cnt ? SERIES_ECORRUPT : 0;
}

/* A sealed block (key: its series_raw key) through the cache: the
 * decoded samples of the same bytes when the cache has them, else the
 * block decoded whole and cached. */
static int raw_block_cached(struct rawfn *f, int64_t k, const uint8_t *bkey, const uint8_t *p,
                            size_t len)
{
    struct scache *c = f->s->cache;
    uint8_t key[SCACHE_KEY_LEN];
    key[0] = 'r';
    memcpy(key + 1, bkey, 16);
    struct scache_entry *e = scache_get(c, key, p, len);
    if (!e) {
        uint32_t cnt;
        if (sblock_count(p, len, &cnt))
            return SERIES_ECORRUPT;
        if (!(e = scache_entry_new(key, p, len, cnt)))
            return SERIES_ENOMEM;
        if (decode_block(f->s, k, p, len, cnt, e->s)) {
            scache_release(NULL, e);
            return SERIES_ECORRUPT;
        }
        entry_note(e);
        e = scache_entry_compact(e);
        scache_put(c, e);
    }
    int rc = 0;
    if (f->slice)
        rc = f->slice(f->ud, e);
    else
        for (size_t i = 0; i < e->n && !rc; i++) {
            struct rpt x = entry_at(e, i);
            rc = f->fn(f->ud, x.t, x.v, k);
        }
    scache_release(c, e);
    return rc;
}

/* Chunk c's samples (blocks c * CHUNK_BLOCKS .. + CHUNK_BLOCKS - 1, every
 * one of them final: see raw_walk) through the cache, whole; the caller's
 * slice keeps what its range wants. The entry has no block bytes to check
 * (its key names a content that cannot change: final blocks are only ever
 * deleted, from the oldest, and readers filter what retention deleted by
 * raw_from). */
static int raw_chunk_cached(struct rawfn *f, MDB_txn *txn, uint64_t id, int64_t c, int build,
                            int *done)
{
    static const uint8_t none[1];
    struct series_db *s = f->s;
    uint8_t key[SCACHE_KEY_LEN];
    key[0] = 'c';
    put_be64(key + 1, (uint64_t)(c * CHUNK_BLOCKS * s->span));
    put_be64(key + 9, id);
    struct scache_entry *e = scache_get(s->cache, key, none, 0);
    *done = e || build;
    if (!e && !build)
        return 0;
    if (!e) {
        MDB_val vals[CHUNK_BLOCKS];
        uint32_t cnt[CHUNK_BLOCKS];
        size_t total = 0;
        for (int b = 0; b < CHUNK_BLOCKS; b++) {
            uint8_t bk[16];
            put_be64(bk, (uint64_t)((c * CHUNK_BLOCKS + b) * s->span));
            put_be64(bk + 8, id);
            MDB_val kv = {16, bk};
            int rc = mdb_get(txn, s->raw, &kv, &vals[b]);
            cnt[b] = 0;
            if (rc == MDB_NOTFOUND) {
                vals[b].mv_size = 0;
                continue;
            }
            if (rc)
                return rc;
            if (sblock_count(vals[b].mv_data, vals[b].mv_size, &cnt[b]))
                return SERIES_ECORRUPT;
            total += cnt[b];
        }
        if (!(e = scache_entry_new(key, none, 0, total)))
            return SERIES_ENOMEM;
        size_t got = 0;
        for (int b = 0; b < CHUNK_BLOCKS; b++) {
            if (vals[b].mv_size && decode_block(s, c * CHUNK_BLOCKS + b, vals[b].mv_data,
                                                vals[b].mv_size, cnt[b], e->s + got)) {
                scache_release(NULL, e);
                return SERIES_ECORRUPT;
            }
            got += cnt[b];
        }
        entry_note(e);
        e = scache_entry_compact(e);
        scache_put(s->cache, e);
    }
    int rc = f->slice(f->ud, e);
    scache_release(s->cache, e);
    return rc;
}

static int raw_pend_emit(void *ud, int64_t k, int64_t sigma, double v)
{
    struct rawfn *f = ud;
    if (k < f->kfrom || k > f->kto)
        return 0;
    return f->fn(f->ud, sigma * f->s->R, v, k);
}

static int raw_walk(struct series_db *s, MDB_txn *txn, uint64_t id, const struct srules_head *h,
                    int64_t kfrom, int64_t kto, struct rawfn *f)
{
    int64_t first, last;
    int rc;
    srules_head_bounds(h, &first, &last);
    if (first == NONE)
        return 0;
    f->s = s;
    f->kfrom = kfrom = max64(kfrom, floor_div(first - 1, s->N));
    f->kto = kto = min64(kto, floor_div(last, s->N));
    int64_t kdb_to = h->open_k != NONE ? min64(kto, h->open_k - 1) : kto;
    /* Chunks whose blocks are all final: every bucket of theirs sealed
     * (nothing more can come for them: series_flush seals in time order
     * and refuses later deltas) and none of them still the head's open
     * block (moved to series_raw only once a later block starts or its
     * span is sealed). */
    int64_t chunk_to = -1;
    if (s->cache && f->slice && f->sealed != NONE) {
        chunk_to = floor_div(floor_div(f->sealed, s->N), CHUNK_BLOCKS) - 1;
        if (h->open_k != NONE) /* implied (a flush moves an open block once
                                * its span is sealed); kept as a guard */
            chunk_to = min64(chunk_to, floor_div(h->open_k, CHUNK_BLOCKS) - 1);
    }
    /* A chunk the read wants less than half of is taken from the cache
     * when it is there, but not built for it (that would decode up to 8
     * blocks for one or two): its blocks are read one by one. */
    int64_t k0 = max64(kfrom, 0), tried = -1;
    for (int64_t k = k0; k <= kdb_to; k++) {
        int64_t c = floor_div(k, CHUNK_BLOCKS);
        if (c <= chunk_to && c != tried) {
            int64_t want =
                min64((c + 1) * CHUNK_BLOCKS - 1, kdb_to) - max64(c * CHUNK_BLOCKS, k0) + 1;
            int done;
            if ((rc = raw_chunk_cached(f, txn, id, c, want >= CHUNK_BLOCKS / 2, &done)) != 0)
                return rc;
            tried = c;
            if (done) {
                k = (c + 1) * CHUNK_BLOCKS - 1; /* the loop's k++: the next chunk */
                continue;
            }
        }
        uint8_t key[16];
        put_be64(key, (uint64_t)(k * s->span));
        put_be64(key + 8, id);
        MDB_val kv = {16, key}, val;
        rc = mdb_get(txn, s->raw, &kv, &val);
        if (rc == MDB_NOTFOUND)
            continue;
        if (rc)
            return rc;
        rc = s->cache ? raw_block_cached(f, k, key, val.mv_data, val.mv_size)
                      : raw_block(f, k, val.mv_data, val.mv_size);
        if (rc)
            return rc;
    }
    if (h->open_k != NONE && h->open_k >= kfrom && h->open_k <= kto &&
        (rc = raw_block(f, h->open_k, h->open_p, h->open_len)) != 0)
        return rc;
    if (h->npend) {
        int64_t ls = h->last_s;
        double lv = h->last_v;
        return srules_walk(s->N, h->pend, h->npend, INT64_MAX, &ls, &lv, raw_pend_emit, f, NULL);
    }
    return 0;
}

#define RVEC_RESERVE_MAX ((int64_t)1 << 17) /* samples */

struct range_ctx {
    struct rvec *out;
    int64_t lo, hi, step;
    const struct series_db *s;
};

static int range_add(void *ud, int64_t t, double v, int64_t k)
{
    struct range_ctx *c = ud;
    (void)k;
    return t >= c->lo && t <= c->hi ? rvec_push(c->out, t, v, c->step) : 0;
}

static int range_add_bulk(void *ud, int64_t k, const uint32_t *u, const double *v, size_t n)
{
    struct range_ctx *c = ud;
    struct rvec *r = c->out;
    if (r->cap - r->n < n) {
        void *p = r->v;
        if (series_i_grow(&p, &r->cap, r->n + n, sizeof *r->v))
            return SERIES_ENOMEM;
        r->v = p;
    }
    if (rvec_step(r, c->step))
        return SERIES_ENOMEM;
    int64_t base = k * c->s->N, R = c->s->R;
    size_t old = r->n;
    struct rpt *o = r->v + r->n;
    for (size_t i = 0; i < n; i++) {
        int64_t t = (base + (int64_t)u[i]) * R;
        if (t >= c->lo && t <= c->hi)
            *o++ = (struct rpt){t, v[i]};
    }
    r->n = (size_t)(o - r->v);
    rvec_note(r, old ? &r->v[old - 1] : NULL, r->v + old, r->n - old, c->step);
    return 0;
}

/* A cached block's (or chunk's) samples in [lo, hi], copied at once
 * (struct rpt and struct scache_sample are the same layout), and noted:
 * with the entry's own facts when all of them are taken. */
static int range_add_slice(void *ud, const struct scache_entry *e)
{
    struct range_ctx *c = ud;
    struct rvec *r = c->out;
    const struct scache_sample *p = e->s;
    size_t n = e->n;
    size_t a = 0, b = n;
    if (e->d) { /* compact: on a grid, so the bounds by arithmetic */
        int64_t t0 = e->t0, st = e->step;
        if (c->lo > t0)
            a = (size_t)((c->lo - t0 + st - 1) / st) < n ? (size_t)((c->lo - t0 + st - 1) / st) : n;
        if (c->hi < t0)
            b = 0;
        else if ((size_t)((c->hi - t0) / st) < n)
            b = (size_t)((c->hi - t0) / st) + 1;
    } else if (a < b && p[a].t < c->lo) { /* the first sample >= lo */
        size_t x = a, y = b;
        while (x < y) {
            size_t m = x + (y - x) / 2;
            if (p[m].t < c->lo)
                x = m + 1;
            else
                y = m;
        }
        a = x;
    }
    if (!e->d && a < b && p[b - 1].t > c->hi) { /* past the last sample <= hi */
        size_t x = a, y = b;
        while (x < y) {
            size_t m = x + (y - x) / 2;
            if (p[m].t <= c->hi)
                x = m + 1;
            else
                y = m;
        }
        b = x;
    }
    if (a == b)
        return 0;
    if (r->cap - r->n < b - a) {
        void *q = r->v;
        if (series_i_grow(&q, &r->cap, r->n + (b - a), sizeof *r->v))
            return SERIES_ENOMEM;
        r->v = q;
    }
    if (rvec_step(r, c->step))
        return SERIES_ENOMEM;
    const struct rpt *prev = r->n ? &r->v[r->n - 1] : NULL;
    if (e->d) {
        struct rpt *o = r->v + r->n;
        const int32_t *d = e->d;
        int64_t t = e->t0 + (int64_t)a * e->step, st = e->step;
        double v0 = e->v0;
        for (size_t i = a; i < b; i++, t += st)
            *o++ = (struct rpt){t, v0 + (double)d[i]};
    } else {
        memcpy(r->v + r->n, p + a, (b - a) * sizeof *r->v);
    }
    if (a == 0 && b == n) { /* the joint, then the entry's own notes */
        rvec_note(r, prev, r->v + r->n, 1, c->step);
        rvec_add_notes(
            r,
            (struct notes){e->maxgap, e->drops, e->nans - (isnan(r->v[r->n].v) != 0), e->unordered},
            c->step);
    } else {
        rvec_note(r, prev, r->v + r->n, b - a, c->step);
    }
    r->n += b - a;
    return 0;
}

_Static_assert(sizeof(struct rpt) == sizeof(struct scache_sample) &&
                   offsetof(struct rpt, t) == offsetof(struct scache_sample, t) &&
                   offsetof(struct rpt, v) == offsetof(struct scache_sample, v),
               "struct rpt is laid out as struct scache_sample");

/* Base samples with lo <= t <= hi and t > raw_from. */
static int read_raw(struct series_db *s, MDB_txn *txn, uint64_t id, const struct srules_head *h,
                    int64_t lo, int64_t hi, int64_t raw_from, int64_t sealed, struct rvec *out)
{
    if (raw_from != NONE)
        lo = max64(lo, raw_from + 1);
    if (lo > hi)
        return 0;
    struct range_ctx c = {out, lo, hi, s->R, s};
    struct rawfn f = {range_add, &c, s, 0, 0, range_add_bulk, range_add_slice, sealed};
    int64_t lo_s = ceil_div(lo, s->R), hi_s = floor_div(hi, s->R);
    /* at most a sample a grid point: reserve that (up to 2 MiB) at once
     * rather than doubling the array from 16 samples */
    int64_t most = hi_s - lo_s + 1;
    size_t want = out->n + (size_t)(most < RVEC_RESERVE_MAX ? most : RVEC_RESERVE_MAX);
    if (out->cap < want) {
        void *p = realloc(out->v, want * sizeof *out->v);
        if (!p)
            return SERIES_ENOMEM;
        out->v = p;
        out->cap = want;
    }
    return raw_walk(s, txn, id, h, floor_div(lo_s - 1, s->N), floor_div(hi_s, s->N), &f);
}

/* Stored downsampled points with lo <= t <= hi, t > ds_from, in spans < done. */
static int read_ds_stored(struct series_db *s, MDB_txn *txn, uint64_t id,
                          const struct srules_head *h, int64_t lo, int64_t hi, int64_t ds_from,
                          int64_t done, struct rvec *out)
{
    int64_t first, last;
    srules_head_bounds(h, &first, &last);
    if (ds_from != NONE)
        lo = max64(lo, ds_from + 1);
    if (first == NONE || done == NONE || lo > hi)
        return 0;
    int64_t dfrom = max64(floor_div(lo - 1, s->dspan), floor_div(first * s->R - 1, s->dspan));
    int64_t dto = min64(min64(floor_div(hi, s->dspan), floor_div(last * s->R, s->dspan)),
                        done / s->dspan - 1);
    for (int64_t d = max64(dfrom, 0); d <= dto; d++) {
        uint8_t key[16];
        struct sblock_dec dec;
        uint32_t u;
        double v;
        int rc;
        put_be64(key, (uint64_t)(d * s->dspan));
        put_be64(key + 8, id);
        MDB_val kv = {16, key}, val;
        rc = mdb_get(txn, s->ds, &kv, &val);
        if (rc == MDB_NOTFOUND)
            continue;
        if (rc)
            return rc;
        if (sblock_dec_init(&dec, val.mv_data, val.mv_size, (uint32_t)s->NDS))
            return SERIES_ECORRUPT;
        while ((rc = sblock_dec_next(&dec, &u, &v)) == 1) {
            int64_t t = d * s->dspan + (int64_t)u * s->DS;
            if (t >= lo && t <= hi && (rc = rvec_push(out, t, v, s->DS)) != 0)
                return rc;
        }
        if (rc)
            return SERIES_ECORRUPT;
    }
    return 0;
}

struct fly_ctx {
    struct series_db *s;
    struct srules_ds m;
    struct range_ctx rc;
};

static int fly_push(void *ud, int64_t t, double v, int64_t k)
{
    struct fly_ctx *c = ud;
    return srules_ds_push(&c->m, t, v, floor_div(k * c->s->span, c->s->dspan) * c->s->dspan);
}

static int fly_emit(void *ud, int64_t g, double v)
{
    struct fly_ctx *c = ud;
    return range_add(&c->rc, g * c->s->DS, v, 0);
}

/* Downsampled points: stored spans, then spans from `done` on computed from
 * the base data exactly as series_downsample will store them. */
static int read_ds(struct series_db *s, MDB_txn *txn, uint64_t id, const struct srules_head *h,
                   int64_t lo, int64_t hi, int64_t ds_from, int64_t done, struct rvec *out)
{
    int64_t first, last;
    int rc;
    if ((rc = read_ds_stored(s, txn, id, h, lo, hi, ds_from, done, out)) != 0)
        return rc;
    srules_head_bounds(h, &first, &last);
    if (first == NONE || hi < done)
        return 0;
    struct fly_ctx c = {.s = s,
                        .rc = {out, max64(lo, ds_from == NONE ? lo : ds_from + 1), hi, s->DS, s}};
    int64_t A = done != NONE ? done : floor_div(first * s->R - 1, s->dspan) * s->dspan;
    A = max64(A, 0);
    if ((rc = series_i_ds_start(s, txn, id, A, &c.m, fly_emit, &c)) != 0)
        return rc;
    struct rawfn f = {fly_push, &c, s, 0, 0, NULL, NULL, NONE};
    if ((rc = raw_walk(s, txn, id, h, A / s->span, floor_div(hi, s->span), &f)) != 0)
        return rc;
    return srules_ds_finish(&c.m);
}

/* Whether the sink's samples are laid out as struct rpt (one memcpy per run). */
static int sink_is_rpt(const struct series_sink *sk)
{
    return sk->stride == sizeof(struct rpt) && sk->t_off == offsetof(struct rpt, t) &&
           sk->v_off == offsetof(struct rpt, v);
}

/* Writes (or, without o, counts) the samples of r from lo on, with held
 * values repeated on their grid up to hi, stale and now when fill. A
 * dense run (each sample within a step of the next) is copied in one
 * memcpy when the sink's samples are laid out as struct rpt. */
static size_t fill_out(const struct series_db *s, const struct rvec *r, int fill, int64_t lo,
                       int64_t hi, int64_t now, const struct series_sink *sk, uint8_t *o)
{
    int same = sink_is_rpt(sk);
    size_t k = 0;
    for (size_t g = 0; g < r->nseg; g++) {
        size_t end = g + 1 < r->nseg ? r->seg[g + 1].from : r->n;
        int64_t step = r->seg[g].step;
        size_t i = r->seg[g].from;
        while (i < end && r->v[i].t < lo) { /* before the range: may fill into it */
            const struct rpt *x = &r->v[i];
            int64_t next = i + 1 < r->n ? r->v[i + 1].t : INT64_MAX;
            i++;
            if (!fill || next - x->t <= step)
                continue;
            int64_t stop = min64(min64(next - 1, hi), min64(x->t + s->stale, now));
            int64_t t = x->t + step * max64(1, ceil_div(lo - x->t, step));
            for (; t <= stop; t += step, k++)
                if (o) {
                    memcpy(o + k * sk->stride + sk->t_off, &t, sizeof t);
                    memcpy(o + k * sk->stride + sk->v_off, &x->v, sizeof x->v);
                }
        }
        while (i < end) {
            /* the dense run from i: samples up to j, each within a step of
             * the next */
            size_t j = i;
            while (j + 1 < end && r->v[j + 1].t - r->v[j].t <= step)
                j++;
            size_t m = j - i + 1;
            if (o && same) {
                memcpy(o + k * sizeof(struct rpt), &r->v[i], m * sizeof(struct rpt));
            } else if (o) {
                for (size_t q = 0; q < m; q++) {
                    memcpy(o + (k + q) * sk->stride + sk->t_off, &r->v[i + q].t, sizeof(int64_t));
                    memcpy(o + (k + q) * sk->stride + sk->v_off, &r->v[i + q].v, sizeof(double));
                }
            }
            k += m;
            const struct rpt *x = &r->v[j];
            int64_t next = j + 1 < r->n ? r->v[j + 1].t : INT64_MAX;
            i = j + 1;
            if (!fill || next - x->t <= step)
                continue;
            int64_t stop = min64(min64(next - 1, hi), min64(x->t + s->stale, now));
            for (int64_t t = x->t + step; t <= stop; t += step, k++)
                if (o) {
                    memcpy(o + k * sk->stride + sk->t_off, &t, sizeof t);
                    memcpy(o + k * sk->stride + sk->v_off, &x->v, sizeof x->v);
                }
        }
    }
    return k;
}

static void *malloc_samples(void *ud, size_t n)
{
    (void)ud;
    return malloc(n * sizeof(struct series_sample));
}

int series_read(struct series_db *s, MDB_txn *txn, uint64_t id, int64_t start_ms, int64_t end_ms,
                unsigned flags, struct series_sample **out, size_t *n)
{
    static const struct series_sink sk = {malloc_samples,
                                          NULL,
                                          sizeof(struct series_sample),
                                          offsetof(struct series_sample, t_ms),
                                          offsetof(struct series_sample, v),
                                          NULL};
    void *o = NULL;
    if (out)
        *out = NULL;
    int rc = series_read_to(s, txn, id, start_ms, end_ms, flags, &sk, out ? &o : NULL, n, NULL);
    if (rc)
        free(o);
    else if (out)
        *out = o;
    return rc;
}

/* A pass over n written samples of a sink, for their facts. */
static void facts_of(const struct series_sink *sk, const uint8_t *o, size_t n,
                     struct series_read_facts *f)
{
    *f = (struct series_read_facts){1, 0, 0, 0};
    int64_t pt = 0, gap = 0;
    double pv = 0;
    int even = 1;
    for (size_t j = 0; j < n; j++) {
        int64_t t;
        double v;
        memcpy(&t, o + j * sk->stride + sk->t_off, sizeof t);
        memcpy(&v, o + j * sk->stride + sk->v_off, sizeof v);
        f->nans += isnan(v) != 0;
        if (j) {
            f->drops += v < pv;
            f->ascending &= t > pt;
            if (j == 1)
                gap = t - pt;
            even &= t - pt == gap;
        }
        pt = t;
        pv = v;
    }
    f->grid = even && gap > 0 ? gap : 0;
}

/* The fast case of fill_out: one run at one step, no step between
 * neighbours above it, sorted, and a sample in the range. Then nothing is
 * filled in before or inside: the answer is the samples from i0 on and
 * the last one's value repeated after it (tail of them, from
 * tail_count). */
static int dense(const struct rvec *r, size_t i0)
{
    return r->nseg == 1 && !r->gappy && !r->unordered && i0 < r->n;
}

static size_t tail_count(const struct series_db *s, const struct rvec *r, int fill, int64_t hi,
                         int64_t now)
{
    if (!fill)
        return 0;
    const struct rpt *x = &r->v[r->n - 1];
    int64_t step = r->seg[0].step, stop = min64(hi, min64(x->t + s->stale, now));
    return stop - x->t >= step ? (size_t)((stop - x->t) / step) : 0;
}

static void dense_out(const struct rvec *r, size_t i0, size_t tail, const struct series_sink *sk,
                      uint8_t *o)
{
    size_t m = r->n - i0;
    if (sink_is_rpt(sk)) {
        memcpy(o, &r->v[i0], m * sizeof(struct rpt));
    } else {
        for (size_t q = 0; q < m; q++) {
            memcpy(o + q * sk->stride + sk->t_off, &r->v[i0 + q].t, sizeof(int64_t));
            memcpy(o + q * sk->stride + sk->v_off, &r->v[i0 + q].v, sizeof(double));
        }
    }
    const struct rpt x = r->v[r->n - 1];
    int64_t step = r->seg[0].step;
    for (size_t q = 1; q <= tail; q++) {
        int64_t t = x.t + (int64_t)q * step;
        memcpy(o + (m + q - 1) * sk->stride + sk->t_off, &t, sizeof t);
        memcpy(o + (m + q - 1) * sk->stride + sk->v_off, &x.v, sizeof x.v);
    }
}

/* The dense case's facts, from those noted over all of r: less the
 * samples before i0 (and the joint into i0), plus the tail. */
static void dense_facts(const struct rvec *r, size_t i0, size_t tail, struct series_read_facts *f)
{
    size_t drops = r->drops, nans = r->nans;
    for (size_t j = 0; j < i0; j++) {
        nans -= isnan(r->v[j].v) != 0;
        drops -= r->v[j + 1].v < r->v[j].v; /* j + 1 <= i0 < n */
    }
    if (isnan(r->v[r->n - 1].v))
        nans += tail;
    /* every step between neighbours is at most the run's (dense), so
     * they are all exactly the run's when they add up to it times their
     * count; the tail continues on that grid */
    int64_t step = r->seg[0].step, span = r->v[r->n - 1].t - r->v[i0].t;
    int64_t grid = r->n - i0 + tail > 1 && span == (int64_t)(r->n - 1 - i0) * step ? step : 0;
    *f = (struct series_read_facts){1, drops, nans, grid};
}

int series_read_to(struct series_db *s, MDB_txn *txn, uint64_t id, int64_t start_ms, int64_t end_ms,
                   unsigned flags, const struct series_sink *sink, void **out, size_t *n,
                   struct series_read_facts *facts)
{
    struct rvec r = {0};
    struct srules_head h;
    int64_t raw_from, ds_from, done, now, sealed;
    unsigned mode = flags & 0xf;
    int fill = !!(flags & SERIES_READ_FILL);
    int rc;

    if (out)
        *out = NULL;
    if (n)
        *n = 0;
    if (facts)
        *facts = (struct series_read_facts){1, 0, 0, 0};
    if (!s || !txn || !out || !n || !sink || !sink->alloc || mode > SERIES_READ_DS ||
        (flags & ~0x1fu))
        return SERIES_EINVAL;
    if (start_ms > end_ms)
        return 0;
    if ((rc = series_i_meta_get(s, txn, SERIES_KEY_RAW_FROM, &raw_from)) ||
        (rc = series_i_meta_get(s, txn, SERIES_KEY_DS_FROM, &ds_from)) ||
        (rc = series_i_meta_get(s, txn, SERIES_KEY_DS_DONE, &done)) ||
        (rc = series_i_meta_get(s, txn, SERIES_KEY_NOW, &now)) ||
        (rc = series_i_meta_get(s, txn, SERIES_KEY_SEALED, &sealed)))
        return rc;
    if ((rc = series_i_head_get(s, txn, id, &h)) != 0)
        return rc;
    int64_t lo = max64(start_ms, 0), hi = min64(end_ms, T_MAX);
    if (fill) /* a value held from before the range fills its start */
        lo = max64(lo - s->stale, 0);
    if (mode == SERIES_READ_RAW || (mode == SERIES_READ_AUTO && raw_from == NONE)) {
        rc = read_raw(s, txn, id, &h, lo, hi, raw_from, sealed, &r);
    } else if (mode == SERIES_READ_DS) {
        rc = read_ds(s, txn, id, &h, lo, hi, ds_from, done, &r);
    } else { /* downsampled up to raw_from (<= done), base data after */
        rc = read_ds_stored(s, txn, id, &h, lo, min64(hi, raw_from), ds_from, done, &r);
        if (rc == 0)
            rc = read_raw(s, txn, id, &h, lo, hi, raw_from, sealed, &r);
    }
    srules_head_free(&h);
    if (rc)
        goto done;

    /* Copy out, filling held values on the grid when asked: in one pass
     * and without a pass for the facts when the samples are dense (the
     * usual case: noted while they were gathered), else with fill_out
     * (counting, then writing) and a pass for the facts. */
    lo = max64(start_ms, 0);
    size_t i0 = 0;
    while (i0 < r.n && r.v[i0].t < lo)
        i0++;
    int fast = dense(&r, i0);
    size_t tail = fast ? tail_count(s, &r, fill, hi, now) : 0;
    size_t cnt = fast ? r.n - i0 + tail : fill_out(s, &r, fill, lo, hi, now, sink, NULL);
    if (cnt && sink->adopt && sink_is_rpt(sink) && cnt == r.n - i0) {
        /* nothing filled in: the answer is the gathered samples from lo on */
        if (facts && fast)
            dense_facts(&r, i0, 0, facts);
        else if (facts)
            facts_of(sink, (const uint8_t *)&r.v[i0], cnt, facts);
        if (r.cap > r.n) { /* give back the room reserved */
            void *q = realloc(r.v, r.n * sizeof *r.v);
            if (q) {
                r.v = q;
                r.cap = r.n;
            }
        }
        if (sink->adopt(sink->ud, r.v) == 0) {
            *out = r.v + i0;
            *n = cnt;
            r.v = NULL;
            goto done;
        }
    }
    if (cnt) {
        uint8_t *o = sink->alloc(sink->ud, cnt);
        if (!o) {
            rc = SERIES_ENOMEM;
            goto done;
        }
        if (fast) {
            dense_out(&r, i0, tail, sink, o);
            if (facts)
                dense_facts(&r, i0, tail, facts);
        } else {
            fill_out(s, &r, fill, lo, hi, now, sink, o);
            if (facts)
                facts_of(sink, o, cnt, facts);
        }
        *out = o;
        *n = cnt;
    }
done:
    free(r.v);
    free(r.seg);
    return rc;
}

void series_cache_stats(struct series_db *s, struct series_cache_stats *out)
{
    struct scache_stats st = {0};
    if (s && s->cache)
        scache_stats(s->cache, &st);
    *out = (struct series_cache_stats){st.hits,    st.misses, st.evictions,
                                       st.entries, st.bytes,  st.max_bytes};
}
