/*
 * evrec.c — encode and decode the fixed header of an `events` record.
 *
 * DESIGN
 *   Pure functions over byte buffers: no allocation, no state, no threads.
 *   Every fixed-width field is written little-endian one byte at a time, so
 *   there are no unaligned loads and no dependence on host byte order.
 *   Invariant kept by evrec_parse(): every pointer and length in the parsed
 *   view lies inside the buffer given (it is safe on hostile input).
 */
#include "evrec.h"

#include <string.h>

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_le32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void put_f64(uint8_t *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    put_le64(p, u);
}

static double get_f64(const uint8_t *p)
{
    uint64_t u = get_le64(p);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

size_t evrec_head_size(const struct evrec *r)
{
    size_t n = EVREC_FIXED;
    for (int i = 0; i < EVREC_NSTR; i++)
        n += 2 + (size_t)r->str_len[i];
    return n;
}

size_t evrec_put_head(uint8_t *dst, const struct evrec *r)
{
    dst[0] = EVREC_VERSION;
    dst[1] = r->flags;
    put_le16(dst + 2, 0);
    put_le32(dst + 4, r->dict_id);
    put_le64(dst + 8, (uint64_t)r->time_us);
    put_f64(dst + 16, r->cost_usd);
    put_f64(dst + 24, r->latency_ms);
    put_le32(dst + 32, (uint32_t)r->status);
    put_le32(dst + 36, r->json_len);
    put_le64(dst + 40, (uint64_t)r->input_tokens);
    put_le64(dst + 48, (uint64_t)r->output_tokens);
    size_t off = EVREC_FIXED;
    for (int i = 0; i < EVREC_NSTR; i++) {
        put_le16(dst + off, r->str_len[i]);
        off += 2;
        if (r->str_len[i])
            memcpy(dst + off, r->str[i], r->str_len[i]);
        off += r->str_len[i];
    }
    return off;
}

int evrec_parse(const void *buf, size_t len, struct evrec *r)
{
    const uint8_t *p = buf;
    if (len < EVREC_FIXED || p[0] != EVREC_VERSION || (p[1] & ~EVREC_F_KNOWN))
        return -1;
    r->version = p[0];
    r->flags = p[1];
    r->dict_id = get_le32(p + 4);
    r->time_us = (int64_t)get_le64(p + 8);
    r->cost_usd = get_f64(p + 16);
    r->latency_ms = get_f64(p + 24);
    r->status = (int32_t)get_le32(p + 32);
    r->json_len = get_le32(p + 36);
    r->input_tokens = (int64_t)get_le64(p + 40);
    r->output_tokens = (int64_t)get_le64(p + 48);
    size_t off = EVREC_FIXED;
    for (int i = 0; i < EVREC_NSTR; i++) {
        if (len - off < 2)
            return -1;
        r->str_len[i] = get_le16(p + off);
        off += 2;
        if (len - off < r->str_len[i])
            return -1;
        r->str[i] = (const char *)p + off;
        off += r->str_len[i];
    }
    r->body = p + off;
    r->body_len = len - off;
    if (r->str_len[EVREC_ID] == 0)
        return -1;
    if (r->flags & EVREC_F_RAW) {
        if (r->body_len != r->json_len || r->dict_id != 0)
            return -1;
    } else if (r->body_len == 0) {
        return -1;
    }
    return 0;
}
