/*
 * intake.c — POST /v1/events: split the body into items, fill, validate,
 * encode and queue each item.
 *
 * DESIGN
 * - Body forms: a single object (first non-blank byte '{'), an array ('['),
 *   or NDJSON (by Content-Type). For an object or an array the whole body is
 *   scanned and parsed once; for NDJSON each line is scanned and parsed on
 *   its own, so one broken line (even invalid UTF-8) rejects only itself.
 * - Per item: event_fill → event_validate → event_encode → size check on the
 *   encoded bytes → producer_send. The encoded string is handed to the
 *   producer (no copy).
 * - Counters: accepted, rejected by reason (event reasons plus queue_full
 *   and kafka_error), bodies refused by reason, bytes received.
 * - Thread-safe: no shared mutable state besides atomics and the producer
 *   (whose spool is thread-safe).
 */
#include "intake.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "producer.h"
#include "timeutil.h"

enum { REJ_QUEUE_FULL = EVENT_REASON_COUNT, REJ_KAFKA, REJ_COUNT };
enum { BODY_NOT_JSON, BODY_TOO_LARGE, BODY_MEDIA_TYPE, BODY_EMPTY, BODY_COUNT };

struct intake {
    struct intake_opts o;
    char *default_service;
    struct producer *p;
    struct metric *accepted, *bytes, *requests;
    struct metric *rejected[REJ_COUNT];
    struct metric *body_rejected[BODY_COUNT];
};

struct batch {
    int accepted, rejected, retryable; /* retryable: queue full or Kafka error */
    struct buf errors;                 /* comma-separated error objects */
};

struct intake *intake_create(const struct intake_opts *o, struct producer *p, struct metrics *m)
{
    struct intake *in = calloc(1, sizeof *in);
    if (!in)
        return NULL;
    in->o = *o;
    in->default_service = o->default_service ? strdup(o->default_service) : NULL;
    in->o.default_service = in->default_service;
    in->p = p;
    in->accepted =
        metrics_counter(m, "llmtap_agent_events_accepted_total",
                        "Events accepted by intake (durably queued in the spool).", NULL);
    in->bytes = metrics_counter(m, "llmtap_agent_intake_bytes_total",
                                "Bytes of request bodies received by intake.", NULL);
    in->requests = metrics_counter(m, "llmtap_agent_intake_requests_total",
                                   "Requests to POST /v1/events.", NULL);
    char lbl[64];
    for (int r = 1; r < REJ_COUNT; r++) {
        const char *name = r == REJ_QUEUE_FULL ? "queue_full"
                           : r == REJ_KAFKA    ? "kafka_error"
                                               : event_reason_name((enum event_reason)r);
        snprintf(lbl, sizeof lbl, "reason=\"%s\"", name);
        in->rejected[r] = metrics_counter(m, "llmtap_agent_events_rejected_total",
                                          "Events refused by intake, by reason.", lbl);
    }
    static const char *const body_names[BODY_COUNT] = {"invalid_json", "too_large",
                                                       "unsupported_media_type", "empty"};
    for (int r = 0; r < BODY_COUNT; r++) {
        snprintf(lbl, sizeof lbl, "reason=\"%s\"", body_names[r]);
        in->body_rejected[r] =
            metrics_counter(m, "llmtap_agent_bodies_rejected_total",
                            "Request bodies refused as a whole, by reason.", lbl);
    }
    return in;
}

void intake_destroy(struct intake *in)
{
    if (!in)
        return;
    free(in->default_service);
    free(in);
}

static void item_error(struct intake *in, struct batch *b, int index, int reason, const char *msg)
{
    b->rejected++;
    if (reason == REJ_QUEUE_FULL || reason == REJ_KAFKA)
        b->retryable++;
    metric_inc(in->rejected[reason]);
    /* Report at most 100 errors in detail; the counts stay exact. */
    if (b->rejected > 100)
        return;
    if (b->errors.len)
        buf_puts(&b->errors, ",");
    buf_printf(&b->errors, "{\"index\":%d,\"error\":", index);
    buf_json_str(&b->errors, msg);
    buf_puts(&b->errors, "}");
}

/* Takes ownership of ev. */
static void handle_item(struct intake *in, struct batch *b, int index, cJSON *ev, int64_t now_us)
{
    struct event_error err = {0};
    if (!cJSON_IsObject(ev)) {
        item_error(in, b, index, EVENT_NOT_OBJECT, "an event must be a JSON object");
        cJSON_Delete(ev);
        return;
    }
    if (event_fill(ev, in->o.default_service, now_us) != 0) {
        item_error(in, b, index, REJ_KAFKA, "out of memory");
        cJSON_Delete(ev);
        return;
    }
    if (event_validate(ev, &err) != EVENT_OK) {
        if (err.reason == EVENT_MISSING_FIELD && strncmp(err.msg, "service:", 8) == 0)
            snprintf(err.msg, sizeof err.msg,
                     "service: required (set it in the event, or start the agent with --service)");
        item_error(in, b, index, err.reason, err.msg);
        cJSON_Delete(ev);
        return;
    }
    char *json = event_encode(ev);
    struct event_fields f;
    event_fields_get(ev, &f);
    char key[129];
    snprintf(key, sizeof key, "%s", f.service);
    cJSON_Delete(ev);
    if (!json) {
        item_error(in, b, index, REJ_KAFKA, "out of memory");
        return;
    }
    size_t len = strlen(json);
    size_t max = in->o.limits.max_bytes ? in->o.limits.max_bytes : EVENT_MAX_BYTES_DEFAULT;
    if (len > max) {
        char msg[128];
        snprintf(msg, sizeof msg, "event is %zu bytes; the limit is %zu", len, max);
        item_error(in, b, index, EVENT_TOO_LARGE, msg);
        free(json);
        return;
    }
    int e = producer_send(in->p, key, json, len);
    if (e) {
        free(json);
        item_error(in, b, index, e == PRODUCER_EFULL ? REJ_QUEUE_FULL : REJ_KAFKA,
                   producer_strerror(e));
        return;
    }
    b->accepted++;
    metric_inc(in->accepted);
}

static void handle_ndjson(struct intake *in, struct batch *b, const char *body, size_t len,
                          int64_t now_us, int *json_items)
{
    int index = 0;
    const char *p = body, *end = body + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *ls = p;
        p = nl ? nl + 1 : end;
        while (ls < le && (*ls == ' ' || *ls == '\t'))
            ls++;
        const char *te = le;
        while (te > ls && (te[-1] == '\r' || te[-1] == ' ' || te[-1] == '\t'))
            te--;
        if (te == ls)
            continue; /* blank line */
        struct event_error err = {0};
        cJSON *ev = event_parse_json(ls, (size_t)(te - ls), &in->o.limits, 0, &err);
        if (!ev) {
            item_error(in, b, index++, err.reason, err.msg);
            continue;
        }
        (*json_items)++;
        handle_item(in, b, index++, ev, now_us);
    }
}

static void finish(struct intake *in, struct batch *b, struct httpd_resp *resp, int items)
{
    struct buf out = {0};
    buf_printf(&out, "{\"accepted\":%d,\"rejected\":%d,\"errors\":[", b->accepted, b->rejected);
    buf_append(&out, b->errors.p ? b->errors.p : "", b->errors.len);
    buf_puts(&out, "]}\n");
    buf_free(&b->errors);
    if (b->accepted > 0 || items == 0)
        resp->status = 202;
    else if (b->retryable > 0) /* a retry may succeed: never tell the client it was invalid */
        resp->status = 503;
    else
        resp->status = 400;
    resp->content_type = "application/json";
    resp->body = buf_steal(&out, &resp->len);
}

static void body_error(struct intake *in, struct httpd_resp *resp, int reason, int status,
                       const char *msg)
{
    metric_inc(in->body_rejected[reason]);
    httpd_error(resp, status, "%s", msg);
}

void intake_handle(struct intake *in, const struct httpd_req *req, struct httpd_resp *resp)
{
    metric_inc(in->requests);
    if (req->body_too_large) {
        char msg[96];
        snprintf(msg, sizeof msg, "request body over the limit of %zu bytes", in->o.max_body);
        body_error(in, resp, BODY_TOO_LARGE, 413, msg);
        return;
    }
    metric_add(in->bytes, req->body_len);
    const char *ct = httpd_header(req, "Content-Type");
    bool ndjson =
        ct &&
        (httpd_media_is(ct, "application/x-ndjson") || httpd_media_is(ct, "application/ndjson") ||
         httpd_media_is(ct, "application/jsonl") || httpd_media_is(ct, "application/jsonlines"));
    if (ct && !ndjson && !httpd_media_is(ct, "application/json")) {
        body_error(in, resp, BODY_MEDIA_TYPE, 415,
                   "Content-Type must be application/json or application/x-ndjson");
        return;
    }
    const char *body = req->body ? req->body : "";
    size_t len = req->body_len, i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    if (i == len) {
        body_error(in, resp, BODY_EMPTY, 400,
                   "empty body: send an event object, an array or NDJSON");
        return;
    }
    int64_t now_us = timeutil_now_us();
    struct batch b = {0};
    int items = 0;
    if (ndjson) {
        int json_items = 0;
        handle_ndjson(in, &b, body, len, now_us, &json_items);
        if (json_items == 0) {
            buf_free(&b.errors);
            body_error(in, resp, BODY_NOT_JSON, 400, "no line of the NDJSON body is a JSON value");
            return;
        }
        finish(in, &b, resp, b.accepted + b.rejected);
        return;
    }
    bool single = body[i] == '{';
    size_t max_event = in->o.limits.max_bytes ? in->o.limits.max_bytes : EVENT_MAX_BYTES_DEFAULT;
    if (single && len > max_event) {
        char msg[96];
        snprintf(msg, sizeof msg, "event over the limit of %zu bytes", max_event);
        metric_inc(in->rejected[EVENT_TOO_LARGE]);
        body_error(in, resp, BODY_TOO_LARGE, 413, msg);
        return;
    }
    struct event_error err = {0};
    cJSON *root = event_parse_json(body, len, &in->o.limits, single ? 0 : 1, &err);
    if (!root) {
        body_error(in, resp, BODY_NOT_JSON, 400, err.msg);
        return;
    }
    if (cJSON_IsObject(root)) {
        items = 1;
        handle_item(in, &b, 0, root, now_us);
    } else if (cJSON_IsArray(root)) {
        int index = 0;
        cJSON *ev;
        while ((ev = cJSON_DetachItemFromArray(root, 0)) != NULL) {
            items++;
            handle_item(in, &b, index++, ev, now_us);
        }
        cJSON_Delete(root);
    } else {
        cJSON_Delete(root);
        body_error(in, resp, BODY_NOT_JSON, 400,
                   "the body must be an event object, an array of events, or NDJSON");
        return;
    }
    finish(in, &b, resp, items);
}
