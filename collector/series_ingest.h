/*
 * series_ingest.h — derives the time series (storage/series.h) of each
 * stored event at ingest: the counters llm_requests_total,
 * llm_tokens_total{type}, llm_cost_usd_total and the classic histograms
 * llm_request_duration_seconds, llm_time_to_first_token_seconds and
 * llm_request_tokens{type}, labelled service, env, provider, model,
 * operation, status_class and prompt_version (when present).
 *
 * Writes happen inside the ingest batch's own store transaction
 * (store_append_hook), so events, offsets and series commit together. After
 * a failed batch call series_ingest_rollback(). Writer calls: the ingest
 * thread only. series_ingest_db() is for readers (any thread, their own
 * read transaction from store_txn_read).
 */
#ifndef LLMTAP_SERIES_INGEST_H
#define LLMTAP_SERIES_INGEST_H

#include <stddef.h>
#include <stdint.h>

struct MDB_txn;
struct metrics;
struct store;
struct store_event;
struct series_db;
struct series_ingest;

/* What an event carries beyond struct store_event (NULL / -1 / NaN when
 * absent). Strings must live until the batch is committed. */
struct series_event_extra {
    const char *env, *prompt_version;
    int64_t cached_input_tokens, cache_write_tokens, reasoning_tokens;
    double ttft_ms;
    int has_error;   /* a non-null "error" object */
    int has_latency; /* latency_ms present */
};

/* The metrics ingest writes, for /api/v1/metadata: NULL-terminated. */
struct series_metric_meta {
    const char *name, *type, *help, *unit;
};
extern const struct series_metric_meta series_ingest_metrics[];

/* The labels every series of an event may carry besides __name__ and the
 * metric's own (type, le): service, env, provider, model, operation,
 * status_class, prompt_version, in that order (bit i of a label mask is
 * label i). The setting series.labels chooses which are kept
 * (series_ingest_parse_labels); fewer labels, fewer series. */
#define SERIES_INGEST_DIMS       7
#define SERIES_INGEST_ALL_LABELS 0x7fu
/* Parses a comma-separated list of those label names into a mask. Returns
 * 0, or -1 with err naming the unknown label. */
int series_ingest_parse_labels(const char *list, unsigned *mask, char *err, size_t errlen);
/* Writes the labels of mask that are present (not NULL or "") to out (at
 * most SERIES_INGEST_DIMS; names are static, values point at the
 * arguments) and returns how many; with fold, every value is
 * SERIES_OVERFLOW (the series of an event past the cardinality limit).
 * status_class is derived from status and has_error as at ingest.
 * Exemplars use this to name the series an event is in. */
struct series_label;
size_t series_ingest_dims(const char *service, const char *env, const char *provider,
                          const char *model, const char *operation, int32_t status, int has_error,
                          const char *prompt_version, unsigned mask, int fold,
                          struct series_label *out);
/* The `le` label value ("0.64", "+Inf") of the llm_request_duration_seconds
 * bucket an observation of seconds falls in: the smallest bound >= seconds. */
void series_ingest_duration_le(double seconds, char *out, size_t cap);

struct series_opts;
/* Opens the series databases in the store (creating them) with opts (NULL:
 * series.h's defaults) and registers the module's own counters.
 * max_per_metric: the most series per metric name before label values fold
 * into __overflow__. */
int series_ingest_create(struct store *st, struct metrics *m, const struct series_opts *opts,
                         uint64_t max_per_metric, struct series_ingest **out, char *err,
                         size_t errlen);
void series_ingest_destroy(struct series_ingest *si);
/* The labels series get from now on (a mask as above; default all). Call
 * before ingest starts. */
void series_ingest_set_labels(struct series_ingest *si, unsigned mask);
struct series_db *series_ingest_db(struct series_ingest *si);

/* Adds the deltas of one newly stored event (inside the batch's write
 * transaction). Returns 0, or a series/LMDB error that must abort the
 * batch. Late events are counted and skipped (0). */
int series_ingest_event(struct series_ingest *si, struct MDB_txn *txn, const struct store_event *e,
                        const struct series_event_extra *x, int64_t now_ms);
/* Writes the batch's series state into txn; call after the last event. */
int series_ingest_flush(struct series_ingest *si, struct MDB_txn *txn, int64_t now_ms);
/* Housekeeping, from the ingest thread between batches: at most every 10
 * seconds (every second while work remains) one short write transaction
 * seals old buckets, downsamples and applies retention, a bounded amount.
 * Failures are counted and retried later. */
void series_ingest_maint(struct series_ingest *si, int64_t now_ms);
/* After the batch transaction was aborted: reloads the writer's state from
 * the last commit and drops the label-set cache. */
int series_ingest_rollback(struct series_ingest *si);

#endif
