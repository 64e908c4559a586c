/* Unit tests for common/event.c: scan limits, schema rules, fill, encode. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "event.h"
#include "timeutil.h"
#include "ulid.h"

#define VALID                                                                                      \
    "{\"schema\":\"llmtap.event/1\",\"id\":\"01JDQ6Z8V6M9T3K2W4X5Y6Z7A8\","                        \
    "\"time\":\"2026-11-23T10:15:02.123456Z\",\"service\":\"support-bot\",\"provider\":"           \
    "\"openai\","                                                                                  \
    "\"operation\":\"chat\",\"request_model\":\"gpt-4o-mini\",\"latency_ms\":842.5,"               \
    "\"usage\":{\"input_tokens\":412,\"output_tokens\":38},\"status\":200,\"cost_usd\":0.0000846," \
    "\"request\":{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]},\"error\":null,"          \
    "\"future_field\":{\"kept\":true}}"

/* Parses and validates; returns the reason and copies the message. */
static enum event_reason check(const char *json, char *msg)
{
    struct event_error err = {0};
    cJSON *ev = event_parse_json(json, strlen(json), NULL, 0, &err);
    enum event_reason r = ev ? event_validate(ev, &err) : err.reason;
    cJSON_Delete(ev);
    if (msg)
        strcpy(msg, r == EVENT_OK ? "" : err.msg);
    return r;
}

/* VALID with one field replaced: `"name":value` spliced in place of the old one. */
static char *with_field(const char *name, const char *value)
{
    cJSON *ev = cJSON_Parse(VALID);
    cJSON_DeleteItemFromObject(ev, name);
    if (value)
        cJSON_AddItemToObject(ev, name, cJSON_Parse(value));
    char *s = cJSON_PrintUnformatted(ev);
    cJSON_Delete(ev);
    return s;
}

static void expect(const char *name, const char *value, enum event_reason reason,
                   const char *msg_prefix)
{
    char *json = with_field(name, value);
    char msg[256];
    enum event_reason r = check(json, msg);
    if (r != reason || strncmp(msg, msg_prefix, strlen(msg_prefix)) != 0)
        fail_msg("%s=%s: got %s \"%s\", want %s \"%s…\"", name, value ? value : "(absent)",
                 event_reason_name(r), msg, event_reason_name(reason), msg_prefix);
    free(json);
}

static void test_valid(void **state)
{
    assert_int_equal(check(VALID, NULL), EVENT_OK);
}

static void test_required_fields(void **state)
{
    expect("schema", NULL, EVENT_MISSING_FIELD, "schema: required");
    expect("id", NULL, EVENT_MISSING_FIELD, "id: required");
    expect("time", NULL, EVENT_MISSING_FIELD, "time: required");
    expect("service", NULL, EVENT_MISSING_FIELD, "service: required");
    expect("provider", NULL, EVENT_MISSING_FIELD, "provider: required");
    expect("operation", NULL, EVENT_MISSING_FIELD, "operation: required");
    expect("latency_ms", NULL, EVENT_MISSING_FIELD, "latency_ms: required");
    expect("request_model", NULL, EVENT_MISSING_FIELD,
           "request_model: required (or response_model)");
    expect("service", "null", EVENT_MISSING_FIELD, "service: required");
}

static void test_types_and_values(void **state)
{
    expect("schema", "\"llmtap.event/2\"", EVENT_BAD_VALUE, "schema: must be");
    expect("id", "\"not-an-id\"", EVENT_BAD_VALUE, "id: must be a ULID");
    expect("id", "\"8ZZZZZZZZZZZZZZZZZZZZZZZZZ\"", EVENT_BAD_VALUE, "id:"); /* ULID overflow */
    expect("id", "\"123e4567-e89b-12d3-a456-426614174000\"", EVENT_OK, "");
    expect("time", "\"2026-02-30T00:00:00Z\"", EVENT_BAD_VALUE, "time: must be an RFC 3339");
    expect("time", "\"yesterday\"", EVENT_BAD_VALUE, "time:");
    expect("time", "1700000000", EVENT_WRONG_TYPE, "time: must be a string");
    expect("service", "\"has space\"", EVENT_BAD_VALUE, "service: must be 1-128 characters");
    expect("service", "\"\"", EVENT_BAD_VALUE, "service: must not be empty");
    expect("usage", "{\"input_tokens\":-1}", EVENT_BAD_VALUE,
           "usage.input_tokens: must be a non-negative integer");
    expect("usage", "{\"output_tokens\":1.5}", EVENT_BAD_VALUE,
           "usage.output_tokens: must be a non-negative integer");
    expect("usage", "{\"input_tokens\":\"12\"}", EVENT_WRONG_TYPE,
           "usage.input_tokens: must be a non-negative integer");
    expect("usage", "[1]", EVENT_WRONG_TYPE, "usage: must be an object");
    expect("latency_ms", "\"fast\"", EVENT_WRONG_TYPE, "latency_ms: must be a number");
    expect("latency_ms", "-3", EVENT_BAD_VALUE, "latency_ms: must be a non-negative number");
    expect("cost_usd", "true", EVENT_WRONG_TYPE, "cost_usd: must be a number");
    expect("status", "200.5", EVENT_WRONG_TYPE, "status: must be an integer");
    expect("trace_id", "\"xyz\"", EVENT_BAD_VALUE, "trace_id: must be 32 hex digits");
    expect("stream", "\"yes\"", EVENT_WRONG_TYPE, "stream: must be a boolean");
    expect("tags", "{\"a\":1}", EVENT_WRONG_TYPE, "tags.a: must be a string");
    expect("error", "\"boom\"", EVENT_WRONG_TYPE, "error: must be an object or null");
    expect("request", "{\"messages\":[{\"role\":\"user\"},{\"content\":\"x\"}]}",
           EVENT_MISSING_FIELD, "request.messages[1].role: required");
    expect("request", "{\"messages\":[{\"role\":\"user\",\"content\":5}]}", EVENT_WRONG_TYPE,
           "request.messages[0].content: must be a string or an array of parts");
    expect("context", "[{\"id\":\"kb\",\"score\":\"high\"}]", EVENT_WRONG_TYPE,
           "context[0].score: must be a number");
    expect("response", "{\"text\":7}", EVENT_WRONG_TYPE, "response.text: must be a string");
    expect("env", "null", EVENT_OK, ""); /* optional null = absent */
    expect("request_model", "\"\"", EVENT_BAD_VALUE, "request_model: must not be empty");
    expect("user", "\"\"", EVENT_BAD_VALUE, "user: must not be empty");
}

static void test_scan_limits(void **state)
{
    char msg[256];
    /* invalid UTF-8 */
    assert_int_equal(check("{\"a\":\"\xc3\x28\"}", msg), EVENT_BAD_UTF8);
    assert_int_equal(check("{\"a\":\"\xed\xa0\x80\"}", msg), EVENT_BAD_UTF8); /* surrogate */
    assert_int_equal(check("{\"a\":\"\xc0\xaf\"}", msg), EVENT_BAD_UTF8);     /* overlong */
    /* control characters and \u0000 */
    assert_int_equal(check("{\"a\":\"x\ty\"}", msg), EVENT_BAD_CHAR);
    assert_int_equal(check("{\"a\":\"x\\u0000y\"}", msg), EVENT_BAD_CHAR);
    /* malformed escapes (cJSON would decode a bad u-escape as a silent cut) */
    assert_int_equal(check("{\"a\":\"ab\\uZZZZcd\"}", msg), EVENT_BAD_JSON);
    assert_int_equal(check("{\"a\":\"ab\\u12\"}", msg), EVENT_BAD_JSON);
    assert_int_equal(check("{\"a\":\"ab\\qcd\"}", msg), EVENT_BAD_JSON);
    assert_int_equal(check("{\"a\":\"\\u00e9\\n\\/\\\"\"}", msg), EVENT_MISSING_FIELD);
    struct event_error err;
    const char nul[] = "{\"a\":1}\0";
    assert_null(event_parse_json(nul, sizeof nul - 1, NULL, 0, &err));
    assert_int_equal(err.reason, EVENT_BAD_CHAR);
    /* depth */
    size_t n = 10000;
    char *deep = malloc(2 * n + 1);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = 0;
    assert_int_equal(check(deep, msg), EVENT_TOO_DEEP);
    free(deep);
    /* size */
    struct event_limits lim = {.max_bytes = 64};
    assert_null(event_parse_json(VALID, strlen(VALID), &lim, 0, &err));
    assert_int_equal(err.reason, EVENT_TOO_LARGE);
    /* not JSON, trailing garbage, not an object */
    assert_int_equal(check("{\"a\":", msg), EVENT_BAD_JSON);
    assert_int_equal(check("{} x", msg), EVENT_BAD_JSON);
    assert_int_equal(check("", msg), EVENT_BAD_JSON);
    assert_int_equal(check("[1]", msg), EVENT_NOT_OBJECT);
    /* valid multibyte text passes */
    assert_int_equal(
        check("{\"a\":\"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\"}", msg),
        EVENT_MISSING_FIELD);
}

static void test_fill_and_fields(void **state)
{
    cJSON *ev = cJSON_Parse("{\"provider\":\"openai\",\"operation\":\"chat\","
                            "\"response_model\":\"m2\",\"request_model\":\"m1\",\"latency_ms\":1}");
    int64_t now = 1763892902123456; /* 2025-11-23T10:15:02.123456Z */
    assert_int_equal(event_fill(ev, "svc", now), 0);
    assert_int_equal(event_validate(ev, NULL), EVENT_OK);
    struct event_fields f;
    event_fields_get(ev, &f);
    assert_string_equal(f.service, "svc");
    assert_string_equal(f.model, "m2");
    assert_int_equal(f.time_us, now);
    assert_true(isnan(f.cost_usd));
    assert_int_equal(f.input_tokens, -1);
    assert_int_equal(strlen(f.id), 26);
    /* an existing service is kept */
    cJSON *ev2 = cJSON_Parse("{\"service\":\"mine\"}");
    event_fill(ev2, "svc", now);
    assert_string_equal(cJSON_GetObjectItem(ev2, "service")->valuestring, "mine");
    cJSON_Delete(ev2);
    /* encode → parse → equal */
    char *s = event_encode(ev);
    cJSON *back = cJSON_Parse(s);
    assert_true(cJSON_Compare(ev, back, 1));
    cJSON_Delete(back);
    free(s);
    cJSON_Delete(ev);
}

static void test_number_round_trip(void **state)
{
    /* Every double must come back identical: cJSON's printer is 1 ulp lossy. */
    static const double vals[] = {0.30000000000000004,
                                  1.7976931348623157e308,
                                  4.9406564584124654e-324,
                                  -0.0,
                                  1e15,
                                  123456789012345678.0,
                                  0.1,
                                  842.5,
                                  -3.25e-7};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddNumberToObject(ev, "v", vals[i]);
        char *s = event_encode(ev);
        cJSON *back = cJSON_Parse(s);
        double got = cJSON_GetObjectItem(back, "v")->valuedouble;
        if (memcmp(&got, &vals[i], sizeof got) != 0)
            fail_msg("%.17g encoded as %s, read back %.17g", vals[i], s, got);
        cJSON_Delete(back);
        cJSON_Delete(ev);
        free(s);
    }
    /* A number beyond double range anywhere is refused, with the field named. */
    char msg[256];
    char json[1024];
    snprintf(json, sizeof json, "{\"extra\":{\"deep\":[1e999]},%s", VALID + 1);
    assert_int_equal(check(json, msg), EVENT_BAD_VALUE);
    assert_string_equal(msg, "extra: holds a number too large to represent (not a finite double)");
}

static void test_error_message_utf8(void **state)
{
    /* A message quoting a long multibyte field name is cut on a character
     * boundary, so the 400 body that carries it stays valid UTF-8. */
    for (int pad = 0; pad < 4; pad++) {
        char json[4096];
        int n = snprintf(json, sizeof json, "{\"tags\":{\"%.*s", pad, "xxxx");
        for (int i = 0; i < 300; i++)
            n += snprintf(json + n, sizeof json - (size_t)n, "\xe6\x97\xa5");
        snprintf(json + n, sizeof json - (size_t)n, "\":1},%s", VALID + 1);
        struct event_error err;
        cJSON *ev = event_parse_json(json, strlen(json), NULL, 0, &err);
        assert_non_null(ev);
        assert_int_equal(event_validate(ev, &err), EVENT_WRONG_TYPE);
        cJSON_Delete(ev);
        assert_int_equal(event_scan(err.msg, strlen(err.msg), NULL, 0, NULL), EVENT_OK);
        assert_true(strncmp(err.msg, "tags.", 5) == 0);
    }
}

static void test_duplicates_and_ids(void **state)
{
    char json[1024], msg[256];
    snprintf(json, sizeof json, "{\"latency_ms\":\"x\",%s", VALID + 1);
    assert_int_equal(check(json, msg), EVENT_BAD_VALUE);
    assert_string_equal(msg, "latency_ms: appears more than once");
    char ulid[] = "01jdq6z8v6m9t3k2w4x5y6z7a8", uuid[] = "123E4567-E89B-12D3-A456-426614174000";
    char other[] = "not-an-id";
    event_id_canonical(ulid);
    event_id_canonical(uuid);
    event_id_canonical(other);
    assert_string_equal(ulid, "01JDQ6Z8V6M9T3K2W4X5Y6Z7A8");
    assert_string_equal(uuid, "123e4567-e89b-12d3-a456-426614174000");
    assert_string_equal(other, "not-an-id");
}

static void test_time(void **state)
{
    int64_t us;
    const char *t = "2026-11-23T10:15:02.123456Z";
    assert_int_equal(timeutil_parse_rfc3339(t, strlen(t), &us), 0);
    char out[TIMEUTIL_RFC3339_LEN];
    timeutil_format_rfc3339(us, out);
    assert_string_equal(out, t);
    const char *off = "2026-11-23T11:15:02.123456789+01:00";
    int64_t us2;
    assert_int_equal(timeutil_parse_rfc3339(off, strlen(off), &us2), 0);
    assert_int_equal(us, us2);
    const char *nofrac = "1970-01-01T00:00:00Z";
    assert_int_equal(timeutil_parse_rfc3339(nofrac, strlen(nofrac), &us), 0);
    assert_int_equal(us, 0);
    timeutil_format_rfc3339(-1, out);
    assert_string_equal(out, "1969-12-31T23:59:59.999999Z");
    const char *leap = "2024-02-29T00:00:00Z", *noleap = "2023-02-29T00:00:00Z";
    assert_int_equal(timeutil_parse_rfc3339(leap, strlen(leap), &us), 0);
    assert_int_equal(timeutil_parse_rfc3339(noleap, strlen(noleap), &us), -1);
    const char *bad[] = {"2026-11-23 10:15:02Z", "2026-11-23T10:15:02",   "2026-13-01T00:00:00Z",
                         "2026-11-23T24:00:00Z", "2026-11-23T10:15:02.Z", "2026-11-23T10:15:02Zx"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(timeutil_parse_rfc3339(bad[i], strlen(bad[i]), &us), -1);
    int64_t ms;
    assert_int_equal(timeutil_parse_duration_ms("5s", &ms), 0);
    assert_int_equal(ms, 5000);
    assert_int_equal(timeutil_parse_duration_ms("250ms", &ms), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(timeutil_parse_duration_ms("2x", &ms), -1);

    /* API times: RFC 3339 (cut to the unit) or Unix seconds (rounded). */
    int64_t at;
    assert_int_equal(timeutil_parse_time("1970-01-01T00:00:01.0019Z", 1000, &at), 0);
    assert_int_equal(at, 1001);
    assert_int_equal(timeutil_parse_time("1970-01-01T00:00:01.0019Z", 1000000, &at), 0);
    assert_int_equal(at, 1001900);
    assert_int_equal(timeutil_parse_time("1795000000.5", 1000, &at), 0);
    assert_int_equal(at, 1795000000500);
    assert_int_equal(timeutil_parse_time("1.0006", 1000, &at), 0);
    assert_int_equal(at, 1001);
    assert_int_equal(timeutil_parse_time("-2", 1000000, &at), 0);
    assert_int_equal(at, -2000000);
    const char *badt[] = {"", "now", "1e400", "nan", "12abc", "9.3e12"};
    for (size_t i = 0; i < sizeof badt / sizeof badt[0]; i++)
        assert_int_equal(timeutil_parse_time(badt[i], 1000, &at), -1);
    assert_int_equal(timeutil_parse_time(NULL, 1000, &at), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_required_fields),
        cmocka_unit_test(test_types_and_values),
        cmocka_unit_test(test_scan_limits),
        cmocka_unit_test(test_fill_and_fields),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_number_round_trip),
        cmocka_unit_test(test_error_message_utf8),
        cmocka_unit_test(test_duplicates_and_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
