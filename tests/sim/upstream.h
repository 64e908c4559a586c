/*
 * upstream.h — `llmtap-sim upstream`: a fake LLM provider that speaks the
 * OpenAI and Anthropic HTTP APIs, for the agent's proxy tests, the demo and
 * the proxy latency benchmark.
 *
 * Endpoints (wire shapes as the real providers send them):
 *   POST /v1/chat/completions   OpenAI chat (JSON or SSE chunks)
 *   POST /v1/completions        OpenAI legacy text completions (JSON or SSE)
 *   POST /v1/embeddings         OpenAI embeddings (float arrays or base64)
 *   POST /v1/responses          OpenAI Responses API (JSON or typed SSE events)
 *   GET  /v1/models             model list (Anthropic's shape when the
 *                               request carries anthropic-version)
 *   POST /v1/messages           Anthropic messages (JSON or typed SSE events)
 *   GET  /sim/requests?n=K      the last K requests received (inspection)
 *   DELETE /sim/requests        forget them
 *   GET  /sim/healthz           "ok"
 *
 * Determinism: a response's bytes (text, ids, timestamps, token counts,
 * tool calls, chunk boundaries) are a pure function of (seed, request path,
 * request body bytes) and the chunking options. The body is hashed without
 * its top-level "stream" and "stream_options" members, so the streamed and
 * non-streamed answers to one request carry the same text, ids and usage.
 * Only --error-rate draws from a per-process sequence (see
 * upstream_opts.error_rate).
 *
 * The file is in two parts: the command (upstream_run) and, below it, the
 * internal interface between upstream.c (HTTP server, request ring, shared
 * helpers) and the per-provider writers (upstream_openai.c,
 * upstream_anthropic.c). Nothing outside tests/sim/upstream*.c uses part 2.
 */
#ifndef LLMTAP_SIM_UPSTREAM_H
#define LLMTAP_SIM_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- part 1: the command ------------------------------------------------ */

struct upstream_opts {
    const char *listen;         /* "HOST:PORT" or "[V6]:PORT"; port 0 = any free port */
    const char *port_file;      /* write the bound port here (then rename), or NULL */
    uint64_t seed;              /* response generator seed */
    unsigned latency_ms;        /* delay before the response headers */
    unsigned ttft_ms;           /* streaming: delay before the first content event */
    unsigned chunk_interval_ms; /* streaming: delay between later content events */
    unsigned chunks;            /* streaming: pieces per content block; 0 = by chunk_bytes */
    unsigned chunk_bytes;       /* streaming: bytes per piece when chunks is 0 (>= 1) */
    double error_rate;          /* fraction of API requests answered 429/500/503; the draws
                                 * come from a sequence seeded by `seed`, so the n-th request
                                 * of a run always draws the same (not a function of the body) */
    unsigned max_conns;         /* simultaneous connections, one thread each */
};

/*
 * Serves until SIGINT or SIGTERM (a second one kills the process), then
 * closes every connection (hung and delayed responses end at once) and
 * returns 0. Prints "upstream: HOST:PORT" as the first line of stdout once
 * the socket is listening. Returns 1 when the address cannot be bound or
 * the port file cannot be written.
 */
int upstream_run(const struct upstream_opts *o);

/* ---- part 2: internal, shared by upstream*.c ----------------------------- */

#include <cjson/cJSON.h>

#include "jbuf.h"
#include "rng.h"

/* What an SSE event is, for pacing: content events are delayed by the TTFT
 * (the first) or the chunk interval (the others); the rest go out at once. */
enum up_ev_kind { UP_EV_HEAD, UP_EV_CONTENT, UP_EV_TAIL };

struct up_ev {
    size_t end;        /* offset in body just past the event */
    unsigned delay_ms; /* set by upstream.c from the kind and the options */
    enum up_ev_kind kind;
};

/* A response being built. Owned by the connection and reused for its next
 * request, so a keep-alive connection allocates nothing in steady state. */
struct up_resp {
    int status;
    const char *content_type; /* static string */
    struct jbuf body;         /* the whole body; for SSE, every event back to back */
    bool sse;
    struct up_ev *ev; /* SSE events, in order; nev == 0 when !sse */
    size_t nev, evcap;
    const char *id_header; /* "x-request-id" / "request-id", or NULL */
    char id_value[48];
    struct jbuf scratch; /* writers' scratch space (cleared by them) */
    struct jbuf scratch2;
};

/* A request, as the writers see it. */
struct up_req {
    const char *path;
    const char *body;
    size_t len;
    const cJSON *json; /* the parsed body: an object (writers may assume it) */
    uint64_t hash;     /* of (seed, path, body) */
    uint64_t seed;
    unsigned chunks; /* effective chunking (options, then x-sim-chunks) */
    unsigned chunk_bytes;
};

/* Provider writers: fill `r` with a 200 response, or a 400 in the
 * provider's error shape when the request is invalid. */
void up_openai_chat(const struct up_req *q, struct up_resp *r);
void up_openai_completions(const struct up_req *q, struct up_resp *r);
void up_openai_embeddings(const struct up_req *q, struct up_resp *r);
void up_openai_responses(const struct up_req *q, struct up_resp *r);
void up_openai_models(const struct up_req *q, struct up_resp *r);
void up_anthropic_messages(const struct up_req *q, struct up_resp *r);
void up_anthropic_models(const struct up_req *q, struct up_resp *r);

/* Error bodies in each provider's shape; `type`/`code`/`param` may be NULL
 * (code and param are written as null). */
void up_openai_error(struct up_resp *r, int status, const char *type, const char *code,
                     const char *param, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void up_anthropic_error(struct up_resp *r, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- helpers (upstream.c) ---- */

/* An rng for one purpose (`stream`) of this request. */
struct rng up_rng(const struct up_req *q, uint64_t stream);
/* An rng that depends only on the seed and the given bytes (e.g. one
 * embedding input, so equal texts get equal vectors in any request). */
struct rng up_rng_for(const struct up_req *q, const char *s, size_t n);
/* "fp_" and 10 hex digits derived from the model name. */
void up_fingerprint(const char *model, char out[16]);
/* An id: prefix + n characters from [0-9A-Za-z] (or lowercase hex when
 * hex), derived from the request and `stream`. */
void up_id(const struct up_req *q, uint64_t stream, const char *prefix, int n, bool hex, char *out,
           size_t outsz);
/* A plausible Unix time for `created` fields (in 2025–2026). */
int64_t up_created(const struct up_req *q);
/* The request's "model" string, or NULL when absent or not a string. */
const char *up_req_model(const struct up_req *q);
/* The model name a provider answers with (dated for well-known aliases). */
const char *up_resp_model(const char *model);
/* o1/o3/o4/gpt-5 families. */
bool up_reasoning_model(const char *model);
/* A positive integer member of the body, or `dflt`. */
long up_int(const cJSON *obj, const char *name, long dflt);
bool up_bool(const cJSON *obj, const char *name);

/* Approximate tokens of a JSON value: text of strings, 1 per number, a few
 * per object (message framing). */
size_t up_tokens_json(const cJSON *v);
size_t up_tokens(const char *s, size_t n);
/* Cached part of a prompt (OpenAI rules: none below 1024 tokens, else a
 * request-dependent fraction in 128-token steps; sometimes 0). */
size_t up_cached_tokens(const struct up_req *q, size_t prompt_tokens);
/* Reasoning tokens for a reasoning model's answer of `visible` tokens,
 * at most `cap` (0 = no cap). */
size_t up_reasoning_tokens(const struct up_req *q, size_t visible, size_t cap);

/* Append a model answer (about `median` bytes, lognormal) to out. */
void up_answer(const struct up_req *q, uint64_t stream, size_t median, struct jbuf *out);
/* Cut `len` bytes of text so that it has at most max_tokens tokens (at a
 * UTF-8 boundary); returns the new length (len when it already fits). */
size_t up_cut_tokens(const char *s, size_t len, size_t max_tokens);
/* End of the streaming piece that starts at `off` in s[0..len), never
 * inside a UTF-8 sequence. */
size_t up_next_piece(const struct up_req *q, const char *s, size_t len, size_t off);

/* Arguments for a call of a tool whose JSON Schema is `schema` (may be
 * NULL): a JSON object, appended to out. */
void up_tool_args(const struct up_req *q, uint64_t stream, const cJSON *schema, struct jbuf *out);

/* Response building. */
void up_json_begin(struct up_resp *r, int status);
/* Start an SSE response (content type text/event-stream). */
void up_sse_begin(struct up_resp *r);
/* Start an event ("event: NAME\n" when name is given, then "data: ");
 * write the data into r->body; end it with up_ev_end. */
void up_ev_begin(struct up_resp *r, const char *name);
void up_ev_end(struct up_resp *r, enum up_ev_kind kind);
/* Append raw JSON (already serialized) as a member value. */
void up_raw(struct jw *w, const char *key, const char *json, size_t len);
/* Serialize a cJSON value as a member, or null when v is NULL. */
void up_cjson(struct jw *w, const char *key, const cJSON *v);

#endif
