/*
 * otlp_intake.c — POST /v1/traces and POST /v1/logs (see otlp_intake.h).
 *
 * DESIGN
 * - One handler for both signals, parameterised by a small table (struct
 *   signal: decoders, mapper, reply field names, metrics).
 * - Content-Encoding gzip is inflated first (otlp_gzip.c) with the body
 *   limit applied to the inflated size; the compressed size is bounded by
 *   the HTTP server's limit before that.
 * - The whole body is decoded first (otlp_decode_* check every limit and
 *   refuse a malformed body as a whole: 400); then each span / record is
 *   mapped on its own, so one bad span costs only itself (counted in
 *   partial_success with the first reason).
 * - After mapping, the batch goes through the retrieval join (otlp_join.c),
 *   which adds documents of retrieval spans to the LLM events of their trace.
 * - A mapped event then goes through the same steps as a proxied call: the
 *   text cap (otlp_cap_text: capture.max_text), fill (schema, id, time,
 *   service), cost from the price table when the span carried none,
 *   redaction, validation, then the producer's spool.
 * - Responses are written by hand in the request's encoding: the messages
 *   involved (Export*ServiceResponse with its PartialSuccess,
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
#include "otlp_gzip.h"
#include "otlp_join.h"
#include "otlp_map.h"
#include "price.h"
#include "producer.h"
#include "redact.h"
#include "timeutil.h"

enum { SIG_TRACES, SIG_LOGS, SIG_N };

/* What differs between the two endpoints. */
struct signal {
    const char *unit, *json_rejected; /* "spans", "rejectedSpans" */
    int (*decode_pb)(const void *, size_t, const struct otlp_limits *, struct otlp_batch **, char *,
                     size_t);
    int (*decode_json)(const char *, size_t, const struct otlp_limits *, struct otlp_batch **,
                       char *, size_t);
    struct metric *requests, *records, *accepted, *ignored, *ignored_per_message, *rejected;
};

struct otlp_intake {
    struct otlp_intake_opts o;
    struct producer *p;
    struct otlp_join *join;
    struct signal sig[SIG_N];
    struct metric *bad_body, *bad_gzip, *too_large, *unsupported, *gzip_bodies, *truncated;
};

struct otlp_intake *otlp_intake_create(const struct otlp_intake_opts *o, struct producer *p,
                                       struct metrics *m)
{
    struct otlp_intake *oi = calloc(1, sizeof *oi);
    if (!oi)
        return NULL;
    oi->o = *o;
    oi->p = p;
    struct otlp_join_opts jo = {.window_us = o->join_window_ms * 1000,
                                .max_bytes = o->join_max_bytes,
                                .max_spans = o->join_max_spans,
                                .text_cap = o->text_cap};
    if (!(oi->join = otlp_join_create(&jo, m))) {
        free(oi);
        return NULL;
    }
    struct signal *t = &oi->sig[SIG_TRACES], *l = &oi->sig[SIG_LOGS];
    *t = (struct signal){.unit = "spans",
                         .json_rejected = "rejectedSpans",
                         .decode_pb = otlp_decode_protobuf,
                         .decode_json = otlp_decode_json};
    *l = (struct signal){.unit = "log records",
                         .json_rejected = "rejectedLogRecords",
                         .decode_pb = otlp_decode_logs_protobuf,
                         .decode_json = otlp_decode_logs_json};
    t->requests =
        metrics_counter(m, "llmtap_agent_otlp_requests_total", "POST /v1/traces requests.", NULL);
    t->records = metrics_counter(m, "llmtap_agent_otlp_spans_total",
                                 "Spans received in decodable OTLP bodies.", NULL);
    t->accepted = metrics_counter(m, "llmtap_agent_otlp_spans_accepted_total",
                                  "GenAI spans accepted as events (spooled).", NULL);
    t->ignored = metrics_counter(m, "llmtap_agent_otlp_spans_ignored_total",
                                 "Spans that are not GenAI model calls (not events; retrieval "
                                 "spans included).",
                                 NULL);
    t->rejected = metrics_counter(m, "llmtap_agent_otlp_spans_rejected_total",
                                  "GenAI spans refused (invalid event, spool failure).", NULL);
    l->requests =
        metrics_counter(m, "llmtap_agent_otlp_log_requests_total", "POST /v1/logs requests.", NULL);
    l->records = metrics_counter(m, "llmtap_agent_otlp_log_records_total",
                                 "Log records received in decodable OTLP bodies.", NULL);
    l->accepted =
        metrics_counter(m, "llmtap_agent_otlp_log_records_accepted_total",
                        "GenAI inference log records accepted as events (spooled).", NULL);
    const char *hi = "Log records that are not events, by reason.";
    l->ignored = metrics_counter(m, "llmtap_agent_otlp_log_records_ignored_total", hi,
                                 "reason=\"not_genai\"");
    l->ignored_per_message = metrics_counter(m, "llmtap_agent_otlp_log_records_ignored_total", hi,
                                             "reason=\"per_message_event\"");
    l->rejected =
        metrics_counter(m, "llmtap_agent_otlp_log_records_rejected_total",
                        "GenAI log records refused (invalid event, spool failure).", NULL);
    const char *h = "OTLP bodies refused as a whole, by reason.";
    oi->bad_body =
        metrics_counter(m, "llmtap_agent_otlp_bodies_rejected_total", h, "reason=\"undecodable\"");
    oi->bad_gzip =
        metrics_counter(m, "llmtap_agent_otlp_bodies_rejected_total", h, "reason=\"bad_gzip\"");
    oi->too_large =
        metrics_counter(m, "llmtap_agent_otlp_bodies_rejected_total", h, "reason=\"too_large\"");
    oi->unsupported = metrics_counter(m, "llmtap_agent_otlp_bodies_rejected_total", h,
                                      "reason=\"unsupported_media_type\"");
    oi->gzip_bodies = metrics_counter(m, "llmtap_agent_otlp_gzip_bodies_total",
                                      "OTLP bodies sent with Content-Encoding: gzip.", NULL);
    oi->truncated = metrics_counter(m, "llmtap_agent_otlp_events_truncated_total",
                                    "OTLP events whose text was cut to capture.max_text.", NULL);
    return oi;
}

void otlp_intake_destroy(struct otlp_intake *oi)
{
    if (!oi)
        return;
    otlp_join_destroy(oi->join);
    free(oi);
}

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
static void status_reply(struct httpd_resp *resp, bool proto, int http, int code, const char *msg)
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
 * ExportTracePartialSuccess {int64 rejected_spans = 1; string error_message = 2;}
 * and the same for logs (rejected_log_records = 1); json_name is the
 * count's JSON name. */
static void success_reply(struct httpd_resp *resp, bool proto, const char *json_name, long rejected,
                          const char *why)
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
            buf_printf(&b, "{\"partialSuccess\":{\"%s\":\"%ld\",\"errorMessage\":", json_name,
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

/* One mapped event: cap, fill, price, redact, validate, spool. Returns 0,
 * or -1 with why set; *retryable when the spool refused it. */
static int accept_event(struct otlp_intake *oi, cJSON *ev, int64_t now_us, char *why, size_t wl,
                        bool *retryable)
{
    if (otlp_cap_text(ev, oi->o.text_cap))
        metric_inc(oi->truncated);
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

/* The body to decode: the request's, or its gzip inflation (*owned, freed
 * by the caller). Returns 0, or -1 after writing the error reply. */
static int body_of(struct otlp_intake *oi, const struct httpd_req *req, bool proto, bool gzip,
                   const char **body, size_t *len, char **owned, struct httpd_resp *resp)
{
    *owned = NULL;
    *body = req->body ? req->body : "";
    *len = req->body_len;
    if (!gzip)
        return 0;
    metric_inc(oi->gzip_bodies);
    char err[160];
    size_t n = 0;
    enum otlp_gunzip_result r =
        otlp_gunzip(*body, *len, oi->o.max_body, owned, &n, err, sizeof err);
    if (r == OTLP_GUNZIP_OK) {
        *body = *owned;
        *len = n;
        return 0;
    }
    if (r == OTLP_GUNZIP_TOO_LARGE) {
        metric_inc(oi->too_large);
        status_reply(resp, proto, 413, 8, err);
    } else if (r == OTLP_GUNZIP_CORRUPT) {
        metric_inc(oi->bad_gzip);
        status_reply(resp, proto, 400, 3, err);
    } else {
        status_reply(resp, proto, 503, 14, err);
    }
    return -1;
}

static void handle(struct otlp_intake *oi, struct signal *sg, const struct httpd_req *req,
                   struct httpd_resp *resp)
{
    metric_inc(sg->requests);
    const char *ct = httpd_header(req, "Content-Type");
    bool proto = httpd_media_is(ct, "application/x-protobuf");
    if (!proto && !httpd_media_is(ct, "application/json")) {
        metric_inc(oi->unsupported);
        httpd_error(resp, 415, "Content-Type must be application/x-protobuf or application/json");
        return;
    }
    const char *enc = httpd_header(req, "Content-Encoding");
    bool gzip = enc && !strcasecmp(enc, "gzip");
    if (enc && *enc && !gzip && strcasecmp(enc, "identity") != 0) {
        metric_inc(oi->unsupported);
        char msg[160];
        snprintf(msg, sizeof msg, "Content-Encoding %.60s is not supported; send gzip or identity",
                 enc);
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
    const char *body;
    size_t len;
    char *inflated;
    if (body_of(oi, req, proto, gzip, &body, &len, &inflated, resp) != 0)
        return;
    struct otlp_limits lim = {.max_body = oi->o.max_body};
    struct otlp_batch *b = NULL;
    char err[256] = "";
    int rc = proto ? sg->decode_pb(body, len, &lim, &b, err, sizeof err)
                   : sg->decode_json(body, len, &lim, &b, err, sizeof err);
    free(inflated);
    if (rc != 0) {
        metric_inc(oi->bad_body);
        status_reply(resp, proto, 400, 3, err[0] ? err : "undecodable body");
        return;
    }
    metric_add(sg->records, b->n);
    long accepted = 0, rejected = 0, retryable = 0;
    char first[320] = "";
    cJSON **events = calloc(b->n ? b->n : 1, sizeof *events);
    enum otlp_map_result *res = calloc(b->n ? b->n : 1, sizeof *res);
    if (!events || !res) {
        free(events);
        free(res);
        otlp_batch_free(b);
        status_reply(resp, proto, 503, 14, "out of memory");
        return;
    }
    for (size_t i = 0; i < b->n; i++) {
        if (sg == &oi->sig[SIG_LOGS]) {
            res[i] = otlp_map_log(&b->spans[i], &events[i]);
            if (res[i] == OTLP_IGNORED && otlp_log_kind(&b->spans[i]) == OTLP_LOG_PER_MESSAGE) {
                metric_inc(sg->ignored_per_message);
                continue;
            }
        } else {
            res[i] = otlp_map_span(&b->spans[i], &events[i]);
        }
        if (res[i] == OTLP_IGNORED)
            metric_inc(sg->ignored);
    }
    otlp_join_batch(oi->join, b, events, timeutil_mono_us());
    int64_t now = timeutil_now_us();
    for (size_t i = 0; i < b->n; i++) {
        if (res[i] == OTLP_IGNORED)
            continue;
        char why[256] = "out of memory";
        bool retry = false;
        if (res[i] == OTLP_MAPPED &&
            accept_event(oi, events[i], now, why, sizeof why, &retry) == 0) {
            accepted++;
        } else {
            rejected++;
            retryable += retry;
            if (!first[0])
                snprintf(first, sizeof first, "%s %s: %s",
                         sg == &oi->sig[SIG_LOGS] ? "log record of span" : "span",
                         b->spans[i].span_id, why);
        }
        cJSON_Delete(events[i]);
    }
    free(events);
    free(res);
    otlp_batch_free(b);
    metric_add(sg->accepted, (uint64_t)accepted);
    metric_add(sg->rejected, (uint64_t)rejected);
    if (rejected)
        log_warn("agent:otlp", "%ld of %ld GenAI %s refused; first: %s", rejected,
                 accepted + rejected, sg->unit, first);
    if (!accepted && retryable) {
        status_reply(resp, proto, 503, 14, first); /* UNAVAILABLE: the client retries */
        return;
    }
    success_reply(resp, proto, sg->json_rejected, rejected, first);
}

void otlp_intake_handle(struct otlp_intake *oi, const struct httpd_req *req,
                        struct httpd_resp *resp)
{
    handle(oi, &oi->sig[SIG_TRACES], req, resp);
}

void otlp_intake_handle_logs(struct otlp_intake *oi, const struct httpd_req *req,
                             struct httpd_resp *resp)
{
    handle(oi, &oi->sig[SIG_LOGS], req, resp);
}
