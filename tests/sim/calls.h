/*
 * calls.h — `llmtap-sim calls`: a simulated fleet of services making LLM API
 * calls (OpenAI chat completions, Responses API, embeddings; Anthropic
 * messages) through llmtap-agent's proxy, for the demo and end-to-end tests.
 *
 * The calls are plausible SDK traffic: the services, prompt templates and
 * models of gen.c, system prompts carrying retrieved context, tool loops,
 * streamed and plain answers, llmtap attribution headers (x-llmtap-*), W3C
 * traceparent, and a few forced 429/500 answers (x-sim-status, which
 * `llmtap-sim upstream` honours). Every response is read to its end and
 * checked for the shape its request asked for.
 */
#ifndef LLMTAP_SIM_CALLS_H
#define LLMTAP_SIM_CALLS_H

#include <stdbool.h>
#include <stdint.h>

struct calls_opts {
    const char *target;      /* agent base URL, e.g. http://127.0.0.1:7311 (no /v1) */
    double rate;             /* calls started per second; 0 = as fast as concurrency allows */
    double duration;         /* seconds; 0 = no limit (then count or a signal ends the run) */
    uint64_t count;          /* stop after this many calls; 0 = no limit */
    unsigned concurrency;    /* most calls in flight at once, >= 1 */
    uint64_t seed;           /* content seed: the n-th call's request is a function of it */
    const char *out;         /* one JSON line per finished call, or NULL */
    long timeout_ms;         /* per call, whole response included */
    double connect_wait;     /* seconds to wait at start for the target to accept connections */
    double progress;         /* seconds between progress lines on stderr; 0 = none */
    double error_rate;       /* fraction of calls that ask the upstream for 429/500 */
    double pii_rate;         /* fraction of chat calls with an e-mail address or phone number */
    double latency_scale;    /* scale of the per-model latency asked of the upstream
                              * (x-sim-delay-ms, x-sim-ttft-ms, x-sim-chunk-interval-ms);
                              * 0 = send no timing headers */
    const char *vllm_prefix; /* route prefix of a vLLM upstream ("/vllm"): calls to the
                              * self-hosted models go to TARGET+PREFIX/v1/...; NULL = those
                              * models are not used */
    bool allow_errors;       /* exit 0 even after unexpected answers */
};

/*
 * Run until the duration or count is reached, or SIGINT/SIGTERM (a second
 * one kills the process); calls in flight then get up to 5 seconds to end.
 * Prints progress lines to stderr and a one-line summary to stdout.
 * Returns the process exit code: 0 = every call got the answer it asked
 * for (a 2xx, or the forced 429/500) with a complete, well-formed body, or
 * allow_errors; 1 = unexpected statuses, transport errors, malformed or
 * cut-off bodies, or the target never accepted a connection; 2 = bad
 * options.
 */
int calls_run(const struct calls_opts *o);

#endif
