/*
 * series.h — llmtap's time series store: counters (and classic histograms,
 * which are counters with an `le` label) derived from events at ingest,
 * kept in the store's LMDB environment, read by the PromQL evaluator.
 *
 * What it is for. Ingest turns each event into increments of a few dozen
 * counter series (llm_requests_total, llm_tokens_total{type}, the _bucket,
 * _sum and _count series of the histograms, ...). This module interns label
 * sets to series ids, keeps an index from label=value to ids, accumulates
 * increments per 10-second bucket (late events included), stores the
 * cumulative value at the end of each bucket in compressed blocks,
 * downsamples old data to 5-minute points, deletes what retention says, and
 * answers the Prometheus API's questions: which series match these
 * matchers, what are their labels, what are their samples in [start, end].
 * The on-disk format is in docs/storage.md ("Series").
 *
 * Time model. A series' value is the sum of the deltas added to it so far.
 * Bucket b of the base resolution R holds the events with t in [b*R,
 * (b+1)*R); the sample of that bucket is stamped (b+1)*R, the end of the
 * bucket, and is the series' value then (every event before it included).
 * A sample is stored only for a bucket that received a delta, plus a
 * "baseline" sample one step before each run of such buckets holding the
 * value before the run (0 for a new series), so that increase() and rate()
 * see every increment exactly, the first one included. Quiet stretches
 * hold no samples; series_read(SERIES_READ_FILL) repeats the held value on
 * the grid for up to opts.stale_ms after the last change, which is what a
 * scraped Prometheus counter looks like.
 *
 * Late events. A bucket stays open (in memory, in the series' "head")
 * until it is older than opts.late_ms; a delta for an open bucket lands in
 * that bucket and therefore in every later sample. A delta for a sealed
 * bucket is refused with SERIES_ELATE (count it as too late).
 *
 * Transactions. This module never begins, commits or aborts a transaction:
 * every call takes the caller's MDB_txn (so the caller applies whatever
 * locking its environment needs), and series_flush() writes into the
 * ingest batch's own write transaction, so events, offsets and series
 * commit together. A write transaction passed here must belong to the
 * environment the series were opened in.
 *
 * THREADS. One writer and any number of readers.
 *   - Writer calls (series_id, series_add, series_flush, series_downsample,
 *     series_retention, series_reload) change in-memory state the writer
 *     owns: call them from one thread at a time (the ingest thread), each
 *     with a write transaction where one is asked for.
 *   - Reader calls (series_lookup, series_select, series_labels,
 *     series_info, series_read, series_label_names, series_label_values,
 *     series_count, series_metric_counts, series_stats) read only LMDB
 *     through the transaction they are given and immutable settings: any
 *     thread, any number at once, concurrently with the writer, each with
 *     its own read (or write) transaction. They see exactly what was
 *     committed when their transaction began, open buckets included (the
 *     head is persisted by series_flush), and never block the writer.
 *   - series_open and series_close must not race with any other call.
 *
 * Rollback. After an aborted write transaction in which any writer call
 * wrote (series_id, series_flush, series_downsample, series_retention), or
 * after series_add calls whose batch will not commit, call series_reload()
 * in a new transaction: it drops the writer's in-memory state and reloads
 * it from the last commit (O(series)). Until then writer calls refuse to run
 * (SERIES_ERELOAD). Ids created in the aborted transaction are handed out
 * again, possibly for other label sets: a caller caching label set -> id
 * must drop its cache on reload.
 *
 * Ownership. Arrays and strings returned to the caller are single malloc'd
 * blocks (free() once); nothing returned points into the LMDB map.
 *
 * Errors. 0 on success; negative SERIES_E* codes for this module's own
 * errors; positive codes are LMDB's (MDB_MAP_FULL, ...) or errno values,
 * passed through. series_strerror() names any of them.
 */
#ifndef LLMTAP_SERIES_H
#define LLMTAP_SERIES_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#define SERIES_FORMAT_VERSION 1

enum {
    SERIES_ENOTFOUND = -30101, /* no such series (or label set not interned) */
    SERIES_EVERSION = -30102,  /* the series databases have another format version */
    SERIES_ECORRUPT = -30103,  /* a record or block failed to decode */
    SERIES_EINVAL = -30104,    /* bad argument */
    SERIES_ENOMEM = -30105,
    SERIES_ELATE = -30106,   /* the delta's bucket is sealed (older than late_ms) */
    SERIES_EFUTURE = -30107, /* the delta is more than future_ms ahead of now */
    SERIES_ECONFIG = -30108, /* opts disagree with the grid the series were created with */
    SERIES_ETOOBIG = -30109, /* label set longer than an LMDB key (511 bytes encoded) */
    SERIES_ERELOAD = -30110, /* writer state is stale: call series_reload() first */
};

#define SERIES_LABELS_MAX 32             /* labels in one set, __name__ included */
#define SERIES_OVERFLOW   "__overflow__" /* label value the caller folds excess series into */

/* A label. Names match [a-zA-Z_][a-zA-Z0-9_]*; values are non-empty and
 * contain no NUL byte (an empty value means "no such label", as in
 * Prometheus). */
struct series_label {
    const char *name;
    const char *value;
};

/* Settings. 0 means the default. The grid (res_ms, span_ms, ds_res_ms,
 * ds_span_ms) is written when the series databases are created and fixed
 * afterwards: a later open with a different nonzero value is
 * SERIES_ECONFIG; with 0 it takes the stored value. The others may change
 * at every open. Constraints: res divides ds_res, ds_res divides span,
 * span divides ds_span, span/res and ds_span/ds_res <= 65535,
 * ds_retention >= raw_retention. */
struct series_opts {
    int64_t res_ms;              /* base resolution; default 10 s */
    int64_t span_ms;             /* time span of one base block; default 30 min */
    int64_t ds_res_ms;           /* downsampled resolution; default 5 min */
    int64_t ds_span_ms;          /* time span of one downsampled block; default 12 h */
    int64_t late_ms;             /* how far behind now a bucket stays open; default 5 min */
    int64_t future_ms;           /* how far ahead of now a delta may be; default 10 min */
    int64_t downsample_after_ms; /* age (after its end) at which a ds span is
                                  * downsampled; default 1 h */
    int64_t raw_retention_ms;    /* base-resolution data kept; default 7 d */
    int64_t ds_retention_ms;     /* downsampled data kept; default 90 d */
    int64_t stale_ms;            /* SERIES_READ_FILL: how long a held value is
                                  * repeated after the last change; default 5 min */
    size_t cache_bytes;          /* readers' cache of decoded sealed blocks
                                  * (scache.h), shared by every reader of this
                                  * series_db; 0: no cache */
};

struct series_db;

/* Opens (creating if needed, when txn is a write transaction) the series
 * databases in txn's environment, checks their format version and grid,
 * and loads the writer's state. The environment needs room for 7 more
 * named databases (mdb_env_set_maxdbs). The caller commits txn right after
 * a successful open (the database handles become usable by other
 * transactions only then); if it aborts txn instead, it must
 * series_close() without any other call. With a read-only txn, only an
 * existing series store can be opened (SERIES_ENOTFOUND otherwise) and
 * writer calls fail (EACCES from LMDB). A store of another format version
 * is refused before anything is created. SERIES_EVERSION, SERIES_ECONFIG,
 * SERIES_EINVAL. */
int series_open(MDB_txn *txn, const struct series_opts *opts, struct series_db **out);
/* Frees the in-memory state (what series_flush has not written is lost, as
 * in a crash). The LMDB environment is the caller's. Accepts NULL. */
void series_close(struct series_db *s);
/* Drops the writer's in-memory state and reloads it from txn (see
 * Rollback above). On failure writer calls keep returning SERIES_ERELOAD. */
int series_reload(struct series_db *s, MDB_txn *txn);

/* ---- writer ------------------------------------------------------------- */

/* Interns a label set: the id of the series with exactly these labels
 * (any order; __name__ required), created in txn (a write transaction) if
 * new. Ids start at 1, are never reused, and stay valid until retention
 * removes the series (SERIES_ENOTFOUND from series_add says so: intern
 * again). SERIES_EINVAL (bad name or value, duplicate name, no __name__,
 * more than SERIES_LABELS_MAX), SERIES_ETOOBIG. The caller enforces its
 * cardinality limit before creating: series_lookup() then series_count(). */
int series_id(struct series_db *s, MDB_txn *txn, const struct series_label *labels, size_t n,
              uint64_t *id);

/* Adds delta (finite, >= 0: counters only go up) to series id at event
 * time t_ms (>= 0). Memory only, O(open buckets of the series); becomes
 * durable with the next series_flush. now_ms is the caller's clock.
 * SERIES_ELATE when t_ms's bucket is sealed, SERIES_EFUTURE when t_ms >
 * now_ms + future_ms, SERIES_ENOTFOUND for an unknown id, SERIES_EINVAL. */
int series_add(struct series_db *s, uint64_t id, int64_t t_ms, double delta, int64_t now_ms);

/* Seals the buckets older than now_ms - late_ms into blocks, moves full
 * blocks out of the head, and writes the head of every series changed
 * since the last flush, all into txn (the ingest batch's write
 * transaction). Call it in every transaction that commits events whose
 * deltas were added, after the last series_add of the batch. Time only
 * moves forward: an earlier now_ms seals nothing new. */
int series_flush(struct series_db *s, MDB_txn *txn, int64_t now_ms);

/* Downsamples, in small steps, each ds span that ended at least
 * downsample_after_ms before now_ms and whose buckets are all sealed:
 * a 5-minute point is the value at the end of its 5 minutes (the base
 * sample at that time, or the value held then), with the same baseline
 * rule as the base data. Does at most max_work units (a unit is one series
 * of one span, or one empty span) in txn (a write transaction) and sets
 * *more (may be NULL) to 1 when eligible work remains. Progress is stored,
 * so any number of calls in any transactions add up. */
int series_downsample(struct series_db *s, MDB_txn *txn, int64_t now_ms, size_t max_work,
                      int *more);

/* Deletes base blocks older than raw_retention_ms (never before they are
 * downsampled), downsampled blocks older than ds_retention_ms, and then
 * series whose every sample is gone (their ids, labels, postings, head).
 * At most max_work deletions per call, in txn; *more (may be NULL) as
 * above. Readers see deletions of a resolution as one cut-off time, never
 * a half-deleted range. */
int series_retention(struct series_db *s, MDB_txn *txn, int64_t now_ms, size_t max_work, int *more);

/* ---- readers ------------------------------------------------------------ */

/* The id of an existing label set, without creating it: SERIES_ENOTFOUND
 * when absent. Same validation as series_id. */
int series_lookup(struct series_db *s, MDB_txn *txn, const struct series_label *labels, size_t n,
                  uint64_t *id);

enum series_match_op {
    SERIES_MATCH_EQ,  /* =  */
    SERIES_MATCH_NE,  /* != */
    SERIES_MATCH_RE,  /* =~ : fn decides */
    SERIES_MATCH_NRE, /* !~ : fn decides, the result is negated */
};

/* A regular-expression test supplied by the caller (so storage needs no
 * regex library): returns nonzero when value[0, len) matches, with
 * Prometheus's semantics (anchored at both ends). It is also called with
 * "" (len 0) to decide whether series lacking the label match. Called from
 * the calling thread only. */
typedef int (*series_match_fn)(void *ud, const char *value, size_t len);

struct series_matcher {
    enum series_match_op op;
    const char *name;
    const char *value;  /* EQ, NE; "" means the label is absent */
    series_match_fn fn; /* RE, NRE */
    void *ud;
};

/* The ids (ascending, malloc'd: free(*ids)) of the series matching every
 * matcher (a label a series lacks has the value ""), as Prometheus selects.
 * With no matcher or only matchers that match "", every series is a
 * candidate (costly: the evaluator should refuse such selectors as
 * Prometheus does). When start_ms/end_ms are not INT64_MIN/INT64_MAX, only
 * series with a sample (stored or in the head) that may lie in [start_ms,
 * end_ms] are returned. *ids is NULL when *count is 0. */
int series_select(struct series_db *s, MDB_txn *txn, const struct series_matcher *m, size_t nm,
                  int64_t start_ms, int64_t end_ms, uint64_t **ids, size_t *count);

/* The labels of series id, sorted by name, __name__ included, in one
 * malloc'd block (free(*labels)). SERIES_ENOTFOUND. */
int series_labels(struct series_db *s, MDB_txn *txn, uint64_t id, struct series_label **labels,
                  size_t *n);

struct series_info {
    int64_t first_ms;      /* time of its first sample; INT64_MIN when it has none */
    int64_t last_ms;       /* time of its last sample (head included): the last change.
                            * A reader ends the series stale_ms after it. INT64_MIN if none */
    double value;          /* its current value (head included) */
    uint32_t open_buckets; /* buckets still open for late deltas */
};

/* What series id has, from its head record. SERIES_ENOTFOUND. */
int series_info(struct series_db *s, MDB_txn *txn, uint64_t id, struct series_info *out);

struct series_sample {
    int64_t t_ms;
    double v;
};

enum {
    SERIES_READ_AUTO = 0,    /* base resolution where it is kept, downsampled before */
    SERIES_READ_RAW = 1,     /* base resolution only (nothing before its retention) */
    SERIES_READ_DS = 2,      /* downsampled only (recent spans downsampled on the fly) */
    SERIES_READ_FILL = 0x10, /* repeat held values on the grid, up to stale_ms */
};

/* The samples of series id with start_ms <= t <= end_ms, ascending, in a
 * malloc'd array (free(*out); NULL when *n is 0), from blocks and head as
 * committed when txn began. flags: one SERIES_READ_{AUTO,RAW,DS}, optionally
 * | SERIES_READ_FILL. Samples of open buckets are included and may still
 * grow. SERIES_ENOTFOUND for an unknown id. */
int series_read(struct series_db *s, MDB_txn *txn, uint64_t id, int64_t start_ms, int64_t end_ms,
                unsigned flags, struct series_sample **out, size_t *n);

/* Where series_read_to writes: alloc(ud, n) returns room for n samples of
 * `stride` bytes (NULL: SERIES_ENOMEM); each sample's time (int64_t) is
 * written at t_off and its value (double) at v_off with memcpy, so the
 * caller's own struct type is read back without a copy. The memory is
 * the caller's (also on error). */
struct series_sink {
    void *(*alloc)(void *ud, size_t n);
    void *ud;
    size_t stride, t_off, v_off;
    /* Optional, for a sink laid out as struct series_sample (stride 16, t
     * at 0, v at 8): when the answer is exactly the samples the read
     * gathered (no held value repeated into it), series_read_to hands over
     * its own array instead of copying it: adopt takes mem (from malloc;
     * the caller frees it, with free(), when it frees what alloc gave) and
     * *out points into it. A nonzero return refuses (the samples are then
     * copied into alloc's memory as usual). */
    int (*adopt)(void *ud, void *mem);
};
/* What series_read_to can say of the samples it returns, noted while it
 * gathered them (usually cheaper than a pass over them afterwards: a
 * cached block's are noted once, when it is decoded). */
struct series_read_facts {
    int ascending; /* every time above the one before */
    size_t drops;  /* samples whose value is lower than the one before */
    size_t nans;   /* NaN values */
    int64_t grid;  /* > 0: every time is grid ms after the one before; 0: not so */
};
/* series_read into the caller's memory: *out = what sink->alloc returned
 * (NULL when *n is 0: alloc is not called); with facts, theirs too. */
int series_read_to(struct series_db *s, MDB_txn *txn, uint64_t id, int64_t start_ms, int64_t end_ms,
                   unsigned flags, const struct series_sink *sink, void **out, size_t *n,
                   struct series_read_facts *facts);

/* Sorted, distinct label names (series_label_names) or values of one name
 * (series_label_values) over all series, or, when nm > 0 or the time range
 * is bounded, over the series series_select would return. One malloc'd
 * block: (*out)[0..*count-1] are NUL-terminated strings; free(*out). */
int series_label_names(struct series_db *s, MDB_txn *txn, const struct series_matcher *m, size_t nm,
                       int64_t start_ms, int64_t end_ms, char ***out, size_t *count);
int series_label_values(struct series_db *s, MDB_txn *txn, const char *name,
                        const struct series_matcher *m, size_t nm, int64_t start_ms, int64_t end_ms,
                        char ***out, size_t *count);

/* Number of series whose __name__ is metric (0 if none): O(log n), for the
 * caller's per-metric cardinality limit. */
int series_count(struct series_db *s, MDB_txn *txn, const char *metric, uint64_t *count);

struct series_metric_count {
    const char *name;
    uint64_t series;
};
/* Series count of every metric name, sorted by name, one malloc'd block. */
int series_metric_counts(struct series_db *s, MDB_txn *txn, struct series_metric_count **out,
                         size_t *n);

struct series_stats {
    uint64_t series;
    uint64_t blocks[2];                       /* [0] base, [1] downsampled */
    uint64_t block_bytes[2];                  /* sum of block value sizes */
    uint64_t samples[2];                      /* samples in those blocks */
    uint64_t heads, head_bytes, head_samples; /* head records: open blocks + open buckets */
    uint64_t page_bytes;  /* pages used by all series databases (LMDB's own size) */
    int64_t sealed_to_ms; /* buckets ending at or before this are sealed */
    int64_t raw_from_ms;  /* base data is complete for t > this; INT64_MIN = all kept */
    int64_t ds_from_ms;   /* downsampled data is kept for t > this; INT64_MIN = all */
    int64_t ds_done_ms;   /* downsampled up to here; INT64_MIN = not started */
};
/* Counts everything: O(blocks) (reads every block's header). For
 * /metrics now and then, benchmarks and tests, not per query. */
int series_stats(struct series_db *s, MDB_txn *txn, struct series_stats *out);

/* The readers' block cache's figures (series_opts.cache_bytes; scache.h):
 * hits, misses, evictions, entries and bytes held, and its budget; all 0
 * without a cache. Any thread. */
struct series_cache_stats {
    uint64_t hits, misses, evictions, entries, bytes, max_bytes;
};
void series_cache_stats(struct series_db *s, struct series_cache_stats *out);

/* The grid the series were created with: base and downsampled resolution,
 * in ms. Any thread. */
void series_grid(const struct series_db *s, int64_t *res_ms, int64_t *ds_res_ms);

/* Names any code returned by this module (SERIES_E*, LMDB, errno). */
const char *series_strerror(int rc);

#endif
