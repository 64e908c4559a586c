/* Unit tests for common/cpus.c: the affinity count lowered by a cgroup CPU
 * quota (v2 cpu.max, v1 cpu.cfs_quota_us/cfs_period_us) found in the
 * process's cgroup or a parent, rounded up; no quota, missing or malformed
 * files leave the affinity count; the real call gives a sane number. Each
 * case builds a fake root (proc/self/cgroup, sys/fs/cgroup/...) in a
 * temporary directory. */
#include <limits.h>
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

#include "cpus.h"

static char root[PATH_MAX];

/* Writes text to root/rel, creating the directories on the way. */
static void put(const char *rel, const char *text)
{
    char path[PATH_MAX + 256];
    assert_true(strlen(root) + strlen(rel) + 2 <= sizeof path);
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
        *p = 0;
        mkdir(path, 0755);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/llmtap-test-cpus-XXXXXX");
    assert_non_null(mkdtemp(root));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void test_v2(void **state)
{
    (void)state;
    put("proc/self/cgroup", "0::/kubepods/pod1/ctr\n");
    /* no cpu.max anywhere: the affinity count */
    assert_int_equal(cpus_usable_at(root, 8), 8);
    /* 1.5 CPUs in the process's own cgroup: 2 */
    put("sys/fs/cgroup/kubepods/pod1/ctr/cpu.max", "150000 100000\n");
    assert_int_equal(cpus_usable_at(root, 8), 2);
    /* a parent's smaller limit binds */
    put("sys/fs/cgroup/kubepods/pod1/ctr/cpu.max", "max 100000\n");
    put("sys/fs/cgroup/kubepods/pod1/cpu.max", "100000 100000\n");
    assert_int_equal(cpus_usable_at(root, 8), 1);
    put("sys/fs/cgroup/kubepods/pod1/ctr/cpu.max", "300000 100000\n");
    assert_int_equal(cpus_usable_at(root, 8), 1);
    /* and the child's smaller one */
    put("sys/fs/cgroup/kubepods/pod1/cpu.max", "500000 100000\n");
    assert_int_equal(cpus_usable_at(root, 8), 3);
    /* a limit above the affinity count does not raise it */
    put("sys/fs/cgroup/kubepods/pod1/ctr/cpu.max", "max 100000\n");
    put("sys/fs/cgroup/kubepods/pod1/cpu.max", "1600000 100000\n");
    assert_int_equal(cpus_usable_at(root, 4), 4);
    /* malformed: ignored */
    put("sys/fs/cgroup/kubepods/pod1/cpu.max", "lots\n");
    assert_int_equal(cpus_usable_at(root, 6), 6);
}

static void test_v2_container_root(void **state)
{
    (void)state;
    /* the host's path in /proc/self/cgroup, the container's own cgroup
     * mounted at the root */
    put("proc/self/cgroup", "0::/system.slice/docker-abc.scope\n");
    put("sys/fs/cgroup/cpu.max", "250000 100000\n");
    assert_int_equal(cpus_usable_at(root, 16), 3);
}

static void test_v1(void **state)
{
    (void)state;
    put("proc/self/cgroup", "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n");
    /* -1: no quota */
    put("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "-1\n");
    put("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
    assert_int_equal(cpus_usable_at(root, 8), 8);
    put("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "300000\n");
    assert_int_equal(cpus_usable_at(root, 8), 3);
    /* a quota without its period counts for nothing */
    put("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "\n");
    assert_int_equal(cpus_usable_at(root, 8), 8);
}

static void test_nothing_there(void **state)
{
    (void)state;
    assert_int_equal(cpus_usable_at("/nonexistent-llmtap-root", 5), 5);
    put("proc/self/cgroup", "garbage\n::\n7\n");
    assert_int_equal(cpus_usable_at(root, 3), 3);
}

static void test_real(void **state)
{
    (void)state;
    unsigned n = cpus_usable();
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    assert_true(n >= 1);
    assert_true(online < 1 || n <= (unsigned)online);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_v2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v2_container_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_there, setup, teardown),
        cmocka_unit_test(test_real),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
