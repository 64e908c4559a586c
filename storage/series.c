/*
 * series.c — the time series store: the per-series head of open buckets,
 * compressed blocks at two resolutions, downsampling, retention, and what
 * readers ask of the index. API and rules: series.h. On-disk format:
 * docs/storage.md ("Series"). Parts: sblock.c (block codec), srules.c (head
 * record, baseline and downsampling rules), sindex.c (labels, interning,
 * postings), series_read.c (reading samples; series_int.h is what they
 * share).
 *
 * DESIGN
 *
 * Databases (in the caller's LMDB environment; keys big-endian):
 *   series_meta      name -> value        format version, grid, progress
 *   series, series_ids, series_postings   the label index (sindex.h)
 *   series_heads     id -> head record    open buckets + the open block
 *   series_raw       start, id -> block   base resolution, sealed blocks
 *   series_ds        start, id -> block   downsampled blocks
 * Blocks are keyed time first, so a flush appends (MDB_APPEND: full
 * pages), retention deletes from the front, and downsampling walks one
 * span at a time. A read of one series is one lookup per block span.
 *
 * Units. Times are ms >= 0. A sample's time is a multiple of its
 * resolution R; "sigma" is time / R. Bucket b (events in [bR, (b+1)R)) has
 * its sample at sigma b+1. Block k of span N*R holds the samples with
 * sigma in [kN, (k+1)N] at offset u = sigma - kN: a real sample of bucket
 * b goes to block b/N (u >= 1), and the baseline before a run starting at
 * bucket b goes to the same block as that run's first sample (u = b - kN,
 * so u = 0 only for a baseline at the block's start). Hence a time is in at
 * most one block of a series and samples never straddle blocks.
 *
 * Head. Per series the writer keeps (struct head, mirrored by its record in
 * series_heads): the last sealed sample (sigma, value), the open block (an
 * append-only sblock encoder for the newest span) and the open buckets
 * (bucket, sum of deltas), sorted. series_add touches only the open
 * buckets. series_flush seals the buckets older than the late window in
 * order (srules_walk: the baseline rule), moves blocks whose span is fully
 * sealed to series_raw, and writes the head record of every series it or
 * series_add changed. Readers never see the writer's memory: they decode
 * head records with the same srules_walk, in their own transaction, so
 * what they read is exactly one committed state, and they take no lock.
 *
 * Downsampling. A ds span is processed per series from its base blocks
 * (merged over the span's base block keys with one cursor per base span),
 * starting from the state the previous ds span left (srules_ds_init: did
 * it end with a point at the shared boundary?); readers downsample spans
 * not yet processed on the fly with the same code, giving identical points.
 *
 * Invariants.
 *   - Per series, sealed samples (series_raw, then the open block) precede
 *     open buckets in time; open buckets are >= sealed_to.
 *   - series_raw holds only fully sealed spans; raw_from <= ds_done, so
 *     base data is deleted only after it was downsampled.
 *   - raw_from / ds_from are raised before the deletions they allow, in
 *     the same transaction: readers filter by them and never see a
 *     half-deleted range.
 *   - The writer's memory equals the committed state plus what it wrote in
 *     the current transaction; after any failure of a writer call that may
 *     have written, need_reload is set until series_reload.
 */
#include "series.h"

#include "series_int.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

const char SERIES_KEY_VERSION[] = "format_version";
const char SERIES_KEY_GRID[] = "grid";
const char SERIES_KEY_NEXT_ID[] = "next_id";
const char SERIES_KEY_SEALED[] = "sealed_to";
const char SERIES_KEY_NOW[] = "now";
const char SERIES_KEY_RAW_FROM[] = "raw_from";
const char SERIES_KEY_DS_FROM[] = "ds_from";
const char SERIES_KEY_DS_DONE[] = "ds_done";
const char SERIES_KEY_DS_NEXT[] = "ds_next";

/* ---- small helpers ------------------------------------------------------ */

static int sb_err(int rc)
{
    return rc == SBLOCK_ENOMEM   ? SERIES_ENOMEM
           : rc == SBLOCK_EINVAL ? SERIES_EINVAL
                                 : SERIES_ECORRUPT;
}

static int wbuf_reserve(struct series_db *s, size_t n)
{
    if (n <= s->wcap)
        return 0;
    size_t cap = s->wcap ? s->wcap : 1024;
    while (cap < n)
        cap *= 2;
    uint8_t *b = realloc(s->wbuf, cap);
    if (!b)
        return SERIES_ENOMEM;
    s->wbuf = b;
    s->wcap = cap;
    return 0;
}

/* Grows *p (of *cap elements of size sz) to hold at least n. */
int series_i_grow(void **p, size_t *cap, size_t n, size_t sz)
{
    if (n <= *cap)
        return 0;
    size_t c = *cap ? *cap : 16;
    while (c < n)
        c *= 2;
    void *q = realloc(*p, c * sz);
    if (!q)
        return SERIES_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

void series_grid(const struct series_db *s, int64_t *res_ms, int64_t *ds_res_ms)
{
    *res_ms = s->R;
    *ds_res_ms = s->DS;
}

const char *series_strerror(int rc)
{
    switch (rc) {
    case 0: return "success";
    case SERIES_ENOTFOUND: return "no such series";
    case SERIES_EVERSION: return "series databases have another format version";
    case SERIES_ECORRUPT: return "series record or block is corrupt";
    case SERIES_EINVAL: return "invalid argument";
    case SERIES_ENOMEM: return "out of memory";
    case SERIES_ELATE: return "delta is older than the late window (bucket sealed)";
    case SERIES_EFUTURE: return "delta is too far in the future";
    case SERIES_ECONFIG: return "options disagree with the stored series grid";
    case SERIES_ETOOBIG: return "label set too long";
    case SERIES_ERELOAD: return "series writer state is stale: series_reload() needed";
    default: return mdb_strerror(rc); /* LMDB codes, and strerror() for errno values */
    }
}

/* ---- meta --------------------------------------------------------------- */

int series_i_meta_get(struct series_db *s, MDB_txn *txn, const char *name, int64_t *v)
{
    MDB_val k = {strlen(name), (void *)name}, d;
    int rc = mdb_get(txn, s->meta, &k, &d);
    if (rc == MDB_NOTFOUND) {
        *v = NONE;
        return 0;
    }
    if (rc)
        return rc;
    if (d.mv_size != 8)
        return SERIES_ECORRUPT;
    *v = (int64_t)get_be64(d.mv_data);
    return 0;
}

static int meta_put(struct series_db *s, MDB_txn *txn, const char *name, int64_t v)
{
    uint8_t b[8];
    put_be64(b, (uint64_t)v);
    MDB_val k = {strlen(name), (void *)name}, d = {8, b};
    return mdb_put(txn, s->meta, &k, &d, 0);
}

/* ---- head records ------------------------------------------------------- */

/* Reads the head record of id. An id without one (no samples yet) gives an
 * empty head; SERIES_ENOTFOUND when the id does not exist at all. */
int series_i_head_get(struct series_db *s, MDB_txn *txn, uint64_t id, struct srules_head *h)
{
    uint8_t k[8];
    put_be64(k, id);
    MDB_val key = {8, k}, val;
    int rc = mdb_get(txn, s->heads_db, &key, &val);
    if (rc == 0)
        return srules_head_parse(val.mv_data, val.mv_size, h);
    memset(h, 0, sizeof *h);
    h->first_s = h->last_s = h->open_k = NONE;
    if (rc != MDB_NOTFOUND)
        return rc;
    rc = mdb_get(txn, s->ix.ids, &key, &val);
    return rc == MDB_NOTFOUND ? SERIES_ENOTFOUND : rc;
}

/* ---- writer state ------------------------------------------------------- */

static void head_free(struct head *h)
{
    if (!h)
        return;
    sblock_enc_free(&h->enc);
    free(h->pend);
    free(h);
}

static struct head *head_new(void)
{
    struct head *h = calloc(1, sizeof *h);
    if (h)
        h->first_s = h->last_s = h->open_k = NONE;
    return h;
}

static void state_free(struct series_db *s)
{
    for (uint64_t i = 0; i < s->next_id && s->heads; i++)
        head_free(s->heads[i]);
    free(s->heads);
    s->heads = NULL;
    s->next_id = s->cheads = 0;
    s->ndirty = 0;
}

static int heads_grow(struct series_db *s, uint64_t n)
{
    if (n <= s->cheads)
        return 0;
    uint64_t c = s->cheads ? s->cheads : 64;
    while (c < n)
        c *= 2;
    struct head **h = realloc(s->heads, c * sizeof *h);
    if (!h)
        return SERIES_ENOMEM;
    memset(h + s->cheads, 0, (c - s->cheads) * sizeof *h);
    s->heads = h;
    s->cheads = c;
    return 0;
}

static int mark_dirty(struct series_db *s, uint64_t id, struct head *h)
{
    if (h->dirty)
        return 0;
    void *p = s->dirty;
    int rc = series_i_grow(&p, &s->cdirty, s->ndirty + 1, sizeof *s->dirty);
    if (rc)
        return rc;
    s->dirty = p;
    s->dirty[s->ndirty++] = id;
    h->dirty = 1;
    return 0;
}

static int state_load(struct series_db *s, MDB_txn *txn)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int64_t next, sealed;
    int rc;

    state_free(s);
    s->need_reload = 1;
    if ((rc = series_i_meta_get(s, txn, SERIES_KEY_NEXT_ID, &next)) ||
        (rc = series_i_meta_get(s, txn, SERIES_KEY_SEALED, &sealed)) ||
        (rc = series_i_meta_get(s, txn, SERIES_KEY_NOW, &s->now_ms)))
        return rc;
    if (next == NONE)
        next = 1;
    if (next < 1)
        return SERIES_ECORRUPT;
    if ((rc = heads_grow(s, (uint64_t)next)) != 0)
        return rc;
    s->next_id = (uint64_t)next;
    s->sealed_to = sealed;
    if ((rc = mdb_cursor_open(txn, s->ix.ids, &cur)) != 0)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint64_t id = k.mv_size == 8 ? get_be64(k.mv_data) : 0;
        if (id == 0 || id >= s->next_id) {
            rc = SERIES_ECORRUPT;
            goto done;
        }
        if (!(s->heads[id] = head_new())) {
            rc = SERIES_ENOMEM;
            goto done;
        }
    }
    if (rc != MDB_NOTFOUND)
        goto done;
    mdb_cursor_close(cur);
    if ((rc = mdb_cursor_open(txn, s->heads_db, &cur)) != 0)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint64_t id = k.mv_size == 8 ? get_be64(k.mv_data) : 0;
        struct head *h = id && id < s->next_id ? s->heads[id] : NULL;
        struct srules_head hv;
        if (!h) {
            rc = SERIES_ECORRUPT;
            goto done;
        }
        if ((rc = srules_head_parse(v.mv_data, v.mv_size, &hv)) != 0)
            goto done;
        h->first_s = hv.first_s;
        h->last_s = hv.last_s;
        h->last_v = hv.last_v;
        h->pend = hv.pend;
        h->npend = h->cpend = hv.npend;
        if (hv.open_k != NONE) {
            h->open_k = hv.open_k;
            if ((rc = sblock_enc_load(&h->enc, hv.open_p, hv.open_len, (uint32_t)s->N)) != 0) {
                rc = sb_err(rc);
                goto done;
            }
        }
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
done:
    mdb_cursor_close(cur);
    if (rc == 0)
        s->need_reload = 0;
    return rc;
}

/* ---- open / close ------------------------------------------------------- */

static int opts_resolve(const struct series_opts *o, struct series_db *s)
{
    static const struct series_opts none;
    if (!o)
        o = &none;
#define DEF(f, d) ((o->f) ? (o->f) : (d))
    s->R = DEF(res_ms, 10000);
    s->span = DEF(span_ms, 30 * 60000);
    s->DS = DEF(ds_res_ms, 5 * 60000);
    s->dspan = DEF(ds_span_ms, 12 * 3600000);
    s->late = DEF(late_ms, 5 * 60000);
    s->future = DEF(future_ms, 10 * 60000);
    s->ds_after = DEF(downsample_after_ms, 3600000);
    s->raw_ret = DEF(raw_retention_ms, (int64_t)7 * 86400000);
    s->ds_ret = DEF(ds_retention_ms, (int64_t)90 * 86400000);
    s->stale = DEF(stale_ms, 5 * 60000);
#undef DEF
    if (s->late < 0 || s->future < 0 || s->ds_after < 0 || s->raw_ret < 0 || s->ds_ret < 0 ||
        s->stale < 0 || s->ds_ret < s->raw_ret)
        return SERIES_EINVAL;
    return 0;
}

static int grid_check(struct series_db *s)
{
    if (s->R <= 0 || s->DS <= 0 || s->span <= 0 || s->dspan <= 0 || s->DS % s->R ||
        s->span % s->DS || s->dspan % s->span || s->span / s->R > SBLOCK_U_MAX ||
        s->dspan / s->DS > SBLOCK_U_MAX || s->dspan > T_MAX)
        return SERIES_EINVAL;
    s->N = s->span / s->R;
    s->NDS = s->dspan / s->DS;
    return 0;
}

int series_open(MDB_txn *txn, const struct series_opts *opts, struct series_db **out)
{
    static const struct series_opts none;
    struct series_db *s = NULL;
    int rc;

    if (!out)
        return SERIES_EINVAL;
    *out = NULL;
    if (!txn)
        return SERIES_EINVAL;
    if (!opts)
        opts = &none;
    s = calloc(1, sizeof *s);
    if (!s)
        return SERIES_ENOMEM;
    if ((rc = opts_resolve(opts, s)) != 0)
        goto fail;
    /* The version first: another version is refused before anything else
     * is created. MDB_CREATE in a read-only transaction opens what exists
     * and fails with EACCES on what does not. */
    MDB_val key = {sizeof SERIES_KEY_VERSION - 1, (void *)SERIES_KEY_VERSION}, val;
    if ((rc = mdb_dbi_open(txn, "series_meta", MDB_CREATE, &s->meta)) != 0)
        goto fail;
    int fresh = (rc = mdb_get(txn, s->meta, &key, &val)) == MDB_NOTFOUND;
    if (rc && !fresh)
        goto fail;
    if (!fresh) {
        const uint8_t *vp = val.mv_data;
        if (val.mv_size != 4) {
            rc = SERIES_ECORRUPT;
            goto fail;
        }
        if (vp[0] || vp[1] || vp[2] || vp[3] != SERIES_FORMAT_VERSION) {
            rc = SERIES_EVERSION;
            goto fail;
        }
    }
    if ((rc = sindex_open(&s->ix, txn, 1)) ||
        (rc = mdb_dbi_open(txn, "series_heads", MDB_CREATE, &s->heads_db)) ||
        (rc = mdb_dbi_open(txn, "series_raw", MDB_CREATE, &s->raw)) ||
        (rc = mdb_dbi_open(txn, "series_ds", MDB_CREATE, &s->ds)))
        goto fail;

    uint8_t grid[32];
    if (fresh) { /* refuse data without a version; write version and grid */
        MDB_stat st;
        if ((rc = mdb_stat(txn, s->ix.ids, &st)) != 0)
            goto fail;
        if (st.ms_entries) {
            rc = SERIES_ECORRUPT;
            goto fail;
        }
        if ((rc = grid_check(s)) != 0)
            goto fail;
        uint8_t ver[4] = {0, 0, 0, SERIES_FORMAT_VERSION};
        val.mv_size = 4;
        val.mv_data = ver;
        if ((rc = mdb_put(txn, s->meta, &key, &val, 0)) != 0)
            goto fail;
        put_be64(grid, (uint64_t)s->R);
        put_be64(grid + 8, (uint64_t)s->span);
        put_be64(grid + 16, (uint64_t)s->DS);
        put_be64(grid + 24, (uint64_t)s->dspan);
        key.mv_size = sizeof SERIES_KEY_GRID - 1;
        key.mv_data = (void *)SERIES_KEY_GRID;
        val.mv_size = sizeof grid;
        val.mv_data = grid;
        if ((rc = mdb_put(txn, s->meta, &key, &val, 0)) != 0)
            goto fail;
    } else { /* the stored grid wins; a different explicit one is an error */
        key.mv_size = sizeof SERIES_KEY_GRID - 1;
        key.mv_data = (void *)SERIES_KEY_GRID;
        if ((rc = mdb_get(txn, s->meta, &key, &val)) != 0 || val.mv_size != 32) {
            rc = rc && rc != MDB_NOTFOUND ? rc : SERIES_ECORRUPT;
            goto fail;
        }
        int64_t g[4];
        int64_t want[4] = {opts->res_ms, opts->span_ms, opts->ds_res_ms, opts->ds_span_ms};
        for (int i = 0; i < 4; i++) {
            g[i] = (int64_t)get_be64((const uint8_t *)val.mv_data + 8 * i);
            if (want[i] && want[i] != g[i]) {
                rc = SERIES_ECONFIG;
                goto fail;
            }
        }
        s->R = g[0];
        s->span = g[1];
        s->DS = g[2];
        s->dspan = g[3];
        if ((rc = grid_check(s)) != 0) {
            rc = SERIES_ECORRUPT;
            goto fail;
        }
    }
    if ((rc = state_load(s, txn)) != 0)
        goto fail;
    if (opts->cache_bytes && !(s->cache = scache_create(opts->cache_bytes))) {
        rc = SERIES_ENOMEM;
        goto fail;
    }
    s->gc_next = 1;
    *out = s;
    return 0;
fail:
    series_close(s);
    return rc == EACCES ? SERIES_ENOTFOUND : rc;
}

void series_close(struct series_db *s)
{
    if (!s)
        return;
    state_free(s);
    scache_free(s->cache);
    free(s->dirty);
    free(s->wbuf);
    sblock_enc_free(&s->dsenc);
    free(s);
}

int series_reload(struct series_db *s, MDB_txn *txn)
{
    if (!s || !txn)
        return SERIES_EINVAL;
    return state_load(s, txn);
}

/* ---- interning ---------------------------------------------------------- */

int series_lookup(struct series_db *s, MDB_txn *txn, const struct series_label *labels, size_t n,
                  uint64_t *id)
{
    uint8_t key[SINDEX_KEY_MAX + 1];
    size_t kl;
    if (!s || !txn || !id)
        return SERIES_EINVAL;
    int rc = sindex_key(&s->ix, labels, n, key, &kl);
    return rc ? rc : sindex_get(&s->ix, txn, key, kl, id);
}

int series_id(struct series_db *s, MDB_txn *txn, const struct series_label *labels, size_t n,
              uint64_t *id)
{
    uint8_t key[SINDEX_KEY_MAX + 1];
    size_t kl;
    struct head *h = NULL;
    if (!s || !txn || !id)
        return SERIES_EINVAL;
    if (s->need_reload)
        return SERIES_ERELOAD;
    int rc = sindex_key(&s->ix, labels, n, key, &kl);
    if (rc)
        return rc;
    rc = sindex_get(&s->ix, txn, key, kl, id);
    if (rc != SERIES_ENOTFOUND)
        return rc;
    uint64_t nid = s->next_id;
    if (heads_grow(s, nid + 1) || !(h = head_new()))
        return SERIES_ENOMEM;
    if ((rc = sindex_put(&s->ix, txn, key, kl, nid)) != 0 ||
        (rc = meta_put(s, txn, SERIES_KEY_NEXT_ID, (int64_t)nid + 1)) != 0)
        goto fail;
    s->heads[nid] = h;
    s->next_id = nid + 1;
    if ((rc = mark_dirty(s, nid, h)) != 0) /* retention leaves it alone until flushed */
        goto fail;
    *id = nid;
    return 0;
fail:
    if (s->heads[nid] != h)
        head_free(h);
    s->need_reload = 1;
    return rc;
}

/* ---- adding ------------------------------------------------------------- */

int series_add(struct series_db *s, uint64_t id, int64_t t_ms, double delta, int64_t now_ms)
{
    if (!s)
        return SERIES_EINVAL;
    if (s->need_reload)
        return SERIES_ERELOAD;
    if (id == 0 || id >= s->next_id || !s->heads[id])
        return SERIES_ENOTFOUND;
    if (t_ms < 0 || t_ms > T_MAX || !(delta >= 0) || isinf(delta))
        return SERIES_EINVAL;
    if (now_ms < T_MAX && t_ms > now_ms + s->future)
        return SERIES_EFUTURE;
    int64_t b = t_ms / s->R;
    if (s->sealed_to != NONE && b < s->sealed_to)
        return SERIES_ELATE;
    struct head *h = s->heads[id];
    uint32_t i = h->npend;
    while (i > 0 && h->pend[i - 1].b > b)
        i--;
    if (i > 0 && h->pend[i - 1].b == b) {
        h->pend[i - 1].d += delta;
    } else {
        size_t cap = h->cpend;
        void *p = h->pend;
        if (series_i_grow(&p, &cap, (size_t)h->npend + 1, sizeof *h->pend))
            return SERIES_ENOMEM;
        h->pend = p;
        h->cpend = (uint32_t)cap;
        memmove(h->pend + i + 1, h->pend + i, (h->npend - i) * sizeof *h->pend);
        h->pend[i].b = b;
        h->pend[i].d = delta;
        h->npend++;
    }
    if (mark_dirty(s, id, h)) { /* the delta is in memory but would not be flushed */
        s->need_reload = 1;
        return SERIES_ENOMEM;
    }
    return 0;
}

/* ---- flushing ----------------------------------------------------------- */

/* The last key of a block database, read once per call, so that blocks
 * written in key order use MDB_APPEND (pages filled, not split in half). */
struct lastkey {
    int valid, empty;
    uint8_t k[16];
};

static int blk_put(MDB_txn *txn, MDB_dbi dbi, struct lastkey *lk, int64_t start, uint64_t id,
                   const uint8_t *p, size_t len)
{
    uint8_t k[16];
    int rc;
    put_be64(k, (uint64_t)start);
    put_be64(k + 8, id);
    if (!lk->valid) {
        MDB_cursor *c;
        MDB_val ck, cv;
        if ((rc = mdb_cursor_open(txn, dbi, &c)) != 0)
            return rc;
        rc = mdb_cursor_get(c, &ck, &cv, MDB_LAST);
        mdb_cursor_close(c);
        if (rc == 0 && ck.mv_size == 16)
            memcpy(lk->k, ck.mv_data, 16);
        else if (rc == MDB_NOTFOUND)
            lk->empty = 1;
        else
            return rc ? rc : SERIES_ECORRUPT;
        lk->valid = 1;
    }
    int app = lk->empty || memcmp(k, lk->k, 16) > 0;
    MDB_val key = {16, k}, val = {len, (void *)p};
    rc = mdb_put(txn, dbi, &key, &val, app ? MDB_APPEND : MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST)
        return SERIES_ECORRUPT;
    if (rc == 0 && app) {
        memcpy(lk->k, k, 16);
        lk->empty = 0;
    }
    return rc;
}

struct seal_ctx {
    struct series_db *s;
    MDB_txn *txn;
    uint64_t id;
    struct head *h;
    struct lastkey *lk;
};

/* Moves the open block of the head to series_raw. */
static int open_move(struct seal_ctx *c)
{
    struct series_db *s = c->s;
    struct head *h = c->h;
    size_t len = sblock_enc_size(&h->enc);
    int rc = 0;
    if (len) {
        if ((rc = wbuf_reserve(s, len)) != 0)
            return rc;
        sblock_enc_write(&h->enc, s->wbuf);
        rc = blk_put(c->txn, s->raw, c->lk, h->open_k * s->span, c->id, s->wbuf, len);
    }
    sblock_enc_reset(&h->enc);
    h->open_k = NONE;
    return rc;
}

static int seal_emit(void *ud, int64_t k, int64_t sigma, double v)
{
    struct seal_ctx *c = ud;
    struct head *h = c->h;
    int rc;
    if (h->open_k != NONE && h->open_k != k && (rc = open_move(c)) != 0)
        return rc;
    if (h->open_k == NONE)
        h->open_k = k;
    if ((rc = sblock_enc_append(&h->enc, (uint32_t)(sigma - k * c->s->N), v)) != 0)
        return sb_err(rc);
    if (h->first_s == NONE)
        h->first_s = sigma;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int series_flush(struct series_db *s, MDB_txn *txn, int64_t now_ms)
{
    struct lastkey lk = {0};
    int rc = 0;
    if (!s || !txn)
        return SERIES_EINVAL;
    if (s->need_reload)
        return SERIES_ERELOAD;
    int64_t ns = floor_div(max64(min64(now_ms, T_MAX), -T_MAX) - s->late, s->R);
    if (s->sealed_to == NONE || ns > s->sealed_to) {
        s->sealed_to = ns;
        for (uint64_t id = 1; id < s->next_id; id++) {
            struct head *h = s->heads[id];
            struct seal_ctx c = {s, txn, id, h, &lk};
            int changed = 0;
            if (!h)
                continue;
            if (h->npend && h->pend[0].b < ns) {
                uint32_t used;
                rc = srules_walk(s->N, h->pend, h->npend, ns, &h->last_s, &h->last_v, seal_emit, &c,
                                 &used);
                if (rc)
                    goto fail;
                memmove(h->pend, h->pend + used, (h->npend - used) * sizeof *h->pend);
                h->npend -= used;
                changed = 1;
            }
            if (h->open_k != NONE && (h->open_k + 1) * s->N <= ns) {
                if ((rc = open_move(&c)) != 0)
                    goto fail;
                changed = 1;
            }
            if (changed && (rc = mark_dirty(s, id, h)) != 0)
                goto fail;
        }
        if ((rc = meta_put(s, txn, SERIES_KEY_SEALED, ns)) != 0)
            goto fail;
    }
    if (s->ndirty > 1) /* key order: fewer pages touched */
        qsort(s->dirty, s->ndirty, sizeof *s->dirty, cmp_u64);
    for (size_t i = 0; i < s->ndirty; i++) {
        uint64_t id = s->dirty[i];
        struct head *h = s->heads[id];
        uint8_t k[8];
        size_t len;
        if (!h)
            continue;
        struct srules_head rec = {h->first_s, h->last_s, h->last_v, h->pend,
                                  h->npend,   h->open_k, NULL,      0};
        if ((rc = wbuf_reserve(s, srules_head_size(h->npend, &h->enc))) != 0)
            goto fail;
        len = srules_head_write(s->wbuf, &rec, &h->enc);
        put_be64(k, id);
        MDB_val key = {8, k}, val = {len, s->wbuf};
        if ((rc = mdb_put(txn, s->heads_db, &key, &val, 0)) != 0)
            goto fail;
        h->dirty = 0;
    }
    s->ndirty = 0;
    if (s->now_ms == NONE || now_ms > s->now_ms) {
        s->now_ms = now_ms;
        if ((rc = meta_put(s, txn, SERIES_KEY_NOW, now_ms)) != 0)
            goto fail;
    }
    return 0;
fail:
    s->need_reload = 1;
    return rc;
}

/* ---- downsampling ------------------------------------------------------- */

/* Starts m for ds span D of series id, emitting to emit(ud): did the
 * span before end with a point at D? */
int series_i_ds_start(struct series_db *s, MDB_txn *txn, uint64_t id, int64_t D,
                      struct srules_ds *m, int (*emit)(void *ud, int64_t g, double v), void *ud)
{
    uint8_t k[16];
    struct sblock_dec d;
    uint32_t u, ulast = 0;
    double v;
    int rc;
    srules_ds_init(m, s->DS, NONE, emit, ud);
    if (D - s->dspan < 0)
        return 0;
    put_be64(k, (uint64_t)(D - s->dspan));
    put_be64(k + 8, id);
    MDB_val key = {16, k}, val;
    rc = mdb_get(txn, s->ds, &key, &val);
    if (rc)
        return rc == MDB_NOTFOUND ? 0 : rc;
    if (sblock_dec_init(&d, val.mv_data, val.mv_size, (uint32_t)s->NDS))
        return SERIES_ECORRUPT;
    while ((rc = sblock_dec_next(&d, &u, &v)) == 1)
        ulast = u;
    if (rc)
        return SERIES_ECORRUPT;
    if (ulast == s->NDS)
        m->last_g = D / s->DS;
    return 0;
}

struct dsw_ctx {
    struct series_db *s;
    int64_t D;
};

static int dsw_emit(void *ud, int64_t g, double v)
{
    struct dsw_ctx *c = ud;
    int rc = sblock_enc_append(&c->s->dsenc, (uint32_t)(g - c->D / c->s->DS), v);
    return rc ? sb_err(rc) : 0;
}

/* Pushes the samples of one base block into m. */
static int ds_block(struct series_db *s, struct srules_ds *m, int64_t S, const void *p, size_t len)
{
    struct sblock_dec d;
    uint32_t u;
    double v;
    int rc;
    int64_t day = floor_div(S, s->dspan) * s->dspan;
    if (sblock_dec_init(&d, p, len, (uint32_t)s->N))
        return SERIES_ECORRUPT;
    while ((rc = sblock_dec_next(&d, &u, &v)) == 1)
        if ((rc = srules_ds_push(m, S + (int64_t)u * s->R, v, day)) != 0)
            return rc;
    return rc ? SERIES_ECORRUPT : 0;
}

#define DS_MAX_SPANS 1024 /* base blocks per ds span merged at once */

int series_downsample(struct series_db *s, MDB_txn *txn, int64_t now_ms, size_t max_work, int *more)
{
    MDB_cursor *cur[DS_MAX_SPANS] = {0};
    uint64_t cid[DS_MAX_SPANS];
    struct lastkey lk = {0};
    int64_t done, next;
    size_t work = 0, M;
    int rc;

    if (more)
        *more = 0;
    if (!s || !txn)
        return SERIES_EINVAL;
    if (s->need_reload)
        return SERIES_ERELOAD;
    M = (size_t)(s->dspan / s->span);
    if (M > DS_MAX_SPANS)
        return SERIES_EINVAL;
    if ((rc = series_i_meta_get(s, txn, SERIES_KEY_DS_DONE, &done)) ||
        (rc = series_i_meta_get(s, txn, SERIES_KEY_DS_NEXT, &next)))
        return rc;
    if (done == NONE) {
        MDB_cursor *c;
        MDB_val k, v;
        if ((rc = mdb_cursor_open(txn, s->raw, &c)) != 0)
            return rc;
        rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
        if (rc == 0 && k.mv_size == 16)
            done = floor_div((int64_t)get_be64(k.mv_data), s->dspan) * s->dspan;
        mdb_cursor_close(c);
        if (rc == MDB_NOTFOUND)
            return 0;
        if (rc)
            return rc;
        if (done == NONE)
            return SERIES_ECORRUPT;
        next = 0;
    }
    if (next == NONE)
        next = 0;
    for (size_t j = 0; j < M; j++)
        if ((rc = mdb_cursor_open(txn, s->raw, &cur[j])) != 0)
            goto fail;

    while (s->sealed_to != NONE && done + s->dspan <= s->sealed_to * s->R &&
           done + s->dspan <= now_ms - s->ds_after) {
        int64_t D = done;
        if (work >= max_work) {
            if (more)
                *more = 1;
            break;
        }
        for (size_t j = 0; j < M; j++) { /* each cursor at (span j, first id >= next) */
            uint8_t k[16];
            put_be64(k, (uint64_t)(D + (int64_t)j * s->span));
            put_be64(k + 8, (uint64_t)next);
            MDB_val key = {16, k}, val;
            rc = mdb_cursor_get(cur[j], &key, &val, MDB_SET_RANGE);
            cid[j] = 0;
            if (rc == 0 && key.mv_size == 16 && !memcmp(key.mv_data, k, 8))
                cid[j] = get_be64((uint8_t *)key.mv_data + 8);
            else if (rc && rc != MDB_NOTFOUND)
                goto fail;
        }
        for (;;) {
            uint64_t id = 0;
            for (size_t j = 0; j < M; j++)
                if (cid[j] && (!id || cid[j] < id))
                    id = cid[j];
            if (!id) { /* span done */
                done += s->dspan;
                next = 0;
                work++;
                break;
            }
            if (work >= max_work) {
                if (more)
                    *more = 1;
                goto out;
            }
            struct dsw_ctx c = {s, D};
            struct srules_ds m;
            if ((rc = series_i_ds_start(s, txn, id, D, &m, dsw_emit, &c)) != 0)
                goto fail;
            sblock_enc_reset(&s->dsenc);
            for (size_t j = 0; j < M; j++) {
                if (cid[j] != id)
                    continue;
                MDB_val key, val;
                if ((rc = mdb_cursor_get(cur[j], &key, &val, MDB_GET_CURRENT)) != 0 ||
                    (rc = ds_block(s, &m, D + (int64_t)j * s->span, val.mv_data, val.mv_size)))
                    goto fail;
                rc = mdb_cursor_get(cur[j], &key, &val, MDB_NEXT);
                cid[j] = 0;
                if (rc == 0 && key.mv_size == 16 &&
                    (int64_t)get_be64(key.mv_data) == D + (int64_t)j * s->span)
                    cid[j] = get_be64((uint8_t *)key.mv_data + 8);
                else if (rc && rc != MDB_NOTFOUND)
                    goto fail;
            }
            if ((rc = srules_ds_finish(&m)) != 0)
                goto fail;
            size_t len = sblock_enc_size(&s->dsenc);
            if (len) {
                if ((rc = wbuf_reserve(s, len)) != 0)
                    goto fail;
                sblock_enc_write(&s->dsenc, s->wbuf);
                if ((rc = blk_put(txn, s->ds, &lk, D, id, s->wbuf, len)) != 0)
                    goto fail;
            }
            next = (int64_t)id + 1;
            work++;
        }
    }
out:
    if ((rc = meta_put(s, txn, SERIES_KEY_DS_DONE, done)) != 0 ||
        (rc = meta_put(s, txn, SERIES_KEY_DS_NEXT, next)) != 0)
        goto fail;
    for (size_t j = 0; j < M; j++)
        mdb_cursor_close(cur[j]);
    return 0;
fail:
    for (size_t j = 0; j < M; j++)
        if (cur[j])
            mdb_cursor_close(cur[j]);
    s->need_reload = 1;
    return rc;
}

/* ---- retention ---------------------------------------------------------- */

/* Deletes blocks from the front of dbi while their span ends <= cut. */
static int front_delete(MDB_txn *txn, MDB_dbi dbi, int64_t span, int64_t cut, size_t max,
                        size_t *work, int *more)
{
    MDB_cursor *c;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, dbi, &c);
    if (rc)
        return rc;
    for (;;) {
        rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
        if (rc == MDB_NOTFOUND) {
            rc = 0;
            break;
        }
        if (rc)
            break;
        if (k.mv_size != 16) {
            rc = SERIES_ECORRUPT;
            break;
        }
        if ((int64_t)get_be64(k.mv_data) + span > cut)
            break;
        if (*work >= max) {
            *more = 1;
            break;
        }
        if ((rc = mdb_cursor_del(c, 0)) != 0)
            break;
        (*work)++;
    }
    mdb_cursor_close(c);
    return rc;
}

/* Deletes series id everywhere (its blocks are gone already). */
static int series_delete(struct series_db *s, MDB_txn *txn, uint64_t id)
{
    uint8_t k[8];
    int rc = sindex_del(&s->ix, txn, id);
    if (rc)
        return rc;
    put_be64(k, id);
    MDB_val key = {8, k};
    rc = mdb_del(txn, s->heads_db, &key, NULL);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    head_free(s->heads[id]);
    s->heads[id] = NULL;
    return 0;
}

int series_retention(struct series_db *s, MDB_txn *txn, int64_t now_ms, size_t max_work, int *more)
{
    int64_t raw_from, ds_from, done;
    size_t work = 0;
    int m = 0, rc;
    if (more)
        *more = 0;
    if (!s || !txn)
        return SERIES_EINVAL;
    if (s->need_reload)
        return SERIES_ERELOAD;
    if ((rc = series_i_meta_get(s, txn, SERIES_KEY_RAW_FROM, &raw_from)) ||
        (rc = series_i_meta_get(s, txn, SERIES_KEY_DS_FROM, &ds_from)) ||
        (rc = series_i_meta_get(s, txn, SERIES_KEY_DS_DONE, &done)))
        return rc;
    /* Raise the cut-offs first (readers filter by them), then delete. */
    if (done != NONE) {
        int64_t cut = min64(floor_div(now_ms - s->raw_ret, s->span) * s->span, done);
        if (raw_from == NONE || cut > raw_from) {
            raw_from = cut;
            if ((rc = meta_put(s, txn, SERIES_KEY_RAW_FROM, raw_from)) != 0)
                goto fail;
        }
    }
    int64_t dcut = floor_div(now_ms - s->ds_ret, s->dspan) * s->dspan;
    if (dcut > 0 && (ds_from == NONE || dcut > ds_from)) {
        ds_from = dcut;
        if ((rc = meta_put(s, txn, SERIES_KEY_DS_FROM, ds_from)) != 0)
            goto fail;
    }
    if (raw_from != NONE &&
        (rc = front_delete(txn, s->raw, s->span, raw_from, max_work, &work, &m)))
        goto fail;
    if (ds_from != NONE && (rc = front_delete(txn, s->ds, s->dspan, ds_from, max_work, &work, &m)))
        goto fail;
    /* Series whose every sample is past both cut-offs, or that never had one. */
    int64_t lim = raw_from == NONE || ds_from == NONE ? NONE : min64(raw_from, ds_from);
    uint64_t id = s->gc_next ? s->gc_next : 1;
    for (; id < s->next_id; id++) {
        struct head *h = s->heads[id];
        if (!h || h->dirty || h->npend || h->open_k != NONE)
            continue;
        if (h->last_s != NONE && (lim == NONE || h->last_s * s->R > lim))
            continue;
        if (work >= max_work) {
            m = 1;
            break;
        }
        if ((rc = series_delete(s, txn, id)) != 0)
            goto fail;
        work++;
    }
    s->gc_next = id >= s->next_id ? 1 : id;
    if (more)
        *more = m;
    return 0;
fail:
    s->need_reload = 1;
    return rc;
}

int series_info(struct series_db *s, MDB_txn *txn, uint64_t id, struct series_info *out)
{
    struct srules_head h;
    int64_t first, last;
    if (!s || !txn || !out)
        return SERIES_EINVAL;
    int rc = series_i_head_get(s, txn, id, &h);
    if (rc)
        return rc;
    srules_head_bounds(&h, &first, &last);
    out->first_ms = first == NONE ? NONE : first * s->R;
    out->last_ms = last == NONE ? NONE : last * s->R;
    out->value = h.last_s == NONE ? 0 : h.last_v;
    for (uint32_t i = 0; i < h.npend; i++)
        out->value += h.pend[i].d;
    out->open_buckets = h.npend;
    srules_head_free(&h);
    return 0;
}

/* ---- the index ---------------------------------------------------------- */

/* Keeps the ids whose series may have a sample in [start, end]. */
static int ids_in_range(struct series_db *s, MDB_txn *txn, struct sindex_ids *ids, int64_t start,
                        int64_t end)
{
    size_t k = 0;
    if (start == INT64_MIN && end == INT64_MAX)
        return 0;
    for (size_t i = 0; i < ids->n; i++) {
        struct srules_head h;
        int64_t first, last;
        int rc = series_i_head_get(s, txn, ids->v[i], &h);
        if (rc)
            return rc;
        srules_head_bounds(&h, &first, &last);
        srules_head_free(&h);
        if (first != NONE && first * s->R <= end && last * s->R >= start)
            ids->v[k++] = ids->v[i];
    }
    ids->n = k;
    return 0;
}

int series_select(struct series_db *s, MDB_txn *txn, const struct series_matcher *m, size_t nm,
                  int64_t start_ms, int64_t end_ms, uint64_t **ids, size_t *count)
{
    struct sindex_ids r = {0};
    if (ids)
        *ids = NULL;
    if (count)
        *count = 0;
    if (!s || !txn || !ids || !count || (nm && !m))
        return SERIES_EINVAL;
    int rc = sindex_select(&s->ix, txn, m, nm, &r);
    if (rc == 0)
        rc = ids_in_range(s, txn, &r, start_ms, end_ms);
    if (rc == 0 && r.n) {
        *ids = r.v;
        *count = r.n;
        r.v = NULL;
    }
    sindex_ids_free(&r);
    return rc;
}

int series_labels(struct series_db *s, MDB_txn *txn, uint64_t id, struct series_label **labels,
                  size_t *n)
{
    if (labels)
        *labels = NULL;
    if (n)
        *n = 0;
    if (!s || !txn || !labels || !n)
        return SERIES_EINVAL;
    return sindex_labels(&s->ix, txn, id, labels, n);
}

/* Names (name NULL) or values of `name` over all series or a selection. */
static int strings(struct series_db *s, MDB_txn *txn, const char *name,
                   const struct series_matcher *m, size_t nm, int64_t start_ms, int64_t end_ms,
                   char ***out, size_t *count)
{
    uint64_t *ids = NULL;
    size_t nids = 0;
    int rc;
    if (out)
        *out = NULL;
    if (count)
        *count = 0;
    if (!s || !txn || !out || !count || (nm && !m))
        return SERIES_EINVAL;
    if (!nm && start_ms == INT64_MIN && end_ms == INT64_MAX)
        return sindex_strings(&s->ix, txn, name, NULL, 0, out, count);
    if ((rc = series_select(s, txn, m, nm, start_ms, end_ms, &ids, &nids)) == 0 && nids)
        rc = sindex_strings(&s->ix, txn, name, ids, nids, out, count);
    free(ids);
    return rc;
}

int series_label_names(struct series_db *s, MDB_txn *txn, const struct series_matcher *m, size_t nm,
                       int64_t start_ms, int64_t end_ms, char ***out, size_t *count)
{
    return strings(s, txn, NULL, m, nm, start_ms, end_ms, out, count);
}

int series_label_values(struct series_db *s, MDB_txn *txn, const char *name,
                        const struct series_matcher *m, size_t nm, int64_t start_ms, int64_t end_ms,
                        char ***out, size_t *count)
{
    if (!name || !*name)
        return SERIES_EINVAL;
    return strings(s, txn, name, m, nm, start_ms, end_ms, out, count);
}

int series_count(struct series_db *s, MDB_txn *txn, const char *metric, uint64_t *count)
{
    if (!s || !txn || !metric || !count)
        return SERIES_EINVAL;
    return sindex_count(&s->ix, txn, metric, count);
}

int series_metric_counts(struct series_db *s, MDB_txn *txn, struct series_metric_count **out,
                         size_t *n)
{
    if (out)
        *out = NULL;
    if (n)
        *n = 0;
    if (!s || !txn || !out || !n)
        return SERIES_EINVAL;
    return sindex_metric_counts(&s->ix, txn, out, n);
}

static int db_pages(MDB_txn *txn, MDB_dbi dbi, uint64_t *bytes)
{
    MDB_stat st;
    int rc = mdb_stat(txn, dbi, &st);
    if (rc == 0)
        *bytes += (st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages) * st.ms_psize;
    return rc;
}

int series_stats(struct series_db *s, MDB_txn *txn, struct series_stats *out)
{
    MDB_cursor *c = NULL;
    MDB_val k, v;
    MDB_stat st;
    int rc;
    if (!s || !txn || !out)
        return SERIES_EINVAL;
    memset(out, 0, sizeof *out);
    if ((rc = mdb_stat(txn, s->ix.ids, &st)) != 0)
        return rc;
    out->series = st.ms_entries;
    MDB_dbi blk[2] = {s->raw, s->ds};
    for (int r = 0; r < 2; r++) {
        if ((rc = mdb_cursor_open(txn, blk[r], &c)) != 0)
            return rc;
        for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            uint32_t cnt;
            if (sblock_count(v.mv_data, v.mv_size, &cnt)) {
                rc = SERIES_ECORRUPT;
                break;
            }
            out->blocks[r]++;
            out->block_bytes[r] += v.mv_size;
            out->samples[r] += cnt;
        }
        mdb_cursor_close(c);
        if (rc != MDB_NOTFOUND)
            return rc;
    }
    if ((rc = mdb_cursor_open(txn, s->heads_db, &c)) != 0)
        return rc;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        struct srules_head h;
        uint32_t cnt = 0;
        if ((rc = srules_head_parse(v.mv_data, v.mv_size, &h)) != 0)
            break;
        if (h.open_len && sblock_count(h.open_p, h.open_len, &cnt))
            rc = SERIES_ECORRUPT;
        out->heads++;
        out->head_bytes += v.mv_size;
        out->head_samples += cnt + h.npend;
        srules_head_free(&h);
        if (rc)
            break;
    }
    mdb_cursor_close(c);
    if (rc != MDB_NOTFOUND)
        return rc;
    MDB_dbi all[] = {s->meta, s->ix.series, s->ix.ids, s->ix.postings, s->heads_db, s->raw, s->ds};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if ((rc = db_pages(txn, all[i], &out->page_bytes)) != 0)
            return rc;
    int64_t sealed;
    if ((rc = series_i_meta_get(s, txn, SERIES_KEY_SEALED, &sealed)) ||
        (rc = series_i_meta_get(s, txn, SERIES_KEY_RAW_FROM, &out->raw_from_ms)) ||
        (rc = series_i_meta_get(s, txn, SERIES_KEY_DS_FROM, &out->ds_from_ms)) ||
        (rc = series_i_meta_get(s, txn, SERIES_KEY_DS_DONE, &out->ds_done_ms)))
        return rc;
    out->sealed_to_ms = sealed == NONE ? NONE : sealed * s->R;
    return 0;
}
