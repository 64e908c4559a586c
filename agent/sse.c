/*
 * sse.c — incremental Server-Sent Events parser (see sse.h for the rules).
 *
 * DESIGN
 * - State between feeds: the pending block's raw bytes (`raw`), the offset
 *   in it where the current line starts (`line_off`) and the current line's
 *   length (`line_len`, kept also while discarding, when `raw` is not); the
 *   block's data and type so far; the last event id (persists); `cr` (the
 *   previous byte was a CR ending a line, so an LF now completes that line
 *   ending) and `pending` (that CR ended a blank line: the block is
 *   dispatched once the next byte shows whether an LF belongs to it).
 * - A line is interpreted when its terminator arrives: its content is
 *   raw[line_off, raw.len - 1). Runs of ordinary bytes are appended in bulk.
 * - The BOM: the first bytes of the stream are compared with EF BB BF as
 *   they arrive and held in `bom` until they match (then they become raw
 *   bytes before the first line) or do not (then they are replayed as
 *   ordinary input).
 * - Oversize: when appending would take the raw block past max_event, the
 *   block is dropped and `discarding` set; bytes are then only scanned for
 *   the blank line that ends the block. An append that fails for lack of
 *   memory does the same.
 * - Invariants: raw.len <= max_event (+ 1: the LF of a block's final CRLF,
 *   which cannot make a complete block oversize); data.len, type.len, id.len <=
 *   raw.len of the block that set them; every buffer is NUL-terminated.
 */
#include "sse.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

struct sse {
    struct sse_opts o;
    sse_event_fn fn;
    void *arg;

    struct buf raw, data, type, id;
    size_t line_off, line_len;
    size_t raw_bom;   /* 3 when raw starts with the stream's BOM */
    int64_t retry_ms; /* of the pending block; -1 none */
    bool cr, pending, discarding;
    unsigned char bom[3];
    unsigned bom_len; /* BOM bytes held so far */
    bool bom_done;    /* past the stream's start */
    struct sse_stats st;
};

static const unsigned char BOM[3] = {0xEF, 0xBB, 0xBF};

struct sse *sse_create(const struct sse_opts *o, sse_event_fn fn, void *arg)
{
    struct sse *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (o)
        p->o = *o;
    if (p->o.max_event == 0)
        p->o.max_event = SSE_MAX_EVENT_DEFAULT;
    if (p->o.max_event < 16)
        p->o.max_event = 16;
    p->fn = fn;
    p->arg = arg;
    p->retry_ms = -1;
    return p;
}

void sse_destroy(struct sse *p)
{
    if (!p)
        return;
    buf_free(&p->raw);
    buf_free(&p->data);
    buf_free(&p->type);
    buf_free(&p->id);
    free(p);
}

/* Forgets the pending block (not the last event id). */
static void block_reset(struct sse *p)
{
    buf_reset(&p->raw);
    buf_reset(&p->data);
    buf_reset(&p->type);
    p->line_off = 0;
    p->line_len = 0;
    p->raw_bom = 0;
    p->retry_ms = -1;
}

static void start_discarding(struct sse *p)
{
    p->st.oversize++;
    block_reset(p);
    p->discarding = true;
}

/* Appends bytes of the pending block to raw, or starts discarding it when
 * they do not fit (max_event or memory). */
static void keep(struct sse *p, const char *s, size_t n)
{
    if (p->discarding)
        return;
    if (n > p->o.max_event - p->raw.len) {
        start_discarding(p);
        return;
    }
    buf_append(&p->raw, s, n);
    if (p->raw.oom) {
        p->raw.oom = false;
        start_discarding(p);
    }
}

static void dispatch(struct sse *p)
{
    p->pending = false;
    bool has_data = p->data.len > 0;
    if (has_data || p->o.all_blocks) {
        struct sse_event ev = {
            .type = p->type.len ? p->type.p : "message",
            .type_len = p->type.len ? p->type.len : 7,
            .data = NULL,
            .data_len = 0,
            .id = p->id.len ? p->id.p : "",
            .id_len = p->id.len,
            .retry_ms = p->retry_ms,
            .raw = p->raw.len ? p->raw.p : "",
            .raw_len = p->raw.len,
        };
        if (has_data) {
            p->data.len--; /* the LF after the last data line */
            p->data.p[p->data.len] = 0;
            ev.data = p->data.p;
            ev.data_len = p->data.len;
            p->st.events++;
        }
        p->st.blocks++;
        if (p->fn)
            p->fn(p->arg, &ev);
    }
    block_reset(p);
}

static bool name_is(const char *s, size_t n, const char *name)
{
    return strlen(name) == n && memcmp(s, name, n) == 0;
}

/* Interprets one complete, non-blank line of the pending block. */
static void field(struct sse *p, const char *s, size_t n)
{
    if (s[0] == ':')
        return; /* comment */
    const char *colon = memchr(s, ':', n);
    size_t name_len = colon ? (size_t)(colon - s) : n;
    const char *v = colon ? colon + 1 : s + n;
    size_t vlen = (size_t)(s + n - v);
    if (vlen && *v == ' ') {
        v++;
        vlen--;
    }
    if (name_is(s, name_len, "data")) {
        buf_append(&p->data, v, vlen);
        buf_append(&p->data, "\n", 1);
    } else if (name_is(s, name_len, "event")) {
        buf_reset(&p->type);
        buf_append(&p->type, v, vlen);
    } else if (name_is(s, name_len, "id")) {
        if (!memchr(v, 0, vlen)) {
            buf_reset(&p->id);
            buf_append(&p->id, v, vlen);
        }
    } else if (name_is(s, name_len, "retry")) {
        int64_t r = 0;
        size_t i = 0;
        for (; i < vlen && v[i] >= '0' && v[i] <= '9'; i++)
            r = r > (INT64_MAX - 9) / 10 ? INT64_MAX : r * 10 + (v[i] - '0');
        if (vlen > 0 && i == vlen)
            p->retry_ms = r;
    }
    if (p->data.oom || p->type.oom || p->id.oom) {
        p->data.oom = p->type.oom = false;
        if (p->id.oom)
            buf_reset(&p->id);
        start_discarding(p);
    }
}

/* The current line's terminator (t, already kept in raw) has arrived. */
static void end_line(struct sse *p, char t)
{
    size_t len = p->line_len;
    p->line_len = 0;
    if (len == 0) {
        if (p->discarding) {
            p->discarding = false;
            block_reset(p);
        } else if (t == '\r') {
            p->pending = true; /* dispatched when the next byte (an LF?) is seen */
        } else {
            dispatch(p);
        }
        return;
    }
    if (!p->discarding)
        field(p, p->raw.p + p->line_off, len);
    if (!p->discarding)
        p->line_off = p->raw.len;
}

static void process(struct sse *p, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (p->cr) {
            p->cr = false;
            if (s[i] == '\n') { /* the LF of a CRLF: part of the line ending already seen */
                if (p->pending) /* the block is complete: its last LF may pass max_event */
                    buf_append(&p->raw, s + i, 1);
                else
                    keep(p, s + i, 1);
                i++;
                if (!p->discarding)
                    p->line_off = p->raw.len;
                if (p->pending)
                    dispatch(p);
                continue;
            }
        }
        if (p->pending)
            dispatch(p);
        size_t j = i;
        while (j < n && s[j] != '\n' && s[j] != '\r')
            j++;
        if (j > i) {
            keep(p, s + i, j - i);
            p->line_len += j - i;
            i = j;
        }
        if (i == n)
            break;
        char t = s[i];
        keep(p, s + i, 1);
        i++;
        end_line(p, t);
        if (t == '\r')
            p->cr = true;
    }
}

void sse_feed(struct sse *p, const void *data, size_t len)
{
    const char *s = data;
    while (!p->bom_done && len > 0) {
        if ((unsigned char)*s == BOM[p->bom_len]) {
            p->bom[p->bom_len++] = (unsigned char)*s;
            s++;
            len--;
            if (p->bom_len == 3) {
                p->bom_done = true;
                keep(p, (const char *)BOM, 3);
                p->line_off = p->raw.len;
                p->raw_bom = p->raw.len;
            }
        } else {
            p->bom_done = true;
            process(p, (const char *)p->bom, p->bom_len);
        }
    }
    if (len)
        process(p, s, len);
}

void sse_finish(struct sse *p)
{
    if (!p->bom_done) {
        p->bom_done = true;
        process(p, (const char *)p->bom, p->bom_len);
    }
    p->cr = false;
    if (p->pending)
        dispatch(p);
    if (!p->discarding && (p->raw.len > p->raw_bom || p->line_len > 0))
        p->st.unterminated++;
    block_reset(p);
    buf_reset(&p->id);
    p->discarding = false;
    p->bom_done = false;
    p->bom_len = 0;
}

void sse_get_stats(const struct sse *p, struct sse_stats *out)
{
    *out = p->st;
}
