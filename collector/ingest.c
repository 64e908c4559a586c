/*
 * ingest.c — Kafka consumer → validation → LMDB, exactly once.
 *
 * DESIGN
 * - Exactly once: the store, not Kafka, holds the consumer position. Each
 *   batch's events AND the next offset of every partition it touched are
 *   written in one LMDB transaction. On assignment the rebalance callback
 *   reads those offsets and starts each partition there (the beginning when
 *   none is stored). Events are deduplicated by id in the same transaction,
 *   which also absorbs producer retries and replays.
 * - Offsets are also committed to Kafka asynchronously after each store
 *   commit, only so that standard lag tools see the group's progress; they
 *   are never read back.
 * - Invalid messages are produced to the DLQ (original key and value, the
 *   reason in headers) and their offsets advance with the next batch. The
 *   DLQ producer is flushed before a batch that carries DLQ'd offsets is
 *   committed, so a dead letter is never skipped without being written.
 * - A failed store write (e.g. MDB_MAP_FULL) aborts the transaction; the
 *   consumer pauses its partitions, readiness goes false (with the reason,
 *   for /readyz), and the same batch is retried every second until it
 *   succeeds (space freed by retention, or the map grown on SIGHUP) or the
 *   collector stops. On resume every assigned partition is first put back
 *   to its offset in the store, the position of record, so a message
 *   fetched around the pause can be neither skipped nor doubled. Nothing is
 *   dropped: Kafka keeps the backlog.
 * - Revocation commits the batch in hand before giving partitions up.
 * - Time series (series_ingest.c): the deltas of the events a batch newly
 *   stores are written by a store hook inside the batch's transaction, in a
 *   nested transaction: if only they do not fit (MDB_MAP_FULL) the events
 *   and offsets commit without them (counted). Whenever series writes do
 *   not commit, the series writer state is reloaded from the last commit.
 * - Threads: everything here runs on the ingest thread (the rebalance
 *   callback is served from rd_kafka_consumer_poll on that thread); `ready`,
 *   `stop`, `state` and `state_rc` are atomics read by other threads.
 */
#include "ingest.h"

#include <librdkafka/rdkafka.h>
#include <lmdb.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "config.h"
#include "crash.h"
#include "event.h"
#include "kafkautil.h"
#include "log.h"
#include "metrics.h"
#include "series.h"
#include "series_ingest.h"
#include "store.h"
#include "timeutil.h"
#include "ulid.h"

struct part_off {
    int32_t partition;
    int64_t first; /* offset of the batch's first message in the partition */
    int64_t next;  /* the offset to resume from once the batch is committed */
};

struct ingest {
    rd_kafka_t *consumer, *dlq;
    rd_kafka_topic_t *dlq_rkt;
    struct store *st;
    char *topic, *dlq_topic;
    size_t batch_max;
    int batch_wait_ms;
    struct event_limits lim;
    pthread_t thread;
    bool started;
    atomic_bool stop, ready;
    _Atomic int state;    /* enum ingest_state: why not ready */
    _Atomic int state_rc; /* the store's error code for INGEST_STORE_* */

    /* the batch in hand: the messages (their payloads are the stored JSON)
     * and, per event, its indexed strings copied into a fixed arena, so each
     * parsed tree is freed at once instead of 2,000 of them per commit */
    rd_kafka_message_t **msgs;
    char *arena;
    struct arena *jarena; /* cJSON trees of the ingest thread; reset per message */
    struct store_event *evs;
    struct series_event_extra *ext; /* per event, what the series need beyond evs */
    struct series_ingest *si;       /* NULL: no time series */
    size_t n;
    struct part_off *offs;
    size_t noffs, offs_cap;
    size_t dlq_pending;      /* dead letters produced for this batch */
    size_t dlq_batch_failed; /* of those, not delivered */
    size_t dlq_max_value;
    bool paused; /* backpressure: the assignment is paused */

    struct metric *consumed, *stored, *duplicates, *batches, *dlq_sent, *dlq_failed, *store_errors,
        *store_full, *kafka_errors, *consumed_bytes;
    struct metric *invalid[EVENT_REASON_COUNT];
    struct metric *last_batch, *paused_gauge;
    struct metric *series_dropped;
};

enum ingest_state { INGEST_RUNNING, INGEST_STORE_FULL, INGEST_STORE_ERROR, INGEST_DLQ_FAILED };

#define PAUSED_LOG_EVERY_US (30 * 1000000LL) /* "still paused" reminders */

static void set_state(struct ingest *g, enum ingest_state s, int rc)
{
    atomic_store(&g->state_rc, rc);
    atomic_store(&g->state, (int)s);
}

static void note_offset(struct ingest *g, int32_t partition, int64_t next)
{
    for (size_t i = 0; i < g->noffs; i++) {
        if (g->offs[i].partition == partition) {
            if (next > g->offs[i].next)
                g->offs[i].next = next;
            return;
        }
    }
    if (g->noffs == g->offs_cap) {
        size_t cap = g->offs_cap ? g->offs_cap * 2 : 16;
        struct part_off *p = realloc(g->offs, cap * sizeof *p);
        if (!p)
            abort(); /* tiny; cannot continue without tracking offsets */
        g->offs = p;
        g->offs_cap = cap;
    }
    g->offs[g->noffs++] = (struct part_off){partition, next - 1, next};
}

/* Room per event in the arena: id, service, model, provider, operation at
 * their validated maximum lengths plus NULs. */
#define ARENA_PER_EVENT (STORE_ID_MAX + 128 + 256 + 128 + 128 + 128 + 128 + 7)

static const char *arena_put(char **at, const char *s, size_t max)
{
    if (!s)
        return NULL;
    size_t n = strnlen(s, max);
    char *p = *at;
    memcpy(p, s, n);
    p[n] = 0;
    *at = p + n + 1;
    return p;
}

static void batch_clear(struct ingest *g)
{
    for (size_t i = 0; i < g->n; i++)
        rd_kafka_message_destroy(g->msgs[i]);
    g->n = 0;
    g->noffs = 0;
    g->dlq_pending = 0;
    g->dlq_batch_failed = 0;
}

/* Seeks every partition of the batch back to its first message and drops
 * the batch, so it is consumed again (nothing of it was committed). */
static void batch_rewind(struct ingest *g)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)g->noffs);
    for (size_t i = 0; i < g->noffs; i++)
        rd_kafka_topic_partition_list_add(l, g->topic, g->offs[i].partition)->offset =
            g->offs[i].first;
    if (g->noffs)
        rd_kafka_error_destroy(rd_kafka_seek_partitions(g->consumer, l, 10000));
    rd_kafka_topic_partition_list_destroy(l);
    batch_clear(g);
}

/* Pauses or resumes every assigned partition. While paused, newly assigned
 * partitions are paused too (rebalance_cb), so resuming the whole
 * assignment never resumes a partition that was not paused. */
static void set_paused(struct ingest *g, bool pause)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(g->consumer, &parts) == RD_KAFKA_RESP_ERR_NO_ERROR && parts) {
        if (pause)
            rd_kafka_pause_partitions(g->consumer, parts);
        else
            rd_kafka_resume_partitions(g->consumer, parts);
        rd_kafka_topic_partition_list_destroy(parts);
    }
    g->paused = pause;
    metric_set(g->paused_gauge, pause ? 1 : 0);
}

/* Puts every assigned partition that has an offset in the store back to
 * it: after a pause, the store (not librdkafka's fetch position) says where
 * consumption resumes. Partitions without one keep their position. */
static void seek_to_stored(struct ingest *g)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(g->consumer, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR || !parts)
        return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts->cnt);
    for (int i = 0; i < parts->cnt; i++) {
        int64_t next;
        if (store_offset_get(g->st, parts->elems[i].topic, parts->elems[i].partition, &next) == 0)
            rd_kafka_topic_partition_list_add(l, parts->elems[i].topic, parts->elems[i].partition)
                ->offset = next;
    }
    if (l->cnt)
        rd_kafka_error_destroy(rd_kafka_seek_partitions(g->consumer, l, 10000));
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_topic_partition_list_destroy(parts);
}

/* Why the store refuses, and what the operator can do about it. */
static void log_refusal(struct ingest *g, int rc, double paused_s)
{
    struct store_stats ss = {0};
    store_stats(g->st, &ss);
    char when[64] = "";
    if (paused_s > 0)
        snprintf(when, sizeof when, " (paused for %.0f s)", paused_s);
    if (rc == MDB_MAP_FULL)
        log_msg(paused_s > 0 ? LOG_WARN : LOG_ERROR, "collector:ingest",
                "store full%s: %.1f of %.1f MiB map in use, %llu events; consumption is paused "
                "(Kafka keeps the backlog) and the batch of %zu events is retried every second. "
                "To resume: raise store.map_size in the config file and send SIGHUP, or shorten "
                "retention.events",
                when, (double)ss.used_bytes / 1048576, (double)ss.map_size / 1048576,
                (unsigned long long)ss.events, g->n);
    else
        log_msg(paused_s > 0 ? LOG_WARN : LOG_ERROR, "collector:ingest",
                "store write failed%s: %s; consumption is paused (Kafka keeps the backlog) and "
                "the batch of %zu events is retried every second",
                when, store_strerror(rc), g->n);
}

/* A message that arrived although its partition should be paused (fetched
 * before the pause took effect): put the partition back to it, so it is
 * consumed again after the resume, and pause it. Never drop it. */
static void push_back(struct ingest *g, rd_kafka_message_t *m)
{
    if (!m->err) {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)->offset =
            m->offset;
        rd_kafka_error_destroy(rd_kafka_seek_partitions(g->consumer, l, 10000));
        rd_kafka_pause_partitions(g->consumer, l);
        rd_kafka_topic_partition_list_destroy(l);
    }
    rd_kafka_message_destroy(m);
}

/* ---- time series: written inside the batch's store transaction ---------- */

struct hook_ctx {
    struct ingest *g;
    size_t base; /* index in g->ext of evs[0] */
    int64_t now_ms;
    bool dropped; /* the series did not fit: committed without them */
};

static int series_write(struct hook_ctx *h, MDB_txn *txn, const struct store_event *evs,
                        const unsigned char *stored, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!stored[i])
            continue; /* a duplicate was counted when first stored */
        int rc = series_ingest_event(h->g->si, txn, &evs[i], &h->g->ext[h->base + i], h->now_ms);
        if (rc)
            return rc;
    }
    return series_ingest_flush(h->g->si, txn, h->now_ms);
}

/* The series writes run in a nested transaction: when they do not fit in
 * the map (MDB_MAP_FULL), the events and offsets are still committed
 * without them (counted, logged): events are the record, series are
 * derived, and a full map must not stop ingest before the events
 * themselves no longer fit. */
static int series_hook(void *ud, MDB_txn *txn, const struct store_event *evs,
                       const unsigned char *stored, size_t n)
{
    struct hook_ctx *h = ud;
    MDB_txn *child = NULL;
    int rc = mdb_txn_begin(mdb_txn_env(txn), txn, 0, &child);
    if (rc)
        return rc;
    rc = series_write(h, child, evs, stored, n);
    if (rc == 0)
        return mdb_txn_commit(child);
    mdb_txn_abort(child);
    if (rc == MDB_MAP_FULL || rc == MDB_TXN_FULL) {
        h->dropped = true;
        return 0;
    }
    return rc;
}

/* store_append, with the series deltas of the newly stored events written
 * in the same transaction; a failed transaction rolls the series back. */
static int append(struct ingest *g, const struct store_event *evs, size_t base, size_t n,
                  const struct store_offset *so, size_t noffs, struct store_append_result *res)
{
    if (!g->si)
        return store_append(g->st, evs, n, so, noffs, res);
    struct hook_ctx h = {g, base, timeutil_now_us() / 1000, false};
    int ran = 0;
    int rc = store_append_hook(g->st, evs, n, so, noffs, series_hook, &h, &ran, res);
    if (rc < -30100 && rc > -30200)
        log_error("collector:ingest", "series: %s", series_strerror(rc));
    if ((rc != 0 && ran) || h.dropped) {
        if (h.dropped) {
            metric_add(g->series_dropped, rc == 0 && res ? res->stored : n);
            log_warn("collector:ingest",
                     "series: the map is full; %zu events stored without "
                     "their time series",
                     n);
        }
        int rr = series_ingest_rollback(g->si);
        if (rr)
            log_error("collector:ingest",
                      "series: reloading after an aborted batch failed: %s; "
                      "retrying with the next batch",
                      series_strerror(rr));
    }
    return rc;
}

static void series_extra_get(const cJSON *ev, char **at, struct series_event_extra *x)
{
    *x = (struct series_event_extra){.cached_input_tokens = -1,
                                     .cache_write_tokens = -1,
                                     .reasoning_tokens = -1,
                                     .ttft_ms = NAN};
    /* One pass over the members (a validated event has no duplicate names). */
    const cJSON *u = NULL;
    for (const cJSON *v = ev->child; v; v = v->next) {
        const char *k = v->string ? v->string : "";
        switch (k[0]) {
        case 'e':
            if (strcmp(k, "env") == 0 && cJSON_IsString(v))
                x->env = arena_put(at, v->valuestring, 128);
            else if (strcmp(k, "error") == 0)
                x->has_error = !cJSON_IsNull(v);
            break;
        case 'p':
            if (strcmp(k, "prompt_version") == 0 && cJSON_IsString(v))
                x->prompt_version = arena_put(at, v->valuestring, 128);
            break;
        case 'l':
            if (strcmp(k, "latency_ms") == 0)
                x->has_latency = cJSON_IsNumber(v);
            break;
        case 't':
            if (strcmp(k, "ttft_ms") == 0 && cJSON_IsNumber(v))
                x->ttft_ms = v->valuedouble;
            break;
        case 'u':
            if (strcmp(k, "usage") == 0)
                u = v;
            break;
        }
    }
    if (cJSON_IsObject(u)) {
        for (const cJSON *v = u->child; v; v = v->next) {
            if (!v->string || !cJSON_IsNumber(v) || !(v->valuedouble >= 0))
                continue;
            if (strcmp(v->string, "cached_input_tokens") == 0)
                x->cached_input_tokens = (int64_t)v->valuedouble;
            else if (strcmp(v->string, "cache_write_tokens") == 0)
                x->cache_write_tokens = (int64_t)v->valuedouble;
            else if (strcmp(v->string, "reasoning_tokens") == 0)
                x->reasoning_tokens = (int64_t)v->valuedouble;
        }
    }
}

void ingest_set_series(struct ingest *g, struct series_ingest *si)
{
    g->si = si;
}

static void dead_letter(struct ingest *g, rd_kafka_message_t *m, const struct event_error *err);

/* The store refused the batch as invalid (STORE_EINVAL): a permanent error,
 * not backpressure, so retrying would stall the partition forever. Append
 * the events one by one; each one the store refuses goes to the DLQ. Each
 * single append is its own transaction without offsets: a crash in between
 * re-consumes the batch, and the store's dedup by id absorbs the repeats.
 * Returns 0, or the first other error (the batch stays whole and valid). */
static int isolate_refused(struct ingest *g)
{
    size_t kept = 0, i;
    int rc = 0;
    for (i = 0; i < g->n; i++) {
        struct store_append_result res = {0};
        rc = append(g, &g->evs[i], i, 1, NULL, 0, &res);
        if (rc == STORE_EINVAL) {
            struct event_error err = {.reason = EVENT_BAD_VALUE};
            snprintf(err.msg, sizeof err.msg, "the store refused the event: %s",
                     store_strerror(rc));
            dead_letter(g, g->msgs[i], &err);
            rd_kafka_message_destroy(g->msgs[i]);
            rc = 0;
            continue;
        }
        if (rc != 0)
            break;
        metric_add(g->stored, res.stored);
        metric_add(g->duplicates, res.duplicates);
        g->msgs[kept] = g->msgs[i];
        g->evs[kept] = g->evs[i]; /* its strings stay in slot i of the arena */
        g->ext[kept] = g->ext[i];
        kept++;
    }
    /* Keep the events not yet tried (after an error) behind the kept ones. */
    for (; i < g->n; i++, kept++) {
        g->msgs[kept] = g->msgs[i];
        g->evs[kept] = g->evs[i];
        g->ext[kept] = g->ext[i];
    }
    g->n = kept;
    return rc;
}

enum { COMMIT_DLQ_FAILED = -1 };

/* Waits for this batch's dead letters. 0 when all were acknowledged. */
static int dlq_settle(struct ingest *g)
{
    if (!g->dlq_pending && !g->dlq_batch_failed)
        return 0;
    rd_kafka_flush(g->dlq, 10000); /* serves delivery reports (dlq_dr_cb) */
    if (rd_kafka_outq_len(g->dlq) > 0 || g->dlq_batch_failed > 0)
        return COMMIT_DLQ_FAILED;
    return 0;
}

/* Commits the batch in hand: events and offsets in one store transaction.
 * Returns 0, COMMIT_DLQ_FAILED, or the store's error code. */
static int batch_commit(struct ingest *g)
{
    if (g->n == 0 && g->noffs == 0)
        return 0;
    if (dlq_settle(g) != 0)
        return COMMIT_DLQ_FAILED;
    struct store_offset so[g->noffs ? g->noffs : 1];
    for (size_t i = 0; i < g->noffs; i++)
        so[i] = (struct store_offset){g->topic, g->offs[i].partition, g->offs[i].next};
    struct store_append_result res = {0};
    int rc = append(g, g->evs, 0, g->n, so, g->noffs, &res);
    if (rc == STORE_EINVAL) {
        log_error("collector:ingest", "the store refused a batch as invalid; isolating the events");
        if ((rc = isolate_refused(g)) == 0) {
            if (dlq_settle(g) != 0)
                return COMMIT_DLQ_FAILED;
            /* every kept event is stored now: commit the offsets alone */
            rc = append(g, NULL, 0, 0, so, g->noffs, &res);
        }
    }
    if (rc != 0) {
        metric_inc(g->store_errors);
        return rc;
    }
    metric_add(g->stored, res.stored);
    metric_add(g->duplicates, res.duplicates);
    metric_inc(g->batches);
    metric_set(g->last_batch, (int64_t)g->n);
    /* Informational commit to Kafka (lag tools); never read back. */
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)g->noffs);
    for (size_t i = 0; i < g->noffs; i++)
        rd_kafka_topic_partition_list_add(l, g->topic, g->offs[i].partition)->offset =
            g->offs[i].next;
    if (g->noffs)
        rd_kafka_commit(g->consumer, l, 1);
    rd_kafka_topic_partition_list_destroy(l);
    batch_clear(g);
    set_state(g, INGEST_RUNNING, 0);
    atomic_store(&g->ready, true);
    return 0;
}

/* Sleeps up to ms, returning early on stop. */
static void pause_ms(struct ingest *g, int ms)
{
    for (int t = 0; t < ms && !atomic_load(&g->stop); t += 100)
        rd_kafka_poll(g->dlq, 100);
}

/* Commits the batch in hand, applying backpressure while that fails:
 * - dead letters not delivered: the batch is rewound (consumed again) after
 *   a pause, so no dead letter is skipped unwritten;
 * - the store refuses the write: the assignment is paused and the same
 *   batch retried every second until it succeeds; consumption then
 *   resumes. Kafka keeps the backlog; nothing is dropped.
 * On stop, an uncommitted batch is dropped: its offsets were not stored,
 * so it is consumed again at the next start. */
static void commit_with_backpressure(struct ingest *g)
{
    int rc = batch_commit(g);
    if (rc == 0)
        return;
    atomic_store(&g->ready, false);
    if (rc == COMMIT_DLQ_FAILED) {
        set_state(g, INGEST_DLQ_FAILED, 0);
        log_error("collector:ingest",
                  "dead letters of a batch were not acknowledged by %s; "
                  "consuming the batch again",
                  g->dlq_topic);
        batch_rewind(g);
        pause_ms(g, 1000);
        return;
    }
    bool full = rc == MDB_MAP_FULL, dropped = false;
    set_state(g, full ? INGEST_STORE_FULL : INGEST_STORE_ERROR, rc);
    if (full)
        metric_inc(g->store_full);
    log_refusal(g, rc, 0);
    set_paused(g, true);
    int64_t since = timeutil_mono_us(), next_log = since + PAUSED_LOG_EVERY_US;
    while (!atomic_load(&g->stop)) {
        /* Polling keeps the group membership alive (and serves rebalances). */
        rd_kafka_message_t *m = rd_kafka_consumer_poll(g->consumer, 1000);
        if (m)
            push_back(g, m);
        if (g->n == 0 && g->noffs == 0) {
            dropped = true; /* revoked meanwhile (rebalance_cb): nothing left to write */
            rc = 0;
            break;
        }
        if ((rc = batch_commit(g)) == 0)
            break;
        if (rc == COMMIT_DLQ_FAILED) {
            set_state(g, INGEST_DLQ_FAILED, 0);
            batch_rewind(g);
            break;
        }
        if (rc == MDB_MAP_FULL && !full) {
            full = true;
            metric_inc(g->store_full);
        }
        set_state(g, rc == MDB_MAP_FULL ? INGEST_STORE_FULL : INGEST_STORE_ERROR, rc);
        if (timeutil_mono_us() >= next_log) {
            log_refusal(g, rc, (double)(timeutil_mono_us() - since) / 1e6);
            next_log += PAUSED_LOG_EVERY_US;
        }
    }
    if (atomic_load(&g->stop) && rc != 0) {
        batch_clear(g); /* stopping: nothing of it was committed */
        return;
    }
    seek_to_stored(g);
    set_paused(g, false);
    if (rc == 0) {
        set_state(g, INGEST_RUNNING, 0);
        atomic_store(&g->ready, true);
        log_info("collector:ingest", "%s after %.1f s; resuming consumption",
                 dropped ? "the paused batch was given up with its partitions"
                         : "store write succeeded again",
                 (double)(timeutil_mono_us() - since) / 1e6);
    }
}

static void dlq_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct ingest *g = opaque;
    if (m->err) {
        g->dlq_batch_failed++;
        metric_inc(g->dlq_failed);
        log_error("collector:ingest", "dead letter not delivered to %s: %s", g->dlq_topic,
                  rd_kafka_err2str(m->err));
    } else {
        metric_inc(g->dlq_sent);
    }
}

static void dead_letter(struct ingest *g, rd_kafka_message_t *m, const struct event_error *err)
{
    metric_inc(g->invalid[err->reason]);
    char src[256], orig[32];
    snprintf(src, sizeof src, "%s/%d/%lld", g->topic, m->partition, (long long)m->offset);
    size_t len = m->len;
    rd_kafka_headers_t *h = rd_kafka_headers_new(5);
    rd_kafka_header_add(h, "llmtap-error", -1, err->msg, -1);
    rd_kafka_header_add(h, "llmtap-error-reason", -1, event_reason_name(err->reason), -1);
    rd_kafka_header_add(h, "llmtap-source", -1, src, -1);
    if (len > g->dlq_max_value) { /* keep dead letters within every broker's limits */
        len = g->dlq_max_value;
        snprintf(orig, sizeof orig, "%zu", m->len);
        rd_kafka_header_add(h, "llmtap-truncated", -1, "true", -1);
        rd_kafka_header_add(h, "llmtap-original-bytes", -1, orig, -1);
    }
    rd_kafka_resp_err_t e;
    while ((e = rd_kafka_producev(
                g->dlq, RD_KAFKA_V_RKT(g->dlq_rkt), RD_KAFKA_V_KEY(m->key, m->key_len),
                RD_KAFKA_V_VALUE(m->payload, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL &&
           !atomic_load(&g->stop))
        rd_kafka_poll(g->dlq, 100);
    if (e) {
        rd_kafka_headers_destroy(h);
        g->dlq_batch_failed++; /* the batch is consumed again rather than skip it */
        metric_inc(g->dlq_failed);
        log_error("collector:ingest", "dead letter %s not queued: %s", src, rd_kafka_err2str(e));
    } else {
        g->dlq_pending++;
    }
    log_warn("collector:ingest", "invalid event at %s: %s", src, err->msg);
}

static void handle_message(struct ingest *g, rd_kafka_message_t *m)
{
    if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            metric_inc(g->kafka_errors);
            log_warn("collector:ingest", "consumer: %s", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
        return;
    }
    metric_inc(g->consumed);
    metric_add(g->consumed_bytes, m->len);
    note_offset(g, m->partition, m->offset + 1);
    struct event_error err = {0};
    cJSON *ev = event_parse_json(m->payload ? m->payload : "", m->len, &g->lim, 0, &err);
    if (ev && event_validate(ev, &err) != EVENT_OK)
        ev = NULL;
    if (!ev) {
        arena_reset(g->jarena); /* the tree lived in the arena */
        dead_letter(g, m, &err);
        rd_kafka_message_destroy(m);
        return;
    }
    struct event_fields f;
    event_fields_get(ev, &f);
    char *at = g->arena + g->n * ARENA_PER_EVENT;
    const char *id = arena_put(&at, f.id, STORE_ID_MAX);
    event_id_canonical((char *)id); /* the store's key; the stored JSON is untouched */
    g->msgs[g->n] = m;
    g->evs[g->n] = (struct store_event){
        .json = m->payload,
        .json_len = m->len,
        .id = id,
        .time_us = f.time_us,
        .service = arena_put(&at, f.service, 128),
        .model = arena_put(&at, f.model, 256),
        .provider = arena_put(&at, f.provider, 128),
        .operation = arena_put(&at, f.operation, 128),
        .cost_usd = f.cost_usd,
        .latency_ms = f.latency_ms,
        .status = f.status,
        .input_tokens = f.input_tokens,
        .output_tokens = f.output_tokens,
    };
    series_extra_get(ev, &at, &g->ext[g->n]);
    arena_reset(g->jarena); /* frees the whole tree at once (no cJSON_Delete walk) */
    g->n++;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct ingest *g = opaque;
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++) {
            rd_kafka_topic_partition_t *p = &parts->elems[i];
            int64_t next;
            int rc = store_offset_get(g->st, p->topic, p->partition, &next);
            p->offset = rc == 0 ? next : RD_KAFKA_OFFSET_BEGINNING;
            if (rc == 0)
                log_info("collector:ingest", "assigned %s/%d, resuming at stored offset %lld",
                         p->topic, p->partition, (long long)next);
            else if (rc == STORE_ENOTFOUND)
                log_info("collector:ingest", "assigned %s/%d, no stored offset: from the beginning",
                         p->topic, p->partition);
            else /* re-reading is safe: the store drops events it already holds */
                log_error("collector:ingest",
                          "assigned %s/%d, stored offset unreadable (%s): "
                          "from the beginning",
                          p->topic, p->partition, store_strerror(rc));
        }
        if (cooperative)
            rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, parts));
        else
            rd_kafka_assign(rk, parts);
        if (g->paused) /* backpressure holds for new partitions too */
            rd_kafka_pause_partitions(rk, parts);
    } else {
        /* Commit the batch in hand before giving the partitions up. If the
         * store refuses, drop it instead of blocking the whole group: its
         * offsets were not stored, so the next owner consumes it again. */
        if (batch_commit(g) != 0 && g->n + g->noffs > 0) {
            log_warn("collector:ingest",
                     "could not commit %zu events before the partitions were "
                     "revoked; their next owner consumes them again",
                     g->n);
            batch_clear(g);
        }
        log_info("collector:ingest", "partitions revoked (%d)", parts->cnt);
        if (cooperative)
            rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, parts));
        else
            rd_kafka_assign(rk, NULL);
    }
}

static void *ingest_main(void *arg)
{
    struct ingest *g = arg;
    crash_thread_init();
    arena_activate(g->jarena);
    atomic_store(&g->ready, true);
    while (!atomic_load(&g->stop)) {
        int64_t deadline = timeutil_mono_us() + (int64_t)g->batch_wait_ms * 1000;
        while (g->n < g->batch_max && !atomic_load(&g->stop)) {
            int64_t left_ms = (deadline - timeutil_mono_us()) / 1000;
            if (left_ms <= 0)
                break;
            rd_kafka_message_t *m = rd_kafka_consumer_poll(g->consumer, (int)left_ms);
            if (m)
                handle_message(g, m);
        }
        rd_kafka_poll(g->dlq, 0);
        commit_with_backpressure(g);
        if (g->si && atomic_load(&g->ready))
            series_ingest_maint(g->si, timeutil_now_us() / 1000);
    }
    if (batch_commit(g) != 0)
        batch_clear(g); /* not committed: consumed again at the next start */
    arena_activate(NULL);
    return NULL;
}

int ingest_create(const struct config *c, const char *brokers, struct store *st, struct metrics *m,
                  struct ingest **out, char *err, size_t errlen)
{
    static const struct kafkautil_default cdefs[] = {
        {"client.id", "llmtap-collector"}, {"group.id", "llmtap-collector"},
        {"enable.auto.commit", "false"},   {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
    };
    static const struct kafkautil_default pdefs[] = {
        {"client.id", "llmtap-collector-dlq"},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"compression.type", "zstd"},
    };
    char rerr[512];
    struct ingest *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    g->st = st;
    g->topic = strdup(config_str(c, "topic"));
    const char *dlq_topic = config_str(c, "dlq.topic");
    if (!dlq_topic || !*dlq_topic || strcmp(dlq_topic, config_str(c, "topic")) == 0) {
        snprintf(err, errlen,
                 "dlq.topic: must be set, and differ from topic (dead letters would "
                 "be consumed again)");
        goto fail;
    }
    g->dlq_topic = strdup(dlq_topic);
    g->dlq_max_value = (size_t)config_int(c, "dlq.max_value");
    g->batch_max = (size_t)config_int(c, "batch.max_events");
    g->batch_wait_ms = (int)config_int(c, "batch.max_wait");
    g->lim.max_bytes = (size_t)config_int(c, "ingest.max_event");
    g->lim.max_depth = (int)config_int(c, "ingest.max_depth");
    g->msgs = calloc(g->batch_max, sizeof *g->msgs);
    g->arena = malloc(g->batch_max * ARENA_PER_EVENT);
    g->jarena = arena_create(256 * 1024);
    g->evs = calloc(g->batch_max, sizeof *g->evs);
    g->ext = calloc(g->batch_max, sizeof *g->ext);
    if (!g->topic || !g->dlq_topic || !g->msgs || !g->arena || !g->jarena || !g->evs || !g->ext) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }

    g->consumed = metrics_counter(m, "llmtap_collector_events_consumed_total",
                                  "Messages consumed from the events topic.", NULL);
    g->consumed_bytes = metrics_counter(m, "llmtap_collector_consumed_bytes_total",
                                        "Bytes of messages consumed.", NULL);
    g->series_dropped =
        metrics_counter(m, "llmtap_series_dropped_events_total",
                        "Events stored without their time series (the map was full).", NULL);
    g->stored = metrics_counter(m, "llmtap_collector_events_stored_total",
                                "Events written to the store.", NULL);
    g->duplicates = metrics_counter(m, "llmtap_collector_events_duplicate_total",
                                    "Events skipped because their id was already stored.", NULL);
    char lbl[64];
    for (int r = 1; r < EVENT_REASON_COUNT; r++) {
        snprintf(lbl, sizeof lbl, "reason=\"%s\"", event_reason_name((enum event_reason)r));
        g->invalid[r] = metrics_counter(m, "llmtap_collector_events_invalid_total",
                                        "Messages that failed validation, by reason.", lbl);
    }
    g->dlq_sent = metrics_counter(m, "llmtap_collector_dlq_total",
                                  "Invalid messages written to the dead-letter topic.", NULL);
    g->dlq_failed = metrics_counter(m, "llmtap_collector_dlq_failed_total",
                                    "Invalid messages that could not be queued to the DLQ.", NULL);
    g->batches = metrics_counter(m, "llmtap_collector_batches_total",
                                 "Store transactions committed by ingest.", NULL);
    g->store_errors = metrics_counter(m, "llmtap_collector_store_errors_total",
                                      "Store transactions that failed and were retried.", NULL);
    g->store_full = metrics_counter(m, "llmtap_collector_store_full_total",
                                    "Times ingest paused because the store was full.", NULL);
    g->kafka_errors = metrics_counter(m, "llmtap_collector_kafka_errors_total",
                                      "Consumer errors reported by librdkafka.", NULL);
    g->last_batch = metrics_gauge(m, "llmtap_collector_last_batch_events",
                                  "Events in the last committed batch.", NULL);
    g->paused_gauge =
        metrics_gauge(m, "llmtap_collector_ingest_paused",
                      "1 while consumption is paused because the store refuses writes.", NULL);

    rd_kafka_conf_t *conf =
        kafkautil_conf(c, cdefs, sizeof cdefs / sizeof cdefs[0], brokers, err, errlen);
    if (!conf)
        goto fail;
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_opaque(conf, g);
    g->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rerr, sizeof rerr);
    if (!g->consumer) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "kafka consumer: %s", rerr);
        goto fail;
    }
    rd_kafka_poll_set_consumer(g->consumer);

    conf = kafkautil_conf(NULL, pdefs, sizeof pdefs / sizeof pdefs[0], NULL, err, errlen);
    if (!conf)
        goto fail;
    /* The DLQ producer shares the user's connection properties. */
    for (size_t i = 0; i < config_passthrough_count(c); i++) {
        const char *name, *value;
        config_passthrough_get(c, i, &name, &value);
        if (strncmp(name, "group.", 6) == 0 || strncmp(name, "enable.auto", 11) == 0 ||
            strcmp(name, "auto.offset.reset") == 0 || strcmp(name, "client.id") == 0)
            continue; /* consumer-only */
        rd_kafka_conf_set(conf, name, value, rerr, sizeof rerr);
    }
    if (brokers)
        rd_kafka_conf_set(conf, "bootstrap.servers", brokers, rerr, sizeof rerr);
    rd_kafka_conf_set_dr_msg_cb(conf, dlq_dr_cb);
    rd_kafka_conf_set_opaque(conf, g);
    g->dlq = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rerr, sizeof rerr);
    if (!g->dlq) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "kafka DLQ producer: %s", rerr);
        goto fail;
    }
    g->dlq_rkt = rd_kafka_topic_new(g->dlq, g->dlq_topic, NULL);

    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subs, g->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(g->consumer, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (e) {
        snprintf(err, errlen, "subscribe to %s: %s", g->topic, rd_kafka_err2str(e));
        goto fail;
    }
    *out = g;
    return 0;
fail:
    ingest_destroy(g);
    return -1;
}

int ingest_start(struct ingest *g)
{
    if (pthread_create(&g->thread, NULL, ingest_main, g) != 0)
        return -1;
    pthread_setname_np(g->thread, "ingest");
    g->started = true;
    return 0;
}

bool ingest_ready(struct ingest *g)
{
    return g && atomic_load(&g->ready);
}

bool ingest_status(struct ingest *g, char *reason, size_t len)
{
    if (ingest_ready(g))
        return true;
    if (!g || !g->started || atomic_load(&g->stop)) {
        snprintf(reason, len, "ingest is not running");
        return false;
    }
    int rc = atomic_load(&g->state_rc);
    switch ((enum ingest_state)atomic_load(&g->state)) {
    case INGEST_STORE_FULL: {
        struct store_stats ss = {0};
        store_stats(g->st, &ss);
        snprintf(reason, len,
                 "store full (MDB_MAP_FULL: %.1f of %.1f MiB map in use): ingest is "
                 "paused and retried every second, Kafka keeps the backlog; raise store.map_size "
                 "in the config file and send SIGHUP, or shorten retention.events",
                 (double)ss.used_bytes / 1048576, (double)ss.map_size / 1048576);
        break;
    }
    case INGEST_STORE_ERROR:
        snprintf(reason, len,
                 "the store refuses writes (%s): ingest is paused and retried every "
                 "second; see the log",
                 store_strerror(rc));
        break;
    case INGEST_DLQ_FAILED:
        snprintf(reason, len,
                 "dead letters are not acknowledged by %s: batches are consumed "
                 "again until they are; see the log",
                 g->dlq_topic);
        break;
    default: snprintf(reason, len, "ingest cannot commit; see the log"); break;
    }
    return false;
}

void ingest_destroy(struct ingest *g)
{
    if (!g)
        return;
    atomic_store(&g->stop, true);
    if (g->started)
        pthread_join(g->thread, NULL);
    atomic_store(&g->ready, false);
    if (g->consumer) {
        rd_kafka_consumer_close(g->consumer); /* may call rebalance_cb (revoke) */
        batch_clear(g);
        rd_kafka_destroy(g->consumer);
    }
    if (g->dlq_rkt)
        rd_kafka_topic_destroy(g->dlq_rkt);
    if (g->dlq) {
        rd_kafka_flush(g->dlq, 5000);
        rd_kafka_destroy(g->dlq);
    }
    free(g->msgs);
    free(g->arena);
    arena_destroy(g->jarena);
    free(g->evs);
    free(g->ext);
    free(g->offs);
    free(g->topic);
    free(g->dlq_topic);
    free(g);
}
