/*
 * promql_fmt.c — shortest round-trip decimal formatting of doubles, as Go's
 * strconv.FormatFloat(v, 'f' | 'e', -1, 64). API: promql_fmt.h.
 *
 * DESIGN
 *
 * The reference (pq_fmt_shortest_slow) asks glibc for the correctly
 * rounded 15-digit decimal of v ("%.14e"), reads it back with strtod, and
 * takes it if it gives v, else tries 16 digits, else takes 17. Any decimal
 * of at most 15 digits reads back exactly and no two of them read back to
 * the same double, so the first that works, without its trailing zeros, is
 * the shortest; 17 always works. That costs up to three printf and two
 * strtod calls per number.
 *
 * The fast path decides the same question exactly with integers. Write
 * v = m * 2^e (m the 53-bit significand, 2^52 <= m < 2^53) and let E be
 * the decimal exponent of v (10^E <= v < 10^(E+1)). For 2^-16 <= v < 2^53
 * we have e <= 0 and -5 <= E <= 15, so with k = 16 - E (1 .. 21) and
 * s = 2 - e (2 .. 70), v * 10^k = 4 m 10^k / 2^s. Since 10^k = 5^k 2^k,
 * the 2^k cancels: with s' = s - k (1 .. 49)
 *
 *   X = 4 m 5^k        v * 10^(16-E) = X / 2^s'       (X < 2^104)
 *   I = X >> s'        the 17 leading digits of v, 10^16 <= I < 10^17
 *   rem = X mod 2^s'   the rest, exactly (0 <= rem < 2^s' <= 2^49)
 *
 * Rounding to 17, 16 or 15 digits (half to even, as printf does) needs
 * only I's last digits, whether rem is zero, and rem against 2^(s'-1).
 * A candidate is I + d (-50 <= d <= 50) in units of 10^(E-16); it
 * reads back to v exactly when d 2^s' - rem lies in v's rounding interval,
 * whose ends, in the same units, are 2 * 5^k above and below (5^k below
 * when m = 2^52: the gap below a power of two is half), ends included
 * when m is even (strtod rounds ties to even). Apart from the one 64 x 64
 * -> 128-bit product every quantity fits a 64-bit integer, and there is
 * no rounding anywhere: the fast path is exact where it runs. E is
 * floor(e2 * log10 2) or one more (e2 = e + 52, the binary exponent); a
 * comparison of v with the smallest double >= 10^E tells which. Outside
 * that range (tiny, huge, subnormal numbers) the slow path runs; those are
 * rare in query results. tests/unit/test_promql_fmt.c compares both paths
 * on millions of random doubles.
 *
 * Speed (a range query writes tens of thousands of these): the three
 * candidates are computed side by side; the digits are made eight at a
 * time in a 64-bit word (ascii8) and stored with fixed-size stores, the
 * first nine of I's while the rounding is decided; trailing zeros are
 * counted in the words; the decimal point goes in with a byte mask, not a
 * move. So the writers may store past the text's end, within the room
 * promql_fmt.h documents, and copy no variable-length run.
 */
#include "promql_fmt.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

void pq_fmt_shortest_slow(double v, char *digits, int *nd, int *exp10)
{
    char e[40];
    /* subnormals have fewer significant bits: search from one digit */
    for (int prec = fabs(v) < DBL_MIN ? 0 : 14; prec < 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec, v);
        if (prec == 16 || strtod(e, NULL) == v)
            break;
    }
    const char *p = e + (*e == '-');
    int n = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[n++] = *p;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    *nd = n;
    *exp10 = atoi(p + 1);
}

/* Digits as ASCII in registers. A 64-bit word holds eight characters, the
 * first in its lowest byte (store8 puts it first in memory whatever the
 * byte order), so counting leading or trailing '0' characters is a count
 * of zero bytes at one end of (word ^ ZEROS). */
#define ZEROS 0x3030303030303030ull

static inline void store8(char *out, uint64_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    memcpy(out, &w, sizeof w);
}

/* The eight digits of x < 10^8 (leading zeros included), without a
 * division chain: x splits into two halves of four digits in the word's
 * 32-bit lanes, each into two of two digits in 16-bit lanes, each into
 * two digits in bytes; the divisions by 100 and 10 are multiplications
 * that are exact for these ranges (tests/unit/test_promql_fmt.c checks
 * every x when LLMTAP_TEST_FMT_ALL8 is set, x < 10^6 otherwise). */
static inline uint64_t ascii8(uint32_t x)
{
    uint64_t hi = x / 10000, lo = x % 10000;
    uint64_t w = hi | lo << 32;
    uint64_t h = ((w * 10486) >> 20) & (0x7full << 32 | 0x7f);
    w = (w - 100 * h) << 16 | h;
    uint64_t t = ((w * 103) >> 10) & (0xfull << 48 | 0xfull << 32 | 0xfull << 16 | 0xf);
    return (t | (w - 10 * t) << 8) + ZEROS;
}

/* u < 10^16: its digits at out, 8 bytes written even for fewer digits. */
static inline size_t put_u53(char *out, uint64_t u)
{
    if (u < 100000000) {
        uint64_t w = ascii8((uint32_t)u);
        unsigned lead = u ? (unsigned)__builtin_ctzll(w ^ ZEROS) >> 3 : 7;
        store8(out, w >> (8 * lead));
        return 8 - lead;
    }
    uint64_t hi = u / 100000000, w = ascii8((uint32_t)hi);
    unsigned lead = (unsigned)__builtin_ctzll(w ^ ZEROS) >> 3; /* hi >= 1 */
    store8(out, w >> (8 * lead));
    store8(out + 8 - lead, ascii8((uint32_t)(u - hi * 100000000)));
    return 16 - lead;
}

size_t pq_fmt_u64(char *out, uint64_t u)
{
    if (u < 10000000000000000ull)
        return put_u53(out, u);
    uint64_t hi = u / 100000000; /* 17 to 20 digits: rare */
    size_t n = put_u53(out, hi);
    store8(out + n, ascii8((uint32_t)(u - hi * 100000000)));
    return n + 8;
}

static const uint64_t pow10_64[20] = {1ull,
                                      10ull,
                                      100ull,
                                      1000ull,
                                      10000ull,
                                      100000ull,
                                      1000000ull,
                                      10000000ull,
                                      100000000ull,
                                      1000000000ull,
                                      10000000000ull,
                                      100000000000ull,
                                      1000000000000ull,
                                      10000000000000ull,
                                      100000000000000ull,
                                      1000000000000000ull,
                                      10000000000000000ull,
                                      100000000000000000ull,
                                      1000000000000000000ull,
                                      10000000000000000000ull};

/* The fast path's answer: the shortest digits as 17 characters c0, w1
 * (digits 2-9), w2 (10-17), zero-padded; nd of them significant; e the
 * decimal exponent of the first. */
struct dig17 {
    uint64_t w1, w2;
    char c0;
    int nd, e;
};

/* 5^k for k = 0 .. 21 (5^21 < 2^49) */
static const uint64_t pow5[22] = {1ull,
                                  5ull,
                                  25ull,
                                  125ull,
                                  625ull,
                                  3125ull,
                                  15625ull,
                                  78125ull,
                                  390625ull,
                                  1953125ull,
                                  9765625ull,
                                  48828125ull,
                                  244140625ull,
                                  1220703125ull,
                                  6103515625ull,
                                  30517578125ull,
                                  152587890625ull,
                                  762939453125ull,
                                  3814697265625ull,
                                  19073486328125ull,
                                  95367431640625ull,
                                  476837158203125ull};

/* For n = -4 .. 16, the smallest double >= 10^n: for a double a,
 * a < 10^n exactly when a < ceil10[n + 4] (10^0 .. 10^16 are doubles; the
 * nearest doubles to 10^-1 .. 10^-4 lie above them). */
static const double ceil10[21] = {0x1.a36e2eb1c432dp-14,
                                  0x1.0624dd2f1a9fcp-10,
                                  0x1.47ae147ae147bp-7,
                                  0x1.999999999999ap-4,
                                  1e0,
                                  1e1,
                                  1e2,
                                  1e3,
                                  1e4,
                                  1e5,
                                  1e6,
                                  1e7,
                                  1e8,
                                  1e9,
                                  1e10,
                                  1e11,
                                  1e12,
                                  1e13,
                                  1e14,
                                  1e15,
                                  1e16};

/* The exact fast path (see DESIGN) for 2^-16 <= |v| < 2^53, finite and
 * normal; false otherwise. The three candidates are computed and tested
 * together; the choice among them is left a branch (a select through
 * masks measured slower on a day of real query values). */
static bool shortest17(double v, struct dig17 *r)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    bits &= ~(1ull << 63);
    unsigned be = (unsigned)(bits >> 52);
    /* e = be - 1075 <= 0 and e2 = be - 1023 >= -16; excludes zero,
     * subnormals, Inf and NaN */
    if (be - 1007u > 1075u - 1007u)
        return false;
    double a;
    memcpy(&a, &bits, sizeof a);
    uint64_t m = (bits & ((1ull << 52) - 1)) | (1ull << 52);
    int e2 = (int)be - 1023;
    /* floor(e2 * log10(2)) + 1 in integers: 78913 / 2^18 is close enough
     * to log10(2) that the floors agree for |e2| < 1100 (checked), and
     * here -16 <= e2 <= 52. It is E or E + 1 (-4 .. 16). */
    int E = (e2 >= 0 ? (e2 * 78913) >> 18 : -((-e2 * 78913 + 262143) >> 18)) + 1;
    E -= a < ceil10[E + 4];
    /* X = 4 m 5^k, k = 16 - E (1 .. 21); I = X >> s', s' = s - k (1 .. 49) */
    int k = 16 - E;
    unsigned sh = (unsigned)(E - (int)be + 1061);
    if (k < 1 || k > 21 || sh < 1 || sh > 49) /* cannot happen; be safe */
        return false;
    uint64_t p5 = pow5[k];
    u128 X = (u128)(m << 2) * p5;
    uint64_t xlo = (uint64_t)X, xhi = (uint64_t)(X >> 64);
    uint64_t I = xlo >> sh | xhi << (64 - sh);
    if (I < pow10_64[16] || I >= pow10_64[17]) /* cannot happen; be safe */
        return false;
    uint64_t rem = xlo & ((1ull << sh) - 1), half = 1ull << (sh - 1);
    unsigned sticky = rem != 0, odd = (unsigned)m & 1;
    /* A candidate I + d reads back when d 2^s' - rem lies in [-L, H]:
     * the rounding interval's ends, included when m is even (below 2^52
     * the gap is half). */
    int64_t H = (int64_t)(2 * p5) - odd, L = (int64_t)(m == (1ull << 52) ? p5 : 2 * p5) - odd;
    uint64_t span = (uint64_t)(H + L);

    /* 15, 16 and 17 digits, rounded half to even as printf does, as
     * offsets d from I (units of 100 and 10 are constants, so the
     * divisions are multiplications). The bitwise & and | keep the
     * compiler from branching on digits. */
    int64_t r15 = (int64_t)(I % 100), r16 = (int64_t)(I % 10);
    unsigned up15 = (r15 > 50) | ((r15 == 50) & (sticky | ((unsigned)(I / 100) & 1)));
    unsigned up16 = (r16 > 5) | ((r16 == 5) & (sticky | ((unsigned)(I / 10) & 1)));
    int64_t d15 = up15 ? 100 - r15 : -r15, d16 = up16 ? 10 - r16 : -r16;
    int64_t d17 = (rem > half) | ((rem == half) & ((unsigned)I & 1));
    int64_t t15 = d15 * (int64_t)(1ull << sh) - (int64_t)rem;
    int64_t t16 = d16 * (int64_t)(1ull << sh) - (int64_t)rem;
    bool ok15 = (uint64_t)(t15 + L) <= span, ok16 = (uint64_t)(t16 + L) <= span;
    int64_t d = ok15 ? d15 : ok16 ? d16 : d17; /* 17 digits always read back */
    /* The digits of D = I + d: I's first nine do not depend on d (and are
     * converted while d is decided) unless adding d carries out of the
     * last eight, which is rare (and D may then be 10^17). d >= -(I mod
     * 100), so it never borrows. */
    uint64_t top = I / 100000000, c0 = top / 100000000;
    uint64_t lo = I - top * 100000000 + (uint64_t)d;
    if (lo >= 100000000) {
        uint64_t D = I + (uint64_t)d;
        if (D == pow10_64[17]) { /* rounded up to the next power of ten */
            D = pow10_64[16];
            E++;
        }
        top = D / 100000000;
        c0 = top / 100000000;
        lo = D - top * 100000000;
    }
    r->c0 = (char)('0' + c0);
    r->w1 = ascii8((uint32_t)(top - c0 * 100000000));
    r->w2 = ascii8((uint32_t)lo);
    /* trailing '0' characters: zero bytes at the top of w2, then w1 */
    uint64_t z1 = r->w1 ^ ZEROS, z2 = r->w2 ^ ZEROS;
    int tz = z2 ? __builtin_clzll(z2) >> 3 : 8 + (z1 ? __builtin_clzll(z1) >> 3 : 8);
    r->nd = 17 - tz;
    r->e = E;
    return true;
}

bool pq_fmt_shortest_fast(double v, char *digits, int *nd, int *exp10)
{
    struct dig17 d;
    if (!shortest17(v, &d))
        return false;
    digits[0] = d.c0;
    store8(digits + 1, d.w1);
    store8(digits + 9, d.w2);
    *nd = d.nd;
    *exp10 = d.e;
    return true;
}

void pq_fmt_shortest(double v, char *digits, int *nd, int *exp10)
{
    if (!pq_fmt_shortest_fast(v, digits, nd, exp10))
        pq_fmt_shortest_slow(v, digits, nd, exp10);
}

size_t pq_fmt_e(char *out, double v)
{
    char d[24];
    int nd, x;
    size_t n = 0;
    pq_fmt_shortest(v, d, &nd, &x);
    if (v < 0)
        out[n++] = '-';
    out[n++] = d[0];
    if (nd > 1) {
        out[n++] = '.';
        memcpy(out + n, d + 1, (size_t)nd - 1);
        n += (size_t)nd - 1;
    }
    out[n++] = 'e';
    out[n++] = x < 0 ? '-' : '+';
    unsigned u = (unsigned)(x < 0 ? -x : x); /* at most 324 */
    if (u >= 100)
        out[n++] = (char)('0' + u / 100);
    out[n++] = (char)('0' + u / 10 % 10);
    out[n++] = (char)('0' + u % 10);
    return n;
}

/* 'f' of finite a >= 0. Where the fast path decides, the text is put
 * together from the digit words with fixed-size stores (no copy of a
 * variable length): at most 24 bytes written. */
static size_t fmt_f_abs(char *out, double a)
{
    if (a < 9007199254740992.0) {
        uint64_t u = (uint64_t)a;
        if ((double)u == a) /* integers: exact */
            return put_u53(out, u);
        struct dig17 d;
        /* not an integer, so nd > e + 1: there are digits after the point */
        if (shortest17(a, &d) && d.nd > d.e + 1) {
            if (d.e < 0) { /* "0.", -e - 1 zeros (at most 4), the digits */
                memcpy(out, "0.000000", 8);
                char *o = out + 1 - d.e;
                *o = d.c0;
                store8(o + 1, d.w1);
                store8(o + 9, d.w2);
                return (size_t)(1 - d.e + d.nd);
            }
            /* the point after p = e + 1 (1 .. 16) digits: the 17 digits
             * shifted by one at out + 1, then the first 16 bytes again,
             * the first p digits unshifted (a byte mask), then the point */
            unsigned p = (unsigned)d.e + 1;
            u128 A = (u128)(unsigned char)d.c0 | (u128)d.w1 << 8 | (u128)d.w2 << 72;
            u128 keep = ~(u128)0 >> (128 - 8 * p);
            u128 R = (A & keep) | ((A << 8) & ~keep);
            store8(out + 2, d.w1);
            store8(out + 10, d.w2);
            store8(out, (uint64_t)R);
            store8(out + 8, (uint64_t)(R >> 64));
            out[p] = '.';
            return (size_t)d.nd + 1;
        }
    }
    char d[24];
    int nd, x;
    size_t n = 0;
    pq_fmt_shortest(a, d, &nd, &x);
    if (x >= nd - 1) {
        memcpy(out + n, d, (size_t)nd); /* 2^53 or more: digits, then zeros */
        n += (size_t)nd;
        memset(out + n, '0', (size_t)(x - nd + 1));
        return n + (size_t)(x - nd + 1);
    }
    if (x >= 0) {
        memcpy(out + n, d, (size_t)x + 1);
        n += (size_t)x + 1;
        out[n++] = '.';
        memcpy(out + n, d + x + 1, (size_t)(nd - x - 1));
        return n + (size_t)(nd - x - 1);
    }
    out[n++] = '0';
    out[n++] = '.';
    memset(out + n, '0', (size_t)(-x - 1));
    n += (size_t)(-x - 1);
    memcpy(out + n, d, (size_t)nd);
    return n + (size_t)nd;
}

size_t pq_fmt_f(char *out, double v)
{
    if (isnan(v)) {
        memcpy(out, "NaN", 3);
        return 3;
    }
    if (isinf(v)) {
        memcpy(out, v > 0 ? "+Inf" : "-Inf", 4);
        return 4;
    }
    out[0] = '-';
    size_t n = signbit(v) != 0;
    return n + fmt_f_abs(out + n, fabs(v));
}

size_t pq_fmt_value(char *out, double v)
{
    double a = fabs(v);
    if (a >= 1e-6 && a < 1e21) { /* the common case: 'f', finite, nonzero */
        out[0] = '-';
        size_t n = v < 0;
        return n + fmt_f_abs(out + n, a);
    }
    if (isfinite(v) && a != 0)
        return pq_fmt_e(out, v);
    return pq_fmt_f(out, v);
}
