/*
 * spool.h — the agent's disk spool: events Kafka has not acknowledged.
 *
 * What it is for: a 202 from the agent means the event is durably queued.
 * Every accepted event is appended here first, and a replay (shipper)
 * thread hands spooled events to the producer, oldest first, until the
 * broker acknowledges them — through broker errors, message timeouts, an
 * unreachable broker, a shutdown before the flush ends, and restarts. Records are (key, value) =
 * (Kafka key, event JSON); the spool does not look inside them.
 *
 * Files: <dir>/spool-<20-digit seq>.log segments and <dir>/spool.lock. The
 * format is in docs/spool.md (format version SPOOL_FORMAT_VERSION).
 *
 * Delivery contract (at-least-once): a record leaves the spool only when the
 * caller acknowledges it (spool_ack, after the broker acknowledged it). A
 * segment file is deleted once every record in it was acknowledged. There is
 * no per-record ack on disk: after a restart every record of a segment that
 * was not fully acknowledged is replayed again, including the acknowledged
 * ones (the collector drops duplicates by event id).
 *
 * Use (producer.c, which uses it as a write-ahead log: every accepted event
 * is appended before the agent answers, and shipped from here):
 *   accepting an event                 -> spool_append(key, value); an error
 *                                         means the event is not accepted
 *   replay thread                      -> spool_wait(s, timeout), then while
 *                                         spool_next(s, &r) == 1: produce r
 *                                         (RD_KAFKA_MSG_F_COPY; the opaque
 *                                         marks it a replay and carries the
 *                                         ticket; a local failure such as
 *                                         queue full: spool_nack, back off)
 *   delivery report, replayed event    -> ok ? spool_ack : spool_nack (never
 *                                         spool_append it again)
 *   shutdown                           -> stop the replay thread (spool_wake),
 *                                         flush Kafka, spool_close (what is
 *                                         not acknowledged stays for the next
 *                                         start)
 *
 * Threads: every function except spool_open/spool_close may be called from
 * any thread at the same time (typically: spool_append from the HTTP threads
 * and librdkafka's delivery-report thread; spool_next/spool_wait from one
 * replay thread; spool_ack/spool_nack from the delivery-report thread).
 * spool_close must not race with any other call on the same spool.
 *
 * Errors: functions returning int return 0 (or a count) on success, a
 * negative SPOOL_E* code, or a positive errno value from a system call
 * (EIO, EACCES, ...). spool_strerror() names either.
 */
#ifndef LLMTAP_AGENT_SPOOL_H
#define LLMTAP_AGENT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define SPOOL_FORMAT_VERSION 1

enum {
    SPOOL_EINVAL = -31001,   /* bad argument (NULL, record too large, bad options) */
    SPOOL_ENOSPC = -31002,   /* disk full, quota or file size limit (ENOSPC, EDQUOT, EFBIG) */
    SPOOL_EFOREIGN = -31003, /* a spool-*.log file in the directory is not a spool segment */
    SPOOL_EVERSION = -31004, /* a segment has a newer format version or unknown flags */
    SPOOL_ELOCKED = -31005,  /* another process (or spool) holds the directory */
    SPOOL_ENOMEM = -31006,
    SPOOL_ECLOSED = -31007, /* the spool is closing */
};

/* When appended records are forced to stable storage (docs/spool.md says
 * what a power cut can lose under each). A process crash (even SIGKILL)
 * loses nothing under any policy once spool_append has returned 0. */
enum spool_fsync {
    SPOOL_FSYNC_INTERVAL = 0, /* default: a background thread fdatasync()s the
                               * segment being written every fsync_interval_ms
                               * when it changed */
    SPOOL_FSYNC_ALWAYS = 1,   /* spool_append returns after fdatasync() */
    SPOOL_FSYNC_NEVER = 2,    /* never; the kernel writes back when it likes */
};

struct metrics;
struct spool;

struct spool_opts {
    const char *dir;    /* created (with parents, mode 0700) if missing */
    uint64_t max_bytes; /* cap on all segment files; 0 = 1 GiB */
    enum spool_fsync fsync;
    int fsync_interval_ms;       /* SPOOL_FSYNC_INTERVAL only; 0 = 100 */
    uint64_t segment_bytes;      /* rotate past this; 0 = 8 MiB; clamped to max_bytes / 2
                                  * and to [4 KiB, 1 GiB] */
    unsigned max_inflight;       /* records handed out and not yet acked/nacked; 0 = 1024;
                                  * at most 65535 */
    uint64_t max_inflight_bytes; /* key + value bytes of those records; 0 = 16 MiB (one
                                  * record is always allowed, however large) */
    struct metrics *metrics;     /* optional: registers the llmtap_agent_spool_* metrics
                                  * (docs/spool.md); values stay valid after spool_close */
};

/* One record handed out by spool_next. key and val point into memory owned
 * by the spool, valid until spool_ack or spool_nack of this ticket (or
 * spool_close); each is followed by a NUL byte that is not counted in its
 * length (the bytes themselves may contain NULs). */
struct spool_record {
    uint64_t ticket; /* pass to spool_ack / spool_nack; never 0 */
    uint64_t seq;    /* the record's sequence number in the spool (from the file) */
    const void *key;
    size_t klen;
    const void *val;
    size_t vlen;
    unsigned attempts; /* times handed out since spool_open: 1, then 2 after a nack, ... */
};

struct spool_stats {
    uint64_t bytes;         /* size of all segment files */
    uint64_t segments;      /* segment files */
    uint64_t records;       /* records in the spool not yet acknowledged (in flight too) */
    uint64_t inflight;      /* handed out, waiting for ack/nack (nacked ones included) */
    uint64_t appended;      /* spool_append successes since open */
    uint64_t append_failed; /* spool_append errors since open (those events are lost) */
    uint64_t replayed;      /* records acknowledged since open */
    uint64_t nacked;        /* spool_nack calls since open */
    uint64_t dropped;       /* records dropped to keep under max_bytes */
    uint64_t corrupt;       /* damaged spans skipped (each holds >= 1 lost record) */
    uint64_t corrupt_bytes; /* bytes in those spans */
};

/* Opens the spool in o->dir: creates the directory if needed, takes the
 * lock, removes leftover temporary files and reads every existing segment
 * once (sequentially, verifying every CRC) to count its records. Everything
 * found is pending replay; appends go to new segments.
 *
 * Files in the directory whose names are not the spool's are ignored (and
 * logged). A file named like a segment that is not one is refused
 * (SPOOL_EFOREIGN), as is a segment of a newer format (SPOOL_EVERSION); err
 * then names the file. Other errors: SPOOL_ELOCKED (the directory is in use),
 * SPOOL_EINVAL, SPOOL_ENOMEM, a positive errno (directory not creatable or
 * not writable, I/O error). err (may be NULL) receives a one-line message on
 * failure. On success *out owns the spool; free it with spool_close. */
int spool_open(const struct spool_opts *o, struct spool **out, char *err, size_t errlen);

/* Appends one record (the bytes are copied). Returns when the record is
 * written to the segment file, and under SPOOL_FSYNC_ALWAYS after it is on
 * stable storage. May drop the oldest segments first to stay under
 * max_bytes (counted in `dropped`, logged). Thread-safe.
 * Errors: SPOOL_EINVAL (NULL with a non-zero length, klen > 65535, or the
 * record would not fit in one segment); SPOOL_ENOSPC (the disk is full:
 * nothing is kept, the caller counts the event as lost); SPOOL_ECLOSED; a
 * positive errno (EIO from fdatasync under ALWAYS: the record may or may not
 * survive). A failed append leaves the spool as it was (the partial record is
 * cut off, or the segment sealed when it cannot be). */
int spool_append(struct spool *s, const void *key, size_t klen, const void *val, size_t vlen);

/* Hands out the next record to deliver, in spool order: first any nacked
 * record (lowest sequence first), then records not yet handed out since
 * spool_open. Returns 1 and fills *rec, or 0 when there is none to hand out
 * now: everything is handed out, or the in-flight window (max_inflight,
 * max_inflight_bytes) is full until acks arrive. Returns a positive errno on
 * a read error (the record stays pending). Damaged data is skipped, counted
 * in `corrupt` and logged. Thread-safe (normally one replay thread). */
int spool_next(struct spool *s, struct spool_record *rec);

/* The broker acknowledged this record: it is done. Once every record of a
 * segment is acknowledged the file is deleted. Unknown or stale tickets (an
 * earlier attempt of a nacked record) are ignored. Thread-safe. Cheap: it
 * takes the state lock, may unlink a drained segment, and only when it
 * drains the segment being appended to does it wait for an append in
 * progress (under SPOOL_FSYNC_ALWAYS, including that append's fdatasync). */
void spool_ack(struct spool *s, uint64_t ticket);

/* Delivery failed again: the record stays in the spool and spool_next hands
 * it out again (with a new ticket) before any record not handed out yet, so
 * it may now reach the broker after records handed out after it. The
 * record's key/val pointers are invalid after this call. A record whose
 * segment was dropped by the cap meanwhile is dropped instead (counted).
 * Unknown or stale tickets are ignored. Thread-safe. */
void spool_nack(struct spool *s, uint64_t ticket);

/* Waits up to timeout_ms (< 0: forever) until spool_next may have a record
 * (one is pending and the window has room), spool_wake is called, or the
 * spool is closing. Returns 1 when a record may be ready, 0 otherwise. */
int spool_wait(struct spool *s, int timeout_ms);

/* Wakes every thread blocked in spool_wait (for shutdown). */
void spool_wake(struct spool *s);

/* Fills *st with a consistent snapshot. Thread-safe. */
void spool_stats(struct spool *s, struct spool_stats *st);

/* Forces every record appended so far to stable storage, under any policy
 * (fdatasync of the active segment; under SPOOL_FSYNC_NEVER also syncfs of
 * the file system, as sealed segments were never synced). Blocks appends
 * meanwhile. Returns 0 or a positive errno. Thread-safe. */
int spool_sync(struct spool *s);

/* Stops the sync thread, syncs (unless SPOOL_FSYNC_NEVER), closes the files
 * and frees everything. Records in flight stay in the spool and are replayed
 * after the next open. Accepts NULL. */
void spool_close(struct spool *s);

/* A static description of a SPOOL_E* code or errno. */
const char *spool_strerror(int err);

/* CRC-32C (Castagnoli), chainable: start with crc = 0, pass the previous
 * result to continue. spool_crc32c(0, "123456789", 9) == 0xE3069283. */
uint32_t spool_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
