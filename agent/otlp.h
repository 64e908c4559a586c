/*
 * otlp.h — decoding OTLP bodies: traces (OpenTelemetry GenAI spans) and
 * logs (GenAI events as log records), protobuf and JSON.
 *
 * What it is for: the agent's OTLP intake (POST /v1/traces, POST /v1/logs;
 * otlp_intake.c) hands the (inflated) request body to otlp_decode_protobuf
 * / otlp_decode_json, or otlp_decode_logs_protobuf / otlp_decode_logs_json,
 * which check it against limits and turn it into a flat list of spans (a log
 * record is a span without duration); otlp_map.h then turns each GenAI span
 * or record into an event object.
 *
 * The mapping (attribute by attribute) and its decisions are in docs/otlp.md.
 *
 * Threads: no shared state; a batch belongs to its caller.
 */
#ifndef LLMTAP_AGENT_OTLP_H
#define LLMTAP_AGENT_OTLP_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define OTLP_MAX_BODY_DEFAULT   (16u * 1024 * 1024)
#define OTLP_MAX_SPANS_DEFAULT  10000
#define OTLP_MAX_ATTRS_DEFAULT  1024
#define OTLP_MAX_DEPTH_DEFAULT  32
#define OTLP_MAX_STRING_DEFAULT (1024u * 1024)

/* Limits a body must respect; 0 in any member means its default. A body that
 * breaks one is refused as a whole. */
struct otlp_limits {
    size_t max_body;   /* bytes of the (uncompressed) body */
    int max_spans;     /* spans (or log records) in one body */
    int max_attrs;     /* attribute values of one span or one resource: keys, nested kvlist
                          keys and array elements (protobuf also bounds resource/scope
                          groups by max_spans and unknown fields by 32 x max_spans) */
    int max_depth;     /* message nesting (protobuf) or JSON nesting */
    size_t max_string; /* bytes of one string or bytes value, key included */
};

/* Span status codes, as OTLP numbers them. */
enum { OTLP_STATUS_UNSET = 0, OTLP_STATUS_OK = 1, OTLP_STATUS_ERROR = 2 };

/* One decoded span. Ids are lower-case hex, "" when absent or of the wrong
 * length. Attributes are a JSON object: key → value, where an OTLP string,
 * bool, int or double is a JSON string, bool or number (int64 beyond 2^53
 * loses precision), an array value an array, a kvlist an object and bytes a
 * base64 string (as OTLP/JSON writes them). A repeated key keeps its first
 * value.
 *
 * A log record is decoded into the same struct: trace and span ids from the
 * record, start_ns = end_ns = its time (its observed time when the time is
 * 0), event_name = its event_name field or, when empty, its `event.name`
 * attribute; name and status stay empty. When its body is a kvlist, the
 * body's members are added to the attributes it does not already have. */
struct otlp_span {
    char trace_id[33], span_id[17], parent_span_id[17];
    char *name;                /* never NULL */
    int kind;                  /* OTLP SpanKind number */
    uint64_t start_ns, end_ns; /* Unix nanoseconds, 0 when absent */
    int status_code;           /* OTLP_STATUS_* */
    char *status_message;      /* never NULL */
    char *event_name;          /* log records; "" for spans; never NULL */
    cJSON *attrs;              /* object, owned by the span */
    const cJSON *resource;     /* the resource's attributes (object), owned by the batch */
};

struct otlp_batch {
    struct otlp_span *spans;
    size_t n;
    cJSON *resources; /* array of attribute objects, one per ResourceSpans */
};

/* Decodes an OTLP/protobuf ExportTraceServiceRequest. Returns 0 with *out
 * set (free with otlp_batch_free), or -1 with a one-line reason in err
 * (e.g. "protobuf: Span.attributes (field 9) at byte 57: wire type 0, expected
 * 2") for a body that is malformed (truncated, wrong wire type, a length past
 * the end, groups, invalid UTF-8 or NUL in a string) or breaks a limit, and
 * "out of memory" on allocation failure. Never reads past body[len]. lim may
 * be NULL (defaults). */
int otlp_decode_protobuf(const void *body, size_t len, const struct otlp_limits *lim,
                         struct otlp_batch **out, char *err, size_t errlen);

/* The same for OTLP/JSON: lowerCamelCase names (snake_case accepted too),
 * hex trace/span ids, int64 values (times, intValue) as strings or numbers,
 * enums as numbers. Unknown members are ignored. */
int otlp_decode_json(const char *body, size_t len, const struct otlp_limits *lim,
                     struct otlp_batch **out, char *err, size_t errlen);

/* OTLP/protobuf and OTLP/JSON ExportLogsServiceRequest bodies, with the
 * same contract, limits (max_spans bounds log records) and JSON rules as the
 * trace decoders above. */
int otlp_decode_logs_protobuf(const void *body, size_t len, const struct otlp_limits *lim,
                              struct otlp_batch **out, char *err, size_t errlen);
int otlp_decode_logs_json(const char *body, size_t len, const struct otlp_limits *lim,
                          struct otlp_batch **out, char *err, size_t errlen);

void otlp_batch_free(struct otlp_batch *b); /* accepts NULL */

#endif
