/*
 * producer.c — the agent's path to Kafka: spool first, then librdkafka.
 *
 * DESIGN
 * - Write-ahead spool. producer_send appends the event to the spool
 *   (agent/spool.c) and returns; it never touches librdkafka. So an accepted
 *   event survives a broker outage, a message timeout, a shutdown before the
 *   flush ends and a crash of the agent (SIGKILL: the record is in the page
 *   cache; the spool's fsync policy covers power cuts).
 * - The shipper thread ("kafka-ship") takes records from the spool in order
 *   (spool_next, bounded by the spool's in-flight window) and produces them
 *   with RD_KAFKA_MSG_F_COPY; the message opaque carries the spool ticket.
 *   A local produce error (queue full) puts the record back (spool_nack)
 *   and backs off briefly.
 * - The poll thread ("kafka-poll") serves delivery reports: success →
 *   spool_ack (the record is done; drained segment files are deleted),
 *   failure → spool_nack (handed out again, counted, logged rate-limited).
 *   Nothing counts as delivered before the broker's acknowledgement.
 * - Degraded state: the last delivery report failed, or librdkafka said
 *   every broker is down, and no delivery succeeded since. The agent stays healthy and keeps
 * accepting (events wait in the spool); /readyz and llmtap_agent_kafka_degraded say so.
 * - Shutdown (producer_flush, producer_destroy): wait for the spool to
 *   drain within the grace period; then stop the shipper, let librdkafka
 *   finish what it holds briefly, destroy it, and close the spool. What was
 *   not acknowledged stays in the spool for the next start.
 */
#include "producer.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"
#include "crash.h"
#include "event.h"
#include "kafkautil.h"
#include "log.h"
#include "metrics.h"
#include "spool.h"
#include "timeutil.h"

#define SHIP_GATHER_MS 2

struct producer {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    char *topic;
    struct spool *spool;
    pthread_t poller, shipper;
    bool poller_started, shipper_started;
    atomic_bool stop_ship, stop_poll;
    atomic_bool fatal;
    char fatal_reason[400]; /* written once, before `fatal` is set */
    _Atomic int64_t last_ok_us, last_fail_us;
    _Atomic int last_err;
    struct metric *delivered, *delivered_bytes, *failed, *enqueued, *produce_retries;
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct producer *p = opaque;
    uint64_t ticket = (uint64_t)(uintptr_t)m->_private;
    if (m->err) {
        metric_inc(p->failed);
        atomic_store(&p->last_err, (int)m->err);
        atomic_store(&p->last_fail_us, timeutil_now_us());
        log_warn("agent:kafka", "delivery failed, the event stays in the spool: %s (topic %s)",
                 rd_kafka_err2str(m->err), p->topic);
        if (ticket)
            spool_nack(p->spool, ticket);
    } else {
        metric_inc(p->delivered);
        metric_add(p->delivered_bytes, m->len);
        atomic_store(&p->last_ok_us, timeutil_now_us());
        if (ticket)
            spool_ack(p->spool, ticket);
    }
}

/* librdkafka reports errors here; most are transient (it retries by
 * itself). A fatal error (e.g. the idempotent producer's sequence state is
 * lost) ends shipping: it is logged and /healthz reports it. */
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct producer *p = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[256];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof buf);
        if (!atomic_load(&p->fatal)) {
            snprintf(p->fatal_reason, sizeof p->fatal_reason, "%s: %s", rd_kafka_err2name(orig),
                     buf);
            atomic_store(&p->fatal, true);
        }
        log_error("agent:kafka", "fatal producer error: %s: %s", rd_kafka_err2name(orig), buf);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) { /* degraded until a delivery succeeds */
        atomic_store(&p->last_err, err);
        atomic_store(&p->last_fail_us, timeutil_now_us());
    }
    log_warn("agent:kafka", "%s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static double queue_depth(void *ud)
{
    struct producer *p = ud;
    return p->rk ? (double)rd_kafka_outq_len(p->rk) : 0;
}

static double pending_gauge(void *ud)
{
    return (double)producer_pending(ud);
}

static double degraded_gauge(void *ud)
{
    char b[8];
    return producer_degraded(ud, b, sizeof b) ? 1 : 0;
}

static void *poll_main(void *arg)
{
    struct producer *p = arg;
    crash_thread_init();
    while (!atomic_load(&p->stop_poll))
        rd_kafka_poll(p->rk, 100);
    return NULL;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *ship_main(void *arg)
{
    struct producer *p = arg;
    crash_thread_init();
    while (!atomic_load(&p->stop_ship)) {
        if (atomic_load(&p->fatal)) {
            nap_ms(200);
            continue;
        }
        if (spool_wait(p->spool, 200) <= 0)
            continue;
        /* Gather: one wake-up per few milliseconds of events, not one per
         * event (librdkafka lingers 5 ms before sending anyway). */
        nap_ms(SHIP_GATHER_MS);
        struct spool_record r;
        while (!atomic_load(&p->stop_ship) && spool_next(p->spool, &r) == 1) {
            rd_kafka_headers_t *hdrs = rd_kafka_headers_new(1);
            rd_kafka_header_add(hdrs, "llmtap-schema", -1, EVENT_SCHEMA_ID, -1);
            rd_kafka_resp_err_t e = rd_kafka_producev(
                p->rk, RD_KAFKA_V_RKT(p->rkt), RD_KAFKA_V_KEY(r.key, r.klen),
                RD_KAFKA_V_VALUE((void *)r.val, r.vlen), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE((void *)(uintptr_t)r.ticket),
                RD_KAFKA_V_END);
            if (e) {
                rd_kafka_headers_destroy(hdrs); /* not taken over on failure */
                spool_nack(p->spool, r.ticket);
                metric_inc(p->produce_retries);
                log_warn("agent:kafka", "cannot queue a spooled event (%s); retrying",
                         rd_kafka_err2str(e));
                nap_ms(50);
                break;
            }
        }
    }
    return NULL;
}

static int parse_fsync(const char *v, enum spool_fsync *out)
{
    if (!v || strcasecmp(v, "interval") == 0)
        *out = SPOOL_FSYNC_INTERVAL;
    else if (strcasecmp(v, "always") == 0)
        *out = SPOOL_FSYNC_ALWAYS;
    else if (strcasecmp(v, "never") == 0)
        *out = SPOOL_FSYNC_NEVER;
    else
        return -1;
    return 0;
}

int producer_create(const struct config *c, struct metrics *m, struct producer **out, char *err,
                    size_t errlen)
{
    /* librdkafka checks message.max.bytes against the uncompressed message:
     * leave room for the largest event intake accepts plus key and headers. */
    char max_msg[32];
    snprintf(max_msg, sizeof max_msg, "%lld", (long long)config_int(c, "intake.max_event") + 65536);
    const struct kafkautil_default defs[] = {
        {"client.id", "llmtap-agent"},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"compression.type", "zstd"},
        {"linger.ms", "5"},
        {"batch.num.messages", "10000"},
        {"message.max.bytes", max_msg},
    };
    struct producer *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->topic = strdup(config_str(c, "topic"));
    p->delivered = metrics_counter(m, "llmtap_agent_events_delivered_total",
                                   "Events acknowledged by the Kafka broker.", NULL);
    p->delivered_bytes = metrics_counter(m, "llmtap_agent_delivered_bytes_total",
                                         "Bytes of event JSON acknowledged by the broker.", NULL);
    p->failed = metrics_counter(m, "llmtap_agent_events_delivery_failed_total",
                                "Delivery attempts that failed (error or timeout); the event "
                                "stays in the spool and is sent again.",
                                NULL);
    p->enqueued = metrics_counter(m, "llmtap_agent_events_enqueued_total",
                                  "Events accepted into the spool (durably queued).", NULL);
    p->produce_retries = metrics_counter(m, "llmtap_agent_kafka_produce_retries_total",
                                         "Spooled events librdkafka could not queue at once "
                                         "(local queue full); retried.",
                                         NULL);
    metrics_gauge_fn(m, "llmtap_agent_kafka_queue_depth",
                     "Events in librdkafka's queue or in flight to Kafka.", NULL, queue_depth, p);
    metrics_gauge_fn(m, "llmtap_agent_events_pending",
                     "Events accepted and not yet acknowledged by the broker (in the spool).", NULL,
                     pending_gauge, p);
    metrics_gauge_fn(m, "llmtap_agent_kafka_degraded",
                     "1 while Kafka deliveries fail (events wait in the spool), else 0.", NULL,
                     degraded_gauge, p);

    struct spool_opts so = {
        .dir = config_str(c, "spool.dir"),
        .max_bytes = (uint64_t)config_int(c, "spool.max_bytes"),
        .fsync_interval_ms = (int)config_int(c, "spool.fsync_interval"),
        .max_inflight = 10000,
        .max_inflight_bytes = 32u << 20,
        .metrics = m,
    };
    if (parse_fsync(config_str(c, "spool.fsync"), &so.fsync) != 0) {
        snprintf(err, errlen, "spool.fsync: must be interval, always or never, got \"%s\"",
                 config_str(c, "spool.fsync"));
        goto fail;
    }
    char serr[512];
    int rc = spool_open(&so, &p->spool, serr, sizeof serr);
    if (rc != 0) {
        snprintf(err, errlen, "spool %s: %s", so.dir, serr[0] ? serr : spool_strerror(rc));
        goto fail;
    }
    struct spool_stats st;
    spool_stats(p->spool, &st);
    if (st.records)
        log_info("agent:kafka",
                 "spool %s holds %llu events from an earlier run: shipping them first", so.dir,
                 (unsigned long long)st.records);

    rd_kafka_conf_t *conf = kafkautil_conf(c, defs, sizeof defs / sizeof defs[0],
                                           config_str(c, "brokers"), err, errlen);
    if (!conf)
        goto fail;
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_opaque(conf, p);
    char rerr[512];
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rerr, sizeof rerr);
    if (!p->rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "kafka producer: %s", rerr);
        goto fail;
    }
    p->rkt = rd_kafka_topic_new(p->rk, p->topic, NULL);
    if (!p->rkt) {
        snprintf(err, errlen, "kafka topic %s: %s", p->topic,
                 rd_kafka_err2str(rd_kafka_last_error()));
        goto fail;
    }
    if (pthread_create(&p->poller, NULL, poll_main, p) != 0) {
        snprintf(err, errlen, "cannot start the kafka poll thread");
        goto fail;
    }
    pthread_setname_np(p->poller, "kafka-poll");
    p->poller_started = true;
    if (pthread_create(&p->shipper, NULL, ship_main, p) != 0) {
        snprintf(err, errlen, "cannot start the kafka shipper thread");
        goto fail;
    }
    pthread_setname_np(p->shipper, "kafka-ship");
    p->shipper_started = true;
    *out = p;
    return 0;
fail:
    producer_destroy(p);
    return -1;
}

int producer_send(struct producer *p, const char *key, char *json, size_t len)
{
    int rc = spool_append(p->spool, key, strlen(key), json, len);
    if (rc != 0)
        return rc == SPOOL_ENOSPC ? PRODUCER_EFULL : PRODUCER_EFAILED;
    free(json);
    metric_inc(p->enqueued);
    return 0;
}

int producer_send_copy(struct producer *p, const char *key, const char *json, size_t len)
{
    int rc = spool_append(p->spool, key, strlen(key), json, len);
    if (rc != 0)
        return rc == SPOOL_ENOSPC ? PRODUCER_EFULL : PRODUCER_EFAILED;
    metric_inc(p->enqueued);
    return 0;
}

const char *producer_strerror(int e)
{
    switch (e) {
    case 0: return "ok";
    case PRODUCER_EFULL: return "the agent's spool is full (disk full); retry later";
    default: return "the agent's spool failed; the event was not kept";
    }
}

const char *producer_failure(struct producer *p)
{
    return atomic_load(&p->fatal) ? p->fatal_reason : NULL;
}

const char *producer_degraded(struct producer *p, char *buf, size_t len)
{
    int64_t fail = atomic_load(&p->last_fail_us), ok = atomic_load(&p->last_ok_us);
    if (!fail || fail < ok)
        return NULL;
    snprintf(buf, len, "Kafka deliveries failing for %.0f s (%s); %ld events wait in the spool",
             (double)(timeutil_now_us() - (ok > 0 ? ok : fail)) / 1e6,
             rd_kafka_err2str((rd_kafka_resp_err_t)atomic_load(&p->last_err)), producer_pending(p));
    return buf;
}

long producer_pending(struct producer *p)
{
    if (!p->spool)
        return 0;
    struct spool_stats st;
    spool_stats(p->spool, &st);
    return (long)st.records;
}

long producer_flush(struct producer *p, int timeout_ms)
{
    int64_t until = timeutil_mono_us() + (int64_t)timeout_ms * 1000;
    while (producer_pending(p) > 0 && timeutil_mono_us() < until && !atomic_load(&p->fatal))
        nap_ms(10);
    return producer_pending(p);
}

void producer_destroy(struct producer *p)
{
    if (!p)
        return;
    if (p->shipper_started) {
        atomic_store(&p->stop_ship, true);
        spool_wake(p->spool);
        pthread_join(p->shipper, NULL);
    }
    if (p->rk && rd_kafka_outq_len(p->rk) > 0)
        rd_kafka_flush(p->rk, 1000); /* what librdkafka holds: acked now or replayed later */
    if (p->poller_started) {
        atomic_store(&p->stop_poll, true);
        pthread_join(p->poller, NULL);
    }
    if (p->rkt)
        rd_kafka_topic_destroy(p->rkt);
    if (p->rk)
        rd_kafka_destroy(p->rk);
    if (p->spool) {
        long left = producer_pending(p);
        if (left > 0)
            log_warn("agent:kafka",
                     "%ld events not yet acknowledged stay in the spool for the next start", left);
        spool_close(p->spool);
    }
    free(p->topic);
    free(p);
}
