/*
 * upstream_openai.c — the OpenAI side of `llmtap-sim upstream`: chat
 * completions, legacy completions, embeddings, the Responses API and the
 * model list, each streamed or not, in the shapes api.openai.com sends.
 *
 * DESIGN: every writer first plans the answer (validates the request,
 * counts prompt tokens, decides between text and a tool call, generates the
 * text or the arguments into r->scratch, computes usage) and then
 * serializes it, once as one JSON object or as a sequence of SSE events.
 * All draws go through up_rng/up_id (upstream.c), so the bytes are a
 * function of (seed, path, body) and the chunking options.
 *
 * Shapes worth knowing:
 * - Chat stream: a first chunk with the role (and, for a tool call, the
 *   call's id and name with empty arguments), content or arguments deltas,
 *   a chunk with an empty delta and finish_reason; with
 *   stream_options.include_usage every chunk carries "usage":null and one
 *   more chunk with "choices":[] carries the usage; then "data: [DONE]".
 * - Completions stream: text deltas, a final chunk with finish_reason, the
 *   same usage rule and [DONE]. max_tokens defaults to 16, as upstream.
 * - Responses stream: typed events ("event:" and "data:" lines) numbered by
 *   sequence_number, from response.created to response.completed (or
 *   response.incomplete when max_output_tokens cut the text); no [DONE].
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upstream.h"

#define COUNT(a)      (sizeof(a) / sizeof((a)[0]))
#define MAX_CHOICES   16
#define ANSWER_MEDIAN 420 /* bytes */

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* One planned choice. Its text (or the tool call's arguments) is
 * r->scratch.data[off .. off+len). */
struct choice {
    bool tool;
    size_t off, len;
    const char *finish;
    char call_id[40];
    size_t tokens; /* visible output tokens */
};

struct plan {
    const char *model; /* as answered */
    char id[48];
    char fp[16];
    int64_t created;
    size_t prompt, cached, completion, reasoning;
    const char *tool_name; /* when calling a tool */
    const cJSON *tool_schema;
    int n;
    struct choice ch[MAX_CHOICES];
};

/* Find the tool to call, for chat (nested "function") or Responses (flat)
 * tool lists. Returns false when the request has none to call or
 * tool_choice says not to; sets *forced when tool_choice requires a call. */
static bool pick_tool(const cJSON *req, bool nested, const char **name, const cJSON **schema,
                      bool *forced)
{
    const cJSON *tools = get(req, "tools");
    const cJSON *choice = get(req, "tool_choice");
    const char *want = NULL;
    *forced = false;
    if (cJSON_IsString(choice)) {
        if (strcmp(choice->valuestring, "none") == 0)
            return false;
        *forced = strcmp(choice->valuestring, "required") == 0;
    } else if (cJSON_IsObject(choice)) {
        const cJSON *f = nested ? get(get(choice, "function"), "name") : get(choice, "name");
        if (cJSON_IsString(f))
            want = f->valuestring;
        *forced = true;
    }
    if (!cJSON_IsArray(tools))
        return false;
    for (const cJSON *t = tools->child; t; t = t->next) {
        const cJSON *ty = get(t, "type");
        if (cJSON_IsString(ty) && strcmp(ty->valuestring, "function") != 0)
            continue;
        const cJSON *fn = nested ? get(t, "function") : t;
        const cJSON *nm = get(fn, "name");
        if (!cJSON_IsString(nm) || (want && strcmp(want, nm->valuestring) != 0))
            continue;
        *name = nm->valuestring;
        *schema = get(fn, "parameters");
        return true;
    }
    return false;
}

/* The role of the last chat message, or "" */
static const char *last_role(const cJSON *msgs)
{
    const cJSON *last = NULL;
    for (const cJSON *m = msgs ? msgs->child : NULL; m; m = m->next)
        last = m;
    const cJSON *role = get(last, "role");
    return cJSON_IsString(role) ? role->valuestring : "";
}

/* Plan the choices: text answers (cut at max_tokens) or tool calls. */
static void plan_choices(const struct up_req *q, struct up_resp *r, struct plan *p, bool tool,
                         long max_tokens, bool reasoning, size_t median)
{
    jbuf_reset(&r->scratch);
    size_t uncut = 0;
    for (int i = 0; i < p->n; i++) {
        struct choice *c = &p->ch[i];
        memset(c, 0, sizeof *c);
        c->off = r->scratch.len;
        if (tool) {
            c->tool = true;
            up_tool_args(q, (uint64_t)i, p->tool_schema, &r->scratch);
            up_id(q, 10 + (uint64_t)i, "call_", 24, false, c->call_id, sizeof c->call_id);
            c->finish = "tool_calls";
        } else {
            up_answer(q, (uint64_t)i, median, &r->scratch);
            c->finish = "stop";
        }
        c->len = r->scratch.len - c->off;
        c->tokens = up_tokens(r->scratch.data + c->off, c->len) + (tool ? 8 : 0);
        uncut += c->tokens;
    }
    /* Reasoning takes at most half of max_tokens; the visible text gets the rest. */
    size_t rcap = max_tokens > 0 ? (size_t)max_tokens / 2 : 0;
    p->reasoning = 0;
    if (reasoning && (max_tokens <= 0 || rcap > 0))
        p->reasoning = up_reasoning_tokens(q, uncut, rcap);
    size_t cap = max_tokens > 0 ? (size_t)max_tokens - p->reasoning : 0;
    p->completion = p->reasoning;
    for (int i = 0; i < p->n; i++) {
        struct choice *c = &p->ch[i];
        if (!c->tool && cap && c->tokens > cap) {
            c->len = up_cut_tokens(r->scratch.data + c->off, c->len, cap);
            c->tokens = cap;
            c->finish = "length";
        }
        p->completion += c->tokens;
    }
}

static void chat_usage(struct jw *w, const struct plan *p)
{
    jw_obj(w, "usage");
    jw_int(w, "prompt_tokens", (int64_t)p->prompt);
    jw_int(w, "completion_tokens", (int64_t)p->completion);
    jw_int(w, "total_tokens", (int64_t)(p->prompt + p->completion));
    jw_obj(w, "prompt_tokens_details");
    jw_int(w, "cached_tokens", (int64_t)p->cached);
    jw_int(w, "audio_tokens", 0);
    jw_end_obj(w);
    jw_obj(w, "completion_tokens_details");
    jw_int(w, "reasoning_tokens", (int64_t)p->reasoning);
    jw_int(w, "audio_tokens", 0);
    jw_int(w, "accepted_prediction_tokens", 0);
    jw_int(w, "rejected_prediction_tokens", 0);
    jw_end_obj(w);
    jw_end_obj(w);
}

static bool need_model(const struct up_req *q, struct up_resp *r, const char **model)
{
    *model = up_req_model(q);
    if (*model)
        return true;
    up_openai_error(r, 400, "invalid_request_error", NULL, "model",
                    "You must provide a model parameter.");
    return false;
}

/* ---- chat completions ------------------------------------------------------ */

/* Opens a chunk object up to the inside of its choices array. */
static void chunk_open(struct up_resp *r, struct jw *w, const struct plan *p)
{
    up_ev_begin(r, NULL);
    jw_init(w, &r->body);
    jw_obj(w, NULL);
    jw_str(w, "id", p->id);
    jw_str(w, "object", "chat.completion.chunk");
    jw_int(w, "created", p->created);
    jw_str(w, "model", p->model);
    jw_str(w, "service_tier", "default");
    jw_str(w, "system_fingerprint", p->fp);
    jw_arr(w, "choices");
}

static void chunk_close(struct up_resp *r, struct jw *w, bool usage_null, enum up_ev_kind kind)
{
    jw_end_arr(w);
    if (usage_null)
        jw_null(w, "usage");
    jw_end_obj(w);
    up_ev_end(r, kind);
}

static void chat_stream(const struct up_req *q, struct up_resp *r, const struct plan *p,
                        bool inc_usage)
{
    struct jw w;
    up_sse_begin(r);
    const char *text = r->scratch.data;
    for (int i = 0; i < p->n; i++) {
        const struct choice *c = &p->ch[i];
        /* the role chunk */
        chunk_open(r, &w, p);
        jw_obj(&w, NULL);
        jw_int(&w, "index", i);
        jw_obj(&w, "delta");
        jw_str(&w, "role", "assistant");
        if (c->tool) {
            jw_null(&w, "content");
            jw_arr(&w, "tool_calls");
            jw_obj(&w, NULL);
            jw_int(&w, "index", 0);
            jw_str(&w, "id", c->call_id);
            jw_str(&w, "type", "function");
            jw_obj(&w, "function");
            jw_str(&w, "name", p->tool_name);
            jw_str(&w, "arguments", "");
            jw_end_obj(&w);
            jw_end_obj(&w);
            jw_end_arr(&w);
        } else {
            jw_str(&w, "content", "");
        }
        jw_null(&w, "refusal");
        jw_end_obj(&w);
        jw_null(&w, "logprobs");
        jw_null(&w, "finish_reason");
        jw_end_obj(&w);
        chunk_close(r, &w, inc_usage, UP_EV_HEAD);
        /* the deltas */
        const char *s = text + c->off;
        for (size_t off = 0; off < c->len;) {
            size_t end = up_next_piece(q, s, c->len, off);
            chunk_open(r, &w, p);
            jw_obj(&w, NULL);
            jw_int(&w, "index", i);
            jw_obj(&w, "delta");
            if (c->tool) {
                jw_arr(&w, "tool_calls");
                jw_obj(&w, NULL);
                jw_int(&w, "index", 0);
                jw_obj(&w, "function");
                jw_strn(&w, "arguments", s + off, end - off);
                jw_end_obj(&w);
                jw_end_obj(&w);
                jw_end_arr(&w);
            } else {
                jw_strn(&w, "content", s + off, end - off);
            }
            jw_end_obj(&w);
            jw_null(&w, "logprobs");
            jw_null(&w, "finish_reason");
            jw_end_obj(&w);
            chunk_close(r, &w, inc_usage, UP_EV_CONTENT);
            off = end;
        }
        /* the finish chunk */
        chunk_open(r, &w, p);
        jw_obj(&w, NULL);
        jw_int(&w, "index", i);
        jw_obj(&w, "delta");
        jw_end_obj(&w);
        jw_null(&w, "logprobs");
        jw_str(&w, "finish_reason", c->finish);
        jw_end_obj(&w);
        chunk_close(r, &w, inc_usage, UP_EV_TAIL);
    }
    if (inc_usage) {
        chunk_open(r, &w, p);
        jw_end_arr(&w);
        chat_usage(&w, p);
        jw_end_obj(&w);
        up_ev_end(r, UP_EV_TAIL);
    }
    up_ev_begin(r, NULL);
    jbuf_puts(&r->body, "[DONE]");
    up_ev_end(r, UP_EV_TAIL);
}

static void chat_json(struct up_resp *r, const struct plan *p)
{
    struct jw w;
    up_json_begin(r, 200);
    jw_init(&w, &r->body);
    jw_obj(&w, NULL);
    jw_str(&w, "id", p->id);
    jw_str(&w, "object", "chat.completion");
    jw_int(&w, "created", p->created);
    jw_str(&w, "model", p->model);
    jw_arr(&w, "choices");
    for (int i = 0; i < p->n; i++) {
        const struct choice *c = &p->ch[i];
        jw_obj(&w, NULL);
        jw_int(&w, "index", i);
        jw_obj(&w, "message");
        jw_str(&w, "role", "assistant");
        if (c->tool) {
            jw_null(&w, "content");
            jw_null(&w, "refusal");
            jw_arr(&w, "tool_calls");
            jw_obj(&w, NULL);
            jw_str(&w, "id", c->call_id);
            jw_str(&w, "type", "function");
            jw_obj(&w, "function");
            jw_str(&w, "name", p->tool_name);
            jw_strn(&w, "arguments", r->scratch.data + c->off, c->len);
            jw_end_obj(&w);
            jw_end_obj(&w);
            jw_end_arr(&w);
        } else {
            jw_strn(&w, "content", r->scratch.data + c->off, c->len);
            jw_null(&w, "refusal");
        }
        jw_arr(&w, "annotations");
        jw_end_arr(&w);
        jw_end_obj(&w);
        jw_null(&w, "logprobs");
        jw_str(&w, "finish_reason", c->finish);
        jw_end_obj(&w);
    }
    jw_end_arr(&w);
    chat_usage(&w, p);
    jw_str(&w, "service_tier", "default");
    jw_str(&w, "system_fingerprint", p->fp);
    jw_end_obj(&w);
    jbuf_putc(&r->body, '\n');
}

void up_openai_chat(const struct up_req *q, struct up_resp *r)
{
    const char *model;
    if (!need_model(q, r, &model))
        return;
    const cJSON *msgs = get(q->json, "messages");
    if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0) {
        up_openai_error(r, 400, "invalid_request_error", NULL, "messages",
                        "Invalid 'messages': expected a non-empty array of messages.");
        return;
    }
    long n = up_int(q->json, "n", 1);
    if (n > MAX_CHOICES) {
        up_openai_error(r, 400, "invalid_request_error", NULL, "n", "Invalid 'n': at most %d here.",
                        MAX_CHOICES);
        return;
    }
    struct plan p;
    memset(&p, 0, sizeof p);
    p.n = (int)n;
    p.model = up_resp_model(model);
    up_fingerprint(p.model, p.fp);
    up_id(q, 1, "chatcmpl-", 29, false, p.id, sizeof p.id);
    p.created = up_created(q);
    p.prompt = up_tokens_json(msgs) + up_tokens_json(get(q->json, "tools")) + 3;
    p.cached = up_cached_tokens(q, p.prompt);
    bool forced;
    bool tool = pick_tool(q->json, true, &p.tool_name, &p.tool_schema, &forced) &&
                (forced || strcmp(last_role(msgs), "user") == 0);
    long max = up_int(q->json, "max_completion_tokens", up_int(q->json, "max_tokens", 0));
    plan_choices(q, r, &p, tool, max, up_reasoning_model(model), ANSWER_MEDIAN);
    if (up_bool(q->json, "stream"))
        chat_stream(q, r, &p, up_bool(get(q->json, "stream_options"), "include_usage"));
    else
        chat_json(r, &p);
}

/* ---- legacy completions ---------------------------------------------------- */

static void completion_usage(struct jw *w, const struct plan *p)
{
    jw_obj(w, "usage");
    jw_int(w, "prompt_tokens", (int64_t)p->prompt);
    jw_int(w, "completion_tokens", (int64_t)p->completion);
    jw_int(w, "total_tokens", (int64_t)(p->prompt + p->completion));
    jw_end_obj(w);
}

static void completion_chunk_open(struct up_resp *r, struct jw *w, const struct plan *p)
{
    up_ev_begin(r, NULL);
    jw_init(w, &r->body);
    jw_obj(w, NULL);
    jw_str(w, "id", p->id);
    jw_str(w, "object", "text_completion");
    jw_int(w, "created", p->created);
    jw_str(w, "model", p->model);
    jw_arr(w, "choices");
}

static void completion_choice(struct jw *w, int i, const char *s, size_t n, const char *finish)
{
    jw_obj(w, NULL);
    jw_strn(w, "text", s, n);
    jw_int(w, "index", i);
    jw_null(w, "logprobs");
    if (finish)
        jw_str(w, "finish_reason", finish);
    else
        jw_null(w, "finish_reason");
    jw_end_obj(w);
}

void up_openai_completions(const struct up_req *q, struct up_resp *r)
{
    const char *model;
    if (!need_model(q, r, &model))
        return;
    const cJSON *prompt = get(q->json, "prompt");
    int prompts = 1;
    /* A list of strings or of token lists is several prompts; a list of
     * numbers is one tokenized prompt. */
    if (cJSON_IsArray(prompt) && prompt->child && !cJSON_IsNumber(prompt->child))
        prompts = cJSON_GetArraySize(prompt);
    else if (prompt && !cJSON_IsString(prompt) && !cJSON_IsArray(prompt)) {
        up_openai_error(
            r, 400, "invalid_request_error", NULL, "prompt",
            "Invalid 'prompt': expected a string, an array of strings or token arrays.");
        return;
    }
    long n = up_int(q->json, "n", 1);
    if (n * prompts > MAX_CHOICES) {
        up_openai_error(r, 400, "invalid_request_error", NULL, "n", "At most %d choices here.",
                        MAX_CHOICES);
        return;
    }
    struct plan p;
    memset(&p, 0, sizeof p);
    p.n = (int)n * prompts;
    p.model = up_resp_model(model);
    up_id(q, 1, "cmpl-", 29, false, p.id, sizeof p.id);
    p.created = up_created(q);
    p.prompt = prompt ? up_tokens_json(prompt) : 1;
    plan_choices(q, r, &p, false, up_int(q->json, "max_tokens", 16), false, 160);
    struct jw w;
    if (!up_bool(q->json, "stream")) {
        up_json_begin(r, 200);
        jw_init(&w, &r->body);
        jw_obj(&w, NULL);
        jw_str(&w, "id", p.id);
        jw_str(&w, "object", "text_completion");
        jw_int(&w, "created", p.created);
        jw_str(&w, "model", p.model);
        jw_arr(&w, "choices");
        for (int i = 0; i < p.n; i++)
            completion_choice(&w, i, r->scratch.data + p.ch[i].off, p.ch[i].len, p.ch[i].finish);
        jw_end_arr(&w);
        completion_usage(&w, &p);
        jw_end_obj(&w);
        jbuf_putc(&r->body, '\n');
        return;
    }
    bool inc_usage = up_bool(get(q->json, "stream_options"), "include_usage");
    up_sse_begin(r);
    for (int i = 0; i < p.n; i++) {
        const char *s = r->scratch.data + p.ch[i].off;
        for (size_t off = 0; off < p.ch[i].len;) {
            size_t end = up_next_piece(q, s, p.ch[i].len, off);
            completion_chunk_open(r, &w, &p);
            completion_choice(&w, i, s + off, end - off, NULL);
            chunk_close(r, &w, inc_usage, UP_EV_CONTENT);
            off = end;
        }
        completion_chunk_open(r, &w, &p);
        completion_choice(&w, i, "", 0, p.ch[i].finish);
        chunk_close(r, &w, inc_usage, UP_EV_TAIL);
    }
    if (inc_usage) {
        completion_chunk_open(r, &w, &p);
        jw_end_arr(&w);
        completion_usage(&w, &p);
        jw_end_obj(&w);
        up_ev_end(r, UP_EV_TAIL);
    }
    up_ev_begin(r, NULL);
    jbuf_puts(&r->body, "[DONE]");
    up_ev_end(r, UP_EV_TAIL);
}

/* ---- embeddings ----------------------------------------------------------- */

static void base64(struct jbuf *b, const unsigned char *p, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    jbuf_reserve(b, (n + 2) / 3 * 4);
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        char q[4] = {tbl[v >> 18 & 63], tbl[v >> 12 & 63], i + 1 < n ? tbl[v >> 6 & 63] : '=',
                     i + 2 < n ? tbl[v & 63] : '='};
        jbuf_put(b, q, 4);
    }
}

/* One embedding: a unit vector drawn from the input's own bytes. */
static void embedding(const struct up_req *q, const char *text, size_t len, long dims, bool b64,
                      struct jw *w, struct jbuf *tmp)
{
    struct rng rg = up_rng_for(q, text, len);
    jbuf_reset(tmp);
    jbuf_reserve(tmp, (size_t)dims * sizeof(float));
    float *v = (float *)(void *)tmp->data;
    double norm = 0;
    for (long i = 0; i < dims; i++) {
        double x = rng_normal(&rg);
        v[i] = (float)x;
        norm += x * x;
    }
    norm = sqrt(norm);
    for (long i = 0; i < dims; i++)
        v[i] = (float)(v[i] / norm);
    if (b64) {
        /* little-endian float32, as the API sends it */
        unsigned char *bytes = (unsigned char *)(void *)tmp->data;
        for (long i = 0; i < dims; i++) {
            uint32_t u;
            memcpy(&u, &v[i], 4);
            bytes[4 * i] = (unsigned char)u;
            bytes[4 * i + 1] = (unsigned char)(u >> 8);
            bytes[4 * i + 2] = (unsigned char)(u >> 16);
            bytes[4 * i + 3] = (unsigned char)(u >> 24);
        }
        jw_raw_begin(w, "embedding");
        jbuf_putc(w->b, '"');
        base64(w->b, bytes, (size_t)dims * 4);
        jbuf_putc(w->b, '"');
        return;
    }
    jw_arr(w, "embedding");
    for (long i = 0; i < dims; i++) {
        jw_raw_begin(w, NULL);
        jbuf_printf(w->b, "%.9g", (double)v[i]);
    }
    jw_end_arr(w);
}

void up_openai_embeddings(const struct up_req *q, struct up_resp *r)
{
    const char *model;
    if (!need_model(q, r, &model))
        return;
    const cJSON *in = get(q->json, "input");
    bool ok = (cJSON_IsString(in) && in->valuestring[0]) || (cJSON_IsArray(in) && in->child);
    for (const cJSON *c = cJSON_IsArray(in) ? in->child : NULL; ok && c; c = c->next)
        ok = (cJSON_IsString(c) && c->valuestring[0]) || cJSON_IsNumber(c) ||
             (cJSON_IsArray(c) && c->child);
    if (!ok) {
        up_openai_error(r, 400, "invalid_request_error", NULL, "input",
                        "'$.input' is invalid: expected a non-empty string, array of strings, or "
                        "token arrays.");
        return;
    }
    const cJSON *fmt = get(q->json, "encoding_format");
    bool b64 = cJSON_IsString(fmt) && strcmp(fmt->valuestring, "base64") == 0;
    if (fmt && !cJSON_IsNull(fmt) && !b64 &&
        !(cJSON_IsString(fmt) && strcmp(fmt->valuestring, "float") == 0)) {
        up_openai_error(r, 400, "invalid_request_error", NULL, "encoding_format",
                        "Invalid 'encoding_format': expected 'float' or 'base64'.");
        return;
    }
    long dflt = strstr(model, "large") ? 3072 : 1536;
    const cJSON *dj = get(q->json, "dimensions");
    long dims = up_int(q->json, "dimensions", dflt);
    if (dj && (!cJSON_IsNumber(dj) || dj->valuedouble < 1 || dj->valuedouble > 8192)) {
        up_openai_error(r, 400, "invalid_request_error", NULL, "dimensions",
                        "Invalid 'dimensions': expected an integer between 1 and 8192.");
        return;
    }
    /* A single string, a single token list, or a list of either. */
    bool single = cJSON_IsString(in) || (cJSON_IsArray(in) && cJSON_IsNumber(in->child));
    struct jw w;
    up_json_begin(r, 200);
    jw_init(&w, &r->body);
    jw_obj(&w, NULL);
    jw_str(&w, "object", "list");
    jw_arr(&w, "data");
    size_t tokens = 0;
    int idx = 0;
    for (const cJSON *c = single ? in : in->child; c; c = single ? NULL : c->next, idx++) {
        char *printed = NULL;
        const char *text;
        size_t len;
        if (cJSON_IsString(c)) {
            text = c->valuestring;
            len = strlen(text);
        } else {
            printed = cJSON_PrintUnformatted(c);
            text = printed ? printed : "";
            len = strlen(text);
        }
        tokens += cJSON_IsString(c)  ? up_tokens(text, len)
                  : cJSON_IsArray(c) ? (size_t)cJSON_GetArraySize(c)
                                     : 1;
        jw_obj(&w, NULL);
        jw_str(&w, "object", "embedding");
        jw_int(&w, "index", idx);
        embedding(q, text, len, dims, b64, &w, &r->scratch);
        jw_end_obj(&w);
        cJSON_free(printed);
    }
    jw_end_arr(&w);
    jw_str(&w, "model", up_resp_model(model));
    jw_obj(&w, "usage");
    jw_int(&w, "prompt_tokens", (int64_t)tokens);
    jw_int(&w, "total_tokens", (int64_t)tokens);
    jw_end_obj(&w);
    jw_end_obj(&w);
    jbuf_putc(&r->body, '\n');
}

/* ---- Responses API --------------------------------------------------------- */

struct rsp {
    struct plan p;
    const struct up_req *q;
    bool reasoning, incomplete;
    char msg_id[64], rs_id[64], fc_id[64];
    int seq;
};

static void rsp_usage(struct jw *w, const struct rsp *x)
{
    jw_obj(w, "usage");
    jw_int(w, "input_tokens", (int64_t)x->p.prompt);
    jw_obj(w, "input_tokens_details");
    jw_int(w, "cached_tokens", (int64_t)x->p.cached);
    jw_int(w, "cache_write_tokens", 0); /* required by current SDK types */
    jw_end_obj(w);
    jw_int(w, "output_tokens", (int64_t)x->p.completion);
    jw_obj(w, "output_tokens_details");
    jw_int(w, "reasoning_tokens", (int64_t)x->p.reasoning);
    jw_end_obj(w);
    jw_int(w, "total_tokens", (int64_t)(x->p.prompt + x->p.completion));
    jw_end_obj(w);
}

enum item_state { ITEM_ADDED, ITEM_DONE };

static void rsp_reasoning_item(struct jw *w, const char *key, const struct rsp *x)
{
    jw_obj(w, key);
    jw_str(w, "id", x->rs_id);
    jw_str(w, "type", "reasoning");
    jw_arr(w, "summary");
    jw_end_arr(w);
    jw_end_obj(w);
}

static void rsp_output_text(struct jw *w, const char *key, const char *s, size_t n)
{
    jw_obj(w, key);
    jw_str(w, "type", "output_text");
    jw_arr(w, "annotations");
    jw_end_arr(w);
    jw_arr(w, "logprobs");
    jw_end_arr(w);
    jw_strn(w, "text", s, n);
    jw_end_obj(w);
}

static void rsp_main_item(struct jw *w, const char *key, const struct rsp *x,
                          const struct up_resp *r, enum item_state st)
{
    const struct choice *c = &x->p.ch[0];
    const char *s = r->scratch.data + c->off;
    jw_obj(w, key);
    if (c->tool) {
        jw_str(w, "id", x->fc_id);
        jw_str(w, "type", "function_call");
        jw_str(w, "status", st == ITEM_DONE ? "completed" : "in_progress");
        jw_strn(w, "arguments", s, st == ITEM_DONE ? c->len : 0);
        jw_str(w, "call_id", c->call_id);
        jw_str(w, "name", x->p.tool_name);
    } else {
        jw_str(w, "id", x->msg_id);
        jw_str(w, "type", "message");
        jw_str(w, "status",
               st == ITEM_ADDED ? "in_progress"
               : x->incomplete  ? "incomplete"
                                : "completed");
        jw_arr(w, "content");
        if (st == ITEM_DONE)
            rsp_output_text(w, NULL, s, c->len);
        jw_end_arr(w);
        jw_str(w, "role", "assistant");
    }
    jw_end_obj(w);
}

/* The response object; `final` = with output and usage. */
static void rsp_object(struct jw *w, const char *key, const struct rsp *x, const struct up_resp *r,
                       bool final)
{
    const cJSON *j = x->q->json, *v;
    jw_obj(w, key);
    jw_str(w, "id", x->p.id);
    jw_str(w, "object", "response");
    jw_int(w, "created_at", x->p.created);
    jw_str(w, "status", !final ? "in_progress" : x->incomplete ? "incomplete" : "completed");
    jw_bool(w, "background", false);
    jw_null(w, "error");
    if (final && x->incomplete) {
        jw_obj(w, "incomplete_details");
        jw_str(w, "reason", "max_output_tokens");
        jw_end_obj(w);
    } else {
        jw_null(w, "incomplete_details");
    }
    v = get(j, "instructions");
    up_cjson(w, "instructions", cJSON_IsString(v) ? v : NULL);
    v = get(j, "max_output_tokens");
    up_cjson(w, "max_output_tokens", cJSON_IsNumber(v) ? v : NULL);
    jw_str(w, "model", x->p.model);
    jw_arr(w, "output");
    if (final) {
        if (x->reasoning)
            rsp_reasoning_item(w, NULL, x);
        rsp_main_item(w, NULL, x, r, ITEM_DONE);
    }
    jw_end_arr(w);
    v = get(j, "parallel_tool_calls");
    jw_bool(w, "parallel_tool_calls", !cJSON_IsFalse(v));
    v = get(j, "previous_response_id");
    up_cjson(w, "previous_response_id", cJSON_IsString(v) ? v : NULL);
    jw_obj(w, "reasoning");
    v = get(get(j, "reasoning"), "effort");
    if (cJSON_IsString(v))
        jw_str(w, "effort", v->valuestring);
    else if (x->reasoning)
        jw_str(w, "effort", "medium");
    else
        jw_null(w, "effort");
    jw_null(w, "summary");
    jw_end_obj(w);
    jw_str(w, "service_tier", "default");
    jw_bool(w, "store", !cJSON_IsFalse(get(j, "store")));
    v = get(j, "temperature");
    if (cJSON_IsNumber(v))
        up_cjson(w, "temperature", v);
    else
        jw_num(w, "temperature", 1.0, 1);
    jw_obj(w, "text");
    jw_obj(w, "format");
    jw_str(w, "type", "text");
    jw_end_obj(w);
    jw_end_obj(w);
    v = get(j, "tool_choice");
    if (v)
        up_cjson(w, "tool_choice", v);
    else
        jw_str(w, "tool_choice", "auto");
    v = get(j, "tools");
    if (cJSON_IsArray(v))
        up_cjson(w, "tools", v);
    else {
        jw_arr(w, "tools");
        jw_end_arr(w);
    }
    v = get(j, "top_p");
    if (cJSON_IsNumber(v))
        up_cjson(w, "top_p", v);
    else
        jw_num(w, "top_p", 1.0, 1);
    jw_str(w, "truncation", "disabled");
    if (final)
        rsp_usage(w, x);
    else
        jw_null(w, "usage");
    v = get(j, "user");
    up_cjson(w, "user", cJSON_IsString(v) ? v : NULL);
    v = get(j, "metadata");
    if (cJSON_IsObject(v))
        up_cjson(w, "metadata", v);
    else {
        jw_obj(w, "metadata");
        jw_end_obj(w);
    }
    jw_end_obj(w);
}

/* Starts a typed event: {"type":NAME,"sequence_number":N ... (left open). */
static void rsp_ev(struct up_resp *r, struct jw *w, struct rsp *x, const char *name)
{
    up_ev_begin(r, name);
    jw_init(w, &r->body);
    jw_obj(w, NULL);
    jw_str(w, "type", name);
    jw_int(w, "sequence_number", x->seq++);
}

static void rsp_ev_end(struct up_resp *r, struct jw *w, enum up_ev_kind kind)
{
    jw_end_obj(w);
    up_ev_end(r, kind);
}

static void rsp_stream(struct up_resp *r, struct rsp *x)
{
    struct jw w;
    const struct choice *c = &x->p.ch[0];
    const char *s = r->scratch.data + c->off;
    const char *item_id = c->tool ? x->fc_id : x->msg_id;
    int out_i = x->reasoning ? 1 : 0;
    up_sse_begin(r);
    rsp_ev(r, &w, x, "response.created");
    rsp_object(&w, "response", x, r, false);
    rsp_ev_end(r, &w, UP_EV_HEAD);
    rsp_ev(r, &w, x, "response.in_progress");
    rsp_object(&w, "response", x, r, false);
    rsp_ev_end(r, &w, UP_EV_HEAD);
    if (x->reasoning) {
        static const char *const names[] = {"response.output_item.added",
                                            "response.output_item.done"};
        for (int k = 0; k < 2; k++) {
            rsp_ev(r, &w, x, names[k]);
            jw_int(&w, "output_index", 0);
            rsp_reasoning_item(&w, "item", x);
            rsp_ev_end(r, &w, UP_EV_HEAD);
        }
    }
    rsp_ev(r, &w, x, "response.output_item.added");
    jw_int(&w, "output_index", out_i);
    rsp_main_item(&w, "item", x, r, ITEM_ADDED);
    rsp_ev_end(r, &w, UP_EV_HEAD);
    if (!c->tool) {
        rsp_ev(r, &w, x, "response.content_part.added");
        jw_str(&w, "item_id", item_id);
        jw_int(&w, "output_index", out_i);
        jw_int(&w, "content_index", 0);
        rsp_output_text(&w, "part", "", 0);
        rsp_ev_end(r, &w, UP_EV_HEAD);
    }
    for (size_t off = 0; off < c->len;) {
        size_t end = up_next_piece(x->q, s, c->len, off);
        rsp_ev(r, &w, x,
               c->tool ? "response.function_call_arguments.delta" : "response.output_text.delta");
        jw_str(&w, "item_id", item_id);
        jw_int(&w, "output_index", out_i);
        if (!c->tool)
            jw_int(&w, "content_index", 0);
        jw_strn(&w, "delta", s + off, end - off);
        if (!c->tool) {
            jw_arr(&w, "logprobs");
            jw_end_arr(&w);
        }
        rsp_ev_end(r, &w, UP_EV_CONTENT);
        off = end;
    }
    if (c->tool) {
        rsp_ev(r, &w, x, "response.function_call_arguments.done");
        jw_str(&w, "item_id", item_id);
        jw_int(&w, "output_index", out_i);
        jw_strn(&w, "arguments", s, c->len);
        rsp_ev_end(r, &w, UP_EV_TAIL);
    } else {
        rsp_ev(r, &w, x, "response.output_text.done");
        jw_str(&w, "item_id", item_id);
        jw_int(&w, "output_index", out_i);
        jw_int(&w, "content_index", 0);
        jw_strn(&w, "text", s, c->len);
        jw_arr(&w, "logprobs");
        jw_end_arr(&w);
        rsp_ev_end(r, &w, UP_EV_TAIL);
        rsp_ev(r, &w, x, "response.content_part.done");
        jw_str(&w, "item_id", item_id);
        jw_int(&w, "output_index", out_i);
        jw_int(&w, "content_index", 0);
        rsp_output_text(&w, "part", s, c->len);
        rsp_ev_end(r, &w, UP_EV_TAIL);
    }
    rsp_ev(r, &w, x, "response.output_item.done");
    jw_int(&w, "output_index", out_i);
    rsp_main_item(&w, "item", x, r, ITEM_DONE);
    rsp_ev_end(r, &w, UP_EV_TAIL);
    rsp_ev(r, &w, x, x->incomplete ? "response.incomplete" : "response.completed");
    rsp_object(&w, "response", x, r, true);
    rsp_ev_end(r, &w, UP_EV_TAIL);
}

void up_openai_responses(const struct up_req *q, struct up_resp *r)
{
    const char *model;
    if (!need_model(q, r, &model))
        return;
    const cJSON *input = get(q->json, "input");
    if (input && !cJSON_IsString(input) && !cJSON_IsArray(input)) {
        up_openai_error(r, 400, "invalid_request_error", NULL, "input",
                        "Invalid 'input': expected a string or an array of input items.");
        return;
    }
    struct rsp x;
    memset(&x, 0, sizeof x);
    x.q = q;
    x.p.n = 1;
    x.p.model = up_resp_model(model);
    x.reasoning = up_reasoning_model(model);
    up_id(q, 1, "resp_", 48, true, x.p.id, sizeof x.p.id);
    up_id(q, 2, "msg_", 48, true, x.msg_id, sizeof x.msg_id);
    up_id(q, 3, "rs_", 48, true, x.rs_id, sizeof x.rs_id);
    up_id(q, 4, "fc_", 48, true, x.fc_id, sizeof x.fc_id);
    x.p.created = up_created(q);
    x.p.prompt = up_tokens_json(input) + up_tokens_json(get(q->json, "instructions")) +
                 up_tokens_json(get(q->json, "tools")) + 3;
    x.p.cached = up_cached_tokens(q, x.p.prompt);
    /* A call when the input ends with the user speaking (a string input is
     * a user message), not after a function result. */
    bool user_last = cJSON_IsString(input);
    if (cJSON_IsArray(input)) {
        const cJSON *last = NULL;
        for (const cJSON *c = input->child; c; c = c->next)
            last = c;
        const cJSON *role = get(last, "role");
        user_last = cJSON_IsString(last) ||
                    (cJSON_IsString(role) && strcmp(role->valuestring, "user") == 0);
    }
    bool forced;
    bool tool = pick_tool(q->json, false, &x.p.tool_name, &x.p.tool_schema, &forced) &&
                (forced || user_last);
    plan_choices(q, r, &x.p, tool, up_int(q->json, "max_output_tokens", 0), x.reasoning,
                 ANSWER_MEDIAN);
    x.incomplete = strcmp(x.p.ch[0].finish, "length") == 0;
    if (up_bool(q->json, "stream")) {
        rsp_stream(r, &x);
        return;
    }
    struct jw w;
    up_json_begin(r, 200);
    jw_init(&w, &r->body);
    rsp_object(&w, NULL, &x, r, true);
    jbuf_putc(&r->body, '\n');
}

/* ---- models ------------------------------------------------------------- */

void up_openai_models(const struct up_req *q, struct up_resp *r)
{
    static const struct {
        const char *id;
        int64_t created;
        const char *owner;
    } list[] = {
        {"gpt-4o-mini", 1721172741, "system"},
        {"gpt-4o", 1715367049, "system"},
        {"gpt-4.1", 1744316542, "system"},
        {"gpt-4.1-mini", 1744318173, "system"},
        {"o3-mini", 1737146383, "system"},
        {"o4-mini", 1744225351, "system"},
        {"gpt-5", 1754425777, "system"},
        {"gpt-5-mini", 1754425928, "system"},
        {"gpt-3.5-turbo-instruct", 1692901427, "system"},
        {"text-embedding-3-small", 1705948997, "system"},
        {"text-embedding-3-large", 1705953180, "system"},
    };
    struct jw w;
    up_json_begin(r, 200);
    jw_init(&w, &r->body);
    jw_obj(&w, NULL);
    jw_str(&w, "object", "list");
    jw_arr(&w, "data");
    for (size_t i = 0; i < COUNT(list); i++) {
        jw_obj(&w, NULL);
        jw_str(&w, "id", list[i].id);
        jw_str(&w, "object", "model");
        jw_int(&w, "created", list[i].created);
        jw_str(&w, "owned_by", list[i].owner);
        jw_end_obj(&w);
    }
    jw_end_arr(&w);
    jw_end_obj(&w);
    jbuf_putc(&r->body, '\n');
}
