/*
 * otlp.c — decode OTLP trace bodies (protobuf and JSON) into spans, and map
 * OpenTelemetry GenAI spans to llmtap.event/1 objects.
 *
 * DESIGN
 * - Protobuf is decoded by protobuf-c (otlp.pb-c.c, generated from
 *   otlp.proto), but only after a schema-aware pre-scan (pb_scan) has walked
 *   the raw bytes once. protobuf-c recurses without a depth limit and says
 *   nothing about why a body fails; the pre-scan checks every tag, wire type
 *   and length against the body and the declared fields, bounds nesting,
 *   span and attribute counts and string lengths, and checks strings are
 *   UTF-8 without NUL (protobuf-c's strings are NUL-terminated). It names the
 *   message, field and byte offset of the first problem. After it passes,
 *   protobuf-c cannot fail except on allocation.
 * - JSON goes through event_parse_json (UTF-8, control characters, \u0000,
 *   depth, size), then a walk that applies the same count and length limits.
 * - Both produce the same struct otlp_batch, whose attributes are cJSON
 *   objects, so otlp_map_span is written once for both encodings.
 * - Mapping reads three attribute families: current OTel GenAI semconv
 *   (gen_ai.*), OpenLLMetry's indexed gen_ai.prompt.N.* / gen_ai.completion.N.*,
 *   and OpenInference (llm.*, retrieval.documents.N.*). docs/otlp.md has the
 *   table and the usage-token decision.
 * - No global state; nothing here logs.
 */
#include "otlp.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "event.h"
#include "otlp.pb-c.h"
#include "timeutil.h"
#include "utf8.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest PbRequest;
typedef Opentelemetry__Proto__Collector__Trace__V1__ResourceSpans PbResourceSpans;
typedef Opentelemetry__Proto__Collector__Trace__V1__ScopeSpans PbScopeSpans;
typedef Opentelemetry__Proto__Collector__Trace__V1__Span PbSpan;
typedef Opentelemetry__Proto__Collector__Trace__V1__KeyValue PbKeyValue;
typedef Opentelemetry__Proto__Collector__Trace__V1__AnyValue PbAnyValue;

/* ------------------------------------------------------------------------ */
/* limits, errors                                                           */

struct lim {
    size_t max_body, max_string;
    int max_spans, max_attrs, max_depth;
};

static struct lim lim_of(const struct otlp_limits *l)
{
    struct lim r = {OTLP_MAX_BODY_DEFAULT, OTLP_MAX_STRING_DEFAULT, OTLP_MAX_SPANS_DEFAULT,
                    OTLP_MAX_ATTRS_DEFAULT, OTLP_MAX_DEPTH_DEFAULT};
    if (l) {
        if (l->max_body)
            r.max_body = l->max_body;
        if (l->max_string)
            r.max_string = l->max_string;
        if (l->max_spans > 0)
            r.max_spans = l->max_spans;
        if (l->max_attrs > 0)
            r.max_attrs = l->max_attrs;
        if (l->max_depth > 0)
            r.max_depth = l->max_depth;
    }
    return r;
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static bool str_ok(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (p[i] == 0)
            return false;
        size_t k = utf8_seq(p + i, n - i);
        if (!k)
            return false;
        i += k;
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* protobuf pre-scan                                                        */

enum pbt { T_NONE, T_REQ, T_RS, T_RES, T_SS, T_SPAN, T_STATUS, T_KV, T_ANY, T_ARR, T_KVL, T_N };
enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };
enum { F_STR = 1, F_BYTES = 2 };

struct pbfield {
    uint32_t num;
    uint8_t wt, child, flags;
    const char *name;
};

static const char *const type_name[T_N] = {"?",      "ExportTraceServiceRequest",
                                           "ResourceSpans", "Resource",
                                           "ScopeSpans", "Span",
                                           "Status", "KeyValue",
                                           "AnyValue", "ArrayValue",
                                           "KeyValueList"};

/* The fields otlp.proto declares, with the wire type each must have; others
 * are skipped as unknown. */
static const struct pbfield f_req[] = {{1, WT_LEN, T_RS, 0, "resource_spans"}, {0}};
static const struct pbfield f_rs[] = {{1, WT_LEN, T_RES, 0, "resource"},
                                      {2, WT_LEN, T_SS, 0, "scope_spans"}, {0}};
static const struct pbfield f_res[] = {{1, WT_LEN, T_KV, 0, "attributes"}, {0}};
static const struct pbfield f_ss[] = {{2, WT_LEN, T_SPAN, 0, "spans"}, {0}};
static const struct pbfield f_span[] = {
    {1, WT_LEN, T_NONE, F_BYTES, "trace_id"},   {2, WT_LEN, T_NONE, F_BYTES, "span_id"},
    {4, WT_LEN, T_NONE, F_BYTES, "parent_span_id"}, {5, WT_LEN, T_NONE, F_STR, "name"},
    {6, WT_VARINT, T_NONE, 0, "kind"},          {7, WT_I64, T_NONE, 0, "start_time_unix_nano"},
    {8, WT_I64, T_NONE, 0, "end_time_unix_nano"}, {9, WT_LEN, T_KV, 0, "attributes"},
    {15, WT_LEN, T_STATUS, 0, "status"},        {0}};
static const struct pbfield f_status[] = {{2, WT_LEN, T_NONE, F_STR, "message"},
                                          {3, WT_VARINT, T_NONE, 0, "code"}, {0}};
static const struct pbfield f_kv[] = {{1, WT_LEN, T_NONE, F_STR, "key"},
                                      {2, WT_LEN, T_ANY, 0, "value"}, {0}};
static const struct pbfield f_any[] = {
    {1, WT_LEN, T_NONE, F_STR, "string_value"}, {2, WT_VARINT, T_NONE, 0, "bool_value"},
    {3, WT_VARINT, T_NONE, 0, "int_value"},     {4, WT_I64, T_NONE, 0, "double_value"},
    {5, WT_LEN, T_ARR, 0, "array_value"},       {6, WT_LEN, T_KVL, 0, "kvlist_value"},
    {7, WT_LEN, T_NONE, F_BYTES, "bytes_value"}, {0}};
static const struct pbfield f_arr[] = {{1, WT_LEN, T_ANY, 0, "values"}, {0}};
static const struct pbfield f_kvl[] = {{1, WT_LEN, T_KV, 0, "values"}, {0}};
static const struct pbfield *const fields_of[T_N] = {NULL, f_req, f_rs,  f_res, f_ss, f_span,
                                                      f_status, f_kv, f_any, f_arr, f_kvl};

struct scan {
    const uint8_t *base;
    struct lim l;
    int spans, groups; /* Span, and ResourceSpans + ScopeSpans, messages */
    long unknown;      /* unknown fields (protobuf-c keeps a copy of each) */
    int *attrs; /* attribute counter of the enclosing span or resource */
    char *err;
    size_t errlen;
};

static const char *wt_name(unsigned wt)
{
    switch (wt) {
    case WT_VARINT: return "varint";
    case WT_I64: return "fixed64";
    case WT_LEN: return "length-delimited";
    case WT_I32: return "fixed32";
    default: return "group/invalid";
    }
}

/* Reads a varint at *p (< end); returns false when truncated or over 10 bytes. */
static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 70 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7F) << (shift < 64 ? shift : 63);
        if (!(b & 0x80)) {
            *v = r;
            return true;
        }
    }
    return false;
}

static int pb_scan(struct scan *s, const uint8_t *p, const uint8_t *end, enum pbt t, int depth)
{
    if (depth > s->l.max_depth)
        return fail(s->err, s->errlen, "protobuf: %s at byte %zu: nesting deeper than %d",
                    type_name[t], (size_t)(p - s->base), s->l.max_depth);
    int local_attrs = 0;
    int *saved = s->attrs;
    if (t == T_SPAN || t == T_RES)
        s->attrs = &local_attrs;
    int rc = 0;
    while (p < end) {
        size_t at = (size_t)(p - s->base);
        uint64_t tag, len = 0;
        if (!varint(&p, end, &tag)) {
            rc = fail(s->err, s->errlen, "protobuf: %s at byte %zu: truncated tag", type_name[t], at);
            goto out;
        }
        uint64_t num = tag >> 3;
        unsigned wt = (unsigned)(tag & 7);
        if (num == 0 || num > 536870911u) {
            rc = fail(s->err, s->errlen, "protobuf: %s at byte %zu: invalid field number",
                      type_name[t], at);
            goto out;
        }
        const struct pbfield *f = NULL;
        for (const struct pbfield *q = fields_of[t]; q->num; q++)
            if (q->num == num)
                f = q;
        if (!f && ++s->unknown > 32L * s->l.max_spans) {
            rc = fail(s->err, s->errlen, "protobuf: more than %ld unknown fields",
                      32L * s->l.max_spans);
            goto out;
        }
        if (f && f->wt != wt) {
            rc = fail(s->err, s->errlen,
                      "protobuf: %s.%s (field %u) at byte %zu: wire type %u (%s), expected %u (%s)",
                      type_name[t], f->name, f->num, at, wt, wt_name(wt), f->wt, wt_name(f->wt));
            goto out;
        }
        switch (wt) {
        case WT_VARINT:
            if (!varint(&p, end, &len)) {
                rc = fail(s->err, s->errlen, "protobuf: %s field %" PRIu64 " at byte %zu: truncated varint",
                          type_name[t], num, at);
                goto out;
            }
            break;
        case WT_I64:
        case WT_I32: {
            size_t n = wt == WT_I64 ? 8 : 4;
            if ((size_t)(end - p) < n) {
                rc = fail(s->err, s->errlen, "protobuf: %s field %" PRIu64 " at byte %zu: truncated %s",
                          type_name[t], num, at, wt_name(wt));
                goto out;
            }
            p += n;
            break;
        }
        case WT_LEN:
            if (!varint(&p, end, &len) || len > (uint64_t)(end - p)) {
                rc = fail(s->err, s->errlen,
                          "protobuf: %s field %" PRIu64 " at byte %zu: length runs past the end",
                          type_name[t], num, at);
                goto out;
            }
            if (f && f->child != T_NONE) {
                if (f->child == T_SPAN && ++s->spans > s->l.max_spans) {
                    rc = fail(s->err, s->errlen, "protobuf: more than %d spans", s->l.max_spans);
                    goto out;
                }
                if ((f->child == T_RS || f->child == T_SS) && ++s->groups > s->l.max_spans) {
                    rc = fail(s->err, s->errlen, "protobuf: more than %d resource or scope groups",
                              s->l.max_spans);
                    goto out;
                }
                /* attribute values: keys, and array elements at any depth */
                if ((f->child == T_KV || t == T_ARR) && s->attrs && ++*s->attrs > s->l.max_attrs) {
                    rc = fail(s->err, s->errlen, "protobuf: %s at byte %zu: more than %d attributes",
                              type_name[t], at, s->l.max_attrs);
                    goto out;
                }
                rc = pb_scan(s, p, p + len, (enum pbt)f->child, depth + 1);
                if (rc)
                    goto out;
            } else if (f && (f->flags & (F_STR | F_BYTES))) {
                if (len > s->l.max_string) {
                    rc = fail(s->err, s->errlen,
                              "protobuf: %s.%s at byte %zu: %" PRIu64 " bytes; the limit is %zu",
                              type_name[t], f->name, at, len, s->l.max_string);
                    goto out;
                }
                if ((f->flags & F_STR) && !str_ok(p, (size_t)len)) {
                    rc = fail(s->err, s->errlen,
                              "protobuf: %s.%s at byte %zu: invalid UTF-8 or a NUL byte",
                              type_name[t], f->name, at);
                    goto out;
                }
            }
            p += len;
            break;
        default:
            rc = fail(s->err, s->errlen, "protobuf: %s field %" PRIu64 " at byte %zu: wire type %u "
                      "(groups and invalid types are not supported)", type_name[t], num, at, wt);
            goto out;
        }
    }
out:
    s->attrs = saved;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* batch building                                                           */

static void hex_id(char *out, size_t want, const uint8_t *p, size_t n)
{
    out[0] = 0;
    if (n != want)
        return;
    bool zero = true;
    for (size_t i = 0; i < n; i++) {
        snprintf(out + 2 * i, 3, "%02x", p[i]);
        zero = zero && p[i] == 0;
    }
    if (zero) /* all zeros is an invalid id in OTLP */
        out[0] = 0;
}

static char *base64(const uint8_t *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = malloc(4 * ((n + 2) / 3) + 1), *w = o;
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        *w++ = tab[v >> 18 & 63];
        *w++ = tab[v >> 12 & 63];
        *w++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
        *w++ = i + 2 < n ? tab[v & 63] : '=';
    }
    *w = 0;
    return o;
}

static cJSON *pb_value(const PbAnyValue *v);

static cJSON *pb_kvs(PbKeyValue *const *kv, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && i < n; i++) {
        if (!kv[i]->key || cJSON_GetObjectItemCaseSensitive(o, kv[i]->key))
            continue;
        cJSON *v = pb_value(kv[i]->value);
        if (!v || !cJSON_AddItemToObject(o, kv[i]->key, v)) {
            cJSON_Delete(v);
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

static cJSON *pb_value(const PbAnyValue *v)
{
    if (!v)
        return cJSON_CreateNull();
    switch (v->value_case) {
    case OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__ANY_VALUE__VALUE_STRING_VALUE:
        return cJSON_CreateString(v->string_value ? v->string_value : "");
    case OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__ANY_VALUE__VALUE_BOOL_VALUE:
        return cJSON_CreateBool(v->bool_value);
    case OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__ANY_VALUE__VALUE_INT_VALUE:
        return cJSON_CreateNumber((double)v->int_value);
    case OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
        return isfinite(v->double_value) ? cJSON_CreateNumber(v->double_value) : cJSON_CreateNull();
    case OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__ANY_VALUE__VALUE_ARRAY_VALUE: {
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; a && v->array_value && i < v->array_value->n_values; i++) {
            cJSON *e = pb_value(v->array_value->values[i]);
            if (!e || !cJSON_AddItemToArray(a, e)) {
                cJSON_Delete(e);
                cJSON_Delete(a);
                return NULL;
            }
        }
        return a;
    }
    case OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__ANY_VALUE__VALUE_KVLIST_VALUE:
        return v->kvlist_value ? pb_kvs(v->kvlist_value->values, v->kvlist_value->n_values)
                               : cJSON_CreateObject();
    case OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__ANY_VALUE__VALUE_BYTES_VALUE: {
        char *b = base64(v->bytes_value.data, v->bytes_value.len);
        cJSON *s = b ? cJSON_CreateString(b) : NULL;
        free(b);
        return s;
    }
    default:
        return cJSON_CreateNull();
    }
}

static struct otlp_batch *batch_new(void)
{
    struct otlp_batch *b = calloc(1, sizeof *b);
    if (b && !(b->resources = cJSON_CreateArray())) {
        free(b);
        return NULL;
    }
    return b;
}

void otlp_batch_free(struct otlp_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++) {
        free(b->spans[i].name);
        free(b->spans[i].status_message);
        cJSON_Delete(b->spans[i].attrs);
    }
    free(b->spans);
    cJSON_Delete(b->resources);
    free(b);
}

/* A new zeroed span at the end of b, whose list holds cap spans (counted
 * before decoding); name and message set to "". NULL on ENOMEM (or, which
 * the counting rules out, when the list is full). */
static struct otlp_span *batch_add(struct otlp_batch *b, size_t cap, const cJSON *resource)
{
    if (!b->spans && !(b->spans = calloc(cap ? cap : 1, sizeof *b->spans)))
        return NULL;
    if (b->n >= cap)
        return NULL;
    struct otlp_span *s = &b->spans[b->n];
    memset(s, 0, sizeof *s);
    s->name = strdup("");
    s->status_message = strdup("");
    s->resource = resource;
    b->n++; /* counted now so otlp_batch_free frees what is set */
    if (!s->name || !s->status_message)
        return NULL;
    return s;
}

int otlp_decode_protobuf(const void *body, size_t len, const struct otlp_limits *lim,
                         struct otlp_batch **out, char *err, size_t errlen)
{
    *out = NULL;
    struct scan s = {.base = body, .l = lim_of(lim), .err = err, .errlen = errlen};
    if (len > s.l.max_body)
        return fail(err, errlen, "body is %zu bytes; the limit is %zu", len, s.l.max_body);
    const uint8_t *p = body ? body : (const uint8_t *)"";
    s.base = p;
    if (pb_scan(&s, p, p + len, T_REQ, 0))
        return -1;
    PbRequest *req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
        NULL, len, p);
    if (!req)
        return fail(err, errlen, "protobuf: does not decode (or out of memory)");
    struct otlp_batch *b = batch_new();
    if (!b)
        goto nomem;
    for (size_t i = 0; i < req->n_resource_spans; i++) {
        PbResourceSpans *rs = req->resource_spans[i];
        cJSON *res = rs->resource ? pb_kvs(rs->resource->attributes, rs->resource->n_attributes)
                                  : cJSON_CreateObject();
        if (!res || !cJSON_AddItemToArray(b->resources, res)) {
            cJSON_Delete(res);
            goto nomem;
        }
        for (size_t j = 0; j < rs->n_scope_spans; j++) {
            PbScopeSpans *ss = rs->scope_spans[j];
            for (size_t k = 0; k < ss->n_spans; k++) {
                PbSpan *ps = ss->spans[k];
                struct otlp_span *sp = batch_add(b, (size_t)s.spans, res);
                if (!sp)
                    goto nomem;
                hex_id(sp->trace_id, 16, ps->trace_id.data, ps->trace_id.len);
                hex_id(sp->span_id, 8, ps->span_id.data, ps->span_id.len);
                hex_id(sp->parent_span_id, 8, ps->parent_span_id.data, ps->parent_span_id.len);
                if (ps->name && *ps->name) {
                    free(sp->name);
                    if (!(sp->name = strdup(ps->name)))
                        goto nomem;
                }
                sp->kind = (int)ps->kind;
                sp->start_ns = ps->start_time_unix_nano;
                sp->end_ns = ps->end_time_unix_nano;
                if (ps->status) {
                    sp->status_code = (int)ps->status->code;
                    if (ps->status->message && *ps->status->message) {
                        free(sp->status_message);
                        if (!(sp->status_message = strdup(ps->status->message)))
                            goto nomem;
                    }
                }
                if (!(sp->attrs = pb_kvs(ps->attributes, ps->n_attributes)))
                    goto nomem;
            }
        }
    }
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req, NULL);
    *out = b;
    return 0;
nomem:
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req, NULL);
    otlp_batch_free(b);
    return fail(err, errlen, "out of memory");
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                     */

struct jwalk {
    struct lim l;
    int spans;
    char *err;
    size_t errlen;
};

/* obj[camel] or obj[snake]. */
static const cJSON *jget(const cJSON *o, const char *camel, const char *snake)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, camel);
    if (!v && snake)
        v = cJSON_GetObjectItemCaseSensitive(o, snake);
    return cJSON_IsNull(v) ? NULL : v;
}

static bool jstr_len_ok(struct jwalk *w, const char *s)
{
    return strlen(s) <= w->l.max_string;
}

/* A JSON int64 (a string of digits or a number) → *out; false otherwise. */
static bool j_u64(const cJSON *v, uint64_t *out)
{
    if (cJSON_IsNumber(v)) {
        if (!(v->valuedouble >= 0) || v->valuedouble >= 18446744073709551615.0)
            return false;
        *out = (uint64_t)v->valuedouble;
        return true;
    }
    if (!cJSON_IsString(v) || !*v->valuestring)
        return false;
    uint64_t r = 0;
    for (const char *p = v->valuestring; *p; p++) {
        if (*p < '0' || *p > '9' || r > (UINT64_MAX - 9) / 10)
            return false;
        r = r * 10 + (uint64_t)(*p - '0');
    }
    *out = r;
    return true;
}

static bool j_i64(const cJSON *v, int64_t *out)
{
    if (cJSON_IsString(v) && v->valuestring[0] == '-') {
        cJSON tmp = *v;
        tmp.valuestring = v->valuestring + 1;
        uint64_t u;
        if (!j_u64(&tmp, &u) || u > (uint64_t)INT64_MAX)
            return false;
        *out = -(int64_t)u;
        return true;
    }
    if (cJSON_IsNumber(v)) {
        if (!(fabs(v->valuedouble) < 9.2e18))
            return false;
        *out = (int64_t)v->valuedouble;
        return true;
    }
    uint64_t u;
    if (!j_u64(v, &u) || u > (uint64_t)INT64_MAX)
        return false;
    *out = (int64_t)u;
    return true;
}

static void j_hex_id(char *out, size_t want, const cJSON *v)
{
    out[0] = 0;
    if (!cJSON_IsString(v) || strlen(v->valuestring) != 2 * want)
        return;
    bool zero = true;
    for (size_t i = 0; i < 2 * want; i++) {
        char c = v->valuestring[i];
        if (!isxdigit((unsigned char)c)) {
            out[0] = 0;
            return;
        }
        out[i] = (char)tolower((unsigned char)c);
        zero = zero && c == '0';
    }
    out[2 * want] = 0;
    if (zero)
        out[0] = 0;
}

static cJSON *j_value(struct jwalk *w, const cJSON *v, int *attrs);

/* An OTLP/JSON KeyValue array → an object (NULL with err set on a limit, or on ENOMEM). */
static cJSON *j_kvs(struct jwalk *w, const cJSON *arr, int *attrs)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        fail(w->err, w->errlen, "out of memory");
        return NULL;
    }
    const cJSON *kv;
    cJSON_ArrayForEach(kv, (cJSON_IsArray(arr) ? arr : NULL))
    {
        if (++*attrs > w->l.max_attrs) {
            fail(w->err, w->errlen, "json: more than %d attributes", w->l.max_attrs);
            goto bad;
        }
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(kv, "key");
        if (!cJSON_IsString(k))
            continue;
        if (!jstr_len_ok(w, k->valuestring)) {
            fail(w->err, w->errlen, "json: attribute key longer than %zu bytes", w->l.max_string);
            goto bad;
        }
        cJSON *val = j_value(w, cJSON_GetObjectItemCaseSensitive(kv, "value"), attrs);
        if (!val)
            goto bad;
        if (cJSON_GetObjectItemCaseSensitive(o, k->valuestring)) {
            cJSON_Delete(val);
            continue;
        }
        if (!cJSON_AddItemToObject(o, k->valuestring, val)) {
            cJSON_Delete(val);
            fail(w->err, w->errlen, "out of memory");
            goto bad;
        }
    }
    return o;
bad:
    cJSON_Delete(o);
    return NULL;
}

static cJSON *j_value(struct jwalk *w, const cJSON *v, int *attrs)
{
    const cJSON *x;
    cJSON *r = NULL;
    if (!cJSON_IsObject(v)) {
        r = cJSON_CreateNull();
    } else if ((x = jget(v, "stringValue", "string_value")) || (x = jget(v, "bytesValue", "bytes_value"))) {
        if (!cJSON_IsString(x)) {
            r = cJSON_CreateNull();
        } else if (!jstr_len_ok(w, x->valuestring)) {
            fail(w->err, w->errlen, "json: string value longer than %zu bytes", w->l.max_string);
            return NULL;
        } else {
            r = cJSON_CreateString(x->valuestring);
        }
    } else if ((x = jget(v, "boolValue", "bool_value"))) {
        r = cJSON_IsBool(x) ? cJSON_CreateBool(cJSON_IsTrue(x)) : cJSON_CreateNull();
    } else if ((x = jget(v, "intValue", "int_value"))) {
        int64_t i;
        r = j_i64(x, &i) ? cJSON_CreateNumber((double)i) : cJSON_CreateNull();
    } else if ((x = jget(v, "doubleValue", "double_value"))) {
        r = cJSON_IsNumber(x) ? cJSON_CreateNumber(x->valuedouble) : cJSON_CreateNull();
    } else if ((x = jget(v, "arrayValue", "array_value"))) {
        r = cJSON_CreateArray();
        const cJSON *e;
        cJSON_ArrayForEach(e, (r ? cJSON_GetObjectItemCaseSensitive(x, "values") : NULL))
        {
            if (++*attrs > w->l.max_attrs) {
                fail(w->err, w->errlen, "json: more than %d attributes", w->l.max_attrs);
                cJSON_Delete(r);
                return NULL;
            }
            cJSON *c = j_value(w, e, attrs);
            if (!c) {
                cJSON_Delete(r);
                return NULL;
            }
            cJSON_AddItemToArray(r, c);
        }
    } else if ((x = jget(v, "kvlistValue", "kvlist_value"))) {
        return j_kvs(w, cJSON_GetObjectItemCaseSensitive(x, "values"), attrs);
    } else {
        r = cJSON_CreateNull();
    }
    if (!r)
        fail(w->err, w->errlen, "out of memory");
    return r;
}

static char *j_strdup(const cJSON *v)
{
    return strdup(cJSON_IsString(v) ? v->valuestring : "");
}

int otlp_decode_json(const char *body, size_t len, const struct otlp_limits *lim,
                     struct otlp_batch **out, char *err, size_t errlen)
{
    *out = NULL;
    struct jwalk w = {.l = lim_of(lim), .err = err, .errlen = errlen};
    if (len > w.l.max_body)
        return fail(err, errlen, "body is %zu bytes; the limit is %zu", len, w.l.max_body);
    struct event_limits el = {.max_bytes = len ? len : 1, .max_depth = w.l.max_depth};
    struct event_error ee = {0};
    cJSON *root = event_parse_json(body ? body : "", len, &el, 0, &ee);
    if (!root)
        return fail(err, errlen, "json: %s", ee.msg);
    struct otlp_batch *b = NULL;
    if (!cJSON_IsObject(root)) {
        fail(err, errlen, "json: the body must be an object (ExportTraceServiceRequest)");
        goto bad;
    }
    /* count the spans first: the limit, and one allocation for the list */
    size_t total = 0;
    const cJSON *rs, *ss, *sp;
    cJSON_ArrayForEach(rs, jget(root, "resourceSpans", "resource_spans")) {
        cJSON_ArrayForEach(ss, jget(rs, "scopeSpans", "scope_spans")) {
            cJSON_ArrayForEach(sp, jget(ss, "spans", NULL)) {
                total++;
            }
        }
    }
    if (total > (size_t)w.l.max_spans) {
        fail(err, errlen, "json: more than %d spans", w.l.max_spans);
        goto bad;
    }
    if (!(b = batch_new()))
        goto nomem;
    cJSON_ArrayForEach(rs, jget(root, "resourceSpans", "resource_spans"))
    {
        int rattrs = 0;
        const cJSON *r = jget(rs, "resource", NULL);
        cJSON *res = j_kvs(&w, r ? jget(r, "attributes", NULL) : NULL, &rattrs);
        if (!res)
            goto bad;
        if (!cJSON_AddItemToArray(b->resources, res)) {
            cJSON_Delete(res);
            goto nomem;
        }
        cJSON_ArrayForEach(ss, jget(rs, "scopeSpans", "scope_spans")) {
            cJSON_ArrayForEach(sp, jget(ss, "spans", NULL)) {
                if (!cJSON_IsObject(sp)) /* not a span: skipped */
                    continue;
                struct otlp_span *s = batch_add(b, total, res);
                if (!s)
                    goto nomem;
                j_hex_id(s->trace_id, 16, jget(sp, "traceId", "trace_id"));
                j_hex_id(s->span_id, 8, jget(sp, "spanId", "span_id"));
                j_hex_id(s->parent_span_id, 8, jget(sp, "parentSpanId", "parent_span_id"));
                const cJSON *name = jget(sp, "name", NULL);
                if (cJSON_IsString(name) && !jstr_len_ok(&w, name->valuestring)) {
                    fail(err, errlen, "json: span name longer than %zu bytes", w.l.max_string);
                    goto bad;
                }
                free(s->name);
                if (!(s->name = j_strdup(name)))
                    goto nomem;
                const cJSON *kind = jget(sp, "kind", NULL);
                if (cJSON_IsNumber(kind) && kind->valuedouble >= 0 && kind->valuedouble <= 5)
                    s->kind = kind->valueint;
                if (!j_u64(jget(sp, "startTimeUnixNano", "start_time_unix_nano"), &s->start_ns))
                    s->start_ns = 0;
                if (!j_u64(jget(sp, "endTimeUnixNano", "end_time_unix_nano"), &s->end_ns))
                    s->end_ns = 0;
                const cJSON *st = jget(sp, "status", NULL);
                if (cJSON_IsObject(st)) {
                    const cJSON *code = jget(st, "code", NULL), *msg = jget(st, "message", NULL);
                    if (cJSON_IsNumber(code))
                        s->status_code = code->valueint;
                    else if (cJSON_IsString(code)) /* tolerate enum names */
                        s->status_code = !strcmp(code->valuestring, "STATUS_CODE_ERROR") ? 2
                                         : !strcmp(code->valuestring, "STATUS_CODE_OK") ? 1 : 0;
                    if (cJSON_IsString(msg)) {
                        if (!jstr_len_ok(&w, msg->valuestring)) {
                            fail(err, errlen, "json: status message longer than %zu bytes",
                                 w.l.max_string);
                            goto bad;
                        }
                        free(s->status_message);
                        if (!(s->status_message = j_strdup(msg)))
                            goto nomem;
                    }
                }
                int attrs = 0;
                if (!(s->attrs = j_kvs(&w, jget(sp, "attributes", NULL), &attrs)))
                    goto bad;
            }
        }
    }
    cJSON_Delete(root);
    *out = b;
    return 0;
nomem:
    fail(err, errlen, "out of memory");
bad:
    cJSON_Delete(root);
    otlp_batch_free(b);
    return -1;
}

/* ------------------------------------------------------------------------ */
/* mapping                                                                  */

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
        cJSON_ArrayForEach(p, parts)
            if (cJSON_IsObject(p))
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
                char *astr_ = cJSON_IsString(args) ? NULL : args ? cJSON_PrintUnformatted(args) : NULL;
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
        else if ((c = cJSON_GetObjectItemCaseSensitive(a, "llm.output_messages.0.message.content")) &&
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

static void add_doc(cJSON *ctx, const cJSON *id, const cJSON *text, double score, const char *source)
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

static void map_context(const cJSON *a, cJSON *ev)
{
    cJSON *ctx = cJSON_CreateArray();
    if (!ctx)
        return;
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
    h[0] = (h[0] & ~0xF000ull) | 0x8000ull;                   /* version 8 */
    h[1] = (h[1] & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull; /* variant 10 */
    snprintf(out, 37, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(h[0] >> 32),
             (unsigned)(h[0] >> 16 & 0xFFFF), (unsigned)(h[0] & 0xFFFF),
             (unsigned)(h[1] >> 48), (unsigned long long)(h[1] & 0xFFFFFFFFFFFFull));
}

/* service.name made valid for the event: [A-Za-z0-9_.:-], at most 128. */
static void service_of(const cJSON *res, char out[129])
{
    const char *s = astr(res, "service.name");
    size_t n = 0;
    for (; s && s[n] && n < 128; n++) {
        char c = s[n];
        out[n] = isalnum((unsigned char)c) || c == '_' || c == '.' || c == ':' || c == '-' ? c : '_';
    }
    out[n] = 0;
}

enum otlp_map_result otlp_map_span(const struct otlp_span *s, cJSON **out)
{
    *out = NULL;
    const cJSON *a = s->attrs;
    static const char *const req_model_keys[] = {"gen_ai.request.model", "llm.request.model",
                                                 NULL};
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
    double lat = s->end_ns > s->start_ns && s->start_ns ? (double)(s->end_ns - s->start_ns) / 1e6 : 0;
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
