/*
 * fuzz_otlp.c — fuzz target for agent/otlp.c (with the generated
 * otlp.pb-c.c): OTLP trace bodies, protobuf and JSON, decoded and mapped.
 *
 * What it is for: the OTLP intake reads untrusted bodies from any exporter
 * on the network; decoding must refuse malformed ones with a reason and
 * never crash, over-read, recurse without bound or leak, and mapping must
 * only make events the rest of the pipeline accepts.
 *
 * Input layout:
 *   byte 0  the format selector:
 *           bit 0: 0 = OTLP/protobuf, 1 = OTLP/JSON
 *           bit 1: small limits (4 spans, 16 attributes, depth 8, strings of
 *                  256 bytes) instead of the defaults
 *   then    the body
 *
 * DESIGN — invariants (abort on violation):
 *   1. Decoding returns 0 with a batch, or -1 with no batch and a non-empty
 *      reason.
 *   2. A batch holds at most max_spans spans; every id is "" or lower-case
 *      hex of its exact length (32 or 16); names and messages are not NULL;
 *      attributes are objects.
 *   3. Mapping never fails (except on allocation); a mapped event has a
 *      provider, an operation and a model; after event_fill it encodes to
 *      JSON that event_parse_json accepts unless it is too deep or too large
 *      (message parts are copied from the span), and then event_validate
 *      passes.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "otlp.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    const uint8_t *body = data + 1;
    size_t len = size - 1;
    struct otlp_limits small = {.max_spans = 4, .max_attrs = 16, .max_depth = 8,
                                .max_string = 256};
    const struct otlp_limits *lim = (sel & 2) ? &small : NULL;
    int max_spans = (sel & 2) ? 4 : OTLP_MAX_SPANS_DEFAULT;

    struct otlp_batch *b = NULL;
    char err[256] = "";
    int rc = (sel & 1) ? otlp_decode_json((const char *)body, len, lim, &b, err, sizeof err)
                       : otlp_decode_protobuf(body, len, lim, &b, err, sizeof err);
    if (rc != 0) {
        FUZZ_ASSERT(rc == -1 && b == NULL && err[0], "rc %d, batch %p, err \"%s\"", rc, (void *)b,
                    err);
        return 0;
    }
    FUZZ_ASSERT(b != NULL, "decode returned 0 without a batch");
    FUZZ_ASSERT(b->n <= (size_t)max_spans, "%zu spans", b->n);
    for (size_t i = 0; i < b->n; i++) {
        const struct otlp_span *s = &b->spans[i];
        FUZZ_ASSERT(hex_ok(s->trace_id, 32) && hex_ok(s->span_id, 16) &&
                        hex_ok(s->parent_span_id, 16),
                    "bad ids %s %s %s", s->trace_id, s->span_id, s->parent_span_id);
        FUZZ_ASSERT(s->name && s->status_message, "NULL name or message");
        FUZZ_ASSERT(cJSON_IsObject(s->attrs), "attributes are not an object");
        cJSON *ev = NULL;
        enum otlp_map_result r = otlp_map_span(s, &ev);
        if (r == OTLP_IGNORED) {
            FUZZ_ASSERT(ev == NULL, "ignored with an event");
            continue;
        }
        if (r == OTLP_NOMEM)
            continue;
        FUZZ_ASSERT(r == OTLP_MAPPED && ev, "map result %d", (int)r);
        FUZZ_ASSERT(cJSON_IsString(cJSON_GetObjectItem(ev, "provider")) &&
                        cJSON_IsString(cJSON_GetObjectItem(ev, "operation")) &&
                        (cJSON_IsString(cJSON_GetObjectItem(ev, "request_model")) ||
                         cJSON_IsString(cJSON_GetObjectItem(ev, "response_model"))),
                    "event lacks provider, operation or model");
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
    otlp_batch_free(b);
    return 0;
}
