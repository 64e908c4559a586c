/*
 * capture.c — one proxied LLM call → the provider-derived fields of an
 * llmtap.event/1 (see capture.h). The wire formats themselves are read by
 * one file per provider (capture_openai.c, capture_anthropic.c), registered
 * in `providers` below; this file holds what they share.
 *
 * DESIGN
 * - Flow: capture_request parses the client's body once (cJSON), lets the
 *   provider append messages/params/context through the cap_* helpers, then
 *   applies the text cap to the request's strings and drops the parse tree.
 *   capture_response_begin picks the response mode: SSE (status < 400 and
 *   Content-Type text/event-stream, or no Content-Type and a streaming
 *   request) or a whole body. SSE bytes go through sse.c and each event to
 *   the provider as it completes; a whole body is buffered (bounded) and
 *   parsed in capture_finish, which then writes the event.
 * - Ownership: the capture owns the fragments it builds (messages, params,
 *   context, …: cJSON trees) and the response state (buffers). capture_finish
 *   writes copies into the caller's event, so calling it again writes the
 *   same thing; the response is processed only once.
 * - The text cap (capture_opts.text_cap) bounds prompt + context + response
 *   text together; how it is shared and cut is capture_text.c's.
 * - Memory is bounded by the cap and constants: request text ≤ text_cap
 *   after capture_request; response text ≤ text_cap; a whole body is kept
 *   up to text_cap + CAP_BODY_MARGIN bytes (past it the rest is only seen
 *   through a CAP_TAIL-byte ring, from which the usage and the model are
 *   salvaged); one SSE event up to text_cap + CAP_EVENT_MARGIN.
 * - Malformed input never fails the capture: what parses is used, the rest
 *   ignored. No assert depends on input.
 */
#include "capture.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "capture_provider.h"
#include "capture_text.h"
#include "sse.h"
#include "utf8.h"

#define CAP_BODY_MARGIN   (256 * 1024)
#define CAP_EVENT_MARGIN  (1024 * 1024)
#define CAP_TAIL          16384
#define CAP_ERROR_MSG     1024
#define CAP_MAX_TAG       1024 /* bytes of a context passage's opening tag */
#define CAP_SALVAGE_TRIES 16   /* values parsed per key looked for in a salvage */

static const struct capture_provider *const providers[] = {
    [CAPTURE_OPENAI] = &capture_openai,
    [CAPTURE_ANTHROPIC] = &capture_anthropic,
};

/* ------------------------------------------------------------------------ */
/* small helpers                                                            */

/* A valid UTF-8 copy of s[0, len) of at most max bytes into out (max + 1
 * bytes): an invalid byte becomes U+FFFD, the cut falls between characters.
 * For the fields the schema limits in bytes (roles, models, finish reasons):
 * the encoder would turn each invalid byte into U+FFFD (3 bytes) anyway, so
 * the limit must be applied to the cleaned text. Returns the length. */
static size_t clean_utf8(const char *s, size_t len, char *out, size_t max)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t k = utf8_seq((const unsigned char *)s + i, len - i);
        const char *src = s + i;
        size_t n = k;
        if (k == 0) {
            src = "\xEF\xBF\xBD";
            n = 3;
            k = 1;
        }
        if (n > max - o)
            break;
        memcpy(out + o, src, n);
        o += n;
        i += k;
    }
    out[o] = 0;
    return o;
}

const cJSON *cap_get(const cJSON *obj, const char *name)
{
    if (!cJSON_IsObject(obj))
        return NULL;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, name);
    return m && !cJSON_IsNull(m) ? m : NULL;
}

const char *cap_str(const cJSON *obj, const char *name)
{
    const cJSON *m = cap_get(obj, name);
    return cJSON_IsString(m) ? m->valuestring : NULL;
}

bool cap_nonneg_int(const cJSON *v, int64_t *out)
{
    if (!cJSON_IsNumber(v))
        return false;
    double d = v->valuedouble;
    if (!(d >= 0 && d <= 9007199254740992.0) || floor(d) != d)
        return false;
    *out = (int64_t)d;
    return true;
}

void cap_usage_field(const cJSON *usage, const char *name, int64_t *out)
{
    int64_t v;
    if (cap_nonneg_int(cap_get(usage, name), &v))
        *out = v;
}

cJSON *cap_short_string(const char *s, size_t max)
{
    char tmp[CAP_SHORT + 1];
    clean_utf8(s, strlen(s), tmp, max < CAP_SHORT ? max : CAP_SHORT);
    return cJSON_CreateString(tmp);
}

static void add_item(struct capture *c, cJSON *obj, const char *name, cJSON *item)
{
    if (!item) {
        c->oom = true;
        return;
    }
    if (name)
        cJSON_AddItemToObject(obj, name, item);
    else
        cJSON_AddItemToArray(obj, item);
}

void cap_add_short(struct capture *c, cJSON *obj, const char *name, const char *s)
{
    if (!s || !*s)
        return;
    if (strlen(s) > CAP_SHORT)
        c->truncated = true;
    add_item(c, obj, name, cap_short_string(s, CAP_SHORT));
}

/* ------------------------------------------------------------------------ */
/* ops                                                                      */

enum capture_op capture_op_for(enum capture_format f, const char *method, const char *path)
{
    if ((unsigned)f >= sizeof providers / sizeof providers[0] || !method || !path ||
        strcmp(method, "POST") != 0)
        return CAPTURE_OP_NONE;
    size_t n = strcspn(path, "?#");
    if (n > 1 && path[n - 1] == '/')
        n--;
    for (const struct cap_route *r = providers[f]->routes; r->suffix; r++) {
        size_t k = strlen(r->suffix);
        if (n >= k && memcmp(path + n - k, r->suffix, k) == 0)
            return r->op;
    }
    return CAPTURE_OP_NONE;
}

const char *capture_op_name(enum capture_op op)
{
    switch (op) {
    case CAPTURE_OP_CHAT: return "chat";
    case CAPTURE_OP_COMPLETION: return "completion";
    case CAPTURE_OP_EMBEDDINGS: return "embeddings";
    case CAPTURE_OP_RESPONSES: return "responses";
    case CAPTURE_OP_MESSAGES: return "chat";
    case CAPTURE_OP_NONE: break;
    }
    return "other";
}

/* ------------------------------------------------------------------------ */
/* lifecycle                                                                */

struct capture *capture_new(const struct capture_opts *o, enum capture_format f, enum capture_op op)
{
    if ((unsigned)f >= sizeof providers / sizeof providers[0])
        return NULL;
    struct capture *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (o)
        c->o = *o;
    c->context_tag = strdup(c->o.context_tag && *c->o.context_tag ? c->o.context_tag : "context");
    if (!c->context_tag) {
        free(c);
        return NULL;
    }
    c->o.context_tag = c->context_tag;
    c->tag_len = strlen(c->context_tag);
    c->fmt = f;
    c->op = op;
    c->prov = providers[f];
    c->body_max = cap_text_sat_add(c->o.text_cap, CAP_BODY_MARGIN);
    c->u = (struct cap_usage){-1, -1, -1, -1, -1, false};
    c->emb_count = c->emb_dim = -1;
    return c;
}

void capture_free(struct capture *c)
{
    if (!c)
        return;
    cap_text_free_owned(c);
    free(c->slots);
    free(c->context_tag);
    free(c->req_body);
    free(c->request_model);
    cJSON_Delete(c->messages);
    cJSON_Delete(c->params);
    cJSON_Delete(c->input);
    cJSON_Delete(c->context);
    buf_free(&c->body);
    free(c->tail);
    sse_destroy(c->sse);
    free(c->response_model);
    buf_free(&c->text);
    for (size_t i = 0; i < c->ncalls; i++) {
        buf_free(&c->calls[i].id);
        buf_free(&c->calls[i].name);
        buf_free(&c->calls[i].args);
    }
    free(c->calls);
    free(c->err_type);
    free(c->err_msg);
    cJSON_Delete(c->vectors);
    free(c);
}

/* ------------------------------------------------------------------------ */
/* request-side helpers                                                     */

char *cap_join_text(const cJSON *content, size_t *len)
{
    struct buf b = {0};
    if (cJSON_IsString(content)) {
        buf_puts(&b, content->valuestring);
    } else if (cJSON_IsArray(content)) {
        const cJSON *p;
        cJSON_ArrayForEach(p, content)
        {
            const char *t = cJSON_IsString(p) ? p->valuestring : cap_str(p, "text");
            if (!t)
                continue;
            if (b.len)
                buf_append(&b, "\n", 1);
            buf_puts(&b, t);
        }
    } else {
        return NULL;
    }
    if (b.oom) {
        buf_free(&b);
        return NULL;
    }
    if (!b.p) {
        *len = 0;
        return strdup("");
    }
    return buf_steal(&b, len);
}

bool cap_keep_message(struct capture *c, int index, int total)
{
    if (index == 0 || total <= CAP_MAX_MESSAGES || index >= total - (CAP_MAX_MESSAGES - 1))
        return true;
    c->truncated = true;
    return false;
}

cJSON *cap_message(struct capture *c, const char *role)
{
    if (!c->messages && !(c->messages = cJSON_CreateArray())) {
        c->oom = true;
        return NULL;
    }
    if (cJSON_GetArraySize(c->messages) >= CAP_MAX_MESSAGES + 2) {
        c->truncated = true;
        return NULL;
    }
    cJSON *m = cJSON_CreateObject();
    if (!m) {
        c->oom = true;
        return NULL;
    }
    cJSON_AddItemToArray(c->messages, m);
    add_item(c, m, "role", cap_short_string(role && *role ? role : "unknown", 64));
    return m;
}

cJSON *cap_context_doc(struct capture *c, const char *id, size_t id_len, const char *source,
                       size_t source_len, const double *score)
{
    if (!c->context && !(c->context = cJSON_CreateArray())) {
        c->oom = true;
        return NULL;
    }
    if (cJSON_GetArraySize(c->context) >= CAP_MAX_CONTEXT) {
        c->truncated = true;
        return NULL;
    }
    cJSON *d = cJSON_CreateObject();
    if (!d) {
        c->oom = true;
        return NULL;
    }
    cJSON_AddItemToArray(c->context, d);
    char tmp[CAP_SHORT + 1];
    if (id && id_len) {
        clean_utf8(id, id_len, tmp, CAP_SHORT);
        add_item(c, d, "id", cJSON_CreateString(tmp));
    }
    if (source && source_len) {
        clean_utf8(source, source_len, tmp, CAP_SHORT);
        add_item(c, d, "source", cJSON_CreateString(tmp));
    }
    if (score && isfinite(*score))
        add_item(c, d, "score", cJSON_CreateNumber(*score));
    return d;
}

void cap_context(struct capture *c, const char *id, size_t id_len, const char *source,
                 size_t source_len, const double *score, const char *text, size_t len)
{
    cJSON *d = cap_context_doc(c, id, id_len, source, source_len, score);
    if (d)
        cap_text(c, d, "text", text, len, CAP_CONTEXT);
}

void cap_tool_context(struct capture *c, const char *id, const cJSON *content)
{
    size_t len = 0;
    char *text = cap_join_text(content, &len);
    if (!text)
        return;
    cJSON *d = cap_context_doc(c, id, id ? strlen(id) : 0, "tool", 4, NULL);
    if (d)
        cap_text_owned(c, d, "text", text, len, CAP_CONTEXT);
    else
        free(text);
}

void cap_input(struct capture *c, const cJSON *input)
{
    if (c->input)
        return;
    if (cJSON_IsString(input)) {
        cJSON *node = cJSON_CreateString("");
        if (!node) {
            c->oom = true;
            return;
        }
        c->input = node;
        cap_text_push_slot(c, node, input->valuestring, strlen(input->valuestring), NULL,
                           CAP_PROMPT);
        return;
    }
    if (!cJSON_IsArray(input))
        return;
    const cJSON *e;
    int k = 0;
    cJSON_ArrayForEach(e, input)
    {
        if (!cJSON_IsString(e))
            continue;
        if (!c->input && !(c->input = cJSON_CreateArray())) {
            c->oom = true;
            return;
        }
        if (k++ >= CAP_MAX_LIST) {
            c->truncated = true;
            break;
        }
        cap_text_item(c, c->input, e->valuestring, strlen(e->valuestring), CAP_PROMPT);
    }
}

static bool is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static bool is_attr_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '_' || ch == '-' || ch == ':' || ch == '.';
}

/* Finds "</tag" + optional blanks + ">" in s[from, n); returns its start or n. *end
 * is set past the '>'. */
static size_t find_close(const char *s, size_t from, size_t n, const char *tag, size_t tag_len,
                         size_t *end)
{
    for (size_t i = from; i + 2 + tag_len < n; i++) {
        const char *lt = memchr(s + i, '<', n - i);
        if (!lt)
            return n;
        i = (size_t)(lt - s);
        if (i + 2 + tag_len >= n)
            return n;
        if (s[i + 1] != '/' || memcmp(s + i + 2, tag, tag_len) != 0)
            continue;
        size_t j = i + 2 + tag_len;
        while (j < n && is_ws(s[j]))
            j++;
        if (j < n && s[j] == '>') {
            *end = j + 1;
            return i;
        }
    }
    return n;
}

void cap_scan_passages(struct capture *c, const char *s, size_t n)
{
    const char *tag = c->context_tag;
    size_t tl = c->tag_len;
    size_t i = 0;
    while (i < n) {
        const char *lt = memchr(s + i, '<', n - i);
        if (!lt)
            return;
        i = (size_t)(lt - s) + 1;
        if (n - i < tl + 1 || memcmp(s + i, tag, tl) != 0 ||
            !(is_ws(s[i + tl]) || s[i + tl] == '>'))
            continue;
        /* attributes */
        size_t j = i + tl;
        const char *id = NULL, *src = NULL, *score_s = NULL;
        size_t id_len = 0, src_len = 0, score_len = 0;
        bool ok = false;
        while (j < n && j - i < CAP_MAX_TAG) {
            while (j < n && is_ws(s[j]))
                j++;
            if (j < n && s[j] == '>') {
                ok = true;
                j++;
                break;
            }
            size_t name = j;
            while (j < n && is_attr_char(s[j]))
                j++;
            size_t name_len = j - name;
            if (name_len == 0)
                break; /* not an attribute: not our tag */
            while (j < n && is_ws(s[j]))
                j++;
            const char *v = NULL;
            size_t vlen = 0;
            if (j < n && s[j] == '=') {
                j++;
                while (j < n && is_ws(s[j]))
                    j++;
                if (j < n && (s[j] == '"' || s[j] == '\'')) {
                    char q = s[j++];
                    const char *e = memchr(s + j, q, n - j);
                    if (!e)
                        break;
                    v = s + j;
                    vlen = (size_t)(e - v);
                    j = (size_t)(e - s) + 1;
                } else {
                    v = s + j;
                    while (j < n && !is_ws(s[j]) && s[j] != '>')
                        j++;
                    vlen = (size_t)(s + j - v);
                }
            }
            if (!v)
                continue;
            if (name_len == 2 && memcmp(s + name, "id", 2) == 0) {
                id = v;
                id_len = vlen;
            } else if (name_len == 6 && memcmp(s + name, "source", 6) == 0) {
                src = v;
                src_len = vlen;
            } else if (name_len == 5 && memcmp(s + name, "score", 5) == 0) {
                score_s = v;
                score_len = vlen;
            }
        }
        if (!ok)
            continue;
        size_t end = 0;
        size_t close = find_close(s, j, n, tag, tl, &end);
        if (close == n)
            return; /* no closing tag here, so none after any later opening tag either */
        size_t a = j, b = close;
        while (a < b && is_ws(s[a]))
            a++;
        while (b > a && is_ws(s[b - 1]))
            b--;
        double score = 0;
        bool has_score = false;
        if (score_s && score_len > 0 && score_len < 64) {
            char tmp[64];
            memcpy(tmp, score_s, score_len);
            tmp[score_len] = 0;
            char *e = NULL;
            score = strtod(tmp, &e);
            has_score = e == tmp + score_len && isfinite(score);
        }
        cap_context(c, id, id_len, src, src_len, has_score ? &score : NULL, s + a, b - a);
        i = end;
    }
}

void cap_set_request_model(struct capture *c, const char *model)
{
    if (!model || !*model || c->request_model)
        return;
    char tmp[CAP_SHORT + 1];
    clean_utf8(model, strlen(model), tmp, 256);
    c->request_model = strdup(tmp);
    if (!c->request_model)
        c->oom = true;
}

void cap_request_tool_call(struct capture *c, cJSON *tool_calls, const char *id, const char *name,
                           const char *args, size_t args_len)
{
    if (cJSON_GetArraySize(tool_calls) >= CAP_MAX_TOOL_CALLS) {
        c->truncated = true;
        return;
    }
    cJSON *t = cJSON_CreateObject();
    if (!t) {
        c->oom = true;
        return;
    }
    cJSON_AddItemToArray(tool_calls, t);
    cap_add_short(c, t, "id", id);
    cap_add_short(c, t, "name", name);
    if (!args)
        return;
    char *copy = strndup(args, args_len); /* the caller's args may be a temporary */
    if (copy)
        cap_text_owned(c, t, "arguments", copy, strlen(copy), CAP_PROMPT);
    else
        c->oom = true;
}

/* request.params[out] from one table entry. */
static void param(struct capture *c, const cJSON *v, const struct cap_param *p)
{
    if (cap_get(c->params, p->out))
        return; /* an earlier entry (or a legacy alias) set it */
    cJSON *out = NULL;
    switch (p->kind) {
    case CAP_P_SCALAR:
        if (cJSON_IsNumber(v) && isfinite(v->valuedouble))
            out = cJSON_CreateNumber(v->valuedouble);
        else if (cJSON_IsBool(v))
            out = cJSON_CreateBool(cJSON_IsTrue(v));
        else if (cJSON_IsString(v))
            out = cap_short_string(v->valuestring, CAP_SHORT);
        break;
    case CAP_P_STOP:
        if (cJSON_IsString(v)) {
            out = cap_short_string(v->valuestring, CAP_SHORT);
        } else if (cJSON_IsArray(v)) {
            out = cJSON_CreateArray();
            const cJSON *e;
            int k = 0;
            cJSON_ArrayForEach(e, v)
            {
                if (!out || !cJSON_IsString(e))
                    continue;
                if (k++ >= CAP_MAX_LIST) {
                    c->truncated = true;
                    break;
                }
                add_item(c, out, NULL, cap_short_string(e->valuestring, CAP_SHORT));
            }
        }
        break;
    case CAP_P_TOOLS:
        if (cJSON_IsArray(v)) {
            out = cJSON_CreateArray();
            const cJSON *t;
            int k = 0;
            cJSON_ArrayForEach(t, v)
            {
                const char *name = cap_str(cap_get(t, "function"), "name");
                if (!name)
                    name = cap_str(t, "name");
                if (!name)
                    name = cap_str(t, "type");
                if (!out || !name)
                    continue;
                if (k++ >= CAP_MAX_LIST) {
                    c->truncated = true;
                    break;
                }
                add_item(c, out, NULL, cap_short_string(name, CAP_SHORT));
            }
        }
        break;
    case CAP_P_TOOL_CHOICE:
        if (cJSON_IsString(v)) {
            out = cap_short_string(v->valuestring, CAP_SHORT);
        } else if (cJSON_IsObject(v)) {
            const char *s = cap_str(cap_get(v, "function"), "name");
            if (!s)
                s = cap_str(v, "name");
            if (!s)
                s = cap_str(v, "type");
            if (s)
                out = cap_short_string(s, CAP_SHORT);
        }
        break;
    case CAP_P_TYPE:
        if (cJSON_IsString(v))
            out = cap_short_string(v->valuestring, CAP_SHORT);
        else if (cap_str(v, "type"))
            out = cap_short_string(cap_str(v, "type"), CAP_SHORT);
        break;
    }
    if (!out)
        return;
    if (!c->params && !(c->params = cJSON_CreateObject())) {
        cJSON_Delete(out);
        c->oom = true;
        return;
    }
    cJSON_AddItemToObject(c->params, p->out, out);
}

void cap_params(struct capture *c, const cJSON *body, const struct cap_param *table)
{
    for (const struct cap_param *p = table; p->path; p++) {
        const char *dot = strchr(p->path, '.');
        const cJSON *v;
        if (dot) {
            char outer[64];
            size_t n = (size_t)(dot - p->path);
            if (n >= sizeof outer)
                continue;
            memcpy(outer, p->path, n);
            outer[n] = 0;
            v = cap_get(cap_get(body, outer), dot + 1);
        } else {
            v = cap_get(body, p->path);
        }
        if (v)
            param(c, v, p);
    }
}

/* ------------------------------------------------------------------------ */
/* the request                                                              */

void capture_request(struct capture *c, const char *body, size_t len)
{
    if (c->request_seen)
        return;
    c->request_seen = true;
    if (!body)
        return;
    cJSON *req = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsObject(req)) {
        cJSON_Delete(req);
        return;
    }
    c->stream = cJSON_IsTrue(cap_get(req, "stream"));
    c->include_usage = cJSON_IsTrue(cap_get(cap_get(req, "stream_options"), "include_usage"));
    cap_set_request_model(c, cap_str(req, "model"));
    c->prov->request(c, req);
    /* The cap over prompt and context (the response's share is taken at finish). */
    size_t d[2] = {cap_text_part_demand(c, CAP_PROMPT), cap_text_part_demand(c, CAP_CONTEXT)}, a[2];
    cap_text_fair_shares(d, a, 2, c->o.text_cap);
    cap_text_part_slots(c, CAP_PROMPT, a[0]);
    cap_text_part_slots(c, CAP_CONTEXT, a[1]);
    cap_text_free_owned(c);
    cJSON_Delete(req);
    if (c->req_keep && c->prov->usage_rewrite) {
        c->req_body = malloc(len + 1);
        if (c->req_body) {
            memcpy(c->req_body, body, len);
            c->req_body[len] = 0;
            c->req_len = len;
        } else {
            c->oom = true;
        }
    }
}

bool capture_streaming(const struct capture *c)
{
    return c->stream;
}

char *capture_usage_rewrite(const struct capture *c, size_t *out_len)
{
    if (!c->req_body || !c->prov->usage_rewrite)
        return NULL;
    return c->prov->usage_rewrite(c, out_len);
}

/* ------------------------------------------------------------------------ */
/* response-side helpers                                                    */

void cap_first_content(struct capture *c)
{
    if (!c->has_first) {
        c->has_first = true;
        c->first_content_us = c->now_us;
    }
}

/* Appends to a response buffer within what is left of the cap. Once something
 * was cut, everything after it is dropped too (no gaps in the text). */
static void resp_append(struct capture *c, struct buf *b, const char *s, size_t len)
{
    if (len == 0)
        return;
    if (c->resp_over) {
        c->truncated = true;
        return;
    }
    size_t n = cap_text_utf8_cut(s, len, c->o.text_cap - c->resp_bytes);
    if (n) {
        buf_append(b, s, n);
        if (b->oom)
            c->oom = true;
        else
            c->resp_bytes += n;
    }
    if (n < len) {
        c->truncated = true;
        c->resp_over = true;
    }
}

void cap_text_append(struct capture *c, const char *s, size_t len)
{
    c->has_text = true;
    resp_append(c, &c->text, s, len);
}

struct cap_call *cap_call(struct capture *c, int64_t key)
{
    for (size_t i = 0; i < c->ncalls; i++)
        if (c->calls[i].key == key)
            return &c->calls[i];
    if (c->ncalls >= CAP_MAX_TOOL_CALLS) {
        c->truncated = true;
        return NULL;
    }
    struct cap_call *k = realloc(c->calls, (c->ncalls + 1) * sizeof *k);
    if (!k) {
        c->oom = true;
        return NULL;
    }
    c->calls = k;
    k = &c->calls[c->ncalls++];
    memset(k, 0, sizeof *k);
    k->key = key;
    return k;
}

void cap_call_set(struct buf *b, const char *s)
{
    if (b->len || !s || !*s)
        return;
    char tmp[CAP_SHORT + 1];
    buf_append(b, tmp, clean_utf8(s, strlen(s), tmp, CAP_SHORT));
}

void cap_call_args(struct capture *c, struct cap_call *k, const char *s, size_t len)
{
    if (k && s)
        resp_append(c, &k->args, s, len);
}

void cap_set_finish(struct capture *c, const char *r)
{
    if (!r || !*r)
        return;
    static const struct {
        const char *from, *to;
    } map[] = {
        {"stop", "stop"},
        {"end_turn", "stop"},
        {"stop_sequence", "stop"},
        {"length", "length"},
        {"max_tokens", "length"},
        {"max_output_tokens", "length"},
        {"model_context_window_exceeded", "length"},
        {"tool_calls", "tool_calls"},
        {"function_call", "tool_calls"},
        {"tool_use", "tool_calls"},
        {"content_filter", "content_filter"},
        {"refusal", "content_filter"},
        {"error", "error"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(r, map[i].from) == 0) {
            snprintf(c->finish, sizeof c->finish, "%s", map[i].to);
            return;
        }
    clean_utf8(r, strlen(r), c->finish, sizeof c->finish - 1);
}

void cap_set_response_model(struct capture *c, const char *model)
{
    if (!model || !*model || c->response_model)
        return;
    char tmp[CAP_SHORT + 1];
    clean_utf8(model, strlen(model), tmp, 256);
    c->response_model = strdup(tmp);
    if (!c->response_model)
        c->oom = true;
}

void cap_set_error(struct capture *c, const char *type, const char *msg)
{
    free(c->err_type);
    free(c->err_msg);
    char tmp[CAP_SHORT + 1];
    if (type && *type)
        clean_utf8(type, strlen(type), tmp, CAP_SHORT);
    c->err_type = type && *type ? strdup(tmp) : NULL;
    c->err_msg = msg ? strndup(msg, cap_text_utf8_cut(msg, strlen(msg), CAP_ERROR_MSG)) : NULL;
    if ((type && *type && !c->err_type) || (msg && !c->err_msg))
        c->oom = true;
    if (!c->err_type && !(c->err_type = strdup("error")))
        c->oom = true;
}

/* A string for an error code that may be a number. */
static const char *code_str(const cJSON *v, char *tmp, size_t n)
{
    if (cJSON_IsString(v) && *v->valuestring)
        return v->valuestring;
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
        snprintf(tmp, n, "%.0f", v->valuedouble);
        return tmp;
    }
    return NULL;
}

bool cap_error_from(struct capture *c, const cJSON *obj)
{
    if (!cJSON_IsObject(obj))
        return false;
    char tmp[32];
    const cJSON *e = cap_get(obj, "error");
    const char *type = NULL, *msg = NULL;
    if (cJSON_IsObject(e)) {
        type = cap_str(e, "type");
        if (!type || !*type)
            type = code_str(cap_get(e, "code"), tmp, sizeof tmp);
        msg = cap_str(e, "message");
    } else if (cJSON_IsString(e)) {
        msg = e->valuestring;
        type = code_str(cap_get(obj, "code"), tmp, sizeof tmp);
    } else {
        type = code_str(cap_get(obj, "code"), tmp, sizeof tmp);
        msg = cap_str(obj, "message");
        if (!type && msg) {
            type = cap_str(obj, "type");
        }
    }
    if (!type && !msg)
        return false;
    cap_set_error(c, type, msg);
    return true;
}

static int b64_value(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+' || ch == '-')
        return 62;
    if (ch == '/' || ch == '_')
        return 63;
    return -1;
}

/* Decodes base64 (standard or URL alphabet, padding optional) into out (at most
 * cap bytes; NULL to only count). Returns the decoded length. */
static size_t b64_decode(const char *s, unsigned char *out, size_t cap)
{
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; *s && *s != '='; s++) {
        int v = b64_value((unsigned char)*s);
        if (v < 0)
            break;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (out && n < cap)
                out[n] = (unsigned char)(acc >> bits);
            n++;
            acc &= (1u << bits) - 1;
        }
    }
    return n;
}

/* One embedding: its dimension, and its vector when asked for and within the cap. */
static void embedding_one(struct capture *c, const cJSON *emb, bool first)
{
    int64_t dim = -1;
    if (cJSON_IsArray(emb))
        dim = cJSON_GetArraySize(emb);
    else if (cJSON_IsString(emb))
        dim = (int64_t)(b64_decode(emb->valuestring, NULL, 0) / 4);
    if (dim < 0)
        return;
    if (first)
        c->emb_dim = dim;
    if (!c->o.embedding_vectors)
        return;
    size_t cost = (size_t)dim * CAP_VECTOR_NUMBER_BYTES + 2;
    if (c->resp_over || cost > c->o.text_cap - c->resp_bytes) {
        c->truncated = true;
        c->resp_over = true;
        return;
    }
    if (!c->vectors && !(c->vectors = cJSON_CreateArray())) {
        c->oom = true;
        return;
    }
    cJSON *v = cJSON_CreateArray();
    if (!v) {
        c->oom = true;
        return;
    }
    cJSON_AddItemToArray(c->vectors, v);
    if (cJSON_IsArray(emb)) {
        const cJSON *x;
        cJSON_ArrayForEach(x, emb)
        {
            double d = cJSON_IsNumber(x) && isfinite(x->valuedouble) ? x->valuedouble : 0;
            add_item(c, v, NULL, cJSON_CreateNumber(d));
        }
    } else {
        size_t nbytes = (size_t)dim * 4;
        unsigned char *raw = malloc(nbytes ? nbytes : 1);
        if (!raw) {
            c->oom = true;
            return;
        }
        b64_decode(emb->valuestring, raw, nbytes);
        for (size_t i = 0; i < (size_t)dim; i++) {
            uint32_t w = (uint32_t)raw[4 * i] | (uint32_t)raw[4 * i + 1] << 8 |
                         (uint32_t)raw[4 * i + 2] << 16 | (uint32_t)raw[4 * i + 3] << 24;
            float f;
            memcpy(&f, &w, sizeof f); /* little-endian float32, as OpenAI sends them */
            add_item(c, v, NULL, cJSON_CreateNumber(isfinite(f) ? (double)f : 0));
        }
        free(raw);
    }
    c->resp_bytes += cost;
    c->vec_bytes += cost;
}

void cap_embeddings(struct capture *c, const cJSON *data)
{
    if (!cJSON_IsArray(data))
        return;
    c->emb_count = cJSON_GetArraySize(data);
    const cJSON *item;
    bool first = true;
    cJSON_ArrayForEach(item, data)
    {
        const cJSON *emb = cap_get(item, "embedding");
        if (!emb)
            continue;
        if (first)
            cap_first_content(c);
        embedding_one(c, emb, first);
        first = false;
    }
}

/* ------------------------------------------------------------------------ */
/* the response                                                             */

static void on_sse_event(void *arg, const struct sse_event *ev)
{
    struct capture *c = arg;
    cJSON *data = ev->data_len ? cJSON_ParseWithLength(ev->data, ev->data_len) : NULL;
    c->prov->event(c, ev, data);
    cJSON_Delete(data);
}

static bool is_event_stream(const char *ct)
{
    while (ct && (*ct == ' ' || *ct == '\t'))
        ct++;
    return ct && strncasecmp(ct, "text/event-stream", 17) == 0 &&
           (ct[17] == 0 || ct[17] == ';' || ct[17] == ' ' || ct[17] == '\t');
}

void capture_response_begin(struct capture *c, int status, const char *content_type)
{
    if (c->finished)
        return;
    c->began = true;
    c->status = status < 0 || status > 999 ? 0 : status;
    c->sse_mode =
        c->status < 400 && (is_event_stream(content_type) || (!content_type && c->stream));
    if (c->sse_mode && !c->sse) {
        struct sse_opts so = {.max_event = cap_text_sat_add(c->o.text_cap, CAP_EVENT_MARGIN)};
        c->sse = sse_create(&so, on_sse_event, c);
        if (!c->sse) {
            c->oom = true;
            c->sse_mode = false;
        }
    }
}

void capture_response_data(struct capture *c, const char *data, size_t len, int64_t now_us)
{
    if (c->finished || len == 0)
        return;
    if (!c->began)
        capture_response_begin(c, 0, NULL);
    c->now_us = now_us;
    if (c->sse_mode) {
        sse_feed(c->sse, data, len);
        return;
    }
    if (c->status < 400)
        cap_first_content(c);
    size_t room = c->body_max - c->body.len;
    size_t n = len < room ? len : room;
    if (n) {
        buf_append(&c->body, data, n);
        if (c->body.oom)
            c->oom = true;
    }
    c->body_total = cap_text_sat_add(c->body_total, len);
    if (n == len)
        return;
    /* Past the bound: keep only the last CAP_TAIL bytes, for the salvage. */
    if (!c->tail && !(c->tail = malloc(CAP_TAIL))) {
        c->oom = true;
        return;
    }
    const char *p = data + n;
    size_t rest = len - n;
    if (rest > CAP_TAIL) {
        p += rest - CAP_TAIL;
        rest = CAP_TAIL;
    }
    while (rest) {
        size_t pos = c->tail_pos % CAP_TAIL, k = CAP_TAIL - pos;
        if (k > rest)
            k = rest;
        memcpy(c->tail + pos, p, k);
        c->tail_pos += k;
        p += k;
        rest -= k;
    }
}

/* The value after the first (or last) `"key"` + blanks + ':' in s[0, n), parsed
 * when it is complete there. */
static cJSON *find_value(const char *s, size_t n, const char *key, bool last)
{
    size_t kl = strlen(key);
    cJSON *found = NULL;
    int tries = 0;
    for (size_t i = 0; i + kl + 2 < n && tries < CAP_SALVAGE_TRIES; i++) {
        const char *q = memchr(s + i, '"', n - i);
        if (!q)
            break;
        i = (size_t)(q - s);
        if (i + kl + 2 >= n || memcmp(s + i + 1, key, kl) != 0 || s[i + 1 + kl] != '"' ||
            (i > 0 && s[i - 1] == '\\'))
            continue;
        size_t j = i + kl + 2;
        while (j < n && is_ws(s[j]))
            j++;
        if (j >= n || s[j] != ':')
            continue;
        j++;
        while (j < n && is_ws(s[j]))
            j++;
        const char *end = NULL;
        tries++;
        cJSON *v = cJSON_ParseWithLengthOpts(s + j, n - j, &end, 0);
        if (!v)
            continue;
        cJSON_Delete(found);
        found = v;
        if (!last)
            break;
    }
    return found;
}

/* A body past body_max was not parsed: salvage the model, the usage, the finish
 * reason and an embedding's dimension from its head and its tail. */
static void salvage(struct capture *c)
{
    c->truncated = true;
    if (c->status >= 400)
        return;
    size_t tail_len = c->tail_pos < CAP_TAIL ? c->tail_pos : CAP_TAIL;
    size_t from_head = CAP_TAIL - tail_len;
    if (from_head > c->body.len)
        from_head = c->body.len;
    char *win = malloc(from_head + tail_len + 1);
    if (!win) {
        c->oom = true;
        return;
    }
    const char *head = c->body.p ? c->body.p : "";
    memcpy(win, head + c->body.len - from_head, from_head);
    size_t start = c->tail_pos < CAP_TAIL ? 0 : c->tail_pos % CAP_TAIL;
    for (size_t i = 0; i < tail_len; i++)
        win[from_head + i] = c->tail[(start + i) % CAP_TAIL];
    size_t wn = from_head + tail_len;
    win[wn] = 0;

    cJSON *m = find_value(head, c->body.len, "model", false);
    if (!cJSON_IsString(m)) {
        cJSON_Delete(m);
        m = find_value(win, wn, "model", true);
    }
    if (cJSON_IsString(m))
        cap_set_response_model(c, m->valuestring);
    cJSON_Delete(m);
    cJSON *u = find_value(win, wn, "usage", true);
    if (cJSON_IsObject(u) && c->prov->usage)
        c->prov->usage(c, u);
    cJSON_Delete(u);
    cJSON *f =
        find_value(win, wn, c->fmt == CAPTURE_ANTHROPIC ? "stop_reason" : "finish_reason", true);
    if (cJSON_IsString(f))
        cap_set_finish(c, f->valuestring);
    cJSON_Delete(f);
    if (c->op == CAPTURE_OP_EMBEDDINGS) {
        cJSON *e = find_value(head, c->body.len, "embedding", false);
        if (e) {
            bool vectors = c->o.embedding_vectors;
            c->o.embedding_vectors = false; /* a partial list would mislead */
            embedding_one(c, e, true);
            c->o.embedding_vectors = vectors;
        }
        cJSON_Delete(e);
    }
    free(win);
}

/* "HTTP 502: <the body's first bytes>" for an error body that is not JSON. */
static void http_error(struct capture *c)
{
    struct buf m = {0};
    buf_printf(&m, "HTTP %d", c->status);
    size_t n = c->body.len < 200 ? c->body.len : 200;
    n = cap_text_utf8_cut(c->body.p ? c->body.p : "", c->body.len, n);
    size_t start = 0;
    while (start < n && is_ws(c->body.p[start]))
        start++;
    if (start < n) {
        buf_puts(&m, ": ");
        for (size_t i = start; i < n; i++) {
            char ch = c->body.p[i];
            buf_append(&m, (unsigned char)ch < 0x20 ? " " : &ch, 1);
        }
    }
    cap_set_error(c, "http_error", m.p ? m.p : "HTTP error");
    if (m.oom)
        c->oom = true;
    buf_free(&m);
}

static void process_response(struct capture *c)
{
    if (c->finished)
        return;
    c->finished = true;
    if (c->sse_mode) {
        struct sse_stats st;
        sse_finish(c->sse);
        sse_get_stats(c->sse, &st);
        if (st.oversize)
            c->truncated = true;
    } else if (c->body_total > c->body.len) {
        salvage(c);
    } else if (c->body.len) {
        cJSON *j = cJSON_ParseWithLength(c->body.p, c->body.len);
        if (c->status >= 400) {
            if (!cap_error_from(c, j))
                http_error(c);
        } else if (cJSON_IsObject(j)) {
            c->prov->response(c, j);
        }
        cJSON_Delete(j);
    }
    if (c->status >= 400 && !c->err_type)
        http_error(c);
    if (c->err_type && !c->finish[0] && c->began && c->status < 400)
        cap_set_finish(c, "error"); /* an error inside a successful response (stream) */
    if (c->body.p) {
        buf_free(&c->body);
        free(c->tail);
        c->tail = NULL;
    }
}

/* ------------------------------------------------------------------------ */
/* writing the event                                                        */

static void set_member(cJSON *ev, const char *name, cJSON *v, bool *fail)
{
    if (!v) {
        *fail = true;
        return;
    }
    while (cJSON_GetObjectItemCaseSensitive(ev, name))
        cJSON_DeleteItemFromObjectCaseSensitive(ev, name);
    cJSON_AddItemToObject(ev, name, v);
}

static cJSON *dup_or_fail(const cJSON *v, bool *fail)
{
    cJSON *d = cJSON_Duplicate(v, 1);
    if (!d)
        *fail = true;
    return d;
}

static void add_or_fail(cJSON *obj, const char *name, cJSON *v, bool *fail)
{
    if (!v)
        *fail = true;
    else
        cJSON_AddItemToObject(obj, name, v);
}

static bool usage_sum(const struct cap_usage *u, int64_t *out)
{
    int64_t s = 0;
    bool any = false;
    const int64_t parts[3] = {u->input, u->cached, u->cache_write};
    for (int i = 0; i < 3; i++)
        if (parts[i] >= 0) {
            s += parts[i];
            any = true;
        }
    if (s > 9007199254740992LL)
        return false;
    *out = s;
    return any;
}

int capture_finish(struct capture *c, cJSON *ev, int64_t *first_content_us)
{
    bool fail = c->oom;
    process_response(c);
    cap_text_final(c);
    if (first_content_us)
        *first_content_us = c->has_first ? c->first_content_us : 0;

    set_member(ev, "operation", cJSON_CreateString(capture_op_name(c->op)), &fail);
    if (c->request_model)
        set_member(ev, "request_model", cJSON_CreateString(c->request_model), &fail);
    if (c->response_model)
        set_member(ev, "response_model", cJSON_CreateString(c->response_model), &fail);
    set_member(ev, "stream", cJSON_CreateBool(c->stream || c->sse_mode), &fail);

    if (cJSON_GetArraySize(c->messages) > 0 || c->params || c->input) {
        cJSON *req = cJSON_CreateObject();
        if (req) {
            if (cJSON_GetArraySize(c->messages) > 0)
                add_or_fail(req, "messages", dup_or_fail(c->messages, &fail), &fail);
            if (c->params)
                add_or_fail(req, "params", dup_or_fail(c->params, &fail), &fail);
            if (c->input)
                add_or_fail(req, "input", dup_or_fail(c->input, &fail), &fail);
        }
        set_member(ev, "request", req, &fail);
    }
    if (cJSON_GetArraySize(c->context) > 0)
        set_member(ev, "context", dup_or_fail(c->context, &fail), &fail);

    bool any_resp =
        c->has_text || c->finish[0] || c->ncalls || c->emb_count >= 0 || c->emb_dim >= 0;
    if (any_resp) {
        cJSON *r = cJSON_CreateObject();
        if (r) {
            if (c->has_text)
                add_or_fail(r, "text", cJSON_CreateString(c->text.p ? c->text.p : ""), &fail);
            if (c->finish[0])
                add_or_fail(r, "finish_reason", cJSON_CreateString(c->finish), &fail);
            if (c->ncalls) {
                cJSON *calls = cJSON_CreateArray();
                for (size_t i = 0; calls && i < c->ncalls; i++) {
                    cJSON *t = cJSON_CreateObject();
                    if (!t) {
                        fail = true;
                        break;
                    }
                    cJSON_AddItemToArray(calls, t);
                    if (c->calls[i].id.len)
                        add_or_fail(t, "id", cJSON_CreateString(c->calls[i].id.p), &fail);
                    if (c->calls[i].name.len)
                        add_or_fail(t, "name", cJSON_CreateString(c->calls[i].name.p), &fail);
                    add_or_fail(t, "arguments",
                                cJSON_CreateString(c->calls[i].args.p ? c->calls[i].args.p : ""),
                                &fail);
                }
                add_or_fail(r, "tool_calls", calls, &fail);
            }
            if (c->emb_count >= 0 || c->emb_dim >= 0) {
                cJSON *e = cJSON_CreateObject();
                if (e) {
                    if (c->emb_count >= 0)
                        add_or_fail(e, "count", cJSON_CreateNumber((double)c->emb_count), &fail);
                    if (c->emb_dim >= 0)
                        add_or_fail(e, "dimension", cJSON_CreateNumber((double)c->emb_dim), &fail);
                    if (cJSON_GetArraySize(c->vectors) > 0)
                        add_or_fail(e, "vectors", dup_or_fail(c->vectors, &fail), &fail);
                }
                add_or_fail(r, "embedding", e, &fail);
            }
        }
        set_member(ev, "response", r, &fail);
    }

    struct cap_usage u = c->u;
    if (u.input_excludes_cache && !usage_sum(&u, &u.input))
        u.input = -1;
    const struct {
        const char *name;
        int64_t v;
    } uf[] = {{"input_tokens", u.input},
              {"output_tokens", u.output},
              {"cached_input_tokens", u.cached},
              {"cache_write_tokens", u.cache_write},
              {"reasoning_tokens", u.reasoning}};
    cJSON *usage = NULL;
    for (size_t i = 0; i < sizeof uf / sizeof uf[0]; i++) {
        if (uf[i].v < 0)
            continue;
        if (!usage && !(usage = cJSON_CreateObject())) {
            fail = true;
            break;
        }
        add_or_fail(usage, uf[i].name, cJSON_CreateNumber((double)uf[i].v), &fail);
    }
    if (usage)
        set_member(ev, "usage", usage, &fail);

    set_member(ev, "status", cJSON_CreateNumber(c->status), &fail);
    if (c->err_type) {
        cJSON *e = cJSON_CreateObject();
        if (e) {
            add_or_fail(e, "type", cJSON_CreateString(c->err_type), &fail);
            if (c->err_msg)
                add_or_fail(e, "message", cJSON_CreateString(c->err_msg), &fail);
        }
        set_member(ev, "error", e, &fail);
    } else {
        set_member(ev, "error", cJSON_CreateNull(), &fail);
    }
    set_member(ev, "truncated", cJSON_CreateBool(c->truncated), &fail);
    return fail ? -1 : 0;
}
