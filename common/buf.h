/*
 * buf.h — a growable byte buffer for building responses and messages.
 *
 * On allocation failure the buffer is marked failed (b->oom) and further
 * appends do nothing, so callers check once at the end instead of after
 * every append. The content is always NUL-terminated when non-empty.
 */
#ifndef LLMTAP_BUF_H
#define LLMTAP_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
    char *p;
    size_t len, cap;
    bool oom;
};

void buf_append(struct buf *b, const void *data, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal (with quotes), escaping as RFC 8259
 * requires; bytes that are not valid UTF-8 become U+FFFD, so the output is
 * always valid JSON text. */
void buf_json_str(struct buf *b, const char *s);
/* Appends d as a JSON number that parses back to the identical double
 * (integers exactly; else the shortest of %.15g/%.16g/%.17g that
 * round-trips — cJSON's own printer accepts a 1-ulp difference). Non-finite
 * values, which JSON cannot carry, are written as null. */
void buf_json_number(struct buf *b, double d);
/* Makes room for at least n more bytes at once (so a large answer whose
 * size is known roughly is not grown by doubling and copying). Returns
 * false, with b->oom set, when memory ran out. */
bool buf_reserve(struct buf *b, size_t n);
/* Hands the memory to the caller (who frees it) and resets the buffer. */
char *buf_steal(struct buf *b, size_t *len);
void buf_reset(struct buf *b); /* keeps capacity */
void buf_free(struct buf *b);

#endif
