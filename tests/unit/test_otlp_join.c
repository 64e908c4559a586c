/* Unit tests for agent/otlp_join.c: the retrieval-span join. Batches are
 * decoded from OTLP/JSON written here; time is passed in (no sleeps). Covers
 * the join inside one request and across requests, the "not before the
 * retrieval ended" rule, embeddings left alone, duplicates, expiry, the
 * missed count, the bounds (spans, bytes) with eviction, the text cap on
 * buffered documents, and the join turned off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "metrics.h"
#include "otlp.h"
#include "otlp_join.h"
#include "otlp_map.h"

#define TRACE_A "4bf92f3577b34da6a3ce929d0e0e4736"
#define TRACE_B "0af7651916cd43dd8448eb211c80319c"
#define SEC     1000000000ull

/* One span as OTLP/JSON into out (a static buffer of the test's); kind: 'r'
 * retrieval (docs: a JSON array text, escaped for a JSON string), 'l' chat
 * LLM call, 'e' embeddings call. */
static void span_json(char *out, size_t n, const char *trace, const char *span, char kind,
                      uint64_t start, uint64_t end, const char *docs)
{
    struct buf b = {0};
    buf_printf(&b,
               "{\"traceId\":\"%s\",\"spanId\":\"%s\",\"startTimeUnixNano\":\"%llu\","
               "\"endTimeUnixNano\":\"%llu\",\"attributes\":[",
               trace, span, (unsigned long long)start, (unsigned long long)end);
    if (kind == 'r') {
        buf_puts(&b,
                 "{\"key\":\"gen_ai.operation.name\",\"value\":{\"stringValue\":\"retrieval\"}},"
                 "{\"key\":\"gen_ai.retrieval.documents\",\"value\":{\"stringValue\":\"");
        buf_puts(&b, docs);
        buf_puts(&b, "\"}}");
    } else {
        buf_printf(&b,
                   "{\"key\":\"gen_ai.operation.name\",\"value\":{\"stringValue\":\"%s\"}},"
                   "{\"key\":\"gen_ai.request.model\",\"value\":{\"stringValue\":\"m\"}}",
                   kind == 'e' ? "embeddings" : "chat");
    }
    buf_puts(&b, "]}");
    assert_true(b.len < n);
    memcpy(out, b.p, b.len + 1);
    buf_free(&b);
}

struct req {
    struct otlp_batch *b;
    cJSON **ev;
};

/* A request of the given spans (JSON texts), decoded and mapped. */
static struct req request(const char *const *spans, size_t n)
{
    size_t cap = 256;
    for (size_t i = 0; i < n; i++)
        cap += strlen(spans[i]) + 1;
    char *body = malloc(cap);
    assert_non_null(body);
    size_t k = (size_t)snprintf(body, cap, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[");
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(body + k, cap - k, "%s%s", i ? "," : "", spans[i]);
    snprintf(body + k, cap - k, "]}]}]}");
    struct req r;
    char err[256];
    if (otlp_decode_json(body, strlen(body), NULL, &r.b, err, sizeof err))
        fail_msg("decode: %s", err);
    free(body);
    r.ev = calloc(r.b->n + 1, sizeof *r.ev);
    for (size_t i = 0; i < r.b->n; i++)
        otlp_map_span(&r.b->spans[i], &r.ev[i]);
    return r;
}

static void req_free(struct req *r)
{
    for (size_t i = 0; i < r->b->n; i++)
        cJSON_Delete(r->ev[i]);
    free(r->ev);
    otlp_batch_free(r->b);
}

static int ctx_n(const cJSON *ev)
{
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ev, "context"));
}

static const char *ctx_id(const cJSON *ev, int i)
{
    const cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ev, "context"), i);
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "id"));
}

static const char DOCS1[] = "[{\\\"id\\\":\\\"kb-1\\\",\\\"content\\\":\\\"one\\\"},"
                            "{\\\"id\\\":\\\"kb-2\\\",\\\"content\\\":\\\"two\\\"}]";
static const char DOCS2[] = "[{\\\"id\\\":\\\"kb-2\\\",\\\"content\\\":\\\"two\\\"},"
                            "{\\\"id\\\":\\\"kb-3\\\",\\\"content\\\":\\\"three\\\"}]";

static struct otlp_join *mk(int64_t window_ms, size_t max_bytes, int max_spans, size_t cap,
                            struct metrics **m)
{
    *m = metrics_create();
    struct otlp_join_opts o = {.window_us = window_ms * 1000,
                               .max_bytes = max_bytes,
                               .max_spans = max_spans,
                               .text_cap = cap};
    struct otlp_join *j = otlp_join_create(&o, *m);
    assert_non_null(j);
    return j;
}

static void test_same_request(void **state)
{
    (void)state;
    struct metrics *m;
    struct otlp_join *j = mk(2000, 0, 0, 0, &m);
    char r[2048], l1[1024], l0[1024], e[1024], other[1024];
    uint64_t t = 1700000000 * SEC;
    span_json(r, sizeof r, TRACE_A, "1111111111111111", 'r', t, t + SEC, DOCS1);
    span_json(l1, sizeof l1, TRACE_A, "2222222222222222", 'l', t + 2 * SEC, t + 3 * SEC, NULL);
    /* started before the retrieval ended (e.g. query rewriting, or inside it) */
    span_json(l0, sizeof l0, TRACE_A, "3333333333333333", 'l', t + SEC / 2, t + SEC / 2 + 1, NULL);
    span_json(e, sizeof e, TRACE_A, "4444444444444444", 'e', t + 2 * SEC, t + 3 * SEC, NULL);
    span_json(other, sizeof other, TRACE_B, "5555555555555555", 'l', t + 2 * SEC, t + 3 * SEC,
              NULL);
    const char *spans[] = {l1, r, l0, e, other};
    struct req q = request(spans, 5);
    assert_null(q.ev[1]); /* the retrieval span is not an event */
    assert_int_equal(otlp_join_batch(j, q.b, q.ev, 1000), 1);
    assert_int_equal(ctx_n(q.ev[0]), 2);
    assert_string_equal(ctx_id(q.ev[0], 0), "kb-1");
    assert_string_equal(ctx_id(q.ev[0], 1), "kb-2");
    assert_int_equal(ctx_n(q.ev[2]), 0);
    assert_int_equal(ctx_n(q.ev[3]), 0);
    assert_int_equal(ctx_n(q.ev[4]), 0);
    struct otlp_join_stats st;
    otlp_join_stats(j, 1000, &st);
    assert_int_equal(st.joined, 1);
    assert_int_equal(st.spans, 1 + 3); /* the retrieval + three remembered calls */
    req_free(&q);
    /* expiry: the retrieval was used, so not counted as expired */
    otlp_join_stats(j, 1000 + 2000000, &st);
    assert_int_equal(st.spans, 0);
    assert_int_equal(st.expired, 0);
    otlp_join_destroy(j);
    metrics_destroy(m);
}

static void test_across_requests(void **state)
{
    (void)state;
    struct metrics *m;
    struct otlp_join *j = mk(2000, 0, 0, 0, &m);
    char r1[2048], r2[2048], l[1024];
    uint64_t t = 1700000000 * SEC;
    span_json(r1, sizeof r1, TRACE_A, "1111111111111111", 'r', t, t + SEC, DOCS1);
    span_json(r2, sizeof r2, TRACE_A, "2222222222222222", 'r', t, t + SEC, DOCS2);
    span_json(l, sizeof l, TRACE_A, "3333333333333333", 'l', t + 2 * SEC, t + 3 * SEC, NULL);
    const char *a[] = {r1};
    struct req q1 = request(a, 1);
    assert_int_equal(otlp_join_batch(j, q1.b, q1.ev, 0), 0);
    req_free(&q1);
    const char *b[] = {r2, l};
    struct req q2 = request(b, 2);
    assert_int_equal(otlp_join_batch(j, q2.b, q2.ev, 1999000), 1);
    /* kb-2 came twice: once */
    assert_int_equal(ctx_n(q2.ev[1]), 3);
    assert_string_equal(ctx_id(q2.ev[1], 0), "kb-2");
    assert_string_equal(ctx_id(q2.ev[1], 1), "kb-3");
    assert_string_equal(ctx_id(q2.ev[1], 2), "kb-1");
    req_free(&q2);
    /* past the window: the first retrieval has expired (it was used: not counted) */
    struct otlp_join_stats st;
    otlp_join_stats(j, 2000001, &st);
    assert_int_equal(st.expired, 0);
    assert_int_equal(st.spans, 2); /* r2 and the call, until 1999000 + 2 s */
    /* an unused retrieval expires and is counted; a call after the window gets nothing */
    char r3[2048], l3[1024];
    span_json(r3, sizeof r3, TRACE_B, "6666666666666666", 'r', t, t + SEC, DOCS1);
    span_json(l3, sizeof l3, TRACE_B, "7777777777777777", 'l', t + 5 * SEC, t + 6 * SEC, NULL);
    const char *c[] = {r3};
    struct req q3 = request(c, 1);
    otlp_join_batch(j, q3.b, q3.ev, 10000000);
    req_free(&q3);
    const char *d[] = {l3};
    struct req q4 = request(d, 1);
    assert_int_equal(otlp_join_batch(j, q4.b, q4.ev, 12000000), 0);
    assert_int_equal(ctx_n(q4.ev[0]), 0);
    req_free(&q4);
    otlp_join_stats(j, 12000000, &st);
    assert_int_equal(st.expired, 1);
    assert_int_equal(st.joined, 1);
    /* the metrics say the same */
    struct buf out = {0};
    metrics_render(m, &out);
    assert_non_null(strstr(out.p, "llmtap_agent_otlp_join_events_total 1\n"));
    assert_non_null(strstr(out.p, "llmtap_agent_otlp_join_expired_total 1\n"));
    buf_free(&out);
    otlp_join_destroy(j);
    metrics_destroy(m);
}

static void test_missed(void **state)
{
    (void)state;
    struct metrics *m;
    struct otlp_join *j = mk(2000, 0, 0, 0, &m);
    char r[2048], l[1024];
    uint64_t t = 1700000000 * SEC;
    span_json(l, sizeof l, TRACE_A, "3333333333333333", 'l', t + 2 * SEC, t + 3 * SEC, NULL);
    span_json(r, sizeof r, TRACE_A, "1111111111111111", 'r', t, t + SEC, DOCS1);
    const char *a[] = {l};
    struct req q1 = request(a, 1);
    otlp_join_batch(j, q1.b, q1.ev, 0);
    req_free(&q1);
    const char *b[] = {r};
    struct req q2 = request(b, 1);
    otlp_join_batch(j, q2.b, q2.ev, 1000);
    req_free(&q2);
    struct otlp_join_stats st;
    otlp_join_stats(j, 1000, &st);
    assert_int_equal(st.missed, 1);
    assert_int_equal(st.joined, 0);
    otlp_join_destroy(j);
    metrics_destroy(m);
}

static void test_bounds_and_cap(void **state)
{
    (void)state;
    struct metrics *m;
    /* three entries at most */
    struct otlp_join *j = mk(2000, 0, 3, 0, &m);
    uint64_t t = 1700000000 * SEC;
    char sp[4][2048];
    char id[17];
    for (int i = 0; i < 4; i++) {
        snprintf(id, sizeof id, "%016x", i + 1);
        span_json(sp[i], sizeof sp[i], i % 2 ? TRACE_B : TRACE_A, id, 'r', t, t + SEC, DOCS1);
    }
    for (int i = 0; i < 4; i++) {
        const char *a[] = {sp[i]};
        struct req q = request(a, 1);
        otlp_join_batch(j, q.b, q.ev, i);
        req_free(&q);
    }
    struct otlp_join_stats st;
    otlp_join_stats(j, 10, &st);
    assert_int_equal(st.spans, 3);
    assert_int_equal(st.evicted, 1);
    otlp_join_destroy(j);
    metrics_destroy(m);

    /* bytes: a retrieval larger than the whole buffer is not kept */
    j = mk(2000, 1024, 0, 0, &m);
    static char big[8192], docs[8300];
    memset(big, 'x', 4000);
    big[4000] = 0;
    snprintf(docs, sizeof docs, "[{\\\"id\\\":\\\"big\\\",\\\"content\\\":\\\"%s\\\"}]", big);
    static char rs[9000], l[1024];
    span_json(rs, sizeof rs, TRACE_A, "1111111111111111", 'r', t, t + SEC, docs);
    span_json(l, sizeof l, TRACE_A, "2222222222222222", 'l', t + 2 * SEC, t + 3 * SEC, NULL);
    const char *a[] = {rs};
    struct req q = request(a, 1);
    otlp_join_batch(j, q.b, q.ev, 0);
    req_free(&q);
    otlp_join_stats(j, 0, &st);
    assert_int_equal(st.evicted, 1);
    assert_int_equal(st.spans, 0);
    /* ... but within one request the join does not need the buffer */
    const char *both[] = {rs, l};
    q = request(both, 2);
    assert_int_equal(otlp_join_batch(j, q.b, q.ev, 0), 1);
    assert_int_equal(ctx_n(q.ev[1]), 1);
    req_free(&q);
    otlp_join_destroy(j);
    metrics_destroy(m);

    /* the text cap cuts buffered documents; the event that gets them is truncated */
    j = mk(2000, 0, 0, 1024, &m);
    q = request(a, 1);
    otlp_join_batch(j, q.b, q.ev, 0);
    req_free(&q);
    const char *b[] = {l};
    q = request(b, 1);
    assert_int_equal(otlp_join_batch(j, q.b, q.ev, 1), 1);
    const cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(q.ev[0], "context"), 0);
    assert_int_equal(strlen(cJSON_GetObjectItemCaseSensitive(d, "text")->valuestring), 1024);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q.ev[0], "truncated")));
    otlp_join_stats(j, 1, &st);
    assert_true(st.bytes < 2048 + 1024);
    req_free(&q);
    otlp_join_destroy(j);
    metrics_destroy(m);
}

static void test_off(void **state)
{
    (void)state;
    struct metrics *m;
    struct otlp_join *j = mk(0, 0, 0, 0, &m);
    char r[2048], l[1024];
    uint64_t t = 1700000000 * SEC;
    span_json(r, sizeof r, TRACE_A, "1111111111111111", 'r', t, t + SEC, DOCS1);
    span_json(l, sizeof l, TRACE_A, "2222222222222222", 'l', t + 2 * SEC, t + 3 * SEC, NULL);
    const char *a[] = {r, l};
    struct req q = request(a, 2);
    assert_int_equal(otlp_join_batch(j, q.b, q.ev, 0), 0);
    assert_int_equal(ctx_n(q.ev[1]), 0);
    req_free(&q);
    otlp_join_destroy(j);
    otlp_join_destroy(NULL);
    metrics_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_request), cmocka_unit_test(test_across_requests),
        cmocka_unit_test(test_missed),       cmocka_unit_test(test_bounds_and_cap),
        cmocka_unit_test(test_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
