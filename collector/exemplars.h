/*
 * exemplars.h — answers /api/v1/query_exemplars from the stored events.
 *
 * What it is for. Grafana asks for exemplars alongside a graph and draws
 * them as points that link to a trace; llmtap's exemplars are its own
 * events, so a click on a latency or cost spike opens the exact call
 * (prompt, response, trace). llmtap keeps no separate exemplar storage: the
 * events store already holds every call with its time, latency and cost in
 * each record's fixed header.
 *
 * Which exemplars. Two series families carry them, as a Prometheus client
 * would attach them:
 *   llm_request_duration_seconds_bucket{le}  value = latency in seconds, on
 *                                            the bucket the call fell in
 *   llm_cost_usd_total                       value = the call's cost in USD
 * The range [start, end] is cut into EXEMPLARS_SLICES equal slices; for
 * each series a selector of the query matches, each slice contributes the
 * event with the largest value in it. So spikes anywhere in the range get
 * an exemplar, the answer stays small whatever the traffic, and the
 * largest call of the whole range is always among them. Labels:
 * `event_id` (for /api/v1/events/{id}) and `trace_id` when the event has
 * one.
 *
 * DESIGN
 * - Phase 1, one bounded scan of the events in range (store_scan, newest
 *   first, at most max_examined records), reading only record headers: the
 *   header matchers (service, model, provider, operation) of the query's
 *   selectors prefilter; per slice and header label combination the
 *   EXEMPLARS_KEEP largest calls stay candidates.
 * - Phase 2, for the candidates only: the event is read (store_get) for
 *   env, prompt_version, error and trace_id; its series labels are built
 *   exactly as at ingest (series_ingest_dims), resolved against the series
 *   store (the folded __overflow__ label set when the event's own was past
 *   the cardinality limit), and matched against every matcher of the
 *   selectors. Per series and slice the largest remains.
 * - A header combination with more than EXEMPLARS_KEEP calls in one slice
 *   that differ only in env or prompt_version may, rarely, lose its largest
 *   call of a selected env to calls of another; the answer is then a
 *   smaller call of the right series, never a wrong one.
 * - At most EXEMPLARS_MAX_CANDIDATES events are read in phase 2 (the
 *   largest values win); candidates are read and resolved in batches, so
 *   memory stays bounded.
 * - A scan stopped by max_examined, or candidates cut, still answers, with
 *   a warning.
 *
 * THREADS: any HTTP thread; every phase uses its own read transaction.
 */
#ifndef LLMTAP_COLLECTOR_EXEMPLARS_H
#define LLMTAP_COLLECTOR_EXEMPLARS_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct promql_expr;
struct series_db;
struct store;

#define EXEMPLARS_SLICES         100
#define EXEMPLARS_KEEP           3
#define EXEMPLARS_MAX_CANDIDATES 20000

struct exemplars_result {
    size_t examined;   /* records looked at in phase 1 */
    size_t candidates; /* events read in phase 2 */
    int partial;       /* the scan stopped at max_examined */
};

/* Appends the JSON array of Prometheus's query_exemplars `data`
 * ([{"seriesLabels":{…},"exemplars":[{"labels":{…},"value":"…",
 * "timestamp":…}]}], series sorted by labels, exemplars by time) for the
 * vector selectors of the query rooted at root, events with time in
 * [start_ms, end_ms]; labels is the series' label mask (series.labels,
 * series_ingest.h). Returns 0, or a store/series error code (nothing
 * useful appended then); out->oom says when memory ran out. */
int exemplars_query(struct store *st, struct series_db *db, const struct promql_expr *root,
                    int64_t start_ms, int64_t end_ms, size_t max_examined, unsigned labels,
                    struct buf *out, struct exemplars_result *res);

#endif
