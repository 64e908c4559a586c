/*
 * devbroker.c — the mock cluster behind `--dev`.
 *
 * DESIGN: librdkafka creates a mock cluster on behalf of an rd_kafka_t
 * (test.mock.num.brokers) and destroys it with the handle; the
 * cluster's broker threads listen on loopback ports and speak the Kafka
 * protocol to any client, including other processes (the agent). The
 * owning handle is a bare producer that is never used to produce.
 */
#include "devbroker.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafkautil.h"

struct devbroker {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
};

int devbroker_start(const char *topic, const char *dlq_topic, int partitions,
                    struct devbroker **out, char *addr, size_t addrlen, char *err, size_t errlen)
{
    struct devbroker *d = calloc(1, sizeof *d);
    char rerr[256];
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, kafkautil_log_cb);
    rd_kafka_conf_set(conf, "client.id", "llmtap-dev-broker", rerr, sizeof rerr);
    /* Makes this handle create and own a one-broker mock cluster. */
    rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", rerr, sizeof rerr);
    d->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rerr, sizeof rerr);
    if (!d->rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "dev broker: %s", rerr);
        goto fail;
    }
    d->mc = rd_kafka_handle_mock_cluster(d->rk);
    if (!d->mc) {
        snprintf(err, errlen, "dev broker: cannot create the mock cluster");
        goto fail;
    }
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(d->mc, topic, partitions, 1);
    if (!e && dlq_topic)
        e = rd_kafka_mock_topic_create(d->mc, dlq_topic, 1, 1);
    if (e) {
        snprintf(err, errlen, "dev broker: cannot create topics: %s", rd_kafka_err2str(e));
        goto fail;
    }
    snprintf(addr, addrlen, "%s", rd_kafka_mock_cluster_bootstraps(d->mc));
    *out = d;
    return 0;
fail:
    devbroker_stop(d);
    return -1;
}

void devbroker_stop(struct devbroker *d)
{
    if (!d)
        return;
    if (d->rk)
        rd_kafka_destroy(d->rk);
    free(d);
}
