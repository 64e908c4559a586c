/*
 * devbroker.h — `llmtap-collector --dev`: an embedded Kafka-protocol broker
 * (librdkafka's mock cluster) inside the collector process, so the whole
 * pipeline runs on one machine with no Kafka installed. For development and
 * the demo only: it keeps everything in memory and loses it on exit.
 */
#ifndef LLMTAP_DEVBROKER_H
#define LLMTAP_DEVBROKER_H

#include <stddef.h>

struct devbroker;

/* Starts a one-broker mock cluster and creates `topic` (with `partitions`
 * partitions) and `dlq_topic` (one partition). *out gets the handle;
 * addr (size addrlen) gets the bootstrap address "127.0.0.1:PORT". */
int devbroker_start(const char *topic, const char *dlq_topic, int partitions,
                    struct devbroker **out, char *addr, size_t addrlen, char *err, size_t errlen);
/* Stops the broker. Accepts NULL. */
void devbroker_stop(struct devbroker *d);

#endif
