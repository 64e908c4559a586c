/*
 * otlp_map.h — decoded OTLP spans and GenAI log records (otlp.h) to
 * llmtap.event/1 objects; retrieval spans' documents; the text cap.
 *
 * What it is for: the OTLP intake (otlp_intake.c) maps each decoded span
 * with otlp_map_span and each log record with otlp_map_log; what is not a
 * GenAI model call is reported as ignored, not as an error. Retrieval spans
 * are not events: otlp_retrieval_docs reads their documents, which the join
 * (otlp_join.h) adds to the LLM calls of their trace. otlp_cap_text bounds
 * an event's text like the proxy's capture.max_text. The caller then runs
 * event_fill and event_validate as for POST /v1/events.
 *
 * The mapping (attribute by attribute) and its decisions are in docs/otlp.md.
 *
 * Threads: no shared state.
 */
#ifndef LLMTAP_AGENT_OTLP_MAP_H
#define LLMTAP_AGENT_OTLP_MAP_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "otlp.h"

enum otlp_map_result {
    OTLP_MAPPED,  /* *out is a new event object (caller deletes) */
    OTLP_IGNORED, /* not a GenAI model call (HTTP, DB, tool, agent, retrieval spans ...); *out NULL
                   */
    OTLP_NOMEM,   /* allocation failure; *out NULL */
};

/* Maps one span to an llmtap.event/1 object: schema, id (a UUID derived
 * from trace and span id, so a re-sent span has the same id), time,
 * trace/span/parent ids, service (resource service.name, made valid),
 * source "otlp", provider, operation, models, request, context, response,
 * usage, latency_ms, ttft_ms, status, error, session, user. It does not
 * call event_fill or event_validate. */
enum otlp_map_result otlp_map_span(const struct otlp_span *s, cJSON **out);

/* The GenAI event names a log record can carry that otlp_map_log maps. */
#define OTLP_EVENT_INFERENCE_DETAILS "gen_ai.client.inference.operation.details"

/* What a log record is, from its event name. */
enum otlp_log_kind {
    OTLP_LOG_INFERENCE,   /* gen_ai.client.inference.operation.details: mapped */
    OTLP_LOG_PER_MESSAGE, /* the older per-message events (gen_ai.user.message,
                             gen_ai.choice, ...): not read */
    OTLP_LOG_OTHER,       /* anything else (not GenAI, gen_ai.evaluation.result ...) */
};
enum otlp_log_kind otlp_log_kind(const struct otlp_span *rec);

/* Maps one log record (decoded by otlp_decode_logs_*): an inference details
 * record is mapped like a span (its attributes are the span's gen_ai.*
 * attributes; latency_ms is 0, a record has no duration; `error.type` makes
 * it an error); any other record is OTLP_IGNORED. The id derives from the
 * record's trace and span id like the span's: the span and the details
 * record of one call are one event (the collector keeps the first copy). */
enum otlp_map_result otlp_map_log(const struct otlp_span *rec, cJSON **out);

/* True when s is a retrieval span (gen_ai.operation.name "retrieval", or
 * OpenInference kind RETRIEVER); *docs is then a new array (caller deletes)
 * of its documents as event context items {id, source, score, text}: possibly
 * empty; NULL only on allocation failure. False (and *docs NULL) otherwise. */
bool otlp_retrieval_docs(const struct otlp_span *s, cJSON **docs);

/* The text cap (capture.max_text): prompt text (request.messages contents,
 * string leaves of content parts except type/id/name/role/mime_type), context
 * text (context[].text) and response text (response.text, then tool-call
 * arguments) are cut together to at most cap bytes, at UTF-8 boundaries,
 * shared like the proxy's (capture_text.c: max-min fair between the three
 * parts, then between the strings of a part). On a cut, ev.truncated is set
 * to true. Returns true when something was cut. cap 0 means no cap. */
bool otlp_cap_text(cJSON *ev, size_t cap);

#endif
