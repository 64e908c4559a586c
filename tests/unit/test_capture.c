/* Unit tests for agent/capture*.c: requests, responses (whole and streamed,
 * split anywhere), usage mapping per provider, tool calls, context, the text
 * cap, errors, the include_usage rewrite, and garbage. Every event produced
 * is also checked against the llmtap.event/1 validator. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "buf.h"
#include "capture.h"
#include "event.h"

/* ------------------------------------------------------------------------ */
/* helpers                                                                  */

/* Payloads are written with ' for " (none of them contains an apostrophe);
 * J() returns the real JSON, owned by a list freed after each test. */
static char *owned[256];
static int nowned;

static const char *J(const char *s)
{
    char *p = strdup(s);
    for (char *q = p; *q; q++)
        if (*q == '\'')
            *q = '"';
    assert_true(nowned < 256);
    owned[nowned++] = p;
    return p;
}

static int teardown(void **state)
{
    while (nowned)
        free(owned[--nowned]);
    return 0;
}

/* An SSE stream from data payloads (' for "), one event each; "event: " lines
 * when a payload starts with "name|". */
static const char *SSE(const char *const *events)
{
    struct buf b = {0};
    for (; *events; events++) {
        const char *e = *events, *bar = strchr(e, '|');
        if (e[0] != '{' && e[0] != '[' && bar) {
            buf_puts(&b, "event: ");
            buf_append(&b, e, (size_t)(bar - e));
            buf_puts(&b, "\n");
            e = bar + 1;
        }
        buf_puts(&b, "data: ");
        buf_puts(&b, J(e));
        buf_puts(&b, "\n\n");
    }
    char *s = buf_steal(&b, NULL);
    assert_true(nowned < 256);
    owned[nowned++] = s;
    return s;
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

static const char *str_at(const cJSON *j, const char *path)
{
    const cJSON *v = at(j, path);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_at(const cJSON *j, const char *path)
{
    const cJSON *v = at(j, path);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

#define assert_str_at(j, path, want)                                                               \
    do {                                                                                           \
        const char *got_ = str_at(j, path);                                                        \
        if (!got_ || strcmp(got_, want) != 0)                                                      \
            fail_msg("%s: got %s, want \"%s\"", path, got_ ? got_ : "(absent)", want);             \
    } while (0)

/* The capture's fields plus what the proxy adds must make a valid event. */
static void check_valid(const cJSON *ev)
{
    cJSON *e = cJSON_Duplicate(ev, 1);
    cJSON_AddStringToObject(e, "schema", "llmtap.event/1");
    cJSON_AddStringToObject(e, "id", "01JDQ6Z8V6M9T3K2W4X5Y6Z7A8");
    cJSON_AddStringToObject(e, "time", "2026-11-23T10:15:02.123456Z");
    cJSON_AddStringToObject(e, "service", "test");
    cJSON_AddStringToObject(e, "provider", "openai");
    cJSON_AddNumberToObject(e, "latency_ms", 1);
    if (!cJSON_GetObjectItem(e, "request_model") && !cJSON_GetObjectItem(e, "response_model"))
        cJSON_AddStringToObject(e, "request_model", "unknown");
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

struct run {
    enum capture_format f;
    enum capture_op op;
    struct capture_opts o;
    const char *req;
    int status;
    const char *ct;
    const char *resp;
    size_t resp_len; /* 0: strlen */
    size_t chunk;    /* response fed in chunks of this size (0: whole); chunk i at time 1000+i */
    int64_t ttft;    /* out: first content time */
};

static cJSON *capture_run(struct run *r)
{
    struct capture_opts o = r->o;
    if (!o.text_cap)
        o.text_cap = 65536;
    struct capture *c = capture_new(&o, r->f, r->op);
    assert_non_null(c);
    if (r->req)
        capture_request(c, r->req, strlen(r->req));
    if (r->status)
        capture_response_begin(c, r->status, r->ct);
    size_t len = r->resp ? (r->resp_len ? r->resp_len : strlen(r->resp)) : 0;
    for (size_t off = 0, i = 0; off < len; i++) {
        size_t n = r->chunk && r->chunk < len - off ? r->chunk : len - off;
        capture_response_data(c, r->resp + off, n, 1000 + (int64_t)i);
        off += n;
    }
    cJSON *ev = cJSON_CreateObject();
    assert_int_equal(capture_finish(c, ev, &r->ttft), 0);
    /* finish is repeatable */
    cJSON *again = cJSON_CreateObject();
    int64_t t2;
    assert_int_equal(capture_finish(c, again, &t2), 0);
    assert_true(cJSON_Compare(ev, again, 1));
    assert_int_equal(t2, r->ttft);
    cJSON_Delete(again);
    capture_free(c);
    check_valid(ev);
    return ev;
}

static char *encode(const cJSON *ev)
{
    return cJSON_PrintUnformatted(ev);
}

/* The response split at every byte (and fed a byte at a time) gives the same event. */
static void check_every_split(struct run r)
{
    r.chunk = 0;
    cJSON *whole = capture_run(&r);
    char *want = encode(whole);
    size_t len = strlen(r.resp);
    for (size_t k = 1; k <= len; k++) {
        r.chunk = k;
        cJSON *ev = capture_run(&r);
        char *got = encode(ev);
        if (strcmp(got, want) != 0)
            fail_msg("chunks of %zu differ:\n%s\nvs whole:\n%s", k, got, want);
        free(got);
        cJSON_Delete(ev);
    }
    free(want);
    cJSON_Delete(whole);
}

/* ------------------------------------------------------------------------ */
/* payloads, in the shapes the providers send                               */

static const char *const OPENAI_STREAM[] = {
    "{'id':'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT','object':'chat.completion.chunk','created':"
    "1741569952,'model':'gpt-4o-2024-08-06','service_tier':'default','system_fingerprint':'fp_"
    "f9f4fb6dbf','choices':[{'index':0,'delta':{'role':'assistant','content':'','refusal':null},"
    "'logprobs':null,'finish_reason':null}],'usage':null}",
    "{'id':'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT','object':'chat.completion.chunk','created':"
    "1741569952,'model':'gpt-4o-2024-08-06','service_tier':'default','system_fingerprint':'fp_"
    "f9f4fb6dbf','choices':[{'index':0,'delta':{'content':'Open Settings'},'logprobs':null,"
    "'finish_reason':null}],'usage':null}",
    "{'id':'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT','object':'chat.completion.chunk','created':"
    "1741569952,'model':'gpt-4o-2024-08-06','service_tier':'default','system_fingerprint':'fp_"
    "f9f4fb6dbf','choices':[{'index':0,'delta':{'content':', then Sécurité.'},'logprobs':null,"
    "'finish_reason':null}],'usage':null}",
    "{'id':'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT','object':'chat.completion.chunk','created':"
    "1741569952,'model':'gpt-4o-2024-08-06','service_tier':'default','system_fingerprint':'fp_"
    "f9f4fb6dbf','choices':[{'index':0,'delta':{},'logprobs':null,'finish_reason':'stop'}],"
    "'usage':null}",
    "{'id':'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT','object':'chat.completion.chunk','created':"
    "1741569952,'model':'gpt-4o-2024-08-06','service_tier':'default','system_fingerprint':'fp_"
    "f9f4fb6dbf','choices':[],'usage':{'prompt_tokens':2006,'completion_tokens':300,"
    "'total_tokens':2306,'prompt_tokens_details':{'cached_tokens':1920,'audio_tokens':0},"
    "'completion_tokens_details':{'reasoning_tokens':128,'audio_tokens':0,"
    "'accepted_prediction_tokens':0,'rejected_prediction_tokens':0}}}",
    "[DONE]",
    NULL,
};

static const char *CHAT_REQ =
    "{'model':'gpt-4o','stream':true,'stream_options':{'include_usage':true},"
    "'messages':[{'role':'system','content':'Answer from the context only.'},"
    "{'role':'user','content':'How do I reset my password?'}],'temperature':0.2,"
    "'max_completion_tokens':512,'seed':7,'user':'u_123','metadata':{'a':'b'}}";

/* ------------------------------------------------------------------------ */
/* tests                                                                    */

static void test_op_for(void **state)
{
    assert_int_equal(capture_op_for(CAPTURE_OPENAI, "POST", "/v1/chat/completions"),
                     CAPTURE_OP_CHAT);
    assert_int_equal(capture_op_for(CAPTURE_OPENAI, "POST", "/v1/completions"),
                     CAPTURE_OP_COMPLETION);
    assert_int_equal(capture_op_for(CAPTURE_OPENAI, "POST", "/v1/embeddings?x=1"),
                     CAPTURE_OP_EMBEDDINGS);
    assert_int_equal(capture_op_for(CAPTURE_OPENAI, "POST", "/v1/responses/"),
                     CAPTURE_OP_RESPONSES);
    assert_int_equal(
        capture_op_for(CAPTURE_OPENAI, "POST",
                       "/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21"),
        CAPTURE_OP_CHAT);
    assert_int_equal(capture_op_for(CAPTURE_OPENAI, "GET", "/v1/chat/completions"),
                     CAPTURE_OP_NONE);
    assert_int_equal(capture_op_for(CAPTURE_OPENAI, "POST", "/v1/responses/resp_1/cancel"),
                     CAPTURE_OP_NONE);
    assert_int_equal(capture_op_for(CAPTURE_OPENAI, "POST", "/v1/models"), CAPTURE_OP_NONE);
    assert_int_equal(capture_op_for(CAPTURE_OPENAI, "POST", "/v1/messages"), CAPTURE_OP_NONE);
    assert_int_equal(capture_op_for(CAPTURE_ANTHROPIC, "POST", "/v1/messages"),
                     CAPTURE_OP_MESSAGES);
    assert_int_equal(capture_op_for(CAPTURE_ANTHROPIC, "POST", "/v1/messages/count_tokens"),
                     CAPTURE_OP_NONE);
    assert_int_equal(capture_op_for(CAPTURE_ANTHROPIC, "POST", "/v1/chat/completions"),
                     CAPTURE_OP_NONE);
    assert_int_equal(capture_op_for(CAPTURE_OPENAI, NULL, "/v1/embeddings"), CAPTURE_OP_NONE);
    assert_string_equal(capture_op_name(CAPTURE_OP_CHAT), "chat");
    assert_string_equal(capture_op_name(CAPTURE_OP_MESSAGES), "chat");
    assert_string_equal(capture_op_name(CAPTURE_OP_COMPLETION), "completion");
    assert_string_equal(capture_op_name(CAPTURE_OP_EMBEDDINGS), "embeddings");
    assert_string_equal(capture_op_name(CAPTURE_OP_RESPONSES), "responses");
    capture_free(NULL);
}

static void test_openai_chat_stream_usage(void **state)
{
    struct run r = {.f = CAPTURE_OPENAI,
                    .op = CAPTURE_OP_CHAT,
                    .req = J(CHAT_REQ),
                    .status = 200,
                    .ct = "text/event-stream; charset=utf-8",
                    .resp = SSE(OPENAI_STREAM),
                    .chunk = 1};
    cJSON *ev = capture_run(&r);
    assert_str_at(ev, "operation", "chat");
    assert_str_at(ev, "request_model", "gpt-4o");
    assert_str_at(ev, "response_model", "gpt-4o-2024-08-06");
    assert_true(cJSON_IsTrue(at(ev, "stream")));
    assert_str_at(ev, "request.messages[0].role", "system");
    assert_str_at(ev, "request.messages[1].content", "How do I reset my password?");
    assert_true(num_at(ev, "request.params.temperature") == 0.2);
    assert_true(num_at(ev, "request.params.max_completion_tokens") == 512);
    assert_true(num_at(ev, "request.params.seed") == 7);
    assert_null(at(ev, "request.params.user"));     /* an end-user id: not a parameter */
    assert_null(at(ev, "request.params.metadata")); /* not a scalar */
    assert_str_at(ev, "response.text", "Open Settings, then Sécurité.");
    assert_str_at(ev, "response.finish_reason", "stop");
    assert_true(num_at(ev, "usage.input_tokens") == 2006);
    assert_true(num_at(ev, "usage.output_tokens") == 300);
    assert_true(num_at(ev, "usage.cached_input_tokens") == 1920);
    assert_true(num_at(ev, "usage.reasoning_tokens") == 128);
    assert_null(at(ev, "usage.cache_write_tokens"));
    assert_true(num_at(ev, "status") == 200);
    assert_true(cJSON_IsNull(at(ev, "error")));
    assert_true(cJSON_IsFalse(at(ev, "truncated")));
    /* TTFT: the chunk that brought "Open Settings", not the empty role chunk. Fed a
     * byte at a time, that is the byte that completed its event. */
    const char *resp = r.resp;
    const char *second = strstr(resp, "Open Settings");
    const char *end = strstr(second, "\n\n") + 1; /* the blank line's LF */
    assert_int_equal(r.ttft, 1000 + (end - resp));
    cJSON_Delete(ev);
    check_every_split(r);
}

static void test_openai_chat_nonstream(void **state)
{
    const char *req =
        J("{'model':'gpt-4o-mini','messages':["
          "{'role':'developer','content':'Use the tools. <context id=\\'kb-1\\' source=helpcenter "
          "score=\\'0.83\\'>\\n  To reset your password, open Settings.\\n</context>'},"
          "{'role':'user','content':[{'type':'text','text':'Weather in Paris? <context>Paris is in "
          "France.</context><context id=\\'x\\'>unclosed'},{'type':'image_url','image_url':"
          "{'url':'data:image/png;base64,iVBORw0KGgo=','detail':'low'}}]},"
          "{'role':'assistant','content':null,'tool_calls':[{'id':'call_9Xq','type':'function',"
          "'function':{'name':'get_weather','arguments':'{\\'city\\':\\'Paris\\'}'}}]},"
          "{'role':'tool','tool_call_id':'call_9Xq','content':'18C and sunny'},"
          "{'role':'function','name':'lookup','content':'legacy result'}],"
          "'tools':[{'type':'function','function':{'name':'get_weather','parameters':{'type':'"
          "object'}}}],"
          "'tool_choice':{'type':'function','function':{'name':'get_weather'}},"
          "'response_format':{'type':'json_schema','json_schema':{'name':'w','schema':{}}},"
          "'stop':['END','STOP'],'n':1,'reasoning_effort':'low','parallel_tool_calls':false,"
          "'temperature':1e999}");
    const char *resp = J(
        "{'id':'chatcmpl-abc','object':'chat.completion','created':1741570283,'model':'gpt-4o-mini-"
        "2024-07-18','choices':[{'index':0,'message':{'role':'assistant','content':'It is 18C and "
        "sunny in "
        "Paris.','refusal':null,'annotations':[]},'logprobs':null,'finish_reason':'stop'}],"
        "'usage':{'prompt_tokens':1117,'completion_tokens':46,'total_tokens':1163,"
        "'prompt_tokens_details':{'cached_tokens':1024,'audio_tokens':0},"
        "'completion_tokens_details':{'reasoning_tokens':0,'audio_tokens':0,"
        "'accepted_prediction_tokens':0,'rejected_prediction_tokens':0}},'service_tier':'default',"
        "'system_fingerprint':'fp_06737a9306'}");
    struct run r = {.f = CAPTURE_OPENAI,
                    .op = CAPTURE_OP_CHAT,
                    .req = req,
                    .status = 200,
                    .ct = "application/json",
                    .resp = resp,
                    .chunk = 7};
    cJSON *ev = capture_run(&r);
    assert_int_equal(r.ttft, 1000); /* non-stream: the first body byte */
    assert_true(cJSON_IsFalse(at(ev, "stream")));
    assert_str_at(ev, "request.messages[0].role", "developer");
    assert_str_at(ev, "request.messages[1].content[0].type", "text");
    assert_str_at(ev, "request.messages[1].content[1].type", "image");
    assert_null(at(ev, "request.messages[1].content[1].text")); /* no base64 in events */
    assert_str_at(ev, "request.messages[2].tool_calls[0].id", "call_9Xq");
    assert_str_at(ev, "request.messages[2].tool_calls[0].name", "get_weather");
    assert_str_at(ev, "request.messages[2].tool_calls[0].arguments", "{\"city\":\"Paris\"}");
    assert_null(at(ev, "request.messages[2].content"));
    assert_str_at(ev, "request.messages[3].role", "tool");
    assert_str_at(ev, "request.messages[3].content", "18C and sunny"); /* kept as it was */
    assert_str_at(ev, "request.messages[3].tool_call_id", "call_9Xq");
    /* context: the passage in the developer message, the one in the user part (the
     * unclosed one is not a passage), then the two tool results */
    assert_int_equal(cJSON_GetArraySize(at(ev, "context")), 4);
    assert_str_at(ev, "context[0].id", "kb-1");
    assert_str_at(ev, "context[0].source", "helpcenter");
    assert_true(num_at(ev, "context[0].score") == 0.83);
    assert_str_at(ev, "context[0].text", "To reset your password, open Settings.");
    assert_null(at(ev, "context[1].id"));
    assert_str_at(ev, "context[1].text", "Paris is in France.");
    assert_str_at(ev, "context[2].id", "call_9Xq");
    assert_str_at(ev, "context[2].source", "tool");
    assert_str_at(ev, "context[2].text", "18C and sunny");
    assert_str_at(ev, "context[3].id", "lookup");
    assert_str_at(ev, "context[3].text", "legacy result");
    /* params */
    assert_str_at(ev, "request.params.tools[0]", "get_weather");
    assert_str_at(ev, "request.params.tool_choice", "get_weather");
    assert_str_at(ev, "request.params.response_format", "json_schema");
    assert_str_at(ev, "request.params.stop[1]", "STOP");
    assert_str_at(ev, "request.params.reasoning_effort", "low");
    assert_true(cJSON_IsFalse(at(ev, "request.params.parallel_tool_calls")));
    assert_null(at(ev, "request.params.temperature")); /* not finite: left out */
    /* response */
    assert_str_at(ev, "response_model", "gpt-4o-mini-2024-07-18");
    assert_str_at(ev, "response.text", "It is 18C and sunny in Paris.");
    assert_str_at(ev, "response.finish_reason", "stop");
    assert_true(num_at(ev, "usage.input_tokens") == 1117);
    assert_true(num_at(ev, "usage.cached_input_tokens") == 1024);
    assert_true(num_at(ev, "usage.reasoning_tokens") == 0);
    assert_true(num_at(ev, "usage.output_tokens") == 46);
    cJSON_Delete(ev);
}

static void test_openai_tool_call_deltas(void **state)
{
    /* Two parallel tool calls, their argument deltas interleaved, as gpt-4o sends them. */
    static const char *const ev[] = {
        "{'id':'chatcmpl-T','object':'chat.completion.chunk','created':1,'model':'gpt-4o-mini',"
        "'choices':[{'index':0,'delta':{'role':'assistant','content':null,'tool_calls':[{'index':0,"
        "'id':'call_A','type':'function','function':{'name':'get_weather','arguments':''}}],"
        "'refusal':null},'logprobs':null,'finish_reason':null}]}",
        "{'id':'chatcmpl-T','object':'chat.completion.chunk','created':1,'model':'gpt-4o-mini',"
        "'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,'function':{'arguments':"
        "'{\\'ci'}}]},'logprobs':null,'finish_reason':null}]}",
        "{'id':'chatcmpl-T','object':'chat.completion.chunk','created':1,'model':'gpt-4o-mini',"
        "'choices':[{'index':0,'delta':{'tool_calls':[{'index':1,'id':'call_B','type':'function',"
        "'function':{'name':'get_time','arguments':''}}]},'logprobs':null,'finish_reason':null}]}",
        "{'id':'chatcmpl-T','object':'chat.completion.chunk','created':1,'model':'gpt-4o-mini',"
        "'choices':[{'index':0,'delta':{'tool_calls':[{'index':1,'function':{'arguments':"
        "'{\\'tz\\':\\'CET\\'}'}}]},'logprobs':null,'finish_reason':null}]}",
        "{'id':'chatcmpl-T','object':'chat.completion.chunk','created':1,'model':'gpt-4o-mini',"
        "'choices':[{'index':0,'delta':{'tool_calls':[{'index':0,'function':{'arguments':"
        "'ty\\':\\'Paris\\'}'}}]},'logprobs':null,'finish_reason':null}]}",
        "{'id':'chatcmpl-T','object':'chat.completion.chunk','created':1,'model':'gpt-4o-mini',"
        "'choices':[{'index':0,'delta':{},'logprobs':null,'finish_reason':'tool_calls'}]}",
        "[DONE]",
        NULL,
    };
    struct run r = {.f = CAPTURE_OPENAI,
                    .op = CAPTURE_OP_CHAT,
                    .req = J("{'model':'gpt-4o-mini','stream':true,'messages':[{'role':'user',"
                             "'content':'Weather and time in Paris?'}]}"),
                    .status = 200,
                    .ct = "text/event-stream",
                    .resp = SSE(ev)};
    cJSON *e = capture_run(&r);
    assert_str_at(e, "response.finish_reason", "tool_calls");
    assert_null(at(e, "response.text"));
    assert_int_equal(cJSON_GetArraySize(at(e, "response.tool_calls")), 2);
    assert_str_at(e, "response.tool_calls[0].id", "call_A");
    assert_str_at(e, "response.tool_calls[0].name", "get_weather");
    assert_str_at(e, "response.tool_calls[0].arguments", "{\"city\":\"Paris\"}");
    assert_str_at(e, "response.tool_calls[1].id", "call_B");
    assert_str_at(e, "response.tool_calls[1].name", "get_time");
    assert_str_at(e, "response.tool_calls[1].arguments", "{\"tz\":\"CET\"}");
    assert_int_equal(r.ttft, 1000); /* the first tool-call delta */
    assert_null(at(e, "usage"));    /* include_usage was not asked: no usage reported */
    cJSON_Delete(e);
    check_every_split(r);
}

static const char *const ANTHROPIC_STREAM[] = {
    "message_start|{'type':'message_start','message':{'id':'msg_014p7gG3wDgGV9EUtLvnow3U','type':"
    "'message','role':'assistant','model':'claude-sonnet-4-20250514','content':[],'stop_reason':"
    "null,'stop_sequence':null,'usage':{'input_tokens':472,'cache_creation_input_tokens':1500,"
    "'cache_read_input_tokens':20000,'output_tokens':2,'service_tier':'standard'}}}",
    "content_block_start|{'type':'content_block_start','index':0,'content_block':{'type':"
    "'thinking','thinking':'','signature':''}}",
    "content_block_delta|{'type':'content_block_delta','index':0,'delta':{'type':'thinking_delta',"
    "'thinking':'The user wants the weather.'}}",
    "content_block_delta|{'type':'content_block_delta','index':0,'delta':{'type':"
    "'signature_delta','signature':'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds'}}",
    "content_block_stop|{'type':'content_block_stop','index':0}",
    "content_block_start|{'type':'content_block_start','index':1,'content_block':{'type':'text',"
    "'text':''}}",
    "ping|{'type': 'ping'}",
    "content_block_delta|{'type':'content_block_delta','index':1,'delta':{'type':'text_delta',"
    "'text':'Let me check '}}",
    "content_block_delta|{'type':'content_block_delta','index':1,'delta':{'type':'text_delta',"
    "'text':'the weather.'}}",
    "content_block_stop|{'type':'content_block_stop','index':1}",
    "content_block_start|{'type':'content_block_start','index':2,'content_block':{'type':"
    "'tool_use','id':'toolu_01T1x1fJ34qAmk2tNTrN7Up6','name':'get_weather','input':{}}}",
    "content_block_delta|{'type':'content_block_delta','index':2,'delta':{'type':"
    "'input_json_delta','partial_json':''}}",
    "content_block_delta|{'type':'content_block_delta','index':2,'delta':{'type':"
    "'input_json_delta','partial_json':'{\\'location\\': \\'San Fra'}}",
    "content_block_delta|{'type':'content_block_delta','index':2,'delta':{'type':"
    "'input_json_delta','partial_json':'ncisco, CA\\'}'}}",
    "content_block_stop|{'type':'content_block_stop','index':2}",
    "message_delta|{'type':'message_delta','delta':{'stop_reason':'tool_use','stop_sequence':null},"
    "'usage':{'output_tokens':89}}",
    "message_stop|{'type':'message_stop'}",
    NULL,
};

static void test_anthropic_stream_usage(void **state)
{
    const char *req =
        J("{'model':'claude-sonnet-4-20250514','max_tokens':1024,'stream':true,"
          "'system':[{'type':'text','text':'You are a weather bot.','cache_control':{'type':"
          "'ephemeral'}}],'thinking':{'type':'enabled','budget_tokens':2000},"
          "'tools':[{'name':'get_weather','description':'Get the weather','input_schema':{'type':"
          "'object'}},{'type':'web_search_20250305','name':'web_search','max_uses':3}],"
          "'tool_choice':{'type':'auto'},'stop_sequences':['###'],'temperature':1,"
          "'messages':[{'role':'user','content':'Weather in San Francisco?'}]}");
    struct run r = {.f = CAPTURE_ANTHROPIC,
                    .op = CAPTURE_OP_MESSAGES,
                    .req = req,
                    .status = 200,
                    .ct = "text/event-stream; charset=utf-8",
                    .resp = SSE(ANTHROPIC_STREAM),
                    .chunk = 1};
    cJSON *ev = capture_run(&r);
    assert_str_at(ev, "operation", "chat");
    assert_str_at(ev, "request_model", "claude-sonnet-4-20250514");
    assert_str_at(ev, "response_model", "claude-sonnet-4-20250514");
    assert_str_at(ev, "request.messages[0].role", "system");
    assert_str_at(ev, "request.messages[0].content[0].text", "You are a weather bot.");
    assert_str_at(ev, "request.messages[1].content", "Weather in San Francisco?");
    assert_true(num_at(ev, "request.params.max_tokens") == 1024);
    assert_true(num_at(ev, "request.params.thinking_budget_tokens") == 2000);
    assert_str_at(ev, "request.params.thinking", "enabled");
    assert_str_at(ev, "request.params.tools[1]", "web_search");
    assert_str_at(ev, "request.params.tool_choice", "auto");
    assert_str_at(ev, "request.params.stop[0]", "###");
    /* usage: input = 472 + 1500 + 20000 */
    assert_true(num_at(ev, "usage.input_tokens") == 21972);
    assert_true(num_at(ev, "usage.cached_input_tokens") == 20000);
    assert_true(num_at(ev, "usage.cache_write_tokens") == 1500);
    assert_true(num_at(ev, "usage.output_tokens") == 89);
    assert_null(at(ev, "usage.reasoning_tokens")); /* Anthropic does not report it apart */
    assert_str_at(ev, "response.text", "Let me check the weather."); /* thinking not included */
    assert_str_at(ev, "response.finish_reason", "tool_calls");
    assert_str_at(ev, "response.tool_calls[0].id", "toolu_01T1x1fJ34qAmk2tNTrN7Up6");
    assert_str_at(ev, "response.tool_calls[0].name", "get_weather");
    assert_str_at(ev, "response.tool_calls[0].arguments", "{\"location\": \"San Francisco, CA\"}");
    /* TTFT: the first thinking delta (output), fed one byte at a time */
    const char *third = strstr(r.resp, "thinking_delta");
    assert_int_equal(r.ttft, 1000 + (strstr(third, "\n\n") + 1 - r.resp));
    cJSON_Delete(ev);
    check_every_split(r);
}

static void test_anthropic_nonstream_and_context(void **state)
{
    const char *req = J(
        "{'model':'claude-3-5-haiku-latest','max_tokens':256,"
        "'system':'Answer from the documents. <doc id=\\'faq-7\\' score=\\'0.9\\' "
        "source=\\'faq\\'>Refunds take 5 days.</doc> <context id=\\'ignored\\'>not our tag"
        "</context>',"
        "'messages':[{'role':'user','content':[{'type':'document','source':{'type':'text',"
        "'media_type':'text/plain','data':'The grass is green.'},'title':'Facts'},"
        "{'type':'search_result','source':'https://example.com/kb/1','title':'KB 1','content':"
        "[{'type':'text','text':'Reset via Settings.'}]},{'type':'text','text':'How long?'}]},"
        "{'role':'assistant','content':[{'type':'text','text':'Checking.'},{'type':'tool_use','id':"
        "'toolu_01A','name':'lookup_order','input':{'order_id':'A-17'}}]},"
        "{'role':'user','content':[{'type':'tool_result','tool_use_id':'toolu_01A','content':"
        "[{'type':'text','text':'Order A-17: refunded'},{'type':'text','text':'on May 3'}]},"
        "{'type':'tool_result','tool_use_id':'toolu_01B','content':'plain string result',"
        "'is_error':false}]}]}");
    const char *resp = J(
        "{'id':'msg_01EcyWo6m4hyW8KHs2y2pei5','type':'message','role':'assistant','model':"
        "'claude-3-5-haiku-20241022','content':[{'type':'text','text':'Refunds take 5 days.'},"
        "{'type':'tool_use','id':'toolu_01C','name':'notify','input':{'to':'ops','urgent':true}}],"
        "'stop_reason':'tool_use','stop_sequence':null,'usage':{'input_tokens':2095,"
        "'cache_creation_input_tokens':0,'cache_read_input_tokens':0,'output_tokens':503}}");
    struct capture_opts o = {.text_cap = 65536, .context_tag = "doc"};
    struct run r = {.f = CAPTURE_ANTHROPIC,
                    .op = CAPTURE_OP_MESSAGES,
                    .o = o,
                    .req = req,
                    .status = 200,
                    .ct = "application/json",
                    .resp = resp};
    cJSON *ev = capture_run(&r);
    assert_true(cJSON_IsFalse(at(ev, "stream")));
    /* messages kept as they were */
    assert_str_at(ev, "request.messages[1].content[0].type", "document");
    assert_str_at(ev, "request.messages[1].content[2].text", "How long?");
    assert_str_at(ev, "request.messages[2].content[0].text", "Checking.");
    assert_str_at(ev, "request.messages[2].tool_calls[0].name", "lookup_order");
    assert_str_at(ev, "request.messages[2].tool_calls[0].arguments", "{\"order_id\":\"A-17\"}");
    assert_str_at(ev, "request.messages[3].content[0].type", "tool_result");
    assert_str_at(ev, "request.messages[3].content[0].tool_use_id", "toolu_01A");
    assert_str_at(ev, "request.messages[3].content[0].text", "Order A-17: refunded\non May 3");
    /* context, in order of appearance */
    assert_int_equal(cJSON_GetArraySize(at(ev, "context")), 5);
    assert_str_at(ev, "context[0].id", "faq-7");
    assert_str_at(ev, "context[0].source", "faq");
    assert_true(num_at(ev, "context[0].score") == 0.9);
    assert_str_at(ev, "context[0].text", "Refunds take 5 days.");
    assert_str_at(ev, "context[1].id", "Facts");
    assert_str_at(ev, "context[1].source", "document");
    assert_str_at(ev, "context[1].text", "The grass is green.");
    assert_str_at(ev, "context[2].source", "https://example.com/kb/1");
    assert_str_at(ev, "context[2].text", "Reset via Settings.");
    assert_str_at(ev, "context[3].id", "toolu_01A");
    assert_str_at(ev, "context[3].source", "tool");
    assert_str_at(ev, "context[3].text", "Order A-17: refunded\non May 3");
    assert_str_at(ev, "context[4].id", "toolu_01B");
    assert_str_at(ev, "context[4].text", "plain string result");
    /* response */
    assert_str_at(ev, "response_model", "claude-3-5-haiku-20241022");
    assert_str_at(ev, "response.text", "Refunds take 5 days.");
    assert_str_at(ev, "response.finish_reason", "tool_calls");
    assert_str_at(ev, "response.tool_calls[0].id", "toolu_01C");
    assert_str_at(ev, "response.tool_calls[0].arguments", "{\"to\":\"ops\",\"urgent\":true}");
    assert_true(num_at(ev, "usage.input_tokens") == 2095);
    assert_true(num_at(ev, "usage.cached_input_tokens") == 0);
    assert_true(num_at(ev, "usage.cache_write_tokens") == 0);
    assert_true(num_at(ev, "usage.output_tokens") == 503);
    cJSON_Delete(ev);

    /* finish reasons */
    static const struct {
        const char *from, *to;
    } fr[] = {{"end_turn", "stop"},          {"stop_sequence", "stop"},
              {"max_tokens", "length"},      {"tool_use", "tool_calls"},
              {"refusal", "content_filter"}, {"pause_turn", "pause_turn"}};
    for (size_t i = 0; i < sizeof fr / sizeof fr[0]; i++) {
        char body[256];
        snprintf(
            body, sizeof body,
            "{\"type\":\"message\",\"model\":\"claude-x\",\"content\":[],\"stop_reason\":\"%s\"}",
            fr[i].from);
        struct run r2 = {.f = CAPTURE_ANTHROPIC,
                         .op = CAPTURE_OP_MESSAGES,
                         .status = 200,
                         .ct = "application/json",
                         .resp = body};
        ev = capture_run(&r2);
        assert_str_at(ev, "response.finish_reason", fr[i].to);
        cJSON_Delete(ev);
    }
}

static void test_responses_api(void **state)
{
    const char *req =
        J("{'model':'o4-mini','instructions':'Be brief.','input':[{'role':'user','content':"
          "[{'type':'input_text','text':'Weather in Paris? <context id=\\'w1\\'>Rain expected."
          "</context>'}]},{'type':'function_call','call_id':'call_1','name':'get_weather',"
          "'arguments':'{}'},{'type':'function_call_output','call_id':'call_1','output':"
          "'12C, rain'},{'type':'reasoning','id':'rs_1','summary':[]}],"
          "'reasoning':{'effort':'high','summary':'auto'},'max_output_tokens':2048,"
          "'text':{'format':{'type':'json_object'}},'tools':[{'type':'function','name':"
          "'get_weather','parameters':{}},{'type':'web_search_preview'}],'store':false}");
    const char *resp = J(
        "{'id':'resp_67ccd2bed1ec8190','object':'response','created_at':1741476542,'status':"
        "'completed','error':null,'incomplete_details':null,'instructions':'Be brief.',"
        "'max_output_tokens':2048,'model':'o4-mini-2025-04-16','output':[{'type':'reasoning','id':"
        "'rs_2','summary':[]},{'type':'message','id':'msg_67cc','status':'completed','role':"
        "'assistant','content':[{'type':'output_text','text':'Rainy, 12C.','annotations':[]}]},"
        "{'type':'function_call','id':'fc_1','call_id':'call_2','name':'get_forecast','arguments':"
        "'{\\'days\\':2}','status':'completed'}],'parallel_tool_calls':true,'usage':"
        "{'input_tokens':328,'input_tokens_details':{'cached_tokens':256},'output_tokens':52,"
        "'output_tokens_details':{'reasoning_tokens':32},'total_tokens':380},'user':null,"
        "'metadata':{}}");
    struct run r = {.f = CAPTURE_OPENAI,
                    .op = CAPTURE_OP_RESPONSES,
                    .req = req,
                    .status = 200,
                    .ct = "application/json",
                    .resp = resp};
    cJSON *ev = capture_run(&r);
    assert_str_at(ev, "operation", "responses");
    assert_str_at(ev, "request.messages[0].role", "system");
    assert_str_at(ev, "request.messages[0].content", "Be brief.");
    assert_str_at(ev, "request.messages[1].content[0].type", "text");
    assert_str_at(ev, "request.messages[2].tool_calls[0].id", "call_1");
    assert_str_at(ev, "request.messages[3].role", "tool");
    assert_str_at(ev, "request.messages[3].content", "12C, rain");
    assert_int_equal(cJSON_GetArraySize(at(ev, "request.messages")), 4);
    assert_str_at(ev, "context[0].id", "w1");
    assert_str_at(ev, "context[1].id", "call_1");
    assert_str_at(ev, "context[1].text", "12C, rain");
    assert_str_at(ev, "request.params.reasoning_effort", "high");
    assert_str_at(ev, "request.params.response_format", "json_object");
    assert_str_at(ev, "request.params.tools[1]", "web_search_preview");
    assert_true(num_at(ev, "request.params.max_output_tokens") == 2048);
    assert_str_at(ev, "response_model", "o4-mini-2025-04-16");
    assert_str_at(ev, "response.text", "Rainy, 12C.");
    assert_str_at(ev, "response.tool_calls[0].id", "call_2");
    assert_str_at(ev, "response.tool_calls[0].arguments", "{\"days\":2}");
    assert_str_at(ev, "response.finish_reason", "tool_calls");
    assert_true(num_at(ev, "usage.input_tokens") == 328);
    assert_true(num_at(ev, "usage.cached_input_tokens") == 256);
    assert_true(num_at(ev, "usage.output_tokens") == 52);
    assert_true(num_at(ev, "usage.reasoning_tokens") == 32);
    cJSON_Delete(ev);

    /* streamed */
    static const char *const sev[] = {
        "response.created|{'type':'response.created','sequence_number':0,'response':{'id':"
        "'resp_1','object':'response','created_at':1741290958,'status':'in_progress','model':"
        "'gpt-4.1-2025-04-14','output':[],'usage':null}}",
        "response.output_item.added|{'type':'response.output_item.added','sequence_number':1,"
        "'output_index':0,'item':{'id':'msg_1','status':'in_progress','type':'message','role':"
        "'assistant','content':[]}}",
        "response.output_text.delta|{'type':'response.output_text.delta','sequence_number':2,"
        "'item_id':'msg_1','output_index':0,'content_index':0,'delta':'Hi'}",
        "response.output_text.delta|{'type':'response.output_text.delta','sequence_number':3,"
        "'item_id':'msg_1','output_index':0,'content_index':0,'delta':' there!'}",
        "response.output_item.added|{'type':'response.output_item.added','sequence_number':4,"
        "'output_index':1,'item':{'type':'function_call','id':'fc_9','call_id':'call_9','name':"
        "'get_weather','arguments':'','status':'in_progress'}}",
        "response.function_call_arguments.delta|{'type':'response.function_call_arguments.delta',"
        "'sequence_number':5,'item_id':'fc_9','output_index':1,'delta':'{\\'city\\':'}",
        "response.function_call_arguments.delta|{'type':'response.function_call_arguments.delta',"
        "'sequence_number':6,'item_id':'fc_9','output_index':1,'delta':'\\'Oslo\\'}'}",
        "response.function_call_arguments.done|{'type':'response.function_call_arguments.done',"
        "'sequence_number':7,'item_id':'fc_9','output_index':1,'arguments':'{\\'city\\':\\'Oslo\\'}"
        "'}",
        "response.completed|{'type':'response.completed','sequence_number':8,'response':{'id':"
        "'resp_1','object':'response','status':'completed','model':'gpt-4.1-2025-04-14','output':"
        "[{'id':'msg_1','type':'message','role':'assistant','content':[{'type':'output_text',"
        "'text':'Hi there!','annotations':[]}]},{'type':'function_call','id':'fc_9','call_id':"
        "'call_9','name':'get_weather','arguments':'{\\'city\\':\\'Oslo\\'}'}],'usage':"
        "{'input_tokens':37,'input_tokens_details':{'cached_tokens':0},'output_tokens':11,"
        "'output_tokens_details':{'reasoning_tokens':0},'total_tokens':48}}}",
        NULL,
    };
    struct run s = {.f = CAPTURE_OPENAI,
                    .op = CAPTURE_OP_RESPONSES,
                    .req = J("{'model':'gpt-4.1','input':'Hi','stream':true}"),
                    .status = 200,
                    .ct = "text/event-stream",
                    .resp = SSE(sev)};
    ev = capture_run(&s);
    assert_str_at(ev, "request.messages[0].role", "user");
    assert_str_at(ev, "request.messages[0].content", "Hi");
    assert_str_at(ev, "response.text", "Hi there!"); /* not doubled by response.completed */
    assert_int_equal(cJSON_GetArraySize(at(ev, "response.tool_calls")), 1);
    assert_str_at(ev, "response.tool_calls[0].id", "call_9");
    assert_str_at(ev, "response.tool_calls[0].arguments", "{\"city\":\"Oslo\"}");
    assert_str_at(ev, "response.finish_reason", "tool_calls");
    assert_true(num_at(ev, "usage.input_tokens") == 37);
    assert_true(num_at(ev, "usage.output_tokens") == 11);
    assert_true(num_at(ev, "usage.cached_input_tokens") == 0);
    assert_true(num_at(ev, "usage.reasoning_tokens") == 0);
    assert_int_equal(s.ttft, 1000);
    cJSON_Delete(ev);
    check_every_split(s);

    /* incomplete and failed */
    static const char *const inc[] = {
        "response.incomplete|{'type':'response.incomplete','response':{'status':'incomplete',"
        "'incomplete_details':{'reason':'max_output_tokens'},'model':'o3','output':[],'usage':"
        "{'input_tokens':10,'output_tokens':2048,'output_tokens_details':{'reasoning_tokens':"
        "2048}}}}",
        NULL,
    };
    struct run s2 = {.f = CAPTURE_OPENAI,
                     .op = CAPTURE_OP_RESPONSES,
                     .status = 200,
                     .ct = "text/event-stream",
                     .resp = SSE(inc)};
    ev = capture_run(&s2);
    assert_str_at(ev, "response.finish_reason", "length");
    assert_true(num_at(ev, "usage.reasoning_tokens") == 2048);
    cJSON_Delete(ev);
    static const char *const failed[] = {
        "response.failed|{'type':'response.failed','response':{'status':'failed','error':{'code':"
        "'server_error','message':'The model failed to generate a response.'},'model':'o3',"
        "'output':[]}}",
        NULL,
    };
    s2.resp = SSE(failed);
    ev = capture_run(&s2);
    assert_str_at(ev, "response.finish_reason", "error");
    assert_str_at(ev, "error.type", "server_error");
    assert_str_at(ev, "error.message", "The model failed to generate a response.");
    cJSON_Delete(ev);
}

static void test_completions_and_embeddings(void **state)
{
    struct run r = {
        .f = CAPTURE_OPENAI,
        .op = CAPTURE_OP_COMPLETION,
        .req = J("{'model':'gpt-3.5-turbo-instruct','prompt':['Say this is a test','Again'],"
                 "'max_tokens':7,'temperature':0,'stop':'\\n'}"),
        .status = 200,
        .ct = "application/json",
        .resp =
            J("{'id':'cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7','object':'text_completion','created':"
              "1589478378,'model':'gpt-3.5-turbo-instruct','system_fingerprint':'fp_44709d6fcb',"
              "'choices':[{'text':'\\n\\nThis is indeed a test','index':0,'logprobs':null,"
              "'finish_reason':'length'}],'usage':{'prompt_tokens':5,'completion_tokens':7,"
              "'total_tokens':12}}")};
    cJSON *ev = capture_run(&r);
    assert_str_at(ev, "operation", "completion");
    assert_str_at(ev, "request.messages[0].role", "user");
    assert_str_at(ev, "request.messages[1].content", "Again");
    assert_str_at(ev, "request.params.stop", "\n");
    assert_str_at(ev, "response.text", "\n\nThis is indeed a test");
    assert_str_at(ev, "response.finish_reason", "length");
    assert_true(num_at(ev, "usage.input_tokens") == 5);
    assert_true(num_at(ev, "usage.output_tokens") == 7);
    assert_null(at(ev, "usage.cached_input_tokens"));
    cJSON_Delete(ev);

    /* embeddings: float arrays */
    const char *emb = J("{'object':'list','data':[{'object':'embedding','index':0,'embedding':"
                        "[0.0023064255,-0.009327292,0.015797347]},{'object':'embedding','index':1,"
                        "'embedding':[0.1,0.2,0.3]}],'model':'text-embedding-3-small','usage':"
                        "{'prompt_tokens':8,'total_tokens':8}}");
    struct run e = {.f = CAPTURE_OPENAI,
                    .op = CAPTURE_OP_EMBEDDINGS,
                    .req = J("{'model':'text-embedding-3-small','input':['The food was "
                             "delicious','and the waiter'],'encoding_format':'float',"
                             "'dimensions':3}"),
                    .status = 200,
                    .ct = "application/json",
                    .resp = emb};
    ev = capture_run(&e);
    assert_str_at(ev, "operation", "embeddings");
    assert_str_at(ev, "request.input[0]", "The food was delicious");
    assert_true(num_at(ev, "request.params.dimensions") == 3);
    assert_true(num_at(ev, "response.embedding.count") == 2);
    assert_true(num_at(ev, "response.embedding.dimension") == 3);
    assert_null(at(ev, "response.embedding.vectors"));
    assert_true(num_at(ev, "usage.input_tokens") == 8);
    assert_null(at(ev, "usage.output_tokens"));
    assert_str_at(ev, "response_model", "text-embedding-3-small");
    cJSON_Delete(ev);
    e.o.embedding_vectors = true;
    ev = capture_run(&e);
    assert_int_equal(cJSON_GetArraySize(at(ev, "response.embedding.vectors")), 2);
    assert_true(num_at(ev, "response.embedding.vectors[1][2]") == 0.3);
    cJSON_Delete(ev);

    /* base64 (what the openai-python SDK asks for by default): 1.0f, -2.5f */
    e.req = J("{'model':'text-embedding-3-small','input':'one string'}");
    e.resp = J("{'object':'list','data':[{'object':'embedding','index':0,'embedding':"
               "'AACAPwAAIMA='}],'model':'text-embedding-3-small','usage':{'prompt_tokens':2,"
               "'total_tokens':2}}");
    ev = capture_run(&e);
    assert_str_at(ev, "request.input", "one string");
    assert_true(num_at(ev, "response.embedding.dimension") == 2);
    assert_true(num_at(ev, "response.embedding.vectors[0][0]") == 1.0);
    assert_true(num_at(ev, "response.embedding.vectors[0][1]") == -2.5);
    cJSON_Delete(ev);
}

static void test_usage_rewrite(void **state)
{
    struct capture_opts o = {.text_cap = 1024};
    /* Absent: added; everything else byte-identical (the 64-bit seed too). */
    const char *body = "{\"model\":\"gpt-4o\", \"seed\": 12345678901234567890, \"stream\":true,"
                       "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    struct capture *c = capture_new(&o, CAPTURE_OPENAI, CAPTURE_OP_CHAT);
    capture_request(c, body, strlen(body));
    assert_true(capture_streaming(c));
    size_t n = 0;
    char *out = capture_usage_rewrite(c, &n);
    assert_non_null(out);
    assert_int_equal(n, strlen(out));
    assert_string_equal(out, "{\"stream_options\":{\"include_usage\":true},\"model\":\"gpt-4o\", "
                             "\"seed\": 12345678901234567890, \"stream\":true,\"messages\":"
                             "[{\"role\":\"user\",\"content\":\"hi\"}]}");
    free(out);
    capture_free(c);

    static const struct {
        const char *in, *out;
    } cases[] = {
        {"{\"stream\":true,\"stream_options\":{\"include_usage\":false},\"model\":\"m\"}",
         "{\"stream\":true,\"stream_options\":{\"include_usage\":true},\"model\":\"m\"}"},
        {"{\"stream\":true,\"stream_options\":{}}",
         "{\"stream\":true,\"stream_options\":{\"include_usage\":true}}"},
        {"{\"stream\":true,\"stream_options\":null}",
         "{\"stream\":true,\"stream_options\":{\"include_usage\":true}}"},
        {" {\"stream\":true,\"stream_options\":{\"include_obfuscation\":false}} ",
         " {\"stream\":true,\"stream_options\":{\"include_usage\":true,\"include_obfuscation\":"
         "false}} "},
        {"{\"prompt\":\"a \\\"stream_options\\\" b\",\"stream\":true}",
         "{\"stream_options\":{\"include_usage\":true},\"prompt\":\"a \\\"stream_options\\\" b\","
         "\"stream\":true}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum capture_op op = i == 4 ? CAPTURE_OP_COMPLETION : CAPTURE_OP_CHAT;
        c = capture_new(&o, CAPTURE_OPENAI, op);
        capture_request(c, cases[i].in, strlen(cases[i].in));
        out = capture_usage_rewrite(c, &n);
        assert_non_null(out);
        assert_string_equal(out, cases[i].out);
        cJSON *j = cJSON_Parse(out);
        assert_true(cJSON_IsTrue(at(j, "stream_options.include_usage")));
        cJSON_Delete(j);
        free(out);
        capture_free(c);
    }
    /* NULL: not streaming, already asked, wrong format/op, not an object, not JSON. */
    static const struct {
        enum capture_format f;
        enum capture_op op;
        const char *body;
    } none[] = {
        {CAPTURE_OPENAI, CAPTURE_OP_CHAT, "{\"model\":\"m\",\"messages\":[]}"},
        {CAPTURE_OPENAI, CAPTURE_OP_CHAT, "{\"stream\":false}"},
        {CAPTURE_OPENAI, CAPTURE_OP_CHAT,
         "{\"stream\":true,\"stream_options\":{\"include_usage\":true}}"},
        {CAPTURE_OPENAI, CAPTURE_OP_EMBEDDINGS, "{\"stream\":true}"},
        {CAPTURE_OPENAI, CAPTURE_OP_RESPONSES, "{\"stream\":true}"},
        {CAPTURE_ANTHROPIC, CAPTURE_OP_MESSAGES, "{\"stream\":true}"},
        {CAPTURE_OPENAI, CAPTURE_OP_CHAT, "[{\"stream\":true}]"},
        {CAPTURE_OPENAI, CAPTURE_OP_CHAT, "{\"stream\":true"},
        {CAPTURE_OPENAI, CAPTURE_OP_CHAT, "{\"stream\":true,\"stream_options\":\"x\"}"},
    };
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        c = capture_new(&o, none[i].f, none[i].op);
        capture_request(c, none[i].body, strlen(none[i].body));
        out = capture_usage_rewrite(c, &n);
        if (out)
            fail_msg("case %zu: want NULL, got %s", i, out);
        capture_free(c);
    }
    c = capture_new(&o, CAPTURE_OPENAI, CAPTURE_OP_CHAT); /* no request at all */
    assert_null(capture_usage_rewrite(c, &n));
    capture_free(c);
}

static void test_is_usage_chunk(void **state)
{
    const char *yes = J(OPENAI_STREAM[4]);
    assert_true(capture_is_usage_chunk(yes, strlen(yes)));
    const char *vllm = J("{'id':'x','choices':[],'usage':{'prompt_tokens':1}}");
    assert_true(capture_is_usage_chunk(vllm, strlen(vllm)));
    static const char *const no[] = {
        "{'id':'x','choices':[{'index':0,'delta':{'content':'hi'}}],'usage':null}",
        "{'id':'x','choices':[{'index':0,'delta':{}}],'usage':{'prompt_tokens':1}}",
        "{'id':'x','choices':[],'usage':null}",
        "{'id':'x','usage':{'prompt_tokens':1}}",
        "{'id':'x','choices':[{'delta':{'content':'the \\'usage\\':{} key'}}]}",
        "[DONE]",
        "{'choices':[],'usage':{",
        "",
    };
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        const char *s = J(no[i]);
        if (capture_is_usage_chunk(s, strlen(s)))
            fail_msg("not a usage chunk: %s", s);
    }
    assert_false(capture_is_usage_chunk(NULL, 0));
    assert_false(capture_is_usage_chunk(yes, 10)); /* cut: not JSON */
}

/* The total of the text fields of an event. */
static size_t text_total(const cJSON *j, const char *key, int depth)
{
    size_t n = 0;
    if (cJSON_IsString(j) && key &&
        (!strcmp(key, "content") || !strcmp(key, "text") || !strcmp(key, "arguments") ||
         !strcmp(key, "input")))
        n += strlen(j->valuestring);
    const cJSON *c;
    cJSON_ArrayForEach(c, j) n += text_total(c, c->string ? c->string : key, depth + 1);
    return n;
}

static void test_text_cap(void **state)
{
    /* 3-byte characters: any cut must fall between them. */
    char big[4000] = "";
    for (int i = 0; i < 300; i++)
        strcat(big, "€");
    char req[9000];
    snprintf(req, sizeof req,
             "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"system\",\"content\":\"%s\"},"
             "{\"role\":\"user\",\"content\":\"short question\"},{\"role\":\"tool\","
             "\"tool_call_id\":\"c1\",\"content\":\"%s\"}]}",
             big, big);
    char resp[9000];
    snprintf(resp, sizeof resp,
             "{\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
             "\"content\":\"%s\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,"
             "\"completion_tokens\":3}}",
             big);
    for (size_t cap = 0; cap < 3000; cap += 97) {
        struct run r = {.f = CAPTURE_OPENAI,
                        .op = CAPTURE_OP_CHAT,
                        .o = {.text_cap = cap},
                        .req = req,
                        .status = 200,
                        .ct = "application/json",
                        .resp = resp};
        r.o.text_cap = cap ? cap : 1; /* 0 means the default in capture_run */
        cJSON *ev = capture_run(&r);
        size_t total = text_total(ev, NULL, 0);
        if (total > r.o.text_cap)
            fail_msg("cap %zu: %zu bytes of text", r.o.text_cap, total);
        assert_true(cJSON_IsTrue(at(ev, "truncated")));
        const char *t = str_at(ev, "response.text");
        assert_non_null(t);
        assert_int_equal(strlen(t) % 3, 0); /* whole characters only */
        const char *s = str_at(ev, "request.messages[0].content");
        assert_int_equal(strlen(s) % 3, 0);
        assert_true(num_at(ev, "usage.input_tokens") == 9); /* the rest is still there */
        /* A fair share: the short question is never cut while others are long. */
        if (r.o.text_cap >= 300)
            assert_str_at(ev, "request.messages[1].content", "short question");
        /* the response gets a third (or all it needs), less a partial character */
        size_t third = r.o.text_cap / 3 < 900 ? r.o.text_cap / 3 : 900;
        if (third >= 2 && strlen(t) < third - 2)
            fail_msg("cap %zu: response %zu bytes, want %zu", r.o.text_cap, strlen(t), third);
        cJSON_Delete(ev);
    }
    /* Under the cap: nothing cut. */
    struct run r = {.f = CAPTURE_OPENAI,
                    .op = CAPTURE_OP_CHAT,
                    .o = {.text_cap = 10000},
                    .req = req,
                    .status = 200,
                    .ct = "application/json",
                    .resp = resp};
    cJSON *ev = capture_run(&r);
    assert_true(cJSON_IsFalse(at(ev, "truncated")));
    assert_string_equal(str_at(ev, "response.text"), big);
    cJSON_Delete(ev);

    /* A small prompt leaves the response the rest of the cap. */
    struct run s = {.f = CAPTURE_OPENAI,
                    .op = CAPTURE_OP_CHAT,
                    .o = {.text_cap = 600},
                    .req = J("{'model':'m','messages':[{'role':'user','content':'hi'}]}"),
                    .status = 200,
                    .ct = "application/json",
                    .resp = resp};
    ev = capture_run(&s);
    assert_int_equal(strlen(str_at(ev, "response.text")), 597); /* 598 is inside a € */
    cJSON_Delete(ev);

    /* Streamed text past the cap: cut, and no later delta sneaks in after the cut. */
    static const char *const sev[] = {
        "{'choices':[{'index':0,'delta':{'content':'aaaaaaaa'}}]}",
        "{'choices':[{'index':0,'delta':{'content':'€€'}}]}",
        "{'choices':[{'index':0,'delta':{'content':'b'}}]}",
        NULL,
    };
    struct run t = {.f = CAPTURE_OPENAI,
                    .op = CAPTURE_OP_CHAT,
                    .o = {.text_cap = 10},
                    .status = 200,
                    .ct = "text/event-stream",
                    .resp = SSE(sev)};
    ev = capture_run(&t);
    assert_str_at(ev, "response.text", "aaaaaaaa");
    assert_true(cJSON_IsTrue(at(ev, "truncated")));
    cJSON_Delete(ev);
}

static void test_errors(void **state)
{
    /* OpenAI 429 */
    struct run r = {.f = CAPTURE_OPENAI,
                    .op = CAPTURE_OP_CHAT,
                    .req = J(CHAT_REQ),
                    .status = 429,
                    .ct = "application/json",
                    .resp = J("{\n    'error': {\n        'message': 'Rate limit reached for "
                              "gpt-4o in organization org-x on tokens per min (TPM): Limit "
                              "30000, Used 29913, Requested 1063.',\n        'type': 'tokens',"
                              "\n        'param': null,\n        'code': 'rate_limit_exceeded'\n"
                              "    }\n}\n")};
    cJSON *ev = capture_run(&r);
    assert_true(num_at(ev, "status") == 429);
    assert_str_at(ev, "error.type", "tokens");
    assert_non_null(strstr(str_at(ev, "error.message"), "Rate limit reached"));
    assert_null(at(ev, "response"));
    assert_int_equal(r.ttft, 0); /* an error is no content */
    assert_null(at(ev, "usage"));
    cJSON_Delete(ev);
    /* type null: the code */
    r.status = 401;
    r.resp = J("{'error':{'message':'Incorrect API key provided.','type':null,'param':null,"
               "'code':'invalid_api_key'}}");
    ev = capture_run(&r);
    assert_str_at(ev, "error.type", "invalid_api_key");
    cJSON_Delete(ev);
    /* Anthropic 529 */
    struct run a = {.f = CAPTURE_ANTHROPIC,
                    .op = CAPTURE_OP_MESSAGES,
                    .status = 529,
                    .ct = "application/json",
                    .resp = J("{'type':'error','error':{'type':'overloaded_error','message':"
                              "'Overloaded'},'request_id':'req_011CSHoEeqs5C35K2UUqR7Fy'}")};
    ev = capture_run(&a);
    assert_str_at(ev, "error.type", "overloaded_error");
    assert_str_at(ev, "error.message", "Overloaded");
    assert_null(at(ev, "response.finish_reason"));
    cJSON_Delete(ev);
    /* Not JSON: http_error with the status */
    a.status = 502;
    a.ct = "text/html";
    a.resp = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n</html>";
    ev = capture_run(&a);
    assert_str_at(ev, "error.type", "http_error");
    assert_str_at(ev, "error.message",
                  "HTTP 502: <html>  <head><title>502 Bad Gateway</title></head>  </html>");
    cJSON_Delete(ev);
    /* No body at all */
    a.resp = NULL;
    a.status = 503;
    ev = capture_run(&a);
    assert_str_at(ev, "error.type", "http_error");
    assert_str_at(ev, "error.message", "HTTP 503");
    cJSON_Delete(ev);
    /* An error event in an Anthropic stream */
    static const char *const aev[] = {
        ANTHROPIC_STREAM[0],
        ANTHROPIC_STREAM[5],
        ANTHROPIC_STREAM[7],
        "error|{'type':'error','error':{'type':'overloaded_error','message':'Overloaded'}}",
        NULL,
    };
    struct run s = {.f = CAPTURE_ANTHROPIC,
                    .op = CAPTURE_OP_MESSAGES,
                    .status = 200,
                    .ct = "text/event-stream",
                    .resp = SSE(aev)};
    ev = capture_run(&s);
    assert_true(num_at(ev, "status") == 200);
    assert_str_at(ev, "error.type", "overloaded_error");
    assert_str_at(ev, "response.finish_reason", "error");
    assert_str_at(ev, "response.text", "Let me check ");
    assert_true(num_at(ev, "usage.input_tokens") == 21972);
    cJSON_Delete(ev);
    /* An error chunk in an OpenAI stream */
    static const char *const oev[] = {
        OPENAI_STREAM[1],
        "{'error':{'message':'The server had an error while processing your request.','type':"
        "'server_error','param':null,'code':null}}",
        NULL,
    };
    struct run o = {.f = CAPTURE_OPENAI,
                    .op = CAPTURE_OP_CHAT,
                    .status = 200,
                    .ct = "text/event-stream",
                    .resp = SSE(oev)};
    ev = capture_run(&o);
    assert_str_at(ev, "error.type", "server_error");
    assert_str_at(ev, "response.finish_reason", "error");
    assert_str_at(ev, "response.text", "Open Settings");
    cJSON_Delete(ev);
    /* No response at all (the proxy never got one): status 0, no error of ours. */
    struct run none = {.f = CAPTURE_OPENAI, .op = CAPTURE_OP_CHAT, .req = J(CHAT_REQ)};
    ev = capture_run(&none);
    assert_true(num_at(ev, "status") == 0);
    assert_true(cJSON_IsNull(at(ev, "error")));
    assert_true(cJSON_IsTrue(at(ev, "stream")));
    cJSON_Delete(ev);
}

static void test_oversize_body_salvage(void **state)
{
    /* An embeddings body far past text_cap + the margin: not parsed whole, but the
     * usage and model at its end and the first vector's dimension are salvaged. */
    struct buf b = {0};
    buf_puts(&b, "{\"object\":\"list\",\"data\":[");
    for (int i = 0; i < 200; i++) {
        buf_printf(&b, "%s{\"object\":\"embedding\",\"index\":%d,\"embedding\":[", i ? "," : "", i);
        for (int k = 0; k < 1536; k++)
            buf_printf(&b, "%s-0.0%07d", k ? "," : "", k * 37 % 9999999);
        buf_puts(&b, "]}");
    }
    buf_puts(&b, "],\"model\":\"text-embedding-3-small\",\"usage\":{\"prompt_tokens\":4000,"
                 "\"total_tokens\":4000}}");
    assert_true(b.len > 2 * 1024 * 1024);
    struct run r = {.f = CAPTURE_OPENAI,
                    .op = CAPTURE_OP_EMBEDDINGS,
                    .o = {.text_cap = 1024},
                    .req = J("{'model':'text-embedding-3-small','input':'x'}"),
                    .status = 200,
                    .ct = "application/json",
                    .resp = b.p,
                    .chunk = 16384};
    cJSON *ev = capture_run(&r);
    assert_true(cJSON_IsTrue(at(ev, "truncated")));
    assert_true(num_at(ev, "usage.input_tokens") == 4000);
    assert_str_at(ev, "response_model", "text-embedding-3-small");
    assert_true(num_at(ev, "response.embedding.dimension") == 1536);
    assert_null(at(ev, "response.embedding.count")); /* unknown */
    cJSON_Delete(ev);
    buf_free(&b);
}

/* A tiny PRNG (xorshift64*), seeded from LLMTAP_TEST_SEED or the time; printed. */
static uint64_t rng;
static uint64_t next(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

static void test_garbage(void **state)
{
    const char *env = getenv("LLMTAP_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
    printf("test_garbage: seed %llu (LLMTAP_TEST_SEED to repeat)\n", (unsigned long long)seed);
    rng = seed | 1;
    /* Mutations of real payloads, and plain noise. */
    const char *seeds[] = {
        J(CHAT_REQ), SSE(OPENAI_STREAM), SSE(ANTHROPIC_STREAM),
        J("{'error':{'message':'x','type':'t'}}"),
        J("{'model':'m','input':[{'type':'function_call_output','call_id':"
          "'c','output':'<context id=\\'a\\' score=\\'1e999\\'>t</context>'}]}")};
    static const struct {
        enum capture_format f;
        enum capture_op op;
    } kinds[] = {{CAPTURE_OPENAI, CAPTURE_OP_CHAT},        {CAPTURE_OPENAI, CAPTURE_OP_COMPLETION},
                 {CAPTURE_OPENAI, CAPTURE_OP_EMBEDDINGS},  {CAPTURE_OPENAI, CAPTURE_OP_RESPONSES},
                 {CAPTURE_ANTHROPIC, CAPTURE_OP_MESSAGES}, {CAPTURE_OPENAI, CAPTURE_OP_NONE}};
    static const char alphabet[] =
        "{}[]\":,\\ \n\r0123456789.eE-+truefalsn<>/=' data:event\xc3\xa9\xff";
    for (int iter = 0; iter < 3000; iter++) {
        char req[600], resp[600];
        for (int w = 0; w < 2; w++) {
            char *dst = w ? resp : req;
            size_t n;
            if (next() % 3) {
                const char *src = seeds[next() % (sizeof seeds / sizeof seeds[0])];
                n = strlen(src) < 599 ? strlen(src) : 599;
                memcpy(dst, src, n);
                for (int m = (int)(next() % 8); m > 0; m--)
                    dst[next() % n] = alphabet[next() % (sizeof alphabet - 1)];
                n -= next() % (n / 4 + 1);
            } else {
                n = next() % 599;
                for (size_t i = 0; i < n; i++)
                    dst[i] = (char)(next() & 0xff ? alphabet[next() % (sizeof alphabet - 1)]
                                                  : (char)next());
            }
            dst[n] = 0;
        }
        int k = (int)(next() % (sizeof kinds / sizeof kinds[0]));
        static const int statuses[] = {200, 200, 400, 500, 0};
        struct run r = {.f = kinds[k].f,
                        .op = kinds[k].op,
                        .o = {.text_cap = 1 + next() % 300, .embedding_vectors = next() % 2},
                        .req = req,
                        .status = statuses[next() % 5],
                        .ct = next() % 2 ? "text/event-stream" : "application/json",
                        .resp = resp,
                        .resp_len = strlen(resp) ? strlen(resp) : 1,
                        .chunk = next() % 40};
        cJSON *ev = capture_run(&r); /* never crashes; always a valid event */
        size_t total = text_total(ev, NULL, 0);
        if (total > r.o.text_cap)
            fail_msg("seed %llu iter %d: %zu bytes of text over the cap %zu",
                     (unsigned long long)seed, iter, total, r.o.text_cap);
        cJSON_Delete(ev);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_op_for, teardown),
        cmocka_unit_test_teardown(test_openai_chat_stream_usage, teardown),
        cmocka_unit_test_teardown(test_openai_chat_nonstream, teardown),
        cmocka_unit_test_teardown(test_openai_tool_call_deltas, teardown),
        cmocka_unit_test_teardown(test_anthropic_stream_usage, teardown),
        cmocka_unit_test_teardown(test_anthropic_nonstream_and_context, teardown),
        cmocka_unit_test_teardown(test_responses_api, teardown),
        cmocka_unit_test_teardown(test_completions_and_embeddings, teardown),
        cmocka_unit_test_teardown(test_usage_rewrite, teardown),
        cmocka_unit_test_teardown(test_is_usage_chunk, teardown),
        cmocka_unit_test_teardown(test_text_cap, teardown),
        cmocka_unit_test_teardown(test_errors, teardown),
        cmocka_unit_test_teardown(test_oversize_body_salvage, teardown),
        cmocka_unit_test_teardown(test_garbage, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
