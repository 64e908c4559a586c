/*
 * json_print.c — compact JSON text of a cJSON tree (see json_print.h).
 *
 * DESIGN
 * - A recursive walk over the tree appending to a struct buf. The depth is
 *   that of the tree, which the caller built (events: a handful of levels;
 *   parsed input is depth-limited before it gets here).
 * - Strings are copied in runs: bytes that need no escape are appended in
 *   one buf_append per run, so a long prompt costs one scan and one copy;
 *   the scan looks at 16 bytes a step (SSE2) within the string's length.
 * - Numbers follow cJSON 1.7.15's print_number exactly (so the text is the
 *   one cJSON would have written): NaN or infinite → null; else "%1.15g",
 *   re-read, and "%1.17g" when the value read back differs by more than
 *   cJSON's tolerance. An integral value below 1e15 (token counts, status
 *   codes: most numbers of an event) is written by a digit loop, which gives
 *   the same text as "%1.15g" without sprintf.
 */
#include "json_print.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static void put_int(struct buf *b, int64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    uint64_t u = v < 0 ? 0u - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--i] = '-';
    buf_append(b, tmp + i, sizeof tmp - i);
}

/* cJSON's compare_double. */
static bool same_double(double a, double b)
{
    double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return fabs(a - b) <= m * DBL_EPSILON;
}

static void put_number(struct buf *b, const cJSON *v)
{
    double d = v->valuedouble;
    if (isnan(d) || isinf(d)) {
        buf_append(b, "null", 4);
        return;
    }
    /* An integral value below 1e15 has at most 15 digits: "%1.15g" writes
     * it in plain decimal, which the digit loop does too ("-0" for -0.0). */
    if (fabs(d) < 1e15 && d == floor(d)) {
        if (d == 0 && signbit(d))
            buf_append(b, "-0", 2);
        else
            put_int(b, (int64_t)d);
        return;
    }
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%1.15g", d);
    if (n < 0 || (size_t)n >= sizeof tmp || !same_double(strtod(tmp, NULL), d))
        n = snprintf(tmp, sizeof tmp, "%1.17g", d);
    if (n > 0 && (size_t)n < sizeof tmp)
        buf_append(b, tmp, (size_t)n);
}

/* Index of the first byte of s[0, n) that needs an escape ('"', '\\' or
 * a control character below 0x20), or n. Sixteen bytes a step with SSE2
 * (every x86-64 CPU has it) inside the string's known length, so it never
 * reads past the NUL; a byte at a time elsewhere and for the tail. */
static size_t clean_run(const unsigned char *s, size_t n)
{
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                  ctl = _mm_set1_epi8(0x1F);
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i hit =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                         _mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl)); /* v <= 0x1F */
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m)
            return i + (size_t)__builtin_ctz(m);
    }
#endif
    for (; i < n; i++)
        if (s[i] < 0x20 || s[i] == '"' || s[i] == '\\')
            return i;
    return n;
}

static void put_string(struct buf *b, const char *str)
{
    static const char hex[] = "0123456789abcdef";
    buf_append(b, "\"", 1);
    if (str) {
        const unsigned char *s = (const unsigned char *)str;
        size_t n = strlen(str), i = 0;
        for (;;) {
            size_t k = clean_run(s + i, n - i);
            buf_append(b, s + i, k);
            i += k;
            if (i == n)
                break;
            unsigned char c = s[i++];
            char e[6] = {'\\', 0};
            size_t el = 2;
            switch (c) {
            case '"': e[1] = '"'; break;
            case '\\': e[1] = '\\'; break;
            case '\b': e[1] = 'b'; break;
            case '\f': e[1] = 'f'; break;
            case '\n': e[1] = 'n'; break;
            case '\r': e[1] = 'r'; break;
            case '\t': e[1] = 't'; break;
            default:
                e[1] = 'u', e[2] = '0', e[3] = '0', e[4] = hex[c >> 4], e[5] = hex[c & 15];
                el = 6;
            }
            buf_append(b, e, el);
        }
    }
    buf_append(b, "\"", 1);
}

static bool put_value(struct buf *b, const cJSON *v)
{
    switch (v->type & 0xFF) {
    case cJSON_NULL: buf_append(b, "null", 4); return true;
    case cJSON_False: buf_append(b, "false", 5); return true;
    case cJSON_True: buf_append(b, "true", 4); return true;
    case cJSON_Number: put_number(b, v); return true;
    case cJSON_String: put_string(b, v->valuestring); return true;
    case cJSON_Raw:
        if (!v->valuestring)
            return false; /* cJSON fails here too */
        buf_append(b, v->valuestring, strlen(v->valuestring));
        return true;
    case cJSON_Array:
        buf_append(b, "[", 1);
        for (const cJSON *c = v->child; c; c = c->next) {
            if (!put_value(b, c))
                return false;
            if (c->next)
                buf_append(b, ",", 1);
        }
        buf_append(b, "]", 1);
        return true;
    case cJSON_Object:
        buf_append(b, "{", 1);
        for (const cJSON *c = v->child; c; c = c->next) {
            put_string(b, c->string);
            buf_append(b, ":", 1);
            if (!put_value(b, c))
                return false;
            if (c->next)
                buf_append(b, ",", 1);
        }
        buf_append(b, "}", 1);
        return true;
    default: return false; /* cJSON_Invalid */
    }
}

bool json_print(struct buf *b, const cJSON *v)
{
    if (!v || !put_value(b, v))
        return false;
    buf_append(b, "", 1); /* the NUL, not counted */
    if (b->oom)
        return false;
    b->len--;
    return true;
}
