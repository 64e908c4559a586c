/*
 * calls.c — `llmtap-sim calls`: services making LLM API calls through the
 * agent's proxy (docs/proxy.md), against `llmtap-sim upstream` or any
 * OpenAI/Anthropic-compatible server.
 *
 * DESIGN: one thread and one libcurl multi handle. A fixed pool of
 * `concurrency` call slots, each with its own easy handle, request and
 * response buffers, all reused from call to call (libcurl keeps the
 * connections alive in the multi handle's cache). Calls start on an open-
 * loop schedule: the k-th call is due at base + k / rate on the monotonic
 * clock, whatever the earlier calls are doing, as long as a slot is free.
 * When every slot is busy the schedule waits; debt older than one second is
 * forgotten (base moves forward) and the summary reports the rate achieved.
 *
 * Content: calls_plan.c — the catalogue of services, prompt templates and
 * models (mirroring gen.c's), the plan of each call (every choice drawn
 * from one rng stream, so the n-th call of a seed is always the same
 * request) and its request body and headers. This file sends the calls and
 * checks the answers.
 *
 * Checks: every response is read to its end. A 2xx body must have the shape
 * its request asked for (for streams: the SSE events in order, the closing
 * event, a usage chunk exactly when stream_options.include_usage was sent —
 * the proxy adds its own and must hide it); a forced 429/500 must carry a
 * provider error body. Anything else counts as "unexpected" or "bad".
 *
 * Shutdown: SIGINT/SIGTERM only set a flag (SA_RESETHAND: a second signal
 * kills). No new call starts; calls in flight get DRAIN_S seconds to end,
 * then are cancelled (counted, written to --out as "cancelled"). The loop
 * polls at least every 100 ms, so the flag is seen promptly.
 */
#include "calls.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calls_plan.h"
#include "jbuf.h"

#ifndef LLMTAP_VERSION
#define LLMTAP_VERSION "dev"
#endif

#define DRAIN_S   5.0        /* grace for calls in flight at a stop signal */
#define RESP_KEEP (8u << 20) /* response bytes kept for the checks */

/* ---- calls and their state --------------------------------------------- */

static const char *const kind_name[K_COUNT] = {"chat", "responses", "embeddings", "messages"};
static const char *const kind_path[K_COUNT] = {"/v1/chat/completions", "/v1/responses",
                                               "/v1/embeddings", "/v1/messages"};

/* A call slot: reused for call after call. */
struct slot {
    CURL *h;
    struct curl_slist *hdrs;
    struct jbuf body, resp;
    size_t resp_bytes;
    bool busy;
    double t0;
    struct plan p;
    char errbuf[CURL_ERROR_SIZE];
};

#define LAT_BUCKETS 256 /* bucket i covers [2^(i/8), 2^((i+1)/8)) µs */

struct stats {
    uint64_t sent, s2xx, s4xx, s5xx, sother, errors, stream, nonstream, bad, unexpected, cancelled,
        done;
    uint64_t kind[K_COUNT];
    uint64_t lat[LAT_BUCKETS], nlat;
};

struct calls {
    const struct calls_opts *o;
    char base[512]; /* target without trailing '/' */
    CURLM *multi;
    struct slot *slots;
    unsigned nslots, inflight;
    FILE *out;
    struct jbuf line;     /* --out line */
    struct planner *pl;   /* what the calls send (calls_plan.c) */
    struct jbuf sse_data; /* SSE checks */
    struct stats st;
    unsigned warnings;
    double t_begin;
};

static volatile sig_atomic_t calls_stop;

static void on_signal(int sig)
{
    (void)sig;
    calls_stop = 1;
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void lat_add(struct stats *s, double seconds)
{
    double us = seconds * 1e6;
    int i = us < 1 ? 0 : (int)(log2(us) * 8);
    if (i >= LAT_BUCKETS)
        i = LAT_BUCKETS - 1;
    s->lat[i]++;
    s->nlat++;
}

static double lat_quantile_ms(const struct stats *s, double q)
{
    uint64_t want = (uint64_t)ceil(q * (double)s->nlat), seen = 0;
    if (!want)
        return 0;
    for (int i = 0; i < LAT_BUCKETS; i++) {
        seen += s->lat[i];
        if (seen >= want)
            return exp2((i + 0.5) / 8.0) / 1000.0; /* bucket midpoint (geometric) */
    }
    return 0;
}

static void warn_limited(struct calls *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void warn_limited(struct calls *c, const char *fmt, ...)
{
    if (c->warnings++ < 10) {
        va_list ap;
        va_start(ap, fmt);
        fputs("llmtap-sim calls: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    } else if (c->warnings == 11) {
        fputs("llmtap-sim calls: (further warnings suppressed)\n", stderr);
    }
}

/* ---- response checks --------------------------------------------------------- */

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static bool str_is(const cJSON *v, const char *s)
{
    return cJSON_IsString(v) && strcmp(v->valuestring, s) == 0;
}

struct sse {
    const char *p, *end;
    const char *name; /* event field of the last event, or NULL */
    size_t name_len;
    bool partial; /* the body ended inside an event */
};

/* The next event; its data lines (joined by '\n') go into `data`.
 * Returns false at the end of the body. */
static bool sse_next(struct sse *s, struct jbuf *data)
{
    bool any = false, has_data = false;
    jbuf_reset(data);
    s->name = NULL;
    s->name_len = 0;
    while (s->p < s->end) {
        const char *nl = memchr(s->p, '\n', (size_t)(s->end - s->p));
        const char *line = s->p;
        size_t len = (size_t)((nl ? nl : s->end) - line);
        s->p = nl ? nl + 1 : s->end;
        if (len && line[len - 1] == '\r')
            len--;
        if (len == 0) {
            if (any)
                return true;
            continue;
        }
        any = true;
        if (!nl) {
            s->partial = true;
            return false;
        }
        if (line[0] == ':')
            continue;
        const char *colon = memchr(line, ':', len);
        size_t flen = colon ? (size_t)(colon - line) : len;
        const char *v = colon ? colon + 1 : line + len;
        if (v < line + len && *v == ' ')
            v++;
        size_t vlen = (size_t)(line + len - v);
        if (flen == 5 && memcmp(line, "event", 5) == 0) {
            s->name = v;
            s->name_len = vlen;
        } else if (flen == 4 && memcmp(line, "data", 4) == 0) {
            if (has_data)
                jbuf_putc(data, '\n');
            jbuf_put(data, v, vlen);
            has_data = true;
        }
    }
    if (any)
        s->partial = true;
    return false;
}

static bool name_is(const struct sse *s, const char *n)
{
    return s->name && s->name_len == strlen(n) && memcmp(s->name, n, s->name_len) == 0;
}

/* Each check returns NULL when the body is right, else what is wrong. */

static const char *check_chat_stream(struct calls *c, const struct plan *p, struct sse *s)
{
    int usage_chunks = 0;
    bool done = false, finish = false;
    while (sse_next(s, &c->sse_data)) {
        if (done)
            return "data after [DONE]";
        if (strcmp(c->sse_data.data ? c->sse_data.data : "", "[DONE]") == 0) {
            done = true;
            continue;
        }
        cJSON *j = cJSON_ParseWithLength(c->sse_data.data ? c->sse_data.data : "", c->sse_data.len);
        const char *why = NULL;
        const cJSON *ch = get(j, "choices");
        if (!j || !str_is(get(j, "object"), "chat.completion.chunk") || !cJSON_IsArray(ch))
            why = "a chunk is not a chat.completion.chunk";
        else if (get(j, "error"))
            why = "error chunk in the stream";
        else if (cJSON_GetArraySize(ch) == 0 && cJSON_IsObject(get(j, "usage")))
            usage_chunks++;
        else if (cJSON_IsString(get(cJSON_GetArrayItem(ch, 0), "finish_reason")))
            finish = true;
        cJSON_Delete(j);
        if (why)
            return why;
    }
    if (s->partial)
        return "stream cut inside an event";
    if (!done)
        return "no data: [DONE]";
    if (!finish)
        return "no chunk with a finish_reason";
    if (p->include_usage && usage_chunks != 1)
        return "include_usage sent but no usage chunk arrived";
    if (!p->include_usage && usage_chunks)
        return "a usage chunk arrived that the client did not ask for";
    return NULL;
}

static const char *check_responses_stream(struct calls *c, struct sse *s)
{
    int events = 0;
    bool closed = false;
    while (sse_next(s, &c->sse_data)) {
        if (closed)
            return "events after response.completed";
        if (!s->name)
            return "an event without an event: line";
        if (events++ == 0 && !name_is(s, "response.created"))
            return "first event is not response.created";
        if (name_is(s, "error") || name_is(s, "response.failed"))
            return "error event in the stream";
        if (name_is(s, "response.completed") || name_is(s, "response.incomplete")) {
            cJSON *j =
                cJSON_ParseWithLength(c->sse_data.data ? c->sse_data.data : "", c->sse_data.len);
            bool ok = cJSON_IsObject(get(get(j, "response"), "usage"));
            cJSON_Delete(j);
            if (!ok)
                return "response.completed without usage";
            closed = true;
        }
    }
    if (s->partial)
        return "stream cut inside an event";
    return closed ? NULL : "no response.completed event";
}

static const char *check_messages_stream(struct calls *c, struct sse *s)
{
    int events = 0;
    bool delta_usage = false, stopped = false;
    while (sse_next(s, &c->sse_data)) {
        if (stopped)
            return "events after message_stop";
        if (!s->name)
            return "an event without an event: line";
        if (events++ == 0 && !name_is(s, "message_start"))
            return "first event is not message_start";
        if (name_is(s, "error"))
            return "error event in the stream";
        if (name_is(s, "message_delta")) {
            cJSON *j =
                cJSON_ParseWithLength(c->sse_data.data ? c->sse_data.data : "", c->sse_data.len);
            delta_usage = cJSON_IsNumber(get(get(j, "usage"), "output_tokens"));
            cJSON_Delete(j);
        }
        if (name_is(s, "message_stop"))
            stopped = true;
    }
    if (s->partial)
        return "stream cut inside an event";
    if (!delta_usage)
        return "no message_delta with usage";
    return stopped ? NULL : "no message_stop event";
}

static const char *check_json(const struct plan *p, const cJSON *j)
{
    if (!cJSON_IsObject(j))
        return "body is not a JSON object";
    switch (p->kind) {
    case K_CHAT:
        if (!str_is(get(j, "object"), "chat.completion") ||
            cJSON_GetArraySize(get(j, "choices")) < 1)
            return "not a chat.completion with choices";
        break;
    case K_RESPONSES:
        if (!str_is(get(j, "object"), "response") || !cJSON_IsArray(get(j, "output")))
            return "not a response object with output";
        break;
    case K_MESSAGES:
        if (!str_is(get(j, "type"), "message") || !cJSON_IsArray(get(j, "content")))
            return "not a message with content";
        break;
    case K_EMBEDDINGS:
        if (!str_is(get(j, "object"), "list") || cJSON_GetArraySize(get(j, "data")) != p->ninputs)
            return "not a list with one embedding per input";
        break;
    default: break;
    }
    return cJSON_IsObject(get(j, "usage")) ? NULL : "no usage";
}

static const char *check_body(struct calls *c, struct slot *k, long code)
{
    const struct plan *p = &k->p;
    const char *body = k->resp.data ? k->resp.data : "";
    if (k->resp_bytes > k->resp.len)
        return NULL; /* too large to keep: not checked */
    if (code != 200 || !p->stream) {
        cJSON *j = cJSON_ParseWithLength(body, k->resp.len);
        const char *why = code == 200 ? check_json(p, j)
                          : cJSON_IsObject(get(j, "error"))
                              ? NULL
                              : "error status without a provider error body";
        cJSON_Delete(j);
        return why;
    }
    struct sse s = {.p = body, .end = body + k->resp.len};
    switch (p->kind) {
    case K_CHAT: return check_chat_stream(c, p, &s);
    case K_RESPONSES: return check_responses_stream(c, &s);
    case K_MESSAGES: return check_messages_stream(c, &s);
    default: return NULL;
    }
}

/* ---- the loop -------------------------------------------------------------------- */

static size_t on_write(char *ptr, size_t size, size_t n, void *ud)
{
    struct slot *k = ud;
    size_t len = size * n;
    if (k->resp.len + len <= RESP_KEEP)
        jbuf_put(&k->resp, ptr, len);
    k->resp_bytes += len;
    return len;
}

static void write_out(struct calls *c, const struct slot *k, long status, double latency,
                      const char *result)
{
    if (!c->out)
        return;
    const struct plan *p = &k->p;
    struct jw w;
    jbuf_reset(&c->line);
    jw_init(&w, &c->line);
    jw_obj(&w, NULL);
    jw_int(&w, "n", (int64_t)p->n);
    jw_num(&w, "t", k->t0 - c->t_begin, 3);
    jw_str(&w, "kind", kind_name[p->kind]);
    jw_str(&w, "service", p->svc->name);
    jw_str(&w, "model", p->m->name);
    jw_bool(&w, "stream", p->stream);
    jw_int(&w, "expect", p->expect);
    jw_int(&w, "status", status);
    jw_num(&w, "latency_ms", latency * 1000, 1);
    jw_int(&w, "bytes", (int64_t)k->resp_bytes);
    jw_str(&w, "result", result);
    jw_end_obj(&w);
    jbuf_putc(&c->line, '\n');
    fwrite(c->line.data, 1, c->line.len, c->out);
}

static int start_call(struct calls *c, struct slot *k)
{
    plan_call(c->pl, c->st.sent, &k->p);
    const struct plan *p = &k->p;
    plan_body(c->pl, p, &k->body);
    plan_headers(c->pl, p, &k->hdrs);
    char url[1024];
    snprintf(url, sizeof url, "%s%s%s", c->base, p->m->prov == P_VLLM ? c->o->vllm_prefix : "",
             kind_path[p->kind]);
    jbuf_reset(&k->resp);
    k->resp_bytes = 0;
    k->errbuf[0] = '\0';
    curl_easy_setopt(k->h, CURLOPT_URL, url);
    curl_easy_setopt(k->h, CURLOPT_HTTPHEADER, k->hdrs);
    curl_easy_setopt(k->h, CURLOPT_POSTFIELDS, k->body.data);
    curl_easy_setopt(k->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)k->body.len);
    k->t0 = mono_now();
    if (curl_multi_add_handle(c->multi, k->h) != CURLM_OK) {
        warn_limited(c, "curl_multi_add_handle failed");
        return -1;
    }
    k->busy = true;
    c->inflight++;
    c->st.sent++;
    c->st.kind[p->kind]++;
    if (p->stream)
        c->st.stream++;
    else
        c->st.nonstream++;
    return 0;
}

static void release(struct calls *c, struct slot *k)
{
    curl_multi_remove_handle(c->multi, k->h);
    k->busy = false;
    c->inflight--;
}

static void finish_call(struct calls *c, struct slot *k, CURLcode res)
{
    double latency = mono_now() - k->t0;
    const struct plan *p = &k->p;
    long code = 0;
    char result[256];
    c->st.done++;
    if (res != CURLE_OK) {
        c->st.errors++;
        const char *e = k->errbuf[0] ? k->errbuf : curl_easy_strerror(res);
        warn_limited(c, "%s %s (%s): %s", kind_name[p->kind], p->m->name, p->svc->name, e);
        snprintf(result, sizeof result, "transport: %.200s", e);
        write_out(c, k, 0, latency, result);
        release(c, k);
        return;
    }
    curl_easy_getinfo(k->h, CURLINFO_RESPONSE_CODE, &code);
    lat_add(&c->st, latency);
    if (code >= 200 && code < 300)
        c->st.s2xx++;
    else if (code >= 400 && code < 500)
        c->st.s4xx++;
    else if (code >= 500 && code < 600)
        c->st.s5xx++;
    else
        c->st.sother++;
    const char *why = NULL;
    if (code != p->expect) {
        c->st.unexpected++;
        warn_limited(c, "%s %s (%s): HTTP %ld, expected %d: %.200s", kind_name[p->kind], p->m->name,
                     p->svc->name, code, p->expect, k->resp.data ? k->resp.data : "");
        snprintf(result, sizeof result, "unexpected status");
    } else if ((why = check_body(c, k, code))) {
        c->st.bad++;
        warn_limited(c, "%s %s (%s)%s: %s", kind_name[p->kind], p->m->name, p->svc->name,
                     p->stream ? " stream" : "", why);
        snprintf(result, sizeof result, "bad body: %.200s", why);
    } else {
        snprintf(result, sizeof result, "ok");
    }
    write_out(c, k, code, latency, result);
    release(c, k);
}

static void cancel_all(struct calls *c)
{
    for (unsigned i = 0; i < c->nslots; i++) {
        struct slot *k = &c->slots[i];
        if (!k->busy)
            continue;
        c->st.cancelled++;
        write_out(c, k, 0, mono_now() - k->t0, "cancelled");
        release(c, k);
    }
}

static void progress_line(const struct calls *c, double elapsed, double window_rate)
{
    const struct stats *s = &c->st;
    fprintf(stderr,
            "llmtap-sim calls: t=%.1fs sent=%llu 2xx=%llu 4xx=%llu 5xx=%llu errors=%llu bad=%llu"
            " stream=%llu inflight=%u rate=%.1f/s (now %.1f/s)\n",
            elapsed, (unsigned long long)s->sent, (unsigned long long)s->s2xx,
            (unsigned long long)s->s4xx, (unsigned long long)s->s5xx, (unsigned long long)s->errors,
            (unsigned long long)s->bad, (unsigned long long)s->stream, c->inflight,
            elapsed > 0 ? (double)s->sent / elapsed : 0.0, window_rate);
}

/* Wait until the target accepts a TCP connection (no request is sent). */
static int wait_connect(struct calls *c)
{
    CURL *h = curl_easy_init();
    if (!h)
        return -1;
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, c->base);
    curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    double t0 = mono_now(), backoff = 0.05;
    int rc = -1;
    while (!calls_stop) {
        CURLcode cc = curl_easy_perform(h);
        if (cc == CURLE_OK) {
            rc = 0;
            break;
        }
        if (mono_now() - t0 >= c->o->connect_wait) {
            fprintf(stderr,
                    "llmtap-sim calls: %s not reachable (gave up after --connect-wait): %s\n",
                    c->base, errbuf[0] ? errbuf : curl_easy_strerror(cc));
            break;
        }
        struct timespec ts = {0, (long)(backoff * 1e9)};
        nanosleep(&ts, NULL);
        backoff = backoff * 2 > 0.5 ? 0.5 : backoff * 2;
    }
    curl_easy_cleanup(h);
    return rc;
}

static int calls_setup(struct calls *c)
{
    const struct calls_opts *o = c->o;
    size_t tl = strlen(o->target);
    while (tl > 0 && o->target[tl - 1] == '/')
        tl--;
    if (tl == 0 || tl >= sizeof c->base) {
        fputs("llmtap-sim calls: --target is empty or too long\n", stderr);
        return 2;
    }
    memcpy(c->base, o->target, tl);
    c->base[tl] = '\0';
    if (o->vllm_prefix &&
        ((o->vllm_prefix[0] && o->vllm_prefix[0] != '/') || strlen(o->vllm_prefix) > 200)) {
        fputs("llmtap-sim calls: --vllm-prefix must be empty or start with '/'\n", stderr);
        return 2;
    }
    if (o->out && !(c->out = fopen(o->out, "w"))) {
        fprintf(stderr, "llmtap-sim calls: --out %s: %s\n", o->out, strerror(errno));
        return 1;
    }

    if (!(c->pl = planner_new(o))) {
        fputs("llmtap-sim calls: out of memory\n", stderr);
        return 1;
    }

    c->nslots = o->concurrency;
    if (!(c->slots = calloc(c->nslots, sizeof *c->slots)) || !(c->multi = curl_multi_init())) {
        fputs("llmtap-sim calls: out of memory\n", stderr);
        return 1;
    }
    for (unsigned i = 0; i < c->nslots; i++) {
        struct slot *k = &c->slots[i];
        if (!(k->h = curl_easy_init())) {
            fputs("llmtap-sim calls: libcurl initialisation failed\n", stderr);
            return 1;
        }
        curl_easy_setopt(k->h, CURLOPT_POST, 1L);
        curl_easy_setopt(k->h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(k->h, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(k->h, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(k->h, CURLOPT_TIMEOUT_MS, o->timeout_ms);
        curl_easy_setopt(k->h, CURLOPT_CONNECTTIMEOUT_MS,
                         o->timeout_ms < 5000 ? o->timeout_ms : 5000L);
        curl_easy_setopt(k->h, CURLOPT_USERAGENT, "llmtap-sim-calls/" LLMTAP_VERSION);
        curl_easy_setopt(k->h, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(k->h, CURLOPT_WRITEDATA, k);
        curl_easy_setopt(k->h, CURLOPT_ERRORBUFFER, k->errbuf);
        curl_easy_setopt(k->h, CURLOPT_PRIVATE, k);
    }
    return 0;
}

static void calls_cleanup(struct calls *c)
{
    for (unsigned i = 0; c->slots && i < c->nslots; i++) {
        struct slot *k = &c->slots[i];
        if (k->busy)
            curl_multi_remove_handle(c->multi, k->h);
        if (k->h)
            curl_easy_cleanup(k->h);
        curl_slist_free_all(k->hdrs);
        jbuf_free(&k->body);
        jbuf_free(&k->resp);
    }
    free(c->slots);
    if (c->multi)
        curl_multi_cleanup(c->multi);
    if (c->out)
        fclose(c->out);
    planner_free(c->pl);
    jbuf_free(&c->line);
    jbuf_free(&c->sse_data);
}

static struct slot *free_slot(struct calls *c)
{
    for (unsigned i = 0; i < c->nslots; i++)
        if (!c->slots[i].busy)
            return &c->slots[i];
    return NULL;
}

int calls_run(const struct calls_opts *o)
{
    struct calls c = {.o = o};
    int rc = 1;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("llmtap-sim calls: libcurl initialisation failed\n", stderr);
        return 1;
    }
    if ((rc = calls_setup(&c)) != 0)
        goto done;
    rc = 1;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND; /* a second signal takes the default action */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    bool unreachable = wait_connect(&c) != 0 && !calls_stop;
    double t_begin = c.t_begin = mono_now(), base = t_begin, stop_deadline = 0;
    double next_progress = t_begin + o->progress, win_start = t_begin;
    uint64_t paced = 0, win_sent = 0;
    bool starting = !unreachable && !calls_stop, stopping = false;

    while (!unreachable) {
        double now = mono_now();
        if (calls_stop && !stopping) {
            stopping = true;
            starting = false;
            stop_deadline = now + DRAIN_S;
        }
        if (starting && ((o->count && c.st.sent >= o->count) ||
                         (o->duration > 0 && now - t_begin >= o->duration)))
            starting = false;
        /* start what is due */
        double due = now;
        while (starting && c.inflight < c.nslots && (!o->count || c.st.sent < o->count)) {
            if (o->rate > 0) {
                due = base + (double)paced / o->rate;
                if (now - due > 1.0) { /* forget debt older than one second */
                    base += now - due - 1.0;
                    due = now - 1.0;
                }
                if (o->duration > 0 && due - t_begin >= o->duration) {
                    starting = false;
                    break;
                }
                if (due > now)
                    break;
            }
            if (start_call(&c, free_slot(&c)) != 0) {
                starting = false;
                break;
            }
            paced++;
            win_sent++;
        }
        if (!starting && c.inflight == 0)
            break;
        if (stopping && now >= stop_deadline) {
            cancel_all(&c);
            break;
        }

        int running;
        curl_multi_perform(c.multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(c.multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct slot *k = NULL;
            CURL *h = msg->easy_handle;
            CURLcode res = msg->data.result;
            curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&k);
            if (k)
                finish_call(&c, k, res);
        }

        now = mono_now();
        if (o->progress > 0 && now >= next_progress) {
            progress_line(&c, now - t_begin,
                          now > win_start ? (double)win_sent / (now - win_start) : 0.0);
            win_sent = 0;
            win_start = now;
            while (next_progress <= now)
                next_progress += o->progress;
        }
        double wake = now + 0.1;
        if (starting && c.inflight < c.nslots && o->rate > 0 && due > now && due < wake)
            wake = due;
        if (o->progress > 0 && next_progress < wake)
            wake = next_progress;
        if (stopping && stop_deadline < wake)
            wake = stop_deadline;
        if (starting && c.inflight < c.nslots && o->rate == 0)
            wake = now;
        int timeout_ms = wake > now ? (int)ceil((wake - now) * 1000) : 0;
        curl_multi_poll(c.multi, NULL, 0, timeout_ms, NULL);
    }

    double elapsed = mono_now() - t_begin;
    if (calls_stop)
        fputs("llmtap-sim calls: interrupted, stopping\n", stderr);
    const struct stats *s = &c.st;
    printf("sent=%llu 2xx=%llu 4xx=%llu 5xx=%llu other=%llu errors=%llu unexpected=%llu bad=%llu"
           " cancelled=%llu stream=%llu nonstream=%llu chat=%llu responses=%llu embeddings=%llu"
           " messages=%llu elapsed=%.2fs rate=%.1f/s lat_p50=%.2fms lat_p99=%.2fms\n",
           (unsigned long long)s->sent, (unsigned long long)s->s2xx, (unsigned long long)s->s4xx,
           (unsigned long long)s->s5xx, (unsigned long long)s->sother,
           (unsigned long long)s->errors, (unsigned long long)s->unexpected,
           (unsigned long long)s->bad, (unsigned long long)s->cancelled,
           (unsigned long long)s->stream, (unsigned long long)s->nonstream,
           (unsigned long long)s->kind[K_CHAT], (unsigned long long)s->kind[K_RESPONSES],
           (unsigned long long)s->kind[K_EMBEDDINGS], (unsigned long long)s->kind[K_MESSAGES],
           elapsed, elapsed > 0 ? (double)s->sent / elapsed : 0.0, lat_quantile_ms(s, 0.5),
           lat_quantile_ms(s, 0.99));
    fflush(stdout);
    rc = (s->errors || s->unexpected || s->bad) && !o->allow_errors ? 1 : 0;
    if (unreachable)
        rc = 1;
    if (c.out && (fflush(c.out) != 0 || ferror(c.out))) {
        fprintf(stderr, "llmtap-sim calls: writing --out %s failed\n", o->out);
        rc = 1;
    }
done:
    calls_cleanup(&c);
    curl_global_cleanup();
    return rc;
}
