/*
 * capture_openai.c — the OpenAI wire format (also what OpenAI-compatible
 * servers speak: vLLM, Azure OpenAI, …): chat completions, completions,
 * embeddings and the Responses API, streamed or not. Registered in
 * capture.c's provider table; writes through the cap_* helpers
 * (capture_provider.h).
 *
 * DESIGN
 * - Requests: messages (system, developer, user, assistant with tool_calls,
 *   tool and legacy function results), completions' prompt, embeddings'
 *   input, the Responses API's instructions and input items; parameters from
 *   one table per operation. Tool results become context documents; system,
 *   developer and user text is scanned for delimited passages.
 * - Responses: only choice index 0 is captured (n > 1 is rare and the
 *   others would not fit one event's text). Streamed tool calls are
 *   assembled by their delta index (Responses API: by output_index).
 * - The Responses API has no finish reason: it is derived from `status`
 *   (completed → stop, or tool_calls when function calls were made;
 *   incomplete → the incomplete_details reason; failed → error).
 * - capture_usage_rewrite edits the request body as text (the bytes of
 *   everything else are kept exactly: a JSON round trip could change how
 *   numbers are written, e.g. a 64-bit seed).
 */
#include <stdlib.h>
#include <string.h>

#include "capture_provider.h"

static const struct cap_route routes[] = {
    {"/chat/completions", CAPTURE_OP_CHAT},
    {"/completions", CAPTURE_OP_COMPLETION},
    {"/embeddings", CAPTURE_OP_EMBEDDINGS},
    {"/responses", CAPTURE_OP_RESPONSES},
    {NULL, CAPTURE_OP_NONE},
};

static const struct cap_param chat_params[] = {
    {"temperature", "temperature", CAP_P_SCALAR},
    {"top_p", "top_p", CAP_P_SCALAR},
    {"max_tokens", "max_tokens", CAP_P_SCALAR},
    {"max_completion_tokens", "max_completion_tokens", CAP_P_SCALAR},
    {"n", "n", CAP_P_SCALAR},
    {"seed", "seed", CAP_P_SCALAR},
    {"presence_penalty", "presence_penalty", CAP_P_SCALAR},
    {"frequency_penalty", "frequency_penalty", CAP_P_SCALAR},
    {"logprobs", "logprobs", CAP_P_SCALAR},
    {"top_logprobs", "top_logprobs", CAP_P_SCALAR},
    {"parallel_tool_calls", "parallel_tool_calls", CAP_P_SCALAR},
    {"reasoning_effort", "reasoning_effort", CAP_P_SCALAR},
    {"verbosity", "verbosity", CAP_P_SCALAR},
    {"service_tier", "service_tier", CAP_P_SCALAR},
    {"store", "store", CAP_P_SCALAR},
    {"stop", "stop", CAP_P_STOP},
    {"tools", "tools", CAP_P_TOOLS},
    {"functions", "tools", CAP_P_TOOLS}, /* legacy */
    {"tool_choice", "tool_choice", CAP_P_TOOL_CHOICE},
    {"function_call", "tool_choice", CAP_P_TOOL_CHOICE}, /* legacy */
    {"response_format", "response_format", CAP_P_TYPE},
    {NULL, NULL, CAP_P_SCALAR},
};

static const struct cap_param completion_params[] = {
    {"temperature", "temperature", CAP_P_SCALAR},
    {"top_p", "top_p", CAP_P_SCALAR},
    {"max_tokens", "max_tokens", CAP_P_SCALAR},
    {"n", "n", CAP_P_SCALAR},
    {"best_of", "best_of", CAP_P_SCALAR},
    {"seed", "seed", CAP_P_SCALAR},
    {"echo", "echo", CAP_P_SCALAR},
    {"logprobs", "logprobs", CAP_P_SCALAR},
    {"presence_penalty", "presence_penalty", CAP_P_SCALAR},
    {"frequency_penalty", "frequency_penalty", CAP_P_SCALAR},
    {"stop", "stop", CAP_P_STOP},
    {NULL, NULL, CAP_P_SCALAR},
};

static const struct cap_param embedding_params[] = {
    {"dimensions", "dimensions", CAP_P_SCALAR},
    {"encoding_format", "encoding_format", CAP_P_SCALAR},
    {NULL, NULL, CAP_P_SCALAR},
};

static const struct cap_param responses_params[] = {
    {"temperature", "temperature", CAP_P_SCALAR},
    {"top_p", "top_p", CAP_P_SCALAR},
    {"max_output_tokens", "max_output_tokens", CAP_P_SCALAR},
    {"max_tool_calls", "max_tool_calls", CAP_P_SCALAR},
    {"top_logprobs", "top_logprobs", CAP_P_SCALAR},
    {"parallel_tool_calls", "parallel_tool_calls", CAP_P_SCALAR},
    {"reasoning.effort", "reasoning_effort", CAP_P_SCALAR},
    {"reasoning.summary", "reasoning_summary", CAP_P_SCALAR},
    {"text.verbosity", "verbosity", CAP_P_SCALAR},
    {"text.format", "response_format", CAP_P_TYPE},
    {"service_tier", "service_tier", CAP_P_SCALAR},
    {"store", "store", CAP_P_SCALAR},
    {"background", "background", CAP_P_SCALAR},
    {"truncation", "truncation", CAP_P_SCALAR},
    {"tools", "tools", CAP_P_TOOLS},
    {"tool_choice", "tool_choice", CAP_P_TOOL_CHOICE},
    {NULL, NULL, CAP_P_SCALAR},
};

static bool eq(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

/* Roles whose text may carry delimited context passages. */
static bool prompt_role(const char *role)
{
    return eq(role, "system") || eq(role, "developer") || eq(role, "user");
}

static const char *part_type(const char *t)
{
    if (!t)
        return "unknown";
    if (eq(t, "text") || eq(t, "input_text") || eq(t, "output_text"))
        return "text";
    if (eq(t, "image_url") || eq(t, "input_image") || eq(t, "image"))
        return "image";
    if (eq(t, "input_audio") || eq(t, "audio"))
        return "audio";
    if (eq(t, "file") || eq(t, "input_file"))
        return "file";
    return t;
}

/* A message's content: a string, or parts (text kept; images, audio and files
 * recorded by type only — their bytes are not text). */
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
    cJSON *parts = cJSON_AddArrayToObject(msg, "content");
    if (!parts) {
        c->oom = true;
        return;
    }
    const cJSON *p;
    int k = 0;
    cJSON_ArrayForEach(p, v)
    {
        const char *type = cJSON_IsString(p) ? "text" : cap_str(p, "type");
        const char *text = cJSON_IsString(p) ? p->valuestring : cap_str(p, "text");
        if (eq(type, "refusal"))
            text = cap_str(p, "refusal");
        if (!cJSON_IsString(p) && !cJSON_IsObject(p))
            continue;
        if (k++ >= CAP_MAX_PARTS) {
            c->truncated = true;
            break;
        }
        cJSON *out = cJSON_CreateObject();
        if (!out) {
            c->oom = true;
            return;
        }
        cJSON_AddItemToArray(parts, out);
        cap_add_short(c, out, "type", part_type(type));
        if (text) {
            size_t n = strlen(text);
            cap_text(c, out, "text", text, n, CAP_PROMPT);
            if (passages && eq(part_type(type), "text"))
                cap_scan_passages(c, text, n);
        }
    }
}

static void chat_request(struct capture *c, const cJSON *body)
{
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
        if (!out)
            continue;
        content(c, out, cap_get(m, "content"), prompt_role(role));
        const char *refusal = cap_str(m, "refusal");
        if (refusal && !cap_get(out, "content"))
            cap_text(c, out, "content", refusal, strlen(refusal), CAP_PROMPT);
        const cJSON *tcs = cap_get(m, "tool_calls");
        const cJSON *fc = cap_get(m, "function_call");
        if (cJSON_IsArray(tcs) || cJSON_IsObject(fc)) {
            cJSON *calls = cJSON_AddArrayToObject(out, "tool_calls");
            if (!calls) {
                c->oom = true;
                continue;
            }
            const cJSON *t;
            cJSON_ArrayForEach(t, cap_array(tcs))
            {
                const cJSON *f = cap_get(t, "function");
                const char *args = cap_str(f, "arguments");
                cap_request_tool_call(c, calls, cap_str(t, "id"), cap_str(f, "name"), args,
                                      args ? strlen(args) : 0);
            }
            if (cJSON_IsObject(fc)) {
                const char *args = cap_str(fc, "arguments");
                cap_request_tool_call(c, calls, NULL, cap_str(fc, "name"), args,
                                      args ? strlen(args) : 0);
            }
        }
        if (eq(role, "tool")) {
            const char *id = cap_str(m, "tool_call_id");
            cap_add_short(c, out, "tool_call_id", id);
            cap_tool_context(c, id, cap_get(m, "content"));
        } else if (eq(role, "function")) {
            const char *name = cap_str(m, "name");
            cap_add_short(c, out, "name", name);
            cap_tool_context(c, name, cap_get(m, "content"));
        }
    }
    cap_params(c, body, chat_params);
}

static void completion_request(struct capture *c, const cJSON *body)
{
    const cJSON *prompt = cap_get(body, "prompt");
    if (cJSON_IsString(prompt)) {
        cJSON *m = cap_message(c, "user");
        if (m)
            content(c, m, prompt, true);
    } else if (cJSON_IsArray(prompt)) {
        int total = cJSON_GetArraySize(prompt), i = -1;
        const cJSON *p;
        cJSON_ArrayForEach(p, prompt)
        {
            i++;
            if (!cJSON_IsString(p) || !cap_keep_message(c, i, total))
                continue; /* token arrays are not captured */
            cJSON *m = cap_message(c, "user");
            if (m)
                content(c, m, p, true);
        }
    }
    cap_params(c, body, completion_params);
}

static void responses_request(struct capture *c, const cJSON *body)
{
    const cJSON *instr = cap_get(body, "instructions");
    if (cJSON_IsString(instr)) {
        cJSON *m = cap_message(c, "system");
        if (m)
            content(c, m, instr, true);
    }
    const cJSON *input = cap_get(body, "input");
    if (cJSON_IsString(input)) {
        cJSON *m = cap_message(c, "user");
        if (m)
            content(c, m, input, true);
    }
    int total = cJSON_GetArraySize(input), i = -1;
    const cJSON *it;
    cJSON_ArrayForEach(it, cap_array(input))
    {
        i++;
        if (!cJSON_IsObject(it) || !cap_keep_message(c, i, total))
            continue;
        const char *type = cap_str(it, "type");
        const char *role = cap_str(it, "role");
        if (role && (!type || eq(type, "message"))) {
            cJSON *m = cap_message(c, role);
            if (m)
                content(c, m, cap_get(it, "content"), prompt_role(role));
        } else if (eq(type, "function_call")) {
            cJSON *m = cap_message(c, "assistant");
            cJSON *calls = m ? cJSON_AddArrayToObject(m, "tool_calls") : NULL;
            const char *args = cap_str(it, "arguments");
            if (calls)
                cap_request_tool_call(c, calls, cap_str(it, "call_id"), cap_str(it, "name"), args,
                                      args ? strlen(args) : 0);
        } else if (eq(type, "function_call_output")) {
            const char *id = cap_str(it, "call_id");
            cJSON *m = cap_message(c, "tool");
            if (m) {
                content(c, m, cap_get(it, "output"), false);
                cap_add_short(c, m, "tool_call_id", id);
            }
            cap_tool_context(c, id, cap_get(it, "output"));
        }
        /* reasoning items, built-in tool calls and item references: not captured */
    }
    cap_params(c, body, responses_params);
}

static void openai_request(struct capture *c, const cJSON *body)
{
    switch (c->op) {
    case CAPTURE_OP_CHAT:
    case CAPTURE_OP_MESSAGES: chat_request(c, body); break;
    case CAPTURE_OP_COMPLETION: completion_request(c, body); break;
    case CAPTURE_OP_EMBEDDINGS:
        cap_input(c, cap_get(body, "input"));
        cap_params(c, body, embedding_params);
        break;
    case CAPTURE_OP_RESPONSES: responses_request(c, body); break;
    case CAPTURE_OP_NONE: break;
    }
    if ((c->op == CAPTURE_OP_CHAT || c->op == CAPTURE_OP_COMPLETION) && c->stream &&
        !c->include_usage)
        c->req_keep = true;
}

/* ------------------------------------------------------------------------ */
/* responses                                                                */

static void openai_usage(struct capture *c, const cJSON *u)
{
    /* chat, completions, embeddings */
    cap_usage_field(u, "prompt_tokens", &c->u.input);
    cap_usage_field(u, "completion_tokens", &c->u.output);
    cap_usage_field(cap_get(u, "prompt_tokens_details"), "cached_tokens", &c->u.cached);
    cap_usage_field(cap_get(u, "completion_tokens_details"), "reasoning_tokens", &c->u.reasoning);
    /* Responses API */
    cap_usage_field(u, "input_tokens", &c->u.input);
    cap_usage_field(u, "output_tokens", &c->u.output);
    cap_usage_field(cap_get(u, "input_tokens_details"), "cached_tokens", &c->u.cached);
    cap_usage_field(cap_get(u, "output_tokens_details"), "reasoning_tokens", &c->u.reasoning);
}

/* The choice with index 0 (a choice without an index counts as 0). */
static const cJSON *choice0(const cJSON *choices)
{
    const cJSON *ch;
    cJSON_ArrayForEach(ch, cap_array(choices))
    {
        const cJSON *idx = cap_get(ch, "index");
        if (!idx || (cJSON_IsNumber(idx) && idx->valuedouble == 0))
            return ch;
    }
    return NULL;
}

static void text_of(struct capture *c, const cJSON *v, bool stream)
{
    if (!cJSON_IsString(v))
        return;
    size_t n = strlen(v->valuestring);
    if (stream && n)
        cap_first_content(c);
    cap_text_append(c, v->valuestring, n);
}

static void chat_message(struct capture *c, const cJSON *msg)
{
    const cJSON *text = cap_get(msg, "content");
    text_of(c, text, false);
    if (!cJSON_IsString(text))
        text_of(c, cap_get(msg, "refusal"), false);
    const cJSON *t;
    int i = 0;
    cJSON_ArrayForEach(t, cap_array(cap_get(msg, "tool_calls")))
    {
        struct cap_call *k = cap_call(c, i++);
        if (!k)
            break;
        const cJSON *f = cap_get(t, "function");
        cap_call_set(&k->id, cap_str(t, "id"));
        cap_call_set(&k->name, cap_str(f, "name"));
        const char *args = cap_str(f, "arguments");
        if (args)
            cap_call_args(c, k, args, strlen(args));
    }
    const cJSON *fc = cap_get(msg, "function_call");
    if (cJSON_IsObject(fc)) {
        struct cap_call *k = cap_call(c, i);
        if (k) {
            cap_call_set(&k->name, cap_str(fc, "name"));
            const char *args = cap_str(fc, "arguments");
            if (args)
                cap_call_args(c, k, args, strlen(args));
        }
    }
}

/* Responses API: the output items of a response object. */
static void responses_output(struct capture *c, const cJSON *output)
{
    const cJSON *it;
    int idx = -1;
    cJSON_ArrayForEach(it, cap_array(output))
    {
        idx++;
        const char *type = cap_str(it, "type");
        if (eq(type, "message")) {
            const cJSON *p;
            cJSON_ArrayForEach(p, cap_array(cap_get(it, "content")))
            {
                const char *pt = cap_str(p, "type");
                if (eq(pt, "output_text"))
                    text_of(c, cap_get(p, "text"), false);
                else if (eq(pt, "refusal"))
                    text_of(c, cap_get(p, "refusal"), false);
            }
        } else if (eq(type, "function_call")) {
            struct cap_call *k = cap_call(c, idx);
            if (!k)
                continue;
            cap_call_set(&k->id, cap_str(it, "call_id"));
            cap_call_set(&k->name, cap_str(it, "name"));
            const char *args = cap_str(it, "arguments");
            if (args && k->args.len == 0)
                cap_call_args(c, k, args, strlen(args));
        }
    }
}

/* Responses API: a whole response object (the non-streamed body, or the one
 * that response.completed / incomplete / failed carries). */
static void responses_final(struct capture *c, const cJSON *r, bool streamed)
{
    if (!cJSON_IsObject(r))
        return;
    cap_set_response_model(c, cap_str(r, "model"));
    const cJSON *u = cap_get(r, "usage");
    if (cJSON_IsObject(u))
        openai_usage(c, u);
    if (!streamed || (!c->has_text && c->ncalls == 0))
        responses_output(c, cap_get(r, "output"));
    const char *status = cap_str(r, "status");
    if (eq(status, "completed")) {
        cap_set_finish(c, c->ncalls ? "tool_calls" : "stop");
    } else if (eq(status, "incomplete")) {
        const char *why = cap_str(cap_get(r, "incomplete_details"), "reason");
        cap_set_finish(c, why ? why : "incomplete");
    } else if (eq(status, "failed")) {
        cap_error_from(c, r);
        cap_set_finish(c, "error");
    } else if (status) {
        cap_set_finish(c, status);
    }
}

static void openai_response(struct capture *c, const cJSON *body)
{
    if (cJSON_IsObject(cap_get(body, "error")) && !cap_get(body, "choices") &&
        !cap_get(body, "output") && !cap_get(body, "data")) {
        cap_error_from(c, body);
        return;
    }
    if (c->op == CAPTURE_OP_RESPONSES) {
        responses_final(c, body, false);
        return;
    }
    cap_set_response_model(c, cap_str(body, "model"));
    const cJSON *u = cap_get(body, "usage");
    if (cJSON_IsObject(u))
        openai_usage(c, u);
    if (c->op == CAPTURE_OP_EMBEDDINGS) {
        cap_embeddings(c, cap_get(body, "data"));
        return;
    }
    const cJSON *ch = choice0(cap_get(body, "choices"));
    if (!ch)
        return;
    if (c->op == CAPTURE_OP_COMPLETION)
        text_of(c, cap_get(ch, "text"), false);
    else
        chat_message(c, cap_get(ch, "message"));
    cap_set_finish(c, cap_str(ch, "finish_reason"));
}

/* One chunk of a streamed chat completion or completion. */
static void chat_chunk(struct capture *c, const cJSON *d)
{
    cap_set_response_model(c, cap_str(d, "model"));
    if (cJSON_IsObject(cap_get(d, "error")) || cJSON_IsString(cap_get(d, "error")))
        cap_error_from(c, d);
    const cJSON *u = cap_get(d, "usage");
    if (cJSON_IsObject(u))
        openai_usage(c, u);
    const cJSON *ch = choice0(cap_get(d, "choices"));
    if (!ch)
        return;
    if (c->op == CAPTURE_OP_COMPLETION) {
        text_of(c, cap_get(ch, "text"), true);
    } else {
        const cJSON *delta = cap_get(ch, "delta");
        text_of(c, cap_get(delta, "content"), true);
        text_of(c, cap_get(delta, "refusal"), true);
        const char *reasoning = cap_str(delta, "reasoning_content");
        if (reasoning && *reasoning)
            cap_first_content(c); /* reasoning is output too, though not captured as text */
        const cJSON *t;
        int pos = 0;
        cJSON_ArrayForEach(t, cap_array(cap_get(delta, "tool_calls")))
        {
            int64_t key = pos++;
            const cJSON *idx = cap_get(t, "index");
            if (cJSON_IsNumber(idx))
                key = (int64_t)idx->valuedouble;
            cap_first_content(c);
            struct cap_call *k = cap_call(c, key);
            if (!k)
                continue;
            const cJSON *f = cap_get(t, "function");
            cap_call_set(&k->id, cap_str(t, "id"));
            cap_call_set(&k->name, cap_str(f, "name"));
            const char *args = cap_str(f, "arguments");
            if (args)
                cap_call_args(c, k, args, strlen(args));
        }
        const cJSON *fc = cap_get(delta, "function_call");
        if (cJSON_IsObject(fc)) {
            cap_first_content(c);
            struct cap_call *k = cap_call(c, 0);
            if (k) {
                cap_call_set(&k->name, cap_str(fc, "name"));
                const char *args = cap_str(fc, "arguments");
                if (args)
                    cap_call_args(c, k, args, strlen(args));
            }
        }
    }
    cap_set_finish(c, cap_str(ch, "finish_reason"));
}

/* One event of a streamed Responses API call. */
static void responses_event(struct capture *c, const struct sse_event *ev, const cJSON *d)
{
    const char *type = cap_str(d, "type");
    if (!type)
        type = ev->type;
    int64_t idx = -1;
    const cJSON *oi = cap_get(d, "output_index");
    if (cJSON_IsNumber(oi))
        idx = (int64_t)oi->valuedouble;

    if (eq(type, "response.output_text.delta") || eq(type, "response.refusal.delta")) {
        text_of(c, cap_get(d, "delta"), true);
    } else if (eq(type, "response.reasoning_summary_text.delta") ||
               eq(type, "response.reasoning_text.delta")) {
        const char *s = cap_str(d, "delta");
        if (s && *s)
            cap_first_content(c);
    } else if (eq(type, "response.output_item.added") || eq(type, "response.output_item.done")) {
        const cJSON *it = cap_get(d, "item");
        if (!eq(cap_str(it, "type"), "function_call"))
            return;
        cap_first_content(c);
        struct cap_call *k = cap_call(c, idx);
        if (!k)
            return;
        cap_call_set(&k->id, cap_str(it, "call_id"));
        cap_call_set(&k->name, cap_str(it, "name"));
        const char *args = cap_str(it, "arguments");
        if (args && k->args.len == 0)
            cap_call_args(c, k, args, strlen(args));
    } else if (eq(type, "response.function_call_arguments.delta")) {
        cap_first_content(c);
        const char *s = cap_str(d, "delta");
        if (s)
            cap_call_args(c, cap_call(c, idx), s, strlen(s));
    } else if (eq(type, "response.function_call_arguments.done")) {
        struct cap_call *k = cap_call(c, idx);
        const char *args = cap_str(d, "arguments");
        if (k && args && k->args.len == 0)
            cap_call_args(c, k, args, strlen(args));
    } else if (eq(type, "response.created") || eq(type, "response.in_progress")) {
        cap_set_response_model(c, cap_str(cap_get(d, "response"), "model"));
    } else if (eq(type, "response.completed") || eq(type, "response.incomplete") ||
               eq(type, "response.failed")) {
        responses_final(c, cap_get(d, "response"), true);
    } else if (eq(type, "error")) {
        if (!cap_error_from(c, d))
            cap_set_error(c, "error", NULL);
        cap_set_finish(c, "error");
    }
}

static void openai_event(struct capture *c, const struct sse_event *ev, const cJSON *d)
{
    if (!cJSON_IsObject(d)) {
        if (ev->type_len == 5 && memcmp(ev->type, "error", 5) == 0) {
            cap_set_error(c, "error", ev->data);
            cap_set_finish(c, "error");
        }
        return; /* "[DONE]", keep-alives, garbage */
    }
    if (c->op == CAPTURE_OP_RESPONSES)
        responses_event(c, ev, d);
    else
        chat_chunk(c, d);
}

/* ------------------------------------------------------------------------ */
/* include_usage                                                            */

/* Whitespace as cJSON skips it (any byte up to the space), so that the scan
 * below sees the same members cJSON did. */
static bool ws(char ch)
{
    return (unsigned char)ch <= ' ';
}

static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && ws(*p))
        p++;
    return p;
}

static const char *skip_string(const char *p, const char *e)
{
    for (p++; p < e; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* Past the JSON value at p (the text is known to parse). NULL when it runs off. */
static const char *skip_value(const char *p, const char *e)
{
    if (p >= e)
        return NULL;
    if (*p == '"')
        return skip_string(p, e);
    if (*p == '{' || *p == '[') {
        size_t depth = 0;
        while (p < e) {
            if (*p == '"') {
                p = skip_string(p, e);
                if (!p)
                    return NULL;
                continue;
            }
            if (*p == '{' || *p == '[')
                depth++;
            else if ((*p == '}' || *p == ']') && --depth == 0)
                return p + 1;
            p++;
        }
        return NULL;
    }
    while (p < e && !ws(*p) && *p != ',' && *p != '}' && *p != ']')
        p++;
    return p;
}

/* In the object at p ('{'), the value span of the last member named `key`
 * (JSON parsers keep the last of duplicate names). *empty: the object has no
 * members. False when absent (or the text does not scan). */
static bool find_member(const char *p, const char *e, const char *key, const char **vs,
                        const char **ve, bool *empty)
{
    size_t kl = strlen(key);
    bool found = false;
    p = skip_ws(p + 1, e);
    *empty = p < e && *p == '}';
    while (p < e && *p == '"') {
        const char *ks = p + 1, *kend = skip_string(p, e);
        if (!kend)
            return false;
        p = skip_ws(kend, e);
        if (p >= e || *p != ':')
            return false;
        p = skip_ws(p + 1, e);
        const char *v = p;
        p = skip_value(p, e);
        if (!p)
            return false;
        if ((size_t)(kend - 1 - ks) == kl && memcmp(ks, key, kl) == 0) {
            *vs = v;
            *ve = p;
            found = true;
        }
        p = skip_ws(p, e);
        if (p < e && *p == ',')
            p = skip_ws(p + 1, e);
        else
            break;
    }
    return found;
}

static char *openai_usage_rewrite(const struct capture *c, size_t *out_len)
{
    const char *b = c->req_body, *e = b + c->req_len;
    const char *o = skip_ws(b, e);
    if (o >= e || *o != '{')
        return NULL;
    const char *vs = NULL, *ve = NULL, *at, *resume;
    const char *insert;
    bool empty = false;
    if (!find_member(o, e, "stream_options", &vs, &ve, &empty)) {
        at = resume = o + 1;
        insert = empty ? "\"stream_options\":{\"include_usage\":true}"
                       : "\"stream_options\":{\"include_usage\":true},";
    } else if (ve - vs == 4 && memcmp(vs, "null", 4) == 0) {
        at = vs;
        resume = ve;
        insert = "{\"include_usage\":true}";
    } else if (*vs == '{') {
        const char *is = NULL, *ie = NULL;
        bool empty2 = false;
        if (find_member(vs, ve, "include_usage", &is, &ie, &empty2)) {
            at = is;
            resume = ie;
            insert = "true";
        } else {
            at = resume = vs + 1;
            insert = empty2 ? "\"include_usage\":true" : "\"include_usage\":true,";
        }
    } else {
        return NULL; /* stream_options of the wrong type: the upstream will say so */
    }
    size_t il = strlen(insert);
    size_t n = (size_t)(at - b) + il + (size_t)(e - resume);
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    memcpy(out, b, (size_t)(at - b));
    memcpy(out + (at - b), insert, il);
    memcpy(out + (at - b) + il, resume, (size_t)(e - resume));
    out[n] = 0;
    if (out_len)
        *out_len = n;
    return out;
}

bool capture_is_usage_chunk(const char *data, size_t len)
{
    if (!data)
        return false;
    /* Cheap test first: some `"usage"` member whose value is an object. */
    bool maybe = false;
    const char *p = data, *e = data + len;
    while (!maybe && p < e) {
        const char *u = memmem(p, (size_t)(e - p), "\"usage\"", 7);
        if (!u)
            break;
        const char *q = skip_ws(u + 7, e);
        if (q < e && *q == ':') {
            q = skip_ws(q + 1, e);
            maybe = q < e && *q == '{';
        }
        p = u + 7;
    }
    if (!maybe)
        return false;
    cJSON *d = cJSON_ParseWithLength(data, len);
    const cJSON *ch = cap_get(d, "choices");
    bool yes = cJSON_IsObject(d) && cJSON_IsArray(ch) && cJSON_GetArraySize(ch) == 0 &&
               cJSON_IsObject(cap_get(d, "usage"));
    cJSON_Delete(d);
    return yes;
}

const struct capture_provider capture_openai = {
    .name = "openai",
    .routes = routes,
    .request = openai_request,
    .response = openai_response,
    .event = openai_event,
    .usage = openai_usage,
    .usage_rewrite = openai_usage_rewrite,
};
