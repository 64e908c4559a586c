/*
 * proxy.c — relay LLM calls to their upstream and capture them (proxy.h).
 *
 * DESIGN
 * - One request = one `struct call`, living from proxy_handle until the
 *   HTTP server has finished with the response (stream_done). It runs on
 *   the client connection's own thread: the upstream transfer (libcurl, one
 *   easy handle in its own multi handle) is driven synchronously from that
 *   thread — first until the upstream's headers are in (inside
 *   proxy_handle, so the client gets the upstream's status and headers),
 *   then from the server's stream callback each time the client can take
 *   more bytes. No thread hand-off in the data path; a relayed chunk is
 *   handed to the client socket the moment curl delivers it.
 * - Bytes from the upstream go to the client's buffer (`out`) and, as a
 *   copy, to the capture (a tee; the capture never sits in the response
 *   path). When `out` holds more than OUT_HIGH bytes (a slow client), the
 *   curl write callback pauses the transfer; draining resumes it. Memory
 *   per call is therefore bounded whatever the response size.
 * - The one exception to "relay verbatim": when the proxy itself asked an
 *   OpenAI stream for usage (the client did not), the relay splits the
 *   stream into SSE events and drops the usage-only chunk, which the client
 *   never asked for. Every other byte is forwarded unchanged.
 * - While it waits for the upstream, the thread polls the client socket
 *   too: a client that hangs up aborts the upstream request (no tokens are
 *   generated for nobody) and the event says `client_disconnect`.
 * - Transfer handles are pooled (LIFO, so the warmest upstream connection
 *   is reused): each keeps its connection cache, so keep-alive and TLS
 *   sessions survive across client connections. DNS and TLS sessions are
 *   shared between handles (libcurl's share interface with locks); the
 *   connection cache is not shared, as libcurl does not support sharing it
 *   between concurrent threads. A pooled handle keeps its options: when it
 *   last served the same upstream and method, a call sets only its URL,
 *   body, header list and callback data (slot_setup); otherwise the handle
 *   is reset and set up in full.
 * - The event is built in stream_done (after the last byte went out, so
 *   capture never delays the client): capture fields, ids, trace context,
 *   x-llmtap-* fields, latency and TTFT, cost, redaction; then it is queued
 *   to Kafka. Any failure there drops the capture and counts it; the call
 *   itself has already been relayed.
 * - Per-event costs kept off the allocator and out of the kernel: the event
 *   tree (and every cJSON allocation made while it is built, the response's
 *   parse tree included) lives in a pooled arena released in one go; the
 *   call takes that arena when it starts, so the request's parse tree and
 *   the capture's fragments of it (capture_request) live there too; its
 *   JSON text is written by json_print into the same pooled context's
 *   buffer, which the spool copies (producer_send_copy); trace and span ids
 *   come from a per-thread generator seeded once from getrandom(2).
 * - A non-streamed answer that is complete when its headers are in (the
 *   usual small completion) is handed to the server as one buffer, so it
 *   goes out with its headers in one write instead of a header write and a
 *   body write; stream_done still runs after it went out.
 */
#include "proxy.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "event.h"
#include "json_print.h"
#include "log.h"
#include "metrics.h"
#include "price.h"
#include "producer.h"
#include "redact.h"
#include "sse.h"
#include "timeutil.h"
#include "ulid.h"
#include "upstream.h"

#define OUT_HIGH         (256 * 1024) /* client buffer past which the upstream is paused */
#define RESP_HEADERS_MAX 64
#define SSE_EVENT_MAX    (4 * 1024 * 1024)

/* ------------------------------------------------------------------------ */
/* transfer handles                                                          */

struct slot {
    CURL *easy;
    CURLM *multi;
    struct slot *next;
    /* What the easy handle's options were last set for: the upstream and
     * the method. A call for the same pair sets only what differs per call
     * (URL, body, headers, callback data); any other starts from
     * curl_easy_reset. */
    const struct upstream *set_up; /* NULL: none remembered */
    char set_method[16];
    bool used; /* options were set: a new setup starts with a reset */
};

struct proxy {
    struct proxy_opts o;
    CURLSH *share;
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
    pthread_mutex_t pool_lock;
    struct slot *pool;
    size_t pool_len;
    _Atomic int captures;
    char host[256];
    pthread_mutex_t emit_lock;
    struct emit_ctx *emit_pool; /* idle event builders (LIFO) */
    size_t emit_pool_len;

    struct metric *requests, *relayed_ok, *upstream_unreachable, *upstream_timeout,
        *upstream_error_mid, *client_disconnect, *captured, *drop_overload, *drop_kafka,
        *drop_invalid, *drop_too_large, *drop_nomem, *cost_unknown, *usage_injected, *bytes_relayed,
        *redactions;
};

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *ud)
{
    struct proxy *p = ud;
    pthread_mutex_lock(&p->share_locks[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *ud)
{
    struct proxy *p = ud;
    pthread_mutex_unlock(&p->share_locks[d]);
}

static struct slot *slot_get(struct proxy *p)
{
    pthread_mutex_lock(&p->pool_lock);
    struct slot *s = p->pool;
    if (s) {
        p->pool = s->next;
        p->pool_len--;
    }
    pthread_mutex_unlock(&p->pool_lock);
    if (s)
        return s;
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->easy = curl_easy_init();
    s->multi = curl_multi_init();
    if (!s->easy || !s->multi) {
        curl_easy_cleanup(s->easy);
        curl_multi_cleanup(s->multi);
        free(s);
        return NULL;
    }
    return s;
}

static void slot_free(struct slot *s)
{
    if (!s)
        return;
    curl_multi_cleanup(s->multi);
    curl_easy_cleanup(s->easy);
    free(s);
}

static void slot_put(struct proxy *p, struct slot *s)
{
    pthread_mutex_lock(&p->pool_lock);
    if (p->pool_len < p->o.max_idle_conns) {
        s->next = p->pool;
        p->pool = s;
        p->pool_len++;
        s = NULL;
    }
    pthread_mutex_unlock(&p->pool_lock);
    slot_free(s);
}

/* ------------------------------------------------------------------------ */
/* event builders                                                            */

/* What capturing one call needs and can reuse for the next: an arena for
 * the request's parse tree and the capture's fragments of it, then the
 * event's cJSON tree (and every parse tree made while it is built), and the
 * buffer its JSON text is written to. Held by a captured call from
 * proxy_handle to its event (or call_free), so one per call in flight;
 * pooled LIFO, so the busy ones stay warm; each is used by one thread at a
 * time. Every cJSON tree of the call's capture is freed with its arena
 * active (emit_event, call_free): arena memory never reaches free(). */
struct emit_ctx {
    struct arena *arena;
    struct buf out;
    struct emit_ctx *next;
};

#define EMIT_ARENA_CHUNK (64 * 1024)
#define EMIT_POOL_MAX    32
#define EMIT_OUT_KEEP    (256 * 1024) /* a larger text buffer is not kept */

static void emit_ctx_free(struct emit_ctx *e)
{
    if (!e)
        return;
    arena_destroy(e->arena);
    buf_free(&e->out);
    free(e);
}

static struct emit_ctx *emit_ctx_get(struct proxy *p)
{
    pthread_mutex_lock(&p->emit_lock);
    struct emit_ctx *e = p->emit_pool;
    if (e) {
        p->emit_pool = e->next;
        p->emit_pool_len--;
    }
    pthread_mutex_unlock(&p->emit_lock);
    if (e)
        return e;
    e = calloc(1, sizeof *e);
    if (e && !(e->arena = arena_create(EMIT_ARENA_CHUNK))) {
        free(e);
        e = NULL;
    }
    return e;
}

static void emit_ctx_put(struct proxy *p, struct emit_ctx *e)
{
    arena_reset(e->arena);
    if (e->out.cap > EMIT_OUT_KEEP)
        buf_free(&e->out);
    buf_reset(&e->out);
    e->out.oom = false;
    pthread_mutex_lock(&p->emit_lock);
    if (p->emit_pool_len < EMIT_POOL_MAX) {
        e->next = p->emit_pool;
        p->emit_pool = e;
        p->emit_pool_len++;
        e = NULL;
    }
    pthread_mutex_unlock(&p->emit_lock);
    emit_ctx_free(e);
}

/* ------------------------------------------------------------------------ */
/* one call                                                                  */

struct call {
    struct proxy *p;
    const struct upstream *up;
    struct slot *slot;
    struct curl_slist *req_headers;
    char *body; /* what is sent upstream (possibly rewritten) */
    size_t body_len;
    int client_fd;
    bool client_gone;

    /* upstream response */
    int status;
    bool headers_done;
    bool done;    /* transfer finished (result says how) */
    bool aborted; /* removed from its multi handle by the proxy (timeout) */
    CURLcode result;
    char curl_err[CURL_ERROR_SIZE];
    struct buf hdr_store; /* "name\0value\0" pairs */
    size_t hdr_off[RESP_HEADERS_MAX][2];
    size_t nhdr;
    struct httpd_hdr hdrs[RESP_HEADERS_MAX];
    char *content_type;
    int64_t content_length;

    /* to the client */
    struct buf out;
    size_t out_off;
    bool paused;
    uint64_t relayed;

    /* capture */
    struct capture *cap;
    struct emit_ctx *x; /* its arena holds the capture's request-side trees */
    bool filter_usage;
    struct sse *sse;
    struct buf pend; /* upstream bytes not yet assigned to a block (usage filter) */
    size_t pend_off;
    int64_t t0_us;   /* wall clock: the event's time */
    int64_t t0_mono; /* monotonic: latency */
    int64_t first_mono;
    char trace_id[33], parent_span[17], span_id[17], trace_flags[3];
    char *service, *user, *session, *tmpl, *version, *tags;
    bool connect_failed, timed_out;
    int64_t last_rx; /* monotonic: last byte from the upstream (or the start) */
};

static void call_free(struct call *c)
{
    if (!c)
        return;
    if (c->slot) {
        curl_multi_remove_handle(c->slot->multi, c->slot->easy);
        if (c->done && !c->aborted)
            slot_put(c->p, c->slot);
        else
            slot_free(c->slot); /* mid-transfer: its connection cannot be reused */
    }
    curl_slist_free_all(c->req_headers);
    free(c->body);
    buf_free(&c->hdr_store);
    buf_free(&c->out);
    buf_free(&c->pend);
    free(c->content_type);
    if (c->cap) { /* not emitted: trees built in the call's arena are freed inside it */
        arena_activate(c->x ? c->x->arena : NULL);
        capture_free(c->cap);
        arena_activate(NULL);
        atomic_fetch_sub(&c->p->captures, 1);
    }
    if (c->x)
        emit_ctx_put(c->p, c->x);
    sse_destroy(c->sse);
    free(c->service);
    free(c->user);
    free(c->session);
    free(c->tmpl);
    free(c->version);
    free(c->tags);
    free(c);
}

/* --- client request headers ---------------------------------------------- */

static bool hop_by_hop(const char *n)
{
    static const char *const h[] = {"connection",
                                    "keep-alive",
                                    "proxy-connection",
                                    "proxy-authenticate",
                                    "proxy-authorization",
                                    "te",
                                    "trailer",
                                    "transfer-encoding",
                                    "upgrade"};
    for (size_t i = 0; i < sizeof h / sizeof *h; i++)
        if (strcasecmp(n, h[i]) == 0)
            return true;
    return false;
}

static bool is_hex(const char *s, size_t n)
{
    bool nonzero = false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
            return false;
        nonzero |= ch != '0';
    }
    return nonzero;
}

/* W3C traceparent: 00-<32 hex trace>-<16 hex parent>-<2 hex flags>. */
static void read_traceparent(struct call *c, const char *v)
{
    if (strlen(v) < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-' || strncmp(v, "ff", 2) == 0)
        return;
    if (!is_hex(v + 3, 32) || !is_hex(v + 36, 16))
        return;
    memcpy(c->trace_id, v + 3, 32);
    c->trace_id[32] = 0;
    memcpy(c->parent_span, v + 36, 16);
    c->parent_span[16] = 0;
    memcpy(c->trace_flags, v + 53, 2);
    c->trace_flags[2] = 0;
}

static char *dup_header(const char *v, size_t max)
{
    size_t n = strnlen(v, max);
    return n ? strndup(v, n) : NULL;
}

static bool on_req_header(void *ud, const char *name, const char *value)
{
    struct call *c = ud;
    if (strncasecmp(name, "x-llmtap-", 9) == 0) {
        const char *k = name + 9;
        char **slot = !strcasecmp(k, "service")           ? &c->service
                      : !strcasecmp(k, "user")            ? &c->user
                      : !strcasecmp(k, "session")         ? &c->session
                      : !strcasecmp(k, "prompt-template") ? &c->tmpl
                      : !strcasecmp(k, "prompt-version")  ? &c->version
                      : !strcasecmp(k, "tags")            ? &c->tags
                                                          : NULL;
        if (slot && !*slot)
            *slot = dup_header(value, 1024);
        return true; /* never forwarded */
    }
    if (strcasecmp(name, "traceparent") == 0) {
        read_traceparent(c, value);
        return true; /* forwarded below with our span id */
    }
    if (hop_by_hop(name) || strcasecmp(name, "host") == 0 ||
        strcasecmp(name, "content-length") == 0 || strcasecmp(name, "accept-encoding") == 0 ||
        strcasecmp(name, "expect") == 0)
        return true;
    char line[8192];
    int n = snprintf(line, sizeof line, "%s: %s", name, value);
    if (n < 0 || (size_t)n >= sizeof line)
        return true; /* absurdly long header: not forwarded */
    if (!value[0])   /* curl's syntax for a header with an empty value */
        snprintf(line, sizeof line, "%s;", name);
    struct curl_slist *l = curl_slist_append(c->req_headers, line);
    if (l)
        c->req_headers = l;
    return true;
}

/* --- curl callbacks ------------------------------------------------------ */

static size_t on_resp_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct call *c = ud;
    size_t n = size * nmemb, len = n;
    c->last_rx = timeutil_mono_us();
    while (len && (ptr[len - 1] == '\n' || ptr[len - 1] == '\r'))
        len--;
    if (len >= 5 && strncmp(ptr, "HTTP/", 5) == 0) { /* a status line: a new header block */
        const char *sp = memchr(ptr, ' ', len);
        c->status = sp ? atoi(sp + 1) : 0;
        c->nhdr = 0;
        buf_reset(&c->hdr_store);
        free(c->content_type);
        c->content_type = NULL;
        c->content_length = -1;
        return n;
    }
    if (len == 0) { /* end of a header block; 1xx blocks are followed by another */
        if (c->status >= 200)
            c->headers_done = true;
        return n;
    }
    const char *colon = memchr(ptr, ':', len);
    if (!colon || c->nhdr == RESP_HEADERS_MAX)
        return n;
    size_t nl = (size_t)(colon - ptr);
    const char *v = colon + 1;
    while (v < ptr + len && (*v == ' ' || *v == '\t'))
        v++;
    size_t vl = (size_t)(ptr + len - v);
    char name[128];
    if (nl >= sizeof name)
        return n;
    memcpy(name, ptr, nl);
    name[nl] = 0;
    if (strcasecmp(name, "content-type") == 0) {
        free(c->content_type);
        c->content_type = strndup(v, vl);
    }
    if (strcasecmp(name, "content-length") == 0) {
        c->content_length = strtoll(v, NULL, 10);
        return n; /* the server writes its own framing */
    }
    /* The server frames and manages the connection; Date it writes itself. */
    if (hop_by_hop(name) || strcasecmp(name, "date") == 0 || strcasecmp(name, "content-type") == 0)
        return n;
    c->hdr_off[c->nhdr][0] = c->hdr_store.len;
    buf_append(&c->hdr_store, name, nl + 1);
    c->hdr_off[c->nhdr][1] = c->hdr_store.len;
    buf_append(&c->hdr_store, v, vl);
    buf_append(&c->hdr_store, "", 1);
    c->nhdr++;
    return n;
}

static void filter_flush(struct call *c)
{
    if (c->pend.len > c->pend_off)
        buf_append(&c->out, c->pend.p + c->pend_off, c->pend.len - c->pend_off);
    buf_reset(&c->pend);
    c->pend_off = 0;
}

/* The usage filter. Every byte from the upstream is appended to `pend`;
 * the parser (in all_blocks mode) reports each block in order, and the
 * block's bytes — the front of `pend` — are moved to the client's buffer,
 * or dropped when the block is the usage chunk the proxy asked for. What is
 * left in `pend` at the end (an unterminated block) goes out as it is. */
static void on_sse_block(void *ud, const struct sse_event *ev)
{
    struct call *c = ud;
    size_t n = ev->raw_len <= c->pend.len - c->pend_off ? ev->raw_len : c->pend.len - c->pend_off;
    if (!(ev->data && capture_is_usage_chunk(ev->data, ev->data_len)))
        buf_append(&c->out, c->pend.p + c->pend_off, n);
    c->pend_off += n;
}

static void filter_feed(struct call *c, const char *data, size_t n)
{
    buf_append(&c->pend, data, n);
    sse_feed(c->sse, data, n);
    struct sse_stats st;
    sse_get_stats(c->sse, &st);
    if (st.oversize) { /* cannot follow the blocks any more: relay the rest verbatim */
        filter_flush(c);
        c->filter_usage = false;
        return;
    }
    if (c->pend_off == c->pend.len) {
        buf_reset(&c->pend);
        c->pend_off = 0;
    }
}

static size_t on_resp_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct call *c = ud;
    size_t n = size * nmemb;
    if (c->out.len - c->out_off > OUT_HIGH) {
        c->paused = true;
        return CURL_WRITEFUNC_PAUSE;
    }
    int64_t now = timeutil_mono_us();
    c->last_rx = now;
    if (!c->first_mono)
        c->first_mono = now;
    if (c->cap)
        capture_response_data(c->cap, ptr, n, now);
    if (c->filter_usage && c->status < 300)
        filter_feed(c, ptr, n);
    else
        buf_append(&c->out, ptr, n);
    return c->out.oom ? 0 : n;
}

/* --- driving the transfer ------------------------------------------------ */

static void check_done(struct call *c)
{
    int left;
    CURLMsg *m;
    while ((m = curl_multi_info_read(c->slot->multi, &left)))
        if (m->msg == CURLMSG_DONE) {
            c->done = true;
            c->result = m->data.result;
        }
}

static bool client_hung_up(struct call *c)
{
    char b;
    ssize_t r = recv(c->client_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        return true;
    if (r > 0)
        c->client_fd = -1; /* the client sent more (pipelining): stop watching */
    return false;
}

/* Runs the transfer until want(c) holds or it is done. Returns 0, or -1
 * when the client hung up. */
static int drive(struct call *c, bool (*want)(const struct call *))
{
    for (;;) {
        int running;
        curl_multi_perform(c->slot->multi, &running);
        check_done(c);
        if (c->done || want(c))
            return 0;
        /* The idle timeout: no byte from the upstream for `timeout`. */
        int64_t now = timeutil_mono_us();
        if (now - c->last_rx > c->up->timeout_ms * 1000) {
            snprintf(c->curl_err, sizeof c->curl_err, "no data from the upstream for %lld ms",
                     (long long)c->up->timeout_ms);
            curl_multi_remove_handle(c->slot->multi, c->slot->easy);
            c->done = true;
            c->aborted = true;
            c->result = CURLE_OPERATION_TIMEDOUT;
            return 0;
        }
        struct curl_waitfd wfd = {.fd = c->client_fd, .events = CURL_WAIT_POLLIN};
        int nfds = 0;
        curl_multi_poll(c->slot->multi, &wfd, c->client_fd >= 0 ? 1 : 0, 1000, &nfds);
        if (c->client_fd >= 0 && wfd.revents && client_hung_up(c)) {
            c->client_gone = true;
            return -1;
        }
    }
}

static bool want_headers(const struct call *c)
{
    return c->headers_done;
}
static bool want_output(const struct call *c)
{
    return c->out.len > c->out_off;
}

/* --- the event ----------------------------------------------------------- */

static void add_str(cJSON *ev, const char *k, const char *v)
{
    if (v && *v) {
        cJSON_DeleteItemFromObjectCaseSensitive(ev, k);
        cJSON_AddStringToObject(ev, k, v);
    }
}

/* "k=v,k2=v2" → {"k":"v","k2":"v2"}; malformed items are skipped. */
static void add_tags(cJSON *ev, const char *spec)
{
    if (!spec)
        return;
    cJSON *tags = cJSON_CreateObject();
    if (!tags)
        return;
    const char *p = spec;
    while (*p) {
        size_t il = strcspn(p, ",");
        const char *eq = memchr(p, '=', il);
        if (eq && eq > p) {
            char k[128], v[512];
            size_t kl = (size_t)(eq - p), vl = il - kl - 1;
            if (kl < sizeof k && vl < sizeof v) {
                memcpy(k, p, kl), k[kl] = 0;
                memcpy(v, eq + 1, vl), v[vl] = 0;
                if (!cJSON_GetObjectItemCaseSensitive(tags, k))
                    cJSON_AddStringToObject(tags, k, v);
            }
        }
        p += il;
        if (*p == ',')
            p++;
    }
    if (cJSON_GetArraySize(tags))
        cJSON_AddItemToObject(ev, "tags", tags);
    else
        cJSON_Delete(tags);
}

static void set_error(cJSON *ev, const char *type, const char *msg)
{
    cJSON_DeleteItemFromObjectCaseSensitive(ev, "error");
    cJSON *e = cJSON_AddObjectToObject(ev, "error");
    if (e) {
        cJSON_AddStringToObject(e, "type", type);
        cJSON_AddStringToObject(e, "message", msg);
    }
}

static void build_and_queue(struct call *c, bool completed, struct buf *out)
{
    struct proxy *p = c->p;
    int64_t end = timeutil_mono_us();
    cJSON *ev = cJSON_CreateObject();
    if (!ev) {
        metric_inc(p->drop_nomem);
        return;
    }
    int64_t first_content = 0;
    if (capture_finish(c->cap, ev, &first_content) != 0) {
        cJSON_Delete(ev);
        metric_inc(p->drop_nomem);
        return;
    }
    char id[ULID_LEN + 1], when[TIMEUTIL_RFC3339_LEN];
    ulid_new(id);
    timeutil_format_rfc3339(c->t0_us, when);
    cJSON_AddStringToObject(ev, "schema", EVENT_SCHEMA_ID);
    cJSON_AddStringToObject(ev, "id", id);
    cJSON_AddStringToObject(ev, "time", when);
    add_str(ev, "trace_id", c->trace_id);
    add_str(ev, "span_id", c->span_id);
    add_str(ev, "parent_span_id", c->parent_span);
    const char *svc = event_service_valid(c->service) ? c->service
                      : p->o.default_service          ? p->o.default_service
                                                      : "unknown";
    add_str(ev, "service", svc);
    add_str(ev, "env", p->o.env);
    add_str(ev, "host", p->host);
    add_str(ev, "source", "agent-proxy");
    add_str(ev, "provider", c->up->provider);
    add_str(ev, "prompt_template", c->tmpl);
    add_str(ev, "prompt_version", c->version);
    add_str(ev, "user", c->user);
    add_str(ev, "session", c->session);
    add_tags(ev, c->tags);
    if (!cJSON_GetObjectItemCaseSensitive(ev, "request_model") &&
        !cJSON_GetObjectItemCaseSensitive(ev, "response_model"))
        add_str(ev, "request_model", "unknown"); /* a body that did not parse (documented) */
    cJSON_DeleteItemFromObjectCaseSensitive(ev, "latency_ms");
    cJSON_AddNumberToObject(ev, "latency_ms", (double)(end - c->t0_mono) / 1000.0);
    if (first_content)
        cJSON_AddNumberToObject(ev, "ttft_ms", (double)(first_content - c->t0_mono) / 1000.0);
    if (c->connect_failed || (c->timed_out && !c->headers_done)) {
        cJSON_DeleteItemFromObjectCaseSensitive(ev, "status");
        cJSON_AddNumberToObject(ev, "status", 0);
    }
    if (c->client_gone || (!completed && !c->done))
        set_error(ev, "client_disconnect", "the client closed the connection before the end");
    else if (c->timed_out)
        set_error(ev, "upstream_timeout", c->curl_err[0] ? c->curl_err : "upstream timed out");
    else if (c->connect_failed)
        set_error(ev, "upstream_unreachable",
                  c->curl_err[0] ? c->curl_err : "upstream could not be reached");
    else if (c->done && c->result != CURLE_OK)
        set_error(ev, "upstream_error",
                  c->curl_err[0] ? c->curl_err : curl_easy_strerror(c->result));

    double cost;
    if (p->o.prices) {
        int rc = price_registry_cost(p->o.prices, ev, &cost);
        if (rc == 0) {
            cJSON_DeleteItemFromObjectCaseSensitive(ev, "cost_usd");
            cJSON_AddNumberToObject(ev, "cost_usd", cost);
        } else if (rc == PRICE_UNKNOWN_MODEL) {
            metric_inc(p->cost_unknown);
        }
    }
    if (p->o.redactor) {
        int n = redact_event(p->o.redactor, ev);
        if (n < 0) { /* out of memory: an unredacted event must not leave */
            metric_inc(p->drop_nomem);
            cJSON_Delete(ev);
            return;
        }
        metric_add(p->redactions, (uint64_t)n);
    }

    struct event_error err;
    if (event_validate(ev, &err) != EVENT_OK) {
        log_warn("agent:proxy", "captured event is not valid, dropped: %s", err.msg);
        metric_inc(p->drop_invalid);
        cJSON_Delete(ev);
        return;
    }
    bool printed = json_print(out, ev);
    cJSON_Delete(ev);
    if (!printed) {
        metric_inc(p->drop_nomem);
        return;
    }
    if (out->len > p->o.max_event) {
        metric_inc(p->drop_too_large);
        return;
    }
    if (producer_send_copy(p->o.producer, svc, out->p, out->len) != 0) {
        metric_inc(p->drop_kafka);
        return;
    }
    metric_inc(p->captured);
}

/* Builds the call's event and queues it, then releases the capture. Every
 * cJSON allocation in between (the event tree, the response's parse tree,
 * redaction's replacements) comes from a pooled arena, dropped in one go at
 * the end; the capture is released inside that window too, as parts of it
 * may have been built there (e.g. embedding vectors). */
static void emit_event(struct call *c, bool completed)
{
    struct proxy *p = c->p;
    struct emit_ctx *x = c->x ? c->x : (c->x = emit_ctx_get(p));
    if (!x) {
        metric_inc(p->drop_nomem);
        return; /* call_free releases the capture */
    }
    arena_activate(x->arena);
    build_and_queue(c, completed, &x->out);
    capture_free(c->cap);
    c->cap = NULL;
    atomic_fetch_sub(&p->captures, 1);
    arena_activate(NULL);
    c->x = NULL;
    emit_ctx_put(p, x);
}

/* --- responses ----------------------------------------------------------- */

/* A JSON error in the upstream's own format, for failures of the relay. */
static void relay_error(struct call *c, struct httpd_resp *resp, int status, const char *code,
                        const char *msg)
{
    struct buf b = {0};
    if (c->up->format == CAPTURE_ANTHROPIC) {
        buf_puts(&b, "{\"type\":\"error\",\"error\":{\"type\":");
        buf_json_str(&b, status == 504 ? "timeout_error" : "api_error");
        buf_puts(&b, ",\"message\":");
        buf_json_str(&b, msg);
        buf_puts(&b, "}}");
    } else {
        buf_puts(&b, "{\"error\":{\"message\":");
        buf_json_str(&b, msg);
        buf_puts(&b, ",\"type\":\"upstream_error\",\"param\":null,\"code\":");
        buf_json_str(&b, code);
        buf_puts(&b, "}}");
    }
    resp->status = status;
    resp->content_type = "application/json";
    resp->body = buf_steal(&b, &resp->len);
}

static long stream_cb(void *cls, char *dst, size_t max)
{
    struct call *c = cls;
    for (;;) {
        size_t avail = c->out.len - c->out_off;
        if (avail) {
            size_t n = avail < max ? avail : max;
            memcpy(dst, c->out.p + c->out_off, n);
            c->out_off += n;
            c->relayed += n;
            if (c->out_off == c->out.len) {
                buf_reset(&c->out);
                c->out_off = 0;
                if (c->paused) {
                    c->paused = false;
                    c->last_rx = timeutil_mono_us();
                    curl_easy_pause(c->slot->easy, CURLPAUSE_CONT);
                }
            }
            return (long)n;
        }
        if (c->done && c->filter_usage && c->pend.len > c->pend_off) {
            filter_flush(c); /* an unterminated last block goes out as it came */
            continue;
        }
        if (c->done) {
            if (c->result == CURLE_OPERATION_TIMEDOUT)
                c->timed_out = true;
            return c->result == CURLE_OK ? HTTPD_STREAM_END : HTTPD_STREAM_ABORT;
        }
        if (drive(c, want_output) != 0)
            return HTTPD_STREAM_ABORT;
    }
}

static void stream_done(void *cls, bool completed)
{
    struct call *c = cls;
    struct proxy *p = c->p;
    metric_add(p->bytes_relayed, c->relayed);
    if (!c->done && !c->client_gone && completed) {
        /* Every byte went out (a Content-Length body): let curl see the end
         * so the connection can be reused. */
        int64_t until = timeutil_mono_us() + 100000;
        while (!c->done && timeutil_mono_us() < until) {
            int running;
            curl_multi_perform(c->slot->multi, &running);
            check_done(c);
            if (!c->done)
                curl_multi_poll(c->slot->multi, NULL, 0, 10, NULL);
        }
    }
    if (!completed && !c->client_gone && !(c->done && c->result != CURLE_OK))
        c->client_gone = true; /* the server lost the client while writing */
    if (c->client_gone)
        metric_inc(p->client_disconnect);
    else if (c->done && c->result != CURLE_OK)
        metric_inc(p->upstream_error_mid);
    else
        metric_inc(p->relayed_ok);
    if (c->cap)
        emit_event(c, completed);
    call_free(c);
}

/* --- entry point --------------------------------------------------------- */

/* True when the upstream's whole answer is in `out` and can be relayed as
 * one buffer: the transfer ended well, the upstream said how long the body
 * is (so the client gets the same framing) and sent exactly that, nothing
 * is held back by the usage filter, and the status and method have a body.
 * When every byte is in but curl has not yet seen the end, one more
 * non-blocking step lets it. */
static bool answer_complete(struct call *c, const char *method)
{
    if (c->filter_usage || c->content_length <= 0 || c->out_off != 0 ||
        c->out.len != (size_t)c->content_length || c->status < 200 || c->status == 204 ||
        c->status == 304 || strcmp(method, "HEAD") == 0)
        return false;
    if (!c->done) {
        int running;
        curl_multi_perform(c->slot->multi, &running);
        check_done(c);
    }
    return c->done && c->result == CURLE_OK && c->out.len == (size_t)c->content_length &&
           !c->out.oom;
}

bool proxy_routes(const struct proxy *p, const char *path)
{
    const char *rest;
    return upstream_route(p->o.upstreams, path, &rest) != NULL;
}

/* Trace and span ids: random, not secret (they travel in clear headers), so
 * a per-thread xoshiro256** generator seeded once from getrandom(2) serves
 * them without a system call per id. */
static _Thread_local uint64_t rng_s[4];
static _Thread_local bool rng_seeded;

static uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(void)
{
    if (!rng_seeded) {
        if (getrandom(rng_s, sizeof rng_s, 0) != (ssize_t)sizeof rng_s) { /* never in practice */
            uint64_t t = (uint64_t)timeutil_mono_us() ^ (uint64_t)(uintptr_t)&rng_s;
            for (int i = 0; i < 4; i++)
                rng_s[i] = (t += 0x9E3779B97F4A7C15ull) * 0xBF58476D1CE4E5B9ull;
        }
        if (!(rng_s[0] | rng_s[1] | rng_s[2] | rng_s[3]))
            rng_s[0] = 1; /* the one state xoshiro cannot leave */
        rng_seeded = true;
    }
    uint64_t *s = rng_s;
    uint64_t r = rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return r;
}

static void random_hex(char *out, size_t nbytes)
{
    unsigned char r[16];
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < nbytes; i += 8) {
        uint64_t v = rng_next();
        memcpy(r + i, &v, nbytes - i < 8 ? nbytes - i : 8);
    }
    r[0] |= 1; /* never all zero (invalid in W3C trace context) */
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hx[r[i] >> 4];
        out[2 * i + 1] = hx[r[i] & 15];
    }
    out[nbytes * 2] = 0;
}

/* Sets the easy handle's options for call c. The options that depend only
 * on the upstream and the method persist in the handle from its previous
 * call (curl keeps every option until it is changed or the handle reset),
 * so when the slot last served the same upstream and method only the
 * per-call ones are set: no curl_easy_reset (which frees and re-zeroes all
 * of them), no re-attaching the share, no copying the CA path again. */
static void slot_setup(struct slot *s, struct call *c, const char *method, const char *url)
{
    CURL *e = s->easy;
    const struct upstream *up = c->up;
    bool get = strcmp(method, "GET") == 0, head = strcmp(method, "HEAD") == 0;
    if (s->set_up != up || strcmp(s->set_method, method) != 0) {
        if (s->used)
            curl_easy_reset(e);
        curl_easy_setopt(e, CURLOPT_SHARE, c->p->share);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        if (get)
            curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        else if (head)
            curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_resp_header);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_resp_data);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)up->connect_timeout_ms);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, up->tls_verify ? 1L : 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, up->tls_verify ? 2L : 0L);
        if (up->ca_file)
            curl_easy_setopt(e, CURLOPT_CAINFO, up->ca_file);
        curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 64L * 1024);
        /* A method too long to remember is set up afresh every time. */
        size_t ml = strlen(method);
        s->set_up = ml < sizeof s->set_method ? up : NULL;
        memcpy(s->set_method, method, ml < sizeof s->set_method ? ml + 1 : 0);
        s->used = true;
    }
    curl_easy_setopt(e, CURLOPT_URL, url);
    if (!get && !head) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body ? c->body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->req_headers);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->curl_err);
}

void proxy_handle(struct proxy *p, const struct httpd_req *req, struct httpd_resp *resp)
{
    metric_inc(p->requests);
    const char *rest;
    const struct upstream *up = upstream_route(p->o.upstreams, req->path, &rest);
    if (!up) {
        httpd_error(resp, 404, "no upstream for %s", req->path);
        return;
    }
    struct call *c = calloc(1, sizeof *c);
    if (!c) {
        httpd_error(resp, 503, "out of memory");
        return;
    }
    c->p = p;
    c->up = up;
    c->content_length = -1;
    c->client_fd = httpd_client_fd(req);
    c->t0_us = timeutil_now_us();
    c->t0_mono = timeutil_mono_us();
    httpd_headers_each(req, on_req_header, c);

    /* Capture, unless the call is not an LLM call or the agent is busy. */
    enum capture_op op = capture_op_for(up->format, req->method, rest);
    if (op != CAPTURE_OP_NONE) {
        if (atomic_fetch_add(&p->captures, 1) < p->o.max_captures) {
            c->cap = capture_new(&p->o.capture, up->format, op);
            if (!c->cap) {
                atomic_fetch_sub(&p->captures, 1);
                metric_inc(p->drop_nomem);
            }
        } else {
            atomic_fetch_sub(&p->captures, 1);
            metric_inc(p->drop_overload);
        }
    }
    if (c->cap && req->body) {
        /* The request's parse tree, and the fragments the capture keeps from
         * it until the event is built, come from the call's arena: no
         * malloc/free per JSON node, and the event is built in the same
         * arena later (emit_event). Only around capture_request: what the
         * capture allocates elsewhere (the usage rewrite's body, response
         * parsing) stays on the heap, where it is freed. */
        c->x = emit_ctx_get(p);
        arena_activate(c->x ? c->x->arena : NULL);
        capture_request(c->cap, req->body, req->body_len);
        arena_activate(NULL);
    }
    if (c->cap && p->o.inject_usage) {
        size_t nl;
        char *nb = capture_usage_rewrite(c->cap, &nl);
        if (nb) {
            c->body = nb;
            c->body_len = nl;
            struct sse_opts so = {.max_event = SSE_EVENT_MAX, .all_blocks = true};
            c->sse = sse_create(&so, on_sse_block, c);
            c->filter_usage = c->sse != NULL;
            metric_inc(p->usage_injected);
        }
    }
    if (!c->body && req->body) {
        c->body = malloc(req->body_len);
        if (!c->body) {
            call_free(c);
            httpd_error(resp, 503, "out of memory");
            return;
        }
        memcpy(c->body, req->body, req->body_len);
        c->body_len = req->body_len;
    }
    if (c->cap) {
        random_hex(c->span_id, 8);
        if (!c->trace_id[0])
            random_hex(c->trace_id, 16);
    }
    if (c->parent_span[0]) {
        char tp[96];
        snprintf(tp, sizeof tp, "traceparent: 00-%s-%s-%s", c->trace_id,
                 c->span_id[0] ? c->span_id : c->parent_span, c->trace_flags);
        struct curl_slist *l = curl_slist_append(c->req_headers, tp);
        if (l)
            c->req_headers = l;
    }
    struct curl_slist *l = curl_slist_append(c->req_headers, "Expect:");
    if (l)
        c->req_headers = l;

    char url[4096];
    const char *q = req->uri ? strchr(req->uri, '?') : NULL;
    if (upstream_url(up, rest, q ? q + 1 : NULL, url, sizeof url) < 0) {
        call_free(c);
        httpd_error(resp, 414, "request URI too long");
        return;
    }
    c->slot = slot_get(p);
    if (!c->slot) {
        call_free(c);
        httpd_error(resp, 503, "out of memory");
        return;
    }
    slot_setup(c->slot, c, req->method, url);
    c->last_rx = timeutil_mono_us();
    curl_multi_add_handle(c->slot->multi, c->slot->easy);

    if (drive(c, want_headers) != 0 || (c->done && !c->headers_done)) {
        if (c->client_gone) {
            metric_inc(p->client_disconnect);
            if (c->cap)
                emit_event(c, false);
            call_free(c);
            httpd_error(resp, 499, "client closed the connection");
            return;
        }
        bool timeout = c->result == CURLE_OPERATION_TIMEDOUT;
        c->timed_out = timeout;
        c->connect_failed = !timeout;
        metric_inc(timeout ? p->upstream_timeout : p->upstream_unreachable);
        char msg[CURL_ERROR_SIZE + 64];
        snprintf(msg, sizeof msg, "llmtap-agent: upstream %s %s: %s", up->name,
                 timeout ? "timed out" : "unreachable",
                 c->curl_err[0] ? c->curl_err : curl_easy_strerror(c->result));
        relay_error(c, resp, timeout ? 504 : 502,
                    timeout ? "upstream_timeout" : "upstream_unreachable", msg);
        if (c->cap)
            emit_event(c, true);
        call_free(c);
        return;
    }
    if (c->cap)
        capture_response_begin(c->cap, c->status, c->content_type);
    for (size_t i = 0; i < c->nhdr; i++)
        c->hdrs[i] = (struct httpd_hdr){c->hdr_store.p + c->hdr_off[i][0],
                                        c->hdr_store.p + c->hdr_off[i][1]};
    resp->status = c->status;
    resp->content_type = c->content_type;
    resp->headers = c->hdrs;
    resp->nheaders = c->nhdr;
    resp->stream_done = stream_done;
    resp->stream_cls = c;
    if (answer_complete(c, req->method)) {
        /* The whole answer is already here (a small non-streamed one): hand
         * it over as one buffer, so the server writes it with the headers
         * in one go; stream_done still runs once it went out. */
        c->relayed = c->out.len;
        resp->body = buf_steal(&c->out, &resp->len);
        c->out_off = 0;
        return;
    }
    resp->stream = stream_cb;
    resp->stream_len = c->filter_usage ? -1 : c->content_length;
}

/* ------------------------------------------------------------------------ */

static double captures_now(void *ud)
{
    struct proxy *p = ud;
    return atomic_load(&p->captures);
}

int proxy_create(const struct proxy_opts *o, struct metrics *m, struct proxy **out, char *err,
                 size_t errlen)
{
    struct proxy *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->o = *o;
    if (!p->o.max_idle_conns)
        p->o.max_idle_conns = 64;
    pthread_mutex_init(&p->pool_lock, NULL);
    pthread_mutex_init(&p->emit_lock, NULL);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&p->share_locks[i], NULL);
    if (gethostname(p->host, sizeof p->host) != 0)
        p->host[0] = 0;
    p->host[sizeof p->host - 1] = 0;
    p->share = curl_share_init();
    if (!p->share) {
        snprintf(err, errlen, "curl_share_init failed");
        proxy_destroy(p);
        return -1;
    }
    curl_share_setopt(p->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(p->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(p->share, CURLSHOPT_USERDATA, p);
    curl_share_setopt(p->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(p->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);

#define C(field, name, help, labels) p->field = metrics_counter(m, name, help, labels)
    C(requests, "llmtap_agent_proxy_requests_total", "Requests received by the proxy.", NULL);
    C(relayed_ok, "llmtap_agent_proxy_relayed_total", "Calls relayed to the end.", NULL);
    const char *fail_help = "Calls the proxy could not relay to the end, by reason.";
    C(upstream_unreachable, "llmtap_agent_proxy_failures_total", fail_help,
      "reason=\"upstream_unreachable\"");
    C(upstream_timeout, "llmtap_agent_proxy_failures_total", fail_help,
      "reason=\"upstream_timeout\"");
    C(upstream_error_mid, "llmtap_agent_proxy_failures_total", fail_help,
      "reason=\"upstream_error\"");
    C(client_disconnect, "llmtap_agent_proxy_failures_total", fail_help,
      "reason=\"client_disconnect\"");
    C(captured, "llmtap_agent_proxy_captured_total", "Proxied calls queued to Kafka as events.",
      NULL);
    const char *drop_help = "Proxied calls relayed without an event, by reason.";
    C(drop_overload, "llmtap_agent_proxy_capture_dropped_total", drop_help, "reason=\"overload\"");
    C(drop_kafka, "llmtap_agent_proxy_capture_dropped_total", drop_help,
      "reason=\"kafka_backlog\"");
    C(drop_invalid, "llmtap_agent_proxy_capture_dropped_total", drop_help, "reason=\"invalid\"");
    C(drop_too_large, "llmtap_agent_proxy_capture_dropped_total", drop_help,
      "reason=\"too_large\"");
    C(drop_nomem, "llmtap_agent_proxy_capture_dropped_total", drop_help,
      "reason=\"out_of_memory\"");
    C(cost_unknown, "llmtap_agent_cost_unknown_model_total",
      "Events with usage but no price for their model (no cost_usd).", NULL);
    C(usage_injected, "llmtap_agent_proxy_usage_requested_total",
      "Streams for which the proxy asked the upstream for usage.", NULL);
    C(bytes_relayed, "llmtap_agent_proxy_response_bytes_total",
      "Response body bytes relayed to clients.", NULL);
    C(redactions, "llmtap_agent_redactions_total", "Text spans replaced by redaction.", NULL);
#undef C
    metrics_gauge_fn(m, "llmtap_agent_proxy_captures_in_progress",
                     "Proxied calls being captured now.", NULL, captures_now, p);
    *out = p;
    return 0;
}

void proxy_destroy(struct proxy *p)
{
    if (!p)
        return;
    while (p->pool) {
        struct slot *s = p->pool;
        p->pool = s->next;
        slot_free(s);
    }
    while (p->emit_pool) {
        struct emit_ctx *e = p->emit_pool;
        p->emit_pool = e->next;
        emit_ctx_free(e);
    }
    curl_share_cleanup(p->share);
    pthread_mutex_destroy(&p->pool_lock);
    pthread_mutex_destroy(&p->emit_lock);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&p->share_locks[i]);
    free(p);
}
