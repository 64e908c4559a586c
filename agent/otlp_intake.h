/*
 * otlp_intake.h — POST /v1/traces and POST /v1/logs: OTLP/HTTP exports from
 * OpenTelemetry GenAI instrumentations, as llmtap events.
 *
 * Bodies are OTLP/protobuf (application/x-protobuf) or OTLP/JSON
 * (application/json), identity or gzip (Content-Encoding: gzip, inflated
 * with the body limit applied to the inflated size), decoded by otlp.c and
 * mapped by otlp_map.c. Each GenAI span, and each GenAI inference log record
 * (gen_ai.client.inference.operation.details), becomes an event; documents
 * of retrieval spans are joined onto the LLM calls of their trace
 * (otlp_join.h); the event's text is cut to the text cap; then it is filled,
 * priced, redacted, validated and spooled like a posted event. Spans and
 * records that are not GenAI calls are ignored and counted, not rejected.
 * Answers follow the OTLP/HTTP specification:
 *   200 ExportTraceServiceResponse / ExportLogsServiceResponse, in the
 *       request's encoding; when some spans (records) could not be
 *       accepted, partial_success carries their count and the first reason
 *   400 the body does not decode, or is not valid gzip (a google.rpc.Status
 *       with the reason)
 *   413 the body, or the inflated body, is over the size limit
 *   415 another Content-Type, or a Content-Encoding other than identity/gzip
 *   503 no span was accepted because the spool could not take them (retry)
 */
#ifndef LLMTAP_AGENT_OTLP_INTAKE_H
#define LLMTAP_AGENT_OTLP_INTAKE_H

#include <stddef.h>
#include <stdint.h>

#include "httpd.h"

struct metrics;
struct producer;
struct price_registry;
struct redactor;

struct otlp_intake_opts {
    const char *default_service; /* for spans whose resource has no service.name; may be NULL */
    size_t max_body;             /* bytes of a body, and of an inflated gzip body */
    size_t max_event;
    size_t text_cap;               /* capture.max_text: prompt + context + response; 0 = none */
    int64_t join_window_ms;        /* otlp.join_window; 0 = no retrieval join */
    size_t join_max_bytes;         /* otlp.join_max_bytes */
    int join_max_spans;            /* otlp.join_max_spans */
    struct price_registry *prices; /* may be NULL */
    struct redactor *redactor;     /* may be NULL */
};

struct otlp_intake;

/* NULL on allocation failure. */
struct otlp_intake *otlp_intake_create(const struct otlp_intake_opts *o, struct producer *p,
                                       struct metrics *m);
/* Accepts NULL. Call after the HTTP server has stopped: the join buffer it
 * frees holds documents only, never events, so nothing is lost. */
void otlp_intake_destroy(struct otlp_intake *oi);

/* Handles POST /v1/traces. Thread-safe. */
void otlp_intake_handle(struct otlp_intake *oi, const struct httpd_req *req,
                        struct httpd_resp *resp);

/* Handles POST /v1/logs. Thread-safe. */
void otlp_intake_handle_logs(struct otlp_intake *oi, const struct httpd_req *req,
                             struct httpd_resp *resp);

#endif
