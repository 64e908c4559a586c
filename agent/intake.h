/*
 * intake.h — POST /v1/events: events sent by services, SDKs and log shippers.
 *
 * A body is one event object, a JSON array of events, or NDJSON (one event
 * per line, Content-Type application/x-ndjson). Each item is filled (schema,
 * id, time, service), validated and queued (spool, then Kafka) on its own: valid items
 * are accepted even when others in the same body are not.
 *
 * Answers (see docs/agent.md):
 *   202 {"accepted":N,"rejected":M,"errors":[{"index":i,"error":"…"}]}
 *   400 the body is not JSON (or not an object/array), or no item was accepted
 *   413 the body (or a single-object body) is over the size limit
 *   415 the Content-Type is neither JSON nor NDJSON
 *   503 nothing was accepted and at least one item failed in the producer
 *       (the spool is full or failed): a retry may succeed
 */
#ifndef LLMTAP_AGENT_INTAKE_H
#define LLMTAP_AGENT_INTAKE_H

#include <stddef.h>

#include "event.h"
#include "httpd.h"

struct metrics;
struct producer;
struct intake;

struct intake_opts {
    const char *default_service; /* may be NULL */
    struct event_limits limits;  /* per event */
    size_t max_body;             /* per request body */
};

struct intake *intake_create(const struct intake_opts *o, struct producer *p, struct metrics *m);
void intake_destroy(struct intake *in); /* accepts NULL */

/* Handles POST /v1/events. Thread-safe. */
void intake_handle(struct intake *in, const struct httpd_req *req, struct httpd_resp *resp);

#endif
