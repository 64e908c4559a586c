/*
 * jbuf.c — growable buffer and streaming JSON writer for llmtap-sim.
 *
 * DESIGN: the buffer doubles on growth and is never shrunk, so a generator
 * loop reaches a steady state with no allocation. The JSON writer keeps one
 * "first element" flag per nesting level; that is all the state it needs to
 * emit commas, since the generator writes members in a fixed order.
 */
#include "jbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void jbuf_oom(void)
{
    fputs("llmtap-sim: out of memory\n", stderr);
    abort();
}

void jbuf_free(struct jbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void jbuf_reserve(struct jbuf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        jbuf_oom();
    b->data = p;
    b->cap = cap;
}

void jbuf_put(struct jbuf *b, const char *s, size_t n)
{
    jbuf_reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void jbuf_putc(struct jbuf *b, char c)
{
    jbuf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void jbuf_puts(struct jbuf *b, const char *s)
{
    jbuf_put(b, s, strlen(s));
}

void jbuf_printf(struct jbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        jbuf_put(b, small, (size_t)n);
        return;
    }
    jbuf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void jbuf_chop(struct jbuf *b, char c)
{
    if (b->len > 0 && b->data[b->len - 1] == c)
        b->data[--b->len] = '\0';
}

void jbuf_json_str(struct jbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    jbuf_reserve(b, n + 2);
    jbuf_putc(b, '"');
    size_t run = 0; /* start of the pending run of bytes that need no escape */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        jbuf_put(b, s + run, i - run);
        run = i + 1;
        char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
        size_t elen = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        jbuf_put(b, esc, elen);
    }
    jbuf_put(b, s + run, n - run);
    jbuf_putc(b, '"');
}

void jw_init(struct jw *w, struct jbuf *b)
{
    w->b = b;
    w->depth = 0;
    w->first[0] = true;
}

void jw_raw_begin(struct jw *w, const char *key)
{
    if (!w->first[w->depth])
        jbuf_putc(w->b, ',');
    w->first[w->depth] = false;
    if (key) {
        jbuf_json_str(w->b, key, strlen(key));
        jbuf_putc(w->b, ':');
    }
}

static void jw_open(struct jw *w, const char *key, char c)
{
    jw_raw_begin(w, key);
    jbuf_putc(w->b, c);
    if (++w->depth >= JW_MAX_DEPTH) {
        fputs("llmtap-sim: JSON nesting too deep\n", stderr);
        abort();
    }
    w->first[w->depth] = true;
}

void jw_obj(struct jw *w, const char *key)
{
    jw_open(w, key, '{');
}
void jw_arr(struct jw *w, const char *key)
{
    jw_open(w, key, '[');
}

void jw_end_obj(struct jw *w)
{
    w->depth--;
    jbuf_putc(w->b, '}');
}

void jw_end_arr(struct jw *w)
{
    w->depth--;
    jbuf_putc(w->b, ']');
}

void jw_strn(struct jw *w, const char *key, const char *s, size_t n)
{
    jw_raw_begin(w, key);
    jbuf_json_str(w->b, s, n);
}

void jw_str(struct jw *w, const char *key, const char *s)
{
    jw_strn(w, key, s, strlen(s));
}

void jw_int(struct jw *w, const char *key, int64_t v)
{
    jw_raw_begin(w, key);
    jbuf_printf(w->b, "%lld", (long long)v);
}

void jw_bool(struct jw *w, const char *key, bool v)
{
    jw_raw_begin(w, key);
    jbuf_puts(w->b, v ? "true" : "false");
}

void jw_null(struct jw *w, const char *key)
{
    jw_raw_begin(w, key);
    jbuf_puts(w->b, "null");
}

void jw_num(struct jw *w, const char *key, double v, int decimals)
{
    jw_raw_begin(w, key);
    if (!isfinite(v))
        v = 0;
    char tmp[64];
    int n = snprintf(tmp, sizeof tmp, "%.*f", decimals, v);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        jbuf_puts(w->b, "0");
        return;
    }
    if (memchr(tmp, '.', (size_t)n)) {
        while (n > 0 && tmp[n - 1] == '0')
            n--;
        if (n > 0 && tmp[n - 1] == '.')
            n--;
    }
    tmp[n] = '\0';
    if (strcmp(tmp, "-0") == 0)
        strcpy(tmp, "0");
    jbuf_puts(w->b, tmp);
}
