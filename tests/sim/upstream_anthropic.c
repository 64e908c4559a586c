/*
 * upstream_anthropic.c — the Anthropic side of `llmtap-sim upstream`:
 * POST /v1/messages (streamed or not) and GET /v1/models, in the shapes
 * api.anthropic.com sends.
 *
 * DESIGN: plan, then serialize (as in upstream_openai.c). A tool call is a
 * short text block followed by a tool_use block, stop_reason "tool_use", as
 * Claude usually answers. Usage follows Anthropic's split: input_tokens
 * excludes the cache; a long prompt (>= 1024 tokens) is, by a draw from the
 * request, either written to the cache (cache_creation_input_tokens), read
 * from it (cache_read_input_tokens) or neither — as if the client had set
 * cache_control, which real clients with long prompts do.
 *
 * Stream: message_start (usage with the input and cache counts,
 * output_tokens 1), then per block content_block_start, (after the first:
 * ping), content_block_delta (text_delta / input_json_delta, the latter
 * starting with an empty partial_json), content_block_stop; then
 * message_delta (stop_reason, usage.output_tokens) and message_stop. Every
 * event has an "event:" line naming its type.
 */
#include <stdio.h>
#include <string.h>

#include "upstream.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

struct msg {
    const char *model;
    char id[40], tool_id[40];
    size_t input, cache_write, cache_read, output;
    const char *stop_reason;
    const char *tool_name;
    const cJSON *tool_schema;
    size_t text_len;           /* text block: r->scratch[0 .. text_len) */
    size_t args_off, args_len; /* tool input JSON: r->scratch[args_off ..) */
};

/* The tool to call, or NULL (tool_choice none, no tools, or the last user
 * turn only carries tool results). */
static const cJSON *pick_tool(const cJSON *req, const cJSON *msgs)
{
    const cJSON *tools = get(req, "tools");
    const cJSON *choice = get(req, "tool_choice");
    const cJSON *ct = get(choice, "type");
    const char *type = cJSON_IsString(ct) ? ct->valuestring : "auto";
    const cJSON *want = get(choice, "name");
    if (strcmp(type, "none") == 0 || !cJSON_IsArray(tools))
        return NULL;
    bool forced = strcmp(type, "any") == 0 || strcmp(type, "tool") == 0;
    if (!forced) {
        const cJSON *last = NULL;
        for (const cJSON *m = msgs->child; m; m = m->next)
            last = m;
        const cJSON *role = get(last, "role");
        if (!cJSON_IsString(role) || strcmp(role->valuestring, "user") != 0)
            return NULL;
        const cJSON *content = get(last, "content");
        for (const cJSON *b = cJSON_IsArray(content) ? content->child : NULL; b; b = b->next) {
            const cJSON *bt = get(b, "type");
            if (cJSON_IsString(bt) && strcmp(bt->valuestring, "tool_result") == 0)
                return NULL;
        }
    }
    for (const cJSON *t = tools->child; t; t = t->next) {
        const cJSON *nm = get(t, "name");
        const cJSON *ty = get(t, "type");
        if (!cJSON_IsString(nm) || (cJSON_IsString(ty) && strcmp(ty->valuestring, "custom") != 0))
            continue; /* server tools (web_search_…) are not called here */
        if (strcmp(type, "tool") == 0 && cJSON_IsString(want) &&
            strcmp(want->valuestring, nm->valuestring) != 0)
            continue;
        return t;
    }
    return NULL;
}

static void usage_members(struct jw *w, const struct msg *m, size_t output)
{
    jw_int(w, "input_tokens", (int64_t)m->input);
    jw_int(w, "cache_creation_input_tokens", (int64_t)m->cache_write);
    jw_int(w, "cache_read_input_tokens", (int64_t)m->cache_read);
    jw_obj(w, "cache_creation");
    jw_int(w, "ephemeral_5m_input_tokens", (int64_t)m->cache_write);
    jw_int(w, "ephemeral_1h_input_tokens", 0);
    jw_end_obj(w);
    jw_int(w, "output_tokens", (int64_t)output);
    jw_str(w, "service_tier", "standard");
}

static void message_head(struct jw *w, const struct msg *m)
{
    jw_str(w, "id", m->id);
    jw_str(w, "type", "message");
    jw_str(w, "role", "assistant");
    jw_str(w, "model", m->model);
}

static void ev(struct up_resp *r, struct jw *w, const char *type)
{
    up_ev_begin(r, type);
    jw_init(w, &r->body);
    jw_obj(w, NULL);
    jw_str(w, "type", type);
}

static void ev_end(struct up_resp *r, struct jw *w, enum up_ev_kind kind)
{
    jw_end_obj(w);
    up_ev_end(r, kind);
}

/* One content block as a stream: start, (ping), deltas, stop. */
static void stream_block(const struct up_req *q, struct up_resp *r, const struct msg *m, int index,
                         bool tool)
{
    struct jw w;
    ev(r, &w, "content_block_start");
    jw_int(&w, "index", index);
    jw_obj(&w, "content_block");
    if (tool) {
        jw_str(&w, "type", "tool_use");
        jw_str(&w, "id", m->tool_id);
        jw_str(&w, "name", m->tool_name);
        jw_obj(&w, "input");
        jw_end_obj(&w);
    } else {
        jw_str(&w, "type", "text");
        jw_str(&w, "text", "");
    }
    jw_end_obj(&w);
    ev_end(r, &w, UP_EV_HEAD);
    if (index == 0) {
        ev(r, &w, "ping");
        ev_end(r, &w, UP_EV_HEAD);
    }
    const char *s = r->scratch.data + (tool ? m->args_off : 0);
    size_t len = tool ? m->args_len : m->text_len;
    if (tool) {
        ev(r, &w, "content_block_delta");
        jw_int(&w, "index", index);
        jw_obj(&w, "delta");
        jw_str(&w, "type", "input_json_delta");
        jw_str(&w, "partial_json", "");
        jw_end_obj(&w);
        ev_end(r, &w, UP_EV_HEAD);
    }
    for (size_t off = 0; off < len;) {
        size_t end = up_next_piece(q, s, len, off);
        ev(r, &w, "content_block_delta");
        jw_int(&w, "index", index);
        jw_obj(&w, "delta");
        jw_str(&w, "type", tool ? "input_json_delta" : "text_delta");
        jw_strn(&w, tool ? "partial_json" : "text", s + off, end - off);
        jw_end_obj(&w);
        ev_end(r, &w, UP_EV_CONTENT);
        off = end;
    }
    ev(r, &w, "content_block_stop");
    jw_int(&w, "index", index);
    ev_end(r, &w, UP_EV_TAIL);
}

static void messages_stream(const struct up_req *q, struct up_resp *r, const struct msg *m)
{
    struct jw w;
    up_sse_begin(r);
    ev(r, &w, "message_start");
    jw_obj(&w, "message");
    message_head(&w, m);
    jw_arr(&w, "content");
    jw_end_arr(&w);
    jw_null(&w, "stop_reason");
    jw_null(&w, "stop_sequence");
    jw_obj(&w, "usage");
    usage_members(&w, m, 1);
    jw_end_obj(&w);
    jw_end_obj(&w);
    ev_end(r, &w, UP_EV_HEAD);
    stream_block(q, r, m, 0, false);
    if (m->tool_name)
        stream_block(q, r, m, 1, true);
    ev(r, &w, "message_delta");
    jw_obj(&w, "delta");
    jw_str(&w, "stop_reason", m->stop_reason);
    jw_null(&w, "stop_sequence");
    jw_end_obj(&w);
    jw_obj(&w, "usage");
    jw_int(&w, "output_tokens", (int64_t)m->output);
    jw_end_obj(&w);
    ev_end(r, &w, UP_EV_TAIL);
    ev(r, &w, "message_stop");
    ev_end(r, &w, UP_EV_TAIL);
}

static void messages_json(struct up_resp *r, const struct msg *m)
{
    struct jw w;
    up_json_begin(r, 200);
    jw_init(&w, &r->body);
    jw_obj(&w, NULL);
    message_head(&w, m);
    jw_arr(&w, "content");
    jw_obj(&w, NULL);
    jw_str(&w, "type", "text");
    jw_strn(&w, "text", r->scratch.data, m->text_len);
    jw_end_obj(&w);
    if (m->tool_name) {
        jw_obj(&w, NULL);
        jw_str(&w, "type", "tool_use");
        jw_str(&w, "id", m->tool_id);
        jw_str(&w, "name", m->tool_name);
        up_raw(&w, "input", r->scratch.data + m->args_off, m->args_len);
        jw_end_obj(&w);
    }
    jw_end_arr(&w);
    jw_str(&w, "stop_reason", m->stop_reason);
    jw_null(&w, "stop_sequence");
    jw_obj(&w, "usage");
    usage_members(&w, m, m->output);
    jw_end_obj(&w);
    jw_end_obj(&w);
}

void up_anthropic_messages(const struct up_req *q, struct up_resp *r)
{
    const char *model = up_req_model(q);
    const cJSON *msgs = get(q->json, "messages");
    const cJSON *mt = get(q->json, "max_tokens");
    if (!model) {
        up_anthropic_error(r, 400, "invalid_request_error", "model: Field required");
        return;
    }
    if (!cJSON_IsNumber(mt) || mt->valuedouble < 1) {
        up_anthropic_error(r, 400, "invalid_request_error",
                           mt ? "max_tokens: must be a positive integer"
                              : "max_tokens: Field required");
        return;
    }
    if (!cJSON_IsArray(msgs) || !msgs->child) {
        up_anthropic_error(r, 400, "invalid_request_error",
                           "messages: at least one message is required");
        return;
    }
    struct msg m;
    memset(&m, 0, sizeof m);
    m.model = up_resp_model(model);
    up_id(q, 1, "msg_01", 22, false, m.id, sizeof m.id);
    size_t prompt = up_tokens_json(msgs) + up_tokens_json(get(q->json, "system")) +
                    up_tokens_json(get(q->json, "tools")) + 4;
    m.input = prompt;
    if (prompt >= 1024) {
        struct rng cr = up_rng(q, 2);
        size_t part = (size_t)((double)prompt * (0.6 + 0.35 * rng_unit(&cr)));
        double u = rng_unit(&cr);
        if (u < 0.25)
            m.cache_write = part;
        else if (u < 0.75)
            m.cache_read = part;
        m.input = prompt - m.cache_write - m.cache_read;
    }
    const cJSON *tool = pick_tool(q->json, msgs);
    size_t max = (size_t)mt->valuedouble;
    jbuf_reset(&r->scratch);
    if (tool) {
        m.tool_name = get(tool, "name")->valuestring;
        m.tool_schema = get(tool, "input_schema");
        up_id(q, 3, "toolu_01", 22, false, m.tool_id, sizeof m.tool_id);
        static const char *const lead[] = {
            "I'll look that up with the %s tool.",
            "Let me check that using %s.",
            "I'll call %s to get the details.",
        };
        struct rng lr = up_rng(q, 4);
        jbuf_printf(&r->scratch, lead[rng_below(&lr, COUNT(lead))], m.tool_name);
        m.text_len = r->scratch.len;
        m.args_off = r->scratch.len;
        up_tool_args(q, 0, m.tool_schema, &r->scratch);
        m.args_len = r->scratch.len - m.args_off;
        m.output = up_tokens(r->scratch.data, r->scratch.len) + 12;
        m.stop_reason = "tool_use";
    } else {
        up_answer(q, 0, 480, &r->scratch);
        m.text_len = r->scratch.len;
        m.output = up_tokens(r->scratch.data, m.text_len);
        m.stop_reason = "end_turn";
        if (m.output > max) {
            m.text_len = up_cut_tokens(r->scratch.data, m.text_len, max);
            m.output = max;
            m.stop_reason = "max_tokens";
        }
    }
    if (up_bool(q->json, "stream"))
        messages_stream(q, r, &m);
    else
        messages_json(r, &m);
}

void up_anthropic_models(const struct up_req *q, struct up_resp *r)
{
    static const struct {
        const char *id, *name, *created;
    } list[] = {
        {"claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z"},
        {"claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-01T00:00:00Z"},
        {"claude-opus-4-1-20250805", "Claude Opus 4.1", "2025-08-05T00:00:00Z"},
        {"claude-sonnet-4-20250514", "Claude Sonnet 4", "2025-05-14T00:00:00Z"},
    };
    struct jw w;
    up_json_begin(r, 200);
    jw_init(&w, &r->body);
    jw_obj(&w, NULL);
    jw_arr(&w, "data");
    for (size_t i = 0; i < COUNT(list); i++) {
        jw_obj(&w, NULL);
        jw_str(&w, "type", "model");
        jw_str(&w, "id", list[i].id);
        jw_str(&w, "display_name", list[i].name);
        jw_str(&w, "created_at", list[i].created);
        jw_end_obj(&w);
    }
    jw_end_arr(&w);
    jw_bool(&w, "has_more", false);
    jw_str(&w, "first_id", list[0].id);
    jw_str(&w, "last_id", list[COUNT(list) - 1].id);
    jw_end_obj(&w);
}
