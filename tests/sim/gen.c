/*
 * gen.c — builds plausible llmtap.event/1 events.
 *
 * DESIGN: a fixed catalogue of services (each with a text domain, prompt
 * templates, a model mix and tools) and of models (provider, dated response
 * name, prices, latency profile). An event is made in two steps: plan —
 * draw every choice from the rng and write the free texts into scratch
 * buffers, then compute tokens, latency and cost from what was written —
 * and serialize, in the field order of EVENT_SCHEMA.md. The scratch buffers
 * and the output buffer are reused, so a long run allocates nothing once the
 * buffers have grown.
 *
 * The rng draws never depend on the time passed in, so the content sequence
 * is a pure function of (seed, options). Sizes are steered by one scale
 * factor applied to the lengths of the free texts (below 1 it also drops
 * documents, system prompts and earlier turns); size_curve maps the wanted
 * mean size to that factor. No event exceeds ~700 KB (GEN_TEXT_CAP per text).
 */
#include "gen.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rng.h"
#include "text.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Mean event size (bytes) as a function of the text scale factor, measured
 * over 20,000 events (llmtap-sim generate --stats). gen_create() inverts it
 * by linear interpolation to turn --size-hint into a scale. Re-measure when
 * the pools or the size medians change.
 */
static const struct {
    double scale, mean;
} size_curve[] = {
    {0.01, 1079}, {0.1, 1134}, {0.2, 1217}, {0.3, 1324},  {0.4, 1445}, {0.5, 1574}, {0.6, 1723},
    {0.7, 1895},  {0.8, 2049}, {1, 2449},   {1.25, 2722}, {1.5, 3012}, {2, 3547},   {3, 4723},
    {5, 6907},    {8, 10353},  {12, 14984}, {20, 23989},  {30, 34639}, {45, 50584}, {70, 73011},
};

static double gen_scale_for(double mean)
{
    size_t n = sizeof size_curve / sizeof size_curve[0];
    if (mean <= size_curve[0].mean)
        return size_curve[0].scale;
    for (size_t i = 1; i < n; i++)
        if (mean <= size_curve[i].mean || i == n - 1) {
            double f =
                (mean - size_curve[i - 1].mean) / (size_curve[i].mean - size_curve[i - 1].mean);
            return size_curve[i - 1].scale + f * (size_curve[i].scale - size_curve[i - 1].scale);
        }
    return 1;
}

/* ---- models ------------------------------------------------------------- */

enum { M_REASONING = 1, M_EMBED = 2 };

struct model {
    const char *provider;
    const char *name;
    const char *dated;                        /* response_model variant, or NULL */
    double in_price, out_price, cached_price; /* USD per million tokens */
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

static const struct model models[MODEL_COUNT] = {
    [GPT_4O_MINI] = {"openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", 0.15, 0.60, 0.075, 380, 11,
                     0},
    [GPT_4O] = {"openai", "gpt-4o", "gpt-4o-2024-08-06", 2.50, 10.00, 1.25, 520, 17, 0},
    [O3_MINI] = {"openai", "o3-mini", "o3-mini-2025-01-31", 1.10, 4.40, 0.55, 900, 8, M_REASONING},
    [CLAUDE_SONNET] = {"anthropic", "claude-sonnet-4-5", "claude-sonnet-4-5-20250929", 3.00, 15.00,
                       0.30, 950, 19, 0},
    [CLAUDE_HAIKU] = {"anthropic", "claude-haiku-4-5", "claude-haiku-4-5-20251001", 1.00, 5.00,
                      0.10, 520, 9, 0},
    [LLAMA_8B] = {"vllm", "llama-3.1-8b-instruct", NULL, 0.05, 0.10, 0, 110, 7, 0},
    [LLAMA_70B] = {"vllm", "llama-3.1-70b-instruct", NULL, 0.35, 0.60, 0, 320, 24, 0},
    [QWEN_7B] = {"vllm", "qwen2.5-7b-instruct", NULL, 0.05, 0.10, 0, 100, 7, 0},
    [EMBED_3_SMALL] = {"openai", "text-embedding-3-small", NULL, 0.02, 0, 0, 0, 0, M_EMBED},
    [BGE_M3] = {"vllm", "bge-m3", NULL, 0.01, 0, 0, 0, 0, M_EMBED},
};

/* ---- services ----------------------------------------------------------- */

struct tmpl {
    const char *name;
    int ctx_min, ctx_max; /* retrieved documents */
    double doc_bytes;     /* median length of one document */
    double answer_bytes;  /* median length of the answer */
    double detail_bytes;  /* median extra detail in the user message */
    double prior_p;       /* chance of earlier turns in the conversation */
    double tool_p;        /* chance the model answers with a tool call */
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
    int nchat;
    struct pick embed[2];
    int nembed;
    double embed_p, stream_p;
    const char *ctx_source[3];
    const char *ctx_prefix;
    const char *tools[2];
    const char *features[3];
};

static const struct service services[] = {
    {"support-bot",
     TEXT_SUPPORT,
     34,
     {{"support-answer", 2, 5, 260, 420, 40, 0.2, 0, 0.2},
      {"support-triage", 0, 1, 200, 260, 90, 0.1, 0, 0.0},
      {"support-followup", 1, 3, 240, 380, 30, 0.9, 0, 0.3}},
     3,
     {{GPT_4O_MINI, 60}, {CLAUDE_HAIKU, 30}, {GPT_4O, 10}},
     3,
     {{0, 0}},
     0,
     0,
     0.8,
     {"helpcenter", "zendesk-macros", "release-notes"},
     "kb-",
     {NULL, NULL},
     {"answer-v2", "handoff", "csat-prompt"}},
    {"search-api",
     TEXT_SEARCH,
     25,
     {{"query-rewrite", 0, 0, 0, 160, 10, 0.05, 0, 0.0},
      {"rerank-explain", 3, 5, 120, 260, 20, 0, 0, 0.2}},
     2,
     {{GPT_4O_MINI, 50}, {LLAMA_8B, 50}},
     2,
     {{EMBED_3_SMALL, 60}, {BGE_M3, 40}},
     2,
     0.35,
     0.1,
     {"product-catalog", "reviews", "helpcenter"},
     "sku-",
     {NULL, NULL},
     {"semantic-search", "spell-fix", "facets"}},
    {"summarizer",
     TEXT_SUMMARY,
     10,
     {{"doc-summary", 1, 2, 1300, 700, 20, 0, 0, 0.3},
      {"meeting-notes", 1, 1, 1900, 800, 20, 0.05, 0, 0.2},
      {"email-digest", 1, 2, 900, 500, 20, 0, 0, 0.3}},
     3,
     {{CLAUDE_SONNET, 50}, {GPT_4O, 30}, {CLAUDE_HAIKU, 20}},
     3,
     {{0, 0}},
     0,
     0,
     0.5,
     {"gdrive", "confluence", "gmail"},
     "doc-",
     {NULL, NULL},
     {"digest", "notes-bot", "exec-brief"}},
    {"code-review",
     TEXT_CODE,
     10,
     {{"pr-review", 0, 2, 380, 650, 200, 0.3, 0.25, 0.1},
      {"diff-explain", 0, 1, 300, 450, 150, 0.1, 0.1, 0.2}},
     2,
     {{O3_MINI, 45}, {CLAUDE_SONNET, 55}},
     2,
     {{0, 0}},
     0,
     0,
     0.3,
     {"github", "runbooks", "adr"},
     "gh-",
     {"get_file_contents", "post_review_comment"},
     {"auto-review", "security-scan", "explain"}},
    {"translator",
     TEXT_TRANSLATE,
     8,
     {{"ui-translate", 0, 1, 120, 140, 20, 0, 0, 0.0},
      {"doc-translate", 0, 1, 160, 520, 300, 0, 0, 0.3}},
     2,
     {{GPT_4O_MINI, 50}, {CLAUDE_HAIKU, 30}, {QWEN_7B, 20}},
     3,
     {{0, 0}},
     0,
     0,
     0.2,
     {"glossary", "style-guide", "tm"},
     "tm-",
     {NULL, NULL},
     {"l10n-ui", "l10n-docs", "marketing"}},
    {"analytics-copilot",
     TEXT_ANALYTICS,
     13,
     {{"text-to-sql", 1, 3, 220, 380, 40, 0.3, 0.35, 0.0},
      {"chart-explain", 0, 2, 200, 420, 30, 0.2, 0, 0.4}},
     2,
     {{LLAMA_70B, 50}, {LLAMA_8B, 20}, {GPT_4O, 30}},
     3,
     {{0, 0}},
     0,
     0,
     0.6,
     {"dbt-docs", "warehouse-schema", "metrics-layer"},
     "tbl-",
     {"run_sql", NULL},
     {"nl2sql", "chart-ai", "insights"}},
};
#define NSERVICES COUNT(services)

#define HOSTS_PER 3
#define NUSERS    400

struct gen {
    struct gen_opts o;
    struct rng r;
    double scale;
    uint64_t count;
    unsigned svc_weights[NSERVICES];
    char hosts[NSERVICES][2][HOSTS_PER][48];
    int version[NSERVICES][3];
    uint32_t users[NUSERS];
    /* scratch, reused for every event */
    struct jbuf sys, prior_q, prior_a, tool_res, user, answer, args, tmp, doc[5];
};

int gen_create(const struct gen_opts *o, struct gen **out)
{
    *out = NULL;
    if ((o->size_hint && (o->size_hint < GEN_MIN_SIZE || o->size_hint > GEN_MAX_SIZE)) ||
        o->pii_rate < 0 || o->pii_rate > 1 || o->error_rate > 1) {
        errno = EINVAL;
        return -1;
    }
    struct gen *g = calloc(1, sizeof *g);
    if (!g) {
        errno = ENOMEM;
        return -1;
    }
    g->o = *o;
    if (!g->o.source)
        g->o.source = "agent-intake";
    if (g->o.error_rate < 0)
        g->o.error_rate = 0.035;
    g->scale = gen_scale_for(o->size_hint ? (double)o->size_hint : GEN_DEFAULT_SIZE);

    /* Fleet layout (hosts, prompt versions, users) from its own stream, so it
     * does not shift the event stream. */
    struct rng fr;
    rng_seed(&fr, o->seed, 1);
    static const char alnum[] = "bcdfghjklmnpqrstvwxz2456789";
    for (size_t s = 0; s < NSERVICES; s++) {
        g->svc_weights[s] = services[s].weight;
        for (int e = 0; e < 2; e++) {
            unsigned rs = (unsigned)rng_below(&fr, 0x10000);
            for (int h = 0; h < HOSTS_PER; h++) {
                char pod[6];
                for (int i = 0; i < 5; i++)
                    pod[i] = alnum[rng_below(&fr, sizeof alnum - 1)];
                pod[5] = '\0';
                snprintf(g->hosts[s][e][h], sizeof g->hosts[s][e][h], "%s-%04x-%s",
                         services[s].name, rs, pod);
            }
        }
        for (int t = 0; t < 3; t++)
            g->version[s][t] = (int)rng_range(&fr, 2, 9);
    }
    for (int u = 0; u < NUSERS; u++)
        g->users[u] = (uint32_t)rng_below(&fr, 0x10000);
    rng_seed(&g->r, o->seed, 2);
    *out = g;
    return 0;
}

void gen_destroy(struct gen *g)
{
    if (!g)
        return;
    jbuf_free(&g->sys);
    jbuf_free(&g->prior_q);
    jbuf_free(&g->prior_a);
    jbuf_free(&g->tool_res);
    jbuf_free(&g->user);
    jbuf_free(&g->answer);
    jbuf_free(&g->args);
    jbuf_free(&g->tmp);
    for (size_t i = 0; i < COUNT(g->doc); i++)
        jbuf_free(&g->doc[i]);
    free(g);
}

uint64_t gen_count(const struct gen *g)
{
    return g->count;
}

/* ---- helpers ------------------------------------------------------------ */

static void hex_id(struct rng *r, char *out, int nhex)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t x = 0;
    for (int i = 0; i < nhex; i++) {
        if (i % 16 == 0)
            x = rng_next(r);
        out[i] = hex[x & 15];
        x >>= 4;
    }
    out[nhex] = '\0';
}

/* ULID: 48-bit millisecond time + 80 random bits, Crockford base32. */
static void ulid(uint64_t ms, uint64_t rhi, uint64_t rlo, char out[27])
{
    static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    ms &= 0xFFFFFFFFFFFFULL;
    for (int i = 9; i >= 0; i--) {
        out[i] = b32[ms & 31];
        ms >>= 5;
    }
    /* 80 random bits: 16 from rhi, 64 from rlo → 16 characters. */
    uint64_t hi = rhi & 0xFFFF;
    for (int i = 25; i >= 10; i--) {
        out[i] = b32[rlo & 31];
        rlo = (rlo >> 5) | ((hi & 31) << 59);
        hi >>= 5;
    }
    out[26] = '\0';
}

static void rfc3339(int64_t t_us, char out[32])
{
    time_t s = (time_t)(t_us / 1000000);
    int64_t us = t_us % 1000000;
    if (us < 0) {
        us += 1000000;
        s -= 1;
    }
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%06dZ", (int)us);
}

/* A log-normal text length around median * scale, within [lo, hi * scale]
 * (hi unscaled below scale 1) and never above GEN_TEXT_CAP, so that an
 * event stays well under the 1 MiB event limit at any --size-hint. */
#define GEN_TEXT_CAP (96.0 * 1024)
static size_t target_len(struct rng *r, double median, double sigma, double scale, double lo,
                         double hi)
{
    double v = rng_lognormal(r, median * scale, sigma);
    double top = hi * (scale > 1 ? scale : 1);
    if (top > GEN_TEXT_CAP)
        top = GEN_TEXT_CAP;
    if (v > top)
        v = top;
    if (v < lo)
        v = lo;
    return (size_t)v;
}

static void add_pii(struct rng *r, struct jbuf *b)
{
    static const char *const first[] = {"jane", "john", "maria", "wei", "olga", "ahmed"};
    static const char *const last[] = {"doe", "smith", "garcia", "zhang", "petrova", "khan"};
    switch (rng_below(r, 3)) {
    case 0:
        jbuf_printf(b, " You can reach me at %s.%s@example.com.", first[rng_below(r, 6)],
                    last[rng_below(r, 6)]);
        break;
    case 1:
        jbuf_printf(b, " My phone number is +1 415-555-%04d.", (int)rng_range(r, 100, 9999));
        break;
    default: jbuf_puts(b, " The card ending in 1111 was charged, full number 4111 1111 1111 1111.");
    }
}

/* The first sentence of a text, for answers that quote their context. */
static size_t first_sentence(const struct jbuf *b)
{
    for (size_t i = 0; i + 1 < b->len; i++)
        if ((b->data[i] == '.' || b->data[i] == '\n') &&
            (b->data[i + 1] == ' ' || b->data[i + 1] == '\n'))
            return b->data[i] == '.' ? i + 1 : i;
    return b->len;
}

static void put_message(struct jw *w, const char *role, const struct jbuf *text, bool parts,
                        const char *name)
{
    jw_obj(w, NULL);
    jw_str(w, "role", role);
    if (name)
        jw_str(w, "name", name);
    if (parts) {
        jw_arr(w, "content");
        jw_obj(w, NULL);
        jw_str(w, "type", "text");
        jw_strn(w, "text", text->data, text->len);
        jw_end_obj(w);
        jw_end_arr(w);
    } else {
        jw_strn(w, "content", text->data, text->len);
    }
    jw_end_obj(w);
}

/* The JSON arguments of a tool call, into `out`; `tmp` is scratch. */
static void tool_args(struct rng *r, const char *tool, enum text_domain d, struct jbuf *out,
                      struct jbuf *tmp)
{
    jbuf_reset(out);
    jbuf_reset(tmp);
    struct jw w;
    jw_init(&w, out);
    jw_obj(&w, NULL);
    if (strcmp(tool, "run_sql") == 0) {
        text_expand(r, d,
                    "SELECT {col}, COUNT(*) FROM {table} WHERE created_at > now() - interval '{n2} "
                    "days' AND status = 'paid' GROUP BY 1",
                    tmp);
        jw_strn(&w, "query", tmp->data, tmp->len);
        jw_int(&w, "limit", rng_range(r, 10, 500));
    } else if (strcmp(tool, "get_file_contents") == 0) {
        text_slot(r, d, "file", tmp);
        jw_strn(&w, "path", tmp->data, tmp->len);
        jw_str(&w, "ref", "HEAD");
    } else {
        text_slot(r, d, "file", tmp);
        jw_strn(&w, "path", tmp->data, tmp->len);
        jw_int(&w, "line", rng_range(r, 10, 600));
        jbuf_reset(tmp);
        text_expand(r, d, "Possible issue: {cissue} in `{func}`.", tmp);
        jw_strn(&w, "body", tmp->data, tmp->len);
    }
    jw_end_obj(&w);
}

static double round1(double v)
{
    return floor(v * 10 + 0.5) / 10;
}

/* ---- the event ---------------------------------------------------------- */

size_t gen_event(struct gen *g, int64_t t_us, struct jbuf *out)
{
    struct rng *r = &g->r;
    const size_t start_len = out->len;
    g->count++;

    /* --- plan: identity and routing --- */
    size_t si = rng_weighted(r, g->svc_weights, NSERVICES);
    const struct service *svc = &services[si];
    int env = rng_chance(r, 0.8) ? 0 : 1;
    const char *host = g->hosts[si][env][rng_below(r, HOSTS_PER)];
    uint64_t id_hi = rng_next(r), id_lo = rng_next(r);
    char trace_id[33], span_id[17], parent_id[17];
    bool has_trace = rng_chance(r, 0.85), has_parent = rng_chance(r, 0.45);
    hex_id(r, trace_id, 32);
    hex_id(r, span_id, 16);
    hex_id(r, parent_id, 16);

    bool embed = svc->nembed > 0 && rng_chance(r, svc->embed_p);
    const struct model *m;
    const struct tmpl *tp = NULL;
    int ti = 0;
    if (embed) {
        unsigned w[2] = {svc->embed[0].weight, svc->embed[1].weight};
        m = &models[svc->embed[rng_weighted(r, w, (size_t)svc->nembed)].model];
    } else {
        unsigned w[3] = {0, 0, 0};
        for (int i = 0; i < svc->nchat; i++)
            w[i] = svc->chat[i].weight;
        m = &models[svc->chat[rng_weighted(r, w, (size_t)svc->nchat)].model];
        ti = (int)rng_below(r, (uint64_t)svc->ntmpl);
        tp = &svc->tmpls[ti];
    }
    int version = g->version[si][ti] - (rng_chance(r, 0.25) ? 1 : 0);
    bool dated = m->dated && rng_chance(r, 0.7);

    double u = rng_unit(r);
    int status = 200;
    if (u < g->o.error_rate * 0.7)
        status = 429;
    else if (u < g->o.error_rate)
        status = 500;
    bool stream = !embed && rng_chance(r, svc->stream_p);

    /* --- plan: texts --- */
    /* Below the default size, also drop whole parts (documents, system
     * prompts, earlier turns), not just shorten texts. */
    double shrink = g->scale < 1 ? g->scale : 1;
    jbuf_reset(&g->sys);
    jbuf_reset(&g->prior_q);
    jbuf_reset(&g->prior_a);
    jbuf_reset(&g->tool_res);
    jbuf_reset(&g->user);
    jbuf_reset(&g->answer);
    jbuf_reset(&g->args);
    bool has_sys = false, has_prior = false, prior_tool = false, parts = false;
    const char *tool = NULL;
    int ndocs = 0;
    if (embed) {
        text_doc(r, svc->domain, target_len(r, 220, 0.8, g->scale, 20, 2400), &g->user);
    } else {
        has_sys = rng_chance(r, 0.95 * (0.3 + 0.7 * shrink));
        if (has_sys)
            text_system(r, svc->domain, &g->sys);
        if (rng_chance(r, tp->prior_p * shrink)) {
            has_prior = true;
            text_question(r, svc->domain, 0, &g->prior_q);
            text_answer(r, svc->domain,
                        target_len(r, tp->answer_bytes * 0.5, 0.5, g->scale, 30, 1500),
                        &g->prior_a);
            if (svc->tools[0] && rng_chance(r, 0.5)) {
                prior_tool = true;
                if (strcmp(svc->tools[0], "run_sql") == 0)
                    text_expand(r, svc->domain,
                                "{\"columns\": [\"{col}\", \"total\"], \"rows\": [[\"{region}\", "
                                "{n}], [\"{region}\", {n}]], \"row_count\": 2}",
                                &g->tool_res);
                else
                    text_expand(
                        r, svc->domain,
                        "{\"path\": \"{file}\", \"size\": {n}, \"content\": \"/* … */\\n\"}",
                        &g->tool_res);
            }
        }
        size_t detail =
            rng_chance(r, 0.6) ? target_len(r, tp->detail_bytes, 0.7, g->scale, 0, 3000) : 0;
        text_question(r, svc->domain, detail, &g->user);
        parts = rng_chance(r, 0.05);
        if (g->o.pii_rate > 0 && rng_chance(r, g->o.pii_rate))
            add_pii(r, &g->user);

        ndocs = (int)rng_range(r, tp->ctx_min, tp->ctx_max);
        ndocs = (int)floor(ndocs * shrink + rng_unit(r) * (shrink < 1 ? 1 : 0));
        if (ndocs > tp->ctx_max)
            ndocs = tp->ctx_max;
        for (int i = 0; i < ndocs; i++) {
            jbuf_reset(&g->doc[i]);
            text_doc(r, svc->domain, target_len(r, tp->doc_bytes, 0.7, g->scale, 40, 6000),
                     &g->doc[i]);
        }
    }
    double scores[5];
    double sc = 0.55 + 0.44 * rng_unit(r);
    for (int i = 0; i < ndocs; i++) {
        scores[i] = floor(sc * 10000) / 10000;
        sc *= 0.7 + 0.29 * rng_unit(r);
    }
    unsigned doc_ids[5];
    for (int i = 0; i < ndocs; i++)
        doc_ids[i] = (unsigned)rng_range(r, 10, 9999);

    /* --- plan: response --- */
    const char *finish = NULL;
    bool has_text = false;
    if (status == 200 && !embed) {
        double f = rng_unit(r);
        if (svc->tools[0] && f < tp->tool_p) {
            finish = "tool_calls";
            tool = svc->tools[svc->tools[1] && rng_chance(r, 0.5) ? 1 : 0];
            tool_args(r, tool, svc->domain, &g->args, &g->tmp);
            has_text = rng_chance(r, 0.4);
            if (has_text)
                text_expand(r, svc->domain,
                            rng_chance(r, 0.5) ? "Let me look that up first."
                                               : "I'll check the {table} data before answering.",
                            &g->answer);
        } else {
            finish = f < 0.97 ? "stop" : f < 0.995 ? "length" : "content_filter";
            has_text = strcmp(finish, "content_filter") != 0 || rng_chance(r, 0.5);
            if (has_text) {
                if (ndocs > 0 && rng_chance(r, 0.35)) {
                    /* Grounded answers quote their context. */
                    size_t n = first_sentence(&g->doc[0]);
                    jbuf_puts(&g->answer, rng_chance(r, 0.5) ? "According to the documentation: "
                                                             : "From the retrieved context: ");
                    jbuf_put(&g->answer, g->doc[0].data, n);
                    jbuf_puts(&g->answer, "\n\n");
                }
                text_answer(r, svc->domain,
                            target_len(r, tp->answer_bytes, 0.8, g->scale, 20, 7000), &g->answer);
            }
        }
    }

    /* --- plan: numbers --- */
    int64_t in_tok = 0, out_tok = 0, cached = 0, reasoning = 0;
    in_tok = (int64_t)text_tokens(g->user.data, g->user.len) + 4;
    if (has_sys)
        in_tok += (int64_t)text_tokens(g->sys.data, g->sys.len) + 4;
    if (has_prior)
        in_tok += (int64_t)(text_tokens(g->prior_q.data, g->prior_q.len) +
                            text_tokens(g->prior_a.data, g->prior_a.len)) +
                  8;
    if (prior_tool)
        in_tok += (int64_t)text_tokens(g->tool_res.data, g->tool_res.len) + 12;
    for (int i = 0; i < ndocs; i++)
        in_tok += (int64_t)text_tokens(g->doc[i].data, g->doc[i].len) + 12;
    if (svc->tools[0] && !embed)
        in_tok += 120; /* tool schemas */
    const char *effort = NULL;
    if (m->flags & M_REASONING) {
        static const char *const efforts[] = {"low", "medium", "high"};
        int e = (int)rng_below(r, 3);
        effort = efforts[e];
        static const double med[] = {180, 900, 3200};
        reasoning = (int64_t)rng_lognormal(r, med[e], 0.6);
    }
    if (status == 200 && !embed) {
        out_tok = (int64_t)text_tokens(g->answer.data, g->answer.len) +
                  (int64_t)text_tokens(g->args.data, g->args.len) + 1 + reasoning;
        if (strcmp(m->provider, "vllm") != 0 && in_tok >= 256 && rng_chance(r, 0.3))
            cached = (int64_t)(in_tok * (0.3 + 0.6 * rng_unit(r))) / 64 * 64;
    } else {
        reasoning = 0;
    }
    static const int max_choices[] = {256, 512, 1024, 1024, 2048, 4096};
    int64_t max_tokens = max_choices[rng_below(r, COUNT(max_choices))];
    while (max_tokens < out_tok)
        max_tokens *= 2;
    if (finish && strcmp(finish, "length") == 0)
        max_tokens = out_tok;

    double latency, ttft = 0;
    if (embed) {
        latency = rng_lognormal(r, 28 + in_tok * 0.02, 0.4);
    } else if (status == 429) {
        latency = rng_lognormal(r, 45, 0.6);
    } else if (status == 500) {
        latency = rng_lognormal(r, m->ttft_ms * 2, 0.9);
    } else {
        ttft = rng_lognormal(r, m->ttft_ms, 0.35) + in_tok * 0.04 + reasoning * m->ms_per_token;
        latency = ttft + (out_tok - reasoning) * rng_lognormal(r, m->ms_per_token, 0.2) +
                  rng_lognormal(r, 12, 0.5);
    }
    latency = round1(latency);
    ttft = round1(ttft);
    if (ttft > latency)
        ttft = latency;

    double cost = 0;
    if (status == 200)
        cost = ((double)(in_tok - cached) * m->in_price + (double)cached * m->cached_price +
                (double)out_tok * m->out_price) /
               1e6;

    uint32_t uid = g->users[(size_t)(NUSERS * rng_unit(r) * rng_unit(r))];
    bool has_user = rng_chance(r, embed ? 0.3 : 0.92);
    unsigned sess = (uid * 2654435761u + (unsigned)rng_below(r, 4) * 40503u) & 0xFFFF;
    bool canary = rng_chance(r, 0.12);
    int region_i = rng_chance(r, 0.4) ? (int)rng_below(r, 4) : -1;
    int feature_i = rng_chance(r, 0.25) ? (int)rng_below(r, 3) : -1;
    int ab = rng_chance(r, 0.2) ? (int)rng_below(r, 2) : -1;
    bool has_tenant = rng_chance(r, 0.9);
    char tenant[32] = "";
    if (has_tenant) {
        jbuf_reset(&g->tmp);
        text_slot(r, svc->domain, "tenant", &g->tmp);
        snprintf(tenant, sizeof tenant, "%s", g->tmp.data);
    }
    char call_id[32];
    {
        static const char an[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        int pre = snprintf(call_id, sizeof call_id, "%s",
                           strcmp(m->provider, "anthropic") == 0 ? "toolu_" : "call_");
        for (int i = pre; i < pre + 24; i++)
            call_id[i] = an[rng_below(r, sizeof an - 1)];
        call_id[pre + 24] = '\0';
    }

    int64_t start_us = g->o.time_is_end ? t_us - (int64_t)(latency * 1000) : t_us;
    char id[27], ts[32];
    ulid((uint64_t)(start_us / 1000), id_hi, id_lo, id);
    rfc3339(start_us, ts);

    /* --- serialize --- */
    struct jw w;
    jw_init(&w, out);
    jw_obj(&w, NULL);
    jw_str(&w, "schema", "llmtap.event/1");
    jw_str(&w, "id", id);
    jw_str(&w, "time", ts);
    if (has_trace) {
        jw_str(&w, "trace_id", trace_id);
        jw_str(&w, "span_id", span_id);
        if (has_parent)
            jw_str(&w, "parent_span_id", parent_id);
    }
    jw_str(&w, "service", svc->name);
    jw_str(&w, "env", env ? "staging" : "prod");
    jw_str(&w, "host", host);
    jw_str(&w, "source", g->o.source);
    jw_str(&w, "provider", m->provider);
    jw_str(&w, "operation", embed ? "embeddings" : "chat");
    jw_str(&w, "request_model", m->name);
    if (status == 200)
        jw_str(&w, "response_model", dated ? m->dated : m->name);
    if (tp) {
        jw_str(&w, "prompt_template", tp->name);
        char v[4];
        snprintf(v, sizeof v, "%d", version);
        jw_str(&w, "prompt_version", v);
    }
    jw_bool(&w, "stream", stream);

    jw_obj(&w, "request");
    jw_arr(&w, "messages");
    if (has_sys)
        put_message(&w, "system", &g->sys, false, NULL);
    if (has_prior) {
        put_message(&w, "user", &g->prior_q, false, NULL);
        put_message(&w, "assistant", &g->prior_a, false, NULL);
        if (prior_tool)
            put_message(&w, "tool", &g->tool_res, false, svc->tools[0]);
    }
    put_message(&w, "user", &g->user, parts, NULL);
    jw_end_arr(&w);
    jw_obj(&w, "params");
    if (embed) {
        jw_int(&w, "dimensions", strcmp(m->name, "bge-m3") == 0 ? 1024 : 1536);
    } else {
        if (!effort)
            jw_num(&w, "temperature", tp->temperature, 2);
        jw_int(&w, "max_tokens", max_tokens);
        if (effort)
            jw_str(&w, "reasoning_effort", effort);
    }
    jw_end_obj(&w);
    jw_end_obj(&w);

    if (ndocs > 0) {
        jw_arr(&w, "context");
        for (int i = 0; i < ndocs; i++) {
            char did[24];
            snprintf(did, sizeof did, "%s%u", svc->ctx_prefix, doc_ids[i]);
            jw_obj(&w, NULL);
            jw_str(&w, "id", did);
            jw_str(&w, "source", svc->ctx_source[doc_ids[i] % 3]);
            jw_num(&w, "score", scores[i], 4);
            jw_strn(&w, "text", g->doc[i].data, g->doc[i].len);
            jw_end_obj(&w);
        }
        jw_end_arr(&w);
    }

    if (finish) {
        jw_obj(&w, "response");
        if (has_text)
            jw_strn(&w, "text", g->answer.data, g->answer.len);
        jw_str(&w, "finish_reason", finish);
        if (tool) {
            jw_arr(&w, "tool_calls");
            jw_obj(&w, NULL);
            jw_str(&w, "id", call_id);
            jw_str(&w, "type", "function");
            jw_obj(&w, "function");
            jw_str(&w, "name", tool);
            jw_strn(&w, "arguments", g->args.data, g->args.len);
            jw_end_obj(&w);
            jw_end_obj(&w);
            jw_end_arr(&w);
        }
        jw_end_obj(&w);
    }

    if (status == 200) {
        jw_obj(&w, "usage");
        jw_int(&w, "input_tokens", in_tok);
        jw_int(&w, "output_tokens", out_tok);
        if (cached)
            jw_int(&w, "cached_input_tokens", cached);
        if (m->flags & M_REASONING)
            jw_int(&w, "reasoning_tokens", reasoning);
        jw_end_obj(&w);
    }
    jw_num(&w, "latency_ms", latency, 1);
    if (stream && status == 200)
        jw_num(&w, "ttft_ms", ttft, 1);
    jw_int(&w, "status", status);
    if (status != 200) {
        jw_obj(&w, "error");
        bool anthropic = strcmp(m->provider, "anthropic") == 0;
        char msg[256];
        if (status == 429) {
            jw_str(&w, "type", anthropic ? "rate_limit_error" : "rate_limit_exceeded");
            if (anthropic)
                snprintf(msg, sizeof msg,
                         "This request would exceed your organization's rate limit of %d input "
                         "tokens per minute. Please retry after %d seconds.",
                         (int)rng_range(r, 4, 80) * 10000, (int)rng_range(r, 1, 30));
            else
                snprintf(msg, sizeof msg,
                         "Rate limit reached for %s in organization org-%.8s on tokens per min "
                         "(TPM): Limit %d, Used %d, Requested %d. Please try again in %dms.",
                         m->name, trace_id, 200000, (int)rng_range(r, 190000, 199999), (int)in_tok,
                         (int)rng_range(r, 50, 900));
        } else {
            jw_str(&w, "type",
                   anthropic                          ? "api_error"
                   : strcmp(m->provider, "vllm") == 0 ? "InternalServerError"
                                                      : "server_error");
            if (strcmp(m->provider, "vllm") == 0)
                snprintf(msg, sizeof msg,
                         "CUDA out of memory. Tried to allocate %d.00 MiB (GPU 0; 79.15 GiB total "
                         "capacity)",
                         (int)rng_range(r, 20, 900));
            else
                snprintf(
                    msg, sizeof msg,
                    "The server had an error while processing your request. Request id: req_%.24s",
                    trace_id);
        }
        jw_str(&w, "message", msg);
        jw_end_obj(&w);
    }
    jw_num(&w, "cost_usd", cost, 10);
    if (has_user) {
        char ub[8], sb[8];
        snprintf(ub, sizeof ub, "u_%04x", uid);
        snprintf(sb, sizeof sb, "s_%04x", sess);
        jw_str(&w, "user", ub);
        jw_str(&w, "session", sb);
    }
    jw_obj(&w, "tags");
    if (has_tenant)
        jw_str(&w, "tenant", tenant);
    jw_str(&w, "deployment", canary ? "canary" : "stable");
    if (region_i >= 0) {
        static const char *const regions[] = {"eu-west-1", "us-east-1", "us-west-2",
                                              "ap-northeast-1"};
        jw_str(&w, "region", regions[region_i]);
    }
    if (feature_i >= 0)
        jw_str(&w, "feature", svc->features[feature_i]);
    if (ab >= 0)
        jw_str(&w, "ab_bucket", ab ? "B" : "A");
    jw_end_obj(&w);
    jw_end_obj(&w);
    return out->len - start_len;
}
