/* Unit tests for common/ulid.c: format, monotonicity (per thread),
 * uniqueness (across threads and across fork), validation. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ulid.h"

static int cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_monotonic_unique(void **state)
{
    enum { N = 20000 };
    char(*ids)[ULID_LEN + 1] = malloc(N * sizeof *ids);
    for (int i = 0; i < N; i++) {
        ulid_make(1700000000000ULL + (uint64_t)(i / 1000), ids[i]); /* 1000 ids per ms */
        assert_true(ulid_valid(ids[i], strlen(ids[i])));
        if (i)
            assert_true(strcmp(ids[i - 1], ids[i]) < 0);
    }
    qsort(ids, N, sizeof *ids, cmp);
    for (int i = 1; i < N; i++)
        assert_true(strcmp(ids[i - 1], ids[i]) != 0);
    free(ids);
}

static void test_time_prefix(void **state)
{
    /* The first 10 characters encode the 48-bit millisecond time. */
    char id[ULID_LEN + 1], id2[ULID_LEN + 1];
    ulid_make(1900000000000ULL, id);
    assert_memory_equal(id, "01Q9GD6E00", 10);
    ulid_make(1900000000001ULL, id2);
    assert_memory_equal(id2, "01Q9GD6E01", 10);
    assert_true(strcmp(id, id2) < 0);
}

static void test_clock_back(void **state)
{
    /* A clock that steps back keeps the thread's last time and increments. */
    char a[ULID_LEN + 1], b[ULID_LEN + 1], c[ULID_LEN + 1];
    ulid_make(1950000000005ULL, a);
    ulid_make(1950000000001ULL, b);
    ulid_make(1950000000005ULL, c);
    assert_memory_equal(a, b, 10); /* the time part of a */
    assert_true(strcmp(a, b) < 0);
    assert_true(strcmp(b, c) < 0);
}

enum { THREADS = 4, PER_THREAD = 20000 };
static char (*g_ids)[ULID_LEN + 1];

static void *make_ids(void *arg)
{
    size_t t = (size_t)(uintptr_t)arg;
    char(*mine)[ULID_LEN + 1] = g_ids + t * PER_THREAD;
    for (int i = 0; i < PER_THREAD; i++)
        ulid_make(1960000000000ULL + (uint64_t)(i / 5000), mine[i]); /* all threads, same ms */
    return NULL;
}

static void test_threads(void **state)
{
    /* Every thread's ids increase; all threads' ids together are distinct
     * even though they share every millisecond. */
    g_ids = malloc((size_t)THREADS * PER_THREAD * sizeof *g_ids);
    assert_non_null(g_ids);
    pthread_t th[THREADS];
    for (size_t t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, make_ids, (void *)(uintptr_t)t), 0);
    for (size_t t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    for (size_t t = 0; t < THREADS; t++)
        for (int i = 1; i < PER_THREAD; i++) {
            char *prev = g_ids[t * PER_THREAD + (size_t)i - 1],
                 *id = g_ids[t * PER_THREAD + (size_t)i];
            assert_true(ulid_valid(id, strlen(id)));
            assert_true(strcmp(prev, id) < 0);
        }
    qsort(g_ids, (size_t)THREADS * PER_THREAD, sizeof *g_ids, cmp);
    for (size_t i = 1; i < (size_t)THREADS * PER_THREAD; i++)
        assert_true(strcmp(g_ids[i - 1], g_ids[i]) != 0);
    free(g_ids);
}

static void test_fork(void **state)
{
    /* A forked child must not continue the parent's sequence: both taking
     * the next id of the same millisecond would otherwise get the same one. */
    char before[ULID_LEN + 1], mine[ULID_LEN + 1], child[ULID_LEN + 1] = {0};
    ulid_make(1970000000000ULL, before);
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char id[ULID_LEN + 1];
        ulid_make(1970000000000ULL, id);
        ssize_t w = write(fd[1], id, ULID_LEN);
        _exit(w == ULID_LEN ? 0 : 1);
    }
    close(fd[1]);
    ulid_make(1970000000000ULL, mine);
    size_t got = 0;
    while (got < ULID_LEN) {
        ssize_t r = read(fd[0], child + got, ULID_LEN - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(got, ULID_LEN);
    assert_true(ulid_valid(child, ULID_LEN));
    assert_memory_equal(child, before, 10); /* the same time part: a fresh id of that ms */
    assert_true(strcmp(child, mine) != 0);
    assert_true(strcmp(before, mine) < 0);
}

static void test_validation(void **state)
{
    assert_true(ulid_valid("01JDQ6Z8V6M9T3K2W4X5Y6Z7A8", 26));
    assert_true(ulid_valid("01jdq6z8v6m9t3k2w4x5y6z7a8", 26));
    assert_false(ulid_valid("01JDQ6Z8V6M9T3K2W4X5Y6Z7AU", 26)); /* U not in the alphabet */
    assert_false(ulid_valid("81JDQ6Z8V6M9T3K2W4X5Y6Z7A8", 26)); /* > 128 bits */
    assert_false(ulid_valid("01JDQ6Z8V6M9T3K2W4X5Y6Z7A", 25));
    assert_true(uuid_valid("123e4567-e89b-12d3-a456-426614174000", 36));
    assert_false(uuid_valid("123e4567e89b-12d3-a456-426614174000-", 36));
    assert_false(uuid_valid("123e4567-e89b-12d3-a456-42661417400g", 36));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_monotonic_unique),
        cmocka_unit_test(test_time_prefix),
        cmocka_unit_test(test_clock_back),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_fork),
        cmocka_unit_test(test_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
