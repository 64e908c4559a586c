/*
 * sse.h — an incremental Server-Sent Events parser (WHATWG HTML, "Server-sent
 * events", the event stream interpretation rules).
 *
 * What it is for: the proxy tees an upstream's text/event-stream response
 * into a capture (capture.c), and may forward or drop it event by event (the
 * usage chunk it asked for itself). Bytes arrive in chunks split anywhere —
 * inside a field, inside a UTF-8 sequence, between the CR and the LF of one
 * line ending; the parser calls back once per complete event with the
 * event's type, data and id and the raw bytes of the whole event.
 *
 * Rules (the spec's, plus a size cap):
 * - Lines end in LF, CRLF or CR. A blank line ends a block (an "event").
 * - `event:` sets the type, `data:` lines are joined with LF, `id:` sets the
 *   last event id (it persists across events, as the spec says; a value with
 *   a NUL is ignored), `retry:` with only ASCII digits sets retry_ms. One
 *   space after the colon is removed; a line with no colon is a field name
 *   with an empty value; a line starting with ':' is a comment; other field
 *   names are ignored.
 * - A block with no data field is not dispatched (comments, keep-alives,
 *   stray blank lines) unless sse_opts.all_blocks asks for every block.
 * - A UTF-8 BOM at the very start of the stream is skipped (its bytes belong
 *   to the first block's raw span).
 * - A block longer than max_event bytes (counted from its first byte through
 *   the current one; the LF of the CRLF that ends it is not counted, so a
 *   raw span may be max_event + 1 bytes) is discarded and counted
 *   (sse_stats.oversize); the
 *   parser skips to the next blank line and goes on from there. Its bytes
 *   are not delivered in any mode.
 * - At the end of the stream (sse_finish) an unterminated block is not
 *   dispatched, per spec, but counted (sse_stats.unterminated).
 * - A blank line that ends in a lone CR is dispatched when the next byte
 *   arrives (to see whether it is the LF of a CRLF, which belongs to the
 *   event's raw span) or at sse_finish. Every result is therefore the same
 *   however the input is split.
 *
 * Memory: one parser owns three growable buffers (the pending block's raw
 * bytes, its data, its type) and the id; they are reused from block to
 * block, so the steady state allocates nothing. Each is bounded by
 * max_event.
 *
 * Threads: a parser belongs to one stream; no locking. The callback must not
 * call sse_feed or sse_finish on the parser that called it.
 */
#ifndef LLMTAP_AGENT_SSE_H
#define LLMTAP_AGENT_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SSE_MAX_EVENT_DEFAULT (1024 * 1024)

/* One block as delivered to the callback. Every pointer is valid only
 * during the callback; every string is also NUL-terminated at its length
 * (data may itself contain NUL bytes: use the lengths). */
struct sse_event {
    const char *type; /* the `event` field; "message" when the block had none */
    size_t type_len;
    const char *data; /* data lines joined with LF; NULL only for a block without a data
                         field (delivered in all_blocks mode only) */
    size_t data_len;
    const char *id; /* the last event id so far ("" when none) */
    size_t id_len;
    int64_t retry_ms; /* the block's valid `retry` field, else -1 */
    const char *raw;  /* the block's bytes as received, through its terminating blank line */
    size_t raw_len;
};

typedef void (*sse_event_fn)(void *arg, const struct sse_event *ev);

struct sse_opts {
    size_t max_event; /* bytes of one pending block; 0 = SSE_MAX_EVENT_DEFAULT, at least 16 */
    bool all_blocks;  /* also deliver the blocks the spec does not dispatch (data == NULL), so
                         that, with no oversize block, the raw spans delivered concatenate to
                         the stream up to its unterminated tail */
};

struct sse_stats {
    uint64_t events;       /* blocks dispatched with data */
    uint64_t blocks;       /* blocks delivered (events, plus data-less ones in all_blocks mode) */
    uint64_t oversize;     /* blocks discarded for exceeding max_event */
    uint64_t unterminated; /* streams that ended inside a block (counted by sse_finish) */
};

struct sse;

/* A parser calling fn(arg, event) per event. o may be NULL (defaults).
 * NULL on allocation failure. */
struct sse *sse_create(const struct sse_opts *o, sse_event_fn fn, void *arg);
void sse_destroy(struct sse *p); /* accepts NULL */

/* Parses len bytes of the stream (any split), calling back for each event
 * completed by them. If a buffer cannot grow (out of memory), the pending
 * block is dropped as if oversize. */
void sse_feed(struct sse *p, const void *data, size_t len);

/* End of the stream: dispatches a block whose blank line ended in a pending
 * CR, counts (and drops) an unterminated block, then resets the parser —
 * last event id included — for a new stream. Counters are kept. */
void sse_finish(struct sse *p);

void sse_get_stats(const struct sse *p, struct sse_stats *out);

#endif
