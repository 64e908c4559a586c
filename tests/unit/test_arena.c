/* Unit tests for common/arena.c: bump allocation, reset, and the cJSON hooks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "event.h"

static void test_alloc_reset(void **state)
{
    struct arena *a = arena_create(1024);
    char *p = arena_alloc(a, 10), *q = arena_alloc(a, 10);
    assert_non_null(p);
    assert_true(((uintptr_t)p & 15) == 0 && ((uintptr_t)q & 15) == 0);
    assert_ptr_equal(q, p + 16);
    memset(p, 1, 10);
    char *big = arena_alloc(a, 100000); /* larger than a chunk: a chunk of its own */
    assert_non_null(big);
    memset(big, 2, 100000);
    arena_reset(a);
    char *r = arena_alloc(a, 10); /* the kept chunk is reused */
    assert_non_null(r);
    arena_destroy(a);
    arena_destroy(NULL);
}

static void test_cjson_hooks(void **state)
{
    arena_install_cjson_hooks();
    const char *json = "{\"schema\":\"llmtap.event/1\",\"a\":[1,2,{\"b\":\"c\"}],\"s\":\"text\"}";
    /* No arena active: ordinary malloc/free (cJSON_Delete frees it). */
    cJSON *plain = cJSON_Parse(json);
    assert_non_null(plain);

    struct arena *a = arena_create(4096);
    arena_activate(a);
    for (int i = 0; i < 1000; i++) {
        struct event_error err;
        cJSON *t = event_parse_json(json, strlen(json), NULL, 0, &err);
        assert_non_null(t);
        assert_string_equal(cJSON_GetObjectItem(t, "s")->valuestring, "text");
        arena_reset(a); /* the whole tree, at once */
    }
    /* A tree made before activation is still freed for real while active. */
    cJSON_Delete(plain);
    arena_activate(NULL);
    arena_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_reset),
        cmocka_unit_test(test_cjson_hooks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
