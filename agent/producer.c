/*
 * producer.c — librdkafka producer for the agent.
 *
 * DESIGN
 * - One rd_kafka_t, created at start. A dedicated thread ("kafka-poll")
 *   calls rd_kafka_poll() so delivery reports are served promptly even
 *   when no request arrives; it exits when `stop` is set.
 * - Delivery report callback: counts delivered (and their bytes) or failed
 *   (logged, rate-limited, with the error). Nothing counts as delivered
 *   before the broker's acknowledgement.
 * - producer_send() never blocks: a full local queue is reported to the
 *   caller (intake answers the item as not accepted).
 */
#include "producer.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "crash.h"
#include "event.h"
#include "kafkautil.h"
#include "log.h"
#include "metrics.h"

struct producer {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    char *topic;
    pthread_t poller;
    bool poller_started;
    atomic_bool stop;
    atomic_bool fatal;
    char fatal_reason[400]; /* written once, before `fatal` is set */
    struct metric *delivered, *delivered_bytes, *failed, *enqueued;
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct producer *p = opaque;
    if (m->err) {
        metric_inc(p->failed);
        log_warn("agent:kafka", "delivery failed: %s (topic %s)", rd_kafka_err2str(m->err),
                 p->topic);
    } else {
        metric_inc(p->delivered);
        metric_add(p->delivered_bytes, m->len);
    }
}

/* librdkafka reports errors here; most are transient (it retries by
 * itself). A fatal error (e.g. the idempotent producer's sequence state is
 * lost) ends the producer: it is logged and /healthz reports it. */
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct producer *p = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[256];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof buf);
        if (!atomic_load(&p->fatal)) {
            snprintf(p->fatal_reason, sizeof p->fatal_reason, "%s: %s", rd_kafka_err2name(orig), buf);
            atomic_store(&p->fatal, true);
        }
        log_error("agent:kafka", "fatal producer error: %s: %s", rd_kafka_err2name(orig), buf);
        return;
    }
    log_warn("agent:kafka", "%s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static double queue_depth(void *ud)
{
    struct producer *p = ud;
    return p->rk ? (double)rd_kafka_outq_len(p->rk) : 0;
}

static void *poll_main(void *arg)
{
    struct producer *p = arg;
    crash_thread_init();
    while (!atomic_load(&p->stop))
        rd_kafka_poll(p->rk, 100);
    return NULL;
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
                                "Events whose delivery to Kafka failed (error or timeout).", NULL);
    p->enqueued = metrics_counter(m, "llmtap_agent_events_enqueued_total",
                                  "Events handed to the Kafka producer queue.", NULL);
    metrics_gauge_fn(m, "llmtap_agent_kafka_queue_depth",
                     "Events queued or in flight to Kafka, not yet acknowledged.", NULL,
                     queue_depth, p);

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
    *out = p;
    return 0;
fail:
    producer_destroy(p);
    return -1;
}

int producer_send(struct producer *p, const char *key, char *json, size_t len)
{
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(1);
    rd_kafka_header_add(hdrs, "llmtap-schema", -1, EVENT_SCHEMA_ID, -1);
    rd_kafka_resp_err_t e = rd_kafka_producev(
        p->rk, RD_KAFKA_V_RKT(p->rkt), RD_KAFKA_V_KEY(key, strlen(key)),
        RD_KAFKA_V_VALUE(json, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(NULL), RD_KAFKA_V_END);
    if (e) {
        rd_kafka_headers_destroy(hdrs); /* not taken over on failure */
        return (int)e;
    }
    metric_inc(p->enqueued);
    return 0;
}

const char *producer_failure(struct producer *p)
{
    return atomic_load(&p->fatal) ? p->fatal_reason : NULL;
}

int producer_queue_len(struct producer *p) { return rd_kafka_outq_len(p->rk); }

int producer_flush(struct producer *p, int timeout_ms)
{
    rd_kafka_flush(p->rk, timeout_ms);
    return rd_kafka_outq_len(p->rk);
}

void producer_destroy(struct producer *p)
{
    if (!p)
        return;
    if (p->poller_started) {
        atomic_store(&p->stop, true);
        pthread_join(p->poller, NULL);
    }
    if (p->rkt)
        rd_kafka_topic_destroy(p->rkt);
    if (p->rk) {
        int left = rd_kafka_outq_len(p->rk);
        if (left > 0)
            log_warn("agent:kafka", "%d events were not delivered before shutdown", left);
        rd_kafka_destroy(p->rk);
    }
    free(p->topic);
    free(p);
}
