/*
 * fuzz_spool.c — fuzz target for the disk spool's segment reader
 * (agent/spool.c): the input is the bytes of one segment file.
 *
 * DESIGN
 * - The input is written as spool-00000000000000000001.log into a scratch
 *   directory (one per process: /dev/shm when it exists, else /tmp; removed
 *   at exit, or by the next run when libFuzzer exits without atexit) and a
 *   spool is opened over it (fsync never: no sync thread).
 * - spool_open either succeeds or refuses the file with SPOOL_EFOREIGN or
 *   SPOOL_EVERSION and an error naming it; nothing else. After a refusal the
 *   first 32 bytes are replaced by a valid version-1 header and the input is
 *   run again, so mangled headers never hide the record reader.
 * - Invariants (abort() on a violation), with the header bytes as opened:
 *   * every record handed out is in the file verbatim: a record header the
 *     driver builds itself (magic, lengths, the record's sequence number,
 *     CRC-32C of key and value, CRC-32C of the header — computed by a
 *     bitwise CRC here, independent of the spool's table-driven one)
 *     followed by the key and value, at increasing, non-overlapping offsets
 *     at or after byte 32; key and value are NUL-terminated;
 *   * the records and the damaged spans cover the file exactly: the sum of
 *     the record sizes plus corrupt_bytes is the file size minus 32 (the
 *     header), or the whole file size when the header was damaged (all
 *     zero, short, or a CRC mismatch) and so counted as a span itself;
 *   * stats.records at open equals the records handed out; stats.bytes is
 *     the file size; a replay does not count damage already counted at
 *     open; a close and reopen finds the same records and spans;
 *   * nacking every third record hands it out again (attempts 2) before
 *     anything new; after every record is acknowledged, records, bytes,
 *     segments and in-flight are 0 and the file is gone.
 *
 * Seeds: built with -DFUZZ_SPOOL_SEEDS this file is a program that writes
 * the seed corpus with the spool's own code:
 *   cc -DFUZZ_SPOOL_SEEDS -D_GNU_SOURCE -Icommon -Iagent tests/fuzz/fuzz_spool.c \
 *      agent/spool.c common/log.c common/metrics.c common/buf.c common/utf8.c \
 *      common/crash.c $(pkg-config --cflags --libs libcjson libunwind) -lpthread -lm \
 *      -o /tmp/spool-seeds && /tmp/spool-seeds tests/fuzz/corpus/spool
 */
#define FUZZ_NAME "fuzz_spool"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "log.h"
#include "spool.h"

#define SEG_FILE "spool-00000000000000000001.log"
#define HDR      32
#define RHDR     28

static char g_dir[64];
static char g_path[128];

static uint32_t crc_bitwise(uint32_t crc, const unsigned char *p, size_t n)
{
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
    }
    return ~crc;
}

static void le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void valid_header(unsigned char *h)
{
    static const unsigned char magic[8] = {0x89, 'L', 'T', 'S', 'P', 'O', 'O', 'L'};
    memset(h, 0, HDR);
    memcpy(h, magic, 8);
    le(h + 8, 1, 2);
    le(h + 10, HDR, 2);
    le(h + 16, 1, 8);
    le(h + 28, crc_bitwise(0, h, 28), 4);
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    if (g_dir[0])
        nftw(g_dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

/* The scratch directory is <base>/fuzz-spool-<pid>. libFuzzer may end the
 * process without running atexit handlers (time limit, crash), so each run
 * first removes the directories of processes that no longer exist. */
static void scratch_init(void)
{
    if (g_dir[0])
        return;
    struct stat sb;
    const char *base = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) ? "/dev/shm" : "/tmp";
    DIR *d = opendir(base);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        long pid;
        char stale[300];
        if (sscanf(de->d_name, "fuzz-spool-%ld", &pid) == 1 && pid > 0 &&
            kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
            snprintf(stale, sizeof stale, "%s/%s", base, de->d_name);
            nftw(stale, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
        }
    }
    if (d)
        closedir(d);
    snprintf(g_dir, sizeof g_dir, "%s/fuzz-spool-%ld", base, (long)getpid());
    FUZZ_ASSERT(mkdir(g_dir, 0700) == 0 || errno == EEXIST, "mkdir %s: %s", g_dir, strerror(errno));
    snprintf(g_path, sizeof g_path, "%s/" SEG_FILE, g_dir);
    atexit(cleanup);
    log_set_level(LOG_ERROR); /* damaged spans are logged as warnings: too chatty here */
}

static void write_seg(const unsigned char *d, size_t n)
{
    int fd = open(g_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FUZZ_ASSERT(fd >= 0, "open %s: %s", g_path, strerror(errno));
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, d + off, n - off);
        FUZZ_ASSERT(w > 0, "write: %s", strerror(errno));
        off += (size_t)w;
    }
    close(fd);
}

static int open_spool(struct spool **s, char *err, size_t errlen)
{
    struct spool_opts o = {.dir = g_dir, .fsync = SPOOL_FSYNC_NEVER, .max_inflight = 64};
    return spool_open(&o, s, err, errlen);
}

/* Checks that rec is in d[*pos..n) verbatim; advances *pos past it. Returns
 * the record's size. */
static size_t check_record(const unsigned char *d, size_t n, size_t *pos,
                           const struct spool_record *r)
{
    FUZZ_ASSERT(r->klen <= 0xFFFF && r->vlen <= n, "lengths %zu %zu", r->klen, r->vlen);
    FUZZ_ASSERT(((const char *)r->key)[r->klen] == 0 && ((const char *)r->val)[r->vlen] == 0,
                "key or value not NUL-terminated");
    unsigned char h[RHDR] = {0xF7, 'L', 'T', 'R'};
    le(h + 6, r->klen, 2);
    le(h + 8, r->vlen, 4);
    le(h + 12, r->seq, 8);
    le(h + 20, crc_bitwise(crc_bitwise(0, r->key, r->klen), r->val, r->vlen), 4);
    le(h + 24, crc_bitwise(0, h, 24), 4);
    size_t size = RHDR + r->klen + r->vlen;
    for (size_t p = *pos; p + size <= n; p++) {
        if (memcmp(d + p, h, RHDR) == 0 && memcmp(d + p + RHDR, r->key, r->klen) == 0 &&
            memcmp(d + p + RHDR + r->klen, r->val, r->vlen) == 0) {
            *pos = p + size;
            return size;
        }
    }
    FUZZ_ASSERT(0, "record seq %llu (%zu+%zu bytes) is not in the file after offset %zu",
                (unsigned long long)r->seq, r->klen, r->vlen, *pos);
    return 0;
}

/* One open of the file d: replay everything, check, ack (when ack). */
static void run_once(const unsigned char *d, size_t n, bool ack, const struct spool_stats *expect)
{
    struct spool *s = NULL;
    char err[512];
    int rc = open_spool(&s, err, sizeof err);
    FUZZ_ASSERT(rc == 0, "spool_open: %s: %s", spool_strerror(rc), err);
    struct spool_stats st0, st;
    spool_stats(s, &st0);
    FUZZ_ASSERT(st0.bytes == n && st0.segments == 1, "bytes %llu of %zu, segments %llu",
                (unsigned long long)st0.bytes, n, (unsigned long long)st0.segments);
    if (expect)
        FUZZ_ASSERT(st0.records == expect->records && st0.corrupt == expect->corrupt &&
                        st0.corrupt_bytes == expect->corrupt_bytes,
                    "reopen: %llu records %llu spans, before %llu %llu",
                    (unsigned long long)st0.records, (unsigned long long)st0.corrupt,
                    (unsigned long long)expect->records, (unsigned long long)expect->corrupt);
    size_t pos = HDR, covered = 0, handed = 0, k = 0;
    struct spool_record r, again;
    for (;;) {
        rc = spool_next(s, &r);
        FUZZ_ASSERT(rc == 0 || rc == 1, "spool_next: %d", rc);
        if (rc == 0)
            break;
        FUZZ_ASSERT(r.attempts == 1, "attempts %u", r.attempts);
        covered += check_record(d, n, &pos, &r);
        handed++;
        if (!ack)
            continue;
        if (++k % 3 == 0) {
            uint64_t seq = r.seq;
            spool_nack(s, r.ticket);
            FUZZ_ASSERT(spool_next(s, &again) == 1 && again.attempts == 2 && again.seq == seq,
                        "nacked record not handed out again first");
            spool_ack(s, r.ticket); /* stale: ignored */
            spool_ack(s, again.ticket);
        } else {
            spool_ack(s, r.ticket);
        }
    }
    spool_stats(s, &st);
    bool hdr_ok = n >= HDR && crc_bitwise(0, d, 28) == get32(d + 28);
    FUZZ_ASSERT(handed == st0.records, "handed out %zu, open counted %llu", handed,
                (unsigned long long)st0.records);
    FUZZ_ASSERT(st.corrupt == st0.corrupt && st.corrupt_bytes == st0.corrupt_bytes,
                "damage counted again by the replay");
    FUZZ_ASSERT(covered + st.corrupt_bytes == (hdr_ok ? n - HDR : n),
                "records %zu + damaged %llu bytes != file %zu (header %s)", covered,
                (unsigned long long)st.corrupt_bytes, n, hdr_ok ? "ok" : "damaged");
    if (ack) {
        FUZZ_ASSERT(st.records == 0 && st.bytes == 0 && st.segments == 0 && st.inflight == 0 &&
                        st.replayed == handed,
                    "after acking everything: %llu records, %llu bytes, %llu segments",
                    (unsigned long long)st.records, (unsigned long long)st.bytes,
                    (unsigned long long)st.segments);
        FUZZ_ASSERT(access(g_path, F_OK) != 0, "drained segment not deleted");
    } else {
        FUZZ_ASSERT(st.records == st0.records && st.inflight == handed, "counts changed");
        FUZZ_ASSERT((st.segments == 0) == (handed == 0), "segments %llu after %zu records",
                    (unsigned long long)st.segments, handed);
    }
    spool_close(s);
}

/* Runs the file d: returns false when spool_open refused it (checked). */
static bool run_file(const unsigned char *d, size_t n)
{
    write_seg(d, n);
    struct spool *s = NULL;
    char err[512];
    int rc = open_spool(&s, err, sizeof err);
    if (rc != 0) {
        FUZZ_ASSERT(rc == SPOOL_EFOREIGN || rc == SPOOL_EVERSION, "spool_open: %s: %s",
                    spool_strerror(rc), err);
        FUZZ_ASSERT(s == NULL && strstr(err, SEG_FILE) != NULL, "error does not name the file: %s",
                    err);
        unlink(g_path);
        return false;
    }
    struct spool_stats first;
    spool_stats(s, &first);
    spool_close(s);
    /* The same after a reopen. (A file without records is deleted by the
     * first replay pass, acked or not: write it again each time.) */
    write_seg(d, n);
    run_once(d, n, false, &first);
    write_seg(d, n);
    run_once(d, n, true, &first);
    unlink(g_path);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scratch_init();
    if (run_file(data, size))
        return 0;
    /* Refused: the same bytes behind a valid header. */
    size_t n = size < HDR ? HDR : size;
    unsigned char *fixed = malloc(n);
    FUZZ_ASSERT(fixed != NULL, "out of memory");
    memcpy(fixed, data, size);
    valid_header(fixed);
    FUZZ_ASSERT(run_file(fixed, n), "refused with a valid header");
    free(fixed);
    return 0;
}

#ifdef FUZZ_SPOOL_SEEDS
/* Writes the seed corpus into argv[1] using the spool itself. */
static void seed(const char *out, const char *name, void (*fill)(struct spool *),
                 void (*mangle)(unsigned char *, size_t *))
{
    scratch_init();
    struct spool *s;
    char err[512];
    FUZZ_ASSERT(open_spool(&s, err, sizeof err) == 0, "%s", err);
    fill(s);
    spool_close(s);
    FILE *f = fopen(g_path, "rb");
    FUZZ_ASSERT(f != NULL, "no segment written");
    static unsigned char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    unlink(g_path);
    if (mangle)
        mangle(buf, &n);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", out, name);
    f = fopen(path, "wb");
    FUZZ_ASSERT(f && fwrite(buf, 1, n, f) == n, "cannot write %s", path);
    fclose(f);
}

static void ev(struct spool *s, const char *svc, int i, int pad)
{
    char v[16384];
    int n = snprintf(v, sizeof v,
                     "{\"schema\":\"llmtap.event/1\",\"id\":\"01J%023d\",\"service\":"
                     "\"%s\",\"latency_ms\":%d.5,\"response\":{\"text\":\"",
                     i, svc, i * 7);
    while (pad-- > 0 && n < (int)sizeof v - 8)
        v[n++] = (char)('a' + pad % 26);
    n += snprintf(v + n, sizeof v - (size_t)n, "\"}}");
    FUZZ_ASSERT(spool_append(s, svc, strlen(svc), v, (size_t)n) == 0, "append");
}

static void fill_one(struct spool *s)
{
    ev(s, "support-bot", 1, 10);
}
static void fill_few(struct spool *s)
{
    const char *svcs[] = {"support-bot", "search", "", "summarizer"};
    for (int i = 0; i < 6; i++)
        ev(s, svcs[i % 4], i, i * 13);
}
static void fill_big(struct spool *s)
{
    ev(s, "triage", 1, 9000);
    ev(s, "triage", 2, 5);
    FUZZ_ASSERT(spool_append(s, NULL, 0, NULL, 0) == 0, "append");
}
static void fill_none(struct spool *s)
{
    ev(s, "x", 0, 0); /* removed again below: a header-only file */
}
static void cut_tail(unsigned char *b, size_t *n)
{
    (void)b;
    *n -= 17;
}
static void flip_mid(unsigned char *b, size_t *n)
{
    b[*n / 2] ^= 0x20;
}
static void zero_hdr(unsigned char *b, size_t *n)
{
    (void)n;
    memset(b, 0, HDR);
}
static void hdr_only(unsigned char *b, size_t *n)
{
    (void)b;
    *n = HDR;
}
static void version2(unsigned char *b, size_t *n)
{
    (void)n;
    le(b + 8, 2, 2);
    le(b + 28, crc_bitwise(0, b, 28), 4);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    seed(argv[1], "seed-one", fill_one, NULL);
    seed(argv[1], "seed-few", fill_few, NULL);
    seed(argv[1], "seed-big", fill_big, NULL);
    seed(argv[1], "seed-header-only", fill_none, hdr_only);
    seed(argv[1], "seed-torn-tail", fill_few, cut_tail);
    seed(argv[1], "seed-flipped", fill_few, flip_mid);
    seed(argv[1], "seed-zero-header", fill_few, zero_hdr);
    seed(argv[1], "seed-version2", fill_one, version2);
    return 0;
}
#endif
