/* Unit tests for agent/crc32c.c: known values, chaining, and the hardware
 * implementation against the software one on random buffers of every
 * length and alignment (the spool's files must not depend on the CPU).
 * Includes the module's .c to reach both implementations.
 * LLMTAP_TEST_SEED=N replays a run; the seed is printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "crc32c.c"

static uint64_t g_seed, g_rng;

static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

/* Bit-at-a-time reference: the definition, independent of both tables and
 * the instruction. */
static uint32_t crc_bitwise(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return ~c;
}

static void test_known_values(void **state)
{
    assert_int_equal(crc32c_update(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(crc32c_update(0, "", 0), 0);
    unsigned char z[32] = {0}, ff[32];
    memset(ff, 0xFF, sizeof ff);
    assert_int_equal(crc32c_update(0, z, 32), 0x8A9136AAu); /* RFC 3720 B.4 */
    assert_int_equal(crc32c_update(0, ff, 32), 0x62A8AB43u);
    /* Chaining: the CRC of a whole equals the CRC continued piece by piece. */
    const char *s = "The quick brown fox jumps over the lazy dog";
    size_t n = strlen(s);
    for (size_t cut = 0; cut <= n; cut++)
        assert_int_equal(crc32c_update(crc32c_update(0, s, cut), s + cut, n - cut),
                         crc32c_update(0, s, n));
}

static void test_hw_matches_sw(void **state)
{
    pthread_once(&crc_once, crc_init);
    enum { MAXLEN = 4200, ALIGN = 16 };
    unsigned char *buf = malloc(MAXLEN + ALIGN);
    assert_non_null(buf);
    for (size_t i = 0; i < MAXLEN + ALIGN; i++)
        buf[i] = (unsigned char)rnd();
#if CRC32C_HAVE_HW
    bool hw = __builtin_cpu_supports("sse4.2");
#else
    bool hw = false;
#endif
    if (!hw)
        print_message("no CRC instruction on this CPU: software path only\n");
    for (size_t len = 0; len <= MAXLEN; len += len < 300 ? 1 : 1 + rnd() % 7) {
        for (size_t al = 0; al < ALIGN; al++) {
            const unsigned char *p = buf + al;
            uint32_t init = (uint32_t)rnd(); /* a chained start, not only 0 */
            uint32_t sw = ~crc_sw(~init, p, len);
#if CRC32C_HAVE_HW
            if (hw) {
                uint32_t h = ~crc_hw(~init, p, len);
                if (h != sw)
                    fail_msg("len %zu align %zu init %08x: hw %08x sw %08x (seed %llu)", len, al,
                             init, h, sw, (unsigned long long)g_seed);
            }
#endif
            assert_int_equal(crc32c_update(init, p, len), sw);
        }
        if (len <= 600) { /* both against the definition, for the short ones */
            uint32_t ref = crc_bitwise(buf + len % ALIGN, len);
            assert_int_equal(~crc_sw(~0u, buf + len % ALIGN, len), ref);
        }
    }
    free(buf);
}

static void test_dispatch(void **state)
{
    /* The process picks the instruction when the CPU has it (unless forced off). */
#if CRC32C_HAVE_HW
    const char *force = getenv("LLMTAP_CRC32C_SOFTWARE");
    bool forced = force && *force && strcmp(force, "0") != 0;
    assert_int_equal(crc32c_hardware(), !forced && __builtin_cpu_supports("sse4.2"));
#else
    assert_false(crc32c_hardware());
#endif
}

int main(void)
{
    const char *s = getenv("LLMTAP_TEST_SEED");
    g_seed = s ? strtoull(s, NULL, 10) : (uint64_t)time(NULL);
    g_rng = g_seed * 0x9E3779B97F4A7C15ull + 1;
    printf("test_crc32c: seed %llu (LLMTAP_TEST_SEED)\n", (unsigned long long)g_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_hw_matches_sw),
        cmocka_unit_test(test_dispatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
