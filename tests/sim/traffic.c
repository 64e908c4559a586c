/*
 * traffic.c — `llmtap-sim traffic`: paced event posting to an agent's
 * intake, with accounting of what the agent accepted.
 *
 * DESIGN: one thread, one libcurl easy handle reused for every request (so
 * the connection is kept alive), one body buffer reused for every batch.
 *
 * Pacing is a token bucket expressed as a schedule: the batch that starts
 * with the k-th event is due at base + k / rate on the monotonic clock, so
 * rounding never accumulates into drift. If the agent is slower than the
 * rate, at most one second of backlog is caught up in a burst; older debt is
 * forgotten (base moves forward) and the achieved rate is what the summary
 * reports. The run ends when the next batch would be due after the duration,
 * when the count is reached, or on SIGINT/SIGTERM (the handler only sets a
 * flag; SA_RESETHAND makes a second signal fatal). A request in flight when
 * the signal arrives is completed, so the summary and --out stay exact.
 *
 * Accounting: a 2xx response carries {"accepted":N,...}; the batch's other
 * events are "rejected" (so are all of them when a 4xx/5xx carries such a
 * body: the agent's "none accepted" answer). When the response lists rejected items by index
 * ("errors": [{"index": i, ...}]), the accepted events are known exactly and
 * are written to --out; when it does not and only part of the batch was
 * accepted, none of that batch is written (and a warning says so). Any other
 * status, or a transport failure, is an "error" and its events are lost.
 *
 * At start the agent may still be coming up: connection failures (and 503)
 * are retried with exponential backoff for connect_wait seconds before the
 * first response; after that every failure counts.
 */
#include "traffic.h"

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

#include "jbuf.h"

#ifndef LLMTAP_VERSION
#define LLMTAP_VERSION "dev"
#endif

static volatile sig_atomic_t traffic_stop;

static void on_signal(int sig)
{
    (void)sig;
    traffic_stop = 1;
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Sleep until the monotonic time `until`; returns early on a stop signal. */
static void sleep_until(double until)
{
    struct timespec ts;
    ts.tv_sec = (time_t)until;
    ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (!traffic_stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* Request latency histogram: bucket i covers [2^(i/8), 2^((i+1)/8)) µs. */
#define LAT_BUCKETS 256
struct latency_hist {
    uint64_t n[LAT_BUCKETS];
    uint64_t total;
};

static void lat_add(struct latency_hist *h, double seconds)
{
    double us = seconds * 1e6;
    int i = us < 1 ? 0 : (int)(log2(us) * 8);
    if (i >= LAT_BUCKETS)
        i = LAT_BUCKETS - 1;
    h->n[i]++;
    h->total++;
}

static double lat_quantile_ms(const struct latency_hist *h, double q)
{
    if (!h->total)
        return 0;
    uint64_t want = (uint64_t)ceil(q * (double)h->total), seen = 0;
    for (int i = 0; i < LAT_BUCKETS; i++) {
        seen += h->n[i];
        if (seen >= want && want > 0)
            return exp2((i + 0.5) / 8.0) / 1000.0; /* bucket midpoint (geometric) */
    }
    return 0;
}

struct stats {
    uint64_t sent, accepted, rejected, errors, requests;
    struct latency_hist lat;
};

struct span {
    size_t off, len;
};

struct traffic {
    const struct traffic_opts *o;
    CURL *curl;
    struct curl_slist *hdr_json, *hdr_ndjson;
    char url[1024];
    char errbuf[CURL_ERROR_SIZE];
    struct jbuf body, resp;
    struct span *spans;
    unsigned char *rejected_mask;
    FILE *out;
    struct gen *gen;
    struct stats st;
    unsigned warnings;
};

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
    struct jbuf *b = ud;
    if (b->len + size * n < (1u << 20)) /* keep at most 1 MiB of a response */
        jbuf_put(b, p, size * n);
    return size * n;
}

static void warn_limited(struct traffic *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void warn_limited(struct traffic *t, const char *fmt, ...)
{
    if (t->warnings++ < 10) {
        va_list ap;
        va_start(ap, fmt);
        fputs("llmtap-sim: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    } else if (t->warnings == 11) {
        fputs("llmtap-sim: (further warnings suppressed)\n", stderr);
    }
}

/*
 * Read an intake result ({"accepted":N,...}). Sets *accepted (clamped to n)
 * and t->rejected_mask[i] for the items it can identify as rejected.
 * Returns 1 if exactly which events were accepted is known, 0 if not, and -1
 * if the body is not an intake result at all (then *accepted = 0; a warning
 * is printed only when `expected`, i.e. for a 2xx).
 */
static int parse_response(struct traffic *t, int n, bool expected, int *accepted)
{
    memset(t->rejected_mask, 0, (size_t)n);
    *accepted = 0;
    const char *text = t->resp.data ? t->resp.data : "";
    cJSON *root = cJSON_ParseWithLength(text, t->resp.len);
    const cJSON *acc = root ? cJSON_GetObjectItemCaseSensitive(root, "accepted") : NULL;
    if (!cJSON_IsNumber(acc)) {
        if (expected)
            warn_limited(t, "intake response without \"accepted\": %.200s", text);
        cJSON_Delete(root);
        return -1;
    }
    *accepted = acc->valuedouble < 0 ? 0 : acc->valuedouble > n ? n : (int)acc->valuedouble;
    bool exact = *accepted == n;
    if (!exact) {
        /* Look for per-item results: an array of objects with an "index". */
        static const char *const keys[] = {"errors", "rejected", "rejected_items", "items"};
        int marked = 0;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0] && !marked; k++) {
            const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, keys[k]);
            const cJSON *it;
            if (!cJSON_IsArray(arr))
                continue;
            cJSON_ArrayForEach(it, arr)
            {
                const cJSON *idx = cJSON_GetObjectItemCaseSensitive(it, "index");
                if (!cJSON_IsNumber(idx) || idx->valuedouble < 0 || idx->valuedouble >= n)
                    continue;
                if (!t->rejected_mask[(int)idx->valuedouble])
                    marked++;
                t->rejected_mask[(int)idx->valuedouble] = 1;
                const char *why = NULL;
                static const char *const wk[] = {"error", "reason", "message"};
                for (size_t w = 0; w < 3 && !why; w++) {
                    const cJSON *s = cJSON_GetObjectItemCaseSensitive(it, wk[w]);
                    if (cJSON_IsString(s))
                        why = s->valuestring;
                }
                warn_limited(t, "agent rejected event %d of the batch: %s", (int)idx->valuedouble,
                             why ? why : "(no reason given)");
            }
        }
        exact = marked == n - *accepted;
        if (!exact)
            warn_limited(t,
                         "agent accepted %d of %d events without saying which; the batch is not "
                         "written to --out",
                         *accepted, n);
    }
    cJSON_Delete(root);
    return exact ? 1 : 0;
}

/* POST the current body. Returns the HTTP status, or -1 on transport error
 * (with the curl code in *cc). */
static long post(struct traffic *t, bool ndjson, CURLcode *cc)
{
    jbuf_reset(&t->resp);
    t->errbuf[0] = '\0';
    curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, ndjson ? t->hdr_ndjson : t->hdr_json);
    curl_easy_setopt(t->curl, CURLOPT_POSTFIELDS, t->body.data);
    curl_easy_setopt(t->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->body.len);
    double t0 = mono_now();
    *cc = curl_easy_perform(t->curl);
    t->st.requests++;
    if (*cc != CURLE_OK)
        return -1;
    lat_add(&t->st.lat, mono_now() - t0);
    long code = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

static void progress_line(const struct traffic *t, double elapsed, double window_rate)
{
    fprintf(stderr,
            "llmtap-sim: t=%.1fs sent=%llu accepted=%llu rejected=%llu errors=%llu rate=%.1f/s "
            "(now %.1f/s)\n",
            elapsed, (unsigned long long)t->st.sent, (unsigned long long)t->st.accepted,
            (unsigned long long)t->st.rejected, (unsigned long long)t->st.errors,
            elapsed > 0 ? (double)t->st.sent / elapsed : 0.0, window_rate);
}

static void maybe_progress(struct traffic *t, double *next, double *win_start, uint64_t *win_sent,
                           double t_begin)
{
    double now = mono_now();
    if (t->o->progress <= 0 || now < *next)
        return;
    progress_line(t, now - t_begin,
                  now > *win_start ? (double)*win_sent / (now - *win_start) : 0.0);
    *win_sent = 0;
    *win_start = now;
    while (*next <= now)
        *next += t->o->progress;
}

static void traffic_cleanup(struct traffic *t)
{
    if (t->curl)
        curl_easy_cleanup(t->curl);
    curl_slist_free_all(t->hdr_json);
    curl_slist_free_all(t->hdr_ndjson);
    jbuf_free(&t->body);
    jbuf_free(&t->resp);
    free(t->spans);
    free(t->rejected_mask);
    if (t->out)
        fclose(t->out);
    gen_destroy(t->gen);
}

int traffic_run(const struct traffic_opts *o)
{
    struct traffic t = {.o = o};
    int rc = 1;
    size_t tl = strlen(o->target);
    while (tl > 0 && o->target[tl - 1] == '/')
        tl--;
    if (snprintf(t.url, sizeof t.url, "%.*s/v1/events", (int)tl, o->target) >= (int)sizeof t.url) {
        fputs("llmtap-sim: --target too long\n", stderr);
        return 2;
    }
    if (gen_create(&o->gen, &t.gen) != 0) {
        perror("llmtap-sim: generator");
        return 2;
    }
    t.spans = calloc((size_t)o->batch, sizeof *t.spans);
    t.rejected_mask = calloc((size_t)o->batch, 1);
    if (!t.spans || !t.rejected_mask) {
        perror("llmtap-sim");
        goto fail;
    }
    if (o->out && !(t.out = fopen(o->out, "w"))) {
        fprintf(stderr, "llmtap-sim: --out %s: %s\n", o->out, strerror(errno));
        goto fail;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(t.curl = curl_easy_init())) {
        fputs("llmtap-sim: libcurl initialisation failed\n", stderr);
        goto fail;
    }
    t.hdr_json = curl_slist_append(NULL, "Content-Type: application/json");
    t.hdr_json = curl_slist_append(t.hdr_json, "Expect:");
    t.hdr_ndjson = curl_slist_append(NULL, "Content-Type: application/x-ndjson");
    t.hdr_ndjson = curl_slist_append(t.hdr_ndjson, "Expect:");
    curl_easy_setopt(t.curl, CURLOPT_URL, t.url);
    curl_easy_setopt(t.curl, CURLOPT_POST, 1L);
    curl_easy_setopt(t.curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t.curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(t.curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(t.curl, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(t.curl, CURLOPT_CONNECTTIMEOUT_MS,
                     o->timeout_ms < 3000 ? o->timeout_ms : 3000L);
    curl_easy_setopt(t.curl, CURLOPT_USERAGENT, "llmtap-sim/" LLMTAP_VERSION);
    curl_easy_setopt(t.curl, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(t.curl, CURLOPT_WRITEDATA, &t.resp);
    curl_easy_setopt(t.curl, CURLOPT_ERRORBUFFER, t.errbuf);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND; /* a second signal takes the default action */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    bool connected = false, unreachable = false;
    double t_begin = mono_now(); /* reset when the agent first answers */
    double base = t_begin;       /* pacing schedule origin */
    uint64_t paced = 0;          /* events scheduled since base */
    double next_progress = t_begin + o->progress, win_start = t_begin;
    uint64_t win_sent = 0;
    uint64_t batch_no = 0;

    while (!traffic_stop) {
        int n = o->batch;
        if (o->count) {
            if (t.st.sent >= o->count)
                break;
            if ((uint64_t)n > o->count - t.st.sent)
                n = (int)(o->count - t.st.sent);
        }
        double now = mono_now();
        if (connected && o->duration > 0 && now - t_begin >= o->duration)
            break;
        if (connected && o->rate > 0) {
            double due = base + (double)paced / o->rate;
            if (now - due > 1.0) { /* forget debt older than one second */
                base += now - due - 1.0;
                due = now - 1.0;
            }
            if (o->duration > 0 && due - t_begin >= o->duration) {
                sleep_until(t_begin + o->duration); /* the run lasts the full duration */
                break;
            }
            if (due > now) {
                sleep_until(o->progress > 0 && next_progress < due ? next_progress : due);
                if (traffic_stop)
                    break;
                if (mono_now() < due) { /* woke for a progress line */
                    maybe_progress(&t, &next_progress, &win_start, &win_sent, t_begin);
                    continue;
                }
            }
        }

        /* Build the body. */
        enum traffic_body mode = o->body;
        if (mode == TRAFFIC_BODY_AUTO)
            mode = o->batch == 1 ? TRAFFIC_BODY_OBJECT
                                 : (batch_no % 2 ? TRAFFIC_BODY_NDJSON : TRAFFIC_BODY_ARRAY);
        if (mode == TRAFFIC_BODY_OBJECT && n != 1)
            mode = TRAFFIC_BODY_ARRAY;
        batch_no++;
        jbuf_reset(&t.body);
        if (mode == TRAFFIC_BODY_ARRAY)
            jbuf_putc(&t.body, '[');
        int64_t wall = wall_us();
        for (int i = 0; i < n; i++) {
            if (i > 0 && mode == TRAFFIC_BODY_ARRAY)
                jbuf_putc(&t.body, ',');
            t.spans[i].off = t.body.len;
            t.spans[i].len = gen_event(t.gen, wall, &t.body);
            if (mode == TRAFFIC_BODY_NDJSON)
                jbuf_putc(&t.body, '\n');
        }
        if (mode == TRAFFIC_BODY_ARRAY)
            jbuf_putc(&t.body, ']');

        /* Send; before the agent first answers, retry connection failures. */
        CURLcode cc;
        long code;
        double backoff = 0.1, wait_start = mono_now();
        for (;;) {
            code = post(&t, mode == TRAFFIC_BODY_NDJSON, &cc);
            if (connected || (code >= 0 && code != 503))
                break;
            bool retryable =
                code == 503 || cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT;
            if (!retryable || traffic_stop || mono_now() - wait_start >= o->connect_wait) {
                if (!traffic_stop)
                    fprintf(stderr, "llmtap-sim: agent at %s not reachable%s: %s\n", t.url,
                            retryable ? " (gave up after --connect-wait)" : "",
                            code >= 0     ? "HTTP 503"
                            : t.errbuf[0] ? t.errbuf
                                          : curl_easy_strerror(cc));
                unreachable = true;
                break;
            }
            sleep_until(mono_now() + backoff);
            backoff = backoff * 2 > 1.0 ? 1.0 : backoff * 2;
        }
        if (unreachable)
            break;
        if (!connected) {
            connected = true;
            t_begin = base = mono_now();
            next_progress = t_begin + o->progress;
            win_start = t_begin;
        }
        paced += (uint64_t)n;
        t.st.sent += (uint64_t)n;
        win_sent += (uint64_t)n;

        /* A 2xx is an intake result; so is a 4xx/5xx whose body is one (the
         * agent answers 400, or 503 when its queue is full, when it accepted
         * none of the batch). Anything else is an HTTP error. */
        int accepted = 0, res = -1;
        bool ok = code >= 200 && code < 300;
        if (code >= 200)
            res = parse_response(&t, n, ok, &accepted);
        if (ok || res >= 0) {
            t.st.accepted += (uint64_t)accepted;
            t.st.rejected += (uint64_t)(n - accepted);
            if (!ok)
                warn_limited(&t, "intake answered HTTP %ld: %.200s", code,
                             t.resp.data ? t.resp.data : "");
            if (t.out && res == 1 && accepted > 0) {
                for (int i = 0; i < n; i++) {
                    if (t.rejected_mask[i])
                        continue;
                    fwrite(t.body.data + t.spans[i].off, 1, t.spans[i].len, t.out);
                    fputc('\n', t.out);
                }
                fflush(t.out);
            }
        } else {
            t.st.errors++;
            if (code < 0) {
                warn_limited(&t, "request failed: %s",
                             t.errbuf[0] ? t.errbuf : curl_easy_strerror(cc));
            } else {
                warn_limited(&t, "intake answered HTTP %ld: %.200s", code,
                             t.resp.data ? t.resp.data : "");
            }
        }

        maybe_progress(&t, &next_progress, &win_start, &win_sent, t_begin);
    }

    double elapsed = mono_now() - t_begin;
    if (traffic_stop)
        fputs("llmtap-sim: interrupted, stopping\n", stderr);
    printf("sent=%llu accepted=%llu rejected=%llu errors=%llu elapsed=%.2fs rate=%.1f/s"
           " requests=%llu req_p50=%.2fms req_p99=%.2fms\n",
           (unsigned long long)t.st.sent, (unsigned long long)t.st.accepted,
           (unsigned long long)t.st.rejected, (unsigned long long)t.st.errors, elapsed,
           elapsed > 0 ? (double)t.st.sent / elapsed : 0.0, (unsigned long long)t.st.requests,
           lat_quantile_ms(&t.st.lat, 0.5), lat_quantile_ms(&t.st.lat, 0.99));
    fflush(stdout);
    rc = (t.st.rejected || t.st.errors) && !o->allow_errors ? 1 : 0;
    if (unreachable)
        rc = 1;
    if (t.out && ferror(t.out)) {
        fprintf(stderr, "llmtap-sim: writing --out %s failed\n", o->out);
        rc = 1;
    }
fail:
    traffic_cleanup(&t);
    curl_global_cleanup();
    return rc;
}
