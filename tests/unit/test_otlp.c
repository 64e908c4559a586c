/* Unit tests for agent/otlp.c and agent/otlp_map.c: OTLP/protobuf bodies
 * built with the generated protobuf-c code and OTLP/JSON bodies written by
 * hand; each attribute family's mapping (semconv gen_ai.*, OpenLLMetry,
 * OpenInference), ignored spans, ids, timing, status, limits, and malformed
 * protobuf (truncated, wrong wire types, huge lengths, groups, deep
 * nesting); log records (protobuf and JSON, event names, body fallback);
 * retrieval spans' documents; the text cap. Every mapped event is also run
 * through event_fill + event_validate. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "event.h"
#include "otlp.h"
#include "otlp_map.h"
#include "otlp.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest Req;
typedef Opentelemetry__Proto__Collector__Trace__V1__ResourceSpans RS;
typedef Opentelemetry__Proto__Collector__Trace__V1__Resource Res;
typedef Opentelemetry__Proto__Collector__Trace__V1__ScopeSpans SS;
typedef Opentelemetry__Proto__Collector__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Collector__Trace__V1__Status Status;
typedef Opentelemetry__Proto__Collector__Trace__V1__KeyValue KV;
typedef Opentelemetry__Proto__Collector__Trace__V1__AnyValue AV;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportLogsServiceRequest LReq;
typedef Opentelemetry__Proto__Collector__Trace__V1__ResourceLogs RL;
typedef Opentelemetry__Proto__Collector__Trace__V1__ScopeLogs SL;
typedef Opentelemetry__Proto__Collector__Trace__V1__LogRecord LR;

/* ------------------------------------------------------------------------ */
/* helpers                                                                  */

static void *owned[1024];
static int nowned;

static void *own(void *p)
{
    assert_non_null(p);
    assert_true(nowned < 1024);
    owned[nowned++] = p;
    return p;
}

static int teardown(void **state)
{
    while (nowned)
        free(owned[--nowned]);
    return 0;
}

static AV *av_new(void)
{
    AV *v = own(calloc(1, sizeof *v));
    opentelemetry__proto__collector__trace__v1__any_value__init(v);
    return v;
}

static KV *kv(const char *k, AV *v)
{
    KV *x = own(calloc(1, sizeof *x));
    opentelemetry__proto__collector__trace__v1__key_value__init(x);
    x->key = (char *)k;
    x->value = v;
    return x;
}

static KV *kv_s(const char *k, const char *s)
{
    AV *v = av_new();
    v->value_case = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__ANY_VALUE__VALUE_STRING_VALUE;
    v->string_value = (char *)s;
    return kv(k, v);
}

static KV *kv_i(const char *k, int64_t i)
{
    AV *v = av_new();
    v->value_case = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__ANY_VALUE__VALUE_INT_VALUE;
    v->int_value = i;
    return kv(k, v);
}

static KV *kv_d(const char *k, double d)
{
    AV *v = av_new();
    v->value_case = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
    v->double_value = d;
    return kv(k, v);
}

static KV *kv_b(const char *k, bool b)
{
    AV *v = av_new();
    v->value_case = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__ANY_VALUE__VALUE_BOOL_VALUE;
    v->bool_value = b;
    return kv(k, v);
}

/* A one-resource, one-scope, one-span request; attrs NULL-terminated. The
 * packed bytes are returned (owned) with *len set. */
struct pbspan {
    const char *service;
    const char *name;
    uint64_t start, end;
    int status; /* 0 none */
    const char *status_msg;
    bool no_ids;
    KV **attrs;
};

static const uint8_t TRACE[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
                                  0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};
static const uint8_t SPAN[8] = {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7};
static const uint8_t PARENT[8] = {1, 2, 3, 4, 5, 6, 7, 8};

static uint8_t *pack(const struct pbspan *p, size_t *len)
{
    Span sp = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__SPAN__INIT;
    Status st = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__STATUS__INIT;
    if (!p->no_ids) {
        sp.trace_id.data = (uint8_t *)TRACE;
        sp.trace_id.len = 16;
        sp.span_id.data = (uint8_t *)SPAN;
        sp.span_id.len = 8;
        sp.parent_span_id.data = (uint8_t *)PARENT;
        sp.parent_span_id.len = 8;
    }
    sp.name = (char *)(p->name ? p->name : "chat gpt-4o");
    sp.kind = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT;
    sp.start_time_unix_nano = p->start;
    sp.end_time_unix_nano = p->end;
    size_t n = 0;
    while (p->attrs && p->attrs[n])
        n++;
    sp.n_attributes = n;
    sp.attributes = p->attrs;
    if (p->status) {
        st.code = (Opentelemetry__Proto__Collector__Trace__V1__Status__StatusCode)p->status;
        st.message = (char *)(p->status_msg ? p->status_msg : "");
        sp.status = &st;
    }
    Span *spans[1] = {&sp};
    SS ss = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__SCOPE_SPANS__INIT;
    ss.n_spans = 1;
    ss.spans = spans;
    SS *sss[1] = {&ss};
    Res res = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__RESOURCE__INIT;
    KV *rattrs[1] = {kv_s("service.name", p->service ? p->service : "support-bot")};
    res.n_attributes = 1;
    res.attributes = rattrs;
    RS rs = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__RESOURCE_SPANS__INIT;
    rs.resource = &res;
    rs.n_scope_spans = 1;
    rs.scope_spans = sss;
    RS *rss[1] = {&rs};
    Req req = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    req.n_resource_spans = 1;
    req.resource_spans = rss;
    *len =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(
            &req);
    uint8_t *buf = own(malloc(*len ? *len : 1));
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(&req, buf);
    return buf;
}

/* j at a path like "a.b[2].c" (NULL when absent). */
static const cJSON *at(const cJSON *j, const char *path)
{
    char key[128];
    const char *p = path;
    while (j && *p) {
        if (*p == '[') {
            j = cJSON_GetArrayItem(j, atoi(p + 1));
            p = strchr(p, ']') + 1;
        } else {
            size_t n = strcspn(p, ".[");
            memcpy(key, p, n);
            key[n] = 0;
            j = cJSON_GetObjectItemCaseSensitive(j, key);
            p += n;
        }
        if (*p == '.')
            p++;
    }
    return j;
}

static double num_at(const cJSON *j, const char *path)
{
    const cJSON *v = at(j, path);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

#define assert_str_at(j, path, want)                                                               \
    do {                                                                                           \
        const cJSON *v_ = at(j, path);                                                             \
        const char *got_ = cJSON_IsString(v_) ? v_->valuestring : NULL;                            \
        if (!got_ || strcmp(got_, want) != 0)                                                      \
            fail_msg("%s: got %s, want \"%s\"", path, got_ ? got_ : "(absent)", want);             \
    } while (0)

/* The event, filled as intake fills it, must validate. */
static void check_valid(const cJSON *ev)
{
    cJSON *e = cJSON_Duplicate(ev, 1);
    assert_int_equal(event_fill(e, "default-svc", 1700000000000000), 0);
    char *enc = event_encode(e);
    assert_non_null(enc);
    struct event_error err = {0};
    cJSON *back = event_parse_json(enc, strlen(enc), NULL, 0, &err);
    if (!back)
        fail_msg("event does not parse back: %s\n%s", err.msg, enc);
    if (event_validate(back, &err) != EVENT_OK)
        fail_msg("event does not validate: %s\n%s", err.msg, enc);
    cJSON_Delete(back);
    free(enc);
    cJSON_Delete(e);
}

/* Decodes one protobuf body holding one span and maps it; returns the event
 * (caller deletes) or NULL when ignored. */
static cJSON *map_pb(const struct pbspan *p)
{
    size_t len;
    uint8_t *body = pack(p, &len);
    struct otlp_batch *b;
    char err[256];
    if (otlp_decode_protobuf(body, len, NULL, &b, err, sizeof err))
        fail_msg("decode: %s", err);
    assert_int_equal(b->n, 1);
    cJSON *ev;
    enum otlp_map_result r = otlp_map_span(&b->spans[0], &ev);
    otlp_batch_free(b);
    if (r == OTLP_IGNORED)
        return NULL;
    assert_int_equal(r, OTLP_MAPPED);
    check_valid(ev);
    return ev;
}

static cJSON *map_json(const char *body, size_t index, size_t want_n)
{
    struct otlp_batch *b;
    char err[256];
    if (otlp_decode_json(body, strlen(body), NULL, &b, err, sizeof err))
        fail_msg("decode: %s", err);
    assert_int_equal(b->n, want_n);
    cJSON *ev;
    enum otlp_map_result r = otlp_map_span(&b->spans[index], &ev);
    otlp_batch_free(b);
    if (r == OTLP_IGNORED)
        return NULL;
    assert_int_equal(r, OTLP_MAPPED);
    check_valid(ev);
    return ev;
}

static void pb_fails(const uint8_t *body, size_t len, const struct otlp_limits *lim,
                     const char *want_substr)
{
    struct otlp_batch *b = NULL;
    char err[256] = "";
    int rc = otlp_decode_protobuf(body, len, lim, &b, err, sizeof err);
    if (rc == 0)
        fail_msg("decoded, expected an error containing \"%s\"", want_substr);
    assert_null(b);
    if (!strstr(err, want_substr))
        fail_msg("error \"%s\" lacks \"%s\"", err, want_substr);
}

/* ------------------------------------------------------------------------ */
/* tests                                                                    */

static void test_semconv_chat(void **state)
{
    KV *attrs[] = {
        kv_s("gen_ai.operation.name", "chat"),
        kv_s("gen_ai.provider.name", "openai"),
        kv_s("gen_ai.request.model", "gpt-4o-mini"),
        kv_s("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
        kv_i("gen_ai.usage.input_tokens", 412),
        kv_i("gen_ai.usage.output_tokens", 38),
        kv_i("gen_ai.usage.cache_read.input_tokens", 256),
        kv_i("gen_ai.usage.reasoning.output_tokens", 10),
        kv_d("gen_ai.request.temperature", 0.2),
        kv_s("gen_ai.conversation.id", "conv-1"),
        kv_d("gen_ai.response.time_to_first_chunk", 0.211),
        kv_s("gen_ai.system_instructions", "[{\"type\":\"text\",\"content\":\"Be brief.\"}]"),
        kv_s("gen_ai.input.messages", "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\","
                                      "\"content\":\"Reset password?\"}]}]"),
        kv_s("gen_ai.output.messages",
             "[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"Open "
             "Settings.\"},{\"type\":\"tool_call\",\"id\":\"c1\",\"name\":\"lookup\","
             "\"arguments\":{\"q\":\"x\"}}],\"finish_reason\":\"length\"}]"),
        kv_b("gen_ai.request.stream", true),
        NULL,
    };
    struct pbspan p = {
        .start = 1795428902123456789ull, .end = 1795428902966000000ull, .attrs = attrs};
    cJSON *ev = map_pb(&p);
    assert_non_null(ev);
    assert_str_at(ev, "schema", "llmtap.event/1");
    assert_str_at(ev, "source", "otlp");
    assert_str_at(ev, "service", "support-bot");
    assert_str_at(ev, "provider", "openai");
    assert_str_at(ev, "operation", "chat");
    assert_str_at(ev, "request_model", "gpt-4o-mini");
    assert_str_at(ev, "response_model", "gpt-4o-mini-2024-07-18");
    assert_str_at(ev, "trace_id", "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_str_at(ev, "span_id", "00f067aa0ba902b7");
    assert_str_at(ev, "parent_span_id", "0102030405060708");
    assert_str_at(ev, "time", "2026-11-23T10:15:02.123456Z");
    assert_true(fabs(num_at(ev, "latency_ms") - 842.543211) < 1e-6);
    assert_true(fabs(num_at(ev, "ttft_ms") - 211.0) < 1e-9);
    assert_str_at(ev, "session", "conv-1");
    assert_true(cJSON_IsTrue(at(ev, "stream")));
    assert_int_equal((int)num_at(ev, "usage.input_tokens"), 412); /* OpenAI: already a total */
    assert_int_equal((int)num_at(ev, "usage.output_tokens"), 38);
    assert_int_equal((int)num_at(ev, "usage.cached_input_tokens"), 256);
    assert_int_equal((int)num_at(ev, "usage.reasoning_tokens"), 10);
    assert_str_at(ev, "request.messages[0].role", "system");
    assert_str_at(ev, "request.messages[0].content", "Be brief.");
    assert_str_at(ev, "request.messages[1].role", "user");
    assert_str_at(ev, "request.messages[1].content", "Reset password?");
    assert_true(fabs(num_at(ev, "request.params.temperature") - 0.2) < 1e-12);
    assert_str_at(ev, "response.text", "Open Settings.");
    assert_str_at(ev, "response.finish_reason", "length");
    assert_str_at(ev, "response.tool_calls[0].name", "lookup");
    assert_str_at(ev, "response.tool_calls[0].arguments", "{\"q\":\"x\"}");
    assert_null(at(ev, "error"));
    /* the id is a UUID derived from the ids: the same span maps to the same id */
    const cJSON *id = at(ev, "id");
    assert_true(cJSON_IsString(id) && strlen(id->valuestring) == 36);
    cJSON *again = map_pb(&p);
    assert_str_at(again, "id", id->valuestring);
    cJSON_Delete(again);
    cJSON_Delete(ev);
}

static void test_finish_reasons_array(void **state)
{
    AV *s1 = av_new();
    s1->value_case = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__ANY_VALUE__VALUE_STRING_VALUE;
    s1->string_value = "stop";
    AV *s2 = av_new();
    s2->value_case = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__ANY_VALUE__VALUE_STRING_VALUE;
    s2->string_value = "length";
    AV *vals[2] = {s1, s2};
    Opentelemetry__Proto__Collector__Trace__V1__ArrayValue arr =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__ARRAY_VALUE__INIT;
    arr.n_values = 2;
    arr.values = vals;
    AV *a = av_new();
    a->value_case = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__ANY_VALUE__VALUE_ARRAY_VALUE;
    a->array_value = &arr;
    KV *attrs[] = {kv_s("gen_ai.operation.name", "text_completion"),
                   kv_s("gen_ai.system", "openai"), kv_s("gen_ai.response.model", "m"),
                   kv("gen_ai.response.finish_reasons", a), NULL};
    struct pbspan p = {.start = 1, .end = 2, .attrs = attrs};
    cJSON *ev = map_pb(&p);
    assert_str_at(ev, "operation", "completion");
    assert_str_at(ev, "response.finish_reason", "stop");
    assert_str_at(ev, "response_model", "m");
    assert_null(at(ev, "request_model"));
    cJSON_Delete(ev);
}

static void test_anthropic_usage(void **state)
{
    /* older instrumentation (gen_ai.system): Anthropic's raw input count */
    KV *old[] = {kv_s("gen_ai.system", "anthropic"),
                 kv_s("gen_ai.request.model", "claude"),
                 kv_i("gen_ai.usage.input_tokens", 10),
                 kv_i("gen_ai.usage.cache_read_input_tokens", 100),
                 kv_i("gen_ai.usage.cache_creation_input_tokens", 5),
                 NULL};
    struct pbspan p = {.start = 5, .end = 5, .attrs = old};
    cJSON *ev = map_pb(&p);
    assert_str_at(ev, "operation", "chat");
    assert_int_equal((int)num_at(ev, "usage.input_tokens"), 115);
    assert_int_equal((int)num_at(ev, "usage.cached_input_tokens"), 100);
    assert_int_equal((int)num_at(ev, "usage.cache_write_tokens"), 5);
    assert_true(num_at(ev, "latency_ms") == 0);
    cJSON_Delete(ev);
    /* current semconv (gen_ai.provider.name): already a total */
    KV *cur[] = {kv_s("gen_ai.provider.name", "anthropic"),
                 kv_s("gen_ai.operation.name", "chat"),
                 kv_s("gen_ai.request.model", "claude"),
                 kv_i("gen_ai.usage.input_tokens", 200),
                 kv_i("gen_ai.usage.cache_read.input_tokens", 100),
                 kv_i("gen_ai.usage.cache_creation.input_tokens", 5),
                 NULL};
    p.attrs = cur;
    ev = map_pb(&p);
    assert_int_equal((int)num_at(ev, "usage.input_tokens"), 200);
    assert_int_equal((int)num_at(ev, "usage.cache_write_tokens"), 5);
    cJSON_Delete(ev);
    /* ... unless it is smaller than its parts */
    KV *small[] = {kv_s("gen_ai.provider.name", "anthropic"), kv_s("gen_ai.request.model", "c"),
                   kv_i("gen_ai.usage.input_tokens", 3),
                   kv_i("gen_ai.usage.cache_read.input_tokens", 100), NULL};
    p.attrs = small;
    ev = map_pb(&p);
    assert_int_equal((int)num_at(ev, "usage.input_tokens"), 103);
    cJSON_Delete(ev);
}

static void test_ignored(void **state)
{
    KV *http[] = {kv_s("http.request.method", "GET"), kv_i("http.response.status_code", 200), NULL};
    struct pbspan p = {.name = "GET /", .start = 1, .end = 2, .attrs = http};
    assert_null(map_pb(&p));
    KV *tool[] = {kv_s("gen_ai.operation.name", "execute_tool"), kv_s("gen_ai.tool.name", "lookup"),
                  NULL};
    p.attrs = tool;
    assert_null(map_pb(&p));
    KV *oi[] = {kv_s("openinference.span.kind", "RETRIEVER"), NULL};
    p.attrs = oi;
    assert_null(map_pb(&p));
    /* a GenAI span with only a model is a chat call of an unknown provider */
    KV *model[] = {kv_s("gen_ai.request.model", "m"), NULL};
    p.attrs = model;
    cJSON *ev = map_pb(&p);
    assert_str_at(ev, "provider", "unknown");
    assert_str_at(ev, "operation", "chat");
    cJSON_Delete(ev);
}

static void test_error_status_and_ids(void **state)
{
    KV *attrs[] = {kv_s("gen_ai.operation.name", "chat"),  kv_s("gen_ai.provider.name", "openai"),
                   kv_s("gen_ai.request.model", "gpt"),    kv_s("error.type", "rate_limit"),
                   kv_i("http.response.status_code", 429), NULL};
    struct pbspan p = {.start = 1000,
                       .end = 2000,
                       .status = 2,
                       .status_msg = "slow down",
                       .no_ids = true,
                       .attrs = attrs,
                       .service = "my bot/1"};
    cJSON *ev = map_pb(&p);
    assert_str_at(ev, "error.type", "rate_limit");
    assert_str_at(ev, "error.message", "slow down");
    assert_int_equal((int)num_at(ev, "status"), 429);
    assert_str_at(ev, "service", "my_bot_1");
    assert_null(at(ev, "trace_id"));
    assert_null(at(ev, "span_id"));
    assert_null(at(ev, "parent_span_id"));
    assert_null(at(ev, "id")); /* event_fill makes one */
    assert_true(fabs(num_at(ev, "latency_ms") - 0.001) < 1e-12);
    cJSON_Delete(ev);
}

static void test_attr_types_direct(void **state)
{
    AV *bytes = av_new();
    bytes->value_case = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__ANY_VALUE__VALUE_BYTES_VALUE;
    bytes->bytes_value.data = (uint8_t *)"hi!?";
    bytes->bytes_value.len = 4;
    KV *inner[] = {kv_i("n", 7), kv_b("b", false)};
    Opentelemetry__Proto__Collector__Trace__V1__KeyValueList kvl =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__KEY_VALUE_LIST__INIT;
    kvl.n_values = 2;
    kvl.values = inner;
    AV *kvv = av_new();
    kvv->value_case = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__ANY_VALUE__VALUE_KVLIST_VALUE;
    kvv->kvlist_value = &kvl;
    KV *attrs[] = {kv("bytes", bytes), kv("kv", kvv), kv_s("dup", "first"), kv_s("dup", "second"),
                   NULL};
    struct pbspan p = {.attrs = attrs};
    size_t len;
    uint8_t *body = pack(&p, &len);
    struct otlp_batch *b;
    char err[256];
    assert_int_equal(otlp_decode_protobuf(body, len, NULL, &b, err, sizeof err), 0);
    const cJSON *a = b->spans[0].attrs;
    assert_str_at(a, "bytes", "aGkhPw==");
    assert_int_equal((int)num_at(a, "kv.n"), 7);
    assert_true(cJSON_IsFalse(at(a, "kv.b")));
    assert_str_at(a, "dup", "first");
    assert_int_equal(b->spans[0].kind, 3);
    assert_string_equal(b->spans[0].name, "chat gpt-4o");
    const cJSON *svc = cJSON_GetObjectItemCaseSensitive(b->spans[0].resource, "service.name");
    assert_true(cJSON_IsString(svc) && !strcmp(svc->valuestring, "support-bot"));
    otlp_batch_free(b);
}

static const char JSON_OPENLLMETRY[] =
    "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
    "\"value\":{\"stringValue\":\"rag-api\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"x\"},"
    "\"spans\":[{\"traceId\":\"4BF92F3577B34DA6A3CE929D0E0E4736\",\"spanId\":\"00f067aa0ba902b7\","
    "\"parentSpanId\":\"\",\"name\":\"openai.chat\",\"kind\":3,"
    "\"startTimeUnixNano\":\"1795428902000000000\",\"endTimeUnixNano\":\"1795428903500000000\","
    "\"attributes\":["
    "{\"key\":\"gen_ai.system\",\"value\":{\"stringValue\":\"openai\"}},"
    "{\"key\":\"llm.request.type\",\"value\":{\"stringValue\":\"chat\"}},"
    "{\"key\":\"gen_ai.request.model\",\"value\":{\"stringValue\":\"gpt-4o\"}},"
    "{\"key\":\"gen_ai.usage.prompt_tokens\",\"value\":{\"intValue\":\"21\"}},"
    "{\"key\":\"gen_ai.usage.completion_tokens\",\"value\":{\"intValue\":7}},"
    "{\"key\":\"gen_ai.prompt.0.role\",\"value\":{\"stringValue\":\"system\"}},"
    "{\"key\":\"gen_ai.prompt.0.content\",\"value\":{\"stringValue\":\"You help.\"}},"
    "{\"key\":\"gen_ai.prompt.1.role\",\"value\":{\"stringValue\":\"user\"}},"
    "{\"key\":\"gen_ai.prompt.1.content\",\"value\":{\"stringValue\":\"Hi\"}},"
    "{\"key\":\"gen_ai.completion.0.role\",\"value\":{\"stringValue\":\"assistant\"}},"
    "{\"key\":\"gen_ai.completion.0.content\",\"value\":{\"stringValue\":\"Hello!\"}},"
    "{\"key\":\"gen_ai.completion.0.finish_reason\",\"value\":{\"stringValue\":\"stop\"}}"
    "],\"status\":{\"code\":2,\"message\":\"boom\"}},"
    "{\"name\":\"db\",\"attributes\":[{\"key\":\"db.system\",\"value\":{\"stringValue\":\"pg\"}}]}"
    "]}]}]}";

static void test_json_openllmetry(void **state)
{
    cJSON *ev = map_json(JSON_OPENLLMETRY, 0, 2);
    assert_str_at(ev, "service", "rag-api");
    assert_str_at(ev, "provider", "openai");
    assert_str_at(ev, "operation", "chat");
    assert_str_at(ev, "trace_id", "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_str_at(ev, "span_id", "00f067aa0ba902b7");
    assert_null(at(ev, "parent_span_id"));
    assert_str_at(ev, "time", "2026-11-23T10:15:02.000000Z");
    assert_true(num_at(ev, "latency_ms") == 1500);
    assert_int_equal((int)num_at(ev, "usage.input_tokens"), 21);
    assert_int_equal((int)num_at(ev, "usage.output_tokens"), 7);
    assert_str_at(ev, "request.messages[0].role", "system");
    assert_str_at(ev, "request.messages[1].content", "Hi");
    assert_str_at(ev, "response.text", "Hello!");
    assert_str_at(ev, "response.finish_reason", "stop");
    assert_str_at(ev, "error.type", "error");
    assert_str_at(ev, "error.message", "boom");
    cJSON_Delete(ev);
    assert_null(map_json(JSON_OPENLLMETRY, 1, 2)); /* the db span */
}

static const char JSON_OPENINFERENCE[] =
    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":"
    "\"0af7651916cd43dd8448eb211c80319c\","
    "\"spanId\":\"b7ad6b7169203331\",\"name\":\"ChatCompletion\","
    "\"startTimeUnixNano\":1000000,\"endTimeUnixNano\":3000000,\"attributes\":["
    "{\"key\":\"openinference.span.kind\",\"value\":{\"stringValue\":\"LLM\"}},"
    "{\"key\":\"llm.model_name\",\"value\":{\"stringValue\":\"claude-3-5-sonnet\"}},"
    "{\"key\":\"llm.provider\",\"value\":{\"stringValue\":\"anthropic\"}},"
    "{\"key\":\"llm.token_count.prompt\",\"value\":{\"intValue\":\"120\"}},"
    "{\"key\":\"llm.token_count.completion\",\"value\":{\"intValue\":\"30\"}},"
    "{\"key\":\"llm.token_count.total\",\"value\":{\"intValue\":\"150\"}},"
    "{\"key\":\"llm.token_count.prompt_details.cache_read\",\"value\":{\"intValue\":\"100\"}},"
    "{\"key\":\"llm.input_messages.0.message.role\",\"value\":{\"stringValue\":\"user\"}},"
    "{\"key\":\"llm.input_messages.0.message.content\",\"value\":{\"stringValue\":\"Q?\"}},"
    "{\"key\":\"llm.output_messages.0.message.role\",\"value\":{\"stringValue\":\"assistant\"}},"
    "{\"key\":\"llm.output_messages.0.message.content\",\"value\":{\"stringValue\":\"A.\"}},"
    "{\"key\":\"session.id\",\"value\":{\"stringValue\":\"s-9\"}},"
    "{\"key\":\"user.id\",\"value\":{\"stringValue\":\"u-1\"}},"
    "{\"key\":\"retrieval.documents.0.document.id\",\"value\":{\"stringValue\":\"kb-1\"}},"
    "{\"key\":\"retrieval.documents.0.document.content\",\"value\":{\"stringValue\":\"Doc one\"}},"
    "{\"key\":\"retrieval.documents.0.document.score\",\"value\":{\"doubleValue\":0.83}},"
    "{\"key\":\"retrieval.documents.0.document.metadata\",\"value\":{\"stringValue\":"
    "\"{\\\"source\\\":\\\"helpcenter\\\"}\"}},"
    "{\"key\":\"retrieval.documents.1.document.id\",\"value\":{\"stringValue\":\"kb-2\"}}"
    "]}]}]}]}";

static void test_json_openinference(void **state)
{
    cJSON *ev = map_json(JSON_OPENINFERENCE, 0, 1);
    assert_null(at(ev, "service")); /* no resource: event_fill's default applies */
    assert_str_at(ev, "provider", "anthropic");
    assert_str_at(ev, "operation", "chat");
    assert_str_at(ev, "request_model", "claude-3-5-sonnet");
    /* OpenInference's prompt count already includes the cache */
    assert_int_equal((int)num_at(ev, "usage.input_tokens"), 120);
    assert_int_equal((int)num_at(ev, "usage.output_tokens"), 30);
    assert_int_equal((int)num_at(ev, "usage.cached_input_tokens"), 100);
    assert_str_at(ev, "request.messages[0].content", "Q?");
    assert_str_at(ev, "response.text", "A.");
    assert_str_at(ev, "session", "s-9");
    assert_str_at(ev, "user", "u-1");
    assert_str_at(ev, "context[0].id", "kb-1");
    assert_str_at(ev, "context[0].text", "Doc one");
    assert_str_at(ev, "context[0].source", "helpcenter");
    assert_true(fabs(num_at(ev, "context[0].score") - 0.83) < 1e-12);
    assert_str_at(ev, "context[1].id", "kb-2");
    assert_true(num_at(ev, "latency_ms") == 2);
    cJSON_Delete(ev);
}

static void test_identifiers_cut(void **state)
{
    char role[100], model[400];
    memset(role, 'r', sizeof role - 1);
    role[sizeof role - 1] = 0;
    memset(model, 'm', sizeof model - 1);
    model[sizeof model - 1] = 0;
    KV *attrs[] = {kv_s("gen_ai.request.model", model), kv_s("gen_ai.prompt.0.role", role),
                   kv_s("gen_ai.prompt.0.content", "x"), NULL};
    struct pbspan p = {.attrs = attrs};
    cJSON *ev = map_pb(&p); /* validates */
    assert_int_equal(strlen(at(ev, "request_model")->valuestring), 256);
    assert_int_equal(strlen(at(ev, "request.messages[0].role")->valuestring), 64);
    cJSON_Delete(ev);
}

static void test_two_resources(void **state)
{
    static const char body[] =
        "{\"resource_spans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
        "{\"stringValue\":\"a\"}}]},\"scope_spans\":[{\"spans\":[{\"name\":\"x\",\"attributes\":"
        "[{\"key\":\"gen_ai.request.model\",\"value\":{\"stringValue\":\"m1\"}}]},7]}]},"
        "{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"b\"}"
        "}]},"
        "\"scopeSpans\":[{\"spans\":[{\"spanId\":\"zz\",\"attributes\":[{\"key\":"
        "\"gen_ai.request.model\",\"value\":{\"stringValue\":\"m2\"}}]}]}]}]}";
    cJSON *ev = map_json(body, 0, 2); /* snake_case names; the 7 is not a span */
    assert_str_at(ev, "service", "a");
    assert_str_at(ev, "request_model", "m1");
    cJSON_Delete(ev);
    ev = map_json(body, 1, 2);
    assert_str_at(ev, "service", "b");
    assert_str_at(ev, "request_model", "m2");
    assert_null(at(ev, "span_id")); /* not hex */
    cJSON_Delete(ev);
}

/* The response message's field numbers, byte for byte. */
static void test_response_encoding(void **state)
{
    Opentelemetry__Proto__Collector__Trace__V1__ExportTracePartialSuccess ps =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
    ps.rejected_spans = 3;
    ps.error_message = "x";
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse r =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
    r.partial_success = &ps;
    uint8_t out[16];
    size_t n =
        opentelemetry__proto__collector__trace__v1__export_trace_service_response__pack(&r, out);
    const uint8_t want[] = {0x0A, 0x05, 0x08, 0x03, 0x12, 0x01, 'x'};
    assert_int_equal(n, sizeof want);
    assert_memory_equal(out, want, sizeof want);
}

static void test_semconv_retrieval_docs(void **state)
{
    KV *attrs[] = {kv_s("gen_ai.operation.name", "chat"),
                   kv_s("gen_ai.request.model", "m"),
                   kv_s("gen_ai.retrieval.documents",
                        "[{\"id\":\"doc_123\",\"score\":0.95,\"content\":\"text\"},{\"id\":7}]"),
                   kv_s("gen_ai.input.messages", "not json"),
                   kv_s("gen_ai.output.messages", "plain answer"),
                   NULL};
    struct pbspan p = {.attrs = attrs};
    cJSON *ev = map_pb(&p);
    assert_str_at(ev, "context[0].id", "doc_123");
    assert_str_at(ev, "context[0].text", "text");
    assert_true(fabs(num_at(ev, "context[0].score") - 0.95) < 1e-12);
    assert_str_at(ev, "context[1].id", "7");
    assert_str_at(ev, "request.messages[0].content", "not json");
    assert_str_at(ev, "response.text", "plain answer");
    assert_null(at(ev, "time")); /* no start time: event_fill's receipt time */
    cJSON_Delete(ev);
}

/* Appends tag + varint length + content. */
static size_t wrap(uint8_t *out, uint32_t field, const uint8_t *in, size_t n)
{
    size_t k = 0;
    out[k++] = (uint8_t)(field << 3 | 2);
    size_t v = n;
    do {
        out[k++] = (uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
        v >>= 7;
    } while (v);
    memmove(out + k, in, n);
    return k + n;
}

/* Span bytes → a whole request. */
static size_t req_of(uint8_t *out, const uint8_t *span, size_t n)
{
    uint8_t *t = own(malloc(n + 64)), *u = own(malloc(n + 64));
    size_t a = wrap(t, 2, span, n); /* ScopeSpans.spans */
    size_t b = wrap(u, 2, t, a);    /* ResourceSpans.scope_spans */
    return wrap(out, 1, u, b);      /* request.resource_spans */
}

static void test_malformed_protobuf(void **state)
{
    uint8_t out[256];
    /* Span.start_time_unix_nano (fixed64) sent as a varint */
    const uint8_t wt[] = {0x38, 0x05};
    size_t n = req_of(out, wt, sizeof wt);
    pb_fails(out, n, NULL, "Span.start_time_unix_nano (field 7)");
    pb_fails(out, n, NULL, "wire type 0");
    /* Span.attributes as a varint */
    const uint8_t wt2[] = {0x48, 0x01};
    n = req_of(out, wt2, sizeof wt2);
    pb_fails(out, n, NULL, "Span.attributes (field 9)");
    /* a length far past the end */
    const uint8_t huge[] = {0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00};
    pb_fails(huge, sizeof huge, NULL, "length runs past the end");
    /* an 11-byte varint (an unknown field 2) */
    const uint8_t longv[] = {0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                             0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    pb_fails(longv, sizeof longv, NULL, "truncated varint");
    /* groups */
    const uint8_t group[] = {0x1B, 0x1C};
    pb_fails(group, sizeof group, NULL, "groups");
    /* field number 0 */
    const uint8_t zero[] = {0x02, 0x00};
    pb_fails(zero, sizeof zero, NULL, "invalid field number");
    /* a truncated fixed64 */
    const uint8_t fx[] = {0x39, 1, 2, 3};
    n = req_of(out, fx, sizeof fx);
    pb_fails(out, n, NULL, "truncated fixed64");
    /* invalid UTF-8 in a span name, and a NUL */
    const uint8_t bad[] = {0x2A, 0x02, 0xC3, 0x28};
    n = req_of(out, bad, sizeof bad);
    pb_fails(out, n, NULL, "Span.name");
    const uint8_t nul[] = {0x2A, 0x03, 'a', 0, 'b'};
    n = req_of(out, nul, sizeof nul);
    pb_fails(out, n, NULL, "NUL");
    /* unknown fields of any wire type are skipped */
    const uint8_t unk[] = {0x18, 0x01, 0x61, 1,    2,    3,    4, 5, 6, 7,
                           8,    0x9A, 0x01, 0x00, 0x85, 0x01, 1, 2, 3, 4};
    n = req_of(out, unk, sizeof unk);
    struct otlp_batch *b;
    char err[256];
    if (otlp_decode_protobuf(out, n, NULL, &b, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(b->n, 1);
    otlp_batch_free(b);
    /* empty body: no spans */
    assert_int_equal(otlp_decode_protobuf("", 0, NULL, &b, err, sizeof err), 0);
    assert_int_equal(b->n, 0);
    otlp_batch_free(b);
}

static void test_truncated_everywhere(void **state)
{
    KV *attrs[] = {kv_s("gen_ai.operation.name", "chat"), kv_s("gen_ai.request.model", "m"),
                   kv_i("gen_ai.usage.input_tokens", 300), NULL};
    struct pbspan p = {
        .start = 12345, .end = 67890, .status = 2, .status_msg = "x", .attrs = attrs};
    size_t len;
    uint8_t *body = pack(&p, &len);
    int errors = 0;
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1); /* exact size, so ASan sees any over-read */
        memcpy(copy, body, cut);
        struct otlp_batch *b = NULL;
        char err[256];
        if (otlp_decode_protobuf(copy, cut, NULL, &b, err, sizeof err) == 0) {
            for (size_t i = 0; i < b->n; i++) {
                cJSON *ev;
                if (otlp_map_span(&b->spans[i], &ev) == OTLP_MAPPED)
                    cJSON_Delete(ev);
            }
            otlp_batch_free(b);
        } else {
            assert_null(b);
            assert_true(err[0] != 0);
            errors++;
        }
        free(copy);
    }
    assert_true(errors > (int)len / 2);
}

static void test_limits(void **state)
{
    /* nesting: AnyValue{array_value{values{AnyValue{...}}}} 100 deep */
    static uint8_t a[4096], t[4096];
    size_t n = 0;
    for (int i = 0; i < 100; i++) {
        size_t k = wrap(t, 1, a, n); /* ArrayValue.values */
        n = wrap(a, 5, t, k);        /* AnyValue.array_value */
    }
    uint8_t kvb[4096], out[4200];
    size_t k = wrap(kvb, 2, a, n); /* KeyValue.value */
    uint8_t span[4200];
    size_t s = wrap(span, 9, kvb, k); /* Span.attributes */
    size_t r = req_of(out, span, s);
    pb_fails(out, r, NULL, "nesting deeper than 32");

    /* attribute count */
    KV *attrs[6] = {kv_i("a", 1), kv_i("b", 1), kv_i("c", 1), kv_i("d", 1), kv_i("e", 1), NULL};
    struct pbspan p = {.attrs = attrs};
    size_t len;
    uint8_t *body = pack(&p, &len);
    struct otlp_limits lim = {.max_attrs = 4};
    pb_fails(body, len, &lim, "more than 4 attributes");
    lim.max_attrs = 5;
    struct otlp_batch *b;
    char err[256];
    assert_int_equal(otlp_decode_protobuf(body, len, &lim, &b, err, sizeof err), 0);
    otlp_batch_free(b);
    /* array elements count as attribute values */
    AV *el[6];
    for (int i = 0; i < 6; i++) {
        el[i] = av_new();
        el[i]->value_case = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__ANY_VALUE__VALUE_INT_VALUE;
    }
    Opentelemetry__Proto__Collector__Trace__V1__ArrayValue arr =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__ARRAY_VALUE__INIT;
    arr.n_values = 6;
    arr.values = el;
    AV *av = av_new();
    av->value_case = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__ANY_VALUE__VALUE_ARRAY_VALUE;
    av->array_value = &arr;
    KV *arrs[] = {kv("arr", av), NULL};
    p.attrs = arrs;
    body = pack(&p, &len);
    lim.max_attrs = 6;
    pb_fails(body, len, &lim, "more than 6 attributes");
    lim.max_attrs = 7;
    assert_int_equal(otlp_decode_protobuf(body, len, &lim, &b, err, sizeof err), 0);
    otlp_batch_free(b);
    /* unknown fields and groups are bounded */
    struct otlp_limits tiny = {.max_spans = 1};
    uint8_t unk[200];
    for (int i = 0; i < 100; i++) {
        unk[2 * i] = 0x10; /* field 2, varint: unknown in the request */
        unk[2 * i + 1] = 0;
    }
    pb_fails(unk, 66, &tiny, "more than 32 unknown fields");
    const uint8_t groups[] = {0x0A, 0x00, 0x0A, 0x00};
    pb_fails(groups, sizeof groups, &tiny, "more than 1 resource or scope groups");
    /* string length */
    KV *longs[] = {kv_s("k", "0123456789abcdef"), NULL};
    p.attrs = longs;
    body = pack(&p, &len);
    struct otlp_limits sl = {.max_string = 15};
    pb_fails(body, len, &sl, "the limit is 15");
    /* body size, span count */
    struct otlp_limits bl = {.max_body = len - 1};
    pb_fails(body, len, &bl, "body is");
    /* JSON: span count, attributes, depth, not JSON, not an object */
    struct otlp_limits one = {.max_spans = 1};
    assert_int_equal(
        otlp_decode_json(JSON_OPENLLMETRY, strlen(JSON_OPENLLMETRY), &one, &b, err, sizeof err),
        -1);
    assert_non_null(strstr(err, "more than 1 spans"));
    struct otlp_limits fa = {.max_attrs = 3};
    assert_int_equal(
        otlp_decode_json(JSON_OPENLLMETRY, strlen(JSON_OPENLLMETRY), &fa, &b, err, sizeof err), -1);
    assert_non_null(strstr(err, "attributes"));
    assert_int_equal(otlp_decode_json("{\"resourceSpans\":", 17, NULL, &b, err, sizeof err), -1);
    assert_non_null(strstr(err, "json:"));
    assert_int_equal(otlp_decode_json("[1]", 3, NULL, &b, err, sizeof err), -1);
    assert_non_null(strstr(err, "must be an object"));
    assert_int_equal(otlp_decode_json("{}", 2, NULL, &b, err, sizeof err), 0);
    assert_int_equal(b->n, 0);
    otlp_batch_free(b);
}

/* ------------------------------------------------------------------------ */
/* log records                                                              */

/* A logs request with the given records (NULL-terminated); packed, owned. */
static uint8_t *pack_logs(LR **recs, size_t *len)
{
    size_t n = 0;
    while (recs[n])
        n++;
    SL sl = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__SCOPE_LOGS__INIT;
    sl.n_log_records = n;
    sl.log_records = recs;
    SL *sls[1] = {&sl};
    Res res = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__RESOURCE__INIT;
    KV *rattrs[1] = {kv_s("service.name", "log-svc")};
    res.n_attributes = 1;
    res.attributes = rattrs;
    RL rl = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__RESOURCE_LOGS__INIT;
    rl.resource = &res;
    rl.n_scope_logs = 1;
    rl.scope_logs = sls;
    RL *rls[1] = {&rl};
    LReq req = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_LOGS_SERVICE_REQUEST__INIT;
    req.n_resource_logs = 1;
    req.resource_logs = rls;
    *len = opentelemetry__proto__collector__trace__v1__export_logs_service_request__get_packed_size(
        &req);
    uint8_t *buf = own(malloc(*len ? *len : 1));
    opentelemetry__proto__collector__trace__v1__export_logs_service_request__pack(&req, buf);
    return buf;
}

static LR *log_rec(const char *event_name, uint64_t t, KV **attrs, AV *body)
{
    LR *r = own(calloc(1, sizeof *r));
    opentelemetry__proto__collector__trace__v1__log_record__init(r);
    r->event_name = (char *)(event_name ? event_name : "");
    r->time_unix_nano = t;
    r->observed_time_unix_nano = t ? 0 : 1700000000123456789ull;
    r->trace_id.data = (uint8_t *)TRACE;
    r->trace_id.len = 16;
    r->span_id.data = (uint8_t *)SPAN;
    r->span_id.len = 8;
    size_t n = 0;
    while (attrs && attrs[n])
        n++;
    r->n_attributes = n;
    r->attributes = attrs;
    r->body = body;
    return r;
}

static void test_logs_protobuf(void **state)
{
    KV *details[] = {
        kv_s("gen_ai.operation.name", "chat"),
        kv_s("gen_ai.provider.name", "openai"),
        kv_s("gen_ai.request.model", "gpt-4o-mini"),
        kv_i("gen_ai.usage.input_tokens", 12),
        kv_i("gen_ai.usage.output_tokens", 3),
        kv_s("gen_ai.input.messages",
             "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"hi\"}]}]"),
        NULL};
    KV *by_attr[] = {kv_s("event.name", OTLP_EVENT_INFERENCE_DETAILS),
                     kv_s("gen_ai.request.model", "m2"), kv_s("error.type", "timeout"), NULL};
    /* body kvlist: its members are fallbacks for the attributes */
    KV *body_kvs[] = {kv_s("gen_ai.request.model", "from-body"), kv_s("gen_ai.response.model", "r"),
                      NULL};
    AV *body = av_new();
    body->value_case = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__ANY_VALUE__VALUE_KVLIST_VALUE;
    Opentelemetry__Proto__Collector__Trace__V1__KeyValueList *kvl = own(calloc(1, sizeof *kvl));
    opentelemetry__proto__collector__trace__v1__key_value_list__init(kvl);
    kvl->n_values = 2;
    kvl->values = body_kvs;
    body->kvlist_value = kvl;
    KV *plain[] = {kv_s("gen_ai.request.model", "m3"), NULL};
    LR *recs[] = {log_rec(OTLP_EVENT_INFERENCE_DETAILS, 1700000000000000000ull, details, NULL),
                  log_rec(NULL, 0, by_attr, body), log_rec("gen_ai.user.message", 1, plain, NULL),
                  log_rec("my.app.event", 1, plain, NULL), NULL};
    size_t len;
    uint8_t *buf = pack_logs(recs, &len);
    struct otlp_batch *b;
    char err[256];
    if (otlp_decode_logs_protobuf(buf, len, NULL, &b, err, sizeof err))
        fail_msg("decode: %s", err);
    assert_int_equal(b->n, 4);
    cJSON *ev;
    assert_int_equal(otlp_map_log(&b->spans[0], &ev), OTLP_MAPPED);
    check_valid(ev);
    assert_str_at(ev, "request_model", "gpt-4o-mini");
    assert_str_at(ev, "service", "log-svc");
    assert_str_at(ev, "trace_id", "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_str_at(ev, "request.messages[0].content", "hi");
    assert_str_at(ev, "time", "2023-11-14T22:13:20.000000Z");
    assert_int_equal((int)num_at(ev, "usage.input_tokens"), 12);
    assert_true(num_at(ev, "latency_ms") == 0);
    cJSON_Delete(ev);
    /* the event name from the attribute; the time from observed_time */
    assert_string_equal(b->spans[1].event_name, OTLP_EVENT_INFERENCE_DETAILS);
    assert_int_equal(otlp_map_log(&b->spans[1], &ev), OTLP_MAPPED);
    check_valid(ev);
    assert_str_at(ev, "request_model", "m2"); /* the attribute wins */
    assert_str_at(ev, "response_model", "r"); /* from the body */
    assert_str_at(ev, "error.type", "timeout");
    assert_str_at(ev, "time", "2023-11-14T22:13:20.123456Z");
    cJSON_Delete(ev);
    assert_int_equal(otlp_log_kind(&b->spans[2]), OTLP_LOG_PER_MESSAGE);
    assert_int_equal(otlp_map_log(&b->spans[2], &ev), OTLP_IGNORED);
    assert_null(ev);
    assert_int_equal(otlp_log_kind(&b->spans[3]), OTLP_LOG_OTHER);
    assert_int_equal(otlp_map_log(&b->spans[3], &ev), OTLP_IGNORED);
    otlp_batch_free(b);
    /* a trace decoder does not take a logs body's records for spans, nor the reverse */
    struct otlp_limits lim = {.max_spans = 3};
    assert_int_not_equal(otlp_decode_logs_protobuf(buf, len, &lim, &b, err, sizeof err), 0);
    assert_non_null(strstr(err, "more than 3 log records"));
}

static void test_logs_json_and_malformed(void **state)
{
    const char *body =
        "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
        "\"value\":{\"stringValue\":\"jl\"}}]},\"scopeLogs\":[{\"logRecords\":["
        "{\"timeUnixNano\":\"1700000000000000000\",\"eventName\":\"gen_ai.client.inference."
        "operation.details\","
        "\"traceId\":\"4BF92F3577B34DA6A3CE929D0E0E4736\",\"spanId\":\"00f067aa0ba902b7\","
        "\"attributes\":[{\"key\":\"gen_ai.request.model\",\"value\":{\"stringValue\":\"gpt-x\"}},"
        "{\"key\":\"gen_ai.output.messages\",\"value\":{\"arrayValue\":{\"values\":[{"
        "\"kvlistValue\":"
        "{\"values\":[{\"key\":\"role\",\"value\":{\"stringValue\":\"assistant\"}},{\"key\":"
        "\"parts\","
        "\"value\":{\"arrayValue\":{\"values\":[{\"kvlistValue\":{\"values\":[{\"key\":\"type\","
        "\"value\":"
        "{\"stringValue\":\"text\"}},{\"key\":\"content\",\"value\":{\"stringValue\":\"yes\"}}]}}]}"
        "}}]}}]}}}]},"
        "{\"body\":{\"stringValue\":\"hello\"}}, 7]}]}]}";
    struct otlp_batch *b;
    char err[256];
    if (otlp_decode_logs_json(body, strlen(body), NULL, &b, err, sizeof err))
        fail_msg("decode: %s", err);
    assert_int_equal(b->n, 2); /* 7 is not a record: skipped */
    cJSON *ev;
    assert_int_equal(otlp_map_log(&b->spans[0], &ev), OTLP_MAPPED);
    check_valid(ev);
    assert_str_at(ev, "request_model", "gpt-x");
    assert_str_at(ev, "response.text", "yes"); /* structured messages, not a JSON string */
    assert_str_at(ev, "service", "jl");
    cJSON_Delete(ev);
    assert_int_equal(otlp_map_log(&b->spans[1], &ev), OTLP_IGNORED);
    otlp_batch_free(b);
    /* malformed protobuf logs: LogRecord.time_unix_nano as a varint, a huge length */
    uint8_t out[128];
    const uint8_t rec[] = {0x08, 0x05};
    uint8_t t[64], u[64];
    size_t a = wrap(t, 2, rec, sizeof rec); /* ScopeLogs.log_records */
    size_t c = wrap(u, 2, t, a);            /* ResourceLogs.scope_logs */
    size_t n = wrap(out, 1, u, c);
    b = NULL;
    assert_int_equal(otlp_decode_logs_protobuf(out, n, NULL, &b, err, sizeof err), -1);
    assert_null(b);
    assert_non_null(strstr(err, "LogRecord.time_unix_nano (field 1)"));
    const uint8_t huge[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f};
    assert_int_equal(otlp_decode_logs_protobuf(huge, sizeof huge, NULL, &b, err, sizeof err), -1);
    assert_non_null(strstr(err, "ExportLogsServiceRequest field 1 at byte 0: length runs past"));
    assert_int_equal(otlp_decode_logs_json("[1]", 3, NULL, &b, err, sizeof err), -1);
    assert_non_null(strstr(err, "ExportLogsServiceRequest"));
}

/* ------------------------------------------------------------------------ */
/* retrieval spans, the text cap                                            */

static void test_retrieval_spans(void **state)
{
    KV *semconv[] = {
        kv_s("gen_ai.operation.name", "retrieval"), kv_s("gen_ai.request.model", "emb"),
        kv_s("gen_ai.retrieval.documents", "[{\"id\":\"a\",\"content\":\"A\"}]"), NULL};
    struct pbspan p = {.attrs = semconv};
    assert_null(map_pb(&p)); /* not an event, even with a model */
    size_t len;
    uint8_t *body = pack(&p, &len);
    struct otlp_batch *b;
    char err[256];
    assert_int_equal(otlp_decode_protobuf(body, len, NULL, &b, err, sizeof err), 0);
    cJSON *docs;
    assert_true(otlp_retrieval_docs(&b->spans[0], &docs));
    assert_str_at(docs, "[0].id", "a");
    assert_str_at(docs, "[0].text", "A");
    cJSON_Delete(docs);
    otlp_batch_free(b);
    KV *oi[] = {kv_s("openinference.span.kind", "RETRIEVER"),
                kv_s("retrieval.documents.0.document.id", "d0"),
                kv_s("retrieval.documents.0.document.content", "zero"),
                kv_d("retrieval.documents.0.document.score", 0.5), NULL};
    p.attrs = oi;
    body = pack(&p, &len);
    assert_int_equal(otlp_decode_protobuf(body, len, NULL, &b, err, sizeof err), 0);
    assert_true(otlp_retrieval_docs(&b->spans[0], &docs));
    assert_str_at(docs, "[0].text", "zero");
    assert_true(num_at(docs, "[0].score") == 0.5);
    cJSON_Delete(docs);
    otlp_batch_free(b);
    KV *chat[] = {kv_s("gen_ai.operation.name", "chat"), kv_s("gen_ai.request.model", "m"), NULL};
    p.attrs = chat;
    body = pack(&p, &len);
    assert_int_equal(otlp_decode_protobuf(body, len, NULL, &b, err, sizeof err), 0);
    assert_false(otlp_retrieval_docs(&b->spans[0], &docs));
    assert_null(docs);
    otlp_batch_free(b);
}

static size_t text_total(const cJSON *n)
{
    size_t t = 0;
    if (cJSON_IsString(n) && n->string &&
        (!strcmp(n->string, "content") || !strcmp(n->string, "text") ||
         !strcmp(n->string, "arguments")))
        t += strlen(n->valuestring);
    for (const cJSON *c = n->child; c; c = c->next)
        t += text_total(c);
    return t;
}

static void test_text_cap(void **state)
{
    char *big = own(malloc(300001));
    memset(big, 'p', 300000);
    big[300000] = 0;
    /* a multi-byte character across the cut point */
    memcpy(big + 1020, "\xe2\x82\xac\xe2\x82\xac", 6);
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "provider", "openai");
    cJSON_AddStringToObject(ev, "operation", "chat");
    cJSON_AddStringToObject(ev, "request_model", "m");
    cJSON_AddNumberToObject(ev, "latency_ms", 1);
    cJSON *msgs = cJSON_AddArrayToObject(cJSON_AddObjectToObject(ev, "request"), "messages");
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", "user");
    cJSON_AddStringToObject(m, "content", big);
    cJSON_AddItemToArray(msgs, m);
    m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", "user");
    cJSON *parts = cJSON_AddArrayToObject(m, "content");
    cJSON *part = cJSON_CreateObject();
    cJSON_AddStringToObject(part, "type", "tool_call_response");
    cJSON_AddStringToObject(part, "id", "call-1");
    cJSON_AddStringToObject(part, "response", big);
    cJSON_AddItemToArray(parts, part);
    cJSON_AddItemToArray(msgs, m);
    cJSON *ctx = cJSON_AddArrayToObject(ev, "context");
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "id", "doc");
    cJSON_AddStringToObject(d, "text", "short context");
    cJSON_AddItemToArray(ctx, d);
    cJSON *resp = cJSON_AddObjectToObject(ev, "response");
    cJSON_AddStringToObject(resp, "text", big);
    /* nothing to cut under a large cap */
    assert_false(otlp_cap_text(ev, 10u << 20));
    assert_null(at(ev, "truncated"));
    assert_false(otlp_cap_text(ev, 0));
    assert_true(otlp_cap_text(ev, 4096));
    assert_true(cJSON_IsTrue(at(ev, "truncated")));
    /* the short context is kept whole; prompt and response share the rest */
    assert_str_at(ev, "context[0].text", "short context");
    size_t p0 = strlen(at(ev, "request.messages[0].content")->valuestring);
    size_t p1 = strlen(at(ev, "request.messages[1].content[0].response")->valuestring);
    size_t r = strlen(at(ev, "response.text")->valuestring);
    assert_true(p0 + p1 + r + strlen("short context") <= 4096);
    assert_true(p0 + p1 + r + strlen("short context") >= 4096 - 8);
    assert_true(p0 <= 1024 && p0 >= 1017); /* cut before the euro signs' bytes, not inside */
    assert_true(p0 == 1020 || p0 == 1023 || p0 == 1026 || p0 < 1020);
    assert_str_at(ev, "request.messages[1].content[0].id", "call-1"); /* identifiers not cut */
    assert_true(r >= 2000);
    assert_true(text_total(ev) <= 4096 + strlen("call-1"));
    check_valid(ev);
    cJSON_Delete(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_semconv_chat, teardown),
        cmocka_unit_test_teardown(test_finish_reasons_array, teardown),
        cmocka_unit_test_teardown(test_anthropic_usage, teardown),
        cmocka_unit_test_teardown(test_ignored, teardown),
        cmocka_unit_test_teardown(test_error_status_and_ids, teardown),
        cmocka_unit_test_teardown(test_attr_types_direct, teardown),
        cmocka_unit_test_teardown(test_json_openllmetry, teardown),
        cmocka_unit_test_teardown(test_json_openinference, teardown),
        cmocka_unit_test_teardown(test_semconv_retrieval_docs, teardown),
        cmocka_unit_test_teardown(test_identifiers_cut, teardown),
        cmocka_unit_test_teardown(test_two_resources, teardown),
        cmocka_unit_test_teardown(test_response_encoding, teardown),
        cmocka_unit_test_teardown(test_malformed_protobuf, teardown),
        cmocka_unit_test_teardown(test_truncated_everywhere, teardown),
        cmocka_unit_test_teardown(test_limits, teardown),
        cmocka_unit_test_teardown(test_logs_protobuf, teardown),
        cmocka_unit_test_teardown(test_logs_json_and_malformed, teardown),
        cmocka_unit_test_teardown(test_retrieval_spans, teardown),
        cmocka_unit_test_teardown(test_text_cap, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
