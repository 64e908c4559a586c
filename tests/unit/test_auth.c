/* Unit tests for collector/auth.c: loading the auth file (what is accepted,
 * each refusal and its message). Checking requests needs a live connection:
 * it.auth_tls covers it end to end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth.h"
#include "metrics.h"

static char path[64];

static int load(const char *text, mode_t mode, char *err, size_t errlen, size_t *tok, size_t *usr)
{
    snprintf(path, sizeof path, "/tmp/llmtap-auth-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    chmod(path, mode);
    struct metrics *m = metrics_create();
    struct auth *a = NULL;
    err[0] = 0;
    int rc = auth_load(path, m, &a, err, errlen);
    auth_counts(a, tok, usr);
    auth_free(a);
    metrics_destroy(m);
    unlink(path);
    return rc;
}

static void test_accepts(void **state)
{
    char err[512];
    size_t t, u;
    assert_int_equal(load("tokens:\n"
                          "  - token: \"0123456789abcdef0123\"\n"
                          "    scope: read\n"
                          "  - {token: \"fedcba9876543210xxxx\", scope: write}\n"
                          "users:\n"
                          "  - username: grafana\n"
                          "    password: \"correct horse\"\n"
                          "    scope: read\n",
                          0600, err, sizeof err, &t, &u),
                     0);
    assert_int_equal(t, 2);
    assert_int_equal(u, 1);
    assert_int_equal(load("users:\n  - {username: a, password: 12345678, scope: write}\n", 0400,
                          err, sizeof err, &t, &u),
                     0);
    assert_int_equal(u, 1);
}

static void refused(const char *text, mode_t mode, const char *want)
{
    char err[512];
    size_t t, u;
    assert_int_equal(load(text, mode, err, sizeof err, &t, &u), -1);
    if (!strstr(err, want))
        fail_msg("error \"%s\" does not say \"%s\"", err, want);
    assert_non_null(strstr(err, "/tmp/llmtap-auth-")); /* names the file */
    /* A secret is never echoed back. */
    assert_null(strstr(err, "0123456789abcdef"));
}

static void test_refuses(void **state)
{
    const char *ok = "tokens:\n  - token: \"0123456789abcdef0123\"\n    scope: read\n";
    refused(ok, 0644, "chmod 600");
    refused(ok, 0660, "chmod 600");
    refused("", 0600, "empty");
    refused("tokens: [\n", 0600, "YAML");
    refused("- a\n- b\n", 0600, "must be a mapping");
    refused("secrets: []\n", 0600, "unknown key \"secrets\"");
    refused("tokens: {token: x}\n", 0600, "must be a list");
    refused("tokens:\n  - token: \"0123456789abcdef0123\"\n", 0600, "scope must be");
    refused("tokens:\n  - token: \"0123456789abcdef0123\"\n    scope: admin\n", 0600,
            "scope must be \"read\" or \"write\", not \"admin\"");
    refused("tokens:\n  - token: short\n    scope: read\n", 0600, "at least 16");
    refused("tokens:\n  - scope: read\n", 0600, "needs a `token`");
    refused("tokens:\n  - token: \"0123456789abcdef0123\"\n    scope: read\n    user: x\n", 0600,
            ":4: unknown key \"user\"");
    refused("users:\n  - {username: \"a:b\", password: 12345678, scope: read}\n", 0600,
            "without ':'");
    refused("users:\n  - {username: a, password: 1234, scope: read}\n", 0600, "at least 8");
    refused("users:\n  - {password: 12345678, scope: read}\n", 0600, "needs a `username`");
    refused("tokens:\nusers:\n", 0600, "no tokens and no users");
}

static void test_missing_file(void **state)
{
    struct metrics *m = metrics_create();
    struct auth *a = NULL;
    char err[256];
    assert_int_equal(auth_load("/nonexistent/llmtap-auth.yaml", m, &a, err, sizeof err), -1);
    assert_null(a);
    assert_non_null(strstr(err, "/nonexistent/llmtap-auth.yaml: No such file"));
    metrics_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts),
        cmocka_unit_test(test_refuses),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
