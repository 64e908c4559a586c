/*
 * proxy.h — the agent as an OpenAI/Anthropic proxy: relays each call to its
 * upstream, returns exactly what the upstream sent as fast as it arrives,
 * and turns the call into an event.
 *
 * What it is for: zero-code capture. A service changes its SDK's base URL to
 * the agent and gets an event per call (prompt, context, response, tokens,
 * cost, latency, time to first token), redacted before it leaves the
 * process. Observability never breaks the call: when capture fails or the
 * agent is overloaded, the call is still relayed and the lost capture is
 * counted (llmtap_agent_proxy_capture_dropped_total{reason}).
 *
 * Headers: Authorization, x-api-key, cookies and every other header go to
 * the upstream unchanged and are never captured, logged or shipped (the
 * capture sees only bodies). x-llmtap-service, -user, -session,
 * -prompt-template, -prompt-version and -tags (k=v,…) set event fields and
 * are removed before the upstream; traceparent is read for the event's
 * trace ids and sent on with the proxy's own span id. Accept-Encoding is
 * removed so the upstream answers uncompressed (the capture reads the body;
 * the client still receives byte for byte what the upstream sent).
 *
 * Threads: proxy_handle runs on the HTTP server's connection threads (the
 * server must run a thread per connection: a relay blocks while it waits
 * for the upstream). Everything in struct proxy is read-only or atomic.
 */
#ifndef LLMTAP_AGENT_PROXY_H
#define LLMTAP_AGENT_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include "capture.h"
#include "httpd.h"

struct metrics;
struct producer;
struct upstreams;
struct price_registry;
struct redactor;

struct proxy_opts {
    const struct upstreams *upstreams;
    struct producer *producer;
    struct price_registry *prices; /* may be NULL: no cost_usd */
    struct redactor *redactor;     /* may be NULL: no redaction */
    const char *default_service;   /* when no x-llmtap-service; NULL → "unknown" */
    const char *env;               /* event `env`, or NULL */
    struct capture_opts capture;
    bool inject_usage;     /* ask OpenAI streams for usage and hide that chunk */
    size_t max_event;      /* encoded event limit (bytes) */
    int max_captures;      /* concurrent captures; past it calls are relayed uncaptured */
    size_t max_idle_conns; /* idle upstream transfer handles kept for reuse */
};

struct proxy;

/* Returns 0 and *out, or -1 with err set. */
int proxy_create(const struct proxy_opts *o, struct metrics *m, struct proxy **out, char *err,
                 size_t errlen);
void proxy_destroy(struct proxy *p); /* accepts NULL; no request may be in progress */

/* True when the proxy takes this path (a route to an upstream exists). */
bool proxy_routes(const struct proxy *p, const char *path);

/* Relays one request (any method). Fills resp with a streaming response
 * (or an error in the provider's format when the upstream could not be
 * reached). Blocks while it waits for the upstream's headers. */
void proxy_handle(struct proxy *p, const struct httpd_req *req, struct httpd_resp *resp);

#endif
