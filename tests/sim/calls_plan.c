/*
 * calls_plan.c — what `llmtap-sim calls` sends: the catalogue of services,
 * prompt templates, models and tools, the plan of each call, and the call
 * written as its API's request body and headers. The loop that sends the
 * calls and checks the answers is calls.c.
 *
 * DESIGN
 * - Determinism: a call is planned with every choice drawn from one rng
 *   stream (seed, 12), in a fixed order, so the n-th call of a seed is
 *   always the same request, whatever the timing of the loop. The fleet
 *   (prompt versions per template, the user pool, one fake API key per
 *   service) is drawn once at start from its own stream (seed, 11).
 * - Catalogue: the services, prompt templates and models mirror gen.c's
 *   (the same names, weights and latency profiles; gen.c keeps its tables
 *   private), so intake events and proxied calls describe one fleet and the
 *   agent's price table prices every model. Without --vllm-prefix the vLLM
 *   models are skipped (another model of the service is drawn, or another
 *   service when it has none left).
 * - Plan, then write: a plan holds flags, numbers and pointers into the
 *   static tables; its texts (system prompt, passages, earlier exchange,
 *   user message, tool call and result, embedding inputs) go to scratch
 *   buffers in the planner, reused from call to call, so the body of a plan
 *   must be written before the next call is planned. The body writers put
 *   the same plan in each API's shape (chat completions, Responses,
 *   Anthropic messages, embeddings); the headers carry the provider's auth,
 *   the x-llmtap-* attribution, a traceparent and the x-sim-* asks of the
 *   upstream (a forced status; the model's latency times --latency-scale).
 */
#include "calls_plan.h"

#include <curl/curl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calls.h"
#include "jbuf.h"
#include "rng.h"
#include "text.h"

#define COUNT(a)     (sizeof(a) / sizeof((a)[0]))
#define MAX_DELAY_MS 15000.0 /* cap of the latency asked of the upstream */

/* ---- catalogue (mirrors gen.c) ----------------------------------------- */

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

/* The fleet (fixed at start), the call stream and the scratch texts. */
struct planner {
    const struct calls_opts *o;
    struct rng r;
    unsigned svc_weights[NSERVICES];
    int version[NSERVICES][3];
    uint32_t users[NUSERS];
    char key[NSERVICES][24]; /* fake API key suffix per service */
    /* scratch texts, reused for every call */
    struct jbuf sys, ctx, prior_q, prior_a, user, args, tool_res, tmp, inp[MAX_INPUTS];
};

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

static bool model_usable(const struct planner *pl, int mi)
{
    return cl_models[mi].prov != P_VLLM || pl->o->vllm_prefix != NULL;
}

/* A model from picks[0..n), skipping unusable ones; -1 when none is. */
static int pick_model(struct planner *pl, const struct pick *picks, size_t n)
{
    unsigned w[3] = {0, 0, 0}, total = 0;
    for (size_t i = 0; i < n && i < 3; i++) {
        if (picks[i].weight && model_usable(pl, picks[i].model))
            w[i] = picks[i].weight;
        total += w[i];
    }
    if (!total)
        return -1;
    return picks[rng_weighted(&pl->r, w, n)].model;
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
static void plan_latency(const struct planner *pl, struct plan *p, struct rng *r, size_t in_tok)
{
    double s = pl->o->latency_scale, d = -1, ttft = -1, iv = -1;
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
void plan_call(struct planner *pl, uint64_t n, struct plan *p)
{
    struct rng *r = &pl->r;
    memset(p, 0, sizeof *p);
    p->n = n;
    p->delay_ms = p->ttft_ms = p->interval_ms = -1;
    p->tool = -1;

    size_t si;
    int mi, ei = -1;
    for (;;) { /* a service with a usable model (always the first draw unless vLLM is off) */
        si = rng_weighted(r, pl->svc_weights, NSERVICES);
        const struct service *s = &cl_services[si];
        ei = s->embed_p > 0 && rng_chance(r, s->embed_p) ? pick_model(pl, s->embed, 2) : -1;
        mi = ei >= 0 ? ei : pick_model(pl, s->chat, 3);
        if (mi >= 0)
            break;
    }
    const struct service *svc = p->svc = &cl_services[si];
    const struct model *m = p->m = &cl_models[mi];
    enum text_domain d = svc->domain;

    double u = rng_unit(r);
    p->expect = u < pl->o->error_rate * 0.7 ? 429 : u < pl->o->error_rate ? 500 : 200;

    /* attribution */
    p->has_trace = rng_chance(r, 0.85);
    hex_id(r, p->trace_id, 32);
    hex_id(r, p->parent_id, 16);
    p->user = pl->users[(size_t)(NUSERS * rng_unit(r) * rng_unit(r))];
    p->session = (p->user * 2654435761u + (unsigned)rng_below(r, 4) * 40503u) & 0xFFFF;
    p->has_tags = rng_chance(r, 0.6);
    p->canary = rng_chance(r, 0.15);
    jbuf_reset(&pl->tmp);
    text_slot(r, d, "tenant", &pl->tmp);
    snprintf(p->tenant, sizeof p->tenant, "%s", pl->tmp.data);
    static const char *const regions[] = {"eu-west-1", "us-east-1", "us-west-2", "ap-northeast-1"};
    p->region = rng_chance(r, 0.3) ? regions[rng_below(r, COUNT(regions))] : NULL;

    if (ei >= 0) {
        p->kind = K_EMBEDDINGS;
        p->has_user = rng_chance(r, 0.3);
        p->ninputs = rng_chance(r, 0.6) ? 1 : (int)rng_range(r, 2, MAX_INPUTS);
        size_t in_tok = 0;
        for (int i = 0; i < p->ninputs; i++) {
            jbuf_reset(&pl->inp[i]);
            text_doc(r, d, clamp_len(rng_lognormal(r, 220, 0.8), 20, 2400), &pl->inp[i]);
            in_tok += text_tokens(pl->inp[i].data, pl->inp[i].len);
        }
        p->base64 = rng_chance(r, 0.7); /* the openai SDKs ask for base64 by default */
        p->dims = mi == BGE_M3 ? 1024 : rng_chance(r, 0.3) ? 512 : 0;
        plan_latency(pl, p, r, in_tok);
        return;
    }

    p->kind = m->prov == P_ANTHROPIC                       ? K_MESSAGES
              : m->prov == P_OPENAI && rng_chance(r, 0.25) ? K_RESPONSES
                                                           : K_CHAT;
    int ti = (int)rng_below(r, (uint64_t)svc->ntmpl);
    const struct tmpl *tp = p->tp = &svc->tmpls[ti];
    p->version = pl->version[si][ti] - (rng_chance(r, 0.25) ? 1 : 0);
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
    jbuf_reset(&pl->sys);
    jbuf_reset(&pl->ctx);
    text_system(r, d, &pl->sys);
    p->long_sys = rng_chance(r, m->prov == P_ANTHROPIC ? 0.35 : 0.12);
    if (p->long_sys) {
        jbuf_puts(&pl->sys, "\n\n# Reference handbook\n\n");
        text_doc(r, d, (size_t)rng_range(r, 4800, 9000), &pl->sys);
    }
    p->ndocs = (int)rng_range(r, tp->ctx_min, tp->ctx_max);
    if (p->ndocs > MAX_DOCS)
        p->ndocs = MAX_DOCS;
    if (p->ndocs > 0) {
        jbuf_puts(
            &pl->ctx,
            rng_chance(r, 0.5)
                ? "Answer from the context only and cite the passage ids."
                : "Use the retrieved passages below; say so when they do not answer the question.");
        double sc = 0.55 + 0.44 * rng_unit(r);
        for (int i = 0; i < p->ndocs; i++) {
            unsigned id = (unsigned)rng_range(r, 10, 9999);
            jbuf_printf(&pl->ctx, "\n<context id=\"%s%u\" source=\"%s\" score=\"%.2f\">\n",
                        svc->ctx_prefix, id, svc->ctx_source[id % 3], floor(sc * 100) / 100);
            text_doc(r, d, clamp_len(rng_lognormal(r, tp->doc_bytes, 0.7), 40, 6000), &pl->ctx);
            jbuf_puts(&pl->ctx, "\n</context>");
            sc *= 0.7 + 0.29 * rng_unit(r);
        }
    }

    jbuf_reset(&pl->prior_q);
    jbuf_reset(&pl->prior_a);
    p->has_prior = rng_chance(r, tp->prior_p);
    if (p->has_prior) {
        text_question(r, d, 0, &pl->prior_q);
        text_answer(r, d, clamp_len(rng_lognormal(r, 200, 0.5), 30, 1500), &pl->prior_a);
    }

    jbuf_reset(&pl->user);
    size_t detail =
        rng_chance(r, 0.6) ? clamp_len(rng_lognormal(r, tp->detail_bytes, 0.7), 0, 3000) : 0;
    text_question(r, d, detail, &pl->user);
    if (pl->o->pii_rate > 0 && rng_chance(r, pl->o->pii_rate))
        add_pii(r, &pl->user);
    p->parts = rng_chance(r, 0.08);
    p->input_string = p->kind == K_RESPONSES && !p->has_prior && !p->parts && rng_chance(r, 0.5);

    p->has_tools = svc->tools[0] >= 0;
    if (p->has_tools) {
        p->tool_auto = rng_chance(r, 0.5);
        p->tool_loop = rng_chance(r, 0.45);
        if (p->tool_loop) {
            p->tool = svc->tools[svc->tools[1] >= 0 && rng_chance(r, 0.5) ? 1 : 0];
            tool_args(r, p->tool, d, &pl->args, &pl->tmp);
            tool_result(r, p->tool, d, &pl->tool_res);
            if (p->kind == K_MESSAGES)
                alnum_id(r, "toolu_01", 22, p->call_id, sizeof p->call_id);
            else
                alnum_id(r, "call_", 24, p->call_id, sizeof p->call_id);
            p->input_string = false;
        }
    }

    size_t in_tok =
        text_tokens(pl->sys.data, pl->sys.len) + text_tokens(pl->ctx.data, pl->ctx.len) +
        text_tokens(pl->user.data, pl->user.len) + text_tokens(pl->prior_q.data, pl->prior_q.len) +
        text_tokens(pl->prior_a.data, pl->prior_a.len);
    plan_latency(pl, p, r, in_tok);
}

/* ---- request bodies --------------------------------------------------------- */

/* The system text as one string: instructions, then the passages. */
static void put_system_text(struct planner *pl, struct jw *w, const char *key)
{
    jw_raw_begin(w, key);
    jbuf_reset(&pl->tmp);
    jbuf_put(&pl->tmp, pl->sys.data, pl->sys.len);
    if (pl->ctx.len) {
        jbuf_puts(&pl->tmp, "\n\n");
        jbuf_put(&pl->tmp, pl->ctx.data, pl->ctx.len);
    }
    jbuf_json_str(w->b, pl->tmp.data, pl->tmp.len);
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

static void body_chat(struct planner *pl, const struct plan *p, struct jbuf *b)
{
    struct jw w;
    jw_init(&w, b);
    jw_obj(&w, NULL);
    jw_str(&w, "model", p->m->name);
    jw_arr(&w, "messages");
    jw_obj(&w, NULL);
    jw_str(&w, "role", p->developer ? "developer" : "system");
    put_system_text(pl, &w, "content");
    jw_end_obj(&w);
    if (p->has_prior) {
        put_msg(&w, "user", &pl->prior_q, NULL);
        put_msg(&w, "assistant", &pl->prior_a, NULL);
    }
    put_msg(&w, "user", &pl->user, p->parts ? "text" : NULL);
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
        jw_strn(&w, "arguments", pl->args.data, pl->args.len);
        jw_end_obj(&w);
        jw_end_obj(&w);
        jw_end_arr(&w);
        jw_end_obj(&w);
        jw_obj(&w, NULL);
        jw_str(&w, "role", "tool");
        jw_str(&w, "tool_call_id", p->call_id);
        jw_strn(&w, "content", pl->tool_res.data, pl->tool_res.len);
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

static void body_responses(struct planner *pl, const struct plan *p, struct jbuf *b)
{
    struct jw w;
    jw_init(&w, b);
    jw_obj(&w, NULL);
    jw_str(&w, "model", p->m->name);
    put_system_text(pl, &w, "instructions");
    if (p->input_string) {
        jw_strn(&w, "input", pl->user.data, pl->user.len);
    } else {
        jw_arr(&w, "input");
        if (p->has_prior) {
            put_msg(&w, "user", &pl->prior_q, NULL);
            put_msg(&w, "assistant", &pl->prior_a, NULL);
        }
        put_msg(&w, "user", &pl->user, p->parts ? "input_text" : NULL);
        if (p->tool_loop) {
            jw_obj(&w, NULL);
            jw_str(&w, "type", "function_call");
            jw_str(&w, "call_id", p->call_id);
            jw_str(&w, "name", cl_tools[p->tool].name);
            jw_strn(&w, "arguments", pl->args.data, pl->args.len);
            jw_end_obj(&w);
            jw_obj(&w, NULL);
            jw_str(&w, "type", "function_call_output");
            jw_str(&w, "call_id", p->call_id);
            jw_strn(&w, "output", pl->tool_res.data, pl->tool_res.len);
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

static void body_messages(struct planner *pl, const struct plan *p, struct jbuf *b)
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
        jw_strn(&w, "text", pl->sys.data, pl->sys.len);
        jw_obj(&w, "cache_control");
        jw_str(&w, "type", "ephemeral");
        jw_end_obj(&w);
        jw_end_obj(&w);
        if (pl->ctx.len) {
            jw_obj(&w, NULL);
            jw_str(&w, "type", "text");
            jw_strn(&w, "text", pl->ctx.data, pl->ctx.len);
            jw_end_obj(&w);
        }
        jw_end_arr(&w);
    } else {
        put_system_text(pl, &w, "system");
    }
    jw_arr(&w, "messages");
    if (p->has_prior) {
        put_msg(&w, "user", &pl->prior_q, NULL);
        put_msg(&w, "assistant", &pl->prior_a, NULL);
    }
    put_msg(&w, "user", &pl->user, p->parts ? "text" : NULL);
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
        put_raw(&w, "input", pl->args.data, pl->args.len);
        jw_end_obj(&w);
        jw_end_arr(&w);
        jw_end_obj(&w);
        jw_obj(&w, NULL);
        jw_str(&w, "role", "user");
        jw_arr(&w, "content");
        jw_obj(&w, NULL);
        jw_str(&w, "type", "tool_result");
        jw_str(&w, "tool_use_id", p->call_id);
        jw_strn(&w, "content", pl->tool_res.data, pl->tool_res.len);
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

static void body_embeddings(struct planner *pl, const struct plan *p, struct jbuf *b)
{
    struct jw w;
    jw_init(&w, b);
    jw_obj(&w, NULL);
    jw_str(&w, "model", p->m->name);
    if (p->ninputs == 1) {
        jw_strn(&w, "input", pl->inp[0].data, pl->inp[0].len);
    } else {
        jw_arr(&w, "input");
        for (int i = 0; i < p->ninputs; i++)
            jw_strn(&w, NULL, pl->inp[i].data, pl->inp[i].len);
        jw_end_arr(&w);
    }
    jw_str(&w, "encoding_format", p->base64 ? "base64" : "float");
    if (p->dims)
        jw_int(&w, "dimensions", p->dims);
    jw_end_obj(&w);
}

void plan_body(struct planner *pl, const struct plan *p, struct jbuf *b)
{
    jbuf_reset(b);
    switch (p->kind) {
    case K_CHAT: body_chat(pl, p, b); break;
    case K_RESPONSES: body_responses(pl, p, b); break;
    case K_MESSAGES: body_messages(pl, p, b); break;
    default: body_embeddings(pl, p, b); break;
    }
}

/* ---- headers ------------------------------------------------------------------ */

static void hdr(struct curl_slist **hdrs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void hdr(struct curl_slist **hdrs, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    struct curl_slist *l = curl_slist_append(*hdrs, buf);
    if (!l) {
        fputs("llmtap-sim calls: out of memory\n", stderr);
        abort();
    }
    *hdrs = l;
}

void plan_headers(const struct planner *pl, const struct plan *p, struct curl_slist **hdrs)
{
    size_t si = (size_t)(p->svc - cl_services);
    curl_slist_free_all(*hdrs);
    *hdrs = NULL;
    hdr(hdrs, "Content-Type: application/json");
    hdr(hdrs, "Accept: %s", p->stream ? "text/event-stream" : "application/json");
    hdr(hdrs, "Expect:");
    if (p->m->prov == P_ANTHROPIC) {
        hdr(hdrs, "x-api-key: sk-ant-sim-%s", pl->key[si]);
        hdr(hdrs, "anthropic-version: 2023-06-01");
    } else {
        hdr(hdrs, "Authorization: Bearer sk-sim-%s%s", p->m->prov == P_VLLM ? "vllm-" : "",
            pl->key[si]);
    }
    hdr(hdrs, "x-llmtap-service: %s", p->svc->name);
    if (p->tp) {
        hdr(hdrs, "x-llmtap-prompt-template: %s", p->tp->name);
        hdr(hdrs, "x-llmtap-prompt-version: %d", p->version);
    }
    if (p->has_user) {
        hdr(hdrs, "x-llmtap-user: u_%04x", p->user);
        hdr(hdrs, "x-llmtap-session: s_%04x", p->session);
    }
    if (p->has_tags)
        hdr(hdrs, "x-llmtap-tags: tenant=%s,deployment=%s%s%s", p->tenant,
            p->canary ? "canary" : "stable", p->region ? ",region=" : "",
            p->region ? p->region : "");
    if (p->has_trace)
        hdr(hdrs, "traceparent: 00-%s-%s-01", p->trace_id, p->parent_id);
    if (p->expect != 200)
        hdr(hdrs, "x-sim-status: %d", p->expect);
    if (p->delay_ms >= 0)
        hdr(hdrs, "x-sim-delay-ms: %ld", p->delay_ms);
    if (p->ttft_ms >= 0)
        hdr(hdrs, "x-sim-ttft-ms: %ld", p->ttft_ms);
    if (p->interval_ms >= 0)
        hdr(hdrs, "x-sim-chunk-interval-ms: %ld", p->interval_ms);
}

/* ---- the planner ------------------------------------------------------- */

struct planner *planner_new(const struct calls_opts *o)
{
    struct planner *pl = calloc(1, sizeof *pl);
    if (!pl)
        return NULL;
    pl->o = o;
    /* the fleet: prompt versions, users and keys from their own stream */
    struct rng fr;
    rng_seed(&fr, o->seed, 11);
    for (size_t s = 0; s < NSERVICES; s++) {
        pl->svc_weights[s] = cl_services[s].weight;
        for (int t = 0; t < 3; t++)
            pl->version[s][t] = (int)rng_range(&fr, 2, 9);
        alnum_id(&fr, "", 20, pl->key[s], sizeof pl->key[s]);
    }
    for (int u = 0; u < NUSERS; u++)
        pl->users[u] = (uint32_t)rng_below(&fr, 0x10000);
    rng_seed(&pl->r, o->seed, 12);
    return pl;
}

void planner_free(struct planner *pl)
{
    if (!pl)
        return;
    struct jbuf *bufs[] = {&pl->sys,  &pl->ctx,  &pl->prior_q,  &pl->prior_a,
                           &pl->user, &pl->args, &pl->tool_res, &pl->tmp};
    for (size_t i = 0; i < COUNT(bufs); i++)
        jbuf_free(bufs[i]);
    for (size_t i = 0; i < MAX_INPUTS; i++)
        jbuf_free(&pl->inp[i]);
    free(pl);
}
