/*
 * fuzz_capture.c — fuzz target for the capture module (agent/capture.c,
 * capture_openai.c, capture_anthropic.c, with agent/sse.c).
 *
 * What it is for: a capture reads two untrusted byte strings per call, the
 * client's request body and the upstream's response, and must turn any of
 * them into a valid event without crashing or growing without bound.
 *
 * Input layout:
 *   byte 0  bits 0-2: format and op (mod 6: OpenAI chat, completion,
 *           embeddings, responses; Anthropic messages; OpenAI other)
 *           bit 3: Content-Type text/event-stream (else application/json)
 *           bit 4: embedding_vectors
 *           bits 5-6: text_cap 16, 256, 4096, 65536
 *           bit 7: an error status (400 + byte 1) instead of 200
 *   byte 1  the response chunk size (0: the response in one piece)
 *   then    the request body, up to the first NUL byte (none: no response)
 *   then    the response body (everything after that NUL)
 *
 * DESIGN — invariants (abort on violation):
 *   1. capture_finish succeeds, and its fields plus the ones the proxy adds
 *      encode to JSON that event_parse_json accepts (valid UTF-8, depth,
 *      size) and event_validate passes.
 *   2. The text kept (prompt, context, response: every content, text,
 *      arguments and input string) is at most text_cap bytes.
 *   3. The response fed whole or in chunks of the given size gives the same
 *      event; a second capture_finish writes the same event again.
 *   4. A usage rewrite, when offered, parses as an object, sets
 *      stream_options.include_usage to true, and changes nothing else
 *      (compared with every stream_options member removed from both).
 *   5. capture_is_usage_chunk on the response is true only for an object
 *      with an empty choices array and a usage object.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "event.h"

#define FUZZ_NAME "fuzz_capture"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
    enum capture_format f;
    enum capture_op op;
} kinds[] = {
    {CAPTURE_OPENAI, CAPTURE_OP_CHAT},        {CAPTURE_OPENAI, CAPTURE_OP_COMPLETION},
    {CAPTURE_OPENAI, CAPTURE_OP_EMBEDDINGS},  {CAPTURE_OPENAI, CAPTURE_OP_RESPONSES},
    {CAPTURE_ANTHROPIC, CAPTURE_OP_MESSAGES}, {CAPTURE_OPENAI, CAPTURE_OP_NONE},
};

static const size_t caps[] = {16, 256, 4096, 65536};

static size_t text_total(const cJSON *j, const char *key)
{
    size_t n = 0;
    if (cJSON_IsString(j) && key &&
        (!strcmp(key, "content") || !strcmp(key, "text") || !strcmp(key, "arguments") ||
         !strcmp(key, "input")))
        n += strlen(j->valuestring);
    for (const cJSON *c = j->child; c; c = c->next)
        n += text_total(c, c->string ? c->string : key);
    return n;
}

/* One capture; returns the encoded event (malloc'd). */
static char *run(int kind, const struct capture_opts *o, const char *req, size_t req_len,
                 int status, const char *ct, const char *resp, size_t resp_len, size_t chunk,
                 bool check_rewrite)
{
    struct capture *c = capture_new(o, kinds[kind].f, kinds[kind].op);
    FUZZ_ASSERT(c, "capture_new failed");
    capture_request(c, req, req_len);

    if (check_rewrite) {
        size_t n = 0;
        char *rw = capture_usage_rewrite(c, &n);
        if (rw) {
            FUZZ_ASSERT(strlen(rw) == n, "rewrite length %zu, strlen %zu", n, strlen(rw));
            cJSON *a = cJSON_ParseWithLength(req, req_len);
            cJSON *b = cJSON_ParseWithLength(rw, n);
            FUZZ_ASSERT(cJSON_IsObject(a), "a rewrite of a body that is not an object");
            FUZZ_ASSERT(cJSON_IsObject(b), "the rewrite does not parse: %.500s", rw);
            bool set = false;
            for (const cJSON *m = b->child; m; m = m->next)
                if (!strcmp(m->string, "stream_options"))
                    for (const cJSON *k = m->child; k; k = k->next)
                        if (!strcmp(k->string, "include_usage") && cJSON_IsTrue(k))
                            set = true;
            FUZZ_ASSERT(set, "the rewrite does not set include_usage: %.500s", rw);
            while (cJSON_GetObjectItemCaseSensitive(a, "stream_options"))
                cJSON_DeleteItemFromObjectCaseSensitive(a, "stream_options");
            while (cJSON_GetObjectItemCaseSensitive(b, "stream_options"))
                cJSON_DeleteItemFromObjectCaseSensitive(b, "stream_options");
            FUZZ_ASSERT(same_tree(a, b), "the rewrite changed more than stream_options: %.500s",
                        rw);
            cJSON_Delete(a);
            cJSON_Delete(b);
            free(rw);
        }
    }

    if (resp) {
        capture_response_begin(c, status, ct);
        for (size_t off = 0, i = 0; off < resp_len; i++) {
            size_t k = chunk && chunk < resp_len - off ? chunk : resp_len - off;
            capture_response_data(c, resp + off, k, 1000 + (int64_t)i);
            off += k;
        }
    }
    cJSON *ev = cJSON_CreateObject();
    int64_t first = -1;
    FUZZ_ASSERT(capture_finish(c, ev, &first) == 0, "capture_finish failed");
    FUZZ_ASSERT(first == 0 || first >= 1000, "first content time %lld", (long long)first);
    char *enc = event_encode(ev);
    cJSON *again = cJSON_CreateObject();
    FUZZ_ASSERT(capture_finish(c, again, &first) == 0, "second capture_finish failed");
    char *enc2 = event_encode(again);
    FUZZ_ASSERT(enc && enc2 && strcmp(enc, enc2) == 0, "a second capture_finish differs");
    free(enc2);
    cJSON_Delete(again);
    capture_free(c);

    size_t total = text_total(ev, NULL);
    FUZZ_ASSERT(total <= o->text_cap, "%zu bytes of text, cap %zu", total, o->text_cap);

    /* What the proxy adds, then the schema. */
    cJSON_AddStringToObject(ev, "schema", "llmtap.event/1");
    cJSON_AddStringToObject(ev, "id", "01JDQ6Z8V6M9T3K2W4X5Y6Z7A8");
    cJSON_AddStringToObject(ev, "time", "2026-11-23T10:15:02.123456Z");
    cJSON_AddStringToObject(ev, "service", "fuzz");
    cJSON_AddStringToObject(ev, "provider", "fuzz");
    cJSON_AddNumberToObject(ev, "latency_ms", 1);
    if (!cJSON_GetObjectItem(ev, "request_model") && !cJSON_GetObjectItem(ev, "response_model"))
        cJSON_AddStringToObject(ev, "request_model", "unknown");
    char *full = event_encode(ev);
    FUZZ_ASSERT(full, "event_encode failed");
    struct event_error err;
    memset(&err, 0, sizeof err);
    cJSON *back = event_parse_json(full, strlen(full), NULL, 0, &err);
    FUZZ_ASSERT(back, "the event does not parse back: %s\n  %.2000s", err.msg, full);
    FUZZ_ASSERT(event_validate(back, &err) == EVENT_OK,
                "the event does not validate: %s\n  %.2000s", err.msg, full);
    cJSON_Delete(back);
    free(full);
    cJSON_Delete(ev);
    return enc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int kind = (data[0] & 7) % 6;
    struct capture_opts o = {
        .text_cap = caps[(data[0] >> 5) & 3],
        .embedding_vectors = data[0] & 0x10,
    };
    const char *ct = data[0] & 8 ? "text/event-stream" : "application/json";
    int status = data[0] & 0x80 ? 400 + data[1] : 200;
    size_t chunk = data[1];
    const char *req = (const char *)data + 2;
    size_t n = size - 2;
    const char *nul = memchr(req, 0, n);
    size_t req_len = nul ? (size_t)(nul - req) : n;
    const char *resp = nul ? nul + 1 : NULL;
    size_t resp_len = nul ? n - req_len - 1 : 0;

    char *whole = run(kind, &o, req, req_len, status, ct, resp, resp_len, 0, true);
    if (resp && chunk && chunk < resp_len) {
        char *split = run(kind, &o, req, req_len, status, ct, resp, resp_len, chunk, false);
        FUZZ_ASSERT(strcmp(whole, split) == 0,
                    "chunks of %zu differ from whole:\n  %.2000s\n  vs %.2000s", chunk, split,
                    whole);
        free(split);
    }
    free(whole);

    if (resp && capture_is_usage_chunk(resp, resp_len)) {
        cJSON *d = cJSON_ParseWithLength(resp, resp_len);
        const cJSON *ch = cJSON_GetObjectItemCaseSensitive(d, "choices");
        FUZZ_ASSERT(cJSON_IsObject(d) && cJSON_IsArray(ch) && cJSON_GetArraySize(ch) == 0 &&
                        cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(d, "usage")),
                    "capture_is_usage_chunk accepted %.500s", resp);
        cJSON_Delete(d);
    }
    return 0;
}
