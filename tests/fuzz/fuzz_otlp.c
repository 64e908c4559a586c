/*
 * fuzz_otlp.c — fuzz target for agent/otlp.c, otlp_map.c, otlp_gzip.c and
 * otlp_join.c (with the generated otlp.pb-c.c): OTLP trace and log bodies,
 * protobuf and JSON, plain or gzip, decoded, mapped, joined and capped.
 *
 * What it is for: the OTLP intake reads untrusted bodies from any exporter
 * on the network; inflating and decoding must refuse malformed ones with a
 * reason and never crash, over-read, recurse without bound, exceed the size
 * limit or leak, and mapping must only make events the rest of the pipeline
 * accepts.
 *
 * Input layout:
 *   byte 0  the format selector:
 *           bit 0: 0 = OTLP/protobuf, 1 = OTLP/JSON
 *           bit 1: small limits (4 spans, 16 attributes, depth 8, strings of
 *                  256 bytes, inflated body 64 KiB, text cap 1 KiB) instead
 *                  of the defaults
 *           bit 2: a logs body (ExportLogsServiceRequest) instead of traces
 *           bit 3: the body is gzip (Content-Encoding: gzip): inflated first
 *   then    the body
 *
 * DESIGN — invariants (abort on violation):
 *   0. Inflating returns OK with at most the limit's bytes, or an error with
 *      no output and a non-empty reason.
 *   1. Decoding returns 0 with a batch, or -1 with no batch and a non-empty
 *      reason.
 *   2. A batch holds at most max_spans spans; every id is "" or lower-case
 *      hex of its exact length (32 or 16); names, messages and event names
 *      are not NULL; attributes are objects.
 *   3. Mapping never fails (except on allocation); a mapped event has a
 *      provider, an operation and a model; after the join (which may add
 *      context) and the text cap, and event_fill, it encodes to JSON that
 *      event_parse_json accepts unless it is too deep or too large (message
 *      parts are copied from the span), and then event_validate passes.
 *   4. After the cap, the capped text (message contents, context texts,
 *      response text and tool-call arguments) is within the cap when the
 *      cap cut something.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "otlp.h"
#include "otlp_gzip.h"
#include "otlp_join.h"
#include "otlp_map.h"

#define FUZZ_NAME "fuzz_otlp"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool hex_ok(const char *s, size_t want)
{
    size_t n = strlen(s);
    if (n == 0)
        return true;
    if (n != want)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* Bytes of the strings the text cap counts (see otlp_map.h). */
static size_t capped_text(const cJSON *ev)
{
    size_t t = 0;
    const cJSON *m, *c;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "request"), "messages"))
    {
        c = cJSON_GetObjectItem(m, "content");
        if (cJSON_IsString(c))
            t += strlen(c->valuestring);
    }
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(ev, "context"))
    {
        c = cJSON_GetObjectItem(m, "text");
        if (cJSON_IsString(c))
            t += strlen(c->valuestring);
    }
    const cJSON *r = cJSON_GetObjectItem(ev, "response");
    c = cJSON_GetObjectItem(r, "text");
    if (cJSON_IsString(c))
        t += strlen(c->valuestring);
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(r, "tool_calls"))
    {
        c = cJSON_GetObjectItem(m, "arguments");
        if (cJSON_IsString(c))
            t += strlen(c->valuestring);
    }
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    const uint8_t *body = data + 1;
    size_t len = size - 1;
    bool small_lim = sel & 2, logs = sel & 4;
    struct otlp_limits small = {.max_spans = 4, .max_attrs = 16, .max_depth = 8, .max_string = 256};
    const struct otlp_limits *lim = small_lim ? &small : NULL;
    int max_spans = small_lim ? 4 : OTLP_MAX_SPANS_DEFAULT;
    size_t text_cap = small_lim ? 1024 : 256 * 1024;

    char *inflated = NULL;
    char err[256] = "";
    if (sel & 8) {
        size_t max = small_lim ? 64 * 1024 : OTLP_MAX_BODY_DEFAULT, n = 0;
        enum otlp_gunzip_result g = otlp_gunzip(body, len, max, &inflated, &n, err, sizeof err);
        if (g != OTLP_GUNZIP_OK) {
            FUZZ_ASSERT(!inflated && err[0], "gunzip %d with output or without reason", (int)g);
            return 0;
        }
        FUZZ_ASSERT(inflated && n <= max, "inflated %zu bytes over %zu", n, max);
        body = (const uint8_t *)inflated;
        len = n;
    }

    struct otlp_batch *b = NULL;
    int rc;
    if (logs)
        rc = (sel & 1) ? otlp_decode_logs_json((const char *)body, len, lim, &b, err, sizeof err)
                       : otlp_decode_logs_protobuf(body, len, lim, &b, err, sizeof err);
    else
        rc = (sel & 1) ? otlp_decode_json((const char *)body, len, lim, &b, err, sizeof err)
                       : otlp_decode_protobuf(body, len, lim, &b, err, sizeof err);
    free(inflated);
    if (rc != 0) {
        FUZZ_ASSERT(rc == -1 && b == NULL && err[0], "rc %d, batch %p, err \"%s\"", rc, (void *)b,
                    err);
        return 0;
    }
    FUZZ_ASSERT(b != NULL, "decode returned 0 without a batch");
    FUZZ_ASSERT(b->n <= (size_t)max_spans, "%zu spans", b->n);
    cJSON **events = calloc(b->n + 1, sizeof *events);
    FUZZ_ASSERT(events, "calloc");
    for (size_t i = 0; i < b->n; i++) {
        const struct otlp_span *s = &b->spans[i];
        FUZZ_ASSERT(hex_ok(s->trace_id, 32) && hex_ok(s->span_id, 16) &&
                        hex_ok(s->parent_span_id, 16),
                    "bad ids %s %s %s", s->trace_id, s->span_id, s->parent_span_id);
        FUZZ_ASSERT(s->name && s->status_message && s->event_name, "NULL name or message");
        FUZZ_ASSERT(cJSON_IsObject(s->attrs), "attributes are not an object");
        cJSON *ev = NULL;
        enum otlp_map_result r = logs ? otlp_map_log(s, &ev) : otlp_map_span(s, &ev);
        if (r == OTLP_IGNORED) {
            FUZZ_ASSERT(ev == NULL, "ignored with an event");
            continue;
        }
        if (r == OTLP_NOMEM)
            continue;
        FUZZ_ASSERT(r == OTLP_MAPPED && ev, "map result %d", (int)r);
        events[i] = ev;
    }
    struct otlp_join_opts jo = {
        .window_us = 1000000, .max_spans = 8, .max_bytes = 64 * 1024, .text_cap = text_cap};
    struct otlp_join *j = otlp_join_create(&jo, NULL);
    FUZZ_ASSERT(j, "otlp_join_create");
    otlp_join_batch(j, b, events, 1);
    otlp_join_batch(j, b, events, 2); /* the same again, now also from the buffer */
    otlp_join_destroy(j);
    for (size_t i = 0; i < b->n; i++) {
        cJSON *ev = events[i];
        if (!ev)
            continue;
        FUZZ_ASSERT(cJSON_IsString(cJSON_GetObjectItem(ev, "provider")) &&
                        cJSON_IsString(cJSON_GetObjectItem(ev, "operation")) &&
                        (cJSON_IsString(cJSON_GetObjectItem(ev, "request_model")) ||
                         cJSON_IsString(cJSON_GetObjectItem(ev, "response_model"))),
                    "event lacks provider, operation or model");
        if (otlp_cap_text(ev, text_cap))
            FUZZ_ASSERT(capped_text(ev) <= text_cap, "%zu bytes of text over the %zu cap",
                        capped_text(ev), text_cap);
        FUZZ_ASSERT(event_fill(ev, "fuzz", 1700000000000000) == 0, "event_fill failed");
        char *enc = event_encode(ev);
        FUZZ_ASSERT(enc, "event_encode failed");
        struct event_error ee = {0};
        cJSON *back = event_parse_json(enc, strlen(enc), NULL, 0, &ee);
        if (!back) {
            FUZZ_ASSERT(ee.reason == EVENT_TOO_DEEP || ee.reason == EVENT_TOO_LARGE,
                        "mapped event does not parse back: %s\n%s", ee.msg, enc);
        } else {
            FUZZ_ASSERT(event_validate(back, &ee) == EVENT_OK, "mapped event invalid: %s\n%s",
                        ee.msg, enc);
            cJSON_Delete(back);
        }
        free(enc);
        cJSON_Delete(ev);
    }
    free(events);
    otlp_batch_free(b);
    return 0;
}
