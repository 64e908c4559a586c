/*
 * cpus.h — how many CPUs this process may use: what a default of "one
 * thread per CPU" should count.
 *
 * What it is for. sysconf(_SC_NPROCESSORS_ONLN) counts the host's CPUs. In
 * a container limited to 2 CPUs on a 64-core host that starts 64 threads
 * that then share 2 CPUs' worth of time, each running in short slices:
 * the work split over them finishes later than on 2 threads.
 *
 * DESIGN
 * - The count starts from the CPU affinity mask (sched_getaffinity: what
 *   taskset, cpusets and Kubernetes' static CPU manager allow), then is
 *   lowered to a cgroup CPU quota rounded up (a limit of 1.5 CPUs counts
 *   2): cgroup v2's cpu.max, or v1's cpu.cfs_quota_us / cpu.cfs_period_us.
 * - The quota is looked for in the process's own cgroup (from
 *   /proc/self/cgroup) and in each parent up to the hierarchy's root; the
 *   smallest found counts, since a parent's limit binds its children. A
 *   container that sees the host's path of its cgroup but has its own
 *   cgroup mounted at the root finds the quota at the root.
 * - Anything missing or unreadable means "no limit from there", never an
 *   error: the result is at least 1.
 */
#ifndef LLMTAP_CPUS_H
#define LLMTAP_CPUS_H

/* The CPUs this process may use (at least 1). */
unsigned cpus_usable(void);

/* The same with the files under root ("" for the real ones; tests give a
 * directory holding proc/self/cgroup and sys/fs/cgroup/...) and the
 * affinity count given (0: this process's). */
unsigned cpus_usable_at(const char *root, unsigned affinity);

#endif
