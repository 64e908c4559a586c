/*
 * fuzz_sse.c — fuzz target for the incremental SSE parser (agent/sse.c).
 *
 * What it is for: the proxy feeds the parser whatever an upstream sends, in
 * whatever chunks the network makes; nothing about that input is trusted.
 *
 * Input: byte 0 = options: bit 7 all_blocks; bit 6 a small max_event
 * (16 + 8 * (bits 0-5)), else the default. Byte 1 picks a split position
 * (byte1 * len / 256). The rest is the stream.
 *
 * DESIGN — invariants (abort on violation):
 *   1. The same blocks (type, data, id, retry, raw, in order) and the same
 *      counters whether the stream is fed whole, split in two at the derived
 *      position, or one byte at a time.
 *   2. Every delivered block is well formed: strings NUL-terminated at their
 *      lengths, raw_len <= max_event, raw ends with a line terminator, data
 *      is NULL only in all_blocks mode, the type is never empty (raw_len may
 *      be max_event + 1 only when that last byte is the LF of a CRLF).
 *   3. Spec mode dispatches exactly the all_blocks-mode blocks that have
 *      data.
 *   4. With no oversize block, the raw spans of all_blocks mode concatenate
 *      to a prefix of the stream, and what is left is the unterminated tail
 *      (counted) or the stream's BOM alone.
 *   5. With no oversize block, the events equal those of a plain, whole-input
 *      reference implementation of the spec's rules written from the text
 *      (no incremental state).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sse.h"

#define FUZZ_NAME "fuzz_sse"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct rec {
    struct buf log; /* serialised blocks: lengths and bytes */
    struct buf raws;
    size_t max_event;
    bool all;
    size_t n;
};

static void put(struct buf *b, const char *s, size_t n)
{
    buf_append(b, &n, sizeof n);
    buf_append(b, s, n);
}

static void on_block(void *arg, const struct sse_event *ev)
{
    struct rec *r = arg;
    FUZZ_ASSERT(ev->type && ev->type_len > 0 && ev->type[ev->type_len] == 0, "bad type");
    FUZZ_ASSERT(ev->id && ev->id[ev->id_len] == 0, "bad id");
    FUZZ_ASSERT(!memchr(ev->id, 0, ev->id_len), "an id with a NUL was kept");
    FUZZ_ASSERT(ev->data || r->all, "a block without data in spec mode");
    FUZZ_ASSERT(!ev->data || ev->data[ev->data_len] == 0, "data not terminated");
    FUZZ_ASSERT(ev->raw_len > 0 && (ev->raw_len <= r->max_event ||
                                    (ev->raw_len == r->max_event + 1 &&
                                     memcmp(ev->raw + ev->raw_len - 2, "\r\n", 2) == 0)),
                "raw_len %zu (max %zu)", ev->raw_len, r->max_event);
    char last = ev->raw[ev->raw_len - 1];
    FUZZ_ASSERT(last == '\n' || last == '\r', "raw does not end a line");
    FUZZ_ASSERT(!ev->data || ev->data_len < ev->raw_len, "data longer than raw");
    put(&r->log, ev->type, ev->type_len);
    buf_append(&r->log, ev->data ? "D" : "N", 1);
    if (ev->data)
        put(&r->log, ev->data, ev->data_len);
    put(&r->log, ev->id, ev->id_len);
    buf_append(&r->log, &ev->retry_ms, sizeof ev->retry_ms);
    put(&r->log, ev->raw, ev->raw_len);
    buf_append(&r->raws, ev->raw, ev->raw_len);
    r->n++;
}

/* Feeds data in pieces: split at `cut` (0 = whole), or byte by byte. */
static void run(const char *s, size_t n, size_t max_event, bool all, int mode, size_t cut,
                struct rec *r, struct sse_stats *st)
{
    memset(r, 0, sizeof *r);
    r->max_event = max_event ? max_event : SSE_MAX_EVENT_DEFAULT;
    r->all = all;
    struct sse_opts o = {.max_event = max_event, .all_blocks = all};
    struct sse *p = sse_create(&o, on_block, r);
    FUZZ_ASSERT(p, "sse_create failed");
    if (mode == 0) {
        sse_feed(p, s, n);
    } else if (mode == 1) {
        sse_feed(p, s, cut);
        sse_feed(p, s + cut, n - cut);
    } else {
        for (size_t i = 0; i < n; i++)
            sse_feed(p, s + i, 1);
    }
    sse_finish(p);
    sse_get_stats(p, st);
    sse_destroy(p);
    buf_append(&r->log, "", 0);
    buf_append(&r->raws, "", 0);
}

static bool same(const struct buf *a, const struct buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

/* The reference: the spec's algorithm over the whole input at once. Logs the
 * dispatched events as type, data, id (no raw: it has no notion of spans). */
static void reference(const char *s, size_t n, struct buf *log)
{
    size_t i = 0;
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    struct buf data = {0}, type = {0}, id = {0};
    while (i < n) {
        size_t e = i;
        while (e < n && s[e] != '\r' && s[e] != '\n')
            e++;
        if (e == n)
            break; /* an unterminated line: the stream ended inside it */
        const char *line = s + i;
        size_t len = e - i;
        i = e + 1;
        if (s[e] == '\r' && i < n && s[i] == '\n')
            i++;
        if (len == 0) {
            if (data.len) {
                put(log, type.len ? type.p : "message", type.len ? type.len : 7);
                put(log, data.p, data.len - 1);
                put(log, id.len ? id.p : "", id.len);
            }
            buf_reset(&data);
            buf_reset(&type);
            continue;
        }
        if (line[0] == ':')
            continue;
        size_t k = 0;
        while (k < len && line[k] != ':')
            k++;
        const char *v = line + len;
        size_t vlen = 0;
        if (k < len) {
            v = line + k + 1;
            vlen = len - k - 1;
            if (vlen && v[0] == ' ') {
                v++;
                vlen--;
            }
        }
        if (k == 4 && memcmp(line, "data", 4) == 0) {
            buf_append(&data, v, vlen);
            buf_append(&data, "\n", 1);
        } else if (k == 5 && memcmp(line, "event", 5) == 0) {
            buf_reset(&type);
            buf_append(&type, v, vlen);
        } else if (k == 2 && memcmp(line, "id", 2) == 0 && !memchr(v, 0, vlen)) {
            buf_reset(&id);
            buf_append(&id, v, vlen);
        }
    }
    buf_free(&data);
    buf_free(&type);
    buf_free(&id);
}

/* The spec-mode log reduced to type, data, id (the reference's view). */
static void reduce(const struct buf *log, struct buf *out)
{
    size_t off = 0, n;
    while (off < log->len) {
        const char *f[3];
        size_t fl[3];
        memcpy(&n, log->p + off, sizeof n); /* type */
        f[0] = log->p + off + sizeof n;
        fl[0] = n;
        off += sizeof n + n;
        char kind = log->p[off++];
        FUZZ_ASSERT(kind == 'D', "a data-less block in spec mode");
        memcpy(&n, log->p + off, sizeof n); /* data */
        f[1] = log->p + off + sizeof n;
        fl[1] = n;
        off += sizeof n + n;
        memcpy(&n, log->p + off, sizeof n); /* id */
        f[2] = log->p + off + sizeof n;
        fl[2] = n;
        off += sizeof n + n;
        off += sizeof(int64_t);             /* retry */
        memcpy(&n, log->p + off, sizeof n); /* raw */
        off += sizeof n + n;
        for (int k = 0; k < 3; k++)
            put(out, f[k], fl[k]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    bool all = data[0] & 0x80;
    size_t max_event = data[0] & 0x40 ? 16 + 8 * (size_t)(data[0] & 0x3f) : 0;
    const char *s = (const char *)data + 2;
    size_t n = size - 2;
    size_t cut = (size_t)data[1] * n / 256;

    struct rec whole, split, bytes;
    struct sse_stats st_w, st_s, st_b;
    run(s, n, max_event, all, 0, 0, &whole, &st_w);
    run(s, n, max_event, all, 1, cut, &split, &st_s);
    run(s, n, max_event, all, 2, 0, &bytes, &st_b);
    FUZZ_ASSERT(same(&whole.log, &split.log), "split at %zu differs from whole", cut);
    FUZZ_ASSERT(same(&whole.log, &bytes.log), "byte-at-a-time differs from whole");
    FUZZ_ASSERT(memcmp(&st_w, &st_s, sizeof st_w) == 0 && memcmp(&st_w, &st_b, sizeof st_w) == 0,
                "counters differ between splits");
    FUZZ_ASSERT(st_w.blocks == whole.n, "blocks counter %llu, %zu delivered",
                (unsigned long long)st_w.blocks, whole.n);
    FUZZ_ASSERT(st_w.unterminated <= 1, "unterminated counted %llu times",
                (unsigned long long)st_w.unterminated);

    /* spec mode vs all_blocks mode */
    struct rec other;
    struct sse_stats st_o;
    run(s, n, max_event, !all, 0, 0, &other, &st_o);
    struct rec *spec = all ? &other : &whole, *every = all ? &whole : &other;
    struct sse_stats *st_spec = all ? &st_o : &st_w, *st_all = all ? &st_w : &st_o;
    FUZZ_ASSERT(st_spec->events == st_all->events && st_spec->oversize == st_all->oversize &&
                    st_spec->unterminated == st_all->unterminated,
                "spec and all_blocks modes count differently");
    struct buf filtered = {0};
    {
        /* the all_blocks log with the data-less blocks removed */
        size_t off = 0, len;
        while (off < every->log.len) {
            size_t start = off;
            memcpy(&len, every->log.p + off, sizeof len);
            off += sizeof len + len;
            char kind = every->log.p[off++];
            if (kind == 'D') {
                memcpy(&len, every->log.p + off, sizeof len);
                off += sizeof len + len;
            }
            memcpy(&len, every->log.p + off, sizeof len);
            off += sizeof len + len + sizeof(int64_t);
            memcpy(&len, every->log.p + off, sizeof len);
            off += sizeof len + len;
            if (kind == 'D')
                buf_append(&filtered, every->log.p + start, off - start);
        }
        buf_append(&filtered, "", 0);
    }
    FUZZ_ASSERT(same(&filtered, &spec->log), "spec mode is not all_blocks minus data-less blocks");

    if (st_all->oversize == 0) {
        const struct buf *r = &every->raws;
        FUZZ_ASSERT(r->len <= n && (r->len == 0 || memcmp(r->p, s, r->len) == 0),
                    "all_blocks raw spans are not a prefix of the stream");
        size_t rest = n - r->len;
        bool bom_only = r->len == 0 && n <= 3 && memcmp(s, "\xEF\xBB\xBF", n) == 0;
        FUZZ_ASSERT(rest == 0 || st_all->unterminated == 1 || bom_only,
                    "%zu bytes left over but nothing unterminated", rest);

        struct buf want = {0}, got = {0};
        reference(s, n, &want);
        reduce(&spec->log, &got);
        buf_append(&want, "", 0);
        buf_append(&got, "", 0);
        FUZZ_ASSERT(same(&want, &got), "differs from the reference (%zu vs %zu bytes of log)",
                    got.len, want.len);
        buf_free(&want);
        buf_free(&got);
    }
    buf_free(&filtered);
    struct rec *all_recs[] = {&whole, &split, &bytes, &other};
    for (size_t i = 0; i < 4; i++) {
        buf_free(&all_recs[i]->log);
        buf_free(&all_recs[i]->raws);
    }
    return 0;
}
