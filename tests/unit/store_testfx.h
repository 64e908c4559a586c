/*
 * store_testfx.h — the event store tests' fixture: a deterministic event
 * generator and a store in its own directory (tests only).
 *
 * What it is for: test_store.c and test_store_verify.c share the seed
 * (g_seed, set by each main() from LLMTAP_TEST_SEED), the generator
 * (gen_event: event i of a seed, with its expected JSON, so any thread can
 * regenerate what it expects), the fixture (struct fx: a fresh mkdtemp()
 * directory and its store; setup/teardown for cmocka), and the helpers
 * that append, get, collect scan summaries and open the environment raw.
 *
 * DESIGN: header-only, every function static inline, because
 * tests/CMakeLists.txt builds each tests/unit/test_*.c as its own binary
 * and links no shared test object; each test file includes it once.
 */
#ifndef LLMTAP_STORE_TESTFX_H
#define LLMTAP_STORE_TESTFX_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <lmdb.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "evrec.h"
#include "store.h"
#include "store_verify.h"

static uint64_t g_seed;

/* ---- deterministic event generator -------------------------------------- */

static inline uint64_t rng_next(uint64_t *s)
{
    /* splitmix64 */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static const char *const WORDS[] = {
    "the",          "account",      "password", "reset",     "settings",   "security",
    "open",         "choose",       "customer", "billing",   "invoice",    "refund",
    "order",        "shipping",     "delivery", "address",   "please",     "help",
    "how",          "do",           "I",        "can",       "you",        "my",
    "to",           "and",          "for",      "with",      "a",          "is",
    "not",          "when",         "error",    "message",   "login",      "email",
    "phone",        "support",      "team",     "plan",      "upgrade",    "cancel",
    "subscription", "trial",        "payment",  "card",      "declined",   "update",
    "profile",      "notification", "mobile",   "app",       "browser",    "cache",
    "cookies",      "session",      "expired",  "token",     "two-factor", "authentication",
    "code",         "verify",       "identity", "document",  "upload",     "limit",
    "storage",      "quota",        "team",     "workspace", "admin",      "permission",
    "role",         "invite",       "member",   "remove",    "export",     "data",
    "report",       "dashboard",    "chart",    "filter",    "date",       "range",
    "timezone",     "integration",  "webhook",  "API",       "key",        "rotate",
    "rate",         "limited",      "retry",    "later",     "status",     "page",
    "incident",     "resolved",     "thanks",   "answer",    "context",
};
#define NWORDS (sizeof WORDS / sizeof WORDS[0])

static const char *const SERVICES[] = {"support-bot", "search", "summarizer", "triage"};
static const char *const MODELS[] = {"gpt-4o-mini-2024-07-18", "claude-3-5-haiku", "llama-3.1-8b"};
static const char *const PROVIDERS[] = {"openai", "anthropic", "vllm"};
static const char *const SYSTEM[] = {
    "You answer from the context only. If the context does not contain the answer, say "
    "that you do not know and offer to open a ticket. Be brief and polite.",
    "You are a search assistant. Rank the documents by relevance to the query and "
    "return the top three with one-sentence justifications.",
    "Summarize the conversation for a support agent taking over the case. Keep names, "
    "order numbers and dates exactly as written.",
};

#define EV_JSON_MAX 8192

struct tev {
    char id[40];
    char json[EV_JSON_MAX];
    size_t len;
    struct store_event ev;
};

static inline void words(uint64_t *s, char *buf, size_t cap, size_t *off, int n)
{
    for (int i = 0; i < n && *off + 32 < cap; i++)
        *off += (size_t)snprintf(buf + *off, cap - *off, "%s%s", i ? " " : "",
                                 WORDS[rng_next(s) % NWORDS]);
}

/* Event i of the generator: ~2 KB of JSON shaped like llmtap.event/1. */
static inline void gen_event(uint64_t seed, size_t i, int64_t time_us, struct tev *t)
{
    uint64_t s = seed ^ (0xA24BAED4963EE407ull * (i + 1));
    static const char B32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    /* ULID-ish: 10 chars of time, 16 of randomness (index folded in: unique). */
    uint64_t r = rng_next(&s);
    for (int k = 0; k < 10; k++)
        t->id[k] = B32[((uint64_t)time_us >> (5 * (9 - k))) & 31];
    for (int k = 0; k < 8; k++)
        t->id[10 + k] = B32[(i >> (5 * (7 - k))) & 31];
    for (int k = 0; k < 8; k++)
        t->id[18 + k] = B32[(r >> (5 * k)) & 31];
    t->id[26] = '\0';

    int svc = (int)(rng_next(&s) % 4), mdl = (int)(rng_next(&s) % 3);
    int64_t in_tok = 100 + (int64_t)(rng_next(&s) % 2000);
    int64_t out_tok = 10 + (int64_t)(rng_next(&s) % 500);
    double lat = (double)(rng_next(&s) % 100000) / 10.0;
    int has_cost = (i % 7) != 0;
    double cost = has_cost ? (double)(in_tok * 15 + out_tok * 60) / 1e8 : NAN;
    int status = (i % 50 == 0) ? 429 : 200;

    char *b = t->json;
    size_t off = 0;
    off += (size_t)snprintf(
        b + off, EV_JSON_MAX - off,
        "{\"schema\":\"llmtap.event/1\",\"id\":\"%s\",\"time_us\":%lld,"
        "\"trace_id\":\"%016llx%016llx\",\"service\":\"%s\",\"env\":\"prod\","
        "\"host\":\"%s-7c9f-%04x\",\"source\":\"agent-proxy\",\"provider\":\"%s\","
        "\"operation\":\"chat\",\"request_model\":\"%s\",\"response_model\":\"%s\","
        "\"prompt_template\":\"support-answer\",\"prompt_version\":\"7\",\"stream\":true,"
        "\"request\":{\"messages\":[{\"role\":\"system\",\"content\":\"%s\"},"
        "{\"role\":\"user\",\"content\":\"",
        t->id, (long long)time_us, (unsigned long long)rng_next(&s),
        (unsigned long long)rng_next(&s), SERVICES[svc], SERVICES[svc],
        (unsigned)(rng_next(&s) & 0xffff), PROVIDERS[mdl], MODELS[mdl], MODELS[mdl],
        SYSTEM[svc % 3]);
    words(&s, b, EV_JSON_MAX, &off, 15 + (int)(rng_next(&s) % 25));
    off += (size_t)snprintf(
        b + off, EV_JSON_MAX - off,
        "\"}],\"params\":{\"temperature\":0.2,\"max_tokens\":512}},"
        "\"context\":[{\"id\":\"kb-%u\",\"source\":\"helpcenter\",\"score\":0.%02u,\"text\":\"",
        (unsigned)(rng_next(&s) % 1000), (unsigned)(rng_next(&s) % 100));
    words(&s, b, EV_JSON_MAX, &off, 60 + (int)(rng_next(&s) % 50));
    off += (size_t)snprintf(b + off, EV_JSON_MAX - off, "\"}],\"response\":{\"text\":\"");
    words(&s, b, EV_JSON_MAX, &off, 30 + (int)(rng_next(&s) % 40));
    off += (size_t)snprintf(
        b + off, EV_JSON_MAX - off,
        "\",\"finish_reason\":\"stop\",\"tool_calls\":[]},"
        "\"usage\":{\"input_tokens\":%lld,\"output_tokens\":%lld,\"cached_input_tokens\":%lld},"
        "\"latency_ms\":%.1f,\"ttft_ms\":%.1f,\"status\":%d,\"error\":null,",
        (long long)in_tok, (long long)out_tok, (long long)(in_tok / 2), lat, lat / 4, status);
    if (has_cost)
        off += (size_t)snprintf(b + off, EV_JSON_MAX - off, "\"cost_usd\":%.9f,", cost);
    off +=
        (size_t)snprintf(b + off, EV_JSON_MAX - off,
                         "\"user\":\"u_%04x\",\"session\":\"s_%04x\",\"tags\":{\"tenant\":\"acme\","
                         "\"deployment\":\"canary\"},\"truncated\":false,\"redactions\":0}",
                         (unsigned)(rng_next(&s) & 0xffff), (unsigned)(rng_next(&s) & 0xffff));
    t->len = off;

    t->ev = (struct store_event){
        .json = t->json,
        .json_len = t->len,
        .id = t->id,
        .time_us = time_us,
        .service = SERVICES[svc],
        .model = (i % 11 == 3) ? NULL : MODELS[mdl],
        .provider = PROVIDERS[mdl],
        .operation = "chat",
        .cost_usd = cost,
        .latency_ms = lat,
        .status = status,
        .input_tokens = in_tok,
        .output_tokens = (i % 13 == 5) ? -1 : out_tok,
    };
}

static const int64_t T0 = 1795000000000000; /* 2026-11 in µs */

static inline int64_t ev_time(size_t i)
{
    return T0 + (int64_t)i * 1000;
}

/* ---- fixture ------------------------------------------------------------ */

struct fx {
    char dir[64];
    struct store *st;
    struct store_opts opts;
};

static inline int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/llmtap-store-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    fx->opts = (struct store_opts){.dir = fx->dir, .map_size = 64u << 20, .no_sync = 1};
    int rc = store_open(&fx->opts, &fx->st);
    assert_int_equal(rc, 0);
    *state = fx;
    return 0;
}

static inline int teardown(void **state)
{
    struct fx *fx = *state;
    store_close(fx->st);
    nftw(fx->dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

static inline void reopen(struct fx *fx)
{
    store_close(fx->st);
    fx->st = NULL;
    assert_int_equal(store_open(&fx->opts, &fx->st), 0);
}

/* Appends events [from, to) of the generator, one batch. */
static inline int append_range(struct store *st, size_t from, size_t to,
                               struct store_append_result *res)
{
    size_t n = to - from;
    struct tev *t = malloc(n * sizeof *t);
    struct store_event *evs = malloc(n * sizeof *evs);
    assert_non_null(t);
    assert_non_null(evs);
    for (size_t i = 0; i < n; i++) {
        gen_event(g_seed, from + i, ev_time(from + i), &t[i]);
        evs[i] = t[i].ev;
    }
    int rc = store_append(st, evs, n, NULL, 0, res);
    free(evs);
    free(t);
    return rc;
}

static inline void assert_get(struct store *st, const struct tev *t)
{
    char *json = NULL;
    size_t len = 0;
    int rc = store_get(st, t->id, &json, &len);
    if (rc)
        fail_msg("store_get(%s): %s", t->id, store_strerror(rc));
    assert_int_equal(len, t->len);
    assert_memory_equal(json, t->json, len);
    assert_int_equal(json[len], '\0');
    free(json);
}

/* Collects scan summaries. */
struct col {
    size_t n, stop_after;
    int64_t times[4096];
    char ids[4096][STORE_ID_MAX + 1];
    struct store_summary last;
    char last_model[128];
};

static inline int col_fn(void *ud, const struct store_summary *s)
{
    struct col *c = ud;
    if (c->n < 4096) {
        c->times[c->n] = s->time_us;
        snprintf(c->ids[c->n], sizeof c->ids[0], "%s", s->id);
    }
    c->last = *s;
    snprintf(c->last_model, sizeof c->last_model, "%s", s->model);
    c->n++;
    return c->stop_after && c->n >= c->stop_after;
}

/* Where the record of event id is, for surgery in a raw transaction: *db
 * and key (copied into kbuf, 80 bytes) name it (`records` when its
 * `events` value is a record number, else `events` itself: format 1), and
 * *val is it. */
static inline void raw_record(MDB_txn *txn, const char *id, MDB_dbi *db, MDB_val *key,
                              uint8_t *kbuf, MDB_val *val)
{
    MDB_dbi ids, events, records;
    assert_int_equal(mdb_dbi_open(txn, "event_ids", 0, &ids), 0);
    assert_int_equal(mdb_dbi_open(txn, "events", 0, &events), 0);
    MDB_val k = {strlen(id), (void *)id}, ek;
    assert_int_equal(mdb_get(txn, ids, &k, &ek), 0);
    assert_int_equal(ek.mv_size, 8); /* events key = this time part + the id */
    memcpy(kbuf, ek.mv_data, 8);
    memcpy(kbuf + 8, id, strlen(id));
    *key = (MDB_val){8 + strlen(id), kbuf};
    *db = events;
    assert_int_equal(mdb_get(txn, events, key, val), 0);
    if (val->mv_size == 8) {
        assert_int_equal(mdb_dbi_open(txn, "records", 0, &records), 0);
        memcpy(kbuf, val->mv_data, 8);
        *key = (MDB_val){8, kbuf};
        *db = records;
        assert_int_equal(mdb_get(txn, records, key, val), 0);
    }
}

/* Opens the store's environment directly, as LMDB, for surgery. */
static inline void raw_open(const char *dir, MDB_env **env, MDB_txn **txn)
{
    assert_int_equal(mdb_env_create(env), 0);
    assert_int_equal(mdb_env_set_maxdbs(*env, 16), 0);
    assert_int_equal(mdb_env_set_mapsize(*env, 64u << 20), 0);
    assert_int_equal(mdb_env_open(*env, dir, 0, 0640), 0);
    assert_int_equal(mdb_txn_begin(*env, NULL, 0, txn), 0);
}

#endif
