/*
 * price.h — the price table (LiteLLM's model_prices_and_context_window.json
 * format) and the cost of an event's usage.
 *
 * What it is for: the agent fills `cost_usd` on every captured event. The
 * table is a JSON object keyed by model name; users drop LiteLLM's full
 * upstream file in unchanged, or keep the default packaging/model_prices.json.
 * docs/pricing.md is the user's manual: format, normalisation, formulas.
 *
 * Two layers:
 *  - struct price_table: an immutable, indexed table. Built once by
 *    price_parse() / price_load(), then only read: any number of threads may
 *    call price_find() and the cost functions on it at the same time.
 *  - struct price_registry: holds the current table for a long-running
 *    process and swaps it on reload (SIGHUP) while HTTP threads keep pricing
 *    events. Readers never see a half-built table; a failed reload keeps the
 *    old one.
 *
 * Usage semantics (the event's, see agent/capture.h and
 * docs/event-schema.md): usage.input_tokens counts ALL input tokens, cached
 * and cache-write included; usage.cached_input_tokens are read from the
 * prompt cache; usage.cache_write_tokens are written to it;
 * usage.output_tokens counts ALL output tokens, reasoning included;
 * usage.reasoning_tokens is the reasoning part of them.
 */
#ifndef LLMTAP_AGENT_PRICE_H
#define LLMTAP_AGENT_PRICE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Return codes of the cost functions (0 = PRICE_OK). Both failures are
 * negative, so `rc < 0` means "no cost". */
enum {
    PRICE_OK = 0,
    PRICE_NO_USAGE = -1,      /* the event carries no token counts (no usage object, or
                                 neither input_tokens nor output_tokens) */
    PRICE_UNKNOWN_MODEL = -2, /* no entry for the model, or the entry has no usable token
                                 prices: never priced as 0 */
};

/* A short English description of a PRICE_* code ("unknown model"). */
const char *price_strerror(int rc);

/* The longest model name (bytes) the table holds; longer keys are refused. */
#define PRICE_NAME_MAX 256

/* The per-token prices an entry can carry, and their LiteLLM field names. */
enum price_kind {
    PRICE_INPUT,       /* input_cost_per_token */
    PRICE_OUTPUT,      /* output_cost_per_token */
    PRICE_CACHE_READ,  /* cache_read_input_token_cost */
    PRICE_CACHE_WRITE, /* cache_creation_input_token_cost */
    PRICE_REASONING,   /* output_cost_per_reasoning_token */
    PRICE_KIND_COUNT
};

/* A price the entry does not set. */
#define PRICE_ABSENT (-1.0)

/* Prices for prompts of more than `above` input tokens, from the fields
 * `<kind field>_above_<N>k_tokens` (above = N * 1000). A kind the tier does
 * not set is PRICE_ABSENT. */
struct price_tier {
    int64_t above;
    double usd[PRICE_KIND_COUNT];
};

/* One model of the table. All memory belongs to the table and lives until
 * price_free(). */
struct price_entry {
    const char *key;                /* the model name exactly as in the file */
    const char *provider;           /* litellm_provider, "" when absent */
    const char *mode;               /* mode ("chat", "embedding", ...), "" when absent */
    bool embedding;                 /* mode == "embedding": input tokens only */
    bool priced;                    /* has usable token prices (see price_entry_cost) */
    double usd[PRICE_KIND_COUNT];   /* USD per token; PRICE_ABSENT when not set */
    const struct price_tier *tiers; /* ascending by `above`; NULL when none */
    size_t ntiers;
};

/* Token counts, in the event's semantics (see the top of this file). A count
 * that is absent is 0. */
struct price_usage {
    int64_t input, cached, cache_write, output, reasoning;
};

struct price_table;

/* Parses a price file held in memory (`json`, `len` bytes; need not be
 * NUL-terminated). Accepts LiteLLM's file unchanged: the keys `sample_spec`
 * and `fallback_generalizations` are skipped, fields other than the prices,
 * `litellm_provider` and `mode` are ignored whatever their type, and a price
 * that is JSON null counts as absent.
 * Errors (return -1, *out = NULL, a message in err): not JSON (with line and
 * column), not an object, an entry that is not an object, an empty key or
 * one longer than PRICE_NAME_MAX, a price that is not a finite non-negative
 * number, a litellm_provider or mode that is not a string, out of memory.
 * Entry errors name the key and the field:
 *   "gpt-4o": input_cost_per_token: must be a non-negative number
 * Keys are matched case-insensitively; when two keys are equal that way the
 * later one wins (as when Python loads the file).
 * On success returns 0 and *out owns the table (price_free). err may be NULL
 * or errlen 0. */
int price_parse(const char *json, size_t len, struct price_table **out, char *err, size_t errlen);

/* Reads the file at `path` (at most 64 MiB) and parses it as price_parse()
 * does. Error messages start with the path. */
int price_load(const char *path, struct price_table **out, char *err, size_t errlen);

/* Frees a table and every entry in it. Accepts NULL. Not for a table that is
 * held by a registry. */
void price_free(struct price_table *t);

/* The number of models (distinct keys, skipped keys not counted). */
size_t price_count(const struct price_table *t);

/* The normalised form of a model name, written to out (always
 * NUL-terminated when outlen > 0, cut at outlen - 1 bytes). Returns the
 * length of the whole normalised name, so a result >= outlen means it was
 * cut. The rule, applied in this order:
 *   1. ASCII lower case.
 *   2. Keep what follows the last '/': drops provider prefixes ("openai/",
 *      "azure/", "bedrock/", "openrouter/openai/") and organisations
 *      ("meta-llama/Llama-3.1-8B-Instruct" -> "llama-3.1-8b-instruct").
 *   3. Bedrock ids: drop a trailing ":<digits>" and the "-v<digits>" before
 *      it ("-v1:0"), then a leading region ("us.", "eu.", "apac.", "au.",
 *      "jp.", "ca.", "global.", "us-gov.") when a vendor follows, and a
 *      leading vendor ("anthropic.", "amazon.", "meta.", "mistral.",
 *      "cohere.", "ai21.", "deepseek.", "openai.", "qwen.", "writer.",
 *      "moonshotai.", "xai.", "nvidia.", "google.", "zai.", "minimax.").
 *   4. Cut at the first '@' not at the start (Vertex "claude-x@20250929").
 *   5. Drop one trailing version suffix: "-latest", "-YYYY-MM-DD" or
 *      "-YYYYMMDD" (a real calendar-looking date, years 2000-2099).
 * Nothing else is dropped: "-0613"-style suffixes, "-preview", ":free",
 * "ft:" fine-tune names stay, so they only match an exact key.
 * Thread-safe, no allocation. out may equal NULL when outlen is 0. */
size_t price_normalize(const char *model, char *out, size_t outlen);

/* The entry for a model, or NULL. Lookup order (all case-insensitive):
 *   1. the key "<provider>/<model>" (e.g. "azure/gpt-4o"), when provider is
 *      not NULL or empty;
 *   2. the key "<model>";
 *   3. the normalised name (price_normalize) against the normalised keys of
 *      the PRICED entries; among several, prefer in order: an entry whose
 *      litellm_provider matches `provider`, a key without a '/' or Bedrock
 *      prefix, a key without a version suffix, then the earliest in the file.
 * An exact key (1 or 2) always wins over a normalised match, even when it
 * has no usable prices. Provider match: equal, or litellm_provider starts
 * with provider followed by '_' or '-' ("bedrock" matches
 * "bedrock_converse"), or an alias ("vllm" -> "hosted_vllm", "google" ->
 * "gemini"/"vertex_ai", "vertex" -> "vertex_ai").
 * The entry belongs to the table. Thread-safe; no allocation. */
const struct price_entry *price_find(const struct price_table *t, const char *provider,
                                     const char *model);

/* The cost in USD of `u` on entry `e`. With in = u->input (a tier applies
 * when in > its `above`; each price kind takes the highest tier that sets it,
 * else the base price):
 *   embedding entry:  in * input
 *   otherwise, with cached = min(cached, in), write = min(cache_write,
 *   in - cached), reasoning = min(reasoning, output):
 *     (in - cached - write) * input
 *     + cached * cache_read   (input price when the entry has none)
 *     + write  * cache_write  (input price when the entry has none)
 *     + (output - reasoning) * output + reasoning * reasoning_price
 *                             (reasoning_price = output price when none)
 * An entry is priced when it has input_cost_per_token and, unless it is an
 * embedding model, output_cost_per_token, and they are not both 0 (an
 * embedding model needs input > 0). Returns PRICE_OK and *cost, or
 * PRICE_UNKNOWN_MODEL for an unpriced entry (or e NULL). Negative counts
 * are taken as 0. */
int price_entry_cost(const struct price_entry *e, const struct price_usage *u, double *cost);

/* Reads the usage of an llmtap.event/1 object (members that are not
 * non-negative numbers are ignored). Returns PRICE_OK, or PRICE_NO_USAGE
 * when there is no usage object or neither input_tokens nor output_tokens. */
int price_event_usage(const cJSON *ev, struct price_usage *u);

/* The cost of an event: its usage (price_event_usage) priced on the entry
 * found (price_find) for its `provider` and response_model, and when that
 * model is absent or unknown, its request_model. Returns PRICE_OK and *cost,
 * PRICE_NO_USAGE, or PRICE_UNKNOWN_MODEL (*cost untouched). Does not modify
 * the event. Thread-safe on a table; no allocation. */
int price_event_cost(const struct price_table *t, const cJSON *ev, double *cost);

/* ---- the registry: a table that can be reloaded while in use ---------- */

struct price_registry;

/* Loads `path` (price_load) and holds it. Returns 0 and *out, or -1 with err
 * set and *out = NULL (the file is missing or invalid, out of memory). Does
 * not log. The path is copied. */
int price_registry_create(const char *path, struct price_registry **out, char *err, size_t errlen);

/* Loads the file again and, when it is valid, makes it the current table;
 * events being priced finish on the table they started with, which is freed
 * after the last of them. On failure the current table stays and -1 is
 * returned with err set. Logs the outcome (component "agent:price": info
 * with the model count, or warn with the reason). Call it from one thread at
 * a time (the main loop, on SIGHUP); it runs concurrently with the readers
 * below. */
int price_registry_reload(struct price_registry *r, char *err, size_t errlen);

/* price_event_cost() on the current table. Thread-safe; takes a mutex for a
 * few instructions (to pin the table), never during the pricing itself. */
int price_registry_cost(struct price_registry *r, const cJSON *ev, double *cost);

/* price_count() of the current table. Thread-safe. */
size_t price_registry_count(struct price_registry *r);

/* Frees the registry and its table. Accepts NULL. No other call on `r` may
 * be running or follow. */
void price_registry_destroy(struct price_registry *r);

#endif
