/*
 * upstream.h — the LLM providers the proxy relays to, and which request
 * goes to which.
 *
 * What it is for: a service points its SDK's base URL at the agent; the
 * agent must know where the real provider is. Upstreams are named; each has
 * a base URL, a wire format (openai or anthropic), the provider name written
 * on events, timeouts and TLS settings. Two are always defined: `openai`
 * (https://api.openai.com, format openai) and `anthropic`
 * (https://api.anthropic.com, format anthropic); configuration may change
 * them and add more (vLLM, Ollama, Azure OpenAI: any OpenAI-compatible
 * server).
 *
 * Configuration: the agent's `upstream` pass-through section. A name alone
 * sets the base URL; `NAME.KEY` sets one property:
 *   upstream:
 *     openai: https://api.openai.com/v1          # --upstream openai=URL
 *     vllm:
 *       url: http://gpu-box:8000/v1
 *       format: openai            # openai | anthropic (default openai)
 *       provider: vllm            # event `provider` (default: the name)
 *       prefix: /vllm             # route prefix (default /NAME)
 *       connect_timeout: 10s      # default proxy.connect_timeout
 *       timeout: 10m              # no byte from the upstream for this long → 504
 *       tls_verify: true          # default true
 *       ca_file: /etc/ssl/my-ca.pem
 *
 * Routing (upstream_route): a path under an upstream's prefix goes to that
 * upstream with the prefix removed (/vllm/v1/chat/completions → vllm,
 * /v1/chat/completions); otherwise /v1/messages… goes to `anthropic` and
 * any other /v1/… path to `openai`. The upstream URL is the base URL joined
 * with that path; when the base URL already ends with the path's first
 * segment (…/v1 and /v1/chat/completions) the segment is not repeated, so
 * both SDK-style base URLs (with /v1) and bare origins work.
 *
 * Threads: built once at start-up, then read-only.
 */
#ifndef LLMTAP_AGENT_UPSTREAM_H
#define LLMTAP_AGENT_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"

struct config;

struct upstream {
    char *name;
    char *url; /* without a trailing '/' */
    enum capture_format format;
    char *provider;
    char *prefix; /* "/name" */
    int64_t connect_timeout_ms;
    int64_t timeout_ms;
    bool tls_verify;
    char *ca_file; /* or NULL */
};

struct upstreams;

/* Builds the set from the config's `upstream` pairs; connect_timeout_ms and
 * timeout_ms are the defaults for upstreams that set none. Returns 0, or -1
 * with err naming the bad key (e.g. "upstream.vllm.format: must be openai or
 * anthropic"). */
int upstreams_create(const struct config *c, int64_t connect_timeout_ms, int64_t timeout_ms,
                     struct upstreams **out, char *err, size_t errlen);
void upstreams_destroy(struct upstreams *u); /* accepts NULL */

size_t upstreams_count(const struct upstreams *u);
const struct upstream *upstreams_get(const struct upstreams *u, size_t i);

/* The upstream for a request path, and the path to send it (a pointer into
 * `path`, after the route prefix). NULL when no upstream takes the path
 * (neither under a prefix nor under /v1/). */
const struct upstream *upstream_route(const struct upstreams *u, const char *path,
                                      const char **rest);

/* Writes base URL + rest (+ "?" query when non-empty) into out. Returns the
 * length, or -1 when it does not fit. */
int upstream_url(const struct upstream *up, const char *rest, const char *query, char *out,
                 size_t outlen);

#endif
