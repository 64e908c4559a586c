/*
 * main.c — llmtap-sim: traffic generator for the demo, the integration
 * tests and the ingest benchmark.
 *
 *   llmtap-sim traffic  --target URL ...   post events to an agent's intake
 *   llmtap-sim generate --count N ...      write events as NDJSON to stdout
 *   llmtap-sim upstream [--listen H:P] ...  fake OpenAI/Anthropic provider
 *   llmtap-sim calls    --target URL ...   LLM API calls through the agent's proxy
 *
 * DESIGN: this file only parses flags and runs the chosen command; the
 * events come from gen.c (shared by both commands, so `generate` and
 * `traffic` with the same seed produce the same event contents) and the
 * posting logic lives in traffic.c; the fake provider lives in
 * upstream*.c; the proxy client in calls.c (what it sends: calls_plan.c).
 * Flags take `--name value` or `--name=value`; unknown flags are an error.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calls.h"
#include "gen.h"
#include "jbuf.h"
#include "rng.h"
#include "traffic.h"
#include "upstream.h"

static const char usage_main[] =
    "usage: llmtap-sim <command> [flags]\n"
    "\n"
    "Commands:\n"
    "  traffic    post generated llmtap.event/1 events to an agent (POST URL/v1/events)\n"
    "  generate   write generated events as NDJSON to stdout\n"
    "  upstream   serve a fake OpenAI/Anthropic API (for proxy tests and benchmarks)\n"
    "  calls      make LLM API calls through an agent's proxy (OpenAI, Anthropic)\n"
    "\n"
    "Run `llmtap-sim <command> --help` for the flags of a command.\n";

static const char usage_traffic[] =
    "usage: llmtap-sim traffic --target URL [flags]\n"
    "\n"
    "Posts generated events to URL/v1/events at a steady rate (token-bucket\n"
    "pacing, no drift), checks every response (2xx with {\"accepted\":N,...}) and\n"
    "prints a summary line to stdout at the end:\n"
    "  sent=N accepted=N rejected=N errors=N elapsed=Ss rate=R/s requests=N req_p50=Xms "
    "req_p99=Xms\n"
    "(rejected: events the agent refused in a 2xx answer; errors: requests that\n"
    "failed with another status or a transport error.) SIGINT/SIGTERM stop\n"
    "cleanly with the summary; a second one kills.\n"
    "\n"
    "  --target URL        agent base URL, e.g. http://127.0.0.1:7311 (required)\n"
    "  --rate N            events per second (default 10); 0 = as fast as possible\n"
    "  --duration S        seconds to run (default 10, or unlimited with --count)\n"
    "  --count C           stop after C events\n"
    "  --seed K            generator seed (default: from the clock, printed)\n"
    "  --batch B           events per request (default 1 = one JSON object; B > 1\n"
    "                      alternates a JSON array and NDJSON bodies)\n"
    "  --body MODE         auto | array | ndjson (default auto)\n"
    "  --out FILE          write every accepted event to FILE as NDJSON, exactly\n"
    "                      as sent\n"
    "  --allow-errors      exit 0 even after rejections or HTTP errors\n"
    "  --connect-wait S    at start, retry while the agent refuses connections\n"
    "                      (or answers 503) for up to S seconds (default 10)\n"
    "  --timeout MS        per-request timeout in milliseconds (default 10000)\n"
    "  --progress S        progress line to stderr every S seconds (default 5; 0 = off)\n"
    "  --size-hint BYTES   target mean event size, 1100..65536 (default 2048)\n"
    "  --error-rate P      fraction of events carrying status 429/500 (default 0.035)\n"
    "  --pii P             fraction of events with an e-mail/phone/card number in\n"
    "                      the user message (default 0; for redaction tests)\n"
    "  --source NAME       the events' `source` field (default agent-intake)\n"
    "\n"
    "Exit status: 0 all events accepted (or --allow-errors), 1 rejections, errors\n"
    "or agent unreachable, 2 usage error.\n";

static const char usage_generate[] =
    "usage: llmtap-sim generate --count N [flags]\n"
    "\n"
    "Writes N events as NDJSON to stdout, one per line, with times spread evenly\n"
    "(with jitter, ascending) over SPAN seconds starting at START. With --seed and\n"
    "--start the output is byte-for-byte reproducible.\n"
    "\n"
    "  --count N           number of events (required)\n"
    "  --seed K            generator seed (default: from the clock, printed)\n"
    "  --size-hint BYTES   target mean event size, 1100..65536 (default 2048)\n"
    "  --start TIME        first event time: RFC 3339 (2026-11-23T10:00:00Z) or\n"
    "                      Unix seconds (default: SPAN seconds before now)\n"
    "  --span S            seconds the events are spread over (default 3600)\n"
    "  --error-rate P      fraction of events carrying status 429/500 (default 0.035)\n"
    "  --pii P             fraction of events with PII in the user message (default 0)\n"
    "  --source NAME       the events' `source` field (default agent-intake)\n"
    "  --stats             print the size distribution to stderr at the end\n";

static const char usage_upstream[] =
    "usage: llmtap-sim upstream [flags]\n"
    "\n"
    "Serves a fake LLM provider: OpenAI POST /v1/chat/completions, /v1/completions,\n"
    "/v1/embeddings, /v1/responses, GET /v1/models, and Anthropic POST /v1/messages,\n"
    "streamed (SSE) or not, in the providers' wire shapes. A response is a pure\n"
    "function of (seed, path, request body): the same request gets the same bytes.\n"
    "Prints \"upstream: HOST:PORT\" as the first line of stdout once listening; runs\n"
    "until SIGINT/SIGTERM (a second one kills), then exits 0.\n"
    "\n"
    "  --listen HOST:PORT       address (default 127.0.0.1:0; port 0 = any free port)\n"
    "  --port-file PATH         also write the bound port to PATH\n"
    "  --seed K                 response generator seed (default 1)\n"
    "  --latency-ms N           delay before the response headers (default 0)\n"
    "  --ttft-ms N              streaming: delay before the first content event (default 0)\n"
    "  --chunks N               streaming: split each content block into N events\n"
    "                           (default 0 = by --chunk-bytes)\n"
    "  --chunk-bytes N          streaming: bytes of text per event (default 12)\n"
    "  --chunk-interval-ms N    streaming: delay between content events (default 0)\n"
    "  --error-rate F           fraction of API requests answered 429/500/503 in the\n"
    "                           provider's error shape (default 0; a per-run sequence\n"
    "                           drawn from the seed, not from the request)\n"
    "  --threads N              simultaneous connections, one thread each (default 512)\n"
    "\n"
    "Per-request headers (tests): x-sim-status: CODE (answer that error),\n"
    "x-sim-delay-ms: N (added before the headers), x-sim-ttft-ms: N,\n"
    "x-sim-chunk-interval-ms: N, x-sim-chunks: N, x-sim-hang: 1 (headers, then\n"
    "nothing until the client leaves or shutdown), x-sim-drop: N (close the\n"
    "connection after N body bytes).\n"
    "\n"
    "Requests need an Authorization or x-api-key header (else 401); /v1/messages\n"
    "also needs anthropic-version (else 400). GET /sim/requests?n=K returns the last\n"
    "K requests received (method, path, query, headers, body; 256 kept, bodies up to\n"
    "1 MiB); DELETE /sim/requests forgets them; GET /sim/healthz answers ok.\n";

static const char usage_calls[] =
    "usage: llmtap-sim calls --target URL [flags]\n"
    "\n"
    "Plays a fleet of services calling LLM APIs through llmtap-agent's proxy (point\n"
    "the agent's upstreams at `llmtap-sim upstream`): a seeded mix of OpenAI chat\n"
    "completions (streamed or not, some with stream_options.include_usage, tools,\n"
    "tool results, retrieved <context> passages), Responses API calls, embeddings\n"
    "and Anthropic messages, with the services, prompt templates and models of\n"
    "`traffic`, x-llmtap-* attribution headers and a W3C traceparent on most calls.\n"
    "Calls start on an open-loop schedule (at most --concurrency at once); every\n"
    "response is read to its end and checked. A summary line goes to stderr every\n"
    "--progress seconds and to stdout at the end:\n"
    "  sent=N 2xx=N 4xx=N 5xx=N other=N errors=N unexpected=N bad=N cancelled=N\n"
    "  stream=N nonstream=N chat=N responses=N embeddings=N messages=N elapsed=Ss\n"
    "  rate=R/s lat_p50=Xms lat_p99=Xms              (all on one line)\n"
    "(errors: transport failures; unexpected: a status other than the one asked\n"
    "for; bad: a body or stream not in the shape asked for.) SIGINT/SIGTERM stop\n"
    "cleanly: no new call, 5 s for those in flight; a second signal kills.\n"
    "\n"
    "  --target URL        agent base URL, e.g. http://127.0.0.1:7311 (required)\n"
    "  --rate N            calls started per second (default 10); 0 = as fast as\n"
    "                      --concurrency allows\n"
    "  --duration S        seconds to run (default 10, or unlimited with --count)\n"
    "  --count N           stop after N calls\n"
    "  --concurrency C     most calls in flight at once (default 64)\n"
    "  --seed K            content seed (default: from the clock, printed)\n"
    "  --out FILE          one JSON line per call: n, t, kind, service, model, stream,\n"
    "                      expect, status, latency_ms, bytes, result\n"
    "  --error-rate P      fraction of calls sent with x-sim-status: 429 or 500\n"
    "                      (default 0.03)\n"
    "  --pii P             fraction of chat calls whose user message carries an\n"
    "                      e-mail address or phone number (default 0.03)\n"
    "  --latency-scale F   ask the upstream for each model's latency profile times F\n"
    "                      (x-sim-delay-ms, x-sim-ttft-ms, x-sim-chunk-interval-ms;\n"
    "                      default 1); 0 = no timing headers, answers come at once\n"
    "  --vllm-prefix PATH  route of a vLLM upstream on the agent (e.g. /vllm): the\n"
    "                      self-hosted models (llama, qwen, bge-m3) are then called at\n"
    "                      URL+PATH/v1/...; without it they are not used (\"\" =\n"
    "                      call them at URL/v1/..., e.g. straight at the upstream)\n"
    "  --timeout MS        per call, whole response (default 60000)\n"
    "  --connect-wait S    at start, wait up to S seconds for the target to accept\n"
    "                      connections (default 10)\n"
    "  --progress S        summary line to stderr every S seconds (default 10; 0 = off)\n"
    "  --allow-errors      exit 0 even after unexpected answers\n"
    "\n"
    "Exit status: 0 every call got the answer it asked for (or --allow-errors, or\n"
    "stopped by a signal with nothing wrong so far), 1 transport errors, unexpected\n"
    "statuses, malformed bodies or target unreachable, 2 usage error.\n";

/* ---- flag parsing ------------------------------------------------------- */

struct args {
    int argc, i;
    char **argv;
    const char *cmd;
};

/* If argv[i] is --name or --name=value, consume it and set *val (NULL for a
 * bare flag when want_value is false). Exits with status 2 on a missing value. */
static int flag(struct args *a, const char *name, bool want_value, const char **val)
{
    const char *arg = a->argv[a->i];
    size_t n = strlen(name);
    if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, name, n) != 0)
        return 0;
    const char *rest = arg + 2 + n;
    if (*rest == '=') {
        if (!want_value) {
            fprintf(stderr, "llmtap-sim %s: --%s takes no value\n", a->cmd, name);
            exit(2);
        }
        *val = rest + 1;
    } else if (*rest == '\0') {
        if (want_value) {
            if (a->i + 1 >= a->argc) {
                fprintf(stderr, "llmtap-sim %s: --%s needs a value\n", a->cmd, name);
                exit(2);
            }
            *val = a->argv[++a->i];
        } else {
            *val = NULL;
        }
    } else {
        return 0;
    }
    a->i++;
    return 1;
}

static double parse_double(const struct args *a, const char *name, const char *v, double lo,
                           double hi)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(d) || d < lo || d > hi) {
        fprintf(stderr, "llmtap-sim %s: --%s: '%s' is not a number in [%g, %g]\n", a->cmd, name, v,
                lo, hi);
        exit(2);
    }
    return d;
}

static uint64_t parse_u64(const struct args *a, const char *name, const char *v, uint64_t lo,
                          uint64_t hi)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-' || x < lo || x > hi) {
        fprintf(stderr,
                "llmtap-sim %s: --%s: '%s' is not an integer in [%" PRIu64 ", %" PRIu64 "]\n",
                a->cmd, name, v, lo, hi);
        exit(2);
    }
    return x;
}

/* RFC 3339 UTC ("2026-11-23T10:00:00Z", optional fraction) or Unix seconds. */
static int parse_time_us(const char *v, int64_t *out)
{
    char *end;
    errno = 0;
    double secs = strtod(v, &end);
    if (!errno && end != v && *end == '\0') {
        *out = (int64_t)llround(secs * 1e6);
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *p = strptime(v, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return -1;
    int64_t us = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 6)
                us = us * 10 + (*p - '0');
        if (digits == 0)
            return -1;
        for (; digits < 6; digits++)
            us *= 10;
    }
    if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
        return -1;
    *out = (int64_t)timegm(&tm) * 1000000 + us;
    return 0;
}

static uint64_t clock_seed(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec;
    return rng_splitmix64(&x) % 1000000000ULL; /* short enough to retype */
}

/* Flags both commands share; returns 1 if argv[i] was one of them. */
static int common_flag(struct args *a, struct gen_opts *g, bool *seeded)
{
    const char *v;
    if (flag(a, "seed", true, &v)) {
        g->seed = parse_u64(a, "seed", v, 0, UINT64_MAX);
        *seeded = true;
    } else if (flag(a, "size-hint", true, &v)) {
        g->size_hint = (size_t)parse_u64(a, "size-hint", v, GEN_MIN_SIZE, GEN_MAX_SIZE);
    } else if (flag(a, "error-rate", true, &v)) {
        g->error_rate = parse_double(a, "error-rate", v, 0, 1);
    } else if (flag(a, "pii", true, &v)) {
        g->pii_rate = parse_double(a, "pii", v, 0, 1);
    } else if (flag(a, "source", true, &v)) {
        g->source = v;
    } else {
        return 0;
    }
    return 1;
}

static void unknown(const struct args *a, const char *usage)
{
    fprintf(stderr, "llmtap-sim %s: unknown argument '%s'\n\n%s", a->cmd, a->argv[a->i], usage);
    exit(2);
}

/* ---- generate ----------------------------------------------------------- */

static int cmp_size(const void *x, const void *y)
{
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    return a < b ? -1 : a > b;
}

static int cmd_generate(struct args *a)
{
    struct gen_opts go = {.error_rate = -1};
    bool seeded = false, stats = false, have_start = false;
    uint64_t count = 0;
    double span = 3600;
    int64_t start_us = 0;
    const char *v;
    while (a->i < a->argc) {
        if (flag(a, "help", false, &v) || strcmp(a->argv[a->i], "-h") == 0) {
            fputs(usage_generate, stdout);
            return 0;
        } else if (flag(a, "count", true, &v)) {
            count = parse_u64(a, "count", v, 1, UINT64_MAX);
        } else if (flag(a, "start", true, &v)) {
            if (parse_time_us(v, &start_us) != 0) {
                fprintf(
                    stderr,
                    "llmtap-sim generate: --start: '%s' is neither RFC 3339 UTC nor Unix seconds\n",
                    v);
                return 2;
            }
            have_start = true;
        } else if (flag(a, "span", true, &v)) {
            span = parse_double(a, "span", v, 0, 1e9);
        } else if (flag(a, "stats", false, &v)) {
            stats = true;
        } else if (!common_flag(a, &go, &seeded)) {
            unknown(a, usage_generate);
        }
    }
    if (!count) {
        fprintf(stderr, "llmtap-sim generate: --count is required\n\n%s", usage_generate);
        return 2;
    }
    if (!seeded) {
        go.seed = clock_seed();
        fprintf(stderr, "llmtap-sim generate: seed=%" PRIu64 "\n", go.seed);
    }
    int64_t span_us = (int64_t)(span * 1e6);
    if (!have_start) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        start_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - span_us;
    }

    struct gen *g;
    if (gen_create(&go, &g) != 0) {
        perror("llmtap-sim generate");
        return 2;
    }
    struct rng tr; /* time jitter: its own stream, so it never shifts the content */
    rng_seed(&tr, go.seed, 3);
    size_t *sizes = stats ? malloc(sizeof(size_t) * (count < 50000000 ? count : 50000000)) : NULL;
    static char obuf[1 << 20];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    struct jbuf ev = {0};
    int rc = 0;
    for (uint64_t i = 0; i < count; i++) {
        int64_t t =
            start_us + (int64_t)(((double)i + rng_unit(&tr)) * (double)span_us / (double)count);
        jbuf_reset(&ev);
        size_t n = gen_event(g, t, &ev);
        if (sizes && i < 50000000)
            sizes[i] = n;
        jbuf_putc(&ev, '\n');
        if (fwrite(ev.data, 1, ev.len, stdout) != ev.len) {
            perror("llmtap-sim generate: stdout");
            rc = 1;
            break;
        }
    }
    if (fflush(stdout) != 0) {
        perror("llmtap-sim generate: stdout");
        rc = 1;
    }
    if (sizes && rc == 0) {
        size_t m = count < 50000000 ? (size_t)count : 50000000;
        qsort(sizes, m, sizeof *sizes, cmp_size);
        double total = 0;
        for (size_t i = 0; i < m; i++)
            total += (double)sizes[i];
        fprintf(stderr,
                "llmtap-sim generate: events=%zu bytes=%.0f mean=%.0f min=%zu p10=%zu p50=%zu "
                "p90=%zu p99=%zu max=%zu\n",
                m, total, total / (double)m, sizes[0], sizes[m / 10], sizes[m / 2],
                sizes[m * 9 / 10], sizes[m * 99 / 100], sizes[m - 1]);
    }
    free(sizes);
    jbuf_free(&ev);
    gen_destroy(g);
    return rc;
}

/* ---- traffic ------------------------------------------------------------ */

static int cmd_traffic(struct args *a)
{
    struct traffic_opts o = {
        .rate = 10,
        .batch = 1,
        .connect_wait = 10,
        .timeout_ms = 10000,
        .progress = 5,
        .gen = {.error_rate = -1, .time_is_end = true},
    };
    bool seeded = false, have_duration = false;
    const char *v;
    while (a->i < a->argc) {
        if (flag(a, "help", false, &v) || strcmp(a->argv[a->i], "-h") == 0) {
            fputs(usage_traffic, stdout);
            return 0;
        } else if (flag(a, "target", true, &v)) {
            o.target = v;
        } else if (flag(a, "rate", true, &v)) {
            o.rate = parse_double(a, "rate", v, 0, 1e7);
        } else if (flag(a, "duration", true, &v)) {
            o.duration = parse_double(a, "duration", v, 0, 1e9);
            have_duration = true;
        } else if (flag(a, "count", true, &v)) {
            o.count = parse_u64(a, "count", v, 1, UINT64_MAX);
        } else if (flag(a, "batch", true, &v)) {
            o.batch = (int)parse_u64(a, "batch", v, 1, 100000);
        } else if (flag(a, "body", true, &v)) {
            if (strcmp(v, "auto") == 0)
                o.body = TRAFFIC_BODY_AUTO;
            else if (strcmp(v, "array") == 0)
                o.body = TRAFFIC_BODY_ARRAY;
            else if (strcmp(v, "ndjson") == 0)
                o.body = TRAFFIC_BODY_NDJSON;
            else {
                fprintf(stderr, "llmtap-sim traffic: --body: '%s' is not auto, array or ndjson\n",
                        v);
                return 2;
            }
        } else if (flag(a, "out", true, &v)) {
            o.out = v;
        } else if (flag(a, "allow-errors", false, &v)) {
            o.allow_errors = true;
        } else if (flag(a, "connect-wait", true, &v)) {
            o.connect_wait = parse_double(a, "connect-wait", v, 0, 3600);
        } else if (flag(a, "timeout", true, &v)) {
            o.timeout_ms = (long)parse_u64(a, "timeout", v, 1, 3600000);
        } else if (flag(a, "progress", true, &v)) {
            o.progress = parse_double(a, "progress", v, 0, 86400);
        } else if (!common_flag(a, &o.gen, &seeded)) {
            unknown(a, usage_traffic);
        }
    }
    if (!o.target) {
        fprintf(stderr, "llmtap-sim traffic: --target is required\n\n%s", usage_traffic);
        return 2;
    }
    if (!have_duration)
        o.duration = o.count ? 0 : 10;
    if (o.rate == 0 && o.duration == 0 && o.count == 0) {
        /* As fast as possible with no limit: runs until SIGINT, which is allowed. */
    }
    if (!seeded)
        o.gen.seed = clock_seed();
    fprintf(stderr,
            "llmtap-sim traffic: target=%s rate=%g/s duration=%gs count=%" PRIu64
            " batch=%d seed=%" PRIu64 "\n",
            o.target, o.rate, o.duration, o.count, o.batch, o.gen.seed);
    return traffic_run(&o);
}

/* ---- upstream ---------------------------------------------------------- */

static int cmd_upstream(struct args *a)
{
    struct upstream_opts o = {
        .listen = "127.0.0.1:0", .seed = 1, .chunk_bytes = 12, .max_conns = 512};
    const char *v;
    while (a->i < a->argc) {
        if (flag(a, "help", false, &v) || strcmp(a->argv[a->i], "-h") == 0) {
            fputs(usage_upstream, stdout);
            return 0;
        } else if (flag(a, "listen", true, &v)) {
            o.listen = v;
        } else if (flag(a, "port-file", true, &v)) {
            o.port_file = v;
        } else if (flag(a, "seed", true, &v)) {
            o.seed = parse_u64(a, "seed", v, 0, UINT64_MAX);
        } else if (flag(a, "latency-ms", true, &v)) {
            o.latency_ms = (unsigned)parse_u64(a, "latency-ms", v, 0, 3600000);
        } else if (flag(a, "ttft-ms", true, &v)) {
            o.ttft_ms = (unsigned)parse_u64(a, "ttft-ms", v, 0, 3600000);
        } else if (flag(a, "chunks", true, &v)) {
            o.chunks = (unsigned)parse_u64(a, "chunks", v, 0, 1000000);
        } else if (flag(a, "chunk-bytes", true, &v)) {
            o.chunk_bytes = (unsigned)parse_u64(a, "chunk-bytes", v, 1, 1 << 20);
        } else if (flag(a, "chunk-interval-ms", true, &v)) {
            o.chunk_interval_ms = (unsigned)parse_u64(a, "chunk-interval-ms", v, 0, 3600000);
        } else if (flag(a, "error-rate", true, &v)) {
            o.error_rate = parse_double(a, "error-rate", v, 0, 1);
        } else if (flag(a, "threads", true, &v)) {
            o.max_conns = (unsigned)parse_u64(a, "threads", v, 1, 65536);
        } else {
            unknown(a, usage_upstream);
        }
    }
    return upstream_run(&o);
}

/* ---- calls -------------------------------------------------------------- */

static int cmd_calls(struct args *a)
{
    struct calls_opts o = {
        .rate = 10,
        .concurrency = 64,
        .timeout_ms = 60000,
        .connect_wait = 10,
        .progress = 10,
        .error_rate = 0.03,
        .pii_rate = 0.03,
        .latency_scale = 1,
    };
    bool seeded = false, have_duration = false;
    const char *v;
    while (a->i < a->argc) {
        if (flag(a, "help", false, &v) || strcmp(a->argv[a->i], "-h") == 0) {
            fputs(usage_calls, stdout);
            return 0;
        } else if (flag(a, "target", true, &v)) {
            o.target = v;
        } else if (flag(a, "rate", true, &v)) {
            o.rate = parse_double(a, "rate", v, 0, 1e6);
        } else if (flag(a, "duration", true, &v)) {
            o.duration = parse_double(a, "duration", v, 0, 1e9);
            have_duration = true;
        } else if (flag(a, "count", true, &v)) {
            o.count = parse_u64(a, "count", v, 1, UINT64_MAX);
        } else if (flag(a, "concurrency", true, &v)) {
            o.concurrency = (unsigned)parse_u64(a, "concurrency", v, 1, 4096);
        } else if (flag(a, "seed", true, &v)) {
            o.seed = parse_u64(a, "seed", v, 0, UINT64_MAX);
            seeded = true;
        } else if (flag(a, "out", true, &v)) {
            o.out = v;
        } else if (flag(a, "error-rate", true, &v)) {
            o.error_rate = parse_double(a, "error-rate", v, 0, 1);
        } else if (flag(a, "pii", true, &v)) {
            o.pii_rate = parse_double(a, "pii", v, 0, 1);
        } else if (flag(a, "latency-scale", true, &v)) {
            o.latency_scale = parse_double(a, "latency-scale", v, 0, 100);
        } else if (flag(a, "vllm-prefix", true, &v)) {
            o.vllm_prefix = v;
        } else if (flag(a, "timeout", true, &v)) {
            o.timeout_ms = (long)parse_u64(a, "timeout", v, 1, 3600000);
        } else if (flag(a, "connect-wait", true, &v)) {
            o.connect_wait = parse_double(a, "connect-wait", v, 0, 3600);
        } else if (flag(a, "progress", true, &v)) {
            o.progress = parse_double(a, "progress", v, 0, 86400);
        } else if (flag(a, "allow-errors", false, &v)) {
            o.allow_errors = true;
        } else {
            unknown(a, usage_calls);
        }
    }
    if (!o.target) {
        fprintf(stderr, "llmtap-sim calls: --target is required\n\n%s", usage_calls);
        return 2;
    }
    if (!have_duration)
        o.duration = o.count ? 0 : 10;
    if (!seeded)
        o.seed = clock_seed();
    fprintf(stderr,
            "llmtap-sim calls: target=%s rate=%g/s duration=%gs count=%" PRIu64
            " concurrency=%u seed=%" PRIu64 "%s%s\n",
            o.target, o.rate, o.duration, o.count, o.concurrency, o.seed,
            o.vllm_prefix ? " vllm-prefix=" : "", o.vllm_prefix ? o.vllm_prefix : "");
    return calls_run(&o);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage_main, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    struct args a = {.argc = argc, .argv = argv, .i = 2, .cmd = argv[1]};
    if (strcmp(argv[1], "traffic") == 0)
        return cmd_traffic(&a);
    if (strcmp(argv[1], "generate") == 0)
        return cmd_generate(&a);
    if (strcmp(argv[1], "upstream") == 0)
        return cmd_upstream(&a);
    if (strcmp(argv[1], "calls") == 0)
        return cmd_calls(&a);
    fprintf(stderr, "llmtap-sim: unknown command '%s'\n\n%s", argv[1], usage_main);
    return 2;
}
