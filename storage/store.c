/*
 * store.c — the llmtap event store: LMDB for order, atomicity and concurrent
 * readers; zstd (optionally with a trained dictionary) for the event bodies.
 * Key and value layouts: docs/storage.md. Record layout: evrec.h.
 *
 * DESIGN
 *
 * Threads. One LMDB environment opened with MDB_NOTLS, so a read transaction
 * is not tied to a thread's reader slot and any thread (e.g. the HTTP thread
 * pool) can call store_get/store_scan/store_stats/store_offset_get at any
 * time. Each of those begins and ends its own read transaction inside the
 * call. Writes (store_append, the storing half of store_train_dict) take
 * st->wlock and then LMDB's write lock, always in that order, so there is
 * one writer at a time and no lock-order inversion; a write transaction is
 * begun and committed by the same thread, inside one call, as LMDB requires.
 * Readers never block the writer and never take st->wlock. store_open and
 * store_close must not race with any other call on the same store.
 *
 * Map size. mdb_env_set_mapsize unmaps and remaps the file and may only run
 * while no transaction of the process is active (lmdb.h). Every transaction
 * here, read or write, is therefore begun and ended under st->maplock held
 * shared; store_set_map_size takes it exclusively (writer-preferring, so a
 * steady stream of readers cannot starve it). The cost on the read path is
 * one uncontended rwlock per call. Lock order: wlock, maplock, dlock.
 *
 * Retention (store_delete_before) is an ordinary writer: short transactions
 * under wlock, so it interleaves with store_append batch by batch.
 *
 * Derived data (the time series of storage/series.c, kept in their own
 * named databases of the same environment) is written by a hook that
 * store_append_hook calls inside the batch's write transaction, after the
 * events and before the offsets and the commit, so events, offsets and
 * series commit or abort together. store_write_txn gives such modules one
 * write transaction under the same locks (series_open), store_txn_read a
 * read transaction holding maplock like every other.
 *
 * Read-only (opts.read_only: backup and verify, possibly beside a live
 * collector in another process): MDB_RDONLY, nothing created or written;
 * MDB_MAP_RESIZED (the live writer grew the map) is handled by adopting the
 * new size and beginning again.
 *
 * Ownership.
 *   - st->wlock guards the writer's state: cctx (one ZSTD_CCtx reused by
 *     every append), cdict/dict_id (the dictionary new records use; dict_id
 *     is atomic so store_stats can read it without the lock), wbuf (the
 *     record buffer, grown and reused: no per-event allocation once it has
 *     reached the size of the largest record).
 *   - st->dlock guards the decompression side: a small pool of ZSTD_DCtx
 *     (taken for one decompression, then returned) and the cache of
 *     ZSTD_DDicts by id. A DDict, once cached, is immutable and shared by
 *     all readers until store_close; dictionaries are never deleted.
 *   - Nothing that points into the LMDB map outlives its transaction: bodies
 *     are decompressed (or copied) into malloc'd buffers, and scan summaries
 *     copy their strings into a buffer owned by the scan.
 *
 * Invariants.
 *   - `events` and `event_ids` are in bijection: an id is in event_ids iff
 *     its event is in events under event_ids[id]. Each `events` entry holds
 *     the number of its record in `records` (format 2), or, in a store
 *     upgraded from format 1, the record itself (store_record_of reads
 *     both); every `records` entry is numbered by exactly one event. All
 *     are written in the same transaction as the batch's Kafka offsets, so
 *     after any crash the offsets describe exactly the data present.
 *   - Record numbers only grow (the last + 1 in each write transaction), so
 *     records are appended (MDB_APPEND) and their pages fill whatever the
 *     events' times.
 *   - A record's dictionary id is 0 or the id of a committed entry of
 *     `dicts`: the writer switches dictionary only after the transaction
 *     storing it has committed, and holds wlock throughout.
 *   - meta/format_version is STORE_FORMAT_VERSION_MIN..STORE_FORMAT_VERSION,
 *     checked on open before anything else is created or written; a write
 *     open upgrades 1 to 2 in its own transaction (nothing to convert).
 *   - On any error the write transaction is aborted: a batch is written
 *     whole or not at all. The writer's state needs no repair afterwards
 *     (the last events key is re-read in each transaction).
 */
#include "store.h"

#include "evrec.h"
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#define ZDICT_STATIC_LINKING_ONLY /* ZDICT_trainFromBuffer_fastCover */
#include <zdict.h>
#include <zstd.h>
#include <zstd_errors.h>

#define DEFAULT_MAP_SIZE   ((size_t)1 << 30)
#define DEFAULT_ZSTD_LEVEL 3
#define MAX_DBS            16 /* room for the databases still to come */
#define TRAIN_MAX_BYTES    ((size_t)16 << 20)
#define TRAIN_MIN_SAMPLES  16
#define TRAIN_MAX_SAMPLES  ((size_t)1 << 20)
#define DICT_MAX_BYTES     ((size_t)64 << 10)
#define DICT_MIN_BYTES     ((size_t)1 << 10)

static const char KEY_FORMAT_VERSION[] = STORE_KEY_FORMAT_VERSION;
static const char OFFSET_PREFIX[] = STORE_OFFSET_PREFIX;

/* The version found by the last store_open() that failed with STORE_EVERSION
 * in this thread, for store_strerror(). */
static _Thread_local uint32_t tls_found_version;
static _Thread_local char tls_errbuf[128];

static size_t evkey_make(uint8_t *k, int64_t t, const char *id, size_t idlen)
{
    store_put_time_key(k, t);
    memcpy(k + 8, id, idlen);
    return 8 + idlen;
}

/* LMDB's default key order: memcmp, then the shorter first. */
static int key_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return (alen > blen) - (alen < blen);
}

/* "offset/<topic>/" + BE u32 partition. Returns the length, 0 if invalid. */
static size_t offkey_make(uint8_t *k, const char *topic, int32_t partition)
{
    if (!topic || partition < 0)
        return 0;
    size_t tl = strlen(topic);
    if (tl == 0 || tl > STORE_TOPIC_MAX || memchr(topic, '/', tl))
        return 0;
    size_t n = sizeof OFFSET_PREFIX - 1;
    memcpy(k, OFFSET_PREFIX, n);
    memcpy(k + n, topic, tl);
    n += tl;
    k[n++] = '/';
    store_put_be32(k + n, (uint32_t)partition);
    return n + 4;
}

/* ---- errors ------------------------------------------------------------- */

const char *store_strerror(int rc)
{
    switch (rc) {
    case 0: return "success";
    case STORE_ENOTFOUND: return "not found";
    case STORE_EVERSION:
        if (tls_found_version) {
            snprintf(tls_errbuf, sizeof tls_errbuf,
                     "store has format version %u; this build reads versions %u to %u",
                     (unsigned)tls_found_version, (unsigned)STORE_FORMAT_VERSION_MIN,
                     (unsigned)STORE_FORMAT_VERSION);
            return tls_errbuf;
        }
        return "store was written by another format version";
    case STORE_ECORRUPT: return "corrupt record in the store";
    case STORE_EINVAL: return "invalid argument";
    case STORE_ENOMEM: return "out of memory";
    case STORE_EABORT: return "scan stopped by its callback";
    case STORE_EPARTIAL: return "scan stopped after examining the most records allowed";
    case STORE_ETRAIN: return "dictionary training failed (too few or too small samples)";
    case STORE_ETOOSMALL: return "map size smaller than the data already in the store";
    default: return mdb_strerror(rc); /* LMDB codes, and strerror() for errno */
    }
}

/* ---- decompression side: DCtx pool and DDict cache ---------------------- */

static ZSTD_DCtx *dctx_take(struct store *st)
{
    ZSTD_DCtx *d = NULL;
    pthread_mutex_lock(&st->dlock);
    if (st->ndctx > 0)
        d = st->dctx[--st->ndctx];
    pthread_mutex_unlock(&st->dlock);
    return d ? d : ZSTD_createDCtx();
}

static void dctx_give(struct store *st, ZSTD_DCtx *d)
{
    pthread_mutex_lock(&st->dlock);
    if (st->ndctx < STORE_DCTX_POOL) {
        st->dctx[st->ndctx++] = d;
        d = NULL;
    }
    pthread_mutex_unlock(&st->dlock);
    ZSTD_freeDCtx(d);
}

/* Finds (loading it from `dicts` in txn when needed) the DDict of id. */
static int ddict_get(struct store *st, MDB_txn *txn, uint32_t id, const ZSTD_DDict **out)
{
    int rc = 0;
    pthread_mutex_lock(&st->dlock);
    for (size_t i = 0; i < st->nddicts; i++) {
        if (st->ddicts[i].id == id) {
            *out = st->ddicts[i].ddict;
            goto done;
        }
    }
    uint8_t k[4];
    store_put_be32(k, id);
    MDB_val key = {sizeof k, k}, val;
    rc = mdb_get(txn, st->dicts, &key, &val);
    if (rc) {
        if (rc == MDB_NOTFOUND)
            rc = STORE_ECORRUPT; /* a record names a dictionary that is not there */
        goto done;
    }
    if (st->nddicts == st->capddicts) {
        size_t cap = st->capddicts ? 2 * st->capddicts : 4;
        struct store_ddict_ent *n = realloc(st->ddicts, cap * sizeof *n);
        if (!n) {
            rc = STORE_ENOMEM;
            goto done;
        }
        st->ddicts = n;
        st->capddicts = cap;
    }
    ZSTD_DDict *dd = ZSTD_createDDict(val.mv_data, val.mv_size); /* copies */
    if (!dd) {
        rc = STORE_ENOMEM;
        goto done;
    }
    st->ddicts[st->nddicts].id = id;
    st->ddicts[st->nddicts].ddict = dd;
    st->nddicts++;
    *out = dd;
done:
    pthread_mutex_unlock(&st->dlock);
    return rc;
}

/* Writes the JSON of record r (parsed from a value of txn) to dst, which has
 * room for r->json_len bytes. */
int store_record_body(struct store *st, MDB_txn *txn, const struct evrec *r, char *dst)
{
    if (r->flags & EVREC_F_RAW) {
        if (r->json_len)
            memcpy(dst, r->body, r->json_len);
        return 0;
    }
    const ZSTD_DDict *dd = NULL;
    if (r->dict_id) {
        int rc = ddict_get(st, txn, r->dict_id, &dd);
        if (rc)
            return rc;
    }
    ZSTD_DCtx *d = dctx_take(st);
    if (!d)
        return STORE_ENOMEM;
    size_t z = dd ? ZSTD_decompress_usingDDict(d, dst, r->json_len, r->body, r->body_len, dd)
                  : ZSTD_decompressDCtx(d, dst, r->json_len, r->body, r->body_len);
    dctx_give(st, d);
    if (ZSTD_isError(z))
        return ZSTD_getErrorCode(z) == ZSTD_error_memory_allocation ? STORE_ENOMEM : STORE_ECORRUPT;
    return z == r->json_len ? 0 : STORE_ECORRUPT;
}

int store_record_of(struct store *st, MDB_txn *txn, MDB_val *val, uint64_t *seq)
{
    if (seq)
        *seq = 0;
    if (val->mv_size != 8) /* a record of format version 1, inline */
        return 0;
    if (!st->has_records)
        return STORE_ECORRUPT;
    uint8_t k[8];
    memcpy(k, val->mv_data, 8);
    if (seq)
        *seq = store_get_be64(k);
    MDB_val key = {8, k};
    int rc = mdb_get(txn, st->records, &key, val);
    return rc == MDB_NOTFOUND ? STORE_ECORRUPT : rc;
}

/* ---- open / close ------------------------------------------------------- */

static int mkdir_p(const char *dir)
{
    size_t n = strlen(dir);
    char *p = malloc(n + 1);
    if (!p)
        return STORE_ENOMEM;
    memcpy(p, dir, n + 1);
    int rc = 0;
    for (size_t i = 1; i <= n && !rc; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0750) != 0 && errno != EEXIST)
            rc = errno;
        p[i] = c;
    }
    struct stat sb;
    if (!rc && (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)))
        rc = errno ? errno : ENOTDIR;
    free(p);
    return rc;
}

/* Makes new records use the dictionary cd (id), taking ownership of cd.
 * Caller holds wlock (or is store_open, before anyone else can). */
static int writer_set_dict(struct store *st, uint32_t id, ZSTD_CDict *cd)
{
    size_t z = ZSTD_CCtx_refCDict(st->cctx, cd);
    if (ZSTD_isError(z)) {
        ZSTD_freeCDict(cd);
        return STORE_ENOMEM;
    }
    ZSTD_freeCDict(st->cdict);
    st->cdict = cd;
    atomic_store_explicit(&st->dict_id, id, memory_order_relaxed);
    return 0;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    if (st->env)
        mdb_env_close(st->env);
    ZSTD_freeCCtx(st->cctx);
    ZSTD_freeCDict(st->cdict);
    free(st->wbuf);
    for (int i = 0; i < st->ndctx; i++)
        ZSTD_freeDCtx(st->dctx[i]);
    for (size_t i = 0; i < st->nddicts; i++)
        ZSTD_freeDDict(st->ddicts[i].ddict);
    free(st->ddicts);
    if (st->locks_ready) {
        pthread_mutex_destroy(&st->wlock);
        pthread_mutex_destroy(&st->dlock);
        pthread_rwlock_destroy(&st->maplock);
    }
    free(st);
}

/* The read-only half of store_open: checks the version and opens the
 * databases without creating or writing anything. A directory without our
 * databases is STORE_ECORRUPT (not an llmtap store). */
static int open_read_only(struct store *st)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    MDB_val key = {sizeof KEY_FORMAT_VERSION - 1, (void *)KEY_FORMAT_VERSION}, val;
    if ((rc = mdb_dbi_open(txn, "meta", 0, &st->meta)) != 0 ||
        (rc = mdb_get(txn, st->meta, &key, &val)) != 0) {
        rc = rc == MDB_NOTFOUND ? STORE_ECORRUPT : rc;
        goto fail;
    }
    if (val.mv_size != 4) {
        rc = STORE_ECORRUPT;
        goto fail;
    }
    uint32_t version = store_get_be32(val.mv_data);
    if (version < STORE_FORMAT_VERSION_MIN || version > STORE_FORMAT_VERSION) {
        tls_found_version = version;
        rc = STORE_EVERSION;
        goto fail;
    }
    if ((rc = mdb_dbi_open(txn, "events", 0, &st->events)) != 0 ||
        (rc = mdb_dbi_open(txn, "event_ids", 0, &st->event_ids)) != 0 ||
        (rc = mdb_dbi_open(txn, "dicts", 0, &st->dicts)) != 0) {
        rc = rc == MDB_NOTFOUND ? STORE_ECORRUPT : rc;
        goto fail;
    }
    /* format 1 has no `records` (every record is inline), format 2 has */
    rc = mdb_dbi_open(txn, "records", 0, &st->records);
    if (rc == MDB_NOTFOUND && version == 1)
        rc = 0;
    else if (rc == MDB_NOTFOUND)
        rc = STORE_ECORRUPT;
    else if (rc == 0)
        st->has_records = 1;
    if (rc)
        goto fail;
    return mdb_txn_commit(txn); /* keeps the database handles */
fail:
    mdb_txn_abort(txn);
    return rc;
}

int store_open(const struct store_opts *opts, struct store **out)
{
    struct store *st = NULL;
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    int rc;

    if (!out)
        return STORE_EINVAL;
    *out = NULL;
    if (!opts || !opts->dir || !*opts->dir)
        return STORE_EINVAL;
    int level = opts->zstd_level ? opts->zstd_level : DEFAULT_ZSTD_LEVEL;
    if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
        return STORE_EINVAL;

    st = calloc(1, sizeof *st);
    if (!st)
        return STORE_ENOMEM;
    st->level = level;
    if (pthread_mutex_init(&st->wlock, NULL) != 0) {
        rc = STORE_ENOMEM;
        goto fail;
    }
    if (pthread_mutex_init(&st->dlock, NULL) != 0) {
        pthread_mutex_destroy(&st->wlock);
        rc = STORE_ENOMEM;
        goto fail;
    }
    /* Writer-preferring: a stream of readers must not starve a map resize. */
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    rc = pthread_rwlock_init(&st->maplock, &ra);
    pthread_rwlockattr_destroy(&ra);
    if (rc != 0) {
        pthread_mutex_destroy(&st->dlock);
        pthread_mutex_destroy(&st->wlock);
        rc = STORE_ENOMEM;
        goto fail;
    }
    st->locks_ready = 1;
    st->read_only = opts->read_only != 0;

    st->cctx = ZSTD_createCCtx();
    if (!st->cctx) {
        rc = STORE_ENOMEM;
        goto fail;
    }
    /* The record header carries the length and the dictionary id, so the
     * frame need not: 4-8 bytes saved per event. */
    if (ZSTD_isError(ZSTD_CCtx_setParameter(st->cctx, ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(st->cctx, ZSTD_c_contentSizeFlag, 0)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(st->cctx, ZSTD_c_dictIDFlag, 0)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(st->cctx, ZSTD_c_checksumFlag, 0))) {
        rc = STORE_EINVAL;
        goto fail;
    }

    if (!st->read_only && (rc = mkdir_p(opts->dir)) != 0)
        goto fail;
    if ((rc = mdb_env_create(&st->env)) != 0)
        goto fail;
    if ((rc = mdb_env_set_maxdbs(st->env, MAX_DBS)) != 0)
        goto fail;
    /* Read-only without a size: the one the file records (at least the data). */
    size_t map_size = opts->map_size ? opts->map_size : DEFAULT_MAP_SIZE;
    if ((!st->read_only || opts->map_size) && (rc = mdb_env_set_mapsize(st->env, map_size)) != 0)
        goto fail;
    if (opts->max_readers && (rc = mdb_env_set_maxreaders(st->env, opts->max_readers)) != 0)
        goto fail;
    unsigned flags = MDB_NOTLS | (opts->no_sync ? MDB_NOSYNC : 0);
    if (st->read_only)
        flags |= MDB_RDONLY;
    if ((rc = mdb_env_open(st->env, opts->dir, flags, 0640)) != 0)
        goto fail;
    int dead;
    if ((rc = mdb_reader_check(st->env, &dead)) != 0) /* slots of crashed processes */
        goto fail;
    if (st->read_only) {
        if ((rc = open_read_only(st)) != 0)
            goto fail;
        *out = st;
        return 0;
    }

    if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
        goto fail;
    if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &st->meta)) != 0)
        goto fail;
    MDB_val key = {sizeof KEY_FORMAT_VERSION - 1, (void *)KEY_FORMAT_VERSION}, val;
    rc = mdb_get(txn, st->meta, &key, &val);
    int fresh = rc == MDB_NOTFOUND, upgrade = 0;
    if (rc && !fresh)
        goto fail;
    if (!fresh) {
        if (val.mv_size != 4) {
            rc = STORE_ECORRUPT;
            goto fail;
        }
        uint32_t v = store_get_be32(val.mv_data);
        if (v < STORE_FORMAT_VERSION_MIN || v > STORE_FORMAT_VERSION) {
            tls_found_version = v;
            rc = STORE_EVERSION; /* nothing created or written: the abort undoes it */
            goto fail;
        }
        upgrade = v != STORE_FORMAT_VERSION;
    }
    if ((rc = mdb_dbi_open(txn, "events", MDB_CREATE, &st->events)) != 0 ||
        (rc = mdb_dbi_open(txn, "event_ids", MDB_CREATE, &st->event_ids)) != 0 ||
        (rc = mdb_dbi_open(txn, "dicts", MDB_CREATE, &st->dicts)) != 0 ||
        (rc = mdb_dbi_open(txn, "records", MDB_CREATE, &st->records)) != 0)
        goto fail;
    st->has_records = 1;
    if (fresh || upgrade) {
        MDB_stat ms;
        if ((rc = mdb_stat(txn, st->events, &ms)) != 0)
            goto fail;
        if (fresh && ms.ms_entries) { /* events without a version: not ours to guess */
            rc = STORE_ECORRUPT;
            goto fail;
        }
        /* A format 1 store becomes format 2 as it is: its records stay
         * inline in `events`, new ones go to `records` (store_record_of
         * reads both). */
        uint8_t v[4];
        store_put_be32(v, STORE_FORMAT_VERSION);
        val.mv_size = sizeof v;
        val.mv_data = v;
        if ((rc = mdb_put(txn, st->meta, &key, &val, 0)) != 0)
            goto fail;
    }
    /* The newest dictionary is the one new records use. */
    if ((rc = mdb_cursor_open(txn, st->dicts, &cur)) != 0)
        goto fail;
    rc = mdb_cursor_get(cur, &key, &val, MDB_LAST);
    if (rc == 0) {
        if (key.mv_size != 4) {
            rc = STORE_ECORRUPT;
            goto fail;
        }
        ZSTD_CDict *cd = ZSTD_createCDict(val.mv_data, val.mv_size, st->level);
        if (!cd) {
            rc = STORE_ENOMEM;
            goto fail;
        }
        if ((rc = writer_set_dict(st, store_get_be32(key.mv_data), cd)) != 0)
            goto fail;
    } else if (rc != MDB_NOTFOUND) {
        goto fail;
    }
    mdb_cursor_close(cur);
    cur = NULL;
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc)
        goto fail;
    *out = st;
    return 0;

fail:
    if (cur)
        mdb_cursor_close(cur);
    if (txn)
        mdb_txn_abort(txn);
    store_close(st);
    return rc;
}

/* ---- append ------------------------------------------------------------- */

static size_t opt_len(const char *s)
{
    return s ? strlen(s) : 0;
}

static int event_valid(const struct store_event *e)
{
    if (!e->json || e->json_len > UINT32_MAX || !e->id)
        return 0;
    size_t idl = strlen(e->id);
    if (idl == 0 || idl > STORE_ID_MAX)
        return 0;
    return opt_len(e->service) <= EVREC_STR_MAX && opt_len(e->model) <= EVREC_STR_MAX &&
           opt_len(e->provider) <= EVREC_STR_MAX && opt_len(e->operation) <= EVREC_STR_MAX;
}

static int wbuf_reserve(struct store *st, size_t n)
{
    if (n <= st->wcap)
        return 0;
    size_t cap = st->wcap ? st->wcap : 4096;
    while (cap < n)
        cap *= 2;
    uint8_t *b = realloc(st->wbuf, cap);
    if (!b)
        return STORE_ENOMEM;
    st->wbuf = b;
    st->wcap = cap;
    return 0;
}

/* Encodes e as a record in st->wbuf (caller holds wlock). */
static int record_encode(struct store *st, const struct store_event *e, MDB_val *out)
{
    struct evrec r = {
        .dict_id = atomic_load_explicit(&st->dict_id, memory_order_relaxed),
        .time_us = e->time_us,
        .cost_usd = e->cost_usd,
        .latency_ms = e->latency_ms,
        .status = e->status,
        .json_len = (uint32_t)e->json_len,
        .input_tokens = e->input_tokens,
        .output_tokens = e->output_tokens,
    };
    const char *s[EVREC_NSTR] = {e->id, e->service, e->model, e->provider, e->operation};
    for (int i = 0; i < EVREC_NSTR; i++) {
        r.str[i] = s[i];
        r.str_len[i] = (uint16_t)opt_len(s[i]);
    }
    size_t head = evrec_head_size(&r);
    /* Room for the JSON as is: a frame that does not fit is no smaller than
     * the input, and the body is then stored raw. */
    int rc = wbuf_reserve(st, head + e->json_len);
    if (rc)
        return rc;
    size_t z = 0;
    if (e->json_len > 0) {
        z = ZSTD_compress2(st->cctx, st->wbuf + head, e->json_len - 1, e->json, e->json_len);
        if (ZSTD_isError(z)) {
            ZSTD_ErrorCode ec = ZSTD_getErrorCode(z);
            if (ec == ZSTD_error_memory_allocation)
                return STORE_ENOMEM;
            if (ec != ZSTD_error_dstSize_tooSmall)
                return STORE_EINVAL;
            z = 0;
        }
    }
    if (z == 0) {
        r.flags = EVREC_F_RAW;
        r.dict_id = 0;
        if (e->json_len)
            memcpy(st->wbuf + head, e->json, e->json_len);
        z = e->json_len;
    }
    evrec_put_head(st->wbuf, &r);
    out->mv_data = st->wbuf;
    out->mv_size = head + z;
    return 0;
}

/* The order a batch is written in: by key (time, then id), then position in
 * the batch. Events of several partitions arrive interleaved in time; in
 * key order nearly all of them go to the end of the tree with MDB_APPEND,
 * which fills pages instead of splitting them in half. */
struct ord {
    int64_t t;
    const char *id;
    size_t i;
};

static int ord_cmp(const void *pa, const void *pb)
{
    const struct ord *a = pa, *b = pb;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    int c = strcmp(a->id, b->id);
    if (c)
        return c;
    return (a->i > b->i) - (a->i < b->i);
}

int store_append(struct store *st, const struct store_event *evs, size_t n,
                 const struct store_offset *offs, size_t noffs, struct store_append_result *res)
{
    return store_append_hook(st, evs, n, offs, noffs, NULL, NULL, NULL, res);
}

int store_append_hook(struct store *st, const struct store_event *evs, size_t n,
                      const struct store_offset *offs, size_t noffs, store_txn_hook_fn hook,
                      void *hook_ud, int *hook_ran, struct store_append_result *res)
{
    unsigned char *stored = NULL;
    struct store_append_result r = {0, 0};
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL, *rcur = NULL;
    uint8_t last[STORE_EVKEY_MAX];
    uint8_t k[STORE_EVKEY_MAX > STORE_OFFKEY_MAX ? STORE_EVKEY_MAX : STORE_OFFKEY_MAX];
    size_t lastlen = 0;
    uint64_t seq = 0; /* the last record number */
    int rc;

    if (res)
        *res = r;
    if (hook_ran)
        *hook_ran = 0;
    if (!st || (n && !evs) || (noffs && !offs))
        return STORE_EINVAL;
    /* Validate everything before taking any lock: a bad argument writes nothing. */
    for (size_t i = 0; i < n; i++)
        if (!event_valid(&evs[i]))
            return STORE_EINVAL;
    for (size_t i = 0; i < noffs; i++)
        if (offs[i].next_offset < 0 || !offkey_make(k, offs[i].topic, offs[i].partition))
            return STORE_EINVAL;
    if (n == 0 && noffs == 0)
        return 0;
    if (hook && n && !(stored = calloc(n, 1)))
        return STORE_ENOMEM;
    struct ord *ord = n > 1 ? malloc(n * sizeof *ord) : NULL;
    if (n > 1 && !ord) {
        free(stored);
        return STORE_ENOMEM;
    }
    for (size_t i = 0; i < n && ord; i++)
        ord[i] = (struct ord){evs[i].time_us, evs[i].id, i};
    if (ord)
        qsort(ord, n, sizeof *ord, ord_cmp);

    pthread_mutex_lock(&st->wlock);
    pthread_rwlock_rdlock(&st->maplock);
    if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
        goto fail;
    if ((rc = mdb_cursor_open(txn, st->events, &cur)) != 0)
        goto fail;
    MDB_val key, val;
    rc = mdb_cursor_get(cur, &key, &val, MDB_LAST);
    if (rc == 0) {
        if (key.mv_size > sizeof last) {
            rc = STORE_ECORRUPT;
            goto fail;
        }
        memcpy(last, key.mv_data, key.mv_size);
        lastlen = key.mv_size;
    } else if (rc != MDB_NOTFOUND) {
        goto fail;
    }
    /* Records are numbered in the order they are written, so each goes to
     * the end of `records` (MDB_APPEND: full pages), whatever its time. */
    if ((rc = mdb_cursor_open(txn, st->records, &rcur)) != 0)
        goto fail;
    rc = mdb_cursor_get(rcur, &key, &val, MDB_LAST);
    if (rc == 0) {
        if (key.mv_size != 8) {
            rc = STORE_ECORRUPT;
            goto fail;
        }
        seq = store_get_be64(key.mv_data);
    } else if (rc != MDB_NOTFOUND) {
        goto fail;
    }

    for (size_t j = 0; j < n; j++) {
        size_t i = ord ? ord[j].i : j;
        const struct store_event *e = &evs[i];
        size_t idl = strlen(e->id);
        size_t kl = evkey_make(k, e->time_us, e->id, idl);
        /* event_ids first: MDB_NOOVERWRITE is the dedup check, and it also
         * sees ids put earlier in this same transaction (same batch). */
        MDB_val idkey = {idl, (void *)e->id}, idval = {8, k}; /* the key's time part */
        rc = mdb_put(txn, st->event_ids, &idkey, &idval, MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST) {
            r.duplicates++;
            continue;
        }
        if (rc)
            goto fail;
        if ((rc = record_encode(st, e, &val)) != 0)
            goto fail;
        uint8_t sk[8];
        store_put_be64(sk, ++seq);
        key.mv_size = sizeof sk;
        key.mv_data = sk;
        if ((rc = mdb_cursor_put(rcur, &key, &val, MDB_APPEND)) != 0)
            goto fail;
        key.mv_size = kl;
        key.mv_data = k;
        val.mv_size = sizeof sk;
        val.mv_data = sk;
        /* Keys arriving in order go to the end of the tree, and MDB_APPEND
         * fills pages fully instead of splitting them in half. */
        int in_order = lastlen == 0 || key_cmp(k, kl, last, lastlen) > 0;
        rc = mdb_cursor_put(cur, &key, &val, in_order ? MDB_APPEND : MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST)
            rc = STORE_ECORRUPT; /* in events but not in event_ids */
        if (rc)
            goto fail;
        if (in_order) {
            memcpy(last, k, kl);
            lastlen = kl;
        }
        r.stored++;
        if (stored)
            stored[i] = 1;
    }
    mdb_cursor_close(cur);
    cur = NULL;
    mdb_cursor_close(rcur);
    rcur = NULL;
    if (hook) {
        if (hook_ran)
            *hook_ran = 1;
        if ((rc = hook(hook_ud, txn, evs, stored, n)) != 0)
            goto fail;
    }

    for (size_t i = 0; i < noffs; i++) {
        uint8_t v[8];
        key.mv_size = offkey_make(k, offs[i].topic, offs[i].partition);
        key.mv_data = k;
        store_put_be64(v, (uint64_t)offs[i].next_offset);
        val.mv_size = sizeof v;
        val.mv_data = v;
        if ((rc = mdb_put(txn, st->meta, &key, &val, 0)) != 0)
            goto fail;
    }
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc)
        goto fail;
    pthread_rwlock_unlock(&st->maplock);
    pthread_mutex_unlock(&st->wlock);
    free(stored);
    free(ord);
    if (res)
        *res = r;
    return 0;

fail:
    if (cur)
        mdb_cursor_close(cur);
    if (rcur)
        mdb_cursor_close(rcur);
    if (txn)
        mdb_txn_abort(txn);
    pthread_rwlock_unlock(&st->maplock);
    pthread_mutex_unlock(&st->wlock);
    free(stored);
    free(ord);
    return rc;
}

int store_write_txn(struct store *st, int (*fn)(void *ud, MDB_txn *txn), void *ud)
{
    if (!st || !fn)
        return STORE_EINVAL;
    MDB_txn *txn = NULL;
    pthread_mutex_lock(&st->wlock);
    pthread_rwlock_rdlock(&st->maplock);
    int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    if (rc == 0) {
        rc = fn(ud, txn);
        if (rc == 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
    }
    pthread_rwlock_unlock(&st->maplock);
    pthread_mutex_unlock(&st->wlock);
    return rc;
}

/* ---- reads -------------------------------------------------------------- */

/* Another process grew the map past ours (MDB_MAP_RESIZED): adopt its size.
 * No transaction of this process may run meanwhile, hence maplock. */
static void map_adopt(struct store *st)
{
    pthread_rwlock_wrlock(&st->maplock);
    mdb_env_set_mapsize(st->env, 0);
    pthread_rwlock_unlock(&st->maplock);
}

int store_txn_read(struct store *st, MDB_txn **txn)
{
    pthread_rwlock_rdlock(&st->maplock);
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);
    if (rc == MDB_MAP_RESIZED) {
        pthread_rwlock_unlock(&st->maplock);
        map_adopt(st);
        pthread_rwlock_rdlock(&st->maplock);
        rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);
    }
    if (rc)
        pthread_rwlock_unlock(&st->maplock);
    return rc;
}

int store_txn_read_try(struct store *st, MDB_txn **txn)
{
    if (pthread_rwlock_tryrdlock(&st->maplock) != 0)
        return EBUSY;
    int rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);
    if (rc)
        pthread_rwlock_unlock(&st->maplock);
    return rc;
}

void store_txn_done(struct store *st, MDB_txn *txn)
{
    mdb_txn_abort(txn);
    pthread_rwlock_unlock(&st->maplock);
}

int store_offset_get(struct store *st, const char *topic, int32_t partition, int64_t *next_offset)
{
    uint8_t k[STORE_OFFKEY_MAX];
    MDB_txn *txn;
    if (!st || !next_offset)
        return STORE_EINVAL;
    size_t kl = offkey_make(k, topic, partition);
    if (!kl)
        return STORE_EINVAL;
    int rc = store_txn_read(st, &txn);
    if (rc)
        return rc;
    MDB_val key = {kl, k}, val;
    rc = mdb_get(txn, st->meta, &key, &val);
    if (rc == 0) {
        if (val.mv_size == 8)
            *next_offset = (int64_t)store_get_be64(val.mv_data);
        else
            rc = STORE_ECORRUPT;
    } else if (rc == MDB_NOTFOUND) {
        rc = STORE_ENOTFOUND;
    }
    store_txn_done(st, txn);
    return rc;
}

int store_get(struct store *st, const char *id, char **json, size_t *len)
{
    MDB_txn *txn;
    char *buf = NULL;
    if (!st || !id || !json)
        return STORE_EINVAL;
    *json = NULL;
    if (len)
        *len = 0;
    size_t idl = strlen(id);
    if (idl == 0 || idl > STORE_ID_MAX)
        return STORE_ENOTFOUND;
    int rc = store_txn_read(st, &txn);
    if (rc)
        return rc;
    MDB_val key = {idl, (void *)id}, val;
    rc = mdb_get(txn, st->event_ids, &key, &val);
    if (rc) {
        if (rc == MDB_NOTFOUND)
            rc = STORE_ENOTFOUND;
        goto done;
    }
    /* The value is the 8-byte time part of the events key; the id is the rest. */
    if (val.mv_size != 8) {
        rc = STORE_ECORRUPT;
        goto done;
    }
    uint8_t k[8 + STORE_ID_MAX];
    memcpy(k, val.mv_data, 8);
    memcpy(k + 8, id, idl);
    key.mv_size = 8 + idl;
    key.mv_data = k;
    rc = mdb_get(txn, st->events, &key, &val);
    if (rc) {
        if (rc == MDB_NOTFOUND)
            rc = STORE_ECORRUPT; /* in event_ids but not in events */
        goto done;
    }
    if ((rc = store_record_of(st, txn, &val, NULL)) != 0)
        goto done;
    struct evrec r;
    if (evrec_parse(val.mv_data, val.mv_size, &r) != 0 || r.str_len[EVREC_ID] != idl ||
        memcmp(r.str[EVREC_ID], id, idl) != 0) {
        rc = STORE_ECORRUPT;
        goto done;
    }
    buf = malloc((size_t)r.json_len + 1);
    if (!buf) {
        rc = STORE_ENOMEM;
        goto done;
    }
    if ((rc = store_record_body(st, txn, &r, buf)) != 0)
        goto done;
    buf[r.json_len] = '\0';
    *json = buf;
    buf = NULL;
    if (len)
        *len = r.json_len;
done:
    store_txn_done(st, txn);
    free(buf);
    return rc;
}

static int str_eq(const struct evrec *r, int i, const char *s)
{
    size_t n = strlen(s);
    return r->str_len[i] == n && memcmp(r->str[i], s, n) == 0;
}

int store_scan(struct store *st, const struct store_filter *f, store_scan_fn fn, void *ud)
{
    static const struct store_filter all = {INT64_MIN, INT64_MAX, NULL, NULL, 0, 0};
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    char *sbuf = NULL;
    size_t scap = 0, matched = 0, examined = 0;
    int rc;

    if (!st || !fn)
        return STORE_EINVAL;
    if (!f)
        f = &all;
    if (f->start_us >= f->end_us)
        return 0;
    if ((rc = store_txn_read(st, &txn)) != 0)
        return rc;
    if ((rc = mdb_cursor_open(txn, st->events, &cur)) != 0)
        goto done;

    /* The first key >= (end_us, "") is the first one past the range: step
     * back from it, or from the very end when there is none. */
    uint8_t k[8];
    store_put_time_key(k, f->end_us);
    MDB_val key = {sizeof k, k}, val;
    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
    if (rc == 0)
        rc = mdb_cursor_get(cur, &key, &val, MDB_PREV);
    else if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(cur, &key, &val, MDB_LAST);

    for (; rc == 0; rc = mdb_cursor_get(cur, &key, &val, MDB_PREV)) {
        if (key.mv_size < 9) {
            rc = STORE_ECORRUPT;
            break;
        }
        if (store_get_time_key(key.mv_data) < f->start_us)
            break;
        if (f->max_examined && examined++ >= f->max_examined) {
            rc = STORE_EPARTIAL;
            break;
        }
        if ((rc = store_record_of(st, txn, &val, NULL)) != 0)
            break;
        struct evrec r;
        if (evrec_parse(val.mv_data, val.mv_size, &r) != 0) {
            rc = STORE_ECORRUPT;
            break;
        }
        if ((f->service && !str_eq(&r, EVREC_SERVICE, f->service)) ||
            (f->model && !str_eq(&r, EVREC_MODEL, f->model)))
            continue;
        /* Copy the strings out of the map, NUL-terminated. */
        size_t need = 0;
        for (int i = 0; i < EVREC_NSTR; i++)
            need += (size_t)r.str_len[i] + 1;
        if (need > scap) {
            char *b = realloc(sbuf, need);
            if (!b) {
                rc = STORE_ENOMEM;
                break;
            }
            sbuf = b;
            scap = need;
        }
        const char *s[EVREC_NSTR];
        char *p = sbuf;
        for (int i = 0; i < EVREC_NSTR; i++) {
            memcpy(p, r.str[i], r.str_len[i]);
            p[r.str_len[i]] = '\0';
            s[i] = p;
            p += r.str_len[i] + 1;
        }
        struct store_summary sum = {
            .time_us = r.time_us,
            .id = s[EVREC_ID],
            .service = s[EVREC_SERVICE],
            .model = s[EVREC_MODEL],
            .provider = s[EVREC_PROVIDER],
            .operation = s[EVREC_OPERATION],
            .cost_usd = r.cost_usd,
            .latency_ms = r.latency_ms,
            .status = r.status,
            .input_tokens = r.input_tokens,
            .output_tokens = r.output_tokens,
            .stored_bytes = val.mv_size > UINT32_MAX ? UINT32_MAX : (uint32_t)val.mv_size,
        };
        if (fn(ud, &sum) != 0) {
            rc = STORE_EABORT;
            break;
        }
        if (f->limit && ++matched >= f->limit)
            break;
    }
    if (rc == MDB_NOTFOUND)
        rc = 0;
done:
    if (cur)
        mdb_cursor_close(cur);
    store_txn_done(st, txn);
    free(sbuf);
    return rc;
}

int store_stats(struct store *st, struct store_stats *out)
{
    MDB_txn *txn;
    MDB_stat ms;
    MDB_envinfo ei;
    if (!st || !out)
        return STORE_EINVAL;
    memset(out, 0, sizeof *out);
    int rc = store_txn_read(st, &txn);
    if (rc)
        return rc;
    if ((rc = mdb_stat(txn, st->events, &ms)) != 0)
        goto done;
    out->events = ms.ms_entries;
    if ((rc = mdb_stat(txn, st->event_ids, &ms)) != 0)
        goto done;
    out->event_ids = ms.ms_entries;
    if ((rc = mdb_env_info(st->env, &ei)) != 0 || (rc = mdb_env_stat(st->env, &ms)) != 0)
        goto done;
    out->map_size = ei.me_mapsize;
    out->used_bytes = ((uint64_t)ei.me_last_pgno + 1) * ms.ms_psize;
    mdb_filehandle_t fd;
    struct stat sb;
    if ((rc = mdb_env_get_fd(st->env, &fd)) != 0)
        goto done;
    if (fstat(fd, &sb) != 0) {
        rc = errno;
        goto done;
    }
    out->file_bytes = (uint64_t)sb.st_size;
    out->dict_id = atomic_load_explicit(&st->dict_id, memory_order_relaxed);
done:
    store_txn_done(st, txn);
    return rc;
}

/* ---- dictionary training ------------------------------------------------ */

int store_train_dict(struct store *st, size_t sample_count)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    uint8_t *samples = NULL, *dict = NULL;
    size_t *sizes = NULL, nsamples = 0, total = 0, cap = 0;
    ZSTD_CDict *cd = NULL;
    int locked = 0, rc;

    if (!st || sample_count == 0)
        return STORE_EINVAL;
    if (sample_count > TRAIN_MAX_SAMPLES)
        sample_count = TRAIN_MAX_SAMPLES;

    /* 1. Sample the newest events, decompressed, in one read transaction. */
    if ((rc = store_txn_read(st, &txn)) != 0)
        return rc;
    if ((rc = mdb_cursor_open(txn, st->events, &cur)) != 0)
        goto done;
    sizes = malloc(sample_count * sizeof *sizes);
    if (!sizes) {
        rc = STORE_ENOMEM;
        goto done;
    }
    /* Every stride-th event, newest first, so the samples span the store.
     * The newest events alone can all come from one partition, and so from
     * a few services: a collector catching up on a backlog consumes its
     * partitions at different paces, and a dictionary trained on one
     * partition's services compressed the others' events half as well
     * (measured: 534 against 318 bytes per event). */
    MDB_stat ms;
    if ((rc = mdb_stat(txn, st->events, &ms)) != 0)
        goto done;
    size_t stride = ms.ms_entries > sample_count ? ms.ms_entries / sample_count : 1, skip = 0;
    MDB_val key, val;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_LAST); rc == 0 && nsamples < sample_count;
         rc = mdb_cursor_get(cur, &key, &val, MDB_PREV)) {
        if (skip++ % stride)
            continue;
        if ((rc = store_record_of(st, txn, &val, NULL)) != 0)
            goto done;
        struct evrec r;
        if (evrec_parse(val.mv_data, val.mv_size, &r) != 0) {
            rc = STORE_ECORRUPT;
            goto done;
        }
        if (r.json_len == 0)
            continue;
        if (total + r.json_len > TRAIN_MAX_BYTES)
            break;
        if (total + r.json_len > cap) {
            size_t ncap = cap ? cap : (size_t)1 << 20;
            while (ncap < total + r.json_len)
                ncap *= 2;
            uint8_t *b = realloc(samples, ncap);
            if (!b) {
                rc = STORE_ENOMEM;
                goto done;
            }
            samples = b;
            cap = ncap;
        }
        if ((rc = store_record_body(st, txn, &r, (char *)samples + total)) != 0)
            goto done;
        sizes[nsamples++] = r.json_len;
        total += r.json_len;
    }
    if (rc && rc != MDB_NOTFOUND)
        goto done;
    mdb_cursor_close(cur);
    cur = NULL;
    store_txn_done(st, txn);
    txn = NULL;
    if (nsamples < TRAIN_MIN_SAMPLES) {
        rc = STORE_ETRAIN;
        goto done;
    }

    /* 2. Train, holding no transaction and no lock. zstd's advice: samples
     * about 100x the dictionary; we accept down to 8x. */
    size_t dcap = total / 8;
    if (dcap > DICT_MAX_BYTES)
        dcap = DICT_MAX_BYTES;
    if (dcap < DICT_MIN_BYTES) {
        rc = STORE_ETRAIN;
        goto done;
    }
    dict = malloc(dcap);
    if (!dict) {
        rc = STORE_ENOMEM;
        goto done;
    }
    /* fastCover with fixed parameters: ZDICT_trainFromBuffer searches
     * several segment sizes, about 5x the time for no better dictionary on
     * llmtap's events (measured: 0.37 s vs 0.07 s for 4000 events, 321 vs
     * 318 bytes per compressed event). */
    ZDICT_fastCover_params_t fp = {.k = 400, .d = 8, .f = 20, .accel = 4, .splitPoint = 1.0};
    fp.zParams.compressionLevel = st->level;
    size_t dsize =
        ZDICT_trainFromBuffer_fastCover(dict, dcap, samples, sizes, (unsigned)nsamples, fp);
    if (ZDICT_isError(dsize)) {
        rc = STORE_ETRAIN;
        goto done;
    }
    cd = ZSTD_createCDict(dict, dsize, st->level);
    if (!cd) {
        rc = STORE_ENOMEM;
        goto done;
    }

    /* 3. Store it under the next id, then switch the writer to it. */
    pthread_mutex_lock(&st->wlock);
    pthread_rwlock_rdlock(&st->maplock);
    locked = 1;
    if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
        goto done;
    if ((rc = mdb_cursor_open(txn, st->dicts, &cur)) != 0)
        goto done;
    uint32_t id = 1;
    rc = mdb_cursor_get(cur, &key, &val, MDB_LAST);
    if (rc == 0) {
        if (key.mv_size != 4 || store_get_be32(key.mv_data) == UINT32_MAX) {
            rc = STORE_ECORRUPT;
            goto done;
        }
        id = store_get_be32(key.mv_data) + 1;
    } else if (rc != MDB_NOTFOUND) {
        goto done;
    }
    mdb_cursor_close(cur);
    cur = NULL;
    uint8_t k[4];
    store_put_be32(k, id);
    key.mv_size = sizeof k;
    key.mv_data = k;
    val.mv_size = dsize;
    val.mv_data = dict;
    if ((rc = mdb_put(txn, st->dicts, &key, &val, MDB_NOOVERWRITE)) != 0)
        goto done;
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc)
        goto done;
    /* Committed: from now on new records may name it. If the switch fails
     * (memory), records keep using the previous dictionary, which is fine;
     * the new one is picked up at the next open. */
    rc = writer_set_dict(st, id, cd);
    cd = NULL;
done:
    ZSTD_freeCDict(cd);
    if (cur)
        mdb_cursor_close(cur);
    if (txn && locked)
        mdb_txn_abort(txn);
    else if (txn)
        store_txn_done(st, txn); /* the sampling read transaction */
    if (locked) {
        pthread_rwlock_unlock(&st->maplock);
        pthread_mutex_unlock(&st->wlock);
    }
    free(samples);
    free(sizes);
    free(dict);
    return rc;
}

/* ---- map size, deletion, backup ----------------------------------------- */

int store_set_map_size(struct store *st, size_t size, size_t *applied)
{
    MDB_envinfo ei;
    MDB_stat ms;
    if (!st || size == 0)
        return STORE_EINVAL;
    /* Exclusive: LMDB unmaps and remaps the file, so no transaction of this
     * process (reader or writer: both hold maplock shared) may be running. */
    pthread_rwlock_wrlock(&st->maplock);
    int rc = mdb_env_info(st->env, &ei);
    if (!rc)
        rc = mdb_env_stat(st->env, &ms);
    if (rc)
        goto done;
    size_t ps = ms.ms_psize ? ms.ms_psize : 4096;
    if (size < ((size_t)ei.me_last_pgno + 1) * ps) { /* LMDB would silently round it up */
        rc = STORE_ETOOSMALL;
        goto done;
    }
    size = (size + ps - 1) / ps * ps;
    if (size != ei.me_mapsize)
        rc = mdb_env_set_mapsize(st->env, size);
    if (!rc && applied)
        *applied = size;
done:
    pthread_rwlock_unlock(&st->maplock);
    return rc;
}

int store_delete_before(struct store *st, int64_t before_us, size_t max, size_t *deleted)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    size_t n = 0;
    int rc;

    if (deleted)
        *deleted = 0;
    if (!st || max == 0)
        return STORE_EINVAL;
    pthread_mutex_lock(&st->wlock);
    pthread_rwlock_rdlock(&st->maplock);
    if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
        goto done;
    if ((rc = mdb_cursor_open(txn, st->events, &cur)) != 0)
        goto done;
    MDB_val key, val;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0 && n < max;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) { /* after a delete: the next one */
        if (key.mv_size < 9 || key.mv_size > STORE_EVKEY_MAX) {
            rc = STORE_ECORRUPT;
            goto done;
        }
        if (store_get_time_key(key.mv_data) >= before_us)
            break;
        /* Its id entry goes too, if it points here (else it is not ours),
         * and its record (the value copied first: the map's pages may
         * move once this transaction writes). */
        uint8_t k[STORE_EVKEY_MAX], sk[8];
        int numbered = val.mv_size == 8;
        if (numbered)
            memcpy(sk, val.mv_data, 8);
        memcpy(k, key.mv_data, key.mv_size);
        MDB_val idk = {key.mv_size - 8, k + 8}, idv;
        int r = mdb_get(txn, st->event_ids, &idk, &idv);
        if (r == 0 && idv.mv_size == 8 && memcmp(idv.mv_data, k, 8) == 0)
            r = mdb_del(txn, st->event_ids, &idk, NULL);
        if (r && r != MDB_NOTFOUND) {
            rc = r;
            goto done;
        }
        if (numbered) {
            MDB_val rk = {8, sk};
            r = mdb_del(txn, st->records, &rk, NULL);
            if (r) {
                rc = r == MDB_NOTFOUND ? STORE_ECORRUPT : r;
                goto done;
            }
        }
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            goto done;
        n++;
    }
    if (rc && rc != MDB_NOTFOUND)
        goto done;
    mdb_cursor_close(cur);
    cur = NULL;
    rc = 0;
    if (n) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
        if (rc)
            goto done;
    }
    if (deleted)
        *deleted = n;
done:
    if (cur)
        mdb_cursor_close(cur);
    if (txn)
        mdb_txn_abort(txn);
    pthread_rwlock_unlock(&st->maplock);
    pthread_mutex_unlock(&st->wlock);
    return rc;
}

/* Flushes path (a file or a directory) to disk. */
static int fsync_path(const char *path, int dir)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int rc = fsync(fd) == 0 ? 0 : errno;
    close(fd);
    return rc;
}

int store_backup(struct store *st, const char *dir)
{
    char path[4096];
    struct stat sb;
    if (!st || !dir || !*dir)
        return STORE_EINVAL;
    if (snprintf(path, sizeof path, "%s/data.mdb", dir) >= (int)sizeof path)
        return ENAMETOOLONG;
    int rc = mkdir_p(dir);
    if (rc)
        return rc;
    if (stat(path, &sb) == 0)
        return EEXIST; /* never overwrite a store */
    /* mdb_env_copy2 runs its own read transaction: hold maplock like any. */
    pthread_rwlock_rdlock(&st->maplock);
    rc = mdb_env_copy2(st->env, dir, MDB_CP_COMPACT);
    pthread_rwlock_unlock(&st->maplock);
    if (rc == MDB_MAP_RESIZED) { /* the live writer grew the map past ours */
        unlink(path);
        map_adopt(st);
        pthread_rwlock_rdlock(&st->maplock);
        rc = mdb_env_copy2(st->env, dir, MDB_CP_COMPACT);
        pthread_rwlock_unlock(&st->maplock);
    }
    if (!rc)
        rc = fsync_path(path, 0);
    if (!rc)
        rc = fsync_path(dir, 1);
    if (rc)
        unlink(path);
    return rc;
}
