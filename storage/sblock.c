/*
 * sblock.c — the sample block codec of the series store. Format and design:
 * sblock.h and docs/storage.md ("Series blocks").
 *
 * DESIGN
 *
 * Bits are written most significant first into a zeroed, growing buffer;
 * every append reserves room for its worst case (113 bits) before it writes
 * anything, so a failed allocation leaves the encoder as it was. The
 * INT -> FLOAT conversion builds a new encoder and swaps it in only when it
 * is complete, for the same reason.
 *
 * sblock_dec_bulk decodes the common codes (same step; INT unchanged or a
 * delta; FLOAT unchanged or in the last window) inline from 64-bit loads,
 * with no bounds check while 16 bytes remain (a sample's codes there take
 * at most 65 bits) and from a zero-padded copy of the last 16 bytes, and
 * leaves every other code to sblock_dec_next, so both decode the same
 * samples and find the same damage. Runs of INT samples take a loop of
 * their own (int_run) with the decoder's state in locals.
 *
 * Why these codes: series.c stores a sample only for a bucket in which the
 * series changed (plus a "baseline" before each run of changes), on a fixed
 * grid. Offsets therefore advance by small, often equal, steps: delta of
 * delta with a 1-bit "same step" code. Counter values are usually integers
 * (requests, tokens, histogram buckets) whose increments have a similar
 * magnitude from one sample to the next: the increment's bit length is
 * sent only when it changes. Sums of seconds or dollars are not integers:
 * Gorilla's XOR code, which is lossless for any binary64.
 */
#include "sblock.h"

#include <stdlib.h>
#include <string.h>

#define INT_LIMIT       9007199254740992.0 /* 2^53: every integer up to it is exact */
#define INT_MAX_ABS     ((int64_t)1 << 53)
#define APPEND_MAX_BITS 128 /* worst case of one sample, rounded up */

/* ---- small helpers ------------------------------------------------------ */

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0);
}

static int64_t unzigzag(uint64_t z)
{
    return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

static unsigned bitlen(uint64_t z) /* z != 0 */
{
    return 64u - (unsigned)__builtin_clzll(z);
}

static uint64_t dbits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static double bitsd(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

/* An integer stored exactly as int64 and back (not -0.0, not NaN). */
static int is_int(double v)
{
    if (!(v >= -INT_LIMIT && v <= INT_LIMIT))
        return 0;
    double r = (double)(int64_t)v;
    return dbits(r) == dbits(v);
}

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
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

/* Reads a varint at p[*pos] (at most 10 bytes, within len). */
static int varint_get(const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return SBLOCK_ECORRUPT;
        uint8_t b = p[(*pos)++];
        if (shift == 63 && b > 1)
            return SBLOCK_ECORRUPT;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return SBLOCK_ECORRUPT;
}

/* ---- encoder ------------------------------------------------------------ */

static int bw_reserve(struct sblock_enc *e, unsigned nbits)
{
    size_t need = (size_t)((e->nbits + nbits + 7) / 8);
    if (need <= e->cap)
        return 0;
    size_t cap = e->cap ? e->cap : 32;
    while (cap < need)
        cap *= 2;
    uint8_t *b = realloc(e->bits, cap);
    if (!b)
        return SBLOCK_ENOMEM;
    memset(b + e->cap, 0, cap - e->cap);
    e->bits = b;
    e->cap = cap;
    return 0;
}

/* Appends the low n bits of v (n <= 64), most significant first. */
static void bw_put(struct sblock_enc *e, uint64_t v, unsigned n)
{
    while (n) {
        unsigned off = (unsigned)(e->nbits & 7), room = 8 - off;
        unsigned take = n < room ? n : room;
        unsigned chunk = (unsigned)(v >> (n - take)) & ((1u << take) - 1);
        e->bits[e->nbits >> 3] |= (uint8_t)(chunk << (room - take));
        e->nbits += take;
        n -= take;
    }
}

static void put_dod(struct sblock_enc *e, int64_t dod)
{
    if (dod == 0) {
        bw_put(e, 0, 1);
        return;
    }
    uint64_t z = zigzag(dod) - 1;
    if (z < 8) {
        bw_put(e, 2, 2);
        bw_put(e, z, 3);
    } else if (z < 128) {
        bw_put(e, 6, 3);
        bw_put(e, z, 7);
    } else if (z < 4096) {
        bw_put(e, 14, 4);
        bw_put(e, z, 12);
    } else {
        bw_put(e, 15, 4);
        bw_put(e, z, 32);
    }
}

static void put_int(struct sblock_enc *e, int64_t delta)
{
    uint64_t z = zigzag(delta);
    if (z == 0) {
        bw_put(e, 0, 1);
        return;
    }
    unsigned L = bitlen(z);
    if (L == e->zlen) {
        bw_put(e, 2, 2);
    } else {
        bw_put(e, 3, 2);
        bw_put(e, L, 6);
        e->zlen = (uint8_t)L;
    }
    bw_put(e, z, L - 1); /* the top bit is implied */
}

static void put_float(struct sblock_enc *e, uint64_t b)
{
    uint64_t x = b ^ e->xlast;
    e->xlast = b;
    if (x == 0) {
        bw_put(e, 0, 1);
        return;
    }
    unsigned lead = (unsigned)__builtin_clzll(x), trail = (unsigned)__builtin_ctzll(x);
    if (lead > 31)
        lead = 31;
    if (e->sig && lead >= e->lead && trail >= 64u - e->lead - e->sig) {
        bw_put(e, 2, 2);
        bw_put(e, x >> (64u - e->lead - e->sig), e->sig);
        return;
    }
    unsigned sig = 64 - lead - trail;
    bw_put(e, 3, 2);
    bw_put(e, lead, 5);
    bw_put(e, sig - 1, 6);
    bw_put(e, x >> trail, sig);
    e->lead = (uint8_t)lead;
    e->sig = (uint8_t)sig;
}

void sblock_enc_reset(struct sblock_enc *e)
{
    uint8_t *bits = e->bits;
    size_t cap = e->cap;
    if (bits)
        memset(bits, 0, (size_t)((e->nbits + 7) / 8));
    memset(e, 0, sizeof *e);
    e->bits = bits;
    e->cap = cap;
}

void sblock_enc_free(struct sblock_enc *e)
{
    free(e->bits);
    memset(e, 0, sizeof *e);
}

static int enc_append(struct sblock_enc *e, uint32_t u, double v);

/* Re-encodes an INT block as FLOAT (the first non-integer value arrived). */
static int to_float(struct sblock_enc *e)
{
    size_t sz = sblock_enc_size(e);
    uint8_t *tmp = malloc(sz);
    struct sblock_enc f = {.codec = SBLOCK_FLOAT};
    struct sblock_dec d;
    uint32_t u;
    double v;
    int rc = SBLOCK_ENOMEM;
    if (!tmp)
        return rc;
    sblock_enc_write(e, tmp);
    rc = sblock_dec_init(&d, tmp, sz, SBLOCK_U_MAX);
    while (rc == 0 && (rc = sblock_dec_next(&d, &u, &v)) == 1)
        rc = enc_append(&f, u, v);
    free(tmp);
    if (rc) {
        sblock_enc_free(&f);
        return rc;
    }
    sblock_enc_free(e);
    *e = f;
    return 0;
}

static int enc_append(struct sblock_enc *e, uint32_t u, double v)
{
    if (u > SBLOCK_U_MAX || (e->n && u <= e->ulast))
        return SBLOCK_EINVAL;
    if (e->n == 0) {
        if (!e->codec || (e->codec == SBLOCK_INT && !is_int(v)))
            e->codec = is_int(v) ? SBLOCK_INT : SBLOCK_FLOAT;
        e->u0 = e->ulast = u;
        e->dlast = 1;
        e->v0 = v;
        e->ilast = e->codec == SBLOCK_INT ? (int64_t)v : 0;
        e->xlast = dbits(v);
        e->n = 1;
        return 0;
    }
    if (e->codec == SBLOCK_INT && !is_int(v)) {
        int rc = to_float(e);
        if (rc)
            return rc;
    }
    int rc = bw_reserve(e, APPEND_MAX_BITS);
    if (rc)
        return rc;
    uint32_t d = u - e->ulast;
    put_dod(e, (int64_t)d - (int64_t)e->dlast);
    e->dlast = d;
    e->ulast = u;
    if (e->codec == SBLOCK_INT) {
        int64_t i = (int64_t)v;
        put_int(e, i - e->ilast);
        e->ilast = i;
    } else {
        put_float(e, dbits(v));
    }
    e->n++;
    return 0;
}

int sblock_enc_append(struct sblock_enc *e, uint32_t u, double v)
{
    return enc_append(e, u, v);
}

size_t sblock_enc_size(const struct sblock_enc *e)
{
    if (e->n == 0)
        return 0;
    size_t v0 = e->codec == SBLOCK_INT ? varint_len(zigzag((int64_t)e->v0)) : 8;
    return 1 + varint_len(e->n) + varint_len(e->u0) + v0 + (size_t)((e->nbits + 7) / 8);
}

void sblock_enc_write(const struct sblock_enc *e, uint8_t *out)
{
    if (e->n == 0)
        return;
    size_t p = 0;
    out[p++] = e->codec;
    p += varint_put(out + p, e->n);
    p += varint_put(out + p, e->u0);
    if (e->codec == SBLOCK_INT) {
        p += varint_put(out + p, zigzag((int64_t)e->v0));
    } else {
        uint64_t b = dbits(e->v0);
        for (int i = 0; i < 8; i++)
            out[p++] = (uint8_t)(b >> (8 * i));
    }
    if (e->nbits)
        memcpy(out + p, e->bits, (size_t)((e->nbits + 7) / 8));
}

int sblock_enc_load(struct sblock_enc *e, const uint8_t *p, size_t len, uint32_t u_max)
{
    struct sblock_dec d;
    uint32_t u;
    double v;
    sblock_enc_reset(e);
    int rc = sblock_dec_init(&d, p, len, u_max);
    if (rc)
        return rc;
    e->codec = d.codec;
    while ((rc = sblock_dec_next(&d, &u, &v)) == 1)
        if ((rc = enc_append(e, u, v)) != 0)
            break;
    if (rc)
        sblock_enc_reset(e);
    return rc == SBLOCK_EINVAL ? SBLOCK_ECORRUPT : rc;
}

/* ---- decoder ------------------------------------------------------------ */

/* The 64 bits of the stream from byte i on, most significant first; bytes
 * past the end read as zeros. */
static inline uint64_t br_word(const struct sblock_dec *d, size_t i)
{
    uint64_t w = 0;
    if (d->len - i >= 8) {
        memcpy(&w, d->p + i, sizeof w);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        w = __builtin_bswap64(w);
#endif
        return w;
    }
    for (size_t k = 0; k < 8; k++)
        w = w << 8 | (i + k < d->len ? d->p[i + k] : 0);
    return w;
}

/* The next n bits (n <= 64), most significant first. */
static int br_get(struct sblock_dec *d, unsigned n, uint64_t *out)
{
    if (d->nbits - d->bitpos < n)
        return SBLOCK_ECORRUPT;
    if (n == 0) {
        *out = 0;
        return 0;
    }
    uint64_t v = 0;
    if (n > 56) { /* more than one word's reach from any bit offset */
        unsigned hi = n - 32;
        v = (br_word(d, (size_t)(d->bitpos >> 3)) << (d->bitpos & 7)) >> (64 - hi);
        d->bitpos += hi;
        n = 32;
    }
    uint64_t w = br_word(d, (size_t)(d->bitpos >> 3)) << (d->bitpos & 7);
    *out = (v << n) | (w >> (64 - n));
    d->bitpos += n;
    return 0;
}

/* Counts leading 1 bits, up to max (<= 8; consuming the terminating 0 if
 * any). */
static int br_ones(struct sblock_dec *d, unsigned max, unsigned *ones)
{
    uint64_t w = br_word(d, (size_t)(d->bitpos >> 3)) << (d->bitpos & 7);
    unsigned n = ~w ? (unsigned)__builtin_clzll(~w) : 64;
    unsigned used = n < max ? n + 1 : max;
    if (n > max)
        n = max;
    if (d->nbits - d->bitpos < used)
        return SBLOCK_ECORRUPT;
    d->bitpos += used;
    *ones = n;
    return 0;
}

int sblock_count(const uint8_t *p, size_t len, uint32_t *n)
{
    size_t pos = 1;
    uint64_t v;
    if (len < 1 || (p[0] != SBLOCK_INT && p[0] != SBLOCK_FLOAT) || varint_get(p, len, &pos, &v) ||
        v == 0 || v > SBLOCK_U_MAX + 1)
        return SBLOCK_ECORRUPT;
    *n = (uint32_t)v;
    return 0;
}

int sblock_dec_init(struct sblock_dec *d, const uint8_t *p, size_t len, uint32_t u_max)
{
    size_t pos = 1;
    uint64_t n, u0, z;
    memset(d, 0, sizeof *d);
    if (len < 1 || (p[0] != SBLOCK_INT && p[0] != SBLOCK_FLOAT))
        return SBLOCK_ECORRUPT;
    d->codec = p[0];
    if (varint_get(p, len, &pos, &n) || n == 0 || n > (uint64_t)u_max + 1 ||
        varint_get(p, len, &pos, &u0) || u0 > u_max)
        return SBLOCK_ECORRUPT;
    if (d->codec == SBLOCK_INT) {
        if (varint_get(p, len, &pos, &z))
            return SBLOCK_ECORRUPT;
        int64_t i = unzigzag(z);
        if (i > INT_MAX_ABS || i < -INT_MAX_ABS)
            return SBLOCK_ECORRUPT;
        d->ilast = i;
        d->xlast = dbits((double)i);
    } else {
        if (len - pos < 8)
            return SBLOCK_ECORRUPT;
        uint64_t b = 0;
        for (int i = 0; i < 8; i++)
            b |= (uint64_t)p[pos + (size_t)i] << (8 * i);
        pos += 8;
        d->xlast = b;
    }
    d->p = p + pos;
    d->len = len - pos;
    d->nbits = (uint64_t)d->len * 8;
    d->n = (uint32_t)n;
    d->u_max = u_max;
    d->ulast = (uint32_t)u0;
    d->dlast = 1;
    return 0;
}

int sblock_dec_next(struct sblock_dec *d, uint32_t *u, double *v)
{
    uint64_t z;
    unsigned ones;
    if (d->i >= d->n) /* the end: only the zero padding of the last byte may remain */
        return d->nbits - d->bitpos < 8 ? 0 : SBLOCK_ECORRUPT;
    if (d->i == 0) {
        d->i = 1;
        *u = d->ulast;
        *v = bitsd(d->xlast);
        return 1;
    }
    /* time */
    int64_t dod = 0;
    if (br_ones(d, 4, &ones))
        return SBLOCK_ECORRUPT;
    if (ones) {
        static const unsigned width[5] = {0, 3, 7, 12, 32};
        if (br_get(d, width[ones], &z))
            return SBLOCK_ECORRUPT;
        dod = unzigzag(z + 1);
    }
    int64_t dt = (int64_t)d->dlast + dod;
    if (dt < 1 || (int64_t)d->ulast + dt > (int64_t)d->u_max)
        return SBLOCK_ECORRUPT;
    d->dlast = (uint32_t)dt;
    d->ulast += (uint32_t)dt;
    /* value */
    if (br_ones(d, 2, &ones))
        return SBLOCK_ECORRUPT;
    if (d->codec == SBLOCK_INT) {
        if (ones) {
            unsigned L = d->zlen;
            uint64_t lo;
            if (ones == 2) {
                if (br_get(d, 6, &z))
                    return SBLOCK_ECORRUPT;
                L = (unsigned)z;
            }
            if (L < 1 || L > 56 || br_get(d, L - 1, &lo))
                return SBLOCK_ECORRUPT;
            d->zlen = (uint8_t)L;
            int64_t i = d->ilast + unzigzag(((uint64_t)1 << (L - 1)) | lo);
            if (i > INT_MAX_ABS || i < -INT_MAX_ABS)
                return SBLOCK_ECORRUPT;
            d->ilast = i;
        }
        *v = (double)d->ilast;
    } else {
        if (ones) {
            if (ones == 2) {
                uint64_t lead, sig;
                if (br_get(d, 5, &lead) || br_get(d, 6, &sig))
                    return SBLOCK_ECORRUPT;
                if (lead + sig + 1 > 64)
                    return SBLOCK_ECORRUPT;
                d->lead = (uint8_t)lead;
                d->sig = (uint8_t)(sig + 1);
            } else if (!d->sig) {
                return SBLOCK_ECORRUPT;
            }
            if (br_get(d, d->sig, &z))
                return SBLOCK_ECORRUPT;
            d->xlast ^= z << (64u - d->lead - d->sig);
        }
        *v = bitsd(d->xlast);
    }
    *u = d->ulast;
    d->i++;
    return 1;
}

/* The 64 bits from bit pos on; the caller guarantees 16 bytes from byte
 * pos / 8 on. */
static inline uint64_t fast_peek(const uint8_t *p, uint64_t pos)
{
    uint64_t w;
    memcpy(&w, p + (pos >> 3), sizeof w);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w << (pos & 7);
}

/* One sample of the common codes (same step; INT: unchanged, same or new
 * length; FLOAT: unchanged, same window of at most 56 bits), read at bit
 * *pos of p, which has 16 bytes from any bit it reads on. 1 when decoded
 * (*pos advanced, d updated but for bitpos and i), 0 when the sample needs
 * sblock_dec_next (nothing changed), SBLOCK_ECORRUPT. A sample takes at
 * most 1 + 64 bits here. */
static inline __attribute__((always_inline)) int fast_one(struct sblock_dec *d, const uint8_t *p,
                                                          uint64_t *pos, uint32_t *u, double *v)
{
    uint64_t at = *pos, w = fast_peek(p, at);
    if ((w >> 63) || d->ulast + d->dlast > d->u_max) /* a step change, or corrupt */
        return 0;
    w <<= 1;
    at += 1;
    if (d->codec == SBLOCK_INT) {
        if (w >> 63) {
            unsigned L = d->zlen;
            if ((w >> 62) == 3) { /* 11: a new length */
                L = (unsigned)(w >> 56) & 63;
                at += 8;
            } else {
                at += 2;
            }
            if (L < 1 || L > 56)
                return SBLOCK_ECORRUPT;
            uint64_t lo = L > 1 ? fast_peek(p, at) >> (65 - L) : 0;
            at += L - 1;
            int64_t i = d->ilast + unzigzag(((uint64_t)1 << (L - 1)) | lo);
            if (i > INT_MAX_ABS || i < -INT_MAX_ABS)
                return SBLOCK_ECORRUPT;
            d->zlen = (uint8_t)L;
            d->ilast = i;
        } else {
            at += 1;
        }
        *v = (double)d->ilast;
    } else {
        if (w >> 63) {
            if ((w >> 62) == 3 || !d->sig || d->sig > 56) /* a new window, none, too wide */
                return 0;
            at += 2;
            d->xlast ^= (fast_peek(p, at) >> (64 - d->sig)) << (64u - d->lead - d->sig);
            at += d->sig;
        } else {
            at += 1;
        }
        *v = bitsd(d->xlast);
    }
    d->ulast += d->dlast;
    *u = d->ulast;
    *pos = at;
    return 1;
}

/* A run of INT samples of the common codes (as fast_one) into u[*k..],
 * v[*k..] while 16 bytes remain, with the decoder's state in locals (in
 * registers: no stores that alias it); stops before the first sample that
 * needs anything else. s is updated to the samples decoded. 0, or
 * SBLOCK_ECORRUPT with s at the sample found corrupt (as fast_one). */
static inline __attribute__((always_inline)) int int_run(struct sblock_dec *s, uint32_t *restrict u,
                                                         double *restrict v, size_t *k, size_t max)
{
    const uint8_t *p = s->p;
    uint64_t pos = s->bitpos, lim = s->nbits - 128; /* the caller checked nbits - pos >= 128 */
    uint32_t ul = s->ulast, dl = s->dlast, umax = s->u_max, i = s->i, n = s->n;
    int64_t il = s->ilast;
    unsigned zl = s->zlen;
    size_t j = *k;
    int ret = 0;
    while (j < max && i < n && pos <= lim) {
        uint64_t at = pos, w = fast_peek(p, at);
        if ((w >> 63) || ul + dl > umax)
            break;
        w <<= 1;
        at += 1;
        if (w >> 63) {
            unsigned L = zl;
            if ((w >> 62) == 3) {
                L = (unsigned)(w >> 56) & 63;
                at += 8;
            } else {
                at += 2;
            }
            if (L < 1 || L > 56) {
                ret = SBLOCK_ECORRUPT;
                break;
            }
            uint64_t lo = L > 1 ? fast_peek(p, at) >> (65 - L) : 0;
            at += L - 1;
            int64_t x = il + unzigzag(((uint64_t)1 << (L - 1)) | lo);
            if (x > INT_MAX_ABS || x < -INT_MAX_ABS) {
                ret = SBLOCK_ECORRUPT;
                break;
            }
            zl = L;
            il = x;
        } else {
            at += 1;
        }
        ul += dl;
        u[j] = ul;
        v[j] = (double)il;
        j++;
        i++;
        pos = at;
    }
    s->bitpos = pos;
    s->ulast = ul;
    s->i = i;
    s->ilast = il;
    s->zlen = (uint8_t)zl;
    *k = j;
    return ret;
}

int sblock_dec_bulk(struct sblock_dec *d, uint32_t *u, double *v, size_t max)
{
    /* The decoder's state is worked on in a local copy (written back
     * before sblock_dec_next and at every return): stores to u[] could
     * alias the struct's fields and would force reloads otherwise. */
    struct sblock_dec s = *d;
    size_t k = 0;
    int ret;
    uint8_t tail[32];
    size_t tail_at = SIZE_MAX; /* byte of s.p that tail[0] copies */
    while (k < max && s.i < s.n) {
        int rc = 0;
        if (s.codec == SBLOCK_INT && s.i > 0 && s.nbits - s.bitpos >= 128) {
            size_t k0 = k;
            if ((rc = int_run(&s, u, v, &k, max)) != 0) {
                ret = rc;
                goto out;
            }
            if (k > k0)
                continue;
        }
        if (s.i > 0) {
            if (s.nbits - s.bitpos >= 128) {
                rc = fast_one(&s, s.p, &s.bitpos, &u[k], &v[k]);
            } else {
                /* the last 16 bytes: from a zero-padded copy, checking the
                 * end after each sample (a sample past it is corrupt, as
                 * sblock_dec_next would find) */
                size_t b = (size_t)(s.bitpos >> 3);
                if (tail_at == SIZE_MAX || b < tail_at) {
                    memset(tail, 0, sizeof tail);
                    memcpy(tail, s.p + b, s.len - b);
                    tail_at = b;
                }
                uint64_t pos = s.bitpos - (uint64_t)tail_at * 8;
                rc = fast_one(&s, tail, &pos, &u[k], &v[k]);
                if (rc == 1) {
                    s.bitpos = pos + (uint64_t)tail_at * 8;
                    if (s.bitpos > s.nbits) {
                        ret = SBLOCK_ECORRUPT;
                        goto out;
                    }
                }
            }
            if (rc < 0) {
                ret = rc;
                goto out;
            }
        }
        if (rc == 0) {
            *d = s;
            rc = sblock_dec_next(d, &u[k], &v[k]);
            s = *d;
            if (rc != 1) {
                ret = rc < 0 ? rc : (int)k;
                goto out;
            }
        } else {
            s.i++;
        }
        k++;
    }
    if (k < max && s.nbits - s.bitpos >= 8)
        ret = SBLOCK_ECORRUPT; /* as sblock_dec_next at the end */
    else
        ret = (int)k;
out:
    *d = s;
    return ret;
}
