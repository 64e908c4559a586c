/*
 * main.c — llmtap-agent: the sidecar that relays a service's LLM calls to
 * their provider (capturing each as an event) and takes events posted to it,
 * and ships them to Kafka.
 *
 * DESIGN
 * - Start-up: daemon_start (config, logger, crash handler, signals blocked
 *   in every thread) → Kafka producer → price table, redactor, upstreams,
 *   proxy → HTTP server (a thread per connection: a relayed call blocks its
 *   thread while it waits for the upstream). The main thread then waits in
 *   daemon_wait(): signal handling is ordinary code, not a handler; SIGHUP
 *   reloads the price table.
 * - Routes: /v1/events (intake), /v1/traces and /v1/logs (OTLP intake),
 *   /metrics, /healthz, /readyz; every other path that routes to an upstream
 *   (upstream.h) is relayed by the proxy.
 * - Shutdown is staged (first SIGINT/SIGTERM): stop accepting connections →
 *   let in-flight requests finish → flush Kafka within the grace period →
 *   destroy in reverse order → exit 0. Every request has spooled its events
 *   before it answers, so nothing else needs flushing: the OTLP join buffer
 *   holds retrieval documents only, never events (otlp_join.h). During shutdown a second SIGINT
 * exits at once (status 130); see common/daemon.h.
 */
#include <curl/curl.h>
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
#include "otlp_intake.h"
#include "metrics.h"
#include "price.h"
#include "producer.h"
#include "proxy.h"
#include "redact.h"
#include "timeutil.h"
#include "upstream.h"

static const struct config_setting settings[] = {
    {"listen", NULL, CONFIG_STRING, "127.0.0.1:7311", 0, 0, "HTTP listen address (HOST:PORT)"},
    {"service", NULL, CONFIG_STRING, NULL, 0, 0, "service name given to events that carry none"},
    {"brokers", "kafka-brokers", CONFIG_STRING, NULL, 0, 0,
     "Kafka bootstrap servers HOST:PORT,... (overrides kafka.bootstrap.servers)"},
    {"topic", NULL, CONFIG_STRING, "llmtap.events", 0, 0, "Kafka topic events are written to"},
    {"intake.max_body", NULL, CONFIG_BYTES, "16MiB", 1024, 1073741824.0,
     "largest request body accepted"},
    {"intake.max_event", NULL, CONFIG_BYTES, "1MiB", 1024, 67108864.0,
     "largest single event (encoded JSON)"},
    {"intake.max_depth", NULL, CONFIG_INT, "32", 4, 256, "deepest JSON nesting in an event"},
    {"http.max_connections", NULL, CONFIG_INT, "1024", 1, 65536,
     "client connections served at once (each has its own thread)"},
    {"env", NULL, CONFIG_STRING, NULL, 0, 0, "`env` written on captured events (prod, staging…)"},
    {"proxy.enabled", NULL, CONFIG_BOOL, "true", 0, 0, "relay OpenAI/Anthropic calls to upstreams"},
    {"proxy.connect_timeout", NULL, CONFIG_DURATION, "10s", 1, 600000,
     "default time allowed to connect to an upstream"},
    {"proxy.timeout", NULL, CONFIG_DURATION, "10m", 1000, 86400000,
     "default upstream idle timeout: no byte for this long → 504 / cut stream"},
    {"proxy.inject_usage", NULL, CONFIG_BOOL, "true", 0, 0,
     "ask OpenAI streams for usage when the client did not, and hide that extra chunk"},
    {"proxy.max_captures", NULL, CONFIG_INT, "512", 1, 1000000,
     "calls captured at once; past it calls are relayed without an event (counted)"},
    {"capture.max_text", NULL, CONFIG_BYTES, "256KiB", 1024, 16777216.0,
     "text kept per event, proxied or OTLP (prompt + context + response); the rest is cut, "
     "truncated=true"},
    {"capture.embedding_vectors", NULL, CONFIG_BOOL, "false", 0, 0,
     "keep embedding vectors on events (else only their dimension)"},
    {"otlp.join_window", NULL, CONFIG_DURATION, "2s", 0, 600000,
     "how long retrieval-span documents wait for LLM calls of their trace (0 = no join)"},
    {"otlp.join_max_bytes", NULL, CONFIG_BYTES, "16MiB", 1024, 1073741824.0,
     "documents held for the retrieval join; past it the oldest are dropped (counted)"},
    {"otlp.join_max_spans", NULL, CONFIG_INT, "10000", 1, 1000000,
     "retrieval spans and LLM calls remembered for the join; past it the oldest are dropped"},
    {"capture.context_tag", NULL, CONFIG_STRING, "context", 0, 0,
     "element name of delimited context passages in prompts: <context id=…>…</context>"},
    {"prices.file", NULL, CONFIG_STRING, LLMTAP_PRICES_DEFAULT, 0, 0,
     "model price table (LiteLLM's JSON format); reloaded on SIGHUP"},
    {"redact.prompt", NULL, CONFIG_STRING, "redact", 0, 0, "prompt text: redact, keep or drop"},
    {"redact.context", NULL, CONFIG_STRING, "redact", 0, 0, "context text: redact, keep or drop"},
    {"redact.response", NULL, CONFIG_STRING, "redact", 0, 0, "response text: redact, keep or drop"},
    {"redact.disable", NULL, CONFIG_STRING, NULL, 0, 0,
     "built-in redaction types to turn off, comma-separated (e.g. IPV4,PHONE)"},
    {"spool.dir", NULL, CONFIG_STRING, "llmtap-spool", 0, 0,
     "directory of the disk spool (every accepted event waits here until Kafka acknowledges it)"},
    {"spool.max_bytes", NULL, CONFIG_BYTES, "1GiB", 1048576.0, 1099511627776.0,
     "spool size cap; past it the oldest events are dropped (counted, logged)"},
    {"spool.fsync", NULL, CONFIG_STRING, "interval", 0, 0,
     "when the spool is forced to disk: interval, always or never (docs/spool.md)"},
    {"spool.fsync_interval", NULL, CONFIG_DURATION, "100ms", 1, 60000,
     "fsync interval of the spool (spool.fsync: interval)"},
    {"shutdown.grace", NULL, CONFIG_DURATION, "10s", 0, 3600000,
     "how long shutdown waits for Kafka to acknowledge queued events"},
    {"log.level", NULL, CONFIG_STRING, "info", 0, 0, "debug, info, warn or error"},
};

static const struct config_table table = {
    .component = "agent",
    .usage = "llmtap-agent [flags]   (librdkafka property: --kafka NAME=VALUE; upstream: "
             "--upstream NAME=URL or NAME.KEY=VALUE; redaction rule: --redact-rule NAME=REGEX)",
    .settings = settings,
    .n = sizeof settings / sizeof settings[0],
    .passthrough = "kafka,upstream,redact_rule",
};

struct agent {
    struct config *cfg;
    struct metrics *metrics;
    struct producer *producer;
    struct intake *intake;
    struct otlp_intake *otlp;
    struct price_registry *prices;
    struct redactor *redactor;
    struct upstreams *upstreams;
    struct proxy *proxy;
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
    } else if (strcmp(req->path, "/v1/traces") == 0) {
        if (strcmp(req->method, "POST") != 0) {
            httpd_error(resp, 405, "use POST for /v1/traces");
            return;
        }
        otlp_intake_handle(a->otlp, req, resp);
    } else if (strcmp(req->path, "/v1/logs") == 0) {
        if (strcmp(req->method, "POST") != 0) {
            httpd_error(resp, 405, "use POST for /v1/logs");
            return;
        }
        otlp_intake_handle_logs(a->otlp, req, resp);
    } else if (strcmp(req->path, "/metrics") == 0 && get) {
        struct buf b = {0};
        metrics_render(a->metrics, &b);
        resp->status = 200;
        resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
        resp->body = buf_steal(&b, &resp->len);
    } else if (strcmp(req->path, "/readyz") == 0 && get) {
        char why[256];
        const char *d = producer_failure(a->producer);
        if (!d)
            d = producer_degraded(a->producer, why, sizeof why);
        if (d) {
            httpd_error(resp, 503, "degraded: %s", d);
        } else {
            const char ok[] = "{\"status\":\"ready\"}\n";
            httpd_json(resp, 200, ok, sizeof ok - 1);
        }
    } else if (strcmp(req->path, "/healthz") == 0 && get) {
        const char *failure = producer_failure(a->producer);
        if (failure) {
            httpd_error(resp, 503, "kafka producer failed: %s", failure);
        } else {
            const char ok[] = "{\"status\":\"ok\"}\n";
            httpd_json(resp, 200, ok, sizeof ok - 1);
        }
    } else if (a->proxy && proxy_routes(a->proxy, req->path)) {
        proxy_handle(a->proxy, req, resp);
    } else {
        metric_inc(a->http_not_found);
        httpd_error(resp, 404, "no such endpoint: %s %s", req->method, req->path);
    }
}

static void on_hup(void *ud)
{
    struct agent *a = ud;
    if (!a->prices)
        return;
    char err[512];
    price_registry_reload(a->prices, err, sizeof err); /* logs the outcome itself */
}

/* Redaction from config: per-family policies, disabled types, custom rules
 * (the redact_rule pass-through: NAME=REGEX). */
static int make_redactor(struct agent *a, char *err, size_t errlen)
{
    struct redact_opts ro = {.disable = config_str(a->cfg, "redact.disable")};
    const char *fam[3] = {"redact.prompt", "redact.context", "redact.response"};
    enum redact_policy *pol[3] = {&ro.prompt, &ro.context, &ro.response};
    for (int i = 0; i < 3; i++) {
        const char *v = config_str(a->cfg, fam[i]);
        if (!v || redact_policy_parse(v, pol[i]) != 0) {
            snprintf(err, errlen, "%s: must be redact, keep or drop, got \"%s\"", fam[i],
                     v ? v : "");
            return -1;
        }
    }
    size_t n = config_pairs_count(a->cfg, "redact_rule");
    struct redact_rule *rules = n ? calloc(n, sizeof *rules) : NULL;
    if (n && !rules) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        config_pairs_get(a->cfg, "redact_rule", i, &rules[i].name, &rules[i].pattern);
    ro.custom = rules;
    ro.n_custom = n;
    int rc = redact_create(&ro, &a->redactor, err, errlen);
    free(rules);
    return rc;
}

static int make_proxy(struct agent *a, char *err, size_t errlen)
{
    const char *pf = config_str(a->cfg, "prices.file");
    if (pf && *pf && price_registry_create(pf, &a->prices, err, errlen) != 0)
        return -1;
    if (make_redactor(a, err, errlen) != 0)
        return -1;
    if (upstreams_create(a->cfg, config_int(a->cfg, "proxy.connect_timeout"),
                         config_int(a->cfg, "proxy.timeout"), &a->upstreams, err, errlen) != 0)
        return -1;
    struct proxy_opts po = {
        .upstreams = a->upstreams,
        .producer = a->producer,
        .prices = a->prices,
        .redactor = a->redactor,
        .default_service = config_str(a->cfg, "service"),
        .env = config_str(a->cfg, "env"),
        .capture = {.text_cap = (size_t)config_int(a->cfg, "capture.max_text"),
                    .embedding_vectors = config_bool(a->cfg, "capture.embedding_vectors"),
                    .context_tag = config_str(a->cfg, "capture.context_tag")},
        .inject_usage = config_bool(a->cfg, "proxy.inject_usage"),
        .max_event = (size_t)config_int(a->cfg, "intake.max_event"),
        .max_captures = (int)config_int(a->cfg, "proxy.max_captures"),
    };
    if (proxy_create(&po, a->metrics, &a->proxy, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < upstreams_count(a->upstreams); i++) {
        const struct upstream *u = upstreams_get(a->upstreams, i);
        log_info("agent", "upstream %s: %s (%s), route %s/…", u->name, u->url,
                 u->format == CAPTURE_ANTHROPIC ? "anthropic" : "openai", u->prefix);
    }
    return 0;
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
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("agent", "libcurl initialisation failed");
        config_destroy(a.cfg);
        return 1;
    }
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
    if (config_bool(a.cfg, "proxy.enabled") && make_proxy(&a, err, sizeof err) != 0) {
        log_error("agent", "%s", err);
        goto out;
    }
    struct otlp_intake_opts oo = {
        .default_service = io.default_service,
        .max_body = io.max_body,
        .max_event = io.limits.max_bytes,
        .text_cap = (size_t)config_int(a.cfg, "capture.max_text"),
        .join_window_ms = config_int(a.cfg, "otlp.join_window"),
        .join_max_bytes = (size_t)config_int(a.cfg, "otlp.join_max_bytes"),
        .join_max_spans = (int)config_int(a.cfg, "otlp.join_max_spans"),
        .prices = a.prices,
        .redactor = a.redactor,
    };
    a.otlp = otlp_intake_create(&oo, a.producer, a.metrics);
    if (!a.otlp)
        goto out;
    struct httpd_opts ho = {
        .listen = config_str(a.cfg, "listen"),
        .per_connection = true,
        .max_connections = (unsigned)config_int(a.cfg, "http.max_connections"),
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

    daemon_wait("agent", on_hup, &a);

    httpd_quiesce(a.http);
    int grace = (int)config_int(a.cfg, "shutdown.grace");
    int busy = httpd_drain(a.http, grace);
    if (busy)
        log_warn("agent", "%d requests still in progress after the grace period", busy);
    httpd_stop(a.http);
    a.http = NULL;
    long left = producer_flush(a.producer, grace);
    if (left)
        log_warn("agent",
                 "%ld events still unacknowledged after the %d ms grace period; they stay "
                 "in the spool",
                 left, grace);
    else
        log_info("agent", "all queued events delivered");
    exit_code = 0;
out:
    httpd_stop(a.http);
    intake_destroy(a.intake);
    otlp_intake_destroy(a.otlp);
    proxy_destroy(a.proxy);
    upstreams_destroy(a.upstreams);
    redact_destroy(a.redactor);
    price_registry_destroy(a.prices);
    producer_destroy(a.producer);
    metrics_destroy(a.metrics);
    config_destroy(a.cfg);
    curl_global_cleanup();
    return exit_code;
}
