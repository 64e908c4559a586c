/*
 * event.h — the llmtap.event/1 model: parse, validate, fill, encode.
 *
 * What it is for: every component that reads events (agent intake, the
 * collector's consumer, fuzzers) goes through these functions, so an event
 * accepted anywhere is accepted everywhere and a rejection always has the
 * same precise reason: a JSON path and what is wrong, e.g.
 *   "usage.input_tokens: must be a non-negative integer".
 *
 * Parsing is two passes. event_scan() walks the raw bytes once to check the
 * limits cJSON does not: size, valid UTF-8, no raw control characters or
 * \u0000 in strings (cJSON's strings are NUL-terminated, so a \u0000 would be
 * cut silently), and nesting depth (checked before cJSON recurses). Then
 * cJSON parses. The rules of EVENT_SCHEMA.md are applied by event_validate().
 *
 * Optional fields that are JSON null are treated as absent (producers in
 * languages with None/nil often write null); required fields that are null
 * are missing. Unknown fields are kept and ignored.
 */
#ifndef LLMTAP_EVENT_H
#define LLMTAP_EVENT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVENT_SCHEMA_ID         "llmtap.event/1"
#define EVENT_MAX_BYTES_DEFAULT (1024 * 1024)
#define EVENT_MAX_DEPTH_DEFAULT 32

/* Why an event was rejected. The names (event_reason_name) are metric label
 * values and stable. */
enum event_reason {
    EVENT_OK = 0,
    EVENT_TOO_LARGE,     /* over the byte limit */
    EVENT_BAD_UTF8,      /* invalid UTF-8 */
    EVENT_BAD_CHAR,      /* NUL or a raw control character */
    EVENT_TOO_DEEP,      /* nesting deeper than the limit */
    EVENT_BAD_JSON,      /* not JSON */
    EVENT_NOT_OBJECT,    /* JSON, but not an object */
    EVENT_MISSING_FIELD, /* a required field is absent */
    EVENT_WRONG_TYPE,    /* a field has the wrong JSON type */
    EVENT_BAD_VALUE,     /* right type, invalid value (range, pattern, schema id) */
    EVENT_REASON_COUNT
};

const char *event_reason_name(enum event_reason r);

struct event_error {
    enum event_reason reason;
    char msg[256];
};

struct event_limits {
    size_t max_bytes; /* 0 = EVENT_MAX_BYTES_DEFAULT */
    int max_depth;    /* 0 = EVENT_MAX_DEPTH_DEFAULT */
};

/* Checks raw bytes against the limits (size, UTF-8, control characters,
 * depth). `extra_depth` allows wrapping levels (1 for an array of events).
 * Returns EVENT_OK or the reason, with err->msg set. err may be NULL. */
enum event_reason event_scan(const char *buf, size_t len, const struct event_limits *lim,
                             int extra_depth, struct event_error *err);

/* Scans and parses one JSON value. Returns the cJSON tree (caller deletes)
 * or NULL with err set. Does not apply the schema. */
cJSON *event_parse_json(const char *buf, size_t len, const struct event_limits *lim,
                        int extra_depth, struct event_error *err);

/* Applies the llmtap.event/1 rules. Returns EVENT_OK or the reason. */
enum event_reason event_validate(const cJSON *ev, struct event_error *err);

/* Intake defaults: adds `schema` when absent, `id` (a new ULID) and `time`
 * (now_us) when absent, and `service` = default_service when absent and
 * default_service is not NULL. Returns 0, or -1 on allocation failure. */
int event_fill(cJSON *ev, const char *default_service, int64_t now_us);

/* True when s is a valid `service` value: 1-128 characters of
 * [A-Za-z0-9_.:-] (the rule event_validate applies). */
bool event_service_valid(const char *s);

/* The fields the store indexes, read from a validated event. Strings point
 * into the cJSON tree (valid while it lives). */
struct event_fields {
    const char *id;
    const char *service;
    const char *model; /* response_model, else request_model */
    const char *provider;
    const char *operation;
    int64_t time_us;
    double cost_usd; /* NaN when absent */
    double latency_ms;
    int32_t status;                      /* 0 when absent */
    int64_t input_tokens, output_tokens; /* -1 when absent */
};
void event_fields_get(const cJSON *ev, struct event_fields *f);

/* Encodes an event as compact JSON (malloc'd, caller frees). NULL on ENOMEM. */
char *event_encode(const cJSON *ev);

#endif
