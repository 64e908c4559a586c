/*
 * spool.c — the agent's disk spool: append-only segment files of
 * (key, value) records that Kafka has not acknowledged yet, handed back out
 * in order until it has. The contract is in spool.h, the on-disk format in
 * docs/spool.md.
 *
 * DESIGN
 * - Files. Segments <dir>/spool-<seq>.log (seq: 20 decimal digits, so name
 *   order is numeric order) each start with a 32-byte header; records follow
 *   back to back, each a 28-byte header (magic, lengths, sequence number,
 *   payload CRC, header CRC) then the key and the value. A new segment is
 *   written as spool-<seq>.log.tmp and renamed, so a file under a final name
 *   always has its whole header. spool.lock (flock) keeps a second process
 *   out of the directory.
 * - Segments found at open are sealed: they are read, never appended to.
 *   Appends go to the one active segment, created on the first append and
 *   sealed when the next record would pass segment_bytes (or after a write
 *   error). A segment is deleted when it is sealed, the reader has passed its
 *   end, and every valid record in it was acknowledged. When everything in
 *   the active segment is acknowledged it is sealed and deleted at once, so
 *   a drained spool leaves no file behind (and nothing to replay again).
 * - Memory is bounded whatever the spool's size: an array of segment
 *   descriptors (one per file), a read buffer (64 KiB, or the largest
 *   record), and the in-flight window: max_inflight slots, each holding a
 *   copy of one record handed out (reused buffers). A record is read from
 *   its file only when spool_next hands it out.
 * - Reading. One cursor (segment, offset) walks the segments in order.
 *   step() returns either a valid record or a damaged span: when the bytes
 *   at the cursor are not a whole record with both CRCs right, the scanner
 *   searches forward for the next record magic whose record verifies, and
 *   everything before it is one damaged span (counted once, logged). Open
 *   runs the same scan over every segment to count records and damage; the
 *   replay pass does not count those spans again (ncorrupt_known).
 * - Tickets. A ticket is (generation << 16) | slot index; the generation
 *   changes each time the slot is handed out, so a stale ticket (an earlier
 *   attempt of a nacked record, or garbage) matches nothing and is ignored.
 *   A nacked record keeps its slot and data; spool_next hands nacked records
 *   out first, lowest position first (a linear look over the window).
 * - Cap. Before an append, the oldest sealed segments are deleted while the
 *   spool would go over max_bytes; their records not acknowledged are counted
 *   as dropped and logged. Records of a dropped segment still in flight stay
 *   in memory: an ack counts them replayed, a nack drops them (counted).
 *   segment_bytes <= max_bytes / 2, so dropping every sealed segment always
 *   makes room.
 * - Locks. Two mutexes, always taken in the order wmu then mu:
 *     wmu: the writer: active segment fd, its write offset, segment creation
 *          and sealing, record sequence numbers. Held across write(2) and,
 *          under ALWAYS, fdatasync: appends are serialised; acks wait for
 *          it only to retire a drained active segment.
 *     mu:  everything else: the segment table, the read cursor and its fd,
 *          the window, counters, metrics. Held across the pread of one
 *          record (page cache, bounded size) and unlink(2), never across a
 *          write or an fsync of records.
 *   An append writes under wmu, then publishes the new end of the segment
 *   under mu: a reader never sees bytes that are not completely written.
 *   spool_ack runs under mu alone; when it drains the active segment it
 *   drops mu and takes wmu then mu to retire it (re-checking everything).
 *   The sync thread ("spool-sync", INTERVAL only) sleeps on mu's condition
 *   variable, takes wmu briefly to dup() the active fd, and fdatasyncs the
 *   duplicate with no lock held.
 * - Durability. Only the sync policy decides when records reach the disk;
 *   segment creation is synced (file and directory) except under NEVER.
 *   Sealed segments are synced when sealed (except under NEVER: spool_sync
 *   then syncs the whole file system, syncfs). Deleting a segment is not
 *   synced: after a power cut a deleted segment may come back and be
 *   replayed again (at-least-once).
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"
#include "crash.h"
#include "log.h"
#include "metrics.h"

#define COMP "agent:spool"

#define SEG_HDR 32u /* segment header bytes */
#define REC_HDR 28u /* record header bytes */
static const unsigned char SEG_MAGIC[8] = {0x89, 'L', 'T', 'S', 'P', 'O', 'O', 'L'};
static const unsigned char REC_MAGIC[4] = {0xF7, 'L', 'T', 'R'};

#define RB_CHUNK     (64u << 10)  /* read-ahead of the scanner */
#define SLOT_KEEP    (256u << 10) /* slot buffers above this are freed on release */
#define SEG_NAME_MAX 40

enum { SLOT_FREE, SLOT_OUT, SLOT_NACKED };

struct seg {
    uint64_t seq;
    uint64_t size;           /* readable bytes: file size, or the published end */
    uint64_t nrec;           /* valid records */
    uint64_t nread;          /* records handed out the first time since open */
    uint64_t nacked;         /* records acknowledged */
    uint64_t nwin;           /* records in the window (out or nacked) */
    uint64_t ncorrupt_known; /* damaged spans counted at open */
    uint64_t ncorrupt_seen;  /* damaged spans the reader met */
    bool sealed;
};

struct slot {
    uint64_t ticket; /* 0 when free */
    uint64_t gen;
    uint64_t seg_seq, off; /* where the record is (orders nacked records) */
    uint64_t rseq;
    unsigned char *buf; /* key NUL value NUL */
    size_t cap;
    uint32_t klen, vlen;
    unsigned attempts;
    int state;
    bool orphan; /* its segment was dropped by the cap */
};

struct rbuf {
    int fd;
    uint64_t end; /* bytes [0, end) may be read */
    unsigned char *p;
    size_t cap;
    uint64_t boff; /* file offset of p[0] */
    size_t blen;
};

struct spool {
    char *dir;
    int dirfd, lockfd;
    uint64_t max_bytes, seg_bytes, max_inflight_bytes;
    enum spool_fsync policy;
    int interval_ms;

    /* writer, under wmu */
    pthread_mutex_t wmu;
    int wfd;
    bool wactive, wdirty;
    uint64_t wseq, wsize;
    uint64_t next_rseq, next_segseq;

    /* everything else, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* spool_wait */
    pthread_cond_t sync_cv; /* the sync thread's sleep */
    bool closing, stop_sync;
    uint64_t wake_gen;
    struct seg *segs;
    size_t nsegs, capsegs;
    uint64_t rseq, roff; /* read cursor: segment seq and offset */
    int rfd;             /* open on segment rfd_seq, or -1 */
    uint64_t rfd_seq;
    struct rbuf rb;
    struct slot *slots;
    uint16_t *freel;
    unsigned nslots, nfree, nnacked;
    uint64_t inflight_bytes;
    struct spool_stats st; /* counters; bytes, segments, records kept current */
    struct metric *m_bytes, *m_records, *m_appended, *m_replayed, *m_dropped, *m_corrupt;

    pthread_t syncer;
    bool syncer_started;
};

/* ---- CRC-32C (crc32c.c) ------------------------------------------------- */

uint32_t spool_crc32c(uint32_t crc, const void *buf, size_t len)
{
    return crc32c_update(crc, buf, len);
}

/* ---- little-endian fields ----------------------------------------------- */

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/* ---- small helpers ------------------------------------------------------- */

const char *spool_strerror(int err)
{
    switch (err) {
    case 0: return "success";
    case SPOOL_EINVAL: return "invalid argument";
    case SPOOL_ENOSPC: return "spool disk full (or file size limit reached)";
    case SPOOL_EFOREIGN: return "not a spool segment";
    case SPOOL_EVERSION: return "spool segment of an unsupported format version";
    case SPOOL_ELOCKED: return "spool directory in use by another process";
    case SPOOL_ENOMEM: return "out of memory";
    case SPOOL_ECLOSED: return "spool is closing";
    default: return err > 0 ? strerror(err) : "unknown spool error";
    }
}

static int map_write_err(int e)
{
    return (e == ENOSPC || e == EDQUOT || e == EFBIG) ? SPOOL_ENOSPC : e;
}

static void seg_name(char *out, uint64_t seq, bool tmp)
{
    snprintf(out, SEG_NAME_MAX, "spool-%020llu.log%s", (unsigned long long)seq, tmp ? ".tmp" : "");
}

/* 1 and *seq when name is a segment name (*tmp: a leftover temporary). */
static int parse_seg_name(const char *name, uint64_t *seq, bool *tmp)
{
    size_t n = strlen(name);
    if ((n != 30 && n != 34) || strncmp(name, "spool-", 6) != 0 || memcmp(name + 26, ".log", 4))
        return 0;
    if (n == 34 && strcmp(name + 30, ".tmp") != 0)
        return 0;
    uint64_t v = 0;
    for (int i = 6; i < 26; i++) {
        if (name[i] < '0' || name[i] > '9')
            return 0;
        uint64_t d = (uint64_t)(name[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *seq = v;
    *tmp = n == 34;
    return 1;
}

static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static int sync_fd(int fd)
{
    while (fdatasync(fd) != 0)
        if (errno != EINTR)
            return errno;
    return 0;
}

/* ---- reading: buffered pread, record check, damage scan ------------------ */

/* Makes file bytes [off, off+len) available at *out. Returns 0, 1 when they
 * are (partly) past b->end or the end of the file, or an errno. */
static int rb_get(struct rbuf *b, uint64_t off, size_t len, const unsigned char **out)
{
    if (off > b->end || len > b->end - off)
        return 1;
    if (off >= b->boff && off + len <= b->boff + b->blen) {
        *out = b->p + (off - b->boff);
        return 0;
    }
    size_t want = len > RB_CHUNK ? len : RB_CHUNK;
    if (want > b->end - off)
        want = (size_t)(b->end - off);
    if (want > b->cap) {
        unsigned char *np = realloc(b->p, want);
        if (!np)
            return ENOMEM;
        b->p = np;
        b->cap = want;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t n = pread(b->fd, b->p + got, want - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            b->blen = 0;
            return errno;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    b->boff = off;
    b->blen = got;
    if (got < len)
        return 1;
    *out = b->p;
    return 0;
}

struct rhdr {
    uint16_t flags, klen;
    uint32_t vlen, pcrc;
    uint64_t seq;
};

/* Is there a whole record with both CRCs right at off? Returns 1 (h and
 * *payload set; payload valid until the next rb_get), 0, or -errno. */
static int rec_valid(struct rbuf *b, uint64_t off, struct rhdr *h, const unsigned char **payload)
{
    const unsigned char *p = NULL;
    int rc = rb_get(b, off, REC_HDR, &p);
    if (rc)
        return rc == 1 ? 0 : -rc;
    if (memcmp(p, REC_MAGIC, 4) != 0 || get_le(p + 24, 4) != spool_crc32c(0, p, 24))
        return 0;
    h->flags = get_le(p + 4, 2);
    h->klen = get_le(p + 6, 2);
    h->vlen = get_le(p + 8, 4);
    h->seq = get_le(p + 12, 8);
    h->pcrc = get_le(p + 20, 4);
    if (h->flags != 0)
        return 0;
    size_t plen = (size_t)h->klen + h->vlen;
    rc = rb_get(b, off + REC_HDR, plen, &p);
    if (rc)
        return rc == 1 ? 0 : -rc;
    if (spool_crc32c(0, p, plen) != h->pcrc)
        return 0;
    *payload = p;
    return 1;
}

/* The first record magic at or after from (b->end when none). 0 or errno. */
static int find_magic(struct rbuf *b, uint64_t from, uint64_t *at)
{
    while (from < b->end) {
        size_t n = b->end - from > RB_CHUNK ? RB_CHUNK : (size_t)(b->end - from);
        const unsigned char *p = NULL, *m = NULL;
        int rc = rb_get(b, from, n, &p);
        if (rc)
            break;
        const unsigned char *q = memchr(p, REC_MAGIC[0], n);
        if (!q) {
            from += n;
            continue;
        }
        uint64_t cand = from + (uint64_t)(q - p);
        rc = rb_get(b, cand, sizeof REC_MAGIC, &m);
        if (rc == 1)
            break;
        if (rc)
            return rc;
        if (memcmp(m, REC_MAGIC, sizeof REC_MAGIC) == 0) {
            *at = cand;
            return 0;
        }
        from = cand + 1;
    }
    *at = b->end;
    return 0;
}

enum { ST_END, ST_REC, ST_BAD };

struct step {
    int kind;
    uint64_t next; /* offset after the record or the damaged span */
    struct rhdr h;
    const unsigned char *payload;
};

/* Reads what is at off: a record, a damaged span (up to the next record that
 * verifies, or the end), or the end. Returns 0 or an errno. */
static int step(struct rbuf *b, uint64_t off, struct step *st)
{
    if (off >= b->end) {
        st->kind = ST_END;
        return 0;
    }
    int v = rec_valid(b, off, &st->h, &st->payload);
    if (v < 0)
        return -v;
    if (v) {
        st->kind = ST_REC;
        st->next = off + REC_HDR + st->h.klen + st->h.vlen;
        return 0;
    }
    uint64_t at = off;
    for (;;) {
        int rc = find_magic(b, at + 1, &at);
        if (rc)
            return rc;
        if (at >= b->end)
            break;
        struct rhdr h;
        const unsigned char *pl;
        v = rec_valid(b, at, &h, &pl);
        if (v < 0)
            return -v;
        if (v)
            break;
    }
    st->kind = ST_BAD;
    st->next = at;
    return 0;
}

/* ---- segment table (mu held) --------------------------------------------- */

static void publish(struct spool *s)
{
    s->st.segments = s->nsegs;
    if (s->m_bytes) {
        metric_set(s->m_bytes, (int64_t)s->st.bytes);
        metric_set(s->m_records, (int64_t)s->st.records);
    }
}

static void count_corrupt(struct spool *s, uint64_t seq, uint64_t off, uint64_t len)
{
    s->st.corrupt++;
    s->st.corrupt_bytes += len;
    if (s->m_corrupt)
        metric_inc(s->m_corrupt);
    log_warn(COMP, "%s/spool-%020llu.log: damaged data at offset %llu (%llu bytes) skipped", s->dir,
             (unsigned long long)seq, (unsigned long long)off, (unsigned long long)len);
}

static void count_dropped(struct spool *s, uint64_t n)
{
    s->st.dropped += n;
    if (s->m_dropped)
        metric_add(s->m_dropped, n);
}

/* Index of the first segment with seq >= seq (nsegs when none). */
static size_t seg_lower(struct spool *s, uint64_t seq)
{
    size_t lo = 0, hi = s->nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->segs[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct seg *seg_find(struct spool *s, uint64_t seq)
{
    size_t i = seg_lower(s, seq);
    return i < s->nsegs && s->segs[i].seq == seq ? &s->segs[i] : NULL;
}

static int seg_push(struct spool *s, const struct seg *g)
{
    if (s->nsegs == s->capsegs) {
        size_t nc = s->capsegs ? s->capsegs * 2 : 16;
        struct seg *ns = realloc(s->segs, nc * sizeof *ns);
        if (!ns)
            return SPOOL_ENOMEM;
        s->segs = ns;
        s->capsegs = nc;
    }
    s->segs[s->nsegs++] = *g;
    s->st.bytes += g->size;
    s->st.records += g->nrec;
    publish(s);
    return 0;
}

/* Deletes segment i's file and forgets it. */
static void seg_remove(struct spool *s, size_t i)
{
    struct seg *g = &s->segs[i];
    char name[SEG_NAME_MAX];
    seg_name(name, g->seq, false);
    if (s->rfd >= 0 && s->rfd_seq == g->seq) {
        close(s->rfd);
        s->rfd = -1;
    }
    if (unlinkat(s->dirfd, name, 0) != 0 && errno != ENOENT)
        log_error(COMP, "cannot delete %s/%s: %s (its records will be replayed again)", s->dir,
                  name, strerror(errno));
    s->st.bytes -= g->size;
    s->st.records -= g->nrec > g->nacked ? g->nrec - g->nacked : 0;
    memmove(g, g + 1, (s->nsegs - i - 1) * sizeof *g);
    s->nsegs--;
    publish(s);
}

static bool reader_done_with(struct spool *s, const struct seg *g)
{
    return s->rseq > g->seq || (s->rseq == g->seq && s->roff >= g->size);
}

/* Deletes segment i when it is sealed, read to its end and all acknowledged. */
static void seg_maybe_delete(struct spool *s, size_t i)
{
    struct seg *g = &s->segs[i];
    if (g->sealed && g->nwin == 0 && g->nacked >= g->nrec && reader_done_with(s, g))
        seg_remove(s, i);
}

static void slot_release(struct spool *s, unsigned i)
{
    struct slot *sl = &s->slots[i];
    s->inflight_bytes -= (uint64_t)sl->klen + sl->vlen;
    if (sl->state == SLOT_NACKED)
        s->nnacked--;
    sl->state = SLOT_FREE;
    sl->ticket = 0;
    sl->orphan = false;
    if (sl->cap > SLOT_KEEP) {
        free(sl->buf);
        sl->buf = NULL;
        sl->cap = 0;
    }
    s->freel[s->nfree++] = (uint16_t)i;
}

/* Forgets segment i and deletes its file; its records not acknowledged are
 * counted as dropped, except those in flight: they stay in memory (an ack
 * counts them replayed, a nack drops them). Returns the records dropped. */
static uint64_t seg_drop(struct spool *s, size_t i)
{
    struct seg *g = &s->segs[i];
    uint64_t lost = g->nrec > g->nacked + g->nwin ? g->nrec - g->nacked - g->nwin : 0;
    for (unsigned k = 0; g->nwin && k < s->nslots; k++) {
        struct slot *sl = &s->slots[k];
        if (sl->state == SLOT_FREE || sl->orphan || sl->seg_seq != g->seq)
            continue;
        if (sl->state == SLOT_NACKED) {
            lost++;
            slot_release(s, k);
        } else {
            sl->orphan = true;
        }
    }
    g->nwin = 0;
    count_dropped(s, lost);
    seg_remove(s, i);
    return lost;
}

/* Drops the oldest sealed segments while the spool plus `add` bytes would be
 * over the cap. */
static void make_room(struct spool *s, uint64_t add)
{
    while (s->nsegs > 0 && s->segs[0].sealed && s->st.bytes + add > s->max_bytes) {
        uint64_t seq = s->segs[0].seq, size = s->segs[0].size;
        uint64_t lost = seg_drop(s, 0);
        log_warn(COMP,
                 "spool %s is at its cap of %llu bytes: dropped spool-%020llu.log (%llu bytes, "
                 "%llu undelivered events)",
                 s->dir, (unsigned long long)s->max_bytes, (unsigned long long)seq,
                 (unsigned long long)size, (unsigned long long)lost);
    }
}

/* ---- writer (wmu held) ---------------------------------------------------- */

/* Seals the active segment: syncs it (unless NEVER), closes it, and deletes
 * it when it is already drained. */
static void seal_active(struct spool *s)
{
    if (!s->wactive)
        return;
    if (s->policy != SPOOL_FSYNC_NEVER && s->wdirty) {
        int e = sync_fd(s->wfd);
        if (e)
            log_error(COMP,
                      "fdatasync of spool-%020llu.log: %s (records may be lost on power "
                      "failure)",
                      (unsigned long long)s->wseq, strerror(e));
    }
    close(s->wfd);
    s->wfd = -1;
    s->wactive = false;
    pthread_mutex_lock(&s->mu);
    size_t i = seg_lower(s, s->wseq);
    if (i < s->nsegs && s->segs[i].seq == s->wseq) {
        s->segs[i].sealed = true;
        seg_maybe_delete(s, i);
    }
    s->wdirty = false;
    pthread_mutex_unlock(&s->mu);
}

/* Creates the next segment (header written, synced unless NEVER) and makes
 * it the active one. Returns 0 or an error code. */
static int seg_create(struct spool *s)
{
    uint64_t seq = s->next_segseq;
    char tmp[SEG_NAME_MAX], name[SEG_NAME_MAX];
    seg_name(tmp, seq, true);
    seg_name(name, seq, false);
    unsigned char h[SEG_HDR] = {0};
    memcpy(h, SEG_MAGIC, 8);
    put_le(h + 8, SPOOL_FORMAT_VERSION, 2);
    put_le(h + 10, SEG_HDR, 2);
    put_le(h + 12, 0, 4);
    put_le(h + 16, seq, 8);
    put_le(h + 28, spool_crc32c(0, h, 28), 4);
    int e = 0;
    int fd = openat(s->dirfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return map_write_err(errno);
    size_t off = 0;
    while (off < SEG_HDR && !e) {
        ssize_t n = pwrite(fd, h + off, SEG_HDR - off, (off_t)off);
        if (n < 0 && errno != EINTR)
            e = errno;
        else if (n > 0)
            off += (size_t)n;
    }
    if (!e && s->policy != SPOOL_FSYNC_NEVER)
        e = sync_fd(fd);
    if (!e && renameat(s->dirfd, tmp, s->dirfd, name) != 0)
        e = errno;
    if (e) {
        close(fd);
        unlinkat(s->dirfd, tmp, 0);
        return map_write_err(e);
    }
    if (s->policy != SPOOL_FSYNC_NEVER)
        fsync(s->dirfd); /* a failure here only risks losing the file's name on power failure */
    struct seg g = {.seq = seq, .size = SEG_HDR};
    pthread_mutex_lock(&s->mu);
    int rc = seg_push(s, &g);
    pthread_mutex_unlock(&s->mu);
    if (rc) {
        close(fd);
        unlinkat(s->dirfd, name, 0);
        return rc;
    }
    s->next_segseq++;
    s->wfd = fd;
    s->wseq = seq;
    s->wsize = SEG_HDR;
    s->wactive = true;
    s->wdirty = false;
    return 0;
}

static int write_all(int fd, const struct iovec *iov_in, int n, uint64_t off)
{
    struct iovec iov[3];
    memcpy(iov, iov_in, (size_t)n * sizeof *iov);
    struct iovec *v = iov;
    while (n > 0) {
        ssize_t w = pwritev(fd, v, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        if (w == 0)
            return EIO;
        off += (uint64_t)w;
        while (n > 0 && (size_t)w >= v->iov_len) {
            w -= (ssize_t)v->iov_len;
            v++;
            n--;
        }
        if (n > 0) {
            v->iov_base = (char *)v->iov_base + w;
            v->iov_len -= (size_t)w;
        }
    }
    return 0;
}

int spool_append(struct spool *s, const void *key, size_t klen, const void *val, size_t vlen)
{
    if (!s)
        return SPOOL_EINVAL;
    uint64_t rlen = (uint64_t)REC_HDR + klen + vlen;
    int rc = 0;
    /* The payload CRC depends on nothing the writer lock guards: computed
     * before taking it, so appends from other threads do not wait for it. */
    uint32_t pcrc =
        (klen && !key) || (vlen && !val) ? 0 : spool_crc32c(spool_crc32c(0, key, klen), val, vlen);
    pthread_mutex_lock(&s->wmu);
    if ((klen && !key) || (vlen && !val) || klen > 0xFFFF || rlen > s->seg_bytes - SEG_HDR)
        rc = SPOOL_EINVAL; /* a record never spans segments */
    else if (s->closing)
        rc = SPOOL_ECLOSED;
    if (rc)
        goto out;
    if (s->wactive && s->wsize + rlen > s->seg_bytes)
        seal_active(s);
    pthread_mutex_lock(&s->mu);
    make_room(s, rlen + (s->wactive ? 0 : SEG_HDR));
    pthread_mutex_unlock(&s->mu);
    if (!s->wactive && (rc = seg_create(s)) != 0)
        goto out;

    unsigned char h[REC_HDR];
    memcpy(h, REC_MAGIC, 4);
    put_le(h + 4, 0, 2);
    put_le(h + 6, (uint16_t)klen, 2);
    put_le(h + 8, (uint32_t)vlen, 4);
    put_le(h + 12, s->next_rseq, 8);
    put_le(h + 20, pcrc, 4);
    put_le(h + 24, spool_crc32c(0, h, 24), 4);
    struct iovec iov[3] = {{h, REC_HDR}, {(void *)key, klen}, {(void *)val, vlen}};
    int e = write_all(s->wfd, iov, 3, s->wsize);
    if (!e && s->policy == SPOOL_FSYNC_ALWAYS)
        e = sync_fd(s->wfd);
    if (e) {
        /* Cut the partial record off; when that fails too, or the disk
         * reported an I/O error, seal the segment (the reader only reads up
         * to the published end, so the tail is never handed out now). */
        if (ftruncate(s->wfd, (off_t)s->wsize) != 0 || e == EIO)
            seal_active(s);
        rc = map_write_err(e);
        goto out;
    }
    s->next_rseq++;
    s->wsize += rlen;
    s->wdirty = s->policy != SPOOL_FSYNC_ALWAYS;
    pthread_mutex_lock(&s->mu);
    struct seg *g = seg_find(s, s->wseq);
    if (g) {
        g->size = s->wsize;
        g->nrec++;
        s->st.bytes += rlen;
        s->st.records++;
    }
    s->st.appended++;
    if (s->m_appended)
        metric_inc(s->m_appended);
    publish(s);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
out:
    pthread_mutex_unlock(&s->wmu);
    if (rc) {
        pthread_mutex_lock(&s->mu);
        s->st.append_failed++;
        pthread_mutex_unlock(&s->mu);
        if (rc != SPOOL_ECLOSED)
            log_warn(COMP, "cannot spool an event (%zu bytes): %s; the event is lost", vlen,
                     spool_strerror(rc));
    }
    return rc;
}

/* Seals and deletes the active segment seq when everything in it has been
 * acknowledged (called from spool_ack without any lock held). */
static void retire_active(struct spool *s, uint64_t seq)
{
    pthread_mutex_lock(&s->wmu);
    if (s->wactive && s->wseq == seq && !s->closing) {
        pthread_mutex_lock(&s->mu);
        struct seg *g = seg_find(s, seq);
        bool drained = g && g->nwin == 0 && g->nacked >= g->nrec && reader_done_with(s, g);
        pthread_mutex_unlock(&s->mu);
        if (drained) {
            s->wdirty = false; /* nothing in it is needed any more */
            seal_active(s);
        }
    }
    pthread_mutex_unlock(&s->wmu);
}

/* ---- sync ----------------------------------------------------------------- */

static void sync_active_bg(struct spool *s)
{
    int fd = -1;
    uint64_t seq = 0;
    pthread_mutex_lock(&s->wmu);
    if (s->wactive && s->wdirty) {
        fd = dup(s->wfd);
        seq = s->wseq;
        s->wdirty = fd < 0;
    }
    pthread_mutex_unlock(&s->wmu);
    if (fd < 0)
        return;
    int e = sync_fd(fd);
    if (e)
        log_error(COMP, "fdatasync of spool-%020llu.log: %s (records may be lost on power failure)",
                  (unsigned long long)seq, strerror(e));
    close(fd);
}

static void *sync_main(void *arg)
{
    struct spool *s = arg;
    crash_thread_init();
    pthread_mutex_lock(&s->mu);
    while (!s->stop_sync) {
        struct timespec dl;
        deadline_after(&dl, s->interval_ms);
        while (!s->stop_sync && pthread_cond_timedwait(&s->sync_cv, &s->mu, &dl) != ETIMEDOUT)
            ;
        if (s->stop_sync)
            break;
        pthread_mutex_unlock(&s->mu);
        sync_active_bg(s);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int spool_sync(struct spool *s)
{
    if (!s)
        return SPOOL_EINVAL;
    int rc = 0;
    pthread_mutex_lock(&s->wmu);
    if (s->wactive) {
        rc = sync_fd(s->wfd);
        s->wdirty = false;
    }
    /* Under NEVER, sealed segments and new names were never synced: sync
     * the file system the spool is on (Linux reports writeback errors). */
    if (s->policy == SPOOL_FSYNC_NEVER && syncfs(s->dirfd) != 0 && !rc)
        rc = errno;
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

/* ---- replay ----------------------------------------------------------------- */

static bool window_room(struct spool *s)
{
    return s->nfree > 0 && s->inflight_bytes < s->max_inflight_bytes;
}

static bool has_unread(struct spool *s)
{
    size_t i = seg_lower(s, s->rseq);
    if (i >= s->nsegs)
        return false;
    const struct seg *g = &s->segs[i];
    return g->seq != s->rseq || s->roff < g->size || g->sealed || i + 1 < s->nsegs;
}

/* Hands out slot idx's record with a new ticket. */
static void slot_issue(struct slot *sl, unsigned idx, struct spool_record *rec)
{
    sl->gen++;
    sl->ticket = (sl->gen << 16) | idx;
    sl->state = SLOT_OUT;
    sl->attempts++;
    *rec = (struct spool_record){.ticket = sl->ticket,
                                 .seq = sl->rseq,
                                 .key = sl->buf,
                                 .klen = sl->klen,
                                 .val = sl->buf + sl->klen + 1,
                                 .vlen = sl->vlen,
                                 .attempts = sl->attempts};
}

/* Hands out the nacked record with the lowest position. */
static void next_nacked(struct spool *s, struct spool_record *rec)
{
    unsigned best = s->nslots;
    for (unsigned i = 0; i < s->nslots; i++) {
        const struct slot *sl = &s->slots[i];
        if (sl->state != SLOT_NACKED)
            continue;
        if (best == s->nslots || sl->seg_seq < s->slots[best].seg_seq ||
            (sl->seg_seq == s->slots[best].seg_seq && sl->off < s->slots[best].off))
            best = i;
    }
    struct slot *sl = &s->slots[best];
    s->nnacked--;
    slot_issue(sl, best, rec);
}

int spool_next(struct spool *s, struct spool_record *rec)
{
    if (!s || !rec)
        return SPOOL_EINVAL;
    int ret = 0;
    pthread_mutex_lock(&s->mu);
    if (s->nnacked) {
        next_nacked(s, rec);
        ret = 1;
        goto out;
    }
    while (window_room(s)) {
        size_t i = seg_lower(s, s->rseq);
        if (i >= s->nsegs)
            break;
        struct seg *g = &s->segs[i];
        if (g->seq != s->rseq || s->roff < SEG_HDR) {
            s->rseq = g->seq;
            s->roff = SEG_HDR;
        }
        if (s->roff >= g->size) {
            if (!g->sealed)
                break;
            /* End of a sealed segment: its record count is now exact. */
            if (g->nread != g->nrec) {
                s->st.records += g->nread;
                s->st.records -= g->nrec;
                g->nrec = g->nread;
                publish(s);
            }
            s->rseq = g->seq + 1;
            s->roff = SEG_HDR;
            if (s->rfd >= 0) {
                close(s->rfd);
                s->rfd = -1;
            }
            seg_maybe_delete(s, i);
            continue;
        }
        if (s->rfd < 0 || s->rfd_seq != g->seq) {
            if (s->rfd >= 0)
                close(s->rfd);
            char name[SEG_NAME_MAX];
            seg_name(name, g->seq, false);
            s->rfd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC);
            if (s->rfd < 0 && errno == ENOENT && g->sealed) { /* removed behind our back */
                log_error(COMP, "%s/%s has disappeared: %llu events lost", s->dir, name,
                          (unsigned long long)seg_drop(s, i));
                continue;
            }
            if (s->rfd < 0) {
                ret = errno;
                log_error(COMP, "cannot open %s/%s: %s", s->dir, name, strerror(ret));
                goto out;
            }
            s->rfd_seq = g->seq;
            s->rb = (struct rbuf){s->rfd, g->size, s->rb.p, s->rb.cap, 0, 0};
        }
        s->rb.end = g->size;
        struct step st;
        int e = step(&s->rb, s->roff, &st);
        if (e) {
            ret = e;
            log_error(COMP, "reading spool-%020llu.log at %llu: %s", (unsigned long long)g->seq,
                      (unsigned long long)s->roff, strerror(e));
            goto out;
        }
        if (st.kind == ST_BAD) {
            if (++g->ncorrupt_seen > g->ncorrupt_known)
                count_corrupt(s, g->seq, s->roff, st.next - s->roff);
            s->roff = st.next;
            continue;
        }
        unsigned idx = s->freel[s->nfree - 1];
        struct slot *sl = &s->slots[idx];
        size_t need = (size_t)st.h.klen + st.h.vlen + 2;
        if (need > sl->cap) {
            unsigned char *nb = realloc(sl->buf, need);
            if (!nb) {
                ret = ENOMEM;
                goto out;
            }
            sl->buf = nb;
            sl->cap = need;
        }
        s->nfree--;
        memcpy(sl->buf, st.payload, st.h.klen);
        sl->buf[st.h.klen] = 0;
        memcpy(sl->buf + st.h.klen + 1, st.payload + st.h.klen, st.h.vlen);
        sl->buf[st.h.klen + 1 + st.h.vlen] = 0;
        sl->klen = st.h.klen;
        sl->vlen = st.h.vlen;
        sl->seg_seq = g->seq;
        sl->off = s->roff;
        sl->rseq = st.h.seq;
        sl->attempts = 0;
        sl->orphan = false;
        s->inflight_bytes += (uint64_t)sl->klen + sl->vlen;
        g->nread++;
        g->nwin++;
        if (g->nread > g->nrec) { /* valid now, damaged at open: keep the counts sane */
            g->nrec++;
            s->st.records++;
        }
        s->roff = st.next;
        slot_issue(sl, idx, rec);
        ret = 1;
        break;
    }
out:
    pthread_mutex_unlock(&s->mu);
    return ret;
}

/* The slot a ticket names, when it is handed out now. */
static struct slot *ticket_slot(struct spool *s, uint64_t ticket, unsigned *idx)
{
    unsigned i = (unsigned)(ticket & 0xFFFF);
    if (ticket == 0 || i >= s->nslots || s->slots[i].ticket != ticket ||
        s->slots[i].state != SLOT_OUT)
        return NULL;
    *idx = i;
    return &s->slots[i];
}

void spool_ack(struct spool *s, uint64_t ticket)
{
    if (!s)
        return;
    uint64_t retire = 0;
    pthread_mutex_lock(&s->mu);
    unsigned idx;
    struct slot *sl = ticket_slot(s, ticket, &idx);
    if (!sl) {
        pthread_mutex_unlock(&s->mu);
        log_debug(COMP, "ack of unknown ticket %llu ignored", (unsigned long long)ticket);
        return;
    }
    s->st.replayed++;
    if (s->m_replayed)
        metric_inc(s->m_replayed);
    if (!sl->orphan) {
        size_t i = seg_lower(s, sl->seg_seq);
        if (i < s->nsegs && s->segs[i].seq == sl->seg_seq) {
            struct seg *g = &s->segs[i];
            g->nacked++;
            g->nwin--;
            s->st.records--;
            if (!g->sealed && g->nwin == 0 && g->nacked >= g->nrec && reader_done_with(s, g))
                retire = g->seq;
            seg_maybe_delete(s, i);
            publish(s);
        }
    }
    slot_release(s, idx);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (retire)
        retire_active(s, retire);
}

void spool_nack(struct spool *s, uint64_t ticket)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    unsigned idx;
    struct slot *sl = ticket_slot(s, ticket, &idx);
    if (sl) {
        s->st.nacked++;
        if (sl->orphan) {
            count_dropped(s, 1);
            slot_release(s, idx);
        } else {
            sl->state = SLOT_NACKED;
            s->nnacked++;
        }
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
}

int spool_wait(struct spool *s, int timeout_ms)
{
    if (!s)
        return 0;
    struct timespec dl;
    if (timeout_ms >= 0)
        deadline_after(&dl, timeout_ms);
    pthread_mutex_lock(&s->mu);
    uint64_t gen = s->wake_gen;
    int ready;
    for (;;) {
        ready = !s->closing && (s->nnacked > 0 || (window_room(s) && has_unread(s)));
        if (ready || s->closing || s->wake_gen != gen)
            break;
        int e = timeout_ms >= 0 ? pthread_cond_timedwait(&s->cv, &s->mu, &dl)
                                : pthread_cond_wait(&s->cv, &s->mu);
        if (e == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&s->mu);
    return ready;
}

void spool_wake(struct spool *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->wake_gen++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void spool_stats(struct spool *s, struct spool_stats *st)
{
    if (!s || !st)
        return;
    pthread_mutex_lock(&s->mu);
    *st = s->st;
    st->segments = s->nsegs;
    st->inflight = s->nslots - s->nfree;
    pthread_mutex_unlock(&s->mu);
}

/* ---- open / close ------------------------------------------------------------ */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int mkdir_p(const char *dir)
{
    char *p = strdup(dir);
    if (!p)
        return ENOMEM;
    int e = 0;
    for (char *q = p + 1; !e; q++) {
        if (*q != '/' && *q != '\0')
            continue;
        char c = *q;
        *q = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            e = errno;
        *q = c;
        if (c == '\0')
            break;
    }
    free(p);
    return e;
}

/* Reads segment seq at open: checks its header, counts records and damaged
 * spans. Returns 0 (g filled) or an error code with err set. */
static int seg_scan(struct spool *s, uint64_t seq, struct rbuf *rb, struct seg *g, char *err,
                    size_t errlen)
{
    char name[SEG_NAME_MAX];
    seg_name(name, seq, false);
    *g = (struct seg){.seq = seq, .sealed = true};
    int fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    struct stat sb;
    int e = fd < 0 ? errno : fstat(fd, &sb) != 0 ? errno : 0;
    if (!e && !S_ISREG(sb.st_mode))
        e = ELOOP;
    if (e) {
        if (fd >= 0)
            close(fd);
        if (e == ELOOP) {
            set_err(err, errlen, "%s/%s is not a regular file; move it out of the spool directory",
                    s->dir, name);
            return SPOOL_EFOREIGN;
        }
        set_err(err, errlen, "cannot open %s/%s: %s", s->dir, name, strerror(e));
        return e;
    }
    g->size = (uint64_t)sb.st_size;
    *rb = (struct rbuf){fd, g->size, rb->p, rb->cap, 0, 0};
    const unsigned char *h = NULL;
    int rc = 0;
    size_t hl = g->size < SEG_HDR ? (size_t)g->size : SEG_HDR;
    if (hl > 0 && (rc = rb_get(rb, 0, hl, &h)) != 0) {
        rc = rc == 1 ? EIO : rc;
        set_err(err, errlen, "cannot read %s/%s: %s", s->dir, name, strerror(rc));
        goto done;
    }
    bool damaged = hl > 0 && hl < SEG_HDR;
    if (hl == SEG_HDR) {
        static const unsigned char zero[SEG_HDR];
        bool crc_ok = get_le(h + 28, 4) == spool_crc32c(0, h, 28);
        unsigned version = get_le(h + 8, 2);
        if (memcmp(h, zero, SEG_HDR) == 0) {
            damaged = true; /* zero-filled: a power cut under fsync=never */
        } else if (memcmp(h, SEG_MAGIC, 8) != 0) {
            set_err(err, errlen,
                    "%s/%s is not an llmtap spool segment (bad magic); move it out "
                    "of the spool directory",
                    s->dir, name);
            rc = SPOOL_EFOREIGN;
            goto done;
        } else if (version != SPOOL_FORMAT_VERSION ||
                   (crc_ok && (get_le(h + 12, 4) != 0 || get_le(h + 10, 2) != SEG_HDR))) {
            set_err(err, errlen,
                    "%s/%s has spool format version %u, flags 0x%x (this agent "
                    "reads version %d, no flags); run a newer agent or move the file away",
                    s->dir, name, version, (unsigned)get_le(h + 12, 4), SPOOL_FORMAT_VERSION);
            rc = SPOOL_EVERSION;
            goto done;
        } else if (!crc_ok) {
            damaged = true;
        } else if (get_le(h + 16, 8) != seq) {
            log_info(COMP, "%s/%s: header says segment %llu; the file name decides its order",
                     s->dir, name, (unsigned long long)get_le(h + 16, 8));
        }
    }
    if (damaged)
        count_corrupt(s, seq, 0, hl);
    uint64_t off = SEG_HDR;
    for (;;) {
        struct step st;
        rc = step(rb, off, &st);
        if (rc) {
            set_err(err, errlen, "cannot read %s/%s: %s", s->dir, name, strerror(rc));
            goto done;
        }
        if (st.kind == ST_END)
            break;
        if (st.kind == ST_REC) {
            g->nrec++;
            if (st.h.seq >= s->next_rseq)
                s->next_rseq = st.h.seq + 1;
        } else {
            g->ncorrupt_known++;
            count_corrupt(s, seq, off, st.next - off);
        }
        off = st.next;
    }
done:
    close(fd);
    rb->fd = -1;
    return rc;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Lists the directory: removes leftover temporaries, logs foreign names,
 * returns the sorted segment seqs in *out (malloc'd). */
static int list_dir(struct spool *s, uint64_t **out, size_t *n, char *err, size_t errlen)
{
    int fd = dup(s->dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        set_err(err, errlen, "cannot list %s: %s", s->dir, strerror(e));
        return e;
    }
    uint64_t *v = NULL;
    size_t cap = 0;
    int rc = 0;
    *n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        uint64_t seq;
        bool tmp;
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
            !strcmp(de->d_name, "spool.lock"))
            continue;
        if (!parse_seg_name(de->d_name, &seq, &tmp)) {
            log_warn(COMP, "%s/%s is not a spool file: ignored (left as it is)", s->dir,
                     de->d_name);
            continue;
        }
        if (tmp) {
            log_info(COMP, "removing %s/%s (a segment whose creation was interrupted)", s->dir,
                     de->d_name);
            unlinkat(s->dirfd, de->d_name, 0);
            continue;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            uint64_t *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                rc = SPOOL_ENOMEM;
                set_err(err, errlen, "out of memory");
                break;
            }
            v = nv;
        }
        v[(*n)++] = seq;
    }
    closedir(d);
    if (rc) {
        free(v);
        return rc;
    }
    if (*n)
        qsort(v, *n, sizeof *v, cmp_u64);
    *out = v;
    return 0;
}

static int start_syncer(struct spool *s)
{
    sigset_t all, old;
    sigfillset(&all);
    int sync_sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof sync_sigs / sizeof sync_sigs[0]; i++)
        sigdelset(&all, sync_sigs[i]);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int e = pthread_create(&s->syncer, NULL, sync_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e)
        return e;
    pthread_setname_np(s->syncer, "spool-sync");
    s->syncer_started = true;
    return 0;
}

int spool_open(const struct spool_opts *o, struct spool **out, char *err, size_t errlen)
{
    set_err(err, errlen, "%s", "");
    if (!o || !out || !o->dir || !o->dir[0] || (unsigned)o->fsync > SPOOL_FSYNC_NEVER ||
        o->fsync_interval_ms < 0 || o->max_inflight > 0xFFFF) {
        set_err(err, errlen, "invalid spool options");
        return SPOOL_EINVAL;
    }
    *out = NULL;
    uint64_t max_bytes = o->max_bytes ? o->max_bytes : (uint64_t)1 << 30;
    if (max_bytes < 8192) {
        set_err(err, errlen, "spool max_bytes must be at least 8192");
        return SPOOL_EINVAL;
    }
    struct spool *s = calloc(1, sizeof *s);
    if (!s) {
        set_err(err, errlen, "out of memory");
        return SPOOL_ENOMEM;
    }
    int rc = 0;
    s->dirfd = s->lockfd = s->wfd = s->rfd = -1;
    s->rb.fd = -1;
    s->max_bytes = max_bytes;
    s->seg_bytes = o->segment_bytes ? o->segment_bytes : (uint64_t)8 << 20;
    if (s->seg_bytes > max_bytes / 2)
        s->seg_bytes = max_bytes / 2;
    if (s->seg_bytes < 4096)
        s->seg_bytes = 4096;
    if (s->seg_bytes > (uint64_t)1 << 30)
        s->seg_bytes = (uint64_t)1 << 30;
    s->max_inflight_bytes = o->max_inflight_bytes ? o->max_inflight_bytes : (uint64_t)16 << 20;
    s->policy = o->fsync;
    s->interval_ms = o->fsync_interval_ms ? o->fsync_interval_ms : 100;
    s->next_rseq = 1;
    s->next_segseq = 1;
    pthread_mutex_init(&s->wmu, NULL);
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_cond_init(&s->sync_cv, &ca);
    pthread_condattr_destroy(&ca);
    uint64_t *seqs = NULL;
    size_t nseqs = 0;
    struct rbuf scan = {.fd = -1};

    s->dir = strdup(o->dir);
    s->nslots = o->max_inflight ? o->max_inflight : 1024;
    s->slots = calloc(s->nslots, sizeof *s->slots);
    s->freel = calloc(s->nslots, sizeof *s->freel);
    if (!s->dir || !s->slots || !s->freel) {
        rc = SPOOL_ENOMEM;
        set_err(err, errlen, "out of memory");
        goto fail;
    }
    for (unsigned i = 0; i < s->nslots; i++)
        s->freel[i] = (uint16_t)(s->nslots - 1 - i);
    s->nfree = s->nslots;

    if ((rc = mkdir_p(s->dir)) != 0) {
        set_err(err, errlen, "cannot create the spool directory %s: %s", s->dir, strerror(rc));
        goto fail;
    }
    s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dirfd < 0) {
        rc = errno;
        set_err(err, errlen, "cannot open the spool directory %s: %s", s->dir, strerror(rc));
        goto fail;
    }
    s->lockfd = openat(s->dirfd, "spool.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lockfd < 0 || faccessat(s->dirfd, ".", W_OK | X_OK, AT_EACCESS) != 0) {
        rc = errno;
        set_err(err, errlen, "the spool directory %s is not writable: %s", s->dir, strerror(rc));
        goto fail;
    }
    if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
        rc = errno == EWOULDBLOCK ? SPOOL_ELOCKED : errno;
        set_err(err, errlen, "the spool directory %s is in use by another process (%s)", s->dir,
                rc == SPOOL_ELOCKED ? "spool.lock is locked" : strerror(rc));
        goto fail;
    }
    if ((rc = list_dir(s, &seqs, &nseqs, err, errlen)) != 0)
        goto fail;
    for (size_t i = 0; i < nseqs; i++) {
        struct seg g;
        if ((rc = seg_scan(s, seqs[i], &scan, &g, err, errlen)) != 0)
            goto fail;
        if ((rc = seg_push(s, &g)) != 0) {
            set_err(err, errlen, "out of memory");
            goto fail;
        }
        s->next_segseq = seqs[i] + 1;
    }
    s->rseq = nseqs ? seqs[0] : 0;
    s->roff = SEG_HDR;
    make_room(s, 0);

    if (o->metrics) {
        static const struct {
            const char *name, *help;
        } md[6] = {
            {"llmtap_agent_spool_bytes", "Bytes of the disk spool's segment files."},
            {"llmtap_agent_spool_records", "Events in the disk spool not yet acknowledged."},
            {"llmtap_agent_spool_appended_total", "Events written to the disk spool."},
            {"llmtap_agent_spool_replayed_total", "Spooled events acknowledged after replay."},
            {"llmtap_agent_spool_dropped_total", "Spooled events dropped by the size cap."},
            {"llmtap_agent_spool_corrupt_total", "Damaged spool spans skipped (events lost)."},
        };
        struct metric **mp[6] = {&s->m_bytes,    &s->m_records, &s->m_appended,
                                 &s->m_replayed, &s->m_dropped, &s->m_corrupt};
        bool ok = true;
        for (int i = 0; i < 6; i++) {
            *mp[i] =
                (i < 2 ? metrics_gauge : metrics_counter)(o->metrics, md[i].name, md[i].help, NULL);
            ok = ok && *mp[i];
        }
        if (!ok) {
            log_error(COMP, "metrics registry full: spool metrics not exported");
            for (int i = 0; i < 6; i++)
                *mp[i] = NULL;
        } else { /* what open found */
            metric_add(s->m_corrupt, s->st.corrupt);
            metric_add(s->m_dropped, s->st.dropped);
        }
        publish(s);
    }
    if (s->policy == SPOOL_FSYNC_INTERVAL && (rc = start_syncer(s)) != 0) {
        set_err(err, errlen, "cannot start the spool sync thread: %s", strerror(rc));
        goto fail;
    }
    if (s->nsegs)
        log_info(COMP,
                 "spool %s: %llu events in %zu segments (%llu bytes) to replay; %llu damaged "
                 "spans skipped, %llu events dropped by the cap",
                 s->dir, (unsigned long long)s->st.records, s->nsegs,
                 (unsigned long long)s->st.bytes, (unsigned long long)s->st.corrupt,
                 (unsigned long long)s->st.dropped);
    free(seqs);
    free(scan.p);
    *out = s;
    return 0;
fail:
    free(seqs);
    free(scan.p);
    spool_close(s);
    return rc;
}

void spool_close(struct spool *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->wmu);
    pthread_mutex_lock(&s->mu);
    s->closing = true;
    s->stop_sync = true;
    pthread_cond_broadcast(&s->sync_cv);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_unlock(&s->wmu);
    if (s->syncer_started)
        pthread_join(s->syncer, NULL);
    if (s->wactive && s->policy != SPOOL_FSYNC_NEVER && s->wdirty) {
        int e = sync_fd(s->wfd);
        if (e)
            log_error(COMP, "fdatasync at close: %s", strerror(e));
    }
    if (s->wfd >= 0)
        close(s->wfd);
    if (s->rfd >= 0)
        close(s->rfd);
    if (s->nsegs && s->dirfd >= 0)
        log_info(COMP, "spool %s closed: %llu events left for replay", s->dir,
                 (unsigned long long)s->st.records);
    if (s->dirfd >= 0)
        close(s->dirfd);
    if (s->lockfd >= 0)
        close(s->lockfd); /* releases the flock */
    if (s->slots)
        for (unsigned i = 0; i < s->nslots; i++)
            free(s->slots[i].buf);
    free(s->slots);
    free(s->freel);
    free(s->segs);
    free(s->rb.p);
    free(s->dir);
    pthread_cond_destroy(&s->cv);
    pthread_cond_destroy(&s->sync_cv);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->wmu);
    free(s);
}
