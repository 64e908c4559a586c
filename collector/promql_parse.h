/*
 * promql_parse.h — parses a PromQL query (Prometheus 3.x grammar) into a
 * typed syntax tree (promql_ast.h), or says precisely why it cannot.
 *
 * What it is for: the collector's Prometheus HTTP API (/api/v1/query,
 * query_range, format_query, series matchers) so Grafana's Prometheus data
 * source works against llmtap. Accepts what Prometheus accepts with its
 * default feature flags, with the same static type rules, and reports the
 * same errors at the same positions in the same words:
 *     1:13: parse error: unexpected <op:+>
 *
 * Threads: no global state; parse on any thread. The result is owned by the
 * caller and immutable (see promql_ast.h).
 */
#ifndef LLMTAP_PROMQL_PARSE_H
#define LLMTAP_PROMQL_PARSE_H

#include <stddef.h>

#include "promql_ast.h"

/* Flags for promql_parse(). */
enum {
    /* Accept the functions and aggregations Prometheus gates behind
     * --enable-feature=promql-experimental-functions (limitk, limit_ratio,
     * sort_by_label, ...). Duration arithmetic in [...], anchored/smoothed
     * and fill() modifiers stay refused (see docs/query.md). */
    PROMQL_PARSE_EXPERIMENTAL = 1u << 0,
};

struct promql_error {
    size_t pos;         /* byte offset in the query where the error starts */
    unsigned line, col; /* 1-based; col counts bytes, as Prometheus does */
    char reason[1024];  /* "unexpected <op:+>" */
    /* The whole message as Prometheus formats it:
     * "1:13: parse error: unexpected <op:+>" ("unknown position: ..." for an
     * empty query). Valid UTF-8; user text in it is quoted. */
    char msg[1088];
};

/* Parses query[0, len) (any bytes; no NUL terminator needed).
 *
 * On success returns PROMQL_OK and stores a new tree in *out, which the
 * caller frees with promql_ast_free(). On failure returns PROMQL_EPARSE (the
 * query is invalid: *err says where and why), PROMQL_ENOMEM, or
 * PROMQL_EINVAL (query or out is NULL), and *out is NULL. err may be NULL;
 * when given it is always written (cleared on success). */
int promql_parse(const char *query, size_t len, unsigned flags, struct promql_ast **out,
                 struct promql_error *err);

#endif
