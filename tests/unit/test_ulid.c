/* Unit tests for common/ulid.c: format, monotonicity, uniqueness, validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ulid.h"

static int cmp(const void *a, const void *b) { return strcmp(a, b); }

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
        cmocka_unit_test(test_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
