/*
 * promql_eval.h — evaluates a parsed PromQL query (promql_parse.h) against
 * an abstract series source, as Prometheus 3.x's engine does, and writes the
 * result as the Prometheus HTTP API's JSON.
 *
 * What it is for: the collector's /api/v1/query and /api/v1/query_range, so
 * Grafana's Prometheus data source works against llmtap. The storage side is
 * a struct promql_source: one callback that returns the raw samples of the
 * series a selector matches. The evaluator never sees the store itself.
 *
 * Semantics are Prometheus 3's (docs/query.md, "Evaluation"), with one
 * deliberate, switchable difference: with exact_counters, rate() and
 * increase() return the exact change of a counter over the window instead
 * of Prometheus's extrapolated estimate.
 *
 * THREADS: no global state. Any number of evaluations may run at the same
 * time on different threads, even over the same tree (the tree is only
 * read) and the same source (if the source allows concurrent calls). One
 * evaluation calls its source from the calling thread only.
 *
 * OWNERSHIP: a result belongs to the caller and is freed with
 * promql_result_free(); it holds copies of everything it shows (labels,
 * samples), so the tree and the source's memory may go once the evaluation
 * has returned.
 */
#ifndef LLMTAP_PROMQL_EVAL_H
#define LLMTAP_PROMQL_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "promql_ast.h"

struct buf;

/* Returned by the promql_eval_* functions when the query could not be
 * evaluated; struct promql_eval_error says why. (PROMQL_ENOMEM and
 * PROMQL_EINVAL from promql_ast.h are used as well.) */
enum { PROMQL_EEVAL = -31010 };

/* A label. Names and values are NUL-terminated and carry their length;
 * a value may contain NUL bytes (label_replace can put them there). */
struct promql_label {
    struct promql_str name, value;
};

/* One sample: t in milliseconds since the epoch. */
struct promql_sample {
    int64_t t;
    double v;
};

/* A series: labels sorted by name (bytewise), no two with the same name,
 * none with an empty value; samples in strictly ascending time order. */
struct promql_series {
    const struct promql_label *labels;
    size_t nlabels;
    const struct promql_sample *samples;
    size_t n;
};

/* Facts about a selected series that a source found while its samples
 * were at hand, so that the evaluator need not look for them again: with
 * checked, the source vouches that the times strictly ascend, that nstale
 * samples are staleness markers (promql_is_stale_marker) and that nresets
 * samples are lower than the one before them. */
struct promql_facts {
    bool checked;
    size_t nstale, nresets;
    /* With promql_select.visit: the series' slot (as in visit), and
     * whether visit took it (samples may then be NULL). */
    bool visited;
    size_t slot;
    /* > 0: the samples are exactly grid ms apart (samples[j].t ==
     * samples[0].t + j * grid); 0: not known. Lets rate() find its
     * windows by arithmetic. */
    int64_t grid;
};

/* A staleness marker: the NaN Prometheus writes when a series ends. */
static inline bool promql_is_stale_marker(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits == 0x7ff0000000000002ull;
}

/* What the evaluator asks its source for: the series that match every
 * matcher (use promql_matcher_matches(); a label a series lacks has the
 * value ""), with their samples in [start_ms, end_ms] (both inclusive). */
struct promql_select {
    const struct promql_matcher *matchers;
    size_t nmatchers;
    int64_t start_ms, end_ms;
    /* Hints, which a source may ignore: the function the selection feeds
     * (NULL if none), the range of a range selector (0 for an instant
     * selector) and the query's step (0 for an instant query). */
    const char *func;
    int64_t range_ms, step_ms;
    /* The source may write a reason here when it fails. */
    char err[256];
    /* Optional, out: one struct promql_facts per series returned, living
     * as long as the series (NULL: none). */
    const struct promql_facts *facts;
    /* Optional, in (visit NULL: none): work the evaluator does on each
     * series while its samples are at hand (a whole-range rate()), so
     * that they need not be kept. A source may ignore it. One that uses
     * it returns facts, and calls prepare(visit_ud, n) once, on the
     * calling thread, with how many series it may return (their slots
     * are 0 .. n-1) before it reads any; if prepare returns false it
     * calls nothing more. Then it may call visit(visit_ud, slot, samples,
     * n, facts) for each series it reads, from any thread, at most once a
     * slot, before select returns. When visit returns true the series is
     * returned with samples NULL (n as read) and facts.visited set. */
    bool (*prepare)(void *ud, size_t n);
    bool (*visit)(void *ud, size_t slot, const struct promql_sample *p, size_t n,
                  const struct promql_facts *f);
    void *visit_ud;
    /* The query's deadline (CLOCK_MONOTONIC ns; 0: none). A source may
     * stop reading once it has passed: it then fails with timed_out set,
     * and the evaluation fails with the timeout error. */
    int64_t deadline_ns;
    bool timed_out;
};

/* The storage, as the evaluator sees it. The caller implements it over its
 * store.
 *
 * select() stores in *out an array of *n series (n may be 0) that must stay
 * valid, unchanged, until the promql_eval_* call that asked for them
 * returns; the source owns that memory and frees it afterwards (an arena
 * per query works well). Samples outside [start_ms, end_ms] are allowed and
 * ignored. A sample whose value has the bits of Prometheus's staleness
 * marker (0x7ff0000000000002) counts as a marker, not a value. Returns 0,
 * or nonzero when the store failed (evaluation then fails with
 * PROMQL_ERR_INTERNAL and sel->err as the message). The evaluator calls
 * select() once per selector in the query, from the evaluating thread. */
struct promql_source {
    int (*select)(void *ud, struct promql_select *sel, const struct promql_series **out, size_t *n);
    void *ud;
};

struct promql_eval_opts {
    /* How far back an instant selector looks for a sample; 0 = 5 minutes. */
    int64_t lookback_ms;
    /* Step of subqueries written without one (x[1h:]); 0 = 1 minute (the
     * default global evaluation interval of Prometheus). */
    int64_t default_step_ms;
    /* Wall-clock limit of one evaluation; 0 = none (promql_eval_opts_init
     * sets 2 minutes, Prometheus's default --query.timeout). */
    int64_t timeout_ms;
    /* The most samples one evaluation may hold in memory at a time
     * (loaded and computed); 0 = 50,000,000 (Prometheus's default). */
    uint64_t max_samples;
    /* The most steps a range query may have; 0 = 11,000. */
    size_t max_points_per_series;
    /* rate() and increase() return the exact change of the counter over
     * the window (no extrapolation); see docs/query.md. false = exactly
     * Prometheus's arithmetic. */
    bool exact_counters;
    /* Testing: evaluate without the whole-range paths (exact rate over a
     * series, sum's array fold, histogram_quantile's walk of each group),
     * step by step as the reference does. The
     * results are the same, bit for bit; tests compare the two. */
    bool general_only;
    /* Polled now and then; returning true cancels the evaluation
     * (PROMQL_ERR_CANCELED). May be NULL. */
    bool (*canceled)(void *ud);
    void *cancel_ud;
    /* Threads for work that splits by series (qpool.h); NULL: the
     * evaluating thread alone. Results are the same either way. */
    struct qpool *pool;
};

/* Fills *o with llmtap's defaults (the limits above, exact_counters on).
 * Passing NULL options to the promql_eval_* functions means the same. */
void promql_eval_opts_init(struct promql_eval_opts *o);

/* The kind of a failed evaluation, as the Prometheus API reports it. */
enum promql_errtype {
    PROMQL_ERR_NONE = 0,
    PROMQL_ERR_BAD_DATA,         /* "bad_data", HTTP 400: bad parameters */
    PROMQL_ERR_EXECUTION,        /* "execution", HTTP 422: the query failed */
    PROMQL_ERR_TOO_MANY_SAMPLES, /* "execution", HTTP 422: max_samples hit */
    PROMQL_ERR_TIMEOUT,          /* "timeout", HTTP 503 */
    PROMQL_ERR_CANCELED,         /* "canceled", HTTP 499 */
    PROMQL_ERR_INTERNAL,         /* "internal", HTTP 500: storage, memory */
};
/* The API's errorType string ("bad_data", "execution", ...). */
const char *promql_errtype_name(enum promql_errtype t);
/* The HTTP status Prometheus answers with (400, 422, 503, 499, 500). */
int promql_errtype_http_status(enum promql_errtype t);

struct promql_eval_error {
    enum promql_errtype type;
    /* Prometheus's wording, e.g. "vector cannot contain metrics with the
     * same labelset" or "query timed out in expression evaluation". */
    char msg[1024];
};

/* The value of a query. Read-only for the caller. */
struct promql_result {
    enum promql_type type; /* SCALAR, VECTOR, MATRIX or STRING */
    /* VECTOR: each series has exactly one sample, at the evaluation time,
     * in the order Prometheus returns them (sort(), topk() etc. define
     * one). MATRIX: series sorted by labels, samples ascending. */
    const struct promql_series *series;
    size_t nseries;
    struct promql_sample scalar; /* SCALAR */
    struct promql_str string;    /* STRING; its time is string_t */
    int64_t string_t;
    struct promql_result_mem *mem_; /* private */
};

/* Evaluates q at time t_ms (an instant query).
 *
 * On success returns PROMQL_OK and stores a new result in *out (free it
 * with promql_result_free()). On failure returns PROMQL_EEVAL with *err
 * saying why (type and Prometheus's message), PROMQL_ENOMEM (err->type
 * PROMQL_ERR_INTERNAL) or PROMQL_EINVAL (a NULL argument); *out is NULL.
 * err may be NULL; when given it is always written. opts may be NULL
 * (promql_eval_opts_init()'s defaults). */
int promql_eval_instant(const struct promql_ast *q, int64_t t_ms, const struct promql_source *src,
                        const struct promql_eval_opts *opts, struct promql_result **out,
                        struct promql_eval_error *err);

/* Evaluates q at start_ms, start_ms + step_ms, ... up to end_ms (a range
 * query). The result is always a MATRIX. Refuses, with PROMQL_ERR_BAD_DATA
 * and Prometheus's messages, end < start, step <= 0, more than
 * max_points_per_series steps, and queries whose type is not an instant
 * vector or a scalar. Otherwise as promql_eval_instant(). */
int promql_eval_range(const struct promql_ast *q, int64_t start_ms, int64_t end_ms, int64_t step_ms,
                      const struct promql_source *src, const struct promql_eval_opts *opts,
                      struct promql_result **out, struct promql_eval_error *err);

/* Frees r and everything in it. Accepts NULL. */
void promql_result_free(struct promql_result *r);

/* Appends the "data" member of the Prometheus API's answer for r:
 *     {"resultType":"vector","result":[{"metric":{...},"value":[1435781451.781,"1"]}]}
 * byte for byte as Prometheus writes it: timestamps as seconds with up to
 * three decimals, values as strings in Go's shortest form ("0.1", "NaN",
 * "+Inf", "-Inf", "1e-07", "1e+21"), strings escaped as Go's encoding/json
 * does (<, >, & as \u003c ...). Returns 0 or PROMQL_ENOMEM (out->oom set). */
int promql_result_json(const struct promql_result *r, struct buf *out);
/* promql_result_json with a large matrix's points written by the threads
 * of pool (qpool.h) in pieces, then joined: the same bytes. NULL pool:
 * promql_result_json. */
int promql_result_json_pool(const struct promql_result *r, struct buf *out, struct qpool *pool);

#endif
