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
 * Content: a call is planned (every choice drawn from one rng stream, so
 * the n-th call of a seed is always the same request), then written as the
 * wire body of its API. The catalogue of services, prompt templates and
 * models mirrors gen.c's (the same names, weights and latency profiles; gen.c
 * keeps its tables private), so intake events and proxied calls describe
 * one fleet and the agent's price table prices every model.
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

#include "jbuf.h"
#include "rng.h"
#include "text.h"

#ifndef LLMTAP_VERSION
#define LLMTAP_VERSION "dev"
#endif

#define COUNT(a)     (sizeof(a) / sizeof((a)[0]))
#define DRAIN_S      5.0        /* grace for calls in flight at a stop signal */
#define RESP_KEEP    (8u << 20) /* response bytes kept for the checks */
#define MAX_DELAY_MS 15000.0    /* cap of the latency asked of the upstream */

/* ---- catalogue (mirrors gen.c) ----------------------------------------- */

enum prov { P_OPENAI, P_ANTHROPIC, P_VLLM };
enum { M_REASONING = 1, M_EMBED = 2 };

struct model {
    const char *name;
    enum prov prov;
    double ttft_ms, ms_per_token;
    unsigned flags;
};

enum {
    GPT_4O_MINI,
    GPT_4O,
    O3_MINI,
    CLAUDE_SONNET,
    CLAUDE_HAIKU,
    LLAMA_8B,
    LLAMA_70B,
    QWEN_7B,
    EMBED_3_SMALL,
    BGE_M3,
    MODEL_COUNT
};

static const struct model cl_models[MODEL_COUNT] = {
    [GPT_4O_MINI] = {"gpt-4o-mini", P_OPENAI, 380, 11, 0},
    [GPT_4O] = {"gpt-4o", P_OPENAI, 520, 17, 0},
    [O3_MINI] = {"o3-mini", P_OPENAI, 900, 8, M_REASONING},
    [CLAUDE_SONNET] = {"claude-sonnet-4-5", P_ANTHROPIC, 950, 19, 0},
    [CLAUDE_HAIKU] = {"claude-haiku-4-5", P_ANTHROPIC, 520, 9, 0},
    [LLAMA_8B] = {"llama-3.1-8b-instruct", P_VLLM, 110, 7, 0},
    [LLAMA_70B] = {"llama-3.1-70b-instruct", P_VLLM, 320, 24, 0},
    [QWEN_7B] = {"qwen2.5-7b-instruct", P_VLLM, 100, 7, 0},
    [EMBED_3_SMALL] = {"text-embedding-3-small", P_OPENAI, 0, 0, M_EMBED},
    [BGE_M3] = {"bge-m3", P_VLLM, 0, 0, M_EMBED},
};

struct tmpl {
    const char *name;
    int ctx_min, ctx_max; /* retrieved passages in the system prompt */
    double doc_bytes;     /* median passage length */
    double detail_bytes;  /* median extra detail in the user message */
    double prior_p;       /* chance of an earlier exchange */
    double temperature;
};

struct pick {
    int model;
    unsigned weight;
};

struct service {
    const char *name;
    enum text_domain domain;
    unsigned weight;
    struct tmpl tmpls[3];
    int ntmpl;
    struct pick chat[3];
    struct pick embed[2];
    double embed_p, stream_p;
    const char *ctx_source[3];
    const char *ctx_prefix;
    int tools[2]; /* indexes into cl_tools, -1 = none */
};

struct tool {
    const char *name, *description, *schema; /* schema: JSON text */
};

enum { T_RUN_SQL, T_GET_FILE, T_POST_COMMENT };

static const struct tool cl_tools[] = {
    [T_RUN_SQL] =
        {"run_sql", "Run one read-only SQL query on the analytics warehouse and return the rows.",
         "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\",\"description\":"
         "\"a single SELECT statement\"},\"limit\":{\"type\":\"integer\",\"minimum\":1,"
         "\"maximum\":1000}},\"required\":[\"query\"]}"},
    [T_GET_FILE] = {"get_file_contents", "Read a file of the repository under review at a git ref.",
                    "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},\"ref\":"
                    "{\"type\":\"string\",\"description\":\"branch, tag or commit\"}},"
                    "\"required\":[\"path\"]}"},
    [T_POST_COMMENT] =
        {"post_review_comment", "Post a review comment on one line of the pull request.",
         "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},\"line\":"
         "{\"type\":\"integer\",\"minimum\":1},\"body\":{\"type\":\"string\"}},"
         "\"required\":[\"path\",\"line\",\"body\"]}"},
};

static const struct service cl_services[] = {
    {"support-bot",
     TEXT_SUPPORT,
     34,
     {{"support-answer", 2, 5, 260, 40, 0.2, 0.2},
      {"support-triage", 0, 1, 200, 90, 0.1, 0.0},
      {"support-followup", 1, 3, 240, 30, 0.9, 0.3}},
     3,
     {{GPT_4O_MINI, 60}, {CLAUDE_HAIKU, 30}, {GPT_4O, 10}},
     {{0, 0}, {0, 0}},
     0,
     0.8,
     {"helpcenter", "zendesk-macros", "release-notes"},
     "kb-",
     {-1, -1}},
    {"search-api",
     TEXT_SEARCH,
     25,
     {{"query-rewrite", 0, 0, 0, 10, 0.05, 0.0}, {"rerank-explain", 3, 5, 120, 20, 0, 0.2}},
     2,
     {{GPT_4O_MINI, 50}, {LLAMA_8B, 50}},
     {{EMBED_3_SMALL, 60}, {BGE_M3, 40}},
     0.35,
     0.1,
     {"product-catalog", "reviews", "helpcenter"},
     "sku-",
     {-1, -1}},
    {"summarizer",
     TEXT_SUMMARY,
     10,
     {{"doc-summary", 1, 2, 1300, 20, 0, 0.3},
      {"meeting-notes", 1, 1, 1900, 20, 0.05, 0.2},
      {"email-digest", 1, 2, 900, 20, 0, 0.3}},
     3,
     {{CLAUDE_SONNET, 50}, {GPT_4O, 30}, {CLAUDE_HAIKU, 20}},
     {{0, 0}, {0, 0}},
     0,
     0.5,
     {"gdrive", "confluence", "gmail"},
     "doc-",
     {-1, -1}},
    {"code-review",
     TEXT_CODE,
     10,
     {{"pr-review", 0, 2, 380, 200, 0.3, 0.1}, {"diff-explain", 0, 1, 300, 150, 0.1, 0.2}},
     2,
     {{O3_MINI, 45}, {CLAUDE_SONNET, 55}},
     {{0, 0}, {0, 0}},
     0,
     0.3,
     {"github", "runbooks", "adr"},
     "gh-",
     {T_GET_FILE, T_POST_COMMENT}},
    {"translator",
     TEXT_TRANSLATE,
     8,
     {{"ui-translate", 0, 1, 120, 20, 0, 0.0}, {"doc-translate", 0, 1, 160, 300, 0, 0.3}},
     2,
     {{GPT_4O_MINI, 50}, {CLAUDE_HAIKU, 30}, {QWEN_7B, 20}},
     {{0, 0}, {0, 0}},
     0,
     0.2,
     {"glossary", "style-guide", "tm"},
     "tm-",
     {-1, -1}},
    {"analytics-copilot",
     TEXT_ANALYTICS,
     13,
     {{"text-to-sql", 1, 3, 220, 40, 0.3, 0.0}, {"chart-explain", 0, 2, 200, 30, 0.2, 0.4}},
     2,
     {{LLAMA_70B, 50}, {LLAMA_8B, 20}, {GPT_4O, 30}},
     {{0, 0}, {0, 0}},
     0,
     0.6,
     {"dbt-docs", "warehouse-schema", "metrics-layer"},
     "tbl-",
     {T_RUN_SQL, -1}},
};
#define NSERVICES  COUNT(cl_services)
#define NUSERS     400
#define MAX_DOCS   5
#define MAX_INPUTS 8

/* ---- calls and their state --------------------------------------------- */

enum kind { K_CHAT, K_RESPONSES, K_EMBEDDINGS, K_MESSAGES, K_COUNT };
static const char *const kind_name[K_COUNT] = {"chat", "responses", "embeddings", "messages"};
static const char *const kind_path[K_COUNT] = {"/v1/chat/completions", "/v1/responses",
                                               "/v1/embeddings", "/v1/messages"};

/* Everything drawn for one call. Points only into the static tables. */
struct plan {
    uint64_t n; /* call number, from 0 */
    const struct service *svc;
    const struct tmpl *tp; /* NULL for embeddings */
    const struct model *m;
    enum kind kind;
    bool stream, include_usage, parts, has_prior, long_sys, has_tools, tool_loop, tool_auto;
    bool developer;      /* "developer" instead of "system" (reasoning models) */
    bool input_string;   /* Responses: input as a bare string */
    bool max_completion; /* chat: max_completion_tokens instead of max_tokens */
    bool base64;         /* embeddings encoding_format */
    int dims;            /* embeddings dimensions; 0 = not sent */
    int ndocs, ninputs, version, expect;
    long max_tokens;
    double temperature;
    const char *effort;
    int tool; /* the tool of the loop */
    char call_id[40];
    /* attribution */
    bool has_trace, has_user, has_tags, canary;
    char trace_id[33], parent_id[17];
    unsigned user, session;
    char tenant[32];
    const char *region;
    /* latency asked of the upstream, ms; < 0 = header not sent */
    long delay_ms, ttft_ms, interval_ms;
};

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
    struct jbuf line; /* --out line */
    struct rng r;
    unsigned svc_weights[NSERVICES];
    int version[NSERVICES][3];
    uint32_t users[NUSERS];
    char key[NSERVICES][24]; /* fake API key suffix per service */
    /* scratch texts, reused for every call */
    struct jbuf sys, ctx, prior_q, prior_a, user, args, tool_res, tmp, inp[MAX_INPUTS];
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

static void hex_id(struct rng *r, char *out, int nhex)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < nhex; i++)
        out[i] = hex[rng_below(r, 16)];
    out[nhex] = '\0';
}

static void alnum_id(struct rng *r, const char *prefix, int n, char *out, size_t outsz)
{
    static const char an[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t p = (size_t)snprintf(out, outsz, "%s", prefix);
    for (int i = 0; i < n && p + 1 < outsz; i++)
        out[p++] = an[rng_below(r, sizeof an - 1)];
    out[p] = '\0';
}

static size_t clamp_len(double v, double lo, double hi)
{
    return (size_t)(v < lo ? lo : v > hi ? hi : v);
}

/* ---- planning ------------------------------------------------------------ */

static bool model_usable(const struct calls *c, int mi)
{
    return cl_models[mi].prov != P_VLLM || c->o->vllm_prefix != NULL;
}

/* A model from picks[0..n), skipping unusable ones; -1 when none is. */
static int pick_model(struct calls *c, const struct pick *picks, size_t n)
{
    unsigned w[3] = {0, 0, 0}, total = 0;
    for (size_t i = 0; i < n && i < 3; i++) {
        if (picks[i].weight && model_usable(c, picks[i].model))
            w[i] = picks[i].weight;
        total += w[i];
    }
    if (!total)
        return -1;
    return picks[rng_weighted(&c->r, w, n)].model;
}

static void tool_args(struct rng *r, int tool, enum text_domain d, struct jbuf *out,
                      struct jbuf *tmp)
{
    struct jw w;
    jbuf_reset(out);
    jbuf_reset(tmp);
    jw_init(&w, out);
    jw_obj(&w, NULL);
    if (tool == T_RUN_SQL) {
        text_expand(r, d,
                    "SELECT {col}, SUM(amount) AS total FROM {table} WHERE created_at >= now() - "
                    "interval '{n2} days' GROUP BY 1 ORDER BY 2 DESC",
                    tmp);
        jw_strn(&w, "query", tmp->data, tmp->len);
        jw_int(&w, "limit", rng_range(r, 10, 200));
    } else if (tool == T_GET_FILE) {
        text_slot(r, d, "file", tmp);
        jw_strn(&w, "path", tmp->data, tmp->len);
        jw_str(&w, "ref", rng_chance(r, 0.7) ? "HEAD" : "main");
    } else {
        text_slot(r, d, "file", tmp);
        jw_strn(&w, "path", tmp->data, tmp->len);
        jw_int(&w, "line", rng_range(r, 10, 600));
        jbuf_reset(tmp);
        text_expand(r, d, "This looks like {cissue} in `{func}`; could you add a test for it?",
                    tmp);
        jw_strn(&w, "body", tmp->data, tmp->len);
    }
    jw_end_obj(&w);
}

static void tool_result(struct rng *r, int tool, enum text_domain d, struct jbuf *out)
{
    jbuf_reset(out);
    if (tool == T_RUN_SQL)
        text_expand(r, d,
                    "{\"columns\": [\"{col}\", \"total\"], \"rows\": [[\"{region}\", {n}], "
                    "[\"{region}\", {n}], [\"{region}\", {n}]], \"row_count\": 3}",
                    out);
    else if (tool == T_GET_FILE)
        text_expand(r, d,
                    "{\"path\": \"{file}\", \"size\": {n}, \"content\": \"static int {func}(struct "
                    "ctx *{var})\\n{\\n\\tif (!{var})\\n\\t\\treturn -1;\\n\\t…\\n}\\n\"}",
                    out);
    else
        text_expand(r, d, "{\"ok\": true, \"comment_id\": {n}{n}}", out);
}

static void add_pii(struct rng *r, struct jbuf *b)
{
    static const char *const first[] = {"jane", "john", "maria", "wei", "olga", "ahmed", "lucia"};
    static const char *const last[] = {"doe",     "smith", "garcia", "zhang",
                                       "petrova", "khan",  "rossi"};
    if (rng_chance(r, 0.6))
        jbuf_printf(b, " You can reach me at %s.%s@example.com.", first[rng_below(r, COUNT(first))],
                    last[rng_below(r, COUNT(last))]);
    else
        jbuf_printf(b, " Please call me back at +1 415-555-%04d.", (int)rng_range(r, 100, 9999));
}

/* Ask the upstream for a latency like the model's (gen.c's profile). */
static void plan_latency(const struct calls *c, struct plan *p, struct rng *r, size_t in_tok)
{
    double s = c->o->latency_scale, d = -1, ttft = -1, iv = -1;
    const struct model *m = p->m;
    double reasoning = 0;
    if (m->flags & M_REASONING) {
        static const double med[] = {180, 900, 3200}; /* reasoning tokens by effort */
        int e = strcmp(p->effort, "low") == 0 ? 0 : strcmp(p->effort, "medium") == 0 ? 1 : 2;
        reasoning = rng_lognormal(r, med[e], 0.6);
    }
    if (p->expect == 429) {
        d = rng_lognormal(r, 45, 0.6);
    } else if (p->expect == 500) {
        d = rng_lognormal(r, (m->ttft_ms ? m->ttft_ms : 60) * 2, 0.9);
    } else if (p->kind == K_EMBEDDINGS) {
        d = rng_lognormal(r, 28 + (double)in_tok * 0.02, 0.4);
    } else {
        double first = rng_lognormal(r, m->ttft_ms, 0.35) + (double)in_tok * 0.04 +
                       reasoning * m->ms_per_token;
        if (p->stream) {
            ttft = first;
            iv = 3 * m->ms_per_token * rng_lognormal(r, 1, 0.2); /* a 12-byte chunk is ~3 tokens */
        } else {
            double out = rng_lognormal(r, 110, 0.5);
            if (out > (double)p->max_tokens)
                out = (double)p->max_tokens;
            d = first + out * rng_lognormal(r, m->ms_per_token, 0.2);
        }
    }
    if (s <= 0)
        return;
    p->delay_ms = d < 0 ? -1 : (long)fmin(d * s, MAX_DELAY_MS);
    p->ttft_ms = ttft < 0 ? -1 : (long)fmin(ttft * s, MAX_DELAY_MS);
    p->interval_ms = iv < 0 ? -1 : (long)fmin(iv * s, 1000);
}

/* Draw the next call: fills *p and the scratch texts. */
static void plan_call(struct calls *c, struct plan *p)
{
    struct rng *r = &c->r;
    memset(p, 0, sizeof *p);
    p->n = c->st.sent;
    p->delay_ms = p->ttft_ms = p->interval_ms = -1;
    p->tool = -1;

    size_t si;
    int mi, ei = -1;
    for (;;) { /* a service with a usable model (always the first draw unless vLLM is off) */
        si = rng_weighted(r, c->svc_weights, NSERVICES);
        const struct service *s = &cl_services[si];
        ei = s->embed_p > 0 && rng_chance(r, s->embed_p) ? pick_model(c, s->embed, 2) : -1;
        mi = ei >= 0 ? ei : pick_model(c, s->chat, 3);
        if (mi >= 0)
            break;
    }
    const struct service *svc = p->svc = &cl_services[si];
    const struct model *m = p->m = &cl_models[mi];
    enum text_domain d = svc->domain;

    double u = rng_unit(r);
    p->expect = u < c->o->error_rate * 0.7 ? 429 : u < c->o->error_rate ? 500 : 200;

    /* attribution */
    p->has_trace = rng_chance(r, 0.85);
    hex_id(r, p->trace_id, 32);
    hex_id(r, p->parent_id, 16);
    p->user = c->users[(size_t)(NUSERS * rng_unit(r) * rng_unit(r))];
    p->session = (p->user * 2654435761u + (unsigned)rng_below(r, 4) * 40503u) & 0xFFFF;
    p->has_tags = rng_chance(r, 0.6);
    p->canary = rng_chance(r, 0.15);
    jbuf_reset(&c->tmp);
    text_slot(r, d, "tenant", &c->tmp);
    snprintf(p->tenant, sizeof p->tenant, "%s", c->tmp.data);
    static const char *const regions[] = {"eu-west-1", "us-east-1", "us-west-2", "ap-northeast-1"};
    p->region = rng_chance(r, 0.3) ? regions[rng_below(r, COUNT(regions))] : NULL;

    if (ei >= 0) {
        p->kind = K_EMBEDDINGS;
        p->has_user = rng_chance(r, 0.3);
        p->ninputs = rng_chance(r, 0.6) ? 1 : (int)rng_range(r, 2, MAX_INPUTS);
        size_t in_tok = 0;
        for (int i = 0; i < p->ninputs; i++) {
            jbuf_reset(&c->inp[i]);
            text_doc(r, d, clamp_len(rng_lognormal(r, 220, 0.8), 20, 2400), &c->inp[i]);
            in_tok += text_tokens(c->inp[i].data, c->inp[i].len);
        }
        p->base64 = rng_chance(r, 0.7); /* the openai SDKs ask for base64 by default */
        p->dims = mi == BGE_M3 ? 1024 : rng_chance(r, 0.3) ? 512 : 0;
        plan_latency(c, p, r, in_tok);
        return;
    }

    p->kind = m->prov == P_ANTHROPIC                       ? K_MESSAGES
              : m->prov == P_OPENAI && rng_chance(r, 0.25) ? K_RESPONSES
                                                           : K_CHAT;
    int ti = (int)rng_below(r, (uint64_t)svc->ntmpl);
    const struct tmpl *tp = p->tp = &svc->tmpls[ti];
    p->version = c->version[si][ti] - (rng_chance(r, 0.25) ? 1 : 0);
    p->stream = rng_chance(r, svc->stream_p);
    p->include_usage = p->kind == K_CHAT && p->stream && rng_chance(r, 0.25);
    p->has_user = rng_chance(r, 0.92);
    p->developer = (m->flags & M_REASONING) && rng_chance(r, 0.7);
    p->max_completion = p->kind == K_CHAT && ((m->flags & M_REASONING) || rng_chance(r, 0.3));
    p->temperature = tp->temperature;
    if (m->flags & M_REASONING) {
        static const char *const efforts[] = {"low", "medium", "high"};
        p->effort = efforts[rng_below(r, 3)];
    }
    static const long max_choices[] = {256, 512, 1024, 1024, 2048, 4096};
    p->max_tokens = rng_chance(r, 0.06) ? 48 : max_choices[rng_below(r, COUNT(max_choices))];

    /* system prompt: instructions, sometimes a long reference section (a
     * cacheable prefix of 1024+ tokens), then the retrieved passages */
    jbuf_reset(&c->sys);
    jbuf_reset(&c->ctx);
    text_system(r, d, &c->sys);
    p->long_sys = rng_chance(r, m->prov == P_ANTHROPIC ? 0.35 : 0.12);
    if (p->long_sys) {
        jbuf_puts(&c->sys, "\n\n# Reference handbook\n\n");
        text_doc(r, d, (size_t)rng_range(r, 4800, 9000), &c->sys);
    }
    p->ndocs = (int)rng_range(r, tp->ctx_min, tp->ctx_max);
    if (p->ndocs > MAX_DOCS)
        p->ndocs = MAX_DOCS;
    if (p->ndocs > 0) {
        jbuf_puts(
            &c->ctx,
            rng_chance(r, 0.5)
                ? "Answer from the context only and cite the passage ids."
                : "Use the retrieved passages below; say so when they do not answer the question.");
        double sc = 0.55 + 0.44 * rng_unit(r);
        for (int i = 0; i < p->ndocs; i++) {
            unsigned id = (unsigned)rng_range(r, 10, 9999);
            jbuf_printf(&c->ctx, "\n<context id=\"%s%u\" source=\"%s\" score=\"%.2f\">\n",
                        svc->ctx_prefix, id, svc->ctx_source[id % 3], floor(sc * 100) / 100);
            text_doc(r, d, clamp_len(rng_lognormal(r, tp->doc_bytes, 0.7), 40, 6000), &c->ctx);
            jbuf_puts(&c->ctx, "\n</context>");
            sc *= 0.7 + 0.29 * rng_unit(r);
        }
    }

    jbuf_reset(&c->prior_q);
    jbuf_reset(&c->prior_a);
    p->has_prior = rng_chance(r, tp->prior_p);
    if (p->has_prior) {
        text_question(r, d, 0, &c->prior_q);
        text_answer(r, d, clamp_len(rng_lognormal(r, 200, 0.5), 30, 1500), &c->prior_a);
    }

    jbuf_reset(&c->user);
    size_t detail =
        rng_chance(r, 0.6) ? clamp_len(rng_lognormal(r, tp->detail_bytes, 0.7), 0, 3000) : 0;
    text_question(r, d, detail, &c->user);
    if (c->o->pii_rate > 0 && rng_chance(r, c->o->pii_rate))
        add_pii(r, &c->user);
    p->parts = rng_chance(r, 0.08);
    p->input_string = p->kind == K_RESPONSES && !p->has_prior && !p->parts && rng_chance(r, 0.5);

    p->has_tools = svc->tools[0] >= 0;
    if (p->has_tools) {
        p->tool_auto = rng_chance(r, 0.5);
        p->tool_loop = rng_chance(r, 0.45);
        if (p->tool_loop) {
            p->tool = svc->tools[svc->tools[1] >= 0 && rng_chance(r, 0.5) ? 1 : 0];
            tool_args(r, p->tool, d, &c->args, &c->tmp);
            tool_result(r, p->tool, d, &c->tool_res);
            if (p->kind == K_MESSAGES)
                alnum_id(r, "toolu_01", 22, p->call_id, sizeof p->call_id);
            else
                alnum_id(r, "call_", 24, p->call_id, sizeof p->call_id);
            p->input_string = false;
        }
    }

    size_t in_tok = text_tokens(c->sys.data, c->sys.len) + text_tokens(c->ctx.data, c->ctx.len) +
                    text_tokens(c->user.data, c->user.len) +
                    text_tokens(c->prior_q.data, c->prior_q.len) +
                    text_tokens(c->prior_a.data, c->prior_a.len);
    plan_latency(c, p, r, in_tok);
}

/* ---- request bodies --------------------------------------------------------- */

/* The system text as one string: instructions, then the passages. */
static void put_system_text(struct calls *c, struct jw *w, const char *key)
{
    jw_raw_begin(w, key);
    jbuf_reset(&c->tmp);
    jbuf_put(&c->tmp, c->sys.data, c->sys.len);
    if (c->ctx.len) {
        jbuf_puts(&c->tmp, "\n\n");
        jbuf_put(&c->tmp, c->ctx.data, c->ctx.len);
    }
    jbuf_json_str(w->b, c->tmp.data, c->tmp.len);
}

static void put_msg(struct jw *w, const char *role, const struct jbuf *text, const char *part_type)
{
    jw_obj(w, NULL);
    jw_str(w, "role", role);
    if (part_type) {
        jw_arr(w, "content");
        jw_obj(w, NULL);
        jw_str(w, "type", part_type);
        jw_strn(w, "text", text->data, text->len);
        jw_end_obj(w);
        jw_end_arr(w);
    } else {
        jw_strn(w, "content", text->data, text->len);
    }
    jw_end_obj(w);
}

static void put_raw(struct jw *w, const char *key, const char *json, size_t len)
{
    jw_raw_begin(w, key);
    jbuf_put(w->b, json, len);
}

enum tool_shape { TOOLS_CHAT, TOOLS_RESPONSES, TOOLS_ANTHROPIC };

static void put_tools(const struct plan *p, struct jw *w, enum tool_shape shape)
{
    jw_arr(w, "tools");
    for (int i = 0; i < 2 && p->svc->tools[i] >= 0; i++) {
        const struct tool *t = &cl_tools[p->svc->tools[i]];
        jw_obj(w, NULL);
        if (shape == TOOLS_CHAT) {
            jw_str(w, "type", "function");
            jw_obj(w, "function");
        } else if (shape == TOOLS_RESPONSES) {
            jw_str(w, "type", "function");
        }
        jw_str(w, "name", t->name);
        jw_str(w, "description", t->description);
        put_raw(w, shape == TOOLS_ANTHROPIC ? "input_schema" : "parameters", t->schema,
                strlen(t->schema));
        if (shape == TOOLS_CHAT)
            jw_end_obj(w);
        jw_end_obj(w);
    }
    jw_end_arr(w);
    if (p->tool_auto) {
        if (shape == TOOLS_ANTHROPIC) {
            jw_obj(w, "tool_choice");
            jw_str(w, "type", "auto");
            jw_end_obj(w);
        } else {
            jw_str(w, "tool_choice", "auto");
        }
    }
}

static void body_chat(struct calls *c, const struct plan *p, struct jbuf *b)
{
    struct jw w;
    jw_init(&w, b);
    jw_obj(&w, NULL);
    jw_str(&w, "model", p->m->name);
    jw_arr(&w, "messages");
    jw_obj(&w, NULL);
    jw_str(&w, "role", p->developer ? "developer" : "system");
    put_system_text(c, &w, "content");
    jw_end_obj(&w);
    if (p->has_prior) {
        put_msg(&w, "user", &c->prior_q, NULL);
        put_msg(&w, "assistant", &c->prior_a, NULL);
    }
    put_msg(&w, "user", &c->user, p->parts ? "text" : NULL);
    if (p->tool_loop) {
        jw_obj(&w, NULL);
        jw_str(&w, "role", "assistant");
        jw_null(&w, "content");
        jw_arr(&w, "tool_calls");
        jw_obj(&w, NULL);
        jw_str(&w, "id", p->call_id);
        jw_str(&w, "type", "function");
        jw_obj(&w, "function");
        jw_str(&w, "name", cl_tools[p->tool].name);
        jw_strn(&w, "arguments", c->args.data, c->args.len);
        jw_end_obj(&w);
        jw_end_obj(&w);
        jw_end_arr(&w);
        jw_end_obj(&w);
        jw_obj(&w, NULL);
        jw_str(&w, "role", "tool");
        jw_str(&w, "tool_call_id", p->call_id);
        jw_strn(&w, "content", c->tool_res.data, c->tool_res.len);
        jw_end_obj(&w);
    }
    jw_end_arr(&w);
    if (p->has_tools)
        put_tools(p, &w, TOOLS_CHAT);
    if (p->effort)
        jw_str(&w, "reasoning_effort", p->effort);
    else
        jw_num(&w, "temperature", p->temperature, 2);
    jw_int(&w, p->max_completion ? "max_completion_tokens" : "max_tokens", p->max_tokens);
    if (p->stream) {
        jw_bool(&w, "stream", true);
        if (p->include_usage) {
            jw_obj(&w, "stream_options");
            jw_bool(&w, "include_usage", true);
            jw_end_obj(&w);
        }
    }
    jw_end_obj(&w);
}

static void body_responses(struct calls *c, const struct plan *p, struct jbuf *b)
{
    struct jw w;
    jw_init(&w, b);
    jw_obj(&w, NULL);
    jw_str(&w, "model", p->m->name);
    put_system_text(c, &w, "instructions");
    if (p->input_string) {
        jw_strn(&w, "input", c->user.data, c->user.len);
    } else {
        jw_arr(&w, "input");
        if (p->has_prior) {
            put_msg(&w, "user", &c->prior_q, NULL);
            put_msg(&w, "assistant", &c->prior_a, NULL);
        }
        put_msg(&w, "user", &c->user, p->parts ? "input_text" : NULL);
        if (p->tool_loop) {
            jw_obj(&w, NULL);
            jw_str(&w, "type", "function_call");
            jw_str(&w, "call_id", p->call_id);
            jw_str(&w, "name", cl_tools[p->tool].name);
            jw_strn(&w, "arguments", c->args.data, c->args.len);
            jw_end_obj(&w);
            jw_obj(&w, NULL);
            jw_str(&w, "type", "function_call_output");
            jw_str(&w, "call_id", p->call_id);
            jw_strn(&w, "output", c->tool_res.data, c->tool_res.len);
            jw_end_obj(&w);
        }
        jw_end_arr(&w);
    }
    if (p->has_tools)
        put_tools(p, &w, TOOLS_RESPONSES);
    if (p->effort) {
        jw_obj(&w, "reasoning");
        jw_str(&w, "effort", p->effort);
        jw_end_obj(&w);
    } else {
        jw_num(&w, "temperature", p->temperature, 2);
    }
    jw_int(&w, "max_output_tokens", p->max_tokens);
    jw_bool(&w, "store", false);
    if (p->stream)
        jw_bool(&w, "stream", true);
    jw_end_obj(&w);
}

static void body_messages(struct calls *c, const struct plan *p, struct jbuf *b)
{
    struct jw w;
    jw_init(&w, b);
    jw_obj(&w, NULL);
    jw_str(&w, "model", p->m->name);
    jw_int(&w, "max_tokens", p->max_tokens);
    if (p->long_sys) {
        /* the stable prefix is marked for the prompt cache; the passages vary */
        jw_arr(&w, "system");
        jw_obj(&w, NULL);
        jw_str(&w, "type", "text");
        jw_strn(&w, "text", c->sys.data, c->sys.len);
        jw_obj(&w, "cache_control");
        jw_str(&w, "type", "ephemeral");
        jw_end_obj(&w);
        jw_end_obj(&w);
        if (c->ctx.len) {
            jw_obj(&w, NULL);
            jw_str(&w, "type", "text");
            jw_strn(&w, "text", c->ctx.data, c->ctx.len);
            jw_end_obj(&w);
        }
        jw_end_arr(&w);
    } else {
        put_system_text(c, &w, "system");
    }
    jw_arr(&w, "messages");
    if (p->has_prior) {
        put_msg(&w, "user", &c->prior_q, NULL);
        put_msg(&w, "assistant", &c->prior_a, NULL);
    }
    put_msg(&w, "user", &c->user, p->parts ? "text" : NULL);
    if (p->tool_loop) {
        jw_obj(&w, NULL);
        jw_str(&w, "role", "assistant");
        jw_arr(&w, "content");
        jw_obj(&w, NULL);
        jw_str(&w, "type", "text");
        jw_str(&w, "text", "Let me check that first.");
        jw_end_obj(&w);
        jw_obj(&w, NULL);
        jw_str(&w, "type", "tool_use");
        jw_str(&w, "id", p->call_id);
        jw_str(&w, "name", cl_tools[p->tool].name);
        put_raw(&w, "input", c->args.data, c->args.len);
        jw_end_obj(&w);
        jw_end_arr(&w);
        jw_end_obj(&w);
        jw_obj(&w, NULL);
        jw_str(&w, "role", "user");
        jw_arr(&w, "content");
        jw_obj(&w, NULL);
        jw_str(&w, "type", "tool_result");
        jw_str(&w, "tool_use_id", p->call_id);
        jw_strn(&w, "content", c->tool_res.data, c->tool_res.len);
        jw_end_obj(&w);
        jw_end_arr(&w);
        jw_end_obj(&w);
    }
    jw_end_arr(&w);
    if (p->has_tools)
        put_tools(p, &w, TOOLS_ANTHROPIC);
    jw_num(&w, "temperature", p->temperature, 2);
    if (p->stream)
        jw_bool(&w, "stream", true);
    jw_end_obj(&w);
}

static void body_embeddings(struct calls *c, const struct plan *p, struct jbuf *b)
{
    struct jw w;
    jw_init(&w, b);
    jw_obj(&w, NULL);
    jw_str(&w, "model", p->m->name);
    if (p->ninputs == 1) {
        jw_strn(&w, "input", c->inp[0].data, c->inp[0].len);
    } else {
        jw_arr(&w, "input");
        for (int i = 0; i < p->ninputs; i++)
            jw_strn(&w, NULL, c->inp[i].data, c->inp[i].len);
        jw_end_arr(&w);
    }
    jw_str(&w, "encoding_format", p->base64 ? "base64" : "float");
    if (p->dims)
        jw_int(&w, "dimensions", p->dims);
    jw_end_obj(&w);
}

/* ---- headers ------------------------------------------------------------------ */

static void hdr(struct slot *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hdr(struct slot *k, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    struct curl_slist *l = curl_slist_append(k->hdrs, buf);
    if (!l) {
        fputs("llmtap-sim calls: out of memory\n", stderr);
        abort();
    }
    k->hdrs = l;
}

static void set_headers(struct calls *c, struct slot *k)
{
    const struct plan *p = &k->p;
    size_t si = (size_t)(p->svc - cl_services);
    curl_slist_free_all(k->hdrs);
    k->hdrs = NULL;
    hdr(k, "Content-Type: application/json");
    hdr(k, "Accept: %s", p->stream ? "text/event-stream" : "application/json");
    hdr(k, "Expect:");
    if (p->m->prov == P_ANTHROPIC) {
        hdr(k, "x-api-key: sk-ant-sim-%s", c->key[si]);
        hdr(k, "anthropic-version: 2023-06-01");
    } else {
        hdr(k, "Authorization: Bearer sk-sim-%s%s", p->m->prov == P_VLLM ? "vllm-" : "",
            c->key[si]);
    }
    hdr(k, "x-llmtap-service: %s", p->svc->name);
    if (p->tp) {
        hdr(k, "x-llmtap-prompt-template: %s", p->tp->name);
        hdr(k, "x-llmtap-prompt-version: %d", p->version);
    }
    if (p->has_user) {
        hdr(k, "x-llmtap-user: u_%04x", p->user);
        hdr(k, "x-llmtap-session: s_%04x", p->session);
    }
    if (p->has_tags)
        hdr(k, "x-llmtap-tags: tenant=%s,deployment=%s%s%s", p->tenant,
            p->canary ? "canary" : "stable", p->region ? ",region=" : "",
            p->region ? p->region : "");
    if (p->has_trace)
        hdr(k, "traceparent: 00-%s-%s-01", p->trace_id, p->parent_id);
    if (p->expect != 200)
        hdr(k, "x-sim-status: %d", p->expect);
    if (p->delay_ms >= 0)
        hdr(k, "x-sim-delay-ms: %ld", p->delay_ms);
    if (p->ttft_ms >= 0)
        hdr(k, "x-sim-ttft-ms: %ld", p->ttft_ms);
    if (p->interval_ms >= 0)
        hdr(k, "x-sim-chunk-interval-ms: %ld", p->interval_ms);
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
    plan_call(c, &k->p);
    const struct plan *p = &k->p;
    jbuf_reset(&k->body);
    switch (p->kind) {
    case K_CHAT: body_chat(c, p, &k->body); break;
    case K_RESPONSES: body_responses(c, p, &k->body); break;
    case K_MESSAGES: body_messages(c, p, &k->body); break;
    default: body_embeddings(c, p, &k->body); break;
    }
    set_headers(c, k);
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

    /* the fleet: prompt versions, users and keys from their own stream */
    struct rng fr;
    rng_seed(&fr, o->seed, 11);
    for (size_t s = 0; s < NSERVICES; s++) {
        c->svc_weights[s] = cl_services[s].weight;
        for (int t = 0; t < 3; t++)
            c->version[s][t] = (int)rng_range(&fr, 2, 9);
        alnum_id(&fr, "", 20, c->key[s], sizeof c->key[s]);
    }
    for (int u = 0; u < NUSERS; u++)
        c->users[u] = (uint32_t)rng_below(&fr, 0x10000);
    rng_seed(&c->r, o->seed, 12);

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
    struct jbuf *bufs[] = {&c->line, &c->sys,  &c->ctx,      &c->prior_q, &c->prior_a,
                           &c->user, &c->args, &c->tool_res, &c->tmp,     &c->sse_data};
    for (size_t i = 0; i < COUNT(bufs); i++)
        jbuf_free(bufs[i]);
    for (size_t i = 0; i < MAX_INPUTS; i++)
        jbuf_free(&c->inp[i]);
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
