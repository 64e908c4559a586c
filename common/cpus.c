/*
 * cpus.c — the CPUs this process may use. API and design: cpus.h.
 */
#include "cpus.h"

#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned affinity_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return (unsigned)n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

/* A small file's first line, without its newline; false when unreadable. */
static int read_line(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int ok = fgets(out, (int)cap, f) != NULL;
    fclose(f);
    if (ok)
        out[strcspn(out, "\n")] = 0;
    return ok;
}

/* CPUs allowed by quota over period, rounded up; 0: no limit. */
static unsigned quota_cpus(long long quota, long long period)
{
    if (quota <= 0 || period <= 0)
        return 0;
    long long n = (quota + period - 1) / period;
    return n > (long long)UINT_MAX ? 0 : (unsigned)n;
}

/* The limit in cgroup directory dir (v2: cpu.max; v1: cpu.cfs_*); 0: none. */
static unsigned dir_limit(const char *dir, int v2)
{
    char path[PATH_MAX], line[128];
    if (v2) {
        if (snprintf(path, sizeof path, "%s/cpu.max", dir) >= (int)sizeof path ||
            !read_line(path, line, sizeof line))
            return 0;
        long long quota, period;
        if (strncmp(line, "max", 3) == 0 || sscanf(line, "%lld %lld", &quota, &period) != 2)
            return 0;
        return quota_cpus(quota, period);
    }
    long long quota, period;
    if (snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir) >= (int)sizeof path ||
        !read_line(path, line, sizeof line) || sscanf(line, "%lld", &quota) != 1)
        return 0;
    if (snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir) >= (int)sizeof path ||
        !read_line(path, line, sizeof line) || sscanf(line, "%lld", &period) != 1)
        return 0;
    return quota_cpus(quota, period);
}

/* The smallest limit in mount/cgpath and its parents up to mount; 0: none. */
static unsigned walk_limit(const char *mount, const char *cgpath, int v2)
{
    char dir[PATH_MAX];
    unsigned best = 0;
    if (snprintf(dir, sizeof dir, "%s%s", mount, cgpath) >= (int)sizeof dir)
        return 0;
    size_t base = strlen(mount);
    for (;;) {
        unsigned n = dir_limit(dir, v2);
        if (n && (!best || n < best))
            best = n;
        char *slash = strrchr(dir + base, '/');
        if (!slash)
            break;
        *slash = 0; /* the parent; the mount itself last */
    }
    return best;
}

/* Whether v1's comma-separated controller list names "cpu". */
static int has_cpu(const char *list, size_t len)
{
    while (len) {
        const char *comma = memchr(list, ',', len);
        size_t n = comma ? (size_t)(comma - list) : len;
        if (n == 3 && memcmp(list, "cpu", 3) == 0)
            return 1;
        if (!comma)
            break;
        len -= n + 1;
        list = comma + 1;
    }
    return 0;
}

unsigned cpus_usable_at(const char *root, unsigned affinity)
{
    unsigned n = affinity ? affinity : affinity_count();
    char path[PATH_MAX], mount[PATH_MAX], line[4096];
    if (snprintf(path, sizeof path, "%s/proc/self/cgroup", root) >= (int)sizeof path)
        return n;
    FILE *f = fopen(path, "r");
    if (!f)
        return n;
    unsigned limit = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        /* hierarchy-id:controllers:path */
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2 || c2[1] != '/')
            continue;
        const char *ctl = c1 + 1, *cgpath = c2 + 1;
        size_t ctl_len = (size_t)(c2 - ctl);
        unsigned got = 0;
        if (ctl_len == 0 && strncmp(line, "0:", 2) == 0) { /* v2 */
            if (snprintf(mount, sizeof mount, "%s/sys/fs/cgroup", root) < (int)sizeof mount)
                got = walk_limit(mount, strcmp(cgpath, "/") ? cgpath : "", 1);
        } else if (has_cpu(ctl, ctl_len)) { /* v1: cpu, or cpu,cpuacct */
            static const char *const mounts[] = {"cpu", "cpu,cpuacct", "cpuacct,cpu"};
            for (size_t i = 0; i < sizeof mounts / sizeof *mounts && !got; i++)
                if (snprintf(mount, sizeof mount, "%s/sys/fs/cgroup/%s", root, mounts[i]) <
                    (int)sizeof mount)
                    got = walk_limit(mount, strcmp(cgpath, "/") ? cgpath : "", 0);
        }
        if (got && (!limit || got < limit))
            limit = got;
    }
    fclose(f);
    return limit && limit < n ? limit : n;
}

unsigned cpus_usable(void)
{
    return cpus_usable_at("", 0);
}
