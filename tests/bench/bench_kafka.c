/*
 * bench_kafka.c — llmtap-bench-kafka: the ingest benchmark's Kafka chores,
 * done fast enough not to dominate the run.
 *
 *   llmtap-bench-kafka preload --brokers B --topic T --file EVENTS.ndjson
 *       Produces every line of the file as one message, the way llmtap-agent
 *       does (agent/producer.c, agent/intake.c): key = the event's service,
 *       header llmtap-schema, idempotent, acks=all, zstd, linger.ms=5,
 *       batch.num.messages=10000. So the collector consumes what it would
 *       consume in production. Exits 0 only when every message is
 *       acknowledged by the broker. Prints one summary line to stdout:
 *       produced=N bytes=B seconds=S
 *   llmtap-bench-kafka delete-topics --brokers B TOPIC...
 *       Deletes the topics (a missing one is not an error), so that repeated
 *       benchmark runs do not fill the broker's data directory.
 *
 * DESIGN: the file is loaded into memory once and messages point into it
 * (no copy); it is freed only after rd_kafka_flush() returned with an empty
 * queue or the producer was destroyed.
 */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event.h"
#include "kafkautil.h"
#include "ndjson.h"

static const char usage[] =
    "usage: llmtap-bench-kafka preload --brokers B --topic T --file EVENTS.ndjson\n"
    "       llmtap-bench-kafka delete-topics --brokers B TOPIC...\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t failures;
static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    if (m->err && failures++ < 5)
        fprintf(stderr, "llmtap-bench-kafka: delivery failed: %s\n", rd_kafka_err2str(m->err));
}

static rd_kafka_t *producer_new(const char *brokers)
{
    static const char *const props[][2] = {
        {"client.id", "llmtap-bench-preload"},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"compression.type", "zstd"},
        {"linger.ms", "5"},
        {"batch.num.messages", "10000"},
        {"queue.buffering.max.kbytes", "1048576"},
    };
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
        if (rd_kafka_conf_set(c, props[i][0], props[i][1], err, sizeof err) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "llmtap-bench-kafka: %s\n", err);
            rd_kafka_conf_destroy(c);
            return NULL;
        }
    }
    rd_kafka_conf_set(c, "bootstrap.servers", brokers, err, sizeof err);
    rd_kafka_conf_set_log_cb(c, kafkautil_log_cb);
    rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(c);
        fprintf(stderr, "llmtap-bench-kafka: %s\n", err);
    }
    return rk;
}

static int preload(const char *brokers, const char *topic, const char *path)
{
    struct ndjson nd;
    if (ndjson_load(path, &nd) != 0) {
        fprintf(stderr, "llmtap-bench-kafka: %s: %s\n", path, strerror(errno));
        return 1;
    }
    rd_kafka_t *rk = producer_new(brokers);
    if (!rk) {
        ndjson_free(&nd);
        return 1;
    }
    int rc = 1;
    double t0 = now_s();
    for (size_t i = 0; i < nd.n; i++) {
        struct event_error err = {0};
        cJSON *ev = event_parse_json(nd.lines[i].p, nd.lines[i].len, NULL, 0, &err);
        if (!ev || event_validate(ev, &err) != EVENT_OK) {
            fprintf(stderr, "llmtap-bench-kafka: line %zu is not a valid event: %s\n", i + 1,
                    err.msg);
            cJSON_Delete(ev);
            goto out;
        }
        struct event_fields f;
        event_fields_get(ev, &f);
        char key[129];
        snprintf(key, sizeof key, "%s", f.service);
        cJSON_Delete(ev);
        rd_kafka_headers_t *h = rd_kafka_headers_new(1);
        rd_kafka_header_add(h, "llmtap-schema", -1, EVENT_SCHEMA_ID, -1);
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                                      RD_KAFKA_V_VALUE((void *)nd.lines[i].p, nd.lines[i].len),
                                      RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 50);
        if (e) {
            rd_kafka_headers_destroy(h);
            fprintf(stderr, "llmtap-bench-kafka: produce: %s\n", rd_kafka_err2str(e));
            goto out;
        }
        rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 120000);
    if (rd_kafka_outq_len(rk) > 0) {
        fprintf(stderr, "llmtap-bench-kafka: %d messages not acknowledged after 120 s\n",
                rd_kafka_outq_len(rk));
        goto out;
    }
    if (failures) {
        fprintf(stderr, "llmtap-bench-kafka: %zu messages failed\n", failures);
        goto out;
    }
    printf("produced=%zu bytes=%zu seconds=%.3f\n", nd.n, nd.json_bytes, now_s() - t0);
    rc = 0;
out:
    rd_kafka_destroy(rk); /* purges whatever is left, so the file can go */
    ndjson_free(&nd);
    return rc;
}

static int delete_topics(const char *brokers, char **topics, int n)
{
    rd_kafka_t *rk = producer_new(brokers);
    if (!rk)
        return 1;
    rd_kafka_DeleteTopic_t **dt = calloc((size_t)n, sizeof *dt);
    for (int i = 0; i < n; i++)
        dt[i] = rd_kafka_DeleteTopic_new(topics[i]);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteTopics(rk, dt, (size_t)n, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 60000);
    int rc = 1;
    if (!ev) {
        fprintf(stderr, "llmtap-bench-kafka: delete-topics: timed out\n");
    } else if (rd_kafka_event_error(ev)) {
        fprintf(stderr, "llmtap-bench-kafka: delete-topics: %s\n", rd_kafka_event_error_string(ev));
    } else {
        size_t cnt;
        const rd_kafka_topic_result_t **tr =
            rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &cnt);
        rc = 0;
        for (size_t i = 0; i < cnt; i++) {
            rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
            if (e && e != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
                fprintf(stderr, "llmtap-bench-kafka: delete %s: %s\n",
                        rd_kafka_topic_result_name(tr[i]), rd_kafka_err2str(e));
                rc = 1;
            }
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteTopic_destroy_array(dt, (size_t)n);
    free(dt);
    rd_kafka_destroy(rk);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *brokers = NULL, *topic = NULL, *file = NULL;
    char **rest = calloc((size_t)argc, sizeof *rest);
    int nrest = 0;
    for (int i = 2; i < argc; i++) {
        const char **dst = strcmp(argv[i], "--brokers") == 0 ? &brokers
                           : strcmp(argv[i], "--topic") == 0 ? &topic
                           : strcmp(argv[i], "--file") == 0  ? &file
                                                             : NULL;
        if (dst && i + 1 < argc)
            *dst = argv[++i];
        else if (!dst && argv[i][0] != '-')
            rest[nrest++] = argv[i];
        else {
            fprintf(stderr, "llmtap-bench-kafka: bad argument '%s'\n%s", argv[i], usage);
            free(rest);
            return 2;
        }
    }
    int rc = 2;
    if (strcmp(argv[1], "preload") == 0 && brokers && topic && file && nrest == 0)
        rc = preload(brokers, topic, file);
    else if (strcmp(argv[1], "delete-topics") == 0 && brokers && nrest > 0 && !topic && !file)
        rc = delete_topics(brokers, rest, nrest);
    else
        fputs(usage, stderr);
    free(rest);
    return rc;
}
