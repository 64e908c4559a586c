/*
 * httpd.c — libmicrohttpd wrapper: whole-body requests, one handler.
 *
 * DESIGN
 * - MHD calls the access handler several times per request: once with the
 *   headers, once per body chunk, and once with no data at the end. A
 *   per-request context (allocated on the first call, freed by the
 *   completion callback) accumulates the body; the user handler runs on the
 *   last call and its response is queued then.
 * - Too-large bodies: a Content-Length over the limit is answered on the
 *   first call; a chunked body that grows past the limit is discarded as it
 *   arrives and answered at the end. Either way memory stays bounded.
 * - The per-request context is allocated by MHD's URI-log callback (which
 *   sees the URI as sent, query string included, before MHD splits it) and
 *   freed by the completion callback.
 * - Streaming responses wrap the handler's stream()/stream_done() in MHD's
 *   content-reader callbacks. A body given whole with a stream_done (the
 *   proxy, when the upstream's answer is already complete) becomes a buffer
 *   response, which MHD sends with its headers in one writev; its free
 *   callback plays the part of the reader's. stream_done learns whether the body went out
 *   whole from two facts: stream() returned END, and MHD's completion notice
 *   (which comes before the response is destroyed) said COMPLETED_OK.
 * - Threads: MHD's internal thread pool (epoll), or one thread per
 *   connection when a handler or stream may block (the proxy); quiesce closes the listen
 *   socket's polling so new connections are refused, and drain waits for the
 *   requests in progress (counted from their first callback to MHD's
 *   completion notice) before stop closes every connection.
 */
#include "httpd.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <time.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "utf8.h"

struct httpd {
    struct MHD_Daemon *d;
    _Atomic int inflight; /* requests begun and not yet completed */
    struct httpd_opts o;
    MHD_socket quiesced_fd;
    uint16_t port;
};

struct stream_state {
    struct httpd_resp r; /* stream, stream_done, stream_cls (and body, when buffered) */
    bool ended;          /* stream() returned END, or the known length was sent */
    uint64_t sent;
    bool aborted;     /* the completion notice was not COMPLETED_OK */
    _Atomic int refs; /* the request context and the MHD response */
};

static void stream_release(struct stream_state *st)
{
    if (atomic_fetch_sub(&st->refs, 1) == 1)
        free(st);
}

struct reqctx {
    struct buf body;
    bool too_large;
    bool started; /* the access handler has seen this request */
    char *uri;
    struct stream_state *stream;
};

static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct reqctx *ctx = calloc(1, sizeof *ctx);
    if (ctx)
        ctx->uri = strdup(uri ? uri : "");
    if (ctx && !ctx->uri) {
        free(ctx);
        ctx = NULL;
    }
    return ctx;
}

static void request_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    struct httpd *h = cls;
    struct reqctx *ctx = *con_cls;
    if (ctx) {
        if (ctx->stream) {
            ctx->stream->aborted = toe != MHD_REQUEST_TERMINATED_COMPLETED_OK;
            stream_release(ctx->stream);
        }
        buf_free(&ctx->body);
        free(ctx->uri);
        if (ctx->started)
            atomic_fetch_sub(&h->inflight, 1);
        free(ctx);
        *con_cls = NULL;
    }
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream_state *st = cls;
    long n = st->r.stream(st->r.stream_cls, buf, max);
    if (n > 0) {
        st->sent += (uint64_t)n;
        /* With a known length MHD stops calling once it has that many. */
        if (st->r.stream_len >= 0 && st->sent >= (uint64_t)st->r.stream_len)
            st->ended = true;
        return (ssize_t)n;
    }
    if (n == HTTPD_STREAM_END) {
        st->ended = true;
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_free(void *cls)
{
    struct stream_state *st = cls;
    if (st->r.stream_done)
        st->r.stream_done(st->r.stream_cls, st->ended && !st->aborted);
    stream_release(st);
}

static void add_headers(struct MHD_Response *r, const struct httpd_resp *resp)
{
    for (size_t i = 0; i < resp->nheaders; i++)
        MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
    if (resp->header)
        MHD_add_response_header(r, resp->header, resp->header_value);
}

/* MHD's free callback of a buffered response with a completion callback. */
static void buffered_free(void *cls)
{
    struct stream_state *st = cls;
    free(st->r.body);
    st->r.body = NULL;
    stream_free(st);
}

static enum MHD_Result respond_stream(struct MHD_Connection *c, struct reqctx *ctx,
                                      struct httpd_resp *resp)
{
    bool buffered = !resp->stream;
    if (!buffered)
        free(resp->body);
    struct stream_state *st = calloc(1, sizeof *st);
    if (!st) {
        if (buffered)
            free(resp->body);
        if (resp->stream_done)
            resp->stream_done(resp->stream_cls, false);
        return MHD_NO;
    }
    st->r = *resp;
    atomic_init(&st->refs, 1);
    struct MHD_Response *r;
    if (buffered) {
        /* The whole body is here: MHD writes it with the headers in one
         * writev; "ended" holds, "aborted" comes from the completion notice. */
        r = MHD_create_response_from_buffer_with_free_callback_cls(resp->len, resp->body,
                                                                   buffered_free, st);
        st->ended = r != NULL;
    } else {
        uint64_t size = resp->stream_len >= 0 ? (uint64_t)resp->stream_len : MHD_SIZE_UNKNOWN;
        r = MHD_create_response_from_callback(size, 32 * 1024, stream_reader, st, stream_free);
    }
    if (!r) {
        if (buffered) {
            free(st->r.body);
            st->r.body = NULL;
        }
        stream_free(st);
        return MHD_NO;
    }
    atomic_fetch_add(&st->refs, 1);
    ctx->stream = st;
    if (resp->content_type)
        MHD_add_response_header(r, "Content-Type", resp->content_type);
    add_headers(r, resp);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)resp->status, r);
    if (ret != MHD_YES)
        st->aborted = true; /* nothing of it will be sent */
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result respond(struct MHD_Connection *c, struct reqctx *ctx,
                               struct httpd_resp *resp)
{
    if (resp->stream || resp->stream_done)
        return respond_stream(c, ctx, resp);
    if (!resp->body) {
        resp->body = strdup("");
        resp->len = 0;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(resp->len, resp->body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(resp->body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type",
                            resp->content_type ? resp->content_type : "application/json");
    add_headers(r, resp);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *c, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    struct httpd *h = cls;
    struct reqctx *ctx = *con_cls;
    if (!ctx)
        return MHD_NO; /* the URI logger could not allocate */
    if (!ctx->started) {
        ctx->started = true;
        atomic_fetch_add(&h->inflight, 1);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > h->o.max_body)
            ctx->too_large = true;
        else
            return MHD_YES;
    }
    if (*upload_data_size) {
        if (!ctx->too_large) {
            if (ctx->body.len + *upload_data_size > h->o.max_body) {
                ctx->too_large = true;
                buf_free(&ctx->body);
            } else {
                buf_append(&ctx->body, upload_data, *upload_data_size);
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct httpd_req req = {
        .method = method,
        .path = url,
        .uri = ctx->uri,
        .body = ctx->too_large || ctx->body.len == 0 ? NULL : ctx->body.p,
        .body_len = ctx->too_large ? 0 : ctx->body.len,
        .body_too_large = ctx->too_large,
        .conn = c,
    };
    struct httpd_resp resp = {.status = 200, .stream_len = -1};
    if (ctx->body.oom)
        httpd_error(&resp, 503, "out of memory reading the request body");
    else
        h->o.handler(h->o.ud, &req, &resp);
    return respond(c, ctx, &resp);
}

static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *slen, bool *v6)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon)
        return -1;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535 || colon[1] == 0)
        return -1;
    size_t hl = (size_t)(colon - listen);
    if (hl >= sizeof host)
        return -1;
    memcpy(host, listen, hl);
    host[hl] = 0;
    memset(ss, 0, sizeof *ss);
    if (host[0] == '[') {
        size_t n = strlen(host);
        if (n < 2 || host[n - 1] != ']')
            return -1;
        host[n - 1] = 0;
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
            return -1;
        *slen = sizeof *a;
        *v6 = true;
        return 0;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (host[0] == 0)
        a->sin_addr.s_addr = htonl(INADDR_ANY);
    else if (strcmp(host, "localhost") == 0)
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
        return -1;
    *slen = sizeof *a;
    *v6 = false;
    return 0;
}

int httpd_start(const struct httpd_opts *o, struct httpd **out, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t slen;
    bool v6;
    if (parse_listen(o->listen, &ss, &slen, &v6) != 0) {
        snprintf(err, errlen, "listen: \"%s\" is not HOST:PORT", o->listen);
        return -1;
    }
    struct httpd *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    h->o = *o;
    h->quiesced_fd = MHD_INVALID_SOCKET;
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    struct MHD_OptionItem opts[8];
    int no = 0;
    if (o->per_connection) {
        flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
        opts[no++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_STACK_SIZE, 256 * 1024, NULL};
    } else {
        flags |= MHD_USE_EPOLL;
        opts[no++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE,
                                             (intptr_t)(o->threads ? o->threads : 1), NULL};
    }
    if (o->max_connections)
        opts[no++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
                                             (intptr_t)o->max_connections, NULL};
    if (o->tls_cert_pem || o->tls_key_pem) {
        if (!o->tls_cert_pem || !o->tls_key_pem) {
            snprintf(err, errlen, "TLS needs both a certificate and its key");
            free(h);
            return -1;
        }
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            snprintf(err, errlen, "TLS: this libmicrohttpd was built without TLS support");
            free(h);
            return -1;
        }
        flags |= MHD_USE_TLS;
        opts[no++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)o->tls_cert_pem};
        opts[no++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)o->tls_key_pem};
    }
    opts[no++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, access_handler, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_URI_LOG_CALLBACK, uri_logger, h, MHD_OPTION_NOTIFY_COMPLETED, request_completed,
        h, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_LISTENING_ADDRESS_REUSE,
        (unsigned)1, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, errlen, "cannot listen on %s (address in use or not available%s)", o->listen,
                 o->tls_cert_pem ? ", or the TLS certificate or key is not valid PEM" : "");
        free(h);
        return -1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : 0;
    *out = h;
    return 0;
}

uint16_t httpd_port(const struct httpd *h)
{
    return h->port;
}

void httpd_quiesce(struct httpd *h)
{
    if (h && h->d && h->quiesced_fd == MHD_INVALID_SOCKET)
        h->quiesced_fd = MHD_quiesce_daemon(h->d);
}

int httpd_inflight(struct httpd *h)
{
    return h ? atomic_load(&h->inflight) : 0;
}

int httpd_drain(struct httpd *h, int timeout_ms)
{
    if (!h)
        return 0;
    struct timespec ts = {0, 10 * 1000000};
    for (int waited = 0; atomic_load(&h->inflight) > 0 && waited < timeout_ms; waited += 10)
        nanosleep(&ts, NULL);
    return atomic_load(&h->inflight);
}

void httpd_stop(struct httpd *h)
{
    if (!h)
        return;
    if (h->d)
        MHD_stop_daemon(h->d);
    if (h->quiesced_fd != MHD_INVALID_SOCKET)
        close(h->quiesced_fd);
    free(h);
}

const char *httpd_query(const struct httpd_req *r, const char *key)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *httpd_header(const struct httpd_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

bool httpd_basic_auth(const struct httpd_req *r, char **user, char **pass)
{
    char *p = NULL;
    char *u = MHD_basic_auth_get_username_password(r->conn, &p);
    if (!u) {
        MHD_free(p);
        return false;
    }
    *user = strdup(u);
    *pass = strdup(p ? p : "");
    MHD_free(u);
    MHD_free(p);
    if (!*user || !*pass) {
        free(*user);
        free(*pass);
        return false;
    }
    return true;
}

bool httpd_media_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    return ct && strncasecmp(ct, type, n) == 0 && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

struct each_ud {
    bool (*fn)(void *ud, const char *name, const char *value);
    void *ud;
};

static enum MHD_Result each_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct each_ud *e = cls;
    return e->fn(e->ud, key, value ? value : "") ? MHD_YES : MHD_NO;
}

void httpd_headers_each(const struct httpd_req *r,
                        bool (*fn)(void *ud, const char *name, const char *value), void *ud)
{
    struct each_ud e = {fn, ud};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, each_header, &e);
}

int httpd_client_fd(const struct httpd_req *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? (int)ci->connect_fd : -1;
}

void httpd_json(struct httpd_resp *resp, int status, const char *json, size_t len)
{
    resp->status = status;
    resp->content_type = "application/json";
    resp->body = malloc(len + 1);
    if (resp->body) {
        memcpy(resp->body, json, len);
        resp->body[len] = 0;
        resp->len = len;
    }
}

void httpd_error(struct httpd_resp *resp, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof msg)
        utf8_trim_tail(msg);
    struct buf b = {0};
    buf_puts(&b, "{\"error\":");
    buf_json_str(&b, msg);
    buf_puts(&b, "}\n");
    resp->status = status;
    resp->content_type = "application/json";
    resp->body = buf_steal(&b, &resp->len);
}
