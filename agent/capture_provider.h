/*
 * capture_provider.h — internal to the capture module (capture.c and one
 * file per provider wire format): the provider callback table, the state of
 * one capture, and the helpers the providers build the event with.
 *
 * Nothing outside agent/capture*.c includes this header; the public API is
 * capture.h.
 *
 * A provider reads its wire format and writes through the helpers only:
 * request side, it appends messages, context documents and parameters
 * (their text goes through cap_text so the text cap can be applied once the
 * whole request is known); response side, it appends output text and
 * tool-call pieces, and sets the model, finish reason, usage and error.
 * capture.c owns everything else: buffering, SSE framing, the cap (with
 * capture_text.c), the oversize-body salvage, writing the event.
 */
#ifndef LLMTAP_AGENT_CAPTURE_PROVIDER_H
#define LLMTAP_AGENT_CAPTURE_PROVIDER_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "capture.h"
#include "sse.h"

/* Bounds on structure (the text itself is bounded by capture_opts.text_cap).
 * Past them items are dropped and the event is marked truncated. */
#define CAP_MAX_MESSAGES   256 /* request messages: the first and the last 255 are kept */
#define CAP_MAX_PARTS      64  /* content parts per message */
#define CAP_MAX_CONTEXT    256 /* context documents */
#define CAP_MAX_TOOL_CALLS 128 /* per message, and in the response */
#define CAP_MAX_LIST       128 /* tool names, stop sequences, embedding inputs */
#define CAP_SHORT          256 /* bytes of ids, names, roles, parameter strings */

/* Which part of the text budget a string belongs to. */
enum cap_part { CAP_PROMPT, CAP_CONTEXT, CAP_RESPONSE, CAP_PARTS };

/* One parameter of a request, read into request.params. */
enum cap_param_kind {
    CAP_P_SCALAR,      /* number, boolean or string (cut at CAP_SHORT) */
    CAP_P_STOP,        /* a string or an array of strings */
    CAP_P_TOOLS,       /* the tools' names, as an array of strings */
    CAP_P_TOOL_CHOICE, /* a string; an object becomes the forced tool's name, else its type */
    CAP_P_TYPE,        /* an object: its "type" string (response_format, thinking, …) */
};
struct cap_param {
    const char *path; /* member name, or "a.b" for a member of an object member */
    const char *out;  /* the name in request.params */
    enum cap_param_kind kind;
};

/* A path suffix and the op it means (POST only). */
struct cap_route {
    const char *suffix;
    enum capture_op op;
};

struct capture_provider {
    const char *name;
    /* Matched in order against the end of the path (query string and one trailing
     * slash removed); terminated by a NULL suffix. */
    const struct cap_route *routes;
    /* The parsed request body (a JSON object). */
    void (*request)(struct capture *c, const cJSON *body);
    /* A whole non-streamed response body with a status below 400 (a JSON object). */
    void (*response)(struct capture *c, const cJSON *body);
    /* One SSE event of a streamed response; `data` is its parsed data (NULL when it
     * is not JSON). ev->data may be "[DONE]". */
    void (*event)(struct capture *c, const struct sse_event *ev, const cJSON *data);
    /* A usage object as the provider writes it (also used by the oversize salvage). */
    void (*usage)(struct capture *c, const cJSON *usage);
    /* The request body with stream_options.include_usage set, or NULL (may be NULL). */
    char *(*usage_rewrite)(const struct capture *c, size_t *out_len);
};

extern const struct capture_provider capture_openai;
extern const struct capture_provider capture_anthropic;

/* A string of the event subject to the text cap. */
struct cap_slot {
    cJSON *node;     /* the string node in the capture's trees */
    const char *src; /* request time only: the full text (not NUL-terminated) */
    size_t len;      /* its length */
    char *owned;     /* src when the capture allocated it (joined parts) */
    enum cap_part part;
};

/* A tool call being assembled from a response. */
struct cap_call {
    int64_t key; /* the provider's index (delta index, block index, output_index) */
    struct buf id, name, args;
};

/* Usage as reported; -1 = not reported. `input` is what the event calls
 * input_tokens, unless input_excludes_cache (Anthropic), where it is the
 * uncached part and the cache counts are added at the end. */
struct cap_usage {
    int64_t input, output, cached, cache_write, reasoning;
    bool input_excludes_cache;
};

struct capture {
    struct capture_opts o;
    char *context_tag;
    size_t tag_len;
    const struct capture_provider *prov;
    enum capture_format fmt;
    enum capture_op op;
    bool truncated;

    /* request */
    bool request_seen, stream, include_usage;
    bool req_keep;  /* set by the provider: keep the body for capture_usage_rewrite */
    char *req_body; /* kept only while a usage rewrite may be asked for */
    size_t req_len;
    char *request_model;
    cJSON *messages; /* array */
    cJSON *params;   /* object */
    cJSON *input;    /* embeddings input: string or array of strings */
    cJSON *context;  /* array */
    struct cap_slot *slots;
    size_t nslots, slots_cap;
    size_t dropped_messages;

    /* response */
    bool began, sse_mode, finished, has_text, has_first;
    int status;
    int64_t now_us, first_content_us;
    struct buf body; /* a non-streamed body, up to body_max bytes */
    size_t body_max, body_total;
    char *tail; /* ring of the last CAP_TAIL bytes once body_max is passed */
    size_t tail_pos;
    struct sse *sse;
    char *response_model;
    struct buf text;   /* output text, at most text_cap bytes kept */
    size_t resp_bytes; /* kept bytes of text + tool arguments + vectors */
    bool resp_over;    /* output past text_cap was dropped */
    char finish[65];
    struct cap_call *calls;
    size_t ncalls;
    struct cap_usage u;
    char *err_type, *err_msg;
    int64_t emb_count, emb_dim; /* -1 = unknown */
    cJSON *vectors;             /* array of arrays, when embedding_vectors */
    size_t vec_bytes;
    bool oom;
};

/* --- small JSON readers (NULL/false when absent or of another type) --- */
const cJSON *cap_get(const cJSON *obj, const char *name); /* NULL for JSON null too */
const char *cap_str(const cJSON *obj, const char *name);
/* v when it is an array, else NULL (for cJSON_ArrayForEach, which would walk an
 * object's members too). */
static inline const cJSON *cap_array(const cJSON *v)
{
    return cJSON_IsArray(v) ? v : NULL;
}
bool cap_nonneg_int(const cJSON *v, int64_t *out); /* an integer in [0, 2^53] */
/* Copies a string into a new cJSON string, cut at a UTF-8 boundary to at most max bytes. */
cJSON *cap_short_string(const char *s, size_t max);
/* obj[name] = s cut to CAP_SHORT (nothing when s is NULL or ""). */
void cap_add_short(struct capture *c, cJSON *obj, const char *name, const char *s);

/* --- request side --- */
/* Whether message `index` of `total` is kept: the first and the last
 * CAP_MAX_MESSAGES - 1 are (a dropped one sets truncated). */
bool cap_keep_message(struct capture *c, int index, int total);
/* A new message {role} appended to request.messages (NULL past the bound:
 * the caller skips the message). Role cut to 64 bytes; "unknown" when absent. */
cJSON *cap_message(struct capture *c, const char *role);
/* obj[name] = text, subject to the cap in `part` (src need not be NUL-terminated
 * and must stay valid until the provider's request callback returns). */
void cap_text(struct capture *c, cJSON *obj, const char *name, const char *src, size_t len,
              enum cap_part part);
/* Same, appending to an array. */
void cap_text_item(struct capture *c, cJSON *arr, const char *src, size_t len, enum cap_part part);
/* Same, taking ownership of a malloc'd text (e.g. joined parts). */
void cap_text_owned(struct capture *c, cJSON *obj, const char *name, char *text, size_t len,
                    enum cap_part part);
/* The text of a content value: a string, or the "text" of each part of an array
 * (and string items) joined with LF. malloc'd (*len set); NULL when it is neither. */
char *cap_join_text(const cJSON *content, size_t *len);
/* A new context document {id, source, score} (id/source need not be NUL-terminated
 * and may be NULL, score may be NULL); the caller adds its "text" with cap_text or
 * cap_text_owned (part CAP_CONTEXT). NULL past the bound. */
cJSON *cap_context_doc(struct capture *c, const char *id, size_t id_len, const char *source,
                       size_t source_len, const double *score);
/* A context document with its text (src as for cap_text). */
void cap_context(struct capture *c, const char *id, size_t id_len, const char *source,
                 size_t source_len, const double *score, const char *text, size_t len);
/* A tool result as a context document {id, source "tool", text}: the text of
 * `content` (see cap_join_text). */
void cap_tool_context(struct capture *c, const char *id, const cJSON *content);
/* request.input of an embeddings request: a string, or an array of strings
 * (token arrays are not captured). */
void cap_input(struct capture *c, const cJSON *input);
/* Scans prompt text for delimited passages (capture_opts.context_tag) and adds them
 * as context documents. */
void cap_scan_passages(struct capture *c, const char *text, size_t len);
/* request.params from a table (terminated by a NULL path). */
void cap_params(struct capture *c, const cJSON *body, const struct cap_param *table);
void cap_set_request_model(struct capture *c, const char *model);
/* A tool call object {id, name, arguments} for a request message. */
void cap_request_tool_call(struct capture *c, cJSON *tool_calls, const char *id, const char *name,
                           const char *args, size_t args_len);

/* --- response side --- */
void cap_first_content(struct capture *c); /* marks the time to first content (once) */
void cap_text_append(struct capture *c, const char *s, size_t len);
struct cap_call *cap_call(struct capture *c, int64_t key); /* found or added; NULL past the bound */
void cap_call_set(struct buf *b, const char *s); /* sets when still empty, cut to CAP_SHORT */
void cap_call_args(struct capture *c, struct cap_call *k, const char *s, size_t len);
void cap_set_finish(struct capture *c, const char *provider_reason);
void cap_set_response_model(struct capture *c, const char *model);
/* The error of an error body or event: {"error": {type|code, message}} or
 * {"type":"error","error":{…}} or {"code","message"} (Responses API). */
bool cap_error_from(struct capture *c, const cJSON *obj); /* false: no error found */
void cap_set_error(struct capture *c, const char *type, const char *msg);
/* Embeddings: data[] of a response (count, dimension, vectors). */
void cap_embeddings(struct capture *c, const cJSON *data);
/* usage[name] as a non-negative integer into *out (kept when absent). */
void cap_usage_field(const cJSON *usage, const char *name, int64_t *out);

#endif
