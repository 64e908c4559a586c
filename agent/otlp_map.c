/*
 * otlp_map.c — OpenTelemetry GenAI spans and log records (decoded by
 * otlp.c) to llmtap.event/1 objects, retrieval spans' documents, and the
 * text cap on OTLP events (see otlp_map.h).
 *
 * DESIGN
 * - Mapping reads three attribute families: current OTel GenAI semconv
 *   (gen_ai.*), OpenLLMetry's indexed gen_ai.prompt.N.* / gen_ai.completion.N.*,
 *   and OpenInference (llm.*, retrieval.documents.N.*). docs/otlp.md has the
 *   table and the usage-token decision.
 * - A GenAI inference log record (gen_ai.client.inference.operation.details)
 *   carries the same gen_ai.* attributes as the span of the call, so it goes
 *   through otlp_map_span unchanged; only its error rule differs (a record
 *   has no status).
 * - Retrieval spans are never events; otlp_retrieval_docs reads their
 *   documents with the same code that reads documents on an LLM span
 *   (context_docs), and otlp_join.c attaches them.
 * - The text cap reuses the proxy's sharing (cap_text_fair_shares and
 *   cap_text_utf8_cut from capture_text.c) on the event's string nodes, so an
 *   OTLP event is cut exactly as a proxied call with the same texts would be.
 *   It includes capture_text.h for those two pure functions only; nothing
 *   here touches a struct capture.
 * - No global state; nothing here logs.
 */
#include "otlp_map.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "capture_text.h"
#include "event.h"
#include "timeutil.h"
#include "utf8.h"

static const char *astr(const cJSON *attrs, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(attrs, key);
    return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

/* A numeric attribute (a number, or a string that is one); NaN when absent. */
static double anum(const cJSON *attrs, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(attrs, key);
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    if (cJSON_IsString(v) && *v->valuestring) {
        char *end;
        double d = strtod(v->valuestring, &end);
        if (*end == 0 && isfinite(d))
            return d;
    }
    return NAN;
}

static double atok(const cJSON *attrs, const char *key)
{
    double d = anum(attrs, key);
    return isfinite(d) && d >= 0 && d <= 9007199254740992.0 ? floor(d) : -1;
}

static const char *first_str(const cJSON *attrs, const char *const *keys)
{
    for (; *keys; keys++) {
        const char *s = astr(attrs, *keys);
        if (s)
            return s;
    }
    return NULL;
}

static bool add_str(cJSON *o, const char *k, const char *v)
{
    return !v || cJSON_AddStringToObject(o, k, v) != NULL;
}

/* An identifier field, cut to the validator's limit (max bytes, at a UTF-8
 * boundary) so that an over-long value does not cost the whole event. */
static bool add_ident(cJSON *o, const char *k, const char *v, size_t max)
{
    if (!v || strlen(v) <= max)
        return add_str(o, k, v);
    char cut[257];
    size_t n = max < sizeof cut - 1 ? max : sizeof cut - 1;
    memcpy(cut, v, n);
    cut[n] = 0;
    utf8_trim_tail(cut);
    return add_str(o, k, cut);
}

/* The concatenated text of the "text" parts of a semconv message (and its
 * "content" string when it has one), or a copy of the non-text parts. */
static cJSON *parts_content(const cJSON *msg)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(msg, "content");
    if (cJSON_IsString(c))
        return cJSON_CreateString(c->valuestring);
    const cJSON *parts = cJSON_GetObjectItemCaseSensitive(msg, "parts");
    if (!cJSON_IsArray(parts))
        parts = cJSON_IsArray(msg) ? msg : NULL; /* system_instructions: an array of parts */
    struct buf b = {0};
    bool only_text = true, any = false;
    const cJSON *p;
    cJSON_ArrayForEach(p, parts)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");
        const cJSON *txt = cJSON_GetObjectItemCaseSensitive(p, "content");
        if (cJSON_IsString(type) && !strcmp(type->valuestring, "text") && cJSON_IsString(txt)) {
            if (any)
                buf_puts(&b, "\n");
            buf_puts(&b, txt->valuestring);
            any = true;
        } else if (cJSON_IsObject(p)) {
            only_text = false;
        }
    }
    if (!only_text) {
        buf_free(&b);
        cJSON *arr = cJSON_CreateArray();
        cJSON_ArrayForEach(p, parts) if (cJSON_IsObject(p))
            cJSON_AddItemToArray(arr, cJSON_Duplicate(p, true));
        return arr;
    }
    cJSON *s = cJSON_CreateString(b.p ? b.p : "");
    buf_free(&b);
    return s;
}

static bool push_msg(cJSON *msgs, const char *role, cJSON *content)
{
    cJSON *m = cJSON_CreateObject();
    if (!m || !content || !add_ident(m, "role", role, 64) ||
        !cJSON_AddItemToObject(m, "content", content)) {
        cJSON_Delete(m);
        cJSON_Delete(content);
        return false;
    }
    return cJSON_AddItemToArray(msgs, m);
}

/* A semconv messages attribute: a JSON string (or, when the producer sent
 * it structured, an array already). */
static cJSON *parse_json_attr(const cJSON *attrs, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(attrs, key);
    if (cJSON_IsString(v))
        return cJSON_Parse(v->valuestring);
    if (cJSON_IsArray(v) || cJSON_IsObject(v))
        return cJSON_Duplicate(v, true);
    return NULL;
}

/* Indexed messages: <prefix>N<role_sfx> / <prefix>N<content_sfx>, N = 0, 1, ... */
static int indexed_msgs(const cJSON *attrs, cJSON *msgs, const char *prefix, const char *role_sfx,
                        const char *content_sfx, const char *default_role)
{
    char k[160];
    int n = 0;
    for (int i = 0; i < OTLP_MAX_ATTRS_DEFAULT; i++) {
        snprintf(k, sizeof k, "%s%d%s", prefix, i, role_sfx);
        const char *role = astr(attrs, k);
        snprintf(k, sizeof k, "%s%d%s", prefix, i, content_sfx);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(attrs, k);
        if (!role && !c)
            break;
        push_msg(msgs, role ? role : default_role,
                 cJSON_CreateString(cJSON_IsString(c) ? c->valuestring : ""));
        n++;
    }
    return n;
}

static void map_messages(const cJSON *a, cJSON *ev, cJSON *response)
{
    cJSON *msgs = cJSON_CreateArray();
    if (!msgs)
        return;
    /* semconv: system instructions, then input messages */
    const cJSON *sys_raw = cJSON_GetObjectItemCaseSensitive(a, "gen_ai.system_instructions");
    cJSON *sys = parse_json_attr(a, "gen_ai.system_instructions");
    if (sys && (cJSON_IsArray(sys) || cJSON_IsObject(sys)))
        push_msg(msgs, "system", parts_content(sys));
    else if (cJSON_IsString(sys_raw) && *sys_raw->valuestring)
        push_msg(msgs, "system", cJSON_CreateString(sys_raw->valuestring));
    cJSON_Delete(sys);
    const cJSON *in_raw = cJSON_GetObjectItemCaseSensitive(a, "gen_ai.input.messages");
    cJSON *in = parse_json_attr(a, "gen_ai.input.messages");
    if (cJSON_IsArray(in)) {
        const cJSON *m;
        cJSON_ArrayForEach(m, in)
        {
            const char *role = astr(m, "role");
            push_msg(msgs, role ? role : "user", parts_content(m));
        }
    } else if (cJSON_IsString(in_raw) && *in_raw->valuestring) {
        push_msg(msgs, "user", cJSON_CreateString(in_raw->valuestring));
    }
    cJSON_Delete(in);
    /* OpenLLMetry, then OpenInference */
    if (!cJSON_GetArraySize(msgs))
        indexed_msgs(a, msgs, "gen_ai.prompt.", ".role", ".content", "user");
    if (!cJSON_GetArraySize(msgs))
        indexed_msgs(a, msgs, "llm.input_messages.", ".message.role", ".message.content", "user");
    if (cJSON_GetArraySize(msgs)) {
        cJSON *req = cJSON_GetObjectItemCaseSensitive(ev, "request");
        if (!req)
            req = cJSON_AddObjectToObject(ev, "request");
        if (req && cJSON_AddItemToObject(req, "messages", msgs))
            msgs = NULL;
    }
    cJSON_Delete(msgs);

    /* output: the first message's text (tool calls kept apart) */
    struct buf text = {0};
    cJSON *tool_calls = cJSON_CreateArray();
    const char *finish = NULL;
    cJSON *outm = parse_json_attr(a, "gen_ai.output.messages");
    const cJSON *out_raw = cJSON_GetObjectItemCaseSensitive(a, "gen_ai.output.messages");
    const cJSON *first = cJSON_IsArray(outm) ? cJSON_GetArrayItem(outm, 0) : NULL;
    if (first) {
        finish = astr(first, "finish_reason");
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(first, "parts"))
        {
            const char *type = astr(p, "type");
            if (type && !strcmp(type, "text") && astr(p, "content")) {
                if (text.len)
                    buf_puts(&text, "\n");
                buf_puts(&text, astr(p, "content"));
            } else if (type && !strcmp(type, "tool_call") && tool_calls) {
                cJSON *tc = cJSON_CreateObject();
                const cJSON *args = cJSON_GetObjectItemCaseSensitive(p, "arguments");
                char *astr_ = cJSON_IsString(args) ? NULL
                              : args               ? cJSON_PrintUnformatted(args)
                                                   : NULL;
                if (tc) {
                    add_str(tc, "id", astr(p, "id"));
                    add_str(tc, "name", astr(p, "name"));
                    add_str(tc, "arguments", cJSON_IsString(args) ? args->valuestring : astr_);
                    cJSON_AddItemToArray(tool_calls, tc);
                }
                free(astr_);
            }
        }
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(first, "content");
        if (!text.len && cJSON_IsString(c))
            buf_puts(&text, c->valuestring);
    } else if (!outm && cJSON_IsString(out_raw) && *out_raw->valuestring) {
        buf_puts(&text, out_raw->valuestring);
    }
    if (!first && !text.len) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(a, "gen_ai.completion.0.content");
        if (cJSON_IsString(c))
            buf_puts(&text, c->valuestring);
        else if ((c = cJSON_GetObjectItemCaseSensitive(a,
                                                       "llm.output_messages.0.message.content")) &&
                 cJSON_IsString(c))
            buf_puts(&text, c->valuestring);
        if (!finish)
            finish = astr(a, "gen_ai.completion.0.finish_reason");
    }
    /* gen_ai.response.finish_reasons wins over a message's own */
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(a, "gen_ai.response.finish_reasons");
    if (cJSON_IsArray(fr) && cJSON_IsString(cJSON_GetArrayItem(fr, 0)))
        finish = cJSON_GetArrayItem(fr, 0)->valuestring;
    else if (cJSON_IsString(fr) && *fr->valuestring)
        finish = fr->valuestring;
    if (text.len)
        add_str(response, "text", text.p);
    if (finish && *finish)
        add_ident(response, "finish_reason", finish, 64);
    if (tool_calls && cJSON_GetArraySize(tool_calls)) {
        cJSON_AddItemToObject(response, "tool_calls", tool_calls);
        tool_calls = NULL;
    }
    cJSON_Delete(tool_calls);
    cJSON_Delete(outm);
    buf_free(&text);
}

static void add_doc(cJSON *ctx, const cJSON *id, const cJSON *text, double score,
                    const char *source)
{
    cJSON *d = cJSON_CreateObject();
    if (!d)
        return;
    char num[32];
    if (cJSON_IsString(id))
        add_str(d, "id", id->valuestring);
    else if (cJSON_IsNumber(id)) {
        snprintf(num, sizeof num, "%.17g", id->valuedouble);
        add_str(d, "id", num);
    }
    if (source)
        add_str(d, "source", source);
    if (isfinite(score))
        cJSON_AddNumberToObject(d, "score", score);
    if (cJSON_IsString(text))
        add_str(d, "text", text->valuestring);
    cJSON_AddItemToArray(ctx, d);
}

/* The documents on a span (semconv gen_ai.retrieval.documents, then
 * OpenInference retrieval.documents.N.document.*), as event context items;
 * NULL on allocation failure. */
static cJSON *context_docs(const cJSON *a)
{
    cJSON *ctx = cJSON_CreateArray();
    if (!ctx)
        return NULL;
    cJSON *docs = parse_json_attr(a, "gen_ai.retrieval.documents");
    const cJSON *d;
    cJSON_ArrayForEach(d, (cJSON_IsArray(docs) ? docs : NULL))
    {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(d, "content");
        if (!text)
            text = cJSON_GetObjectItemCaseSensitive(d, "text");
        const cJSON *sc = cJSON_GetObjectItemCaseSensitive(d, "score");
        add_doc(ctx, cJSON_GetObjectItemCaseSensitive(d, "id"), text,
                cJSON_IsNumber(sc) ? sc->valuedouble : NAN, astr(d, "source"));
    }
    cJSON_Delete(docs);
    char k[96];
    for (int i = 0; i < OTLP_MAX_ATTRS_DEFAULT; i++) {
        snprintf(k, sizeof k, "retrieval.documents.%d.document.id", i);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, k);
        snprintf(k, sizeof k, "retrieval.documents.%d.document.content", i);
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(a, k);
        if (!id && !text)
            break;
        snprintf(k, sizeof k, "retrieval.documents.%d.document.score", i);
        double score = anum(a, k);
        snprintf(k, sizeof k, "retrieval.documents.%d.document.metadata", i);
        cJSON *meta = parse_json_attr(a, k);
        add_doc(ctx, id, text, score, astr(meta, "source"));
        cJSON_Delete(meta);
    }
    return ctx;
}

static void map_context(const cJSON *a, cJSON *ev)
{
    cJSON *ctx = context_docs(a);
    if (cJSON_GetArraySize(ctx))
        cJSON_AddItemToObject(ev, "context", ctx);
    else
        cJSON_Delete(ctx);
}

static bool is_anthropic(const char *provider)
{
    return provider && !strcasecmp(provider, "anthropic");
}

static void map_usage(const cJSON *a, cJSON *ev, const char *provider)
{
    double in = atok(a, "gen_ai.usage.input_tokens");
    if (in < 0)
        in = atok(a, "gen_ai.usage.prompt_tokens");
    double out = atok(a, "gen_ai.usage.output_tokens");
    if (out < 0)
        out = atok(a, "gen_ai.usage.completion_tokens");
    double cread = atok(a, "gen_ai.usage.cache_read.input_tokens");
    if (cread < 0)
        cread = atok(a, "gen_ai.usage.cache_read_input_tokens"); /* OpenLLMetry */
    double cwrite = atok(a, "gen_ai.usage.cache_creation.input_tokens");
    if (cwrite < 0)
        cwrite = atok(a, "gen_ai.usage.cache_creation_input_tokens"); /* OpenLLMetry */
    double reason = atok(a, "gen_ai.usage.reasoning.output_tokens");
    bool semconv_total = astr(a, "gen_ai.provider.name") != NULL;
    if (in >= 0 && is_anthropic(provider)) {
        /* Anthropic's own input_tokens excludes both cache counts. Current
         * semconv (gen_ai.provider.name era) says input_tokens includes them;
         * older instrumentations (gen_ai.system) copy Anthropic's number. A
         * total smaller than its parts cannot be a total either way. */
        double parts = (cread > 0 ? cread : 0) + (cwrite > 0 ? cwrite : 0);
        if (!semconv_total || in < parts)
            in += parts;
    }
    if (in < 0) { /* OpenInference: prompt counts already include the cache */
        in = atok(a, "llm.token_count.prompt");
        if (cread < 0)
            cread = atok(a, "llm.token_count.prompt_details.cache_read");
        if (cwrite < 0)
            cwrite = atok(a, "llm.token_count.prompt_details.cache_write");
    }
    if (out < 0)
        out = atok(a, "llm.token_count.completion");
    if (reason < 0)
        reason = atok(a, "llm.token_count.completion_details.reasoning");
    if (in < 0 && out < 0 && cread < 0 && cwrite < 0 && reason < 0)
        return;
    cJSON *u = cJSON_AddObjectToObject(ev, "usage");
    if (!u)
        return;
    if (in >= 0)
        cJSON_AddNumberToObject(u, "input_tokens", in);
    if (out >= 0)
        cJSON_AddNumberToObject(u, "output_tokens", out);
    if (cread >= 0)
        cJSON_AddNumberToObject(u, "cached_input_tokens", cread);
    if (cwrite >= 0)
        cJSON_AddNumberToObject(u, "cache_write_tokens", cwrite);
    if (reason >= 0)
        cJSON_AddNumberToObject(u, "reasoning_tokens", reason);
}

static void map_params(const cJSON *a, cJSON *ev)
{
    static const char *const keys[][2] = {
        {"gen_ai.request.temperature", "temperature"},
        {"gen_ai.request.top_p", "top_p"},
        {"gen_ai.request.top_k", "top_k"},
        {"gen_ai.request.max_tokens", "max_tokens"},
        {"gen_ai.request.frequency_penalty", "frequency_penalty"},
        {"gen_ai.request.presence_penalty", "presence_penalty"},
        {"gen_ai.request.seed", "seed"},
    };
    cJSON *params = NULL;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        double d = anum(a, keys[i][0]);
        if (!isfinite(d))
            continue;
        if (!params) {
            cJSON *req = cJSON_GetObjectItemCaseSensitive(ev, "request");
            if (!req && !(req = cJSON_AddObjectToObject(ev, "request")))
                return;
            if (!(params = cJSON_AddObjectToObject(req, "params")))
                return;
        }
        cJSON_AddNumberToObject(params, keys[i][1], d);
    }
}

/* The event's operation, or NULL when the span is not a model call. */
static const char *operation_of(const cJSON *a, bool has_model)
{
    const char *op = astr(a, "gen_ai.operation.name");
    if (op) {
        if (!strcmp(op, "retrieval")) /* documents for the join, not a model call */
            return NULL;
        if (!strcmp(op, "text_completion"))
            return "completion";
        if (!strcmp(op, "chat") || !strcmp(op, "embeddings") || !strcmp(op, "generate_content"))
            return op;
        return has_model ? op : NULL; /* execute_tool, invoke_agent ... without a model */
    }
    const char *oi = astr(a, "openinference.span.kind");
    if (oi && !strcasecmp(oi, "LLM"))
        return "chat";
    if (oi && !strcasecmp(oi, "EMBEDDING"))
        return "embeddings";
    if (oi) /* RETRIEVER, TOOL, CHAIN, AGENT ...: not a model call */
        return NULL;
    const char *rt = astr(a, "llm.request.type"); /* OpenLLMetry */
    if (rt && !strcmp(rt, "embedding"))
        return "embeddings";
    if (rt)
        return rt;
    return has_model ? "chat" : NULL;
}

/* A UUID (version 8, RFC 9562) from trace id + span id: a re-sent span
 * keeps its event id, so the collector deduplicates it. */
static void span_uuid(const struct otlp_span *s, char out[37])
{
    uint64_t h[2] = {0xcbf29ce484222325ull, 0x84222325cbf29ce4ull};
    for (int k = 0; k < 2; k++) {
        for (const char *p = s->trace_id; *p; p++)
            h[k] = (h[k] ^ (uint8_t)*p) * 0x100000001b3ull;
        h[k] = (h[k] ^ '/') * 0x100000001b3ull;
        for (const char *p = s->span_id; *p; p++)
            h[k] = (h[k] ^ (uint8_t)*p) * 0x100000001b3ull;
        h[k] ^= h[k] >> 29;
        h[k] *= 0xbf58476d1ce4e5b9ull;
        h[k] ^= h[k] >> 32;
    }
    h[0] = (h[0] & ~0xF000ull) | 0x8000ull;                        /* version 8 */
    h[1] = (h[1] & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull; /* variant 10 */
    snprintf(out, 37, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(h[0] >> 32),
             (unsigned)(h[0] >> 16 & 0xFFFF), (unsigned)(h[0] & 0xFFFF), (unsigned)(h[1] >> 48),
             (unsigned long long)(h[1] & 0xFFFFFFFFFFFFull));
}

/* service.name made valid for the event: [A-Za-z0-9_.:-], at most 128. */
static void service_of(const cJSON *res, char out[129])
{
    const char *s = astr(res, "service.name");
    size_t n = 0;
    for (; s && s[n] && n < 128; n++) {
        char c = s[n];
        out[n] =
            isalnum((unsigned char)c) || c == '_' || c == '.' || c == ':' || c == '-' ? c : '_';
    }
    out[n] = 0;
}

enum otlp_map_result otlp_map_span(const struct otlp_span *s, cJSON **out)
{
    *out = NULL;
    const cJSON *a = s->attrs;
    static const char *const req_model_keys[] = {"gen_ai.request.model", "llm.request.model", NULL};
    static const char *const resp_model_keys[] = {"gen_ai.response.model", "llm.response.model",
                                                  NULL};
    static const char *const provider_keys[] = {"gen_ai.provider.name", "gen_ai.system",
                                                "llm.provider", "llm.system", NULL};
    const char *req_model = first_str(a, req_model_keys);
    const char *resp_model = first_str(a, resp_model_keys);
    const char *oi_model = astr(a, "llm.model_name");
    if (!req_model)
        req_model = oi_model;
    const char *op = operation_of(a, req_model || resp_model);
    if (!op)
        return OTLP_IGNORED;
    const char *provider = first_str(a, provider_keys);

    cJSON *ev = cJSON_CreateObject();
    cJSON *response = cJSON_CreateObject();
    if (!ev || !response)
        goto nomem;
    char buf[TIMEUTIL_RFC3339_LEN > 129 ? TIMEUTIL_RFC3339_LEN : 129];
    add_str(ev, "schema", EVENT_SCHEMA_ID);
    if (s->span_id[0]) {
        char id[37];
        span_uuid(s, id);
        add_str(ev, "id", id);
    }
    if (s->start_ns) {
        timeutil_format_rfc3339((int64_t)(s->start_ns / 1000), buf);
        add_str(ev, "time", buf);
    }
    if (s->trace_id[0])
        add_str(ev, "trace_id", s->trace_id);
    if (s->span_id[0])
        add_str(ev, "span_id", s->span_id);
    if (s->parent_span_id[0])
        add_str(ev, "parent_span_id", s->parent_span_id);
    service_of(s->resource, buf);
    if (buf[0])
        add_str(ev, "service", buf);
    add_str(ev, "source", "otlp");
    add_ident(ev, "env", astr(s->resource, "deployment.environment.name"), 128);
    add_ident(ev, "provider", provider ? provider : "unknown", 128);
    add_ident(ev, "operation", op, 128);
    add_ident(ev, "request_model", req_model ? req_model : resp_model ? NULL : "unknown", 256);
    add_ident(ev, "response_model", resp_model, 256);
    const cJSON *stream = cJSON_GetObjectItemCaseSensitive(a, "gen_ai.request.stream");
    if (!stream)
        stream = cJSON_GetObjectItemCaseSensitive(a, "llm.is_streaming");
    if (cJSON_IsBool(stream))
        cJSON_AddBoolToObject(ev, "stream", cJSON_IsTrue(stream));
    map_messages(a, ev, response);
    map_params(a, ev);
    map_context(a, ev);
    if (response->child) {
        cJSON_AddItemToObject(ev, "response", response);
        response = NULL;
    }
    map_usage(a, ev, provider);
    double lat =
        s->end_ns > s->start_ns && s->start_ns ? (double)(s->end_ns - s->start_ns) / 1e6 : 0;
    cJSON_AddNumberToObject(ev, "latency_ms", lat);
    double ttft = anum(a, "gen_ai.response.time_to_first_chunk"); /* seconds */
    if (isfinite(ttft * 1000.0) && ttft >= 0)
        cJSON_AddNumberToObject(ev, "ttft_ms", ttft * 1000.0);
    double http = anum(a, "http.response.status_code");
    if (isfinite(http) && http >= 0 && http <= 999)
        cJSON_AddNumberToObject(ev, "status", floor(http));
    if (s->status_code == OTLP_STATUS_ERROR) {
        cJSON *e = cJSON_AddObjectToObject(ev, "error");
        if (e) {
            const char *type = astr(a, "error.type");
            add_str(e, "type", type ? type : "error");
            add_str(e, "message", *s->status_message ? s->status_message : s->name);
        }
    }
    static const char *const session_keys[] = {"gen_ai.conversation.id", "session.id", NULL};
    static const char *const user_keys[] = {"user.id", "enduser.id", NULL};
    add_ident(ev, "session", first_str(a, session_keys), 256);
    add_ident(ev, "user", first_str(a, user_keys), 256);
    cJSON_Delete(response);
    *out = ev;
    return OTLP_MAPPED;
nomem:
    cJSON_Delete(ev);
    cJSON_Delete(response);
    return OTLP_NOMEM;
}

/* ------------------------------------------------------------------------ */
/* log records                                                              */

enum otlp_log_kind otlp_log_kind(const struct otlp_span *rec)
{
    static const char *const per_message[] = {
        "gen_ai.system.message", "gen_ai.user.message", "gen_ai.assistant.message",
        "gen_ai.tool.message",   "gen_ai.choice",       NULL};
    const char *n = rec->event_name;
    if (!strcmp(n, OTLP_EVENT_INFERENCE_DETAILS))
        return OTLP_LOG_INFERENCE;
    for (const char *const *p = per_message; *p; p++)
        if (!strcmp(n, *p))
            return OTLP_LOG_PER_MESSAGE;
    return OTLP_LOG_OTHER;
}

enum otlp_map_result otlp_map_log(const struct otlp_span *rec, cJSON **out)
{
    *out = NULL;
    if (otlp_log_kind(rec) != OTLP_LOG_INFERENCE)
        return OTLP_IGNORED;
    struct otlp_span s = *rec;
    const char *etype = astr(rec->attrs, "error.type");
    if (etype) { /* a record has no status: error.type is the error */
        s.status_code = OTLP_STATUS_ERROR;
        s.name = (char *)etype;
    }
    return otlp_map_span(&s, out);
}

/* ------------------------------------------------------------------------ */
/* retrieval spans                                                          */

bool otlp_retrieval_docs(const struct otlp_span *s, cJSON **docs)
{
    *docs = NULL;
    const char *op = astr(s->attrs, "gen_ai.operation.name");
    const char *oi = astr(s->attrs, "openinference.span.kind");
    if (!(op && !strcmp(op, "retrieval")) && !(oi && !strcasecmp(oi, "RETRIEVER")))
        return false;
    *docs = context_docs(s->attrs);
    return true;
}

/* ------------------------------------------------------------------------ */
/* the text cap                                                             */

struct slots {
    cJSON **v;
    size_t n, cap;
};

static void slot_push(struct slots *s, cJSON *node)
{
    if (!cJSON_IsString(node) || !node->valuestring || !*node->valuestring)
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        cJSON **v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return; /* not counted: left uncut (the event size limit still holds) */
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = node;
}

/* Keys of content parts whose values are identifiers, not text. */
static bool part_key_exempt(const char *k)
{
    static const char *const keys[] = {"type", "id", "name", "role", "mime_type", "modality", NULL};
    for (const char *const *p = keys; k && *p; p++)
        if (!strcmp(k, *p))
            return true;
    return false;
}

/* Every string leaf of a content value (a string, or parts). */
static void slot_leaves(struct slots *s, cJSON *node)
{
    if (cJSON_IsString(node)) {
        if (!part_key_exempt(node->string))
            slot_push(s, node);
        return;
    }
    for (cJSON *c = (cJSON_IsArray(node) || cJSON_IsObject(node)) ? node->child : NULL; c;
         c = c->next)
        slot_leaves(s, c);
}

static size_t slots_len(const struct slots *s, size_t *lens)
{
    size_t t = 0;
    for (size_t i = 0; i < s->n; i++) {
        lens[i] = strlen(s->v[i]->valuestring);
        t = cap_text_sat_add(t, lens[i]);
    }
    return t;
}

static bool cut_node(cJSON *node, size_t len, size_t give)
{
    size_t keep = cap_text_utf8_cut(node->valuestring, len, give);
    if (keep >= len)
        return false;
    node->valuestring[keep] = 0;
    return true;
}

/* Shares `cap` max-min fairly between the slots (lens known) and cuts them. */
static bool cut_fair(struct slots *s, const size_t *lens, size_t *give, size_t cap)
{
    bool cut = false;
    cap_text_fair_shares(lens, give, s->n, cap);
    for (size_t i = 0; i < s->n; i++)
        cut |= cut_node(s->v[i], lens[i], give[i]);
    return cut;
}

bool otlp_cap_text(cJSON *ev, size_t cap)
{
    if (!cap)
        return false;
    struct slots part[3] = {{0}};
    cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(
                              cJSON_GetObjectItemCaseSensitive(ev, "request"), "messages"))
        slot_leaves(&part[0], cJSON_GetObjectItemCaseSensitive(m, "content"));
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(ev, "context"))
        slot_push(&part[1], cJSON_GetObjectItemCaseSensitive(m, "text"));
    cJSON *resp = cJSON_GetObjectItemCaseSensitive(ev, "response");
    slot_push(&part[2], cJSON_GetObjectItemCaseSensitive(resp, "text"));
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(resp, "tool_calls"))
        slot_push(&part[2], cJSON_GetObjectItemCaseSensitive(m, "arguments"));
    size_t nmax = part[0].n > part[1].n ? part[0].n : part[1].n;
    nmax = nmax > part[2].n ? nmax : part[2].n;
    size_t *lens = malloc(2 * (nmax ? nmax : 1) * sizeof *lens);
    bool cut = false;
    if (lens) {
        size_t d[3], a[3];
        for (int i = 0; i < 3; i++)
            d[i] = slots_len(&part[i], lens);
        cap_text_fair_shares(d, a, 3, cap);
        for (int i = 0; i < 2; i++) { /* prompt, context: fair between their strings */
            if (d[i] > a[i]) {
                slots_len(&part[i], lens);
                cut |= cut_fair(&part[i], lens, lens + part[i].n, a[i]);
            }
        }
        if (d[2] > a[2]) { /* response: the text first, then tool-call arguments */
            size_t left = a[2];
            slots_len(&part[2], lens);
            for (size_t i = 0; i < part[2].n; i++) {
                char *t = part[2].v[i]->valuestring;
                size_t keep = cap_text_utf8_cut(t, lens[i], left);
                if (keep < lens[i]) {
                    t[keep] = 0;
                    cut = true;
                }
                left -= keep;
            }
        }
    }
    free(lens);
    for (int i = 0; i < 3; i++)
        free(part[i].v);
    if (cut) {
        cJSON_DeleteItemFromObjectCaseSensitive(ev, "truncated");
        cJSON_AddBoolToObject(ev, "truncated", 1);
    }
    return cut;
}
