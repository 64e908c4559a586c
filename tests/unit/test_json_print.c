/* Unit tests for agent/json_print.c: the text equals cJSON_PrintUnformatted's
 * for fixed edge cases and for random trees (seed printed; LLMTAP_SEED=N
 * replays one), and a reused buffer appends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>

#include <cmocka.h>

#include "buf.h"
#include "json_print.h"

static void same_as_cjson(const cJSON *v)
{
    char *want = cJSON_PrintUnformatted(v);
    assert_non_null(want);
    struct buf b = {0};
    assert_true(json_print(&b, v));
    assert_int_equal(b.len, strlen(want));
    assert_string_equal(b.p, want); /* NUL-terminated after the text */
    cJSON_free(want);
    buf_free(&b);
}

static void test_fixed(void **state)
{
    (void)state;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "plain", "hello");
    cJSON_AddStringToObject(o, "esc", "q\" b\\ \b\f\n\r\t \x01\x1f \x7f caf\xc3\xa9 \xff");
    cJSON_AddStringToObject(o, "", "");
    cJSON_AddStringToObject(o, "k\"ey\n", "v");
    double nums[] = {0,
                     -0.0,
                     1,
                     -1,
                     2147483647.0,
                     -2147483648.0,
                     2147483648.0,
                     1e15,
                     1e16,
                     9007199254740993.0,
                     0.1,
                     0.123,
                     1.0 / 3,
                     -2.5e-7,
                     1e300,
                     5e-324,
                     123.456,
                     4096.0009765625,
                     NAN,
                     INFINITY,
                     -INFINITY};
    cJSON *a = cJSON_AddArrayToObject(o, "nums");
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(nums[i]));
    cJSON_AddItemToObject(o, "t", cJSON_CreateTrue());
    cJSON_AddItemToObject(o, "f", cJSON_CreateFalse());
    cJSON_AddItemToObject(o, "n", cJSON_CreateNull());
    cJSON_AddItemToObject(o, "raw", cJSON_CreateRaw("{\"x\":[1,2]}"));
    cJSON_AddItemToObject(o, "eo", cJSON_CreateObject());
    cJSON_AddItemToObject(o, "ea", cJSON_CreateArray());
    same_as_cjson(o);
    cJSON_Delete(o);
}

static uint64_t rng;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static char *rand_str(void)
{
    /* Mostly short strings with many special bytes; one in four up to 200
     * bytes with them sparse, so the 16-byte scan meets escapes at every
     * position of a block and long clean runs. */
    bool long_one = rnd() % 4 == 0;
    size_t n = long_one ? rnd() % 200 : rnd() % 24;
    unsigned plain = long_one ? 90 + (unsigned)(rnd() % 10) : 6; /* per 100 / per 10 */
    char *s = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned r = (unsigned)(rnd() % (long_one ? 100 : 10));
        s[i] =
            r < plain ? (char)('a' + rnd() % 26) : (char)(1 + rnd() % 255); /* any byte but NUL */
    }
    s[n] = 0;
    return s;
}

static double rand_num(void)
{
    switch (rnd() % 5) {
    case 0: return (double)(int64_t)(rnd() % 2000001) - 1000000;
    case 1: return (double)(rnd() >> 11) * (rnd() % 2 ? 1 : -1);
    case 2: return (double)(rnd() % 100000) / 1000.0;
    case 3: {
        uint64_t bits = rnd();
        double d;
        memcpy(&d, &bits, sizeof d);
        return d; /* any double, NaN and infinities included */
    }
    default: return ldexp((double)(rnd() % 1000), (int)(rnd() % 200) - 100);
    }
}

static cJSON *rand_tree(int depth)
{
    unsigned k = (unsigned)(rnd() % (depth > 4 ? 5 : 7));
    switch (k) {
    case 0: return cJSON_CreateNull();
    case 1: return cJSON_CreateBool(rnd() % 2);
    case 2: return cJSON_CreateNumber(rand_num());
    case 3:
    case 4: {
        char *s = rand_str();
        cJSON *v = cJSON_CreateString(s);
        free(s);
        return v;
    }
    case 5: {
        cJSON *a = cJSON_CreateArray();
        for (int i = (int)(rnd() % 5); i > 0; i--)
            cJSON_AddItemToArray(a, rand_tree(depth + 1));
        return a;
    }
    default: {
        cJSON *o = cJSON_CreateObject();
        for (int i = (int)(rnd() % 5); i > 0; i--) {
            char *k2 = rand_str();
            cJSON_AddItemToObject(o, k2, rand_tree(depth + 1));
            free(k2);
        }
        return o;
    }
    }
}

static void test_random(void **state)
{
    (void)state;
    const char *e = getenv("LLMTAP_SEED");
    uint64_t seed = e ? strtoull(e, NULL, 10) : (uint64_t)time(NULL);
    printf("test_json_print: seed %llu (LLMTAP_SEED=%llu replays it)\n", (unsigned long long)seed,
           (unsigned long long)seed);
    rng = seed * 0x9E3779B97F4A7C15ull | 1;
    for (int i = 0; i < 3000; i++) {
        cJSON *t = rand_tree(0);
        same_as_cjson(t);
        cJSON_Delete(t);
    }
}

static void test_reuse_appends(void **state)
{
    (void)state;
    struct buf b = {0};
    buf_append(&b, "x", 1);
    cJSON *v = cJSON_CreateNumber(42);
    assert_true(json_print(&b, v));
    assert_int_equal(b.len, 3);
    assert_string_equal(b.p, "x42");
    assert_false(json_print(&b, NULL));
    cJSON_Delete(v);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_reuse_appends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
