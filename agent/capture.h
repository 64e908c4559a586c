/*
 * capture.h — turns one proxied LLM call (the client's request body and the
 * upstream's response bytes) into the provider-derived fields of an
 * llmtap.event/1.
 *
 * What it is for: the proxy (proxy.c) relays bytes and never interprets
 * them; it hands copies to a capture, which understands the OpenAI and
 * Anthropic wire formats: chat completions, completions, embeddings and the
 * Responses API (OpenAI), messages (Anthropic), streamed (SSE, see sse.h) or
 * not. Parsing is best effort: a body that does not parse still yields an
 * event with what could be read (status, latency, model when found).
 *
 * Usage semantics on the event (the same for every provider; docs/
 * event-schema.md): usage.input_tokens counts ALL input tokens, cached and
 * cache-write included (OpenAI's prompt_tokens already does; for Anthropic it
 * is input_tokens + cache_creation_input_tokens + cache_read_input_tokens);
 * usage.cached_input_tokens = tokens read from the prompt cache;
 * usage.cache_write_tokens = tokens written to it (Anthropic);
 * usage.output_tokens counts ALL output tokens, reasoning included;
 * usage.reasoning_tokens = the reasoning part of them.
 *
 * Threads: a capture belongs to one request; no locking.
 */
#ifndef LLMTAP_AGENT_CAPTURE_H
#define LLMTAP_AGENT_CAPTURE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The wire format an upstream speaks. */
enum capture_format { CAPTURE_OPENAI, CAPTURE_ANTHROPIC };

/* What the call is, from its path. */
enum capture_op {
    CAPTURE_OP_CHAT,       /* OpenAI POST /v1/chat/completions */
    CAPTURE_OP_COMPLETION, /* OpenAI POST /v1/completions */
    CAPTURE_OP_EMBEDDINGS, /* OpenAI POST /v1/embeddings */
    CAPTURE_OP_RESPONSES,  /* OpenAI POST /v1/responses */
    CAPTURE_OP_MESSAGES,   /* Anthropic POST /v1/messages (operation "chat") */
    CAPTURE_OP_NONE,       /* anything else: relayed, not captured */
};

/* The op for a method and a path relative to the upstream (e.g.
 * "/v1/chat/completions"; a query string is ignored). */
enum capture_op capture_op_for(enum capture_format f, const char *method, const char *path);

/* The event's `operation` value: chat, completion, embeddings, responses. */
const char *capture_op_name(enum capture_op op);

struct capture_opts {
    size_t text_cap;         /* bytes of text kept per event (prompt + context + response);
                                past it text is cut at a UTF-8 boundary and `truncated` set */
    bool embedding_vectors;  /* keep embedding vectors (default off: only the dimension) */
    const char *context_tag; /* element name of delimited context passages, "context" when NULL:
                                <context id="kb-1" source="…" score="0.8">text</context> */
};

struct capture;

struct capture *capture_new(const struct capture_opts *o, enum capture_format f,
                            enum capture_op op);
void capture_free(struct capture *c); /* accepts NULL */

/* The client's request body (whole), parsed as far as it parses. Reads the
 * model, `stream`, `stream_options.include_usage`, messages (system, user,
 * assistant, tool), parameters, and retrieved context: OpenAI tool/function
 * result messages and Anthropic tool_result blocks become context documents
 * (id = tool_call_id / tool_use_id, source "tool"), as do delimited passages
 * in prompt text (see capture_opts.context_tag). */
void capture_request(struct capture *c, const char *body, size_t len);

/* True when the request asked for a streamed (SSE) response. */
bool capture_streaming(const struct capture *c);

/* For an OpenAI streamed chat/completion request that did not ask for
 * stream_options.include_usage: a copy of the body that does (malloc'd,
 * *out_len set), so the final chunk carries exact token counts. NULL when no
 * rewrite is needed or possible (not OpenAI, not streaming, already asked,
 * body not a JSON object). */
char *capture_usage_rewrite(const struct capture *c, size_t *out_len);

/* True when `data` (the data field of one SSE event) is the usage-only chunk
 * OpenAI sends last when include_usage is on: an object with an empty
 * `choices` array and a non-null `usage`. The proxy removes that event from
 * the client's stream when it was the proxy that asked for it. */
bool capture_is_usage_chunk(const char *data, size_t len);

/* The upstream's status line and Content-Type (may be NULL). */
void capture_response_begin(struct capture *c, int status, const char *content_type);

/* Response body bytes exactly as the upstream sent them, in order, split
 * anywhere. `now_us` is their arrival time, on a microsecond clock of the
 * caller's choice (the proxy uses timeutil_mono_us): the first chunk that
 * carries content (text, a tool-call delta, an embedding) sets the time to
 * first token. */
void capture_response_data(struct capture *c, const char *data, size_t len, int64_t now_us);

/* Writes the captured fields into `ev` (a JSON object; existing members of
 * the same names are replaced): operation, request_model, response_model,
 * stream, request {messages, params}, context [], response {text,
 * finish_reason, tool_calls, embedding dimension/vectors}, usage {…}, status,
 * error {type, message} (from an error body, or NULL), truncated.
 * Does not write id, time, service, provider, latency_ms, ttft_ms, cost_usd.
 * *first_content_us is the arrival time of the first content chunk (0 when
 * none came). Returns 0, or -1 on allocation failure. */
int capture_finish(struct capture *c, cJSON *ev, int64_t *first_content_us);

#endif
