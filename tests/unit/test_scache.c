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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_and_miss),
        cmocka_unit_test(test_budget_and_eviction),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
