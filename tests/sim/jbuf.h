/*
 * jbuf.h — a growable byte buffer and a small streaming JSON writer, for
 * llmtap-sim.
 *
 * The simulator builds every event into one reused buffer (no allocation per
 * event once the buffer has grown to the largest event). Strings written with
 * jw_str()/jbuf_json_str() are escaped per RFC 8259: '"', '\\' and every
 * control character below 0x20 are escaped (\n \r \t \b \f, else \u00XX);
 * other bytes, including UTF-8 multibyte sequences, are copied as they are.
 * The caller guarantees the input is valid UTF-8 (all generator pools are).
 *
 * Allocation failure aborts the process: this is a test tool, and a failed
 * realloc of a few KB means the machine is in no state to run tests.
 */
#ifndef LLMTAP_SIM_JBUF_H
#define LLMTAP_SIM_JBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jbuf {
    char *data; /* NUL-terminated at data[len] whenever cap > 0 */
    size_t len;
    size_t cap;
};

/* Release the memory; the buffer is left empty and reusable. Accepts a zeroed buffer. */
void jbuf_free(struct jbuf *b);
static inline void jbuf_reset(struct jbuf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}
void jbuf_reserve(struct jbuf *b, size_t extra);
void jbuf_putc(struct jbuf *b, char c);
void jbuf_put(struct jbuf *b, const char *s, size_t n);
void jbuf_puts(struct jbuf *b, const char *s);
void jbuf_printf(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s[0..n) as a quoted, escaped JSON string. */
void jbuf_json_str(struct jbuf *b, const char *s, size_t n);
/* Remove the last byte if it is c. */
void jbuf_chop(struct jbuf *b, char c);

/*
 * Streaming JSON writer over a jbuf. It tracks nesting to place commas; keys
 * are given to every call inside an object and must be NULL inside an array
 * or at the top level. Nesting deeper than JW_MAX_DEPTH aborts.
 */
#define JW_MAX_DEPTH 16
struct jw {
    struct jbuf *b;
    int depth;
    bool first[JW_MAX_DEPTH];
};

void jw_init(struct jw *w, struct jbuf *b);
void jw_obj(struct jw *w, const char *key);
void jw_arr(struct jw *w, const char *key);
void jw_end_obj(struct jw *w);
void jw_end_arr(struct jw *w);
void jw_str(struct jw *w, const char *key, const char *s);
void jw_strn(struct jw *w, const char *key, const char *s, size_t n);
void jw_int(struct jw *w, const char *key, int64_t v);
void jw_bool(struct jw *w, const char *key, bool v);
void jw_null(struct jw *w, const char *key);
/* A number printed with at most `decimals` fraction digits, trailing zeros
 * trimmed, never in exponent form ("842.5", "0.0000846", "3"). */
void jw_num(struct jw *w, const char *key, double v, int decimals);
/* Start a value by hand (comma + key); the caller appends the raw value. */
void jw_raw_begin(struct jw *w, const char *key);

#endif
