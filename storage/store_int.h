/*
 * store_int.h — internals of the store shared by the storage/ modules that
 * walk its databases directly (store.c, store_verify.c). Not part of the
 * public API: code outside storage/ includes store.h only.
 *
 * Locks (see the DESIGN section of store.c):
 *   wlock    one writer at a time (the writer's compression state);
 *   maplock  a rwlock held shared by EVERY transaction of this process, read
 *            or write, for its whole life, and exclusively by whoever changes
 *            the map size (LMDB unmaps and remaps the file then, so no
 *            transaction may be running: lmdb.h, mdb_env_set_mapsize);
 *   dlock    the readers' decompression contexts and dictionary cache.
 * Order: wlock → maplock → dlock. No thread takes maplock shared twice (the
 * rwlock prefers writers, so a nested shared lock could deadlock against a
 * waiting resize).
 */
#ifndef LLMTAP_STORE_INT_H
#define LLMTAP_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <zstd.h>

#include "evrec.h"
#include "store.h"

#define STORE_DCTX_POOL          16 /* idle decompression contexts kept */
#define STORE_EVKEY_MAX          (8 + STORE_ID_MAX)
#define STORE_TOPIC_MAX          249 /* Kafka's limit */
#define STORE_OFFKEY_MAX         (7 + STORE_TOPIC_MAX + 1 + 4)
#define STORE_KEY_FORMAT_VERSION "format_version"
#define STORE_OFFSET_PREFIX      "offset/"

struct store_ddict_ent {
    uint32_t id;
    ZSTD_DDict *ddict;
};

struct store {
    MDB_env *env;
    MDB_dbi meta, events, event_ids, dicts, records;
    int has_records; /* a read-only open of a format 1 store has none */
    int level;
    int read_only;

    pthread_mutex_t wlock; /* the writer's state, below */
    ZSTD_CCtx *cctx;
    ZSTD_CDict *cdict;        /* NULL when dict_id == 0 */
    _Atomic uint32_t dict_id; /* written under wlock; store_stats reads it without */
    uint8_t *wbuf;
    size_t wcap;

    pthread_rwlock_t maplock; /* shared: any transaction; exclusive: map size change */

    pthread_mutex_t dlock; /* the readers' shared state, below */
    ZSTD_DCtx *dctx[STORE_DCTX_POOL];
    int ndctx;
    struct store_ddict_ent *ddicts;
    size_t nddicts, capddicts;

    int locks_ready;
};

/* ---- byte encodings (keys are big-endian so they sort as numbers) ------- */

static inline void store_put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static inline void store_put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static inline uint32_t store_get_be32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = (v << 8) | p[i];
    return v;
}

static inline uint64_t store_get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Time as the first 8 bytes of an events key: the sign bit flipped, so that
 * INT64_MIN..INT64_MAX map in order onto 0..UINT64_MAX. */
static inline void store_put_time_key(uint8_t *p, int64_t t)
{
    store_put_be64(p, (uint64_t)t ^ ((uint64_t)1 << 63));
}

static inline int64_t store_get_time_key(const uint8_t *p)
{
    uint64_t u = store_get_be64(p) ^ ((uint64_t)1 << 63);
    int64_t t;
    memcpy(&t, &u, sizeof t);
    return t;
}

/* store_txn_read / store_txn_done: see store.h. */
/* Writes the JSON of record r (parsed from a value of txn) to dst, which has
 * room for r->json_len bytes. STORE_ECORRUPT when the body does not
 * decompress to exactly json_len bytes or names a missing dictionary. */
int store_record_body(struct store *st, MDB_txn *txn, const struct evrec *r, char *dst);

/* The record an `events` value stands for: *val itself (a record stored
 * inline by format version 1) or, for an 8-byte value, the `records` entry
 * it numbers, read in txn (missing: STORE_ECORRUPT). With seq, *seq is
 * the record number, 0 for an inline record. */
int store_record_of(struct store *st, MDB_txn *txn, MDB_val *val, uint64_t *seq);

#endif
