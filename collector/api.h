/*
 * api.h — the collector's HTTP API (see docs/api.md):
 *   GET /api/v1/events?start=&end=&service=&model=&limit=   newest first, summaries
 *   GET /api/v1/events/{id}                                 the full event as stored
 *   GET /metrics, GET /healthz, GET /readyz
 *   the Prometheus HTTP API (/api/v1/query, ...): promapi.h
 * With an auth table (auth.h), every endpoint but /healthz and /readyz
 * needs credentials with the read scope.
 */
#ifndef LLMTAP_COLLECTOR_API_H
#define LLMTAP_COLLECTOR_API_H

#include "httpd.h"
#include "promapi.h"

struct auth;
struct ingest;
struct metrics;
struct store;

struct api {
    struct store *st;
    struct ingest *ingest;
    struct metrics *metrics;
    size_t max_limit;
    size_t max_examined;
    struct metric *requests, *bad_requests, *not_found;
    struct promapi prom; /* set up by promapi_init after api_init */
    struct auth *auth;   /* NULL: open (set after api_init) */
};

/* Registers the API's own metrics. */
void api_init(struct api *a, struct store *st, struct ingest *g, struct metrics *m,
              size_t max_limit, size_t max_examined);
/* The httpd handler; ud is a struct api. Thread-safe. */
void api_handle(void *ud, const struct httpd_req *req, struct httpd_resp *resp);

#endif
