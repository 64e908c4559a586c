/*
 * main.c — llmtap-agent: the sidecar that takes LLM-call events from a
 * service and ships them to Kafka.
 *
 * DESIGN
 * - Start-up: daemon_start (config, logger, crash handler, signals blocked
 *   in every thread) → Kafka producer → HTTP server. The main thread then
 *   waits in daemon_wait(): signal handling is ordinary code, not a handler.
 * - Shutdown is staged (first SIGINT/SIGTERM): stop accepting connections →
 *   let in-flight requests finish → flush Kafka within the grace period →
 *   destroy in reverse order → exit 0. During shutdown a second SIGINT exits at
 *   once (status 130); see common/daemon.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "daemon.h"
#include "httpd.h"
#include "intake.h"
#include "log.h"
#include "metrics.h"
#include "producer.h"
#include "timeutil.h"

static const struct config_setting settings[] = {
    {"listen", NULL, CONFIG_STRING, "127.0.0.1:7311", 0, 0, "HTTP listen address (HOST:PORT)"},
    {"service", NULL, CONFIG_STRING, NULL, 0, 0,
     "service name given to events that carry none"},
    {"brokers", "kafka-brokers", CONFIG_STRING, NULL, 0, 0,
     "Kafka bootstrap servers HOST:PORT,... (overrides kafka.bootstrap.servers)"},
    {"topic", NULL, CONFIG_STRING, "llmtap.events", 0, 0, "Kafka topic events are written to"},
    {"intake.max_body", NULL, CONFIG_BYTES, "16MiB", 1024, 1073741824.0,
     "largest request body accepted"},
    {"intake.max_event", NULL, CONFIG_BYTES, "1MiB", 1024, 67108864.0,
     "largest single event (encoded JSON)"},
    {"intake.max_depth", NULL, CONFIG_INT, "32", 4, 256, "deepest JSON nesting in an event"},
    {"http.threads", NULL, CONFIG_INT, "2", 1, 256, "HTTP worker threads"},
    {"shutdown.grace", NULL, CONFIG_DURATION, "10s", 0, 3600000,
     "how long shutdown waits for Kafka to acknowledge queued events"},
    {"log.level", NULL, CONFIG_STRING, "info", 0, 0, "debug, info, warn or error"},
};

static const struct config_table table = {
    .component = "agent",
    .usage = "llmtap-agent [flags]   (any librdkafka property: --kafka NAME=VALUE)",
    .settings = settings,
    .n = sizeof settings / sizeof settings[0],
    .passthrough = "kafka",
};

struct agent {
    struct config *cfg;
    struct metrics *metrics;
    struct producer *producer;
    struct intake *intake;
    struct httpd *http;
    struct metric *http_requests, *http_not_found;
    int64_t started_us;
};

static void handle(void *ud, const struct httpd_req *req, struct httpd_resp *resp)
{
    struct agent *a = ud;
    metric_inc(a->http_requests);
    bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    if (strcmp(req->path, "/v1/events") == 0) {
        if (strcmp(req->method, "POST") != 0) {
            httpd_error(resp, 405, "use POST for /v1/events");
            return;
        }
        intake_handle(a->intake, req, resp);
    } else if (strcmp(req->path, "/metrics") == 0 && get) {
        struct buf b = {0};
        metrics_render(a->metrics, &b);
        resp->status = 200;
        resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
        resp->body = buf_steal(&b, &resp->len);
    } else if (strcmp(req->path, "/healthz") == 0 && get) {
        const char *failure = producer_failure(a->producer);
        if (failure) {
            httpd_error(resp, 503, "kafka producer failed: %s", failure);
        } else {
            const char ok[] = "{\"status\":\"ok\"}\n";
            httpd_json(resp, 200, ok, sizeof ok - 1);
        }
    } else {
        metric_inc(a->http_not_found);
        httpd_error(resp, 404, "no such endpoint: %s %s", req->method, req->path);
    }
}

static double in_flight(void *ud)
{
    struct agent *a = ud;
    return httpd_inflight(a->http);
}

static double uptime(void *ud)
{
    struct agent *a = ud;
    return (double)(timeutil_now_us() - a->started_us) / 1e6;
}

int main(int argc, char **argv)
{
    struct agent a = {.started_us = timeutil_now_us()};
    char err[512];
    int rc = daemon_start(&table, "llmtap-agent", argc, argv, &a.cfg);
    if (rc >= 0)
        return rc;

    int exit_code = 1;
    a.metrics = metrics_create();
    a.http_requests = metrics_counter(a.metrics, "llmtap_agent_http_requests_total",
                                      "HTTP requests served.", NULL);
    a.http_not_found = metrics_counter(a.metrics, "llmtap_agent_http_not_found_total",
                                       "HTTP requests for unknown paths.", NULL);
    metrics_gauge_fn(a.metrics, "llmtap_agent_http_in_flight",
                     "HTTP requests in progress (this scrape included).", NULL, in_flight, &a);
    metrics_gauge_fn(a.metrics, "llmtap_agent_uptime_seconds", "Seconds since the agent started.",
                     NULL, uptime, &a);
    if (producer_create(a.cfg, a.metrics, &a.producer, err, sizeof err) != 0) {
        log_error("agent", "%s", err);
        goto out;
    }
    struct intake_opts io = {
        .default_service = config_str(a.cfg, "service"),
        .limits = {.max_bytes = (size_t)config_int(a.cfg, "intake.max_event"),
                   .max_depth = (int)config_int(a.cfg, "intake.max_depth")},
        .max_body = (size_t)config_int(a.cfg, "intake.max_body"),
    };
    a.intake = intake_create(&io, a.producer, a.metrics);
    if (!a.intake)
        goto out;
    struct httpd_opts ho = {
        .listen = config_str(a.cfg, "listen"),
        .threads = (unsigned)config_int(a.cfg, "http.threads"),
        .max_body = io.max_body,
        .handler = handle,
        .ud = &a,
    };
    if (httpd_start(&ho, &a.http, err, sizeof err) != 0) {
        log_error("agent", "%s", err);
        goto out;
    }
    const char *brokers = config_str(a.cfg, "brokers");
    log_info("agent", "llmtap-agent %s listening on %s (port %u), kafka topic %s%s%s",
             LLMTAP_VERSION, ho.listen, httpd_port(a.http), config_str(a.cfg, "topic"),
             brokers ? " via " : "", brokers ? brokers : "");

    daemon_wait("agent", NULL, NULL);

    httpd_quiesce(a.http);
    int grace = (int)config_int(a.cfg, "shutdown.grace");
    int busy = httpd_drain(a.http, grace);
    if (busy)
        log_warn("agent", "%d requests still in progress after the grace period", busy);
    httpd_stop(a.http);
    a.http = NULL;
    int left = producer_flush(a.producer, grace);
    if (left)
        log_warn("agent", "%d events still unacknowledged after the %d ms grace period", left, grace);
    else
        log_info("agent", "all queued events delivered");
    exit_code = 0;
out:
    httpd_stop(a.http);
    intake_destroy(a.intake);
    producer_destroy(a.producer);
    metrics_destroy(a.metrics);
    config_destroy(a.cfg);
    return exit_code;
}
