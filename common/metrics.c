/*
 * metrics.c — fixed-capacity metric registry and Prometheus text rendering.
 *
 * DESIGN: registration happens on one thread at start-up; after that the
 * array is only read, so rendering needs no lock. Values are atomics.
 */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_MAX 256

struct metrics {
    struct metric items[METRICS_MAX];
    size_t n;
};

struct metrics *metrics_create(void)
{
    return calloc(1, sizeof(struct metrics));
}

void metrics_destroy(struct metrics *m)
{
    free(m);
}

static struct metric *add(struct metrics *m, const char *name, const char *help, const char *labels,
                          enum metric_type type)
{
    if (m->n >= METRICS_MAX)
        return NULL;
    struct metric *mt = &m->items[m->n++];
    mt->name = name;
    mt->help = help;
    mt->type = type;
    snprintf(mt->labels, sizeof mt->labels, "%s", labels ? labels : "");
    return mt;
}

struct metric *metrics_counter(struct metrics *m, const char *name, const char *help,
                               const char *labels)
{
    return add(m, name, help, labels, METRIC_COUNTER);
}

struct metric *metrics_gauge(struct metrics *m, const char *name, const char *help,
                             const char *labels)
{
    return add(m, name, help, labels, METRIC_GAUGE);
}

struct metric *metrics_gauge_fn(struct metrics *m, const char *name, const char *help,
                                const char *labels, double (*fn)(void *), void *ud)
{
    struct metric *mt = add(m, name, help, labels, METRIC_GAUGE);
    if (mt) {
        mt->fn = fn;
        mt->fn_ud = ud;
    }
    return mt;
}

struct metric *metrics_counter_fn(struct metrics *m, const char *name, const char *help,
                                  const char *labels, double (*fn)(void *), void *ud)
{
    struct metric *mt = add(m, name, help, labels, METRIC_COUNTER);
    if (mt) {
        mt->fn = fn;
        mt->fn_ud = ud;
    }
    return mt;
}

size_t metrics_count(const struct metrics *m)
{
    return m ? m->n : 0;
}

struct metric *metrics_at(struct metrics *m, size_t i)
{
    return i < m->n ? &m->items[i] : NULL;
}

double metric_value(struct metric *mt)
{
    if (mt->fn)
        return mt->fn(mt->fn_ud);
    if (mt->type == METRIC_COUNTER)
        return (double)metric_get(mt);
    return (double)atomic_load(&mt->gauge);
}

void metrics_render(struct metrics *m, struct buf *out)
{
    for (size_t i = 0; i < m->n; i++) {
        struct metric *first = &m->items[i];
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(m->items[j].name, first->name) == 0;
        if (seen)
            continue;
        buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", first->name, first->help, first->name,
                   first->type == METRIC_COUNTER ? "counter" : "gauge");
        for (size_t j = i; j < m->n; j++) {
            struct metric *mt = &m->items[j];
            if (strcmp(mt->name, first->name) != 0)
                continue;
            buf_puts(out, mt->name);
            if (mt->labels[0])
                buf_printf(out, "{%s}", mt->labels);
            if (mt->fn)
                buf_printf(out, " %.17g\n", mt->fn(mt->fn_ud));
            else if (mt->type == METRIC_COUNTER)
                buf_printf(out, " %llu\n", (unsigned long long)metric_get(mt));
            else
                buf_printf(out, " %lld\n", (long long)atomic_load(&mt->gauge));
        }
    }
}
