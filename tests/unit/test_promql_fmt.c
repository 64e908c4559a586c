/*
 * test_promql_fmt.c — unit tests for collector/promql_fmt.c: the exact fast
 * path of the shortest round-trip formatter against the printf/strtod
 * reference on millions of doubles (random bits over every exponent, the
 * fast path's range, integers, short decimals and their neighbours, powers
 * of ten and of two, halfway cases, subnormals), and Go's text for a set
 * of known values.
 *
 * LLMTAP_TEST_SEED replays a run (the seed is printed); LLMTAP_TEST_FMT_N
 * sets how many doubles each random case checks (default 500000; there are
 * 8 cases); LLMTAP_TEST_FMT_ALL8=1 checks pq_fmt_u64 on every number below
 * 10^8 (else below 10^6). The 'f' and value texts are checked against a
 * plain layout of the reference digits.
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "promql_fmt.h"

static uint64_t g_seed;
static size_t g_n = 500000;

static uint64_t rng_next(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
    return rng_next(s) % n;
}

static double from_bits(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

struct tally {
    size_t checked, fast;
};

/* v against the reference: the combined formatter always, the fast path
 * whenever it decides. */
static void check(double v, struct tally *t)
{
    if (!isfinite(v) || v == 0)
        return;
    char d0[24], d1[24], d2[24];
    int n0, x0, n1, x1, n2, x2;
    pq_fmt_shortest_slow(v, d0, &n0, &x0);
    pq_fmt_shortest(v, d1, &n1, &x1);
    bool fast = pq_fmt_shortest_fast(v, d2, &n2, &x2);
    if (n1 != n0 || x1 != x0 || memcmp(d0, d1, (size_t)n0) != 0 ||
        (fast && (n2 != n0 || x2 != x0 || memcmp(d0, d2, (size_t)n0) != 0))) {
        uint64_t bits;
        memcpy(&bits, &v, sizeof bits);
        fail_msg("%.17g (bits %016llx): reference %.*se%d, got %.*se%d "
                 "(fast %d: %.*se%d); seed %llu",
                 v, (unsigned long long)bits, n0, d0, x0, n1, d1, x1, fast, fast ? n2 : 0, d2,
                 fast ? x2 : 0, (unsigned long long)g_seed);
    }
    t->checked++;
    t->fast += fast;
}

static void report(const char *what, const struct tally *t)
{
    printf("  %-28s %10zu checked, %10zu by the fast path\n", what, t->checked, t->fast);
}

static void test_random_bits(void **state)
{
    (void)state;
    uint64_t rs = g_seed ^ 1;
    struct tally t = {0};
    for (size_t i = 0; i < g_n; i++)
        check(from_bits(rng_next(&rs)), &t);
    report("random bits", &t);
    assert_true(t.checked > g_n * 9 / 10);
}

/* Uniform binary exponent over the fast path's range and a little beyond. */
static void test_fast_range(void **state)
{
    (void)state;
    uint64_t rs = g_seed ^ 2;
    struct tally t = {0};
    for (size_t i = 0; i < g_n; i++) {
        int e2 = -20 + (int)rng_below(&rs, 78); /* -20 .. 57 */
        uint64_t m = rng_next(&rs) & ((1ull << 52) - 1);
        if (rng_below(&rs, 8) == 0)
            m &= ~((1ull << rng_below(&rs, 52)) - 1); /* few significant bits */
        uint64_t bits = ((uint64_t)(e2 + 1023) << 52) | m | (rng_below(&rs, 2) << 63);
        check(from_bits(bits), &t);
    }
    report("2^-20 .. 2^58", &t);
    assert_true(t.fast > g_n / 2); /* the range is the fast path's */
}

/* Exponents at both ends: subnormals, the smallest normals, the largest. */
static void test_extremes(void **state)
{
    (void)state;
    uint64_t rs = g_seed ^ 3;
    struct tally t = {0};
    for (size_t i = 0; i < g_n; i++) {
        uint64_t m = rng_next(&rs) & ((1ull << 52) - 1);
        if (rng_below(&rs, 4) == 0)
            m >>= rng_below(&rs, 52);
        uint64_t be;
        switch (rng_below(&rs, 3)) {
        case 0: be = 0; break; /* subnormal */
        case 1: be = 1 + rng_below(&rs, 60); break;
        default: be = 2046 - rng_below(&rs, 60); break;
        }
        check(from_bits(be << 52 | m), &t);
    }
    report("subnormals, extremes", &t);
}

/* Integers, and integers plus small binary fractions (ties of all kinds:
 * k + 0.5 with 16 digits is a tie at 16 digits). */
static void test_integers(void **state)
{
    (void)state;
    uint64_t rs = g_seed ^ 4;
    struct tally t = {0};
    static const double frac[] = {0, 0.5, 0.25, 0.75, 0.125, 0.375, 0.0625, 0.03125};
    for (size_t i = 0; i < g_n; i++) {
        uint64_t lim = 1ull << (1 + rng_below(&rs, 60));
        double v = (double)rng_below(&rs, lim) + frac[rng_below(&rs, 8)];
        check(v, &t);
        check(-v, &t);
    }
    report("integers, k + 2^-j", &t);
}

/* pq_fmt_u64 (timestamps, integer values) against printf: every digit
 * count and its edges (10^k - 1, 10^k), random values, UINT64_MAX. */
static void test_u64(void **state)
{
    (void)state;
    uint64_t rs = g_seed ^ 8;
    char a[32], b[32];
    size_t checked = 0;
    for (size_t i = 0; i < g_n; i++) {
        uint64_t u;
        switch (i % 4) {
        case 0: u = rng_next(&rs) >> rng_below(&rs, 64); break;
        case 1: { /* around a power of ten */
            uint64_t p = 1;
            for (uint64_t k = rng_below(&rs, 20); k > 0; k--)
                p *= 10;
            u = p + rng_below(&rs, 5) - 2;
            break;
        }
        case 2: u = rng_below(&rs, 1000); break;
        default: u = UINT64_MAX - rng_below(&rs, 3); break;
        }
        size_t n = pq_fmt_u64(a, u);
        int m = snprintf(b, sizeof b, "%llu", (unsigned long long)u);
        if (n != (size_t)m || memcmp(a, b, n) != 0)
            fail_msg("pq_fmt_u64(%llu) = %.*s; seed %llu", (unsigned long long)u, (int)n, a,
                     (unsigned long long)g_seed);
        checked++;
    }
    assert_true(checked == g_n);
    /* every number of up to 8 digits (the 8-digit word conversion), on
     * request: it takes seconds */
    const char *all = getenv("LLMTAP_TEST_FMT_ALL8");
    uint32_t lim = all && *all ? 100000000u : 1000000u;
    for (uint32_t x = 0; x < lim; x++) {
        char c[16];
        size_t m = 0;
        uint32_t y = x;
        do
            c[15 - m++] = (char)('0' + y % 10);
        while (y /= 10);
        size_t n = pq_fmt_u64(a, x);
        if (n != m || memcmp(a, c + 16 - m, n) != 0)
            fail_msg("pq_fmt_u64(%u) = %.*s", x, (int)n, a);
    }
}

/* Short decimals D * 10^q (1..17 digits), read by strtod, and their
 * neighbours: they exercise "shortest", carries and the interval ends. */
static void test_short_decimals(void **state)
{
    (void)state;
    uint64_t rs = g_seed ^ 5;
    struct tally t = {0};
    for (size_t i = 0; i < g_n; i++) {
        int digits = 1 + (int)rng_below(&rs, 17);
        char s[64];
        int n = 0;
        s[n++] = (char)('1' + rng_below(&rs, 9));
        for (int k = 1; k < digits; k++)
            s[n++] = (char)('0' + (rng_below(&rs, 3) ? rng_below(&rs, 10) : 9 * rng_below(&rs, 2)));
        int q = -30 + (int)rng_below(&rs, 60);
        if (rng_below(&rs, 2))
            q = -10 + (int)rng_below(&rs, 20);
        snprintf(s + n, sizeof s - (size_t)n, "e%d", q);
        double v = strtod(s, NULL);
        check(v, &t);
        double a = v, b = v;
        for (int k = 0; k < 2; k++) {
            a = nextafter(a, 0);
            b = nextafter(b, INFINITY);
            check(a, &t);
            check(b, &t);
        }
    }
    report("short decimals +- 2 ulp", &t);
}

/* Halfway cases: decimals of 16 or 17 digits ending in 5 (or 49999...,
 * 50000...1) between two 15/16-digit decimals. */
static void test_halfway(void **state)
{
    (void)state;
    uint64_t rs = g_seed ^ 6;
    struct tally t = {0};
    for (size_t i = 0; i < g_n; i++) {
        int digits = 15 + (int)rng_below(&rs, 3);
        char s[80];
        int n = 0;
        s[n++] = (char)('1' + rng_below(&rs, 9));
        for (int k = 1; k < digits; k++)
            s[n++] = (char)('0' + rng_below(&rs, 10));
        switch (rng_below(&rs, 3)) {
        case 0: s[n++] = '5'; break;
        case 1: n += snprintf(s + n, 20, "4999999"); break;
        default: n += snprintf(s + n, 20, "5000001"); break;
        }
        snprintf(s + n, sizeof s - (size_t)n, "e%d", -40 + (int)rng_below(&rs, 60));
        check(strtod(s, NULL), &t);
    }
    report("halfway decimals", &t);
}

static void test_powers(void **state)
{
    (void)state;
    struct tally t = {0};
    for (int k = -330; k <= 310; k++) {
        char s[16];
        snprintf(s, sizeof s, "1e%d", k);
        double v = strtod(s, NULL), a = v, b = v;
        check(v, &t);
        for (int j = 0; j < 3; j++) {
            a = nextafter(a, 0);
            b = nextafter(b, INFINITY);
            check(a, &t);
            check(b, &t);
        }
    }
    for (int k = -1074; k <= 1023; k++) {
        double v = ldexp(1, k), a = v, b = v;
        check(v, &t);
        for (int j = 0; j < 3; j++) {
            a = nextafter(a, 0);
            b = nextafter(b, INFINITY);
            check(a, &t);
            check(b, &t);
        }
    }
    report("powers of ten and two", &t);
    assert_true(t.fast > 0);
}

/* Values like a query's: ratios, rates, quantiles. */
static void test_ratios(void **state)
{
    (void)state;
    uint64_t rs = g_seed ^ 7;
    struct tally t = {0};
    for (size_t i = 0; i < g_n; i++) {
        double a = (double)rng_below(&rs, 100000), b = (double)(1 + rng_below(&rs, 3600));
        check(a / b, &t);
        check(a / 300 * (double)rng_below(&rs, 1000) / 1000, &t);
    }
    report("ratios", &t);
}

/* 'f' of v from the reference digits (pq_fmt_shortest_slow), laid out
 * the simple way; NaN and infinities as pq_fmt_f writes them. */
static size_t ref_f(char *out, double v)
{
    if (isnan(v))
        return (size_t)sprintf(out, "NaN");
    if (isinf(v))
        return (size_t)sprintf(out, v > 0 ? "+Inf" : "-Inf");
    size_t n = 0;
    if (signbit(v))
        out[n++] = '-';
    double a = fabs(v);
    if (a == 0) {
        out[n++] = '0';
        return n;
    }
    char d[24];
    int nd, x;
    pq_fmt_shortest_slow(a, d, &nd, &x);
    if (x < 0) {
        out[n++] = '0';
        out[n++] = '.';
        for (int i = 0; i < -x - 1; i++)
            out[n++] = '0';
    }
    for (int i = 0; i < nd || i <= x; i++) {
        if (x >= 0 && i == x + 1)
            out[n++] = '.';
        out[n++] = i < nd ? d[i] : '0';
    }
    return n;
}

/* pq_fmt_f and pq_fmt_value against ref_f (and pq_fmt_e for the value's
 * exponent form): the digits are checked above, this checks the layout
 * built from them (integers, the point in every position, leading zeros,
 * the slow path's ranges) and that pq_fmt_value stays within
 * PQ_FMT_VALUE_ROOM. */
static void check_text(double v)
{
    char want[PQ_FMT_MAX + 8], got[PQ_FMT_MAX + 8];
    size_t wn = ref_f(want, v);
    memset(got, '#', sizeof got);
    size_t n = pq_fmt_f(got, v);
    if (n != wn || memcmp(got, want, n) != 0)
        fail_msg("pq_fmt_f(%.17g) = %.*s, want %.*s; seed %llu", v, (int)n, got, (int)wn, want,
                 (unsigned long long)g_seed);
    double a = fabs(v);
    if (isfinite(v) && a != 0 && (a < 1e-6 || a >= 1e21))
        wn = pq_fmt_e(want, v);
    memset(got, '#', sizeof got);
    n = pq_fmt_value(got, v);
    if (n != wn || memcmp(got, want, n) != 0)
        fail_msg("pq_fmt_value(%.17g) = %.*s, want %.*s; seed %llu", v, (int)n, got, (int)wn, want,
                 (unsigned long long)g_seed);
    for (size_t i = PQ_FMT_VALUE_ROOM; i < sizeof got; i++)
        if (got[i] != '#')
            fail_msg("pq_fmt_value(%.17g) wrote at %zu", v, i);
}

static void test_text(void **state)
{
    (void)state;
    uint64_t rs = g_seed ^ 9;
    static const double fixed[] = {0,          -0.0,         NAN,     INFINITY, -INFINITY, 1,
                                   0.5,        0.1,          1e-6,    9.99e-7,  1e-5,      2e-5,
                                   1e15,       1e15 + 0.5,   1e16,    1e21,     9.99e20,   0x1p53,
                                   0x1p53 - 1, 0x1p52 + 0.5, 0x1p-16, 0x1p-17,  123.456,   99.99};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        check_text(fixed[i]);
        check_text(-fixed[i]);
    }
    for (size_t i = 0; i < g_n / 4; i++) {
        int e2 = -26 + (int)rng_below(&rs, 100); /* 2^-26 .. 2^73 */
        uint64_t m = rng_next(&rs) & ((1ull << 52) - 1);
        if (rng_below(&rs, 4) == 0)
            m &= ~((1ull << rng_below(&rs, 52)) - 1);
        check_text(from_bits(((uint64_t)(e2 + 1023) << 52) | m | (rng_below(&rs, 2) << 63)));
        double r = (double)rng_below(&rs, 100000) / (double)(1 + rng_below(&rs, 3600));
        check_text(r);
        check_text((double)(rng_next(&rs) >> rng_below(&rs, 64)));
    }
}

/* Go's strconv.FormatFloat(v, 'f' or 'e', -1, 64), as Prometheus writes. */
static void test_go_text(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *f, *e;
    } cases[] = {
        {0.1, "0.1", "1e-01"},
        {1.0 / 3, "0.3333333333333333", "3.333333333333333e-01"},
        {2.0 / 3, "0.6666666666666666", "6.666666666666666e-01"},
        {100, "100", "1e+02"},
        {-2.5, "-2.5", "-2.5e+00"},
        {0.000001, "0.000001", "1e-06"},
        {1e-7, "0.0000001", "1e-07"},
        {123456.789, "123456.789", "1.23456789e+05"},
        {1e21, "1000000000000000000000", "1e+21"},
        {1.2345678901234568e20, "123456789012345680000", "1.2345678901234568e+20"},
        {5e-324, NULL, "5e-324"},
        {1.7976931348623157e308, NULL, "1.7976931348623157e+308"},
        {0.3, "0.3", "3e-01"},
        {0.1 + 0.2, "0.30000000000000004", "3.0000000000000004e-01"},
        {9007199254740993.0, "9007199254740992", "9.007199254740992e+15"},
        {1000000000000000.5, "1000000000000000.5", "1.0000000000000005e+15"},
        {0.0333333333333333, "0.0333333333333333", "3.33333333333333e-02"},
        {1.0 / 30, "0.03333333333333333", "3.333333333333333e-02"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[PQ_FMT_MAX + 1];
        if (cases[i].f) {
            size_t n = pq_fmt_f(out, cases[i].v);
            out[n] = 0;
            assert_string_equal(out, cases[i].f);
        }
        size_t n = pq_fmt_e(out, cases[i].v);
        out[n] = 0;
        assert_string_equal(out, cases[i].e);
    }
    char out[PQ_FMT_MAX + 1];
    size_t n = pq_fmt_f(out, -0.0);
    assert_int_equal(n, 2);
    assert_memory_equal(out, "-0", 2);
    n = pq_fmt_f(out, NAN);
    assert_memory_equal(out, "NaN", n);
    n = pq_fmt_f(out, -INFINITY);
    assert_memory_equal(out, "-Inf", n);
    n = pq_fmt_value(out, 1e-7);
    out[n] = 0;
    assert_string_equal(out, "1e-07");
    n = pq_fmt_value(out, 1e21);
    out[n] = 0;
    assert_string_equal(out, "1e+21");
    n = pq_fmt_value(out, 1e20);
    out[n] = 0;
    assert_string_equal(out, "100000000000000000000");
    n = pq_fmt_f(out, 5e-324); /* the longest 'f' text */
    assert_true(n == 2 + 323 + 1 && n <= PQ_FMT_MAX);
    n = pq_fmt_f(out, -1.7976931348623157e308);
    assert_true(n == 1 + 309 && n <= PQ_FMT_MAX);
}

int main(void)
{
    const char *s = getenv("LLMTAP_TEST_SEED");
    g_seed = s && *s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    const char *n = getenv("LLMTAP_TEST_FMT_N");
    if (n && *n)
        g_n = (size_t)strtoull(n, NULL, 0);
    printf("test_promql_fmt: seed %llu, %zu per case (set LLMTAP_TEST_SEED to replay, "
           "LLMTAP_TEST_FMT_N for more)\n",
           (unsigned long long)g_seed, g_n);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_go_text),     cmocka_unit_test(test_powers),
        cmocka_unit_test(test_random_bits), cmocka_unit_test(test_fast_range),
        cmocka_unit_test(test_extremes),    cmocka_unit_test(test_integers),
        cmocka_unit_test(test_u64),         cmocka_unit_test(test_short_decimals),
        cmocka_unit_test(test_halfway),     cmocka_unit_test(test_ratios),
        cmocka_unit_test(test_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
