/*
 * selfseries.h — the collector's own health metrics (llmtap_*, as on
 * /metrics) as queryable time series, so a Grafana panel or an alert can
 * use them through the same Prometheus API as the LLM series.
 *
 * What is kept. A sampler thread reads every metric of the registry
 * (common/metrics.h) each `res_ms` (10 s, the series' base resolution) and
 * appends the value to that metric's ring; rings hold the last `keep_ms`
 * (default 6 h) of samples. Counters are sampled as they are (they restart
 * from 0 with the process, which rate() and increase() read as a reset,
 * as for any scraped target); gauges as their current value.
 *
 * Why in memory, not in the series store: the store's series are counters
 * built from events (storage/series.h only adds non-negative deltas), and
 * its history is durable; the collector's own metrics are gauges as well
 * as counters, describe the running process, and are the kind of data a
 * Prometheus scraping /metrics keeps for the long term. So they live for
 * keep_ms, are lost at a restart, and cost a fixed amount of memory:
 * 8 bytes per metric per sample (about 2 MB for 6 h of 100 metrics).
 *
 * Labels. `__name__` and the metric's fixed labels (reason="…"), plus
 * nothing else: these series never collide with the LLM series, whose
 * names start with llm_.
 *
 * THREADS. selfseries_sample (the sampler thread, or a test) and the
 * readers (any HTTP thread) share the rings under one mutex; readers copy
 * what they need and never block sampling for longer than the copy.
 */
#ifndef LLMTAP_COLLECTOR_SELFSERIES_H
#define LLMTAP_COLLECTOR_SELFSERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct metrics;
struct series_label;
struct selfseries;

/* Sets up rings for every metric registered in m so far (register all
 * metrics first). res_ms, keep_ms > 0. NULL when out of memory. */
struct selfseries *selfseries_create(struct metrics *m, int64_t res_ms, int64_t keep_ms);
/* Starts the sampler thread (first sample at once). Returns 0 or an errno. */
int selfseries_start(struct selfseries *s);
/* Stops the sampler thread (if started) and frees. Accepts NULL. */
void selfseries_destroy(struct selfseries *s);
/* Takes one sample of every metric stamped now_ms, rounded down to the
 * grid (a second sample in the same grid slot replaces the first). */
void selfseries_sample(struct selfseries *s, int64_t now_ms);

/* Whether a series with these labels is wanted (the caller's matchers). */
typedef bool (*selfseries_match_fn)(void *ud, const struct series_label *l, size_t n);
/* Called for each wanted series that has samples in [start_ms, end_ms]
 * (inclusive), oldest first, with the rings locked: copy what is needed
 * and return (t and v are valid during the call only).
 * Return nonzero to stop. */
typedef int (*selfseries_each_fn)(void *ud, const struct series_label *l, size_t n,
                                  const int64_t *t, const double *v, size_t ns);
/* Returns 0, the callback's nonzero value, or ENOMEM. */
int selfseries_select(struct selfseries *s, int64_t start_ms, int64_t end_ms,
                      selfseries_match_fn match, void *match_ud, selfseries_each_fn fn, void *ud);

#endif
