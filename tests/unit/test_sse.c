/* Unit tests for agent/sse.c: the WHATWG event stream rules, any split of the
 * input, CR/LF/CRLF, comments, BOM, the size cap, end of stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "sse.h"

/* Every delivered block, serialised to one line per block so that two runs
 * compare with one strcmp: type|data|id|retry|raw (data "(null)" when none). */
struct log {
    struct buf b;
    int n;
};

static void put_escaped(struct buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\n')
            buf_puts(b, "\\n");
        else if (ch == '\r')
            buf_puts(b, "\\r");
        else if (ch == '|' || ch == '\\' || ch < 0x20 || ch >= 0x7f)
            buf_printf(b, "\\x%02x", ch);
        else
            buf_append(b, &s[i], 1);
    }
}

static void on_event(void *arg, const struct sse_event *ev)
{
    struct log *l = arg;
    assert_non_null(ev->type);
    assert_int_equal(ev->type[ev->type_len], 0);
    assert_int_equal(ev->id[ev->id_len], 0);
    if (ev->data)
        assert_int_equal(ev->data[ev->data_len], 0);
    put_escaped(&l->b, ev->type, ev->type_len);
    buf_puts(&l->b, "|");
    if (ev->data)
        put_escaped(&l->b, ev->data, ev->data_len);
    else
        buf_puts(&l->b, "(null)");
    buf_puts(&l->b, "|");
    put_escaped(&l->b, ev->id, ev->id_len);
    buf_printf(&l->b, "|%lld|", (long long)ev->retry_ms);
    put_escaped(&l->b, ev->raw, ev->raw_len);
    buf_puts(&l->b, "\n");
    l->n++;
}

/* Parses `in` fed in the given chunks (sizes; 0-terminated list, the rest in
 * one final chunk), returns the log (caller frees) and the stats. */
static char *run_chunks(const char *in, size_t len, const size_t *cuts, size_t max_event, bool all,
                        struct sse_stats *st)
{
    struct log l = {0};
    struct sse_opts o = {.max_event = max_event, .all_blocks = all};
    struct sse *p = sse_create(&o, on_event, &l);
    assert_non_null(p);
    size_t off = 0;
    for (; cuts && *cuts && off < len; cuts++) {
        size_t n = *cuts < len - off ? *cuts : len - off;
        sse_feed(p, in + off, n);
        off += n;
    }
    sse_feed(p, in + off, len - off);
    sse_finish(p);
    if (st)
        sse_get_stats(p, st);
    sse_destroy(p);
    buf_puts(&l.b, ""); /* non-NULL even when empty */
    return buf_steal(&l.b, NULL);
}

static char *run(const char *in, size_t len, size_t max_event, bool all, struct sse_stats *st)
{
    return run_chunks(in, len, NULL, max_event, all, st);
}

/* Fed whole, split in two at every position, and one byte at a time: the same. */
static void check_every_split(const char *in, size_t len, size_t max_event, bool all,
                              const char *want)
{
    struct sse_stats st0, st;
    char *whole = run(in, len, max_event, all, &st0);
    if (want)
        assert_string_equal(whole, want);
    for (size_t k = 0; k <= len; k++) {
        size_t cuts[] = {k, 0};
        char *got = run_chunks(in, len, k ? cuts : NULL, max_event, all, &st);
        if (strcmp(got, whole) != 0)
            fail_msg("split at %zu differs:\n%s\nvs whole:\n%s", k, got, whole);
        assert_memory_equal(&st, &st0, sizeof st);
        free(got);
    }
    size_t ones[4096];
    for (size_t i = 0; i < 4095; i++)
        ones[i] = 1;
    ones[4095] = 0;
    assert_true(len < 4095);
    char *bytes = run_chunks(in, len, ones, max_event, all, &st);
    assert_string_equal(bytes, whole);
    assert_memory_equal(&st, &st0, sizeof st);
    free(bytes);
    free(whole);
}

/* A chat completion stream as api.openai.com sends it (include_usage on). */
static const char OPENAI_STREAM[] =
    "data: {\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\","
    "\"created\":1741569952,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\","
    "\"system_fingerprint\":\"fp_06737a9306\",\"choices\":[{\"index\":0,\"delta\":{\"role\":"
    "\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}],"
    "\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\","
    "\"created\":1741569952,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\","
    "\"system_fingerprint\":\"fp_06737a9306\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
    "\"Hello\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\","
    "\"created\":1741569952,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\","
    "\"system_fingerprint\":\"fp_06737a9306\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
    "\" wörld\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\","
    "\"created\":1741569952,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\","
    "\"system_fingerprint\":\"fp_06737a9306\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":"
    "null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\","
    "\"created\":1741569952,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\","
    "\"system_fingerprint\":\"fp_06737a9306\",\"choices\":[],\"usage\":{\"prompt_tokens\":19,"
    "\"completion_tokens\":10,\"total_tokens\":29,\"prompt_tokens_details\":{\"cached_tokens\":0,"
    "\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
    "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}}\n\n"
    "data: [DONE]\n\n";

/* A messages stream as api.anthropic.com sends it. */
static const char ANTHROPIC_STREAM[] =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\","
    "\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":"
    "\"claude-sonnet-4-20250514\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":"
    "{\"input_tokens\":25,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,"
    "\"output_tokens\":1}}}\n\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\","
    "\"text\":\"\"}}\n\n"
    "event: ping\n"
    "data: {\"type\": \"ping\"}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"Hello\"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"!\"}}\n\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
    "\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n\n";

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_openai_stream_every_split(void **state)
{
    struct sse_stats st;
    char *log = run(OPENAI_STREAM, strlen(OPENAI_STREAM), 0, false, &st);
    assert_int_equal(count_lines(log), 6);
    assert_int_equal(st.events, 6);
    assert_int_equal(st.unterminated, 0);
    assert_non_null(strstr(log, "message|[DONE]||-1|data: [DONE]\\n\\n\n"));
    assert_non_null(strstr(log, "\"content\":\" w\\xc3\\xb6rld\"")); /* UTF-8 kept */
    free(log);
    check_every_split(OPENAI_STREAM, strlen(OPENAI_STREAM), 0, false, NULL);
    check_every_split(OPENAI_STREAM, strlen(OPENAI_STREAM), 0, true, NULL);
}

static void test_anthropic_stream_every_split(void **state)
{
    struct sse_stats st;
    char *log = run(ANTHROPIC_STREAM, strlen(ANTHROPIC_STREAM), 0, false, &st);
    assert_int_equal(st.events, 8);
    assert_non_null(strstr(log, "ping|{\"type\": \"ping\"}||-1|event: ping\\ndata: {\"type\": "
                                "\"ping\"}\\n\\n\n"));
    const char *first = "message_start|{\"type\":\"message_start\"";
    assert_int_equal(strncmp(log, first, strlen(first)), 0);
    free(log);
    check_every_split(ANTHROPIC_STREAM, strlen(ANTHROPIC_STREAM), 0, false, NULL);
}

static void test_line_endings(void **state)
{
    /* CRLF, split between the CR and the LF: the LF belongs to the event. */
    const char *in = "data: a\r\n\r\ndata: b\r\n\r\n";
    check_every_split(in, strlen(in), 0, false,
                      "message|a||-1|data: a\\r\\n\\r\\n\n"
                      "message|b||-1|data: b\\r\\n\\r\\n\n");
    size_t cuts[] = {10, 0}; /* "data: a\r\n\r" | "\ndata: b…" */
    char *got = run_chunks(in, strlen(in), cuts, 0, false, NULL);
    assert_string_equal(got, "message|a||-1|data: a\\r\\n\\r\\n\n"
                             "message|b||-1|data: b\\r\\n\\r\\n\n");
    free(got);
    /* Every field with CRLF (the LF must not start the next line). */
    in = "id: 1\r\nevent: e\r\nretry: 5\r\n: c\r\ndata: x\r\ndata: y\r\n\r\n";
    check_every_split(in, strlen(in), 0, false,
                      "e|x\\ny|1|5|id: 1\\r\\nevent: e\\r\\nretry: 5\\r\\n: c\\r\\ndata: "
                      "x\\r\\ndata: y\\r\\n\\r\\n\n");
    /* CR only; and mixed. */
    in = "data: a\rdata: b\r\revent: x\ndata: c\r\n\n";
    check_every_split(in, strlen(in), 0, false,
                      "message|a\\nb||-1|data: a\\rdata: b\\r\\r\n"
                      "x|c||-1|event: x\\ndata: c\\r\\n\\n\n");
}

static void test_pending_cr_dispatch(void **state)
{
    /* A blank line ending in CR waits for the next byte (is it an LF?). */
    struct log l = {0};
    struct sse *p = sse_create(NULL, on_event, &l);
    sse_feed(p, "data: a\r\r", 9);
    assert_int_equal(l.n, 0);
    sse_feed(p, "d", 1); /* not an LF: the event is complete, without it */
    assert_int_equal(l.n, 1);
    sse_feed(p, "ata: b\r\r", 8);
    assert_int_equal(l.n, 1);
    sse_finish(p); /* end of stream: dispatched */
    assert_int_equal(l.n, 2);
    buf_puts(&l.b, "");
    assert_string_equal(l.b.p, "message|a||-1|data: a\\r\\r\nmessage|b||-1|data: b\\r\\r\n");
    struct sse_stats st;
    sse_get_stats(p, &st);
    assert_int_equal(st.unterminated, 0);
    sse_destroy(p);
    buf_free(&l.b);
}

static void test_comments_and_fields(void **state)
{
    const char *in = ": this is a comment\n\n"
                     ":keep-alive\n"
                     "data: first\n"
                     ": a comment inside an event\n"
                     "data:second\n"
                     "data:  two spaces\n"
                     "data\n"
                     "unknown: ignored\n"
                     "event: update\n"
                     "id: 42\n"
                     "retry: 3000\n"
                     "\n"
                     "data: next\n"
                     "retry: 12x\n"
                     "\n"
                     "id\n"
                     "data:\n"
                     "\n";
    check_every_split(
        in, strlen(in), 0, false,
        "update|first\\nsecond\\n two spaces\\n|42|3000|:keep-alive\\ndata: first\\n: "
        "a comment inside an event\\ndata:second\\ndata:  two spaces\\ndata\\n"
        "unknown: ignored\\nevent: update\\nid: 42\\nretry: 3000\\n\\n\n"
        "message|next|42|-1|data: next\\nretry: 12x\\n\\n\n" /* the id persists */
        "message|||-1|id\\ndata:\\n\\n\n");                  /* "id" alone resets */
    /* In all_blocks mode the comment-only block is delivered too, without data. */
    char *all = run(in, strlen(in), 0, true, NULL);
    const char *comment = "message|(null)||-1|: this is a comment\\n\\n\n";
    assert_int_equal(strncmp(all, comment, strlen(comment)), 0);
    assert_int_equal(count_lines(all), 4);
    free(all);
    /* An event field with no data: not dispatched, and the type does not leak. */
    in = "event: lonely\n\ndata: x\n\n";
    check_every_split(in, strlen(in), 0, false, "message|x||-1|data: x\\n\\n\n");
    /* An id with a NUL is ignored. */
    static const char nul[] = "id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n";
    check_every_split(nul, sizeof nul - 1, 0, false,
                      "message|a|1|-1|id: 1\\ndata: a\\n\\n\n"
                      "message|b|1|-1|id: 2\\x00x\\ndata: b\\n\\n\n");
}

static void test_bom(void **state)
{
    const char *in = "\xEF\xBB\xBF"
                     "data: x\n\n"
                     "\xEF\xBB\xBF"
                     "data: y\n\n"
                     "data: z\n\n";
    /* Only the stream's first BOM is skipped; the second makes an unknown field. */
    check_every_split(in, strlen(in), 0, false,
                      "message|x||-1|\\xef\\xbb\\xbfdata: x\\n\\n\n"
                      "message|z||-1|data: z\\n\\n\n");
    /* A partial BOM is ordinary input. */
    in = "\xEF\xBB"
         "data: x\n\ndata: y\n\n";
    check_every_split(in, strlen(in), 0, false, "message|y||-1|data: y\\n\\n\n");
    in = "\xEF\xBB\xBF";
    struct sse_stats st;
    char *log = run(in, 3, 0, false, &st);
    assert_string_equal(log, "");
    assert_int_equal(st.unterminated, 0);
    free(log);
}

static void test_oversize(void **state)
{
    char in[1024];
    int n = snprintf(in, sizeof in,
                     "data: small\n\ndata: %0200d\ndata: more\n\n"
                     "event: after\ndata: ok\n\n",
                     7);
    struct sse_stats st;
    char *log = run(in, (size_t)n, 64, false, &st);
    assert_string_equal(log, "message|small||-1|data: small\\n\\n\n"
                             "after|ok||-1|event: after\\ndata: ok\\n\\n\n");
    assert_int_equal(st.oversize, 1);
    assert_int_equal(st.events, 2);
    free(log);
    check_every_split(in, (size_t)n, 64, false, NULL);
    check_every_split(in, (size_t)n, 64, true, NULL);
    /* Exactly at the cap fits; one byte more does not. */
    char *fit = run("data: 0123456789\n\n", 18, 18, false, &st);
    assert_int_equal(st.events, 1);
    free(fit);
    /* The LF of the final CRLF does not make a complete block oversize. */
    fit = run("data: 0123456789\r\n\r\ndata: x\n\n", 29, 19, false, &st);
    assert_string_equal(fit, "message|0123456789||-1|data: 0123456789\\r\\n\\r\\n\n"
                             "message|x||-1|data: x\\n\\n\n");
    assert_int_equal(st.oversize, 0);
    free(fit);
    fit = run("data: 0123456789\n\n", 18, 17, false, &st);
    assert_int_equal(st.events, 0);
    assert_int_equal(st.oversize, 1);
    free(fit);
}

static void test_unterminated(void **state)
{
    struct sse_stats st;
    char *log = run("data: a\n\ndata: b\n", 17, 0, false, &st);
    assert_string_equal(log, "message|a||-1|data: a\\n\\n\n");
    assert_int_equal(st.unterminated, 1);
    free(log);
    log = run("data: a\n\ndata: b", 16, 0, false, &st);
    assert_int_equal(st.unterminated, 1);
    assert_int_equal(st.events, 1);
    free(log);
    log = run("", 0, 0, false, &st);
    assert_int_equal(st.unterminated, 0);
    free(log);

    /* sse_finish resets the parser (and the last event id) for a new stream. */
    struct log l = {0};
    struct sse *p = sse_create(NULL, on_event, &l);
    sse_feed(p, "id: 7\ndata: a\n\ndata: b", 22);
    sse_finish(p);
    sse_feed(p,
             "\xEF\xBB\xBF"
             "data: c\n\n",
             12);
    sse_finish(p);
    buf_puts(&l.b, "");
    assert_string_equal(l.b.p, "message|a|7|-1|id: 7\\ndata: a\\n\\n\n"
                               "message|c||-1|\\xef\\xbb\\xbfdata: c\\n\\n\n");
    sse_get_stats(p, &st);
    assert_int_equal(st.unterminated, 1);
    assert_int_equal(st.events, 2);
    sse_destroy(p);
    sse_destroy(NULL);
    buf_free(&l.b);
}

/* all_blocks: the raw spans concatenate back to the stream. */
static void concat_event(void *arg, const struct sse_event *ev)
{
    buf_append(arg, ev->raw, ev->raw_len);
}

static void test_raw_concatenates(void **state)
{
    const char *in = "\xEF\xBB\xBF: hello\r\n\r\n\n\nevent: a\rdata: 1\r\r: c\n\ndata: 2\r\n\r\n"
                     "data: tail";
    struct buf b = {0};
    struct sse_opts o = {.all_blocks = true};
    struct sse *p = sse_create(&o, concat_event, &b);
    for (size_t i = 0; in[i]; i++)
        sse_feed(p, in + i, 1);
    sse_finish(p);
    buf_puts(&b, "");
    size_t tail = strlen("data: tail");
    assert_int_equal(b.len, strlen(in) - tail);
    assert_memory_equal(b.p, in, b.len);
    sse_destroy(p);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openai_stream_every_split),
        cmocka_unit_test(test_anthropic_stream_every_split),
        cmocka_unit_test(test_line_endings),
        cmocka_unit_test(test_pending_cr_dispatch),
        cmocka_unit_test(test_comments_and_fields),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_unterminated),
        cmocka_unit_test(test_raw_concatenates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
