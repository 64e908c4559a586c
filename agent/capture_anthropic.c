/*
 * capture_anthropic.c — the Anthropic Messages API wire format (POST
 * /v1/messages), streamed or not. Registered in capture.c's provider table;
 * writes through the cap_* helpers (capture_provider.h).
 *
 * DESIGN
 * - Requests: `system` (a string or text blocks) becomes the first message,
 *   role "system"; message content is a string or blocks: text kept, images
 *   and documents recorded by type, tool_use blocks become the message's
 *   tool_calls (arguments = the input object as compact JSON), tool_result
 *   blocks stay in the message as parts {type, tool_use_id, text} and are
 *   also context documents (source "tool"). Documents with a text source and
 *   search_result blocks are retrieved context too (source "document" /
 *   the result's source). System and user text is scanned for delimited
 *   passages.
 * - Responses: text blocks are the response text; tool_use (and
 *   server_tool_use) blocks are tool calls, keyed by block index; thinking is
 *   not captured as text (its tokens are in output_tokens; Anthropic does not
 *   report them apart).
 * - Usage: Anthropic's input_tokens excludes the cache; the event's
 *   input_tokens is input + cache_creation + cache_read (capture.h), summed
 *   at finish. message_start carries the input side, message_delta the
 *   final (cumulative) output_tokens and, in newer API versions, cumulative
 *   input counts; a later report of a field replaces the earlier one.
 */
#include <stdlib.h>
#include <string.h>

#include "capture_provider.h"

static const struct cap_route routes[] = {
    {"/messages", CAPTURE_OP_MESSAGES},
    {NULL, CAPTURE_OP_NONE},
};

static const struct cap_param params[] = {
    {"max_tokens", "max_tokens", CAP_P_SCALAR},
    {"temperature", "temperature", CAP_P_SCALAR},
    {"top_p", "top_p", CAP_P_SCALAR},
    {"top_k", "top_k", CAP_P_SCALAR},
    {"stop_sequences", "stop", CAP_P_STOP},
    {"tools", "tools", CAP_P_TOOLS},
    {"tool_choice", "tool_choice", CAP_P_TOOL_CHOICE},
    {"thinking", "thinking", CAP_P_TYPE},
    {"thinking.budget_tokens", "thinking_budget_tokens", CAP_P_SCALAR},
    {"service_tier", "service_tier", CAP_P_SCALAR},
    {NULL, NULL, CAP_P_SCALAR},
};

static bool eq(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

/* Compact JSON of a tool_use input, or NULL; release it with cJSON_free. */
static char *print_input(const cJSON *input)
{
    return input ? cJSON_PrintUnformatted(input) : NULL;
}

static void tool_use_call(struct capture *c, cJSON *calls, const cJSON *b)
{
    char *args = print_input(cap_get(b, "input"));
    cap_request_tool_call(c, calls, cap_str(b, "id"), cap_str(b, "name"), args,
                          args ? strlen(args) : 0);
    cJSON_free(args); /* cJSON allocated it (possibly from an arena); copied by now */
}

/* One content block of a request message. */
static void block(struct capture *c, cJSON *parts, cJSON *msg, const cJSON *b, bool passages)
{
    const char *type = cJSON_IsString(b) ? "text" : cap_str(b, "type");
    if (eq(type, "tool_use") || eq(type, "server_tool_use")) {
        cJSON *calls = cJSON_GetObjectItemCaseSensitive(msg, "tool_calls");
        if (!calls && !(calls = cJSON_AddArrayToObject(msg, "tool_calls"))) {
            c->oom = true;
            return;
        }
        tool_use_call(c, calls, b);
        return;
    }
    cJSON *out = cJSON_CreateObject();
    if (!out) {
        c->oom = true;
        return;
    }
    cJSON_AddItemToArray(parts, out);
    cap_add_short(c, out, "type", type ? type : "unknown");
    if (eq(type, "text")) {
        const char *t = cJSON_IsString(b) ? b->valuestring : cap_str(b, "text");
        if (t) {
            size_t n = strlen(t);
            cap_text(c, out, "text", t, n, CAP_PROMPT);
            if (passages)
                cap_scan_passages(c, t, n);
        }
    } else if (eq(type, "tool_result")) {
        const char *id = cap_str(b, "tool_use_id");
        cap_add_short(c, out, "tool_use_id", id);
        size_t n = 0;
        char *t = cap_join_text(cap_get(b, "content"), &n);
        if (t)
            cap_text_owned(c, out, "text", t, n, CAP_PROMPT);
        cap_tool_context(c, id, cap_get(b, "content"));
    } else if (eq(type, "document")) {
        const cJSON *src = cap_get(b, "source");
        const char *title = cap_str(b, "title");
        const char *data = NULL;
        if (eq(cap_str(src, "type"), "text"))
            data = cap_str(src, "data");
        if (data) {
            cap_context(c, title, title ? strlen(title) : 0, "document", 8, NULL, data,
                        strlen(data));
        } else if (eq(cap_str(src, "type"), "content")) {
            size_t n = 0;
            char *t = cap_join_text(cap_get(src, "content"), &n);
            cJSON *d = t ? cap_context_doc(c, title, title ? strlen(title) : 0, "document", 8, NULL)
                         : NULL;
            if (d)
                cap_text_owned(c, d, "text", t, n, CAP_CONTEXT);
            else
                free(t);
        }
    } else if (eq(type, "search_result")) {
        const char *title = cap_str(b, "title"), *source = cap_str(b, "source");
        size_t n = 0;
        char *t = cap_join_text(cap_get(b, "content"), &n);
        cJSON *d = t ? cap_context_doc(c, title, title ? strlen(title) : 0, source,
                                       source ? strlen(source) : 0, NULL)
                     : NULL;
        if (d)
            cap_text_owned(c, d, "text", t, n, CAP_CONTEXT);
        else
            free(t);
    }
    /* image, thinking, redacted_thinking, …: the type only */
}

static void content(struct capture *c, cJSON *msg, const cJSON *v, bool passages)
{
    if (cJSON_IsString(v)) {
        size_t n = strlen(v->valuestring);
        cap_text(c, msg, "content", v->valuestring, n, CAP_PROMPT);
        if (passages)
            cap_scan_passages(c, v->valuestring, n);
        return;
    }
    if (!cJSON_IsArray(v))
        return;
    cJSON *parts = cJSON_CreateArray();
    if (!parts) {
        c->oom = true;
        return;
    }
    const cJSON *b;
    int k = 0;
    cJSON_ArrayForEach(b, v)
    {
        if (!cJSON_IsObject(b) && !cJSON_IsString(b))
            continue;
        if (k++ >= CAP_MAX_PARTS) {
            c->truncated = true;
            break;
        }
        block(c, parts, msg, b, passages);
    }
    if (cJSON_GetArraySize(parts) > 0)
        cJSON_AddItemToObject(msg, "content", parts);
    else
        cJSON_Delete(parts);
}

static void anthropic_request(struct capture *c, const cJSON *body)
{
    const cJSON *system = cap_get(body, "system");
    if (cJSON_IsString(system) || cJSON_IsArray(system)) {
        cJSON *m = cap_message(c, "system");
        if (m)
            content(c, m, system, true);
    }
    const cJSON *msgs = cap_get(body, "messages");
    int total = cJSON_GetArraySize(msgs), i = -1;
    const cJSON *m;
    cJSON_ArrayForEach(m, cap_array(msgs))
    {
        i++;
        if (!cJSON_IsObject(m) || !cap_keep_message(c, i, total))
            continue;
        const char *role = cap_str(m, "role");
        cJSON *out = cap_message(c, role);
        if (out)
            content(c, out, cap_get(m, "content"), eq(role, "user"));
    }
    cap_params(c, body, params);
}

/* ------------------------------------------------------------------------ */
/* responses                                                                */

static void anthropic_usage(struct capture *c, const cJSON *u)
{
    c->u.input_excludes_cache = true;
    cap_usage_field(u, "input_tokens", &c->u.input);
    cap_usage_field(u, "cache_creation_input_tokens", &c->u.cache_write);
    cap_usage_field(u, "cache_read_input_tokens", &c->u.cached);
    cap_usage_field(u, "output_tokens", &c->u.output);
}

static void response_call(struct capture *c, int64_t index, const cJSON *b, bool with_input)
{
    struct cap_call *k = cap_call(c, index);
    if (!k)
        return;
    cap_call_set(&k->id, cap_str(b, "id"));
    cap_call_set(&k->name, cap_str(b, "name"));
    if (!with_input || k->args.len)
        return;
    char *args = print_input(cap_get(b, "input"));
    if (args)
        cap_call_args(c, k, args, strlen(args));
    cJSON_free(args);
}

static void anthropic_response(struct capture *c, const cJSON *body)
{
    if (eq(cap_str(body, "type"), "error")) {
        cap_error_from(c, body);
        return;
    }
    cap_set_response_model(c, cap_str(body, "model"));
    const cJSON *b;
    int64_t idx = -1;
    cJSON_ArrayForEach(b, cap_array(cap_get(body, "content")))
    {
        idx++;
        const char *type = cap_str(b, "type");
        if (eq(type, "text")) {
            const char *t = cap_str(b, "text");
            if (t)
                cap_text_append(c, t, strlen(t));
        } else if (eq(type, "tool_use") || eq(type, "server_tool_use")) {
            response_call(c, idx, b, true);
        }
    }
    cap_set_finish(c, cap_str(body, "stop_reason"));
    const cJSON *u = cap_get(body, "usage");
    if (cJSON_IsObject(u))
        anthropic_usage(c, u);
}

static void anthropic_event(struct capture *c, const struct sse_event *ev, const cJSON *d)
{
    const char *type = cap_str(d, "type");
    if (!type)
        type = ev->type;
    if (!cJSON_IsObject(d)) {
        if (eq(type, "error")) {
            cap_set_error(c, "error", ev->data);
            cap_set_finish(c, "error");
        }
        return;
    }
    int64_t idx = -1;
    const cJSON *ix = cap_get(d, "index");
    if (cJSON_IsNumber(ix))
        idx = (int64_t)ix->valuedouble;

    if (eq(type, "content_block_delta")) {
        const cJSON *delta = cap_get(d, "delta");
        const char *dt = cap_str(delta, "type");
        if (eq(dt, "text_delta")) {
            const char *t = cap_str(delta, "text");
            if (t) {
                if (*t)
                    cap_first_content(c);
                cap_text_append(c, t, strlen(t));
            }
        } else if (eq(dt, "input_json_delta")) {
            const char *t = cap_str(delta, "partial_json");
            cap_first_content(c);
            if (t)
                cap_call_args(c, cap_call(c, idx), t, strlen(t));
        } else if (eq(dt, "thinking_delta")) {
            const char *t = cap_str(delta, "thinking");
            if (t && *t)
                cap_first_content(c); /* output, though not captured as text */
        }
    } else if (eq(type, "content_block_start")) {
        const cJSON *b = cap_get(d, "content_block");
        const char *bt = cap_str(b, "type");
        if (eq(bt, "text")) {
            const char *t = cap_str(b, "text");
            if (t) {
                if (*t)
                    cap_first_content(c);
                cap_text_append(c, t, strlen(t));
            }
        } else if (eq(bt, "tool_use") || eq(bt, "server_tool_use")) {
            cap_first_content(c);
            /* The input starts as {} and arrives in input_json_delta events. */
            response_call(c, idx, b, false);
        }
    } else if (eq(type, "message_start")) {
        const cJSON *m = cap_get(d, "message");
        cap_set_response_model(c, cap_str(m, "model"));
        const cJSON *u = cap_get(m, "usage");
        if (cJSON_IsObject(u))
            anthropic_usage(c, u);
    } else if (eq(type, "message_delta")) {
        cap_set_finish(c, cap_str(cap_get(d, "delta"), "stop_reason"));
        const cJSON *u = cap_get(d, "usage");
        if (cJSON_IsObject(u))
            anthropic_usage(c, u);
    } else if (eq(type, "error")) {
        if (!cap_error_from(c, d))
            cap_set_error(c, "error", NULL);
        cap_set_finish(c, "error");
    }
    /* ping, content_block_stop, message_stop: nothing to read */
}

const struct capture_provider capture_anthropic = {
    .name = "anthropic",
    .routes = routes,
    .request = anthropic_request,
    .response = anthropic_response,
    .event = anthropic_event,
    .usage = anthropic_usage,
    .usage_rewrite = NULL,
};
