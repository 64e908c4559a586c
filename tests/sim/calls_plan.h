/*
 * calls_plan.h — what `llmtap-sim calls` sends: the plan of each call and
 * its request (body and headers), made by calls_plan.c for the call loop in
 * calls.c.
 *
 * Internal to calls*.c. The catalogue's types are here because a plan points
 * into the catalogue and calls.c reads names and the provider off it; the
 * tables themselves (models, services, tools) are private to calls_plan.c.
 */
#ifndef LLMTAP_SIM_CALLS_PLAN_H
#define LLMTAP_SIM_CALLS_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "jbuf.h"
#include "text.h"

struct calls_opts;
struct curl_slist;

/* ---- catalogue types (mirror gen.c's) ------------------------------------ */

enum prov { P_OPENAI, P_ANTHROPIC, P_VLLM };
enum { M_REASONING = 1, M_EMBED = 2 };

struct model {
    const char *name;
    enum prov prov;
    double ttft_ms, ms_per_token;
    unsigned flags;
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
    int tools[2]; /* indexes into cl_tools (calls_plan.c), -1 = none */
};

/* ---- a call -------------------------------------------------------------- */

enum kind { K_CHAT, K_RESPONSES, K_EMBEDDINGS, K_MESSAGES, K_COUNT };

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

/* The state calls are planned from: the options, the rng stream, the fleet
 * drawn at start and the scratch texts a plan's body is written from. */
struct planner;

/* A planner for o->seed (o must outlive it); NULL when out of memory. */
struct planner *planner_new(const struct calls_opts *o);
void planner_free(struct planner *pl); /* accepts NULL */

/* Draw the next call of the stream into *p (n is its number, kept in p->n)
 * and its texts into the planner's scratch buffers, which the next
 * plan_call overwrites. */
void plan_call(struct planner *pl, uint64_t n, struct plan *p);

/* The request body of p, which must be the last plan drawn (b is reset
 * first). */
void plan_body(struct planner *pl, const struct plan *p, struct jbuf *b);

/* The request headers of plan p: frees the list *hdrs and builds a new one
 * (aborts when out of memory). */
void plan_headers(const struct planner *pl, const struct plan *p, struct curl_slist **hdrs);

#endif
