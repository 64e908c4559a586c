/*
 * upstream.c — `llmtap-sim upstream`: the HTTP server of the fake LLM
 * provider, its request ring, and the helpers the provider writers share.
 *
 * DESIGN
 * - Threads: libmicrohttpd in thread-per-connection mode. A connection's
 *   thread parses its requests, builds each response whole (the writers in
 *   upstream_openai.c / upstream_anthropic.c append to one buffer), sleeps
 *   the configured delays and feeds the body to MHD. Blocking in the access
 *   handler and in the content reader is what this mode allows, and it keeps
 *   the pacing code linear. Benchmark clients keep their connections open,
 *   so no thread is created per request. SIGINT/SIGTERM are blocked before
 *   MHD starts (its threads inherit the mask); the main thread sigwait()s.
 * - Ownership: one struct up_conn per TCP connection (MHD's socket
 *   context), created on connect and freed on close. It holds the request
 *   body buffer and the response being sent; both are reused by the next
 *   request on the connection, which MHD starts only after the response is
 *   done, so non-streamed bodies are handed to MHD without a copy.
 * - Streaming: an SSE body is built completely before the headers go out,
 *   with an index of event ends and the delay due before each event. The
 *   content reader hands MHD every event that is due, sleeping when the
 *   next one has a delay; with no delays (the benchmark default) the whole
 *   stream leaves in a few large writes.
 * - Sleeps (latency, TTFT, intervals, x-sim-hang) wait on one condition
 *   variable in slices of at most 100 ms: shutdown broadcasts it, and each
 *   slice checks whether the client has gone, so a stop is never held up
 *   and an abandoned hang frees its thread.
 * - Determinism: every response byte comes from hash(seed, path, body)
 *   through up_rng/up_id, never from the clock or from shared state; a JSON
 *   body is hashed without "stream" and "stream_options" (hash_request).
 *   The error-rate draw is the exception (a per-run sequence), documented.
 * - Request ring: the last UP_RING requests, each kept as the JSON object
 *   GET /sim/requests returns; a record is serialized outside the lock and
 *   swapped into its slot, so the lock is held for a pointer swap.
 */
#include "upstream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "text.h"
#include "utf8.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

enum {
    UP_RING = 256,             /* requests kept for /sim/requests */
    UP_REC_BODY_MAX = 1 << 20, /* body bytes kept per recorded request */
    UP_MAX_BODY = 32 << 20,    /* larger request bodies get a 413 */
    UP_SLICE_MS = 100,         /* longest uninterrupted sleep */
};

/* rng streams of a request (one per purpose, so adding draws to one purpose
 * never shifts another). */
enum { ST_CACHE = 2, ST_REASON = 3, ST_ERRID = 4 };

struct up_server {
    struct upstream_opts o;
    struct MHD_Daemon *d;
    pthread_mutex_t mu; /* guards stopping; cv wakes sleepers */
    pthread_cond_t cv;
    bool stopping;
    atomic_uint_fast64_t error_draws;
    pthread_mutex_t ring_mu;
    struct up_rec {
        uint64_t seq;
        struct jbuf json; /* the record's members after "seq", and the closing brace */
    } ring[UP_RING];
    uint64_t recorded; /* total ever recorded; the newest is ring[(recorded-1) % UP_RING] */
    uint64_t cleared;  /* `recorded` at the last DELETE /sim/requests */
};

/* Per-request controls from x-sim-* headers (-1 = not given). */
struct ctl {
    long status, delay_ms, ttft_ms, interval_ms, chunks, drop;
    bool hang;
};

struct up_conn {
    struct up_server *s;
    struct MHD_Connection *c;
    bool too_large;
    struct jbuf req;   /* request body */
    struct jbuf rec;   /* request record being built (swapped into the ring) */
    struct jbuf canon; /* the body as hashed (see hash_request) */
    struct up_resp resp;
    /* streaming state of the response in flight */
    size_t ev_i;   /* first event not wholly sent */
    size_t waited; /* 1 + index of the last event whose delay was served */
    long drop;     /* close after this many body bytes; -1 = no */
    bool hang;
};

/* ---- sleeping ------------------------------------------------------------ */

/* True when the client has closed its end of the connection. */
static bool peer_gone(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return false;
    char b;
    ssize_t n = recv(ci->connect_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* Sleep ms milliseconds (forever when ms < 0). Returns false when cut short
 * by shutdown or by the client going away. */
static bool up_wait(struct up_conn *cs, long ms)
{
    struct up_server *s = cs->s;
    struct timespec now, end;
    clock_gettime(CLOCK_MONOTONIC, &now);
    end = now;
    if (ms >= 0) {
        end.tv_sec += ms / 1000;
        end.tv_nsec += (ms % 1000) * 1000000L;
        if (end.tv_nsec >= 1000000000L) {
            end.tv_sec++;
            end.tv_nsec -= 1000000000L;
        }
    }
    bool ok = true;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (s->stopping) {
            ok = false;
            break;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t left_ns =
            ms < 0 ? INT64_MAX
                   : (int64_t)(end.tv_sec - now.tv_sec) * 1000000000 + (end.tv_nsec - now.tv_nsec);
        if (left_ns <= 0)
            break;
        int64_t slice =
            left_ns < (int64_t)UP_SLICE_MS * 1000000 ? left_ns : (int64_t)UP_SLICE_MS * 1000000;
        struct timespec until = now;
        until.tv_sec += slice / 1000000000;
        until.tv_nsec += slice % 1000000000;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cv, &s->mu, &until);
        if (!s->stopping && slice >= (int64_t)UP_SLICE_MS * 1000000 && peer_gone(cs->c)) {
            ok = false;
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

/* ---- determinism helpers ------------------------------------------------- */

static uint64_t up_hash(uint64_t seed, const char *path, const char *body, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *p = path; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    h = (h ^ 0xff) * 0x100000001b3ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)body[i]) * 0x100000001b3ULL;
    uint64_t x = h ^ (seed * 0x9e3779b97f4a7c15ULL);
    return rng_splitmix64(&x);
}

/*
 * The hash of a JSON request: of its body re-printed without the top-level
 * "stream" and "stream_options" members, so that the streamed and the
 * non-streamed form of a request (and one the proxy gave include_usage)
 * carry the same text, ids, tool calls and usage. The members are put back
 * (at the end: writers look them up by name).
 */
static uint64_t hash_request(uint64_t seed, const char *path, cJSON *json, size_t body_len,
                             struct jbuf *buf)
{
    cJSON *st = cJSON_DetachItemFromObjectCaseSensitive(json, "stream");
    cJSON *so = cJSON_DetachItemFromObjectCaseSensitive(json, "stream_options");
    uint64_t h;
    jbuf_reset(buf);
    size_t need = 2 * body_len + 64; /* re-printed JSON is rarely longer than the body */
    char *printed = NULL;
    for (;;) {
        jbuf_reserve(buf, need);
        if (cJSON_PrintPreallocated(json, buf->data, (int)buf->cap, false))
            break;
        if (buf->cap > (size_t)INT_MAX / 4) { /* absurdly large: let cJSON allocate */
            printed = cJSON_PrintUnformatted(json);
            break;
        }
        need = buf->cap * 2;
    }
    const char *text = printed ? printed : buf->data;
    h = up_hash(seed, path, text ? text : "", text ? strlen(text) : 0);
    cJSON_free(printed);
    if (st)
        cJSON_AddItemToObject(json, "stream", st);
    if (so)
        cJSON_AddItemToObject(json, "stream_options", so);
    return h;
}

struct rng up_rng(const struct up_req *q, uint64_t stream)
{
    struct rng r;
    rng_seed(&r, q->hash, stream);
    return r;
}

struct rng up_rng_for(const struct up_req *q, const char *s, size_t n)
{
    struct rng r;
    rng_seed(&r, up_hash(q->seed, "", s, n), 7);
    return r;
}

void up_fingerprint(const char *model, char out[16])
{
    uint64_t h = up_hash(0, model, "", 0);
    snprintf(out, 16, "fp_%010" PRIx64, (uint64_t)(h & 0xffffffffffULL));
}

void up_id(const struct up_req *q, uint64_t stream, const char *prefix, int n, bool hex, char *out,
           size_t outsz)
{
    static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    static const char b16[] = "0123456789abcdef";
    struct rng r = up_rng(q, 1000 + stream);
    size_t i = 0;
    for (; prefix[i] && i + 1 < outsz; i++)
        out[i] = prefix[i];
    for (int k = 0; k < n && i + 1 < outsz; k++)
        out[i++] = hex ? b16[rng_below(&r, 16)] : b62[rng_below(&r, 62)];
    out[i] = '\0';
}

int64_t up_created(const struct up_req *q)
{
    /* 2025-03-01 .. about 2026-06: fixed per request. */
    return 1740787200 + (int64_t)((q->hash >> 17) % 40000000);
}

const char *up_req_model(const struct up_req *q)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(q->json, "model");
    return cJSON_IsString(m) && m->valuestring[0] ? m->valuestring : NULL;
}

const char *up_resp_model(const char *model)
{
    static const char *const dated[][2] = {
        {"gpt-4o-mini", "gpt-4o-mini-2024-07-18"},
        {"gpt-4o", "gpt-4o-2024-08-06"},
        {"gpt-4.1", "gpt-4.1-2025-04-14"},
        {"gpt-4.1-mini", "gpt-4.1-mini-2025-04-14"},
        {"gpt-4.1-nano", "gpt-4.1-nano-2025-04-14"},
        {"o1", "o1-2024-12-17"},
        {"o3", "o3-2025-04-16"},
        {"o3-mini", "o3-mini-2025-01-31"},
        {"o4-mini", "o4-mini-2025-04-16"},
        {"gpt-5", "gpt-5-2025-08-07"},
        {"gpt-5-mini", "gpt-5-mini-2025-08-07"},
        {"gpt-5-nano", "gpt-5-nano-2025-08-07"},
        {"claude-sonnet-4-5", "claude-sonnet-4-5-20250929"},
        {"claude-haiku-4-5", "claude-haiku-4-5-20251001"},
        {"claude-opus-4-1", "claude-opus-4-1-20250805"},
        {"claude-sonnet-4-0", "claude-sonnet-4-20250514"},
        {"claude-3-5-haiku-latest", "claude-3-5-haiku-20241022"},
    };
    for (size_t i = 0; i < COUNT(dated); i++)
        if (strcmp(model, dated[i][0]) == 0)
            return dated[i][1];
    return model;
}

bool up_reasoning_model(const char *model)
{
    static const char *const fam[] = {"o1", "o3", "o4", "gpt-5"};
    for (size_t i = 0; i < COUNT(fam); i++) {
        size_t n = strlen(fam[i]);
        if (strncmp(model, fam[i], n) == 0 &&
            (model[n] == '\0' || model[n] == '-' || model[n] == '.'))
            return true;
    }
    return false;
}

long up_int(const cJSON *obj, const char *name, long dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e9)
        return dflt;
    return (long)v->valuedouble;
}

bool up_bool(const cJSON *obj, const char *name)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, name));
}

size_t up_tokens(const char *s, size_t n)
{
    return text_tokens(s, n);
}

size_t up_tokens_json(const cJSON *v)
{
    if (!v)
        return 0;
    if (cJSON_IsString(v))
        return text_tokens(v->valuestring, strlen(v->valuestring));
    if (cJSON_IsNumber(v) || cJSON_IsBool(v))
        return 1;
    size_t n = cJSON_IsObject(v) ? 3 : 0;
    for (const cJSON *c = v->child; c; c = c->next)
        n += up_tokens_json(c);
    return n;
}

size_t up_cached_tokens(const struct up_req *q, size_t prompt_tokens)
{
    if (prompt_tokens < 1024)
        return 0;
    struct rng r = up_rng(q, ST_CACHE);
    if (rng_chance(&r, 0.25))
        return 0; /* a cache miss */
    double f = 0.5 + 0.45 * rng_unit(&r);
    size_t c = (size_t)((double)prompt_tokens * f) / 128 * 128;
    return c < 1024 ? 1024 : c;
}

size_t up_reasoning_tokens(const struct up_req *q, size_t visible, size_t cap)
{
    struct rng r = up_rng(q, ST_REASON);
    size_t n = (visible * (size_t)rng_range(&r, 1, 6) + 63) / 64 * 64;
    if (n < 64)
        n = 64;
    if (cap && n > cap)
        n = cap;
    return n;
}

void up_answer(const struct up_req *q, uint64_t stream, size_t median, struct jbuf *out)
{
    struct rng r = up_rng(q, 100 + stream);
    enum text_domain d = (enum text_domain)rng_below(&r, TEXT_DOMAIN_COUNT);
    double t = rng_lognormal(&r, (double)median, 0.6);
    double lo = (double)median / 6, hi = (double)median * 8;
    if (t < lo)
        t = lo;
    if (t > hi)
        t = hi;
    if (t < 24)
        t = 24;
    text_answer(&r, d, (size_t)t, out);
}

static size_t utf8_back(const char *s, size_t cut)
{
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    return cut;
}

size_t up_cut_tokens(const char *s, size_t len, size_t max_tokens)
{
    if (text_tokens(s, len) <= max_tokens)
        return len;
    size_t lo = 0, hi = len; /* tokens(lo) <= max < tokens(hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (text_tokens(s, mid) <= max_tokens)
            lo = mid;
        else
            hi = mid;
    }
    return utf8_back(s, lo);
}

size_t up_next_piece(const struct up_req *q, const char *s, size_t len, size_t off)
{
    size_t piece = q->chunks ? (len + q->chunks - 1) / q->chunks : q->chunk_bytes;
    if (piece == 0)
        piece = 1;
    size_t end = off + piece;
    if (end >= len)
        return len;
    while (end < len && ((unsigned char)s[end] & 0xC0) == 0x80)
        end++;
    return end;
}

/* ---- tool arguments ------------------------------------------------------ */

static bool name_has(const char *name, const char *word)
{
    return name && strstr(name, word) != NULL;
}

static void tool_value(struct rng *r, const char *name, const cJSON *schema, struct jw *w,
                       const char *key, int depth);

static void tool_object(struct rng *r, const cJSON *schema, struct jw *w, const char *key,
                        int depth)
{
    jw_obj(w, key);
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
    int n = 0;
    for (const cJSON *p = cJSON_IsObject(props) ? props->child : NULL; p && n < 8; p = p->next, n++)
        if (p->string)
            tool_value(r, p->string, p, w, p->string, depth + 1);
    jw_end_obj(w);
}

static void tool_string(struct rng *r, const char *name, struct jbuf *b)
{
    static const char *const cities[] = {"San Francisco, CA", "Lisbon",  "Tokyo",   "Berlin",
                                         "São Paulo",         "Toronto", "Nairobi", "Singapore"};
    static const char *const units[] = {"celsius", "fahrenheit"};
    if (name_has(name, "date") || name_has(name, "day"))
        jbuf_printf(b, "2026-%02d-%02d", (int)rng_range(r, 1, 12), (int)rng_range(r, 1, 28));
    else if (name_has(name, "email"))
        jbuf_puts(b, "priya.shah@example.com");
    else if (name_has(name, "city") || name_has(name, "location") || name_has(name, "place"))
        jbuf_puts(b, cities[rng_below(r, COUNT(cities))]);
    else if (name_has(name, "unit"))
        jbuf_puts(b, units[rng_below(r, COUNT(units))]);
    else if (name_has(name, "lang"))
        jbuf_puts(b, rng_chance(r, 0.5) ? "en" : "de");
    else if (name_has(name, "query") || name_has(name, "question") || name_has(name, "text") ||
             name_has(name, "search") || name_has(name, "prompt") || name_has(name, "message")) {
        enum text_domain d = (enum text_domain)rng_below(r, TEXT_DOMAIN_COUNT);
        text_question(r, d, 0, b);
    } else if (name_has(name, "id"))
        jbuf_printf(b, "%c%c-%06d", 'A' + (int)rng_below(r, 26), 'A' + (int)rng_below(r, 26),
                    (int)rng_range(r, 1000, 999999));
    else
        text_slot(r, (enum text_domain)rng_below(r, TEXT_DOMAIN_COUNT),
                  rng_chance(r, 0.5) ? "tenant" : "team", b);
}

static void tool_value(struct rng *r, const char *name, const cJSON *schema, struct jw *w,
                       const char *key, int depth)
{
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(schema, "enum");
    if (cJSON_IsArray(en) && cJSON_GetArraySize(en) > 0) {
        const cJSON *v =
            cJSON_GetArrayItem(en, (int)rng_below(r, (uint64_t)cJSON_GetArraySize(en)));
        up_cjson(w, key, v);
        return;
    }
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(schema, "type");
    if (cJSON_IsArray(ty)) /* ["string", "null"] */
        ty = ty->child;
    const char *t = cJSON_IsString(ty) ? ty->valuestring : "string";
    if (strcmp(t, "integer") == 0 || strcmp(t, "number") == 0) {
        const cJSON *mn = cJSON_GetObjectItemCaseSensitive(schema, "minimum");
        const cJSON *mx = cJSON_GetObjectItemCaseSensitive(schema, "maximum");
        double lo = cJSON_IsNumber(mn) ? mn->valuedouble : 1,
               hi = cJSON_IsNumber(mx) ? mx->valuedouble : lo + 99;
        if (hi < lo)
            hi = lo;
        if (t[0] == 'i')
            jw_int(w, key, (int64_t)lo + (int64_t)rng_below(r, (uint64_t)(hi - lo) + 1));
        else
            jw_num(w, key, lo + (hi - lo) * rng_unit(r), 2);
    } else if (strcmp(t, "boolean") == 0) {
        jw_bool(w, key, rng_chance(r, 0.5));
    } else if (strcmp(t, "array") == 0) {
        jw_arr(w, key);
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(schema, "items");
        int n = depth < 3 ? (int)rng_range(r, 1, 2) : 0;
        for (int i = 0; i < n; i++)
            tool_value(r, name, items, w, NULL, depth + 1);
        jw_end_arr(w);
    } else if (strcmp(t, "object") == 0) {
        if (depth < 3)
            tool_object(r, schema, w, key, depth);
        else {
            jw_obj(w, key);
            jw_end_obj(w);
        }
    } else if (strcmp(t, "null") == 0) {
        jw_null(w, key);
    } else {
        struct jbuf tmp = {0};
        tool_string(r, name, &tmp);
        jw_strn(w, key, tmp.data ? tmp.data : "", tmp.len);
        jbuf_free(&tmp);
    }
}

void up_tool_args(const struct up_req *q, uint64_t stream, const cJSON *schema, struct jbuf *out)
{
    struct rng r = up_rng(q, 200 + stream);
    struct jw w;
    jw_init(&w, out);
    tool_object(&r, schema, &w, NULL, 0);
}

/* ---- response building --------------------------------------------------- */

void up_json_begin(struct up_resp *r, int status)
{
    r->status = status;
    r->content_type = "application/json";
    r->sse = false;
    r->nev = 0;
    jbuf_reset(&r->body);
}

void up_sse_begin(struct up_resp *r)
{
    up_json_begin(r, 200);
    r->content_type = "text/event-stream; charset=utf-8";
    r->sse = true;
}

void up_ev_begin(struct up_resp *r, const char *name)
{
    if (name) {
        jbuf_puts(&r->body, "event: ");
        jbuf_puts(&r->body, name);
        jbuf_putc(&r->body, '\n');
    }
    jbuf_puts(&r->body, "data: ");
}

void up_ev_end(struct up_resp *r, enum up_ev_kind kind)
{
    jbuf_puts(&r->body, "\n\n");
    if (r->nev == r->evcap) {
        size_t cap = r->evcap ? r->evcap * 2 : 64;
        struct up_ev *p = realloc(r->ev, cap * sizeof *p);
        if (!p) {
            fputs("llmtap-sim: out of memory\n", stderr);
            abort();
        }
        r->ev = p;
        r->evcap = cap;
    }
    r->ev[r->nev++] = (struct up_ev){.end = r->body.len, .delay_ms = 0, .kind = kind};
}

void up_raw(struct jw *w, const char *key, const char *json, size_t len)
{
    jw_raw_begin(w, key);
    jbuf_put(w->b, json, len);
}

void up_cjson(struct jw *w, const char *key, const cJSON *v)
{
    if (!v) {
        jw_null(w, key);
        return;
    }
    char *s = cJSON_PrintUnformatted(v);
    if (!s) {
        jw_null(w, key);
        return;
    }
    up_raw(w, key, s, strlen(s));
    cJSON_free(s);
}

/* A JSON string of arbitrary bytes: invalid UTF-8 becomes U+FFFD. */
static void json_str_lossy(struct jbuf *b, const char *s, size_t n)
{
    size_t i = 0, run = 0;
    bool clean = true;
    while (i < n) {
        size_t k = utf8_seq((const unsigned char *)s + i, n - i);
        if (k == 0) {
            clean = false;
            break;
        }
        i += k;
    }
    if (clean) {
        jbuf_json_str(b, s, n);
        return;
    }
    struct jbuf tmp = {0};
    for (i = 0; i < n;) {
        size_t k = utf8_seq((const unsigned char *)s + i, n - i);
        if (k == 0) {
            jbuf_put(&tmp, s + run, i - run);
            jbuf_puts(&tmp, "\xEF\xBF\xBD");
            i++;
            run = i;
        } else {
            i += k;
        }
    }
    jbuf_put(&tmp, s + run, n - run);
    jbuf_json_str(b, tmp.data, tmp.len);
    jbuf_free(&tmp);
}

/* ---- errors in each provider's shape --------------------------------------- */

void up_openai_error(struct up_resp *r, int status, const char *type, const char *code,
                     const char *param, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    utf8_trim_tail(msg);
    up_json_begin(r, status);
    struct jw w;
    jw_init(&w, &r->body);
    jw_obj(&w, NULL);
    jw_obj(&w, "error");
    jw_str(&w, "message", msg);
    jw_str(&w, "type", type ? type : "invalid_request_error");
    if (param)
        jw_str(&w, "param", param);
    else
        jw_null(&w, "param");
    if (code)
        jw_str(&w, "code", code);
    else
        jw_null(&w, "code");
    jw_end_obj(&w);
    jw_end_obj(&w);
    jbuf_putc(&r->body, '\n');
}

void up_anthropic_error(struct up_resp *r, int status, const char *type, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    utf8_trim_tail(msg);
    up_json_begin(r, status);
    struct jw w;
    jw_init(&w, &r->body);
    jw_obj(&w, NULL);
    jw_str(&w, "type", "error");
    jw_obj(&w, "error");
    jw_str(&w, "type", type);
    jw_str(&w, "message", msg);
    jw_end_obj(&w);
    jw_str(&w, "request_id", r->id_value);
    jw_end_obj(&w);
}

/* An error for a status, with the wording and type each provider uses for it. */
static void status_error(struct up_resp *r, bool anthropic, int status)
{
    const char *ot = "invalid_request_error", *oc = NULL, *at = "invalid_request_error", *msg;
    switch (status) {
    case 400: msg = "Invalid request (simulated)."; break;
    case 401:
        msg = "Invalid API key (simulated).";
        oc = "invalid_api_key";
        at = "authentication_error";
        break;
    case 403:
        msg = "This key is not allowed to use this resource (simulated).";
        at = "permission_error";
        break;
    case 404:
        msg = "The resource was not found (simulated).";
        at = "not_found_error";
        break;
    case 413:
        msg = "Request is too large (simulated).";
        at = "request_too_large";
        break;
    case 429:
        msg = "Rate limit reached for requests (simulated). Please try again later.";
        ot = "requests";
        oc = "rate_limit_exceeded";
        at = "rate_limit_error";
        break;
    case 503:
    case 529:
        msg = anthropic ? "Overloaded"
                        : "The server is currently overloaded, please try again later.";
        ot = "server_error";
        at = "overloaded_error";
        break;
    default:
        if (status >= 500) {
            msg = "The server had an error while processing your request (simulated).";
            ot = "server_error";
            at = "api_error";
        } else {
            msg = "The request was rejected (simulated).";
        }
    }
    if (anthropic)
        up_anthropic_error(r, status, at, "%s", msg);
    else
        up_openai_error(r, status, ot, oc, NULL, "%s", msg);
}

/* ---- routing ------------------------------------------------------------- */

typedef void (*up_writer)(const struct up_req *q, struct up_resp *r);

/* The provider table: one row per endpoint. */
static const struct route {
    const char *method, *path;
    bool anthropic;
    up_writer fn;
} routes[] = {
    {"POST", "/v1/chat/completions", false, up_openai_chat},
    {"POST", "/v1/completions", false, up_openai_completions},
    {"POST", "/v1/embeddings", false, up_openai_embeddings},
    {"POST", "/v1/responses", false, up_openai_responses},
    {"GET", "/v1/models", false, up_openai_models},
    {"POST", "/v1/messages", true, up_anthropic_messages},
};

static const struct route *route_for(const char *method, const char *path)
{
    for (size_t i = 0; i < COUNT(routes); i++)
        if (strcmp(routes[i].path, path) == 0 && strcmp(routes[i].method, method) == 0)
            return &routes[i];
    return NULL;
}

static const char *hdr(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static long hdr_long(struct MHD_Connection *c, const char *name, long lo, long hi)
{
    const char *v = hdr(c, name);
    if (!v)
        return -1;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || x < lo || x > hi)
        return -1;
    return x;
}

static void read_controls(struct MHD_Connection *c, struct ctl *k)
{
    k->status = hdr_long(c, "x-sim-status", 100, 599);
    k->delay_ms = hdr_long(c, "x-sim-delay-ms", 0, 86400000);
    k->ttft_ms = hdr_long(c, "x-sim-ttft-ms", 0, 86400000);
    k->interval_ms = hdr_long(c, "x-sim-chunk-interval-ms", 0, 86400000);
    k->chunks = hdr_long(c, "x-sim-chunks", 1, 1000000);
    k->drop = hdr_long(c, "x-sim-drop", 0, LONG_MAX);
    const char *h = hdr(c, "x-sim-hang");
    k->hang = h && strcmp(h, "0") != 0 && strcmp(h, "false") != 0;
}

/* The error-rate draw: 0, or the status to inject. */
static int inject_error(struct up_server *s)
{
    if (s->o.error_rate <= 0)
        return 0;
    uint64_t x = s->o.seed ^ (atomic_fetch_add(&s->error_draws, 1) * 0x9e3779b97f4a7c15ULL);
    uint64_t a = rng_splitmix64(&x), b = rng_splitmix64(&x);
    if ((double)(a >> 11) * 0x1.0p-53 >= s->o.error_rate)
        return 0;
    static const int st[] = {429, 429, 500, 503};
    return st[b % COUNT(st)];
}

/* ---- request ring ------------------------------------------------------- */

struct rec_ctx {
    struct jw *w;
    bool lower;
};

static enum MHD_Result rec_pair(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    struct rec_ctx *rc = cls;
    char name[256];
    size_t n = strlen(key);
    if (n >= sizeof name)
        n = sizeof name - 1;
    for (size_t i = 0; i < n; i++)
        name[i] = rc->lower && key[i] >= 'A' && key[i] <= 'Z' ? (char)(key[i] - 'A' + 'a') : key[i];
    name[n] = '\0';
    jw_raw_begin(rc->w, NULL);
    json_str_lossy(rc->w->b, name, n);
    jbuf_putc(rc->w->b, ':');
    if (value)
        json_str_lossy(rc->w->b, value, strlen(value));
    else
        jbuf_puts(rc->w->b, "null");
    return MHD_YES;
}

/* Serialize the request (everything but "seq", which ring_dump adds) into
 * cs->rec, then swap it into the next ring slot. */
static void record(struct up_server *s, struct up_conn *cs, const char *method, const char *url)
{
    struct jbuf *b = &cs->rec;
    jbuf_reset(b);
    struct jw w;
    jw_init(&w, b);
    /* members at the top level, without the braces: ring_dump() writes
     * '{"seq":N,' before them */
    jw_str(&w, "method", method);
    jw_raw_begin(&w, "path");
    json_str_lossy(b, url, strlen(url));
    struct rec_ctx rc = {.w = &w, .lower = false};
    jw_obj(&w, "query");
    MHD_get_connection_values(cs->c, MHD_GET_ARGUMENT_KIND, rec_pair, &rc);
    jw_end_obj(&w);
    rc.lower = true;
    jw_obj(&w, "headers");
    MHD_get_connection_values(cs->c, MHD_HEADER_KIND, rec_pair, &rc);
    jw_end_obj(&w);
    const char *body = cs->req.data ? cs->req.data : "";
    size_t keep = cs->too_large ? 0 : cs->req.len;
    if (keep > UP_REC_BODY_MAX)
        keep = utf8_back(body, UP_REC_BODY_MAX);
    jw_raw_begin(&w, "body");
    json_str_lossy(b, body, keep);
    jw_int(&w, "body_bytes", cs->too_large ? -1 : (int64_t)cs->req.len);
    jw_bool(&w, "body_truncated", cs->too_large || keep < cs->req.len);
    jbuf_putc(b, '}');

    pthread_mutex_lock(&s->ring_mu);
    struct up_rec *slot = &s->ring[s->recorded % UP_RING];
    slot->seq = ++s->recorded;
    struct jbuf tmp = slot->json;
    slot->json = *b;
    *b = tmp;
    pthread_mutex_unlock(&s->ring_mu);
}

/* The last n records (all kept when n < 0), oldest first, as a JSON array. */
static void ring_dump(struct up_server *s, long n, struct jbuf *out)
{
    pthread_mutex_lock(&s->ring_mu);
    uint64_t have = s->recorded - s->cleared;
    if (have > UP_RING)
        have = UP_RING;
    if (n < 0 || (uint64_t)n > have)
        n = (long)have;
    jbuf_putc(out, '[');
    for (uint64_t k = s->recorded - (uint64_t)n; k < s->recorded; k++) {
        const struct up_rec *slot = &s->ring[k % UP_RING];
        jbuf_printf(out, "%s{\"seq\":%" PRIu64 ",", k > s->recorded - (uint64_t)n ? "," : "",
                    slot->seq);
        jbuf_put(out, slot->json.data, slot->json.len);
    }
    jbuf_puts(out, "]\n");
    pthread_mutex_unlock(&s->ring_mu);
}

/* Forget the records (sequence numbers keep counting). Returns how many. */
static uint64_t ring_clear(struct up_server *s)
{
    pthread_mutex_lock(&s->ring_mu);
    uint64_t have = s->recorded - s->cleared;
    if (have > UP_RING)
        have = UP_RING;
    s->cleared = s->recorded;
    pthread_mutex_unlock(&s->ring_mu);
    return have;
}

/* ---- serving -------------------------------------------------------------- */

static ssize_t body_reader(void *cls, uint64_t pos64, char *buf, size_t max)
{
    struct up_conn *cs = cls;
    struct up_resp *r = &cs->resp;
    if (cs->hang) {
        up_wait(cs, -1);
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t pos = (size_t)pos64, limit = r->body.len;
    if (cs->drop >= 0 && (size_t)cs->drop < limit)
        limit = (size_t)cs->drop;
    if (pos >= limit)
        return limit < r->body.len ? MHD_CONTENT_READER_END_WITH_ERROR
                                   : MHD_CONTENT_READER_END_OF_STREAM;
    size_t end = limit;
    if (r->nev) {
        while (cs->ev_i < r->nev && r->ev[cs->ev_i].end <= pos)
            cs->ev_i++;
        size_t i = cs->ev_i;
        if (i < r->nev) {
            size_t start = i ? r->ev[i - 1].end : 0;
            if (pos == start && r->ev[i].delay_ms && cs->waited != i + 1) {
                cs->waited = i + 1;
                if (!up_wait(cs, r->ev[i].delay_ms))
                    return MHD_CONTENT_READER_END_WITH_ERROR;
            }
            size_t j = i;
            while (j + 1 < r->nev && r->ev[j + 1].delay_ms == 0)
                j++;
            if (r->ev[j].end < end)
                end = r->ev[j].end;
        }
    }
    size_t n = end - pos < max ? end - pos : max;
    memcpy(buf, r->body.data + pos, n);
    return (ssize_t)n;
}

static enum MHD_Result send_resp(struct up_conn *cs, struct up_resp *r, bool streamed_body)
{
    struct MHD_Response *mr;
    if (!streamed_body) {
        mr = MHD_create_response_from_buffer(r->body.len, r->body.data ? r->body.data : (char *)"",
                                             MHD_RESPMEM_PERSISTENT);
    } else {
        cs->ev_i = 0;
        cs->waited = 0;
        mr = MHD_create_response_from_callback(r->sse ? MHD_SIZE_UNKNOWN : (uint64_t)r->body.len,
                                               64 * 1024, body_reader, cs, NULL);
    }
    if (!mr)
        return MHD_NO;
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    if (r->id_header)
        MHD_add_response_header(mr, r->id_header, r->id_value);
    if (r->sse)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    enum MHD_Result ret = MHD_queue_response(cs->c, (unsigned)r->status, mr);
    MHD_destroy_response(mr);
    return ret;
}

static enum MHD_Result sim_endpoint(struct up_server *s, struct up_conn *cs, const char *method,
                                    const char *url)
{
    struct up_resp *r = &cs->resp;
    r->id_header = NULL;
    up_json_begin(r, 200);
    if (strcmp(url, "/sim/requests") == 0 && strcmp(method, "GET") == 0) {
        const char *nv = MHD_lookup_connection_value(cs->c, MHD_GET_ARGUMENT_KIND, "n");
        long n = nv ? strtol(nv, NULL, 10) : -1;
        ring_dump(s, n, &r->body);
    } else if (strcmp(url, "/sim/requests") == 0 && strcmp(method, "DELETE") == 0) {
        jbuf_printf(&r->body, "{\"cleared\":%" PRIu64 "}\n", ring_clear(s));
    } else if (strcmp(url, "/sim/healthz") == 0) {
        r->content_type = "text/plain";
        jbuf_puts(&r->body, "ok\n");
    } else {
        r->status = 404;
        jbuf_puts(&r->body, "{\"error\":\"unknown /sim/ endpoint\"}\n");
    }
    return send_resp(cs, r, false);
}

static enum MHD_Result handle(struct up_server *s, struct up_conn *cs, const char *url,
                              const char *method)
{
    struct MHD_Connection *c = cs->c;
    if (strncmp(url, "/sim/", 5) == 0)
        return sim_endpoint(s, cs, method, url);
    record(s, cs, method, url);

    struct ctl k;
    read_controls(c, &k);
    const struct route *rt = route_for(method, url);
    bool anthropic =
        rt ? rt->anthropic : (strncmp(url, "/v1/messages", 12) == 0 || hdr(c, "anthropic-version"));
    up_writer fn = rt ? rt->fn : NULL;
    if (fn == up_openai_models && hdr(c, "anthropic-version")) {
        anthropic = true;
        fn = up_anthropic_models;
    }
    struct up_req q = {
        .path = url,
        .body = cs->req.data ? cs->req.data : "",
        .len = cs->req.len,
        .chunks = k.chunks > 0 ? (unsigned)k.chunks : s->o.chunks,
        .chunk_bytes = s->o.chunk_bytes ? s->o.chunk_bytes : 1,
        .seed = s->o.seed,
    };
    cJSON *json = NULL;
    if (fn && strcmp(method, "POST") == 0 && !cs->too_large)
        json = cJSON_ParseWithLength(q.body, q.len);
    q.hash = cJSON_IsObject(json) ? hash_request(s->o.seed, url, json, q.len, &cs->canon)
                                  : up_hash(s->o.seed, url, q.body, q.len);

    struct up_resp *r = &cs->resp;
    if (anthropic) {
        r->id_header = "request-id";
        up_id(&q, ST_ERRID, "req_", 24, false, r->id_value, sizeof r->id_value);
    } else {
        r->id_header = "x-request-id";
        up_id(&q, ST_ERRID, "req_", 32, true, r->id_value, sizeof r->id_value);
    }

    int injected;
    if (!fn) {
        if (anthropic)
            up_anthropic_error(r, 404, "not_found_error", "Not found: %s %s", method, url);
        else
            up_openai_error(r, 404, "invalid_request_error", NULL, NULL, "Invalid URL (%s %s)",
                            method, url);
    } else if (k.status >= 400) {
        status_error(r, anthropic, (int)k.status);
    } else if (!hdr(c, "authorization") && !hdr(c, "x-api-key")) {
        if (anthropic)
            up_anthropic_error(r, 401, "authentication_error", "x-api-key header is required");
        else
            up_openai_error(r, 401, "invalid_request_error", NULL, NULL,
                            "You didn't provide an API key. Send it in an Authorization header "
                            "(Authorization: Bearer YOUR_KEY).");
    } else if (anthropic && fn == up_anthropic_messages && !hdr(c, "anthropic-version")) {
        up_anthropic_error(r, 400, "invalid_request_error",
                           "anthropic-version: header is required");
    } else if ((injected = inject_error(s)) != 0) {
        status_error(r, anthropic, injected);
    } else if (cs->too_large) {
        if (anthropic)
            up_anthropic_error(r, 413, "request_too_large",
                               "Request exceeds the maximum allowed number of bytes.");
        else
            up_openai_error(r, 413, "invalid_request_error", NULL, NULL, "Request body too large.");
    } else if (strcmp(method, "POST") == 0) {
        if (!cJSON_IsObject(json)) {
            if (anthropic)
                up_anthropic_error(r, 400, "invalid_request_error",
                                   "The request body is not valid JSON.");
            else
                up_openai_error(
                    r, 400, "invalid_request_error", NULL, NULL,
                    "We could not parse the JSON body of your request. The API expects a JSON "
                    "payload.");
        } else {
            q.json = json;
            fn(&q, r);
        }
    } else {
        static const cJSON empty = {0};
        q.json = &empty;
        fn(&q, r);
    }
    cJSON_Delete(json);

    /* Pacing of the events. */
    long ttft = k.ttft_ms >= 0 ? k.ttft_ms : (long)s->o.ttft_ms;
    long gap = k.interval_ms >= 0 ? k.interval_ms : (long)s->o.chunk_interval_ms;
    bool first = true;
    for (size_t i = 0; i < r->nev; i++) {
        if (r->ev[i].kind != UP_EV_CONTENT)
            continue;
        r->ev[i].delay_ms = (unsigned)(first ? ttft : gap);
        first = false;
    }
    long pre = (long)s->o.latency_ms + (k.delay_ms > 0 ? k.delay_ms : 0);
    if (pre > 0 && !up_wait(cs, pre))
        return MHD_NO;
    cs->drop = k.drop;
    cs->hang = k.hang;
    return send_resp(cs, r, r->sse || k.hang || k.drop >= 0);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    struct up_server *s = cls;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct up_conn *cs = ci ? ci->socket_context : NULL;
    if (!cs)
        return MHD_NO;
    if (*con_cls == NULL) { /* headers are in; the body (if any) follows */
        *con_cls = cs;
        cs->c = c;
        cs->too_large = false;
        jbuf_reset(&cs->req);
        const char *cl = hdr(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > UP_MAX_BODY)
            cs->too_large = true;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!cs->too_large && cs->req.len + *upload_size > UP_MAX_BODY) {
            cs->too_large = true;
            jbuf_reset(&cs->req);
        }
        if (!cs->too_large)
            jbuf_put(&cs->req, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    return handle(s, cs, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    *con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct up_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        struct up_conn *cs = calloc(1, sizeof *cs);
        if (cs) {
            cs->s = s;
            cs->c = c;
            cs->drop = -1;
        }
        *socket_context = cs;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct up_conn *cs = *socket_context;
        if (cs) {
            jbuf_free(&cs->req);
            jbuf_free(&cs->rec);
            jbuf_free(&cs->canon);
            jbuf_free(&cs->resp.body);
            jbuf_free(&cs->resp.scratch);
            jbuf_free(&cs->resp.scratch2);
            free(cs->resp.ev);
            free(cs);
        }
        *socket_context = NULL;
    }
}

/* ---- startup and shutdown -------------------------------------------------- */

/* MHD's error log, minus the notices that x-sim-drop, x-sim-hang, clients
 * leaving during a delay and shutdown cause on purpose. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (strstr(msg, "application reported error") || strstr(msg, "application error generating") ||
        strstr(msg, "Application reported internal error") ||
        strstr(msg, "no longer available")) /* the client left mid-body */
        return;
    fprintf(stderr, "llmtap-sim upstream: mhd: %s%s", msg,
            msg[0] && msg[strlen(msg) - 1] == '\n' ? "" : "\n");
}

/* "HOST:PORT", "[V6]:PORT" or ":PORT"; fills the address and the host as
 * it should be printed. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, bool *v6, char *host,
                        size_t hostsz)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || !colon[1])
        return -1;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return -1;
    size_t hl = (size_t)(colon - listen);
    if (hl + 1 > hostsz)
        return -1;
    memcpy(host, listen, hl);
    host[hl] = '\0';
    memset(ss, 0, sizeof *ss);
    if (host[0] == '[') {
        if (hl < 3 || host[hl - 1] != ']')
            return -1;
        char a6[64];
        if (hl - 2 >= sizeof a6)
            return -1;
        memcpy(a6, host + 1, hl - 2);
        a6[hl - 2] = '\0';
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, a6, &a->sin6_addr) != 1)
            return -1;
        *v6 = true;
        return 0;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    *v6 = false;
    if (host[0] == '\0') {
        a->sin_addr.s_addr = htonl(INADDR_ANY);
        snprintf(host, hostsz, "0.0.0.0");
    } else if (strcmp(host, "localhost") == 0) {
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
        return -1;
    }
    return 0;
}

static int write_port_file(const char *path, unsigned port)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -1;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

int upstream_run(const struct upstream_opts *o)
{
    struct sockaddr_storage ss;
    bool v6;
    char host[256];
    if (parse_listen(o->listen, &ss, &v6, host, sizeof host) != 0) {
        fprintf(stderr, "llmtap-sim upstream: --listen: '%s' is not HOST:PORT\n", o->listen);
        return 2;
    }
    struct up_server *s = calloc(1, sizeof *s);
    if (!s) {
        perror("llmtap-sim upstream");
        return 1;
    }
    s->o = *o;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->ring_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);

    /* Every thread MHD starts inherits this mask; only sigwait() below
     * takes the signals. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    int rc = 0;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_AUTO | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    s->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_access, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)(o->max_conns ? o->max_conns : 512), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(128 * 1024), MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)600,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        s, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
    if (!s->d) {
        fprintf(stderr,
                "llmtap-sim upstream: cannot listen on %s (address in use or not available)\n",
                o->listen);
        rc = 1;
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = di ? di->port : 0;
    if (o->port_file && write_port_file(o->port_file, port) != 0) {
        fprintf(stderr, "llmtap-sim upstream: cannot write --port-file %s: %s\n", o->port_file,
                strerror(errno));
        rc = 1;
        goto fail;
    }
    printf("upstream: %s:%u\n", host, port);
    fflush(stdout);
    fprintf(stderr,
            "llmtap-sim upstream: listening on %s:%u seed=%" PRIu64
            " latency=%ums ttft=%ums chunks=%u "
            "chunk-bytes=%u chunk-interval=%ums error-rate=%g\n",
            host, port, o->seed, o->latency_ms, o->ttft_ms, o->chunks, o->chunk_bytes,
            o->chunk_interval_ms, o->error_rate);

    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    /* A second signal kills. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    pthread_mutex_lock(&s->ring_mu);
    uint64_t served = s->recorded;
    pthread_mutex_unlock(&s->ring_mu);
    fprintf(stderr, "llmtap-sim upstream: %s, stopping (%" PRIu64 " API requests served)\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM", served);

fail:
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (s->d)
        MHD_stop_daemon(s->d);
    for (size_t i = 0; i < UP_RING; i++)
        jbuf_free(&s->ring[i].json);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->ring_mu);
    free(s);
    return rc;
}
