/*
 * otlp_intake.c — POST /v1/traces (see otlp_intake.h).
 *
 * DESIGN
 * - The whole body is decoded first (otlp_decode_protobuf / _json check
 *   every limit and refuse a malformed body as a whole: 400); then each span
 *   is mapped on its own, so one bad span costs only itself (counted in
 *   partial_success.rejected_spans with the first reason).
 * - A mapped event goes through the same steps as a proxied call: fill
 *   (schema, id, time, service), cost from the price table when the span
 *   carried none, redaction, validation, then the producer's spool.
 * - Responses are written by hand in the request's encoding: the two
 *   messages involved (ExportTraceServiceResponse with its PartialSuccess,
 *   google.rpc.Status) have two scalar fields each, so a generated encoder
 *   would add nothing.
 */
#include "otlp_intake.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "event.h"
#include "log.h"
#include "metrics.h"
#include "otlp.h"
#include "price.h"
#include "producer.h"
#include "redact.h"
#include "timeutil.h"

struct otlp_intake {
    struct otlp_intake_opts o;
    struct producer *p;
    struct metric *bodies, *spans, *accepted, *ignored, *rejected, *bad_body, *too_large,
        *unsupported;
};

struct otlp_intake *otlp_intake_create(const struct otlp_intake_opts *o, struct producer *p,
                                       struct metrics *m)
{
    struct otlp_intake *oi = calloc(1, sizeof *oi);
    if (!oi)
        return NULL;
    oi->o = *o;
    oi->p = p;
    oi->bodies = metrics_counter(m, "llmtap_agent_otlp_requests_total",
                                 "POST /v1/traces requests.", NULL);
    oi->spans = metrics_counter(m, "llmtap_agent_otlp_spans_total",
                                "Spans received in decodable OTLP bodies.", NULL);
    oi->accepted = metrics_counter(m, "llmtap_agent_otlp_spans_accepted_total",
                                   "GenAI spans accepted as events (spooled).", NULL);
    oi->ignored = metrics_counter(m, "llmtap_agent_otlp_spans_ignored_total",
                                  "Spans that are not GenAI model calls (not events).", NULL);
    oi->rejected = metrics_counter(m, "llmtap_agent_otlp_spans_rejected_total",
                                   "GenAI spans refused (invalid event, spool failure).", NULL);
    const char *h = "OTLP bodies refused as a whole, by reason.";
    oi->bad_body = metrics_counter(m, "llmtap_agent_otlp_bodies_rejected_total", h,
                                   "reason=\"undecodable\"");
    oi->too_large = metrics_counter(m, "llmtap_agent_otlp_bodies_rejected_total", h,
                                    "reason=\"too_large\"");
    oi->unsupported = metrics_counter(m, "llmtap_agent_otlp_bodies_rejected_total", h,
                                      "reason=\"unsupported_media_type\"");
    return oi;
}

void otlp_intake_destroy(struct otlp_intake *oi) { free(oi); }

/* --- hand-written protobuf for the two reply messages -------------------- */

static void pb_varint(struct buf *b, uint64_t v)
{
    unsigned char t[10];
    size_t n = 0;
    do {
        t[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            t[n] |= 0x80;
        n++;
    } while (v);
    buf_append(b, t, n);
}

static void pb_bytes(struct buf *b, unsigned field, const void *p, size_t n)
{
    pb_varint(b, (uint64_t)field << 3 | 2);
    pb_varint(b, n);
    buf_append(b, p, n);
}

/* google.rpc.Status {int32 code = 1; string message = 2;} with code 3
 * (INVALID_ARGUMENT) or 8 (RESOURCE_EXHAUSTED), in the request's encoding. */
static void status_reply(struct httpd_resp *resp, bool proto, int http, int code,
                         const char *msg)
{
    struct buf b = {0};
    if (proto) {
        pb_varint(&b, 1 << 3 | 0);
        pb_varint(&b, (uint64_t)code);
        pb_bytes(&b, 2, msg, strlen(msg));
        resp->content_type = "application/x-protobuf";
    } else {
        buf_printf(&b, "{\"code\":%d,\"message\":", code);
        buf_json_str(&b, msg);
        buf_puts(&b, "}");
        resp->content_type = "application/json";
    }
    resp->status = http;
    resp->body = buf_steal(&b, &resp->len);
    if (!resp->body) { /* empty protobuf message */
        resp->body = strdup("");
        resp->len = 0;
    }
}

/* ExportTraceServiceResponse {ExportTracePartialSuccess partial_success = 1;}
 * ExportTracePartialSuccess {int64 rejected_spans = 1; string error_message = 2;} */
static void success_reply(struct httpd_resp *resp, bool proto, long rejected, const char *why)
{
    struct buf b = {0};
    if (proto) {
        if (rejected) {
            struct buf ps = {0};
            pb_varint(&ps, 1 << 3 | 0);
            pb_varint(&ps, (uint64_t)rejected);
            pb_bytes(&ps, 2, why, strlen(why));
            pb_bytes(&b, 1, ps.p, ps.len);
            buf_free(&ps);
        }
        resp->content_type = "application/x-protobuf";
    } else {
        if (rejected) {
            buf_printf(&b, "{\"partialSuccess\":{\"rejectedSpans\":\"%ld\",\"errorMessage\":",
                       rejected);
            buf_json_str(&b, why);
            buf_puts(&b, "}}");
        } else {
            buf_puts(&b, "{}");
        }
        resp->content_type = "application/json";
    }
    resp->status = 200;
    resp->body = buf_steal(&b, &resp->len);
    if (!resp->body) {
        resp->body = strdup("");
        resp->len = 0;
    }
}

/* One mapped event: fill, price, redact, validate, spool. Returns 0, or -1
 * with why set; *retryable when the spool refused it. */
static int accept_event(struct otlp_intake *oi, cJSON *ev, int64_t now_us, char *why,
                        size_t wl, bool *retryable)
{
    if (event_fill(ev, oi->o.default_service, now_us) != 0) {
        snprintf(why, wl, "out of memory");
        return -1;
    }
    double cost;
    if (oi->o.prices && !cJSON_GetObjectItemCaseSensitive(ev, "cost_usd") &&
        price_registry_cost(oi->o.prices, ev, &cost) == 0)
        cJSON_AddNumberToObject(ev, "cost_usd", cost);
    if (oi->o.redactor && redact_event(oi->o.redactor, ev) < 0) {
        snprintf(why, wl, "out of memory while redacting");
        return -1;
    }
    struct event_error err;
    if (event_validate(ev, &err) != EVENT_OK) {
        snprintf(why, wl, "not a valid event: %.200s", err.msg);
        return -1;
    }
    char *json = cJSON_PrintUnformatted(ev);
    if (!json) {
        snprintf(why, wl, "out of memory");
        return -1;
    }
    size_t len = strlen(json);
    if (oi->o.max_event && len > oi->o.max_event) {
        snprintf(why, wl, "event is %zu bytes; the limit is %zu", len, oi->o.max_event);
        free(json);
        return -1;
    }
    const cJSON *svc = cJSON_GetObjectItemCaseSensitive(ev, "service");
    int e = producer_send(oi->p, cJSON_GetStringValue(svc), json, len);
    if (e) {
        free(json);
        snprintf(why, wl, "%s", producer_strerror(e));
        *retryable = true;
        return -1;
    }
    return 0;
}

void otlp_intake_handle(struct otlp_intake *oi, const struct httpd_req *req,
                        struct httpd_resp *resp)
{
    metric_inc(oi->bodies);
    const char *ct = httpd_header(req, "Content-Type");
    bool proto = httpd_media_is(ct, "application/x-protobuf");
    if (!proto && !httpd_media_is(ct, "application/json")) {
        metric_inc(oi->unsupported);
        httpd_error(resp, 415, "Content-Type must be application/x-protobuf or application/json");
        return;
    }
    const char *enc = httpd_header(req, "Content-Encoding");
    if (enc && *enc && strcasecmp(enc, "identity") != 0) {
        metric_inc(oi->unsupported);
        char msg[160];
        snprintf(msg, sizeof msg, "Content-Encoding %.60s is not supported; send identity", enc);
        status_reply(resp, proto, 415, 3, msg);
        return;
    }
    if (req->body_too_large) {
        metric_inc(oi->too_large);
        char msg[96];
        snprintf(msg, sizeof msg, "body over the %zu-byte limit", oi->o.max_body);
        status_reply(resp, proto, 413, 8, msg);
        return;
    }
    struct otlp_limits lim = {.max_body = oi->o.max_body};
    struct otlp_batch *b = NULL;
    char err[256] = "";
    int rc = proto ? otlp_decode_protobuf(req->body ? req->body : "", req->body_len, &lim, &b,
                                          err, sizeof err)
                   : otlp_decode_json(req->body ? req->body : "", req->body_len, &lim, &b, err,
                                      sizeof err);
    if (rc != 0) {
        metric_inc(oi->bad_body);
        status_reply(resp, proto, 400, 3, err[0] ? err : "undecodable body");
        return;
    }
    metric_add(oi->spans, b->n);
    long accepted = 0, rejected = 0, retryable = 0;
    char first[320] = "";
    int64_t now = timeutil_now_us();
    for (size_t i = 0; i < b->n; i++) {
        cJSON *ev = NULL;
        enum otlp_map_result r = otlp_map_span(&b->spans[i], &ev);
        if (r == OTLP_IGNORED) {
            metric_inc(oi->ignored);
            continue;
        }
        char why[256] = "out of memory";
        bool retry = false;
        if (r == OTLP_MAPPED && accept_event(oi, ev, now, why, sizeof why, &retry) == 0) {
            accepted++;
        } else {
            rejected++;
            retryable += retry;
            if (!first[0])
                snprintf(first, sizeof first, "span %s: %s", b->spans[i].span_id, why);
        }
        cJSON_Delete(ev);
    }
    otlp_batch_free(b);
    metric_add(oi->accepted, (uint64_t)accepted);
    metric_add(oi->rejected, (uint64_t)rejected);
    if (rejected)
        log_warn("agent:otlp", "%ld of %ld GenAI spans refused; first: %s", rejected,
                 accepted + rejected, first);
    if (!accepted && retryable) {
        status_reply(resp, proto, 503, 14, first); /* UNAVAILABLE: the client retries */
        return;
    }
    success_reply(resp, proto, rejected, first);
}
