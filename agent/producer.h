/*
 * producer.h — the agent's Kafka producer: events out to `llmtap.events`.
 *
 * Idempotent, acks=all, zstd (defaults; any kafka.* property overrides).
 * Key = service, header `llmtap-schema: llmtap.event/1`. An event counts as
 * delivered only when its delivery report says the broker acknowledged it;
 * "queued" is a separate gauge (queue depth), never counted as delivered.
 */
#ifndef LLMTAP_AGENT_PRODUCER_H
#define LLMTAP_AGENT_PRODUCER_H

#include <stddef.h>

struct config;
struct metrics;
struct producer;

/* Creates the producer and its poll thread (which serves delivery reports).
 * Returns 0, or -1 with err set. */
int producer_create(const struct config *c, struct metrics *m, struct producer **out, char *err,
                    size_t errlen);

/* Enqueues one event. On success (0) the producer owns `json` (malloc'd)
 * and frees it. On failure returns the librdkafka error code (e.g.
 * RD_KAFKA_RESP_ERR__QUEUE_FULL) and the caller still owns `json`. */
int producer_send(struct producer *p, const char *key, char *json, size_t len);

/* NULL while the producer works; after a fatal librdkafka error, its
 * description (the producer then refuses every event). */
const char *producer_failure(struct producer *p);

/* Messages queued or in flight, not yet acknowledged or failed. */
int producer_queue_len(struct producer *p);

/* Waits up to timeout_ms for every queued event to be delivered or fail.
 * Returns how many are still outstanding (0 = all done). */
int producer_flush(struct producer *p, int timeout_ms);

/* Stops the poll thread and destroys the handle (outstanding messages are
 * dropped and logged; call producer_flush first). Accepts NULL. */
void producer_destroy(struct producer *p);

#endif
