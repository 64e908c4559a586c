/*
 * fuzz_event.c — fuzz target for the llmtap.event/1 model (common/event.c).
 *
 * What it is for: every byte string that reaches an llmtap process as an
 * event goes through event_parse_json() and event_validate(); this target
 * feeds them arbitrary bytes and checks what must hold for every input.
 *
 * DESIGN
 * - One input = one candidate event, parsed with the default limits.
 * - Invariants (a violation calls abort() after printing what broke, so
 *   libFuzzer and the replay driver both report it as a crash):
 *   1. A rejection has a reason that belongs to the stage that rejected it
 *      (scan/parse: too_large, invalid_utf8, control_character, too_deep,
 *      invalid_json; schema: not_an_object, missing_field, wrong_type,
 *      invalid_value), a reason name that is not "unknown", and a non-empty
 *      message that is valid UTF-8 (messages are sent back in JSON bodies).
 *   2. event_parse_json() accepts exactly the inputs that a plain
 *      byte-at-a-time reference of event_scan's rules accepts and cJSON
 *      parses (a differential check of the scanner's fast path).
 *   3. For a valid event, event_fields_get() returns what validation
 *      promised: the required strings are present, numbers are in range.
 *   4. event_encode() of a valid event parses and validates again, is equal
 *      to the original (cJSON_Compare, and an order-preserving exact
 *      comparison), and yields the same indexed fields.
 * - Duplicate object keys: cJSON keeps every duplicate and the encoder
 *   writes them all back in order, but cJSON_Compare looks keys up by name
 *   (first match), so it calls {"a":1,"a":2} unequal to its own copy. For
 *   trees with duplicate keys only the order-preserving comparison is
 *   asserted.
 * - The re-parse uses the default depth limit but a byte limit of at least
 *   the encoding's length: encoding may lengthen an event ("1e14" prints as
 *   "100000000000000"); the intake checks the encoded size itself.
 */
#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "timeutil.h"

#define FUZZ_NAME "fuzz_event"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True when s is valid UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
static bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned char c = *p;
        size_t n;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            p++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0)
                lo = 0xA0;
            if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0)
                lo = 0x90;
            if (c == 0xF4)
                hi = 0x8F;
        } else {
            return false;
        }
        if (p[1] < lo || p[1] > hi)
            return false;
        for (size_t i = 2; i <= n; i++)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        p += n + 1;
    }
    return true;
}

/* The rules event_scan() documents, checked one byte at a time with no
 * shortcuts: valid UTF-8 everywhere, no NUL, no raw control character and no
 * \u0000 inside strings, nesting at most max_depth; plus what makes a string
 * valid JSON (RFC 8259 escapes, \u with four hex digits), which cJSON does
 * not fully check. A reference for the differential check below (event_scan
 * has a word-at-a-time fast path). Number syntax is left to cJSON: it takes
 * a few non-RFC forms ("01", "1.", "-.5"), but those parse to one value
 * that the encoder writes back in standard form. */
static bool ref_scan_ok(const unsigned char *p, size_t len, int max_depth)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        if (c >= 0x80) {
            char tmp[5] = {0};
            size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (i + n > len)
                return false;
            memcpy(tmp, p + i, n);
            if (memchr(tmp, 0, n) || !utf8_valid(tmp))
                return false;
            i += n - 1;
        } else if (c == 0) {
            return false;
        } else if (in_str) {
            if (c < 0x20)
                return false;
            if (c == '"') {
                in_str = false;
            } else if (c == '\\') {
                /* RFC 8259 escapes only; \u takes exactly four hex digits. */
                if (i + 1 >= len || !strchr("\"\\/bfnrtu", p[i + 1]) || p[i + 1] == 0)
                    return false;
                if (p[i + 1] == 'u') {
                    if (i + 5 >= len || memcmp(p + i + 2, "0000", 4) == 0)
                        return false;
                    for (size_t k = 2; k < 6; k++)
                        if (!isxdigit(p[i + k]))
                            return false;
                    i += 4;
                }
                i++;
            }
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth)
                return false;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return true;
}

/* True when cJSON alone parses buf as one value followed only by whitespace. */
static bool cjson_accepts(const char *buf, size_t len)
{
    const char *end = NULL;
    cJSON *t = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (!t)
        return false;
    cJSON_Delete(t);
    for (; end < buf + len; end++)
        if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r')
            return false;
    return true;
}

static void check_error(const char *stage, enum event_reason got, const struct event_error *err,
                        bool parse_stage)
{
    const char *name = event_reason_name(got);
    FUZZ_ASSERT(got != EVENT_OK, "%s failed with EVENT_OK", stage);
    FUZZ_ASSERT(err->reason == got, "%s returned %d but err.reason is %d", stage, (int)got,
                (int)err->reason);
    FUZZ_ASSERT(strcmp(name, "unknown") != 0, "%s: reason %d has no name", stage, (int)got);
    FUZZ_ASSERT(memchr(err->msg, 0, sizeof err->msg) != NULL, "%s: message not terminated", stage);
    FUZZ_ASSERT(err->msg[0] != 0, "%s: empty message for reason %s", stage, name);
    FUZZ_ASSERT(utf8_valid(err->msg), "%s: message is not valid UTF-8: %s", stage, err->msg);
    bool parse_reason = got == EVENT_TOO_LARGE || got == EVENT_BAD_UTF8 || got == EVENT_BAD_CHAR ||
                        got == EVENT_TOO_DEEP || got == EVENT_BAD_JSON;
    FUZZ_ASSERT(parse_reason == parse_stage, "%s: reason %s does not belong to this stage", stage,
                name);
}

static bool has_duplicate_keys(const cJSON *t)
{
    for (const cJSON *c = t->child; c; c = c->next) {
        if (cJSON_IsObject(t))
            for (const cJSON *d = c->next; d; d = d->next)
                if (strcmp(c->string, d->string) == 0)
                    return true;
        if (has_duplicate_keys(c))
            return true;
    }
    return false;
}

static bool str_eq(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void check_fields(const struct event_fields *f)
{
    FUZZ_ASSERT(f->id && f->id[0], "fields: id missing");
    FUZZ_ASSERT(f->service && f->service[0] && strlen(f->service) <= 128, "fields: bad service");
    FUZZ_ASSERT(f->model && f->model[0], "fields: model missing");
    FUZZ_ASSERT(f->provider && f->provider[0], "fields: provider missing");
    FUZZ_ASSERT(f->operation && f->operation[0], "fields: operation missing");
    FUZZ_ASSERT(isnan(f->cost_usd) || (isfinite(f->cost_usd) && f->cost_usd >= 0),
                "fields: cost_usd %g", f->cost_usd);
    FUZZ_ASSERT(isfinite(f->latency_ms) && f->latency_ms >= 0, "fields: latency_ms %g",
                f->latency_ms);
    FUZZ_ASSERT(f->status >= 0 && f->status <= 999, "fields: status %d", (int)f->status);
    FUZZ_ASSERT(f->input_tokens >= -1 && f->output_tokens >= -1, "fields: tokens %lld %lld",
                (long long)f->input_tokens, (long long)f->output_tokens);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct event_error err;
    memset(&err, 0, sizeof err);
    cJSON *ev = event_parse_json((const char *)data, size, NULL, 0, &err);
    /* Differential: event_parse_json accepts exactly what meets the limits
     * (per the reference scanner) and cJSON parses. */
    bool want = size <= EVENT_MAX_BYTES_DEFAULT &&
                ref_scan_ok(data, size, EVENT_MAX_DEPTH_DEFAULT) &&
                cjson_accepts((const char *)data, size);
    FUZZ_ASSERT((ev != NULL) == want, "event_parse_json %s, but the reference %s (%s: %s)",
                ev ? "accepted" : "refused", want ? "accepts" : "refuses",
                ev ? "-" : event_reason_name(err.reason), ev ? "-" : err.msg);
    if (!ev) {
        check_error("event_parse_json", err.reason, &err, true);
        return 0;
    }
    enum event_reason r = event_validate(ev, &err);
    if (r != EVENT_OK) {
        check_error("event_validate", r, &err, false);
        cJSON_Delete(ev);
        return 0;
    }

    struct event_fields f;
    event_fields_get(ev, &f);
    check_fields(&f);
    const char *t = cJSON_GetObjectItemCaseSensitive(ev, "time")->valuestring;
    int64_t t_us = 0;
    FUZZ_ASSERT(timeutil_parse_rfc3339(t, strlen(t), &t_us) == 0 && t_us == f.time_us,
                "fields: time_us %lld does not match the time field %s", (long long)f.time_us, t);

    char *enc = event_encode(ev);
    if (!enc) { /* out of memory: nothing to check */
        cJSON_Delete(ev);
        return 0;
    }
    size_t enc_len = strlen(enc);
    struct event_limits lim = {
        .max_bytes = enc_len > EVENT_MAX_BYTES_DEFAULT ? enc_len : EVENT_MAX_BYTES_DEFAULT,
    };
    struct event_error err2;
    memset(&err2, 0, sizeof err2);
    cJSON *again = event_parse_json(enc, enc_len, &lim, 0, &err2);
    FUZZ_ASSERT(again, "the encoding of a valid event does not parse: %s (%s)\n  encoding: %.2000s",
                err2.msg, event_reason_name(err2.reason), enc);
    r = event_validate(again, &err2);
    FUZZ_ASSERT(r == EVENT_OK,
                "the encoding of a valid event does not validate: %s\n  encoding: %.2000s",
                err2.msg, enc);
    FUZZ_ASSERT(has_duplicate_keys(ev) || cJSON_Compare(ev, again, 1),
                "cJSON_Compare: the encoding differs from the parsed event\n  encoding: %.2000s",
                enc);
    FUZZ_ASSERT(same_tree(ev, again),
                "the encoding differs from the parsed event (order-preserving compare)\n"
                "  encoding: %.2000s",
                enc);

    struct event_fields g;
    event_fields_get(again, &g);
    FUZZ_ASSERT(str_eq(f.id, g.id) && str_eq(f.service, g.service) && str_eq(f.model, g.model) &&
                    str_eq(f.provider, g.provider) && str_eq(f.operation, g.operation) &&
                    f.time_us == g.time_us && f.latency_ms == g.latency_ms &&
                    f.status == g.status && f.input_tokens == g.input_tokens &&
                    f.output_tokens == g.output_tokens &&
                    (f.cost_usd == g.cost_usd || (isnan(f.cost_usd) && isnan(g.cost_usd))),
                "indexed fields changed through encode/parse\n  encoding: %.2000s", enc);

    /* Encoding is a fixed point after one round. */
    char *enc2 = event_encode(again);
    FUZZ_ASSERT(!enc2 || strcmp(enc, enc2) == 0,
                "encode is not stable:\n  1: %.2000s\n  2: %.2000s", enc, enc2);
    free(enc2);
    free(enc);
    cJSON_Delete(again);
    cJSON_Delete(ev);
    return 0;
}
