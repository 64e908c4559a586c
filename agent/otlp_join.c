/*
 * otlp_join.c — the retrieval-span join (see otlp_join.h for the rule and
 * docs/otlp.md for the choice of what is buffered).
 *
 * DESIGN
 * - One mutex guards everything. The buffer is a FIFO of entries in arrival
 *   order, which is also expiry order (one window for all), plus a hash of
 *   the same entries by trace id (chained, a fixed power-of-two number of
 *   buckets sized from max_spans). Two kinds of entries: a retrieval span
 *   (its trace, span id, end time and documents) and a remembered LLM call
 *   (its trace and start time only, for the `missed` count).
 * - Expiry is lazy: every call first drops the entries whose window has
 *   passed, so there is no timer thread. Nothing is lost by that: entries are
 *   documents and memories, never events.
 * - Bounds: max_spans entries and max_bytes of documents (an estimate of
 *   cJSON's memory: string bytes plus a per-node overhead). A new entry
 *   that does not fit evicts the oldest ones; a retrieval span larger than
 *   max_bytes alone is not buffered. Both count as evicted.
 * - Within one request the join does not depend on the buffer: the batch's
 *   own retrieval spans are joined first, straight from the batch, so a full
 *   buffer never costs a join inside one export.
 * - Documents are cut to the text cap before they are buffered (otlp_cap_text
 *   on a wrapper), so one huge retrieval span cannot hold more than the cap;
 *   the event is cut again as a whole before it is spooled.
 */
#include "otlp_join.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "otlp_map.h"

struct entry {
    struct entry *hnext;       /* hash chain */
    struct entry *prev, *next; /* FIFO */
    char trace[33], span[17];
    uint64_t start_ns, end_ns;
    int64_t expires_us;
    cJSON *docs; /* retrieval: an array of context items; NULL for a remembered call */
    size_t bytes;
    bool truncated; /* documents were cut by the text cap */
    bool used;      /* joined at least one event */
};

struct otlp_join {
    struct otlp_join_opts o;
    pthread_mutex_t mu;
    struct entry **buckets;
    size_t nbuckets; /* a power of two */
    struct entry *head, *tail;
    size_t spans, bytes;
    uint64_t joined, expired, evicted, missed;
    struct metric *m_joined, *m_expired, *m_evicted, *m_missed, *m_spans, *m_bytes;
};

static size_t hash_trace(const char *t)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *t; t++)
        h = (h ^ (uint8_t)*t) * 0x100000001b3ull;
    return (size_t)(h ^ h >> 29);
}

struct otlp_join *otlp_join_create(const struct otlp_join_opts *o, struct metrics *m)
{
    struct otlp_join *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->o = *o;
    if (!j->o.max_bytes)
        j->o.max_bytes = OTLP_JOIN_MAX_BYTES_DEFAULT;
    if (j->o.max_spans <= 0)
        j->o.max_spans = OTLP_JOIN_MAX_SPANS_DEFAULT;
    j->nbuckets = 64;
    while (j->nbuckets < (size_t)j->o.max_spans / 2 && j->nbuckets < (1u << 20))
        j->nbuckets *= 2;
    if (pthread_mutex_init(&j->mu, NULL) != 0) {
        free(j);
        return NULL;
    }
    if (!(j->buckets = calloc(j->nbuckets, sizeof *j->buckets))) {
        pthread_mutex_destroy(&j->mu);
        free(j);
        return NULL;
    }
    if (m) {
        j->m_joined = metrics_counter(m, "llmtap_agent_otlp_join_events_total",
                                      "OTLP LLM events given documents of retrieval spans of "
                                      "their trace.",
                                      NULL);
        j->m_expired = metrics_counter(m, "llmtap_agent_otlp_join_expired_total",
                                       "Retrieval spans whose join window passed without an "
                                       "LLM call to join.",
                                       NULL);
        j->m_evicted = metrics_counter(m, "llmtap_agent_otlp_join_evicted_total",
                                       "Retrieval spans dropped from the join buffer before "
                                       "their window ended (otlp.join_max_*).",
                                       NULL);
        j->m_missed = metrics_counter(m, "llmtap_agent_otlp_join_missed_total",
                                      "Retrieval spans that arrived after an LLM event they "
                                      "would have joined had been spooled.",
                                      NULL);
        j->m_spans = metrics_gauge(m, "llmtap_agent_otlp_join_buffered_spans",
                                   "Entries in the join buffer (retrieval spans and "
                                   "remembered LLM calls).",
                                   NULL);
        j->m_bytes = metrics_gauge(m, "llmtap_agent_otlp_join_buffered_bytes",
                                   "Estimated bytes of documents in the join buffer.", NULL);
    }
    return j;
}

static void entry_free(struct entry *e)
{
    if (e) {
        cJSON_Delete(e->docs);
        free(e);
    }
}

/* Unlinks the oldest entry (from the FIFO and its hash chain) and frees it. */
static void drop_head(struct otlp_join *j, bool evicting)
{
    struct entry *e = j->head;
    j->head = e->next;
    if (j->head)
        j->head->prev = NULL;
    else
        j->tail = NULL;
    struct entry **pp = &j->buckets[hash_trace(e->trace) & (j->nbuckets - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    j->spans--;
    j->bytes -= e->bytes;
    if (e->docs) {
        if (evicting)
            j->evicted++;
        else if (!e->used)
            j->expired++;
    }
    entry_free(e);
}

static void expire(struct otlp_join *j, int64_t now_us)
{
    while (j->head && j->head->expires_us <= now_us)
        drop_head(j, false);
}

static void publish(struct otlp_join *j, uint64_t joined0, uint64_t expired0, uint64_t evicted0,
                    uint64_t missed0)
{
    if (!j->m_joined)
        return;
    metric_add(j->m_joined, j->joined - joined0);
    metric_add(j->m_expired, j->expired - expired0);
    metric_add(j->m_evicted, j->evicted - evicted0);
    metric_add(j->m_missed, j->missed - missed0);
    metric_set(j->m_spans, (int64_t)j->spans);
    metric_set(j->m_bytes, (int64_t)j->bytes);
}

void otlp_join_destroy(struct otlp_join *j)
{
    if (!j)
        return;
    while (j->head)
        drop_head(j, false);
    free(j->buckets);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

/* Estimated memory of a cJSON tree. */
static size_t tree_bytes(const cJSON *n)
{
    size_t b = sizeof(cJSON) + (n->string ? strlen(n->string) + 1 : 0) +
               (n->valuestring ? strlen(n->valuestring) + 1 : 0);
    for (const cJSON *c = n->child; c; c = c->next)
        b += tree_bytes(c);
    return b;
}

/* Inserts e (fully built) at the tail, evicting the oldest entries past the
 * bounds; frees e (counted) when it alone is over max_bytes. */
static void insert(struct otlp_join *j, struct entry *e)
{
    if (e->bytes > j->o.max_bytes) {
        if (e->docs)
            j->evicted++;
        entry_free(e);
        return;
    }
    while (j->head &&
           (j->spans + 1 > (size_t)j->o.max_spans || j->bytes + e->bytes > j->o.max_bytes))
        drop_head(j, true);
    e->prev = j->tail;
    e->next = NULL;
    if (j->tail)
        j->tail->next = e;
    else
        j->head = e;
    j->tail = e;
    size_t h = hash_trace(e->trace) & (j->nbuckets - 1);
    e->hnext = j->buckets[h];
    j->buckets[h] = e;
    j->spans++;
    j->bytes += e->bytes;
}

/* Whether the documents of retrieval r may go to a call starting at start_ns. */
static bool after(uint64_t start_ns, const struct entry *r)
{
    return !start_ns || !r->end_ns || start_ns >= r->end_ns;
}

static bool has_doc(const cJSON *ctx, const cJSON *doc)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "id");
    const cJSON *d;
    cJSON_ArrayForEach(d, ctx)
    {
        const cJSON *did = cJSON_GetObjectItemCaseSensitive(d, "id");
        if (cJSON_IsString(id) && cJSON_IsString(did) && !strcmp(id->valuestring, did->valuestring))
            return true;
        if (cJSON_Compare(d, doc, true))
            return true;
    }
    return false;
}

/* Adds r's documents to ev's context; true when at least one was added. */
static bool give_docs(cJSON *ev, struct entry *r)
{
    cJSON *ctx = cJSON_GetObjectItemCaseSensitive(ev, "context");
    if (ctx && !cJSON_IsArray(ctx))
        return false;
    bool added = false, dropped = false;
    const cJSON *d;
    cJSON_ArrayForEach(d, r->docs)
    {
        if (ctx && has_doc(ctx, d))
            continue;
        if (ctx && cJSON_GetArraySize(ctx) >= OTLP_JOIN_MAX_CONTEXT) {
            dropped = true;
            break;
        }
        if (!ctx && !(ctx = cJSON_AddArrayToObject(ev, "context")))
            return added;
        cJSON *c = cJSON_Duplicate(d, true);
        if (!c || !cJSON_AddItemToArray(ctx, c)) {
            cJSON_Delete(c);
            return added;
        }
        added = true;
    }
    if (added)
        r->used = true;
    if ((added && r->truncated) || dropped) {
        cJSON_DeleteItemFromObjectCaseSensitive(ev, "truncated");
        cJSON_AddBoolToObject(ev, "truncated", 1);
    }
    return added;
}

static bool joinable(const cJSON *ev, const struct otlp_span *s)
{
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(ev, "operation");
    return s->trace_id[0] && !(cJSON_IsString(op) && !strcmp(op->valuestring, "embeddings"));
}

int otlp_join_batch(struct otlp_join *j, const struct otlp_batch *b, cJSON *const *events,
                    int64_t now_us)
{
    if (!j || !j->o.window_us || !b || !b->n)
        return 0;
    /* the batch's retrieval spans, outside the lock (mapping and cutting) */
    struct entry **local = calloc(b->n, sizeof *local);
    if (!local)
        return 0;
    size_t nlocal = 0;
    for (size_t i = 0; i < b->n; i++) {
        const struct otlp_span *s = &b->spans[i];
        cJSON *docs = NULL;
        if (events[i] || !s->trace_id[0] || !otlp_retrieval_docs(s, &docs))
            continue;
        if (!cJSON_GetArraySize(docs)) {
            cJSON_Delete(docs);
            continue;
        }
        struct entry *e = calloc(1, sizeof *e);
        cJSON *wrap = e ? cJSON_CreateObject() : NULL;
        if (!wrap || !cJSON_AddItemToObject(wrap, "context", docs)) {
            cJSON_Delete(wrap); /* docs were not attached */
            cJSON_Delete(docs);
            free(e);
            continue;
        }
        e->truncated = otlp_cap_text(wrap, j->o.text_cap);
        e->docs = cJSON_DetachItemFromObjectCaseSensitive(wrap, "context");
        cJSON_Delete(wrap);
        memcpy(e->trace, s->trace_id, sizeof e->trace);
        memcpy(e->span, s->span_id, sizeof e->span);
        e->start_ns = s->start_ns;
        e->end_ns = s->end_ns;
        e->bytes = sizeof *e + tree_bytes(e->docs);
        local[nlocal++] = e;
    }

    pthread_mutex_lock(&j->mu);
    uint64_t joined0 = j->joined, expired0 = j->expired, evicted0 = j->evicted, missed0 = j->missed;
    expire(j, now_us);
    int joined = 0;
    for (size_t i = 0; i < b->n; i++) {
        const struct otlp_span *s = &b->spans[i];
        if (!events[i] || !joinable(events[i], s))
            continue;
        bool got = false;
        for (size_t k = 0; k < nlocal; k++)
            if (!strcmp(local[k]->trace, s->trace_id) && after(s->start_ns, local[k]))
                got |= give_docs(events[i], local[k]);
        size_t h = hash_trace(s->trace_id) & (j->nbuckets - 1);
        for (struct entry *e = j->buckets[h]; e; e = e->hnext)
            if (e->docs && !strcmp(e->trace, s->trace_id) && after(s->start_ns, e))
                got |= give_docs(events[i], e);
        joined += got;
    }
    j->joined += (uint64_t)joined;
    /* retrieval spans that come after a call they would have joined */
    for (size_t k = 0; k < nlocal; k++) {
        size_t h = hash_trace(local[k]->trace) & (j->nbuckets - 1);
        for (struct entry *e = j->buckets[h]; e; e = e->hnext) {
            if (!e->docs && !strcmp(e->trace, local[k]->trace) && after(e->start_ns, local[k])) {
                j->missed++;
                break;
            }
        }
    }
    /* buffer this batch's retrieval spans, remember its LLM calls */
    for (size_t k = 0; k < nlocal; k++) {
        local[k]->expires_us = now_us + j->o.window_us;
        insert(j, local[k]);
    }
    for (size_t i = 0; i < b->n; i++) {
        const struct otlp_span *s = &b->spans[i];
        if (!events[i] || !joinable(events[i], s))
            continue;
        struct entry *e = calloc(1, sizeof *e);
        if (!e)
            break;
        memcpy(e->trace, s->trace_id, sizeof e->trace);
        memcpy(e->span, s->span_id, sizeof e->span);
        e->start_ns = s->start_ns;
        e->expires_us = now_us + j->o.window_us;
        e->bytes = sizeof *e;
        insert(j, e);
    }
    publish(j, joined0, expired0, evicted0, missed0);
    pthread_mutex_unlock(&j->mu);
    free(local);
    return joined;
}

void otlp_join_stats(struct otlp_join *j, int64_t now_us, struct otlp_join_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    uint64_t joined0 = j->joined, expired0 = j->expired, evicted0 = j->evicted, missed0 = j->missed;
    expire(j, now_us);
    publish(j, joined0, expired0, evicted0, missed0);
    out->joined = j->joined;
    out->expired = j->expired;
    out->evicted = j->evicted;
    out->missed = j->missed;
    out->spans = j->spans;
    out->bytes = j->bytes;
    pthread_mutex_unlock(&j->mu);
}
