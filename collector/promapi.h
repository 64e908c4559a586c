/*
 * promapi.h — the collector's Prometheus-compatible HTTP API over the time
 * series store (storage/series.h) and the PromQL evaluator
 * (promql_eval.h), so Grafana's Prometheus data source and promtool work
 * against llmtap (docs/query.md, "HTTP API"):
 *   GET|POST /api/v1/query, /api/v1/query_range, /api/v1/series,
 *            /api/v1/labels, /api/v1/format_query, /api/v1/query_exemplars
 *            (from the stored events: exemplars.h)
 *   GET      /api/v1/label/<name>/values, /api/v1/metadata,
 *            /api/v1/status/buildinfo
 * Answers use Prometheus's envelope: {"status":"success","data":...} or
 * {"status":"error","errorType":...,"error":...}.
 *
 * THREADS: handlers run on the HTTP pool threads, each with its own read
 * transaction (store_txn_read), concurrently with ingest.
 */
#ifndef LLMTAP_COLLECTOR_PROMAPI_H
#define LLMTAP_COLLECTOR_PROMAPI_H

#include <stdbool.h>
#include <stdint.h>

#include "httpd.h"

struct metrics;
struct selfseries;
struct series_db;
struct store;

struct promapi {
    struct store *st;
    struct series_db *db;    /* NULL: every endpoint answers 503 */
    struct selfseries *self; /* the collector's own llmtap_* series, or NULL */
    struct qpool *pool;      /* helper threads of queries (qpool.h), or NULL */
    struct metrics *metrics; /* the registry self samples (metadata) */
    size_t max_examined;     /* most events one exemplar query scans (api.max_examined) */
    unsigned labels;         /* the series' label mask (series.labels) */
    int64_t ds_step_ms;      /* query steps this long read downsampled data (the grid's) */
    int64_t timeout_ms;      /* query.timeout: one evaluation's wall-clock limit */
    uint64_t max_samples;    /* query.max_samples: samples one evaluation may hold */
    struct metric *queries, *query_errors, *exemplar_queries, *exemplar_events;
};

void promapi_init(struct promapi *p, struct store *st, struct series_db *db, struct metrics *m);
/* Handles req when its path is one of the API's; returns false otherwise
 * (resp untouched). Thread-safe. */
bool promapi_handle(struct promapi *p, const struct httpd_req *req, struct httpd_resp *resp);

#endif
