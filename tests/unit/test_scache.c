/* Unit tests for storage/scache.c, the readers' cache of decoded series
 * blocks: hits only for the same key and the same block (length and edge
 * bytes), replacement, the byte budget with second-chance eviction, entries
 * kept alive while held, entries larger than the budget, and many threads
 * looking up, inserting and releasing at once (run under ASan/TSan-like
 * checking by the sanitized build). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "scache.h"

static void mkkey(uint8_t *k, uint64_t start, uint64_t id)
{
    k[0] = 'r';
    for (int i = 0; i < 8; i++) {
        k[1 + i] = (uint8_t)(start >> (56 - 8 * i));
        k[9 + i] = (uint8_t)(id >> (56 - 8 * i));
    }
}

/* An entry of n samples whose values say which block they came from. */
static struct scache_entry *mk(const uint8_t *key, const uint8_t *blk, size_t len, size_t n,
                               double tag)
{
    struct scache_entry *e = scache_entry_new(key, blk, len, n);
    assert_non_null(e);
    assert_int_equal(e->n, n);
    for (size_t i = 0; i < n; i++)
        e->s[i] = (struct scache_sample){(int64_t)i * 10000, tag + (double)i};
    return e;
}

static void test_hit_and_miss(void **state)
{
    (void)state;
    struct scache *c = scache_create(1 << 20);
    assert_non_null(c);
    uint8_t k1[SCACHE_KEY_LEN], k2[SCACHE_KEY_LEN];
    mkkey(k1, 1800000, 7);
    mkkey(k2, 1800000, 8);
    uint8_t blk[40];
    for (size_t i = 0; i < sizeof blk; i++)
        blk[i] = (uint8_t)(i * 37 + 1);
    assert_null(scache_get(c, k1, blk, sizeof blk));
    struct scache_entry *e = mk(k1, blk, sizeof blk, 180, 1000);
    scache_put(c, e);
    scache_release(c, e);

    struct scache_entry *h = scache_get(c, k1, blk, sizeof blk);
    assert_non_null(h);
    assert_int_equal(h->n, 180);
    assert_true(h->s[5].v == 1005.0 && h->s[5].t == 50000);
    scache_release(c, h);
    /* another key, another length, other first or last bytes: misses */
    assert_null(scache_get(c, k2, blk, sizeof blk));
    assert_null(scache_get(c, k1, blk, sizeof blk - 1));
    uint8_t other[40];
    memcpy(other, blk, sizeof other);
    other[0] ^= 1;
    assert_null(scache_get(c, k1, other, sizeof other));
    memcpy(other, blk, sizeof other);
    other[39] ^= 0x80;
    assert_null(scache_get(c, k1, other, sizeof other));
    /* a block shorter than 16 bytes is compared whole */
    uint8_t small[5] = {1, 2, 3, 4, 5};
    e = mk(k2, small, sizeof small, 3, 2000);
    scache_put(c, e);
    scache_release(c, e);
    small[2] = 9;
    assert_null(scache_get(c, k2, small, sizeof small));
    small[2] = 3;
    h = scache_get(c, k2, small, sizeof small);
    assert_non_null(h);
    scache_release(c, h);

    /* a new entry for the same key replaces the old one */
    e = mk(k1, other, sizeof other, 10, 3000);
    scache_put(c, e);
    scache_release(c, e);
    assert_null(scache_get(c, k1, blk, sizeof blk));
    h = scache_get(c, k1, other, sizeof other);
    assert_non_null(h);
    assert_true(h->s[0].v == 3000.0);
    scache_release(c, h);

    struct scache_stats st;
    scache_stats(c, &st);
    assert_int_equal(st.entries, 2);
    assert_int_equal(st.hits, 3);
    assert_int_equal(st.inserts, 3);
    assert_true(st.bytes > 0 && st.bytes <= st.max_bytes);
    scache_free(c);
}

static void test_budget_and_eviction(void **state)
{
    (void)state;
    uint8_t key[SCACHE_KEY_LEN], blk[16] = {0};
    mkkey(key, 0, 0);
    struct scache_entry *probe = mk(key, blk, sizeof blk, 100, 0);
    size_t cost = probe->cost;
    scache_release(NULL, probe);
    struct scache *c = scache_create(cost * 10); /* room for 10 */
    assert_non_null(c);
    for (uint64_t id = 1; id <= 10; id++) {
        mkkey(key, 0, id);
        struct scache_entry *e = mk(key, blk, sizeof blk, 100, (double)id);
        scache_put(c, e);
        scache_release(c, e);
    }
    /* touch 1..5: the next inserts evict 6.. (second chance for the others) */
    for (uint64_t id = 1; id <= 5; id++) {
        mkkey(key, 0, id);
        struct scache_entry *h = scache_get(c, key, blk, sizeof blk);
        assert_non_null(h);
        scache_release(c, h);
    }
    for (uint64_t id = 11; id <= 13; id++) {
        mkkey(key, 0, id);
        struct scache_entry *e = mk(key, blk, sizeof blk, 100, (double)id);
        scache_put(c, e);
        scache_release(c, e);
    }
    struct scache_stats st;
    scache_stats(c, &st);
    assert_true(st.bytes <= cost * 10);
    assert_int_equal(st.entries, 10);
    assert_int_equal(st.evictions, 3);
    for (uint64_t id = 1; id <= 5; id++) {
        mkkey(key, 0, id);
        struct scache_entry *h = scache_get(c, key, blk, sizeof blk);
        assert_non_null(h); /* recently used: kept */
        scache_release(c, h);
    }
    for (uint64_t id = 6; id <= 8; id++) {
        mkkey(key, 0, id);
        assert_null(scache_get(c, key, blk, sizeof blk));
    }
    /* an entry evicted while held stays readable until released */
    mkkey(key, 0, 11);
    struct scache_entry *held = scache_get(c, key, blk, sizeof blk);
    assert_non_null(held);
    for (uint64_t id = 100; id < 120; id++) {
        uint8_t k2[SCACHE_KEY_LEN];
        mkkey(k2, 0, id);
        struct scache_entry *e = mk(k2, blk, sizeof blk, 100, (double)id);
        scache_put(c, e);
        scache_release(c, e);
    }
    assert_true(held->s[99].v == 11.0 + 99.0);
    scache_release(c, held);
    /* larger than the whole budget: handed back, not kept */
    mkkey(key, 0, 999);
    struct scache_entry *big = mk(key, blk, sizeof blk, 2000, 5);
    scache_put(c, big);
    assert_true(big->s[1999].v == 2004.0);
    scache_release(c, big);
    assert_null(scache_get(c, key, blk, sizeof blk));
    scache_stats(c, &st);
    assert_true(st.bytes <= cost * 10);
    scache_free(c);
}

struct worker {
    struct scache *c;
    unsigned seed;
    int bad;
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    uint64_t x = w->seed * 2654435761u + 1;
    uint8_t key[SCACHE_KEY_LEN], blk[24];
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t id = x % 64;
        mkkey(key, 0, id);
        memset(blk, (int)id, sizeof blk);
        struct scache_entry *e = scache_get(w->c, key, blk, sizeof blk);
        if (!e) {
            e = scache_entry_new(key, blk, sizeof blk, 50);
            if (!e) {
                w->bad++;
                continue;
            }
            for (size_t j = 0; j < 50; j++)
                e->s[j] = (struct scache_sample){(int64_t)j, (double)id};
            scache_put(w->c, e);
        }
        for (size_t j = 0; j < e->n; j++)
            if (e->s[j].v != (double)id)
                w->bad++;
        scache_release(w->c, e);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    /* a budget of about 20 of the 64 blocks: constant eviction */
    struct scache *c = scache_create(20 * (sizeof(struct scache_entry) + 50 * 16));
    assert_non_null(c);
    pthread_t th[4];
    struct worker w[4];
    for (unsigned i = 0; i < 4; i++) {
        w[i] = (struct worker){c, i + 1, 0};
        assert_int_equal(pthread_create(&th[i], NULL, hammer, &w[i]), 0);
    }
    for (unsigned i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].bad, 0);
    }
    struct scache_stats st;
    scache_stats(c, &st);
    assert_true(st.hits + st.misses == 80000);
    assert_true(st.evictions > 0);
    assert_true(st.bytes <= st.max_bytes);
    scache_free(c);
}

/* scache_entry_compact: compact exactly when every sample comes back
 * bit for bit from (t0 + i * step, v0 + d[i]), and then it does; the
 * cost shrinks to 4 bytes a sample. Cases that must stay full: a time off
 * the grid, a value off by a fraction, a delta past int32, NaN, infinity,
 * -0, one sample. */
static void test_compact(void **state)
{
    (void)state;
    enum { N = 300 };
    uint8_t key[SCACHE_KEY_LEN] = {0};
    uint64_t rs = 12345;
#define NEXT() (rs = rs * 6364136223846793005ull + 1442695040888963407ull, rs >> 33)
    int compacted = 0, kept = 0;
    for (int round = 0; round < 2000; round++) {
        size_t n = 1 + NEXT() % N;
        struct scache_entry *e = scache_entry_new(key, NULL, 0, n);
        assert_non_null(e);
        int64_t t0 = (int64_t)(NEXT() % 1000000) * 1000, step = 1 + (int64_t)(NEXT() % 60000);
        double v = (double)(NEXT() % 100000) - 50000;
        int spoil = (int)(NEXT() % 8); /* 0..5: one sample made uncompactable */
        size_t at = NEXT() % n;
        if (spoil == 0 && n < 3) /* any two times are on a grid */
            spoil = 7;
        for (size_t i = 0; i < n; i++) {
            v += (double)(NEXT() % 1000);
            v -= NEXT() % 4 == 0 ? 500 : 0;
            e->s[i] = (struct scache_sample){t0 + (int64_t)i * step, v};
        }
        if (spoil == 0)
            e->s[at].t += at + 1 < n ? 1 : -1;
        else if (spoil == 1)
            e->s[at].v += 0.25;
        else if (spoil == 2)
            e->s[at].v = e->s[0].v + 3e9;
        else if (spoil == 3)
            e->s[at].v = NAN;
        else if (spoil == 4)
            e->s[at].v = -INFINITY;
        else if (spoil == 5) {
            e->s[0].v = 0;
            e->s[at].v = -0.0;
        }
        struct scache_sample want[N];
        memcpy(want, e->s, n * sizeof *want);
        int must_stay = n < 2 || spoil <= 5;
        e = scache_entry_compact(e);
        assert_non_null(e);
        if (must_stay) {
            assert_non_null(e->s);
            assert_null(e->d);
            kept++;
        } else {
            assert_null(e->s);
            assert_non_null(e->d);
            assert_int_equal(e->cost, sizeof *e + n * sizeof(int32_t));
            compacted++;
        }
        for (size_t i = 0; i < n; i++) {
            int64_t t = e->d ? e->t0 + (int64_t)i * e->step : e->s[i].t;
            double x = e->d ? e->v0 + (double)e->d[i] : e->s[i].v;
            assert_int_equal(t, want[i].t);
            assert_memory_equal(&x, &want[i].v, sizeof x);
        }
        scache_release(NULL, e);
    }
#undef NEXT
    assert_true(compacted > 200 && kept > 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_and_miss),
        cmocka_unit_test(test_budget_and_eviction),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_compact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
