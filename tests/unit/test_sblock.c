/*
 * test_sblock.c — unit tests for storage/sblock.c (the delta/XOR block
 * codec of the time series store): random round trips of every value
 * kind, a loaded encoder continuing a block exactly, truncations and bit
 * flips (never read past the buffer; the bulk decoder agrees with the
 * sample-by-sample one on every block, damaged or not), and the cost of a
 * dense unchanged run. The seed and generator come from series_testfx.h; set
 * LLMTAP_TEST_SEED to replay a run.
 */
#include "series_testfx.h"

#include <math.h>

/* ---- codec -------------------------------------------------------------- */

/* sblock_dec_bulk, in runs of random length, gives what sblock_dec_next
 * gives sample by sample, and ends the same way (the end, or corrupt). */
static void bulk_matches(uint64_t *rs, const uint8_t *buf, size_t sz, uint32_t maxu)
{
    struct sblock_dec a, b;
    int ra = sblock_dec_init(&a, buf, sz, maxu), rb = sblock_dec_init(&b, buf, sz, maxu);
    assert_int_equal(ra, rb);
    if (ra)
        return;
    uint32_t us[300];
    double vs[300];
    for (;;) {
        size_t max = 1 + rng_below(rs, rng_below(rs, 2) ? 8 : 300);
        int n = sblock_dec_bulk(&b, us, vs, max);
        assert_true(n <= (int)max);
        for (int i = 0; i < n; i++) {
            uint32_t u;
            double v;
            assert_int_equal(sblock_dec_next(&a, &u, &v), 1);
            assert_int_equal(us[i], u);
            assert_memory_equal(&vs[i], &v, sizeof v);
        }
        if (n < (int)max) { /* the end, or an error within this run, for both */
            uint32_t u;
            double v;
            int r;
            size_t more = 0;
            while ((r = sblock_dec_next(&a, &u, &v)) == 1)
                more++;
            assert_int_equal(r, n < 0 ? SBLOCK_ECORRUPT : 0);
            assert_true(n < 0 ? more < max : more == 0);
            return;
        }
    }
}

static void codec_roundtrip(uint64_t *rs, int kind, uint32_t maxu)
{
    struct sblock_enc e = {0}, e2 = {0};
    uint32_t us[2000];
    double vs[2000];
    size_t n = 1 + rng_below(rs, 1500);
    uint32_t u = (uint32_t)rng_below(rs, 3);
    double v = kind == 2 ? 1e15 : 0;
    size_t k = 0;
    for (size_t i = 0; i < n && u <= maxu; i++) {
        us[k] = u;
        switch (kind) {
        case 0: v += (double)rng_below(rs, 3); break;       /* small integer deltas */
        case 1: v += (double)rng_below(rs, 50000); break;   /* tokens */
        case 2: v -= (double)rng_below(rs, 1000000); break; /* negative, large */
        case 3: v += rng_unit(rs) * 0.01; break;            /* dollars */
        case 4: v = (i == 700) ? 0.5 : v + 1; break;        /* INT then FLOAT */
        default: {
            static const double odd[] = {NAN, INFINITY, -INFINITY, -0.0, 0.0, 1e308, 5e-324, -1.5};
            v = odd[rng_below(rs, 8)];
        }
        }
        vs[k++] = v;
        assert_int_equal(sblock_enc_append(&e, u, v), 0);
        u += 1 + (uint32_t)(rng_below(rs, 4) ? 0 : rng_below(rs, 300));
    }
    assert_int_equal(sblock_enc_append(&e, us[k - 1], 1), SBLOCK_EINVAL);
    size_t sz = sblock_enc_size(&e);
    uint8_t *buf = malloc(sz);
    assert_non_null(buf);
    sblock_enc_write(&e, buf);
    struct sblock_dec d;
    assert_int_equal(sblock_dec_init(&d, buf, sz, maxu), 0);
    uint32_t cnt;
    assert_int_equal(sblock_count(buf, sz, &cnt), 0);
    assert_int_equal(cnt, k);
    for (size_t i = 0; i < k; i++) {
        uint32_t gu;
        double gv;
        assert_int_equal(sblock_dec_next(&d, &gu, &gv), 1);
        assert_int_equal(gu, us[i]);
        assert_memory_equal(&gv, &vs[i], sizeof gv); /* bit for bit (NaN, -0.0) */
    }
    uint32_t gu;
    double gv;
    assert_int_equal(sblock_dec_next(&d, &gu, &gv), 0);
    bulk_matches(rs, buf, sz, maxu);
    /* A loaded encoder continues the block exactly as the original. */
    assert_int_equal(sblock_enc_load(&e2, buf, sz, maxu), 0);
    assert_int_equal(sblock_enc_size(&e2), sz);
    if (us[k - 1] < maxu) {
        assert_int_equal(sblock_enc_append(&e, us[k - 1] + 1, vs[k - 1] + 3), 0);
        assert_int_equal(sblock_enc_append(&e2, us[k - 1] + 1, vs[k - 1] + 3), 0);
        size_t s1 = sblock_enc_size(&e), s2 = sblock_enc_size(&e2);
        assert_int_equal(s1, s2);
        uint8_t *b1 = malloc(s1), *b2 = malloc(s2);
        sblock_enc_write(&e, b1);
        sblock_enc_write(&e2, b2);
        assert_memory_equal(b1, b2, s1);
        free(b1);
        free(b2);
    }
    /* Every truncation and many bit flips decode to an error or to
     * something, never past the buffer (ASan watches). */
    for (size_t cut = 0; cut < sz; cut += 1 + sz / 64) {
        uint8_t *t = malloc(cut ? cut : 1);
        memcpy(t, buf, cut);
        bulk_matches(rs, t, cut, maxu);
        if (sblock_dec_init(&d, t, cut, maxu) == 0)
            while (sblock_dec_next(&d, &gu, &gv) == 1)
                ;
        free(t);
    }
    for (int i = 0; i < 64; i++) {
        size_t at = rng_below(rs, sz);
        buf[at] ^= (uint8_t)(1u << rng_below(rs, 8));
        bulk_matches(rs, buf, sz, maxu);
        if (sblock_dec_init(&d, buf, sz, maxu) == 0)
            while (sblock_dec_next(&d, &gu, &gv) == 1)
                assert_true(gu <= maxu);
    }
    free(buf);
    sblock_enc_free(&e);
    sblock_enc_free(&e2);
}

static void test_codec(void **state)
{
    (void)state;
    uint64_t rs = g_seed ^ 0xC0DEC;
    for (int kind = 0; kind < 6; kind++)
        for (int rep = 0; rep < 20; rep++)
            codec_roundtrip(&rs, kind, rep % 2 ? 180 : SBLOCK_U_MAX);
    /* A dense unchanged run costs 2 bits a sample. */
    struct sblock_enc e = {0};
    for (uint32_t u = 1; u <= 1000; u++)
        assert_int_equal(sblock_enc_append(&e, u, 42), 0);
    assert_true(sblock_enc_size(&e) <= 8 + 1000 * 2 / 8);
    assert_int_equal(sblock_enc_append(&e, SBLOCK_U_MAX + 1, 1), SBLOCK_EINVAL);
    sblock_enc_free(&e);
    struct sblock_dec d;
    uint8_t junk[] = {9, 1, 0};
    assert_int_equal(sblock_dec_init(&d, junk, sizeof junk, 10), SBLOCK_ECORRUPT);
}

int main(void)
{
    const char *s = getenv("LLMTAP_TEST_SEED");
    g_seed = s && *s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    printf("test_sblock: seed %llu (set LLMTAP_TEST_SEED to replay)\n", (unsigned long long)g_seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
