/*
 * srules.c — the sample rules of the series store: the head record, the
 * baseline rule and the downsampling rule. What and why: srules.h; the
 * record's bytes: docs/storage.md ("series_heads").
 *
 * DESIGN
 *
 * Parsing trusts nothing: every varint and length is checked against the
 * record, open buckets must be strictly ascending and after the last
 * sealed sample, and the record must end exactly where its fields do; any
 * violation is SERIES_ECORRUPT. Writing is the exact inverse, so a parsed
 * record written back is byte-identical.
 */
#include "srules.h"

#include "series.h"

#include <stdlib.h>
#include <string.h>

#define HEAD_VERSION 1
#define HF_SEALED    1
#define HF_OPEN      2

int64_t srules_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t srules_ceil_div(int64_t a, int64_t b)
{
    return -srules_floor_div(-a, b);
}

static void put_le64d(uint8_t *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static double get_le64d(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

static size_t varint_put(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static int varint_get(const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned sh = 0; sh < 64; sh += 7) {
        if (*pos >= len)
            return SERIES_ECORRUPT;
        uint8_t b = p[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return SERIES_ECORRUPT;
}

/* ---- head records ------------------------------------------------------- */

void srules_head_free(struct srules_head *h)
{
    free(h->pend);
    h->pend = NULL;
    h->npend = 0;
}

int srules_head_parse(const uint8_t *p, size_t len, struct srules_head *h)
{
    const uint64_t tmax = (uint64_t)SRULES_T_MAX;
    size_t pos = 2;
    uint64_t a, b;
    memset(h, 0, sizeof *h);
    h->first_s = h->last_s = h->open_k = SRULES_NONE;
    if (len < 3 || p[0] != HEAD_VERSION || (p[1] & ~(HF_SEALED | HF_OPEN)))
        return SERIES_ECORRUPT;
    uint8_t fl = p[1];
    if (fl & HF_SEALED) {
        if (varint_get(p, len, &pos, &a) || varint_get(p, len, &pos, &b) || a > tmax || b > tmax ||
            len - pos < 8)
            return SERIES_ECORRUPT;
        h->first_s = (int64_t)a;
        h->last_s = (int64_t)(a + b);
        h->last_v = get_le64d(p + pos);
        pos += 8;
    }
    if (varint_get(p, len, &pos, &a) || a > len / 9)
        return SERIES_ECORRUPT;
    h->npend = (uint32_t)a;
    if (h->npend && !(h->pend = malloc(h->npend * sizeof *h->pend)))
        return SERIES_ENOMEM;
    int64_t prev = SRULES_NONE;
    for (uint32_t i = 0; i < h->npend; i++) {
        if (varint_get(p, len, &pos, &a) || len - pos < 8 || a > tmax)
            goto corrupt;
        int64_t bk = prev == SRULES_NONE ? (int64_t)a : prev + (int64_t)a;
        if ((prev != SRULES_NONE && a == 0) || bk > SRULES_T_MAX ||
            (h->last_s != SRULES_NONE && bk + 1 <= h->last_s))
            goto corrupt;
        h->pend[i].b = prev = bk;
        h->pend[i].d = get_le64d(p + pos);
        pos += 8;
    }
    if (fl & HF_OPEN) {
        if (varint_get(p, len, &pos, &a) || varint_get(p, len, &pos, &b) || a > tmax || b == 0 ||
            b > len - pos)
            goto corrupt;
        h->open_k = (int64_t)a;
        h->open_p = p + pos;
        h->open_len = (size_t)b;
        pos += (size_t)b;
    }
    if (pos != len)
        goto corrupt;
    return 0;
corrupt:
    srules_head_free(h);
    return SERIES_ECORRUPT;
}

size_t srules_head_size(uint32_t npend, const struct sblock_enc *open)
{
    return 2 + 28 + 10 + (size_t)npend * 18 + 20 + (open ? sblock_enc_size(open) : 0);
}

size_t srules_head_write(uint8_t *out, const struct srules_head *h, const struct sblock_enc *open)
{
    size_t pos = 2, enc = open ? sblock_enc_size(open) : 0;
    out[0] = HEAD_VERSION;
    out[1] = 0;
    if (h->last_s != SRULES_NONE) {
        out[1] |= HF_SEALED;
        pos += varint_put(out + pos, (uint64_t)h->first_s);
        pos += varint_put(out + pos, (uint64_t)(h->last_s - h->first_s));
        put_le64d(out + pos, h->last_v);
        pos += 8;
    }
    pos += varint_put(out + pos, h->npend);
    for (uint32_t i = 0; i < h->npend; i++) {
        pos +=
            varint_put(out + pos, (uint64_t)(i ? h->pend[i].b - h->pend[i - 1].b : h->pend[i].b));
        put_le64d(out + pos, h->pend[i].d);
        pos += 8;
    }
    if (h->open_k != SRULES_NONE && enc) {
        out[1] |= HF_OPEN;
        pos += varint_put(out + pos, (uint64_t)h->open_k);
        pos += varint_put(out + pos, enc);
        sblock_enc_write(open, out + pos);
        pos += enc;
    }
    return pos;
}

void srules_head_bounds(const struct srules_head *h, int64_t *first, int64_t *last)
{
    *first = h->first_s != SRULES_NONE ? h->first_s : h->npend ? h->pend[0].b : SRULES_NONE;
    *last = h->npend ? h->pend[h->npend - 1].b + 1 : h->last_s;
}

/* ---- the baseline rule -------------------------------------------------- */

int srules_walk(int64_t N, const struct srules_pend *p, uint32_t n, int64_t lim, int64_t *last_s,
                double *last_v, srules_emit_fn fn, void *ud, uint32_t *used)
{
    uint32_t i = 0;
    int rc = 0;
    for (; i < n && p[i].b < lim; i++) {
        int64_t b = p[i].b, k = b / N;
        if (*last_s != b && (rc = fn(ud, k, b, *last_v)) != 0)
            break;
        double v = *last_v + p[i].d;
        if ((rc = fn(ud, k, b + 1, v)) != 0)
            break;
        *last_v = v;
        *last_s = b + 1;
    }
    if (used)
        *used = i;
    return rc;
}

/* ---- the downsampling rule ---------------------------------------------- */

void srules_ds_init(struct srules_ds *m, int64_t DS, int64_t last_g,
                    int (*emit)(void *ud, int64_t g, double v), void *ud)
{
    memset(m, 0, sizeof *m);
    m->DS = DS;
    m->last_g = last_g;
    m->emit = emit;
    m->ud = ud;
}

int srules_ds_finish(struct srules_ds *m)
{
    int rc;
    if (!m->have)
        return 0;
    m->have = 0;
    int64_t g = m->cur_g;
    if (m->last_g == g) /* the previous ds span already ends with this point */
        return 0;
    if (m->last_g != g - 1 && (g - 1) * m->DS >= m->cur_day &&
        (rc = m->emit(m->ud, g - 1, m->first_v)) != 0)
        return rc;
    m->last_g = g;
    return m->emit(m->ud, g, m->last_v);
}

int srules_ds_push(struct srules_ds *m, int64_t t, double v, int64_t day)
{
    int64_t g = srules_ceil_div(t, m->DS);
    if (m->have && g == m->cur_g) {
        m->last_v = v;
        return 0;
    }
    int rc = srules_ds_finish(m);
    m->have = 1;
    m->cur_g = g;
    m->cur_day = day;
    m->first_v = m->last_v = v;
    return rc;
}
