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
 * we have e <= 0 and -5 <= E <= 15, so with P = 10^(16-E) (10 .. 10^21)
 * and s = 2 - e (2 .. 70):
 *
 *   X = 4 m P          v * 10^(16-E) = X / 2^s        (X < 2^125)
 *   I = X >> s         the 17 leading digits of v, 10^16 <= I < 10^17
 *   rem = X mod 2^s    the rest, exactly (0 <= rem < 2^s)
 *
 * Rounding to 17, 16 or 15 digits (half to even, as printf does) needs
 * only I's last digits, whether rem is zero, and rem against 2^(s-1).
 * A candidate D with p digits stands for J = D * 10^(17-p) in units of
 * 10^(E-16); it reads back to v exactly when J * 2^s lies in v's rounding
 * interval, whose ends, in the same units, are X + 2P above and X - 2P
 * below (X - P when m = 2^52: the gap below a power of two is half), ends
 * included when m is even (strtod rounds ties to even). Every quantity is
 * an integer below 2^127, so there is no rounding error to bound: the fast
 * path is exact where it runs. E is floor(e2 * log10 2) or one more
 * (e2 = e + 52, the binary exponent), and I's range tells which. Outside
 * that range (tiny, huge, subnormal numbers) the slow path runs; those are
 * rare in query results. tests/unit/test_promql_fmt.c compares both paths
 * on millions of random doubles.
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

static const char two_digits[] = "00010203040506070809101112131415161718192021222324"
                                 "25262728293031323334353637383940414243444546474849"
                                 "50515253545556575859606162636465666768697071727374"
                                 "75767778798081828384858687888990919293949596979899";

/* The p digits of x < 10^p (leading zeros included), two a step. */
static void put_small(char *out, uint32_t x, int p)
{
    int i = p;
    for (; i >= 2; i -= 2) {
        uint32_t r = x % 100;
        x /= 100;
        memcpy(out + i - 2, two_digits + 2 * r, 2);
    }
    if (i == 1)
        out[0] = (char)('0' + x);
}

/* The p <= 17 digits of d < 10^p: above 8 digits the last 8 and the others
 * as two independent 32-bit chains. */
static void put_split(char *out, uint64_t d, int p)
{
    if (p <= 8) {
        put_small(out, (uint32_t)d, p);
        return;
    }
    uint64_t hi = d / 100000000;
    uint32_t lo = (uint32_t)(d - hi * 100000000);
    put_small(out, (uint32_t)hi, p - 8);
    uint32_t a = lo / 10000, b = lo % 10000;
    memcpy(out + p - 8, two_digits + 2 * (a / 100), 2);
    memcpy(out + p - 6, two_digits + 2 * (a % 100), 2);
    memcpy(out + p - 4, two_digits + 2 * (b / 100), 2);
    memcpy(out + p - 2, two_digits + 2 * (b % 100), 2);
}

size_t pq_fmt_u64(char *out, uint64_t u)
{
    if (u >= 100000000000000000ull) { /* 18 digits or more: rare */
        char t[24];
        size_t n = sizeof t;
        do
            t[--n] = (char)('0' + u % 10);
        while (u /= 10);
        memcpy(out, t + n, sizeof t - n);
        return sizeof t - n;
    }
    int p = 1;
    for (uint64_t x = 10; p < 17 && u >= x; x *= 10) /* comparisons, no divisions */
        p++;
    put_split(out, u, p);
    return (size_t)p;
}

/* Writes the p decimal digits of d (10^(p-1) <= d < 10^p) without its
 * trailing zeros; returns how many. */
static int put_digits(char *out, uint64_t d, int p)
{
    while (p > 1 && d % 10 == 0) {
        d /= 10;
        p--;
    }
    put_split(out, d, p);
    return p;
}

bool pq_fmt_shortest_fast(double v, char *digits, int *nd, int *exp10)
{
    static const uint64_t pow10[20] = {1ull,
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
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    bits &= ~(1ull << 63);
    unsigned be = (unsigned)(bits >> 52);
    if (be == 0 || be == 0x7ff) /* zero, subnormal, Inf, NaN */
        return false;
    uint64_t m = (bits & ((1ull << 52) - 1)) | (1ull << 52);
    int e = (int)be - 1075, e2 = e + 52;
    if (e > 0 || e2 < -16)
        return false;
    /* e2 * log10(2) is never an integer for e2 != 0 and is far from one
     * compared with the product's rounding error, so this floor is exact. */
    /* floor(e2 * log10(2)) + 1 in integers: 78913 / 2^18 is close enough
     * to log10(2) that the floors agree for |e2| < 1100 (checked), and
     * here -16 <= e2 <= 52 */
    int E = (e2 >= 0 ? (e2 * 78913) >> 18 : -((-e2 * 78913 + 262143) >> 18)) + 1;
    unsigned s = (unsigned)(2 - e);
    u128 P, X;
    uint64_t I;
    for (int pass = 0; pass < 2; pass++) {
        int k = 16 - E; /* 1 .. 21 */
        P = k <= 19 ? (u128)pow10[k] : (u128)pow10[19] * pow10[k - 19];
        X = (u128)(m << 2) * P;
        I = (uint64_t)(X >> s);
        if (I >= pow10[16])
            break;
        E--; /* v < 10^E: the estimate's other value */
    }
    if (I < pow10[16] || I >= pow10[17]) /* cannot happen; be safe */
        return false;
    u128 rem = X - ((u128)I << s), half = (u128)1 << (s - 1);
    bool sticky = rem != 0, even = (m & 1) == 0;
    u128 hi = X + 2 * P, lo = X - ((m == (1ull << 52) && be > 1) ? P : 2 * P);

    /* 15 and 16 digits: the first that reads back (unit 100, then 10:
     * constants, so that the divisions are multiplications) */
    for (int p = 15; p <= 16; p++) {
        uint64_t unit = p == 15 ? 100 : 10, half_unit = unit / 2;
        uint64_t D = p == 15 ? I / 100 : I / 10;
        uint64_t r = I - D * unit;
        if (r > half_unit || (r == half_unit && (sticky || (D & 1))))
            D++;
        u128 JS = (u128)(D * unit) << s;
        if (even ? (lo <= JS && JS <= hi) : (lo < JS && JS < hi)) {
            if (D == pow10[p]) { /* rounded up to the next power of ten */
                digits[0] = '1';
                *nd = 1;
                *exp10 = E + 1;
            } else {
                *nd = put_digits(digits, D, p);
                *exp10 = E;
            }
            return true;
        }
    }
    /* 17 digits always read back */
    uint64_t D = I;
    if (rem > half || (rem == half && (D & 1)))
        D++;
    if (D == pow10[17]) {
        digits[0] = '1';
        *nd = 1;
        *exp10 = E + 1;
    } else {
        *nd = put_digits(digits, D, 17);
        *exp10 = E;
    }
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
    if (x > -10 && x < 10)
        out[n++] = '0';
    return n + pq_fmt_u64(out + n, (uint64_t)(x < 0 ? -x : x));
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
    size_t n = 0;
    if (signbit(v))
        out[n++] = '-';
    double a = fabs(v);
    if (a < 9007199254740992.0 && a == floor(a)) /* integers: exact */
        return n + pq_fmt_u64(out + n, (uint64_t)a);
    char d[24];
    int nd, x;
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

size_t pq_fmt_value(char *out, double v)
{
    double a = fabs(v);
    if (isfinite(v) && a != 0 && (a < 1e-6 || a >= 1e21))
        return pq_fmt_e(out, v);
    return pq_fmt_f(out, v);
}
