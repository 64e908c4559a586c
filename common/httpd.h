/*
 * httpd.h — the HTTP server both binaries use: libmicrohttpd with a thread
 * pool, whole-body requests, one handler function.
 *
 * What it is for: agent and collector answer small JSON requests; this
 * module hides libmicrohttpd's multi-call upload protocol. A request's body
 * is collected (up to max_body bytes) and the handler is called once with the
 * whole request; it fills in a response. A body over max_body is not kept:
 * the handler is called with body_too_large set (Content-Length over the
 * limit is detected before any byte is read).
 *
 * Streaming responses (the proxy): a handler may set resp->stream instead of
 * a body; the server then pulls the body from that callback as the client
 * can take it, so bytes reach the client as soon as the callback returns
 * them. The callback may block only in the thread-per-connection mode
 * (httpd_opts.per_connection), where each connection has its own thread.
 *
 * Threads: the handler runs on libmicrohttpd's threads, concurrently: a
 * fixed pool (default), or one thread per connection (per_connection).
 */
#ifndef LLMTAP_HTTPD_H
#define LLMTAP_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct MHD_Connection;

struct httpd_req {
    const char *method;
    const char *path; /* without the query string */
    const char *uri;  /* as the client sent it, query string included */
    const char *body; /* NULL when empty or too large */
    size_t body_len;
    bool body_too_large;
    struct MHD_Connection *conn;
};

struct httpd_hdr {
    const char *name, *value;
};

struct httpd_resp {
    int status;
    const char *content_type; /* static string; default application/json */
    char *body;               /* malloc'd; freed by httpd */
    size_t len;
    const char *header; /* one extra header (static name), or NULL */
    char header_value[160];

    /* Headers copied into the response (e.g. relayed from an upstream);
     * the array and strings must stay valid until the handler returns. */
    const struct httpd_hdr *headers;
    size_t nheaders;

    /* Streaming body (body and len are then ignored). stream() fills up to
     * max bytes and returns how many (> 0), HTTPD_STREAM_END at the end, or
     * HTTPD_STREAM_ABORT to cut the response off (the client sees an
     * incomplete body). stream_done(stream_cls, completed) is called exactly
     * once when the server is finished with the response: completed is true
     * when stream() returned HTTPD_STREAM_END and the last byte was handed to
     * the socket, false when the client went away or the response was cut
     * off. stream_len is the body length when known (Content-Length), else
     * -1 (chunked). content_type NULL means: no default Content-Type (the
     * handler passes its own in headers).
     * A complete body may come with stream_done too (stream NULL, body and
     * len set): it is sent whole, with its headers in one write, and
     * stream_done reports as above whether it all went out; the body is
     * freed by httpd in every case. */
    long (*stream)(void *stream_cls, char *buf, size_t max);
    void (*stream_done)(void *stream_cls, bool completed);
    void *stream_cls;
    int64_t stream_len;
};

#define HTTPD_STREAM_END   (-1L)
#define HTTPD_STREAM_ABORT (-2L)

typedef void (*httpd_handler_fn)(void *ud, const struct httpd_req *req, struct httpd_resp *resp);

struct httpd_opts {
    const char *listen;       /* "HOST:PORT", "[V6]:PORT" or ":PORT" (all interfaces) */
    unsigned threads;         /* pool size, >= 1 (ignored when per_connection) */
    bool per_connection;      /* a thread per connection (handlers and streams may block) */
    unsigned max_connections; /* 0 = libmicrohttpd's default */
    size_t max_body;          /* bytes */
    /* HTTPS: the certificate (chain) and its private key, PEM text, which
     * must stay valid until httpd_stop; both NULL for plain HTTP. */
    const char *tls_cert_pem, *tls_key_pem;
    httpd_handler_fn handler;
    void *ud;
};

struct httpd;

/* Starts serving. Returns 0 and *out, or -1 with err set (e.g. address in use). */
int httpd_start(const struct httpd_opts *o, struct httpd **out, char *err, size_t errlen);
/* The port actually bound (useful with port 0). */
uint16_t httpd_port(const struct httpd *h);
/* Stops accepting new connections; requests in progress continue. */
void httpd_quiesce(struct httpd *h);
/* Requests in progress now (including the caller's own, from a handler). */
int httpd_inflight(struct httpd *h);
/* Waits up to timeout_ms for the requests in progress to complete (idle
 * keep-alive connections do not count). Returns how many are left. */
int httpd_drain(struct httpd *h, int timeout_ms);
/* Stops (closing every connection, so drain first), frees. Accepts NULL. */
void httpd_stop(struct httpd *h);

/* Request accessors (valid during the handler call). */
const char *httpd_query(const struct httpd_req *r, const char *key);
const char *httpd_header(const struct httpd_req *r, const char *name);
/* True when Content-Type value ct names the media type `type` (case-
 * insensitive), with or without parameters ("application/json; charset=…").
 * ct may be NULL. */
bool httpd_media_is(const char *ct, const char *type);
/* Calls fn for every request header, in the order received; fn returns
 * false to stop. */
void httpd_headers_each(const struct httpd_req *r,
                        bool (*fn)(void *ud, const char *name, const char *value), void *ud);
/* The user name and password of an `Authorization: Basic` header: true
 * and two malloc'd strings (the caller frees them), or false when the
 * request has none (or it cannot be decoded). */
bool httpd_basic_auth(const struct httpd_req *r, char **user, char **pass);
/* The client connection's socket (for poll: a hang-up while a handler
 * waits), or -1. */
int httpd_client_fd(const struct httpd_req *r);

/* Helpers that fill a response: a JSON body (copied), or an error object
 * {"error": msg}. */
void httpd_json(struct httpd_resp *resp, int status, const char *json, size_t len);
void httpd_error(struct httpd_resp *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
