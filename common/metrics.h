/*
 * metrics.h — a small registry of counters and gauges rendered in the
 * Prometheus text exposition format (version 0.0.4) for GET /metrics.
 *
 * Metrics are registered at start-up (not on hot paths) and updated with
 * relaxed atomics from any thread. A metric is a name plus an optional
 * fixed label string (`reason="too_large"`); entries sharing a name are
 * rendered under one HELP/TYPE header. Gauges may instead be computed at
 * render time by a callback.
 */
#ifndef LLMTAP_METRICS_H
#define LLMTAP_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum metric_type { METRIC_COUNTER, METRIC_GAUGE };

struct metric {
    const char *name;
    const char *help;
    char labels[96]; /* rendered inside {...}; empty for none */
    enum metric_type type;
    _Atomic uint64_t value; /* counters */
    _Atomic int64_t gauge;  /* gauges without a callback */
    double (*fn)(void *ud); /* gauge callback, or NULL */
    void *fn_ud;
};

struct metrics;

struct metrics *metrics_create(void);
void metrics_destroy(struct metrics *m); /* accepts NULL */

/* Registers a metric; the returned pointer lives as long as the registry.
 * name and help must be string literals (or outlive the registry). labels
 * may be NULL. Returns NULL when the registry is full (a programming error). */
struct metric *metrics_counter(struct metrics *m, const char *name, const char *help,
                               const char *labels);
struct metric *metrics_gauge(struct metrics *m, const char *name, const char *help,
                             const char *labels);
struct metric *metrics_gauge_fn(struct metrics *m, const char *name, const char *help,
                                const char *labels, double (*fn)(void *), void *ud);
/* A counter whose value fn returns when read (a count kept elsewhere, e.g.
 * by a library); fn must never go down. */
struct metric *metrics_counter_fn(struct metrics *m, const char *name, const char *help,
                                  const char *labels, double (*fn)(void *), void *ud);

static inline void metric_add(struct metric *mt, uint64_t n)
{
    atomic_fetch_add_explicit(&mt->value, n, memory_order_relaxed);
}
static inline void metric_inc(struct metric *mt)
{
    metric_add(mt, 1);
}
static inline void metric_set(struct metric *mt, int64_t v)
{
    atomic_store_explicit(&mt->gauge, v, memory_order_relaxed);
}
static inline uint64_t metric_get(struct metric *mt)
{
    return atomic_load_explicit(&mt->value, memory_order_relaxed);
}

/* Iteration (after registration is over, from any thread): the number of
 * metrics, the i-th, and a metric's current value (a counter's count, a
 * gauge's value or its callback's result). */
size_t metrics_count(const struct metrics *m);
struct metric *metrics_at(struct metrics *m, size_t i);
double metric_value(struct metric *mt);

/* Appends the exposition text of every metric to out. */
void metrics_render(struct metrics *m, struct buf *out);

#endif
