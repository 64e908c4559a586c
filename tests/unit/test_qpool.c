/* Unit tests for collector/qpool.c, the query worker pool: every index
 * runs exactly once, on the caller or a pool thread; a pool thread whose
 * join fails takes no index (and leave is not called for it); loops from
 * several threads at once all complete; a NULL pool runs on the caller;
 * the caller takes indices from the front, pool threads from the back; a
 * loop's deadline stops it (no index starts after it, none runs twice,
 * qpool_for says -1) and a deadline not reached changes nothing. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "qpool.h"

struct loopst {
    atomic_int *count; /* runs per index */
    atomic_int *owner; /* the worker that ran each index */
    atomic_int joins, leaves, refuse;
    atomic_int by[8];     /* indices per worker */
    atomic_int joined[8]; /* worker joined and has not left */
    atomic_int bad;
    int slow;
};

static void fn(void *ud, unsigned w, size_t i)
{
    struct loopst *s = ud;
    atomic_fetch_add(&s->count[i], 1);
    atomic_store(&s->owner[i], (int)w);
    if (w >= 8 || (w > 0 && !atomic_load(&s->joined[w])))
        atomic_fetch_add(&s->bad, 1); /* a pool thread ran without a join */
    else
        atomic_fetch_add(&s->by[w], 1);
    if (s->slow)
        usleep(100);
}

static int join(void *ud, unsigned w)
{
    struct loopst *s = ud;
    if (w == 0 || w >= 8)
        atomic_fetch_add(&s->bad, 1);
    if (atomic_load(&s->refuse))
        return -1;
    atomic_fetch_add(&s->joins, 1);
    atomic_store(&s->joined[w], 1);
    return 0;
}

static void leave(void *ud, unsigned w)
{
    struct loopst *s = ud;
    if (w < 8 && !atomic_load(&s->joined[w]))
        atomic_fetch_add(&s->bad, 1);
    if (w < 8)
        atomic_store(&s->joined[w], 0);
    atomic_fetch_add(&s->leaves, 1);
}

static void run_loop(struct qpool *p, size_t n, int refuse, int slow, struct loopst *s)
{
    memset(s, 0, sizeof *s);
    s->count = calloc(n ? n : 1, sizeof *s->count);
    s->owner = calloc(n ? n : 1, sizeof *s->owner);
    assert_non_null(s->count);
    assert_non_null(s->owner);
    atomic_store(&s->refuse, refuse);
    s->slow = slow;
    struct qpool_loop l = {n, fn, join, leave, s, 0};
    assert_int_equal(qpool_for(p, &l), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(atomic_load(&s->count[i]), 1);
    assert_int_equal(atomic_load(&s->bad), 0);
    assert_int_equal(atomic_load(&s->joins), atomic_load(&s->leaves));
    int total = 0;
    for (int w = 0; w < 8; w++)
        total += atomic_load(&s->by[w]);
    assert_int_equal(total, (int)n);
    /* the caller's indices are a prefix, the pool threads' the rest */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(atomic_load(&s->owner[i]) == 0, i < (size_t)atomic_load(&s->by[0]));
    free(s->count);
    free(s->owner);
}

static void test_null_pool(void **state)
{
    (void)state;
    struct loopst s;
    run_loop(NULL, 1000, 0, 0, &s);
    assert_int_equal(atomic_load(&s.by[0]), 1000);
    assert_int_equal(atomic_load(&s.joins), 0);
    assert_null(qpool_create(0));
    assert_int_equal(qpool_threads(NULL), 0);
}

static void test_helpers_take_part(void **state)
{
    (void)state;
    struct qpool *p = qpool_create(3);
    assert_non_null(p);
    assert_int_equal(qpool_threads(p), 3);
    struct loopst s;
    /* slow indices: the pool threads have time to join */
    run_loop(p, 400, 0, 1, &s);
    int helped = atomic_load(&s.by[1]) + atomic_load(&s.by[2]) + atomic_load(&s.by[3]);
    assert_true(helped > 0);
    assert_true(atomic_load(&s.joins) >= 1);
    /* many small loops, back to back */
    for (int r = 0; r < 500; r++)
        run_loop(p, (size_t)(r % 7), 0, 0, &s);
    /* refused joins: the caller does it all */
    run_loop(p, 300, 1, 1, &s);
    assert_int_equal(atomic_load(&s.by[0]), 300);
    assert_int_equal(atomic_load(&s.joins), 0);
    assert_int_equal(atomic_load(&s.leaves), 0);
    qpool_destroy(p);
    qpool_destroy(NULL);
}

struct caller {
    struct qpool *p;
    int loops;
};

static void *call_many(void *arg)
{
    struct caller *c = arg;
    struct loopst *s = malloc(sizeof *s);
    for (int r = 0; r < c->loops; r++)
        run_loop(c->p, (size_t)(r % 50) + 1, r % 3 == 0, r % 10 == 0, s);
    free(s);
    return NULL;
}

static void test_concurrent_callers(void **state)
{
    (void)state;
    struct qpool *p = qpool_create(2);
    assert_non_null(p);
    pthread_t th[4];
    struct caller c = {p, 300};
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, call_many, &c), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    qpool_destroy(p);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Indices that take 1 ms each. */
struct timed {
    atomic_int *count;
};

static void timed_fn(void *ud, unsigned w, size_t i)
{
    struct timed *t = ud;
    (void)w;
    atomic_fetch_add(&t->count[i], 1);
    usleep(1000);
}

static void test_deadline(void **state)
{
    (void)state;
    struct qpool *pools[2] = {NULL, qpool_create(2)};
    assert_non_null(pools[1]);
    enum { N = 2000 };
    struct timed t = {calloc(N, sizeof *t.count)};
    assert_non_null(t.count);
    for (int k = 0; k < 2; k++) {
        /* passed already: nothing runs */
        memset(t.count, 0, N * sizeof *t.count);
        struct qpool_loop l = {N, timed_fn, NULL, NULL, &t, mono_ns() - 1};
        assert_int_equal(qpool_for(pools[k], &l), -1);
        for (size_t i = 0; i < N; i++)
            assert_int_equal(atomic_load(&t.count[i]), 0);
        /* 20 ms into 2 s of work (over the threads): stopped early, each
         * index at most once (how many ran depends on the scheduler) */
        memset(t.count, 0, N * sizeof *t.count);
        l.deadline_ns = mono_ns() + 20 * 1000000;
        assert_int_equal(qpool_for(pools[k], &l), -1);
        int ran = 0;
        for (size_t i = 0; i < N; i++) {
            int c = atomic_load(&t.count[i]);
            assert_true(c == 0 || c == 1);
            ran += c;
        }
        assert_true(ran < N / 2);
        /* far away: everything runs, 0 */
        memset(t.count, 0, N * sizeof *t.count);
        l.n = 20;
        l.deadline_ns = mono_ns() + (int64_t)60 * 1000000000;
        assert_int_equal(qpool_for(pools[k], &l), 0);
        for (size_t i = 0; i < l.n; i++)
            assert_int_equal(atomic_load(&t.count[i]), 1);
    }
    free(t.count);
    qpool_destroy(pools[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_pool),
        cmocka_unit_test(test_helpers_take_part),
        cmocka_unit_test(test_concurrent_callers),
        cmocka_unit_test(test_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
