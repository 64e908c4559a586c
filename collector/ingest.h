/*
 * ingest.h — the collector's ingest pipeline: Kafka → validate → store.
 *
 * Per batch: poll up to batch.max_events messages (or batch.max_wait) →
 * parse and validate each → invalid ones to the dead-letter topic → append
 * the valid ones and the consumed offsets to the store in ONE LMDB
 * transaction (the store drops duplicate ids). On partition assignment the
 * consumer seeks to the offsets stored in LMDB, so a crash at any instant
 * neither loses nor doubles an event.
 *
 * One thread ("ingest") owns the consumer, the DLQ producer and all writes.
 */
#ifndef LLMTAP_INGEST_H
#define LLMTAP_INGEST_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct metrics;
struct store;
struct ingest;

/* Creates the consumer (subscribed to the topic) and the DLQ producer.
 * brokers overrides kafka.bootstrap.servers when not NULL. */
int ingest_create(const struct config *c, const char *brokers, struct store *st, struct metrics *m,
                  struct ingest **out, char *err, size_t errlen);
struct series_ingest;
/* Derive time series from the stored events (series_ingest.h), written in
 * each batch's transaction. Before ingest_start; si outlives g. */
void ingest_set_series(struct ingest *g, struct series_ingest *si);
/* Starts the ingest thread. */
int ingest_start(struct ingest *g);
/* True while the last store write succeeded and the consumer runs. */
bool ingest_ready(struct ingest *g);
/* As ingest_ready; when not ready, writes why into reason (one line, with
 * what the operator can do, for /readyz). Any thread. */
bool ingest_status(struct ingest *g, char *reason, size_t len);
/* Stops the thread (the batch in hand is committed first), closes the
 * consumer (leaving the group), flushes the DLQ producer, frees. Accepts NULL. */
void ingest_destroy(struct ingest *g);

#endif
