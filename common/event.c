/*
 * event.c — llmtap.event/1: raw-byte scan, parse, schema validation, fill.
 *
 * DESIGN
 * - event_scan() is a single forward pass over the bytes with a two-state
 *   machine (inside/outside a string) that validates UTF-8 (RFC 3629: no
 *   overlongs, no surrogates, max U+10FFFF), rejects raw control characters
 *   and \u0000 inside strings, and tracks bracket depth outside strings. It
 *   allocates nothing, so hostile input costs O(n) and no recursion.
 * - Validation walks only the fields the schema names, building the JSON
 *   path of the first error in a small stack buffer.
 * - Nothing here allocates per event except cJSON itself.
 */
#include "event.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "timeutil.h"
#include "ulid.h"
#include "utf8.h"

static const char *const reason_names[EVENT_REASON_COUNT] = {
    [EVENT_OK] = "ok",
    [EVENT_TOO_LARGE] = "too_large",
    [EVENT_BAD_UTF8] = "invalid_utf8",
    [EVENT_BAD_CHAR] = "control_character",
    [EVENT_TOO_DEEP] = "too_deep",
    [EVENT_BAD_JSON] = "invalid_json",
    [EVENT_NOT_OBJECT] = "not_an_object",
    [EVENT_MISSING_FIELD] = "missing_field",
    [EVENT_WRONG_TYPE] = "wrong_type",
    [EVENT_BAD_VALUE] = "invalid_value",
};

const char *event_reason_name(enum event_reason r)
{
    return (unsigned)r < EVENT_REASON_COUNT ? reason_names[r] : "unknown";
}

static enum event_reason fail(struct event_error *err, enum event_reason r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum event_reason fail(struct event_error *err, enum event_reason r, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->reason = r;
        int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        if (n >= (int)sizeof err->msg)
            utf8_trim_tail(err->msg);
    }
    return r;
}

enum event_reason event_scan(const char *buf, size_t len, const struct event_limits *lim,
                             int extra_depth, struct event_error *err)
{
    size_t max_bytes = lim && lim->max_bytes ? lim->max_bytes : EVENT_MAX_BYTES_DEFAULT;
    int max_depth = (lim && lim->max_depth ? lim->max_depth : EVENT_MAX_DEPTH_DEFAULT);
    /* A wrapped batch (extra_depth > 0) is bounded by the caller's body limit;
     * its items are checked one by one after encoding. */
    if (extra_depth == 0 && len > max_bytes)
        return fail(err, EVENT_TOO_LARGE, "event is %zu bytes; the limit is %zu", len, max_bytes);
    const unsigned char *p = (const unsigned char *)buf;
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len;) {
        /* Fast path: inside a string, skip 8 plain ASCII bytes at a time (no
         * byte >= 0x80, < 0x20, '"' or '\\'): most of an event is text. */
        if (in_str) {
            while (i + 8 <= len) {
                uint64_t x;
                memcpy(&x, p + i, 8);
                const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
                uint64_t ctl = (x - ones * 0x20) & ~x; /* a byte < 0x20 */
                uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
                uint64_t special = ((q - ones) & ~q) | ((bs - ones) & ~bs); /* '"' or '\\' */
                if ((x | ctl | special) & high)
                    break;
                i += 8;
            }
            if (i >= len)
                break;
        }
        unsigned char c = p[i];
        if (c >= 0x80) {
            size_t n = utf8_seq(p + i, len - i);
            if (!n)
                return fail(err, EVENT_BAD_UTF8, "invalid UTF-8 at byte %zu", i);
            i += n;
            continue;
        }
        if (c == 0)
            return fail(err, EVENT_BAD_CHAR, "NUL byte at byte %zu", i);
        if (in_str) {
            if (c < 0x20)
                return fail(err, EVENT_BAD_CHAR,
                            "raw control character 0x%02x in a string at byte %zu", c, i);
            if (c == '"') {
                in_str = false;
            } else if (c == '\\') {
                /* cJSON decodes a malformed u-escape as U+0000 and cuts the
                 * string there: escapes are checked here. */
                unsigned char e = i + 1 < len ? p[i + 1] : 0;
                if (e == 'u') {
                    if (i + 5 >= len || !isxdigit(p[i + 2]) || !isxdigit(p[i + 3]) ||
                        !isxdigit(p[i + 4]) || !isxdigit(p[i + 5]))
                        return fail(err, EVENT_BAD_JSON, "not JSON: invalid \\u escape at byte %zu",
                                    i);
                    if (memcmp(p + i + 2, "0000", 4) == 0)
                        return fail(err, EVENT_BAD_CHAR,
                                    "\\u0000 in a string at byte %zu is not supported", i);
                    i += 6;
                    continue;
                }
                if (!e || !strchr("\"\\/bfnrt", e))
                    return fail(err, EVENT_BAD_JSON, "not JSON: invalid escape at byte %zu", i);
                i += 2;
                continue;
            }
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth + extra_depth)
                return fail(err, EVENT_TOO_DEEP, "nesting deeper than %d levels at byte %zu",
                            max_depth, i);
        } else if (c == '}' || c == ']') {
            depth--;
        }
        i++;
    }
    return EVENT_OK;
}

cJSON *event_parse_json(const char *buf, size_t len, const struct event_limits *lim,
                        int extra_depth, struct event_error *err)
{
    if (event_scan(buf, len, lim, extra_depth, err) != EVENT_OK)
        return NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (!root) {
        size_t off = end && end >= buf ? (size_t)(end - buf) : 0;
        if (len == 0 || off >= len)
            fail(err, EVENT_BAD_JSON, "not JSON: unexpected end of input");
        else
            fail(err, EVENT_BAD_JSON, "not JSON: syntax error at byte %zu", off);
        return NULL;
    }
    /* Only whitespace may follow the value. */
    for (const char *q = end; q && q < buf + len; q++) {
        if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r') {
            fail(err, EVENT_BAD_JSON, "not JSON: unexpected data after the value at byte %zu",
                 (size_t)(q - buf));
            cJSON_Delete(root);
            return NULL;
        }
    }
    return root;
}

/* ---- schema validation ------------------------------------------------- */

struct vctx {
    struct event_error *err;
    char path[160];
};

static enum event_reason vfail(struct vctx *v, enum event_reason r, const char *field,
                               const char *what)
{
    if (v->path[0] && field)
        return fail(v->err, r, "%s.%s: %s", v->path, field, what);
    return fail(v->err, r, "%s: %s", field ? field : v->path, what);
}

/* Returns the member or NULL when absent or JSON null. */
static const cJSON *member(const cJSON *obj, const char *name)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, name);
    return m && !cJSON_IsNull(m) ? m : NULL;
}

static bool is_nonneg_int(const cJSON *m)
{
    if (!cJSON_IsNumber(m))
        return false;
    double d = m->valuedouble;
    return d >= 0 && d <= 9007199254740992.0 && floor(d) == d;
}

static bool is_hex(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

static bool is_label_safe(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == ':' || c == '-'))
            return false;
    }
    return true;
}

bool event_service_valid(const char *s)
{
    return s && is_label_safe(s);
}

enum { OPTIONAL = 0, REQUIRED = 1, NONEMPTY = 2 };

/* A string field. REQUIRED: absence is an error. NONEMPTY (implied by
 * REQUIRED): "" is an error — identifiers are absent, never "" standing for
 * none. `maxlen` 0 = no limit. */
static enum event_reason vstring(struct vctx *v, const cJSON *m, const char *name, int flags,
                                 size_t maxlen)
{
    bool required = flags & REQUIRED;
    if (!m)
        return required ? vfail(v, EVENT_MISSING_FIELD, name, "required") : EVENT_OK;
    if (!cJSON_IsString(m))
        return vfail(v, EVENT_WRONG_TYPE, name, "must be a string");
    size_t n = strlen(m->valuestring);
    if ((flags & (REQUIRED | NONEMPTY)) && n == 0)
        return vfail(v, EVENT_BAD_VALUE, name, "must not be empty (leave it out instead)");
    if (maxlen && n > maxlen) {
        char what[64];
        snprintf(what, sizeof what, "longer than %zu bytes", maxlen);
        return vfail(v, EVENT_BAD_VALUE, name, what);
    }
    return EVENT_OK;
}

static enum event_reason vnumber(struct vctx *v, const cJSON *m, const char *name, bool required)
{
    if (!m)
        return required ? vfail(v, EVENT_MISSING_FIELD, name, "required") : EVENT_OK;
    if (!cJSON_IsNumber(m) || !isfinite(m->valuedouble))
        return vfail(v, EVENT_WRONG_TYPE, name, "must be a number");
    if (m->valuedouble < 0)
        return vfail(v, EVENT_BAD_VALUE, name, "must be a non-negative number");
    return EVENT_OK;
}

static enum event_reason vtype(struct vctx *v, const cJSON *m, const char *name, int type,
                               const char *what)
{
    if (m && !(m->type & type))
        return vfail(v, EVENT_WRONG_TYPE, name, what);
    return EVENT_OK;
}

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        enum event_reason r_ = (expr);                                                             \
        if (r_ != EVENT_OK)                                                                        \
            return r_;                                                                             \
    } while (0)

static void vpath(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void vpath(struct vctx *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->path, sizeof v->path, fmt, ap);
    va_end(ap);
}

static enum event_reason v_messages(struct vctx *v, const cJSON *msgs)
{
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs)
    {
        vpath(v, "request.messages[%d]", i);
        if (!cJSON_IsObject(m))
            return vfail(v, EVENT_WRONG_TYPE, NULL, "must be an object");
        CHECK(vstring(v, member(m, "role"), "role", REQUIRED, 64));
        const cJSON *c = member(m, "content");
        if (c && !cJSON_IsString(c) && !cJSON_IsArray(c))
            return vfail(v, EVENT_WRONG_TYPE, "content", "must be a string or an array of parts");
        i++;
    }
    return EVENT_OK;
}

static enum event_reason v_context(struct vctx *v, const cJSON *ctx)
{
    int i = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, ctx)
    {
        vpath(v, "context[%d]", i);
        if (!cJSON_IsObject(d))
            return vfail(v, EVENT_WRONG_TYPE, NULL, "must be an object");
        CHECK(vstring(v, member(d, "id"), "id", OPTIONAL, 0));
        CHECK(vstring(v, member(d, "source"), "source", OPTIONAL, 0));
        CHECK(vstring(v, member(d, "text"), "text", OPTIONAL, 0));
        const cJSON *s = member(d, "score");
        if (s && (!cJSON_IsNumber(s) || !isfinite(s->valuedouble)))
            return vfail(v, EVENT_WRONG_TYPE, "score", "must be a number");
        i++;
    }
    return EVENT_OK;
}

/* True when every number in the tree is finite. JSON allows 1e999, which
 * parses to infinity and would be re-encoded as null: the event would not
 * round-trip, so it is refused. Depth is bounded by event_scan. */
static bool all_finite(const cJSON *n)
{
    if (cJSON_IsNumber(n))
        return isfinite(n->valuedouble);
    for (const cJSON *c = n->child; c; c = c->next)
        if (!all_finite(c))
            return false;
    return true;
}

/* The top-level members of an event in a small hash table keyed by name:
 * one pass serves both the duplicate-key check and every field lookup (a
 * hash and one compare each, instead of ~30 scans of the member list or a
 * sort and binary searches: string compares were the validator's largest
 * cost). */
struct topidx {
    const cJSON **slot; /* cap entries, NULL = empty */
    uint32_t *hash;
    size_t cap;
    const char *dup; /* the first name seen twice, or NULL */
    const cJSON *scratch[128];
    uint32_t scratch_hash[128];
};

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Builds the index. Returns 0, or -1 on allocation failure. */
static int top_build(struct topidx *t, const cJSON *obj)
{
    size_t n = 0;
    for (const cJSON *c = obj->child; c; c = c->next)
        n++;
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    t->dup = NULL;
    t->cap = cap;
    if (cap <= sizeof t->scratch / sizeof t->scratch[0]) {
        t->slot = t->scratch;
        t->hash = t->scratch_hash;
    } else {
        t->slot = malloc(cap * sizeof *t->slot);
        t->hash = malloc(cap * sizeof *t->hash);
        if (!t->slot || !t->hash) {
            free(t->slot);
            free(t->hash);
            return -1;
        }
    }
    memset(t->slot, 0, cap * sizeof *t->slot);
    for (const cJSON *c = obj->child; c; c = c->next) {
        const char *name = c->string ? c->string : "";
        uint32_t h = name_hash(name);
        size_t i = h & (cap - 1);
        for (; t->slot[i]; i = (i + 1) & (cap - 1))
            if (t->hash[i] == h && strcmp(t->slot[i]->string ? t->slot[i]->string : "", name) == 0)
                break;
        if (t->slot[i]) {
            if (!t->dup)
                t->dup = name;
            continue; /* the first occurrence stays indexed */
        }
        t->slot[i] = c;
        t->hash[i] = h;
    }
    return 0;
}

static void top_free(struct topidx *t)
{
    if (t->slot != t->scratch) {
        free(t->slot);
        free(t->hash);
    }
}

/* The first key that appears twice, or NULL. cJSON keeps both and readers
 * disagree on which counts, so such an event is refused. */
static const char *top_duplicate(const struct topidx *t)
{
    return t->dup;
}

/* The member called name, or NULL when absent or JSON null. */
static const cJSON *top_member(const struct topidx *t, const char *name)
{
    uint32_t h = name_hash(name);
    for (size_t i = h & (t->cap - 1); t->slot[i]; i = (i + 1) & (t->cap - 1))
        if (t->hash[i] == h && strcmp(t->slot[i]->string ? t->slot[i]->string : "", name) == 0)
            return cJSON_IsNull(t->slot[i]) ? NULL : t->slot[i];
    return NULL;
}

static enum event_reason validate_top(struct vctx *v, const cJSON *ev, const struct topidx *t);

enum event_reason event_validate(const cJSON *ev, struct event_error *err)
{
    struct vctx vc = {.err = err};
    if (!cJSON_IsObject(ev))
        return fail(err, EVENT_NOT_OBJECT, "an event must be a JSON object");
    struct topidx t;
    if (top_build(&t, ev) != 0)
        return fail(err, EVENT_TOO_LARGE, "out of memory validating the event");
    enum event_reason r = validate_top(&vc, ev, &t);
    top_free(&t);
    return r;
}

#define TM(name) top_member(t, name)

static enum event_reason validate_top(struct vctx *v, const cJSON *ev, const struct topidx *t)
{
    const char *dup = top_duplicate(t);
    if (dup)
        return vfail(v, EVENT_BAD_VALUE, dup, "appears more than once");

    const cJSON *schema = TM("schema");
    if (!schema)
        return vfail(v, EVENT_MISSING_FIELD, "schema", "required");
    if (!cJSON_IsString(schema))
        return vfail(v, EVENT_WRONG_TYPE, "schema", "must be a string");
    if (strcmp(schema->valuestring, EVENT_SCHEMA_ID) != 0)
        return vfail(v, EVENT_BAD_VALUE, "schema", "must be \"" EVENT_SCHEMA_ID "\"");

    CHECK(vstring(v, TM("id"), "id", REQUIRED, 0));
    const char *id = TM("id")->valuestring;
    if (!ulid_valid(id, strlen(id)) && !uuid_valid(id, strlen(id)))
        return vfail(v, EVENT_BAD_VALUE, "id",
                     "must be a ULID (26 Crockford base32 characters) or a UUID");

    CHECK(vstring(v, TM("time"), "time", REQUIRED, 0));
    const char *tm = TM("time")->valuestring;
    int64_t us;
    if (timeutil_parse_rfc3339(tm, strlen(tm), &us) != 0)
        return vfail(v, EVENT_BAD_VALUE, "time",
                     "must be an RFC 3339 date-time, e.g. 2026-11-23T10:15:02.123456Z");

    static const struct {
        const char *name;
        size_t hexlen;
    } ids[] = {{"trace_id", 32}, {"span_id", 16}, {"parent_span_id", 16}};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        CHECK(vstring(v, TM(ids[i].name), ids[i].name, OPTIONAL, 0));
        const cJSON *m = TM(ids[i].name);
        if (m && !is_hex(m->valuestring, ids[i].hexlen)) {
            char what[64];
            snprintf(what, sizeof what, "must be %zu hex digits", ids[i].hexlen);
            return vfail(v, EVENT_BAD_VALUE, ids[i].name, what);
        }
    }

    CHECK(vstring(v, TM("service"), "service", REQUIRED, 0));
    if (!is_label_safe(TM("service")->valuestring))
        return vfail(v, EVENT_BAD_VALUE, "service", "must be 1-128 characters of [A-Za-z0-9_.:-]");
    CHECK(vstring(v, TM("env"), "env", NONEMPTY, 128));
    CHECK(vstring(v, TM("host"), "host", NONEMPTY, 256));
    CHECK(vstring(v, TM("source"), "source", NONEMPTY, 128));
    CHECK(vstring(v, TM("provider"), "provider", REQUIRED, 128));
    CHECK(vstring(v, TM("operation"), "operation", REQUIRED, 128));
    CHECK(vstring(v, TM("request_model"), "request_model", NONEMPTY, 256));
    CHECK(vstring(v, TM("response_model"), "response_model", NONEMPTY, 256));
    if (!TM("request_model") && !TM("response_model"))
        return vfail(v, EVENT_MISSING_FIELD, "request_model",
                     "required (or response_model): one of them must be present");
    CHECK(vstring(v, TM("prompt_template"), "prompt_template", NONEMPTY, 256));
    CHECK(vstring(v, TM("prompt_version"), "prompt_version", NONEMPTY, 128));
    CHECK(vtype(v, TM("stream"), "stream", cJSON_True | cJSON_False, "must be a boolean"));
    CHECK(vstring(v, TM("user"), "user", NONEMPTY, 256));
    CHECK(vstring(v, TM("session"), "session", NONEMPTY, 256));
    CHECK(vtype(v, TM("truncated"), "truncated", cJSON_True | cJSON_False, "must be a boolean"));

    const cJSON *req = TM("request");
    if (req) {
        if (!cJSON_IsObject(req))
            return vfail(v, EVENT_WRONG_TYPE, "request", "must be an object");
        vpath(v, "request");
        CHECK(vtype(v, member(req, "messages"), "messages", cJSON_Array, "must be an array"));
        CHECK(vtype(v, member(req, "params"), "params", cJSON_Object, "must be an object"));
        const cJSON *msgs = member(req, "messages");
        if (msgs)
            CHECK(v_messages(v, msgs));
        v->path[0] = 0;
    }

    const cJSON *ctx = TM("context");
    if (ctx) {
        if (!cJSON_IsArray(ctx))
            return vfail(v, EVENT_WRONG_TYPE, "context", "must be an array");
        CHECK(v_context(v, ctx));
        v->path[0] = 0;
    }

    const cJSON *resp = TM("response");
    if (resp) {
        if (!cJSON_IsObject(resp))
            return vfail(v, EVENT_WRONG_TYPE, "response", "must be an object");
        vpath(v, "response");
        CHECK(vstring(v, member(resp, "text"), "text", OPTIONAL, 0));
        CHECK(vstring(v, member(resp, "finish_reason"), "finish_reason", OPTIONAL, 64));
        CHECK(vtype(v, member(resp, "tool_calls"), "tool_calls", cJSON_Array, "must be an array"));
        v->path[0] = 0;
    }

    const cJSON *usage = TM("usage");
    if (usage) {
        if (!cJSON_IsObject(usage))
            return vfail(v, EVENT_WRONG_TYPE, "usage", "must be an object");
        vpath(v, "usage");
        const cJSON *u;
        cJSON_ArrayForEach(u, usage)
        {
            if (!cJSON_IsNull(u) && !is_nonneg_int(u))
                return vfail(v, cJSON_IsNumber(u) ? EVENT_BAD_VALUE : EVENT_WRONG_TYPE, u->string,
                             "must be a non-negative integer");
        }
        v->path[0] = 0;
    }

    CHECK(vnumber(v, TM("latency_ms"), "latency_ms", true));
    CHECK(vnumber(v, TM("ttft_ms"), "ttft_ms", false));
    CHECK(vnumber(v, TM("cost_usd"), "cost_usd", false));

    const cJSON *st = TM("status");
    if (st && (!cJSON_IsNumber(st) || floor(st->valuedouble) != st->valuedouble))
        return vfail(v, EVENT_WRONG_TYPE, "status", "must be an integer");
    if (st && (st->valuedouble < 0 || st->valuedouble > 999))
        return vfail(v, EVENT_BAD_VALUE, "status", "must be an HTTP status (0-999)");

    const cJSON *red = TM("redactions");
    if (red && !is_nonneg_int(red))
        return vfail(v, cJSON_IsNumber(red) ? EVENT_BAD_VALUE : EVENT_WRONG_TYPE, "redactions",
                     "must be a non-negative integer");

    const cJSON *error = TM("error");
    if (error) {
        if (!cJSON_IsObject(error))
            return vfail(v, EVENT_WRONG_TYPE, "error", "must be an object or null");
        vpath(v, "error");
        CHECK(vstring(v, member(error, "type"), "type", OPTIONAL, 0));
        CHECK(vstring(v, member(error, "message"), "message", OPTIONAL, 0));
        v->path[0] = 0;
    }

    const cJSON *tags = TM("tags");
    if (tags) {
        if (!cJSON_IsObject(tags))
            return vfail(v, EVENT_WRONG_TYPE, "tags", "must be an object of strings");
        vpath(v, "tags");
        const cJSON *tg;
        cJSON_ArrayForEach(tg, tags)
        {
            if (!cJSON_IsString(tg))
                return vfail(v, EVENT_WRONG_TYPE, tg->string, "must be a string");
        }
        v->path[0] = 0;
    }

    for (const cJSON *m = ev->child; m; m = m->next)
        if (!all_finite(m))
            return vfail(v, EVENT_BAD_VALUE, m->string,
                         "holds a number too large to represent (not a finite double)");
    return EVENT_OK;
}

int event_fill(cJSON *ev, const char *default_service, int64_t now_us)
{
    if (!member(ev, "schema")) {
        cJSON_DeleteItemFromObjectCaseSensitive(ev, "schema");
        if (!cJSON_AddStringToObject(ev, "schema", EVENT_SCHEMA_ID))
            return -1;
    }
    if (!member(ev, "id")) {
        char id[ULID_LEN + 1];
        ulid_make((uint64_t)(now_us / 1000), id);
        cJSON_DeleteItemFromObjectCaseSensitive(ev, "id");
        if (!cJSON_AddStringToObject(ev, "id", id))
            return -1;
    }
    if (!member(ev, "time")) {
        char t[TIMEUTIL_RFC3339_LEN];
        timeutil_format_rfc3339(now_us, t);
        cJSON_DeleteItemFromObjectCaseSensitive(ev, "time");
        if (!cJSON_AddStringToObject(ev, "time", t))
            return -1;
    }
    if (default_service && *default_service && !member(ev, "service")) {
        cJSON_DeleteItemFromObjectCaseSensitive(ev, "service");
        if (!cJSON_AddStringToObject(ev, "service", default_service))
            return -1;
    }
    return 0;
}

static int64_t int_or(const cJSON *obj, const char *name, int64_t dflt)
{
    const cJSON *m = obj ? member(obj, name) : NULL;
    return m && cJSON_IsNumber(m) ? (int64_t)m->valuedouble : dflt;
}

/* The top-level members event_fields_get reads. */
enum {
    F_ID,
    F_SERVICE,
    F_RESP_MODEL,
    F_REQ_MODEL,
    F_PROVIDER,
    F_OPERATION,
    F_TIME,
    F_COST,
    F_LATENCY,
    F_STATUS,
    F_USAGE,
    NF
};

static int field_of(const char *k)
{
    switch (k[0]) {
    case 'i': return strcmp(k, "id") == 0 ? F_ID : -1;
    case 's':
        return strcmp(k, "service") == 0 ? F_SERVICE : strcmp(k, "status") == 0 ? F_STATUS : -1;
    case 'r':
        return strcmp(k, "response_model") == 0  ? F_RESP_MODEL
               : strcmp(k, "request_model") == 0 ? F_REQ_MODEL
                                                 : -1;
    case 'p': return strcmp(k, "provider") == 0 ? F_PROVIDER : -1;
    case 'o': return strcmp(k, "operation") == 0 ? F_OPERATION : -1;
    case 't': return strcmp(k, "time") == 0 ? F_TIME : -1;
    case 'c': return strcmp(k, "cost_usd") == 0 ? F_COST : -1;
    case 'l': return strcmp(k, "latency_ms") == 0 ? F_LATENCY : -1;
    case 'u': return strcmp(k, "usage") == 0 ? F_USAGE : -1;
    default: return -1;
    }
}

void event_fields_get(const cJSON *ev, struct event_fields *f)
{
    memset(f, 0, sizeof *f);
    /* One pass over the members (the first of a name counts, as
     * cJSON_GetObjectItemCaseSensitive would; JSON null is absent). */
    const cJSON *m[NF] = {0};
    bool seen[NF] = {0};
    for (const cJSON *c = ev ? ev->child : NULL; c; c = c->next) {
        int i = c->string ? field_of(c->string) : -1;
        if (i >= 0 && !seen[i]) {
            seen[i] = true;
            m[i] = cJSON_IsNull(c) ? NULL : c;
        }
    }
#define STR(i) (m[i] && cJSON_IsString(m[i]) ? m[i]->valuestring : NULL)
    f->id = STR(F_ID);
    f->service = STR(F_SERVICE);
    f->model = STR(F_RESP_MODEL);
    if (!f->model)
        f->model = STR(F_REQ_MODEL);
    f->provider = STR(F_PROVIDER);
    f->operation = STR(F_OPERATION);
    const char *t = STR(F_TIME);
#undef STR
    if (!t || timeutil_parse_rfc3339(t, strlen(t), &f->time_us) != 0)
        f->time_us = 0;
    f->cost_usd = m[F_COST] && cJSON_IsNumber(m[F_COST]) ? m[F_COST]->valuedouble : NAN;
    f->latency_ms = m[F_LATENCY] && cJSON_IsNumber(m[F_LATENCY]) ? m[F_LATENCY]->valuedouble : 0;
    f->status = m[F_STATUS] && cJSON_IsNumber(m[F_STATUS]) ? (int32_t)m[F_STATUS]->valuedouble : 0;
    f->input_tokens = int_or(m[F_USAGE], "input_tokens", -1);
    f->output_tokens = int_or(m[F_USAGE], "output_tokens", -1);
}

static void encode_value(struct buf *b, const cJSON *v)
{
    switch (v->type & 0xff) {
    case cJSON_NULL: buf_puts(b, "null"); break;
    case cJSON_False: buf_puts(b, "false"); break;
    case cJSON_True: buf_puts(b, "true"); break;
    case cJSON_Number: buf_json_number(b, v->valuedouble); break;
    case cJSON_String: buf_json_str(b, v->valuestring ? v->valuestring : ""); break;
    case cJSON_Raw: buf_puts(b, v->valuestring ? v->valuestring : "null"); break;
    case cJSON_Array:
    case cJSON_Object: {
        bool obj = (v->type & 0xff) == cJSON_Object;
        buf_puts(b, obj ? "{" : "[");
        for (const cJSON *c = v->child; c; c = c->next) {
            if (obj) {
                buf_json_str(b, c->string ? c->string : "");
                buf_puts(b, ":");
            }
            encode_value(b, c);
            if (c->next)
                buf_puts(b, ",");
        }
        buf_puts(b, obj ? "}" : "]");
        break;
    }
    default: buf_puts(b, "null");
    }
}

char *event_encode(const cJSON *ev)
{
    struct buf b = {0};
    encode_value(&b, ev);
    return buf_steal(&b, NULL);
}
