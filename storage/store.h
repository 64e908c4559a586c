/*
 * store.h — the llmtap event store: one LMDB environment per collector.
 *
 * What it is for: durable, compressed, exactly-once storage of llmtap events
 * together with the Kafka offsets they were consumed at. It knows nothing of
 * Kafka or HTTP: the caller hands it already-validated event JSON plus a few
 * extracted fields, and (topic, partition, next offset) triples.
 *
 * Named databases (key encodings in docs/storage.md):
 *   meta       name                         -> value  (format version, offsets)
 *   events     time_us (BE u64) + id bytes  -> BE u64 record number (or, in a
 *                                              store from format version 1,
 *                                              the record itself)
 *   records    record number (BE u64)       -> record (fixed header + zstd body)
 *   event_ids  id bytes                     -> events key
 *   dicts      dict id (BE u32)             -> zstd dictionary
 *
 * Threads: one writer at a time (ingest; retention interleaves short
 * transactions); any number of readers concurrently (readers never block
 * the writer). All functions are thread-safe in that sense. Only a map size
 * change (store_set_map_size) waits for every transaction of the process and
 * holds new ones off while it remaps. Returned data is always a malloc'd
 * copy: no pointer into the LMDB map escapes a transaction. Scan callbacks
 * must not call back into the store.
 *
 * Errors: functions return 0 on success, a negative STORE_E* code, or a
 * positive LMDB/errno code (e.g. MDB_MAP_FULL). store_strerror() names any.
 */
#ifndef LLMTAP_STORE_H
#define LLMTAP_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_FORMAT_VERSION 2
/* The oldest format this build opens (and, opened for writing, upgrades in
 * place: docs/storage.md, Versioning). */
#define STORE_FORMAT_VERSION_MIN 1

enum {
    STORE_ENOTFOUND = -30001, /* no such event / offset */
    STORE_EVERSION = -30002,  /* the store was written by another format version */
    STORE_ECORRUPT = -30003,  /* a record failed to decode */
    STORE_EINVAL = -30004,    /* bad argument */
    STORE_ENOMEM = -30005,
    STORE_EABORT = -30006,    /* a scan callback asked to stop (not an error to report) */
    STORE_ETRAIN = -30007,    /* dictionary training failed (too few / too small samples) */
    STORE_EPARTIAL = -30008,  /* a scan stopped at filter->max_examined */
    STORE_ETOOSMALL = -30009, /* a map size below the pages already in use */
};

#define STORE_ID_MAX 64 /* longest event id, bytes */

struct store;

struct store_opts {
    const char *dir;      /* created if missing */
    size_t map_size;      /* bytes; LMDB map size; 0 = 1 GiB */
    unsigned max_readers; /* 0 = LMDB default (126) */
    int zstd_level;       /* 0 = default (3) */
    int no_sync;          /* tests/benchmarks only: MDB_NOSYNC */
    int read_only;        /* MDB_RDONLY: no writes, nothing created; safe next to a
                           * collector writing the same store from another process
                           * (lock.mdb must be writable). map_size 0 = the file's. */
};

/* One event to append. Strings are NUL-terminated; optional ones may be NULL.
 * json/json_len: the event exactly as it will be returned by store_get(). */
struct store_event {
    const char *json;
    size_t json_len;
    const char *id;  /* ULID or UUID, 1..STORE_ID_MAX bytes */
    int64_t time_us; /* event time, microseconds since the epoch, UTC */
    const char *service;
    const char *model;     /* response model, else request model; may be NULL */
    const char *provider;  /* may be NULL */
    const char *operation; /* may be NULL */
    double cost_usd;       /* NaN when absent */
    double latency_ms;
    int32_t status;        /* HTTP status; 0 when none */
    int64_t input_tokens;  /* -1 when absent */
    int64_t output_tokens; /* -1 when absent */
};

/* A consumed Kafka position to record in the same transaction. */
struct store_offset {
    const char *topic;
    int32_t partition;
    int64_t next_offset; /* the offset to resume from */
};

struct store_append_result {
    size_t stored;     /* new events written */
    size_t duplicates; /* events whose id was already stored (skipped) */
};

/* A summary of one stored event, as read from the record's fixed header
 * (no decompression). Strings point into the summary's own storage and are
 * valid for the duration of the scan callback only. */
struct store_summary {
    int64_t time_us;
    const char *id;
    const char *service;
    const char *model;     /* "" when absent */
    const char *provider;  /* "" when absent */
    const char *operation; /* "" when absent */
    double cost_usd;       /* NaN when absent */
    double latency_ms;
    int32_t status;
    int64_t input_tokens;  /* -1 when absent */
    int64_t output_tokens; /* -1 when absent */
    uint32_t stored_bytes; /* size of the record in the store */
};

struct store_filter {
    int64_t start_us;    /* inclusive; INT64_MIN for none */
    int64_t end_us;      /* exclusive; INT64_MAX for none */
    const char *service; /* NULL for any */
    const char *model;   /* NULL for any */
    size_t limit;        /* 0 for no limit */
    size_t max_examined; /* stop after looking at this many records, matching
                          * or not (bounds a scan's read transaction); 0 = none */
};

/* Return 0 to continue, non-zero to stop the scan. */
typedef int (*store_scan_fn)(void *ud, const struct store_summary *s);

struct store_stats {
    uint64_t events;     /* entries in `events` */
    uint64_t event_ids;  /* entries in `event_ids` */
    uint64_t map_size;   /* configured map size, bytes */
    uint64_t used_bytes; /* pages in use * page size */
    uint64_t file_bytes; /* size of data.mdb on disk */
    uint32_t dict_id;    /* zstd dictionary new records use; 0 = none */
};

/* Opens (creating if needed) the store in opts->dir. Refuses, with
 * STORE_EVERSION, a store of another format version. */
int store_open(const struct store_opts *opts, struct store **out);
/* Closes the store. Accepts NULL. */
void store_close(struct store *st);

/* Appends a batch in ONE write transaction: for each event, skips it if its id
 * is already stored (or appears earlier in the same batch), else writes it
 * to `events` and `event_ids`; then records every offset; then commits.
 * On any error the whole transaction is aborted and nothing is written
 * (MDB_MAP_FULL is returned as is so the caller can apply backpressure).
 * res may be NULL; it is filled only on success.
 * STORE_EINVAL, before anything is written, when an event has no json, an id
 * that is empty or longer than STORE_ID_MAX, json_len > UINT32_MAX or a
 * string longer than 65535 bytes, or an offset has a NULL/empty topic, a
 * topic containing '/' or longer than 249 bytes, or a negative partition or
 * next_offset. Dedup is by id alone: a later event with a stored id is
 * skipped even if its time or content differ (the first copy wins). */
int store_append(struct store *st, const struct store_event *evs, size_t n,
                 const struct store_offset *offs, size_t noffs, struct store_append_result *res);

/* A callback run inside store_append_hook's write transaction, after the
 * events were written and before the offsets are and the transaction
 * commits: the place for derived writes (time series) that must commit or
 * roll back with the events. stored[i] is 1 when evs[i] was newly written, 0
 * when it was a duplicate. txn is an MDB_txn of the store's environment;
 * the callback must not begin, commit or abort it, nor call back into the
 * store. Returning nonzero aborts the whole transaction and store_append_hook
 * returns that value. */
struct MDB_txn;
typedef int (*store_txn_hook_fn)(void *ud, struct MDB_txn *txn, const struct store_event *evs,
                                 const unsigned char *stored, size_t n);
/* store_append with a hook (may be NULL: then exactly store_append). When
 * the hook ran and the call then fails (hook error, MDB_MAP_FULL at commit,
 * ...), nothing it wrote is kept: *hook_ran (may be NULL) says whether it
 * ran, so the caller can drop state that assumed the commit. */
int store_append_hook(struct store *st, const struct store_event *evs, size_t n,
                      const struct store_offset *offs, size_t noffs, store_txn_hook_fn hook,
                      void *ud, int *hook_ran, struct store_append_result *res);

/* Runs fn in one write transaction of the store (holding the writer lock
 * and the map lock), committing when fn returns 0 and aborting otherwise
 * (that value is returned). For modules keeping their own databases in the
 * store's environment (series_open). fn must not call back into the store. */
int store_write_txn(struct store *st, int (*fn)(void *ud, struct MDB_txn *txn), void *ud);

/* A read transaction for modules reading their own databases in the store's
 * environment (series readers): begun with the map lock held shared, so
 * store_set_map_size waits for it. End it with store_txn_done (never with
 * mdb_txn_abort). On error nothing is held. Keep it short. */
int store_txn_read(struct store *st, struct MDB_txn **txn);
/* store_txn_read without waiting: EBUSY when the map lock is held (or
 * wanted) for a resize, and no second attempt after MDB_MAP_RESIZED. For a
 * helper thread joining a reader that already holds the lock shared, which
 * must not queue behind a resize waiting for that reader. */
int store_txn_read_try(struct store *st, struct MDB_txn **txn);
void store_txn_done(struct store *st, struct MDB_txn *txn);

/* Reads the stored next offset of (topic, partition); STORE_ENOTFOUND if none. */
int store_offset_get(struct store *st, const char *topic, int32_t partition, int64_t *next_offset);

/* Fetches one event by id: *json is a malloc'd NUL-terminated copy of the JSON
 * given to store_append (caller frees), *len its length (may be NULL).
 * STORE_ENOTFOUND when absent (also for ids that cannot exist: empty or
 * longer than STORE_ID_MAX). */
int store_get(struct store *st, const char *id, char **json, size_t *len);

/* Calls fn for every event matching the filter, newest first, up to
 * filter->limit. Runs in one read transaction (keep scans bounded: a long
 * read transaction stops LMDB from reusing freed pages). f may be NULL (all
 * events). Returns 0 when the scan reached its end or limit, STORE_EABORT
 * when fn stopped it, else an error (STORE_ECORRUPT for a bad record). */
int store_scan(struct store *st, const struct store_filter *f, store_scan_fn fn, void *ud);
/* As store_scan; when f->max_examined stopped the scan early, returns
 * STORE_EPARTIAL (results delivered so far are valid). */

int store_stats(struct store *st, struct store_stats *out);

/* Trains a zstd dictionary on the newest sample_count events (at most 16 MiB
 * of JSON), stores it in `dicts` under the next id and makes every record
 * appended after it use it. Records written before keep their own dictionary
 * id (or none) and stay readable: dictionaries are never deleted. Slow (tens
 * to hundreds of ms): call it from a background thread, not per batch. The
 * writer is blocked only while the dictionary is stored.
 * STORE_ETRAIN when there is too little data to train on. */
int store_train_dict(struct store *st, size_t sample_count);

/* Changes the LMDB map size (the most the store can hold) of the open
 * store, e.g. after MDB_MAP_FULL. Waits until no transaction of this process
 * runs (the writer finishes its batch; readers that arrive meanwhile wait,
 * briefly), then remaps. size is rounded up to whole pages; *applied (may be
 * NULL) gets the size in effect. Smaller than the current map is allowed
 * down to the data in use; below that STORE_ETOOSMALL and nothing changes.
 * Other processes (a backup, verify) adopt the new size after the next
 * commit. Must not be called from a store_scan callback. */
int store_set_map_size(struct store *st, size_t size, size_t *applied);

/* Retention: deletes events whose time is before before_us, oldest first,
 * at most max of them, in ONE short write transaction (ids removed from
 * `event_ids` too; dictionaries are kept). *deleted (may be NULL) gets the
 * count; call again while it equals max. The writer lock is held only for
 * that transaction, so callers can interleave with store_append by keeping
 * max small (~1000). MDB_MAP_FULL is possible on a completely full map
 * (deleting copies pages): retry with a smaller max. A deleted event whose
 * id comes again is stored again. */
int store_delete_before(struct store *st, int64_t before_us, size_t max, size_t *deleted);

/* Hot backup: a compacting copy (free pages left out) of the store, as of
 * one read transaction, into dir/data.mdb. dir is created if missing;
 * EEXIST if it already holds a data.mdb. The copy is fsync'd; on error the
 * partial file is removed. Works on a store opened read_only while a
 * collector writes it from another process. The copy's read transaction
 * keeps the writer from reusing pages freed meanwhile, so the live file
 * may grow during a long backup. */
int store_backup(struct store *st, const char *dir);

/* Names any code returned by this module (negative STORE_E*, LMDB, errno). */
const char *store_strerror(int rc);

#endif
