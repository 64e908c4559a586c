/*
 * otlp.c — decode OTLP trace and log bodies (protobuf and JSON) into a flat
 * list of spans / log records (see otlp.h). Mapping them to events is
 * otlp_map.c.
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
 *   objects, so the mapping (otlp_map.c) is written once for both encodings.
 * - Logs (ExportLogsServiceRequest) share the scanner, its limits and the
 *   attribute conversion; a log record becomes a struct otlp_span whose
 *   time is the record's and whose event_name is set, so the GenAI
 *   attributes it carries map like a span's.
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

#include "event.h"
#include "otlp.pb-c.h"
#include "utf8.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest PbRequest;
typedef Opentelemetry__Proto__Collector__Trace__V1__ResourceSpans PbResourceSpans;
typedef Opentelemetry__Proto__Collector__Trace__V1__ScopeSpans PbScopeSpans;
typedef Opentelemetry__Proto__Collector__Trace__V1__Span PbSpan;
typedef Opentelemetry__Proto__Collector__Trace__V1__KeyValue PbKeyValue;
typedef Opentelemetry__Proto__Collector__Trace__V1__AnyValue PbAnyValue;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportLogsServiceRequest PbLogsRequest;
typedef Opentelemetry__Proto__Collector__Trace__V1__ResourceLogs PbResourceLogs;
typedef Opentelemetry__Proto__Collector__Trace__V1__ScopeLogs PbScopeLogs;
typedef Opentelemetry__Proto__Collector__Trace__V1__LogRecord PbLogRecord;

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

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
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

enum pbt {
    T_NONE,
    T_REQ,
    T_RS,
    T_RES,
    T_SS,
    T_SPAN,
    T_STATUS,
    T_KV,
    T_ANY,
    T_ARR,
    T_KVL,
    T_LREQ,
    T_RL,
    T_SL,
    T_LOG,
    T_N
};
enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };
enum { F_STR = 1, F_BYTES = 2 };

struct pbfield {
    uint32_t num;
    uint8_t wt, child, flags;
    const char *name;
};

static const char *const type_name[T_N] = {"?",
                                           "ExportTraceServiceRequest",
                                           "ResourceSpans",
                                           "Resource",
                                           "ScopeSpans",
                                           "Span",
                                           "Status",
                                           "KeyValue",
                                           "AnyValue",
                                           "ArrayValue",
                                           "KeyValueList",
                                           "ExportLogsServiceRequest",
                                           "ResourceLogs",
                                           "ScopeLogs",
                                           "LogRecord"};

/* The fields otlp.proto declares, with the wire type each must have; others
 * are skipped as unknown. */
static const struct pbfield f_req[] = {{1, WT_LEN, T_RS, 0, "resource_spans"}, {0}};
static const struct pbfield f_rs[] = {
    {1, WT_LEN, T_RES, 0, "resource"}, {2, WT_LEN, T_SS, 0, "scope_spans"}, {0}};
static const struct pbfield f_res[] = {{1, WT_LEN, T_KV, 0, "attributes"}, {0}};
static const struct pbfield f_ss[] = {{2, WT_LEN, T_SPAN, 0, "spans"}, {0}};
static const struct pbfield f_span[] = {{1, WT_LEN, T_NONE, F_BYTES, "trace_id"},
                                        {2, WT_LEN, T_NONE, F_BYTES, "span_id"},
                                        {4, WT_LEN, T_NONE, F_BYTES, "parent_span_id"},
                                        {5, WT_LEN, T_NONE, F_STR, "name"},
                                        {6, WT_VARINT, T_NONE, 0, "kind"},
                                        {7, WT_I64, T_NONE, 0, "start_time_unix_nano"},
                                        {8, WT_I64, T_NONE, 0, "end_time_unix_nano"},
                                        {9, WT_LEN, T_KV, 0, "attributes"},
                                        {15, WT_LEN, T_STATUS, 0, "status"},
                                        {0}};
static const struct pbfield f_status[] = {
    {2, WT_LEN, T_NONE, F_STR, "message"}, {3, WT_VARINT, T_NONE, 0, "code"}, {0}};
static const struct pbfield f_kv[] = {
    {1, WT_LEN, T_NONE, F_STR, "key"}, {2, WT_LEN, T_ANY, 0, "value"}, {0}};
static const struct pbfield f_any[] = {
    {1, WT_LEN, T_NONE, F_STR, "string_value"},  {2, WT_VARINT, T_NONE, 0, "bool_value"},
    {3, WT_VARINT, T_NONE, 0, "int_value"},      {4, WT_I64, T_NONE, 0, "double_value"},
    {5, WT_LEN, T_ARR, 0, "array_value"},        {6, WT_LEN, T_KVL, 0, "kvlist_value"},
    {7, WT_LEN, T_NONE, F_BYTES, "bytes_value"}, {0}};
static const struct pbfield f_arr[] = {{1, WT_LEN, T_ANY, 0, "values"}, {0}};
static const struct pbfield f_kvl[] = {{1, WT_LEN, T_KV, 0, "values"}, {0}};
static const struct pbfield f_lreq[] = {{1, WT_LEN, T_RL, 0, "resource_logs"}, {0}};
static const struct pbfield f_rl[] = {
    {1, WT_LEN, T_RES, 0, "resource"}, {2, WT_LEN, T_SL, 0, "scope_logs"}, {0}};
static const struct pbfield f_sl[] = {{2, WT_LEN, T_LOG, 0, "log_records"}, {0}};
static const struct pbfield f_log[] = {
    {1, WT_I64, T_NONE, 0, "time_unix_nano"},  {5, WT_LEN, T_ANY, 0, "body"},
    {6, WT_LEN, T_KV, 0, "attributes"},        {9, WT_LEN, T_NONE, F_BYTES, "trace_id"},
    {10, WT_LEN, T_NONE, F_BYTES, "span_id"},  {11, WT_I64, T_NONE, 0, "observed_time_unix_nano"},
    {12, WT_LEN, T_NONE, F_STR, "event_name"}, {0}};
static const struct pbfield *const fields_of[T_N] = {NULL,   f_req,    f_rs, f_res, f_ss,
                                                     f_span, f_status, f_kv, f_any, f_arr,
                                                     f_kvl,  f_lreq,   f_rl, f_sl,  f_log};

struct scan {
    const uint8_t *base;
    struct lim l;
    int spans, groups; /* Span / LogRecord, and ResourceSpans + ScopeSpans (or
                          ResourceLogs + ScopeLogs), messages */
    const char *unit;  /* "spans" or "log records", for messages */
    long unknown;      /* unknown fields (protobuf-c keeps a copy of each) */
    int *attrs;        /* attribute counter of the enclosing span or resource */
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
    if (t == T_SPAN || t == T_LOG || t == T_RES)
        s->attrs = &local_attrs;
    int rc = 0;
    while (p < end) {
        size_t at = (size_t)(p - s->base);
        uint64_t tag, len = 0;
        if (!varint(&p, end, &tag)) {
            rc = fail(s->err, s->errlen, "protobuf: %s at byte %zu: truncated tag", type_name[t],
                      at);
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
                rc = fail(s->err, s->errlen,
                          "protobuf: %s field %" PRIu64 " at byte %zu: truncated varint",
                          type_name[t], num, at);
                goto out;
            }
            break;
        case WT_I64:
        case WT_I32: {
            size_t n = wt == WT_I64 ? 8 : 4;
            if ((size_t)(end - p) < n) {
                rc = fail(s->err, s->errlen,
                          "protobuf: %s field %" PRIu64 " at byte %zu: truncated %s", type_name[t],
                          num, at, wt_name(wt));
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
                if ((f->child == T_SPAN || f->child == T_LOG) && ++s->spans > s->l.max_spans) {
                    rc = fail(s->err, s->errlen, "protobuf: more than %d %s", s->l.max_spans,
                              s->unit);
                    goto out;
                }
                if ((f->child == T_RS || f->child == T_SS || f->child == T_RL ||
                     f->child == T_SL) &&
                    ++s->groups > s->l.max_spans) {
                    rc = fail(s->err, s->errlen, "protobuf: more than %d resource or scope groups",
                              s->l.max_spans);
                    goto out;
                }
                /* attribute values: keys, and array elements at any depth */
                if ((f->child == T_KV || t == T_ARR) && s->attrs && ++*s->attrs > s->l.max_attrs) {
                    rc =
                        fail(s->err, s->errlen, "protobuf: %s at byte %zu: more than %d attributes",
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
            rc = fail(s->err, s->errlen,
                      "protobuf: %s field %" PRIu64 " at byte %zu: wire type %u "
                      "(groups and invalid types are not supported)",
                      type_name[t], num, at, wt);
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
    default: return cJSON_CreateNull();
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
        free(b->spans[i].event_name);
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
    s->event_name = strdup("");
    s->resource = resource;
    b->n++; /* counted now so otlp_batch_free frees what is set */
    if (!s->name || !s->status_message || !s->event_name)
        return NULL;
    return s;
}

int otlp_decode_protobuf(const void *body, size_t len, const struct otlp_limits *lim,
                         struct otlp_batch **out, char *err, size_t errlen)
{
    *out = NULL;
    struct scan s = {.base = body, .l = lim_of(lim), .unit = "spans", .err = err, .errlen = errlen};
    if (len > s.l.max_body)
        return fail(err, errlen, "body is %zu bytes; the limit is %zu", len, s.l.max_body);
    const uint8_t *p = body ? body : (const uint8_t *)"";
    s.base = p;
    if (pb_scan(&s, p, p + len, T_REQ, 0))
        return -1;
    PbRequest *req =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(NULL, len,
                                                                                         p);
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
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req,
                                                                                            NULL);
    *out = b;
    return 0;
nomem:
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req,
                                                                                            NULL);
    otlp_batch_free(b);
    return fail(err, errlen, "out of memory");
}

/* Attributes of a log record: its attributes, then (as fallbacks) the
 * members of a kvlist body. */
static int log_attrs(struct otlp_span *sp, cJSON *body)
{
    if (cJSON_IsObject(body)) {
        cJSON *m = body->child;
        while (m) {
            cJSON *next = m->next;
            if (m->string && !cJSON_GetObjectItemCaseSensitive(sp->attrs, m->string)) {
                cJSON_DetachItemViaPointer(body, m);
                if (!cJSON_AddItemToObject(sp->attrs, m->string, m)) {
                    cJSON_Delete(m);
                    return -1;
                }
            }
            m = next;
        }
    }
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(sp->attrs, "event.name");
    if (!*sp->event_name && cJSON_IsString(en) && *en->valuestring) {
        free(sp->event_name);
        if (!(sp->event_name = strdup(en->valuestring)))
            return -1;
    }
    return 0;
}

/* A log record's times: its time, else the time it was observed. */
static void log_times(struct otlp_span *sp, uint64_t t, uint64_t observed)
{
    sp->start_ns = sp->end_ns = t ? t : observed;
}

int otlp_decode_logs_protobuf(const void *body, size_t len, const struct otlp_limits *lim,
                              struct otlp_batch **out, char *err, size_t errlen)
{
    *out = NULL;
    struct scan s = {.l = lim_of(lim), .unit = "log records", .err = err, .errlen = errlen};
    if (len > s.l.max_body)
        return fail(err, errlen, "body is %zu bytes; the limit is %zu", len, s.l.max_body);
    const uint8_t *p = body ? body : (const uint8_t *)"";
    s.base = p;
    if (pb_scan(&s, p, p + len, T_LREQ, 0))
        return -1;
    PbLogsRequest *req =
        opentelemetry__proto__collector__trace__v1__export_logs_service_request__unpack(NULL, len,
                                                                                        p);
    if (!req)
        return fail(err, errlen, "protobuf: does not decode (or out of memory)");
    struct otlp_batch *b = batch_new();
    if (!b)
        goto nomem;
    for (size_t i = 0; i < req->n_resource_logs; i++) {
        PbResourceLogs *rl = req->resource_logs[i];
        cJSON *res = rl->resource ? pb_kvs(rl->resource->attributes, rl->resource->n_attributes)
                                  : cJSON_CreateObject();
        if (!res || !cJSON_AddItemToArray(b->resources, res)) {
            cJSON_Delete(res);
            goto nomem;
        }
        for (size_t j = 0; j < rl->n_scope_logs; j++) {
            PbScopeLogs *sl = rl->scope_logs[j];
            for (size_t k = 0; k < sl->n_log_records; k++) {
                PbLogRecord *lr = sl->log_records[k];
                struct otlp_span *sp = batch_add(b, (size_t)s.spans, res);
                if (!sp)
                    goto nomem;
                hex_id(sp->trace_id, 16, lr->trace_id.data, lr->trace_id.len);
                hex_id(sp->span_id, 8, lr->span_id.data, lr->span_id.len);
                log_times(sp, lr->time_unix_nano, lr->observed_time_unix_nano);
                if (lr->event_name && *lr->event_name) {
                    free(sp->event_name);
                    if (!(sp->event_name = strdup(lr->event_name)))
                        goto nomem;
                }
                if (!(sp->attrs = pb_kvs(lr->attributes, lr->n_attributes)))
                    goto nomem;
                cJSON *bv = lr->body ? pb_value(lr->body) : NULL;
                int rc = log_attrs(sp, bv);
                cJSON_Delete(bv);
                if (rc)
                    goto nomem;
            }
        }
    }
    opentelemetry__proto__collector__trace__v1__export_logs_service_request__free_unpacked(req,
                                                                                           NULL);
    *out = b;
    return 0;
nomem:
    opentelemetry__proto__collector__trace__v1__export_logs_service_request__free_unpacked(req,
                                                                                           NULL);
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
    } else if ((x = jget(v, "stringValue", "string_value")) ||
               (x = jget(v, "bytesValue", "bytes_value"))) {
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
    cJSON_ArrayForEach(rs, jget(root, "resourceSpans", "resource_spans"))
    {
        cJSON_ArrayForEach(ss, jget(rs, "scopeSpans", "scope_spans"))
        {
            cJSON_ArrayForEach(sp, jget(ss, "spans", NULL))
            {
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
        cJSON_ArrayForEach(ss, jget(rs, "scopeSpans", "scope_spans"))
        {
            cJSON_ArrayForEach(sp, jget(ss, "spans", NULL))
            {
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
                                         : !strcmp(code->valuestring, "STATUS_CODE_OK")  ? 1
                                                                                         : 0;
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

int otlp_decode_logs_json(const char *body, size_t len, const struct otlp_limits *lim,
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
        fail(err, errlen, "json: the body must be an object (ExportLogsServiceRequest)");
        goto bad;
    }
    size_t total = 0;
    const cJSON *rl, *sl, *lr;
    cJSON_ArrayForEach(rl, jget(root, "resourceLogs", "resource_logs"))
    {
        cJSON_ArrayForEach(sl, jget(rl, "scopeLogs", "scope_logs"))
        {
            cJSON_ArrayForEach(lr, jget(sl, "logRecords", "log_records"))
            {
                total++;
            }
        }
    }
    if (total > (size_t)w.l.max_spans) {
        fail(err, errlen, "json: more than %d log records", w.l.max_spans);
        goto bad;
    }
    if (!(b = batch_new()))
        goto nomem;
    cJSON_ArrayForEach(rl, jget(root, "resourceLogs", "resource_logs"))
    {
        int rattrs = 0;
        const cJSON *r = jget(rl, "resource", NULL);
        cJSON *res = j_kvs(&w, r ? jget(r, "attributes", NULL) : NULL, &rattrs);
        if (!res)
            goto bad;
        if (!cJSON_AddItemToArray(b->resources, res)) {
            cJSON_Delete(res);
            goto nomem;
        }
        cJSON_ArrayForEach(sl, jget(rl, "scopeLogs", "scope_logs"))
        {
            cJSON_ArrayForEach(lr, jget(sl, "logRecords", "log_records"))
            {
                if (!cJSON_IsObject(lr)) /* not a record: skipped */
                    continue;
                struct otlp_span *s = batch_add(b, total, res);
                if (!s)
                    goto nomem;
                j_hex_id(s->trace_id, 16, jget(lr, "traceId", "trace_id"));
                j_hex_id(s->span_id, 8, jget(lr, "spanId", "span_id"));
                uint64_t t = 0, obs = 0;
                if (!j_u64(jget(lr, "timeUnixNano", "time_unix_nano"), &t))
                    t = 0;
                if (!j_u64(jget(lr, "observedTimeUnixNano", "observed_time_unix_nano"), &obs))
                    obs = 0;
                log_times(s, t, obs);
                const cJSON *en = jget(lr, "eventName", "event_name");
                if (cJSON_IsString(en) && *en->valuestring) {
                    if (!jstr_len_ok(&w, en->valuestring)) {
                        fail(err, errlen, "json: event name longer than %zu bytes", w.l.max_string);
                        goto bad;
                    }
                    free(s->event_name);
                    if (!(s->event_name = j_strdup(en)))
                        goto nomem;
                }
                int attrs = 0;
                if (!(s->attrs = j_kvs(&w, jget(lr, "attributes", NULL), &attrs)))
                    goto bad;
                cJSON *bv = NULL;
                const cJSON *bj = jget(lr, "body", NULL);
                if (bj && !(bv = j_value(&w, bj, &attrs)))
                    goto bad;
                if (attrs > w.l.max_attrs) {
                    cJSON_Delete(bv);
                    fail(err, errlen, "json: more than %d attributes", w.l.max_attrs);
                    goto bad;
                }
                int rc = log_attrs(s, bv);
                cJSON_Delete(bv);
                if (rc)
                    goto nomem;
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
