/*
 * otlp_intake.h — POST /v1/traces: OTLP/HTTP trace exports from
 * OpenTelemetry GenAI instrumentations, as llmtap events.
 *
 * Bodies are OTLP/protobuf (application/x-protobuf) or OTLP/JSON
 * (application/json), decoded and mapped by otlp.c; each GenAI span becomes
 * an event that is filled, priced, redacted, validated and spooled like a
 * posted event. Spans that are not GenAI calls are ignored and counted, not
 * rejected. Answers follow the OTLP/HTTP specification:
 *   200 ExportTraceServiceResponse, in the request's encoding; when some
 *       spans could not be accepted, partial_success carries their count
 *       and the first reason
 *   400 the body does not decode (a google.rpc.Status with the reason)
 *   413 the body is over the size limit
 *   415 another Content-Type, or a Content-Encoding other than identity
 *   503 no span was accepted because the spool could not take them (retry)
 * gzip bodies are not supported yet (415 names the encoding).
 */
#ifndef LLMTAP_AGENT_OTLP_INTAKE_H
#define LLMTAP_AGENT_OTLP_INTAKE_H

#include <stddef.h>

#include "httpd.h"

struct metrics;
struct producer;
struct price_registry;
struct redactor;

struct otlp_intake_opts {
    const char *default_service; /* for spans whose resource has no service.name; may be NULL */
    size_t max_body;
    size_t max_event;
    struct price_registry *prices; /* may be NULL */
    struct redactor *redactor;     /* may be NULL */
};

struct otlp_intake;

struct otlp_intake *otlp_intake_create(const struct otlp_intake_opts *o, struct producer *p,
                                       struct metrics *m);
void otlp_intake_destroy(struct otlp_intake *oi); /* accepts NULL */

/* Handles POST /v1/traces. Thread-safe. */
void otlp_intake_handle(struct otlp_intake *oi, const struct httpd_req *req,
                        struct httpd_resp *resp);

#endif
