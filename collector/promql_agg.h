/*
 * promql_agg.h — PromQL's aggregation operators (internal to the
 * evaluator, promql_eval.c).
 *
 * What it is for: sum, avg, count, min, max, group, stddev, stdvar,
 * quantile, topk, bottomk, count_values and limitk, with by/without
 * grouping, evaluated over every step of an evaluation at once, with
 * Prometheus 3's results (Kahan summation, mean without overflow, NaN
 * ordering, heap-based top-k) and its output order for instant queries.
 *
 * Not thread-safe beyond its context (see promql_value.h).
 */
#ifndef LLMTAP_PROMQL_AGG_H
#define LLMTAP_PROMQL_AGG_H

#include "promql_ast.h"
#include "promql_value.h"

/* Aggregates the step-aligned matrix in according to e (a
 * PROMQL_AGGREGATE node) into out. param is the evaluated scalar parameter
 * (topk, bottomk, quantile, limitk; one sample per step) or NULL. Returns
 * 0, or an error recorded in c (PROMQL_EEVAL / PROMQL_ENOMEM). in is
 * consumed but not freed: its cursors move, and sum may take a series'
 * sample array over for the result (leaving that series with no samples);
 * the caller frees in with pq_matrix_free as before. sum uses c->o.pool's
 * threads for its groups when there is a pool; the call itself belongs to
 * the evaluating thread. */
int pq_aggregate(struct pq_ctx *c, const struct pq_steps *st, const struct promql_expr *e,
                 struct pq_matrix *in, struct pq_matrix *param, struct pq_matrix *out);

#endif
