/*
 * kafkautil.c — librdkafka configuration from llmtap config, and the log bridge.
 *
 * librdkafka logs with syslog levels (0 emerg … 7 debug) from its own
 * threads; the bridge maps them to llmtap levels under the component tag
 * "kafka" (our logger is thread-safe and rate-limited).
 */
#include "kafkautil.h"

#include <stdio.h>

#include "config.h"
#include "log.h"

void kafkautil_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    enum log_level lvl = level <= 3   ? LOG_ERROR
                         : level == 4 ? LOG_WARN
                         : level <= 6 ? LOG_INFO
                                      : LOG_DEBUG;
    log_msg(lvl, "kafka", "%s: %s: %s", rk ? rd_kafka_name(rk) : "-", fac, buf);
}

rd_kafka_conf_t *kafkautil_conf(const struct config *c, const struct kafkautil_default *defs,
                                size_t ndefs, const char *brokers, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char rerr[512];
    for (size_t i = 0; i < ndefs; i++) {
        if (rd_kafka_conf_set(conf, defs[i].name, defs[i].value, rerr, sizeof rerr) !=
            RD_KAFKA_CONF_OK) {
            snprintf(err, errlen, "kafka.%s: %s", defs[i].name, rerr);
            goto fail;
        }
    }
    for (size_t i = 0; c && i < config_passthrough_count(c); i++) {
        const char *name, *value;
        config_passthrough_get(c, i, &name, &value);
        if (rd_kafka_conf_set(conf, name, value, rerr, sizeof rerr) != RD_KAFKA_CONF_OK) {
            snprintf(err, errlen, "kafka.%s: %s", name, rerr);
            goto fail;
        }
    }
    if (brokers && *brokers &&
        rd_kafka_conf_set(conf, "bootstrap.servers", brokers, rerr, sizeof rerr) !=
            RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "kafka-brokers: %s", rerr);
        goto fail;
    }
    rd_kafka_conf_set_log_cb(conf, kafkautil_log_cb);
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}
