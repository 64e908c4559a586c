/*
 * kafkautil.h — what the agent's producer and the collector's consumer share
 * about librdkafka: building a configuration from llmtap's config (every
 * `kafka.*` pass-through property applied unchanged, in order) and bridging
 * librdkafka's log callback into llmtap's logger.
 */
#ifndef LLMTAP_KAFKAUTIL_H
#define LLMTAP_KAFKAUTIL_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

struct config;

/* A default property: applied before the user's pass-through pairs, so the
 * user's value wins. */
struct kafkautil_default {
    const char *name, *value;
};

/* Builds an rd_kafka_conf_t: the defaults, then every pass-through pair of
 * `c`, then `brokers` as bootstrap.servers when not NULL. Installs the log
 * bridge. Returns NULL with err set (naming the property) on a bad property. */
rd_kafka_conf_t *kafkautil_conf(const struct config *c, const struct kafkautil_default *defs,
                                size_t ndefs, const char *brokers, char *err, size_t errlen);

/* The log callback (also usable directly with rd_kafka_conf_set_log_cb). */
void kafkautil_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf);

#endif
