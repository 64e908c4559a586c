/*
 * json_print.c — compact JSON text of a cJSON tree (see json_print.h).
 *
 * DESIGN
 * - A recursive walk over the tree appending to a struct buf. The depth is
 *   that of the tree, which the caller built (events: a handful of levels;
 *   parsed input is depth-limited before it gets here).
 * - Strings are copied in runs: bytes that need no escape are appended in
 *   one buf_append per run, so a long prompt costs one scan and one copy.
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

static void put_string(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    buf_append(b, "\"", 1);
    if (s) {
        const char *run = s;
        for (const char *p = s; *p; p++) {
            unsigned char c = (unsigned char)*p;
            if (c >= 0x20 && c != '"' && c != '\\')
                continue;
            buf_append(b, run, (size_t)(p - run));
            run = p + 1;
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
        buf_append(b, run, strlen(run));
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
    default:
        return false; /* cJSON_Invalid */
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
