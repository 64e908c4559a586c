/*
 * api.c — events API, metrics and health endpoints of the collector.
 *
 * DESIGN: handlers run on the HTTP pool threads; each store call opens its
 * own read transaction (readers never block ingest). Time parameters accept
 * RFC 3339 or Unix seconds (with a fraction), like Prometheus's API.
 */
#include "api.h"
#include "auth.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ingest.h"
#include "metrics.h"
#include "store.h"
#include "timeutil.h"
#include "ulid.h"

static double store_events(void *ud)
{
    struct store_stats s;
    return store_stats(ud, &s) == 0 ? (double)s.events : NAN;
}

static double store_used(void *ud)
{
    struct store_stats s;
    return store_stats(ud, &s) == 0 ? (double)s.used_bytes : NAN;
}

static double store_file(void *ud)
{
    struct store_stats s;
    return store_stats(ud, &s) == 0 ? (double)s.file_bytes : NAN;
}

static double store_map(void *ud)
{
    struct store_stats s;
    return store_stats(ud, &s) == 0 ? (double)s.map_size : NAN;
}

static double ready_gauge(void *ud)
{
    return ingest_ready(ud) ? 1 : 0;
}

void api_init(struct api *a, struct store *st, struct ingest *g, struct metrics *m,
              size_t max_limit, size_t max_examined)
{
    memset(&a->prom, 0, sizeof a->prom);
    a->auth = NULL;
    a->max_examined = max_examined;
    a->st = st;
    a->ingest = g;
    a->metrics = m;
    a->max_limit = max_limit;
    a->requests =
        metrics_counter(m, "llmtap_collector_http_requests_total", "HTTP requests served.", NULL);
    a->bad_requests = metrics_counter(m, "llmtap_collector_http_bad_requests_total",
                                      "HTTP requests refused for bad parameters.", NULL);
    a->not_found = metrics_counter(m, "llmtap_collector_http_not_found_total",
                                   "HTTP requests for unknown paths or event ids.", NULL);
    metrics_gauge_fn(m, "llmtap_store_events", "Events in the store.", NULL, store_events, st);
    metrics_gauge_fn(m, "llmtap_store_used_bytes", "Bytes of the LMDB map in use.", NULL,
                     store_used, st);
    metrics_gauge_fn(m, "llmtap_store_file_bytes", "Size of the store's data file.", NULL,
                     store_file, st);
    metrics_gauge_fn(m, "llmtap_store_map_size_bytes", "Configured LMDB map size.", NULL, store_map,
                     st);
    metrics_gauge_fn(m, "llmtap_collector_ready",
                     "1 when ingest is running and the store accepts writes.", NULL, ready_gauge,
                     g);
}

struct scan_out {
    struct buf b;
    size_t n;
};

static int scan_cb(void *ud, const struct store_summary *s)
{
    struct scan_out *o = ud;
    char t[TIMEUTIL_RFC3339_LEN];
    timeutil_format_rfc3339(s->time_us, t);
    buf_puts(&o->b, o->n++ ? ",\n{\"id\":" : "\n{\"id\":");
    buf_json_str(&o->b, s->id);
    buf_printf(&o->b, ",\"time\":\"%s\",\"service\":", t);
    buf_json_str(&o->b, s->service);
    if (s->model && *s->model) {
        buf_puts(&o->b, ",\"model\":");
        buf_json_str(&o->b, s->model);
    }
    if (s->provider && *s->provider) {
        buf_puts(&o->b, ",\"provider\":");
        buf_json_str(&o->b, s->provider);
    }
    if (s->operation && *s->operation) {
        buf_puts(&o->b, ",\"operation\":");
        buf_json_str(&o->b, s->operation);
    }
    buf_printf(&o->b, ",\"status\":%d,\"latency_ms\":", s->status);
    buf_json_number(&o->b, s->latency_ms);
    if (!isnan(s->cost_usd)) {
        buf_puts(&o->b, ",\"cost_usd\":");
        buf_json_number(&o->b, s->cost_usd);
    }
    if (s->input_tokens >= 0)
        buf_printf(&o->b, ",\"input_tokens\":%lld", (long long)s->input_tokens);
    if (s->output_tokens >= 0)
        buf_printf(&o->b, ",\"output_tokens\":%lld", (long long)s->output_tokens);
    buf_printf(&o->b, ",\"stored_bytes\":%u}", s->stored_bytes);
    return 0;
}

static void list_events(struct api *a, const struct httpd_req *req, struct httpd_resp *resp)
{
    struct store_filter f = {
        .start_us = INT64_MIN, .end_us = INT64_MAX, .limit = 100, .max_examined = a->max_examined};
    const char *v;
    if ((v = httpd_query(req, "start")) && *v &&
        timeutil_parse_time(v, 1000000, &f.start_us) != 0) {
        metric_inc(a->bad_requests);
        httpd_error(resp, 400, "start: \"%s\" is not an RFC 3339 time or Unix seconds", v);
        return;
    }
    if ((v = httpd_query(req, "end")) && *v && timeutil_parse_time(v, 1000000, &f.end_us) != 0) {
        metric_inc(a->bad_requests);
        httpd_error(resp, 400, "end: \"%s\" is not an RFC 3339 time or Unix seconds", v);
        return;
    }
    if (f.start_us > f.end_us) {
        metric_inc(a->bad_requests);
        httpd_error(resp, 400, "end must not be before start");
        return;
    }
    if ((v = httpd_query(req, "limit")) && *v) {
        char *end;
        errno = 0;
        long long l = strtoll(v, &end, 10);
        if (errno || *end || l < 1 || (size_t)l > a->max_limit) {
            metric_inc(a->bad_requests);
            httpd_error(resp, 400, "limit: must be an integer from 1 to %zu", a->max_limit);
            return;
        }
        f.limit = (size_t)l;
    }
    if ((v = httpd_query(req, "service")) && *v)
        f.service = v;
    if ((v = httpd_query(req, "model")) && *v)
        f.model = v;
    struct scan_out o = {0};
    buf_puts(&o.b, "[");
    int rc = store_scan(a->st, &f, scan_cb, &o);
    if (rc == STORE_EPARTIAL) {
        /* A filter that matches rarely would otherwise walk the whole store
         * in one read transaction: say the answer is partial. */
        resp->header = "X-Llmtap-Partial";
        snprintf(resp->header_value, sizeof resp->header_value,
                 "examined %zu events; narrow start/end to see older ones", a->max_examined);
        rc = 0;
    }
    if (rc != 0 && rc != STORE_EABORT) {
        buf_free(&o.b);
        httpd_error(resp, 500, "store: %s", store_strerror(rc));
        return;
    }
    buf_puts(&o.b, "\n]\n");
    if (o.b.oom) {
        buf_free(&o.b);
        httpd_error(resp, 503, "out of memory");
        return;
    }
    resp->status = 200;
    resp->content_type = "application/json";
    resp->body = buf_steal(&o.b, &resp->len);
}

static void get_event(struct api *a, const char *raw_id, struct httpd_resp *resp)
{
    char id[STORE_ID_MAX + 1];
    if (strlen(raw_id) > STORE_ID_MAX) {
        metric_inc(a->not_found);
        httpd_error(resp, 404, "no event with that id (ids are at most %d bytes)", STORE_ID_MAX);
        return;
    }
    snprintf(id, sizeof id, "%s", raw_id);
    event_id_canonical(id);
    char *json = NULL;
    size_t len = 0;
    int rc = store_get(a->st, id, &json, &len);
    if (rc == STORE_ENOTFOUND) {
        metric_inc(a->not_found);
        httpd_error(resp, 404, "no event with id \"%s\"", id);
        return;
    }
    if (rc != 0) {
        httpd_error(resp, 500, "store: %s", store_strerror(rc));
        return;
    }
    resp->status = 200;
    resp->content_type = "application/json";
    resp->body = json;
    resp->len = len;
}

void api_handle(void *ud, const struct httpd_req *req, struct httpd_resp *resp)
{
    struct api *a = ud;
    metric_inc(a->requests);
    if (strcmp(req->path, "/healthz") != 0 && strcmp(req->path, "/readyz") != 0 &&
        !auth_allow(a->auth, req, AUTH_READ, resp))
        return;
    if (promapi_handle(&a->prom, req, resp))
        return;
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        httpd_error(resp, 405, "method %s not allowed here", req->method);
        return;
    }
    const char *p = req->path;
    static const char ev[] = "/api/v1/events";
    if (strcmp(p, ev) == 0 || strcmp(p, "/api/v1/events/") == 0) {
        list_events(a, req, resp);
    } else if (strncmp(p, ev, sizeof ev - 1) == 0 && p[sizeof ev - 1] == '/') {
        get_event(a, p + sizeof ev, resp);
    } else if (strcmp(p, "/metrics") == 0) {
        struct buf b = {0};
        metrics_render(a->metrics, &b);
        resp->status = 200;
        resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
        resp->body = buf_steal(&b, &resp->len);
    } else if (strcmp(p, "/healthz") == 0) {
        static const char ok[] = "{\"status\":\"ok\"}\n";
        httpd_json(resp, 200, ok, sizeof ok - 1);
    } else if (strcmp(p, "/readyz") == 0) {
        char why[512];
        if (ingest_status(a->ingest, why, sizeof why)) {
            static const char ok[] = "{\"status\":\"ready\"}\n";
            httpd_json(resp, 200, ok, sizeof ok - 1);
        } else {
            httpd_error(resp, 503, "not ready: %s", why);
        }
    } else {
        metric_inc(a->not_found);
        httpd_error(resp, 404, "no such endpoint: %s", p);
    }
}
