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
 * Threads: the handler runs on libmicrohttpd's pool threads, concurrently.
 */
#ifndef LLMTAP_HTTPD_H
#define LLMTAP_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct MHD_Connection;

struct httpd_req {
    const char *method;
    const char *path;      /* without the query string */
    const char *body;      /* NULL when empty or too large */
    size_t body_len;
    bool body_too_large;
    struct MHD_Connection *conn;
};

struct httpd_resp {
    int status;
    const char *content_type; /* static string; default application/json */
    char *body;               /* malloc'd; freed by httpd */
    size_t len;
    const char *header;       /* one extra header (static name), or NULL */
    char header_value[160];
};

typedef void (*httpd_handler_fn)(void *ud, const struct httpd_req *req, struct httpd_resp *resp);

struct httpd_opts {
    const char *listen;  /* "HOST:PORT", "[V6]:PORT" or ":PORT" (all interfaces) */
    unsigned threads;    /* pool size, >= 1 */
    size_t max_body;     /* bytes */
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

/* Helpers that fill a response: a JSON body (copied), or an error object
 * {"error": msg}. */
void httpd_json(struct httpd_resp *resp, int status, const char *json, size_t len);
void httpd_error(struct httpd_resp *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
