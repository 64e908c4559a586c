/*
 * series_int.h — what the parts of the series store share (internal to
 * storage/series.c and storage/series_read.c; nothing else includes it).
 *
 * series.c owns the writer, the databases and the helpers declared here;
 * series_read.c, the readers' decoding of blocks and head records into
 * samples, uses them. See series.c's DESIGN comment for the model.
 */
#ifndef LLMTAP_SERIES_INT_H
#define LLMTAP_SERIES_INT_H

#include <lmdb.h>
#include <stdint.h>

#include "sblock.h"
#include "scache.h"
#include "series.h"
#include "sindex.h"
#include "srules.h"

#define NONE      SRULES_NONE
#define T_MAX     SRULES_T_MAX
#define floor_div srules_floor_div
#define ceil_div  srules_ceil_div

struct head {
    int64_t first_s, last_s; /* sigma of the first / last sealed sample; NONE */
    double last_v;
    int64_t open_k; /* block of the open encoder; NONE */
    struct sblock_enc enc;
    struct srules_pend *pend; /* open buckets, ascending */
    uint32_t npend, cpend;
    uint8_t dirty;
};

struct series_db {
    struct sindex ix;
    MDB_dbi meta, heads_db, raw, ds;
    int64_t R, span, DS, dspan, N, NDS;
    int64_t late, future, ds_after, raw_ret, ds_ret, stale;
    struct scache *cache; /* decoded sealed blocks, for readers; NULL: none */

    /* writer state */
    int need_reload;
    struct head **heads; /* by id; NULL for ids never used or deleted */
    uint64_t next_id, cheads;
    int64_t sealed_to; /* buckets < sealed_to are sealed; NONE before the first flush */
    int64_t now_ms;    /* the latest now given to series_flush; NONE */
    uint64_t *dirty;
    size_t ndirty, cdirty;
    uint8_t *wbuf;
    size_t wcap;
    struct sblock_enc dsenc;
    uint64_t gc_next;
};

/* series_meta keys */
extern const char SERIES_KEY_VERSION[];
extern const char SERIES_KEY_GRID[];
extern const char SERIES_KEY_NEXT_ID[];
extern const char SERIES_KEY_SEALED[];
extern const char SERIES_KEY_NOW[];
extern const char SERIES_KEY_RAW_FROM[];
extern const char SERIES_KEY_DS_FROM[];
extern const char SERIES_KEY_DS_DONE[];
extern const char SERIES_KEY_DS_NEXT[];

static inline void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static inline uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static inline int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static inline int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* Grows *p (of *cap elements of size sz) to hold at least n. */
int series_i_grow(void **p, size_t *cap, size_t n, size_t sz);
/* A series_meta value (NONE when absent). */
int series_i_meta_get(struct series_db *s, MDB_txn *txn, const char *name, int64_t *v);
/* The head record of id (an empty head when it has none); SERIES_ENOTFOUND
 * when the id does not exist. srules_head_free() it. */
int series_i_head_get(struct series_db *s, MDB_txn *txn, uint64_t id, struct srules_head *h);
/* Starts downsampling series id at ds span D into m (emit gets the points),
 * continuing from the state the stored span before D ended in. */
int series_i_ds_start(struct series_db *s, MDB_txn *txn, uint64_t id, int64_t D,
                      struct srules_ds *m, int (*emit)(void *ud, int64_t g, double v), void *ud);

#endif
